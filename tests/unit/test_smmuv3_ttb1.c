// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: stage 1's two VA ranges (IHI 0070 §3.4.1, §5.4): TTB1
 * (T1SZ, TG1, EPD1, TTB1), EPD0 / EPD1 and TBI.
 *
 * Memory as in smmuv3_env.h. The CD's TTB0 is the environment's stage 1
 * (4K granule, T0SZ 16: 48-bit VA); TTB1 is a second table with a 16K
 * granule and T1SZ 25 (39-bit range: VAs 0xffff_ff80_0000_0000 and up),
 * TG1 0b01: a model that read TG1 with TG0's encoding (0b01 = 64K) would
 * walk it wrong. Both tables map the same low address bits (LOW) to
 * different data pages, so an answer from the wrong table, or a cached
 * answer of one given for the other, shows.
 *
 * Event records checked field by field (word 0: type, SID; word 1: CLASS
 * [41:40], RnW 35, InD 34, PnU 33, S2 39; word 2: InputAddr; word 3: IPA).
 */
#include <stdlib.h>

#include "smmuv3_env.h"

#define SID	 1
#define VMID	 3ULL
#define ASID	 7ULL
#define T1SZ	 25
#define TTB1_VA	 (~0ULL << (64 - T1SZ)) /* the first address of TTB1's range */
#define LOW	 0x12340000ULL		 /* low bits mapped by both tables (16K aligned) */
#define TAG	 0x5aULL << 56
#define EV_IN_R	 (2ULL << 40 | 1ULL << 35 | 1ULL << 33) /* CLASS IN, RnW, PnU */

struct ttb1_env {
	struct smmu_env t;
	struct pt_table tt1;
	uint64_t cd;	   /* where the CD is (PA; an IPA in nested mode, see cd_ipa) */
	uint64_t cd_ipa;   /* nested: the CD's IPA */
	uint64_t p0, p1;   /* outputs of LOW through TTB0 and through TTB1 */
	bool nested;
};

static uint64_t *cd_ptr(struct ttb1_env *v)
{
	return sm_hp(&v->t, v->cd);
}

/* CD word 0 with both tables on: T0SZ 16 / TG0 4K, T1SZ 25 / TG1 16K (0b01), plus @extra. */
static uint64_t cd0_both(uint64_t extra)
{
	return (cd0_std(ASID) & ~CD0_EPD1) | CD0_T1SZ(T1SZ) | CD0_TG1(1) | extra;
}

/* Rewrite the CD's word 0 and say so (CFGI_CD + SYNC). */
static void cd_word0(struct ttb1_env *v, uint64_t q0)
{
	cd_ptr(v)[0] = q0;
	cmd_issue(&v->t, 0x05 | (uint64_t)SID << 32, 1);
	cmd_issue(&v->t, 0x46, 0);
}

/*
 * Stage 1 only (@nested false) or nested. Both tables map LOW to a data
 * page each (p0: data + 0, p1: data + 0x8000), read-write.
 */
static void setup(struct ttb1_env *v, bool nested, uint64_t cd0)
{
	struct pt_cfg c0 = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg c1 = env_mk(PT_VMSA_S1, 14, 64 - T1SZ, 48, 0, 0);
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct smmu_env *t = &v->t;
	uint64_t out;

	memset(v, 0, sizeof(*v));
	v->nested = nested;
	smmu_env_init(t, &c0, nested ? &c2 : NULL);
	assert_int_equal(pt_table_init(&v->tt1, &c1, nested ? &t->e.g.mem : &t->e.host.mem), 0);
	out = nested ? t->e.data_ipa : t->e.data_pa;
	assert_int_equal(pt_map(&t->e.s1, LOW, out, 0x4000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&v->tt1, LOW, out + 0x8000, 0x4000, PT_PROT_RW), 0);
	v->p0 = t->e.data_pa;
	v->p1 = t->e.data_pa + 0x8000;
	if (nested) {
		v->cd_ipa = t->e.data_ipa + 0x100000;
		v->cd = t->e.gram_pa + (v->cd_ipa - GRAM_IPA);
		cd_set(cd_ptr(v), cd0, t->e.s1.root);
		ste_set(t, SID, STE0_V | STE0_CFG(7) | v->cd_ipa, 0, ste2_std(VMID, 40, 1),
			t->e.s2.root);
	} else {
		v->cd = t->free;
		cd_set(cd_ptr(v), cd0, t->e.s1.root);
		ste_set(t, SID, STE0_V | STE0_CFG(5) | v->cd, 0, STE2_VMID(VMID), 0);
	}
	cd_ptr(v)[2] = v->tt1.root; /* TTB1 [51:4] */
}

static void teardown(struct ttb1_env *v)
{
	pt_table_destroy(&v->tt1);
	smmu_env_destroy(&v->t);
}

static uint64_t pa_of(struct ttb1_env *v, uint64_t addr, unsigned int access)
{
	struct smmuv3_result r;

	assert_int_equal(sm_xlate(&v->t, SID, SMMU_NO_SSID, addr, access, &r), 0);
	return r.pa;
}

/* @addr terminates with a recorded stage-1 F_TRANSLATION of class IN, InputAddr @addr. */
static void expect_s1_gap(struct ttb1_env *v, uint64_t addr)
{
	struct smmuv3_result r;
	const uint64_t *e;

	assert_int_equal(sm_xlate(&v->t, SID, SMMU_NO_SSID, addr, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_TRANSLATION);
	assert_true(r.recorded);
	e = evt_next(&v->t);
	assert_int_equal(e[0], SMMU_EVT_F_TRANSLATION | (uint64_t)SID << 32);
	assert_int_equal(e[1], EV_IN_R);
	assert_int_equal(e[2], addr);
	assert_int_equal(e[3], 0);
}

/*
 * A TTB1-range VA translates through TTB1's tables, a TTB0-range one with
 * the same low bits through TTB0's; the walk of the TTB1 VA reads TTB1's
 * table; both stay apart in the IOTLB (hits give each its own page); and
 * a write "DMA" through each lands in its own page.
 */
static void test_ttb1_translate(void **state)
{
	struct smmuv3_txn txn = {.sid = SID, .ssid = SMMU_NO_SSID, .access = PT_PROT_R};
	struct smmuv3_trace *tr = calloc(1, sizeof(*tr));
	struct smmuv3_result r;
	struct ttb1_env v;
	uint64_t va1 = TTB1_VA | LOW | 0x123, pa;

	assert_non_null(tr);
	setup(&v, false, cd0_both(0));
	assert_int_equal(pa_of(&v, va1, PT_PROT_R), v.p1 + 0x123);
	assert_int_equal(pa_of(&v, LOW | 0x123, PT_PROT_R), v.p0 + 0x123);
	/* 16K leaves: the whole 16K page of the TTB1 mapping, none of TTB0's granule. */
	assert_int_equal(pa_of(&v, va1 + 0x3000, PT_PROT_R), v.p1 + 0x3123);
	/* The same answers from the IOTLB. */
	assert_int_equal(sm_xlate(&v.t, SID, SMMU_NO_SSID, va1, PT_PROT_R, &r), 0);
	assert_true(r.iotlb_hit);
	assert_int_equal(r.pa, v.p1 + 0x123);
	assert_int_equal(sm_xlate(&v.t, SID, SMMU_NO_SSID, LOW | 0x123, PT_PROT_R, &r), 0);
	assert_true(r.iotlb_hit);
	assert_int_equal(r.pa, v.p0 + 0x123);

	/* Traced, uncached (TLBI_NH_ALL): TTB1 selected, its low 39 bits walked, from TTB1. */
	cmd_issue(&v.t, 0x10 | VMID << 32, 0);
	txn.addr = va1 + 0x3000;
	assert_int_equal(smmuv3_translate_traced(v.t.s, &txn, &r, tr), 0);
	assert_int_equal(tr->ttb, 1);
	assert_int_equal(tr->walk_in, LOW | 0x3123);
	assert_true(tr->walk.n >= 1);
	assert_int_equal(tr->walk.r[0].addr, v.tt1.root); /* index 0 of TTB1's root table */
	txn.addr = LOW;
	assert_int_equal(smmuv3_translate_traced(v.t.s, &txn, &r, tr), 0);
	assert_int_equal(tr->ttb, 0);
	assert_int_equal(tr->walk_in, LOW);

	/* A "DMA" write of 64 bytes through each range: the bytes land in that range's page. */
	for (unsigned int k = 0; k < 2; k++) {
		uint8_t buf[64];

		memset(buf, 0xa0 + k, sizeof(buf));
		pa = pa_of(&v, (k ? TTB1_VA : 0) | LOW | 0x200, PT_PROT_W);
		memcpy(sm_hp(&v.t, pa), buf, sizeof(buf));
	}
	assert_int_equal(*(uint8_t *)sm_hp(&v.t, v.p0 + 0x200), 0xa0);
	assert_int_equal(*(uint8_t *)sm_hp(&v.t, v.p0 + 0x23f), 0xa0);
	assert_int_equal(*(uint8_t *)sm_hp(&v.t, v.p1 + 0x200), 0xa1);
	assert_int_equal(*(uint8_t *)sm_hp(&v.t, v.p1 + 0x23f), 0xa1);
	assert_true(evt_empty(&v.t));
	free(tr);
	teardown(&v);
}

/*
 * The gap: bits above T0SZ not all 0 and above T1SZ not all 1. Also a
 * stage-1 walk fault inside TTB1's range (nothing mapped there) reports
 * the address as issued.
 */
static void test_ttb1_gap(void **state)
{
	struct ttb1_env v;

	setup(&v, false, cd0_both(0));
	expect_s1_gap(&v, 1ULL << 48 | LOW);			/* just above TTB0's range */
	expect_s1_gap(&v, (TTB1_VA << 1) | LOW);		/* just below TTB1's range */
	expect_s1_gap(&v, 0x0080000000000000ULL | LOW);	/* bit 55 alone */
	expect_s1_gap(&v, 0x7fffffffffffffffULL);
	expect_s1_gap(&v, TTB1_VA | 0x40000000ULL); /* in TTB1's range, nothing mapped */
	/* Without CD.R nothing is recorded, the transaction still terminates. */
	cd_word0(&v, cd0_both(0) & ~CD0_R);
	{
		struct smmuv3_result r;

		assert_int_equal(sm_xlate(&v.t, SID, SMMU_NO_SSID, 1ULL << 50, PT_PROT_R, &r),
				 -EFAULT);
		assert_int_equal(r.event, SMMU_EVT_F_TRANSLATION);
		assert_false(r.recorded);
	}
	assert_true(evt_empty(&v.t));
	teardown(&v);
}

/* EPD0 / EPD1: lookups that select a disabled table fault; the other table still serves. */
static void test_epd(void **state)
{
	struct ttb1_env v;

	setup(&v, false, cd0_both(CD0_EPD1));
	assert_int_equal(pa_of(&v, LOW, PT_PROT_R), v.p0);
	expect_s1_gap(&v, TTB1_VA | LOW);
	/* EPD1 = 1: T1SZ, TG1, TTB1 IGNORED, so even garbage in them is no C_BAD_CD. */
	cd_ptr(&v)[2] = 1ULL << 51;
	cd_word0(&v, (cd0_std(ASID) & ~CD0_TG1(3)) | CD0_T1SZ(63) | CD0_TG1(0));
	assert_int_equal(pa_of(&v, LOW, PT_PROT_R), v.p0);
	expect_s1_gap(&v, TTB1_VA | LOW);
	expect_s1_gap(&v, ~0ULL);

	cd_ptr(&v)[2] = v.tt1.root;
	cd_word0(&v, cd0_both(CD0_EPD0));
	assert_int_equal(pa_of(&v, TTB1_VA | LOW, PT_PROT_R), v.p1);
	expect_s1_gap(&v, LOW);
	expect_s1_gap(&v, 0);

	cd_word0(&v, cd0_both(CD0_EPD0 | CD0_EPD1));
	expect_s1_gap(&v, LOW);
	expect_s1_gap(&v, TTB1_VA | LOW);
	teardown(&v);
}

/*
 * TBI: a tagged address (top byte 0x5a) is in no range without TBI; with
 * TBI for its range (the one bit 55 names) the top byte is ignored for the
 * range check and the walk, and the tagged and untagged forms are one
 * IOTLB entry. TBI of the other range does not apply.
 */
static void test_tbi(void **state)
{
	struct smmuv3_result r;
	struct ttb1_env v;
	uint64_t t1 = (TTB1_VA & ~(0xffULL << 56)) | TAG | LOW | 0x40, t0 = TAG | LOW | 0x40;

	setup(&v, false, cd0_both(0));
	expect_s1_gap(&v, t0);
	expect_s1_gap(&v, t1);

	cd_word0(&v, cd0_both(CD0_TBI0));
	assert_int_equal(pa_of(&v, t0, PT_PROT_R), v.p0 + 0x40);
	expect_s1_gap(&v, t1);
	assert_int_equal(sm_xlate(&v.t, SID, SMMU_NO_SSID, LOW | 0x40, PT_PROT_R, &r), 0);
	assert_true(r.iotlb_hit); /* the entry the tagged address filled */
	assert_int_equal(r.pa, v.p0 + 0x40);

	cd_word0(&v, cd0_both(CD0_TBI1));
	assert_int_equal(pa_of(&v, t1, PT_PROT_R), v.p1 + 0x40);
	expect_s1_gap(&v, t0);
	assert_int_equal(sm_xlate(&v.t, SID, SMMU_NO_SSID, TTB1_VA | LOW | 0x40, PT_PROT_R, &r), 0);
	assert_true(r.iotlb_hit);
	assert_int_equal(r.pa, v.p1 + 0x40);
	/* Any tag, including 0x00 on a TTB1 address and 0xff on a TTB0 one. */
	cd_word0(&v, cd0_both(CD0_TBI0 | CD0_TBI1));
	assert_int_equal(pa_of(&v, (TTB1_VA & ~(0xffULL << 56)) | LOW, PT_PROT_R), v.p1);
	assert_int_equal(pa_of(&v, 0xffULL << 56 | LOW, PT_PROT_R), v.p0);
	/* Bits [55:39] still decide: TBI does not widen a range. */
	expect_s1_gap(&v, TAG | 1ULL << 48 | LOW);
	expect_s1_gap(&v, (TTB1_VA << 1 & ~(0xffULL << 56)) | TAG | LOW);
	teardown(&v);
}

static void expect_bad_cd(struct ttb1_env *v, const char *what, uint64_t q0, uint64_t ttb1)
{
	struct smmuv3_result r;
	const uint64_t *e;

	print_message("  C_BAD_CD: %s\n", what);
	cd_ptr(v)[2] = ttb1;
	cd_word0(v, q0);
	assert_int_equal(sm_xlate(&v->t, SID, SMMU_NO_SSID, LOW, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_CD);
	assert_true(r.recorded);
	e = evt_next(&v->t);
	assert_int_equal(e[0], SMMU_EVT_C_BAD_CD | (uint64_t)SID << 32);
}

/* T1SZ / TG1 / TTB1 as T0SZ / TG0 / TTB0 are checked, when EPD1 = 0. */
static void test_bad_cd_ttb1(void **state)
{
	uint64_t base = cd0_both(0) & ~(CD0_T1SZ(63) | CD0_TG1(3));
	struct ttb1_env v;

	setup(&v, false, cd0_both(0));
	expect_bad_cd(&v, "TG1 = 0b00 (Reserved)", base | CD0_T1SZ(T1SZ), v.tt1.root);
	expect_bad_cd(&v, "T1SZ = 15", base | CD0_T1SZ(15) | CD0_TG1(1), v.tt1.root);
	expect_bad_cd(&v, "T1SZ = 40", base | CD0_T1SZ(40) | CD0_TG1(1), v.tt1.root);
	expect_bad_cd(&v, "T1SZ = 0 (EPD1 = 0)", base | CD0_TG1(2), v.tt1.root);
	/* IPS 0b000 = 32 bits: TTB1 = 1 << 33 lies beyond it. */
	expect_bad_cd(&v, "TTB1 > IPS", cd0_both(0) & ~CD0_IPS(7), 1ULL << 33);
	/* The same values with EPD1 = 1 are IGNORED. */
	cd_word0(&v, base | CD0_EPD1);
	assert_int_equal(pa_of(&v, LOW, PT_PROT_R), v.p0);
	teardown(&v);
}

/*
 * TLBI_NH_VA (and VAA, with the range form too) of a TTB1-range VA
 * removes what a walk through TTB1 filled; TLBI_NH_ASID too. Pattern of
 * test_smmuv3_cmd.c: fill, remap in memory, stale, invalidate, fresh.
 */
static void test_ttb1_tlbi(void **state)
{
	uint64_t va = TTB1_VA | LOW, new = 0;
	struct ttb1_env v;

	setup(&v, false, cd0_both(CD0_TBI1));
	assert_int_equal(pa_of(&v, va, PT_PROT_R), v.p1);
	for (unsigned int round = 0; round < 5; round++) {
		uint64_t out = (round & 1) ? v.p1 : v.t.e.data_pa + 0x10000;

		/* Remap TTB1's LOW page (16K) to @out; the IOTLB still has the old one. */
		new = out;
		pt_unmap(&v.tt1, LOW, 0x4000, NULL);
		assert_int_equal(pt_map(&v.tt1, LOW, out, 0x4000, PT_PROT_RW), 0);
		assert_int_not_equal(pa_of(&v, va, PT_PROT_R), new);
		/*
		 * TLBI of TTB0's LOW, of another ASID, of another VMID: TTB1's
		 * entry stays (the architecture would allow more; this checks
		 * that the model keeps TTB0's and TTB1's entries apart).
		 */
		cmd_issue(&v.t, 0x12 | VMID << 32 | ASID << 48, LOW);
		cmd_issue(&v.t, 0x12 | VMID << 32 | (ASID + 1) << 48, va);
		cmd_issue(&v.t, 0x13 | (VMID + 1) << 32, va);
		assert_int_not_equal(pa_of(&v, va, PT_PROT_R), new);
		switch (round) {
		case 0: /* NH_VA, the VA as issued */
			cmd_issue(&v.t, 0x12 | VMID << 32 | ASID << 48, va);
			break;
		case 1: /* NH_VAA */
			cmd_issue(&v.t, 0x13 | VMID << 32, va);
			break;
		case 2: /* NH_VA with a tag (TBI1: the top byte is ignored) */
			cmd_issue(&v.t, 0x12 | VMID << 32 | ASID << 48,
				  (va & ~(0xffULL << 56)) | TAG);
			break;
		case 3: /* range form: TG 16K (2), NUM 1, SCALE 0 = 2 pages from the one before */
			cmd_issue(&v.t, 0x12 | 1ULL << 12 | VMID << 32 | ASID << 48,
				  (va - 0x4000) | 2ULL << 10);
			break;
		default: /* NH_ASID */
			cmd_issue(&v.t, 0x11 | VMID << 32 | ASID << 48, 0);
			break;
		}
		assert_int_equal(pa_of(&v, va, PT_PROT_R), new);
		/* TTB0's LOW never moved. */
		assert_int_equal(pa_of(&v, LOW, PT_PROT_R), v.p0);
	}
	assert_int_equal(sm_r32(&v.t, SMMU_GERROR), 0);
	teardown(&v);
}

/*
 * A TLBI_NH_VA does not say T1SZ: one TTB1-range VA of ASID 7 cached by
 * two streams whose CDs give TTB1 39 and 42 bits (the same ASID and
 * VMID, so the same address space as far as TLBI goes) is removed from
 * both by one command.
 */
static void test_ttb1_tlbi_two_ias(void **state)
{
	struct pt_cfg c42 = env_mk(PT_VMSA_S1, 14, 42, 48, 0, 0);
	const uint64_t va = TTB1_VA | LOW, in42 = va & ((1ULL << 42) - 1);
	const uint32_t sid2 = SID + 1;
	struct pt_table tt42;
	struct ttb1_env v;
	uint64_t *cd2, p2, q1, q2;

	setup(&v, false, cd0_both(0));
	p2 = v.t.e.data_pa + 0xc000;
	assert_int_equal(pt_table_init(&tt42, &c42, &v.t.e.host.mem), 0);
	assert_int_equal(pt_map(&tt42, in42, p2, 0x4000, PT_PROT_RW), 0);
	cd2 = sm_hp(&v.t, v.cd + 64);
	cd_set(cd2, (cd0_both(0) & ~CD0_T1SZ(63)) | CD0_T1SZ(64 - 42), v.t.e.s1.root);
	cd2[2] = tt42.root;
	ste_set(&v.t, sid2, STE0_V | STE0_CFG(5) | (v.cd + 64), 0, STE2_VMID(VMID), 0);
	assert_int_equal(pa_of(&v, va, PT_PROT_R), v.p1);
	{
		struct smmuv3_result r;

		assert_int_equal(sm_xlate(&v.t, sid2, SMMU_NO_SSID, va, PT_PROT_R, &r), 0);
		assert_int_equal(r.pa, p2);
	}
	/* Both remapped in memory: both streams still see the cached pages. */
	q1 = v.t.e.data_pa + 0x10000;
	q2 = v.t.e.data_pa + 0x14000;
	pt_unmap(&v.tt1, LOW, 0x4000, NULL);
	pt_unmap(&tt42, in42, 0x4000, NULL);
	assert_int_equal(pt_map(&v.tt1, LOW, q1, 0x4000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&tt42, in42, q2, 0x4000, PT_PROT_RW), 0);
	for (int pass = 0; pass < 2; pass++) {
		struct smmuv3_result r;

		if (pass)
			cmd_issue(&v.t, 0x12 | VMID << 32 | ASID << 48, va);
		assert_int_equal(sm_xlate(&v.t, SID, SMMU_NO_SSID, va, PT_PROT_R, &r), 0);
		assert_true(pass ? r.pa == q1 : r.pa == v.p1);
		assert_int_equal(sm_xlate(&v.t, sid2, SMMU_NO_SSID, va, PT_PROT_R, &r), 0);
		assert_true(pass ? r.pa == q2 : r.pa == p2);
	}
	assert_int_equal(sm_r32(&v.t, SMMU_GERROR), 0);
	pt_table_destroy(&tt42);
	teardown(&v);
}

/*
 * Nested: TTB1 is an IPA translated through stage 2 like TTB0, and so are
 * TTB1's table addresses; the output is an IPA. A TTB1 outside what stage
 * 2 maps is a stage-2 fault of class TT whose IPA is TTB1.
 */
static void test_ttb1_nested(void **state)
{
	struct smmuv3_result r;
	struct ttb1_env v;
	const uint64_t *e;
	uint64_t bad = 0x90000000ULL; /* beyond guest RAM: stage 2 maps nothing there */

	setup(&v, true, cd0_both(0));
	assert_int_equal(pa_of(&v, TTB1_VA | LOW | 0x10, PT_PROT_W), v.p1 + 0x10);
	assert_int_equal(pa_of(&v, LOW | 0x10, PT_PROT_W), v.p0 + 0x10);
	expect_s1_gap(&v, 1ULL << 48);

	cd_ptr(&v)[2] = bad;
	cd_word0(&v, cd0_both(0));
	cmd_issue(&v.t, 0x11 | VMID << 32 | ASID << 48, 0); /* the old TTB1's walks */
	assert_int_equal(pa_of(&v, LOW, PT_PROT_R), v.p0);
	assert_int_equal(sm_xlate(&v.t, SID, SMMU_NO_SSID, TTB1_VA | LOW, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_TRANSLATION);
	e = evt_next(&v.t);
	assert_int_equal(e[0], SMMU_EVT_F_TRANSLATION | (uint64_t)SID << 32);
	/* S2, CLASS TT, TTRnW (a table read), RnW, PnU */
	assert_int_equal(e[1], 1ULL << 39 | 1ULL << 40 | 1ULL << 44 | 1ULL << 35 | 1ULL << 33);
	assert_int_equal(e[2], TTB1_VA | LOW);
	assert_int_equal(e[3], bad);
	teardown(&v);
}

/* smmuv3_select_tt() on its own: the range rule with TBI and with disabled tables. */
static void test_select_tt(void **state)
{
	static const struct {
		uint64_t addr;
		unsigned int tbi, ias0, ias1;
		int ttb;
		uint64_t in;
	} c[] = {
		{0x0000ffffffffffffULL, 0, 48, 39, 0, 0x0000ffffffffffffULL},
		{0x0001000000000000ULL, 0, 48, 39, -1, 0},
		{0xffffff8000001000ULL, 0, 48, 39, 1, 0x1000},
		{0xffffff7fffffffffULL, 0, 48, 39, -1, 0},
		{0xffff800000002000ULL, 0, 48, 48, 1, 0x800000002000ULL},
		{0x5a00000000003000ULL, 0, 48, 39, -1, 0},
		{0x5a00000000003000ULL, 1, 48, 39, 0, 0x3000},
		{0x5a00000000003000ULL, 2, 48, 39, -1, 0},
		{0x5affff8000004000ULL, 2, 48, 39, 1, 0x4000},
		{0x5affff8000004000ULL, 1, 48, 39, -1, 0},
		{0x0000000000005000ULL, 0, 0, 39, 0, 0x5000},	/* EPD0: still "TTB0" */
		{0x1234000000005000ULL, 0, 0, 39, 0, 0x1234000000005000ULL},
		{0xfffe000000006000ULL, 0, 48, 0, 1, 0xfffe000000006000ULL}, /* EPD1 */
	};

	for (unsigned int i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct smmuv3_tt_sel s;

		smmuv3_select_tt(c[i].addr, c[i].tbi, c[i].ias0, c[i].ias1, &s);
		print_message("  0x%016llx tbi %u ias %u/%u -> %d\n", (unsigned long long)c[i].addr,
			      c[i].tbi, c[i].ias0, c[i].ias1, s.ttb);
		assert_int_equal(s.ttb, c[i].ttb);
		if (s.ttb >= 0)
			assert_int_equal(s.in, c[i].in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_tt),   cmocka_unit_test(test_ttb1_translate),
		cmocka_unit_test(test_ttb1_gap),    cmocka_unit_test(test_epd),
		cmocka_unit_test(test_tbi),	    cmocka_unit_test(test_bad_cd_ttb1),
		cmocka_unit_test(test_ttb1_tlbi),
		cmocka_unit_test(test_ttb1_tlbi_two_ias),   cmocka_unit_test(test_ttb1_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
