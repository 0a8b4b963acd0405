// SPDX-License-Identifier: MIT
/*
 * sPAPR devices of a topology file, through libc alone under the preload
 * shim (UIOMMU_CONFIG = scenarios/topology-spapr.json): a PowerNV PHB
 * ("model": "spapr") whose groups are PEs, 0000:00:04.0 and 00:05.0 in
 * group 3, 00:06.0 alone in group 4, beside an SMMUv3's group 1.
 *
 * The flow (reference vfio.md §4): a container of group 3 with
 * VFIO_SPAPR_TCE_v2_IOMMU, SPAPR_TCE_GET_INFO (the default 32-bit window
 * at 0, 1 GiB, DDW offered), REGISTER_MEMORY, MAP_DMA into the default
 * window, a dmatest COPY through the TCEs (every byte); a DMA to a bus
 * address in no window freezes the PE (EEH GET_STATE: STOPPED), and
 * then both of its devices' BARs read all ones and drop stores while their
 * MMIO is frozen (pread / pwrite of the device fd); UNFREEZE_IO gives MMIO
 * back (STOPPED_DMA: DMA still frozen, the other device's DMA fails),
 * UNFREEZE_DMA the rest (NORMAL), and the devices copy again. A mapping
 * of a BAR follows the PE's MMIO state (vfio.md §4, EEH): while frozen it
 * reads all ones and its stores never reach the device, a mapping made
 * while frozen too; thawed, it shows the device's memory again; a reset
 * freezes and deasserting it thaws; pages the program unmapped stay
 * unmapped. The LOW_POWER features over that: while the device is in low
 * power its mappings (a forked child's too) raise SIGBUS whatever the PE's
 * state, and its end gives back what the PE says (all ones while frozen).
 * A forked child's mapping follows the PE through the child's swap agent
 * thread, also while a thread of the child dup2()s blindly onto the
 * numbers where the library's descriptors live.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "shim_utils.h"

#define GIB	      (1ULL << 30)
#define MEM_SIZE      (4u << 20)

struct dev {
	int fd;
	uint64_t bar0;
};

static void dev_open(int group, struct dev *d, const char *name)
{
	struct vfio_region_info bar = {.argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX};
	struct vfio_region_info cfg = {.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX};
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	d->fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);
	TAP_CHECK(d->fd >= 0, "GET_DEVICE_FD %s: %s", name, strerror(errno));
	CHECK_OK(ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &bar));
	CHECK_OK(ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	d->bar0 = bar.offset;
	TAP_CHECK(pwrite(d->fd, &cmd, 2, (off_t)(cfg.offset + PCI_COMMAND)) == 2, "Command");
}

static uint64_t reg_rd(struct dev *d, unsigned int off, unsigned int size)
{
	uint64_t v = 0;

	TAP_CHECK(pread(d->fd, &v, size, (off_t)(d->bar0 + off)) == (ssize_t)size,
		  "BAR0 read 0x%x: %s", off, strerror(errno));
	return v;
}

static void reg_wr(struct dev *d, unsigned int off, unsigned int size, uint64_t v)
{
	TAP_CHECK(pwrite(d->fd, &v, size, (off_t)(d->bar0 + off)) == (ssize_t)size,
		  "BAR0 write 0x%x: %s", off, strerror(errno));
}

static uint32_t copy(struct dev *d, uint64_t src, uint64_t dst, uint32_t len)
{
	reg_wr(d, DT_SRC, 8, src);
	reg_wr(d, DT_DST, 8, dst);
	reg_wr(d, DT_LEN, 4, len);
	reg_wr(d, DT_OP, 4, OP_COPY);
	reg_wr(d, DT_GO, 4, 1);
	return (uint32_t)reg_rd(d, DT_STATUS, 4);
}

static int eeh(int c, uint32_t op)
{
	struct vfio_eeh_pe_op o = {.argsz = sizeof(o), .op = op};

	return ioctl(c, VFIO_EEH_PE_OP, &o);
}

static void test_paths(void *arg)
{
	static const char *const present[] = {"/dev/vfio/1", "/dev/vfio/3", "/dev/vfio/4",
					      "/dev/vfio/devices/vfio3"};
	static const char *const absent[] = {"/dev/vfio/2", "/dev/vfio/5",
					     "/dev/vfio/devices/vfio4"};
	struct stat st;

	(void)arg;
	for (size_t i = 0; i < ARRAY_SIZE_T(present); i++)
		CHECK_OK(stat(present[i], &st));
	for (size_t i = 0; i < ARRAY_SIZE_T(absent); i++)
		CHECK_ERRNO(ENOENT, stat(absent[i], &st));
}

static void test_tce_eeh(void *arg)
{
	struct vfio_iommu_spapr_tce_info info = {.argsz = sizeof(info)};
	struct vfio_iommu_spapr_register_memory reg = {.argsz = sizeof(reg), .size = MEM_SIZE};
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = 0x10000,
		.size = 4 * SHIM_PAGE,
	};
	struct dev a, b;
	uint8_t *mem, *win, *late;
	uint32_t st;
	int c, g;

	(void)arg;
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(mem != MAP_FAILED, "mmap");
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	TAP_CHECK(c >= 0, "container: %s", strerror(errno));
	g = open("/dev/vfio/3", O_RDWR | O_CLOEXEC);
	TAP_CHECK(g >= 0, "group 3: %s", strerror(errno));
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	TAP_CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU), 1, "sPAPR TCE v2");
	TAP_CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_EEH), 1, "EEH");
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	CHECK_OK(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	TAP_CHECK(info.dma32_window_start == 0 && info.dma32_window_size == GIB &&
			  info.flags & VFIO_IOMMU_SPAPR_INFO_DDW,
		  "default window 0x%x + 0x%x, flags 0x%x", info.dma32_window_start,
		  info.dma32_window_size, info.flags);
	/* Group 3 is one PE with two devices; 06.0 is group 4's. */
	dev_open(g, &a, "0000:00:04.0");
	dev_open(g, &b, "0000:00:05.0");
	CHECK_ERRNO(ENODEV, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:06.0"));
	TAP_CHECK_EQ(reg_rd(&a, DT_ID, 4), DT_ID_VALUE, "04.0's ID register");

	reg.vaddr = (uintptr_t)mem;
	CHECK_OK(ioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg));
	map.vaddr = (uintptr_t)mem + 0x3000;
	CHECK_OK(ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
	for (unsigned int i = 0; i < 0x100; i++)
		mem[0x3000 + i] = (uint8_t)(i * 5 + 1);
	TAP_CHECK_EQ(copy(&a, 0x10000, 0x12000, 0x100), ST_DONE, "COPY through the TCEs");
	for (unsigned int i = 0; i < 0x100; i++)
		TAP_CHECK(mem[0x5000 + i] == (uint8_t)(i * 5 + 1), "byte %u", i);
	TAP_CHECK_EQ(eeh(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_NORMAL, "PE normal");

	/* 05.0's buffer through a mapping of its BAR: the device's memory. */
	win = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd,
		   (off_t)(b.bar0 + DT_BUF));
	TAP_CHECK(win != MAP_FAILED, "mmap of 05.0's buffer: %s", strerror(errno));
	memset(win, 0x3c, 0x100);
	TAP_CHECK_EQ(reg_rd(&b, DT_BUF, 4), 0x3c3c3c3cu, "the device sees the mapping's stores");

	/* A bus address in no window: the PHB freezes the PE. */
	st = copy(&a, GIB, 0x12000, 0x10);
	TAP_CHECK_EQ(st, 0xffffffffu, "after a DMA outside every window, STATUS reads all ones");
	TAP_CHECK_EQ(eeh(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_STOPPED, "PE stopped");
	TAP_CHECK_EQ(reg_rd(&b, DT_ID, 4), 0xffffffffu, "05.0, same PE: all ones too");
	reg_wr(&b, DT_LEN, 4, 0x40); /* dropped */
	/* The mapping too: loads read all ones, stores do not reach the device. */
	for (unsigned int i = 0; i < DT_BUF_SIZE; i += 0x800)
		TAP_CHECK_EQ(win[i], 0xff, "frozen mapping byte 0x%x", i);
	memset(win, 0x77, 0x10);
	late = mmap(NULL, SHIM_PAGE, PROT_READ, MAP_SHARED, b.fd, (off_t)(b.bar0 + DT_BUF));
	TAP_CHECK(late != MAP_FAILED, "a mapping made while frozen: %s", strerror(errno));
	TAP_CHECK_EQ(late[0], 0xff, "reads all ones from the start");
	CHECK_OK(eeh(c, VFIO_EEH_PE_UNFREEZE_IO));
	TAP_CHECK_EQ(eeh(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_STOPPED_DMA,
		     "MMIO thawed, DMA still frozen");
	TAP_CHECK_EQ(reg_rd(&b, DT_ID, 4), DT_ID_VALUE, "05.0's registers are back");
	TAP_CHECK_EQ(reg_rd(&b, DT_LEN, 4), 0, "the store while frozen was dropped");
	TAP_CHECK(win[0] == 0x3c && win[0xff] == 0x3c && win[0x100] == 0,
		  "the mapping shows the device's buffer again: 0x%x 0x%x 0x%x", win[0], win[0xff],
		  win[0x100]);
	TAP_CHECK_EQ(reg_rd(&b, DT_BUF, 4), 0x3c3c3c3cu, "the frozen stores never reached it");
	TAP_CHECK_EQ(late[0], 0x3c, "the late mapping too");
	CHECK_OK(munmap(late, SHIM_PAGE));
	TAP_CHECK_EQ(reg_rd(&a, DT_STATUS, 4), ST_DONE | ST_ERROR | ERR_DMA_FAULT << 8,
		     "04.0's DMA had faulted");
	TAP_CHECK_EQ(reg_rd(&a, DT_FAULT_IOVA, 8), GIB, "at 1 GiB");
	TAP_CHECK_EQ(reg_rd(&a, DT_FAULT_INFO, 4) >> 24, EFAULT, "EFAULT: no window holds it");
	st = copy(&b, 0x10000, 0x12000, 0x10);
	TAP_CHECK_EQ(st, ST_DONE | ST_ERROR | ERR_DMA_FAULT << 8, "05.0's DMA: the PE's is frozen");
	CHECK_OK(eeh(c, VFIO_EEH_PE_UNFREEZE_DMA));
	TAP_CHECK_EQ(eeh(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_NORMAL, "PE normal again");
	memset(mem + 0x5000, 0, 0x100);
	TAP_CHECK_EQ(copy(&b, 0x10000, 0x12000, 0x100), ST_DONE, "05.0 copies again");
	for (unsigned int i = 0; i < 0x100; i++)
		TAP_CHECK(mem[0x5000 + i] == (uint8_t)(i * 5 + 1), "byte %u", i);

	/* Part of the mapping unmapped, then a freeze: only what is left is swapped. */
	CHECK_OK(munmap(win, SHIM_PAGE));
	CHECK_OK(eeh(c, VFIO_EEH_PE_RESET_HOT));
	TAP_CHECK_EQ(win[SHIM_PAGE], 0xff, "a reset freezes the mapping too");
	CHECK_OK(eeh(c, VFIO_EEH_PE_RESET_DEACTIVATE));
	TAP_CHECK_EQ(win[SHIM_PAGE], 0, "and deasserting it thaws it (the buffer past 0x100: 0)");
	{
		uint8_t *again = mmap(win, SHIM_PAGE, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		TAP_CHECK(again == win, "the unmapped page stayed free: %s", strerror(errno));
		munmap(again, SHIM_PAGE);
	}
	CHECK_OK(munmap(win + SHIM_PAGE, DT_BUF_SIZE - SHIM_PAGE));

	CHECK_OK(close(a.fd));
	CHECK_OK(close(b.fd));
	CHECK_OK(close(g));
	CHECK_OK(close(c));
	munmap(mem, MEM_SIZE);
}

static void wait_byte(int rfd)
{
	char b;

	TAP_CHECK_EQ(read(rfd, &b, 1), 1, "the other side's signal");
}

/*
 * Fork a child that talks to this process over two pipes, "go" (to it) and
 * "ready" (from it): 0 in the child, whose *@go is go's read end and
 * *@ready ready's write end; here the child's pid, *@go go's write end and
 * *@ready ready's read end.
 */
static pid_t fork_paired(int *go, int *ready)
{
	int g[2], r[2];
	pid_t pid;

	TAP_CHECK(pipe2(g, O_CLOEXEC) == 0 && pipe2(r, O_CLOEXEC) == 0, "pipes");
	pid = fork_child();
	if (pid)
		TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	close(g[pid ? 0 : 1]);
	close(r[pid ? 1 : 0]);
	*go = g[pid ? 1 : 0];
	*ready = r[pid ? 0 : 1];
	return pid;
}

/* The child of test_fork_bar(): 0, or the step that failed. */
static int fork_bar_child(int c, struct dev *a, struct dev *b, int go, int ready)
{
	uint8_t *w, *late, x;
	uint32_t st;

	/* The inherited device fd maps the BAR's buffer: the device's bytes. */
	w = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd,
		 (off_t)(b->bar0 + DT_BUF));
	if (w == MAP_FAILED)
		return 1;
	if (w[0] != 0x3c || w[0xff] != 0x3c || w[0x100] != 0)
		return 2;
	memset(w + 0x100, 0x5a, 0x100);
	if (write(ready, "1", 1) != 1 || read(go, &x, 1) != 1)
		return 3;
	/* The parent froze the PE: all ones here too, and stores go nowhere. */
	for (unsigned int i = 0; i < DT_BUF_SIZE; i += 0x800)
		if (w[i] != 0xff)
			return 4;
	memset(w, 0x77, 0x10);
	late = mmap(NULL, SHIM_PAGE, PROT_READ, MAP_SHARED, b->fd, (off_t)(b->bar0 + DT_BUF));
	if (late == MAP_FAILED || late[0] != 0xff)
		return 5;
	if (write(ready, "2", 1) != 1 || read(go, &x, 1) != 1)
		return 6;
	/* Thawed by the parent: the device's bytes again, in both mappings. */
	if (w[0] != 0x3c || w[0xff] != 0x3c || w[0x100] != 0x5a || late[0] != 0x3c)
		return 7;
	/* The child's own DMA outside every window freezes the PE: at once here. */
	if (pwrite(a->fd, &(uint64_t){GIB}, 8, (off_t)(a->bar0 + DT_SRC)) != 8 ||
	    pwrite(a->fd, &(uint64_t){0x12000}, 8, (off_t)(a->bar0 + DT_DST)) != 8 ||
	    pwrite(a->fd, &(uint32_t){0x10}, 4, (off_t)(a->bar0 + DT_LEN)) != 4 ||
	    pwrite(a->fd, &(uint32_t){OP_COPY}, 4, (off_t)(a->bar0 + DT_OP)) != 4 ||
	    pwrite(a->fd, &(uint32_t){1}, 4, (off_t)(a->bar0 + DT_GO)) != 4)
		return 8;
	if (pread(a->fd, &st, 4, (off_t)(a->bar0 + DT_STATUS)) != 4 || st != 0xffffffffu)
		return 9;
	if (w[0] != 0xff || w[0x100] != 0xff || late[0] != 0xff)
		return 10;
	/* Part unmapped, then thawed by the child: what is left shows the device. */
	if (munmap(w, SHIM_PAGE) || munmap(late, SHIM_PAGE))
		return 11;
	if (eeh(c, VFIO_EEH_PE_UNFREEZE_IO) || eeh(c, VFIO_EEH_PE_UNFREEZE_DMA) ||
	    eeh(c, VFIO_EEH_PE_GET_STATE) != VFIO_EEH_PE_STATE_NORMAL)
		return 12;
	if (w[SHIM_PAGE] != 0)
		return 13;
	w[SHIM_PAGE] = 0x66;
	if (write(ready, "3", 1) != 1 || read(go, &x, 1) != 1)
		return 14;
	/* The rest stays mapped: the exit unmaps it. */
	return 0;
}

/*
 * A forked child maps a BAR of a device behind an sPAPR PE through the
 * device fd it inherited: the same bytes as the parent's mapping both
 * ways; a freeze by the parent makes the child's mapping (and one it makes
 * while frozen) read all ones and drop its stores; a thaw brings the
 * device's bytes back; the child's own DMA outside every window freezes
 * its mapping before the call returns, and its thaw gives it back.
 */
static void test_fork_bar(void *arg)
{
	struct vfio_iommu_spapr_register_memory reg = {.argsz = sizeof(reg), .size = MEM_SIZE};
	int c, g, go, ready;
	struct dev a, b;
	uint8_t *mem, *win;
	pid_t pid;

	(void)arg;
#ifdef __SANITIZE_ADDRESS__
	/*
	 * The child starts a thread (the swap agent) after its parent, which
	 * runs the library's server thread, forked it. glibc's malloc is made
	 * consistent across fork(); the allocator of GCC 12's AddressSanitizer
	 * is not, and the agent's start then blocks on a size-class lock the
	 * parent's server thread held at the fork (1 run in about 100 here).
	 * make check runs this point.
	 */
	tap_skip("under AddressSanitizer, whose allocator is not fork-safe: make check runs it");
#endif
#ifdef __SANITIZE_THREAD__
	/*
	 * The child's mapping follows the PE only through a thread of its own
	 * (the swap agent, lib/uiommu_remote.c: only a thread of a process can
	 * change that process's mappings), which it starts after a fork of a
	 * process that runs the library's server thread. ThreadSanitizer does
	 * not support threads started after a multi-threaded fork (and checks
	 * nothing in such a child). make check runs this point.
	 */
	tap_skip("ThreadSanitizer: the forked child must start its swap agent thread, which TSan "
		 "does not support after a multi-threaded fork: make check runs it");
#endif
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(mem != MAP_FAILED, "mmap");
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	g = open("/dev/vfio/3", O_RDWR | O_CLOEXEC);
	TAP_CHECK(c >= 0 && g >= 0, "container, group 3: %s", strerror(errno));
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	reg.vaddr = (uintptr_t)mem;
	CHECK_OK(ioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg));
	dev_open(g, &a, "0000:00:04.0");
	dev_open(g, &b, "0000:00:05.0");
	win = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd,
		   (off_t)(b.bar0 + DT_BUF));
	TAP_CHECK(win != MAP_FAILED, "the parent's mapping: %s", strerror(errno));
	memset(win, 0x3c, 0x100);
	memset(win + 0x100, 0, DT_BUF_SIZE - 0x100);
	pid = fork_paired(&go, &ready);
	if (!pid)
		_exit(fork_bar_child(c, &a, &b, go, ready));
	wait_byte(ready);
	TAP_CHECK(win[0x100] == 0x5a && win[0x1ff] == 0x5a, "the child's stores: 0x%x",
		  win[0x100]);
	TAP_CHECK_EQ(copy(&a, GIB, 0x12000, 0x10), 0xffffffffu, "a DMA outside every window");
	TAP_CHECK_EQ(win[0], 0xff, "the parent's mapping is frozen");
	TAP_CHECK_EQ(write(go, "1", 1), 1, "go");
	wait_byte(ready);
	CHECK_OK(eeh(c, VFIO_EEH_PE_UNFREEZE_IO));
	CHECK_OK(eeh(c, VFIO_EEH_PE_UNFREEZE_DMA));
	TAP_CHECK_EQ(reg_rd(&b, DT_BUF, 4), 0x3c3c3c3cu, "the child's frozen stores never reached it");
	TAP_CHECK_EQ(write(go, "2", 1), 1, "go");
	wait_byte(ready);
	TAP_CHECK_EQ(eeh(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_NORMAL, "thawed by the child");
	TAP_CHECK_EQ(win[SHIM_PAGE], 0x66, "the child's store after its thaw");
	TAP_CHECK_EQ(win[0], 0x3c, "the parent's mapping is thawed too");
	TAP_CHECK_EQ(write(go, "3", 1), 1, "go");
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	close(go);
	close(ready);
	CHECK_OK(munmap(win, DT_BUF_SIZE));
	CHECK_OK(close(a.fd));
	CHECK_OK(close(b.fd));
	CHECK_OK(close(g));
	CHECK_OK(close(c));
	/* Nothing the child's mappings held is left: the group opens again. */
	g = open("/dev/vfio/3", O_RDWR | O_CLOEXEC);
	TAP_CHECK(g >= 0, "group 3 again: %s", strerror(errno));
	close(g);
	munmap(mem, MEM_SIZE);
}

/* Freezes and thaws of test_fork_bar_moved(), each checked in the child. */
#define MOVE_ROUNDS 40

struct duper {
	atomic_int stop;
	int fd;
};

/* Blind dup2()s onto the numbers where the library's descriptors live (512 and up). */
static void *duper_main(void *arg)
{
	struct duper *d = arg;

	while (!atomic_load(&d->stop))
		for (int n = 512; n < 528; n++)
			if (dup2(d->fd, n) == n)
				(void)close(n);
	return NULL;
}

/* The child of test_fork_bar_moved(): 0, or the step that failed. */
static int fork_moved_child(struct dev *b, int go, int ready)
{
	struct duper d = {.fd = ready};
	pthread_t t;
	uint8_t *w, x;
	int rc = 0;

	w = mmap(NULL, DT_BUF_SIZE, PROT_READ, MAP_SHARED, b->fd, (off_t)(b->bar0 + DT_BUF));
	if (w == MAP_FAILED)
		return 1;
	if (w[0] != 0x3c)
		return 2;
	if (pthread_create(&t, NULL, duper_main, &d))
		return 3;
	for (unsigned int i = 0; i < MOVE_ROUNDS && !rc; i++) {
		if (write(ready, "r", 1) != 1 || read(go, &x, 1) != 1)
			rc = 4;
		/* The parent froze (even rounds) or thawed (odd) the PE before answering. */
		else if (w[0] != (i % 2 ? 0x3c : 0xff))
			rc = 10 + (int)i;
	}
	atomic_store(&d.stop, 1);
	pthread_join(t, NULL);
	return rc;
}

/*
 * The child's swap agent while a thread of the child dup2()s blindly onto
 * the numbers where the library's descriptors live (each such dup2 moves
 * ours, the agent's socket and wake-up among them): every freeze and thaw
 * of the parent's still reaches the child's mapping before the parent's
 * call returns. (The agent resolves and uses its numbers only where a move
 * waits for it; an agent that used a number the program had just taken
 * would end, and the next swap would fail.)
 */
static void test_fork_bar_moved(void *arg)
{
	int c, g, go, ready;
	struct dev b;
	uint8_t *win;
	pid_t pid;

	(void)arg;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	tap_skip("the child's swap agent after a multi-threaded fork: see test_fork_bar()");
#endif
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	g = open("/dev/vfio/3", O_RDWR | O_CLOEXEC);
	TAP_CHECK(c >= 0 && g >= 0, "container, group 3: %s", strerror(errno));
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	dev_open(g, &b, "0000:00:05.0");
	win = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd,
		   (off_t)(b.bar0 + DT_BUF));
	TAP_CHECK(win != MAP_FAILED, "the parent's mapping: %s", strerror(errno));
	memset(win, 0x3c, 0x100);
	pid = fork_paired(&go, &ready);
	if (!pid)
		_exit(fork_moved_child(&b, go, ready));
	for (unsigned int i = 0; i < MOVE_ROUNDS; i++) {
		char x;

		if (read(ready, &x, 1) != 1)
			break;
		CHECK_OK(eeh(c, i % 2 ? VFIO_EEH_PE_RESET_DEACTIVATE : VFIO_EEH_PE_RESET_HOT));
		TAP_CHECK_EQ(write(go, "g", 1), 1, "go");
	}
	TAP_CHECK_EQ(wait_child(pid), 0, "child step (10 + n: round n's mapping was wrong)");
	TAP_CHECK_EQ(eeh(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_NORMAL, "thawed");
	TAP_CHECK_EQ(win[0], 0x3c, "the parent's mapping");
	close(go);
	close(ready);
	CHECK_OK(munmap(win, DT_BUF_SIZE));
	CHECK_OK(close(b.fd));
	CHECK_OK(close(g));
	CHECK_OK(close(c));
}

/* ------------------------------------------------------------------ */
/* Low power over EEH                                                 */

static sigjmp_buf touch_jb;

static void touch_handler(int signo)
{
	siglongjmp(touch_jb, signo);
}

/* Load the byte at @p into *@v: the signal the load raised, or 0. */
static int touch(volatile uint8_t *p, uint8_t *v)
{
	struct sigaction sa, old;
	volatile int got = 0;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = touch_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	s = sigsetjmp(touch_jb, 1);
	if (!s)
		*v = *p;
	else
		got = s;
	sigaction(SIGBUS, &old, NULL);
	return got;
}

static int lp(int dev, uint32_t feature)
{
	struct vfio_device_feature f = {.argsz = sizeof(f),
					.flags = VFIO_DEVICE_FEATURE_SET | feature};

	return ioctl(dev, VFIO_DEVICE_FEATURE, &f);
}

/* The child of test_lowpower_eeh(): 0, or the step that failed. */
static int lowpower_child(struct dev *b, int go, int ready)
{
	uint8_t *w, v, x;

	w = mmap(NULL, DT_BUF_SIZE, PROT_READ, MAP_SHARED, b->fd, (off_t)(b->bar0 + DT_BUF));
	if (w == MAP_FAILED)
		return 1;
	if (touch(w, &v) || v != 0x3c)
		return 2;
	if (write(ready, "1", 1) != 1 || read(go, &x, 1) != 1)
		return 3;
	/* The parent entered low power: SIGBUS here too. */
	if (touch(w + SHIM_PAGE, &v) != SIGBUS)
		return 4;
	if (write(ready, "2", 1) != 1 || read(go, &x, 1) != 1)
		return 5;
	/* Out of low power, the PE frozen meanwhile: all ones. */
	if (touch(w, &v) || v != 0xff)
		return 6;
	return 0;
}

static void test_lowpower_eeh(void *arg)
{
	struct dev b;
	uint8_t *win, v;
	int c, g, go, ready;
	pid_t pid;

	(void)arg;
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	g = open("/dev/vfio/3", O_RDWR | O_CLOEXEC);
	TAP_CHECK(c >= 0 && g >= 0, "container, group 3: %s", strerror(errno));
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	dev_open(g, &b, "0000:00:05.0");
	win = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd,
		   (off_t)(b.bar0 + DT_BUF));
	TAP_CHECK(win != MAP_FAILED, "mmap of 05.0's buffer: %s", strerror(errno));
	memset(win, 0x3c, DT_BUF_SIZE);

	/* Low power, then a freeze (a PE reset): still SIGBUS; EXIT shows all ones. */
	CHECK_OK(lp(b.fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	TAP_CHECK_EQ(touch(win, &v), SIGBUS, "zapped");
	CHECK_OK(eeh(c, VFIO_EEH_PE_RESET_HOT));
	TAP_CHECK_EQ(touch(win, &v), SIGBUS, "low power wins over the frozen PE");
	CHECK_OK(lp(b.fd, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	TAP_CHECK(!touch(win, &v) && v == 0xff, "out of low power, frozen: all ones (0x%x)", v);
	/* Frozen, then low power, then a thaw: still SIGBUS; EXIT gives the device back. */
	CHECK_OK(lp(b.fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	TAP_CHECK_EQ(touch(win + 100, &v), SIGBUS, "zapped over the frozen page");
	CHECK_OK(eeh(c, VFIO_EEH_PE_RESET_DEACTIVATE));
	TAP_CHECK_EQ(touch(win + 100, &v), SIGBUS, "a thaw does not end low power");
	CHECK_OK(lp(b.fd, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	TAP_CHECK(!touch(win, &v) && v == 0x3c, "the device's bytes again (0x%x)", v);

#ifdef __SANITIZE_ADDRESS__
	/* The child's swap agent: see test_fork_bar(). */
	CHECK_OK(munmap(win, DT_BUF_SIZE));
	CHECK_OK(close(b.fd));
	CHECK_OK(close(g));
	CHECK_OK(close(c));
	tap_skip("the forked child's part under AddressSanitizer: make check runs it");
#endif
#ifdef __SANITIZE_THREAD__
	/* The child's swap agent: see test_fork_bar(). */
	CHECK_OK(munmap(win, DT_BUF_SIZE));
	CHECK_OK(close(b.fd));
	CHECK_OK(close(g));
	CHECK_OK(close(c));
	tap_skip("the forked child's part under ThreadSanitizer (its swap agent thread after a "
		 "multi-threaded fork): make check runs it");
#endif
	/* A forked child's mapping: zapped by the parent's entry, then frozen. */
	pid = fork_paired(&go, &ready);
	if (!pid)
		_exit(lowpower_child(&b, go, ready));
	wait_byte(ready);
	CHECK_OK(lp(b.fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	TAP_CHECK_EQ(write(go, "1", 1), 1, "go");
	wait_byte(ready);
	CHECK_OK(eeh(c, VFIO_EEH_PE_RESET_HOT));
	CHECK_OK(lp(b.fd, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	TAP_CHECK_EQ(write(go, "2", 1), 1, "go");
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	CHECK_OK(eeh(c, VFIO_EEH_PE_RESET_DEACTIVATE));
	close(go);
	close(ready);
	CHECK_OK(munmap(win, DT_BUF_SIZE));
	CHECK_OK(close(b.fd));
	CHECK_OK(close(g));
	CHECK_OK(close(c));
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"the sPAPR topology's groups and cdevs", test_paths},
		{"TCE v2 container, DMA through the default window, EEH freeze and thaw",
		 test_tce_eeh},
		{"a forked child's BAR mapping: the device's bytes, all ones while frozen",
		 test_fork_bar},
		{"a forked child's BAR mapping follows the PE while the child dup2()s onto ours",
		 test_fork_bar_moved},
		{"LOW_POWER over EEH: SIGBUS whatever the PE's state, a forked child's mapping too",
		 test_lowpower_eeh},
	};

	shim_check_preloaded();
	if (!getenv("UIOMMU_CONFIG")) {
		printf("Bail out! UIOMMU_CONFIG must name scenarios/topology-spapr.json\n");
		return 1;
	}
	tap_plan(ARRAY_SIZE_T(tests));
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	return tap_done();
}
