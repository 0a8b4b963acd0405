// SPDX-License-Identifier: MIT
/*
 * bench_inval - W7 of perf.md: invalidation, the strict-mode loop, and
 * sequential streams.
 *
 * inval: each invalidation scope against a full cache. A nested setup
 *   (xsetup.h) with an IOTLB of 1K, 4K, 16K or 64K entries (4-way; walk and
 *   IPA caches at their defaults) is filled by translating as many
 *   consecutive 4K pages as the IOTLB has entries; then one operation is
 *   timed and what it removed is translated again (untimed) before the
 *   next sample, so every sample meets a full cache. Operations:
 *     page            one 4K page, no hints (TLBI VA)
 *     page_leaf_ttl3  the same with the leaf-only and TTL hints
 *     range_256       256 pages (1 MiB)
 *     range_64k       65536 pages (256 MiB)
 *     ipa_range_256   256 pages of IPA (TLBI IPAS2)
 *     asid, vmid, all the generation bumps, which must not grow with the
 *                     cache (target O(1), <= 100 ns)
 *   page (64 a sample) and range_256 (8 a sample) are timed in batches of
 *   distinct pages or ranges; the others one call a sample, with the
 *   clock's read-to-read cost (measured at start) taken off. The flushes
 *   are reported three times: the first call after a fill
 *   ("first_after_fill", which also pays for CPU cache and TLB misses, more
 *   of them after a big fill: in this VM mostly on the instruction side,
 *   the code of the call having been out of use for the whole fill), the
 *   same with the call's code warmed just before the clock by the same
 *   operation on another, small cache ("first_after_fill_code_warm": this
 *   cache's stamps as cold as the fill left them), and 64 calls back to
 *   back ("repeated": the operation itself).
 *
 * strict_loop: map one 4K page, translate it (an IOTLB miss and a walk
 *   with warm walk caches), unmap it, invalidate it: the per-DMA cost of a
 *   strict IOMMU (target >= 10 M iterations/s). The page's neighbours stay
 *   mapped so no table is allocated or freed; stage 1 alone and nested.
 *   After the loop the page must fault (stale = 0).
 *
 * seq_stream: translating a sequential IOVA stream through the nested
 *   setup with the default caches: descriptor reads per translation
 *   (target <= 2; 24 with no caches), once per 4K page and as 512-byte
 *   DMAs (8 a page), with the time per translation; over 4K stage-2
 *   pages (2 reads a page: both leaves) and again over 2M stage-2 blocks,
 *   guest RAM on huge pages (1 a page: the output IPA hits the IPA cache).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "util/bits.h"
#include "xsetup.h"

#define PAGE 4096ULL

static double clock_overhead;

static void measure_overhead(void)
{
	struct bench_stats st;
	double v[1001];

	for (unsigned int i = 0; i < 1001; i++) {
		uint64_t a = bench_ticks(), b = bench_ticks();

		v[i] = bench_ns(b - a);
	}
	bench_stats(v, 1001, &st);
	clock_overhead = st.p50;
}

static int new_cache(unsigned int iotlb, struct xlate_cache **c)
{
	struct xlate_cache_params p;

	xlate_cache_params_default(&p);
	p.iotlb = (struct xlate_cache_geom){iotlb, 4};
	p.repl = XLATE_REPL_LRU;
	return xlate_cache_new(&p, c);
}

static void fill(const struct xlate_cfg *xc, const struct xsetup *s, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++)
		xlate(xc, xs_addr_4k(s, i), PT_PROT_R, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------- */
/* Invalidation against a full cache                                      */

enum op { OP_PAGE, OP_PAGE_HINT, OP_RANGE256, OP_RANGE64K, OP_IPA256, OP_ASID, OP_VMID, OP_ALL };

static const char *const op_names[] = {"page",		"page_leaf_ttl3", "range_256", "range_64k",
				       "ipa_range_256", "asid",		  "vmid",      "all"};

/* Operations a sample and pages each removes (0: the whole cache). */
static const unsigned int op_batch[] = {64, 64, 8, 1, 8, 1, 1, 1};
static const uint64_t op_pages[] = {1, 1, 256, 65536, 256, 0, 0, 0};

/* The IPA of 4K page @i in the nested setup: 4K region pages sit at IPA 4K + i * 4K. */
static uint64_t page_ipa(uint64_t i)
{
	return PAGE + i * PAGE;
}

/*
 * One function per operation, chosen before the clock starts: a switch in
 * the timed region would read its jump table, whose line and page the
 * fill before the first call has pushed out of the CPU's caches and TLB
 * (hundreds of ns in this VM, the benchmark's cost, not the operation's).
 */
typedef void op_fn(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
		   uint64_t first);

static void op_page(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
		    uint64_t first)
{
	(void)first;
	xlate_inv_range(c, tag->vmid, tag->asid, iova, PAGE, 0, -1);
}

static void op_page_hint(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
			 uint64_t first)
{
	(void)first;
	xlate_inv_range(c, tag->vmid, tag->asid, iova, PAGE, XLATE_INV_LEAF, 3);
}

static void op_range256(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
			uint64_t first)
{
	(void)first;
	xlate_inv_range(c, tag->vmid, tag->asid, iova, 256 * PAGE, 0, -1);
}

static void op_range64k(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
			uint64_t first)
{
	(void)first;
	xlate_inv_range(c, tag->vmid, tag->asid, iova, 65536 * PAGE, 0, -1);
}

static void op_ipa256(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
		      uint64_t first)
{
	(void)iova;
	xlate_inv_ipa(c, tag->vmid, page_ipa(first), 256 * PAGE, 0, -1);
}

static void op_asid(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
		    uint64_t first)
{
	(void)iova, (void)first;
	xlate_inv_asid(c, tag->vmid, tag->asid);
}

static void op_vmid(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
		    uint64_t first)
{
	(void)iova, (void)first;
	xlate_inv_vmid(c, tag->vmid);
}

static void op_all(struct xlate_cache *c, const struct xlate_tag *tag, uint64_t iova,
		   uint64_t first)
{
	(void)tag, (void)iova, (void)first;
	xlate_inv_all(c);
}

static op_fn *const op_fns[] = {op_page,     op_page_hint, op_range256, op_range64k,
				op_ipa256,   op_asid,	   op_vmid,	op_all};

static void report(const struct xsetup *s, enum op op, unsigned int size, const char *variant,
		   const struct bench_stats *st, const struct xlate_cache_stats *cs)
{
	struct bench_json j;

	bj_begin(&j, "inval");
	bj_param_str(&j, "op", op_names[op]);
	bj_param_u64(&j, "iotlb_entries", size);
	bj_param_str(&j, "mode", xs_mode_name(s->mode));
	if (variant)
		bj_param_str(&j, "variant", variant);
	bj_stats(&j, st);
	bj_u64(&j, "iotlb_filled", cs->iotlb.fills - cs->iotlb.evictions);
	if (op_batch[op] == 1 && (!variant || strcmp(variant, "repeated")))
		bj_f(&j, "clock_overhead_ns", clock_overhead);
	bj_end(&j);
}

/*
 * The samples of one operation against a full cache, into @ns. With @warm
 * (the whole-context flushes), the same operation runs on @warm, another
 * cache, just before the clock starts: its code and the cache-independent
 * lines are then in the CPU's caches and TLBs, while this cache's flush
 * stamps are as the fill left them.
 */
static void samples(struct xsetup *s, const struct xlate_cfg *xc, unsigned int size, enum op op,
		    struct xlate_cache *warm, double *ns, unsigned int nsamples)
{
	uint64_t cursor = 0, span = op_pages[op] ? op_pages[op] : size;
	struct xlate_cache *c = xc->cache;

	for (unsigned int i = 0; i < nsamples; i++) {
		unsigned int k = op_batch[op];
		uint64_t first = cursor, iova0, t0, t1;
		op_fn *volatile fnv = op_fns[op];
		op_fn *fn = fnv;

		/* The operations of a sample touch distinct pages that are all cached. */
		if (span > size || first + k * span > size)
			first = cursor = 0;
		iova0 = xs_addr_4k(s, first);
		if (warm)
			fn(warm, &xc->tag, iova0, first);
		t0 = bench_ticks();
		for (unsigned int b = 0; b < k; b++)
			fn(c, &xc->tag, iova0 + b * span * PAGE, first + b * span);
		t1 = bench_ticks();
		/*
		 * One call: the clock's own cost taken off, and a call that took
		 * less than that variable cost counted as 0, not below it.
		 */
		ns[i] = k > 1 ? bench_ns(t1 - t0) / k : MAX(bench_ns(t1 - t0) - clock_overhead, 0.0);
		/* Put back what went, so the next sample meets a full cache again. */
		fill(xc, s, op_pages[op] ? first : 0, MIN(k * span, (uint64_t)size));
		for (uint64_t p = first; op == OP_IPA256 && p < first + k * span; p++) {
			uint64_t pa;

			xlate_s2(xc, page_ipa(p), PT_PROT_R, XLATE_CLASS_IN, page_ipa(p), &pa,
				 NULL, NULL);
		}
		cursor = first + k * span;
	}
}

static void inval(struct xsetup *s, unsigned int size, enum op op)
{
	unsigned int nsamples = op_pages[op] == 1  ? bench_samples(2000, 100)
				: op_batch[op] > 1 ? bench_samples(1000, 50)
						   : bench_samples(size >= 16384 ? 100 : 300, 20);
	struct xlate_cache *c, *warm = NULL;
	struct xlate_cfg xc = s->xc;
	struct xlate_cache_stats cs;
	struct bench_stats st;
	double *ns;
	char desc[64];

	snprintf(desc, sizeof(desc), "inval %s %u", op_names[op], size);
	if (!bench_want(desc) || new_cache(size, &c))
		return;
	ns = malloc(nsamples * sizeof(*ns));
	if (!ns || (!op_pages[op] && new_cache(1024, &warm))) {
		free(ns);
		xlate_cache_free(c);
		return;
	}
	xc.cache = c;
	fill(&xc, s, 0, size);
	fill(&xc, s, 0, size);
	xlate_cache_get_stats(c, &cs);
	samples(s, &xc, size, op, NULL, ns, nsamples);
	bench_stats(ns, nsamples, &st);
	report(s, op, size, op_pages[op] ? NULL : "first_after_fill", &st, &cs);

	if (!op_pages[op]) {
		samples(s, &xc, size, op, warm, ns, nsamples);
		bench_stats(ns, nsamples, &st);
		report(s, op, size, "first_after_fill_code_warm", &st, &cs);
	}

	/*
	 * The whole-context flushes once more, 64 calls back to back with their
	 * state in the CPU's caches: the cost of the operation itself, which
	 * must not depend on the size.
	 */
	if (!op_pages[op]) {
		for (unsigned int i = 0; i < nsamples; i++) {
			uint64_t t0, t1;

			fill(&xc, s, 0, MIN((uint64_t)size, 1024));
			t0 = bench_ticks();
			for (unsigned int b = 0; b < 64; b++)
				op_fns[op](c, &xc.tag, 0, 0);
			t1 = bench_ticks();
			ns[i] = bench_ns(t1 - t0) / 64;
		}
		bench_stats(ns, nsamples, &st);
		report(s, op, size, "repeated", &st, &cs);
	}
	free(ns);
	xlate_cache_free(warm);
	xlate_cache_free(c);
}

/* ---------------------------------------------------------------------- */
/* Strict mode: map, translate, unmap, invalidate                         */

static uint64_t strict_iters(struct xsetup *s, const struct xlate_cfg *xc, uint64_t iova,
			     uint64_t out, unsigned int n)
{
	struct xlate_result res;
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		pt_map(&s->s1, iova, out, PAGE, PT_PROT_RW);
		xlate(xc, iova, PT_PROT_R, &res, NULL, NULL);
		v += res.pa;
		pt_unmap(&s->s1, iova, PAGE, NULL);
		xlate_inv_range(xc->cache, xc->tag.vmid, xc->tag.asid, iova, PAGE, XLATE_INV_LEAF,
				3);
	}
	return v;
}

static void strict_loop(struct xsetup *s)
{
	const unsigned int batch = 64;
	unsigned int nsamples = bench_samples(4000, 100);
	uint64_t iova = xs_addr_4k(s, 1000), out, t0, t1;
	struct xlate_cache *c;
	struct xlate_cfg xc = s->xc;
	struct xlate_result res;
	struct bench_stats st;
	struct bench_json j;
	double *ns;
	char desc[64];
	int ret, stale;

	snprintf(desc, sizeof(desc), "strict %s", xs_mode_name(s->mode));
	if (!bench_want(desc) || new_cache(4096, &c))
		return;
	ns = malloc(nsamples * sizeof(*ns));
	xc.cache = c;
	/* The page's own output, taken from the tables before it is unmapped. */
	ret = xlate(&s->xc, iova, PT_PROT_R, &res, NULL, NULL);
	out = res.ipa & ~(PAGE - 1);
	if (!ns || ret != PT_OK || pt_unmap(&s->s1, iova, PAGE, NULL)) {
		free(ns);
		xlate_cache_free(c);
		return;
	}
	fill(&xc, s, 0, 512); /* the neighbours: warm walk caches */
	bench_keep(strict_iters(s, &xc, iova, out, 256));
	for (unsigned int i = 0; i < nsamples; i++) {
		t0 = bench_ticks();
		bench_keep(strict_iters(s, &xc, iova, out, batch));
		t1 = bench_ticks();
		ns[i] = bench_ns(t1 - t0) / batch;
	}
	bench_stats(ns, nsamples, &st);
	stale = xlate(&xc, iova, PT_PROT_R, NULL, NULL, NULL) == PT_OK;
	pt_map(&s->s1, iova, out, PAGE, PT_PROT_RW); /* as it was */

	bj_begin(&j, "strict_loop");
	bj_param_str(&j, "mode", xs_mode_name(s->mode));
	bj_param_str(&j, "iteration", "map 4K, translate, unmap, invalidate page");
	bj_stats(&j, &st);
	bj_f(&j, "iterations_per_s", 1e9 / st.p50);
	bj_u64(&j, "stale", (uint64_t)stale);
	bj_end(&j);
	free(ns);
	xlate_cache_free(c);
}

/* ---------------------------------------------------------------------- */
/* Sequential streams                                                     */

static void seq_stream(struct xsetup *s, uint64_t step, bool s2_2m)
{
	const uint64_t pages = 65536, n = pages * (PAGE / step);
	const uint64_t base = s2_2m ? xs_addr_4k_s2_2m(s, 0) : xs_addr_4k(s, 0);
	struct xlate_record *rec = malloc(sizeof(*rec));
	struct xlate_cache *c;
	struct xlate_cfg xc = s->xc;
	struct xlate_cache_stats cs;
	struct bench_json j;
	uint64_t reads = 0, t0, t1;
	double ns;
	char desc[64], stepname[16];

	snprintf(stepname, sizeof(stepname), "%llu", (unsigned long long)step);
	snprintf(desc, sizeof(desc), "seq %s %s%s", xs_mode_name(s->mode), stepname,
		 s2_2m ? " s2_2m" : "");
	if (!rec || !bench_want(desc) || new_cache(4096, &c)) {
		free(rec);
		return;
	}
	xc.cache = c;
	for (uint64_t i = 0; i < n; i++) {
		xlate(&xc, base + i * step, PT_PROT_R, NULL, NULL, rec);
		reads += rec->n;
	}
	xlate_cache_get_stats(c, &cs);
	/* Time the same stream over fresh caches (the tables are warm now). */
	xlate_inv_all(c);
	t0 = bench_ticks();
	for (uint64_t i = 0; i < n; i++)
		xlate(&xc, base + pages * PAGE + i * step, PT_PROT_R, NULL, NULL, NULL);
	t1 = bench_ticks();
	ns = bench_ns(t1 - t0) / (double)n;

	bj_begin(&j, "seq_stream");
	bj_param_str(&j, "mode", xs_mode_name(s->mode));
	bj_param_str(&j, "stage2_leaves", s2_2m ? "2M" : "4K");
	bj_param_u64(&j, "step_bytes", step);
	bj_param_u64(&j, "translations", n);
	bj_f(&j, "reads_per_translation", (double)reads / (double)n);
	bj_f(&j, "iotlb_hit_rate",
	     (double)cs.iotlb.hits / (double)(cs.iotlb.hits + cs.iotlb.misses));
	bj_f(&j, "ns_per_translation", ns);
	bj_end(&j);
	free(rec);
	xlate_cache_free(c);
}

int main(int argc, char **argv)
{
	static const unsigned int sizes[] = {1024, 4096, 16384, 65536};
	struct xlate_cache *probe;
	struct xsetup s;
	int ret;

	bench_init(argc, argv, "bench_inval");
	measure_overhead();
	ret = new_cache(1024, &probe);
	if (ret) {
		fprintf(stderr, "bench_inval: cannot create the caches (%s)\n", strerror(-ret));
		return 1;
	}
	xlate_cache_free(probe);

	ret = xs_build(&s, XS_NESTED);
	if (ret) {
		fprintf(stderr, "bench_inval: nested: setup failed: %s\n", strerror(-ret));
		xs_destroy(&s);
		return 1;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++)
		for (enum op op = OP_PAGE; op <= OP_ALL; op++)
			inval(&s, sizes[i], op);
	strict_loop(&s);
	seq_stream(&s, PAGE, false);
	seq_stream(&s, 512, false);
	seq_stream(&s, PAGE, true);
	seq_stream(&s, 512, true);
	xs_destroy(&s);

	ret = xs_build(&s, XS_S1);
	if (ret) {
		fprintf(stderr, "bench_inval: s1: setup failed: %s\n", strerror(-ret));
		xs_destroy(&s);
		return 1;
	}
	strict_loop(&s);
	xs_destroy(&s);
	return 0;
}
