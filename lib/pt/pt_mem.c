// SPDX-License-Identifier: MIT
/*
 * pt_mem.c - memory ports: where a "physical" address in a descriptor
 * lives in this process.
 *
 * The host port is the identity: one region covering the whole address
 * space with a zero host pointer, tables from the allocator below. It is
 * only ever used for tables this library built, whose descriptors point at
 * memory the program handed us.
 *
 * An arena is one buffer shown at a chosen base (reserved lazily: only the
 * pages something touches become resident, so an arena can stand for a
 * large guest address space), or the caller's memory (pt_arena_init_at:
 * guest RAM that holds a guest's own tables). Its tables come from a
 * first-fit bitmap of 4 KiB units; an allocation of n units is aligned to
 * its own (power-of-two rounded) size, as the architectures require of
 * tables. Beside the bitmap, an array (as lazily resident as the buffer)
 * holds the struct pt_count of the table that starts at each unit; a table
 * is zeroed whenever it is handed out, so it may come back with entries.
 * A freed table's units are cleared only after its grace period (the
 * arena's limbo list, below). Anything that reads through an arena port
 * is bounded by it: a descriptor pointing outside gives a walk abort,
 * never a stray read.
 *
 * Both ports hand a freed table back only after the walks that could
 * still be inside it are over (util/epoch.h); under AddressSanitizer the
 * free table memory is poisoned until it is handed out again, so a walk
 * that outlives its protection is reported.
 *
 * Descriptor reads and CAS are 64-bit aligned atomics (acquire / acq_rel),
 * byte-swapped for big-endian formats (TCE).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "pt/pt.h"
#include "util/alloc.h"
#include "util/bits.h"
#include "util/epoch.h"
#include "util/log.h"

/*
 * Under AddressSanitizer, table memory whose grace period has passed and
 * that sits free (a host free list, an arena's free units) is poisoned
 * until it is handed out again: a walker that reads a table after the
 * reclamation let it go is reported as a use after free.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PT_MEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PT_MEM_ASAN 1
#endif
#endif
#ifdef PT_MEM_ASAN
#include <sanitizer/asan_interface.h>
#define mem_poison(p, n)   __asan_poison_memory_region((p), (n))
#define mem_unpoison(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define mem_poison(p, n)   ((void)(p), (void)(n))
#define mem_unpoison(p, n) ((void)(p), (void)(n))
#endif

/*
 * The host port's table allocator. Page-table pages come and go in bursts
 * (a leaf table per 2 MiB mapped, freed again by unmap's empty-table
 * reclaim), and a trip through malloc costs far more than the table work
 * itself: an aligned allocation, a memset of the whole page, and a page
 * fault per page of fresh memory.
 *
 * So tables of 512 B to 64 KiB are carved from 2 MiB chunks mapped
 * anonymously with transparent huge pages requested: the kernel hands the
 * chunk over zeroed (no memset) and faults it in as one huge page where it
 * can. Freed tables go on a per-thread free list per size class and are
 * handed out again. The free list is linked through the first word of each
 * table, which host_alloc_table() zeroes again.
 *
 * Counters. A chunk is aligned to its size, so its first 2 KiB can hold a
 * struct pt_count for each of its 512 units of 4 KiB, found from any table
 * pointer by masking (pt_mem_host.count): tables of 4 KiB and more each
 * start a unit of their own and have a counter; smaller tables (and wide
 * roots from the allocation wrapper) have none. The engine keeps the
 * counter of a table exact while the table is in a tree, and does not
 * zero a subtree that unmap frees (its tables go back with their entries),
 * so host_alloc_table() zeroes a table whose counter says it holds
 * entries, and resets the counter; it skips the memset when the engine is
 * about to write every entry anyway (PT_ALLOC_OVERWRITE: a new last-level
 * table a map fills, a split). A table freed because unmap emptied it has a
 * zero counter and needs no memset at either end. Tables without a
 * counter are all zeroes when freed (the struct pt_mem contract, kept by
 * pt_engine.h); host_reuse_table() checks that with a word-parallel scan
 * and clears a table that breaks the rule, so a bug elsewhere cannot leak
 * old descriptors into a new table.
 *
 * Per thread, so no lock on the hot path: a table freed by another thread
 * than the one that allocated it simply joins the list of the thread that
 * runs its reclamation callback (usually the one that freed it). When a
 * thread exits, its lists and the unused rest of its chunk move to a shared
 * pool (under a mutex), where any thread looks before it maps a new chunk,
 * so nothing is stranded. Chunk memory is kept for reuse, never unmapped:
 * the host's table memory is its peak table footprint, as with any
 * allocator that does not return memory to the kernel. Larger tables (wide
 * concatenated roots) come from the allocation wrapper. Every allocation
 * still counts for fail-nth injection (ualloc_should_fail), so error paths
 * stay testable.
 *
 * Reclamation. Walkers read tables without a lock (pt.h), so a table the
 * engine frees may still be under a walk that found it before it was
 * unlinked, and must not change (be zeroed, carry a free-list link, hold
 * another tree's entries) until that walk is over. host_free_table()
 * therefore retires it (util/epoch.h) and only the callback, after the
 * grace period, puts it on the free list of the thread that runs it (with
 * the zero check of a small table). The queue node of a table of 4 KiB or
 * more is in its chunk's header, beside the counters: a struct epoch_node
 * per 4 KiB unit (16 KiB of the 2 MiB), so retiring allocates nothing.
 * The chunk header (counters and nodes, 18 KiB) is why the first table of
 * 4 KiB or more starts 20 KiB into a chunk. Smaller tables and the
 * allocation wrapper's large ones use epoch_retire(), which allocates a
 * node (or waits for a grace period when it cannot). With no other thread
 * that has ever walked (epoch_alone) the callback runs at once: a
 * single-threaded program pays a call and a load per free. An allocation
 * that finds its free list empty while tables wait polls the reclamation
 * first (then skips that for a few allocations if it freed nothing here).
 */
#define HOST_CACHE_MIN_SHIFT 9	/* 512 B */
#define HOST_CACHE_MAX_SHIFT 16 /* 64 KiB */
#define HOST_CACHE_CLASSES   (HOST_CACHE_MAX_SHIFT - HOST_CACHE_MIN_SHIFT + 1)
#define HOST_CHUNK	     (2ULL << 20)
#define HOST_COUNT_SHIFT     12 /* a counter per 4 KiB unit of a chunk */
#define HOST_COUNT_MIN	     (1u << HOST_COUNT_SHIFT)
#define HOST_UNITS	     (HOST_CHUNK >> HOST_COUNT_SHIFT)
/* Polls of the reclamation an allocation skips after one that freed nothing here. */
#define HOST_POLL_SKIP	     16

/* The start of every chunk. */
struct host_chunk_hdr {
	struct pt_count count[HOST_UNITS];     /* pt_mem_host.count: must stay first */
	struct epoch_node limbo[HOST_UNITS];   /* the retirement of the table at each unit */
};
#define HOST_CHUNK_HDR sizeof(struct host_chunk_hdr)

#define HOST_COUNT_MAP                                                                       \
	{                                                                                    \
		.base = 0, .bias = 0, .mask = HOST_CHUNK - 1, .shift = HOST_COUNT_SHIFT,     \
		.min_size = HOST_COUNT_MIN, .max_size = 1u << HOST_CACHE_MAX_SHIFT,          \
	}

static const struct pt_count_map host_count_map = HOST_COUNT_MAP;

/* host_reuse_table() finds the class in the low bits of a table's address. */
_Static_assert(!(HOST_CACHE_CLASSES & (HOST_CACHE_CLASSES - 1)) &&
		       HOST_CACHE_CLASSES <= (1u << HOST_CACHE_MIN_SHIFT),
	       "size classes fit the alignment bits");

struct host_cache {
	void *head[HOST_CACHE_CLASSES];
	uint8_t *chunk_cur, *chunk_end; /* the unused rest of this thread's chunk */
	bool registered;
	unsigned int poll_skip;	/* allocations left before the next reclamation poll */
};

static _Thread_local struct host_cache host_cache;
static pthread_key_t host_cache_key;
static pthread_once_t host_cache_once = PTHREAD_ONCE_INIT;
static bool host_cache_key_ok;

/* Tables given back by threads that exited; guarded by host_pool_lock. */
static pthread_mutex_t host_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static void *host_pool[HOST_CACHE_CLASSES];

static void push(void **head, void *p)
{
	*(void **)p = *head;
	*head = p;
}

static void *pop(void **head)
{
	void *p = *head;

	if (p) {
		*head = *(void **)p;
		*(void **)p = NULL;
	}
	return p;
}

/* Thread exit: lists and the rest of the chunk go to the shared pool. */
static void host_cache_drain(void *arg)
{
	struct host_cache *hc = arg;
	const size_t min = 1u << HOST_CACHE_MIN_SHIFT;

	pthread_mutex_lock(&host_pool_lock);
	for (unsigned int i = 0; i < HOST_CACHE_CLASSES; i++) {
		void *p;

		while ((p = pop(&hc->head[i])))
			push(&host_pool[i], p);
	}
	for (; hc->chunk_cur && hc->chunk_cur + min <= hc->chunk_end; hc->chunk_cur += min)
		push(&host_pool[0], hc->chunk_cur);
	pthread_mutex_unlock(&host_pool_lock);
	hc->chunk_cur = hc->chunk_end = NULL;
	hc->registered = false;
}

static void host_cache_key_init(void)
{
	host_cache_key_ok = !pthread_key_create(&host_cache_key, host_cache_drain);
}

/* Size class of a table size, or -1 when it is not cached. */
static int host_cache_class(size_t size)
{
	if (size < (1u << HOST_CACHE_MIN_SHIFT) || size > (1u << HOST_CACHE_MAX_SHIFT) ||
	    (size & (size - 1)))
		return -1;
	return (int)ilog2_u64(size) - HOST_CACHE_MIN_SHIFT;
}

typedef uint64_t zero_v2 __attribute__((vector_size(16), may_alias));

/* Word-parallel zero test; @p is aligned to @size, a power of two >= 512. */
static bool table_is_zero(const void *p, size_t size)
{
	const zero_v2 *v = p;

	for (size_t i = 0; i < size / 16; i += 8) {
		zero_v2 a = (v[i] | v[i + 1]) | (v[i + 2] | v[i + 3]);
		zero_v2 b = (v[i + 4] | v[i + 5]) | (v[i + 6] | v[i + 7]);

		a |= b;
		if (a[0] | a[1])
			return false;
	}
	return true;
}

/* A fresh zeroed chunk, aligned to its size so huge pages can back it. */
static uint8_t *host_chunk_new(void)
{
	uint8_t *raw = mmap(NULL, 2 * HOST_CHUNK, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *p;

	if (raw == MAP_FAILED)
		return NULL;
	p = (uint8_t *)ALIGN_UP((uintptr_t)raw, HOST_CHUNK);
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	munmap(p + HOST_CHUNK, (size_t)(raw + 2 * HOST_CHUNK - (p + HOST_CHUNK)));
	madvise(p, HOST_CHUNK, MADV_HUGEPAGE);
	return p;
}

/* Make sure the thread's exit hook will drain @hc; false if it cannot. */
static bool host_cache_register(struct host_cache *hc)
{
	if (likely(hc->registered))
		return true;
	pthread_once(&host_cache_once, host_cache_key_init);
	if (!host_cache_key_ok || pthread_setspecific(host_cache_key, hc))
		return false;
	hc->registered = true;
	return true;
}

static void *host_carve(struct host_cache *hc, size_t size, int cls)
{
	uint8_t *p, *chunk;

	/* A thread that cannot register its exit hook would strand its chunk. */
	if (!host_cache_register(hc))
		return NULL;
	p = (uint8_t *)ALIGN_UP((uintptr_t)hc->chunk_cur, size);
	if (!hc->chunk_cur || p + size > hc->chunk_end) {
		void *pooled;

		pthread_mutex_lock(&host_pool_lock);
		pooled = pop(&host_pool[cls]);
		pthread_mutex_unlock(&host_pool_lock);
		if (pooled)
			return pooled;
		/* The old chunk's tail is dropped into the smallest class. */
		for (; hc->chunk_cur && hc->chunk_cur + 512 <= hc->chunk_end; hc->chunk_cur += 512)
			push(&hc->head[0], hc->chunk_cur);
		chunk = host_chunk_new();
		if (!chunk)
			return NULL;
		hc->chunk_end = chunk + HOST_CHUNK;
		/* The counters come first. */
		p = (uint8_t *)ALIGN_UP((uintptr_t)chunk + HOST_CHUNK_HDR, size);
	}
	hc->chunk_cur = p + size;
	return p;
}

static int host_alloc_table(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
			    void **ptr)
{
	int cls = host_cache_class(size);
	void *p;

	if (cls < 0) {
		p = ualloc_aligned(size < 64 ? 64 : size, size);
	} else {
		if (ualloc_should_fail())
			return -ENOMEM;
		p = pop(&host_cache.head[cls]);
		if (!p && epoch_pending()) {
			/* Tables wait for their grace period: maybe some are free by now. */
			if (host_cache.poll_skip) {
				host_cache.poll_skip--;
			} else {
				epoch_poll();
				p = pop(&host_cache.head[cls]);
				host_cache.poll_skip = p ? 0 : HOST_POLL_SKIP;
			}
		}
		if (!p)
			p = host_carve(&host_cache, size, cls);
		if (p)
			mem_unpoison(p, size);
		if (p && size >= HOST_COUNT_MIN) {
			struct pt_count *cnt = pt_count_of(&host_count_map, p);

			/* Freed with its entries (a reclaimed subtree): zero it now, if needed. */
			if (cnt->valid && !(flags & PT_ALLOC_OVERWRITE))
				memset(p, 0, size);
			*cnt = (struct pt_count){ 0, 0 };
		}
	}
	if (!p)
		return -ENOMEM;
	*ptr = p;
	*pa = (uint64_t)(uintptr_t)p;
	return 0;
}

/*
 * After the grace period: the table goes on the free list of this thread
 * (or the shared pool). @arg is the table's address with its size class
 * in the low bits (tables are aligned to 512 bytes at least).
 */
static void host_reuse_table(void *arg)
{
	uintptr_t v = (uintptr_t)arg;
	int cls = (int)(v & (HOST_CACHE_CLASSES - 1));
	size_t size = (size_t)1 << (cls + HOST_CACHE_MIN_SHIFT);
	void *ptr = (void *)(v & ~(uintptr_t)((1u << HOST_CACHE_MIN_SHIFT) - 1));

	/* A table with a counter may come back with entries: see host_alloc_table(). */
	if (size < HOST_COUNT_MIN && !table_is_zero(ptr, size))
		memset(ptr, 0, size);
	if (likely(host_cache_register(&host_cache))) {
		push(&host_cache.head[cls], ptr);
	} else {
		pthread_mutex_lock(&host_pool_lock);
		push(&host_pool[cls], ptr);
		pthread_mutex_unlock(&host_pool_lock);
	}
	/* The free-list link is the first word; the rest is nobody's until handed out. */
	mem_poison((uint8_t *)ptr + sizeof(void *), size - sizeof(void *));
}

static void host_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
	int cls = host_cache_class(size);
	void *arg = (void *)((uintptr_t)ptr | (uintptr_t)(cls < 0 ? 0 : cls));

	if (cls < 0) {
		epoch_retire(ufree, ptr);
	} else if (size >= HOST_COUNT_MIN) {
		struct host_chunk_hdr *h = (void *)((uintptr_t)ptr & ~(uintptr_t)(HOST_CHUNK - 1));

		epoch_retire_node(&h->limbo[((uintptr_t)ptr & (HOST_CHUNK - 1)) >> HOST_COUNT_SHIFT],
				  host_reuse_table, arg);
	} else {
		epoch_retire(host_reuse_table, arg);
	}
}

struct pt_mem pt_mem_host = {
	.nr_regions = 1,
	.region = { { .base = 0, .size = UINT64_MAX, .host = NULL } },
	.alloc_table = host_alloc_table,
	.free_table = host_free_table,
	.count = HOST_COUNT_MAP,
};

void *pt_mem_ptr_slow(const struct pt_mem *mem, uint64_t pa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct pt_mem_region *r = &mem->region[i];
		uint64_t off = pa - r->base;

		if (off < r->size && len <= r->size - off)
			return (void *)((uintptr_t)r->host + (uintptr_t)off);
	}
	return NULL;
}

int pt_mem_read_desc(const struct pt_cfg *cfg, const struct pt_mem *mem, uint64_t pa,
		     uint64_t *val)
{
	uint64_t *p;
	uint64_t v;

	if (pa & 7)
		return -EFAULT;
	p = pt_mem_ptr(mem, pa, 8);
	if (!p)
		return -EFAULT;
	v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	*val = cfg->fmt->big_endian ? __builtin_bswap64(v) : v;
	return 0;
}

int pt_mem_cas_desc(const struct pt_cfg *cfg, const struct pt_mem *mem, uint64_t pa,
		    uint64_t old, uint64_t val)
{
	uint64_t *p;

	if (pa & 7)
		return -EFAULT;
	p = pt_mem_ptr(mem, pa, 8);
	if (!p)
		return -EFAULT;
	if (cfg->fmt->big_endian) {
		old = __builtin_bswap64(old);
		val = __builtin_bswap64(val);
	}
	if (!__atomic_compare_exchange_n(p, &old, val, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Arena                                                                  */

#define ARENA_UNIT 4096ULL
/* Largest table with a counter: 32768 entries, so that the count fits 16 bits. */
#define ARENA_COUNT_MAX (256u << 10)
/* Tables in limbo that make an allocation poll the reclamation (again). */
#define ARENA_LIMBO_POLL 32

/*
 * Reclamation. A freed table keeps its units marked used while its grace
 * period runs (util/epoch.h), on the arena's limbo list, and is released
 * (units cleared, poisoned under ASan) by the next allocation or free that
 * finds its callback has run. The list and the queue node are entries of
 * a side array, one per 4 KiB unit, mapped like the counters (resident
 * only where tables were freed) when the first table has to wait: a
 * single-threaded user never maps it. The callback may run on any thread
 * and after the arena is gone, so it touches only its entry and the side
 * array's reference count (one for the arena, one per callback to come).
 */
struct arena_limbo {
	struct epoch_node node;
	struct pt_arena_side *side;
	uint64_t next;	/* unit + 1 of the next table in limbo; 0: the last */
	uint64_t units; /* the table's size in units */
	int ready;	/* its grace period is over (set by the callback) */
};

struct pt_arena_side {
	unsigned long refs;
	unsigned long ready; /* callbacks run since the last collection */
	size_t bytes;
	struct arena_limbo e[];
};

static size_t arena_counts_bytes(const struct pt_arena *a)
{
	return ALIGN_UP(a->nr_units * sizeof(struct pt_count), 4096);
}

static bool arena_range_free(const struct pt_arena *a, uint64_t first, uint64_t n)
{
	for (uint64_t u = first; u < first + n; u++)
		if (a->used[u / 64] & BIT(u % 64))
			return false;
	return true;
}

static void arena_mark(struct pt_arena *a, uint64_t first, uint64_t n, bool used)
{
	for (uint64_t u = first; u < first + n; u++) {
		if (used)
			a->used[u / 64] |= BIT(u % 64);
		else
			a->used[u / 64] &= ~BIT(u % 64);
	}
	if (used && first < a->poison_hi && first + n > a->poison_lo)
		mem_unpoison(a->buf + first * ARENA_UNIT, n * ARENA_UNIT);
}

/* A table's units go back to the allocator. */
static void arena_release(struct pt_arena *a, uint64_t first, uint64_t n)
{
	arena_mark(a, first, n, false);
	if (first < a->hint)
		a->hint = first;
#ifdef PT_MEM_ASAN
	mem_poison(a->buf + first * ARENA_UNIT, n * ARENA_UNIT);
	if (a->poison_lo == a->poison_hi) {
		a->poison_lo = first;
		a->poison_hi = first + n;
	} else {
		a->poison_lo = MIN(a->poison_lo, first);
		a->poison_hi = MAX(a->poison_hi, first + n);
	}
#endif
}

static void arena_side_put(struct pt_arena_side *side)
{
	if (!__atomic_sub_fetch(&side->refs, 1, __ATOMIC_ACQ_REL))
		munmap(side, side->bytes);
}

/* The grace period of a table in limbo is over (any thread, any time). */
static void arena_limbo_done(void *arg)
{
	struct arena_limbo *e = arg;
	struct pt_arena_side *side = e->side;

	__atomic_store_n(&e->ready, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&side->ready, 1, __ATOMIC_RELEASE);
	arena_side_put(side);
}

/* Release every table in limbo whose callback has run. */
static void arena_collect(struct pt_arena *a)
{
	uint64_t *pp = &a->limbo_head, u, tail = 0;

	/*
	 * A callback sets its entry's flag, then counts: once the count is
	 * taken, every flag it counted is visible (and one set after is
	 * counted again, for the next collection).
	 */
	if (!a->limbo_n || !__atomic_exchange_n(&a->side->ready, 0, __ATOMIC_ACQ_REL))
		return;
	while ((u = *pp)) {
		struct arena_limbo *e = &a->side->e[u - 1];

		if (__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE)) {
			*pp = e->next;
			arena_release(a, u - 1, e->units);
			a->limbo_n--;
		} else {
			tail = u;
			pp = &e->next;
		}
	}
	a->limbo_tail = tail;
}

/*
 * Reclaim what can be: poll the reclamation once enough tables wait (or
 * wait for a grace period with @wait, outside a read-side section), then
 * collect.
 */
static void arena_reclaim(struct pt_arena *a, bool wait)
{
	bool polled = true;

	if (!a->limbo_n)
		return;
	if (wait && !epoch_in_section())
		epoch_barrier();
	else if (a->limbo_n >= a->limbo_poll_at)
		epoch_poll();
	else
		polled = false;
	arena_collect(a);
	/* Poll again a batch later (sooner if the limbo shrank meanwhile). */
	if (polled || a->limbo_n + ARENA_LIMBO_POLL < a->limbo_poll_at)
		a->limbo_poll_at = a->limbo_n + ARENA_LIMBO_POLL;
}

static int arena_side_init(struct pt_arena *a)
{
	size_t bytes = ALIGN_UP(sizeof(struct pt_arena_side) +
				       a->nr_units * sizeof(struct arena_limbo), 4096);
	struct pt_arena_side *side = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (side == MAP_FAILED)
		return -ENOMEM;
	side->refs = 1;
	side->bytes = bytes;
	a->side = side;
	a->limbo_poll_at = ARENA_LIMBO_POLL;
	return 0;
}

/* First fit in units [from, to), aligned to @step units; skips full bitmap words. */
static bool arena_search(struct pt_arena *a, uint64_t from, uint64_t to, uint64_t step,
			 uint64_t n, uint64_t *found)
{
	uint64_t first = (ALIGN_UP(a->base + from * ARENA_UNIT, step * ARENA_UNIT) - a->base) /
			 ARENA_UNIT;

	while (first + n <= to) {
		if (step == 1 && a->used[first / 64] == ~0ULL) {
			first = ALIGN_DOWN(first, 64) + 64;
			continue;
		}
		if (arena_range_free(a, first, n)) {
			*found = first;
			return true;
		}
		first += step;
	}
	return false;
}

static bool arena_find(struct pt_arena *a, uint64_t step, uint64_t n, uint64_t *first)
{
	/* Search from the rotor first, then wrap around to the start. */
	return arena_search(a, a->hint, a->nr_units, step, n, first) ||
	       arena_search(a, 0, MIN(a->hint + n, a->nr_units), step, n, first);
}

int pt_arena_alloc(struct pt_arena *a, uint64_t size, uint64_t align, uint64_t *pa)
{
	uint64_t n = ALIGN_UP(size ? size : 1, ARENA_UNIT) / ARENA_UNIT;
	uint64_t first;

	if (align < ARENA_UNIT)
		align = ARENA_UNIT;
	if (!is_pow2(align))
		return -EINVAL;
	if (!arena_find(a, align / ARENA_UNIT, n, &first)) {
		/* Tables in limbo may be what is missing. */
		if (!a->limbo_n)
			return -ENOMEM;
		arena_reclaim(a, true);
		if (!arena_find(a, align / ARENA_UNIT, n, &first))
			return -ENOMEM;
	}
	arena_mark(a, first, n, true);
	a->hint = first + n;
	*pa = a->base + first * ARENA_UNIT;
	return 0;
}

static int arena_alloc_table(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
			     void **ptr)
{
	struct pt_arena *a = container_of(mem, struct pt_arena, mem);
	uint64_t align = size <= ARENA_UNIT ? ARENA_UNIT : (1ULL << (64 - __builtin_clzll(size - 1)));
	int ret;

	arena_reclaim(a, false);
	ret = pt_arena_alloc(a, size, align, pa);
	if (ret)
		return ret;
	*ptr = a->buf + (*pa - a->base);
	/* Always zeroed: a table may come back with entries (struct pt_mem). */
	memset(*ptr, 0, ALIGN_UP(size, ARENA_UNIT));
	a->counts[(*pa - a->base) / ARENA_UNIT] = (struct pt_count){ 0, 0 };
	a->tables_live++;
	return 0;
}

static void arena_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
	struct pt_arena *a = container_of(mem, struct pt_arena, mem);
	uint64_t first = (pa - a->base) / ARENA_UNIT;
	uint64_t n = ALIGN_UP(size, ARENA_UNIT) / ARENA_UNIT;
	struct arena_limbo *e;

	a->tables_live--;
	if (epoch_alone()) {
		arena_release(a, first, n);
		arena_reclaim(a, false);
		return;
	}
	if (!a->side && arena_side_init(a)) {
		/* Cannot wait for a grace period without an entry: keep the units. */
		ulog_err("arena: no memory for the limbo list: %llu KiB of tables not reused",
			 (unsigned long long)(n * ARENA_UNIT >> 10));
		return;
	}
	e = &a->side->e[first];
	e->side = a->side;
	e->next = 0;
	e->units = n;
	e->ready = 0;
	if (a->limbo_tail)
		a->side->e[a->limbo_tail - 1].next = first + 1;
	else
		a->limbo_head = first + 1;
	a->limbo_tail = first + 1;
	a->limbo_n++;
	__atomic_add_fetch(&a->side->refs, 1, __ATOMIC_RELAXED);
	epoch_retire_node(&e->node, arena_limbo_done, e);
	arena_collect(a); /* the callback may have run at once */
}

static int arena_init(struct pt_arena *a, uint64_t base, uint64_t size, void *buf)
{
	memset(a, 0, sizeof(*a));
	if (!size || !IS_ALIGNED(base, ARENA_UNIT) || !IS_ALIGNED(size, ARENA_UNIT) ||
	    range_wraps(base, size))
		return -EINVAL;
	if (buf) {
		a->buf = buf;
	} else {
		a->buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (a->buf == MAP_FAILED) {
			a->buf = NULL;
			return -ENOMEM;
		}
		a->own_buf = true;
	}
	a->nr_units = size / ARENA_UNIT;
	a->used = ucalloc((a->nr_units + 63) / 64, sizeof(uint64_t));
	/* Counters, like the buffer, only become resident where tables are. */
	a->counts = mmap(NULL, arena_counts_bytes(a), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->counts == MAP_FAILED)
		a->counts = NULL;
	if (!a->used || !a->counts) {
		pt_arena_destroy(a);
		return -ENOMEM;
	}
	a->base = base;
	a->size = size;
	a->mem.nr_regions = 1;
	a->mem.region[0] = (struct pt_mem_region){ .base = base, .size = size, .host = a->buf };
	a->mem.alloc_table = arena_alloc_table;
	a->mem.free_table = arena_free_table;
	a->mem.count = (struct pt_count_map){
		.base = (uintptr_t)a->counts,
		.bias = (uintptr_t)a->buf,
		.mask = UINTPTR_MAX,
		.shift = 12,
		.min_size = 64,
		.max_size = ARENA_COUNT_MAX,
	};
	return 0;
}

int pt_arena_init(struct pt_arena *a, uint64_t base, uint64_t size)
{
	return arena_init(a, base, size, NULL);
}

int pt_arena_init_at(struct pt_arena *a, uint64_t base, uint64_t size, void *buf)
{
	if (!buf)
		return -EINVAL;
	return arena_init(a, base, size, buf);
}

/*
 * Tables still in limbo are simply dropped with the arena: their callbacks
 * find the side array alive (it has a reference per callback) and nothing
 * else to do.
 */
void pt_arena_destroy(struct pt_arena *a)
{
	if (a->buf && a->poison_hi > a->poison_lo)
		mem_unpoison(a->buf + a->poison_lo * ARENA_UNIT,
			     (a->poison_hi - a->poison_lo) * ARENA_UNIT);
	if (a->buf && a->own_buf)
		munmap(a->buf, a->size ? a->size : a->nr_units * ARENA_UNIT);
	if (a->counts)
		munmap(a->counts, arena_counts_bytes(a));
	if (a->side)
		arena_side_put(a->side);
	ufree(a->used);
	memset(a, 0, sizeof(*a));
}

int pt_arena_reserve(struct pt_arena *a, uint64_t pa, uint64_t size)
{
	uint64_t first, last;

	if (pa < a->base || size == 0 || range_wraps(pa, size) || pa + size > a->base + a->size)
		return -ERANGE;
	first = (pa - a->base) / ARENA_UNIT;
	last = (ALIGN_UP(pa + size - a->base, ARENA_UNIT)) / ARENA_UNIT;
	if (!arena_range_free(a, first, last - first)) {
		arena_reclaim(a, true);
		if (!arena_range_free(a, first, last - first))
			return -EBUSY;
	}
	arena_mark(a, first, last - first, true);
	return 0;
}
