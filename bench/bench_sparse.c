// SPDX-License-Identifier: MIT
/*
 * bench_sparse - W3 of perf.md §5, the iova_stress pattern: map one 4K page
 * every 2 MiB across 16 TiB of IOVA and unmap it again at once, 8.4 M
 * pairs, at the page-table layer (lib/pt, one call each).
 *
 * Every map lands in a 2 MiB region no other page uses, so it allocates the
 * last-level table (and, every 1 GiB and 512 GiB, the tables above it), and
 * every unmap leaves that table empty: Linux 6.12 keeps every such table
 * (about 32 GiB after the run, perf.md §5), ours are freed by the empty-
 * table reclaim inside pt_unmap(), whose cost is in the timing. Reported
 * per format (VMSAv8-64 stage 1 and stage 2, 4K granule, 48-bit input):
 * ns per pair (the whole run over the pairs, and p50 / p99 of batches of
 * 4096 pairs), the table bytes at their peak (read after every map) and
 * the bytes still held after the last unmap. --quick runs 1/16 of the
 * pairs (1 TiB).
 *
 * Not measured: the variant that maps all 8.4 M pages before unmapping
 * any, whose tables (32 GiB, as Linux's) do not fit this 24 GiB machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "pt/pt.h"

#define MIB	 (1ULL << 20)
#define TIB	 (1ULL << 40)
#define PA_BASE	 (1ULL << 46)
#define BATCH	 4096u
#define SPAN_ALL (16 * TIB)

struct bcfg {
	const char *name;
	struct pt_cfg cfg;
};

static const struct bcfg cfgs[] = {
	{"vmsa-s1-4k", {.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48}},
	{"vmsa-s2-4k",
	 {.format = PT_VMSA_S2, .granule_shift = 12, .ias = 48, .oas = 48, .sl0 = -1}},
};

static int sparse(const struct bcfg *b)
{
	const uint64_t span = bench_opts.quick ? SPAN_ALL / 16 : SPAN_ALL;
	const uint64_t pairs = span / (2 * MIB), nb = pairs / BATCH;
	uint64_t peak = 0, retained, t_all0, t_all1, unmapped, iova;
	struct bench_stats st;
	struct bench_json j;
	struct pt_cfg c = b->cfg;
	struct pt_table t;
	double *v;
	char desc[64];
	int ret;

	snprintf(desc, sizeof(desc), "sparse %s", b->name);
	if (!bench_want(desc))
		return 0;
	ret = pt_cfg_init(&c);
	if (!ret)
		ret = pt_table_init(&t, &c, &pt_mem_host);
	if (ret) {
		fprintf(stderr, "bench_sparse: %s: %s\n", b->name, strerror(-ret));
		return ret;
	}
	v = calloc(nb, sizeof(*v));
	if (!v) {
		pt_table_destroy(&t);
		return -ENOMEM;
	}
	iova = c.iova_base;
	t_all0 = bench_ticks();
	for (uint64_t k = 0; k < nb; k++) {
		uint64_t t0 = bench_ticks();

		for (unsigned int i = 0; i < BATCH; i++, iova += 2 * MIB) {
			ret = pt_map(&t, iova, PA_BASE + (iova & (TIB - 1)), 4096, PT_PROT_RW);
			if (ret)
				break;
			if (t.table_bytes > peak)
				peak = t.table_bytes;
			ret = pt_unmap(&t, iova, 4096, &unmapped);
			if (ret || unmapped != 4096) {
				ret = ret ? ret : -EIO;
				break;
			}
		}
		if (ret)
			break;
		v[k] = bench_ns(bench_ticks() - t0) / BATCH;
	}
	t_all1 = bench_ticks();
	retained = t.table_bytes;
	pt_table_destroy(&t);
	if (ret) {
		fprintf(stderr, "bench_sparse: %s: at IOVA %#llx: %s\n", b->name,
			(unsigned long long)iova, strerror(-ret));
		free(v);
		return ret;
	}
	bench_stats(v, (unsigned int)nb, &st);
	bj_begin(&j, "sparse_map_unmap");
	bj_param_str(&j, "format", b->name);
	bj_param_u64(&j, "span_bytes", span);
	bj_param_u64(&j, "stride_bytes", 2 * MIB);
	bj_param_u64(&j, "pairs", pairs);
	bj_stats(&j, &st);
	bj_f(&j, "ns_per_pair_whole_run", bench_ns(t_all1 - t_all0) / (double)pairs);
	bj_f(&j, "seconds_whole_run", bench_ns(t_all1 - t_all0) / 1e9);
	bj_u64(&j, "table_bytes_peak", peak);
	bj_u64(&j, "table_bytes_retained", retained);
	bj_end(&j);
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;

	bench_init(argc, argv, "bench_sparse");
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		if (sparse(&cfgs[i]))
			rc = 1;
	return rc;
}
