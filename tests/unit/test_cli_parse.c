// SPDX-License-Identifier: MIT
/*
 * The CLI's small parsers: numbers and sizes, permission letters, flag
 * names, human sizes, JSON value positions (jpos) and the diagnosis of a
 * stage configuration that lib/pt refuses (stagecfg).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/jpos.h"
#include "parse.h"
#include "stagecfg.h"

static void test_parse_u64(void **state)
{
	uint64_t v;

	assert_int_equal(parse_u64("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_u64("4096", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(parse_u64("0x8040_2010_00", &v), 0);
	assert_true(v == 0x8040201000ULL);
	assert_int_equal(parse_u64("0XfFfF", &v), 0);
	assert_true(v == 0xffff);
	assert_int_equal(parse_u64("4K", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(parse_u64("2m", &v), 0);
	assert_true(v == 2ULL << 20);
	assert_int_equal(parse_u64("1G", &v), 0);
	assert_true(v == 1ULL << 30);
	assert_int_equal(parse_u64("16E", &v), -ERANGE); /* 2^64 */
	assert_int_equal(parse_u64("15E", &v), 0);
	assert_true(v == 15ULL << 60);
	assert_int_equal(parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_u64("0xffffffffffffffff", &v), 0);
	assert_int_equal(parse_u64("0x1_0000_0000_0000_0000", &v), -ERANGE);

	/* Rejected: empty, signs, spaces, stray or doubled separators, hex with suffix. */
	const char *bad[] = {"",     "0x",  "-1", "+1",	   " 1",  "1 ",	   "_1",  "1_",
			     "1__0", "4KB", "4Q", "0x10K", "1.5", "0b101", "12a", "K"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_u64(bad[i], &v), -EINVAL);
	assert_int_equal(parse_u64(NULL, &v), -EINVAL);
}

static void test_parse_prot(void **state)
{
	unsigned int p;
	char buf[8];

	assert_int_equal(parse_prot("r", &p), 0);
	assert_int_equal(p, PT_PROT_R);
	assert_int_equal(parse_prot("wr", &p), 0);
	assert_int_equal(p, PT_PROT_RW);
	assert_int_equal(parse_prot("rwxu", &p), 0);
	assert_int_equal(p, PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	assert_int_equal(parse_prot("", &p), -EINVAL);
	assert_int_equal(parse_prot("rr", &p), -EINVAL);
	assert_int_equal(parse_prot("rwz", &p), -EINVAL);
	assert_int_equal(parse_prot("R", &p), -EINVAL);

	assert_string_equal(prot_str(PT_PROT_R | PT_PROT_X, buf), "r-x-");
	assert_string_equal(prot_letters(PT_PROT_RW | PT_PROT_U, buf), "rwu");
	assert_string_equal(prot_letters(0, buf), "none");
}

static void test_size_str(void **state)
{
	char b[24];

	assert_string_equal(size_str(4096, b, sizeof(b)), "4K");
	assert_string_equal(size_str(2ULL << 20, b, sizeof(b)), "2M");
	assert_string_equal(size_str(512ULL << 30, b, sizeof(b)), "512G");
	assert_string_equal(size_str(3ULL << 10, b, sizeof(b)), "3K");
	assert_string_equal(size_str(0x1234, b, sizeof(b)), "0x1234");
	assert_string_equal(size_str(0, b, sizeof(b)), "0");
	assert_string_equal(size_str(1ULL << 63, b, sizeof(b)), "8E");
}

static void test_cfg_flags(void **state)
{
	unsigned int f;

	assert_int_equal(parse_cfg_flag("hw-ad", &f), 0);
	assert_int_equal(f, PT_CFG_HW_AD);
	assert_int_equal(parse_cfg_flag("no-blocks", &f), 0);
	assert_int_equal(f, PT_CFG_NO_BLOCKS);
	assert_int_equal(parse_cfg_flag("no_blocks", &f), -EINVAL);
}

static void expect_pos(const struct jpos *jp, const char *path, bool key, int line, int col)
{
	int l = 0, c = 0;

	assert_true(jpos_find(jp, path, key, &l, &c));
	assert_int_equal(l, line);
	assert_int_equal(c, col);
}

static void test_jpos(void **state)
{
	/* Columns count characters: "é" and "→" are one column each. */
	static const char text[] = "{\n"
				   "  \"a\": [1, {\"b\": \"x\"}],\n"
				   "\t\"é→\": {\"c\\\"d\": true, \"e\": null},\n"
				   "  \"\\u00e9\\ud83d\\ude00\": -1.5e3, \"n\": {\"m\": []}\n"
				   "}";
	struct jpos jp;
	int l, c;

	assert_int_equal(jpos_scan(&jp, text, strlen(text)), 0);
	expect_pos(&jp, "", false, 1, 1);
	expect_pos(&jp, "a", false, 2, 8);
	expect_pos(&jp, "a", true, 2, 3);
	expect_pos(&jp, "a[0]", false, 2, 9);
	expect_pos(&jp, "a[0]", true, 2, 9); /* array elements have no key: the value */
	expect_pos(&jp, "a[1]", false, 2, 12);
	expect_pos(&jp, "a[1].b", false, 2, 18);
	expect_pos(&jp, "a[1].b", true, 2, 13);
	expect_pos(&jp, "é→", true, 3, 2);
	expect_pos(&jp, "é→", false, 3, 8);
	expect_pos(&jp, "é→.c\"d", false, 3, 17);
	expect_pos(&jp, "é→.e", false, 3, 28);
	expect_pos(&jp, "é😀", false, 4, 25); /* \u escapes, a surrogate pair */
	expect_pos(&jp, "n.m", false, 4, 44);
	assert_false(jpos_find(&jp, "a[2]", false, &l, &c));
	assert_false(jpos_find(&jp, "zz", false, &l, &c));
	jpos_free(&jp);

	/* Not JSON after all: refused, nothing leaked. */
	assert_int_equal(jpos_scan(&jp, "{\"a\" 1}", 7), -EINVAL);
	assert_int_equal(jpos_scan(&jp, "[1,", 3), -EINVAL);
	assert_int_equal(jpos_scan(&jp, "\"abc", 4), -EINVAL);
}

static void test_stagecfg(void **state)
{
	struct pt_cfg c = {.format = PT_VMSA_S2, .ias = 40, .sl0 = 0};
	unsigned int given = SF_BIT(SF_IAS) | SF_BIT(SF_SL0);
	enum stage_field bad;
	bool unsupported;
	char d[128];

	/* 4K, ias 40, SL0 0 (start level 2): 19 bits at the root, more than 16 tables. */
	stage_cfg_defaults(&c, given);
	assert_int_equal(c.granule_shift, 12);
	assert_int_equal(c.oas, 48);
	assert_int_equal(stage_cfg_init(&c, given, &bad, &unsupported), -EINVAL);
	assert_false(unsupported);
	assert_int_equal(bad, SF_SL0);
	stage_cfg_describe(&c, bad, d, sizeof(d));
	assert_string_equal(d, "granule 4K, ias 40, oas 48");

	/* SL0 1 is fine: 2 concatenated level-1 tables. */
	c = (struct pt_cfg){.format = PT_VMSA_S2, .ias = 40, .sl0 = 1};
	stage_cfg_defaults(&c, given);
	assert_int_equal(stage_cfg_init(&c, given, &bad, &unsupported), 0);
	assert_int_equal(c.concat, 2);

	/* Stage 1 with ias 52: the ias is to blame. */
	c = (struct pt_cfg){.format = PT_VMSA_S1, .ias = 52};
	stage_cfg_defaults(&c, SF_BIT(SF_IAS));
	assert_int_equal(stage_cfg_init(&c, SF_BIT(SF_IAS), &bad, &unsupported), -EINVAL);
	assert_int_equal(bad, SF_IAS);

	/* Two wrong fields: nobody can be blamed alone. */
	c = (struct pt_cfg){.format = PT_VMSA_S1, .ias = 52, .oas = 50};
	given = SF_BIT(SF_IAS) | SF_BIT(SF_OAS);
	stage_cfg_defaults(&c, given);
	assert_int_equal(stage_cfg_init(&c, given, &bad, &unsupported), -EINVAL);
	assert_int_equal(bad, SF_NR);

	assert_true(stage_format_ok(PT_VTD_SS, STAGE_2));
	assert_false(stage_format_ok(PT_VMSA_S2, STAGE_1));
	assert_true(stage_granule_ok(PT_VMSA_S1, 14));
	assert_false(stage_granule_ok(PT_VMSA_S1, 13));
	assert_false(stage_granule_ok(PT_X86, 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64), cmocka_unit_test(test_parse_prot),
		cmocka_unit_test(test_size_str),  cmocka_unit_test(test_cfg_flags),
		cmocka_unit_test(test_jpos),	  cmocka_unit_test(test_stagecfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
