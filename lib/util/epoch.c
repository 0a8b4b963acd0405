// SPDX-License-Identifier: MIT
/*
 * epoch.c - epoch-based reclamation (the contract is util/epoch.h).
 *
 * The state. A global epoch E (it starts at 1 and only grows). One record
 * per thread that has entered a section, in thread-local storage, linked
 * on a registry under reg_lock: active is 0 outside a section and the
 * value of E read on entry inside one; the nesting depth is the owner's
 * alone. Retired callbacks wait on one queue (q_lock), each stamped with E
 * as it was when it was retired.
 *
 * Reader (epoch_enter, outermost level):
 *	v = load-acquire(E); store-release(active, v); compiler barrier;
 *	... read shared data (table descriptors) ...
 *	store-release(active, 0)			(epoch_exit)
 * No read-modify-write, no fence: on x86 three plain moves. epoch.h has
 * that path inline (struct epoch_reader: active, and the depth with
 * EPOCH_FAST set while the thread is registered and writers use
 * membarrier); a first, nested or fenced section calls epoch_enter_slow().
 *
 * Writer (epoch_poll), for the callbacks it took from the queue:
 *	[each was retired after its memory was unlinked]
 *	t = E += 1 (atomic); membarrier(PRIVATE_EXPEDITED); scan the records:
 *	min = the smallest active value seen (or "none").
 * A callback is safe to run when min >= t, or when its stamp s has
 * s + 2 <= min. One that must wait goes back to the queue with t in
 * place of s + 2 (when smaller): that bump followed its retirement, so
 * the next poll lets it go once every open section is at t or later. The
 * queue is taken and the advance made under gp_lock, so one advance (bump
 * and membarrier) completes before the next begins. (node->epoch holds
 * that threshold: s + 2, then t.)
 *
 * Why that is enough. membarrier(2) makes every other running thread of
 * the process execute a full barrier before it returns (a thread that is
 * not running passes one when it is scheduled again). Take a reader whose
 * section could have reached unlinked memory X, i.e. one whose reads did
 * not see the unlink U.
 *  - Its announcement came after the barrier the advance forced on it:
 *    then its reads, which follow the announcement, see U (U precedes the
 *    membarrier in the writer). Contradiction: this reader never saw X.
 *  - Its announcement came before that barrier: then the scan, which runs
 *    after the membarrier returned, sees it (or a later value of active:
 *    0 from its exit, whose release orders all its reads before our
 *    acquire load, or the value of a later section, also a release store).
 *    Its value v was read from E before the announcement. If v >= t, it
 *    read our bump or a later one, an atomic read-modify-write that heads
 *    a release sequence; the retirement (and so U) happened before our
 *    bump, so the acquire load of E makes U visible to the reader's later
 *    reads: again it never saw X. If s + 2 <= v, it read a bump made after
 *    the one that took E from s to s + 1 had completed its membarrier;
 *    the writer that stamped s read E before that bump, so that
 *    membarrier's barrier in the writer came after the stamp, after U, and
 *    U was visible everywhere before the bump the reader read. Again it
 *    never saw X. What is left is v < t and v < s + 2, and then the
 *    callback waits.
 * Every reader that could still be inside X is therefore visible to the
 * scan with a value that holds the callback back, and the callback runs
 * only after each of them has stored 0 (or moved on to a later section),
 * which also orders their reads of X before whatever the callback does to
 * it. A pure compiler barrier on the reader side is what membarrier buys;
 * where the kernel lacks it (or UIOMMU_EPOCH=fence), the reader adds a
 * sequentially consistent fence after its announcement, the writer one
 * after its bump and one before it reads E for a stamp, and the same
 * argument goes through with those fences in place of the forced barriers.
 *
 * The first rule frees everything taken from the queue when every reader
 * is idle or entered after the bump, the common case. The second matters
 * when readers keep entering: a callback another thread queued is freed
 * by the first advance that every open section postdates by two epochs,
 * and one put back by a poll by the first scan that finds every section at
 * that poll's bump or later (the v >= t case above, with the earlier t).
 *
 * Nobody else. The registry counts its records (nr_registered). A thread
 * registers (once, at its first section) by adding itself to the registry
 * and then issuing a membarrier: a writer that loads the count and finds
 * only itself (or no one) either loaded it after that registration's
 * membarrier forced a barrier on it, which is impossible (it would have
 * seen the new count), or had its unlink made visible by that barrier
 * before the newcomer's first read. So epoch_alone() is a load and a
 * compiler barrier, and a single-threaded program reuses memory at once.
 * An exiting thread's records leave the registry under reg_lock after its
 * last section ended.
 *
 * Threads without an exit hook. A record lives in thread-local storage, so
 * it must leave the registry before the thread's storage goes away: a
 * pthread key's destructor does that. If the key cannot be set for a
 * thread (pthread_setspecific failing), that thread counts its sections
 * in anon_active with an atomic read-modify-write and a fence, and any
 * such open section holds every callback back; slower, but correct, and
 * it never happens with glibc for keys created early.
 *
 * Holds. epoch_hold() collects what this thread retires on a list of its
 * own; epoch_release() stamps the list with E as of then and queues it, as
 * if everything on it had been retired at that moment. That is for
 * memory reachable through something else than the structure it was
 * unlinked from until a later step removes that path (walk caches).
 */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/bits.h"
#include "util/epoch.h"
#include "util/log.h"

#if defined(__has_include)
#if __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#endif
#endif
#ifndef MEMBARRIER_CMD_QUERY
#define MEMBARRIER_CMD_QUERY			  0
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED	  (1 << 3)
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)
#endif

/* Queued callbacks that make a retiring thread poll (when no poll is under way). */
#define EPOCH_POLL_BATCH 64

/*
 * A thread's record. Its section state (active, and the nesting depth) is
 * the struct epoch_reader of epoch.h, a thread-local of its own that the
 * inline reader side reaches with one address: rd points to it once the
 * thread is on the registry, for the writers' scan.
 */
struct epoch_rec {
	struct epoch_reader *rd; /* the thread's epoch_reader (registered records) */
	unsigned int hold;    /* epoch_hold() nesting (owner only) */
	bool registered;      /* on the registry, with an exit hook */
	bool anon;	      /* no exit hook: sections counted in anon_active */
	unsigned int nheld;
	struct epoch_node *held, **held_tail; /* retired under a hold */
	struct epoch_rec *next, **pprev;      /* the registry (reg_lock) */
};

static __thread struct epoch_rec epoch_self __attribute__((tls_model("initial-exec")));
__thread struct epoch_reader epoch_reader __attribute__((tls_model("initial-exec")));

unsigned long epoch_now = 1; /* E */

/* The calling thread's section nesting depth. */
static inline unsigned int epoch_depth(void)
{
	return epoch_reader.state & ~EPOCH_FAST;
}

/* Set once by epoch_init(); every thread reads it after its own epoch_setup(). */
static bool epoch_fenced, epoch_nohook, epoch_key_ok;
static pthread_key_t epoch_key;
static pthread_once_t epoch_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct epoch_rec *registry;
static unsigned long nr_registered; /* records on the registry */
static unsigned long nr_anon;	    /* threads that ever ran sections without a hook */
static unsigned long anon_active;   /* their open sections */

/* Taking the queue, advancing E and putting back what must wait: one thread at a time. */
static pthread_mutex_t gp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct epoch_node *q_head, **q_tail = &q_head;
static unsigned int q_len;
/* A retiring thread polls once the queue is this long (set after each poll). */
static unsigned int q_poll_at = EPOCH_POLL_BATCH;

static void epoch_thread_exit(void *arg);
static void epoch_fork_prepare(void);
static void epoch_fork_parent(void);
static void epoch_fork_child(void);

static void epoch_init(void)
{
	const char *env = getenv("UIOMMU_EPOCH");
	long q;

	epoch_key_ok = !pthread_key_create(&epoch_key, epoch_thread_exit);
	pthread_atfork(epoch_fork_prepare, epoch_fork_parent, epoch_fork_child);
	epoch_nohook = env && strstr(env, "nohook");
	if (env && strstr(env, "fence")) {
		epoch_fenced = true;
		return;
	}
	q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	epoch_fenced = q < 0 || !(q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
		       syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
	if (epoch_fenced)
		ulog_debug("epoch: no membarrier(2), readers fence");
}

static bool epoch_ready; /* epoch_init() has run (release, after it) */

static void epoch_init_once(void)
{
	pthread_once(&epoch_once, epoch_init);
	__atomic_store_n(&epoch_ready, true, __ATOMIC_RELEASE);
}

static inline void epoch_setup(void)
{
	if (unlikely(!__atomic_load_n(&epoch_ready, __ATOMIC_ACQUIRE)))
		epoch_init_once();
}

/* A full barrier on every thread of the process (membarrier), or on this one. */
static void epoch_sys_barrier(void)
{
	if (epoch_fenced) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return;
	}
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)) {
		/* Registered at start-up; the kernel documents no failure after that. */
		ulog_err("epoch: membarrier failed after registration");
		abort();
	}
}

/* E for a stamp, read after the caller's unlink. */
static inline unsigned long epoch_stamp(void)
{
	if (epoch_fenced) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return __atomic_load_n(&epoch_now, __ATOMIC_SEQ_CST);
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&epoch_now, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* Readers                                                                */

static bool epoch_register(struct epoch_rec *r)
{
	if (!epoch_key_ok || epoch_nohook || pthread_setspecific(epoch_key, r))
		return false;
	/* Before the record is on the registry: the writers' scan reads it there. */
	r->rd = &epoch_reader;
	pthread_mutex_lock(&reg_lock);
	r->next = registry;
	if (registry)
		registry->pprev = &r->next;
	r->pprev = &registry;
	registry = r;
	__atomic_add_fetch(&nr_registered, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&reg_lock);
	r->registered = true;
	/* Writers that found nobody else have their unlinks visible from here on. */
	epoch_sys_barrier();
	/* With membarrier a section is two stores from now on: epoch.h's inline path. */
	if (!epoch_fenced)
		epoch_reader.state |= EPOCH_FAST;
	return true;
}

static inline void epoch_announce(void)
{
	__atomic_store_n(&epoch_reader.active, __atomic_load_n(&epoch_now, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	if (unlikely(epoch_fenced))
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static __attribute__((noinline)) void epoch_enter_first(struct epoch_rec *r)
{
	epoch_setup();
	if (!r->anon && epoch_register(r)) {
		epoch_announce();
		return;
	}
	if (!r->anon) {
		r->anon = true;
		__atomic_add_fetch(&nr_anon, 1, __ATOMIC_SEQ_CST);
		epoch_sys_barrier();
	}
	__atomic_add_fetch(&anon_active, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* epoch_enter() but for an outermost section of a registered thread under membarrier. */
void epoch_enter_slow(void)
{
	struct epoch_rec *r = &epoch_self;

	if (epoch_reader.state++ & ~EPOCH_FAST)
		return;
	if (unlikely(!r->registered)) {
		epoch_enter_first(r);
		return;
	}
	epoch_announce();
}

/* epoch_exit() but for the end of such a section. */
void epoch_exit_slow(void)
{
	struct epoch_rec *r = &epoch_self;

	if (--epoch_reader.state & ~EPOCH_FAST)
		return;
	if (unlikely(r->anon)) {
		__atomic_sub_fetch(&anon_active, 1, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&epoch_reader.active, 0, __ATOMIC_RELEASE);
}

bool epoch_in_section(void)
{
	return epoch_depth();
}

bool epoch_uses_membarrier(void)
{
	epoch_setup();
	return !epoch_fenced;
}

/* ---------------------------------------------------------------------- */
/* Grace periods                                                          */

/* No other thread can be reading (see "Nobody else"); the caller is outside a section. */
static inline __attribute__((always_inline)) bool epoch_nobody_else(const struct epoch_rec *r)
{
	if (epoch_depth())
		return false;
	if (epoch_fenced)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&nr_registered, __ATOMIC_ACQUIRE) == (r->registered ? 1u : 0u) &&
	       !__atomic_load_n(&nr_anon, __ATOMIC_ACQUIRE);
}

bool epoch_alone(void)
{
	const struct epoch_rec *r = &epoch_self;

	if (r->hold || epoch_depth())
		return false;
	epoch_setup();
	return epoch_nobody_else(r);
}

/* The smallest epoch of an open section (ULONG_MAX: none; 0: an uncounted one). */
static unsigned long epoch_scan(void)
{
	unsigned long min = ULONG_MAX;

	if (__atomic_load_n(&anon_active, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&reg_lock);
	for (const struct epoch_rec *r = registry; r; r = r->next) {
		unsigned long a = __atomic_load_n(&r->rd->active, __ATOMIC_ACQUIRE);

		if (a && a < min)
			min = a;
	}
	pthread_mutex_unlock(&reg_lock);
	return min;
}

/* Under gp_lock: E += 1 and the barrier; returns the new E. */
static unsigned long epoch_advance(void)
{
	unsigned long t = __atomic_add_fetch(&epoch_now, 1, __ATOMIC_SEQ_CST);

	epoch_sys_barrier();
	return t;
}

/* Is a section that began before E became @t still open? */
static bool epoch_older_than(unsigned long t)
{
	bool found = false;

	if (__atomic_load_n(&anon_active, __ATOMIC_ACQUIRE))
		return true;
	pthread_mutex_lock(&reg_lock);
	for (const struct epoch_rec *r = registry; r && !found; r = r->next) {
		unsigned long a = __atomic_load_n(&r->rd->active, __ATOMIC_ACQUIRE);

		found = a && a < t;
	}
	pthread_mutex_unlock(&reg_lock);
	return found;
}

/* ---------------------------------------------------------------------- */
/* The queue                                                              */

static void epoch_enqueue(struct epoch_node *first, struct epoch_node **last_next, unsigned int n)
{
	*last_next = NULL;
	pthread_mutex_lock(&q_lock);
	*q_tail = first;
	q_tail = last_next;
	__atomic_store_n(&q_len, q_len + n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&q_lock);
}

static struct epoch_node *epoch_take(void)
{
	struct epoch_node *list;

	pthread_mutex_lock(&q_lock);
	list = q_head;
	q_head = NULL;
	q_tail = &q_head;
	__atomic_store_n(&q_len, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&q_lock);
	return list;
}

/* Put back what must wait, ahead of what was queued since (it is older). */
static void epoch_requeue(struct epoch_node *first, struct epoch_node **last_next, unsigned int n)
{
	pthread_mutex_lock(&q_lock);
	*last_next = q_head;
	if (!q_head)
		q_tail = last_next;
	q_head = first;
	__atomic_store_n(&q_len, q_len + n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&q_lock);
}

static unsigned int epoch_run(struct epoch_node *n)
{
	unsigned int k = 0;

	while (n) {
		struct epoch_node *next = n->next; /* @fn may reuse the node */

		n->fn(n->arg);
		n = next;
		k++;
	}
	return k;
}

/* Under gp_lock (released here): take the queue, advance, keep what must wait. */
static unsigned int epoch_poll_locked(const struct epoch_rec *r)
{
	struct epoch_node *list = epoch_take(), *run = NULL, **rt = &run, *keep = NULL,
			  **kt = &keep;
	unsigned long t, min;
	unsigned int nkeep = 0;

	if (!list || epoch_nobody_else(r)) {
		__atomic_store_n(&q_poll_at, EPOCH_POLL_BATCH, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&gp_lock);
		return epoch_run(list);
	}
	t = epoch_advance();
	min = epoch_scan();
	for (struct epoch_node *n = list, *next; n; n = next) {
		next = n->next;
		if (min >= t || min >= n->epoch) {
			*rt = n;
			rt = &n->next;
		} else {
			/* This bump followed its retirement: a section at t or later is safe. */
			n->epoch = MIN(n->epoch, t);
			*kt = n;
			kt = &n->next;
			nkeep++;
		}
	}
	*rt = NULL;
	if (keep)
		epoch_requeue(keep, kt, nkeep);
	/* What had to wait is not worth another membarrier until a batch more arrived. */
	__atomic_store_n(&q_poll_at, nkeep + EPOCH_POLL_BATCH, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&gp_lock);
	return epoch_run(run);
}

unsigned int epoch_poll(void)
{
	const struct epoch_rec *r = &epoch_self;

	if (epoch_depth() || !__atomic_load_n(&q_len, __ATOMIC_RELAXED))
		return 0;
	epoch_setup();
	pthread_mutex_lock(&gp_lock);
	return epoch_poll_locked(r);
}

/* A retiring writer's poll: not when another thread is polling already. */
static void epoch_poll_try(const struct epoch_rec *r)
{
	if (epoch_depth() || __atomic_load_n(&q_len, __ATOMIC_RELAXED) <
				__atomic_load_n(&q_poll_at, __ATOMIC_RELAXED))
		return;
	if (!pthread_mutex_trylock(&gp_lock))
		epoch_poll_locked(r);
}

void epoch_barrier(void)
{
	const struct epoch_rec *r = &epoch_self;
	struct epoch_node *list;

	if (epoch_depth()) {
		ulog_err("epoch_barrier() inside a read-side section would wait for itself");
		abort();
	}
	epoch_setup();
	pthread_mutex_lock(&gp_lock);
	list = epoch_take();
	if (!epoch_nobody_else(r)) {
		unsigned long t = epoch_advance();

		/* Without membarrier again: a section not seen now started after the one above. */
		while (epoch_older_than(t))
			sched_yield();
	}
	pthread_mutex_unlock(&gp_lock);
	epoch_run(list);
}

unsigned int epoch_pending(void)
{
	return __atomic_load_n(&q_len, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* Retiring                                                               */

static __attribute__((noinline)) void epoch_queue_node(struct epoch_rec *r, struct epoch_node *node,
						       epoch_fn fn, void *arg)
{
	node->fn = fn;
	node->arg = arg;
	node->next = NULL;
	if (r->hold) {
		if (!r->held)
			r->held_tail = &r->held;
		*r->held_tail = node;
		r->held_tail = &node->next;
		r->nheld++;
		return;
	}
	node->epoch = epoch_stamp() + 2;
	epoch_enqueue(node, &node->next, 1);
	epoch_poll_try(r);
}

void epoch_retire_node(struct epoch_node *node, epoch_fn fn, void *arg)
{
	struct epoch_rec *r = &epoch_self;

	epoch_setup();
	if (likely(!r->hold) && epoch_nobody_else(r)) {
		fn(arg);
		if (unlikely(__atomic_load_n(&q_len, __ATOMIC_RELAXED)))
			epoch_poll();
		return;
	}
	epoch_queue_node(r, node, fn, arg);
}

/* epoch_retire()'s node, with the caller's function behind it. */
struct epoch_heap {
	struct epoch_node node;
	epoch_fn fn;
	void *arg;
};

static void epoch_heap_run(void *arg)
{
	struct epoch_heap *h = arg;
	epoch_fn fn = h->fn;
	void *a = h->arg;

	ufree(h);
	fn(a);
}

void epoch_retire(epoch_fn fn, void *arg)
{
	const struct epoch_rec *r = &epoch_self;
	struct epoch_heap *h;

	if (!r->hold && !epoch_depth()) {
		epoch_setup();
		if (epoch_nobody_else(r)) {
			fn(arg);
			return;
		}
	}
	h = ualloc(sizeof(*h));
	if (likely(h)) {
		h->fn = fn;
		h->arg = arg;
		epoch_retire_node(&h->node, epoch_heap_run, h);
		return;
	}
	if (epoch_depth() || r->hold) {
		ulog_err("epoch: no memory to retire %p inside a %s: it is never freed", arg,
			 epoch_depth() ? "read-side section" : "hold");
		return;
	}
	epoch_barrier();
	fn(arg);
}

void epoch_hold(void)
{
	struct epoch_rec *r = &epoch_self;

	/* Registered, so that a thread exiting inside a hold still queues what it holds. */
	if (!r->hold++ && !r->registered && !r->anon) {
		epoch_setup();
		epoch_register(r);
	}
}

void epoch_release(void)
{
	struct epoch_rec *r = &epoch_self;
	struct epoch_node *list, **tail;
	unsigned int n;
	unsigned long s;

	if (!r->hold || --r->hold || !r->held)
		return;
	list = r->held;
	tail = r->held_tail;
	n = r->nheld;
	r->held = NULL;
	r->held_tail = &r->held;
	r->nheld = 0;
	epoch_setup();
	if (epoch_nobody_else(r)) {
		epoch_run(list);
		return;
	}
	s = epoch_stamp() + 2;
	for (struct epoch_node *p = list; p; p = p->next)
		p->epoch = s;
	epoch_enqueue(list, tail, n);
	epoch_poll_try(r);
}

/* Thread exit (the key's destructor): leave the registry, queue what is held. */
static void epoch_thread_exit(void *arg)
{
	struct epoch_rec *r = arg;

	if (epoch_depth()) {
		ulog_warn("epoch: a thread exited inside a read-side section");
		epoch_reader.state &= EPOCH_FAST;
		__atomic_store_n(&epoch_reader.active, 0, __ATOMIC_RELEASE);
	}
	if (r->hold) {
		r->hold = 1;
		epoch_release();
	}
	pthread_mutex_lock(&reg_lock);
	*r->pprev = r->next;
	if (r->next)
		r->next->pprev = r->pprev;
	__atomic_sub_fetch(&nr_registered, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&reg_lock);
	r->registered = false;
	epoch_reader.state &= ~EPOCH_FAST;
}

/*
 * fork(): the child has one thread, the one that forked. The records of the
 * others stay on the registry as memory, but those threads are gone, some
 * maybe in the middle of a section that will never end: the child's
 * registry is its one thread. Its address space is new to membarrier(2),
 * so it registers again, and falls back to fences if it cannot (safe: no
 * other thread exists yet, and the ones it creates start after this).
 */
static void epoch_fork_prepare(void)
{
	pthread_mutex_lock(&gp_lock);
	pthread_mutex_lock(&q_lock);
	pthread_mutex_lock(&reg_lock);
}

static void epoch_fork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&q_lock);
	pthread_mutex_unlock(&gp_lock);
}

static void epoch_fork_child(void)
{
	struct epoch_rec *r = &epoch_self;

	registry = NULL;
	if (r->registered) {
		r->next = NULL;
		r->pprev = &registry;
		registry = r;
	}
	nr_registered = r->registered;
	nr_anon = r->anon;
	anon_active = r->anon && epoch_depth();
	if (!epoch_fenced &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0)) {
		epoch_fenced = true;
		epoch_reader.state &= ~EPOCH_FAST; /* its sections fence from now on */
	}
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&q_lock);
	pthread_mutex_unlock(&gp_lock);
}
