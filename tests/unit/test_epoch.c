// SPDX-License-Identifier: MIT
/*
 * util/epoch.h: what a grace period waits for and what it does not.
 *
 * Deterministic tests drive a reader thread step by step (a section open
 * across the writer's calls, then closed) and check when a callback may
 * run: never while a section that began before the retirement is open,
 * soon after it closes, and not held back by sections that began later.
 * Then nesting, holds, thread exit, fork, epoch_barrier(), epoch_retire()
 * under fail-nth (its barrier fallback), and a stress test where readers
 * follow a pointer that writers keep replacing and freeing for real (ASan
 * reports a read after the free; TSan a free not ordered after the reads).
 *
 * The program runs three times (tests/unit/meson.build): with membarrier
 * (when the kernel has it), with UIOMMU_EPOCH=fence (readers fence), and
 * with UIOMMU_EPOCH=nohook (every thread counts its sections globally, as
 * one whose exit hook could not be set). Where the modes differ (only in
 * whether a lone thread reuses memory at once) the test says so.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/epoch.h"

#if defined(__SANITIZE_THREAD__)
#define TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif
#ifndef TSAN
#define TSAN 0
#endif

static bool nohook(void)
{
	const char *e = getenv("UIOMMU_EPOCH");

	return e && strstr(e, "nohook");
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* A callback that counts, and notes what the reader was doing when it ran. */
struct cb {
	int ran;
	int reader_state_seen;
	const int *reader_state;
};

static void cb_fn(void *arg)
{
	struct cb *c = arg;

	assert_false(epoch_in_section());
	if (c->reader_state)
		c->reader_state_seen = __atomic_load_n(c->reader_state, __ATOMIC_ACQUIRE);
	__atomic_add_fetch(&c->ran, 1, __ATOMIC_RELEASE);
}

static int ran(struct cb *c)
{
	return __atomic_load_n(&c->ran, __ATOMIC_ACQUIRE);
}

/* Poll until @c ran or @ms passed. */
static bool poll_for(struct cb *c, unsigned int ms)
{
	for (unsigned int i = 0; i < ms && !ran(c); i++) {
		epoch_poll();
		if (!ran(c))
			sleep_ms(1);
	}
	return ran(c);
}

/* ---------------------------------------------------------------------- */
/* A reader thread driven step by step                                    */

enum { R_IDLE, R_ENTER, R_INSIDE, R_EXIT, R_OUTSIDE, R_QUIT };

struct reader {
	pthread_t th;
	int cmd, state;
	int acks; /* commands finished, epoch calls included */
	unsigned int depth; /* sections to open on R_ENTER */
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;

	for (;;) {
		int cmd = __atomic_load_n(&r->cmd, __ATOMIC_ACQUIRE);

		if (cmd == R_ENTER) {
			for (unsigned int i = 0; i < r->depth; i++)
				epoch_enter();
			__atomic_store_n(&r->cmd, R_IDLE, __ATOMIC_RELAXED);
			__atomic_store_n(&r->state, R_INSIDE, __ATOMIC_RELEASE);
			__atomic_add_fetch(&r->acks, 1, __ATOMIC_RELEASE);
		} else if (cmd == R_EXIT) {
			__atomic_store_n(&r->cmd, R_IDLE, __ATOMIC_RELAXED);
			/* Published first, so a callback that runs later must see it. */
			__atomic_store_n(&r->state, R_OUTSIDE, __ATOMIC_RELEASE);
			epoch_exit();
			__atomic_add_fetch(&r->acks, 1, __ATOMIC_RELEASE);
		} else if (cmd == R_QUIT) {
			return NULL;
		} else {
			sched_yield();
		}
	}
}

/*
 * Give @r a command; with @until >= 0, wait until the reader has finished
 * it (its epoch calls included: R_OUTSIDE is published before epoch_exit(),
 * and a poll made in between would still see the section) and shows @until.
 */
static void reader_cmd(struct reader *r, int cmd, int until)
{
	int acks = __atomic_load_n(&r->acks, __ATOMIC_ACQUIRE);

	__atomic_store_n(&r->cmd, cmd, __ATOMIC_RELEASE);
	while (until >= 0 && (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != until ||
			      __atomic_load_n(&r->acks, __ATOMIC_ACQUIRE) == acks))
		sched_yield();
	if (until >= 0)
		__atomic_store_n(&r->state, R_IDLE, __ATOMIC_RELAXED);
}

static void reader_start(struct reader *r)
{
	memset(r, 0, sizeof(*r));
	r->depth = 1;
	assert_int_equal(pthread_create(&r->th, NULL, reader_fn, r), 0);
	/* Registered with one section, so it counts from now on. */
	reader_cmd(r, R_ENTER, R_INSIDE);
	reader_cmd(r, R_EXIT, R_OUTSIDE);
}

static void reader_stop(struct reader *r)
{
	reader_cmd(r, R_QUIT, -1);
	pthread_join(r->th, NULL);
}

/* ---------------------------------------------------------------------- */

/* One thread: retiring outside a section is immediate (unless counted globally). */
static void test_alone(void **state)
{
	struct cb c = {0};
	struct epoch_node n;

	assert_false(epoch_in_section());
	epoch_retire(cb_fn, &c);
	if (!nohook())
		assert_int_equal(ran(&c), 1);
	epoch_retire_node(&n, cb_fn, &c);
	epoch_poll();
	assert_int_equal(ran(&c), 2);
	assert_int_equal(epoch_pending(), 0);
	if (!nohook())
		assert_true(epoch_alone());
}

/* One thread inside a section: the callback waits for the exit. */
static void test_own_section(void **state)
{
	struct cb c = {0};

	epoch_enter();
	assert_true(epoch_in_section());
	assert_false(epoch_alone());
	epoch_retire(cb_fn, &c);
	assert_int_equal(epoch_poll(), 0); /* never inside a section */
	assert_int_equal(ran(&c), 0);
	assert_int_equal(epoch_pending(), 1);
	epoch_exit();
	assert_false(epoch_in_section());
	epoch_poll();
	assert_int_equal(ran(&c), 1);
	assert_int_equal(epoch_pending(), 0);
}

/* A reader inside before the retirement holds the callback back until it exits. */
static void test_reader_blocks(void **state)
{
	struct reader r;
	struct cb c = {0};
	struct epoch_node n;

	reader_start(&r);
	c.reader_state = &r.state;
	assert_false(epoch_alone());
	reader_cmd(&r, R_ENTER, R_INSIDE);
	epoch_retire_node(&n, cb_fn, &c);
	for (int i = 0; i < 20; i++) {
		epoch_poll();
		assert_int_equal(ran(&c), 0);
	}
	assert_int_equal(epoch_pending(), 1);
	reader_cmd(&r, R_EXIT, -1);
	assert_true(poll_for(&c, 5000));
	assert_int_equal(c.reader_state_seen, R_OUTSIDE);
	reader_stop(&r);
	if (!nohook())
		assert_true(epoch_alone()); /* its record left with the thread */
}

/*
 * Sections that began after the retirement do not hold it back: not one
 * that began after a poll's bump (a reader that entered while an older
 * one held the callback back), nor, after two advances, any.
 */
static void test_later_reader_does_not_block(void **state)
{
	struct reader a, b;
	struct cb c = {0};

	reader_start(&a);
	reader_start(&b);
	reader_cmd(&a, R_ENTER, R_INSIDE);
	epoch_retire(cb_fn, &c);
	epoch_poll(); /* a holds it back; the bump comes after the retirement */
	assert_int_equal(ran(&c), 0);
	reader_cmd(&b, R_ENTER, R_INSIDE);
	reader_cmd(&a, R_EXIT, R_OUTSIDE);
	epoch_poll(); /* b entered after that bump */
	/* Sections counted globally carry no epoch: any open one holds everything. */
	assert_int_equal(ran(&c), !nohook());
	reader_cmd(&b, R_EXIT, R_OUTSIDE);
	epoch_poll();
	assert_int_equal(ran(&c), 1);

	/*
	 * A section that began after the retirement but before any bump read
	 * the same epoch as one that began before the unlink: it cannot be
	 * told apart, and holds the callback back (conservative, never unsafe).
	 */
	memset(&c, 0, sizeof(c));
	reader_cmd(&a, R_ENTER, R_INSIDE);
	epoch_retire(cb_fn, &c);
	reader_cmd(&a, R_EXIT, R_OUTSIDE);
	reader_cmd(&b, R_ENTER, R_INSIDE);
	epoch_poll();
	epoch_poll();
	assert_int_equal(ran(&c), 0);
	reader_cmd(&b, R_EXIT, R_OUTSIDE);
	epoch_poll();
	assert_int_equal(ran(&c), 1);
	reader_stop(&a);
	reader_stop(&b);
}

/* Nested sections: only the outermost exit ends the section. */
static void test_nesting(void **state)
{
	struct reader r;
	struct cb c = {0};

	reader_start(&r);
	c.reader_state = &r.state;
	r.depth = 3;
	reader_cmd(&r, R_ENTER, R_INSIDE);
	epoch_retire(cb_fn, &c);
	/* Two of three exits: still inside. */
	for (int k = 0; k < 2; k++) {
		__atomic_store_n(&r.cmd, R_EXIT, __ATOMIC_RELEASE);
		while (__atomic_load_n(&r.state, __ATOMIC_ACQUIRE) != R_OUTSIDE)
			sched_yield();
		__atomic_store_n(&r.state, R_INSIDE, __ATOMIC_RELEASE);
		for (int i = 0; i < 10; i++) {
			epoch_poll();
			assert_int_equal(ran(&c), 0);
		}
	}
	reader_cmd(&r, R_EXIT, -1);
	assert_true(poll_for(&c, 5000));
	assert_int_equal(c.reader_state_seen, R_OUTSIDE);
	reader_stop(&r);

	/* The same on this thread. */
	memset(&c, 0, sizeof(c));
	epoch_enter();
	epoch_enter();
	epoch_retire(cb_fn, &c);
	epoch_exit();
	assert_true(epoch_in_section());
	assert_int_equal(epoch_poll(), 0);
	epoch_exit();
	epoch_poll();
	assert_int_equal(ran(&c), 1);
}

/* epoch_barrier() returns after the reader left and the callback ran. */
struct delayed_exit {
	struct reader *r;
	unsigned int ms;
};

static void *exit_later(void *arg)
{
	struct delayed_exit *d = arg;

	sleep_ms(d->ms);
	reader_cmd(d->r, R_EXIT, -1);
	return NULL;
}

static void test_barrier(void **state)
{
	struct reader r;
	struct cb c = {0};
	struct delayed_exit d;
	pthread_t th;

	reader_start(&r);
	c.reader_state = &r.state;
	reader_cmd(&r, R_ENTER, R_INSIDE);
	epoch_retire(cb_fn, &c);
	d = (struct delayed_exit){&r, 50};
	assert_int_equal(pthread_create(&th, NULL, exit_later, &d), 0);
	epoch_barrier();
	assert_int_equal(ran(&c), 1);
	assert_int_equal(c.reader_state_seen, R_OUTSIDE);
	pthread_join(th, NULL);
	reader_stop(&r);
}

/* epoch_retire() without memory: waits for a grace period and runs the callback itself. */
static void test_retire_failnth(void **state)
{
	struct reader r;
	struct cb c = {0};
	struct delayed_exit d;
	pthread_t th;

	reader_start(&r);
	c.reader_state = &r.state;
	reader_cmd(&r, R_ENTER, R_INSIDE);
	d = (struct delayed_exit){&r, 50};
	assert_int_equal(pthread_create(&th, NULL, exit_later, &d), 0);
	ualloc_fail_nth(1);
	epoch_retire(cb_fn, &c);
	assert_int_equal(ualloc_fail_nth_pending(), 0); /* the node's allocation failed */
	assert_int_equal(ran(&c), 1);
	assert_int_equal(c.reader_state_seen, R_OUTSIDE);
	assert_int_equal(epoch_pending(), 0);
	pthread_join(th, NULL);
	reader_stop(&r);
}

/*
 * A hold: retired as of the release. A reader that enters between the
 * retirement and the release (it could have found the memory through a
 * cache the release waits for) holds the callback back.
 */
static void test_hold(void **state)
{
	struct reader r;
	struct cb c = {0};
	struct epoch_node n;

	epoch_hold();
	assert_false(epoch_alone());
	epoch_retire_node(&n, cb_fn, &c);
	epoch_poll();
	assert_int_equal(ran(&c), 0);
	assert_int_equal(epoch_pending(), 0); /* held, not queued */
	epoch_hold();			      /* nests */
	epoch_release();
	assert_int_equal(ran(&c), 0);
	epoch_release();
	epoch_poll();
	assert_int_equal(ran(&c), 1);

	memset(&c, 0, sizeof(c));
	reader_start(&r);
	c.reader_state = &r.state;
	epoch_hold();
	epoch_retire_node(&n, cb_fn, &c);
	epoch_poll();
	epoch_poll();
	reader_cmd(&r, R_ENTER, R_INSIDE); /* after the retirement, before the release */
	epoch_release();
	for (int i = 0; i < 20; i++) {
		epoch_poll();
		assert_int_equal(ran(&c), 0);
	}
	reader_cmd(&r, R_EXIT, -1);
	assert_true(poll_for(&c, 5000));
	assert_int_equal(c.reader_state_seen, R_OUTSIDE);
	reader_stop(&r);
}

/*
 * Thread exit: the record leaves the registry, what the thread held is
 * queued, and what it queued runs on another thread's poll.
 */
struct exiting {
	struct cb held, queued;
	struct epoch_node n1, n2;
	struct reader *blocker;
};

static void *exiting_fn(void *arg)
{
	struct exiting *x = arg;

	epoch_enter();
	epoch_exit();
	epoch_retire_node(&x->n1, cb_fn, &x->queued); /* the blocker keeps it queued */
	epoch_hold();
	epoch_retire_node(&x->n2, cb_fn, &x->held);
	/* Exits inside the hold; a thread without an exit hook cannot. */
	if (nohook())
		epoch_release();
	return NULL;
}

static void test_thread_exit(void **state)
{
	struct reader r;
	struct exiting x = {0};
	pthread_t th;

	reader_start(&r);
	reader_cmd(&r, R_ENTER, R_INSIDE);
	assert_int_equal(pthread_create(&th, NULL, exiting_fn, &x), 0);
	pthread_join(th, NULL);
	assert_int_equal(ran(&x.held) + ran(&x.queued), 0);
	assert_int_equal(epoch_pending(), 2);
	reader_cmd(&r, R_EXIT, R_OUTSIDE);
	assert_true(poll_for(&x.held, 5000));
	assert_true(poll_for(&x.queued, 5000));
	reader_stop(&r);
	if (!nohook())
		assert_true(epoch_alone());
}

/*
 * fork() while another thread is inside a section: the child has only the
 * forking thread, so nothing holds its callbacks back, and it can run
 * threads of its own (membarrier registered again for its address space).
 */
static void *child_reader(void *arg)
{
	epoch_enter();
	epoch_exit();
	return NULL;
}

static int child_main(void)
{
	struct cb c = {0};
	pthread_t th;

	alarm(20); /* a hang is a failure */
	epoch_enter();
	epoch_retire(cb_fn, &c);
	epoch_exit();
	epoch_barrier();
	if (ran(&c) != 1 || epoch_pending())
		return 1;
	/* ThreadSanitizer cannot start threads after a multi-threaded fork. */
	if (!TSAN && pthread_create(&th, NULL, child_reader, NULL))
		return 2;
	if (!TSAN)
		pthread_join(th, NULL);
	epoch_retire(cb_fn, &c);
	epoch_enter();
	epoch_retire(cb_fn, &c);
	epoch_exit();
	epoch_poll();
	epoch_barrier();
	return ran(&c) == 3 && !epoch_pending() ? 0 : 3;
}

static void test_fork(void **state)
{
	struct reader r;
	int status;
	pid_t pid;

	reader_start(&r);
	reader_cmd(&r, R_ENTER, R_INSIDE);
	pid = fork();
	if (!pid)
		_exit(child_main());
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = -1;
	/* The reader leaves first: a failure must not leave a section open. */
	reader_cmd(&r, R_EXIT, R_OUTSIDE);
	reader_stop(&r);
	assert_true(pid > 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---------------------------------------------------------------------- */
/* Stress: readers follow pointers that writers replace and free          */

#define ST_READERS 3
#define ST_WRITERS 2
#define ST_SLOTS   8
#define LIVE	   0x11fe11fe11fe11feULL

struct obj {
	uint64_t magic;
	uint64_t val[7];
};

struct stress {
	struct obj *slot[ST_WRITERS][ST_SLOTS];
	int stop, bad;
	unsigned long reads[ST_READERS], retired[ST_WRITERS];
	unsigned long freed;
};

static struct stress st;

static void obj_free(void *arg)
{
	struct obj *o = arg;

	o->magic = 0xdeadULL; /* a read after this is a bug even without ASan */
	free(o);
	__atomic_add_fetch(&st.freed, 1, __ATOMIC_RELAXED);
}

struct wrapped {
	struct epoch_node node;
	struct obj *o;
};

static void wrapped_free(void *arg)
{
	struct wrapped *w = arg;

	obj_free(w->o);
	free(w);
}

static void *st_reader(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	uint64_t x = 0x9e3779b97f4a7c15ULL * (id + 1);

	while (!__atomic_load_n(&st.stop, __ATOMIC_ACQUIRE)) {
		unsigned int nest = x & 1;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		epoch_enter();
		if (nest)
			epoch_enter();
		for (int k = 0; k < 4; k++) {
			struct obj *o = __atomic_load_n(
				&st.slot[(x >> 8) % ST_WRITERS][(x >> (16 + k)) % ST_SLOTS],
				__ATOMIC_ACQUIRE);
			uint64_t sum = 0;

			if (o->magic != LIVE)
				__atomic_store_n(&st.bad, 1, __ATOMIC_RELAXED);
			for (int i = 0; i < 7; i++)
				sum += o->val[i];
			if (sum != 7 * o->val[0])
				__atomic_store_n(&st.bad, 2, __ATOMIC_RELAXED);
		}
		if (nest)
			epoch_exit();
		epoch_exit();
		st.reads[id]++;
	}
	return NULL;
}

static struct obj *obj_new(uint64_t v)
{
	struct obj *o = malloc(sizeof(*o));

	assert_non_null(o);
	o->magic = LIVE;
	for (int i = 0; i < 7; i++)
		o->val[i] = v;
	return o;
}

static void *st_writer(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	uint64_t x = 0x2545f4914f6cdd1dULL * (id + 3);

	while (!__atomic_load_n(&st.stop, __ATOMIC_ACQUIRE)) {
		unsigned int s;
		struct obj *old;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		s = (unsigned int)(x % ST_SLOTS);
		old = __atomic_exchange_n(&st.slot[id][s], obj_new(x), __ATOMIC_ACQ_REL);
		switch ((x >> 20) % 4) {
		case 0:
			epoch_retire(obj_free, old);
			break;
		case 1: { /* a node of its own, in memory readers never see */
			struct wrapped *w = malloc(sizeof(*w));

			assert_non_null(w);
			w->o = old;
			epoch_retire_node(&w->node, wrapped_free, w);
			break;
		}
		case 2:
			epoch_hold();
			epoch_retire(obj_free, old);
			epoch_release();
			break;
		default:
			epoch_retire(obj_free, old);
			if (!(x & 0xff00000))
				epoch_barrier();
			break;
		}
		st.retired[id]++;
	}
	return NULL;
}

static void test_stress(void **state)
{
	pthread_t rt[ST_READERS], wt[ST_WRITERS];
	unsigned long reads = 0, retired = 0;
	const char *ms = getenv("UIOMMU_STRESS_MS");

	memset(&st, 0, sizeof(st));
	for (unsigned int w = 0; w < ST_WRITERS; w++)
		for (unsigned int s = 0; s < ST_SLOTS; s++)
			st.slot[w][s] = obj_new(w * 100 + s);
	for (unsigned int i = 0; i < ST_READERS; i++)
		assert_int_equal(pthread_create(&rt[i], NULL, st_reader, (void *)(uintptr_t)i), 0);
	for (unsigned int i = 0; i < ST_WRITERS; i++)
		assert_int_equal(pthread_create(&wt[i], NULL, st_writer, (void *)(uintptr_t)i), 0);
	sleep_ms(ms ? (unsigned int)atoi(ms) / 2 : 400);
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < ST_READERS; i++) {
		pthread_join(rt[i], NULL);
		reads += st.reads[i];
	}
	for (unsigned int i = 0; i < ST_WRITERS; i++) {
		pthread_join(wt[i], NULL);
		retired += st.retired[i];
	}
	epoch_barrier();
	print_message("# %lu reads, %lu retired, %lu freed, membarrier %d\n", reads, retired,
		      __atomic_load_n(&st.freed, __ATOMIC_RELAXED), epoch_uses_membarrier());
	assert_int_equal(st.bad, 0);
	assert_true(reads > 100);
	assert_true(retired > 100);
	assert_int_equal(__atomic_load_n(&st.freed, __ATOMIC_RELAXED), retired);
	assert_int_equal(epoch_pending(), 0);
	for (unsigned int w = 0; w < ST_WRITERS; w++)
		for (unsigned int s = 0; s < ST_SLOTS; s++)
			free(st.slot[w][s]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_own_section),
		cmocka_unit_test(test_reader_blocks),
		cmocka_unit_test(test_later_reader_does_not_block),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_barrier),
		cmocka_unit_test(test_retire_failnth),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_thread_exit),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_stress),
	};

	return cmocka_run_group_tests_name("epoch", tests, NULL, NULL);
}
