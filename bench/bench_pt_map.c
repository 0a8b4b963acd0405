// SPDX-License-Identifier: MIT
/*
 * bench_pt_map - W1 of perf.md §5: page-table map and unmap, per format.
 *
 * For every format that pt_cfg_init() accepts (VMSAv8-64 stage 1 and 2 at
 * 4K, 16K and 64K, and x86, VT-d second stage and TCE once they exist), and
 * for every leaf size the format has (the page and each block size):
 *
 *   1 x leaf, one call            tables warm and tables cold
 *   256 x page, one call          warm and cold
 *   256 x smallest block, one call  warm and cold
 *   256 x page as 256 calls       warm
 *
 * Map and unmap are timed separately: a sample maps a batch of K ranges
 * (timed), then unmaps the same K ranges (timed), and reports each as ns per
 * call. "Warm" keeps one neighbouring leaf mapped in every table the ranges
 * land in, so unmap does not free the table and the next map does not
 * allocate it again: that is how Linux 6.12 behaves (it never frees tables)
 * and what the kernel's harness measures. "Cold" keeps the neighbour one
 * level up instead, so every map allocates the table that holds its leaves
 * and every unmap frees it: the cost of our empty-table reclaim.
 *
 * Linux figures are the io-pgtable-arm numbers of perf.md §7 (Linux 6.12
 * built in userspace on this machine kind, 4K granule, tables warm, p50);
 * they are constants here because the kernel's code is not built in this
 * repository. Only the VMSA 4K warm workloads have them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "pt/pt.h"
#include "util/bits.h"

/* perf.md §7: Linux 6.12 io-pgtable-arm, userspace, 2-core AMD EPYC VM, p50 ns. */
struct linux_ref {
	double map_page, unmap_page;	   /* 1 x 4K */
	double map_256, unmap_256;	   /* 256 x 4K, one call */
	double map_256_calls, unmap_256_calls; /* 256 x 4K, 256 calls */
	double map_2m, unmap_2m;	   /* 1 x 2M block */
};

static const struct linux_ref linux_s1 = { 12.5, 12.8, 251, 160, 3060, 3150, 10.9, 10.7 };
static const struct linux_ref linux_s2 = { 13.1, 12.8, 300, 160, 3130, 3160, 11.6, 10.7 };

struct bcfg {
	const char *name;
	struct pt_cfg cfg;
	const struct linux_ref *ref;
};

static const struct bcfg cfgs[] = {
	{ "vmsa-s1-4k", { .format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48 },
	  &linux_s1 },
	{ "vmsa-s2-4k",
	  { .format = PT_VMSA_S2, .granule_shift = 12, .ias = 48, .oas = 48, .sl0 = -1 },
	  &linux_s2 },
	{ "vmsa-s1-16k", { .format = PT_VMSA_S1, .granule_shift = 14, .ias = 48, .oas = 48 } },
	{ "vmsa-s2-16k",
	  { .format = PT_VMSA_S2, .granule_shift = 14, .ias = 48, .oas = 48, .sl0 = -1 } },
	{ "vmsa-s1-64k", { .format = PT_VMSA_S1, .granule_shift = 16, .ias = 48, .oas = 48 } },
	{ "vmsa-s2-64k",
	  { .format = PT_VMSA_S2, .granule_shift = 16, .ias = 48, .oas = 48, .sl0 = -1 } },
	{ "x86-4level", { .format = PT_X86, .ias = 48, .oas = 48, .sl0 = -1 } },
	{ "x86-5level", { .format = PT_X86, .ias = 57, .oas = 48, .sl0 = -1 } },
	{ "vtd-ss-4level", { .format = PT_VTD_SS, .ias = 48, .oas = 48, .sl0 = -1 } },
	{ "tce-4k-2level",
	  { .format = PT_TCE, .granule_shift = 12, .ias = 32, .oas = 48, .levels = 2, .sl0 = -1 } },
	{ "tce-64k-3level",
	  { .format = PT_TCE, .granule_shift = 16, .ias = 48, .oas = 48, .levels = 3,
	    .iova_base = 1ULL << 59, .sl0 = -1 } },
};

static void size_label(uint64_t sz, char *buf, size_t len)
{
	if (sz >= (1ULL << 30) && !(sz & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%lluG", (unsigned long long)(sz >> 30));
	else if (sz >= (1ULL << 20) && !(sz & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%lluM", (unsigned long long)(sz >> 20));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(sz >> 10));
}

static void die(const char *what, const char *desc, int ret)
{
	fprintf(stderr, "bench_pt_map: %s failed in \"%s\": %d (%s)\n", what, desc, ret,
		strerror(-ret));
	exit(1);
}

struct wl {
	unsigned int depth; /* depth of the leaves */
	uint64_t count;	    /* leaves per range */
	bool split;	    /* map the range as @count one-leaf calls */
	bool cold;	    /* the leaf table is allocated / freed by every call */
	double linux_map, linux_unmap;
};

static uint64_t pa_of(const struct pt_cfg *c, uint64_t iova)
{
	unsigned int bits = c->oas < 48 ? c->oas : 48;

	/* Same alignment as the IOVA, below the output size. */
	return (iova - c->iova_base) & ((1ULL << (bits - 1)) - 1);
}

static int map_range(struct pt_table *t, uint64_t iova, uint64_t size, uint64_t leaf, bool split)
{
	const struct pt_cfg *c = &t->cfg;

	if (!split)
		return pt_map(t, iova, pa_of(c, iova), size, PT_PROT_RW);
	for (uint64_t off = 0; off < size; off += leaf) {
		int ret = pt_map(t, iova + off, pa_of(c, iova + off), leaf, PT_PROT_RW);

		if (ret)
			return ret;
	}
	return 0;
}

static int unmap_range(struct pt_table *t, uint64_t iova, uint64_t size, uint64_t leaf,
		       bool split, uint64_t *unmapped)
{
	uint64_t u, total = 0;

	if (!split)
		return pt_unmap(t, iova, size, unmapped);
	for (uint64_t off = 0; off < size; off += leaf) {
		int ret = pt_unmap(t, iova + off, leaf, &u);

		if (ret)
			return ret;
		total += u;
	}
	*unmapped = total;
	return 0;
}

static void run_wl(const struct bcfg *b, const struct pt_cfg *c, const struct wl *w)
{
	uint64_t E = pt_entry_size(c, w->depth), size = E * w->count;
	uint64_t entries = 1ULL << c->bits[w->depth];
	uint64_t span = w->depth ? pt_entry_size(c, w->depth - 1) : 0; /* one leaf table */
	uint64_t top = c->ias < 64 ? 1ULL << c->ias : UINT64_MAX;
	uint64_t per_table, K, *iova, base = c->iova_base;
	unsigned int samples, warm_up;
	char desc[160], lbl[24], plbl[24];
	struct bench_stats sm, su;
	struct bench_json j;
	struct pt_table t;
	double *vm, *vu;
	uint64_t bytes = 0;
	int ret;

	size_label(E, lbl, sizeof(lbl));
	size_label(pt_page_size(c), plbl, sizeof(plbl));
	snprintf(desc, sizeof(desc), "%s map %llux%s%s %s", b->name,
		 (unsigned long long)w->count, lbl, w->split ? " as calls" : "",
		 w->cold ? "cold" : "warm");
	if (!bench_want(desc))
		return;
	if (w->count >= entries || (w->cold && w->depth == 0))
		return;

	/* Where the K ranges of a batch go. */
	if (w->cold) {
		uint64_t parent_entries = 1ULL << c->bits[w->depth - 1];

		K = w->count == 1 ? 256 : 16;
		if (K > parent_entries - 1)
			K = parent_entries - 1;
		per_table = 1;
	} else {
		K = w->count == 1 && !w->split ? 256 : w->split ? 1 : 16;
		per_table = (entries - 1) / w->count;
		if (!span && K > per_table)
			K = per_table;
	}
	if (span && (K + per_table - 1) / per_table + 1 > (top >> (__builtin_ctzll(span))))
		return; /* does not fit the input space */

	iova = calloc(K, sizeof(*iova));
	ret = pt_table_init(&t, c, &pt_mem_host);
	if (ret || !iova)
		die("pt_table_init", desc, ret ? ret : -ENOMEM);
	for (uint64_t k = 0; k < K; k++) {
		uint64_t tab = k / per_table, slot = k % per_table;

		iova[k] = base + tab * span + slot * size;
	}
	/* Neighbours: what keeps the tables alive. */
	if (w->cold) {
		/* Last entry of the parent table of all K leaf tables. */
		uint64_t parent_span = span << c->bits[w->depth - 1];
		uint64_t nb = base + parent_span - E;

		ret = pt_map(&t, nb, pa_of(c, nb), E, PT_PROT_RW);
		if (ret)
			die("neighbour map", desc, ret);
	} else {
		uint64_t ntab = span ? (K + per_table - 1) / per_table : 1;

		for (uint64_t tab = 0; tab < ntab; tab++) {
			uint64_t nb = base + tab * span + (entries - 1) * E;

			ret = pt_map(&t, nb, pa_of(c, nb), E, PT_PROT_RW);
			if (ret)
				die("neighbour map", desc, ret);
		}
	}

	/*
	 * A pilot batch over all K ranges sets the batch size actually used (a
	 * batch of maps should last about 4 us, so the timer does not matter)
	 * and the number of samples that fits the time budget.
	 */
	{
		uint64_t t0 = bench_ticks(), t1, t2, unmapped;
		double per_map, per_all;

		for (uint64_t k = 0; k < K; k++)
			if ((ret = map_range(&t, iova[k], size, E, w->split)))
				die("map", desc, ret);
		t1 = bench_ticks();
		for (uint64_t k = 0; k < K; k++)
			if ((ret = unmap_range(&t, iova[k], size, E, w->split, &unmapped)))
				die("unmap", desc, ret);
		t2 = bench_ticks();
		per_map = bench_ns(t1 - t0) / (double)K;
		per_all = bench_ns(t2 - t0) / (double)K;
		if (per_map * (double)K > 4000 && per_map > 0) {
			uint64_t k = (uint64_t)(4000 / per_map) + 1;

			K = k < K ? k : K;
		}
		samples = bench_samples_for(per_all * (double)K, 200, 10000);
	}
	warm_up = samples / 10 + 5;
	vm = calloc(samples, sizeof(double));
	vu = calloc(samples, sizeof(double));
	if (!vm || !vu)
		die("calloc", desc, -ENOMEM);

	for (unsigned int s = 0; s < samples + warm_up; s++) {
		uint64_t t0, t1, t2, unmapped = 0, total = 0;

		t0 = bench_ticks();
		for (uint64_t k = 0; k < K; k++) {
			ret = map_range(&t, iova[k], size, E, w->split);
			if (ret)
				die("map", desc, ret);
		}
		t1 = bench_ticks();
		if (s == 0)
			bytes = t.table_bytes;
		for (uint64_t k = 0; k < K; k++) {
			ret = unmap_range(&t, iova[k], size, E, w->split, &unmapped);
			if (ret)
				die("unmap", desc, ret);
			total += unmapped;
		}
		t2 = bench_ticks();
		if (total != K * size)
			die("unmapped bytes", desc, -EIO);
		if (s >= warm_up) {
			vm[s - warm_up] = bench_ns(t1 - t0) / (double)K;
			vu[s - warm_up] = bench_ns(t2 - t1) / (double)K;
		}
	}
	bench_stats(vm, samples, &sm);
	bench_stats(vu, samples, &su);

	for (int unmap = 0; unmap < 2; unmap++) {
		const struct bench_stats *st = unmap ? &su : &sm;

		bj_begin(&j, unmap ? "pt_unmap" : "pt_map");
		bj_param_str(&j, "format", b->name);
		bj_param_str(&j, "page", plbl);
		bj_param_str(&j, "leaf", lbl);
		bj_param_u64(&j, "leaf_bytes", E);
		bj_param_u64(&j, "count", w->count);
		bj_param_u64(&j, "calls", w->split ? w->count : 1);
		bj_param_str(&j, "tables", w->cold ? "cold" : "warm");
		bj_stats(&j, st);
		bj_f(&j, "ns_per_pte", st->p50 / (double)w->count);
		bj_u64(&j, "batch", K);
		bj_u64(&j, "bytes", bytes);
		bj_linux(&j, st, unmap ? w->linux_unmap : w->linux_map);
		bj_end(&j);
	}
	free(vm);
	free(vu);
	free(iova);
	pt_table_destroy(&t);
}

static void run_cfg(const struct bcfg *b)
{
	struct pt_cfg c = b->cfg;
	const struct linux_ref *L = b->ref;
	int ret = pt_cfg_init(&c);
	unsigned int last, smallest_block = 0;
	bool have_block = false;

	if (ret) {
		fprintf(stderr, "# %s: skipped (pt_cfg_init: %s)\n", b->name, strerror(-ret));
		return;
	}
	last = c.nlevels - 1;
	for (int d = (int)last - 1; d >= 0; d--)
		if (c.leaf_ok & BIT(d)) {
			smallest_block = (unsigned int)d;
			have_block = true;
			break;
		}

	for (int cold = 0; cold < 2; cold++) {
		/* 1 x leaf, every leaf size. */
		for (int d = (int)last; d >= 0; d--) {
			struct wl w = { .depth = (unsigned int)d, .count = 1, .cold = cold };

			if (!(c.leaf_ok & BIT(d)))
				continue;
			if (L && !cold && d == (int)last) {
				w.linux_map = L->map_page;
				w.linux_unmap = L->unmap_page;
			} else if (L && !cold && pt_entry_size(&c, (unsigned int)d) == (2ULL << 20)) {
				w.linux_map = L->map_2m;
				w.linux_unmap = L->unmap_2m;
			}
			run_wl(b, &c, &w);
		}
		/* 256 x page and 256 x the smallest block, one call. */
		{
			struct wl w = { .depth = last, .count = 256, .cold = cold };

			if (L && !cold) {
				w.linux_map = L->map_256;
				w.linux_unmap = L->unmap_256;
			}
			run_wl(b, &c, &w);
		}
		if (have_block) {
			struct wl w = { .depth = smallest_block, .count = 256, .cold = cold };

			run_wl(b, &c, &w);
		}
	}
	/* 256 x page as 256 calls, warm. */
	{
		struct wl w = { .depth = last, .count = 256, .split = true };

		if (L) {
			w.linux_map = L->map_256_calls;
			w.linux_unmap = L->unmap_256_calls;
		}
		run_wl(b, &c, &w);
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "bench_pt_map");
	for (size_t i = 0; i < ARRAY_SIZE(cfgs); i++)
		run_cfg(&cfgs[i]);
	return 0;
}
