// SPDX-License-Identifier: MIT
/*
 * spapr_tce.c - TCE tables and the DMA windows of a PE.
 *
 * What it owns. A struct spapr_table is the table behind one DMA window:
 * a lib/pt "tce" table (big-endian entries, 1-5 levels) whose input range
 * is the window [bus_start, bus_start + window_size), plus the geometry
 * Linux's struct iommu_table keeps (it_page_shift, it_offset = bus_start
 * >> page_shift, it_size = the number of TCEs, it_allocated_size). The
 * platform places a window by slot number (spapr.h); a table is created
 * for a slot, then programmed into PEs with spapr_pe_set_window().
 *
 * Geometry rules, as PowerNV's table allocation and get_table_size apply
 * them (facts from reference hw.md §4.2): levels 1..5, the window a power
 * of two; each level resolves ceil((log2(window) - page_shift) / levels)
 * index bits, a level's table being at least one kernel page (64 KiB
 * here, SPAPR_PAGE_SHIFT), and (level bits) * levels + page_shift must
 * stay below 55. The accounted size (spapr_table_size) counts every level
 * rounded up to whole level tables, twice (the hardware table and Linux's
 * userspace-address shadow). Our own limits on top, from the tce format:
 * the window is at least two TCE pages and at most 2^59 bytes, aligned to
 * its size, and a one-level table holds at most 2^24 TCEs. Where Linux's
 * it_size rounds a tiny one-level table up to a whole kernel page of
 * TCEs, ours is exactly the window.
 *
 * Stores. spapr_tce_xchg() is H_PUT_TCE: it replaces one TCE and returns
 * the old one. A present entry that stays present is rewritten in place
 * with one 64-bit big-endian store (a concurrent DMA sees the old or the
 * new TCE, never a gap); a new entry goes through pt_map() (which links
 * any missing level first), a cleared one through pt_unmap() (which frees
 * levels left empty). PowerNV stores WRITE with READ (the PHB has no
 * write-only DMA), so a FROM_DEVICE TCE reads back as BIDIRECTIONAL.
 *
 * Locks: tbl->lock serialises the stores to one table (pt's rule:
 * callers serialise map / unmap); DMA walks without it. pe->win_lock
 * guards a PE's window slots. A table's last reference is dropped with
 * an epoch grace period before its memory goes, since a DMA may have
 * loaded the window pointer just before it was unset.
 */
#include <errno.h>
#include <string.h>

#include "hw/spapr/spapr_priv.h"
#include "util/alloc.h"
#include "util/bits.h"
#include "util/epoch.h"

#define TCE_PCI_READ  0x1ULL
#define TCE_PCI_WRITE 0x2ULL

/* ------------------------------------------------------------------ */
/* Geometry                                                           */

uint64_t spapr_table_size(unsigned int page_shift, uint64_t window_size, unsigned int levels)
{
	unsigned int window_shift, entries_shift, table_shift;
	uint64_t tce_table_size, direct, bytes = 0;

	if (!levels || levels > SPAPR_MAX_LEVELS || !is_pow2(window_size) || page_shift >= 64)
		return 0;
	window_shift = ilog2_u64(window_size);
	if (window_shift < page_shift)
		return 0;
	entries_shift = window_shift - page_shift;
	table_shift = entries_shift + 3;
	tce_table_size = MAX(0x1000ULL, 1ULL << table_shift);

	entries_shift = (entries_shift + levels - 1) / levels;
	table_shift = MAX(entries_shift + 3, SPAPR_PAGE_SHIFT);
	direct = 1ULL << table_shift;
	for (; levels; levels--) {
		bytes += ALIGN_UP(tce_table_size, direct);
		tce_table_size /= direct;
		tce_table_size <<= 3;
		tce_table_size = MAX(tce_table_size, direct);
	}
	return bytes + bytes; /* the hardware table and its userspace shadow */
}

static void spapr_table_free_cb(void *arg)
{
	struct spapr_table *tbl = arg;

	pt_table_destroy(&tbl->pt);
	pthread_mutex_destroy(&tbl->lock);
	ufree(tbl);
}

struct spapr_table *spapr_table_create(struct spapr_pe *pe, unsigned int num,
				       unsigned int page_shift, uint64_t window_size,
				       unsigned int levels, int *err)
{
	const struct spapr_config *c = &pe->phb->cfg;
	unsigned int entries_shift, level_shift;
	struct spapr_table *tbl;
	struct pt_cfg cfg;
	int rc;

	if (num >= SPAPR_MAX_WINDOWS || !spapr_table_size(page_shift, window_size, levels)) {
		*err = -EINVAL;
		return NULL;
	}
	entries_shift = ilog2_u64(window_size) - page_shift;
	entries_shift = (entries_shift + levels - 1) / levels;
	level_shift = MAX(entries_shift + 3, SPAPR_PAGE_SHIFT);
	if ((uint64_t)(level_shift - 3) * levels + page_shift >= 55) {
		*err = -EINVAL;
		return NULL;
	}
	cfg = (struct pt_cfg){
		.format = PT_TCE,
		.granule_shift = page_shift,
		.ias = ilog2_u64(window_size),
		.levels = levels,
		.iova_base = num ? c->ddw_start : c->dma32_start,
	};
	rc = pt_cfg_init(&cfg);
	if (rc) {
		*err = -EINVAL;
		return NULL;
	}
	tbl = uzalloc(sizeof(*tbl));
	if (!tbl) {
		*err = -ENOMEM;
		return NULL;
	}
	rc = pt_table_init(&tbl->pt, &cfg, &pt_mem_host);
	if (rc) {
		ufree(tbl);
		*err = rc == -EINVAL ? -EINVAL : -ENOMEM;
		return NULL;
	}
	tbl->phb = pe->phb;
	tbl->page_shift = page_shift;
	tbl->levels = levels;
	tbl->bus_start = cfg.iova_base;
	tbl->window_size = window_size;
	tbl->allocated_size = spapr_table_size(page_shift, window_size, levels);
	atomic_init(&tbl->refs, 1);
	pthread_mutex_init(&tbl->lock, NULL);
	*err = 0;
	return tbl;
}

void spapr_table_get(struct spapr_table *tbl)
{
	atomic_fetch_add(&tbl->refs, 1);
}

void spapr_table_put(struct spapr_table *tbl)
{
	if (!tbl || atomic_fetch_sub(&tbl->refs, 1) != 1)
		return;
	if (epoch_alone())
		spapr_table_free_cb(tbl);
	else
		epoch_retire(spapr_table_free_cb, tbl);
}

void spapr_table_info(const struct spapr_table *tbl, struct spapr_table_info *info)
{
	*info = (struct spapr_table_info){
		.page_shift = tbl->page_shift,
		.levels = tbl->levels,
		.offset = tbl->bus_start >> tbl->page_shift,
		.size = tbl->window_size >> tbl->page_shift,
		.allocated_size = tbl->allocated_size,
	};
}

/* ------------------------------------------------------------------ */
/* TCE stores                                                         */

static enum spapr_dma_dir prot_to_dir(unsigned int prot)
{
	bool r = prot & PT_PROT_R, w = prot & PT_PROT_W;

	if (r && w)
		return SPAPR_DMA_BIDIRECTIONAL;
	if (r)
		return SPAPR_DMA_TO_DEVICE;
	if (w)
		return SPAPR_DMA_FROM_DEVICE;
	return SPAPR_DMA_NONE;
}

static unsigned int dir_to_prot(enum spapr_dma_dir dir)
{
	switch (dir) {
	case SPAPR_DMA_BIDIRECTIONAL:
		return PT_PROT_R | PT_PROT_W;
	case SPAPR_DMA_TO_DEVICE:
		return PT_PROT_R;
	case SPAPR_DMA_FROM_DEVICE:
		return PT_PROT_W;
	default:
		return 0;
	}
}

/* The bus address of absolute TCE index @entry, or -EINVAL outside the window. */
static int entry_iova(const struct spapr_table *tbl, uint64_t entry, uint64_t *iova)
{
	uint64_t offset = tbl->bus_start >> tbl->page_shift;
	uint64_t size = tbl->window_size >> tbl->page_shift;

	if (entry < offset || entry - offset >= size)
		return -EINVAL;
	*iova = entry << tbl->page_shift;
	return 0;
}

/* The present TCE at @iova: its leaf, or false. Under tbl->lock (or for a read). */
static bool tce_lookup(struct spapr_table *tbl, uint64_t iova, struct pt_leaf *leaf)
{
	struct pt_fault f;

	return pt_table_walk(&tbl->pt, iova, 0, leaf, &f) == PT_OK;
}

int spapr_tce_get(struct spapr_table *tbl, uint64_t entry, uint64_t *hpa,
		  enum spapr_dma_dir *dir)
{
	struct pt_leaf leaf;
	uint64_t iova;
	int rc = entry_iova(tbl, entry, &iova);

	if (rc)
		return rc;
	if (tce_lookup(tbl, iova, &leaf)) {
		*hpa = leaf.oa;
		*dir = prot_to_dir(leaf.prot);
	} else {
		*hpa = 0;
		*dir = SPAPR_DMA_NONE;
	}
	return 0;
}

int spapr_tce_xchg(struct spapr_table *tbl, uint64_t entry, uint64_t *hpa,
		   enum spapr_dma_dir *dir)
{
	uint64_t iova, psize = 1ULL << tbl->page_shift, new_hpa = *hpa;
	enum spapr_dma_dir new_dir = *dir;
	uint64_t old_hpa = 0;
	enum spapr_dma_dir old_dir = SPAPR_DMA_NONE;
	struct pt_leaf leaf;
	bool present;
	int rc;

	rc = entry_iova(tbl, entry, &iova);
	if (rc)
		return rc;
	if (new_dir > SPAPR_DMA_NONE || (new_dir != SPAPR_DMA_NONE && !IS_ALIGNED(new_hpa, psize)))
		return -EINVAL;
	pthread_mutex_lock(&tbl->lock);
	present = tce_lookup(tbl, iova, &leaf);
	if (present) {
		old_hpa = leaf.oa;
		old_dir = prot_to_dir(leaf.prot);
	}
	if (new_dir == SPAPR_DMA_NONE) {
		if (present)
			rc = pt_unmap(&tbl->pt, iova, psize, NULL);
	} else if (present) {
		/* H_PUT_TCE over a live TCE: one store, never a gap. */
		uint64_t tce = new_hpa | (new_dir == SPAPR_DMA_TO_DEVICE
						  ? TCE_PCI_READ
						  : TCE_PCI_READ | TCE_PCI_WRITE);

		__atomic_store_n((uint64_t *)(uintptr_t)leaf.desc_addr, __builtin_bswap64(tce),
				 __ATOMIC_RELEASE);
	} else {
		rc = pt_map(&tbl->pt, iova, new_hpa, psize, dir_to_prot(new_dir));
	}
	pthread_mutex_unlock(&tbl->lock);
	if (rc)
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	*hpa = old_hpa;
	*dir = old_dir;
	return 0;
}

struct clear_ctx {
	const struct spapr_table *tbl;
	spapr_tce_fn fn;
	void *arg;
	uint64_t n;
};

static int clear_leaf(void *arg, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
		      int level)
{
	struct clear_ctx *c = arg;

	(void)prot;
	(void)level;
	for (uint64_t off = 0; off < size; off += 1ULL << c->tbl->page_shift) {
		if (c->fn)
			c->fn(c->arg, (iova + off) >> c->tbl->page_shift, pa + off);
		c->n++;
	}
	return 0;
}

uint64_t spapr_tce_clear(struct spapr_table *tbl, uint64_t entry, uint64_t pages, spapr_tce_fn fn,
			 void *arg)
{
	uint64_t offset = tbl->bus_start >> tbl->page_shift;
	uint64_t size = tbl->window_size >> tbl->page_shift;
	struct clear_ctx c = { .tbl = tbl, .fn = fn, .arg = arg };
	uint64_t first, last;

	if (!pages || entry >= offset + size || entry + pages <= offset || entry + pages < entry)
		return 0;
	first = MAX(entry, offset);
	last = MIN(entry + pages, offset + size) - 1;
	pthread_mutex_lock(&tbl->lock);
	pt_for_each_leaf(&tbl->pt, first << tbl->page_shift,
			 ((last + 1) << tbl->page_shift) - 1, clear_leaf, &c);
	if (c.n)
		pt_unmap(&tbl->pt, first << tbl->page_shift, (last - first + 1) << tbl->page_shift,
			 NULL);
	pthread_mutex_unlock(&tbl->lock);
	return c.n;
}

/* ------------------------------------------------------------------ */
/* Windows of a PE                                                    */

int spapr_pe_set_window(struct spapr_pe *pe, unsigned int num, struct spapr_table *tbl)
{
	int rc = 0;

	if (num >= SPAPR_MAX_WINDOWS || !tbl || tbl->phb != pe->phb)
		return -EINVAL;
	pthread_mutex_lock(&pe->win_lock);
	if (atomic_load(&pe->tables[num])) {
		rc = -EBUSY;
	} else {
		spapr_table_get(tbl);
		atomic_store_explicit(&pe->tables[num], tbl, memory_order_release);
	}
	pthread_mutex_unlock(&pe->win_lock);
	return rc;
}

void spapr_pe_unset_window(struct spapr_pe *pe, unsigned int num)
{
	struct spapr_table *tbl;

	if (num >= SPAPR_MAX_WINDOWS)
		return;
	pthread_mutex_lock(&pe->win_lock);
	tbl = atomic_exchange(&pe->tables[num], NULL);
	pthread_mutex_unlock(&pe->win_lock);
	spapr_table_put(tbl);
}

struct spapr_table *spapr_pe_window(const struct spapr_pe *pe, unsigned int num)
{
	if (num >= SPAPR_MAX_WINDOWS)
		return NULL;
	return atomic_load(&((struct spapr_pe *)pe)->tables[num]);
}
