// SPDX-License-Identifier: MIT
/*
 * lib/util/json_field and lib/util/numparse: the JSON field readers that
 * topology files and the CLI's scenarios share, and the number parsers.
 *
 *  - the same values read in both spellings (scenario files: flags 0;
 *    topology files: JF_TOPOLOGY), as the exact line a user reads
 *    ("FILE:LINE:COL: PATH: ..."), the columns counted by hand;
 *  - absent keys: 0 and the output untouched; required ones: the message;
 *  - unknown keys, with and without a note;
 *  - reading files: missing, not regular, too big, invalid JSON;
 *  - parse_u64_plain() and parse_dec_index() on the edges of their syntax;
 *  - a fail-nth sweep of jf_load_file(): -ENOMEM and the message, nothing
 *    leaked (ASan).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/json_field.h"
#include "util/numparse.h"

/*
 * Columns (1-based): "n" key 2, value 7; "big" key 13, value 20; "s" key
 * 27, value 32; "a" key 35, value 40.
 */
static const char text[] = "{\"n\": \"4K\", \"big\": 70000, \"s\": 5, \"a\": \"x1\"}";

struct fix {
	struct jf jf;
	json_t *root;
	char err[256];
};

static void fix_open(struct fix *f, unsigned int flags)
{
	memset(f, 0, sizeof(*f));
	jf_init(&f->jf, "f.json", flags, f->err, sizeof(f->err));
	assert_int_equal(jf_parse(&f->jf, text, strlen(text), &f->root), 0);
}

static void fix_close(struct fix *f)
{
	json_decref(f->root);
	jf_free(&f->jf);
}

static void test_scenario_spelling(void **state)
{
	struct fix f;
	uint64_t v = 0;
	bool b;

	fix_open(&f, 0);
	/* Sizes with suffixes are numbers here. */
	assert_int_equal(jf_get_small(&f.jf, f.root, "", "n", 0, 1u << 24, &v), 1);
	assert_int_equal(v, 4096);
	assert_int_equal(jf_get_small(&f.jf, f.root, "", "big", 0, 0x10000, &v), -EINVAL);
	assert_string_equal(f.err,
			    "f.json:1:20: big: expected a number from 0 to 65536, got 70000");
	assert_int_equal(v, 4096); /* untouched by a refusal */
	assert_int_equal(jf_get_small(&f.jf, f.root, "", "a", 0, 9, &v), -EINVAL);
	assert_string_equal(f.err, "f.json:1:40: a: expected a number such as 4096, \"0x1000\" or "
				   "\"4K\", got x1");
	assert_int_equal(jf_get_bool(&f.jf, f.root, "", "a", &b), -EINVAL);
	assert_string_equal(f.err, "f.json:1:40: a: expected true or false, got x1");
	fix_close(&f);
}

static void test_topology_spelling(void **state)
{
	struct fix f;
	uint64_t v = 7;
	const char *s;
	bool b;

	fix_open(&f, JF_TOPOLOGY);
	/* Plain numbers only: a suffix gets the range message, strings are quoted. */
	assert_int_equal(jf_get_small(&f.jf, f.root, "", "n", 0, 1u << 24, &v), -EINVAL);
	assert_string_equal(f.err,
			    "f.json:1:7: n: expected a number from 0 to 0x1000000, got \"4K\"");
	assert_int_equal(v, 7);
	/* Bounds up to 0xffff in decimal, above it in hex. */
	assert_int_equal(jf_get_small(&f.jf, f.root, "", "big", 0, 0xffff, &v), -EINVAL);
	assert_string_equal(f.err,
			    "f.json:1:20: big: expected a number from 0 to 65535, got 70000");
	assert_int_equal(jf_get_small(&f.jf, f.root, "", "big", 0, 0x10000, &v), -EINVAL);
	assert_string_equal(f.err,
			    "f.json:1:20: big: expected a number from 0 to 0x10000, got 70000");
	assert_int_equal(jf_get_small(&f.jf, f.root, "", "big", 70000, 70000, &v), 1);
	assert_int_equal(v, 70000);
	assert_int_equal(jf_get_bool(&f.jf, f.root, "", "a", &b), -EINVAL);
	assert_string_equal(f.err, "f.json:1:40: a: expected true or false, got \"x1\"");
	assert_int_equal(jf_get_str(&f.jf, f.root, "", "s", false, &s), -EINVAL);
	assert_string_equal(f.err, "f.json:1:32: s: expected a string, got 5");
	assert_int_equal(jf_expect_object(&f.jf, json_object_get(f.root, "a"), "a"), -EINVAL);
	assert_string_equal(f.err, "f.json:1:40: a: expected an object, got \"x1\"");
	fix_close(&f);
}

static void test_absent_and_keys(void **state)
{
	static const char *const allowed[] = {"n", "big", NULL};
	struct fix f;
	uint64_t v = 7;
	const char *s = "kept";
	bool b = true;

	fix_open(&f, JF_TOPOLOGY);
	assert_int_equal(jf_get_small(&f.jf, f.root, "", "none", 0, 9, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(jf_get_bool(&f.jf, f.root, "", "none", &b), 0);
	assert_true(b);
	assert_int_equal(jf_get_str(&f.jf, f.root, "", "none", false, &s), 0);
	assert_string_equal(s, "kept");
	assert_int_equal(jf_get_str(&f.jf, f.root, "", "none", true, &s), -EINVAL);
	assert_string_equal(f.err, "f.json:1:1: missing key \"none\"");
	/* The first key not allowed, at its key, in file order. */
	assert_int_equal(jf_check_keys(&f.jf, f.root, "", allowed), -EINVAL);
	assert_string_equal(f.err, "f.json:1:27: s: unknown key (expected n, big)");
	assert_int_equal(jf_check_keys_note(&f.jf, f.root, "", allowed, " (a note)"), -EINVAL);
	assert_string_equal(f.err, "f.json:1:27: s: unknown key (expected n, big (a note))");
	fix_close(&f);
}

static void write_text(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(s, fp) < 0, 0);
	assert_int_equal(fclose(fp), 0);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/test_json_field.XXXXXX", path[64], err[256];
	struct jf jf;
	json_t *root;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	jf_init(&jf, path, 0, err, sizeof(err));
	assert_int_equal(jf_load_file(&jf, 100, "too big", &root), -ENOENT);
	assert_null(root);
	assert_non_null(strstr(err, "missing.json: No such file or directory"));

	jf_init(&jf, dir, 0, err, sizeof(err));
	assert_int_equal(jf_load_file(&jf, 100, "too big", &root), -EINVAL);
	assert_non_null(strstr(err, ": not a regular file"));

	snprintf(path, sizeof(path), "%s/big.json", dir);
	write_text(path, "{\"a\": 1}");
	jf_init(&jf, path, 0, err, sizeof(err));
	assert_int_equal(jf_load_file(&jf, 7, "larger than 7 bytes", &root), -EINVAL);
	assert_non_null(strstr(err, "big.json: larger than 7 bytes"));
	assert_int_equal(jf_load_file(&jf, 8, "larger than 8 bytes", &root), 0);
	assert_int_equal(json_integer_value(json_object_get(root, "a")), 1);
	json_decref(root);
	jf_free(&jf);
	unlink(path);

	/* jansson's position for a syntax error: the "]" at line 2, column 6. */
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	write_text(path, "{\"a\": 1,\n\"b\": ]}");
	jf_init(&jf, path, 0, err, sizeof(err));
	assert_int_equal(jf_load_file(&jf, 100, "too big", &root), -EINVAL);
	assert_null(root);
	assert_non_null(strstr(err, "bad.json:2:6: invalid JSON: "));
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_numparse(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		uint64_t v;
	} plain[] = {
		{"0", true, 0},
		{"16", true, 16},
		{"0x10", true, 16},
		{"0XfF", true, 255},
		{"18446744073709551615", true, UINT64_MAX},
		{"0xffffffffffffffff", true, UINT64_MAX},
		{"18446744073709551616", false, 0},
		{"0x10000000000000000", false, 0},
		{"", false, 0},
		{"0x", false, 0},
		{"4K", false, 0},
		{"1_0", false, 0},
		{"-1", false, 0},
		{"+1", false, 0},
		{"1a", false, 0},
		{" 1", false, 0},
	};
	static const struct {
		const char *s;
		bool ok;
		unsigned int v;
	} index[] = {
		{"0", true, 0},		  {"7", true, 7},   {"4294967295", true, UINT32_MAX},
		{"4294967296", false, 0}, {"01", false, 0}, {"00", false, 0},
		{"", false, 0},		  {"1a", false, 0}, {"-1", false, 0},
	};

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		uint64_t v = 12345;
		bool ok = parse_u64_plain(plain[i].s, &v);

		if (ok != plain[i].ok || (ok && v != plain[i].v) || (!ok && v != 12345))
			fail_msg("parse_u64_plain(\"%s\"): %d, 0x%llx", plain[i].s, ok,
				 (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(index) / sizeof(index[0]); i++) {
		unsigned int v = 12345;
		bool ok = parse_dec_index(index[i].s, &v);

		if (ok != index[i].ok || (ok && v != index[i].v) || (!ok && v != 12345))
			fail_msg("parse_dec_index(\"%s\"): %d, %u", index[i].s, ok, v);
	}
}

/* Every allocation of a load fails in turn: -ENOMEM with the message, or success. */
static void test_fail_nth(void **state)
{
	char path[] = "/tmp/test_json_field.XXXXXX";
	unsigned int fired = 0;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	for (unsigned long n = 1; n < 1000; n++) {
		char err[256] = "";
		struct jf jf;
		json_t *root;
		int rc;

		jf_init(&jf, path, JF_TOPOLOGY, err, sizeof(err));
		ualloc_fail_nth(n);
		rc = jf_load_file(&jf, 1024, "too big", &root);
		if (ualloc_fail_nth_pending()) {
			ualloc_fail_nth(0);
			assert_int_equal(rc, 0);
			json_decref(root);
			jf_free(&jf);
			break;
		}
		ualloc_fail_nth(0);
		if (rc != -ENOMEM || !strstr(err, ": out of memory"))
			fail_msg("allocation %lu failed: rc %d (%s)", n, rc, err);
		assert_null(root);
		jf_free(&jf);
		fired++;
	}
	unlink(path);
	assert_true(fired > 5); /* the text, then the index's entries and paths */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_spelling), cmocka_unit_test(test_topology_spelling),
		cmocka_unit_test(test_absent_and_keys),	  cmocka_unit_test(test_files),
		cmocka_unit_test(test_numparse),	  cmocka_unit_test(test_fail_nth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
