// SPDX-License-Identifier: MIT
/*
 * sPAPR TCE tables: geometry, big-endian entries, windows and faults.
 *
 * Expected values are worked out by hand from hw.md §4 (index bits, entry
 * addresses, and the eight bytes of each entry as they sit in memory, most
 * significant first), never read back from the code under test. Tables for
 * the fault tests are written byte by byte with put_be(), which does not
 * use the format's own byte swap.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pt/pt.h"

#include "pt_test.h"

#define WIN1 (1ULL << 59) /* bus start of window 1 on PHB3 */

static struct pt_cfg mk(unsigned int page_shift, unsigned int ias, unsigned int levels,
			unsigned int oas, uint64_t base)
{
	struct pt_cfg c = { .format = PT_TCE, .granule_shift = page_shift, .ias = ias,
			    .levels = levels, .oas = oas, .iova_base = base };

	return c;
}

static void check_geo(unsigned int g, unsigned int ias, unsigned int levels,
		      const uint8_t *shift, const uint8_t *bits)
{
	struct pt_cfg c = mk(g, ias, levels, 52, 0);

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.nlevels, levels);
	assert_int_equal(c.start_level, 0);
	assert_int_equal(c.level_step, 1);
	/* A leaf only at the last level. */
	assert_int_equal(c.leaf_ok, 1u << (levels - 1));
	for (unsigned int d = 0; d < levels; d++) {
		assert_int_equal(c.shift[d], shift[d]);
		assert_int_equal(c.bits[d], bits[d]);
		assert_int_equal(pt_level(&c, d), (int)d);
	}
}

/* ---------------------------------------------------------------------- */
/* Geometry                                                               */

static void test_geometry_levels(void **state)
{
	/*
	 * 2 GiB window 0 of 4K TCEs: n = 31 - 12 = 19 index bits.
	 *   1 level:  e = 19, the root is the whole table (4 MiB).
	 *   2 levels: e = ceil(19/2) = 10; root 19 - 10 = 9 bits at 22.
	 *   3 levels: e = 7; root 19 - 14 = 5 bits at 26, then 19, 12.
	 *   4 levels: e = 5; root 19 - 15 = 4 bits at 27, then 22, 17, 12.
	 *   5 levels: e = 4; root 19 - 16 = 3 bits at 28, then 24, 20, 16, 12.
	 */
	check_geo(12, 31, 1, (const uint8_t[]){ 12 }, (const uint8_t[]){ 19 });
	check_geo(12, 31, 2, (const uint8_t[]){ 22, 12 }, (const uint8_t[]){ 9, 10 });
	check_geo(12, 31, 3, (const uint8_t[]){ 26, 19, 12 }, (const uint8_t[]){ 5, 7, 7 });
	check_geo(12, 31, 4, (const uint8_t[]){ 27, 22, 17, 12 },
		  (const uint8_t[]){ 4, 5, 5, 5 });
	check_geo(12, 31, 5, (const uint8_t[]){ 28, 24, 20, 16, 12 },
		  (const uint8_t[]){ 3, 4, 4, 4, 4 });

	{
		struct pt_cfg c = mk(12, 31, 1, 52, 0);

		assert_int_equal(pt_cfg_init(&c), 0);
		assert_int_equal(pt_table_size(&c, 0), 4u << 20); /* 2^19 entries x 8 */
		assert_int_equal(pt_page_size(&c), 4096);
		c = mk(12, 31, 2, 52, 0);
		assert_int_equal(pt_cfg_init(&c), 0);
		assert_int_equal(pt_table_size(&c, 0), 4096);	 /* 2^9 x 8 */
		assert_int_equal(pt_table_size(&c, 1), 8192);	 /* 2^10 x 8 */
		assert_int_equal(pt_entry_size(&c, 0), 4u << 20); /* one L1 table: 4 MiB */
	}
}

static void test_geometry_pages_windows(void **state)
{
	struct pt_cfg c;

	/* 64K TCEs, 1 TiB window 1 at 1 << 59: n = 24, 2 levels of 12 at 28 and 16. */
	c = mk(16, 40, 2, 52, WIN1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.shift[0], 28);
	assert_int_equal(c.bits[0], 12);
	assert_int_equal(c.shift[1], 16);
	assert_int_equal(c.bits[1], 12);
	assert_int_equal(pt_page_size(&c), 0x10000);

	/* 16M TCEs, 2^48 window, one level of 24 bits: the largest single-level table. */
	check_geo(24, 48, 1, (const uint8_t[]){ 24 }, (const uint8_t[]){ 24 });
	/* ... one more bit needs a second level. */
	c = mk(24, 49, 1, 52, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	check_geo(24, 49, 2, (const uint8_t[]){ 37, 24 }, (const uint8_t[]){ 12, 13 });

	/* 2M TCEs, 2^50 window, 3 levels: n = 29, e = 10, root 9 bits at 41. */
	check_geo(21, 50, 3, (const uint8_t[]){ 41, 31, 21 }, (const uint8_t[]){ 9, 10, 10 });

	/* 16G TCEs (DDW), 2^59 window, 5 levels: n = 25, e = 5; 25 + 34 = 59 < 60. */
	check_geo(34, 59, 5, (const uint8_t[]){ 54, 49, 44, 39, 34 },
		  (const uint8_t[]){ 5, 5, 5, 5, 5 });

	/*
	 * More levels than the window needs (Linux accepts it): 256 MiB of 4K
	 * TCEs in 5 levels, n = 16, e = 4, nothing left for the root, which
	 * then resolves one bit above the window (always index 0).
	 */
	check_geo(12, 28, 5, (const uint8_t[]){ 28, 24, 20, 16, 12 },
		  (const uint8_t[]){ 1, 4, 4, 4, 4 });
	/* n = 5 in 4 levels: e = 2, root would be 5 - 6 < 0: still index 0 only. */
	check_geo(12, 17, 4, (const uint8_t[]){ 18, 16, 14, 12 }, (const uint8_t[]){ 1, 2, 2, 2 });

	/* Defaults: page shift 0 means 4K, oas 0 means 52 (TCE_RPN_BITS). */
	c = mk(0, 31, 1, 0, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.granule_shift, 12);
	assert_int_equal(c.oas, 52);
}

/* A configuration: mk()'s arguments, and what pt_cfg_init() must return. */
struct geo_case {
	unsigned int page_shift, ias, levels, oas;
	uint64_t base;
	int ret;
};

static const struct geo_case geo_cases[] = {
	/* Page sizes 4K .. 16G only. */
	{ 11, 31, 1, 52, 0, -EINVAL },
	{ 35, 50, 1, 52, 0, -EINVAL },
	/* 1 .. 5 levels. */
	{ 12, 31, 0, 52, 0, -EINVAL },
	{ 12, 31, 6, 52, 0, -EINVAL },
	/* The window must be larger than one page, and below bit 60. */
	{ 12, 12, 1, 52, 0, -EINVAL },
	{ 16, 13, 1, 52, 0, -EINVAL },
	{ 30, 60, 5, 64, 0, -EINVAL },
	/*
	 * Linux's bound e * levels + page_shift < 60: 2^59 of 4K pages in 2
	 * levels needs e = ceil(47/2) = 24 and 48 + 12 = 60: refused. 2^58
	 * gives e = 23, 46 + 12 = 58: fine.
	 */
	{ 12, 59, 2, 52, 0, -EINVAL },
	{ 12, 58, 2, 52, 0, 0 },
	/* The window start must be aligned to the window size. */
	{ 12, 31, 1, 52, 1ULL << 30, -EINVAL },
	{ 12, 31, 1, 52, 1ULL << 31, 0 },
	{ 34, 59, 5, 52, WIN1 + (1ULL << 58), -EINVAL },
	{ 34, 59, 5, 52, WIN1, 0 },
	/* Output size 32..64, and at least one page. */
	{ 12, 31, 1, 31, 0, -EINVAL },
	{ 12, 31, 1, 65, 0, -EINVAL },
	{ 34, 40, 1, 32, 0, -EINVAL },
	{ 12, 31, 1, 64, 0, 0 },
};

static void test_geometry_errors(void **state)
{
	for (size_t i = 0; i < sizeof(geo_cases) / sizeof(geo_cases[0]); i++) {
		const struct geo_case *g = &geo_cases[i];
		struct pt_cfg c = mk(g->page_shift, g->ias, g->levels, g->oas, g->base);
		int ret = pt_cfg_init(&c);

		if (ret != g->ret)
			print_error("case %zu: page %u, ias %u, %u levels, oas %u, base 0x%llx: %d\n",
				    i, g->page_shift, g->ias, g->levels, g->oas,
				    (unsigned long long)g->base, ret);
		assert_int_equal(ret, g->ret);
	}
}

/* ---------------------------------------------------------------------- */
/* Entries written by map, byte by byte                                   */

#define ABASE 0x10000000ULL

static const uint8_t *bytes_at(struct pt_arena *a, uint64_t pa)
{
	return a->buf + (pa - a->base);
}

static void test_map_bytes_4k(void **state)
{
	struct pt_cfg c = mk(12, 31, 2, 52, 0);
	struct pt_arena a;
	struct pt_table t;
	uint64_t pa;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, ABASE, 0x10000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	/* Root: 2^9 entries = 4 KiB, the arena's first unit. */
	assert_int_equal(t.root, ABASE);

	/*
	 * iova 0x12345000: index 0x12345 = root 0x12345 >> 10 = 0x48, leaf
	 * 0x12345 & 0x3ff = 0x345. The level-1 table (8 KiB, 8 KiB aligned)
	 * lands at ABASE + 0x2000. RW -> pa | READ | WRITE.
	 */
	assert_int_equal(pt_map(&t, 0x12345000, 0x7654321000ULL, 0x1000, PT_PROT_RW), 0);
	/* Root entry 0x48 at +0x240: 0x10002000 | 3, big-endian. */
	assert_memory_equal(bytes_at(&a, ABASE + 0x240),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x20, 0x03 }),
			    8);
	/* Leaf 0x345 at 0x10002000 + 0x1a28: 0x0000007654321003; byte 7 holds R/W. */
	assert_memory_equal(bytes_at(&a, ABASE + 0x3a28),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x76, 0x54, 0x32, 0x10, 0x03 }),
			    8);

	/* Read-only: READ alone, 0x01 in byte 7. */
	assert_int_equal(pt_map(&t, 0x12346000, 0x7654322000ULL, 0x1000, PT_PROT_R), 0);
	assert_memory_equal(bytes_at(&a, ABASE + 0x3a30),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x76, 0x54, 0x32, 0x20, 0x01 }),
			    8);
	/* Write-only is stored as READ | WRITE (PowerNV cannot do write-only DMA). */
	assert_int_equal(pt_map(&t, 0x12347000, 0x7654323000ULL, 0x1000, PT_PROT_W), 0);
	assert_memory_equal(bytes_at(&a, ABASE + 0x3a38),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x76, 0x54, 0x32, 0x30, 0x03 }),
			    8);
	/* X and U have no bit: ignored. */
	assert_int_equal(pt_map(&t, 0x12348000, 0x7654324000ULL, 0x1000,
				PT_PROT_R | PT_PROT_X | PT_PROT_U),
			 0);
	assert_memory_equal(bytes_at(&a, ABASE + 0x3a40),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x76, 0x54, 0x32, 0x40, 0x01 }),
			    8);
	/* Neither R nor W: nothing to map. */
	assert_int_equal(pt_map(&t, 0x12349000, 0x7654325000ULL, 0x1000, PT_PROT_X), -EINVAL);

	assert_int_equal(pt_iova_to_phys(&t, 0x12345abc, &pa), 0);
	assert_int_equal(pa, 0x7654321abcULL);
	assert_int_equal(pt_iova_to_phys(&t, 0x12347fff, &pa), 0);
	assert_int_equal(pa, 0x7654323fffULL);
	assert_int_equal(pt_iova_to_phys(&t, 0x12349000, &pa), -ENOENT);
	assert_int_equal(pt_iova_to_phys(&t, 0x80000000, &pa), -ENOENT); /* beyond 2 GiB */

	/* The walk sees the permissions: never X, always U. */
	{
		struct pt_leaf leaf;
		struct pt_fault f;

		assert_int_equal(pt_table_walk(&t, 0x12345010, PT_PROT_W, &leaf, &f), PT_OK);
		assert_int_equal(leaf.oa, 0x7654321010ULL);
		assert_int_equal(leaf.size, 0x1000);
		assert_int_equal(leaf.level, 1);
		assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_U);
		assert_int_equal(leaf.desc, 0x7654321003ULL);
		assert_int_equal(leaf.desc_addr, ABASE + 0x3a28);
		assert_int_equal(pt_table_walk(&t, 0x12346000, PT_PROT_W, &leaf, &f),
				 PT_FAULT_PERMISSION);
		assert_int_equal(f.level, 1);
		assert_int_equal(pt_table_walk(&t, 0x12345000, PT_PROT_R | PT_PROT_X, &leaf, &f),
				 PT_FAULT_PERMISSION);
	}
	assert_int_equal(t.nr_tables, 2);
	pt_table_destroy(&t);
	assert_int_equal(a.tables_live, 0);
	pt_arena_destroy(&a);
}

static void test_map_window1_64k(void **state)
{
	struct pt_cfg c = mk(16, 40, 2, 52, WIN1);
	struct pt_arena a;
	struct pt_table t;
	struct pt_leaf leaf;
	struct pt_fault f;
	uint64_t pa, unmapped;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, ABASE, 0x20000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	/* Root and level-1 tables of 2^12 entries: 32 KiB each, at ABASE and ABASE + 0x8000. */
	assert_int_equal(t.root, ABASE);

	/*
	 * Bus 1 << 59 | 0x1230000: window offset 0x1230000, index 0x123
	 * (>> 16): root 0x123 >> 12 = 0, leaf 0x123 at +0x918.
	 * TCE 0x4560000 | 3 = bytes 00 00 00 00 04 56 00 03.
	 */
	assert_int_equal(pt_map(&t, WIN1 + 0x1230000, 0x4560000, 0x10000, PT_PROT_RW), 0);
	assert_memory_equal(bytes_at(&a, ABASE),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x03 }),
			    8);
	assert_memory_equal(bytes_at(&a, ABASE + 0x8000 + 0x918),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x00, 0x04, 0x56, 0x00, 0x03 }),
			    8);
	assert_int_equal(pt_iova_to_phys(&t, WIN1 + 0x123abcd, &pa), 0);
	assert_int_equal(pa, 0x456abcd);
	assert_int_equal(pt_table_walk(&t, WIN1 + 0x123abcd, PT_PROT_R, &leaf, &f), PT_OK);
	assert_int_equal(leaf.oa, 0x456abcd);
	assert_int_equal(leaf.size, 0x10000);

	/* The same offset without the window's bus start is outside the window. */
	assert_int_equal(pt_map(&t, 0x1230000, 0x4560000, 0x10000, PT_PROT_RW), -ERANGE);
	assert_int_equal(pt_iova_to_phys(&t, 0x1230000, &pa), -ENOENT);
	assert_int_equal(pt_table_walk(&t, 0x1230000, PT_PROT_R, &leaf, &f), PT_FAULT_TRANSLATION);
	assert_int_equal(f.level, 0);
	/* ... and so is the first byte after it. */
	assert_int_equal(pt_map(&t, WIN1 + (1ULL << 40), 0x4560000, 0x10000, PT_PROT_RW), -ERANGE);
	assert_int_equal(pt_map(&t, WIN1 + (1ULL << 40) - 0x10000, 0x4560000, 0x20000, PT_PROT_RW),
			 -ERANGE);
	/* The last page is inside. */
	assert_int_equal(pt_map(&t, WIN1 + (1ULL << 40) - 0x10000, 0x4570000, 0x10000, PT_PROT_R),
			 0);
	assert_int_equal(pt_iova_to_phys(&t, WIN1 + (1ULL << 40) - 1, &pa), 0);
	assert_int_equal(pa, 0x457ffff);
	/* 4K-aligned is not 64K-aligned. */
	assert_int_equal(pt_map(&t, WIN1 + 0x1000, 0x4580000, 0x10000, PT_PROT_RW), -EINVAL);
	assert_int_equal(pt_map(&t, WIN1 + 0x20000, 0x4581000, 0x10000, PT_PROT_RW), -EINVAL);
	assert_int_equal(t.nr_tables, 3);

	/* Unmap the whole window: the two level-1 tables go, the root stays. */
	assert_int_equal(pt_unmap(&t, WIN1, 1ULL << 40, &unmapped), 0);
	assert_int_equal(unmapped, 0x20000);
	assert_int_equal(t.nr_tables, 1);
	assert_int_equal(a.tables_live, 1);
	assert_int_equal(pt_unmap(&t, 0, 0x10000, &unmapped), -ERANGE);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

static void test_map_16m_one_level(void **state)
{
	/* 16M TCEs over a 16 GiB window: 2^10 entries in one 8 KiB table. */
	struct pt_cfg c = mk(24, 34, 1, 52, 0);
	struct pt_arena a;
	struct pt_table t;
	uint64_t pa;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, ABASE, 0x4000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	assert_int_equal(t.table_bytes, 8192);
	/* Index 3 (0x3000000 >> 24) -> 4 GiB: 0x100000003 = 00 00 00 01 00 00 00 03. */
	assert_int_equal(pt_map(&t, 0x3000000, 0x100000000ULL, 0x1000000, PT_PROT_RW), 0);
	assert_memory_equal(bytes_at(&a, ABASE + 3 * 8),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03 }),
			    8);
	/* Two 16M pages at once: indices 4 and 5, consecutive addresses. */
	assert_int_equal(pt_map(&t, 0x4000000, 0x200000000ULL, 0x2000000, PT_PROT_R), 0);
	assert_memory_equal(bytes_at(&a, ABASE + 5 * 8),
			    ((const uint8_t[]){ 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x01 }),
			    8);
	assert_int_equal(pt_iova_to_phys(&t, 0x5abcdef, &pa), 0);
	assert_int_equal(pa, 0x201abcdefULL);
	assert_int_equal(pt_map(&t, 0x800000, 0x1000000, 0x1000000, PT_PROT_R), -EINVAL);
	assert_int_equal(t.nr_tables, 1);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

/* ---------------------------------------------------------------------- */
/* Map / unmap rules                                                      */

static void test_map_errors_leave_tables(void **state)
{
	/* 2 GiB of 4K TCEs in 2 levels: one level-1 table covers 4 MiB. Output 40 bits. */
	struct pt_cfg c = mk(12, 31, 2, 40, 0);
	struct pt_table t;
	struct pt_leaves before = { 0 }, after = { 0 };
	uint64_t tables, bytes;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &pt_mem_host), 0);
	assert_int_equal(pt_map(&t, 0x400000, 0x10000000, 0x3000, PT_PROT_RW), 0);
	tables = t.nr_tables;
	bytes = t.table_bytes;
	assert_int_equal(tables, 2);
	assert_int_equal(bytes, 4096 + 8192);
	pt_for_each_leaf(&t, 0, UINT64_MAX, pt_leaves_collect, &before);
	assert_int_equal(before.n, 3);

	assert_int_equal(pt_map(&t, 0x1001, 0x1000, 0x1000, PT_PROT_RW), -EINVAL);
	assert_int_equal(pt_map(&t, 0x1000, 0x1800, 0x1000, PT_PROT_RW), -EINVAL);
	assert_int_equal(pt_map(&t, 0x1000, 0x1000, 0, PT_PROT_RW), -EINVAL);
	assert_int_equal(pt_map(&t, 0x1000, 0x1000, 0x1000, 0), -EINVAL);
	assert_int_equal(pt_map(&t, 0xfffffffffffff000ULL, 0x1000, 0x2000, PT_PROT_RW),
			 -EOVERFLOW);
	assert_int_equal(pt_map(&t, 0x1000, 0xfffffffffffff000ULL, 0x2000, PT_PROT_RW),
			 -EOVERFLOW);
	/* Beyond the 2 GiB window; output at 2^40. */
	assert_int_equal(pt_map(&t, 0x80000000, 0x1000, 0x1000, PT_PROT_RW), -ERANGE);
	assert_int_equal(pt_map(&t, 0x7ffff000, 0x1000, 0x2000, PT_PROT_RW), -ERANGE);
	assert_int_equal(pt_map(&t, 0x1000, 0x10000000000ULL, 0x1000, PT_PROT_RW), -ERANGE);
	assert_int_equal(pt_map(&t, 0x1000, 0xffffff000ULL, 0x2000, PT_PROT_RW), 0);
	assert_int_equal(pt_unmap(&t, 0x1000, 0x2000, NULL), 0);
	/*
	 * [0, 4 MiB + 4K): fills a fresh level-1 table for [0, 4M), then hits
	 * the page at 4M: everything stored and the fresh table are undone.
	 */
	assert_int_equal(pt_map(&t, 0, 0x20000000, 0x401000, PT_PROT_RW), -EEXIST);
	/* Starting inside the occupied table: the conflict is in the middle. */
	assert_int_equal(pt_map(&t, 0x3ff000, 0x30000000, 0x5000, PT_PROT_R), -EEXIST);
	/* Exactly the mapped page. */
	assert_int_equal(pt_map(&t, 0x401000, 0x30000000, 0x1000, PT_PROT_R), -EEXIST);

	assert_int_equal(t.nr_tables, tables);
	assert_int_equal(t.table_bytes, bytes);
	pt_for_each_leaf(&t, 0, UINT64_MAX, pt_leaves_collect, &after);
	assert_int_equal(before.n, after.n);
	assert_memory_equal(before.iova, after.iova, sizeof(before.iova));
	assert_memory_equal(before.pa, after.pa, sizeof(before.pa));
	assert_memory_equal(before.prot, after.prot, sizeof(before.prot));
	assert_int_equal(after.iova[0], 0x400000);
	assert_int_equal(after.pa[2], 0x10002000);
	assert_int_equal(after.prot[0], PT_PROT_R | PT_PROT_W | PT_PROT_U);
	assert_int_equal(after.level[0], 1);
	pt_table_destroy(&t);
}

static void test_unmap_frees_tables(void **state)
{
	/* 3 levels over 2 GiB: level-2 tables cover 512 KiB, level-1 tables 64 MiB. */
	struct pt_cfg c = mk(12, 31, 3, 52, 0);
	struct pt_table t;
	struct pt_leaves l = { 0 };
	uint64_t unmapped, pa;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &pt_mem_host), 0);
	/* Root 2^5 x 8 = 256 bytes. */
	assert_int_equal(t.table_bytes, 256);

	/* Two pages in one level-2 table, one in another 64 MiB region. */
	assert_int_equal(pt_map(&t, 0x1000, 0x1000, 0x2000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&t, 0x4000000, 0x8000, 0x1000, PT_PROT_R), 0);
	/* root + 2 x (L1 + L2) */
	assert_int_equal(t.nr_tables, 5);
	assert_int_equal(t.table_bytes, 256 + 4 * 1024);
	pt_for_each_leaf(&t, 0, UINT64_MAX, pt_leaves_collect, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.iova[2], 0x4000000);
	assert_int_equal(l.level[2], 2);

	/* One page of two: the tables stay. */
	assert_int_equal(pt_unmap(&t, 0x1000, 0x1000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1000);
	assert_int_equal(t.nr_tables, 5);
	assert_int_equal(pt_iova_to_phys(&t, 0x2000, &pa), 0);
	assert_int_equal(pa, 0x2000);
	/* The other: its level-2 and level-1 tables go. */
	assert_int_equal(pt_unmap(&t, 0x2000, 0x1000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1000);
	assert_int_equal(t.nr_tables, 3);
	/* A range with nothing in it. */
	assert_int_equal(pt_unmap(&t, 0x10000000, 0x100000, &unmapped), 0);
	assert_int_equal(unmapped, 0);
	/* Crossing the end of the window: -ERANGE, nothing unmapped. */
	assert_int_equal(pt_unmap(&t, 0x7ffff000, 0x2000, &unmapped), -ERANGE);
	assert_int_equal(unmapped, 0);
	assert_int_equal(pt_iova_to_phys(&t, 0x4000000, &pa), 0);
	/* The whole window. */
	assert_int_equal(pt_unmap(&t, 0, 1ULL << 31, &unmapped), 0);
	assert_int_equal(unmapped, 0x1000);
	assert_int_equal(t.nr_tables, 1);
	assert_int_equal(t.table_bytes, 256);
	pt_table_destroy(&t);
}

/* ---------------------------------------------------------------------- */
/* Walks of hand-built tables                                             */

#define BASE 0x100000ULL

/* Store @v big-endian at @pa, most significant byte first. */
static void put_be(struct pt_arena *a, uint64_t pa, uint64_t v)
{
	uint8_t *p = a->buf + (pa - a->base);

	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/*
 * 3 levels over 2 GiB (shifts 26, 19, 12; 5, 7, 7 bits): root (256 B) at
 * BASE, level 1 (1 KiB) at BASE + 0x1000, level 2 at BASE + 0x2000.
 * iova 0x14483abc = 5 << 26 | 9 << 19 | 3 << 12 | 0xabc: root entry 5
 * (+0x28), level-1 entry 9 (+0x48), level-2 entry 3 (+0x18).
 */
#define IOVA	0x14483abcULL
#define E0	(BASE + 0x28)
#define E1	(BASE + 0x1000 + 0x48)
#define E2	(BASE + 0x2000 + 0x18)

static void build_chain(struct pt_arena *a)
{
	put_be(a, E0, (BASE + 0x1000) | 3);
	put_be(a, E1, (BASE + 0x2000) | 3);
	put_be(a, E2, 0x777000 | 3);
}

/* The start of a walk test: pt_cfg_init(@c) must succeed, @a holds the chain. */
static void chain_setup(struct pt_cfg *c, struct pt_arena *a)
{
	assert_int_equal(pt_cfg_init(c), 0);
	assert_int_equal(pt_arena_init(a, BASE, 0x10000), 0);
	build_chain(a);
}

static void test_walk_chain(void **state)
{
	struct pt_cfg c = mk(12, 31, 3, 40, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	char buf[128];

	chain_setup(&c, &a);

	/* A good RW TCE: three reads, one per level, in order. */
	assert_int_equal(pt_test_walk(&c, &a, BASE, IOVA, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x777abc);
	assert_int_equal(leaf.size, 0x1000);
	assert_int_equal(leaf.level, 2);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_U);
	assert_int_equal(leaf.desc, 0x777003);
	assert_int_equal(leaf.desc_addr, E2);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.addr[0], E0);
	assert_int_equal(r.addr[1], E1);
	assert_int_equal(r.addr[2], E2);
	assert_int_equal(r.level[0], 0);
	assert_int_equal(r.level[2], 2);

	/* The decoder reads the CPU-order value. */
	pt_desc_decode(&c, 0, (BASE + 0x1000) | 3, buf, sizeof(buf));
	assert_string_equal(buf, "indirect next=0x101000 rw");
	pt_desc_decode(&c, 2, 0x777001, buf, sizeof(buf));
	assert_string_equal(buf, "tce oa=0x777000 r-");
	pt_desc_decode(&c, 2, 0x777ffe, buf, sizeof(buf));
	assert_string_equal(buf, "tce oa=0x777000 -w ignored-low-bits");
	pt_desc_decode(&c, 2, 0x10000000003ULL, buf, sizeof(buf));
	assert_string_equal(buf, "tce oa=0x10000000000 rw beyond-oas");
	pt_desc_decode(&c, 1, 0, buf, sizeof(buf));
	assert_string_equal(buf, "not present");
	pt_desc_decode(&c, 1, 0x777ffc, buf, sizeof(buf));
	assert_string_equal(buf, "not present (0x777ffc)");

	/* Bits [11:2] of a TCE are ignored: same page. */
	put_be(&a, E2, 0x777fff);
	assert_int_equal(pt_test_walk(&c, &a, BASE, IOVA, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x777abc);

	/* Not present at each level: translation fault there, after level + 1 reads. */
	put_be(&a, E2, 0x777ffc); /* address and junk, but neither READ nor WRITE */
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_R, PT_FAULT_TRANSLATION, 2, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, E2);
	assert_int_equal(f.desc, 0x777ffc);
	assert_int_equal(r.n, 3);
	put_be(&a, E2, 0x777003);
	put_be(&a, E1, BASE + 0x2000);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_R, PT_FAULT_TRANSLATION, 1, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, E1);
	assert_int_equal(r.n, 2);
	put_be(&a, E1, (BASE + 0x2000) | 3);
	put_be(&a, E0, 0);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_R, PT_FAULT_TRANSLATION, 0, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, E0);
	assert_int_equal(r.n, 1);

	/*
	 * An indirect entry is present with READ or WRITE alone, and its bits
	 * do not limit the leaf; bits below the 1 KiB next table are ignored.
	 */
	put_be(&a, E0, (BASE + 0x1000) | 1);
	put_be(&a, E1, (BASE + 0x2000) | 2);
	assert_int_equal(pt_test_walk(&c, &a, BASE, IOVA, PT_PROT_RW, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_U);
	put_be(&a, E0, (BASE + 0x1000) | 0x3ff);
	assert_int_equal(pt_test_walk(&c, &a, BASE, IOVA, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(r.addr[1], E1);
	build_chain(&a);
	/* Root address bits below the 256-byte root are ignored too. */
	assert_int_equal(pt_test_walk(&c, &a, BASE + 0xf8, IOVA, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(r.addr[0], E0);

	pt_arena_destroy(&a);
}

static void test_walk_permissions(void **state)
{
	struct pt_cfg c = mk(12, 31, 3, 40, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;

	chain_setup(&c, &a);

	/* Read-only TCE: a write is a permission fault at level 2; a read is fine. */
	put_be(&a, E2, 0x777001);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_W, PT_FAULT_PERMISSION, 2, PT_ANY, &leaf, &f, &r);
	assert_int_equal(f.desc_addr, E2);
	assert_int_equal(r.n, 3);
	assert_int_equal(pt_test_walk(&c, &a, BASE, IOVA, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_U);

	/* Write-only TCE (hand-built; map never writes one): reads fault, writes pass. */
	put_be(&a, E2, 0x777002);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_R, PT_FAULT_PERMISSION, PT_ANY, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, IOVA, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_W | PT_PROT_U);

	/* No execute in TCE: an X access faults even on a RW TCE; U is always granted. */
	put_be(&a, E2, 0x777003);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_X, PT_FAULT_PERMISSION, 2, PT_ANY, &leaf, &f, &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, IOVA, PT_PROT_RW | PT_PROT_U, &leaf, &f, &r),
			 PT_OK);
	pt_arena_destroy(&a);
}

static void test_walk_addresses(void **state)
{
	struct pt_cfg c = mk(12, 31, 3, 40, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;

	chain_setup(&c, &a);

	/* Output at 2^40 with a 40-bit output size: address size fault at level 2. */
	put_be(&a, E2, 0x10000000003ULL);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_R, PT_FAULT_ADDR_SIZE, 2, 3, &leaf, &f, &r);
	/* The top bit of the largest 40-bit address is fine. */
	put_be(&a, E2, 0xfffffff003ULL);
	assert_int_equal(pt_test_walk(&c, &a, BASE, IOVA, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0xfffffffabcULL);
	put_be(&a, E2, 0x777003);

	/* Next-table address beyond the output size in the root entry: level 0, one read. */
	put_be(&a, E0, 0x20000000000ULL | 3);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_R, PT_FAULT_ADDR_SIZE, 0, 1, &leaf, &f, &r);
	/* A root beyond the output size: no read at all. */
	pt_walk_fault(&c, &a, 1ULL << 40, IOVA, PT_PROT_R, PT_FAULT_ADDR_SIZE, 0, 0, &leaf, &f, &r);

	/* Next table outside memory: walk abort at level 1, no read outside the arena. */
	put_be(&a, E0, 0x7000000 | 3);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_R, PT_FAULT_EXT_ABORT, 1, PT_ANY, &leaf, &f, &r);
	assert_int_equal(f.desc_addr, 0x7000000 + 0x48);
	assert_int_equal(r.n, 1);
	build_chain(&a);

	/* Outside the 2 GiB window: translation fault at level 0, nothing read. */
	pt_walk_fault(&c, &a, BASE, 1ULL << 31, PT_PROT_R, PT_FAULT_TRANSLATION, 0, 0, &leaf, &f,
		      &r);
	pt_walk_fault(&c, &a, BASE, UINT64_MAX, PT_PROT_R, PT_FAULT_TRANSLATION, PT_ANY, 0, &leaf,
		      &f, &r);

	/* The same tables as window 1: the iova must carry the bus start. */
	c = mk(12, 31, 3, 40, WIN1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_test_walk(&c, &a, BASE, WIN1 | IOVA, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x777abc);
	assert_int_equal(r.n, 3);
	pt_walk_fault(&c, &a, BASE, IOVA, PT_PROT_R, PT_FAULT_TRANSLATION, 0, 0, &leaf, &f, &r);
	pt_walk_fault(&c, &a, BASE, WIN1 + (1ULL << 31), PT_PROT_R, PT_FAULT_TRANSLATION, PT_ANY, 0,
		      &leaf, &f, &r);
	pt_arena_destroy(&a);
}

static void test_walk_five_levels_and_64k(void **state)
{
	/*
	 * 256 MiB in 5 levels: shifts 28, 24, 20, 16, 12; the root resolves
	 * no window bit (index 0 only, 64-byte table), the others 4 bits
	 * (128-byte tables). Chain in one page: level d at BASE + d * 0x100.
	 * iova 0x0abcd123: indices 0, 0xa, 0xb, 0xc, 0xd.
	 */
	struct pt_cfg c = mk(12, 28, 5, 52, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x10000), 0);
	put_be(&a, BASE + 0x000 + 0x0 * 8, (BASE + 0x100) | 3);
	put_be(&a, BASE + 0x100 + 0xa * 8, (BASE + 0x200) | 3);
	put_be(&a, BASE + 0x200 + 0xb * 8, (BASE + 0x300) | 3);
	put_be(&a, BASE + 0x300 + 0xc * 8, (BASE + 0x400) | 3);
	put_be(&a, BASE + 0x400 + 0xd * 8, 0xdead000 | 1);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x0abcd123, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0xdead123);
	assert_int_equal(leaf.level, 4);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.addr[1], BASE + 0x150);
	assert_int_equal(r.addr[4], BASE + 0x468);
	/* Missing at level 3: four reads. */
	put_be(&a, BASE + 0x300 + 0xc * 8, 0);
	pt_walk_fault(&c, &a, BASE, 0x0abcd123, PT_PROT_R, PT_FAULT_TRANSLATION, 3, 4, &leaf, &f,
		      &r);
	pt_arena_destroy(&a);

	/*
	 * 64K TCEs, a 1 MiB window in one level of 16 entries: bits [15:2]
	 * of the TCE are below the page and ignored. iova 0x5432 -> entry 0.
	 */
	c = mk(16, 20, 1, 52, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x1000), 0);
	put_be(&a, BASE, 0x12345003 | 0xf000);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x5432, PT_PROT_RW, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x12345432);
	assert_int_equal(leaf.size, 0x10000);
	assert_int_equal(leaf.level, 0);
	assert_int_equal(r.n, 1);
	pt_arena_destroy(&a);
}

/* The walk of a table pt_map built: read count = levels, for 1..5 levels. */
static void test_walk_built_tables(void **state)
{
	for (unsigned int levels = 1; levels <= 5; levels++) {
		struct pt_cfg c = mk(12, 31, levels, 52, WIN1);
		struct pt_arena a;
		struct pt_table t;
		struct pt_leaf leaf;
		struct pt_fault f;
		struct pt_reads r = { 0 };
		uint64_t unmapped;

		assert_int_equal(pt_cfg_init(&c), 0);
		assert_int_equal(pt_arena_init(&a, ABASE, 0x800000), 0);
		assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
		assert_int_equal(pt_map(&t, WIN1 + 0x7fffe000, 0xabc000, 0x2000, PT_PROT_RW), 0);
		assert_int_equal(t.nr_tables, levels);
		assert_int_equal(pt_walk_mem(&c, &a.mem, t.root, WIN1 + 0x7ffff010, PT_PROT_W,
					     &leaf, &f, pt_reads_count, &r),
				 PT_OK);
		assert_int_equal(leaf.oa, 0xabd010);
		assert_int_equal(leaf.level, (int)levels - 1);
		assert_int_equal(r.n, levels);
		assert_int_equal(pt_unmap(&t, WIN1, 1ULL << 31, &unmapped), 0);
		assert_int_equal(unmapped, 0x2000);
		assert_int_equal(t.nr_tables, 1);
		pt_table_destroy(&t);
		assert_int_equal(a.tables_live, 0);
		pt_arena_destroy(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_levels),
		cmocka_unit_test(test_geometry_pages_windows),
		cmocka_unit_test(test_geometry_errors),
		cmocka_unit_test(test_map_bytes_4k),
		cmocka_unit_test(test_map_window1_64k),
		cmocka_unit_test(test_map_16m_one_level),
		cmocka_unit_test(test_map_errors_leave_tables),
		cmocka_unit_test(test_unmap_frees_tables),
		cmocka_unit_test(test_walk_chain),
		cmocka_unit_test(test_walk_permissions),
		cmocka_unit_test(test_walk_addresses),
		cmocka_unit_test(test_walk_five_levels_and_64k),
		cmocka_unit_test(test_walk_built_tables),
	};

	return cmocka_run_group_tests_name("pt_tce", tests, NULL, NULL);
}
