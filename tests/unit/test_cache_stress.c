// SPDX-License-Identifier: MIT
/*
 * Concurrency: reader threads translate through the caches while one
 * thread maps, unmaps and invalidates. The guarantee under test: once
 * unmap + invalidate has returned, no translation that starts afterwards
 * yields the old page.
 *
 * Every mapping of a page carries a generation, encoded in where it leads
 * (the IPA for stage-1 changes, the PA for stage-2 changes). Per page the
 * writer publishes (store-release) "dead" = the first generation not yet
 * unmapped and invalidated (every older one's unmap and invalidation have
 * returned), and "gen" = the generation now mapped. A reader loads dead
 * (acquire), translates, loads gen: a result must be of a generation in
 * [dead, gen + 1]. A translation may fault (the page is between unmap and
 * map) but never return an older generation.
 *
 * Table pages: until epoch reclamation lands (util/epoch.h), the test
 * changes only leaves in tables that stay linked (each 2 MiB region keeps a
 * pinned page), so no table is freed under a walker.
 *
 * Phase 1 changes stage 1 (nested, VMSA over VMSA); phase 2 changes stage
 * 2 under a fixed stage 1 (with the architectural invalidation pair, or
 * the conservative option). Runs for UIOMMU_STRESS_MS milliseconds per
 * phase (default 700), so it also fits under ThreadSanitizer.
 */
#include "xlate_env.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "xlate/cache_int.h"

#define NREADERS 2
#define NP	 24		  /* pages that change */
#define GENS	 512		  /* generations a page cycles through (IPA or PA slots) */
#define IOVA(p)	 (0x40000000ULL + (uint64_t)((p) % 12) * 0x1000 + (uint64_t)((p) / 12) * 0x200000)
#define PIN(r)	 (0x40000000ULL + 0x100000 + (uint64_t)(r) * 0x200000) /* keeps each L3 table */
#define WIN	 0x100000000ULL	  /* stage-1 changes: IPA window, generation in the IPA */
#define IPA(p, g) (WIN + ((uint64_t)(p) * GENS + (g) % GENS) * 0x1000)
#define NP2	 8		  /* stage-2 changes: pages, generation in the PA */
#define GENS2	 64
#define S2IPA(q) (0x180000000ULL + (uint64_t)(q) * 0x1000)

struct shared {
	struct env e;
	struct xlate_cfg xc; /* the readers' view */
	bool phase2;
	uint64_t pa2;	     /* phase 2: PA slots, NP2 * GENS2 pages */
	uint64_t dead[NP], gen[NP];
	int stop;
	/* per reader */
	unsigned long done[NREADERS], ok[NREADERS], hits[NREADERS], undecided[NREADERS];
	int bad;
	char msg[256];
};

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void publish(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

struct reader_arg {
	struct shared *sh;
	unsigned int id;
};

/* Which generation (mod GENS) a result is of, for page @p; -1 if not one of @p's. */
static long result_gen(const struct shared *sh, unsigned int p, const struct xlate_result *res)
{
	if (!sh->phase2) {
		uint64_t slot = (res->ipa - WIN) >> 12;

		if (res->ipa < WIN || slot / GENS != p || res->pa != sh->e.data_pa +
								  (res->ipa & 0x1fffff))
			return -1;
		return (long)(slot % GENS);
	}
	if (res->pa < sh->pa2 || ((res->pa - sh->pa2) >> 12) / GENS2 != p)
		return -1;
	return (long)(((res->pa - sh->pa2) >> 12) % GENS2);
}

static void *reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct shared *sh = ra->sh;
	unsigned int id = ra->id, np = sh->phase2 ? NP2 : NP, gens = sh->phase2 ? GENS2 : GENS;
	uint64_t x = 0x9e3779b97f4a7c15ULL * (id + 1);

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		unsigned int p;
		uint64_t d, g, iova;
		struct xlate_result res;
		enum pt_fault_reason ret;
		long rg;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p = (unsigned int)(x % np);
		iova = sh->phase2 ? IOVA(p) : IOVA(p) + (x >> 40) % 0x1000;
		d = ld(&sh->dead[p]);
		ret = xlate(&sh->xc, iova, PT_PROT_R, &res, NULL, NULL);
		g = ld(&sh->gen[p]);
		sh->done[id]++;
		if (ret != PT_OK)
			continue;
		sh->ok[id]++;
		sh->hits[id] += res.iotlb_hit;
		rg = result_gen(sh, p, &res);
		/*
		 * Valid: a generation r with d <= r <= g + 1 (the next mapping may
		 * be in place before its generation is published), r = d + k for
		 * k = (rg - d) mod gens.
		 */
		if (g + 1 - d >= gens) {
			sh->undecided[id]++;
			continue;
		}
		if (rg < 0 || ((uint64_t)rg + gens - d % gens) % gens > g + 1 - d) {
			snprintf(sh->msg, sizeof(sh->msg),
				 "reader %u: page %u: got ipa 0x%llx pa 0x%llx (gen %ld mod %u, "
				 "iotlb %d): the first live generation was %llu, the current %llu",
				 id, p, (unsigned long long)res.ipa, (unsigned long long)res.pa, rg,
				 gens, res.iotlb_hit, (unsigned long long)d, (unsigned long long)g);
			__atomic_store_n(&sh->bad, 1, __ATOMIC_RELEASE);
			__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static unsigned int run_ms(void)
{
	const char *s = getenv("UIOMMU_STRESS_MS");

	return s ? (unsigned int)atoi(s) : 700;
}

/* The stage-1 invalidation after unmapping page @p (its L3 table stays: leaf change). */
static void inv_s1(struct xlate_cache *c, uint64_t *x, unsigned int p)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	switch (*x % 10) {
	case 0:
		xlate_inv_asid(c, 2, 7);
		break;
	case 1:
		xlate_inv_vmid(c, 2);
		break;
	case 2:
		xlate_inv_all(c);
		break;
	case 3:
		xlate_inv_range(c, 2, XLATE_ANY_ASID, IOVA(p), 0x1000, XLATE_INV_LEAF, -1);
		break;
	case 4:
		xlate_inv_range(c, 2, 7, IOVA(p) & ~0x1fffffULL, 0x200000, 0, -1);
		break;
	case 5:
		xlate_inv_range(c, 2, 7, IOVA(p), 0x1000, 0, -1);
		break;
	default:
		xlate_inv_range(c, 2, 7, IOVA(p), 0x1000, XLATE_INV_LEAF, 3);
		break;
	}
}

static void run_phase(bool phase2, bool conservative)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct shared *sh = calloc(1, sizeof(*sh));
	struct reader_arg ra[NREADERS];
	pthread_t th[NREADERS];
	struct xlate_cache_params prm;
	struct xlate_cache_stats st;
	unsigned long changes = 0, done = 0, ok = 0, hits = 0, undecided = 0;
	uint64_t x = 88172645463325252ULL, deadline;
	struct env *e;

	assert_non_null(sh);
	e = &sh->e;
	sh->phase2 = phase2;
	env_init_sized(e, &s1c, &s2c, 0x2000000, 0x400000);
	xlate_cache_params_default(&prm);
	prm.ipa_inval_conservative = conservative;
	/*
	 * Small enough that fills evict all the time; in phase 2 an IOTLB
	 * smaller than the pages, so that walks through the IPA cache (the
	 * stage-2 state that changes) and their IOTLB fills are frequent.
	 */
	prm.iotlb = (struct xlate_cache_geom){ phase2 ? 4 : 64, 4 };
	prm.ipa = (struct xlate_cache_geom){ 32, 4 };
	prm.walk[0] = prm.walk[1] = (struct xlate_cache_geom){ 16, 4 };
	assert_int_equal(xlate_cache_new(&prm, &e->xc.cache), 0);
	e->xc.tag = (struct xlate_tag){ .vmid = 2, .asid = 7 };
	sh->xc = e->xc;

	for (unsigned int r = 0; r < 2; r++)
		assert_int_equal(pt_map(&e->s1, PIN(r), e->data_ipa, 0x1000, PT_PROT_R), 0);
	if (!phase2) {
		/* Stage 2: the IPA window in 2M blocks, all onto the same 2M of data. */
		for (uint64_t b = 0; b < (uint64_t)NP * GENS * 0x1000; b += 0x200000)
			assert_int_equal(pt_map(&e->s2, WIN + b, e->data_pa, 0x200000,
						PT_PROT_RW), 0);
		for (unsigned int p = 0; p < NP; p++)
			assert_int_equal(pt_map(&e->s1, IOVA(p), IPA(p, 0), 0x1000, PT_PROT_RW), 0);
	} else {
		/* Stage 1 fixed: page q -> S2IPA(q); stage 2 moves S2IPA(q) among PA slots. */
		sh->pa2 = HBASE + 0x400000;
		assert_int_equal(pt_arena_reserve(&e->host, sh->pa2, NP2 * GENS2 * 0x1000), 0);
		assert_int_equal(pt_map(&e->s2, S2IPA(0) + 0x100000, e->data_pa, 0x1000, PT_PROT_R),
				 0); /* keeps the stage-2 L3 table */
		for (unsigned int q = 0; q < NP2; q++) {
			assert_int_equal(pt_map(&e->s2, S2IPA(q),
						sh->pa2 + (uint64_t)q * GENS2 * 0x1000, 0x1000,
						PT_PROT_RW), 0);
			assert_int_equal(pt_map(&e->s1, IOVA(q), S2IPA(q), 0x1000, PT_PROT_RW), 0);
		}
	}

	for (unsigned int i = 0; i < NREADERS; i++) {
		ra[i] = (struct reader_arg){ sh, i };
		assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
	}
	deadline = now_ms() + run_ms();
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) && now_ms() < deadline) {
		for (int k = 0; k < 64; k++) {
			unsigned int p;
			uint64_t g;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p = (unsigned int)(x % (phase2 ? NP2 : NP));
			g = sh->gen[p];
			if (!phase2) {
				assert_int_equal(pt_unmap(&e->s1, IOVA(p), 0x1000, NULL), 0);
				inv_s1(e->xc.cache, &x, p);
				publish(&sh->dead[p], g + 1);
				assert_int_equal(pt_map(&e->s1, IOVA(p), IPA(p, g + 1), 0x1000,
							PT_PROT_RW), 0);
			} else {
				assert_int_equal(pt_unmap(&e->s2, S2IPA(p), 0x1000, NULL), 0);
				xlate_inv_ipa(e->xc.cache, 2, S2IPA(p), 0x1000,
					      x & 1 ? XLATE_INV_LEAF : 0, x & 2 ? 3 : -1);
				if (!conservative) {
					if (x & 4)
						xlate_inv_vmid(e->xc.cache, 2);
					else
						xlate_inv_range(e->xc.cache, 2, XLATE_ANY_ASID, 0,
								1ULL << 48, 0, -1);
				}
				publish(&sh->dead[p], g + 1);
				assert_int_equal(pt_map(&e->s2, S2IPA(p),
							sh->pa2 + ((uint64_t)p * GENS2 +
								   (g + 1) % GENS2) * 0x1000,
							0x1000, PT_PROT_RW), 0);
			}
			publish(&sh->gen[p], g + 1);
			changes++;
		}
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < NREADERS; i++) {
		pthread_join(th[i], NULL);
		done += sh->done[i];
		ok += sh->ok[i];
		hits += sh->hits[i];
		undecided += sh->undecided[i];
	}
	xlate_cache_get_stats(e->xc.cache, &st);
	print_message("# %s%s: %lu changes, %lu translations (%lu translated, %lu IOTLB hits, "
		      "%lu undecided); IOTLB %llu fills %llu evictions %llu invalidated\n",
		      phase2 ? "stage-2 changes" : "stage-1 changes",
		      phase2 ? (conservative ? ", conservative" : ", IPA + VMID") : "", changes,
		      done, ok, hits, undecided, (unsigned long long)st.iotlb.fills,
		      (unsigned long long)st.iotlb.evictions,
		      (unsigned long long)st.iotlb.invalidated);
	if (sh->bad)
		fail_msg("%s", sh->msg);
	assert_true(changes > 100);
	assert_true(ok > 100);
	assert_true(hits > 0);
	xlate_cache_free(e->xc.cache);
	env_destroy(e);
	free(sh);
}

static void test_stress_stage1(void **state)
{
	run_phase(false, false);
}

static void test_stress_stage2(void **state)
{
	run_phase(true, false);
	run_phase(true, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_stage1),
		cmocka_unit_test(test_stress_stage2),
	};

	return cmocka_run_group_tests_name("cache_stress", tests, NULL, NULL);
}
