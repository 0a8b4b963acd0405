/* SPDX-License-Identifier: MIT */
/*
 * bench/benchclock.h - the measuring half of the benchmark harness, with
 * no options and no output of its own, so that both the bench/ programs
 * (bench.h, which parses their options and prints JSON lines) and
 * `uiommu bench` time the same way: pin to one CPU, calibrate the clock,
 * time batches, take p50 / p99 / min / mean over the samples.
 *
 * The clock is the TSC on x86-64 when the CPU says it is invariant
 * (constant_tsc and nonstop_tsc), calibrated against CLOCK_MONOTONIC;
 * elsewhere, or with BENCH_CLOCK=monotonic, it is
 * clock_gettime(CLOCK_MONOTONIC) itself.
 */
#ifndef UIOMMU_BENCH_BENCHCLOCK_H
#define UIOMMU_BENCH_BENCHCLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct bench_clock_info {
	int cpu;     /* pinned to (-1: could not pin) */
	long online; /* CPUs online */
	bool tsc;    /* the clock is the TSC (else CLOCK_MONOTONIC) */
	double ns_per_tick;
	double read_to_read_ns; /* the smallest cost of two back-to-back reads */
	char pin_error[128];	/* why pinning failed, else empty */
};

/*
 * Pin to @cpu (< 0: the last CPU allowed), calibrate the clock (about
 * 50 ms) and measure its read-to-read cost; *@info (may be NULL) says what
 * it found. Never fails: an unpinned run or the monotonic clock is only
 * reported.
 */
void bench_clock_setup(int cpu, struct bench_clock_info *info);

/* Ticks of the benchmark clock; bench_ns() converts a difference. */
uint64_t bench_ticks(void);
double bench_ns(uint64_t ticks);

/*
 * Samples that fit a time budget of @budget_ns when one sample takes
 * @ns_per_sample: between @min and @max.
 */
unsigned int bench_samples_budget(double budget_ns, double ns_per_sample, unsigned int min,
				  unsigned int max);

struct bench_stats {
	double p50, p99, min, mean;
	unsigned int n;
};

/* Sorts @v in place. */
void bench_stats(double *v, unsigned int n, struct bench_stats *st);

/* Keep the compiler from dropping a computed value. */
static inline void bench_keep(uint64_t v)
{
	__asm__ volatile("" : : "r"(v) : "memory");
}

#endif
