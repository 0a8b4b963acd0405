/* SPDX-License-Identifier: MIT */
/*
 * io_pagetable.h - areas and pages: the inside of an io_pagetable.
 *
 *   iopt_area   one IOVA range [iova, last_iova] of an io_pagetable; it maps
 *               a byte-granular slice of one iopt_pages (which may be
 *               shared by areas of other IOASes after IOMMU_IOAS_COPY).
 *   iopt_pages  the memory of one MAP call: a linear array of npages host
 *               pages (a user address range of this process, a window of
 *               a memfd that the library mmap()s itself, or a window of a
 *               dma-buf's memory), with the pinning state of each page.
 *
 * A "pinned" page here is a page the library has checked is mapped with the
 * needed permission (and faulted in, as GUP would) and charged to the
 * RLIMIT_MEMLOCK accounting; it is pinned while some domain maps it (the
 * area is in pages->domains_itree) or some access has pinned it
 * (pages->access_itree), and exactly once per iopt_pages whatever the
 * number of users (the "pin" of pages.c). Userspace cannot stop the program
 * from munmap()ing pinned user memory; file-backed pages stay valid because
 * the library's own mapping of the file holds them.
 *
 * Index ranges are in PAGE_SIZE units of the pages array; "last" is
 * inclusive everywhere (kernel convention). last_iova + 1 may overflow;
 * last_index + 1 cannot.
 */
#ifndef UIOMMU_IOMMUFD_IO_PAGETABLE_H
#define UIOMMU_IOMMUFD_IO_PAGETABLE_H

#include "iommufd/iommufd_private.h"
#include "util/remote_mm.h"

struct iopt_area {
	/* [iova, last_iova] in iopt->area_itree; under iova_rwsem. */
	struct interval_tree_node node;
	/* [index, last_index] in pages->domains_itree while filled; under pages->mutex. */
	struct interval_tree_node pages_node;
	struct io_pagetable *iopt;
	/* NULL while the area is being created or destroyed (not usable). */
	struct iopt_pages *pages;
	/* pages_node is in pages->domains_itree (the IOAS had domains). */
	bool filled;
	/* Set while UNMAP waits for accesses to let go: new pins/rw get EINVAL. */
	bool prevent_access;
	int iommu_prot;
	/* Byte offset of iova inside its first page. */
	unsigned int page_offset;
	/* Access pins on this area; and those from internal accesses (UNMAP: EBUSY). */
	unsigned int num_accesses;
	unsigned int num_locks;
};

struct iopt_allowed {
	struct interval_tree_node node;
};

struct iopt_reserved {
	struct interval_tree_node node;
	void *owner;
};

enum iopt_address_type {
	IOPT_ADDRESS_USER = 0,
	IOPT_ADDRESS_FILE = 1,
	IOPT_ADDRESS_DMABUF = 2,
};

struct dma_buf;
struct dma_buf_attachment;

struct iopt_pages {
	atomic_uint kref;
	/* Guards every field below that changes after creation. */
	pthread_mutex_t mutex;
	/* Host address of page index 0: the user range, or our mapping of the file. */
	uintptr_t base;
	size_t npages;
	/* Pages pinned now; and how many of them are charged (npinned once settled). */
	size_t npinned;
	size_t last_npinned;
	enum iopt_address_type type;
	bool writable;
	/* IOPT_PAGES_ACCOUNT_* the map asked for, and the one in force once decided. */
	uint8_t account_req;
	uint8_t account_mode;
	bool account_decided;
	/* The mapping context's opener had CAP_IPC_LOCK (set at MAP time: no charge). */
	bool cap_ipc_lock;
	/*
	 * USER memory of another process (a forked child's IOAS_MAP, see
	 * lib/uiommu_remote.c): @base is its address there until the first pin
	 * or access aliases it here (remote_mm_alias()), which clears @remote.
	 */
	bool remote;
	struct remote_mm mm;
	/*
	 * FILE: page-aligned file offset of index 0, identity, and our
	 * mapping's size. USER: the size of the alias of a remote process's
	 * pages that we mapped (0: none, or the same address as theirs).
	 */
	uint64_t file_start;
	uint64_t file_dev, file_ino;
	size_t alias_len;
	/* FILE: the file is memfd-like (shmem / hugetlbfs); pinning fails otherwise. */
	bool file_pinnable;
	/*
	 * DMABUF (@file_start is the page-aligned offset in the buffer of
	 * index 0): our attachment, which holds the buffer's reference; set
	 * once the exporter revoked the memory (the domains no longer map it
	 * and never will again: Linux's phys.len = 0); and the (area, domain)
	 * pairs whose IOPTEs point at the buffer, which revocation unmaps
	 * (iopt_dmabuf_track), because the revoke path cannot take an
	 * io_pagetable's lock to find the domains. All under @mutex.
	 */
	struct dma_buf_attachment *dmabuf_attach;
	bool dmabuf_revoked;
	struct list_head dmabuf_tracker;
	/* iopt_pages_access nodes (overlapping allowed, exact duplicates counted). */
	struct interval_tree_root access_itree;
	/* pages_node of every filled area. */
	struct interval_tree_root domains_itree;
	/* On the process-wide list (pin counting). */
	struct list_head all_item;
};

/* One range pinned through accesses. */
struct iopt_pages_access {
	struct interval_tree_node node;
	unsigned int users;
};

static inline uint64_t iopt_area_iova(const struct iopt_area *area)
{
	return area->node.start;
}

static inline uint64_t iopt_area_last_iova(const struct iopt_area *area)
{
	return area->node.last;
}

static inline uint64_t iopt_area_length(const struct iopt_area *area)
{
	return area->node.last - area->node.start + 1;
}

static inline uint64_t iopt_area_index(const struct iopt_area *area)
{
	return area->pages_node.start;
}

static inline uint64_t iopt_area_last_index(const struct iopt_area *area)
{
	return area->pages_node.last;
}

/* Byte offset into the pages array of @iova (inside the area). */
static inline uint64_t iopt_area_start_byte(const struct iopt_area *area, uint64_t iova)
{
	return (iova - iopt_area_iova(area)) + area->page_offset +
	       iopt_area_index(area) * PAGE_SIZE;
}

static inline uint64_t iopt_area_iova_to_index(const struct iopt_area *area, uint64_t iova)
{
	return iopt_area_start_byte(area, iova) / PAGE_SIZE;
}

#define IOPT_ITER_FNS(name, type, tree)                                                            \
	static inline type *iopt_##name##_iter_first(struct io_pagetable *iopt, uint64_t start,    \
						     uint64_t last)                                \
	{                                                                                          \
		struct interval_tree_node *n = interval_tree_iter_first(&iopt->tree, start, last); \
		return n ? container_of(n, type, node) : NULL;                                     \
	}                                                                                          \
	static inline type *iopt_##name##_iter_next(type *prev, uint64_t start, uint64_t last)     \
	{                                                                                          \
		struct interval_tree_node *n = interval_tree_iter_next(&prev->node, start, last);  \
		return n ? container_of(n, type, node) : NULL;                                     \
	}

IOPT_ITER_FNS(area, struct iopt_area, area_itree)
IOPT_ITER_FNS(allowed, struct iopt_allowed, allowed_itree)
IOPT_ITER_FNS(reserved, struct iopt_reserved, reserved_itree)

/*
 * Walk the areas covering [iova, last_iova] contiguously from @iova: stops
 * at the first gap (or an area being created/destroyed). After the loop,
 * iopt_area_contig_done() says whether the whole range was covered.
 */
struct iopt_area_contig_iter {
	uint64_t cur_iova;
	uint64_t last_iova;
	struct iopt_area *area;
};

struct iopt_area *iopt_area_contig_init(struct iopt_area_contig_iter *iter,
					struct io_pagetable *iopt, uint64_t iova,
					uint64_t last_iova);
struct iopt_area *iopt_area_contig_next(struct iopt_area_contig_iter *iter);

static inline bool iopt_area_contig_done(struct iopt_area_contig_iter *iter)
{
	if (!iter->area)
		return false;
	return iopt_area_last_iova(iter->area) >= iter->last_iova;
}

#define iopt_for_each_contig_area(iter, area, iopt, iova, last_iova)              \
	for ((area) = iopt_area_contig_init(iter, iopt, iova, last_iova); (area); \
	     (area) = iopt_area_contig_next(iter))

/* pages.c */
struct iopt_pages *iopt_alloc_user_pages(void *uptr, uint64_t length, bool writable);
struct iopt_pages *iopt_alloc_file_pages(int fd, uint64_t start, uint64_t length, bool writable);
/* @dmabuf's reference passes to the pages on success; the caller keeps it on failure. */
struct iopt_pages *iopt_alloc_dmabuf_pages(struct dma_buf *dmabuf, uint64_t start, uint64_t length,
					   bool writable);
void iopt_release_pages(struct iopt_pages *pages);

static inline void iopt_pages_ref(struct iopt_pages *pages)
{
	atomic_fetch_add_explicit(&pages->kref, 1, memory_order_relaxed);
}

static inline void iopt_put_pages(struct iopt_pages *pages)
{
	if (atomic_fetch_sub_explicit(&pages->kref, 1, memory_order_acq_rel) == 1)
		iopt_release_pages(pages);
}

/* Host address of byte @start_byte of @pages. */
static inline void *iopt_pages_host(const struct iopt_pages *pages, uint64_t start_byte)
{
	return (void *)(pages->base + start_byte);
}

int iopt_area_fill_domains(struct iopt_area *area, struct iopt_pages *pages);
void iopt_area_unfill_domains(struct iopt_area *area, struct iopt_pages *pages);
int iopt_area_fill_domain(struct iopt_area *area, struct iommu_domain *domain);
void iopt_area_unfill_domain(struct iopt_area *area, struct iopt_pages *pages,
			     struct iommu_domain *domain);
void iopt_area_unmap_domain(struct iopt_area *area, struct iommu_domain *domain);

int iopt_area_add_access(struct iopt_area *area, uint64_t start_index, uint64_t last_index,
			 void **out_pages, unsigned int flags, bool lock_area);
void iopt_area_remove_access(struct iopt_area *area, uint64_t start_index, uint64_t last_index,
			     bool unlock_area);
int iopt_pages_rw_access(struct iopt_pages *pages, uint64_t start_byte, void *data, uint64_t length,
			 unsigned int flags);

static inline bool iopt_is_dmabuf(const struct iopt_pages *pages)
{
	return pages->type == IOPT_ADDRESS_DMABUF;
}

/* CHANGE_PROCESS needs the address type of every area. */
static inline bool iopt_area_is_file(const struct iopt_area *area)
{
	return area->pages && area->pages->type == IOPT_ADDRESS_FILE;
}

/*
 * Map [iova, iova + size) to host [paddr, ...) in @domain, choosing page sizes
 * from its pgsize_bitmap (only PAGE_SIZE ones when @small); on failure
 * nothing stays mapped. Unmap the same way; unmap never fails.
 */
int iopt_iommu_map(struct iommu_domain *domain, uint64_t iova, uint64_t paddr, uint64_t size,
		   int prot, bool small);
void iopt_iommu_unmap(struct iommu_domain *domain, uint64_t iova, uint64_t size);

#endif
