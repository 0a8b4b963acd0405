// SPDX-License-Identifier: MIT
/*
 * guest_mem.c - guest RAM and the guest's allocator for its IOMMU
 * structures.
 *
 * What it owns: the host buffers behind the guest's RAM regions, the
 * pool's page bitmap, and a struct pt_mem that presents the regions at
 * their GPAs with the pool as its table allocator. The buffers come from
 * ualloc_aligned() (zeroed, page aligned), so a VMM can hand them to
 * IOMMU_IOAS_MAP and fail-nth reaches this file like any other.
 *
 * Invariants: regions never overlap and never move; the pool lies inside
 * one region; port.region[] mirrors region[] (lib/pt reaches a table
 * through the port's regions); a pool page is marked used from the
 * allocation that hands it out to the free that returns it. Tables the
 * engine frees are all zero (a port without counters, pt.h), and every
 * page is cleared again when it is handed out, because the guest may have
 * written anything into free pool memory.
 *
 * No locks: one VMM thread changes the guest; what runs concurrently
 * (devices, the IOMMU walking the guest's tables) only reads and writes
 * RAM, and the clearing below uses atomic stores, the walkers' own width.
 */
#include <errno.h>
#include <string.h>

#include "util/alloc.h"
#include "util/bits.h"
#include "vmm/guest_mem.h"

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a <= b + (bsize - 1) && b <= a + (asize - 1);
}

static void sync_port(struct guest_mem *gm)
{
	gm->port.nr_regions = gm->nr;
	for (unsigned int i = 0; i < gm->nr; i++)
		gm->port.region[i] = (struct pt_mem_region){
			.base = gm->region[i].gpa,
			.size = gm->region[i].size,
			.host = gm->region[i].host,
		};
}

/* ---------------------------------------------------------------------- */
/* The pool                                                               */

static bool page_used(const struct guest_mem *gm, uint64_t p)
{
	return gm->pool_used[p / 64] & BIT(p % 64);
}

static void mark(struct guest_mem *gm, uint64_t first, uint64_t n, bool used)
{
	for (uint64_t p = first; p < first + n; p++) {
		if (used)
			gm->pool_used[p / 64] |= BIT(p % 64);
		else
			gm->pool_used[p / 64] &= ~BIT(p % 64);
	}
	if (used)
		gm->pool_live += n;
	else
		gm->pool_live -= n;
}

/* Clear with 64-bit atomic stores: a racing walker reads whole old or new words. */
static void clear_words(void *p, uint64_t bytes)
{
	uint64_t *w = p;

	for (uint64_t i = 0; i < bytes / 8; i++)
		__atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* First fit of @n pages whose first page is a multiple of @align_pages from the pool's start. */
static int pool_find(const struct guest_mem *gm, uint64_t n, uint64_t align_pages, uint64_t *first)
{
	/* The pool's GPA is 4 KiB aligned only: align the GPA, not the index. */
	uint64_t align = align_pages * GUEST_PAGE_SIZE;
	uint64_t start = (ALIGN_UP(gm->pool_gpa, align) - gm->pool_gpa) / GUEST_PAGE_SIZE;

	for (uint64_t p = start; p + n <= gm->pool_pages; p += align_pages) {
		uint64_t k;

		for (k = 0; k < n && !page_used(gm, p + k); k++)
			;
		if (k == n) {
			*first = p;
			return 0;
		}
	}
	return -ENOMEM;
}

int guest_mem_alloc(struct guest_mem *gm, uint64_t size, uint64_t align, uint64_t *gpa)
{
	uint64_t n, first;
	int ret;

	if (!gm->has_pool || !size || !is_pow2(align ? align : 1))
		return -EINVAL;
	if (size > gm->pool_size)
		return -ENOMEM;
	if (align < GUEST_PAGE_SIZE)
		align = GUEST_PAGE_SIZE;
	n = ALIGN_UP(size, GUEST_PAGE_SIZE) / GUEST_PAGE_SIZE;
	ret = pool_find(gm, n, align / GUEST_PAGE_SIZE, &first);
	if (ret)
		return ret;
	mark(gm, first, n, true);
	clear_words(gm->pool_host + first * GUEST_PAGE_SIZE, n * GUEST_PAGE_SIZE);
	*gpa = gm->pool_gpa + first * GUEST_PAGE_SIZE;
	return 0;
}

void guest_mem_free(struct guest_mem *gm, uint64_t gpa, uint64_t size)
{
	uint64_t first, n;

	if (!gm->has_pool || !size || gpa < gm->pool_gpa ||
	    gpa + size > gm->pool_gpa + gm->pool_size)
		return;
	first = (gpa - gm->pool_gpa) / GUEST_PAGE_SIZE;
	n = ALIGN_UP(gpa + size - gm->pool_gpa, GUEST_PAGE_SIZE) / GUEST_PAGE_SIZE - first;
	for (uint64_t p = first; p < first + n; p++)
		if (!page_used(gm, p))
			return; /* not ours to free: ignore rather than corrupt the count */
	mark(gm, first, n, false);
}

uint64_t guest_mem_pool_used(const struct guest_mem *gm)
{
	return gm->pool_live;
}

/* struct pt_mem: tables are naturally aligned to their size (at least a page). */
static int port_alloc_table(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
			    void **ptr)
{
	struct guest_mem *gm = container_of(mem, struct guest_mem, port);
	uint64_t align = size <= GUEST_PAGE_SIZE ? GUEST_PAGE_SIZE
						 : 1ULL << (64 - __builtin_clzll(size - 1));
	int ret;

	(void)flags; /* always cleared: the guest may have written into free pool pages */
	if (ualloc_should_fail())
		return -ENOMEM;
	ret = guest_mem_alloc(gm, size, align, pa);
	if (ret)
		return -ENOMEM;
	*ptr = gm->pool_host + (*pa - gm->pool_gpa);
	return 0;
}

static void port_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
	struct guest_mem *gm = container_of(mem, struct guest_mem, port);

	(void)ptr;
	guest_mem_free(gm, pa, size);
}

struct pt_mem *guest_mem_port(struct guest_mem *gm)
{
	return &gm->port;
}

int guest_mem_set_pool(struct guest_mem *gm, uint64_t gpa, uint64_t size)
{
	const struct guest_mem_region *r;
	uint64_t pages;

	if (gm->has_pool)
		return -EBUSY;
	if (!size || !IS_ALIGNED(gpa | size, GUEST_PAGE_SIZE) || range_wraps(gpa, size))
		return -EINVAL;
	r = guest_mem_region_of(gm, gpa, size);
	if (!r)
		return -EINVAL;
	pages = size / GUEST_PAGE_SIZE;
	gm->pool_used = ucalloc((pages + 63) / 64, sizeof(uint64_t));
	if (!gm->pool_used)
		return -ENOMEM;
	gm->pool_gpa = gpa;
	gm->pool_size = size;
	gm->pool_pages = pages;
	gm->pool_live = 0;
	gm->pool_host = r->host + (gpa - r->gpa);
	gm->has_pool = true;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* RAM                                                                    */

void guest_mem_init(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->port.alloc_table = port_alloc_table;
	gm->port.free_table = port_free_table;
	/* No table counters (count.max_size 0): the engine scans, and frees only empty tables. */
}

int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size)
{
	struct guest_mem_region *r;
	void *host;

	if (gm->nr == GUEST_MEM_MAX_REGIONS || !size || !IS_ALIGNED(gpa | size, GUEST_PAGE_SIZE) ||
	    range_wraps(gpa, size) || size > SIZE_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < gm->nr; i++)
		if (overlaps(gpa, size, gm->region[i].gpa, gm->region[i].size))
			return -EINVAL;
	host = ualloc_aligned(GUEST_PAGE_SIZE, (size_t)size);
	if (!host)
		return -ENOMEM;
	r = &gm->region[gm->nr++];
	*r = (struct guest_mem_region){.gpa = gpa, .size = size, .host = host};
	sync_port(gm);
	return 0;
}

void guest_mem_destroy(struct guest_mem *gm)
{
	for (unsigned int i = 0; i < gm->nr; i++)
		ufree(gm->region[i].host);
	ufree(gm->pool_used);
	guest_mem_init(gm);
}

const struct guest_mem_region *guest_mem_region_of(const struct guest_mem *gm, uint64_t gpa,
						   uint64_t len)
{
	for (unsigned int i = 0; i < gm->nr; i++) {
		const struct guest_mem_region *r = &gm->region[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = guest_mem_region_of(gm, gpa, len);

	return r ? r->host + (gpa - r->gpa) : NULL;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *buf, size_t len)
{
	const void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(struct guest_mem *gm, uint64_t gpa, const void *buf, size_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}
