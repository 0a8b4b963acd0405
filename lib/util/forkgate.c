// SPDX-License-Identifier: MIT
/*
 * forkgate.c - the fork gate (util/forkgate.h): a writer-preferring
 * read-write lock that public entry points hold for reading and fork()
 * holds for writing.
 *
 * What it owns: the gate and the pthread_atfork handlers of the library's
 * emulated-file state (the allocator's fail-nth registry, the statistics).
 *
 * Invariants: a thread holds the gate for reading exactly while its depth
 * is non-zero; between prepare and parent/child the forking thread holds it
 * for writing and no other thread is inside.
 *
 * Locks: the gate itself; prepare takes, after it, the fail-nth registry
 * lock. The child re-initialises the gate rather than unlocking it, since
 * its recorded writer is a thread ID of the parent.
 */
#include <pthread.h>

#include "util/alloc.h"
#include "util/epoch.h"
#include "util/forkgate.h"
#include "util/stats.h"

static pthread_rwlock_t gate;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static _Thread_local unsigned int depth;

static void gate_lock_init(void)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&gate, &attr);
	pthread_rwlockattr_destroy(&attr);
}

static void gate_prepare(void)
{
	pthread_rwlock_wrlock(&gate);
	ualloc_fork_prepare();
}

static void gate_parent(void)
{
	ualloc_fork_parent();
	pthread_rwlock_unlock(&gate);
}

static void gate_child(void)
{
	ualloc_fork_child();
	stats_fork_child();
	gate_lock_init();
}

static void gate_init(void)
{
	gate_lock_init();
	/* Epoch's handlers first, so that ours (registered later) run first in prepare. */
	(void)epoch_uses_membarrier();
	pthread_atfork(gate_prepare, gate_parent, gate_child);
}

void fork_gate_enter(void)
{
	if (depth++)
		return;
	pthread_once(&gate_once, gate_init);
	pthread_rwlock_rdlock(&gate);
}

void fork_gate_exit(void)
{
	if (--depth)
		return;
	pthread_rwlock_unlock(&gate);
}
