// SPDX-License-Identifier: MIT
/*
 * trace.c - which trace events are enabled, and the log back end.
 *
 * What it owns: one state byte per event (trace_event_state[], indexed by
 * enum trace_event_id) and the name table, both generated from
 * util/trace-events.h. The probes themselves are inline (util/trace.h).
 *
 * Lifecycle of the states: they start at TRACE_STATE_UNKNOWN, so the first
 * hit of any event calls trace_event_resolve(). That (and every other entry
 * point here) runs settle() once, under pthread_once: all states become
 * off, then the patterns of UIOMMU_TRACE are applied. From then on a state
 * is only ever off or on, and the inline check in trace_event_enabled() is
 * a single relaxed byte load. Because trace_enable() settles first, a
 * pattern given on the command line always applies after the environment.
 *
 * Invariants: after settle() no state is UNKNOWN; names[] and the enum come
 * from the same list, so they cannot disagree.
 *
 * Locking: states are atomic bytes; writers (trace_enable, trace_disable_all)
 * are expected to be rare and may race only with readers, which then see the
 * old or new value of each event. Two concurrent trace_enable() calls give
 * an unspecified mix of their patterns. The log handler is called without a
 * lock; see util/log.c.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/trace.h"

_Atomic uint8_t trace_event_state[TRACE_NR_EVENTS] = {
	[0 ... TRACE_NR_EVENTS - 1] = TRACE_STATE_UNKNOWN,
};

static const char *const names[TRACE_NR_EVENTS] = {
#define TRACE_EVENT(name, proto, args, print) [TRACE_EV_##name] = #name,
#include "util/trace-events.h"
#undef TRACE_EVENT
};

#define PATTERN_MAX 128

static void set_state(unsigned int id, uint8_t s)
{
	atomic_store_explicit(&trace_event_state[id], s, memory_order_relaxed);
}

/* Apply one pattern (NUL-terminated, no comma); returns events matched. */
static int apply_one(const char *pat)
{
	uint8_t s = TRACE_STATE_ON;
	int n = 0;

	while (*pat == ' ' || *pat == '\t')
		pat++;
	if (*pat == '-') {
		s = TRACE_STATE_OFF;
		pat++;
	}
	if (!*pat)
		return 0;
	for (unsigned int id = 0; id < TRACE_NR_EVENTS; id++) {
		if (!fnmatch(pat, names[id], 0)) {
			set_state(id, s);
			n++;
		}
	}
	return n;
}

static int apply_patterns(const char *patterns)
{
	const char *p = patterns;
	int total = 0;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char pat[PATTERN_MAX];

		if (len >= sizeof(pat))
			return -EINVAL;
		memcpy(pat, p, len);
		pat[len] = '\0';
		/* Trailing blanks, so "pt_map, xlate_*" works. */
		while (len && (pat[len - 1] == ' ' || pat[len - 1] == '\t'))
			pat[--len] = '\0';
		total += apply_one(pat);
		if (!comma)
			break;
		p = comma + 1;
	}
	return total;
}

static pthread_once_t settle_once = PTHREAD_ONCE_INIT;

static void settle_from_env(void)
{
	const char *env = getenv("UIOMMU_TRACE");

	for (unsigned int id = 0; id < TRACE_NR_EVENTS; id++)
		set_state(id, TRACE_STATE_OFF);
	if (env && apply_patterns(env) < 0)
		ulog_warn("UIOMMU_TRACE: a pattern is longer than %d bytes; ignored from there on",
			  PATTERN_MAX - 1);
}

static void settle(void)
{
	pthread_once(&settle_once, settle_from_env);
}

bool trace_event_resolve(enum trace_event_id id)
{
	settle();
	return atomic_load_explicit(&trace_event_state[id], memory_order_relaxed) == TRACE_STATE_ON;
}

void trace_event_emit(enum trace_event_id id, const char *print, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "%s ", names[id]);
	va_start(ap, print);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, print, ap);
	va_end(ap);
	ulog_emit(ULOG_TRACE, buf);
}

int trace_enable(const char *patterns)
{
	settle();
	if (!patterns)
		return -EINVAL;
	return apply_patterns(patterns);
}

void trace_disable_all(void)
{
	settle();
	for (unsigned int id = 0; id < TRACE_NR_EVENTS; id++)
		set_state(id, TRACE_STATE_OFF);
}

unsigned int trace_event_count(void)
{
	return TRACE_NR_EVENTS;
}

const char *trace_event_name(unsigned int id)
{
	return id < TRACE_NR_EVENTS ? names[id] : NULL;
}

int trace_event_lookup(const char *name)
{
	for (unsigned int id = 0; id < TRACE_NR_EVENTS; id++)
		if (!strcmp(name, names[id]))
			return (int)id;
	return -ENOENT;
}
