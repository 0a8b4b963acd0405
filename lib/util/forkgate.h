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

void fork_gate_enter(void);
void fork_gate_exit(void);

#endif
