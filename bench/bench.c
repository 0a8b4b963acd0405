// SPDX-License-Identifier: MIT
/*
 * bench.c - the shared benchmark harness of the bench/ programs: options,
 * sample counts and JSON lines (see bench.h for the rules). Pinning, the
 * clock and statistics are benchclock.c's, which `uiommu bench` uses too;
 * bench_init() prints what it found on stderr, so a reader can see that
 * batches are long enough for the timer's cost not to matter.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "bench.h"

struct bench_opts bench_opts = { .cpu = -1 };

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--quick] [--cpu N] [--filter SUBSTR]\n", prog);
	exit(2);
}

void bench_init(int argc, char **argv, const char *prog)
{
	struct bench_clock_info ci;
	struct utsname u;

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
	bench_clock_setup(bench_opts.cpu, &ci);
	if (ci.pin_error[0])
		fprintf(stderr, "bench: %s\n", ci.pin_error);
	bench_opts.cpu = ci.cpu;
	uname(&u);
	fprintf(stderr,
		"# %s: cpu %d of %ld online, clock %s (%.4f ns/tick, read-to-read %.1f ns), "
		"kernel %s %s%s\n",
		prog, bench_opts.cpu, ci.online, ci.tsc ? "tsc" : "monotonic", ci.ns_per_tick,
		ci.read_to_read_ns, u.release, u.machine, bench_opts.quick ? ", quick" : "");
}

unsigned int bench_samples(unsigned int n, unsigned int min)
{
	if (bench_opts.quick)
		n /= 20;
	return n < min ? min : n;
}

unsigned int bench_samples_for(double ns_per_sample, unsigned int min, unsigned int max)
{
	if (bench_opts.quick && max / 20 > min)
		max /= 20;
	return bench_samples_budget(bench_opts.quick ? 1e8 : 2e9, ns_per_sample, min, max);
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
