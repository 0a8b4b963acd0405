// SPDX-License-Identifier: MIT
/*
 * uiommu_file.c - the exported file API of include/uiommu/uiommu.h:
 * uiommu_open() and the system-call-shaped functions on emulated files and
 * on their fd numbers.
 *
 * What it owns: the conversion from the internal convention (value >= 0 or
 * -errno) to the system call one (-1 and errno), and the checks Linux's VFS
 * makes before a file's own method runs (access mode: EBADF; no method:
 * EINVAL; pread on a file that has no position: ESPIPE; a negative
 * position: EINVAL). Every call holds a reference on the file for its
 * duration, so a concurrent close cannot free it under the call (the
 * kernel's fdget()), and runs inside the fork gate (util/forkgate.h), so a
 * fork() in another thread sees the library between calls. Calls that find
 * nothing of the library's to act on (no fd installed, no mapping alive)
 * return before the gate, so a process that never opens an emulated file
 * never sets it up. No locks of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>

#include <uiommu/uiommu.h>

#include <linux/vfio.h>

#include "iommufd/iommufd_private.h"
#include "uiommu_private.h"
#include "util/file.h"
#include "util/forkgate.h"
#include "util/intfd.h"
#include "util/stats.h"

static inline long ret_errno(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

UIOMMU_EXPORT struct uiommu_file *uiommu_open(const char *path, int flags)
{
	struct uiommu_file *file;
	int err = 0;

	fork_gate_enter();
	file = upath_open(path, flags, &err);
	fork_gate_exit();
	if (!file)
		errno = -err;
	return file;
}

/* Enter a call on @file: the gate and a reference. False (errno EBADF) without a file. */
static bool file_enter(struct uiommu_file *file)
{
	if (!file) {
		errno = EBADF;
		return false;
	}
	fork_gate_enter();
	ufile_get(file);
	return true;
}

static void file_exit(struct uiommu_file *file)
{
	ufile_put(file);
	fork_gate_exit();
}

/*
 * VFIO's ioctls by name, for the statistics of files that do not count
 * their own. The numbers overlap between the container, group and device
 * files (VFIO_BASE + 12 is IOMMU_GET_INFO on one, GET_PCI_HOT_RESET_INFO on
 * another), so the file's kind picks the table.
 */
#define N(x)    \
	case x: \
		return #x

static const char *vfio_container_ioctl_name(unsigned int request)
{
	switch (request) {
		N(VFIO_GET_API_VERSION);
		N(VFIO_CHECK_EXTENSION);
		N(VFIO_SET_IOMMU);
		N(VFIO_IOMMU_GET_INFO);
		N(VFIO_IOMMU_MAP_DMA);
		N(VFIO_IOMMU_UNMAP_DMA);
		N(VFIO_IOMMU_ENABLE);
		N(VFIO_IOMMU_DISABLE);
		N(VFIO_IOMMU_DIRTY_PAGES);
		N(VFIO_IOMMU_SET_PASID_TABLE);
		N(VFIO_IOMMU_CACHE_INVALIDATE);
		N(VFIO_IOMMU_SET_MSI_BINDING);
	default:
		return NULL;
	}
}

static const char *vfio_group_ioctl_name(unsigned int request)
{
	switch (request) {
		N(VFIO_GROUP_GET_STATUS);
		N(VFIO_GROUP_SET_CONTAINER);
		N(VFIO_GROUP_UNSET_CONTAINER);
		N(VFIO_GROUP_GET_DEVICE_FD);
	default:
		return NULL;
	}
}

static const char *vfio_device_ioctl_name(unsigned int request)
{
	switch (request) {
		N(VFIO_DEVICE_GET_INFO);
		N(VFIO_DEVICE_GET_REGION_INFO);
		N(VFIO_DEVICE_GET_IRQ_INFO);
		N(VFIO_DEVICE_SET_IRQS);
		N(VFIO_DEVICE_RESET);
		N(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO);
		N(VFIO_DEVICE_PCI_HOT_RESET);
		N(VFIO_DEVICE_FEATURE);
		N(VFIO_DEVICE_BIND_IOMMUFD);
		N(VFIO_DEVICE_ATTACH_IOMMUFD_PT);
		N(VFIO_DEVICE_DETACH_IOMMUFD_PT);
	default:
		return NULL;
	}
}
#undef N

static const char *ioctl_name(const struct uiommu_file *file, unsigned long request)
{
	const char *kind = file->ops->name, *name = NULL;

	if (!strcmp(kind, "vfio-container"))
		name = vfio_container_ioctl_name((unsigned int)request);
	else if (!strcmp(kind, "vfio-group"))
		name = vfio_group_ioctl_name((unsigned int)request);
	else if (!strcmp(kind, "vfio-device"))
		name = vfio_device_ioctl_name((unsigned int)request);
	return name ? name : "unknown";
}

long ufile_op_ioctl(struct uiommu_file *file, unsigned long request, unsigned long arg)
{
	long rc;

	if ((file->f_flags & O_PATH) == O_PATH)
		rc = -EBADF;
	else
		rc = file->ops->ioctl ? file->ops->ioctl(file, request, arg) : -ENOTTY;
	if (!file->ops->counts_ioctls && stats_enabled())
		stats_named(STATS_IOCTLS, ioctl_name(file, request), rc < 0 ? (int)rc : 0);
	return rc;
}

UIOMMU_EXPORT int uiommu_ioctl(struct uiommu_file *file, unsigned long request, ...)
{
	unsigned long arg;
	va_list ap;
	long rc;

	va_start(ap, request);
	arg = va_arg(ap, unsigned long);
	va_end(ap);

	if (!file_enter(file))
		return -1;
	if (file->remote || file->dead)
		rc = uremote_call(file, UREMOTE_IOCTL, request, arg, 0);
	else
		rc = ufile_op_ioctl(file, request, arg);
	file_exit(file);
	return (int)ret_errno(rc);
}

/* vfs_read()/vfs_write() checks, then the method at *ppos. */
static ssize_t file_rw(struct uiommu_file *file, void *buf, size_t count, int64_t *ppos, bool write)
{
	int acc = file->f_flags & O_ACCMODE;

	if ((file->f_flags & O_PATH) == O_PATH || acc == (write ? O_RDONLY : O_WRONLY))
		return -EBADF;
	if (write ? !file->ops->write : !file->ops->read)
		return -EINVAL;
	if (*ppos < 0)
		return -EINVAL;
	return write ? file->ops->write(file, buf, count, ppos)
		     : file->ops->read(file, buf, count, ppos);
}

static ssize_t file_prw(struct uiommu_file *file, void *buf, size_t count, off_t offset, bool write)
{
	int64_t pos = offset;

	if (offset < 0)
		return -EINVAL;
	if (!(file->ops->fmode & UFILE_FMODE_PREAD))
		return -ESPIPE;
	return file_rw(file, buf, count, &pos, write);
}

ssize_t ufile_op_rw(struct uiommu_file *file, void *buf, size_t count, int64_t offset, bool pos,
		    bool write)
{
	return pos ? file_prw(file, buf, count, (off_t)offset, write)
		   : file_rw(file, buf, count, &file->pos, write);
}

/* read/write/pread/pwrite, here or at the owner of an inherited file. */
static ssize_t file_io(struct uiommu_file *file, void *buf, size_t count, off_t offset, bool pos,
		       bool write)
{
	ssize_t rc;

	if (!file_enter(file))
		return -1;
	if (file->remote || file->dead)
		rc = uremote_call(file,
				  pos ? (write ? UREMOTE_PWRITE : UREMOTE_PREAD)
				      : (write ? UREMOTE_WRITE : UREMOTE_READ),
				  (uintptr_t)buf, count, offset);
	else
		rc = ufile_op_rw(file, buf, count, offset, pos, write);
	file_exit(file);
	return ret_errno(rc);
}

UIOMMU_EXPORT ssize_t uiommu_read(struct uiommu_file *file, void *buf, size_t count)
{
	return file_io(file, buf, count, 0, false, false);
}

UIOMMU_EXPORT ssize_t uiommu_write(struct uiommu_file *file, const void *buf, size_t count)
{
	return file_io(file, (void *)buf, count, 0, false, true);
}

UIOMMU_EXPORT ssize_t uiommu_pread(struct uiommu_file *file, void *buf, size_t count, off_t offset)
{
	return file_io(file, buf, count, offset, true, false);
}

UIOMMU_EXPORT ssize_t uiommu_pwrite(struct uiommu_file *file, const void *buf, size_t count,
				    off_t offset)
{
	return file_io(file, (void *)buf, count, offset, true, true);
}

unsigned int ufile_op_poll(struct uiommu_file *file)
{
	/* Linux's DEFAULT_POLLMASK for files without a poll method. */
	return file->ops->poll ? file->ops->poll(file)
			       : (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
}

UIOMMU_EXPORT int uiommu_poll(struct uiommu_file *file, short events)
{
	long mask;

	if (!file_enter(file))
		return -1;
	if (file->remote || file->dead)
		mask = uremote_call(file, UREMOTE_POLL, 0, 0, 0);
	else
		mask = ufile_op_poll(file);
	file_exit(file);
	/* The owner is gone: what Linux reports for a hung-up file. */
	if (mask < 0)
		mask = POLLERR | POLLHUP;
	return (int)((unsigned int)mask & ((unsigned short)events | POLLERR | POLLHUP));
}

UIOMMU_EXPORT void *uiommu_mmap(struct uiommu_file *file, void *addr, size_t length, int prot,
				int flags, off_t offset)
{
	void *out = MAP_FAILED;
	int rc;

	if (!file_enter(file))
		return MAP_FAILED;
	if ((file->f_flags & O_PATH) == O_PATH || file->dead)
		rc = -EBADF;
	else if (file->remote)
		/* The owner maps its memory (a memfd) here over the channel. */
		rc = uremote_mmap(file, addr, length, prot, flags, offset, &out);
	else
		rc = file->ops->mmap
			     ? file->ops->mmap(file, addr, length, prot, flags, offset, &out)
			     : -ENODEV;
	file_exit(file);
	if (rc) {
		errno = -rc;
		return MAP_FAILED;
	}
	return out;
}

/* F_GETFL / F_SETFL of the file itself (shared by its numbers), here or at the owner. */
long ufile_op_fcntl(struct uiommu_file *file, int cmd, unsigned long arg)
{
	switch (cmd) {
	case F_GETFL:
		return ufile_getfl(file);
	case F_SETFL:
		return ufile_setfl(file, (int)arg);
	default:
		return -EINVAL;
	}
}

UIOMMU_EXPORT int uiommu_fcntl(struct uiommu_file *file, int cmd, unsigned long arg)
{
	long rc;

	if (cmd != F_GETFL && cmd != F_SETFL) {
		errno = EINVAL;
		return -1;
	}
	if (!file_enter(file))
		return -1;
	if (file->dead)
		rc = -EBADF;
	else if (file->remote)
		/* The open file description is the owner's: so are its flags. */
		rc = uremote_call(file, UREMOTE_FCNTL, (uint64_t)cmd, arg, 0);
	else
		rc = ufile_op_fcntl(file, cmd, arg);
	file_exit(file);
	return (int)ret_errno(rc);
}

UIOMMU_EXPORT int uiommu_munmap(void *addr, size_t length)
{
	int rc;

	/* The shim sends every munmap here: with no mapping of ours alive, no gate. */
	if (!ufile_any_vma())
		return munmap(addr, length);
	fork_gate_enter();
	rc = ufile_munmap(addr, length);
	fork_gate_exit();
	return (int)ret_errno(rc);
}

UIOMMU_EXPORT int uiommu_close(struct uiommu_file *file)
{
	int rc;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	fork_gate_enter();
	rc = ufile_close(file);
	fork_gate_exit();
	return (int)ret_errno(rc);
}

UIOMMU_EXPORT int uiommu_close_fd(int fd)
{
	int rc;

	fork_gate_enter();
	rc = ufile_close_fd(fd);
	fork_gate_exit();
	return (int)ret_errno(rc);
}

UIOMMU_EXPORT int uiommu_dup(int oldfd, int newfd, int flags)
{
	int rc;

	if (flags & ~(UIOMMU_DUP_MIN | O_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	fork_gate_enter();
	rc = ufile_dup(oldfd, newfd,
		       (flags & O_CLOEXEC) | (flags & UIOMMU_DUP_MIN ? UFILE_DUP_MIN : 0));
	fork_gate_exit();
	return (int)ret_errno(rc);
}

UIOMMU_EXPORT unsigned int uiommu_forget_fds(unsigned int first, unsigned int last)
{
	unsigned int n;

	if (!ufile_any_fd())
		return 0;
	fork_gate_enter();
	n = ufile_forget(first, last);
	fork_gate_exit();
	return n;
}

UIOMMU_EXPORT bool uiommu_fd_internal(int fd)
{
	return intfd_has(fd);
}

/* Close [@first, @last] around the internal descriptors, with @close_fn; the gate is closed. */
static int close_around(unsigned int first, unsigned int last, int flags,
			int (*close_fn)(unsigned int, unsigned int, int))
{
	unsigned int from = first;

	for (;;) {
		int k = intfd_next(from);
		unsigned int end = k < 0 || (unsigned int)k > last ? last : (unsigned int)k - 1;

		if (k < 0 || (unsigned int)k != from) {
			if (close_fn(from, end, flags))
				return -1;
		}
		if (k < 0 || (unsigned int)k >= last)
			return 0;
		from = (unsigned int)k + 1;
	}
}

UIOMMU_EXPORT int uiommu_close_range(unsigned int first, unsigned int last, int flags,
				     int (*close_fn)(unsigned int, unsigned int, int))
{
	bool locked;
	int rc, err;

	if (first > last || (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * With the gate closed: no call of the library is making or using a
	 * descriptor while the range is split around them.
	 */
	locked = fork_gate_lock();
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		(void)ufile_forget(first, last);
	if ((flags & CLOSE_RANGE_CLOEXEC) || !intfd_any()) {
		/* Ours are close-on-exec already: setting it again changes nothing. */
		rc = close_fn(first, last, flags);
	} else if ((flags & CLOSE_RANGE_UNSHARE) && unshare(CLONE_FILES)) {
		rc = -1;
	} else {
		rc = close_around(first, last, flags & ~CLOSE_RANGE_UNSHARE, close_fn);
	}
	err = errno;
	if (locked)
		fork_gate_unlock();
	errno = err;
	return rc;
}

UIOMMU_EXPORT int uiommu_fd_evict(int fd)
{
	bool locked;
	int rc;

	if (!intfd_has(fd))
		return 0;
	/* No call of the library uses a number while it moves. */
	locked = fork_gate_lock();
	rc = intfd_move(fd);
	if (locked)
		fork_gate_unlock();
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}

UIOMMU_EXPORT int uiommu_fd_dup_onto(int oldfd, int newfd, int flags, int (*dup_fn)(int, int, int))
{
	int rc;

	for (;;) {
		if (uiommu_fd_evict(newfd))
			return -1;
		if (!intfd_number_lock(newfd))
			return dup_fn(oldfd, newfd, flags);
		/* One of ours landed there between the move and the lock: move it too. */
		if (!intfd_has(newfd))
			break;
		intfd_number_unlock();
	}
	rc = dup_fn(oldfd, newfd, flags);
	intfd_number_unlock();
	return rc;
}

UIOMMU_EXPORT int uiommu_fstat(struct uiommu_file *file, struct stat *st)
{
	if (!st) {
		errno = EFAULT;
		return -1;
	}
	if (!file_enter(file))
		return -1;
	ufile_fstat(file, st);
	file_exit(file);
	return 0;
}

UIOMMU_EXPORT int uiommu_file_fd(const struct uiommu_file *file)
{
	return file ? file->fd : -1;
}

UIOMMU_EXPORT struct uiommu_file *uiommu_file_from_fd(int fd)
{
	struct uiommu_file *file = ufile_lookup(fd);

	if (!file) {
		errno = EBADF;
		return NULL;
	}
	/* Borrowed: valid until the fd is closed (see the header). */
	ufile_put(file);
	return file;
}

UIOMMU_EXPORT struct uiommu_file *uiommu_file_get(int fd)
{
	int saved = errno;
	struct uiommu_file *file = ufile_lookup(fd);

	errno = file ? saved : EBADF;
	return file;
}

UIOMMU_EXPORT void uiommu_file_put(struct uiommu_file *file)
{
	if (!file)
		return;
	fork_gate_enter();
	ufile_put(file);
	fork_gate_exit();
}
