// SPDX-License-Identifier: MIT
/*
 * The preload shim: descriptor semantics of emulated files, as a program
 * sees them through libc alone. dup/dup2/dup3/F_DUPFD_CLOEXEC share one
 * open file (ioctls work on every number, closing one leaves the others,
 * dup2 of something else onto an emulated number releases what it was),
 * close_range and closefrom give numbers up, O_CLOEXEC holds across exec
 * (the program runs itself again to look), a fork()ed child inherits
 * working descriptors, and closing a set of fds in a random order (fixed
 * seed, printed) releases everything exactly once.
 *
 * "Released" is observed the way a program can: a FAULT object cannot be
 * destroyed (EBUSY) while a descriptor of its fault queue is open.
 */
#include <linux/close_range.h>
#include <sys/wait.h>

#include "shim_utils.h"

static char *self_exe;

/* The fault queue of a fresh context: the context fd, the FAULT object and its fd. */
struct fq {
	int fd;
	uint32_t fault_id;
	int fault_fd;
};

static struct fq fq_new(void)
{
	struct fq q;

	q.fd = iommufd_open();
	CHECK_OK(_fault_alloc(q.fd, &q.fault_id, &q.fault_fd));
	return q;
}

static void test_dup_shares_the_file(void *arg)
{
	int fd = iommufd_open(), d1, d2, d3;
	uint32_t a, b, c;

	a = ioas_alloc(fd);
	d1 = dup(fd);
	TAP_CHECK(d1 > fd, "dup: %d", d1);
	/* One context: IDs allocated through either number come from one table. */
	b = ioas_alloc(d1);
	TAP_CHECK_EQ(b, a + 1, "second IOAS through the dup");
	CHECK_OK(_ioas_ranges(fd, b));
	CHECK_OK(_ioas_ranges(d1, a));
	TAP_CHECK_EQ(fcntl(d1, F_GETFD), 0, "dup() clears FD_CLOEXEC");

	d2 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	TAP_CHECK(d2 >= 100, "F_DUPFD_CLOEXEC above 100: %d", d2);
	TAP_CHECK_EQ(fcntl(d2, F_GETFD), FD_CLOEXEC, "F_DUPFD_CLOEXEC sets it");
	c = ioas_alloc(d2);
	TAP_CHECK_EQ(c, b + 1, "third IOAS through F_DUPFD_CLOEXEC's number");

	d3 = dup3(d1, 200, O_CLOEXEC);
	TAP_CHECK_EQ(d3, 200, "dup3 onto 200");
	TAP_CHECK_EQ(fcntl(d3, F_GETFD), FD_CLOEXEC, "dup3 O_CLOEXEC");
	CHECK_OK(_ioas_ranges(d3, c));

	/* Closing numbers one by one leaves the others working. */
	CHECK_OK(close(fd));
	CHECK_ERRNO(EBADF, _ioas_ranges(fd, a));
	CHECK_OK(_ioas_ranges(d1, a));
	CHECK_OK(close(d1));
	CHECK_OK(_ioas_ranges(d2, a));
	CHECK_OK(close(d2));
	CHECK_OK(_destroy(d3, a));
	CHECK_ERRNO(ENOENT, _ioas_ranges(d3, a));
	CHECK_OK(close(d3));
	CHECK_ERRNO(EBADF, close(d3));

	/* dup2(fd, fd) checks fd and returns it; dup3(fd, fd) is EINVAL. */
	fd = iommufd_open();
	TAP_CHECK_EQ(dup2(fd, fd), fd, "dup2 onto itself");
	CHECK_ERRNO(EINVAL, dup3(fd, fd, 0));
	CHECK_ERRNO(EINVAL, dup3(fd, fd + 1, O_RDWR));
	CHECK_OK(close(fd));
	CHECK_ERRNO(EBADF, dup(fd));
}

static void test_dup2_releases(void *arg)
{
	struct fq q = fq_new();
	int other = iommufd_open(), p[2], d;
	char c = 0;

	/* The fd holds the FAULT object; a dup of it too. */
	d = dup(q.fault_fd);
	CHECK_ERRNO(EBUSY, _destroy(q.fd, q.fault_id));
	CHECK_OK(close(q.fault_fd));
	CHECK_ERRNO(EBUSY, _destroy(q.fd, q.fault_id));

	/* An emulated file replaced by another emulated file: released. */
	TAP_CHECK_EQ(dup2(other, d), d, "dup2 iommufd onto the fault fd");
	CHECK_OK(_destroy(q.fd, q.fault_id));
	/* d is now the other context: an IOAS made through it is there, not in q's. */
	{
		uint32_t id = ioas_alloc(d);

		CHECK_OK(_ioas_ranges(other, id));
		CHECK_ERRNO(ENOENT, _ioas_ranges(q.fd, id));
	}

	/* A foreign fd (a pipe) onto an emulated number: the number is the pipe's now. */
	CHECK_OK(_fault_alloc(q.fd, &q.fault_id, &q.fault_fd));
	TAP_CHECK(!pipe(p), "pipe");
	TAP_CHECK_EQ(dup2(p[1], q.fault_fd), q.fault_fd, "dup2 pipe onto the fault fd");
	CHECK_OK(_destroy(q.fd, q.fault_id));
	TAP_CHECK_EQ(write(q.fault_fd, "x", 1), 1, "write to the pipe through that number");
	TAP_CHECK_EQ(read(p[0], &c, 1), 1, "read it back");
	TAP_CHECK_EQ(c, 'x', "byte");
	CHECK_ERRNO(ENOTTY, ioctl(q.fault_fd, IOMMU_IOAS_ALLOC, &(struct iommu_ioas_alloc){8}));

	/* dup3 of an emulated file onto a foreign number: the number is ours now. */
	TAP_CHECK_EQ(dup3(q.fd, p[0], 0), p[0], "dup3 iommufd onto the pipe's read end");
	CHECK_OK(_ioas_ranges(p[0], ioas_alloc(q.fd)));

	close(p[0]);
	close(p[1]);
	close(q.fault_fd);
	close(q.fd);
	close(other);
	close(d);
}

static void test_close_range(void *arg)
{
	struct fq q = fq_new();
	int lo, hi;

	lo = fcntl(q.fault_fd, F_DUPFD, 300);
	hi = fcntl(q.fd, F_DUPFD, 310);
	TAP_CHECK(lo >= 300 && hi >= 310 && hi < 400, "numbers %d %d", lo, hi);
	CHECK_OK(close(q.fault_fd));
	/* CLOSE_RANGE_CLOEXEC only marks them. */
	CHECK_OK(close_range(300, 399, CLOSE_RANGE_CLOEXEC));
	TAP_CHECK_EQ(fcntl(lo, F_GETFD), FD_CLOEXEC, "marked");
	CHECK_ERRNO(EBUSY, _destroy(hi, q.fault_id));
	/* Bad arguments close nothing. */
	CHECK_ERRNO(EINVAL, close_range(399, 300, 0));
	CHECK_ERRNO(EBUSY, _destroy(hi, q.fault_id));
	/* The range covering the fault fd's last number releases it. */
	CHECK_OK(close_range(300, 305, 0));
	CHECK_ERRNO(EBADF, fcntl(lo, F_GETFD));
	CHECK_OK(_destroy(hi, q.fault_id));
	CHECK_OK(_ioas_ranges(q.fd, ioas_alloc(hi)));
	closefrom(310);
	CHECK_ERRNO(EBADF, fcntl(hi, F_GETFD));
	CHECK_ERRNO(EBADF, _ioas_ranges(hi, 1));
	CHECK_OK(close(q.fd));
}

/* The child half of test_cloexec: fd @argv[2] must be open ("1") or closed ("0"). */
static int exec_check(char **argv)
{
	int fd = atoi(argv[2]), want_open = atoi(argv[3]);
	int is_open = fcntl(fd, F_GETFD) >= 0;

	if (is_open != want_open)
		return 10 + is_open;
	/* A surviving number is the backing fd; the new image's shim does not know it. */
	if (is_open && ioctl(fd, IOMMU_IOAS_ALLOC, &(struct iommu_ioas_alloc){8}) != -1)
		return 20;
	return 0;
}

static int run_self(const char *fd, const char *want)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		execl(self_exe, self_exe, "--exec-check", fd, want, (char *)NULL);
		_exit(99);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	TAP_CHECK(WIFEXITED(status), "child status 0x%x", status);
	return WEXITSTATUS(status);
}

static void test_cloexec(void *arg)
{
	int a = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	int b = open("/dev/iommu", O_RDWR);
	char sa[16], sb[16];

	TAP_CHECK(a >= 0 && b >= 0, "open: %s", strerror(errno));
	TAP_CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC, "O_CLOEXEC");
	TAP_CHECK_EQ(fcntl(b, F_GETFD), 0, "no O_CLOEXEC");
	snprintf(sa, sizeof(sa), "%d", a);
	snprintf(sb, sizeof(sb), "%d", b);
	TAP_CHECK_EQ(run_self(sa, "0"), 0, "the O_CLOEXEC fd is gone after exec");
	TAP_CHECK_EQ(run_self(sb, "1"), 0, "the other one is still there");
	/* F_SETFD turns it on for the next exec. */
	CHECK_OK(fcntl(b, F_SETFD, FD_CLOEXEC));
	TAP_CHECK_EQ(run_self(sb, "0"), 0, "gone once FD_CLOEXEC is set");
	CHECK_OK(_ioas_ranges(a, ioas_alloc(a)));
	close(a);
	close(b);
}

static void test_fork(void *arg)
{
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd);
	int status;
	pid_t pid;

	pid = fork();
	if (!pid) {
		/* The child's copy works through the inherited number, dups and closes included. */
		int d = dup(fd);
		uint32_t id;

		if (_ioas_ranges(fd, ioas) || _ioas_alloc(d, &id) || _ioas_ranges(fd, id) ||
		    close(fd) || _ioas_ranges(d, ioas) || close(d))
			_exit(1);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	TAP_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "child status 0x%x", status);
	/* The parent's number is untouched by the child's close. */
	CHECK_OK(_ioas_ranges(fd, ioas));
	CHECK_OK(close(fd));
}

/* xorshift64*, so the order is the same everywhere. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t close_seed = 0x5eed5eedULL;

static void print_seed(void *arg)
{
	tap_diag("close order seed 0x%llx", (unsigned long long)close_seed);
}

static void test_random_close(void *arg)
{
	enum { CTX_Q, FAULT, OTHER };
	uint64_t s = close_seed;
	int base = count_fds();

	tap.on_fail = print_seed;
	for (int round = 0; round < 50; round++) {
		struct fq q = fq_new();
		int fds[7], kind[7], n = 0;
		bool fault_alive = true;

		fds[n] = q.fd, kind[n++] = CTX_Q;
		fds[n] = dup(q.fd), kind[n++] = CTX_Q;
		fds[n] = q.fault_fd, kind[n++] = FAULT;
		fds[n] = dup(q.fault_fd), kind[n++] = FAULT;
		fds[n] = fcntl(q.fault_fd, F_DUPFD_CLOEXEC, 0), kind[n++] = FAULT;
		fds[n] = iommufd_open(), kind[n++] = OTHER;
		fds[n] = dup(fds[5]), kind[n++] = OTHER;
		for (int i = 0; i < n; i++)
			TAP_CHECK(fds[i] >= 0, "fd %d: %s", i, strerror(errno));
		/* Fisher-Yates with the fixed generator. */
		for (int i = n - 1; i > 0; i--) {
			int j = (int)(rng_next(&s) % (uint64_t)(i + 1)), t;

			t = fds[i], fds[i] = fds[j], fds[j] = t;
			t = kind[i], kind[i] = kind[j], kind[j] = t;
		}
		for (int i = 0; i < n; i++) {
			int ctx = -1, faults = 0;

			CHECK_OK(close(fds[i]));
			CHECK_ERRNO(EBADF, close(fds[i]));
			for (int k = i + 1; k < n; k++) {
				if (kind[k] == CTX_Q)
					ctx = fds[k];
				faults += kind[k] == FAULT;
			}
			/* Through a number of q's context left open: is the FAULT object still
			 * held? */
			if (ctx < 0 || !fault_alive)
				continue;
			if (faults) {
				CHECK_ERRNO(EBUSY, _destroy(ctx, q.fault_id));
			} else {
				CHECK_OK(_destroy(ctx, q.fault_id));
				fault_alive = false;
			}
		}
		TAP_CHECK_EQ(count_fds(), base, "round %d: every fd closed", round);
	}
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--exec-check"))
		return exec_check(argv);
	shim_check_preloaded();
	self_exe = realpath("/proc/self/exe", NULL);
	tap_plan(6);
	tap_run("dup, F_DUPFD_CLOEXEC, dup3 share the file; closing one leaves the others",
		test_dup_shares_the_file, NULL);
	tap_run("dup2/dup3 onto an emulated number release what it was", test_dup2_releases, NULL);
	tap_run("close_range and closefrom give emulated numbers up", test_close_range, NULL);
	tap_run("O_CLOEXEC across exec", test_cloexec, NULL);
	tap_run("fork: the child inherits working fds", test_fork, NULL);
	tap_run("closing in random order releases everything once", test_random_close, NULL);
	free(self_exe);
	return tap_done();
}
