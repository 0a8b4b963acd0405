/* SPDX-License-Identifier: MIT */
/*
 * Emulated files: what the library hands out where the kernel would hand out
 * a struct file (the iommufd itself, an access fd, later fault-queue,
 * vEVENTQ and VFIO files).
 *
 * Every emulated file is backed by a real kernel file descriptor, which is
 * the number the program sees, so fd numbering, O_CLOEXEC, dup() and fork()
 * behave as for the real device (reference style.md §2). Two kinds:
 *
 *   UFILE_BACKING_MEMFD    an empty memfd: poll() on it reports "always
 *                          readable and writable", which is exactly what the
 *                          kernel reports for a file without a poll method
 *                          (the iommufd); read/write/mmap go through the ops.
 *   UFILE_BACKING_EVENTFD  a non-blocking eventfd whose readability mirrors
 *                          the file's own state (ufile_set_readable()), so a
 *                          program that poll()s the real fd without going
 *                          through the library still wakes up when a fault
 *                          or an event is queued.
 *
 * A file is reference counted. The fd table (fd number -> file) holds one
 * reference per installed fd; a call in progress and internal holders (an
 * object keeping its context alive, like iommufd_ctx_get()) hold others.
 * The last reference calls ops->release, closes the backing fd if it is
 * still open, and frees the file. ufile_close() is close(2): it removes the
 * fd from the table, closes it, and drops the table's reference.
 *
 * Locking: the fd table has one mutex (taken by lookup, install, close);
 * the reference count is atomic; the ops serialise themselves.
 */
#ifndef UIOMMU_UTIL_FILE_H
#define UIOMMU_UTIL_FILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct uiommu_file;

/*
 * File operations. Every method is optional; a missing one behaves like a
 * kernel file without it (ioctl: -ENOTTY, read/write: -EINVAL, poll: always
 * ready, mmap: -ENODEV). Methods return a value >= 0 or a negative errno.
 */
struct ufile_ops {
	const char *name;
	/* ioctl(2): @arg is the third argument as the program passed it. */
	long (*ioctl)(struct uiommu_file *file, unsigned long request, unsigned long arg);
	ssize_t (*read)(struct uiommu_file *file, void *buf, size_t count, int64_t *ppos);
	ssize_t (*write)(struct uiommu_file *file, const void *buf, size_t count, int64_t *ppos);
	/* The POLL* bits that are ready (the caller masks them with the request). */
	unsigned int (*poll)(struct uiommu_file *file);
	/*
	 * mmap(2) of the file: 0 with *out set to the mapping, or -errno. @addr,
	 * @prot, @flags and @offset are the program's.
	 */
	int (*mmap)(struct uiommu_file *file, void *addr, size_t length, int prot, int flags,
		    int64_t offset, void **out);
	/* The last reference is gone: free private_data. Never fails. */
	void (*release)(struct uiommu_file *file);
};

enum ufile_backing {
	UFILE_BACKING_MEMFD,
	UFILE_BACKING_EVENTFD,
};

struct uiommu_file {
	const struct ufile_ops *ops;
	void *private_data;
	/* The backing fd, -1 once closed. Written by ufile_close() only. */
	int fd;
	/* Open flags (O_ACCMODE, O_NONBLOCK, O_CLOEXEC) as given at creation. */
	int f_flags;
	enum ufile_backing backing;
	/* File position for read/write (the emulated files are not seekable). */
	int64_t pos;
	atomic_uint refs;
	/* UFILE_BACKING_EVENTFD: the eventfd counter is non-zero. Under readable_lock. */
	bool readable;
	atomic_flag readable_lock;
};

/*
 * Create a file with its backing fd (O_CLOEXEC in @f_flags makes it
 * close-on-exec) and install that fd in the table. Returns the file holding
 * one reference (the table's), or NULL with *err = -ENOMEM / -EMFILE / ...
 */
struct uiommu_file *ufile_create(const struct ufile_ops *ops, void *private_data,
				 enum ufile_backing backing, int f_flags, int *err);

static inline void ufile_get(struct uiommu_file *file)
{
	atomic_fetch_add_explicit(&file->refs, 1, memory_order_relaxed);
}

void ufile_put(struct uiommu_file *file);

/* The file installed at @fd, with a reference taken; NULL if none. */
struct uiommu_file *ufile_lookup(int fd);

/*
 * close(2) of the fd of @file: uninstall it, close it, drop the table's
 * reference. Returns 0, or -EBADF when the file has no installed fd.
 */
int ufile_close(struct uiommu_file *file);

/* UFILE_BACKING_EVENTFD: make the backing fd poll readable (or not). */
void ufile_set_readable(struct uiommu_file *file, bool readable);

/* Files currently installed (for leak checks in tests). */
unsigned int ufile_count(void);

/*
 * Mappings the library made for the program (an mmap() of an emulated
 * file, e.g. a vIOMMU region on the iommufd). The kernel learns that such
 * a mapping is gone from the VMA's close callback; here the program (or
 * the preload shim, which interposes munmap(2)) calls ufile_munmap(). Each
 * registered mapping keeps whatever @close releases until every one of
 * its pages has been unmapped, however many munmap() calls that takes.
 * Mappings are page granular; a fork()ed child inherits the pages but not
 * the references (its own copy of the library state).
 *
 * ufile_vma_add(): register [addr, addr + len) (page aligned); -ENOMEM.
 * ufile_munmap(): munmap(2) of [addr, addr + len): the real unmap, then
 * @close of every registered mapping left with no page. 0 or -errno (the
 * errno of munmap(2)).
 * ufile_vma_count(): registered mappings still alive (tests).
 */
int ufile_vma_add(void *addr, size_t len, void (*close)(void *priv), void *priv);
int ufile_munmap(void *addr, size_t len);
unsigned int ufile_vma_count(void);

#endif
