// SPDX-License-Identifier: MIT
/*
 * idr.c - lowest-free ID allocation from 1, mapping IDs to pointers.
 *
 * What it owns: three arrays sized by the capacity (always a multiple of
 * 64 slots), grown by doubling:
 *
 *   slots[i]    the value of ID i + 1; NULL when free or reserved
 *   free[w]     bit b set <=> slot 64 w + b is free
 *   summary[s]  bit b set <=> free[64 s + b] != 0
 *
 * The lowest free slot is the first set bit of the first non-zero summary
 * word, then of the free word it names: two count-trailing-zeros once the
 * summary word is found. To avoid rescanning the summary from the start,
 * @hint records that every summary word below it is zero; freeing an ID
 * lowers the hint to that ID's summary word. So allocation is O(1) amortised
 * (a summary word covers 4096 IDs) and removal is O(1).
 *
 * Invariants: count = number of clear bits in free[]; summary matches free
 * exactly; every summary word below hint is zero; slots of free IDs are
 * NULL. IDs above max_id are never handed out even when the capacity (a
 * multiple of 64) reaches past it.
 *
 * Failure: only growing allocates. Growth builds the three new arrays
 * before touching the table, so -ENOMEM (from any of the three ucalloc()
 * calls, fail-nth included) leaves the table exactly as it was.
 *
 * Locking: none. The owner serialises idr_alloc / idr_store / idr_remove
 * against each other and against idr_find and iteration.
 */
#include <errno.h>
#include <string.h>

#include "util/alloc.h"
#include "util/idr.h"

#define WORD_BITS 64u

static inline uint32_t words_for(uint32_t bits)
{
	return (bits + WORD_BITS - 1) / WORD_BITS;
}

void idr_init_max(struct idr *idr, int max_id)
{
	memset(idr, 0, sizeof(*idr));
	idr->max_id = max_id < 0 ? 0 : max_id;
}

void idr_init(struct idr *idr)
{
	idr_init_max(idr, IDR_MAX);
}

void idr_destroy(struct idr *idr)
{
	int max_id = idr->max_id;

	ufree(idr->slots);
	ufree(idr->free);
	ufree(idr->summary);
	idr_init_max(idr, max_id);
}

static inline bool slot_is_free(const struct idr *idr, uint32_t slot)
{
	return idr->free[slot / WORD_BITS] & (1ULL << (slot % WORD_BITS));
}

static void mark_used(struct idr *idr, uint32_t slot)
{
	uint32_t w = slot / WORD_BITS;

	idr->free[w] &= ~(1ULL << (slot % WORD_BITS));
	if (!idr->free[w])
		idr->summary[w / WORD_BITS] &= ~(1ULL << (w % WORD_BITS));
}

static void mark_free(struct idr *idr, uint32_t slot)
{
	uint32_t w = slot / WORD_BITS, s = w / WORD_BITS;

	idr->free[w] |= 1ULL << (slot % WORD_BITS);
	idr->summary[s] |= 1ULL << (w % WORD_BITS);
	if (s < idr->hint)
		idr->hint = s;
}

/* Lowest free slot within the capacity; false when every slot is taken. */
static bool lowest_free(struct idr *idr, uint32_t *slot)
{
	uint32_t nsum = words_for(words_for(idr->nr_slots));

	for (uint32_t s = idr->hint; s < nsum; s++) {
		uint64_t sw = idr->summary[s];
		uint32_t w;

		if (!sw)
			continue;
		idr->hint = s;
		w = s * WORD_BITS + (uint32_t)__builtin_ctzll(sw);
		*slot = w * WORD_BITS + (uint32_t)__builtin_ctzll(idr->free[w]);
		return true;
	}
	idr->hint = nsum;
	return false;
}

/* Double the capacity (64 at first), never beyond max_id rounded up to 64. */
static int grow(struct idr *idr)
{
	uint32_t old = idr->nr_slots, limit = words_for((uint32_t)idr->max_id) * WORD_BITS;
	uint32_t new = old ? old * 2 : WORD_BITS;
	uint32_t old_words = old / WORD_BITS, new_words, old_sum, new_sum;
	uint64_t *nfree = NULL, *nsum = NULL;
	void **nslots;

	if (new > limit || new < old)
		new = limit;
	if (new <= old)
		return -ENOSPC;
	new_words = new / WORD_BITS;
	old_sum = words_for(old_words);
	new_sum = words_for(new_words);

	nslots = ucalloc(new, sizeof(*nslots));
	if (!nslots)
		goto err;
	nfree = ucalloc(new_words, sizeof(*nfree));
	if (!nfree)
		goto err;
	nsum = ucalloc(new_sum, sizeof(*nsum));
	if (!nsum)
		goto err;

	if (old) {
		memcpy(nslots, idr->slots, old * sizeof(*nslots));
		memcpy(nfree, idr->free, old_words * sizeof(*nfree));
		memcpy(nsum, idr->summary, old_sum * sizeof(*nsum));
	}
	for (uint32_t w = old_words; w < new_words; w++) {
		nfree[w] = ~0ULL;
		nsum[w / WORD_BITS] |= 1ULL << (w % WORD_BITS);
	}

	ufree(idr->slots);
	ufree(idr->free);
	ufree(idr->summary);
	idr->slots = nslots;
	idr->free = nfree;
	idr->summary = nsum;
	idr->nr_slots = new;
	/* The first new word may share a summary word with the last old ones. */
	if (idr->hint > old_words / WORD_BITS)
		idr->hint = old_words / WORD_BITS;
	return 0;

err:
	ufree(nslots);
	ufree(nfree);
	return -ENOMEM;
}

int idr_alloc(struct idr *idr, void *ptr)
{
	uint32_t slot;
	int ret;

	if (!lowest_free(idr, &slot)) {
		if (idr->nr_slots >= (uint32_t)idr->max_id)
			return -ENOSPC;
		ret = grow(idr);
		if (ret)
			return ret;
		if (!lowest_free(idr, &slot))
			return -ENOSPC; /* cannot happen: growth added free slots */
	}
	if (slot >= (uint32_t)idr->max_id)
		return -ENOSPC;
	mark_used(idr, slot);
	idr->slots[slot] = ptr;
	idr->count++;
	return (int)slot + 1;
}

bool idr_is_allocated(const struct idr *idr, int id)
{
	if (id < 1 || (uint32_t)id > idr->nr_slots)
		return false;
	return !slot_is_free(idr, (uint32_t)id - 1);
}

int idr_store(struct idr *idr, int id, void *ptr)
{
	if (!idr_is_allocated(idr, id))
		return -ENOENT;
	idr->slots[id - 1] = ptr;
	return 0;
}

void *idr_find(const struct idr *idr, int id)
{
	if (id < 1 || (uint32_t)id > idr->nr_slots)
		return NULL;
	return idr->slots[id - 1]; /* NULL for free and reserved slots alike */
}

void *idr_remove(struct idr *idr, int id)
{
	void *old;

	if (!idr_is_allocated(idr, id))
		return NULL;
	old = idr->slots[id - 1];
	idr->slots[id - 1] = NULL;
	mark_free(idr, (uint32_t)id - 1);
	idr->count--;
	return old;
}

void *idr_get_next(const struct idr *idr, int *id)
{
	uint32_t slot = *id < 1 ? 0 : (uint32_t)*id - 1;

	for (; slot < idr->nr_slots; slot++) {
		/* Skip whole words of free slots. */
		if (!(slot % WORD_BITS) && idr->free[slot / WORD_BITS] == ~0ULL) {
			slot += WORD_BITS - 1;
			continue;
		}
		if (idr->slots[slot]) {
			*id = (int)slot + 1;
			return idr->slots[slot];
		}
	}
	return NULL;
}

int idr_check(const struct idr *idr, const char **why)
{
	uint32_t nwords = idr->nr_slots / WORD_BITS, used = 0;
	const char *msg = NULL;

	if (idr->nr_slots % WORD_BITS)
		msg = "capacity not a multiple of 64";
	for (uint32_t w = 0; !msg && w < nwords; w++) {
		bool sum = idr->summary[w / WORD_BITS] & (1ULL << (w % WORD_BITS));

		if (sum != (idr->free[w] != 0))
			msg = "summary disagrees with free bitmap";
		else if (idr->free[w] && w / WORD_BITS < idr->hint)
			msg = "free slot below the hint";
		used += WORD_BITS - (uint32_t)__builtin_popcountll(idr->free[w]);
		for (uint32_t b = 0; !msg && b < WORD_BITS; b++)
			if ((idr->free[w] & (1ULL << b)) && idr->slots[w * WORD_BITS + b])
				msg = "free slot holds a value";
	}
	if (!msg && used != idr->count)
		msg = "count";
	if (!msg && nwords % WORD_BITS && idr->summary[nwords / WORD_BITS] >> (nwords % WORD_BITS))
		msg = "summary bits beyond the capacity";
	if (!msg)
		return 0;
	if (why)
		*why = msg;
	return -EUCLEAN;
}
