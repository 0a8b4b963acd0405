/* SPDX-License-Identifier: MIT */
/*
 * lib/vmm/guest_mem.h - a guest's physical memory, as a VMM holds it.
 *
 * Guest RAM is host memory the VMM allocates and gives to the IOMMU's
 * stage 2 (IOMMU_IOAS_MAP at IOVA = GPA): up to GUEST_MEM_MAX_REGIONS
 * regions, each a page-aligned, zeroed host buffer shown at a guest
 * physical address (GPA). The guest keeps its own IOMMU structures there
 * (stage-1 page tables, context descriptors), so they hold GPAs, and a
 * device only ever reaches them after stage 2 translated their GPAs.
 *
 * Part of RAM can be the guest's allocator for those structures (the
 * "pool", guest_mem_set_pool()): the page allocator of the guest kernel,
 * reduced to what its IOMMU driver needs. guest_mem_port() is a lib/pt
 * memory port over guest RAM whose tables come from the pool, so
 * pt_map() / pt_unmap() build a guest's tables in its RAM, and
 * guest_mem_alloc() hands out other structures (CD tables). Pool pages
 * are handed out zeroed, first fit, naturally aligned to their size; a
 * page freed (a table unmap emptied) is reused by a later allocation, as
 * a guest's allocator would reuse it: a walk cache that still names it is
 * the guest's to invalidate, and the walk then reads guest RAM either way.
 *
 * Not thread-safe: one VMM thread changes it. Devices read and write guest
 * RAM concurrently through the IOMMU, as on hardware; the pool clears a
 * page it hands out with atomic stores, so such a device (or walker)
 * racing with the guest sees old or new words, never torn ones.
 *
 * Errors: 0 or a negative errno.
 */
#ifndef UIOMMU_VMM_GUEST_MEM_H
#define UIOMMU_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pt/pt.h"

#define GUEST_MEM_MAX_REGIONS PT_MEM_MAX_REGIONS
#define GUEST_PAGE_SIZE	      4096ULL

struct guest_mem_region {
	uint64_t gpa, size;
	uint8_t *host; /* ualloc_aligned(), page aligned */
};

struct guest_mem {
	unsigned int nr;
	struct guest_mem_region region[GUEST_MEM_MAX_REGIONS];

	/* The pool: [pool_gpa, pool_gpa + pool_size) inside one region. */
	bool has_pool;
	uint64_t pool_gpa, pool_size;
	uint8_t *pool_host;
	uint64_t *pool_used; /* bitmap of 4 KiB pages */
	uint64_t pool_pages, pool_live;

	/* lib/pt's view: every region, tables from the pool. */
	struct pt_mem port;
};

/* An empty guest (no RAM). */
void guest_mem_init(struct guest_mem *gm);
/*
 * Add [@gpa, @gpa + @size) of zeroed RAM. -EINVAL: not 4 KiB aligned, size
 * 0, wraps, overlaps a region, or no region left; -ENOMEM.
 */
int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size);
/*
 * Make [@gpa, @gpa + @size), inside one region, the guest's allocator for
 * its IOMMU structures. -EINVAL: not 4 KiB aligned, empty, not inside one
 * region; -EBUSY: there is a pool already; -ENOMEM.
 */
int guest_mem_set_pool(struct guest_mem *gm, uint64_t gpa, uint64_t size);
/* Free the RAM (its host memory). Whatever still maps it must be gone. */
void guest_mem_destroy(struct guest_mem *gm);

/* The region holding [@gpa, @gpa + @len), or NULL. */
const struct guest_mem_region *guest_mem_region_of(const struct guest_mem *gm, uint64_t gpa,
						   uint64_t len);
/* Host address of [@gpa, @gpa + @len) when it lies inside one region, else NULL. */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* The guest CPU's accesses: -EFAULT when the range is not inside one region. */
int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *buf, size_t len);
int guest_mem_write(struct guest_mem *gm, uint64_t gpa, const void *buf, size_t len);

/*
 * @size bytes (rounded up to 4 KiB pages) from the pool, aligned to
 * @align (a power of two; at least 4 KiB is used) and zeroed: *gpa.
 * -EINVAL (no pool, size 0, bad alignment), -ENOMEM (pool full).
 */
int guest_mem_alloc(struct guest_mem *gm, uint64_t size, uint64_t align, uint64_t *gpa);
/* Give pool pages back. */
void guest_mem_free(struct guest_mem *gm, uint64_t gpa, uint64_t size);
/* Pool pages in use. */
uint64_t guest_mem_pool_used(const struct guest_mem *gm);

/* lib/pt's memory port for the guest's tables (valid once a pool is set). */
struct pt_mem *guest_mem_port(struct guest_mem *gm);

#endif
