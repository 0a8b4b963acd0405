// SPDX-License-Identifier: MIT
/*
 * cmd_bench.c - `uiommu bench`: how fast translation goes for one
 * configuration with given cache sizes.
 *
 * What it does. The configuration is the two stages of a scenario file
 * (scenario.c: format, granule, ias, oas, sl0, levels, flags; its own
 * mappings are not used), or with none the bench/ programs' nested one
 * (VMSAv8-64 4K granule, 4 levels at both stages). bench/xsetup.c builds
 * fresh tables of those configurations over one region of pages of the
 * input stage's smallest size, with the smallest leaves at both stages
 * (xs_layout_fit: 1 GiB of pages, or 4 x the IOTLB's entries when
 * capacity runs and that is more; fewer when the sizes cannot hold them,
 * which the report says). Then each workload asked for runs, one row
 * each (the W-rows of BENCHMARKS.md, which are perf.md §5's):
 *
 *   hit         W4  IOTLB hits: the first IOTLB/4 pages of the region,
 *                   uniform random, one xlate() a translation
 *   hit-batch   W4  the same stream through xlate_batch(), 16 a call
 *   capacity    W6  uniform random over the first 4 x IOTLB pages
 *   walk        W5  caches off, uniform random over the whole region
 *   sequential  W5  caches on, one translation a page in address order
 *   inval       W7  page, 256-page range, ASID, VMID, all, each against a
 *                   full IOTLB (five rows)
 *   strict      W7  map a page, translate it, unmap it, invalidate it
 *
 * Counts and times are separate passes. A workload's counts (IOTLB hit
 * rate, descriptor reads per translation) come from an untimed pass with
 * an xlate_record, after a warming pass where the workload needs one; its
 * streams come from a fixed seed and its caches start empty, so they are
 * the same on every run and machine. The times come from batches timed
 * with bench/benchclock.c (the bench/ programs' clock: TSC calibrated
 * against CLOCK_MONOTONIC, pinned to one CPU), p50 and p99 over the
 * samples, within a time budget per row (about 10 s for the default run,
 * 1 s with --quick).
 *
 * Stage 1 alone has no VMID and stage 2 alone no ASID: those rows say n/a
 * with the reason, as do rows that need an IOTLB when it is off, or more
 * pages than the configuration can hold.
 *
 * Errors: usage errors (exit 2) are found before any file is opened; a
 * scenario that does not load is 2 with scenario_load()'s FILE:LINE
 * message; a setup that cannot be built is 1.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "benchclock.h"
#include "cli.h"
#include "parse.h"
#include "print.h"
#include "scenario.h"
#include "stagecfg.h"
#include "util/bits.h"
#include "xlate/xlate.h"
#include "xsetup.h"

#define CMD "bench"

#define STREAM		(1u << 16) /* addresses of a random stream, at least (a power of two) */
#define STREAM_MAX	(1u << 24) /* and at most: 4 x the working set of capacity at 1M entries */
#define STREAM_SEED	0x9e3779b97f4a7c15ULL
#define STREAM_SEED_STR "0x9e3779b97f4a7c15" /* JSON: above 2^63 */
#define SEQ_PAGES	65536u
#define MIN_PAGES	16u
#define STRICT_PAGE	1000u /* the strict loop's page (its neighbours stay mapped) */

/* ---------------------------------------------------------------------- */
/* Workloads                                                              */

enum wl { WL_HIT, WL_HIT_BATCH, WL_CAPACITY, WL_WALK, WL_SEQ, WL_INVAL, WL_STRICT, WL_NR };

static const struct {
	const char *name, *wrow, *summary;
} workloads[WL_NR] = {
	[WL_HIT] = {"hit", "W4", "IOTLB hits, random over IOTLB/4 pages, one xlate() each"},
	[WL_HIT_BATCH] = {"hit-batch", "W4", "the same stream through xlate_batch(), 16 a call"},
	[WL_CAPACITY] = {"capacity", "W6", "random over 4 x IOTLB pages: hit rate, reads, vs hit"},
	[WL_WALK] = {"walk", "W5", "caches off, random over the region: ns, reads a walk"},
	[WL_SEQ] = {"sequential", "W5", "caches on, one translation a page in order: reads"},
	[WL_INVAL] = {"inval", "W7", "page, 256 pages, ASID, VMID, all, with a full IOTLB"},
	[WL_STRICT] = {"strict", "W7", "map, translate, unmap, invalidate a page: iterations/s"},
};

void cmd_bench_usage(FILE *f)
{
	fprintf(f, "usage: uiommu bench [SCENARIO.json] [--workload LIST] [--iotlb N[,WAYS]]\n"
		   "                    [--walk-cache N] [--ipa-cache N] [--repl lru|random]\n"
		   "                    [--seed S] [--cpu N] [--quick] [--json] [--list]\n"
		   "\n"
		   "Measure translation for one configuration: the stage formats and sizes of\n"
		   "SCENARIO (a walk/trace scenario; its mappings are not used), or with none a\n"
		   "VMSAv8-64 4K 4-level stage 1 over a 4K 4-level stage 2, on fresh tables that\n"
		   "map the pages each workload needs. One row a workload: p50, p99, rate, and\n"
		   "its counts (working set, IOTLB hit rate, reads per translation), which come\n"
		   "from an untimed pass and are exact and repeatable.\n"
		   "\n"
		   "Workloads (and the BENCHMARKS.md row each reproduces):\n");
	for (int w = 0; w < WL_NR; w++)
		fprintf(f, "  %-11s %s  %s\n", workloads[w].name, workloads[w].wrow,
			workloads[w].summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -w, --workload LIST      comma-separated workloads (default: all)\n"
		"      --iotlb N[,WAYS]     IOTLB entries and ways (default 4096,4; 0: off)\n"
		"      --walk-cache N       walk-cache entries per stage and level (default 256)\n"
		"      --ipa-cache N        IPA (stage-2 result) cache entries (default 1024)\n"
		"      --repl POLICY        replacement: lru (default) or random\n"
		"      --seed S             seed of random replacement (default 1)\n"
		"      --cpu N              pin to CPU N (default: the last CPU allowed)\n"
		"  -q, --quick              about 1 s in all instead of about 10 s (smoke runs)\n"
		"  -j, --json               print one JSON document instead of the table\n"
		"  -l, --list               list the workloads and exit\n"
		"  -h, --help               show this help\n"
		"\n"
		"Cache sizes are powers of two up to 1M. Times are measured on this machine\n"
		"and vary with its load; counts do not.\n"
		"Exit status: 0 success, 1 an error, 2 a usage error or a scenario that does\n"
		"not load. See uiommu-bench(1).\n");
}

static void list_workloads(void)
{
	for (int w = 0; w < WL_NR; w++)
		printf("%-11s %s  %s\n", workloads[w].name, workloads[w].wrow,
		       workloads[w].summary);
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */

struct bench_cli {
	const char *scenario;
	struct xlate_cache_params params;
	bool want[WL_NR];
	bool quick, json;
	int cpu;
};

enum { OPT_CPU = CLI_OPT_CACHE_END };

static const struct option bench_longopts[] = {
	CLI_CACHE_LONGOPTS,
	{"workload", required_argument, NULL, 'w'},
	{"cpu", required_argument, NULL, OPT_CPU},
	{"quick", no_argument, NULL, 'q'},
	{"json", no_argument, NULL, 'j'},
	{"list", no_argument, NULL, 'l'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static void opt_workloads(struct bench_cli *o, const char *arg)
{
	const char *p = arg;

	if (!*arg)
		cli_usage_error(CMD, "--workload: expected a comma-separated list of workloads");
	while (*p) {
		size_t n = strcspn(p, ",");
		int w;

		for (w = 0; w < WL_NR; w++)
			if (strlen(workloads[w].name) == n && !strncmp(workloads[w].name, p, n))
				break;
		if (n == 3 && !strncmp(p, "all", 3)) {
			for (int k = 0; k < WL_NR; k++)
				o->want[k] = true;
		} else if (w == WL_NR) {
			cli_usage_error(
				CMD,
				"--workload: unknown workload '%.*s' (expected hit, "
				"hit-batch, capacity, walk, sequential, inval, strict or all)",
				(int)n, p);
		} else {
			o->want[w] = true;
		}
		p += n;
		if (*p == ',' && !p[1])
			cli_usage_error(CMD, "--workload: a workload name after the last ','");
		p += *p == ',';
	}
}

/* ---------------------------------------------------------------------- */
/* Rows                                                                   */

struct row {
	const char *name; /* workload */
	const char *op;	  /* inval: the operation */
	bool na;	  /* not applicable / skipped: @note says why */
	bool timed;
	struct bench_stats st;
	const char *unit; /* of the rate: "translations", "invalidations", "iterations" */
	char detail[160]; /* the table's detail column */
	char note[200];	  /* why n/a, or what was shrunk */
	json_t *params;	  /* owned */
	json_t *fields;	  /* owned: counts and the like */
};

struct bench_ctx {
	const struct bench_cli *o;
	struct xsetup s;
	uint64_t pages, page; /* the region: pages of @page bytes */
	char shrink[160];     /* why the region has fewer pages than wanted, or "" */
	uint64_t wanted;
	double budget_ns; /* per timed row */
	double hit_p50;	  /* 0 until hit has run */
	struct row rows[16];
	unsigned int nrows;
};

static struct row *row_new(struct bench_ctx *b, enum wl w, const char *op)
{
	struct row *r = &b->rows[b->nrows++];

	memset(r, 0, sizeof(*r));
	r->name = workloads[w].name;
	r->op = op;
	r->unit = "translations";
	r->params = json_object();
	r->fields = json_object();
	if (!r->params || !r->fields)
		errx(1, "out of memory");
	json_object_set_new(r->params, "w_row", json_string(workloads[w].wrow));
	if (op)
		json_object_set_new(r->params, "op", json_string(op));
	return r;
}

__attribute__((format(printf, 2, 3))) static void row_na(struct row *r, const char *fmt, ...)
{
	va_list ap;

	r->na = true;
	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

static void jset_u64(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static void jset_f(json_t *o, const char *k, double v)
{
	json_object_set_new(o, k, isfinite(v) ? json_real(v) : json_null());
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : NAN;
}

/* ---------------------------------------------------------------------- */
/* Timing                                                                 */

typedef uint64_t batch_fn(void *arg, unsigned int pos, unsigned int n);

/*
 * Samples of @per operations each by @fn (called with a running position),
 * as many as the row's budget allows: ns per operation.
 */
static void measure(struct bench_ctx *b, batch_fn *fn, void *arg, unsigned int per,
		    struct bench_stats *st)
{
	unsigned int pos = 0, n;
	uint64_t t0, t1;
	double *ns;

	t0 = bench_ticks();
	for (unsigned int i = 0; i < 8; i++, pos += per) /* warm-up, and an estimate */
		bench_keep(fn(arg, pos, per));
	t1 = bench_ticks();
	n = bench_samples_budget(b->budget_ns, bench_ns(t1 - t0) / 8, b->o->quick ? 20 : 100,
				 200000);
	ns = malloc(n * sizeof(*ns));
	if (!ns)
		errx(1, "out of memory");
	for (unsigned int i = 0; i < n; i++, pos += per) {
		t0 = bench_ticks();
		bench_keep(fn(arg, pos, per));
		t1 = bench_ticks();
		ns[i] = bench_ns(t1 - t0) / per;
	}
	bench_stats(ns, n, st);
	free(ns);
}

static struct xlate_cache *new_cache(const struct xlate_cache_params *p)
{
	struct xlate_cache *c;
	int ret = xlate_cache_new(p, &c);

	if (ret)
		errx(1, "cannot create the caches: %s", strerror(-ret));
	return c;
}

/* ---------------------------------------------------------------------- */
/* Streams                                                                */

struct stream {
	struct bench_ctx *b;
	struct xlate_cfg xc;
	uint64_t *a;	/* @n addresses */
	unsigned int n; /* a power of two: passes wrap with n - 1 */
};

/*
 * A stream whose replays keep the working set's reuse: every pass of the
 * hit, capacity and count loops replays the same addresses, so a stream
 * with fewer draws than pages would touch only some of them, each at a
 * fixed distance, and a large IOTLB would hold them all. 4 draws a page
 * (STREAM at least) keep uniform draws' reuse, hence LRU's C/W hit rate.
 */
static unsigned int stream_len(uint64_t ws)
{
	uint64_t n = STREAM;

	while (n < 4 * ws && n < STREAM_MAX)
		n *= 2;
	return (unsigned int)n;
}

/*
 * A uniform random stream of @n addresses (a power of two, at least @ws
 * with @each_once) over the first @ws pages of the region, each at a
 * random 8-byte offset in its page; with @each_once the first @ws
 * addresses are the pages in order, so one pass touches them all.
 */
static void stream_init(struct stream *sm, struct bench_ctx *b, uint64_t ws, bool each_once,
			unsigned int n)
{
	uint64_t rng = STREAM_SEED;

	sm->b = b;
	sm->xc = b->s.xc;
	sm->n = n;
	sm->a = malloc((size_t)n * sizeof(*sm->a));
	if (!sm->a)
		errx(1, "out of memory");
	for (unsigned int i = 0; i < n; i++) {
		uint64_t pg = each_once && i < ws ? i : xs_rand(&rng) % ws;

		sm->a[i] = xs_addr(&b->s, XS_R_4K, pg, (xs_rand(&rng) % (b->page / 8)) * 8);
	}
}

static uint64_t xlate_single(void *arg, unsigned int pos, unsigned int n)
{
	struct stream *sm = arg;
	struct xlate_result res;
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		xlate(&sm->xc, sm->a[(pos + i) & (sm->n - 1)], PT_PROT_R, &res, NULL, NULL);
		v += res.pa;
	}
	return v;
}

static uint64_t xlate_16(void *arg, unsigned int pos, unsigned int n)
{
	struct stream *sm = arg;
	struct xlate_result res[16];
	enum pt_fault_reason ret[16];
	uint64_t v = 0;

	/* @pos and @n are multiples of 16, so a call never wraps the stream. */
	for (unsigned int i = 0; i < n; i += 16) {
		xlate_batch(&sm->xc, &sm->a[(pos + i) & (sm->n - 1)], 16, PT_PROT_R, res, NULL,
			    ret);
		for (unsigned int k = 0; k < 16; k++)
			v += res[k].pa;
	}
	return v;
}

struct counts {
	uint64_t n, reads, faults, reads_min, reads_max;
	struct xlate_cache_stats cs;
};

/* One untimed pass over the stream, every read recorded. */
static void count_pass(struct stream *sm, struct counts *k)
{
	struct xlate_record *rec = malloc(sizeof(*rec));

	if (!rec)
		errx(1, "out of memory");
	memset(k, 0, sizeof(*k));
	k->reads_min = UINT64_MAX;
	if (sm->xc.cache)
		xlate_cache_reset_stats(sm->xc.cache);
	for (unsigned int i = 0; i < sm->n; i++) {
		if (xlate(&sm->xc, sm->a[i], PT_PROT_R, NULL, NULL, rec) != PT_OK)
			k->faults++;
		k->n++;
		k->reads += rec->n;
		k->reads_min = MIN(k->reads_min, (uint64_t)rec->n);
		k->reads_max = MAX(k->reads_max, (uint64_t)rec->n);
	}
	if (sm->xc.cache)
		xlate_cache_get_stats(sm->xc.cache, &k->cs);
	free(rec);
}

static double iotlb_rate(const struct counts *k)
{
	return ratio(k->cs.iotlb.hits, k->cs.iotlb.hits + k->cs.iotlb.misses);
}

static void counts_json(struct row *r, const struct counts *k, bool cached)
{
	jset_u64(r->fields, "translations_counted", k->n);
	jset_u64(r->fields, "faults", k->faults);
	jset_f(r->fields, "iotlb_hit_rate", cached ? iotlb_rate(k) : NAN);
	jset_u64(r->fields, "reads", k->reads);
	jset_f(r->fields, "reads_per_translation", ratio(k->reads, k->n));
	jset_u64(r->fields, "reads_min", k->reads_min);
	jset_u64(r->fields, "reads_max", k->reads_max);
}

/* Whether a row that needs the IOTLB and @pages pages can run; else it is n/a, with why. */
static bool need_iotlb(struct bench_ctx *b, struct row *r, uint64_t pages, const char *what)
{
	if (!b->o->params.iotlb.entries) {
		row_na(r, "the IOTLB is off (--iotlb 0)");
		return false;
	}
	if (pages > b->pages) {
		row_na(r, "needs %s = %llu pages; the configuration holds %llu (%s)", what,
		       (unsigned long long)pages, (unsigned long long)b->pages,
		       b->shrink[0] ? b->shrink : "see the header");
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* hit, hit-batch, capacity                                               */

static void run_hit(struct bench_ctx *b, bool batch)
{
	struct row *r = row_new(b, batch ? WL_HIT_BATCH : WL_HIT, NULL);
	uint64_t ws = MAX(1u, b->o->params.iotlb.entries / 4);
	struct stream sm;
	struct counts k;

	jset_u64(r->params, "working_set", ws);
	if (batch)
		json_object_set_new(r->params, "api", json_string("xlate_batch, 16 a call"));
	if (!need_iotlb(b, r, ws, "IOTLB/4"))
		return;
	stream_init(&sm, b, ws, true, stream_len(ws));
	sm.xc.cache = new_cache(&b->o->params);
	bench_keep(xlate_single(&sm, 0, sm.n)); /* fill */
	count_pass(&sm, &k);
	counts_json(r, &k, true);
	measure(b, batch ? xlate_16 : xlate_single, &sm, 256, &r->st);
	r->timed = true;
	snprintf(r->detail, sizeof(r->detail), "%llu pages, IOTLB hit rate %.4f",
		 (unsigned long long)ws, iotlb_rate(&k));
	if (!batch)
		b->hit_p50 = r->st.p50;
	xlate_cache_free(sm.xc.cache);
	free(sm.a);
}

static void run_capacity(struct bench_ctx *b)
{
	struct row *r = row_new(b, WL_CAPACITY, NULL);
	uint64_t ws = 4ULL * b->o->params.iotlb.entries;
	struct stream sm;
	struct counts k;
	double frac = NAN;

	jset_u64(r->params, "working_set", ws);
	if (!need_iotlb(b, r, ws, "4 x IOTLB"))
		return;
	stream_init(&sm, b, ws, false, stream_len(ws));
	sm.xc.cache = new_cache(&b->o->params);
	bench_keep(xlate_single(&sm, 0, sm.n)); /* fill: the steady state */
	count_pass(&sm, &k);
	counts_json(r, &k, true);
	measure(b, xlate_single, &sm, 256, &r->st);
	r->timed = true;
	if (b->hit_p50 > 0 && r->st.p50 > 0)
		frac = b->hit_p50 / r->st.p50;
	jset_f(r->fields, "fraction_of_hit_throughput", frac);
	if (isnan(frac))
		snprintf(r->detail, sizeof(r->detail),
			 "%llu pages, IOTLB hit rate %.4f, %.2f reads/xlate",
			 (unsigned long long)ws, iotlb_rate(&k), ratio(k.reads, k.n));
	else
		snprintf(r->detail, sizeof(r->detail),
			 "%llu pages, IOTLB hit rate %.4f, %.2f reads/xlate, %.0f%% of hit",
			 (unsigned long long)ws, iotlb_rate(&k), ratio(k.reads, k.n), 100 * frac);
	xlate_cache_free(sm.xc.cache);
	free(sm.a);
}

/* ---------------------------------------------------------------------- */
/* walk, sequential                                                       */

static void run_walk(struct bench_ctx *b)
{
	struct row *r = row_new(b, WL_WALK, NULL);
	struct stream sm;
	struct counts k;

	jset_u64(r->params, "working_set", b->pages);
	json_object_set_new(r->params, "caches", json_string("off"));
	/* Caches off: no reuse to keep, so STREAM draws suffice. */
	stream_init(&sm, b, b->pages, false, STREAM);
	count_pass(&sm, &k);
	counts_json(r, &k, false);
	measure(b, xlate_single, &sm, 64, &r->st);
	r->timed = true;
	if (k.reads_min == k.reads_max)
		snprintf(r->detail, sizeof(r->detail), "%llu pages, %llu reads/xlate",
			 (unsigned long long)b->pages, (unsigned long long)k.reads_min);
	else
		snprintf(r->detail, sizeof(r->detail), "%llu pages, %.3f reads/xlate (%llu-%llu)",
			 (unsigned long long)b->pages, ratio(k.reads, k.n),
			 (unsigned long long)k.reads_min, (unsigned long long)k.reads_max);
	free(sm.a);
}

struct seq {
	struct bench_ctx *b;
	struct xlate_cfg xc;
	uint64_t n; /* pages in the stream */
};

/* @n translations from page @pos on; the caches start afresh when the stream wraps. */
static uint64_t seq_batch(void *arg, unsigned int pos, unsigned int n)
{
	struct seq *q = arg;
	struct xlate_result res;
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t pg = ((uint64_t)pos + i) % q->n;

		xlate(&q->xc, xs_addr(&q->b->s, XS_R_4K, pg, 0), PT_PROT_R, &res, NULL, NULL);
		v += res.pa;
	}
	return v;
}

/*
 * A sample of the timed stream: @n divides the stream's pages, so a pass
 * starts with a sample, and that sample first empties the caches (one
 * generation bump, O(1) and a few ns: inside the sample, but small).
 */
static uint64_t seq_timed(void *arg, unsigned int pos, unsigned int n)
{
	struct seq *q = arg;

	if (pos % q->n == 0)
		xlate_inv_all(q->xc.cache);
	return seq_batch(arg, pos, n);
}

static void run_seq(struct bench_ctx *b)
{
	struct row *r = row_new(b, WL_SEQ, NULL);
	struct xlate_record *rec = malloc(sizeof(*rec));
	struct seq q = {.b = b, .xc = b->s.xc, .n = MIN((uint64_t)SEQ_PAGES, b->pages)};
	struct xlate_cache_stats cs;
	uint64_t reads = 0;

	if (!rec)
		errx(1, "out of memory");
	q.n &= ~255ULL;
	jset_u64(r->params, "pages", q.n);
	if (q.n < 256) {
		row_na(r, "needs 256 pages; the configuration holds %llu",
		       (unsigned long long)b->pages);
		free(rec);
		return;
	}
	q.xc.cache = new_cache(&b->o->params);
	for (uint64_t i = 0; i < q.n; i++) {
		xlate(&q.xc, xs_addr(&b->s, XS_R_4K, i, 0), PT_PROT_R, NULL, NULL, rec);
		reads += rec->n;
	}
	xlate_cache_get_stats(q.xc.cache, &cs);
	jset_u64(r->fields, "translations_counted", q.n);
	jset_f(r->fields, "iotlb_hit_rate", ratio(cs.iotlb.hits, cs.iotlb.hits + cs.iotlb.misses));
	jset_u64(r->fields, "reads", reads);
	jset_f(r->fields, "reads_per_translation", ratio(reads, q.n));
	/*
	 * Timed from empty caches over the same pages (the tables are warm in
	 * the CPU's caches now): the first batch of every pass invalidates.
	 */
	xlate_inv_all(q.xc.cache);
	measure(b, seq_timed, &q, 256, &r->st);
	r->timed = true;
	snprintf(r->detail, sizeof(r->detail), "%llu pages in order, %.3f reads/xlate",
		 (unsigned long long)q.n, ratio(reads, q.n));
	xlate_cache_free(q.xc.cache);
	free(rec);
}

/* ---------------------------------------------------------------------- */
/* inval                                                                  */

enum inv_op { INV_PAGE, INV_RANGE, INV_ASID, INV_VMID, INV_ALL, INV_NR };

static const char *const inv_names[INV_NR] = {"page", "range-256", "asid", "vmid", "all"};

struct inval {
	struct bench_ctx *b;
	struct xlate_cfg xc;
	enum inv_op op;
	uint64_t fill;	  /* pages that fill the IOTLB */
	unsigned int per; /* operations a sample */
	uint64_t span;	  /* pages an operation removes (0: all) */
	bool s2_only;
};

static void inv_fill(struct inval *v, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++)
		xlate(&v->xc, xs_addr(&v->b->s, XS_R_4K, i % v->fill, 0), PT_PROT_R, NULL, NULL,
		      NULL);
}

static void inv_one(struct inval *v, struct xlate_cache *c, uint64_t pg)
{
	const struct xlate_tag *t = &v->xc.tag;
	uint64_t size = v->span * v->b->page;

	switch (v->op) {
	case INV_PAGE:
	case INV_RANGE:
		if (v->s2_only)
			xlate_inv_ipa(c, t->vmid, xs_ipa(&v->b->s, XS_R_4K, pg), size, 0, -1);
		else
			xlate_inv_range(c, t->vmid, t->asid, xs_addr(&v->b->s, XS_R_4K, pg, 0),
					size, 0, -1);
		break;
	case INV_ASID:
		xlate_inv_asid(c, t->vmid, t->asid);
		break;
	case INV_VMID:
		xlate_inv_vmid(c, t->vmid);
		break;
	default:
		xlate_inv_all(c);
		break;
	}
}

/*
 * One sample: @per operations on distinct cached pages, then what went is
 * put back (untimed). A flush sample is @per calls back to back after a
 * fill: the first meets the full IOTLB, the others its flushed entries,
 * which a flush (a generation bump) does not visit either way; one call
 * alone would be below the clock's resolution.
 */
static double inv_sample(struct inval *v, uint64_t *cursor)
{
	uint64_t first = *cursor, t0, t1;
	double ns;

	if (v->span && first + v->per * v->span > v->fill)
		first = 0;
	t0 = bench_ticks();
	for (unsigned int i = 0; i < v->per; i++)
		inv_one(v, v->xc.cache, first + i * v->span);
	t1 = bench_ticks();
	ns = bench_ns(t1 - t0) / v->per;
	inv_fill(v, v->span ? first : 0, v->span ? MIN(v->per * v->span, v->fill) : v->fill);
	*cursor = first + v->per * v->span;
	return ns;
}

static void run_inval_op(struct bench_ctx *b, enum inv_op op)
{
	struct row *r = row_new(b, WL_INVAL, inv_names[op]);
	struct inval v = {.b = b, .xc = b->s.xc, .op = op, .s2_only = b->s.mode == XS_S2};
	unsigned int entries = b->o->params.iotlb.entries, n;
	uint64_t cursor = 0, t0, t1;
	double *ns;

	r->unit = "invalidations";
	if (op == INV_VMID && b->s.mode == XS_S1) {
		row_na(r, "stage 1 alone has no VMID");
		return;
	}
	if (op == INV_ASID && b->s.mode == XS_S2) {
		row_na(r, "stage 2 alone has no ASID");
		return;
	}
	if (!entries) {
		row_na(r, "the IOTLB is off (--iotlb 0): nothing to fill");
		return;
	}
	v.fill = MIN((uint64_t)entries, b->pages);
	v.span = op == INV_PAGE ? 1 : op == INV_RANGE ? 256 : 0;
	v.per = op == INV_RANGE ? (unsigned int)MAX(MIN(v.fill / 256, 8), 1) : 64;
	jset_u64(r->params, "iotlb_filled", v.fill);
	if (v.span)
		jset_u64(r->params, "pages", v.span);
	if (v.fill < entries)
		snprintf(r->note, sizeof(r->note),
			 "the IOTLB filled with %llu of its %u entries: the region has no more",
			 (unsigned long long)v.fill, entries);
	v.xc.cache = new_cache(&b->o->params);
	inv_fill(&v, 0, v.fill);
	inv_fill(&v, 0, v.fill);
	t0 = bench_ticks();
	for (unsigned int i = 0; i < 4; i++)
		bench_keep((uint64_t)inv_sample(&v, &cursor));
	t1 = bench_ticks();
	n = bench_samples_budget(b->budget_ns, bench_ns(t1 - t0) / 4, b->o->quick ? 10 : 50, 4000);
	ns = malloc(n * sizeof(*ns));
	if (!ns)
		errx(1, "out of memory");
	for (unsigned int i = 0; i < n; i++)
		ns[i] = inv_sample(&v, &cursor);
	bench_stats(ns, n, &r->st);
	r->timed = true;
	snprintf(r->detail, sizeof(r->detail), "%s, %s, IOTLB with %llu entries",
		 v.span == 1 ? "one page"
		 : v.span    ? "256 pages"
			     : "the whole context",
		 v.s2_only && v.span ? "by IPA"
		 : v.span	     ? "by IOVA and ASID"
				     : "64 calls a sample",
		 (unsigned long long)v.fill);
	jset_u64(r->params, "calls_per_sample", v.per);
	free(ns);
	xlate_cache_free(v.xc.cache);
}

/* ---------------------------------------------------------------------- */
/* strict                                                                 */

struct strict {
	struct bench_ctx *b;
	struct xlate_cfg xc;
	struct pt_table *t; /* the stage the loop maps: stage 1, or stage 2 alone */
	uint64_t in, out, size;
	int ttl;
};

static uint64_t strict_iters(void *arg, unsigned int pos, unsigned int n)
{
	struct strict *q = arg;
	const struct xlate_tag *tag = &q->xc.tag;
	struct xlate_result res;
	uint64_t v = 0;

	(void)pos;
	for (unsigned int i = 0; i < n; i++) {
		pt_map(q->t, q->in, q->out, q->size, PT_PROT_RW);
		xlate(&q->xc, q->in, PT_PROT_R, &res, NULL, NULL);
		v += res.pa;
		pt_unmap(q->t, q->in, q->size, NULL);
		if (q->b->s.mode == XS_S2)
			xlate_inv_ipa(q->xc.cache, tag->vmid, q->in, q->size, XLATE_INV_LEAF,
				      q->ttl);
		else
			xlate_inv_range(q->xc.cache, tag->vmid, tag->asid, q->in, q->size,
					XLATE_INV_LEAF, q->ttl);
	}
	return v;
}

static void run_strict(struct bench_ctx *b)
{
	struct row *r = row_new(b, WL_STRICT, NULL);
	struct strict q = {.b = b, .xc = b->s.xc};
	uint64_t pg = MIN((uint64_t)STRICT_PAGE, b->pages / 2), near = MIN(b->pages, 512);
	struct xlate_result res;
	bool stale;

	r->unit = "iterations";
	json_object_set_new(r->params, "iteration",
			    json_string("map a page, translate it, unmap it, invalidate it"));
	if (b->pages < 2) {
		row_na(r, "needs 2 pages; the configuration holds %llu",
		       (unsigned long long)b->pages);
		return;
	}
	q.t = b->s.mode == XS_S2 ? &b->s.s2 : &b->s.s1;
	q.size = b->page;
	q.in = xs_addr(&b->s, XS_R_4K, pg, 0);
	q.ttl = pt_level(&q.t->cfg, q.t->cfg.nlevels - 1);
	/* The page's own output, from the tables, before it is unmapped. */
	if (xlate(&b->s.xc, q.in, PT_PROT_R, &res, NULL, NULL) != PT_OK)
		errx(1, "strict: page %llu of the region does not translate",
		     (unsigned long long)pg);
	/* What the stage maps the page to: the IPA in a nested setup, else the PA. */
	q.out = (b->s.mode == XS_NESTED ? res.ipa : res.pa) & ~(b->page - 1);
	if (pt_unmap(q.t, q.in, q.size, NULL))
		errx(1, "strict: cannot unmap page %llu", (unsigned long long)pg);
	q.xc.cache = new_cache(&b->o->params);
	for (uint64_t i = 0; i < near; i++) /* the neighbours: warm walk caches */
		xlate(&q.xc, xs_addr(&b->s, XS_R_4K, i, 0), PT_PROT_R, NULL, NULL, NULL);
	measure(b, strict_iters, &q, 64, &r->st);
	r->timed = true;
	stale = xlate(&q.xc, q.in, PT_PROT_R, NULL, NULL, NULL) == PT_OK;
	pt_map(q.t, q.in, q.out, q.size, PT_PROT_RW); /* as it was */
	jset_u64(r->fields, "stale", stale);
	snprintf(r->detail, sizeof(r->detail), "%s page; after the loop it %s",
		 b->s.mode == XS_S2 ? "stage-2" : "stage-1",
		 stale ? "STILL TRANSLATES (stale)" : "faults, as it must");
	xlate_cache_free(q.xc.cache);
}

/* ---------------------------------------------------------------------- */
/* Configuration                                                          */

struct config {
	enum xs_mode mode;
	struct pt_cfg s1c, s2c;
	char *file, *description;
	long s1_pasid; /* the stage 1 is the scenario's PASID entry, else -1 */
};

static void default_config(struct config *c)
{
	c->mode = XS_NESTED;
	c->s1c = (struct pt_cfg){.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48};
	c->s2c = (struct pt_cfg){
		.format = PT_VMSA_S2, .granule_shift = 12, .ias = 48, .oas = 48, .sl0 = 2};
	c->s1_pasid = -1;
	if (pt_cfg_init(&c->s1c) || pt_cfg_init(&c->s2c))
		errx(1, "the default configuration does not initialise");
}

static void scenario_config(struct config *c, const char *file)
{
	struct scenario *sc;
	const struct sc_stage *s1 = NULL;
	char msg[1024];

	/* Inputs that do not load are 2, as for walk, trace, run and exec. */
	if (scenario_load(file, &sc, msg, sizeof(msg)))
		errx(2, "%s", msg);
	c->s1_pasid = -1;
	if (sc->has_s1) {
		s1 = &sc->s1;
	} else if (sc->nr_pasids) {
		s1 = &sc->pasids[0];
		c->s1_pasid = s1->pasid;
	}
	if (s1)
		c->s1c = s1->table.cfg;
	if (sc->has_s2)
		c->s2c = sc->s2.table.cfg;
	c->mode = s1 && sc->has_s2 ? XS_NESTED : s1 ? XS_S1 : XS_S2;
	c->file = strdup(file);
	c->description = sc->description ? strdup(sc->description) : NULL;
	if (!c->file || (!c->description && sc->description))
		errx(1, "out of memory");
	scenario_free(sc);
}

static const char *flag_list(unsigned int flags, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {{PT_CFG_HW_AD, "hw-ad"},
		     {PT_CFG_AFFD, "affd"},
		     {PT_CFG_NO_1G, "no-1g"},
		     {PT_CFG_NO_2M, "no-2m"},
		     {PT_CFG_NO_BLOCKS, "no-blocks"}};
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names) && n < len; i++)
		if (flags & names[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "",
					      names[i].name);
	return buf;
}

/* "vmsa-s1, 4 levels, granule 4K, ias 48, oas 48" */
static const char *stage_str(const struct pt_cfg *c, char *buf, size_t len)
{
	char d[96], f[48];

	stage_cfg_describe(c, SF_NR, d, sizeof(d));
	flag_list(c->flags, f, sizeof(f));
	snprintf(buf, len, "%s, %u levels, %s%s%s", pt_format_name(c->format), c->nlevels, d,
		 f[0] ? ", " : "", f);
	return buf;
}

static json_t *stage_json(const struct pt_cfg *c)
{
	char f[64];

	return json_pack("{ss sI sI sI sI si ss}", "format", pt_format_name(c->format), "granule",
			 (json_int_t)pt_page_size(c), "ias", (json_int_t)c->ias, "oas",
			 (json_int_t)c->oas, "levels", (json_int_t)c->nlevels, "start_level",
			 c->start_level, "flags", flag_list(c->flags, f, sizeof(f)));
}

static json_t *geom_json(const struct xlate_cache_geom *g)
{
	return json_pack("{sI sI}", "entries", (json_int_t)g->entries, "ways", (json_int_t)g->ways);
}

/* ---------------------------------------------------------------------- */
/* Report                                                                 */

static const char *rate_str(double per_s, char *buf, size_t len)
{
	if (per_s >= 1e9)
		snprintf(buf, len, "%.2f G/s", per_s / 1e9);
	else if (per_s >= 1e6)
		snprintf(buf, len, "%.1f M/s", per_s / 1e6);
	else if (per_s >= 1e3)
		snprintf(buf, len, "%.1f K/s", per_s / 1e3);
	else
		snprintf(buf, len, "%.0f /s", per_s);
	return buf;
}

static void header_text(const struct bench_ctx *b, const struct config *c)
{
	const struct xlate_cache_params *p = &b->o->params;
	char s1[256], s2[256], g1[48], g2[48], g3[48], sz[24];

	printf("%s: ", c->file ? c->file : "default");
	if (c->mode == XS_NESTED)
		printf("stage 1 %s over stage 2 %s", stage_str(&b->s.s1.cfg, s1, sizeof(s1)),
		       stage_str(&b->s.s2.cfg, s2, sizeof(s2)));
	else if (c->mode == XS_S1)
		printf("stage 1 alone %s", stage_str(&b->s.s1.cfg, s1, sizeof(s1)));
	else
		printf("stage 2 alone %s", stage_str(&b->s.s2.cfg, s2, sizeof(s2)));
	if (c->s1_pasid >= 0)
		printf(" (stage 1: PASID %ld's)", c->s1_pasid);
	printf("; IOTLB %s, walk %s a stage and level, IPA %s, %s; region %llu x %s pages\n",
	       cli_cache_geom_str(&p->iotlb, g1, sizeof(g1)),
	       cli_cache_geom_str(&p->walk[0], g2, sizeof(g2)),
	       cli_cache_geom_str(&p->ipa, g3, sizeof(g3)), cli_repl_name(p->repl),
	       (unsigned long long)b->pages, size_str(b->page, sz, sizeof(sz)));
}

static void report_text(const struct bench_ctx *b, const struct config *c,
			const struct bench_clock_info *ci)
{
	char rate[32], name[32];
	unsigned int nnotes = 0;

	header_text(b, c);
	printf("\n  %-16s %9s %9s %12s  %s\n", "workload", "p50 ns", "p99 ns", "rate", "detail");
	for (unsigned int i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];

		snprintf(name, sizeof(name), "%s%s%s", r->name, r->op ? " " : "",
			 r->op ? r->op : "");
		if (r->na) {
			printf("  %-16s %9s %9s %12s  n/a [%u]\n", name, "n/a", "n/a", "n/a",
			       ++nnotes);
			continue;
		}
		printf("  %-16s %9.1f %9.1f %12s  %s%s\n", name, r->st.p50, r->st.p99,
		       rate_str(r->st.p50 > 0 ? 1e9 / r->st.p50 : 0, rate, sizeof(rate)), r->detail,
		       r->note[0] ? " [*]" : "");
	}
	printf("\n");
	nnotes = 0;
	for (unsigned int i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];

		if (r->na)
			printf("  [%u] %s%s%s: %s\n", ++nnotes, r->name, r->op ? " " : "",
			       r->op ? r->op : "", r->note);
		else if (r->note[0])
			printf("  [*] %s%s%s: %s\n", r->name, r->op ? " " : "", r->op ? r->op : "",
			       r->note);
	}
	if (b->shrink[0])
		printf("  region: %llu pages wanted, %llu fit: %s\n", (unsigned long long)b->wanted,
		       (unsigned long long)b->pages, b->shrink);
	printf("  counts: untimed passes, streams from seed 0x%llx, replacement seed %llu; "
	       "times: cpu %d, clock %s, p50/p99 per operation%s\n",
	       (unsigned long long)STREAM_SEED, (unsigned long long)b->o->params.seed, ci->cpu,
	       ci->tsc ? "tsc" : "monotonic", b->o->quick ? ", --quick" : "");
}

static int report_json(const struct bench_ctx *b, const struct config *c,
		       const struct bench_clock_info *ci)
{
	const struct xlate_cache_params *p = &b->o->params;
	json_t *root, *cfg, *rows;

	cfg = json_pack("{ss? ss? ss so so sI sI sI s{so so so so ss sI} ss sb si ss sf}",
			"scenario", c->file, "description", c->description, "mode",
			xs_mode_name(c->mode), "stage1",
			c->mode != XS_S2 ? stage_json(&b->s.s1.cfg) : json_null(), "stage2",
			c->mode != XS_S1 ? stage_json(&b->s.s2.cfg) : json_null(), "region_pages",
			(json_int_t)b->pages, "region_pages_wanted", (json_int_t)b->wanted,
			"page_size", (json_int_t)b->page, "caches", "iotlb", geom_json(&p->iotlb),
			"walk_s1", geom_json(&p->walk[0]), "walk_s2", geom_json(&p->walk[1]), "ipa",
			geom_json(&p->ipa), "replacement", cli_repl_name(p->repl), "seed",
			(json_int_t)p->seed, "stream_seed", STREAM_SEED_STR, "quick", b->o->quick,
			"cpu", ci->cpu, "clock", ci->tsc ? "tsc" : "monotonic", "read_to_read_ns",
			ci->read_to_read_ns);
	rows = json_array();
	root = json_object();
	if (!cfg || !rows || !root) {
		json_decref(cfg);
		json_decref(rows);
		json_decref(root);
		return -ENOMEM;
	}
	if (c->s1_pasid >= 0)
		json_object_set_new(cfg, "stage1_pasid", json_integer(c->s1_pasid));
	json_object_set_new(cfg, "shrink_note",
			    b->shrink[0] ? json_string(b->shrink) : json_null());
	for (unsigned int i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];
		json_t *o = json_pack("{ss sO}", "name", r->name, "params", r->params);
		const char *k;
		json_t *v;

		if (!o)
			continue;
		json_object_set_new(o, "na", json_boolean(r->na));
		json_object_set_new(o, "note", r->note[0] ? json_string(r->note) : json_null());
		jset_f(o, "ns_p50", r->timed ? r->st.p50 : NAN);
		jset_f(o, "ns_p99", r->timed ? r->st.p99 : NAN);
		jset_f(o, "ns_min", r->timed ? r->st.min : NAN);
		jset_f(o, "ns_mean", r->timed ? r->st.mean : NAN);
		jset_f(o, "ops_per_s", r->timed && r->st.p50 > 0 ? 1e9 / r->st.p50 : NAN);
		json_object_set_new(o, "ops", json_string(r->unit));
		jset_u64(o, "samples", r->timed ? r->st.n : 0);
		json_object_foreach(r->fields, k, v) json_object_set(o, k, v);
		json_array_append_new(rows, o);
	}
	json_object_set_new(root, "config", cfg);
	json_object_set_new(root, "workloads", rows);
	return print_json_doc(stdout, root);
}

/* ---------------------------------------------------------------------- */

static int run(const struct bench_cli *o)
{
	struct config c = {0};
	struct bench_ctx *b = calloc(1, sizeof(*b));
	struct bench_clock_info ci;
	const struct pt_cfg *in;
	uint64_t pages;
	int ret;

	if (!b)
		errx(1, "out of memory");
	if (o->scenario)
		scenario_config(&c, o->scenario);
	else
		default_config(&c);
	b->o = o;

	/* The region: 1 GiB of pages, or 4 x the IOTLB for capacity, or the IOTLB for inval. */
	in = c.mode == XS_S2 ? &c.s2c : &c.s1c;
	b->page = pt_page_size(in);
	pages = MAX((1ULL << 30) / b->page, 1ULL);
	if (o->want[WL_INVAL] || o->want[WL_HIT] || o->want[WL_HIT_BATCH])
		pages = MAX(pages, (uint64_t)o->params.iotlb.entries);
	if (o->want[WL_CAPACITY])
		pages = MAX(pages, 4ULL * o->params.iotlb.entries);
	b->wanted = pages;
	{
		struct xs_layout lay;

		ret = xs_layout_fit(&lay, c.mode, &c.s1c, &c.s2c, &pages, MIN_PAGES, b->shrink,
				    sizeof(b->shrink));
		if (ret)
			errx(1, "%s: the configuration cannot hold %u pages of %llu bytes: %s",
			     c.file ? c.file : "default", MIN_PAGES, (unsigned long long)b->page,
			     b->shrink);
		if (pages == b->wanted)
			b->shrink[0] = 0;
		b->pages = pages;
		ret = xs_build_layout(&b->s, c.mode, &c.s1c, &c.s2c, &lay);
		if (ret)
			errx(1, "building the tables: %s", strerror(-ret));
	}

	bench_clock_setup(o->cpu, &ci);
	if (ci.pin_error[0])
		warnx("%s", ci.pin_error);
	/* About 10 s (1 s with --quick) for the whole default run of 11 timed rows. */
	b->budget_ns = o->quick ? 0.06e9 : 0.75e9;

	if (o->want[WL_HIT])
		run_hit(b, false);
	if (o->want[WL_HIT_BATCH])
		run_hit(b, true);
	if (o->want[WL_CAPACITY])
		run_capacity(b);
	if (o->want[WL_WALK])
		run_walk(b);
	if (o->want[WL_SEQ])
		run_seq(b);
	if (o->want[WL_INVAL])
		for (enum inv_op op = INV_PAGE; op < INV_NR; op++)
			run_inval_op(b, op);
	if (o->want[WL_STRICT])
		run_strict(b);

	if (o->json) {
		if (report_json(b, &c, &ci))
			errx(1, "out of memory building the JSON report");
	} else {
		report_text(b, &c, &ci);
	}
	if (fflush(stdout) || ferror(stdout))
		err(1, "stdout");
	for (unsigned int i = 0; i < b->nrows; i++) {
		json_decref(b->rows[i].params);
		json_decref(b->rows[i].fields);
	}
	xs_destroy(&b->s);
	free(c.file);
	free(c.description);
	free(b);
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_cli o = {.cpu = -1};
	const char *cpu = NULL;
	bool any = false, ways_given = false, list = false;
	int c;

	xlate_cache_params_default(&o.params);
	o.params.seed = 1;
	while ((c = cli_getopt(CMD, argc, argv, "w:qjlh", bench_longopts)) != -1) {
		if (cli_opt_cache(CMD, c, optarg, &o.params, &ways_given))
			continue;
		switch (c) {
		case 'w':
			opt_workloads(&o, optarg);
			break;
		case OPT_CPU:
			cpu = optarg;
			break;
		case 'q':
			o.quick = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'l':
			list = true;
			break;
		case 'h':
			cmd_bench_usage(stdout);
			return 0;
		}
	}
	if (optind < argc)
		o.scenario = argv[optind++];
	if (optind < argc)
		cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
	if (cpu) {
		uint64_t v = cli_opt_u64(CMD, "--cpu", cpu);

		if (v >= CPU_SETSIZE)
			cli_usage_error(CMD, "--cpu: expected a CPU number below %d, got %s",
					CPU_SETSIZE, cpu);
		o.cpu = (int)v;
	}
	if (list) {
		list_workloads();
		return 0;
	}
	for (int w = 0; w < WL_NR; w++)
		any |= o.want[w];
	if (!any)
		for (int w = 0; w < WL_NR; w++)
			o.want[w] = true;
	for (int i = 0; i < 2; i++)
		if (o.params.walk[i].ways > o.params.walk[i].entries)
			o.params.walk[i].ways = o.params.walk[i].entries;
	if (o.params.ipa.ways > o.params.ipa.entries)
		o.params.ipa.ways = o.params.ipa.entries;
	if (o.params.iotlb.ways > o.params.iotlb.entries) {
		if (ways_given)
			cli_usage_error(CMD, "--iotlb: %u ways do not fit in %u entries",
					o.params.iotlb.ways, o.params.iotlb.entries);
		o.params.iotlb.ways = o.params.iotlb.entries;
	}
	return run(&o);
}
