// SPDX-License-Identifier: MIT
/*
 * `uiommu run` under allocation failures: each run scenario is run again
 * and again with its N-th library allocation (on the VMM's thread: guest
 * memory, the guest's tables, the machine, every ioctl) failing, for every
 * N until a run makes fewer than N. Every run must end: PASS when the
 * failure was absorbed, otherwise FAIL with its report (never a crash, a
 * hang or another exit status), most of them naming the ENOMEM (an
 * iommufd object lookup is an injection point too, as in Linux, which an
 * ioctl answers with its own errno: ENOENT, EINVAL), and leave no emulated file
 * behind; under `make check-asan` LeakSanitizer checks that nothing leaks.
 * The runner is the CLI's (tools/uiommu: run_scenario_load(),
 * run_scenario_exec()), fed the shipped scenarios.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_exec.h"
#include "run_scenario.h"
#include "util/alloc.h"
#include "util/file.h"

#include "tap.h"

static const char *const scenarios[] = {
	"scenarios/nested-smmuv3.json",
	"scenarios/nested-vsmmu.json",
	"scenarios/s2-only.json",
	"scenarios/stall-resume.json",
};

static void sweep(void *arg)
{
	const char *file = arg;
	char path[4096], err[512];
	unsigned int fired = 0, absorbed = 0, enomem = 0, files = ufile_count();
	struct run_sc *sc;

	snprintf(path, sizeof(path), "%s/%s",
		 getenv("UIOMMU_SRCDIR") ? getenv("UIOMMU_SRCDIR") : ".", file);
	TAP_CHECK(!run_scenario_load(path, &sc, err, sizeof(err)), "load: %s", err);
	for (unsigned long n = 1;; n++) {
		struct run_opts o = {.timeout_ms = 5000};
		unsigned long pending;
		char *out = NULL;
		size_t len = 0;
		int status;

		o.out = open_memstream(&out, &len);
		TAP_CHECK(o.out, "open_memstream");
		ualloc_fail_nth(n);
		status = run_scenario_exec(sc, &o);
		pending = ualloc_fail_nth_pending();
		ualloc_fail_nth(0);
		fclose(o.out);
		TAP_CHECK_EQ(ufile_count(), files, "%s, allocation %lu: files left behind", file,
			     n);
		if (pending) {
			TAP_CHECK(status == 0, "%s without injection: exit %d\n%s", file, status,
				  out);
			free(out);
			break;
		}
		fired++;
		if (!status) {
			absorbed++;
		} else {
			TAP_CHECK(status == 1 && strstr(out, "\nFAIL: "),
				  "%s, allocation %lu: exit %d without a FAIL line:\n%s", file, n,
				  status, out);
			if (strstr(out, "ENOMEM") || strstr(out, "out of memory") ||
			    strstr(out, "Cannot allocate memory"))
				enomem++;
		}
		free(out);
	}
	tap_diag("%s: %u injected failures, %u absorbed, %u reported as ENOMEM", file, fired,
		 absorbed, enomem);
	/* Most injected failures are allocations, and those must say so. */
	TAP_CHECK(enomem * 2 > fired, "%s: ENOMEM in only %u of %u failed runs", file, enomem,
		  fired);
	TAP_CHECK(fired > 20, "%s: the sweep reached the run", file);
	run_scenario_free(sc);
}

int main(void)
{
	tap_plan(sizeof(scenarios) / sizeof(scenarios[0]));
	for (unsigned int i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		tap_run(scenarios[i], sweep, (void *)scenarios[i]);
	return tap_done();
}
