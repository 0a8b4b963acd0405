// SPDX-License-Identifier: MIT
/*
 * benchclock.c - pinning, the clock and statistics of the benchmark
 * harness (see benchclock.h), shared by the bench/ programs (through
 * bench.c) and `uiommu bench`.
 *
 * Clock calibration: the TSC and CLOCK_MONOTONIC are read together twice,
 * about 50 ms apart, and the ratio gives nanoseconds per tick. The timer's
 * own cost (two back-to-back reads) is measured and returned, so a caller
 * can show that batches are long enough for it not to matter.
 *
 * State: the calibration is process-wide (set once by bench_clock_setup,
 * read by every bench_ns); nothing here allocates or prints.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchclock.h"

static bool use_tsc;
static double ns_per_tick = 1.0;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	/* lfence: the read waits for earlier instructions and later ones wait for it. */
	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}
#endif

uint64_t bench_ticks(void)
{
#if defined(__x86_64__)
	if (use_tsc)
		return rdtsc_ordered();
#endif
	return mono_ns();
}

double bench_ns(uint64_t ticks)
{
	return (double)ticks * ns_per_tick;
}

static bool cpu_has_invariant_tsc(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool constant = false, nonstop = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	return constant && nonstop;
}

static void calibrate(void)
{
#if defined(__x86_64__)
	const char *env = getenv("BENCH_CLOCK");
	uint64_t t0, m0, t1, m1;
	struct timespec nap = {0, 50 * 1000 * 1000};

	if ((env && !strcmp(env, "monotonic")) || !cpu_has_invariant_tsc())
		return;
	m0 = mono_ns();
	t0 = rdtsc_ordered();
	nanosleep(&nap, NULL);
	m1 = mono_ns();
	t1 = rdtsc_ordered();
	if (t1 <= t0 || m1 <= m0)
		return;
	ns_per_tick = (double)(m1 - m0) / (double)(t1 - t0);
	use_tsc = true;
#endif
}

/* The CPU pinned to; @err gets the reason when pinning failed. */
static int pin(int cpu, char *err, size_t len)
{
	cpu_set_t set;

	if (cpu < 0) {
		/* The last CPU we may run on: usually the least busy with interrupts. */
		if (sched_getaffinity(0, sizeof(set), &set))
			return cpu;
		for (int c = CPU_SETSIZE - 1; c >= 0; c--)
			if (CPU_ISSET(c, &set)) {
				cpu = c;
				break;
			}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		snprintf(err, len, "cannot pin to cpu %d: %s", cpu, strerror(errno));
	return cpu;
}

void bench_clock_setup(int cpu, struct bench_clock_info *info)
{
	struct bench_clock_info local;
	double overhead = 1e30;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	info->cpu = pin(cpu, info->pin_error, sizeof(info->pin_error));
	calibrate();
	for (int i = 0; i < 1000; i++) {
		uint64_t a = bench_ticks(), b = bench_ticks();

		if (bench_ns(b - a) < overhead)
			overhead = bench_ns(b - a);
	}
	info->online = sysconf(_SC_NPROCESSORS_ONLN);
	info->tsc = use_tsc;
	info->ns_per_tick = ns_per_tick;
	info->read_to_read_ns = overhead;
}

unsigned int bench_samples_budget(double budget_ns, double ns_per_sample, unsigned int min,
				  unsigned int max)
{
	double n = ns_per_sample > 0 ? budget_ns / ns_per_sample : max;

	if (n > max)
		n = max;
	return n < min ? min : (unsigned int)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bench_stats(double *v, unsigned int n, struct bench_stats *st)
{
	double sum = 0;

	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	for (unsigned int i = 0; i < n; i++)
		sum += v[i];
	st->n = n;
	st->min = v[0];
	st->p50 = v[n / 2];
	st->p99 = v[(unsigned int)((double)(n - 1) * 0.99)];
	st->mean = sum / n;
}
