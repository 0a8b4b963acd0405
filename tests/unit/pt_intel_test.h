/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/pt_intel_test.h - the large-page walk checks the two
 * Intel-style formats share. x86-64 paging (the VT-d first stage) and the
 * VT-d second stage both walk the pt_chain4(@base, 0x7) layout, number the
 * levels 4 (PML4) down to 1 (PT), and hold 2M pages in the PD and 1G pages
 * in the PDPT. Which bits are reserved or ignored differs: every descriptor
 * comes from the calling test, worked out there from its architecture.
 */
#ifndef UIOMMU_TESTS_PT_INTEL_TEST_H
#define UIOMMU_TESTS_PT_INTEL_TEST_H

#include "pt_test.h"

/* PS, bit 7 in both formats: the entry maps a page rather than a table. */
#define PT_INTEL_PS 0x80ULL

/*
 * A 2M page in the PD of pt_chain4(@base): @ok, a valid 2M leaf at output
 * 0x200000, translates 0x1abcd to 0x21abcd after 3 reads; @bad (fault at
 * level 2) and @bad_high, the same with a reserved bit set, fault as
 * reserved. The PD entry points at the PT again afterwards.
 */
static inline void pt_intel_walk_2m(const struct pt_cfg *c, struct pt_arena *a, uint64_t base,
				    uint64_t ok, uint64_t bad, uint64_t bad_high)
{
	uint64_t *pde = pt_at(a, base + 0x2000);
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;

	*pde = ok;
	assert_int_equal(pt_test_walk(c, a, base, 0x1abcd, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.oa, 0x21abcd);
	assert_int_equal(leaf.size, 0x200000);
	assert_int_equal(leaf.level, 2);
	assert_int_equal(r.n, 3);
	*pde = bad;
	pt_walk_fault(c, a, base, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 2, PT_ANY, &leaf, &f, &r);
	*pde = bad_high;
	pt_walk_fault(c, a, base, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, PT_ANY, PT_ANY, &leaf, &f,
		      &r);
	*pde = (base + 0x3000) | 0x7;
}

/*
 * 1G pages in the PDPT of pt_chain4(@base) with a reserved bit set: @bad
 * faults at level 3, @bad_high faults too. The PDPT entry is left as @bad_high.
 */
static inline void pt_intel_walk_1g_reserved(const struct pt_cfg *c, struct pt_arena *a,
					     uint64_t base, uint64_t bad, uint64_t bad_high)
{
	uint64_t *pdpte = pt_at(a, base + 0x1000);
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;

	*pdpte = bad;
	pt_walk_fault(c, a, base, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 3, PT_ANY, &leaf, &f, &r);
	*pdpte = bad_high;
	pt_walk_fault(c, a, base, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, PT_ANY, PT_ANY, &leaf, &f,
		      &r);
}

/*
 * With 1G pages not supported (@c has PT_CFG_NO_1G), a 1G PS | @leaf_bits in
 * the PDPT of pt_chain4(@base) is reserved (level 3, 2 reads), while a 2M
 * PS | @leaf_bits in the PD still walks to a level-2 leaf. The PDPT entry
 * points at the PD again; the PD entry is left as that 2M page.
 */
static inline void pt_intel_walk_no_1g(const struct pt_cfg *c, struct pt_arena *a, uint64_t base,
				       uint64_t leaf_bits)
{
	struct pt_leaf leaf;
	struct pt_fault f;
	struct pt_reads r;

	*pt_at(a, base + 0x1000) = 0x40000000 | PT_INTEL_PS | leaf_bits;
	pt_walk_fault(c, a, base, 0x1000, PT_PROT_R, PT_FAULT_RESERVED, 3, 2, &leaf, &f, &r);
	*pt_at(a, base + 0x1000) = (base + 0x2000) | 0x7;
	*pt_at(a, base + 0x2000) = 0x200000 | PT_INTEL_PS | leaf_bits;
	assert_int_equal(pt_test_walk(c, a, base, 0x1000, PT_PROT_R, &leaf, &f, &r), PT_OK);
	assert_int_equal(leaf.level, 2);
}

#endif
