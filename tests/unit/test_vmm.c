// SPDX-License-Identifier: MIT
/*
 * lib/vmm: guest memory, the guest's SMMUv3 structures and event decoding.
 *
 * The expected words are worked out by hand from the architecture (Arm
 * IHI 0070), field by field, in the comments beside them; they do not come
 * from the encoders under test nor from the hardware model.
 *
 *   CD word 0: T0SZ [5:0], TG0 [7:6] (0 4K, 1 64K, 2 16K), IR0 [9:8],
 *     OR0 [11:10], SH0 [13:12], EPD0 14, EPD1 30, V 31, IPS [34:32]
 *     (0 32, 1 36, 2 40, 3 42, 4 44, 5 48, 6 52 bits), AFFD 35, AA64 41,
 *     HD 42, HA 43, S 44, R 45, A 46, ASID [63:48]; word 1: TTB0 [51:4].
 *   STE word 0: V 0, Config [3:1] (0 abort, 4 bypass, 5 S1), S1Fmt [5:4],
 *     S1ContextPtr [51:6], S1CDMax [63:59]; word 1: S1DSS [1:0],
 *     S1CIR [3:2], S1COR [5:4], S1CSH [7:6], S1STALLD 27.
 *   Commands: opcode [7:0], SSec 10, SSV 11, SSID [31:12], NUM [16:12],
 *     SCALE [24:20], SID [63:32], VMID [47:32], ASID [63:48]; word 1:
 *     Leaf 0, Range [4:0], TTL [9:8], TG [11:10], Address [63:12].
 *   Events: type [7:0], SSV 11, SSID [31:12], SID [63:32]; STAG [15:0],
 *     Stall 31, PnU 33, InD 34, RnW 35, S2 39, CLASS [41:40], TTRnW 44;
 *     InputAddr; IPA [51:12] or FetchAddr [51:3].
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pt/pt.h"
#include "util/alloc.h"
#include "vmm/guest_mem.h"
#include "vmm/guest_smmuv3.h"
#include "vmm/smmuv3_evt.h"

#define RAM0 0x40000000ULL
#define RAM1 0x80000000ULL

/* ---------------------------------------------------------------------- */
/* Guest memory                                                           */

static void test_guest_mem_regions(void **state)
{
	struct guest_mem gm;
	uint8_t b[8] = "abcdefg";
	uint8_t *p;

	guest_mem_init(&gm);
	assert_int_equal(guest_mem_add(&gm, RAM0 + 0x800, 0x1000), -EINVAL); /* unaligned */
	assert_int_equal(guest_mem_add(&gm, RAM0, 0x1800), -EINVAL);
	assert_int_equal(guest_mem_add(&gm, RAM0, 0), -EINVAL);
	assert_int_equal(guest_mem_add(&gm, ~0xfffULL, 0x2000), -EINVAL); /* wraps */
	assert_int_equal(guest_mem_add(&gm, RAM0, 0x10000), 0);
	assert_int_equal(guest_mem_add(&gm, RAM0 + 0xf000, 0x2000), -EINVAL); /* overlaps */
	assert_int_equal(guest_mem_add(&gm, RAM1, 0x4000), 0);
	for (unsigned int i = 2; i < GUEST_MEM_MAX_REGIONS; i++)
		assert_int_equal(guest_mem_add(&gm, RAM1 + 0x100000ULL * i, 0x1000), 0);
	assert_int_equal(guest_mem_add(&gm, 0x1000, 0x1000), -EINVAL); /* full */

	/* Zeroed, page aligned, and reached by GPA; ranges must lie inside one region. */
	p = guest_mem_ptr(&gm, RAM0, 0x10000);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p & 0xfff, 0);
	for (unsigned int i = 0; i < 0x10000; i++)
		assert_int_equal(p[i], 0);
	assert_ptr_equal(guest_mem_ptr(&gm, RAM0 + 0xfff8, 8), p + 0xfff8);
	assert_null(guest_mem_ptr(&gm, RAM0 + 0xfff8, 9));
	assert_null(guest_mem_ptr(&gm, RAM0 - 1, 1));
	assert_int_equal(guest_mem_write(&gm, RAM1 + 0x3ffc, b, 4), 0);
	assert_int_equal(guest_mem_write(&gm, RAM1 + 0x3ffc, b, 5), -EFAULT);
	memset(b, 0, sizeof(b));
	assert_int_equal(guest_mem_read(&gm, RAM1 + 0x3ffc, b, 4), 0);
	assert_memory_equal(b, "abcd", 4);
	assert_int_equal(guest_mem_read(&gm, RAM0 + 0x10000, b, 1), -EFAULT);

	/* lib/pt's port shows every region at its GPA. */
	assert_int_equal(guest_mem_port(&gm)->nr_regions, GUEST_MEM_MAX_REGIONS);
	assert_ptr_equal(pt_mem_ptr(guest_mem_port(&gm), RAM1 + 0x3ffc, 4),
			 guest_mem_ptr(&gm, RAM1 + 0x3ffc, 4));
	guest_mem_destroy(&gm);
}

static void test_guest_mem_pool(void **state)
{
	struct guest_mem gm;
	uint64_t a, b, c, d;
	uint8_t *p;

	guest_mem_init(&gm);
	assert_int_equal(guest_mem_alloc(&gm, 0x1000, 0, &a), -EINVAL); /* no pool */
	assert_int_equal(guest_mem_add(&gm, RAM0, 0x20000), 0);
	assert_int_equal(guest_mem_set_pool(&gm, RAM0 + 0x800, 0x8000), -EINVAL);
	assert_int_equal(guest_mem_set_pool(&gm, RAM0 + 0x1c000, 0x8000), -EINVAL); /* beyond */
	/* Eight pages starting at an odd page: alignment is of the GPA, not of the index. */
	assert_int_equal(guest_mem_set_pool(&gm, RAM0 + 0x11000, 0x8000), 0);
	assert_int_equal(guest_mem_set_pool(&gm, RAM0, 0x1000), -EBUSY);

	/* The guest scribbled on its free pool pages: allocations come back zeroed. */
	p = guest_mem_ptr(&gm, RAM0 + 0x11000, 0x8000);
	memset(p, 0xee, 0x8000);
	assert_int_equal(guest_mem_alloc(&gm, 64, 64, &a), 0);
	assert_int_equal(a, RAM0 + 0x11000);
	for (unsigned int i = 0; i < 0x1000; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(p[0x1000], 0xee);
	/* 16K aligned to 16K: the first such GPA in the pool is RAM0 + 0x14000. */
	assert_int_equal(guest_mem_alloc(&gm, 0x4000, 0x4000, &b), 0);
	assert_int_equal(b, RAM0 + 0x14000);
	assert_int_equal(guest_mem_alloc(&gm, 0x1000, 0, &c), 0);
	assert_int_equal(c, RAM0 + 0x12000);
	assert_int_equal(guest_mem_pool_used(&gm), 6);
	assert_int_equal(guest_mem_alloc(&gm, 0x4000, 0x4000, &d), -ENOMEM);
	assert_int_equal(guest_mem_alloc(&gm, 0x1000, 3, &d), -EINVAL);
	/* Freed pages are reused, first fit. */
	guest_mem_free(&gm, b, 0x4000);
	assert_int_equal(guest_mem_pool_used(&gm), 2);
	assert_int_equal(guest_mem_alloc(&gm, 0x2000, 0, &d), 0);
	assert_int_equal(d, RAM0 + 0x13000);
	/* Freeing what is not allocated changes nothing. */
	guest_mem_free(&gm, RAM0 + 0x17000, 0x1000);
	guest_mem_free(&gm, RAM0, 0x1000);
	assert_int_equal(guest_mem_pool_used(&gm), 4);
	guest_mem_destroy(&gm);
}

/* ---------------------------------------------------------------------- */
/* Stage 1 in guest RAM                                                   */

static void test_guest_s1(void **state)
{
	struct pt_leaf leaf;
	struct pt_fault fault;
	struct guest_mem gm;
	struct guest_s1 s1;
	uint64_t gpa, unmapped, *root;

	guest_mem_init(&gm);
	assert_int_equal(guest_s1_init(&s1, &gm, 12, 48, 48), -EINVAL); /* no pool */
	assert_int_equal(guest_mem_add(&gm, RAM0, 0x100000), 0);
	assert_int_equal(guest_mem_set_pool(&gm, RAM0 + 0xf0000, 0x10000), 0);
	assert_int_equal(guest_s1_init(&s1, &gm, 13, 48, 48), -EINVAL);
	assert_int_equal(guest_s1_init(&s1, &gm, 12, 49, 48), -EINVAL);
	assert_int_equal(guest_s1_init(&s1, &gm, 12, 48, 41), -EINVAL);
	assert_int_equal(guest_s1_init(&s1, &gm, 12, 48, 48), 0);
	/* The root is the pool's first page: a GPA. */
	assert_int_equal(guest_s1_root(&s1), RAM0 + 0xf0000);

	assert_int_equal(guest_s1_map(&s1, 0x10000, RAM0 + 0x3000, 0x2000, PT_PROT_RW), 0);
	assert_int_equal(guest_s1_map(&s1, 0x11000, RAM0, 0x1000, PT_PROT_R), -EEXIST);
	/* 4 levels: root + 3 tables, all in the pool. */
	assert_int_equal(guest_mem_pool_used(&gm), 4);
	/* A walk through guest RAM finds the GPA. */
	assert_int_equal(pt_walk_mem(&s1.pt.cfg, guest_mem_port(&gm), guest_s1_root(&s1), 0x11008,
				     PT_PROT_W, &leaf, &fault, NULL, NULL),
			 PT_OK);
	assert_int_equal(leaf.oa, RAM0 + 0x4008);
	assert_int_equal(pt_iova_to_phys(&s1.pt, 0x10010, &gpa), 0);
	assert_int_equal(gpa, RAM0 + 0x3010);
	assert_int_equal(guest_s1_unmap(&s1, 0x10000, 0x2000, &unmapped), 0);
	assert_int_equal(unmapped, 0x2000);
	assert_int_equal(guest_mem_pool_used(&gm), 1); /* empty tables went back */

	/*
	 * The guest (or a device) overwrites its root with a table descriptor
	 * pointing outside its RAM: the table is not followed, map and unmap
	 * refuse with EUCLEAN from then on, and destroy does not walk it.
	 */
	assert_int_equal(guest_s1_map(&s1, 0x10000, RAM0 + 0x3000, 0x1000, PT_PROT_RW), 0);
	root = guest_mem_ptr(&gm, guest_s1_root(&s1), 8);
	root[0] = 0x7fff00000003ULL; /* valid | table, next level at 0x7fff00000000 */
	assert_int_equal(guest_s1_map(&s1, 0x20000, RAM0, 0x1000, PT_PROT_RW), -EUCLEAN);
	assert_int_equal(guest_s1_unmap(&s1, 0x10000, 0x1000, NULL), -EUCLEAN);
	root[0] = 0;
	assert_int_equal(guest_s1_map(&s1, 0x20000, RAM0, 0x1000, PT_PROT_RW), -EUCLEAN);
	guest_s1_destroy(&s1);
	guest_mem_destroy(&gm);
}

/* ---------------------------------------------------------------------- */
/* CD, STE, commands                                                      */

static void test_cd(void **state)
{
	struct guest_cd cd = {
		.valid = true,
		.asid = 5,
		.ttb0 = 0x40001000,
		.ias = 48,
		.granule_shift = 12,
		.oas = 48,
		.record = true,
	};
	uint64_t w[8], zero[6] = {0};

	assert_int_equal(guest_cd_encode(&cd, w), 0);
	/*
	 * T0SZ 16 (0x10) | TG0 4K (0) | IR0, OR0 WBRA (1 << 8, 1 << 10) | SH0 ISH
	 * (3 << 12) | EPD1 | V | IPS 48 (5 << 32) | AA64 | R | A | ASID 5 << 48.
	 */
	assert_int_equal(w[0], 0x00056205c0003510ULL);
	assert_int_equal(w[1], 0x40001000);
	assert_memory_equal(&w[2], zero, sizeof(zero));

	/* T0SZ 25 | TG0 64K (1) | EPD0 | IPS 40 (2) | AFFD | HD | HA | S, no R, ASID 0xffff, V = 0.
	 */
	cd = (struct guest_cd){.asid = 0xffff,
			       .ttb0 = 0xfffffffff0ULL,
			       .ias = 39,
			       .granule_shift = 16,
			       .oas = 40,
			       .epd0 = true,
			       .stall = true,
			       .affd = true,
			       .ha = true,
			       .hd = true};
	assert_int_equal(guest_cd_encode(&cd, w), 0);
	assert_int_equal(w[0], 0xffff5e0a40007559ULL);
	assert_int_equal(w[1], 0xfffffffff0ULL);
	cd.granule_shift = 14; /* TG0 16K = 2 */
	assert_int_equal(guest_cd_encode(&cd, w), 0);
	assert_int_equal(w[0] & 0xc0, 0x80);

	/* What cannot be encoded. */
	cd.ias = 24;
	assert_int_equal(guest_cd_encode(&cd, w), -EINVAL);
	cd.ias = 48;
	cd.oas = 47;
	assert_int_equal(guest_cd_encode(&cd, w), -EINVAL);
	cd.oas = 48;
	cd.ttb0 = 0x1008;
	assert_int_equal(guest_cd_encode(&cd, w), -EINVAL);
	cd.ttb0 = 1ULL << 52;
	assert_int_equal(guest_cd_encode(&cd, w), -EINVAL);

	/*
	 * TTB1 on: EPD1 clear, T1SZ [21:16], TG1 [23:22] with TG1's encoding
	 * (16K 0b01, 4K 0b10, 64K 0b11), IR1 / OR1 WBRA [25:24] / [27:26], SH1
	 * ISH [29:28], TBI [39:38], TTB1 in word 2.
	 */
	cd = (struct guest_cd){.valid = true,
			       .asid = 5,
			       .ttb0 = 0x40001000,
			       .ias = 48,
			       .granule_shift = 12,
			       .oas = 48,
			       .record = true,
			       .ttb1_on = true,
			       .ttb1 = 0x40002000,
			       .ias1 = 39,
			       .granule1_shift = 14,
			       .tbi = 2};
	assert_int_equal(guest_cd_encode(&cd, w), 0);
	assert_int_equal(w[0], (0x00056205c0003510ULL & ~(1ULL << 30)) | 25ULL << 16 | 1ULL << 22 |
				       1ULL << 24 | 1ULL << 26 | 3ULL << 28 | 2ULL << 38);
	assert_int_equal(w[1], 0x40001000);
	assert_int_equal(w[2], 0x40002000);
	assert_memory_equal(&w[3], zero, 5 * sizeof(zero[0]));
	cd.granule1_shift = 12;
	assert_int_equal(guest_cd_encode(&cd, w), 0);
	assert_int_equal(w[0] >> 22 & 3, 2);
	cd.granule1_shift = 16;
	assert_int_equal(guest_cd_encode(&cd, w), 0);
	assert_int_equal(w[0] >> 22 & 3, 3);
	cd.granule1_shift = 13;
	assert_int_equal(guest_cd_encode(&cd, w), -EINVAL);
	cd.granule1_shift = 14;
	cd.ias1 = 49;
	assert_int_equal(guest_cd_encode(&cd, w), -EINVAL);
	cd.ias1 = 39;
	cd.ttb1 = 1ULL << 52;
	assert_int_equal(guest_cd_encode(&cd, w), -EINVAL);
	cd.ttb1 = 0x40002000;
	cd.tbi = 4;
	assert_int_equal(guest_cd_encode(&cd, w), -EINVAL);
}

static void test_cd_write(void **state)
{
	struct guest_mem gm;
	uint64_t w[8], *p;

	for (unsigned int i = 0; i < 8; i++)
		w[i] = 0x1111111111111111ULL * (i + 1);
	guest_mem_init(&gm);
	assert_int_equal(guest_mem_add(&gm, RAM0, 0x1000), 0);
	assert_int_equal(guest_cd_write(&gm, RAM0 + 0x20, w), -EINVAL); /* not 64-byte aligned */
	assert_int_equal(guest_cd_write(&gm, RAM0 + 0x1000, w), -EFAULT);
	assert_int_equal(guest_cd_write(&gm, RAM0 + 0x40, w), 0);
	p = guest_mem_ptr(&gm, RAM0 + 0x40, 64);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(p[i], htole64(w[i]));
	guest_mem_destroy(&gm);
}

static void test_ste(void **state)
{
	struct guest_ste s = {.valid = true,
			      .config = GUEST_STE_TRANSLATE,
			      .cd_table = 0x40002000,
			      .s1cdmax = 2,
			      .s1dss = GUEST_S1DSS_SSID0};
	uint64_t w[2];

	assert_int_equal(guest_ste_encode(&s, w), 0);
	/* V | Config 0b101 << 1 | S1ContextPtr | S1CDMax 2 << 59 */
	assert_int_equal(w[0], 0x100000004000200bULL);
	/* S1DSS 2 | S1CIR 1 << 2 | S1COR 1 << 4 | S1CSH 3 << 6 */
	assert_int_equal(w[1], 0xd6);
	/* One CD: S1DSS has no meaning and is 0; S1STALLD. */
	s.s1cdmax = 0;
	s.s1stalld = true;
	assert_int_equal(guest_ste_encode(&s, w), 0);
	assert_int_equal(w[0], 0x4000200bULL);
	assert_int_equal(w[1], 0xd4 | 1ULL << 27);

	s = (struct guest_ste){.valid = true, .config = GUEST_STE_ABORT};
	assert_int_equal(guest_ste_encode(&s, w), 0);
	assert_int_equal(w[0], 1);
	assert_int_equal(w[1], 0);
	s.config = GUEST_STE_BYPASS;
	assert_int_equal(guest_ste_encode(&s, w), 0);
	assert_int_equal(w[0], 9);
	s.valid = false;
	assert_int_equal(guest_ste_encode(&s, w), 0);
	assert_int_equal(w[0], 8);

	s = (struct guest_ste){
		.valid = true, .config = GUEST_STE_TRANSLATE, .cd_table = 0x40002020};
	assert_int_equal(guest_ste_encode(&s, w), -EINVAL); /* not 64-byte aligned */
	s.cd_table = 1ULL << 52;
	assert_int_equal(guest_ste_encode(&s, w), -EINVAL);
	s.cd_table = 0x1000;
	s.s1cdmax = 21;
	assert_int_equal(guest_ste_encode(&s, w), -EINVAL);
	assert_string_equal(guest_ste_config_name(GUEST_STE_BYPASS), "bypass");
}

static void expect_cmd(const struct guest_cmd *c, uint64_t w0, uint64_t w1)
{
	uint64_t w[2] = {~0ULL, ~0ULL};

	assert_int_equal(guest_cmd_encode(c, w), 0);
	assert_int_equal(w[0], w0);
	assert_int_equal(w[1], w1);
}

static void test_cmds(void **state)
{
	bool all;
	uint64_t w[2];

	/* TLBI_NH_VA: 0x12 | ASID 1 << 48; Address | Leaf */
	expect_cmd(
		&(struct guest_cmd){
			.op = GUEST_CMD_TLBI_NH_VA, .asid = 1, .addr = 0x21000, .leaf = true},
		0x0001000000000012ULL, 0x21001);
	/* with VMID 7, NUM 3, SCALE 1, TG 4K (1), TTL 3; the address' low bits are not sent */
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_TLBI_NH_VA,
				       .asid = 1,
				       .vmid = 7,
				       .addr = 0x21fff,
				       .num = 3,
				       .scale = 1,
				       .tg = 1,
				       .ttl = 3},
		   0x0001000700103012ULL, 0x21000 | 3 << 8 | 1 << 10);
	/* TLBI_NH_VAA has no ASID */
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_TLBI_NH_VAA, .asid = 1, .addr = 0x4000},
		   0x13, 0x4000);
	/* CFGI_CD: SSID 3 << 12 | SID 0x42 << 32; Leaf */
	expect_cmd(
		&(struct guest_cmd){.op = GUEST_CMD_CFGI_CD, .sid = 0x42, .ssid = 3, .leaf = true},
		0x0000004200003005ULL, 1);
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_CFGI_CD_ALL, .sid = 0x42}, 0x4200000006ULL,
		   0);
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_CFGI_STE, .sid = 9}, 0x900000003ULL, 0);
	/* CFGI_ALL is CFGI_STE_RANGE with Range 31 */
	assert_int_equal(guest_cmd_parse("CFGI_ALL", &all), GUEST_CMD_CFGI_STE_RANGE);
	assert_true(all);
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_CFGI_STE_RANGE, .range = 31}, 0x04, 31);
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_TLBI_NH_ASID, .asid = 3, .vmid = 2},
		   0x0003000200000011ULL, 0);
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_TLBI_NH_ALL, .vmid = 2}, 0x200000010ULL, 0);
	/* TLBI_S2_IPA: IPA [51:12] only */
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_TLBI_S2_IPA,
				       .vmid = 2,
				       .addr = 0xfff0000040000000ULL,
				       .leaf = true},
		   0x20000002aULL, 0x40000001ULL);
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_TLBI_NSNH_ALL, .vmid = 2}, 0x30, 0);
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_SYNC, .cs = 1}, 0x1046, 0);
	/* ATC_INV: SSV | SSID | SID; Size, Address */
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_ATC_INV,
				       .sid = 1,
				       .ssv = true,
				       .ssid = 2,
				       .addr = 0x5000,
				       .size = 3},
		   0x0000000100002840ULL, 0x5003);
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_RESUME, .sid = 4, .action = 1, .stag = 9},
		   0x400001044ULL, 9);
	/* SSec, on any command */
	expect_cmd(&(struct guest_cmd){.op = GUEST_CMD_TLBI_NH_ALL, .ssec = true}, 0x410, 0);

	/* Out of range, unknown. */
	assert_int_equal(guest_cmd_encode(&(struct guest_cmd){.op = 0x99}, w), -EINVAL);
	assert_int_equal(
		guest_cmd_encode(&(struct guest_cmd){.op = GUEST_CMD_TLBI_NH_VA, .num = 32}, w),
		-EINVAL);
	assert_int_equal(
		guest_cmd_encode(&(struct guest_cmd){.op = GUEST_CMD_CFGI_CD, .ssid = 1u << 20}, w),
		-EINVAL);
	assert_int_equal(guest_cmd_parse("TLBI_NH_VA", &all), GUEST_CMD_TLBI_NH_VA);
	assert_false(all);
	assert_int_equal(guest_cmd_parse("tlbi_nh_va", &all), -EINVAL);
	assert_string_equal(guest_cmd_name(GUEST_CMD_SYNC), "CMD_SYNC");
	assert_null(guest_cmd_name(0x99));
}

/* ---------------------------------------------------------------------- */
/* Events                                                                 */

static void test_events(void **state)
{
	/* F_TRANSLATION, SSV, SSID 5, SID 0x42; STAG 7, Stall, PnU, RnW, S2, CLASS TT, TTRnW */
	uint64_t w[4] = {
		0x10 | 1ULL << 11 | 5ULL << 12 | 0x42ULL << 32,
		7 | 1ULL << 31 | 1ULL << 33 | 1ULL << 35 | 1ULL << 39 | 1ULL << 40 | 1ULL << 44,
		0x1234000, 0xfff0000040300fffULL, /* IPA [51:12]: 0x40300000 */
	};
	struct smmuv3_evt e;
	char line[200];

	smmuv3_evt_decode(w, &e);
	assert_int_equal(e.type, 0x10);
	assert_int_equal(e.sid, 0x42);
	assert_true(e.ssv);
	assert_int_equal(e.ssid, 5);
	assert_true(e.stall);
	assert_int_equal(e.stag, 7);
	assert_true(e.pnu && e.rnw && e.s2 && e.ttrnw);
	assert_false(e.ind);
	assert_int_equal(e.cls, SMMUV3_EVT_CLASS_TT);
	assert_int_equal(e.input, 0x1234000);
	assert_int_equal(e.ipa, 0x40300000);
	assert_int_equal(e.fetch, 0);
	smmuv3_evt_format(&e, "vSID", line, sizeof(line));
	assert_string_equal(line, "F_TRANSLATION vSID 0x42 ssid 5: read of 0x1234000, stage 2, "
				  "class TT, IPA 0x40300000, stalled (STAG 7)");

	/* A stage-1 permission fault: a write, unprivileged, class IN, no IPA. */
	memset(w, 0, sizeof(w));
	w[0] = 0x13 | 0x10ULL << 32;
	w[1] = 2ULL << 40;
	w[2] = 0x8000;
	w[3] = 0x5000; /* not an IPA for stage 1 */
	smmuv3_evt_decode(w, &e);
	assert_int_equal(e.ipa, 0);
	assert_false(e.ssv || e.stall);
	assert_int_equal(e.stag, 0);
	smmuv3_evt_format(&e, "SID", line, sizeof(line));
	assert_string_equal(
		line, "F_PERMISSION SID 0x10: unprivileged write to 0x8000, stage 1, class IN");

	/* F_CD_FETCH: the fetch address, [51:3]. */
	w[0] = 0x09 | 0x10ULL << 32;
	w[1] = 0;
	w[3] = 0xfff0000040000047ULL;
	smmuv3_evt_decode(w, &e);
	assert_int_equal(e.fetch, 0x40000040);
	smmuv3_evt_format(&e, "SID", line, sizeof(line));
	assert_string_equal(line, "F_CD_FETCH SID 0x10: fetch address 0x40000040");
	/* C_BAD_STE: the SID, nothing else. */
	w[0] = 0x04 | 0x10ULL << 32;
	smmuv3_evt_decode(w, &e);
	smmuv3_evt_format(&e, "SID", line, sizeof(line));
	assert_string_equal(line, "C_BAD_STE SID 0x10");
	/* Unknown types, and a buffer too small: cut, terminated. */
	w[0] = 0x3f;
	smmuv3_evt_decode(w, &e);
	smmuv3_evt_format(&e, "SID", line, 12);
	assert_string_equal(line, "event 0x3f ");

	assert_int_equal(smmuv3_evt_parse("F_WALK_EABT"), 0x0b);
	assert_int_equal(smmuv3_evt_parse("f_walk_eabt"), -EINVAL);
	assert_string_equal(smmuv3_evt_name(0x02), "C_BAD_STREAMID");
	assert_null(smmuv3_evt_name(0x0c));
	assert_string_equal(smmuv3_evt_class_name(3), "?");
}

/* ---------------------------------------------------------------------- */
/* Allocation failures                                                    */

static int build_guest(struct guest_mem *gm, struct guest_s1 *s1)
{
	int ret;

	guest_mem_init(gm);
	ret = guest_mem_add(gm, RAM0, 0x200000);
	if (!ret)
		ret = guest_mem_add(gm, RAM1, 0x10000);
	if (!ret)
		ret = guest_mem_set_pool(gm, RAM0 + 0x100000, 0x100000);
	if (!ret)
		ret = guest_s1_init(s1, gm, 12, 48, 48);
	for (unsigned int i = 0; !ret && i < 8; i++)
		ret = guest_s1_map(s1, 0x1000000ULL * i, RAM1, 0x2000, PT_PROT_RW);
	if (!ret)
		ret = guest_s1_unmap(s1, 0x1000000, 0x1000, NULL);
	return ret;
}

/* Every allocation of guest memory and of its tables fails once: -ENOMEM, and no leak (ASan). */
static void test_failnth(void **state)
{
	unsigned int fired = 0;

	for (unsigned long n = 1;; n++) {
		struct guest_mem gm;
		struct guest_s1 s1 = {0};
		unsigned long pending;
		int ret;

		ualloc_fail_nth(n);
		ret = build_guest(&gm, &s1);
		pending = ualloc_fail_nth_pending();
		ualloc_fail_nth(0);
		guest_s1_destroy(&s1);
		guest_mem_destroy(&gm);
		if (pending) {
			assert_int_equal(ret, 0);
			break;
		}
		fired++;
		assert_int_equal(ret, -ENOMEM);
	}
	assert_true(fired >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_mem_regions),
		cmocka_unit_test(test_guest_mem_pool),
		cmocka_unit_test(test_guest_s1),
		cmocka_unit_test(test_cd),
		cmocka_unit_test(test_cd_write),
		cmocka_unit_test(test_ste),
		cmocka_unit_test(test_cmds),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_failnth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
