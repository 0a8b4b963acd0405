// SPDX-License-Identifier: MIT
/*
 * The preload shim's fork() under fail-nth: the handover of emulated files
 * to a child (lib/uiommu_remote.c, util/forkgate.c) fails the way fork(2)
 * fails, or not at all.
 *
 * In Linux every allocation of a fork is copy_process()'s, made by the
 * forking task, so a fail-nth armed before fork() makes the fork fail with
 * ENOMEM at the N-th of them. Here a fork's work is the parent's prepare
 * (the files held for the child, its channel, the server thread, a
 * grandchild's channels asked of the owner) and the child's adoption (the
 * fork gate's child hooks), which counts on where the forking thread's
 * countdown stood and then reads 0, as copy_process() clears the new
 * task's fail_nth. The sweep arms N = 1, 2, ... before fork():
 *   - N within the parent's prepare: fork() returns -1 with ENOMEM, the
 *     countdown has fired, no child exists, the parent's fds are what they
 *     were, and the parent still works;
 *   - N past it (the first few: the child's adoption, then nothing): the
 *     fork succeeds and both sides fully work, the child's fail-nth reads 0.
 * "Works": an IOAS map + unmap on the inherited iommufd with a mock domain
 * (so the pages are pinned), and a DMA of the dmatest device behind the
 * inherited VFIO container, its bytes checked in memory. The same sweep
 * runs in a child that forks a grandchild (its remote files are handed on
 * by asking the owner). At the end, with every fd closed and every child
 * gone, the VFIO group opens again: nothing a failed fork made holds it.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "shim_utils.h"

#define BUF_SIZE    (8 * SHIM_PAGE)
#define VFIO_IOVA   0x1000000ULL
#define MEM_SIZE    (64u * 1024)
/* N past the first that forks: the child's adoption gets countdowns 1 .. EXTRA. */
#define EXTRA	    4

struct world {
	int iommufd, container, group, dev;
	uint32_t ioas;
	uint64_t bar0;
	uint8_t *buf; /* MAP_SHARED: pinned for either side */
	uint8_t *mem; /* MAP_SHARED: the device's DMA target */
};

static struct world w;

static int failnth_fd(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", (int)syscall(SYS_gettid));
	return open(path, O_RDWR | O_CLOEXEC);
}

static int failnth_set(int fd, unsigned long n)
{
	char s[24];
	int len = snprintf(s, sizeof(s), "%lu", n);

	return pwrite(fd, s, (size_t)len, 0) == len ? 0 : -1;
}

static long failnth_get(int fd)
{
	char buf[24] = {0};

	return pread(fd, buf, sizeof(buf) - 1, 0) > 0 ? strtol(buf, NULL, 10) : -1;
}

/*
 * One side's work: IOAS map + unmap of the shared buffer (pinned by the
 * mock domain), and a dmatest DMA that writes @pattern from the device's
 * buffer to @slot of the shared memory. 0, or the step that failed.
 */
static int works(uint8_t pattern, unsigned int slot)
{
	uint8_t bytes[64];
	uint64_t iova, v;
	off_t at = (off_t)(slot * sizeof(bytes));

	if (_ioas_map(w.iommufd, w.ioas, w.buf, BUF_SIZE, &iova))
		return 1;
	if (_ioas_unmap(w.iommufd, w.ioas, iova, BUF_SIZE))
		return 2;
	memset(bytes, pattern, sizeof(bytes));
	memset(w.mem + at, 0, sizeof(bytes));
	if (pwrite(w.dev, bytes, sizeof(bytes), (off_t)(w.bar0 + DT_BUF)) != sizeof(bytes))
		return 3;
	v = VFIO_IOVA + (uint64_t)at;
	if (pwrite(w.dev, &v, 8, (off_t)(w.bar0 + DT_DST)) != 8)
		return 4;
	v = sizeof(bytes);
	if (pwrite(w.dev, &v, 4, (off_t)(w.bar0 + DT_LEN)) != 4)
		return 4;
	v = OP_WRITE;
	if (pwrite(w.dev, &v, 4, (off_t)(w.bar0 + DT_OP)) != 4)
		return 4;
	v = 1;
	if (pwrite(w.dev, &v, 4, (off_t)(w.bar0 + DT_GO)) != 4)
		return 4;
	v = 0;
	if (pread(w.dev, &v, 4, (off_t)(w.bar0 + DT_STATUS)) != 4 || v != ST_DONE)
		return 5;
	for (unsigned int i = 0; i < sizeof(bytes); i++)
		if (w.mem[at + i] != pattern)
			return 6;
	return 0;
}

static void world_open(void)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};
	struct vfio_region_info bar0 = {.argsz = sizeof(bar0), .index = VFIO_PCI_BAR0_REGION_INDEX};
	struct vfio_region_info cfg = {.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX};
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	w.buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	w.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(w.buf != MAP_FAILED && w.mem != MAP_FAILED, "mmap");
	w.iommufd = iommufd_open();
	w.ioas = ioas_alloc(w.iommufd);
	(void)mock_domain(w.iommufd, w.ioas);
	w.container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	w.group = open("/dev/vfio/1", O_RDWR | O_CLOEXEC);
	TAP_CHECK(w.container >= 0 && w.group >= 0, "container, group: %s", strerror(errno));
	CHECK_OK(ioctl(w.group, VFIO_GROUP_SET_CONTAINER, &w.container));
	CHECK_OK(ioctl(w.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)w.mem;
	map.iova = VFIO_IOVA;
	map.size = MEM_SIZE;
	CHECK_OK(ioctl(w.container, VFIO_IOMMU_MAP_DMA, &map));
	w.dev = ioctl(w.group, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(w.dev >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	CHECK_OK(ioctl(w.dev, VFIO_DEVICE_GET_REGION_INFO, &bar0));
	CHECK_OK(ioctl(w.dev, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	TAP_CHECK(pwrite(w.dev, &cmd, 2, (off_t)cfg.offset + PCI_COMMAND) == 2, "bus master");
	w.bar0 = bar0.offset;
}

static void world_close(void)
{
	CHECK_OK(close(w.dev));
	CHECK_OK(close(w.group));
	CHECK_OK(close(w.container));
	CHECK_OK(close(w.iommufd));
	munmap(w.buf, BUF_SIZE);
	munmap(w.mem, MEM_SIZE);
}

/* A child's (or grandchild's) status: 0 when its side works, else the step. */
static int child_side(int slot)
{
	int fd = failnth_fd(), rc;

	/* The fork's work here is done: the countdown is cleared, as copy_process() clears it. */
	if (fd < 0 || failnth_get(fd) != 0)
		return 20;
	close(fd);
	rc = works(0x80 + (uint8_t)slot, (unsigned int)slot);
	return rc ? 20 + rc : 0;
}

/*
 * The sweep from this process: fork() with N armed until N is EXTRA past
 * the first that succeeds. 0, or a step number (a child's status + 100).
 * *first: that first N. Runs in the test process and in a child.
 */
static int sweep(int slot, unsigned long *first)
{
	int fd = failnth_fd(), before, st, rc;
	unsigned long n;
	pid_t pid0;

	*first = 0;
	if (fd < 0)
		return 1;
	/* One fork first: the server thread's descriptor is there from then on. */
	pid0 = fork();
	if (!pid0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(child_side(slot + 1));
	}
	if (pid0 < 0 || waitpid(pid0, &st, 0) != pid0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	before = count_fds();
	for (n = 1; n < 200 && (!*first || n <= *first + EXTRA); n++) {
		long left;
		pid_t pid;
		int err;

		if (failnth_set(fd, n))
			return 2;
		pid = fork();
		if (!pid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(child_side(slot + 1));
		}
		err = errno;
		left = failnth_get(fd);
		if (failnth_set(fd, 0))
			return 3;
		if (pid < 0) {
			/* Within the prepare: fork(2)'s ENOMEM, and nothing happened. */
			if (*first || err != ENOMEM)
				return 4;
			if (left != 0)
				return 5;
		} else {
			if (!*first)
				*first = n;
			/* The parent's part was done before N: the countdown is left. */
			if (left <= 0)
				return 6;
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
				return 7;
			if (WEXITSTATUS(st))
				return 100 + WEXITSTATUS(st);
		}
		if (count_fds() != before)
			return 8;
		rc = works((uint8_t)(0x40 + slot), (unsigned int)slot);
		if (rc)
			return 10 + rc;
	}
	close(fd);
	return *first ? 0 : 9;
}

/* The owner's server thread (named by the library, lib/uiommu_remote.c), or 0. */
static pid_t server_tid(void)
{
	char path[64], comm[32];
	pid_t tid = 0;

	for (pid_t t = getpid(); t < getpid() + 4096 && !tid; t++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)t);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "uiommu-remote\n"))
			tid = t;
		fclose(f);
	}
	return tid;
}

/* The child of test_owner(): a grandchild fork per command; replies {errno, status}. */
static int owner_child(int cmd, int res)
{
	int before = count_fds(), go[2], st, out[2];
	uint32_t n;
	pid_t pid;

	while (read(cmd, &n, sizeof(n)) == sizeof(n) && n) {
		if (pipe2(go, O_CLOEXEC))
			return 1;
		pid = fork();
		if (!pid) {
			uint8_t b;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(go[1]);
			/* Wait until the owner's countdown is disarmed. */
			if (read(go[0], &b, 1) != 1)
				_exit(30);
			_exit(child_side(3));
		}
		out[0] = pid < 0 ? errno : 0;
		out[1] = 0;
		close(go[0]);
		if (write(res, out, sizeof(out)) != sizeof(out))
			return 2;
		/* The owner has disarmed: the grandchild may go. */
		if (read(cmd, &n, sizeof(n)) != sizeof(n))
			return 3;
		if (pid > 0) {
			(void)!write(go[1], "g", 1);
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
				return 4;
			out[1] = WEXITSTATUS(st);
		}
		close(go[1]);
		out[0] = count_fds() != before ? 1 : works(0x70, 3);
		if (write(res, out, sizeof(out)) != sizeof(out))
			return 5;
	}
	return 0;
}

/*
 * The owner's part of a grandchild's fork (the channel it makes for the
 * grandchild, in its server thread) under the server thread's fail-nth,
 * armed through its /proc task file as any thread's: the child's fork
 * fails with ENOMEM and everything works on, or the fork succeeds.
 */
static void test_owner(void *arg)
{
	int cmd[2], res[2], fd;
	unsigned long first = 0;
	char path[64];
	pid_t pid, stid;

	(void)arg;
	world_open();
	TAP_CHECK(pipe2(cmd, O_CLOEXEC) == 0 && pipe2(res, O_CLOEXEC) == 0, "pipes");
	pid = fork_child();
	if (!pid) {
		close(cmd[1]);
		close(res[0]);
		_exit(owner_child(cmd[0], res[1]));
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	stid = server_tid();
	TAP_CHECK(stid > 0, "the server thread");
	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", (int)stid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	TAP_CHECK(fd >= 0, "%s: %s", path, strerror(errno));
	for (uint32_t n = 1; n < 100 && (!first || n <= first + EXTRA); n++) {
		int forked[2], after[2];
		long left;

		TAP_CHECK_EQ(failnth_set(fd, n), 0, "arm %u", n);
		TAP_CHECK_EQ(write(cmd[1], &n, sizeof(n)), (ssize_t)sizeof(n), "command");
		TAP_CHECK_EQ(read(res[0], forked, sizeof(forked)), (ssize_t)sizeof(forked),
			     "n = %u", n);
		left = failnth_get(fd);
		TAP_CHECK_EQ(failnth_set(fd, 0), 0, "disarm");
		TAP_CHECK_EQ(write(cmd[1], &n, sizeof(n)), (ssize_t)sizeof(n), "go");
		TAP_CHECK_EQ(read(res[0], after, sizeof(after)), (ssize_t)sizeof(after), "n = %u",
			     n);
		if (forked[0]) {
			/* The owner's allocation failed: fork(2)'s ENOMEM, no grandchild. */
			TAP_CHECK(forked[0] == ENOMEM, "n = %u: fork: %s", n, strerror(forked[0]));
			TAP_CHECK(!first, "n = %u: fails after N = %lu forked", n, first);
			TAP_CHECK_EQ(left, 0, "n = %u: fired", n);
		} else {
			if (!first)
				first = n;
			TAP_CHECK_EQ(after[1], 0, "n = %u: the grandchild's step", n);
		}
		TAP_CHECK_EQ(after[0], 0, "n = %u: the child's fds and work after the fork", n);
		TAP_CHECK_EQ(works(0x71, 0), 0, "n = %u: the owner works", n);
	}
	tap_diag("the owner's part of a grandchild's fork: %lu allocations", first - 1);
	TAP_CHECK(first > 1, "the owner allocates for the grandchild (N = 1 fails)");
	close(fd);
	close(cmd[1]);
	TAP_CHECK_EQ(wait_child(pid), 0, "the child");
	close(cmd[0]);
	close(res[0]);
	close(res[1]);
	world_close();
}

static void test_sweep(void *arg)
{
	unsigned long first = 0;
	int rc, g;

	(void)arg;
	world_open();
	TAP_CHECK_EQ(works(0x11, 0), 0, "the parent works before any fork");
	rc = sweep(0, &first);
	TAP_CHECK_EQ(rc, 0, "the parent's sweep (first N that forks: %lu)", first);
	tap_diag("fork's prepare: %lu allocations", first - 1);
	TAP_CHECK(first > 1, "the prepare allocates (N = 1 fails)");

	/*
	 * A child whose files are remote sweeps its own forks (the owner makes
	 * the channels). Its fail-nth file is its own, so its forks start its
	 * own server thread, which ThreadSanitizer refuses after a
	 * multi-threaded fork (test_owner() sweeps a grandchild's fork there).
	 */
#ifndef __SANITIZE_THREAD__
	pid_t pid = fork_child();

	if (!pid) {
		unsigned long gfirst;

		rc = sweep(2, &gfirst);
		_exit(rc > 255 ? 255 : rc);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "the child's sweep of grandchildren");
#else
	tap_diag("the child's sweep of grandchildren: not under ThreadSanitizer");
#endif
	TAP_CHECK_EQ(works(0x13, 0), 0, "the parent works after the sweeps");
	world_close();
	/* Nothing a failed fork made holds the group (an open group is EBUSY). */
	g = open("/dev/vfio/1", O_RDWR | O_CLOEXEC);
	TAP_CHECK(g >= 0, "the group opens again: %s", strerror(errno));
	close(g);
}

int main(void)
{
	shim_check_preloaded();
	tap_plan(2);
	tap_run("fork() under fail-nth: ENOMEM and nothing done, or both sides work", test_sweep,
		NULL);
	tap_run("a grandchild's fork under the owner's fail-nth", test_owner, NULL);
	return tap_done();
}
