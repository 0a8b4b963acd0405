/* SPDX-License-Identifier: MIT */
/*
 * The one allocation wrapper. Every allocation in libuiommu goes through it
 * so a test can make the N-th call fail (the kernel's fail-nth idea) and
 * prove that each error path unwinds cleanly and leaks nothing.
 */
#ifndef UIOMMU_UTIL_ALLOC_H
#define UIOMMU_UTIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

void *ualloc(size_t size);
void *uzalloc(size_t size);
void *ucalloc(size_t n, size_t size);
/* Zeroed memory aligned to @align (a power of two). Free with ufree(). */
void *ualloc_aligned(size_t align, size_t size);
/*
 * The same, for a large array that is read at random (a cache's sets): at
 * least 2 MiB, it is 2 MiB aligned and asks for transparent huge pages
 * (madvise MADV_HUGEPAGE) before it is zeroed, so that it costs a handful
 * of TLB entries instead of one per 4 KiB. Below 2 MiB, ualloc_aligned().
 * Free with ufree().
 */
void *ualloc_huge(size_t align, size_t size);
void ufree(void *p);

/*
 * Fault injection, per thread: after ualloc_fail_nth(n) with n > 0 the n-th
 * allocation from now on this thread fails (returns NULL) once. n = 0
 * disarms. ualloc_fail_nth_pending() returns how many calls remain before the
 * failure, or 0 when it has fired or nothing is armed.
 */
void ualloc_fail_nth(unsigned long n);
unsigned long ualloc_fail_nth_pending(void);
/*
 * For caches that hand out memory without calling the wrappers above (the
 * host page-table cache) and for the kernel's other injection points (object
 * lookup): count one allocation and return true when fail-nth injection says
 * it must fail, so injection reaches them too.
 */
int ualloc_should_fail(void);
/* Allocations made by this thread so far (for sweeps that count calls). */
unsigned long ualloc_count(void);

/*
 * The same counter, addressed by thread ID, for the emulated
 * /proc/<pid>/task/<tid>/fail-nth (util/failnth.c): any thread may arm or
 * read another thread's counter, as any task may write another task's
 * fail-nth file in Linux. The calls are for thread IDs of this process
 * (gettid() values); a thread that has not allocated yet is armed all the
 * same and sees the counter on its first allocation.
 *
 * ualloc_task_fail_nth_set(): 0, or -ENOMEM when no entry could be made.
 * ualloc_task_fail_nth_get(): the remaining count (0: fired or not armed).
 */
int ualloc_task_fail_nth_set(pid_t tid, unsigned long n);
unsigned long ualloc_task_fail_nth_get(pid_t tid);
/*
 * fork(): the registry lock is held across it (prepare / parent); in the
 * child only the forking thread survives, with a new thread ID. Its
 * countdown, where the parent's stood at the fork, goes on counting the
 * fork's own work in the child (the fork gate's child hooks: in Linux all
 * of a fork's allocations are copy_process()'s, in the parent, and fail-nth
 * reaches them), and ualloc_fork_child_done() then sets it to 0, as
 * copy_process() clears the new task's fail_nth. In daemon()'s fork
 * (util/forkgate.h fork_gate_handover()) the child is the caller carrying
 * on, and its countdown is not cleared: it goes on through the takeover
 * (daemon()'s own work) and after, as the thread's own, and the caller's
 * fail-nth file names it still (ualloc_fork_child_carry_on()). Called by the
 * handlers of util/forkgate.c.
 */
void ualloc_fork_prepare(void);
void ualloc_fork_parent(void);
void ualloc_fork_child(void);
void ualloc_fork_child_done(void);
/*
 * Instead of ualloc_fork_child_done() in daemon()'s child: the countdown
 * goes on, and a fail-nth file that named the caller's thread still names
 * this one (the caller exits at once).
 */
void ualloc_fork_child_carry_on(void);

#endif
