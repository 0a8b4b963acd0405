// SPDX-License-Identifier: MIT
/*
 * lib/util/interval_tree: hand-picked cases whose answers are worked out
 * on paper, then a randomized differential test against the brute-force
 * model of interval_tree_model.h (seeds fixed; a failure prints the seed and
 * the operation number, so it replays exactly).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "interval_tree_model.h"
#include "util/interval_tree.h"

struct span {
	uint64_t start, last;
	int kind; /* single: 1 used, 0 hole; double: is_used */
};

static void set(struct interval_tree_node *n, uint64_t start, uint64_t last)
{
	memset(n, 0, sizeof(*n));
	n->start = start;
	n->last = last;
}

static void assert_valid(const struct interval_tree_root *root, long nodes)
{
	const char *why = NULL;
	long n = interval_tree_check(root, &why);

	if (n < 0)
		fail_msg("tree invalid: %s", why);
	assert_int_equal(n, nodes);
}

static int collect_spans(const struct interval_tree_root *root, uint64_t first, uint64_t last,
			 struct span *out, int max)
{
	struct interval_tree_span_iter it;
	int n = 0;

	interval_tree_for_each_span(&it, root, first, last) {
		assert_true(n < max);
		out[n++] = (struct span){ it.start_used, it.last_used, !it.is_hole };
	}
	return n;
}

static void assert_spans(const struct span *got, int n, const struct span *want, int nwant)
{
	assert_int_equal(n, nwant);
	for (int i = 0; i < n; i++) {
		if (got[i].start != want[i].start || got[i].last != want[i].last ||
		    got[i].kind != want[i].kind)
			fail_msg("span %d: got [%#llx, %#llx] kind %d, want [%#llx, %#llx] kind %d",
				 i, (unsigned long long)got[i].start,
				 (unsigned long long)got[i].last, got[i].kind,
				 (unsigned long long)want[i].start,
				 (unsigned long long)want[i].last, want[i].kind);
	}
}

/* ---------------------------------------------------------------------- */

static void test_empty(void **state)
{
	struct interval_tree_root root = INTERVAL_TREE_ROOT_INIT;
	struct span sp[4];
	uint64_t a;

	assert_true(interval_tree_empty(&root));
	assert_null(interval_tree_iter_first(&root, 0, UINT64_MAX));
	assert_null(interval_tree_first(&root));
	assert_valid(&root, 0);

	/* One hole over the whole 64-bit space: no "last + 1" may wrap. */
	assert_spans(sp, collect_spans(&root, 0, UINT64_MAX, sp, 4),
		     (struct span[]){ { 0, UINT64_MAX, 0 } }, 1);
	assert_int_equal(interval_tree_find_hole(&root, 0, UINT64_MAX, UINT64_MAX, 1, &a), 0);
	assert_int_equal(a, 0);
	/* A first > last query is empty. */
	assert_int_equal(collect_spans(&root, 5, 4, sp, 4), 0);
}

static void test_overlap_queries(void **state)
{
	struct interval_tree_root root = INTERVAL_TREE_ROOT_INIT;
	struct interval_tree_node n[5], *x;

	set(&n[0], 10, 20);
	set(&n[1], 15, 30);
	set(&n[2], 40, 50);
	set(&n[3], 51, 60);
	set(&n[4], 100, 100);
	for (int i = 4; i >= 0; i--)
		interval_tree_insert(&n[i], &root);
	assert_valid(&root, 5);

	assert_null(interval_tree_iter_first(&root, 0, 9));
	assert_null(interval_tree_iter_first(&root, 31, 39));
	assert_null(interval_tree_iter_first(&root, 101, UINT64_MAX));
	assert_ptr_equal(interval_tree_iter_first(&root, 0, 10), &n[0]);

	/* 16..45 touches [10,20], [15,30], [40,50], in start order. */
	x = interval_tree_iter_first(&root, 16, 45);
	assert_ptr_equal(x, &n[0]);
	x = interval_tree_iter_next(x, 16, 45);
	assert_ptr_equal(x, &n[1]);
	x = interval_tree_iter_next(x, 16, 45);
	assert_ptr_equal(x, &n[2]);
	assert_null(interval_tree_iter_next(x, 16, 45));

	/* Stabbing one index: 50 is in [40,50] only; 51 in [51,60] only. */
	assert_ptr_equal(interval_tree_iter_first(&root, 50, 50), &n[2]);
	assert_null(interval_tree_iter_next(&n[2], 50, 50));
	assert_ptr_equal(interval_tree_iter_first(&root, 51, 51), &n[3]);

	/* In-order walk. */
	x = interval_tree_first(&root);
	for (int i = 0; i < 5; i++, x = interval_tree_next(x))
		assert_ptr_equal(x, &n[i]);
	assert_null(x);

	/* first > last finds nothing. */
	assert_null(interval_tree_iter_first(&root, 20, 10));
}

static void test_spans(void **state)
{
	struct interval_tree_root root = INTERVAL_TREE_ROOT_INIT;
	struct interval_tree_node n[5];
	struct interval_tree_span_iter it;
	struct span sp[16];

	set(&n[0], 10, 20);
	set(&n[1], 15, 30);
	set(&n[2], 40, 50);
	set(&n[3], 51, 60); /* touches [40,50]: one used span */
	set(&n[4], 100, 100);
	for (int i = 0; i < 5; i++)
		interval_tree_insert(&n[i], &root);

	assert_spans(sp, collect_spans(&root, 0, 200, sp, 16),
		     (struct span[]){ { 0, 9, 0 },
				      { 10, 30, 1 },
				      { 31, 39, 0 },
				      { 40, 60, 1 },
				      { 61, 99, 0 },
				      { 100, 100, 1 },
				      { 101, 200, 0 } },
		     7);
	/* Clipped at both ends, starting inside a used span. */
	assert_spans(sp, collect_spans(&root, 25, 45, sp, 16),
		     (struct span[]){ { 25, 30, 1 }, { 31, 39, 0 }, { 40, 45, 1 } }, 3);
	/* A query inside one node. */
	assert_spans(sp, collect_spans(&root, 41, 41, sp, 16), (struct span[]){ { 41, 41, 1 } }, 1);

	/* Advance restarts at a later index; past the end finishes. */
	interval_tree_span_iter_first(&it, &root, 0, 200);
	assert_int_equal(it.is_hole, 1);
	interval_tree_span_iter_advance(&it, &root, 45);
	assert_int_equal(it.is_hole, 0);
	assert_int_equal(it.start_used, 45);
	assert_int_equal(it.last_used, 60);
	interval_tree_span_iter_advance(&it, &root, 201);
	assert_true(interval_tree_span_iter_done(&it));
	interval_tree_span_iter_next(&it);
	assert_true(interval_tree_span_iter_done(&it));
}

static void test_nested_and_equal_starts(void **state)
{
	struct interval_tree_root root = INTERVAL_TREE_ROOT_INIT;
	struct interval_tree_node big, small[20], same[3];
	struct span sp[8];
	int count = 0;

	/* One long node hiding twenty short ones, and three nodes sharing a start. */
	set(&big, 1000, 1999);
	interval_tree_insert(&big, &root);
	for (int i = 0; i < 20; i++) {
		set(&small[i], 1000 + 40 * i, 1000 + 40 * i + 9);
		interval_tree_insert(&small[i], &root);
	}
	set(&same[0], 5000, 5000);
	set(&same[1], 5000, 5100);
	set(&same[2], 5000, 5010);
	for (int i = 0; i < 3; i++)
		interval_tree_insert(&same[i], &root);
	assert_valid(&root, 24);

	assert_spans(sp, collect_spans(&root, 900, 5200, sp, 8),
		     (struct span[]){ { 900, 999, 0 },
				      { 1000, 1999, 1 },
				      { 2000, 4999, 0 },
				      { 5000, 5100, 1 },
				      { 5101, 5200, 0 } },
		     5);
	for (struct interval_tree_node *x = interval_tree_iter_first(&root, 5050, 5050); x;
	     x = interval_tree_iter_next(x, 5050, 5050))
		count++;
	assert_int_equal(count, 1);
	count = 0;
	for (struct interval_tree_node *x = interval_tree_iter_first(&root, 5000, 5000); x;
	     x = interval_tree_iter_next(x, 5000, 5000))
		count++;
	assert_int_equal(count, 3);
}

static void test_top_of_space(void **state)
{
	struct interval_tree_root root = INTERVAL_TREE_ROOT_INIT;
	struct interval_tree_node n[2];
	struct span sp[4];
	uint64_t a = 0;

	set(&n[0], UINT64_MAX - 10, UINT64_MAX);
	set(&n[1], 0, 0xfff);
	interval_tree_insert(&n[0], &root);
	interval_tree_insert(&n[1], &root);

	assert_spans(sp, collect_spans(&root, 0, UINT64_MAX, sp, 4),
		     (struct span[]){ { 0, 0xfff, 1 },
				      { 0x1000, UINT64_MAX - 11, 0 },
				      { UINT64_MAX - 10, UINT64_MAX, 1 } },
		     3);
	assert_ptr_equal(interval_tree_iter_first(&root, UINT64_MAX, UINT64_MAX), &n[0]);

	/* Largest hole: [0x1000, 2^64 - 12]. */
	assert_int_equal(interval_tree_find_hole(&root, 0, UINT64_MAX, UINT64_MAX - 11 - 0x1000 + 1,
						 0x1000, &a),
			 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(
		interval_tree_find_hole(&root, 0, UINT64_MAX, UINT64_MAX - 11 - 0x1000 + 2, 1, &a),
		-ENOSPC);

	/* Rounding the hole start up to the alignment wraps: no fit, no wrap-around answer. */
	interval_tree_remove(&n[0], &root);
	assert_int_equal(interval_tree_find_hole(&root, UINT64_MAX - 5, UINT64_MAX, 1, 16, &a),
			 -ENOSPC);
	assert_int_equal(interval_tree_find_hole(&root, UINT64_MAX - 5, UINT64_MAX, 6, 1, &a), 0);
	assert_int_equal(a, UINT64_MAX - 5);
	assert_valid(&root, 1);
}

static void test_find_hole(void **state)
{
	struct interval_tree_root root = INTERVAL_TREE_ROOT_INIT;
	struct interval_tree_node n[2];
	uint64_t a = 0;

	set(&n[0], 0x0, 0xfff);
	set(&n[1], 0x3000, 0x3fff);
	interval_tree_insert(&n[0], &root);
	interval_tree_insert(&n[1], &root);

	assert_int_equal(interval_tree_find_hole(&root, 0, 0xffff, 0x2000, 0x1000, &a), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(interval_tree_find_hole(&root, 0, 0xffff, 0x2001, 0x1000, &a), 0);
	assert_int_equal(a, 0x4000);
	assert_int_equal(interval_tree_find_hole(&root, 0, 0xffff, 0x1000, 0x4000, &a), 0);
	assert_int_equal(a, 0x4000);
	/* Unaligned start of the search range. */
	assert_int_equal(interval_tree_find_hole(&root, 0x1001, 0xffff, 0x10, 0x10, &a), 0);
	assert_int_equal(a, 0x1010);
	/* Exactly fills the search range's tail. */
	assert_int_equal(interval_tree_find_hole(&root, 0, 0x4fff, 0x1000, 0, &a), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(interval_tree_find_hole(&root, 0x2001, 0x4fff, 0x1000, 0x1000, &a), 0);
	assert_int_equal(a, 0x4000);
	assert_int_equal(interval_tree_find_hole(&root, 0x2001, 0x4ffe, 0x1000, 0x1000, &a),
			 -ENOSPC);

	/* Bad arguments. */
	assert_int_equal(interval_tree_find_hole(&root, 0, 0xffff, 0, 1, &a), -EINVAL);
	assert_int_equal(interval_tree_find_hole(&root, 0, 0xffff, 1, 3, &a), -EINVAL);
	assert_int_equal(interval_tree_find_hole(&root, 10, 9, 1, 1, &a), -EINVAL);
	assert_int_equal(interval_tree_find_hole(&root, 0, 0xf, 0x11, 1, &a), -ENOSPC);
}

static void test_double_spans(void **state)
{
	struct interval_tree_root t0 = INTERVAL_TREE_ROOT_INIT, t1 = INTERVAL_TREE_ROOT_INIT;
	struct interval_tree_node a, b, c;
	struct interval_tree_double_span_iter it;
	struct span sp[8];
	int n = 0;
	uint64_t h = 0;

	set(&a, 10, 20);
	set(&b, 15, 30);
	set(&c, 0, 5);
	interval_tree_insert(&a, &t0);
	interval_tree_insert(&b, &t1);
	interval_tree_insert(&c, &t1);

	interval_tree_for_each_double_span(&it, &t0, &t1, 0, 40) {
		assert_true(n < 8);
		sp[n++] = (struct span){ it.start_used, it.last_used, it.is_used };
	}
	/* Tree 0 wins where both cover (15..20). */
	assert_spans(
		sp, n,
		(struct span[]){
			{ 0, 5, 2 }, { 6, 9, 0 }, { 10, 20, 1 }, { 21, 30, 2 }, { 31, 40, 0 } },
		5);

	assert_int_equal(interval_tree_double_find_hole(&t0, &t1, 0, 40, 5, 1, &h), 0);
	assert_int_equal(h, 31);
	assert_int_equal(interval_tree_double_find_hole(&t0, &t1, 0, 40, 4, 2, &h), 0);
	assert_int_equal(h, 6);
	assert_int_equal(interval_tree_double_find_hole(&t0, &t1, 0, 40, 11, 1, &h), -ENOSPC);
	/* No second tree: the same as the single variant. */
	assert_int_equal(interval_tree_double_find_hole(&t0, NULL, 0, 40, 10, 1, &h), 0);
	assert_int_equal(h, 0);
}

static void test_remove_orders(void **state)
{
	enum { N = 200 };
	static struct interval_tree_node n[N];
	struct interval_tree_root root = INTERVAL_TREE_ROOT_INIT;

	/* Ascending insert (worst case for an unbalanced tree), removal in three orders. */
	for (int order = 0; order < 3; order++) {
		for (int i = 0; i < N; i++) {
			set(&n[i], (uint64_t)i * 10, (uint64_t)i * 10 + (uint64_t)(i % 7) * 13);
			interval_tree_insert(&n[i], &root);
		}
		assert_valid(&root, N);
		for (int k = 0; k < N; k++) {
			int i = order == 0 ? k : order == 1 ? N - 1 - k : (k * 37) % N;

			interval_tree_remove(&n[i], &root);
			assert_valid(&root, N - 1 - k);
		}
		assert_true(interval_tree_empty(&root));
	}
}

static void test_checker_catches_corruption(void **state)
{
	struct interval_tree_root root = INTERVAL_TREE_ROOT_INIT;
	struct interval_tree_node n[3];
	const char *why = NULL;

	for (int i = 0; i < 3; i++) {
		set(&n[i], (uint64_t)i * 10, (uint64_t)i * 10 + 5);
		interval_tree_insert(&n[i], &root);
	}
	assert_valid(&root, 3);
	root.node->subtree_last++;
	assert_int_equal(interval_tree_check(&root, &why), -EUCLEAN);
	assert_string_equal(why, "subtree_last");
	root.node->subtree_last--;
	root.node->red = true;
	assert_int_equal(interval_tree_check(&root, &why), -EUCLEAN);
	assert_string_equal(why, "red root");
	root.node->red = false;
	root.node->left->red = !root.node->left->red;
	assert_int_equal(interval_tree_check(&root, &why), -EUCLEAN);
	root.node->left->red = !root.node->left->red;
	assert_valid(&root, 3);
}

/* ---------------------------------------------------------------------- */
/* Differential                                                           */

static void run_differential(uint64_t seed, bool top, unsigned int nops)
{
	static struct itm m;
	struct itm_src src = { .state = seed };

	itm_init(&m, top);
	for (unsigned int i = 0; i < nops; i++) {
		if (itm_step(&m, &src))
			fail_msg("differential seed %#llx (%s universe): %s",
				 (unsigned long long)seed, top ? "top" : "bottom", m.err);
	}
	if (itm_drain(&m))
		fail_msg("differential seed %#llx drain: %s", (unsigned long long)seed, m.err);
}

static void test_differential(void **state)
{
	const char *env = getenv("UIOMMU_TEST_SEED");
	uint64_t base_seed = env ? strtoull(env, NULL, 0) : 0x5eed1e57ULL;

	/* 24 seeds x 10000 operations, half of them at the top of the 64-bit space. */
	for (uint64_t i = 0; i < 24; i++)
		run_differential((base_seed + i * 0x9e3779b97f4a7c15ULL) | 1, i & 1, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_overlap_queries),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_nested_and_equal_starts),
		cmocka_unit_test(test_top_of_space),
		cmocka_unit_test(test_find_hole),
		cmocka_unit_test(test_double_spans),
		cmocka_unit_test(test_remove_orders),
		cmocka_unit_test(test_checker_catches_corruption),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
