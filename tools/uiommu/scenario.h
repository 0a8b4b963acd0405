/* SPDX-License-Identifier: MIT */
/*
 * Scenario files: a host memory arena, a stage 2, guest RAM, and one or more
 * guest stage-1 configurations, described in JSON (doc/scenario.md) and
 * built into real page tables in deterministic memory.
 */
#ifndef UIOMMU_TOOLS_SCENARIO_H
#define UIOMMU_TOOLS_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pt/pt.h"
#include "xlate/xlate.h"

#define SC_PATH_MAX 64

/* One "mappings" entry: [in, in + size) -> [out, out + size). */
struct sc_map {
	char path[SC_PATH_MAX]; /* "stage1.mappings[3]" */
	uint64_t in, size, out; /* stage 1: iova -> ipa; stage 2: ipa -> pa */
	bool out_given;		/* false: out was allocated from guest RAM / memory */
	unsigned int prot;	/* PT_PROT_* */
};

/* One configured translation stage and the tables built for it. */
struct sc_stage {
	char path[SC_PATH_MAX]; /* "stage1", "stage2", "pasids.5" */
	uint32_t pasid;		/* entries of "pasids" */
	struct pt_cfg cfg;
	struct pt_table table;
	unsigned int nr_maps;
	struct sc_map *maps;
};

/* One guest RAM region: IPAs backed by memory at pa. */
struct sc_ram {
	char path[SC_PATH_MAX];
	uint64_t ipa, size, pa;
	bool pa_given;
	unsigned int prot; /* its stage-2 permissions */
};

/*
 * Guest RAM as the guest sees it: a memory port whose regions are the RAM
 * regions at their IPAs (host pointers into the memory arena), with a page
 * allocator that hands out stage-1 tables and data pages in guest RAM.
 */
struct sc_guest {
	struct pt_mem mem;
	uint64_t *used[PT_MEM_MAX_REGIONS]; /* bitmap of 4 KiB pages per region */
};

struct scenario {
	char *file;
	char *description;
	uint64_t mem_base, mem_size;
	struct pt_arena arena; /* "host physical" memory: stage-2 tables, guest RAM, data */

	bool has_s2;
	struct sc_stage s2;
	unsigned int nr_ram;
	struct sc_ram ram[PT_MEM_MAX_REGIONS];
	struct sc_guest guest;

	bool has_s1; /* the "stage1" key: used when no PASID is asked for */
	struct sc_stage s1;
	unsigned int nr_pasids;
	struct sc_stage *pasids; /* "pasids", in file order */
};

/*
 * Load, check and build @file. On error returns a negative errno and
 * writes one line to @err: "FILE:LINE:COL: PATH: what was expected, got
 * what" (or "FILE: reason" when the file cannot be read).
 */
int scenario_load(const char *file, struct scenario **out, char *err, size_t errlen);
void scenario_free(struct scenario *sc);

/*
 * The stage 1 to walk: pasids[@pasid] when @pasid >= 0, else "stage1".
 * NULL when the scenario has no such stage 1 (@err says why) or, with
 * *none set, when the scenario has no stage 1 at all (stage 2 only).
 */
const struct sc_stage *scenario_stage1(const struct scenario *sc, long pasid, bool *none, char *err,
				       size_t errlen);

/* The translation setup for a walk with stage 1 @s1 (may be NULL). */
void scenario_xlate_cfg(const struct scenario *sc, const struct sc_stage *s1, struct xlate_cfg *xc);

/* Memory, stages and every leaf of their tables, for -v. */
void scenario_dump(const struct scenario *sc, FILE *f);

#endif
