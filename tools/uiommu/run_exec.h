/* SPDX-License-Identifier: MIT */
/*
 * Running a run scenario: the program plays the VMM (and the guest inside
 * it) against the library's /dev/iommu, the SMMUv3 driver and dmatest
 * devices, checks every expectation and reports (run_report.h).
 */
#ifndef UIOMMU_TOOLS_RUN_EXEC_H
#define UIOMMU_TOOLS_RUN_EXEC_H

#include <stdbool.h>
#include <stdio.h>

#include "run_scenario.h"

struct run_opts {
	bool json;
	int verbose;
	unsigned int timeout_ms; /* how long a step waits for a DMA or a page request */
	FILE *out;
};

/* Run @sc; the exit status: 0 every step passed, 1 a step or the run failed. */
int run_scenario_exec(const struct run_sc *sc, const struct run_opts *opts);

#endif
