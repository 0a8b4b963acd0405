// SPDX-License-Identifier: MIT
/*
 * The preload shim: the emulated /proc fail-nth files, with the semantics
 * of Linux's proc_fail_nth_read/write (util/failnth.h): what a write
 * accepts (kstrtouint: decimal, 0x hex, 0 octal, '+', one newline; EINVAL
 * or ERANGE otherwise), what a read returns ("%u\n" of what is left, from
 * the file position; pread at 0 again), and the countdown itself: with N
 * written, N-1 injection points pass, the N-th fails, and the file reads
 * "0\n". An IOMMU_IOAS_ALLOC is the unit here: the sweep finds K, the
 * number of points one such ioctl passes, and checks that every N <= K
 * fails it with ENOMEM and leaves 0, and N = K + 1 lets it succeed with 1
 * left. Another thread may arm a thread's countdown through its task file.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "shim_utils.h"

static int fail_nth_open(pid_t tid, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", (int)tid);
	fd = open(path, flags);
	TAP_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

static long fail_nth_read(int fd)
{
	char buf[32] = {0};
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long v;

	TAP_CHECK(n >= 2 && buf[n - 1] == '\n', "pread: %zd '%s' (%s)", n, buf,
		  n < 0 ? strerror(errno) : "");
	v = strtol(buf, &end, 10);
	TAP_CHECK(end == buf + n - 1, "'%s' is one number and a newline", buf);
	return v;
}

static void fail_nth_write(int fd, const char *s)
{
	TAP_CHECK_EQ(pwrite(fd, s, strlen(s), 0), (ssize_t)strlen(s), "write '%s': %s", s,
		     strerror(errno));
}

static void test_file(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int fd = fail_nth_open(tid, O_RDWR), ro;
	char buf[16];
	struct stat st;

	TAP_CHECK_EQ(fail_nth_read(fd), 0, "not armed");
	/* read() moves the position: the second read is EOF; pread at 0 reads again. */
	TAP_CHECK_EQ(read(fd, buf, sizeof(buf)), 2, "read");
	TAP_CHECK(!memcmp(buf, "0\n", 2), "0\\n");
	TAP_CHECK_EQ(read(fd, buf, sizeof(buf)), 0, "then EOF");
	TAP_CHECK_EQ(pread(fd, buf, 1, 1), 1, "pread at 1");
	TAP_CHECK_EQ(buf[0], '\n', "the newline");
	CHECK_ERRNO(EINVAL, pread(fd, buf, 1, -1));

	/* kstrtouint(s, 0). */
	fail_nth_write(fd, "3");
	TAP_CHECK_EQ(fail_nth_read(fd), 3, "3");
	fail_nth_write(fd, "0x10");
	TAP_CHECK_EQ(fail_nth_read(fd), 16, "hex");
	fail_nth_write(fd, "010");
	TAP_CHECK_EQ(fail_nth_read(fd), 8, "octal");
	fail_nth_write(fd, "+5\n");
	TAP_CHECK_EQ(fail_nth_read(fd), 5, "sign and newline");
	fail_nth_write(fd, "4294967295");
	TAP_CHECK_EQ(fail_nth_read(fd), 4294967295L, "UINT_MAX");
	CHECK_ERRNO(EINVAL, write(fd, "abc", 3));
	CHECK_ERRNO(EINVAL, write(fd, "12x", 3));
	CHECK_ERRNO(EINVAL, write(fd, "5\n\n", 3));
	CHECK_ERRNO(EINVAL, write(fd, "-1", 2));
	CHECK_ERRNO(EINVAL, write(fd, "0x", 2));
	CHECK_ERRNO(EINVAL, write(fd, "", 0));
	CHECK_ERRNO(ERANGE, write(fd, "4294967296", 10));
	TAP_CHECK_EQ(fail_nth_read(fd), 4294967295L, "a refused write changes nothing");
	fail_nth_write(fd, "0");
	TAP_CHECK_EQ(fail_nth_read(fd), 0, "disarmed");

	/* A regular 0644 file of the caller's; the access mode is kept. */
	CHECK_OK(fstat(fd, &st));
	TAP_CHECK(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644, "mode 0%o", st.st_mode);
	TAP_CHECK_EQ(st.st_uid, geteuid(), "owner");
	ro = fail_nth_open(tid, O_RDONLY);
	CHECK_ERRNO(EBADF, write(ro, "1", 1));
	close(ro);

	/* The other spellings of this thread's (and the process's) file. */
	close(fail_nth_open(tid, O_RDONLY));
	ro = open("/proc/thread-self/fail-nth", O_RDONLY);
	TAP_CHECK(ro >= 0, "/proc/thread-self/fail-nth: %s", strerror(errno));
	close(ro);
	ro = open("/proc/self/fail-nth", O_RDONLY);
	TAP_CHECK(ro >= 0, "/proc/self/fail-nth: %s", strerror(errno));
	close(ro);
	CHECK_ERRNO(ENOENT, open("/proc/self/task/999999999/fail-nth", O_RDWR));
	close(fd);
}

/* Arm @n, IOAS_ALLOC in a fresh context, disarm: its result, errno, ID and what was left. */
static int alloc_armed(int fd, long n, uint32_t *id, long *left, int *err, int *ctx)
{
	char s[24];
	int rc;

	*ctx = iommufd_open();
	snprintf(s, sizeof(s), "%ld", n);
	fail_nth_write(fd, s);
	rc = _ioas_alloc(*ctx, id);
	*err = errno;
	*left = fail_nth_read(fd);
	fail_nth_write(fd, "0");
	return rc;
}

static void test_countdown(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int fd = fail_nth_open(tid, O_RDWR), ctx, err, rc;
	long k, left;
	uint32_t id;

	/* K: how many injection points the first IOAS_ALLOC of a context passes. */
	rc = alloc_armed(fd, 1000, &id, &left, &err, &ctx);
	TAP_CHECK(!rc, "IOAS_ALLOC: %s", strerror(err));
	close(ctx);
	k = 1000 - left;
	TAP_CHECK(k >= 1 && k < 100, "K = %ld", k);
	for (long n = 1; n <= k + 1; n++) {
		rc = alloc_armed(fd, n, &id, &left, &err, &ctx);
		if (n <= k) {
			TAP_CHECK(rc == -1 && err == ENOMEM, "N=%ld: rc %d %s", n, rc,
				  strerror(err));
			TAP_CHECK_EQ(left, 0, "N=%ld fired", n);
			/* The failure left no object and consumed no ID. */
			TAP_CHECK_EQ(ioas_alloc(ctx), 1, "N=%ld: first ID after the failure", n);
		} else {
			TAP_CHECK(!rc, "N=K+1: %s", strerror(err));
			TAP_CHECK_EQ(left, 1, "N=K+1: one left");
			TAP_CHECK_EQ(id, 1, "first ID");
		}
		close(ctx);
	}
	TAP_CHECK_EQ(fail_nth_read(fd), 0, "disarmed");
	close(fd);
}

struct armed {
	pid_t tid;
	int rc, err;
	pthread_barrier_t armed_barrier, done_barrier;
};

static void *victim(void *arg)
{
	struct armed *a = arg;
	int ctx = open("/dev/iommu", O_RDWR);
	uint32_t id;

	a->tid = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&a->armed_barrier); /* main arms us */
	pthread_barrier_wait(&a->armed_barrier);
	a->rc = _ioas_alloc(ctx, &id);
	a->err = errno;
	pthread_barrier_wait(&a->done_barrier);
	close(ctx);
	return NULL;
}

static void test_other_thread(void *arg)
{
	struct armed a = {0};
	pthread_t th;
	int fd;

	pthread_barrier_init(&a.armed_barrier, NULL, 2);
	pthread_barrier_init(&a.done_barrier, NULL, 2);
	TAP_CHECK(!pthread_create(&th, NULL, victim, &a), "thread");
	pthread_barrier_wait(&a.armed_barrier);
	fd = fail_nth_open(a.tid, O_RDWR);
	fail_nth_write(fd, "1");
	TAP_CHECK_EQ(fail_nth_read(fd), 1, "armed from here");
	pthread_barrier_wait(&a.armed_barrier);
	pthread_barrier_wait(&a.done_barrier);
	TAP_CHECK(a.rc == -1 && a.err == ENOMEM, "the victim's IOAS_ALLOC: rc %d %s", a.rc,
		  strerror(a.err));
	TAP_CHECK_EQ(fail_nth_read(fd), 0, "fired in the victim");
	pthread_join(th, NULL);
	close(fd);
	/* This thread was never armed. */
	fd = iommufd_open();
	CHECK_OK(_ioas_ranges(fd, ioas_alloc(fd)));
	close(fd);
	pthread_barrier_destroy(&a.armed_barrier);
	pthread_barrier_destroy(&a.done_barrier);
}

int main(void)
{
	shim_check_preloaded();
	tap_plan(3);
	tap_run("fail-nth file: reads, writes, kstrtouint, mode, paths", test_file, NULL);
	tap_run("fail-nth countdown: N-1 pass, the N-th fails, then 0", test_countdown, NULL);
	tap_run("one thread arms another's fail-nth", test_other_thread, NULL);
	return tap_done();
}
