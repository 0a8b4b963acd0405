// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: each command's effect on the caches. Pattern: translate
 * (fills the caches), change the tables or structures in memory, see the
 * stale answer, issue invalidations that do not cover it (still stale),
 * then the right one (fresh).
 *
 * Command encodings (qword 0 / qword 1):
 *   CFGI_STE        0x03 | SID << 32                / Leaf [0]
 *   CFGI_STE_RANGE  0x04 | SID << 32                / Range [4:0] (31: CFGI_ALL)
 *   CFGI_CD         0x05 | SSID << 12 | SID << 32   / Leaf
 *   CFGI_CD_ALL     0x06 | SID << 32
 *   TLBI_NH_ALL     0x10 | VMID << 32
 *   TLBI_NH_ASID    0x11 | VMID << 32 | ASID << 48
 *   TLBI_NH_VA      0x12 | NUM << 12 | SCALE << 20 | VMID << 32 | ASID << 48
 *                                  / Leaf [0] | TTL [9:8] | TG [11:10] | Address [63:12]
 *   TLBI_NH_VAA     0x13 | (as NH_VA, no ASID)
 *   TLBI_S12_VMALL  0x28 | VMID << 32
 *   TLBI_S2_IPA     0x2a | NUM / SCALE / VMID as NH_VA / as NH_VA with the IPA
 *   TLBI_NSNH_ALL   0x30
 */
#include "smmuv3_env.h"
#include "util/alloc.h"

#define SID  1
#define VMID 3ULL
#define ASID 7ULL
#define IOVA 0x10000000ULL

static void setup_s1(struct smmu_env *t)
{
	struct pt_cfg c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);

	smmu_env_init(t, &c, NULL);
	cd_set(sm_hp(t, t->free), cd0_std(ASID), t->e.s1.root);
	ste_set(t, SID, STE0_V | STE0_CFG(5) | t->free, 0, STE2_VMID(VMID), 0);
}

static uint64_t pa_of(struct smmu_env *t, uint64_t iova)
{
	struct smmuv3_result r;

	assert_int_equal(sm_xlate(t, SID, SMMU_NO_SSID, iova, PT_PROT_R, &r), 0);
	return r.pa;
}

/* Point page @iova at @pa (4K). */
static void remap(struct smmu_env *t, uint64_t iova, uint64_t pa)
{
	assert_int_equal(pt_unmap(&t->e.s1, iova, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&t->e.s1, iova, pa, 0x1000, PT_PROT_RW), 0);
}

/* One stale page at IOVA (old P1, new P2) for the invalidation under test. */
static void stale_page(struct smmu_env *t, uint64_t *p1, uint64_t *p2)
{
	*p1 = t->e.data_pa;
	*p2 = t->e.data_pa + 0x1000;
	assert_int_equal(pt_map(&t->e.s1, IOVA, *p1, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pa_of(t, IOVA), *p1);
	remap(t, IOVA, *p2);
	assert_int_equal(pa_of(t, IOVA), *p1);
}

static void test_tlbi_nh_va(void **state)
{
	struct smmu_env t;
	uint64_t p1, p2;

	setup_s1(&t);
	stale_page(&t, &p1, &p2);
	cmd_issue(&t, 0x12 | VMID << 32 | 8ULL << 48, IOVA);		/* other ASID */
	cmd_issue(&t, 0x12 | 4ULL << 32 | ASID << 48, IOVA);		/* other VMID */
	cmd_issue(&t, 0x12 | VMID << 32 | ASID << 48, IOVA + 0x1000);	/* other page */
	assert_int_equal(pa_of(&t, IOVA), p1);
	cmd_issue(&t, 0x12 | VMID << 32 | ASID << 48, IOVA | 1);	/* Leaf */
	assert_int_equal(pa_of(&t, IOVA), p2);
	assert_int_equal(sm_r32(&t, SMMU_GERROR), 0);
	smmu_env_destroy(&t);
}

static void test_tlbi_nh_vaa(void **state)
{
	struct smmu_env t;
	uint64_t p1, p2;

	setup_s1(&t);
	stale_page(&t, &p1, &p2);
	cmd_issue(&t, 0x13 | 4ULL << 32, IOVA);
	assert_int_equal(pa_of(&t, IOVA), p1);
	cmd_issue(&t, 0x13 | VMID << 32, IOVA);
	assert_int_equal(pa_of(&t, IOVA), p2);
	smmu_env_destroy(&t);
}

static void test_tlbi_nh_asid(void **state)
{
	struct smmu_env t;
	uint64_t p1, p2;

	setup_s1(&t);
	stale_page(&t, &p1, &p2);
	cmd_issue(&t, 0x11 | VMID << 32 | 8ULL << 48, 0);
	assert_int_equal(pa_of(&t, IOVA), p1);
	cmd_issue(&t, 0x11 | VMID << 32 | ASID << 48, 0);
	assert_int_equal(pa_of(&t, IOVA), p2);
	smmu_env_destroy(&t);
}

static void test_tlbi_nh_all_s12_nsnh(void **state)
{
	struct smmu_env t;
	uint64_t p1, p2;

	setup_s1(&t);
	stale_page(&t, &p1, &p2);
	cmd_issue(&t, 0x10 | 4ULL << 32, 0);
	assert_int_equal(pa_of(&t, IOVA), p1);
	cmd_issue(&t, 0x10 | VMID << 32, 0);
	assert_int_equal(pa_of(&t, IOVA), p2);

	remap(&t, IOVA, p1);
	assert_int_equal(pa_of(&t, IOVA), p2);
	cmd_issue(&t, 0x28 | 4ULL << 32, 0);
	assert_int_equal(pa_of(&t, IOVA), p2);
	cmd_issue(&t, 0x28 | VMID << 32, 0);
	assert_int_equal(pa_of(&t, IOVA), p1);

	remap(&t, IOVA, p2);
	assert_int_equal(pa_of(&t, IOVA), p1);
	cmd_issue(&t, 0x30, 0);
	assert_int_equal(pa_of(&t, IOVA), p2);
	smmu_env_destroy(&t);
}

/*
 * Range invalidation: 8 pages at IOVA -> data_pa + i * 4K, cached, then
 * remapped to data_pa + 0x10000 + i * 4K.
 *   TG 1 (4K), NUM 3, SCALE 0 at IOVA + 0x2000: (3 + 1) << 0 = 4 pages, 2..5
 *   TG 1, NUM 1, SCALE 1 at IOVA + 0x4000: (1 + 1) << 1 = 4 pages, 4..7
 */
static void test_tlbi_range(void **state)
{
	struct smmu_env t;
	uint64_t old = 0, nu = 0;

	setup_s1(&t);
	old = t.e.data_pa;
	nu = t.e.data_pa + 0x10000;
	assert_int_equal(pt_map(&t.e.s1, IOVA, old, 0x8000, PT_PROT_RW), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pa_of(&t, IOVA + i * 0x1000), old + i * 0x1000);
	for (int i = 0; i < 8; i++)
		remap(&t, IOVA + i * 0x1000, nu + i * 0x1000);
	cmd_issue(&t, 0x12 | 3 << 12 | 0 << 20 | VMID << 32 | ASID << 48,
		  (IOVA + 0x2000) | 1 << 10 | 3 << 8); /* TG 4K, TTL 3 */
	for (int i = 0; i < 8; i++)
		assert_int_equal(pa_of(&t, IOVA + i * 0x1000),
				 (i >= 2 && i <= 5 ? nu : old) + i * 0x1000);
	cmd_issue(&t, 0x12 | 1 << 12 | 1 << 20 | VMID << 32 | ASID << 48,
		  (IOVA + 0x4000) | 1 << 10);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pa_of(&t, IOVA + i * 0x1000), (i >= 2 ? nu : old) + i * 0x1000);
	smmu_env_destroy(&t);
}

/* Stage 2 only: TLBI_S2_IPA by VMID and IPA. */
static void test_tlbi_s2_ipa(void **state)
{
	struct pt_cfg c = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct smmuv3_result r;
	struct smmu_env t;

	smmu_env_init(&t, NULL, &c);
	ste_set(&t, SID, STE0_V | STE0_CFG(6), 0, ste2_std(VMID, 40, 1), t.e.s2.root);
	assert_int_equal(pa_of(&t, GRAM_IPA + 0x10), t.e.gram_pa + 0x10);
	assert_int_equal(pt_unmap(&t.e.s2, GRAM_IPA, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&t.e.s2, GRAM_IPA, t.e.gram_pa + 0x5000, 0x1000, PT_PROT_R), 0);
	assert_int_equal(pa_of(&t, GRAM_IPA + 0x10), t.e.gram_pa + 0x10);
	cmd_issue(&t, 0x2a | 4ULL << 32, GRAM_IPA);
	assert_int_equal(pa_of(&t, GRAM_IPA + 0x10), t.e.gram_pa + 0x10);
	cmd_issue(&t, 0x2a | VMID << 32, GRAM_IPA);
	assert_int_equal(pa_of(&t, GRAM_IPA + 0x10), t.e.gram_pa + 0x5010);
	/* And the new mapping is read-only. */
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, GRAM_IPA, PT_PROT_W, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_PERMISSION);
	smmu_env_destroy(&t);
}

/* Configuration invalidation: the decoded STE/CD stays until the right CFGI_*. */
static void test_cfgi(void **state)
{
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t *cd;

	setup_s1(&t);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pa_of(&t, IOVA), t.e.data_pa);

	/* STE -> abort */
	ste_at(&t, SID)[0] = STE0_V | STE0_CFG(0);
	assert_int_equal(pa_of(&t, IOVA), t.e.data_pa);
	cmd_issue(&t, 0x03 | 2ULL << 32, 1);
	assert_int_equal(pa_of(&t, IOVA), t.e.data_pa);
	cmd_issue(&t, 0x03 | (uint64_t)SID << 32, 1);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);

	/* back; CFGI_STE_RANGE Range 0 covers SIDs 0..1; Range 0 at SID 2 does not */
	ste_at(&t, SID)[0] = STE0_V | STE0_CFG(5) | t.free;
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	cmd_issue(&t, 0x04 | 2ULL << 32, 0);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	cmd_issue(&t, 0x04 | 0ULL << 32, 0);
	assert_int_equal(pa_of(&t, IOVA), t.e.data_pa);

	/* CD -> invalid: stale until CFGI_CD (SSID 0) */
	cd = sm_hp(&t, t.free);
	cd[0] &= ~CD0_V;
	assert_int_equal(pa_of(&t, IOVA), t.e.data_pa);
	cmd_issue(&t, 0x05 | 2ULL << 32, 1);
	assert_int_equal(pa_of(&t, IOVA), t.e.data_pa);
	cmd_issue(&t, 0x05 | (uint64_t)SID << 32, 1);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_CD);

	/* Errors are not cached: fixing the CD is enough. CFGI_CD_ALL, CFGI_ALL. */
	cd[0] |= CD0_V;
	assert_int_equal(pa_of(&t, IOVA), t.e.data_pa);
	cd[0] &= ~CD0_V;
	cmd_issue(&t, 0x06 | (uint64_t)SID << 32, 0);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	cd[0] |= CD0_V;
	assert_int_equal(pa_of(&t, IOVA), t.e.data_pa);
	cd[0] &= ~CD0_V;
	cmd_issue(&t, 0x04, 31);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(sm_r32(&t, SMMU_GERROR), 0);
	smmu_env_destroy(&t);
}

/* Commands for a stage the SMMU lacks are illegal; the no-op commands are accepted. */
static void test_cmd_stage_ill(void **state)
{
	static const uint64_t nop[] = { 0x01, 0x02, 0x01, 0x02, 0x01, 0x02 };
	struct smmuv3_params p;
	struct smmu_env t;

	smmuv3_params_default(&p);
	p.s2p = false;
	smmu_env_init_p(&t, NULL, NULL, &p);
	for (unsigned int i = 0; i < sizeof(nop) / sizeof(nop[0]); i++)
		cmd_issue(&t, nop[i], 0);
	cmd_issue(&t, 0x10, 0);
	assert_int_equal(sm_r32(&t, SMMU_GERROR), 0);
	cmd_issue(&t, 0x28 | VMID << 32, 0);	/* S12_VMALL without stage 2 */
	assert_int_equal(sm_r32(&t, SMMU_GERROR), SMMU_GERROR_CMDQ_ERR);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), SMMU_CERROR_ILL << 24 | 7);
	smmu_env_destroy(&t);

	p.s2p = true;
	p.s1p = false;
	smmu_env_init_p(&t, NULL, NULL, &p);
	cmd_issue(&t, 0x2a | VMID << 32, 0);
	assert_int_equal(sm_r32(&t, SMMU_GERROR), 0);
	cmd_issue(&t, 0x11 | VMID << 32, 0);	/* NH_ASID without stage 1 */
	assert_int_equal(sm_r32(&t, SMMU_GERROR), SMMU_GERROR_CMDQ_ERR);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), SMMU_CERROR_ILL << 24 | 1);
	smmu_env_destroy(&t);
}

/* The CERROR_ILL (1) of one command, on an SMMU built with @p. */
static unsigned int cmd_error(const struct smmuv3_params *p, uint64_t q0, uint64_t q1)
{
	struct smmu_env t;
	unsigned int err;

	smmu_env_init_p(&t, NULL, NULL, p);
	cmd_issue(&t, q0, q1);
	err = sm_r32(&t, SMMU_GERROR) & SMMU_GERROR_CMDQ_ERR
		      ? (sm_r32(&t, SMMU_CMDQ_CONS) & SMMU_CMDQ_CONS_ERR_MASK) >>
				SMMU_CMDQ_CONS_ERR_SHIFT
		      : SMMU_CERROR_NONE;
	smmu_env_destroy(&t);
	return err;
}

/*
 * IHI 0070: ATC_INV is ILLEGAL without ATS (§4.5.1), PRI_RESP without PRI
 * (§4.5.2), RESUME and STALL_TERM with STALL_MODEL 0b01 (§4.7.1, §4.7.2);
 * with the feature they are accepted (RESUME Action 0b11, PRI_RESP Resp
 * 0b11, ATC_INV Size > 52 aside).
 */
static void test_cmd_feature_ill(void **state)
{
	struct smmuv3_params off, on;

	smmuv3_params_default(&off);
	on = off;
	on.ats = on.pri = on.stall = true;
	assert_int_equal(cmd_error(&off, 0x40 | 1ULL << 32, 52), SMMU_CERROR_ILL);
	assert_int_equal(cmd_error(&off, 0x41 | 1ULL << 32, 2ULL << 12), SMMU_CERROR_ILL);
	assert_int_equal(cmd_error(&off, 0x44 | 1ULL << 12 | 1ULL << 32, 0), SMMU_CERROR_ILL);
	assert_int_equal(cmd_error(&off, 0x45 | 1ULL << 32, 0), SMMU_CERROR_ILL);
	assert_int_equal(cmd_error(&on, 0x40 | 1ULL << 32, 52), SMMU_CERROR_NONE);
	assert_int_equal(cmd_error(&on, 0x40 | 1ULL << 32, 53), SMMU_CERROR_ILL);
	assert_int_equal(cmd_error(&on, 0x41 | 1ULL << 32, 2ULL << 12), SMMU_CERROR_NONE);
	assert_int_equal(cmd_error(&on, 0x41 | 1ULL << 32, 3ULL << 12), SMMU_CERROR_ILL);
	for (uint64_t action = 0; action < 3; action++)
		assert_int_equal(cmd_error(&on, 0x44 | action << 12 | 1ULL << 32, 0),
				 SMMU_CERROR_NONE);
	assert_int_equal(cmd_error(&on, 0x44 | 3ULL << 12 | 1ULL << 32, 0), SMMU_CERROR_ILL);
	assert_int_equal(cmd_error(&on, 0x45 | 1ULL << 32, 0), SMMU_CERROR_NONE);
}

/* smmuv3_new's allocations are the project's: every one can be made to fail. */
static void test_new_failnth(void **state)
{
	struct smmuv3_params p;
	struct smmuv3 *s = NULL;
	unsigned long n;
	struct pt_arena a;

	smmuv3_params_default(&p);
	p.stall = true;
	assert_int_equal(pt_arena_init(&a, 0x100000, 0x10000), 0);
	for (n = 1;; n++) {
		int ret;

		ualloc_fail_nth(n);
		ret = smmuv3_new(&p, &a.mem, &s);
		if (ualloc_fail_nth_pending()) {
			ualloc_fail_nth(0);
			assert_int_equal(ret, 0);
			break;
		}
		assert_int_equal(ret, -ENOMEM);
	}
	/* The instance, its stall slots, and the cache's allocations. */
	assert_true(n > 3);
	smmuv3_free(s);
	pt_arena_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlbi_nh_va),
		cmocka_unit_test(test_tlbi_nh_vaa),
		cmocka_unit_test(test_tlbi_nh_asid),
		cmocka_unit_test(test_tlbi_nh_all_s12_nsnh),
		cmocka_unit_test(test_tlbi_range),
		cmocka_unit_test(test_tlbi_s2_ipa),
		cmocka_unit_test(test_cfgi),
		cmocka_unit_test(test_cmd_stage_ill),
		cmocka_unit_test(test_cmd_feature_ill),
		cmocka_unit_test(test_new_failnth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
