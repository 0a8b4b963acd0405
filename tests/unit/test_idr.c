// SPDX-License-Identifier: MIT
/*
 * lib/util/idr: lowest-free allocation from 1, the reserve/publish pattern,
 * bounds, iteration, a randomized comparison with an array model (seed
 * printed on failure), and a fail-nth sweep proving that -ENOMEM leaves the
 * table exactly as it was.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/idr.h"

/* Distinct non-NULL values to store. */
static char objs[4096];
#define OBJ(i) ((void *)&objs[(i) % sizeof(objs)])

static void assert_idr_valid(const struct idr *idr)
{
	const char *why = NULL;

	if (idr_check(idr, &why))
		fail_msg("idr invalid: %s", why);
}

static void test_basic(void **state)
{
	struct idr idr;

	idr_init(&idr);
	assert_int_equal(idr_count(&idr), 0);
	assert_null(idr_find(&idr, 1));
	for (int i = 1; i <= 3; i++)
		assert_int_equal(idr_alloc(&idr, OBJ(i)), i);
	assert_ptr_equal(idr_find(&idr, 2), OBJ(2));
	assert_int_equal(idr_count(&idr), 3);

	/* The lowest free ID comes back first. */
	assert_ptr_equal(idr_remove(&idr, 2), OBJ(2));
	assert_null(idr_find(&idr, 2));
	assert_false(idr_is_allocated(&idr, 2));
	assert_int_equal(idr_alloc(&idr, OBJ(20)), 2);
	assert_int_equal(idr_alloc(&idr, OBJ(4)), 4);
	assert_ptr_equal(idr_remove(&idr, 1), OBJ(1));
	assert_ptr_equal(idr_remove(&idr, 3), OBJ(3));
	assert_int_equal(idr_alloc(&idr, OBJ(1)), 1);
	assert_int_equal(idr_alloc(&idr, OBJ(3)), 3);
	assert_int_equal(idr_count(&idr), 4);
	assert_idr_valid(&idr);

	/* Removing a free ID is a no-op. */
	assert_ptr_equal(idr_remove(&idr, 4), OBJ(4));
	assert_null(idr_remove(&idr, 4));
	assert_int_equal(idr_count(&idr), 3);
	idr_destroy(&idr);
	assert_int_equal(idr_count(&idr), 0);
	/* Usable again after destroy. */
	assert_int_equal(idr_alloc(&idr, OBJ(1)), 1);
	idr_destroy(&idr);
}

static void test_reserve_publish(void **state)
{
	struct idr idr;
	void *entry;
	int id, a, b, seen = 0;

	idr_init(&idr);
	a = idr_alloc(&idr, OBJ(1));
	id = idr_reserve(&idr);
	b = idr_alloc(&idr, OBJ(3));
	assert_int_equal(id, 2);
	assert_int_equal(b, 3);

	/* Reserved: allocated, invisible to lookups and iteration. */
	assert_true(idr_is_allocated(&idr, id));
	assert_null(idr_find(&idr, id));
	idr_for_each_entry(&idr, entry, id) {
		assert_true(id == a || id == b);
		seen++;
	}
	assert_int_equal(seen, 2);

	/* Publish. */
	assert_int_equal(idr_store(&idr, 2, OBJ(2)), 0);
	assert_ptr_equal(idr_find(&idr, 2), OBJ(2));
	/* Store on a free or out-of-range ID fails and changes nothing. */
	assert_int_equal(idr_store(&idr, 4, OBJ(4)), -ENOENT);
	assert_int_equal(idr_store(&idr, 0, OBJ(4)), -ENOENT);
	assert_int_equal(idr_store(&idr, -1, OBJ(4)), -ENOENT);
	assert_null(idr_find(&idr, 4));

	/* Abort path: a reservation removed returns NULL and frees the ID. */
	id = idr_reserve(&idr);
	assert_int_equal(id, 4);
	assert_null(idr_remove(&idr, id));
	assert_false(idr_is_allocated(&idr, id));
	assert_int_equal(idr_reserve(&idr), 4);
	assert_idr_valid(&idr);
	idr_destroy(&idr);
}

static void test_bad_ids(void **state)
{
	struct idr idr;

	idr_init(&idr);
	assert_null(idr_find(&idr, 0));
	assert_null(idr_find(&idr, -5));
	assert_null(idr_find(&idr, IDR_MAX));
	assert_null(idr_remove(&idr, 0));
	assert_null(idr_remove(&idr, IDR_MAX));
	assert_false(idr_is_allocated(&idr, 0));
	assert_int_equal(idr_alloc(&idr, OBJ(1)), 1);
	assert_null(idr_find(&idr, 64)); /* inside the capacity, never allocated */
	assert_null(idr_find(&idr, 65)); /* beyond the capacity */
	idr_destroy(&idr);
}

static void fill_to_limit(int max_id)
{
	struct idr idr;

	idr_init_max(&idr, max_id);
	for (int i = 1; i <= max_id; i++)
		assert_int_equal(idr_alloc(&idr, OBJ(i)), i);
	assert_int_equal(idr_alloc(&idr, OBJ(0)), -ENOSPC);
	assert_int_equal(idr_count(&idr), max_id);
	if (max_id) {
		int mid = (max_id + 1) / 2;

		assert_ptr_equal(idr_remove(&idr, mid), OBJ(mid));
		assert_int_equal(idr_alloc(&idr, OBJ(mid)), mid);
		assert_int_equal(idr_alloc(&idr, OBJ(0)), -ENOSPC);
		assert_ptr_equal(idr_remove(&idr, max_id), OBJ(max_id));
		assert_int_equal(idr_alloc(&idr, OBJ(0)), max_id);
	}
	assert_idr_valid(&idr);
	idr_destroy(&idr);
}

static void test_limits(void **state)
{
	/* Around the 64-slot words and the capacity doublings. */
	static const int limits[] = { 0, 1, 63, 64, 65, 100, 127, 128, 129, 4095, 4096, 4097 };

	for (unsigned int i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		fill_to_limit(limits[i]);
}

static void test_iterate(void **state)
{
	struct idr idr;
	void *entry;
	int id, n = 0;

	idr_init(&idr);
	for (int i = 1; i <= 300; i++)
		assert_int_equal(idr_alloc(&idr, OBJ(i)), i);
	/* Leave IDs 65..192 free so iteration must skip whole free words. */
	for (int i = 65; i <= 192; i++)
		idr_remove(&idr, i);
	idr_for_each_entry(&idr, entry, id) {
		assert_ptr_equal(entry, OBJ(id));
		assert_false(id >= 65 && id <= 192);
		/* Removing the current entry during iteration is allowed. */
		if (id % 3 == 0)
			assert_ptr_equal(idr_remove(&idr, id), OBJ(id));
		n++;
	}
	assert_int_equal(n, 64 + 108);
	n = 0;
	idr_for_each_entry(&idr, entry, id) {
		assert_true(id % 3 != 0);
		n++;
	}
	assert_int_equal(n, (int)idr_count(&idr));
	assert_idr_valid(&idr);
	idr_destroy(&idr);
}

/* ---------------------------------------------------------------------- */
/* Differential against an array model                                    */

#define MODEL_IDS 3000

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static void run_model(uint64_t seed, unsigned int nops)
{
	/* model[id]: 0 free, 1 reserved, 2 + k published with OBJ(k) */
	static int model[MODEL_IDS + 2];
	uint64_t s = seed;
	struct idr idr;
	int count = 0;

	memset(model, 0, sizeof(model));
	idr_init(&idr);
	for (unsigned int op = 0; op < nops; op++) {
		uint64_t r = rng_next(&s);
		/* Bias toward allocation early, toward removal once the table is large. */
		bool grow = (r % 100) < (count < 1500 ? 60 : 40);
		int id = 1 + (int)((r >> 8) % MODEL_IDS);

		if (grow) {
			int want = 1, k = (int)((r >> 32) % 1000), got;
			bool reserve = (r >> 40) % 4 == 0;

			while (model[want])
				want++;
			got = idr_alloc(&idr, reserve ? NULL : OBJ(k));
			if (got != want)
				fail_msg("seed %#llx op %u: alloc gave %d, lowest free is %d",
					 (unsigned long long)seed, op, got, want);
			model[want] = reserve ? 1 : 2 + k;
			count++;
		} else if ((r >> 40) % 4 == 0) {
			/* Publish or replace. */
			int k = (int)((r >> 32) % 1000);
			int ret = idr_store(&idr, id, OBJ(k));

			if (ret != (model[id] ? 0 : -ENOENT))
				fail_msg("seed %#llx op %u: store(%d) = %d",
					 (unsigned long long)seed, op, id, ret);
			if (model[id])
				model[id] = 2 + k;
		} else {
			void *want = model[id] >= 2 ? OBJ(model[id] - 2) : NULL;
			void *got = idr_remove(&idr, id);

			if (got != want)
				fail_msg("seed %#llx op %u: remove(%d) returned the wrong value",
					 (unsigned long long)seed, op, id);
			if (model[id])
				count--;
			model[id] = 0;
		}
		if ((int)idr_count(&idr) != count)
			fail_msg("seed %#llx op %u: count %u, model %d", (unsigned long long)seed,
				 op, idr_count(&idr), count);
		if (op % 64 == 0) {
			const char *why = NULL;

			if (idr_check(&idr, &why))
				fail_msg("seed %#llx op %u: %s", (unsigned long long)seed, op, why);
			for (int i = 1; i <= MODEL_IDS + 1; i++) {
				void *want = model[i] >= 2 ? OBJ(model[i] - 2) : NULL;

				if (idr_find(&idr, i) != want ||
				    idr_is_allocated(&idr, i) != !!model[i])
					fail_msg("seed %#llx op %u: id %d differs from the model",
						 (unsigned long long)seed, op, i);
			}
		}
	}
	idr_destroy(&idr);
}

static void test_model(void **state)
{
	const char *env = getenv("UIOMMU_TEST_SEED");
	uint64_t base = env ? strtoull(env, NULL, 0) : 0x1d5eedULL;

	for (uint64_t i = 0; i < 8; i++)
		run_model((base + i * 0x9e3779b97f4a7c15ULL) | 1, 20000);
}

/* ---------------------------------------------------------------------- */
/* fail-nth                                                               */

struct snapshot {
	void *val[600];
	bool alloc[600];
	uint32_t count, nr_slots;
};

static void take(const struct idr *idr, struct snapshot *s)
{
	for (int i = 0; i < 600; i++) {
		s->val[i] = idr_find(idr, i);
		s->alloc[i] = idr_is_allocated(idr, i);
	}
	s->count = idr_count(idr);
	s->nr_slots = idr->nr_slots;
}

static void assert_same(const struct snapshot *a, const struct snapshot *b, unsigned long nth)
{
	if (a->count != b->count || a->nr_slots != b->nr_slots ||
	    memcmp(a->val, b->val, sizeof(a->val)) || memcmp(a->alloc, b->alloc, sizeof(a->alloc)))
		fail_msg("fail-nth %lu: -ENOMEM changed the table", nth);
}

/*
 * A scenario of 520 allocations with a few removals, run once per n with
 * the n-th allocation failing. Every -ENOMEM must leave the table unchanged
 * and the retry must return what a clean run returns. The sweep ends at the
 * first n that never fires: every allocation point has then been failed.
 */
static void test_fail_nth(void **state)
{
	static struct snapshot before, after;
	unsigned long n, fired = 0;

	for (n = 1;; n++) {
		struct idr idr;
		int enomem = 0;

		idr_init(&idr);
		ualloc_fail_nth(n);
		for (int i = 1; i <= 520; i++) {
			int id;

			take(&idr, &before);
			id = idr_alloc(&idr, OBJ(i));
			if (id == -ENOMEM) {
				take(&idr, &after);
				assert_same(&before, &after, n);
				assert_idr_valid(&idr);
				enomem++;
				id = idr_alloc(&idr, OBJ(i));
			}
			/* Every 8th allocation is removed again and re-filled lowest first. */
			assert_int_equal(id, i - (i / 8));
			if (i % 8 == 7)
				assert_ptr_equal(idr_remove(&idr, id), OBJ(i));
		}
		assert_idr_valid(&idr);
		idr_destroy(&idr);
		if (ualloc_fail_nth_pending()) {
			ualloc_fail_nth(0);
			break;
		}
		assert_int_equal(enomem, 1);
		fired++;
	}
	/* IDs reach 455: 0 -> 64 -> 128 -> 256 -> 512 slots, 4 growths of 3 allocations each. */
	assert_int_equal(fired, 4 * 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),	 cmocka_unit_test(test_reserve_publish),
		cmocka_unit_test(test_bad_ids),	 cmocka_unit_test(test_limits),
		cmocka_unit_test(test_iterate),	 cmocka_unit_test(test_model),
		cmocka_unit_test(test_fail_nth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
