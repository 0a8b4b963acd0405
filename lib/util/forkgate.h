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

#endif
