// SPDX-License-Identifier: MIT
/*
 * io_pagetable.c - the IOVA space of an IOAS: areas, allowed and reserved
 * ranges, automatic IOVA allocation, and the domains and accesses that see
 * it.
 *
 * What it owns. Three interval trees over the 64-bit IOVA space:
 *
 *   area_itree      the mappings: [iova, last_iova] -> a slice of an
 *                   iopt_pages (pages.c). Areas never overlap.
 *   reserved_itree  IOVA that may never be mapped: outside a domain's
 *                   aperture, a device's reserved regions (MSI windows),
 *                   test reservations. Each node has an owner tag so the
 *                   owner can take its ranges back.
 *   allowed_itree   the user's IOMMU_IOAS_ALLOW_IOVAS list: automatic IOVA
 *                   allocation only uses these ranges when there are any.
 *
 * plus the attached paging domains (kept densely packed; every area with
 * pages is mapped in each of them) and the attached accesses.
 *
 * Invariants: no area intersects a reserved range; no allowed range
 * intersects a reserved range; every area's IOVA, length and in-page offset
 * are multiples of iova_alignment, which is the largest of 1, PAGE_SIZE if
 * huge pages are disabled, the smallest page size of each domain and the
 * alignment each access asks for (and never above PAGE_SIZE). An area with
 * area->pages == NULL is being built or torn down and is skipped by every
 * walker. Automatic allocation never returns IOVA 0: it searches
 * [PAGE_SIZE, U64_MAX - PAGE_SIZE].
 *
 * Errno order of MAP (the reference's list, iommufd.md §4.2): ioas.c checks
 * flags, overflow and permissions first; here, an unaligned or zero length
 * (EINVAL), then either the automatic search (EOVERFLOW for absurd lengths,
 * EINVAL when the source alignment is below the IOAS's, ENOSPC) or the fixed
 * IOVA checks (EINVAL unaligned, EOVERFLOW wraps, EINVAL reserved, EEXIST
 * used), then per area EPERM (writeable over a read-only source) and EINVAL
 * (source offset misaligned), then pinning (EFAULT, ENOMEM).
 *
 * Locks: iova_rwsem guards everything here (Linux's domains_rwsem is folded
 * into it), held for writing by every change and for reading by accesses.
 * It is dropped only to call the access unmap callbacks. Domain ops run
 * under it; pages->mutex nests inside it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "iommufd/io_pagetable.h"
#include "util/alloc.h"
#include "util/dmabuf.h"
#include "util/file.h"
#include "util/trace.h"

/* ------------------------------------------------------------------ */
/* Domain map/unmap: the page-size choice of Linux's iommu_map()       */

/*
 * The largest page size of @bitmap usable at @iova / @paddr for at most
 * @size bytes, and how many of them to map before a larger size becomes
 * possible. 0 when none fits.
 */
static uint64_t iommu_pgsize(uint64_t bitmap, uint64_t iova, uint64_t paddr, uint64_t size,
			     uint64_t *count)
{
	uint64_t addr_merge = paddr | iova;
	uint64_t pgsizes, pgsize, next;
	unsigned int idx;

	pgsizes = bitmap & mask_bits(ilog2_u64(size) + 1);
	if (addr_merge)
		pgsizes &= mask_bits(__builtin_ctzll(addr_merge) + 1);
	if (!pgsizes)
		return 0;
	idx = ilog2_u64(pgsizes);
	pgsize = 1ULL << idx;

	/* A bigger size further on: stop at its boundary so it can be used. */
	pgsizes = bitmap & ~mask_bits(idx + 1);
	if (pgsizes) {
		next = 1ULL << __builtin_ctzll(pgsizes);
		if (!((iova ^ paddr) & (next - 1))) {
			uint64_t offset = next - (addr_merge & (next - 1));

			if (offset + next <= size)
				size = offset;
		}
	}
	*count = size >> idx;
	return pgsize;
}

void iopt_iommu_unmap(struct iommu_domain *domain, uint64_t iova, uint64_t size)
{
	uint64_t done = 0;

	while (done < size) {
		uint64_t count, pgsize;
		size_t n;

		pgsize = iommu_pgsize(domain->pgsize_bitmap, iova + done, iova + done, size - done,
				      &count);
		if (!pgsize)
			break;
		n = domain->ops->unmap_pages(domain, iova + done, pgsize, count);
		if (!n)
			break;
		done += n;
	}
	if (done != size)
		ulog_warn("iommufd: domain unmapped 0x%" PRIx64 " of 0x%" PRIx64
			  " bytes at 0x%" PRIx64,
			  done, size, iova);
}

static int iopt_iommu_map_range(struct iommu_domain *domain, uint64_t iova, uint64_t paddr,
				uint64_t size, int prot)
{
	uint64_t done = 0;
	int rc = 0;

	while (done < size) {
		uint64_t count, pgsize;
		size_t mapped = 0;

		pgsize = iommu_pgsize(domain->pgsize_bitmap, iova + done, paddr + done, size - done,
				      &count);
		if (!pgsize) {
			rc = -EINVAL;
			break;
		}
		rc = domain->ops->map_pages(domain, iova + done, paddr + done, pgsize, count,
					    prot & (IOMMU_READ | IOMMU_WRITE), &mapped);
		done += mapped;
		if (rc)
			break;
		if (!mapped) {
			rc = -EINVAL;
			break;
		}
	}
	if (rc && done)
		iopt_iommu_unmap(domain, iova, done);
	return rc;
}

int iopt_iommu_map(struct iommu_domain *domain, uint64_t iova, uint64_t paddr, uint64_t size,
		   int prot, bool small)
{
	uint64_t done;
	int rc;

	if (!small)
		return iopt_iommu_map_range(domain, iova, paddr, size, prot);
	/*
	 * VFIO type1 (v1) may cut any mapping later, so nothing may be mapped
	 * with an IOPTE bigger than PAGE_SIZE.
	 */
	for (done = 0; done < size; done += PAGE_SIZE) {
		uint64_t n = size - done < PAGE_SIZE ? size - done : PAGE_SIZE;

		rc = iopt_iommu_map_range(domain, iova + done, paddr + done, n, prot);
		if (rc) {
			if (done)
				iopt_iommu_unmap(domain, iova, done);
			return rc;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Walking areas                                                      */

struct iopt_area *iopt_area_contig_init(struct iopt_area_contig_iter *iter,
					struct io_pagetable *iopt, uint64_t iova,
					uint64_t last_iova)
{
	iter->cur_iova = iova;
	iter->last_iova = last_iova;
	iter->area = iopt_area_iter_first(iopt, iova, iova);
	if (iter->area && !iter->area->pages)
		iter->area = NULL;
	return iter->area;
}

struct iopt_area *iopt_area_contig_next(struct iopt_area_contig_iter *iter)
{
	uint64_t last_iova;

	if (!iter->area)
		return NULL;
	last_iova = iopt_area_last_iova(iter->area);
	if (iter->last_iova <= last_iova)
		return NULL;

	iter->cur_iova = last_iova + 1;
	iter->area = iopt_area_iter_next(iter->area, iter->cur_iova, iter->last_iova);
	if (!iter->area)
		return NULL;
	if (iter->cur_iova != iopt_area_iova(iter->area) || !iter->area->pages) {
		iter->area = NULL;
		return NULL;
	}
	return iter->area;
}

/* ------------------------------------------------------------------ */
/* IOVA allocation                                                    */

static uint64_t roundup_pow_of_two(uint64_t x)
{
	return x <= 1 ? 1 : 1ULL << (ilog2_u64(x - 1) + 1);
}

/*
 * Fit @length bytes at the first @align-aligned address (plus the source's
 * in-page offset) of [*start, last]; update *start.
 */
static bool alloc_iova_check_range(uint64_t *start, uint64_t last, uint64_t length, uint64_t align,
				   uint64_t page_offset)
{
	uint64_t aligned_start;

	if (*start + (align - 1) < *start)
		return false;
	aligned_start = (*start + (align - 1)) & ~(align - 1);
	aligned_start |= page_offset;

	if (aligned_start >= last || last - aligned_start < length - 1)
		return false;
	*start = aligned_start;
	return true;
}

/*
 * Choose an IOVA for @length bytes whose source starts at @addr: aligned to
 * min(roundup_pow_of_two(length), lowest set bit of addr, HPAGE_SIZE) with
 * addr's in-page offset kept, inside the allowed ranges (or
 * [PAGE_SIZE, U64_MAX - PAGE_SIZE] without any), avoiding reserved ranges
 * and areas. Never 0.
 */
static int iopt_alloc_iova(struct io_pagetable *iopt, uint64_t *iova, uint64_t addr,
			   uint64_t length)
{
	uint64_t page_offset = addr % PAGE_SIZE;
	struct interval_tree_double_span_iter used_span;
	struct interval_tree_span_iter allowed_span;
	uint64_t iova_alignment;

	/* Keep roundup_pow_of_two() from overflowing. */
	if (length == 0 || length >= UINT64_MAX / 2)
		return -EOVERFLOW;

	/* Keep the alignment the source has: it lets domains use huge IOPTEs. */
	if (!addr)
		iova_alignment = roundup_pow_of_two(length);
	else
		iova_alignment = MIN(roundup_pow_of_two(length), 1ULL << __builtin_ctzll(addr));
	if (iova_alignment >= HPAGE_SIZE)
		iova_alignment = HPAGE_SIZE;

	if (iova_alignment < iopt->iova_alignment)
		return -EINVAL;

	interval_tree_for_each_span(&allowed_span, &iopt->allowed_itree, PAGE_SIZE,
				    UINT64_MAX - PAGE_SIZE)
	{
		if (interval_tree_empty(&iopt->allowed_itree)) {
			allowed_span.start_used = PAGE_SIZE;
			allowed_span.last_used = UINT64_MAX - PAGE_SIZE;
			allowed_span.is_hole = 0;
		}
		if (allowed_span.is_hole)
			continue;
		if (!alloc_iova_check_range(&allowed_span.start_used, allowed_span.last_used,
					    length, iova_alignment, page_offset))
			continue;

		interval_tree_for_each_double_span(&used_span, &iopt->reserved_itree,
						   &iopt->area_itree, allowed_span.start_used,
						   allowed_span.last_used)
		{
			if (used_span.is_used)
				continue;
			if (!alloc_iova_check_range(&used_span.start_hole, used_span.last_hole,
						    length, iova_alignment, page_offset))
				continue;
			*iova = used_span.start_hole;
			return 0;
		}
		/* An empty allowed tree is one span: done. */
		if (interval_tree_empty(&iopt->allowed_itree))
			break;
	}
	return -ENOSPC;
}

static int iopt_check_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	last = iova + (length - 1);
	if (last < iova)
		return -EOVERFLOW;
	/* No reserved IOVA intersects the range. */
	if (iopt_reserved_iter_first(iopt, iova, last))
		return -EINVAL;
	/* Existing mappings are never replaced. */
	if (iopt_area_iter_first(iopt, iova, last))
		return -EEXIST;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Creating areas                                                     */

/* One slice of pages to map, for map / copy (a list of them for COPY). */
struct iopt_pages_list {
	struct iopt_pages *pages;
	struct iopt_area *area;
	struct list_head next;
	uint64_t start_byte;
	uint64_t length;
};

/* The area maps [start_byte, start_byte + length) of @pages at @iova. */
static int iopt_insert_area(struct io_pagetable *iopt, struct iopt_area *area,
			    struct iopt_pages *pages, uint64_t iova, uint64_t start_byte,
			    uint64_t length, int iommu_prot)
{
	uint64_t last_byte;

	if ((iommu_prot & IOMMU_WRITE) && !pages->writable)
		return -EPERM;

	area->iommu_prot = iommu_prot;
	area->page_offset = start_byte % PAGE_SIZE;
	if (area->page_offset & (iopt->iova_alignment - 1))
		return -EINVAL;

	area->node.start = iova;
	area->node.last = iova + (length - 1);
	if (area->node.last < iova)
		return -EOVERFLOW;

	area->pages_node.start = start_byte / PAGE_SIZE;
	last_byte = start_byte + (length - 1);
	if (last_byte < start_byte)
		return -EOVERFLOW;
	area->pages_node.last = last_byte / PAGE_SIZE;
	if (area->pages_node.last >= pages->npages)
		return -EOVERFLOW;

	/* Inserted with pages NULL: the IOVA is taken but the area is not usable yet. */
	area->iopt = iopt;
	interval_tree_insert(&area->node, &iopt->area_itree);
	return 0;
}

static void iopt_abort_area(struct io_pagetable *iopt, struct iopt_area *area)
{
	if (area->iopt)
		interval_tree_remove(&area->node, &iopt->area_itree);
	ufree(area);
}

/* Drop a slice list: abort areas not taken (under @iopt's lock), put pages. */
void iopt_free_pages_list(struct io_pagetable *iopt, struct list_head *pages_list)
{
	struct iopt_pages_list *elm, *n;

	if (iopt)
		pthread_rwlock_wrlock(&iopt->iova_rwsem);
	list_for_each_entry_safe(elm, n, pages_list, next)
	{
		if (elm->area)
			iopt_abort_area(iopt, elm->area);
		if (elm->pages)
			iopt_put_pages(elm->pages);
		list_del(&elm->next);
		ufree(elm);
	}
	if (iopt)
		pthread_rwlock_unlock(&iopt->iova_rwsem);
}

/* Under iova_rwsem (write). */
static int iopt_alloc_area_pages(struct io_pagetable *iopt, struct list_head *pages_list,
				 uint64_t length, uint64_t *dst_iova, int iommu_prot,
				 unsigned int flags)
{
	struct iopt_pages_list *elm;
	uint64_t iova;
	int rc;

	list_for_each_entry(elm, pages_list, next)
	{
		elm->area = uzalloc(sizeof(*elm->area));
		if (!elm->area)
			return -ENOMEM;
	}

	if ((length & (iopt->iova_alignment - 1)) || !length)
		return -EINVAL;

	if (flags & IOPT_ALLOC_IOVA) {
		/* The first slice decides the alignment. */
		elm = list_first_entry(pages_list, struct iopt_pages_list, next);
		uint64_t start = elm->start_byte + (elm->pages->type == IOPT_ADDRESS_USER
							    ? elm->pages->base
							    : elm->pages->file_start);

		rc = iopt_alloc_iova(iopt, dst_iova, start, length);
		if (rc)
			return rc;
	} else {
		rc = iopt_check_iova(iopt, *dst_iova, length);
		if (rc)
			return rc;
	}

	iova = *dst_iova;
	list_for_each_entry(elm, pages_list, next)
	{
		rc = iopt_insert_area(iopt, elm->area, elm->pages, iova, elm->start_byte,
				      elm->length, iommu_prot);
		if (rc)
			return rc;
		iova += elm->length;
	}
	return 0;
}

/* Map every slice of @pages_list contiguously at *dst_iova (chosen when IOPT_ALLOC_IOVA). */
int iopt_map_pages(struct io_pagetable *iopt, struct list_head *pages_list, uint64_t length,
		   uint64_t *dst_iova, int iommu_prot, unsigned int flags)
{
	struct iopt_pages_list *elm, *undo;
	int rc;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	rc = iopt_alloc_area_pages(iopt, pages_list, length, dst_iova, iommu_prot, flags);
	if (rc)
		goto out_unlock;

	list_for_each_entry(elm, pages_list, next)
	{
		rc = iopt_area_fill_domains(elm->area, elm->pages);
		if (rc)
			goto err_unfill;
	}
	/* Success: the areas own the pages references now. */
	list_for_each_entry(elm, pages_list, next)
	{
		elm->area->pages = elm->pages;
		elm->pages = NULL;
		elm->area = NULL;
	}
	goto out_unlock;

err_unfill:
	list_for_each_entry(undo, pages_list, next)
	{
		if (undo == elm)
			break;
		iopt_area_unfill_domains(undo->area, undo->pages);
	}
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

static int iopt_map_common(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			   struct iopt_pages *pages, uint64_t *iova, uint64_t length,
			   uint64_t start_byte, int iommu_prot, unsigned int flags)
{
	struct iopt_pages_list elm = {0};
	LIST_HEAD(pages_list);
	int rc;

	elm.pages = pages;
	elm.start_byte = start_byte;
	elm.length = length;
	pthread_mutex_lock(&ictx->lock);
	if (ictx->account_mode == IOPT_PAGES_ACCOUNT_MM &&
	    pages->account_req == IOPT_PAGES_ACCOUNT_USER)
		pages->account_req = IOPT_PAGES_ACCOUNT_MM;
	/* Once per context: a capget() per MAP would cost more than the MAP (pages.c). */
	if (!ictx->cap_ipc_lock)
		ictx->cap_ipc_lock = iommufd_capable(IOMMUFD_CAP_IPC_LOCK) ? 2 : 1;
	pages->cap_ipc_lock = ictx->cap_ipc_lock == 2;
	pthread_mutex_unlock(&ictx->lock);
	list_add(&elm.next, &pages_list);

	rc = iopt_map_pages(iopt, &pages_list, length, iova, iommu_prot, flags);
	trace_iopt_map(rc ? 0 : *iova, length, iommu_prot, rc);
	if (rc) {
		if (elm.area) {
			pthread_rwlock_wrlock(&iopt->iova_rwsem);
			iopt_abort_area(iopt, elm.area);
			pthread_rwlock_unlock(&iopt->iova_rwsem);
		}
		if (elm.pages)
			iopt_put_pages(elm.pages);
	}
	return rc;
}

int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt, uint64_t *iova,
			void *uptr, uint64_t length, int iommu_prot, unsigned int flags)
{
	struct iopt_pages *pages;

	pages = iopt_alloc_user_pages(uptr, length, iommu_prot & IOMMU_WRITE);
	if (IS_ERR(pages))
		return (int)PTR_ERR(pages);
	return iopt_map_common(ictx, iopt, pages, iova, length, (uintptr_t)uptr - pages->base,
			       iommu_prot, flags);
}

int iopt_map_file_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt, uint64_t *iova, int fd,
			uint64_t start, uint64_t length, int iommu_prot, unsigned int flags)
{
	struct dma_buf *dmabuf;
	struct iopt_pages *pages;
	bool owned;

	/* A dma-buf: its exporter's memory, not a file's pages (no GUP, no charge). */
	dmabuf = dma_buf_get(fd);
	if (!IS_ERR(dmabuf)) {
		if (!length) {
			dma_buf_put(dmabuf);
			return -EINVAL;
		}
		if (start + (length - 1) < start) {
			dma_buf_put(dmabuf);
			return -EOVERFLOW;
		}
		pages = iopt_alloc_dmabuf_pages(dmabuf, start, length, iommu_prot & IOMMU_WRITE);
		if (IS_ERR(pages)) {
			dma_buf_put(dmabuf);
			return (int)PTR_ERR(pages);
		}
		return iopt_map_common(ictx, iopt, pages, iova, length, start - pages->file_start,
				       iommu_prot, flags);
	}

	/* The caller's file (a forked child's comes over its channel). */
	fd = ufile_real_fd(fd, &owned);
	if (fd < 0)
		return fd;
	pages = iopt_alloc_file_pages(fd, start, length, iommu_prot & IOMMU_WRITE);
	if (owned)
		close(fd); /* the pages' own mapping holds the file */
	if (IS_ERR(pages))
		return (int)PTR_ERR(pages);
	return iopt_map_common(ictx, iopt, pages, iova, length, start - pages->file_start,
			       iommu_prot, flags);
}

/* The slices of pages mapped at [iova, iova + length) of @iopt, each with a reference. */
int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct list_head *pages_list)
{
	struct iopt_area_contig_iter iter;
	struct iopt_area *area;
	uint64_t last_iova;
	int rc;

	if (!length)
		return -EINVAL;
	last_iova = iova + (length - 1);
	if (last_iova < iova)
		return -EOVERFLOW;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	iopt_for_each_contig_area(&iter, area, iopt, iova, last_iova)
	{
		uint64_t last = MIN(last_iova, iopt_area_last_iova(area));
		struct iopt_pages_list *elm;

		elm = uzalloc(sizeof(*elm));
		if (!elm) {
			rc = -ENOMEM;
			goto err_free;
		}
		elm->start_byte = iopt_area_start_byte(area, iter.cur_iova);
		elm->pages = area->pages;
		elm->length = (last - iter.cur_iova) + 1;
		iopt_pages_ref(elm->pages);
		list_add_tail(&elm->next, pages_list);
	}
	if (!iopt_area_contig_done(&iter)) {
		rc = -ENOENT;
		goto err_free;
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return 0;
err_free:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	iopt_free_pages_list(NULL, pages_list);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Removing areas                                                     */

static int iopt_unmap_iova_range(struct io_pagetable *iopt, uint64_t start, uint64_t last,
				 uint64_t *unmapped)
{
	uint64_t unmapped_bytes = 0, first = start;
	unsigned int tries = 0;
	struct iopt_area *area;
	int rc = 0;

again:
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	while ((area = iopt_area_iter_first(iopt, start, last))) {
		uint64_t area_last = iopt_area_last_iova(area);
		uint64_t area_first = iopt_area_iova(area);
		struct iopt_pages *pages;

		/* Userspace should not race map and unmap of the same area. */
		if (!area->pages) {
			rc = -EBUSY;
			goto out_unlock;
		}
		/* Locked by an object that has not been destroyed (a HW queue). */
		if (area->num_locks) {
			rc = -EBUSY;
			goto out_unlock;
		}
		/* No splitting, no truncation. */
		if (area_first < start || area_last > last) {
			rc = -ENOENT;
			goto out_unlock;
		}
		if (area_first != start)
			tries = 0;

		if (area->num_accesses) {
			uint64_t length = iopt_area_length(area);

			start = area_first;
			area->prevent_access = true;
			pthread_rwlock_unlock(&iopt->iova_rwsem);
			iommufd_access_notify_unmap(iopt, area_first, length);
			/* Something does not answer unmap requests. */
			if (++tries > 100) {
				ulog_warn("iommufd: an access keeps 0x%" PRIx64 " pinned",
					  area_first);
				rc = -EDEADLK;
				goto out_unmapped;
			}
			goto again;
		}

		pages = area->pages;
		area->pages = NULL;
		iopt_area_unfill_domains(area, pages);
		iopt_abort_area(iopt, area);
		iopt_put_pages(pages);
		unmapped_bytes += area_last - area_first + 1;
	}
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
out_unmapped:
	trace_iopt_unmap(first, last, unmapped_bytes, rc);
	if (unmapped)
		*unmapped = unmapped_bytes;
	return rc;
}

int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length, uint64_t *unmapped)
{
	uint64_t last;

	if (!length)
		return -EINVAL;
	last = iova + (length - 1);
	if (last < iova)
		return -EOVERFLOW;
	return iopt_unmap_iova_range(iopt, iova, last, unmapped);
}

int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped)
{
	return iopt_unmap_iova_range(iopt, 0, UINT64_MAX, unmapped);
}

/* ------------------------------------------------------------------ */
/* Allowed and reserved ranges                                        */

static void iopt_free_allowed(struct interval_tree_root *root)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_first(root))) {
		interval_tree_remove(node, root);
		ufree(container_of(node, struct iopt_allowed, node));
	}
}

int iopt_set_allow_iova(struct io_pagetable *iopt, struct interval_tree_root *allowed)
{
	struct interval_tree_root tmp;
	struct iopt_allowed *a;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	tmp = *allowed;
	*allowed = iopt->allowed_itree;
	iopt->allowed_itree = tmp;
	for (a = iopt_allowed_iter_first(iopt, 0, UINT64_MAX); a;
	     a = iopt_allowed_iter_next(a, 0, UINT64_MAX)) {
		if (iopt_reserved_iter_first(iopt, a->node.start, a->node.last)) {
			tmp = *allowed;
			*allowed = iopt->allowed_itree;
			iopt->allowed_itree = tmp;
			pthread_rwlock_unlock(&iopt->iova_rwsem);
			return -EADDRINUSE;
		}
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return 0;
}

int iopt_reserve_iova_locked(struct io_pagetable *iopt, uint64_t start, uint64_t last, void *owner)
{
	struct iopt_reserved *reserved;

	if (iopt_area_iter_first(iopt, start, last) || iopt_allowed_iter_first(iopt, start, last))
		return -EADDRINUSE;

	reserved = uzalloc(sizeof(*reserved));
	if (!reserved)
		return -ENOMEM;
	reserved->node.start = start;
	reserved->node.last = last;
	reserved->owner = owner;
	interval_tree_insert(&reserved->node, &iopt->reserved_itree);
	return 0;
}

int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last, void *owner)
{
	int rc;

	if (start > last)
		return -EINVAL;
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	rc = iopt_reserve_iova_locked(iopt, start, last, owner);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

static void iopt_remove_reserved_iova_locked(struct io_pagetable *iopt, void *owner)
{
	struct iopt_reserved *reserved, *next;

	for (reserved = iopt_reserved_iter_first(iopt, 0, UINT64_MAX); reserved; reserved = next) {
		next = iopt_reserved_iter_next(reserved, 0, UINT64_MAX);
		if (reserved->owner == owner) {
			interval_tree_remove(&reserved->node, &iopt->reserved_itree);
			ufree(reserved);
		}
	}
}

void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner)
{
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	iopt_remove_reserved_iova_locked(iopt, owner);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}

int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt, struct udev *dev)
{
	unsigned int i;
	int rc = 0;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (i = 0; i != dev->nr_resv; i++) {
		const struct iommu_resv_region *resv = &dev->resv[i];

		if (resv->start > resv->last) {
			rc = -EINVAL;
			break;
		}
		rc = iopt_reserve_iova_locked(iopt, resv->start, resv->last, dev);
		if (rc)
			break;
	}
	if (rc)
		iopt_remove_reserved_iova_locked(iopt, dev);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The table and its alignment                                        */

void iopt_init_table(struct io_pagetable *iopt)
{
	memset(iopt, 0, sizeof(*iopt));
	pthread_rwlock_init(&iopt->iova_rwsem, NULL);
	iopt->area_itree = INTERVAL_TREE_ROOT_INIT;
	iopt->allowed_itree = INTERVAL_TREE_ROOT_INIT;
	iopt->reserved_itree = INTERVAL_TREE_ROOT_INIT;
	/*
	 * A table without domains uses the whole 64-bit IOVA space with no
	 * alignment restriction.
	 */
	iopt->iova_alignment = 1;
}

void iopt_destroy_table(struct io_pagetable *iopt)
{
	struct interval_tree_node *node;

	iopt_free_allowed(&iopt->allowed_itree);
	/* Test reservations (owner NULL) go with the table. */
	iopt_remove_reserved_iova_locked(iopt, NULL);
	if (!interval_tree_empty(&iopt->reserved_itree) || iopt->next_domain_id ||
	    iopt->naccesses || !interval_tree_empty(&iopt->area_itree))
		ulog_warn("iommufd: IOAS destroyed while still in use");
	while ((node = interval_tree_first(&iopt->reserved_itree))) {
		interval_tree_remove(node, &iopt->reserved_itree);
		ufree(container_of(node, struct iopt_reserved, node));
	}
	ufree(iopt->domains);
	ufree(iopt->accesses);
	pthread_rwlock_destroy(&iopt->iova_rwsem);
}

/* Every area conforms to @new_iova_alignment (EADDRINUSE otherwise). */
static int iopt_check_iova_alignment(struct io_pagetable *iopt, uint64_t new_iova_alignment)
{
	uint64_t align_mask = new_iova_alignment - 1;
	struct iopt_area *area;

	for (area = iopt_area_iter_first(iopt, 0, UINT64_MAX); area;
	     area = iopt_area_iter_next(area, 0, UINT64_MAX))
		if ((iopt_area_iova(area) & align_mask) || (iopt_area_length(area) & align_mask) ||
		    (area->page_offset & align_mask))
			return -EADDRINUSE;
	return 0;
}

static uint64_t domain_min_pgsize(struct iommu_domain *domain)
{
	return 1ULL << __builtin_ctzll(domain->pgsize_bitmap);
}

static int iopt_calculate_iova_alignment(struct io_pagetable *iopt)
{
	uint64_t new_iova_alignment;
	unsigned int i;
	int rc;

	new_iova_alignment = iopt->disable_large_pages ? PAGE_SIZE : 1;
	for (i = 0; i != iopt->next_domain_id; i++)
		new_iova_alignment = MAX(domain_min_pgsize(iopt->domains[i]), new_iova_alignment);
	for (i = 0; i != iopt->naccesses; i++)
		new_iova_alignment = MAX(iopt->accesses[i]->iova_alignment, new_iova_alignment);

	if (new_iova_alignment > iopt->iova_alignment) {
		rc = iopt_check_iova_alignment(iopt, new_iova_alignment);
		if (rc)
			return rc;
	}
	iopt->iova_alignment = new_iova_alignment;
	return 0;
}

int iopt_table_add_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	uint64_t new_iova_alignment;
	struct iopt_area *area, *end;
	unsigned int i;
	int rc;

	if (!domain->pgsize_bitmap || !domain->ops || !domain->ops->map_pages ||
	    !domain->ops->unmap_pages)
		return -EINVAL;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (i = 0; i != iopt->next_domain_id; i++) {
		if (iopt->domains[i] == domain) {
			rc = -EEXIST;
			goto out_unlock;
		}
	}

	/*
	 * The domain's smallest page size drives the alignment. Pages are
	 * pinned in PAGE_SIZE units, so a domain must accept PAGE_SIZE.
	 */
	new_iova_alignment = MAX(domain_min_pgsize(domain), iopt->iova_alignment);
	if (new_iova_alignment > PAGE_SIZE) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (new_iova_alignment != iopt->iova_alignment) {
		rc = iopt_check_iova_alignment(iopt, new_iova_alignment);
		if (rc)
			goto out_unlock;
	}

	/* No area may exist outside the aperture. */
	if (domain->aperture_start != 0) {
		rc = iopt_reserve_iova_locked(iopt, 0, domain->aperture_start - 1, domain);
		if (rc)
			goto out_reserved;
	}
	if (domain->aperture_end != UINT64_MAX) {
		rc = iopt_reserve_iova_locked(iopt, domain->aperture_end + 1, UINT64_MAX, domain);
		if (rc)
			goto out_reserved;
	}

	if (iopt->next_domain_id == iopt->domains_cap) {
		unsigned int cap = iopt->domains_cap ? iopt->domains_cap * 2 : 4;
		struct iommu_domain **n = ucalloc(cap, sizeof(*n));

		if (!n) {
			rc = -ENOMEM;
			goto out_reserved;
		}
		if (iopt->next_domain_id)
			memcpy(n, iopt->domains, iopt->next_domain_id * sizeof(*n));
		ufree(iopt->domains);
		iopt->domains = n;
		iopt->domains_cap = cap;
	}

	for (area = iopt_area_iter_first(iopt, 0, UINT64_MAX); area;
	     area = iopt_area_iter_next(area, 0, UINT64_MAX)) {
		if (!area->pages)
			continue;
		rc = iopt_area_fill_domain(area, domain);
		if (rc)
			goto out_unfill;
	}

	iopt->iova_alignment = new_iova_alignment;
	iopt->domains[iopt->next_domain_id++] = domain;
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	trace_iopt_domain_add(domain, new_iova_alignment, 0);
	return 0;

out_unfill:
	end = area;
	for (area = iopt_area_iter_first(iopt, 0, UINT64_MAX); area != end;
	     area = iopt_area_iter_next(area, 0, UINT64_MAX)) {
		if (!area->pages)
			continue;
		iopt_area_unfill_domain(area, area->pages, domain);
	}
out_reserved:
	iopt_remove_reserved_iova_locked(iopt, domain);
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	trace_iopt_domain_add(domain, iopt->iova_alignment, rc);
	return rc;
}

void iopt_table_remove_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	struct iopt_area *area;
	unsigned int i;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (i = 0; i != iopt->next_domain_id; i++)
		if (iopt->domains[i] == domain)
			break;
	if (i == iopt->next_domain_id) {
		ulog_warn("iommufd: removing a domain the IOAS does not have");
		goto out_unlock;
	}
	/* Keep the array dense: the last entry takes the hole. */
	iopt->next_domain_id--;
	iopt->domains[i] = iopt->domains[iopt->next_domain_id];
	iopt->domains[iopt->next_domain_id] = NULL;

	for (area = iopt_area_iter_first(iopt, 0, UINT64_MAX); area;
	     area = iopt_area_iter_next(area, 0, UINT64_MAX)) {
		if (!area->pages)
			continue;
		iopt_area_unfill_domain(area, area->pages, domain);
	}
	iopt_remove_reserved_iova_locked(iopt, domain);
	if (iopt_calculate_iova_alignment(iopt))
		ulog_warn("iommufd: alignment could not drop after a domain left");
	trace_iopt_domain_remove(domain);
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}

/* ------------------------------------------------------------------ */
/* Splitting (VFIO type1 v1)                                          */

/* Split @area so that @iova is the last IOVA of the left part. */
static int iopt_area_split(struct io_pagetable *iopt, struct iopt_area *area, uint64_t iova)
{
	uint64_t alignment = iopt->iova_alignment;
	uint64_t last_iova = iopt_area_last_iova(area);
	uint64_t start_iova = iopt_area_iova(area);
	uint64_t new_start = iova + 1;
	struct iopt_pages *pages = area->pages;
	struct iopt_area *lhs, *rhs;
	int rc;

	if (iova == start_iova || iova == last_iova)
		return 0;
	if (!pages || area->prevent_access)
		return -EBUSY;
	/* The revocation tracking names areas: keep them whole. */
	if (iopt_is_dmabuf(pages))
		return -EOPNOTSUPP;
	if (new_start & (alignment - 1) || iopt_area_start_byte(area, new_start) & (alignment - 1))
		return -EINVAL;

	lhs = uzalloc(sizeof(*lhs));
	if (!lhs)
		return -ENOMEM;
	rhs = uzalloc(sizeof(*rhs));
	if (!rhs) {
		rc = -ENOMEM;
		goto err_free_lhs;
	}

	pthread_mutex_lock(&pages->mutex);
	/* Splitting loses track of access pins. */
	if (area->num_accesses) {
		rc = -EINVAL;
		goto err_unlock;
	}
	/* A domain could hold IOPTEs spanning the cut. */
	if (area->filled && !iopt->disable_large_pages) {
		rc = -EINVAL;
		goto err_unlock;
	}

	interval_tree_remove(&area->node, &iopt->area_itree);
	rc = iopt_insert_area(iopt, lhs, pages, start_iova, iopt_area_start_byte(area, start_iova),
			      new_start - start_iova, area->iommu_prot);
	if (rc)
		goto err_insert;
	rc = iopt_insert_area(iopt, rhs, pages, new_start, iopt_area_start_byte(area, new_start),
			      last_iova - new_start + 1, area->iommu_prot);
	if (rc)
		goto err_remove_lhs;

	if (area->filled) {
		interval_tree_remove(&area->pages_node, &pages->domains_itree);
		interval_tree_insert(&lhs->pages_node, &pages->domains_itree);
		interval_tree_insert(&rhs->pages_node, &pages->domains_itree);
	}
	lhs->filled = rhs->filled = area->filled;
	lhs->pages = pages;
	rhs->pages = pages;
	iopt_pages_ref(pages);
	ufree(area);
	pthread_mutex_unlock(&pages->mutex);
	return 0;

err_remove_lhs:
	interval_tree_remove(&lhs->node, &iopt->area_itree);
err_insert:
	interval_tree_insert(&area->node, &iopt->area_itree);
err_unlock:
	pthread_mutex_unlock(&pages->mutex);
	ufree(rhs);
err_free_lhs:
	ufree(lhs);
	return rc;
}

int iopt_cut_iova(struct io_pagetable *iopt, uint64_t *iovas, size_t num_iovas)
{
	int rc = 0;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (size_t i = 0; i < num_iovas; i++) {
		struct iopt_area *area = iopt_area_iter_first(iopt, iovas[i], iovas[i]);

		if (!area)
			continue;
		rc = iopt_area_split(iopt, area, iovas[i]);
		if (rc)
			break;
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

void iopt_enable_large_pages(struct io_pagetable *iopt)
{
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	iopt->disable_large_pages = false;
	if (iopt_calculate_iova_alignment(iopt))
		ulog_warn("iommufd: alignment could not drop after enabling huge pages");
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}

int iopt_disable_large_pages(struct io_pagetable *iopt)
{
	int rc = 0;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	if (iopt->disable_large_pages)
		goto out_unlock;

	/* Not once domains already hold mappings that may use large IOPTEs. */
	if (iopt->next_domain_id && !interval_tree_empty(&iopt->area_itree)) {
		rc = -EINVAL;
		goto out_unlock;
	}

	iopt->disable_large_pages = true;
	rc = iopt_calculate_iova_alignment(iopt);
	if (rc)
		iopt->disable_large_pages = false;
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Dirty tracking                                                     */

static bool domain_has_dirty_ops(const struct iommu_domain *domain)
{
	return domain->dirty_ops && domain->ops && domain->ops->set_dirty_tracking &&
	       domain->ops->read_and_clear_dirty;
}

int iopt_set_dirty_tracking(struct io_pagetable *iopt, struct iommu_domain *domain, bool enable)
{
	struct iommu_dirty_bitmap clear = {0}; /* no bitmap: reading only clears */
	struct iopt_area *area;
	int rc = 0;

	if (!domain_has_dirty_ops(domain))
		return -EOPNOTSUPP;

	/* The domain ops are atomic on the IOPTEs, so readers of the table suffice. */
	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	if (enable) {
		for (area = iopt_area_iter_first(iopt, 0, UINT64_MAX); area;
		     area = iopt_area_iter_next(area, 0, UINT64_MAX)) {
			if (!area->pages)
				continue;
			rc = domain->ops->read_and_clear_dirty(domain, iopt_area_iova(area),
							       iopt_area_length(area), 0, &clear);
			if (rc)
				goto out_unlock;
		}
	}
	rc = domain->ops->set_dirty_tracking(domain, enable);
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

/* The range rules of IOMMU_HWPT_GET_DIRTY_BITMAP (Linux's iommufd_check_iova_range). */
static int iopt_check_dirty_range(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
				  uint64_t page_size)
{
	uint64_t align, last_iova;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last_iova))
		return -EOVERFLOW;
	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	align = iopt->iova_alignment;
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	/* last_iova + 1 wraps to 0 at the very top, which every alignment accepts. */
	if ((iova | (last_iova + 1)) & (align - 1))
		return -EINVAL;
	/* A bit per page_size bytes: a power of two (the bitmap's shift). */
	if (!page_size || !is_pow2(page_size))
		return -EINVAL;
	if ((iova | (last_iova + 1)) & (page_size - 1))
		return -EINVAL;
	return 0;
}

/* Bits handled per pass: 64 KiB of bitmap, kept in the library while the domain fills it. */
#define DIRTY_CHUNK_BYTES (64u << 10)

int iopt_read_and_clear_dirty_data(struct io_pagetable *iopt, struct iommu_domain *domain,
				   unsigned long flags, uint64_t iova, uint64_t length,
				   uint64_t page_size, void *data)
{
	uint8_t *kbits = NULL, *ubits = NULL;
	unsigned int pgshift;
	uint64_t nbits, bit;
	int rc;

	rc = iopt_check_dirty_range(iopt, iova, length, page_size);
	if (rc)
		return rc;
	if (!domain_has_dirty_ops(domain))
		return -EOPNOTSUPP;

	pgshift = ilog2_u64(page_size);
	/* length / page_size, rounded up (a top-of-space range may end unaligned by one). */
	nbits = ((length - 1) >> pgshift) + 1;
	kbits = ualloc(DIRTY_CHUNK_BYTES);
	ubits = ualloc(DIRTY_CHUNK_BYTES);
	if (!kbits || !ubits) {
		rc = -ENOMEM;
		goto out_free;
	}

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	for (bit = 0; bit < nbits; bit += 8ULL * DIRTY_CHUNK_BYTES) {
		uint64_t n = MIN(nbits - bit, 8ULL * DIRTY_CHUNK_BYTES);
		size_t nbytes = (size_t)((n + 7) / 8);
		uint64_t start = iova + (bit << pgshift);
		uint64_t last = start + ((n << pgshift) - 1);
		void *uchunk = uptr_add(data, bit / 8);
		struct iopt_area_contig_iter iter;
		struct iommu_dirty_bitmap dirty;
		struct iopt_area *area;

		if (last > iova + (length - 1))
			last = iova + (length - 1);
		/* The bitmap must be there before any dirty state is consumed. */
		if (copy_from_user(ubits, uchunk, nbytes)) {
			rc = -EFAULT;
			break;
		}
		memset(kbits, 0, nbytes);
		rc = iommu_dirty_bitmap_init(&dirty, kbits, start, last - start + 1, page_size);
		if (rc)
			break;
		/*
		 * Linux walks the contiguous areas and ignores the walker's error
		 * at a hole (or from the model): the bits stay clear.
		 */
		iopt_for_each_contig_area(&iter, area, iopt, start, last)
		{
			uint64_t alast = MIN(last, iopt_area_last_iova(area));

			(void)domain->ops->read_and_clear_dirty(
				domain, iter.cur_iova, alast - iter.cur_iova + 1, flags, &dirty);
		}
		if (!dirty.nr_records)
			continue;
		for (size_t i = 0; i < nbytes; i++)
			ubits[i] |= kbits[i];
		if (copy_to_user(uchunk, ubits, nbytes)) {
			rc = -EFAULT;
			break;
		}
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
out_free:
	ufree(kbits);
	ufree(ubits);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Accesses                                                           */

int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access)
{
	int rc = 0;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	if (iopt->naccesses == iopt->accesses_cap) {
		unsigned int cap = iopt->accesses_cap ? iopt->accesses_cap * 2 : 4;
		struct iommufd_access **n = ucalloc(cap, sizeof(*n));

		if (!n) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		if (iopt->naccesses)
			memcpy(n, iopt->accesses, iopt->naccesses * sizeof(*n));
		ufree(iopt->accesses);
		iopt->accesses = n;
		iopt->accesses_cap = cap;
	}
	iopt->accesses[iopt->naccesses++] = access;
	rc = iopt_calculate_iova_alignment(iopt);
	if (rc)
		iopt->accesses[--iopt->naccesses] = NULL;
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

void iopt_remove_access(struct io_pagetable *iopt, struct iommufd_access *access)
{
	unsigned int i;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (i = 0; i != iopt->naccesses; i++)
		if (iopt->accesses[i] == access)
			break;
	if (i == iopt->naccesses) {
		ulog_warn("iommufd: removing an access the IOAS does not have");
	} else {
		iopt->accesses[i] = iopt->accesses[--iopt->naccesses];
		iopt->accesses[iopt->naccesses] = NULL;
	}
	if (iopt_calculate_iova_alignment(iopt))
		ulog_warn("iommufd: alignment could not drop after an access left");
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}
