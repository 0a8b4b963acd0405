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
 * large guest address space). Its tables come from a
 * first-fit bitmap of 4 KiB units; an allocation of n units is aligned to
 * its own (power-of-two rounded) size, as the architectures require of
 * tables. Beside the bitmap, an array (as lazily resident as the buffer)
 * holds the struct pt_count of the table that starts at each unit; a table
 * is zeroed whenever it is handed out, so it may come back with entries.
 * Anything that reads through an arena port is bounded by it: a
 * descriptor pointing outside gives a walk abort, never a stray read.
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
 * pt_engine.h); host_free_table() checks that with a word-parallel scan of
 * memory that is hot in the cache and clears a table that breaks the rule,
 * so a bug elsewhere cannot leak old descriptors into a new table.
 *
 * Per thread, so no lock on the hot path: a table freed by another thread
 * than the one that allocated it simply joins that thread's list. When a
 * thread exits, its lists and the unused rest of its chunk move to a shared
 * pool (under a mutex), where any thread looks before it maps a new chunk,
 * so nothing is stranded. Chunk memory is kept for reuse, never unmapped:
 * the host's table memory is its peak table footprint, as with any
 * allocator that does not return memory to the kernel. Larger tables (wide
 * concatenated roots) come from the allocation wrapper. Every allocation
 * still counts for fail-nth injection (ualloc_should_fail), so error paths
 * stay testable.
 */
#define HOST_CACHE_MIN_SHIFT 9	/* 512 B */
#define HOST_CACHE_MAX_SHIFT 16 /* 64 KiB */
#define HOST_CACHE_CLASSES   (HOST_CACHE_MAX_SHIFT - HOST_CACHE_MIN_SHIFT + 1)
#define HOST_CHUNK	     (2ULL << 20)
#define HOST_COUNT_SHIFT     12 /* a counter per 4 KiB unit of a chunk */
#define HOST_COUNT_MIN	     (1u << HOST_COUNT_SHIFT)
#define HOST_CHUNK_HDR	     ((HOST_CHUNK >> HOST_COUNT_SHIFT) * sizeof(struct pt_count))

#define HOST_COUNT_MAP                                                                       \
	{                                                                                    \
		.base = 0, .bias = 0, .mask = HOST_CHUNK - 1, .shift = HOST_COUNT_SHIFT,     \
		.min_size = HOST_COUNT_MIN, .max_size = 1u << HOST_CACHE_MAX_SHIFT,          \
	}

static const struct pt_count_map host_count_map = HOST_COUNT_MAP;

struct host_cache {
	void *head[HOST_CACHE_CLASSES];
	uint8_t *chunk_cur, *chunk_end; /* the unused rest of this thread's chunk */
	bool registered;
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
		if (!p)
			p = host_carve(&host_cache, size, cls);
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

static void host_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
	int cls = host_cache_class(size);

	if (cls < 0) {
		ufree(ptr);
		return;
	}
	/* A table with a counter may come back with entries: see host_alloc_table(). */
	if (size < HOST_COUNT_MIN && !table_is_zero(ptr, size))
		memset(ptr, 0, size);
	if (likely(host_cache_register(&host_cache))) {
		push(&host_cache.head[cls], ptr);
		return;
	}
	pthread_mutex_lock(&host_pool_lock);
	push(&host_pool[cls], ptr);
	pthread_mutex_unlock(&host_pool_lock);
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

int pt_arena_alloc(struct pt_arena *a, uint64_t size, uint64_t align, uint64_t *pa)
{
	uint64_t n = ALIGN_UP(size ? size : 1, ARENA_UNIT) / ARENA_UNIT;
	uint64_t first;

	if (align < ARENA_UNIT)
		align = ARENA_UNIT;
	if (!is_pow2(align))
		return -EINVAL;
	/* Search from the rotor first, then wrap around to the start. */
	if (!arena_search(a, a->hint, a->nr_units, align / ARENA_UNIT, n, &first) &&
	    !arena_search(a, 0, MIN(a->hint + n, a->nr_units), align / ARENA_UNIT, n, &first))
		return -ENOMEM;
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
	int ret = pt_arena_alloc(a, size, align, pa);

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

	arena_mark(a, first, ALIGN_UP(size, ARENA_UNIT) / ARENA_UNIT, false);
	if (first < a->hint)
		a->hint = first;
	a->tables_live--;
}

int pt_arena_init(struct pt_arena *a, uint64_t base, uint64_t size)
{
	memset(a, 0, sizeof(*a));
	if (!size || !IS_ALIGNED(base, ARENA_UNIT) || !IS_ALIGNED(size, ARENA_UNIT) ||
	    range_wraps(base, size))
		return -EINVAL;
	a->buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->buf == MAP_FAILED) {
		a->buf = NULL;
		return -ENOMEM;
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

void pt_arena_destroy(struct pt_arena *a)
{
	if (a->buf)
		munmap(a->buf, a->size ? a->size : a->nr_units * ARENA_UNIT);
	if (a->counts)
		munmap(a->counts, arena_counts_bytes(a));
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
	if (!arena_range_free(a, first, last - first))
		return -EBUSY;
	arena_mark(a, first, last - first, true);
	return 0;
}
