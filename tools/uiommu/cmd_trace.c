// SPDX-License-Identifier: MIT
/*
 * cmd_trace.c - `uiommu trace`: replay a DMA trace through the caches.
 *
 * What it does. The scenario file builds a nested setup (scenario.c); the
 * trace file (tracefile.c) is read whole and checked; then every
 * transaction is split into the pages it touches, as a device asks for one
 * translation per page, and each page is translated by xlate() with one
 * struct xlate_cache in front of every stage 1 of the scenario. The report
 * says how many translations and faults there were, the hit rate of each
 * cache (IOTLB, the walk caches of each stage and level, the IPA cache),
 * how many descriptors were read (in total, per translation, and what the
 * same trace costs with no caches at all), and how long a translation took.
 * When no output IPA of the trace can have been looked up in the IPA cache
 * (no stage-2 leaf larger than its stage-1 leaf), its row says "n/a" next
 * to the counters' own figure (ipa_note()).
 *
 * Pages: a transaction is cut at the boundaries of its input stage's
 * smallest page (stage 1's granule; stage 2's in a stage-2-only
 * scenario), so a 16 KiB read at 0x1800 over 4K tables is five
 * translations: 0x1800, 0x2000, 0x3000, 0x4000, 0x5000.
 *
 * Contexts: each stage 1 of the scenario is one context of the caches:
 * VMID 1 when there is a stage 2 (0 otherwise), ASID = the PASID for the
 * "pasids" entries and 0x100000 (outside the 20-bit PASID space) for the
 * "stage1" key, so no two stage 1s share an ASID. A line's PASID picks its
 * stage 1; a line without one uses --pasid, else "stage1".
 *
 * Three replays, each from empty caches. The first counts: every
 * translation carries an xlate_record, whose n is the descriptors it read.
 * The second, with the caches off, gives the uncached reads for
 * comparison. The third is timed, with no record, from fresh caches with
 * the same parameters (random replacement uses a fixed seed, so it makes
 * the same choices): ns per translation is wall time over translations,
 * on whatever machine this is, and is reported as informational only.
 *
 * --sweep replays the trace once for every IOTLB size from 16 to 64K
 * entries (powers of two, the associativity of --iotlb, the other caches
 * as configured) and reports miss rate and reads per translation for
 * each, as a table or JSON, and with --svg / --csv as a plot and a CSV
 * file. Sweeps are not timed.
 *
 * Errors: usage errors (exit 2) are found before any file is opened; a
 * scenario or trace problem (exit 1) before anything is printed, so the
 * output is either whole or absent.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "parse.h"
#include "print.h"
#include "scenario.h"
#include "svgplot.h"
#include "tracefile.h"
#include "util/bits.h"
#include "xlate/xlate.h"

#define CMD "trace"

#define STAGE1_ASID  0x100000u /* the "stage1" key's ASID: not a PASID */
#define SWEEP_MIN    16u
#define SWEEP_MAX    65536u
#define SWEEP_POINTS 13 /* 16 .. 64K */
#define DEFAULT_WAYS 4u

void cmd_trace_usage(FILE *f)
{
	fprintf(f,
		"usage: uiommu trace SCENARIO.json TRACE.csv [--iotlb N[,WAYS]] [--walk-cache N]\n"
		"                    [--ipa-cache N] [--repl lru|random] [--seed S] [--pasid N]\n"
		"                    [--sweep [--svg OUT.svg] [--csv OUT.csv]] [--json]\n"
		"\n"
		"Replay a DMA trace through the scenario's nested translation with IOTLB, walk\n"
		"and IPA caches; report hit rates, descriptor reads and time per translation.\n"
		"TRACE.csv has one transaction a line, iova,len,r|w[,pasid] ('#' comments;\n"
		"'-' reads stdin); a transaction is split into one translation per page.\n"
		"\n"
		"Options:\n"
		"      --iotlb N[,WAYS]     IOTLB entries and ways (default 4096,4; 0: off)\n"
		"      --walk-cache N       walk-cache entries per stage and level (default 256)\n"
		"      --ipa-cache N        IPA (stage-2 result) cache entries (default 1024)\n"
		"      --repl POLICY        replacement: lru (default) or random\n"
		"      --seed S             seed of random replacement (default 1)\n"
		"  -p, --pasid N            the PASID of lines that give none (default: the\n"
		"                           scenario's \"stage1\")\n"
		"      --sweep              replay once per IOTLB size, 16 to 64K entries (WAYS\n"
		"                           of --iotlb, its N ignored), and report each\n"
		"      --svg FILE           with --sweep: plot miss rate and reads/translation\n"
		"      --csv FILE           with --sweep: the same figures as CSV\n"
		"  -j, --json               print one JSON object instead of the text report\n"
		"  -h, --help               show this help\n"
		"\n"
		"Cache sizes are powers of two up to 1M. Time per translation is measured on\n"
		"this machine and is informational; the counts are exact and repeatable.\n"
		"Exit status: 0 success (faults included), 1 an error, 2 an input that does\n"
		"not load (scenario, trace) or a usage error.\n"
		"See uiommu-trace(1) and uiommu-trace-gen(1).\n");
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */

struct trace_opts {
	const char *scenario, *trace, *svg, *csv;
	struct xlate_cache_params params;
	long pasid;
	bool sweep, json, ways_given;
};

enum { OPT_SWEEP = CLI_OPT_CACHE_END, OPT_SVG, OPT_CSV };

static const struct option trace_longopts[] = {
	CLI_CACHE_LONGOPTS,
	{"pasid", required_argument, NULL, 'p'},
	{"sweep", no_argument, NULL, OPT_SWEEP},
	{"svg", required_argument, NULL, OPT_SVG},
	{"csv", required_argument, NULL, OPT_CSV},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* ---------------------------------------------------------------------- */
/* Contexts: one translation setup per stage 1 of the scenario           */

struct tctx {
	const struct sc_stage *s1; /* NULL: stage 2 only */
	struct xlate_cfg xc;
	unsigned int page_shift; /* the input stage's smallest page */
	bool present;		 /* the scenario has it */
};

struct env {
	struct scenario *sc;
	long pasid;	   /* --pasid, or -1 */
	unsigned int nctx; /* 1 + nr_pasids: [0] is "stage1" (or stage 2 only) */
	struct tctx *ctx;
	int dflt; /* context of lines without a PASID; -1 with dflt_err */
	char dflt_err[512];
};

static void ctx_init(struct env *e, struct tctx *t, const struct sc_stage *s1, bool present)
{
	const struct scenario *sc = e->sc;

	t->present = present;
	t->s1 = s1;
	scenario_xlate_cfg(sc, s1, &t->xc);
	t->xc.tag.vmid = sc->has_s2 ? 1 : 0;
	t->xc.tag.asid = s1 == &sc->s1 || !s1 ? STAGE1_ASID : s1->pasid;
	if (s1)
		t->page_shift = (unsigned int)ilog2_u64(pt_page_size(&s1->table.cfg));
	else if (sc->has_s2)
		t->page_shift = (unsigned int)ilog2_u64(pt_page_size(&sc->s2.table.cfg));
}

static int env_init(struct env *e, struct scenario *sc, long pasid)
{
	const struct sc_stage *st;
	bool none;

	e->sc = sc;
	e->pasid = pasid;
	e->nctx = 1 + sc->nr_pasids;
	e->ctx = calloc(e->nctx, sizeof(*e->ctx));
	if (!e->ctx)
		return -ENOMEM;
	st = scenario_stage1(sc, -1, &none, e->dflt_err, sizeof(e->dflt_err));
	ctx_init(e, &e->ctx[0], st, st || none);
	for (unsigned int i = 0; i < sc->nr_pasids; i++)
		ctx_init(e, &e->ctx[1 + i], &sc->pasids[i], true);
	e->dflt = e->ctx[0].present ? 0 : -1;
	if (pasid >= 0) {
		st = scenario_stage1(sc, pasid, &none, e->dflt_err, sizeof(e->dflt_err));
		if (!st)
			return -ENOENT;
		e->dflt = 1 + (int)(st - sc->pasids);
	}
	return 0;
}

/* trace_ctx_fn: a line's PASID (or none) to a context. */
static int line_ctx(void *arg, bool has_pasid, uint32_t pasid, uint16_t *ctx, char *msg, size_t len)
{
	struct env *e = arg;
	const struct sc_stage *st;
	bool none;

	if (!has_pasid) {
		if (e->dflt < 0) {
			size_t n = (size_t)snprintf(msg, len,
						    "no PASID on this line, no --pasid, and %s "
						    "has no \"stage1\" (its PASIDs: ",
						    e->sc->file);

			for (unsigned int i = 0; i < e->sc->nr_pasids && n < len; i++)
				n += (size_t)snprintf(msg + n, len - n, "%s%u", i ? ", " : "",
						      e->sc->pasids[i].pasid);
			if (n < len)
				snprintf(msg + n, len - n, ")");
			return -1;
		}
		*ctx = (uint16_t)e->dflt;
		return 0;
	}
	st = scenario_stage1(e->sc, pasid, &none, msg, len);
	if (!st)
		return -1;
	*ctx = (uint16_t)(1 + (st - e->sc->pasids));
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Replay                                                                 */

struct replay {
	uint64_t translations, faults, reads;
	uint64_t fault_by[PT_NR_FAULTS];
	/*
	 * Counted replays: translations through both stages whose stage-2
	 * leaf is larger than the stage-1 leaf. With the IOTLB on, those are
	 * the only output IPAs the IPA cache keeps and looks up (doc/design.md,
	 * "Translation caches"); with none, its hits can only be stage-1 table
	 * fetches, and every output IPA counts a miss that probed nothing.
	 */
	uint64_t s2_larger;
	uint64_t s2_only; /* translations with stage 1 off */
	bool cached;
	struct xlate_cache_stats stats;
	double ns; /* timed replays only */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Replay @t through caches made from @p (none when @p is NULL or every
 * cache is off). @count: record reads and leaf sizes (untimed); else time
 * the replay.
 */
static int replay(struct env *e, const struct trace *t, const struct xlate_cache_params *p,
		  bool count, struct replay *r)
{
	struct xlate_cache *cache = NULL;
	struct xlate_record *rec = NULL;
	struct xlate_result res, *resp = count ? &res : NULL;
	uint64_t t0;
	int ret;

	memset(r, 0, sizeof(*r));
	if (p && (p->iotlb.entries || p->walk[0].entries || p->walk[1].entries || p->ipa.entries)) {
		ret = xlate_cache_new(p, &cache);
		if (ret)
			return ret;
		r->cached = true;
	}
	if (count) {
		rec = malloc(sizeof(*rec));
		if (!rec) {
			xlate_cache_free(cache);
			return -ENOMEM;
		}
	}
	for (unsigned int i = 0; i < e->nctx; i++)
		e->ctx[i].xc.cache = cache;

	t0 = now_ns();
	for (size_t i = 0; i < t->n; i++) {
		const struct trace_op *op = &t->ops[i];
		const struct tctx *c = &e->ctx[op->ctx];
		unsigned int access = op->write ? PT_PROT_W : PT_PROT_R;
		uint64_t a = op->iova, last = op->iova + op->len_m1;

		for (;;) {
			enum pt_fault_reason f = xlate(&c->xc, a, access, resp, NULL, rec);
			uint64_t next = ((a >> c->page_shift) + 1) << c->page_shift;

			r->translations++;
			if (rec)
				r->reads += rec->n;
			if (resp && f == PT_OK && res.s2_size) {
				r->s2_larger += res.s1_size && res.s2_size > res.s1_size;
				r->s2_only += !res.s1_size;
			}
			if (f != PT_OK) {
				r->faults++;
				r->fault_by[f < PT_NR_FAULTS ? f : PT_FAULT_EXT_ABORT]++;
			}
			if (!next || next > last)
				break;
			a = next;
		}
	}
	if (!count)
		r->ns = (double)(now_ns() - t0);

	if (cache)
		xlate_cache_get_stats(cache, &r->stats);
	for (unsigned int i = 0; i < e->nctx; i++)
		e->ctx[i].xc.cache = NULL;
	xlate_cache_free(cache);
	free(rec);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Reports                                                                */

static double rate(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : NAN;
}

/* "256" or "off", for the plot's subtitle. */
static const char *short_geom(const struct xlate_cache_geom *g, char *buf, size_t len)
{
	if (g->entries)
		snprintf(buf, len, "%u", g->entries);
	else
		snprintf(buf, len, "off");
	return buf;
}

/*
 * Walk-cache entries of depth @d hold tables of the next level: the
 * architectural level of depth d + 1 of the stage. -1 when the scenario's
 * stage 1s (PASIDs with different granules) disagree on it.
 */
static int walk_level(const struct env *e, int stage, unsigned int d)
{
	int level = -1;

	for (unsigned int i = 0; i < e->nctx; i++) {
		const struct pt_cfg *cfg = stage == 1 ? e->ctx[i].xc.s1.cfg : e->ctx[i].xc.s2.cfg;
		int l;

		if (!e->ctx[i].present || !cfg || d + 1 >= cfg->nlevels)
			continue;
		l = pt_level(cfg, d + 1);
		if (level >= 0 && l != level)
			return -1;
		level = l;
	}
	return level;
}

/* "walk S1 (L3 tables)", or "walk S1 (depth 2)" when the level is not one. */
static const char *walk_name(const struct env *e, int stage, unsigned int d, char *buf, size_t len)
{
	int level = walk_level(e, stage, d);

	if (level >= 0)
		snprintf(buf, len, "walk S%d (L%d tables)", stage, level);
	else
		snprintf(buf, len, "walk S%d (depth %u)", stage, d);
	return buf;
}

static void text_row(const char *name, const struct xlate_cache_counters *k)
{
	uint64_t n = k->hits + k->misses;
	double hr = rate(k->hits, n);

	if (isnan(hr))
		printf("  %-20s %12llu %12llu %12llu %9s\n", name, 0ULL, 0ULL, 0ULL, "-");
	else
		printf("  %-20s %12llu %12llu %12llu %8.2f%%\n", name, (unsigned long long)n,
		       (unsigned long long)k->hits, (unsigned long long)k->misses, 100 * hr);
}

static void faults_text(const struct replay *r)
{
	bool first = true;

	printf("faults         %llu", (unsigned long long)r->faults);
	for (int f = 1; f < PT_NR_FAULTS; f++) {
		if (!r->fault_by[f])
			continue;
		printf("%s%s %llu", first ? " (" : ", ", pt_fault_name((enum pt_fault_reason)f),
		       (unsigned long long)r->fault_by[f]);
		first = false;
	}
	printf("%s\n", first ? "" : ")");
}

static void caches_line(const struct trace_opts *o, bool cached)
{
	const struct xlate_cache_params *p = &o->params;
	char a[48], b[48], d[48];

	if (!cached) {
		printf("caches         off\n");
		return;
	}
	printf("caches         IOTLB %s; walk %s a stage and level; IPA %s; %s\n",
	       cli_cache_geom_str(&p->iotlb, a, sizeof(a)),
	       cli_cache_geom_str(&p->walk[0], b, sizeof(b)),
	       cli_cache_geom_str(&p->ipa, d, sizeof(d)), cli_repl_name(p->repl));
}

/*
 * Why the IPA cache's row can read 0 %: with the IOTLB on, an output IPA is
 * kept and looked up only when its stage-2 leaf is larger than the
 * stage-1 leaf (a combined IOTLB entry holds the rest), and a look-up with
 * no size to probe still counts as a miss (doc/design.md, "Translation
 * caches"); a stage-2-only translation probes nothing at all. When no
 * translation of the trace had such a leaf (the uncached replay's results
 * say), the row's misses are mostly unprobed ones: the note says so next
 * to the figure, which itself stays the counters' own. NULL: no note.
 */
static const char *ipa_note(const struct trace_opts *o, const struct env *e,
			    const struct replay *nc)
{
	uint64_t ok = nc->translations - nc->faults;

	if (!o->params.iotlb.entries || !o->params.ipa.entries || !e->sc->has_s2 || !ok ||
	    nc->s2_larger)
		return NULL;
	if (nc->s2_only == ok)
		return "n/a, stage 2 alone: the IOTLB holds every stage-2 leaf, so each look-up "
		       "counts a miss with nothing probed";
	return "n/a for output IPAs: no stage-2 leaf was larger than its stage-1 leaf, so "
	       "each counts a miss with nothing probed; only stage-1 table fetches can hit";
}

/* "  (NAME: NOTE)", wrapped at spaces to 78 columns, continued 3 columns in. */
static void text_note(const char *name, const char *note)
{
	int col = printf("  (%s:", name);

	for (const char *p = note; *p;) {
		size_t w = strcspn(p, " ");

		if (col + 1 + (int)w + 1 > 78) {
			printf("\n  ");
			col = 2;
		}
		col += printf(" %.*s", (int)w, p);
		p += w;
		p += *p == ' ';
	}
	printf(")\n");
}

static void report_text(const struct trace_opts *o, const struct env *e, const struct trace *t,
			const struct replay *r, const struct replay *nc, const struct replay *tm)
{
	const struct xlate_cache_stats *s = &r->stats;
	char name[32];

	printf("trace          %s: %zu transactions, %llu bytes\n", t->file, t->n,
	       (unsigned long long)t->bytes);
	printf("scenario       %s%s%s\n", o->scenario, e->sc->description ? ": " : "",
	       e->sc->description ? e->sc->description : "");
	printf("translations   %llu\n", (unsigned long long)r->translations);
	faults_text(r);
	caches_line(o, r->cached);
	if (r->cached) {
		printf("\n  %-20s %12s %12s %12s %9s\n", "cache", "lookups", "hits", "misses",
		       "hit rate");
		text_row("IOTLB", &s->iotlb);
		for (int st = 0; st < 2; st++)
			for (unsigned int d = 0; d < PT_MAX_LEVELS; d++) {
				const struct xlate_cache_counters *k = &s->walk[st][d];

				if (!k->hits && !k->misses)
					continue;
				text_row(walk_name(e, st + 1, d, name, sizeof(name)), k);
			}
		if (s->ipa.hits || s->ipa.misses || o->params.ipa.entries) {
			const char *note = ipa_note(o, e, nc);

			text_row("IPA", &s->ipa);
			if (note)
				text_note("IPA", note);
		}
		printf("\n");
	}
	printf("reads          %llu descriptors, %.3f per translation (no caches: %.3f)\n",
	       (unsigned long long)r->reads, rate(r->reads, r->translations),
	       rate(nc->reads, nc->translations));
	printf("time           %.1f ns per translation (measured here; informational)\n",
	       tm->ns / (double)tm->translations);
}

static json_t *jrate(uint64_t part, uint64_t whole)
{
	return whole ? json_real((double)part / (double)whole) : json_null();
}

static json_t *jcounters(const struct xlate_cache_counters *k)
{
	uint64_t n = k->hits + k->misses;

	return json_pack("{sI sI sI so sI sI sI}", "lookups", (json_int_t)n, "hits",
			 (json_int_t)k->hits, "misses", (json_int_t)k->misses, "hit_rate",
			 jrate(k->hits, n), "fills", (json_int_t)k->fills, "evictions",
			 (json_int_t)k->evictions, "invalidated", (json_int_t)k->invalidated);
}

static json_t *jgeom(const struct xlate_cache_geom *g)
{
	return json_pack("{sI sI}", "entries", (json_int_t)g->entries, "ways", (json_int_t)g->ways);
}

static json_t *jfaults(const struct replay *r)
{
	json_t *o = json_pack("{sI}", "total", (json_int_t)r->faults);

	for (int f = 1; o && f < PT_NR_FAULTS; f++)
		json_object_set_new(o, pt_fault_name((enum pt_fault_reason)f),
				    json_integer((json_int_t)r->fault_by[f]));
	return o;
}

static json_t *jconfig(const struct trace_opts *o)
{
	const struct xlate_cache_params *p = &o->params;

	return json_pack("{so so so so ss}", "iotlb", jgeom(&p->iotlb), "walk_s1",
			 jgeom(&p->walk[0]), "walk_s2", jgeom(&p->walk[1]), "ipa", jgeom(&p->ipa),
			 "replacement", cli_repl_name(p->repl));
}

static json_t *jhead(const struct trace_opts *o, const struct env *e, const struct trace *t)
{
	return json_pack("{ss ss ss? sI sI}", "trace", t->file, "scenario", o->scenario,
			 "description", e->sc->description, "transactions", (json_int_t)t->n,
			 "bytes", (json_int_t)t->bytes);
}

static int report_json(const struct trace_opts *o, const struct env *e, const struct trace *t,
		       const struct replay *r, const struct replay *nc, const struct replay *tm)
{
	const struct xlate_cache_stats *s = &r->stats;
	json_t *root = jhead(o, e, t), *caches = NULL, *walk, *ipa;

	if (!root)
		return -ENOMEM;
	if (r->cached) {
		walk = json_array();
		for (int st = 0; walk && st < 2; st++)
			for (unsigned int d = 0; d < PT_MAX_LEVELS; d++) {
				const struct xlate_cache_counters *k = &s->walk[st][d];
				json_t *row;
				int level;

				if (!k->hits && !k->misses)
					continue;
				row = jcounters(k);
				json_object_set_new(row, "stage", json_integer(st + 1));
				json_object_set_new(row, "depth", json_integer(d));
				level = walk_level(e, st + 1, d);
				json_object_set_new(row, "table_level",
						    level >= 0 ? json_integer(level) : json_null());
				json_array_append_new(walk, row);
			}
		ipa = jcounters(&s->ipa);
		if (ipa) {
			const char *note = ipa_note(o, e, nc);

			json_object_set_new(ipa, "s2_leaf_larger",
					    json_integer((json_int_t)nc->s2_larger));
			json_object_set_new(ipa, "note", note ? json_string(note) : json_null());
		}
		caches = json_pack("{so so so so}", "config", jconfig(o), "iotlb",
				   jcounters(&s->iotlb), "walk", walk, "ipa", ipa);
	}
	json_object_set_new(root, "translations", json_integer((json_int_t)r->translations));
	json_object_set_new(root, "faults", jfaults(r));
	json_object_set_new(root, "caches", caches ? caches : json_null());
	json_object_set_new(root, "reads",
			    json_pack("{sI so so}", "total", (json_int_t)r->reads,
				      "per_translation", jrate(r->reads, r->translations),
				      "uncached_per_translation",
				      jrate(nc->reads, nc->translations)));
	json_object_set_new(root, "ns_per_translation",
			    json_real(tm->ns / (double)tm->translations));
	json_object_set_new(root, "ns_note",
			    json_string("measured on this machine; informational"));
	return print_json_doc(stdout, root);
}

/* ---------------------------------------------------------------------- */
/* Sweep                                                                  */

struct sweep {
	unsigned int n;
	unsigned int ways;
	uint64_t size[SWEEP_POINTS];
	struct replay r[SWEEP_POINTS];
	double miss[SWEEP_POINTS], reads[SWEEP_POINTS], nocache[SWEEP_POINTS];
	struct replay nc;
};

static int run_sweep(const struct trace_opts *o, struct env *e, const struct trace *t,
		     struct sweep *sw)
{
	struct xlate_cache_params p = o->params;
	int ret;

	sw->ways = o->ways_given ? o->params.iotlb.ways : DEFAULT_WAYS;
	ret = replay(e, t, NULL, true, &sw->nc);
	if (ret)
		return ret;
	for (uint64_t size = SWEEP_MIN; size <= SWEEP_MAX; size *= 2) {
		unsigned int i = sw->n++;
		struct replay *r = &sw->r[i];

		p.iotlb.entries = (unsigned int)size;
		p.iotlb.ways = (unsigned int)MIN(size, sw->ways);
		ret = replay(e, t, &p, true, r);
		if (ret)
			return ret;
		sw->size[i] = size;
		sw->miss[i] = 100 * rate(r->stats.iotlb.misses,
					 r->stats.iotlb.hits + r->stats.iotlb.misses);
		sw->reads[i] = rate(r->reads, r->translations);
		sw->nocache[i] = rate(sw->nc.reads, sw->nc.translations);
	}
	return 0;
}

static void sweep_subtitle(const struct trace_opts *o, const struct trace *t,
			   const struct sweep *sw, char *buf, size_t len)
{
	const struct xlate_cache_params *p = &o->params;
	char b[32], c[32];

	snprintf(buf, len,
		 "%llu translations \u00b7 IOTLB %u-way \u00b7 walk caches %s/level \u00b7 "
		 "IPA cache %s \u00b7 %s replacement",
		 (unsigned long long)sw->r[0].translations, sw->ways,
		 short_geom(&p->walk[0], b, sizeof(b)), short_geom(&p->ipa, c, sizeof(c)),
		 p->repl == XLATE_REPL_RANDOM ? "random" : "LRU");
}

static void write_svg(const struct trace_opts *o, const struct trace *t, const struct sweep *sw)
{
	char title[512], sub[512], ref[64];
	struct plot pl = {
		.title = title,
		.subtitle = sub,
		.xlabel = "IOTLB entries (log2 scale)",
		.npoints = sw->n,
		.x = sw->size,
		.npanels = 2,
	};
	struct plot_panel *top = &pl.panel[0], *bottom = &pl.panel[1];
	FILE *f;

	top->ylabel = "IOTLB miss rate (%)";
	top->nseries = 1;
	top->series[0] = (struct plot_series){"IOTLB miss rate", "#1f77b4", sw->miss, false};
	bottom->ylabel = "descriptor reads per translation";
	bottom->nseries = 2;
	bottom->series[0] = (struct plot_series){"with the caches", "#d62728", sw->reads, false};
	snprintf(ref, sizeof(ref), "no caches: %.2f", sw->nocache[0]);
	bottom->series[1] = (struct plot_series){ref, "#7f7f7f", sw->nocache, true};
	snprintf(title, sizeof(title), "IOTLB size sweep: %s on %s", t->file, o->scenario);
	sweep_subtitle(o, t, sw, sub, sizeof(sub));
	f = fopen(o->svg, "w");
	if (!f)
		err(1, "%s", o->svg);
	if (svg_plot_write(f, &pl) | fclose(f))
		errx(1, "%s: write error", o->svg);
}

static void write_csv(const struct trace_opts *o, const struct sweep *sw)
{
	FILE *f = fopen(o->csv, "w");

	if (!f)
		err(1, "%s", o->csv);
	fprintf(f, "iotlb_entries,iotlb_ways,translations,iotlb_hits,iotlb_misses,"
		   "iotlb_miss_rate,reads,reads_per_translation,uncached_reads_per_translation\n");
	for (unsigned int i = 0; i < sw->n; i++) {
		const struct replay *r = &sw->r[i];

		fprintf(f, "%llu,%u,%llu,%llu,%llu,%.6f,%llu,%.6f,%.6f\n",
			(unsigned long long)sw->size[i], (unsigned int)MIN(sw->size[i], sw->ways),
			(unsigned long long)r->translations,
			(unsigned long long)r->stats.iotlb.hits,
			(unsigned long long)r->stats.iotlb.misses, sw->miss[i] / 100,
			(unsigned long long)r->reads, sw->reads[i], sw->nocache[i]);
	}
	if (ferror(f) | fclose(f))
		errx(1, "%s: write error", o->csv);
}

static int sweep_report(const struct trace_opts *o, const struct env *e, const struct trace *t,
			const struct sweep *sw)
{
	char sub[512], lab[16];
	json_t *root, *pts;

	if (!o->json) {
		sweep_subtitle(o, t, sw, sub, sizeof(sub));
		printf("IOTLB size sweep: %s on %s\n%s\n\n", t->file, o->scenario, sub);
		printf("  %8s %12s %12s %12s\n", "entries", "miss rate", "misses", "reads/xlate");
		for (unsigned int i = 0; i < sw->n; i++)
			printf("  %8s %11.2f%% %12llu %12.3f\n",
			       plot_pow2_label(sw->size[i], lab, sizeof(lab)), sw->miss[i],
			       (unsigned long long)sw->r[i].stats.iotlb.misses, sw->reads[i]);
		printf("\n  no caches: %.3f reads per translation; %llu faults\n", sw->nocache[0],
		       (unsigned long long)sw->nc.faults);
		return 0;
	}
	root = jhead(o, e, t);
	pts = json_array();
	if (!root || !pts) {
		json_decref(root);
		json_decref(pts);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < sw->n; i++) {
		const struct replay *r = &sw->r[i];

		json_array_append_new(
			pts, json_pack("{sI sI sI sI so sI so}", "iotlb_entries",
				       (json_int_t)sw->size[i], "translations",
				       (json_int_t)r->translations, "iotlb_hits",
				       (json_int_t)r->stats.iotlb.hits, "iotlb_misses",
				       (json_int_t)r->stats.iotlb.misses, "iotlb_miss_rate",
				       jrate(r->stats.iotlb.misses,
					     r->stats.iotlb.hits + r->stats.iotlb.misses),
				       "reads", (json_int_t)r->reads, "reads_per_translation",
				       jrate(r->reads, r->translations)));
	}
	json_object_set_new(root, "translations", json_integer((json_int_t)sw->nc.translations));
	json_object_set_new(root, "faults", jfaults(&sw->nc));
	json_object_set_new(root, "iotlb_ways", json_integer(sw->ways));
	json_object_set_new(root, "config", jconfig(o));
	json_object_set_new(root, "uncached_reads_per_translation",
			    jrate(sw->nc.reads, sw->nc.translations));
	json_object_set_new(root, "points", pts);
	return print_json_doc(stdout, root);
}

/* ---------------------------------------------------------------------- */

static int run(const struct trace_opts *o)
{
	struct env e = {0};
	struct trace t;
	struct scenario *sc;
	char msg[1024];
	int ret;

	/* Inputs that do not load are 2, as for walk, run and exec. */
	if (scenario_load(o->scenario, &sc, msg, sizeof(msg)))
		errx(2, "%s", msg);
	ret = env_init(&e, sc, o->pasid);
	if (ret == -ENOMEM)
		errx(1, "out of memory");
	if (ret)
		errx(2, "%s", e.dflt_err);
	if (trace_load(o->trace, line_ctx, &e, &t, msg, sizeof(msg)))
		errx(2, "%s", msg);

	if (o->sweep) {
		struct sweep *sw = calloc(1, sizeof(*sw));

		if (!sw)
			errx(1, "out of memory");
		ret = run_sweep(o, &e, &t, sw);
		if (ret)
			errx(1, "replay: %s", strerror(-ret));
		if (o->svg)
			write_svg(o, &t, sw);
		if (o->csv)
			write_csv(o, sw);
		if (sweep_report(o, &e, &t, sw))
			errx(1, "out of memory building the report");
		free(sw);
	} else {
		struct replay r, nc, tm;

		ret = replay(&e, &t, &o->params, true, &r);
		if (!ret)
			ret = replay(&e, &t, NULL, true, &nc);
		if (!ret)
			ret = replay(&e, &t, &o->params, false, &tm);
		if (ret)
			errx(1, "replay: %s", strerror(-ret));
		if (o->json) {
			if (report_json(o, &e, &t, &r, &nc, &tm))
				errx(1, "out of memory building the JSON report");
		} else {
			report_text(o, &e, &t, &r, &nc, &tm);
		}
	}
	if (fflush(stdout) || ferror(stdout))
		err(1, "stdout");
	trace_free(&t);
	free(e.ctx);
	scenario_free(sc);
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_opts o = {.pasid = -1};
	const char *pasid = NULL;
	uint64_t v;
	int c;

	xlate_cache_params_default(&o.params);
	o.params.seed = 1;
	while ((c = cli_getopt(CMD, argc, argv, "p:jh", trace_longopts)) != -1) {
		if (cli_opt_cache(CMD, c, optarg, &o.params, &o.ways_given))
			continue;
		switch (c) {
		case 'p':
			pasid = optarg;
			break;
		case OPT_SWEEP:
			o.sweep = true;
			break;
		case OPT_SVG:
			o.svg = optarg;
			break;
		case OPT_CSV:
			o.csv = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			cmd_trace_usage(stdout);
			return 0;
		}
	}
	if (optind < argc)
		o.scenario = argv[optind++];
	if (optind < argc)
		o.trace = argv[optind++];
	if (optind < argc)
		cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
	if (!o.scenario)
		cli_usage_error(CMD, "expected a SCENARIO file and a TRACE file");
	if (!o.trace)
		cli_usage_error(CMD, "expected a TRACE file after %s", o.scenario);
	if (pasid) {
		v = cli_opt_u64(CMD, "--pasid", pasid);
		if (v > 0xfffff)
			cli_usage_error(CMD, "--pasid: expected a PASID from 0 to 1048575, got %s",
					pasid);
		o.pasid = (long)v;
	}
	if ((o.svg || o.csv) && !o.sweep)
		cli_usage_error(CMD, "%s needs --sweep", o.svg ? "--svg" : "--csv");
	for (int i = 0; i < 2; i++)
		if (o.params.walk[i].ways > o.params.walk[i].entries)
			o.params.walk[i].ways = o.params.walk[i].entries;
	if (o.params.ipa.ways > o.params.ipa.entries)
		o.params.ipa.ways = o.params.ipa.entries;
	if (o.params.iotlb.ways > o.params.iotlb.entries && !o.sweep) {
		if (o.ways_given)
			cli_usage_error(CMD, "--iotlb: %u ways do not fit in %u entries",
					o.params.iotlb.ways, o.params.iotlb.entries);
		o.params.iotlb.ways = o.params.iotlb.entries;
	}
	return run(&o);
}
