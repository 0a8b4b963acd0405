// SPDX-License-Identifier: MIT
/*
 * file.c - emulated files backed by real fds, and the fd -> file table.
 *
 * What it owns: the table that maps a backing fd number to its file (an
 * array indexed by fd, grown by doubling), and the life cycle of each file:
 * create (backing fd + table entry), dup, references, close, release.
 *
 * Invariants: table[fd] is non-NULL exactly while @fd is an open fd number
 * referring to that file's backing open file description; file->nfds is
 * the number of entries naming the file and file->fd one of them (-1 when
 * none); an installed file has refs >= nfds (one per number); release runs
 * once, when refs drops to zero, after which nothing points at the file.
 * A number is uninstalled before the real close()/dup3() that ends it, and
 * installed after the real dup that makes it, all under table_lock, so a
 * lookup never returns a file for a number that refers to something else.
 *
 * Locks: table_lock guards table[], its size, every file's fd and nfds, and
 * is held across the real dup/close calls on backing fds. A file's refs are
 * atomic. readable_lock (a spin flag) serialises the eventfd counter with
 * the file's "readable" state and with changes of file->fd, so the eventfd
 * is never written through a number that is being closed (table_lock, then
 * readable_lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/bits.h"
#include "util/file.h"
#include "util/intfd.h"
#include "util/stats.h"
#include "util/uaccess.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct uiommu_file **table;
static unsigned int table_size;
static unsigned int files_installed;
/* Installed numbers, read without the lock: 0 lets a lookup answer at once. */
static atomic_uint fds_installed;

/* Make room for index @fd. Under table_lock. */
static int table_reserve(int fd)
{
	unsigned int size = table_size ? table_size : 64;
	struct uiommu_file **n;

	if (fd < 0)
		return -EBADF;
	if ((unsigned int)fd < table_size)
		return 0;
	while (size <= (unsigned int)fd)
		size *= 2;
	n = ucalloc(size, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (table_size)
		memcpy(n, table, table_size * sizeof(*n));
	ufree(table);
	table = n;
	table_size = size;
	return 0;
}

static inline struct uiommu_file *table_get(int fd)
{
	return fd >= 0 && (unsigned int)fd < table_size ? table[fd] : NULL;
}

static void readable_lock(struct uiommu_file *file)
{
	while (atomic_flag_test_and_set_explicit(&file->readable_lock, memory_order_acquire))
		;
}

static void readable_unlock(struct uiommu_file *file)
{
	atomic_flag_clear_explicit(&file->readable_lock, memory_order_release);
}

/* Under table_lock: @file gets number @fd (reserved) and a reference for it. */
static void install_locked(struct uiommu_file *file, int fd)
{
	table[fd] = file;
	atomic_fetch_add_explicit(&fds_installed, 1, memory_order_relaxed);
	if (!file->nfds++) {
		files_installed++;
		readable_lock(file);
		file->fd = fd;
		readable_unlock(file);
	}
	ufile_get(file);
}

/*
 * Under table_lock: take number @fd away from its file, which keeps the
 * reference the number held (the caller drops it after unlocking).
 */
static struct uiommu_file *uninstall_locked(int fd)
{
	struct uiommu_file *file = table[fd];

	table[fd] = NULL;
	atomic_fetch_sub_explicit(&fds_installed, 1, memory_order_relaxed);
	if (!--file->nfds)
		files_installed--;
	if (file->fd == fd) {
		int next = -1;

		for (unsigned int i = 0; file->nfds && i < table_size; i++) {
			if (table[i] == file) {
				next = (int)i;
				break;
			}
		}
		readable_lock(file);
		file->fd = next;
		readable_unlock(file);
	}
	return file;
}

static int backing_open(enum ufile_backing backing, const char *name, int f_flags)
{
	bool cloexec = f_flags & O_CLOEXEC;
	char label[64];
	int fd;

	if (backing == UFILE_BACKING_EVENTFD) {
		fd = eventfd(0, EFD_NONBLOCK | (cloexec ? EFD_CLOEXEC : 0));
	} else {
		/* The name shows in /proc/<pid>/fd: "memfd:uiommu:<name> (deleted)". */
		snprintf(label, sizeof(label), "uiommu:%s", name ? name : "file");
		fd = memfd_create(label, cloexec ? MFD_CLOEXEC : 0);
	}
	return fd < 0 ? -errno : fd;
}

static const struct ufile_remote_ops *_Atomic remote_ops;

void ufile_set_remote_ops(const struct ufile_remote_ops *ops)
{
	atomic_store(&remote_ops, ops);
}

static struct uiommu_file *file_alloc(const struct ufile_ops *ops, void *private_data,
				      enum ufile_backing backing, int f_flags)
{
	struct uiommu_file *file = uzalloc(sizeof(*file));

	if (!file)
		return NULL;
	file->ops = ops;
	file->private_data = private_data;
	file->fd = -1;
	file->own_fd = -1;
	file->f_flags = f_flags;
	file->backing = backing;
	atomic_init(&file->refs, 0);
	atomic_flag_clear(&file->readable_lock);
	return file;
}

/* ufile_create() for the remote caller this thread serves. */
static struct uiommu_file *create_served(struct uiommu_file *file, int fd, int *err)
{
	const struct ufile_remote_ops *rops = atomic_load(&remote_ops);
	int rc;

	file->served = true;
	/* Ours only, out of the program's reach (the caller's number has its own close-on-exec). */
	rc = intfd_add(&fd);
	if (rc) {
		close(fd);
		ufree(file);
		*err = rc;
		return NULL;
	}
	file->own_fd = fd;
	atomic_init(&file->refs, 1);
	rc = rops && rops->install ? rops->install(file, fd) : -EOPNOTSUPP;
	if (rc < 0) {
		intfd_close(&file->own_fd);
		ufree(file);
		*err = rc;
		return NULL;
	}
	file->fd = rc;
	stats_named(STATS_FILES, file->ops->name, 0);
	return file;
}

struct uiommu_file *ufile_create(const struct ufile_ops *ops, void *private_data,
				 enum ufile_backing backing, int f_flags, int *err)
{
	struct uiommu_file *file;
	int fd, rc;

	file = file_alloc(ops, private_data, backing, f_flags);
	if (!file) {
		*err = -ENOMEM;
		return NULL;
	}
	fd = backing_open(backing, ops->name, f_flags);
	if (fd < 0) {
		ufree(file);
		*err = fd;
		return NULL;
	}
	if (uaccess_current_mm())
		return create_served(file, fd, err);

	pthread_mutex_lock(&table_lock);
	rc = table_reserve(fd);
	if (!rc)
		install_locked(file, fd);
	pthread_mutex_unlock(&table_lock);
	if (rc) {
		close(fd);
		ufree(file);
		*err = rc;
		return NULL;
	}
	stats_named(STATS_FILES, ops->name, 0);
	return file;
}

struct uiommu_file *ufile_install_remote(const struct ufile_ops *ops, int f_flags,
					 enum ufile_backing backing, int fd, uint64_t remote_addr,
					 void *chan, int *err)
{
	struct uiommu_file *file = file_alloc(ops, NULL, backing, f_flags);
	int rc;

	if (!file) {
		*err = -ENOMEM;
		return NULL;
	}
	file->remote = true;
	file->remote_addr = remote_addr;
	file->chan = chan;
	pthread_mutex_lock(&table_lock);
	rc = table_reserve(fd);
	if (!rc && table[fd])
		rc = -EBUSY; /* not a number the kernel just gave us */
	if (!rc)
		install_locked(file, fd);
	pthread_mutex_unlock(&table_lock);
	if (rc) {
		ufree(file);
		*err = rc;
		return NULL;
	}
	return file;
}

int ufile_real_fd(int fd, bool *owned)
{
	const struct ufile_remote_ops *rops;

	*owned = false;
	if (fd < 0)
		return -EBADF;
	if (uaccess_current_mm()) {
		rops = atomic_load(&remote_ops);
		if (!rops || !rops->fetch_fd)
			return -EBADF;
		fd = rops->fetch_fd(fd);
		*owned = fd >= 0;
		return fd;
	}
	return fcntl(fd, F_GETFD) < 0 ? -EBADF : fd;
}

int ufile_map(void *addr, size_t len, int prot, int flags, int fd, int64_t off, void **out)
{
	const struct ufile_remote_ops *rops;
	void *p;

	if (uaccess_current_mm()) {
		rops = atomic_load(&remote_ops);
		return rops && rops->map ? rops->map(addr, len, prot, flags, fd, off, out)
					 : -ENODEV;
	}
	p = mmap(addr, len, prot, flags, fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

void ufile_unmap(void *addr, size_t len)
{
	const struct ufile_remote_ops *rops;

	if (uaccess_current_mm()) {
		rops = atomic_load(&remote_ops);
		if (rops && rops->unmap)
			rops->unmap(addr, len);
		return;
	}
	munmap(addr, len);
}

void ufile_put(struct uiommu_file *file)
{
	const struct ufile_remote_ops *rops;

	if (atomic_fetch_sub_explicit(&file->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* No number is installed (each holds a reference): nothing to close. */
	if (file->remote) {
		rops = atomic_load(&remote_ops);
		if (rops && rops->release)
			rops->release(file);
	} else if (!file->dead && file->ops->release) {
		file->ops->release(file);
	}
	intfd_close(&file->own_fd);
	ufree(file);
}

int ufile_fork_prepare(struct uiommu_file ***files, unsigned int *nfiles,
		       struct uiommu_file ***remote, unsigned int *nremote)
{
	struct uiommu_file **out = NULL, **rem = NULL;
	unsigned int n = 0, nr = 0;

	pthread_mutex_lock(&table_lock);
	*files = NULL;
	*nfiles = 0;
	*remote = NULL;
	*nremote = 0;
	if (!files_installed)
		return 0;
	out = ucalloc(files_installed, sizeof(*out));
	rem = ucalloc(files_installed, sizeof(*rem));
	if (!out || !rem) {
		ufree(out);
		ufree(rem);
		return -ENOMEM;
	}
	for (unsigned int fd = 0; fd < table_size; fd++) {
		struct uiommu_file *f = table[fd];

		/* file->fd is one of its numbers: each file is seen once. */
		if (!f || (unsigned int)f->fd != fd || f->dead)
			continue;
		if (f->remote) {
			rem[nr++] = f;
			continue;
		}
		ufile_get(f);
		out[n++] = f;
	}
	if (!n) {
		ufree(out);
		out = NULL;
	}
	if (!nr) {
		ufree(rem);
		rem = NULL;
	}
	*files = out;
	*nfiles = n;
	*remote = rem;
	*nremote = nr;
	return 0;
}

void ufile_fork_parent(void)
{
	pthread_mutex_unlock(&table_lock);
}

static void vmas_forget(void);

void ufile_fork_child(bool (*keep)(struct uiommu_file *file))
{
	vmas_forget();
	for (unsigned int fd = 0; fd < table_size; fd++) {
		struct uiommu_file *f = table[fd];

		if (!f || (unsigned int)f->fd != fd)
			continue;
		if (!f->dead && keep(f)) {
			f->remote = true;
			/* The owner's backing fd of a served file is not ours. */
			f->served = false;
			f->own_fd = -1;
		} else {
			f->remote = false;
			f->dead = true;
		}
		atomic_store_explicit(&f->refs, f->nfds, memory_order_relaxed);
	}
	pthread_mutex_unlock(&table_lock);
}

struct uiommu_file *ufile_lookup(int fd)
{
	const struct ufile_remote_ops *rops;
	struct uiommu_file *file;

	if (uaccess_current_mm()) {
		rops = atomic_load(&remote_ops);
		return fd >= 0 && rops && rops->lookup ? rops->lookup(fd) : NULL;
	}

	/*
	 * No number installed: not ours, without the lock (the shim asks for
	 * every fd a program uses). A number handed to the program was
	 * installed before, and the program's own synchronisation made that
	 * visible to any thread that uses it.
	 */
	if (fd < 0 || !atomic_load_explicit(&fds_installed, memory_order_relaxed))
		return NULL;
	pthread_mutex_lock(&table_lock);
	file = table_get(fd);
	if (file)
		ufile_get(file);
	pthread_mutex_unlock(&table_lock);
	return file;
}

/* Under table_lock, with @fd installed: uninstall, close, unlock, drop. */
static void close_locked(int fd)
{
	struct uiommu_file *file = uninstall_locked(fd);

	close(fd);
	pthread_mutex_unlock(&table_lock);
	ufile_put(file);
}

int ufile_close(struct uiommu_file *file)
{
	const struct ufile_remote_ops *rops;
	int fd;

	if (file->served) {
		/* Made for a remote caller: the number is the caller's. */
		if (file->fd < 0)
			return -EBADF;
		rops = atomic_load(&remote_ops);
		if (!rops || !rops->uninstall || rops->uninstall(file))
			return -EBADF;
		file->fd = -1;
		ufile_put(file);
		return 0;
	}
	pthread_mutex_lock(&table_lock);
	fd = file->fd;
	if (fd < 0 || table_get(fd) != file) {
		pthread_mutex_unlock(&table_lock);
		return -EBADF;
	}
	close_locked(fd);
	return 0;
}

int ufile_drop_remote(int fd, uint64_t remote_addr)
{
	struct uiommu_file *file;

	pthread_mutex_lock(&table_lock);
	file = table_get(fd);
	if (!file || !file->remote || file->remote_addr != remote_addr) {
		pthread_mutex_unlock(&table_lock);
		return -EBADF;
	}
	/* Released by the owner already: nothing to tell it. */
	file->remote = false;
	file->dead = true;
	close_locked(fd);
	return 0;
}

int ufile_close_fd(int fd)
{
	pthread_mutex_lock(&table_lock);
	if (!table_get(fd)) {
		pthread_mutex_unlock(&table_lock);
		return -EBADF;
	}
	close_locked(fd);
	return 0;
}

int ufile_dup(int oldfd, int newfd, int flags)
{
	struct uiommu_file *old, *victim = NULL;
	bool cloexec = flags & O_CLOEXEC;
	int rc, fd;

	if (newfd < 0)
		return (flags & UFILE_DUP_MIN) ? -EINVAL : -EBADF;
	pthread_mutex_lock(&table_lock);
	old = table_get(oldfd);
	if (flags & UFILE_DUP_MIN) {
		fd = fcntl(oldfd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, newfd);
		if (fd < 0) {
			rc = -errno;
			goto out_unlock;
		}
		if (old) {
			rc = table_reserve(fd);
			if (rc) {
				close(fd);
				goto out_unlock;
			}
			install_locked(old, fd);
		}
		rc = fd;
		goto out_unlock;
	}

	/* dup3(): exactly @newfd. */
	if (oldfd == newfd) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (old) {
		rc = table_reserve(newfd);
		if (rc)
			goto out_unlock;
	}
	/* What @newfd was goes first, so nothing reaches it through that number any more. */
	if (table_get(newfd))
		victim = uninstall_locked(newfd);
	fd = dup3(oldfd, newfd, cloexec ? O_CLOEXEC : 0);
	if (fd < 0) {
		rc = -errno;
		if (victim) {
			/* Nothing changed: give the number back (its reference was kept). */
			install_locked(victim, newfd);
			atomic_fetch_sub_explicit(&victim->refs, 1, memory_order_relaxed);
			victim = NULL;
		}
		goto out_unlock;
	}
	if (old)
		install_locked(old, fd);
	rc = fd;
out_unlock:
	pthread_mutex_unlock(&table_lock);
	if (victim)
		ufile_put(victim);
	return rc;
}

unsigned int ufile_forget(unsigned int first, unsigned int last)
{
	struct uiommu_file *gone[64];
	unsigned int n = 0, fd = first;
	bool done;

	/* In batches: references are dropped with the lock released (release may close files). */
	do {
		unsigned int batch = 0;

		pthread_mutex_lock(&table_lock);
		for (; fd <= last && fd < table_size && batch < ARRAY_SIZE(gone); fd++)
			if (table[fd])
				gone[batch++] = uninstall_locked((int)fd);
		done = fd > last || fd >= table_size;
		pthread_mutex_unlock(&table_lock);
		for (unsigned int i = 0; i < batch; i++)
			ufile_put(gone[i]);
		n += batch;
	} while (!done);
	return n;
}

void ufile_set_readable(struct uiommu_file *file, bool readable)
{
	uint64_t v = 1;
	int fd;

	if (file->backing != UFILE_BACKING_EVENTFD)
		return;
	readable_lock(file);
	fd = file->served ? intfd_fd(file->own_fd) : file->fd;
	if (readable != file->readable && fd >= 0) {
		ssize_t n;

		if (readable)
			n = write(fd, &v, sizeof(v));
		else
			n = read(fd, &v, sizeof(v));
		if (n == sizeof(v))
			file->readable = readable;
	}
	readable_unlock(file);
}

/* The kernel's O_LARGEFILE (its value is per architecture, and libc's may be 0): a memfd has it. */
static int largefile_bit;
static pthread_once_t largefile_once = PTHREAD_ONCE_INIT;

static void largefile_probe(void)
{
	int fd = memfd_create("uiommu:probe", MFD_CLOEXEC), fl;

	if (fd < 0)
		return;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		largefile_bit = fl & ~O_ACCMODE;
	close(fd);
}

/*
 * Linux's f_flags: the open flags less those only the open itself uses
 * (do_dentry_open(), build_open_flags()); a file opened by path also has
 * O_LARGEFILE, which open(2) adds on 64-bit (not with O_PATH, which keeps
 * only O_PATH_FLAGS).
 */
int ufile_getfl(const struct uiommu_file *file)
{
	int fl = __atomic_load_n(&file->f_flags, __ATOMIC_RELAXED);

	if ((fl & O_PATH) == O_PATH)
		return fl & (O_PATH | O_DIRECTORY | O_NOFOLLOW);
	fl &= ~(O_CLOEXEC | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	if (file->has_node) {
		pthread_once(&largefile_once, largefile_probe);
		fl |= largefile_bit;
	}
	return fl;
}

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME)

/* fcntl.c setfl() for a character device or an anonymous inode (no O_DIRECT, no fasync). */
int ufile_setfl(struct uiommu_file *file, int flags)
{
	bool owner = geteuid() == 0 || (file->has_node && file->node.caller_owns) ||
		     (!file->has_node && file->ops->node && file->ops->node->caller_owns);

	if ((file->f_flags & O_PATH) == O_PATH)
		return -EBADF;
	/* Only the owner (or CAP_FOWNER) may set O_NOATIME; the nodes are root's. */
	if ((flags & O_NOATIME) && !(file->f_flags & O_NOATIME) && !owner)
		return -EPERM;
	if (flags & O_NDELAY)
		flags |= O_NONBLOCK;
	/* Neither a character device nor an anonymous inode has FMODE_CAN_ODIRECT. */
	if (flags & O_DIRECT)
		return -EINVAL;
	__atomic_store_n(&file->f_flags, (flags & SETFL_MASK) | (file->f_flags & ~SETFL_MASK),
			 __ATOMIC_RELAXED);
	return 0;
}

bool ufile_any_fd(void)
{
	return atomic_load_explicit(&fds_installed, memory_order_relaxed) != 0;
}

void ufile_handover_lock(void)
{
	pthread_mutex_lock(&table_lock);
}

void ufile_handover_unlock(void)
{
	pthread_mutex_unlock(&table_lock);
}

unsigned int ufile_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&table_lock);
	n = files_installed;
	pthread_mutex_unlock(&table_lock);
	return n;
}

/* ---------------------------------------------------------------------- */
/* stat(2)                                                                */

/* devtmpfs and procfs as a typical host numbers them (anonymous devices 0:5, 0:22). */
#define NODE_DEV_DEVTMPFS makedev(0, 5)
#define NODE_DEV_PROC	  makedev(0, 22)

static uint64_t path_ino(const char *path)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; path && *path; path++)
		h = (h ^ (uint8_t)*path) * 16777619u;
	return 1000 + (h & 0x7fffffff);
}

/* One time for every node: when the library first showed one (devtmpfs nodes date from boot). */
static struct timespec node_epoch;
static pthread_once_t node_epoch_once = PTHREAD_ONCE_INIT;

static void node_epoch_init(void)
{
	clock_gettime(CLOCK_REALTIME, &node_epoch);
}

static struct timespec node_time(void)
{
	pthread_once(&node_epoch_once, node_epoch_init);
	return node_epoch;
}

void ufile_node_stat(const struct ufile_node *node, const char *path, struct stat *st)
{
	struct timespec t = node_time();

	memset(st, 0, sizeof(*st));
	st->st_mode = node->mode;
	st->st_nlink = 1;
	st->st_uid = node->caller_owns ? geteuid() : 0;
	st->st_gid = node->caller_owns ? getegid() : 0;
	st->st_dev = S_ISCHR(node->mode) ? NODE_DEV_DEVTMPFS : NODE_DEV_PROC;
	st->st_ino = path_ino(node->path ? node->path : path);
	if (S_ISCHR(node->mode) || S_ISBLK(node->mode))
		st->st_rdev = makedev(node->major, node->minor);
	st->st_blksize = 4096;
	st->st_atim = t;
	st->st_mtim = t;
	st->st_ctim = t;
}

void ufile_set_node(struct uiommu_file *file, const struct ufile_node *node, uint64_t ino)
{
	file->node = *node;
	file->node.path = NULL;
	file->ino = ino;
	file->has_node = true;
}

void ufile_fstat(struct uiommu_file *file, struct stat *st)
{
	int fd;

	if (file->has_node) {
		ufile_node_stat(&file->node, NULL, st);
		st->st_ino = file->ino;
		return;
	}
	if (file->ops->node) {
		ufile_node_stat(file->ops->node, NULL, st);
		if (file->ino)
			st->st_ino = file->ino;
		return;
	}
	/*
	 * An anonymous inode, as Linux's anon_inode files: mode 0600 with no
	 * type bits, the caller's IDs, size 0. The backing fd supplies the rest
	 * (an eventfd already is one; a memfd's shmem identity is close enough).
	 */
	pthread_mutex_lock(&table_lock);
	fd = file->served ? intfd_fd(file->own_fd) : file->fd;
	if (fd < 0 || fstat(fd, st))
		memset(st, 0, sizeof(*st));
	pthread_mutex_unlock(&table_lock);
	st->st_mode = S_IRUSR | S_IWUSR;
	st->st_nlink = 1;
	st->st_uid = geteuid();
	st->st_gid = getegid();
	st->st_size = 0;
	st->st_blocks = 0;
	st->st_blksize = 4096;
}

/* ---------------------------------------------------------------------- */
/* Mappings made for the program                                          */

struct ufile_vma {
	struct ufile_vma *next;
	uintptr_t start;
	size_t npages, mapped;
	uint64_t *present; /* bit per page, set = still mapped */
	void (*close)(void *priv);
	void *priv;
};

static pthread_mutex_t vma_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ufile_vma *vmas;
/* Registered mappings; 0 lets ufile_munmap() skip the lock (the shim routes every munmap here). */
static atomic_uint vmas_live;

static size_t host_page(void)
{
	static size_t psz;

	if (!psz)
		psz = (size_t)sysconf(_SC_PAGESIZE);
	return psz;
}

int ufile_vma_add(void *addr, size_t len, void (*close)(void *priv), void *priv)
{
	size_t psz = host_page();
	const struct ufile_remote_ops *rops;
	struct ufile_vma *vma;

	if (uaccess_current_mm()) {
		/* A mapping made in the caller this thread serves: its channel keeps it. */
		rops = atomic_load(&remote_ops);
		return rops && rops->vma_add ? rops->vma_add(addr, len, close, priv) : -ENODEV;
	}

	if (!len || ((uintptr_t)addr | len) & (psz - 1))
		return -EINVAL;
	vma = uzalloc(sizeof(*vma));
	if (!vma)
		return -ENOMEM;
	vma->npages = len / psz;
	vma->present = ucalloc((vma->npages + 63) / 64, sizeof(uint64_t));
	if (!vma->present) {
		ufree(vma);
		return -ENOMEM;
	}
	for (size_t i = 0; i < vma->npages; i++)
		vma->present[i / 64] |= 1ULL << (i % 64);
	vma->start = (uintptr_t)addr;
	vma->mapped = vma->npages;
	vma->close = close;
	vma->priv = priv;
	pthread_mutex_lock(&vma_lock);
	vma->next = vmas;
	vmas = vma;
	atomic_fetch_add_explicit(&vmas_live, 1, memory_order_relaxed);
	pthread_mutex_unlock(&vma_lock);
	return 0;
}

int ufile_munmap(void *addr, size_t len)
{
	size_t psz = host_page();
	uintptr_t start = (uintptr_t)addr, last;
	struct ufile_vma **pp, *vma, *gone = NULL;

	if (!atomic_load_explicit(&vmas_live, memory_order_relaxed))
		return munmap(addr, len) ? -errno : 0;
	/* Under vma_lock: ufile_vma_remap() must not map into what is unmapped here. */
	pthread_mutex_lock(&vma_lock);
	if (munmap(addr, len)) {
		int e = errno;

		pthread_mutex_unlock(&vma_lock);
		return -e;
	}
	if (!len) {
		pthread_mutex_unlock(&vma_lock);
		return 0;
	}
	/* munmap() accepted it: page aligned start, no wrap after rounding. */
	last = start + ((len + psz - 1) & ~(psz - 1)) - 1;
	for (pp = &vmas; (vma = *pp);) {
		uintptr_t vlast = vma->start + vma->npages * psz - 1;

		if (vma->start <= last && start <= vlast) {
			size_t first = (MAX(start, vma->start) - vma->start) / psz;
			size_t end = (MIN(last, vlast) - vma->start) / psz;

			for (size_t i = first; i <= end; i++) {
				if (vma->present[i / 64] & (1ULL << (i % 64))) {
					vma->present[i / 64] &= ~(1ULL << (i % 64));
					vma->mapped--;
				}
			}
		}
		if (!vma->mapped) {
			*pp = vma->next;
			vma->next = gone;
			gone = vma;
			atomic_fetch_sub_explicit(&vmas_live, 1, memory_order_relaxed);
			continue;
		}
		pp = &vma->next;
	}
	pthread_mutex_unlock(&vma_lock);
	while ((vma = gone)) {
		gone = vma->next;
		if (vma->close)
			vma->close(vma->priv);
		ufree(vma->present);
		ufree(vma);
	}
	return 0;
}

int ufile_vma_remap(void *addr, int (*fn)(void *run, size_t len, void *arg), void *arg)
{
	size_t psz = host_page();
	struct ufile_vma *vma;
	int rc = -ENOENT;

	pthread_mutex_lock(&vma_lock);
	for (vma = vmas; vma && vma->start != (uintptr_t)addr; vma = vma->next)
		;
	if (vma) {
		rc = 0;
		for (size_t i = 0; i < vma->npages && !rc;) {
			size_t j = i;

			if (!(vma->present[i / 64] & (1ULL << (i % 64)))) {
				i++;
				continue;
			}
			while (j < vma->npages && vma->present[j / 64] & (1ULL << (j % 64)))
				j++;
			rc = fn((void *)(vma->start + i * psz), (j - i) * psz, arg);
			i = j;
		}
	}
	pthread_mutex_unlock(&vma_lock);
	return rc;
}

void *ufile_vma_del(void *addr)
{
	struct ufile_vma **pp, *vma;
	void *priv = NULL;

	pthread_mutex_lock(&vma_lock);
	for (pp = &vmas; (vma = *pp); pp = &vma->next) {
		if (vma->start != (uintptr_t)addr)
			continue;
		*pp = vma->next;
		atomic_fetch_sub_explicit(&vmas_live, 1, memory_order_relaxed);
		priv = vma->priv;
		ufree(vma->present);
		ufree(vma);
		break;
	}
	pthread_mutex_unlock(&vma_lock);
	return priv;
}

struct vma_swap {
	uintptr_t addr;
	bool ones;
	int prot, fd;
	uint64_t fd_off;
};

static int vma_swap_run(void *run, size_t len, void *arg)
{
	const struct vma_swap *sw = arg;
	void *p;

	if (sw->ones) {
		p = mmap(run, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		memset(p, 0xff, len);
		if (sw->prot != (PROT_READ | PROT_WRITE) && mprotect(p, len, sw->prot))
			return -errno;
		return 0;
	}
	p = mmap(run, len, sw->prot, MAP_FIXED | MAP_SHARED, sw->fd,
		 (off_t)(sw->fd_off + ((uintptr_t)run - sw->addr)));
	return p == MAP_FAILED ? -errno : 0;
}

int ufile_vma_swap(void *addr, bool ones, int prot, int fd, uint64_t fd_off)
{
	struct vma_swap sw = {
		.addr = (uintptr_t)addr,
		.ones = ones,
		.prot = prot,
		.fd = fd,
		.fd_off = fd_off,
	};

	return ufile_vma_remap(addr, vma_swap_run, &sw);
}

struct ufile_rvma *ufile_rvma_get(void *addr, int *err)
{
	const struct ufile_remote_ops *rops = atomic_load(&remote_ops);

	if (!uaccess_current_mm() || !rops || !rops->rvma_get) {
		*err = -ENODEV;
		return NULL;
	}
	return rops->rvma_get(addr, err);
}

int ufile_rvma_swap(struct ufile_rvma *rv, bool ones, int prot, int fd, uint64_t fd_off)
{
	const struct ufile_remote_ops *rops = atomic_load(&remote_ops);

	return rops && rops->rvma_swap ? rops->rvma_swap(rv, ones, prot, fd, fd_off) : -ENODEV;
}

void ufile_rvma_put(struct ufile_rvma *rv)
{
	const struct ufile_remote_ops *rops = atomic_load(&remote_ops);

	if (rv && rops && rops->rvma_put)
		rops->rvma_put(rv);
}

/*
 * fork() child: the mappings it inherited are its own pages, but what their
 * registrations hold (the parent's objects, copied) is not its to release.
 * Forgotten, so that unmapping them runs no close on a copy (the gate is
 * closed: no thread was inside ufile_munmap()).
 */
static void vmas_forget(void)
{
	struct ufile_vma *vma;

	while ((vma = vmas)) {
		vmas = vma->next;
		ufree(vma->present);
		ufree(vma);
	}
	atomic_store_explicit(&vmas_live, 0, memory_order_relaxed);
	vma_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}

bool ufile_any_vma(void)
{
	return atomic_load_explicit(&vmas_live, memory_order_relaxed) != 0;
}

unsigned int ufile_vma_count(void)
{
	struct ufile_vma *vma;
	unsigned int n = 0;

	pthread_mutex_lock(&vma_lock);
	for (vma = vmas; vma; vma = vma->next)
		n++;
	pthread_mutex_unlock(&vma_lock);
	return n;
}
