// SPDX-License-Identifier: MIT
/*
 * fd.c - the interposers that take a file descriptor: close and
 * close_range/closefrom, dup/dup2/dup3 and fcntl(F_DUPFD*, F_GETFL, F_SETFL), ioctl,
 * read/write/pread/pwrite (and the _FORTIFY_SOURCE checked reads), mmap and
 * munmap, fstat (and the old __fxstat).
 *
 * Each asks libuiommu whether the fd is one of its files (cheap when the
 * process has none) and, if so, forwards the call holding the file
 * (uiommu_file_get(), so a concurrent close cannot free it); otherwise the
 * call goes to libc as the program made it. Numbers that a call closes or
 * replaces by other means are given up first (uiommu_forget_fds()), so the
 * library never follows a number that now means something else.
 *
 * The library's own descriptors (uiommu_fd_internal(): Linux's kernel
 * references, which have no number there) are not the program's: close()
 * of one is EBADF and so is any dup or fcntl of one, close_range() and
 * closefrom() close around them (uiommu_close_range()), and a dup2() or
 * dup3() onto one first moves ours away (uiommu_fd_evict()), and one onto a
 * number where the library makes its own (512 and up) waits for none of
 * ours to be in the making there (uiommu_fd_dup_onto()). Other calls
 * on such a number (read, write, fstat, ioctl, mmap, poll) pass through to
 * it: a program that makes them uses a number no call gave it.
 *
 * A vfork() child shares the library's memory but not the fd table: what
 * it closes or dups changes its own table only, so those calls go straight
 * to libc there (shim_vforked(), asked only when the fd is one of ours).
 *
 * No state, no locks.
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "64-bit hosts only");
_Static_assert(sizeof(off_t) == sizeof(off64_t), "64-bit hosts only");

/* A libc function this libc lacks: ENOSYS, as the system call would say. */
#define CALL_REAL(name, ...)                                   \
	({                                                     \
		__typeof__(&name) fn_ = REAL(name);            \
		fn_ ? fn_(__VA_ARGS__) : (errno = ENOSYS, -1); \
	})

/* A number the program was never given: what the kernel says of a free one. */
static int not_open(void)
{
	errno = EBADF;
	return -1;
}

int close(int fd)
{
	if (!SHIM_BYPASS()) {
		if (uiommu_fd_internal(fd))
			return not_open();
		if (shim_fd_ours(fd) && !shim_vforked())
			return LIB(uiommu_close_fd(fd));
	}
	return REAL(close)(fd);
}

static int real_close_range(unsigned int first, unsigned int last, int flags)
{
	return CALL_REAL(close_range, first, last, flags);
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	/* Nothing of the library's in the table (or not in this one): libc's, as it is. */
	if (SHIM_BYPASS() || !uiommu_fork_shared() || shim_vforked())
		return real_close_range(first, last, flags);
	return LIB(uiommu_close_range(first, last, flags, real_close_range));
}

/* closefrom() a stretch at a time: the last one (to ~0U) with libc's own closefrom(). */
static int real_closefrom_range(unsigned int first, unsigned int last, int flags)
{
	void (*fn)(int) = REAL(closefrom);

	if (last == ~0u && fn) {
		fn((int)first);
		return 0;
	}
	return real_close_range(first, last, flags);
}

void closefrom(int lowfd)
{
	void (*fn)(int) = REAL(closefrom);

	if (!SHIM_BYPASS() && lowfd >= 0 && uiommu_fork_shared() && !shim_vforked()) {
		int saved = errno;

		(void)LIB(uiommu_close_range((unsigned int)lowfd, ~0u, 0, real_closefrom_range));
		errno = saved;
		return;
	}
	if (fn)
		fn(lowfd);
}

int dup(int oldfd)
{
	if (!SHIM_BYPASS()) {
		if (uiommu_fd_internal(oldfd))
			return not_open();
		if (shim_fd_ours(oldfd) && !shim_vforked())
			return LIB(uiommu_dup(oldfd, 0, UIOMMU_DUP_MIN));
	}
	return REAL(dup)(oldfd);
}

/*
 * dup2 / dup3 onto @newfd: when it is one of the library's own numbers,
 * ours moves away first (in a vfork() child the table is the child's: the
 * real call replaces the copy, ours stays in the parent's). 0, or -1 with
 * errno when ours cannot move (ENOMEM, EMFILE).
 */
static int evict(int newfd)
{
	if (!uiommu_fd_internal(newfd) || shim_vforked())
		return 0;
	return LIB(uiommu_fd_evict(newfd));
}

/* libc's dup2 (flags 0) or dup3, as uiommu_fd_dup_onto() calls it. */
static int real_dup_onto(int oldfd, int newfd, int flags)
{
	return flags ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
}

/*
 * libc's dup2 / dup3 onto @newfd, a number of the program's choosing: where
 * the library makes its own numbers (uiommu_fd_dup_onto(): high), not while
 * it is making or giving one up; in a process with none of ours, as it is.
 */
static int dup_onto(int oldfd, int newfd, int flags)
{
	/* A vfork() child's table is its own: nothing of ours is made there. */
	if (newfd < 512 || !uiommu_fork_shared() || shim_vforked())
		return real_dup_onto(oldfd, newfd, flags);
	return LIB(uiommu_fd_dup_onto(oldfd, newfd, flags, real_dup_onto));
}

int dup2(int oldfd, int newfd)
{
	if (!SHIM_BYPASS()) {
		bool old_ours;

		if (uiommu_fd_internal(oldfd))
			return not_open();
		old_ours = shim_fd_ours(oldfd);
		if (oldfd == newfd) {
			/* dup2(fd, fd) checks fd and changes nothing. */
			if (old_ours)
				return newfd;
		} else {
			if (evict(newfd))
				return -1;
			if ((old_ours || shim_fd_ours(newfd)) && !shim_vforked())
				return LIB(uiommu_dup(oldfd, newfd, 0));
			return dup_onto(oldfd, newfd, 0);
		}
	}
	return REAL(dup2)(oldfd, newfd);
}

int dup3(int oldfd, int newfd, int flags)
{
	/* Bad flags and oldfd == newfd are EINVAL from libc itself. */
	if (!SHIM_BYPASS() && !(flags & ~O_CLOEXEC) && oldfd != newfd) {
		if (uiommu_fd_internal(oldfd))
			return not_open();
		if (evict(newfd))
			return -1;
		if ((shim_fd_ours(oldfd) || shim_fd_ours(newfd)) && !shim_vforked())
			return LIB(uiommu_dup(oldfd, newfd, flags));
		return dup_onto(oldfd, newfd, flags);
	}
	return REAL(dup3)(oldfd, newfd, flags);
}

static int fcntl_common(int fd, int cmd, unsigned long arg, bool is64)
{
	struct uiommu_file *file;
	int rc;

	/* Every command on a number the program was never given: EBADF. */
	if (!SHIM_BYPASS() && uiommu_fd_internal(fd))
		return not_open();
	if (!SHIM_BYPASS() && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && shim_fd_ours(fd) &&
	    !shim_vforked())
		return LIB(uiommu_dup(fd, (int)arg,
				      UIOMMU_DUP_MIN | (cmd == F_DUPFD_CLOEXEC ? O_CLOEXEC : 0)));
	/* The file's status flags are the library's; F_GETFD / F_SETFD are the number's (real). */
	if (!SHIM_BYPASS() && (cmd == F_GETFL || cmd == F_SETFL) && (file = shim_file_get(fd))) {
		rc = LIB(uiommu_fcntl(file, cmd, arg));
		shim_file_put(file);
		return rc;
	}
	return is64 ? REAL(fcntl64)(fd, cmd, arg) : REAL(fcntl)(fd, cmd, arg);
}

/*
 * The third argument is an int, a long or a pointer depending on @cmd; it
 * travels as an unsigned long, which every one of them fits, and libc
 * reads it back as the type @cmd wants.
 */
int fcntl(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, false);
}

int fcntl64(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, true);
}

int ioctl(int fd, unsigned long request, ...)
{
	struct uiommu_file *file;
	unsigned long arg;
	va_list ap;
	int rc;

	va_start(ap, request);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (SHIM_BYPASS() || !(file = shim_file_get(fd)))
		return REAL(ioctl)(fd, request, arg);
	rc = LIB(uiommu_ioctl(file, request, arg));
	shim_file_put(file);
	return rc;
}

/* One call on the file behind @fd, held; @passthrough when it is not ours. */
#define ON_FILE(fd, call, passthrough)                               \
	({                                                           \
		struct uiommu_file *file_ = NULL;                    \
		__typeof__(passthrough) onf_r_;                      \
		if (SHIM_BYPASS() || !(file_ = shim_file_get(fd))) { \
			onf_r_ = (passthrough);                      \
		} else {                                             \
			struct uiommu_file *file = file_;            \
			onf_r_ = LIB(call);                          \
			shim_file_put(file_);                        \
		}                                                    \
		onf_r_;                                              \
	})

ssize_t read(int fd, void *buf, size_t count)
{
	return ON_FILE(fd, uiommu_read(file, buf, count), REAL(read)(fd, buf, count));
}

ssize_t write(int fd, const void *buf, size_t count)
{
	return ON_FILE(fd, uiommu_write(file, buf, count), REAL(write)(fd, buf, count));
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	return ON_FILE(fd, uiommu_pread(file, buf, count, offset),
		       REAL(pread)(fd, buf, count, offset));
}

ssize_t pread64(int fd, void *buf, size_t count, off64_t offset)
{
	return ON_FILE(fd, uiommu_pread(file, buf, count, offset),
		       REAL(pread64)(fd, buf, count, offset));
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	return ON_FILE(fd, uiommu_pwrite(file, buf, count, offset),
		       REAL(pwrite)(fd, buf, count, offset));
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset)
{
	return ON_FILE(fd, uiommu_pwrite(file, buf, count, offset),
		       REAL(pwrite64)(fd, buf, count, offset));
}

/* _FORTIFY_SOURCE: a read larger than the buffer is libc's to report (it aborts). */
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
	if (count > buflen)
		return REAL(__read_chk)(fd, buf, count, buflen);
	return ON_FILE(fd, uiommu_read(file, buf, count), REAL(__read_chk)(fd, buf, count, buflen));
}

ssize_t __pread_chk(int fd, void *buf, size_t count, off_t offset, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t count, off_t offset, size_t buflen)
{
	if (count > buflen)
		return REAL(__pread_chk)(fd, buf, count, offset, buflen);
	return ON_FILE(fd, uiommu_pread(file, buf, count, offset),
		       REAL(__pread_chk)(fd, buf, count, offset, buflen));
}

ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t offset, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t offset, size_t buflen)
{
	if (count > buflen)
		return REAL(__pread64_chk)(fd, buf, count, offset, buflen);
	return ON_FILE(fd, uiommu_pread(file, buf, count, offset),
		       REAL(__pread64_chk)(fd, buf, count, offset, buflen));
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	if (flags & MAP_ANONYMOUS)
		return REAL(mmap)(addr, length, prot, flags, fd, offset);
	return ON_FILE(fd, uiommu_mmap(file, addr, length, prot, flags, offset),
		       REAL(mmap)(addr, length, prot, flags, fd, offset));
}

void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off64_t offset)
{
	if (flags & MAP_ANONYMOUS)
		return REAL(mmap64)(addr, length, prot, flags, fd, offset);
	return ON_FILE(fd, uiommu_mmap(file, addr, length, prot, flags, offset),
		       REAL(mmap64)(addr, length, prot, flags, fd, offset));
}

/*
 * Every munmap goes through the library, which makes the real one and
 * notices when a mapping it handed out is gone (a vIOMMU region stays busy
 * while mapped); with no such mapping alive that is one atomic load.
 */
int munmap(void *addr, size_t length)
{
	if (SHIM_BYPASS())
		return REAL(munmap)(addr, length);
	return LIB(uiommu_munmap(addr, length));
}

int fstat(int fd, struct stat *st)
{
	return ON_FILE(fd, uiommu_fstat(file, st), REAL(fstat)(fd, st));
}

int fstat64(int fd, struct stat64 *st)
{
	return ON_FILE(fd, uiommu_fstat(file, (struct stat *)st), REAL(fstat64)(fd, st));
}

/*
 * glibc < 2.33 binaries: fstat() was __fxstat(_STAT_VER, ...), the same
 * struct on 64-bit hosts. These pass through to libc's own compat entry
 * points, never to fstat(): a sanitizer runtime loaded ahead of the shim
 * implements its fstat interceptor with __fxstat64, which would loop.
 */
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st)
{
	return ON_FILE(fd, uiommu_fstat(file, st), REAL(__fxstat)(ver, fd, st));
}

int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstat64(int ver, int fd, struct stat64 *st)
{
	return ON_FILE(fd, uiommu_fstat(file, (struct stat *)st), REAL(__fxstat64)(ver, fd, st));
}
