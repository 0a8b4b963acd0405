/* SPDX-License-Identifier: MIT */
/*
 * The fork gate: what keeps the library's state consistent in the child of
 * a fork() that another thread makes while calls are in flight.
 *
 * Every public entry point that touches emulated-file state (lib/
 * uiommu_file.c and friends) runs between fork_gate_enter() and
 * fork_gate_exit(). fork() (a pthread_atfork prepare handler) closes the
 * gate and waits until no thread is inside, so the child starts with every
 * library lock free and every object between operations. Nested entries on
 * one thread pass without taking the gate again (a thread-local depth), so
 * a call may call another; a closed gate keeps new calls out, so a stream
 * of calls cannot starve fork().
 *
 * The child handler also gives the pieces with per-thread or per-process
 * state their fresh start: the fail-nth registry (util/alloc.c; only the
 * forking thread survives, with a new thread ID and a counter of 0) and
 * the statistics (util/stats.c; the child reports its own work).
 *
 * The handlers are registered on the first entry, after util/epoch's, so
 * that ours run first in prepare: no thread may be inside the library
 * (perhaps waiting for an epoch lock) while epoch's prepare holds its locks.
 */
#ifndef UIOMMU_UTIL_FORKGATE_H
#define UIOMMU_UTIL_FORKGATE_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Work of an upper layer done inside the handlers, with the gate closed:
 * prepare before the fail-nth registry lock is taken (it may allocate),
 * parent and child after it is released. They must not enter the gate.
 * One set; later calls replace it.
 *
 * prepare returns 0, or -errno (-ENOMEM, -EAGAIN) when it could not make
 * what the child needs; it has then undone what it made, and keeps only
 * what parent and child let go of (locks). fork_gate_fork() then calls
 * parent and does not fork; in the handler of a fork the library does not
 * see, parent and child follow as always, and the child must be left
 * consistent without what prepare could not make. The child hook cannot
 * fail: everything it needs was made by prepare.
 */
struct fork_gate_hooks {
	int (*prepare)(void);
	void (*parent)(void);
	void (*child)(void);
};

void fork_gate_set_hooks(const struct fork_gate_hooks *hooks);

/*
 * fork(2) through @fork_fn (libc's fork(), which runs the pthread_atfork
 * handlers): the prepare hook runs first, with the gate closed, and when
 * it fails nothing is forked and -1 is returned with its errno (ENOMEM or
 * EAGAIN, what fork(2) says when the kernel cannot make the child). Else
 * @fork_fn's result and errno. Call outside the gate.
 */
pid_t fork_gate_fork(pid_t (*fork_fn)(void));

void fork_gate_enter(void);
void fork_gate_exit(void);

/*
 * The gate closed for a change to the process that no library call may see
 * half made (the program's close_range(), a dup2() onto an internal
 * descriptor, util/intfd.h): returns with no other thread inside and none
 * able to enter until fork_gate_unlock(). Nothing when the library was
 * never entered (false: there is nothing to unlock). Call outside the gate.
 */
bool fork_gate_lock(void);
void fork_gate_unlock(void);

/*
 * A thread that waits inside the gate (the virqfd watcher in epoll_wait(),
 * the fork server in poll()) registers a kick: called when the gate is
 * being closed (a fork, fork_gate_lock()), with no lock of the caller's
 * held, it must make the waiter leave the gate soon (write its wake-up
 * eventfd). At most four.
 */
void fork_gate_add_kick(void (*kick)(void));

/*
 * fork() for daemon(3): the child takes the library's state over as its
 * own (no channel, no remote files: the parent never uses the state
 * again). The prepare hook and the parent and child hooks do not run; the
 * fail-nth registry and the statistics carry on in the child (their owner
 * is the child). In the parent (a positive return), the gate stays closed
 * for good: the caller must _exit() at once, without the library's exit
 * work. The child's threads (watcher, server) are not there: the caller
 * restarts them. fork_gate_handing_over() tells a pthread_atfork handler of
 * the library that this is such a fork.
 */
pid_t fork_gate_handover(pid_t (*fork_fn)(void));
bool fork_gate_handing_over(void);

/* The library was entered (the handlers are registered): it may have state to share. */
bool fork_gate_used(void);

#endif
