// SPDX-License-Identifier: MIT
/*
 * lib/xlate with caches: read counts worked out by hand, sequential
 * streams, permissions and faults on hits, hardware access / dirty state,
 * and the record of which cache answered.
 *
 * The nested set-up (xlate_env.h): stage 2 maps guest RAM (IPA 0x8000_0000,
 * 4 MiB unless said otherwise) with 4K pages (NO_BLOCKS) or 2M blocks;
 * stage 1 lives in the lower half of guest RAM, one table per page, bump
 * allocated from IPA 0x8000_0000: root, then the L1, L2, L3 tables of the
 * first mapping at +0x1000, +0x2000, +0x3000. Data pages are in the upper
 * half (DATA = GRAM_IPA + 2 MiB), a different 2 MiB region from the
 * tables but in the same 1 GiB one.
 */
#include <stdlib.h>

#include "xlate_env.h"

#include "util/epoch.h"
#include "xlate/cache_int.h"

#define RWX (PT_PROT_R | PT_PROT_W | PT_PROT_X)

static void expect_hit(const struct xlate_record *rec, unsigned int i, enum xlate_cache_id cache,
		       int stage, int level, int s1_step, uint64_t addr, uint64_t out)
{
	const struct xlate_hit *h = &rec->hit[i];

	assert_true(i < rec->nhits);
	if (h->cache != cache || h->stage != stage || h->level != level ||
	    h->s1_step != s1_step || h->addr != addr || h->out != out)
		print_error("hit %u: got %s stage %d level %d step %d addr 0x%llx out 0x%llx\n", i,
			    xlate_cache_name((enum xlate_cache_id)h->cache), h->stage, h->level,
			    h->s1_step, (unsigned long long)h->addr, (unsigned long long)h->out);
	assert_int_equal(h->cache, cache);
	assert_int_equal(h->stage, stage);
	assert_int_equal(h->level, level);
	assert_int_equal(h->s1_step, s1_step);
	assert_int_equal(h->addr, addr);
	assert_int_equal(h->out, out);
}

/* ---------------------------------------------------------------------- */
/* Read counts by hand                                                    */

/*
 * 4-level stage 1 over 4-level stage 2 with 4K stage-2 pages.
 *
 * First translation of IOVA 0x1000 (-> DATA), caches cold, 13 reads:
 *   step 0, root descriptor at IPA 0x8000_0000 + 0: stage-2 walk L0..L3
 *     (4 reads; fills the stage-2 walk cache at depths 0-2 and the IPA
 *     cache), then the stage-1 read: 5;
 *   steps 1-3, tables at +0x1000/+0x2000/+0x3000: IPA cache misses (other
 *     pages), the stage-2 walk cache at depth 2 (same 2 MiB) gives the L3
 *     table: 1 stage-2 read + 1 stage-1 read each: 6;
 *   final IPA DATA: another 2 MiB region, so depth 2 misses and depth 1
 *     (same 1 GiB) gives the L2 table: 2 stage-2 reads.
 * Second translation of the same page: the IOTLB, 0 reads.
 * The neighbouring page 0x2000 (-> DATA + 0x1000): the stage-1 walk cache
 * gives the L3 table (IPA 0x8000_3000) and, combined, its PA (filled when
 * the first walk fetched from it), so no IPA-cache look-up: 1 stage-1
 * read; the output IPA: depth-2 stage-2 walk-cache hit, 1 read: 2 reads.
 */
static void test_hand_counts_4k(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct xlate_cache_stats st;
	struct env e;
	uint64_t l3ipa, s2l3 = 0;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	e.xc.tag = (struct xlate_tag){ .vmid = 3, .asid = 7 };
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa, 0x2000, PT_PROT_RW), 0);
	l3ipa = GRAM_IPA + 0x3000;
	assert_int_equal(*env_desc_at(&e.s1, 0x1000, 3, NULL) & 0xfffffffff000ULL, e.data_ipa);
	env_desc_at(&e.s2, e.data_ipa, 3, &s2l3);

	memset(&e.rec, 0xa5, sizeof(e.rec));
	assert_int_equal(env_run(&e, 0x1234, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.pa, e.data_pa + 0x234);
	assert_int_equal(e.res.reads, 13);
	assert_int_equal(e.rec.n, 13);
	assert_false(e.res.iotlb_hit);
	/* Hits: the stage-2 walk cache for steps 1, 2, 3 (depth 2: L3 table) and 4 (L2 table). */
	assert_int_equal(e.rec.nhits, 4);
	for (int d = 1; d <= 3; d++)
		assert_int_equal(e.rec.hit[d - 1].cache, XLATE_CACHE_WALK_S2);
	expect_hit(&e.rec, 1, XLATE_CACHE_WALK_S2, 2, 3, 2, GRAM_IPA + 0x2000 + 0 * 8,
		   e.rec.hit[1].out);
	assert_int_equal(e.rec.hit[3].level, 2);
	assert_int_equal(e.rec.hit[3].s1_step, 4);
	assert_int_equal(e.rec.hit[3].addr, e.data_ipa + 0x234);
	/* Reads: 4 S2 + S1, then (S2 L3 + S1) x 3, then S2 L2 + L3. */
	{
		static const int stage[13] = { 2, 2, 2, 2, 1, 2, 1, 2, 1, 2, 1, 2, 2 };
		static const int level[13] = { 0, 1, 2, 3, 0, 3, 1, 3, 2, 3, 3, 2, 3 };

		for (int i = 0; i < 13; i++) {
			assert_int_equal(e.rec.r[i].stage, stage[i]);
			assert_int_equal(e.rec.r[i].level, level[i]);
		}
		assert_int_equal(e.rec.r[12].addr, s2l3);
	}

	/* The same page again (another offset): the IOTLB, no read. */
	assert_int_equal(env_run(&e, 0x1ff8, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	assert_int_equal(e.res.reads, 0);
	assert_int_equal(e.rec.n, 0);
	assert_int_equal(e.rec.nhits, 1);
	expect_hit(&e.rec, 0, XLATE_CACHE_IOTLB, 0, -1, -1, 0x1ff8, e.data_pa + 0xff8);
	assert_int_equal(e.res.pa, e.data_pa + 0xff8);
	assert_int_equal(e.res.ipa, e.data_ipa + 0xff8);
	assert_int_equal(e.res.size, 0x1000);
	assert_int_equal(e.res.s1_level, 3);
	assert_int_equal(e.res.s2_level, 3);
	assert_int_equal(e.res.s1_size, 0x1000);
	assert_int_equal(e.res.s2_size, 0x1000);
	assert_int_equal(e.res.s1_prot, PT_PROT_RW);
	assert_int_equal(e.res.s2_prot, PT_PROT_RW | PT_PROT_U); /* pt_map: XN */
	assert_int_equal(e.res.prot, PT_PROT_RW);

	/* The neighbouring page: the combined stage-1 walk entry, 1 S1 read, 1 S2 read. */
	assert_int_equal(env_run(&e, 0x2010, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.pa, e.data_pa + 0x1010);
	assert_int_equal(e.res.reads, 2);
	assert_false(e.res.iotlb_hit);
	assert_int_equal(e.rec.nhits, 2);
	expect_hit(&e.rec, 0, XLATE_CACHE_WALK_S1, 1, 3, 3, 0x2010, l3ipa);
	assert_true(e.rec.hit[0].combined);
	assert_int_equal(e.rec.hit[0].out_pa, e.gram_pa + 0x3000);
	expect_hit(&e.rec, 1, XLATE_CACHE_WALK_S2, 2, 3, 4, e.data_ipa + 0x1010,
		   e.rec.hit[1].out);
	assert_int_equal(e.rec.r[0].stage, 1);
	assert_int_equal(e.rec.r[0].addr, e.gram_pa + 0x3000 + 2 * 8);
	assert_int_equal(e.rec.r[0].ipa, l3ipa + 2 * 8);
	assert_int_equal(e.rec.r[1].stage, 2);
	assert_int_equal(e.rec.r[1].level, 3);
	assert_int_equal(e.rec.r[1].addr, s2l3 + 8);

	xlate_cache_get_stats(e.xc.cache, &st);
	assert_int_equal(st.iotlb.hits, 1);
	assert_int_equal(st.iotlb.misses, 2);
	assert_int_equal(st.iotlb.fills, 2);
	assert_int_equal(st.iotlb.evictions, 0);
	/* IPA cache: 5 misses, then the data page's miss on the third walk (no table look-up). */
	assert_int_equal(st.ipa.hits, 0);
	assert_int_equal(st.ipa.misses, 6);
	/*
	 * Filled with the four table pages only: an output IPA's 4K stage-2
	 * leaf is no larger than the 4K stage-1 leaf, so the IOTLB entry holds
	 * all of it.
	 */
	assert_int_equal(st.ipa.fills, 4);
	/* Stage-1 walk cache: depth 2 hit once (third walk). */
	assert_int_equal(st.walk[0][2].hits, 1);
	assert_int_equal(st.walk[0][2].fills, 1);
	assert_int_equal(st.walk[0][1].fills, 1);
	assert_int_equal(st.walk[0][0].fills, 1);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * The same with 2M stage-2 blocks (guest RAM is two 2 MiB blocks): the first
 * walk reads 3 + 1, then 1 per step (IPA cache: one block holds every
 * table), then 1 for the output (depth-1 walk cache, L2 block): 8 reads.
 * A neighbour then costs 1 read: the stage-1 leaf, at the PA the combined
 * stage-1 walk entry holds; its output IPA hits the IPA cache (the block).
 */
static void test_hand_counts_2m(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa, 0x2000, PT_PROT_RW), 0);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_W), PT_OK);
	assert_int_equal(e.res.reads, 8);
	assert_int_equal(e.res.s2_size, 0x200000);
	assert_int_equal(env_run(&e, 0x2000, PT_PROT_W), PT_OK);
	assert_int_equal(e.res.reads, 1);
	assert_int_equal(e.res.pa, e.data_pa + 0x1000);
	assert_int_equal(e.rec.nhits, 2);
	assert_int_equal(e.rec.hit[0].cache, XLATE_CACHE_WALK_S1);
	assert_int_equal(e.rec.hit[1].cache, XLATE_CACHE_IPA);
	assert_int_equal(e.rec.hit[1].level, 2);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * A sequential stream over 4K pages, nested 4 over 4, with 2M stage-2
 * blocks: 4096 distinct pages (16 MiB of IOVA over 8 MiB of data, each
 * data page used twice, in two separate passes of 2048 pages). By hand:
 * page 0 costs 8 reads (as above); every other page in a 2 MiB IOVA region
 * costs 1 (the stage-1 leaf); the first page of each later region costs 2
 * (its L2 descriptor, then the new L3 table's leaf; the table pages in the
 * first, cached, 2M block), plus 1 in the first pass for the output's new
 * 2M block (depth-1 stage-2 walk cache, the L2 block descriptor). 8 regions:
 * 8 + 3 * 3 + 4 * 2 + 8 * 511 = 4113 reads.
 */
static void test_stream_2m(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	const uint64_t n = 4096, half = n / 2;
	struct xlate_cache_stats st;
	uint64_t total = 0;
	struct env e;

	env_init_sized(&e, &s1c, &s2c, 0x2000000, 0x1000000);
	e.xc.cache = env_new_cache();
	assert_int_equal(pt_map(&e.s1, 0x40000000, e.data_ipa, half * 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&e.s1, 0x40000000 + half * 0x1000, e.data_ipa, half * 0x1000,
				PT_PROT_RW), 0);
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(env_run(&e, 0x40000000 + i * 0x1000 + 0x80, PT_PROT_R), PT_OK);
		assert_int_equal(e.res.pa, e.data_pa + (i % half) * 0x1000 + 0x80);
		total += e.res.reads;
	}
	print_message("# stream, 2M stage 2: %llu reads for %llu pages\n",
		      (unsigned long long)total, (unsigned long long)n);
	assert_int_equal(total, 8 + 3 * 3 + 4 * 2 + 8 * 511);
	assert_true(total <= 2 * n);
	xlate_cache_get_stats(e.xc.cache, &st);
	assert_int_equal(st.iotlb.misses, n);
	assert_int_equal(st.iotlb.fills, n);
	assert_int_equal(st.walk[0][2].hits, n - 8);
	/*
	 * A second pass: the IOTLB (4096 entries, 4 ways) holds it all, since
	 * consecutive pages go to consecutive sets: no eviction, no read.
	 */
	total = 0;
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(env_run(&e, 0x40000000 + i * 0x1000, PT_PROT_R), PT_OK);
		total += e.res.reads;
	}
	xlate_cache_get_stats(e.xc.cache, &st);
	print_message("# second pass: %llu reads, %llu IOTLB hits, %llu evictions\n",
		      (unsigned long long)total, (unsigned long long)st.iotlb.hits,
		      (unsigned long long)st.iotlb.evictions);
	assert_int_equal(total, 0);
	assert_int_equal(st.iotlb.hits, n);
	assert_int_equal(st.iotlb.evictions, 0);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * The same stream with 4K stage-2 pages and distinct data pages: after the
 * first page (13 reads), each page in a 2 MiB IOVA region costs exactly 2
 * (the stage-1 leaf; the output IPA's stage-2 leaf, the walk cache holding
 * its L3 table), the floor without an IOTLB hit.
 */
static void test_stream_4k(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	const uint64_t n = 512;
	uint64_t total = 0;
	struct env e;

	env_init_sized(&e, &s1c, &s2c, 0x2000000, 0x1000000);
	e.xc.cache = env_new_cache();
	assert_int_equal(pt_map(&e.s1, 0, e.data_ipa, n * 0x1000, PT_PROT_RW), 0);
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(env_run(&e, i * 0x1000, PT_PROT_R), PT_OK);
		assert_int_equal(e.res.reads, i ? 2 : 13);
		total += e.res.reads;
	}
	assert_int_equal(total, 13 + 2 * (n - 1));
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}


/* ---------------------------------------------------------------------- */
/* Permissions and faults on hits                                         */

#define S1_AF	(1ULL << 10)
#define S1_AP2	(1ULL << 7) /* read-only */
#define S2_AP_W (1ULL << 7) /* S2AP write */
#define D_DBM	(1ULL << 51)
#define X86_A	(1ULL << 5)
#define X86_D	(1ULL << 6)

/* The same translation without caches: result or fault must be identical. */
static void expect_like_uncached(struct env *e, uint64_t iova, unsigned int access,
				 enum pt_fault_reason got)
{
	struct xlate_cfg xc = e->xc;
	struct xlate_result res;
	struct xlate_fault f;
	struct xlate_record rec;
	enum pt_fault_reason want;

	xc.cache = NULL;
	memset(&res, 0, sizeof(res));
	memset(&f, 0, sizeof(f));
	want = xlate(&xc, iova, access, &res, &f, &rec);
	assert_int_equal(got, want);
	if (want == PT_OK) {
		assert_true(env_res_equal(&e->res, &res));
		return;
	}
	assert_int_equal(e->f.stage, f.stage);
	assert_int_equal(e->f.cls, f.cls);
	assert_int_equal(e->f.level, f.level);
	assert_int_equal(e->f.reason, f.reason);
	assert_int_equal(e->f.input_addr, f.input_addr);
	assert_int_equal(e->f.ipa, f.ipa);
	assert_int_equal(e->f.desc_addr, f.desc_addr);
	/* The record is the uncached walk's that settled the fault. */
	assert_int_equal(e->rec.n, rec.n);
	assert_int_equal(e->rec.nhits, 0);
}

/*
 * A page first cached by a read, then written: stage-1 read-only (fault
 * stage 1, class IN, level 3, at the stage-1 leaf's PA) and stage-2
 * read-only (stage 2, IN, level 3, at the IPA), reported exactly as the
 * uncached walk reports them; reads keep hitting the IOTLB meanwhile.
 */
static void test_perm_faults_on_hits(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct xlate_cache_stats st;
	uint64_t s1addr = 0;
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa + 0x1000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&e.s1, 0x2000, e.data_ipa + 0x2000, 0x1000, PT_PROT_R), 0);
	assert_int_equal(pt_unmap(&e.s2, e.data_ipa + 0x1000, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&e.s2, e.data_ipa + 0x1000, e.data_pa + 0x1000, 0x1000, PT_PROT_R),
			 0);
	env_desc_at(&e.s1, 0x2000, 3, &s1addr);

	/* Stage 1 read-only. */
	assert_int_equal(env_run(&e, 0x2010, PT_PROT_R), PT_OK);
	assert_int_equal(env_run(&e, 0x2020, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	assert_int_equal(e.res.prot, PT_PROT_R);
	assert_int_equal(env_run(&e, 0x2030, PT_PROT_W), PT_FAULT_PERMISSION);
	assert_int_equal(e.f.stage, 1);
	assert_int_equal(e.f.cls, XLATE_CLASS_IN);
	assert_int_equal(e.f.level, 3);
	assert_int_equal(e.f.ipa, 0);
	assert_int_equal(e.f.desc_addr, s1addr - GRAM_IPA + e.gram_pa);
	expect_like_uncached(&e, 0x2030, PT_PROT_W, PT_FAULT_PERMISSION);
	assert_int_equal(env_run(&e, 0x2040, PT_PROT_R | PT_PROT_W), PT_FAULT_PERMISSION);
	assert_int_equal(env_run(&e, 0x2050, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);

	/* Stage 2 read-only under stage-1 RW. */
	assert_int_equal(env_run(&e, 0x1010, PT_PROT_R), PT_OK);
	assert_int_equal(env_run(&e, 0x1010, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	assert_int_equal(e.res.s1_prot, PT_PROT_RW);
	assert_int_equal(e.res.s2_prot, PT_PROT_R | PT_PROT_U);
	assert_int_equal(env_run(&e, 0x1234, PT_PROT_W), PT_FAULT_PERMISSION);
	assert_int_equal(e.f.stage, 2);
	assert_int_equal(e.f.cls, XLATE_CLASS_IN);
	assert_int_equal(e.f.level, 3);
	assert_int_equal(e.f.ipa, e.data_ipa + 0x1234);
	expect_like_uncached(&e, 0x1234, PT_PROT_W, PT_FAULT_PERMISSION);

	/* Execute: both stages map XN (pt_map without X); stage 1 refuses first. */
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_X), PT_FAULT_PERMISSION);
	assert_int_equal(e.f.stage, 1);
	expect_like_uncached(&e, 0x1000, PT_PROT_X, PT_FAULT_PERMISSION);

	/*
	 * Unprivileged: a page without EL0 access, cached by a privileged
	 * read, is refused to an unprivileged one (its entry is per U).
	 */
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R | PT_PROT_U), PT_FAULT_PERMISSION);
	assert_int_equal(e.f.stage, 1);
	expect_like_uncached(&e, 0x1000, PT_PROT_R | PT_PROT_U, PT_FAULT_PERMISSION);

	/* Faults are never cached: each costs a walk, the good reads still hit. */
	xlate_cache_get_stats(e.xc.cache, &st);
	assert_int_equal(st.iotlb.hits, 3);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * Hardware access and dirty state through the caches (VMSA HTTU with DBM
 * at both stages): a read sets the access flags and is then answered by
 * the IOTLB; the first write is not (the entry from a read may not stand
 * for a write that must mark pages dirty): it walks, marks both leaves
 * dirty, and refills; later writes hit. Every answer is the uncached one.
 */
static void test_hw_ad_vmsa(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_HW_AD);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_HW_AD | PT_CFG_NO_BLOCKS);
	uint64_t *s1leaf, *s2data, s1v, s2dv;
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa + 0x1000, 0x1000, PT_PROT_RW), 0);
	s1leaf = env_desc_at(&e.s1, 0x1000, 3, NULL);
	s2data = env_desc_at(&e.s2, e.data_ipa + 0x1000, 3, NULL);
	s1v = (*s1leaf & ~S1_AF) | S1_AP2 | D_DBM;
	s2dv = (*s2data & ~S1_AF & ~S2_AP_W) | D_DBM;
	*s1leaf = s1v;
	*s2data = s2dv;

	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_int_equal(*s1leaf, s1v | S1_AF);
	assert_int_equal(*s2data, s2dv | S1_AF);
	assert_int_equal(e.res.prot & PT_PROT_W, 0);
	expect_like_uncached(&e, 0x1000, PT_PROT_R, PT_OK);
	assert_int_equal(env_run(&e, 0x1008, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);

	assert_int_equal(env_run(&e, 0x1010, PT_PROT_W), PT_OK);
	assert_false(e.res.iotlb_hit);
	assert_int_equal(*s1leaf, (s1v | S1_AF) & ~S1_AP2);
	assert_int_equal(*s2data, s2dv | S1_AF | S2_AP_W);
	assert_int_equal(e.res.prot & PT_PROT_W, PT_PROT_W);
	expect_like_uncached(&e, 0x1010, PT_PROT_W, PT_OK);
	assert_int_equal(env_run(&e, 0x1018, PT_PROT_W), PT_OK);
	assert_true(e.res.iotlb_hit);
	assert_int_equal(env_run(&e, 0x1018, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	expect_like_uncached(&e, 0x1018, PT_PROT_R, PT_OK);

	/* The guest cleans the page (dirty state off) and invalidates: writes walk again. */
	*s1leaf |= S1_AP2;
	xlate_inv_range(e.xc.cache, 0, 0, 0x1000, 0x1000, XLATE_INV_LEAF, 3);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_W), PT_OK);
	assert_false(e.res.iotlb_hit);
	assert_int_equal(*s1leaf & S1_AP2, 0);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * x86 first stage over VT-d second stage, both with A/D: the same rules.
 * x86 reports W for a read of a writable page whose D bit is clear, and so
 * does the hit; but a write after that read must set D in both leaves.
 */
static void test_hw_ad_x86_vtd(void **state)
{
	struct pt_cfg s1c = env_mk(PT_X86, 12, 48, 52, 0, PT_CFG_HW_AD);
	struct pt_cfg s2c = env_mk(PT_VTD_SS, 12, 48, 52, 0, PT_CFG_HW_AD | PT_CFG_NO_BLOCKS);
	uint64_t *s1leaf, *s2data;
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	e.xc.tag = (struct xlate_tag){ .vmid = 12, .asid = 0x345 };
	assert_int_equal(pt_map(&e.s1, 0x12345000, e.data_ipa + 0x3000, 0x1000, PT_PROT_RW), 0);
	s1leaf = env_desc_at(&e.s1, 0x12345000, 1, NULL);
	s2data = env_desc_at(&e.s2, e.data_ipa + 0x3000, 1, NULL);
	*s1leaf &= ~(X86_A | X86_D);
	*s2data &= ~(X86_A | X86_D); /* VT-d SS: A bit 8, D bit 9 */
	*s2data &= ~(3ULL << 8);

	assert_int_equal(env_run(&e, 0x12345678, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.reads, 13); /* as in test_hand_counts_4k */
	assert_true(*s1leaf & X86_A);
	assert_false(*s1leaf & X86_D);
	assert_int_equal(e.res.prot & PT_PROT_W, PT_PROT_W);
	expect_like_uncached(&e, 0x12345678, PT_PROT_R, PT_OK);
	assert_int_equal(env_run(&e, 0x12345678, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	assert_int_equal(e.res.prot & PT_PROT_W, PT_PROT_W);

	assert_int_equal(env_run(&e, 0x12345678, PT_PROT_W), PT_OK);
	assert_false(e.res.iotlb_hit);
	assert_true(*s1leaf & X86_D);
	assert_true(*s2data & (1ULL << 9));
	assert_int_equal(env_run(&e, 0x12345000, PT_PROT_W), PT_OK);
	assert_true(e.res.iotlb_hit);
	expect_like_uncached(&e, 0x12345000, PT_PROT_W, PT_OK);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * A fault found through cached state is settled by an uncached walk: the
 * guest unmaps a whole 2 MiB of stage 1, freeing its L3 table (zeroed),
 * and invalidates nothing. The stage-1 walk cache still points at that
 * table, whose entry reads as invalid at level 3; the tables say level 2
 * (the L2 descriptor is gone). The fault reported is the tables' one.
 */
static void test_fault_settled_uncached(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	assert_int_equal(pt_map(&e.s1, 0x200000, e.data_ipa, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&e.s1, 0x400000, e.data_ipa, 0x1000, PT_PROT_RW), 0); /* keeps L2 */
	assert_int_equal(env_run(&e, 0x200000, PT_PROT_R), PT_OK);
	assert_int_equal(env_run(&e, 0x201000, PT_PROT_R), PT_OK);
	assert_int_equal(e.rec.hit[0].cache, XLATE_CACHE_WALK_S1);
	/*
	 * The walk cache names the L3 table until the invalidation below: the
	 * table is retired as of then (util/epoch.h), so that the stale walks
	 * here read it as the unmap left it (0x202000 cleared first, the rest
	 * unlinked whole and not zeroed: the table is counted).
	 */
	epoch_hold();
	assert_int_equal(pt_unmap(&e.s1, 0x202000, 0x1000, NULL), 0);
	assert_int_equal(pt_unmap(&e.s1, 0x200000, 0x200000, NULL), 0);

	/* Stale, and allowed to be: the IOTLB still has the page (no invalidation yet). */
	assert_int_equal(env_run(&e, 0x200000, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	/* A page only the walk cache knows: the fault of the tables, level 2. */
	assert_int_equal(env_run(&e, 0x202000, PT_PROT_R), PT_FAULT_TRANSLATION);
	assert_int_equal(e.f.stage, 1);
	assert_int_equal(e.f.level, 2);
	expect_like_uncached(&e, 0x202000, PT_PROT_R, PT_FAULT_TRANSLATION);
	/* After the invalidation nothing of it is left. */
	xlate_inv_range(e.xc.cache, 0, 0, 0x200000, 0x200000, 0, -1);
	epoch_release();
	assert_int_equal(env_run(&e, 0x200000, PT_PROT_R), PT_FAULT_TRANSLATION);
	assert_int_equal(e.f.level, 2);
	assert_int_equal(e.rec.nhits, 0);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/* xlate_s2 (a model fetching its CD through stage 2) uses the IPA cache. */
static void test_xlate_s2_cached(void **state)
{
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct xlate_record rec;
	struct xlate_fault f;
	uint64_t pa = 0;
	struct env e;

	env_init(&e, NULL, &s2c);
	e.xc.cache = env_new_cache();
	assert_int_equal(xlate_s2(&e.xc, GRAM_IPA + 0x3040, PT_PROT_R, XLATE_CLASS_CD, 0x3040, &pa,
				  &f, &rec),
			 PT_OK);
	assert_int_equal(pa, e.gram_pa + 0x3040);
	assert_int_equal(rec.n, 4);
	assert_int_equal(xlate_s2(&e.xc, GRAM_IPA + 0x3080, PT_PROT_R, XLATE_CLASS_CD, 0x3080, &pa,
				  &f, &rec),
			 PT_OK);
	assert_int_equal(pa, e.gram_pa + 0x3080);
	assert_int_equal(rec.n, 0);
	assert_int_equal(rec.nhits, 1);
	expect_hit(&rec, 0, XLATE_CACHE_IPA, 2, 3, -1, GRAM_IPA + 0x3080, pa);
	/* A neighbour: the walk cache gives its L3 table, one read. */
	assert_int_equal(xlate_s2(&e.xc, GRAM_IPA + 0x4000, PT_PROT_R, XLATE_CLASS_CD, 0, &pa, &f,
				  &rec),
			 PT_OK);
	assert_int_equal(rec.n, 1);
	/* Unmapped at stage 2 and invalidated: the fault, class as given. */
	assert_int_equal(pt_unmap(&e.s2, GRAM_IPA + 0x3000, 0x1000, NULL), 0);
	xlate_inv_ipa(e.xc.cache, 0, GRAM_IPA + 0x3000, 0x1000, XLATE_INV_LEAF, 3);
	assert_int_equal(xlate_s2(&e.xc, GRAM_IPA + 0x3080, PT_PROT_R, XLATE_CLASS_CD, 0x77, &pa,
				  &f, &rec),
			 PT_FAULT_TRANSLATION);
	assert_int_equal(f.stage, 2);
	assert_int_equal(f.cls, XLATE_CLASS_CD);
	assert_int_equal(f.level, 3);
	assert_int_equal(f.input_addr, 0x77);
	/* The stage-2-only IOTLB entry goes with the IPA invalidation too. */
	assert_int_equal(env_run(&e, GRAM_IPA + 0x5000, PT_PROT_R), PT_OK);
	assert_int_equal(env_run(&e, GRAM_IPA + 0x5000, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	assert_int_equal(e.res.s1_level, -1);
	assert_int_equal(e.res.s1_size, 0);
	assert_int_equal(e.res.s1_prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	expect_like_uncached(&e, GRAM_IPA + 0x5000, PT_PROT_R, PT_OK);
	assert_int_equal(pt_unmap(&e.s2, GRAM_IPA + 0x5000, 0x1000, NULL), 0);
	xlate_inv_ipa(e.xc.cache, 0, GRAM_IPA + 0x5000, 0x1000, XLATE_INV_LEAF, -1);
	assert_int_equal(env_run(&e, GRAM_IPA + 0x5000, PT_PROT_R), PT_FAULT_TRANSLATION);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * Contexts: two address spaces (ASIDs 1 and 2 of VMID 5) with their own
 * stage-1 tables over the same stage 2 share one cache, each seeing its
 * own mappings; a stage-1-only context (VMID 0) alongside.
 */
static void test_contexts(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct pt_table other;
	struct xlate_cfg xc2;
	struct xlate_result r2;
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	e.xc.tag = (struct xlate_tag){ .vmid = 5, .asid = 1 };
	assert_int_equal(pt_table_init(&other, &s1c, &e.g.mem), 0);
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa + 0x1000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&other, 0x1000, e.data_ipa + 0x7000, 0x1000, PT_PROT_RW), 0);
	xc2 = e.xc;
	xc2.s1.root = other.root;
	xc2.tag.asid = 2;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
		assert_int_equal(e.res.pa, e.data_pa + 0x1000);
		assert_int_equal(xlate(&xc2, 0x1000, PT_PROT_R, &r2, NULL, NULL), PT_OK);
		assert_int_equal(r2.pa, e.data_pa + 0x7000);
		assert_int_equal(r2.iotlb_hit, i == 1);
	}
	/* Flushing ASID 2 leaves ASID 1 alone; flushing the VMID takes both. */
	xlate_inv_asid(e.xc.cache, 5, 2);
	assert_int_equal(xlate(&xc2, 0x1000, PT_PROT_R, &r2, NULL, NULL), PT_OK);
	assert_false(r2.iotlb_hit);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	xlate_inv_vmid(e.xc.cache, 5);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_false(e.res.iotlb_hit);
	assert_int_equal(xlate(&xc2, 0x1000, PT_PROT_R, &r2, NULL, NULL), PT_OK);
	assert_false(r2.iotlb_hit);
	/* A caller that wants no result still gets the IOTLB. */
	assert_int_equal(xlate(&xc2, 0x1000, PT_PROT_R, NULL, NULL, NULL), PT_OK);
	pt_table_destroy(&other);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);

	/* Stage 1 alone. */
	env_init(&e, &s1c, NULL);
	e.xc.cache = env_new_cache();
	assert_int_equal(pt_map(&e.s1, 0x5000, e.data_pa, 0x1000, PT_PROT_R | PT_PROT_U), 0);
	assert_int_equal(env_run(&e, 0x5abc, PT_PROT_R | PT_PROT_U), PT_OK);
	assert_int_equal(e.res.reads, 4);
	assert_int_equal(env_run(&e, 0x5abc, PT_PROT_R | PT_PROT_U), PT_OK);
	assert_true(e.res.iotlb_hit);
	assert_int_equal(e.res.pa, e.data_pa + 0xabc);
	assert_int_equal(e.res.ipa, e.data_pa + 0xabc);
	assert_int_equal(e.res.s2_level, -1);
	assert_int_equal(e.res.s2_size, 0);
	expect_like_uncached(&e, 0x5abc, PT_PROT_R | PT_PROT_U, PT_OK);
	/*
	 * Privileged access: its own entries (VMSA's UXNTable makes stage-1
	 * permissions depend on the privilege), so a walk, then hits too.
	 */
	assert_int_equal(env_run(&e, 0x5abc, PT_PROT_R), PT_OK);
	assert_false(e.res.iotlb_hit);
	assert_int_equal(e.res.reads, 4);
	assert_int_equal(env_run(&e, 0x5abc, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	xlate_inv_range(e.xc.cache, 0, 0, 0x5000, 0x1000, XLATE_INV_LEAF, -1);
	assert_int_equal(env_run(&e, 0x5abc, PT_PROT_R), PT_OK);
	assert_false(e.res.iotlb_hit);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * Combined stage-1 walk entries and the IPA-invalidation rule. The guest's
 * L3 table (IPA 0x8000_3000) moves: the hypervisor copies it to another
 * page, changes the copy's entry for IOVA 0x2000 (DATA + 0x1000 ->
 * DATA + 0x5000), and remaps the table's IPA at stage 2. By the
 * architecture the IPA invalidation alone does not reach combined
 * entries: a walk resumed from the combined stage-1 entry still reads the
 * old table, until a stage-1 invalidation of the context (SMMU: S2_IPA,
 * then NH_ASID / NH_ALL / S12_VMALL). With the conservative option the
 * IPA invalidation is enough.
 */
static void combined_move_table(bool conservative)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	const uint64_t l3ipa = GRAM_IPA + 0x3000;
	struct xlate_cache_params p;
	uint64_t old_pa, new_pa, *copy, desc;
	struct env e;

	env_init(&e, &s1c, &s2c);
	xlate_cache_params_default(&p);
	p.ipa_inval_conservative = conservative;
	assert_int_equal(xlate_cache_new(&p, &e.xc.cache), 0);
	e.xc.tag = (struct xlate_tag){ .vmid = 3, .asid = 7 };
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa, 0x2000, PT_PROT_RW), 0);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	old_pa = e.gram_pa + 0x3000;
	new_pa = e.data_pa + 0x100000; /* a guest page nobody uses */

	copy = (uint64_t *)(e.host.buf + (new_pa - e.host.base));
	memcpy(copy, e.host.buf + (old_pa - e.host.base), 0x1000);
	desc = copy[2];
	assert_int_equal(desc & 0xfffffffff000ULL, e.data_ipa + 0x1000);
	copy[2] = (desc & ~0xfffffffff000ULL) | (e.data_ipa + 0x5000);
	assert_int_equal(pt_unmap(&e.s2, l3ipa, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&e.s2, l3ipa, new_pa, 0x1000, PT_PROT_RW), 0);
	xlate_inv_ipa(e.xc.cache, 3, l3ipa, 0x1000, 0, -1);

	assert_int_equal(env_run(&e, 0x2000, PT_PROT_R), PT_OK);
	if (conservative) {
		/* The combined entries went with the IPA: the walk reads the new table. */
		assert_int_equal(e.res.ipa, e.data_ipa + 0x5000);
		assert_int_equal(e.res.pa, e.data_pa + 0x5000);
	} else {
		/* The old table, through the combined stage-1 entry. */
		assert_true(e.rec.nhits >= 1);
		assert_int_equal(e.rec.hit[0].cache, XLATE_CACHE_WALK_S1);
		assert_true(e.rec.hit[0].combined);
		assert_int_equal(e.rec.hit[0].out_pa, old_pa);
		assert_int_equal(e.rec.r[0].addr, old_pa + 2 * 8);
		assert_int_equal(e.res.ipa, e.data_ipa + 0x1000);
		/* The stage-1 invalidation that must follow: now the new table. */
		xlate_inv_asid(e.xc.cache, 3, 7);
		assert_int_equal(env_run(&e, 0x2000, PT_PROT_R), PT_OK);
		assert_false(e.res.iotlb_hit);
		assert_int_equal(e.res.ipa, e.data_ipa + 0x5000);
		assert_int_equal(e.res.pa, e.data_pa + 0x5000);
	}
	/* Either way the walk now goes through the new table's PA, combined again. */
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_W), PT_OK);
	assert_int_equal(env_run(&e, 0x2000, PT_PROT_W), PT_OK);
	assert_int_equal(e.res.ipa, e.data_ipa + 0x5000);
	expect_like_uncached(&e, 0x2000, PT_PROT_R, PT_OK);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

static void test_combined_architectural(void **state)
{
	combined_move_table(false);
}

static void test_combined_conservative(void **state)
{
	combined_move_table(true);
}

/*
 * A stage-1 table that stage 2 does not map with one leaf (64K tables over
 * 4K stage-2 pages): its walk-cache entry holds the IPA alone, and a walk
 * resumed there translates the descriptor's IPA through stage 2.
 */
static void test_combined_straddle(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 16, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	assert_int_equal(pt_map(&e.s1, 0x10000, e.data_ipa, 0x20000, PT_PROT_RW), 0);
	assert_int_equal(env_run(&e, 0x10000, PT_PROT_R), PT_OK);
	assert_int_equal(env_run(&e, 0x20010, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.pa, e.data_pa + 0x10010);
	assert_true(e.rec.nhits >= 2);
	assert_int_equal(e.rec.hit[0].cache, XLATE_CACHE_WALK_S1);
	assert_false(e.rec.hit[0].combined);
	/* The leaf table's descriptor IPA goes through stage 2 (a cache of it, here). */
	assert_int_equal(e.rec.hit[1].stage, 2);
	assert_int_equal(e.rec.hit[1].addr, e.rec.r[0].ipa);
	expect_like_uncached(&e, 0x20010, PT_PROT_R, PT_OK);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/* Some caches off: only the ones present are used. */
static void test_partial_caches(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct xlate_cache_params p;
	struct env e;

	/* IOTLB off: a repeat is one read per stage (walk caches + IPA cache). */
	xlate_cache_params_default(&p);
	p.iotlb.entries = 0;
	env_init(&e, &s1c, &s2c);
	assert_int_equal(xlate_cache_new(&p, &e.xc.cache), 0);
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.reads, 13);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_false(e.res.iotlb_hit);
	assert_int_equal(e.res.reads, 1); /* the stage-1 leaf; the output IPA from the IPA cache */

	/* Both stages off: the identity, nothing cached. */
	{
		struct xlate_cfg off = e.xc;
		struct xlate_cache_stats st;

		off.s1.cfg = off.s2.cfg = NULL;
		assert_int_equal(xlate(&off, 0x1234, PT_PROT_W, &e.res, NULL, &e.rec), PT_OK);
		assert_int_equal(xlate(&off, 0x1234, PT_PROT_W, &e.res, NULL, &e.rec), PT_OK);
		assert_int_equal(e.res.pa, 0x1234);
		assert_false(e.res.iotlb_hit);
		xlate_cache_get_stats(e.xc.cache, &st);
		assert_int_equal(st.iotlb.fills, 0);
	}
	xlate_cache_free(e.xc.cache);

	/* Only the IOTLB: the first walk is the full 24 reads. */
	xlate_cache_params_default(&p);
	p.walk[0].entries = p.walk[1].entries = p.ipa.entries = 0;
	assert_int_equal(xlate_cache_new(&p, &e.xc.cache), 0);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.reads, 24);
	assert_int_equal(e.rec.nhits, 0);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/*
 * The window of an invalidation: between its start (the sequence moves)
 * and its end, a walk may meet entries it has yet to remove (here a stale
 * IPA-cache entry: stage 2 moved a 2M block, the IPA invalidation is under
 * way). Such a walk may answer stale (the invalidation has not returned) but
 * must fill nothing, or the stale answer would outlive the invalidation.
 * Walks of other contexts fill as usual.
 */
static void test_no_fill_during_invalidation(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	const uint64_t moved = HBASE + 0x400000; /* a 2M host block nothing uses */
	struct xlate_cache_stats a, b;
	struct xlate_cache *c;
	struct xlate_cfg other;
	uint64_t s;
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = c = env_new_cache();
	e.xc.tag = (struct xlate_tag){ .vmid = 4, .asid = 1 };
	other = e.xc;
	other.tag.vmid = 5;
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa, 0x2000, PT_PROT_RW), 0);
	/* IPA cache: data_ipa's 2M block (larger than the 4K stage-1 leaf, so kept). */
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	/* Stage 2 moves that block, and the host begins invalidating it. */
	assert_int_equal(pt_unmap(&e.s2, e.data_ipa, 0x200000, NULL), 0);
	assert_int_equal(pt_map(&e.s2, e.data_ipa, moved, 0x200000, PT_PROT_RW), 0);
	xlate_inv_asid(c, 4, 1); /* (the IOTLB forgets the page: the walk below must walk) */
	s = xc_inv_begin(c, &c->vm[4].sc);

	xlate_cache_get_stats(c, &a);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.pa, e.data_pa); /* stale, from the IPA cache: allowed */
	assert_false(e.res.iotlb_hit);
	xlate_cache_get_stats(c, &b);
	assert_int_equal(b.iotlb.fills, a.iotlb.fills);
	assert_int_equal(b.ipa.fills, a.ipa.fills);
	/* Another VMID is not held up. */
	assert_int_equal(xlate(&other, 0x2000, PT_PROT_R, &e.res, NULL, NULL), PT_OK);
	xlate_cache_get_stats(c, &a);
	assert_int_equal(a.iotlb.fills, b.iotlb.fills + 1);

	/* It ends; the real invalidations follow: fresh answers, filled again. */
	xc_inv_end(&c->vm[4].sc, s);
	xlate_inv_ipa(c, 4, e.data_ipa, 0x200000, XLATE_INV_LEAF, 2);
	xlate_inv_vmid(c, 4);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.pa, moved);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_true(e.res.iotlb_hit);
	assert_int_equal(e.res.pa, moved);
	xlate_cache_free(c);
	env_destroy(&e);
}

/*
 * xlate_batch: every answer exactly as xlate() gives it, hits and misses
 * and faults mixed, counted once each; without caches too.
 */
static void test_batch(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	uint64_t iova[8] = { 0x1000, 0x2000, 0x1008, 0x9000, 0x3000, 0x2ff0, 0x1000, 0x3000 };
	struct xlate_result res[8], one;
	struct xlate_fault fault[8], f1;
	enum pt_fault_reason ret[8];
	struct xlate_cache_stats st;
	struct xlate_cfg plain;
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = env_new_cache();
	plain = e.xc;
	plain.cache = NULL;
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa, 0x2000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&e.s1, 0x3000, e.data_ipa + 0x5000, 0x1000, PT_PROT_R), 0);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_W), PT_OK); /* the IOTLB holds 0x1000 */
	xlate_cache_reset_stats(e.xc.cache);

	/* Writes: 0x1000 hits twice, 0x9000 is unmapped, 0x3000 read-only (twice). */
	memset(fault, 0, sizeof(fault));
	assert_int_equal(xlate_batch(&e.xc, iova, 8, PT_PROT_W, res, fault, ret), 5);
	for (int i = 0; i < 8; i++) {
		memset(&f1, 0, sizeof(f1));
		assert_int_equal(ret[i], xlate(&plain, iova[i], PT_PROT_W, &one, &f1, NULL));
		if (ret[i] == PT_OK) {
			assert_true(env_res_equal(&res[i], &one));
		} else {
			assert_int_equal(fault[i].stage, f1.stage);
			assert_int_equal(fault[i].level, f1.level);
			assert_int_equal(fault[i].reason, f1.reason);
			assert_int_equal(fault[i].input_addr, iova[i]);
		}
	}
	assert_true(res[0].iotlb_hit && res[2].iotlb_hit && res[6].iotlb_hit);
	assert_false(res[1].iotlb_hit);
	assert_true(res[5].iotlb_hit); /* 0x2000's page: the walk for res[1] filled it */
	assert_int_equal(ret[3], PT_FAULT_TRANSLATION);
	assert_int_equal(ret[4], PT_FAULT_PERMISSION);
	xlate_cache_get_stats(e.xc.cache, &st);
	assert_int_equal(st.iotlb.hits, 4);
	assert_int_equal(st.iotlb.misses, 4);

	/* Without caches: the same answers. */
	assert_int_equal(xlate_batch(&plain, iova, 8, PT_PROT_R, res, NULL, ret), 7);
	assert_int_equal(ret[3], PT_FAULT_TRANSLATION);
	assert_int_equal(res[7].pa, e.data_pa + 0x5000);
	assert_false(res[0].iotlb_hit);
	xlate_cache_free(e.xc.cache);
	env_destroy(&e);
}

/* ---------------------------------------------------------------------- */
/* The short miss path against the general one                           */

/*
 * xlate() without a record takes the hit path of the 4K IOTLB and, on a
 * miss, the short walk (walk_short(), which counts several counters
 * through one look-up); with a record everything goes the general way.
 * Two caches of the same geometry (a 256-entry IOTLB: most of a random
 * stream over 2048 pages misses and evicts) fed the same stream must end
 * with the same results, one by one, and the same counters, every cache
 * and every walk-cache level: stage 1 alone, nested, and stage 2 alone
 * (@s1c NULL: the input is an IPA of guest RAM) in VMSA and in VT-d
 * second-stage format (the short walk's generic step).
 */
static void short_like_general_cfg(const struct pt_cfg *s1c, const struct pt_cfg *s2c)
{
	const uint64_t n = 2048, seed = 0x5eed0f4ULL, base = s1c ? 0 : GRAM_IPA;
	struct xlate_cache_params p;
	struct xlate_cache_stats a, b;
	struct xlate_cfg fast, gen;
	struct xlate_record *rec = malloc(sizeof(*rec));
	struct xlate_result rf, rg;
	uint64_t x = seed;
	struct env e;

	assert_non_null(rec);
	env_init_sized(&e, s1c, s2c, 0x4000000, 0x2000000);
	if (s1c)
		assert_int_equal(pt_map(&e.s1, 0, s2c ? e.data_ipa : e.data_pa, n * 0x1000,
					PT_PROT_RW),
				 0);
	xlate_cache_params_default(&p);
	p.iotlb = (struct xlate_cache_geom){ 256, 4 };
	fast = gen = e.xc;
	assert_int_equal(xlate_cache_new(&p, &fast.cache), 0);
	assert_int_equal(xlate_cache_new(&p, &gen.cache), 0);
	for (unsigned int i = 0; i < 8192; i++) {
		uint64_t iova;
		enum pt_fault_reason r1, r2;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		iova = base + (x % n) * 0x1000 + (x >> 40) % 0x1000;
		memset(&rf, 0, sizeof(rf));
		memset(&rg, 0, sizeof(rg));
		r1 = xlate(&fast, iova, PT_PROT_R, &rf, NULL, NULL);
		r2 = xlate(&gen, iova, PT_PROT_R, &rg, NULL, rec);
		if (r1 != r2 || !env_res_equal(&rf, &rg) || rf.reads != rg.reads ||
		    rf.iotlb_hit != rg.iotlb_hit)
			print_error("seed 0x%llx, access %u, iova 0x%llx: %d/%d reads %u/%u\n",
				    (unsigned long long)seed, i, (unsigned long long)iova, r1, r2,
				    rf.reads, rg.reads);
		assert_int_equal(r1, PT_OK);
		assert_int_equal(r2, PT_OK);
		assert_true(env_res_equal(&rf, &rg));
		assert_int_equal(rf.reads, rg.reads);
		assert_int_equal(rf.iotlb_hit, rg.iotlb_hit);
	}
	xlate_cache_get_stats(fast.cache, &a);
	xlate_cache_get_stats(gen.cache, &b);
	assert_true(a.iotlb.misses > 8192 / 2 && a.iotlb.evictions > 0);
	assert_memory_equal(&a, &b, sizeof(a));
	xlate_cache_free(fast.cache);
	xlate_cache_free(gen.cache);
	env_destroy(&e);
	free(rec);
}

static void test_short_like_general_s1(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);

	(void)state;
	short_like_general_cfg(&s1c, NULL);
}

static void test_short_like_general_nested(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);

	(void)state;
	short_like_general_cfg(&s1c, &s2c);
}

static void test_short_like_general_s2(void **state)
{
	struct pt_cfg vmsa = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct pt_cfg ss = env_mk(PT_VTD_SS, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);

	(void)state;
	short_like_general_cfg(NULL, &vmsa);
	short_like_general_cfg(NULL, &ss);
}

/*
 * The short path's own decode of a 4K page against the generic step: the
 * stage-1 leaf (vmsa_s1_page4k(); @s2_leaf false) or the stage-2 leaf
 * (vmsa_s2_page4k(); @s2_leaf true): of the output IPA when @nested, else
 * of a stage-2-only context's input (walk_short_s2()). Random leaf
 * descriptors (stage 1: AP[2:1], PXN, UXN; stage 2: S2AP, XN[1:0]; both:
 * AF, DBM, the contiguous hint, invalid and table-typed entries, an output
 * address beyond a 40-bit OAS) and random accesses (R, W, X, privileged or
 * not), under several walker flags of that stage (AFFD, HW_AD, HW_AD
 * without dirty management, DBM maps). Each step may write a new
 * descriptor, removes the page's IOTLB entry (and, for a stage-2 leaf, its
 * IPA-cache entry) in both caches, and translates once without a record
 * (the short walk) and once with one (the general walk), from the same
 * descriptor: the same answer, the same result, the same fault record
 * field for field, the same descriptor afterwards (A/D updates); the same
 * counters at the end. With @every false a page is invalidated only when
 * its descriptor changed (hits, refusals and evictions in between).
 */
static void short_decode_like_general(bool nested, bool s2_leaf, unsigned int flags, uint64_t seed,
				      bool every)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, s2_leaf ? 48 : 40, 0,
				   PT_CFG_NO_BLOCKS | (s2_leaf ? 0 : flags));
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, s2_leaf ? 40 : 48, 2,
				   PT_CFG_NO_BLOCKS | (s2_leaf ? flags : 0));
	static const unsigned int acc[] = { PT_PROT_R,		   PT_PROT_W,
					    PT_PROT_X,		   PT_PROT_R | PT_PROT_W,
					    PT_PROT_R | PT_PROT_U, PT_PROT_W | PT_PROT_U,
					    PT_PROT_X | PT_PROT_U };
	/*
	 * Bits flipped at random: AP[1] / S2AP[0], AP[2] / S2AP[1], AF, DBM,
	 * Contiguous, PXN / XN[0], UXN / XN[1].
	 */
	static const uint64_t flip[] = { BIT(6),  BIT(7),  BIT(10), BIT(51),
					 BIT(52), BIT(53), BIT(54) };
	const unsigned int n = 256;
	struct xlate_cache_params p;
	struct xlate_cache_stats a, b;
	struct xlate_cfg fast, gen;
	struct xlate_record *rec = malloc(sizeof(*rec));
	uint64_t *desc[256], orig[256], x = seed;
	unsigned int ok = 0, faults = 0, leaf_faults = 0;
	struct env e;

	const bool s2_only = !nested && s2_leaf;
	uint64_t base; /* the input of page 0 */

	assert_non_null(rec);
	env_init(&e, s2_only ? NULL : &s1c, nested || s2_only ? &s2c : NULL);
	base = s2_only ? e.data_ipa : 0;
	if (!s2_only)
		assert_int_equal(pt_map(&e.s1, 0, nested ? e.data_ipa : e.data_pa, n * 0x1000ULL,
					PT_PROT_RW | PT_PROT_X | PT_PROT_U),
				 0);
	for (unsigned int i = 0; i < n; i++) {
		desc[i] = s2_leaf ? env_desc_at(&e.s2, e.data_ipa + i * 0x1000ULL, 3, NULL)
				  : env_desc_at(&e.s1, i * 0x1000ULL, 3, NULL);
		orig[i] = *desc[i];
	}
	xlate_cache_params_default(&p);
	/* Without an invalidation every step, a smaller IOTLB so that sets evict. */
	p.iotlb = (struct xlate_cache_geom){ every ? 256 : 64, 4 };
	fast = gen = e.xc;
	assert_int_equal(xlate_cache_new(&p, &fast.cache), 0);
	assert_int_equal(xlate_cache_new(&p, &gen.cache), 0);
	for (unsigned int i = 0; i < 6000; i++) {
		struct xlate_result rf, rg;
		struct xlate_fault ff, fg;
		enum pt_fault_reason r1, r2;
		unsigned int pg, access;
		uint64_t iova, v, d1;
		bool changed;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pg = x % n;
		iova = base + pg * 0x1000ULL + (x >> 20) % 0x1000;
		access = acc[(x >> 32) % 7];
		v = *desc[pg];
		changed = (x >> 36) % 3 == 0;
		if (changed) {
			/* A new descriptor for this page, its old translation invalidated. */
			v = orig[pg];
			for (unsigned int k = 0; k < 7; k++)
				if ((x >> (40 + k)) & 1)
					v ^= flip[k];
			if ((x >> 48) % 8 == 0)
				v = (v & ~3ULL) | ((x >> 51) & 3); /* invalid or a block type */
			if ((x >> 53) % 16 == 0)
				v |= BIT(44); /* beyond the 40-bit OAS */
		}
		/*
		 * The page's IOTLB entry goes (its walk-cache entries stay), so
		 * that every step decodes the descriptor: the no-record
		 * translation through the short walk, the other through the
		 * general one.
		 */
		for (int k = 0; k < 2 && (every || changed); k++) {
			struct xlate_cache *c = k ? gen.cache : fast.cache;

			xlate_inv_range(c, e.xc.tag.vmid, e.xc.tag.asid, pg * 0x1000ULL, 0x1000,
					XLATE_INV_LEAF, 3);
			if (s2_leaf)
				xlate_inv_ipa(c, e.xc.tag.vmid, e.data_ipa + pg * 0x1000ULL, 0x1000,
					      XLATE_INV_LEAF, 3);
		}
		*desc[pg] = v;
		memset(&rf, 0, sizeof(rf));
		memset(&ff, 0, sizeof(ff));
		r1 = xlate(&fast, iova, access, &rf, &ff, NULL);
		d1 = *desc[pg];
		*desc[pg] = v; /* the general walk sees what the short one saw */
		memset(&rg, 0, sizeof(rg));
		memset(&fg, 0, sizeof(fg));
		r2 = xlate(&gen, iova, access, &rg, &fg, rec);
		if (r1 != r2 || (r1 == PT_OK && !env_res_equal(&rf, &rg)) ||
		    memcmp(&ff, &fg, sizeof(ff)) || d1 != *desc[pg] || rf.reads != rg.reads ||
		    rf.iotlb_hit != rg.iotlb_hit)
			print_error("seed 0x%llx flags 0x%x nested %d s2 leaf %d step %u: iova 0x%llx "
				    "access %u desc 0x%llx: %d/%d, desc after 0x%llx/0x%llx, reads "
				    "%u/%u, IOTLB hit %d/%d\n",
				    (unsigned long long)seed, flags, nested, s2_leaf, i,
				    (unsigned long long)iova, access, (unsigned long long)v, r1,
				    r2, (unsigned long long)d1, (unsigned long long)*desc[pg],
				    rf.reads, rg.reads, rf.iotlb_hit, rg.iotlb_hit);
		assert_int_equal(r1, r2);
		assert_memory_equal(&ff, &fg, sizeof(ff));
		assert_true(d1 == *desc[pg]);
		if (r1 == PT_OK) {
			assert_true(env_res_equal(&rf, &rg));
			assert_int_equal(rf.reads, rg.reads);
			assert_int_equal(rf.iotlb_hit, rg.iotlb_hit);
			ok++;
		} else {
			faults++;
			leaf_faults += ff.stage == (s2_leaf ? 2 : 1);
		}
	}
	/*
	 * Both outcomes, many times each, most faults at the stage decoded
	 * (stage 2 also refuses execution of the stage-1 cases' data, mapped
	 * RW): the stream tests what it says.
	 */
	assert_true(ok > 1000 && faults > 1000 && leaf_faults > faults / 2 &&
		    (!s2_leaf || leaf_faults == faults));
	xlate_cache_get_stats(fast.cache, &a);
	xlate_cache_get_stats(gen.cache, &b);
	assert_true(!every || (a.iotlb.misses == 6000 && a.iotlb.fills > 1000));
	assert_true(every || (a.iotlb.hits > 200 && a.iotlb.evictions > 100));
	assert_true(!s2_leaf || !every || a.ipa.misses >= 6000);
	assert_memory_equal(&a, &b, sizeof(a));
	xlate_cache_free(fast.cache);
	xlate_cache_free(gen.cache);
	env_destroy(&e);
	free(rec);
}

static void test_short_decode_s1(void **state)
{
	(void)state;
	short_decode_like_general(false, false, 0, 0xdec0de01ULL, true);
	short_decode_like_general(false, false, PT_CFG_AFFD, 0xdec0de02ULL, true);
	short_decode_like_general(false, false, PT_CFG_HW_AD, 0xdec0de03ULL, true);
	short_decode_like_general(false, false, PT_CFG_HW_AD | PT_CFG_HW_NO_DIRTY, 0xdec0de04ULL, true);
	short_decode_like_general(false, false, PT_CFG_HW_AD | PT_CFG_DBM, 0xdec0de05ULL, true);
}

/*
 * The same stream with the page invalidated only when its descriptor
 * changed: entries now hit, are refused (an access the entry does not
 * grant) and are evicted, and the two paths must still agree on every
 * counter, so a refused hit must leave a set's replacement order as the
 * short path leaves it (untouched).
 */
static void test_short_decode_refused_hits(void **state)
{
	(void)state;
	short_decode_like_general(false, false, 0, 0xdec0de21ULL, false);
	short_decode_like_general(true, false, 0, 0xdec0de22ULL, false);
}

static void test_short_decode_nested(void **state)
{
	(void)state;
	short_decode_like_general(true, false, 0, 0xdec0de11ULL, true);
	short_decode_like_general(true, false, PT_CFG_AFFD, 0xdec0de12ULL, true);
	short_decode_like_general(true, false, PT_CFG_HW_AD, 0xdec0de13ULL, true);
	short_decode_like_general(true, false, PT_CFG_HW_AD | PT_CFG_DBM, 0xdec0de15ULL, true);
}

/* Stage 2 alone: the short walk of a stage-2-only context decodes its leaf. */
static void test_short_decode_s2_only(void **state)
{
	(void)state;
	short_decode_like_general(false, true, 0, 0x5d2dec11ULL, true);
	short_decode_like_general(false, true, PT_CFG_AFFD, 0x5d2dec12ULL, true);
	short_decode_like_general(false, true, PT_CFG_HW_AD, 0x5d2dec13ULL, true);
	short_decode_like_general(false, true, PT_CFG_HW_AD | PT_CFG_DBM, 0x5d2dec14ULL, true);
	short_decode_like_general(false, true, 0, 0x5d2dec15ULL, false);
}

static void test_short_decode_nested_s2(void **state)
{
	(void)state;
	short_decode_like_general(true, true, 0, 0x5d2dec01ULL, true);
	short_decode_like_general(true, true, PT_CFG_AFFD, 0x5d2dec02ULL, true);
	short_decode_like_general(true, true, PT_CFG_HW_AD, 0x5d2dec03ULL, true);
	short_decode_like_general(true, true, PT_CFG_HW_AD | PT_CFG_DBM, 0x5d2dec04ULL, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_counts_4k),
		cmocka_unit_test(test_hand_counts_2m),
		cmocka_unit_test(test_stream_2m),
		cmocka_unit_test(test_stream_4k),
		cmocka_unit_test(test_perm_faults_on_hits),
		cmocka_unit_test(test_hw_ad_vmsa),
		cmocka_unit_test(test_hw_ad_x86_vtd),
		cmocka_unit_test(test_fault_settled_uncached),
		cmocka_unit_test(test_xlate_s2_cached),
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_partial_caches),
		cmocka_unit_test(test_combined_architectural),
		cmocka_unit_test(test_combined_conservative),
		cmocka_unit_test(test_combined_straddle),
		cmocka_unit_test(test_no_fill_during_invalidation),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_short_like_general_s1),
		cmocka_unit_test(test_short_like_general_nested),
		cmocka_unit_test(test_short_like_general_s2),
		cmocka_unit_test(test_short_decode_s1),
		cmocka_unit_test(test_short_decode_nested),
		cmocka_unit_test(test_short_decode_refused_hits),
		cmocka_unit_test(test_short_decode_nested_s2),
		cmocka_unit_test(test_short_decode_s2_only),
	};

	return cmocka_run_group_tests_name("xlate_cache", tests, NULL, NULL);
}
