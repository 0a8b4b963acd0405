// SPDX-License-Identifier: MIT
/*
 * lib/hw/vtd: the invalidation queue. Each descriptor's effect on the
 * caches (a stale translation keeps being served until the descriptor
 * that names it has run, a wait descriptor reporting that it has), the
 * descriptors that must not touch a given entry, the wait descriptor's
 * status write and interrupt, and IQE on invalid descriptors with IQH
 * frozen at the bad one. Memory as in vtd_env.h.
 */
#include "vtd_env.h"

#define IOVA 0x10000000ULL
#define URW  (PT_PROT_RW | PT_PROT_U)
#define UR   (PT_PROT_R | PT_PROT_U)

#define CC(g)	    (VTD_INV_CC | (uint64_t)(g) << 4)
#define IOTLB(g, d) (VTD_INV_IOTLB | (uint64_t)(g) << 4 | (uint64_t)(d) << 16)
#define PIOTLB(g, d, p) \
	(VTD_INV_P_IOTLB | (uint64_t)(g) << 4 | (uint64_t)(d) << 16 | (uint64_t)(p) << 32)
#define PC(g, d, p) (VTD_INV_PC | (uint64_t)(g) << 4 | (uint64_t)(d) << 16 | (uint64_t)(p) << 32)

static uint64_t pa_of(struct vtd_env *t, uint32_t pasid, uint64_t iova)
{
	struct vtd_result r;

	assert_int_equal(vt_xlate(t, pasid, iova, UR, &r), 0);
	return r.pa;
}

/* Move the second-stage page at @ipa to @pa behind the caches' back. */
static void s2_remap(struct vtd_env *t, uint64_t ipa, uint64_t pa)
{
	assert_int_equal(pt_unmap(&t->e.s2, ipa, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&t->e.s2, ipa, pa, 0x1000, PT_PROT_RW), 0);
}

static void s1_remap(struct vtd_env *t, uint64_t iova, uint64_t ipa)
{
	assert_int_equal(pt_unmap(&t->e.s1, iova, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&t->e.s1, iova, ipa, 0x1000, URW), 0);
}

static void test_iotlb_psi_ss(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(PT_CFG_NO_BLOCKS);
	struct vtd_env t;
	uint64_t ipa = GRAM_IPA + 0x5000;

	vt_init(&t, NULL, &c2);
	vt_set_ctx(&t, 0, 0);
	vt_pe_ss(&t, 0, DID);
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	s2_remap(&t, ipa, t.e.gram_pa + 0x9000);
	/* Stale until the right invalidation: */
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	assert_true(vt_inv(&t, IOTLB(3, DID + 1), ipa)); /* another domain */
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	assert_true(vt_inv(&t, IOTLB(3, DID), ipa + 0x1000)); /* another page */
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	assert_true(vt_inv(&t, PIOTLB(2, DID, 0), 0)); /* P_IOTLB: first-stage entries only */
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	assert_true(vt_inv(&t, PC(3, 0, 0), 0)); /* PASID cache: no IOTLB effect */
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	assert_true(vt_inv(&t, CC(1), 0)); /* context cache: no IOTLB effect */
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	assert_true(vt_inv(&t, IOTLB(3, DID), ipa));
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x9000);
	/* AM: 2^2 pages around the address (aligned down). */
	s2_remap(&t, ipa, t.e.gram_pa + 0x5000);
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x9000);
	assert_true(vt_inv(&t, IOTLB(3, DID), (ipa - 0x1000) | 2));
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	vt_destroy(&t);
}

static void test_iotlb_dsi_global(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(PT_CFG_NO_BLOCKS);
	struct vtd_env t;
	uint64_t ipa = GRAM_IPA + 0x5000;

	vt_init(&t, NULL, &c2);
	vt_set_ctx(&t, 0, 0);
	vt_pe_ss(&t, 0, DID);
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	s2_remap(&t, ipa, t.e.gram_pa + 0x9000);
	assert_true(vt_inv(&t, IOTLB(2, DID + 1), 0));
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	assert_true(vt_inv(&t, IOTLB(2, DID), 0));
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x9000);
	s2_remap(&t, ipa, t.e.gram_pa + 0x5000);
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x9000);
	assert_true(vt_inv(&t, IOTLB(1, 0), 0));
	assert_int_equal(pa_of(&t, VTD_NO_PASID, ipa), t.e.gram_pa + 0x5000);
	vt_destroy(&t);
}

static void test_p_iotlb_nested(void **state)
{
	struct pt_cfg c1 = vt_s1_cfg(), c2 = vt_s2_cfg(0);
	struct vtd_env t;

	vt_init(&t, &c1, &c2);
	vt_set_ctx(&t, 0, 0);
	vt_pe_nested(&t, PASID, DID, 0);
	vt_pe_nested(&t, PASID + 1, DID, 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_ipa, 0x1000, URW), 0);
	assert_int_equal(pa_of(&t, PASID, IOVA), t.e.data_pa);
	assert_int_equal(pa_of(&t, PASID + 1, IOVA), t.e.data_pa);
	s1_remap(&t, IOVA, t.e.data_ipa + 0x3000);
	assert_int_equal(pa_of(&t, PASID, IOVA), t.e.data_pa);
	/* Another PASID, another page of this PASID: the entry stays. */
	assert_true(vt_inv(&t, PIOTLB(3, DID, PASID + 2), IOVA));
	assert_int_equal(pa_of(&t, PASID, IOVA), t.e.data_pa);
	assert_true(vt_inv(&t, PIOTLB(3, DID, PASID), IOVA + 0x1000));
	assert_int_equal(pa_of(&t, PASID, IOVA), t.e.data_pa);
	assert_true(vt_inv(&t, PIOTLB(3, DID, PASID), IOVA));
	assert_int_equal(pa_of(&t, PASID, IOVA), t.e.data_pa + 0x3000);
	/* PASID + 1 was not named: still stale; PASID-selective (G 2) drops it. */
	assert_int_equal(pa_of(&t, PASID + 1, IOVA), t.e.data_pa);
	assert_true(vt_inv(&t, PIOTLB(2, DID, PASID + 1), 0));
	assert_int_equal(pa_of(&t, PASID + 1, IOVA), t.e.data_pa + 0x3000);
	/* A legacy IOTLB PSI of the domain drops first-stage entries of every PASID. */
	s1_remap(&t, IOVA, t.e.data_ipa);
	assert_int_equal(pa_of(&t, PASID, IOVA), t.e.data_pa + 0x3000);
	assert_true(vt_inv(&t, IOTLB(3, DID), IOVA));
	assert_int_equal(pa_of(&t, PASID, IOVA), t.e.data_pa);
	assert_int_equal(pa_of(&t, PASID + 1, IOVA), t.e.data_pa);
	vt_destroy(&t);
}

/* A PASID entry change is seen only after a PASID-cache (or context-cache) invalidation. */
static void test_pasid_cache(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_result r;
	struct vtd_env t;
	uint64_t *pe;

	vt_init(&t, NULL, &c2);
	vt_set_ctx(&t, 0, 0);
	vt_pe_ss(&t, 0, DID);
	assert_int_equal(pa_of(&t, VTD_NO_PASID, GRAM_IPA), t.e.gram_pa);
	pe = vt_pe(&t, 0);
	pe[0] &= ~PE0_P;
	/* The decoded entry still serves new pages (an IOTLB flush does not re-read it). */
	assert_true(vt_inv(&t, IOTLB(2, DID), 0));
	assert_int_equal(pa_of(&t, VTD_NO_PASID, GRAM_IPA + 0x1000), t.e.gram_pa + 0x1000);
	assert_true(vt_inv(&t, PC(1, DID, 0), 0));
	vt_expect_fault(&t, VTD_NO_PASID, GRAM_IPA + 0x2000, UR, VTD_FR_PTE_NP, true);
	/* Context entry: device-selective context-cache invalidation of another SID keeps it. */
	pe[0] |= PE0_P;
	assert_true(vt_inv(&t, PC(3, 0, 0), 0));
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, GRAM_IPA, UR, &r), 0);
	vt_ce(&t, VSID)[0] = 0;
	assert_true(vt_inv(&t, CC(3) | (uint64_t)(VSID + 0x10) << 32, 0));
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, GRAM_IPA, UR, &r), 0);
	/* FM 11b masks function bits 2:0: SID 0x010f names 0x0108 too. */
	assert_true(vt_inv(&t, CC(3) | (uint64_t)(VSID | 7) << 32 | 3ULL << 48, 0));
	vt_expect_fault(&t, VTD_NO_PASID, GRAM_IPA, UR, VTD_FR_CTX_NP, true);
	vt_destroy(&t);
}

static void test_wait(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_env t;
	uint64_t d[4];

	vt_init(&t, NULL, &c2);
	vt_wr(&t, VTD_IEDATA_REG, 4, 0x77);
	vt_wr(&t, VTD_IEADDR_REG, 4, t.status + 0x100);
	/* IF with IM set: IWC, IP, no interrupt; clearing IM sends it. */
	d[0] = VTD_INV_WAIT | 1ULL << 4;
	d[1] = 0;
	vt_submit(&t, d, 1);
	assert_int_equal(vt_rd(&t, VTD_ICS_REG, 4), VTD_ICS_IWC);
	assert_int_equal(vt_rd(&t, VTD_IECTL_REG, 4), VTD_CTL_IM | VTD_CTL_IP);
	assert_int_equal(t.irqs[VTD_IRQ_INV], 0);
	vt_wr(&t, VTD_IECTL_REG, 4, 0);
	assert_int_equal(t.irqs[VTD_IRQ_INV], 1);
	assert_int_equal(*(uint32_t *)vt_hp(&t, t.status + 0x100), 0x77);
	/* IWC already set: no new event. */
	vt_submit(&t, d, 1);
	assert_int_equal(t.irqs[VTD_IRQ_INV], 1);
	vt_wr(&t, VTD_ICS_REG, 4, VTD_ICS_IWC);
	assert_int_equal(vt_rd(&t, VTD_ICS_REG, 4), 0);
	vt_submit(&t, d, 1);
	assert_int_equal(t.irqs[VTD_IRQ_INV], 2);
	/* SW after an interrupt-entry-cache descriptor (a no-op: no interrupt remapping). */
	d[0] = VTD_INV_IEC;
	d[1] = 0;
	vt_wait_desc(&t, &d[2], 0x1234);
	vt_submit(&t, d, 2);
	assert_int_equal(vt_status(&t), 0x1234);
	assert_int_equal(vt_rd(&t, VTD_IQH_REG, 8), vt_rd(&t, VTD_IQT_REG, 8));
	vt_destroy(&t);
}

/* Submit [bad, wait]: IQE, IQH stays on the bad descriptor, the wait does not run. */
static void expect_iqe(struct vtd_env *t, uint64_t q0, uint64_t q1)
{
	uint64_t d[4] = {q0, q1}, iqh = vt_rd(t, VTD_IQH_REG, 8);
	uint32_t before = vt_status(t);

	vt_wait_desc(t, &d[2], before + 1);
	vt_submit(t, d, 2);
	assert_true(vt_rd(t, VTD_FSTS_REG, 4) & VTD_FSTS_IQE);
	assert_int_equal(vt_rd(t, VTD_IQH_REG, 8), iqh);
	assert_int_equal(vt_status(t), before);
	/* Repair the descriptor (an IEC no-op) and clear IQE: the queue resumes. */
	uint64_t *slot = vt_hp(t, t->iq + iqh);
	slot[0] = VTD_INV_IEC;
	slot[1] = 0;
	vt_wr(t, VTD_FSTS_REG, 4, VTD_FSTS_IQE);
	assert_false(vt_rd(t, VTD_FSTS_REG, 4) & VTD_FSTS_IQE);
	assert_int_equal(vt_status(t), before + 1);
	assert_int_equal(vt_rd(t, VTD_IQH_REG, 8), vt_rd(t, VTD_IQT_REG, 8));
}

static void test_iqe(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_stats st;
	struct vtd_env t;

	vt_init(&t, NULL, &c2);
	vt_wr(&t, VTD_FECTL_REG, 4, 0);
	expect_iqe(&t, 0x0, 0); /* type 0 */
	expect_iqe(&t, 0x9, 0); /* page group response: no PRS */
	expect_iqe(&t, 0xf, 0);
	expect_iqe(&t, 1ULL << 9 | VTD_INV_CC | 1 << 4, 0); /* type bits [11:9] */
	expect_iqe(&t, CC(0), 0);			    /* G 0 */
	expect_iqe(&t, CC(1) | 1ULL << 6, 0);		    /* reserved bit */
	expect_iqe(&t, CC(1), 1);			    /* high qword reserved */
	expect_iqe(&t, IOTLB(0, DID), 0);
	expect_iqe(&t, IOTLB(3, DID), 19);	     /* AM above MAMV 18 */
	expect_iqe(&t, IOTLB(3, DID), 1ULL << 7);    /* reserved high bits */
	expect_iqe(&t, IOTLB(1, 0) | 1ULL << 40, 0); /* reserved [63:32] */
	expect_iqe(&t, PIOTLB(0, DID, 1), 0);
	expect_iqe(&t, PIOTLB(1, DID, 1), 0);
	expect_iqe(&t, PC(2, DID, 1), 0);
	expect_iqe(&t, VTD_INV_WAIT | 1ULL << 5, 0x1000);	/* status address outside memory */
	expect_iqe(&t, VTD_INV_WAIT | 1ULL << 5, t.status | 1); /* reserved address bits */
	vtd_get_stats(t.v, &st);
	assert_int_equal(st.iqe, 16);
	/* Each IQE is a fault event (IM clear). */
	assert_int_equal(t.irqs[VTD_IRQ_FAULT], 16);
	vt_destroy(&t);
}

/* 256-bit descriptors: IQT must be 32-byte aligned; the high half is reserved. */
static void test_iqe_dw(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_env t;
	uint64_t *slot;

	vt_init(&t, NULL, &c2);
	vt_wr(&t, VTD_GCMD_REG, 4, VTD_GCMD_TE); /* QIE off to change IQA */
	vt_wr(&t, VTD_IQA_REG, 8, t.iq | VTD_IQA_DW);
	vt_wr(&t, VTD_GCMD_REG, 4, VTD_GCMD_TE | VTD_GCMD_QIE);
	slot = vt_hp(&t, t.iq);
	slot[0] = VTD_INV_WAIT | 1ULL << 5 | 5ULL << 32;
	slot[1] = t.status;
	slot[2] = slot[3] = 0;
	vt_wr(&t, VTD_IQT_REG, 8, 0x20);
	assert_int_equal(vt_status(&t), 5);
	assert_int_equal(vt_rd(&t, VTD_IQH_REG, 8), 0x20);
	/* A high half that is not zero. */
	slot[4] = VTD_INV_WAIT | 1ULL << 5 | 6ULL << 32;
	slot[5] = t.status;
	slot[6] = 1;
	slot[7] = 0;
	vt_wr(&t, VTD_IQT_REG, 8, 0x40);
	assert_true(vt_rd(&t, VTD_FSTS_REG, 4) & VTD_FSTS_IQE);
	assert_int_equal(vt_rd(&t, VTD_IQH_REG, 8), 0x20);
	assert_int_equal(vt_status(&t), 5);
	slot[6] = 0;
	vt_wr(&t, VTD_FSTS_REG, 4, VTD_FSTS_IQE);
	assert_int_equal(vt_status(&t), 6);
	/* IQT not 256-bit aligned. */
	vt_wr(&t, VTD_IQT_REG, 8, 0x50);
	assert_true(vt_rd(&t, VTD_FSTS_REG, 4) & VTD_FSTS_IQE);
	assert_int_equal(vt_rd(&t, VTD_IQH_REG, 8), 0x40);
	vt_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* clang-format off */
		cmocka_unit_test(test_iotlb_psi_ss),
		cmocka_unit_test(test_iotlb_dsi_global),
		cmocka_unit_test(test_p_iotlb_nested),
		cmocka_unit_test(test_pasid_cache),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_iqe),
		cmocka_unit_test(test_iqe_dw),
		/* clang-format on */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
