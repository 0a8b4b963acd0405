// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: stream table, STE and CD decoding, translation.
 *
 * Memory as in smmuv3_env.h: host arena at HBASE (16 MiB), guest RAM (4 MiB)
 * at IPA GRAM_IPA in its top. Stage 1: 4K granule, 48-bit VA, IPS 48
 * (CD T0SZ 16, TG0 0, IPS 0b101). Stage 2: 4K granule, 40-bit IPA, SL0 1
 * (start at level 1 with two concatenated tables: STE S2T0SZ 24, S2SL0 1,
 * S2TG 0, S2PS 0b101). Translations are compared with lib/xlate called
 * directly on the same tables (no caches).
 */
#include "smmuv3_env.h"

#define SID 1
#define VMID 3
#define ASID 7
#define IOVA 0x10000000ULL

static struct pt_cfg s1_cfg(void)
{
	return env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
}

static struct pt_cfg s2_cfg(void)
{
	return env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
}

static void expect_same(struct smmu_env *t, uint64_t iova, unsigned int access)
{
	struct xlate_result xr;
	struct xlate_fault f;
	struct smmuv3_result r;

	assert_int_equal(xlate(&t->e.xc, iova, access, &xr, &f, NULL), PT_OK);
	assert_int_equal(sm_xlate(t, SID, SMMU_NO_SSID, iova, access, &r), 0);
	assert_int_equal(r.pa, xr.pa);
	assert_int_equal(r.size, xr.size);
	assert_int_equal(r.prot, xr.prot);
}

/* An S1-only stream: STE.Config 0b101, one CD at t->free. */
static void setup_s1(struct smmu_env *t)
{
	struct pt_cfg c = s1_cfg();

	smmu_env_init(t, &c, NULL);
	cd_set(sm_hp(t, t->free), cd0_std(ASID), t->e.s1.root);
	ste_set(t, SID, STE0_V | STE0_CFG(5) | t->free, 0, STE2_VMID(VMID), 0);
}

static void setup_s2(struct smmu_env *t)
{
	struct pt_cfg c = s2_cfg();

	smmu_env_init(t, NULL, &c);
	ste_set(t, SID, STE0_V | STE0_CFG(6), 0, ste2_std(VMID, 40, 1), t->e.s2.root);
}

/* Nested: the CD lives in guest RAM at IPA cd_ipa (data half + 1 MiB). */
static uint64_t setup_nested(struct smmu_env *t)
{
	struct pt_cfg c1 = s1_cfg(), c2 = s2_cfg();
	uint64_t cd_ipa;

	smmu_env_init(t, &c1, &c2);
	cd_ipa = t->e.data_ipa + 0x100000;
	cd_set(sm_hp(t, t->e.gram_pa + (cd_ipa - GRAM_IPA)), cd0_std(ASID), t->e.s1.root);
	ste_set(t, SID, STE0_V | STE0_CFG(7) | cd_ipa, 0, ste2_std(VMID, 40, 1), t->e.s2.root);
	return cd_ipa;
}

static void test_s1_only(void **state)
{
	struct smmuv3_result r;
	struct smmu_env t;

	setup_s1(&t);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&t.e.s1, IOVA + 0x400000, t.e.data_pa, 0x1000, PT_PROT_R), 0);
	expect_same(&t, IOVA + 0x1234, PT_PROT_R);
	expect_same(&t, IOVA + 0x1ff008, PT_PROT_W);
	expect_same(&t, IOVA + 0x400010, PT_PROT_R);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, IOVA + 0x1234, PT_PROT_R, &r), 0);
	assert_true(r.iotlb_hit);
	assert_int_equal(r.pa, t.e.data_pa + 0x1234);
	assert_int_equal(evt_count(&t), 0);
	smmu_env_destroy(&t);
}

static void test_s2_only(void **state)
{
	struct smmuv3_result r;
	struct smmu_env t;

	setup_s2(&t);
	expect_same(&t, GRAM_IPA + 0x3456, PT_PROT_R);
	expect_same(&t, GRAM_IPA + 0x3ff000, PT_PROT_W);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, GRAM_IPA + 0x10, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, t.e.gram_pa + 0x10);
	smmu_env_destroy(&t);
}

static void test_nested(void **state)
{
	struct smmuv3_params p;
	struct smmuv3_result r;
	struct xlate_result xr;
	struct xlate_record rec;
	struct smmu_env t;

	setup_nested(&t);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_ipa, 0x10000, PT_PROT_RW), 0);
	for (uint64_t off = 0; off < 0x10000; off += 0x1800)
		expect_same(&t, IOVA + off, off & 0x2000 ? PT_PROT_W : PT_PROT_R);
	/*
	 * Uncached: 4 stage-1 reads, each after a stage-2 walk, plus one for the
	 * output IPA; stage 2 maps guest RAM with 2 MiB blocks (level 1 -> block
	 * at level 2: 2 reads), so 4 + 5 * 2 = 14 reads.
	 */
	assert_int_equal(xlate(&t.e.xc, IOVA, PT_PROT_R, &xr, NULL, &rec), PT_OK);
	assert_int_equal(rec.n, 14);
	assert_int_equal(xr.pa, t.e.data_pa);
	smmu_env_destroy(&t);

	/* The same with no caches at all in the SMMU. */
	smmuv3_params_default(&p);
	p.no_cache = true;
	{
		struct pt_cfg c1 = s1_cfg(), c2 = s2_cfg();
		uint64_t cd_ipa;

		smmu_env_init_p(&t, &c1, &c2, &p);
		cd_ipa = t.e.data_ipa + 0x100000;
		cd_set(sm_hp(&t, t.e.gram_pa + (cd_ipa - GRAM_IPA)), cd0_std(ASID), t.e.s1.root);
		ste_set(&t, SID, STE0_V | STE0_CFG(7) | cd_ipa, 0, ste2_std(VMID, 40, 1),
			t.e.s2.root);
		assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_ipa, 0x10000, PT_PROT_RW), 0);
		expect_same(&t, IOVA + 0x5008, PT_PROT_W);
		assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), 0);
		assert_false(r.iotlb_hit);
		smmu_env_destroy(&t);
	}
}

/*
 * 4-level stage 1 over 4-level stage 2 (48-bit IPA, S2SL0 2 = level 0,
 * pages only), no caches: lib/xlate reads (4 + 1) * (4 + 1) - 1 = 24
 * descriptors, and the SMMU gives the same answer for every access.
 */
static void test_nested_24(void **state)
{
	struct pt_cfg c1 = s1_cfg(), c2 = env_mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct smmuv3_params p;
	struct xlate_result xr;
	struct xlate_record rec;
	struct smmu_env t;
	uint64_t cd_ipa;

	smmuv3_params_default(&p);
	p.no_cache = true;
	smmu_env_init_p(&t, &c1, &c2, &p);
	cd_ipa = t.e.data_ipa + 0x100000;
	cd_set(sm_hp(&t, t.e.gram_pa + (cd_ipa - GRAM_IPA)), cd0_std(ASID), t.e.s1.root);
	ste_set(&t, SID, STE0_V | STE0_CFG(7) | cd_ipa, 0, ste2_std(VMID, 48, 2), t.e.s2.root);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_ipa, 0x4000, PT_PROT_RW), 0);
	assert_int_equal(xlate(&t.e.xc, IOVA + 0x2010, PT_PROT_R, &xr, NULL, &rec), PT_OK);
	assert_int_equal(rec.n, 24);
	for (uint64_t off = 0; off < 0x4000; off += 0x404)
		expect_same(&t, IOVA + off, off & 0x400 ? PT_PROT_W : PT_PROT_R);
	smmu_env_destroy(&t);
}

/* Config 0b100 bypasses; 0b000..0b011 abort without an event. */
static void test_bypass_abort(void **state)
{
	struct smmuv3_result r;
	struct smmu_env t;

	smmu_env_init(&t, NULL, NULL);
	ste_set(&t, 2, STE0_V | STE0_CFG(4), 0, 0, 0);
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, 0xdead000, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, 0xdead000);
	for (unsigned int c = 0; c < 4; c++) {
		ste_set(&t, 3 + c, STE0_V | STE0_CFG(c), 0, 0, 0);
		assert_int_equal(sm_xlate(&t, 3 + c, SMMU_NO_SSID, 0x1000, PT_PROT_R, &r), -EFAULT);
		assert_int_equal(r.event, SMMU_EVT_NONE);
		assert_false(r.recorded);
	}
	assert_true(evt_empty(&t));
	smmu_env_destroy(&t);
}

static void expect_config_event(struct smmu_env *t, uint32_t sid, uint32_t ssid,
				enum smmuv3_event_type type)
{
	struct smmuv3_result r;
	const uint64_t *e;
	bool ssv = ssid != SMMU_NO_SSID;

	assert_int_equal(sm_xlate(t, sid, ssid, 0x1000, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, type);
	assert_true(r.recorded);
	e = evt_next(t);
	/* word 0: type [7:0], SSV [11], SubstreamID [31:12], StreamID [63:32] */
	assert_int_equal(e[0], type | (uint64_t)ssv << 11 | (ssv ? (uint64_t)ssid << 12 : 0) |
			       (uint64_t)sid << 32);
	assert_int_equal(e[1], 0);
	assert_int_equal(e[2], 0);
	assert_int_equal(e[3], 0);
}

/* Every C_BAD_STE case, one STE each (S2 fields from ste2_std: 40-bit IPA, SL0 1). */
static void test_bad_ste(void **state)
{
	struct smmu_env t;
	uint64_t q2 = ste2_std(VMID, 40, 1), root, s1q0;
	struct {
		const char *what;
		uint64_t q0, q1, q2, q3;
	} c[18];
	unsigned int n = 0;
	struct smmuv3_params p;

	setup_s2(&t);
	root = t.e.s2.root;
	s1q0 = STE0_V | STE0_CFG(5) | t.free;
#define BAD(w, a, b, d, e) c[n++] = (typeof(c[0])){ w, a, b, d, e }
	BAD("V = 0", STE0_CFG(6), 0, q2, root);
	BAD("S2AA64 = 0", STE0_V | STE0_CFG(6), 0, q2 & ~STE2_AA64, root);
	BAD("S2ENDI = 1", STE0_V | STE0_CFG(6), 0, q2 | STE2_ENDI, root);
	BAD("S2TG = 0b11", STE0_V | STE0_CFG(6), 0, q2 | STE2_TG(3), root);
	BAD("S2T0SZ = 15", STE0_V | STE0_CFG(6), 0, (q2 & ~STE2_T0SZ(63)) | STE2_T0SZ(15), root);
	BAD("S2T0SZ = 40", STE0_V | STE0_CFG(6), 0, (q2 & ~STE2_T0SZ(63)) | STE2_T0SZ(40), root);
	/* 48-bit IPA starting at level 2 (SL0 0) needs 2^18 concatenated tables */
	BAD("S2SL0 too shallow", STE0_V | STE0_CFG(6), 0,
	    (q2 & ~(STE2_T0SZ(63) | STE2_SL0(3))) | STE2_T0SZ(16), root);
	BAD("S2S = 1", STE0_V | STE0_CFG(6), 0, q2 | STE2_S, root);
	BAD("S2HA = 1", STE0_V | STE0_CFG(6), 0, q2 | STE2_HA, root);
	/* S2PS 0b010 = 40 bits; S2TTB = 1 << 40 lies beyond it */
	BAD("S2TTB > S2PS", STE0_V | STE0_CFG(6), 0, (q2 & ~STE2_PS(7)) | STE2_PS(2), 1ULL << 40);
	BAD("S1CDMax 21 > SSIDSIZE 20", s1q0 | STE0_CDMAX(21), 0, STE2_VMID(1), 0);
	/* Stage 1 only: STRW is RES0 without Hyp; 0bx1 is ILLEGAL in any case. */
	BAD("STRW = EL2 (no HYP), stage 1 only", s1q0, 2ULL << 30, STE2_VMID(1), 0);
	BAD("STRW = 0b01, stage 1 only", s1q0, 1ULL << 30, STE2_VMID(1), 0);
#undef BAD
	for (unsigned int i = 0; i < n; i++) {
		ste_set(&t, 10 + i, c[i].q0, c[i].q1, c[i].q2, c[i].q3);
		print_message("  C_BAD_STE: %s\n", c[i].what);
		expect_config_event(&t, 10 + i, SMMU_NO_SSID, SMMU_EVT_C_BAD_STE);
	}
	/* The base STE is fine. */
	expect_same(&t, GRAM_IPA, PT_PROT_R);
	smmu_env_destroy(&t);

	/* A stage the SMMU does not implement. */
	smmuv3_params_default(&p);
	p.s2p = false;
	smmu_env_init_p(&t, NULL, NULL, &p);
	ste_set(&t, 4, STE0_V | STE0_CFG(6), 0, q2, 0x40000000);
	expect_config_event(&t, 4, SMMU_NO_SSID, SMMU_EVT_C_BAD_STE);
	smmu_env_destroy(&t);
}

/* Linear and 2-level stream tables, C_BAD_STREAMID and F_STE_FETCH. */
static void test_stream_table(void **state)
{
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t l1, l2a, l2b, *d;
	const uint64_t *e;

	smmu_env_init(&t, NULL, NULL);
	/* Linear, LOG2SIZE 6: SID 64 is out of range. */
	expect_config_event(&t, 64, SMMU_NO_SSID, SMMU_EVT_C_BAD_STREAMID);
	/* Without CR2.RECINVSID nothing is recorded. */
	sm_w32(&t, SMMU_CR2, 0);
	assert_int_equal(sm_xlate(&t, 64, SMMU_NO_SSID, 0, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_STREAMID);
	assert_false(r.recorded);
	sm_w32(&t, SMMU_CR2, SMMU_CR2_RECINVSID);

	/*
	 * 2-level: LOG2SIZE 8, SPLIT 6 -> 4 L1 descriptors (SID[7:6]):
	 *   L1[0] Span 0: invalid
	 *   L1[1] l2a | Span 7: 2^6 = 64 STEs
	 *   L1[2] l2b | Span 3: 2^2 = 4 STEs
	 *   L1[3] l2b | Span 8: Span - 1 > SPLIT, out of bounds
	 */
	l1 = sm_alloc(&t, 4096);
	l2a = sm_alloc(&t, 4096);
	l2b = sm_alloc(&t, 4096);
	d = sm_hp(&t, l1);
	d[0] = 0;
	d[1] = l2a | 7;
	d[2] = l2b | 3;
	d[3] = l2b | 8;
	sm_w32(&t, SMMU_CR0, SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
	sm_w64(&t, SMMU_STRTAB_BASE, l1);
	sm_w32(&t, SMMU_STRTAB_BASE_CFG, 1 << 16 | 6 << 6 | 8);
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
	((uint64_t *)sm_hp(&t, l2a + 5 * 64))[0] = STE0_V | STE0_CFG(4);	/* SID 69 */
	((uint64_t *)sm_hp(&t, l2b + 3 * 64))[0] = STE0_V | STE0_CFG(4);	/* SID 131 */
	assert_int_equal(sm_xlate(&t, 69, SMMU_NO_SSID, 0x5000, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, 0x5000);
	assert_int_equal(sm_xlate(&t, 131, SMMU_NO_SSID, 0x6000, PT_PROT_R, &r), 0);
	expect_config_event(&t, 3, SMMU_NO_SSID, SMMU_EVT_C_BAD_STREAMID);
	expect_config_event(&t, 132, SMMU_NO_SSID, SMMU_EVT_C_BAD_STREAMID);
	expect_config_event(&t, 192, SMMU_NO_SSID, SMMU_EVT_C_BAD_STREAMID);
	expect_config_event(&t, 256, SMMU_NO_SSID, SMMU_EVT_C_BAD_STREAMID);
	expect_config_event(&t, 70, SMMU_NO_SSID, SMMU_EVT_C_BAD_STE); /* zeroed STE: V = 0 */

	/* An L1 descriptor outside memory: F_STE_FETCH with FetchAddr in word 6/7. */
	d[1] = 0x7000000000ULL | 7;
	/* SID 69's configuration is cached until CFGI_STE. */
	assert_int_equal(sm_xlate(&t, 69, SMMU_NO_SSID, 0x5000, PT_PROT_R, &r), 0);
	cmd_issue(&t, SMMU_CMD_CFGI_STE | 69ULL << 32, 1);
	assert_int_equal(sm_xlate(&t, 69, SMMU_NO_SSID, 0, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_STE_FETCH);
	e = evt_next(&t);
	assert_int_equal(e[0], SMMU_EVT_F_STE_FETCH | 69ULL << 32);
	assert_int_equal(e[3], 0x7000000000ULL + 5 * 64);
	/* The L1 table itself outside memory. */
	sm_w32(&t, SMMU_CR0, SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
	sm_w64(&t, SMMU_STRTAB_BASE, 0x7000000000ULL);
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
	cmd_issue(&t, SMMU_CMD_CFGI_STE_RANGE, 31); /* CFGI_ALL */
	assert_int_equal(sm_xlate(&t, 131, SMMU_NO_SSID, 0, PT_PROT_R, &r), -EFAULT);
	e = evt_next(&t);
	assert_int_equal(e[0], SMMU_EVT_F_STE_FETCH | 131ULL << 32);
	assert_int_equal(e[3], 0x7000000000ULL + 2 * 8);
	smmu_env_destroy(&t);
}

/* Every C_BAD_CD case; F_CD_FETCH. */
static void test_bad_cd(void **state)
{
	const uint64_t good = cd0_std(ASID);
	struct {
		const char *what;
		uint64_t q0, ttb;
	} c[12];
	unsigned int n = 0;
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t root;
	const uint64_t *e;

	setup_s1(&t);
	root = t.e.s1.root;
#define BAD(w, a, b) c[n++] = (typeof(c[0])){ w, a, b }
	BAD("V = 0", good & ~CD0_V, root);
	BAD("ENDI = 1", good | CD0_ENDI, root);
	BAD("AA64 = 0", good & ~CD0_AA64, root);
	BAD("HD = 1 (no HTTU)", good | CD0_HD, root);
	BAD("S = 1 (no stall)", good | CD0_S, root);
	BAD("A = 0 (TERM_MODEL 1)", good & ~CD0_A, root);
	BAD("TG0 = 0b11", good | CD0_TG0(3), root);
	BAD("T0SZ = 15", (good & ~CD0_T0SZ(63)) | CD0_T0SZ(15), root);
	BAD("T0SZ = 40", (good & ~CD0_T0SZ(63)) | CD0_T0SZ(40), root);
	/* IPS 0b000 = 32 bits; TTB0 = 1 << 33 beyond it */
	BAD("TTB0 > IPS", good & ~CD0_IPS(7), 1ULL << 33);
#undef BAD
	for (unsigned int i = 0; i < n; i++) {
		uint64_t cd = t.free + 0x1000 + i * 64;

		cd_set(sm_hp(&t, cd), c[i].q0, c[i].ttb);
		ste_set(&t, 10 + i, STE0_V | STE0_CFG(5) | cd, 0, STE2_VMID(VMID), 0);
		print_message("  C_BAD_CD: %s\n", c[i].what);
		expect_config_event(&t, 10 + i, SMMU_NO_SSID, SMMU_EVT_C_BAD_CD);
	}
	/*
	 * §5.4 EPD0 = 1: T0SZ, TG0 and TTB0 are IGNORED, so out-of-range
	 * values do not make the CD ILLEGAL; every lookup is a stage-1
	 * translation fault (CLASS IN), recorded per CD.R.
	 */
	cd_set(sm_hp(&t, t.free + 0x1800), (good & ~CD0_T0SZ(63)) | CD0_T0SZ(60) | CD0_TG0(3) |
		   CD0_EPD0, 1ULL << 50);
	ste_set(&t, 31, STE0_V | STE0_CFG(5) | (t.free + 0x1800), 0, STE2_VMID(VMID), 0);
	assert_int_equal(sm_xlate(&t, 31, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_TRANSLATION);
	e = evt_next(&t);
	assert_int_equal(e[0], SMMU_EVT_F_TRANSLATION | 31ULL << 32);
	assert_int_equal(e[1], 2ULL << 40 | 1ULL << 35 | 1ULL << 33); /* CLASS IN, RnW, PnU */
	assert_int_equal(e[2], IOVA);

	/* IPS 0b110 / 0b111 are taken as the OAS (48 bits): fine. */
	cd_set(sm_hp(&t, t.free), (good & ~CD0_IPS(7)) | CD0_IPS(7), root);
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	expect_same(&t, IOVA, PT_PROT_R);

	/* The CD outside memory: F_CD_FETCH, FetchAddr [51:3] in word 6/7. */
	ste_set(&t, 30, STE0_V | STE0_CFG(5) | 0x7000000040ULL, 0, STE2_VMID(VMID), 0);
	assert_int_equal(sm_xlate(&t, 30, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_CD_FETCH);
	e = evt_next(&t);
	assert_int_equal(e[0], SMMU_EVT_F_CD_FETCH | 30ULL << 32);
	assert_int_equal(e[1], 0);
	assert_int_equal(e[3], 0x7000000040ULL);
	smmu_env_destroy(&t);
}

/*
 * Substreams. Linear CD table of 4 CDs (S1CDMax 2) with ASIDs 10..13, all
 * on the same tables; 2-level table with 4K leaves (S1Fmt 1: 64 CDs a leaf,
 * L1 indexed by SSID[8:6], IHI 0070 §5.2): L1CD[4] -> L2 at free + 0x2000,
 * so SSID 259 = 4 * 64 + 3 = L2[3].
 */
static void test_substreams(void **state)
{
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t root, *l1;

	setup_s1(&t);
	root = t.e.s1.root;
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	for (int i = 0; i < 4; i++)
		cd_set(sm_hp(&t, t.free + i * 64), cd0_std(10 + i), root);
	/* S1DSS 0b10 (SSID0): no-SSID traffic uses CD 0; SSID 0 itself is illegal. */
	ste_set(&t, 2, STE0_V | STE0_CFG(5) | STE0_CDMAX(2) | t.free, STE1_S1DSS(2), VMID, 0);
	assert_int_equal(sm_xlate(&t, 2, 3, IOVA + 8, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 8);
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, IOVA + 8, PT_PROT_R, &r), 0);
	/* §5.2 S1DSS 0b10: a transaction that selects substream 0 is F_STREAM_DISABLED. */
	expect_config_event(&t, 2, 0, SMMU_EVT_F_STREAM_DISABLED);
	expect_config_event(&t, 2, 4, SMMU_EVT_C_BAD_SUBSTREAMID);	/* >= 2^S1CDMax */
	/* S1DSS 0b00: no-SSID traffic is terminated with F_STREAM_DISABLED. */
	ste_set(&t, 3, STE0_V | STE0_CFG(5) | STE0_CDMAX(2) | t.free, STE1_S1DSS(0), VMID, 0);
	expect_config_event(&t, 3, SMMU_NO_SSID, SMMU_EVT_F_STREAM_DISABLED);
	assert_int_equal(sm_xlate(&t, 3, 0, IOVA, PT_PROT_R, &r), 0);
	/* S1DSS 0b01: no-SSID traffic bypasses stage 1 (stage 2 off: identity). */
	ste_set(&t, 4, STE0_V | STE0_CFG(5) | STE0_CDMAX(2) | t.free, STE1_S1DSS(1), VMID, 0);
	assert_int_equal(sm_xlate(&t, 4, SMMU_NO_SSID, 0x777000, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, 0x777000);
	/* S1CDMax 0: any SSID is illegal. */
	expect_config_event(&t, SID, 0, SMMU_EVT_C_BAD_SUBSTREAMID);

	/* 2-level, S1CDMax 9 (512 SSIDs): L1CD[0] invalid, L1CD[4] valid. */
	l1 = sm_hp(&t, t.free + 0x1000);
	l1[0] = 0;
	l1[4] = (t.free + 0x2000) | 1;
	cd_set(sm_hp(&t, t.free + 0x2000 + 3 * 64), cd0_std(20), root);
	ste_set(&t, 5, STE0_V | STE0_CFG(5) | STE0_S1FMT(1) | STE0_CDMAX(9) | (t.free + 0x1000),
		STE1_S1DSS(2), VMID, 0);
	assert_int_equal(sm_xlate(&t, 5, 259, IOVA + 0x10, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 0x10);
	expect_config_event(&t, 5, 5, SMMU_EVT_C_BAD_SUBSTREAMID);	/* L1CD.V = 0 */
	expect_config_event(&t, 5, 260, SMMU_EVT_C_BAD_CD);		/* zero CD: V = 0 */
	/* SSID 64 is L1CD[1] (V = 0), not L2[64] of L1CD[0] as a 256-CD leaf would make it. */
	expect_config_event(&t, 5, 64, SMMU_EVT_C_BAD_SUBSTREAMID);
	expect_config_event(&t, 5, 4 * 64 + 63, SMMU_EVT_C_BAD_CD);	/* last CD of the leaf */
	expect_config_event(&t, 5, 512, SMMU_EVT_C_BAD_SUBSTREAMID);
	smmu_env_destroy(&t);
}


/*
 * Reserved and IGNORED STE fields (IHI 0070 §5.2): S1Fmt 0b11 behaves as
 * 0b00 (linear), S1DSS 0b11 as 0b00 (terminate, F_STREAM_DISABLED); EATS
 * is IGNORED without ATS and STRW when stage 2 is on; a SubstreamID on a
 * stream whose stage 1 is off (Config 0b100, 0b110) is C_BAD_SUBSTREAMID.
 */
static void test_ste_reserved_ignored(void **state)
{
	struct smmuv3_result r;
	struct smmu_env t;
	uint64_t root;

	setup_s1(&t);
	root = t.e.s1.root;
	assert_int_equal(pt_map(&t.e.s1, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	for (int i = 0; i < 4; i++)
		cd_set(sm_hp(&t, t.free + i * 64), cd0_std(10 + i), root);
	/* S1Fmt 0b11 with S1CDMax 2: the linear table, so SSID 3 is the fourth CD. */
	ste_set(&t, 2, STE0_V | STE0_CFG(5) | STE0_S1FMT(3) | STE0_CDMAX(2) | t.free,
		STE1_S1DSS(2), VMID, 0);
	assert_int_equal(sm_xlate(&t, 2, 3, IOVA + 8, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa + 8);
	cd_set(sm_hp(&t, t.free + 3 * 64), 0, 0);
	cmd_issue(&t, SMMU_CMD_CFGI_CD | 3ULL << 12 | 2ULL << 32, 1);
	expect_config_event(&t, 2, 3, SMMU_EVT_C_BAD_CD); /* and it was the fourth CD */
	/* S1DSS 0b11: no-SSID traffic terminated as with 0b00; SSID traffic fine. */
	ste_set(&t, 3, STE0_V | STE0_CFG(5) | STE0_CDMAX(2) | t.free, STE1_S1DSS(3), VMID, 0);
	expect_config_event(&t, 3, SMMU_NO_SSID, SMMU_EVT_F_STREAM_DISABLED);
	assert_int_equal(sm_xlate(&t, 3, 1, IOVA, PT_PROT_R, &r), 0);
	/* EATS 0b01 / 0b10 are IGNORED (IDR0.ATS = 0). */
	ste_set(&t, 4, STE0_V | STE0_CFG(5) | t.free, 1ULL << 28, VMID, 0);
	assert_int_equal(sm_xlate(&t, 4, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), 0);
	ste_set(&t, 5, STE0_V | STE0_CFG(5) | t.free, 2ULL << 28, VMID, 0);
	assert_int_equal(sm_xlate(&t, 5, SMMU_NO_SSID, IOVA, PT_PROT_R, &r), 0);
	/* Bypass (0b100) with a SubstreamID: C_BAD_SUBSTREAMID; without: bypass. */
	ste_set(&t, 6, STE0_V | STE0_CFG(4), 0, 0, 0);
	expect_config_event(&t, 6, 0, SMMU_EVT_C_BAD_SUBSTREAMID);
	assert_int_equal(sm_xlate(&t, 6, SMMU_NO_SSID, 0x1000, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, 0x1000);
	assert_true(evt_empty(&t));
	smmu_env_destroy(&t);

	/* Stage 2 only: STRW (any value) and EATS are IGNORED; an SSID is C_BAD_SUBSTREAMID. */
	setup_s2(&t);
	ste_set(&t, 2, STE0_V | STE0_CFG(6), 3ULL << 30 | 1ULL << 28, ste2_std(VMID, 40, 1),
		t.e.s2.root);
	assert_int_equal(sm_xlate(&t, 2, SMMU_NO_SSID, GRAM_IPA + 0x10, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, t.e.gram_pa + 0x10);
	expect_config_event(&t, 2, 5, SMMU_EVT_C_BAD_SUBSTREAMID);
	smmu_env_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s1_only),
		cmocka_unit_test(test_s2_only),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_nested_24),
		cmocka_unit_test(test_bypass_abort),
		cmocka_unit_test(test_bad_ste),
		cmocka_unit_test(test_stream_table),
		cmocka_unit_test(test_bad_cd),
		cmocka_unit_test(test_substreams),
		cmocka_unit_test(test_ste_reserved_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
