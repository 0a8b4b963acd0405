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
 *            (both provided here for little-endian formats; a format with
 *            another byte order defines them and PT_ENGINE_OWN_ACCESS)
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
 *
 * Short paths. A map of one leaf, an unmap of one entry and an unmap of a
 * run of whole leaves in one table are recognised first, with a few tests
 * against what pt_table_init() keeps in struct pt_table (in_last,
 * out_last, depth_of, idx_mask), and descend on their own, with a copy for
 * a port that is one offset (t->direct); anything else, valid or not,
 * takes the general code, which defines every errno.
 *
 * Counters. When the memory port keeps a struct pt_count per table (and
 * t->counted says every non-root table of this format has one), every
 * store that turns an entry of a non-root table zero <-> non-zero also
 * updates its counter: valid counts non-zero entries, tables those that
 * link a table. A new table starts at {0, 0}; a split's child starts full.
 * Then "did this unmap empty the table?" is one compare instead of a scan,
 * and a subtree unlinked whole is freed without reading its last-level
 * tables (their bytes are valid x entry size) and without zeroing any of
 * them (the port zeroes a table with a non-zero counter when it hands it
 * out again: struct pt_mem). Counters are plain memory that only the
 * writer touches; walkers never see them. Without counters the engine
 * scans, as it always did, and frees only all-zero tables.
 */
#ifndef UIOMMU_PT_ENGINE_H
#define UIOMMU_PT_ENGINE_H

#include <errno.h>
#include <string.h>

#include "pt/pt.h"
#include "util/bits.h"
#include "util/trace.h"

#ifndef PT_ENGINE_OWN_ACCESS
static inline uint64_t fmt_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void fmt_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}
#endif

/* The single-leaf paths are inlined into eng_map() / eng_unmap() whatever the heuristics say. */
#define eng_always_inline inline __attribute__((always_inline))

/*
 * Host pointer of the table at @pa (at @depth). Every table in the tree was
 * handed out by the port, so on a one-region port it is inside that region
 * and needs no bounds check.
 */
static inline void *eng_table_ptr(const struct pt_table *t, uint64_t pa, unsigned int depth)
{
	if (likely(t->direct))
		return (void *)(uintptr_t)(pa + t->host_delta);
	return pt_mem_ptr(t->mem, pa, pt_table_size(&t->cfg, depth));
}

static inline uint64_t *eng_child(const struct pt_table *t, unsigned int depth, uint64_t desc)
{
	return eng_table_ptr(t, fmt_table_pa(&t->cfg, depth, desc), depth + 1);
}

/*
 * The one-leaf paths' versions of pt_index() and eng_child(): @rel is
 * iova - iova_base, the mask comes from pt_table_init, and @direct is a
 * constant in each copy of the path, so that the descent tests nothing but
 * the descriptors.
 */
static eng_always_inline unsigned int eng_idx(const struct pt_table *t, unsigned int depth,
					      uint64_t rel)
{
	return (unsigned int)(rel >> t->cfg.shift[depth]) & t->idx_mask[depth];
}

static eng_always_inline uint64_t *eng_child_d(const struct pt_table *t, unsigned int depth,
					       uint64_t desc, bool direct)
{
	uint64_t pa = fmt_table_pa(&t->cfg, depth, desc);

	if (direct)
		return (uint64_t *)(uintptr_t)(pa + t->host_delta);
	return pt_mem_ptr(t->mem, pa, pt_table_size(&t->cfg, depth + 1));
}

/* Counter of @table at @depth, or NULL: the root, or a table without one. */
static inline struct pt_count *eng_cnt(const struct pt_table *t, const void *table,
				       unsigned int depth)
{
	return t->counted && depth ? pt_count_of(&t->count, table) : NULL;
}

/* An entry of @table (at @depth) went zero -> table descriptor (+1) or back (-1). */
static inline void eng_cnt_link(const struct pt_table *t, const void *table, unsigned int depth,
				int delta)
{
	struct pt_count *cnt = eng_cnt(t, table, depth);

	if (cnt) {
		cnt->valid += delta;
		cnt->tables += delta;
	}
}

/* A new table at @depth; PT_ALLOC_OVERWRITE when the caller writes every entry before use. */
static int eng_alloc_table(struct pt_table *t, unsigned int depth, unsigned int flags, uint64_t *pa,
			   uint64_t **ptr)
{
	size_t sz = pt_table_size(&t->cfg, depth);
	void *p;
	int ret = t->mem->alloc_table(t->mem, sz, flags, pa, &p);

	if (ret)
		return ret;
	*ptr = p;
	if (t->counted && depth)
		*pt_count_of(&t->count, p) = (struct pt_count){ 0, 0 };
	t->nr_tables++;
	t->table_bytes += sz;
	return 0;
}

/* With counters, @ptr may still hold entries; its counter says how many. */
static void eng_free_table(struct pt_table *t, unsigned int depth, uint64_t pa, uint64_t *ptr)
{
	size_t sz = pt_table_size(&t->cfg, depth);

	t->mem->free_table(t->mem, pa, ptr, sz);
	t->nr_tables--;
	t->table_bytes -= sz;
}

/*
 * Store the run of @n leaves @desc, @desc + @esz, ... from @p (the address
 * field is linear), four a step: one atomic store each, no test.
 */
static inline void eng_store_run(uint64_t *p, uint64_t n, uint64_t desc, uint64_t esz)
{
	uint64_t k = 0;

	for (; k + 4 <= n; k += 4, desc += 4 * esz) {
		fmt_store(&p[k], desc);
		fmt_store(&p[k + 1], desc + esz);
		fmt_store(&p[k + 2], desc + 2 * esz);
		fmt_store(&p[k + 3], desc + 3 * esz);
	}
	for (; k < n; k++, desc += esz)
		fmt_store(&p[k], desc);
}

/* Two descriptors, for word-parallel scans (SSE2 / NEON width, any -march). */
typedef uint64_t eng_v2 __attribute__((vector_size(16), may_alias));

/*
 * True when entries [i, end) are all zero. The bulk goes two cache lines at
 * a time with independent vector ORs: a 4 KiB table is about 100 cycles,
 * where a word-by-word loop is one dependent OR per word.
 */
static inline bool eng_range_zero(const uint64_t *tab, unsigned int i, unsigned int end)
{
	for (; i < end && (i & 15); i++)
		if (tab[i])
			return false;
	for (; i + 16 <= end; i += 16) {
		const eng_v2 *v = (const eng_v2 *)&tab[i]; /* 128-byte aligned: tables are */
		eng_v2 a = (v[0] | v[1]) | (v[2] | v[3]);
		eng_v2 b = (v[4] | v[5]) | (v[6] | v[7]);

		a |= b;
		if (a[0] | a[1])
			return false;
	}
	for (; i < end; i++)
		if (tab[i])
			return false;
	return true;
}

static inline bool eng_table_empty(const uint64_t *tab, unsigned int n)
{
	return eng_range_zero(tab, 0, n);
}

/*
 * Without counters: is @child (a table at @depth) empty after an unmap
 * cleared [s, l] in it? The entries strictly inside the range are zero by
 * then (each was a leaf the range covered, or a table it covered whole,
 * which was freed), so look first at the entries just outside the range,
 * where a neighbouring mapping usually is, then at the two ends of the
 * range (tables the range only cut), and scan the rest of the table only
 * when all of them are zero.
 */
static inline bool eng_child_empty_after(const struct pt_table *t, const uint64_t *child,
					 unsigned int depth, uint64_t s, uint64_t l)
{
	const struct pt_cfg *c = &t->cfg;
	unsigned int n = 1u << c->bits[depth];
	unsigned int ci = pt_index(c, depth, s), cie = pt_index(c, depth, l);

	if ((ci && child[ci - 1]) || (cie + 1 < n && child[cie + 1]))
		return false;
	if (child[ci] || child[cie])
		return false;
	return eng_range_zero(child, 0, ci) && eng_range_zero(child, cie + 1, n);
}

static inline bool eng_leaf_allowed(const struct pt_cfg *c, unsigned int depth)
{
	if (!(c->leaf_ok & BIT(depth)))
		return false;
	return depth == c->nlevels - 1 || !(c->flags & PT_CFG_NO_BLOCKS);
}

/* Check alignment, wrap and range of an input range; 0 or -errno. */
static inline int eng_check_input(const struct pt_cfg *c, uint64_t iova, uint64_t size)
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
 * Zero a table walkers may still be reading (unlinked, not yet reclaimed):
 * atomic stores, which they see as entries becoming invalid.
 */
static inline void eng_zero_table(uint64_t *table, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		__atomic_store_n(&table[i], 0, __ATOMIC_RELAXED);
}

/*
 * Free a subtree that is no longer linked (its parent entry was cleared in
 * one store) and return the bytes it mapped. New walks can no longer reach
 * it, and only this writer changes it, so its entries are read with plain
 * accesses; walks that found it before the unlink may still be inside, so
 * its tables go back to the port, which reuses them only after those walks
 * are over (util/epoch.h).
 *
 * With counters, nothing is zeroed (the port does it on reuse) and a table
 * is read only as far as its last child table: a table without children,
 * such as every last-level table, is not read at all. Without, each table
 * is counted and cleared (eng_zero_table).
 */
static uint64_t eng_reclaim(struct pt_table *t, uint64_t *table, unsigned int depth,
			    uint64_t pa)
{
	const struct pt_cfg *c = &t->cfg;
	unsigned int n = 1u << c->bits[depth];
	struct pt_count *cnt = eng_cnt(t, table, depth);
	uint64_t bytes = 0, leaves = 0;

	if (cnt) {
		unsigned int left = cnt->tables;
		uint64_t below = 0; /* leaves of children that link no table */

		leaves = (uint64_t)(cnt->valid - cnt->tables);
		for (unsigned int i = 0; left && i < n; i++) {
			uint64_t e = fmt_load(&table[i]);
			uint64_t *child, cpa;
			const struct pt_count *ccnt;

			if (!e || !fmt_is_table(c, depth, e))
				continue;
			left--;
			child = eng_child(t, depth, e);
			cpa = fmt_table_pa(c, depth, e);
			ccnt = pt_count_of(&t->count, child);
			if (ccnt->tables) {
				bytes += eng_reclaim(t, child, depth + 1, cpa);
			} else {
				/* Every last-level table is one: only its counter is read. */
				below += ccnt->valid;
				eng_free_table(t, depth + 1, cpa, child);
			}
		}
		bytes += below * pt_entry_size(c, depth + 1);
	} else if (depth == c->nlevels - 1) {
		for (unsigned int i = 0; i < n; i++)
			leaves += table[i] != 0;
		eng_zero_table(table, n);
	} else {
		for (unsigned int i = 0; i < n; i++) {
			uint64_t e = fmt_load(&table[i]);

			if (!e)
				continue;
			if (fmt_is_table(c, depth, e))
				bytes += eng_reclaim(t, eng_child(t, depth, e), depth + 1,
						     fmt_table_pa(c, depth, e));
			else
				leaves++;
		}
		eng_zero_table(table, n);
	}
	eng_free_table(t, depth, pa, table);
	return bytes + leaves * pt_entry_size(c, depth);
}

/* Four 32-bit halves of two descriptors: SSE2 compares 32 bits at a time. */
typedef uint32_t eng_v4 __attribute__((vector_size(16), may_alias));

/*
 * Two entries from @p for counting: one 16-byte load. The only other
 * writers of a descriptor are walkers setting its access flag or dirty
 * state, which turn one non-zero value into another; the count asks only
 * zero or not, so a load that sees either value (or halves of both) counts
 * the same, and the clearing itself is done with atomic stores. A
 * ThreadSanitizer build, which cannot know that, takes two atomic loads.
 */
static inline eng_v4 eng_load2(const uint64_t *p)
{
#if defined(__SANITIZE_THREAD__)
	return (eng_v4)(eng_v2){ fmt_load(&p[0]), fmt_load(&p[1]) };
#else
	eng_v4 v;

	memcpy(&v, p, sizeof(v));
	return v;
#endif
}

/*
 * Clear entries [i, ie] of a table that walkers can see (one atomic store
 * each, no branch) and return how many were non-zero: 256 pages in one
 * call is mostly this loop. Only this thread maps or unmaps the table
 * (callers serialise them), so the count reads two entries a vector
 * (eng_load2()) before their stores: the low halves of four descriptors
 * OR-ed with their high halves (two shuffles of two vectors) make a lane
 * that is zero exactly when its descriptor is, and a lane that compares
 * equal to zero (all ones) subtracted from a count adds one zero entry.
 * Eight entries a step; SSE2, any -march.
 */
static inline uint64_t eng_clear_run(uint64_t *table, unsigned int i, unsigned int ie)
{
	uint64_t *p = table + i, *const end = table + ie + 1;
	const uint64_t total = (uint64_t)(end - p);
	eng_v4 z0 = { 0, 0, 0, 0 }, z1 = { 0, 0, 0, 0 };
	uint64_t zeros = 0;

	/* (A pointer, not an index: no address arithmetic per entry.) */
	for (; end - p >= 8; p += 8) {
		eng_v4 a = eng_load2(&p[0]), b = eng_load2(&p[2]);
		eng_v4 c = eng_load2(&p[4]), d = eng_load2(&p[6]);

		fmt_store(&p[0], 0);
		fmt_store(&p[1], 0);
		fmt_store(&p[2], 0);
		fmt_store(&p[3], 0);
		fmt_store(&p[4], 0);
		fmt_store(&p[5], 0);
		fmt_store(&p[6], 0);
		fmt_store(&p[7], 0);
		/* Low | high half of four descriptors: zero exactly when the descriptor is. */
		a = __builtin_shufflevector(a, b, 0, 2, 4, 6) |
		    __builtin_shufflevector(a, b, 1, 3, 5, 7);
		c = __builtin_shufflevector(c, d, 0, 2, 4, 6) |
		    __builtin_shufflevector(c, d, 1, 3, 5, 7);
		z0 -= (eng_v4)(a == 0);
		z1 -= (eng_v4)(c == 0);
	}
	for (; p < end; p++) {
		zeros += !fmt_load(p);
		fmt_store(p, 0);
	}
	z0 += z1;
	zeros += (uint64_t)z0[0] + z0[1] + z0[2] + z0[3];
	return total - zeros;
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
	struct pt_count *cnt = eng_cnt(t, table, depth);
	uint64_t ebase, unmapped = 0, gone = 0, gone_tables = 0;

	/*
	 * Only leaves in the range, each covered whole: last-level pages, or
	 * any level when the counter says the table links no table (a block
	 * the range cuts was split into a table beforehand). Count and clear.
	 */
	if (depth == c->nlevels - 1 || (cnt && !cnt->tables)) {
		uint64_t n;

		if (!clear)
			return 0;
		n = eng_clear_run(table, i, ie);
		if (cnt)
			cnt->valid -= (uint16_t)n;
		return n * esz;
	}

	/* The counter is updated once at the end: stores below would make each update a reload. */
	ebase = ALIGN_DOWN(start - c->iova_base, esz) + c->iova_base;
	for (; i <= ie; i++, ebase += esz) {
		uint64_t e = fmt_load(&table[i]);
		uint64_t s = MAX(start, ebase), l = MIN(last, ebase + esz - 1);
		bool whole = s == ebase && l == ebase + esz - 1;

		if (!e)
			continue;
		if (fmt_is_table(c, depth, e)) {
			uint64_t *child = eng_child(t, depth, e);
			struct pt_count *ccnt;
			uint64_t n;
			bool empty;

			if (clear && whole) {
				/* Unlink the whole subtree in one store, then reclaim it. */
				fmt_store(&table[i], 0);
				gone++;
				gone_tables++;
				unmapped += eng_reclaim(t, child, depth + 1, fmt_table_pa(c, depth, e));
				continue;
			}
			n = eng_unmap_level(t, child, depth + 1, s, l, clear);
			unmapped += n;
			ccnt = eng_cnt(t, child, depth + 1);
			if (ccnt)
				empty = !ccnt->valid;
			else if (!clear)
				empty = eng_table_empty(child, 1u << c->bits[depth + 1]);
			else if (!n)
				continue; /* nothing changed below: it was not empty before */
			else
				empty = eng_child_empty_after(t, child, depth + 1, s, l);
			if (empty) {
				fmt_store(&table[i], 0);
				gone++;
				gone_tables++;
				eng_free_table(t, depth + 1, fmt_table_pa(c, depth, e), child);
			}
		} else if (clear && whole) {
			fmt_store(&table[i], 0);
			gone++;
			unmapped += esz;
		}
		/* A leaf the range only cuts was split by eng_split_at() beforehand. */
	}
	if (cnt) {
		cnt->valid -= (uint16_t)gone;
		cnt->tables -= (uint16_t)gone_tables;
	}
	return unmapped;
}

/*
 * The splits one unmap made, so that a failed allocation can put every block
 * back: an unmap that returns -ENOMEM leaves the tables exactly as it found
 * them, not merely translating the same.
 */
struct eng_split_log {
	unsigned int n;
	struct {
		uint64_t *slot;	  /* the entry that held the block */
		uint64_t old;	  /* the block descriptor */
		uint64_t cpa;	  /* the table that replaced it */
		uint64_t *child;
		struct pt_count *pcnt; /* counter of the table holding @slot, or NULL */
		unsigned int depth; /* depth of that table */
	} e[2 * (PT_MAX_LEVELS - 1)];
};

/*
 * Make @addr a leaf boundary: split every block that contains it below its
 * start, looking from @table at @depth down (@addr lies in that table's span).
 */
static int eng_split_at(struct pt_table *t, uint64_t *table, unsigned int depth, uint64_t addr,
			struct eng_split_log *log)
{
	const struct pt_cfg *c = &t->cfg;

	for (unsigned int d = depth; d < c->nlevels - 1; d++) {
		uint64_t *p = &table[pt_index(c, d, addr)];
		uint64_t e = fmt_load(p);
		uint64_t esz = pt_entry_size(c, d);

		if (!e || !((addr - c->iova_base) & (esz - 1)))
			return 0;
		if (!fmt_is_table(c, d, e)) {
			uint64_t cpa, *child, first = fmt_split_leaf(c, d, e);
			uint64_t csz = pt_entry_size(c, d + 1);
			unsigned int n = 1u << c->bits[d + 1];
			struct pt_count *pcnt = eng_cnt(t, table, d);
			int ret = eng_alloc_table(t, d + 1, PT_ALLOC_OVERWRITE, &cpa, &child);

			if (ret)
				return ret;
			eng_store_run(child, n, first, csz);
			if (t->counted)
				*pt_count_of(&t->count, child) =
					(struct pt_count){ (uint16_t)n, 0 };
			/* The child is complete before it becomes visible. */
			fmt_store(p, fmt_mk_table(c, d, cpa));
			/* Block -> table: still one valid entry, now one more table. */
			if (pcnt)
				pcnt->tables++;
			log->e[log->n].slot = p;
			log->e[log->n].old = e;
			log->e[log->n].cpa = cpa;
			log->e[log->n].child = child;
			log->e[log->n].pcnt = pcnt;
			log->e[log->n].depth = d + 1;
			log->n++;
			table = child;
		} else {
			table = eng_child(t, d, e);
		}
	}
	return 0;
}

/* Undo the splits in @log, newest first: each block goes back in one store. */
static void eng_split_undo(struct pt_table *t, struct eng_split_log *log)
{
	while (log->n) {
		unsigned int i = --log->n;
		unsigned int n = 1u << t->cfg.bits[log->e[i].depth];

		fmt_store(log->e[i].slot, log->e[i].old);
		if (log->e[i].pcnt)
			log->e[i].pcnt->tables--;
		/* Freed tables are all zeroes, unless counted (struct pt_mem). */
		if (!t->counted)
			for (unsigned int k = 0; k < n; k++)
				fmt_store(&log->e[i].child[k], 0);
		eng_free_table(t, log->e[i].depth, log->e[i].cpa, log->e[i].child);
	}
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
	bool fresh = false; /* @table was allocated by this descent: all zero */

	for (unsigned int d = 0;; d++) {
		unsigned int idx = pt_index(c, d, iova);
		uint64_t esz = pt_entry_size(c, d);
		uint64_t e;

		if (eng_leaf_allowed(c, d) && !((iova | pa) & (esz - 1)) && size >= esz) {
			uint64_t n = MIN(size >> c->shift[d], (1ULL << c->bits[d]) - idx);
			uint64_t desc = fmt_mk_leaf(c, d, pa, prot);
			uint64_t *p = &table[idx];
			struct pt_count *cnt = eng_cnt(t, table, d);

			/*
			 * Check the whole run first (nothing to check in a fresh
			 * table or one counted empty; else a vector scan), then
			 * store it without a test per entry. Zero is zero in
			 * either byte order.
			 */
			if (!fresh && !(cnt && !cnt->valid) &&
			    unlikely(!eng_range_zero(table, idx, idx + (unsigned int)n)))
				return -EEXIST;
			eng_store_run(p, n, desc, esz);
			if (cnt)
				cnt->valid += (uint16_t)n;
			*done += n * esz;
			return 0;
		}
		e = fmt_load(&table[idx]);
		if (!e) {
			uint64_t cpa, *child, cesz = pt_entry_size(c, d + 1);
			/* Will the new table be one run of leaves, first entry to last? */
			bool full = eng_leaf_allowed(c, d + 1) && !((iova | pa) & (cesz - 1)) &&
				    !((iova - c->iova_base) & (esz - 1)) && size >= esz;
			int ret = eng_alloc_table(t, d + 1, full ? PT_ALLOC_OVERWRITE : 0, &cpa,
						  &child);

			if (ret)
				return ret;
			if (full) {
				/* Written whole, then linked: no zeroing, no scan. */
				unsigned int n = 1u << c->bits[d + 1];
				uint64_t desc = fmt_mk_leaf(c, d + 1, pa, prot);

				eng_store_run(child, n, desc, cesz);
				if (t->counted)
					pt_count_of(&t->count, child)->valid = (uint16_t)n;
				fmt_store(&table[idx], fmt_mk_table(c, d, cpa));
				eng_cnt_link(t, table, d, 1);
				*done += esz;
				return 0;
			}
			fmt_store(&table[idx], fmt_mk_table(c, d, cpa));
			eng_cnt_link(t, table, d, 1);
			table = child;
			fresh = true;
		} else if (fmt_is_table(c, d, e)) {
			table = eng_child(t, d, e);
		} else {
			return -EEXIST; /* a block already maps part of the range */
		}
	}
}

/*
 * The rest of eng_map_one() when the entry of @table (at @d) on the leaf's
 * path is zero: every table below is new. A failed allocation frees the
 * tables this call linked, as eng_map()'s rollback would.
 */
static __attribute__((noinline)) int eng_map_one_new(struct pt_table *t, uint64_t *table,
						     unsigned int d, unsigned int depth,
						     uint64_t iova, uint64_t pa, unsigned int prot)
{
	const struct pt_cfg *c = &t->cfg;

	for (; d < depth; d++) {
		uint64_t cpa, *child;
		int ret = eng_alloc_table(t, d + 1, 0, &cpa, &child);

		if (ret) {
			eng_unmap_level(t, t->root_ptr, 0, iova, iova, false);
			return ret;
		}
		fmt_store(&table[pt_index(c, d, iova)], fmt_mk_table(c, d, cpa));
		eng_cnt_link(t, table, d, 1);
		table = child;
	}
	fmt_store(&table[pt_index(c, depth, iova)], fmt_mk_leaf(c, depth, pa, prot));
	if (t->counted)
		pt_count_of(&t->count, table)->valid++;
	return 0;
}

/*
 * One leaf at @depth (checked: allowed there, aligned): the common
 * single-page or single-block map, with none of the general descent's
 * choices. Same result as eng_map_range(): above @depth the range is
 * smaller than an entry, so it only descends; any entry at @depth (a
 * leaf, or a table, which is never empty) means -EEXIST. Returns 0,
 * -EEXIST or -ENOMEM, with nothing changed on error.
 */
static eng_always_inline int eng_map_one_in(struct pt_table *t, unsigned int depth,
					    uint64_t iova, uint64_t pa, unsigned int prot,
					    bool direct)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t *table = t->root_ptr, *p, rel = iova - c->iova_base;

	for (unsigned int d = 0; d < depth; d++) {
		uint64_t e = fmt_load(&table[eng_idx(t, d, rel)]);

		/* (Above the last level, which tells fmt_is_table() what it cannot know.) */
		if (d >= c->nlevels - 1)
			__builtin_unreachable();
		if (unlikely(!e))
			return eng_map_one_new(t, table, d, depth, iova, pa, prot);
		if (unlikely(!fmt_is_table(c, d, e)))
			return -EEXIST; /* a block maps the range */
		table = eng_child_d(t, d, e, direct);
	}
	p = &table[eng_idx(t, depth, rel)];
	if (unlikely(fmt_load(p)))
		return -EEXIST;
	fmt_store(p, fmt_mk_leaf(c, depth, pa, prot));
	if (t->counted && depth)
		pt_count_of(&t->count, table)->valid++;
	return 0;
}

static eng_always_inline int eng_map_one(struct pt_table *t, unsigned int depth, uint64_t iova,
					 uint64_t pa, unsigned int prot)
{
	if (likely(t->direct))
		return eng_map_one_in(t, depth, iova, pa, prot, true);
	return eng_map_one_in(t, depth, iova, pa, prot, false);
}

/* Any range (checked): runs of the largest leaves alignment allows, all or nothing. */
static __attribute__((noinline)) int eng_map_range(struct pt_table *t, uint64_t iova, uint64_t pa,
						   uint64_t size, unsigned int prot)
{
	uint64_t done = 0;
	int ret;

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

/*
 * Any call that is not one leaf: every check in the order the errors are
 * defined, then the range (one leaf the checks would pass never gets here:
 * eng_map_checked()).
 */
static __attribute__((noinline)) int eng_map_general(struct pt_table *t, uint64_t iova,
						     uint64_t pa, uint64_t size, unsigned int prot)
{
	const struct pt_cfg *c = &t->cfg;
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
	return eng_map_range(t, iova, pa, size, prot);
}

/*
 * One leaf of @size (a page, or a block the format allows), aligned to its
 * size on both sides and inside both address spaces, with R or W asked for:
 * then none of eng_map_general()'s errors can apply (an aligned leaf cannot
 * wrap, and it ends inside a space exactly when it starts inside), and the
 * map takes the short path after these few tests. Anything else, valid or
 * not, takes eng_map_general(), which finds the error the spec defines.
 */
static eng_always_inline int eng_map_checked(struct pt_table *t, uint64_t iova, uint64_t pa,
					     uint64_t size, unsigned int prot)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t rel = iova - c->iova_base, m = size - 1;
	unsigned int d;

	if (likely(size == pt_page_size(c))) {
		d = c->nlevels - 1;
	} else {
		if (!is_pow2(size) || (c->flags & PT_CFG_NO_BLOCKS))
			return eng_map_general(t, iova, pa, size, prot);
		d = t->depth_of[__builtin_ctzll(size)];
		if (d == 0xff || !(c->leaf_ok & BIT(d)))
			return eng_map_general(t, iova, pa, size, prot);
	}
	if (likely(!((iova | rel | pa) & m) && rel + m <= t->in_last && pa + m <= t->out_last &&
		   (prot & PT_PROT_RW)))
		return eng_map_one(t, d, iova, pa, prot);
	return eng_map_general(t, iova, pa, size, prot);
}

/* pt_map() of this format (the trace point is here, so that pt_map() is a tail call). */
static int eng_map(struct pt_table *t, uint64_t iova, uint64_t pa, uint64_t size,
		   unsigned int prot)
{
	int ret = eng_map_checked(t, iova, pa, size, prot);

	trace_pt_map(t->cfg.fmt->name, iova, pa, size, prot, ret);
	return ret;
}

/*
 * After an unmap of [iova, last] that cleared something below @table (at
 * depth @d, on the path of @iova: path[k] is its ancestor at depth k), free
 * each table on the way up that it left empty.
 */
static void eng_unmap_climb(struct pt_table *t, uint64_t *const *path, uint64_t *table,
			    unsigned int d, uint64_t iova, uint64_t last)
{
	const struct pt_cfg *c = &t->cfg;

	for (; d > 0; d--) {
		uint64_t *parent = path[d - 1];
		unsigned int i = pt_index(c, d - 1, iova);
		uint64_t e = fmt_load(&parent[i]);

		if (t->counted) {
			if (pt_count_of(&t->count, table)->valid)
				break;
		} else {
			uint64_t span = pt_entry_size(c, d - 1);
			bool whole = !((iova - c->iova_base) & (span - 1)) &&
				     last - iova == span - 1;

			if (!whole && !eng_child_empty_after(t, table, d, iova, last))
				break;
		}
		fmt_store(&parent[i], 0);
		eng_cnt_link(t, parent, d - 1, -1);
		eng_free_table(t, d, fmt_table_pa(c, d - 1, e), table);
		table = parent;
	}
}

/*
 * One entry at @depth, [iova, last] (checked and aligned), when no block
 * above covers it: a walk down, one store, and with counters one decrement
 * to know whether the table is now empty. A table there is unlinked and
 * reclaimed. Returns 1 when a block above @depth covers the range (the
 * general path splits it), else 0 with *unmapped set.
 */
static eng_always_inline int eng_unmap_one_in(struct pt_table *t, unsigned int depth,
					      uint64_t iova, uint64_t last, uint64_t *unmapped,
					      bool direct)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t *path[PT_MAX_LEVELS], *table = t->root_ptr, *p, e, rel = iova - c->iova_base;
	struct pt_count *cnt;

	for (unsigned int d = 0; d < depth; d++) {
		e = fmt_load(&table[eng_idx(t, d, rel)]);
		if (d >= c->nlevels - 1)
			__builtin_unreachable(); /* as in eng_map_one_in() */
		if (!e)
			return 0;
		if (unlikely(!fmt_is_table(c, d, e)))
			return 1;
		path[d] = table;
		table = eng_child_d(t, d, e, direct);
	}
	p = &table[eng_idx(t, depth, rel)];
	e = fmt_load(p);
	if (!e)
		return 0;
	fmt_store(p, 0);
	cnt = eng_cnt(t, table, depth);
	if (unlikely(fmt_is_table(c, depth, e))) {
		if (cnt)
			cnt->tables--;
		*unmapped = eng_reclaim(t, eng_child(t, depth, e), depth + 1,
					fmt_table_pa(c, depth, e));
	} else {
		*unmapped = pt_entry_size(c, depth);
	}
	if (depth && (!cnt || !--cnt->valid))
		eng_unmap_climb(t, path, table, depth, iova, last);
	return 0;
}

static eng_always_inline int eng_unmap_one(struct pt_table *t, unsigned int depth, uint64_t iova,
					   uint64_t last, uint64_t *unmapped)
{
	if (likely(t->direct))
		return eng_unmap_one_in(t, depth, iova, last, unmapped, true);
	return eng_unmap_one_in(t, depth, iova, last, unmapped, false);
}

/*
 * Any range (checked), in three steps. First descend from the root while
 * the whole range lies in one entry that links a table and does not cover
 * that entry whole: the table reached covers the range, and no block above
 * it can be cut (a block would have ended the descent). Then split the
 * blocks the range cuts at either end, below that table only (all or
 * nothing: a failed allocation undoes the splits), and clear the range
 * there, unlinking each table it covers whole in one store. Last, climb
 * back up the path, freeing each table the unmap left empty.
 */
static __attribute__((noinline)) int eng_unmap_range(struct pt_table *t, uint64_t iova,
						     uint64_t size, uint64_t *unmapped)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t last = iova + size - 1, n;
	uint64_t *path[PT_MAX_LEVELS], *table = t->root_ptr;
	struct eng_split_log log;
	unsigned int d = 0;
	int ret;

	for (; d < c->nlevels - 1; d++) {
		unsigned int i = pt_index(c, d, iova);
		uint64_t esz = pt_entry_size(c, d);
		uint64_t e;

		if (i != pt_index(c, d, last))
			break;
		e = fmt_load(&table[i]);
		if (!e)
			return 0; /* nothing is mapped anywhere in the range */
		if (!fmt_is_table(c, d, e))
			break;
		if (!((iova - c->iova_base) & (esz - 1)) && size == esz)
			break; /* covered whole: unlinked from here */
		path[d] = table;
		table = eng_child(t, d, e);
	}

	log.n = 0;
	ret = eng_split_at(t, table, d, iova, &log);
	/* last + 1 outside this table's span is the start of another entry: no cut there. */
	if (!ret && (d == 0 || pt_index(c, d - 1, last + 1) == pt_index(c, d - 1, iova)) &&
	    last - c->iova_base + 1 != (c->ias < 64 ? 1ULL << c->ias : 0))
		ret = eng_split_at(t, table, d, last + 1, &log);
	if (ret) {
		/* Nothing was unmapped; put back the blocks split so far. */
		eng_split_undo(t, &log);
		return ret;
	}
	n = eng_unmap_level(t, table, d, iova, last, true);
	*unmapped = n;
	if (n)
		eng_unmap_climb(t, path, table, d, iova, last);
	return 0;
}

/*
 * The usual range (checked): it lies in one table, starts and ends on
 * entries of that table, and the table holds only leaves (the last level,
 * or a counter that says so). Then nothing is split or unlinked below it:
 * count and clear the entries in one run, and free the tables that leaves
 * empty on the way up. Returns 1, having changed nothing, for any other
 * range (eng_unmap_range() takes it), else 0 with *unmapped set.
 */
static eng_always_inline int eng_unmap_span_in(struct pt_table *t, uint64_t iova, uint64_t size,
					       uint64_t *unmapped, bool direct)
{
	const struct pt_cfg *c = &t->cfg;
	const unsigned int last = c->nlevels - 1;
	uint64_t *path[PT_MAX_LEVELS], *table = t->root_ptr, e, n, m;
	uint64_t rel = iova - c->iova_base, rlast = rel + size - 1;
	unsigned int d = 0, i, ie;
	struct pt_count *cnt;

	for (;; d++) {
		i = eng_idx(t, d, rel);
		ie = eng_idx(t, d, rlast);
		if (i != ie || d == last)
			break;
		e = fmt_load(&table[i]);
		if (!e)
			return 0; /* nothing is mapped anywhere in the range */
		if (!fmt_is_table(c, d, e) || size == pt_entry_size(c, d))
			return 1;
		path[d] = table;
		table = eng_child_d(t, d, e, direct);
	}
	m = pt_entry_size(c, d) - 1;
	if ((rel | (rlast + 1)) & m)
		return 1; /* it cuts an entry */
	cnt = eng_cnt(t, table, d);
	if (d != last && !(cnt && !cnt->tables))
		return 1; /* tables below */
	n = eng_clear_run(table, i, ie);
	if (cnt)
		cnt->valid -= (uint16_t)n;
	*unmapped = n * (m + 1);
	if (n && d && (!cnt || !cnt->valid))
		eng_unmap_climb(t, path, table, d, iova, iova + size - 1);
	return 0;
}

static __attribute__((noinline)) int eng_unmap_span(struct pt_table *t, uint64_t iova,
						    uint64_t size, uint64_t *unmapped)
{
	if (likely(t->direct))
		return eng_unmap_span_in(t, iova, size, unmapped, true);
	return eng_unmap_span_in(t, iova, size, unmapped, false);
}

/*
 * A one-page unmap, or one of exactly a block (whatever maps it), takes
 * eng_unmap_one() and walks the tree once, and so does a run of whole
 * leaves in one table (eng_unmap_span()); anything else, or a block above
 * that needs splitting, takes eng_unmap_range().
 */
static eng_always_inline int eng_unmap_checked(struct pt_table *t, uint64_t iova, uint64_t size,
					       uint64_t *unmapped)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t rel = iova - c->iova_base, m = size - 1;
	unsigned int d;
	int ret;

	*unmapped = 0;
	/* An aligned entry inside the input space passes eng_check_input(). */
	if (likely(size == pt_page_size(c)))
		d = c->nlevels - 1;
	else if (is_pow2(size))
		d = t->depth_of[__builtin_ctzll(size)];
	else
		d = 0xff;
	if (likely(d != 0xff && !((iova | rel) & m) && rel + m <= t->in_last)) {
		if (!eng_unmap_one(t, d, iova, iova + m, unmapped))
			return 0;
		return eng_unmap_range(t, iova, size, unmapped);
	}
	ret = eng_check_input(c, iova, size);
	if (ret)
		return ret;
	if (!eng_unmap_span(t, iova, size, unmapped))
		return 0;
	return eng_unmap_range(t, iova, size, unmapped);
}

/* pt_unmap() of this format; @unmapped may be NULL. */
static int eng_unmap(struct pt_table *t, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	uint64_t done;
	int ret = eng_unmap_checked(t, iova, size, &done);

	if (unmapped)
		*unmapped = done;
	trace_pt_unmap(t->cfg.fmt->name, iova, size, done);
	return ret;
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

/* Empty the root and free everything below it (pt_table_destroy frees the root). */
static void eng_free_all(struct pt_table *t)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t *root = t->root_ptr;
	unsigned int n = 1u << c->bits[0];

	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = fmt_load(&root[i]);

		if (!e)
			continue;
		fmt_store(&root[i], 0);
		if (c->nlevels > 1 && fmt_is_table(c, 0, e))
			eng_reclaim(t, eng_child(t, 0, e), 1, fmt_table_pa(c, 0, e));
	}
}

/* pt_table_check(): the tables reached, and the first problem. */
struct eng_check_ctx {
	uint64_t tables, bytes;
	FILE *err;
};

static int eng_check_fail(struct eng_check_ctx *x, const char *what, unsigned int depth,
			  uint64_t pa, uint64_t a, uint64_t b)
{
	if (x->err)
		fprintf(x->err, "pt_table_check: %s: table 0x%llx at depth %u: %llu vs %llu\n",
			what, (unsigned long long)pa, depth, (unsigned long long)a,
			(unsigned long long)b);
	return -EUCLEAN;
}

static int eng_check_level(const struct pt_table *t, const uint64_t *table, unsigned int depth,
			   uint64_t pa, struct eng_check_ctx *x)
{
	const struct pt_cfg *c = &t->cfg;
	unsigned int n = 1u << c->bits[depth];
	size_t sz = pt_table_size(c, depth);
	unsigned int valid = 0, tables = 0;
	const struct pt_count *cnt;

	x->tables++;
	x->bytes += sz;
	if (!table || pt_mem_ptr(t->mem, pa, sz) != table)
		return eng_check_fail(x, "host pointer vs the memory port", depth, pa,
				      (uintptr_t)table, (uintptr_t)pt_mem_ptr(t->mem, pa, sz));
	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = fmt_load(&table[i]);
		int ret;

		if (!e)
			continue;
		valid++;
		if (depth + 1 < c->nlevels && fmt_is_table(c, depth, e)) {
			tables++;
			ret = eng_check_level(t, eng_child(t, depth, e), depth + 1,
					      fmt_table_pa(c, depth, e), x);
			if (ret)
				return ret;
		}
	}
	if (depth && !valid)
		return eng_check_fail(x, "empty non-root table", depth, pa, 0, 1);
	cnt = eng_cnt(t, table, depth);
	if (cnt && cnt->valid != valid)
		return eng_check_fail(x, "counter of valid entries vs the entries", depth, pa,
				      cnt->valid, valid);
	if (cnt && cnt->tables != tables)
		return eng_check_fail(x, "counter of table entries vs the entries", depth, pa,
				      cnt->tables, tables);
	return 0;
}

static int eng_check(const struct pt_table *t, FILE *err)
{
	struct eng_check_ctx x = { .err = err };
	int ret = eng_check_level(t, t->root_ptr, 0, t->root, &x);

	if (ret)
		return ret;
	if (x.tables != t->nr_tables)
		return eng_check_fail(&x, "nr_tables vs the tables reached", 0, t->root,
				      t->nr_tables, x.tables);
	if (x.bytes != t->table_bytes)
		return eng_check_fail(&x, "table_bytes vs the tables reached", 0, t->root,
				      t->table_bytes, x.bytes);
	return 0;
}

#endif
