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

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
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
 * uiommu_open() - open an emulated file, like open(2).
 * @path: an absolute path of the emulated namespace (uiommu_path_emulated()):
 *        "/dev/iommu"; "/dev/vfio/vfio" (a VFIO container), "/dev/vfio/<N>"
 *        (VFIO group N of the topology), "/dev/vfio/devices/vfio<N>" (the
 *        cdev of a VFIO device); or this process's
 *        "/proc/self/task/<tid>/fail-nth" (also /proc/<pid>/task/<tid>/,
 *        /proc/thread-self/, /proc/self/), the kernel's fault-injection knob
 *        wired to the library's allocation failure injection. Repeated
 *        slashes, "." and ".." are resolved lexically.
 * @flags: open(2) flags; O_CLOEXEC makes the backing fd close-on-exec, the
 *         access mode is recorded (read(2) on an O_WRONLY file is EBADF ...).
 *
 * Return: the new file, or NULL with errno set: ENOENT for a path the
 * library does not emulate (or a group or device the topology does not
 * have), ENOTDIR (a trailing slash, O_DIRECTORY), EEXIST (O_CREAT | O_EXCL),
 * EACCES, EOPNOTSUPP (an emulated directory: /dev/vfio, /dev/vfio/devices),
 * EBUSY (a VFIO group that is open already, or whose device is bound
 * through its cdev), EINVAL (a path under /dev/vfio when the machine
 * topology of UIOMMU_CONFIG could not be loaded; the library logs why,
 * with the file, line and column), ENOMEM, EMFILE (no fd left for the
 * backing fd).
 *
 * The groups and cdevs are those of the machine topology, built at the
 * first open, stat or access under /dev/vfio: the file UIOMMU_CONFIG names
 * (doc/topology.md), or one SMMUv3 with dmatest functions 0000:00:01.0 in
 * group 1 and 0000:00:02.0 in group 2. A program that registered VFIO
 * devices of its own before that keeps its own topology.
 */
struct uiommu_file *uiommu_open(const char *path, int flags);

/**
 * uiommu_path_emulated() - whether a path belongs to the emulated namespace.
 * @path: a path, as given to open(2).
 *
 * The namespace is /dev/iommu, /dev/vfio and everything below it, this
 * process's /proc fail-nth files, and the sysfs entries of the emulated
 * PCI devices and groups (see uiommu_readlink()); a path of those sysfs
 * shapes builds the machine topology first, to know which devices it has.
 * Paths in it are answered by the library alone (uiommu_open(),
 * uiommu_stat(), uiommu_lstat(), uiommu_access(), uiommu_readlink()),
 * including ENOENT for nodes the topology lacks: an interposer must never
 * hand them to the host's kernel. For a relative @path the answer is
 * whether it could be one (its last component is a name the namespace
 * uses, or a component leads into the emulated sysfs: a PCI name,
 * pciDDDD:BB, iommu_group, iommu_groups); the caller then makes it
 * absolute (current or @dirfd's directory) and asks again.
 *
 * Return: 1 when @path is (or, relative, may be) emulated, else 0.
 */
int uiommu_path_emulated(const char *path);

/**
 * uiommu_stat() - stat(2) of a path of the emulated namespace.
 * @path: an absolute path (see uiommu_open()).
 * @st: the result.
 *
 * Device nodes look like the real ones: /dev/iommu is a character device
 * 10:256, mode 0666, owned by root; a fail-nth file is a regular 0644
 * file of the caller. Inode numbers are stable for a path.
 *
 * Return: 0, or -1 with errno ENOENT (not in the emulated topology),
 * ENOTDIR, ENAMETOOLONG, EFAULT.
 */
int uiommu_stat(const char *path, struct stat *st);

/**
 * uiommu_lstat() - lstat(2) of a path of the emulated namespace.
 * @path: an absolute path (see uiommu_open()).
 * @st: the result.
 *
 * uiommu_stat(), but a symbolic link as the last component is shown
 * itself (S_IFLNK, 0777, root's), not followed. The only links are the
 * sysfs ones of the emulated PCI devices: /sys/bus/pci/devices/<BDF> and
 * its iommu_group (see uiommu_readlink()).
 *
 * Return: 0, or -1 with errno as uiommu_stat().
 */
int uiommu_lstat(const char *path, struct stat *st);

/**
 * uiommu_readlink() - readlink(2) of a path of the emulated namespace.
 * @path: an absolute path (see uiommu_open()).
 * @buf: where the link's target is written, without a terminating NUL.
 * @size: bytes at @buf; a longer target is cut to it.
 *
 * For every PCI device VFIO has (the topology's), the namespace holds
 * Linux's sysfs entries that lead to its group: the link
 * /sys/bus/pci/devices/<BDF> -> ../../../devices/pci<DDDD>:<BB>/<BDF>, that
 * directory, its link iommu_group -> ../../../kernel/iommu_groups/<N>, and
 * the group's directory /sys/kernel/iommu_groups/<N>; nothing else below
 * them exists. Other paths under /sys are not emulated.
 *
 * Return: the number of bytes written, or -1 with errno EINVAL (@size 0,
 * or not a positive int, or @path is not a symbolic link), ENOENT, ENOTDIR,
 * ENAMETOOLONG, EFAULT.
 */
ssize_t uiommu_readlink(const char *path, char *buf, size_t size);

/**
 * uiommu_access() - access(2) / faccessat(2) of a path of the emulated namespace.
 * @path: an absolute path (see uiommu_open()).
 * @mode: F_OK, or a mask of R_OK, W_OK and X_OK.
 * @flags: 0 (check with the real user and group IDs) or AT_EACCESS (the
 *         effective ones, as euidaccess(3)).
 *
 * The permission check is the kernel's for the node's owner and mode
 * (root may read and write anything, and execute what has an x bit).
 *
 * Return: 0, or -1 with errno ENOENT, ENOTDIR, EACCES, EINVAL (bad @mode or
 * @flags).
 */
int uiommu_access(const char *path, int mode, int flags);

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
 * Return: bytes read, or -1 with errno: EINVAL for a negative @offset,
 * ESPIPE for a file without positions (the anonymous files: fault queues,
 * event queues, access fds), then as uiommu_read() (a VFIO device: EINVAL
 * outside a region, EFAULT outside the config space).
 */
ssize_t uiommu_pread(struct uiommu_file *file, void *buf, size_t count, off_t offset);

/**
 * uiommu_pwrite() - pwrite(2) on an emulated file.
 * @file: the file.
 * @buf: source.
 * @count: bytes offered.
 * @offset: where to write, as for uiommu_pread() (a fail-nth file ignores
 *          it, as Linux's does).
 *
 * Return: bytes written, or -1 with errno as uiommu_pread() and uiommu_write().
 */
ssize_t uiommu_pwrite(struct uiommu_file *file, const void *buf, size_t count, off_t offset);

/**
 * uiommu_fstat() - fstat(2) of an emulated file.
 * @file: the file.
 * @st: the result.
 *
 * A file opened by path shows its node (see uiommu_stat()); a file the
 * library created for the program (fault queue, event queue, access fd) is
 * an anonymous inode as in Linux: mode 0600 with no file type bits, owned
 * by the caller, size 0.
 *
 * Return: 0, or -1 with errno EBADF (no @file) or EFAULT (no @st).
 */
int uiommu_fstat(struct uiommu_file *file, struct stat *st);

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
 * A file has one fd number when it is opened or created; uiommu_dup() gives
 * it more. This returns one of them: the first, or after that one was
 * closed another that is still open.
 *
 * Return: the fd (what a program is given in place of the device's fd), or
 * -1 once every number of the file is closed.
 */
int uiommu_file_fd(const struct uiommu_file *file);

/**
 * uiommu_file_get() - the emulated file behind a file descriptor, held.
 * @fd: any descriptor.
 *
 * Like uiommu_file_from_fd(), but the file stays valid (the calls on it
 * keep working, on the file if no longer on @fd) until uiommu_file_put(),
 * even if another thread closes @fd meanwhile: the kernel's fdget(). Cheap
 * when the process has no emulated file at all, so an interposer may ask
 * for every descriptor it sees. errno is left alone when a file is found.
 *
 * Return: the file, or NULL with errno EBADF when @fd is not one of ours.
 */
struct uiommu_file *uiommu_file_get(int fd);

/**
 * uiommu_file_put() - release a file uiommu_file_get() returned.
 * @file: the file, or NULL.
 *
 * The last reference (every number closed, no call in progress, no library
 * object holding it) releases the file.
 */
void uiommu_file_put(struct uiommu_file *file);

/**
 * uiommu_close_fd() - close(2) of one fd number of an emulated file.
 * @fd: a number uiommu_file_from_fd() knows.
 *
 * The number is closed; the file lives on while other numbers (dups) or
 * library objects still refer to it, and its last user releases it.
 *
 * Return: 0, or -1 with errno EBADF when @fd is not one of ours.
 */
int uiommu_close_fd(int fd);

/**
 * uiommu_fcntl() - fcntl(2) F_GETFL and F_SETFL on an emulated file.
 * @file: the file.
 * @cmd: F_GETFL or F_SETFL.
 * @arg: F_SETFL's flags.
 *
 * The flags belong to the file (every number of it, and a forked child's
 * inherited number, sees the same), as an open file description's do:
 * F_GETFL reports the access mode and status flags the file was opened
 * with (O_LARGEFILE too for a file opened by path, as open(2) adds it on
 * 64-bit; never O_CLOEXEC, which is the number's: F_GETFD on the fd);
 * F_SETFL changes O_APPEND, O_NONBLOCK and O_NOATIME only. The backing fd's
 * own flags are not those of the file and are left alone.
 *
 * Return: F_GETFL: the flags; F_SETFL: 0; or -1 with errno: EINVAL
 * (another @cmd, O_DIRECT), EPERM (O_NOATIME on a file the caller does not
 * own), EBADF (an O_PATH file's F_SETFL, a dead inherited file).
 */
int uiommu_fcntl(struct uiommu_file *file, int cmd, unsigned long arg);

/* uiommu_dup() flag: @newfd is a minimum, as for fcntl(F_DUPFD). */
#define UIOMMU_DUP_MIN 0x1

/**
 * uiommu_dup() - dup(2), dup3(2) and fcntl(F_DUPFD, F_DUPFD_CLOEXEC) on fd numbers.
 * @oldfd: the fd to duplicate.
 * @newfd: the new number (dup3), or with UIOMMU_DUP_MIN the lowest it may be.
 * @flags: UIOMMU_DUP_MIN and/or O_CLOEXEC (close-on-exec for the new number).
 *
 * Makes the real duplicate of @oldfd and, when @oldfd is an emulated file's
 * number, gives that file the new number too (the two share the file, its
 * position and O_NONBLOCK, like dup'd descriptors in Linux; ioctls work on
 * either). Without UIOMMU_DUP_MIN, whatever @newfd referred to is closed
 * first, atomically: an emulated file loses that number (and is released if
 * it was its last); @oldfd may then be any fd, emulated or not, so dup2 of a
 * foreign fd onto an emulated number is right. dup() is
 * uiommu_dup(oldfd, 0, UIOMMU_DUP_MIN); dup2(fd, fd) is not an error there
 * but is for dup3, so the caller checks it.
 *
 * Return: the new fd, or -1 with errno: EBADF, EINVAL (@oldfd == @newfd
 * without UIOMMU_DUP_MIN, unknown @flags, a negative minimum), EMFILE,
 * ENOMEM.
 */
int uiommu_dup(int oldfd, int newfd, int flags);

/**
 * uiommu_forget_fds() - numbers an emulated file will lose behind the library's back.
 * @first: the first fd number.
 * @last: the last (inclusive).
 *
 * For an interposer that closes or replaces fds by other means
 * (close_range(2), closefrom(3)): call this first, then make the real call.
 * The numbers are taken from their files (released when it was their last
 * number) but not closed.
 *
 * Return: how many numbers in the range were emulated.
 */
unsigned int uiommu_forget_fds(unsigned int first, unsigned int last);

/**
 * uiommu_fd_internal() - is @fd one of the library's own descriptors?
 * @fd: any number.
 *
 * The library keeps descriptors of its own in the process's table where
 * Linux keeps kernel references that have no number (its reference to an
 * eventfd the program gave VFIO, the epoll and wake-up fds of the thread
 * that acts on them, the sockets that reach a forked child). A program
 * never got these numbers, so to it they are free: an interposer answers
 * close() of one EBADF, skips them in close_range() (uiommu_close_range())
 * and moves one away before dup2() onto it (uiommu_fd_evict()). One
 * relaxed load when the process has none.
 *
 * Return: true when @fd is internal.
 */
bool uiommu_fd_internal(int fd);

/**
 * uiommu_close_range() - close_range(2) that leaves the library's descriptors alone.
 * @first: the first number.
 * @last: the last (inclusive).
 * @flags: CLOSE_RANGE_UNSHARE, CLOSE_RANGE_CLOEXEC.
 * @close_fn: the real close_range (called for each stretch between internal
 *            numbers, with @flags less CLOSE_RANGE_UNSHARE, which is done first).
 *
 * The emulated numbers in the range are given up (uiommu_forget_fds()),
 * unless only CLOSE_RANGE_CLOEXEC is asked, and the range is closed around
 * the internal descriptors, with no library call in flight meanwhile.
 * With CLOSE_RANGE_CLOEXEC the whole range goes to @close_fn (internal
 * descriptors are close-on-exec already). Bad @flags or @first > @last:
 * EINVAL, as the kernel says, with nothing done.
 *
 * Return: 0, or -1 with errno (EINVAL, or @close_fn's).
 */
int uiommu_close_range(unsigned int first, unsigned int last, int flags,
		       int (*close_fn)(unsigned int first, unsigned int last, int flags));

/**
 * uiommu_fd_evict() - make number @fd free of the library's own descriptor.
 * @fd: a number a program is about to dup2() / dup3() onto.
 *
 * When @fd is internal (uiommu_fd_internal()), the descriptor moves to
 * another number (close-on-exec, high), with no library call in flight,
 * and @fd is closed: the program may then make it what it wants. Nothing
 * otherwise.
 *
 * Return: 0, or -1 with errno ENOMEM or EMFILE (nothing changed).
 */
int uiommu_fd_evict(int fd);

/**
 * uiommu_fd_dup_onto() - dup2() / dup3() onto a number the library may be using.
 * @oldfd: the program's descriptor.
 * @newfd: the number it wants.
 * @flags: dup3's (0 for dup2).
 * @dup_fn: the real dup3 (for dup2, one that calls dup2 when @flags is 0).
 *
 * Where the library makes its own numbers (high), a program that dup2()s
 * blind could replace a descriptor of ours being made, or have its own
 * closed by us; so the call is made while none of ours is being made or
 * given up there, after moving ours off @newfd (uiommu_fd_evict()).
 * Elsewhere it is @dup_fn as it is.
 *
 * Return: @dup_fn's, or -1 with errno ENOMEM or EMFILE (ours could not move).
 */
int uiommu_fd_dup_onto(int oldfd, int newfd, int flags, int (*dup_fn)(int, int, int));

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

/*
 * Statistics: what a program did with the library, for `uiommu exec
 * --summary`. Off until enabled; then every file opened, object created,
 * ioctl, DMA access and fault or event delivered is counted (relaxed
 * atomics: exact, but not a consistent snapshot while threads run). A
 * fork()ed child starts from zero. The translation caches of the emulated
 * IOMMUs (IOTLB, walk caches, IPA cache, configuration cache) count on
 * their own, whether or not counting is enabled: their "cache.*" counters
 * are the sum over every IOMMU instance the process has; a fork()ed child
 * has none of its own.
 */

/**
 * uiommu_stats_enable() - turn counting on or off.
 * @on: non-zero to count.
 *
 * Return: whether counting was on before.
 */
int uiommu_stats_enable(int on);

/**
 * uiommu_stats_reset() - set every counter to zero, the caches' too.
 *
 * Meant for quiet moments: counts made concurrently may survive it.
 */
void uiommu_stats_reset(void);

/**
 * uiommu_stats_get() - one counter by name.
 * @name: "files" (all emulated files created), "files.<kind>" (iommufd,
 *        fail-nth, iommufd-pgfault ...), "objects", "objects.<type>" (ioas,
 *        hwpt_paging, device, fault ...), "ioctls", "ioctls.ok",
 *        "ioctls.<NAME>" and "ioctls.<NAME>.failed" (IOMMU_IOAS_MAP,
 *        VFIO_IOMMU_MAP_DMA ..., "unknown" for requests nobody knows),
 *        "errno.<ENAME>" (ioctls that failed with it), "dma.accesses",
 *        "dma.bytes", "dma.faults", "faults.queued", "faults.read",
 *        "faults.answered", "vevents.queued", "vevents.lost", "vevents.read",
 *        "cache.<cache>.<counter>" with <cache> one of iotlb, walk_s1,
 *        walk_s2 (each summed over its levels), ipa, cfg and <counter> one
 *        of hits, misses, fills, evictions, invalidated (0 with no cache).
 * @value: the count.
 *
 * Return: 0, or -1 with errno ENOENT for a name nothing has counted (a
 * fixed counter always exists) or EFAULT.
 */
int uiommu_stats_get(const char *name, unsigned long long *value);

/**
 * uiommu_stats_format() - the counters as a human summary.
 * @buf: destination, NUL terminated when @size > 0.
 * @size: bytes at @buf.
 *
 * Several lines: files by kind, objects by type, ioctls by result (errno
 * names) and by command, DMA, faults, events, and when the process has
 * translation caches, their number and each cache's hits/misses.
 *
 * Return: the length of the whole summary (like snprintf(3): a result >=
 * @size means it was cut).
 */
size_t uiommu_stats_format(char *buf, size_t size);

/*
 * A whole process under the library (the preload shim, `uiommu exec`).
 */

/**
 * uiommu_path_redirect() - the private stand-in for a path the host must not see.
 * @path: a path as given to open(2), stat(2), opendir(3) ...
 * @buf: where the replacement path is written.
 * @size: bytes at @buf.
 *
 * Paths at or below /sys/kernel/debug (the kernel's fault-injection knobs,
 * which a fail-nth test probes and writes) map to a private directory that
 * has the same fault-injection directories and knob files: the directory
 * named by UIOMMU_DEBUGFS_DIR, else one made under $TMPDIR (or /tmp) on
 * first use and removed by uiommu_process_exit() of the process that made
 * it. Writing the knobs has no effect; fail-nth is the injection the
 * library emulates. Relative paths are never redirected.
 *
 * Return: 1 with the replacement in @buf, 0 when @path is not redirected,
 * or -1 with errno (ENAMETOOLONG, or why the directory could not be made).
 */
int uiommu_path_redirect(const char *path, char *buf, size_t size);

/**
 * uiommu_fork() - fork(2) for a process whose emulated files its child shares.
 * @fork_fn: the fork to call, one that runs the pthread_atfork handlers
 *           (an interposer passes the next fork()); NULL for libc's fork().
 *
 * In Linux a child's inherited iommufd or VFIO fd is its parent's open
 * file; here the child's calls on one travel to the process that owns it,
 * over a channel made for the child before it exists. uiommu_fork() makes
 * that share first, with no thread inside the library, and forks only when
 * it is made: so, as fork(2) fails when the kernel cannot copy the
 * process, it fails with ENOMEM (no memory for the share) or EAGAIN (no
 * descriptor or thread for it: the process is at RLIMIT_NOFILE, say), and
 * then nothing has happened: no child, nothing of the parent changed. A
 * process without emulated files forks as @fork_fn does. The preload shim
 * calls it from fork(). (A fork made without it still shares the files,
 * but cannot fail on their account: what cannot be shared is dead, EBADF,
 * in the child.)
 *
 * Return: as fork(2): the child's PID in the parent, 0 in the child, or
 * -1 with errno.
 */
pid_t uiommu_fork(pid_t (*fork_fn)(void));

/**
 * uiommu_fork_handover() - the fork of daemon(3): the child takes everything over.
 * @fork_fn: the fork to call (runs the pthread_atfork handlers); NULL: libc's.
 *
 * daemon() forks and its parent exits at once. A child of uiommu_fork()
 * would reach its files through that parent, which is gone; here, instead,
 * the child keeps the library's state as its own (the files, the actions
 * on eventfds, the channels to the owners of inherited files, the server
 * of its own children), and the threads that serve them start again in it.
 * In the parent the library stays closed for good: it must _exit() at
 * once, without the library's exit work (the state is the child's).
 *
 * Return: as fork(2), and -1 in the child too, with errno ENOMEM or
 * EAGAIN, when a thread the takeover needs could not be had (its piece
 * then stops as if its process had exited: the actions on eventfds, or
 * the children's calls on files they inherited, fail; the child's own
 * calls work). daemon(3) fails likewise in its child when setsid() does.
 */
pid_t uiommu_fork_handover(pid_t (*fork_fn)(void));

/**
 * uiommu_fork_shared() - would a child of this process need the library's preparation?
 *
 * True when the process has emulated files or internal descriptors: a
 * fork made without uiommu_fork() (_Fork(3), which runs no handlers) leaves
 * its child a copy of that state that it must not use (the interposer
 * then treats the child as a process the library does not know). One
 * relaxed load or two, async-signal-safe.
 *
 * Return: true or false.
 */
bool uiommu_fork_shared(void);

/**
 * uiommu_process_exit() - the process is exiting.
 *
 * With UIOMMU_SUMMARY_FILE set in the environment (which also turns
 * statistics on), appends this process's summary to that file, if it
 * created any emulated file: a line "uiommu summary: pid N (name)", then
 * uiommu_stats_format(), then an empty line, in one write(2). Removes the
 * private debugfs directory this process made (uiommu_path_redirect()).
 * Runs once per process; errno is preserved. The preload shim calls it
 * from exit(3) (a destructor), _exit(2) and _Exit(2).
 */
void uiommu_process_exit(void);

#ifdef __cplusplus
}
#endif

#include <uiommu/pt.h>

#endif
