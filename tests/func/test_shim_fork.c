// SPDX-License-Identifier: MIT
/*
 * The preload shim across fork(): an iommufd inherited by a child is the
 * parent's open file, so the child's ioctls act on the parent's context
 * (lib/uiommu_remote.c), as in Linux.
 *
 * What is checked, each through what a program can see:
 *   - a child maps its shared memory into the parent's IOAS; the parent
 *     pins it (a mock domain) and reads and writes it through an access,
 *     and the child sees the parent's write in its own memory;
 *   - once the child has exited, pinning what it mapped fails with EFAULT;
 *   - private memory of the child cannot be pinned (EFAULT);
 *   - errno of a failing ioctl in the child is the parent context's
 *     (ENOENT, EFAULT for a bad pointer in the child, ENOTTY);
 *   - the child closing its number leaves the parent's context alone, and
 *     the parent closing its own leaves it alive for the child, until the
 *     child exits (observed with the pin count of the memory);
 *   - two children map at once;
 *   - a file whose owner has exited is dead (EBADF); a grandchild's works
 *     (test_shim_fork_fds.c has more of what grandchildren do).
 * Children report through their exit status (the step that failed).
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "shim_utils.h"

#define BUF_PAGES 8
#define BUF_SIZE  (BUF_PAGES * SHIM_PAGE)

static uint8_t *shared_buf; /* MAP_SHARED | MAP_ANONYMOUS, made before any fork */


static int _create_access(int fd, uint32_t ioas, int *access_fd)
{
	struct iommu_test_cmd cmd = {.op = IOMMU_TEST_OP_CREATE_ACCESS, .id = ioas};
	int rc = _test_cmd(fd, &cmd);

	if (!rc)
		*access_fd = (int)cmd.create_access.out_access_fd;
	return rc;
}

static int _access_rw(int fd, int access_fd, uint64_t iova, void *buf, uint64_t len, bool write)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = (uint32_t)access_fd,
		.access_rw = {.iova = iova,
			      .length = len,
			      .uptr = (uintptr_t)buf,
			      .flags = write ? MOCK_ACCESS_RW_WRITE : 0},
	};

	return _test_cmd(fd, &cmd);
}

/* Pages of [buf, buf + len) pinned now, as MD_CHECK_REFS counts them: 0 when @refs match. */
static int _check_refs(int fd, void *buf, uint64_t len, uint32_t refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {.length = len, .uptr = (uintptr_t)buf, .refs = refs},
	};

	return _test_cmd(fd, &cmd);
}

static int _map_fixed(int fd, uint32_t ioas, void *buf, uint64_t len, uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd);
}

static int _mock_domain(int fd, uint32_t ioas)
{
	struct iommu_test_cmd cmd = {.op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = ioas};

	return _test_cmd(fd, &cmd);
}

#define IOVA MOCK_APERTURE_START

/* A pipe the child waits on until the parent is done with it. */
static void wait_byte(int rfd)
{
	char c;

	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
}

static void test_present(void *arg)
{
	int fd = iommufd_open(), access_fd = -1, go[2], ready[2];
	uint32_t ioas = ioas_alloc(fd);
	uint8_t out[100], in[100];
	pid_t pid;

	(void)arg;
	CHECK_OK(_create_access(fd, ioas, &access_fd));
	TAP_CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		for (unsigned int i = 0; i < BUF_SIZE; i++)
			shared_buf[i] = (uint8_t)(i * 7 + 1);
		if (_map_fixed(fd, ioas, shared_buf, BUF_SIZE, IOVA))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		wait_byte(go[0]);
		/* The parent wrote 0xa5 through its access at IOVA + 4 KiB + 10. */
		for (unsigned int i = 0; i < 20; i++)
			if (shared_buf[SHIM_PAGE + 10 + i] != 0xa5)
				_exit(3);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	wait_byte(ready[0]);
	/* Pin the child's pages: a domain on the IOAS the child mapped into. */
	CHECK_OK(_mock_domain(fd, ioas));
	CHECK_OK(_check_refs(fd, shared_buf, BUF_SIZE, 1));
	CHECK_OK(_access_rw(fd, access_fd, IOVA + SHIM_PAGE - 50, in, sizeof(in), false));
	for (unsigned int i = 0; i < sizeof(in); i++)
		TAP_CHECK_EQ(in[i], (uint8_t)((SHIM_PAGE - 50 + i) * 7 + 1), "byte %u", i);
	memset(out, 0xa5, sizeof(out));
	CHECK_OK(_access_rw(fd, access_fd, IOVA + SHIM_PAGE + 10, out, 20, true));
	TAP_CHECK(write(go[1], "x", 1) == 1, "go");
	TAP_CHECK_EQ(wait_child(pid), 0, "the child saw the write");
	/* The mapping is the parent's: unmapping it here takes the child's length. */
	CHECK_OK(_ioas_unmap(fd, ioas, IOVA, BUF_SIZE));
	CHECK_OK(_check_refs(fd, shared_buf, BUF_SIZE, 0));
	close(access_fd);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	CHECK_OK(close(fd));
}

static void test_gone(void *arg)
{
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd);
	pid_t pid;

	(void)arg;
	pid = fork_child();
	if (!pid)
		_exit(_map_fixed(fd, ioas, shared_buf, BUF_SIZE, IOVA) ? 1 : 0);
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "the child mapped");
	/* Nothing was pinned while the child lived; now its memory is gone. */
	CHECK_ERRNO(EFAULT, _mock_domain(fd, ioas));
	CHECK_OK(_ioas_unmap(fd, ioas, IOVA, BUF_SIZE));
	CHECK_OK(_mock_domain(fd, ioas));
	CHECK_OK(close(fd));
}

static void test_private(void *arg)
{
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd);
	void *priv = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	(void)arg;
	TAP_CHECK(priv != MAP_FAILED, "mmap");
	/* With a domain, a map pins at once. */
	CHECK_OK(_mock_domain(fd, ioas));
	pid = fork_child();
	if (!pid) {
		memset(priv, 1, BUF_SIZE);
		if (_map_fixed(fd, ioas, priv, BUF_SIZE, IOVA) != -1 || errno != EFAULT)
			_exit(1);
		/* Shared memory next to it works. */
		if (_map_fixed(fd, ioas, shared_buf, BUF_SIZE, IOVA))
			_exit(2);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "private: EFAULT, shared: mapped");
	/* Pinned at map time: the child's exit does not undo it. */
	CHECK_OK(_check_refs(fd, shared_buf, BUF_SIZE, 1));
	CHECK_OK(_ioas_unmap(fd, ioas, IOVA, BUF_SIZE));
	munmap(priv, BUF_SIZE);
	CHECK_OK(close(fd));
}

static void test_errno(void *arg)
{
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd);
	pid_t pid;

	(void)arg;
	pid = fork_child();
	if (!pid) {
		struct iommu_destroy d = {.size = sizeof(d), .id = ioas + 100};
		void *hole = mmap(NULL, SHIM_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint32_t id;

		if (ioctl(fd, IOMMU_DESTROY, &d) != -1 || errno != ENOENT)
			_exit(1);
		/* The pointer is the child's: unreadable here, EFAULT there. */
		if (ioctl(fd, IOMMU_IOAS_ALLOC, hole) != -1 || errno != EFAULT)
			_exit(2);
		if (ioctl(fd, _IO('x', 1), 0) != -1 || errno != ENOTTY)
			_exit(3);
		/* A success writes its result into the child's memory. */
		if (_ioas_alloc(fd, &id) || id != ioas + 1)
			_exit(4);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	/* The child's IOAS is in the parent's context. */
	CHECK_OK(_ioas_ranges(fd, ioas + 1));
	CHECK_OK(close(fd));
}

static void test_close(void *arg)
{
	int fd = iommufd_open(), fd2, go[2], ready[2];
	uint32_t ioas = ioas_alloc(fd);
	pid_t pid;

	(void)arg;
	/* The child closes its number: the parent's context is untouched. */
	pid = fork_child();
	if (!pid)
		_exit(close(fd) ? 1 : (_ioas_ranges(fd, ioas) == -1 && errno == EBADF) ? 0 : 2);
	TAP_CHECK(pid > 0, "fork");
	TAP_CHECK_EQ(wait_child(pid), 0, "child close");
	CHECK_OK(_ioas_ranges(fd, ioas));

	/* The parent closes its number while the child holds one: the context lives on. */
	CHECK_OK(_mock_domain(fd, ioas));
	CHECK_OK(_map_fixed(fd, ioas, shared_buf, BUF_SIZE, IOVA));
	TAP_CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		wait_byte(go[0]);
		if (_ioas_ranges(fd, ioas))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		wait_byte(go[0]);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork");
	CHECK_OK(close(fd));
	TAP_CHECK(write(go[1], "x", 1) == 1, "go");
	wait_byte(ready[0]);
	fd2 = iommufd_open();
	CHECK_OK(_check_refs(fd2, shared_buf, BUF_SIZE, 1));
	TAP_CHECK(write(go[1], "x", 1) == 1, "go");
	TAP_CHECK_EQ(wait_child(pid), 0, "child used the context after the parent's close");
	/* The child has exited: its reference went with it. */
	CHECK_OK(_check_refs(fd2, shared_buf, BUF_SIZE, 0));
	CHECK_OK(close(fd2));
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

static void test_two_children(void *arg)
{
	int fd = iommufd_open(), access_fd = -1, go[2], done[2], ready[2];
	uint32_t ioas = ioas_alloc(fd);
	pid_t pids[2];
	uint8_t in[64];
	char c2[2];

	(void)arg;
	CHECK_OK(_create_access(fd, ioas, &access_fd));
	TAP_CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(done, O_CLOEXEC) == 0 &&
			  pipe2(ready, O_CLOEXEC) == 0,
		  "pipe");
	for (unsigned int c = 0; c < 2; c++) {
		pids[c] = fork_child();
		if (!pids[c]) {
			uint8_t *half = shared_buf + c * (BUF_SIZE / 2);

			memset(half, 0x10 + (int)c, BUF_SIZE / 2);
			wait_byte(go[0]);
			/* Both children map and unmap at the same time. */
			for (unsigned int k = 0; k < 50; k++) {
				if (_map_fixed(fd, ioas, half, BUF_SIZE / 2, IOVA + c * BUF_SIZE))
					_exit(1);
				if (k != 49 && _ioas_unmap(fd, ioas, IOVA + c * BUF_SIZE, BUF_SIZE / 2))
					_exit(2);
			}
			if (write(ready[1], "x", 1) != 1)
				_exit(3);
			/* Alive until the parent has read: unpinned pages are reached through us. */
			wait_byte(done[0]);
			_exit(0);
		}
		TAP_CHECK(pids[c] > 0, "fork");
	}
	TAP_CHECK(write(go[1], "xx", 2) == 2, "go");
	TAP_CHECK(read(ready[0], c2, 1) == 1 && read(ready[0], c2, 1) == 1, "ready");
	for (unsigned int c = 0; c < 2; c++) {
		CHECK_OK(_access_rw(fd, access_fd, IOVA + c * BUF_SIZE + 100, in, sizeof(in), false));
		for (unsigned int i = 0; i < sizeof(in); i++)
			TAP_CHECK_EQ(in[i], 0x10 + c, "child %u byte %u", c, i);
	}
	TAP_CHECK(write(done[1], "xx", 2) == 2, "done");
	TAP_CHECK_EQ(wait_child(pids[0]), 0, "first child");
	TAP_CHECK_EQ(wait_child(pids[1]), 0, "second child");
	/* Never pinned, and the children are gone: EFAULT, as after fork_gone. */
	CHECK_ERRNO(EFAULT, _access_rw(fd, access_fd, IOVA + 100, in, sizeof(in), false));
	for (unsigned int c = 0; c < 2; c++)
		CHECK_OK(_ioas_unmap(fd, ioas, IOVA + c * BUF_SIZE, BUF_SIZE / 2));
	close(access_fd);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	close(ready[0]);
	close(ready[1]);
	CHECK_OK(close(fd));
}

/*
 * A child that owns a file forks a grandchild, which sees it remote; the
 * grandchild's own child reaches the owner too; once the owner has exited
 * the grandchild's file is dead. Results come back through a pipe.
 */
static void test_dead(void *arg)
{
	int res[2];
	pid_t pid;
	char r[2] = {0, 0};

	(void)arg;
	TAP_CHECK(pipe(res) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		int fd = open("/dev/iommu", O_RDWR), go[2], ack[2];
		uint32_t ioas;
		pid_t gc;

		if (fd < 0 || _ioas_alloc(fd, &ioas) || pipe(go) || pipe(ack))
			_exit(1);
		gc = fork();
		if (!gc) {
			char v = 0;
			pid_t ggc;
			int st;

			close(go[1]);
			close(ack[0]);
			if (_ioas_ranges(fd, ioas))
				v = 1;
			/* The owner's grandchild reaches it too (a channel of its own). */
			ggc = fork();
			if (!ggc)
				_exit(_ioas_ranges(fd, ioas) ? 1 : 0);
			if (ggc < 0 || waitpid(ggc, &st, 0) != ggc || !WIFEXITED(st) ||
			    WEXITSTATUS(st))
				v = 2;
			/* Done with the owner: let it exit. */
			close(ack[1]);
			/* EOF: the owner has exited. */
			wait_byte(go[0]);
			if (!v && (_ioas_ranges(fd, ioas) != -1 || errno != EBADF))
				v = 3;
			if (!v && close(fd))
				v = 4;
			(void)!write(res[1], &v, 1);
			_exit(0);
		}
		close(ack[1]);
		wait_byte(ack[0]);
		_exit(gc > 0 ? 0 : 2);
	}
	close(res[1]);
	TAP_CHECK(pid > 0, "fork");
	TAP_CHECK_EQ(wait_child(pid), 0, "owner");
	TAP_CHECK_EQ(read(res[0], r, 1), 1, "grandchild's result");
	TAP_CHECK_EQ(r[0], 0, "grandchild step");
	close(res[0]);
}

int main(void)
{
	shim_check_preloaded();
	shared_buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_buf == MAP_FAILED) {
		printf("Bail out! mmap\n");
		return 1;
	}
	tap_plan(7);
	/*
	 * First, while this process has no server thread: its child starts
	 * one, which ThreadSanitizer refuses after a multi-threaded fork.
	 */
	tap_run("an owner's exit leaves files dead; a grandchild's calls work", test_dead, NULL);
	tap_run("a child maps shared memory; the parent pins, reads and writes it", test_present,
		NULL);
	tap_run("the child has exited: pinning its mapping is EFAULT", test_gone, NULL);
	tap_run("a child's private memory cannot be pinned", test_private, NULL);
	tap_run("ioctl errors in the child carry the parent context's errno", test_errno, NULL);
	tap_run("closing in the child or the parent leaves the context to the other", test_close,
		NULL);
	tap_run("two children map at once", test_two_children, NULL);
	return tap_done();
}
