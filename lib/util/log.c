// SPDX-License-Identifier: MIT
/*
 * log.c - levelled log lines routed to a replaceable handler.
 *
 * The level is read once from UIOMMU_LOG on first use; ulog_set_level()
 * overrides it. The handler pointer is set before threads start (library
 * initialisation or the CLI's main), so it is read without a lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

static void default_handler(enum ulog_level level, const char *msg, void *arg)
{
	static const char *const names[] = { "error", "warning", "info", "debug", "trace" };

	fprintf(stderr, "uiommu: %s: %s\n", names[level], msg);
}

static ulog_fn handler = default_handler;
static void *handler_arg;
static int cur_level = -1;

void ulog_set_handler(ulog_fn fn, void *arg)
{
	handler = fn ? fn : default_handler;
	handler_arg = arg;
}

void ulog_set_level(enum ulog_level level)
{
	cur_level = level;
}

enum ulog_level ulog_get_level(void)
{
	if (cur_level < 0) {
		const char *e = getenv("UIOMMU_LOG");

		cur_level = ULOG_WARN;
		if (e && !strcasecmp(e, "err"))
			cur_level = ULOG_ERR;
		else if (e && !strcasecmp(e, "info"))
			cur_level = ULOG_INFO;
		else if (e && !strcasecmp(e, "debug"))
			cur_level = ULOG_DEBUG;
	}
	return (enum ulog_level)cur_level;
}

void ulog_emit(enum ulog_level level, const char *msg)
{
	int saved = errno;

	handler(level, msg, handler_arg);
	errno = saved;
}

void ulogv(enum ulog_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	int saved = errno;

	if ((int)level > (int)ulog_get_level())
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	handler(level, buf, handler_arg);
	errno = saved;
}

void ulog(enum ulog_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ulogv(level, fmt, ap);
	va_end(ap);
}
