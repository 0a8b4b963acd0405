// SPDX-License-Identifier: MIT
/*
 * print.c - how a walk is shown.
 *
 * The text report is built around the classic picture of a nested walk:
 * rows are the steps of stage 1 (one per stage-1 level, then the final
 * IPA), columns the levels of the stage-2 walk that translates the row's
 * IPA, and a last column with the stage-1 descriptor that is then read at
 * the physical address stage 2 produced. Reading the cells in order of
 * their "#n" replays the walk. The grid is derived only from the record
 * (stage, level, s1_step of every read) and the configurations, so it
 * works for any pair of formats, for a single stage, and for walks cut
 * short by a fault.
 *
 * Below it come every read in order with pt_desc_decode()'s reading of
 * the descriptor, then the outcome. Columns are sized to their widest cell
 * so the output stays aligned for 32-bit and 64-bit values alike.
 *
 * With caches (walks in a series share them), a cache hit that replaced
 * reads is marked in the grid where those reads would have been ("walk
 * cache" in the cell above the table it supplied, "ipa cache" in a row's
 * first stage-2 cell, "combined" there when a combined stage-1 walk-cache
 * entry gave that row's table PA too) and listed under the reads; an IOTLB hit replaces
 * the whole grid. After the series come the caches' counters.
 *
 * The JSON report carries the same facts with addresses as "0x..."
 * strings (JSON numbers cannot hold every 64-bit value exactly).
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "print.h"
#include "util/bits.h"

#define CELL 64

/* ---------------------------------------------------------------------- */
/* A small text table: cells in a grid, columns as wide as their content. */

struct table {
	unsigned int rows, cols;
	char (*cell)[CELL];
	char (*note)[CELL]; /* per row: printed after its last cell, not aligned */
	bool *hide;	    /* per row: left out */
};

static int table_init(struct table *t, unsigned int rows, unsigned int cols)
{
	t->rows = rows;
	t->cols = cols;
	t->cell = calloc((size_t)rows * cols, CELL);
	t->note = calloc(rows, CELL);
	t->hide = calloc(rows, sizeof(bool));
	if (t->cell && t->note && t->hide)
		return 0;
	free(t->cell);
	free(t->note);
	free(t->hide);
	return -ENOMEM;
}

static void table_set(struct table *t, unsigned int r, unsigned int c, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void table_set(struct table *t, unsigned int r, unsigned int c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->cell[r * t->cols + c], CELL, fmt, ap);
	va_end(ap);
}

/* table_init() with the first row a header: column c is named @head[c]. */
static int table_init_head(struct table *t, unsigned int rows, unsigned int cols,
			   const char *const head[])
{
	int ret = table_init(t, rows, cols);

	if (ret)
		return ret;
	for (unsigned int c = 0; c < cols; c++)
		table_set(t, 0, c, "%s", head[c]);
	return 0;
}

static const char *table_get(const struct table *t, unsigned int r, unsigned int c)
{
	return t->cell[r * t->cols + c];
}

static void table_print(FILE *f, const struct table *t, const char *indent)
{
	unsigned int w[16] = {0};

	for (unsigned int c = 0; c < t->cols && c < 16; c++)
		for (unsigned int r = 0; r < t->rows; r++)
			if (!t->hide[r] && strlen(table_get(t, r, c)) > w[c])
				w[c] = (unsigned int)strlen(table_get(t, r, c));
	for (unsigned int r = 0; r < t->rows; r++) {
		unsigned int last = 0;

		if (t->hide[r])
			continue;
		/* Trailing empty cells are not padded. */
		for (unsigned int c = 0; c < t->cols; c++)
			if (*table_get(t, r, c))
				last = c;
		fputs(indent, f);
		for (unsigned int c = 0; c <= last; c++)
			fprintf(f, "%-*s%s", c == last ? 0 : (int)w[c], table_get(t, r, c),
				c == last ? "" : "  ");
		fprintf(f, "%s%s\n", *t->note[r] ? "  " : "", t->note[r]);
	}
}

static void table_free(struct table *t)
{
	free(t->cell);
	free(t->note);
	free(t->hide);
	t->cell = NULL;
	t->note = NULL;
	t->hide = NULL;
}

/* ---------------------------------------------------------------------- */
/* Shared helpers                                                         */

static const char *hex(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "0x%llx", (unsigned long long)v);
	return buf;
}

static const struct pt_cfg *stage_cfg(const struct walk_report *w, int stage)
{
	return stage == 1 ? w->xc->s1.cfg : w->xc->s2.cfg;
}

static unsigned int stage_depth(const struct pt_cfg *c, int level)
{
	return (unsigned int)((level - c->start_level) * c->level_step);
}

static unsigned int nr_stored(const struct xlate_record *rec)
{
	return rec->n < XLATE_MAX_READS ? rec->n : XLATE_MAX_READS;
}

static unsigned int nr_hits(const struct xlate_record *rec)
{
	return rec->nhits < XLATE_MAX_HITS ? rec->nhits : XLATE_MAX_HITS;
}

static bool iotlb_hit(const struct walk_report *w)
{
	return w->reason == PT_OK && w->res->iotlb_hit;
}

static int last_level(const struct pt_cfg *c)
{
	return pt_level(c, c->nlevels - 1);
}

static void describe_stage(FILE *f, const char *label, const char *name, const struct pt_cfg *c,
			   uint64_t root, bool root_is_ipa)
{
	char g[24], extra[64] = "";

	if (c->concat > 1)
		snprintf(extra, sizeof(extra), ", %u concatenated root tables", c->concat);
	else if (c->format == PT_TCE && c->iova_base)
		snprintf(extra, sizeof(extra), ", window at 0x%llx",
			 (unsigned long long)c->iova_base);
	fprintf(f, "  %s  %-8s %s granule, ias %u, oas %u, levels %d..%d%s, root %s 0x%llx", label,
		pt_format_name(c->format), size_str(1ULL << c->granule_shift, g, sizeof(g)), c->ias,
		c->oas, c->start_level, last_level(c), extra, root_is_ipa ? "ipa" : "pa",
		(unsigned long long)root);
	if (name)
		fprintf(f, "  (%s)", name);
	fputc('\n', f);
}

/* Stage 2 has no privilege level: its U bit means nothing, so it is not shown. */
static unsigned int result_prot(const struct walk_report *w)
{
	return w->xc->s1.cfg ? w->res->prot : w->res->prot & ~PT_PROT_U;
}

static const char *class_meaning(enum xlate_class cls)
{
	switch (cls) {
	case XLATE_CLASS_CD:
		return "fetching the configuration through stage 2";
	case XLATE_CLASS_TT:
		return "fetching a stage-1 table descriptor";
	case XLATE_CLASS_IN:
		return "the input address itself";
	}
	return "?";
}

/* ---------------------------------------------------------------------- */
/* The grid                                                               */

/* Row of the grid where the walk stopped on a fault (see the file comment). */
static unsigned int fault_row(const struct walk_report *w, unsigned int final)
{
	unsigned int n = nr_stored(w->rec);
	const struct xlate_read *last = n ? &w->rec->r[n - 1] : NULL;
	unsigned int row;

	if (!last)
		return 0;
	row = (unsigned int)last->s1_step;
	/* A stage-2 fault before its first read belongs to the next stage-1 step. */
	if (w->fault->stage == 2 && last->stage == 1)
		row++;
	return row > final ? final : row;
}

static void print_grid(FILE *f, const struct walk_report *w)
{
	const struct pt_cfg *s1 = w->xc->s1.cfg, *s2 = w->xc->s2.cfg;
	unsigned int final = s1 ? s1->nlevels : 0;
	unsigned int s2cols = s2 ? s2->nlevels : 0;
	unsigned int cols = 2 + s2cols + (s1 ? 1 : 0), s1col = cols - 1;
	unsigned int nrows = final + 1, frow = 0;
	unsigned int n = nr_stored(w->rec);
	bool seen[PT_MAX_LEVELS + 1] = {false};
	char b[32];
	struct table t;

	if (table_init(&t, nrows + 1, cols))
		return;
	table_set(&t, 0, 0, "step");
	table_set(&t, 0, 1, "%s", s2 ? "IPA" : "address");
	for (unsigned int d = 0; d < s2cols; d++)
		table_set(&t, 0, 2 + d, "S2 L%d", pt_level(s2, d));
	if (s1)
		table_set(&t, 0, s1col, "S1 descriptor");

	for (unsigned int r = 0; r <= final; r++) {
		if (r < final)
			table_set(&t, r + 1, 0, "S1 L%d", pt_level(s1, r));
		else
			table_set(&t, r + 1, 0, "%s", s1 ? "output" : "input");
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct xlate_read *rd = &w->rec->r[i];
		unsigned int row = (unsigned int)rd->s1_step, col;

		if (row > final)
			continue;
		if (rd->stage == 2 && s2) {
			col = 2 + stage_depth(s2, rd->level);
			if (col >= 2 + s2cols)
				continue;
		} else if (rd->stage == 1 && s1) {
			col = s1col;
		} else {
			continue;
		}
		table_set(&t, row + 1, col, "#%-2u %s", i + 1, hex(rd->value, b, sizeof(b)));
		table_set(&t, row + 1, 1, "%s", hex(rd->ipa, b, sizeof(b)));
		seen[row] = true;
	}

	for (unsigned int i = 0; i < nr_hits(w->rec); i++) {
		const struct xlate_hit *h = &w->rec->hit[i];
		unsigned int row = (unsigned int)h->s1_step, d;

		if (h->s1_step < 0 || row > final)
			continue;
		if (h->cache == XLATE_CACHE_IPA && s2) {
			table_set(&t, row + 1, 2, "ipa cache");
		} else if (h->cache == XLATE_CACHE_WALK_S2 && s2) {
			d = stage_depth(s2, h->level);
			if (d < 1 || d > s2cols)
				continue;
			table_set(&t, row + 1, 2 + d - 1, "walk cache");
		} else if (h->cache == XLATE_CACHE_WALK_S1 && s1 && row >= 1) {
			/* The table of step @row came from the cache: step row - 1's descriptor. */
			table_set(&t, row, s1col, "walk cache");
			seen[row - 1] = true;
			/* Combined: its PA too, so no stage-2 translation of row @row's IPA. */
			if (h->combined && s2)
				table_set(&t, row + 1, 2, "combined");
			continue;
		} else {
			continue;
		}
		if (!*table_get(&t, row + 1, 1))
			table_set(&t, row + 1, 1, "%s", hex(h->addr, b, sizeof(b)));
		seen[row] = true;
	}

	if (w->reason == PT_OK) {
		seen[final] = true;
		table_set(&t, final + 1, 1, "%s", hex(w->res->ipa, b, sizeof(b)));
		snprintf(t.note[final + 1], CELL, "=> pa %s", hex(w->res->pa, b, sizeof(b)));
	} else {
		frow = fault_row(w, final);
		if (!seen[frow] && w->fault->stage == 2)
			table_set(&t, frow + 1, 1, "%s", hex(w->fault->ipa, b, sizeof(b)));
		seen[frow] = true;
		snprintf(t.note[frow + 1], CELL, "<- stage-%d %s fault", w->fault->stage,
			 pt_fault_name(w->reason));
	}

	/* Rows the walk never reached (or skipped: a stage-1 block) are left out. */
	for (unsigned int r = 0; r <= final; r++)
		t.hide[r + 1] = !seen[r];
	table_print(f, &t, "  ");
	table_free(&t);
}

/* ---------------------------------------------------------------------- */
/* Text report                                                            */

static void print_reads(FILE *f, const struct walk_report *w)
{
	static const char *const head[] = {"#",	      "stage", "level", "step",
					   "address", "ipa",   "value", "decoded"};
	unsigned int n = nr_stored(w->rec);
	struct table t;
	char a[32], b[32], dec[CELL];

	if (!w->rec->n) {
		fprintf(f, "  (none)\n");
		return;
	}
	if (table_init_head(&t, n + 1, ARRAY_SIZE(head), head))
		return;
	for (unsigned int i = 0; i < n; i++) {
		const struct xlate_read *rd = &w->rec->r[i];
		const struct pt_cfg *cfg = stage_cfg(w, rd->stage);

		dec[0] = 0;
		if (cfg)
			pt_desc_decode(cfg, rd->level, rd->value, dec, sizeof(dec));
		table_set(&t, i + 1, 0, "%u", i + 1);
		table_set(&t, i + 1, 1, "S%u", rd->stage);
		table_set(&t, i + 1, 2, "L%d", rd->level);
		table_set(&t, i + 1, 3, "%d", rd->s1_step);
		table_set(&t, i + 1, 4, "%s", hex(rd->addr, a, sizeof(a)));
		table_set(&t, i + 1, 5, "%s", hex(rd->ipa, b, sizeof(b)));
		table_set(&t, i + 1, 6, "0x%016llx", (unsigned long long)rd->value);
		table_set(&t, i + 1, 7, "%s", dec);
	}
	table_print(f, &t, "  ");
	table_free(&t);
	if (w->rec->n > n)
		fprintf(f, "  ... %u more reads not recorded\n", w->rec->n - n);
}

static void print_outcome(FILE *f, const struct walk_report *w)
{
	const struct xlate_cfg *xc = w->xc;
	char p[8], q[8], r[8], s[24], s1s[24], s2s[24];

	if (w->reason == PT_OK) {
		const struct xlate_result *res = w->res;

		fprintf(f, "Result: translated%s\n", res->iotlb_hit ? " (IOTLB hit)" : "");
		fprintf(f, "  iova 0x%llx", (unsigned long long)w->iova);
		if (xc->s1.cfg && xc->s2.cfg)
			fprintf(f, " -> ipa 0x%llx", (unsigned long long)res->ipa);
		fprintf(f, " -> pa 0x%llx\n", (unsigned long long)res->pa);
		fprintf(f, "  page size    %s", size_str(res->size, s, sizeof(s)));
		if (xc->s1.cfg && xc->s2.cfg)
			fprintf(f, " (stage 1: %s at L%d, stage 2: %s at L%d)",
				size_str(res->s1_size, s1s, sizeof(s1s)), res->s1_level,
				size_str(res->s2_size, s2s, sizeof(s2s)), res->s2_level);
		else
			fprintf(f, " (leaf at L%d)", xc->s1.cfg ? res->s1_level : res->s2_level);
		fprintf(f, "\n  permissions  %s", prot_letters(result_prot(w), p));
		if (xc->s1.cfg && xc->s2.cfg)
			fprintf(f, " (stage 1: %s, stage 2: %s)", prot_letters(res->s1_prot, q),
				prot_letters(res->s2_prot & ~PT_PROT_U, r));
		fprintf(f, "; access %s allowed\n", prot_letters(w->access, q));
		return;
	}
	fprintf(f, "Fault: stage %d %s fault at level %d\n", w->fault->stage,
		pt_fault_name(w->reason), w->fault->level);
	fprintf(f, "  class          %s (%s)\n", xlate_class_name(w->fault->cls),
		class_meaning(w->fault->cls));
	fprintf(f, "  input address  0x%llx\n", (unsigned long long)w->fault->input_addr);
	if (w->fault->stage == 2)
		fprintf(f, "  ipa            0x%llx\n", (unsigned long long)w->fault->ipa);
	if (w->fault->desc_addr)
		fprintf(f, "  descriptor at  0x%llx\n", (unsigned long long)w->fault->desc_addr);
	fprintf(f, "  access         %s\n", prot_letters(w->access, p));
}

static const char *hit_gave(const struct xlate_hit *h)
{
	switch (h->cache) {
	case XLATE_CACHE_WALK_S1:
		return "table ipa";
	case XLATE_CACHE_WALK_S2:
		return "table pa";
	default:
		return "pa";
	}
}

static void print_hits(FILE *f, const struct walk_report *w)
{
	static const char *const head[] = {"#",	   "cache",	"stage", "level",
					   "step", "looked up", "gave"};
	unsigned int n = nr_hits(w->rec);
	char a[32], b[32];
	struct table t;

	if (table_init_head(&t, n + 1, ARRAY_SIZE(head), head))
		return;
	for (unsigned int i = 0; i < n; i++) {
		const struct xlate_hit *h = &w->rec->hit[i];

		table_set(&t, i + 1, 0, "%u", i + 1);
		table_set(&t, i + 1, 1, "%s", xlate_cache_name((enum xlate_cache_id)h->cache));
		if (h->stage)
			table_set(&t, i + 1, 2, "S%u", h->stage);
		if (h->level >= 0)
			table_set(&t, i + 1, 3, "L%d", h->level);
		if (h->s1_step >= 0)
			table_set(&t, i + 1, 4, "%d", h->s1_step);
		table_set(&t, i + 1, 5, "%s", hex(h->addr, a, sizeof(a)));
		if (h->combined)
			table_set(&t, i + 1, 6, "%s %s, pa %s", hit_gave(h), hex(h->out, b, sizeof(b)),
				  hex(h->out_pa, a, sizeof(a)));
		else
			table_set(&t, i + 1, 6, "%s %s", hit_gave(h), hex(h->out, b, sizeof(b)));
	}
	table_print(f, &t, "  ");
	table_free(&t);
}

/* Everything from the walk on: grid, reads, cache hits, outcome. */
static void print_walk(FILE *f, const struct walk_report *w)
{
	const struct xlate_cfg *xc = w->xc;

	if (w->ranges && w->ttb < 0) {
		fputc('\n', f);
		print_outcome(f, w);
		return;
	}
	if (iotlb_hit(w)) {
		fprintf(f, "\nIOTLB hit: no descriptor read.\n");
	} else {
		fprintf(f, "\n%s walk, %u read%s:\n",
			xc->s1.cfg && xc->s2.cfg ? "Nested" : "Single-stage", w->rec->n,
			w->rec->n == 1 ? "" : "s");
		print_grid(f, w);
		if (xc->s1.cfg && xc->s2.cfg)
			fprintf(f, "  Each row is a stage-1 step: its S2 cells are the stage-2 "
				   "walk of the row's IPA,\n  the S1 cell the stage-1 descriptor "
				   "read at the PA it gave; #n is the order of the reads.\n");
		fprintf(f, "\nReads in order (step: the stage-1 step each read serves):\n");
		print_reads(f, w);
	}
	if (xc->cache && !iotlb_hit(w)) {
		fprintf(f, "\nCache hits, in order (each replaced reads):\n");
		if (w->rec->nhits)
			print_hits(f, w);
		else
			fprintf(f, "  (none)\n");
	}
	fputc('\n', f);
	print_outcome(f, w);
}

static void print_walk_line(FILE *f, const struct walk_report *w)
{
	char a[8];

	fprintf(f, "Walk of iova 0x%llx, access %s", (unsigned long long)w->iova,
		prot_letters(w->access, a));
	if (w->pasid >= 0)
		fprintf(f, ", pasid %ld", w->pasid);
	fputc('\n', f);
	if (!w->ranges)
		return;
	if (w->tbi)
		fprintf(f, "Top byte ignored (TBI): 0x%llx\n",
			(unsigned long long)(w->iova >> 55 & 1 ? w->iova | 0xffULL << 56
							       : w->iova & ~(0xffULL << 56)));
	if (w->ttb == 0)
		fprintf(f, "Table: TTB0 (bits [63:%u] all 0)\n", w->ttb0->cfg->ias);
	else if (w->ttb == 1)
		fprintf(f, "Table: TTB1 (bits [63:%u] all 1), walked as 0x%llx\n",
			w->ttb1->cfg->ias, (unsigned long long)w->walk_in);
	else if (w->ttb1)
		fprintf(f, "Table: none: in neither TTB0's range (bits [63:%u] all 0) nor "
			   "TTB1's (bits [63:%u] all 1)\n",
			w->ttb0->cfg->ias, w->ttb1->cfg->ias);
	else
		fprintf(f, "Table: none: not in TTB0's range (bits [63:%u] all 0), and TTB1 "
			   "is disabled\n",
			w->ttb0->cfg->ias);
}

void walk_print_text(FILE *f, const struct walk_report *w)
{
	const struct xlate_cfg *xc = w->xc;

	fprintf(f, "%s%s%s\n", w->source, w->description ? ": " : "",
		w->description ? w->description : "");
	print_walk_line(f, w);
	fputc('\n', f);
	if (w->ranges) {
		describe_stage(f, "TTB0   ", w->s1_name, w->ttb0->cfg, w->ttb0->root,
			       !!xc->s2.cfg);
		if (w->ttb1)
			describe_stage(f, "TTB1   ", NULL, w->ttb1->cfg, w->ttb1->root,
				       !!xc->s2.cfg);
		else
			fprintf(f, "  TTB1     disabled (EPD1)\n");
	} else if (xc->s1.cfg)
		describe_stage(f, "stage 1", w->s1_name, xc->s1.cfg, xc->s1.root, !!xc->s2.cfg);
	else
		fprintf(f, "  stage 1  off\n");
	if (xc->s2.cfg)
		describe_stage(f, "stage 2", NULL, xc->s2.cfg, xc->s2.root, false);
	else
		fprintf(f, "  stage 2  off\n");
	print_walk(f, w);
}

void walk_print_text_walk(FILE *f, const struct walk_report *w)
{
	fputc('\n', f);
	print_walk_line(f, w);
	print_walk(f, w);
}

static void stats_row(struct table *t, unsigned int *r, const char *name,
		      const struct xlate_cache_counters *k)
{
	if (!(k->hits | k->misses | k->fills | k->evictions | k->invalidated))
		return;
	table_set(t, *r, 0, "%s", name);
	table_set(t, *r, 1, "%llu", (unsigned long long)k->hits);
	table_set(t, *r, 2, "%llu", (unsigned long long)k->misses);
	table_set(t, *r, 3, "%llu", (unsigned long long)k->fills);
	table_set(t, *r, 4, "%llu", (unsigned long long)k->evictions);
	table_set(t, *r, 5, "%llu", (unsigned long long)k->invalidated);
	(*r)++;
}

void walk_print_cache_stats(FILE *f, const struct xlate_cache *c, const struct xlate_cfg *xc,
			    unsigned int walks)
{
	static const char *const head[] = {"cache", "hits",	 "misses",
					   "fills", "evictions", "invalidated"};
	struct xlate_cache_stats st;
	unsigned int r = 1;
	struct table t;
	char name[32];

	xlate_cache_get_stats(c, &st);
	if (table_init_head(&t, 4 + 2 * PT_MAX_LEVELS, ARRAY_SIZE(head), head))
		return;
	stats_row(&t, &r, "iotlb", &st.iotlb);
	for (int s = 0; s < 2; s++) {
		const struct pt_cfg *cfg = s ? xc->s2.cfg : xc->s1.cfg;

		/* Walk-cache entries at depth d give the tables of the next level. */
		for (int d = 0; d < PT_MAX_LEVELS; d++) {
			if (cfg && (unsigned int)d + 1 < cfg->nlevels)
				snprintf(name, sizeof(name), "walk-s%d (L%d tables)", s + 1,
					 pt_level(cfg, (unsigned int)d + 1));
			else
				snprintf(name, sizeof(name), "walk-s%d depth %d", s + 1, d);
			stats_row(&t, &r, name, &st.walk[s][d]);
		}
	}
	stats_row(&t, &r, "ipa", &st.ipa);
	t.rows = r;
	fprintf(f, "\nCaches after %u walk%s:\n", walks, walks == 1 ? "" : "s");
	table_print(f, &t, "  ");
	table_free(&t);
}

/* ---------------------------------------------------------------------- */
/* JSON report                                                            */

static json_t *jhex(uint64_t v)
{
	char b[32];

	return json_string(hex(v, b, sizeof(b)));
}

static json_t *jprot(unsigned int prot)
{
	char b[8];

	prot_letters(prot, b);
	return json_string(prot ? b : "");
}

static json_t *json_stage(const struct pt_cfg *c, uint64_t root)
{
	if (!c)
		return json_null();
	return json_pack("{s:s, s:I, s:i, s:i, s:i, s:i, s:i, s:o}", "format",
			 pt_format_name(c->format), "granule",
			 (json_int_t)(1ULL << c->granule_shift), "ias", (int)c->ias, "oas",
			 (int)c->oas, "start_level", c->start_level, "levels", (int)c->nlevels,
			 "concatenated", (int)c->concat, "root", jhex(root));
}

static json_t *json_leaf(int level, uint64_t size, unsigned int prot)
{
	return json_pack("{s:i, s:I, s:o}", "level", level, "page_size", (json_int_t)size,
			 "permissions", jprot(prot));
}

static json_t *json_hits(const struct walk_report *w)
{
	json_t *hits = json_array();

	for (unsigned int i = 0; hits && i < nr_hits(w->rec); i++) {
		const struct xlate_hit *h = &w->rec->hit[i];
		json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "cache",
				      xlate_cache_name((enum xlate_cache_id)h->cache), "stage",
				      h->stage ? json_integer(h->stage) : json_null(), "level",
				      h->level >= 0 ? json_integer(h->level) : json_null(), "s1_step",
				      h->s1_step >= 0 ? json_integer(h->s1_step) : json_null(),
				      "address", jhex(h->addr), "out", jhex(h->out));

		/* A combined stage-1 walk-cache entry gave the table's PA as well. */
		if (o && h->combined)
			json_object_set_new(o, "out_pa", jhex(h->out_pa));
		json_array_append_new(hits, o);
	}
	return hits;
}

json_t *walk_json(const struct walk_report *w)
{
	const struct xlate_cfg *xc = w->xc;
	json_t *o, *reads, *out;
	char dec[CELL];

	reads = json_array();
	for (unsigned int i = 0; reads && i < nr_stored(w->rec); i++) {
		const struct xlate_read *rd = &w->rec->r[i];
		const struct pt_cfg *cfg = stage_cfg(w, rd->stage);

		dec[0] = 0;
		if (cfg)
			pt_desc_decode(cfg, rd->level, rd->value, dec, sizeof(dec));
		json_array_append_new(reads, json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:s}",
						       "stage", rd->stage, "level", rd->level,
						       "s1_step", rd->s1_step, "address",
						       jhex(rd->addr), "ipa", jhex(rd->ipa),
						       "value", jhex(rd->value), "decoded", dec));
	}
	if (w->reason == PT_OK)
		out = json_pack(
			"{s:o, s:o, s:I, s:o, s:o, s:o}", "output_address", jhex(w->res->pa), "ipa",
			jhex(w->res->ipa), "page_size", (json_int_t)w->res->size, "permissions",
			jprot(result_prot(w)), "stage1",
			xc->s1.cfg ? json_leaf(w->res->s1_level, w->res->s1_size, w->res->s1_prot)
				   : json_null(),
			"stage2",
			xc->s2.cfg ? json_leaf(w->res->s2_level, w->res->s2_size,
					       w->res->s2_prot & ~PT_PROT_U)
				   : json_null());
	else
		out = json_pack("{s:i, s:s, s:i, s:s, s:o, s:o, s:o}", "stage", w->fault->stage,
				"class", xlate_class_name(w->fault->cls), "level", w->fault->level,
				"reason", pt_fault_name(w->reason), "input_address",
				jhex(w->fault->input_addr), "ipa", jhex(w->fault->ipa),
				"descriptor_address", jhex(w->fault->desc_addr));

	o = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:i, s:o, s:b, s:o, s:o}", "source",
		      w->source, "iova", jhex(w->iova), "access",
		      prot_letters(w->access, (char[8]){0}), "pasid",
		      w->pasid >= 0 ? json_integer(w->pasid) : json_null(), "stage1",
		      json_stage(xc->s1.cfg, xc->s1.root), "stage2",
		      json_stage(xc->s2.cfg, xc->s2.root), "read_count", (int)w->rec->n, "reads",
		      reads, "iotlb_hit", iotlb_hit(w), "hits", json_hits(w),
		      w->reason == PT_OK ? "result" : "fault", out);
	if (o && w->ranges) {
		/* Stage 1 with two ranges: which table, and what the walk translated. */
		json_object_set_new(o, "ttb", w->ttb >= 0 ? json_integer(w->ttb) : json_null());
		json_object_set_new(o, "tbi", json_boolean(w->tbi));
		json_object_set_new(o, "walk_input", w->ttb >= 0 ? jhex(w->walk_in) : json_null());
		json_object_set_new(o, "ttb0", json_stage(w->ttb0->cfg, w->ttb0->root));
		json_object_set_new(o, "ttb1", w->ttb1 ? json_stage(w->ttb1->cfg, w->ttb1->root)
						       : json_null());
	}
	return o;
}

int print_json_doc(FILE *f, json_t *doc)
{
	int ret;

	if (!doc)
		return -ENOMEM;
	ret = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (ret)
		return -ENOMEM;
	fputc('\n', f);
	return 0;
}

int walk_print_json(FILE *f, const struct walk_report *w)
{
	return print_json_doc(f, walk_json(w));
}
