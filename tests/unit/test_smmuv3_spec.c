// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: behaviour IHI 0070 defines that the other SMMUv3 tests
 * left out: the global errors of queue and MSI writes that abort, stage-2
 * STE fields (S2AFFD, S2PS, S2TG 64K, S2HD), CD fields (IPS as the stage-1
 * output size, T0SZ as the input size, TG0 16K / 64K, HA), fault records
 * with a SubstreamID, a stage-2 walk abort, and the cache effect of
 * CFGI_CD for one substream and of a non-leaf TLBI_NH_VA.
 */
#include "smmuv3_env.h"

#define VMID 3
#define ASID 7
#define IOVA 0x10000000ULL

static int irqs[SMMU_NR_IRQS];
static void note_irq(void *opaque, enum smmuv3_irq line)
{
	irqs[line]++;
}

/* GERROR.EVENTQ_ABT_ERR (§7.2) and MSI_CMDQ_ABT; GERROR's interrupt once while active. */
static void test_gerror_aborts(void **state)
{
	struct smmuv3_params p;
	struct smmuv3_result r;
	struct smmuv3_stats st;
	struct smmu_env t;

	smmuv3_params_default(&p);
	p.irq = note_irq;
	memset(irqs, 0, sizeof(irqs));
	smmu_env_init_p(&t, NULL, NULL, &p);
	sm_w32(&t, SMMU_IRQ_CTRL, SMMU_IRQ_GERROR_EN | SMMU_IRQ_EVENTQ_EN);
	/* A record written: the EVTQ interrupt. */
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, 0, PT_PROT_R, &r), -EFAULT);
	assert_true(r.recorded);
	assert_int_equal(irqs[SMMU_IRQ_EVTQ], 1);
	/* The event queue outside memory: the record is lost, EVENTQ_ABT_ERR raised once. */
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN);
	sm_w64(&t, SMMU_EVENTQ_BASE, 0x7000000000ULL | EVTQ_LOG2);
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN | SMMU_CR0_EVENTQEN);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, 0, PT_PROT_R, &r), -EFAULT);
		assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
		assert_false(r.recorded);
	}
	assert_int_equal(sm_r32(&t, SMMU_GERROR), SMMU_GERROR_EVENTQ_ABT_ERR);
	assert_int_equal(irqs[SMMU_IRQ_GERROR], 1);
	assert_int_equal(irqs[SMMU_IRQ_EVTQ], 1);
	smmuv3_get_stats(t.s, &st);
	assert_int_equal(st.events_dropped, 2);
	/* CMD_SYNC with CS = SIG_IRQ and an MSI address outside memory: MSI_CMDQ_ABT. */
	cmd_issue(&t, SMMU_CMD_SYNC | 1 << 12, 0x7000000000ULL);
	assert_int_equal(sm_r32(&t, SMMU_GERROR),
			 SMMU_GERROR_EVENTQ_ABT_ERR | SMMU_GERROR_MSI_CMDQ_ABT);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), 1); /* the sync itself completed */
	assert_int_equal(irqs[SMMU_IRQ_GERROR], 2);
	/* Acknowledged: a new abort raises it again. */
	sm_w32(&t, SMMU_GERRORN, sm_r32(&t, SMMU_GERROR));
	cmd_issue(&t, SMMU_CMD_SYNC | 1 << 12, 0x7000000000ULL);
	assert_int_equal(sm_r32(&t, SMMU_GERROR) ^ sm_r32(&t, SMMU_GERRORN),
			 SMMU_GERROR_MSI_CMDQ_ABT);
	assert_int_equal(irqs[SMMU_IRQ_GERROR], 3);
	smmu_env_destroy(&t);
}

static void expect_fault(struct smmu_env *t, uint32_t sid, uint32_t ssid, uint64_t addr,
			 unsigned int access, enum smmuv3_event_type type, uint64_t q1, uint64_t q3)
{
	struct smmuv3_result r;
	const uint64_t *e;
	bool ssv = ssid != SMMU_NO_SSID;

	assert_int_equal(sm_xlate(t, sid, ssid, addr, access, &r), -EFAULT);
	assert_int_equal(r.event, type);
	assert_true(r.recorded);
	e = evt_next(t);
	assert_int_equal(e[0], type | (uint64_t)ssv << 11 | (ssv ? (uint64_t)ssid << 12 : 0) |
				       (uint64_t)sid << 32);
	assert_int_equal(e[1], q1);
	assert_int_equal(e[2], addr);
	assert_int_equal(e[3], q3);
}

#define RNW_PNU (1ULL << 35 | 1ULL << 33)
#define S2B	(1ULL << 39)
#define CLS(c)	((uint64_t)(c) << 40)

/*
 * §5.2 stage-2 fields. Stage 2 only, 40-bit IPA, 4K: S2PS 0b000 (32 bits)
 * makes a leaf whose output lies above 4 GiB a stage-2 Address Size fault;
 * an AF = 0 leaf is a stage-2 Access fault unless S2AFFD; S2TG 0b01 (64K)
 * walks 64K tables; S2HD alone (no HTTU) is ILLEGAL.
 */
static void test_ste_s2_fields(void **state)
{
	struct pt_cfg c = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct pt_cfg c64 = env_mk(PT_VMSA_S2, 16, 40, 48, 1, 0);
	uint64_t q2 = ste2_std(VMID, 40, 1), *leaf;
	struct pt_table t64;
	struct smmuv3_result r;
	struct smmu_env t;

	smmu_env_init(&t, NULL, &c);
	/* The host arena is at 1 GiB: all outputs are below 2^32 ... */
	ste_set(&t, 1, STE0_V | STE0_CFG(6), 0, (q2 & ~STE2_PS(7)) | STE2_PS(0), t.e.s2.root);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, GRAM_IPA + 0x10, PT_PROT_R, &r), 0);
	/* ... so point one page at 0x1_0000_0000: beyond S2PS 32 bits, within S2PS 48. */
	leaf = env_desc_at(&t.e.s2, GRAM_IPA + 0x200000, 2, NULL);
	*leaf = (*leaf & ~(((1ULL << 48) - 1) & ~0x1fffffULL)) | 0x100000000ULL;
	expect_fault(&t, 1, SMMU_NO_SSID, GRAM_IPA + 0x200040, PT_PROT_R, SMMU_EVT_F_ADDR_SIZE,
		     S2B | CLS(XLATE_CLASS_IN) | RNW_PNU, GRAM_IPA + 0x200000);
	/* AF = 0: stage-2 F_ACCESS; with S2AFFD the access is allowed. */
	/* (the first 2 MiB block; VMIDs 4 and 5, so nothing cached for VMID 3 answers) */
	leaf = env_desc_at(&t.e.s2, GRAM_IPA, 2, NULL);
	*leaf &= ~(1ULL << 10);
	q2 &= ~STE2_VMID(0xffff);
	ste_set(&t, 2, STE0_V | STE0_CFG(6), 0, q2 | STE2_VMID(4), t.e.s2.root);
	expect_fault(&t, 2, SMMU_NO_SSID, GRAM_IPA + 0x1ff008, PT_PROT_R, SMMU_EVT_F_ACCESS,
		     S2B | CLS(XLATE_CLASS_IN) | RNW_PNU, GRAM_IPA + 0x1ff000);
	ste_set(&t, 3, STE0_V | STE0_CFG(6), 0, q2 | STE2_VMID(5) | STE2_AFFD, t.e.s2.root);
	assert_int_equal(sm_xlate(&t, 3, SMMU_NO_SSID, GRAM_IPA + 0x1ff008, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, t.e.gram_pa + 0x1ff008);
	/* S2HD (bit 55) without S2HA and without HTTU: ILLEGAL. */
	ste_set(&t, 4, STE0_V | STE0_CFG(6), 0, q2 | 1ULL << 55, t.e.s2.root);
	assert_int_equal(sm_xlate(&t, 4, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
	evt_next(&t);
	/* S2TG 0b01: a 64K-granule stage 2 (40 bits from level 2: SL0 0b01). */
	assert_int_equal(pt_table_init(&t64, &c64, &t.e.host.mem), 0);
	assert_int_equal(pt_map(&t64, GRAM_IPA, t.e.gram_pa, 0x100000, PT_PROT_RW), 0);
	ste_set(&t, 5, STE0_V | STE0_CFG(6), 0,
		(q2 & ~(STE2_TG(3) | STE2_SL0(3))) | STE2_TG(1) | STE2_SL0(1), t64.root);
	assert_int_equal(sm_xlate(&t, 5, SMMU_NO_SSID, GRAM_IPA + 0x12345, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, t.e.gram_pa + 0x12345);
	assert_int_equal(r.size, 0x10000);
	assert_true(evt_empty(&t));
	pt_table_destroy(&t64);
	smmu_env_destroy(&t);
}

/*
 * §5.4 CD fields on a stage-1-only stream: IPS bounds stage-1 outputs
 * (F_ADDR_SIZE, stage 1, CLASS IN); T0SZ bounds the input (F_TRANSLATION);
 * TG0 16K and 64K walk their granules; HA alone (no HTTU) is ILLEGAL; a
 * fault with a SubstreamID carries SSV and the SSID.
 */
static void test_cd_fields(void **state)
{
	static const struct {
		unsigned int tg0, g;
	} gran[] = {{2, 14}, {1, 16}};
	struct pt_cfg c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t cd = 0, *leaf;

	smmu_env_init(&t, &c, NULL);
	cd = t.free;
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x2000, PT_PROT_RW), 0);
	/* IPS 0b000 (32 bits): a leaf output at 4 GiB is a stage-1 address size fault. */
	cd_set(sm_hp(&t, cd), (cd0_std(ASID) & ~CD0_IPS(7)) | CD0_IPS(0), t.e.s1.root);
	ste_set(&t, 1, STE0_V | STE0_CFG(5) | cd, 0, STE2_VMID(VMID), 0);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), 0);
	leaf = env_desc_at(&t.e.s1, IOVA + 0x1000, 3, NULL);
	*leaf = (*leaf & ~(((1ULL << 48) - 1) & ~0xfffULL)) | 0x100000000ULL;
	expect_fault(&t, 1, SMMU_NO_SSID, IOVA + 0x1010, PT_PROT_R, SMMU_EVT_F_ADDR_SIZE,
		     CLS(XLATE_CLASS_IN) | RNW_PNU, 0);
	/* T0SZ 25 (39-bit input): an IOVA at 2^39 is a translation fault. */
	cd_set(sm_hp(&t, cd + 64), (cd0_std(ASID) & ~CD0_T0SZ(63)) | CD0_T0SZ(25), t.e.s1.root);
	ste_set(&t, 2, STE0_V | STE0_CFG(5) | (cd + 64), 0, STE2_VMID(VMID), 0);
	expect_fault(&t, 2, SMMU_NO_SSID, 1ULL << 39, PT_PROT_W, SMMU_EVT_F_TRANSLATION,
		     CLS(XLATE_CLASS_IN) | 1ULL << 33, 0);
	/* HA (bit 43) alone without HTTU: C_BAD_CD. */
	cd_set(sm_hp(&t, cd + 128), cd0_std(ASID) | 1ULL << 43, t.e.s1.root);
	ste_set(&t, 3, STE0_V | STE0_CFG(5) | (cd + 128), 0, STE2_VMID(VMID), 0);
	assert_int_equal(sm_xlate(&t, 3, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_CD);
	evt_next(&t);
	/* A fault of SSID 1 of a substream STE: SSV = 1, SubstreamID 1 in the record. */
	cd_set(sm_hp(&t, cd + 0x1000), cd0_std(ASID), t.e.s1.root);
	cd_set(sm_hp(&t, cd + 0x1040), cd0_std(ASID + 1), t.e.s1.root);
	ste_set(&t, 4, STE0_V | STE0_CFG(5) | STE0_CDMAX(1) | (cd + 0x1000), STE1_S1DSS(2),
		STE2_VMID(VMID), 0);
	expect_fault(&t, 4, 1, IOVA + 0x100000, PT_PROT_R, SMMU_EVT_F_TRANSLATION,
		     CLS(XLATE_CLASS_IN) | RNW_PNU, 0);
	smmu_env_destroy(&t);

	/* TG0 0b10 (16K) and 0b01 (64K): tables of that granule. */
	for (unsigned int i = 0; i < 2; i++) {
		struct pt_cfg cg = env_mk(PT_VMSA_S1, gran[i].g, 48, 48, 0, 0);

		smmu_env_init(&t, &cg, NULL);
		assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 1ULL << gran[i].g, PT_PROT_RW),
				 0);
		cd_set(sm_hp(&t, t.free), (cd0_std(ASID) & ~CD0_TG0(3)) | CD0_TG0(gran[i].tg0),
		       t.e.s1.root);
		ste_set(&t, 1, STE0_V | STE0_CFG(5) | t.free, 0, STE2_VMID(VMID), 0);
		assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, IOVA + 0x2468, PT_PROT_W, &r), 0);
		assert_int_equal(r.pa, t.e.data_pa + 0x2468);
		assert_int_equal(r.size, 1ULL << gran[i].g);
		smmu_env_destroy(&t);
	}
}

/* A stage-2 descriptor that cannot be read: F_WALK_EABT, S2, FetchAddr of the descriptor. */
static void test_s2_walk_abort(void **state)
{
	struct smmu_env t;

	smmu_env_init(&t, NULL, NULL);
	/* S2TTB 0x7000000000 (outside memory), 40-bit IPA from level 1: index 2 of the root. */
	ste_set(&t, 1, STE0_V | STE0_CFG(6), 0, ste2_std(VMID, 40, 1), 0x7000000000ULL);
	expect_fault(&t, 1, SMMU_NO_SSID, 0x80000000ULL, PT_PROT_R, SMMU_EVT_F_WALK_EABT,
		     S2B | CLS(XLATE_CLASS_IN) | RNW_PNU, 0x7000000000ULL + 2 * 8);
	smmu_env_destroy(&t);
}

static uint64_t pa_of(struct smmu_env *t, uint32_t sid, uint32_t ssid, uint64_t iova)
{
	struct smmuv3_result r;

	assert_int_equal(sm_xlate(t, sid, ssid, iova, PT_PROT_R, &r), 0);
	return r.pa;
}

/*
 * §4.3 CFGI_CD names one substream: the other substreams' CDs stay cached
 * (a new value there is seen only after their own CFGI_CD or CFGI_CD_ALL);
 * §4.4 TLBI_NH_VA with Leaf = 0 also drops walk-cache entries, so a
 * changed table pointer is seen.
 */
static void test_cmd_scopes(void **state)
{
	struct pt_cfg c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_table other;
	struct smmu_env t;
	uint64_t *l2, saved;

	smmu_env_init(&t, &c, NULL);
	assert_int_equal(pt_table_init(&other, &c, &t.e.host.mem), 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&other, IOVA, t.e.data_pa + 0x5000, 0x1000, PT_PROT_RW), 0);
	for (int i = 0; i < 4; i++)
		cd_set(sm_hp(&t, t.free + i * 64), cd0_std(ASID + i), t.e.s1.root);
	ste_set(&t, 1, STE0_V | STE0_CFG(5) | STE0_CDMAX(2) | t.free, STE1_S1DSS(2),
		STE2_VMID(VMID), 0);
	assert_int_equal(pa_of(&t, 1, 1, IOVA), t.e.data_pa);
	assert_int_equal(pa_of(&t, 1, 2, IOVA), t.e.data_pa);
	/* Both CDs now point at the other tables (new ASIDs too); invalidate SSID 1 only. */
	cd_set(sm_hp(&t, t.free + 64), cd0_std(20), other.root);
	cd_set(sm_hp(&t, t.free + 128), cd0_std(21), other.root);
	cmd_issue(&t, SMMU_CMD_CFGI_CD | 1ULL << 12 | 1ULL << 32, 1);
	assert_int_equal(pa_of(&t, 1, 1, IOVA), t.e.data_pa + 0x5000);
	assert_int_equal(pa_of(&t, 1, 2, IOVA), t.e.data_pa); /* still the cached CD */
	cmd_issue(&t, SMMU_CMD_CFGI_CD_ALL | 1ULL << 32, 0);
	assert_int_equal(pa_of(&t, 1, 2, IOVA), t.e.data_pa + 0x5000);

	/* SSID 3 (ASID 10) walks t.e.s1; re-point its level-2 table descriptor at other's. */
	assert_int_equal(pa_of(&t, 1, 3, IOVA), t.e.data_pa);
	l2 = env_desc_at(&t.e.s1, IOVA, 2, NULL);
	saved = *l2;
	*l2 = *env_desc_at(&other, IOVA, 2, NULL);
	cmd_issue(&t, SMMU_CMD_TLBI_NH_VA | (uint64_t)VMID << 32 | (uint64_t)(ASID + 3) << 48,
		  IOVA); /* Leaf = 0 */
	assert_int_equal(pa_of(&t, 1, 3, IOVA), t.e.data_pa + 0x5000);
	assert_int_equal(sm_r32(&t, SMMU_GERROR), 0);
	*l2 = saved; /* each tree owns its tables again */
	pt_table_destroy(&other);
	smmu_env_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gerror_aborts), cmocka_unit_test(test_ste_s2_fields),
		cmocka_unit_test(test_cd_fields),     cmocka_unit_test(test_s2_walk_abort),
		cmocka_unit_test(test_cmd_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
