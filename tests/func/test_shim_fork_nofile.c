// SPDX-License-Identifier: MIT
/*
 * The preload shim's fork() with many emulated files, and at the
 * descriptor limit (lib/uiommu_remote.c).
 *
 * What is checked, through what a program can see:
 *   - a process with more than 1024 iommufds (each its own context) forks:
 *     the child reaches every one of them, and so does a grandchild, whose
 *     files its parent hands on by naming them to the owner (in chunks: no
 *     count is too many); each context is the parent's (an IOAS made there
 *     exists in the same file, and not in the others);
 *   - a fork needs descriptors for the child's channel (two, and one more
 *     for the server thread of the first such fork): with none free below
 *     RLIMIT_NOFILE, fork() fails with EAGAIN (fork(2)'s "a resource
 *     limit"), and nothing is left behind: the same fds are open, the files
 *     work; with three free it forks and the child works.
 * Linux forks at RLIMIT_NOFILE, as it needs no descriptor to share a file;
 * doc/design.md lists the difference.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "shim_utils.h"

#define NFILES 1100

static int files[NFILES];
/* The files whose context gets an IOAS (ID 1): around each 512-file chunk edge. */
static const unsigned int marked[] = {0, 511, 512, 1023, 1024, NFILES - 1};

static bool is_marked(unsigned int i)
{
	for (unsigned int k = 0; k < ARRAY_SIZE_T(marked); k++)
		if (marked[k] == i)
			return true;
	return false;
}

/* Every file is reached, and is the context it was: 0, or 1 + the first index that is not. */
static int check_all(void)
{
	for (unsigned int i = 0; i < NFILES; i++) {
		int rc = _ioas_ranges(files[i], 1);

		if (is_marked(i) ? rc != 0 : rc != -1 || errno != ENOENT)
			return (int)i + 1;
	}
	return 0;
}

static void test_many(void *arg)
{
	struct rlimit rl;
	int pipefd[2];
	pid_t pid;
	int r = -1;

	(void)arg;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < NFILES + 64)
		tap_skip("RLIMIT_NOFILE hard limit %lu", (unsigned long)rl.rlim_max);
	if (rl.rlim_cur < NFILES + 64) {
		rl.rlim_cur = NFILES + 64;
		CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	}
	for (unsigned int i = 0; i < NFILES; i++) {
		files[i] = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		TAP_CHECK(files[i] >= 0, "open %u: %s", i, strerror(errno));
		if (is_marked(i))
			TAP_CHECK_EQ(ioas_alloc(files[i]), 1, "IOAS of file %u", i);
	}
	TAP_CHECK(pipe(pipefd) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		pid_t gc;
		int st, v;

		close(pipefd[0]);
		v = check_all();
		if (v)
			_exit(1);
		gc = fork();
		if (!gc) {
			v = check_all();
			(void)!write(pipefd[1], &v, sizeof(v));
			_exit(0);
		}
		if (gc < 0 || waitpid(gc, &st, 0) != gc || !WIFEXITED(st) || WEXITSTATUS(st))
			_exit(2);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	close(pipefd[1]);
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	TAP_CHECK_EQ(read(pipefd[0], &r, sizeof(r)), (ssize_t)sizeof(r), "grandchild's result");
	TAP_CHECK_EQ(r, 0, "the grandchild reaches every file (1 + the index of the first not)");
	close(pipefd[0]);
	TAP_CHECK_EQ(check_all(), 0, "the parent's files");
	for (unsigned int i = 0; i < NFILES; i++)
		CHECK_OK(close(files[i]));
}

/* Fill every free number below the soft limit with a dup of 0: how many. */
static int fill(int *dups, int max)
{
	int n = 0;

	while (n < max) {
		int fd = dup(0);

		if (fd < 0)
			break;
		dups[n++] = fd;
	}
	return n;
}

/* In a child of the test (its own limit, its own server thread): 0, or the step. */
static int nofile_steps(void)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC), dups[256], n, before, st;
	struct rlimit rl;
	uint32_t ioas;
	pid_t pid;

	if (fd < 0 || _ioas_alloc(fd, &ioas))
		return 1;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 2;
	rl.rlim_cur = (rlim_t)count_fds() + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return 3;
	n = fill(dups, 256);
	if (n < 3 || errno != EMFILE)
		return 4;
	/* None free, then one, then two: the channel or the server's eventfd cannot be made. */
	for (int freed = 0; freed < 3; freed++) {
		if (freed)
			close(dups[--n]);
		before = count_fds();
		pid = fork();
		if (!pid)
			_exit(100);
		if (pid != -1 || errno != EAGAIN)
			return 10 + freed;
		if (count_fds() != before || _ioas_ranges(fd, ioas))
			return 20 + freed;
	}
	close(dups[--n]);
	pid = fork();
	if (!pid)
		_exit(_ioas_ranges(fd, ioas) ? 1 : 0);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return 30;
	while (n)
		close(dups[--n]);
	return close(fd) ? 31 : 0;
}

static void test_nofile(void *arg)
{
	pid_t pid;

	(void)arg;
	pid = fork_child();
	if (!pid)
		_exit(nofile_steps());
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "step");
}

int main(void)
{
	shim_check_preloaded();
	tap_plan(2);
	/* First: the child of nofile_steps() starts its own server thread (see test_shim_fork.c). */
	tap_run("at RLIMIT_NOFILE fork() fails with EAGAIN and leaves nothing", test_nofile, NULL);
	tap_run("more than 1024 files across fork(), to a child and a grandchild", test_many,
		NULL);
	return tap_done();
}
