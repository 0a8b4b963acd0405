// SPDX-License-Identifier: MIT
/*
 * lib/hw/vtd: registers, scalable-mode structures, translation types and
 * the fault each bad structure or walk records (reason codes of
 * reference hw.md §2.4, record layout of §2.4 / VT-d spec §10.4.14).
 *
 * Memory as in vtd_env.h. First stage: x86 4-level (48-bit); second
 * stage: VT-d 4-level (AW 2, 48-bit) mapping all of guest RAM.
 * Requests are user requests (PT_PROT_U) unless a test says otherwise,
 * and first-stage pages are mapped user-accessible.
 */
#include "vtd_env.h"

#define IOVA 0x10000000ULL
#define URW  (PT_PROT_RW | PT_PROT_U)
#define UR   (PT_PROT_R | PT_PROT_U)
#define UW   (PT_PROT_W | PT_PROT_U)

/* ---------------------------------------------------------------------- */
/* Registers                                                               */

static void test_regs(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_env t;
	uint64_t cap, ecap;

	vt_init(&t, NULL, &c2);
	cap = vt_rd(&t, VTD_CAP_REG, 8);
	ecap = vt_rd(&t, VTD_ECAP_REG, 8);
	assert_int_equal(vt_rd(&t, VTD_VER_REG, 4), 0x30);
	assert_int_equal((cap >> 8) & 0x1f, 0x6);	     /* SAGAW 39 + 48 */
	assert_int_equal(((cap >> 16) & 0x3f) + 1, 48);	     /* MGAW */
	assert_int_equal(((cap >> 24) & 0x3ff) * 16, 0x220); /* FRO */
	assert_int_equal(((cap >> 40) & 0xff) + 1, 8);	     /* NFR */
	assert_true(cap & VTD_CAP_PSI);
	assert_true(cap & VTD_CAP_FS1GP);
	assert_false(cap & VTD_CAP_FS5LP);
	assert_int_equal((cap >> 34) & 0xf, 3); /* SSLPS 2M + 1G */
	assert_true(ecap & VTD_ECAP_SMTS);
	assert_true(ecap & VTD_ECAP_FSTS);
	assert_true(ecap & VTD_ECAP_SSTS);
	assert_true(ecap & VTD_ECAP_NEST);
	assert_true(ecap & VTD_ECAP_PASID);
	assert_true(ecap & VTD_ECAP_QI);
	assert_true(ecap & VTD_ECAP_SLADS);
	assert_int_equal((ecap >> 35) & 0x1f, 19); /* PSS: 20-bit PASIDs */
	assert_false(ecap & (1ULL << 2));	   /* DT: no ATS */
	/* GSTS after vt_init: root pointer latched, queue and translation on. */
	assert_int_equal(vt_rd(&t, VTD_GSTS_REG, 4), VTD_GSTS_TES | VTD_GSTS_RTPS | VTD_GSTS_QIES);
	assert_int_equal(vt_rd(&t, VTD_GCMD_REG, 4), 0); /* write-only */
	assert_int_equal(vt_rd(&t, VTD_RTADDR_REG, 8), t.root | VTD_RTADDR_SMT);
	/* TE off (QIE kept): TES clears. */
	vt_wr(&t, VTD_GCMD_REG, 4, VTD_GCMD_QIE);
	assert_int_equal(vt_rd(&t, VTD_GSTS_REG, 4), VTD_GSTS_RTPS | VTD_GSTS_QIES);
	/* Read-only registers ignore writes. */
	vt_wr(&t, VTD_CAP_REG, 8, 0);
	assert_int_equal(vt_rd(&t, VTD_CAP_REG, 8), cap);
	/* 8-byte access to two 32-bit registers (FEADDR / FEUADDR). */
	vt_wr(&t, VTD_FEADDR_REG, 8, 0x1234567800001000ULL);
	assert_int_equal(vt_rd(&t, VTD_FEADDR_REG, 4), 0x1000);
	assert_int_equal(vt_rd(&t, VTD_FEUADDR_REG, 4), 0x12345678);
	/* Bad accesses. */
	uint64_t v;
	assert_int_equal(vtd_mmio_read(t.v, 0x2, 4, &v), -EINVAL);
	assert_int_equal(vtd_mmio_read(t.v, 0x0, 2, &v), -EINVAL);
	assert_int_equal(vtd_mmio_write(t.v, VTD_MMIO_SIZE, 4, 0), -EINVAL);
	assert_int_equal(vtd_mmio_read(t.v, VTD_MMIO_SIZE - 4, 8, &v), -EINVAL);
	vt_destroy(&t);
}

static void test_params(void **state)
{
	struct pt_arena a;
	struct vtd_params p;
	struct vtd *v;

	assert_int_equal(pt_arena_init(&a, HBASE, 0x100000), 0);
	vtd_params_default(&p);
	p.sagaw = 0x1; /* bit 0 (30-bit, 2-level) is not modelled */
	assert_int_equal(vtd_new(&p, &a.mem, &v), -EINVAL);
	vtd_params_default(&p);
	p.nfr = 0;
	assert_int_equal(vtd_new(&p, &a.mem, &v), -EINVAL);
	vtd_params_default(&p);
	p.sslps = 2; /* 1G without 2M has no encoding */
	assert_int_equal(vtd_new(&p, &a.mem, &v), -EINVAL);
	vtd_params_default(&p);
	p.pss = 20;
	assert_int_equal(vtd_new(&p, &a.mem, &v), -EINVAL);
	pt_arena_destroy(&a);
}

/* ---------------------------------------------------------------------- */
/* Translation types                                                       */

static void test_te_off(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_env t;
	struct vtd_result r;

	vt_init(&t, NULL, &c2);
	vt_wr(&t, VTD_GCMD_REG, 4, VTD_GCMD_QIE);
	/* No context entry at all: with TE = 0 the address passes untranslated. */
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, 0x1234000, UW, &r), 0);
	assert_int_equal(r.pa, 0x1234000);
	vt_destroy(&t);
}

static void test_ss_only(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct xlate_result xr;
	struct vtd_result r;
	struct vtd_env t;

	vt_init(&t, NULL, &c2);
	vt_set_ctx(&t, 0, 0);
	vt_pe_ss(&t, 0, DID);
	/* Without PASID: RID_PASID 0 selects the second-stage entry. */
	assert_int_equal(xlate(&t.e.xc, GRAM_IPA + 0x3000, PT_PROT_W, &xr, NULL, NULL), PT_OK);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, GRAM_IPA + 0x3000, UW, &r), 0);
	assert_int_equal(r.pa, xr.pa);
	assert_int_equal(r.pa, t.e.gram_pa + 0x3000);
	/* Unmapped GPA: no R for a read (0x06), no W for a write (0x05). */
	vt_expect_fault(&t, VTD_NO_PASID, 0x1000, UR, VTD_FR_SM_READ, true);
	vt_expect_fault(&t, VTD_NO_PASID, 0x1000, UW, VTD_FR_SM_WRITE, true);
	/* A read-only page refuses writes with 0x05. */
	assert_int_equal(pt_map(&t.e.s2, 0x200000, t.e.data_pa, 0x1000, PT_PROT_R), 0);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, 0x200000, UR, &r), 0);
	vt_expect_fault(&t, VTD_NO_PASID, 0x200000, UW, VTD_FR_SM_WRITE, true);
	/* Beyond the 48-bit AGAW: 0x04. */
	vt_expect_fault(&t, VTD_NO_PASID, 1ULL << 48, UR, VTD_FR_ADDR_GAW, true);
	vt_destroy(&t);
}

static void test_ss_aw(void **state)
{
	struct pt_cfg c2 = env_mk(PT_VTD_SS, 12, 39, 48, 0, 0);
	struct vtd_result r;
	struct vtd_env t;
	uint64_t *pe;

	vt_init(&t, NULL, &c2);
	vt_set_ctx(&t, 0, 0);
	vt_set_pe(&t, 0, PE0_P | PE0_AW(1) | PE0_PGTT(2) | t.e.s2.root, DID, 0);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, GRAM_IPA, UR, &r), 0);
	assert_int_equal(r.pa, t.e.gram_pa);
	/* 3 levels: 39-bit input; 2^39 is above the AGAW. */
	vt_expect_fault(&t, VTD_NO_PASID, 1ULL << 39, UR, VTD_FR_ADDR_GAW, true);
	/* AW 3 (57-bit, 5-level) is not in SAGAW 0x6: the PASID entry is invalid. */
	pe = vt_pe(&t, 0);
	pe[0] = PE0_P | PE0_AW(3) | PE0_PGTT(2) | t.e.s2.root;
	assert_true(vt_inv(&t, VTD_INV_PC | 3ULL << 4, 0));
	vt_expect_fault(&t, VTD_NO_PASID, GRAM_IPA, UR, VTD_FR_PTE_INV, true);
	vt_destroy(&t);
}

static void test_fs_only(void **state)
{
	struct pt_cfg c1 = vt_s1_cfg();
	struct vtd_result r;
	struct vtd_env t;

	vt_init(&t, &c1, NULL);
	vt_set_ctx(&t, 0, 0);
	vt_pe_fs(&t, PASID, DID, 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x2000, URW), 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA + 0x2000, t.e.data_pa, 0x1000, UR), 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA + 0x3000, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(vt_xlate(&t, PASID, IOVA + 0x1008, UW, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 0x1008);
	/* First-stage faults. */
	vt_expect_fault(&t, PASID, IOVA + 0x2000, UW, VTD_FR_SM_WRITE, true);
	vt_expect_fault(&t, PASID, IOVA + 0x3000, UR, VTD_FR_FS_PRIV, true);
	vt_expect_fault(&t, PASID, IOVA + 0x3000, UW, VTD_FR_FS_PRIV, true);
	vt_expect_fault(&t, PASID, IOVA + 0x100000, UR, VTD_FR_FS_NP, true);
	vt_expect_fault(&t, PASID, 1ULL << 48, UR, VTD_FR_FS_NON_CANONICAL, true);
	/* Reserved bits: PS in a PML4E. */
	uint64_t *pml4e = env_desc_at(&t.e.s1, IOVA, 4, NULL);
	*pml4e |= 1ULL << 7;
	vt_expect_fault(&t, PASID, IOVA + 0x4000, UR, VTD_FR_FS_RSVD, true);
	*pml4e &= ~(1ULL << 7);
	/* FSPTPTR outside memory: the first read fails (0x73). */
	vt_pe(&t, PASID)[2] = 0x1000;
	assert_true(vt_inv(&t, VTD_INV_PC | 3ULL << 4, 0));
	vt_expect_fault(&t, PASID, IOVA + 0x5000, UR, VTD_FR_FSPTPTR_INV, true);
	/* A table pointer outside memory below the top: 0x70. */
	vt_pe(&t, PASID)[2] = t.e.s1.root;
	assert_true(vt_inv(&t, VTD_INV_PC | 3ULL << 4, 0));
	uint64_t *pdpte = env_desc_at(&t.e.s1, IOVA, 3, NULL), save = *pdpte;
	*pdpte = (save & 0xfff) | 0x1000;
	vt_expect_fault(&t, PASID, IOVA + 0x6000, UR, VTD_FR_FS_READ_ERR, true);
	*pdpte = save;
	/* An output in the interrupt window: 0x87. */
	assert_int_equal(pt_map(&t.e.s1, 0x40000000000ULL, 0xfee00000ULL, 0x1000, URW), 0);
	vt_expect_fault(&t, PASID, 0x40000000000ULL, UW, VTD_FR_SM_INTERRUPT_ADDR, true);
	vt_destroy(&t);
}

/* Nested: a 4-level first stage in guest RAM over a 4-level second stage of 4K pages. */
static void test_nested_reads(void **state)
{
	struct pt_cfg c1 = vt_s1_cfg(), c2 = vt_s2_cfg(PT_CFG_NO_BLOCKS);
	struct vtd_params p;
	struct vtd_txn txn = {.sid = VSID, .pasid = PASID, .addr = IOVA + 0x10, .access = UW};
	struct vtd_trace tr;
	struct vtd_result r;
	struct vtd_env t;
	unsigned int s1 = 0, s2 = 0;

	vtd_params_default(&p);
	p.no_cache = true;
	vt_init_p(&t, &c1, &c2, &p);
	vt_set_ctx(&t, 0, 0);
	vt_pe_nested(&t, PASID, DID, 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_ipa, 0x1000, URW), 0);
	assert_int_equal(vtd_translate_traced(t.v, &txn, &r, &tr), 0);
	assert_int_equal(r.pa, t.e.data_pa + 0x10);
	/* Structures: root, context, PASID directory, PASID entry. */
	assert_int_equal(tr.n, 4);
	assert_int_equal(tr.rd[0].pa, t.root + 16);
	assert_int_equal(tr.rd[1].pa, t.ctx + 8 * 32);
	assert_int_equal(tr.rd[2].pa, t.pdir + 8);
	assert_int_equal(tr.rd[3].pa, t.ptbl + 7 * 64);
	/* (4 + 1) * (4 + 1) - 1 = 24 reads: 4 first-stage, 20 second-stage. */
	assert_int_equal(tr.walk.n, 24);
	for (unsigned int i = 0; i < tr.walk.n; i++) {
		if (tr.walk.r[i].stage == 1) {
			s1++;
			/* Every first-stage fetch was translated: it lies in guest RAM. */
			assert_true(tr.walk.r[i].addr >= t.e.gram_pa &&
				    tr.walk.r[i].addr < t.e.gram_pa + t.e.gram_size);
		} else {
			s2++;
		}
	}
	assert_int_equal(s1, 4);
	assert_int_equal(s2, 20);
	/* FSPTPTR beyond guest RAM: the second stage refuses the top-level fetch (0x75). */
	vt_pe(&t, PASID)[2] = 0x1000;
	vt_expect_fault(&t, PASID, IOVA, UR, VTD_FR_NEST_FS_TOP_READ, true);
	vt_destroy(&t);
}

static void test_nested_faults(void **state)
{
	struct pt_cfg c1 = vt_s1_cfg(), c2 = vt_s2_cfg(0);
	struct vtd_result r;
	struct vtd_env t;

	vt_init(&t, &c1, &c2);
	vt_set_ctx(&t, 0, PASID);
	vt_pe_nested(&t, PASID, DID, 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_ipa, 0x1000, URW), 0);
	/* First-stage output beyond what the second stage maps: 0x05 for a write. */
	assert_int_equal(pt_map(&t.e.s1, IOVA + 0x1000, 0x100000000ULL, 0x1000, URW), 0);
	/* A first-stage output in the interrupt window: 0x87 (a GPA, checked before stage 2). */
	assert_int_equal(pt_map(&t.e.s1, IOVA + 0x2000, 0xfee00000ULL, 0x1000, URW), 0);
	/* Requests without PASID use RID_PASID = PASID. */
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, IOVA + 8, UW, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 8);
	vt_expect_fault(&t, VTD_NO_PASID, IOVA + 0x1000, UW, VTD_FR_SM_WRITE, true);
	vt_expect_fault(&t, VTD_NO_PASID, IOVA + 0x1000, UR, VTD_FR_SM_READ, true);
	vt_expect_fault(&t, PASID, IOVA + 0x2000, UR, VTD_FR_SM_READ, true);
	/* The second stage maps the window's GPA: now the window check decides. */
	assert_int_equal(pt_map(&t.e.s2, 0xfee00000ULL, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	vt_expect_fault(&t, PASID, IOVA + 0x2000, UR, VTD_FR_SM_INTERRUPT_ADDR, true);
	vt_destroy(&t);
}

static void test_pt(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_result r;
	struct vtd_env t;

	vt_init(&t, NULL, &c2);
	vt_set_ctx(&t, 0, 0);
	vt_set_pe(&t, 0, PE0_P | PE0_PGTT(4), DID, 0);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, 0x123456, UW, &r), 0);
	assert_int_equal(r.pa, 0x123456);
	vt_expect_fault(&t, VTD_NO_PASID, 1ULL << 48, UR, VTD_FR_ADDR_GAW, true);
	vt_destroy(&t);
}

/* Each structure check and its reason. */
static void test_structures(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_result r;
	struct vtd_env t;
	uint64_t *re, *ce, *pe, *pde;

	vt_init(&t, NULL, &c2);
	re = vt_hp(&t, t.root + 16);
	ce = vt_ce(&t, VSID);
	/* Root entry not present; reserved bits; the other half (devfn >= 128) absent. */
	re[0] = 0;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_ROOT_NP, true);
	re[0] = t.ctx | 1 | 1ULL << 3;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_ROOT_RSVD, true);
	re[0] = 0x1000 | 1; /* context table outside memory */
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_CTX_READ_ERR, true);
	re[0] = t.ctx | 1;
	/* Context entry: not present, reserved bits (bit 5, DTE without ATS, qword 2). */
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_CTX_NP, true);
	vt_set_ctx(&t, 1ULL << 5, 0);
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_CTX_RSVD, true);
	vt_set_ctx(&t, 1ULL << 2, 0);
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_CTX_RSVD, true);
	vt_set_ctx(&t, 0, 0);
	ce[2] = 1;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_CTX_RSVD, true);
	ce[2] = 0;
	/* PASID directory entry 0 not present, then its table, then the PASID entry. */
	pde = vt_hp(&t, t.pdir);
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_PDIR_NP, true);
	*pde = 0x2000 | 1;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_PTE_READ_ERR, true);
	*pde = t.ptbl | 1;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_PTE_NP, true);
	/* PASID directory outside memory. */
	ce[0] = CE0_P | CE0_PASIDE | 0x3000;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_PDIR_READ_ERR, true);
	vt_set_ctx(&t, 0, 0);
	/* PASID entry: each invalid field. */
	pe = vt_pe(&t, 0);
	static const uint64_t bad0[] = {
		PE0_P | PE0_PGTT(0),
		PE0_P | PE0_PGTT(5),
		PE0_P | PE0_PGTT(7),
		PE0_P | PE0_PGTT(2) | PE0_AW(0),
		PE0_P | PE0_PGTT(2) | PE0_AW(3),
		PE0_P | PE0_PGTT(2) | PE0_AW(2) | 1ULL << 10,
	};
	for (unsigned int i = 0; i < sizeof(bad0) / sizeof(bad0[0]); i++) {
		memset(pe, 0, 64);
		pe[0] = bad0[i];
		/* The last one is a reserved bit (0x5a), the others invalid fields (0x5b). */
		vt_expect_fault(&t, VTD_NO_PASID, 0, UR,
				i == sizeof(bad0) / sizeof(bad0[0]) - 1 ? VTD_FR_PTE_RSVD
									 : VTD_FR_PTE_INV,
				true);
	}
	static const uint64_t bad2[] = {
		PE2_FSPM(1),	      /* 5-level without FS5LP */
		PE2_FSPM(2), PE2_WPE, /* WPE without SRE */
		PE2_EAFE,	      /* EAFE without EAFS */
		1ULL << 1,   1ULL << 8,
	};
	for (unsigned int i = 0; i < sizeof(bad2) / sizeof(bad2[0]); i++) {
		memset(pe, 0, 64);
		pe[0] = PE0_P | PE0_PGTT(1);
		pe[2] = 0x5000 | bad2[i];
		/* Bits 1 and 8 are reserved (0x5a); the rest are combinations refused (0x5b). */
		vt_expect_fault(&t, VTD_NO_PASID, 0, UR,
				bad2[i] == 1ULL << 1 || bad2[i] == 1ULL << 8 ? VTD_FR_PTE_RSVD
									     : VTD_FR_PTE_INV,
				true);
	}
	memset(pe, 0, 64);
	pe[0] = PE0_P | PE0_PGTT(2) | PE0_AW(2) | t.e.s2.root;
	pe[5] = 1;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_PTE_RSVD, true);
	pe[5] = 0;
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, GRAM_IPA, UR, &r), 0);
	/* A request with PASID on a context entry without PASIDE: 0x0d. */
	ce[0] &= ~CE0_PASIDE;
	vt_expect_fault(&t, 0, GRAM_IPA + 0x1000, UR, VTD_FR_CTX_PASIDE, true);
	vt_destroy(&t);
}

static void test_root_table(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_env t;

	vt_init(&t, NULL, &c2);
	/* RTADDR outside memory: the root entry cannot be read (0x08). */
	vt_wr(&t, VTD_RTADDR_REG, 8, 0x7000 | VTD_RTADDR_SMT);
	vt_wr(&t, VTD_GCMD_REG, 4, VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_SRTP);
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_ROOT_READ_ERR, true);
	/* Legacy mode (TTM 00b) is not modelled: 0x31. */
	vt_wr(&t, VTD_RTADDR_REG, 8, t.root);
	vt_wr(&t, VTD_GCMD_REG, 4, VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_SRTP);
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_TTM_INV, true);
	/* RTADDR takes effect only with SRTP. */
	vt_wr(&t, VTD_RTADDR_REG, 8, t.root | VTD_RTADDR_SMT);
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_TTM_INV, true);
	vt_wr(&t, VTD_GCMD_REG, 4, VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_SRTP);
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_CTX_NP, true);
	vt_destroy(&t);
}

static void test_pdts(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_result r;
	struct vtd_env t;

	vt_init(&t, NULL, &c2);
	/* PDTS 0: 2^7 directory entries cover PASIDs 0 .. 2^13 - 1. */
	vt_set_ctx(&t, CE0_PDTS(0), 0);
	vt_pe_ss(&t, 0x1fff, DID);
	assert_int_equal(vt_xlate(&t, 0x1fff, GRAM_IPA, UR, &r), 0);
	vt_expect_fault(&t, 0x2000, GRAM_IPA, UR, VTD_FR_PASID_BEYOND_PDTS, true);
	/* PDTS 1: 2^8 entries: PASID 0x2000 is in range (its directory entry absent). */
	vt_set_ctx(&t, CE0_PDTS(1), 0);
	assert_true(vt_inv(&t, VTD_INV_CC | 1ULL << 4, 0));
	vt_expect_fault(&t, 0x2000, GRAM_IPA, UR, VTD_FR_PDIR_NP, true);
	vt_expect_fault(&t, 0x4000, GRAM_IPA, UR, VTD_FR_PASID_BEYOND_PDTS, true);
	/* A PASID beyond ECAP.PSS cannot be sent. */
	assert_int_equal(vt_xlate(&t, 1u << 20, GRAM_IPA, UR, &r), -EINVAL);
	vt_destroy(&t);
}

static void test_sre(void **state)
{
	struct pt_cfg c1 = vt_s1_cfg();
	struct vtd_params p;
	struct vtd_result r;
	struct vtd_env t;

	vt_init(&t, &c1, NULL);
	vt_set_ctx(&t, 0, 0);
	vt_pe_fs(&t, PASID, DID, 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	/* A supervisor request (no PT_PROT_U) with SRE = 0 is blocked: 0x5d. */
	vt_expect_fault(&t, PASID, IOVA, PT_PROT_R, VTD_FR_PTE_SRE, true);
	uint64_t hi = vt_rd(&t, VTD_FRCD_REG + 8, 8); /* freed, but the bits stay */
	assert_true(hi & (1ULL << 29));		      /* PRIV */
	vt_pe(&t, PASID)[2] |= PE2_SRE;
	assert_true(vt_inv(&t, VTD_INV_PC | 1ULL << 4 | (uint64_t)DID << 16 | (uint64_t)PASID << 32,
			   0));
	assert_int_equal(vt_xlate(&t, PASID, IOVA, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa);
	/* ... and a user request still faults on the supervisor page. */
	vt_expect_fault(&t, PASID, IOVA, UR, VTD_FR_FS_PRIV, true);
	vt_destroy(&t);
	/* Without ECAP.SRS, SRE = 1 makes the entry invalid. */
	vtd_params_default(&p);
	p.srs = false;
	vt_init_p(&t, &c1, NULL, &p);
	vt_set_ctx(&t, 0, 0);
	vt_pe_fs(&t, PASID, DID, PE2_SRE);
	vt_expect_fault(&t, PASID, IOVA, UR, VTD_FR_PTE_INV, true);
	vt_destroy(&t);
}

/* FPD suppresses qualified faults, at each of its three places. */
static void test_fpd(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_stats st;
	struct vtd_env t;
	uint64_t *pde;

	vt_init(&t, NULL, &c2);
	/* Context FPD: a missing PASID entry is not recorded. */
	vt_set_ctx(&t, CE0_FPD, 0);
	vt_pe(&t, 0);
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_PTE_NP, false);
	/* ... but a context entry that is itself not present always is. */
	vt_ce(&t, VSID)[0] = CE0_FPD;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_CTX_NP, true);
	/* Directory FPD. */
	vt_set_ctx(&t, 0, 0);
	pde = vt_hp(&t, t.pdir);
	*pde = t.ptbl | 1 | 2;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_PTE_NP, false);
	*pde = t.ptbl | 1;
	vt_expect_fault(&t, VTD_NO_PASID, 0, UR, VTD_FR_PTE_NP, true);
	/* PASID-entry FPD: a walk fault is not recorded. */
	vt_set_pe(&t, 0, PE0_P | PE0_FPD | PE0_AW(2) | PE0_PGTT(2) | t.e.s2.root, DID, 0);
	vt_expect_fault(&t, VTD_NO_PASID, 0x1000, UR, VTD_FR_SM_READ, false);
	vt_expect_fault(&t, VTD_NO_PASID, 1ULL << 50, UR, VTD_FR_ADDR_GAW, false);
	vtd_get_stats(t.v, &st);
	assert_int_equal(st.faults_suppressed, 4);
	assert_int_equal(st.faults, 2);
	vt_destroy(&t);
}

/* The record's bytes, FSTS, and the fault event. */
static void test_fault_record(void **state)
{
	struct pt_cfg c1 = vt_s1_cfg();
	struct vtd_env t;
	uint64_t lo, hi;

	vt_init(&t, &c1, NULL);
	vt_set_ctx(&t, 0, 0);
	vt_pe_fs(&t, PASID, DID, PE2_SRE);
	vt_wr(&t, VTD_FEDATA_REG, 4, 0xabcd);
	vt_wr(&t, VTD_FEADDR_REG, 4, t.status);
	/* IM is set at reset: the event is pending (IP) until IM clears. */
	assert_int_equal(vt_rd(&t, VTD_FECTL_REG, 4), VTD_CTL_IM);
	vt_xlate(&t, PASID, 0x7654321, PT_PROT_W | PT_PROT_X, &(struct vtd_result){0});
	assert_int_equal(vt_rd(&t, VTD_FECTL_REG, 4), VTD_CTL_IM | VTD_CTL_IP);
	assert_int_equal(t.irqs[VTD_IRQ_FAULT], 0);
	vt_wr(&t, VTD_FECTL_REG, 4, 0);
	assert_int_equal(vt_rd(&t, VTD_FECTL_REG, 4), 0);
	assert_int_equal(t.irqs[VTD_IRQ_FAULT], 1);
	assert_int_equal(vt_status(&t), 0xabcd);
	/* FSTS: PPF, FRI 1. */
	assert_int_equal(vt_rd(&t, VTD_FSTS_REG, 4), VTD_FSTS_PPF | 1u << 8);
	lo = vt_rd(&t, VTD_FRCD_REG, 8);
	hi = vt_rd(&t, VTD_FRCD_REG + 8, 8);
	assert_int_equal(lo, 0x7654000);
	assert_int_equal(hi & 0xffff, VSID);
	assert_true(hi & (1ULL << 29)); /* PRIV: supervisor request */
	assert_true(hi & (1ULL << 30)); /* EXE */
	assert_true(hi & (1ULL << 31)); /* PP */
	assert_int_equal((hi >> 32) & 0xff, VTD_FR_FS_NP);
	assert_int_equal((hi >> 40) & 0xfffff, PASID);
	assert_int_equal((hi >> 60) & 3, 0); /* AT: untranslated */
	assert_false(hi & (1ULL << 62));     /* T: write */
	assert_true(hi >> 63);		     /* F */
	/* 128-bit record as two 64-bit reads, and the high dword as a 32-bit read. */
	assert_int_equal(vt_rd(&t, VTD_FRCD_REG + 12, 4), hi >> 32);
	/* A second fault while PPF is set: recorded, no new event. */
	vt_xlate(&t, VTD_NO_PASID, 0x5000, UR, &(struct vtd_result){0});
	assert_int_equal(t.irqs[VTD_IRQ_FAULT], 1);
	hi = vt_rd(&t, VTD_FRCD_REG + 16 + 8, 8);
	assert_int_equal(hi & ((1ULL << 31) | (1ULL << 29)), 0); /* no PASID, not PRIV */
	assert_true(hi & (1ULL << 62));				 /* T: read */
	assert_int_equal((hi >> 40) & 0xfffff, 0);
	/* A 32-bit write of the low half of the high qword leaves F alone. */
	vt_wr(&t, VTD_FRCD_REG + 8, 4, 0xffffffff);
	assert_true(vt_rd(&t, VTD_FRCD_REG + 8, 8) >> 63);
	/* F is write-1-to-clear (32-bit write of the top dword). */
	vt_wr(&t, VTD_FRCD_REG + 12, 4, 1u << 31);
	vt_wr(&t, VTD_FRCD_REG + 16 + 8, 8, 1ULL << 63);
	assert_int_equal(vt_rd(&t, VTD_FSTS_REG, 4), 2u << 8); /* PPF clear */
	vt_destroy(&t);
}

static void test_fault_overflow(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_params p;
	struct vtd_stats st;
	struct vtd_env t;

	vtd_params_default(&p);
	p.nfr = 2;
	vt_init_p(&t, NULL, &c2, &p);
	vt_wr(&t, VTD_FECTL_REG, 4, 0);
	vt_set_ctx(&t, 0, 0);
	vt_pe_ss(&t, 0, DID);
	{
		struct vtd_result r;

		assert_int_equal(vt_xlate(&t, VTD_NO_PASID, 0x1000, UR, &r), -EFAULT);
		assert_true(r.recorded);
		assert_true(vt_rd(&t, VTD_FRCD_REG + 8, 8) >> 63);
		assert_int_equal(vt_xlate(&t, VTD_NO_PASID, 0x2000, UR, &r), -EFAULT);
		assert_true(r.recorded);
		/* FRI wrapped to 0, still occupied: the third fault overflows. */
		assert_int_equal(vt_xlate(&t, VTD_NO_PASID, 0x3000, UR, &r), -EFAULT);
		assert_false(r.recorded);
		assert_int_equal(vt_rd(&t, VTD_FSTS_REG, 4), VTD_FSTS_PFO | VTD_FSTS_PPF);
		/* While PFO is set nothing is recorded, even into a free register. */
		vt_wr(&t, VTD_FRCD_REG + 8, 8, 1ULL << 63);
		assert_int_equal(vt_xlate(&t, VTD_NO_PASID, 0x4000, UR, &r), -EFAULT);
		assert_false(r.recorded);
		vt_wr(&t, VTD_FSTS_REG, 4, VTD_FSTS_PFO);
		assert_int_equal(vt_xlate(&t, VTD_NO_PASID, 0x5000, UR, &r), -EFAULT);
		assert_true(r.recorded);
		assert_int_equal(vt_rd(&t, VTD_FRCD_REG, 8), 0x5000);
	}
	vtd_get_stats(t.v, &st);
	assert_int_equal(st.faults, 3);
	assert_int_equal(st.faults_lost, 2);
	/* Events: the first record (PPF 0 -> 1) and the overflow; none else. */
	assert_int_equal(t.irqs[VTD_IRQ_FAULT], 2);
	vt_destroy(&t);
}

/* FSPM 01b (5-level) with CAP.FS5LP; 1 GiB first-stage leaves need CAP.FS1GP. */
static void test_fs_levels(void **state)
{
	struct pt_cfg c5 = env_mk(PT_X86, 12, 57, 48, 0, 0), c4 = vt_s1_cfg();
	struct vtd_params p;
	struct vtd_result r;
	struct vtd_env t;

	vtd_params_default(&p);
	p.fs5lp = true;
	vt_init_p(&t, &c5, NULL, &p);
	vt_set_ctx(&t, 0, 0);
	vt_pe_fs(&t, PASID, DID, PE2_FSPM(1));
	assert_int_equal(pt_map(&t.e.s1, 1ULL << 52, t.e.data_pa, 0x1000, URW), 0);
	assert_int_equal(vt_xlate(&t, PASID, (1ULL << 52) + 0x10, UR, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 0x10);
	vt_expect_fault(&t, PASID, 1ULL << 57, UR, VTD_FR_FS_NON_CANONICAL, true);
	/* The same tables read as 4-level (FSPM 00b): 2^52 is not canonical for 48 bits. */
	vt_pe(&t, PASID)[2] &= ~PE2_FSPM(3);
	assert_true(vt_inv(&t, VTD_INV_PC | 3ULL << 4, 0));
	vt_expect_fault(&t, PASID, (1ULL << 52) + 0x20, UR, VTD_FR_FS_NON_CANONICAL, true);
	vt_destroy(&t);

	/* A 1 GiB leaf: fine with FS1GP, reserved (PS in a PDPTE) without. */
	vt_init(&t, &c4, NULL);
	vt_set_ctx(&t, 0, 0);
	vt_pe_fs(&t, PASID, DID, 0);
	assert_int_equal(pt_map(&t.e.s1, 1ULL << 30, 1ULL << 30, 1ULL << 30, URW), 0);
	assert_int_equal(vt_xlate(&t, PASID, (1ULL << 30) + 0x12345678, UR, &r), 0);
	assert_int_equal(r.pa, (1ULL << 30) + 0x12345678);
	assert_int_equal(r.size, 1ULL << 30);
	vt_destroy(&t);
	vtd_params_default(&p);
	p.fs1gp = false;
	vt_init_p(&t, &c4, NULL, &p);
	vt_set_ctx(&t, 0, 0);
	vt_pe_fs(&t, PASID, DID, 0);
	assert_int_equal(pt_map(&t.e.s1, 1ULL << 30, 1ULL << 30, 1ULL << 30, URW), 0);
	vt_expect_fault(&t, PASID, 1ULL << 30, UR, VTD_FR_FS_RSVD, true);
	vt_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* clang-format off */
		cmocka_unit_test(test_regs),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_te_off),
		cmocka_unit_test(test_ss_only),
		cmocka_unit_test(test_ss_aw),
		cmocka_unit_test(test_fs_only),
		cmocka_unit_test(test_fs_levels),
		cmocka_unit_test(test_nested_reads),
		cmocka_unit_test(test_nested_faults),
		cmocka_unit_test(test_pt),
		cmocka_unit_test(test_structures),
		cmocka_unit_test(test_root_table),
		cmocka_unit_test(test_pdts),
		cmocka_unit_test(test_sre),
		cmocka_unit_test(test_fpd),
		cmocka_unit_test(test_fault_record),
		cmocka_unit_test(test_fault_overflow),
		/* clang-format on */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
