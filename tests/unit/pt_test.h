/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/pt_test.h - the scaffolding every page-table format test
 * shares: a descriptor's address in a test arena, a walk that records the
 * addresses and levels it read, a walk that must fault, a four-level chain
 * of table pointers, a writer racing the walker, leaves collected by
 * pt_for_each_leaf(), and the descriptor map() wrote for one IOVA.
 *
 * The helpers report; they decide nothing. Expected values stay in the
 * tests, worked out from the architecture, never from these functions.
 */
#ifndef UIOMMU_TESTS_PT_TEST_H
#define UIOMMU_TESTS_PT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pt/pt.h"

/* The host address of the descriptor at @pa in arena @a (8-byte units). */
static inline uint64_t *pt_at(struct pt_arena *a, uint64_t pa)
{
	return (uint64_t *)(a->buf + (pa - a->base));
}

/* Descriptor reads of one walk: the first 16 addresses and levels, and how many. */
struct pt_reads {
	unsigned int n;
	uint64_t addr[16];
	int level[16];
};

static inline void pt_reads_count(void *arg, int level, uint64_t addr, uint64_t value)
{
	struct pt_reads *r = arg;

	(void)value;
	if (r->n < 16) {
		r->addr[r->n] = addr;
		r->level[r->n] = level;
	}
	r->n++;
}

/* pt_walk_mem() from @root in arena @a, counting its reads into @r. */
static inline enum pt_fault_reason pt_test_walk(const struct pt_cfg *c, struct pt_arena *a,
						uint64_t root, uint64_t iova, unsigned int access,
						struct pt_leaf *leaf, struct pt_fault *f,
						struct pt_reads *r)
{
	memset(r, 0, sizeof(*r));
	memset(f, 0, sizeof(*f));
	return pt_walk_mem(c, &a->mem, root, iova, access, leaf, f, pt_reads_count, r);
}

/* Not checked: for pt_walk_fault()'s @level or @nreads. */
#define PT_ANY (-1)

static inline void pt_walk_fault_at(const char *file, int line, const struct pt_cfg *c,
				    struct pt_arena *a, uint64_t root, uint64_t iova,
				    unsigned int access, enum pt_fault_reason want, int level,
				    int nreads, struct pt_leaf *leaf, struct pt_fault *f,
				    struct pt_reads *r)
{
	_assert_int_equal(pt_test_walk(c, a, root, iova, access, leaf, f, r), want, file, line);
	if (level != PT_ANY)
		_assert_int_equal(f->level, level, file, line);
	if (nreads != PT_ANY)
		_assert_int_equal(r->n, nreads, file, line);
}

/*
 * pt_test_walk() that must return @want, then report the fault at @level
 * after @nreads descriptor reads (either PT_ANY: not checked). A failure
 * names the caller's line.
 */
#define pt_walk_fault(c, a, root, iova, access, want, level, nreads, leaf, f, r)                  \
	pt_walk_fault_at(__FILE__, __LINE__, c, a, root, iova, access, want, level, nreads, leaf, \
			 f, r)

/*
 * A four-level chain of table pointers, each ORed with @bits: the root at
 * @base, index 0 of each pointing at the next 4 KiB page, the last table at
 * @base + 0x3000 (left as it is).
 */
static inline void pt_chain4(struct pt_arena *a, uint64_t base, uint64_t bits)
{
	*pt_at(a, base) = (base + 0x1000) | bits;
	*pt_at(a, base + 0x1000) = (base + 0x2000) | bits;
	*pt_at(a, base + 0x2000) = (base + 0x3000) | bits;
}

/*
 * The start of a walk test: pt_cfg_init(@c) must succeed and @a becomes a
 * 64 KiB arena at @base holding pt_chain4(@base, @bits). Returns the
 * last-level entry a walk of IOVA 0x1000 reads (index 1 of the table at
 * @base + 0x3000, still empty).
 */
static inline uint64_t *pt_chain4_setup(struct pt_cfg *c, struct pt_arena *a, uint64_t base,
					uint64_t bits)
{
	assert_int_equal(pt_cfg_init(c), 0);
	assert_int_equal(pt_arena_init(a, base, 0x10000), 0);
	pt_chain4(a, base, bits);
	return pt_at(a, base + 0x3000 + 8);
}

/*
 * A concurrent software writer, as a pt_walk_mem() read callback: counts
 * the reads into @r and, the first time a descriptor at @level is read,
 * ORs @bits into *@victim.
 */
struct pt_racer {
	struct pt_reads r;
	int level;
	uint64_t *victim;
	uint64_t bits;
	bool done;
};

static inline void pt_race_read(void *arg, int level, uint64_t addr, uint64_t value)
{
	struct pt_racer *rc = arg;

	pt_reads_count(&rc->r, level, addr, value);
	if (level == rc->level && !rc->done) {
		*rc->victim |= rc->bits;
		rc->done = true;
	}
}

/* Leaves seen by pt_for_each_leaf(): the first 64, and how many. */
struct pt_leaves {
	unsigned int n;
	uint64_t iova[64], pa[64], size[64];
	unsigned int prot[64];
	int level[64];
};

static inline int pt_leaves_collect(void *arg, uint64_t iova, uint64_t pa, uint64_t size,
				    unsigned int prot, int level)
{
	struct pt_leaves *l = arg;

	if (l->n < 64) {
		l->iova[l->n] = iova;
		l->pa[l->n] = pa;
		l->size[l->n] = size;
		l->prot[l->n] = prot;
		l->level[l->n] = level;
	}
	l->n++;
	return 0;
}

/* A pt_map() that must fail: its arguments and the negative errno. */
struct pt_map_err {
	uint64_t iova, pa, size;
	unsigned int prot;
	int err;
};

/*
 * Each of the @n calls in @cases must fail with its errno and leave @t as
 * it was: as many tables, and the same leaves (address, output, size).
 * The leaves before and after are left in *@before and *@after.
 */
static inline void pt_map_errors_keep(struct pt_table *t, const struct pt_map_err *cases,
				      size_t n, struct pt_leaves *before, struct pt_leaves *after)
{
	uint64_t tables = t->nr_tables;

	memset(before, 0, sizeof(*before));
	memset(after, 0, sizeof(*after));
	pt_for_each_leaf(t, 0, UINT64_MAX, pt_leaves_collect, before);
	for (size_t i = 0; i < n; i++) {
		const struct pt_map_err *m = &cases[i];
		int ret = pt_map(t, m->iova, m->pa, m->size, m->prot);

		if (ret != m->err)
			print_error("case %zu: pt_map(0x%llx, 0x%llx, 0x%llx, 0x%x) = %d\n", i,
				    (unsigned long long)m->iova, (unsigned long long)m->pa,
				    (unsigned long long)m->size, m->prot, ret);
		assert_int_equal(ret, m->err);
	}
	assert_int_equal(t->nr_tables, tables);
	pt_for_each_leaf(t, 0, UINT64_MAX, pt_leaves_collect, after);
	assert_int_equal(after->n, before->n);
	assert_memory_equal(before->iova, after->iova, sizeof(before->iova));
	assert_memory_equal(before->pa, after->pa, sizeof(before->pa));
	assert_memory_equal(before->size, after->size, sizeof(before->size));
}

/*
 * The leaf descriptor translating @iova in @t (the walk must succeed), its
 * level in *@level and, when @prot is not NULL, the permissions it grants.
 */
static inline uint64_t pt_leaf_desc(struct pt_table *t, uint64_t iova, unsigned int access,
				    int *level, unsigned int *prot)
{
	struct pt_leaf leaf;
	struct pt_fault f;

	assert_int_equal(pt_table_walk(t, iova, access, &leaf, &f), PT_OK);
	*level = leaf.level;
	if (prot)
		*prot = leaf.prot;
	return leaf.desc;
}

#endif
