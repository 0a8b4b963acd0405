/* SPDX-License-Identifier: MIT */
/*
 * Logging. Messages go to a callback (stderr by default) so an embedder can
 * route them. The level comes from UIOMMU_LOG (err, warn, info, debug).
 * ULOG_TRACE lines come from enabled trace events (util/trace.h); they are
 * filtered by the event patterns, not by the level.
 */
#ifndef UIOMMU_UTIL_LOG_H
#define UIOMMU_UTIL_LOG_H

#include <stdarg.h>

enum ulog_level { ULOG_ERR = 0, ULOG_WARN, ULOG_INFO, ULOG_DEBUG, ULOG_TRACE };

typedef void (*ulog_fn)(enum ulog_level level, const char *msg, void *arg);

void ulog_set_handler(ulog_fn fn, void *arg);
void ulog_set_level(enum ulog_level level);
enum ulog_level ulog_get_level(void);
void ulog(enum ulog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ulogv(enum ulog_level level, const char *fmt, va_list ap);
/* Hand a finished line to the handler whatever the level (errno is preserved). */
void ulog_emit(enum ulog_level level, const char *msg);

#define ulog_err(...)	ulog(ULOG_ERR, __VA_ARGS__)
#define ulog_warn(...)	ulog(ULOG_WARN, __VA_ARGS__)
#define ulog_info(...)	ulog(ULOG_INFO, __VA_ARGS__)
#define ulog_debug(...) ulog(ULOG_DEBUG, __VA_ARGS__)

#endif
