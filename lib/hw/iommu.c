// SPDX-License-Identifier: MIT
/*
 * iommu.c - the helpers lib/hw/iommu.h promises to both sides of the
 * driver-ops interface: copying vendor blobs and arrays in from user
 * memory (and results back out), writing user dirty bitmaps, and handing
 * out mmap offsets for model regions.
 *
 * User memory. Everything here runs in the process whose memory the
 * pointers name (DESIGN.md §1), so a copy is a plain copy, but a guarded
 * one (util/uaccess.h): an address the program never mapped gives EFAULT,
 * as the kernel's copy_from_user() does, instead of a crash. A pointer into
 * the first page (NULL plus an offset, what programs and the selftest
 * actually produce) and a range that wraps the address space are refused
 * up front without touching memory.
 *
 * Blob rules (the kernel's, iommufd.md §1.1): the type must match (EINVAL);
 * the length must be at least the driver's original size, the end of its
 * first mandatory field, and at most the driver's struct (EINVAL); bytes
 * the caller did not supply read as zero. The "full array" copy is the one
 * exception in the kernel and here: it follows copy_struct_from_user(),
 * where a longer entry is fine if its extra bytes are zero (E2BIG if not),
 * and a shorter one has no minimum.
 *
 * Dirty bitmaps are written a byte at a time: bit n of a little-endian
 * array of u64 words is bit n % 8 of byte n / 8 whatever the alignment, so
 * a bitmap at an odd address (the selftest uses base + 0xff1) needs no
 * special case, and bits are ORed in, never cleared. Whole bytes in the
 * middle of a run are set with memset, which keeps a 1 GiB huge leaf at
 * 2 KiB per bit (64 KiB of bitmap) cheap.
 *
 * Regions a model offers for mmap() live in shared memory backed by a
 * memfd (iommu_mmap_region_alloc()), so the core can map the same pages a
 * second time into the program's address space.
 *
 * DMA (iommu_dma_rw). A device access is a loop of the model's
 * dma_translate, which answers for a run of bytes that translate alike (one
 * leaf, one IOTLB entry), and a memcpy of that run. The first fault ends the
 * loop: bytes before it have moved, bytes from it on have not, which is what
 * a DMA engine that issues its requests in address order sees on a bus
 * where a faulting request is aborted. Each translate and its copy form
 * one epoch read-side section: a model's walk is one already, and holding
 * it across the copy lets the core defer unmapping memory it owns (the
 * alias of a file mapping) until copies that translated into it are done.
 *
 * The models' shared steps. A model whose paging domain is one pt_table
 * writes its map_pages, unmap_pages, iova_to_phys and read_and_clear_dirty
 * with iommu_map_pages_check() and iommu_pt_map() / _unmap() /
 * _iova_to_phys() / _collect_dirty(), and ends hw_info with
 * iommu_hw_info_fill(); what stays in the model is its own permission bits,
 * dirty-bit encoding and invalidation.
 *
 * No state and no locks of its own (the iommu_pt_* helpers take the lock
 * the model passes), except the mmap offset counter, which is one atomic
 * add.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/iommu.h"
#include "pt/pt.h"
#include "util/alloc.h"
#include "util/bits.h"
#include "util/epoch.h"
#include "util/stats.h"
#include "util/uaccess.h"

/* The lowest page: no user pointer lands there (mmap_min_addr is at least 4 KiB). */
#define USER_NULL_PAGE 4096u

static bool user_range_bad(const void *uptr, size_t len)
{
	uintptr_t p = (uintptr_t)uptr;

	if (!len)
		return false;
	return p < USER_NULL_PAGE || p + (len - 1) < p;
}

static int user_read(void *dst, const void *uptr, size_t len)
{
	if (user_range_bad(uptr, len))
		return -EFAULT;
	return len ? copy_from_user(dst, uptr, len) : 0;
}

/* Copy @ulen user bytes into a @klen-byte struct, zero-extending a short one. */
static int copy_zero_extend(void *dst, size_t klen, const void *uptr, size_t ulen)
{
	int ret = user_read(dst, uptr, ulen);

	if (ret)
		return ret;
	if (ulen < klen)
		memset((uint8_t *)dst + ulen, 0, klen - ulen);
	return 0;
}

int iommu_copy_struct_from_user(void *dst, size_t dst_len, size_t min_len,
				const struct iommu_user_data *data, unsigned int type)
{
	if (!dst || !data)
		return -EINVAL;
	if (data->type != type)
		return -EINVAL;
	if (data->len < min_len || data->len > dst_len)
		return -EINVAL;
	return copy_zero_extend(dst, dst_len, data->uptr, data->len);
}

int iommu_copy_struct_from_user_array(void *dst, size_t dst_len, size_t min_len,
				      const struct iommu_user_data_array *array,
				      unsigned int type, uint32_t index)
{
	struct iommu_user_data one;
	uintptr_t base, off;

	if (!dst || !array || !array->entry_num || index >= array->entry_num)
		return -EINVAL;
	base = (uintptr_t)array->uptr;
	/*
	 * A NULL array stays NULL at every index (the copy then faults, after
	 * the type and length checks, as in the kernel); so does a wrap.
	 */
	if (base < USER_NULL_PAGE ||
	    __builtin_mul_overflow((uintptr_t)array->entry_len, (uintptr_t)index, &off) ||
	    __builtin_add_overflow(base, off, &off))
		off = 0;
	one = (struct iommu_user_data){ .type = array->type, .uptr = (const void *)off,
					.len = array->entry_len };
	return iommu_copy_struct_from_user(dst, dst_len, min_len, &one, type);
}

/* 0 when the @len user bytes at @p are all zero, -E2BIG when not, -EFAULT. */
static int user_bytes_zero(const uint8_t *p, size_t len)
{
	uint8_t chunk[256];

	while (len) {
		size_t n = MIN(len, sizeof(chunk));
		int ret = copy_from_user(chunk, p, n);

		if (ret)
			return ret;
		for (size_t i = 0; i < n; i++)
			if (chunk[i])
				return -E2BIG;
		p += n;
		len -= n;
	}
	return 0;
}

int iommu_copy_struct_from_full_user_array(void *dst, size_t dst_entry_len,
					   const struct iommu_user_data_array *array,
					   unsigned int type)
{
	const uint8_t *src;
	size_t ulen;

	if (!dst || !array)
		return -EINVAL;
	if (array->type != type || !array->entry_num)
		return -EINVAL;
	ulen = array->entry_len;
	src = array->uptr;
	{
		size_t total;

		if (__builtin_mul_overflow(ulen, (size_t)array->entry_num, &total) ||
		    user_range_bad(src, total))
			return -EFAULT;
	}
	for (uint32_t i = 0; i < array->entry_num; i++, src += ulen) {
		uint8_t *d = (uint8_t *)dst + (size_t)i * dst_entry_len;

		if (ulen > dst_entry_len) {
			int ret = user_bytes_zero(src + dst_entry_len, ulen - dst_entry_len);

			if (!ret)
				ret = user_read(d, src, dst_entry_len);
			if (ret)
				return ret;
		} else {
			int ret = copy_zero_extend(d, dst_entry_len, src, ulen);

			if (ret)
				return ret;
		}
	}
	return 0;
}

int iommu_copy_struct_to_user(const struct iommu_user_data *data, const void *src,
			      size_t src_len, size_t min_len, unsigned int type)
{
	if (!data || !src)
		return -EINVAL;
	if (data->type != type)
		return -EINVAL;
	if (data->len < min_len || data->len > src_len)
		return -EINVAL;
	if (user_range_bad(data->uptr, data->len))
		return -EFAULT;
	return data->len ? copy_to_user((void *)(uintptr_t)data->uptr, src, data->len) : 0;
}

int iommu_hw_info_fill(const void *info, size_t info_len, unsigned int info_type, void *buf,
		       size_t len, unsigned int *type, size_t *full_len)
{
	size_t n = MIN(len, info_len);

	if (n && !buf)
		return -EFAULT;
	if (n)
		memcpy(buf, info, n);
	*type = info_type;
	*full_len = info_len;
	return (int)n;
}

/* ---------------------------------------------------------------------- */
/* Dirty bitmaps                                                          */

int iommu_dirty_bitmap_init(struct iommu_dirty_bitmap *dirty, void *data, uint64_t iova,
			    uint64_t length, uint64_t page_size)
{
	if (!dirty || !is_pow2(page_size) || !length || range_wraps(iova, length))
		return -EINVAL;
	*dirty = (struct iommu_dirty_bitmap){ .data = data, .iova = iova,
					      .last = iova + (length - 1),
					      .pgshift = ilog2_u64(page_size) };
	return 0;
}

/* OR bits [first, last] into the byte array @map. */
static void set_bit_run(uint8_t *map, uint64_t first, uint64_t last)
{
	uint64_t fb = first >> 3, lb = last >> 3;
	uint8_t head = (uint8_t)(0xffu << (first & 7));
	uint8_t tail = (uint8_t)(0xffu >> (7 - (last & 7)));

	if (fb == lb) {
		map[fb] |= head & tail;
		return;
	}
	map[fb] |= head;
	if (lb > fb + 1)
		memset(map + fb + 1, 0xff, (size_t)(lb - fb - 1));
	map[lb] |= tail;
}

void iommu_dirty_bitmap_record(struct iommu_dirty_bitmap *dirty, uint64_t iova, uint64_t length)
{
	uint64_t s, l;

	if (!dirty || !dirty->data || !length)
		return;
	s = iova;
	l = range_wraps(iova, length) ? UINT64_MAX : iova + (length - 1);
	if (l < dirty->iova || s > dirty->last)
		return;
	s = MAX(s, dirty->iova);
	l = MIN(l, dirty->last);
	set_bit_run(dirty->data, (s - dirty->iova) >> dirty->pgshift,
		    (l - dirty->iova) >> dirty->pgshift);
	dirty->nr_records++;
}

int iommu_map_pages_check(const struct iommu_domain *domain, uint64_t iova, uint64_t paddr,
			  size_t pgsize, size_t pgcount, int prot, uint64_t *size,
			  unsigned int *pt_prot)
{
	if (!is_pow2(pgsize) || !(pgsize & domain->pgsize_bitmap) || !pgcount)
		return -EINVAL;
	if (!IS_ALIGNED(iova | paddr, pgsize))
		return -EINVAL;
	if (__builtin_mul_overflow((uint64_t)pgsize, (uint64_t)pgcount, size) ||
	    range_wraps(iova, *size) || range_wraps(paddr, *size))
		return -EOVERFLOW;
	if (iova < domain->aperture_start || iova + (*size - 1) > domain->aperture_end)
		return -ERANGE;
	*pt_prot = 0;
	if (prot & IOMMU_READ)
		*pt_prot |= PT_PROT_R;
	if (prot & IOMMU_WRITE)
		*pt_prot |= PT_PROT_W;
	return *pt_prot ? 0 : -EINVAL;
}

struct dirty_walk {
	const struct pt_table *t;
	struct iommu_dirty_bitmap *bitmap;
	uint64_t start, last;
	uint64_t mask, bits, clean;
	bool clear;
	uint64_t inv_start, inv_last;
};

static int dirty_leaf(void *arg, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
		      int level)
{
	struct dirty_walk *w = arg;
	const struct pt_table *t = w->t;
	struct pt_leaf leaf;
	struct pt_fault f;
	uint64_t s, l;

	(void)pa;
	(void)prot;
	(void)level;
	/* The leaf's descriptor and where it lives (a read-only walk changes nothing). */
	if (pt_table_walk(t, iova, 0, &leaf, &f) != PT_OK)
		return 0;
	for (;;) {
		uint64_t d = leaf.desc;
		int ret;

		if ((d & w->mask) != w->bits)
			return 0; /* clean, or not tracked */
		if (!w->clear)
			break;
		ret = pt_mem_cas_desc(&t->cfg, t->mem, leaf.desc_addr, d, d ^ w->clean);
		if (!ret)
			break;
		if (ret != -EAGAIN || pt_mem_read_desc(&t->cfg, t->mem, leaf.desc_addr, &leaf.desc))
			return 0;
	}
	s = MAX(iova, w->start);
	l = MIN(iova + (size - 1), w->last);
	iommu_dirty_bitmap_record(w->bitmap, s, l - s + 1);
	if (w->clear) {
		w->inv_start = MIN(w->inv_start, iova);
		w->inv_last = MAX(w->inv_last, iova + (size - 1));
	}
	return 0;
}

int iommu_pt_map(struct pt_table *t, pthread_mutex_t *lock, uint64_t iova, uint64_t paddr,
		 uint64_t size, unsigned int pt_prot, size_t *mapped)
{
	int ret;

	if (lock)
		pthread_mutex_lock(lock);
	ret = pt_map(t, iova, paddr, size, pt_prot);
	if (lock)
		pthread_mutex_unlock(lock);
	if (!ret && mapped)
		*mapped += size;
	return ret;
}

uint64_t iommu_pt_unmap(struct pt_table *t, pthread_mutex_t *lock, uint64_t iova, size_t pgsize,
			size_t pgcount)
{
	uint64_t size, unmapped = 0;

	if (!pgsize || !pgcount || __builtin_mul_overflow((uint64_t)pgsize, (uint64_t)pgcount, &size))
		return 0;
	if (lock)
		pthread_mutex_lock(lock);
	if (pt_unmap(t, iova, size, &unmapped))
		unmapped = 0;
	if (lock)
		pthread_mutex_unlock(lock);
	return unmapped;
}

uint64_t iommu_pt_iova_to_phys(const struct pt_table *t, uint64_t iova)
{
	uint64_t pa;

	return pt_iova_to_phys(t, iova, &pa) ? 0 : pa;
}

bool iommu_pt_collect_dirty(const struct pt_table *t, pthread_mutex_t *lock, uint64_t iova,
			    uint64_t size, unsigned long flags, uint64_t dirty_mask,
			    uint64_t dirty_bits, uint64_t clean_bits,
			    struct iommu_dirty_bitmap *dirty, uint64_t *inv_start,
			    uint64_t *inv_last)
{
	struct dirty_walk w = {
		.t = t,
		.bitmap = dirty,
		.start = iova,
		.last = range_wraps(iova, size) ? UINT64_MAX : iova + (size - 1),
		.mask = dirty_mask,
		.bits = dirty_bits,
		.clean = clean_bits,
		.clear = !(flags & IOMMU_DIRTY_NO_CLEAR),
		.inv_start = UINT64_MAX,
		.inv_last = 0,
	};

	if (lock)
		pthread_mutex_lock(lock);
	if (size)
		pt_for_each_leaf(t, iova, w.last, dirty_leaf, &w);
	if (lock)
		pthread_mutex_unlock(lock);
	*inv_start = w.inv_start;
	*inv_last = w.inv_last;
	return w.inv_start <= w.inv_last;
}

/* ---------------------------------------------------------------------- */
/* mmap offsets                                                           */

#define MMAP_OFFSET_UNIT_SHIFT 16

uint64_t iommu_mmap_offset_alloc(uint64_t length)
{
	static uint64_t next_unit = 1;
	uint64_t units = (length + (1ULL << MMAP_OFFSET_UNIT_SHIFT) - 1) >> MMAP_OFFSET_UNIT_SHIFT;

	if (!units)
		units = 1;
	return __atomic_fetch_add(&next_unit, units, __ATOMIC_RELAXED) << MMAP_OFFSET_UNIT_SHIFT;
}

/* ---------------------------------------------------------------------- */
/* mmap regions                                                           */

void *iommu_mmap_region_alloc(size_t len, int *fd)
{
	void *base;
	int mfd;

	*fd = -1;
	if (!len || len & ((size_t)sysconf(_SC_PAGESIZE) - 1) || ualloc_should_fail())
		return NULL;
	mfd = memfd_create("uiommu:mmap-region", MFD_CLOEXEC);
	if (mfd < 0)
		return NULL;
	if (ftruncate(mfd, (off_t)len)) {
		close(mfd);
		return NULL;
	}
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (base == MAP_FAILED) {
		close(mfd);
		return NULL;
	}
	*fd = mfd;
	return base;
}

void iommu_mmap_region_free(void *base, size_t len, int fd)
{
	if (base)
		munmap(base, len);
	if (fd >= 0)
		close(fd);
}

/* ---------------------------------------------------------------------- */
/* DMA                                                                    */

int iommu_dma_rw(struct udev *dev, uint32_t pasid, uint64_t iova, void *buf, size_t len,
		 bool write, size_t *done, struct iommu_dma_fault *fault)
{
	unsigned int access = write ? IOMMU_WRITE : IOMMU_READ;
	const struct iommu_ops *ops;
	size_t off = 0;
	int ret = 0;

	*done = 0;
	*fault = (struct iommu_dma_fault){ .iova = iova, .pasid = pasid, .access = access };
	if (!len)
		return 0;
	if (range_wraps(iova, len)) {
		fault->err = -EINVAL;
		return -EINVAL;
	}
	ops = dev && dev->iommu ? dev->iommu->ops : NULL;
	if (!ops || !ops->dma_translate) {
		fault->err = -EIO;
		return -EOPNOTSUPP;
	}
	while (off < len) {
		size_t contig = 0;
		void *host = NULL;

		epoch_enter();
		ret = ops->dma_translate(dev, pasid, iova + off, len - off, access, &host, &contig,
					 fault);
		if (!ret) {
			/* A model that claims more than asked (or nothing) is clamped. */
			contig = contig ? MIN(contig, len - off) : 1;
			if (write)
				memcpy(host, (uint8_t *)buf + off, contig);
			else
				memcpy((uint8_t *)buf + off, host, contig);
		}
		epoch_exit();
		if (ret)
			break;
		off += contig;
	}
	*done = off;
	stats_add(STATS_DMA_ACCESSES, 1);
	stats_add(STATS_DMA_BYTES, off);
	if (ret)
		stats_add(STATS_DMA_FAULTS, 1);
	return ret;
}
