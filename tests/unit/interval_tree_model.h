/* SPDX-License-Identifier: MIT */
/*
 * A brute-force model of lib/util/interval_tree for differential testing,
 * shared by tests/unit/test_interval_tree.c (random operations from a
 * seeded PRNG) and tests/fuzz/fuzz_interval_tree.c (operations decoded from
 * the fuzz input).
 *
 * The model is a pool of items, each in tree 0, tree 1 or neither. Queries
 * are confined to a "universe" of ITM_U consecutive indices, placed either
 * at 0 or at the very top of the 64-bit space (so that every "last + 1" of
 * the code under test is exercised at 2^64 - 1). Items may reach far
 * outside the universe (down to 0, up to UINT64_MAX); inside it the model
 * answers every question by looking at each index.
 *
 * After every mutation both trees are checked with interval_tree_check()
 * (colours, black height, order, parent links, subtree_last) and their node
 * counts against the model. Each query operation compares one API against
 * the model: iter_first/iter_next, the span iterator (with a random
 * advance), the double span iterator, and find_hole (single and double).
 */
#ifndef TESTS_INTERVAL_TREE_MODEL_H
#define TESTS_INTERVAL_TREE_MODEL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/bits.h"
#include "util/interval_tree.h"

#define ITM_ITEMS 96
#define ITM_U	  512u

struct itm_item {
	struct interval_tree_node node;
	uint64_t start, last;
	int tree; /* 0, 1, or -1 when in neither */
	bool seen;
};

struct itm {
	struct interval_tree_root roots[2];
	struct itm_item items[ITM_ITEMS];
	uint64_t base; /* universe: base .. base + ITM_U - 1 */
	unsigned long ops;
	char err[256];
	uint8_t cls[ITM_U]; /* scratch: per-index class of the current query */
};

/* Random source: a xorshift PRNG, or fuzz bytes (exhausted = stop). */
struct itm_src {
	const uint8_t *data;
	size_t len, pos;
	uint64_t state;
	bool exhausted;
};

static inline uint32_t itm_rand(struct itm_src *s)
{
	if (s->data) {
		uint32_t v = 0;

		for (int i = 0; i < 4; i++) {
			v <<= 8;
			if (s->pos < s->len)
				v |= s->data[s->pos++];
			else
				s->exhausted = true;
		}
		return v;
	}
	/* xorshift64* */
	s->state ^= s->state >> 12;
	s->state ^= s->state << 25;
	s->state ^= s->state >> 27;
	return (uint32_t)((s->state * 0x2545F4914F6CDD1DULL) >> 32);
}

static inline int itm_fail(struct itm *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(m->err, sizeof(m->err), "op %lu: ", m->ops);
	va_start(ap, fmt);
	vsnprintf(m->err + n, sizeof(m->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static inline void itm_init(struct itm *m, bool top)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < ITM_ITEMS; i++)
		m->items[i].tree = -1;
	m->base = top ? UINT64_MAX - (ITM_U - 1) : 0;
}

/* A random item range: mostly short and inside the universe, sometimes huge. */
static inline void itm_gen_range(struct itm *m, struct itm_src *s, uint64_t *start, uint64_t *last)
{
	uint32_t kind = itm_rand(s) % 16, r = itm_rand(s);
	uint64_t st = m->base + itm_rand(s) % ITM_U, len;

	if (kind == 0) {
		st = m->base ? m->base - 1 - r % 4096 : 0;
		len = m->base - st + r % ITM_U + 1;
	} else {
		len = 1 + r % (kind < 10 ? 8 : kind < 14 ? 64 : 256);
	}
	*start = st;
	*last = (kind == 1 || st + (len - 1) < st) ? UINT64_MAX : st + (len - 1);
}

/* A random query range inside the universe, as offsets from base. */
static inline void itm_gen_query(struct itm_src *s, uint32_t *qs, uint32_t *ql)
{
	*qs = itm_rand(s) % ITM_U;
	*ql = *qs + itm_rand(s) % (ITM_U - *qs);
}

static inline bool itm_overlaps(const struct itm_item *it, uint64_t s, uint64_t l)
{
	return it->start <= l && it->last >= s;
}

static inline int itm_check_trees(struct itm *m)
{
	for (int t = 0; t < 2; t++) {
		const char *why = "?";
		long n = interval_tree_check(&m->roots[t], &why), want = 0;

		for (int i = 0; i < ITM_ITEMS; i++)
			want += m->items[i].tree == t;
		if (n < 0)
			return itm_fail(m, "tree %d invariant broken: %s", t, why);
		if (n != want)
			return itm_fail(m, "tree %d holds %ld nodes, model %ld", t, n, want);
	}
	return 0;
}

static inline int itm_toggle(struct itm *m, struct itm_src *s)
{
	struct itm_item *it = &m->items[itm_rand(s) % ITM_ITEMS];

	if (it->tree >= 0) {
		interval_tree_remove(&it->node, &m->roots[it->tree]);
		it->tree = -1;
	} else {
		itm_gen_range(m, s, &it->start, &it->last);
		it->tree = (int)(itm_rand(s) & 1);
		it->node.start = it->start;
		it->node.last = it->last;
		interval_tree_insert(&it->node, &m->roots[it->tree]);
	}
	return itm_check_trees(m);
}

static inline int itm_check_iter(struct itm *m, struct itm_src *s)
{
	uint32_t oqs, oql;
	int t = (int)(itm_rand(s) & 1);
	uint64_t qs, ql, prev = 0;
	struct interval_tree_node *n;
	int cnt = 0, want = 0;

	itm_gen_query(s, &oqs, &oql);
	qs = m->base + oqs;
	ql = m->base + oql;
	/* Sometimes query everything, far outside the universe too. */
	if (itm_rand(s) % 8 == 0) {
		qs = 0;
		ql = UINT64_MAX;
	}
	for (n = interval_tree_iter_first(&m->roots[t], qs, ql); n;
	     n = interval_tree_iter_next(n, qs, ql)) {
		struct itm_item *it = container_of(n, struct itm_item, node);

		if (it->tree != t)
			return itm_fail(m, "iter on tree %d returned a node of tree %d", t,
					it->tree);
		if (!itm_overlaps(it, qs, ql))
			return itm_fail(m, "iter [%#lx, %#lx] returned [%#lx, %#lx]",
					(unsigned long)qs, (unsigned long)ql,
					(unsigned long)it->start, (unsigned long)it->last);
		if (it->seen)
			return itm_fail(m, "iter returned a node twice");
		if (cnt && it->start < prev)
			return itm_fail(m, "iter out of start order");
		it->seen = true;
		prev = it->start;
		if (++cnt > ITM_ITEMS)
			return itm_fail(m, "iter does not end");
	}
	for (int i = 0; i < ITM_ITEMS; i++) {
		struct itm_item *it = &m->items[i];

		if (it->tree == t && itm_overlaps(it, qs, ql)) {
			want++;
			if (!it->seen)
				return itm_fail(m, "iter [%#lx, %#lx] missed [%#lx, %#lx]",
						(unsigned long)qs, (unsigned long)ql,
						(unsigned long)it->start, (unsigned long)it->last);
		}
		it->seen = false;
	}
	if (cnt != want)
		return itm_fail(m, "iter gave %d nodes, model %d", cnt, want);
	return 0;
}

/*
 * Classify indices oqs..oql (offsets): bit 0 = covered by tree 0, bit 1 =
 * covered by tree 1.
 */
static inline void itm_classify(struct itm *m, uint32_t oqs, uint32_t oql)
{
	memset(m->cls, 0, sizeof(m->cls));
	for (int i = 0; i < ITM_ITEMS; i++) {
		const struct itm_item *it = &m->items[i];
		uint64_t lo, hi;

		if (it->tree < 0 || !itm_overlaps(it, m->base + oqs, m->base + oql))
			continue;
		lo = MAX(it->start, m->base + oqs) - m->base;
		hi = MIN(it->last, m->base + oql) - m->base;
		for (uint64_t o = lo; o <= hi; o++)
			m->cls[o] |= (uint8_t)(1u << it->tree);
	}
}

/* Class of offset @o as the single span iterator of tree @t sees it: 1 used, 0 hole. */
static inline int itm_single_cls(const struct itm *m, int t, uint32_t o)
{
	return (m->cls[o] >> t) & 1;
}

/* Class as the double span iterator reports it: 1 tree 0, 2 tree 1 only, 0 hole. */
static inline int itm_double_cls(const struct itm *m, uint32_t o)
{
	return (m->cls[o] & 1) ? 1 : (m->cls[o] & 2) ? 2 : 0;
}

/*
 * Check one reported span [s, l] of class @c against the model: it must
 * start at *pos, stay in the query, hold class @c at every index, and be
 * maximal on the right. Advances *pos past it.
 */
static inline int itm_check_span(struct itm *m, int t, uint64_t s, uint64_t l, int c, uint32_t *pos,
				 uint32_t oql, bool dbl)
{
	uint32_t os, ol;

	if (s < m->base || l < s || l - m->base > oql)
		return itm_fail(m, "span [%#lx, %#lx] outside the query", (unsigned long)s,
				(unsigned long)l);
	os = (uint32_t)(s - m->base);
	ol = (uint32_t)(l - m->base);
	if (os != *pos)
		return itm_fail(m, "span starts at +%u, expected +%u", os, *pos);
	for (uint32_t o = os; o <= ol; o++) {
		int want = dbl ? itm_double_cls(m, o) : itm_single_cls(m, t, o);

		if (want != c)
			return itm_fail(m, "%s span [+%u, +%u] class %d, model has %d at +%u",
					dbl ? "double" : "single", os, ol, c, want, o);
	}
	if (ol < oql) {
		int next = dbl ? itm_double_cls(m, ol + 1) : itm_single_cls(m, t, ol + 1);

		if (next == c)
			return itm_fail(m, "span [+%u, +%u] not maximal", os, ol);
	}
	*pos = ol + 1;
	return 0;
}

static inline int itm_check_spans(struct itm *m, struct itm_src *s)
{
	struct interval_tree_span_iter span;
	uint32_t oqs, oql, pos, steps = 0, adv_at = itm_rand(s) % 8;
	int t = (int)(itm_rand(s) & 1);

	itm_gen_query(s, &oqs, &oql);
	itm_classify(m, oqs, oql);
	pos = oqs;
	interval_tree_for_each_span(&span, &m->roots[t], m->base + oqs, m->base + oql) {
		if (itm_check_span(m, t, span.start_used, span.last_used, !span.is_hole, &pos, oql,
				   false))
			return -1;
		if (steps++ == adv_at) {
			/* Jump ahead: anywhere after the span's start, possibly past the end. */
			uint32_t to = (uint32_t)(span.start_used - m->base) + 1 +
				      itm_rand(s) % (ITM_U - (uint32_t)(span.start_used - m->base));

			if (m->base + to < m->base)
				to = ITM_U - 1; /* base + ITM_U is 2^64 at the top: not an index */
			interval_tree_span_iter_advance(&span, &m->roots[t], m->base + to);
			if (to > oql) {
				if (!interval_tree_span_iter_done(&span))
					return itm_fail(m, "advance past the end is not done");
				pos = oql + 1;
				break;
			}
			pos = to;
			/* The new first span need not be maximal on the left; check it like any. */
			if (itm_check_span(m, t, span.start_used, span.last_used, !span.is_hole,
					   &pos, oql, false))
				return -1;
		}
		if (steps > 2 * ITM_U)
			return itm_fail(m, "span iterator does not end");
	}
	if (pos != oql + 1)
		return itm_fail(m, "spans end at +%u, query at +%u", pos - 1, oql);
	return 0;
}

static inline int itm_check_double_spans(struct itm *m, struct itm_src *s)
{
	struct interval_tree_double_span_iter span;
	uint32_t oqs, oql, pos, steps = 0;

	itm_gen_query(s, &oqs, &oql);
	itm_classify(m, oqs, oql);
	pos = oqs;
	interval_tree_for_each_double_span(&span, &m->roots[0], &m->roots[1], m->base + oqs,
					   m->base + oql) {
		if (itm_check_span(m, 0, span.start_used, span.last_used, span.is_used, &pos, oql,
				   true))
			return -1;
		if (++steps > 2 * ITM_U)
			return itm_fail(m, "double span iterator does not end");
	}
	if (pos != oql + 1)
		return itm_fail(m, "double spans end at +%u, query at +%u", pos - 1, oql);
	return 0;
}

static inline int itm_check_hole(struct itm *m, struct itm_src *s)
{
	uint32_t oqs, oql, len = 1 + itm_rand(s) % 48, align = 1u << (itm_rand(s) % 7);
	bool dbl = itm_rand(s) & 1;
	uint64_t got = 0, want = 0, qs, ql;
	int ret, want_ret = -ENOSPC;

	itm_gen_query(s, &oqs, &oql);
	itm_classify(m, oqs, oql);
	qs = m->base + oqs;
	ql = m->base + oql;
	/* Every aligned candidate, lowest first; the universe's base is 64-aligned. */
	for (uint64_t a = ALIGN_UP(qs, align); a >= qs && a <= ql && ql - a >= len - 1;
	     a += align) {
		bool free_range = true;

		for (uint64_t o = a - m->base; o < a - m->base + len; o++) {
			if (dbl ? m->cls[o] != 0 : (m->cls[o] & 1) != 0) {
				free_range = false;
				break;
			}
		}
		if (free_range) {
			want = a;
			want_ret = 0;
			break;
		}
		if (a + align < a)
			break;
	}
	if (dbl)
		ret = interval_tree_double_find_hole(&m->roots[0], &m->roots[1], qs, ql, len, align,
						     &got);
	else
		ret = interval_tree_find_hole(&m->roots[0], qs, ql, len, align, &got);
	if (ret != want_ret || (!ret && got != want))
		return itm_fail(
			m, "%s find_hole [+%u, +%u] len %u align %u: got %d/+%ld, model %d/+%ld",
			dbl ? "double" : "single", oqs, oql, len, align, ret,
			ret ? -1L : (long)(got - m->base), want_ret,
			want_ret ? -1L : (long)(want - m->base));
	return 0;
}

/* One random operation. Returns 0, or -1 with m->err set. */
static inline int itm_step(struct itm *m, struct itm_src *s)
{
	uint32_t op = itm_rand(s) % 10;

	m->ops++;
	switch (op) {
	case 0:
	case 1:
	case 2:
	case 3:
		return itm_toggle(m, s);
	case 4:
	case 5:
		return itm_check_iter(m, s);
	case 6:
	case 7:
		return itm_check_spans(m, s);
	case 8:
		return itm_check_double_spans(m, s);
	default:
		return itm_check_hole(m, s);
	}
}

/* Take every item out (checking as we go), leaving both trees empty. */
static inline int itm_drain(struct itm *m)
{
	for (int i = 0; i < ITM_ITEMS; i++) {
		struct itm_item *it = &m->items[i];

		if (it->tree < 0)
			continue;
		interval_tree_remove(&it->node, &m->roots[it->tree]);
		it->tree = -1;
		if (itm_check_trees(m))
			return -1;
	}
	if (m->roots[0].node || m->roots[1].node)
		return itm_fail(m, "trees not empty after removing every item");
	return 0;
}

#endif
