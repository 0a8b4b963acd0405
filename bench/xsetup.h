/* SPDX-License-Identifier: MIT */
/*
 * bench/xsetup.h - the translation setups the cache benchmarks and
 * `uiommu bench` share: stage 1 alone, stage 2 alone, or stage 1 over
 * stage 2, over one lazily backed arena, built from two stage
 * configurations and a layout (struct xs_layout: which ranges each stage
 * maps where).
 *
 * xs_build() is the setup of the bench/ programs (bench_iotlb,
 * bench_cache_sweep, bench_inval): VMSAv8-64 4K granule, 4 levels at both
 * stages, and the fixed layout below, with three regions of input
 * addresses:
 *
 *   4K region  XS_4K_PAGES pages (1 GiB) mapped with 4K leaves at both
 *              stages;
 *   2M region  XS_2M_BLOCKS blocks (4 GiB) mapped with 2M leaves at both
 *              stages;
 *   4K-over-2M XS_4K_PAGES 4K pages whose IPAs stage 2 maps in 2M blocks.
 *
 * xs_layout_fit() lays out one region of pages for any pair of stage
 * configurations (`uiommu bench` with a scenario's formats, granules and
 * sizes): as many pages of the input stage's smallest size as asked for,
 * fewer when the input, intermediate or output sizes cannot hold them.
 *
 * The leaf sizes are forced by alignment, not by flags: every region's
 * outputs are one page off a block boundary (one 4K page off 2M for the
 * 4K regions, 2M off 1G for the 2M region), so pt_map() can pick nothing
 * larger. In the nested setup the stage-1 tables live in guest RAM (IPA
 * space, reached through stage 2), as a guest's do.
 */
#ifndef UIOMMU_BENCH_XSETUP_H
#define UIOMMU_BENCH_XSETUP_H

#include <stdbool.h>
#include <stddef.h>
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

/* Regions of input addresses (xs_addr()). */
enum xs_region {
	XS_R_4K = 0, /* pages of the input stage's smallest size */
	XS_R_2M,     /* blocks */
	XS_R_4K2M,   /* stage-1 pages whose IPAs stage 2 maps in blocks */
	XS_NR_REGIONS
};

/* [in, in + size) -> [out, out + size). */
struct xs_range {
	uint64_t in, out, size;
};

/*
 * Where everything goes. The arena is host "physical" memory at @hbase:
 * [hbase, hbase + reserve) is taken out of its table allocator (data and
 * guest RAM); the host's tables come from the rest. Stage 2 maps @s2
 * (IPA -> PA, in order). Nested: the guest's RAM port presents @gram (IPA
 * -> PA, inside the arena) and allocates the stage-1 tables from IPA
 * @gtables to the end of @gram. Stage 1 maps each region (IOVA -> IPA; with
 * stage 1 alone the output is PA @s1_pa_bias + IPA); with stage 2 alone a
 * region's input addresses are its IPAs.
 */
struct xs_layout {
	uint64_t hbase, arena_size, reserve;
	unsigned int nr_s2;
	struct xs_range s2[2];
	struct xs_range gram;
	uint64_t gtables;
	struct xs_range region[XS_NR_REGIONS]; /* size 0: not mapped */
	uint64_t unit[XS_NR_REGIONS];	       /* bytes of one page / block of the region */
	uint64_t s1_pa_bias;
};

/* The guest's view of its RAM: a port at its IPA, tables from a bump allocator with a free list. */
struct xs_guest {
	struct pt_mem mem;
	uint64_t next, limit;
	uint64_t *free;
	unsigned int nfree, cap;
};

struct xsetup {
	enum xs_mode mode;
	struct xs_layout lay;
	struct pt_arena host;
	struct xs_guest guest;
	struct pt_cfg s1c, s2c;
	struct pt_table s1, s2;
	struct xlate_cfg xc; /* tag: VMID 1 (0 for stage 1 alone), ASID 1 */
};

const char *xs_mode_name(enum xs_mode m);

/* The bench/ programs' setup (VMSA 4K, 4 levels, the fixed layout); 0 or a negative errno. */
int xs_build(struct xsetup *s, enum xs_mode mode);

/*
 * Build @mode from the inputs of @s1c / @s2c (format, granule, ias, oas,
 * sl0, levels, iova_base, flags; the one a mode does not use is ignored)
 * and @lay. 0 or a negative errno. xs_destroy() after either.
 */
int xs_build_layout(struct xsetup *s, enum xs_mode mode, const struct pt_cfg *s1c,
		    const struct pt_cfg *s2c, const struct xs_layout *lay);
void xs_destroy(struct xsetup *s);

/*
 * A layout of one region (XS_R_4K) of *@pages pages of the input stage's
 * smallest size, smallest leaves at both stages, for @mode over the
 * initialised configurations @s1c / @s2c. When the sizes cannot hold
 * *@pages, the count is halved until they can and *@pages updated. 0, or
 * -ERANGE when not even @min_pages fit (@why then says which size is too
 * small).
 */
int xs_layout_fit(struct xs_layout *lay, enum xs_mode mode, const struct pt_cfg *s1c,
		  const struct pt_cfg *s2c, uint64_t *pages, uint64_t min_pages, char *why,
		  size_t len);

/* Input address of unit @i of region @r (+ @off). */
uint64_t xs_addr(const struct xsetup *s, enum xs_region r, uint64_t i, uint64_t off);
/* The same for the three regions of xs_build(). */
uint64_t xs_addr_4k(const struct xsetup *s, uint64_t i);
uint64_t xs_addr_2m(const struct xsetup *s, uint64_t i, uint64_t off);
/* 4K page @i of the region whose IPAs stage 2 maps in 2M blocks. */
uint64_t xs_addr_4k_s2_2m(const struct xsetup *s, uint64_t i);
/* The IPA of unit @i of region @r (the output of stage 1). */
uint64_t xs_ipa(const struct xsetup *s, enum xs_region r, uint64_t i);

/* The stage that takes the input address (stage 1, or stage 2 alone). */
const struct pt_cfg *xs_input_cfg(const struct xsetup *s);

/* A random number generator for the benchmarks (xorshift64*, fixed seed). */
uint64_t xs_rand(uint64_t *state);

#endif
