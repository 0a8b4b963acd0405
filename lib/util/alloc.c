// SPDX-License-Identifier: MIT
/*
 * alloc.c - the allocation wrapper with per-thread fail-nth injection.
 *
 * State is thread-local, so concurrent tests never disturb each other and no
 * lock is needed. A failure consumes the armed count; the caller sees a NULL
 * exactly like a real out-of-memory and must unwind.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/alloc.h"

static _Thread_local unsigned long fail_countdown;
static _Thread_local unsigned long alloc_calls;

static inline int should_fail(void)
{
	alloc_calls++;
	if (fail_countdown && --fail_countdown == 0)
		return 1;
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
	fail_countdown = n;
}

unsigned long ualloc_fail_nth_pending(void)
{
	return fail_countdown;
}

unsigned long ualloc_count(void)
{
	return alloc_calls;
}
