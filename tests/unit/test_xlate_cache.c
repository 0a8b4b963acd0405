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
#include "xlate_env.h"

#include "xlate/cache_int.h"

#define RWX (PT_PROT_R | PT_PROT_W | PT_PROT_X)

static struct xlate_cache *new_cache(void)
{
	struct xlate_cache_params p;
	struct xlate_cache *c;

	xlate_cache_params_default(&p);
	assert_int_equal(xlate_cache_new(&p, &c), 0);
	return c;
}

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
 * gives the L3 table (IPA 0x8000_3000), the IPA cache its PA, 1 stage-1
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
	e.xc.cache = new_cache();
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

	/* The neighbouring page: stage-1 walk cache, IPA cache, 1 S1 read, 1 S2 read. */
	assert_int_equal(env_run(&e, 0x2010, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.pa, e.data_pa + 0x1010);
	assert_int_equal(e.res.reads, 2);
	assert_false(e.res.iotlb_hit);
	assert_int_equal(e.rec.nhits, 3);
	expect_hit(&e.rec, 0, XLATE_CACHE_WALK_S1, 1, 3, 3, 0x2010, l3ipa);
	expect_hit(&e.rec, 1, XLATE_CACHE_IPA, 2, 3, 3, l3ipa + 2 * 8,
		   e.gram_pa + 0x3000 + 2 * 8);
	expect_hit(&e.rec, 2, XLATE_CACHE_WALK_S2, 2, 3, 4, e.data_ipa + 0x1010,
		   e.rec.hit[2].out);
	assert_int_equal(e.rec.r[0].stage, 1);
	assert_int_equal(e.rec.r[0].addr, e.gram_pa + 0x3000 + 2 * 8);
	assert_int_equal(e.rec.r[1].stage, 2);
	assert_int_equal(e.rec.r[1].level, 3);
	assert_int_equal(e.rec.r[1].addr, s2l3 + 8);

	xlate_cache_get_stats(e.xc.cache, &st);
	assert_int_equal(st.iotlb.hits, 1);
	assert_int_equal(st.iotlb.misses, 2);
	assert_int_equal(st.iotlb.fills, 2);
	assert_int_equal(st.iotlb.evictions, 0);
	/* IPA cache: 5 misses then 2 (table page hit, data page miss) on the third walk. */
	assert_int_equal(st.ipa.hits, 1);
	assert_int_equal(st.ipa.misses, 6);
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
 * A neighbour then costs 1 read: the stage-1 leaf.
 */
static void test_hand_counts_2m(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct env e;

	env_init(&e, &s1c, &s2c);
	e.xc.cache = new_cache();
	assert_int_equal(pt_map(&e.s1, 0x1000, e.data_ipa, 0x2000, PT_PROT_RW), 0);
	assert_int_equal(env_run(&e, 0x1000, PT_PROT_W), PT_OK);
	assert_int_equal(e.res.reads, 8);
	assert_int_equal(e.res.s2_size, 0x200000);
	assert_int_equal(env_run(&e, 0x2000, PT_PROT_W), PT_OK);
	assert_int_equal(e.res.reads, 1);
	assert_int_equal(e.res.pa, e.data_pa + 0x1000);
	assert_int_equal(e.rec.nhits, 3);
	assert_int_equal(e.rec.hit[2].cache, XLATE_CACHE_IPA);
	assert_int_equal(e.rec.hit[2].level, 2);
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
	e.xc.cache = new_cache();
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
	e.xc.cache = new_cache();
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_counts_4k),
		cmocka_unit_test(test_hand_counts_2m),
		cmocka_unit_test(test_stream_2m),
		cmocka_unit_test(test_stream_4k),
	};

	return cmocka_run_group_tests_name("xlate_cache", tests, NULL, NULL);
}
