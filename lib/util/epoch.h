/* SPDX-License-Identifier: MIT */
/*
 * util/epoch.h - epoch-based reclamation: free memory that lock-free
 * readers may still be looking at only once they cannot be.
 *
 * Readers (page-table walkers) bracket each walk with epoch_enter() /
 * epoch_exit(). A writer that unlinks memory (a table that left its tree)
 * hands it to epoch_retire(); the callback runs once every reader that
 * was inside a critical section at that moment has left it. Readers never
 * block writers for longer than one walk, and writers never block readers.
 *
 * Cost: the reader side is a thread-local store and compiler barriers, no
 * atomic read-modify-write and no full fence on the fast path; the writer
 * side pays for the ordering (membarrier(2) with
 * MEMBARRIER_CMD_PRIVATE_EXPEDITED where the kernel has it, a sequentially
 * consistent fence on the reader side otherwise).
 *
 * Threads register themselves on first use (thread-local record on a
 * global list, removed at thread exit), so threads the library did not
 * create (a program under the preload shim) are covered. Critical sections
 * nest. Callbacks run on the thread that calls epoch_retire(),
 * epoch_poll() or epoch_barrier(), never inside a reader's section.
 */
#ifndef UIOMMU_UTIL_EPOCH_H
#define UIOMMU_UTIL_EPOCH_H

#include <stdbool.h>

void epoch_enter(void);
void epoch_exit(void);

typedef void (*epoch_fn)(void *arg);

/*
 * Run @fn(@arg) after a grace period. May also run callbacks whose grace
 * period has already passed (this one too, when no reader is inside a
 * section). The queue node is allocated; if that fails, the call waits for
 * a grace period (epoch_barrier) and runs @fn itself, so retiring never
 * fails. The node must not live in the retired memory: readers may still
 * be reading every byte of it.
 */
void epoch_retire(epoch_fn fn, void *arg);

/* The same with a caller-provided node in memory readers never see (metadata). */
struct epoch_node {
	struct epoch_node *next;
	epoch_fn fn;
	void *arg;
	unsigned long epoch;
};
void epoch_retire_node(struct epoch_node *node, epoch_fn fn, void *arg);

/* Run every callback whose grace period has passed; returns how many ran. */
unsigned int epoch_poll(void);

/* Wait for a grace period and run every callback retired before the call. */
void epoch_barrier(void);

/* For tests: is the calling thread inside a critical section? */
bool epoch_in_section(void);

#endif
