/* SPDX-License-Identifier: MIT */
/*
 * Walk reports: the 2-D nested walk grid, every read, the cache hits that
 * replaced reads, and the result or fault, for people (text) or programs
 * (one JSON object per walk).
 */
#ifndef UIOMMU_TOOLS_PRINT_H
#define UIOMMU_TOOLS_PRINT_H

#include <jansson.h>
#include <stdio.h>

#include "xlate/xlate.h"

struct walk_report {
	const char *source;	 /* scenario file, or "image FILE@BASE" */
	const char *description; /* scenario description, or NULL */
	const char *s1_name;	 /* "stage1", "pasids.5", "--format": where stage 1 came from */
	const struct xlate_cfg *xc;
	uint64_t iova;
	unsigned int access; /* PT_PROT_* */
	long pasid;	     /* -1: none */
	/*
	 * Stage 1 with two VA ranges (walk --ttb1-root / --tbi, as an SMMUv3
	 * CD): ttb the table the address selected (0, 1; -1 in neither
	 * range: a stage-1 translation fault, nothing read), walk_in what
	 * the walk translated, tbi whether the top byte was ignored.
	 */
	bool ranges;
	int ttb;
	bool tbi;
	uint64_t walk_in;
	const struct xlate_stage *ttb0, *ttb1; /* TTB1 NULL: disabled */
	const struct xlate_record *rec;
	enum pt_fault_reason reason; /* PT_OK: res is valid, else fault */
	const struct xlate_result *res;
	const struct xlate_fault *fault;
};

/* The whole report: source, stages, then the walk (walk_print_text_walk). */
void walk_print_text(FILE *f, const struct walk_report *w);
/* One more walk over the same configuration: the walk and its outcome only. */
void walk_print_text_walk(FILE *f, const struct walk_report *w);
/* Counters of every cache that was used (after a series of walks with caches). */
void walk_print_cache_stats(FILE *f, const struct xlate_cache *c, const struct xlate_cfg *xc,
			    unsigned int walks);

/* The JSON object of one walk; NULL when out of memory. */
json_t *walk_json(const struct walk_report *w);
/* 0, or -ENOMEM when the JSON document could not be built. */
int walk_print_json(FILE *f, const struct walk_report *w);
/*
 * Print @doc (indented, keys in order, then a newline) and drop it: the
 * one JSON dump of every --json report (walk, trace, run). A NULL @doc (a
 * build that ran out of memory) is -ENOMEM; so is a dump that fails, and
 * then no newline follows what was written. 0 on success.
 */
int print_json_doc(FILE *f, json_t *doc);

#endif
