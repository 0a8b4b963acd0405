// SPDX-License-Identifier: MIT
/*
 * The translation caches in the public statistics: uiommu_stats_get()'s
 * "cache.<cache>.<counter>" names sum the counters of every live cache of
 * the process; uiommu_stats_reset() zeroes them; uiommu_stats_format()
 * adds a "caches:" line when there are any; a freed cache leaves the sum,
 * and a fork()ed child starts with none.
 *
 * Expected counts come from the caches' rules (lib/xlate/cache.h): a 4K
 * page walked cold through a 4-level stage 1 misses the IOTLB and the walk
 * cache at each of its three table depths, and fills all four; the same
 * page again hits the IOTLB.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uiommu/uiommu.h>

#include "xlate_env.h"

#include "xlate/cache.h"

static unsigned long long get(const char *name)
{
	unsigned long long v = ~0ULL;

	if (uiommu_stats_get(name, &v))
		fail_msg("uiommu_stats_get(%s): %s", name, strerror(errno));
	return v;
}

static void expect_enoent(const char *name)
{
	unsigned long long v = 7;

	errno = 0;
	assert_int_equal(uiommu_stats_get(name, &v), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(v, 7);
}

/*
 * @n translations of one page through @c (stage 1 alone, a 4-level 4K
 * table), the first one a miss when @cold, the others hits.
 */
static void run_page(struct env *e, struct xlate_cache *c, unsigned int n, bool cold)
{
	e->xc.cache = c;
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(env_run(e, 0x5000, PT_PROT_R), PT_OK);
		assert_int_equal(e->res.iotlb_hit, i > 0 || !cold);
	}
}

static void test_cache_stats(void **state)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, 0);
	struct xlate_cache *a, *b;
	char buf[2048], small[16];
	struct env e;
	size_t len;
	int status;
	pid_t pid;

	(void)state;
	/* No cache yet: every counter is 0, and the summary has no caches line. */
	assert_int_equal(get("cache.iotlb.hits"), 0);
	uiommu_stats_format(buf, sizeof(buf));
	assert_null(strstr(buf, "caches:"));
	expect_enoent("cache.iotlb");
	expect_enoent("cache.bogus.hits");
	expect_enoent("cache.iotlb.bogus");
	expect_enoent("cache.walk_s1x.hits");
	expect_enoent("cache.");

	env_init(&e, &s1c, NULL);
	assert_int_equal(pt_map(&e.s1, 0x5000, e.data_pa, 0x1000, PT_PROT_R), 0);
	a = env_new_cache();
	b = env_new_cache();
	run_page(&e, a, 2, true); /* IOTLB: 1 miss, 1 hit; walk caches: 3 misses, 3 fills */
	run_page(&e, b, 3, true); /* IOTLB: 1 miss, 2 hits; the same walk */
	assert_int_equal(get("cache.iotlb.hits"), 3);
	assert_int_equal(get("cache.iotlb.misses"), 2);
	assert_int_equal(get("cache.iotlb.fills"), 2);
	assert_int_equal(get("cache.iotlb.evictions"), 0);
	assert_int_equal(get("cache.walk_s1.hits"), 0);
	assert_int_equal(get("cache.walk_s1.misses"), 6);
	assert_int_equal(get("cache.walk_s1.fills"), 6);
	assert_int_equal(get("cache.walk_s2.misses"), 0);
	assert_int_equal(get("cache.ipa.misses"), 0);
	assert_int_equal(get("cache.cfg.hits"), 0);
	len = uiommu_stats_format(buf, sizeof(buf));
	assert_int_equal(len, strlen(buf));
	if (!strstr(buf, "caches: 2, hits/misses iotlb 3/2, walk_s1 0/6, walk_s2 0/0, ipa 0/0, "
			 "cfg 0/0\n"))
		fail_msg("no caches line in:\n%s", buf);
	/* Cut short: NUL-terminated, and the whole length returned (snprintf). */
	assert_int_equal(uiommu_stats_format(small, sizeof(small)), len);
	assert_int_equal(strlen(small), sizeof(small) - 1);

	/* A fork()ed child has no caches of its own. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned long long v = 1;

		uiommu_stats_format(buf, sizeof(buf));
		_exit(uiommu_stats_get("cache.iotlb.hits", &v) || v || strstr(buf, "caches:") ? 1
											     : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* A freed cache leaves the sum; a reset zeroes the rest. */
	xlate_cache_free(a);
	assert_int_equal(get("cache.iotlb.hits"), 2);
	assert_int_equal(get("cache.iotlb.misses"), 1);
	uiommu_stats_reset();
	assert_int_equal(get("cache.iotlb.hits"), 0);
	assert_int_equal(get("cache.walk_s1.fills"), 0);
	run_page(&e, b, 2, false); /* both hits now: the entries outlived the reset of the counters */
	assert_int_equal(get("cache.iotlb.hits"), 2);
	assert_int_equal(get("cache.iotlb.misses"), 0);
	xlate_cache_free(b);
	uiommu_stats_format(buf, sizeof(buf));
	assert_null(strstr(buf, "caches:"));
	env_destroy(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_stats),
	};

	return cmocka_run_group_tests_name("stats_cache", tests, NULL, NULL);
}
