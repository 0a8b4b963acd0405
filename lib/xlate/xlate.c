// SPDX-License-Identifier: MIT
/*
 * xlate.c - the translation engine: one stage, or stage 1 over stage 2.
 *
 * What it owns. The walk itself: which descriptor is read next, through
 * which stage its address goes first, how the two leaves combine, which
 * write-backs the formats ask for and where they land, and how a failure
 * is reported (stage, SMMUv3 class, level, reason, addresses). It owns no
 * memory and no tables: descriptors are decoded by the format code of
 * lib/pt (pt_fmt walk_begin / walk_step), one descriptor at a time, and
 * every byte is read through the pt_mem port of the configuration. The
 * engine never names a descriptor bit, so any pair of formats nests
 * (VMSA stage 1 over VMSA stage 2, x86 first stage over VT-d second stage).
 *
 * The nested walk. A stage-1 walk starts at its root, an IPA. Before each
 * stage-1 descriptor is read, its IPA (the root entry first, then each
 * address a table descriptor yields) is translated by a full stage-2 walk
 * asking for read permission; the stage-1 descriptor is then read at the
 * resulting PA. When the stage-1 leaf is found its output IPA goes through
 * stage 2 once more, with the request's own access (less PT_PROT_U, which
 * only stage 1 knows). With no caches an n-level stage 1 over an m-level
 * stage 2 reads (n + 1)(m + 1) - 1 descriptors, 24 for 4 over 4.
 *
 * Results. pa is the stage-2 output for the stage-1 output IPA; size is the
 * smaller of the two leaves, so that [pa & ~(size - 1), + size) is one
 * contiguous run that both stages map the same way; prot is the
 * intersection of both stages' permissions. A stage that is off reports
 * level -1, size 0 and every permission; with both off the translation is
 * the identity over one 4 KiB page with every permission.
 *
 * Faults, following hw.md §1.7-1.8 (SMMUv3 event fields):
 *  - stage 2 while fetching a stage-1 descriptor: stage 2, class TT,
 *    ipa = the descriptor's IPA;
 *  - stage 2 on the final IPA: stage 2, class IN, ipa = that IPA;
 *  - stage 1 decode faults: stage 1, class IN, ipa = 0;
 *  - a stage-1 descriptor that cannot be read (or written back) at its PA:
 *    stage 1, class TT, walk abort, ipa = its IPA (its PA with stage 2 off);
 *  - a stage-2 descriptor that cannot be read: stage 2, walk abort, with
 *    the class of the walk it served.
 * input_addr is always the IOVA (for xlate_s2, the caller's input address).
 * desc_addr is the physical address of the descriptor involved (the one
 * that failed, for a walk abort), 0 when the fault came before any read.
 *
 * Hardware access / dirty updates. A format step that wants its
 * descriptor updated says so in the walk (wb_valid, wb_addr, old, new); the
 * engine compare-and-swaps the descriptor in memory at its physical
 * address. Stage-2 descriptors are updated as soon as their step asks.
 * A stage-1 descriptor lives in guest memory, and the update is a write
 * into it, so stage 2 must allow writing there: when the stage-2 leaf that
 * served the fetch is not writable, the engine walks stage 2 again for the
 * descriptor's IPA with write access (which faults as stage 2, class TT,
 * or lets stage 2 mark that page dirty) before the swap. A stage-1 leaf is
 * updated only after the final stage-2 walk has succeeded, so a transaction
 * that faults at stage 2 leaves no access or dirty mark at stage 1. A swap
 * that loses a race (-EAGAIN) restarts the whole translation with a fresh
 * record; after XLATE_ATTEMPTS lost races the translation is reported as a
 * walk abort at the descriptor that kept changing.
 *
 * Record. Every descriptor read is appended in order: stage, level, the
 * stage-1 depth it serves (s1_step; nlevels of stage 1 for the final IPA,
 * 0 when stage 1 is off, -1 for xlate_s2), the physical address read, the
 * IPA involved and the value. rec->n counts every read; entries past
 * XLATE_MAX_READS are counted only.
 *
 * Invariants. Every read goes through cfg->mem and is bounded by it: a
 * guest-written descriptor can only lead to memory that stage 2 maps, and
 * never outside @mem. A walk reads at most nlevels descriptors per stage-2
 * walk and per stage-1 walk, so a translation is bounded even over tables
 * that loop. Nothing is allocated.
 *
 * Caches (cfg->cache, lib/xlate/cache.c). With caches the engine first
 * looks the IOVA up in the IOTLB under the context's tag (xlate_tag): a
 * live entry whose grant covers the access answers with no read and no
 * lock. The grant is both stages' permissions, less write when a stage
 * does hardware dirty tracking and the entry was filled by a read, so a
 * first write always walks and sets the dirty state; any refusal walks
 * too. On a miss the walk (xlate_once_cached) starts each stage below the
 * deepest level its walk cache knows (stage-1 entries hold table IPAs and
 * the table permission limits above them; stage-2 entries table PAs), and
 * every stage-1 table IPA and the output IPA go through the IPA cache
 * before a stage-2 walk. What it walked is filled in as it goes: walk-cache
 * entries after each table step (and after that step's access-flag
 * update), the IPA cache after each stage-2 leaf, the IOTLB after the whole
 * translation succeeded (after the deferred stage-1 update). Every fill
 * carries the invalidation sequence read (acquire) before the attempt's
 * first descriptor or cache read; cache.c drops it if an invalidation that
 * could remove it began since, and an attempt that starts while an
 * invalidation of its context is under way fills nothing (xc_may_fill: it
 * may be using entries that invalidation has yet to remove). Faults are
 * never cached; when a walk that used cached state faults, the translation
 * is settled by an uncached walk, so a fault is reported exactly (stage,
 * class, level, addresses) as without caches, and a stale cached table
 * cannot produce a fault the tables no longer hold. The record lists the
 * hits (rec->hit) beside the reads; res->reads counts the reads,
 * res->iotlb_hit says the IOTLB answered. xlate_batch() reads the
 * context's IOTLB state once for many addresses. The uncached path is the
 * code below unchanged (xlate_once, s2_walk), reached through one more
 * test of cfg->cache.
 *
 * The hit path's ordering: the set's sequence count is loaded (acquire)
 * before and re-checked (after an acquire fence) after the entry's words;
 * the flush stamps that decide whether the entry is live are loaded once
 * per call (or batch). A translation that starts after an invalidation
 * returned is ordered after it by the caller, so it sees the removal (the
 * set's unlock, a release) or the flush stamp, and falls back to a walk of
 * the current tables (cache.c has the whole argument).
 *
 * Concurrency. Walkers take no lock. Descriptors are loaded with acquire
 * order (a table linked by a descriptor is fully visible once that
 * descriptor is), and updated only by compare-and-swap. Tables may change
 * under a walk; the walk then sees either the old or the new descriptor at
 * each step, as hardware does. A walk (not an IOTLB hit) is a read-side
 * section of util/epoch.h: tables an unmap frees under it keep their
 * contents until it is over, so it reads stale but well-formed tables,
 * never reused ones. The configuration, formats and memory port must stay
 * valid for the duration of a call.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "pt/pt_walk_inline.h"
#include "util/bits.h"
#include "util/epoch.h"
#include "util/trace.h"
#include "xlate/cache_int.h"
#include "xlate/xlate.h"

/* Lost compare-and-swap races tolerated before a translation gives up. */
#define XLATE_ATTEMPTS 8

#define PROT_ALL (PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U)

/* What one stage of work came to. */
enum xw {
	XW_OK = 0,
	XW_FAULT, /* x->fault is filled */
	XW_RETRY, /* a write-back lost a race: restart; x->fault says where */
};

struct xctx {
	const struct pt_mem *mem;
	const struct pt_cfg *c1, *c2;
	uint64_t root1, root2;
	struct xlate_record *rec;
	struct xlate_fault *fault;
	uint64_t input; /* reported as input_addr */
	unsigned int reads;
	/* Caches (NULL: the uncached walk). */
	struct xlate_cache *cache;
	uint64_t s0;	    /* invalidation sequence this attempt started under */
	uint64_t k1, k1_s2; /* stage-1 (VMID, ASID) and stage-2 (VMID) keys */
	uint32_t vmid;
	bool user;	    /* stage-1 entries: an unprivileged access */
	bool wc1, wc2;	    /* the walk caches serve this stage */
	bool fill;	    /* this attempt may fill the caches (xc_may_fill) */
	bool used;	    /* this attempt used cached state */
};

/* A stage-1 descriptor update waiting for the translation to succeed. */
struct s1_wb {
	uint64_t ipa;	   /* the descriptor's IPA (its PA with stage 2 off) */
	uint64_t pa;	   /* where it was read, when ipa is the address that was read */
	uint64_t read_ipa; /* the IPA of the descriptor that was read */
	uint64_t old, val;
	unsigned int s2_prot; /* stage-2 permissions of the page it was read from */
	int level, step;
};

/* ---------------------------------------------------------------------- */
/* Memory and record                                                      */

/*
 * pt_mem_read_desc(), inlined: the hot loop reads 24 descriptors and this
 * saves a call per read. Same checks: aligned, inside one region.
 */
static inline bool read_desc(const struct pt_cfg *c, const struct pt_mem *mem, uint64_t pa,
			     uint64_t *val)
{
	const uint64_t *p;
	uint64_t v;

	if (unlikely(pa & 7))
		return false;
	p = pt_mem_ptr(mem, pa, 8);
	if (unlikely(!p))
		return false;
	v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	*val = unlikely(c->fmt->big_endian) ? __builtin_bswap64(v) : v;
	return true;
}

static inline void rec_read(struct xlate_record *rec, int stage, int level, int s1_step,
			    uint64_t addr, uint64_t ipa, uint64_t val)
{
	unsigned int n;

	if (!rec)
		return;
	n = rec->n++;
	if (n < XLATE_MAX_READS)
		rec->r[n] = (struct xlate_read){ .stage = (uint8_t)stage,
						 .level = (int8_t)level,
						 .s1_step = (int8_t)s1_step,
						 .addr = addr,
						 .ipa = ipa,
						 .value = val };
}

static enum xw set_fault(struct xctx *x, int stage, enum xlate_class cls, int level,
			 enum pt_fault_reason reason, uint64_t ipa, uint64_t desc_addr)
{
	*x->fault = (struct xlate_fault){ .stage = stage,
					  .cls = cls,
					  .level = level,
					  .reason = reason,
					  .input_addr = x->input,
					  .ipa = ipa,
					  .desc_addr = desc_addr };
	return XW_FAULT;
}

/*
 * Swap a descriptor at @pa. XW_OK, XW_RETRY (lost a race; the fault says
 * where, should the retries run out) or XW_FAULT (not in memory).
 */
static enum xw write_back(struct xctx *x, const struct pt_cfg *c, int stage,
			  enum xlate_class cls, int level, uint64_t ipa, uint64_t pa, uint64_t old,
			  uint64_t val)
{
	int ret = pt_mem_cas_desc(c, x->mem, pa, old, val);

	if (likely(!ret))
		return XW_OK;
	set_fault(x, stage, cls, level, PT_FAULT_EXT_ABORT, ipa, pa);
	return ret == -EAGAIN ? XW_RETRY : XW_FAULT;
}

/* ---------------------------------------------------------------------- */
/* Stage 2                                                                */

/*
 * Walk stage 2 for @ipa. Faults are reported as stage 2 with class @cls;
 * reads are recorded as serving stage-1 depth @s1_step.
 */
static inline __attribute__((always_inline)) enum xw
s2_walk(struct xctx *x, uint64_t ipa, unsigned int access, int s1_step, enum xlate_class cls,
	struct pt_leaf *leaf)
{
	const struct pt_cfg *c = x->c2;
	struct pt_walk w;
	struct pt_fault pf;
	enum pt_step st;

	st = pt_walk_begin_inline(c, x->root2, ipa, access, &w, &pf);
	while (likely(st == PT_STEP_TABLE)) {
		int level = pt_level(c, w.depth);
		uint64_t d;

		if (unlikely(!read_desc(c, x->mem, w.desc_addr, &d)))
			return set_fault(x, 2, cls, level, PT_FAULT_EXT_ABORT, ipa, w.desc_addr);
		x->reads++;
		rec_read(x->rec, 2, level, s1_step, w.desc_addr, ipa, d);
		w.wb_valid = false;
		st = pt_walk_step_inline(&w, d, leaf, &pf);
		if (unlikely(w.wb_valid)) {
			enum xw r = write_back(x, c, 2, cls, level, ipa, w.wb_addr, w.wb_old,
					       w.wb_new);

			if (r)
				return r;
		}
	}
	if (likely(st == PT_STEP_LEAF))
		return XW_OK;
	return set_fault(x, 2, cls, pf.level, pf.reason, ipa, pf.desc_addr);
}

/* The same, out of line, for the paths that are not the hot loop. */
static __attribute__((noinline)) enum xw s2_walk_cold(struct xctx *x, uint64_t ipa,
						       unsigned int access, int s1_step,
						       enum xlate_class cls, struct pt_leaf *leaf)
{
	return s2_walk(x, ipa, access, s1_step, cls, leaf);
}

/* ---------------------------------------------------------------------- */
/* Stage 1                                                                */

/*
 * Update a stage-1 descriptor. Through stage 2 this is a write to guest
 * memory: it needs stage-2 write permission for the descriptor's page,
 * which a second stage-2 walk (write access) checks, and grants where the
 * stage-2 format can mark the page dirty, when the fetch's leaf was not
 * writable or the update is not to the descriptor just read.
 */
static enum xw s1_write_back(struct xctx *x, const struct s1_wb *wb)
{
	uint64_t pa = wb->pa;

	if (x->c2 && (wb->ipa != wb->read_ipa || !(wb->s2_prot & PT_PROT_W))) {
		struct pt_leaf l2;
		enum xw r = s2_walk_cold(x, wb->ipa, PT_PROT_W, wb->step, XLATE_CLASS_TT, &l2);

		if (r)
			return r;
		pa = l2.oa;
	} else if (!x->c2) {
		pa = wb->ipa;
	}
	return write_back(x, x->c1, 1, XLATE_CLASS_TT, wb->level, wb->ipa, pa, wb->old, wb->val);
}

static inline void fill_res(struct xlate_result *res, uint64_t pa, uint64_t ipa,
			    const struct pt_leaf *l1, const struct pt_leaf *l2)
{
	unsigned int p1 = l1 ? l1->prot : PROT_ALL;
	/* Stage 2 never restricts unprivileged access: stage 1 decides U. */
	unsigned int p2 = l2 ? l2->prot | PT_PROT_U : PROT_ALL;
	uint64_t s1 = l1 ? l1->size : 0, s2 = l2 ? l2->size : 0;

	res->pa = pa;
	res->ipa = ipa;
	res->s1_prot = p1;
	res->s2_prot = p2;
	res->prot = p1 & p2;
	res->s1_level = l1 ? l1->level : -1;
	res->s2_level = l2 ? l2->level : -1;
	res->s1_size = s1;
	res->s2_size = s2;
	if (l1 && l2)
		res->size = MIN(s1, s2);
	else if (l1 || l2)
		res->size = s1 | s2;
	else
		res->size = 4096;
}

/* One attempt at the whole translation. */
static enum xw xlate_once(struct xctx *x, uint64_t iova, unsigned int access,
			  struct xlate_result *res)
{
	const struct pt_cfg *c1 = x->c1;
	struct pt_leaf l1, l2;
	struct s1_wb pend;
	bool pending = false;
	uint64_t ipa = iova;
	enum xw r;

	if (c1) {
		struct pt_walk w;
		struct pt_fault pf;
		enum pt_step st;

		st = pt_walk_begin_inline(c1, x->root1, iova, access, &w, &pf);
		if (unlikely(st == PT_STEP_FAULT)) /* input out of range, root too large */
			return set_fault(x, 1, XLATE_CLASS_IN, pf.level, pf.reason, 0, 0);
		while (likely(st == PT_STEP_TABLE)) {
			int level = pt_level(c1, w.depth), step = (int)w.depth;
			uint64_t d, dipa = w.desc_addr, dpa;
			unsigned int s2_prot = PROT_ALL;

			if (x->c2) {
				r = s2_walk(x, dipa, PT_PROT_R, step, XLATE_CLASS_TT, &l2);
				if (unlikely(r))
					return r;
				dpa = l2.oa;
				s2_prot = l2.prot;
			} else {
				dpa = dipa;
			}
			if (unlikely(!read_desc(c1, x->mem, dpa, &d)))
				return set_fault(x, 1, XLATE_CLASS_TT, level, PT_FAULT_EXT_ABORT,
						 dipa, dpa);
			x->reads++;
			rec_read(x->rec, 1, level, step, dpa, dipa, d);
			w.wb_valid = false;
			st = pt_walk_step_inline(&w, d, &l1, &pf);
			if (unlikely(w.wb_valid)) {
				pend = (struct s1_wb){ .ipa = w.wb_addr,
						       .pa = dpa,
						       .read_ipa = dipa,
						       .old = w.wb_old,
						       .val = w.wb_new,
						       .s2_prot = s2_prot,
						       .level = level,
						       .step = step };
				if (st == PT_STEP_LEAF) {
					pending = true; /* once the whole translation succeeds */
				} else {
					r = s1_write_back(x, &pend);
					if (r)
						return r;
				}
			}
			if (unlikely(st == PT_STEP_FAULT)) /* at the descriptor just read */
				return set_fault(x, 1, XLATE_CLASS_IN, pf.level, pf.reason, 0, dpa);
		}
		ipa = l1.oa;
	}

	if (x->c2) {
		int step = c1 ? (int)c1->nlevels : 0;

		r = s2_walk(x, ipa, access & ~PT_PROT_U, step, XLATE_CLASS_IN, &l2);
		if (unlikely(r))
			return r;
	}
	if (unlikely(pending)) {
		r = s1_write_back(x, &pend);
		if (r)
			return r;
	}
	fill_res(res, x->c2 ? l2.oa : ipa, ipa, c1 ? &l1 : NULL, x->c2 ? &l2 : NULL);
	return XW_OK;
}

/* ---------------------------------------------------------------------- */
/* With caches                                                            */

static inline void rec_hit(struct xlate_record *rec, enum xlate_cache_id cache, int stage,
			   int level, int s1_step, uint64_t addr, uint64_t out)
{
	unsigned int n;

	if (!rec)
		return;
	n = rec->nhits++;
	if (n < XLATE_MAX_HITS)
		rec->hit[n] = (struct xlate_hit){ .cache = (uint8_t)cache,
						  .stage = (uint8_t)stage,
						  .level = (int8_t)level,
						  .s1_step = (int8_t)s1_step,
						  .addr = addr,
						  .out = out };
}

/*
 * Position @w at the descriptor of depth @depth for @in, in the table at
 * @table, with the permission limit @prot the levels above it imposed: the
 * state a walk from the root would have there.
 */
static inline void walk_resume(struct pt_walk *w, const struct pt_cfg *c, uint64_t in,
			       unsigned int access, unsigned int depth, uint64_t table,
			       unsigned int prot)
{
	pt_walk_init(w, c, in, access);
	w->depth = depth;
	w->desc_addr = table + (uint64_t)pt_index(c, depth, in) * 8;
	w->prot = prot;
}

/* The table a step just linked (w->depth already advanced): its base address. */
static inline uint64_t walk_table(const struct pt_walk *w, uint64_t in)
{
	return w->desc_addr - (uint64_t)pt_index(w->cfg, w->depth, in) * 8;
}

/* Begin a stage-2 walk of @ipa below the deepest level the walk cache knows. */
static enum pt_step s2_begin_cached(struct xctx *x, uint64_t ipa, unsigned int access,
				    int s1_step, struct pt_walk *w, struct pt_fault *pf)
{
	const struct pt_cfg *c = x->c2;

	for (int d = (int)c->nlevels - 2; x->wc2 && d >= 0; d--) {
		unsigned int lg = c->shift[d], prot;
		uint64_t table;

		if (xc_walk_lookup(x->cache, 1, (unsigned int)d, x->k1_s2, false,
				   ipa & ~mask_bits(lg), lg, &table, &prot)) {
			xc_count(x->cache, XC_G_WALK + PT_MAX_LEVELS + d, XC_HIT);
			walk_resume(w, c, ipa, access, (unsigned int)d + 1, table, prot);
			rec_hit(x->rec, XLATE_CACHE_WALK_S2, 2, pt_level(c, d + 1), s1_step, ipa,
				table);
			x->used = true;
			return PT_STEP_TABLE;
		}
		xc_count(x->cache, XC_G_WALK + PT_MAX_LEVELS + d, XC_MISS);
	}
	return pt_walk_begin_inline(c, x->root2, ipa, access, w, pf);
}

/* s2_walk() with the stage-2 walk cache, filling it and the IPA cache. */
static enum xw s2_walk_cached(struct xctx *x, uint64_t ipa, unsigned int access, int s1_step,
			      enum xlate_class cls, struct pt_leaf *leaf)
{
	const struct pt_cfg *c = x->c2;
	struct pt_walk w;
	struct pt_fault pf;
	enum pt_step st;

	st = s2_begin_cached(x, ipa, access, s1_step, &w, &pf);
	while (st == PT_STEP_TABLE) {
		unsigned int depth = w.depth;
		int level = pt_level(c, depth);
		uint64_t d;

		if (unlikely(!read_desc(c, x->mem, w.desc_addr, &d)))
			return set_fault(x, 2, cls, level, PT_FAULT_EXT_ABORT, ipa, w.desc_addr);
		x->reads++;
		rec_read(x->rec, 2, level, s1_step, w.desc_addr, ipa, d);
		w.wb_valid = false;
		st = pt_walk_step_inline(&w, d, leaf, &pf);
		if (unlikely(w.wb_valid)) {
			enum xw r = write_back(x, c, 2, cls, level, ipa, w.wb_addr, w.wb_old,
					       w.wb_new);

			if (r)
				return r;
		}
		if (st == PT_STEP_TABLE && x->wc2 && x->fill) {
			unsigned int lg = c->shift[depth];

			xc_walk_fill(x->cache, x->s0, 1, depth, x->k1_s2, false,
				     ipa & ~mask_bits(lg), lg, walk_table(&w, ipa), w.prot);
		}
	}
	if (unlikely(st != PT_STEP_LEAF))
		return set_fault(x, 2, cls, pf.level, pf.reason, ipa, pf.desc_addr);
	if (x->cache->ipa.sets && x->fill) {
		unsigned int grant = leaf->prot;

		/* A read may not stand for a write that must set dirty state. */
		if ((c->flags & PT_CFG_HW_AD) && !(access & PT_PROT_W))
			grant &= ~PT_PROT_W;
		xc_ipa_fill(x->cache, x->s0, x->vmid, ipa & ~(leaf->size - 1),
			    ilog2_u64(leaf->size), leaf->oa & ~(leaf->size - 1), leaf->prot, grant,
			    leaf->level);
	}
	return XW_OK;
}

/* Stage 2 for @ipa: the IPA cache, else a walk. */
static enum xw s2_xlate(struct xctx *x, uint64_t ipa, unsigned int access, int s1_step,
			enum xlate_class cls, struct pt_leaf *leaf)
{
	struct xlate_cache *xc = x->cache;
	struct xc_ipa_hit h;

	if (xc->ipa.sets) {
		if (xc_ipa_lookup(xc, x->vmid, ipa, &h) &&
		    !(access & (PT_PROT_R | PT_PROT_W | PT_PROT_X) & ~h.grant)) {
			uint64_t size = 1ULL << h.lg;

			*leaf = (struct pt_leaf){ .oa = h.pa | (ipa & (size - 1)),
						  .size = size,
						  .prot = h.prot,
						  .level = h.level };
			xc_count(xc, XC_G_IPA, XC_HIT);
			rec_hit(x->rec, XLATE_CACHE_IPA, 2, h.level, s1_step, ipa, leaf->oa);
			x->used = true;
			return XW_OK;
		}
		xc_count(xc, XC_G_IPA, XC_MISS);
	}
	return s2_walk_cached(x, ipa, access, s1_step, cls, leaf);
}

/* Begin the stage-1 walk below the deepest level the walk cache knows. */
static enum pt_step s1_begin_cached(struct xctx *x, uint64_t iova, unsigned int access,
				    struct pt_walk *w, struct pt_fault *pf)
{
	const struct pt_cfg *c = x->c1;

	for (int d = (int)c->nlevels - 2; x->wc1 && d >= 0; d--) {
		unsigned int lg = c->shift[d], prot;
		uint64_t table;

		if (xc_walk_lookup(x->cache, 0, (unsigned int)d, x->k1, x->user,
				   iova & ~mask_bits(lg), lg, &table, &prot)) {
			xc_count(x->cache, XC_G_WALK + d, XC_HIT);
			walk_resume(w, c, iova, access, (unsigned int)d + 1, table, prot);
			rec_hit(x->rec, XLATE_CACHE_WALK_S1, 1, pt_level(c, d + 1), d + 1, iova,
				table);
			x->used = true;
			return PT_STEP_TABLE;
		}
		xc_count(x->cache, XC_G_WALK + d, XC_MISS);
	}
	return pt_walk_begin_inline(c, x->root1, iova, access, w, pf);
}

/* Fill the IOTLB with a translation that just succeeded. */
static void tlb_fill(struct xctx *x, uint64_t iova, unsigned int access,
		     const struct xlate_result *res)
{
	const struct pt_cfg *c1 = x->c1, *c2 = x->c2;
	uint64_t size = res->size, off = iova & (size - 1);
	unsigned int grant = res->prot;
	uint64_t meta;

	/* A TCE window not aligned to its page: pages are not aligned IOVA ranges. */
	if (c1 && (c1->iova_base & (size - 1)))
		return;
	if (!(access & PT_PROT_W) &&
	    ((c1 && (c1->flags & PT_CFG_HW_AD)) || (c2 && (c2->flags & PT_CFG_HW_AD))))
		grant &= ~PT_PROT_W;
	meta = xc_tlb_meta(res->s1_prot, res->s2_prot, grant, res->s1_level, res->s2_level,
			   c1 ? ilog2_u64(res->s1_size) : 0, c2 ? ilog2_u64(res->s2_size) : 0);
	xc_tlb_fill(x->cache, x->s0, c1 ? x->k1 : x->k1_s2 | XC_K1_S2ONLY, c1 && x->user,
		    iova - off, ilog2_u64(size), res->pa - off, res->ipa - off, meta);
}

/* xlate_once() with the caches: see the file comment. */
static __attribute__((noinline)) enum xw xlate_once_cached(struct xctx *x, uint64_t iova,
							   unsigned int access,
							   struct xlate_result *res)
{
	const struct pt_cfg *c1 = x->c1;
	struct pt_leaf l1, l2;
	struct s1_wb pend;
	bool pending = false;
	uint64_t ipa = iova;
	enum xw r;

	if (c1) {
		struct pt_walk w;
		struct pt_fault pf;
		enum pt_step st;

		st = s1_begin_cached(x, iova, access, &w, &pf);
		if (unlikely(st == PT_STEP_FAULT))
			return set_fault(x, 1, XLATE_CLASS_IN, pf.level, pf.reason, 0, 0);
		while (st == PT_STEP_TABLE) {
			unsigned int depth = w.depth;
			int level = pt_level(c1, depth), step = (int)depth;
			uint64_t d, dipa = w.desc_addr, dpa;
			unsigned int s2_prot = PROT_ALL;

			if (x->c2) {
				r = s2_xlate(x, dipa, PT_PROT_R, step, XLATE_CLASS_TT, &l2);
				if (unlikely(r))
					return r;
				dpa = l2.oa;
				s2_prot = l2.prot;
			} else {
				dpa = dipa;
			}
			if (unlikely(!read_desc(c1, x->mem, dpa, &d)))
				return set_fault(x, 1, XLATE_CLASS_TT, level, PT_FAULT_EXT_ABORT,
						 dipa, dpa);
			x->reads++;
			rec_read(x->rec, 1, level, step, dpa, dipa, d);
			w.wb_valid = false;
			st = pt_walk_step_inline(&w, d, &l1, &pf);
			if (unlikely(w.wb_valid)) {
				pend = (struct s1_wb){ .ipa = w.wb_addr,
						       .pa = dpa,
						       .read_ipa = dipa,
						       .old = w.wb_old,
						       .val = w.wb_new,
						       .s2_prot = s2_prot,
						       .level = level,
						       .step = step };
				if (st == PT_STEP_LEAF) {
					pending = true;
				} else {
					r = s1_write_back(x, &pend);
					if (r)
						return r;
				}
			}
			if (unlikely(st == PT_STEP_FAULT))
				return set_fault(x, 1, XLATE_CLASS_IN, pf.level, pf.reason, 0, dpa);
			if (st == PT_STEP_TABLE && x->wc1 && x->fill) {
				unsigned int lg = c1->shift[depth];

				xc_walk_fill(x->cache, x->s0, 0, depth, x->k1, x->user,
					     iova & ~mask_bits(lg), lg, walk_table(&w, iova),
					     w.prot);
			}
		}
		ipa = l1.oa;
	}

	if (x->c2) {
		int step = c1 ? (int)c1->nlevels : 0;

		r = s2_xlate(x, ipa, access & ~PT_PROT_U, step, XLATE_CLASS_IN, &l2);
		if (unlikely(r))
			return r;
	}
	if (unlikely(pending)) {
		r = s1_write_back(x, &pend);
		if (r)
			return r;
	}
	fill_res(res, x->c2 ? l2.oa : ipa, ipa, c1 ? &l1 : NULL, x->c2 ? &l2 : NULL);
	if (x->cache->iotlb.sets && x->fill && (c1 || x->c2))
		tlb_fill(x, iova, access, res);
	return XW_OK;
}

/* The IOTLB key of the context of @cfg for @access; false when nothing is cacheable. */
static inline bool tlb_key(const struct xlate_cfg *cfg, unsigned int access, uint64_t *k1,
			   bool *user)
{
	if (likely(cfg->s1.cfg)) {
		*k1 = xc_key1(cfg->tag.vmid, cfg->tag.asid);
		*user = access & PT_PROT_U;
		return true;
	}
	*k1 = xc_key1(cfg->tag.vmid, 0) | XC_K1_S2ONLY;
	*user = false;
	return cfg->s2.cfg;
}

/* *res from an IOTLB hit, exactly as the walk that made the entry filled it. */
static inline __attribute__((always_inline)) void
tlb_res(const struct xlate_cfg *cfg, uint64_t iova, const struct xc_tlb_hit *h,
	struct xlate_result *res)
{
	uint64_t meta = h->meta, size = 1ULL << h->lg, off = iova & (size - 1);

	res->pa = h->pa + off;
	res->ipa = h->ipa + off;
	res->size = size;
	res->s1_prot = xc_tlb_p1(meta);
	res->s2_prot = xc_tlb_p2(meta);
	res->prot = res->s1_prot & res->s2_prot;
	res->s1_level = xc_tlb_l1(meta);
	res->s2_level = xc_tlb_l2(meta);
	res->s1_size = cfg->s1.cfg ? 1ULL << xc_tlb_lg1(meta) : 0;
	res->s2_size = cfg->s2.cfg ? 1ULL << xc_tlb_lg2(meta) : 0;
	res->reads = 0;
	res->iotlb_hit = true;
}

/*
 * The common IOTLB hit, straight-line: stage 1 on, the smallest entry size
 * present, a power-of-two number of sets, the entry in way 0 or 1 of its
 * set, no record. Anything else (or a miss) goes to tlb_hit(), which does
 * the same for every case. Same protocol as xc_tlb_probe().
 */
static inline __attribute__((always_inline)) bool
tlb_hit_fast(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	     struct xlate_result *res)
{
	struct xlate_cache *xc = cfg->cache;
	const struct xc_cset *s = &xc->iotlb;
	uint64_t m = __atomic_load_n(&s->sizes, __ATOMIC_RELAXED);
	uint64_t k1 = xc_key1(cfg->tag.vmid, cfg->tag.asid);
	unsigned int lg = (unsigned int)__builtin_ctzll(m | BIT(63));
	uint64_t page = iova >> lg, k0, stamp, pa, ipa, meta, size, off;
	const uint64_t *e;
	struct xc_hdr *h;
	uint32_t sq;

	if (unlikely(!m || !s->set_mask || !cfg->s1.cfg))
		return false;
	h = xc_hdr(s, (uint32_t)((page + (uint64_t)cfg->tag.vmid * XC_HASH_VMID +
				  (uint64_t)lg * XC_HASH_LG) & s->set_mask));
	k0 = (page << lg) | (uint64_t)lg << XC_K0_LG_SHIFT |
	     (access & PT_PROT_U ? XC_K0_USER : 0) | XC_K0_VALID;
	sq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	e = xc_ways(h);
	if (xc_ld(&e[XC_K0]) != k0 || xc_ld(&e[XC_K1]) != k1) {
		e += XC_TLB_NW;
		if (s->ways < 2 || xc_ld(&e[XC_K0]) != k0 || xc_ld(&e[XC_K1]) != k1)
			return false;
	}
	stamp = xc_ld(&e[XC_STAMP]);
	pa = xc_ld(&e[XC_TLB_PA]);
	ipa = xc_ld(&e[XC_TLB_IPA]);
	meta = xc_ld(&e[XC_TLB_META]);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (unlikely(__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != sq || (sq & 1)) ||
	    unlikely(stamp < xc_tlb_floor(xc, k1)) ||
	    unlikely(access & (PT_PROT_R | PT_PROT_W | PT_PROT_X) & ~xc_tlb_grant(meta)))
		return false;
	if (s->lru) {
		uint64_t o = __atomic_load_n(&h->lru, __ATOMIC_RELAXED);
		unsigned int w = e == xc_ways(h) ? 0 : 1;

		if ((o & 15) != w)
			__atomic_store_n(&h->lru, xc_lru_promote(o, w), __ATOMIC_RELAXED);
	}
	size = 1ULL << lg;
	off = iova & (size - 1);
	res->pa = pa + off;
	res->ipa = ipa + off;
	res->size = size;
	res->s1_prot = xc_tlb_p1(meta);
	res->s2_prot = xc_tlb_p2(meta);
	res->prot = res->s1_prot & res->s2_prot;
	res->s1_level = xc_tlb_l1(meta);
	res->s2_level = xc_tlb_l2(meta);
	res->s1_size = 1ULL << xc_tlb_lg1(meta);
	res->s2_size = cfg->s2.cfg ? 1ULL << xc_tlb_lg2(meta) : 0;
	res->reads = 0;
	res->iotlb_hit = true;
	xc_count(xc, XC_G_IOTLB, XC_HIT);
	return true;
}

/*
 * The IOTLB hit path: no lock, no store but the LRU order and a counter.
 * Fills *res exactly as the walk that made the entry did.
 */
static inline __attribute__((always_inline)) bool
tlb_hit(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	struct xlate_result *res, struct xlate_record *rec)
{
	struct xlate_cache *xc = cfg->cache;
	struct xc_tlb_hit h;
	uint64_t k1;
	bool user;

	if (unlikely(!tlb_key(cfg, access, &k1, &user)))
		return false;
	if (unlikely(!xc_tlb_lookup(xc, k1, user, iova, &h)) ||
	    unlikely(access & (PT_PROT_R | PT_PROT_W | PT_PROT_X) & ~xc_tlb_grant(h.meta))) {
		if (xc->iotlb.sets)
			xc_count(xc, XC_G_IOTLB, XC_MISS);
		return false;
	}
	tlb_res(cfg, iova, &h, res);
	xc_count(xc, XC_G_IOTLB, XC_HIT);
	if (rec) {
		rec->n = 0;
		rec->nhits = 0;
		rec_hit(rec, XLATE_CACHE_IOTLB, 0, -1, -1, iova, res->pa);
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Entry points                                                           */

static void ctx_init(struct xctx *x, const struct xlate_cfg *cfg, struct xlate_fault *fault,
		     struct xlate_record *rec, uint64_t input, unsigned int access)
{
	x->mem = cfg->mem;
	x->c1 = cfg->s1.cfg;
	x->c2 = cfg->s2.cfg;
	x->root1 = cfg->s1.root;
	x->root2 = cfg->s2.root;
	x->rec = rec;
	x->fault = fault;
	x->input = input;
	x->reads = 0;
	x->cache = cfg->cache;
	if (x->cache) {
		x->vmid = cfg->tag.vmid;
		x->k1 = xc_key1(cfg->tag.vmid, cfg->tag.asid);
		x->k1_s2 = xc_key1(cfg->tag.vmid, 0);
		x->user = x->c1 && (access & PT_PROT_U);
		/* Walk caches key inputs from 0: not for a TCE window at another base. */
		x->wc1 = x->c1 && x->cache->walk[0][0].sets && !x->c1->iova_base;
		x->wc2 = x->c2 && x->cache->walk[1][0].sets && !x->c2->iova_base;
		x->used = false;
	}
}

/* Everything but an IOTLB hit: the walk, its retries, and the fault report. */
static __attribute__((noinline)) enum pt_fault_reason
xlate_walk(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	   struct xlate_result *res, struct xlate_fault *fault, struct xlate_record *rec)
{
	struct xlate_fault fdummy;
	struct xlate_result rdummy;
	struct xctx x;
	int attempt = 0;

	if (!res)
		res = &rdummy;
	ctx_init(&x, cfg, fault ? fault : &fdummy, rec, iova, access);
	/*
	 * From here to the return the walk may read a table that an unmap is
	 * retiring: a read-side section of util/epoch.h (an IOTLB hit reads
	 * no table and takes none).
	 */
	epoch_enter();
	while (attempt < XLATE_ATTEMPTS) {
		enum xw r;

		if (rec) {
			rec->n = 0;
			rec->nhits = 0;
		}
		x.reads = 0;
		if (x.cache) {
			x.used = false;
			x.s0 = xc_begin(x.cache);
			x.fill = xc_may_fill(x.cache, x.k1, x.c1);
			r = xlate_once_cached(&x, iova, access, res);
		} else {
			r = xlate_once(&x, iova, access, res);
		}
		if (likely(r == XW_OK)) {
			epoch_exit();
			res->reads = x.reads;
			res->iotlb_hit = false;
			trace_xlate_walk(iova, access, res->pa, res->size);
			return PT_OK;
		}
		if (r == XW_FAULT) {
			if (!x.cache || !x.used)
				goto fault;
			/* Cached state led to a fault: settle it with an uncached walk. */
			x.cache = NULL;
			continue;
		}
		attempt++;
	}
fault:
	epoch_exit();
	trace_xlate_fault(x.fault->stage, x.fault->cls, x.fault->level, x.fault->reason, iova,
			  x.fault->ipa);
	return x.fault->reason;
}

/* xlate() with caches past the straight-line hit: every IOTLB case, then the walk. */
static __attribute__((noinline)) enum pt_fault_reason
xlate_cached(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	     struct xlate_result *res, struct xlate_fault *fault, struct xlate_record *rec)
{
	struct xlate_result dummy;

	if (!res)
		res = &dummy;
	if (tlb_hit(cfg, iova, access, res, rec)) {
		trace_xlate_walk(iova, access, res->pa, res->size);
		return PT_OK;
	}
	return xlate_walk(cfg, iova, access, res, fault, rec);
}

enum pt_fault_reason xlate(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
			   struct xlate_result *res, struct xlate_fault *fault,
			   struct xlate_record *rec)
{
	if (cfg->cache) {
		if (likely(res && !rec) && tlb_hit_fast(cfg, iova, access, res)) {
			trace_xlate_walk(iova, access, res->pa, res->size);
			return PT_OK;
		}
		return xlate_cached(cfg, iova, access, res, fault, rec);
	}
	return xlate_walk(cfg, iova, access, res, fault, rec);
}

unsigned int xlate_batch(const struct xlate_cfg *cfg, const uint64_t *iova, unsigned int n,
			 unsigned int access, struct xlate_result *res, struct xlate_fault *fault,
			 enum pt_fault_reason *ret)
{
	const unsigned int need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	struct xlate_cache *xc = cfg->cache;
	unsigned int ok = 0, hits = 0;
	struct xc_tlb_ctx t = { 0 };
	bool on = false, user;
	uint64_t k1;

	if (xc && tlb_key(cfg, access, &k1, &user))
		on = xc_tlb_ctx_init(xc, k1, user, &t);
	for (unsigned int i = 0; i < n; i++) {
		struct xc_tlb_hit h;

		if (on && xc_tlb_probe(&t, iova[i], &h) &&
		    likely(!(need & ~xc_tlb_grant(h.meta)))) {
			tlb_res(cfg, iova[i], &h, &res[i]);
			trace_xlate_walk(iova[i], access, res[i].pa, res[i].size);
			ret[i] = PT_OK;
			hits++;
			ok++;
			continue;
		}
		ret[i] = xlate_walk(cfg, iova[i], access, &res[i], fault ? &fault[i] : NULL, NULL);
		ok += ret[i] == PT_OK;
	}
	if (on) {
		xc_count_n(xc, XC_G_IOTLB, XC_HIT, hits);
		xc_count_n(xc, XC_G_IOTLB, XC_MISS, n - hits);
	} else if (xc && xc->iotlb.sets) {
		xc_count_n(xc, XC_G_IOTLB, XC_MISS, n);
	}
	return ok;
}

enum pt_fault_reason xlate_s2(const struct xlate_cfg *cfg, uint64_t ipa, unsigned int access,
			      enum xlate_class cls, uint64_t input_addr, uint64_t *pa,
			      struct xlate_fault *fault, struct xlate_record *rec)
{
	struct xlate_fault fdummy;
	struct pt_leaf leaf;
	struct xctx x;
	int attempt = 0;

	if (rec) {
		rec->n = 0;
		rec->nhits = 0;
	}
	if (!cfg->s2.cfg) {
		*pa = ipa;
		return PT_OK;
	}
	ctx_init(&x, cfg, fault ? fault : &fdummy, rec, input_addr, 0);
	epoch_enter(); /* as in xlate_walk() */
	while (attempt < XLATE_ATTEMPTS) {
		enum xw r;

		if (rec) {
			rec->n = 0;
			rec->nhits = 0;
		}
		if (x.cache) {
			x.used = false;
			x.s0 = xc_begin(x.cache);
			x.fill = xc_may_fill(x.cache, x.k1_s2, false);
			r = s2_xlate(&x, ipa, access & ~PT_PROT_U, -1, cls, &leaf);
		} else {
			r = s2_walk_cold(&x, ipa, access & ~PT_PROT_U, -1, cls, &leaf);
		}
		if (likely(r == XW_OK)) {
			epoch_exit();
			*pa = leaf.oa;
			return PT_OK;
		}
		if (r == XW_FAULT) {
			if (!x.cache || !x.used) {
				epoch_exit();
				return x.fault->reason;
			}
			x.cache = NULL;
			continue;
		}
		attempt++;
	}
	epoch_exit();
	return PT_FAULT_EXT_ABORT;
}

const char *xlate_class_name(enum xlate_class cls)
{
	switch (cls) {
	case XLATE_CLASS_CD:
		return "CD";
	case XLATE_CLASS_TT:
		return "TT";
	case XLATE_CLASS_IN:
		return "IN";
	}
	return "?";
}
