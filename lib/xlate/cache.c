// SPDX-License-Identifier: MIT
/*
 * cache.c - the translation caches: IOTLB, per-stage per-level walk caches,
 * IPA cache and configuration cache, their fills, invalidation and
 * statistics (the contract is cache.h; the layout is cache_int.h).
 *
 * What it owns. One struct xlate_cache per IOMMU instance: five kinds of
 * set-associative cache built from one generic structure (struct xc_cset:
 * per set a tag block with every way's key0, then the entries: key1,
 * stamp, value words), the flush stamps that make whole-context
 * invalidation O(1), the invalidation sequence, and per-thread counter
 * shards. It reads no page tables: xlate.c looks entries up inline and
 * hands this file what its walks found. The set lock and the insert into
 * an IOTLB of the default geometry (xc_tlb_insert4()) are written in
 * cache_int.h, so that xlate.c's miss path fills inline; they are this
 * file's protocol, and this file calls them too.
 *
 * Invariants.
 *  - An entry is live when its tag (key0) has the valid bit and its stamp
 *    (the invalidation sequence its walk started under) is at least every
 *    flush stamp that covers it: the global one, its VMID's (per kind:
 *    combined, which covers the stage-1 walk caches too, or stage 2), and
 *    for stage-1 entries its (VMID, ASID) slot. Flushing a context is one store of the new sequence into
 *    its stamp; entries die without being visited. Stamps are 64-bit and
 *    never wrap. c->flushed is the newest flush stamp of any kind, and
 *    tlb_flushed the newest that covers any IOTLB entry (every flush stores
 *    them after its own stamp), so an entry stamped at or after them is
 *    live without looking further: the liveness test of the hit path and
 *    of the walk and IPA caches is one load until the next flush.
 *  - Every invalidation has a scope: everything (xlate_inv_all), one VMID
 *    (inv_vmid, inv_ipa, inv_range for any ASID), one hashed (VMID, ASID)
 *    slot (inv_asid, inv_range for one ASID), or the configuration cache.
 *    It announces itself in its scope (pend = its sequence), then advances
 *    c->seq, does its work (flush stamps, removals), and ends (done = its
 *    sequence). A walk reads c->seq as it starts (s0, acquire, before any
 *    descriptor or cache read), then checks that none of its scopes has an
 *    invalidation under way (pend == done); if one has, it fills nothing.
 *    (Invalidations are serialised and numbered by the sequence, and each
 *    records its scope in c->cur before advancing it: when the scope read
 *    there has done == s0, invalidation s0 has ended, and with it every
 *    one that began before the walk, so the scopes need no visit.)
 *    A fill goes in only if, under its set's lock, none of the scopes that
 *    can hold its entry announced an invalidation newer than s0. So nothing
 *    a walk read before an invalidation (tables before the unmap, or cache
 *    entries the invalidation removes) is inserted after it began, while
 *    invalidations of other contexts leave fills alone.
 *  - Each cache keeps a mask of the entry sizes it may hold (bit lg: entries
 *    covering 2^lg bytes). A fill sets its bit (seq_cst) before its scope
 *    check; an invalidation reads the mask after its announcement's fence.
 *    Bits are cleared only by xlate_inv_all while it is under way: every
 *    entry present then is about to die, and no walk fills until it ends
 *    (after which fills set their bits again). IOTLB and IPA-cache lookups
 *    and range invalidations probe only the sizes in the mask, so a 4K-only
 *    workload probes once and a range invalidation costs (pages of the
 *    range) x (sizes present) probes of one tag line each; past the number
 *    of sets it becomes a flush. (A walk cache holds one size per depth:
 *    its lookup probes without asking the mask.)
 *  - A full set evicts one way: a free one, else a dead one, else the LRU
 *    (or a random) way. Nothing ever flushes a whole cache for space. A
 *    set's header remembers (32 bits of) the newest flush after which all
 *    its ways were seen live, so a fill looks for a dead way only after a
 *    flush the set has not seen: the entry lines it would read are not
 *    touched in between. (Only the choice of way rests on it.)
 *
 * Locks and memory ordering.
 *  - A set's header holds a sequence count whose odd values mean "locked":
 *    fills take it by compare-and-swap from even to odd, issue a release
 *    fence, store the words (relaxed atomics: the way's tag is zeroed
 *    first and written last), and release with a store of the next even
 *    value. Readers (the hit paths, xc_probe) load it (acquire), read tags
 *    and words (relaxed), issue an acquire fence and load it again; a
 *    changed or odd count means retry or miss. If a reader read any word a
 *    fill stored, the fill's release fence synchronises with the reader's
 *    acquire fence, so the second load sees the fill's odd count: a reader
 *    never uses a torn entry. The hit path takes no lock and writes nothing
 *    but the LRU order (only when the hit way was not already the most
 *    recent), its own counter shard and the caller's result (which a hit
 *    that fails the second load leaves to the walk it falls back to).
 *  - Removals take no lock. The invalidator waits for the set's count to be
 *    even (acquire), scans the tag line (key0 and the fingerprint, which a
 *    fill writes before the tag, so a finished fill's pair is whole), and
 *    removes a matching way with one relaxed store of 0 to its tag. That
 *    is enough because:
 *     - readers: a removal changes one word, the tag, so no reader sees a
 *       torn entry; a reader that read the tag before the store is
 *       concurrent with the invalidation and may return the old answer;
 *     - fills: any fill that may carry something the invalidation must
 *       remove has either finished before the invalidator read the set's
 *       count (then the scan sees it) or drops itself (next point); so a
 *       fill racing with the removal is a fresh one, and a zero that lands
 *       on its way removes a fresh entry (removing more than asked is
 *       always allowed) or is overwritten by the fill's own tag store
 *       (the old entry is replaced anyway).
 *  - Fill vs invalidation. Invalidator I: pend = S' (relaxed), seq = S'
 *    (release), a seq_cst fence F; then it reads the size mask, and for
 *    each set it must search loads the set count (waiting while odd),
 *    scans the tags and removes; flush stamps; done = S' (release). Fill J
 *    of a walk that read seq = s0: set its size bit (seq_cst), lock the
 *    set (seq_cst), load c->seq (seq_cst) and, unless it still reads s0
 *    (no invalidation at all began since), its scopes' pend (seq_cst);
 *    insert only if none exceeds s0. In the single total order S of
 *    seq_cst operations and fences:
 *     - s0 >= S' (the walk read I's sequence, a release store after pend):
 *       its scope check, made after s0, sees I's pend; it fills only if it
 *       also saw I's done, which happens after I's removals and stamps
 *       (release / acquire), so its cache reads saw them, and its table
 *       reads follow the unmap that preceded I.
 *     - s0 < S': if J's seq load follows F in S, it reads S' or later
 *       (a seq_cst load after a seq_cst fence reads the stores sequenced
 *       before that fence, or later ones), not s0, so J loads the pends,
 *       which follow F too: it reads I's and drops its fill. Otherwise
 *       J's seq load precedes F, and so do J's bit and lock:
 *       I's loads, sequenced after F, read them or later values, so I sees
 *       the bit, searches J's set, and reads the set count as J's lock or
 *       later: it waits for J's unlock (acquire) and sees J's tag to
 *       remove it. A flush needs no search: J's entry carries s0 < S',
 *       which the flush stamp makes dead.
 *    Hence no entry older than an invalidation survives it, whether the
 *    walk that made it read a stale table or a stale cache entry. (One
 *    fence replaces the two seq_cst stores the announcement would
 *    otherwise need; a flush alone, which searches nothing, skips it:
 *    inv_begin_flush().)
 *  - Hit after invalidation: the contract is that a translation that starts
 *    after the invalidation returned sees its effect. Its tag loads read
 *    the removal's store of 0 or later; its stamp loads (tlb_flushed, then
 *    the context's stamps) read the flush's stores or later (the caller's
 *    synchronisation that orders the two calls is the happens-before
 *    edge). So the old entry is gone or dead, and the walk it falls back
 *    to reads the new tables.
 *  - Invalidations of one cache are serialised by the caller (one thread per
 *    IOMMU, cache.h); they may run concurrently with any number of
 *    translations and fills. The sequence, pend / done and flush stamps are
 *    then monotonic, written by that one thread.
 *  - Counters: each thread adds to its own shard (of XC_SHARDS, assigned on
 *    first use) with a relaxed load and store; totals are summed on demand.
 *    With more concurrent threads than shards two threads may share one and
 *    lose an increment now and then; counters are statistics, never used
 *    for correctness. A short walk of xlate.c's miss path adds one outcome
 *    counter (struct xc_shard's sw[]) for the several group counters it
 *    stands for; reading the statistics folds them in (xc_sw_fold()).
 *
 * Table pages are not this file's concern: an entry names a table's
 * address, and a walk that follows a stale entry before the invalidation
 * returned may read a table that is being retired. util/epoch.h's grace
 * period (bracketing walks in xlate.c) covers that, once the owner retires
 * the tables an unmap freed as of the end of the invalidation
 * (epoch_hold / epoch_release, cache.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "xlate/cache_int.h"

_Static_assert(offsetof(struct xlate_cache, tlb_flushed) / 64 ==
		       offsetof(struct xlate_cache, iotlb) / 64 &&
	       offsetof(struct xlate_cache, shard) / 64 == offsetof(struct xlate_cache, iotlb) / 64,
	       "the IOTLB hit path's fields share one line");
_Static_assert(sizeof(struct xc_tlb_img) == XC_TLB_IMGW * 8, "IOTLB image words");
_Static_assert(sizeof(struct xc_ipa_meta) == 8, "IPA meta word");

__thread uintptr_t xc_shard_off __attribute__((tls_model("initial-exec")));
static unsigned int xc_shard_next;

uintptr_t xc_shard_assign(void)
{
	unsigned int i = __atomic_fetch_add(&xc_shard_next, 1, __ATOMIC_RELAXED) % XC_SHARDS;

	xc_shard_off = (uintptr_t)i * sizeof(struct xc_shard) + XC_SHARD_BIAS;
	return xc_shard_off;
}

/* ---------------------------------------------------------------------- */
/* Parameters, allocation                                                 */

void xlate_cache_params_default(struct xlate_cache_params *p)
{
	memset(p, 0, sizeof(*p));
	p->iotlb = (struct xlate_cache_geom){ .entries = 4096, .ways = 4 };
	p->walk[0] = (struct xlate_cache_geom){ .entries = 256, .ways = 4 };
	p->walk[1] = (struct xlate_cache_geom){ .entries = 256, .ways = 4 };
	p->ipa = (struct xlate_cache_geom){ .entries = 1024, .ways = 4 };
	p->cfg = (struct xlate_cache_geom){ .entries = 64, .ways = 4 };
	p->repl = XLATE_REPL_LRU;
	p->seed = 1;
}

#define XC_MAX_ENTRIES (1u << 24)

static int geom_check(const struct xlate_cache_geom *g)
{
	unsigned int ways = g->ways ? g->ways : MIN(g->entries, XC_MAX_WAYS);

	if (!g->entries)
		return 0;
	if (g->entries > XC_MAX_ENTRIES || ways > XC_MAX_WAYS || g->entries % ways)
		return -EINVAL;
	return 0;
}

static int cset_init(struct xc_cset *s, const struct xlate_cache_geom *g, unsigned int nw,
		     enum xc_kind kind, unsigned int grp, bool lru)
{
	memset(s, 0, sizeof(*s));
	s->grp = (uint16_t)grp;
	s->kind = (uint8_t)kind;
	s->lru = lru;
	s->nw = (uint8_t)nw;
	if (!g->entries)
		return 0;
	s->ways = (uint8_t)(g->ways ? g->ways : MIN(g->entries, XC_MAX_WAYS));
	s->nsets = g->entries / s->ways;
	s->set_mask = s->nsets > 1 && is_pow2(s->nsets) ? s->nsets - 1 : 0;
	/* A tag block: the header, the tags and the fingerprints, in a power of two of lines. */
	s->tshift = 6;
	while ((1u << s->tshift) < sizeof(struct xc_hdr) + (size_t)s->ways * 12)
		s->tshift++;
	s->estride = (uint32_t)ALIGN_UP((size_t)s->ways * nw * 8, 64);
	/*
	 * The tag blocks, then the entries, in one block; a big cache (the
	 * IOTLB at 64K entries is 5 MiB) on huge pages: no TLB miss per set.
	 * Aligned so that a 4-way IOTLB's entry blocks (256 bytes, after at
	 * least four 64-byte tag blocks) are aligned to their size: the hit
	 * path tells the way from the entry's address (XC_TLB4_WAY()).
	 */
	s->sets = ualloc_huge(XC_ENTS_ALIGN,
			      ((size_t)s->nsets << s->tshift) + (size_t)s->nsets * s->estride);
	if (!s->sets)
		return -ENOMEM;
	s->ents = s->sets + ((size_t)s->nsets << s->tshift);
	/* (At least 4 sets: the entries' alignment, XC_ENTS_ALIGN.) */
	s->geom4 = s->ways == 4 && s->set_mask && s->nsets >= 4;
	for (uint32_t i = 0; i < s->nsets; i++)
		xc_hdr(s, i)->lru = 0xfedcba9876543210ULL;
	return 0;
}

static void cset_free(struct xc_cset *s)
{
	ufree(s->sets);
	s->sets = NULL;
}

void xlate_cache_free(struct xlate_cache *c)
{
	if (!c)
		return;
	xc_reg_del(c);
	cset_free(&c->iotlb);
	cset_free(&c->ipa);
	cset_free(&c->cfg);
	for (int st = 0; st < 2; st++)
		for (int d = 0; d < XC_WALK_DEPTHS; d++)
			cset_free(&c->walk[st][d]);
	ufree(c->vm_mem);
	ufree(c->as);
	ufree(c->sid);
	ufree(c->shard);
	ufree(c);
}

int xlate_cache_new(const struct xlate_cache_params *p, struct xlate_cache **out)
{
	struct xlate_cache *c;
	bool lru = p->repl == XLATE_REPL_LRU;
	int ret = 0;

	*out = NULL;
	if (p->repl != XLATE_REPL_LRU && p->repl != XLATE_REPL_RANDOM)
		return -EINVAL;
	if (geom_check(&p->iotlb) || geom_check(&p->ipa) || geom_check(&p->cfg) ||
	    geom_check(&p->walk[0]) || geom_check(&p->walk[1]))
		return -EINVAL;
	c = ualloc_aligned(64, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->params = *p;
	c->rng = p->seed ? p->seed : 0x9e3779b97f4a7c15ULL;
	c->seq = 1; /* stamps start at 0: every fill is newer than "never flushed" */
	/* As if an invalidation numbered 1 had ended (xc_may_fill()). */
	c->gsc.pend = c->gsc.done = 1;
	c->cur = &c->gsc;
	/* Lazily zeroed by the system: only the VMIDs in use cost pages. */
	c->vm_mem = ucalloc(1, (size_t)XC_VMIDS * sizeof(struct xc_vm) + 64);
	c->as = ualloc_aligned(64, XC_ASID_SLOTS * sizeof(struct xc_as));
	c->sid = ucalloc(XC_SID_SLOTS, sizeof(uint64_t));
	c->shard = ualloc_aligned(64, XC_SHARDS * sizeof(struct xc_shard));
	if (!c->vm_mem || !c->as || !c->sid || !c->shard) {
		ret = -ENOMEM;
		goto fail;
	}
	c->vm = (struct xc_vm *)ALIGN_UP((uintptr_t)c->vm_mem, 64);
	ret = cset_init(&c->iotlb, &p->iotlb, XC_TLB_NW, XC_KIND_TLB, XC_G_IOTLB, lru);
	if (!ret)
		ret = cset_init(&c->ipa, &p->ipa, XC_IPA_NW, XC_KIND_S2, XC_G_IPA, lru);
	if (!ret)
		ret = cset_init(&c->cfg, &p->cfg, XC_CFG_NW, XC_KIND_CFG, XC_G_CFG, lru);
	for (int st = 0; st < 2 && !ret; st++)
		for (int d = 0; d < XC_WALK_DEPTHS && !ret; d++)
			ret = cset_init(&c->walk[st][d], &p->walk[st], XC_WALK_NW,
					st ? XC_KIND_S2 : XC_KIND_S1,
					XC_G_WALK + st * PT_MAX_LEVELS + d, lru);
	if (ret)
		goto fail;
	c->n4k = c->walk[0][0].sets && c->walk[1][0].sets && c->ipa.geom4 && c->iotlb.geom4;
	xc_reg_add(c);
	*out = c;
	return 0;
fail:
	xlate_cache_free(c);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Sets: lock, insert, remove                                             */

unsigned int xc_victim(struct xlate_cache *c, const struct xc_cset *s, struct xc_hdr *h)
{
	uint64_t x;

	if (s->lru)
		return (unsigned int)(__atomic_load_n(&h->lru, __ATOMIC_RELAXED) >>
				      (4 * (s->ways - 1))) & 15;
	/* xorshift64; racing fills may reuse a state, which only repeats a choice. */
	x = __atomic_load_n(&c->rng, __ATOMIC_RELAXED);
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	__atomic_store_n(&c->rng, x, __ATOMIC_RELAXED);
	return (unsigned int)(x % s->ways);
}



/*
 * A way of set @h (@ways ways, entries of @nw words from @e0) whose entry
 * is dead, or -1; when every way is live, the set remembers the newest
 * flush (h->live) so that fills look again only after the next one.
 */
int xc_dead_way(const struct xlate_cache *c, const struct xc_cset *s, struct xc_hdr *h,
		const uint64_t *e0, unsigned int ways, unsigned int nw)
{
	uint32_t fl = (uint32_t)xc_ld(&c->flushed);

	for (unsigned int w = 0; w < ways; w++) {
		const uint64_t *e = e0 + (size_t)w * nw;

		if (!xc_live(c, (enum xc_kind)s->kind, xc_ld(&e[XC_K1]), xc_ld(&e[XC_STAMP])))
			return (int)w;
	}
	__atomic_store_n(&h->live, fl, __ATOMIC_RELAXED);
	return -1;
}

/* xc_insert_way() with the size mask loaded here, counted. */
static inline __attribute__((always_inline)) void
xc_insert(struct xlate_cache *c, struct xc_cset *s, uint64_t hash, uint64_t k0,
	  const uint64_t *ent, const unsigned int nw, unsigned int lg, uint64_t s0, int level)
{
	uint64_t m = __atomic_load_n(&s->sizes, __ATOMIC_SEQ_CST);
	int r;

	if (likely(s->geom4))
		r = xc_insert_way(c, s, hash, k0, ent, nw, lg, s0, level, m, true);
	else
		r = xc_insert_way(c, s, hash, k0, ent, nw, lg, s0, level, m, false);
	if (r >= 0)
		xc_count_fill(c, s->grp, r);
}

/*
 * What a removal matches: key0 and key1 under masks, and optionally a
 * level (the one a TTL hint names, kept in the fingerprint).
 */
struct xc_match {
	uint64_t m0, k1, m1;
	int ttl;		/* -1: any */
	uint32_t fp, fpm;	/* the same as a fingerprint and its mask (match_fp()) */
};

/*
 * Complete @m with the fingerprint it matches: VMID and stage-2 flag
 * always, the ASID's flush slot when it names an ASID, the level when it
 * has one.
 */
static inline __attribute__((always_inline)) void match_fp(struct xc_match *m)
{
	m->fp = xc_fp(m->k1, m->ttl);
	m->fpm = XC_FP_VMID | XC_FP_S2 | ((m->m1 & XC_K1_ASID) == XC_K1_ASID ? XC_FP_SLOT : 0) |
		 (m->ttl >= 0 ? XC_FP_LEVEL : 0);
}

/* Key1 of the entry at @e against @m, exactly (the configuration cache's removals). */
static inline bool match_entry(const uint64_t *e, const struct xc_match *m)
{
	return !((xc_ld(&e[XC_K1]) ^ m->k1) & m->m1);
}

/* 1 when the tag at @t is @k0 under the mask @m0, else 0. */
static inline unsigned int tag_is(const uint64_t *t, uint64_t k0, uint64_t m0)
{
	return ((xc_ld(t) ^ k0) & m0) == 0;
}

/*
 * Remove way @w of set @h (of @ways ways) if its tag and fingerprint match:
 * the tag line alone decides.
 */
static inline __attribute__((always_inline)) unsigned int
remove_way(struct xc_hdr *h, unsigned int ways, unsigned int w, uint64_t k0,
	   const struct xc_match *m)
{
	uint64_t *tag = &xc_tags(h)[w];

	if (likely(!tag_is(tag, k0, m->m0)) ||
	    ((__atomic_load_n(&xc_fps(h, ways)[w], __ATOMIC_RELAXED) ^ m->fp) & m->fpm))
		return 0;
	xc_st(tag, 0);
	return 1;
}

/*
 * Remove the entries of set @h that match (@k0 for key0, the rest from @m);
 * returns how many. No lock: the set's tag line is scanned once the set's
 * count is even, and a removal is one store of 0 to its tag (the essay has
 * why that is enough). Only a candidate by key0 costs a read of its entry.
 */
static inline __attribute__((always_inline)) unsigned int
xc_remove(const struct xc_cset *s, struct xc_hdr *h, uint64_t k0, const struct xc_match *m)
{
	unsigned int n = 0;

	while (__atomic_load_n(&h->seq, __ATOMIC_ACQUIRE) & 1)
		xc_cpu_relax();
	for (unsigned int w = 0; w < s->ways; w++)
		n += remove_way(h, s->ways, w, k0, m);
	return n;
}

/* The same for a set of 4 ways (unrolled). */
static inline __attribute__((always_inline)) unsigned int
xc_remove4(struct xc_hdr *h, uint64_t k0, const struct xc_match *m)
{
	while (__atomic_load_n(&h->seq, __ATOMIC_ACQUIRE) & 1)
		xc_cpu_relax();
	return remove_way(h, 4, 0, k0, m) + remove_way(h, 4, 1, k0, m) +
	       remove_way(h, 4, 2, k0, m) + remove_way(h, 4, 3, k0, m);
}

/* The configuration cache: key1 compared exactly (in the entry: SIDs are 32 bits). */
static unsigned int xc_remove_exact(const struct xc_cset *s, uint32_t set, uint64_t k0,
				    const struct xc_match *m)
{
	struct xc_hdr *h = xc_hdr(s, set);
	unsigned int n = 0;

	while (__atomic_load_n(&h->seq, __ATOMIC_ACQUIRE) & 1)
		xc_cpu_relax();
	for (unsigned int w = 0; w < s->ways; w++) {
		uint64_t *tag = &xc_tags(h)[w];

		if (tag_is(tag, k0, m->m0) && match_entry(xc_entry(s, set, w), m)) {
			xc_st(tag, 0);
			n++;
		}
	}
	return n;
}

#define XC_REMOVE_AHEAD 16	  /* sets prefetched ahead in a big cache */
#define XC_REMOVE_BIG	(1u << 20) /* bytes of sets past which a cache is big */

/*
 * Remove matching entries of every size present that cover any byte of
 * [first, last] (@m: key0's mask, key1 and its mask, the level). Returns
 * false when that would take more probes than the cache has sets (having
 * removed at most what the sizes before the one that overflowed held): the
 * caller flushes instead, so the cost never grows with the capacity.
 * Consecutive pages of one size go to consecutive sets, so with a
 * power-of-two number of sets the walk steps from set to set.
 */
static inline __attribute__((always_inline)) bool
xc_remove_range(struct xlate_cache *c, struct xc_cset *s, uint64_t first, uint64_t last,
		uint32_t vmid, const struct xc_match *mp)
{
	const struct xc_match mm = *mp, *m = &mm; /* in registers, whatever the stores alias */
	uint64_t sizes, total = 0;
	unsigned int n = 0;

	if (!s->sets)
		return true;
	sizes = __atomic_load_n(&s->sizes, __ATOMIC_RELAXED);
	for (; sizes; sizes &= sizes - 1) {
		unsigned int lg = (unsigned int)__builtin_ctzll(sizes);
		uint64_t low = ((uint64_t)lg << XC_K0_LG_SHIFT) | XC_K0_VALID;
		uint64_t p = first >> lg, pl = last >> lg, hash = xc_hash(p << lg, lg, vmid);

		total += pl - p + 1;
		if (total > s->nsets || total == 0)
			return false;
		if (p == pl) {
			/* One page of this size (a single-page invalidation): one set. */
			struct xc_hdr *h = xc_hdr(s, xc_set_of(s, hash));

			n += likely(s->ways == 4) ? xc_remove4(h, p << lg | low, m)
						   : xc_remove(s, h, p << lg | low, m);
			continue;
		}
		if (likely(s->set_mask && s->ways == 4)) {
			/* Tag blocks of one line, one after the other. */
			const uint32_t stride = 1u << XC_TLB4_TSHIFT;
			uint8_t *end = s->sets + (size_t)s->nsets * stride;
			const bool big = (size_t)s->nsets * (stride + s->estride) > XC_REMOVE_BIG;
			uint8_t *h = s->sets + (size_t)(hash & s->set_mask) * stride;

			for (;; p++) {
				/*
				 * A cache larger than a core's L2 lives in L3 or
				 * memory: the sets ahead load while this one is
				 * searched.
				 */
				if (big && pl - p > XC_REMOVE_AHEAD) {
					uint8_t *a = h + XC_REMOVE_AHEAD * stride;

					__builtin_prefetch(a < end ? a : a - (end - s->sets), 1);
				}
				n += xc_remove4((struct xc_hdr *)h, p << lg | low, m);
				if (p == pl)
					break;
				h += stride;
				if (h == end)
					h = s->sets;
			}
			continue;
		}
		for (;; p++, hash++) {
			n += xc_remove(s, xc_hdr(s, xc_set_of(s, hash)), p << lg | low, m);
			if (p == pl)
				break;
		}
	}
	if (n)
		xc_count_n(c, s->grp, XC_INVAL, n);
	return true;
}

/* ---------------------------------------------------------------------- */
/* IOTLB lookups (tests, and xlate()'s general case)                      */

#define SZ4(k) (1ULL << (k)), (1ULL << ((k) + 1)), (1ULL << ((k) + 2)), (1ULL << ((k) + 3))
const uint64_t xc_lg_size[64] = { 0,	   2,	   4,	    8,	     SZ4(4),  SZ4(8),  SZ4(12),
				  SZ4(16), SZ4(20), SZ4(24), SZ4(28), SZ4(32), SZ4(36), SZ4(40),
				  SZ4(44), SZ4(48), SZ4(52), SZ4(56), SZ4(60) };

bool xc_tlb_lookup_for(const struct xlate_cache *c, uint64_t k1, bool user, uint64_t iova,
		       unsigned int need, struct xc_tlb_hit *hit)
{
	struct xc_tlb_key k = xc_tlb_key_of(k1, user);
	uint64_t m = __atomic_load_n(&c->iotlb.sizes, __ATOMIC_RELAXED);
	struct xc_tlb_img img;

	if (!xc_tlb_probe_all(&c->iotlb, &k, m, iova, hit) || !xc_tlb_live(c, k1, hit->stamp))
		return false;
	if (need & ~xc_tlb_hit_grant(hit))
		return false;
	xc_tlb_touch(c->iotlb.lru, hit);
	img = xc_tlb_img_get((uint64_t[]){ hit->img0, hit->img1, hit->img2, hit->img3 });
	hit->meta = xc_tlb_meta(img.s1_prot, img.s2_prot, img.grant, img.s1_level, img.s2_level,
				img.lg1, img.lg2);
	return true;
}

bool xc_tlb_lookup(const struct xlate_cache *c, uint64_t k1, bool user, uint64_t iova,
		   struct xc_tlb_hit *hit)
{
	return xc_tlb_lookup_for(c, k1, user, iova, 0, hit);
}

/* ---------------------------------------------------------------------- */
/* Fills (from xlate.c)                                                   */


void xc_tlb_fill_img(struct xlate_cache *c, uint64_t s0, uint64_t k1, bool user, uint64_t base,
		     unsigned int lg, uint64_t pa, uint64_t ipa, const struct xc_tlb_img *img)
{
	const uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;
	const int level = k1 & XC_K1_S2ONLY ? img->s2_level : img->s1_level;
	uint64_t w[XC_TLB_IMGW];

	memcpy(w, img, sizeof(w));
	__atomic_store_n(xc_hint(c, xc_tlb_key_of(k1, user).hv, base), (uint8_t)lg,
			 __ATOMIC_RELAXED);
	if (!c->iotlb.sets)
		return;
	if (likely(c->iotlb.geom4)) {
		int r = xc_tlb_insert4(c, &c->iotlb, xc_hash(base, lg, vmid),
				       xc_key0(base, lg, user), k1, s0, pa, ipa, w, lg, level,
				       __atomic_load_n(&c->iotlb.sizes, __ATOMIC_SEQ_CST));

		if (r >= 0)
			xc_count_fill(c, XC_G_IOTLB, r);
	} else {
		uint64_t e[XC_TLB_NW] = { k1, s0, pa, ipa, w[0], w[1], w[2], w[3] };

		xc_insert(c, &c->iotlb, xc_hash(base, lg, vmid), xc_key0(base, lg, user), e,
			  XC_TLB_NW, lg, s0, level);
	}
}

void xc_tlb_fill(struct xlate_cache *c, uint64_t s0, uint64_t k1, bool user, uint64_t base,
		 unsigned int lg, uint64_t pa, uint64_t ipa, uint64_t meta)
{
	unsigned int lg1 = xc_tlb_lg1(meta);
	struct xc_tlb_img img = {
		.prot = xc_tlb_p1(meta) & xc_tlb_p2(meta),
		.s1_prot = xc_tlb_p1(meta),
		.s2_prot = xc_tlb_p2(meta),
		.s1_level = xc_tlb_l1(meta),
		.s2_level = xc_tlb_l2(meta),
		.grant = (uint8_t)xc_tlb_grant(meta),
		.lg1 = (uint8_t)lg1,
		.lg2 = (uint8_t)xc_tlb_lg2(meta),
		.s1_size = lg1 ? 1ULL << lg1 : 0,
	};

	xc_tlb_fill_img(c, s0, k1, user, base, lg, pa, ipa, &img);
}

void xc_ipa_fill(struct xlate_cache *c, uint64_t s0, uint32_t vmid, uint64_t base,
		 unsigned int lg, uint64_t pa, unsigned int prot, unsigned int grant, int level)
{
	struct xc_ipa_meta meta = { .level = level,
				    .prot = (uint8_t)(prot & 15),
				    .grant = (uint8_t)(grant & 15) };
	uint64_t e[XC_IPA_NW] = { xc_key1(vmid, 0), s0, pa };

	memcpy(&e[XC_IPA_META], &meta, sizeof(meta));
	if (c->ipa.sets)
		xc_insert(c, &c->ipa, xc_hash(base, lg, vmid), xc_key0(base, lg, false), e, XC_IPA_NW,
			  lg, s0, level);
}

void xc_walk_fill(struct xlate_cache *c, uint64_t s0, int stage, unsigned int depth, uint64_t k1,
		  bool user, uint64_t base, unsigned int lg, uint64_t table, uint64_t meta)
{
	struct xc_cset *s = &c->walk[stage][depth];
	uint64_t e[XC_WALK_NW] = { k1, s0, table, stage ? meta & XC_WALK_M_PROT : meta };

	if (s->sets)
		xc_insert(c, s, xc_hash(base, lg, (uint32_t)(k1 >> 32) & 0xffff),
			  xc_key0(base, lg, user), e, XC_WALK_NW, lg, s0, -1);
}

/* ---------------------------------------------------------------------- */
/* Invalidation                                                           */

/*
 * Begin an invalidation in scope @sc: announce it there, then advance the
 * sequence (release: a walk that reads the new sequence sees the
 * announcement, and fills nothing: it may still use entries the
 * invalidation is about to remove), then a full fence, which orders both
 * stores before every load of what fills wrote (size masks, set counts).
 * Returns the new sequence, which is also the flush stamp.
 */
static inline uint64_t inv_announce(struct xlate_cache *c, struct xc_scope *sc)
{
	uint64_t s = __atomic_load_n(&c->seq, __ATOMIC_RELAXED) + 1;

	__atomic_store_n(&c->cur, sc, __ATOMIC_RELAXED);
	__atomic_store_n(&sc->pend, s, __ATOMIC_RELAXED);
	__atomic_store_n(&c->seq, s, __ATOMIC_RELEASE);
	return s;
}

uint64_t xc_inv_begin(struct xlate_cache *c, struct xc_scope *sc)
{
	uint64_t s = inv_announce(c, sc);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return s;
}

/*
 * xc_inv_begin() for an invalidation that only stores flush stamps (and
 * clears size bits): no fence. The fence orders the announcement before
 * the loads of a search (the size mask, set counts); a flush loads
 * nothing, and needs none of it: a fill made under an older sequence
 * carries a stamp the flush makes dead, whenever it lands, and a walk
 * that read the new sequence fills only once it has seen the flush's
 * done (release / acquire), after every stamp. So the call does not wait
 * for its stores to reach memory (a fence would, and after a large fill
 * the stamps' lines are cold: W7's first call after a fill).
 */
static uint64_t inv_begin_flush(struct xlate_cache *c, struct xc_scope *sc)
{
	return inv_announce(c, sc);
}

/* Every entry the invalidation removes or kills is gone: walks may fill again. */
void xc_inv_end(struct xc_scope *sc, uint64_t s)
{
	__atomic_store_n(&sc->done, s, __ATOMIC_RELEASE);
}

/* A flush stamp, then the newest flush of any kind (xc_live()'s first test). */
static void stamp(struct xlate_cache *c, uint64_t *p, uint64_t s)
{
	__atomic_store_n(p, s, __ATOMIC_RELEASE);
	__atomic_store_n(&c->flushed, s, __ATOMIC_RELEASE);
}

/* A flush stamp that can kill IOTLB entries: also the newest such flush (the hit path's). */
static void stamp_tlb(struct xlate_cache *c, uint64_t *p, uint64_t s)
{
	stamp(c, p, s);
	__atomic_store_n(&c->tlb_flushed, s, __ATOMIC_RELEASE);
}

static struct xc_scope *asid_scope(struct xlate_cache *c, uint16_t vmid, uint32_t asid)
{
	return &c->as[xc_asid_slot(vmid, asid)].sc;
}

void xlate_inv_all(struct xlate_cache *c)
{
	uint64_t s = inv_begin_flush(c, &c->gsc);

	/*
	 * Every entry present now is dead once the stamp is stored: forget
	 * their sizes. Relaxed: a fill that set a bit before the clear made an
	 * entry the stamp kills; one that sets it after leaves a bit too many
	 * (a probe more); no fill under the new sequence sets one before done
	 * (release, after these stores); the next search reads the mask after
	 * its own fence, in this thread's program order after the clears.
	 */
	__atomic_store_n(&c->iotlb.sizes, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->ipa.sizes, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->cfg.sizes, 0, __ATOMIC_RELAXED);
	for (int st = 0; st < 2; st++)
		for (int d = 0; d < XC_WALK_DEPTHS; d++)
			__atomic_store_n(&c->walk[st][d].sizes, 0, __ATOMIC_RELAXED);
	stamp_tlb(c, &c->all, s);
	xc_inv_end(&c->gsc, s);
}

void xlate_inv_vmid(struct xlate_cache *c, uint16_t vmid)
{
	struct xc_vm *vm = &c->vm[vmid];
	uint64_t s = inv_begin_flush(c, &vm->sc);

	stamp(c, &vm->comb, s);
	stamp_tlb(c, &vm->s2, s);
	xc_inv_end(&vm->sc, s);
}

void xlate_inv_asid(struct xlate_cache *c, uint16_t vmid, uint32_t asid)
{
	struct xc_as *as = &c->as[xc_asid_slot(vmid, asid)];
	uint64_t s = inv_begin_flush(c, &as->sc);

	stamp_tlb(c, &as->stamp, s);
	xc_inv_end(&as->sc, s);
}

static uint64_t range_last(uint64_t addr, uint64_t size)
{
	uint64_t last = addr + (size - 1);

	return last < addr ? UINT64_MAX : last;
}

void xlate_inv_range(struct xlate_cache *c, uint16_t vmid, uint32_t asid, uint64_t iova,
		     uint64_t size, unsigned int flags, int ttl)
{
	struct xc_scope *sc;
	uint64_t s, last;
	struct xc_match m;
	bool ok;

	if (!size)
		return;
	last = range_last(iova, size);
	sc = asid == XLATE_ANY_ASID ? &c->vm[vmid].sc : asid_scope(c, vmid, asid);
	s = xc_inv_begin(c, sc);
	/* Combined entries of this ASID (or any), never stage-2-only ones (IPA entries). */
	m = (struct xc_match){ .m0 = ~XC_K0_USER,
			       .k1 = xc_key1(vmid, asid == XLATE_ANY_ASID ? 0 : asid),
			       .m1 = asid == XLATE_ANY_ASID ? ~XC_K1_ASID : ~0ULL,
			       .ttl = ttl < 0 ? -1 : ttl };
	match_fp(&m);
	ok = xc_remove_range(c, &c->iotlb, iova, last, vmid, &m);
	if (!(flags & XLATE_INV_LEAF)) {
		/* Walk caches: every level; TTL names the leaf, not the tables above it. */
		m.ttl = -1;
		match_fp(&m);
		for (int d = 0; d < XC_WALK_DEPTHS && ok; d++)
			ok = xc_remove_range(c, &c->walk[0][d], iova, last, vmid, &m);
	}
	/* Too large to search: flush the ASID (stage-1 entries of the VMID for ANY_ASID). */
	if (!ok && asid == XLATE_ANY_ASID) {
		stamp_tlb(c, &c->vm[vmid].comb, s);
	} else if (!ok) {
		stamp_tlb(c, &c->as[xc_asid_slot(vmid, asid)].stamp, s);
	}
	xc_inv_end(sc, s);
}

void xlate_inv_ipa(struct xlate_cache *c, uint16_t vmid, uint64_t ipa, uint64_t size,
		   unsigned int flags, int ttl)
{
	uint64_t s, last;
	struct xc_match m;
	bool ok;

	if (!size)
		return;
	last = range_last(ipa, size);
	s = xc_inv_begin(c, &c->vm[vmid].sc);
	m = (struct xc_match){ .m0 = ~0ULL,
			       .k1 = xc_key1(vmid, 0),
			       .m1 = ~0ULL,
			       .ttl = ttl < 0 ? -1 : ttl };
	match_fp(&m);
	ok = xc_remove_range(c, &c->ipa, ipa, last, vmid, &m);
	/* Stage-2-only IOTLB entries are stage-2 results: IPA = input address. */
	m.k1 = xc_key1(vmid, 0) | XC_K1_S2ONLY;
	m.m0 = ~XC_K0_USER;
	match_fp(&m);
	if (ok)
		ok = xc_remove_range(c, &c->iotlb, ipa, last, vmid, &m);
	if (!(flags & XLATE_INV_LEAF)) {
		m.k1 = xc_key1(vmid, 0);
		m.m0 = ~0ULL;
		m.ttl = -1;
		match_fp(&m);
		for (int d = 0; d < XC_WALK_DEPTHS && ok; d++)
			ok = xc_remove_range(c, &c->walk[1][d], ipa, last, vmid, &m);
	}
	if (!ok)
		stamp_tlb(c, &c->vm[vmid].s2, s);
	/*
	 * Combined entries built over this IPA: the architecture removes them
	 * only with a later stage-1 invalidation of the VMID (TLBI_S2_IPA is
	 * followed by NH_ALL or S12_VMALL); the conservative option drops them
	 * now.
	 */
	if (c->params.ipa_inval_conservative)
		stamp_tlb(c, &c->vm[vmid].comb, s);
	xc_inv_end(&c->vm[vmid].sc, s);
}

/* ---------------------------------------------------------------------- */
/* Configuration cache                                                    */

/* The sequence a configuration fetch started under: the last miss of this thread. */
static __thread struct {
	const struct xlate_cache *c;
	uint32_t sid, ssid;
	uint64_t seq;
	bool may_fill;
} cfgc_miss __attribute__((tls_model("initial-exec")));

static uint64_t cfgc_hash(uint32_t sid, uint32_t ssid)
{
	return xc_mix(((uint64_t)sid << 32) | ssid);
}

bool xlate_cfgc_lookup(struct xlate_cache *c, uint32_t sid, uint32_t ssid, void *buf)
{
	struct xc_cset *s = &c->cfg;
	uint64_t k1 = ((uint64_t)sid << 32) | ssid;
	uint64_t v[XC_CFG_NW - XC_STAMP];
	uint32_t set;
	int way;

	if (!s->sets)
		return false;
	cfgc_miss.c = c;
	cfgc_miss.sid = sid;
	cfgc_miss.ssid = ssid;
	cfgc_miss.seq = xc_begin(c);
	cfgc_miss.may_fill = xc_scope_quiet(&c->gsc) && xc_scope_quiet(&c->cfg_sc);
	set = xc_set_of(s, cfgc_hash(sid, ssid));
	way = xc_probe(s, set, XC_K0_VALID, k1, v, XC_CFG_NW - XC_STAMP);
	if (way < 0 || !xc_live(c, XC_KIND_CFG, k1, v[0])) {
		xc_count(c, XC_G_CFG, XC_MISS);
		return false;
	}
	xc_touch(s, set, (unsigned int)way);
	xc_count(c, XC_G_CFG, XC_HIT);
	memcpy(buf, &v[2], MIN(v[1], XLATE_CFGC_BYTES));
	cfgc_miss.c = NULL;
	return true;
}

void xlate_cfgc_insert(struct xlate_cache *c, uint32_t sid, uint32_t ssid, const void *buf,
		       unsigned int len)
{
	uint64_t e[XC_CFG_NW] = { 0 };
	uint64_t s0 = xc_begin(c);
	bool may_fill = xc_scope_quiet(&c->gsc) && xc_scope_quiet(&c->cfg_sc);

	if (!c->cfg.sets || len > XLATE_CFGC_BYTES)
		return;
	if (cfgc_miss.c == c && cfgc_miss.sid == sid && cfgc_miss.ssid == ssid) {
		s0 = cfgc_miss.seq;
		may_fill = cfgc_miss.may_fill;
		cfgc_miss.c = NULL;
	}
	if (!may_fill)
		return;
	e[XC_K1] = ((uint64_t)sid << 32) | ssid;
	e[XC_STAMP] = s0;
	e[XC_V0] = len;
	memcpy(&e[XC_V0 + 1], buf, len);
	xc_insert(c, &c->cfg, cfgc_hash(sid, ssid), XC_K0_VALID, e, XC_CFG_NW, 0, s0, -1);
}

void xlate_cfgc_inv(struct xlate_cache *c, uint32_t sid, uint32_t ssid)
{
	uint64_t s = xc_inv_begin(c, &c->cfg_sc);
	struct xc_match m = { .m0 = ~0ULL, .k1 = ((uint64_t)sid << 32) | ssid, .m1 = ~0ULL,
			      .ttl = -1 };

	if (ssid == UINT32_MAX) {
		stamp(c, &c->sid[xc_sid_slot(sid)], s);
	} else if (c->cfg.sets) {
		uint32_t set = xc_set_of(&c->cfg, cfgc_hash(sid, ssid));
		unsigned int n = xc_remove_exact(&c->cfg, set, XC_K0_VALID, &m);

		if (n)
			xc_count_n(c, XC_G_CFG, XC_INVAL, n);
	}
	xc_inv_end(&c->cfg_sc, s);
}

void xlate_cfgc_inv_all(struct xlate_cache *c)
{
	uint64_t s = inv_begin_flush(c, &c->cfg_sc);

	stamp(c, &c->cfg_all, s);
	xc_inv_end(&c->cfg_sc, s);
}

bool xc_live_slow(const struct xlate_cache *c, enum xc_kind kind, uint64_t k1, uint64_t stamp)
{
	return xc_live_rest(c, kind, k1, stamp);
}

/* ---------------------------------------------------------------------- */
/* Statistics                                                             */

void xc_sw_fold(const struct xlate_cache *c, uint64_t v[XC_NGRP][XC_NCTR], const uint64_t *sw)
{
	const unsigned int w2 = XC_G_WALK + PT_MAX_LEVELS;

	for (unsigned int d1 = 0; d1 < XC_WALK_DEPTHS; d1++) {
		for (unsigned int ev = 0; ev < 2; ev++) {
			uint64_t n1 = sw[XC_SW_S1 + d1 * 2 + ev], n2 = sw[XC_SW_S2 + d1 * 2 + ev];

			v[XC_G_WALK + d1][XC_HIT] += n1;
			v[w2 + d1][XC_HIT] += n2;
			v[XC_G_IOTLB][XC_MISS] += n1 + n2;
			v[XC_G_IOTLB][XC_FILL] += n1 + n2;
			v[XC_G_IOTLB][XC_EVICT] += (n1 + n2) * ev;
			if (c->ipa.sets)
				v[XC_G_IPA][XC_MISS] += n2;
		}
		for (unsigned int d2 = 0; d2 < XC_WALK_DEPTHS; d2++) {
			for (unsigned int k = 0; k < 8; k++) {
				const bool ti = k & 4, w = k & 2;
				const unsigned int ev = k & 1;
				uint64_t n = sw[XC_SW_N4K + xc_sw_n4k(d1, d2, ti, w, ev)];

				v[XC_G_WALK + d1][XC_HIT] += n;
				v[XC_G_IOTLB][XC_MISS] += n;
				v[XC_G_IOTLB][XC_FILL] += n;
				v[XC_G_IOTLB][XC_EVICT] += n * ev;
				v[XC_G_IPA][XC_HIT] += n * ((unsigned int)ti + !w);
				if (w) {
					v[XC_G_IPA][XC_MISS] += n;
					v[w2 + d2][XC_HIT] += n;
				}
			}
		}
	}
}

/* Every shard's counters summed, the short walks' folded in. */
static void sum_shards(const struct xlate_cache *c, uint64_t v[XC_NGRP][XC_NCTR])
{
	uint64_t sw[XC_SW_N] = { 0 };

	memset(v, 0, sizeof(uint64_t) * XC_NGRP * XC_NCTR);
	for (unsigned int i = 0; i < XC_SHARDS; i++) {
		for (unsigned int g = 0; g < XC_NGRP; g++)
			for (unsigned int k = 0; k < XC_NCTR; k++)
				v[g][k] += __atomic_load_n(&c->shard[i].v[g][k], __ATOMIC_RELAXED);
		for (unsigned int k = 0; k < XC_SW_N; k++)
			sw[k] += __atomic_load_n(&c->shard[i].sw[k], __ATOMIC_RELAXED);
	}
	xc_sw_fold(c, v, sw);
}

static void sum_group(const uint64_t t[XC_NCTR], struct xlate_cache_counters *out)
{
	out->hits = t[XC_HIT];
	out->misses = t[XC_MISS];
	out->fills = t[XC_FILL];
	out->evictions = t[XC_EVICT];
	out->invalidated = t[XC_INVAL];
}

void xlate_cache_get_stats(const struct xlate_cache *c, struct xlate_cache_stats *s)
{
	uint64_t v[XC_NGRP][XC_NCTR];

	memset(s, 0, sizeof(*s));
	sum_shards(c, v);
	sum_group(v[XC_G_IOTLB], &s->iotlb);
	sum_group(v[XC_G_IPA], &s->ipa);
	sum_group(v[XC_G_CFG], &s->cfg);
	for (int st = 0; st < 2; st++)
		for (int d = 0; d < PT_MAX_LEVELS; d++)
			sum_group(v[XC_G_WALK + st * PT_MAX_LEVELS + d], &s->walk[st][d]);
}

void xlate_cache_reset_stats(struct xlate_cache *c)
{
	for (unsigned int i = 0; i < XC_SHARDS; i++) {
		for (unsigned int g = 0; g < XC_NGRP; g++)
			for (unsigned int k = 0; k < XC_NCTR; k++)
				__atomic_store_n(&c->shard[i].v[g][k], 0, __ATOMIC_RELAXED);
		for (unsigned int k = 0; k < XC_SW_N; k++)
			__atomic_store_n(&c->shard[i].sw[k], 0, __ATOMIC_RELAXED);
	}
}

const char *xlate_cache_name(enum xlate_cache_id id)
{
	switch (id) {
	case XLATE_CACHE_IOTLB:
		return "iotlb";
	case XLATE_CACHE_WALK_S1:
		return "walk-s1";
	case XLATE_CACHE_WALK_S2:
		return "walk-s2";
	case XLATE_CACHE_IPA:
		return "ipa";
	case XLATE_CACHE_CFG:
		return "cfg";
	}
	return "?";
}
