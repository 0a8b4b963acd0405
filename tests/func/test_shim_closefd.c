// SPDX-License-Identifier: MIT
/*
 * The library's own descriptors under the preload shim, and the process
 * calls that fork around them, on the default topology's dmatest function
 * 0000:00:01.0 (group 1), through libc alone:
 *
 *  - close_range(3, N, 0) with a SET_IRQS MSI-X trigger and an IOEVENTFD
 *    registered: the program's own descriptors in the range are closed
 *    (F_GETFD: EBADF), the library's stay (still in /proc/self/fd, and to
 *    the program EBADF as a free number), and the actions still happen: a
 *    signal writes the BAR, a DMA's completion reaches the trigger;
 *  - closefrom(3) likewise, in a forked child with the device and the
 *    eventfd at 0 and 2: the channel to its parent (a socket of the
 *    library's) survives, and its IOEVENTFD writes the BAR;
 *  - close_range(3, ~0U, 0) in a process with the mock vIOMMU's region
 *    mapped: the region's memfd (the library's) is kept, the region maps
 *    again, the same pages, and the vIOMMU is busy while either is mapped;
 *  - CLOSE_RANGE_CLOEXEC: the program's descriptors become close-on-exec,
 *    the emulated ones keep working; every internal descriptor is
 *    close-on-exec (/proc/self/fdinfo);
 *  - close(), dup(), fcntl() of an internal number: EBADF; dup2() and
 *    dup3() onto one give the program that number (a pipe written through
 *    it) while the action goes on through the descriptor's new number, and
 *    the last close of the device leaves no descriptor behind;
 *  - fail-nth over dup2() onto an internal number: ENOMEM, nothing changed;
 *  - daemon(): the child (a new session, in /, stdio on /dev/null) keeps an
 *    emulated /dev/iommu working (IOAS_ALLOC) and a VFIO IOEVENTFD acting,
 *    and reports over a pipe; its parent exits 0; daemon(1, 1) keeps the
 *    directory and stdio; with a child of its own that calls all along,
 *    the daemon serves the child (the same context) and its exit; under
 *    fail-nth it fails (ENOMEM / EAGAIN) or the daemon has everything;
 *  - _Fork(): with no emulated file the child may open /dev/iommu; with
 *    one it is a process the library does not know (its ioctl reaches the
 *    backing memfd: ENOTTY) and the parent's files are untouched;
 *  - vfork(): a child that closes and dups before _exit() changes its own
 *    table only: the parent's emulated and internal descriptors work on;
 *  - threads: close_range() and blind dup2()s onto the numbers where the
 *    library's descriptors live, racing actions made and ended (make
 *    check-tsan runs it).
 *
 * The actions run in a watcher thread, shortly after the signal: a test
 * waits for their effect (a bounded wait, never a timing assertion).
 */
#include <dirent.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "shim_vfio_machine.h"

#define DT_FILL	       0x030
#define DT_COMPLETIONS 0x058
#define FILL_DATA      0x1122334455667788ULL
#define HIGH	       1000 /* where the test keeps what a close_range(3, HIGH - 1) must spare */
#define MAX_FDS	       64

/* @fd moved to HIGH or above (close-on-exec), the old number closed. */
static int high(int fd)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, HIGH);

	TAP_CHECK(n >= HIGH, "F_DUPFD %d: %s", fd, strerror(errno));
	close(fd);
	return n;
}

static void sig(int efd)
{
	uint64_t one = 1;

	TAP_CHECK(write(efd, &one, sizeof(one)) == sizeof(one), "signal: %s", strerror(errno));
}

static uint64_t wait_take(int efd)
{
	uint64_t v = 0;

	for (int i = 0; i < WAIT_MS && poll_now(efd, POLLIN) != POLLIN; i++)
		msleep1();
	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int ioeventfd(int dev, uint64_t offset, uint64_t data, int32_t fd)
{
	struct vfio_device_ioeventfd ie = {
		.argsz = sizeof(ie),
		.flags = VFIO_DEVICE_IOEVENTFD_64,
		.offset = offset,
		.data = data,
		.fd = fd,
	};

	return ioctl(dev, VFIO_DEVICE_IOEVENTFD, &ie);
}

static int msix_trigger(int dev, int32_t fd)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)] = {0};
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = sizeof(buf);
	s->flags = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
	s->index = VFIO_PCI_MSIX_IRQ_INDEX;
	s->start = 0;
	s->count = 1;
	memcpy(s->data, &fd, sizeof(fd));
	return ioctl(dev, VFIO_DEVICE_SET_IRQS, s);
}

/* A COPY whose completion raises MSI-X vector 0. */
static void dma_copy(struct machine *m)
{
	for (unsigned int i = 0; i < 0x100; i++)
		m->mem[0x100 + i] = (uint8_t)(i ^ 0x3c);
	memset(m->mem + 0x2000, 0, 0x100);
	wr(m->dev, DT_SRC, 8, IOVA + 0x100);
	wr(m->dev, DT_DST, 8, IOVA + 0x2000);
	wr(m->dev, DT_LEN, 4, 0x100);
	wr(m->dev, DT_OP, 4, OP_COPY);
	wr(m->dev, DT_CTRL, 4, CTRL_DONE_IRQ);
	wr(m->dev, DT_GO, 4, 1);
}

/* The open descriptors (/proc/self/fd, less the listing's own) in @out, sorted; how many. */
static int open_fds(int *out, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0, self;

	TAP_CHECK(d, "opendir: %s", strerror(errno));
	self = dirfd(d);
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == self)
			continue;
		TAP_CHECK(n < max, "more than %d descriptors", max);
		out[n++] = fd;
	}
	closedir(d);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			int t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static bool in_proc(int fd)
{
	char path[64], target[128];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return readlink(path, target, sizeof(target)) > 0;
}

/* How many of the process's descriptors are memfds named @name. */
static unsigned int count_memfds(const char *name)
{
	char want[96], path[64], target[128];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned int n = 0;

	if (!d)
		return 0;
	snprintf(want, sizeof(want), "/memfd:%s", name);
	while ((de = readdir(d))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", atoi(de->d_name));
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += !strncmp(target, want, strlen(want));
	}
	closedir(d);
	return n;
}

/* The flags line of /proc/self/fdinfo/@fd (octal), -1 when it has none. */
static long fdinfo_flags(int fd)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "flags:");
	return p ? strtol(p + 6, NULL, 8) : -1;
}

/* What was open when the test began (the harness's too): the program's. */
static int base_fds[MAX_FDS], nbase;

static void wait_no_watcher(void);

/* After the last test's watcher has ended: its descriptors are not the program's. */
static void snapshot(void)
{
	wait_no_watcher();
	nbase = open_fds(base_fds, MAX_FDS);
}

/*
 * The library's descriptors below @below: those /proc/self/fd lists that
 * the program has not got (not in @mine, not open at snapshot()). Each
 * answers EBADF to the program, as a free number does, and is close-on-exec.
 */
static int internal_fds(const int *mine, int nmine, int below, int *out, int max)
{
	int all[MAX_FDS], n = open_fds(all, MAX_FDS), k = 0;

	for (int i = 0; i < n; i++) {
		bool own = all[i] <= 2 || all[i] >= below;

		for (int j = 0; j < nmine && !own; j++)
			own = all[i] == mine[j];
		for (int j = 0; j < nbase && !own; j++)
			own = all[i] == base_fds[j];
		if (own)
			continue;
		TAP_CHECK(k < max, "too many");
		if (fcntl(all[i], F_GETFD) >= 0) {
			char path[64], target[128] = {0};

			snprintf(path, sizeof(path), "/proc/self/fd/%d", all[i]);
			(void)!readlink(path, target, sizeof(target) - 1);
			tap_diag("fd %d (%s) answers F_GETFD", all[i], target);
		}
		CHECK_ERRNO(EBADF, fcntl(all[i], F_GETFD));
		TAP_CHECK(fdinfo_flags(all[i]) >= 0 && (fdinfo_flags(all[i]) & O_CLOEXEC),
			  "internal fd %d: flags 0%lo, not close-on-exec", all[i],
			  fdinfo_flags(all[i]));
		out[k++] = all[i];
	}
	return k;
}

/* ------------------------------------------------------------------ */

static void test_close_range(void *arg)
{
	int own[4], in[MAX_FDS], nin, e_io, msix, p[2];
	struct machine m;

	(void)arg;
	snapshot();
	machine_open(&m);
	m.c = high(m.c);
	m.g = high(m.g);
	m.dev = high(m.dev);
	e_io = high(efd_new(0));
	msix = high(efd_new(0));
	CHECK_OK(ioeventfd(m.dev, BAR0 + DT_FILL, FILL_DATA, e_io));
	CHECK_OK(msix_trigger(m.dev, msix));
	/* The program's own, low: the range must close them. */
	TAP_CHECK(!pipe2(p, O_CLOEXEC), "pipe");
	own[0] = p[0];
	own[1] = p[1];
	own[2] = efd_new(0);
	own[3] = open("/dev/null", O_RDONLY);
	TAP_CHECK(own[3] >= 0, "/dev/null");
	nin = internal_fds(own, 4, HIGH, in, MAX_FDS);
	tap_diag("internal descriptors: %d (the first %d)", nin, nin ? in[0] : -1);
	/* Our eventfd references (2), the watcher's epoll and its wake-up eventfd. */
	TAP_CHECK(nin >= 4, "%d internal descriptors", nin);

	CHECK_OK(close_range(3, HIGH - 1, 0));
	for (int i = 0; i < 4; i++)
		CHECK_ERRNO(EBADF, fcntl(own[i], F_GETFD));
	for (int i = 0; i < nin; i++) {
		TAP_CHECK(in_proc(in[i]), "internal %d was closed", in[i]);
		CHECK_ERRNO(EBADF, fcntl(in[i], F_GETFD));
	}
	/* The actions: a signal writes the BAR, a DMA's completion reaches the trigger. */
	wr(m.dev, DT_FILL, 8, 0);
	sig(e_io);
	wait_reg(m.dev, DT_FILL, 8, FILL_DATA);
	dma_copy(&m);
	TAP_CHECK_EQ(wait_take(msix), 1, "the completion on the MSI-X eventfd");
	TAP_CHECK(!memcmp(m.mem + 0x2000, m.mem + 0x100, 0x100), "the COPY moved it");
	/* A new descriptor of the program's takes the lowest free number, as in Linux. */
	own[0] = efd_new(0);
	TAP_CHECK_EQ(own[0], 3, "the first free number");
	close(own[0]);

	/* Bad arguments: EINVAL, nothing closed. */
	CHECK_ERRNO(EINVAL, close_range(5, 4, 0));
	CHECK_ERRNO(EINVAL, close_range(3, HIGH - 1, 0x10));
	for (int i = 0; i < nin; i++)
		TAP_CHECK(in_proc(in[i]), "internal %d was closed", in[i]);

	machine_close(&m);
	close(e_io);
	close(msix);
}

/*
 * closefrom(3) in a forked child (whose stdin and stderr it may take): the
 * device at 0 and an eventfd at 2 are what it spares. Its files are its
 * parent's, reached over a channel whose socket is the library's own: it
 * survives, and the IOEVENTFD the child registers (the owner acts on it)
 * writes the BAR when the child signals. Exit codes say what failed.
 */
static int closefrom_child(struct machine *m)
{
	int p[2], e, own[4], nown = 0;
	uint64_t v = 0, one = 1;

	if (dup2(m->dev, 0) != 0)
		return 30;
	close(m->dev);
	e = eventfd(0, EFD_NONBLOCK);
	if (e < 0 || dup2(e, 2) != 2)
		return 31;
	close(e);
	if (ioeventfd(0, BAR0 + DT_FILL, FILL_DATA, 2))
		return 32;
	if (pipe2(p, O_CLOEXEC))
		return 33;
	own[nown++] = p[0];
	own[nown++] = p[1];
	own[nown++] = m->c;
	own[nown++] = m->g;
	closefrom(3);
	for (int i = 0; i < nown; i++)
		if (fcntl(own[i], F_GETFD) != -1 || errno != EBADF)
			return 34;
	if (pwrite(0, &v, 8, (off_t)(BAR0 + DT_FILL)) != 8)
		return 35;
	if (write(2, &one, sizeof(one)) != sizeof(one))
		return 36;
	for (int i = 0; i < WAIT_MS; i++) {
		if (pread(0, &v, 8, (off_t)(BAR0 + DT_FILL)) != 8)
			return 37;
		if (v == FILL_DATA)
			return 0;
		msleep1();
	}
	return 38;
}

static void test_closefrom(void *arg)
{
	int in[MAX_FDS], nin, status;
	struct machine m;
	pid_t pid;

	(void)arg;
	snapshot();
	machine_open(&m);
	{
		int mine[3] = {m.dev, m.c, m.g};

		nin = internal_fds(mine, 3, HIGH, in, MAX_FDS);
	}
	fflush(stdout);
	pid = fork();
	TAP_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		_exit(closefrom_child(&m));
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "child: status 0x%x", status);
	/* Ours are untouched by the child's closefrom. */
	for (int i = 0; i < nin; i++)
		TAP_CHECK(in_proc(in[i]), "internal %d was closed", in[i]);
	machine_close(&m);
}

/*
 * The mock vIOMMU's mmap region (its memfd is the library's) in a process
 * that close_range(3, ~0U)s: the region maps again afterwards, the same
 * pages as the mapping made before, and the vIOMMU is busy until both are
 * gone. A child forked before anything is open (its files its own) with
 * its iommufd at 0; exit codes say what failed.
 */
static int viommu_child(void)
{
	struct iommu_viommu_selftest data = {.in_data = 0xbeef};
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	struct iommu_test_cmd mock = {.op = IOMMU_TEST_OP_MOCK_DOMAIN};
	uint32_t ioas, parent, *a, *b;
	int fd, in_before, in_after;
	size_t len;
	off_t off;

	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) != 0 || close(fd))
		return 40;
	if (_ioas_alloc(0, &ioas))
		return 41;
	mock.id = ioas;
	if (_test_cmd(0, &mock) ||
	    _hwpt_alloc(0, mock.mock_domain.out_idev_id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
			IOMMU_HWPT_DATA_NONE, NULL, 0, &parent))
		return 42;
	cmd.dev_id = mock.mock_domain.out_idev_id;
	cmd.hwpt_id = parent;
	if (ioctl(0, IOMMU_VIOMMU_ALLOC, &cmd))
		return 43;
	off = (off_t)data.out_mmap_offset;
	len = data.out_mmap_length;
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, 0, off);
	if (a == MAP_FAILED || a[0] != 0xbeef)
		return 44;
	in_before = (int)count_memfds("uiommu:mmap-region");
	if (in_before < 1)
		return 45;
	if (close_range(3, ~0U, 0))
		return 46;
	/* The region's memfd is still there, and still maps. */
	in_after = (int)count_memfds("uiommu:mmap-region");
	if (in_after != in_before)
		return 47;
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, 0, off);
	if (b == MAP_FAILED)
		return 48;
	a[1] = 0x12345678;
	if (b[0] != 0xbeef || b[1] != 0x12345678)
		return 49;
	if (munmap(a, len) || _destroy(0, cmd.out_viommu_id) != -1 || errno != EBUSY)
		return 50;
	if (munmap(b, len) || _destroy(0, cmd.out_viommu_id))
		return 51;
	return close(0) ? 52 : 0;
}

static void test_viommu_mmap(void *arg)
{
	int status;
	pid_t pid;

	(void)arg;
	fflush(stdout);
	pid = fork();
	TAP_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		_exit(viommu_child());
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "child: status 0x%x", status);
}

static void test_cloexec(void *arg)
{
	int own, in[MAX_FDS], nin, e_io, dev_low;
	struct machine m;

	(void)arg;
	snapshot();
	machine_open(&m);
	e_io = efd_new(0);
	CHECK_OK(ioeventfd(m.dev, BAR0 + DT_FILL, FILL_DATA, e_io));
	own = open("/dev/null", O_RDONLY); /* without O_CLOEXEC */
	TAP_CHECK(own >= 0, "/dev/null");
	dev_low = dup(m.dev); /* without O_CLOEXEC too */
	TAP_CHECK(dev_low >= 0, "dup: %s", strerror(errno));
	{
		int mine[6] = {own, dev_low, m.dev, m.c, m.g, e_io};

		nin = internal_fds(mine, 6, HIGH, in, MAX_FDS);
	}
	TAP_CHECK(nin >= 3, "%d internal descriptors", nin);
	CHECK_OK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC));
	TAP_CHECK_EQ(fcntl(own, F_GETFD), FD_CLOEXEC, "own descriptor close-on-exec");
	TAP_CHECK_EQ(fcntl(dev_low, F_GETFD), FD_CLOEXEC, "emulated descriptor close-on-exec");
	/* Still the device's: a register through it. */
	wr(dev_low, DT_FILL, 8, 0);
	sig(e_io);
	wait_reg(dev_low, DT_FILL, 8, FILL_DATA);
	for (int i = 0; i < nin; i++)
		TAP_CHECK(in_proc(in[i]) && (fdinfo_flags(in[i]) & O_CLOEXEC), "internal %d",
			  in[i]);
	close(own);
	close(dev_low);
	close(e_io);
	machine_close(&m);
}

/* Wait (bounded) until @n descriptors are open. */
static void wait_fds(int n)
{
	int all[MAX_FDS];

	for (int i = 0; i < WAIT_MS && open_fds(all, MAX_FDS) != n; i++)
		msleep1();
	TAP_CHECK_EQ(open_fds(all, MAX_FDS), n, "descriptors");
}

static void test_dup_onto(void *arg)
{
	int all[MAX_FDS], in[MAX_FDS], nin, e_io, p[2], base;
	struct machine m;
	char c = 0;

	(void)arg;
	snapshot();
	base = open_fds(all, MAX_FDS);
	machine_open(&m);
	e_io = efd_new(0);
	TAP_CHECK(!pipe2(p, O_CLOEXEC), "pipe");
	CHECK_OK(ioeventfd(m.dev, BAR0 + DT_FILL, FILL_DATA, e_io));
	{
		int mine[6] = {m.dev, m.c, m.g, e_io, p[0], p[1]};

		nin = internal_fds(mine, 6, HIGH, in, MAX_FDS);
	}
	TAP_CHECK(nin >= 3, "%d internal descriptors", nin);
	/* To the program a free number: close, dup, dup2 from, F_DUPFD of it are EBADF. */
	for (int i = 0; i < nin; i++) {
		CHECK_ERRNO(EBADF, close(in[i]));
		CHECK_ERRNO(EBADF, dup(in[i]));
		CHECK_ERRNO(EBADF, dup2(in[i], p[1]));
		CHECK_ERRNO(EBADF, dup3(in[i], HIGH, 0));
		CHECK_ERRNO(EBADF, fcntl(in[i], F_DUPFD_CLOEXEC, 0));
		TAP_CHECK(in_proc(in[i]), "internal %d was closed", in[i]);
	}
	/* dup2 onto every one, dup3 (O_CLOEXEC) onto the last: the numbers are the program's. */
	for (int i = 0; i < nin; i++) {
		int want = i + 1 < nin ? 0 : FD_CLOEXEC;

		if (want)
			TAP_CHECK_EQ(dup3(p[1], in[i], O_CLOEXEC), in[i], "dup3 onto %d", in[i]);
		else
			TAP_CHECK_EQ(dup2(p[1], in[i]), in[i], "dup2 onto %d", in[i]);
		TAP_CHECK_EQ(fcntl(in[i], F_GETFD), want, "F_GETFD of %d", in[i]);
		TAP_CHECK(write(in[i], "x", 1) == 1, "write through %d: %s", in[i],
			  strerror(errno));
		TAP_CHECK(read(p[0], &c, 1) == 1 && c == 'x', "the pipe's byte");
	}
	/* Ours moved, and go on: a signal writes the BAR (the watcher's epoll moved too). */
	wr(m.dev, DT_FILL, 8, 0);
	sig(e_io);
	wait_reg(m.dev, DT_FILL, 8, FILL_DATA);
	/* The program closes its numbers; ours (moved) go on. */
	for (int i = 0; i < nin; i++) {
		CHECK_OK(close(in[i]));
		CHECK_ERRNO(EBADF, fcntl(in[i], F_GETFD));
	}
	wr(m.dev, DT_FILL, 8, 0);
	sig(e_io);
	wait_reg(m.dev, DT_FILL, 8, FILL_DATA);
	/* Removed through its moved reference (the watcher's epoll set knows the new number). */
	CHECK_OK(ioeventfd(m.dev, BAR0 + DT_FILL, FILL_DATA, -1));
	CHECK_ERRNO(ENODEV, ioeventfd(m.dev, BAR0 + DT_FILL, FILL_DATA, -1));
	/* The device's last close ends the rest: nothing of ours is left behind. */
	machine_close(&m);
	close(e_io);
	close(p[0]);
	close(p[1]);
	wait_no_watcher();
	wait_fds(base);
}

/* dup2 onto an internal number with each allocation failing: ENOMEM, nothing changed. */
static void test_dup_failnth(void *arg)
{
	int in[MAX_FDS], nin, e_io, p[2], ff, failures = 0;
	struct machine m;
	char path[64];

	(void)arg;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	ff = open(path, O_RDWR | O_CLOEXEC);
	TAP_CHECK(ff >= 0, "%s: %s", path, strerror(errno));
	machine_open(&m);
	e_io = efd_new(0);
	TAP_CHECK(!pipe2(p, O_CLOEXEC), "pipe");
	CHECK_OK(ioeventfd(m.dev, BAR0 + DT_FILL, FILL_DATA, e_io));
	{
		int mine[7] = {m.dev, m.c, m.g, e_io, p[0], p[1], ff};

		nin = internal_fds(mine, 7, HIGH, in, MAX_FDS);
	}
	TAP_CHECK(nin >= 1, "no internal descriptor");
	for (unsigned int n = 1; n < 50; n++) {
		int rc, err;
		long left;

		fail_nth_arm(ff, n);
		rc = dup2(p[1], in[0]);
		err = errno;
		left = fail_nth_left(ff);
		fail_nth_arm(ff, 0);
		if (rc == in[0] && left)
			break;
		TAP_CHECK(rc == -1 && err == ENOMEM, "N=%u: rc %d errno %d", n, rc,
			  rc < 0 ? err : 0);
		failures++;
		/* Nothing changed: still ours, and acting. */
		CHECK_ERRNO(EBADF, fcntl(in[0], F_GETFD));
		wr(m.dev, DT_FILL, 8, 0);
		sig(e_io);
		wait_reg(m.dev, DT_FILL, 8, FILL_DATA);
	}
	tap_diag("allocation points of dup2 onto an internal number: %d", failures);
	TAP_CHECK(failures >= 1, "no allocation point");
	TAP_CHECK_EQ(fcntl(in[0], F_GETFD), 0, "the program's now");
	wr(m.dev, DT_FILL, 8, 0);
	sig(e_io);
	wait_reg(m.dev, DT_FILL, 8, FILL_DATA);
	close(in[0]);
	close(ff);
	machine_close(&m);
	close(e_io);
	close(p[0]);
	close(p[1]);
}

/* ------------------------------------------------------------------ */
/* Threads                                                            */

struct racer {
	struct machine *m;
	int efd, msix;
	atomic_int stop;
	int rounds;
};

/* Actions made and ended: internal descriptors come and go. */
static void *adder(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < r->rounds; i++) {
		(void)ioeventfd(r->m->dev, BAR0 + DT_DST, (uint64_t)i, r->efd);
		(void)msix_trigger(r->m->dev, i & 1 ? r->msix : -1);
		(void)ioeventfd(r->m->dev, BAR0 + DT_DST, (uint64_t)i, -1);
	}
	atomic_store(&r->stop, 1);
	return NULL;
}

/* The program's own low descriptors, made and closed by range. */
static void *ranger(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(&r->stop)) {
		int p[2];

		if (pipe2(p, O_CLOEXEC))
			continue;
		(void)close_range(3, HIGH - 1, 0);
	}
	return NULL;
}

/* Blind dup2()s onto the numbers where internal descriptors live. */
static void *duper(void *arg)
{
	struct racer *r = arg;
	int n = 0;

	while (!atomic_load(&r->stop)) {
		int fd = 512 + (n++ % 8);

		if (dup2(r->efd, fd) == fd)
			(void)close(fd);
	}
	return NULL;
}

static void test_threads(void *arg)
{
	struct racer r = {.rounds = 300};
	pthread_t t[3];
	struct machine m;
	int e_io;

	(void)arg;
	machine_open(&m);
	m.c = high(m.c);
	m.g = high(m.g);
	m.dev = high(m.dev);
	e_io = high(efd_new(0));
	r.m = &m;
	r.efd = high(efd_new(0));
	r.msix = high(efd_new(0));
	CHECK_OK(ioeventfd(m.dev, BAR0 + DT_FILL, FILL_DATA, e_io));
	TAP_CHECK(!pthread_create(&t[0], NULL, adder, &r), "thread");
	TAP_CHECK(!pthread_create(&t[1], NULL, ranger, &r), "thread");
	TAP_CHECK(!pthread_create(&t[2], NULL, duper, &r), "thread");
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	/* The action made before it all still acts. */
	wr(m.dev, DT_FILL, 8, 0);
	sig(e_io);
	wait_reg(m.dev, DT_FILL, 8, FILL_DATA);
	machine_close(&m);
	close(e_io);
	close(r.efd);
	close(r.msix);
}

/* ------------------------------------------------------------------ */
/* daemon(), _Fork(), vfork()                                         */

/* What the daemon's child says over the pipe. */
struct daemon_report {
	int ioas_rc, ioas_errno;
	uint32_t ioas_id;
	int setsid_ok, cwd_root, stdio_null;
	int cwd_same, stdio_same; /* daemon(1, 1): neither changed */
	uint64_t fill;		  /* BAR0 FILL after its signal */
	int done;
};

static bool is_devnull(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

/* @fd is still the file @before was. */
static bool same_file(int fd, const struct stat *before)
{
	struct stat st;

	return !fstat(fd, &st) && st.st_dev == before->st_dev && st.st_ino == before->st_ino;
}

/*
 * Fork a runner that writes its report into a pipe: the pid (0 in the
 * child); *@fd the pipe's write end in the child, its read end here.
 */
static pid_t report_fork(int *fd)
{
	int p[2];
	pid_t pid;

	TAP_CHECK(!pipe2(p, O_CLOEXEC), "pipe");
	fflush(stdout);
	pid = fork();
	TAP_CHECK(pid >= 0, "fork: %s", strerror(errno));
	close(p[pid ? 1 : 0]);
	*fd = p[pid ? 0 : 1];
	return pid;
}

/* Reap the runner @pid (its wait status in *@status) and read its report: the bytes read. */
static ssize_t report_wait(pid_t pid, int fd, void *r, size_t size, int *status)
{
	ssize_t n;

	TAP_CHECK_EQ(waitpid(pid, status, 0), pid, "waitpid");
	n = read(fd, r, size);
	close(fd);
	return n;
}

/*
 * In a runner (a forked child, which reports by its exit status):
 * /dev/iommu in *@iommufd, the container, group 1 and the device with
 * Memory Space on in *@m, and an ioeventfd on FILL signalling *@e_io.
 * 0, or the step that failed (1 to 4).
 */
static int runner_machine(struct machine *m, int *iommufd, int *e_io)
{
	const uint16_t cmd = PCI_COMMAND_MEMORY;

	*iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (*iommufd < 0)
		return 1;
	m->c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	m->g = open("/dev/vfio/1", O_RDWR | O_CLOEXEC);
	if (m->c < 0 || m->g < 0 || ioctl(m->g, VFIO_GROUP_SET_CONTAINER, &m->c) ||
	    ioctl(m->c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 2;
	m->dev = ioctl(m->g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	*e_io = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->dev < 0 || *e_io < 0 || ioeventfd(m->dev, BAR0 + DT_FILL, FILL_DATA, *e_io))
		return 3;
	if (pwrite(m->dev, &cmd, 2, (off_t)(REGION(VFIO_PCI_CONFIG_REGION_INDEX) + PCI_COMMAND)) !=
	    2)
		return 4;
	return 0;
}

/* The runner: opens what the daemon will use, calls daemon(); the daemon reports. */
static void daemon_runner(int wfd, bool keep)
{
	struct daemon_report r = {0};
	char cwd[8] = {0}, cwd0[512] = {0}, cwd1[512] = {0};
	struct stat stdio[3];
	struct machine m;
	uint64_t one = 1;
	int iommufd, e_io, rc;

	for (int i = 0; i < 3; i++)
		if (fstat(i, &stdio[i]))
			_exit(16);
	if (!getcwd(cwd0, sizeof(cwd0)))
		_exit(17);

	rc = runner_machine(&m, &iommufd, &e_io);
	if (rc)
		_exit(9 + rc); /* 10 to 13 */
	if (daemon(keep, keep))
		_exit(14);
	/* The daemon: its own session, in /, stdio on /dev/null. */
	r.setsid_ok = getsid(0) == getpid();
	r.cwd_root = getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/");
	r.stdio_null = is_devnull(0) && is_devnull(1) && is_devnull(2);
	r.cwd_same = getcwd(cwd1, sizeof(cwd1)) && !strcmp(cwd0, cwd1);
	r.stdio_same =
		same_file(0, &stdio[0]) && same_file(1, &stdio[1]) && same_file(2, &stdio[2]);
	r.ioas_rc = _ioas_alloc(iommufd, &r.ioas_id);
	r.ioas_errno = r.ioas_rc ? errno : 0;
	if (write(e_io, &one, sizeof(one)) == sizeof(one)) {
		for (int i = 0; i < WAIT_MS; i++) {
			if (pread(m.dev, &r.fill, 8, (off_t)(BAR0 + DT_FILL)) == 8 &&
			    r.fill == FILL_DATA)
				break;
			msleep1();
		}
	}
	r.done = 1;
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(15);
	close(m.dev);
	close(m.g);
	close(m.c);
	close(iommufd);
	_exit(0);
}

static void test_daemon(void *arg)
{
	bool keep = arg != NULL;
	struct daemon_report r = {0};
	int fd, status;
	pid_t pid;
	ssize_t n;

	pid = report_fork(&fd);
	if (!pid)
		daemon_runner(fd, keep);
	n = report_wait(pid, fd, &r, sizeof(r), &status);
	TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "daemon's parent: status 0x%x",
		  status);
	TAP_CHECK_EQ(n, sizeof(r), "the daemon's report");
	TAP_CHECK(r.done && r.setsid_ok, "session %d", r.setsid_ok);
	if (keep)
		TAP_CHECK(r.cwd_same && r.stdio_same,
			  "nochdir: cwd kept %d, noclose: stdio kept %d", r.cwd_same, r.stdio_same);
	else
		TAP_CHECK(r.cwd_root && r.stdio_null, "cwd / %d, stdio /dev/null %d", r.cwd_root,
			  r.stdio_null);
	TAP_CHECK(!r.ioas_rc && r.ioas_id, "IOAS_ALLOC in the daemon: rc %d errno %d (%s)",
		  r.ioas_rc, r.ioas_errno, strerror(r.ioas_errno));
	TAP_CHECK_EQ(r.fill, FILL_DATA, "the daemon's ioeventfd wrote the BAR");
}

static void test_daemon_keep(void *arg)
{
	(void)arg;
	test_daemon((void *)1);
}

/*
 * daemon() in a process with a child of its own (forked with the files
 * open): the child's calls on the files it inherited were served by the
 * runner's server thread, and go on while the runner forks the daemon
 * (none fails); the daemon takes the channel over, so they act
 * on the same context (the IOAS the child makes is one the daemon then
 * sees and destroys), and the child's exit is served by the daemon.
 */
struct daemon_child_report {
	int c_rc, c_errno;
	uint32_t c_id;
	int ranges_rc, destroy_rc, d_rc;
	uint32_t d_id;
	uint32_t first;			/* the runner's IOAS, made before the fork */
	unsigned int loops, loop_fails; /* the child's calls while the runner became the daemon */
	int c_exit_rc;
	int done;
};

/*
 * The runner's child: makes and destroys IOASes while its parent turns
 * into the daemon (every call answered, by the runner or the daemon), then
 * makes one and reports it, and exits when told.
 */
static int daemon_child_main(int fd, int go, int report)
{
	struct daemon_child_report r = {0};
	char x;

	while (poll_now(go, POLLIN) != POLLIN) {
		uint32_t id;

		if (_ioas_alloc(fd, &id) || _destroy(fd, id)) {
			r.c_errno = errno;
			r.loop_fails++;
		}
		/* Under way: the runner may fork the daemon now. */
		if (++r.loops == 50 && write(report, "s", 1) != 1)
			return 64;
	}
	if (read(go, &x, 1) != 1)
		return 60;
	r.c_rc = _ioas_alloc(fd, &r.c_id);
	r.c_errno = r.c_rc ? errno : 0;
	if (write(report, &r, sizeof(r)) != sizeof(r))
		return 61;
	if (read(go, &x, 1) != 1)
		return 62;
	/* Its exit: the daemon drops what the channel holds (uiommu_process_exit()). */
	return close(fd) ? 63 : 0;
}

static void daemon_children_runner(int wfd)
{
	struct daemon_child_report r = {0}, c;
	int fd, go[2], back[2];
	pid_t child;
	uint32_t first;

	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0 || _ioas_alloc(fd, &first))
		_exit(70);
	if (pipe2(go, O_CLOEXEC) || pipe2(back, O_CLOEXEC))
		_exit(71);
	child = fork();
	if (child < 0)
		_exit(72);
	if (!child) {
		close(go[1]);
		close(back[0]);
		close(wfd);
		_exit(daemon_child_main(fd, go[0], back[1]));
	}
	close(go[0]);
	close(back[1]);
	/* The child's calls under way (they go on while the daemon is forked). */
	if (read(back[0], &c, 1) != 1)
		_exit(78);
	if (daemon(0, 0))
		_exit(73);
	/* The daemon: the child's calls are ours to serve now. */
	if (write(go[1], "g", 1) != 1 || read(back[0], &c, sizeof(c)) != sizeof(c))
		_exit(74);
	r.first = first;
	r.loops = c.loops;
	r.loop_fails = c.loop_fails;
	r.c_rc = c.c_rc;
	r.c_errno = c.c_errno;
	r.c_id = c.c_id;
	/* The same context: the child's IOAS is here, and goes. */
	r.ranges_rc = r.c_id ? _ioas_ranges(fd, r.c_id) : -2;
	r.destroy_rc = r.c_id ? _destroy(fd, r.c_id) : -2;
	r.d_rc = _ioas_alloc(fd, &r.d_id);
	/* The child exits; its channel's end tells us (EOF on the pipe after its exit work). */
	if (write(go[1], "x", 1) != 1)
		_exit(75);
	r.c_exit_rc = read(back[0], &c, 1) == 0 ? 0 : -1;
	r.done = 1;
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(76);
	_exit(close(fd) ? 77 : 0);
}

static void test_daemon_children(void *arg)
{
	struct daemon_child_report r = {0};
	int fd, status;
	pid_t pid;
	ssize_t n;

	(void)arg;
	pid = report_fork(&fd);
	if (!pid)
		daemon_children_runner(fd);
	n = report_wait(pid, fd, &r, sizeof(r), &status);
	TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "daemon's parent: status 0x%x",
		  status);
	TAP_CHECK_EQ(n, sizeof(r), "the daemon's report");
	TAP_CHECK(r.done, "done");
	tap_diag("the child's calls around the daemon's fork: %u", r.loops);
	TAP_CHECK_EQ(r.loop_fails, 0, "of the child's calls around the fork failed (errno %d)",
		     r.c_errno);
	TAP_CHECK(!r.c_rc && r.c_id, "the child's IOAS_ALLOC, served by the daemon: rc %d (%s)",
		  r.c_rc, strerror(r.c_errno));
	/* Made in the runner's context (a new one would start again at the first ID). */
	TAP_CHECK(r.c_id != r.first, "the child's IOAS %u, the runner's %u", r.c_id, r.first);
	CHECK_OK(r.ranges_rc);
	CHECK_OK(r.destroy_rc);
	TAP_CHECK(!r.d_rc && r.d_id, "the daemon's IOAS_ALLOC: rc %d id %u", r.d_rc, r.d_id);
	CHECK_OK(r.c_exit_rc);
}

/*
 * daemon() under fail-nth: the caller arms its countdown at N and calls
 * daemon(); the countdown goes on in the daemon (the caller carrying on)
 * through the takeover. Either daemon() fails (-1, ENOMEM or EAGAIN, the
 * armed failure): in the caller, which keeps everything working, or in
 * the daemon, whose takeover lacked a thread (what it would serve stops,
 * its own calls work); or it succeeds and the daemon has all of it: its
 * own calls, its ioeventfd's action (the watcher thread) and its child's
 * calls (the server thread).
 */
struct daemon_nth_report {
	int in_daemon; /* the report is the daemon's (else the runner's: daemon() failed there) */
	int rc, err;   /* daemon()'s */
	long left;     /* the countdown after it */
	int ioas_rc, ioas_err;
	uint64_t fill;
	int c_rc, c_err; /* the child's IOAS_ALLOC */
	int done;
};

static void daemon_nth_runner(int wfd, unsigned int nth)
{
	struct daemon_nth_report r = {0};
	int go[2], back[2], ff, e_io, iommufd, cres[2], rc;
	pid_t runner = getpid(), child;
	struct machine m;
	uint64_t one = 1;
	uint32_t id;
	char buf[16];
	ssize_t n;

	rc = runner_machine(&m, &iommufd, &e_io);
	if (rc)
		_exit(89 + rc); /* 90 to 93 */
	if (pipe2(go, O_CLOEXEC) || pipe2(back, O_CLOEXEC))
		_exit(83);
	child = fork();
	if (child < 0)
		_exit(84);
	if (!child) {
		char x;

		close(go[1]);
		close(back[0]);
		close(wfd);
		if (read(go[0], &x, 1) != 1)
			_exit(0);
		cres[0] = _ioas_alloc(iommufd, &id);
		cres[1] = cres[0] ? errno : 0;
		_exit(write(back[1], cres, sizeof(cres)) == sizeof(cres) ? 0 : 90);
	}
	close(go[0]);
	close(back[1]);
	ff = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (ff < 0)
		_exit(85);
	n = snprintf(buf, sizeof(buf), "%u", nth);
	if (pwrite(ff, buf, (size_t)n, 0) != n)
		_exit(86);
	r.rc = daemon(0, 0);
	r.err = r.rc ? errno : 0;
	memset(buf, 0, sizeof(buf));
	r.left = pread(ff, buf, sizeof(buf) - 1, 0) > 0 ? strtol(buf, NULL, 10) : -1;
	if (pwrite(ff, "0", 1, 0) != 1)
		_exit(87);
	r.in_daemon = getpid() != runner;
	/* Whoever has the files: all of it works (a daemon without its threads: its own calls). */
	r.ioas_rc = _ioas_alloc(iommufd, &id);
	r.ioas_err = r.ioas_rc ? errno : 0;
	if (r.rc && r.in_daemon) {
		r.done = 1;
		_exit(write(wfd, &r, sizeof(r)) == sizeof(r) ? 0 : 88);
	}
	wr(m.dev, DT_FILL, 8, 0);
	if (write(e_io, &one, sizeof(one)) == sizeof(one)) {
		for (int i = 0; i < WAIT_MS; i++) {
			if (pread(m.dev, &r.fill, 8, (off_t)(BAR0 + DT_FILL)) == 8 &&
			    r.fill == FILL_DATA)
				break;
			msleep1();
		}
	}
	if (write(go[1], "g", 1) != 1 || read(back[0], cres, sizeof(cres)) != sizeof(cres)) {
		r.c_rc = -2;
	} else {
		r.c_rc = cres[0];
		r.c_err = cres[1];
	}
	r.done = 1;
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(88);
	close(ff);
	close(m.dev);
	close(m.g);
	close(m.c);
	close(iommufd);
	_exit(0);
}

static void test_daemon_failnth(void *arg)
{
	unsigned int failures = 0, nth;

	(void)arg;
	for (nth = 1; nth < 64; nth++) {
		struct daemon_nth_report r = {0};
		int fd, status;
		pid_t pid;
		ssize_t n;

		pid = report_fork(&fd);
		if (!pid)
			daemon_nth_runner(fd, nth);
		n = report_wait(pid, fd, &r, sizeof(r), &status);
		TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "N=%u: runner status 0x%x",
			  nth, status);
		TAP_CHECK(n == sizeof(r) && r.done, "N=%u: the report (%zd bytes)", nth, n);
		if (r.rc) {
			TAP_CHECK(r.rc == -1 && (r.err == ENOMEM || r.err == EAGAIN),
				  "N=%u: daemon() rc %d errno %d", nth, r.rc, r.err);
			TAP_CHECK_EQ(r.left, 0, "N=%u: a failure that was not the armed one", nth);
			failures++;
		}
		TAP_CHECK(!r.ioas_rc, "N=%u (%s): IOAS_ALLOC: %s", nth,
			  r.in_daemon ? "daemon" : "runner", strerror(r.ioas_err));
		/*
		 * A daemon whose takeover could not have a thread: what that thread
		 * served has stopped, as in a process that exited; its own calls work.
		 */
		if (r.rc && r.in_daemon)
			continue;
		TAP_CHECK_EQ(r.fill, FILL_DATA, "N=%u (%s): the ioeventfd wrote the BAR", nth,
			     r.in_daemon ? "daemon" : "runner");
		TAP_CHECK(!r.c_rc, "N=%u (%s): the child's IOAS_ALLOC: rc %d (%s)", nth,
			  r.in_daemon ? "daemon" : "runner", r.c_rc, strerror(r.c_err));
		if (r.left)
			break;
	}
	tap_diag("allocation points of daemon(): %u, of which %u made it fail", nth - 1, failures);
	TAP_CHECK(nth < 64, "the countdown was never left over");
}

static void test_fork_raw(void *arg)
{
	int fd, status;
	uint32_t id;
	pid_t pid;

	(void)arg;
	/* No emulated file: the child is an ordinary process of the shim's. */
	fflush(stdout);
	pid = _Fork();
	TAP_CHECK(pid >= 0, "_Fork: %s", strerror(errno));
	if (!pid) {
		uint32_t cid = 0;
		int cfd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

		_exit(cfd >= 0 && !_ioas_alloc(cfd, &cid) && cid ? 0 : 20);
	}
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "child without files: status 0x%x",
		  status);

	/* With one: the child does not know the library; its ioctl reaches the memfd. */
	fd = iommufd_open();
	id = ioas_alloc(fd);
	fflush(stdout);
	pid = _Fork();
	TAP_CHECK(pid >= 0, "_Fork: %s", strerror(errno));
	if (!pid) {
		uint32_t cid = 0;
		int rc = _ioas_alloc(fd, &cid), err = errno;

		if (rc != -1 || err != ENOTTY)
			_exit(21);
		/* Its close is libc's: the number goes, the parent's file stays. */
		_exit(close(fd) ? 23 : 0);
	}
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "stale child: status 0x%x", status);
	CHECK_OK(_ioas_ranges(fd, id));
	TAP_CHECK(ioas_alloc(fd) != id, "the parent's context goes on");
	close(fd);
}

static void test_vfork(void *arg)
{
	int in[MAX_FDS], nin, e_io, fd, dup_fd, status;
	struct machine m;
	uint32_t id;
	pid_t pid;

	(void)arg;
	snapshot();
	machine_open(&m);
	e_io = efd_new(0);
	CHECK_OK(ioeventfd(m.dev, BAR0 + DT_FILL, FILL_DATA, e_io));
	fd = iommufd_open();
	id = ioas_alloc(fd);
	dup_fd = dup(fd);
	TAP_CHECK(dup_fd >= 0, "dup");
	{
		int mine[6] = {m.dev, m.c, m.g, e_io, fd, dup_fd};

		nin = internal_fds(mine, 6, HIGH, in, MAX_FDS);
	}
	TAP_CHECK(nin >= 3, "%d internal descriptors", nin);
	fflush(stdout);
	pid = vfork();
	if (!pid) {
		/* Its own table: what it closes and dups there is gone there only. */
		(void)dup2(e_io, in[0]);
		(void)dup2(e_io, fd);
		(void)close(dup_fd);
		(void)close_range(3, ~0U, 0);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "vfork: %s", strerror(errno));
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "vfork child: status 0x%x", status);
	/* Ours: every number as it was. */
	CHECK_OK(_ioas_ranges(fd, id));
	CHECK_OK(_ioas_ranges(dup_fd, id));
	for (int i = 0; i < nin; i++)
		CHECK_ERRNO(EBADF, fcntl(in[i], F_GETFD));
	wr(m.dev, DT_FILL, 8, 0);
	sig(e_io);
	wait_reg(m.dev, DT_FILL, 8, FILL_DATA);
	close(dup_fd);
	close(fd);
	close(e_io);
	machine_close(&m);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"_Fork: a child of a process with files does not use them; without, it may open",
		 test_fork_raw},
		{"close_range(3, N): the program's closed, the library's kept, the actions go on",
		 test_close_range},
		{"closefrom(3) in a forked child: likewise, its channel to the owner kept",
		 test_closefrom},
		{"close_range(3, ~0U): the mock vIOMMU's region memfd kept, the region maps again",
		 test_viommu_mmap},
		{"CLOSE_RANGE_CLOEXEC: the program's close-on-exec, the library's already",
		 test_cloexec},
		{"close/dup/fcntl of an internal number: EBADF; dup2/dup3 onto one: the program's",
		 test_dup_onto},
		{"fail-nth: dup2 onto an internal number, ENOMEM, nothing changed",
		 test_dup_failnth},
		{"daemon(0, 0): the child keeps /dev/iommu and an ioeventfd working", test_daemon},
		{"daemon(1, 1): likewise, in the same directory with the same stdio",
		 test_daemon_keep},
		{"daemon() with a child of its own: the daemon serves the child's calls",
		 test_daemon_children},
		{"daemon() under fail-nth: it fails cleanly, or the daemon has it all",
		 test_daemon_failnth},
		{"vfork(): the child's closes and dups are its own", test_vfork},
		{"threads: close_range and blind dup2 racing actions made and ended", test_threads},
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
