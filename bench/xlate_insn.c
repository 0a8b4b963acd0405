// SPDX-License-Identifier: MIT
/*
 * bench/xlate_insn.c - a driver for counting the instructions of the
 * translation paths under callgrind (W4, W6 of perf.md). Not a benchmark:
 * it times nothing. One workload per run, on the setups of xsetup.c and
 * the caches of bench_iotlb / bench_cache_sweep (4096-entry 4-way IOTLB,
 * LRU, the other caches at their defaults):
 *
 *   hit     s1|s2|nested  64 random 4K pages, xlate() one at a time
 *   hit1k   s1|s2|nested  1024 pages, the same (W6's hit path)
 *   batch   s1|s2|nested  the same through xlate_batch() 16 at a time
 *   cap     s1|s2|nested  16384 random 4K pages (4x the IOTLB, 75 % misses)
 *   cap     nested-s2-2m  the same, their IPAs mapped by stage 2 in 2M blocks
 *
 * The measured loop is work() and nothing else; count it with
 *
 *   valgrind --tool=callgrind --toggle-collect=work --callgrind-out-file=cg.out \
 *	build/bench/xlate_insn cap s1
 *
 * and divide the total by the translations it prints. A third argument
 * "stats" prints the caches' counters at the end (to compare two builds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsetup.h"

#define STREAM (1u << 16)

static __attribute__((noinline)) uint64_t work(const struct xlate_cfg *xc, const uint64_t *s,
					       unsigned int n, bool batch)
{
	struct xlate_result res[16];
	enum pt_fault_reason ret[16];
	uint64_t v = 0;

	if (batch) {
		for (unsigned int i = 0; i < n; i += 16) {
			xlate_batch(xc, &s[i & (STREAM - 1)], 16, PT_PROT_R, res, NULL, ret);
			v += res[0].pa;
		}
		return v;
	}
	for (unsigned int i = 0; i < n; i++) {
		xlate(xc, s[i & (STREAM - 1)], PT_PROT_R, &res[0], NULL, NULL);
		v += res[0].pa;
	}
	return v;
}

/* The warm-up passes, outside the counted function. */
static __attribute__((noinline)) void warm(const struct xlate_cfg *xc, const uint64_t *s)
{
	struct xlate_result res;

	for (unsigned int i = 0; i < STREAM; i++)
		xlate(xc, s[i], PT_PROT_R, &res, NULL, NULL);
}

int main(int argc, char **argv)
{
	struct xlate_cache_params p;
	struct xlate_cache *cache;
	struct xsetup s;
	struct xlate_cfg xc;
	enum xs_mode mode = XS_S1;
	uint64_t rng = 42, *stream = malloc(STREAM * sizeof(*stream)), pages;
	unsigned int n = 1u << 16;
	bool batch, s2_2m = false;

	if (argc < 3 || !stream) {
		fprintf(stderr, "usage: xlate_insn hit|hit1k|batch|cap s1|s2|nested|nested-s2-2m [stats]\n");
		return 2;
	}
	if (!strcmp(argv[2], "s2"))
		mode = XS_S2;
	else if (!strcmp(argv[2], "nested"))
		mode = XS_NESTED;
	else if (!strcmp(argv[2], "nested-s2-2m"))
		mode = XS_NESTED, s2_2m = true;
	batch = !strcmp(argv[1], "batch");
	pages = !strcmp(argv[1], "cap") ? 16384 : !strcmp(argv[1], "hit1k") ? 1024 : 64;
	if (xs_build(&s, mode)) {
		fprintf(stderr, "xlate_insn: setup failed\n");
		return 1;
	}
	xlate_cache_params_default(&p);
	p.iotlb = (struct xlate_cache_geom){ 4096, 4 };
	p.repl = XLATE_REPL_LRU;
	if (xlate_cache_new(&p, &cache))
		return 1;
	xc = s.xc;
	xc.cache = cache;
	for (unsigned int i = 0; i < STREAM; i++)
		stream[i] = s2_2m ? xs_addr_4k_s2_2m(&s, xs_rand(&rng) % pages)
				  : xs_addr_4k(&s, xs_rand(&rng) % pages);
	warm(&xc, stream); /* the tables, the caches */
	warm(&xc, stream);
	printf("%llu %s %s translations: %u\n",
	       (unsigned long long)work(&xc, stream, n, batch) & 1, argv[1], argv[2], n);
	/* The caches' counters after everything (warm-up included), to compare builds. */
	if (argc > 3 && !strcmp(argv[3], "stats")) {
		struct xlate_cache_stats st;
		const struct xlate_cache_counters *k[3 + 2 * PT_MAX_LEVELS];
		const char *name[3] = { "iotlb", "ipa", "cfg" };

		xlate_cache_get_stats(cache, &st);
		k[0] = &st.iotlb, k[1] = &st.ipa, k[2] = &st.cfg;
		for (int i = 0; i < 2 * PT_MAX_LEVELS; i++)
			k[3 + i] = &st.walk[i / PT_MAX_LEVELS][i % PT_MAX_LEVELS];
		for (int i = 0; i < 3 + 2 * PT_MAX_LEVELS; i++) {
			if (i < 3)
				printf("%-8s", name[i]);
			else
				printf("walk%d.%d  ", (i - 3) / PT_MAX_LEVELS + 1, (i - 3) % PT_MAX_LEVELS);
			printf(" hits %llu misses %llu fills %llu evictions %llu invalidated %llu\n",
			       (unsigned long long)k[i]->hits, (unsigned long long)k[i]->misses,
			       (unsigned long long)k[i]->fills, (unsigned long long)k[i]->evictions,
			       (unsigned long long)k[i]->invalidated);
		}
	}
	xlate_cache_free(cache);
	xs_destroy(&s);
	free(stream);
	return 0;
}
