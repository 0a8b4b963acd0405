/* SPDX-License-Identifier: MIT */
/*
 * Emulated files: what the library hands out where the kernel would hand out
 * a struct file (the iommufd itself, an access fd, a fault-queue or vEVENTQ
 * fd, an emulated /proc fail-nth file, later the VFIO files).
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
 * Several fd numbers may refer to one file, as several descriptors refer to
 * one struct file in Linux after dup(): ufile_dup() makes the real dup of
 * the backing fd (which shares the kernel's open file description, so
 * O_NONBLOCK, the eventfd's readiness and the memfd are shared) and
 * installs the new number for the same file. The file position is the
 * file's, shared by all its numbers.
 *
 * A file is reference counted. The fd table (fd number -> file) holds one
 * reference per installed number; a call in progress and internal holders
 * (an object keeping its context alive, like iommufd_ctx_get()) hold
 * others. Closing a number (ufile_close_fd(), or ufile_close() for "the"
 * number of a file) uninstalls it, closes it and drops its reference; the
 * last reference calls ops->release and frees the file. ufile_forget()
 * uninstalls numbers that the caller is about to close or replace by other
 * means (close_range(2), dup2 of a foreign fd onto ours) without closing
 * them.
 *
 * Locking: the fd table has one mutex (lookup, install, dup, close); the
 * real dup and close calls on backing fds are made under it, so a lookup
 * never sees a number that no longer refers to its file. The reference
 * count is atomic; the ops serialise themselves.
 */
#ifndef UIOMMU_UTIL_FILE_H
#define UIOMMU_UTIL_FILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct uiommu_file;

/*
 * What stat(2) shows for an emulated file that has a name (a device node,
 * a /proc file). Files without one are anonymous inodes, as Linux's
 * anon_inode files are (mode 0600 without a type, owned by the caller).
 */
struct ufile_node {
	const char *path; /* canonical path, NULL when it depends on the file */
	mode_t mode;	  /* S_IFCHR | 0666 ... */
	unsigned int major, minor;
	bool caller_owns; /* uid/gid are the caller's (a /proc file) instead of root's */
};

/* ufile_ops::fmode bits (Linux's FMODE_PREAD | FMODE_PWRITE). */
#define UFILE_FMODE_PREAD 1u

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
	/* stat(2) of a named file; NULL: anonymous inode. */
	const struct ufile_node *node;
	/* UFILE_FMODE_PREAD: pread/pwrite allowed (a file opened by path); else ESPIPE. */
	unsigned int fmode;
	/* The ioctl method counts its ioctls in the statistics itself (by command name). */
	bool counts_ioctls;
};

enum ufile_backing {
	UFILE_BACKING_MEMFD,
	UFILE_BACKING_EVENTFD,
};

struct uiommu_file {
	const struct ufile_ops *ops;
	void *private_data;
	/*
	 * One installed fd number of the file (the first, or after it was
	 * closed another one), -1 once none is left. Under the table lock;
	 * changes also take readable_lock.
	 */
	int fd;
	/* Installed fd numbers. Under the table lock. */
	unsigned int nfds;
	/* st_ino when non-zero (a file whose node has no fixed path). */
	uint64_t ino;
	/* A file opened by path: the node it was opened by (ufile_set_node()). */
	struct ufile_node node;
	bool has_node;
	/* Open flags (O_ACCMODE, O_NONBLOCK, O_CLOEXEC) as given at creation. */
	int f_flags;
	enum ufile_backing backing;
	/* File position for read/write (the emulated files are not seekable). */
	int64_t pos;
	atomic_uint refs;
	/*
	 * Inherited over fork(): the state is the owner's (the process that
	 * forked us), and the calls go there (lib/uiommu_remote.c). Dead: the
	 * owner cannot be reached (see ufile_fork_child()). Set in the child's
	 * fork handler, never changed afterwards.
	 */
	bool remote, dead;
	/*
	 * Remote: the file's address in the owner (the same as ours for a file
	 * inherited over fork(); another for one the owner made for us), and
	 * the channel that reaches the owner (lib/uiommu_remote.c's).
	 */
	uint64_t remote_addr;
	void *chan;
	/*
	 * Served: the owner's side of a file made for a remote caller (an
	 * ioctl served for a forked child that creates an fd). The number is
	 * the caller's (fd, nfds 0: none is installed here); own_fd is the
	 * backing fd kept here, not installed, for the eventfd's readiness and
	 * fstat(). -1 otherwise.
	 */
	bool served;
	int own_fd;
	/* UFILE_BACKING_EVENTFD: the eventfd counter is non-zero. Under readable_lock. */
	bool readable;
	atomic_flag readable_lock;
};

/*
 * Create a file with its backing fd (O_CLOEXEC in @f_flags makes it
 * close-on-exec) and install that fd in the table. Returns the file holding
 * one reference (the table's), or NULL with *err = -ENOMEM / -EMFILE / ...
 * A thread serving another process (util/uaccess.h uaccess_use_mm()) makes
 * a served file: the backing fd goes to the caller, which installs it at
 * its lowest free number (ufile_remote_ops.install), file->fd is that
 * number, and the returned reference is the channel's. ufile_close() of
 * it takes the number back from the caller.
 */
struct uiommu_file *ufile_create(const struct ufile_ops *ops, void *private_data,
				 enum ufile_backing backing, int f_flags, int *err);

static inline void ufile_get(struct uiommu_file *file)
{
	atomic_fetch_add_explicit(&file->refs, 1, memory_order_relaxed);
}

void ufile_put(struct uiommu_file *file);

/*
 * The file installed at @fd, with a reference taken; NULL if none. A thread
 * serving a remote caller looks up the caller's number (an ioctl argument).
 */
struct uiommu_file *ufile_lookup(int fd);

/*
 * close(2) of the fd of @file (file->fd): uninstall it, close it, drop its
 * reference. Returns 0, or -EBADF when the file has no installed fd.
 */
int ufile_close(struct uiommu_file *file);

/* close(2) of fd number @fd: 0, or -EBADF when no file is installed there. */
int ufile_close_fd(int fd);

/* ufile_dup() @flags: a minimum (F_DUPFD) rather than an exact number (dup3). */
#define UFILE_DUP_MIN 0x1

/*
 * dup(2) family on the table. With UFILE_DUP_MIN: the lowest free number
 * >= @newfd (fcntl F_DUPFD, F_DUPFD_CLOEXEC; dup() is @newfd 0). Without:
 * exactly @newfd (dup3(2)): whatever @newfd referred to is closed (an
 * installed number is uninstalled first), and @oldfd == @newfd is -EINVAL.
 * O_CLOEXEC in @flags makes the new number close-on-exec. @oldfd may be an
 * fd the table does not know (dup3 of a foreign fd onto one of ours): the
 * real call is made all the same. Returns the new number or -errno (that
 * of the real call, or -ENOMEM / -EINVAL).
 */
int ufile_dup(int oldfd, int newfd, int flags);

/*
 * Uninstall every number in [first, last] without closing it (the caller
 * closes or replaces them). Returns how many were installed.
 */
unsigned int ufile_forget(unsigned int first, unsigned int last);

/* A file opened by path shows @node (its path ignored) and inode @ino in fstat(2). */
void ufile_set_node(struct uiommu_file *file, const struct ufile_node *node, uint64_t ino);

/* stat(2) of @file (the node it was opened by, its ops' node, or an anonymous inode). */
void ufile_fstat(struct uiommu_file *file, struct stat *st);
/* stat(2) of a named node; @path gives the inode number when node->path is NULL. */
void ufile_node_stat(const struct ufile_node *node, const char *path, struct stat *st);

/*
 * fork(). ufile_fork_prepare() holds the table until ufile_fork_parent() or
 * ufile_fork_child() (so no lookup is half done in the child), and returns
 * every installed file of this process's own (not remote, not dead), each
 * held once for the child, in *files (ucalloc'd, *nfiles of them; NULL
 * when there are none): the caller keeps them for as long as the child may
 * use them. It also lists the installed remote files (not held: the table
 * is locked) in *remote (ucalloc'd, *nremote of them), which a child can
 * hand on to its own child. 0, or -ENOMEM with nothing held or listed
 * (the table is locked all the same). In the child, ufile_fork_child()
 * asks @keep about every installed file: true makes it remote (@keep has
 * set its remote_addr and chan), false dead; and it counts only the
 * installed numbers as its references: the internal holders of the parent
 * have no life in the child. It allocates nothing.
 */
int ufile_fork_prepare(struct uiommu_file ***files, unsigned int *nfiles,
		       struct uiommu_file ***remote, unsigned int *nremote);
void ufile_fork_parent(void);
void ufile_fork_child(bool (*keep)(struct uiommu_file *file));

/*
 * What the layer that forwards calls across fork() (lib/uiommu_remote.c)
 * does for this one. Every hook is called inside the fork gate.
 *   release   the last reference to a remote file is gone in this
 *             process: tell the owner (ops->release is the owner's to run,
 *             never ours);
 *   install   serving a remote caller: give the caller @backing_fd (the
 *             caller's lowest free number, O_CLOEXEC from file->f_flags)
 *             as a remote file bound to @file; the number or -errno. The
 *             channel takes the reference ufile_create() returns;
 *   uninstall serving: take the number back (ufile_close() of a served
 *             file, in the ioctl that made it) and the channel's hold, whose
 *             reference ufile_close() then drops; -EBADF when the channel
 *             does not hold the file;
 *   map       serving: mmap(2) of @fd in the caller; 0 with *out or -errno;
 *   unmap     serving: munmap(2) in the caller (undoing map);
 *   vma_add   serving: ufile_vma_add() for a mapping made in the caller;
 *   lookup    serving: ufile_lookup() of the caller's number @fd (an ioctl
 *             argument that names a file): the file, held, or NULL;
 *   fetch_fd  serving: a descriptor of ours for the caller's @fd (passed
 *             over the channel), or -EBADF when the caller has none;
 *   rvma_get, rvma_swap, rvma_put  ufile_rvma_get() and friends (below).
 */
struct ufile_remote_ops {
	void (*release)(struct uiommu_file *file);
	int (*install)(struct uiommu_file *file, int backing_fd);
	int (*uninstall)(struct uiommu_file *file);
	int (*map)(void *addr, size_t len, int prot, int flags, int fd, int64_t off, void **out);
	void (*unmap)(void *addr, size_t len);
	int (*vma_add)(void *addr, size_t len, void (*close)(void *priv), void *priv);
	struct uiommu_file *(*lookup)(int fd);
	int (*fetch_fd)(int fd);
	struct ufile_rvma *(*rvma_get)(void *addr, int *err);
	int (*rvma_swap)(struct ufile_rvma *rv, bool ones, int prot, int fd, uint64_t fd_off);
	void (*rvma_put)(struct ufile_rvma *rv);
};

/*
 * The open file behind the program's descriptor @fd, for a call that uses
 * a real file (IOAS_MAP_FILE of a memfd): @fd itself (*owned false), or,
 * for the remote caller this thread serves, a descriptor of ours for the
 * caller's @fd (*owned true: close it when done). -EBADF when there is none.
 */
int ufile_real_fd(int fd, bool *owned);

void ufile_set_remote_ops(const struct ufile_remote_ops *ops);

/*
 * A remote file at number @fd (just received from the owner, which made
 * it): @ops, @f_flags and @backing are the owner's file's, @remote_addr its
 * address there, @chan the channel. Returns the file (one reference, the
 * number's) or NULL with *err; @fd is the caller's to close then.
 */
struct uiommu_file *ufile_install_remote(const struct ufile_ops *ops, int f_flags,
					 enum ufile_backing backing, int fd, uint64_t remote_addr,
					 void *chan, int *err);

/*
 * The owner takes back number @fd, a remote file bound to @remote_addr that
 * it made in a call of ours it has not answered yet: close it, telling the
 * owner nothing (it has dropped its side). 0 or -EBADF.
 */
int ufile_drop_remote(int fd, uint64_t remote_addr);

/*
 * mmap(2) of @fd for the program: here, or in the remote caller this
 * thread serves. ufile_unmap() undoes it (an error after the mapping).
 * 0 with *out, or -errno.
 */
int ufile_map(void *addr, size_t len, int prot, int flags, int fd, int64_t off, void **out);
void ufile_unmap(void *addr, size_t len);

/* fcntl(F_GETFL) and F_SETFL on @file (Linux's f_flags and setfl()). */
int ufile_getfl(const struct uiommu_file *file);
int ufile_setfl(struct uiommu_file *file, int flags);

/* UFILE_BACKING_EVENTFD: make the backing fd poll readable (or not). */
void ufile_set_readable(struct uiommu_file *file, bool readable);

/*
 * Cheap, lock-free hints for interposers: is any fd number installed, is
 * any mapping registered? False means a call can skip the library.
 */
bool ufile_any_fd(void);
bool ufile_any_vma(void);

/*
 * daemon()'s fork (util/forkgate.h fork_gate_handover()): the table held
 * across it (a look-up runs outside the fork gate), released in the child
 * and after a failed fork; the parent exits with it held.
 */
void ufile_handover_lock(void);
void ufile_handover_unlock(void);

/* Files with at least one installed fd (for leak checks in tests). */
unsigned int ufile_count(void);

/*
 * Mappings the library made for the program (an mmap() of an emulated
 * file, e.g. a vIOMMU region on the iommufd). The kernel learns that such
 * a mapping is gone from the VMA's close callback; here the program (or
 * the preload shim, which interposes munmap(2)) calls ufile_munmap(). Each
 * registered mapping keeps whatever @close releases until every one of
 * its pages has been unmapped, however many munmap() calls that takes.
 * Mappings are page granular; a fork()ed child inherits the pages but not
 * the registrations (ufile_fork_child() forgets them: what they hold is
 * the parent's).
 *
 * ufile_vma_add(): register [addr, addr + len) (page aligned); -ENOMEM.
 * ufile_munmap(): munmap(2) of [addr, addr + len): the real unmap, then
 * @close of every registered mapping left with no page. 0 or -errno (the
 * errno of munmap(2)).
 * ufile_vma_count(): registered mappings still alive (tests).
 * ufile_vma_remap(): for the mapping registered at @addr, @fn on each run
 * of pages the program has not unmapped yet, under the lock ufile_munmap()
 * holds around its munmap(2): what replaces the pages of a live mapping
 * (mmap MAP_FIXED) never lands where the program unmapped. The first
 * error of @fn is returned; -ENOENT when no mapping starts at @addr.
 */
int ufile_vma_add(void *addr, size_t len, void (*close)(void *priv), void *priv);
int ufile_munmap(void *addr, size_t len);
unsigned int ufile_vma_count(void);
int ufile_vma_remap(void *addr, int (*fn)(void *run, size_t len, void *arg), void *arg);

/*
 * ufile_vma_del(): the registration at @addr goes without its @close (the
 * maker undoes a mapping it has not handed out): its @priv, or NULL.
 */
void *ufile_vma_del(void *addr);

/*
 * Swapping a mapping's pages in place (a BAR behind an sPAPR PE under EEH,
 * vfio_pci_core.c): the still-mapped pages of the mapping registered at
 * @addr become private pages of all ones (@ones: loads read ones, stores
 * go nowhere), or again @fd's pages from @fd_off (MAP_SHARED); @prot is
 * the mapping's. ufile_vma_swap() does it here (ufile_vma_remap()): 0,
 * -ENOENT when nothing is registered at @addr, or -errno.
 *
 * For a mapping made in the remote caller a served call maps for
 * (ufile_map() while serving), only the caller can do it:
 * ufile_rvma_get(), in that served call, after ufile_map(), gives a
 * handle; ufile_rvma_swap() then asks the caller, from any thread of ours
 * and at any time, to do ufile_vma_swap() on its mapping, and waits for
 * it (-ESRCH once the caller is gone); ufile_rvma_put() lets go of it.
 */
int ufile_vma_swap(void *addr, bool ones, int prot, int fd, uint64_t fd_off);
struct ufile_rvma;
struct ufile_rvma *ufile_rvma_get(void *addr, int *err);
int ufile_rvma_swap(struct ufile_rvma *rv, bool ones, int prot, int fd, uint64_t fd_off);
void ufile_rvma_put(struct ufile_rvma *rv);

#endif
