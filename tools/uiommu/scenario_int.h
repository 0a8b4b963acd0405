/* SPDX-License-Identifier: MIT */
/* Shared by scenario.c (JSON to description) and scenario_build.c (description to tables). */
#ifndef UIOMMU_TOOLS_SCENARIO_INT_H
#define UIOMMU_TOOLS_SCENARIO_INT_H

#include "util/jpos.h"
#include "scenario.h"

struct sc_loader {
	const char *file;
	struct jpos pos; /* where each value of the file starts */
	char *err;
	size_t errlen;
	struct scenario *sc;
};

/*
 * Write "FILE:LINE:COL: PATH: message" to the loader's error buffer, with
 * the position of the value at @path (of its key when @at_key), or of the
 * nearest enclosing value that has one. Returns -EINVAL.
 */
int sc_err(struct sc_loader *ld, const char *path, bool at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Allocate memory and build every table the parsed scenario describes. */
int sc_build(struct sc_loader *ld);

#endif
