/* SPDX-License-Identifier: MIT */
/* Shared by scenario.c (JSON to description) and scenario_build.c (description to tables). */
#ifndef UIOMMU_TOOLS_SCENARIO_INT_H
#define UIOMMU_TOOLS_SCENARIO_INT_H

#include "jfield.h"
#include "scenario.h"

struct sc_loader {
	struct jf jf; /* the file, its value positions, the error buffer */
	struct scenario *sc;
};

/* "FILE:LINE:COL: PATH: message" in the loader's error buffer (jf_err()); -EINVAL. */
#define sc_err(ld, ...) jf_err(&(ld)->jf, __VA_ARGS__)

/* Allocate memory and build every table the parsed scenario describes. */
int sc_build(struct sc_loader *ld);

#endif
