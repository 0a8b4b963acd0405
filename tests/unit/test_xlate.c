// SPDX-License-Identifier: MIT
/*
 * lib/xlate: single-stage and nested (stage 1 over stage 2) translation.
 *
 * Two kinds of scenario:
 *  - hand-built: every table of both stages is written descriptor by
 *    descriptor at a fixed address, so the expected reads (address, IPA,
 *    value, in order) are worked out by hand in the comments;
 *  - mapped: stage 2 is a pt_table in a host arena mapping guest RAM, and
 *    stage 1 is a pt_table built in guest RAM through a "guest view" memory
 *    port that presents that RAM at its IPA, so that pt_map writes IPAs
 *    into stage-1 descriptors exactly as a guest driver would.
 *
 * Descriptor constants used throughout (4K granule):
 *   stage-1 page 0x743 = 0b11 page | AP[1] 0x40 (EL0) | SH 0x300 | AF 0x400
 *   stage-1 page 0x7c3 = the same read-only (AP[2] 0x80)
 *   stage-2 page 0x4ff = 0b11 page | MemAttr 0xf << 2 | S2AP RW 0xc0 | AF 0x400
 *   table        0x003
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pt/pt.h"
#include "xlate/xlate.h"

#define HBASE 0x40000000ULL /* host "physical" memory */

#define S1_AF	 (1ULL << 10)
#define S1_AP2	 (1ULL << 7) /* read-only */
#define S2_AP_W	 (1ULL << 7) /* S2AP write */
#define D_DBM	 (1ULL << 51)

static struct pt_cfg mk(enum pt_format f, unsigned int g, unsigned int ias, unsigned int oas,
			int sl0, unsigned int flags)
{
	struct pt_cfg c = { .format = f, .granule_shift = g, .ias = ias, .oas = oas, .sl0 = sl0,
			    .flags = flags };

	assert_int_equal(pt_cfg_init(&c), 0);
	return c;
}

static uint64_t *hp(struct pt_arena *a, uint64_t pa)
{
	assert_true(pa >= a->base && pa + 8 <= a->base + a->size);
	return (uint64_t *)(a->buf + (pa - a->base));
}

static void expect_read(const struct xlate_record *rec, unsigned int i, int stage, int level,
			int s1_step, uint64_t addr, uint64_t ipa)
{
	const struct xlate_read *r = &rec->r[i];

	if (r->stage != stage || r->level != level || r->s1_step != s1_step || r->addr != addr ||
	    r->ipa != ipa)
		print_error("read %u: got stage %d level %d step %d addr 0x%llx ipa 0x%llx\n", i,
			    r->stage, r->level, r->s1_step, (unsigned long long)r->addr,
			    (unsigned long long)r->ipa);
	assert_int_equal(r->stage, stage);
	assert_int_equal(r->level, level);
	assert_int_equal(r->s1_step, s1_step);
	assert_int_equal(r->addr, addr);
	assert_int_equal(r->ipa, ipa);
}

static void expect_fault(const struct xlate_fault *f, int stage, enum xlate_class cls, int level,
			 enum pt_fault_reason reason, uint64_t input, uint64_t ipa)
{
	assert_int_equal(f->stage, stage);
	assert_int_equal(f->cls, cls);
	assert_int_equal(f->level, level);
	assert_int_equal(f->reason, reason);
	assert_int_equal(f->input_addr, input);
	assert_int_equal(f->ipa, ipa);
}

/* ---------------------------------------------------------------------- */
/* Hand-built: 4-level stage 1 over 4-level stage 2                        */

/*
 * Host memory at HBASE, 1 MiB. Stage 2 (4K, 48-bit IPA, start level 0):
 *   L0  @HBASE+0x0000  [0]     -> L1
 *   L1  @HBASE+0x1000  [2]     -> L2a   (IPA 0x0_8000_0000: bits 38:30 = 2)
 *                      [4]     -> L2b   (IPA 0x1_2345_6abc: bits 38:30 = 4)
 *   L2a @HBASE+0x2000  [0]     -> L3a
 *   L3a @HBASE+0x3000  [k]     -> page HBASE+0x13000 - k * 0x1000, k = 0..3
 *                                 (guest pages in reverse, so an offset
 *                                 mistake cannot go unnoticed)
 *   L2b @HBASE+0x4000  [0x11a] -> L3b   (bits 29:21 of 0x123456abc)
 *   L3b @HBASE+0x5000  [0x56]  -> page HBASE+0x20000   (bits 20:12)
 * Stage 1 (4K, 48-bit), tables at IPA 0x80000000 + d * 0x1000 (d = depth),
 * IOVA 0x80_8060_4abc = 1 << 39 | 2 << 30 | 3 << 21 | 4 << 12 | 0xabc:
 *   L0[1] -> 0x80001000, L1[2] -> 0x80002000, L2[3] -> 0x80003000,
 *   L3[4] -> page IPA 0x123456000, RW + EL0.
 */
#define N_IOVA	0x8080604abcULL
#define N_S1IPA 0x80000000ULL
#define N_OUT	0x123456abcULL

static uint64_t s1_tab_pa(int d)
{
	return HBASE + 0x13000 - (uint64_t)d * 0x1000;
}

static void build_s1_handmade(struct pt_arena *a)
{
	*hp(a, s1_tab_pa(0) + 1 * 8) = 0x80001000ULL | 3;
	*hp(a, s1_tab_pa(1) + 2 * 8) = 0x80002000ULL | 3;
	*hp(a, s1_tab_pa(2) + 3 * 8) = 0x80003000ULL | 3;
	*hp(a, s1_tab_pa(3) + 4 * 8) = 0x123456000ULL | 0x743;
}

static void build_4over4(struct pt_arena *a, struct pt_cfg *s1c, struct pt_cfg *s2c,
			 struct xlate_cfg *xc)
{
	*s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	*s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	assert_int_equal(s2c->start_level, 0);
	assert_int_equal(pt_arena_init(a, HBASE, 0x100000), 0);

	*hp(a, HBASE + 0x0000) = (HBASE + 0x1000) | 3;
	*hp(a, HBASE + 0x1000 + 2 * 8) = (HBASE + 0x2000) | 3;
	*hp(a, HBASE + 0x1000 + 4 * 8) = (HBASE + 0x4000) | 3;
	*hp(a, HBASE + 0x2000) = (HBASE + 0x3000) | 3;
	for (int k = 0; k < 4; k++)
		*hp(a, HBASE + 0x3000 + (uint64_t)k * 8) = s1_tab_pa(k) | 0x4ff;
	*hp(a, HBASE + 0x4000 + 0x11a * 8) = (HBASE + 0x5000) | 3;
	*hp(a, HBASE + 0x5000 + 0x56 * 8) = (HBASE + 0x20000) | 0x4ff;
	build_s1_handmade(a);

	*xc = (struct xlate_cfg){ .s1 = { s1c, N_S1IPA }, .s2 = { s2c, HBASE }, .mem = &a->mem };
}

static void test_nested_4over4_24_reads(void **state)
{
	struct pt_arena a;
	struct pt_cfg s1c, s2c;
	struct xlate_cfg xc;
	struct xlate_result res;
	struct xlate_fault f;
	struct xlate_record rec;
	/* The stage-1 descriptor IPAs: table IPA + index * 8 for indices 1, 2, 3, 4. */
	const uint64_t dipa[4] = { 0x80000008, 0x80001010, 0x80002018, 0x80003020 };
	/* Their stage-1 values (what the stage-1 read returns). */
	const uint64_t s1val[4] = { 0x80001003, 0x80002003, 0x80003003, 0x123456743 };
	unsigned int i = 0;

	build_4over4(&a, &s1c, &s2c, &xc);
	memset(&rec, 0xa5, sizeof(rec));
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_W, &res, &f, &rec), PT_OK);
	assert_int_equal(rec.n, 24);

	for (int d = 0; d < 4; d++) {
		/*
		 * Stage 2 for 0x8000_d0xx: L0[0], L1[2], L2a[0], L3a[d], each
		 * recorded with the IPA being translated and s1_step = d.
		 */
		expect_read(&rec, i, 2, 0, d, HBASE, dipa[d]);
		assert_int_equal(rec.r[i++].value, (HBASE + 0x1000) | 3);
		expect_read(&rec, i, 2, 1, d, HBASE + 0x1010, dipa[d]);
		assert_int_equal(rec.r[i++].value, (HBASE + 0x2000) | 3);
		expect_read(&rec, i, 2, 2, d, HBASE + 0x2000, dipa[d]);
		assert_int_equal(rec.r[i++].value, (HBASE + 0x3000) | 3);
		expect_read(&rec, i, 2, 3, d, HBASE + 0x3000 + (uint64_t)d * 8, dipa[d]);
		assert_int_equal(rec.r[i++].value, s1_tab_pa(d) | 0x4ff);
		/* Then the stage-1 descriptor at its PA: the page's PA + (IPA & 0xfff). */
		expect_read(&rec, i, 1, d, d, s1_tab_pa(d) + (dipa[d] & 0xfff), dipa[d]);
		assert_int_equal(rec.r[i++].value, s1val[d]);
	}
	/* The output IPA 0x1_2345_6abc with s1_step = 4: L0[0], L1[4], L2b[0x11a], L3b[0x56]. */
	expect_read(&rec, i++, 2, 0, 4, HBASE, N_OUT);
	expect_read(&rec, i++, 2, 1, 4, HBASE + 0x1020, N_OUT);
	expect_read(&rec, i, 2, 2, 4, HBASE + 0x48d0, N_OUT);
	assert_int_equal(rec.r[i++].value, (HBASE + 0x5000) | 3);
	expect_read(&rec, i, 2, 3, 4, HBASE + 0x52b0, N_OUT);
	assert_int_equal(rec.r[i++].value, (HBASE + 0x20000) | 0x4ff);
	assert_int_equal(i, 24);

	assert_int_equal(res.pa, HBASE + 0x20abc);
	assert_int_equal(res.ipa, N_OUT);
	assert_int_equal(res.size, 0x1000);
	assert_int_equal(res.s1_level, 3);
	assert_int_equal(res.s2_level, 3);
	assert_int_equal(res.s1_size, 0x1000);
	assert_int_equal(res.s2_size, 0x1000);
	/* S1 0x743: R, W (AP[2] clear), U (AP[1]), X (no PXN); S2 0x4ff: R, W, X; U always. */
	assert_int_equal(res.s1_prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	assert_int_equal(res.s2_prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	assert_int_equal(res.prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);

	/* Without a record and without a fault pointer the answer is the same. */
	memset(&res, 0, sizeof(res));
	assert_int_equal(xlate(&xc, N_IOVA + 0x10, PT_PROT_R | PT_PROT_U, &res, NULL, NULL), PT_OK);
	assert_int_equal(res.pa, HBASE + 0x20acc);

	/* An unprivileged write is fine too: stage 2 ignores U. */
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_W | PT_PROT_U, &res, &f, &rec), PT_OK);
	assert_int_equal(rec.n, 24);
	pt_arena_destroy(&a);
}

/*
 * 4 over 3: stage 2 with a 40-bit IPA and SL0 = 1 starts at level 1 with
 * two concatenated 4K tables (8 KiB root at HBASE, indexed by IPA bits
 * 39:30). Stage 1 as above but its leaf points at IPA 0x80_4020_3000:
 *   root index 0x201 (second table, entry 1) @HBASE + 0x1008 -> L2b @+0x4000
 *   L2b[1] @+0x4008 -> L3b @+0x5000, L3b[3] @+0x5018 -> page HBASE+0x20000.
 * Guest tables (IPA 0x8000_d000): root index 2 @HBASE + 0x10 -> L2a @+0x2000,
 *   L2a[0] -> L3a @+0x3000, L3a[d] -> s1_tab_pa(d).
 * Reads: 4 * (3 + 1) + 3 = 19.
 */
static void test_nested_4over3_concat_19_reads(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	const uint64_t dipa[4] = { 0x80000008, 0x80001010, 0x80002018, 0x80003020 };
	struct pt_arena a;
	struct xlate_cfg xc;
	struct xlate_result res;
	struct xlate_fault f;
	struct xlate_record rec;
	unsigned int i = 0;

	assert_int_equal(s2c.start_level, 1);
	assert_int_equal(s2c.concat, 2);
	assert_int_equal(pt_arena_init(&a, HBASE, 0x100000), 0);
	*hp(&a, HBASE + 2 * 8) = (HBASE + 0x2000) | 3;
	*hp(&a, HBASE + 0x201 * 8) = (HBASE + 0x4000) | 3;
	*hp(&a, HBASE + 0x2000) = (HBASE + 0x3000) | 3;
	for (int k = 0; k < 4; k++)
		*hp(&a, HBASE + 0x3000 + (uint64_t)k * 8) = s1_tab_pa(k) | 0x4ff;
	*hp(&a, HBASE + 0x4000 + 1 * 8) = (HBASE + 0x5000) | 3;
	*hp(&a, HBASE + 0x5000 + 3 * 8) = (HBASE + 0x20000) | 0x4ff;
	build_s1_handmade(&a);
	*hp(&a, s1_tab_pa(3) + 4 * 8) = 0x8040203000ULL | 0x743;
	xc = (struct xlate_cfg){ .s1 = { &s1c, N_S1IPA }, .s2 = { &s2c, HBASE }, .mem = &a.mem };

	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_OK);
	assert_int_equal(rec.n, 19);
	for (int d = 0; d < 4; d++) {
		expect_read(&rec, i++, 2, 1, d, HBASE + 0x10, dipa[d]);
		expect_read(&rec, i++, 2, 2, d, HBASE + 0x2000, dipa[d]);
		expect_read(&rec, i++, 2, 3, d, HBASE + 0x3000 + (uint64_t)d * 8, dipa[d]);
		expect_read(&rec, i++, 1, d, d, s1_tab_pa(d) + (dipa[d] & 0xfff), dipa[d]);
	}
	expect_read(&rec, i++, 2, 1, 4, HBASE + 0x1008, 0x8040203abcULL);
	expect_read(&rec, i++, 2, 2, 4, HBASE + 0x4008, 0x8040203abcULL);
	expect_read(&rec, i++, 2, 3, 4, HBASE + 0x5018, 0x8040203abcULL);
	assert_int_equal(i, 19);
	assert_int_equal(res.pa, HBASE + 0x20abc);
	assert_int_equal(res.ipa, 0x8040203abcULL);
	assert_int_equal(res.s2_level, 3);

	/* An output IPA at 2^40 is beyond the stage-2 input: stage 2, IN, translation at L1. */
	*hp(&a, s1_tab_pa(3) + 4 * 8) = 0x10000000000ULL | 0x743;
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_TRANSLATION);
	expect_fault(&f, 2, XLATE_CLASS_IN, 1, PT_FAULT_TRANSLATION, N_IOVA, 0x10000000abcULL);
	assert_int_equal(rec.n, 16);
	pt_arena_destroy(&a);
}

/* ---------------------------------------------------------------------- */
/* Faults on the hand-built pair: every stage and class                    */

static void test_nested_faults_handmade(void **state)
{
	struct pt_arena a;
	struct pt_cfg s1c, s2c;
	struct xlate_cfg xc;
	struct xlate_result res;
	struct xlate_fault f;
	struct xlate_record rec;
	uint64_t *s2l3a3 = NULL, *s1l1;

	build_4over4(&a, &s1c, &s2c, &xc);
	s2l3a3 = hp(&a, HBASE + 0x3000 + 3 * 8);
	s1l1 = hp(&a, s1_tab_pa(1) + 2 * 8);

	/*
	 * The root TTB IPA not mapped by stage 2: TTB 0x9000_0000, root entry
	 * 1 at IPA 0x9000_0008; S2 L1[2] -> L2a, whose index 0x80 is empty:
	 * stage 2, class TT, translation at level 2 after 3 reads.
	 */
	xc.s1.root = 0x90000000;
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_TRANSLATION);
	expect_fault(&f, 2, XLATE_CLASS_TT, 2, PT_FAULT_TRANSLATION, N_IOVA, 0x90000008);
	assert_int_equal(f.desc_addr, HBASE + 0x2000 + 0x80 * 8);
	assert_int_equal(rec.n, 3);
	xc.s1.root = N_S1IPA;

	/* A middle table (the L2 table, through L1[2]) at an unmapped IPA: TT, desc IPA. */
	*s1l1 = 0x90000000ULL | 3;
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_TRANSLATION);
	expect_fault(&f, 2, XLATE_CLASS_TT, 2, PT_FAULT_TRANSLATION, N_IOVA, 0x90000018);
	assert_int_equal(rec.n, 5 + 5 + 3);
	assert_int_equal(rec.r[12].s1_step, 2);

	/* The stage-2 leaf of the last stage-1 table without read permission: TT permission. */
	*s1l1 = 0x80002000ULL | 3;
	*s2l3a3 = s1_tab_pa(3) | 0x4bf; /* S2AP = 0b10: write-only */
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_PERMISSION);
	expect_fault(&f, 2, XLATE_CLASS_TT, 3, PT_FAULT_PERMISSION, N_IOVA, 0x80003020);
	assert_int_equal(f.desc_addr, HBASE + 0x3018);
	assert_int_equal(rec.n, 15 + 4);
	/* ... and its access flag clear: TT access fault. */
	*s2l3a3 = (s1_tab_pa(3) | 0x4ff) & ~S1_AF;
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_ACCESS);
	expect_fault(&f, 2, XLATE_CLASS_TT, 3, PT_FAULT_ACCESS, N_IOVA, 0x80003020);
	*s2l3a3 = s1_tab_pa(3) | 0x4ff;

	/* Stage-2 table descriptor pointing outside memory: walk abort, stage 2, TT. */
	*hp(&a, HBASE + 0x2000) = 0x7000000000ULL | 3;
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_EXT_ABORT);
	expect_fault(&f, 2, XLATE_CLASS_TT, 3, PT_FAULT_EXT_ABORT, N_IOVA, 0x80000008);
	assert_int_equal(f.desc_addr, 0x7000000000ULL); /* L3 index 0 */
	assert_int_equal(rec.n, 3);
	*hp(&a, HBASE + 0x2000) = (HBASE + 0x3000) | 3;

	/* ... and on the final IPA's path (L2b): walk abort, stage 2, IN, at L3 index 0x56. */
	*hp(&a, HBASE + 0x4000 + 0x11a * 8) = 0x7000000000ULL | 3;
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_EXT_ABORT);
	expect_fault(&f, 2, XLATE_CLASS_IN, 3, PT_FAULT_EXT_ABORT, N_IOVA, N_OUT);
	assert_int_equal(f.desc_addr, 0x7000000000ULL + 0x56 * 8);
	assert_int_equal(rec.n, 23);
	*hp(&a, HBASE + 0x4000 + 0x11a * 8) = (HBASE + 0x5000) | 3;

	/*
	 * Stage 2 maps a stage-1 table page outside memory: the stage-2 walk
	 * succeeds and the stage-1 read at that PA aborts: stage 1, class TT,
	 * level of the stage-1 descriptor, ipa = its IPA, desc_addr = the PA.
	 */
	*hp(&a, HBASE + 0x3000 + 2 * 8) = 0x7000005000ULL | 0x4ff;
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_EXT_ABORT);
	expect_fault(&f, 1, XLATE_CLASS_TT, 2, PT_FAULT_EXT_ABORT, N_IOVA, 0x80002018);
	assert_int_equal(f.desc_addr, 0x7000005018ULL);
	assert_int_equal(rec.n, 5 + 5 + 4);
	*hp(&a, HBASE + 0x3000 + 2 * 8) = s1_tab_pa(2) | 0x4ff;

	/* ... and a final PA outside memory is not read at all: the translation succeeds. */
	*hp(&a, HBASE + 0x5000 + 0x56 * 8) = 0x7000020000ULL | 0x4ff;
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_OK);
	assert_int_equal(res.pa, 0x7000020abcULL);
	*hp(&a, HBASE + 0x5000 + 0x56 * 8) = (HBASE + 0x20000) | 0x4ff;

	/* Stage-1 decode faults are stage 1, class IN, ipa 0, desc_addr the PA read. */
	*hp(&a, s1_tab_pa(3) + 4 * 8) = 0x123456000ULL | 0x742; /* invalid */
	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_FAULT_TRANSLATION);
	expect_fault(&f, 1, XLATE_CLASS_IN, 3, PT_FAULT_TRANSLATION, N_IOVA, 0);
	assert_int_equal(f.desc_addr, s1_tab_pa(3) + 0x20);
	assert_int_equal(rec.n, 20);
	*hp(&a, s1_tab_pa(3) + 4 * 8) = 0x123456000ULL | 0x743;

	/* IOVA beyond the 48-bit stage-1 input: stage 1 translation at level 0, nothing read. */
	assert_int_equal(xlate(&xc, 1ULL << 48, PT_PROT_R, &res, &f, &rec), PT_FAULT_TRANSLATION);
	expect_fault(&f, 1, XLATE_CLASS_IN, 0, PT_FAULT_TRANSLATION, 1ULL << 48, 0);
	assert_int_equal(f.desc_addr, 0);
	assert_int_equal(rec.n, 0);
	pt_arena_destroy(&a);
}

/* ---------------------------------------------------------------------- */
/* Mapped scenarios: stage 2 over guest RAM, stage 1 in guest RAM          */

#define HSIZE	  0x1000000ULL		  /* 16 MiB of host memory */
#define GRAM_PA	  (HBASE + 0x400000)	  /* guest RAM: 4 MiB in host memory ... */
#define GRAM_IPA  0x80000000ULL		  /* ... seen by the guest here */
#define GRAM_SIZE 0x400000ULL
#define DATA_IPA  (GRAM_IPA + 0x200000)	  /* upper 2 MiB: data; lower: stage-1 tables */
#define DATA_PA	  (GRAM_PA + 0x200000)
#define NOMAP_IPA 0x90000000ULL		  /* never mapped by stage 2 */

/*
 * The guest's view of its RAM: a memory port whose one region presents
 * the guest-RAM part of the host arena at its IPA, with a bump allocator
 * for table pages, so that a pt_table built on it holds IPAs.
 */
struct guest {
	struct pt_mem mem;
	uint64_t next; /* offset of the next free byte */
	uint64_t limit;
};

static int guest_alloc_table(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
			     void **ptr)
{
	struct guest *g = (struct guest *)mem;
	uint64_t sz = size < 4096 ? 4096 : size;
	uint64_t off = (g->next + sz - 1) & ~(sz - 1);

	if (off + sz > g->limit)
		return -ENOMEM;
	g->next = off + sz;
	*pa = mem->region[0].base + off;
	*ptr = mem->region[0].host + off;
	memset(*ptr, 0, sz);
	return 0;
}

static void guest_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
}

static void guest_init(struct guest *g, struct pt_arena *host, uint64_t ipa, uint64_t pa,
		       uint64_t size, uint64_t table_bytes)
{
	memset(g, 0, sizeof(*g));
	g->mem.nr_regions = 1;
	g->mem.region[0] = (struct pt_mem_region){ .base = ipa, .size = size,
						   .host = host->buf + (pa - host->base) };
	g->mem.alloc_table = guest_alloc_table;
	g->mem.free_table = guest_free_table;
	g->limit = table_bytes;
}

struct env {
	struct pt_arena host;
	struct guest g;
	struct pt_table s1, s2;
	bool has_s1, has_s2;
	struct xlate_cfg xc;
	struct xlate_result res;
	struct xlate_fault f;
	struct xlate_record rec;
};

/*
 * Nested: stage 2 maps guest RAM (RW, its cfg decides blocks or pages) and
 * stage 1 lives in the lower half of guest RAM. Either cfg may be NULL.
 */
static void env_init(struct env *e, const struct pt_cfg *s1c, const struct pt_cfg *s2c)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(pt_arena_init(&e->host, HBASE, HSIZE), 0);
	assert_int_equal(pt_arena_reserve(&e->host, GRAM_PA, GRAM_SIZE), 0);
	e->xc.mem = &e->host.mem;
	if (s2c) {
		assert_int_equal(pt_table_init(&e->s2, s2c, &e->host.mem), 0);
		assert_int_equal(pt_map(&e->s2, GRAM_IPA, GRAM_PA, GRAM_SIZE, PT_PROT_RW), 0);
		e->has_s2 = true;
		e->xc.s2 = (struct xlate_stage){ &e->s2.cfg, e->s2.root };
	}
	if (s1c) {
		if (s2c) {
			guest_init(&e->g, &e->host, GRAM_IPA, GRAM_PA, GRAM_SIZE, GRAM_SIZE / 2);
			assert_int_equal(pt_table_init(&e->s1, s1c, &e->g.mem), 0);
		} else {
			/* Stage 1 alone: its tables in host memory, outputs are PAs. */
			assert_int_equal(pt_table_init(&e->s1, s1c, &e->host.mem), 0);
		}
		e->has_s1 = true;
		e->xc.s1 = (struct xlate_stage){ &e->s1.cfg, e->s1.root };
	}
}

static void env_destroy(struct env *e)
{
	if (e->has_s1)
		pt_table_destroy(&e->s1);
	if (e->has_s2)
		pt_table_destroy(&e->s2);
	pt_arena_destroy(&e->host);
}

static enum pt_fault_reason run(struct env *e, uint64_t iova, unsigned int access)
{
	memset(&e->res, 0, sizeof(e->res));
	memset(&e->f, 0, sizeof(e->f));
	return xlate(&e->xc, iova, access, &e->res, &e->f, &e->rec);
}

/*
 * run() that must fail with @reason, the fault record naming @iova as its
 * input: the rest as expect_fault() checks it.
 */
static void run_fault(struct env *e, uint64_t iova, unsigned int access, int stage,
		      enum xlate_class cls, int level, enum pt_fault_reason reason, uint64_t ipa)
{
	assert_int_equal(run(e, iova, access), reason);
	expect_fault(&e->f, stage, cls, level, reason, iova, ipa);
}

struct walk_reads {
	unsigned int n;
	uint64_t addr[PT_MAX_LEVELS];
	int level[PT_MAX_LEVELS];
};

static void note_read(void *arg, int level, uint64_t addr, uint64_t value)
{
	struct walk_reads *r = arg;

	if (r->n < PT_MAX_LEVELS) {
		r->addr[r->n] = addr;
		r->level[r->n] = level;
	}
	r->n++;
}

/*
 * Host pointer to the descriptor at architectural @level that a walk of
 * @t for @in reads (whatever the walk then decides about it).
 */
static uint64_t *desc_at(struct pt_table *t, uint64_t in, int level, uint64_t *addr)
{
	struct walk_reads r = { 0 };
	struct pt_leaf leaf;
	struct pt_fault f;
	uint64_t *p;

	pt_walk_mem(&t->cfg, t->mem, t->root, in, PT_PROT_R, &leaf, &f, note_read, &r);
	for (unsigned int i = 0; i < r.n && i < PT_MAX_LEVELS; i++) {
		if (r.level[i] != level)
			continue;
		p = pt_mem_ptr(t->mem, r.addr[i], 8);
		assert_non_null(p);
		if (addr)
			*addr = r.addr[i];
		return p;
	}
	fail_msg("no descriptor at level %d for 0x%llx", level, (unsigned long long)in);
	return NULL;
}

/* The last-level leaf of a 4K table for @in. */
static uint64_t *leaf3(struct pt_table *t, uint64_t in, uint64_t *addr)
{
	return desc_at(t, in, 3, addr);
}

static void test_nested_2m_leaves(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct env e;

	/* Stage 2 maps guest RAM with two 2M blocks; stage 1 maps a 2M block to DATA_IPA. */
	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x40000000, DATA_IPA, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(run(&e, 0x40123456, PT_PROT_W), PT_OK);
	/* 3 over 3: (3 + 1) * (3 + 1) - 1 = 15 reads. */
	assert_int_equal(e.rec.n, 15);
	assert_int_equal(e.res.pa, DATA_PA + 0x123456);
	assert_int_equal(e.res.ipa, DATA_IPA + 0x123456);
	assert_int_equal(e.res.size, 0x200000);
	assert_int_equal(e.res.s1_size, 0x200000);
	assert_int_equal(e.res.s2_size, 0x200000);
	assert_int_equal(e.res.s1_level, 2);
	assert_int_equal(e.res.s2_level, 2);
	/* S1: R W (no U, XN); S2: R W U. */
	assert_int_equal(e.res.s1_prot, PT_PROT_RW);
	assert_int_equal(e.res.s2_prot, PT_PROT_RW | PT_PROT_U);
	assert_int_equal(e.res.prot, PT_PROT_RW);
	/* Every stage-2 read is at level 0, 1 or 2; every stage-1 read too. */
	for (unsigned int i = 0; i < e.rec.n; i++)
		assert_true(e.rec.r[i].level <= 2);
	env_destroy(&e);
}

static void test_nested_size_is_min(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct env e;

	/* S1 2M block over S2 4K pages: 3 * 5 + 4 = 19 reads, size 4K. */
	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x40000000, DATA_IPA, 0x200000, PT_PROT_RW), 0);
	assert_int_equal(run(&e, 0x401ff123, PT_PROT_R), PT_OK);
	assert_int_equal(e.rec.n, 19);
	assert_int_equal(e.res.pa, DATA_PA + 0x1ff123);
	assert_int_equal(e.res.s1_size, 0x200000);
	assert_int_equal(e.res.s2_size, 0x1000);
	assert_int_equal(e.res.size, 0x1000);
	assert_int_equal(e.res.s1_level, 2);
	assert_int_equal(e.res.s2_level, 3);
	env_destroy(&e);

	/* S1 4K page over an S2 2M block: 4 * 4 + 3 = 19 reads, size 4K, s2_size 2M. */
	s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x7000, DATA_IPA + 0x5000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(run(&e, 0x7abc, PT_PROT_R), PT_OK);
	assert_int_equal(e.rec.n, 19);
	assert_int_equal(e.res.pa, DATA_PA + 0x5abc);
	assert_int_equal(e.res.s1_size, 0x1000);
	assert_int_equal(e.res.s2_size, 0x200000);
	assert_int_equal(e.res.size, 0x1000);
	env_destroy(&e);

	/*
	 * Mixed granules: a 64K-granule stage 1 (48-bit: levels 1..3) over a
	 * 4K stage 2 of 4K pages: 3 * 5 + 4 = 19 reads; size = 4K.
	 */
	s1c = mk(PT_VMSA_S1, 16, 48, 48, 0, 0);
	s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x30000, DATA_IPA + 0x10000, 0x10000, PT_PROT_RW), 0);
	assert_int_equal(run(&e, 0x3f00c, PT_PROT_W), PT_OK);
	assert_int_equal(e.rec.n, 19);
	assert_int_equal(e.res.pa, DATA_PA + 0x1f00c);
	assert_int_equal(e.res.s1_size, 0x10000);
	assert_int_equal(e.res.s2_size, 0x1000);
	assert_int_equal(e.res.size, 0x1000);
	env_destroy(&e);
}

static void test_nested_permissions(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct env e;
	uint64_t s1addr;

	env_init(&e, &s1c, &s2c);
	/* 0x1000: S1 RW; 0x2000: S1 RO; 0x3000: S1 RW + EL0. */
	assert_int_equal(pt_map(&e.s1, 0x1000, DATA_IPA + 0x1000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&e.s1, 0x2000, DATA_IPA + 0x2000, 0x1000, PT_PROT_R), 0);
	assert_int_equal(pt_map(&e.s1, 0x3000, DATA_IPA + 0x3000, 0x1000,
				PT_PROT_RW | PT_PROT_U), 0);
	/* Stage 2: the page at DATA_IPA + 0x1000 read-only. */
	assert_int_equal(pt_unmap(&e.s2, DATA_IPA + 0x1000, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&e.s2, DATA_IPA + 0x1000, DATA_PA + 0x1000, 0x1000, PT_PROT_R), 0);

	/* S1 RW over S2 RO: a write is a stage-2 permission fault, class IN, at the IPA. */
	run_fault(&e, 0x1234, PT_PROT_W, 2, XLATE_CLASS_IN, 3, PT_FAULT_PERMISSION,
		  DATA_IPA + 0x1234);
	assert_int_equal(e.rec.n, 24);
	/* ... a read is fine and the combined prot is read-only. */
	assert_int_equal(run(&e, 0x1234, PT_PROT_R), PT_OK);
	assert_int_equal(e.res.s1_prot, PT_PROT_RW);
	assert_int_equal(e.res.s2_prot, PT_PROT_R | PT_PROT_U);
	assert_int_equal(e.res.prot, PT_PROT_R);

	/* S1 RO over S2 RW: a write is a stage-1 permission fault, class IN, no stage-2 walk. */
	leaf3(&e.s1, 0x2000, &s1addr);
	run_fault(&e, 0x2010, PT_PROT_W, 1, XLATE_CLASS_IN, 3, PT_FAULT_PERMISSION, 0);
	/* desc_addr is the PA the stage-1 leaf was read from. */
	assert_int_equal(e.f.desc_addr, s1addr - GRAM_IPA + GRAM_PA);
	assert_int_equal(e.rec.n, 20);

	/* Unprivileged access: stage 1 decides; stage 2 never refuses U. */
	run_fault(&e, 0x1000, PT_PROT_R | PT_PROT_U, 1, XLATE_CLASS_IN, 3, PT_FAULT_PERMISSION, 0);
	assert_int_equal(run(&e, 0x3000, PT_PROT_W | PT_PROT_U), PT_OK);
	assert_int_equal(e.res.prot, PT_PROT_RW | PT_PROT_U);

	/*
	 * Fetching stage-1 tables needs stage-2 read permission only: with
	 * every stage-1 table page read-only at stage 2 (and no hardware
	 * update to make), a write still translates.
	 */
	for (int lvl = 0; lvl < 4; lvl++) {
		uint64_t tipa, *s2pte;

		desc_at(&e.s1, 0x3000, lvl, &tipa);
		s2pte = leaf3(&e.s2, tipa, NULL);
		*s2pte &= ~S2_AP_W;
	}
	assert_int_equal(run(&e, 0x3000, PT_PROT_W), PT_OK);
	assert_int_equal(e.res.pa, DATA_PA + 0x3000);

	/* Execute: stage 1 maps XN, so X is a stage-1 fault; S2 XN alone is a stage-2 fault. */
	assert_int_equal(run(&e, 0x3000, PT_PROT_X), PT_FAULT_PERMISSION);
	assert_int_equal(e.f.stage, 1);
	assert_int_equal(pt_map(&e.s1, 0x4000, DATA_IPA + 0x4000, 0x1000, PT_PROT_R | PT_PROT_X),
			 0);
	run_fault(&e, 0x4000, PT_PROT_X, 2, XLATE_CLASS_IN, 3, PT_FAULT_PERMISSION,
		  DATA_IPA + 0x4000);
	env_destroy(&e);
}

static void test_nested_stage1_faults(void **state)
{
	/* Stage 1 with a 40-bit output (IPA) size, to reach address-size faults. */
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 40, 0, 0);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct env e;
	uint64_t *pte, *l2, saved;

	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x1000, DATA_IPA + 0x1000, 0x1000, PT_PROT_RW), 0);
	pte = leaf3(&e.s1, 0x1000, NULL);
	saved = *pte;

	/* Translation: nothing at 0x200000 (L2 index 1 empty): level 2, 3 * (3 + 1) reads. */
	run_fault(&e, 0x200000, PT_PROT_R, 1, XLATE_CLASS_IN, 2, PT_FAULT_TRANSLATION, 0);
	assert_int_equal(e.rec.n, 12);

	/* Access flag clear (no HTTU): stage 1 access fault at level 3. */
	*pte = saved & ~S1_AF;
	run_fault(&e, 0x1000, PT_PROT_R, 1, XLATE_CLASS_IN, 3, PT_FAULT_ACCESS, 0);

	/* Permission: read-only page, write. */
	*pte = saved | S1_AP2;
	run_fault(&e, 0x1000, PT_PROT_W, 1, XLATE_CLASS_IN, 3, PT_FAULT_PERMISSION, 0);

	/* Address size: output IPA at 2^40. */
	*pte = (saved & ~0xfffffffff000ULL) | (1ULL << 40);
	run_fault(&e, 0x1000, PT_PROT_R, 1, XLATE_CLASS_IN, 3, PT_FAULT_ADDR_SIZE, 0);
	*pte = saved;

	/* Address size: a table address at 2^40 in the L2 table descriptor (level 2). */
	l2 = desc_at(&e.s1, 0x1000, 2, NULL);
	saved = *l2;
	*l2 = (1ULL << 41) | 3;
	run_fault(&e, 0x1000, PT_PROT_R, 1, XLATE_CLASS_IN, 2, PT_FAULT_ADDR_SIZE, 0);
	assert_int_equal(e.rec.n, 12);
	*l2 = saved;

	/* Address size: the root beyond the output size, before anything is read. */
	e.xc.s1.root = 1ULL << 40;
	run_fault(&e, 0x1000, PT_PROT_R, 1, XLATE_CLASS_IN, 0, PT_FAULT_ADDR_SIZE, 0);
	assert_int_equal(e.rec.n, 0);
	e.xc.s1.root = e.s1.root;

	assert_int_equal(run(&e, 0x1000, PT_PROT_W), PT_OK);
	assert_int_equal(e.res.pa, DATA_PA + 0x1000);
	env_destroy(&e);
}

static void test_nested_stage2_faults(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct env e;
	uint64_t s1root_idx_ipa, *s2pte, saved;

	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x1000, DATA_IPA + 0x1000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(pt_map(&e.s1, 0x2000, NOMAP_IPA, 0x1000, PT_PROT_RW), 0);
	s1root_idx_ipa = e.s1.root; /* index 0 of the root for IOVAs below 2^39 */

	/* The final IPA unmapped: stage 2, IN, translation; ipa = the IPA with its offset. */
	run_fault(&e, 0x2468, PT_PROT_R, 2, XLATE_CLASS_IN, 2, PT_FAULT_TRANSLATION,
		  NOMAP_IPA + 0x468);
	assert_int_equal(e.rec.n, 20 + 3);
	assert_int_equal(e.rec.r[20].s1_step, 4);

	/* The root TTB at an unmapped IPA: stage 2, TT, before any stage-1 read. */
	e.xc.s1.root = NOMAP_IPA;
	run_fault(&e, 0x1000, PT_PROT_R, 2, XLATE_CLASS_TT, 2, PT_FAULT_TRANSLATION, NOMAP_IPA);
	assert_int_equal(e.rec.n, 3);
	assert_int_equal(e.rec.r[0].s1_step, 0);
	e.xc.s1.root = e.s1.root;

	/* The stage-2 page holding the stage-1 root with its access flag clear: TT access. */
	s2pte = leaf3(&e.s2, s1root_idx_ipa, NULL);
	saved = *s2pte;
	*s2pte = saved & ~S1_AF;
	run_fault(&e, 0x1000, PT_PROT_R, 2, XLATE_CLASS_TT, 3, PT_FAULT_ACCESS, s1root_idx_ipa);
	*s2pte = saved;

	/* The data page with its stage-2 access flag clear: IN access. */
	s2pte = leaf3(&e.s2, DATA_IPA + 0x1000, NULL);
	saved = *s2pte;
	*s2pte = saved & ~S1_AF;
	run_fault(&e, 0x1000, PT_PROT_R, 2, XLATE_CLASS_IN, 3, PT_FAULT_ACCESS, DATA_IPA + 0x1000);
	*s2pte = saved;

	/*
	 * Stage-2 address size: the same tables walked with a 40-bit stage-2
	 * output size, and the data page's L2 table descriptor pointing at 2^44.
	 */
	{
		uint64_t *l2 = desc_at(&e.s2, DATA_IPA + 0x1000, 2, NULL), l2saved = *l2;
		struct pt_cfg s2c40 = mk(PT_VMSA_S2, 12, 48, 40, 2, PT_CFG_NO_BLOCKS);
		struct xlate_cfg xc = e.xc;

		xc.s2.cfg = &s2c40;
		*l2 = (1ULL << 44) | 3;
		assert_int_equal(xlate(&xc, 0x1000, PT_PROT_R, &e.res, &e.f, &e.rec),
				 PT_FAULT_ADDR_SIZE);
		expect_fault(&e.f, 2, XLATE_CLASS_IN, 2, PT_FAULT_ADDR_SIZE, 0x1000,
			     DATA_IPA + 0x1000);
		*l2 = l2saved;
	}
	assert_int_equal(run(&e, 0x1000, PT_PROT_R), PT_OK);
	env_destroy(&e);
}

/* ---------------------------------------------------------------------- */
/* One stage                                                              */

static void test_stage1_only(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct env e;
	uint64_t l1addr, *l1, l3addr, saved;

	env_init(&e, &s1c, NULL);
	/* Stage-1 tables in host memory; the output is a PA. */
	assert_int_equal(pt_map(&e.s1, 0x5000, DATA_PA, 0x1000, PT_PROT_R | PT_PROT_U), 0);
	leaf3(&e.s1, 0x5000, &l3addr);
	assert_int_equal(run(&e, 0x5abc, PT_PROT_R | PT_PROT_U), PT_OK);
	assert_int_equal(e.rec.n, 4);
	assert_int_equal(e.res.pa, DATA_PA + 0xabc);
	assert_int_equal(e.res.ipa, DATA_PA + 0xabc);
	assert_int_equal(e.res.s1_level, 3);
	assert_int_equal(e.res.s2_level, -1);
	assert_int_equal(e.res.size, 0x1000);
	assert_int_equal(e.res.s2_size, 0);
	assert_int_equal(e.res.s2_prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	assert_int_equal(e.res.prot, PT_PROT_R | PT_PROT_U);
	/* Reads are stage 1 at their PA, ipa = the same address, in level order. */
	expect_read(&e.rec, 0, 1, 0, 0, e.s1.root, e.s1.root);
	expect_read(&e.rec, 3, 1, 3, 3, l3addr, l3addr);

	run_fault(&e, 0x5000, PT_PROT_W, 1, XLATE_CLASS_IN, 3, PT_FAULT_PERMISSION, 0);
	assert_int_equal(e.f.desc_addr, l3addr);

	/* A table outside memory: walk abort, stage 1, TT, desc_addr = the failing PA. */
	l1 = desc_at(&e.s1, 0x5000, 1, &l1addr);
	saved = *l1;
	*l1 = 0x7000000000ULL | 3;
	run_fault(&e, 0x5000, PT_PROT_R, 1, XLATE_CLASS_TT, 2, PT_FAULT_EXT_ABORT, 0x7000000000ULL);
	assert_int_equal(e.f.desc_addr, 0x7000000000ULL);
	assert_int_equal(e.rec.n, 2);
	assert_int_equal(e.rec.r[1].addr, l1addr);
	*l1 = saved; /* the table must be whole again before it is freed */
	env_destroy(&e);
}

static void test_stage2_only(void **state)
{
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 40, 48, 1, PT_CFG_NO_BLOCKS);
	struct env e;
	uint64_t l3addr, *l2, l2addr;
	struct xlate_fault f;
	uint64_t pa;

	env_init(&e, NULL, &s2c);
	leaf3(&e.s2, DATA_IPA + 0x3000, &l3addr);
	/* The input is the IPA: 3 reads (level 1 with concatenation, 2, 3). */
	assert_int_equal(run(&e, DATA_IPA + 0x3abc, PT_PROT_W | PT_PROT_U), PT_OK);
	assert_int_equal(e.rec.n, 3);
	assert_int_equal(e.res.pa, DATA_PA + 0x3abc);
	assert_int_equal(e.res.ipa, DATA_IPA + 0x3abc);
	assert_int_equal(e.res.s1_level, -1);
	assert_int_equal(e.res.s1_size, 0);
	assert_int_equal(e.res.s2_level, 3);
	assert_int_equal(e.res.size, 0x1000);
	assert_int_equal(e.res.s1_prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	assert_int_equal(e.res.prot, PT_PROT_RW | PT_PROT_U);
	/* Root index: IPA bits 39:30 = 2. */
	expect_read(&e.rec, 0, 2, 1, 0, e.s2.root + 2 * 8, DATA_IPA + 0x3abc);
	expect_read(&e.rec, 2, 2, 3, 0, l3addr, DATA_IPA + 0x3abc);

	/* Faults are stage 2, class IN, ipa = the input. */
	run_fault(&e, NOMAP_IPA, PT_PROT_R, 2, XLATE_CLASS_IN, 2, PT_FAULT_TRANSLATION, NOMAP_IPA);
	run_fault(&e, 1ULL << 40, PT_PROT_R, 2, XLATE_CLASS_IN, 1, PT_FAULT_TRANSLATION,
		  1ULL << 40);
	assert_int_equal(e.rec.n, 0);
	l2 = desc_at(&e.s2, DATA_IPA, 2, &l2addr);
	(void)l2addr;
	{
		uint64_t saved = *l2;

		*l2 = 0x7000000000ULL | 3;
		run_fault(&e, DATA_IPA + 0x3000, PT_PROT_R, 2, XLATE_CLASS_IN, 3,
			  PT_FAULT_EXT_ABORT, DATA_IPA + 0x3000);
		/* L3 index of DATA_IPA + 0x3000 within its 2M: 0x3 */
		assert_int_equal(e.f.desc_addr, 0x7000000000ULL + 3 * 8);
		*l2 = saved;
	}

	/* Both stages off: the identity, every permission, one page. */
	e.xc.s2.cfg = NULL;
	assert_int_equal(run(&e, 0x123456789ULL, PT_PROT_W), PT_OK);
	assert_int_equal(e.res.pa, 0x123456789ULL);
	assert_int_equal(e.res.prot, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	assert_int_equal(e.res.size, 0x1000);
	assert_int_equal(e.rec.n, 0);
	/* ... and xlate_s2 with stage 2 off is the identity. */
	assert_int_equal(xlate_s2(&e.xc, 0x4242000, PT_PROT_R, XLATE_CLASS_CD, 0, &pa, &f, NULL),
			 PT_OK);
	assert_int_equal(pa, 0x4242000);
	env_destroy(&e);
}

static void test_xlate_s2_cd(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_NO_BLOCKS);
	struct env e;
	struct xlate_record rec;
	struct xlate_fault f;
	uint64_t pa = 0, l3addr;

	env_init(&e, &s1c, &s2c);
	leaf3(&e.s2, GRAM_IPA + 0x3000, &l3addr);
	/* A CD at IPA GRAM_IPA + 0x3040: four stage-2 reads, s1_step -1. */
	assert_int_equal(xlate_s2(&e.xc, GRAM_IPA + 0x3040, PT_PROT_R, XLATE_CLASS_CD, 0x3040, &pa,
				  &f, &rec),
			 PT_OK);
	assert_int_equal(pa, GRAM_PA + 0x3040);
	assert_int_equal(rec.n, 4);
	expect_read(&rec, 0, 2, 0, -1, e.s2.root, GRAM_IPA + 0x3040);
	expect_read(&rec, 3, 2, 3, -1, l3addr, GRAM_IPA + 0x3040);

	/* Unmapped: stage 2, class CD, the caller's input address, ipa = the CD IPA. */
	assert_int_equal(xlate_s2(&e.xc, NOMAP_IPA + 0x40, PT_PROT_R, XLATE_CLASS_CD, 0x777, &pa,
				  &f, &rec),
			 PT_FAULT_TRANSLATION);
	expect_fault(&f, 2, XLATE_CLASS_CD, 2, PT_FAULT_TRANSLATION, 0x777, NOMAP_IPA + 0x40);
	assert_int_equal(rec.n, 3);

	/* A read-only page written through xlate_s2: permission, class as given. */
	assert_int_equal(pt_unmap(&e.s2, GRAM_IPA + 0x300000, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&e.s2, GRAM_IPA + 0x300000, GRAM_PA + 0x300000, 0x1000, PT_PROT_R),
			 0);
	assert_int_equal(xlate_s2(&e.xc, GRAM_IPA + 0x300000, PT_PROT_W, XLATE_CLASS_TT, 0x99, &pa,
				  &f, NULL),
			 PT_FAULT_PERMISSION);
	expect_fault(&f, 2, XLATE_CLASS_TT, 3, PT_FAULT_PERMISSION, 0x99, GRAM_IPA + 0x300000);

	assert_string_equal(xlate_class_name(XLATE_CLASS_CD), "CD");
	assert_string_equal(xlate_class_name(XLATE_CLASS_TT), "TT");
	assert_string_equal(xlate_class_name(XLATE_CLASS_IN), "IN");
	assert_string_equal(xlate_class_name((enum xlate_class)7), "?");
	env_destroy(&e);
}

/* ---------------------------------------------------------------------- */
/* Hardware access / dirty state                                          */

static void test_nested_hw_access_dirty(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_HW_AD);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_HW_AD | PT_CFG_NO_BLOCKS);
	struct env e;
	uint64_t s1leaf_ipa, *s1leaf, *s2data, *s2tab, s1v, s2dv, s2tv;

	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x1000, DATA_IPA + 0x1000, 0x1000, PT_PROT_RW), 0);
	s1leaf = leaf3(&e.s1, 0x1000, &s1leaf_ipa);
	s2data = leaf3(&e.s2, DATA_IPA + 0x1000, NULL);
	s2tab = leaf3(&e.s2, s1leaf_ipa, NULL);

	/*
	 * Stage 1 leaf: AF clear, writable-clean (AP[2] | DBM). Stage 2 data
	 * page: AF clear, writable-clean (S2AP W clear | DBM). Stage 2 page
	 * holding the stage-1 leaf: AF clear.
	 */
	s1v = (*s1leaf & ~S1_AF) | S1_AP2 | D_DBM;
	s2dv = (*s2data & ~S1_AF & ~S2_AP_W) | D_DBM;
	s2tv = *s2tab & ~S1_AF;
	*s1leaf = s1v;
	*s2data = s2dv;
	*s2tab = s2tv;

	/* A read sets the access flags only (the table page's by the fetch). */
	assert_int_equal(run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_int_equal(*s1leaf, s1v | S1_AF);
	assert_int_equal(*s2data, s2dv | S1_AF);
	assert_int_equal(*s2tab, s2tv | S1_AF);
	assert_int_equal(e.res.prot & PT_PROT_W, 0);
	assert_int_equal(e.rec.n, 24);

	/* A write marks both leaves dirty: S1 AP[2] cleared, S2AP W set. */
	assert_int_equal(run(&e, 0x1008, PT_PROT_W), PT_OK);
	assert_int_equal(*s1leaf, (s1v | S1_AF) & ~S1_AP2);
	assert_int_equal(*s2data, s2dv | S1_AF | S2_AP_W);
	assert_int_equal(e.res.pa, DATA_PA + 0x1008);
	assert_int_equal(e.res.prot & PT_PROT_W, PT_PROT_W);
	assert_int_equal(e.rec.n, 24);
	env_destroy(&e);
}

static void test_nested_hw_ad_stage2_rules(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_HW_AD);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_HW_AD | PT_CFG_NO_BLOCKS);
	struct env e;
	uint64_t s1leaf_ipa, *s1leaf, *s2data, *s2tab, s1v, s2tv, s2dv;

	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x1000, DATA_IPA + 0x1000, 0x1000, PT_PROT_RW), 0);
	s1leaf = leaf3(&e.s1, 0x1000, &s1leaf_ipa);
	s2data = leaf3(&e.s2, DATA_IPA + 0x1000, NULL);
	s2tab = leaf3(&e.s2, s1leaf_ipa, NULL);
	s1v = *s1leaf & ~S1_AF;
	s2tv = *s2tab;
	s2dv = *s2data;

	/*
	 * The page holding the stage-1 leaf is read-only at stage 2: the
	 * hardware update of the stage-1 access flag is a write there, so the
	 * translation takes a stage-2 permission fault, class TT, at the
	 * descriptor's IPA, and nothing is written. (24 reads, then the
	 * write-permission walk of the descriptor's IPA: 4 more.)
	 */
	*s1leaf = s1v;
	*s2tab = s2tv & ~S2_AP_W;
	run_fault(&e, 0x1000, PT_PROT_R, 2, XLATE_CLASS_TT, 3, PT_FAULT_PERMISSION, s1leaf_ipa);
	assert_int_equal(e.rec.n, 28);
	assert_int_equal(e.rec.r[24].s1_step, 3);
	assert_int_equal(*s1leaf, s1v);

	/* Writable-clean at stage 2 (DBM): the update marks that page dirty and goes through. */
	*s2tab = (s2tv & ~S2_AP_W) | D_DBM;
	assert_int_equal(run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_int_equal(*s1leaf, s1v | S1_AF);
	assert_int_equal(*s2tab, s2tv | D_DBM);
	*s2tab = s2tv;

	/*
	 * A stage-1 update waits for the final stage-2 walk: when the data
	 * page faults at stage 2, the stage-1 leaf keeps its access flag clear.
	 */
	*s1leaf = s1v;
	*s2data = s2dv & ~S2_AP_W;
	run_fault(&e, 0x1000, PT_PROT_W, 2, XLATE_CLASS_IN, 3, PT_FAULT_PERMISSION,
		  DATA_IPA + 0x1000);
	assert_int_equal(*s1leaf, s1v);
	*s2data = s2dv;
	assert_int_equal(run(&e, 0x1000, PT_PROT_W), PT_OK);
	assert_int_equal(*s1leaf, s1v | S1_AF);
	assert_int_equal(e.rec.n, 24);
	env_destroy(&e);
}

/*
 * A lost race, made deterministic: one descriptor word is both the stage-1
 * leaf (in the stage-1 L3 table page, PA HBASE + 0x10000, index 4) and the
 * stage-2 leaf of that leaf's own output IPA X = HBASE + 0x4000 (identity
 * at stage 2: S2 L1[1] -> L2c @HBASE+0x6000, L2c[0] -> the same page, whose
 * index 4 is X's L3 index). The word X | 0x37f has AF clear:
 *   as stage 1: page, AttrIndx 7 / NS, AP[1] (RW + EL0), SH;
 *   as stage 2: page, MemAttr 0xf, S2AP read-only, SH.
 * The stage-1 walk defers setting AF; the final stage-2 walk sets AF in the
 * same word first; the stage-1 swap then finds the word changed and the
 * whole translation restarts, with a fresh record, and needs no update.
 */
static void test_nested_lost_race_restarts(void **state)
{
	struct pt_arena a;
	struct pt_cfg s1c, s2c;
	struct xlate_cfg xc;
	struct xlate_result res;
	struct xlate_fault f;
	struct xlate_record rec;
	const uint64_t x = HBASE + 0x4000, word = (HBASE + 0x4000) | 0x37f;
	uint64_t *shared;

	build_4over4(&a, &s1c, &s2c, &xc);
	s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_HW_AD);
	s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, PT_CFG_HW_AD);
	*hp(&a, HBASE + 0x1000 + 1 * 8) = (HBASE + 0x6000) | 3;
	*hp(&a, HBASE + 0x6000) = s1_tab_pa(3) | 3;
	shared = hp(&a, s1_tab_pa(3) + 4 * 8);
	*shared = word;

	assert_int_equal(xlate(&xc, N_IOVA, PT_PROT_R, &res, &f, &rec), PT_OK);
	assert_int_equal(*shared, word | S1_AF);
	assert_int_equal(res.pa, x + 0xabc);
	assert_int_equal(res.ipa, x + 0xabc);
	/* Neither stage sets XN; stage 2 is read-only. */
	assert_int_equal(res.prot, PT_PROT_R | PT_PROT_X | PT_PROT_U);
	/* Only the successful attempt is recorded, and its last read is the shared word. */
	assert_int_equal(rec.n, 24);
	expect_read(&rec, 19, 1, 3, 3, s1_tab_pa(3) + 0x20, 0x80003020);
	expect_read(&rec, 23, 2, 3, 4, s1_tab_pa(3) + 0x20, x + 0xabc);
	assert_int_equal(rec.r[23].value, word | S1_AF);
	pt_arena_destroy(&a);
}

/*
 * Lost races: another thread keeps rewriting the stage-1 leaf (toggling a
 * software bit and clearing AF) while translations try to set AF. Each
 * translation either succeeds with the right address or, after running
 * out of attempts, reports a stage-1 walk abort at the leaf; the record
 * never holds more than one attempt's reads.
 */
struct racer {
	uint64_t *desc;
	volatile int stop;
};

static void *race_thread(void *arg)
{
	struct racer *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		uint64_t v = __atomic_load_n(r->desc, __ATOMIC_RELAXED);

		__atomic_store_n(r->desc, (v ^ (1ULL << 55)) & ~S1_AF, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_nested_ad_race_restarts(void **state)
{
	struct pt_cfg s1c = mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_HW_AD);
	struct pt_cfg s2c = mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct env e;
	struct racer r = { 0 };
	pthread_t th;
	uint64_t leaf_ipa;
	unsigned int ok = 0, aborted = 0;

	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x1000, DATA_IPA + 0x1000, 0x1000, PT_PROT_RW), 0);
	r.desc = leaf3(&e.s1, 0x1000, &leaf_ipa);
	*r.desc &= ~S1_AF;
	assert_int_equal(pthread_create(&th, NULL, race_thread, &r), 0);
	for (int i = 0; i < 20000; i++) {
		enum pt_fault_reason ret = run(&e, 0x1000, PT_PROT_R);

		assert_true(e.rec.n <= 24);
		if (ret == PT_OK) {
			assert_int_equal(e.res.pa, DATA_PA + 0x1000);
			ok++;
		} else {
			assert_int_equal(ret, PT_FAULT_EXT_ABORT);
			expect_fault(&e.f, 1, XLATE_CLASS_TT, 3, PT_FAULT_EXT_ABORT, 0x1000,
				     leaf_ipa);
			assert_int_equal(e.f.desc_addr, leaf_ipa - GRAM_IPA + GRAM_PA);
			aborted++;
		}
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	print_message("# %u translated, %u gave up after lost races\n", ok, aborted);
	/* Quiet again: the next translation sets AF. */
	assert_int_equal(run(&e, 0x1000, PT_PROT_R), PT_OK);
	assert_true(*r.desc & S1_AF);
	env_destroy(&e);
}


/* ---------------------------------------------------------------------- */
/* x86 first stage over VT-d second stage                                 */

/*
 * The VT-d nested configuration (PGTT = nested): an x86-64 first stage
 * whose table pointers and output are GPAs, over a second stage mapping
 * guest RAM with 4K pages. Levels are numbered bottom-up (PTE = 1).
 */
static void test_nested_x86_over_vtd_ss(void **state)
{
	struct pt_cfg s1c = mk(PT_X86, 12, 48, 52, 0, 0);
	struct pt_cfg s2c = mk(PT_VTD_SS, 12, 48, 52, 0, PT_CFG_NO_BLOCKS);
	struct env e;

	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x12345000, DATA_IPA + 0x3000, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(run(&e, 0x12345678, PT_PROT_W), PT_OK);
	/* (4 + 1) * (4 + 1) - 1 = 24 reads. */
	assert_int_equal(e.rec.n, 24);
	assert_int_equal(e.res.pa, DATA_PA + 0x3678);
	assert_int_equal(e.res.ipa, DATA_IPA + 0x3678);
	assert_int_equal(e.res.size, 0x1000);
	assert_int_equal(e.res.s1_level, 1);
	assert_int_equal(e.res.s2_level, 1);
	/*
	 * Order: for each stage-1 step d (levels 4..1), four stage-2 reads
	 * (levels 4..1) of the descriptor's GPA, then the stage-1 read; then
	 * four stage-2 reads of the output GPA.
	 */
	for (unsigned int d = 0; d < 4; d++) {
		for (unsigned int k = 0; k < 4; k++) {
			const struct xlate_read *r = &e.rec.r[d * 5 + k];

			assert_int_equal(r->stage, 2);
			assert_int_equal(r->level, 4 - (int)k);
			assert_int_equal(r->s1_step, (int)d);
		}
		assert_int_equal(e.rec.r[d * 5 + 4].stage, 1);
		assert_int_equal(e.rec.r[d * 5 + 4].level, 4 - (int)d);
		/* The stage-1 descriptor lives in the table half of guest RAM. */
		assert_true(e.rec.r[d * 5 + 4].ipa >= GRAM_IPA &&
			    e.rec.r[d * 5 + 4].ipa < DATA_IPA);
		assert_int_equal(e.rec.r[d * 5 + 4].addr - GRAM_PA,
				 e.rec.r[d * 5 + 4].ipa - GRAM_IPA);
	}
	for (unsigned int k = 0; k < 4; k++) {
		assert_int_equal(e.rec.r[20 + k].stage, 2);
		assert_int_equal(e.rec.r[20 + k].s1_step, 4);
		assert_int_equal(e.rec.r[20 + k].ipa, DATA_IPA + 0x3678);
	}

	/* First-stage read-only page, write: stage 1 permission fault at level 1. */
	assert_int_equal(pt_map(&e.s1, 0x20000000, DATA_IPA + 0x4000, 0x1000, PT_PROT_R), 0);
	run_fault(&e, 0x20000010, PT_PROT_W, 1, XLATE_CLASS_IN, 1, PT_FAULT_PERMISSION, 0);
	assert_int_equal(run(&e, 0x20000010, PT_PROT_R), PT_OK);

	/* Second stage read-only under a first-stage RW page: stage 2, class IN. */
	assert_int_equal(pt_unmap(&e.s2, DATA_IPA + 0x8000, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&e.s2, DATA_IPA + 0x8000, DATA_PA + 0x8000, 0x1000, PT_PROT_R), 0);
	assert_int_equal(pt_map(&e.s1, 0x30000000, DATA_IPA + 0x8000, 0x1000, PT_PROT_RW), 0);
	run_fault(&e, 0x30000020, PT_PROT_W, 2, XLATE_CLASS_IN, 1, PT_FAULT_PERMISSION,
		  DATA_IPA + 0x8020);
	assert_int_equal(run(&e, 0x30000020, PT_PROT_R), PT_OK);

	/* Not mapped at the first stage: translation fault at the first missing level. */
	assert_int_equal(run(&e, 0x7000000000ULL, PT_PROT_R), PT_FAULT_TRANSLATION);
	assert_int_equal(e.f.stage, 1);
	assert_int_equal(e.f.level, 3);

	/* The page holding the first-stage root unmapped at the second stage: TT fault. */
	assert_int_equal(pt_unmap(&e.s2, e.s1.root & ~0xfffULL, 0x1000, NULL), 0);
	run_fault(&e, 0x12345678, PT_PROT_R, 2, XLATE_CLASS_TT, 1, PT_FAULT_TRANSLATION,
		  e.s1.root + ((0x12345678ULL >> 39) & 511) * 8);
	env_destroy(&e);
}

/* 5-level over 5-level (57-bit): (5 + 1) * (5 + 1) - 1 = 35 reads. */
static void test_nested_x86_5_over_vtd_ss_5(void **state)
{
	struct pt_cfg s1c = mk(PT_X86, 12, 57, 52, 0, 0);
	struct pt_cfg s2c = mk(PT_VTD_SS, 12, 57, 52, 0, PT_CFG_NO_BLOCKS);
	struct env e;

	env_init(&e, &s1c, &s2c);
	assert_int_equal(pt_map(&e.s1, 0x100000000000000ULL, DATA_IPA, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(run(&e, 0x100000000000abcULL, PT_PROT_R), PT_OK);
	assert_int_equal(e.rec.n, 35);
	assert_int_equal(e.res.pa, DATA_PA + 0xabc);
	assert_int_equal(e.rec.r[0].level, 5);
	assert_int_equal(e.rec.r[5].stage, 1);
	assert_int_equal(e.rec.r[5].level, 5);
	env_destroy(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_4over4_24_reads),
		cmocka_unit_test(test_nested_4over3_concat_19_reads),
		cmocka_unit_test(test_nested_faults_handmade),
		cmocka_unit_test(test_nested_2m_leaves),
		cmocka_unit_test(test_nested_size_is_min),
		cmocka_unit_test(test_nested_permissions),
		cmocka_unit_test(test_nested_stage1_faults),
		cmocka_unit_test(test_nested_stage2_faults),
		cmocka_unit_test(test_stage1_only),
		cmocka_unit_test(test_stage2_only),
		cmocka_unit_test(test_xlate_s2_cd),
		cmocka_unit_test(test_nested_hw_access_dirty),
		cmocka_unit_test(test_nested_hw_ad_stage2_rules),
		cmocka_unit_test(test_nested_lost_race_restarts),
		cmocka_unit_test(test_nested_ad_race_restarts),
		cmocka_unit_test(test_nested_x86_over_vtd_ss),
		cmocka_unit_test(test_nested_x86_5_over_vtd_ss_5),
	};

	return cmocka_run_group_tests_name("xlate", tests, NULL, NULL);
}
