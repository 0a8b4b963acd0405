// SPDX-License-Identifier: MIT
/*
 * bench_nested - W5 of perf.md: the cost of a nested walk with no caches,
 * against the floor set by memory itself.
 *
 * Setup per configuration: 64 GiB of guest RAM (an arena reserved lazily,
 * so only table pages become resident), stage 2 mapping all of it with 4K
 * pages, and a guest stage 1 whose tables live in guest RAM mapping 16 GiB
 * of IOVA, 2 MiB at a time, to random places in guest RAM. Random IOVAs
 * over those 16 GiB then touch about 200 MiB of tables: far more than the
 * caches, so the walk is cold.
 *
 * Baseline, built in the same run over the same addresses: for each IOVA
 * the walk's descriptor addresses are recorded once (xlate with a record),
 * turned into host pointers, and the "raw chain" loads them in order, each
 * load's address depending on the previous value, exactly as the walk
 * must. The ratio xlate / raw chain is the engine's overhead over memory
 * latency (target <= 1.15 cold). The hot variants repeat 16 IOVAs, so
 * every load hits the L1 cache and the engine's own instructions show.
 *
 * Each line also reports "reads", the descriptors one translation reads,
 * counted by the engine (24 for 4 over 4, 19 for 4 over 3, 35 for 5 over 5).
 *
 * The "cached" variant is W5's "caches on, dependent cold": the same random
 * IOVAs, dependent, through the default caches (lib/xlate's
 * xlate_cache_params_default(): a 4096-entry IOTLB, 256-entry walk caches,
 * a 1024-entry IPA cache), warmed by one pass. 65536 random pages of 16 GiB
 * mostly miss the IOTLB, and the 8192 2 MiB regions outnumber the deepest
 * walk caches, so most walks resume higher up; "reads" is then the average
 * per translation over one untimed pass (target: <= 200 ns a translation).
 * There is no raw chain to compare with: the ratio is left out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "pt/pt.h"
#include "util/bits.h"
#include "xlate/xlate.h"

#define HBASE	   0x100000000ULL /* host "physical" memory starts at 4 GiB */
#define GRAM_SIZE  (64ULL << 30)  /* guest RAM: 64 GiB of GPA space */
#define IOVA_SIZE  (16ULL << 30)  /* stage 1 maps 16 GiB of IOVA */
#define S1_TABLES  (60ULL << 30)  /* stage-1 tables live in guest RAM from here */
#define N_IOVAS	   (1u << 16)
#define CHUNK	   (2ULL << 20)

/* The guest's view of its RAM: a port at GPA 0, tables from a bump allocator. */
struct guest {
	struct pt_mem mem;
	uint64_t next, limit;
};

static int guest_alloc_table(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
			     void **ptr)
{
	struct guest *g = container_of(mem, struct guest, mem);
	uint64_t sz = ALIGN_UP(size, 4096), off = ALIGN_UP(g->next, sz);

	if (off + sz > g->limit)
		return -ENOMEM;
	g->next = off + sz;
	*pa = off;
	*ptr = mem->region[0].host + off;
	memset(*ptr, 0, sz);
	return 0;
}

static void guest_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
}

struct setup {
	const char *name;
	struct pt_cfg s1c, s2c;
	struct pt_arena host;
	struct guest g;
	struct pt_table s1, s2;
	struct xlate_cfg xc;
	uint64_t *iova;
	const uint64_t **chain; /* N_IOVAS x reads host pointers */
	unsigned int reads;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed seed, so every run walks the same addresses. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static int build(struct setup *s)
{
	uint64_t gram_pa = HBASE;
	int ret;

	ret = pt_cfg_init(&s->s1c);
	if (!ret)
		ret = pt_cfg_init(&s->s2c);
	if (ret)
		return ret;
	/* Guest RAM first, stage-2 tables after it. */
	ret = pt_arena_init(&s->host, HBASE, GRAM_SIZE + (1ULL << 30));
	if (ret)
		return ret;
	ret = pt_arena_reserve(&s->host, gram_pa, GRAM_SIZE);
	if (!ret)
		ret = pt_table_init(&s->s2, &s->s2c, &s->host.mem);
	if (!ret)
		ret = pt_map(&s->s2, 0, gram_pa, GRAM_SIZE, PT_PROT_RW);
	if (ret)
		return ret;

	s->g.mem.nr_regions = 1;
	s->g.mem.region[0] = (struct pt_mem_region){ .base = 0, .size = GRAM_SIZE,
						     .host = s->host.buf };
	s->g.mem.alloc_table = guest_alloc_table;
	s->g.mem.free_table = guest_free_table;
	s->g.next = S1_TABLES;
	s->g.limit = GRAM_SIZE;
	ret = pt_table_init(&s->s1, &s->s1c, &s->g.mem);
	for (uint64_t iova = 0; !ret && iova < IOVA_SIZE; iova += CHUNK) {
		uint64_t gpa = (rnd() % (S1_TABLES / CHUNK)) * CHUNK;

		ret = pt_map(&s->s1, iova, gpa, CHUNK, PT_PROT_RW);
	}
	if (ret)
		return ret;
	s->xc = (struct xlate_cfg){ .s1 = { &s->s1.cfg, s->s1.root },
				    .s2 = { &s->s2.cfg, s->s2.root },
				    .mem = &s->host.mem };

	/* The IOVAs, and for each the descriptor addresses its walk reads. */
	s->iova = malloc(N_IOVAS * sizeof(*s->iova));
	if (!s->iova)
		return -ENOMEM;
	for (unsigned int i = 0; i < N_IOVAS; i++) {
		struct xlate_record rec;
		struct xlate_result res;
		struct xlate_fault f;

		s->iova[i] = (rnd() % IOVA_SIZE) & ~7ULL;
		if (xlate(&s->xc, s->iova[i], PT_PROT_R, &res, &f, &rec) != PT_OK)
			return -EFAULT;
		if (i == 0) {
			s->reads = rec.n;
			s->chain = malloc((size_t)N_IOVAS * rec.n * sizeof(*s->chain));
			if (!s->chain)
				return -ENOMEM;
		}
		if (rec.n != s->reads)
			return -EFAULT;
		for (unsigned int k = 0; k < rec.n; k++)
			s->chain[(size_t)i * rec.n + k] = pt_mem_ptr(&s->host.mem, rec.r[k].addr, 8);
	}
	return 0;
}

static void destroy(struct setup *s)
{
	free(s->iova);
	free((void *)s->chain);
	pt_table_destroy(&s->s1);
	pt_table_destroy(&s->s2);
	pt_arena_destroy(&s->host);
}

/* Opaque zero: the compiler cannot know it, so "v & zero" keeps the dependency. */
static volatile uint64_t opaque_zero;

static uint64_t raw_chain(const struct setup *s, unsigned int first, unsigned int n,
			  unsigned int mask)
{
	uint64_t v = 0, zero = opaque_zero;

	for (unsigned int j = 0; j < n; j++) {
		const uint64_t *const *p = &s->chain[(size_t)((first + j) & mask) * s->reads];

		for (unsigned int k = 0; k < s->reads; k++)
			v += *(const volatile uint64_t *)((uintptr_t)p[k] + (v & zero));
	}
	return v;
}

static uint64_t walk(const struct setup *s, unsigned int first, unsigned int n,
		     unsigned int mask)
{
	uint64_t v = 0, zero = opaque_zero;
	struct xlate_result res;

	for (unsigned int j = 0; j < n; j++) {
		/* Dependent like the chain: the next walk starts after this one ends. */
		xlate(&s->xc, s->iova[(first + j) & mask] + (v & zero), PT_PROT_R, &res, NULL,
		      NULL);
		v += res.pa;
	}
	return v;
}

/*
 * Time the walk and the raw chain in alternating batches over the same
 * IOVAs, so that both see the same machine state (caches, TLB, frequency,
 * the other core's load) and neither pays for going first.
 */
static void measure_pair(const struct setup *s, unsigned int mask, unsigned int batch,
			 unsigned int nsamples, struct bench_stats *ours, struct bench_stats *raw)
{
	double *vw = malloc(nsamples * sizeof(*vw)), *vr = malloc(nsamples * sizeof(*vr));
	unsigned int pos = 0;

	for (unsigned int i = 0; i < 4; i++) { /* warm up */
		bench_keep(walk(s, pos, batch, mask));
		bench_keep(raw_chain(s, pos, batch, mask));
		pos += batch;
	}
	for (unsigned int i = 0; i < nsamples; i++) {
		uint64_t t0 = bench_ticks(), t1, t2;

		bench_keep(walk(s, pos, batch, mask));
		t1 = bench_ticks();
		bench_keep(raw_chain(s, pos + batch, batch, mask));
		t2 = bench_ticks();
		vw[i] = bench_ns(t1 - t0) / batch;
		vr[i] = bench_ns(t2 - t1) / batch;
		pos += 2 * batch;
	}
	bench_stats(vw, nsamples, ours);
	bench_stats(vr, nsamples, raw);
	free(vw);
	free(vr);
}

static void report(const struct setup *s, const char *variant, const struct bench_stats *ours,
		   const struct bench_stats *raw)
{
	struct bench_json j;

	bj_begin(&j, "nested_walk");
	bj_param_str(&j, "config", s->name);
	bj_param_str(&j, "variant", variant);
	bj_param_u64(&j, "iova_bytes", IOVA_SIZE);
	bj_param_u64(&j, "gpa_bytes", GRAM_SIZE);
	bj_stats(&j, ours);
	bj_u64(&j, "reads", s->reads);
	bj_f(&j, "raw_chain_ns_p50", raw->p50);
	bj_f(&j, "raw_chain_ns_p99", raw->p99);
	bj_f(&j, "ratio_vs_raw", ours->p50 / raw->p50);
	bj_u64(&j, "table_bytes", s->s1.table_bytes + s->s2.table_bytes);
	bj_end(&j);
}

/* The cached variant: time the walks alone; the reads are an average, counted apart. */
static void run_cached(struct setup *s, unsigned int nsamples)
{
	struct xlate_cache_params p;
	struct xlate_cache *cache;
	struct xlate_record *rec = malloc(sizeof(*rec));
	double *v = malloc(nsamples * sizeof(*v)), reads = 0;
	struct bench_stats st;
	struct bench_json j;
	unsigned int pos = 0;

	xlate_cache_params_default(&p);
	if (!rec || !v || xlate_cache_new(&p, &cache)) {
		fprintf(stderr, "bench_nested: %s: no cache\n", s->name);
		free(rec);
		free(v);
		return;
	}
	s->xc.cache = cache;
	bench_keep(walk(s, 0, N_IOVAS, N_IOVAS - 1)); /* warm: tables and caches */
	for (unsigned int i = 0; i < N_IOVAS; i++) {
		xlate(&s->xc, s->iova[i], PT_PROT_R, NULL, NULL, rec);
		reads += rec->n;
	}
	for (unsigned int i = 0; i < nsamples; i++, pos += 16) {
		uint64_t t0 = bench_ticks();

		bench_keep(walk(s, pos, 16, N_IOVAS - 1));
		v[i] = bench_ns(bench_ticks() - t0) / 16;
	}
	bench_stats(v, nsamples, &st);
	bj_begin(&j, "nested_walk");
	bj_param_str(&j, "config", s->name);
	bj_param_str(&j, "variant", "cached");
	bj_param_u64(&j, "iova_bytes", IOVA_SIZE);
	bj_param_u64(&j, "gpa_bytes", GRAM_SIZE);
	bj_stats(&j, &st);
	bj_f(&j, "reads_per_translation", reads / N_IOVAS);
	bj_u64(&j, "uncached_reads", s->reads);
	bj_end(&j);
	s->xc.cache = NULL;
	xlate_cache_free(cache);
	free(rec);
	free(v);
}

static bool want(const struct setup *s, const char *variant)
{
	char desc[128];

	snprintf(desc, sizeof(desc), "%s %s", s->name, variant);
	return bench_want(desc);
}

static void run_setup(struct setup *s)
{
	struct bench_stats ours, raw;
	unsigned int samples = bench_samples(2000, 50);
	int ret;

	if (!want(s, "cold") && !want(s, "hot") && !want(s, "cached"))
		return;
	ret = build(s);
	if (ret) {
		fprintf(stderr, "bench_nested: %s: setup failed: %s\n", s->name, strerror(-ret));
		destroy(s);
		return;
	}
	/* Cold: every walk a new random IOVA over 16 GiB. */
	if (want(s, "cold")) {
		measure_pair(s, N_IOVAS - 1, 16, samples, &ours, &raw);
		report(s, "cold", &ours, &raw);
	}
	/* Hot: 16 IOVAs over and over; every descriptor is in the L1 cache. */
	if (want(s, "hot")) {
		measure_pair(s, 15, 64, samples * 4, &ours, &raw);
		report(s, "hot", &ours, &raw);
	}
	/* Cached: the same cold IOVAs through the default caches. */
	if (want(s, "cached"))
		run_cached(s, samples);
	destroy(s);
}

int main(int argc, char **argv)
{
	static struct setup setups[] = {
		{ .name = "vmsa4k-s1-4lvl-over-s2-4lvl",
		  .s1c = { .format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48,
			   .flags = PT_CFG_NO_BLOCKS },
		  .s2c = { .format = PT_VMSA_S2, .granule_shift = 12, .ias = 48, .oas = 48,
			   .sl0 = 2, .flags = PT_CFG_NO_BLOCKS } },
		{ .name = "vmsa4k-s1-4lvl-over-s2-3lvl-concat",
		  .s1c = { .format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48,
			   .flags = PT_CFG_NO_BLOCKS },
		  .s2c = { .format = PT_VMSA_S2, .granule_shift = 12, .ias = 40, .oas = 48,
			   .sl0 = 1, .flags = PT_CFG_NO_BLOCKS } },
		{ .name = "x86-5lvl-over-vtdss-5lvl",
		  .s1c = { .format = PT_X86, .granule_shift = 12, .ias = 57, .oas = 52,
			   .flags = PT_CFG_NO_BLOCKS },
		  .s2c = { .format = PT_VTD_SS, .granule_shift = 12, .ias = 57, .oas = 52,
			   .flags = PT_CFG_NO_BLOCKS } },
	};

	bench_init(argc, argv, "bench_nested");
	for (unsigned int i = 0; i < ARRAY_SIZE(setups); i++)
		run_setup(&setups[i]);
	return 0;
}
