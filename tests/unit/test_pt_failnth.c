// SPDX-License-Identifier: MIT
/*
 * Fail-nth sweep of the page-table engine: every allocation that map and
 * unmap can make is made to fail, one at a time, and each failure must
 * unwind to exactly the state before the call.
 *
 * A standard sequence, laid out from each configuration's own geometry so
 * it means the same thing for every format:
 *   - pt_table_init (the root allocation);
 *   - one page where no table exists yet (the single-page path allocating
 *     a table at every level below the root);
 *   - a few pages across the boundary of two root entries (new tables on
 *     both sides, down to the last level);
 *   - one block of each block size, near the top of the input space, each
 *     in a region of its own (new tables);
 *   - a run of pages over three last-level tables, with an output address
 *     that forbids blocks (several new tables in one call);
 *   - a map that allocates tables and then runs into an existing mapping
 *     (-EEXIST: the rollback must free what it allocated);
 *   - an unmap of one page inside the largest block (a chain of splits);
 *   - an unmap cutting the smallest block at both ends;
 *   - an unmap across the root-entry boundary;
 *   - an unmap of everything (only the root remains).
 * A reference run without injection records the return value, the bytes
 * unmapped and the state after every call: the leaf list, nr_tables and
 * table_bytes. Then for N = 1, 2, ... the sequence is re-run with
 * ualloc_fail_nth(N) armed before each call. A call whose N-th allocation
 * failed must return -ENOMEM and leave the state it found; it is then
 * retried without injection and must reach the reference state. The sweep
 * ends at the first N for which no call made N allocations.
 *
 * The tables come from a counting memory port that forwards to the host
 * port: its live count must equal nr_tables after every call and be zero
 * after pt_table_destroy, every table handed out must be all zeroes, and
 * every table handed back must keep the pt_mem contract: all zeroes, or,
 * with the host port's per-table counters, a counter equal to the entries
 * left in it. pt_table_check() after every call verifies the counters of the
 * live tables and that no non-root table is empty. Each configuration runs
 * twice: with the host port's counters and with a copy of the port that
 * has none (the engine's scanning fallback). Under `make check-asan`
 * LeakSanitizer also checks that nothing is left behind in the allocator.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt/pt.h"
#include "tap.h"
#include "util/alloc.h"
#include "util/bits.h"

/* ---------------------------------------------------------------------- */
/* A counting memory port                                                 */

struct count_mem {
	struct pt_mem mem;
	long long live;
	unsigned long dirty_frees;
};

static struct count_mem cmem;

static bool has_counter(size_t size)
{
	return cmem.mem.count.max_size && size >= cmem.mem.count.min_size &&
	       size <= cmem.mem.count.max_size;
}

/*
 * Tables are handed out zeroed, with a zero counter; with PT_ALLOC_OVERWRITE
 * the entries may be anything, so they are scribbled over here: the caller
 * must write every one before it links the table.
 */
static int count_alloc(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
		       void **ptr)
{
	int ret = pt_mem_host.alloc_table(&pt_mem_host, size, flags, pa, ptr);

	if (!ret) {
		uint64_t *p = *ptr;

		for (size_t i = 0; i < size / 8; i++) {
			if (p[i] && !(flags & PT_ALLOC_OVERWRITE))
				cmem.dirty_frees += 1000000; /* a table handed out not zeroed */
			if (flags & PT_ALLOC_OVERWRITE)
				p[i] = 0x5a5a5a5a5a5a5a5aULL ^ i;
		}
		if (has_counter(size)) {
			const struct pt_count *cnt = pt_count_of(&cmem.mem.count, *ptr);

			if (cnt->valid || cnt->tables)
				cmem.dirty_frees += 1000000; /* nor its counter */
		}
		cmem.live++;
	}
	return ret;
}

/* All zeroes, or (with a counter) exactly as many entries as the counter says. */
static void count_free(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
	const uint64_t *p = ptr;
	unsigned int nz = 0;

	for (size_t i = 0; i < size / 8; i++)
		nz += p[i] != 0;
	if (has_counter(size)) {
		const struct pt_count *cnt = pt_count_of(&cmem.mem.count, ptr);

		if (cnt->valid != nz || cnt->tables > cnt->valid)
			cmem.dirty_frees++;
	} else if (nz) {
		cmem.dirty_frees++;
	}
	cmem.live--;
	pt_mem_host.free_table(&pt_mem_host, pa, ptr, size);
}

/* The host port with its counters, or a copy without (the scanning fallback). */
static void count_mem_init(bool counters)
{
	cmem.mem = pt_mem_host;
	cmem.mem.alloc_table = count_alloc;
	cmem.mem.free_table = count_free;
	if (!counters)
		cmem.mem.count = (struct pt_count_map){ 0 };
	cmem.live = 0;
	cmem.dirty_frees = 0;
}

/* ---------------------------------------------------------------------- */
/* State snapshots                                                        */

struct leaf {
	uint64_t iova, pa, size;
	unsigned int prot;
	int level;
};

struct state {
	struct leaf *l;
	size_t n, cap;
	uint64_t nr_tables, table_bytes;
};

static int snap_leaf(void *arg, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
		     int level)
{
	struct state *s = arg;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->l = realloc(s->l, s->cap * sizeof(*s->l));
		TAP_CHECK(s->l, "out of memory");
	}
	s->l[s->n++] = (struct leaf){ iova, pa, size, prot, level };
	return 0;
}

static void snap(const struct pt_table *t, struct state *s)
{
	s->n = 0;
	s->nr_tables = t->nr_tables;
	s->table_bytes = t->table_bytes;
	TAP_CHECK_EQ(pt_for_each_leaf(t, 0, UINT64_MAX, snap_leaf, s), 0, "pt_for_each_leaf");
}

static void state_free(struct state *s)
{
	free(s->l);
	memset(s, 0, sizeof(*s));
}

static void state_expect(const struct pt_table *t, const struct state *want, const char *what,
			 unsigned int op, unsigned long nth)
{
	static struct state now;

	snap(t, &now);
	TAP_CHECK_EQ(now.nr_tables, want->nr_tables, "%s: nr_tables after op %u (fail_nth %lu)",
		     what, op, nth);
	TAP_CHECK_EQ(now.table_bytes, want->table_bytes,
		     "%s: table_bytes after op %u (fail_nth %lu)", what, op, nth);
	TAP_CHECK_EQ(cmem.live, (long long)t->nr_tables,
		     "%s: live tables in the memory port vs nr_tables after op %u (fail_nth %lu)",
		     what, op, nth);
	TAP_CHECK_EQ(cmem.dirty_frees, 0, "a table was freed (or handed out) not zeroed");
	TAP_CHECK_EQ(pt_table_check(t, stderr), 0, "%s: pt_table_check after op %u (fail_nth %lu)",
		     what, op, nth);
	TAP_CHECK_EQ(now.n, want->n, "%s: number of leaves after op %u (fail_nth %lu)", what, op,
		     nth);
	for (size_t i = 0; i < now.n; i++)
		TAP_CHECK(!memcmp(&now.l[i], &want->l[i], sizeof(now.l[i])),
			  "%s: leaf %zu after op %u (fail_nth %lu): 0x%" PRIx64 "+0x%" PRIx64
			  "->0x%" PRIx64 " vs 0x%" PRIx64 "+0x%" PRIx64 "->0x%" PRIx64,
			  what, i, op, nth, now.l[i].iova, now.l[i].size, now.l[i].pa,
			  want->l[i].iova, want->l[i].size, want->l[i].pa);
}

/* ---------------------------------------------------------------------- */
/* The sequence                                                           */

enum { MAP, UNMAP };

struct step {
	int kind;
	uint64_t iova, size, pa;
	unsigned int prot;
	int want; /* return value without injection */
	const char *what;
};

#define MAX_STEPS 16

struct seq {
	struct step s[MAX_STEPS];
	unsigned int n;
};

static void add(struct seq *q, int kind, uint64_t iova, uint64_t size, uint64_t pa, int want,
		const char *what)
{
	TAP_CHECK(q->n < MAX_STEPS, "too many steps");
	q->s[q->n++] = (struct step){ kind, iova, size, pa, PT_PROT_RW, want, what };
}

static void build_seq(const struct pt_cfg *c, struct seq *q)
{
	uint64_t base = c->iova_base, P = pt_page_size(c), top = base + (1ULL << c->ias);
	uint64_t e0 = pt_entry_size(c, 0), lmax = P, blocks[PT_MAX_LEVELS];
	unsigned int nb = 0, n = c->nlevels;
	uint64_t run, span, pa_base = 1ULL << 40;

	/* Block sizes, largest first. */
	for (unsigned int d = 0; d + 1 < n; d++)
		if ((c->leaf_ok & BIT(d)) && !(c->flags & PT_CFG_NO_BLOCKS))
			blocks[nb++] = pt_entry_size(c, d);
	if (nb)
		lmax = blocks[0];

	/* A one-level table has no root-entry boundary that needs tables: start at base. */
	uint64_t cross = base + (e0 > 2 * P ? e0 : 2 * P);

	/* Under the second root entry, away from the pages across the boundary. */
	add(q, MAP, cross + 2 * MAX(pt_entry_size(c, n > 1 ? 1 : 0), 4 * P), P, pa_base + 64 * P, 0,
	    "one page, new tables below the root");
	add(q, MAP, cross - 2 * P, 4 * P, pa_base, 0, "pages across two root entries");
	for (unsigned int k = 0; k < nb; k++)
		add(q, MAP, top - (2 * k + 2) * lmax, blocks[k], pa_base + (2 * k + 2) * lmax, 0,
		    "one block in a region of its own");
	/* Pages over three last-level tables; pa one page off any block alignment. */
	span = n > 1 ? pt_entry_size(c, n - 2) : 64 * P;
	run = top - 8 * lmax - 4 * span;
	add(q, MAP, run + span - P, 2 * span + 2 * P, pa_base + P, 0,
	    "pages over three last-level tables");
	/* New tables below the run, then the run itself: -EEXIST and a rollback. */
	add(q, MAP, run - 2 * span, 3 * span, pa_base + lmax + P, -EEXIST,
	    "allocate, then run into a mapping");
	if (nb) {
		add(q, UNMAP, top - 2 * lmax + lmax / 2 + P, P, 0, 0,
		    "one page out of the largest block");
		add(q, UNMAP, top - 2 * nb * lmax + P, blocks[nb - 1] - 2 * P, 0, 0,
		    "cut the smallest block at both ends");
	}
	add(q, UNMAP, cross - P, 2 * P, 0, 0, "across the root-entry boundary");
	add(q, UNMAP, run + span, span, 0, 0, "a whole last-level table out of the run");
	add(q, UNMAP, base, top - base, 0, 0, "everything");
}

static int run_step(struct pt_table *t, const struct step *s, uint64_t *unmapped)
{
	*unmapped = 0;
	if (s->kind == MAP)
		return pt_map(t, s->iova, s->pa, s->size, s->prot);
	return pt_unmap(t, s->iova, s->size, unmapped);
}

/* ---------------------------------------------------------------------- */
/* Configurations                                                         */

struct fn_spec {
	const char *name;
	struct pt_cfg cfg;
};

/* A test point: a configuration, with or without the port's counters. */
struct fn_run {
	const struct fn_spec *spec;
	bool counters;
};

#define VMSA(st, g, ias_, sl0_) \
	{ .format = PT_VMSA_##st, .granule_shift = (g), .ias = (ias_), .oas = 48, .sl0 = (sl0_) }
#define FMT(f, ias_) { .format = (f), .ias = (ias_), .oas = 48, .sl0 = -1 }
#define TCE(g, ias_, lv, base) \
	{ .format = PT_TCE, .granule_shift = (g), .ias = (ias_), .oas = 48, .levels = (lv), \
	  .iova_base = (base), .sl0 = -1 }

static const struct fn_spec specs[] = {
	{ "vmsa-s1-4k-48", VMSA(S1, 12, 48, 0) },
	{ "vmsa-s1-16k-48", VMSA(S1, 14, 48, 0) },
	{ "vmsa-s1-64k-48", VMSA(S1, 16, 48, 0) },
	{ "vmsa-s2-4k-40-concat2", VMSA(S2, 12, 40, -1) },
	{ "vmsa-s2-4k-32-concat4", VMSA(S2, 12, 32, -1) },
	{ "vmsa-s2-64k-33-1level", VMSA(S2, 16, 33, 0) },
	{ "x86-4level", FMT(PT_X86, 48) },
	{ "x86-5level", FMT(PT_X86, 57) },
	{ "vtd-ss-3level", FMT(PT_VTD_SS, 39) },
	{ "vtd-ss-4level", FMT(PT_VTD_SS, 48) },
	{ "tce-4k-2level", TCE(12, 32, 2, 0) },
	{ "tce-64k-3level-at-2^59", TCE(16, 48, 3, 1ULL << 59) },
};

static void run_spec(void *arg)
{
	const struct fn_run *run = arg;
	const struct fn_spec *sp = run->spec;
	struct pt_cfg c = sp->cfg;
	static struct state ref[MAX_STEPS + 1], before;
	uint64_t ref_unmapped[MAX_STEPS];
	struct seq q = { 0 };
	struct pt_table t;
	unsigned long nth, max_allocs = 0, injected = 0;
	int ret;

	ret = pt_cfg_init(&c);
	if (ret == -EOPNOTSUPP)
		tap_skip("not implemented (%s)", pt_format_name(c.format));
	TAP_CHECK_EQ(ret, 0, "pt_cfg_init");
	build_seq(&c, &q);

	/* Reference run. */
	count_mem_init(run->counters);
	TAP_CHECK_EQ(pt_table_init(&t, &c, &cmem.mem), 0, "pt_table_init");
	/* Every non-root size here has a counter; a one-level table has no non-root table. */
	TAP_CHECK_EQ(t.counted, run->counters && c.nlevels > 1,
		     "counted tables with the host port's counters");
	snap(&t, &ref[0]);
	for (unsigned int i = 0; i < q.n; i++) {
		unsigned long a0 = ualloc_count();

		ret = run_step(&t, &q.s[i], &ref_unmapped[i]);
		TAP_CHECK_EQ(ret, q.s[i].want, "reference run, op %u (%s)", i, q.s[i].what);
		if (ualloc_count() - a0 > max_allocs)
			max_allocs = ualloc_count() - a0;
		snap(&t, &ref[i + 1]);
		TAP_CHECK_EQ(cmem.live, (long long)t.nr_tables, "live tables, op %u", i);
		TAP_CHECK_EQ(pt_table_check(&t, stderr), 0, "pt_table_check, op %u", i);
	}
	TAP_CHECK_EQ(t.nr_tables, 1, "tables after unmapping everything");
	pt_table_destroy(&t);
	TAP_CHECK_EQ(cmem.live, 0, "tables leaked by pt_table_destroy");
	TAP_CHECK_EQ(cmem.dirty_frees, 0, "tables freed not zeroed");

	/* The sweep. */
	for (nth = 1;; nth++) {
		bool fired_any = false;

		count_mem_init(run->counters);
		ualloc_fail_nth(nth);
		ret = pt_table_init(&t, &c, &cmem.mem);
		if (ualloc_fail_nth_pending() == 0) {
			TAP_CHECK_EQ(ret, -ENOMEM, "pt_table_init with fail_nth %lu", nth);
			TAP_CHECK_EQ(cmem.live, 0, "root leaked by a failed pt_table_init");
			ualloc_fail_nth(0);
			ret = pt_table_init(&t, &c, &cmem.mem);
			fired_any = true;
			injected++;
		}
		ualloc_fail_nth(0);
		TAP_CHECK_EQ(ret, 0, "pt_table_init (fail_nth %lu)", nth);

		for (unsigned int i = 0; i < q.n; i++) {
			uint64_t unmapped;
			bool fired;

			snap(&t, &before);
			ualloc_fail_nth(nth);
			ret = run_step(&t, &q.s[i], &unmapped);
			fired = ualloc_fail_nth_pending() == 0;
			ualloc_fail_nth(0);
			if (fired) {
				fired_any = true;
				injected++;
				TAP_CHECK_EQ(ret, -ENOMEM, "op %u (%s) with its allocation %lu failing",
					     i, q.s[i].what, nth);
				TAP_CHECK_EQ(unmapped, 0, "a failed unmap reported bytes");
				state_expect(&t, &before, "after -ENOMEM", i, nth);
				ret = run_step(&t, &q.s[i], &unmapped);
			}
			TAP_CHECK_EQ(ret, q.s[i].want, "op %u (%s), fail_nth %lu", i, q.s[i].what,
				     nth);
			TAP_CHECK_EQ(unmapped, ref_unmapped[i], "bytes unmapped by op %u", i);
			state_expect(&t, &ref[i + 1], "vs the reference run", i, nth);
		}
		pt_table_destroy(&t);
		TAP_CHECK_EQ(cmem.live, 0, "tables leaked (fail_nth %lu)", nth);
		if (!fired_any)
			break;
	}
	TAP_CHECK(nth > max_allocs, "sweep stopped at %lu, but an op made %lu allocations", nth,
		  max_allocs);
	tap_diag("%s%s: %u ops, up to %lu allocations in one call, %lu failures injected",
		 sp->name, run->counters ? "" : " (no counters)", q.n, max_allocs, injected);
	for (unsigned int i = 0; i <= q.n; i++)
		state_free(&ref[i]);
	state_free(&before);
}

int main(void)
{
	static struct fn_run runs[2 * ARRAY_SIZE(specs)];
	static char names[2 * ARRAY_SIZE(specs)][64];

	tap_plan(2 * ARRAY_SIZE(specs));
	for (size_t i = 0; i < 2 * ARRAY_SIZE(specs); i++) {
		const struct fn_spec *sp = &specs[i % ARRAY_SIZE(specs)];
		bool counters = i < ARRAY_SIZE(specs);

		runs[i] = (struct fn_run){ sp, counters };
		snprintf(names[i], sizeof(names[i]), "%s%s", sp->name,
			 counters ? "" : " no-counters");
		tap_run(names[i], run_spec, &runs[i]);
	}
	return tap_done();
}
