// SPDX-License-Identifier: MIT
/*
 * forkgate.c - the fork gate (util/forkgate.h): a count of threads inside
 * the library, which fork() waits to see at zero while it keeps new ones
 * out.
 *
 * What it owns: the gate and the pthread_atfork handlers of the library's
 * emulated-file state (the allocator's fail-nth registry, the statistics),
 * and the hooks an upper layer registers to run inside them (the
 * cross-process broker, lib/uiommu_remote.c): prepare runs with the gate
 * closed and no other thread inside, before the registry lock is taken;
 * parent and child run after the registry is usable again.
 *
 * Invariants: readers counts the threads with a non-zero depth; while
 * writers (threads closing the gate) is not 0 no thread enters (so a
 * stream of calls cannot starve fork()); between prepare and parent/child the forking thread holds
 * gate_mutex, readers is 0 (or 1, the forking thread itself, when it forks
 * from inside a call) and writers counts it.
 *
 * fork_gate_fork() is fork() that can fail the way fork(2) fails: it
 * closes the gate and runs the prepare hook itself, before libc's fork(),
 * and returns -1 with the hook's errno (ENOMEM, EAGAIN) without forking
 * when the hook cannot do its work; only then does it call the fork
 * function, whose prepare handler finds the work done ("preflight"). A
 * fork the library does not see (daemon(), a program linking its own
 * fork) runs the hook in the handler, where a failure cannot stop the
 * fork: the hook then leaves the child without what it could not make.
 *
 * Threads that wait inside the gate (the virqfd watcher, the fork server:
 * so that no descriptor number changes under them, util/intfd.h) register
 * a kick, called as the gate closes, that makes them leave it.
 * fork_gate_lock() closes the gate for a change no call may see half made
 * (the program's close_range(), a dup2() onto an internal descriptor): the
 * closer stays inside as the only reader (excl keeps the others out), so
 * its own calls into the library pass. fork_gate_handover() is daemon()'s
 * fork: the handlers leave the state to the child as it is (no hooks; the
 * counts go on) and keep the parent's gate closed for good.
 *
 * Locks: gate_mutex guards readers, writers and excl, gate_cond signals both
 * ways. prepare keeps gate_mutex (and then the fail-nth registry lock)
 * across fork(); parent and child release them. The child also
 * re-initialises gate_cond, whose waiters were threads of the parent.
 * (A read-write lock cannot do this: glibc's unlock tells a writer by its
 * thread ID, which the child no longer has.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "util/alloc.h"
#include "util/epoch.h"
#include "util/file.h"
#include "util/forkgate.h"
#include "util/intfd.h"
#include "util/stats.h"

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static unsigned int readers;
/* Threads closing the gate (a fork, fork_gate_lock()): none enters while any is. */
static unsigned int writers;
/* fork_gate_lock(): one thread is inside alone, and the gate stays shut to the others. */
static bool excl;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
/* The handlers are registered: the library has been used (every emulated file is made inside). */
static atomic_bool gate_ready;
static _Thread_local unsigned int depth;
/* fork_gate_fork() closed the gate and ran the prepare hook: the handler has done its work. */
static _Thread_local bool preflight;
static const struct fork_gate_hooks *_Atomic hooks;
/* fork_gate_handover(): the handlers leave the state to the child as it is. */
static _Thread_local bool handover;
#define MAX_KICKS 4
static void (*_Atomic kicks[MAX_KICKS])(void);
static atomic_uint nr_kicks;

void fork_gate_add_kick(void (*kick)(void))
{
	unsigned int i = atomic_fetch_add(&nr_kicks, 1);

	if (i < MAX_KICKS)
		atomic_store(&kicks[i], kick);
}

bool fork_gate_used(void)
{
	return atomic_load(&gate_ready);
}

bool fork_gate_handing_over(void)
{
	return handover;
}

void fork_gate_set_hooks(const struct fork_gate_hooks *h)
{
	atomic_store(&hooks, h);
}

/* Close the gate: wake the threads that wait inside, wait until no other thread is inside. */
static void gate_close(void)
{
	unsigned int n;

	pthread_mutex_lock(&gate_mutex);
	writers++;
	n = atomic_load(&nr_kicks);
	for (unsigned int i = 0; i < n && i < MAX_KICKS; i++) {
		void (*kick)(void) = atomic_load(&kicks[i]);

		if (kick)
			kick();
	}
	while (readers > (depth ? 1u : 0u))
		pthread_cond_wait(&gate_cond, &gate_mutex);
}

/* Close the gate, run the prepare hook: its result. */
static int gate_close_prepare(void)
{
	const struct fork_gate_hooks *h;

	gate_close();
	h = atomic_load(&hooks);
	return h ? h->prepare() : 0;
}

static void gate_open(void)
{
	writers--;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_mutex);
}

static void gate_prepare(void)
{
	/* A failure here cannot stop the fork: the hook has left the child without it. */
	if (!preflight)
		(void)gate_close_prepare();
	ualloc_fork_prepare();
}

static void gate_parent(void)
{
	const struct fork_gate_hooks *h = atomic_load(&hooks);

	preflight = false;
	ualloc_fork_parent();
	/* A handover's parent exits at once: nothing of the library may run in it again. */
	if (handover)
		return;
	if (h)
		h->parent();
	gate_open();
}

/* The child's side after the fail-nth registry (gate_child(), or a fork that ran no handlers). */
static void gate_child_open(void)
{
	const struct fork_gate_hooks *h = atomic_load(&hooks);

	intfd_fork_child();
	if (handover) {
		/* The state is ours now, counts and all. */
		stats_take_over();
	} else {
		stats_fork_child();
		if (h)
			h->child();
	}
	writers = 0;
	excl = false;
	readers = depth ? 1 : 0;
	gate_cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	pthread_mutex_unlock(&gate_mutex);
}

static void gate_child(void)
{
	bool carry_on = handover;

	preflight = false;
	ualloc_fork_child();
	gate_child_open();
	/*
	 * daemon()'s child is the caller carrying on (fork_gate_handover()): its
	 * countdown goes on through the takeover, which is daemon()'s own work.
	 */
	if (carry_on)
		ualloc_fork_child_carry_on();
	else
		ualloc_fork_child_done();
}

static void gate_init(void)
{
	/* Epoch's handlers first, so that ours (registered later) run first in prepare. */
	(void)epoch_uses_membarrier();
	pthread_atfork(gate_prepare, gate_parent, gate_child);
	atomic_store(&gate_ready, true);
}

pid_t fork_gate_fork(pid_t (*fork_fn)(void))
{
	const struct fork_gate_hooks *h;
	pid_t pid;
	int rc;

	/* A process that never entered the library has nothing to share (and no handlers). */
	if (!atomic_load(&gate_ready))
		return fork_fn();
	rc = gate_close_prepare();
	if (rc) {
		/* The hook undid what it made; its parent half lets go of the rest. */
		h = atomic_load(&hooks);
		if (h)
			h->parent();
		gate_open();
		errno = -rc;
		return -1;
	}
	preflight = true;
	pid = fork_fn();
	if (preflight) {
		/* A fork function that ran no handlers: their work, here. */
		int err = errno;

		preflight = false;
		if (!pid) {
			gate_child_open();
		} else {
			h = atomic_load(&hooks);
			if (h)
				h->parent();
			gate_open();
		}
		errno = err;
	}
	return pid;
}

pid_t fork_gate_handover(pid_t (*fork_fn)(void))
{
	pid_t pid;
	int err;

	if (!atomic_load(&gate_ready))
		return fork_fn();
	gate_close();
	/* Look-ups run outside the gate: the table whole in the child. */
	ufile_handover_lock();
	handover = true;
	preflight = true;
	pid = fork_fn();
	err = errno;
	if (pid <= 0)
		ufile_handover_unlock();
	if (preflight) {
		/* A fork function that ran no handlers: the child's side, here. */
		preflight = false;
		if (!pid)
			gate_child_open();
	}
	/* A failed fork opens the gate again; a parent that will exit leaves it closed. */
	if (pid < 0)
		gate_open();
	handover = false;
	errno = err;
	return pid;
}

bool fork_gate_lock(void)
{
	if (!atomic_load(&gate_ready))
		return false;
	gate_close();
	/*
	 * Inside as a reader (its calls into the library pass), alone: excl
	 * keeps the rest out. Another closer waiting meanwhile stays counted in
	 * writers, so no thread slips in between us.
	 */
	writers--;
	excl = true;
	readers++;
	depth++;
	pthread_mutex_unlock(&gate_mutex);
	return true;
}

void fork_gate_unlock(void)
{
	pthread_mutex_lock(&gate_mutex);
	excl = false;
	depth--;
	readers--;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_mutex);
}

void fork_gate_enter(void)
{
	if (depth++)
		return;
	pthread_once(&gate_once, gate_init);
	pthread_mutex_lock(&gate_mutex);
	while (writers || excl)
		pthread_cond_wait(&gate_cond, &gate_mutex);
	readers++;
	pthread_mutex_unlock(&gate_mutex);
}

void fork_gate_exit(void)
{
	if (--depth)
		return;
	pthread_mutex_lock(&gate_mutex);
	if (!--readers && writers)
		pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_mutex);
}
