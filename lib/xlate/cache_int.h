/* SPDX-License-Identifier: MIT */
/*
 * cache_int.h - inside lib/xlate: the layout of the translation caches,
 * shared by cache.c (which owns them: allocation, fills, invalidation,
 * statistics) and xlate.c, whose hit path reads them inline. Unit tests
 * include it to drive the caches with synthetic entries.
 *
 * One generic structure serves every cache (struct xc_cset): a
 * set-associative array of entries of nw 64-bit words,
 *
 *	word 0  key0   input base (aligned to 2^lg) | lg << 2 | U << 1 | valid
 *	word 1  key1   VMID << 32 | ASID (or SID << 32 | SSID), plus flags
 *	word 2  stamp  the invalidation sequence the fill's walk started under
 *	word 3+ value  per cache (see the XC_TLB_* / XC_IPA_* / XC_WALK_* words)
 *
 * Each set starts with a header (a sequence count that is also the set's
 * lock, and the LRU order) followed by its ways; sets are 64-byte aligned.
 * See cache.c for the protocol.
 */
#ifndef UIOMMU_XLATE_CACHE_INT_H
#define UIOMMU_XLATE_CACHE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/bits.h"
#include "xlate/cache.h"

#define XC_MAX_WAYS    16
#define XC_WALK_DEPTHS (PT_MAX_LEVELS - 1) /* walk caches hold table descriptors */
#define XC_VMIDS       65536
#define XC_ASID_SLOTS  4096
#define XC_SID_SLOTS   1024
#define XC_SHARDS      16

/* Entry words. */
enum { XC_K0 = 0, XC_K1, XC_STAMP, XC_V0 };

#define XC_K0_VALID    BIT(0)
#define XC_K0_USER     BIT(1) /* stage-1 entries: filled by an unprivileged access */
#define XC_K0_LG_SHIFT 2      /* bits 7:2: log2 of the bytes the entry covers */
#define XC_K1_S2ONLY   BIT(63) /* IOTLB: a stage-2-only context's entry (an IPA entry) */
#define XC_K1_ASID     0xffffffffULL

/* IOTLB: nw = 6; value words. */
#define XC_TLB_NW  6
#define XC_TLB_PA  3 /* output base */
#define XC_TLB_IPA 4 /* stage-1 output base */
#define XC_TLB_META 5
/* meta: p1 [3:0], p2 [7:4], grant [11:8], l1 [23:16], l2 [31:24], lg1 [37:32], lg2 [45:40] */
#define XC_TLB_L1_SHIFT 16
#define XC_TLB_L2_SHIFT 24

/* IPA cache: nw = 5. meta: prot [3:0], grant [11:8], level [23:16]. */
#define XC_IPA_NW	 5
#define XC_IPA_PA	 3
#define XC_IPA_META	 4
#define XC_IPA_LVL_SHIFT 16

/* Walk caches: nw = 5; the next table's address and the permission limit above it. */
#define XC_WALK_NW    5
#define XC_WALK_TABLE 3
#define XC_WALK_META  4

/* Configuration cache: nw = 3 + 1 + XLATE_CFGC_BYTES / 8 (length, then the bytes). */
#define XC_CFG_NW (XC_V0 + 1 + XLATE_CFGC_BYTES / 8)

/* Which flush stamps decide whether an entry is still live. */
enum xc_kind {
	XC_KIND_TLB = 0, /* combined (VMID.comb + ASID) or, with XC_K1_S2ONLY, stage 2 */
	XC_KIND_S1,	 /* stage-1 walk cache: VMID.s1 + ASID */
	XC_KIND_S2,	 /* stage-2 walk cache and IPA cache: VMID.s2 */
	XC_KIND_CFG,	 /* configuration cache: cfg_all + SID */
};

/* Counter groups and counters. */
enum {
	XC_G_IOTLB = 0,
	XC_G_IPA,
	XC_G_CFG,
	XC_G_WALK, /* + stage index * PT_MAX_LEVELS + depth */
	XC_NGRP = XC_G_WALK + 2 * PT_MAX_LEVELS,
};
enum { XC_HIT = 0, XC_MISS, XC_FILL, XC_EVICT, XC_INVAL, XC_NCTR };

struct xc_hdr {
	uint32_t seq;	/* odd while a writer holds the set (it is the set's lock) */
	uint32_t spare;
	uint64_t lru;	/* nibble r = the way of recency rank r (0 = most recent) */
};

struct xc_cset {
	uint8_t *sets;	   /* nsets * stride bytes, 64-byte aligned; NULL: cache off */
	uint32_t nsets, ways, nw, stride;
	uint32_t set_mask; /* nsets - 1 when nsets is a power of two (> 1), else 0 */
	uint16_t grp;	   /* counter group */
	uint8_t kind;	   /* enum xc_kind */
	uint8_t lru;	   /* replacement is LRU (else random) */
	uint64_t sizes;	   /* atomic: bit lg set when entries covering 2^lg bytes may exist */
};

/*
 * An invalidation scope (everything, one VMID, one hashed ASID slot, the
 * configuration cache): the sequence of the last invalidation that began
 * in it (stored before the sequence advances) and of the last that ended.
 * pend != done: one is under way, and walks in that scope fill nothing.
 */
struct xc_scope {
	uint64_t pend, done;
};

/* One VMID: its flush stamps (an entry filled under a smaller sequence is dead). */
struct xc_vm {
	uint64_t comb; /* combined IOTLB entries */
	uint64_t s1;   /* stage-1 walk-cache entries */
	uint64_t s2;   /* stage-2 walk cache, IPA cache, stage-2-only IOTLB entries */
	struct xc_scope sc;
	uint64_t spare[3];
};

/* One hashed (VMID, ASID) slot. */
struct xc_as {
	uint64_t stamp; /* flush stamp of its stage-1 entries */
	struct xc_scope sc;
	uint64_t spare;
};

struct xc_shard {
	uint64_t v[XC_NGRP][XC_NCTR];
} __attribute__((aligned(64)));

struct xlate_cache {
	/*
	 * The invalidation sequence, advanced by every invalidation, and the
	 * global scope (xlate_inv_all). Written only by invalidations; read
	 * by walks as they start. Own line.
	 */
	uint64_t seq __attribute__((aligned(64)));
	struct xc_scope gsc;
	/* Read-mostly from here on: flush stamps and the caches' geometry. */
	uint64_t all __attribute__((aligned(64)));
	uint64_t cfg_all;
	struct xc_scope cfg_sc; /* the configuration cache's invalidations */
	struct xc_vm *vm;	/* [XC_VMIDS] */
	struct xc_as *as;	/* [XC_ASID_SLOTS], hashed (VMID, ASID) */
	uint64_t *sid;		/* [XC_SID_SLOTS], hashed SID: flush stamps of all its substreams */
	struct xc_cset iotlb, ipa, cfg;
	struct xc_cset walk[2][XC_WALK_DEPTHS];
	struct xc_shard *shard; /* [XC_SHARDS] */
	void *vm_mem;
	struct xlate_cache_params params;
	/* Random replacement state (xorshift64), racy by design. Own line. */
	uint64_t rng __attribute__((aligned(64)));
};

/* ---------------------------------------------------------------------- */
/* Hashing, sets, liveness                                                */

static inline uint64_t xc_mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ULL;
	return x ^ (x >> 29);
}

/*
 * Set index of an entry covering [base, base + 2^lg) in @vmid (the ASID is
 * not in it, so a range invalidation for any ASID finds every set). As in
 * hardware TLBs, consecutive pages go to consecutive sets, so a sequential
 * stream fills a cache evenly; the VMID and size only rotate the start.
 */
#define XC_HASH_VMID 0x9e3779b1u
#define XC_HASH_LG   0x632be5abu
static inline uint64_t xc_hash(uint64_t base, unsigned int lg, uint32_t vmid)
{
	return (base >> lg) + (uint64_t)vmid * XC_HASH_VMID + (uint64_t)lg * XC_HASH_LG;
}

static inline uint32_t xc_set_of(const struct xc_cset *s, uint64_t h)
{
	if (likely(s->set_mask))
		return (uint32_t)(h & s->set_mask);
	return (uint32_t)(((xc_mix(h) >> 32) * s->nsets) >> 32);
}

static inline struct xc_hdr *xc_hdr(const struct xc_cset *s, uint32_t set)
{
	return (struct xc_hdr *)(s->sets + (size_t)set * s->stride);
}

static inline uint64_t *xc_ways(struct xc_hdr *h)
{
	return (uint64_t *)(h + 1);
}

static inline unsigned int xc_asid_slot(uint32_t vmid, uint32_t asid)
{
	return (unsigned int)((((uint64_t)vmid << 32 | asid) * 0x9e3779b97f4a7c15ULL) >> 52);
}

static inline unsigned int xc_sid_slot(uint32_t sid)
{
	return (unsigned int)(xc_mix(sid) & (XC_SID_SLOTS - 1));
}

static inline uint64_t xc_ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint64_t xc_key0(uint64_t base, unsigned int lg, bool user)
{
	return base | ((uint64_t)lg << XC_K0_LG_SHIFT) | (user ? XC_K0_USER : 0) | XC_K0_VALID;
}

static inline uint64_t xc_key1(uint32_t vmid, uint32_t asid)
{
	return ((uint64_t)vmid << 32) | asid;
}

/*
 * Is an entry with @k1 filled under @stamp still live? Flush stamps only
 * grow; the loads are relaxed: a translation that must see a flush starts
 * after the flush returned, which orders the stamp's store before them.
 */
static inline bool xc_live(const struct xlate_cache *c, enum xc_kind kind, uint64_t k1,
			   uint64_t stamp)
{
	uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;
	const struct xc_vm *vm = &c->vm[vmid];

	if (stamp < xc_ld(&c->all))
		return false;
	switch (kind) {
	case XC_KIND_TLB:
		if (k1 & XC_K1_S2ONLY)
			return stamp >= xc_ld(&vm->s2);
		return stamp >= xc_ld(&vm->comb) &&
		       stamp >= xc_ld(&c->as[xc_asid_slot(vmid, (uint32_t)k1)].stamp);
	case XC_KIND_S1:
		return stamp >= xc_ld(&vm->s1) &&
		       stamp >= xc_ld(&c->as[xc_asid_slot(vmid, (uint32_t)k1)].stamp);
	case XC_KIND_S2:
		return stamp >= xc_ld(&vm->s2);
	case XC_KIND_CFG:
		return stamp >= xc_ld(&c->cfg_all) &&
		       stamp >= xc_ld(&c->sid[xc_sid_slot((uint32_t)(k1 >> 32))]);
	}
	return false;
}

static inline void xc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/*
 * Look up (@k0, @k1) in one set without a lock. Copies words
 * [XC_STAMP, XC_STAMP + @nout) of the matching way to @out and returns the
 * way, or -1. A reader that finds the set locked or changed while it read
 * retries a few times, then reports a miss (a walk is always correct).
 */
static inline __attribute__((always_inline)) int
xc_probe(const struct xc_cset *s, uint32_t set, uint64_t k0, uint64_t k1, uint64_t *out,
	 unsigned int nout)
{
	struct xc_hdr *h = xc_hdr(s, set);
	const uint64_t *e0 = xc_ways(h);

	for (int tries = 0; tries < 4; tries++) {
		uint32_t sq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
		const uint64_t *e = e0;
		int way = -1;

		if (unlikely(sq & 1)) {
			xc_cpu_relax();
			continue;
		}
		for (unsigned int w = 0; w < s->ways; w++, e += s->nw) {
			if (xc_ld(&e[XC_K0]) != k0 || xc_ld(&e[XC_K1]) != k1)
				continue;
			for (unsigned int i = 0; i < nout; i++)
				out[i] = xc_ld(&e[XC_STAMP + i]);
			way = (int)w;
			break;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (likely(__atomic_load_n(&h->seq, __ATOMIC_RELAXED) == sq))
			return way;
	}
	return -1;
}

/* Move @way to the front of an LRU order (nibble permutation). */
static inline uint64_t xc_lru_promote(uint64_t order, unsigned int way)
{
	const uint64_t ones = 0x1111111111111111ULL;
	uint64_t x = order ^ (ones * way);
	uint64_t z = (x - ones) & ~x & (ones << 3);
	unsigned int r = (unsigned int)__builtin_ctzll(z) / 4; /* rank of @way */
	uint64_t below = order & mask_bits(4 * r);

	return (order & ~mask_bits(4 * r + 4)) | (below << 4) | way;
}

/*
 * A hit: make @way the most recent. Readers race here with plain relaxed
 * stores; a lost update only blurs recency, and every store writes a whole
 * valid permutation. No store at all when @way already leads, so a stream
 * of hits on one entry does not write the line.
 */
static inline void xc_touch(const struct xc_cset *s, uint32_t set, unsigned int way)
{
	struct xc_hdr *h = xc_hdr(s, set);
	uint64_t o;

	if (!s->lru)
		return;
	o = __atomic_load_n(&h->lru, __ATOMIC_RELAXED);
	if ((o & 15) != way)
		__atomic_store_n(&h->lru, xc_lru_promote(o, way), __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* Counters: per-thread shards, no atomic read-modify-write on the hit path */

extern __thread unsigned int xc_shard_tls __attribute__((tls_model("initial-exec")));
unsigned int xc_shard_assign(void);

static inline void xc_count_n(struct xlate_cache *c, unsigned int grp, unsigned int ctr,
			      uint64_t n)
{
	unsigned int i = xc_shard_tls;
	uint64_t *p;

	if (unlikely(!i))
		i = xc_shard_assign();
	p = &c->shard[i - 1].v[grp][ctr];
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline void xc_count(struct xlate_cache *c, unsigned int grp, unsigned int ctr)
{
	xc_count_n(c, grp, ctr, 1);
}

/* ---------------------------------------------------------------------- */
/* Entry points for xlate.c and tests                                     */

/* The invalidation sequence a walk starts under (acquire: the walk's reads follow it). */
static inline uint64_t xc_begin(const struct xlate_cache *c)
{
	return __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
}

static inline bool xc_scope_quiet(const struct xc_scope *sc)
{
	return __atomic_load_n(&sc->pend, __ATOMIC_ACQUIRE) ==
	       __atomic_load_n(&sc->done, __ATOMIC_ACQUIRE);
}

/*
 * After xc_begin(): may a walk in context @k1 (xc_key1(); only the VMID
 * matters without @asid) fill what it finds? Not while an invalidation in
 * one of its scopes is under way: it may still be using entries that the
 * invalidation has yet to remove.
 */
static inline bool xc_may_fill(const struct xlate_cache *c, uint64_t k1, bool asid)
{
	uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;

	return xc_scope_quiet(&c->gsc) && xc_scope_quiet(&c->vm[vmid].sc) &&
	       (!asid || xc_scope_quiet(&c->as[xc_asid_slot(vmid, (uint32_t)k1)].sc));
}

/* A decoded IOTLB hit. */
struct xc_tlb_hit {
	uint64_t base; /* input base */
	unsigned int lg;
	uint64_t pa, ipa, meta;
};

static inline unsigned int xc_tlb_p1(uint64_t meta)
{
	return meta & 15;
}
static inline unsigned int xc_tlb_p2(uint64_t meta)
{
	return (meta >> 4) & 15;
}
static inline unsigned int xc_tlb_grant(uint64_t meta)
{
	return (meta >> 8) & 15;
}
static inline int xc_tlb_l1(uint64_t meta)
{
	return (int8_t)(meta >> XC_TLB_L1_SHIFT);
}
static inline int xc_tlb_l2(uint64_t meta)
{
	return (int8_t)(meta >> XC_TLB_L2_SHIFT);
}
static inline unsigned int xc_tlb_lg1(uint64_t meta)
{
	return (meta >> 32) & 63;
}
static inline unsigned int xc_tlb_lg2(uint64_t meta)
{
	return (meta >> 40) & 63;
}
static inline uint64_t xc_tlb_meta(unsigned int p1, unsigned int p2, unsigned int grant, int l1,
				   int l2, unsigned int lg1, unsigned int lg2)
{
	return (uint64_t)(p1 & 15) | (uint64_t)(p2 & 15) << 4 | (uint64_t)(grant & 15) << 8 |
	       (uint64_t)(uint8_t)l1 << XC_TLB_L1_SHIFT | (uint64_t)(uint8_t)l2 << XC_TLB_L2_SHIFT |
	       (uint64_t)(lg1 & 63) << 32 | (uint64_t)(lg2 & 63) << 40;
}

/*
 * The oldest stamp a live IOTLB entry of context @k1 may carry: the newest
 * of the flushes that cover it. One floor serves any number of lookups
 * that start together (a batch starts when its call does).
 */
static inline uint64_t xc_tlb_floor(const struct xlate_cache *c, uint64_t k1)
{
	uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;
	const struct xc_vm *vm = &c->vm[vmid];
	uint64_t f = xc_ld(&c->all), v;

	if (k1 & XC_K1_S2ONLY) {
		v = xc_ld(&vm->s2);
	} else {
		uint64_t a = xc_ld(&c->as[xc_asid_slot(vmid, (uint32_t)k1)].stamp);

		v = xc_ld(&vm->comb);
		v = v > a ? v : a;
	}
	return f > v ? f : v;
}

/*
 * What IOTLB lookups for one context need, read once: the geometry (so the
 * compiler keeps it in registers across a batch), the key, the size mask
 * and the flush floor.
 */
struct xc_tlb_ctx {
	uint8_t *sets;
	uint32_t stride, ways, set_mask, nsets;
	bool lru;
	uint64_t k1, low, hv, sizes, floor;
};

/* False when the IOTLB holds nothing (or is off). */
static inline __attribute__((always_inline)) bool
xc_tlb_ctx_init(const struct xlate_cache *c, uint64_t k1, bool user, struct xc_tlb_ctx *t)
{
	const struct xc_cset *s = &c->iotlb;

	t->sizes = __atomic_load_n(&s->sizes, __ATOMIC_RELAXED);
	if (!t->sizes)
		return false;
	t->sets = s->sets;
	t->stride = s->stride;
	t->ways = s->ways;
	t->set_mask = s->set_mask;
	t->nsets = s->nsets;
	t->lru = s->lru;
	t->k1 = k1;
	t->low = (user ? XC_K0_USER : 0) | XC_K0_VALID;
	t->hv = (uint64_t)((uint32_t)(k1 >> 32) & 0xffff) * XC_HASH_VMID;
	t->floor = xc_tlb_floor(c, k1);
	return true;
}

/*
 * IOTLB lookup for @iova in the context of @t, among the entry sizes it may
 * hold, smallest first, accepting entries stamped at or after its floor.
 * xc_probe() by hand and in one attempt: the words go straight to
 * registers, and a set that a writer holds or changed under us is a miss
 * for this size (the walk is always correct). Counts nothing: the caller
 * decides whether the entry served.
 */
static inline __attribute__((always_inline)) bool
xc_tlb_probe_lg(const struct xc_tlb_ctx *t, uint64_t iova, unsigned int lg, struct xc_tlb_hit *hit)
{
	uint64_t page = iova >> lg, base = page << lg;
	uint64_t k0 = base | (uint64_t)lg << XC_K0_LG_SHIFT | t->low;
	uint64_t hsh = t->hv + page + (uint64_t)lg * XC_HASH_LG;
	uint32_t set = likely(t->set_mask)
			       ? (uint32_t)(hsh & t->set_mask)
			       : (uint32_t)(((xc_mix(hsh) >> 32) * t->nsets) >> 32);
	struct xc_hdr *h = (struct xc_hdr *)(t->sets + (size_t)set * t->stride);
	uint32_t sq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	const uint64_t *e = xc_ways(h);
	uint64_t stamp, pa, ipa, meta;
	unsigned int w;

	for (w = 0; w < t->ways; w++, e += XC_TLB_NW)
		if (xc_ld(&e[XC_K0]) == k0 && xc_ld(&e[XC_K1]) == t->k1)
			break;
	if (w == t->ways)
		return false;
	stamp = xc_ld(&e[XC_STAMP]);
	pa = xc_ld(&e[XC_TLB_PA]);
	ipa = xc_ld(&e[XC_TLB_IPA]);
	meta = xc_ld(&e[XC_TLB_META]);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (unlikely(__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != sq || (sq & 1)))
		return false;
	if (unlikely(stamp < t->floor))
		return false;
	if (t->lru) {
		uint64_t o = __atomic_load_n(&h->lru, __ATOMIC_RELAXED);

		if ((o & 15) != w)
			__atomic_store_n(&h->lru, xc_lru_promote(o, w), __ATOMIC_RELAXED);
	}
	hit->base = base;
	hit->lg = lg;
	hit->pa = pa;
	hit->ipa = ipa;
	hit->meta = meta;
	return true;
}

/* The sizes after the smallest, out of line: most lookups stop at the first. */
bool xc_tlb_probe_more(const struct xc_tlb_ctx *t, uint64_t iova, uint64_t m,
		       struct xc_tlb_hit *hit);

/*
 * IOTLB lookup for @iova in the context of @t, among the entry sizes it may
 * hold, smallest first, accepting entries stamped at or after its floor.
 * xc_probe() by hand and in one attempt: the words go straight to
 * registers, and a set that a writer holds or changed under us is a miss
 * for this size (the walk is always correct). Counts nothing: the caller
 * decides whether the entry served.
 */
static inline __attribute__((always_inline)) bool
xc_tlb_probe(const struct xc_tlb_ctx *t, uint64_t iova, struct xc_tlb_hit *hit)
{
	uint64_t m = t->sizes;

	if (xc_tlb_probe_lg(t, iova, (unsigned int)__builtin_ctzll(m), hit))
		return true;
	m &= m - 1;
	return unlikely(m) && xc_tlb_probe_more(t, iova, m, hit);
}

/* One IOTLB lookup for @iova in context @k1 (xc_key1(), | XC_K1_S2ONLY without stage 1). */
static inline __attribute__((always_inline)) bool
xc_tlb_lookup(const struct xlate_cache *c, uint64_t k1, bool user, uint64_t iova,
	      struct xc_tlb_hit *hit)
{
	struct xc_tlb_ctx t;

	return xc_tlb_ctx_init(c, k1, user, &t) && xc_tlb_probe(&t, iova, hit);
}

/* IPA cache lookup: (VMID, IPA) -> stage-2 leaf. */
struct xc_ipa_hit {
	uint64_t base, pa;
	unsigned int lg, prot, grant;
	int level;
};

static inline bool xc_ipa_lookup(const struct xlate_cache *c, uint32_t vmid, uint64_t ipa,
				 struct xc_ipa_hit *hit)
{
	const struct xc_cset *s = &c->ipa;
	uint64_t m = __atomic_load_n(&s->sizes, __ATOMIC_RELAXED);
	uint64_t k1 = xc_key1(vmid, 0);

	while (m) {
		unsigned int lg = (unsigned int)__builtin_ctzll(m);
		uint64_t base = ipa & ~mask_bits(lg);
		uint32_t set = xc_set_of(s, xc_hash(base, lg, vmid));
		uint64_t v[3];
		int way = xc_probe(s, set, xc_key0(base, lg, false), k1, v, 3);

		m &= m - 1;
		if (way >= 0 && xc_live(c, XC_KIND_S2, k1, v[0])) {
			uint64_t meta = v[XC_IPA_META - XC_STAMP];

			xc_touch(s, set, (unsigned int)way);
			hit->base = base;
			hit->lg = lg;
			hit->pa = v[XC_IPA_PA - XC_STAMP];
			hit->prot = meta & 15;
			hit->grant = (meta >> 8) & 15;
			hit->level = (int8_t)(meta >> XC_IPA_LVL_SHIFT);
			return true;
		}
	}
	return false;
}

/*
 * Walk-cache lookup at @depth of @stage (0 or 1): the table that the
 * descriptor at that depth points to for the input region [base, + 2^lg).
 * Stage-1 entries are per (VMID, ASID, U); stage-2 entries per VMID.
 */
static inline bool xc_walk_lookup(const struct xlate_cache *c, int stage, unsigned int depth,
				  uint64_t k1, bool user, uint64_t base, unsigned int lg,
				  uint64_t *table, unsigned int *prot)
{
	const struct xc_cset *s = &c->walk[stage][depth];
	uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;
	uint32_t set;
	uint64_t v[3];
	int way;

	if (!(__atomic_load_n(&s->sizes, __ATOMIC_RELAXED) & BIT(lg)))
		return false;
	set = xc_set_of(s, xc_hash(base, lg, vmid));
	way = xc_probe(s, set, xc_key0(base, lg, user), k1, v, 3);
	if (way < 0 || !xc_live(c, stage ? XC_KIND_S2 : XC_KIND_S1, k1, v[0]))
		return false;
	xc_touch(s, set, (unsigned int)way);
	*table = v[XC_WALK_TABLE - XC_STAMP];
	*prot = v[XC_WALK_META - XC_STAMP] & 15;
	return true;
}

/*
 * An invalidation in scope @sc: xc_inv_begin() announces it and returns its
 * sequence (also its flush stamp); xc_inv_end() says its work is done.
 * (Every xlate_inv_* is bracketed so; tests use them to hold one open.)
 */
uint64_t xc_inv_begin(struct xlate_cache *c, struct xc_scope *sc);
void xc_inv_end(struct xc_scope *sc, uint64_t s);

/*
 * Fills, for walks that started at @s0 (xc_begin()) and were allowed to
 * (xc_may_fill()): each goes in only if no invalidation that could remove
 * it began since.
 */
void xc_tlb_fill(struct xlate_cache *c, uint64_t s0, uint64_t k1, bool user, uint64_t base,
		 unsigned int lg, uint64_t pa, uint64_t ipa, uint64_t meta);
void xc_ipa_fill(struct xlate_cache *c, uint64_t s0, uint32_t vmid, uint64_t base,
		 unsigned int lg, uint64_t pa, unsigned int prot, unsigned int grant, int level);
void xc_walk_fill(struct xlate_cache *c, uint64_t s0, int stage, unsigned int depth, uint64_t k1,
		  bool user, uint64_t base, unsigned int lg, uint64_t table, unsigned int prot);

#endif
