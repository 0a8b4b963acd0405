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
 * Leaf phases change only leaves in tables that stay linked (each 2 MiB
 * region keeps a pinned page): phase "stage 1" changes stage 1 (nested,
 * VMSA over VMSA); phase "stage 2" changes stage 2 under a fixed stage 1
 * (with the architectural invalidation pair, or the conservative option).
 *
 * Table phases free tables under the readers: each page sits alone in its
 * own 1 GiB, and the writer unmaps the page, its 2 MiB or its 1 GiB, so
 * that unmap frees the page's last-level and next-level tables (pruned on
 * the way up, or unlinked whole and reclaimed), then maps it again, which
 * takes tables from the port, reused after their grace period
 * (util/epoch.h). Stage-1 tables come from an arena in guest RAM, stage-2
 * tables from the host arena, and the host-port phase builds a stage-1-only
 * context over pt_mem_host (2 MiB chunks, free lists). The writer brackets
 * unmap + invalidation with epoch_hold() / epoch_release(): until the
 * invalidation, the walk caches still name the freed tables. Every
 * invalidation is a non-leaf one (the walk-cache entries must go). Each
 * phase maps and frees several times as many tables as its port has, so
 * tables are reused. Under ASan a walker that reads a table after its
 * grace period is a use after poison (the ports poison free table memory);
 * under TSan a reuse not ordered after a walk's reads is a race.
 *
 * Each phase runs for UIOMMU_STRESS_MS milliseconds (default 700), so the
 * whole also fits under ThreadSanitizer.
 */
#include "xlate_env.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/epoch.h"
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
/* Table phases: page p alone in its own GiB (stage-1 IOVA, or stage-2 IPA). */
#define NPT	  12
#define TIOVA(p)  (((uint64_t)(p) + 1) << 30 | (uint64_t)((p) % 5) * 0x201000)
#define TS2IPA(q) (((uint64_t)(q) + 16) << 30 | (uint64_t)((q) % 3) * 0x203000)

enum mode {
	M_S1_LEAF,   /* stage-1 leaves */
	M_S2_LEAF,   /* stage-2 leaves */
	M_S1_TABLES, /* stage-1 subtrees (guest arena) */
	M_S2_TABLES, /* stage-2 subtrees (host arena) */
	M_HOST,	     /* stage-1-only subtrees over pt_mem_host */
};

static const char *const mode_name[] = {
	[M_S1_LEAF] = "stage-1 changes",
	[M_S2_LEAF] = "stage-2 changes",
	[M_S1_TABLES] = "stage-1 tables freed",
	[M_S2_TABLES] = "stage-2 tables freed",
	[M_HOST] = "host-port tables freed",
};

struct shared {
	struct env e;
	struct pt_table host; /* M_HOST: the table over pt_mem_host */
	struct xlate_cfg xc;  /* the readers' view */
	enum mode mode;
	unsigned int np, gens;
	uint64_t pa2;	      /* stage-2 changes: PA slots, np * GENS2 pages */
	uint64_t dead[NP], gen[NP];
	int stop;
	/* per reader */
	unsigned long done[NREADERS], ok[NREADERS], hits[NREADERS], undecided[NREADERS];
	int bad;
	char msg[256];
};

static bool s2_mode(enum mode m)
{
	return m == M_S2_LEAF || m == M_S2_TABLES;
}

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

/* The IOVA a reader translates for page @p. */
static uint64_t page_iova(const struct shared *sh, unsigned int p)
{
	switch (sh->mode) {
	case M_S1_TABLES:
	case M_HOST:
		return TIOVA(p);
	default:
		return IOVA(p);
	}
}

/* Which generation (mod gens) a result is of, for page @p; -1 if not one of @p's. */
static long result_gen(const struct shared *sh, unsigned int p, const struct xlate_result *res)
{
	if (!s2_mode(sh->mode)) {
		uint64_t slot = (res->ipa - WIN) >> 12;

		if (res->ipa < WIN || slot / GENS != p)
			return -1;
		/* Stage 2 maps the window onto data in 2 MiB blocks; none in M_HOST. */
		if (res->pa != (sh->mode == M_HOST ? res->ipa
						   : sh->e.data_pa + (res->ipa & 0x1fffff)))
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
	unsigned int id = ra->id, np = sh->np, gens = sh->gens;
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
		iova = page_iova(sh, p) + (s2_mode(sh->mode) ? 0 : (x >> 40) % 0x1000);
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

static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The stage-1 invalidation after unmapping page @p (its L3 table stays: leaf change). */
static void inv_s1(struct xlate_cache *c, uint64_t *x, unsigned int p)
{
	switch (next(x) % 10) {
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

/*
 * Unmap @in (a page alone in its GiB) from @t as the page, its 2 MiB or
 * its GiB: the tables below the GiB go (pruned, or unlinked whole).
 * Returns the size of the range unmapped.
 */
static uint64_t unmap_subtree(struct pt_table *t, uint64_t in, uint64_t *x)
{
	static const uint64_t sizes[] = { 0x1000, 0x200000, 0x40000000 };
	uint64_t size = sizes[next(x) % 3];

	assert_int_equal(pt_unmap(t, in & ~(size - 1), size, NULL), 0);
	return size;
}

/* A non-leaf stage-1 invalidation that covers @iova's walk-cache entries. */
static void inv_s1_tables(struct xlate_cache *c, uint64_t *x, uint64_t iova, uint64_t size)
{
	switch (next(x) % 6) {
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
		xlate_inv_range(c, 2, XLATE_ANY_ASID, iova & ~0xfffULL, 0x1000, 0, -1);
		break;
	default:
		xlate_inv_range(c, 2, 7, iova & ~(size - 1), size, 0, -1);
		break;
	}
}

/* Stage 2 after an IPA unmap: the IPA invalidation, then (architecturally) stage 1. */
static void inv_s2(struct xlate_cache *c, uint64_t *x, uint64_t ipa, uint64_t size,
		   bool leaf_ok, bool conservative)
{
	unsigned int flags = leaf_ok && (*x & 1) ? XLATE_INV_LEAF : 0;

	xlate_inv_ipa(c, 2, ipa, size, flags, leaf_ok && (*x & 2) ? 3 : -1);
	if (!conservative) {
		if (*x & 4)
			xlate_inv_vmid(c, 2);
		else
			xlate_inv_range(c, 2, XLATE_ANY_ASID, 0, 1ULL << 48, 0, -1);
	}
	next(x);
}

static void setup(struct shared *sh, bool conservative)
{
	struct pt_cfg s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, 0);
	struct xlate_cache_params prm;
	struct env *e = &sh->e;
	enum mode m = sh->mode;

	env_init_sized(e, m == M_HOST ? NULL : &s1c, &s2c, 0x2000000, 0x400000);
	xlate_cache_params_default(&prm);
	prm.ipa_inval_conservative = conservative;
	/*
	 * Small enough that fills evict all the time; in phase 2 an IOTLB
	 * smaller than the pages, so that walks through the IPA cache (the
	 * stage-2 state that changes) and their IOTLB fills are frequent; in
	 * the table phases too, so that most translations walk the tables
	 * being freed.
	 */
	prm.iotlb = (struct xlate_cache_geom){ m == M_S1_LEAF ? 64 : 4, 4 };
	prm.ipa = (struct xlate_cache_geom){ 32, 4 };
	prm.walk[0] = prm.walk[1] = (struct xlate_cache_geom){ 16, 4 };
	assert_int_equal(xlate_cache_new(&prm, &e->xc.cache), 0);
	e->xc.tag = (struct xlate_tag){ .vmid = 2, .asid = 7 };
	sh->xc = e->xc;
	sh->np = s2_mode(m) ? NP2 : NP;
	sh->gens = s2_mode(m) ? GENS2 : GENS;
	if (m == M_S1_TABLES || m == M_S2_TABLES || m == M_HOST)
		sh->np = NPT;

	switch (m) {
	case M_S1_LEAF:
	case M_S1_TABLES:
		if (m == M_S1_LEAF)
			for (unsigned int r = 0; r < 2; r++)
				assert_int_equal(pt_map(&e->s1, PIN(r), e->data_ipa, 0x1000,
							PT_PROT_R), 0);
		/* Stage 2: the IPA window in 2M blocks, all onto the same 2M of data. */
		for (uint64_t b = 0; b < (uint64_t)NP * GENS * 0x1000; b += 0x200000)
			assert_int_equal(pt_map(&e->s2, WIN + b, e->data_pa, 0x200000,
						PT_PROT_RW), 0);
		for (unsigned int p = 0; p < sh->np; p++)
			assert_int_equal(pt_map(&e->s1, page_iova(sh, p), IPA(p, 0), 0x1000,
						PT_PROT_RW), 0);
		break;
	case M_S2_LEAF:
	case M_S2_TABLES:
		/* Stage 1 fixed: page q -> its IPA; stage 2 moves that IPA among PA slots. */
		sh->pa2 = HBASE + 0x400000;
		assert_int_equal(pt_arena_reserve(&e->host, sh->pa2,
						  (uint64_t)sh->np * GENS2 * 0x1000), 0);
		for (unsigned int r = 0; m == M_S2_LEAF && r < 2; r++)
			assert_int_equal(pt_map(&e->s1, PIN(r), e->data_ipa, 0x1000, PT_PROT_R),
					 0);
		if (m == M_S2_LEAF) /* keeps the stage-2 L3 table */
			assert_int_equal(pt_map(&e->s2, S2IPA(0) + 0x100000, e->data_pa, 0x1000,
						PT_PROT_R), 0);
		for (unsigned int q = 0; q < sh->np; q++) {
			uint64_t ipa = m == M_S2_LEAF ? S2IPA(q) : TS2IPA(q);

			assert_int_equal(pt_map(&e->s2, ipa, sh->pa2 + (uint64_t)q * GENS2 * 0x1000,
						0x1000, PT_PROT_RW), 0);
			assert_int_equal(pt_map(&e->s1, IOVA(q), ipa, 0x1000, PT_PROT_RW), 0);
		}
		break;
	case M_HOST:
		/* One stage over the host's own memory: every table a 2 MiB chunk piece. */
		assert_int_equal(pt_table_init(&sh->host, &s1c, &pt_mem_host), 0);
		sh->xc.mem = &pt_mem_host;
		sh->xc.s1 = (struct xlate_stage){ &sh->host.cfg, sh->host.root };
		sh->xc.s2 = (struct xlate_stage){ NULL, 0 };
		for (unsigned int p = 0; p < sh->np; p++)
			assert_int_equal(pt_map(&sh->host, TIOVA(p), IPA(p, 0), 0x1000, PT_PROT_RW),
					 0);
		break;
	}
}

/*
 * Between unmap and invalidation, now and then, what another thread's
 * reclamation might do meanwhile: advance and run what is due. Held
 * tables are not due; without the hold they would be, and a walk through
 * a stale walk-cache entry would read a table already handed out again.
 */
static void others_poll(struct pt_table *t, uint64_t *x)
{
	uint64_t scratch = (uint64_t)(NPT + 24) << 30; /* a GiB of its own in either stage */

	if (next(x) % 4)
		return;
	epoch_poll();
	for (volatile int i = 0; i < 1000; i++) /* a window for walks through stale caches */
		;
	epoch_poll();
	/* And a map in between (an arena hands out what is due when it allocates). */
	assert_int_equal(pt_map(t, scratch, WIN, 0x1000, PT_PROT_R), 0);
	assert_int_equal(pt_unmap(t, scratch, 0x1000, NULL), 0);
}

/* One change of page @p to generation @g + 1. */
static void change(struct shared *sh, unsigned int p, uint64_t g, uint64_t *x, bool conservative)
{
	struct env *e = &sh->e;
	struct xlate_cache *c = e->xc.cache;
	uint64_t size;

	switch (sh->mode) {
	case M_S1_LEAF:
		assert_int_equal(pt_unmap(&e->s1, IOVA(p), 0x1000, NULL), 0);
		inv_s1(c, x, p);
		publish(&sh->dead[p], g + 1);
		assert_int_equal(pt_map(&e->s1, IOVA(p), IPA(p, g + 1), 0x1000, PT_PROT_RW), 0);
		break;
	case M_S2_LEAF:
		assert_int_equal(pt_unmap(&e->s2, S2IPA(p), 0x1000, NULL), 0);
		inv_s2(c, x, S2IPA(p), 0x1000, true, conservative);
		publish(&sh->dead[p], g + 1);
		assert_int_equal(pt_map(&e->s2, S2IPA(p),
					sh->pa2 + ((uint64_t)p * GENS2 + (g + 1) % GENS2) * 0x1000,
					0x1000, PT_PROT_RW), 0);
		break;
	case M_S1_TABLES:
	case M_HOST: {
		struct pt_table *t = sh->mode == M_HOST ? &sh->host : &e->s1;

		/* The walk caches name the freed tables until the invalidation. */
		epoch_hold();
		size = unmap_subtree(t, TIOVA(p), x);
		others_poll(t, x);
		inv_s1_tables(c, x, TIOVA(p), size);
		epoch_release();
		publish(&sh->dead[p], g + 1);
		assert_int_equal(pt_map(t, TIOVA(p), IPA(p, g + 1), 0x1000, PT_PROT_RW), 0);
		break;
	}
	case M_S2_TABLES:
		epoch_hold();
		size = unmap_subtree(&e->s2, TS2IPA(p), x);
		others_poll(&e->s2, x);
		inv_s2(c, x, TS2IPA(p) & ~(size - 1), size, false, conservative);
		epoch_release();
		publish(&sh->dead[p], g + 1);
		assert_int_equal(pt_map(&e->s2, TS2IPA(p),
					sh->pa2 + ((uint64_t)p * GENS2 + (g + 1) % GENS2) * 0x1000,
					0x1000, PT_PROT_RW), 0);
		break;
	}
}

static void run_phase(enum mode mode, bool conservative)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	struct reader_arg ra[NREADERS];
	pthread_t th[NREADERS];
	struct xlate_cache_stats st;
	unsigned long changes = 0, done = 0, ok = 0, hits = 0, undecided = 0;
	uint64_t x = 88172645463325252ULL, deadline;
	struct pt_table *t;

	assert_non_null(sh);
	sh->mode = mode;
	setup(sh, conservative);
	for (unsigned int i = 0; i < NREADERS; i++) {
		ra[i] = (struct reader_arg){ sh, i };
		assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
	}
	deadline = now_ms() + run_ms();
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) && now_ms() < deadline) {
		for (int k = 0; k < 64; k++) {
			unsigned int p = (unsigned int)(next(&x) % sh->np);
			uint64_t g = sh->gen[p];

			change(sh, p, g, &x, conservative);
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
	xlate_cache_get_stats(sh->e.xc.cache, &st);
	print_message("# %s%s: %lu changes, %lu translations (%lu translated, %lu IOTLB hits, "
		      "%lu undecided); IOTLB %llu fills %llu evictions %llu invalidated\n",
		      mode_name[mode],
		      mode == M_S2_LEAF || mode == M_S2_TABLES
			      ? (conservative ? ", conservative" : ", IPA + VMID")
			      : "",
		      changes, done, ok, hits, undecided, (unsigned long long)st.iotlb.fills,
		      (unsigned long long)st.iotlb.evictions,
		      (unsigned long long)st.iotlb.invalidated);
	if (sh->bad)
		fail_msg("%s", sh->msg);
	assert_true(changes > 100);
	assert_true(ok > 100);
	assert_true(hits > 0);
	/* The tables are as they should be, and with the readers gone nothing waits. */
	t = mode == M_HOST ? &sh->host : s2_mode(mode) ? &sh->e.s2 : &sh->e.s1;
	assert_int_equal(pt_table_check(t, stderr), 0);
	epoch_barrier();
	if (mode == M_S1_TABLES || mode == M_S2_TABLES) {
		struct pt_arena *a = mode == M_S1_TABLES ? &sh->e.g : &sh->e.host;

		assert_int_equal(a->tables_live, t->nr_tables);
		/* Two tables freed per change: more than the guest's arena holds, so reused. */
		if (mode == M_S1_TABLES)
			assert_true(2 * changes > a->nr_units);
	}
	if (mode == M_HOST)
		pt_table_destroy(&sh->host);
	xlate_cache_free(sh->e.xc.cache);
	env_destroy(&sh->e);
	free(sh);
}

static void test_stress_stage1(void **state)
{
	run_phase(M_S1_LEAF, false);
}

static void test_stress_stage2(void **state)
{
	run_phase(M_S2_LEAF, false);
	run_phase(M_S2_LEAF, true);
}

static void test_stress_tables_stage1(void **state)
{
	run_phase(M_S1_TABLES, false);
}

static void test_stress_tables_stage2(void **state)
{
	run_phase(M_S2_TABLES, false);
}

static void test_stress_tables_host(void **state)
{
	run_phase(M_HOST, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_stage1),
		cmocka_unit_test(test_stress_stage2),
		cmocka_unit_test(test_stress_tables_stage1),
		cmocka_unit_test(test_stress_tables_stage2),
		cmocka_unit_test(test_stress_tables_host),
	};

	return cmocka_run_group_tests_name("cache_stress", tests, NULL, NULL);
}
