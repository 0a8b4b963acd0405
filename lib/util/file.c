// SPDX-License-Identifier: MIT
/*
 * file.c - emulated files backed by real fds, and the fd -> file table.
 *
 * What it owns: the table that maps a backing fd number to its file (an
 * array indexed by fd, grown by doubling), and the life cycle of each file:
 * create (backing fd + table entry), references, close, release.
 *
 * Invariants: table[fd] is non-NULL exactly while @fd is the open backing
 * fd of that file; an installed file has refs >= 1 (the table's); release
 * runs once, when refs drops to zero, after which nothing points at the file.
 *
 * Locks: table_lock guards table[] and its size, and file->fd transitions.
 * A file's refs are atomic. readable_lock (a spin flag) serialises the
 * eventfd counter with the file's "readable" state.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/bits.h"
#include "util/file.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct uiommu_file **table;
static unsigned int table_size;
static unsigned int table_used;

/* Make room for index @fd. Under table_lock. */
static int table_reserve(int fd)
{
	unsigned int size = table_size ? table_size : 64;
	struct uiommu_file **n;

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

struct uiommu_file *ufile_create(const struct ufile_ops *ops, void *private_data,
				 enum ufile_backing backing, int f_flags, int *err)
{
	struct uiommu_file *file;
	int fd, rc;

	file = uzalloc(sizeof(*file));
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
	file->ops = ops;
	file->private_data = private_data;
	file->fd = fd;
	file->f_flags = f_flags;
	file->backing = backing;
	atomic_init(&file->refs, 1);
	atomic_flag_clear(&file->readable_lock);

	pthread_mutex_lock(&table_lock);
	rc = table_reserve(fd);
	if (!rc) {
		table[fd] = file;
		table_used++;
	}
	pthread_mutex_unlock(&table_lock);
	if (rc) {
		close(fd);
		ufree(file);
		*err = rc;
		return NULL;
	}
	return file;
}

void ufile_put(struct uiommu_file *file)
{
	if (atomic_fetch_sub_explicit(&file->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (file->ops->release)
		file->ops->release(file);
	if (file->fd >= 0)
		close(file->fd);
	ufree(file);
}

struct uiommu_file *ufile_lookup(int fd)
{
	struct uiommu_file *file = NULL;

	if (fd < 0)
		return NULL;
	pthread_mutex_lock(&table_lock);
	if ((unsigned int)fd < table_size && table[fd]) {
		file = table[fd];
		ufile_get(file);
	}
	pthread_mutex_unlock(&table_lock);
	return file;
}

int ufile_close(struct uiommu_file *file)
{
	int fd;

	pthread_mutex_lock(&table_lock);
	fd = file->fd;
	if (fd < 0 || (unsigned int)fd >= table_size || table[fd] != file) {
		pthread_mutex_unlock(&table_lock);
		return -EBADF;
	}
	table[fd] = NULL;
	table_used--;
	file->fd = -1;
	pthread_mutex_unlock(&table_lock);
	close(fd);
	ufile_put(file);
	return 0;
}

void ufile_set_readable(struct uiommu_file *file, bool readable)
{
	uint64_t v = 1;

	if (file->backing != UFILE_BACKING_EVENTFD)
		return;
	while (atomic_flag_test_and_set_explicit(&file->readable_lock, memory_order_acquire))
		;
	if (readable != file->readable && file->fd >= 0) {
		ssize_t n;

		if (readable)
			n = write(file->fd, &v, sizeof(v));
		else
			n = read(file->fd, &v, sizeof(v));
		if (n == sizeof(v))
			file->readable = readable;
	}
	atomic_flag_clear_explicit(&file->readable_lock, memory_order_release);
}

unsigned int ufile_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&table_lock);
	n = table_used;
	pthread_mutex_unlock(&table_lock);
	return n;
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
	struct ufile_vma *vma;

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
	pthread_mutex_unlock(&vma_lock);
	return 0;
}

int ufile_munmap(void *addr, size_t len)
{
	size_t psz = host_page();
	uintptr_t start = (uintptr_t)addr, last;
	struct ufile_vma **pp, *vma, *gone = NULL;

	if (munmap(addr, len))
		return -errno;
	if (!len)
		return 0;
	/* munmap() accepted it: page aligned start, no wrap after rounding. */
	last = start + ((len + psz - 1) & ~(psz - 1)) - 1;
	pthread_mutex_lock(&vma_lock);
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
