// SPDX-License-Identifier: MIT
/*
 * alloc.c - the allocation wrapper with per-thread fail-nth injection.
 *
 * What it owns: the allocation counters of every thread and the fail-nth
 * countdowns, which Linux keeps in each task (task_struct::fail_nth).
 *
 * A countdown lives in a struct fail_task. A thread that never arms one
 * and is never armed by another has none and pays one thread-local load
 * and one relaxed global load per allocation. Entries are made
 *   - by the thread itself, on ualloc_fail_nth(n > 0), and
 *   - by another thread, on ualloc_task_fail_nth_set(tid, n > 0) (the
 *     emulated /proc/.../task/<tid>/fail-nth write): the entry waits in the
 *     registry, unowned, until thread @tid's next allocation claims it.
 * An owned entry is freed when its thread exits (a pthread key destructor),
 * so a thread ID the kernel hands out again starts at 0, as a new task does.
 *
 * Invariants: at most one entry per thread ID; unowned_entries counts the
 * entries no thread has claimed yet; a thread's `self` points at its owned
 * entry or is NULL.
 *
 * Locks: reg_lock guards the registry list and the owned flags. Countdowns
 * are atomic: the owner decrements with compare-and-swap while any thread
 * may store a new value (a write to fail-nth). The fork gate
 * (util/forkgate.c) holds reg_lock across fork() and fixes the child up.
 *
 * The registry's own bookkeeping uses calloc/free directly: it is the
 * wrapper itself and must not count, or fail, its own allocations.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/alloc.h"

struct fail_task {
	struct fail_task *next;
	pid_t tid;
	/* daemon()'s child: the thread ID it had in the caller, which its files still name. */
	pid_t was_tid;
	bool owned;
	_Atomic unsigned long countdown;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fail_task *registry;
static atomic_uint unowned_entries;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t task_key;
static bool task_key_ok;

static _Thread_local struct fail_task *self;
static _Thread_local unsigned long alloc_calls;

static void task_exit(void *arg)
{
	struct fail_task *t = arg, **pp;

	pthread_mutex_lock(&reg_lock);
	for (pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	if (self == t)
		self = NULL;
	free(t);
}

static void key_init(void)
{
	task_key_ok = !pthread_key_create(&task_key, task_exit);
}

/* Under reg_lock. */
static struct fail_task *find_locked(pid_t tid)
{
	struct fail_task *t;

	for (t = registry; t; t = t->next)
		if (t->tid == tid || (t->was_tid && t->was_tid == tid))
			return t;
	return NULL;
}

/*
 * This thread's entry: claim one another thread made for it, or (@create)
 * make one. NULL when there is none (or no memory).
 */
static struct fail_task *attach(bool create)
{
	pid_t tid = gettid();
	struct fail_task *t;

	pthread_once(&key_once, key_init);
	pthread_mutex_lock(&reg_lock);
	t = find_locked(tid);
	if (t && !t->owned) {
		t->owned = true;
		atomic_fetch_sub_explicit(&unowned_entries, 1, memory_order_relaxed);
	} else if (!t && create) {
		t = calloc(1, sizeof(*t));
		if (t) {
			t->tid = tid;
			t->owned = true;
			t->next = registry;
			registry = t;
		}
	} else if (t) {
		/* Owned by a thread that exited without its destructor: take it over. */
		atomic_store_explicit(&t->countdown, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&reg_lock);
	if (t) {
		self = t;
		if (task_key_ok)
			pthread_setspecific(task_key, t);
	}
	return t;
}

static inline int should_fail(void)
{
	struct fail_task *t = self;
	unsigned long v;

	alloc_calls++;
	if (!t) {
		if (!atomic_load_explicit(&unowned_entries, memory_order_relaxed))
			return 0;
		t = attach(false);
		if (!t)
			return 0;
	}
	v = atomic_load_explicit(&t->countdown, memory_order_relaxed);
	while (v) {
		if (atomic_compare_exchange_weak_explicit(
			    &t->countdown, &v, v - 1, memory_order_relaxed, memory_order_relaxed))
			return v == 1;
	}
	return 0;
}

void *ualloc(size_t size)
{
	if (should_fail())
		return NULL;
	return malloc(size ? size : 1);
}

void *uzalloc(size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(1, size ? size : 1);
}

void *ucalloc(size_t n, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *ualloc_aligned(size_t align, size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	if (align < sizeof(void *))
		align = sizeof(void *);
	if (posix_memalign(&p, align, size ? size : 1))
		return NULL;
	memset(p, 0, size);
	return p;
}

#define HUGE_SIZE (2UL << 20)

void *ualloc_huge(size_t align, size_t size)
{
	void *p;

	if (size < HUGE_SIZE || align > HUGE_SIZE)
		return ualloc_aligned(align, size);
	if (should_fail())
		return NULL;
	if (posix_memalign(&p, HUGE_SIZE, size))
		return NULL;
	/* Whole huge pages inside the block only; a refusal just leaves 4 KiB pages. */
	(void)madvise(p, size & ~(HUGE_SIZE - 1), MADV_HUGEPAGE);
	memset(p, 0, size);
	return p;
}

int ualloc_should_fail(void)
{
	return should_fail();
}

void ufree(void *p)
{
	free(p);
}

void ualloc_fail_nth(unsigned long n)
{
	struct fail_task *t = self;

	if (!t) {
		if (!n && !atomic_load_explicit(&unowned_entries, memory_order_relaxed))
			return;
		t = attach(n != 0);
		if (!t)
			return;
	}
	atomic_store_explicit(&t->countdown, n, memory_order_relaxed);
}

unsigned long ualloc_fail_nth_pending(void)
{
	struct fail_task *t = self;

	if (!t && atomic_load_explicit(&unowned_entries, memory_order_relaxed))
		t = attach(false);
	return t ? atomic_load_explicit(&t->countdown, memory_order_relaxed) : 0;
}

unsigned long ualloc_count(void)
{
	return alloc_calls;
}

int ualloc_task_fail_nth_set(pid_t tid, unsigned long n)
{
	struct fail_task *t;
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	t = find_locked(tid);
	if (!t && n) {
		t = calloc(1, sizeof(*t));
		if (t) {
			t->tid = tid;
			t->next = registry;
			registry = t;
			atomic_fetch_add_explicit(&unowned_entries, 1, memory_order_relaxed);
		} else {
			rc = -ENOMEM;
		}
	}
	if (t)
		atomic_store_explicit(&t->countdown, n, memory_order_relaxed);
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

unsigned long ualloc_task_fail_nth_get(pid_t tid)
{
	struct fail_task *t;
	unsigned long n = 0;

	pthread_mutex_lock(&reg_lock);
	t = find_locked(tid);
	if (t)
		n = atomic_load_explicit(&t->countdown, memory_order_relaxed);
	pthread_mutex_unlock(&reg_lock);
	return n;
}

void ualloc_fork_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
}

void ualloc_fork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
}

void ualloc_fork_child(void)
{
	struct fail_task *t, *next;

	/* Every other thread is gone; their entries (and unclaimed ones) with them. */
	for (t = registry; t; t = next) {
		next = t->next;
		if (t != self)
			free(t);
	}
	registry = NULL;
	atomic_store_explicit(&unowned_entries, 0, memory_order_relaxed);
	if (self) {
		/* The countdown stays for the fork's own work here (ualloc_fork_child_done()). */
		self->next = NULL;
		self->was_tid = self->tid;
		self->tid = gettid();
		registry = self;
	}
	pthread_mutex_unlock(&reg_lock);
}

void ualloc_fork_child_carry_on(void)
{
	/* Nothing to do: the countdown goes on, and the old thread ID still names it. */
}

void ualloc_fork_child_done(void)
{
	if (self) {
		atomic_store_explicit(&self->countdown, 0, memory_order_relaxed);
		/* A new task: the caller's thread ID is not its name. */
		self->was_tid = 0;
	}
}
