// SPDX-License-Identifier: MIT
/*
 * VT-d second stage: geometry, descriptors written by map, unmap
 * splitting, and walks of hand-built tables.
 *
 * Expected descriptor values are worked out by hand from the VT-d
 * second-stage entry format (reference hw.md §2.2), each constant's bits
 * spelled out beside it, never taken from the code under test. Tables owned
 * by pt_map live in an arena whose first-fit allocator hands out 4 KiB
 * pages in address order, so table addresses are known in advance too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pt/pt.h"

#include "pt_intel_test.h"
#include "pt_test.h"

#define BASE 0x100000ULL

/* Attribute bits, for reading the constants below. */
#define R   0x1ULL
#define W   0x2ULL
#define X   0x4ULL
#define PS  0x80ULL
#define A   0x100ULL
#define D   0x200ULL
#define SNP 0x800ULL

static struct pt_cfg mk(unsigned int ias, unsigned int oas, unsigned int flags)
{
	struct pt_cfg c = { .format = PT_VTD_SS, .granule_shift = 12, .ias = ias, .oas = oas,
			    .flags = flags };

	return c;
}

/* ---------------------------------------------------------------------- */
/* Geometry                                                               */

static void test_geometry(void **state)
{
	struct pt_cfg c;

	/* AGAW 39: 3 levels, SS-PDPTE (level 3) at bit 30. Leaves at every depth. */
	c = mk(39, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.nlevels, 3);
	assert_int_equal(c.start_level, 3);
	assert_int_equal(c.level_step, -1);
	assert_int_equal(c.shift[0], 30);
	assert_int_equal(c.shift[1], 21);
	assert_int_equal(c.shift[2], 12);
	assert_int_equal(c.leaf_ok, 0x7);
	assert_int_equal(pt_table_size(&c, 0), 4096);

	/* AGAW 48: 4 levels from bit 39; 1G at depth 1, 2M at 2, 4K at 3. */
	c = mk(48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.nlevels, 4);
	assert_int_equal(c.start_level, 4);
	assert_int_equal(c.shift[0], 39);
	assert_int_equal(c.leaf_ok, 0xe);

	/* AGAW 57: 5 levels from bit 48. */
	c = mk(57, 52, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.nlevels, 5);
	assert_int_equal(c.start_level, 5);
	assert_int_equal(c.shift[0], 48);
	for (unsigned int d = 0; d < 5; d++)
		assert_int_equal(c.bits[d], 9);
	assert_int_equal(c.leaf_ok, 0x1c);

	/* SSLPS = 2M only; SSLPS = 0. */
	c = mk(48, 48, PT_CFG_NO_1G);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.leaf_ok, 0xc);
	c = mk(48, 48, PT_CFG_NO_1G | PT_CFG_NO_2M);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.leaf_ok, 0x8);
	/* 1G without 2M has no SSLPS encoding. */
	c = mk(48, 48, PT_CFG_NO_2M);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);

	/* granule 0 = 12; levels may be given if consistent. */
	c = mk(39, 32, 0);
	c.granule_shift = 0;
	c.levels = 3;
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.granule_shift, 12);

	/* Invalid widths, output sizes, granules, base, levels. */
	c = mk(30, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(40, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(64, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 31, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 53, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 48, 0);
	c.granule_shift = 14;
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 48, 0);
	c.iova_base = 0x100000;
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 48, 0);
	c.levels = 3;
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
}

/* ---------------------------------------------------------------------- */
/* Descriptors written by map                                             */

static void test_descriptors(void **state)
{
	struct pt_cfg c = mk(48, 48, 0);
	struct pt_arena a;
	struct pt_table t;
	struct pt_leaf leaf;
	struct pt_fault f;
	unsigned int prot;
	uint64_t pa;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x40000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);

	/*
	 * RW 4K page 0x1000 -> 0x40000000: R 0x1 | W 0x2 | EMT 6 << 3 (0x30) = 0x33;
	 * no A / D (so dirty tracking sees the first write).
	 */
	assert_int_equal(pt_map(&t, 0x1000, 0x40000000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x1000, PT_PROT_R, &level, &prot), 0x40000033ULL);
	assert_int_equal(level, 1);
	assert_int_equal(prot, PT_PROT_R | PT_PROT_W | PT_PROT_U);
	/* Tables: next | R | W | X = 0x7; PDPT +0x1000, PD +0x2000, PT +0x3000. */
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x7);
	assert_int_equal(*pt_at(&a, BASE + 0x1000), (BASE + 0x2000) | 0x7);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), (BASE + 0x3000) | 0x7);
	assert_int_equal(*pt_at(&a, BASE + 0x3000 + 8), 0x40000033ULL);

	/* Read-only: 0x31. (PT_PROT_U means nothing here: no privilege levels.) */
	assert_int_equal(pt_map(&t, 0x2000, 0x40001000, 0x1000, PT_PROT_R | PT_PROT_U), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x2000, PT_PROT_R, &level, &prot), 0x40001031ULL);
	assert_int_equal(prot, PT_PROT_R | PT_PROT_U);

	/* Write-only is expressible: 0x32; a read of it is a permission fault. */
	assert_int_equal(pt_map(&t, 0x3000, 0x40002000, 0x1000, PT_PROT_W), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x3000, PT_PROT_W, &level, &prot), 0x40002032ULL);
	assert_int_equal(prot, PT_PROT_W | PT_PROT_U);
	assert_int_equal(pt_table_walk(&t, 0x3000, PT_PROT_R, &leaf, &f), PT_FAULT_PERMISSION);
	assert_int_equal(f.level, 1);

	/* RWX: 0x37; read + execute: 0x35. */
	assert_int_equal(pt_map(&t, 0x4000, 0x40003000, 0x1000, PT_PROT_RW | PT_PROT_X), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x4000, PT_PROT_X, &level, &prot), 0x40003037ULL);
	assert_int_equal(prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	assert_int_equal(pt_map(&t, 0x5000, 0x40004000, 0x1000, PT_PROT_R | PT_PROT_X), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x5000, PT_PROT_R | PT_PROT_X, &level, NULL),
			 0x40004035ULL);
	/* Write + execute: 0x36. */
	assert_int_equal(pt_map(&t, 0x6000, 0x40005000, 0x1000, PT_PROT_W | PT_PROT_X), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x6000, PT_PROT_W, &level, NULL), 0x40005036ULL);

	/* 2M page in the PD (index 1): 0x33 | PS 0x80 = 0xb3. */
	assert_int_equal(pt_map(&t, 0x200000, 0x80000000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x3fffff, PT_PROT_W, &level, NULL), 0x800000b3ULL);
	assert_int_equal(level, 2);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 8), 0x800000b3ULL);

	/* 1G page in the PDPT (index 1), read-only: 0x31 | 0x80 = 0xb1. */
	assert_int_equal(pt_map(&t, 0x40000000, 0xc0000000, 0x40000000, PT_PROT_R), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x40000000, PT_PROT_R, &level, NULL), 0xc00000b1ULL);
	assert_int_equal(level, 3);
	assert_int_equal(*pt_at(&a, BASE + 0x1000 + 8), 0xc00000b1ULL);
	assert_int_equal(pt_table_walk(&t, 0x40000000, PT_PROT_W, &leaf, &f), PT_FAULT_PERMISSION);
	assert_int_equal(f.level, 3);

	/* Output bit 47 with a 48-bit width. */
	assert_int_equal(pt_map(&t, 0x7000, 0x800000000000ULL, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x7000, PT_PROT_R, &level, NULL), 0x800000000033ULL);

	assert_int_equal(pt_iova_to_phys(&t, 0x7fedcba9, &pa), 0);
	assert_int_equal(pa, 0xffedcba9);
	assert_int_equal(pt_iova_to_phys(&t, 0x8000, &pa), -ENOENT);
	assert_int_equal(t.nr_tables, 4);
	pt_table_destroy(&t);
	assert_int_equal(a.tables_live, 0);
	pt_arena_destroy(&a);
}

static void test_descriptors_3_and_5_level(void **state)
{
	struct pt_cfg c = mk(39, 48, 0);
	struct pt_arena a;
	struct pt_table t;
	struct pt_leaf leaf;
	struct pt_fault f;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x40000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	/* 3 levels: the root is the SS-PDPT, so a 1G leaf sits in the root. */
	assert_int_equal(pt_map(&t, 0x40000000, 0x40000000, 0x40000000, PT_PROT_RW), 0);
	assert_int_equal(*pt_at(&a, BASE + 8), 0x400000b3ULL);
	assert_int_equal(t.nr_tables, 1);
	/* A 4K page: PD +0x1000, PT +0x2000. */
	assert_int_equal(pt_map(&t, 0x1000, 0x9000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x7);
	assert_int_equal(*pt_at(&a, BASE + 0x1000), (BASE + 0x2000) | 0x7);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 8), 0x9033ULL);
	assert_int_equal(t.nr_tables, 3);
	/* The last page of 39 bits maps; 2^39 is out of range. */
	assert_int_equal(pt_map(&t, (1ULL << 39) - 0x1000, 0xa000, 0x1000, PT_PROT_R), 0);
	assert_int_equal(pt_leaf_desc(&t, (1ULL << 39) - 1, PT_PROT_R, &level, NULL), 0xa031ULL);
	assert_int_equal(pt_map(&t, 1ULL << 39, 0xa000, 0x1000, PT_PROT_R), -ERANGE);
	assert_int_equal(pt_table_walk(&t, 1ULL << 39, PT_PROT_R, &leaf, &f),
			 PT_FAULT_TRANSLATION);
	assert_int_equal(f.level, 3);
	pt_table_destroy(&t);

	/* 5 levels: 4K at 2^56 (SS-PML5 index 256) -> 0xb000; tables +0x1000..+0x4000. */
	c = mk(57, 52, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	assert_int_equal(pt_map(&t, 1ULL << 56, 0xb000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(*pt_at(&a, BASE + 256 * 8), (BASE + 0x1000) | 0x7);
	assert_int_equal(*pt_at(&a, BASE + 0x4000), 0xb033ULL);
	assert_int_equal(t.nr_tables, 5);
	assert_int_equal(pt_leaf_desc(&t, 1ULL << 56, PT_PROT_W, &level, NULL), 0xb033ULL);
	/* A 1G leaf with output bits up to 51. */
	assert_int_equal(pt_map(&t, 0x40000000, 0xfffffc0000000ULL, 0x40000000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x40000000, PT_PROT_R, &level, NULL), 0xfffffc00000b3ULL);
	assert_int_equal(level, 3);
	assert_int_equal(pt_map(&t, 1ULL << 57, 0xb000, 0x1000, PT_PROT_RW), -ERANGE);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

static void test_map_large_page_support(void **state)
{
	struct pt_cfg c = mk(48, 48, PT_CFG_NO_1G | PT_CFG_NO_2M);
	struct pt_arena a;
	struct pt_table t;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x40000), 0);
	/* SSLPS = 0: a 2M range maps as 512 4K pages (0x33 each) in one PT. */
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	assert_int_equal(pt_map(&t, 0x200000, 0x400000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(t.nr_tables, 4);
	assert_int_equal(pt_leaf_desc(&t, 0x3ff000, PT_PROT_R, &level, NULL), 0x5ff033ULL);
	assert_int_equal(level, 1);
	pt_table_destroy(&t);

	/* SSLPS = 2M: a 1G range maps as 512 2M pages (0xb3). */
	c = mk(48, 48, PT_CFG_NO_1G);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	assert_int_equal(pt_map(&t, 0x40000000, 0x40000000, 0x40000000, PT_PROT_RW), 0);
	assert_int_equal(t.nr_tables, 3);
	assert_int_equal(pt_leaf_desc(&t, 0x7fffffff, PT_PROT_R, &level, NULL), 0x7fe000b3ULL);
	assert_int_equal(level, 2);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

/* ---------------------------------------------------------------------- */
/* Map / unmap rules                                                      */

static const struct pt_map_err map_errors[] = {
	{ 0x1800, 0x1000, 0x1000, PT_PROT_RW, -EINVAL },
	{ 0x1000, 0x1010, 0x1000, PT_PROT_RW, -EINVAL },
	{ 0x1000, 0x1000, 0x10, PT_PROT_RW, -EINVAL },
	{ 0x1000, 0x1000, 0, PT_PROT_RW, -EINVAL },
	/* Neither R nor W would be "not present": refused. */
	{ 0x1000, 0x1000, 0x1000, PT_PROT_X, -EINVAL },
	{ 0x1000, 0x1000, 0x1000, 0, -EINVAL },
	{ 0xffffffffffff0000ULL, 0x1000, 0x20000, PT_PROT_RW, -EOVERFLOW },
	{ 0x1000, 0xfffffffffffff000ULL, 0x2000, PT_PROT_RW, -EOVERFLOW },
	/* Beyond the 48-bit AGAW, and the 40-bit output width. */
	{ 1ULL << 48, 0x1000, 0x1000, PT_PROT_RW, -ERANGE },
	{ (1ULL << 48) - 0x1000, 0x1000, 0x2000, PT_PROT_RW, -ERANGE },
	{ 0x1000, 1ULL << 40, 0x1000, PT_PROT_RW, -ERANGE },
	{ 0x1000, (1ULL << 40) - 0x1000, 0x2000, PT_PROT_RW, -ERANGE },
	/* Overlaps: exact, at the end of a range needing new tables, across 1G, on a 2M page. */
	{ 0x10002000, 0x5000, 0x1000, PT_PROT_R, -EEXIST },
	{ 0x0f000000, 0x20000000, 0x1002000, PT_PROT_RW, -EEXIST },
	{ 0x40000000, 0x40000000, 0x40200000, PT_PROT_RW, -EEXIST },
	{ 0x801ff000, 0x1000, 0x1000, PT_PROT_RW, -EEXIST },
};

static void test_map_errors_leave_tables(void **state)
{
	struct pt_cfg c = mk(48, 40, 0);
	struct pt_arena a;
	struct pt_table t;
	struct pt_leaves before, after;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x100000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	assert_int_equal(pt_map(&t, 0x10000000, 0x10000000, 0x3000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&t, 0x80000000, 0x80000000, 0x200000, PT_PROT_W), 0);
	pt_map_errors_keep(&t, map_errors, sizeof(map_errors) / sizeof(map_errors[0]), &before,
			   &after);
	assert_int_equal(a.tables_live, t.nr_tables);
	assert_int_equal(before.n, 4);
	/* for_each_leaf reports the 2M write-only page as W (+U: no privilege). */
	assert_int_equal(after.prot[3], PT_PROT_W | PT_PROT_U);
	assert_int_equal(after.size[3], 0x200000);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

static void test_unmap_splits_and_frees(void **state)
{
	struct pt_cfg c = mk(48, 48, 0);
	struct pt_arena a;
	struct pt_table t;
	struct pt_leaves l = { 0 };
	uint64_t unmapped, pa;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x40000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	/* 1G RWX in PDPT (+0x1000) index 1: R|W|X 0x7 | EMT 0x30 | PS 0x80 = 0xb7. */
	assert_int_equal(pt_map(&t, 0x40000000, 0x80000000, 0x40000000, PT_PROT_RW | PT_PROT_X),
			 0);
	assert_int_equal(*pt_at(&a, BASE + 0x1000 + 8), 0x800000b7ULL);
	assert_int_equal(t.nr_tables, 2);
	/* Pretend the IOMMU used and dirtied it, and software asked for snooping: A|D|SNP. */
	*pt_at(&a, BASE + 0x1000 + 8) |= A | D | SNP;

	/* Cut 4K out of the middle: 1G -> 512 x 2M (PD +0x2000) -> 512 x 4K (PT +0x3000). */
	assert_int_equal(pt_unmap(&t, 0x40201000, 0x1000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1000);
	assert_int_equal(t.nr_tables, 4);
	assert_int_equal(*pt_at(&a, BASE + 0x1000 + 8), (BASE + 0x2000) | 0x7);
	/* 2M children keep every attribute and PS: 0xbb7. */
	assert_int_equal(*pt_at(&a, BASE + 0x2000), 0x80000bb7ULL);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 511 * 8), 0xbfe00bb7ULL);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 8), (BASE + 0x3000) | 0x7);
	/* 4K grandchildren drop PS: 0xb37. */
	assert_int_equal(*pt_at(&a, BASE + 0x3000), 0x80200b37ULL);
	assert_int_equal(*pt_at(&a, BASE + 0x3000 + 8), 0);
	assert_int_equal(*pt_at(&a, BASE + 0x3000 + 511 * 8), 0x803ffb37ULL);
	assert_int_equal(pt_leaf_desc(&t, 0x40202000, PT_PROT_X, &level, NULL), 0x80202b37ULL);
	assert_int_equal(level, 1);
	assert_int_equal(pt_iova_to_phys(&t, 0x40201000, &pa), -ENOENT);
	assert_int_equal(pt_iova_to_phys(&t, 0x40202345, &pa), 0);
	assert_int_equal(pa, 0x80202345);
	pt_for_each_leaf(&t, 0, UINT64_MAX, pt_leaves_collect, &l);
	assert_int_equal(l.n, 511 + 511);

	/* Unmap across the end of the split 2M page into the next 2M page: splits that too. */
	assert_int_equal(pt_unmap(&t, 0x403ff000, 0x2000, &unmapped), 0);
	assert_int_equal(unmapped, 0x2000);
	assert_int_equal(t.nr_tables, 5);
	assert_int_equal(*pt_at(&a, BASE + 0x4000 + 8), 0x80401b37ULL);

	/* Unmap everything: all tables but the root are freed. */
	assert_int_equal(pt_unmap(&t, 0, 1ULL << 48, &unmapped), 0);
	assert_int_equal(unmapped, 0x40000000 - 0x3000);
	assert_int_equal(t.nr_tables, 1);
	assert_int_equal(a.tables_live, 1);
	assert_int_equal(*pt_at(&a, BASE), 0);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

/* ---------------------------------------------------------------------- */
/* Walks of hand-built tables                                             */

/*
 * The walks below start from pt_chain4_setup(..., 0x7): PML4 @BASE, PDPT @+0x1000,
 * PD @+0x2000, PT @+0x3000; R|W|X, A clear.
 */
static void test_walk_ok_and_not_present(void **state)
{
	struct pt_cfg c = mk(48, 48, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	uint64_t *pte;

	pte = pt_chain4_setup(&c, &a, BASE, 0x7);

	/* RW page: exactly 4 reads, levels 4..1. */
	*pte = 0x5000 | R | W;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1abc, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x5abc);
	assert_int_equal(leaf.size, 0x1000);
	assert_int_equal(leaf.level, 1);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_U);
	assert_int_equal(leaf.desc, 0x5003);
	assert_int_equal(leaf.desc_addr, BASE + 0x3008);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.addr[0], BASE);
	assert_int_equal(r.addr[1], BASE + 0x1000);
	assert_int_equal(r.addr[2], BASE + 0x2000);
	assert_int_equal(r.addr[3], BASE + 0x3008);
	assert_int_equal(r.level[0], 4);
	assert_int_equal(r.level[3], 1);
	assert_int_equal(*pte, 0x5003);
	/* No privilege in the second stage: a "user" request is just a request. */
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R | PT_PROT_U, &leaf, &f, &r),
			 PT_OK);

	/* Not present = neither R nor W, at each level (X alone does not count). */
	*pte = 0x5000 | X;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 1, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, BASE + 0x3008);
	assert_int_equal(f.desc, 0x5004);
	assert_int_equal(r.n, 4);
	*pte = 0x5000 | R;

	*pt_at(&a, BASE + 0x2000) = (BASE + 0x3000) | X | PS;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 2, 3, &leaf, &f, &r);
	*pt_at(&a, BASE + 0x2000) = (BASE + 0x3000) | 0x7;

	/* All bits but R and W set: still not present. */
	*pt_at(&a, BASE + 0x1000) = ~(R | W);
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 3, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, BASE + 0x1000);
	assert_int_equal(r.n, 2);
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 0x7;

	pt_walk_fault(&c, &a, BASE, 1ULL << 39, PT_PROT_R, PT_FAULT_TRANSLATION, 4, PT_ANY, &leaf,
		      &f, &r);
	assert_int_equal(f.desc_addr, BASE + 8);
	assert_int_equal(r.n, 1);

	/* Above the AGAW: translation fault at the top level, no read. */
	pt_walk_fault(&c, &a, BASE, 1ULL << 48, PT_PROT_R, PT_FAULT_TRANSLATION, 4, 0, &leaf, &f,
		      &r);

	/* A table pointer outside the arena: walk abort at level 2, nothing read outside. */
	*pt_at(&a, BASE + 0x1000) = 0x40000000ULL | R | W;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_EXT_ABORT, 2, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, 0x40000000);
	assert_int_equal(r.n, 2);
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 0x7;

	/* A loop back to the root: still exactly four reads, ending at a level-1 leaf. */
	*pt_at(&a, BASE) = BASE | 0x7;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x10, PT_PROT_X, &leaf, &f, &r), PT_OK);
	assert_int_equal(r.n, 4);
	assert_int_equal(leaf.oa, BASE + 0x10);
	*pt_at(&a, BASE) = (BASE + 0x1000) | 0x7;
	pt_arena_destroy(&a);
}

static void test_walk_3_and_5_level(void **state)
{
	struct pt_cfg c = mk(39, 48, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x10000), 0);
	/* 3 levels: PDPT @BASE -> PD @+0x1000 -> PT @+0x2000. */
	*pt_at(&a, BASE) = (BASE + 0x1000) | 0x7;
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 0x7;
	*pt_at(&a, BASE + 0x2000 + 8) = 0x5000 | R | W;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.level[0], 3);
	/* A 1G leaf in the root: one read. */
	*pt_at(&a, BASE + 8) = 0x80000000ULL | PS | R;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x40000123, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x80000123);
	assert_int_equal(leaf.level, 3);
	assert_int_equal(r.n, 1);
	pt_walk_fault(&c, &a, BASE, 1ULL << 39, PT_PROT_R, PT_FAULT_TRANSLATION, 3, 0, &leaf, &f,
		      &r);
	memset(a.buf, 0, 0x10000);

	/* 5 levels: PML5 index 1 (2^48) down to PT index 1. */
	c = mk(57, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	*pt_at(&a, BASE + 8) = (BASE + 0x1000) | 0x7;
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 0x7;
	*pt_at(&a, BASE + 0x2000) = (BASE + 0x3000) | 0x7;
	*pt_at(&a, BASE + 0x3000) = (BASE + 0x4000) | 0x7;
	*pt_at(&a, BASE + 0x4000 + 8) = 0x9000 | R | W;
	assert_int_equal(
		pt_test_walk(&c, &a, BASE, (1ULL << 48) | 0x1042, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x9042);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.level[0], 5);
	assert_int_equal(r.addr[0], BASE + 8);
	/* PS and SNP in an SS-PML5E are reserved. */
	*pt_at(&a, BASE + 8) = (BASE + 0x1000) | PS | 0x7;
	pt_walk_fault(&c, &a, BASE, (1ULL << 48) | 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 5, PT_ANY,
		      &leaf, &f, &r);
	*pt_at(&a, BASE + 8) = (BASE + 0x1000) | SNP | 0x7;
	pt_walk_fault(&c, &a, BASE, (1ULL << 48) | 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 5, PT_ANY,
		      &leaf, &f, &r);
	pt_walk_fault(&c, &a, BASE, 1ULL << 57, PT_PROT_R, PT_FAULT_TRANSLATION, 5, PT_ANY, &leaf,
		      &f, &r);
	pt_arena_destroy(&a);
}

static void test_walk_reserved(void **state)
{
	struct pt_cfg c = mk(48, 40, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	uint64_t *pml4e, *pdpte, *pde, *pte;

	pte = pt_chain4_setup(&c, &a, BASE, 0x7);
	pml4e = pt_at(&a, BASE);
	pdpte = pt_at(&a, BASE + 0x1000);
	pde = pt_at(&a, BASE + 0x2000);

	/* Output bit 40 with a 40-bit width: reserved at level 1. Bit 39 is fine. */
	*pte = (1ULL << 40) | 0x5000 | R;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 1, PT_ANY, &leaf, &f, &r);
	assert_int_equal(f.desc, (1ULL << 40) | 0x5001);
	assert_int_equal(r.n, 4);
	*pte = (1ULL << 39) | 0x5000 | R;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, (1ULL << 39) | 0x5000);

	/* Bit 62 (legacy TM) is reserved in scalable mode. */
	*pte = (1ULL << 62) | 0x5000 | R;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 1, PT_ANY, &leaf, &f, &r);
	/*
	 * Ignored in a leaf: 63, 61:52 (mask 0xbff0...), bit 10, and bit 7 of
	 * an SS-PTE; SNP, EMT, IPAT, A, D are leaf attributes.
	 */
	*pte = 0xbff0000000000000ULL | 0x5000 | SNP | 0x400 | D | A | PS | 0x78 | R;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x5000);
	assert_int_equal(leaf.level, 1);
	assert_int_equal(leaf.size, 0x1000);
	*pte = 0x5000 | R;

	/* Table pointers: a table address above the width is reserved (level 3, 2 reads). */
	*pdpte = (1ULL << 45) | (BASE + 0x2000) | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 3, 2, &leaf, &f, &r);
	/* SNP (bit 11) in a non-leaf SS-PDPTE / SS-PDE / SS-PML4E is reserved. */
	*pdpte = (BASE + 0x2000) | SNP | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 3, PT_ANY, &leaf, &f, &r);
	*pdpte = (BASE + 0x2000) | 0x7;
	*pde = (BASE + 0x3000) | SNP | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 2, PT_ANY, &leaf, &f, &r);
	*pml4e = (BASE + 0x1000) | SNP | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 4, 1, &leaf, &f, &r);
	/* PS in an SS-PML4E is reserved. */
	*pml4e = (BASE + 0x1000) | PS | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 4, PT_ANY, &leaf, &f, &r);
	*pml4e = (BASE + 0x1000) | 0x7;
	/* Ignored in table pointers: 6:3, A, 9, 10, 63, 61:52. */
	*pde = 0xbff0000000000000ULL | (BASE + 0x3000) | 0x778 | 0x7;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	/* ... but bit 62 is reserved there too. */
	*pde = (1ULL << 62) | (BASE + 0x3000) | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 2, PT_ANY, &leaf, &f, &r);

	/* 2M page: bits 20:12 are reserved (no PAT in the second stage). */
	pt_intel_walk_2m(&c, &a, BASE, 0x200000 | PS | SNP | R, 0x200000 | 0x1000 | PS | R,
			 0x200000 | (1ULL << 20) | PS | R);

	/* 1G page: bits 29:12 reserved. */
	*pdpte = 0x40000000 | PS | R | W;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x3fffffff, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x7fffffff);
	assert_int_equal(leaf.level, 3);
	assert_int_equal(r.n, 2);
	pt_intel_walk_1g_reserved(&c, &a, BASE, 0x40000000 | (1ULL << 21) | PS | R,
				  0x40000000 | (1ULL << 12) | PS | R);

	/* Root above the width: reserved, no read. */
	pt_walk_fault(&c, &a, 1ULL << 40, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 4, 0, &leaf, &f, &r);

	/* SSLPS = 2M only: the 1G PS is reserved, a 2M page works. */
	c = mk(48, 40, PT_CFG_NO_1G);
	assert_int_equal(pt_cfg_init(&c), 0);
	pt_intel_walk_no_1g(&c, &a, BASE, R);
	/* SSLPS = 0: the 2M PS is reserved too. */
	c = mk(48, 40, PT_CFG_NO_1G | PT_CFG_NO_2M);
	assert_int_equal(pt_cfg_init(&c), 0);
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 2, 3, &leaf, &f, &r);
	pt_arena_destroy(&a);
}

static void test_walk_permissions(void **state)
{
	struct pt_cfg c = mk(48, 48, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	uint64_t *pml4e, *pdpte, *pde, *pte;

	pte = pt_chain4_setup(&c, &a, BASE, 0x7);
	pml4e = pt_at(&a, BASE);
	pdpte = pt_at(&a, BASE + 0x1000);
	pde = pt_at(&a, BASE + 0x2000);
	*pte = 0x5000 | R | W | X;

	/* W missing in the SS-PDPTE: a write faults right there (level 3, 2 reads). */
	*pdpte = (BASE + 0x2000) | R | X;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, 3, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, BASE + 0x1000);
	assert_int_equal(r.n, 2);
	/* A read works and the leaf reports the stacked rights (no W). */
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_X | PT_PROT_U);
	*pdpte = (BASE + 0x2000) | 0x7;

	/* R missing in the SS-PDE: a read faults at level 2; a write works. */
	*pde = (BASE + 0x3000) | W | X;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_PERMISSION, 2, 3, &leaf, &f, &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_W | PT_PROT_X | PT_PROT_U);
	/* Read + write needs both: faults at level 2. */
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_RW, PT_FAULT_PERMISSION, 2, PT_ANY, &leaf, &f,
		      &r);
	*pde = (BASE + 0x3000) | 0x7;

	/* Write-only leaf: read faults at level 1. */
	*pte = 0x5000 | W;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_PERMISSION, 1, 4, &leaf, &f, &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	/* Read-only leaf: write faults at level 1. */
	*pte = 0x5000 | R | X;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, 1, PT_ANY, &leaf, &f,
		      &r);
	*pte = 0x5000 | R | W | X;

	/* X missing in the SS-PML4E: an execute request faults at level 4; reads work. */
	*pml4e = (BASE + 0x1000) | R | W;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R | PT_PROT_X, PT_FAULT_PERMISSION, 4, 1, &leaf,
		      &f, &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_RW, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_U);
	*pml4e = (BASE + 0x1000) | 0x7;
	/* X missing in the leaf. */
	*pte = 0x5000 | R | W;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_X, PT_FAULT_PERMISSION, 1, PT_ANY, &leaf, &f,
		      &r);
	pt_arena_destroy(&a);
}

static void test_walk_hw_access_dirty(void **state)
{
	struct pt_cfg c = mk(48, 48, PT_CFG_HW_AD);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	uint64_t *pte;

	pte = pt_chain4_setup(&c, &a, BASE, 0x7);

	/* SSADE: a read sets A (bit 8) on every level walked; still 4 reads. */
	*pte = 0x5000 | R | W;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(r.n, 4);
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x107);
	assert_int_equal(*pt_at(&a, BASE + 0x1000), (BASE + 0x2000) | 0x107);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), (BASE + 0x3000) | 0x107);
	assert_int_equal(*pte, 0x5000 | 0x103);
	/* A write adds D (bit 9) on the leaf. */
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x5000 | 0x303);
	/* A first write to a clean page sets A and D at once. */
	*pte = 0x6000 | W;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x6000 | 0x302);

	/* A faulting write leaves the leaf untouched. */
	pt_chain4(&a, BASE, 0x7);
	*pte = 0x5000 | R;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, PT_ANY, PT_ANY, &leaf,
		      &f, &r);
	assert_int_equal(*pte, 0x5000 | R);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), (BASE + 0x3000) | 0x107);
	/* A table that denies the access is not marked accessed either; those above are. */
	pt_chain4(&a, BASE, 0x7);
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | R;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, 3, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x107);
	assert_int_equal(*pt_at(&a, BASE + 0x1000), (BASE + 0x2000) | R);
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 0x107;

	/* A 2M page written: A and D on the SS-PDE. */
	*pt_at(&a, BASE + 0x2000) = 0x200000 | PS | R | W;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), 0x200000 | 0x383);

	/*
	 * The leaf changes between its read and the A/D update: the update
	 * fails, the walk restarts (4 + 4 reads) and updates the new value.
	 * The racer sets bit 53, an ignored bit: a concurrent software update.
	 */
	{
		struct pt_racer rc = { .level = 1, .victim = pte, .bits = 1ULL << 53 };

		pt_chain4(&a, BASE, 0x7);
		*pte = 0x5000 | R | W;
		assert_int_equal(pt_walk_mem(&c, &a.mem, BASE, 0x1000, PT_PROT_W, &leaf, &f,
					     pt_race_read, &rc),
				 PT_OK);
		assert_int_equal(rc.r.n, 8);
		assert_int_equal(*pte, (1ULL << 53) | 0x5000 | 0x303);
		assert_int_equal(leaf.desc, (1ULL << 53) | 0x5000 | 0x3); /* as read */
	}
	/* The same for a table pointer: the restart happens after 3 reads (3 + 4). */
	{
		struct pt_racer rc = { .level = 2,
				       .victim = pt_at(&a, BASE + 0x2000),
				       .bits = 1ULL << 53 };

		pt_chain4(&a, BASE, 0x7);
		*pte = 0x5000 | R | W;
		assert_int_equal(pt_walk_mem(&c, &a.mem, BASE, 0x1000, PT_PROT_R, &leaf, &f,
					     pt_race_read, &rc),
				 PT_OK);
		assert_int_equal(rc.r.n, 7);
		assert_int_equal(*pt_at(&a, BASE + 0x2000), (1ULL << 53) | (BASE + 0x3000) | 0x107);
		assert_int_equal(*pte, 0x5000 | 0x103);
	}

	/* Without SSADE nothing is written. */
	c = mk(48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	pt_chain4(&a, BASE, 0x7);
	*pte = 0x5000 | R | W;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x5000 | R | W);
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x7);
	pt_arena_destroy(&a);
}

static void test_decode(void **state)
{
	struct pt_cfg c = mk(48, 40, 0);
	char buf[200];

	assert_int_equal(pt_cfg_init(&c), 0);
	pt_desc_decode(&c, 4, 0x1000 | 0x107, buf, sizeof(buf));
	assert_non_null(strstr(buf, "SS-PML4E table next=0x1000 rwx A=1"));
	pt_desc_decode(&c, 2, 0x800000b3ULL, buf, sizeof(buf));
	assert_non_null(strstr(buf, "2M page oa=0x80000000 rw- EMT=6"));
	assert_null(strstr(buf, "RSVD"));
	pt_desc_decode(&c, 1, 0x5000 | 0x302 | SNP, buf, sizeof(buf));
	assert_non_null(strstr(buf, "4K page oa=0x5000 -w-"));
	assert_non_null(strstr(buf, "A=1 D=1"));
	assert_non_null(strstr(buf, "SNP"));
	pt_desc_decode(&c, 1, 0x5004, buf, sizeof(buf));
	assert_non_null(strstr(buf, "not present"));
	pt_desc_decode(&c, 2, (1ULL << 62) | 0x3000 | 0x3, buf, sizeof(buf));
	assert_non_null(strstr(buf, "RSVD=0x4000000000000000"));
	pt_desc_decode(&c, 4, 0x1000 | PS | 0x3, buf, sizeof(buf));
	assert_non_null(strstr(buf, "PS (reserved here)"));
	pt_desc_decode(&c, 0, 0x3, buf, sizeof(buf));
	assert_non_null(strstr(buf, "out of range"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_descriptors_3_and_5_level),
		cmocka_unit_test(test_map_large_page_support),
		cmocka_unit_test(test_map_errors_leave_tables),
		cmocka_unit_test(test_unmap_splits_and_frees),
		cmocka_unit_test(test_walk_ok_and_not_present),
		cmocka_unit_test(test_walk_3_and_5_level),
		cmocka_unit_test(test_walk_reserved),
		cmocka_unit_test(test_walk_permissions),
		cmocka_unit_test(test_walk_hw_access_dirty),
		cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests_name("pt_vtd_ss", tests, NULL, NULL);
}
