/* SPDX-License-Identifier: MIT */
/*
 * cache_int.h - inside lib/xlate: the layout of the translation caches,
 * shared by cache.c (which owns them: allocation, fills, invalidation,
 * statistics) and xlate.c, whose hit path reads them inline. Unit tests
 * include it to drive the caches with synthetic entries.
 *
 * One generic structure serves every cache (struct xc_cset): a
 * set-associative array, in two parts. The tag blocks of all sets come
 * first, one after the other (2^tshift bytes each, a power of two and a
 * multiple of 64):
 *
 *	struct xc_hdr	  a sequence count that is also the set's lock, and
 *			  the LRU order of the ways
 *	u64 tag[ways]	  key0 of each way: input base (aligned to 2^lg) |
 *			  lg << 2 | U << 1 | valid; 0 is a free way
 *	u32 fp[ways]	  what invalidations match besides key0 (xc_fp()):
 *			  VMID, the stage-2-only flag, the level, the ASID's
 *			  flush slot
 *
 * then the entries of all sets (estride bytes a set, a multiple of 64),
 * each way's entry nw 64-bit words:
 *
 *	  word 0  key1	  VMID << 32 | ASID (or SID << 32 | SSID), plus flags
 *	  word 1  stamp	  the invalidation sequence the fill's walk started under
 *	  word 2+ value	  per cache (see the XC_TLB_* / XC_IPA_* / XC_WALK_* words)
 *
 * The tags of four ways share the header's cache line, so a lookup
 * compares every way's key0 in one line and reads one entry, and a range
 * invalidation decides from that line alone (key0 and the fingerprint)
 * which ways go. Consecutive pages go to consecutive sets, so the tag
 * lines a range invalidation reads are consecutive too: a contiguous run
 * of memory that the hardware prefetchers stream, not lines 320 bytes
 * apart. An IOTLB entry is 8 words, one line; a 4-way IOTLB set is one
 * tag line and four entry lines. See cache.c for the protocol.
 */
#ifndef UIOMMU_XLATE_CACHE_INT_H
#define UIOMMU_XLATE_CACHE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/bits.h"
#include "xlate/cache.h"

#define XC_MAX_WAYS    16
#define XC_WALK_DEPTHS (PT_MAX_LEVELS - 1) /* walk caches hold table descriptors */
#define XC_VMIDS       65536
#define XC_ASID_SLOTS  4096
#define XC_SID_SLOTS   1024
#define XC_SHARDS      16
#define XC_HINTS       4096 /* IOTLB size hints (struct xlate_cache) */
#define XC_HINT_SHIFT  21

/* Entry words (key0 lives in the set's tag block). */
enum { XC_K1 = 0, XC_STAMP, XC_V0 };

#define XC_K0_VALID    BIT(0)
#define XC_K0_USER     BIT(1) /* stage-1 entries: filled by an unprivileged access (bit 1!) */
#define XC_K0_LG_SHIFT 2      /* bits 7:2: log2 of the bytes the entry covers */
#define XC_K1_S2ONLY   BIT(63) /* IOTLB: a stage-2-only context's entry (an IPA entry) */
#define XC_K1_ASID     0xffffffffULL

/*
 * IOTLB: nw = 8 (one cache line): key1, stamp, output base, stage-1 output
 * base, then the answer as struct xc_tlb_img (4 words).
 */
#define XC_TLB_NW   8
#define XC_TLB_PA   2 /* output base */
#define XC_TLB_IPA  3 /* stage-1 output base */
#define XC_TLB_IMG  4 /* struct xc_tlb_img */
#define XC_TLB_IMGW 4

/*
 * The answer of an IOTLB entry. Its first 20 bytes are laid out as the
 * fields of struct xlate_result from prot to s2_level (xlate.c checks the
 * offsets), so a hit copies them with three stores; the rest is what a hit
 * checks (grant) or computes (the stage-2 leaf size) and the stage-1 leaf
 * size. Stored as 64-bit words (atomically), built and read with memcpy,
 * so it is the same on either byte order.
 */
struct xc_tlb_img {
	uint32_t prot, s1_prot, s2_prot;
	int32_t s1_level, s2_level;
	uint8_t grant, lg1, lg2, spare; /* lg: log2 of a stage's leaf size, 0 when it is off */
	uint64_t s1_size;
};

/* IPA cache: nw = 4. The meta word is struct xc_ipa_meta. */
#define XC_IPA_NW   4
#define XC_IPA_PA   2
#define XC_IPA_META 3

struct xc_ipa_meta {
	int32_t level;
	uint8_t prot, grant, spare[2];
};

/*
 * Walk caches: nw = 4; the next table's address (an IPA at stage 1 of a
 * nested context) and the meta word: the permission limit above it, and
 * for a combined stage-1 entry (XC_WALK_M_PA) the table's PA, stage 2
 * applied at fill time, with stage 2's permissions on that page. A
 * combined entry stands for both stages' walks to the table, so, like a
 * combined IOTLB entry, it dies with the VMID's combined entries (vm.comb).
 */
#define XC_WALK_NW    4
#define XC_WALK_TABLE 2
#define XC_WALK_META  3

#define XC_WALK_M_PROT	    0xfULL  /* the permission limit above the table */
#define XC_WALK_M_PA	    BIT(4)  /* combined: bits 63:12 are the table's PA */
#define XC_WALK_M_S2P_SHIFT 8	    /* combined: stage 2's permissions there, bits 11:8 */
#define XC_WALK_M_PA_MASK   (~0xfffULL)

/* The meta word of a combined stage-1 walk entry. */
static inline uint64_t xc_walk_meta_comb(unsigned int prot, uint64_t table_pa, unsigned int s2prot)
{
	return (prot & XC_WALK_M_PROT) | XC_WALK_M_PA | (uint64_t)(s2prot & 15) << XC_WALK_M_S2P_SHIFT |
	       (table_pa & XC_WALK_M_PA_MASK);
}

/* Configuration cache: nw = 2 + 1 + XLATE_CFGC_BYTES / 8 (length, then the bytes). */
#define XC_CFG_NW (XC_V0 + 1 + XLATE_CFGC_BYTES / 8)

/* Which flush stamps decide whether an entry is still live. */
enum xc_kind {
	XC_KIND_TLB = 0, /* combined (VMID.comb + ASID) or, with XC_K1_S2ONLY, stage 2 */
	XC_KIND_S1,	 /* stage-1 walk cache: VMID.comb + ASID (entries may be combined) */
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
	uint32_t live;	/* fills: (uint32_t)c->flushed when every way was last seen live */
	uint64_t lru;	/* nibble r = the way of recency rank r (0 = most recent) */
};

struct xc_cset {
	uint8_t *sets;	   /* nsets tag blocks, 64-byte aligned (then ents); NULL: cache off */
	uint8_t *ents;	   /* nsets * estride bytes of entries, 64-byte aligned */
	uint32_t nsets;
	uint32_t estride;  /* bytes of a set's entries: ways * nw * 8, rounded up to 64 */
	uint32_t set_mask; /* nsets - 1 when nsets is a power of two (> 1), else 0 */
	uint16_t grp;	   /* counter group */
	uint8_t ways, nw;
	uint8_t tshift;	   /* log2 of a set's tag block bytes */
	uint8_t kind;	   /* enum xc_kind */
	uint8_t lru;	   /* replacement is LRU (else random) */
	uint8_t geom4;	   /* 4 ways and a power-of-two number (> 1) of sets */
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
	uint64_t comb; /* combined entries: the IOTLB's, and every stage-1 walk-cache entry */
	uint64_t s2;   /* stage-2 walk cache, IPA cache, stage-2-only IOTLB entries */
	struct xc_scope sc;
	uint64_t spare[4]; /* to a cache line */
};
_Static_assert(sizeof(struct xc_vm) == 64, "struct xc_vm: one cache line");

/* One hashed (VMID, ASID) slot. */
struct xc_as {
	uint64_t stamp; /* flush stamp of its stage-1 entries */
	struct xc_scope sc;
	uint64_t spare;
};

/*
 * Short walks (xlate.c's walk_short_*, which filled the IOTLB): one counter
 * per outcome stands for every group counter that outcome implies, so the
 * miss path makes one store where it would make six; xlate_cache_get_stats()
 * folds them into the groups (xc_sw_fold(), cache.c). Outcomes:
 *
 *   XC_SW_S1 + d1 * 2 + ev	stage 1 alone, resumed at walk-cache depth d1:
 *				walk[0][d1] hit, IOTLB miss, fill, ev evictions
 *   XC_SW_S2 + d2 * 2 + ev	stage 2 alone: walk[1][d2] hit, IOTLB miss,
 *				fill, ev evictions, an IPA-cache miss (with one)
 *   XC_SW_N4K + xc_sw_n4k()	nested (walk_short_n4k()): walk[0][d1] hit,
 *				IOTLB miss, fill, ev evictions; an IPA-cache hit
 *				for the leaf table (ti); the output IPA either
 *				from the IPA cache (a hit) or walked (w: an
 *				IPA-cache miss and a walk[1][d2] hit)
 */
enum {
	XC_SW_S1 = 0,
	XC_SW_S2 = XC_SW_S1 + XC_WALK_DEPTHS * 2,
	XC_SW_N4K = XC_SW_S2 + XC_WALK_DEPTHS * 2,
	XC_SW_N = XC_SW_N4K + XC_WALK_DEPTHS * XC_WALK_DEPTHS * 8,
};

static inline __attribute__((always_inline)) unsigned int
xc_sw_n4k(unsigned int d1, unsigned int d2, bool ti, bool w, unsigned int ev)
{
	return ((d1 * XC_WALK_DEPTHS + d2) * 2 + ti) * 4 + (unsigned int)w * 2 + ev;
}

struct xc_shard {
	uint64_t v[XC_NGRP][XC_NCTR];
	uint64_t sw[XC_SW_N]; /* short walks, folded into v when read */
} __attribute__((aligned(64)));

struct xlate_cache {
	/*
	 * The invalidation sequence, advanced by every invalidation, and the
	 * global scope (xlate_inv_all). Written only by invalidations; read
	 * by walks as they start. Own line.
	 */
	uint64_t seq __attribute__((aligned(64)));
	struct xc_scope gsc;
	const struct xc_scope *cur; /* the scope of the latest invalidation to begin */
	/*
	 * What an IOTLB hit reads, in one line: the IOTLB's geometry and size
	 * mask, the newest flush stamp that can kill an IOTLB entry (an entry
	 * stamped at or after it is live without looking further), and the
	 * counter shards.
	 */
	struct xc_cset iotlb __attribute__((aligned(64)));
	uint64_t tlb_flushed;
	struct xc_shard *shard; /* [XC_SHARDS] */
	/* Read-mostly from here on: flush stamps and the other caches' geometry. */
	uint64_t all __attribute__((aligned(64)));
	uint64_t flushed; /* the newest flush stamp of any kind: an entry stamped after it is live */
	uint64_t cfg_all;
	struct xc_scope cfg_sc; /* the configuration cache's invalidations */
	struct xc_vm *vm;	/* [XC_VMIDS] */
	struct xc_as *as;	/* [XC_ASID_SLOTS], hashed (VMID, ASID) */
	uint64_t *sid;		/* [XC_SID_SLOTS], hashed SID: flush stamps of all its substreams */
	struct xc_cset ipa, cfg;
	struct xc_cset walk[2][XC_WALK_DEPTHS];
	/* Walk caches at both stages, and an IPA cache and IOTLB of the default geometry. */
	bool n4k;
	/* The process's live caches (cache_reg.c), for the public statistics. */
	struct xlate_cache *reg_next, **reg_pprev;
	void *vm_mem;
	struct xlate_cache_params params;
	/* Random replacement state (xorshift64), racy by design. Own line. */
	uint64_t rng __attribute__((aligned(64)));
	/*
	 * IOTLB size hints: per hashed 2 MiB input region, the log2 size of
	 * the entry last filled or found there (0: none). With more than one
	 * entry size present the hit path probes the hinted size first, so a
	 * mix of 4K pages and 2M blocks costs one probe and no mispredicted
	 * branch. Racy by design: a hint only orders probes.
	 */
	uint8_t hint[XC_HINTS] __attribute__((aligned(64)));
};

/* ---------------------------------------------------------------------- */
/* Hashing, sets, liveness                                                */

static inline __attribute__((always_inline)) uint64_t xc_mix(uint64_t x)
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
/* Odd, and small enough that the hit paths take them (and lg * XC_HASH_LG) as immediates. */
#define XC_HASH_VMID 0x1e3779b1u
#define XC_HASH_LG   0x32be5bu
static inline __attribute__((always_inline)) uint64_t xc_hash(uint64_t base, unsigned int lg, uint32_t vmid)
{
	return (base >> lg) + (uint64_t)vmid * XC_HASH_VMID + (uint64_t)lg * XC_HASH_LG;
}

static inline __attribute__((always_inline)) uint32_t xc_set_of(const struct xc_cset *s, uint64_t h)
{
	if (likely(s->set_mask))
		return (uint32_t)(h & s->set_mask);
	return (uint32_t)(((xc_mix(h) >> 32) * s->nsets) >> 32);
}

static inline __attribute__((always_inline)) struct xc_hdr *xc_hdr(const struct xc_cset *s, uint32_t set)
{
	return (struct xc_hdr *)(s->sets + ((size_t)set << s->tshift));
}

/* The key0 tags of a set's ways. */
static inline __attribute__((always_inline)) uint64_t *xc_tags(struct xc_hdr *h)
{
	return (uint64_t *)(h + 1);
}

/* The fingerprints of a set's @ways ways (after the tags). */
static inline __attribute__((always_inline)) uint32_t *xc_fps(struct xc_hdr *h, unsigned int ways)
{
	return (uint32_t *)(xc_tags(h) + ways);
}

/* The entries of set @set: way w's (key1, stamp, values) start at word w * nw. */
static inline __attribute__((always_inline)) uint64_t *xc_ents(const struct xc_cset *s, uint32_t set)
{
	return (uint64_t *)(s->ents + (size_t)set * s->estride);
}

/* The entry of way @w of set @set. */
static inline __attribute__((always_inline)) uint64_t *xc_entry(const struct xc_cset *s, uint32_t set, unsigned int w)
{
	return xc_ents(s, set) + (size_t)w * s->nw;
}

static inline unsigned int xc_asid_slot(uint32_t vmid, uint32_t asid)
{
	return (unsigned int)((((uint64_t)vmid << 32 | asid) * 0x9e3779b97f4a7c15ULL) >> 52);
}

/*
 * An entry's fingerprint: VMID [31:16], key1's stage-2-only flag [15], the
 * level a TTL hint names plus one [14:12] (the stage-1 leaf's for combined
 * IOTLB entries, the stage-2 leaf's for stage-2 ones; 0 when none), and
 * the (VMID, ASID) flush slot [11:0]. Range invalidations compare it
 * instead of reading the entry: exact but for ASIDs that share a flush
 * slot, which already invalidate each other (xlate_inv_asid); removing
 * more than asked is always allowed.
 */
#define XC_FP_VMID  0xffff0000u
#define XC_FP_S2	    0x8000u
#define XC_FP_LEVEL 0x7000u
#define XC_FP_SLOT  0x0fffu
static inline __attribute__((always_inline)) uint32_t xc_fp(uint64_t k1, int level)
{
	uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;

	return vmid << 16 | (k1 & XC_K1_S2ONLY ? XC_FP_S2 : 0) |
	       ((uint32_t)(level + 1) & 7) << 12 | xc_asid_slot(vmid, (uint32_t)k1);
}

static inline unsigned int xc_sid_slot(uint32_t sid)
{
	return (unsigned int)(xc_mix(sid) & (XC_SID_SLOTS - 1));
}

static inline __attribute__((always_inline)) uint64_t xc_ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) uint64_t xc_key0(uint64_t base, unsigned int lg, bool user)
{
	return base | ((uint64_t)lg << XC_K0_LG_SHIFT) | (user ? XC_K0_USER : 0) | XC_K0_VALID;
}

static inline __attribute__((always_inline)) uint64_t xc_key1(uint32_t vmid, uint32_t asid)
{
	return ((uint64_t)vmid << 32) | asid;
}

/*
 * Is an entry with @k1 filled under @stamp still live? Flush stamps only
 * grow; the loads are relaxed: a translation that must see a flush starts
 * after the flush returned, which orders the stamp's store before them.
 * An entry stamped at or after the newest flush of any kind is live (one
 * load, the common case); the others compare with the stamps that cover
 * them.
 */
bool xc_live_slow(const struct xlate_cache *c, enum xc_kind kind, uint64_t k1, uint64_t stamp);

static inline __attribute__((always_inline)) bool xc_live(const struct xlate_cache *c, enum xc_kind kind, uint64_t k1,
			   uint64_t stamp)
{
	if (likely(stamp >= xc_ld(&c->flushed)))
		return true;
	return xc_live_slow(c, kind, k1, stamp);
}

/* xc_live() past its first test (out of line: the callers' registers stay theirs). */
static inline __attribute__((always_inline)) bool
xc_live_rest(const struct xlate_cache *c, enum xc_kind kind, uint64_t k1, uint64_t stamp)
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
		return stamp >= xc_ld(&vm->comb) &&
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
	const uint64_t *tag = xc_tags(h), *e0 = xc_ents(s, set);

	for (int tries = 0; tries < 4; tries++) {
		uint32_t sq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
		int way = -1;

		if (unlikely(sq & 1)) {
			xc_cpu_relax();
			continue;
		}
		for (unsigned int w = 0; w < s->ways; w++) {
			const uint64_t *e;

			if (xc_ld(&tag[w]) != k0)
				continue;
			e = e0 + (size_t)w * s->nw;
			if (xc_ld(&e[XC_K1]) != k1)
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

/* A cache's geometry, read once so that the compiler keeps it in registers. */
struct xc_geom {
	uint8_t *sets, *ents;
	uint32_t set_mask, nsets, estride, tshift, nw, ways;
	bool lru;
	bool pow2; /* a power-of-two number (> 1) of sets: set_mask is not 0 */
};

static inline __attribute__((always_inline)) struct xc_geom xc_geom_of(const struct xc_cset *s)
{
	return (struct xc_geom){ .sets = s->sets,
				 .ents = s->ents,
				 .set_mask = s->set_mask,
				 .nsets = s->nsets,
				 .estride = s->estride,
				 .tshift = s->tshift,
				 .nw = s->nw,
				 .ways = s->ways,
				 .lru = s->lru,
				 .pow2 = false };
}

/*
 * xc_geom_of() for a cache of the default geometry (s->geom4) whose
 * entries are @nw words: every field but the base addresses, the mask and
 * the replacement a constant, so that the probes' shifts and offsets are.
 */
static inline __attribute__((always_inline)) struct xc_geom xc_geom4_of(const struct xc_cset *s,
									 unsigned int nw)
{
	return (struct xc_geom){ .sets = s->sets,
				 .ents = s->ents,
				 .set_mask = s->set_mask,
				 .nsets = s->set_mask + 1,
				 .estride = (uint32_t)ALIGN_UP(4 * nw * 8, 64),
				 .tshift = 6,
				 .nw = nw,
				 .ways = 4,
				 .lru = s->lru,
				 .pow2 = true };
}

/* The set of @hash: its index. */
static inline __attribute__((always_inline)) uint32_t xc_geom_set(const struct xc_geom *g,
								   uint64_t hash)
{
	return g->pow2 || likely(g->set_mask) ? (uint32_t)(hash & g->set_mask)
				: (uint32_t)(((xc_mix(hash) >> 32) * g->nsets) >> 32);
}

static inline __attribute__((always_inline)) struct xc_hdr *xc_geom_hdr(const struct xc_geom *g,
									uint32_t set)
{
	return (struct xc_hdr *)(g->sets + ((size_t)set << g->tshift));
}

/*
 * xc_probe() with the geometry in registers, three words out (stamp and
 * two values), one attempt (a set a writer holds or changed is a miss: the
 * walk is always correct); 4 ways (the default) compared unrolled.
 */
static inline __attribute__((always_inline)) int
xc_probe_g(const struct xc_geom *g, uint32_t set, uint64_t k0, uint64_t k1, uint64_t *out)
{
	struct xc_hdr *h = xc_geom_hdr(g, set);
	const uint64_t *tag = xc_tags(h), *e;
	const uint64_t *e0 = (const uint64_t *)(g->ents + (size_t)set * g->estride);
	uint32_t sq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	unsigned int w;

	if (likely(g->ways == 4)) {
		if (xc_ld(&tag[0]) == k0)
			w = 0;
		else if (xc_ld(&tag[1]) == k0)
			w = 1;
		else if (xc_ld(&tag[2]) == k0)
			w = 2;
		else if (xc_ld(&tag[3]) == k0)
			w = 3;
		else
			return -1;
		if (unlikely(xc_ld(&e0[(size_t)w * g->nw + XC_K1]) != k1)) {
			/* The same input in another context: the ways after it. */
			for (w++; w < 4; w++)
				if (xc_ld(&tag[w]) == k0 &&
				    xc_ld(&e0[(size_t)w * g->nw + XC_K1]) == k1)
					break;
			if (w == 4)
				return -1;
		}
	} else {
		for (w = 0; w < g->ways; w++)
			if (xc_ld(&tag[w]) == k0 && xc_ld(&e0[(size_t)w * g->nw + XC_K1]) == k1)
				break;
		if (w == g->ways)
			return -1;
	}
	e = e0 + (size_t)w * g->nw;
	out[0] = xc_ld(&e[XC_STAMP]);
	out[1] = xc_ld(&e[XC_V0]);
	out[2] = xc_ld(&e[XC_V0 + 1]);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (unlikely(__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != sq || (sq & 1)))
		return -1;
	return (int)w;
}

/* Move @way to the front of an LRU order (nibble permutation). */
static inline __attribute__((always_inline)) uint64_t xc_lru_promote(uint64_t order, unsigned int way)
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
static inline __attribute__((always_inline)) void xc_touch_hdr(struct xc_hdr *h, unsigned int way)
{
	uint64_t o = __atomic_load_n(&h->lru, __ATOMIC_RELAXED);

	if ((o & 15) != way)
		__atomic_store_n(&h->lru, xc_lru_promote(o, way), __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) void xc_touch(const struct xc_cset *s, uint32_t set, unsigned int way)
{
	if (s->lru)
		xc_touch_hdr(xc_hdr(s, set), way);
}

/* ---------------------------------------------------------------------- */
/* Counters: per-thread shards, no atomic read-modify-write on the hit path */

/*
 * This thread's shard as a byte offset into any cache's shard array, plus
 * XC_SHARD_BIAS (0: not assigned yet), so that a count is one TLS load, a
 * test, and an add at base + offset + constant.
 */
#define XC_SHARD_BIAS 64
extern __thread uintptr_t xc_shard_off __attribute__((tls_model("initial-exec")));
uintptr_t xc_shard_assign(void);

static inline __attribute__((always_inline)) void xc_count_n(struct xlate_cache *c, unsigned int grp, unsigned int ctr,
			      uint64_t n)
{
	uintptr_t off = xc_shard_off;
	uint64_t *p;

	if (unlikely(!off))
		off = xc_shard_assign();
	p = (uint64_t *)((uint8_t *)c->shard + off - XC_SHARD_BIAS) + grp * XC_NCTR + ctr;
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) void xc_count(struct xlate_cache *c, unsigned int grp, unsigned int ctr)
{
	xc_count_n(c, grp, ctr, 1);
}

/* This thread's counters in @c (its shard), for several counts with one look-up. */
static inline __attribute__((always_inline)) uint64_t *xc_ctrs(struct xlate_cache *c)
{
	uintptr_t off = xc_shard_off;

	if (unlikely(!off))
		off = xc_shard_assign();
	return (uint64_t *)((uint8_t *)c->shard + off - XC_SHARD_BIAS);
}

static inline __attribute__((always_inline)) void xc_ctr_add(uint64_t *ctrs, unsigned int grp, unsigned int ctr, uint64_t n)
{
	uint64_t *p = ctrs + grp * XC_NCTR + ctr;

	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* One short walk's outcome (XC_SW_*), in this thread's shard @ctrs (xc_ctrs()). */
static inline __attribute__((always_inline)) void xc_sw_add(uint64_t *ctrs, unsigned int sw)
{
	uint64_t *p = ctrs + offsetof(struct xc_shard, sw) / 8 + sw;

	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* Add the short walks' counts @sw[XC_SW_N] of @c to the group counters @v. */
void xc_sw_fold(const struct xlate_cache *c, uint64_t v[XC_NGRP][XC_NCTR], const uint64_t *sw);

/* A fill, and an eviction with it when @evict: one shard lookup for both. */
static inline void xc_count_fill(struct xlate_cache *c, unsigned int grp, bool evict)
{
	uintptr_t off = xc_shard_off;
	uint64_t *p;

	if (unlikely(!off))
		off = xc_shard_assign();
	p = (uint64_t *)((uint8_t *)c->shard + off - XC_SHARD_BIAS) + grp * XC_NCTR;
	__atomic_store_n(&p[XC_FILL], __atomic_load_n(&p[XC_FILL], __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
	if (evict)
		__atomic_store_n(&p[XC_EVICT], __atomic_load_n(&p[XC_EVICT], __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* Entry points for xlate.c and tests                                     */

/* The invalidation sequence a walk starts under (acquire: the walk's reads follow it). */
static inline __attribute__((always_inline)) uint64_t xc_begin(const struct xlate_cache *c)
{
	return __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
}

static inline __attribute__((always_inline)) bool xc_scope_quiet(const struct xc_scope *sc)
{
	return __atomic_load_n(&sc->pend, __ATOMIC_ACQUIRE) ==
	       __atomic_load_n(&sc->done, __ATOMIC_ACQUIRE);
}

/*
 * After xc_begin() returned @s0: may a walk in context @k1 (xc_key1(); only
 * the VMID matters without @asid) fill what it finds? Not while an
 * invalidation in one of its scopes is under way: it may still be using
 * entries that the invalidation has yet to remove. Invalidations are
 * serialised, so when the one numbered @s0 (the latest to begin before the
 * walk did) has ended, none that began before the walk is under way: one
 * load of the latest scope's done, usually; the scopes one by one when
 * that does not settle it. (Invalidations that begin later are the fill's
 * check's business.)
 */
static inline __attribute__((always_inline)) bool
xc_may_fill(const struct xlate_cache *c, uint64_t s0, uint64_t k1, bool asid)
{
	const struct xc_scope *cur = __atomic_load_n(&c->cur, __ATOMIC_RELAXED);
	uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;

	if (likely(__atomic_load_n(&cur->done, __ATOMIC_ACQUIRE) == s0))
		return true;
	return xc_scope_quiet(&c->gsc) && xc_scope_quiet(&c->vm[vmid].sc) &&
	       (!asid || xc_scope_quiet(&c->as[xc_asid_slot(vmid, (uint32_t)k1)].sc));
}

/*
 * The fill interface's description of a translation (xc_tlb_fill): p1
 * [3:0], p2 [7:4], grant [11:8], l1 [23:16], l2 [31:24], lg1 [37:32], lg2
 * [45:40]. An entry stores it expanded (struct xc_tlb_img).
 */
#define XC_TLB_L1_SHIFT 16
#define XC_TLB_L2_SHIFT 24

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

/* Fields of an IOTLB entry's answer, read as the bytes of struct xc_tlb_img. */
static inline struct xc_tlb_img xc_tlb_img_get(const uint64_t *w)
{
	struct xc_tlb_img img;

	memcpy(&img, w, sizeof(img));
	return img;
}

/* Byte @i, in memory order, of the 64-bit word @w (a register, so no memcpy). */
static inline unsigned int xc_word_byte(uint64_t w, unsigned int i)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (unsigned int)(w >> (56 - 8 * i)) & 0xff;
#else
	return (unsigned int)(w >> (8 * i)) & 0xff;
#endif
}

/*
 * The words of an IOTLB entry's answer (struct xc_tlb_img, as memcpy()
 * would lay it out) from its fields, in registers: two 32-bit fields or
 * four bytes and a 32-bit field a word, placed by the byte order.
 */
static inline __attribute__((always_inline)) uint64_t xc_word_pair(uint32_t first, uint32_t second)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (uint64_t)first << 32 | second;
#else
	return (uint64_t)second << 32 | first;
#endif
}

static inline __attribute__((always_inline)) void xc_tlb_img_words(uint64_t w[XC_TLB_IMGW], unsigned int prot,
				    unsigned int s1_prot, unsigned int s2_prot, int s1_level,
				    int s2_level, unsigned int grant, unsigned int lg1,
				    unsigned int lg2, uint64_t s1_size)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	const uint32_t bytes = (uint32_t)(grant & 0xff) << 24 | (uint32_t)(lg1 & 0xff) << 16 |
			       (uint32_t)(lg2 & 0xff) << 8;
#else
	const uint32_t bytes = (uint32_t)(grant & 0xff) | (uint32_t)(lg1 & 0xff) << 8 |
			       (uint32_t)(lg2 & 0xff) << 16;
#endif

	w[0] = xc_word_pair(prot, s1_prot);
	w[1] = xc_word_pair(s2_prot, (uint32_t)s1_level);
	w[2] = xc_word_pair((uint32_t)s2_level, bytes);
	w[3] = s1_size;
}
_Static_assert(offsetof(struct xc_tlb_img, s1_prot) == 4 &&
		       offsetof(struct xc_tlb_img, s2_prot) == 8 &&
		       offsetof(struct xc_tlb_img, s1_level) == 12 &&
		       offsetof(struct xc_tlb_img, s2_level) == 16 &&
		       offsetof(struct xc_tlb_img, grant) == 20 &&
		       offsetof(struct xc_tlb_img, lg1) == 21 &&
		       offsetof(struct xc_tlb_img, lg2) == 22 &&
		       offsetof(struct xc_tlb_img, s1_size) == 24,
	       "xc_tlb_img_words() and struct xc_tlb_img");

#define XC_TLB_IMG_BYTE(f) (offsetof(struct xc_tlb_img, f) % 8)
#define XC_TLB_IMG_WORD(f) (offsetof(struct xc_tlb_img, f) / 8)
_Static_assert(XC_TLB_IMG_WORD(grant) == 2 && XC_TLB_IMG_WORD(lg2) == 2 &&
		       XC_TLB_IMG_WORD(s1_size) == 3,
	       "struct xc_tlb_img: grant and lg2 in word 2, s1_size word 3");

/* A decoded IOTLB hit (scalars, so that the compiler keeps them in registers). */
struct xc_tlb_hit {
	uint64_t base, size; /* input base, bytes */
	unsigned int lg, way;
	struct xc_hdr *h;   /* its set */
	uint64_t stamp, pa, ipa;
	uint64_t img0, img1, img2, img3; /* struct xc_tlb_img */
	uint64_t meta;	    /* xc_tlb_lookup() only: the entry as xc_tlb_fill() described it */
};

static inline unsigned int xc_tlb_hit_grant(const struct xc_tlb_hit *h)
{
	return xc_word_byte(h->img2, XC_TLB_IMG_BYTE(grant));
}

static inline unsigned int xc_tlb_hit_lg2(const struct xc_tlb_hit *h)
{
	return xc_word_byte(h->img2, XC_TLB_IMG_BYTE(lg2));
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
 * Is an IOTLB entry of context @k1 stamped @stamp live? An entry stamped
 * at or after the newest flush that can kill any IOTLB entry is, which is
 * one load; the rest compare with the context's floor.
 */
static inline __attribute__((always_inline)) bool
xc_tlb_live(const struct xlate_cache *c, uint64_t k1, uint64_t stamp)
{
	return likely(stamp >= xc_ld(&c->tlb_flushed)) || stamp >= xc_tlb_floor(c, k1);
}

/*
 * An IOTLB lookup's key for one context and access class: key1, the low
 * bits of key0 (U, valid) and the VMID's term of the set hash.
 */
struct xc_tlb_key {
	uint64_t k1, low, hv;
};

static inline struct xc_tlb_key xc_tlb_key_of(uint64_t k1, bool user)
{
	return (struct xc_tlb_key){
		.k1 = k1,
		.low = (uint64_t)user << 1 | XC_K0_VALID, /* XC_K0_USER is bit 1 */
		.hv = (uint64_t)((uint32_t)(k1 >> 32) & 0xffff) * XC_HASH_VMID,
	};
}

/* The smallest page, which the hit paths probe first with constant shifts. */
#define XC_TLB_LG_4K 12

/* What a probe for entries of 2^lg bytes adds to the key: computed once per size. */
struct xc_tlb_sz {
	uint64_t low;  /* key0's low bits: lg << 2 | U | valid */
	uint64_t hc;   /* the set hash's terms other than the page: the VMID's and the size's */
	uint64_t size; /* 2^lg */
	unsigned int lg;
};

static inline __attribute__((always_inline)) struct xc_tlb_sz
xc_tlb_sz_of(const struct xc_tlb_key *k, unsigned int lg)
{
	return (struct xc_tlb_sz){ .low = (uint64_t)lg << XC_K0_LG_SHIFT | k->low,
				   .hc = k->hv + (uint64_t)lg * XC_HASH_LG,
				   .size = 1ULL << lg,
				   .lg = lg };
}

/*
 * The IOTLB's default geometry, which the hit paths specialise: 4 ways
 * and a power-of-two number of sets, so that a set's tag block (one line)
 * and its entries (four lines) are at constant shifts of its index and the
 * ways are compared unrolled.
 */
#define XC_TLB4_TSHIFT 6
#define XC_TLB4_ESHIFT 8 /* 4 * XC_TLB_NW * 8 bytes */
_Static_assert((4 * XC_TLB_NW * 8) == (1 << XC_TLB4_ESHIFT), "4-way IOTLB entry block");

/*
 * Alignment of a cache's block (tag blocks, then entries): in a 4-way
 * IOTLB of at least 4 sets each set's entries are then 256-byte aligned,
 * so an entry's address says its way.
 */
#define XC_ENTS_ALIGN (1u << XC_TLB4_ESHIFT)
#define XC_TLB4_WAY(e) ((unsigned int)((uintptr_t)(e) >> 6) & 3)

static inline bool xc_tlb_geom4(const struct xc_cset *s)
{
	return s->geom4;
}

/* Where the sets of an IOTLB of the default geometry are: tag blocks, entries, index mask. */
struct xc_tlb4 {
	uint8_t *sets, *ents;
	uint64_t set_mask;
};

static inline __attribute__((always_inline)) struct xc_tlb4 xc_tlb4_of(const struct xc_cset *s)
{
	return (struct xc_tlb4){ .sets = s->sets, .ents = s->ents, .set_mask = s->set_mask };
}

/* Where a probe found an IOTLB entry: its set, the set's count as read, the entry. */
struct xc_tlb_pos {
	struct xc_hdr *h;
	const uint64_t *e;
	uint64_t base; /* input base of the entry */
	uint32_t sq;
	unsigned int way;
};

/*
 * Find the entry for @iova among entries of the size @z, key1 @k1, in an
 * IOTLB of the default geometry (xc_tlb_geom4()) at @t: the set's count
 * (acquire), then key0 in each way's tag, then key1 in the entry. Nothing
 * read here is trusted until the count is re-checked after the entry's
 * words (xc_tlb_read(), or a hit path that copies the words out first).
 */
static inline __attribute__((always_inline)) bool
xc_tlb_find4(const struct xc_tlb4 *t, uint64_t k1, const struct xc_tlb_sz *z, uint64_t iova,
	     struct xc_tlb_pos *p)
{
	uint64_t page = iova >> z->lg, base = page << z->lg, k0 = base | z->low;
	uint64_t set = (page + z->hc) & t->set_mask;
	struct xc_hdr *h = (struct xc_hdr *)(t->sets + (set << XC_TLB4_TSHIFT));
	const uint64_t *tag = xc_tags(h), *e0 = (const uint64_t *)(t->ents + (set << XC_TLB4_ESHIFT));
	unsigned int w;

	p->sq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	if (likely(xc_ld(&tag[0]) == k0) && likely(xc_ld(&e0[XC_K1]) == k1)) {
		w = 0;
	} else {
		/* Ways 1-3 (or the same input in another context in way 0). */
		for (w = 1; w < 4; w++)
			if (xc_ld(&tag[w]) == k0 && xc_ld(&e0[w * XC_TLB_NW + XC_K1]) == k1)
				break;
		if (w == 4)
			return false;
	}
	p->h = h;
	p->e = e0 + w * XC_TLB_NW;
	p->base = base;
	p->way = w;
	return true;
}

/* Is the set of @p as it was when the probe began (so what was read since is whole)? */
static inline __attribute__((always_inline)) bool xc_tlb_confirm(const struct xc_tlb_pos *p)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return likely(__atomic_load_n(&p->h->seq, __ATOMIC_RELAXED) == p->sq) &&
	       likely(!(p->sq & 1));
}

/* Load an IOTLB entry's words, then confirm them. */
static inline __attribute__((always_inline)) bool xc_tlb_read(const struct xc_tlb_pos *p,
							      struct xc_tlb_hit *hit)
{
	const uint64_t *e = p->e;

	hit->stamp = xc_ld(&e[XC_STAMP]);
	hit->pa = xc_ld(&e[XC_TLB_PA]);
	hit->ipa = xc_ld(&e[XC_TLB_IPA]);
	hit->img0 = xc_ld(&e[XC_TLB_IMG]);
	hit->img1 = xc_ld(&e[XC_TLB_IMG + 1]);
	hit->img2 = xc_ld(&e[XC_TLB_IMG + 2]);
	hit->img3 = xc_ld(&e[XC_TLB_IMG + 3]);
	if (!xc_tlb_confirm(p))
		return false;
	hit->base = p->base;
	hit->way = p->way;
	hit->h = p->h;
	return true;
}

/*
 * IOTLB lookup for @iova among entries of the size @z (xc_tlb_find4(),
 * xc_tlb_read()): one attempt, a set that a writer holds or changed under
 * us is a miss for this size (the walk is always correct). It neither
 * checks the stamp (the caller does, against a floor) nor touches the LRU
 * order nor counts: the caller decides whether the entry served.
 */
static inline __attribute__((always_inline)) bool
xc_tlb_probe4(const struct xc_tlb4 *t, uint64_t k1, const struct xc_tlb_sz *z, uint64_t iova,
	      struct xc_tlb_hit *hit)
{
	struct xc_tlb_pos p;

	if (!xc_tlb_find4(t, k1, z, iova, &p) || !xc_tlb_read(&p, hit))
		return false;
	hit->size = z->size;
	hit->lg = z->lg;
	return true;
}

/* The set of the entry of size 2^@lg that would hold @iova: its index. */
static inline __attribute__((always_inline)) uint32_t
xc_tlb_set(const struct xc_cset *s, uint64_t hv, uint64_t iova, unsigned int lg)
{
	uint64_t hsh = hv + (iova >> lg) + (uint64_t)lg * XC_HASH_LG;

	return likely(s->set_mask) ? (uint32_t)(hsh & s->set_mask)
				   : (uint32_t)(((xc_mix(hsh) >> 32) * s->nsets) >> 32);
}

/* The same as xc_tlb_probe4() for any geometry @s. */
static inline __attribute__((always_inline)) bool
xc_tlb_probe_lg(const struct xc_cset *s, const struct xc_tlb_key *k, uint64_t iova,
		unsigned int lg, struct xc_tlb_hit *hit)
{
	uint64_t base = iova >> lg << lg;
	uint64_t k0 = base | (uint64_t)lg << XC_K0_LG_SHIFT | k->low;
	uint32_t set = xc_tlb_set(s, k->hv, iova, lg);
	struct xc_tlb_pos p = { .h = xc_hdr(s, set), .base = base };
	const uint64_t *tag = xc_tags(p.h), *e0 = xc_ents(s, set);

	p.sq = __atomic_load_n(&p.h->seq, __ATOMIC_ACQUIRE);
	for (p.way = 0; p.way < s->ways; p.way++) {
		if (xc_ld(&tag[p.way]) != k0)
			continue;
		p.e = e0 + (size_t)p.way * XC_TLB_NW;
		if (xc_ld(&p.e[XC_K1]) == k->k1)
			break;
	}
	if (p.way == s->ways || !xc_tlb_read(&p, hit))
		return false;
	hit->size = 1ULL << lg;
	hit->lg = lg;
	return true;
}

/*
 * IOTLB lookup for @iova among the entry sizes @m that the IOTLB @s may
 * hold, smallest first, all inline (no call: loops keep their state in
 * registers).
 */
static inline __attribute__((always_inline)) bool
xc_tlb_probe_all(const struct xc_cset *s, const struct xc_tlb_key *k, uint64_t m, uint64_t iova,
		 struct xc_tlb_hit *hit)
{
	if (likely(xc_tlb_geom4(s))) {
		const struct xc_tlb4 t = xc_tlb4_of(s);

		for (; m; m &= m - 1) {
			struct xc_tlb_sz z = xc_tlb_sz_of(k, (unsigned int)__builtin_ctzll(m));

			if (xc_tlb_probe4(&t, k->k1, &z, iova, hit))
				return true;
		}
		return false;
	}
	for (; m; m &= m - 1)
		if (xc_tlb_probe_lg(s, k, iova, (unsigned int)__builtin_ctzll(m), hit))
			return true;
	return false;
}

/* A hit that served: make its way the most recent of its set. */
static inline __attribute__((always_inline)) void xc_tlb_touch(bool lru,
							       const struct xc_tlb_hit *hit)
{
	if (lru)
		xc_touch_hdr(hit->h, hit->way);
}

/* The size hint of the region of @iova in the context of @k (see struct xlate_cache). */
static inline uint8_t *xc_hint(const struct xlate_cache *c, uint64_t hv, uint64_t iova)
{
	return (uint8_t *)&c->hint[((iova >> XC_HINT_SHIFT) + hv) & (XC_HINTS - 1)];
}

/* xc_lg_size[lg] = 2^lg, but 0 for lg = 0 (a stage that is off). */
extern const uint64_t xc_lg_size[64];

/*
 * One IOTLB lookup for @iova in context @k1 (xc_key1(), | XC_K1_S2ONLY
 * without stage 1): a live entry, its LRU order touched; hit->meta
 * describes it as xc_tlb_fill() was told. Counts nothing.
 */
bool xc_tlb_lookup(const struct xlate_cache *c, uint64_t k1, bool user, uint64_t iova,
		   struct xc_tlb_hit *hit);
/*
 * The same for an access needing @need (PT_PROT_R/W/X): an entry that does
 * not grant it is a miss and its LRU order is left alone, as xlate()'s
 * 4K hit path leaves it, so both paths leave a set in the same state.
 */
bool xc_tlb_lookup_for(const struct xlate_cache *c, uint64_t k1, bool user, uint64_t iova,
		       unsigned int need, struct xc_tlb_hit *hit);

/* IPA cache lookup: (VMID, IPA) -> stage-2 leaf. */
struct xc_ipa_hit {
	uint64_t base, pa;
	unsigned int lg, prot, grant;
	int level;
};

static inline __attribute__((always_inline)) bool
xc_ipa_lookup_g(const struct xlate_cache *c, uint32_t vmid, uint64_t ipa, struct xc_ipa_hit *hit,
		uint64_t m, const bool g4)
{
	const struct xc_geom g = g4 ? xc_geom4_of(&c->ipa, XC_IPA_NW) : xc_geom_of(&c->ipa);
	uint64_t k1 = xc_key1(vmid, 0);

	for (; m; m &= m - 1) {
		unsigned int lg = (unsigned int)__builtin_ctzll(m);
		uint64_t base = ipa & ~mask_bits(lg);
		uint32_t set = xc_geom_set(&g, xc_hash(base, lg, vmid));
		uint64_t v[3];
		int way = xc_probe_g(&g, set, xc_key0(base, lg, false), k1, v);

		if (way >= 0 && xc_live(c, XC_KIND_S2, k1, v[0])) {
			struct xc_ipa_meta meta;

			memcpy(&meta, &v[XC_IPA_META - XC_STAMP], sizeof(meta));
			if (g.lru)
				xc_touch_hdr(xc_geom_hdr(&g, set), (unsigned int)way);
			hit->base = base;
			hit->lg = lg;
			hit->pa = v[XC_IPA_PA - XC_STAMP];
			hit->prot = meta.prot;
			hit->grant = meta.grant;
			hit->level = meta.level;
			return true;
		}
	}
	return false;
}

/*
 * The sizes of IPA-cache entries that may serve a look-up whose leaf must
 * cover more than 2^@over bytes (0: any size). An output IPA asks only for
 * leaves larger than the stage-1 leaf (xlate.c), so with 4K pages at both
 * stages it probes nothing.
 */
static inline __attribute__((always_inline)) uint64_t xc_ipa_sizes(const struct xlate_cache *c,
								   unsigned int over)
{
	return __atomic_load_n(&c->ipa.sizes, __ATOMIC_RELAXED) & ~mask_bits(over + 1);
}

/* Look @ipa up at the sizes @m (xc_ipa_sizes()); the geometry a constant in the usual case. */
static inline __attribute__((always_inline)) bool
xc_ipa_lookup_m(const struct xlate_cache *c, uint32_t vmid, uint64_t ipa, uint64_t m,
		struct xc_ipa_hit *hit)
{
	if (likely(c->ipa.geom4))
		return xc_ipa_lookup_g(c, vmid, ipa, hit, m, true);
	return xc_ipa_lookup_g(c, vmid, ipa, hit, m, false);
}

/* At every size present. */
static inline __attribute__((always_inline)) bool
xc_ipa_lookup(const struct xlate_cache *c, uint32_t vmid, uint64_t ipa, struct xc_ipa_hit *hit)
{
	return xc_ipa_lookup_m(c, vmid, ipa, xc_ipa_sizes(c, 0), hit);
}

/*
 * Walk-cache lookup at @depth of @stage (0 or 1): the table that the
 * descriptor at that depth points to for the input region [base, + 2^lg).
 * Stage-1 entries are per (VMID, ASID, U); stage-2 entries per VMID.
 */
static inline __attribute__((always_inline)) bool
xc_walk_lookup_g(const struct xlate_cache *c, int stage, unsigned int depth, uint64_t k1,
		 bool user, uint64_t base, unsigned int lg, uint64_t *table, uint64_t *meta,
		 const bool g4)
{
	const struct xc_cset *s = &c->walk[stage][depth];
	const struct xc_geom g = g4 ? xc_geom4_of(s, XC_WALK_NW) : xc_geom_of(s);
	uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff, set;
	uint64_t v[3];
	int way;

	/*
	 * (No test of the size mask first: a walk cache of one depth holds
	 * one size, present as soon as it has been filled once; an entry
	 * whose bit xlate_inv_all cleared is dead by its stamp.)
	 */
	set = xc_geom_set(&g, xc_hash(base, lg, vmid));
	way = xc_probe_g(&g, set, xc_key0(base, lg, user), k1, v);
	if (way < 0 || !xc_live(c, stage ? XC_KIND_S2 : XC_KIND_S1, k1, v[0]))
		return false;
	if (g.lru)
		xc_touch_hdr(xc_geom_hdr(&g, set), (unsigned int)way);
	*table = v[XC_WALK_TABLE - XC_STAMP];
	*meta = v[XC_WALK_META - XC_STAMP];
	return true;
}

/* The geometry a constant in the usual case (xc_geom4_of()); *meta: the entry's meta word. */
static inline __attribute__((always_inline)) bool
xc_walk_lookup_m(const struct xlate_cache *c, int stage, unsigned int depth, uint64_t k1,
		 bool user, uint64_t base, unsigned int lg, uint64_t *table, uint64_t *meta)
{
	if (likely(c->walk[stage][depth].geom4))
		return xc_walk_lookup_g(c, stage, depth, k1, user, base, lg, table, meta, true);
	return xc_walk_lookup_g(c, stage, depth, k1, user, base, lg, table, meta, false);
}

/* The same, for the table and its permission limit alone. */
static inline __attribute__((always_inline)) bool
xc_walk_lookup(const struct xlate_cache *c, int stage, unsigned int depth, uint64_t k1, bool user,
	       uint64_t base, unsigned int lg, uint64_t *table, unsigned int *prot)
{
	uint64_t meta;

	if (!xc_walk_lookup_m(c, stage, depth, k1, user, base, lg, table, &meta))
		return false;
	*prot = (unsigned int)(meta & XC_WALK_M_PROT);
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
/* The same with the answer already laid out (xlate.c builds it from its result). */
void xc_tlb_fill_img(struct xlate_cache *c, uint64_t s0, uint64_t k1, bool user, uint64_t base,
		     unsigned int lg, uint64_t pa, uint64_t ipa, const struct xc_tlb_img *img);
void xc_ipa_fill(struct xlate_cache *c, uint64_t s0, uint32_t vmid, uint64_t base,
		 unsigned int lg, uint64_t pa, unsigned int prot, unsigned int grant, int level);
/* @meta: the permission limit, or xc_walk_meta_comb() for a combined stage-1 entry. */
void xc_walk_fill(struct xlate_cache *c, uint64_t s0, int stage, unsigned int depth, uint64_t k1,
		  bool user, uint64_t base, unsigned int lg, uint64_t table, uint64_t meta);

/* ---------------------------------------------------------------------- */
/* Fills: the set's lock, and the IOTLB's inline insert (the protocol is cache.c's essay) */

static inline __attribute__((always_inline)) void xc_set_lock(struct xc_hdr *h)
{
	for (;;) {
		uint32_t s = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);

		if (!(s & 1) && __atomic_compare_exchange_n(&h->seq, &s, s + 1, false,
							    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			break;
		xc_cpu_relax();
	}
	/* Readers that see a word stored below see the odd count on their re-check. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline __attribute__((always_inline)) void xc_set_unlock(struct xc_hdr *h)
{
	__atomic_store_n(&h->seq, __atomic_load_n(&h->seq, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
}

static inline __attribute__((always_inline)) void xc_st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) bool xc_not_newer(const struct xc_scope *sc, uint64_t s0)
{
	return __atomic_load_n(&sc->pend, __ATOMIC_SEQ_CST) <= s0;
}

/*
 * No invalidation that can remove an entry of @kind / @k1 began since @s0:
 * none at all when the sequence is still @s0 (the usual case, one load),
 * else none in the entry's scopes.
 */
static inline __attribute__((always_inline)) bool
xc_fresh(const struct xlate_cache *c, enum xc_kind kind, uint64_t k1, uint64_t s0)
{
	uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;

	if (likely(__atomic_load_n(&c->seq, __ATOMIC_SEQ_CST) == s0))
		return true;
	if (kind == XC_KIND_CFG)
		return xc_not_newer(&c->cfg_sc, s0) && xc_not_newer(&c->gsc, s0);
	if (!xc_not_newer(&c->gsc, s0) || !xc_not_newer(&c->vm[vmid].sc, s0))
		return false;
	if (kind == XC_KIND_S1 || (kind == XC_KIND_TLB && !(k1 & XC_K1_S2ONLY)))
		return xc_not_newer(&c->as[xc_asid_slot(vmid, (uint32_t)k1)].sc, s0);
	return true;
}

/*
 * The way of a set (@ways ways, @tag its tags, @e0 its entries of @nw
 * words) that holds (@k0, @k1), or -1; *free_way: the first free one.
 * Inline, so 4 ways unroll.
 */
static inline __attribute__((always_inline)) int
xc_insert_scan(const uint64_t *e0, unsigned int nw, const uint64_t *tag, unsigned int ways,
	       uint64_t k0, uint64_t k1, int *free_way)
{
	for (unsigned int w = 0; w < ways; w++) {
		uint64_t t = xc_ld(&tag[w]);

		if (!(t & XC_K0_VALID)) {
			if (*free_way < 0)
				*free_way = (int)w;
		} else if (unlikely(t == k0) && xc_ld(&e0[(size_t)w * nw + XC_K1]) == k1) {
			return (int)w;
		}
	}
	return -1;
}

/* Put @c on / take it off the process's list of live caches (cache_reg.c). */
void xc_reg_add(struct xlate_cache *c);
void xc_reg_del(struct xlate_cache *c);

/* A way of set @h whose entry is dead, or -1 (cache.c). */
int xc_dead_way(const struct xlate_cache *c, const struct xc_cset *s, struct xc_hdr *h,
		const uint64_t *e0, unsigned int ways, unsigned int nw);
/* The victim of a random-replacement set (cache.c). */
unsigned int xc_victim(struct xlate_cache *c, const struct xc_cset *s, struct xc_hdr *h);

/*
 * Insert the entry @ent (@nw words: key1, stamp = @s0, values) under key0
 * @k0, covering 2^@lg bytes, with the level a TTL hint would name
 * (xc_fp()), into the set of @hash of @s, unless an invalidation began
 * since @s0. The protocol of cache.c's essay, in its order: size bit (@m is
 * the size mask as the caller loaded it, seq_cst), lock, freshness, an
 * entry with the same keys overwritten in place, else a free way, else a
 * dead one, else the victim; the tag zeroed first and written last.
 * Inline, so that each cache's copy of the words is unrolled; @g4 (a
 * constant: the cache has the default geometry, s->geom4) makes the set's
 * place and the ways' offsets constants too, and the four tags are
 * compared in registers. Returns -1 when the fill was dropped, else
 * whether it evicted a live entry: the caller counts (so that a miss path
 * counts everything through one look-up of its counter shard).
 */
static inline __attribute__((always_inline)) int
xc_insert_way(struct xlate_cache *c, struct xc_cset *s, uint64_t hash, uint64_t k0,
	      const uint64_t *ent, const unsigned int nw, unsigned int lg, uint64_t s0, int level,
	      uint64_t m, const bool g4)
{
	const unsigned int ways = g4 ? 4 : s->ways;
	const uint32_t set = g4 ? (uint32_t)(hash & s->set_mask) : xc_set_of(s, hash);
	struct xc_hdr *h = g4 ? (struct xc_hdr *)(s->sets + ((size_t)set << XC_TLB4_TSHIFT))
			      : xc_hdr(s, set);
	uint64_t *tag = xc_tags(h), *e;
	uint64_t *e0 = g4 ? (uint64_t *)(s->ents + (size_t)set * ALIGN_UP(4 * nw * 8, 64))
			  : xc_ents(s, set);
	int way = -1, free_way = -1;
	bool evict = false;

	if (unlikely(!(m & BIT(lg))))
		__atomic_fetch_or(&s->sizes, BIT(lg), __ATOMIC_SEQ_CST);
	xc_set_lock(h);
	if (unlikely(!xc_fresh(c, (enum xc_kind)s->kind, ent[XC_K1], s0))) {
		xc_set_unlock(h);
		return -1;
	}
	/* The tag line: the same key (confirmed by key1), else the first free way. */
	if (g4) {
		const uint64_t t0 = xc_ld(&tag[0]), t1 = xc_ld(&tag[1]), t2 = xc_ld(&tag[2]),
			       t3 = xc_ld(&tag[3]);

		if (unlikely(t0 == k0 || t1 == k0 || t2 == k0 || t3 == k0))
			way = xc_insert_scan(e0, nw, tag, 4, k0, ent[XC_K1], &free_way);
		/* (A full set, the usual case, in one test.) */
		if (way < 0 && unlikely(!(t0 & t1 & t2 & t3 & XC_K0_VALID)))
			way = !(t0 & XC_K0_VALID)   ? 0
			      : !(t1 & XC_K0_VALID) ? 1
			      : !(t2 & XC_K0_VALID) ? 2
						    : 3;
	} else {
		way = xc_insert_scan(e0, s->nw, tag, ways, k0, ent[XC_K1], &free_way);
		if (way < 0)
			way = free_way;
	}
	/*
	 * A dead way before the victim. h->live remembers the newest flush
	 * this set's ways were all seen live after: until the next flush there
	 * is nothing to look for (an entry that arrives dead, from a walk that
	 * began before a flush, is then just an ordinary victim).
	 */
	if (way < 0 && unlikely(__atomic_load_n(&h->live, __ATOMIC_RELAXED) !=
				(uint32_t)xc_ld(&c->flushed)))
		way = xc_dead_way(c, s, h, e0, ways, g4 ? nw : s->nw);
	if (way < 0) {
		evict = true;
		if (likely(s->lru)) {
			/* The least recent way, which becomes the most recent: a rotation. */
			uint64_t o = __atomic_load_n(&h->lru, __ATOMIC_RELAXED);
			unsigned int last = 4 * (ways - 1);

			if (g4) {
				/* Four ways: the low 16 bits rotated by a nibble. */
				uint16_t r = (uint16_t)((uint16_t)o << 4 | (uint16_t)o >> 12);

				way = r & 15;
				__atomic_store_n(&h->lru, (o & ~0xffffULL) | r, __ATOMIC_RELAXED);
			} else {
				way = (int)(o >> last) & 15;
				__atomic_store_n(&h->lru,
						 (o & ~mask_bits(last + 4)) |
							 (o & mask_bits(last)) << 4 | (uint64_t)way,
						 __ATOMIC_RELAXED);
			}
		} else {
			way = (int)xc_victim(c, s, h);
		}
	} else if (s->lru) {
		xc_touch_hdr(h, (unsigned int)way);
	}
	e = e0 + (size_t)way * (g4 ? nw : s->nw);
	xc_st(&tag[way], 0);
#pragma GCC unroll 8
	for (unsigned int i = 0; i < nw; i++)
		xc_st(&e[i], ent[i]);
	__atomic_store_n(&xc_fps(h, ways)[way], xc_fp(ent[XC_K1], level), __ATOMIC_RELAXED);
	xc_st(&tag[way], k0);
	xc_set_unlock(h);
	return evict;
}

/* xc_insert_way() for an IOTLB of the default geometry, the entry's words as arguments. */
static inline __attribute__((always_inline)) int
xc_tlb_insert4(struct xlate_cache *c, struct xc_cset *s, uint64_t hash, uint64_t k0, uint64_t k1,
	       uint64_t s0, uint64_t pa, uint64_t ipa, const uint64_t *img, unsigned int lg,
	       int level, uint64_t m)
{
	const uint64_t e[XC_TLB_NW] = { k1, s0, pa, ipa, img[0], img[1], img[2], img[3] };

	return xc_insert_way(c, s, hash, k0, e, XC_TLB_NW, lg, s0, level, m, true);
}

/*
 * xc_tlb_fill_img() inline, for the miss path of xlate.c (walk_short()):
 * an IOTLB of the default geometry goes straight to xc_tlb_insert4(), any
 * other to the call. The size hint of the region is stored only when the
 * IOTLB holds other sizes than this one: hints order the probes of several
 * sizes, and with one size present nothing reads them (a hint left stale
 * when a second size arrives costs a probe, never an answer). The answer
 * comes as its words (@w: xc_tlb_img_words()), @level as xc_fp() wants
 * it (the stage-1 leaf's, the stage-2 leaf's for a stage-2-only entry).
 * Returns what
 * xc_tlb_insert4() does, which the caller counts; -2: the call counted.
 */
static inline __attribute__((always_inline)) int
xc_tlb_fill_inline(struct xlate_cache *c, uint64_t s0, uint64_t k1, bool user, uint64_t base,
		   unsigned int lg, uint64_t pa, uint64_t ipa, const uint64_t *w, int level)
{
	const uint32_t vmid = (uint32_t)(k1 >> 32) & 0xffff;
	uint64_t m;

	if (unlikely(!c->iotlb.geom4)) {
		struct xc_tlb_img img;

		memcpy(&img, w, sizeof(img));
		xc_tlb_fill_img(c, s0, k1, user, base, lg, pa, ipa, &img);
		return -2;
	}
	/* One load of the mask: the hint's test and the insert's (seq_cst, as it needs). */
	m = __atomic_load_n(&c->iotlb.sizes, __ATOMIC_SEQ_CST);
	if (unlikely(m != BIT(lg)))
		__atomic_store_n(xc_hint(c, xc_tlb_key_of(k1, user).hv, base), (uint8_t)lg,
				 __ATOMIC_RELAXED);
	return xc_tlb_insert4(c, &c->iotlb, xc_hash(base, lg, vmid), xc_key0(base, lg, user), k1,
			      s0, pa, ipa, w, lg, level, m);
}

#endif
