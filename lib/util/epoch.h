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
 * epoch_poll(), epoch_barrier() or epoch_release(), never inside a
 * reader's section.
 *
 * Refinements of the first contract (lib/util/epoch.c has the reasoning):
 *
 *  - Retired callbacks wait on one process-wide queue, so any thread's
 *    epoch_poll() runs any thread's callbacks, and epoch_barrier() covers
 *    everything retired before it, by any thread. A callback therefore
 *    must not assume the thread it runs on.
 *  - epoch_alone() tells a writer that nobody could be reading what it
 *    unlinked, so it may reuse the memory at once: the single-threaded
 *    case pays nothing but a load.
 *  - epoch_hold() / epoch_release(): something other than the structure
 *    itself may still point at what is unlinked (a walk cache holding the
 *    address of a table an unmap just freed). What is retired inside the
 *    pair is retired as of epoch_release(), which the owner calls once
 *    those pointers are gone (after the cache invalidation).
 *  - fork(): the child's registry is the forking thread alone, and the
 *    child registers for membarrier again (or falls back to fences).
 *  - epoch_retire() and epoch_barrier() inside a section: a section cannot
 *    wait for itself. epoch_barrier() there is a bug (it aborts); the
 *    allocation-failure fallback of epoch_retire() there, or inside a
 *    hold, leaks the memory (the callback never runs) and logs it.
 */
#ifndef UIOMMU_UTIL_EPOCH_H
#define UIOMMU_UTIL_EPOCH_H

#include <stdbool.h>

/*
 * The reader side inline: this thread's section state, which epoch.c owns
 * (its record points here). active is 0 outside a section, else the epoch
 * read on entry (the writers' scan reads it); state is the nesting depth,
 * with EPOCH_FAST set while a section is two plain stores: the thread is
 * on the registry and writers use membarrier(2). Anything else (a first
 * section, which registers, a nested one, reader fences, a thread without
 * an exit hook) takes the calls.
 */
struct epoch_reader {
	unsigned long active;
	unsigned int state;
};
#define EPOCH_FAST 0x80000000u

extern __thread struct epoch_reader epoch_reader __attribute__((tls_model("initial-exec")));
extern unsigned long epoch_now; /* E (epoch.c) */

void epoch_enter_slow(void);
void epoch_exit_slow(void);

/* Enter a read-side section (they nest). */
static inline __attribute__((always_inline)) void epoch_enter(void)
{
	struct epoch_reader *r = &epoch_reader;

	if (__builtin_expect(r->state == EPOCH_FAST, 1)) {
		r->state = EPOCH_FAST | 1;
		__atomic_store_n(&r->active, __atomic_load_n(&epoch_now, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		/* The section's reads stay after the announcement (membarrier orders them). */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		return;
	}
	epoch_enter_slow();
}

/* Leave it. */
static inline __attribute__((always_inline)) void epoch_exit(void)
{
	struct epoch_reader *r = &epoch_reader;

	if (__builtin_expect(r->state == (EPOCH_FAST | 1), 1)) {
		r->state = EPOCH_FAST;
		__atomic_store_n(&r->active, 0, __ATOMIC_RELEASE);
		return;
	}
	epoch_exit_slow();
}

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

/*
 * The same with a caller-provided node in memory readers never see
 * (metadata). The node belongs to the queue until @fn has been called.
 */
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

/*
 * True when memory unlinked before the call may be reused at once: no
 * other thread could be reading it (none has ever entered a section, or
 * all that did have exited), and the caller is neither inside a section
 * nor holding (epoch_hold). Costs a load (a fence without membarrier).
 */
bool epoch_alone(void);

/*
 * Retire as of later: callbacks retired by this thread between
 * epoch_hold() and the matching epoch_release() wait until the release,
 * and only then start their grace period. Pairs nest.
 */
void epoch_hold(void);
void epoch_release(void);

/* Callbacks waiting in the queue (all threads; held ones not included). */
unsigned int epoch_pending(void);

/* For tests: is the calling thread inside a critical section? */
bool epoch_in_section(void);

/*
 * For tests: does the writer side use membarrier(2)? UIOMMU_EPOCH=fence in
 * the environment (read once, at first use) selects the reader-fence
 * fallback; UIOMMU_EPOCH=nohook makes every thread behave as one whose
 * exit hook could not be set (its sections are counted globally).
 */
bool epoch_uses_membarrier(void);

#endif
