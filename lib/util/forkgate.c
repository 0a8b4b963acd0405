// SPDX-License-Identifier: MIT
/*
 * forkgate.c - the fork gate (util/forkgate.h): a count of threads inside
 * the library, which fork() waits to see at zero while it keeps new ones
 * out.
 *
 * What it owns: the gate and the pthread_atfork handlers of the library's
 * emulated-file state (the allocator's fail-nth registry, the statistics).
 *
 * Invariants: readers counts the threads with a non-zero depth; while
 * writer is set no thread enters (so a stream of calls cannot starve
 * fork()); between prepare and parent/child the forking thread holds
 * gate_mutex, readers is 0 (or 1, the forking thread itself, when it forks
 * from inside a call) and writer is set.
 *
 * Locks: gate_mutex guards readers and writer, gate_cond signals both
 * ways. prepare keeps gate_mutex (and then the fail-nth registry lock)
 * across fork(); parent and child release them. The child also
 * re-initialises gate_cond, whose waiters were threads of the parent.
 * (A read-write lock cannot do this: glibc's unlock tells a writer by its
 * thread ID, which the child no longer has.)
 */
#include <pthread.h>
#include <stdbool.h>

#include "util/alloc.h"
#include "util/epoch.h"
#include "util/forkgate.h"
#include "util/stats.h"

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static unsigned int readers;
static bool writer;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static _Thread_local unsigned int depth;

static void gate_prepare(void)
{
	pthread_mutex_lock(&gate_mutex);
	writer = true;
	while (readers > (depth ? 1u : 0u))
		pthread_cond_wait(&gate_cond, &gate_mutex);
	ualloc_fork_prepare();
}

static void gate_parent(void)
{
	ualloc_fork_parent();
	writer = false;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_mutex);
}

static void gate_child(void)
{
	ualloc_fork_child();
	stats_fork_child();
	writer = false;
	readers = depth ? 1 : 0;
	gate_cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	pthread_mutex_unlock(&gate_mutex);
}

static void gate_init(void)
{
	/* Epoch's handlers first, so that ours (registered later) run first in prepare. */
	(void)epoch_uses_membarrier();
	pthread_atfork(gate_prepare, gate_parent, gate_child);
}

void fork_gate_enter(void)
{
	if (depth++)
		return;
	pthread_once(&gate_once, gate_init);
	pthread_mutex_lock(&gate_mutex);
	while (writer)
		pthread_cond_wait(&gate_cond, &gate_mutex);
	readers++;
	pthread_mutex_unlock(&gate_mutex);
}

void fork_gate_exit(void)
{
	if (--depth)
		return;
	pthread_mutex_lock(&gate_mutex);
	if (!--readers && writer)
		pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_mutex);
}
