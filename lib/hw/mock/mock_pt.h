/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/mock/mock_pt.h - the mock IOMMU's page-table format (internal to
 * the mock model; mock_pt.c says what the format is and why it exists).
 *
 * A struct pt_table of this format is an ordinary lib/pt table: pt_map,
 * pt_unmap, pt_iova_to_phys, pt_for_each_leaf, pt_table_walk and pt_dump
 * all work on it. What only this format has is a dirty bit per leaf, set
 * by "hardware" (a device write, or the selftest's DIRTY op) and read and
 * cleared by dirty tracking; the functions below reach it.
 */
#ifndef UIOMMU_HW_MOCK_PT_H
#define UIOMMU_HW_MOCK_PT_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"

#define MOCK_PT_PAGE_SHIFT 11			  /* 2 KiB leaves at the last level */
#define MOCK_PT_HUGE_SHIFT 20			  /* 1 MiB leaves one level up */
#define MOCK_PT_IAS	   38			  /* three levels of 512 entries */
#define MOCK_PT_IOVA_LAST  ((1ULL << MOCK_PT_IAS) - 1)
#define MOCK_PT_OAS	   56			  /* host addresses: bits [55:11] */

extern const struct pt_fmt mock_pt_fmt;

/* A mock table in host memory (pt_mem_host). 0 or -ENOMEM. */
int mock_pt_init(struct pt_table *t);
void mock_pt_destroy(struct pt_table *t);

/*
 * Map [iova, iova + size) to [pa, pa + size) with leaves of exactly
 * @leaf_size bytes (2 KiB, or 1 MiB where iova and pa allow it; any other
 * size maps 2 KiB leaves). pt_map rules and errors; all or nothing.
 */
int mock_pt_map(struct pt_table *t, uint64_t iova, uint64_t pa, uint64_t size,
		unsigned int prot, uint64_t leaf_size);

/* Set the dirty bit of the leaf that maps @iova. false when nothing maps it. */
bool mock_pt_set_dirty(struct pt_table *t, uint64_t iova);

/*
 * For every leaf that intersects [start, last] and is dirty, call
 * @fn(@arg, leaf IOVA, leaf size), in address order, and clear its dirty
 * bit unless @no_clear. Clearing is per leaf: a dirty 1 MiB leaf is clean
 * afterwards even if the range covered only part of it.
 */
typedef void (*mock_pt_dirty_fn)(void *arg, uint64_t iova, uint64_t size);
void mock_pt_read_and_clear_dirty(struct pt_table *t, uint64_t start, uint64_t last,
				  bool no_clear, mock_pt_dirty_fn fn, void *arg);

/* The leaf that maps @iova: its size and dirty bit. -ENOENT when none. */
int mock_pt_leaf_info(const struct pt_table *t, uint64_t iova, uint64_t *size, bool *dirty);

/*
 * A device access (PT_PROT_R / PT_PROT_W) to @iova: the host address, or
 * -ENOENT (nothing mapped) / -EACCES (the leaf lacks the permission). A
 * write sets the leaf's dirty bit when @track_dirty, as hardware with
 * dirty tracking enabled does. Lock-free; safe against concurrent map,
 * unmap and dirty reads as far as descriptor stores are atomic (tables
 * freed by unmap are the caller's to keep alive, see DESIGN.md §3).
 */
int mock_pt_translate(const struct pt_table *t, uint64_t iova, unsigned int access,
		      bool track_dirty, uint64_t *pa);
/* The same, also giving the size of the leaf that maps @iova (NULL: not wanted). */
int mock_pt_translate_leaf(const struct pt_table *t, uint64_t iova, unsigned int access,
			   bool track_dirty, uint64_t *pa, uint64_t *leaf_size);

#endif
