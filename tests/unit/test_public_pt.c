// SPDX-License-Identifier: MIT
/*
 * The public page-table API as an embedder sees it: this program includes
 * only the installed header <uiommu/uiommu.h> and links libuiommu.so (not
 * the internal static archive), so it also proves that every function it
 * calls is exported.
 *
 * Expected values come from the VMSAv8-64 architecture (4 KiB granule,
 * 48-bit input: a 2 MiB block is a level-2 leaf under a level-0 and a
 * level-1 table; a table descriptor has bits[1:0] = 0b11).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <uiommu/uiommu.h>

#define RW (UIOMMU_PROT_READ | UIOMMU_PROT_WRITE)

static struct uiommu_pt *new_s1(void)
{
	struct uiommu_pt_config cfg = {
		.format = "vmsa-s1",
		.granule_shift = 12,
		.ias = 48,
		.oas = 48,
	};
	struct uiommu_pt *pt = NULL;

	assert_int_equal(uiommu_pt_new(&cfg, &pt), 0);
	assert_non_null(pt);
	return pt;
}

static void test_version(void **state)
{
	const char *v = uiommu_version();

	assert_non_null(v);
	assert_true(strlen(v) >= 5); /* "M.m.p" */
}

static void test_map_walk_unmap(void **state)
{
	struct uiommu_pt *pt = new_s1();
	struct uiommu_pt_walk_result res;
	struct uiommu_pt_stats st;
	uint64_t root, pa = 0, unmapped = 0;

	root = uiommu_pt_root(pt);
	assert_true(root != 0);
	assert_int_equal(root & 0xfff, 0);
	assert_int_equal(uiommu_pt_stats(pt, &st), 0);
	assert_int_equal(st.tables, 1);
	assert_int_equal(st.bytes, 4096);

	/* A 2 MiB block and a read-only 4 KiB page. */
	assert_int_equal(uiommu_pt_map(pt, 0x200000, 0x80000000, 0x200000, RW), 0);
	assert_int_equal(uiommu_pt_map(pt, 0x1000, 0x5000, 0x1000, UIOMMU_PROT_READ), 0);

	/* The root is host memory holding real descriptors: entry 0 is a table descriptor. */
	assert_int_equal(((const volatile uint64_t *)(uintptr_t)root)[0] & 3, 3);

	assert_int_equal(uiommu_pt_walk(pt, 0x200123, UIOMMU_PROT_READ, &res), 0);
	assert_int_equal(res.fault, UIOMMU_PT_FAULT_NONE);
	assert_int_equal(res.oa, 0x80000123);
	assert_int_equal(res.size, 0x200000);
	assert_int_equal(res.level, 2);
	assert_int_equal(res.prot & RW, RW);
	assert_int_equal(res.reserved, 0);
	assert_true(res.desc_addr != 0);

	assert_int_equal(uiommu_pt_walk(pt, 0x1abc, UIOMMU_PROT_READ, &res), 0);
	assert_int_equal(res.fault, UIOMMU_PT_FAULT_NONE);
	assert_int_equal(res.oa, 0x5abc);
	assert_int_equal(res.size, 0x1000);
	assert_int_equal(res.level, 3);
	assert_int_equal(res.prot & RW, UIOMMU_PROT_READ);

	/* Write to the read-only page: a permission fault at level 3. */
	assert_int_equal(uiommu_pt_walk(pt, 0x1abc, UIOMMU_PROT_WRITE, &res), 0);
	assert_int_equal(res.fault, UIOMMU_PT_FAULT_PERMISSION);
	assert_int_equal(res.level, 3);
	assert_string_equal(uiommu_pt_fault_name(res.fault), "permission");

	/* Nothing mapped: a translation fault, and iova_to_phys says -ENOENT. */
	assert_int_equal(uiommu_pt_walk(pt, 0x40000000, UIOMMU_PROT_READ, &res), 0);
	assert_int_equal(res.fault, UIOMMU_PT_FAULT_TRANSLATION);
	assert_int_equal(uiommu_pt_iova_to_phys(pt, 0x40000000, &pa), -ENOENT);
	assert_int_equal(uiommu_pt_iova_to_phys(pt, 0x3fffff, &pa), 0);
	assert_int_equal(pa, 0x801fffff);

	/* Root (L0) + L1 + L2 (holding the block) + L3 (holding the page). */
	assert_int_equal(uiommu_pt_stats(pt, &st), 0);
	assert_int_equal(st.tables, 4);
	assert_int_equal(st.bytes, 4 * 4096);

	/* Cutting the block: only the cut page goes, the rest still translates. */
	assert_int_equal(uiommu_pt_unmap(pt, 0x200000, 0x1000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1000);
	assert_int_equal(uiommu_pt_iova_to_phys(pt, 0x200000, &pa), -ENOENT);
	assert_int_equal(uiommu_pt_iova_to_phys(pt, 0x201000, &pa), 0);
	assert_int_equal(pa, 0x80001000);

	/* Unmapping everything frees every table but the root. */
	assert_int_equal(uiommu_pt_unmap(pt, 0, 0x40000000, &unmapped), 0);
	assert_int_equal(unmapped, 0x1ff000 + 0x1000);
	assert_int_equal(uiommu_pt_unmap(pt, 0, 0x40000000, NULL), 0);
	assert_int_equal(uiommu_pt_stats(pt, &st), 0);
	assert_int_equal(st.tables, 1);
	assert_int_equal(uiommu_pt_root(pt), root);
	uiommu_pt_free(pt);
}

static void test_map_errors(void **state)
{
	struct uiommu_pt *pt = new_s1();
	struct uiommu_pt_stats st;

	assert_int_equal(uiommu_pt_map(pt, 0x200000, 0x80000000, 0x200000, RW), 0);
	assert_int_equal(uiommu_pt_map(pt, 0x3ff000, 0x1000, 0x2000, RW), -EEXIST);
	assert_int_equal(uiommu_pt_map(pt, 0x1001, 0x1000, 0x1000, RW), -EINVAL);
	assert_int_equal(uiommu_pt_map(pt, 0x1000, 0x1000, 0, RW), -EINVAL);
	assert_int_equal(uiommu_pt_map(pt, 0x1000, 0x1000, 0x1000, UIOMMU_PROT_EXEC), -EINVAL);
	assert_int_equal(uiommu_pt_map(pt, 0x1000, 0x1000, 0x1000, 0x10), -EINVAL);
	assert_int_equal(uiommu_pt_map(pt, 1ULL << 48, 0x1000, 0x1000, RW), -ERANGE);
	/* The failed calls left the table as it was. */
	assert_int_equal(uiommu_pt_stats(pt, &st), 0);
	assert_int_equal(st.tables, 3);
	uiommu_pt_free(pt);
}

static void test_stage2(void **state)
{
	struct uiommu_pt_config cfg = {
		.format = "vmsa-s2",
		.granule_shift = 12,
		.ias = 40,
		.oas = 48,
		.sl0 = UIOMMU_PT_SL0_AUTO,
	};
	struct uiommu_pt_walk_result res;
	struct uiommu_pt *pt = NULL;

	assert_int_equal(uiommu_pt_new(&cfg, &pt), 0);
	assert_int_equal(uiommu_pt_map(pt, 0x40000000, 0x40000000, 0x40000000, RW), 0);
	assert_int_equal(uiommu_pt_walk(pt, 0x7fffffff, UIOMMU_PROT_WRITE, &res), 0);
	assert_int_equal(res.fault, UIOMMU_PT_FAULT_NONE);
	assert_int_equal(res.oa, 0x7fffffff);
	assert_int_equal(res.size, 0x40000000); /* a 1 GiB level-1 block */
	assert_int_equal(res.level, 1);
	uiommu_pt_free(pt);
}

static void test_new_errors(void **state)
{
	struct uiommu_pt_config cfg = {
		.format = "vmsa-s1",
		.granule_shift = 12,
		.ias = 48,
		.oas = 48,
	};
	struct uiommu_pt *pt = (struct uiommu_pt *)&cfg; /* must stay untouched on error */

	assert_int_equal(uiommu_pt_new(NULL, &pt), -EINVAL);
	assert_int_equal(uiommu_pt_new(&cfg, NULL), -EINVAL);
	cfg.format = NULL;
	assert_int_equal(uiommu_pt_new(&cfg, &pt), -EINVAL);
	cfg.format = "vmsa-s3";
	assert_int_equal(uiommu_pt_new(&cfg, &pt), -EINVAL);
	cfg.format = "vmsa-s1";
	cfg.flags = 1u << 31;
	assert_int_equal(uiommu_pt_new(&cfg, &pt), -EOPNOTSUPP);
	cfg.flags = 0;
	cfg.granule_shift = 13;
	assert_int_equal(uiommu_pt_new(&cfg, &pt), -EINVAL);
	cfg.granule_shift = 12;
	cfg.ias = 20;
	assert_int_equal(uiommu_pt_new(&cfg, &pt), -EINVAL);
	assert_ptr_equal(pt, (struct uiommu_pt *)&cfg);
}

static void test_other_formats(void **state)
{
	/* Formats still being written give -EOPNOTSUPP; a built one must map and walk. */
	static const struct uiommu_pt_config cfgs[] = {
		{ .format = "x86", .ias = 48, .oas = 52 },
		{ .format = "vtd-ss", .ias = 48, .oas = 48 },
		{ .format = "tce", .granule_shift = 12, .ias = 31, .oas = 64, .levels = 1 },
	};

	for (unsigned int i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		struct uiommu_pt_walk_result res;
		struct uiommu_pt *pt = NULL;
		int ret = uiommu_pt_new(&cfgs[i], &pt);

		if (ret == -EOPNOTSUPP)
			continue;
		assert_int_equal(ret, 0);
		assert_int_equal(uiommu_pt_map(pt, 0x10000, 0x20000, 0x1000, RW), 0);
		assert_int_equal(uiommu_pt_walk(pt, 0x10008, UIOMMU_PROT_READ, &res), 0);
		assert_int_equal(res.fault, UIOMMU_PT_FAULT_NONE);
		assert_int_equal(res.oa, 0x20008);
		uiommu_pt_free(pt);
	}
}

static void test_null_handling(void **state)
{
	struct uiommu_pt *pt = new_s1();
	struct uiommu_pt_walk_result res;
	struct uiommu_pt_stats st;
	uint64_t pa;

	uiommu_pt_free(NULL);
	assert_int_equal(uiommu_pt_root(NULL), 0);
	assert_int_equal(uiommu_pt_map(NULL, 0, 0, 0x1000, RW), -EINVAL);
	assert_int_equal(uiommu_pt_unmap(NULL, 0, 0x1000, NULL), -EINVAL);
	assert_int_equal(uiommu_pt_iova_to_phys(NULL, 0, &pa), -EINVAL);
	assert_int_equal(uiommu_pt_iova_to_phys(pt, 0, NULL), -EINVAL);
	assert_int_equal(uiommu_pt_walk(NULL, 0, 0, &res), -EINVAL);
	assert_int_equal(uiommu_pt_walk(pt, 0, 0, NULL), -EINVAL);
	assert_int_equal(uiommu_pt_walk(pt, 0, 0x100, &res), -EINVAL);
	assert_int_equal(uiommu_pt_stats(NULL, &st), -EINVAL);
	assert_int_equal(uiommu_pt_stats(pt, NULL), -EINVAL);
	assert_string_equal(uiommu_pt_fault_name(UIOMMU_PT_FAULT_NONE), "none");
	assert_string_equal(uiommu_pt_fault_name(99), "?");
	uiommu_pt_free(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),	      cmocka_unit_test(test_map_walk_unmap),
		cmocka_unit_test(test_map_errors),    cmocka_unit_test(test_stage2),
		cmocka_unit_test(test_new_errors),    cmocka_unit_test(test_other_formats),
		cmocka_unit_test(test_null_handling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
