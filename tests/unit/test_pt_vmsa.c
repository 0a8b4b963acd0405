// SPDX-License-Identifier: MIT
/*
 * VMSAv8-64 stage 1 and stage 2: geometry, descriptors and faults.
 *
 * Expected descriptor values are worked out by hand from the architecture
 * (each constant's bits are spelled out beside it), never taken from the
 * code under test. Fault tests build tables by hand in an arena and walk
 * them.
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

static struct pt_cfg mk(enum pt_format f, unsigned int g, unsigned int ias, unsigned int oas,
			int sl0)
{
	struct pt_cfg c = { .format = f, .granule_shift = g, .ias = ias, .oas = oas, .sl0 = sl0 };

	return c;
}

/* ---------------------------------------------------------------------- */
/* Geometry                                                               */

static void test_s1_geometry(void **state)
{
	struct pt_cfg c;

	/* 4K, 48-bit: levels 0..3 at bits 39, 30, 21, 12; root 9 bits. */
	c = mk(PT_VMSA_S1, 12, 48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 0);
	assert_int_equal(c.nlevels, 4);
	assert_int_equal(c.shift[0], 39);
	assert_int_equal(c.shift[3], 12);
	assert_int_equal(c.bits[0], 9);
	/* blocks at L1 and L2 only, pages at L3 */
	assert_int_equal(c.leaf_ok, 0xe);

	/* 4K, 39-bit (T0SZ 25): start at level 1. */
	c = mk(PT_VMSA_S1, 12, 39, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 1);
	assert_int_equal(c.nlevels, 3);

	/* 4K, 40-bit: level 0 with one index bit. */
	c = mk(PT_VMSA_S1, 12, 40, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 0);
	assert_int_equal(c.bits[0], 1);

	/* 16K, 48-bit: 4 - 44/11 = level 0 resolving bit 47 only; blocks at L2 (32M). */
	c = mk(PT_VMSA_S1, 14, 48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 0);
	assert_int_equal(c.shift[0], 47);
	assert_int_equal(c.bits[0], 1);
	assert_int_equal(c.shift[2], 25);
	assert_int_equal(c.leaf_ok, 0x4 | 0x8);

	/* 64K, 48-bit: 4 - 44/13 = level 1 at bit 42, 6 root bits; 512M blocks at L2. */
	c = mk(PT_VMSA_S1, 16, 48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 1);
	assert_int_equal(c.nlevels, 3);
	assert_int_equal(c.shift[0], 42);
	assert_int_equal(c.bits[0], 6);
	assert_int_equal(c.shift[1], 29);
	assert_int_equal(c.leaf_ok, 0x2 | 0x4);

	/* T0SZ out of range, bad granule, bad IPS. */
	c = mk(PT_VMSA_S1, 12, 24, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(PT_VMSA_S1, 12, 49, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(PT_VMSA_S1, 13, 48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(PT_VMSA_S1, 12, 48, 46, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
}

static void test_s2_geometry(void **state)
{
	struct pt_cfg c;

	/* hw.md §3.3: 4K, 40-bit IPA, SL0=1 -> level 1 with 2 concatenated tables. */
	c = mk(PT_VMSA_S2, 12, 40, 48, 1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 1);
	assert_int_equal(c.concat, 2);
	assert_int_equal(c.bits[0], 10);
	assert_int_equal(pt_table_size(&c, 0), 8192);
	/* ... and SL0=0 would need 1024 tables: illegal. */
	c = mk(PT_VMSA_S2, 12, 40, 48, 0);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	/* Automatic SL0 picks the same deepest legal level. */
	c = mk(PT_VMSA_S2, 12, 40, 48, -1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.sl0, 1);
	assert_int_equal(c.concat, 2);

	/* 4K, 42-bit at level 1: 12 root bits = 8 tables; 43-bit = 16; 44-bit illegal at L1. */
	c = mk(PT_VMSA_S2, 12, 42, 48, 1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.concat, 8);
	c = mk(PT_VMSA_S2, 12, 43, 48, 1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.concat, 16);
	c = mk(PT_VMSA_S2, 12, 44, 48, 1);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);

	/* 4K 48-bit: SL0=2 is level 0; automatic chooses it too (L1 would need 512 tables). */
	c = mk(PT_VMSA_S2, 12, 48, 48, -1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 0);
	assert_int_equal(c.sl0, 2);
	assert_int_equal(c.concat, 1);

	/* 4K SL0=3 needs TTST/LPA2; 64K SL0=3 is reserved. */
	c = mk(PT_VMSA_S2, 12, 32, 48, 3);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
	c = mk(PT_VMSA_S2, 16, 40, 48, 3);
	assert_int_equal(pt_cfg_init(&c), -EINVAL);

	/* 64K: SL0=0 is level 3 (bits 16..), 1 = level 2 (29..), 2 = level 1 (42..). */
	c = mk(PT_VMSA_S2, 16, 40, 48, 1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 2);
	assert_int_equal(c.bits[0], 11);
	assert_int_equal(c.concat, 1);
	c = mk(PT_VMSA_S2, 16, 33, 48, 0); /* level 3 resolves 17 bits: 16 tables of 8192 */
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 3);
	assert_int_equal(c.concat, 16);

	/* 16K: SL0=1 is level 2 (bits 25..); 40-bit -> 15 bits = 16 tables. */
	c = mk(PT_VMSA_S2, 14, 40, 48, 1);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(c.start_level, 2);
	assert_int_equal(c.concat, 16);

	/* A start level too deep for the IPA size: the root would resolve no bits. */
	c = mk(PT_VMSA_S2, 12, 30, 48, 2); /* level 0 starts at bit 39 > 30 */
	assert_int_equal(pt_cfg_init(&c), -EINVAL);
}

/* ---------------------------------------------------------------------- */
/* Descriptors written by map                                             */

static void test_s1_descriptors_4k(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S1, 12, 48, 48, 0);
	struct pt_table t;
	uint64_t pa;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &pt_mem_host), 0);

	/*
	 * RW 4K page -> 0x40000000:
	 *   [1:0] 0b11 page, SH [9:8] = 0b11, AF bit 10, nG bit 11  -> 0xf03
	 *   AP[2:1] = 00 (RW, no EL0); PXN bit 53 + UXN bit 54       -> 0x0060...
	 */
	assert_int_equal(pt_map(&t, 0x1000, 0x40000000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x1000, PT_PROT_R, &level, NULL), 0x0060000040000f03ULL);
	assert_int_equal(level, 3);

	/* Read-only adds AP[2] (bit 7, 0x80); EL0 access adds AP[1] (bit 6, 0x40). */
	assert_int_equal(pt_map(&t, 0x2000, 0x40001000, 0x1000, PT_PROT_R | PT_PROT_U), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x2000, PT_PROT_R, &level, NULL), 0x0060000040001fc3ULL);

	/* Executable: no PXN / UXN. */
	assert_int_equal(pt_map(&t, 0x3000, 0x40002000, 0x1000, PT_PROT_RW | PT_PROT_X), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x3000, PT_PROT_R, &level, NULL), 0x0000000040002f03ULL);

	/* 2M block at level 2: [1:0] = 0b01. */
	assert_int_equal(pt_map(&t, 0x200000, 0x80000000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x3ff000, PT_PROT_R, &level, NULL),
			 0x0060000080000f01ULL);
	assert_int_equal(level, 2);

	/* 1G block at level 1. */
	assert_int_equal(pt_map(&t, 0x40000000, 0xc0000000, 0x40000000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x7fffffff, PT_PROT_R, &level, NULL),
			 0x00600000c0000f01ULL);
	assert_int_equal(level, 1);

	/* A 2M-aligned 4M range at 1G+2M... already mapped: -EEXIST. */
	assert_int_equal(pt_map(&t, 0x40200000, 0x1000000, 0x400000, PT_PROT_RW), -EEXIST);

	/* Table descriptors: the root entry 0 is (L1 table address) | 0b11. */
	{
		uint64_t root0 = ((uint64_t *)t.root_ptr)[0];

		assert_int_equal(root0 & 0xfff, 0x003);
		assert_true((root0 & ~0xfffULL) != 0);
	}

	assert_int_equal(pt_iova_to_phys(&t, 0x40123456, &pa), 0);
	assert_int_equal(pa, 0xc0123456);
	assert_int_equal(pt_iova_to_phys(&t, 0x5000, &pa), -ENOENT);
	/* root + L1 + L2 + one L3 table */
	assert_int_equal(t.nr_tables, 4);
	pt_table_destroy(&t);
}

static void test_s1_descriptors_16k_64k(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S1, 14, 48, 48, 0);
	struct pt_table t;
	int level;

	/* 16K: 32M block at L2 -> 0x4000000 | 0xf01 | PXN | UXN. */
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &pt_mem_host), 0);
	assert_int_equal(pt_map(&t, 0x2000000, 0x4000000, 0x2000000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x2000000, PT_PROT_R, &level, NULL),
			 0x0060000004000f01ULL);
	assert_int_equal(level, 2);
	/* 16K page at L3. */
	assert_int_equal(pt_map(&t, 0x4000, 0x8000, 0x4000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x7fff, PT_PROT_R, &level, NULL), 0x0060000000008f03ULL);
	assert_int_equal(level, 3);
	/* 16K has no 64G L1 block without LPA2: 64G maps as 2048 32M blocks. */
	assert_int_equal(pt_map(&t, 0x1000000000ULL, 0x1000000000ULL, 0x1000000000ULL, PT_PROT_R),
			 0);
	assert_int_equal(pt_leaf_desc(&t, 0x1000000000ULL, PT_PROT_R, &level, NULL),
			 0x0060001000000f81ULL);
	assert_int_equal(level, 2);
	pt_table_destroy(&t);

	/* 64K: 512M block at L2, 64K page at L3. */
	c = mk(PT_VMSA_S1, 16, 48, 48, 0);
	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &pt_mem_host), 0);
	assert_int_equal(pt_map(&t, 0x20000000, 0x60000000, 0x20000000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x20000000, PT_PROT_R, &level, NULL),
			 0x0060000060000f01ULL);
	assert_int_equal(level, 2);
	assert_int_equal(pt_map(&t, 0x10000, 0x30000, 0x10000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x1ffff, PT_PROT_R, &level, NULL), 0x0060000000030f03ULL);
	/* 4K-aligned but not 64K-aligned: -EINVAL */
	assert_int_equal(pt_map(&t, 0x41000, 0x30000, 0x10000, PT_PROT_RW), -EINVAL);
	pt_table_destroy(&t);
}

static void test_s2_descriptors(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S2, 12, 40, 48, 1);
	struct pt_table t;
	uint64_t pa;
	int level;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &pt_mem_host), 0);
	/* Root of 2 concatenated tables: 8 KiB. */
	assert_int_equal(t.table_bytes, 8192);

	/*
	 * RW page: 0b11 | MemAttr 0b1111 << 2 (0x3c) | S2AP 0b11 << 6 (0xc0) |
	 * SH 0x300 | AF 0x400 = 0x7ff; XN[1] bit 54 = 0x0040...
	 */
	assert_int_equal(pt_map(&t, 0x10000000000ULL - 0x1000, 0x12345000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x10000000000ULL - 0x1000, PT_PROT_R, &level, NULL),
			 0x00400000123457ffULL);
	/* That IPA is in the second concatenated table: root index 511 + 512 = 1023... */
	assert_true(((uint64_t *)t.root_ptr)[1023] != 0);
	assert_true(((uint64_t *)t.root_ptr)[511] == 0);

	/* Write-only: S2AP = 0b10 -> 0x7bf; read-only 0b01 -> 0x77f. */
	assert_int_equal(pt_map(&t, 0x1000, 0x2000, 0x1000, PT_PROT_W), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x1000, PT_PROT_W, &level, NULL), 0x00400000000027bfULL);
	assert_int_equal(pt_map(&t, 0x2000, 0x3000, 0x1000, PT_PROT_R), 0);
	assert_int_equal(pt_leaf_desc(&t, 0x2000, PT_PROT_R, &level, NULL), 0x004000000000377fULL);

	/* A read of the write-only page is a permission fault at level 3. */
	{
		struct pt_leaf leaf;
		struct pt_fault f;

		assert_int_equal(pt_table_walk(&t, 0x1000, PT_PROT_R, &leaf, &f),
				 PT_FAULT_PERMISSION);
		assert_int_equal(f.level, 3);
	}
	assert_int_equal(pt_iova_to_phys(&t, 0x10000000000ULL - 1, &pa), 0);
	assert_int_equal(pa, 0x12345fff);
	/* Beyond the 40-bit IPA space. */
	assert_int_equal(pt_map(&t, 0x10000000000ULL, 0x1000, 0x1000, PT_PROT_RW), -ERANGE);
	pt_table_destroy(&t);
}

/* ---------------------------------------------------------------------- */
/* Map / unmap rules                                                      */

static void test_map_errors_leave_tables(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S1, 12, 48, 40, 0);
	struct pt_table t;
	struct pt_leaves before = { 0 }, after = { 0 };
	uint64_t tables;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &pt_mem_host), 0);
	assert_int_equal(pt_map(&t, 0x10000000, 0x10000000, 0x3000, PT_PROT_RW), 0);
	tables = t.nr_tables;
	pt_for_each_leaf(&t, 0, UINT64_MAX, pt_leaves_collect, &before);

	assert_int_equal(pt_map(&t, 0x1001, 0x1000, 0x1000, PT_PROT_RW), -EINVAL);
	assert_int_equal(pt_map(&t, 0x1000, 0x1001, 0x1000, PT_PROT_RW), -EINVAL);
	assert_int_equal(pt_map(&t, 0x1000, 0x1000, 0, PT_PROT_RW), -EINVAL);
	assert_int_equal(pt_map(&t, 0x1000, 0x1000, 0x1000, 0), -EINVAL);
	assert_int_equal(pt_map(&t, 0xfffffffffffff000ULL, 0x1000, 0x2000, PT_PROT_RW), -EOVERFLOW);
	assert_int_equal(pt_map(&t, 0x1000000000000ULL, 0x1000, 0x1000, PT_PROT_RW), -ERANGE);
	/* Output beyond the 40-bit OAS. */
	assert_int_equal(pt_map(&t, 0x1000, 0x10000000000ULL, 0x1000, PT_PROT_RW), -ERANGE);
	/*
	 * Overlap in the middle of a larger range, which needs new tables
	 * before it reaches the conflict: all of it must be rolled back.
	 */
	assert_int_equal(pt_map(&t, 0x0f000000, 0x20000000, 0x1002000, PT_PROT_RW), -EEXIST);
	/* A range spanning a fresh 1G region (new L2 table) and the conflict. */
	assert_int_equal(pt_map(&t, 0x10002000, 0x30000000, 0x40000000, PT_PROT_RW), -EEXIST);

	assert_int_equal(t.nr_tables, tables);
	pt_for_each_leaf(&t, 0, UINT64_MAX, pt_leaves_collect, &after);
	assert_int_equal(before.n, after.n);
	assert_memory_equal(before.iova, after.iova, sizeof(before.iova));
	assert_memory_equal(before.pa, after.pa, sizeof(before.pa));
	pt_table_destroy(&t);
}

static void test_unmap_splits_and_frees(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S1, 12, 48, 48, 0);
	struct pt_table t;
	struct pt_leaves l = { 0 };
	uint64_t unmapped, pa;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, &pt_mem_host), 0);
	/* One 1G block: root + L1 table. */
	assert_int_equal(pt_map(&t, 0x40000000, 0x80000000, 0x40000000, PT_PROT_RW), 0);
	assert_int_equal(t.nr_tables, 2);

	/* Cut one 4K page out of the middle: 1G -> 512 x 2M -> 512 x 4K. */
	assert_int_equal(pt_unmap(&t, 0x40201000, 0x1000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1000);
	assert_int_equal(t.nr_tables, 4);
	assert_int_equal(pt_iova_to_phys(&t, 0x40201000, &pa), -ENOENT);
	assert_int_equal(pt_iova_to_phys(&t, 0x40200fff, &pa), 0);
	assert_int_equal(pa, 0x80200fff);
	assert_int_equal(pt_iova_to_phys(&t, 0x40202000, &pa), 0);
	assert_int_equal(pa, 0x80202000);
	assert_int_equal(pt_iova_to_phys(&t, 0x7fffffff, &pa), 0);
	assert_int_equal(pa, 0xbfffffff);
	/* 1 + 511 pages in the split 2M, 511 other 2M blocks */
	pt_for_each_leaf(&t, 0, UINT64_MAX, pt_leaves_collect, &l);
	assert_int_equal(l.n, 511 + 511);

	/* Unmapping a range with a hole reports what was there. */
	assert_int_equal(pt_unmap(&t, 0x40200000, 0x4000, &unmapped), 0);
	assert_int_equal(unmapped, 0x3000);

	/* Unmap everything: every table but the root is freed. */
	assert_int_equal(pt_unmap(&t, 0, 1ULL << 48, &unmapped), 0);
	assert_int_equal(unmapped, 0x40000000 - 0x4000);
	assert_int_equal(t.nr_tables, 1);
	assert_int_equal(pt_unmap(&t, 0x1000, 0x1000, &unmapped), 0);
	assert_int_equal(unmapped, 0);
	pt_table_destroy(&t);
}

/*
 * The edges of the short paths: one leaf mapped or unmapped (a page or a
 * block, aligned on both sides, inside both spaces) and a run of whole
 * leaves of one table unmapped. Everything here is also what the general
 * paths define, so only the outcome is checked: errno, bytes, the leaves
 * (level, output) and the table count. @mem: the host port, or a copy of
 * it split in two regions, whose tables are reached through
 * pt_mem_ptr() instead of one offset.
 */
static void one_leaf_edges(struct pt_mem *mem)
{
	struct pt_cfg c = mk(PT_VMSA_S1, 12, 48, 48, 0);
	struct pt_leaves l = { 0 };
	struct pt_table t;
	uint64_t unmapped, pa, tables;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_table_init(&t, &c, mem), 0);
	assert_int_equal(t.direct, mem->nr_regions == 1);

	/* A 2M block: root, L1, L2. The same block again, or another over it: -EEXIST. */
	assert_int_equal(pt_map(&t, 0x40000000, 0x80000000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(t.nr_tables, 3);
	assert_int_equal(pt_map(&t, 0x40000000, 0x80000000, 0x200000, PT_PROT_RW), -EEXIST);
	assert_int_equal(pt_map(&t, 0x40000000, 0xa0000000, 0x200000, PT_PROT_R), -EEXIST);
	/* A page inside the block: -EEXIST at the block's level. */
	assert_int_equal(pt_map(&t, 0x40001000, 0x1000, 0x1000, PT_PROT_RW), -EEXIST);
	/* A 1G block over the L2 table that holds the 2M block: -EEXIST. */
	assert_int_equal(pt_map(&t, 0x40000000, 0xc0000000, 0x40000000, PT_PROT_RW), -EEXIST);
	assert_int_equal(t.nr_tables, 3);

	/* A page, then a 2M block over the L3 table that holds it: -EEXIST, nothing new. */
	assert_int_equal(pt_map(&t, 0x40400000, 0x1000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(t.nr_tables, 4);
	assert_int_equal(pt_map(&t, 0x40400000, 0x80400000, 0x200000, PT_PROT_RW), -EEXIST);
	assert_int_equal(t.nr_tables, 4);

	/* A 2M map whose output is only 4K-aligned: 512 pages in a new L3 table. */
	assert_int_equal(pt_map(&t, 0x40600000, 0x90001000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(t.nr_tables, 5);
	pt_for_each_leaf(&t, 0x40600000, 0x407fffff, pt_leaves_collect, &l);
	assert_int_equal(l.n, 512);
	assert_int_equal(l.level[0], 3);
	assert_int_equal(l.pa[0], 0x90001000);
	/* Its unmap as one 2M entry: the L3 table is unlinked and freed whole. */
	assert_int_equal(pt_unmap(&t, 0x40600000, 0x200000, &unmapped), 0);
	assert_int_equal(unmapped, 0x200000);
	assert_int_equal(t.nr_tables, 4);

	/* The last 2M of the 48-bit input space, to the last 2M of the output space. */
	assert_int_equal(pt_map(&t, 0xffffffe00000ULL, 0xffffffe00000ULL, 0x200000, PT_PROT_R), 0);
	assert_int_equal(pt_iova_to_phys(&t, 0xffffffffffffULL, &pa), 0);
	assert_int_equal(pa, 0xffffffffffffULL);
	tables = t.nr_tables;
	/* One 2M further on either side: -ERANGE; no R or W: -EINVAL; nothing changes. */
	assert_int_equal(pt_map(&t, 0x1000000000000ULL, 0x200000, 0x200000, PT_PROT_RW), -ERANGE);
	assert_int_equal(pt_map(&t, 0x200000, 0x1000000000000ULL, 0x200000, PT_PROT_RW), -ERANGE);
	assert_int_equal(pt_map(&t, 0x200000, 0x200000, 0x200000, PT_PROT_X), -EINVAL);
	assert_int_equal(pt_map(&t, 0x200000, 0x200000, 0x200000, 0), -EINVAL);
	assert_int_equal(t.nr_tables, tables);
	assert_int_equal(pt_unmap(&t, 0x1000000000000ULL, 0x200000, &unmapped), -ERANGE);
	assert_int_equal(pt_unmap(&t, 0xffffffe00000ULL, 0x200000, &unmapped), 0);
	assert_int_equal(unmapped, 0x200000);
	assert_int_equal(t.nr_tables, 4);

	/* A page out of the 2M block: the block is split, the rest stays. */
	assert_int_equal(pt_unmap(&t, 0x40001000, 0x1000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1000);
	assert_int_equal(t.nr_tables, 5);
	assert_int_equal(pt_iova_to_phys(&t, 0x40001000, &pa), -ENOENT);
	assert_int_equal(pt_iova_to_phys(&t, 0x40002000, &pa), 0);
	assert_int_equal(pa, 0x80002000);
	/*
	 * A 2M-size unmap that cuts two entries, half of each (256 pages of
	 * the split block, half of a new block, which is split): 2M.
	 */
	assert_int_equal(pt_map(&t, 0x40200000, 0x80200000, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(pt_unmap(&t, 0x40100000, 0x200000, &unmapped), 0);
	assert_int_equal(unmapped, 0x200000);
	assert_int_equal(pt_iova_to_phys(&t, 0x40100000, &pa), -ENOENT);
	assert_int_equal(pt_iova_to_phys(&t, 0x402ff000, &pa), -ENOENT);
	assert_int_equal(pt_iova_to_phys(&t, 0x400ff000, &pa), 0);
	assert_int_equal(pt_iova_to_phys(&t, 0x40300000, &pa), 0);
	assert_int_equal(pa, 0x80300000);

	/* A run of whole pages with a hole, in one L3 table: what was there; the table goes. */
	assert_int_equal(pt_unmap(&t, 0x40400000, 0x1000, &unmapped), 0);
	assert_int_equal(pt_map(&t, 0x40800000, 0x1000000, 0x10000, PT_PROT_RW), 0);
	assert_int_equal(pt_unmap(&t, 0x40803000, 0x1000, &unmapped), 0);
	tables = t.nr_tables;
	assert_int_equal(pt_unmap(&t, 0x40800000, 0x20000, &unmapped), 0);
	assert_int_equal(unmapped, 0xf000);
	assert_int_equal(t.nr_tables, tables - 1);
	/* A run of 2M entries that are tables (one page in each): unlinked, freed. */
	assert_int_equal(pt_map(&t, 0x40800000, 0x1000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&t, 0x40a00000, 0x2000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_unmap(&t, 0x40800000, 0x400000, &unmapped), 0);
	assert_int_equal(unmapped, 0x2000);
	assert_int_equal(t.nr_tables, tables - 1);

	/* PT_CFG_NO_BLOCKS set on a live table (as lib/hw's mock does): a 2M map is pages. */
	t.cfg.flags |= PT_CFG_NO_BLOCKS;
	assert_int_equal(pt_map(&t, 0x80000000, 0x80000000, 0x200000, PT_PROT_RW), 0);
	memset(&l, 0, sizeof(l));
	pt_for_each_leaf(&t, 0x80000000, 0x801fffff, pt_leaves_collect, &l);
	assert_int_equal(l.n, 512);
	assert_int_equal(l.level[0], 3);
	t.cfg.flags &= ~PT_CFG_NO_BLOCKS;

	/* Everything: the root alone stays. */
	assert_int_equal(pt_unmap(&t, 0, 1ULL << 48, &unmapped), 0);
	assert_int_equal(t.nr_tables, 1);
	assert_int_equal(pt_table_check(&t, stderr), 0);
	pt_table_destroy(&t);
}

static void test_one_leaf_edges(void **state)
{
	struct pt_mem split = pt_mem_host;

	one_leaf_edges(&pt_mem_host);
	/* The host port's identity, as two regions. */
	split.nr_regions = 2;
	split.region[0] = (struct pt_mem_region){ .base = 0, .size = 1ULL << 63, .host = NULL };
	split.region[1] = (struct pt_mem_region){ .base = 1ULL << 63, .size = 1ULL << 63,
						  .host = (void *)(uintptr_t)(1ULL << 63) };
	one_leaf_edges(&split);
}

/* ---------------------------------------------------------------------- */
/* Walks of hand-built tables                                             */

#define BASE 0x100000ULL

/*
 * The walks below start from a 4K, 48-bit stage 1 chain, pt_chain4_setup(..., 3):
 * L0 @BASE, L1 @+0x1000, L2 @+0x2000, L3 @+0x3000.
 */

static void test_walk_faults(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S1, 12, 48, 40, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	uint64_t *pte;

	pte = pt_chain4_setup(&c, &a, BASE, 3);

	/* A good RW page: 4 reads, in order L0..L3. */
	*pte = 0x5000ULL | 0x703; /* page, SH, AF */
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1234, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x5234);
	assert_int_equal(leaf.size, 0x1000);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.addr[0], BASE);
	assert_int_equal(r.addr[3], BASE + 0x3008);

	/* Invalid descriptor: translation fault at level 3. */
	*pte = 0x5000ULL | 0x702;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 3, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, BASE + 0x3008);

	/* 0b01 at level 3 is reserved: translation fault. */
	*pte = 0x5000ULL | 0x701;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 3, PT_ANY, &leaf, &f,
		      &r);

	/* AF clear: access flag fault (before the permission check). */
	*pte = 0x5000ULL | 0x383;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_ACCESS, 3, PT_ANY, &leaf, &f, &r);

	/* AP[2] read-only, write access: permission fault; read is fine. */
	*pte = 0x5000ULL | 0x783;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, 3, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.prot & PT_PROT_W, 0);

	/* Unprivileged access to a page without AP[1]: permission fault. */
	*pte = 0x5000ULL | 0x703;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R | PT_PROT_U, PT_FAULT_PERMISSION, PT_ANY,
		      PT_ANY, &leaf, &f, &r);
	*pte = 0x5000ULL | 0x743;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R | PT_PROT_U, &leaf, &f, &r),
			 PT_OK);

	/* APTable[1] (bit 62) on the L1 table descriptor forbids writes below it. */
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 3 | (1ULL << 62);
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, 3, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 3;

	/* Output address at 2^40 with a 40-bit OAS: address size fault at level 3. */
	*pte = 0x10000000000ULL | 0x703;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_ADDR_SIZE, 3, PT_ANY, &leaf, &f,
		      &r);

	/* Next-table address beyond the OAS in the L1 descriptor: address size at level 1. */
	*pt_at(&a, BASE + 0x1000) = 0x20000000000ULL | 3;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_ADDR_SIZE, 1, 2, &leaf, &f, &r);

	/* Next table outside memory: walk abort at level 2, no read outside the arena. */
	*pt_at(&a, BASE + 0x1000) = 0x7000000ULL | 3;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_EXT_ABORT, 2, PT_ANY, &leaf, &f,
		      &r);
	assert_int_equal(f.desc_addr, 0x7000000);
	assert_int_equal(r.n, 2);
	*pt_at(&a, BASE + 0x1000) = (BASE + 0x2000) | 3;

	/* A block at level 0 is not allowed with the 4K granule: translation fault at L0. */
	*pt_at(&a, BASE) = 0x0 | 0x701;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_R, PT_FAULT_TRANSLATION, 0, 1, &leaf, &f, &r);
	/* A 1G block at level 1 is: OA 0xc0000000 + offset. */
	*pt_at(&a, BASE) = (BASE + 0x1000) | 3;
	*pt_at(&a, BASE + 0x1000) = 0xc0000000ULL | 0x701;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x12345678, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0xd2345678);
	assert_int_equal(leaf.size, 0x40000000);
	assert_int_equal(leaf.level, 1);
	assert_int_equal(r.n, 2);

	/* Input beyond the 48-bit input size: translation fault at the start level, no read. */
	pt_walk_fault(&c, &a, BASE, 1ULL << 48, PT_PROT_R, PT_FAULT_TRANSLATION, 0, 0, &leaf, &f,
		      &r);

	/*
	 * A loop: every table points back at the root. The walk still reads
	 * exactly four descriptors (one per level) and ends at level 3, where
	 * the looping "table" descriptor reads as a page mapping the root.
	 */
	*pt_at(&a, BASE) = BASE | 3;
	pt_walk_fault(&c, &a, BASE, 0x0, PT_PROT_R, PT_FAULT_ACCESS, PT_ANY, 4, &leaf, &f, &r);
	assert_int_equal(f.level, 3);

	pt_arena_destroy(&a);
}

static void test_walk_hw_access_dirty(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S1, 12, 48, 48, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;
	uint64_t *pte;

	c.flags = PT_CFG_HW_AD;
	pte = pt_chain4_setup(&c, &a, BASE, 3);

	/* HTTU: AF clear is set by the walk instead of faulting. */
	*pte = 0x5000ULL | 0x303;
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x5000ULL | 0x703);

	/* DBM + AP[2]: writable-clean; a write clears AP[2] (marks it dirty). */
	*pte = 0x5000ULL | 0x783 | (1ULL << 51);
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x5000ULL | 0x783 | (1ULL << 51));
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x1000, PT_PROT_W, &leaf, &f, &r), PT_OK);
	assert_int_equal(*pte, 0x5000ULL | 0x703 | (1ULL << 51));
	/* Without DBM a read-only page still faults on write. */
	*pte = 0x5000ULL | 0x783;
	pt_walk_fault(&c, &a, BASE, 0x1000, PT_PROT_W, PT_FAULT_PERMISSION, PT_ANY, PT_ANY, &leaf,
		      &f, &r);
	assert_int_equal(*pte, 0x5000ULL | 0x783);
	pt_arena_destroy(&a);
}

static void test_walk_hw_ad_race(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S1, 12, 48, 48, 0);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_racer rc = { .level = 3, .bits = 1ULL << 52 };
	uint64_t *pte;

	c.flags = PT_CFG_HW_AD;
	pte = pt_chain4_setup(&c, &a, BASE, 3);
	/*
	 * AF clear: the walk must set it. Another writer sets the contiguous
	 * bit between the walk's read and its compare-and-swap, so the CAS
	 * fails; the walk starts again (4 + 4 reads) and sets AF on the new
	 * value rather than finishing without it.
	 */
	*pte = 0x5000ULL | 0x303;
	rc.victim = pte;
	assert_int_equal(
		pt_walk_mem(&c, &a.mem, BASE, 0x1000, PT_PROT_R, &leaf, &f, pt_race_read, &rc), PT_OK);
	assert_int_equal(rc.r.n, 8);
	assert_int_equal(*pte, 0x5000ULL | 0x703 | (1ULL << 52));
	assert_int_equal(leaf.oa, 0x5000);
	pt_arena_destroy(&a);
}

static void test_walk_s2_concat(void **state)
{
	struct pt_cfg c = mk(PT_VMSA_S2, 12, 40, 48, 1);
	struct pt_arena a;
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;

	assert_int_equal(pt_cfg_init(&c), 0);
	assert_int_equal(pt_arena_init(&a, BASE, 0x10000), 0);
	/*
	 * IPA 0x80_4020_3000: root index = bits [39:30] = 0x201 (second table,
	 * entry 1), L2 index 1, L3 index 3. Root is 2 x 4K at BASE.
	 */
	*pt_at(&a, BASE + 0x201 * 8) = (BASE + 0x2000) | 3;
	*pt_at(&a, BASE + 0x2000 + 1 * 8) = (BASE + 0x3000) | 3;
	*pt_at(&a, BASE + 0x3000 + 3 * 8) = 0x777000ULL | 0x4ff; /* AF, S2AP=RW, MemAttr */
	assert_int_equal(pt_test_walk(&c, &a, BASE, 0x8040203abcULL, PT_PROT_W, &leaf, &f, &r),
			 PT_OK);
	assert_int_equal(leaf.oa, 0x777abc);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.addr[0], BASE + 0x201 * 8);
	/* IPA at 2^40: out of range, translation fault at level 1. */
	pt_walk_fault(&c, &a, BASE, 1ULL << 40, PT_PROT_R, PT_FAULT_TRANSLATION, 1, PT_ANY, &leaf,
		      &f, &r);
	/* S2AP = 0b00 at level 3: permission fault for a read. */
	*pt_at(&a, BASE + 0x3000 + 3 * 8) = 0x777000ULL | 0x43f;
	pt_walk_fault(&c, &a, BASE, 0x8040203000ULL, PT_PROT_R, PT_FAULT_PERMISSION, 3, PT_ANY,
		      &leaf, &f, &r);
	pt_arena_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s1_geometry),
		cmocka_unit_test(test_s2_geometry),
		cmocka_unit_test(test_s1_descriptors_4k),
		cmocka_unit_test(test_s1_descriptors_16k_64k),
		cmocka_unit_test(test_s2_descriptors),
		cmocka_unit_test(test_map_errors_leave_tables),
		cmocka_unit_test(test_unmap_splits_and_frees),
		cmocka_unit_test(test_one_leaf_edges),
		cmocka_unit_test(test_walk_faults),
		cmocka_unit_test(test_walk_hw_access_dirty),
		cmocka_unit_test(test_walk_hw_ad_race),
		cmocka_unit_test(test_walk_s2_concat),
	};

	return cmocka_run_group_tests_name("pt_vmsa", tests, NULL, NULL);
}
