/* SPDX-License-Identifier: MIT */
/*
 * One translation stage as the user describes it (format, granule, input and
 * output sizes, SL0, levels, window base, flags), shared by scenario files
 * and the walk command's --image options: defaults, checks that can name
 * the offending field, and a diagnosis of what pt_cfg_init() rejected.
 */
#ifndef UIOMMU_TOOLS_STAGECFG_H
#define UIOMMU_TOOLS_STAGECFG_H

#include <stdbool.h>
#include <stddef.h>

#include "pt/pt.h"

enum stage_kind {
	STAGE_ANY = 0, /* a single-stage walk: every format */
	STAGE_1,       /* stage 1 (possibly over a stage 2): vmsa-s1, x86, tce */
	STAGE_2,       /* stage 2: vmsa-s2, vtd-ss */
};

/* The user-settable fields of struct pt_cfg, as bits of a "given" mask. */
enum stage_field { SF_GRANULE = 0, SF_IAS, SF_OAS, SF_SL0, SF_LEVELS, SF_WINDOW_BASE, SF_NR };

#define SF_BIT(f) (1u << (f))

/* Scenario key ("granule", "window_base") and option stem ("granule", "window-base"). */
const char *stage_field_key(enum stage_field f);
const char *stage_field_opt(enum stage_field f);

bool stage_format_ok(enum pt_format f, enum stage_kind kind);
/* "vmsa-s2 or vtd-ss" */
const char *stage_formats_expected(enum stage_kind kind);

bool stage_granule_ok(enum pt_format f, unsigned int shift);
/* "4K, 16K or 64K" */
const char *stage_granules_expected(enum pt_format f);

/* Fill every field not in @given with the format's default (see doc/scenario.md). */
void stage_cfg_defaults(struct pt_cfg *c, unsigned int given);

/*
 * pt_cfg_init() with a diagnosis on failure. Returns 0, or the negative
 * errno, with *bad = the one field in @given whose value alone makes the
 * configuration invalid (replacing it by the default makes it valid), or
 * SF_NR when no single field can be blamed. *unsupported is set when this
 * build cannot walk the format at all (its back end is not there yet).
 */
int stage_cfg_init(struct pt_cfg *c, unsigned int given, enum stage_field *bad, bool *unsupported);

/* "granule 4K, ias 40, oas 48, sl0 1" from the fields that apply, but @skip (SF_NR: none). */
void stage_cfg_describe(const struct pt_cfg *c, enum stage_field skip, char *buf, size_t len);

/* Value of a field as the user would write it ("4K", "40", "0x800000000000000"). */
void stage_field_value(const struct pt_cfg *c, enum stage_field f, char *buf, size_t len);

#endif
