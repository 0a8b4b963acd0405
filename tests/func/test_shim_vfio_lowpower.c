// SPDX-License-Identifier: MIT
/*
 * VFIO's LOW_POWER device features under the preload shim, on the default
 * topology's dmatest function 0000:00:01.0 (group 1), through libc alone.
 * What Linux 6.12's vfio-pci does (vfio_pci_core.c, vfio_main.c), with
 * runtime PM allowed and the device suspending as soon as its usage count
 * is 0:
 *
 *  - PROBE: 0 alone or with SET, EINVAL with GET; without PROBE, GET or
 *    neither is EINVAL (vfio_check_feature()); VF_TOKEN stays ENOTTY;
 *  - the argument checks of ENTRY_WITH_WAKEUP in Linux's order: the
 *    feature header (argsz >= 8, flags), SET, argsz >= 8 of data, EFAULT,
 *    wakeup_eventfd < 0 EINVAL, EBADF, not an eventfd EINVAL, then engaged
 *    already EINVAL (the eventfd let go); reserved is not looked at;
 *  - ENTRY / EXIT: EXIT is 0 when not engaged; a second entry is EINVAL
 *    while a plain entry holds, accesses keep a plain entry in force;
 *  - the wake-up eventfd: signalled once (its count read) by the first
 *    access after the entry (any device-fd ioctl, even one that fails, a
 *    read or write of a valid region with count > 0, whatever its own
 *    result), which ends low power; not by the entry itself, mmap(),
 *    touching a mapping, a count-0 or bad-index read, group or container
 *    ioctls, an IOEVENTFD's signal, nor the last close;
 *  - BAR mappings raise SIGBUS while engaged (made before the entry or
 *    during it), accesses through read/write still reach the device's
 *    memory, RESET keeps a plain entry, EXIT or the wake-up makes the
 *    mapping the device's memory again;
 *  - an IOEVENTFD's write is dropped while engaged and wakes nothing;
 *  - the last close while engaged: no signal, our eventfd duplicate gone
 *    (/proc/self/fd counted), the next open is not engaged;
 *  - fail-nth over ENTRY_WITH_WAKEUP and a BAR mmap made while engaged.
 */
#include <dirent.h>
#include <setjmp.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "shim_vfio_machine.h"

#define ENTRY	     VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY
#define ENTRY_WAKEUP VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP
#define EXIT	     VFIO_DEVICE_FEATURE_LOW_POWER_EXIT
#define SET	     VFIO_DEVICE_FEATURE_SET
#define GET	     VFIO_DEVICE_FEATURE_GET
#define PROBE	     VFIO_DEVICE_FEATURE_PROBE

/* VFIO_DEVICE_FEATURE with @argsz (the header's 8 bytes included) and @data. */
static int _feature(int dev, uint32_t flags, uint32_t argsz, const void *data, size_t len)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t data[64];
	} f;

	memset(&f, 0, sizeof(f));
	f.hdr.argsz = argsz;
	f.hdr.flags = flags;
	if (data)
		memcpy(f.data, data, len);
	return ioctl(dev, VFIO_DEVICE_FEATURE, &f);
}

static int _entry(int dev)
{
	return _feature(dev, SET | ENTRY, sizeof(struct vfio_device_feature), NULL, 0);
}

static int _exit_lp(int dev)
{
	return _feature(dev, SET | EXIT, sizeof(struct vfio_device_feature), NULL, 0);
}

static int _entry_wakeup(int dev, int32_t efd, uint32_t reserved)
{
	struct vfio_device_low_power_entry_with_wakeup w = {.wakeup_eventfd = efd,
							    .reserved = reserved};

	return _feature(dev, SET | ENTRY_WAKEUP,
			(uint32_t)(sizeof(struct vfio_device_feature) + sizeof(w)), &w, sizeof(w));
}

static void sig(int efd)
{
	uint64_t n = 1;

	TAP_CHECK(write(efd, &n, sizeof(n)) == sizeof(n), "signal: %s", strerror(errno));
}

/* The process's open descriptors, ours (util/intfd.h) included. */
static int fds(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	/*
	 * A watcher told to end (the last ioeventfd of an earlier point gone)
	 * closes its epoll set and wake-up eventfd itself, a moment later:
	 * count once it has, so that no point sees two descriptors vanish.
	 */
	wait_no_watcher();
	d = opendir("/proc/self/fd");
	TAP_CHECK(d, "opendir: %s", strerror(errno));
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* The mmap-able part of BAR0: the buffer window. */
static volatile uint8_t *bar_map(int dev)
{
	void *p = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dev,
		       (off_t)(BAR0 + DT_BUF));

	TAP_CHECK(p != MAP_FAILED, "mmap BAR0's buffer: %s", strerror(errno));
	return p;
}

/* ------------------------------------------------------------------ */
/* Touching a mapping: the signal it raised, or 0.                    */

static sigjmp_buf touch_jb;

static void touch_handler(int signo)
{
	siglongjmp(touch_jb, signo);
}

static int touch(volatile uint8_t *p, bool write, uint8_t *val)
{
	struct sigaction sa, old_bus, old_segv;
	volatile int got = 0;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = touch_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	s = sigsetjmp(touch_jb, 1);
	if (!s) {
		if (write)
			*p = *val;
		else
			*val = *p;
	} else {
		got = s;
	}
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return got;
}

/* The byte at @p, which must be readable (no signal). */
static uint8_t peek(volatile uint8_t *p)
{
	uint8_t v = 0;
	int s = touch(p, false, &v);

	TAP_CHECK_EQ(s, 0, "reading the mapping raised signal %d", s);
	return v;
}

/* ------------------------------------------------------------------ */

static void test_probe(void *arg)
{
	static const uint32_t lp[] = {ENTRY, ENTRY_WAKEUP, EXIT};
	const uint32_t hdr = sizeof(struct vfio_device_feature);
	struct machine m;

	machine_open(&m);
	for (size_t i = 0; i < ARRAY_SIZE_T(lp); i++) {
		uint32_t f = lp[i];

		/* vfio_main.c's header checks first: argsz, unknown flags, GET with SET. */
		CHECK_ERRNO(EINVAL, _feature(m.dev, PROBE | SET | f, hdr - 1, NULL, 0));
		CHECK_ERRNO(EINVAL, _feature(m.dev, PROBE | SET | f | (1u << 19), hdr, NULL, 0));
		CHECK_ERRNO(EINVAL, _feature(m.dev, GET | SET | f, hdr, NULL, 0));
		CHECK_ERRNO(EFAULT, ioctl(m.dev, VFIO_DEVICE_FEATURE, (void *)8));
		/* SET only: PROBE with SET or alone is 0, anything with GET EINVAL. */
		CHECK_OK(_feature(m.dev, PROBE | f, hdr, NULL, 0));
		CHECK_OK(_feature(m.dev, PROBE | SET | f, hdr, NULL, 0));
		CHECK_ERRNO(EINVAL, _feature(m.dev, PROBE | GET | f, hdr, NULL, 0));
		CHECK_ERRNO(EINVAL, _feature(m.dev, PROBE | GET | SET | f, hdr, NULL, 0));
		/* PROBE is answered before argsz: the wake-up's 8 bytes are not needed. */
		CHECK_OK(_feature(m.dev, PROBE | SET | f, hdr, NULL, 0));
		/* Without PROBE: GET is EINVAL, neither GET nor SET is EINVAL. */
		CHECK_ERRNO(EINVAL, _feature(m.dev, GET | f, hdr + 8, NULL, 0));
		CHECK_ERRNO(EINVAL, _feature(m.dev, f, hdr + 8, NULL, 0));
	}
	/* A PROBE engages nothing: EXIT and ENTRY work as from the start. */
	CHECK_OK(_entry(m.dev));
	CHECK_OK(_exit_lp(m.dev));
	/* No SR-IOV: the VF token is ENOTTY, as an unknown feature. */
	CHECK_ERRNO(ENOTTY, _feature(m.dev, PROBE | SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, hdr,
				     NULL, 0));
	CHECK_ERRNO(ENOTTY, _feature(m.dev, PROBE | SET | 0x7fff, hdr, NULL, 0));
	machine_close(&m);
}

static void test_entry_checks(void *arg)
{
	const uint32_t hdr = sizeof(struct vfio_device_feature);
	struct vfio_device_low_power_entry_with_wakeup w;
	int e = efd_new(0), pipefd[2], closed = closed_fd(e), nfds;
	long psz = sysconf(_SC_PAGESIZE);
	struct vfio_device_feature *edge;
	struct machine m;
	uint8_t *two;

	machine_open(&m);
	TAP_CHECK(!pipe2(pipefd, O_CLOEXEC), "pipe");
	nfds = fds();

	/* SET and argsz: 8 bytes of data (7 is EINVAL), looked at before the data. */
	w = (struct vfio_device_low_power_entry_with_wakeup){.wakeup_eventfd = -1};
	CHECK_ERRNO(EINVAL, _feature(m.dev, SET | ENTRY_WAKEUP, hdr + 7, &w, sizeof(w)));
	CHECK_ERRNO(EINVAL, _feature(m.dev, GET | ENTRY_WAKEUP, hdr + 8, &w, sizeof(w)));
	CHECK_ERRNO(EINVAL, _feature(m.dev, ENTRY_WAKEUP, hdr + 8, &w, sizeof(w)));
	/* The data unreadable (the header ends a page, the next is PROT_NONE): EFAULT. */
	two = mmap(NULL, 2 * (size_t)psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	TAP_CHECK(two != MAP_FAILED, "mmap");
	TAP_CHECK(!mprotect(two + psz, (size_t)psz, PROT_NONE), "mprotect");
	edge = (void *)(two + psz - hdr);
	edge->argsz = hdr + 8;
	edge->flags = SET | ENTRY_WAKEUP;
	CHECK_ERRNO(EFAULT, ioctl(m.dev, VFIO_DEVICE_FEATURE, edge));
	/* ... but with a short argsz EINVAL comes first. */
	edge->argsz = hdr + 7;
	CHECK_ERRNO(EINVAL, ioctl(m.dev, VFIO_DEVICE_FEATURE, edge));
	/* ENTRY and EXIT need no data: argsz 8 reads nothing past the header. */
	edge->argsz = hdr;
	edge->flags = SET | ENTRY;
	CHECK_OK(ioctl(m.dev, VFIO_DEVICE_FEATURE, edge));
	edge->flags = SET | EXIT;
	CHECK_OK(ioctl(m.dev, VFIO_DEVICE_FEATURE, edge));
	munmap(two, 2 * (size_t)psz);

	/* The eventfd: negative EINVAL (before any lookup), then eventfd_ctx_fdget()'s. */
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, -1, 0));
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, INT32_MIN, 0));
	CHECK_ERRNO(EBADF, _entry_wakeup(m.dev, closed, 0));
	CHECK_ERRNO(EBADF, _entry_wakeup(m.dev, 100000, 0));
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, pipefd[0], 0));
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, m.g, 0));
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, m.dev, 0));
	TAP_CHECK_EQ(fds(), nfds, "a refused eventfd is not kept");
	/* reserved is not checked. */
	CHECK_OK(_entry_wakeup(m.dev, e, 0xffffffffu));
	TAP_CHECK_EQ(fds(), nfds + 1, "our duplicate of the eventfd");
	CHECK_OK(_exit_lp(m.dev));
	TAP_CHECK_EQ(take(e), 1, "EXIT was an access: the wake-up");
	TAP_CHECK_EQ(fds(), nfds, "the duplicate let go");

	/* Engaged (a plain entry holds across accesses): the eventfd is looked up first. */
	CHECK_OK(_entry(m.dev));
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, -1, 0));
	CHECK_ERRNO(EBADF, _entry_wakeup(m.dev, closed, 0));
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, pipefd[0], 0));
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, e, 0));
	TAP_CHECK_EQ(fds(), nfds, "the eventfd of a refused entry is let go");
	CHECK_ERRNO(EINVAL, _entry(m.dev));
	CHECK_OK(_exit_lp(m.dev));
	TAP_CHECK_EQ(take(e), 0, "never signalled");

	close(pipefd[0]);
	close(pipefd[1]);
	close(e);
	machine_close(&m);
}

static void test_entry_exit(void *arg)
{
	struct vfio_device_info info = {.argsz = sizeof(info)};
	struct vfio_group_status st = {.argsz = sizeof(st)};
	struct machine m;
	uint16_t vendor;
	int e = efd_new(0);

	machine_open(&m);
	/* EXIT when not engaged: 0, every time. */
	CHECK_OK(_exit_lp(m.dev));
	CHECK_OK(_exit_lp(m.dev));
	/* A plain entry holds across accesses: a second entry of either kind is EINVAL. */
	CHECK_OK(_entry(m.dev));
	CHECK_ERRNO(EINVAL, _entry(m.dev));
	CHECK_OK(ioctl(m.dev, VFIO_DEVICE_GET_INFO, &info));
	TAP_CHECK(pread(m.dev, &vendor, 2, (off_t)CFG) == 2 && vendor == DT_VENDOR,
		  "config space reads while engaged (resumed for the access)");
	TAP_CHECK_EQ(rd(m.dev, DT_ID, 4), DT_ID_VALUE, "BAR0 reads while engaged");
	CHECK_OK(ioctl(m.dev, VFIO_DEVICE_RESET));
	CHECK_ERRNO(EINVAL, _entry(m.dev));
	CHECK_ERRNO(EINVAL, _entry_wakeup(m.dev, e, 0));
	CHECK_OK(ioctl(m.g, VFIO_GROUP_GET_STATUS, &st));
	CHECK_OK(_exit_lp(m.dev));
	CHECK_OK(_exit_lp(m.dev));
	/* Out: a new entry of either kind works. */
	CHECK_OK(_entry_wakeup(m.dev, e, 0));
	TAP_CHECK_EQ(take(e), 0, "the entry itself is no wake-up");
	/* An entry over one with wake-up: the ioctl woke the device first, so it succeeds. */
	CHECK_OK(_entry(m.dev));
	TAP_CHECK_EQ(take(e), 1, "the entry's access woke the device");
	CHECK_ERRNO(EINVAL, _entry(m.dev));
	TAP_CHECK_EQ(take(e), 0, "that eventfd is let go: no second signal");
	CHECK_OK(_exit_lp(m.dev));
	close(e);
	machine_close(&m);
}

/* One access of the device fd (or not: @wakes false), tried while engaged with wake-up. */
struct access {
	const char *name;
	bool wakes;
	void (*fn)(struct machine *m);
};

static void a_get_info(struct machine *m)
{
	struct vfio_device_info info = {.argsz = sizeof(info)};

	CHECK_OK(ioctl(m->dev, VFIO_DEVICE_GET_INFO, &info));
}

static void a_get_info_einval(struct machine *m)
{
	struct vfio_device_info info = {.argsz = 4};

	CHECK_ERRNO(EINVAL, ioctl(m->dev, VFIO_DEVICE_GET_INFO, &info));
}

static void a_unknown_ioctl(struct machine *m)
{
	CHECK_ERRNO(ENOTTY, ioctl(m->dev, _IO(VFIO_TYPE, VFIO_BASE + 40), 0));
}

static void a_feature_probe(struct machine *m)
{
	CHECK_OK(_feature(m->dev, PROBE | SET | EXIT, sizeof(struct vfio_device_feature), NULL, 0));
}

static void a_feature_bad(struct machine *m)
{
	CHECK_ERRNO(EINVAL, _feature(m->dev, PROBE | EXIT, 7, NULL, 0));
}

static void a_reset(struct machine *m)
{
	CHECK_OK(ioctl(m->dev, VFIO_DEVICE_RESET));
}

static void a_irq_info(struct machine *m)
{
	struct vfio_irq_info ii = {.argsz = sizeof(ii), .index = 99};

	CHECK_ERRNO(EINVAL, ioctl(m->dev, VFIO_DEVICE_GET_IRQ_INFO, &ii));
}

static void a_cfg_read(struct machine *m)
{
	uint16_t v = 0;

	TAP_CHECK(pread(m->dev, &v, 2, (off_t)CFG) == 2 && v == DT_VENDOR, "vendor ID");
}

static void a_cfg_write(struct machine *m)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	TAP_CHECK(pwrite(m->dev, &cmd, 2, (off_t)(CFG + PCI_COMMAND)) == 2, "Command");
}

static void a_cfg_efault(struct machine *m)
{
	uint32_t v;

	/* Past the config space: refused, after the resume. */
	CHECK_ERRNO(EFAULT, pread(m->dev, &v, 4, (off_t)(CFG + 4096)));
}

static void a_bar_read(struct machine *m)
{
	TAP_CHECK_EQ(rd(m->dev, DT_ID, 4), DT_ID_VALUE, "ID");
}

static void a_bar_write(struct machine *m)
{
	wr(m->dev, DT_SRC, 8, 0x1234);
}

static void a_rom_write(struct machine *m)
{
	uint32_t v = 0;

	CHECK_ERRNO(EINVAL, pwrite(m->dev, &v, 4, (off_t)REGION(VFIO_PCI_ROM_REGION_INDEX)));
}

static void a_bar2_read(struct machine *m)
{
	uint32_t v;

	/* A BAR the function does not implement: EINVAL, after the resume. */
	CHECK_ERRNO(EINVAL, pread(m->dev, &v, 4, (off_t)REGION(VFIO_PCI_BAR2_REGION_INDEX)));
}

static void a_read_zero(struct machine *m)
{
	uint32_t v;

	TAP_CHECK_EQ(pread(m->dev, &v, 0, (off_t)CFG), 0, "count 0");
}

static void a_bad_index(struct machine *m)
{
	uint32_t v;

	CHECK_ERRNO(EINVAL, pread(m->dev, &v, 4, (off_t)REGION(VFIO_PCI_NUM_REGIONS)));
	CHECK_ERRNO(EINVAL, pwrite(m->dev, &v, 4, (off_t)REGION(40)));
}

static void a_group_container(struct machine *m)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};

	CHECK_OK(ioctl(m->g, VFIO_GROUP_GET_STATUS, &st));
	TAP_CHECK_EQ(ioctl(m->c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1, "extension");
}

static void a_mmap_munmap(struct machine *m)
{
	volatile uint8_t *p = bar_map(m->dev);
	uint8_t v = 0;

	TAP_CHECK_EQ(touch(p, false, &v), SIGBUS, "a mapping made while engaged");
	TAP_CHECK_EQ(touch(p + 100, true, &v), SIGBUS, "a store too");
	munmap((void *)p, DT_BUF_SIZE);
}

static void a_poll(struct machine *m)
{
	(void)poll_now(m->dev, POLLIN);
}

static void test_wakeup(void *arg)
{
	static const struct access accesses[] = {
		{"GET_INFO", true, a_get_info},
		{"GET_INFO with argsz 4 (EINVAL)", true, a_get_info_einval},
		{"an unknown ioctl (ENOTTY)", true, a_unknown_ioctl},
		{"GET_IRQ_INFO of a bad index (EINVAL)", true, a_irq_info},
		{"FEATURE PROBE", true, a_feature_probe},
		{"FEATURE with argsz 7 (EINVAL)", true, a_feature_bad},
		{"RESET", true, a_reset},
		{"config read", true, a_cfg_read},
		{"config write", true, a_cfg_write},
		{"config read past its end (EFAULT)", true, a_cfg_efault},
		{"BAR0 read", true, a_bar_read},
		{"BAR0 write", true, a_bar_write},
		{"ROM write (EINVAL)", true, a_rom_write},
		{"BAR2 read, not implemented (EINVAL)", true, a_bar2_read},
		{"read of 0 bytes", false, a_read_zero},
		{"read / write of a bad region index", false, a_bad_index},
		{"group and container ioctls", false, a_group_container},
		{"mmap, touch and munmap of BAR0", false, a_mmap_munmap},
		{"poll", false, a_poll},
	};
	struct machine m;
	int e = efd_new(0), e2 = efd_new(0);
	volatile uint8_t *p;
	uint8_t v;

	machine_open(&m);
	/* Whether low power is in force shows in a mapping: SIGBUS while engaged. */
	p = bar_map(m.dev);
	for (size_t i = 0; i < ARRAY_SIZE_T(accesses); i++) {
		const struct access *a = &accesses[i];

		tap_diag("access: %s", a->name);
		CHECK_OK(_entry_wakeup(m.dev, e, 0));
		a->fn(&m);
		TAP_CHECK_EQ(take(e), a->wakes, "%s: the wake-up eventfd's count", a->name);
		TAP_CHECK_EQ(touch(p, false, &v), a->wakes ? 0 : SIGBUS,
			     "%s: the mapping after it", a->name);
		a->fn(&m);
		TAP_CHECK_EQ(take(e), 0, "%s again: no second signal", a->name);
		/* EXIT is an access too: it wakes a device the access left in low power. */
		CHECK_OK(_exit_lp(m.dev));
		TAP_CHECK_EQ(take(e), !a->wakes, "%s: EXIT's signal", a->name);
		TAP_CHECK_EQ(touch(p, false, &v), 0, "%s: live after EXIT", a->name);
	}
	munmap((void *)p, DT_BUF_SIZE);
	/* A new entry with another eventfd over one with wake-up: the first signals, once. */
	CHECK_OK(_entry_wakeup(m.dev, e, 0));
	CHECK_OK(_entry_wakeup(m.dev, e2, 0));
	TAP_CHECK_EQ(take(e), 1, "the second entry woke the first");
	TAP_CHECK_EQ(take(e2), 0, "the second is in force");
	a_bar_read(&m);
	TAP_CHECK_EQ(take(e), 0, "the first is let go");
	TAP_CHECK_EQ(take(e2), 1, "the second woke");
	/* The same eventfd twice (the program may pass it again after a wake-up). */
	CHECK_OK(_entry_wakeup(m.dev, e, 0));
	CHECK_OK(_entry_wakeup(m.dev, e, 0));
	TAP_CHECK_EQ(take(e), 1, "woken by the second entry");
	CHECK_OK(_exit_lp(m.dev));
	TAP_CHECK_EQ(take(e), 1, "and by EXIT");
	/* The program may close its eventfd: ours is a duplicate; the signal goes to it. */
	{
		int e3 = efd_new(0), e3dup = dup(e3);

		CHECK_OK(_entry_wakeup(m.dev, e3, 0));
		close(e3);
		a_cfg_read(&m);
		TAP_CHECK_EQ(take(e3dup), 1, "the same eventfd, through another number");
		close(e3dup);
	}
	close(e);
	close(e2);
	machine_close(&m);
}

static void test_mmap(void *arg)
{
	struct machine m;
	volatile uint8_t *p, *q;
	int e = efd_new(0);
	uint8_t v = 0;

	machine_open(&m);
	p = bar_map(m.dev);
	p[0] = 0xa5;
	p[4095] = 0x5a;
	TAP_CHECK_EQ(rd(m.dev, DT_BUF, 1), 0xa5, "the mapping is the device's buffer");

	/* A plain entry: the mapping raises SIGBUS, loads and stores, every page. */
	CHECK_OK(_entry(m.dev));
	TAP_CHECK_EQ(touch(p, false, &v), SIGBUS, "load while engaged");
	v = 0x11;
	TAP_CHECK_EQ(touch(p + 1, true, &v), SIGBUS, "store while engaged");
	TAP_CHECK_EQ(touch(p + DT_BUF_SIZE - 1, false, &v), SIGBUS, "the last page");
	/* read / write resume the device for themselves; the mapping stays zapped. */
	TAP_CHECK_EQ(rd(m.dev, DT_BUF, 1), 0xa5, "pread reaches the memory");
	wr(m.dev, DT_BUF + 2, 1, 0x77);
	TAP_CHECK_EQ(touch(p + 2, false, &v), SIGBUS, "still zapped after the accesses");
	/* A mapping made now: mmap() succeeds, its first touch is SIGBUS. */
	q = bar_map(m.dev);
	TAP_CHECK_EQ(touch(q + 4096, false, &v), SIGBUS, "a new mapping is zapped");
	/* EXIT: both mappings are the device's memory again, as it is now. */
	CHECK_OK(_exit_lp(m.dev));
	TAP_CHECK_EQ(peek(p + 2), 0x77, "the pwrite made while engaged");
	TAP_CHECK_EQ(peek(q + 4095), 0x5a, "the second mapping");
	munmap((void *)q, DT_BUF_SIZE);
	/* RESET is an access: a plain entry stays in force, the mapping zapped. */
	CHECK_OK(_entry(m.dev));
	CHECK_OK(ioctl(m.dev, VFIO_DEVICE_RESET));
	TAP_CHECK_EQ(touch(p, false, &v), SIGBUS, "after RESET");
	CHECK_ERRNO(EINVAL, _entry(m.dev));
	CHECK_OK(_exit_lp(m.dev));
	a_cfg_write(&m); /* Memory Space on again after the reset */
	p[1] = 0x22;
	TAP_CHECK_EQ(rd(m.dev, DT_BUF + 1, 1), 0x22, "stores reach the device again");

	/* With wake-up: a touch neither wakes nor signals; the first access does both. */
	CHECK_OK(_entry_wakeup(m.dev, e, 0));
	TAP_CHECK_EQ(touch(p, false, &v), SIGBUS, "load while engaged with wake-up");
	TAP_CHECK_EQ(take(e), 0, "touching the mapping wakes nothing");
	a_cfg_read(&m);
	TAP_CHECK_EQ(take(e), 1, "the config read woke the device");
	TAP_CHECK_EQ(peek(p + 1), 0x22, "the wake-up made the mapping live");
	/* Part of a mapping unmapped while engaged: the rest comes back at EXIT. */
	CHECK_OK(_entry(m.dev));
	munmap((void *)p, 4096);
	TAP_CHECK_EQ(touch(p + 4096, false, &v), SIGBUS, "the rest is zapped");
	CHECK_OK(_exit_lp(m.dev));
	p[4096] = 0x33;
	TAP_CHECK_EQ(rd(m.dev, DT_BUF + 4096, 1), 0x33, "the rest is the device's memory");
	munmap((void *)(p + 4096), DT_BUF_SIZE - 4096);
	close(e);
	machine_close(&m);
}

/* Wait (bounded) until @efd's count has been consumed (by VFIO's watcher). */
static void wait_consumed(int efd)
{
	for (int i = 0; i < WAIT_MS && poll_now(efd, POLLIN) == POLLIN; i++)
		msleep1();
	TAP_CHECK_EQ(poll_now(efd, POLLIN), 0, "the ioeventfd's count consumed");
}

/*
 * An IOEVENTFD's signal while engaged: its write reaches nothing (Linux
 * writes to a suspended BAR) and wakes nothing. The watcher handles the
 * signals in their order, so once the second one's count is consumed the
 * first one's handler has run, while engaged.
 */
static void test_ioeventfd(void *arg)
{
	int a = efd_new(0), b = efd_new(0), e = efd_new(0);
	struct machine m;

	machine_open(&m);
	wr(m.dev, DT_SRC, 4, 0);
	wr(m.dev, DT_DST, 4, 0);
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_SRC, 0xabcd, VFIO_DEVICE_IOEVENTFD_32, a));
	CHECK_OK(vfio_ioeventfd(m.dev, BAR0 + DT_DST, 0x1234, VFIO_DEVICE_IOEVENTFD_32, b));
	CHECK_OK(_entry_wakeup(m.dev, e, 0));
	sig(a);
	sig(b);
	wait_consumed(b);
	wait_consumed(a);
	TAP_CHECK_EQ(take(e), 0, "an ioeventfd's write wakes nothing");
	TAP_CHECK_EQ(rd(m.dev, DT_SRC, 4), 0, "the write was dropped");
	TAP_CHECK_EQ(rd(m.dev, DT_DST, 4), 0, "the other one too");
	TAP_CHECK_EQ(take(e), 1, "the read woke the device");
	/* Awake: the ioeventfd writes again. */
	sig(a);
	for (int i = 0; i < WAIT_MS && rd(m.dev, DT_SRC, 4) != 0xabcd; i++)
		msleep1();
	TAP_CHECK_EQ(rd(m.dev, DT_SRC, 4), 0xabcd, "the write lands once awake");
	close(m.dev);
	m.dev = -1;
	machine_close(&m);
	close(a);
	close(b);
	close(e);
}

/* The last close while engaged: no signal, nothing kept, the next open starts awake. */
static void test_close(void *arg)
{
	struct machine m;
	int e = efd_new(0), base;
	volatile uint8_t *p;
	uint8_t v;

	machine_open(&m);
	close(m.dev);
	base = fds();

	/* With wake-up, and a mapping made and unmapped while engaged. */
	m.dev = ioctl(m.g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(m.dev >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	CHECK_OK(_entry_wakeup(m.dev, e, 0));
	p = bar_map(m.dev);
	TAP_CHECK_EQ(touch(p, false, &v), SIGBUS, "zapped");
	munmap((void *)p, DT_BUF_SIZE);
	TAP_CHECK_EQ(fds(), base + 2, "the device fd and our duplicate");
	close(m.dev);
	TAP_CHECK_EQ(fds(), base, "the close let go of the duplicate");
	TAP_CHECK_EQ(take(e), 0, "the close signals nothing");

	/* A mapping kept past the close of the fd: the device stays open, and engaged. */
	m.dev = ioctl(m.g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(m.dev >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	a_cfg_read(&m);
	TAP_CHECK_EQ(take(e), 0, "the next open is not engaged");
	CHECK_OK(_entry_wakeup(m.dev, e, 0));
	p = bar_map(m.dev);
	close(m.dev);
	TAP_CHECK_EQ(touch(p, false, &v), SIGBUS, "zapped with the fd closed");
	munmap((void *)p, DT_BUF_SIZE);
	TAP_CHECK_EQ(fds(), base, "the last unmap closed the device");
	TAP_CHECK_EQ(take(e), 0, "nothing signalled");

	/* A plain entry: the next open is not engaged either. */
	m.dev = ioctl(m.g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(m.dev >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	CHECK_OK(_entry(m.dev));
	close(m.dev);
	m.dev = ioctl(m.g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(m.dev >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	p = bar_map(m.dev);
	TAP_CHECK_EQ(touch(p, false, &v), 0, "a mapping of the new open is live");
	munmap((void *)p, DT_BUF_SIZE);
	CHECK_OK(_entry(m.dev));
	CHECK_OK(_exit_lp(m.dev));
	close(m.dev);
	TAP_CHECK_EQ(fds(), base, "descriptors");
	m.dev = -1;
	machine_close(&m);
	close(e);
}

/*
 * fail-nth over ENTRY_WITH_WAKEUP (our reference to the eventfd) and a BAR
 * mmap made while engaged (its record): each injected failure is ENOMEM
 * and leaves nothing (not engaged / no mapping, no descriptor), until the
 * call passes untouched.
 */
static void test_failnth(void *arg)
{
	int e = efd_new(0), ff, nfds, failures[2] = {0, 0};
	struct machine m;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	ff = open(path, O_RDWR | O_CLOEXEC);
	TAP_CHECK(ff >= 0, "%s: %s", path, strerror(errno));
	machine_open(&m);
	nfds = fds();
	for (int which = 0; which < 2; which++) {
		for (unsigned int n = 1; n < 200; n++) {
			void *p = MAP_FAILED;
			long left;
			int rc, err;

			if (which)
				CHECK_OK(_entry(m.dev));
			fail_nth_arm(ff, n);
			if (which) {
				p = mmap(NULL, DT_BUF_SIZE, PROT_READ, MAP_SHARED, m.dev,
					 (off_t)(BAR0 + DT_BUF));
				rc = p == MAP_FAILED ? -1 : 0;
			} else {
				rc = _entry_wakeup(m.dev, e, 0);
			}
			err = errno;
			left = fail_nth_left(ff);
			fail_nth_arm(ff, 0);
			if (!rc && left) {
				/* Untouched: the call's allocation points are all behind us. */
				if (which) {
					uint8_t v;

					TAP_CHECK_EQ(touch(p, false, &v), SIGBUS, "zapped");
					munmap(p, DT_BUF_SIZE);
				}
				CHECK_OK(_exit_lp(m.dev));
				TAP_CHECK_EQ(take(e), !which, "the EXIT woke the device");
				break;
			}
			TAP_CHECK(rc == -1 && err == ENOMEM, "N=%u (%s): rc %d errno %d", n,
				  which ? "mmap" : "entry", rc, rc ? err : 0);
			failures[which]++;
			if (!which) {
				/* Not engaged: a plain entry works (and is ended). */
				CHECK_OK(_entry(m.dev));
			}
			CHECK_OK(_exit_lp(m.dev));
			TAP_CHECK_EQ(take(e), 0, "N=%u: nothing signalled", n);
			TAP_CHECK_EQ(fds(), nfds, "N=%u: descriptors", n);
		}
	}
	/*
	 * The entry allocates only when our table of held eventfds grows (as
	 * Linux's, which takes a reference, allocates nothing): often none.
	 */
	tap_diag("allocation points: ENTRY_WITH_WAKEUP %d, BAR mmap %d", failures[0], failures[1]);
	TAP_CHECK(failures[1] >= 2, "too few points");
	close(ff);
	machine_close(&m);
	close(e);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"PROBE: SET only, vfio_check_feature()'s errnos", test_probe},
		{"ENTRY_WITH_WAKEUP: Linux's argument checks, errnos and order", test_entry_checks},
		{"ENTRY / EXIT: EXIT when not engaged, double entry, accesses keep a plain entry",
		 test_entry_exit},
		{"wake-up eventfd: signalled once by exactly the accesses Linux resumes for",
		 test_wakeup},
		{"BAR mappings: SIGBUS while engaged, live again after EXIT or the wake-up",
		 test_mmap},
		{"IOEVENTFD while engaged: the write is dropped, nothing wakes", test_ioeventfd},
		{"the last close while engaged: no signal, no descriptor left", test_close},
		{"fail-nth: ENTRY_WITH_WAKEUP and a BAR mmap while engaged, ENOMEM, nothing left",
		 test_failnth},
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
