// SPDX-License-Identifier: MIT
/*
 * lib/xlate/cache.c on its own: entries put in directly (the fills xlate()
 * makes), looked up directly, and every invalidation kind checked against
 * a reference model, a plain list of entries with their full keys.
 *
 * The model test keeps the cache from over-invalidating, so that "live in
 * the model" and "found in the cache" must agree exactly: capacity well
 * above the live entries (no eviction; checked), ASIDs whose flush slots
 * differ, ranges too small to be turned into flushes. Over-invalidation
 * (the range-to-flush conversion, conservative IPA invalidation) has
 * tests of its own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "xlate/cache_int.h"

#define R  PT_PROT_R
#define W  PT_PROT_W
#define RW PT_PROT_RW

static struct xlate_cache *mk_cache(unsigned int iotlb, unsigned int ways, enum xlate_repl repl,
				    uint64_t seed)
{
	struct xlate_cache_params p;
	struct xlate_cache *c;

	xlate_cache_params_default(&p);
	p.iotlb = (struct xlate_cache_geom){ iotlb, ways };
	p.repl = repl;
	p.seed = seed;
	assert_int_equal(xlate_cache_new(&p, &c), 0);
	return c;
}

/* A combined IOTLB entry for page @va of 2^@lg bytes, output @pa, stage-1 level @l1. */
static void tlb_put(struct xlate_cache *c, uint16_t vmid, uint32_t asid, uint64_t va,
		    unsigned int lg, uint64_t pa, int l1)
{
	xc_tlb_fill(c, xc_begin(c), xc_key1(vmid, asid), false, va, lg, pa, pa,
		    xc_tlb_meta(RW, RW, RW, l1, 3, lg, 12));
}

/* The output of the IOTLB entry for (@vmid, @asid, @va), or ~0 when none hits. */
static uint64_t tlb_get(struct xlate_cache *c, uint16_t vmid, uint32_t asid, uint64_t va)
{
	struct xc_tlb_hit h;

	if (!xc_tlb_lookup(c, xc_key1(vmid, asid), false, va, &h))
		return ~0ULL;
	return h.pa + (va & mask_bits(h.lg));
}

/* ---------------------------------------------------------------------- */
/* Parameters and allocation                                              */

static void test_params(void **state)
{
	struct xlate_cache_params p;
	struct xlate_cache *c = (struct xlate_cache *)1;

	xlate_cache_params_default(&p);
	assert_int_equal(p.iotlb.entries, 4096);
	assert_int_equal(p.iotlb.ways, 4);
	assert_int_equal(p.walk[0].entries, 256);
	assert_int_equal(p.walk[1].entries, 256);
	assert_int_equal(p.ipa.entries, 1024);
	assert_int_equal(p.repl, XLATE_REPL_LRU);
	assert_false(p.ipa_inval_conservative);
	assert_int_equal(xlate_cache_new(&p, &c), 0);
	assert_int_equal(c->iotlb.nsets, 1024);
	assert_int_equal(c->iotlb.ways, 4);
	/* Tag blocks of one line each, then four entry lines a set, all line-aligned. */
	assert_int_equal(c->iotlb.tshift, 6);
	assert_int_equal(c->iotlb.estride, 4 * 64);
	assert_int_equal((uintptr_t)c->iotlb.sets % 64, 0);
	assert_ptr_equal(c->iotlb.ents, c->iotlb.sets + 1024 * 64);
	xlate_cache_free(c);

	/* ways 0: fully associative up to 16 ways. */
	p.iotlb = (struct xlate_cache_geom){ 8, 0 };
	p.walk[0] = (struct xlate_cache_geom){ 64, 0 };
	assert_int_equal(xlate_cache_new(&p, &c), 0);
	assert_int_equal(c->iotlb.ways, 8);
	assert_int_equal(c->iotlb.nsets, 1);
	assert_int_equal(c->walk[0][0].ways, 16);
	assert_int_equal(c->walk[0][0].nsets, 4);
	/* 8 ways: 16 + 8 * 12 bytes of tags fit two lines; 16 ways: four. */
	assert_int_equal(c->iotlb.tshift, 7);
	assert_int_equal(c->walk[0][0].tshift, 8);
	assert_int_equal(c->walk[0][0].estride, 16 * XC_WALK_NW * 8);
	xlate_cache_free(c);

	/* A cache of 0 entries is off; a set count that is not a power of two works too. */
	p.iotlb = (struct xlate_cache_geom){ 0, 0 };
	p.ipa = (struct xlate_cache_geom){ 12, 4 };
	assert_int_equal(xlate_cache_new(&p, &c), 0);
	assert_null(c->iotlb.sets);
	assert_int_equal(c->ipa.nsets, 3);
	assert_false(xc_tlb_lookup(c, 0, false, 0, &(struct xc_tlb_hit){ 0 }));
	xc_tlb_fill(c, xc_begin(c), 0, false, 0, 12, 0, 0, 0);
	{
		unsigned int seen = 0, hits = 0;
		struct xc_ipa_hit h;

		for (uint64_t i = 0; i < 100; i++) {
			uint32_t set = xc_set_of(&c->ipa, xc_hash(i << 12, 12, 1));

			assert_true(set < 3);
			seen |= 1u << set;
		}
		assert_int_equal(seen, 7);
		for (int i = 0; i < 12; i++)
			xc_ipa_fill(c, xc_begin(c), 1, (uint64_t)i << 12, 12,
				    0x1000000 + ((uint64_t)i << 12), R, R, 3);
		for (int i = 0; i < 12; i++) {
			if (!xc_ipa_lookup(c, 1, ((uint64_t)i << 12) + 5, &h))
				continue;
			assert_int_equal(h.pa, 0x1000000 + ((uint64_t)i << 12));
			hits++;
		}
		assert_true(hits >= 4 && hits <= 12);
	}
	xlate_inv_all(c);
	xlate_inv_range(c, 0, 0, 0, 1ULL << 40, 0, -1);
	xlate_cache_free(c);
	xlate_cache_free(NULL);

	/* Refused: more than 16 ways, entries not a multiple of ways, too big, bad policy. */
	xlate_cache_params_default(&p);
	p.iotlb.ways = 32;
	p.iotlb.entries = 64;
	assert_int_equal(xlate_cache_new(&p, &c), -EINVAL);
	assert_null(c);
	p.iotlb = (struct xlate_cache_geom){ 100, 8 };
	assert_int_equal(xlate_cache_new(&p, &c), -EINVAL);
	p.iotlb = (struct xlate_cache_geom){ 1u << 25, 4 };
	assert_int_equal(xlate_cache_new(&p, &c), -EINVAL);
	xlate_cache_params_default(&p);
	p.repl = (enum xlate_repl)7;
	assert_int_equal(xlate_cache_new(&p, &c), -EINVAL);

	assert_string_equal(xlate_cache_name(XLATE_CACHE_IOTLB), "iotlb");
	assert_string_equal(xlate_cache_name(XLATE_CACHE_WALK_S1), "walk-s1");
	assert_string_equal(xlate_cache_name(XLATE_CACHE_WALK_S2), "walk-s2");
	assert_string_equal(xlate_cache_name(XLATE_CACHE_IPA), "ipa");
	assert_string_equal(xlate_cache_name(XLATE_CACHE_CFG), "cfg");
	assert_string_equal(xlate_cache_name((enum xlate_cache_id)9), "?");
}

/* Every allocation of xlate_cache_new failing in turn: -ENOMEM, nothing leaked (ASan). */
static void test_alloc_failures(void **state)
{
	struct xlate_cache_params p;
	struct xlate_cache *c;
	unsigned long n;
	int ret;

	xlate_cache_params_default(&p);
	for (n = 1;; n++) {
		ualloc_fail_nth(n);
		ret = xlate_cache_new(&p, &c);
		if (!ret) {
			ualloc_fail_nth(0);
			xlate_cache_free(c);
			break;
		}
		assert_int_equal(ret, -ENOMEM);
		assert_null(c);
	}
	ualloc_fail_nth(0);
	/* The struct, VMID, ASID, SID stamps, shards; iotlb, ipa, cfg, 2 x 5 walk caches. */
	assert_int_equal(n, 1 + 4 + 3 + 10 + 1);
}

/* ---------------------------------------------------------------------- */
/* Replacement                                                            */

/*
 * LRU by hand on one set of 4 ways (a 4-entry, 4-way IOTLB): A B C D fill
 * it (recency D C B A), a hit on A makes it A D C B, so E evicts B; then
 * hits on A, D, E, C make it C E D A, and F evicts A.
 */
static void test_lru_by_hand(void **state)
{
	struct xlate_cache *c = mk_cache(4, 4, XLATE_REPL_LRU, 1);
	struct xlate_cache_stats st;
	const uint64_t A = 0x1000, B = 0x2000, C = 0x3000, D = 0x4000, E = 0x5000, F = 0x6000;

	tlb_put(c, 1, 1, A, 12, 0xa000, 3);
	tlb_put(c, 1, 1, B, 12, 0xb000, 3);
	tlb_put(c, 1, 1, C, 12, 0xc000, 3);
	tlb_put(c, 1, 1, D, 12, 0xd000, 3);
	assert_int_equal(tlb_get(c, 1, 1, A + 8), 0xa008);
	tlb_put(c, 1, 1, E, 12, 0xe000, 3);
	assert_int_equal(tlb_get(c, 1, 1, B), ~0ULL);
	assert_int_equal(tlb_get(c, 1, 1, A), 0xa000);
	assert_int_equal(tlb_get(c, 1, 1, D), 0xd000);
	assert_int_equal(tlb_get(c, 1, 1, E), 0xe000);
	/* The lookups made the order E D A ...; a hit on C: C E D A; F evicts A. */
	assert_int_equal(tlb_get(c, 1, 1, C), 0xc000);
	tlb_put(c, 1, 1, F, 12, 0xf000, 3);
	assert_int_equal(tlb_get(c, 1, 1, A), ~0ULL);
	assert_int_equal(tlb_get(c, 1, 1, C), 0xc000);
	assert_int_equal(tlb_get(c, 1, 1, D), 0xd000);
	assert_int_equal(tlb_get(c, 1, 1, E), 0xe000);
	assert_int_equal(tlb_get(c, 1, 1, F), 0xf000);
	/* Refilling a present key overwrites it in place: no eviction. */
	tlb_put(c, 1, 1, F, 12, 0xf100, 3);
	assert_int_equal(tlb_get(c, 1, 1, F), 0xf100);
	xlate_cache_get_stats(c, &st);
	assert_int_equal(st.iotlb.fills, 7);
	assert_int_equal(st.iotlb.evictions, 2);

	/* A flushed entry is taken before any live one is evicted. */
	xlate_inv_asid(c, 1, 1);
	tlb_put(c, 1, 2, A, 12, 0xa000, 3);
	tlb_put(c, 1, 2, B, 12, 0xb000, 3);
	tlb_put(c, 1, 2, C, 12, 0xc000, 3);
	tlb_put(c, 1, 2, D, 12, 0xd000, 3);
	xlate_cache_get_stats(c, &st);
	assert_int_equal(st.iotlb.evictions, 2);
	for (uint64_t v = A; v <= D; v += 0x1000)
		assert_int_not_equal(tlb_get(c, 1, 2, v), ~0ULL);
	xlate_cache_free(c);
}

static void test_lru_promote(void **state)
{
	uint64_t o = 0xfedcba9876543210ULL;

	assert_int_equal(xc_lru_promote(o, 0), o);
	assert_int_equal(xc_lru_promote(o, 3), 0xfedcba9876542103ULL);
	assert_int_equal(xc_lru_promote(o, 15), 0xedcba9876543210fULL);
	assert_int_equal(xc_lru_promote(0x0123, 0), 0x1230);
}

/* The xorshift64 the cache uses for random replacement. */
static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Random replacement with a fixed seed on one set of 4 ways: each fill
 * into a full set evicts way xorshift() % 4, so the survivors are known.
 */
static void test_random_seeded(void **state)
{
	const uint64_t seed = 12345;
	struct xlate_cache *c = mk_cache(4, 4, XLATE_REPL_RANDOM, seed);
	uint64_t slot[4], x = seed;

	for (int i = 0; i < 4; i++) {
		slot[i] = 0x1000 * (i + 1);
		tlb_put(c, 0, 0, slot[i], 12, slot[i] << 8, 3);
	}
	for (int k = 0; k < 20; k++) {
		uint64_t va = 0x100000 + 0x1000 * k;
		unsigned int way = (unsigned int)(xorshift(&x) % 4);

		tlb_put(c, 0, 0, va, 12, va << 8, 3);
		assert_int_equal(tlb_get(c, 0, 0, slot[way]), ~0ULL);
		slot[way] = va;
		for (int i = 0; i < 4; i++)
			assert_int_equal(tlb_get(c, 0, 0, slot[i]), slot[i] << 8);
	}
	xlate_cache_free(c);
}

/* ---------------------------------------------------------------------- */
/* Every invalidation against a reference model                           */

enum mkind { M_TLB, M_TLB_S2, M_IPA, M_W1, M_W2, M_NKINDS };

struct ment {
	enum mkind kind;
	uint16_t vmid;
	uint32_t asid;
	bool user;
	unsigned int depth; /* walk caches */
	uint64_t base;
	unsigned int lg;
	int level; /* TLB: stage-1 leaf level; TLB_S2 / IPA: stage-2 leaf level */
	uint64_t out;
	uint64_t meta; /* walk caches: the meta word (stage 1: combined or not) */
	bool live;
};

#define MAXE 600

struct model {
	struct ment e[MAXE];
	unsigned int n;
	bool conservative;
};

static uint64_t rng_state, rng_seed;

static uint64_t rnd(uint64_t n)
{
	return xorshift(&rng_state) % n;
}

static const uint16_t vmids[] = { 0, 1, 7 };
static uint32_t asids[3];

static bool same_key(const struct ment *a, const struct ment *b)
{
	if (a->kind != b->kind || a->vmid != b->vmid || a->base != b->base || a->lg != b->lg)
		return false;
	if (a->kind == M_W1 || a->kind == M_W2)
		if (a->depth != b->depth)
			return false;
	if (a->kind == M_TLB || a->kind == M_W1)
		return a->asid == b->asid && a->user == b->user;
	return true;
}

static bool overlaps(const struct ment *a, uint64_t first, uint64_t last)
{
	return a->base <= last && first <= a->base + (mask_bits(a->lg));
}

/*
 * A random entry. Sizes are laid out so that two entries of one context
 * never overlap unless they have the same key: 4K pages below 1 GiB, 2M
 * blocks from 1 GiB to 2 GiB; walk-cache regions per depth, one size each.
 */
static void random_entry(struct ment *m)
{
	static const unsigned int wlg[2] = { 30, 21 };

	memset(m, 0, sizeof(*m));
	m->kind = (enum mkind)rnd(M_NKINDS);
	m->vmid = vmids[rnd(3)];
	if (m->kind == M_TLB || m->kind == M_W1) {
		m->asid = asids[rnd(3)];
		m->user = rnd(4) == 0;
	}
	if (m->kind == M_W1 || m->kind == M_W2) {
		m->depth = 1 + (unsigned int)rnd(2);
		m->lg = wlg[m->depth - 1];
		m->base = rnd(4) << m->lg;
		m->out = 0x7000000000ULL + (rnd(1 << 20) << 12);
		m->meta = R | W;
		/* Half the stage-1 entries combined: the table's PA, stage 2's permissions. */
		if (m->kind == M_W1 && rnd(2))
			m->meta = xc_walk_meta_comb(R | W, 0x5000000000ULL + (rnd(1 << 20) << 12),
						    (unsigned int)rnd(16));
		return;
	}
	if (rnd(4)) {
		m->lg = 12;
		m->base = rnd(64) << 12;
	} else {
		m->lg = 21;
		m->base = (1ULL << 30) + (rnd(8) << 21);
	}
	m->level = m->lg == 12 ? 3 : 2;
	m->out = 0x4000000000ULL + (rnd(1 << 16) << 21);
}

static void put(struct xlate_cache *c, const struct ment *m)
{
	switch (m->kind) {
	case M_TLB:
		xc_tlb_fill(c, xc_begin(c), xc_key1(m->vmid, m->asid), m->user, m->base, m->lg,
			    m->out, m->out ^ 0x100000000ULL,
			    xc_tlb_meta(RW, RW, RW, m->level, 3, m->lg, 12));
		break;
	case M_TLB_S2:
		xc_tlb_fill(c, xc_begin(c), xc_key1(m->vmid, 0) | XC_K1_S2ONLY, false, m->base,
			    m->lg, m->out, m->base,
			    xc_tlb_meta(15, RW, RW, -1, m->level, 0, m->lg));
		break;
	case M_IPA:
		xc_ipa_fill(c, xc_begin(c), m->vmid, m->base, m->lg, m->out, RW, R, m->level);
		break;
	case M_W1:
	case M_W2:
		xc_walk_fill(c, xc_begin(c), m->kind == M_W2, m->depth,
			     xc_key1(m->vmid, m->kind == M_W1 ? m->asid : 0), m->user, m->base,
			     m->lg, m->out, m->meta);
		break;
	default:
		break;
	}
}

/* Does the cache answer for @m (at a random point inside it), with its output? */
static bool found(struct xlate_cache *c, const struct ment *m)
{
	uint64_t in = m->base + rnd(1ULL << m->lg), table, meta;
	struct xc_tlb_hit th;
	struct xc_ipa_hit ih;

	switch (m->kind) {
	case M_TLB:
		if (!xc_tlb_lookup(c, xc_key1(m->vmid, m->asid), m->user, in, &th))
			return false;
		assert_int_equal(th.lg, m->lg);
		assert_int_equal(th.pa, m->out);
		assert_int_equal(xc_tlb_l1(th.meta), m->level);
		return true;
	case M_TLB_S2:
		if (!xc_tlb_lookup(c, xc_key1(m->vmid, 0) | XC_K1_S2ONLY, false, in, &th))
			return false;
		assert_int_equal(th.pa, m->out);
		assert_int_equal(xc_tlb_l2(th.meta), m->level);
		return true;
	case M_IPA:
		if (!xc_ipa_lookup(c, m->vmid, in, &ih))
			return false;
		assert_int_equal(ih.pa, m->out);
		assert_int_equal(ih.level, m->level);
		assert_int_equal(ih.prot, RW);
		assert_int_equal(ih.grant, R);
		return true;
	case M_W1:
	case M_W2:
		if (!xc_walk_lookup_m(c, m->kind == M_W2, m->depth,
				      xc_key1(m->vmid, m->kind == M_W1 ? m->asid : 0), m->user,
				      m->base, m->lg, &table, &meta))
			return false;
		assert_int_equal(table, m->out);
		assert_int_equal(meta, m->meta);
		return true;
	default:
		return false;
	}
}

static void model_check(struct xlate_cache *c, struct model *md, const char *what)
{
	for (unsigned int i = 0; i < md->n; i++) {
		const struct ment *m = &md->e[i];
		bool f = found(c, m);

		if (f != m->live)
			fail_msg("after %s: entry %u (kind %d vmid %u asid %u base 0x%llx lg %u "
				 "level %d) is %s in the model but %s in the cache (seed %llu)",
				 what, i, m->kind, m->vmid, m->asid, (unsigned long long)m->base,
				 m->lg, m->level, m->live ? "live" : "gone",
				 f ? "found" : "not found", (unsigned long long)rng_seed);
	}
}

static void model_put(struct xlate_cache *c, struct model *md)
{
	struct ment m;
	unsigned int i;

	random_entry(&m);
	put(c, &m);
	m.live = true;
	for (i = 0; i < md->n; i++)
		if (same_key(&md->e[i], &m))
			break;
	if (i == md->n) {
		if (md->n == MAXE)
			return;
		md->n++;
	}
	md->e[i] = m;
}

static void model_inv(struct xlate_cache *c, struct model *md, char *what, size_t len)
{
	uint16_t vmid = vmids[rnd(3)];
	uint32_t asid = rnd(4) ? asids[rnd(3)] : XLATE_ANY_ASID;
	unsigned int flags = rnd(2) ? XLATE_INV_LEAF : 0, op = (unsigned int)rnd(20);
	int ttl = rnd(3) ? -1 : 2 + (int)rnd(2);
	uint64_t first, size, last;

	/* Ranges of 1-16 pages (4K or 2M grid), never enough to become a flush. */
	if (rnd(2)) {
		first = rnd(64) << 12;
		size = (1 + rnd(16)) << 12;
	} else {
		first = (1ULL << 30) + (rnd(8) << 21);
		size = (1 + rnd(4)) << 21;
	}
	if (rnd(8) == 0) {
		first = rnd(4) << 30; /* meets walk-cache regions of depth 1 */
		size = 1ULL << 12;
	}
	last = first + size - 1;

	if (op == 0) {
		snprintf(what, len, "inv_all");
		xlate_inv_all(c);
		for (unsigned int i = 0; i < md->n; i++)
			md->e[i].live = false;
	} else if (op <= 2) {
		snprintf(what, len, "inv_vmid(%u)", vmid);
		xlate_inv_vmid(c, vmid);
		for (unsigned int i = 0; i < md->n; i++)
			if (md->e[i].vmid == vmid)
				md->e[i].live = false;
	} else if (op <= 5) {
		asid = asids[rnd(3)];
		snprintf(what, len, "inv_asid(%u, %u)", vmid, asid);
		xlate_inv_asid(c, vmid, asid);
		for (unsigned int i = 0; i < md->n; i++) {
			struct ment *m = &md->e[i];

			if ((m->kind == M_TLB || m->kind == M_W1) && m->vmid == vmid &&
			    m->asid == asid)
				m->live = false;
		}
	} else if (op <= 13) {
		snprintf(what, len, "inv_range(%u, 0x%x, 0x%llx, 0x%llx, %u, %d)", vmid, asid,
			 (unsigned long long)first, (unsigned long long)size, flags, ttl);
		xlate_inv_range(c, vmid, asid, first, size, flags, ttl);
		for (unsigned int i = 0; i < md->n; i++) {
			struct ment *m = &md->e[i];

			if (m->vmid != vmid || !overlaps(m, first, last))
				continue;
			if (asid != XLATE_ANY_ASID && m->asid != asid)
				continue;
			if (m->kind == M_TLB && (ttl < 0 || m->level == ttl))
				m->live = false;
			if (m->kind == M_W1 && !(flags & XLATE_INV_LEAF))
				m->live = false;
		}
	} else {
		snprintf(what, len, "inv_ipa(%u, 0x%llx, 0x%llx, %u, %d)", vmid,
			 (unsigned long long)first, (unsigned long long)size, flags, ttl);
		xlate_inv_ipa(c, vmid, first, size, flags, ttl);
		for (unsigned int i = 0; i < md->n; i++) {
			struct ment *m = &md->e[i];

			if (m->vmid != vmid)
				continue;
			/* Conservative: every combined entry of the VMID, stage-1 walk entries too. */
			if ((m->kind == M_TLB || m->kind == M_W1) && md->conservative)
				m->live = false;
			if (!overlaps(m, first, last))
				continue;
			if ((m->kind == M_IPA || m->kind == M_TLB_S2) &&
			    (ttl < 0 || m->level == ttl))
				m->live = false;
			if (m->kind == M_W2 && !(flags & XLATE_INV_LEAF))
				m->live = false;
		}
	}
}

static void run_model(bool conservative, uint64_t seed)
{
	struct xlate_cache_params p;
	struct xlate_cache_stats st;
	struct xlate_cache *c;
	struct model *md = calloc(1, sizeof(*md));
	char what[160];

	assert_non_null(md);
	rng_state = rng_seed = seed;
	print_message("# reference model, %s IPA invalidation, seed %llu\n",
		      conservative ? "conservative" : "architectural", (unsigned long long)seed);
	xlate_cache_params_default(&p);
	/* 4096 sets: a 16 MiB range (4096 4K pages) is still searched, not flushed. */
	p.iotlb = (struct xlate_cache_geom){ 65536, 16 };
	p.ipa = (struct xlate_cache_geom){ 65536, 16 };
	p.walk[0] = p.walk[1] = (struct xlate_cache_geom){ 1024, 16 };
	p.ipa_inval_conservative = conservative;
	assert_int_equal(xlate_cache_new(&p, &c), 0);
	md->conservative = conservative;
	/* Three ASIDs per VMID whose flush slots all differ. */
	for (uint32_t a = 1, k = 0; k < 3; a++) {
		bool ok = true;

		for (unsigned int v = 0; v < 3; v++)
			for (unsigned int v2 = 0; v2 < 3; v2++)
				for (uint32_t j = 0; j < k; j++)
					if (xc_asid_slot(vmids[v], a) ==
					    xc_asid_slot(vmids[v2], asids[j]))
						ok = false;
		for (unsigned int v = 0; v < 3; v++)
			for (unsigned int v2 = v + 1; v2 < 3; v2++)
				if (xc_asid_slot(vmids[v], a) == xc_asid_slot(vmids[v2], a))
					ok = false;
		if (ok)
			asids[k++] = a;
	}
	for (int step = 0; step < 6000; step++) {
		if (rnd(3)) {
			model_put(c, md);
			snprintf(what, sizeof(what), "a fill");
		} else {
			model_inv(c, md, what, sizeof(what));
		}
		if (step % 7 == 0 || step > 5900)
			model_check(c, md, what);
	}
	xlate_cache_get_stats(c, &st);
	assert_int_equal(st.iotlb.evictions + st.ipa.evictions, 0);
	assert_true(st.iotlb.invalidated > 0 && st.ipa.invalidated > 0);
	assert_true(st.walk[0][1].invalidated > 0 && st.walk[1][2].invalidated > 0);
	xlate_cache_free(c);
	free(md);
}

static void test_model(void **state)
{
	run_model(false, 0x5eed0001);
	run_model(false, 0x5eed0002);
}

static void test_model_conservative(void **state)
{
	run_model(true, 0x5eed0003);
}

/* ---------------------------------------------------------------------- */
/* Hints, conversions, IPA rules                                          */

static void test_leaf_and_ttl_hints(void **state)
{
	struct xlate_cache *c = mk_cache(4096, 4, XLATE_REPL_LRU, 1);
	uint64_t t;
	unsigned int prot;

	tlb_put(c, 2, 5, 0x200000, 21, 0x40000000, 2); /* a 2M block at level 2 */
	tlb_put(c, 2, 5, 0x1000, 12, 0x50000000, 3);	/* a 4K page at level 3 */
	xc_walk_fill(c, xc_begin(c), 0, 2, xc_key1(2, 5), false, 0, 21, 0x9000, R | W);

	/* Leaf-only: the walk-cache entry covering 0x1000 stays. */
	xlate_inv_range(c, 2, 5, 0x1000, 0x1000, XLATE_INV_LEAF, -1);
	assert_int_equal(tlb_get(c, 2, 5, 0x1000), ~0ULL);
	assert_true(xc_walk_lookup(c, 0, 2, xc_key1(2, 5), false, 0, 21, &t, &prot));
	assert_int_equal(t, 0x9000);
	/* Not leaf-only: it goes. */
	xlate_inv_range(c, 2, 5, 0x1000, 0x1000, 0, -1);
	assert_false(xc_walk_lookup(c, 0, 2, xc_key1(2, 5), false, 0, 21, &t, &prot));

	/* TTL 3 names 4K leaves: the 2M block covering the range is kept; TTL 2 removes it. */
	xlate_inv_range(c, 2, 5, 0x200000, 0x1000, XLATE_INV_LEAF, 3);
	assert_int_equal(tlb_get(c, 2, 5, 0x200123), 0x40000123);
	xlate_inv_range(c, 2, 5, 0x3ff000, 0x1000, XLATE_INV_LEAF, 2);
	assert_int_equal(tlb_get(c, 2, 5, 0x200123), ~0ULL);

	/* TTL does not spare walk-cache entries (the tables above the leaf). */
	xc_walk_fill(c, xc_begin(c), 0, 2, xc_key1(2, 5), false, 0, 21, 0x9000, R | W);
	xlate_inv_range(c, 2, 5, 0x1000, 0x1000, 0, 3);
	assert_false(xc_walk_lookup(c, 0, 2, xc_key1(2, 5), false, 0, 21, &t, &prot));

	/* Other contexts are untouched by all of this. */
	tlb_put(c, 2, 6, 0x1000, 12, 0x60000000, 3);
	tlb_put(c, 3, 5, 0x1000, 12, 0x70000000, 3);
	xlate_inv_range(c, 2, 5, 0, 1ULL << 22, 0, -1);
	assert_int_equal(tlb_get(c, 2, 6, 0x1000), 0x60000000);
	assert_int_equal(tlb_get(c, 3, 5, 0x1000), 0x70000000);
	/* ... unless any ASID is asked for. */
	xlate_inv_range(c, 2, XLATE_ANY_ASID, 0x1000, 1, 0, -1);
	assert_int_equal(tlb_get(c, 2, 6, 0x1000), ~0ULL);
	assert_int_equal(tlb_get(c, 3, 5, 0x1000), 0x70000000);
	/* A size of 0 does nothing; a range that wraps stops at the top. */
	xlate_inv_range(c, 3, 5, 0x1000, 0, 0, -1);
	assert_int_equal(tlb_get(c, 3, 5, 0x1000), 0x70000000);
	tlb_put(c, 3, 5, 0xfffffffffffff000ULL, 12, 0x80000000, 3);
	xlate_inv_range(c, 3, 5, 0xffffffffffffe000ULL, 0x4000, 0, -1);
	assert_int_equal(tlb_get(c, 3, 5, 0xfffffffffffff000ULL), ~0ULL);
	assert_int_equal(tlb_get(c, 3, 5, 0x1000), 0x70000000);
	xlate_cache_free(c);
}

/*
 * A range that would take more probes than the IOTLB has sets becomes a
 * flush: of the ASID (its other pages go too, other ASIDs stay), or for
 * XLATE_ANY_ASID of the VMID's stage-1 entries (stage-2 entries stay).
 */
static void test_range_becomes_flush(void **state)
{
	struct xlate_cache *c = mk_cache(64, 4, XLATE_REPL_LRU, 1); /* 16 sets */
	struct xlate_cache_stats st;
	struct xc_ipa_hit ih;

	tlb_put(c, 1, 1, 0x100000000ULL, 12, 0xa000, 3);
	tlb_put(c, 1, 2, 0x100000000ULL, 12, 0xb000, 3);
	tlb_put(c, 1, 1, 0x1000, 12, 0xc000, 3);
	xc_ipa_fill(c, xc_begin(c), 1, 0x1000, 12, 0xd000, RW, RW, 3);
	/* 16 pages: 16 probes, searched; the entry at 4 GiB stays. */
	xlate_inv_range(c, 1, 1, 0, 16 << 12, 0, -1);
	assert_int_equal(tlb_get(c, 1, 1, 0x1000), ~0ULL);
	assert_int_equal(tlb_get(c, 1, 1, 0x100000000ULL), 0xa000);
	xlate_cache_get_stats(c, &st);
	assert_int_equal(st.iotlb.invalidated, 1);
	/* 17 pages: an ASID flush. */
	xlate_inv_range(c, 1, 1, 0, 17 << 12, 0, -1);
	assert_int_equal(tlb_get(c, 1, 1, 0x100000000ULL), ~0ULL);
	assert_int_equal(tlb_get(c, 1, 2, 0x100000000ULL), 0xb000);
	xlate_cache_get_stats(c, &st);
	assert_int_equal(st.iotlb.invalidated, 1);
	/* Any ASID, 4 GiB: the VMID's stage-1 entries; the IPA cache keeps its own. */
	xlate_inv_range(c, 1, XLATE_ANY_ASID, 0, 1ULL << 32, 0, -1);
	assert_int_equal(tlb_get(c, 1, 2, 0x100000000ULL), ~0ULL);
	assert_true(xc_ipa_lookup(c, 1, 0x1000, &ih));
	/* A big IPA range: the VMID's stage-2 entries. */
	xlate_inv_ipa(c, 1, 0, 1ULL << 40, 0, -1);
	assert_false(xc_ipa_lookup(c, 1, 0x1000, &ih));
	xlate_cache_free(c);
}

/*
 * TLBI_S2_IPA: stage-2 entries in the range go (IPA cache, stage-2 walk
 * cache unless leaf-only, stage-2-only IOTLB entries); combined entries
 * built over that IPA stay until a stage-1 invalidation of the VMID, or
 * go at once with ipa_inval_conservative.
 */
static void test_ipa_rules(void **state)
{
	struct xlate_cache_params p;
	struct xlate_cache *c;
	struct xc_ipa_hit ih;
	struct xc_tlb_hit th;
	uint64_t t;
	unsigned int prot;

	for (int conservative = 0; conservative < 2; conservative++) {
		xlate_cache_params_default(&p);
		p.ipa_inval_conservative = conservative;
		assert_int_equal(xlate_cache_new(&p, &c), 0);
		/* IOVA 0x5000 -> IPA 0x8000_3000 -> PA 0x4000_3000, in VMID 4, ASID 9. */
		xc_tlb_fill(c, xc_begin(c), xc_key1(4, 9), false, 0x5000, 12, 0x40003000,
			    0x80003000, xc_tlb_meta(RW, RW | 8, RW, 3, 3, 12, 12));
		xc_ipa_fill(c, xc_begin(c), 4, 0x80003000, 12, 0x40003000, RW, RW, 3);
		xc_walk_fill(c, xc_begin(c), 1, 2, xc_key1(4, 0), false, 0x80000000, 21, 0x7000,
			     RW);
		xc_tlb_fill(c, xc_begin(c), xc_key1(4, 0) | XC_K1_S2ONLY, false, 0x80003000, 12,
			    0x40003000, 0x80003000, xc_tlb_meta(15, RW, RW, -1, 3, 0, 12));
		/* The same IPA in another VMID stays whatever happens. */
		xc_ipa_fill(c, xc_begin(c), 5, 0x80003000, 12, 0x50003000, RW, RW, 3);

		xlate_inv_ipa(c, 4, 0x80003000, 0x1000, XLATE_INV_LEAF, -1);
		assert_false(xc_ipa_lookup(c, 4, 0x80003000, &ih));
		assert_false(xc_tlb_lookup(c, xc_key1(4, 0) | XC_K1_S2ONLY, false, 0x80003000,
					   &th));
		assert_true(xc_walk_lookup(c, 1, 2, xc_key1(4, 0), false, 0x80000000, 21, &t,
					   &prot));
		assert_true(xc_ipa_lookup(c, 5, 0x80003000, &ih));
		assert_int_equal(xc_tlb_lookup(c, xc_key1(4, 9), false, 0x5000, &th),
				 !conservative);
		xlate_inv_ipa(c, 4, 0x80003000, 0x1000, 0, -1);
		assert_false(xc_walk_lookup(c, 1, 2, xc_key1(4, 0), false, 0x80000000, 21, &t,
					    &prot));
		/* The stage-1 invalidation that architecturally follows. */
		xlate_inv_range(c, 4, XLATE_ANY_ASID, 0, 1ULL << 48, 0, -1);
		assert_false(xc_tlb_lookup(c, xc_key1(4, 9), false, 0x5000, &th));
		assert_true(xc_ipa_lookup(c, 5, 0x80003000, &ih));
		xlate_cache_free(c);
	}
}

/*
 * A fill whose walk began before a range invalidation that could have
 * removed its entry is dropped; invalidations of other contexts leave it
 * alone; a flush in between leaves it dead.
 */
static void test_fill_after_invalidation_dropped(void **state)
{
	struct xlate_cache *c = mk_cache(4096, 4, XLATE_REPL_LRU, 1);
	struct xc_ipa_hit ih;
	uint64_t s0;

	/* Any ASID of VMID 1, somewhere else: both the IOTLB and the IPA fill are dropped. */
	s0 = xc_begin(c);
	xlate_inv_range(c, 1, XLATE_ANY_ASID, 0x123000, 0x1000, 0, -1);
	xc_tlb_fill(c, s0, xc_key1(1, 1), false, 0x1000, 12, 0xa000, 0xa000,
		    xc_tlb_meta(RW, RW, RW, 3, 3, 12, 12));
	xc_ipa_fill(c, s0, 1, 0x1000, 12, 0xa000, RW, RW, 3);
	assert_int_equal(tlb_get(c, 1, 1, 0x1000), ~0ULL);
	assert_false(xc_ipa_lookup(c, 1, 0x1000, &ih));
	/* ASID 1 of VMID 1: the IOTLB fill of (1, 1) is dropped, the stage-2 one is not. */
	s0 = xc_begin(c);
	xlate_inv_range(c, 1, 1, 0x123000, 0x1000, 0, -1);
	xc_tlb_fill(c, s0, xc_key1(1, 1), false, 0x1000, 12, 0xa000, 0xa000,
		    xc_tlb_meta(RW, RW, RW, 3, 3, 12, 12));
	xc_ipa_fill(c, s0, 1, 0x1000, 12, 0xa000, RW, RW, 3);
	assert_int_equal(tlb_get(c, 1, 1, 0x1000), ~0ULL);
	assert_true(xc_ipa_lookup(c, 1, 0x1000, &ih));
	/* An IPA range of VMID 1 drops both. */
	s0 = xc_begin(c);
	xlate_inv_ipa(c, 1, 0x900000, 0x1000, 0, -1);
	xc_tlb_fill(c, s0, xc_key1(1, 1), false, 0x1000, 12, 0xa000, 0xa000,
		    xc_tlb_meta(RW, RW, RW, 3, 3, 12, 12));
	xc_ipa_fill(c, s0, 1, 0x2000, 12, 0xb000, RW, RW, 3);
	assert_int_equal(tlb_get(c, 1, 1, 0x1000), ~0ULL);
	assert_false(xc_ipa_lookup(c, 1, 0x2000, &ih));
	/* Other ASIDs and other VMIDs: the fill goes in. */
	s0 = xc_begin(c);
	xlate_inv_range(c, 1, 2, 0x1000, 0x1000, 0, -1);
	xlate_inv_range(c, 2, 1, 0x1000, 0x1000, 0, -1);
	xlate_inv_ipa(c, 2, 0x1000, 0x1000, 0, -1);
	xc_tlb_fill(c, s0, xc_key1(1, 1), false, 0x1000, 12, 0xa000, 0xa000,
		    xc_tlb_meta(RW, RW, RW, 3, 3, 12, 12));
	assert_int_equal(tlb_get(c, 1, 1, 0x1000), 0xa000);

	/* A flush in between: the entry carries the old sequence and is dead. */
	s0 = xc_begin(c);
	xlate_inv_asid(c, 1, 1);
	xc_tlb_fill(c, s0, xc_key1(1, 1), false, 0x2000, 12, 0xb000, 0xb000,
		    xc_tlb_meta(RW, RW, RW, 3, 3, 12, 12));
	assert_int_equal(tlb_get(c, 1, 1, 0x1000), ~0ULL);
	assert_int_equal(tlb_get(c, 1, 1, 0x2000), ~0ULL);
	/* A fill that began afterwards goes in. */
	tlb_put(c, 1, 1, 0x2000, 12, 0xb000, 3);
	assert_int_equal(tlb_get(c, 1, 1, 0x2000), 0xb000);
	xlate_cache_free(c);
}

/*
 * The sizes a cache may hold: lookups and range invalidations probe only
 * those, and xlate_inv_all forgets them.
 */
static void test_sizes_mask(void **state)
{
	struct xlate_cache *c = mk_cache(4096, 4, XLATE_REPL_LRU, 1);

	assert_int_equal(c->iotlb.sizes, 0);
	tlb_put(c, 0, 0, 0x1000, 12, 0xa000, 3);
	assert_int_equal(c->iotlb.sizes, BIT(12));
	tlb_put(c, 0, 0, 0x200000, 21, 0x400000, 2);
	assert_int_equal(c->iotlb.sizes, BIT(12) | BIT(21));
	/* A 2M entry answers for its whole block; the 4K one for its page. */
	assert_int_equal(tlb_get(c, 0, 0, 0x3fffff), 0x5fffff);
	assert_int_equal(tlb_get(c, 0, 0, 0x1abc), 0xaabc);
	xlate_inv_vmid(c, 0);
	assert_int_equal(c->iotlb.sizes, BIT(12) | BIT(21));
	xlate_inv_all(c);
	assert_int_equal(c->iotlb.sizes, 0);
	assert_int_equal(tlb_get(c, 0, 0, 0x1abc), ~0ULL);
	tlb_put(c, 0, 0, 0x1000, 12, 0xa000, 3);
	assert_int_equal(c->iotlb.sizes, BIT(12));
	xlate_cache_free(c);
}

/* ---------------------------------------------------------------------- */
/* Counters                                                               */

static void test_counters(void **state)
{
	struct xlate_cache *c = mk_cache(8, 1, XLATE_REPL_LRU, 1); /* direct-mapped, 8 sets */
	struct xlate_cache_stats st;
	unsigned char buf[XLATE_CFGC_BYTES];

	/* Pages 8-11 evict pages 0-3 (same sets); 8 searched pages a call, no flush. */
	for (uint64_t i = 0; i < 12; i++)
		tlb_put(c, 0, 0, i << 12, 12, i << 20, 3);
	xlate_inv_range(c, 0, 0, 0, 8 << 12, 0, -1);
	xlate_inv_range(c, 0, 0, 8 << 12, 8 << 12, 0, -1);
	xlate_cfgc_lookup(c, 1, 2, buf);
	xlate_cfgc_insert(c, 1, 2, "abc", 4);
	xlate_cfgc_lookup(c, 1, 2, buf);
	xlate_cache_get_stats(c, &st);
	assert_int_equal(st.iotlb.fills, 12);
	assert_int_equal(st.iotlb.evictions, 4);
	assert_int_equal(st.iotlb.invalidated, 8);
	assert_int_equal(st.cfg.misses, 1);
	assert_int_equal(st.cfg.hits, 1);
	assert_int_equal(st.cfg.fills, 1);
	xlate_cache_reset_stats(c);
	xlate_cache_get_stats(c, &st);
	assert_int_equal(st.iotlb.fills + st.iotlb.evictions + st.iotlb.invalidated, 0);
	assert_int_equal(st.cfg.hits + st.cfg.misses + st.cfg.fills, 0);
	xlate_cache_free(c);
}

/* ---------------------------------------------------------------------- */
/* Configuration cache                                                    */

struct ste {
	uint64_t word[8];
};

static void test_cfgc(void **state)
{
	struct xlate_cache *c = mk_cache(64, 4, XLATE_REPL_LRU, 1);
	struct ste a = { { 1, 2, 3 } }, b = { { 4, 5, 6 } }, out;
	unsigned char big[XLATE_CFGC_BYTES + 1] = { 0 };

	assert_false(xlate_cfgc_lookup(c, 10, 0, &out));
	xlate_cfgc_insert(c, 10, 0, &a, sizeof(a));
	xlate_cfgc_insert(c, 10, 1, &b, sizeof(b));
	xlate_cfgc_insert(c, 11, 0, &b, sizeof(b));
	memset(&out, 0, sizeof(out));
	assert_true(xlate_cfgc_lookup(c, 10, 0, &out));
	assert_memory_equal(&out, &a, sizeof(a));
	assert_true(xlate_cfgc_lookup(c, 10, 1, &out));
	assert_memory_equal(&out, &b, sizeof(b));

	/* One substream. */
	xlate_cfgc_inv(c, 10, 1);
	assert_false(xlate_cfgc_lookup(c, 10, 1, &out));
	assert_true(xlate_cfgc_lookup(c, 10, 0, &out));
	/* Every substream of a stream. */
	xlate_cfgc_insert(c, 10, 1, &b, sizeof(b));
	xlate_cfgc_inv(c, 10, UINT32_MAX);
	assert_false(xlate_cfgc_lookup(c, 10, 0, &out));
	assert_false(xlate_cfgc_lookup(c, 10, 1, &out));
	assert_true(xlate_cfgc_lookup(c, 11, 0, &out));
	/* All; and xlate_inv_all too. */
	xlate_cfgc_inv_all(c);
	assert_false(xlate_cfgc_lookup(c, 11, 0, &out));
	xlate_cfgc_insert(c, 11, 0, &b, sizeof(b));
	assert_true(xlate_cfgc_lookup(c, 11, 0, &out));
	xlate_inv_all(c);
	assert_false(xlate_cfgc_lookup(c, 11, 0, &out));

	/*
	 * A structure fetched after a miss and stored after an invalidation of
	 * it is dropped: the model read it before the guest's invalidation.
	 */
	assert_false(xlate_cfgc_lookup(c, 12, 3, &out));
	xlate_cfgc_inv(c, 12, 3);
	xlate_cfgc_insert(c, 12, 3, &a, sizeof(a));
	assert_false(xlate_cfgc_lookup(c, 12, 3, &out));
	xlate_cfgc_insert(c, 12, 3, &a, sizeof(a));
	assert_true(xlate_cfgc_lookup(c, 12, 3, &out));
	/* Too big: not stored. */
	xlate_cfgc_insert(c, 13, 0, big, sizeof(big));
	assert_false(xlate_cfgc_lookup(c, 13, 0, &out));
	/* Flushing translations does not touch configurations, and the reverse. */
	xlate_inv_vmid(c, 0);
	assert_true(xlate_cfgc_lookup(c, 12, 3, &out));
	xlate_cache_free(c);

	/* A cache without a configuration cache: never found. */
	{
		struct xlate_cache_params p;

		xlate_cache_params_default(&p);
		p.cfg.entries = 0;
		assert_int_equal(xlate_cache_new(&p, &c), 0);
		xlate_cfgc_insert(c, 1, 1, &a, sizeof(a));
		assert_false(xlate_cfgc_lookup(c, 1, 1, &out));
		xlate_cfgc_inv(c, 1, 1);
		xlate_cache_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_lru_by_hand),
		cmocka_unit_test(test_lru_promote),
		cmocka_unit_test(test_random_seeded),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_model_conservative),
		cmocka_unit_test(test_leaf_and_ttl_hints),
		cmocka_unit_test(test_range_becomes_flush),
		cmocka_unit_test(test_ipa_rules),
		cmocka_unit_test(test_fill_after_invalidation_dropped),
		cmocka_unit_test(test_sizes_mask),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_cfgc),
	};

	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
