// SPDX-License-Identifier: MIT
/*
 * shim.c - libuiommu-preload.so: resolving libc, the re-entry guard, how a
 * path or an fd is recognised, and process exit.
 *
 * What it owns: the table of libc functions (resolved lazily, see shim.h),
 * the thread-local depth counter, the classification of paths, and the
 * process calls: fork() (uiommu_fork(): a fork that cannot share the
 * emulated files with the child fails as fork(2) fails, ENOMEM or EAGAIN),
 * daemon() (its fork hands the library's state over to the child,
 * uiommu_fork_handover(), and its parent exits without touching it) and
 * _Fork() (below). The
 * interposers themselves are in fd.c (calls on descriptors) and path.c
 * (calls on paths). Everything they forward lands in libuiommu, which owns
 * all behaviour: which paths exist, what a file does, fork safety, the
 * summary at exit.
 *
 * Invariants: a pass-through call reaches libc with the program's
 * arguments and returns libc's result and errno untouched; the shim's own
 * look-ups save and restore errno.
 *
 * Locks: none; the symbol table is a set of atomic pointers.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

/* A libc function this libc lacks (_Fork before glibc 2.34): ENOSYS. */
#define CALL_REAL_PID(name)                                \
	({                                                 \
		__typeof__(&name) fn_ = REAL(name);        \
		fn_ ? fn_() : (errno = ENOSYS, (pid_t)-1); \
	})

__thread unsigned int shim_depth __attribute__((tls_model("initial-exec")));
bool shim_stale;
/* This process's PID (set at load and in every fork's child), 0 before the constructor. */
static pid_t shim_pid;

static const char *const sym_names[SHIM_NR_SYMS] = {
#define SHIM_NAME(name) [SYM_##name] = #name,
	SHIM_SYMBOLS(SHIM_NAME)
#undef SHIM_NAME
};

static void *sym_table[SHIM_NR_SYMS];

void *shim_real(enum shim_sym sym)
{
	void *p = __atomic_load_n(&sym_table[sym], __ATOMIC_ACQUIRE);

	if (__builtin_expect(!p, 0)) {
		int saved = errno;

		shim_enter();
		p = dlsym(RTLD_NEXT, sym_names[sym]);
		shim_leave();
		errno = saved;
		if (p)
			__atomic_store_n(&sym_table[sym], p, __ATOMIC_RELEASE);
	}
	return p;
}

bool shim_fd_ours(int fd)
{
	struct uiommu_file *file = shim_file_get(fd);

	if (!file)
		return false;
	shim_file_put(file);
	return true;
}

/* The directory @dirfd names (AT_FDCWD: the current one) into @buf. */
static bool dir_path(int dirfd, char *buf, size_t size)
{
	char link[40];
	ssize_t n;

	if (dirfd == AT_FDCWD)
		return getcwd(buf, size) != NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, buf, size - 1);
	if (n <= 0 || buf[0] != '/')
		return false;
	buf[n] = '\0';
	return true;
}

enum shim_path shim_classify(int dirfd, const char *path, char *abs, size_t size)
{
	enum shim_path where = SHIM_PATH_HOST;
	const char *full = path;
	int saved = errno, rc;

	if (!path || !*path)
		return SHIM_PATH_HOST;
	shim_enter();
	if (path[0] != '/') {
		size_t len;

		if (dirfd != AT_FDCWD && shim_fd_ours(dirfd)) {
			/* A relative path against an emulated file: not a directory. */
			saved = ENOTDIR;
			where = SHIM_PATH_ERROR;
			goto out;
		}
		if (!uiommu_path_emulated(path) || !dir_path(dirfd, abs, size))
			goto out;
		len = strlen(abs);
		if (len + 1 + strlen(path) + 1 > size)
			goto out;
		abs[len] = '/';
		strcpy(abs + len + 1, path);
		full = abs;
	}
	if (uiommu_path_emulated(full)) {
		if (full != abs) {
			if (strlen(full) >= size) {
				saved = ENAMETOOLONG;
				where = SHIM_PATH_ERROR;
				goto out;
			}
			strcpy(abs, full);
		}
		where = SHIM_PATH_EMULATED;
		goto out;
	}
	if (full[0] == '/') {
		char redirect[PATH_MAX];

		rc = uiommu_path_redirect(full, redirect, sizeof(redirect));
		if (rc < 0) {
			saved = errno;
			where = SHIM_PATH_ERROR;
		} else if (rc > 0 && strlen(redirect) < size) {
			strcpy(abs, redirect);
			where = SHIM_PATH_REDIRECT;
		}
	}
out:
	shim_leave();
	errno = saved;
	return where;
}

void shim_process_exit(void)
{
	int saved = errno;

	shim_enter();
	uiommu_process_exit();
	shim_leave();
	errno = saved;
}

bool shim_vforked(void)
{
	pid_t pid = __atomic_load_n(&shim_pid, __ATOMIC_RELAXED);

	return pid && getpid() != pid;
}

static void shim_fork_child(void)
{
	__atomic_store_n(&shim_pid, getpid(), __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void shim_init(void)
{
	shim_fork_child();
	pthread_atfork(NULL, NULL, shim_fork_child);
	/* Resolved now: _Fork() may be called where dlsym() may not (a signal handler). */
	(void)shim_real(SYM__Fork);
}

__attribute__((destructor)) static void shim_fini(void)
{
	shim_process_exit();
}

__attribute__((noreturn)) void _exit(int status)
{
	if (!SHIM_BYPASS())
		shim_process_exit();
	REAL(_exit)(status);
	__builtin_unreachable();
}

__attribute__((noreturn)) void _Exit(int status)
{
	if (!SHIM_BYPASS())
		shim_process_exit();
	REAL(_Exit)(status);
	__builtin_unreachable();
}

/*
 * _Fork() runs no pthread_atfork handlers and may be called from a signal
 * handler, where nothing of uiommu_fork() may run (it locks, allocates,
 * makes sockets, talks to other processes). So it forks as libc's does,
 * and a child of a process with emulated files or internal descriptors
 * (uiommu_fork_shared()) is "stale": the library's state there is a copy,
 * perhaps taken with a lock held, that it must not touch, so every call of
 * that child goes straight to libc, the emulated fds included (their
 * backing memfd or eventfd: an ioctl there is ENOTTY). Such a child is
 * expected to exec or _exit, which is all it can safely do after _Fork()
 * in a threaded process anyway. A process with neither forks as plain
 * _Fork().
 */
pid_t _Fork(void)
{
	bool shared;
	pid_t pid;

	if (SHIM_BYPASS())
		return CALL_REAL_PID(_Fork);
	shared = uiommu_fork_shared();
	pid = CALL_REAL_PID(_Fork);
	if (!pid) {
		__atomic_store_n(&shim_pid, getpid(), __ATOMIC_RELAXED);
		if (shared)
			__atomic_store_n(&shim_stale, true, __ATOMIC_RELAXED);
	}
	return pid;
}

/*
 * daemon(3), as its manual says, with the shim's fork: the parent _exit(0)s
 * (without the library's exit work: its state is the child's now), the
 * child calls setsid(), changes to / unless @nochdir, and unless @noclose
 * puts /dev/null on 0, 1 and 2 (with the shim's dup2(), so an emulated or
 * internal descriptor there is handled as the program's dup2 would be).
 * -1 with errno: fork's, setsid's, or opening /dev/null's (ENODEV when it
 * is not the character device), as glibc's; and in the child, before
 * setsid(), ENOMEM or EAGAIN when the library's takeover could not have a
 * thread it needs (uiommu_fork_handover()).
 */
int daemon(int nochdir, int noclose)
{
	struct stat st;
	pid_t pid;
	int fd;

	if (SHIM_BYPASS())
		return REAL(daemon)(nochdir, noclose);
	shim_enter();
	pid = uiommu_fork_handover(REAL(fork));
	shim_leave();
	if (pid < 0)
		return -1;
	if (pid > 0)
		REAL(_exit)(0);
	if (setsid() < 0)
		return -1;
	if (!nochdir)
		(void)!chdir("/");
	if (noclose)
		return 0;
	fd = REAL(open)("/dev/null", O_RDWR);
	if (fd < 0)
		return -1;
	if (REAL(fstat)(fd, &st) || !S_ISCHR(st.st_mode)) {
		REAL(close)(fd);
		errno = ENODEV;
		return -1;
	}
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > 2)
		REAL(close)(fd);
	return 0;
}

pid_t fork(void)
{
	pid_t pid;

	if (SHIM_BYPASS())
		return REAL(fork)();
	/* errno is the fork's (libc's, or the library's ENOMEM / EAGAIN). */
	shim_enter();
	pid = uiommu_fork(REAL(fork));
	shim_leave();
	return pid;
}
