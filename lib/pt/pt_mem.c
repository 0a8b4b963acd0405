// SPDX-License-Identifier: MIT
/*
 * pt_mem.c - memory ports: where a "physical" address in a descriptor
 * lives in this process.
 *
 * The host port is the identity: one region covering the whole address
 * space with a zero host pointer, tables from the allocation wrapper. It is
 * only ever used for tables this library built, whose descriptors point at
 * memory the program handed us.
 *
 * An arena is one buffer shown at a chosen base (reserved lazily: only the
 * pages something touches become resident, so an arena can stand for a
 * large guest address space). Its tables come from a
 * first-fit bitmap of 4 KiB units; an allocation of n units is aligned to
 * its own (power-of-two rounded) size, as the architectures require of
 * tables. Anything that reads through an arena port is bounded by it: a
 * descriptor pointing outside gives a walk abort, never a stray read.
 *
 * Descriptor reads and CAS are 64-bit aligned atomics (acquire / acq_rel),
 * byte-swapped for big-endian formats (TCE).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "pt/pt.h"
#include "util/alloc.h"
#include "util/bits.h"

static int host_alloc_table(struct pt_mem *mem, size_t size, uint64_t *pa, void **ptr)
{
	void *p = ualloc_aligned(size < 64 ? 64 : size, size);

	if (!p)
		return -ENOMEM;
	*ptr = p;
	*pa = (uint64_t)(uintptr_t)p;
	return 0;
}

static void host_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
	ufree(ptr);
}

struct pt_mem pt_mem_host = {
	.nr_regions = 1,
	.region = { { .base = 0, .size = UINT64_MAX, .host = NULL } },
	.alloc_table = host_alloc_table,
	.free_table = host_free_table,
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

static int arena_alloc_table(struct pt_mem *mem, size_t size, uint64_t *pa, void **ptr)
{
	struct pt_arena *a = container_of(mem, struct pt_arena, mem);
	uint64_t align = size <= ARENA_UNIT ? ARENA_UNIT : (1ULL << (64 - __builtin_clzll(size - 1)));
	int ret = pt_arena_alloc(a, size, align, pa);

	if (ret)
		return ret;
	*ptr = a->buf + (*pa - a->base);
	memset(*ptr, 0, ALIGN_UP(size, ARENA_UNIT));
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
	if (!a->used) {
		munmap(a->buf, size);
		a->buf = NULL;
		return -ENOMEM;
	}
	a->base = base;
	a->size = size;
	a->mem.nr_regions = 1;
	a->mem.region[0] = (struct pt_mem_region){ .base = base, .size = size, .host = a->buf };
	a->mem.alloc_table = arena_alloc_table;
	a->mem.free_table = arena_free_table;
	return 0;
}

void pt_arena_destroy(struct pt_arena *a)
{
	if (a->buf)
		munmap(a->buf, a->size);
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
