/* SPDX-License-Identifier: MIT */
/*
 * Statistics of what a program did with the library: the files it opened,
 * the objects it created, its ioctls by command and by result, the DMA the
 * emulated devices made, the faults and events delivered to it. `uiommu
 * exec --summary` prints them for each process (the public face is
 * uiommu_stats_*() in include/uiommu/uiommu.h).
 *
 * Counting is off until stats_enable(true): every counting call is then an
 * inline test of one relaxed flag. When on, counters are relaxed atomics,
 * exact but not a consistent snapshot while other threads count.
 *
 * Named counters (files by kind, objects by type, ioctls by command) take
 * the name as a string with static storage duration (an ops or type table's
 * name, a stringified ioctl); a table holds up to STATS_NAMED_MAX names per
 * kind and counts later ones under "other".
 */
#ifndef UIOMMU_UTIL_STATS_H
#define UIOMMU_UTIL_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/bits.h"

extern atomic_bool stats_on;

static inline bool stats_enabled(void)
{
	return unlikely(atomic_load_explicit(&stats_on, memory_order_relaxed));
}

enum stats_counter {
	STATS_DMA_ACCESSES,    /* accesses a device (or an iommufd access) made through the IOMMU */
	STATS_DMA_BYTES,       /* bytes they moved */
	STATS_DMA_FAULTS,      /* accesses that faulted */
	STATS_FAULTS_QUEUED,   /* page requests queued on a fault fd */
	STATS_FAULTS_READ,     /* page requests the program read */
	STATS_FAULTS_ANSWERED, /* responses the program wrote */
	STATS_VEVENTS_QUEUED,  /* vEVENTs queued (not counting dropped ones) */
	STATS_VEVENTS_LOST,    /* vEVENTs dropped (queue full, no memory) */
	STATS_VEVENTS_READ,    /* vEVENT records the program read */
	STATS_NR_COUNTERS
};

enum stats_table {
	STATS_FILES,   /* emulated files created, by kind (ufile_ops name) */
	STATS_OBJECTS, /* iommufd objects published, by type */
	STATS_IOCTLS,  /* ioctls on emulated files, by command */
	STATS_NR_TABLES
};

#define STATS_NAMED_MAX 64
/* errno values counted one by one; larger ones count as STATS_ERRNO_MAX. */
#define STATS_ERRNO_MAX 160

/*
 * snprintf(3) at *@len into @buf of @size bytes, adding to *@len the length
 * it needed (what did not fit is counted, not written): for a summary that
 * stats_format() began and a caller continues.
 */
__attribute__((format(printf, 4, 5))) void stats_put(char *buf, size_t size, size_t *len,
						     const char *fmt, ...);

bool stats_enable(bool on);
void stats_reset(void);
/* After fork(), in the child: counters start from zero. */
void stats_fork_child(void);
/* A daemon()'s child (util/forkgate.h fork_gate_handover()): the counts go on, as its own. */
void stats_take_over(void);
/*
 * The process the counters belong to: the one that enabled them, or the
 * fork() child that reset them. A vfork() child shares them without being
 * it (no fork handler runs for vfork).
 */
pid_t stats_owner(void);

void stats_add_slow(enum stats_counter c, uint64_t n);
void stats_named_slow(enum stats_table t, const char *name, int result);

static inline void stats_add(enum stats_counter c, uint64_t n)
{
	if (stats_enabled())
		stats_add_slow(c, n);
}

/* One event of kind @name in table @t; @result is 0 or a negative errno (ioctls). */
static inline void stats_named(enum stats_table t, const char *name, int result)
{
	if (stats_enabled())
		stats_named_slow(t, name, result);
}

/*
 * Reading. stats_get(): a counter by its public name ("dma.bytes",
 * "objects.ioas", "ioctls.IOMMU_IOAS_MAP", "ioctls.IOMMU_IOAS_MAP.failed",
 * "errno.ENOENT", "ioctls", "ioctls.ok", "files", "files.iommufd" ...);
 * -ENOENT for a name nothing has counted and that is not a fixed counter.
 * stats_format(): the human summary, snprintf-style (returns the length it
 * needed).
 */
int stats_get(const char *name, uint64_t *value);
size_t stats_format(char *buf, size_t size);

#endif
