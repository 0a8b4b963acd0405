/* SPDX-License-Identifier: MIT */
/*
 * tests/tap.h - a TAP producer for test programs that want more than
 * cmocka gives them: one test point per table row, skips that read as
 * "ok N - name # SKIP reason" (cmocka 1.1 prints "not ok" for a skip, which
 * meson counts as a failure), and failure diagnostics the test writes
 * itself (seeds, the last operations, how to rerun).
 *
 * A test point is a function run under setjmp: TAP_CHECK() and tap_fail()
 * print "# file:line: ..." lines and jump back, tap_skip() does the same
 * with a skip. The runner prints the plan first, then one line per point.
 * Everything goes to stdout, line-buffered, so the diagnostics stay next to
 * the point they belong to. Header-only: each program includes it once.
 */
#ifndef UIOMMU_TESTS_TAP_H
#define UIOMMU_TESTS_TAP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

enum tap_outcome {
	TAP_PASS = 0,
	TAP_FAILED = 1,
	TAP_SKIPPED = 2,
};

struct tap_state {
	unsigned int n, failed, skipped;
	jmp_buf jb;
	char skip_reason[128];
	/* Optional hook: prints context (seed, last ops) when a check fails. */
	void (*on_fail)(void *arg);
	void *on_fail_arg;
};

static struct tap_state tap;

static inline void tap_plan(unsigned int n)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%u\n", n);
}

__attribute__((format(printf, 1, 2))) static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

__attribute__((noreturn, format(printf, 4, 5))) static inline void
tap_fail_at(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: check failed: %s\n# ", file, line, expr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	if (tap.on_fail)
		tap.on_fail(tap.on_fail_arg);
	longjmp(tap.jb, TAP_FAILED);
}

#define TAP_CHECK(cond, ...)                                                                   \
	do {                                                                                   \
		if (__builtin_expect(!(cond), 0))                                              \
			tap_fail_at(__FILE__, __LINE__, #cond, __VA_ARGS__);                   \
	} while (0)

/* Integer equality with both values printed. */
#define TAP_CHECK_EQ(a, b, ...)                                                                \
	do {                                                                                   \
		long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);                    \
		if (__builtin_expect(tap_a_ != tap_b_, 0)) {                                   \
			printf("#   %s = %lld (0x%llx), %s = %lld (0x%llx)\n", #a, tap_a_,        \
			       (unsigned long long)tap_a_, #b, tap_b_, (unsigned long long)tap_b_); \
			tap_fail_at(__FILE__, __LINE__, #a " == " #b, __VA_ARGS__);            \
		}                                                                              \
	} while (0)

__attribute__((noreturn, format(printf, 1, 2))) static inline void tap_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tap.skip_reason, sizeof(tap.skip_reason), fmt, ap);
	va_end(ap);
	longjmp(tap.jb, TAP_SKIPPED);
}

/* Run one test point. Returns its outcome. */
static inline enum tap_outcome tap_run(const char *name, void (*fn)(void *arg), void *arg)
{
	/* volatile: read after longjmp */
	volatile int outcome;

	tap.n++;
	tap.on_fail = NULL;
	outcome = setjmp(tap.jb);
	if (outcome == 0) {
		fn(arg);
		outcome = TAP_PASS;
	}
	switch (outcome) {
	case TAP_PASS:
		printf("ok %u - %s\n", tap.n, name);
		break;
	case TAP_SKIPPED:
		tap.skipped++;
		printf("ok %u - %s # SKIP %s\n", tap.n, name, tap.skip_reason);
		break;
	default:
		tap.failed++;
		printf("not ok %u - %s\n", tap.n, name);
		break;
	}
	tap.on_fail = NULL;
	return (enum tap_outcome)outcome;
}

/* Exit status for main(). */
static inline int tap_done(void)
{
	fflush(stdout);
	return tap.failed ? 1 : 0;
}

#endif
