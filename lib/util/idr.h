/* SPDX-License-Identifier: MIT */
/*
 * ID allocator: small integer IDs, lowest free first, starting at 1, each
 * mapping to a pointer. The userspace analogue of an xarray with
 * XA_FLAGS_ALLOC1, as iommufd uses for its object table.
 *
 * An ID is free, reserved (allocated, value NULL, invisible to lookups and
 * iteration) or published (allocated, value non-NULL). The two-step pattern
 * of iommufd_object_alloc() / _finalize():
 *
 *	id = idr_reserve(&idr);        // the ID is taken, lookups see NULL
 *	... build the object, which may fail: idr_remove(&idr, id) ...
 *	idr_store(&idr, id, obj);      // now idr_find() returns it
 *
 * Not internally locked: the owner serialises writers against readers.
 */
#ifndef UIOMMU_UTIL_IDR_H
#define UIOMMU_UTIL_IDR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct idr {
	void **slots;	   /* slots[id - 1] */
	uint64_t *free;	   /* bit per slot, set = free */
	uint64_t *summary; /* bit per word of free[], set = that word has a free bit */
	uint32_t nr_slots; /* capacity, a multiple of 64 */
	uint32_t hint;	   /* no free bit in summary words below this index */
	uint32_t count;	   /* allocated IDs (reserved or published) */
	int max_id;
};

#define IDR_MAX INT_MAX

/* An empty table allocating IDs 1..IDR_MAX, or 1..max_id. Allocates nothing. */
void idr_init(struct idr *idr);
void idr_init_max(struct idr *idr, int max_id);
/* Free the table itself (not what the entries point to); idr is then empty. */
void idr_destroy(struct idr *idr);

/*
 * Allocate the lowest free ID and set its value to @ptr (NULL reserves it).
 * Returns the ID (>= 1), -ENOSPC when every ID up to max_id is taken, or
 * -ENOMEM; on error the table is unchanged.
 */
int idr_alloc(struct idr *idr, void *ptr);

static inline int idr_reserve(struct idr *idr)
{
	return idr_alloc(idr, NULL);
}

/*
 * Set the value of the allocated @id (publish a reservation, replace a value,
 * or store NULL to hide it again). Returns 0, or -ENOENT if @id is not
 * allocated. Never allocates.
 */
int idr_store(struct idr *idr, int id, void *ptr);

/* The value of @id, NULL when free or reserved. O(1). */
void *idr_find(const struct idr *idr, int id);

/* True when @id is allocated (reserved or published). */
bool idr_is_allocated(const struct idr *idr, int id);

/*
 * Free @id and return the value it held (NULL if it was reserved or not
 * allocated). The ID becomes the lowest-free candidate again.
 */
void *idr_remove(struct idr *idr, int id);

/* Allocated IDs, reserved ones included. */
static inline unsigned int idr_count(const struct idr *idr)
{
	return idr->count;
}

/*
 * The first published entry with ID >= *id: returns its value and sets *id,
 * or returns NULL when there is none.
 */
void *idr_get_next(const struct idr *idr, int *id);

/*
 * Check the invariants (count, free/summary agreement, hint, NULL values of
 * free slots). Returns 0 or -EUCLEAN with *why set. O(capacity); for tests.
 */
int idr_check(const struct idr *idr, const char **why);

/* Visit every published entry in ID order. Removing the current entry is allowed. */
#define idr_for_each_entry(idr, entry, id) \
	for ((id) = 1; ((entry) = idr_get_next(idr, &(id))) != NULL; (id)++)

#endif
