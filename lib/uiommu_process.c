// SPDX-License-Identifier: MIT
/*
 * uiommu_process.c - what the library does for a whole process that runs
 * under it (the preload shim, `uiommu exec`): the summary written at exit,
 * and the private stand-in for the kernel's debugfs fault-injection
 * directory.
 *
 * The summary. With UIOMMU_SUMMARY_FILE=path in the environment, counting
 * (util/stats.h) is on from the start, and uiommu_process_exit() appends
 * one block to that file for a process that created any emulated file:
 *
 *	uiommu summary: pid 1234 (program)
 *	files: iommufd 2, fail-nth 1
 *	...                       (uiommu_stats_format())
 *
 * in one write(2) with O_APPEND, so the blocks of concurrent processes
 * (a parent and its fork()ed children, which count from zero) do not mix.
 *
 * The debugfs stand-in. A program probing for the kernel's fault injection
 * (iommufd_fail_nth opens /sys/kernel/debug/, writes failslab/ignore-gfp-wait
 * and every fail*\/verbose) must see it exist, and must never reach the
 * host's real knobs. uiommu_path_redirect() maps every path at or below
 * /sys/kernel/debug to a private directory: UIOMMU_DEBUGFS_DIR when set
 * (made and removed by `uiommu exec`), else one made with mkdtemp(3) on
 * first use and removed by uiommu_process_exit() of the process that made
 * it. It holds the fault-injection directories of Linux with their knob
 * files at their default values. Writing them changes nothing: the only
 * injection the library emulates is the per-task fail-nth.
 *
 * Locks: pthread_once for each piece's set-up; the exit work runs once per
 * process (an atomic PID, since a vfork() child shares our memory), in
 * whichever thread exits it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uiommu/uiommu.h>

#include "uiommu_private.h"
#include "vfio/virqfd.h"
#include "util/file.h"
#include "util/forkgate.h"
#include "util/intfd.h"
#include "util/rmtree.h"
#include "util/stats.h"

#define DEBUGFS "/sys/kernel/debug"

static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static const char *summary_path;

static void process_init_once(void)
{
	const char *p = getenv("UIOMMU_SUMMARY_FILE");

	if (p && *p) {
		summary_path = p;
		stats_enable(true);
	}
}

void uiommu_process_init(void)
{
	pthread_once(&process_once, process_init_once);
}

/* ---------------------------------------------------------------------- */
/* The debugfs stand-in                                                   */

static pthread_once_t debugfs_once = PTHREAD_ONCE_INIT;
static char debugfs_dir[256];
static pid_t debugfs_owner; /* the process that made debugfs_dir, 0: not ours to remove */
static int debugfs_err;

struct knob {
	const char *name, *value;
};

/* Every fault_attr directory (lib/fault-inject.c's fault_create_debugfs_attr()). */
static const struct knob attr_knobs[] = {
	{"probability", "0\n"},
	{"interval", "1\n"},
	{"times", "1\n"},
	{"space", "0\n"},
	{"verbose", "2\n"},
	{"verbose_ratelimit_interval_ms", "5000\n"},
	{"verbose_ratelimit_burst", "10\n"},
	{"task-filter", "N\n"},
};

static const struct {
	const char *dir;
	struct knob extra[3];
} fault_dirs[] = {
	{"failslab", {{"ignore-gfp-wait", "Y\n"}, {"cache-filter", "N\n"}}},
	{"fail_page_alloc",
	 {{"ignore-gfp-wait", "Y\n"}, {"ignore-gfp-highmem", "Y\n"}, {"min-order", "1\n"}}},
	{"fail_futex", {{"ignore-private", "N\n"}}},
	{"fail_usercopy", {{NULL, NULL}}},
	{"fail_iommufd", {{NULL, NULL}}},
};

static int write_knob(const char *dir, const char *name, const char *value)
{
	char path[512];
	size_t len = strlen(value);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static int populate(const char *root)
{
	char dir[384];
	int rc;

	for (size_t i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", root, fault_dirs[i].dir);
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
		for (size_t k = 0; k < sizeof(attr_knobs) / sizeof(attr_knobs[0]); k++) {
			rc = write_knob(dir, attr_knobs[k].name, attr_knobs[k].value);
			if (rc && rc != -EEXIST)
				return rc;
		}
		for (size_t k = 0; k < 3 && fault_dirs[i].extra[k].name; k++) {
			rc = write_knob(dir, fault_dirs[i].extra[k].name,
					fault_dirs[i].extra[k].value);
			if (rc && rc != -EEXIST)
				return rc;
		}
	}
	return 0;
}

static void debugfs_init(void)
{
	const char *env = getenv("UIOMMU_DEBUGFS_DIR");
	const char *tmp = getenv("TMPDIR");

	if (env && *env) {
		if (strlen(env) >= sizeof(debugfs_dir)) {
			debugfs_err = ENAMETOOLONG;
			return;
		}
		strcpy(debugfs_dir, env);
		if (mkdir(debugfs_dir, 0700) && errno != EEXIST) {
			debugfs_err = errno;
			return;
		}
	} else {
		if (!tmp || !*tmp || strlen(tmp) > sizeof(debugfs_dir) - 32)
			tmp = "/tmp";
		snprintf(debugfs_dir, sizeof(debugfs_dir), "%s/uiommu-debugfs.XXXXXX", tmp);
		if (!mkdtemp(debugfs_dir)) {
			debugfs_err = errno;
			return;
		}
		debugfs_owner = getpid();
	}
	if (populate(debugfs_dir)) {
		debugfs_err = EIO;
		if (debugfs_owner) {
			remove_tree(AT_FDCWD, debugfs_dir);
			debugfs_owner = 0;
		}
	}
}

/* Lexically normalised @path is DEBUGFS or below it: the rest (may be ""), else NULL. */
static const char *debugfs_rest(const char *norm)
{
	size_t n = strlen(DEBUGFS);

	if (strncmp(norm, DEBUGFS, n) || (norm[n] && norm[n] != '/'))
		return NULL;
	return norm + n;
}

UIOMMU_EXPORT int uiommu_path_redirect(const char *path, char *buf, size_t size)
{
	char norm[PATH_MAX];
	const char *rest;
	bool slash;

	if (!path || path[0] != '/' || upath_normalize(path, norm, sizeof(norm), &slash))
		return 0;
	rest = debugfs_rest(norm);
	if (!rest)
		return 0;
	pthread_once(&debugfs_once, debugfs_init);
	if (debugfs_err) {
		errno = debugfs_err;
		return -1;
	}
	if ((size_t)snprintf(buf, size, "%s%s%s", debugfs_dir, rest, slash && *rest ? "/" : "") >=
	    size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 1;
}

/* ---------------------------------------------------------------------- */
/* Exit                                                                   */

/* The process that did the exit work (a vfork() child shares this memory with its parent). */
static _Atomic pid_t exit_done;

static void write_summary(void)
{
	char head[128], *buf;
	size_t hlen, len;
	uint64_t files = 0;
	int fd;

	/* Not a vfork() child, which shares the parent's counters. */
	if (!summary_path || stats_owner() != getpid() || stats_get("files", &files) || !files)
		return;
	hlen = (size_t)snprintf(head, sizeof(head), "uiommu summary: pid %d (%s)\n", (int)getpid(),
				program_invocation_short_name);
	len = uiommu_stats_format(NULL, 0);
	/* Plain malloc: at exit, fail-nth must not cost the summary. */
	buf = malloc(hlen + len + 2);
	if (!buf)
		return;
	memcpy(buf, head, hlen);
	uiommu_stats_format(buf + hlen, len + 1);
	buf[hlen + len] = '\n';
	fd = open(summary_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		/* Nothing to tell anyone if it fails: the process is exiting. */
		(void)!write(fd, buf, hlen + len + 1);
		close(fd);
	}
	free(buf);
}

UIOMMU_EXPORT pid_t uiommu_fork(pid_t (*fork_fn)(void))
{
	return fork_gate_fork(fork_fn ? fork_fn : fork);
}

UIOMMU_EXPORT pid_t uiommu_fork_handover(pid_t (*fork_fn)(void))
{
	pid_t parent = getpid(), pid;
	bool used = fork_gate_used();
	int rc, err;

	pid = fork_gate_handover(fork_fn ? fork_fn : fork);
	if (pid || !used)
		return pid;
	/* The child: what the parent's threads did, ours do now; what it would remove, we will. */
	fork_gate_enter();
	rc = vfio_virqfd_take_over();
	err = uremote_take_over(parent);
	fork_gate_exit();
	if (debugfs_owner == parent)
		debugfs_owner = getpid();
	if (!rc)
		rc = err;
	/* A thread the takeover needs could not be had: daemon() fails here, as on setsid(). */
	if (rc) {
		errno = rc == -ENOMEM ? ENOMEM : EAGAIN;
		return -1;
	}
	return 0;
}

UIOMMU_EXPORT bool uiommu_fork_shared(void)
{
	return ufile_any_fd() || intfd_any();
}

UIOMMU_EXPORT void uiommu_process_exit(void)
{
	int saved = errno;
	pid_t me = getpid();

	/* Once per process, by PID: a vfork() child's _exit() must not count as ours. */
	if (atomic_exchange(&exit_done, me) == me)
		return;
	uiommu_process_init();
	uremote_process_exit();
	write_summary();
	if (debugfs_owner && debugfs_owner == getpid())
		remove_tree(AT_FDCWD, debugfs_dir);
	errno = saved;
}
