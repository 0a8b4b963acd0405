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
 * the table permission limits above them, and in a nested context the
 * table's PA as well: combined entries, so the first descriptor read after
 * the hit needs no stage-2 translation; stage-2 entries hold table PAs),
 * and every other stage-1 table IPA and the output IPA go through the IPA
 * cache before a stage-2 walk. What it walked is filled in as it goes:
 * walk-cache entries after each table step (and after that step's
 * access-flag update; nested, a stage-1 entry waits for the next step's
 * stage-2 translation, which gives its table's PA), the IPA cache after
 * each stage-2 leaf, the IOTLB after the whole translation succeeded
 * (after the deferred stage-1 update). The IPA cache keeps what the IOTLB
 * does not: every stage-1 table's stage-2 leaf, but an output IPA's only
 * when it is larger than the stage-1 leaf (s2_xlate()), and it is looked
 * up at those sizes alone; with no IOTLB it keeps every leaf. Every fill
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
 * context's IOTLB state once for many addresses. A miss without a record
 * first tries walk_short(), the usual warm case in a few steps (stage 1
 * from the deepest walk-cache level, IPA-cache answers, at most one
 * stage-2 read), which counts and fills exactly what the general walk
 * would and otherwise leaves everything to it. The uncached path is the
 * code below unchanged (xlate_once, s2_walk), reached through one more
 * test of cfg->cache.
 *
 * The hit path. The usual case, an IOTLB of the default geometry holding
 * 4K entries alone, has code of its own: tlb_hit_4k(), inline in xlate()
 * itself, and batch_4k() for xlate_batch(), where every shift and offset
 * is a constant and the key comes straight from the configuration.
 * tlb_hit_4k() calls nothing (an enabled trace event and a thread's first
 * count, which assigns its counter shard, take the general path), so the
 * arguments stay in their registers for the jump to a fallback, and it
 * tells the way it hit from the entry's address (a 4-way IOTLB's entry
 * blocks are aligned to their 256 bytes); every other case of xlate() is
 * a jump to a function of its own. The miss path (xlate_miss()) has two
 * copies, stage 1 alone and any other, so that the stage-1 one carries no
 * stage-2 code; on success it fills the IOTLB inline (cache_int.h:
 * xc_tlb_fill_inline(), the protocol of cache.c unchanged) and, stage 1
 * alone, counts the walk-cache hit, the IOTLB miss and fill through one
 * look-up of its counter shard. Otherwise
 * (tlb_hit_fast() in xlate_sizes(), batch_hits()) the sizes are probed
 * with several sizes present the one hinted for the input's region first
 * (cache_int.h: a racy byte per region, so a mix of pages and blocks
 * costs one probe; a wrong hint costs probes, not answers: live entries of
 * two sizes over one address exist only when tables changed without an
 * invalidation, and then either answer is one a TLB may give);
 * the set's sequence count is loaded (acquire), the way is
 * found by key0 in the set's tag line and key1 in its entry, the stamp is
 * checked (against the newest IOTLB flush for one call, whose test is one
 * load; against the context's floor, read once, for a batch) and the
 * grant, then the entry's words go straight into *res and the count is
 * re-checked (after an acquire fence); a change sends the lookup to the
 * general path, which rewrites *res or walks. The default IOTLB geometry
 * (4 ways, a power-of-two number of sets) is unrolled with constant
 * offsets; the others take the general loop. A translation that starts
 * after an invalidation returned is ordered after it by the caller, so it
 * sees the removal (the store of 0 to the tag) or the flush stamp, and
 * falls back to a walk of the current tables (cache.c has the whole
 * argument).
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

/*
 * An IOTLB entry's answer starts with these fields of struct xlate_result,
 * in this order (struct xc_tlb_img): a hit copies them as they are.
 */
#define RES_OFF(f) offsetof(struct xlate_result, f)
_Static_assert(RES_OFF(s1_prot) == RES_OFF(prot) + 4 && RES_OFF(s2_prot) == RES_OFF(prot) + 8 &&
		       RES_OFF(s1_level) == RES_OFF(prot) + 12 &&
		       RES_OFF(s2_level) == RES_OFF(prot) + 16 && RES_OFF(prot) % 8 == 0,
	       "struct xlate_result and struct xc_tlb_img disagree");

/* reads = 1 with iotlb_hit = false as one word (the short walk's answer). */
_Static_assert(RES_OFF(iotlb_hit) == RES_OFF(reads) + 4 &&
		       sizeof(struct xlate_result) == RES_OFF(reads) + 8 && RES_OFF(reads) % 8 == 0,
	       "struct xlate_result: reads and iotlb_hit share a word");
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RES_WALK1_TAIL (1ULL << 32)
#else
#define RES_WALK1_TAIL 1ULL
#endif

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
	/*
	 * A combined stage-1 walk-cache hit (s1_begin_cached): the PA of the
	 * first descriptor to read, and stage 2's permissions on its page.
	 */
	bool comb;
	unsigned int comb_s2p;
	uint64_t comb_dpa;
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
 * One step of a stage-2 walk for @ipa at the table descriptor *@w points
 * to: read it (counted, recorded as serving stage-1 depth @s1_step),
 * decode it into *@st (*@leaf, *@pf), and swap it when the format asks
 * for an update. XW_OK to go on, else what ends the walk (the fault set).
 */
static inline __attribute__((always_inline)) enum xw
s2_step(struct xctx *x, struct pt_walk *w, uint64_t ipa, int s1_step, enum xlate_class cls,
	struct pt_leaf *leaf, struct pt_fault *pf, enum pt_step *st)
{
	const struct pt_cfg *c = x->c2;
	int level = pt_level(c, w->depth);
	uint64_t d;

	if (unlikely(!read_desc(c, x->mem, w->desc_addr, &d)))
		return set_fault(x, 2, cls, level, PT_FAULT_EXT_ABORT, ipa, w->desc_addr);
	x->reads++;
	rec_read(x->rec, 2, level, s1_step, w->desc_addr, ipa, d);
	w->wb_valid = false;
	*st = pt_walk_step_inline(w, d, leaf, pf);
	if (unlikely(w->wb_valid))
		return write_back(x, c, 2, cls, level, ipa, w->wb_addr, w->wb_old, w->wb_new);
	return XW_OK;
}

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
		enum xw r = s2_step(x, &w, ipa, s1_step, cls, leaf, &pf, &st);

		if (r)
			return r;
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

/* The hit just recorded came from a combined entry that also gave @pa. */
static inline void rec_hit_pa(struct xlate_record *rec, uint64_t pa)
{
	if (rec && rec->nhits - 1 < XLATE_MAX_HITS) {
		rec->hit[rec->nhits - 1].combined = 1;
		rec->hit[rec->nhits - 1].out_pa = pa;
	}
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

/*
 * s2_walk() with the stage-2 walk cache, filling it, and the IPA cache
 * with a leaf larger than 2^@over bytes (s2_xlate()).
 */
static enum xw s2_walk_cached(struct xctx *x, uint64_t ipa, unsigned int access, int s1_step,
			      enum xlate_class cls, struct pt_leaf *leaf, unsigned int over)
{
	const struct pt_cfg *c = x->c2;
	struct pt_walk w;
	struct pt_fault pf;
	enum pt_step st;

	st = s2_begin_cached(x, ipa, access, s1_step, &w, &pf);
	while (st == PT_STEP_TABLE) {
		unsigned int depth = w.depth;
		enum xw r = s2_step(x, &w, ipa, s1_step, cls, leaf, &pf, &st);

		if (r)
			return r;
		if (st == PT_STEP_TABLE && x->wc2 && x->fill) {
			unsigned int lg = c->shift[depth];

			xc_walk_fill(x->cache, x->s0, 1, depth, x->k1_s2, false,
				     ipa & ~mask_bits(lg), lg, walk_table(&w, ipa), w.prot);
		}
	}
	if (unlikely(st != PT_STEP_LEAF))
		return set_fault(x, 2, cls, pf.level, pf.reason, ipa, pf.desc_addr);
	if (x->cache->ipa.sets && x->fill && leaf->size >> over > 1) {
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

/*
 * Stage 2 for @ipa: the IPA cache, else a walk. The IPA cache serves and
 * keeps only leaves larger than 2^@over bytes: 0 (any) for a stage-1
 * table's IPA; for an output IPA whose translation goes into the IOTLB,
 * the stage-1 leaf's size (s2_over()), since a stage-2 leaf no larger
 * than it would only duplicate the combined IOTLB entry filled from the
 * same walk.
 */
static enum xw s2_xlate(struct xctx *x, uint64_t ipa, unsigned int access, int s1_step,
			enum xlate_class cls, struct pt_leaf *leaf, unsigned int over)
{
	struct xlate_cache *xc = x->cache;
	struct xc_ipa_hit h;
	uint64_t m;

	if (xc->ipa.sets) {
		/* (No size to probe is a miss too: the count is of look-ups.) */
		m = xc_ipa_sizes(xc, over);
		if (m && xc_ipa_lookup_m(xc, x->vmid, ipa, m, &h) &&
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
	return s2_walk_cached(x, ipa, access, s1_step, cls, leaf, over);
}

/*
 * The @over of s2_xlate() for the output IPA of a translation whose stage-1
 * leaf is 2^@lg1 bytes (@c1 NULL: none): what the IOTLB does not hold.
 */
static inline unsigned int s2_over(const struct xlate_cache *xc, const struct pt_cfg *c1,
				   unsigned int lg1)
{
	if (!xc->iotlb.sets)
		return 0;
	return c1 ? lg1 : 63;
}

/* Begin the stage-1 walk below the deepest level the walk cache knows. */
static enum pt_step s1_begin_cached(struct xctx *x, uint64_t iova, unsigned int access,
				    struct pt_walk *w, struct pt_fault *pf)
{
	const struct pt_cfg *c = x->c1;

	for (int d = (int)c->nlevels - 2; x->wc1 && d >= 0; d--) {
		unsigned int lg = c->shift[d];
		uint64_t table, meta;

		if (xc_walk_lookup_m(x->cache, 0, (unsigned int)d, x->k1, x->user,
				     iova & ~mask_bits(lg), lg, &table, &meta)) {
			xc_count(x->cache, XC_G_WALK + d, XC_HIT);
			walk_resume(w, c, iova, access, (unsigned int)d + 1, table,
				    (unsigned int)(meta & XC_WALK_M_PROT));
			rec_hit(x->rec, XLATE_CACHE_WALK_S1, 1, pt_level(c, d + 1), d + 1, iova,
				table);
			if (x->c2 && (meta & XC_WALK_M_PA)) {
				rec_hit_pa(x->rec, meta & XC_WALK_M_PA_MASK);
				x->comb = true;
				x->comb_dpa = (meta & XC_WALK_M_PA_MASK) + (w->desc_addr - table);
				x->comb_s2p = (unsigned int)(meta >> XC_WALK_M_S2P_SHIFT) & 15;
			}
			x->used = true;
			return PT_STEP_TABLE;
		}
		xc_count(x->cache, XC_G_WALK + d, XC_MISS);
	}
	return pt_walk_begin_inline(c, x->root1, iova, access, w, pf);
}

/*
 * The meta word of the stage-1 walk-cache entry for @table (an IPA, a
 * table of depth @depth) with permission limit @prot, now that the first
 * descriptor read from it, at IPA @dipa, went through stage 2 to @l2:
 * combined (the table's PA) when stage 2 maps the whole table with that
 * one leaf, else the limit alone.
 */
static inline uint64_t s1_walk_meta(const struct xctx *x, unsigned int depth, uint64_t table,
				    unsigned int prot, uint64_t dipa, const struct pt_leaf *l2)
{
	uint64_t bytes = 8ULL << x->c1->bits[depth], lmask = ~(l2->size - 1);
	uint64_t tpa = l2->oa - (dipa - table);
	unsigned int s2p = l2->prot;

	if (bytes > l2->size || ((table ^ dipa) & lmask) || (((table + bytes - 1) ^ dipa) & lmask) ||
	    (tpa & ~XC_WALK_M_PA_MASK))
		return prot & XC_WALK_M_PROT;
	/* A stage-1 update there must still walk stage 2 to set its dirty state. */
	if (x->c2->flags & PT_CFG_HW_AD)
		s2p &= ~PT_PROT_W;
	return xc_walk_meta_comb(prot, tpa, s2p);
}

/*
 * Fill the IOTLB with a translation that just succeeded: in context @k1
 * (stage 1 on: combined, else stage-2-only), for a walk that began at @s0.
 */
static inline __attribute__((always_inline)) void
tlb_fill_ctx(struct xlate_cache *xc, uint64_t s0, uint64_t k1, uint64_t k1_s2, bool user,
	     const struct pt_cfg *c1, const struct pt_cfg *c2, uint64_t iova, unsigned int access,
	     const struct xlate_result *res, const bool inl)
{
	uint64_t size = res->size, off = iova & (size - 1);
	struct xc_tlb_img img = { .grant = (uint8_t)res->prot,
				  .lg1 = (uint8_t)(c1 ? ilog2_u64(res->s1_size) : 0),
				  .lg2 = (uint8_t)(c2 ? ilog2_u64(res->s2_size) : 0),
				  .s1_size = res->s1_size };

	/* A TCE window not aligned to its page: pages are not aligned IOVA ranges. */
	if (c1 && (c1->iova_base & (size - 1)))
		return;
	if (!(access & PT_PROT_W) &&
	    ((c1 && (c1->flags & PT_CFG_HW_AD)) || (c2 && (c2->flags & PT_CFG_HW_AD))))
		img.grant &= (uint8_t)~PT_PROT_W;
	/* prot, s1_prot, s2_prot, s1_level, s2_level: as the result has them. */
	memcpy(&img, (const uint8_t *)res + RES_OFF(prot), offsetof(struct xc_tlb_img, grant));
	if (inl) {
		uint64_t w[XC_TLB_IMGW];
		int r;

		memcpy(w, &img, sizeof(w));
		r = xc_tlb_fill_inline(xc, s0, c1 ? k1 : k1_s2 | XC_K1_S2ONLY, c1 && user,
				       iova - off, ilog2_u64(size), res->pa - off, res->ipa - off,
				       w, c1 ? img.s1_level : img.s2_level);

		if (r >= 0)
			xc_count_fill(xc, XC_G_IOTLB, r);
	}
	else
		xc_tlb_fill_img(xc, s0, c1 ? k1 : k1_s2 | XC_K1_S2ONLY, c1 && user, iova - off,
				ilog2_u64(size), res->pa - off, res->ipa - off, &img);
}

static void tlb_fill(struct xctx *x, uint64_t iova, unsigned int access,
		     const struct xlate_result *res)
{
	tlb_fill_ctx(x->cache, x->s0, x->k1, x->k1_s2, x->user, x->c1, x->c2, iova, access, res,
		     false);
}

/*
 * One attempt at the whole translation. With @cached (a constant: the
 * compiler makes one copy per value), the walks start from the walk caches
 * and fill them, stage 2 answers from the IPA cache, and the result goes
 * into the IOTLB; without, every descriptor is read (the no-cache path,
 * whose read counts the tests assert).
 */
static inline __attribute__((always_inline)) enum xw
xlate_once_gen(struct xctx *x, uint64_t iova, unsigned int access, struct xlate_result *res,
	       const bool cached)
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
		/* Nested: a stage-1 walk-cache fill waits for its table's PA. */
		struct {
			bool on;
			unsigned int depth, prot;
			uint64_t table;
		} wf = { false, 0, 0, 0 };

		if (cached) {
			x->comb = false;
			st = s1_begin_cached(x, iova, access, &w, &pf);
		} else {
			st = pt_walk_begin_inline(c1, x->root1, iova, access, &w, &pf);
		}
		if (unlikely(st == PT_STEP_FAULT)) /* input out of range, root too large */
			return set_fault(x, 1, XLATE_CLASS_IN, pf.level, pf.reason, 0, 0);
		while (likely(st == PT_STEP_TABLE)) {
			unsigned int depth = w.depth;
			int level = pt_level(c1, depth), step = (int)depth;
			uint64_t d, dipa = w.desc_addr, dpa;
			unsigned int s2_prot = PROT_ALL;

			if (cached && x->c2 && x->comb) {
				/* A combined walk-cache entry: the table's PA is known. */
				x->comb = false;
				dpa = x->comb_dpa;
				s2_prot = x->comb_s2p;
			} else if (x->c2) {
				r = cached ? s2_xlate(x, dipa, PT_PROT_R, step, XLATE_CLASS_TT, &l2, 0)
					   : s2_walk(x, dipa, PT_PROT_R, step, XLATE_CLASS_TT, &l2);
				if (unlikely(r))
					return r;
				dpa = l2.oa;
				s2_prot = l2.prot;
				if (cached && wf.on) {
					unsigned int lg = c1->shift[wf.depth];

					wf.on = false;
					xc_walk_fill(x->cache, x->s0, 0, wf.depth, x->k1, x->user,
						     iova & ~mask_bits(lg), lg, wf.table,
						     s1_walk_meta(x, depth, wf.table, wf.prot, dipa,
								  &l2));
				}
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
			if (cached && st == PT_STEP_TABLE && x->wc1 && x->fill) {
				unsigned int lg = c1->shift[depth];

				if (x->c2)
					wf = (__typeof__(wf)){ true, depth, w.prot,
							       walk_table(&w, iova) };
				else
					xc_walk_fill(x->cache, x->s0, 0, depth, x->k1, x->user,
						     iova & ~mask_bits(lg), lg,
						     walk_table(&w, iova), w.prot);
			}
		}
		ipa = l1.oa;
	}

	if (x->c2) {
		int step = c1 ? (int)c1->nlevels : 0;

		r = cached ? s2_xlate(x, ipa, access & ~PT_PROT_U, step, XLATE_CLASS_IN, &l2,
				      s2_over(x->cache, c1, c1 ? ilog2_u64(l1.size) : 0))
			   : s2_walk(x, ipa, access & ~PT_PROT_U, step, XLATE_CLASS_IN, &l2);
		if (unlikely(r))
			return r;
	}
	if (unlikely(pending)) {
		r = s1_write_back(x, &pend);
		if (r)
			return r;
	}
	fill_res(res, x->c2 ? l2.oa : ipa, ipa, c1 ? &l1 : NULL, x->c2 ? &l2 : NULL);
	if (cached && x->cache->iotlb.sets && x->fill && (c1 || x->c2))
		tlb_fill(x, iova, access, res);
	return XW_OK;
}

static enum xw xlate_once(struct xctx *x, uint64_t iova, unsigned int access,
			  struct xlate_result *res)
{
	return xlate_once_gen(x, iova, access, res, false);
}

/* xlate_once() with the caches: see the file comment. */
static __attribute__((noinline)) enum xw xlate_once_cached(struct xctx *x, uint64_t iova,
							   unsigned int access,
							   struct xlate_result *res)
{
	return xlate_once_gen(x, iova, access, res, true);
}

/*
 * What every short walk counts, through one look-up of the counter shard:
 * the walk-cache hit of group @walk_grp it resumed from, the IOTLB's miss,
 * and the IOTLB fill xc_tlb_fill_inline() returned @r for. Returns the
 * shard, for the caller's own counters.
 */
static inline __attribute__((always_inline)) uint64_t *short_count(struct xlate_cache *xc,
								   unsigned int walk_grp, int r)
{
	uint64_t *ctr = xc_ctrs(xc);

	xc_ctr_add(ctr, walk_grp, XC_HIT, 1);
	xc_ctr_add(ctr, XC_G_IOTLB, XC_MISS, 1);
	if (r >= 0) {
		xc_ctr_add(ctr, XC_G_IOTLB, XC_FILL, 1);
		xc_ctr_add(ctr, XC_G_IOTLB, XC_EVICT, (uint64_t)r);
	}
	return ctr;
}

/*
 * The end of walk_short() for stage 1 alone, from the leaf's fields (@oa
 * the output address of @iova, 2^@lg1 bytes, @prot, @level): *res as
 * fill_res() makes it, the IOTLB entry (tlb_fill_ctx()'s, straight from
 * the leaf, not read back from *res) and the counters. Inline twice, so the
 * specialised decode's constant size and level fold.
 */
static inline __attribute__((always_inline)) bool
short_s1_end(struct xlate_cache *xc, uint64_t s0, uint64_t k1, const struct pt_cfg *c1,
	     uint64_t iova, unsigned int access, unsigned int depth, struct xlate_result *res,
	     uint64_t oa, unsigned int lg1, unsigned int prot, int level)
{
	const uint64_t size = 1ULL << lg1, base = iova & ~(size - 1);
	uint8_t *rb = (uint8_t *)res;
	unsigned int grant = prot;
	uint64_t img[XC_TLB_IMGW], w;
	int r;

	if (!(access & PT_PROT_W) && (c1->flags & PT_CFG_HW_AD))
		grant &= ~PT_PROT_W;
	xc_tlb_img_words(img, prot, prot, PROT_ALL, level, -1, grant, lg1, 0, size);
	/* fill_res(), reads 1, no IOTLB hit: the entry's first words are *res's fields. */
	res->pa = oa;
	res->ipa = oa;
	res->size = size;
	memcpy(rb + RES_OFF(prot), &img[0], 8);	   /* prot, s1_prot */
	memcpy(rb + RES_OFF(s2_prot), &img[1], 8); /* s2_prot (PROT_ALL), s1_level */
	res->s2_level = -1;
	res->s1_size = size;
	res->s2_size = 0;
	w = RES_WALK1_TAIL;
	memcpy(rb + RES_OFF(reads), &w, 8); /* reads 1, iotlb_hit false */
	if (!xc->iotlb.sets) {
		xc_count(xc, XC_G_WALK + depth, XC_HIT);
		return true;
	}
	r = xc_tlb_fill_inline(xc, s0, k1, access & PT_PROT_U, base, lg1, oa & ~(size - 1),
			       oa & ~(size - 1), img, level);
	if (likely(r >= 0))
		xc_sw_add(xc_ctrs(xc), XC_SW_S1 + depth * 2 + (unsigned int)r);
	else
		short_count(xc, XC_G_WALK + depth, r);
	return true;
}

/*
 * One 8-byte descriptor at @pa (aligned by construction: a table's index),
 * or false; in CPU order (PT_FAST_* formats).
 */
static inline __attribute__((always_inline)) bool
read_desc_aligned(const struct pt_mem *mem, uint64_t pa, uint64_t *d)
{
	const uint64_t *p;
	uint64_t off;

	/* pt_mem_ptr(), the pointer tested only when it comes from the slow path. */
	if (likely(pt_mem_first(mem, pa, 8, &off)))
		p = (const uint64_t *)((uintptr_t)mem->region[0].host + (uintptr_t)off);
	else if (unlikely(!(p = pt_mem_ptr_slow(mem, pa, 8))))
		return false;
	*d = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return true;
}

/*
 * The generic step of a short walk at stage 2: @ipa's descriptor at depth
 * @depth2 + 1 of @table (below a stage-2 walk-cache hit, with its
 * permission limit @prot), read and decoded by the format into *@leaf.
 * False for anything but a leaf that needs no descriptor update (the
 * general walk does the rest).
 */
static inline __attribute__((always_inline)) bool
short_s2_step(const struct pt_cfg *c2, const struct pt_mem *mem, uint64_t ipa,
	      unsigned int access, unsigned int depth2, uint64_t table, unsigned int prot,
	      struct pt_leaf *leaf)
{
	struct pt_fault pf;
	struct pt_walk w;
	uint64_t d;

	walk_resume(&w, c2, ipa, access & ~PT_PROT_U, depth2 + 1, table, prot);
	if (unlikely(!read_desc(c2, mem, w.desc_addr, &d)))
		return false;
	w.wb_valid = false;
	return pt_walk_step_inline(&w, d, leaf, &pf) == PT_STEP_LEAF && likely(!w.wb_valid);
}

/*
 * walk_short(), the usual IOTLB miss with warm caches, short: stage 1 resumed at its
 * leaf level from the deepest walk-cache level, the leaf table's IPA
 * answered by the IPA cache, one descriptor read, and the output IPA (with
 * stage 2) answered by the IPA cache or by one read below the deepest
 * stage-2 walk-cache level. The same steps as xlate_once_cached() takes
 * then, without its generality; the moment anything else would happen (a
 * walk-cache miss, a table, a fault, a descriptor update, an invalidation
 * under way) it gives up having counted and filled nothing (false), and
 * the general walk starts over. On success it counts and fills what the
 * general walk would have, in the same order. The caller brackets it in a
 * read-side section of util/epoch.h (it follows walk-cache entries to
 * tables, as the general walk does).
 */
static inline __attribute__((always_inline)) bool
walk_short_gen(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	       struct xlate_result *res, const bool nested)
{
	/* (@nested false: stage 2 is off, and its code is left out.) */
	const unsigned int need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	struct xlate_cache *xc = cfg->cache;
	const struct pt_cfg *c1 = cfg->s1.cfg, *c2 = nested ? cfg->s2.cfg : NULL;
	const uint32_t vmid = cfg->tag.vmid;
	uint64_t k1 = xc_key1(vmid, cfg->tag.asid), s0, table, dpa, d, ipa, meta, m = 0;
	bool user = access & PT_PROT_U, s2_walked = false, s1_4k, table_ipa = false;
	unsigned int depth, depth2 = 0, lg, prot, lprot, reads = 1, over = 0;
	struct pt_leaf l1, l2;
	struct xc_ipa_hit ih;
	struct pt_fault pf;
	struct pt_walk w;

	if (!c1 || c1->iova_base || c1->nlevels < 2 || !xc->walk[0][0].sets ||
	    (c2 && !xc->ipa.sets))
		return false;
	s0 = xc_begin(xc);
	if (!xc_may_fill(xc, s0, k1, true))
		return false;
	depth = c1->nlevels - 2;
	lg = c1->shift[depth];
	if (!xc_walk_lookup_m(xc, 0, depth, k1, user, iova & ~mask_bits(lg), lg, &table, &meta))
		return false;
	prot = (unsigned int)(meta & XC_WALK_M_PROT);
	s1_4k = c1->fast & PT_FAST_VMSA4K_S1;
	if (!nested && likely(s1_4k)) {
		/*
		 * Stage 1 alone, a 4K granule: the leaf descriptor's address
		 * with pt_index()'s constants. The table came from a table
		 * descriptor (granule aligned), so the address is aligned:
		 * read_desc() without its alignment test.
		 */
		if (unlikely(!read_desc_aligned(cfg->mem, table + ((iova >> 12) & 511) * 8, &d)))
			return false;
		if (likely(vmsa_s1_page4k(d, iova, access, prot, c1->oas, &ipa, &lprot)))
			return short_s1_end(xc, s0, k1, c1, iova, access, depth, res, ipa, 12,
					    lprot, 3);
		goto generic_step;
	}
	dpa = s1_4k ? table + ((iova >> 12) & 511) * 8
		    : table + (uint64_t)pt_index(c1, depth + 1, iova) * 8;
	if (c2 && (meta & XC_WALK_M_PA)) {
		/* A combined entry: the table's PA. */
		dpa = (meta & XC_WALK_M_PA_MASK) + (dpa - table);
	} else if (c2) {
		if (!xc_ipa_lookup(xc, vmid, dpa, &ih) || !(ih.grant & PT_PROT_R))
			return false;
		dpa = ih.pa | (dpa & mask_bits(ih.lg));
		table_ipa = true;
	}
	if (unlikely(!read_desc(c1, cfg->mem, dpa, &d)))
		return false;
	/*
	 * The usual page decoded with the format's constants; anything else
	 * (and every other format) by the generic step, which refuses what
	 * the short path cannot do (faults, descriptor updates).
	 */
	if (nested && s1_4k &&
	    likely(vmsa_s1_page4k(d, iova, access, prot, c1->oas, &ipa, &lprot))) {
		l1 = (struct pt_leaf){ .oa = ipa, .size = 4096, .prot = lprot, .level = 3 };
	} else {
generic_step:
		walk_resume(&w, c1, iova, access, depth + 1, table, prot);
		w.wb_valid = false;
		if (pt_walk_step_inline(&w, d, &l1, &pf) != PT_STEP_LEAF || unlikely(w.wb_valid))
			return false;
		if (!nested)
			return short_s1_end(xc, s0, k1, c1, iova, access, depth, res, l1.oa,
					    ilog2_u64(l1.size), l1.prot, l1.level);
	}
	ipa = l1.oa;
	if (c2) {
		over = s2_over(xc, c1, ilog2_u64(l1.size));
		m = xc_ipa_sizes(xc, over);
	}
	if (c2 && m && xc_ipa_lookup_m(xc, vmid, ipa, m, &ih) && !(need & ~ih.grant)) {
		l2 = (struct pt_leaf){ .oa = ih.pa | (ipa & mask_bits(ih.lg)),
				       .size = 1ULL << ih.lg,
				       .prot = ih.prot,
				       .level = ih.level };
	} else if (c2) {
		/* The output IPA below the deepest stage-2 walk-cache level. */
		if (c2->iova_base || c2->nlevels < 2 || !xc->walk[1][0].sets)
			return false;
		depth2 = c2->nlevels - 2;
		lg = c2->shift[depth2];
		if (!xc_walk_lookup(xc, 1, depth2, xc_key1(vmid, 0), false, ipa & ~mask_bits(lg),
				    lg, &table, &prot) ||
		    !short_s2_step(c2, cfg->mem, ipa, access, depth2, table, prot, &l2))
			return false;
		s2_walked = true;
		reads++;
	}
	/* What the general walk would have counted and filled, in its order. */
	if (nested)
		xc_count(xc, XC_G_WALK + depth, XC_HIT);
	if (table_ipa)
		xc_count(xc, XC_G_IPA, XC_HIT);
	if (s2_walked) {
		unsigned int grant = l2.prot;

		xc_count(xc, XC_G_IPA, XC_MISS);
		xc_count(xc, XC_G_WALK + PT_MAX_LEVELS + depth2, XC_HIT);
		/* A read may not stand for a write that must set dirty state. */
		if ((c2->flags & PT_CFG_HW_AD) && !(access & PT_PROT_W))
			grant &= ~PT_PROT_W;
		if (l2.size >> over > 1)
			xc_ipa_fill(xc, s0, vmid, ipa & ~(l2.size - 1), ilog2_u64(l2.size),
				    l2.oa & ~(l2.size - 1), l2.prot, grant, l2.level);
	} else if (c2) {
		xc_count(xc, XC_G_IPA, XC_HIT);
	}
	fill_res(res, c2 ? l2.oa : ipa, ipa, &l1, c2 ? &l2 : NULL);
	res->reads = reads;
	res->iotlb_hit = false;
	if (!xc->iotlb.sets)
		return true;
	tlb_fill_ctx(xc, s0, k1, xc_key1(vmid, 0), user, c1, c2, iova, access, res, true);
	return true;
}


/*
 * Does walk_short_n4k() apply to @cfg: VMSA stage 1 over VMSA stage 2,
 * both with a 4 KiB granule and at least two levels, no TCE window, walk
 * caches at both stages, and an IPA cache and an IOTLB of the default
 * geometry (which it fills inline)?
 */
static inline __attribute__((always_inline)) bool short_n4k_ok(const struct xlate_cfg *cfg)
{
	const struct pt_cfg *c1 = cfg->s1.cfg;

	return c1 && (c1->fast & PT_FAST_VMSA4K_S1) && (cfg->s2.cfg->fast & PT_FAST_VMSA4K_S2) &&
	       cfg->cache->n4k;
}

/*
 * walk_short_gen() nested, for the usual pair of formats (short_n4k_ok()),
 * with the formats' constants: the stage-1 leaf table from the stage-1
 * walk cache (its PA from a combined entry, else its IPA through the IPA
 * cache), the leaf decoded by vmsa_s1_page4k(); the output IPA through
 * the IPA cache's blocks, else one stage-2 read below the stage-2 walk
 * cache decoded by vmsa_s2_page4k(). Then what walk_short_gen() would
 * count and fill: the IOTLB, filled inline (xc_tlb_fill_inline()), and
 * the counters through one look-up of the counter shard, the IOTLB's miss
 * included. Anything else (a miss in
 * a walk cache or the IPA cache for the table, a descriptor the
 * specialised decoders refuse, an invalidation under way) returns false
 * having counted and filled nothing; the caller counts the IOTLB miss and
 * walks in general. The caller brackets it in a read-side section.
 */
static inline __attribute__((always_inline)) bool
walk_short_n4k(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	       struct xlate_result *res)
{
	const unsigned int need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	struct xlate_cache *xc = cfg->cache;
	const struct pt_cfg *c1 = cfg->s1.cfg, *c2 = cfg->s2.cfg;
	const uint32_t vmid = cfg->tag.vmid;
	const uint64_t k1 = xc_key1(vmid, cfg->tag.asid), k1s2 = xc_key1(vmid, 0);
	const bool user = access & PT_PROT_U;
	const unsigned int depth = c1->nlevels - 2, depth2 = c2->nlevels - 2;
	uint64_t s0, table, dpa, d, ipa, pa, img[XC_TLB_IMGW], *ctr, w, meta, m;
	unsigned int tprot, p1, p2, lg2 = 12, prot, grant;
	bool walked = false, table_ipa = false;
	int l2 = 3, r;
	uint8_t *rb = (uint8_t *)res;
	struct xc_ipa_hit ih;

	s0 = xc_begin(xc);
	if (!xc_may_fill(xc, s0, k1, true))
		return false;
	/* (A 4 KiB granule: the table above the leaf covers 2 MiB.) */
	if (!xc_walk_lookup_m(xc, 0, depth, k1, user, iova & ~mask_bits(21), 21, &table, &meta))
		return false;
	if (likely(meta & XC_WALK_M_PA)) {
		/* A combined entry: the leaf table's PA. */
		dpa = (meta & XC_WALK_M_PA_MASK) + ((iova >> 12) & 511) * 8;
	} else {
		dpa = table + ((iova >> 12) & 511) * 8;
		if (!xc_ipa_lookup(xc, vmid, dpa, &ih) || !(ih.grant & PT_PROT_R))
			return false;
		dpa = ih.pa | (dpa & mask_bits(ih.lg));
		table_ipa = true;
	}
	if (unlikely(!read_desc_aligned(cfg->mem, dpa, &d)) ||
	    !vmsa_s1_page4k(d, iova, access, (unsigned int)(meta & XC_WALK_M_PROT), c1->oas, &ipa,
			    &p1))
		return false;
	/*
	 * The output IPA: the IPA cache at the sizes above 4K (s2_over(): a 4K
	 * stage-2 leaf would only duplicate the IOTLB entry), else one read
	 * below the stage-2 walk cache; its 4K leaf goes into the IOTLB alone.
	 */
	m = xc_ipa_sizes(xc, 12);
	if (m && xc_ipa_lookup_m(xc, vmid, ipa, m, &ih) && !(need & ~ih.grant)) {
		pa = ih.pa | (ipa & mask_bits(ih.lg));
		p2 = ih.prot;
		lg2 = ih.lg;
		l2 = ih.level;
	} else {
		if (!xc_walk_lookup(xc, 1, depth2, k1s2, false, ipa & ~mask_bits(21), 21, &table,
				    &tprot) ||
		    unlikely(!read_desc_aligned(cfg->mem, table + ((ipa >> 12) & 511) * 8, &d)) ||
		    !vmsa_s2_page4k(d, ipa, need, tprot, c2->oas, &pa, &p2))
			return false;
		walked = true;
	}
	/* fill_res() and tlb_fill_ctx(): stage 2 never restricts U; the smaller leaf is 4K. */
	p2 |= PT_PROT_U;
	prot = p1 & p2;
	grant = prot;
	if (!(access & PT_PROT_W) && ((c1->flags | c2->flags) & PT_CFG_HW_AD))
		grant &= ~PT_PROT_W;
	xc_tlb_img_words(img, prot, p1, p2, 3, l2, grant, 12, lg2, 4096);
	res->pa = pa;
	res->ipa = ipa;
	res->size = 4096;
	memcpy(rb + RES_OFF(prot), &img[0], 8);	   /* prot, s1_prot */
	memcpy(rb + RES_OFF(s2_prot), &img[1], 8); /* s2_prot, s1_level */
	res->s2_level = l2;
	res->s1_size = 4096;
	res->s2_size = 1ULL << lg2;
	w = walked ? RES_WALK1_TAIL * 2 : RES_WALK1_TAIL;
	memcpy(rb + RES_OFF(reads), &w, 8); /* reads 1 or 2, iotlb_hit false */
	r = xc_tlb_fill_inline(xc, s0, k1, user, iova & ~0xfffULL, 12, pa & ~0xfffULL,
			       ipa & ~0xfffULL, img, 3);
	/*
	 * What walk_short_gen() and the fills count: one counter for the lot
	 * (XC_SW_N4K), unless the fill was dropped.
	 */
	if (likely(r >= 0)) {
		xc_sw_add(xc_ctrs(xc),
			  XC_SW_N4K + xc_sw_n4k(depth, depth2, table_ipa, walked, (unsigned int)r));
		return true;
	}
	ctr = short_count(xc, XC_G_WALK + depth, r);
	if (table_ipa + !walked)
		xc_ctr_add(ctr, XC_G_IPA, XC_HIT, (unsigned int)table_ipa + !walked);
	if (walked) {
		xc_ctr_add(ctr, XC_G_IPA, XC_MISS, 1);
		xc_ctr_add(ctr, XC_G_WALK + PT_MAX_LEVELS + depth2, XC_HIT, 1);
	}
	return true;
}

/*
 * The end of walk_short_s2(), from the leaf @l2 of @ipa: *res as fill_res()
 * makes it for stage 2 alone, the stage-2-only IOTLB entry (tlb_fill_ctx()'s,
 * from the leaf) and what s2_xlate() and the general walk count (the
 * IPA-cache look-up as a miss, the walk-cache hit, the IOTLB's miss and
 * fill), through one look-up of the counter shard.
 */
static inline __attribute__((always_inline)) bool
short_s2_end(struct xlate_cache *xc, uint64_t s0, uint64_t k1s2, const struct pt_cfg *c2,
	     uint64_t ipa, unsigned int access, unsigned int depth2, struct xlate_result *res,
	     const struct pt_leaf *l2)
{
	const uint64_t size = l2->size, base = ipa & ~(size - 1);
	const unsigned int p2 = l2->prot | PT_PROT_U; /* stage 2 never restricts U */
	const unsigned int lg = ilog2_u64(size);
	unsigned int grant = p2;
	uint8_t *rb = (uint8_t *)res;
	uint64_t img[XC_TLB_IMGW], *ctr, w;
	int r;

	if (!(access & PT_PROT_W) && (c2->flags & PT_CFG_HW_AD))
		grant &= ~PT_PROT_W;
	xc_tlb_img_words(img, p2, PROT_ALL, p2, -1, l2->level, grant, 0, lg, 0);
	res->pa = l2->oa;
	res->ipa = ipa;
	res->size = size;
	memcpy(rb + RES_OFF(prot), &img[0], 8);	   /* prot, s1_prot (PROT_ALL) */
	memcpy(rb + RES_OFF(s2_prot), &img[1], 8); /* s2_prot, s1_level (-1) */
	res->s2_level = l2->level;
	res->s1_size = 0;
	res->s2_size = size;
	w = RES_WALK1_TAIL;
	memcpy(rb + RES_OFF(reads), &w, 8); /* reads 1, iotlb_hit false */
	r = xc_tlb_fill_inline(xc, s0, k1s2 | XC_K1_S2ONLY, false, base, lg,
			       l2->oa & ~(size - 1), base, img, l2->level);
	if (likely(r >= 0)) {
		xc_sw_add(xc_ctrs(xc), XC_SW_S2 + depth2 * 2 + (unsigned int)r);
		return true;
	}
	ctr = short_count(xc, XC_G_WALK + PT_MAX_LEVELS + depth2, r);
	if (xc->ipa.sets)
		xc_ctr_add(ctr, XC_G_IPA, XC_MISS, 1);
	return true;
}

/*
 * walk_short() for a stage-2-only context (no stage 1: the input is the
 * IPA): the IPA below the deepest stage-2 walk-cache level, one read, the
 * leaf decoded (VMSA with a 4K granule by vmsa_s2_page4k(), any other
 * format by the generic step), the IOTLB filled with the stage-2-only
 * entry. The IPA cache keeps nothing the IOTLB holds for such a context
 * (s2_over()), so it is not probed, only counted as asked, as s2_xlate()
 * counts it. Anything else (a walk-cache miss, a table, a fault, a
 * descriptor update, an invalidation under way, no IOTLB) returns false
 * having counted and filled nothing. The caller counts the IOTLB miss and
 * brackets this in a read-side section.
 */
static inline __attribute__((always_inline)) bool
walk_short_s2(const struct xlate_cfg *cfg, uint64_t ipa, unsigned int access,
	      struct xlate_result *res)
{
	const unsigned int need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	const struct pt_cfg *c2 = cfg->s2.cfg;
	struct xlate_cache *xc = cfg->cache;
	const uint32_t vmid = cfg->tag.vmid;
	const uint64_t k1s2 = xc_key1(vmid, 0);
	unsigned int depth2, lg, prot;
	uint64_t s0, table, d;
	struct pt_leaf l2;

	if (!xc->walk[1][0].sets || !xc->iotlb.sets ||
	    (!(c2->fast & PT_FAST_VMSA4K_S2) && (c2->iova_base || c2->nlevels < 2)))
		return false;
	s0 = xc_begin(xc);
	if (!xc_may_fill(xc, s0, xc_key1(vmid, cfg->tag.asid), false))
		return false;
	depth2 = c2->nlevels - 2;
	lg = c2->shift[depth2];
	if (!xc_walk_lookup(xc, 1, depth2, k1s2, false, ipa & ~mask_bits(lg), lg, &table, &prot))
		return false;
	if (likely(c2->fast & PT_FAST_VMSA4K_S2)) {
		uint64_t pa;
		unsigned int p2;

		if (unlikely(!read_desc_aligned(cfg->mem, table + ((ipa >> 12) & 511) * 8, &d)) ||
		    !vmsa_s2_page4k(d, ipa, need, prot, c2->oas, &pa, &p2))
			return false;
		/* (The leaf's fields alone: short_s2_end() reads no more.) */
		l2.oa = pa;
		l2.size = 4096;
		l2.prot = p2;
		l2.level = 3;
	} else if (!short_s2_step(c2, cfg->mem, ipa, access, depth2, table, prot, &l2)) {
		return false;
	}
	return short_s2_end(xc, s0, k1s2, c2, ipa, access, depth2, res, &l2);
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
static inline __attribute__((always_inline)) void tlb_res(uint64_t iova, const struct xc_tlb_hit *h,
							   struct xlate_result *res)
{
	uint64_t off = iova - h->base;
	uint64_t w0 = h->img0, w1 = h->img1, w2 = h->img2;
	uint8_t *r = (uint8_t *)res;

	res->pa = h->pa + off;
	res->ipa = h->ipa + off;
	res->size = h->size;
	memcpy(r + RES_OFF(prot), &w0, 8);     /* prot, s1_prot */
	memcpy(r + RES_OFF(s2_prot), &w1, 8);  /* s2_prot, s1_level */
	memcpy(r + RES_OFF(s2_level), &w2, 4); /* s2_level */
	res->s1_size = h->img3;
	res->s2_size = xc_lg_size[xc_tlb_hit_lg2(h)];
	res->reads = 0;
	res->iotlb_hit = true;
}

/* The access's permissions where an image word holds the grant (tlb_copy()). */
static inline uint64_t tlb_need(unsigned int access)
{
	uint64_t need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return need << (56 - 8 * XC_TLB_IMG_BYTE(grant));
#else
	return need << (8 * XC_TLB_IMG_BYTE(grant));
#endif
}

/* What tlb_copy() made of an entry. */
enum tlb_copy {
	TC_OK = 0,   /* *res is the entry's answer */
	TC_REFUSED,  /* the entry does not grant the access: a miss */
	TC_OLD,	     /* stamped before @floor: not known to be live */
	TC_CHANGED,  /* the set changed while it was read: nothing known */
};

/*
 * The hit copies whole words into *res, padding included: s2_level with
 * the 4 bytes after it (the entry's grant and leaf sizes land in the
 * padding), and reads = 0 with iotlb_hit = true as one word.
 */
_Static_assert(RES_OFF(s1_size) == RES_OFF(s2_level) + 8 &&
		       RES_OFF(iotlb_hit) == RES_OFF(reads) + 4 &&
		       sizeof(struct xlate_result) == RES_OFF(reads) + 8,
	       "struct xlate_result: the words a hit stores");
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RES_HIT_TAIL (1ULL << 24) /* reads = 0, iotlb_hit = true */
#else
#define RES_HIT_TAIL (1ULL << 32)
#endif

/*
 * The entry at @e into *res, for an address @off bytes into its page of
 * @size bytes: its stamp against @floor and its grant against @need
 * (tlb_need()) first, then its words go straight from the entry into *res
 * (fewer registers live than loading them all first). The caller then
 * re-checks the set's count (xc_tlb_confirm()). So a result that fails
 * the re-check may be half written: the caller then treats the lookup as
 * failed, and *res is what the fallback makes of it (a walk that faults
 * leaves it unspecified, as xlate() says).
 */
static inline __attribute__((always_inline)) enum tlb_copy
tlb_copy_w(const uint64_t *e, uint64_t w, uint64_t off, uint64_t size, uint64_t need,
	   uint64_t floor, struct xlate_result *res)
{
	uint8_t *r = (uint8_t *)res;

	if (unlikely(xc_ld(&e[XC_STAMP]) < floor))
		return TC_OLD;
	if (unlikely(~w & need))
		return TC_REFUSED;
	memcpy(r + RES_OFF(s2_level), &w, 8);
	res->s2_size = xc_lg_size[xc_word_byte(w, XC_TLB_IMG_BYTE(lg2))];
	res->pa = xc_ld(&e[XC_TLB_PA]) + off;
	res->ipa = xc_ld(&e[XC_TLB_IPA]) + off;
	res->size = size;
	w = xc_ld(&e[XC_TLB_IMG]);
	memcpy(r + RES_OFF(prot), &w, 8); /* prot, s1_prot */
	w = xc_ld(&e[XC_TLB_IMG + 1]);
	memcpy(r + RES_OFF(s2_prot), &w, 8); /* s2_prot, s1_level */
	res->s1_size = xc_ld(&e[XC_TLB_IMG + 3]);
	w = RES_HIT_TAIL;
	memcpy(r + RES_OFF(reads), &w, 8);
	return TC_OK;
}

/* tlb_copy_w() with the word of the grant (s2_level, grant, lg1, lg2) loaded from @e. */
static inline __attribute__((always_inline)) enum tlb_copy
tlb_copy_e(const uint64_t *e, uint64_t off, uint64_t size, uint64_t need, uint64_t floor,
	   struct xlate_result *res)
{
	return tlb_copy_w(e, xc_ld(&e[XC_TLB_IMG + 2]), off, size, need, floor, res);
}

/* tlb_copy_e() for the entry a probe found (@p, of the size @z), and the re-check. */
static inline __attribute__((always_inline)) enum tlb_copy
tlb_copy(const struct xc_tlb_pos *p, const struct xc_tlb_sz *z, uint64_t iova, uint64_t need,
	 uint64_t floor, struct xlate_result *res)
{
	enum tlb_copy r = tlb_copy_e(p->e, iova - p->base, z->size, need, floor, res);

	if (r != TC_OK)
		return r;
	return xc_tlb_confirm(p) ? TC_OK : TC_CHANGED;
}

/* What tlb_hit_fast() found. */
enum tlb_fast {
	TF_NOKEY = -2,	 /* tlb_hit_4k(): both stages off, nothing is cached */
	TF_GENERAL = -1, /* ask tlb_hit(): an older flush to compare with, a thread's first count */
	TF_MISS = 0,	 /* no entry that serves: count a miss and walk */
	TF_HIT = 1,	 /* *res filled, the hit counted */
};

/* This thread's IOTLB hit counter in @xc, for a shard offset @off (xc_shard_off). */
static inline __attribute__((always_inline)) void tlb_count_hit(struct xlate_cache *xc,
								uintptr_t off)
{
	uint64_t *ctr = (uint64_t *)((uint8_t *)xc->shard + off - XC_SHARD_BIAS) +
			XC_G_IOTLB * XC_NCTR + XC_HIT;

	__atomic_store_n(ctr, __atomic_load_n(ctr, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/*
 * The usual IOTLB hit, inline in xlate(): an IOTLB of the default geometry
 * that holds 4K entries alone, so every shift and offset is a constant and
 * the probe needs no size mask, no hint and no loop over sizes. The
 * context's key straight from @cfg, one probe, the stamp against the
 * newest IOTLB flush, the grant, the words into *res, the re-check, the
 * LRU order and this thread's counter. It calls nothing (a thread's first
 * count, which assigns its shard, and an enabled trace event go to
 * tlb_hit(): TF_GENERAL), so that xlate() needs no register saved: the
 * arguments stay where they came for the jump to a fallback. The caller
 * has checked the IOTLB's state (xlate()).
 */
static inline __attribute__((always_inline)) enum tlb_fast
tlb_hit_4k(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	   struct xlate_result *res)
{
	struct xlate_cache *const xc = cfg->cache;
	const struct pt_cfg *c1 = cfg->s1.cfg;
	const uint32_t vmid = cfg->tag.vmid;
	uint64_t k0 = (iova & ~mask_bits(XC_TLB_LG_4K)) |
		      (uint64_t)XC_TLB_LG_4K << XC_K0_LG_SHIFT | XC_K0_VALID;
	uint64_t k1, set, w;
	const uint64_t *tag, *e;
	struct xc_hdr *h;
	uint8_t *r = (uint8_t *)res;
	uint32_t sq;
	uintptr_t off;

	if (unlikely(atomic_load_explicit(&trace_event_state[TRACE_EV_xlate_walk],
					  memory_order_relaxed)))
		return TF_GENERAL;
	/* The key of tlb_key() and xc_tlb_key_of(). */
	if (likely(c1 != NULL)) {
		k1 = xc_key1(vmid, cfg->tag.asid);
		k0 |= access & PT_PROT_U ? XC_K0_USER : 0;
	} else if (cfg->s2.cfg) {
		k1 = xc_key1(vmid, 0) | XC_K1_S2ONLY;
	} else {
		return TF_NOKEY;
	}
	/* xc_tlb_find4() for 4K: constant shifts. */
	set = ((iova >> XC_TLB_LG_4K) + (uint64_t)vmid * XC_HASH_VMID +
	       (uint64_t)XC_TLB_LG_4K * XC_HASH_LG) &
	      xc->iotlb.set_mask;
	h = (struct xc_hdr *)(xc->iotlb.sets + (set << XC_TLB4_TSHIFT));
	tag = xc_tags(h);
	e = (const uint64_t *)(xc->iotlb.ents + (set << XC_TLB4_ESHIFT));
	sq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	if (unlikely(xc_ld(&tag[0]) != k0) || unlikely(xc_ld(&e[XC_K1]) != k1)) {
		if (xc_ld(&tag[1]) == k0 && xc_ld(&e[XC_TLB_NW + XC_K1]) == k1)
			e += XC_TLB_NW;
		else if (xc_ld(&tag[2]) == k0 && xc_ld(&e[2 * XC_TLB_NW + XC_K1]) == k1)
			e += 2 * XC_TLB_NW;
		else if (xc_ld(&tag[3]) == k0 && xc_ld(&e[3 * XC_TLB_NW + XC_K1]) == k1)
			e += 3 * XC_TLB_NW;
		else
			return TF_MISS;
	}
	/* tlb_copy_e(): the stamp against the newest IOTLB flush, the grant, the words. */
	if (unlikely(xc_ld(&e[XC_STAMP]) < xc_ld(&xc->tlb_flushed)))
		return TF_GENERAL;
	w = xc_ld(&e[XC_TLB_IMG + 2]); /* s2_level, grant, lg1, lg2 */
	if (unlikely(~w & tlb_need(access)))
		return TF_MISS;
	memcpy(r + RES_OFF(s2_level), &w, 8);
	res->s2_size = xc_lg_size[xc_word_byte(w, XC_TLB_IMG_BYTE(lg2))];
	res->pa = xc_ld(&e[XC_TLB_PA]) + (iova & mask_bits(XC_TLB_LG_4K));
	res->ipa = xc_ld(&e[XC_TLB_IPA]) + (iova & mask_bits(XC_TLB_LG_4K));
	res->size = 1ULL << XC_TLB_LG_4K;
	w = xc_ld(&e[XC_TLB_IMG]);
	memcpy(r + RES_OFF(prot), &w, 8); /* prot, s1_prot */
	w = xc_ld(&e[XC_TLB_IMG + 1]);
	memcpy(r + RES_OFF(s2_prot), &w, 8); /* s2_prot, s1_level */
	res->s1_size = xc_ld(&e[XC_TLB_IMG + 3]);
	w = RES_HIT_TAIL;
	memcpy(r + RES_OFF(reads), &w, 8);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (unlikely(__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != sq) || unlikely(sq & 1))
		return TF_GENERAL;
	/*
	 * This thread's counter (its first count assigns a shard: a call,
	 * left to tlb_hit(), which rewrites *res), then the LRU order: the
	 * way (told by the entry's address) is usually already the most
	 * recent, one load and a compare.
	 */
	off = xc_shard_off;
	if (unlikely(!off))
		return TF_GENERAL;
	tlb_count_hit(xc, off);
	if (unlikely((__atomic_load_n(&h->lru, __ATOMIC_RELAXED) & 15) != XC_TLB4_WAY(e)) &&
	    xc->iotlb.lru)
		xc_touch_hdr(h, XC_TLB4_WAY(e));
	TRACE_USDT(xlate_walk, iova, access, res->pa, 1ULL << XC_TLB_LG_4K);
	return TF_HIT;
}

/*
 * The IOTLB hit of xlate() without a record when tlb_hit_4k() does not
 * apply (xlate_sizes()): the context's key, a probe of each entry size
 * present (the one hinted for the region first), the stamp against the
 * newest IOTLB flush, the access against the grant. No call and no store
 * but the LRU order (only when the way was not the most recent), the
 * result and this thread's counter; what it cannot settle that way it
 * leaves to tlb_hit() (TF_GENERAL).
 */
static inline __attribute__((always_inline)) enum tlb_fast
tlb_hit_fast(const struct xlate_cfg *cfg, struct xlate_cache *xc, uint64_t iova,
	     unsigned int access, struct xlate_result *res)
{
	const struct xc_cset *s = &xc->iotlb;
	uint64_t m = __atomic_load_n(&s->sizes, __ATOMIC_RELAXED);
	uintptr_t off = xc_shard_off;
	struct xc_tlb_pos p;
	struct xc_tlb_sz z;
	struct xc_tlb_key k;
	struct xc_tlb4 t4;
	uint64_t k1;
	bool user;

	if (unlikely(!xc_tlb_geom4(s)) || unlikely(!tlb_key(cfg, access, &k1, &user)) ||
	    unlikely(!off))
		return TF_GENERAL;
	t4 = xc_tlb4_of(s);
	k = xc_tlb_key_of(k1, user);
	/* (4K entries alone are tlb_hit_4k()'s.) The size hinted for this region first. */
	if (likely(m)) {
		uint8_t *hint = xc_hint(xc, k.hv, iova);
		unsigned int lg = __atomic_load_n(hint, __ATOMIC_RELAXED) & 63;

		if (likely(m & BIT(lg))) {
			z = xc_tlb_sz_of(&k, lg);
			if (likely(xc_tlb_find4(&t4, k1, &z, iova, &p)))
				goto found;
			m &= ~BIT(lg);
		}
		for (; m; m &= m - 1) {
			z = xc_tlb_sz_of(&k, (unsigned int)__builtin_ctzll(m));
			if (xc_tlb_find4(&t4, k1, &z, iova, &p)) {
				__atomic_store_n(hint, (uint8_t)z.lg, __ATOMIC_RELAXED);
				goto found;
			}
		}
	}
	return TF_MISS;
found:
	switch (tlb_copy(&p, &z, iova, tlb_need(access), xc_ld(&xc->tlb_flushed), res)) {
	case TC_OK:
		break;
	case TC_REFUSED:
		return TF_MISS;
	default:
		return TF_GENERAL;
	}
	xc_tlb_touch(s->lru, &(struct xc_tlb_hit){ .h = p.h, .way = p.way });
	tlb_count_hit(xc, off);
	return TF_HIT;
}

/* The IOTLB hit path with a record: the same lookup, and the hit recorded. */
static bool tlb_hit(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
		    struct xlate_result *res, struct xlate_record *rec)
{
	struct xlate_cache *xc = cfg->cache;
	struct xc_tlb_hit h;
	uint64_t k1;
	bool user;

	if (unlikely(!tlb_key(cfg, access, &k1, &user)))
		return false;
	if (!xc_tlb_lookup_for(xc, k1, user, iova, access & (PT_PROT_R | PT_PROT_W | PT_PROT_X),
			       &h)) {
		if (xc->iotlb.sets)
			xc_count(xc, XC_G_IOTLB, XC_MISS);
		return false;
	}
	tlb_res(iova, &h, res);
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
			x.fill = xc_may_fill(x.cache, x.s0, x.k1, x.c1);
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

/* xlate() with caches, every case: the IOTLB (with a record), then the walk. */
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

/*
 * An IOTLB miss (or refusal) of the hit paths: count it, walk. Two
 * copies, stage 1 alone (@nested false: nothing of stage 2 in its code)
 * and any other, each with registers of its own.
 */
static inline __attribute__((always_inline)) enum pt_fault_reason
xlate_miss_gen(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	       struct xlate_result *res, struct xlate_fault *fault, const bool nested)
{
	struct xlate_cache *xc = cfg->cache;
	bool ok;

	/*
	 * walk_short() reads tables: a read-side section, as xlate_walk() is.
	 * Stage 1 alone and the usual nested pair: a short walk that succeeds
	 * counts the miss with the rest. Stage 2 alone: walk_short_s2().
	 */
	epoch_enter();
	if (!nested) {
		ok = walk_short_gen(cfg, iova, access, res, false);
		if (!ok && xc->iotlb.sets)
			xc_count(xc, XC_G_IOTLB, XC_MISS);
	} else if (short_n4k_ok(cfg)) {
		ok = walk_short_n4k(cfg, iova, access, res);
		if (!ok)
			xc_count(xc, XC_G_IOTLB, XC_MISS);
	} else if (!cfg->s1.cfg) {
		ok = walk_short_s2(cfg, iova, access, res);
		if (!ok && xc->iotlb.sets)
			xc_count(xc, XC_G_IOTLB, XC_MISS);
	} else {
		if (xc->iotlb.sets)
			xc_count(xc, XC_G_IOTLB, XC_MISS);
		ok = walk_short_gen(cfg, iova, access, res, true);
	}
	epoch_exit();
	if (ok) {
		trace_xlate_walk(iova, access, res->pa, res->size);
		return PT_OK;
	}
	return xlate_walk(cfg, iova, access, res, fault, NULL);
}

static __attribute__((noinline)) enum pt_fault_reason
xlate_miss_s1(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	      struct xlate_result *res, struct xlate_fault *fault)
{
	return xlate_miss_gen(cfg, iova, access, res, fault, false);
}

static __attribute__((noinline)) enum pt_fault_reason
xlate_miss_any(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	       struct xlate_result *res, struct xlate_fault *fault)
{
	return xlate_miss_gen(cfg, iova, access, res, fault, true);
}

static inline __attribute__((always_inline)) enum pt_fault_reason
xlate_miss(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	   struct xlate_result *res, struct xlate_fault *fault)
{
	if (!cfg->s2.cfg)
		return xlate_miss_s1(cfg, iova, access, res, fault);
	return xlate_miss_any(cfg, iova, access, res, fault);
}

/* xlate() without a record when tlb_hit_4k() did not apply: several entry sizes, any geometry. */
static __attribute__((noinline)) enum pt_fault_reason
xlate_sizes(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
	    struct xlate_result *res, struct xlate_fault *fault)
{
	enum tlb_fast r = tlb_hit_fast(cfg, cfg->cache, iova, access, res);

	if (likely(r == TF_HIT)) {
		trace_xlate_walk(iova, access, res->pa, res->size);
		return PT_OK;
	}
	if (r == TF_MISS)
		return xlate_miss(cfg, iova, access, res, fault);
	return xlate_cached(cfg, iova, access, res, fault, NULL);
}

/*
 * The 4K hit inline (tlb_hit_4k(), which calls nothing, so that no
 * register is saved), and a dispatch: every other case has a function of
 * its own, reached by a jump.
 */
enum pt_fault_reason xlate(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
			   struct xlate_result *res, struct xlate_fault *fault,
			   struct xlate_record *rec)
{
	struct xlate_cache *xc = cfg->cache;

	if (likely(xc != NULL) && likely(!rec) && likely(res != NULL)) {
		if (likely(__atomic_load_n(&xc->iotlb.sizes, __ATOMIC_RELAXED) ==
			   BIT(XC_TLB_LG_4K)) &&
		    likely(xc->iotlb.geom4)) {
			enum tlb_fast r = tlb_hit_4k(cfg, iova, access, res);

			if (likely(r == TF_HIT))
				return PT_OK;
			if (r == TF_MISS)
				return xlate_miss(cfg, iova, access, res, fault);
			return xlate_cached(cfg, iova, access, res, fault, NULL);
		}
		return xlate_sizes(cfg, iova, access, res, fault);
	}
	if (xc)
		return xlate_cached(cfg, iova, access, res, fault, rec);
	return xlate_walk(cfg, iova, access, res, fault, rec);
}

/*
 * A batch: the context's IOTLB state read once (geometry, sizes, key,
 * floor, the per-size probe constants), and where the answers go.
 */
#define BATCH_SIZES 4
struct batch {
	const struct xlate_cache *c;
	struct xc_cset s;
	struct xc_tlb_key k;
	struct xc_tlb_sz z[BATCH_SIZES];
	unsigned int nz;
	uint8_t zi[64]; /* zi[lg] = 1 + the index of size lg in z, 0 when absent */
	uint64_t m, floor;
	unsigned int access, n;
	const uint64_t *iova;
	struct xlate_result *res;
	enum pt_fault_reason *ret;
};

/*
 * Translate the batch's addresses from @i on while they hit the IOTLB;
 * return the index of the first that does not (or n). No call in the
 * loop, so its state stays in registers; the caller walks the miss and
 * comes back. The default geometry with at most BATCH_SIZES entry sizes
 * present takes the unrolled probe with the sizes' constants from a table.
 */
static __attribute__((noinline)) unsigned int batch_hits(const struct batch *b, unsigned int i)
{
	const unsigned int access = b->access, n = b->n;
	const unsigned int need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	const uint64_t floor = b->floor;
	const uint64_t *iova = b->iova;
	struct xlate_result *res = b->res;
	enum pt_fault_reason *ret = b->ret;
	const bool lru = b->s.lru;

	if (likely(xc_tlb_geom4(&b->s) && b->nz > 1 && b->nz <= BATCH_SIZES)) {
		const struct xc_tlb_sz *z0 = b->z, *zend = b->z + b->nz;
		const uint64_t k1 = b->k.k1, needw = tlb_need(access);
		const struct xc_tlb4 t4 = xc_tlb4_of(&b->s);

		/* Several sizes: the one hinted for the region first (tlb_hit_fast()). */
		for (; i < n; i++) {
			uint64_t in = iova[i];
			unsigned int j = b->zi[*xc_hint(b->c, b->k.hv, in) & 63];
			const struct xc_tlb_sz *z = j ? &z0[j - 1] : z0, *hz = z;
			struct xc_tlb_pos p;

			bool hit = xc_tlb_find4(&t4, k1, z, in, &p);

			for (const struct xc_tlb_sz *zz = z0; unlikely(!hit) && zz < zend; zz++) {
				if (zz == hz)
					continue;
				z = zz;
				hit = xc_tlb_find4(&t4, k1, z, in, &p);
				if (hit)
					__atomic_store_n(xc_hint(b->c, b->k.hv, in), (uint8_t)z->lg,
							 __ATOMIC_RELAXED);
			}
			if (unlikely(!hit))
				return i;
			if (tlb_copy(&p, z, in, needw, floor, &res[i]) != TC_OK)
				return i;
			xc_tlb_touch(lru, &(struct xc_tlb_hit){ .h = p.h, .way = p.way });
			TRACE_USDT(xlate_walk, in, access, res[i].pa, res[i].size);
			ret[i] = PT_OK;
		}
		return i;
	}
	if (likely(xc_tlb_geom4(&b->s) && b->nz <= BATCH_SIZES)) {
		const struct xc_tlb_sz *z0 = b->z, *zend = b->z + b->nz;
		const uint64_t k1 = b->k.k1, needw = tlb_need(access);
		const struct xc_tlb4 t4 = xc_tlb4_of(&b->s);

		for (; i < n; i++) {
			const struct xc_tlb_sz *z = z0;
			uint64_t in = iova[i];
			struct xc_tlb_pos p;

			while (!xc_tlb_find4(&t4, k1, z, in, &p))
				if (++z == zend)
					return i;
			if (tlb_copy(&p, z, in, needw, floor, &res[i]) != TC_OK)
				return i;
			xc_tlb_touch(lru, &(struct xc_tlb_hit){ .h = p.h, .way = p.way });
			TRACE_USDT(xlate_walk, in, access, res[i].pa, res[i].size);
			ret[i] = PT_OK;
		}
		return i;
	}
	for (; i < n; i++) {
		struct xc_tlb_hit h;

		if (!xc_tlb_probe_all(&b->s, &b->k, b->m, iova[i], &h) || unlikely(h.stamp < floor) ||
		    unlikely(need & ~xc_tlb_hit_grant(&h)))
			break;
		xc_tlb_touch(lru, &h);
		tlb_res(iova[i], &h, &res[i]);
		TRACE_USDT(xlate_walk, iova[i], access, res[i].pa, res[i].size);
		ret[i] = PT_OK;
	}
	return i;
}

/*
 * One address of batch_4k() whose entry is not in way 0 of its set (@h,
 * entries @e, count @sq as read): ways 1-3, then as batch_4k() does.
 * true when it hit (*res written, LRU order updated).
 */
static __attribute__((noinline)) bool
batch_4k_way(struct xc_hdr *h, const uint64_t *e, uint32_t sq, uint64_t k0, uint64_t k1,
	     uint64_t a, uint64_t needw, uint64_t floor, struct xlate_result *res, bool lru)
{
	unsigned int way;

	for (way = 1; way < 4; way++)
		if (xc_ld(&xc_tags(h)[way]) == k0 && xc_ld(&e[way * XC_TLB_NW + XC_K1]) == k1)
			break;
	if (way == 4 || tlb_copy_e(e + way * XC_TLB_NW, a & mask_bits(XC_TLB_LG_4K),
				   1ULL << XC_TLB_LG_4K, needw, floor, res) != TC_OK)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (unlikely(__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != sq) || unlikely(sq & 1))
		return false;
	if (lru)
		xc_touch_hdr(h, way);
	return true;
}

/*
 * batch_4k(): the hits of a batch in an IOTLB of the default geometry that
 * holds 4K entries alone (the probe of tlb_hit_4k(), with the context's
 * key and floor read once by the caller). @lru is a constant. The loop is
 * written for the usual hit, in way 0 of its set: cursors instead of
 * indices, the way a constant, ways 1-3 out of line.
 */
static inline __attribute__((always_inline)) unsigned int
batch_4k_gen(const struct xc_cset *s, uint64_t k1, uint64_t low, uint64_t hc, uint64_t floor,
	     unsigned int access, const uint64_t *iova, unsigned int n, struct xlate_result *res,
	     enum pt_fault_reason *ret, const bool lru, const bool one, const bool rd)
{
	/*
	 * @rd: a read by a privileged access (the usual DMA read), so the
	 * grant's bit and key0's low bits are constants, not registers.
	 */
	const uint64_t needw = rd ? tlb_need(PT_PROT_R) : tlb_need(access), set_mask = s->set_mask;
	uint8_t *const sets = s->sets, *const ents = s->ents;
	const uint64_t *in = iova, *const end = iova + n;

	for (; in < end; in++, res++) {
		const uint64_t low4k = (uint64_t)XC_TLB_LG_4K << XC_K0_LG_SHIFT | XC_K0_VALID;
		const uint64_t a = *in, k0 = (a & ~mask_bits(XC_TLB_LG_4K)) | (rd ? low4k : low);
		/* The set's tag block at (set << 6), its entries at (set << 6) * 4. */
		const uint64_t off = (((a >> XC_TLB_LG_4K) + hc) & set_mask) << XC_TLB4_TSHIFT;
		struct xc_hdr *h = (struct xc_hdr *)(sets + off);
		const uint64_t *e =
			(const uint64_t *)(ents + off * (1 << (XC_TLB4_ESHIFT - XC_TLB4_TSHIFT)));
		const uint32_t sq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);

		if (unlikely(xc_ld(&xc_tags(h)[0]) != k0) || unlikely(xc_ld(&e[XC_K1]) != k1)) {
			if (!batch_4k_way(h, e, sq, k0, k1, a, needw, floor, res, lru))
				break;
		} else {
			const uint64_t w = xc_ld(&e[XC_TLB_IMG + 2]);

			/* One permission asked (a read, or a write): one bit to test. */
			if (one && unlikely(!(w & needw)))
				break;
			if (tlb_copy_w(e, w, a & mask_bits(XC_TLB_LG_4K), 1ULL << XC_TLB_LG_4K,
				       one ? 0 : needw, floor, res) != TC_OK)
				break;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (unlikely(__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != sq) ||
			    unlikely(sq & 1))
				break;
			/* Way 0 is usually already the most recent: one test. */
			if (lru && unlikely(__atomic_load_n(&h->lru, __ATOMIC_RELAXED) & 15))
				xc_touch_hdr(h, 0);
		}
		TRACE_USDT(xlate_walk, a, rd ? PT_PROT_R : access, res->pa, res->size);
	}
	/* PT_OK is 0: the outcomes of the run at once, out of the loop. */
	memset(ret, 0, (size_t)(in - iova) * sizeof(*ret));
	return (unsigned int)(in - iova);
}
_Static_assert(PT_OK == 0, "batch_4k() stores PT_OK with memset");

/* The hits of a batch from @iova on, in a row: how many (a miss or refusal stops it). */
static __attribute__((noinline)) unsigned int
batch_4k(const struct xc_cset *s, uint64_t k1, uint64_t low, uint64_t hc, uint64_t floor,
	 unsigned int access, const uint64_t *iova, unsigned int n, struct xlate_result *res,
	 enum pt_fault_reason *ret)
{
	const unsigned int need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);

	if (likely(s->lru) && likely(access == PT_PROT_R))
		return batch_4k_gen(s, k1, low, hc, floor, access, iova, n, res, ret, true, true,
				    true);
	if (likely(s->lru) && likely(need && !(need & (need - 1))))
		return batch_4k_gen(s, k1, low, hc, floor, access, iova, n, res, ret, true, true,
				    false);
	return batch_4k_gen(s, k1, low, hc, floor, access, iova, n, res, ret, s->lru, false,
			    false);
}

unsigned int xlate_batch(const struct xlate_cfg *cfg, const uint64_t *iova, unsigned int n,
			 unsigned int access, struct xlate_result *res, struct xlate_fault *fault,
			 enum pt_fault_reason *ret)
{
	struct xlate_cache *xc = cfg->cache;
	unsigned int ok = 0, hits = 0, i = 0;
	bool fast = false, user;
	struct batch b;
	uint64_t k1;

	/*
	 * 4K entries alone in the default geometry: batch_4k() first. Its
	 * floor is the newest IOTLB flush (one load): an entry stamped before
	 * it but still live (the flush was of another context) stops the run,
	 * and the general loop below, with the context's own floor, takes it.
	 */
	if (likely(xc != NULL) && likely(xc->iotlb.geom4) &&
	    likely(__atomic_load_n(&xc->iotlb.sizes, __ATOMIC_RELAXED) == BIT(XC_TLB_LG_4K)) &&
	    likely(tlb_key(cfg, access, &k1, &user)) &&
	    likely(!trace_event_enabled(TRACE_EV_xlate_walk))) {
		const struct xc_tlb_key k = xc_tlb_key_of(k1, user);
		const struct xc_tlb_sz z = xc_tlb_sz_of(&k, XC_TLB_LG_4K);

		hits = i = batch_4k(&xc->iotlb, k1, z.low, z.hc, xc_ld(&xc->tlb_flushed), access,
				    iova, n, res, ret);
		if (likely(i == n)) {
			xc_count_n(xc, XC_G_IOTLB, XC_HIT, hits);
			return n;
		}
	}
	/* With the trace on, each hit is traced as it is found: one by one. */
	if (xc && tlb_key(cfg, access, &k1, &user) && !trace_event_enabled(TRACE_EV_xlate_walk)) {
		b.c = xc;
		b.s = xc->iotlb;
		b.k = xc_tlb_key_of(k1, user);
		b.floor = xc_tlb_floor(xc, k1);
		b.access = access;
		b.n = n;
		b.iova = iova;
		b.res = res;
		b.ret = ret;
		b.m = 0;
		b.nz = 0;
		fast = true;
	}
	while (i < n) {
		if (fast) {
			/* Hits in a row; the sizes again after each walk, which may have filled. */
			uint64_t m = __atomic_load_n(&xc->iotlb.sizes, __ATOMIC_RELAXED);

			if (m != b.m) {
				b.m = m;
				for (b.nz = 0; m; m &= m - 1, b.nz++)
					if (b.nz < BATCH_SIZES)
						b.z[b.nz] = xc_tlb_sz_of(
							&b.k, (unsigned int)__builtin_ctzll(m));
				/* Several sizes: where each is in z, for the hints. */
				if (b.nz > 1) {
					memset(b.zi, 0, sizeof(b.zi));
					for (unsigned int j = 0; j < b.nz && j < BATCH_SIZES; j++)
						b.zi[b.z[j].lg] = (uint8_t)(j + 1);
				}
			}
			if (b.m) {
				unsigned int j = batch_hits(&b, i);

				hits += j - i;
				i = j;
				if (i == n)
					break;
			}
			if (b.s.sets)
				xc_count(xc, XC_G_IOTLB, XC_MISS);
		} else if (xc && tlb_key(cfg, access, &k1, &user)) {
			/* As xlate() with a record would: tlb_hit() counts the hit or the miss. */
			if (tlb_hit(cfg, iova[i], access, &res[i], NULL)) {
				trace_xlate_walk(iova[i], access, res[i].pa, res[i].size);
				ret[i] = PT_OK;
				ok++;
				i++;
				continue;
			}
		} else if (xc && xc->iotlb.sets) {
			xc_count(xc, XC_G_IOTLB, XC_MISS);
		}
		ret[i] = xlate_walk(cfg, iova[i], access, &res[i], fault ? &fault[i] : NULL, NULL);
		ok += ret[i] == PT_OK;
		i++;
	}
	if (hits)
		xc_count_n(xc, XC_G_IOTLB, XC_HIT, hits);
	return ok + hits;
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
			x.fill = xc_may_fill(x.cache, x.s0, x.k1_s2, false);
			r = s2_xlate(&x, ipa, access & ~PT_PROT_U, -1, cls, &leaf, 0);
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
