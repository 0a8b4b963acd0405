/* SPDX-License-Identifier: MIT */
/*
 * bench/bench.h - the small harness every benchmark program shares.
 *
 * A benchmark pins itself to one CPU, warms up, and times batches of
 * operations: a sample is the mean of one batch of K calls, with K chosen
 * so that a batch lasts long enough (microseconds) that the timer's own
 * cost and resolution do not matter. p50, p99 and min are taken over the
 * samples (at least 10,000 for small operations, fewer for big ones).
 *
 * The clock is the TSC on x86-64 when the CPU says it is invariant
 * (constant_tsc and nonstop_tsc), calibrated against CLOCK_MONOTONIC at
 * start-up; elsewhere, or with BENCH_CLOCK=monotonic, it is
 * clock_gettime(CLOCK_MONOTONIC) itself.
 *
 * Output is JSON, one object per workload and line, on stdout:
 *   {"name": ..., "params": {...}, "ns_p50": ..., "ns_p99": ..., "ns_min": ...,
 *    "ops_per_s": ..., "bytes": ..., "samples": ..., "batch": ...,
 *    "linux_6_12_ns": ..., "ratio": ...}
 * where the ns figures are per call and, when a Linux reference figure
 * exists for the same workload, ratio = ns_p50 / linux_6_12_ns (below 1 is
 * faster than Linux). A line describing the machine and the clock goes to
 * stderr. Benchmarks never fail on timing: they only report.
 *
 * Options every program takes: --quick (fewer samples, for smoke runs),
 * --cpu N (pin there; default: the last CPU allowed), --filter SUBSTR (run
 * only workloads whose description contains SUBSTR).
 */
#ifndef UIOMMU_BENCH_H
#define UIOMMU_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "benchclock.h" /* bench_ticks, bench_ns, bench_stats, bench_keep */

struct bench_opts {
	bool quick;
	int cpu;
	const char *filter;
};

extern struct bench_opts bench_opts;

/* Parse the options, pin, calibrate the clock. Exits on a bad option. */
void bench_init(int argc, char **argv, const char *prog);

/* Samples: scale a requested count down in --quick mode (at least @min). */
unsigned int bench_samples(unsigned int n, unsigned int min);

/*
 * Samples that fit the time budget of one workload (about 2 s, 0.1 s with
 * --quick) when one sample takes @ns_per_sample: between @min and @max.
 */
unsigned int bench_samples_for(double ns_per_sample, unsigned int min, unsigned int max);

/* A JSON object under construction. */
struct bench_json {
	char buf[2048];
	size_t len;
	bool in_params, params_empty;
};

void bj_begin(struct bench_json *j, const char *name);
void bj_param_str(struct bench_json *j, const char *key, const char *val);
void bj_param_u64(struct bench_json *j, const char *key, uint64_t val);
/* Ends the params object: called by the first top-level field. */
void bj_str(struct bench_json *j, const char *key, const char *val);
void bj_u64(struct bench_json *j, const char *key, uint64_t val);
void bj_f(struct bench_json *j, const char *key, double val);
/* ns_p50 / p99 / min / mean, ops_per_s (per call), samples. */
void bj_stats(struct bench_json *j, const struct bench_stats *st);
/* linux_6_12_ns and ratio = ours (p50) / linux; nothing when @linux_ns <= 0. */
void bj_linux(struct bench_json *j, const struct bench_stats *st, double linux_ns);
/* Print the object as one line (flushed). */
void bj_end(struct bench_json *j);

/* True when --filter is unset or @desc contains it. */
bool bench_want(const char *desc);

#endif
