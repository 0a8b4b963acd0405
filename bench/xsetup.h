/* SPDX-License-Identifier: MIT */
/*
 * bench/xsetup.h - the translation setups the cache benchmarks share
 * (bench_iotlb, bench_cache_sweep, bench_inval): stage 1 alone, stage 2
 * alone, or stage 1 over stage 2, all VMSAv8-64 4K granule, 4 levels,
 * over one lazily backed arena, with two regions of input addresses:
 *
 *   4K region  XS_4K_PAGES pages (1 GiB) mapped with 4K leaves at both
 *              stages;
 *   2M region  XS_2M_BLOCKS blocks (4 GiB) mapped with 2M leaves at both
 *              stages.
 *
 * The leaf sizes are forced by alignment, not by flags: the 4K region's
 * outputs are 4K off a 2M boundary and the 2M region's 2M off a 1G one, so
 * pt_map() can pick nothing larger. In the nested setup the stage-1 tables
 * live in guest RAM (IPA space, reached through stage 2), as a guest's do.
 */
#ifndef UIOMMU_BENCH_XSETUP_H
#define UIOMMU_BENCH_XSETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"
#include "xlate/xlate.h"

#define XS_4K_PAGES  (1ULL << 18) /* 1 GiB of 4K pages */
#define XS_2M_BLOCKS (1ULL << 11) /* 4 GiB of 2M blocks */

enum xs_mode {
	XS_S1 = 0, /* stage 1 alone: IOVA -> PA */
	XS_S2,	   /* stage 2 alone: IPA -> PA */
	XS_NESTED, /* stage 1 over stage 2 */
};

/* The guest's view of its RAM: a port at IPA 0, tables from a bump allocator with a free list. */
struct xs_guest {
	struct pt_mem mem;
	uint64_t next, limit;
	uint64_t *free;
	unsigned int nfree, cap;
};

struct xsetup {
	enum xs_mode mode;
	struct pt_arena host;
	struct xs_guest guest;
	struct pt_cfg s1c, s2c;
	struct pt_table s1, s2;
	struct xlate_cfg xc; /* tag: VMID 1 (0 for stage 1 alone), ASID 1 */
};

const char *xs_mode_name(enum xs_mode m);

/* Build everything; 0 or a negative errno. xs_destroy() after either. */
int xs_build(struct xsetup *s, enum xs_mode mode);
void xs_destroy(struct xsetup *s);

/* Input address of page @i of the 4K region, or of block @i of the 2M region (+ @off). */
uint64_t xs_addr_4k(const struct xsetup *s, uint64_t i);
uint64_t xs_addr_2m(const struct xsetup *s, uint64_t i, uint64_t off);
/* 4K page @i of the region whose IPAs stage 2 maps in 2M blocks. */
uint64_t xs_addr_4k_s2_2m(const struct xsetup *s, uint64_t i);

/* The stage that takes the input address (stage 1, or stage 2 alone). */
const struct pt_cfg *xs_input_cfg(const struct xsetup *s);

/* A random number generator for the benchmarks (xorshift64*, fixed seed). */
uint64_t xs_rand(uint64_t *state);

#endif
