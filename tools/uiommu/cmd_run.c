// SPDX-License-Identifier: MIT
/*
 * cmd_run.c - `uiommu run [SCENARIO.json]`: run a machine and a script of
 * guest and VMM steps through the iommufd API, check every expectation,
 * report, and exit 0 (PASS), 1 (FAIL) or 2 (a bad scenario file or usage).
 *
 * The scenario is loaded and checked whole before anything runs
 * (run_scenario.c), so a mistake in the file is one message with its
 * position and exit 2, never a half-run machine. Without a file the
 * default scenario runs: scenarios/nested-smmuv3.json, found in the
 * current directory, then in the source tree the program was built from.
 */
#include <err.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "run_exec.h"
#include "run_scenario.h"

#define CMD		 "run"
#define DEFAULT_SCENARIO "scenarios/nested-smmuv3.json"
#define TIMEOUT_MS	 10000u

void cmd_run_usage(FILE *f)
{
	fprintf(f,
		"usage: uiommu run [SCENARIO.json] [--json] [-v] [--timeout MS] [--check]\n"
		"                  [--trace PATTERNS]\n"
		"\n"
		"Run a machine (an SMMUv3, guest RAM, dmatest devices) and a script of steps\n"
		"through the iommufd API, as a VMM with a vSMMU does: map guest RAM into\n"
		"stage 2, build the guest's stage-1 tables and CDs in its RAM, hand its STEs\n"
		"to nested HWPTs, forward its invalidations, drive DMA through the devices'\n"
		"registers, and check every expected byte, fault, event, page request and\n"
		"interrupt. Without SCENARIO.json, runs " DEFAULT_SCENARIO ".\n"
		"\n"
		"Options:\n"
		"  -j, --json               print one JSON document instead of the report\n"
		"  -v, --verbose            also show the words: vSTEs, host STEs, CDs, commands\n"
		"      --timeout MS         how long a step waits for a DMA or a page request\n"
		"                           (default %u)\n"
		"      --check              load and check the scenario, run nothing\n"
		"      --trace PATTERNS     log matching trace events to stderr (\"smmu_*\")\n"
		"  -h, --help               show this help\n"
		"\n"
		"The scenario format is in doc/scenario.md (\"Run scenarios\").\n"
		"Exit status: 0 every step passed, 1 a step failed, 2 a bad scenario file or\n"
		"a usage error.\n",
		TIMEOUT_MS);
}

/* The default scenario: in the working directory, else in the source tree. */
static const char *default_scenario(void)
{
	static char path[4096];

	if (!access(DEFAULT_SCENARIO, R_OK))
		return DEFAULT_SCENARIO;
	snprintf(path, sizeof(path), "%s/%s", UIOMMU_SRCDIR, DEFAULT_SCENARIO);
	if (!access(path, R_OK))
		return path;
	return DEFAULT_SCENARIO;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'},
		{"timeout", required_argument, NULL, 'T'},
		{"check", no_argument, NULL, 'C'},
		{"trace", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct run_opts opts = {.timeout_ms = TIMEOUT_MS, .out = stdout, .verbose = cli_verbose};
	const char *file = NULL;
	struct run_sc *sc;
	bool check = false;
	char msg[1024];
	int c, ret;

	while ((c = cli_getopt(CMD, argc, argv, "jvh", longopts)) != -1) {
		switch (c) {
		case 'j':
			opts.json = true;
			break;
		case 'v':
			opts.verbose++;
			break;
		case 'T': {
			uint64_t ms = cli_opt_u64(CMD, "--timeout", optarg);

			if (!ms || ms > 3600000)
				cli_usage_error(CMD, "--timeout: expected 1 to 3600000 ms, got %s",
						optarg);
			opts.timeout_ms = (unsigned int)ms;
			break;
		}
		case 'C':
			check = true;
			break;
		case 't':
			cli_trace(CMD, optarg);
			break;
		case 'h':
			cmd_run_usage(stdout);
			return 0;
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc)
		cli_usage_error(CMD, "expected one scenario file, got '%s' too", argv[optind]);
	if (!file)
		file = default_scenario();

	ret = run_scenario_load(file, &sc, msg, sizeof(msg));
	if (ret) {
		warnx("%s", msg);
		return EXIT_USAGE;
	}
	if (check) {
		if (!opts.json) {
			printf("%s: %u steps, %u device%s: OK\n", file, sc->nr_steps,
			       sc->m.nr_devices, sc->m.nr_devices == 1 ? "" : "s");
		} else {
			json_t *o = json_pack("{s:s, s:i, s:s}", "scenario", file, "steps",
					      (int)sc->nr_steps, "result", "OK");

			json_dumpf(o, stdout, 0);
			putchar('\n');
			json_decref(o);
		}
		run_scenario_free(sc);
		return 0;
	}
	ret = run_scenario_exec(sc, &opts);
	run_scenario_free(sc);
	return ret;
}
