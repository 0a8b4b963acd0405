/* SPDX-License-Identifier: MIT */
/*
 * Trace points. Each event of util/trace-events.h becomes
 *
 *	static inline void trace_<name>(<prototype>);
 *
 * which (a) fires the USDT probe uiommu:<name> (a nop plus an ELF note;
 * bpftrace, perf and SystemTap can attach to it) and (b) when the event is
 * enabled, formats one log line "<name> <args>" to the log handler at level
 * ULOG_TRACE, whatever the log level.
 *
 * Enabling: comma-separated glob patterns (fnmatch), from the environment
 * variable UIOMMU_TRACE (read once, on the first trace call or trace_*()
 * call) and from trace_enable() (the CLI's --trace). A pattern starting
 * with '-' disables what it matches; patterns apply left to right:
 *
 *	UIOMMU_TRACE='pt_*,xlate_*,-xlate_walk'
 *
 * Cost when disabled: one relaxed load of the event's state byte and a
 * branch, inlined at the call site (plus the probe's nop); no string is
 * compared on that path.
 */
#ifndef UIOMMU_UTIL_TRACE_H
#define UIOMMU_UTIL_TRACE_H

#include "config.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/bits.h"

#if HAVE_SYS_SDT_H
#ifndef SDT_USE_VARIADIC
#define SDT_USE_VARIADIC 1
#endif
#include <sys/sdt.h>
#define TRACE_USDT(name, ...) STAP_PROBEV(uiommu, name, __VA_ARGS__)
#else
#define TRACE_USDT(name, ...) \
	do {                  \
	} while (0)
#endif

enum trace_event_id {
#define TRACE_EVENT(name, proto, args, print) TRACE_EV_##name,
#include "util/trace-events.h"
#undef TRACE_EVENT
	TRACE_NR_EVENTS
};

/*
 * State of each event: off, on, or unknown until UIOMMU_TRACE has been
 * read. Unknown is non-zero so the first call of every event takes the slow
 * path, which reads the environment once and settles every state.
 */
enum { TRACE_STATE_OFF = 0, TRACE_STATE_ON = 1, TRACE_STATE_UNKNOWN = 2 };
extern _Atomic uint8_t trace_event_state[TRACE_NR_EVENTS];

/* Slow path of trace_event_enabled(): settle the states, then answer. */
bool trace_event_resolve(enum trace_event_id id);
/* Format "<name> <print...>" and hand it to the log handler. */
void trace_event_emit(enum trace_event_id id, const char *print, ...)
	__attribute__((format(printf, 2, 3)));

static inline bool trace_event_enabled(enum trace_event_id id)
{
	uint8_t s = atomic_load_explicit(&trace_event_state[id], memory_order_relaxed);

	if (likely(s == TRACE_STATE_OFF))
		return false;
	return s == TRACE_STATE_ON || trace_event_resolve(id);
}

/*
 * Apply comma-separated patterns ("-pattern" disables). Returns how many
 * events the patterns matched in total, 0 when none did (a likely typo the
 * caller may report), or -EINVAL for a pattern longer than 127 bytes (the
 * patterns before it are applied).
 */
int trace_enable(const char *patterns);
void trace_disable_all(void);

unsigned int trace_event_count(void);
/* Name of event @id, NULL when out of range. */
const char *trace_event_name(unsigned int id);
/* ID of the event called @name, or -ENOENT. */
int trace_event_lookup(const char *name);

#define TRACE_UNPAREN(...) __VA_ARGS__

#define TRACE_EVENT(name, proto, args, print)                                               \
	static inline __attribute__((always_inline)) void trace_##name(TRACE_UNPAREN proto) \
	{                                                                                   \
		TRACE_USDT(name, TRACE_UNPAREN args);                                       \
		if (trace_event_enabled(TRACE_EV_##name))                                   \
			trace_event_emit(TRACE_EV_##name, print, TRACE_UNPAREN args);       \
	}
#include "util/trace-events.h"
#undef TRACE_EVENT

#endif
