// SPDX-License-Identifier: MIT
/*
 * bench.c - the shared benchmark harness: options, CPU pinning, the clock,
 * statistics and JSON lines (see bench.h for the rules).
 *
 * Clock calibration: the TSC and CLOCK_MONOTONIC are read together twice,
 * about 50 ms apart, and the ratio gives nanoseconds per tick. The timer's
 * own cost (two back-to-back reads) is measured and reported on stderr, so a
 * reader can see that batches are long enough for it not to matter.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct bench_opts bench_opts = { .cpu = -1 };

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
	struct timespec nap = { 0, 50 * 1000 * 1000 };

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

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0) {
		/* The last CPU we may run on: usually the least busy with interrupts. */
		if (sched_getaffinity(0, sizeof(set), &set))
			return;
		for (int c = CPU_SETSIZE - 1; c >= 0; c--)
			if (CPU_ISSET(c, &set)) {
				cpu = c;
				break;
			}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "bench: cannot pin to cpu %d: %s\n", cpu, strerror(errno));
	bench_opts.cpu = cpu;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--quick] [--cpu N] [--filter SUBSTR]\n", prog);
	exit(2);
}

void bench_init(int argc, char **argv, const char *prog)
{
	struct utsname u;
	double overhead = 1e30;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			bench_opts.quick = true;
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			bench_opts.cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
			bench_opts.filter = argv[++i];
		else
			usage(prog);
	}
	if (getenv("BENCH_QUICK"))
		bench_opts.quick = true;
	pin(bench_opts.cpu);
	calibrate();
	for (int i = 0; i < 1000; i++) {
		uint64_t a = bench_ticks(), b = bench_ticks();

		if (bench_ns(b - a) < overhead)
			overhead = bench_ns(b - a);
	}
	uname(&u);
	fprintf(stderr,
		"# %s: cpu %d of %ld online, clock %s (%.4f ns/tick, read-to-read %.1f ns), "
		"kernel %s %s%s\n",
		prog, bench_opts.cpu, sysconf(_SC_NPROCESSORS_ONLN), use_tsc ? "tsc" : "monotonic",
		ns_per_tick, overhead, u.release, u.machine, bench_opts.quick ? ", quick" : "");
}

unsigned int bench_samples(unsigned int n, unsigned int min)
{
	if (bench_opts.quick)
		n /= 20;
	return n < min ? min : n;
}

unsigned int bench_samples_for(double ns_per_sample, unsigned int min, unsigned int max)
{
	double budget = bench_opts.quick ? 1e8 : 2e9;
	double n = ns_per_sample > 0 ? budget / ns_per_sample : max;

	if (bench_opts.quick && max / 20 > min)
		max /= 20;
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

bool bench_want(const char *desc)
{
	return !bench_opts.filter || strstr(desc, bench_opts.filter);
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                   */

__attribute__((format(printf, 2, 3))) static void bj_put(struct bench_json *j, const char *fmt,
							  ...)
{
	va_list ap;
	int n;

	if (j->len >= sizeof(j->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->buf + j->len, sizeof(j->buf) - j->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		j->len += (size_t)n;
}

/* Names and values here are our own identifiers: no escaping needed. */
void bj_begin(struct bench_json *j, const char *name)
{
	j->len = 0;
	j->in_params = true;
	j->params_empty = true;
	bj_put(j, "{\"name\": \"%s\", \"params\": {", name);
}

static void bj_param_sep(struct bench_json *j)
{
	if (!j->params_empty)
		bj_put(j, ", ");
	j->params_empty = false;
}

void bj_param_str(struct bench_json *j, const char *key, const char *val)
{
	bj_param_sep(j);
	bj_put(j, "\"%s\": \"%s\"", key, val);
}

void bj_param_u64(struct bench_json *j, const char *key, uint64_t val)
{
	bj_param_sep(j);
	bj_put(j, "\"%s\": %llu", key, (unsigned long long)val);
}

static void bj_field(struct bench_json *j, const char *key)
{
	if (j->in_params) {
		bj_put(j, "}");
		j->in_params = false;
	}
	bj_put(j, ", \"%s\": ", key);
}

void bj_str(struct bench_json *j, const char *key, const char *val)
{
	bj_field(j, key);
	bj_put(j, "\"%s\"", val);
}

void bj_u64(struct bench_json *j, const char *key, uint64_t val)
{
	bj_field(j, key);
	bj_put(j, "%llu", (unsigned long long)val);
}

void bj_f(struct bench_json *j, const char *key, double val)
{
	bj_field(j, key);
	if (val >= 100)
		bj_put(j, "%.0f", val);
	else
		bj_put(j, "%.3g", val);
}

void bj_stats(struct bench_json *j, const struct bench_stats *st)
{
	bj_f(j, "ns_p50", st->p50);
	bj_f(j, "ns_p99", st->p99);
	bj_f(j, "ns_min", st->min);
	bj_f(j, "ns_mean", st->mean);
	bj_f(j, "ops_per_s", st->p50 > 0 ? 1e9 / st->p50 : 0);
	bj_u64(j, "samples", st->n);
}

void bj_linux(struct bench_json *j, const struct bench_stats *st, double linux_ns)
{
	if (linux_ns <= 0)
		return;
	bj_f(j, "linux_6_12_ns", linux_ns);
	bj_f(j, "ratio", st->p50 / linux_ns);
}

void bj_end(struct bench_json *j)
{
	if (j->in_params)
		bj_put(j, "}");
	bj_put(j, "}");
	puts(j->buf);
	fflush(stdout);
}
