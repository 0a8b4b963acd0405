// SPDX-License-Identifier: MIT
/*
 * x86-64 paging as the VT-d first stage: geometry, descriptors written by
 * map, unmap splitting, and walks of hand-built tables.
 *
 * Expected descriptor values are worked out by hand from the architecture
 * (Intel SDM vol. 3 §4.5, reference hw.md §2.2), each constant's bits
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

/* Low attribute bits, for reading the constants below. */
#define P   0x1ULL
#define RW  0x2ULL
#define US  0x4ULL
#define A   0x20ULL
#define D   0x40ULL
#define PS  0x80ULL
#define XD  (1ULL << 63)

static struct pt_cfg mk(unsigned int ias, unsigned int oas, unsigned int flags)
{
	struct pt_cfg c = { .format = PT_X86, .granule_shift = 12, .ias = ias, .oas = oas,
			    .flags = flags };

	return c;
}

/* ---------------------------------------------------------------------- */
/* Geometry                                                               */

static void test_geometry(void **state)
{
	struct pt_cfg c;

	/* 4-level, 48-bit: PML4 (level 4) at bit 39, then 30, 21, 12. */
	c = mk(48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.nlevels, 4);
	assert_int_equal(c.start_level, 4);
	assert_int_equal(c.level_step, -1);
	assert_int_equal(c.shift[0], 39);
	assert_int_equal(c.shift[1], 30);
	assert_int_equal(c.shift[2], 21);
	assert_int_equal(c.shift[3], 12);
	for (unsigned int d = 0; d < 4; d++)
		assert_int_equal(c.bits[d], 9);
	/* leaves at depths 1 (1G), 2 (2M), 3 (4K) */
	assert_int_equal(c.leaf_ok, 0xe);
	assert_int_equal(pt_level(&c, 3), 1);
	assert_int_equal(pt_table_size(&c, 0), 4096);
	assert_int_equal(pt_page_size(&c), 4096);

	/* 5-level, 57-bit: PML5 at bit 48. */
	c = mk(57, 52, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.nlevels, 5);
	assert_int_equal(c.start_level, 5);
	assert_int_equal(c.shift[0], 48);
	assert_int_equal(c.shift[4], 12);
	assert_int_equal(c.leaf_ok, 0x1c);

	/* FS1GP clear: no 1G leaves (depth 1), 2M and 4K remain. */
	c = mk(48, 48, PT_CFG_NO_1G);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.leaf_ok, 0xc);

	/* granule_shift 0 means 12; oas 32 and 52 are the limits. */
	c = mk(48, 32, 0);
	c.granule_shift = 0;
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.granule_shift, 12);
	c = mk(48, 52, 0);
	c.levels = 4;
	assert_int_equal(pt_cfg_init(&c), 0);

	/* Invalid: widths other than 48 / 57, oas out of 32..52, granules, NO_2M, base. */
	c = mk(39, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(47, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(64, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 31, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 53, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 48, 0);
	c.granule_shift = 16;
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 48, PT_CFG_NO_2M);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 48, 0);
	c.iova_base = 0x1000;
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(48, 48, 0);
	c.levels = 5;
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
}

/* ---------------------------------------------------------------------- */
/* Descriptors written by map                                             */

static void test_descriptors_4level(void **state)
{
	struct pt_cfg c = mk(48, 48, 0);
	struct pt_arena a;
	struct pt_table t;
	unsigned int prot;
	uint64_t pa;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x40000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	assert_int_equal(t.root, BASE);

	/*
	 * RW 4K page 0x1000 -> 0x40000000:
	 *   P 0x1 | R/W 0x2 | A 0x20 | D 0x40 = 0x63; XD bit 63 (not executable).
	 * Tables come from the arena in order: PDPT +0x1000, PD +0x2000, PT +0x3000.
	 */
	assert_int_equal(pt_map(&t, 0x1000, 0x40000000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x1000, PT_PROT_R, &level, &prot), 0x8000000040000063ULL);
	assert_int_equal(level, 1);
	assert_int_equal(prot, PT_PROT_R | PT_PROT_W);
	/* Table descriptors: next | P 0x1 | R/W 0x2 | U/S 0x4 | A 0x20 = 0x27, XD clear. */
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x27);
	assert_int_equal(*pt_at(&a, BASE + 0x1000), (BASE + 0x2000) | 0x27);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), (BASE + 0x3000) | 0x27);
	assert_int_equal(*pt_at(&a, BASE + 0x3000 + 8), 0x8000000040000063ULL);

	/* Read-only user: P 0x1 | U/S 0x4 | A 0x20 = 0x25 (no D: it cannot be written), XD. */
	assert_int_equal(pt_map(&t, 0x2000, 0x40001000, 0x1000, PT_PROT_R | PT_PROT_U), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x2000, PT_PROT_R | PT_PROT_U, &level, &prot),
			 0x8000000040001025ULL);
	assert_int_equal(prot, PT_PROT_R | PT_PROT_U);

	/* RWX user: 0x1 | 0x2 | 0x4 | 0x20 | 0x40 = 0x67, XD clear. */
	assert_int_equal(pt_map(&t, 0x3000, 0x40002000, 0x1000, PT_PROT_RW | PT_PROT_X | PT_PROT_U),
			 0);
	assert_int_equal(pt_leaf_desc(&t, 0x3000, PT_PROT_X | PT_PROT_U, &level, &prot),
			 0x0000000040002067ULL);
	assert_int_equal(prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);

	/* Write-only cannot be expressed: it maps read-write, 0x63 | XD. */
	assert_int_equal(pt_map(&t, 0x4000, 0x40003000, 0x1000, PT_PROT_W), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x4000, PT_PROT_R, &level, &prot), 0x8000000040003063ULL);

	/* Read + execute, supervisor: 0x1 | 0x20 = 0x21, XD clear. */
	assert_int_equal(pt_map(&t, 0x5000, 0x40004000, 0x1000, PT_PROT_R | PT_PROT_X), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x5000, PT_PROT_X, &level, &prot), 0x0000000040004021ULL);
	assert_int_equal(prot, PT_PROT_R | PT_PROT_X);

	/* 2M page at level 2: 0x63 | PS 0x80 = 0xe3, XD. One new PD entry, no new table. */
	assert_int_equal(pt_map(&t, 0x200000, 0x80000000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x3fffff, PT_PROT_W, &level, &prot),
			 0x80000000800000e3ULL);
	assert_int_equal(level, 2);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 8), 0x80000000800000e3ULL);
	assert_int_equal(t.nr_tables, 4);

	/* 1G page at level 3 in the PDPT: 0xe3 | XD. */
	assert_int_equal(pt_map(&t, 0x40000000, 0xc0000000, 0x40000000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x7fffffff, PT_PROT_R, &level, &prot),
			 0x80000000c00000e3ULL);
	assert_int_equal(level, 3);
	assert_int_equal(*pt_at(&a, BASE + 0x1000 + 8), 0x80000000c00000e3ULL);

	/* 1G read + execute user above 4G: P | U/S | A | PS = 0xa5. */
	assert_int_equal(pt_map(&t, 0x80000000, 0x100000000ULL, 0x40000000,
				PT_PROT_R | PT_PROT_X | PT_PROT_U),
			 0);
	assert_int_equal(pt_leaf_desc(&t, 0x80000000, PT_PROT_R, &level, &prot),
			 0x00000001000000a5ULL);
	assert_int_equal(prot, PT_PROT_R | PT_PROT_X | PT_PROT_U);

	/* A 2M-aligned range inside the 1G page: -EEXIST. */
	assert_int_equal(pt_map(&t, 0x40200000, 0x1000000, 0x400000, PT_PROT_RW), -EEXIST);

	/* Top of the 48-bit space: a new PML4 entry 511 -> a new chain of three tables. */
	assert_int_equal(pt_map(&t, 0xfffffffff000ULL, 0x7000, 0x1000, PT_PROT_R), 0);
	assert_int_equal(*pt_at(&a, BASE + 511 * 8), (BASE + 0x4000) | 0x27);
	assert_int_equal(pt_leaf_desc(&t, 0xffffffffffffULL, PT_PROT_R, &level, NULL),
			 0x8000000000007021ULL);

	assert_int_equal(pt_iova_to_phys(&t, 0x40123456, &pa), 0);
	assert_int_equal(pa, 0xc0123456);
	assert_int_equal(pt_iova_to_phys(&t, 0x3abc, &pa), 0);
	assert_int_equal(pa, 0x40002abc);
	assert_int_equal(pt_iova_to_phys(&t, 0x6000, &pa), -ENOENT);
	/* root + PDPT/PD/PT + PDPT/PD/PT */
	assert_int_equal(t.nr_tables, 7);
	assert_int_equal(a.tables_live, 7);
	pt_table_destroy(&t);
	assert_int_equal(a.tables_live, 0);
	pt_arena_destroy(&a);
}

static void test_descriptors_5level(void **state)
{
	struct pt_cfg c = mk(57, 52, 0);
	struct pt_arena a;
	struct pt_table t;
	struct pt_leaf leaf;
	struct pt_fault f;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x40000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);

	/*
	 * 4K at 2^48 (PML5 index 1) -> 0x5000, RW: 0x63 | XD. Tables at +0x1000
	 * (PML4) .. +0x4000 (PT). Output bits up to 51 are usable with oas 52.
	 */
	assert_int_equal(pt_map(&t, 1ULL << 48, 0x5000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 1ULL << 48, PT_PROT_W, &level, NULL),
			 0x8000000000005063ULL);
	assert_int_equal(level, 1);
	assert_int_equal(*pt_at(&a, BASE), 0);
	assert_int_equal(*pt_at(&a, BASE + 8), (BASE + 0x1000) | 0x27);
	assert_int_equal(t.nr_tables, 5);

	/* 1G at the top of the 57-bit space to output 0xf_ffff_c000_0000 (bits 51:30 set). */
	assert_int_equal(pt_map(&t, (1ULL << 57) - 0x40000000, 0xfffffc0000000ULL, 0x40000000,
				PT_PROT_RW | PT_PROT_X),
			 0);
	assert_int_equal(pt_leaf_desc(&t, (1ULL << 57) - 1, PT_PROT_X, &level, NULL),
			 0x000fffffc00000e3ULL);
	assert_int_equal(level, 3);
	assert_int_equal(*pt_at(&a, BASE + 511 * 8), (BASE + 0x5000) | 0x27);

	/* Beyond 57 bits: -ERANGE; a 2M leaf: 0xe3 | XD. */
	assert_int_equal(pt_map(&t, 1ULL << 57, 0x1000, 0x1000, PT_PROT_RW), -ERANGE);
	assert_int_equal(pt_map(&t, 0x200000, 0x400000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x200000, PT_PROT_R, &level, NULL),
			 0x80000000004000e3ULL);
	assert_int_equal(level, 2);

	/* Input at 2^57 faults before any read. */
	assert_int_equal(pt_table_walk(&t, 1ULL << 57, PT_PROT_R, &leaf, &f),
			 PT_FAULT_TRANSLATION);
	assert_int_equal(f.level, 5);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

static void test_map_no_1g_no_blocks(void **state)
{
	struct pt_cfg c = mk(48, 48, PT_CFG_NO_1G);
	struct pt_arena a;
	struct pt_table t;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x40000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	/* A 1G-aligned 1G range maps as 512 2M pages in one PD: 0xe3 | XD each. */
	assert_int_equal(pt_map(&t, 0x40000000, 0x80000000, 0x40000000, PT_PROT_RW), 0);
	assert_int_equal(t.nr_tables, 3);
	assert_int_equal(pt_leaf_desc(&t, 0x40000000, PT_PROT_R, &level, NULL),
			 0x80000000800000e3ULL);
	assert_int_equal(level, 2);
	assert_int_equal(pt_leaf_desc(&t, 0x7fe00000, PT_PROT_R, &level, NULL),
			 0x80000000bfe000e3ULL);
	pt_table_destroy(&t);

	/* PT_CFG_NO_BLOCKS: a 2M range maps as 512 4K pages (0x63 | XD). */
	c = mk(48, 48, PT_CFG_NO_BLOCKS);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	assert_int_equal(pt_map(&t, 0x200000, 0x600000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(t.nr_tables, 4);
	assert_int_equal(pt_leaf_desc(&t, 0x3ff000, PT_PROT_R, &level, NULL),
			 0x80000000007ff063ULL);
	assert_int_equal(level, 1);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

/* ---------------------------------------------------------------------- */
/* Map / unmap rules                                                      */

static const struct pt_map_err map_errors[] = {
	{ 0x1001, 0x1000, 0x1000, PT_PROT_RW, -EINVAL },
	{ 0x1000, 0x1001, 0x1000, PT_PROT_RW, -EINVAL },
	{ 0x1000, 0x1000, 0x1800, PT_PROT_RW, -EINVAL },
	{ 0x1000, 0x1000, 0, PT_PROT_RW, -EINVAL },
	{ 0x1000, 0x1000, 0x1000, 0, -EINVAL },
	{ 0x1000, 0x1000, 0x1000, PT_PROT_X | PT_PROT_U, -EINVAL },
	{ 0xfffffffffffff000ULL, 0x1000, 0x2000, PT_PROT_RW, -EOVERFLOW },
	{ 0x1000, 0xfffffffffffff000ULL, 0x2000, PT_PROT_RW, -EOVERFLOW },
	/* Input at 2^48 (no upper canonical half for DMA), and a range crossing it. */
	{ 1ULL << 48, 0x1000, 0x1000, PT_PROT_RW, -ERANGE },
	{ (1ULL << 48) - 0x1000, 0x1000, 0x2000, PT_PROT_RW, -ERANGE },
	{ 0xffff800000000000ULL, 0x1000, 0x1000, PT_PROT_RW, -ERANGE },
	/* Output beyond the 40-bit address width, and one ending just past it. */
	{ 0x1000, 1ULL << 40, 0x1000, PT_PROT_RW, -ERANGE },
	{ 0x1000, (1ULL << 40) - 0x1000, 0x2000, PT_PROT_RW, -ERANGE },
	/* Exact overlap, and overlap at the end of a range that needs new tables first. */
	{ 0x10001000, 0x5000, 0x1000, PT_PROT_RW, -EEXIST },
	{ 0x0f000000, 0x20000000, 0x1002000, PT_PROT_RW, -EEXIST },
	/* A range spanning a fresh 1G region (new PD) up to the conflict. */
	{ 0x10002000, 0x30000000, 0x40000000, PT_PROT_RW, -EEXIST },
	/* A 2M page over the PT that holds the mapping. */
	{ 0x10000000, 0x30000000, 0x200000, PT_PROT_RW, -EEXIST },
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
	pt_map_errors_keep(&t, map_errors, sizeof(map_errors) / sizeof(map_errors[0]), &before,
			   &after);
	assert_int_equal(a.tables_live, t.nr_tables);
	assert_int_equal(before.n, 3);
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
	/* One 1G page: PML4 + PDPT (+0x1000). */
	assert_int_equal(pt_map(&t, 0x40000000, 0x80000000, 0x40000000, PT_PROT_RW | PT_PROT_U),
			 0);
	assert_int_equal(t.nr_tables, 2);

	/* Cut one 4K page out: 1G -> 512 x 2M (PD at +0x2000) -> 512 x 4K (PT at +0x3000). */
	assert_int_equal(pt_unmap(&t, 0x40201000, 0x1000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1000);
	assert_int_equal(t.nr_tables, 4);
	/* The PDPT entry is now a table pointer: next | 0x27. */
	assert_int_equal(*pt_at(&a, BASE + 0x1000 + 8), (BASE + 0x2000) | 0x27);
	/* 2M children keep the attributes: P|RW|US|A|D|PS = 0xe7, XD. */
	assert_int_equal(*pt_at(&a, BASE + 0x2000), 0x80000000800000e7ULL);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 511 * 8), 0x80000000bfe000e7ULL);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 8), (BASE + 0x3000) | 0x27);
	/* 4K grandchildren lose PS: 0x67, XD. */
	assert_int_equal(*pt_at(&a, BASE + 0x3000), 0x8000000080200067ULL);
	assert_int_equal(*pt_at(&a, BASE + 0x3000 + 8), 0);
	assert_int_equal(*pt_at(&a, BASE + 0x3000 + 2 * 8), 0x8000000080202067ULL);
	assert_int_equal(pt_leaf_desc(&t, 0x40202000, PT_PROT_W | PT_PROT_U, &level, NULL),
			 0x8000000080202067ULL);
	assert_int_equal(level, 1);

	assert_int_equal(pt_iova_to_phys(&t, 0x40201000, &pa), -ENOENT);
	assert_int_equal(pt_iova_to_phys(&t, 0x40200fff, &pa), 0);
	assert_int_equal(pa, 0x80200fff);
	assert_int_equal(pt_iova_to_phys(&t, 0x7fffffff, &pa), 0);
	assert_int_equal(pa, 0xbfffffff);
	pt_for_each_leaf(&t, 0, UINT64_MAX, pt_leaves_collect, &l);
	assert_int_equal(l.n, 511 + 511);

	/* Unmap a 2M page whole (no split) and a range with a hole. */
	assert_int_equal(pt_unmap(&t, 0x40400000, 0x200000, &unmapped), 0);
	assert_int_equal(unmapped, 0x200000);
	assert_int_equal(t.nr_tables, 4);
	assert_int_equal(pt_unmap(&t, 0x40200000, 0x4000, &unmapped), 0);
	assert_int_equal(unmapped, 0x3000);

	/* Unmapping the rest of the PT frees it; everything frees all but the root. */
	assert_int_equal(pt_unmap(&t, 0x40204000, 0x1fc000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1fc000);
	assert_int_equal(t.nr_tables, 3);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 8), 0);
	assert_int_equal(pt_unmap(&t, 0, 1ULL << 48, &unmapped), 0);
	assert_int_equal(unmapped, 0x40000000 - 0x400000);
	assert_int_equal(t.nr_tables, 1);
	assert_int_equal(a.tables_live, 1);
	assert_int_equal(*pt_at(&a, BASE), 0);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

static void test_split_moves_pat(void **state)
{
	struct pt_cfg c = mk(48, 48, 0);
	struct pt_arena a;
	struct pt_table t;
	uint64_t unmapped;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x40000), 0);
	assert_int_equal(pt_table_init(&t, &c, &a.mem), 0);
	/* 2M page at 0x200000 in the PD at +0x2000, index 1: 0xe3 | XD. */
	assert_int_equal(pt_map(&t, 0x200000, 0x800000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 8), 0x80000000008000e3ULL);
	/* Give it a memory type: PCD (bit 4) and PAT, which sits at bit 12 in a large page. */
	*pt_at(&a, BASE + 0x2000 + 8) |= 0x10 | 0x1000;

	/*
	 * Splitting into 4K PTEs (PT at +0x3000) keeps PCD and moves PAT to
	 * bit 7: 0x63 | 0x10 | 0x80 = 0xf3, XD.
	 */
	assert_int_equal(pt_unmap(&t, 0x3ff000, 0x1000, &unmapped), 0);
	assert_int_equal(*pt_at(&a, BASE + 0x2000 + 8), (BASE + 0x3000) | 0x27);
	assert_int_equal(*pt_at(&a, BASE + 0x3000), 0x80000000008000f3ULL);
	assert_int_equal(*pt_at(&a, BASE + 0x3000 + 510 * 8), 0x80000000009fe0f3ULL);
	assert_int_equal(*pt_at(&a, BASE + 0x3000 + 511 * 8), 0);

	/* 1G with PAT split into 2M: PAT stays at bit 12, PS stays. 0xe3 | 0x1000. */
	assert_int_equal(pt_map(&t, 0x40000000, 0x40000000, 0x40000000, PT_PROT_RW), 0);
	*pt_at(&a, BASE + 0x1000 + 8) |= 0x1000;
	assert_int_equal(pt_unmap(&t, 0x40000000, 0x200000, &unmapped), 0);
	assert_int_equal(unmapped, 0x200000);
	assert_int_equal(*pt_at(&a, BASE + 0x4000), 0);
	assert_int_equal(*pt_at(&a, BASE + 0x4000 + 8), 0x80000000402010e3ULL);
	pt_table_destroy(&t);
	pt_arena_destroy(&a);
}

/* ---------------------------------------------------------------------- */
/* Walks of hand-built tables                                             */

/*
 * The walks below start from pt_chain4_setup(..., 0x7): PML4 @BASE, PDPT @+0x1000,
 * PD @+0x2000, PT @+0x3000; P|RW|US, A clear.
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

	/* RW user page: exactly 4 reads, PML4E .. PTE, levels 4..1. */
	*pte = 0x5000 | P | RW | US;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1234, PT_PROT_W | PT_PROT_U, &leaf, &f, &r),
			 PT_OK);
	assert_int_equal(leaf.oa, 0x5234);
	assert_int_equal(leaf.size, 0x1000);
	assert_int_equal(leaf.level, 1);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	assert_int_equal(leaf.desc, 0x5007);
	assert_int_equal(leaf.desc_addr, BASE + 0x3008);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.addr[0], BASE);
	assert_int_equal(r.addr[1], BASE + 0x1000);
	assert_int_equal(r.addr[2], BASE + 0x2000);
	assert_int_equal(r.addr[3], BASE + 0x3008);
	assert_int_equal(r.level[0], 4);
	assert_int_equal(r.level[3], 1);
	/* Without HW_AD nothing is written. */
	assert_int_equal(*pte, 0x5007);
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x7);

	/* Root pointer low bits are ignored. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(pt_walk_mem(&c, &a.mem, BASE | 0x18, 0x1000, PT_PROT_R, &leaf, &f,
				     pt_reads_count, &r),
			 PT_OK);
	assert_int_equal(r.addr[0], BASE);

	/* Not present at each level: P clear (other bits ignored), n reads. */
	*pte = 0x5000 | RW | US;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 1, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, BASE + 0x3008);
	assert_int_equal(f.desc, 0x5006);
	assert_int_equal(r.n, 4);
	*pte = 0x5000 | P;

	*pt_at(&a, BASE + 0x2000) = (BASE + 0x3000) | 0x6;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 2, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, BASE + 0x2000);
	assert_int_equal(r.n, 3);
	*pt_at(&a, BASE + 0x2000) = (BASE + 0x3000) | 0x7;

	/* PDPTE not present; even with reserved-looking bits it is just not present. */
	*pt_at(&a, BASE + 0x1000) = 0xfffffffffffffffeULL;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 3, 2, &leaf, &f, &r);
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 0x7;

	/* PML4E not present: a different index (iova 2^39 -> PML4 index 1). */
	pt_walk_fault(&c, &a, BASE, 1ULL << 39, PT_PROT_R, PT_FAULT_TRANSLATION, 4, PT_ANY, &leaf,
		      &f, &r);
	assert_int_equal(f.desc_addr, BASE + 8);
	assert_int_equal(r.n, 1);

	/* Non-canonical / out of range input: translation fault at level 4, no read. */
	pt_walk_fault(&c, &a, BASE, 1ULL << 48, PT_PROT_R, PT_FAULT_TRANSLATION, 4, 0, &leaf, &f,
		      &r);
	pt_walk_fault(&c, &a, BASE, 0xffff800000001000ULL, PT_PROT_R, PT_FAULT_TRANSLATION, PT_ANY,
		      0, &leaf, &f, &r);

	/* Next table outside the arena: walk abort at level 1, nothing read outside. */
	*pt_at(&a, BASE + 0x2000) = 0x7000000ULL | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_EXT_ABORT, 1, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, 0x7000008);
	assert_int_equal(r.n, 3);
	*pt_at(&a, BASE + 0x2000) = (BASE + 0x3000) | 0x7;

	/*
	 * A loop: the PML4E points back at the PML4. The walk still reads
	 * exactly four descriptors and ends at level 1, where the same
	 * descriptor reads as a PTE mapping the PML4 itself.
	 */
	*pt_at(&a, BASE) = BASE | 0x7;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x123, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(r.n, 4);
	assert_int_equal(leaf.level, 1);
	assert_int_equal(leaf.oa, BASE + 0x123);
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
	*pte = 0x5000 | P | RW;

	/* Output address bit 40 with a 40-bit width: reserved at level 1. */
	*pte = (1ULL << 40) | 0x5000 | P | RW;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 1, PT_ANY, &leaf, &f, &r);
	assert_int_equal(f.desc, (1ULL << 40) | 0x5003);
	/* Bit 51, the top address bit: still reserved. */
	*pte = (1ULL << 51) | 0x5000 | P;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, PT_ANY, PT_ANY, &leaf, &f,
		      &r);
	/* Bit 39 is a valid address bit. */
	*pte = (1ULL << 39) | 0x5000 | P;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, (1ULL << 39) | 0x5000);
	/* Ignored bits 62:52, XD and PAT in a PTE: fine. */
	*pte = 0x7ff0000000000000ULL | XD | 0x5000 | 0x80 | P;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x5000);
	assert_int_equal(leaf.prot & PT_PROT_X, 0);
	*pte = 0x5000 | P | RW;

	/* A table address above the width in the PDPTE: reserved at level 3, 2 reads. */
	*pdpte = (1ULL << 45) | (BASE + 0x2000) | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 3, 2, &leaf, &f, &r);
	/* Ignored bits in table entries: bit 6 (D), bit 8 (G), 11:9, 62:52. */
	*pdpte = 0x7ff0000000000000ULL | (BASE + 0x2000) | 0xf40 | 0x7;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	*pdpte = (BASE + 0x2000) | 0x7;

	/* PS in the PML4E is reserved: fault at level 4 after one read. */
	*pml4e = (BASE + 0x1000) | PS | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 4, 1, &leaf, &f, &r);
	*pml4e = (BASE + 0x1000) | 0x7;

	/* 2M page: PAT (bit 12) is fine, bit 13 (and up to 20) is reserved. */
	pt_intel_walk_2m(&c, &a, BASE, 0x200000 | 0x1000 | PS | P, 0x200000 | 0x2000 | PS | P,
			 0x200000 | (1ULL << 20) | PS | P);

	/* 1G page: bits 29:13 reserved, 30 is address. */
	*pdpte = 0x40000000 | PS | P;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x12345678, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x52345678);
	assert_int_equal(leaf.size, 0x40000000);
	assert_int_equal(leaf.level, 3);
	assert_int_equal(r.n, 2);
	pt_intel_walk_1g_reserved(&c, &a, BASE, 0x40000000 | (1ULL << 29) | PS | P,
				  0x40000000 | (1ULL << 13) | PS | P);

	/* Root above the address width: reserved, no read. */
	pt_walk_fault(&c, &a, 1ULL << 40, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 4, 0, &leaf, &f, &r);

	/* With NO_1G (FS1GP clear) a PDPTE's PS bit is reserved, while a 2M page still works. */
	c = mk(48, 40, PT_CFG_NO_1G);
	assert_int_equal(pt_cfg_init(&c), 0);
	pt_intel_walk_no_1g(&c, &a, BASE, P);

	/* With a 52-bit width, bit 51 is an address bit. */
	c = mk(48, 52, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	*pde = (BASE + 0x3000) | 0x7;
	*pte = (1ULL << 51) | 0x5000 | P;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, (1ULL << 51) | 0x5000);
	pt_arena_destroy(&a);
}

static void test_walk_5level(void **state)
{
	struct pt_cfg c = mk(57, 48, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	uint64_t iova = (1ULL << 48) | 0x1000; /* PML5 index 1, then 0, 0, 0, 1 */

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x10000), 0);
	*pt_at(&a, BASE + 8) = (BASE + 0x1000) | 0x7;
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 0x7;
	*pt_at(&a, BASE + 0x2000) = (BASE + 0x3000) | 0x7;
	*pt_at(&a, BASE + 0x3000) = (BASE + 0x4000) | 0x7;
	*pt_at(&a, BASE + 0x4000 + 8) = 0x9000 | P | RW;
	assert_int_equal(pt_test_walk(&c, &a, BASE, iova | 0x42, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x9042);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.addr[0], BASE + 8);
	assert_int_equal(r.level[0], 5);
	assert_int_equal(r.addr[4], BASE + 0x4008);

	/* PS in the PML5E: reserved at level 5. */
	*pt_at(&a, BASE + 8) = (BASE + 0x1000) | PS | 0x7;
	pt_walk_fault(&c, &a, BASE, iova, PT_PROT_R, PT_FAULT_RESERVED, 5, 1, &leaf, &f, &r);
	/* Not present PML5E (index 0). */
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 5, PT_ANY, &leaf, &f,
		      &r);
	/* Beyond 57 bits. */
	pt_walk_fault(&c, &a, BASE, 1ULL << 57, PT_PROT_R, PT_FAULT_TRANSLATION, 5, 0, &leaf, &f,
		      &r);
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
	*pte = 0x5000 | P | RW | US;

	/* Read-only PTE: write faults at level 1; read works and reports no W. */
	*pte = 0x5000 | P | US;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, 1, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, BASE + 0x3008);
	assert_int_equal(r.n, 4);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_X | PT_PROT_U);
	*pte = 0x5000 | P | RW | US;

	/* R/W clear in the PDPTE only: writes below fault (at the leaf), reads work. */
	*pdpte = (BASE + 0x2000) | P | US;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, 1, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R | PT_PROT_U, &leaf, &f, &r),
			 PT_OK);
	assert_int_equal(leaf.prot & PT_PROT_W, 0);
	*pdpte = (BASE + 0x2000) | 0x7;

	/* U/S clear in the PDE: a user request faults, a supervisor one works without U. */
	*pde = (BASE + 0x3000) | P | RW;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R | PT_PROT_U, PT_FAULT_PERMISSION, 1, PT_ANY,
		      &leaf, &f, &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_X);
	*pde = (BASE + 0x3000) | 0x7;

	/* Supervisor PTE, user write: permission fault. */
	*pte = 0x5000 | P | RW;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W | PT_PROT_U, PT_FAULT_PERMISSION, PT_ANY,
		      PT_ANY, &leaf, &f, &r);
	*pte = 0x5000 | P | RW | US;

	/* XD in the PML4E removes execute for everything below; reads still work. */
	*pml4e = XD | (BASE + 0x1000) | 0x7;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R | PT_PROT_X, PT_FAULT_PERMISSION, 1, PT_ANY,
		      &leaf, &f, &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R | PT_PROT_W, &leaf, &f, &r),
			 PT_OK);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_U);
	*pml4e = (BASE + 0x1000) | 0x7;
	/* XD in the leaf itself. */
	*pte = XD | 0x5000 | P | RW | US;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_X, PT_FAULT_PERMISSION, PT_ANY, PT_ANY, &leaf,
		      &f, &r);
	*pte = 0x5000 | P | RW | US;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_X | PT_PROT_U, &leaf, &f, &r),
			 PT_OK);

	/* A 2M page under a read-only PDPTE: write faults at level 2. */
	*pdpte = (BASE + 0x2000) | P | US;
	*pde = 0x400000 | PS | P | RW | US;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, 2, 3, &leaf, &f, &r);
	pt_arena_destroy(&a);
}

static void test_walk_hw_access_dirty(void **state)
{
	struct pt_cfg c = mk(48, 48, PT_CFG_HW_AD);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	struct pt_racer rc = { .level = 1, .bits = 1ULL << 52 };
	uint64_t *pte;

	pte = pt_chain4_setup(&c, &a, BASE, 0x7);

	/* A read sets A (0x20) on every level walked, not D. Still 4 reads. */
	*pte = 0x5000 | P | RW | US;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(r.n, 4);
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x27);
	assert_int_equal(*pt_at(&a, BASE + 0x1000), (BASE + 0x2000) | 0x27);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), (BASE + 0x3000) | 0x27);
	assert_int_equal(*pte, 0x5000 | 0x27);
	/* A write adds D (0x40) on the leaf only. */
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x5000 | 0x67);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), (BASE + 0x3000) | 0x27);
	/* A first write to a clean page sets A and D in one update. */
	*pte = 0x6000 | P | RW;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x6000 | 0x63);

	/* A faulting write leaves the leaf untouched (tables above were used: A set). */
	pt_chain4(&a, BASE, 0x7);
	*pte = 0x5000 | P;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, PT_ANY, PT_ANY, &leaf,
		      &f, &r);
	assert_int_equal(*pte, 0x5000 | P);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), (BASE + 0x3000) | 0x27);
	/* So does a reserved-bit fault in the leaf. */
	*pte = (1ULL << 50) | 0x5000 | P;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, PT_ANY, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(*pte, (1ULL << 50) | 0x5000 | P);

	/* A 2M page written: A and D on the PDE. */
	*pt_at(&a, BASE + 0x2000) = 0x200000 | PS | P | RW;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pt_at(&a, BASE + 0x2000), 0x200000 | 0xe3);

	/*
	 * The PTE changes between the read and the A update: the update fails,
	 * the walk restarts and reads all four levels again, then sets A on
	 * the new value.
	 */
	*pt_at(&a, BASE + 0x2000) = (BASE + 0x3000) | 0x27;
	*pte = 0x5000 | P | RW;
	/* The racer sets bit 52, an ignored bit: a concurrent software update. */
	rc.victim = pte;
	assert_int_equal(pt_walk_mem(&c, &a.mem, BASE, 0x1000, PT_PROT_R, &leaf, &f, pt_race_read,
				     &rc),
			 PT_OK);
	assert_int_equal(rc.r.n, 8);
	assert_int_equal(*pte, (1ULL << 52) | 0x5000 | 0x23);
	assert_int_equal(leaf.desc, (1ULL << 52) | 0x5000 | 0x3);

	/* Without HW_AD the same walks write nothing. */
	c = mk(48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	pt_chain4(&a, BASE, 0x7);
	*pte = 0x5000 | P | RW;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x5000 | P | RW);
	assert_int_equal(*pt_at(&a, BASE), (BASE + 0x1000) | 0x7);
	pt_arena_destroy(&a);
}

static void test_decode(void **state)
{
	struct pt_cfg c = mk(48, 40, 0);
	char buf[200];

	assert_int_equal(pt_cfg_init(&c), 0);
	pt_desc_decode(&c, 4, 0x1000 | 0x27, buf, sizeof(buf));
	assert_non_null(strstr(buf, "table next=0x1000"));
	assert_non_null(strstr(buf, "rw user"));
	pt_desc_decode(&c, 2, 0x80000000800000e3ULL, buf, sizeof(buf));
	assert_non_null(strstr(buf, "2M page oa=0x80000000"));
	assert_non_null(strstr(buf, " XD"));
	assert_null(strstr(buf, "RSVD"));
	pt_desc_decode(&c, 1, 0x5000, buf, sizeof(buf));
	assert_non_null(strstr(buf, "not present"));
	pt_desc_decode(&c, 3, (1ULL << 44) | 0x40000000 | 0xa1, buf, sizeof(buf));
	assert_non_null(strstr(buf, "1G page"));
	assert_non_null(strstr(buf, "RSVD=0x100000000000"));
	pt_desc_decode(&c, 4, 0x1000 | 0xa1, buf, sizeof(buf));
	assert_non_null(strstr(buf, "PS (reserved here)"));
	pt_desc_decode(&c, 7, 0x1, buf, sizeof(buf));
	assert_non_null(strstr(buf, "out of range"));
	/* A short buffer is truncated, not overrun. */
	memset(buf, 'x', sizeof(buf));
	pt_desc_decode(&c, 2, 0x80000000800000e3ULL, buf, 8);
	assert_int_equal(strlen(buf), 7);
	assert_int_equal(buf[8], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_descriptors_4level),
		cmocka_unit_test(test_descriptors_5level),
		cmocka_unit_test(test_map_no_1g_no_blocks),
		cmocka_unit_test(test_map_errors_leave_tables),
		cmocka_unit_test(test_unmap_splits_and_frees),
		cmocka_unit_test(test_split_moves_pat),
		cmocka_unit_test(test_walk_ok_and_not_present),
		cmocka_unit_test(test_walk_reserved),
		cmocka_unit_test(test_walk_5level),
		cmocka_unit_test(test_walk_permissions),
		cmocka_unit_test(test_walk_hw_access_dirty),
		cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests_name("pt_x86", tests, NULL, NULL);
}
