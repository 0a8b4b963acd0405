/* SPDX-License-Identifier: MIT */
/*
 * Intrusive augmented red-black interval tree over 64-bit closed ranges
 * [start, last], with iommufd-style span iterators for IOVA allocation.
 *
 * Embed a struct interval_tree_node in your object, set ->start and ->last
 * (inclusive, start <= last), insert it, and get back to the object with
 * container_of(). Ranges may overlap and may share a start; the tree orders
 * nodes by start (equal starts keep no particular order).
 *
 *   interval_tree_iter_first / _iter_next   nodes overlapping [start, last]
 *                                            in start order, O(log n) each
 *   interval_tree_span_iter                  [first, last] cut into maximal
 *                                            used spans and holes
 *   interval_tree_double_span_iter           the same over two trees; the
 *                                            first tree takes priority
 *   interval_tree_find_hole                  lowest aligned free range
 *
 * Not internally locked: the owner serialises writers against everything
 * else (iommufd holds iova_rwsem the same way).
 */
#ifndef UIOMMU_UTIL_INTERVAL_TREE_H
#define UIOMMU_UTIL_INTERVAL_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct interval_tree_node {
	struct interval_tree_node *parent;
	struct interval_tree_node *left;
	struct interval_tree_node *right;
	uint64_t start;
	uint64_t last;	       /* inclusive */
	uint64_t subtree_last; /* max ->last in the subtree rooted here (maintained by the tree) */
	bool red;
};

struct interval_tree_root {
	struct interval_tree_node *node;
};

#define INTERVAL_TREE_ROOT_INIT ((struct interval_tree_root){ NULL })

static inline bool interval_tree_empty(const struct interval_tree_root *root)
{
	return !root->node;
}

/* @node->start and @node->last must be set, start <= last. O(log n). */
void interval_tree_insert(struct interval_tree_node *node, struct interval_tree_root *root);
/* @node must be in @root. O(log n). The node's link fields are left undefined. */
void interval_tree_remove(struct interval_tree_node *node, struct interval_tree_root *root);

/*
 * First node (lowest start) overlapping [start, last], or NULL; then the next
 * such node after @node in start order. A node overlaps when
 * node->start <= last && node->last >= start.
 */
struct interval_tree_node *interval_tree_iter_first(const struct interval_tree_root *root,
						    uint64_t start, uint64_t last);
struct interval_tree_node *interval_tree_iter_next(const struct interval_tree_node *node,
						   uint64_t start, uint64_t last);

/* Every node in start order. */
struct interval_tree_node *interval_tree_first(const struct interval_tree_root *root);
struct interval_tree_node *interval_tree_next(const struct interval_tree_node *node);

/*
 * Check every invariant: parent links, start order, root black, no red node
 * with a red child, equal black height on every path, subtree_last exact.
 * Returns the number of nodes, or -EUCLEAN (with *why set when non-NULL)
 * on the first violation. O(n); for tests and debug builds.
 */
long interval_tree_check(const struct interval_tree_root *root, const char **why);

/* ------------------------------------------------------------------------ */
/* Span iteration                                                           */

/*
 * Cuts [first_index, last_index] into alternating maximal spans: a used span
 * is a run of indices each covered by at least one node (touching nodes
 * merge), a hole is a run covered by none. Both are clipped to the range.
 *
 *	struct interval_tree_span_iter span;
 *
 *	interval_tree_for_each_span(&span, &root, 0x1000, 0xffff) {
 *		if (span.is_hole)
 *			use(span.start_hole, span.last_hole);
 *	}
 *
 * The tree must not change during the iteration, except through
 * interval_tree_span_iter_advance() which restarts at a later index.
 */
struct interval_tree_span_iter {
	/* private */
	const struct interval_tree_root *root;
	uint64_t last_index;
	/* public */
	union {
		uint64_t start_hole;
		uint64_t start_used;
	};
	union {
		uint64_t last_hole;
		uint64_t last_used;
	};
	int is_hole; /* 1: hole, 0: used span, -1: done */
};

void interval_tree_span_iter_first(struct interval_tree_span_iter *iter,
				   const struct interval_tree_root *root, uint64_t first_index,
				   uint64_t last_index);
void interval_tree_span_iter_next(struct interval_tree_span_iter *iter);
/* Restart at @new_index (> the current span's start); done if past last_index. */
void interval_tree_span_iter_advance(struct interval_tree_span_iter *iter,
				     const struct interval_tree_root *root, uint64_t new_index);

static inline bool interval_tree_span_iter_done(const struct interval_tree_span_iter *iter)
{
	return iter->is_hole == -1;
}

#define interval_tree_for_each_span(span, root, first_index, last_index)         \
	for (interval_tree_span_iter_first(span, root, first_index, last_index); \
	     !interval_tree_span_iter_done(span); interval_tree_span_iter_next(span))

/*
 * Spans over the union of two trees. Each index is classified as covered by
 * itrees[0] (is_used = 1), else covered by itrees[1] (is_used = 2), else a
 * hole (is_used = 0); spans are maximal runs of one class, so the same
 * is_used never repeats on adjacent spans. is_used = -1 when done.
 */
struct interval_tree_double_span_iter {
	/* private */
	const struct interval_tree_root *itrees[2];
	uint64_t last_index;
	/* public */
	union {
		uint64_t start_hole;
		uint64_t start_used;
	};
	union {
		uint64_t last_hole;
		uint64_t last_used;
	};
	int is_used;
};

void interval_tree_double_span_iter_first(struct interval_tree_double_span_iter *iter,
					  const struct interval_tree_root *itree0,
					  const struct interval_tree_root *itree1,
					  uint64_t first_index, uint64_t last_index);
void interval_tree_double_span_iter_next(struct interval_tree_double_span_iter *iter);

static inline bool
interval_tree_double_span_iter_done(const struct interval_tree_double_span_iter *iter)
{
	return iter->is_used == -1;
}

#define interval_tree_for_each_double_span(span, itree0, itree1, first_index, last_index)         \
	for (interval_tree_double_span_iter_first(span, itree0, itree1, first_index, last_index); \
	     !interval_tree_double_span_iter_done(span);                                          \
	     interval_tree_double_span_iter_next(span))

/*
 * Lowest @align-aligned address A with [A, A + length - 1] inside
 * [start, last] and covered by no node (of either tree, for the double
 * variant; @itree1 may be NULL). @align is a power of two (0 means 1).
 * Returns 0 with *out = A, -EINVAL for length 0, a bad alignment or
 * start > last, -ENOSPC when no such range exists. Cost: O(log n) per span
 * visited before the first fit.
 */
int interval_tree_find_hole(const struct interval_tree_root *root, uint64_t start, uint64_t last,
			    uint64_t length, uint64_t align, uint64_t *out);
int interval_tree_double_find_hole(const struct interval_tree_root *itree0,
				   const struct interval_tree_root *itree1, uint64_t start,
				   uint64_t last, uint64_t length, uint64_t align, uint64_t *out);

#endif
