// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: HTTU (hardware access flag and dirty state) and stall.
 *
 * Memory as in smmuv3_env.h. Descriptors are looked at in host memory
 * after each translation: AF is bit 10; a stage-2 leaf is writable when
 * S2AP[1] (bit 7) is set, a stage-1 leaf when AP[2] (bit 7) is clear; DBM
 * is bit 51. Tables are made with PT_CFG_DBM, so writable leaves start
 * writable-clean (the state a driver doing dirty tracking maps them in).
 *
 * Stall records: q1 = STAG [15:0] | Stall [31] | ...; a stalled fault is
 * always recorded and answered by CMD_RESUME (Action [13:12]: 0 Terminate,
 * 1 Retry, 2 Abort; SID [63:32]; STAG in the second qword) or by
 * CMD_STALL_TERM (SID [63:32]).
 */
#include "smmuv3_env.h"

#define SID  1
#define VMID 3
#define ASID 7
#define IOVA 0x10000000ULL

#define D_AF	      (1ULL << 10)
#define D_AP2	      (1ULL << 7)
#define D_DBM	      (1ULL << 51)
#define STE1_S1STALLD (1ULL << 27)
#define STE2_HD	      (1ULL << 55)
#define CD0_HA	      (1ULL << 43)
#define EVT_STALL     (1ULL << 31)

#define RESUME(sid, action) (0x44ULL | (uint64_t)(action) << 12 | (uint64_t)(sid) << 32)
#define STALL_TERM(sid)	    (0x45ULL | (uint64_t)(sid) << 32)

static struct smmuv3_params feat_params(void)
{
	struct smmuv3_params p;

	smmuv3_params_default(&p);
	p.httu = true;
	p.stall = true;
	return p;
}

/* The leaf descriptor of @iova in @t (host pointer). */
static uint64_t *leaf_of(struct smmu_env *e, const struct pt_table *t, uint64_t iova)
{
	struct pt_leaf leaf;
	struct pt_fault f;

	assert_int_equal(pt_table_walk(t, iova, 0, &leaf, &f), PT_OK);
	return sm_hp(e, leaf.desc_addr);
}

static void test_idr(void **state)
{
	struct smmuv3_params p = feat_params();
	struct smmu_env t;

	smmu_env_init_p(&t, NULL, NULL, &p);
	/* Default 0x0d4c301b, plus HTTU 0b10 << 6, minus STALL_MODEL 0b01 << 24. */
	assert_int_equal(sm_r32(&t, SMMU_IDR0), (0x0d4c301b | 2u << 6) & ~(1u << 24));
	/* STALL_MAX [31:16] = 32 (the default). */
	assert_int_equal(sm_r32(&t, SMMU_IDR5), 0x75 | 32u << 16);
	smmu_env_destroy(&t);

	p.stall_max = 0x10000;
	assert_int_equal(smmuv3_new(&p, &t.e.host.mem, &t.s), -EINVAL);
}

/* Stage 2: S2HA sets AF; S2HD (with S2HA) makes DBM leaves writable-dirty on a write. */
static void test_s2_httu(void **state)
{
	struct pt_cfg c = env_mk(PT_VMSA_S2, 12, 40, 48, 1, PT_CFG_DBM | PT_CFG_NO_BLOCKS);
	struct smmuv3_params p = feat_params();
	uint64_t q2 = ste2_std(VMID, 40, 1), *d;
	struct smmuv3_result r;
	struct smmu_env t;
	const uint64_t *e;

	smmu_env_init_p(&t, NULL, &c, &p);
	ste_set(&t, 1, STE0_V | STE0_CFG(6), 0, q2 | STE2_HA | STE2_HD, t.e.s2.root);
	ste_set(&t, 2, STE0_V | STE0_CFG(6), 0, ste2_std(VMID + 1, 40, 1) | STE2_HA, t.e.s2.root);
	ste_set(&t, 3, STE0_V | STE0_CFG(6), 0, ste2_std(VMID + 2, 40, 1), t.e.s2.root);

	/* The map made the leaf writable-clean. */
	d = leaf_of(&t, &t.e.s2, GRAM_IPA + 0x5000);
	assert_int_equal(*d & (D_DBM | D_AP2 | D_AF), D_DBM | D_AF);

	/* No HTTU in the STE: a write to a clean leaf is a stage-2 permission fault. */
	assert_int_equal(sm_xlate(&t, 3, SMMU_NO_SSID, GRAM_IPA + 0x5000, PT_PROT_W, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_PERMISSION);
	e = evt_next(&t);
	assert_true(e[1] & (1ULL << 39)); /* S2 */
	/* HA alone: the same (DBM is ignored). */
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, GRAM_IPA + 0x5000, PT_PROT_W, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_PERMISSION);
	evt_next(&t);
	assert_int_equal(*d & (D_DBM | D_AP2), D_DBM);

	/* HA | HD: a read leaves it clean (and fills the IOTLB), the write after it dirties it. */
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, GRAM_IPA + 0x5008, PT_PROT_R, &r), 0);
	assert_int_equal(*d & (D_DBM | D_AP2), D_DBM);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, GRAM_IPA + 0x5010, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, t.e.gram_pa + 0x5010);
	assert_int_equal(*d & (D_DBM | D_AP2), D_DBM | D_AP2);
	/* The neighbour page is untouched. */
	assert_int_equal(*leaf_of(&t, &t.e.s2, GRAM_IPA + 0x6000) & D_AP2, 0);

	/* Software cleans it and invalidates: the next write marks it again. */
	*d &= ~D_AP2;
	cmd_issue(&t, SMMU_CMD_TLBI_S2_IPA | (uint64_t)VMID << 32, GRAM_IPA + 0x5000);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, GRAM_IPA + 0x5000, PT_PROT_W, &r), 0);
	assert_int_equal(*d & D_AP2, D_AP2);

	/* AF: clear it; without HA an access fault, with HA the walk sets it. */
	d = leaf_of(&t, &t.e.s2, GRAM_IPA + 0x7000);
	*d &= ~D_AF;
	assert_int_equal(sm_xlate(&t, 3, SMMU_NO_SSID, GRAM_IPA + 0x7000, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_ACCESS);
	evt_next(&t);
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, GRAM_IPA + 0x7000, PT_PROT_R, &r), 0);
	assert_int_equal(*d & (D_AF | D_AP2), D_AF);
	assert_true(evt_empty(&t));
	smmu_env_destroy(&t);
}

/* Stage 1: CD.HA / CD.HD, the same rules on AP[2]. */
static void test_cd_httu(void **state)
{
	struct pt_cfg c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_DBM);
	struct smmuv3_params p = feat_params();
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t *d;

	smmu_env_init_p(&t, &c, NULL, &p);
	cd_set(sm_hp(&t, t.free), cd0_std(ASID) | CD0_HA | CD0_HD, t.e.s1.root);
	cd_set(sm_hp(&t, t.free + 64), cd0_std(ASID + 1) | CD0_HA, t.e.s1.root);
	cd_set(sm_hp(&t, t.free + 128), cd0_std(ASID + 2) | CD0_HD, t.e.s1.root);
	for (uint32_t i = 0; i < 3; i++)
		ste_set(&t, 1 + i, STE0_V | STE0_CFG(5) | (t.free + 64 * i), 0, STE2_VMID(VMID), 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	d = leaf_of(&t, &t.e.s1, IOVA);
	/* Writable-clean at stage 1: AP[2] = 1 (read-only) with DBM. */
	assert_int_equal(*d & (D_DBM | D_AP2), D_DBM | D_AP2);

	/* HA only, and HD without HA (ignored): permission faults. */
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, IOVA, PT_PROT_W, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_PERMISSION);
	evt_next(&t);
	assert_int_equal(sm_xlate(&t, 3, SMMU_NO_SSID, IOVA, PT_PROT_W, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_PERMISSION);
	evt_next(&t);
	assert_int_equal(*d & D_AP2, D_AP2);
	/* HA | HD: dirty on the write, AP[2] cleared. */
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA + 8, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 8);
	assert_int_equal(*d & (D_DBM | D_AP2), D_DBM);
	smmu_env_destroy(&t);

	/* Without HTTU in the IDRs, HA is ILLEGAL: C_BAD_CD. */
	p.httu = false;
	smmu_env_init_p(&t, &c, NULL, &p);
	cd_set(sm_hp(&t, t.free), cd0_std(ASID) | CD0_HA, t.e.s1.root);
	ste_set(&t, 1, STE0_V | STE0_CFG(5) | t.free, 0, STE2_VMID(VMID), 0);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_CD);
	smmu_env_destroy(&t);
}

/* A stall of SID @sid: -EAGAIN, and its record (Stall, STAG, type). Returns the STAG. */
static uint16_t expect_stall(struct smmu_env *t, uint32_t sid, uint64_t addr, unsigned int access,
			     enum smmuv3_event_type type, bool s2)
{
	struct smmuv3_result r;
	const uint64_t *e;

	assert_int_equal(sm_xlate(t, sid, SMMU_NO_SSID, addr, access, &r), -EAGAIN);
	assert_true(r.stalled);
	assert_true(r.recorded);
	assert_int_equal(r.event, type);
	e = evt_next(t);
	assert_int_equal(e[0], (uint64_t)type | (uint64_t)sid << 32);
	assert_true(e[1] & EVT_STALL);
	assert_int_equal(e[1] & 0xffff, r.stag);
	assert_int_equal(!!(e[1] & (1ULL << 39)), s2);
	assert_int_equal(e[2], addr);
	return r.stag;
}

static void test_stall_s1(void **state)
{
	struct pt_cfg c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct smmuv3_params p = feat_params();
	struct smmuv3_result r;
	struct smmuv3_stats st;
	struct smmu_env t;
	uint16_t stag, stag2;

	p.stall_max = 2;
	smmu_env_init_p(&t, &c, NULL, &p);
	/* SID 1: CD.S, and CD.R clear (a stall is recorded anyway). SID 2: S1STALLD. */
	cd_set(sm_hp(&t, t.free), (cd0_std(ASID) & ~CD0_R) | CD0_S, t.e.s1.root);
	ste_set(&t, 1, STE0_V | STE0_CFG(5) | t.free, 0, STE2_VMID(VMID), 0);
	ste_set(&t, 2, STE0_V | STE0_CFG(5) | t.free, STE1_S1STALLD, STE2_VMID(VMID), 0);

	/* CD.S with S1STALLD is ILLEGAL. */
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_CD);
	evt_next(&t);

	/* Retry while still unmapped: it stalls again, under a new tag. */
	stag = expect_stall(&t, 1, IOVA + 0x10, PT_PROT_W, SMMU_EVT_F_TRANSLATION, false);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, (uint16_t)(stag + 1)), -ENOENT);
	cmd_issue(&t, RESUME(1, 1), stag);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag), 0);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag), -ENOENT); /* the tag is free again */
	stag2 = expect_stall(&t, 1, IOVA + 0x10, PT_PROT_W, SMMU_EVT_F_TRANSLATION, false);
	assert_int_not_equal(stag2, stag);
	/* Software maps the page, then answers Retry: the retried transaction translates. */
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	cmd_issue(&t, RESUME(1, 1), stag2);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag2), 0);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA + 0x10, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 0x10);

	/* Abort and Terminate end it; a RESUME for another SID or tag does not. */
	stag = expect_stall(&t, 1, IOVA + 0x100000, PT_PROT_R, SMMU_EVT_F_TRANSLATION, false);
	stag2 = expect_stall(&t, 1, IOVA + 0x200000, PT_PROT_R, SMMU_EVT_F_TRANSLATION, false);
	cmd_issue(&t, RESUME(2, 1), stag);
	cmd_issue(&t, RESUME(1, 1), (uint16_t)(stag + stag2 + 1));
	/* STALL_MAX (2) are stalled: one more fault terminates as without stall (CD.R = 0). */
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA + 0x300000, PT_PROT_R, &r), -EFAULT);
	assert_false(r.stalled);
	assert_false(r.recorded);
	assert_true(evt_empty(&t));
	cmd_issue(&t, RESUME(1, 2), stag);
	cmd_issue(&t, RESUME(1, 0), stag2);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag), -EFAULT);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag2), -EFAULT);

	/* STALL_TERM ends every stalled transaction of the stream. */
	stag = expect_stall(&t, 1, IOVA + 0x100000, PT_PROT_R, SMMU_EVT_F_TRANSLATION, false);
	stag2 = expect_stall(&t, 1, IOVA + 0x200000, PT_PROT_W, SMMU_EVT_F_TRANSLATION, false);
	cmd_issue(&t, STALL_TERM(2), 0);
	cmd_issue(&t, STALL_TERM(1), 0);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag2), -EFAULT);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag), -EFAULT);

	/* RESUME Action 0b11 is reserved: CERROR_ILL. */
	cmd_issue(&t, RESUME(1, 3), 0);
	{
		uint32_t cons = sm_r32(&t, SMMU_CMDQ_CONS);
		uint64_t *slot =
			sm_hp(&t, t.cmdq + (uint64_t)(cons & ((1u << CMDQ_LOG2) - 1)) * 16);

		assert_int_equal(cons >> 24, SMMU_CERROR_ILL);
		/* As a driver does: the slot becomes a CMD_SYNC, then the error is acknowledged. */
		slot[0] = SMMU_CMD_SYNC;
		slot[1] = 0;
		sm_w32(&t, SMMU_GERRORN, sm_r32(&t, SMMU_GERROR));
		assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS) & 0xfffff, sm_r32(&t, SMMU_CMDQ_PROD));
	}

	/* A record that cannot be written cannot stall: with EVENTQEN = 0 it terminates. */
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA + 0x100000, PT_PROT_R, &r), -EFAULT);
	assert_false(r.stalled);
	assert_false(r.recorded);
	assert_int_equal(r.event, SMMU_EVT_F_TRANSLATION);

	/* A reset aborts what is stalled. */
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN | SMMU_CR0_EVENTQEN);
	stag = expect_stall(&t, 1, IOVA + 0x100000, PT_PROT_R, SMMU_EVT_F_TRANSLATION, false);
	smmuv3_get_stats(t.s, &st);
	assert_int_equal(st.stalls, 7);
	assert_int_equal(st.stall_retries, 2);
	smmuv3_reset(t.s);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag), -EFAULT);
	smmu_env_destroy(&t);
}

/* STE.S2S: stage-2 faults stall (S2 = 1 in the record); stage-1 ones follow CD.S. */
static void test_stall_s2(void **state)
{
	struct pt_cfg c1 = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct smmuv3_params p = feat_params();
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t cd_ipa;
	uint16_t stag;

	smmu_env_init_p(&t, &c1, &c2, &p);
	cd_ipa = t.e.data_ipa + 0x100000;
	cd_set(sm_hp(&t, t.e.gram_pa + (cd_ipa - GRAM_IPA)), cd0_std(ASID), t.e.s1.root);
	/* SID 1: nested, S2S. SID 2: stage 2 only, S2S. */
	ste_set(&t, 1, STE0_V | STE0_CFG(7) | cd_ipa, 0, ste2_std(VMID, 40, 1) | STE2_S,
		t.e.s2.root);
	ste_set(&t, 2, STE0_V | STE0_CFG(6), 0, ste2_std(VMID + 1, 40, 1) | STE2_S, t.e.s2.root);

	/* Stage 1 maps an IPA outside guest RAM: the stage-2 fault stalls. */
	assert_int_equal(pt_map(&t.e.s1, IOVA, 0x10000000, 0x1000, PT_PROT_RW), 0);
	stag = expect_stall(&t, 1, IOVA, PT_PROT_R, SMMU_EVT_F_TRANSLATION, true);
	cmd_issue(&t, RESUME(1, 2), stag);
	assert_int_equal(smmuv3_stall_wait(t.s, 1, stag), -EFAULT);
	/* A stage-1 fault without CD.S does not stall. */
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA + 0x1000, PT_PROT_R, &r), -EFAULT);
	assert_false(r.stalled);
	evt_next(&t);
	/* Stage 2 only. */
	stag = expect_stall(&t, 2, 0x10000000, PT_PROT_W, SMMU_EVT_F_TRANSLATION, true);
	cmd_issue(&t, RESUME(2, 1), stag);
	assert_int_equal(smmuv3_stall_wait(t.s, 2, stag), 0);
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, GRAM_IPA, PT_PROT_W, &r), 0);
	assert_true(evt_empty(&t));
	smmu_env_destroy(&t);

	/* Without stall in the IDRs, S2S is ILLEGAL. */
	p.stall = false;
	smmu_env_init_p(&t, NULL, &c2, &p);
	ste_set(&t, 2, STE0_V | STE0_CFG(6), 0, ste2_std(VMID, 40, 1) | STE2_S, t.e.s2.root);
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
	smmu_env_destroy(&t);
}

/*
 * STE.S1STALLD (§5.2): ILLEGAL with stage 1 on when STALL_MODEL is not 0b00;
 * IGNORED with stage 1 off; allowed with stall.
 */
static void test_s1stalld(void **state)
{
	struct pt_cfg c1 = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct smmuv3_params p = feat_params();
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t cd_ipa;

	for (int stall = 1; stall >= 0; stall--) {
		p.stall = stall;
		smmu_env_init_p(&t, &c1, &c2, &p);
		cd_ipa = t.e.data_ipa + 0x100000;
		cd_set(sm_hp(&t, t.e.gram_pa + (cd_ipa - GRAM_IPA)), cd0_std(ASID), t.e.s1.root);
		assert_int_equal(pt_map(&t.e.s1, IOVA, GRAM_IPA, 0x1000, PT_PROT_RW), 0);
		/* SID 1: nested with S1STALLD. SID 2: stage 2 only with S1STALLD. */
		ste_set(&t, 1, STE0_V | STE0_CFG(7) | cd_ipa, STE1_S1STALLD, ste2_std(VMID, 40, 1),
			t.e.s2.root);
		ste_set(&t, 2, STE0_V | STE0_CFG(6), STE1_S1STALLD, ste2_std(VMID, 40, 1),
			t.e.s2.root);
		if (stall) {
			assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), 0);
		} else {
			assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA, PT_PROT_R, &r),
					 -EFAULT);
			assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
			assert_int_equal(evt_next(&t)[0] & 0xff, SMMU_EVT_C_BAD_STE);
		}
		assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), 0);
		assert_true(evt_empty(&t));
		smmu_env_destroy(&t);
	}
}

/*
 * SMMU_IDR0.STALL_MODEL, every combination of STE.Config, CD.S,
 * STE.S1STALLD and STE.S2S under each model (IHI 0070 §5.2, §5.4 and its
 * SteIllegal() pseudocode, as Linux's arm-smmu-v3 commits quote them):
 * 0b00 stall configurable (S1STALLD may turn CD.S off: CD.S with it is
 * C_BAD_CD); 0b01 no stall (CD.S and S2S ILLEGAL, S1STALLD with stage 1
 * on ILLEGAL); 0b10 stall forced (CD.S = 0 C_BAD_CD, S2S = 0 with stage 2
 * on C_BAD_STE, S1STALLD with stage 1 on C_BAD_STE). Stage-1 faults come
 * from a CD with EPD0 (every walk a translation fault), stage-2 ones from
 * an IPA stage 2 does not map. S1STALLD and S2S are IGNORED by the stage
 * that is off; bypass checks neither.
 */
enum stall_outcome { SO_TERM, SO_STALL, SO_BAD_STE, SO_BAD_CD, SO_BYPASS };

static const struct stall_row {
	unsigned int config; /* STE.Config: 4 bypass, 5 S1, 6 S2, 7 nested */
	bool s, s1stalld, s2s;
	enum stall_outcome out[3]; /* STALL_MODEL 0b00, 0b01, 0b10 */
} stall_rows[] = {
	{5, 0, 0, 0, {SO_TERM, SO_TERM, SO_BAD_CD}},
	{5, 1, 0, 0, {SO_STALL, SO_BAD_CD, SO_STALL}},
	{5, 0, 1, 0, {SO_TERM, SO_BAD_STE, SO_BAD_STE}},
	{5, 1, 1, 0, {SO_BAD_CD, SO_BAD_STE, SO_BAD_STE}},
	{6, 0, 0, 0, {SO_TERM, SO_TERM, SO_BAD_STE}},
	{6, 0, 0, 1, {SO_STALL, SO_BAD_STE, SO_STALL}},
	{6, 0, 1, 0, {SO_TERM, SO_TERM, SO_BAD_STE}},
	{6, 0, 1, 1, {SO_STALL, SO_BAD_STE, SO_STALL}},
	{7, 0, 0, 0, {SO_TERM, SO_TERM, SO_BAD_STE}},
	{7, 1, 0, 0, {SO_STALL, SO_BAD_CD, SO_BAD_STE}},
	{7, 0, 0, 1, {SO_TERM, SO_BAD_STE, SO_BAD_CD}},
	{7, 1, 0, 1, {SO_STALL, SO_BAD_STE, SO_STALL}},
	{7, 0, 1, 1, {SO_TERM, SO_BAD_STE, SO_BAD_STE}},
	{7, 1, 1, 1, {SO_BAD_CD, SO_BAD_STE, SO_BAD_STE}},
	{4, 0, 1, 0, {SO_BYPASS, SO_BYPASS, SO_BYPASS}},
};

static void test_stall_model_table(void **state)
{
	struct pt_cfg c1 = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	const unsigned int n = sizeof(stall_rows) / sizeof(stall_rows[0]);
	struct smmuv3_params p = feat_params();
	struct smmuv3_result r;
	struct smmu_env t;

	(void)state;
	for (unsigned int model = 0; model < 3; model++) {
		uint64_t cd_pa[2], cd_ipa[2];

		p.stall = model != 1;
		p.stall_force = model == 2;
		smmu_env_init_p(&t, &c1, &c2, &p);
		assert_int_equal(sm_r32(&t, SMMU_IDR0) >> 24 & 3, model);
		/* CDs with EPD0, S = 0 and S = 1: at a PA (stage 1 only) and an IPA (nested). */
		for (unsigned int s = 0; s < 2; s++) {
			uint64_t q0 = cd0_std(ASID) | CD0_EPD0 | (s ? CD0_S : 0);

			cd_pa[s] = sm_alloc(&t, 64);
			cd_set(sm_hp(&t, cd_pa[s]), q0, 0);
			cd_ipa[s] = t.e.data_ipa + 0x100000 + 64 * s;
			cd_set(sm_hp(&t, t.e.gram_pa + (cd_ipa[s] - GRAM_IPA)), q0, 0);
		}
		for (unsigned int i = 0; i < n; i++) {
			const struct stall_row *w = &stall_rows[i];
			uint32_t sid = 1 + i;
			uint64_t q0 = STE0_V | STE0_CFG(w->config), q2 = 0, q3 = 0;
			uint64_t addr = w->config == 6 ? 0x10000000 : IOVA;
			int ret;

			if (w->config == 5)
				q0 |= cd_pa[w->s];
			if (w->config == 7)
				q0 |= cd_ipa[w->s];
			if (w->config & 2) {
				q2 = ste2_std(VMID, 40, 1) | (w->s2s ? STE2_S : 0);
				q3 = t.e.s2.root;
			}
			ste_set(&t, sid, q0, w->s1stalld ? STE1_S1STALLD : 0, q2, q3);
			ret = sm_xlate(&t, sid, SMMU_NO_SSID, addr, PT_PROT_R, &r);
			switch (w->out[model]) {
			case SO_BYPASS:
				assert_int_equal(ret, 0);
				assert_int_equal(r.pa, addr);
				break;
			case SO_STALL:
				assert_int_equal(ret, -EAGAIN);
				assert_true(r.stalled);
				assert_true(evt_next(&t)[1] & EVT_STALL);
				cmd_issue(&t, RESUME(sid, 2), r.stag);
				assert_int_equal(smmuv3_stall_wait(t.s, sid, r.stag), -EFAULT);
				break;
			case SO_TERM:
				assert_int_equal(ret, -EFAULT);
				assert_false(r.stalled);
				assert_int_equal(r.event, SMMU_EVT_F_TRANSLATION);
				break;
			case SO_BAD_STE:
			case SO_BAD_CD:
				assert_int_equal(ret, -EFAULT);
				assert_int_equal(r.event, w->out[model] == SO_BAD_STE
								  ? SMMU_EVT_C_BAD_STE
								  : SMMU_EVT_C_BAD_CD);
				break;
			}
			if (w->out[model] != SO_BYPASS && w->out[model] != SO_STALL)
				assert_int_equal(evt_next(&t)[0] & 0xff, r.event);
			assert_true(evt_empty(&t));
		}
		/* RESUME and STALL_TERM exist with 0b00 and 0b10 only. */
		cmd_issue(&t, STALL_TERM(1), 0);
		assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS) >> 24,
				 model == 1 ? SMMU_CERROR_ILL : SMMU_CERROR_NONE);
		smmu_env_destroy(&t);
	}
	/* Stall forced implies stall. */
	p.stall = false;
	p.stall_force = true;
	smmu_env_init_p(&t, NULL, NULL, &p);
	assert_int_equal(sm_r32(&t, SMMU_IDR0) >> 24 & 3, 2);
	assert_int_equal(sm_r32(&t, SMMU_IDR5) >> 16, 32); /* STALL_MAX */
	smmu_env_destroy(&t);
}

/*
 * STE.EATS = 0b01 is ILLEGAL with stage 2 stalling (§5.2): under stall
 * forced every stage-2 STE must have S2S, so a stage-2 STE cannot have
 * full ATS, while a stage-1 one can (its CD.S does not touch EATS).
 */
static void test_stall_forced_eats(void **state)
{
	struct pt_cfg c1 = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct smmuv3_params p = feat_params();
	struct smmuv3_txn txn = {
		.sid = 2, .ssid = SMMU_NO_SSID, .addr = GRAM_IPA, .access = PT_PROT_R};
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t cd;

	(void)state;
	p.stall_force = true;
	p.ats = true;
	smmu_env_init_p(&t, NULL, &c2, &p);
	/* Stage 2 with S2S and EATS 0b01: C_BAD_STE (S2S = 0 would be too). */
	ste_set(&t, 2, STE0_V | STE0_CFG(6), 1ULL << 28, ste2_std(VMID, 40, 1) | STE2_S,
		t.e.s2.root);
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
	evt_next(&t);
	smmu_env_destroy(&t);
	/* Stage 1 with CD.S and EATS 0b01: a Translation Request is answered. */
	smmu_env_init_p(&t, &c1, NULL, &p);
	cd = sm_alloc(&t, 64);
	cd_set(sm_hp(&t, cd), cd0_std(ASID) | CD0_S, t.e.s1.root);
	assert_int_equal(pt_map(&t.e.s1, IOVA, 0x40000000, 0x1000, PT_PROT_RW), 0);
	ste_set(&t, 3, STE0_V | STE0_CFG(5) | cd, 1ULL << 28, STE2_VMID(VMID), 0);
	txn.sid = 3;
	txn.addr = IOVA;
	assert_int_equal(smmuv3_ats_translate(t.s, &txn, &r), 0);
	assert_int_equal(r.pa, 0x40000000);
	assert_true(evt_empty(&t));
	smmu_env_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idr),
		cmocka_unit_test(test_s2_httu),
		cmocka_unit_test(test_cd_httu),
		cmocka_unit_test(test_stall_s1),
		cmocka_unit_test(test_stall_s2),
		cmocka_unit_test(test_s1stalld),
		cmocka_unit_test(test_stall_model_table),
		cmocka_unit_test(test_stall_forced_eats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
