// SPDX-License-Identifier: MIT
/*
 * interval_tree.c - an intrusive red-black tree of closed ranges, augmented
 * with the largest "last" of every subtree, and the span iterators that the
 * IOVA allocator builds on.
 *
 * What it owns: nothing but the link fields (parent, left, right, red,
 * subtree_last) of the nodes handed to it. Nodes live in the caller's
 * objects; the tree never allocates, so no operation here can fail.
 *
 * Invariants, all checked by interval_tree_check():
 *  - In-order traversal visits nodes in non-decreasing ->start.
 *  - Red-black: the root is black, a red node has no red child, and every
 *    path from a node down to a missing child passes the same number of
 *    black nodes. Together these bound the height by 2 log2(n + 1).
 *  - Augmentation: n->subtree_last = max(n->last, subtree_last of each
 *    child). It lets a search skip any subtree whose subtree_last is below
 *    the query's start, which is what makes overlap queries O(log n) plus
 *    O(log n) per reported node.
 *
 * Keeping subtree_last exact:
 *  - Insert raises subtree_last on the way down (the new node lies in every
 *    subtree it descends through), so all values are exact before the
 *    rebalancing rotations start.
 *  - Remove first unlinks the node (or its in-order successor, which takes
 *    its place) and recomputes every value from the lowest changed position
 *    to the root; then the rebalancing rotations run on exact values.
 *  - A rotation moves a subtree's top from x to y without changing the set
 *    of nodes in it, so y inherits x's old value and only x is recomputed.
 *    Recolouring never touches the augmentation.
 *
 * Span iteration is built from one primitive, span_at(): from an index,
 * find the longest run that is either all covered or all uncovered. A used
 * run is grown by asking for the next node in start order that reaches past
 * the current end (iter_next over [end + 1, last_index]); nodes nested inside
 * the run are pruned by subtree_last and never visited.
 *
 * Ranges are inclusive everywhere; every "x + 1" below is guarded by a
 * comparison that proves x < UINT64_MAX, so a range ending at 2^64 - 1 is
 * handled without wrapping.
 *
 * Locking: none. The tree is not internally locked; its owner serialises
 * any writer against all readers and iterators.
 */
#include <errno.h>

#include "util/bits.h"
#include "util/interval_tree.h"

typedef struct interval_tree_node itnode;

static inline uint64_t node_subtree_last(const itnode *n)
{
	uint64_t v = n->last;

	if (n->left && n->left->subtree_last > v)
		v = n->left->subtree_last;
	if (n->right && n->right->subtree_last > v)
		v = n->right->subtree_last;
	return v;
}

static inline bool is_red(const itnode *n)
{
	return n && n->red;
}

/* Make @parent's link that pointed at @old point at @new (the root if no parent). */
static inline void replace_child(struct interval_tree_root *root, itnode *parent, itnode *old,
				 itnode *new)
{
	if (!parent)
		root->node = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/*
 * Left and right are mirror images in rotations and in both rebalancing
 * loops, so each is written once for a side @dir (0 left, 1 right) and its
 * mirror !dir.
 */
static inline itnode *child(const itnode *n, int dir)
{
	return dir ? n->right : n->left;
}

static inline void set_child(itnode *n, int dir, itnode *c)
{
	if (dir)
		n->right = c;
	else
		n->left = c;
}

/*
 * Rotate @x down to side @dir; its child y on the other side takes its
 * place. dir 0 (left):
 *
 *     x                y
 *    / \              / \
 *   a   y     ->     x   c
 *      / \          / \
 *     b   c        a   b
 */
static void rotate(struct interval_tree_root *root, itnode *x, int dir)
{
	itnode *y = child(x, !dir);
	itnode *b = child(y, dir);

	set_child(x, !dir, b);
	if (b)
		b->parent = x;
	y->parent = x->parent;
	replace_child(root, x->parent, x, y);
	set_child(y, dir, x);
	x->parent = y;
	y->subtree_last = x->subtree_last;
	x->subtree_last = node_subtree_last(x);
}

/* ---------------------------------------------------------------------- */
/* Insert                                                                 */

static void insert_fixup(struct interval_tree_root *root, itnode *n)
{
	itnode *p, *g, *u;
	int dir;

	/* n is red; the only possible violation is a red parent. */
	while ((p = n->parent) && p->red) {
		g = p->parent; /* exists: a red node is never the root */
		/* The side p hangs on; the uncle is on the other. */
		dir = p == g->right;
		u = child(g, !dir);
		if (is_red(u)) {
			/* Push g's blackness down; the problem moves up two levels. */
			p->red = false;
			u->red = false;
			g->red = true;
			n = g;
			continue;
		}
		if (n == child(p, !dir)) {
			/* Straighten the zig-zag so n becomes an outer grandchild. */
			rotate(root, p, dir);
			n = p;
			p = n->parent;
		}
		p->red = false;
		g->red = true;
		rotate(root, g, !dir);
	}
	root->node->red = false;
}

void interval_tree_insert(struct interval_tree_node *node, struct interval_tree_root *root)
{
	itnode **link = &root->node, *parent = NULL;
	uint64_t start = node->start, last = node->last;

	while (*link) {
		parent = *link;
		if (parent->subtree_last < last)
			parent->subtree_last = last;
		link = start < parent->start ? &parent->left : &parent->right;
	}
	node->parent = parent;
	node->left = NULL;
	node->right = NULL;
	node->subtree_last = last;
	node->red = true;
	*link = node;
	insert_fixup(root, node);
}

/* ---------------------------------------------------------------------- */
/* Remove                                                                 */

/*
 * Restore the black height after a black node left the position now held by
 * @x (possibly NULL) under @xp: x carries an "extra black" that is pushed up
 * or absorbed by rotations around its sibling w.
 */
static void remove_fixup(struct interval_tree_root *root, itnode *x, itnode *xp)
{
	itnode *w;
	int dir;

	while (x != root->node && !is_red(x)) {
		/* x may be NULL, but then its sibling is not: left means x == xp->left. */
		dir = x != xp->left;
		w = child(xp, !dir); /* exists: that side has black height >= 1 */
		if (w->red) {
			w->red = false;
			xp->red = true;
			rotate(root, xp, dir);
			w = child(xp, !dir);
		}
		if (!is_red(w->left) && !is_red(w->right)) {
			w->red = true;
			x = xp;
			xp = x->parent;
			continue;
		}
		if (!is_red(child(w, !dir))) {
			child(w, dir)->red = false;
			w->red = true;
			rotate(root, w, !dir);
			w = child(xp, !dir);
		}
		w->red = xp->red;
		xp->red = false;
		child(w, !dir)->red = false;
		rotate(root, xp, dir);
		x = root->node;
		break;
	}
	if (x)
		x->red = false;
}

void interval_tree_remove(struct interval_tree_node *z, struct interval_tree_root *root)
{
	itnode *x, *xp, *y;
	bool removed_black;

	if (!z->left || !z->right) {
		/* At most one child: it takes z's place. */
		x = z->left ? z->left : z->right;
		xp = z->parent;
		removed_black = !z->red;
		replace_child(root, xp, z, x);
		if (x)
			x->parent = xp;
	} else {
		/* Two children: z's successor y (leftmost of the right subtree) takes its place. */
		y = z->right;
		while (y->left)
			y = y->left;
		removed_black = !y->red;
		x = y->right;
		if (y->parent == z) {
			xp = y;
		} else {
			xp = y->parent;
			xp->left = x;
			if (x)
				x->parent = xp;
			y->right = z->right;
			z->right->parent = y;
		}
		replace_child(root, z->parent, z, y);
		y->parent = z->parent;
		y->left = z->left;
		z->left->parent = y;
		y->red = z->red;
	}

	/* Every position whose subtree lost a node lies on the path xp .. root. */
	for (itnode *n = xp; n; n = n->parent)
		n->subtree_last = node_subtree_last(n);

	if (removed_black)
		remove_fixup(root, x, xp);
	z->parent = z->left = z->right = NULL;
}

/* ---------------------------------------------------------------------- */
/* Queries                                                                */

/*
 * Lowest-start node in the subtree of @n overlapping [start, last].
 * Precondition: n->subtree_last >= start (some node in it ends late enough).
 */
static itnode *subtree_first(itnode *n, uint64_t start, uint64_t last)
{
	for (;;) {
		/*
		 * If the left subtree holds a node ending at or after start, the
		 * answer (if any) is there: every later node starts no earlier than
		 * the left subtree's first such node.
		 */
		if (n->left && n->left->subtree_last >= start) {
			n = n->left;
			continue;
		}
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
		n = n->right;
		if (!n || n->subtree_last < start)
			return NULL;
	}
}

struct interval_tree_node *interval_tree_iter_first(const struct interval_tree_root *root,
						    uint64_t start, uint64_t last)
{
	itnode *n = root->node;

	if (!n || n->subtree_last < start || start > last)
		return NULL;
	return subtree_first(n, start, last);
}

struct interval_tree_node *interval_tree_iter_next(const struct interval_tree_node *node,
						   uint64_t start, uint64_t last)
{
	itnode *n = (itnode *)node, *p;

	for (;;) {
		/* Anything after n inside its own subtree is in n->right. */
		if (n->right && n->right->subtree_last >= start)
			return subtree_first(n->right, start, last);
		/* Climb to the first ancestor we reach from its left side. */
		for (;;) {
			p = n->parent;
			if (!p)
				return NULL;
			if (p->left == n)
				break;
			n = p;
		}
		n = p;
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
	}
}

struct interval_tree_node *interval_tree_first(const struct interval_tree_root *root)
{
	itnode *n = root->node;

	if (!n)
		return NULL;
	while (n->left)
		n = n->left;
	return n;
}

struct interval_tree_node *interval_tree_next(const struct interval_tree_node *node)
{
	const itnode *n = node;
	itnode *p;

	if (n->right) {
		p = n->right;
		while (p->left)
			p = p->left;
		return p;
	}
	for (p = n->parent; p && p->right == n; p = p->parent)
		n = p;
	return p;
}

/* ---------------------------------------------------------------------- */
/* Checker                                                                */

struct check_ctx {
	long count;
	const char *why;
};

/* Black height of the subtree at @n (1 for a missing child), or -1. */
static int check_subtree(const itnode *n, const itnode *parent, uint64_t lo, uint64_t hi,
			 unsigned int depth, struct check_ctx *c)
{
	int lh, rh;

	if (!n)
		return 1;
	if (depth > 2 * 64) {
		c->why = "tree deeper than any red-black tree can be";
		return -1;
	}
	if (n->parent != parent) {
		c->why = "parent link";
		return -1;
	}
	if (n->start > n->last) {
		c->why = "start > last";
		return -1;
	}
	if (n->start < lo || n->start > hi) {
		c->why = "start order";
		return -1;
	}
	if (n->red && parent && parent->red) {
		c->why = "red node with a red child";
		return -1;
	}
	lh = check_subtree(n->left, n, lo, n->start, depth + 1, c);
	if (lh < 0)
		return -1;
	rh = check_subtree(n->right, n, n->start, hi, depth + 1, c);
	if (rh < 0)
		return -1;
	if (lh != rh) {
		c->why = "black height differs";
		return -1;
	}
	if (n->subtree_last != node_subtree_last(n)) {
		c->why = "subtree_last";
		return -1;
	}
	c->count++;
	return lh + !n->red;
}

long interval_tree_check(const struct interval_tree_root *root, const char **why)
{
	struct check_ctx c = { 0 };

	if (root->node && root->node->red)
		c.why = "red root";
	else if (check_subtree(root->node, NULL, 0, UINT64_MAX, 0, &c) >= 0)
		return c.count;
	if (why)
		*why = c.why;
	return -EUCLEAN;
}

/* ---------------------------------------------------------------------- */
/* Spans                                                                  */

/*
 * The maximal run starting at @pos (pos <= last_index), clipped to
 * last_index: *used says whether it is covered, *end where it ends.
 */
static void span_at(const struct interval_tree_root *root, uint64_t pos, uint64_t last_index,
		    bool *used, uint64_t *end)
{
	itnode *n = interval_tree_iter_first(root, pos, last_index);
	uint64_t e;

	if (!n) {
		*used = false;
		*end = last_index;
		return;
	}
	if (n->start > pos) {
		/* n is the first node reaching pos or beyond, so nothing covers [pos, start). */
		*used = false;
		*end = n->start - 1;
		return;
	}
	e = n->last;
	while (e < last_index) {
		/* Next node in start order that reaches past e; nested ones are skipped. */
		n = interval_tree_iter_next(n, e + 1, last_index);
		if (!n || n->start > e + 1)
			break;
		e = n->last;
	}
	*used = true;
	*end = MIN(e, last_index);
}

static void span_fill(struct interval_tree_span_iter *iter, uint64_t pos)
{
	bool used;

	span_at(iter->root, pos, iter->last_index, &used, &iter->last_hole);
	iter->start_hole = pos;
	iter->is_hole = !used;
}

void interval_tree_span_iter_first(struct interval_tree_span_iter *iter,
				   const struct interval_tree_root *root, uint64_t first_index,
				   uint64_t last_index)
{
	iter->root = root;
	iter->last_index = last_index;
	if (first_index > last_index) {
		iter->is_hole = -1;
		return;
	}
	span_fill(iter, first_index);
}

void interval_tree_span_iter_next(struct interval_tree_span_iter *iter)
{
	if (iter->is_hole == -1)
		return;
	if (iter->last_hole >= iter->last_index) {
		iter->is_hole = -1;
		return;
	}
	span_fill(iter, iter->last_hole + 1);
}

void interval_tree_span_iter_advance(struct interval_tree_span_iter *iter,
				     const struct interval_tree_root *root, uint64_t new_index)
{
	if (iter->is_hole == -1)
		return;
	iter->root = root;
	if (new_index > iter->last_index) {
		iter->is_hole = -1;
		return;
	}
	span_fill(iter, new_index);
}

static void double_span_fill(struct interval_tree_double_span_iter *iter, uint64_t pos)
{
	uint64_t end;
	bool used;

	iter->start_used = pos;
	span_at(iter->itrees[0], pos, iter->last_index, &used, &end);
	if (used) {
		iter->is_used = 1;
	} else if (iter->itrees[1]) {
		/* A hole of tree 0 up to end: split it by what tree 1 covers. */
		span_at(iter->itrees[1], pos, end, &used, &end);
		iter->is_used = used ? 2 : 0;
	} else {
		iter->is_used = 0;
	}
	iter->last_used = end;
}

void interval_tree_double_span_iter_first(struct interval_tree_double_span_iter *iter,
					  const struct interval_tree_root *itree0,
					  const struct interval_tree_root *itree1,
					  uint64_t first_index, uint64_t last_index)
{
	iter->itrees[0] = itree0;
	iter->itrees[1] = itree1;
	iter->last_index = last_index;
	if (first_index > last_index) {
		iter->is_used = -1;
		return;
	}
	double_span_fill(iter, first_index);
}

void interval_tree_double_span_iter_next(struct interval_tree_double_span_iter *iter)
{
	if (iter->is_used == -1)
		return;
	if (iter->last_used >= iter->last_index) {
		iter->is_used = -1;
		return;
	}
	double_span_fill(iter, iter->last_used + 1);
}

/* ---------------------------------------------------------------------- */
/* Hole search                                                            */

/* Does an @align-aligned range of @length fit in the hole [s, l]? */
static bool hole_fits(uint64_t s, uint64_t l, uint64_t length, uint64_t align, uint64_t *out)
{
	uint64_t a = (s + (align - 1)) & ~(align - 1);

	if (a < s || a > l) /* rounding wrapped past 2^64, or left the hole */
		return false;
	if (l - a < length - 1)
		return false;
	*out = a;
	return true;
}

static int hole_args(uint64_t start, uint64_t last, uint64_t length, uint64_t *align)
{
	if (!length || start > last)
		return -EINVAL;
	if (!*align)
		*align = 1;
	if (!is_pow2(*align))
		return -EINVAL;
	if (last - start < length - 1)
		return -ENOSPC;
	return 0;
}

int interval_tree_find_hole(const struct interval_tree_root *root, uint64_t start, uint64_t last,
			    uint64_t length, uint64_t align, uint64_t *out)
{
	struct interval_tree_span_iter span;
	int ret = hole_args(start, last, length, &align);

	if (ret)
		return ret;
	interval_tree_for_each_span(&span, root, start, last) {
		if (span.is_hole && hole_fits(span.start_hole, span.last_hole, length, align, out))
			return 0;
	}
	return -ENOSPC;
}

int interval_tree_double_find_hole(const struct interval_tree_root *itree0,
				   const struct interval_tree_root *itree1, uint64_t start,
				   uint64_t last, uint64_t length, uint64_t align, uint64_t *out)
{
	struct interval_tree_double_span_iter span;
	int ret = hole_args(start, last, length, &align);

	if (ret)
		return ret;
	interval_tree_for_each_double_span(&span, itree0, itree1, start, last) {
		if (!span.is_used && hole_fits(span.start_hole, span.last_hole, length, align, out))
			return 0;
	}
	return -ENOSPC;
}
