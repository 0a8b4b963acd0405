// SPDX-License-Identifier: MIT
/*
 * bench/pt_insn.c - a driver for counting the instructions of lib/pt's map
 * and unmap under callgrind (W1, W2 of perf.md). Not a benchmark: it times
 * nothing. One workload per run, in the shapes of bench_pt_map (tables
 * warm: a neighbouring leaf keeps every table alive) and bench_pt_fill (a
 * new table each repetition, set up outside the counted functions):
 *
 *   page    <fmt>   1 x page, 256 ranges of one table, map then unmap
 *   block   <fmt>   1 x the smallest block (2M at 4K), the same
 *   p256    <fmt>   256 x page in one call, 16 tables
 *   fill1g  <fmt>   64 GiB of 1G blocks into an empty table, then unmapped
 *   fill2m  <fmt>   1 GiB of 2M blocks, the same
 *   fill4k  <fmt>   1 GiB of 4K pages, the same
 *
 * <fmt> is vmsa-s1, vmsa-s2, x86 or vtd (4K granule, 48 bits). The maps
 * are counted in work_map() and the unmaps in work_unmap(); count them with
 *
 *   valgrind --tool=callgrind --toggle-collect='work*' --callgrind-out-file=cg.out \
 *	build/bench/pt_insn block vmsa-s1
 *   callgrind_annotate --inclusive=yes cg.out | grep work_
 *
 * and divide each by the calls it prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt/pt.h"
#include "util/bits.h"

#define GIB (1ULL << 30)
#define REPS 64

static void die(const char *what, int ret)
{
	fprintf(stderr, "pt_insn: %s: %d (%s)\n", what, ret, strerror(-ret));
	exit(1);
}

/* Output address iova + @delta: its alignment picks the leaf size. */
static __attribute__((noinline)) void do_map(struct pt_table *t, const uint64_t *iova,
					     unsigned int k, uint64_t size, uint64_t delta)
{
	for (unsigned int i = 0; i < k; i++) {
		int ret = pt_map(t, iova[i], iova[i] + delta, size, PT_PROT_RW);

		if (ret)
			die("map", ret);
	}
}

static __attribute__((noinline)) void do_unmap(struct pt_table *t, const uint64_t *iova,
					       unsigned int k, uint64_t size)
{
	for (unsigned int i = 0; i < k; i++) {
		uint64_t u;
		int ret = pt_unmap(t, iova[i], size, &u);

		if (ret || u != size)
			die("unmap", ret ? ret : -5);
	}
}

/* The counted calls (the warm-up calls do_map() / do_unmap() directly). */
static __attribute__((noinline)) void work_map(struct pt_table *t, const uint64_t *iova,
					       unsigned int k, uint64_t size, uint64_t delta)
{
	do_map(t, iova, k, size, delta);
}

static __attribute__((noinline)) void work_unmap(struct pt_table *t, const uint64_t *iova,
						 unsigned int k, uint64_t size)
{
	do_unmap(t, iova, k, size);
}

int main(int argc, char **argv)
{
	struct pt_cfg c = { .granule_shift = 12, .ias = 48, .oas = 48, .sl0 = -1 };
	uint64_t iova[256], size, leaf, delta = 1ULL << 40;
	unsigned int k = 0, calls = 0;
	struct pt_table t;
	int ret;

	if (argc < 3) {
		fprintf(stderr, "usage: pt_insn page|block|p256|fill1g|fill2m|fill4k "
				"vmsa-s1|vmsa-s2|x86|vtd\n");
		return 2;
	}
	if (!strcmp(argv[2], "vmsa-s1"))
		c.format = PT_VMSA_S1;
	else if (!strcmp(argv[2], "vmsa-s2"))
		c.format = PT_VMSA_S2;
	else if (!strcmp(argv[2], "x86"))
		c.format = PT_X86;
	else if (!strcmp(argv[2], "vtd"))
		c.format = PT_VTD_SS;
	else
		die("format", -22);
	ret = pt_cfg_init(&c);
	if (ret)
		die("pt_cfg_init", ret);

	if (!strcmp(argv[1], "page") || !strcmp(argv[1], "block") || !strcmp(argv[1], "p256")) {
		unsigned int depth = c.nlevels - 1;
		uint64_t count = 1;

		if (!strcmp(argv[1], "block"))
			depth--;
		if (!strcmp(argv[1], "p256"))
			count = 256;
		leaf = pt_entry_size(&c, depth);
		size = leaf * count;
		ret = pt_table_init(&t, &c, &pt_mem_host);
		if (ret)
			die("pt_table_init", ret);
		/* bench_pt_map's warm shape: 256 single leaves in one table, or a run a table. */
		k = count == 1 ? 256 : 16;
		for (unsigned int i = 0; i < k; i++) {
			uint64_t span = leaf << c.bits[depth];
			uint64_t nb = (count == 1 ? 0 : i * span) + span - leaf;

			iova[i] = count == 1 ? i * leaf : i * span;
			/* The last entry of each table stays mapped. */
			if (count > 1 || !i) {
				ret = pt_map(&t, nb, nb + delta, leaf, PT_PROT_RW);
				if (ret)
					die("neighbour", ret);
			}
		}
		/* One pass outside the counted functions warms the code and the tables. */
		do_map(&t, iova, k, size, delta);
		do_unmap(&t, iova, k, size);
		for (unsigned int r = 0; r < REPS; r++) {
			work_map(&t, iova, k, size, delta);
			work_unmap(&t, iova, k, size);
		}
		calls = REPS * k;
		pt_table_destroy(&t);
	} else {
		size = !strcmp(argv[1], "fill1g") ? 64 * GIB : GIB;
		/* The output address forces the leaf size, as in bench_pt_fill. */
		if (!strcmp(argv[1], "fill2m"))
			delta += 2ULL << 20;
		else if (!strcmp(argv[1], "fill4k"))
			delta += 4096;
		else if (strcmp(argv[1], "fill1g"))
			die("workload", -22);
		iova[0] = 4 * 512 * GIB;
		k = 1;
		for (unsigned int r = 0; r <= REPS; r++) {
			ret = pt_table_init(&t, &c, &pt_mem_host);
			if (ret)
				die("pt_table_init", ret);
			if (r) {
				work_map(&t, iova, 1, size, delta);
				work_unmap(&t, iova, 1, size);
				calls++;
			} else {
				do_map(&t, iova, 1, size, delta);
				do_unmap(&t, iova, 1, size);
			}
			pt_table_destroy(&t);
		}
	}
	printf("%s %s: %u map calls and %u unmap calls counted\n", argv[1], argv[2], calls, calls);
	return 0;
}
