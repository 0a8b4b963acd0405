// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: event records of translation faults, byte by byte.
 *
 * Record layout (four little-endian qwords):
 *   q0: type [7:0] | SSV [11] | SubstreamID [31:12] | StreamID [63:32]
 *   q1: STAG [15:0] | Stall [31] | PnU [33] | InD [34] | RnW [35] | S2 [39]
 *       | CLASS [41:40] (0 CD, 1 TT, 2 IN) | TTRnW [44]
 *   q2: InputAddr
 *   q3: IPA [51:12] (stage-2 faults) or FetchAddr [51:3] (F_WALK_EABT)
 * Recording: stage-1 faults when CD.R, stage-2 faults when STE.S2R,
 * F_WALK_EABT always.
 */
#include "smmuv3_env.h"

#define PNU	(1ULL << 33)
#define IND	(1ULL << 34)
#define RNW	(1ULL << 35)
#define S2B	(1ULL << 39)
#define CLS(c)	((uint64_t)(c) << 40)
#define TTRNW	(1ULL << 44)
#define Q0(type, sid) ((uint64_t)(type) | (uint64_t)(sid) << 32)

#define IOVA 0x10000000ULL

static void expect_evt(struct smmu_env *t, uint32_t sid, uint64_t addr, unsigned int access,
		       enum smmuv3_event_type type, uint64_t q1, uint64_t q3)
{
	struct smmuv3_result r;
	const uint64_t *e;

	assert_int_equal(sm_xlate(t, sid, SMMU_NO_SSID, addr, access, &r), -EFAULT);
	assert_int_equal(r.event, type);
	assert_true(r.recorded);
	e = evt_next(t);
	assert_int_equal(e[0], Q0(type, sid));
	assert_int_equal(e[1], q1);
	assert_int_equal(e[2], addr);
	assert_int_equal(e[3], q3);
	assert_true(evt_empty(t));
}

static void expect_unrecorded(struct smmu_env *t, uint32_t sid, uint64_t addr,
			      enum smmuv3_event_type type)
{
	struct smmuv3_result r;

	assert_int_equal(sm_xlate(t, sid, SMMU_NO_SSID, addr, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, type);
	assert_false(r.recorded);
	assert_true(evt_empty(t));
}

static void test_stage1_events(void **state)
{
	struct pt_cfg c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t *leaf, root;

	smmu_env_init(&t, &c, NULL);
	root = t.e.s1.root;
	cd_set(sm_hp(&t, t.free), cd0_std(7), root);				/* SID 1 */
	cd_set(sm_hp(&t, t.free + 64), cd0_std(8) | CD0_AFFD, root);		/* SID 2 */
	cd_set(sm_hp(&t, t.free + 128), cd0_std(9) & ~CD0_R, 0x10000000);	/* SID 3 */
	cd_set(sm_hp(&t, t.free + 192), cd0_std(10) & ~CD0_R, root);		/* SID 4 */
	for (int i = 0; i < 4; i++)
		ste_set(&t, 1 + i, STE0_V | STE0_CFG(5) | (t.free + i * 64), 0, STE2_VMID(3), 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA + 0x400000, t.e.data_pa, 0x1000, PT_PROT_R), 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA + 0x800000, t.e.data_pa, 0x1000, PT_PROT_RW), 0);

	/* Unmapped, privileged data read: CLASS IN, RnW, PnU. */
	expect_evt(&t, 1, 0x20000000, PT_PROT_R, SMMU_EVT_F_TRANSLATION, CLS(2) | RNW | PNU, 0);
	/* Unprivileged instruction fetch: InD, no PnU. */
	expect_evt(&t, 1, 0x20000040, PT_PROT_R | PT_PROT_X | PT_PROT_U, SMMU_EVT_F_TRANSLATION,
		   CLS(2) | RNW | IND, 0);
	/* Write to a read-only page: F_PERMISSION, RnW = 0. */
	expect_evt(&t, 1, IOVA + 0x400008, PT_PROT_W, SMMU_EVT_F_PERMISSION, CLS(2) | PNU, 0);
	/* Access flag clear: F_ACCESS; with CD.AFFD no fault. */
	leaf = env_desc_at(&t.e.s1, IOVA + 0x800000, 3, NULL);
	*leaf &= ~(1ULL << 10);
	expect_evt(&t, 1, IOVA + 0x800010, PT_PROT_R, SMMU_EVT_F_ACCESS, CLS(2) | RNW | PNU, 0);
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, IOVA + 0x800010, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 0x10);
	/*
	 * TTB0 = 0x10000000 lies outside memory: the level-0 read of index 0
	 * aborts. F_WALK_EABT, CLASS TT, TTRnW, FetchAddr 0x10000000,
	 * recorded although CD.R = 0.
	 */
	expect_evt(&t, 3, 0x20000000, PT_PROT_R, SMMU_EVT_F_WALK_EABT,
		   CLS(1) | TTRNW | RNW | PNU, 0x10000000);
	/* CD.R = 0: the translation fault is not recorded. */
	expect_unrecorded(&t, 4, 0x20000000, SMMU_EVT_F_TRANSLATION);
	smmu_env_destroy(&t);
}

static void test_stage2_events(void **state)
{
	struct pt_cfg c = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct smmu_env t;

	smmu_env_init(&t, NULL, &c);
	ste_set(&t, 1, STE0_V | STE0_CFG(6), 0, ste2_std(3, 40, 1), t.e.s2.root);
	ste_set(&t, 2, STE0_V | STE0_CFG(6), 0, ste2_std(4, 40, 1) & ~STE2_R, t.e.s2.root);
	/* Input beyond IAS (48 bits) with stage 1 bypassed: F_ADDR_SIZE, S2 = 0. */
	expect_evt(&t, 1, 1ULL << 48, PT_PROT_R, SMMU_EVT_F_ADDR_SIZE, CLS(2) | RNW | PNU, 0);
	/* IPA not mapped: stage-2 F_TRANSLATION, IPA [51:12] in q3. */
	expect_evt(&t, 1, GRAM_IPA + 0x800123, PT_PROT_W, SMMU_EVT_F_TRANSLATION,
		   S2B | CLS(2) | PNU, GRAM_IPA + 0x800000);
	/* IPA beyond S2T0SZ (40 bits): stage-2 F_TRANSLATION too. */
	expect_evt(&t, 1, 1ULL << 40, PT_PROT_R, SMMU_EVT_F_TRANSLATION,
		   S2B | CLS(2) | RNW | PNU, 1ULL << 40);
	/* STE.S2R = 0: not recorded. */
	expect_unrecorded(&t, 2, GRAM_IPA + 0x800000, SMMU_EVT_F_TRANSLATION);
	smmu_env_destroy(&t);
}

/*
 * Nested: the stage-2 faults of each class.
 *   IN: stage 1 maps IOVA -> IPA 0x90000000, which stage 2 does not map.
 *   CD: STE.S1ContextPtr = IPA 0x90001000, not mapped.
 *   TT: a CD whose TTB0 = IPA 0x90002000, not mapped (the root fetch).
 */
static void test_nested_events(void **state)
{
	struct pt_cfg c1 = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	uint64_t cd_ipa, q2 = ste2_std(3, 40, 1);
	struct smmu_env t;

	smmu_env_init(&t, &c1, &c2);
	cd_ipa = t.e.data_ipa + 0x100000;
	cd_set(sm_hp(&t, t.e.gram_pa + (cd_ipa - GRAM_IPA)), cd0_std(7), t.e.s1.root);
	cd_set(sm_hp(&t, t.e.gram_pa + (cd_ipa + 64 - GRAM_IPA)), cd0_std(8), 0x90002000);
	ste_set(&t, 1, STE0_V | STE0_CFG(7) | cd_ipa, 0, q2, t.e.s2.root);
	ste_set(&t, 2, STE0_V | STE0_CFG(7) | 0x90001000, 0, q2, t.e.s2.root);
	ste_set(&t, 3, STE0_V | STE0_CFG(7) | (cd_ipa + 64), 0, q2, t.e.s2.root);
	assert_int_equal(pt_map(&t.e.s1, IOVA, 0x90000000, 0x1000, PT_PROT_RW), 0);

	expect_evt(&t, 1, IOVA + 0x345, PT_PROT_R, SMMU_EVT_F_TRANSLATION,
		   S2B | CLS(2) | RNW | PNU, 0x90000000);
	expect_evt(&t, 2, IOVA, PT_PROT_W, SMMU_EVT_F_TRANSLATION, S2B | CLS(0) | PNU,
		   0x90001000);
	expect_evt(&t, 3, IOVA, PT_PROT_R, SMMU_EVT_F_TRANSLATION,
		   S2B | CLS(1) | TTRNW | RNW | PNU, 0x90002000);
	smmu_env_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage1_events),
		cmocka_unit_test(test_stage2_events),
		cmocka_unit_test(test_nested_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
