// SPDX-License-Identifier: MIT
/*
 * VFIO's eventfd-triggered actions under the preload shim, on the default
 * topology's dmatest function 0000:00:01.0 (group 1), through libc alone:
 *
 *  - VFIO_DEVICE_IOEVENTFD: every argument check of Linux 6.12's
 *    vfio_pci_ioctl_ioeventfd() / vfio_pci_ioeventfd() with its errno, in
 *    its order (argsz, flags, one size, fd >= -1, BARs only, the range,
 *    the MSI-X table, a duplicate EEXIST before ENODEV / ENOSPC, the limit
 *    of 1000 before the eventfd lookup's EBADF / EINVAL);
 *  - a signal writes DATA, 1 / 2 / 4 / 8 bytes, at the offset as write(2)
 *    would (registers, the buffer window; only the low bytes of DATA), the
 *    count is consumed (one of an EFD_SEMAPHORE eventfd), a doorbell (GO)
 *    runs a DMA whose completion arrives on its MSI-X eventfd; the
 *    ioeventfds survive VFIO_DEVICE_RESET;
 *  - removal by fd -1: later signals do nothing and are not consumed;
 *  - the INTx unmask eventfd (SET_IRQS UNMASK | DATA_EVENTFD): its errnos
 *    (EINVAL without INTx, ENOTTY for MASK, EBADF, EINVAL, EBUSY), a
 *    signal unmasks and a pending interrupt fires the trigger again, fd -1
 *    and disabling INTx remove it, a closed one frees the slot (Linux's
 *    EPOLLHUP) while another number of it keeps it;
 *  - the last close ends every action: the process has the threads and
 *    descriptors it had before the device was opened;
 *  - a forked child: its signals of inherited eventfds act (the owner's
 *    watcher), and it can register its own;
 *  - threads: signals racing add / remove, resets, fork() and the device's
 *    close (make check-tsan runs it).
 *
 * The actions run in a watcher thread, shortly after the signal (Linux:
 * inside the signalling write). A test waits for their effect (a bounded
 * wait, never a timing assertion); that something did NOT happen is seen
 * through a marker: epoll reports signals in their order and the watcher
 * handles them in that order, so once a marker ioeventfd signalled later
 * has acted, an earlier signal would have acted too.
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "shim_vfio_machine.h"

#define S8	       VFIO_DEVICE_IOEVENTFD_8
#define S16	       VFIO_DEVICE_IOEVENTFD_16
#define S32	       VFIO_DEVICE_IOEVENTFD_32
#define S64	       VFIO_DEVICE_IOEVENTFD_64
#define DT_FILL	       0x030
#define DT_COMPLETIONS 0x058
#define DT_MSIX_TABLE  0x1000 /* 2 vectors: 32 bytes */
#define MARK_DATA      0x4d4du

static int set_irqs(int dev, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		    const int32_t *fds)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 4 * sizeof(int32_t)] = {0};
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = (uint32_t)(sizeof(*s) + (fds ? count * sizeof(int32_t) : 0));
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (fds)
		memcpy(s->data, fds, count * sizeof(int32_t));
	return ioctl(dev, VFIO_DEVICE_SET_IRQS, s);
}

static int set_unmask_fd(int dev, int32_t fd)
{
	return set_irqs(dev, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_EVENTFD,
			VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd);
}

static void sig(int efd, uint64_t n)
{
	TAP_CHECK(write(efd, &n, sizeof(n)) == sizeof(n), "signal: %s", strerror(errno));
}

/* Wait (bounded) until @efd is readable, and take its count. */
static uint64_t wait_take(int efd)
{
	for (int i = 0; i < WAIT_MS && poll_now(efd, POLLIN) != POLLIN; i++)
		msleep1();
	return take(efd);
}

/* Every signal made before this has been acted on (see the file's comment). */
static void marker(struct machine *m)
{
	wr(m->dev, DT_LEN, 4, 0);
	sig(m->mark, 1);
	wait_reg(m->dev, DT_LEN, 4, MARK_DATA);
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	TAP_CHECK(d, "opendir %s: %s", path, strerror(errno));
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - (strcmp(path, "/proc/self/fd") ? 0 : 1); /* the directory's own fd */
}

static int threads(void)
{
	return count_dir("/proc/self/task");
}

static int fds(void)
{
	return count_dir("/proc/self/fd");
}

/* Wait (bounded) until the process has @n threads; then check it. */
static void wait_threads(int n)
{
	wait_no_watcher();
	for (int i = 0; i < WAIT_MS && threads() != n; i++)
		msleep1();
	TAP_CHECK_EQ(threads(), n, "threads");
}

/* The device fd, Memory Space and Bus Master on, the marker ioeventfd (LEN = MARK_DATA). */
static void dev_open(struct machine *m)
{
	machine_dev_open(m);
	m->mark = efd_new(0);
	CHECK_OK(vfio_ioeventfd(m->dev, BAR0 + DT_LEN, MARK_DATA, S32, m->mark));
}

/* ------------------------------------------------------------------ */

static void test_ioeventfd_checks(void *arg)
{
	struct vfio_device_ioeventfd ie = {.argsz = sizeof(ie)};
	struct machine m;
	int e = efd_new(0), pipefd[2], closed;

	machine_setup(&m);
	dev_open(&m);
	TAP_CHECK(!pipe2(pipefd, O_CLOEXEC), "pipe");
	closed = closed_fd(e);

	/* argsz covers fd (28 bytes), before anything else. */
	ie = (struct vfio_device_ioeventfd){.argsz = 27, .flags = 0x10, .fd = -5};
	CHECK_ERRNO(EINVAL, ioctl(m.dev, VFIO_DEVICE_IOEVENTFD, &ie));
	ie = (struct vfio_device_ioeventfd){.argsz = 28, .flags = S32, .offset = DT_FILL, .fd = e};
	CHECK_OK(ioctl(m.dev, VFIO_DEVICE_IOEVENTFD, &ie));
	ie.fd = -1;
	CHECK_OK(ioctl(m.dev, VFIO_DEVICE_IOEVENTFD, &ie));
	CHECK_ERRNO(EFAULT, ioctl(m.dev, VFIO_DEVICE_IOEVENTFD, (void *)8));

	/* Flags: sizes only, exactly one; fd -1 or an fd. */
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 0, S32 | 0x10, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 0, 0, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 0, S32 | S64, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 0, S32, -2));
	/* ... before the region: a bad size at a bad offset is the same EINVAL, fd -2 too. */
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, REGION(7), 0, S32, -2));

	/* BARs only: not the ROM, config space, VGA, device-specific or wild indexes. */
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, REGION(VFIO_PCI_ROM_REGION_INDEX), 0, S8, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, REGION(VFIO_PCI_CONFIG_REGION_INDEX), 0, S8, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, REGION(VFIO_PCI_VGA_REGION_INDEX), 0, S8, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, REGION(9), 0, S8, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, 1ULL << 63, 0, S8, e));
	/* A BAR the function does not implement (size 0), and the range. */
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, REGION(VFIO_PCI_BAR2_REGION_INDEX), 0, S8, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + 0xfffc, 0, S64, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + 0x10000, 0, S8, e));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + 0xfff8, 0, S64, e));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + 0xfff8, 0, S64, -1));
	/* Not around the MSI-X table ([0x1000, 0x1020) of BAR0); right after it is fine. */
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_MSIX_TABLE, 0, S32, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_MSIX_TABLE - 4, 0, S64, e));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_MSIX_TABLE + 0x1f, 0, S8, e));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_MSIX_TABLE + 0x20, 0, S32, e));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_MSIX_TABLE - 4, 0, S32, e));
	/* The range is checked before the list: a bad one with fd -1 is EINVAL, not ENODEV. */
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_MSIX_TABLE, 0, S32, -1));

	/* The eventfd: EBADF when not open, EINVAL when not an eventfd (eventfd_ctx_fdget()). */
	CHECK_ERRNO(EBADF, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, closed));
	CHECK_ERRNO(EBADF, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, 100000));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, pipefd[0]));
	CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, m.g));
	/* An emulated file whose backing is an eventfd (an iommufd fault queue) is not one. */
	{
		int iommufd = iommufd_open(), fault_fd;
		uint32_t fault_id;

		CHECK_OK(_fault_alloc(iommufd, &fault_id, &fault_fd));
		CHECK_ERRNO(EINVAL, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, fault_fd));
		close(fault_fd);
		close(iommufd);
	}
	/* Removing what does not exist: ENODEV. */
	CHECK_ERRNO(ENODEV, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, -1));
	/* A duplicate is the same offset, data and size, whatever the eventfd: EEXIST. */
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, e));
	CHECK_ERRNO(EEXIST, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, m.mark));
	/* ... found before the eventfd is looked at. */
	CHECK_ERRNO(EEXIST, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, closed));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 2, S64, e));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S32, e));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, -1));
	CHECK_ERRNO(ENODEV, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, -1));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 2, S64, -1));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S32, -1));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_MSIX_TABLE + 0x20, 0, S32, -1));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_MSIX_TABLE - 4, 0, S32, -1));

	close(pipefd[0]);
	close(pipefd[1]);
	close(e);
	machine_close(&m);
}

/* 1000 per device (the marker is one): then ENOSPC, before the eventfd is looked at. */
static void test_ioeventfd_limit(void *arg)
{
	struct rlimit rl;
	struct machine m;
	int e = efd_new(0), closed;

	TAP_CHECK(!getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
	if (rl.rlim_max < 2048)
		tap_skip("RLIMIT_NOFILE hard limit %llu: no room for 1000 eventfds",
			 (unsigned long long)rl.rlim_max);
	rl.rlim_cur = rl.rlim_max;
	TAP_CHECK(!setrlimit(RLIMIT_NOFILE, &rl), "setrlimit");
	machine_setup(&m);
	dev_open(&m);
	closed = closed_fd(e);
	for (uint64_t i = 1; i < 1000; i++)
		TAP_CHECK(!vfio_ioeventfd(m.dev, BAR0 + DT_FILL, i, S64, e), "ioeventfd %llu: %s",
			  (unsigned long long)i, strerror(errno));
	CHECK_ERRNO(ENOSPC, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1000, S64, e));
	CHECK_ERRNO(ENOSPC, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1000, S64, closed));
	CHECK_ERRNO(EEXIST, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 999, S64, e));
	CHECK_ERRNO(ENODEV, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1000, S64, -1));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 999, S64, -1));
	CHECK_ERRNO(EBADF, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1000, S64, closed));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1000, S64, e));
	CHECK_ERRNO(ENOSPC, vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 999, S64, e));
	/* The last close ends all 1000. */
	close(e);
	machine_close(&m);
}

static void test_ioeventfd_writes(void *arg)
{
	struct machine m;
	int e8 = efd_new(0), e16 = efd_new(0), e32 = efd_new(0), e64 = efd_new(0);
	int go = efd_new(0), sem = efd_new(EFD_SEMAPHORE), msix = efd_new(0);
	uint8_t b[4] = {0};

	machine_setup(&m);
	dev_open(&m);
	/* Each size; only DATA's low bytes are written (iowrite8/16/32/64). */
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_BUF + 1, 0xffffffffffffffabULL, S8, e8));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_BUF + 2, 0x12345678beefULL, S16, e16));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_SRC, 0xdeadbeef00000042ULL, S32, e32));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 0x1122334455667788ULL, S64, e64));
	wr(m.dev, DT_SRC, 8, 0x5555555555555555ULL);
	sig(e8, 1);
	sig(e16, 1);
	sig(e32, 1);
	sig(e64, 1);
	wait_reg(m.dev, DT_FILL, 8, 0x1122334455667788ULL);
	marker(&m);
	TAP_CHECK(pread(m.dev, b, 4, (off_t)(BAR0 + DT_BUF)) == 4, "buffer read");
	TAP_CHECK(b[0] == 0 && b[1] == 0xab && b[2] == 0xef && b[3] == 0xbe,
		  "buffer %02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
	TAP_CHECK_EQ(rd(m.dev, DT_SRC, 8), 0x5555555500000042ULL, "a 4-byte write into SRC");
	/* The counts were consumed, as eventfd_ctx_do_read() does. */
	TAP_CHECK(!take(e8) && !take(e16) && !take(e32) && !take(e64), "counts consumed");

	/* A doorbell: GO runs the COPY programmed, its completion on MSI-X vector 0. */
	CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
			  VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &msix));
	for (unsigned int i = 0; i < 0x100; i++)
		m.mem[0x100 + i] = (uint8_t)(i ^ 0x5a);
	memset(m.mem + 0x2000, 0, 0x100);
	wr(m.dev, DT_SRC, 8, IOVA + 0x100);
	wr(m.dev, DT_DST, 8, IOVA + 0x2000);
	wr(m.dev, DT_LEN, 4, 0x100);
	wr(m.dev, DT_OP, 4, OP_COPY);
	wr(m.dev, DT_CTRL, 4, CTRL_DONE_IRQ);
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_GO, 1, S32, go));
	sig(go, 1);
	wait_reg(m.dev, DT_COMPLETIONS, 4, 1);
	/* The completion first: the eventfd orders the watcher's DMA before our read (TSan). */
	TAP_CHECK_EQ(wait_take(msix), 1, "its completion on the MSI-X eventfd");
	TAP_CHECK(!memcmp(m.mem + 0x2000, m.mem + 0x100, 0x100), "the doorbell's COPY moved it");
	/*
	 * Another GO. A register write first: TSan does not see the order the
	 * eventfd gives (the watcher consumes it with preadv2(), which it does
	 * not intercept), the device's lock it does (our read above, then the
	 * next DMA into that memory).
	 */
	wr(m.dev, DT_CTRL, 4, CTRL_DONE_IRQ);
	sig(go, 1);
	wait_reg(m.dev, DT_COMPLETIONS, 4, 2);

	/* An EFD_SEMAPHORE eventfd: a signal of 3 is one write, consuming one of the count. */
	CHECK_ERRNO(EEXIST, vfio_ioeventfd(m.dev, BAR0 + DT_GO, 1, S32, sem));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_GO, 1, S32, -1));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_GO, 1, S32, sem));
	sig(sem, 3);
	wait_reg(m.dev, DT_COMPLETIONS, 4, 3);
	marker(&m);
	TAP_CHECK_EQ(rd(m.dev, DT_COMPLETIONS, 4), 3, "one GO for one signal");
	TAP_CHECK(take(sem) == 1 && take(sem) == 1 && !take(sem), "two of the three left");

	/* VFIO_DEVICE_RESET (an FLR) keeps them: Memory Space back on, a signal writes. */
	CHECK_OK(ioctl(m.dev, VFIO_DEVICE_RESET));
	machine_cmd_on(&m);
	TAP_CHECK_EQ(rd(m.dev, DT_FILL, 8), 0, "FILL cleared by the reset");
	sig(e64, 1);
	wait_reg(m.dev, DT_FILL, 8, 0x1122334455667788ULL);

	/* Removed: a signal does nothing and stays in the eventfd. */
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 0x1122334455667788ULL, S64, -1));
	wr(m.dev, DT_FILL, 8, 0);
	sig(e64, 1);
	marker(&m);
	TAP_CHECK_EQ(rd(m.dev, DT_FILL, 8), 0, "no write after removal");
	TAP_CHECK_EQ(take(e64), 1, "the count is the program's again");

	/* The eventfd closed by the program: the action stays until removed (our reference). */
	close(e32);
	CHECK_ERRNO(EEXIST, vfio_ioeventfd(m.dev, BAR0 + DT_SRC, 0xdeadbeef00000042ULL, S32, e8));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_SRC, 0xdeadbeef00000042ULL, S32, -1));

	machine_dev_close(&m);
	machine_close(&m);
	close(e8);
	close(e16);
	close(e64);
	close(go);
	close(sem);
	close(msix);
}

/* One COPY with the completion interrupt (INTx while MSI-X is off); its STATUS. */
static uint32_t go_copy(struct machine *m)
{
	wr(m->dev, DT_SRC, 8, IOVA);
	wr(m->dev, DT_DST, 8, IOVA + 0x1000);
	wr(m->dev, DT_LEN, 4, 0x10);
	wr(m->dev, DT_OP, 4, OP_COPY);
	wr(m->dev, DT_CTRL, 4, CTRL_DONE_IRQ);
	wr(m->dev, DT_GO, 4, 1);
	return (uint32_t)rd(m->dev, DT_STATUS, 4);
}

static void test_intx_unmask(void *arg)
{
	struct machine m;
	int trig = efd_new(0), u = efd_new(0), u2 = efd_new(0), pipefd[2], closed, d;
	int32_t one = 1; /* DATA_BOOL: the first byte */

	machine_setup(&m);
	dev_open(&m);
	TAP_CHECK(!pipe2(pipefd, O_CLOEXEC), "pipe");
	closed = closed_fd(u);

	/* Not with INTx off; MASK has none; count and start are checked first. */
	CHECK_ERRNO(EINVAL, set_unmask_fd(m.dev, u));
	CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
			  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trig));
	CHECK_ERRNO(ENOTTY, set_irqs(m.dev, VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_EVENTFD,
				     VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &u));
	CHECK_ERRNO(EINVAL, set_irqs(m.dev, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_EVENTFD,
				     VFIO_PCI_INTX_IRQ_INDEX, 0, 0, &u));
	CHECK_ERRNO(EBADF, set_unmask_fd(m.dev, closed));
	CHECK_ERRNO(EINVAL, set_unmask_fd(m.dev, pipefd[0]));
	CHECK_OK(set_unmask_fd(m.dev, -5)); /* any negative: remove (none here) */
	CHECK_OK(set_unmask_fd(m.dev, u));
	CHECK_ERRNO(EBUSY, set_unmask_fd(m.dev, u2));
	CHECK_ERRNO(EBUSY, set_unmask_fd(m.dev, u));
	CHECK_ERRNO(EBADF, set_unmask_fd(m.dev, closed));

	/* An interrupt auto-masks; a second one is pending behind the mask. */
	TAP_CHECK_EQ(go_copy(&m), ST_DONE, "COPY");
	TAP_CHECK_EQ(take(trig), 1, "INTx fired");
	TAP_CHECK_EQ(go_copy(&m), ST_DONE, "COPY");
	TAP_CHECK_EQ(take(trig), 0, "masked");
	/* The unmask eventfd: unmasked, and the pending one fires the trigger again. */
	sig(u, 1);
	TAP_CHECK_EQ(wait_take(trig), 1, "the pending interrupt after the unmask signal");
	TAP_CHECK_EQ(take(u), 0, "the unmask count was consumed");
	/* Masked again by that interrupt; nothing pending: a signal just unmasks. */
	sig(u, 1);
	marker(&m);
	TAP_CHECK_EQ(take(trig), 0, "nothing pending");
	TAP_CHECK_EQ(go_copy(&m), ST_DONE, "COPY");
	TAP_CHECK_EQ(take(trig), 1, "unmasked: the next interrupt fires at once");

	/* fd -1 removes it: a signal leaves INTx masked (and its count). */
	CHECK_OK(set_unmask_fd(m.dev, -1));
	sig(u, 1);
	marker(&m);
	TAP_CHECK_EQ(go_copy(&m), ST_DONE, "COPY");
	TAP_CHECK_EQ(take(trig), 0, "still masked");
	TAP_CHECK_EQ(take(u), 1, "not consumed");
	CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_BOOL,
			  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &one));
	TAP_CHECK_EQ(take(trig), 1, "the pending one at the ioctl's unmask");

	/* Closed by the program, the slot is free (Linux: EPOLLHUP ends it)... */
	CHECK_OK(set_unmask_fd(m.dev, u));
	close(u);
	CHECK_OK(set_unmask_fd(m.dev, u2));
	/* ... but not while another number of the program names it. */
	d = dup(u2);
	close(u2);
	u = efd_new(0);
	CHECK_ERRNO(EBUSY, set_unmask_fd(m.dev, u));
	u2 = d;
	sig(u2, 1); /* still acts: INTx was masked by the last interrupt */
	marker(&m);
	TAP_CHECK_EQ(go_copy(&m), ST_DONE, "COPY");
	TAP_CHECK_EQ(take(trig), 1, "unmasked through the other number");

	/* Disabling INTx removes it: after re-enabling, the same eventfd is taken again. */
	CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE,
			  VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL));
	CHECK_ERRNO(EINVAL, set_unmask_fd(m.dev, u2));
	CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
			  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trig));
	CHECK_OK(set_unmask_fd(m.dev, u2));
	/* Left set at the last close: ended with INTx. */
	machine_dev_close(&m);
	machine_close(&m);
	close(pipefd[0]);
	close(pipefd[1]);
	close(u);
	close(u2);
	close(trig);
}

/* The last close ends every action: the threads and descriptors of before. */
static void test_close_teardown(void *arg)
{
	int trig = efd_new(0), u = efd_new(0), e[4], nthreads, nfds;
	struct machine m;

	for (int i = 0; i < 4; i++)
		e[i] = efd_new(0);
	machine_setup(&m);
	wait_no_watcher();
	nthreads = threads();
	nfds = fds();
	for (int round = 0; round < 3; round++) {
		dev_open(&m);
		TAP_CHECK_EQ(watchers(), 1, "one watcher runs");
		for (int i = 0; i < 4; i++)
			CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, (uint64_t)i + 1, S64, e[i]));
		CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
				  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trig));
		CHECK_OK(set_unmask_fd(m.dev, u));
		sig(e[round], 1);
		wait_reg(m.dev, DT_FILL, 8, (uint64_t)round + 1);
		machine_dev_close(&m);
		wait_threads(nthreads);
		TAP_CHECK_EQ(fds(), nfds, "descriptors after close, round %d", round);
		/* Nothing watches them: a signal stays. */
		sig(e[0], 1);
		sig(u, 1);
		TAP_CHECK(take(e[0]) == 1 && take(u) == 1, "not consumed after close");
	}
	machine_close(&m);
	for (int i = 0; i < 4; i++)
		close(e[i]);
	close(u);
	close(trig);
}

/*
 * fork(): the child's device fd is the owner's file, its eventfds the same
 * files; the owner's watcher acts on the child's signals, and on eventfds
 * the child registers itself.
 */
static void test_fork(void *arg)
{
	int e = efd_new(0), st;
	struct machine m;
	pid_t pid;

	machine_setup(&m);
	dev_open(&m);
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 0xc0ffee, S64, e));
	pid = fork_child();
	TAP_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		int own = eventfd(0, EFD_CLOEXEC);
		uint64_t one = 1, v = 0;
		int ok = 1;

		/* An inherited eventfd, the parent's registration. */
		if (write(e, &one, 8) != 8)
			_exit(10);
		for (int i = 0; i < WAIT_MS && v != 0xc0ffee; i++) {
			if (pread(m.dev, &v, 8, DT_FILL) != 8)
				_exit(11);
			msleep1();
		}
		ok &= v == 0xc0ffee;
		/* One of its own, registered through its (remote) device fd. */
		if (own < 0 || vfio_ioeventfd(m.dev, BAR0 + DT_SRC, 0xbeef, S64, own))
			_exit(12);
		if (write(own, &one, 8) != 8)
			_exit(13);
		for (int i = 0; i < WAIT_MS && v != 0xbeef; i++) {
			if (pread(m.dev, &v, 8, DT_SRC) != 8)
				_exit(14);
			msleep1();
		}
		ok &= v == 0xbeef;
		if (vfio_ioeventfd(m.dev, BAR0 + DT_SRC, 0xbeef, S64, -1))
			_exit(15);
		_exit(ok ? 0 : 16);
	}
	st = wait_child(pid);
	TAP_CHECK_EQ(st, 0, "the child's checks");
	TAP_CHECK_EQ(rd(m.dev, DT_SRC, 8), 0xbeef, "the child's ioeventfd wrote");
	CHECK_ERRNO(ENODEV, vfio_ioeventfd(m.dev, BAR0 + DT_SRC, 0xbeef, S64, -1));
	machine_close(&m);
	close(e);
}

/*
 * fail-nth over the two ways in (an IOEVENTFD, an unmask eventfd): each
 * injected failure is ENOMEM and leaves nothing behind (no action: the
 * removal is ENODEV / a new eventfd is taken; no descriptor, no watcher),
 * until the call passes untouched.
 */
static void test_failnth(void *arg)
{
	char path[64];
	int e = efd_new(0), trig = efd_new(0), nfds, ff, failures[2] = {0, 0};
	struct machine m;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	ff = open(path, O_RDWR | O_CLOEXEC);
	TAP_CHECK(ff >= 0, "%s: %s", path, strerror(errno));
	machine_setup(&m);
	m.dev = ioctl(m.g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(m.dev >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
			  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trig));
	wait_no_watcher();
	nfds = fds();
	for (int which = 0; which < 2; which++) {
		for (unsigned int n = 1; n < 200; n++) {
			int rc, err;
			long left;

			fail_nth_arm(ff, n);
			rc = which ? set_unmask_fd(m.dev, e)
				   : vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, e);
			err = errno;
			left = fail_nth_left(ff);
			fail_nth_arm(ff, 0);
			if (!rc && left) {
				/* Untouched: the call's allocation points are all behind us. */
				CHECK_OK(which ? set_unmask_fd(m.dev, -1)
					       : vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, -1));
				break;
			}
			TAP_CHECK(rc == -1 && err == ENOMEM, "N=%u (%s): rc %d errno %d", n,
				  which ? "unmask" : "ioeventfd", rc, rc ? err : 0);
			failures[which]++;
			if (!which)
				CHECK_ERRNO(ENODEV,
					    vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 1, S64, -1));
			wait_no_watcher();
			TAP_CHECK_EQ(fds(), nfds, "N=%u: descriptors", n);
		}
	}
	tap_diag("allocation points: IOEVENTFD %d, unmask eventfd %d", failures[0], failures[1]);
	TAP_CHECK(failures[0] >= 4 && failures[1] >= 4, "too few points");
	/* The slot is free after every failure: one more set works. */
	CHECK_OK(set_unmask_fd(m.dev, e));
	close(ff);
	close(m.dev);
	m.dev = -1;
	machine_close(&m);
	close(e);
	close(trig);
}

/* ------------------------------------------------------------------ */
/* Threads                                                            */

struct racer {
	int efd;
	atomic_int stop;
};

static void *signaller(void *arg)
{
	struct racer *r = arg;
	uint64_t one = 1;

	while (!atomic_load(&r->stop))
		if (write(r->efd, &one, sizeof(one)) != sizeof(one))
			sched_yield();
	return NULL;
}

static void test_threads(void *arg)
{
	struct racer r = {.efd = efd_new(0)}, ru = {.efd = efd_new(0)};
	int trig = efd_new(0), nthreads;
	pthread_t t, tu;
	struct machine m;

	machine_setup(&m);
	wait_no_watcher();
	nthreads = threads();
	dev_open(&m);
	CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
			  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trig));
	TAP_CHECK(!pthread_create(&t, NULL, signaller, &r), "thread");
	TAP_CHECK(!pthread_create(&tu, NULL, signaller, &ru), "thread");
	/* A doorbell too: the watcher's GO raises INTx while SET_IRQS runs here. */
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_GO, 1, S32, r.efd));
	/* Add and remove while the eventfds are signalled without pause; resets; forks. */
	for (int i = 0; i < 300; i++) {
		CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, (uint64_t)i, S64, r.efd));
		CHECK_OK(set_unmask_fd(m.dev, ru.efd));
		if (i & 1)
			go_copy(&m); /* INTx raised while the unmask handler runs */
		CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, (uint64_t)i, S64, -1));
		CHECK_OK(set_unmask_fd(m.dev, -1));
		if (i % 25 == 24) {
			CHECK_OK(ioctl(m.dev, VFIO_DEVICE_RESET));
			machine_cmd_on(&m);
		}
		if (i % 60 == 59) {
			pid_t pid = fork_child();

			if (!pid) {
				uint32_t v;

				_exit(pread(m.dev, &v, 4, DT_ID) == 4 && v == DT_ID_VALUE ? 0 : 1);
			}
			TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
			TAP_CHECK_EQ(wait_child(pid), 0, "a child forked while actions run");
		}
	}
	/* And the last close while they are registered and signalled. */
	for (int i = 0; i < 20; i++) {
		CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_FILL, 7, S64, r.efd));
		CHECK_OK(set_unmask_fd(m.dev, ru.efd));
		machine_dev_close(&m);
		dev_open(&m);
		CHECK_OK(set_irqs(m.dev, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
				  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trig));
	}
	atomic_store(&r.stop, 1);
	atomic_store(&ru.stop, 1);
	pthread_join(t, NULL);
	pthread_join(tu, NULL);
	machine_dev_close(&m);
	wait_threads(nthreads);
	machine_close(&m);
	close(r.efd);
	close(ru.efd);
	close(trig);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"IOEVENTFD: Linux's argument checks, errnos and order", test_ioeventfd_checks},
		{"IOEVENTFD: 1000 per device, ENOSPC before the eventfd", test_ioeventfd_limit},
		{"IOEVENTFD: a signal writes the BAR (sizes, doorbell, semaphore, reset, removal)",
		 test_ioeventfd_writes},
		{"INTx unmask eventfd: errnos, unmask and replay, removal, hang-up",
		 test_intx_unmask},
		{"the last close ends every action: threads and descriptors", test_close_teardown},
		{"fork: the child's signals and its own ioeventfd act", test_fork},
		{"fail-nth: each allocation of IOEVENTFD and the unmask eventfd, ENOMEM, nothing "
		 "left",
		 test_failnth},
		{"threads: signals racing add, remove, reset, fork and close", test_threads},
	};

	shim_check_preloaded();
	if (getenv("UIOMMU_CONFIG")) {
		printf("Bail out! the default topology only\n");
		return 1;
	}
	tap_plan(ARRAY_SIZE_T(tests));
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	return tap_done();
}
