// SPDX-License-Identifier: MIT
/*
 * path.c - the interposers that take a path: open/openat (and their 64
 * and _FORTIFY_SOURCE variants), creat, stat/lstat/fstatat/statx (and the
 * old __xstat family), access/faccessat/euidaccess/eaccess, opendir, chdir,
 * fopen.
 *
 * shim_classify() decides where a path goes: to libuiommu (the emulated
 * namespace: /dev/iommu, /dev/vfio/..., this process's fail-nth files; the
 * library answers, ENOENT included, and the host's kernel never sees the
 * path), to a private stand-in on the host (/sys/kernel/debug, see
 * uiommu_path_redirect()), or unchanged to libc. opendir and chdir are
 * interposed for the stand-in: a program's directory handle or working
 * directory is then the private one, so its relative opens stay there.
 *
 * No state, no locks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim.h"

#define OPEN_NEEDS_MODE(flags) (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE)

/* open(2) of an emulated path: the new fd, or -1 with errno. */
static int open_emulated(const char *abs, int flags)
{
	struct uiommu_file *file = LIB(uiommu_open(abs, flags));

	return file ? uiommu_file_fd(file) : -1;
}

enum open_kind { OK_OPEN, OK_OPEN64, OK_OPENAT, OK_OPENAT64 };

static int open_real(enum open_kind kind, int dirfd, const char *path, int flags, mode_t mode)
{
	switch (kind) {
	case OK_OPEN:
		return REAL(open)(path, flags, mode);
	case OK_OPEN64:
		return REAL(open64)(path, flags, mode);
	case OK_OPENAT:
		return REAL(openat)(dirfd, path, flags, mode);
	default:
		return REAL(openat64)(dirfd, path, flags, mode);
	}
}

static int open_common(enum open_kind kind, int dirfd, const char *path, int flags, mode_t mode)
{
	char abs[PATH_MAX];

	if (!SHIM_BYPASS()) {
		switch (shim_classify(dirfd, path, abs, sizeof(abs))) {
		case SHIM_PATH_EMULATED:
			return open_emulated(abs, flags);
		case SHIM_PATH_REDIRECT:
			return open_real(kind == OK_OPEN64 || kind == OK_OPENAT64 ? OK_OPEN64
										  : OK_OPEN,
					 AT_FDCWD, abs, flags, mode);
		case SHIM_PATH_ERROR:
			return -1;
		case SHIM_PATH_HOST:
			break;
		}
	}
	return open_real(kind, dirfd, path, flags, mode);
}

#define MODE_ARG(flags)                               \
	({                                            \
		mode_t m_ = 0;                        \
		if (OPEN_NEEDS_MODE(flags)) {         \
			va_list ap;                   \
			va_start(ap, flags);          \
			m_ = (mode_t)va_arg(ap, int); \
			va_end(ap);                   \
		}                                     \
		m_;                                   \
	})

int open(const char *path, int flags, ...)
{
	return open_common(OK_OPEN, AT_FDCWD, path, flags, MODE_ARG(flags));
}

int open64(const char *path, int flags, ...)
{
	return open_common(OK_OPEN64, AT_FDCWD, path, flags, MODE_ARG(flags));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	return open_common(OK_OPENAT, dirfd, path, flags, MODE_ARG(flags));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	return open_common(OK_OPENAT64, dirfd, path, flags, MODE_ARG(flags));
}

int creat(const char *path, mode_t mode)
{
	return open_common(OK_OPEN, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode)
{
	return open_common(OK_OPEN64, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/*
 * _FORTIFY_SOURCE opens: an O_CREAT without a mode is libc's to report
 * (it aborts); otherwise they are open()/openat().
 */
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	if (OPEN_NEEDS_MODE(flags))
		return REAL(__open_2)(path, flags);
	return open_common(OK_OPEN, AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
	if (OPEN_NEEDS_MODE(flags))
		return REAL(__open64_2)(path, flags);
	return open_common(OK_OPEN64, AT_FDCWD, path, flags, 0);
}

int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	if (OPEN_NEEDS_MODE(flags))
		return REAL(__openat_2)(dirfd, path, flags);
	return open_common(OK_OPENAT, dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags)
{
	if (OPEN_NEEDS_MODE(flags))
		return REAL(__openat64_2)(dirfd, path, flags);
	return open_common(OK_OPENAT64, dirfd, path, flags, 0);
}

/* ---------------------------------------------------------------------- */
/* stat                                                                   */

/*
 * stat-like call on @path relative to @dirfd: *done set when the shim
 * answered (the result is returned), else the caller passes through, to
 * @redirect when that was filled in. @nofollow: lstat(2), or
 * AT_SYMLINK_NOFOLLOW (the emulated sysfs links are then shown themselves).
 */
static int stat_path(int dirfd, const char *path, struct stat *st, char *redirect, size_t size,
		     bool *done, bool nofollow)
{
	char abs[PATH_MAX];

	*done = false;
	redirect[0] = '\0';
	if (SHIM_BYPASS())
		return 0;
	switch (shim_classify(dirfd, path, abs, sizeof(abs))) {
	case SHIM_PATH_EMULATED:
		*done = true;
		return nofollow ? LIB(uiommu_lstat(abs, st)) : LIB(uiommu_stat(abs, st));
	case SHIM_PATH_REDIRECT:
		if (strlen(abs) < size)
			strcpy(redirect, abs);
		return 0;
	case SHIM_PATH_ERROR:
		*done = true;
		return -1;
	default:
		return 0;
	}
}

#define STAT_WRAPPER(name, type, nofollow)                                                        \
	int name(const char *path, type *st)                                                      \
	{                                                                                         \
		char redirect[PATH_MAX];                                                          \
		bool done;                                                                        \
		int rc = stat_path(AT_FDCWD, path, (struct stat *)st, redirect, sizeof(redirect), \
				   &done, nofollow);                                              \
		if (done)                                                                         \
			return rc;                                                                \
		return REAL(name)(redirect[0] ? redirect : path, st);                             \
	}

STAT_WRAPPER(stat, struct stat, false)
STAT_WRAPPER(stat64, struct stat64, false)
STAT_WRAPPER(lstat, struct stat, true)
STAT_WRAPPER(lstat64, struct stat64, true)

static int fstatat_common(int dirfd, const char *path, struct stat *st, int flags, bool is64)
{
	char redirect[PATH_MAX];
	bool done;
	int rc;

	if (path && !*path && (flags & AT_EMPTY_PATH) && !SHIM_BYPASS()) {
		struct uiommu_file *file = shim_file_get(dirfd);

		if (file) {
			rc = LIB(uiommu_fstat(file, st));
			shim_file_put(file);
			return rc;
		}
	}
	rc = stat_path(dirfd, path, st, redirect, sizeof(redirect), &done,
		       flags & AT_SYMLINK_NOFOLLOW);
	if (done)
		return rc;
	if (redirect[0])
		return is64 ? REAL(fstatat64)(AT_FDCWD, redirect, (struct stat64 *)st, flags)
			    : REAL(fstatat)(AT_FDCWD, redirect, st, flags);
	return is64 ? REAL(fstatat64)(dirfd, path, (struct stat64 *)st, flags)
		    : REAL(fstatat)(dirfd, path, st, flags);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return fstatat_common(dirfd, path, st, flags, false);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat_common(dirfd, path, (struct stat *)st, flags, true);
}

/*
 * glibc < 2.33 binaries call these (the struct is the same on 64-bit
 * hosts). They pass through to libc's own compat entry points, never to
 * stat() and friends: a sanitizer runtime loaded ahead of the shim
 * implements its stat interceptors with them, which would loop.
 */
#define XSTAT_WRAPPER(name, type, nofollow)                                                       \
	int name(int ver, const char *path, type *st);                                            \
	int name(int ver, const char *path, type *st)                                             \
	{                                                                                         \
		char redirect[PATH_MAX];                                                          \
		bool done;                                                                        \
		int rc = stat_path(AT_FDCWD, path, (struct stat *)st, redirect, sizeof(redirect), \
				   &done, nofollow);                                              \
		if (done)                                                                         \
			return rc;                                                                \
		return REAL(name)(ver, redirect[0] ? redirect : path, st);                        \
	}

XSTAT_WRAPPER(__xstat, struct stat, false)
XSTAT_WRAPPER(__xstat64, struct stat64, false)
XSTAT_WRAPPER(__lxstat, struct stat, true)
XSTAT_WRAPPER(__lxstat64, struct stat64, true)

#define FXSTATAT_WRAPPER(name, type)                                                              \
	int name(int ver, int dirfd, const char *path, type *st, int flags);                      \
	int name(int ver, int dirfd, const char *path, type *st, int flags)                       \
	{                                                                                         \
		char redirect[PATH_MAX];                                                          \
		struct uiommu_file *file;                                                         \
		bool done;                                                                        \
		int rc;                                                                           \
		if (path && !*path && (flags & AT_EMPTY_PATH) && !SHIM_BYPASS() &&                \
		    (file = shim_file_get(dirfd))) {                                              \
			rc = LIB(uiommu_fstat(file, (struct stat *)st));                          \
			shim_file_put(file);                                                      \
			return rc;                                                                \
		}                                                                                 \
		rc = stat_path(dirfd, path, (struct stat *)st, redirect, sizeof(redirect), &done, \
			       flags & AT_SYMLINK_NOFOLLOW);                                      \
		if (done)                                                                         \
			return rc;                                                                \
		if (redirect[0])                                                                  \
			return REAL(name)(ver, AT_FDCWD, redirect, st, flags);                    \
		return REAL(name)(ver, dirfd, path, st, flags);                                   \
	}

FXSTATAT_WRAPPER(__fxstatat, struct stat)
FXSTATAT_WRAPPER(__fxstatat64, struct stat64)

static struct statx_timestamp to_stx(struct timespec ts)
{
	return (struct statx_timestamp){.tv_sec = ts.tv_sec, .tv_nsec = (uint32_t)ts.tv_nsec};
}

/* What statx(2) reports for the basic fields of @st. */
static void stat_to_statx(const struct stat *st, unsigned int mask, struct statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st->st_blksize;
	stx->stx_nlink = (uint32_t)st->st_nlink;
	stx->stx_uid = st->st_uid;
	stx->stx_gid = st->st_gid;
	stx->stx_mode = (uint16_t)st->st_mode;
	stx->stx_ino = st->st_ino;
	stx->stx_size = (uint64_t)st->st_size;
	stx->stx_blocks = (uint64_t)st->st_blocks;
	stx->stx_atime = to_stx(st->st_atim);
	stx->stx_ctime = to_stx(st->st_ctim);
	stx->stx_mtime = to_stx(st->st_mtim);
	stx->stx_rdev_major = major(st->st_rdev);
	stx->stx_rdev_minor = minor(st->st_rdev);
	stx->stx_dev_major = major(st->st_dev);
	stx->stx_dev_minor = minor(st->st_dev);
	(void)mask;
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	int (*fn)(int, const char *, int, unsigned int, struct statx *) = REAL(statx);
	char redirect[PATH_MAX];
	struct stat st;
	bool done;
	int rc;

	if (!fn) {
		errno = ENOSYS;
		return -1;
	}
	if (SHIM_BYPASS())
		return fn(dirfd, path, flags, mask, stx);
	if (path && !*path && (flags & AT_EMPTY_PATH)) {
		struct uiommu_file *file = shim_file_get(dirfd);

		if (!file)
			return fn(dirfd, path, flags, mask, stx);
		rc = LIB(uiommu_fstat(file, &st));
		shim_file_put(file);
		if (!rc)
			stat_to_statx(&st, mask, stx);
		return rc;
	}
	rc = stat_path(dirfd, path, &st, redirect, sizeof(redirect), &done,
		       flags & AT_SYMLINK_NOFOLLOW);
	if (done) {
		if (!rc)
			stat_to_statx(&st, mask, stx);
		return rc;
	}
	if (redirect[0])
		return fn(AT_FDCWD, redirect, flags, mask, stx);
	return fn(dirfd, path, flags, mask, stx);
}

/* ---------------------------------------------------------------------- */
/* access                                                                 */

static int access_common(int dirfd, const char *path, int mode, int flags, int kind)
{
	char abs[PATH_MAX];
	enum shim_path where = SHIM_PATH_HOST;

	if (!SHIM_BYPASS())
		where = shim_classify(dirfd, path, abs, sizeof(abs));
	switch (where) {
	case SHIM_PATH_EMULATED:
		if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
			errno = EINVAL;
			return -1;
		}
		return LIB(uiommu_access(abs, mode, flags & AT_EACCESS));
	case SHIM_PATH_ERROR:
		return -1;
	case SHIM_PATH_REDIRECT:
		dirfd = AT_FDCWD;
		path = abs;
		break;
	case SHIM_PATH_HOST:
		break;
	}
	switch (kind) {
	case 0:
		return REAL(access)(path, mode);
	case 1:
		return REAL(faccessat)(dirfd, path, mode, flags);
	case 2:
		return REAL(euidaccess)(path, mode);
	default:
		return REAL(eaccess)(path, mode);
	}
}

int access(const char *path, int mode)
{
	return access_common(AT_FDCWD, path, mode, 0, 0);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
	return access_common(dirfd, path, mode, flags, 1);
}

int euidaccess(const char *path, int mode)
{
	return access_common(AT_FDCWD, path, mode, AT_EACCESS, 2);
}

int eaccess(const char *path, int mode)
{
	return access_common(AT_FDCWD, path, mode, AT_EACCESS, 3);
}

/* ---------------------------------------------------------------------- */
/* Directories and stdio                                                  */

/*
 * An emulated path used as a directory: ENOTDIR for a node, EOPNOTSUPP for
 * an emulated directory (there is no host directory to hand out), else
 * the lookup's errno.
 */
static void not_a_directory(const char *abs)
{
	struct stat st;

	if (!LIB(uiommu_stat(abs, &st)))
		errno = S_ISDIR(st.st_mode) ? EOPNOTSUPP : ENOTDIR;
}

DIR *opendir(const char *path)
{
	char abs[PATH_MAX];

	if (!SHIM_BYPASS()) {
		switch (shim_classify(AT_FDCWD, path, abs, sizeof(abs))) {
		case SHIM_PATH_EMULATED:
			not_a_directory(abs);
			return NULL;
		case SHIM_PATH_REDIRECT:
			return REAL(opendir)(abs);
		case SHIM_PATH_ERROR:
			return NULL;
		case SHIM_PATH_HOST:
			break;
		}
	}
	return REAL(opendir)(path);
}

int chdir(const char *path)
{
	char abs[PATH_MAX];

	if (!SHIM_BYPASS()) {
		switch (shim_classify(AT_FDCWD, path, abs, sizeof(abs))) {
		case SHIM_PATH_EMULATED:
			not_a_directory(abs);
			return -1;
		case SHIM_PATH_REDIRECT:
			return REAL(chdir)(abs);
		case SHIM_PATH_ERROR:
			return -1;
		case SHIM_PATH_HOST:
			break;
		}
	}
	return REAL(chdir)(path);
}

/* stdio on an emulated file: a cookie stream whose reads and writes are the file's. */
static ssize_t cookie_read(void *c, char *buf, size_t size)
{
	return read((int)(intptr_t)c, buf, size);
}

static ssize_t cookie_write(void *c, const char *buf, size_t size)
{
	return write((int)(intptr_t)c, buf, size);
}

static int cookie_close(void *c)
{
	return close((int)(intptr_t)c);
}

/* fopen(3)'s mode string as open(2) flags; -1 for a bad one. */
static int fopen_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -1;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'e')
			flags |= O_CLOEXEC;
		else if (*m == 'x')
			flags |= O_EXCL;
	}
	return flags;
}

static FILE *fopen_common(const char *path, const char *mode, bool is64)
{
	static const cookie_io_functions_t io = {
		.read = cookie_read,
		.write = cookie_write,
		.close = cookie_close,
	};
	char abs[PATH_MAX];
	FILE *f;
	int flags, fd;

	if (!SHIM_BYPASS() && mode) {
		switch (shim_classify(AT_FDCWD, path, abs, sizeof(abs))) {
		case SHIM_PATH_EMULATED:
			flags = fopen_flags(mode);
			if (flags < 0) {
				errno = EINVAL;
				return NULL;
			}
			fd = open_emulated(abs, flags);
			if (fd < 0)
				return NULL;
			f = fopencookie((void *)(intptr_t)fd, mode, io);
			if (!f) {
				int saved = errno;

				close(fd);
				errno = saved;
			}
			return f;
		case SHIM_PATH_REDIRECT:
			path = abs;
			break;
		case SHIM_PATH_ERROR:
			return NULL;
		case SHIM_PATH_HOST:
			break;
		}
	}
	return is64 ? REAL(fopen64)(path, mode) : REAL(fopen)(path, mode);
}

FILE *fopen(const char *path, const char *mode)
{
	return fopen_common(path, mode, false);
}

FILE *fopen64(const char *path, const char *mode)
{
	return fopen_common(path, mode, true);
}
