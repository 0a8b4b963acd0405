// SPDX-License-Identifier: MIT
/*
 * shim.c - libuiommu-preload.so: resolving libc, the re-entry guard, how a
 * path or an fd is recognised, and process exit.
 *
 * What it owns: the table of libc functions (resolved lazily, see shim.h),
 * the thread-local depth counter, the classification of paths, and fork()
 * (uiommu_fork(): a fork that cannot share the emulated files with the
 * child fails as fork(2) fails, ENOMEM or EAGAIN). The
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
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

__thread unsigned int shim_depth __attribute__((tls_model("initial-exec")));

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
