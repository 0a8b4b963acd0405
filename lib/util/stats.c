// SPDX-License-Identifier: MIT
/*
 * stats.c - the counters behind uiommu_stats_*() and `uiommu exec
 * --summary` (util/stats.h).
 *
 * What it owns: fixed counters (DMA, faults, events), three tables of
 * named counters (files by kind, objects by type, ioctls by command, each
 * with a count of failures) and the count of ioctl results by errno.
 *
 * Invariants: a named slot's name, once set, never changes until
 * stats_reset(); names are unique within a table (claimed with a
 * compare-and-swap, then compared by pointer or by string); slot
 * STATS_NAMED_MAX of each table counts names that found no free slot.
 *
 * Locks: none. Everything is a relaxed atomic; stats_reset() and the fork
 * child handler are meant for moments when nothing counts concurrently.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/stats.h"

atomic_bool stats_on;
static _Atomic pid_t owner;

struct stats_named {
	_Atomic(const char *) name;
	_Atomic uint64_t count;
	_Atomic uint64_t failed;
};

static _Atomic uint64_t counters[STATS_NR_COUNTERS];
static struct stats_named tables[STATS_NR_TABLES][STATS_NAMED_MAX + 1];
/* Ioctl results: [0] success, [e] errno e, [STATS_ERRNO_MAX] anything larger. */
static _Atomic uint64_t results[STATS_ERRNO_MAX + 1];

static const char *const table_names[STATS_NR_TABLES] = {
	[STATS_FILES] = "files",
	[STATS_OBJECTS] = "objects",
	[STATS_IOCTLS] = "ioctls",
};

static const char *const counter_names[STATS_NR_COUNTERS] = {
	[STATS_DMA_ACCESSES] = "dma.accesses",	   [STATS_DMA_BYTES] = "dma.bytes",
	[STATS_DMA_FAULTS] = "dma.faults",	   [STATS_FAULTS_QUEUED] = "faults.queued",
	[STATS_FAULTS_READ] = "faults.read",	   [STATS_FAULTS_ANSWERED] = "faults.answered",
	[STATS_VEVENTS_QUEUED] = "vevents.queued", [STATS_VEVENTS_LOST] = "vevents.lost",
	[STATS_VEVENTS_READ] = "vevents.read",
};

static inline uint64_t ld(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static inline void add(_Atomic uint64_t *p, uint64_t n)
{
	atomic_fetch_add_explicit(p, n, memory_order_relaxed);
}

bool stats_enable(bool on)
{
	atomic_store_explicit(&owner, getpid(), memory_order_relaxed);
	return atomic_exchange_explicit(&stats_on, on, memory_order_relaxed);
}

pid_t stats_owner(void)
{
	return atomic_load_explicit(&owner, memory_order_relaxed);
}

void stats_reset(void)
{
	for (unsigned int i = 0; i < STATS_NR_COUNTERS; i++)
		atomic_store_explicit(&counters[i], 0, memory_order_relaxed);
	for (unsigned int t = 0; t < STATS_NR_TABLES; t++) {
		for (unsigned int i = 0; i <= STATS_NAMED_MAX; i++) {
			atomic_store_explicit(&tables[t][i].name, NULL, memory_order_relaxed);
			atomic_store_explicit(&tables[t][i].count, 0, memory_order_relaxed);
			atomic_store_explicit(&tables[t][i].failed, 0, memory_order_relaxed);
		}
	}
	for (unsigned int i = 0; i <= STATS_ERRNO_MAX; i++)
		atomic_store_explicit(&results[i], 0, memory_order_relaxed);
}

void stats_fork_child(void)
{
	stats_reset();
	atomic_store_explicit(&owner, getpid(), memory_order_relaxed);
}

void stats_take_over(void)
{
	atomic_store_explicit(&owner, getpid(), memory_order_relaxed);
}

void stats_add_slow(enum stats_counter c, uint64_t n)
{
	if ((unsigned int)c < STATS_NR_COUNTERS)
		add(&counters[c], n);
}

static struct stats_named *slot_of(enum stats_table t, const char *name)
{
	struct stats_named *tab = tables[t];

	for (unsigned int i = 0; i < STATS_NAMED_MAX; i++) {
		const char *cur = atomic_load_explicit(&tab[i].name, memory_order_acquire);

		if (!cur) {
			if (atomic_compare_exchange_strong_explicit(&tab[i].name, &cur, name,
								    memory_order_acq_rel,
								    memory_order_acquire))
				return &tab[i];
			/* Someone else took it: @cur is now their name. */
		}
		if (cur == name || !strcmp(cur, name))
			return &tab[i];
	}
	return &tab[STATS_NAMED_MAX];
}

void stats_named_slow(enum stats_table t, const char *name, int result)
{
	struct stats_named *s;

	if ((unsigned int)t >= STATS_NR_TABLES || !name)
		return;
	s = slot_of(t, name);
	add(&s->count, 1);
	if (result < 0)
		add(&s->failed, 1);
	if (t == STATS_IOCTLS) {
		unsigned int e = result < 0 ? (unsigned int)-result : 0;

		add(&results[e < STATS_ERRNO_MAX ? e : STATS_ERRNO_MAX], 1);
	}
}

static uint64_t table_total(enum stats_table t, bool failed)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i <= STATS_NAMED_MAX; i++)
		n += ld(failed ? &tables[t][i].failed : &tables[t][i].count);
	return n;
}

static const char *errno_name(unsigned int e)
{
	const char *s = e < STATS_ERRNO_MAX ? strerrorname_np((int)e) : NULL;

	return s ? s : "other";
}

int stats_get(const char *name, uint64_t *value)
{
	for (unsigned int i = 0; i < STATS_NR_COUNTERS; i++) {
		if (!strcmp(name, counter_names[i])) {
			*value = ld(&counters[i]);
			return 0;
		}
	}
	if (!strcmp(name, "ioctls.ok")) {
		*value = ld(&results[0]);
		return 0;
	}
	if (!strncmp(name, "errno.", 6)) {
		for (unsigned int e = 1; e <= STATS_ERRNO_MAX; e++) {
			if (!strcmp(name + 6, errno_name(e))) {
				*value = ld(&results[e]);
				return 0;
			}
		}
		return -ENOENT;
	}
	for (unsigned int t = 0; t < STATS_NR_TABLES; t++) {
		size_t len = strlen(table_names[t]);
		const char *key, *dot;
		size_t klen;

		if (strncmp(name, table_names[t], len))
			continue;
		if (!name[len]) {
			*value = table_total(t, false);
			return 0;
		}
		if (name[len] != '.')
			continue;
		key = name + len + 1;
		dot = strrchr(key, '.');
		klen = dot && !strcmp(dot, ".failed") ? (size_t)(dot - key) : strlen(key);
		for (unsigned int i = 0; i <= STATS_NAMED_MAX; i++) {
			const char *cur =
				atomic_load_explicit(&tables[t][i].name, memory_order_acquire);

			if (i == STATS_NAMED_MAX)
				cur = "other";
			if (!cur || strlen(cur) != klen || strncmp(cur, key, klen))
				continue;
			*value = ld(klen == strlen(key) ? &tables[t][i].count
							: &tables[t][i].failed);
			return 0;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

void stats_put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

static void put_table(char *buf, size_t size, size_t *len, enum stats_table t)
{
	unsigned int shown = 0;

	for (unsigned int i = 0; i <= STATS_NAMED_MAX; i++) {
		const char *name = atomic_load_explicit(&tables[t][i].name, memory_order_acquire);
		uint64_t n = ld(&tables[t][i].count), failed = ld(&tables[t][i].failed);

		if (i == STATS_NAMED_MAX)
			name = "other";
		if (!name || !n)
			continue;
		stats_put(buf, size, len, "%s%s %" PRIu64, shown++ ? ", " : "", name, n);
		if (failed && t == STATS_IOCTLS)
			stats_put(buf, size, len, " (%" PRIu64 " failed)", failed);
	}
	if (!shown)
		stats_put(buf, size, len, "none");
}

size_t stats_format(char *buf, size_t size)
{
	uint64_t total = table_total(STATS_IOCTLS, false);
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	stats_put(buf, size, &len, "files: ");
	put_table(buf, size, &len, STATS_FILES);
	stats_put(buf, size, &len, "\nobjects: ");
	put_table(buf, size, &len, STATS_OBJECTS);
	stats_put(buf, size, &len, "\nioctls: %" PRIu64 " (ok %" PRIu64, total, ld(&results[0]));
	for (unsigned int e = 1; e <= STATS_ERRNO_MAX; e++)
		if (ld(&results[e]))
			stats_put(buf, size, &len, ", %s %" PRIu64, errno_name(e), ld(&results[e]));
	stats_put(buf, size, &len, ")\n  ");
	put_table(buf, size, &len, STATS_IOCTLS);
	stats_put(buf, size, &len,
	    "\ndma: %" PRIu64 " accesses, %" PRIu64 " bytes, %" PRIu64 " faulted\n"
	    "faults: %" PRIu64 " queued, %" PRIu64 " read, %" PRIu64 " answered\n"
	    "vevents: %" PRIu64 " queued, %" PRIu64 " lost, %" PRIu64 " read\n",
	    ld(&counters[STATS_DMA_ACCESSES]), ld(&counters[STATS_DMA_BYTES]),
	    ld(&counters[STATS_DMA_FAULTS]), ld(&counters[STATS_FAULTS_QUEUED]),
	    ld(&counters[STATS_FAULTS_READ]), ld(&counters[STATS_FAULTS_ANSWERED]),
	    ld(&counters[STATS_VEVENTS_QUEUED]), ld(&counters[STATS_VEVENTS_LOST]),
	    ld(&counters[STATS_VEVENTS_READ]));
	return len;
}
