// SPDX-License-Identifier: MIT
/*
 * bench_iotlb - W4 of perf.md: the IOTLB-hit translation, ours against a
 * QEMU-style GLib IOTLB built into the same binary.
 *
 * Setups (xsetup.h): stage 1 alone, stage 2 alone, and stage 1 over stage
 * 2, with a 4096-entry IOTLB (4-way, LRU, the other caches at their
 * defaults). Working sets of 64, 256, 1024 and 4096 distinct pages, drawn
 * at random from the 4K region ("4k") or half from it and half from the 2M
 * region ("mixed": one 4K page or one 2M block each), each address at a
 * random 8-byte offset in its page. A stream of 64K accesses picks from
 * the working set uniformly; every pass over it translates independent
 * addresses (throughput, not latency), and the working set is translated
 * twice before timing so that the IOTLB holds it.
 *
 * Variants, one JSON line each:
 *   single        one xlate() call a translation;
 *   batched16     xlate_batch() with 16 IOVAs a call (the IOTLB state of
 *                 the context is read once a batch);
 *   qemu_256      the QEMU-style IOTLB at QEMU's SMMUv3 capacity (256,
 *                 then flush-all): above 256 pages it misses, walks with
 *                 our uncached walker and reallocates;
 *   qemu_hitpath  the same with the capacity raised so that everything
 *                 hits: the cost of its lookup alone (the 4-level probe).
 * The "single" line carries speedup_vs_qemu = qemu_hitpath / ours (target
 * >= 8) and the hit rates of both over a measured pass. A 4-way IOTLB of
 * 4096 entries cannot hold every 4096-page working set without conflict
 * misses; its hit rate says how close it came.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "qemu_iotlb.h"
#include "util/bits.h"
#include "xsetup.h"

#define STREAM	   (1u << 16) /* accesses in the stream (a power of two) */
#define BATCH	   256	      /* translations a timed sample */
#define IOTLB_SIZE 4096

static const unsigned int working_sets[] = {64, 256, 1024, 4096};

struct work {
	struct xsetup *s;
	const char *leaves; /* "4k" or "mixed" */
	unsigned int ws;
	uint64_t *stream;
};

/* Distinct pages, half of them 2M blocks when mixed, in random order. */
static int make_stream(struct work *w, uint64_t *rng)
{
	uint64_t *pages = malloc(w->ws * sizeof(*pages));
	bool mixed = !strcmp(w->leaves, "mixed");

	w->stream = malloc(STREAM * sizeof(*w->stream));
	if (!pages || !w->stream) {
		free(pages);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < w->ws; i++) {
		bool big = mixed && (i & 1);
		uint64_t n = big ? XS_2M_BLOCKS : XS_4K_PAGES, a;
		bool dup;

		do {
			uint64_t idx = xs_rand(rng) % n;

			a = big ? xs_addr_2m(w->s, idx, 0) : xs_addr_4k(w->s, idx);
			dup = false;
			for (unsigned int j = 0; j < i && !dup; j++)
				dup = pages[j] == a;
		} while (dup);
		pages[i] = a;
	}
	for (unsigned int i = 0; i < STREAM; i++) {
		uint64_t a = pages[xs_rand(rng) % w->ws];
		bool big = (a - xs_addr_2m(w->s, 0, 0)) < (XS_2M_BLOCKS << 21);

		w->stream[i] = a + (xs_rand(rng) % ((big ? 2u << 20 : 4096u) / 8)) * 8;
	}
	/* The first pass must touch every page: put each one in once. */
	for (unsigned int i = 0; i < w->ws; i++)
		w->stream[i] = pages[i];
	free(pages);
	return 0;
}

static uint64_t ours(const struct xlate_cfg *xc, const uint64_t *stream, unsigned int pos,
		     unsigned int n)
{
	struct xlate_result res;
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		xlate(xc, stream[(pos + i) & (STREAM - 1)], PT_PROT_R, &res, NULL, NULL);
		v += res.pa;
	}
	return v;
}

static uint64_t ours16(const struct xlate_cfg *xc, const uint64_t *stream, unsigned int pos,
		       unsigned int n)
{
	struct xlate_result res[16];
	enum pt_fault_reason ret[16];
	uint64_t v = 0;

	/* @pos and @n are multiples of 16, so a batch never wraps the stream. */
	for (unsigned int i = 0; i < n; i += 16) {
		xlate_batch(xc, &stream[(pos + i) & (STREAM - 1)], 16, PT_PROT_R, res, NULL, ret);
		for (unsigned int k = 0; k < 16; k++)
			v += res[k].pa;
	}
	return v;
}

static uint64_t qemu(struct qiotlb *q, const struct xlate_cfg *xc, const uint64_t *stream,
		     unsigned int pos, unsigned int n)
{
	uint64_t v = 0, pa;
	bool hit;

	for (unsigned int i = 0; i < n; i++) {
		qiotlb_translate(q, xc, stream[(pos + i) & (STREAM - 1)], PT_PROT_R, &pa, &hit);
		v += pa;
	}
	return v;
}

enum variant { V_SINGLE, V_BATCH16, V_QEMU };

/* Time BATCH-translation samples of one variant. */
static void measure(enum variant v, const struct xlate_cfg *xc, struct qiotlb *q,
		    const uint64_t *stream, struct bench_stats *st)
{
	unsigned int nsamples, pos = 0;
	double *ns;
	uint64_t t0, t1;

	t0 = bench_ticks();
	for (unsigned int i = 0; i < 8; i++, pos += BATCH) /* warm-up, and an estimate */
		bench_keep(v == V_QEMU	   ? qemu(q, xc, stream, pos, BATCH)
			   : v == V_SINGLE ? ours(xc, stream, pos, BATCH)
					   : ours16(xc, stream, pos, BATCH));
	t1 = bench_ticks();
	nsamples = bench_samples_for(bench_ns(t1 - t0) / 8, 200, 4000);
	ns = malloc(nsamples * sizeof(*ns));
	if (!ns) {
		memset(st, 0, sizeof(*st));
		return;
	}
	for (unsigned int i = 0; i < nsamples; i++, pos += BATCH) {
		t0 = bench_ticks();
		bench_keep(v == V_QEMU	   ? qemu(q, xc, stream, pos, BATCH)
			   : v == V_SINGLE ? ours(xc, stream, pos, BATCH)
					   : ours16(xc, stream, pos, BATCH));
		t1 = bench_ticks();
		ns[i] = bench_ns(t1 - t0) / BATCH;
	}
	bench_stats(ns, nsamples, st);
	free(ns);
}

static void begin(struct bench_json *j, const struct work *w, const char *variant)
{
	bj_begin(j, "iotlb_hit");
	bj_param_str(j, "mode", xs_mode_name(w->s->mode));
	bj_param_str(j, "leaves", w->leaves);
	bj_param_u64(j, "working_set", w->ws);
	bj_param_str(j, "variant", variant);
}

static bool want(const struct work *w, const char *variant)
{
	char desc[128];

	snprintf(desc, sizeof(desc), "%s %s ws%u %s", xs_mode_name(w->s->mode), w->leaves, w->ws,
		 variant);
	return bench_want(desc);
}

/* The QEMU-style variants; returns the hit-path p50 (0 when not run). */
static double run_qemu(struct work *w, struct xlate_cfg *nocache, unsigned int capacity,
		       const char *variant)
{
	struct qiotlb *q;
	struct qiotlb_stats qs;
	struct bench_stats st;
	struct bench_json j;

	if (!want(w, variant))
		return 0;
	q = qiotlb_new(capacity, xs_input_cfg(w->s));
	if (!q)
		return 0;
	bench_keep(qemu(q, nocache, w->stream, 0, STREAM)); /* fill */
	qiotlb_reset_stats(q);
	bench_keep(qemu(q, nocache, w->stream, 0, STREAM));
	qiotlb_get_stats(q, &qs);
	measure(V_QEMU, nocache, q, w->stream, &st);
	begin(&j, w, variant);
	bj_param_u64(&j, "capacity", capacity);
	bj_stats(&j, &st);
	bj_f(&j, "hit_rate", (double)qs.hits / (double)(qs.hits + qs.misses));
	bj_f(&j, "probes_per_translation", (double)qs.probes / (double)(qs.hits + qs.misses));
	bj_u64(&j, "flushes_per_64k", qs.flushes);
	bj_end(&j);
	qiotlb_free(q);
	return st.p50;
}

static void run_ours(struct work *w, struct xlate_cache *cache, double qemu_hit, double qemu_256)
{
	struct xlate_cfg xc = w->s->xc;
	struct xlate_cache_stats cs;
	struct bench_stats st;
	struct bench_json j;

	xc.cache = cache;
	xlate_inv_all(cache);
	bench_keep(ours(&xc, w->stream, 0, STREAM)); /* fill */
	xlate_cache_reset_stats(cache);
	bench_keep(ours(&xc, w->stream, 0, STREAM));
	xlate_cache_get_stats(cache, &cs);
	if (want(w, "single")) {
		measure(V_SINGLE, &xc, NULL, w->stream, &st);
		begin(&j, w, "single");
		bj_param_u64(&j, "iotlb_entries", IOTLB_SIZE);
		bj_stats(&j, &st);
		bj_f(&j, "hit_rate",
		     (double)cs.iotlb.hits / (double)(cs.iotlb.hits + cs.iotlb.misses));
		if (qemu_hit > 0) {
			bj_f(&j, "qemu_hitpath_ns_p50", qemu_hit);
			bj_f(&j, "speedup_vs_qemu", qemu_hit / st.p50);
			bj_f(&j, "ratio_vs_qemu", st.p50 / qemu_hit);
		}
		if (qemu_256 > 0)
			bj_f(&j, "speedup_vs_qemu_256", qemu_256 / st.p50);
		bj_end(&j);
	}
	if (want(w, "batched16")) {
		measure(V_BATCH16, &xc, NULL, w->stream, &st);
		begin(&j, w, "batched16");
		bj_param_u64(&j, "iotlb_entries", IOTLB_SIZE);
		bj_param_str(&j, "api", "xlate_batch");
		bj_stats(&j, &st);
		bj_end(&j);
	}
}

int main(int argc, char **argv)
{
	static const char *const mixes[] = {"4k", "mixed"};
	struct xlate_cache_params p;
	struct xlate_cache *cache = NULL;
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	int ret;

	bench_init(argc, argv, "bench_iotlb");
	xlate_cache_params_default(&p);
	p.iotlb = (struct xlate_cache_geom){IOTLB_SIZE, 4};
	p.repl = XLATE_REPL_LRU;
	ret = xlate_cache_new(&p, &cache);
	if (ret)
		fprintf(stderr,
			"bench_iotlb: cannot create the caches (%s): only the QEMU-style "
			"baseline runs\n",
			strerror(-ret));

	for (enum xs_mode m = XS_S1; m <= XS_NESTED; m++) {
		struct xsetup s;
		struct xlate_cfg nocache;

		ret = xs_build(&s, m);
		if (ret) {
			fprintf(stderr, "bench_iotlb: %s: setup failed: %s\n", xs_mode_name(m),
				strerror(-ret));
			xs_destroy(&s);
			continue;
		}
		nocache = s.xc;
		for (unsigned int x = 0; x < ARRAY_SIZE(mixes); x++) {
			for (unsigned int i = 0; i < ARRAY_SIZE(working_sets); i++) {
				struct work w = {
					.s = &s, .leaves = mixes[x], .ws = working_sets[i]};
				double qh, q256;

				if (make_stream(&w, &rng)) {
					fprintf(stderr, "bench_iotlb: out of memory\n");
					return 1;
				}
				q256 = run_qemu(&w, &nocache, QEMU_SMMU_IOTLB_MAX, "qemu_256");
				qh = run_qemu(&w, &nocache, 1u << 20, "qemu_hitpath");
				if (cache)
					run_ours(&w, cache, qh, q256);
				free(w.stream);
			}
		}
		xs_destroy(&s);
	}
	xlate_cache_free(cache);
	return 0;
}
