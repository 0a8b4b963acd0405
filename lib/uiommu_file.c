// SPDX-License-Identifier: MIT
/*
 * uiommu_file.c - the exported file API of include/uiommu/uiommu.h:
 * uiommu_open() and the system-call-shaped functions on emulated files.
 *
 * What it owns: the table of paths the library emulates, and the
 * conversion from the internal convention (value >= 0 or -errno) to the
 * system call one (-1 and errno). Every call holds a reference on the file
 * for its duration, so a concurrent uiommu_close() cannot free it under
 * the call (the kernel's fdget()). No locks of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>

#include <uiommu/uiommu.h>

#include "iommufd/iommufd_private.h"
#include "uiommu_private.h"
#include "util/file.h"
#include "vfio/vfio.h"
#include "vmm/machine.h"

struct uiommu_path {
	const char *path;
	struct uiommu_file *(*open)(int flags, int *err);
};

static const struct uiommu_path uiommu_paths[] = {
	{"/dev/iommu", iommufd_fops_open},
};

/* Paths under a directory, resolved by the layer that owns it (ENOENT for unknown nodes). */
struct uiommu_path_dir {
	const char *prefix;
	struct uiommu_file *(*open)(const char *path, int flags, int *err);
};

static const struct uiommu_path_dir uiommu_path_dirs[] = {
	/* /dev/vfio/vfio, /dev/vfio/<group>, /dev/vfio/devices/vfio<N> (lib/vfio) */
	{"/dev/vfio/", vfio_path_open},
};

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

	if (!path) {
		errno = EFAULT;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(uiommu_paths) / sizeof(uiommu_paths[0]); i++) {
		if (strcmp(path, uiommu_paths[i].path))
			continue;
		file = uiommu_paths[i].open(flags, &err);
		if (!file)
			errno = -err;
		return file;
	}
	for (size_t i = 0; i < sizeof(uiommu_path_dirs) / sizeof(uiommu_path_dirs[0]); i++) {
		if (strncmp(path, uiommu_path_dirs[i].prefix, strlen(uiommu_path_dirs[i].prefix)))
			continue;
		/* The machine's devices exist from the first open under /dev/vfio (lib/vmm). */
		err = vmm_machine_ensure();
		if (!err)
			file = uiommu_path_dirs[i].open(path, flags, &err);
		else
			file = NULL;
		if (!file)
			errno = -err;
		return file;
	}
	errno = ENOENT;
	return NULL;
}

UIOMMU_EXPORT int uiommu_ioctl(struct uiommu_file *file, unsigned long request, ...)
{
	unsigned long arg;
	va_list ap;
	long rc;

	va_start(ap, request);
	arg = va_arg(ap, unsigned long);
	va_end(ap);

	if (!file) {
		errno = EBADF;
		return -1;
	}
	ufile_get(file);
	rc = file->ops->ioctl ? file->ops->ioctl(file, request, arg) : -ENOTTY;
	ufile_put(file);
	return (int)ret_errno(rc);
}

UIOMMU_EXPORT ssize_t uiommu_read(struct uiommu_file *file, void *buf, size_t count)
{
	ssize_t rc;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	ufile_get(file);
	rc = file->ops->read ? file->ops->read(file, buf, count, &file->pos) : -EINVAL;
	ufile_put(file);
	return ret_errno(rc);
}

UIOMMU_EXPORT ssize_t uiommu_write(struct uiommu_file *file, const void *buf, size_t count)
{
	ssize_t rc;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	ufile_get(file);
	rc = file->ops->write ? file->ops->write(file, buf, count, &file->pos) : -EINVAL;
	ufile_put(file);
	return ret_errno(rc);
}

UIOMMU_EXPORT ssize_t uiommu_pread(struct uiommu_file *file, void *buf, size_t count, off_t offset)
{
	int64_t pos = offset;
	ssize_t rc;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	if (offset < 0) {
		errno = EINVAL;
		return -1;
	}
	ufile_get(file);
	rc = file->ops->read ? file->ops->read(file, buf, count, &pos) : -EINVAL;
	ufile_put(file);
	return ret_errno(rc);
}

UIOMMU_EXPORT ssize_t uiommu_pwrite(struct uiommu_file *file, const void *buf, size_t count,
				    off_t offset)
{
	int64_t pos = offset;
	ssize_t rc;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	if (offset < 0) {
		errno = EINVAL;
		return -1;
	}
	ufile_get(file);
	rc = file->ops->write ? file->ops->write(file, buf, count, &pos) : -EINVAL;
	ufile_put(file);
	return ret_errno(rc);
}

UIOMMU_EXPORT int uiommu_poll(struct uiommu_file *file, short events)
{
	unsigned int mask;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	ufile_get(file);
	/* Linux's DEFAULT_POLLMASK for files without a poll method. */
	mask = file->ops->poll ? file->ops->poll(file)
			       : (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
	ufile_put(file);
	return (int)(mask & ((unsigned short)events | POLLERR | POLLHUP));
}

UIOMMU_EXPORT void *uiommu_mmap(struct uiommu_file *file, void *addr, size_t length, int prot,
				int flags, off_t offset)
{
	void *out = MAP_FAILED;
	int rc;

	if (!file) {
		errno = EBADF;
		return MAP_FAILED;
	}
	ufile_get(file);
	rc = file->ops->mmap ? file->ops->mmap(file, addr, length, prot, flags, offset, &out)
			     : -ENODEV;
	ufile_put(file);
	if (rc) {
		errno = -rc;
		return MAP_FAILED;
	}
	return out;
}

UIOMMU_EXPORT int uiommu_munmap(void *addr, size_t length)
{
	return (int)ret_errno(ufile_munmap(addr, length));
}

UIOMMU_EXPORT int uiommu_close(struct uiommu_file *file)
{
	if (!file) {
		errno = EBADF;
		return -1;
	}
	return (int)ret_errno(ufile_close(file));
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
