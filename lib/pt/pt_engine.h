/* SPDX-License-Identifier: MIT */
/*
 * pt_engine.h - map, unmap, split, prune and iterate, written once for every
 * radix page-table format.
 *
 * A format file defines these static inline helpers, then includes this
 * header; the compiler inlines them into the algorithms below, so there is
 * no indirect call per descriptor (the kernel's generic_pt does the same with
 * its format headers):
 *
 *   uint64_t fmt_load(const uint64_t *p)          atomic load, CPU byte order
 *   void     fmt_store(uint64_t *p, uint64_t v)   atomic release store
 *   bool     fmt_is_table(cfg, depth, desc)       a non-zero desc links a table
 *   uint64_t fmt_table_pa(cfg, depth, desc)       address of that table
 *   uint64_t fmt_leaf_pa(cfg, depth, desc)        output address of a leaf
 *   unsigned fmt_leaf_prot(cfg, depth, desc)      PT_PROT_* of a leaf
 *   uint64_t fmt_mk_table(cfg, depth, pa)         table descriptor at depth
 *   uint64_t fmt_mk_leaf(cfg, depth, pa, prot)    leaf descriptor at depth
 *   uint64_t fmt_split_leaf(cfg, depth, desc)     first child (depth + 1) of a
 *                                                 block, same attributes
 *
 * Contract: the tables this engine owns hold only zero (unused) or
 * descriptors it wrote, so "in use" is simply "non-zero"; and the output
 * address field is linear, fmt_mk_leaf(pa + k * size) == fmt_mk_leaf(pa) +
 * k * size, which lets a run of leaves be stored with one add each (true of
 * every format here: the address occupies contiguous bits above the page
 * offset).
 *
 * Invariants kept: a non-root table is never empty (unmap frees it, map
 * rolls back to it); a table is completely written before the descriptor
 * linking it is stored; a block is replaced by an equivalent table in one
 * store. Callers serialise map and unmap on one table.
 */
#ifndef UIOMMU_PT_ENGINE_H
#define UIOMMU_PT_ENGINE_H

#include <errno.h>

#include "pt/pt.h"
#include "util/bits.h"

static inline void *eng_table_ptr(const struct pt_table *t, uint64_t pa, unsigned int depth)
{
	return pt_mem_ptr(t->mem, pa, pt_table_size(&t->cfg, depth));
}

static inline uint64_t *eng_child(const struct pt_table *t, unsigned int depth, uint64_t desc)
{
	return eng_table_ptr(t, fmt_table_pa(&t->cfg, depth, desc), depth + 1);
}

static int eng_alloc_table(struct pt_table *t, unsigned int depth, uint64_t *pa, uint64_t **ptr)
{
	size_t sz = pt_table_size(&t->cfg, depth);
	void *p;
	int ret = t->mem->alloc_table(t->mem, sz, pa, &p);

	if (ret)
		return ret;
	*ptr = p;
	t->nr_tables++;
	t->table_bytes += sz;
	return 0;
}

static void eng_free_table(struct pt_table *t, unsigned int depth, uint64_t pa, uint64_t *ptr)
{
	size_t sz = pt_table_size(&t->cfg, depth);

	t->mem->free_table(t->mem, pa, ptr, sz);
	t->nr_tables--;
	t->table_bytes -= sz;
}

static inline bool eng_table_empty(const uint64_t *tab, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (tab[i])
			return false;
	return true;
}

static inline bool eng_leaf_allowed(const struct pt_cfg *c, unsigned int depth)
{
	if (!(c->leaf_ok & BIT(depth)))
		return false;
	return depth == c->nlevels - 1 || !(c->flags & PT_CFG_NO_BLOCKS);
}

/* Check alignment, wrap and range of an input range; 0 or -errno. */
static int eng_check_input(const struct pt_cfg *c, uint64_t iova, uint64_t size)
{
	uint64_t pgmask = pt_page_size(c) - 1;
	uint64_t rel_last;

	if (!size || ((iova | size) & pgmask))
		return -EINVAL;
	if (range_wraps(iova, size))
		return -EOVERFLOW;
	if (iova < c->iova_base)
		return -ERANGE;
	rel_last = iova - c->iova_base + size - 1;
	if (c->ias < 64 && (rel_last >> c->ias))
		return -ERANGE;
	return 0;
}

/*
 * Unmap (clear = true) or only prune empty tables (clear = false) in
 * [start, last], which lies inside the span of @table at @depth.
 */
static uint64_t eng_unmap_level(struct pt_table *t, uint64_t *table, unsigned int depth,
				uint64_t start, uint64_t last, bool clear)
{
	const struct pt_cfg *c = &t->cfg;
	unsigned int i = pt_index(c, depth, start), ie = pt_index(c, depth, last);
	uint64_t esz = pt_entry_size(c, depth);
	uint64_t ebase = ALIGN_DOWN(start - c->iova_base, esz) + c->iova_base;
	uint64_t unmapped = 0;

	for (; i <= ie; i++, ebase += esz) {
		uint64_t e = fmt_load(&table[i]);
		uint64_t s = MAX(start, ebase), l = MIN(last, ebase + esz - 1);

		if (!e)
			continue;
		if (depth + 1 < c->nlevels && fmt_is_table(c, depth, e)) {
			uint64_t *child = eng_child(t, depth, e);
			uint64_t n = eng_unmap_level(t, child, depth + 1, s, l, clear);

			unmapped += n;
			if ((n || !clear) && eng_table_empty(child, 1u << c->bits[depth + 1])) {
				fmt_store(&table[i], 0);
				eng_free_table(t, depth + 1, fmt_table_pa(c, depth, e), child);
			}
		} else if (clear && s == ebase && l == ebase + esz - 1) {
			fmt_store(&table[i], 0);
			unmapped += esz;
		}
		/* A leaf the range only cuts was split by eng_split_at() beforehand. */
	}
	return unmapped;
}

/* Make @addr a leaf boundary: split every block that contains it below its start. */
static int eng_split_at(struct pt_table *t, uint64_t addr)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t *table = t->root_ptr;

	for (unsigned int d = 0; d < c->nlevels - 1; d++) {
		uint64_t *p = &table[pt_index(c, d, addr)];
		uint64_t e = fmt_load(p);
		uint64_t esz = pt_entry_size(c, d);

		if (!e || !((addr - c->iova_base) & (esz - 1)))
			return 0;
		if (!fmt_is_table(c, d, e)) {
			uint64_t cpa, *child, first = fmt_split_leaf(c, d, e);
			uint64_t csz = pt_entry_size(c, d + 1);
			unsigned int n = 1u << c->bits[d + 1];
			int ret = eng_alloc_table(t, d + 1, &cpa, &child);

			if (ret)
				return ret;
			for (unsigned int k = 0; k < n; k++)
				fmt_store(&child[k], first + (uint64_t)k * csz);
			/* The child is complete before it becomes visible. */
			fmt_store(p, fmt_mk_table(c, d, cpa));
			table = child;
		} else {
			table = eng_child(t, d, e);
		}
	}
	return 0;
}

/*
 * Map as much of the range as one table holds at the depth where the first
 * leaf goes, descending (and allocating) as needed. *done grows by what was
 * stored, also on failure, so that the caller can roll back exactly.
 */
static int eng_map_run(struct pt_table *t, uint64_t iova, uint64_t pa, uint64_t size,
		       unsigned int prot, uint64_t *done)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t *table = t->root_ptr;

	for (unsigned int d = 0;; d++) {
		unsigned int idx = pt_index(c, d, iova);
		uint64_t esz = pt_entry_size(c, d);
		uint64_t e;

		if (eng_leaf_allowed(c, d) && !((iova | pa) & (esz - 1)) && size >= esz) {
			uint64_t n = MIN(size >> c->shift[d], (1ULL << c->bits[d]) - idx);
			uint64_t desc = fmt_mk_leaf(c, d, pa, prot);
			uint64_t *p = &table[idx];

			for (uint64_t k = 0; k < n; k++) {
				if (unlikely(fmt_load(&p[k]))) {
					*done += k * esz;
					return -EEXIST;
				}
				fmt_store(&p[k], desc + k * esz);
			}
			*done += n * esz;
			return 0;
		}
		e = fmt_load(&table[idx]);
		if (!e) {
			uint64_t cpa, *child;
			int ret = eng_alloc_table(t, d + 1, &cpa, &child);

			if (ret)
				return ret;
			fmt_store(&table[idx], fmt_mk_table(c, d, cpa));
			table = child;
		} else if (fmt_is_table(c, d, e)) {
			table = eng_child(t, d, e);
		} else {
			return -EEXIST; /* a block already maps part of the range */
		}
	}
}

static int eng_map(struct pt_table *t, uint64_t iova, uint64_t pa, uint64_t size,
		   unsigned int prot)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t done = 0;
	int ret;

	ret = eng_check_input(c, iova, size);
	if (ret)
		return ret;
	if ((pa & (pt_page_size(c) - 1)) || !(prot & PT_PROT_RW))
		return -EINVAL;
	if (range_wraps(pa, size))
		return -EOVERFLOW;
	if (c->oas < 64 && ((pa + size - 1) >> c->oas))
		return -ERANGE;

	while (done < size) {
		ret = eng_map_run(t, iova + done, pa + done, size - done, prot, &done);
		if (unlikely(ret)) {
			/* Undo what this call stored, then drop tables it left empty. */
			if (done)
				eng_unmap_level(t, t->root_ptr, 0, iova, iova + done - 1, true);
			eng_unmap_level(t, t->root_ptr, 0, iova + done, iova + done, false);
			return ret;
		}
	}
	return 0;
}

static int eng_unmap(struct pt_table *t, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t last = iova + size - 1;
	int ret;

	*unmapped = 0;
	ret = eng_check_input(c, iova, size);
	if (ret)
		return ret;
	ret = eng_split_at(t, iova);
	if (!ret && last - c->iova_base + 1 != (c->ias < 64 ? 1ULL << c->ias : 0))
		ret = eng_split_at(t, last + 1);
	if (ret)
		return ret; /* splits keep every translation; nothing was unmapped */
	*unmapped = eng_unmap_level(t, t->root_ptr, 0, iova, last, true);
	return 0;
}

static int eng_iova_to_phys(const struct pt_table *t, uint64_t iova, uint64_t *pa)
{
	const struct pt_cfg *c = &t->cfg;
	const uint64_t *table = t->root_ptr;

	if (iova < c->iova_base || (c->ias < 64 && ((iova - c->iova_base) >> c->ias)))
		return -ENOENT;
	for (unsigned int d = 0; d < c->nlevels; d++) {
		uint64_t e = fmt_load(&table[pt_index(c, d, iova)]);

		if (!e)
			return -ENOENT;
		if (d + 1 < c->nlevels && fmt_is_table(c, d, e)) {
			table = eng_child(t, d, e);
			continue;
		}
		*pa = fmt_leaf_pa(c, d, e) + ((iova - c->iova_base) & (pt_entry_size(c, d) - 1));
		return 0;
	}
	return -ENOENT;
}

static int eng_for_each_level(const struct pt_table *t, const uint64_t *table, unsigned int depth,
			      uint64_t start, uint64_t last, pt_leaf_fn fn, void *arg)
{
	const struct pt_cfg *c = &t->cfg;
	unsigned int i = pt_index(c, depth, start), ie = pt_index(c, depth, last);
	uint64_t esz = pt_entry_size(c, depth);
	uint64_t ebase = ALIGN_DOWN(start - c->iova_base, esz) + c->iova_base;

	for (; i <= ie; i++, ebase += esz) {
		uint64_t e = fmt_load(&table[i]);
		int ret;

		if (!e)
			continue;
		if (depth + 1 < c->nlevels && fmt_is_table(c, depth, e))
			ret = eng_for_each_level(t, eng_child(t, depth, e), depth + 1,
						 MAX(start, ebase), MIN(last, ebase + esz - 1), fn,
						 arg);
		else
			ret = fn(arg, ebase, fmt_leaf_pa(c, depth, e), esz,
				 fmt_leaf_prot(c, depth, e), pt_level(c, depth));
		if (ret)
			return ret;
	}
	return 0;
}

static int eng_for_each_leaf(const struct pt_table *t, uint64_t start, uint64_t last,
			     pt_leaf_fn fn, void *arg)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t top = c->ias < 64 ? c->iova_base + ((1ULL << c->ias) - 1) : UINT64_MAX;

	if (start < c->iova_base)
		start = c->iova_base;
	if (last > top)
		last = top;
	if (start > last)
		return 0;
	return eng_for_each_level(t, t->root_ptr, 0, start, last, fn, arg);
}

static void eng_free_level(struct pt_table *t, uint64_t *table, unsigned int depth)
{
	const struct pt_cfg *c = &t->cfg;
	unsigned int n = 1u << c->bits[depth];

	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = fmt_load(&table[i]);

		if (e && depth + 1 < c->nlevels && fmt_is_table(c, depth, e)) {
			uint64_t *child = eng_child(t, depth, e);

			eng_free_level(t, child, depth + 1);
			fmt_store(&table[i], 0);
			eng_free_table(t, depth + 1, fmt_table_pa(c, depth, e), child);
		} else if (e) {
			fmt_store(&table[i], 0);
		}
	}
}

static void eng_free_all(struct pt_table *t)
{
	eng_free_level(t, t->root_ptr, 0);
}

#endif
