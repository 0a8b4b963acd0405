// SPDX-License-Identifier: MIT
/*
 * bench_cache_sweep - W6 of perf.md: capacity and miss rates.
 *
 * Three parts, one JSON line per case:
 *
 * cache_capacity: translation time with a working set of 4x the IOTLB
 *   (4096 entries, 4-way LRU; default walk and IPA caches), uniform random
 *   over 16384 4K pages, against the hit path (1024 pages), stage 1 alone,
 *   stage 2 alone and nested (stage 2 in 4K pages, and again in 2M blocks:
 *   guest RAM on huge pages; the stage2_leaves parameter). throughput_vs_hit_path = hit
 *   ns / 4x ns (target >= 0.25: a miss must stay cheap, which is what the
 *   walk caches are for).
 *   reads_per_translation is counted in a separate, untimed pass.
 *
 * miss_rate_vs_lru: the IOTLB's miss rate on a stream of 4K pages against
 *   an exact, fully associative LRU cache of the same size simulated on the
 *   same stream, at 256, 1K, 4K, 16K and 64K entries (4-way), for three
 *   streams from tracegen.c: uniform random over 2x the size, Zipf (theta
 *   0.99) over 16x the size (at most the 256K pages of the 4K region), and
 *   a sequential loop over 3/4 of the size (which exact LRU holds after its
 *   first pass; a set-associative cache does too unless its index spreads
 *   consecutive pages unevenly). delta_points = ours - LRU in
 *   percentage points (target: within 2). qemu_flushall_miss_rate is what
 *   a cache of the same size that empties itself when full (QEMU's policy)
 *   would miss, simulated on the same stream. Counts, not time: the same on
 *   every machine.
 *
 * iotlb_2m_reach: a 1M-page (4 GiB) working set mapped with 2M leaves at
 *   both stages, random 4K pages of it, through a 4096-entry IOTLB: it
 *   needs 2048 entries, so it should hit >= 99% (compulsory misses
 *   included), stage 1 alone and nested.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "tracegen.h"
#include "util/bits.h"
#include "xsetup.h"

#define STREAM (1u << 16)
#define BATCH  256

/* ---------------------------------------------------------------------- */
/* Timing                                                                 */

static uint64_t run(const struct xlate_cfg *xc, const uint64_t *s, unsigned int mask,
		    unsigned int pos, unsigned int n)
{
	struct xlate_result res;
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		xlate(xc, s[(pos + i) & mask], PT_PROT_R, &res, NULL, NULL);
		v += res.pa;
	}
	return v;
}

static void measure(const struct xlate_cfg *xc, const uint64_t *s, unsigned int mask,
		    struct bench_stats *st)
{
	unsigned int nsamples, pos = 0;
	uint64_t t0, t1;
	double *ns;

	t0 = bench_ticks();
	for (unsigned int i = 0; i < 8; i++, pos += BATCH)
		bench_keep(run(xc, s, mask, pos, BATCH));
	t1 = bench_ticks();
	nsamples = bench_samples_for(bench_ns(t1 - t0) / 8, 200, 4000);
	ns = malloc(nsamples * sizeof(*ns));
	if (!ns) {
		memset(st, 0, sizeof(*st));
		return;
	}
	for (unsigned int i = 0; i < nsamples; i++, pos += BATCH) {
		t0 = bench_ticks();
		bench_keep(run(xc, s, mask, pos, BATCH));
		t1 = bench_ticks();
		ns[i] = bench_ns(t1 - t0) / BATCH;
	}
	bench_stats(ns, nsamples, st);
	free(ns);
}

/* Descriptor reads per translation over one pass of @n accesses (untimed). */
static double reads_per(const struct xlate_cfg *xc, const uint64_t *s, unsigned int n)
{
	struct xlate_record *rec = malloc(sizeof(*rec));
	uint64_t reads = 0;

	if (!rec)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		xlate(xc, s[i], PT_PROT_R, NULL, NULL, rec);
		reads += rec->n;
	}
	free(rec);
	return (double)reads / n;
}

static double iotlb_hit_rate(struct xlate_cache *c)
{
	struct xlate_cache_stats st;

	xlate_cache_get_stats(c, &st);
	return (double)st.iotlb.hits / (double)(st.iotlb.hits + st.iotlb.misses);
}

/* ---------------------------------------------------------------------- */
/* Capacity: 4x the IOTLB against the hit path                            */

static int new_cache(unsigned int iotlb, struct xlate_cache **c)
{
	struct xlate_cache_params p;

	xlate_cache_params_default(&p);
	p.iotlb = (struct xlate_cache_geom){iotlb, 4};
	p.repl = XLATE_REPL_LRU;
	return xlate_cache_new(&p, c);
}

/* @s2_2m: nested, the pages' IPAs mapped by stage 2 in 2M blocks (xs_addr_4k_s2_2m()). */
static void capacity(struct xsetup *s, bool s2_2m)
{
	const unsigned int entries = 4096;
	uint64_t *hot = malloc(STREAM * sizeof(*hot)), *big = malloc(STREAM * sizeof(*big));
	uint64_t rng = 42;
	struct xlate_cache *cache;
	struct xlate_cfg xc = s->xc;
	struct bench_stats hit, wide;
	struct bench_json j;
	double hr, rp;
	char desc[64];

	snprintf(desc, sizeof(desc), "capacity %s%s", xs_mode_name(s->mode), s2_2m ? " s2_2m" : "");
	if (!bench_want(desc) || !hot || !big || new_cache(entries, &cache)) {
		free(hot);
		free(big);
		return;
	}
	for (unsigned int i = 0; i < STREAM; i++) {
		uint64_t h = xs_rand(&rng) % (entries / 4), b = xs_rand(&rng) % (entries * 4);

		hot[i] = s2_2m ? xs_addr_4k_s2_2m(s, h) : xs_addr_4k(s, h);
		big[i] = s2_2m ? xs_addr_4k_s2_2m(s, b) : xs_addr_4k(s, b);
	}
	xc.cache = cache;
	bench_keep(run(&xc, hot, STREAM - 1, 0, STREAM));
	measure(&xc, hot, STREAM - 1, &hit);

	xlate_inv_all(cache);
	bench_keep(run(&xc, big, STREAM - 1, 0, STREAM));
	bench_keep(run(&xc, big, STREAM - 1, 0, STREAM)); /* warm: the tables, the caches */
	rp = reads_per(&xc, big, STREAM);
	xlate_cache_reset_stats(cache);
	measure(&xc, big, STREAM - 1, &wide);
	hr = iotlb_hit_rate(cache);

	bj_begin(&j, "cache_capacity");
	bj_param_str(&j, "mode", xs_mode_name(s->mode));
	bj_param_str(&j, "stage2_leaves", s->mode == XS_S1 ? "none" : s2_2m ? "2M" : "4K");
	bj_param_u64(&j, "iotlb_entries", entries);
	bj_param_u64(&j, "working_set", entries * 4);
	bj_stats(&j, &wide);
	bj_f(&j, "hit_rate", hr);
	bj_f(&j, "reads_per_translation", rp);
	bj_f(&j, "hit_path_ns_p50", hit.p50);
	bj_f(&j, "throughput_vs_hit_path", hit.p50 / wide.p50);
	bj_end(&j);
	xlate_cache_free(cache);
	free(hot);
	free(big);
}

/* ---------------------------------------------------------------------- */
/* Miss rates against exact LRU                                           */

/* Fully associative LRU over page numbers < npages: an array-linked list. */
struct lru {
	uint32_t *prev, *next;
	uint8_t *in;
	uint32_t head, tail, count, cap;
};

#define NIL UINT32_MAX

static int lru_init(struct lru *l, uint32_t npages, uint32_t cap)
{
	l->prev = malloc(npages * sizeof(*l->prev));
	l->next = malloc(npages * sizeof(*l->next));
	l->in = calloc(npages, 1);
	l->head = l->tail = NIL;
	l->count = 0;
	l->cap = cap;
	return l->prev && l->next && l->in ? 0 : -ENOMEM;
}

static void lru_free(struct lru *l)
{
	free(l->prev);
	free(l->next);
	free(l->in);
}

static void lru_unlink(struct lru *l, uint32_t p)
{
	if (l->prev[p] != NIL)
		l->next[l->prev[p]] = l->next[p];
	else
		l->head = l->next[p];
	if (l->next[p] != NIL)
		l->prev[l->next[p]] = l->prev[p];
	else
		l->tail = l->prev[p];
}

static void lru_push(struct lru *l, uint32_t p)
{
	l->prev[p] = NIL;
	l->next[p] = l->head;
	if (l->head != NIL)
		l->prev[l->head] = p;
	l->head = p;
	if (l->tail == NIL)
		l->tail = p;
}

/* True on a hit. */
static bool lru_access(struct lru *l, uint32_t p)
{
	if (l->in[p]) {
		lru_unlink(l, p);
		lru_push(l, p);
		return true;
	}
	if (l->count == l->cap) {
		uint32_t victim = l->tail;

		lru_unlink(l, victim);
		l->in[victim] = 0;
		l->count--;
	}
	lru_push(l, p);
	l->in[p] = 1;
	l->count++;
	return false;
}

/* A cache that empties itself when full: page -> generation it was filled in. */
static uint64_t flushall_misses(const uint32_t *pages, unsigned int n, uint32_t npages,
				uint32_t cap)
{
	uint32_t *gen = calloc(npages, sizeof(*gen)), g = 1, count = 0;
	uint64_t misses = 0;

	if (!gen)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		if (gen[pages[i]] == g)
			continue;
		misses++;
		if (count == cap) {
			g++;
			count = 0;
		}
		gen[pages[i]] = g;
		count++;
	}
	free(gen);
	return misses;
}

static void miss_rates(struct xsetup *s)
{
	static const unsigned int sizes[] = {256, 1024, 4096, 16384, 65536};
	static const char *const kinds[] = {"random", "zipfian", "sequential"};

	for (unsigned int si = 0; si < ARRAY_SIZE(sizes); si++) {
		for (unsigned int k = 0; k < ARRAY_SIZE(kinds); k++) {
			unsigned int size = sizes[si];
			uint64_t npages = k == 0   ? 2ULL * size
					  : k == 1 ? MIN(16ULL * size, XS_4K_PAGES)
						   : 3ULL * size / 4;
			unsigned int n =
				(unsigned int)MIN(MAX(32ULL * size, 1ULL << 20), 2ULL << 20);
			uint32_t *pages = malloc(n * sizeof(*pages));
			uint64_t *addr = malloc(n * sizeof(*addr)), lru_miss = 0;
			struct xlate_cache *cache;
			struct xlate_cfg xc = s->xc;
			struct tg_stream st;
			struct bench_json j;
			struct lru l;
			double ours, theirs;
			char desc[64];
			bool w;

			snprintf(desc, sizeof(desc), "lru %s %u", kinds[k], size);
			if (!bench_want(desc) || !pages || !addr ||
			    lru_init(&l, (uint32_t)npages, size)) {
				free(pages);
				free(addr);
				continue;
			}
			tg_stream_init(&st, (enum tg_kind)tg_kind_parse(kinds[k]), npages, 0.99,
				       1000 + size, 0);
			for (unsigned int i = 0; i < n; i++) {
				pages[i] = (uint32_t)tg_stream_next(&st, &w);
				addr[i] = xs_addr_4k(s, pages[i]);
				lru_miss += !lru_access(&l, pages[i]);
			}
			if (new_cache(size, &cache)) {
				lru_free(&l);
				free(pages);
				free(addr);
				continue;
			}
			xc.cache = cache;
			for (unsigned int i = 0; i < n; i++)
				xlate(&xc, addr[i], PT_PROT_R, NULL, NULL, NULL);
			ours = 100 * (1 - iotlb_hit_rate(cache));
			theirs = 100.0 * (double)lru_miss / n;

			bj_begin(&j, "miss_rate_vs_lru");
			bj_param_str(&j, "stream", kinds[k]);
			bj_param_u64(&j, "iotlb_entries", size);
			bj_param_u64(&j, "ways", 4);
			bj_param_u64(&j, "pages", npages);
			bj_param_u64(&j, "accesses", n);
			bj_f(&j, "miss_rate_pct", ours);
			bj_f(&j, "lru_miss_rate_pct", theirs);
			bj_f(&j, "delta_points", ours - theirs);
			bj_f(&j, "qemu_flushall_miss_rate_pct",
			     100.0 * (double)flushall_misses(pages, n, (uint32_t)npages, size) / n);
			bj_end(&j);
			xlate_cache_free(cache);
			lru_free(&l);
			free(pages);
			free(addr);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* 2M leaves: a 1M-page working set in a 4K-entry IOTLB                   */

static void reach_2m(struct xsetup *s)
{
	const unsigned int n = 1u << 20;
	uint64_t *addr = malloc(n * sizeof(*addr)), rng = 7;
	struct xlate_cache *cache;
	struct xlate_cfg xc = s->xc;
	struct bench_stats st;
	struct bench_json j;
	double hr;
	char desc[64];

	snprintf(desc, sizeof(desc), "reach2m %s", xs_mode_name(s->mode));
	if (!bench_want(desc) || !addr || new_cache(4096, &cache)) {
		free(addr);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t page = xs_rand(&rng) % (XS_2M_BLOCKS * 512);

		addr[i] = xs_addr_2m(s, page / 512, (page % 512) * 4096);
	}
	xc.cache = cache;
	for (unsigned int i = 0; i < n; i++) /* one pass, from empty: compulsory misses count */
		xlate(&xc, addr[i], PT_PROT_R, NULL, NULL, NULL);
	hr = iotlb_hit_rate(cache);
	measure(&xc, addr, n - 1, &st);

	bj_begin(&j, "iotlb_2m_reach");
	bj_param_str(&j, "mode", xs_mode_name(s->mode));
	bj_param_u64(&j, "iotlb_entries", 4096);
	bj_param_u64(&j, "working_set_pages", XS_2M_BLOCKS * 512);
	bj_param_u64(&j, "accesses", n);
	bj_stats(&j, &st);
	bj_f(&j, "hit_rate", hr);
	bj_end(&j);
	xlate_cache_free(cache);
	free(addr);
}

int main(int argc, char **argv)
{
	static const enum xs_mode modes[] = {XS_S1, XS_S2, XS_NESTED};
	struct xlate_cache *probe;
	int ret;

	bench_init(argc, argv, "bench_cache_sweep");
	ret = new_cache(4096, &probe);
	if (ret) {
		fprintf(stderr, "bench_cache_sweep: cannot create the caches (%s)\n",
			strerror(-ret));
		return 1;
	}
	xlate_cache_free(probe);
	for (unsigned int m = 0; m < ARRAY_SIZE(modes); m++) {
		struct xsetup s;

		ret = xs_build(&s, modes[m]);
		if (ret) {
			fprintf(stderr, "bench_cache_sweep: %s: setup failed: %s\n",
				xs_mode_name(modes[m]), strerror(-ret));
			xs_destroy(&s);
			continue;
		}
		capacity(&s, false);
		if (modes[m] == XS_NESTED)
			capacity(&s, true);
		if (modes[m] == XS_S1)
			miss_rates(&s); /* the IOTLB's content does not depend on the stages */
		reach_2m(&s);
		xs_destroy(&s);
	}
	return 0;
}
