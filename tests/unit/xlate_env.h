/* SPDX-License-Identifier: MIT */
/*
 * xlate_env.h - a nested translation set-up for tests of lib/xlate with
 * caches (the same shape as test_xlate.c's): stage 2 is a pt_table in a
 * host arena mapping guest RAM; stage 1 is a pt_table built in guest RAM
 * through a "guest view" port that presents that RAM at its IPA, so pt_map
 * writes IPAs into stage-1 descriptors exactly as a guest driver would.
 * Guest RAM: the lower half holds stage-1 tables (an arena over that
 * memory, so tables an unmap frees are reused, after their grace period:
 * a walker inside an unlinked table reads stale but valid memory), the
 * upper half data.
 */
#ifndef UIOMMU_TESTS_XLATE_ENV_H
#define UIOMMU_TESTS_XLATE_ENV_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pt/pt.h"
#include "xlate/xlate.h"

#define HBASE	 0x40000000ULL /* host "physical" memory */
#define GRAM_IPA 0x80000000ULL /* guest RAM as the guest sees it */

static inline struct pt_cfg env_mk(enum pt_format f, unsigned int g, unsigned int ias,
				   unsigned int oas, int sl0, unsigned int flags)
{
	struct pt_cfg c = { .format = f, .granule_shift = g, .ias = ias, .oas = oas, .sl0 = sl0,
			    .flags = flags };

	assert_int_equal(pt_cfg_init(&c), 0);
	return c;
}

struct env {
	struct pt_arena host;
	struct pt_arena g; /* stage-1 tables, in guest RAM */
	struct pt_table s1, s2;
	bool has_s1, has_s2;
	uint64_t gram_pa, gram_size, data_ipa, data_pa;
	struct xlate_cfg xc;
	struct xlate_result res;
	struct xlate_fault f;
	struct xlate_record rec;
};

/*
 * Host memory: @host_size bytes at HBASE; guest RAM: @gram_size bytes at
 * GRAM_IPA, placed at the top half of host memory. Stage 2 maps all of
 * guest RAM RW (its cfg decides blocks or pages). Either cfg may be NULL.
 */
static inline void env_init_sized(struct env *e, const struct pt_cfg *s1c,
				  const struct pt_cfg *s2c, uint64_t host_size, uint64_t gram_size)
{
	memset(e, 0, sizeof(*e));
	e->gram_size = gram_size;
	e->gram_pa = HBASE + host_size - gram_size;
	e->data_ipa = GRAM_IPA + gram_size / 2;
	e->data_pa = e->gram_pa + gram_size / 2;
	assert_int_equal(pt_arena_init(&e->host, HBASE, host_size), 0);
	assert_int_equal(pt_arena_reserve(&e->host, e->gram_pa, gram_size), 0);
	e->xc.mem = &e->host.mem;
	if (s2c) {
		assert_int_equal(pt_table_init(&e->s2, s2c, &e->host.mem), 0);
		assert_int_equal(pt_map(&e->s2, GRAM_IPA, e->gram_pa, gram_size, PT_PROT_RW), 0);
		e->has_s2 = true;
		e->xc.s2 = (struct xlate_stage){ &e->s2.cfg, e->s2.root };
	}
	if (s1c) {
		if (s2c) {
			assert_int_equal(pt_arena_init_at(&e->g, GRAM_IPA, gram_size / 2,
							  e->host.buf + (e->gram_pa - e->host.base)),
					 0);
			assert_int_equal(pt_table_init(&e->s1, s1c, &e->g.mem), 0);
		} else {
			assert_int_equal(pt_table_init(&e->s1, s1c, &e->host.mem), 0);
		}
		e->has_s1 = true;
		e->xc.s1 = (struct xlate_stage){ &e->s1.cfg, e->s1.root };
	}
}

static inline void env_init(struct env *e, const struct pt_cfg *s1c, const struct pt_cfg *s2c)
{
	env_init_sized(e, s1c, s2c, 0x1000000, 0x400000);
}

static inline void env_destroy(struct env *e)
{
	if (e->has_s1)
		pt_table_destroy(&e->s1);
	if (e->has_s2)
		pt_table_destroy(&e->s2);
	pt_arena_destroy(&e->g); /* before the memory it lives in */
	pt_arena_destroy(&e->host);
}

/* A cache of the default geometry (xlate_cache_params_default()). */
static inline struct xlate_cache *env_new_cache(void)
{
	struct xlate_cache_params p;
	struct xlate_cache *c;

	xlate_cache_params_default(&p);
	assert_int_equal(xlate_cache_new(&p, &c), 0);
	return c;
}

static inline enum pt_fault_reason env_run(struct env *e, uint64_t iova, unsigned int access)
{
	memset(&e->res, 0, sizeof(e->res));
	memset(&e->f, 0, sizeof(e->f));
	return xlate(&e->xc, iova, access, &e->res, &e->f, &e->rec);
}

struct env_reads {
	unsigned int n;
	uint64_t addr[PT_MAX_LEVELS];
	int level[PT_MAX_LEVELS];
};

static inline void env_note_read(void *arg, int level, uint64_t addr, uint64_t value)
{
	struct env_reads *r = arg;

	if (r->n < PT_MAX_LEVELS) {
		r->addr[r->n] = addr;
		r->level[r->n] = level;
	}
	r->n++;
}

/* Host pointer to the descriptor at architectural @level that a walk of @t for @in reads. */
static inline uint64_t *env_desc_at(struct pt_table *t, uint64_t in, int level, uint64_t *addr)
{
	struct env_reads r = { 0 };
	struct pt_leaf leaf;
	struct pt_fault f;

	pt_walk_mem(&t->cfg, t->mem, t->root, in, PT_PROT_R, &leaf, &f, env_note_read, &r);
	for (unsigned int i = 0; i < r.n && i < PT_MAX_LEVELS; i++) {
		uint64_t *p;

		if (r.level[i] != level)
			continue;
		p = pt_mem_ptr(t->mem, r.addr[i], 8);
		assert_non_null(p);
		if (addr)
			*addr = r.addr[i];
		return p;
	}
	fail_msg("no descriptor at level %d for 0x%llx", level, (unsigned long long)in);
	return NULL;
}

/* Everything of two results but the cache-related fields. */
static inline bool env_res_equal(const struct xlate_result *a, const struct xlate_result *b)
{
	return a->pa == b->pa && a->ipa == b->ipa && a->size == b->size && a->prot == b->prot &&
	       a->s1_prot == b->s1_prot && a->s2_prot == b->s2_prot &&
	       a->s1_level == b->s1_level && a->s2_level == b->s2_level &&
	       a->s1_size == b->s1_size && a->s2_size == b->s2_size;
}

#endif
