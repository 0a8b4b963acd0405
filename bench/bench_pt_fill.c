// SPDX-License-Identifier: MIT
/*
 * bench_pt_fill - W2 of perf.md §5: bulk map of a large contiguous region
 * (a VM's RAM at boot, IOAS_MAP of guest memory), then its unmap.
 *
 * For each 4K-granule format that pt_cfg_init() accepts:
 *   - 64 GiB mapped in one call into an empty table with each leaf size
 *     the format has (4K: 16.7 M PTEs and 128 MiB of tables; 2M; 1G), then
 *     unmapped in one call. The leaf size is forced through the output
 *     address: it is aligned to that size and not to the next one. Reported:
 *     total ns, ns per PTE, table bytes after the map and table bytes still
 *     held after the unmap (empty-table reclaim leaves only the root).
 *   - The shapes of perf.md §7, with the Linux 6.12 figures beside them:
 *     1 GiB at 4K into an empty table (map, then unmap of the 1 GiB in one
 *     call); 1 GiB at 4K into present tables; and the unmap of 1 GiB of 4K
 *     pages as one call.
 *
 * "Present tables" needs a word: Linux 6.12 never frees a table, so a
 * remap finds all of them; our unmap frees empty tables, so to measure the
 * same thing the last page of every 2 MiB stays mapped and the other 511
 * pages of each are mapped and unmapped in 512 calls (261,632 PTEs). The
 * Linux figure is scaled to that PTE count.
 *
 * Each repetition starts from a new table (set up untimed); the first
 * repetition is a warm-up and is not recorded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "pt/pt.h"
#include "util/bits.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)
#define PA_BASE (1ULL << 40)

/* perf.md §7: Linux 6.12 io-pgtable-arm in userspace, this machine kind, ns. */
struct linux_fill {
	double map_1g_empty, unmap_1g_4k, map_1g_present, unmap_1g_subtree;
};

static const struct linux_fill linux_s1 = { 260000, 146000, 229000, 2290 };
static const struct linux_fill linux_s2 = { 305000, 149000, 275000, 2330 };

struct bcfg {
	const char *name;
	struct pt_cfg cfg;
	const struct linux_fill *ref;
};

static const struct bcfg cfgs[] = {
	{ "vmsa-s1-4k", { .format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48 },
	  &linux_s1 },
	{ "vmsa-s2-4k",
	  { .format = PT_VMSA_S2, .granule_shift = 12, .ias = 48, .oas = 48, .sl0 = -1 },
	  &linux_s2 },
	{ "x86-4level", { .format = PT_X86, .ias = 48, .oas = 48, .sl0 = -1 } },
	{ "vtd-ss-4level", { .format = PT_VTD_SS, .ias = 48, .oas = 48, .sl0 = -1 } },
};

static void size_label(uint64_t sz, char *buf, size_t len)
{
	if (sz >= GIB && !(sz & (GIB - 1)))
		snprintf(buf, len, "%lluG", (unsigned long long)(sz >> 30));
	else if (sz >= MIB && !(sz & (MIB - 1)))
		snprintf(buf, len, "%lluM", (unsigned long long)(sz >> 20));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(sz >> 10));
}

static void die(const char *what, const char *desc, int ret)
{
	fprintf(stderr, "bench_pt_fill: %s failed in \"%s\": %d (%s)\n", what, desc, ret,
		strerror(-ret));
	exit(1);
}

static void emit(const char *name, const char *fmt, const char *leaf, uint64_t region,
		 uint64_t ptes, const char *tables, struct bench_stats *st, uint64_t bytes,
		 const char *bytes_key, double linux_ns, unsigned int batch)
{
	struct bench_json j;
	char rl[24];

	size_label(region, rl, sizeof(rl));
	bj_begin(&j, name);
	bj_param_str(&j, "format", fmt);
	bj_param_str(&j, "region", rl);
	bj_param_str(&j, "leaf", leaf);
	bj_param_u64(&j, "ptes", ptes);
	bj_param_str(&j, "tables", tables);
	bj_stats(&j, st);
	bj_f(&j, "ns_per_pte", st->p50 / (double)ptes);
	bj_u64(&j, bytes_key, bytes);
	bj_u64(&j, "batch", batch);
	bj_linux(&j, st, linux_ns);
	bj_end(&j);
}

/*
 * Map @size at @leaf-size leaves into an empty table, then unmap it in one
 * call. A call shorter than a few hundred nanoseconds is timed in a batch
 * of FILL_BATCH tables (each new, set up untimed), so that the timer's own
 * cost (two reads: 20 ns here, in steps of 10 ns) is not in the figure.
 */
#define FILL_BATCH 32

static void fill(const struct bcfg *b, const struct pt_cfg *c, uint64_t size, uint64_t leaf,
		 uint64_t lmax, unsigned int reps, double linux_map, double linux_unmap,
		 const char *unmap_name, bool emit_map)
{
	uint64_t iova = c->iova_base + 4 * 512 * GIB; /* a root entry of its own */
	uint64_t pa = PA_BASE + (leaf == lmax ? 0 : leaf);
	uint64_t ptes = size / leaf, bytes = 0, retained = 0;
	unsigned int nb = ptes <= 512 ? FILL_BATCH : 1;
	double *vm = calloc(reps, sizeof(double)), *vu = calloc(reps, sizeof(double));
	struct pt_table *t = calloc(nb, sizeof(*t));
	struct bench_stats sm, su;
	char desc[128], ll[24];

	size_label(leaf, ll, sizeof(ll));
	snprintf(desc, sizeof(desc), "%s %s %llu at %s", b->name,
		 emit_map ? "fill" : "unmap-subtree", (unsigned long long)(size >> 20), ll);
	if (!bench_want(desc) || !vm || !vu || !t) {
		free(vm);
		free(vu);
		free(t);
		return;
	}
	if (c->ias < 64 && iova + size > c->iova_base + (1ULL << c->ias))
		iova = c->iova_base;
	for (unsigned int r = 0; r <= reps; r++) {
		uint64_t t0, t1, t2, unmapped;
		int ret;

		for (unsigned int k = 0; k < nb; k++)
			if ((ret = pt_table_init(&t[k], c, &pt_mem_host)))
				die("pt_table_init", desc, ret);
		t0 = bench_ticks();
		for (unsigned int k = 0; k < nb; k++)
			if ((ret = pt_map(&t[k], iova, pa, size, PT_PROT_RW)))
				die("map", desc, ret);
		t1 = bench_ticks();
		bytes = t[0].table_bytes;
		for (unsigned int k = 0; k < nb; k++) {
			ret = pt_unmap(&t[k], iova, size, &unmapped);
			if (ret || unmapped != size)
				die("unmap", desc, ret ? ret : -EIO);
		}
		t2 = bench_ticks();
		retained = t[0].table_bytes;
		for (unsigned int k = 0; k < nb; k++)
			pt_table_destroy(&t[k]);
		if (r) {
			vm[r - 1] = bench_ns(t1 - t0) / nb;
			vu[r - 1] = bench_ns(t2 - t1) / nb;
		}
	}
	bench_stats(vm, reps, &sm);
	bench_stats(vu, reps, &su);
	if (emit_map)
		emit("pt_fill_map", b->name, ll, size, ptes, "empty", &sm, bytes, "bytes",
		     linux_map, nb);
	emit(unmap_name, b->name, ll, size, ptes, "one call", &su, retained, "bytes_retained",
	     linux_unmap, nb);
	free(vm);
	free(vu);
	free(t);
}

/*
 * 1 GiB at 4K into present tables: the last page of each 2 MiB region stays
 * mapped, the other 511 are mapped (timed) and unmapped (timed), 512 calls.
 */
static void fill_present(const struct bcfg *b, const struct pt_cfg *c, unsigned int reps)
{
	uint64_t P = pt_page_size(c), iova = c->iova_base + 4 * 512 * GIB, run = 2 * MIB - P;
	uint64_t ptes = 512 * (run / P), bytes = 0;
	double *vm = calloc(reps, sizeof(double)), *vu = calloc(reps, sizeof(double));
	double lmap = 0;
	struct bench_stats sm, su;
	struct pt_table t;
	char desc[128];
	int ret;

	snprintf(desc, sizeof(desc), "%s fill 1024 at 4K present", b->name);
	if (!bench_want(desc) || !vm || !vu || P != 4096) {
		free(vm);
		free(vu);
		return;
	}
	ret = pt_table_init(&t, c, &pt_mem_host);
	if (ret)
		die("pt_table_init", desc, ret);
	for (uint64_t r = 0; r < 512; r++) {
		ret = pt_map(&t, iova + r * 2 * MIB + run, PA_BASE + P + r * 2 * MIB + run, P,
			     PT_PROT_RW);
		if (ret)
			die("neighbour map", desc, ret);
	}
	for (unsigned int rep = 0; rep <= reps; rep++) {
		uint64_t t0, t1, t2, unmapped, total = 0;

		t0 = bench_ticks();
		for (uint64_t r = 0; r < 512; r++) {
			ret = pt_map(&t, iova + r * 2 * MIB, PA_BASE + P + r * 2 * MIB, run,
				     PT_PROT_RW);
			if (ret)
				die("map", desc, ret);
		}
		t1 = bench_ticks();
		bytes = t.table_bytes;
		for (uint64_t r = 0; r < 512; r++) {
			ret = pt_unmap(&t, iova + r * 2 * MIB, run, &unmapped);
			if (ret)
				die("unmap", desc, ret);
			total += unmapped;
		}
		t2 = bench_ticks();
		if (total != 512 * run)
			die("unmapped bytes", desc, -EIO);
		if (rep) {
			vm[rep - 1] = bench_ns(t1 - t0);
			vu[rep - 1] = bench_ns(t2 - t1);
		}
	}
	pt_table_destroy(&t);
	bench_stats(vm, reps, &sm);
	bench_stats(vu, reps, &su);
	if (b->ref)
		lmap = b->ref->map_1g_present * (double)ptes / (double)(GIB / P);
	emit("pt_fill_map", b->name, "4K", GIB, ptes, "present", &sm, bytes, "bytes", lmap, 1);
	emit("pt_fill_unmap", b->name, "4K", GIB, ptes, "present", &su, bytes, "bytes", 0, 1);
	free(vm);
	free(vu);
}

static void run_cfg(const struct bcfg *b)
{
	struct pt_cfg c = b->cfg;
	const struct linux_fill *L = b->ref;
	uint64_t leaves[PT_MAX_LEVELS], lmax;
	unsigned int n = 0;
	int ret = pt_cfg_init(&c);

	if (ret) {
		fprintf(stderr, "# %s: skipped (pt_cfg_init: %s)\n", b->name, strerror(-ret));
		return;
	}
	for (int d = (int)c.nlevels - 1; d >= 0; d--)
		if (c.leaf_ok & BIT(d))
			leaves[n++] = pt_entry_size(&c, (unsigned int)d);
	lmax = leaves[n - 1];

	/* W2: 64 GiB with each leaf size. */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t ptes = 64 * GIB / leaves[i];
		unsigned int reps = ptes > 1000000 ? 3 : ptes > 10000 ? 50 : 2000;

		fill(b, &c, 64 * GIB, leaves[i], lmax, bench_samples(reps, reps < 3 ? reps : 3), 0,
		     0, "pt_fill_unmap", true);
	}
	/* perf.md §7 shapes. */
	if (pt_page_size(&c) == 4096) {
		unsigned int reps = bench_samples(200, 5);

		fill(b, &c, GIB, 4096, lmax, reps, L ? L->map_1g_empty : 0,
		     L ? L->unmap_1g_4k : 0, "pt_fill_unmap", true);
		fill_present(b, &c, reps);
		/* The unmap of that 1 GiB as one call, against Linux's subtree free. */
		fill(b, &c, GIB, 4096, lmax, reps, 0, L ? L->unmap_1g_subtree : 0,
		     "pt_unmap_1g_subtree", false);
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "bench_pt_fill");
	for (size_t i = 0; i < ARRAY_SIZE(cfgs); i++)
		run_cfg(&cfgs[i]);
	return 0;
}
