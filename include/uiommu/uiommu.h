/* SPDX-License-Identifier: MIT */
/*
 * libuiommu - the Linux nested-IOMMU stack in userspace.
 *
 * This header is the installed, stable face of the library. Everything
 * exported is prefixed uiommu_ and listed in lib/libuiommu.map.
 */
#ifndef UIOMMU_UIOMMU_H
#define UIOMMU_UIOMMU_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stddef.h>
#include <sys/types.h>

/**
 * uiommu_version() - version of the library, "MAJOR.MINOR.PATCH".
 */
const char *uiommu_version(void);

/*
 * Emulated device files.
 *
 * A struct uiommu_file is what the kernel would call an open file of one of
 * the emulated devices (/dev/iommu, /dev/vfio/...) or of a file
 * the library creates for the program (an access fd, a fault queue fd ...).
 * Each is backed by a real kernel file descriptor, uiommu_file_fd(), which
 * is the number a program sees: numbering, O_CLOEXEC, dup(), fork() and
 * poll() on it behave like the real device's. The functions below behave
 * exactly as the corresponding system calls do on the real device: same
 * results, same errno, same write-backs into the program's structs (the
 * uAPI is <linux/iommufd.h> and <linux/vfio.h> from include/uapi).
 *
 * Every function returning int follows the system call convention: the
 * result (>= 0) on success, -1 with errno set on failure. Bad pointers
 * inside ioctl arguments give EFAULT, never a crash. All functions are
 * thread safe.
 */
struct uiommu_file;

/**
 * uiommu_open() - open an emulated device, like open(2).
 * @path: "/dev/iommu", "/dev/vfio/vfio" (a VFIO container), "/dev/vfio/<N>"
 *        (VFIO group N of the topology), "/dev/vfio/devices/vfio<N>" (the
 *        cdev of a VFIO device).
 * @flags: open(2) flags; O_CLOEXEC makes the backing fd close-on-exec, the
 *         access mode is recorded.
 *
 * Return: the new file, or NULL with errno set: ENOENT for a path the
 * library does not emulate (or a group or device the topology does not
 * have), EBUSY (a VFIO group that is open already, or whose device is bound
 * through its cdev), ENOMEM, EMFILE (no fd left for the backing fd).
 */
struct uiommu_file *uiommu_open(const char *path, int flags);

/**
 * uiommu_ioctl() - ioctl(2) on an emulated file.
 * @file: the file.
 * @request: the request number, as given to ioctl(2).
 * @...: one argument: a pointer to the request's struct, or an integer for
 *       requests that take a value (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU).
 *
 * Return: the ioctl's value (0 for most, e.g. VFIO_API_VERSION or 1 for an
 * extension check), or -1 with errno (ENOTTY for an unknown request).
 */
int uiommu_ioctl(struct uiommu_file *file, unsigned long request, ...);

/**
 * uiommu_read() - read(2) on an emulated file.
 * @file: the file.
 * @buf: destination.
 * @count: bytes wanted.
 *
 * Return: bytes read, or -1 with errno (EINVAL for files that cannot be read,
 * such as the iommufd itself).
 */
ssize_t uiommu_read(struct uiommu_file *file, void *buf, size_t count);

/**
 * uiommu_write() - write(2) on an emulated file.
 * @file: the file.
 * @buf: source.
 * @count: bytes offered.
 *
 * Return: bytes consumed, or -1 with errno (EINVAL when not writable).
 */
ssize_t uiommu_write(struct uiommu_file *file, const void *buf, size_t count);

/**
 * uiommu_pread() - pread(2) on an emulated file: read at @offset without
 * moving the file position.
 * @file: the file.
 * @buf: destination.
 * @count: bytes wanted.
 * @offset: where to read (a VFIO device fd: region index << 40 plus the
 *          offset in the region, as GET_REGION_INFO reports).
 *
 * Return: bytes read, or -1 with errno (EINVAL for a negative offset or a
 * file that cannot be read; a VFIO device: EINVAL outside a region,
 * EFAULT outside the config space).
 */
ssize_t uiommu_pread(struct uiommu_file *file, void *buf, size_t count, off_t offset);

/**
 * uiommu_pwrite() - pwrite(2) on an emulated file.
 * @file: the file.
 * @buf: source.
 * @count: bytes offered.
 * @offset: where to write, as for uiommu_pread().
 *
 * Return: bytes written, or -1 with errno.
 */
ssize_t uiommu_pwrite(struct uiommu_file *file, const void *buf, size_t count, off_t offset);

/**
 * uiommu_poll() - the readiness of an emulated file, as poll(2) reports it.
 * @file: the file.
 * @events: the POLL* bits of interest.
 *
 * Return: the ready POLL* bits among @events (POLLERR and POLLHUP always
 * reported), or -1 with errno. Never blocks. A file without readiness of its
 * own (the iommufd) is always readable and writable, as in Linux.
 */
int uiommu_poll(struct uiommu_file *file, short events);

/**
 * uiommu_mmap() - mmap(2) of an emulated file.
 * @file: the file.
 * @addr: address hint, as for mmap(2).
 * @length: bytes.
 * @prot: PROT_* bits.
 * @flags: MAP_* flags.
 * @offset: offset into the file.
 *
 * Return: the mapping, or MAP_FAILED with errno (the iommufd: EINVAL for a
 * length that is not page aligned or a private mapping, EPERM for PROT_EXEC,
 * ENXIO for an offset no vIOMMU region has).
 */
void *uiommu_mmap(struct uiommu_file *file, void *addr, size_t length, int prot, int flags,
		  off_t offset);

/**
 * uiommu_munmap() - munmap(2), for mappings uiommu_mmap() made.
 * @addr: start, page aligned.
 * @length: bytes.
 *
 * Unmaps like munmap(2) (any range; ranges the library never mapped are
 * simply unmapped). A mapping uiommu_mmap() returned keeps what it maps
 * busy until all of its pages are unmapped this way: a vIOMMU whose region
 * is mapped cannot be destroyed (EBUSY), as in Linux, and the iommufd's
 * context lives on after uiommu_close(). The preload shim routes munmap(2)
 * here; a program using the library directly calls it itself.
 *
 * Return: 0, or -1 with errno (that of munmap(2)).
 */
int uiommu_munmap(void *addr, size_t length);

/**
 * uiommu_close() - close(2) of an emulated file's descriptor.
 * @file: the file; not to be used afterwards.
 *
 * Closes the backing fd. The file itself lives on while other library
 * objects still need it (an open access fd keeps its iommufd context, as in
 * Linux); its last user destroys everything it owns.
 *
 * Return: 0, or -1 with errno EBADF when it was already closed.
 */
int uiommu_close(struct uiommu_file *file);

/**
 * uiommu_file_fd() - the backing file descriptor of an emulated file.
 * @file: the file.
 *
 * Return: the fd (what a program is given in place of the device's fd), or
 * -1 after uiommu_close().
 */
int uiommu_file_fd(const struct uiommu_file *file);

/**
 * uiommu_file_from_fd() - the emulated file behind a file descriptor.
 * @fd: a descriptor the library handed out: one from uiommu_file_fd(), or
 *      one returned inside an ioctl's result (an access fd, a fault fd ...).
 *
 * The pointer stays valid until that descriptor is closed with
 * uiommu_close(); using it concurrently with the close is the caller's race,
 * as with any descriptor.
 *
 * Return: the file, or NULL with errno EBADF when @fd is not one of ours.
 */
struct uiommu_file *uiommu_file_from_fd(int fd);

#ifdef __cplusplus
}
#endif

#include <uiommu/pt.h>

#endif
