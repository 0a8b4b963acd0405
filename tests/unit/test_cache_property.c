// SPDX-License-Identifier: MIT
/*
 * Property test of lib/xlate with caches: random interleavings (one
 * thread, fixed seeds printed on failure) of stage-1 map / unmap /
 * permission changes, stage-2 remaps, invalidations of every kind and
 * translations with every access, over a nested set-up.
 *
 * Checked after every step, against a reference model (a dictionary of
 * pages) and against the same translation without caches:
 *  - once a change and its invalidation have been made, a translation
 *    never returns the old mapping: the cached answer (result or fault,
 *    every field) equals the uncached one, which equals the model;
 *  - the caches really cache: a phase that makes the same changes but
 *    leaves the invalidation out must see stale answers (some translation
 *    returns what the model no longer maps), and after a full invalidation
 *    everything agrees again.
 *
 * The guest (stage-1) and host (stage-2) invalidations follow the
 * architecture: an unmap that may have freed a table is invalidated
 * non-leaf; a stage-2 change is followed by the IPA invalidation and then
 * a stage-1 invalidation of the VMID (or, with the conservative option,
 * the IPA invalidation alone). The stage-2 changes include moving a page
 * of the guest's stage-1 tables (a copy that differs, so that a walk
 * still reading the old page, through a combined stage-1 walk-cache
 * entry, gives a stale answer).
 */
#include "xlate_env.h"

#include <stdlib.h>

#include "xlate/cache_int.h"

#define NPAGES	  48	       /* IOVA pages the test plays with */
#define NDATA	  32	       /* data pages (IPAs) they map to */
#define IOVA(i)	  (0x40000000ULL + (uint64_t)((i) % 16) * 0x1000 + (uint64_t)((i) / 16) * 0x200000)
#define ALT_PA(e) ((e)->gram_pa - 0x400000) /* where stage-2 remaps send data pages */
#define ALT_TABLE_PA(e) (ALT_PA(e) + 0x200000) /* and stage-1 table pages */
#define X86_D	  (1ULL << 6)
#define SS_D	  (1ULL << 9)

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

struct model {
	bool mapped[NPAGES];
	unsigned int data[NPAGES]; /* data page index */
	unsigned int prot[NPAGES];
	bool remapped[NDATA];	   /* stage 2 sends it to ALT_PA */
	bool ro2[NDATA];	   /* stage 2 read-only */
};

struct run {
	struct env e;
	struct xlate_cfg plain; /* the same tables, no cache */
	struct model m;
	uint16_t vmid;
	uint32_t asid;
	bool conservative;
	int leaf1, leaf2; /* architectural levels of 4K leaves */
	bool hwad;	  /* x86 / VT-d access and dirty bits */
	uint64_t seed;
	unsigned long checks, stale, hits, moves;
};

static uint64_t data_ipa(const struct run *r, unsigned int d)
{
	return r->e.data_ipa + (uint64_t)d * 0x1000;
}

static uint64_t data_pa(const struct run *r, unsigned int d)
{
	return (r->m.remapped[d] ? ALT_PA(&r->e) : r->e.data_pa) + (uint64_t)d * 0x1000;
}

/* What the model says @access to page @i gives: PT_OK and the PA, or a fault. */
static enum pt_fault_reason model_xlate(const struct run *r, unsigned int i, unsigned int access,
				       uint64_t *pa)
{
	unsigned int need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);

	if (!r->m.mapped[i])
		return PT_FAULT_TRANSLATION;
	if ((need & ~r->m.prot[i]) || ((access & PT_PROT_U) && !(r->m.prot[i] & PT_PROT_U)))
		return PT_FAULT_PERMISSION;
	if ((need & PT_PROT_W) && r->m.ro2[r->m.data[i]])
		return PT_FAULT_PERMISSION;
	if (need & PT_PROT_X)
		return PT_FAULT_PERMISSION; /* stage 2 maps data XN */
	*pa = data_pa(r, r->m.data[i]);
	return PT_OK;
}

static unsigned int random_access(void)
{
	static const unsigned int acc[] = { PT_PROT_R, PT_PROT_R, PT_PROT_W, PT_PROT_RW,
					    PT_PROT_R | PT_PROT_U, PT_PROT_W | PT_PROT_U,
					    PT_PROT_X };

	return acc[rnd(sizeof(acc) / sizeof(acc[0]))];
}

/* Translate page @i both ways; they must agree, and with the model. */
static void check(struct run *r, unsigned int i, unsigned int access, bool expect_fresh)
{
	struct env *e = &r->e;
	uint64_t iova = IOVA(i) + rnd(0x1000), want_pa = 0;
	struct xlate_result res;
	struct xlate_fault f;
	struct xlate_record rec;
	enum pt_fault_reason got, plain, want;

	got = env_run(e, iova, access);
	/*
	 * Hardware dirty tracking: a write that went through marked both
	 * leaves dirty, whether or not the IOTLB answered (before the
	 * uncached walk below would mark them itself).
	 */
	if (r->hwad && expect_fresh && got == PT_OK && (access & PT_PROT_W)) {
		assert_true(*env_desc_at(&e->s1, iova, r->leaf1, NULL) & X86_D);
		assert_true(*env_desc_at(&e->s2, e->res.ipa, r->leaf2, NULL) & SS_D);
	}
	memset(&res, 0, sizeof(res));
	memset(&f, 0, sizeof(f));
	plain = xlate(&r->plain, iova, access, &res, &f, &rec);
	want = model_xlate(r, i, access, &want_pa);
	r->checks++;
	r->hits += got == PT_OK && e->res.iotlb_hit;
	if (plain != want || (want == PT_OK && res.pa != want_pa + (iova & 0xfff)))
		fail_msg("seed %llu: the uncached walk disagrees with the model for page %u "
			 "(access 0x%x): %d vs %d", (unsigned long long)r->seed, i, access, plain,
			 want);
	if (got == plain && (got != PT_OK || env_res_equal(&e->res, &res)) &&
	    (got == PT_OK || (e->f.stage == f.stage && e->f.cls == f.cls &&
			      e->f.level == f.level && e->f.ipa == f.ipa &&
			      e->f.desc_addr == f.desc_addr)))
		return;
	if (!expect_fresh) {
		r->stale++;
		return;
	}
	fail_msg("seed %llu: page %u iova 0x%llx access 0x%x: cached %d pa 0x%llx (iotlb %d), "
		 "uncached %d pa 0x%llx", (unsigned long long)r->seed, i,
		 (unsigned long long)iova, access, got, (unsigned long long)e->res.pa,
		 e->res.iotlb_hit, plain, (unsigned long long)res.pa);
}

/* The stage-1 invalidation of a page just unmapped or changed. */
static void inv_s1_page(struct run *r, unsigned int i, bool tables_freed)
{
	struct xlate_cache *c = r->e.xc.cache;

	switch (rnd(8)) {
	case 0:
		xlate_inv_asid(c, r->vmid, r->asid);
		break;
	case 1:
		xlate_inv_vmid(c, r->vmid);
		break;
	case 2:
		xlate_inv_all(c);
		break;
	case 3:
		xlate_inv_range(c, r->vmid, XLATE_ANY_ASID, IOVA(i), 0x1000,
				tables_freed ? 0 : XLATE_INV_LEAF, -1);
		break;
	case 4: /* a wider range than needed */
		xlate_inv_range(c, r->vmid, r->asid, IOVA(i) & ~0x1fffffULL, 0x200000, 0, -1);
		break;
	default:
		/* TTL: the 4K leaf's level, in the format's numbering (3 for VMSA, 1 for x86). */
		xlate_inv_range(c, r->vmid, r->asid, IOVA(i), 0x1000,
				tables_freed ? 0 : XLATE_INV_LEAF, tables_freed ? -1 : r->leaf1);
		break;
	}
}

/* The host's invalidation after changing the stage-2 mapping of the page at @ipa. */
static void inv_s2_ipa(struct run *r, uint64_t ipa)
{
	struct xlate_cache *c = r->e.xc.cache;

	xlate_inv_ipa(c, r->vmid, ipa, 0x1000, rnd(2) ? XLATE_INV_LEAF : 0,
		      rnd(2) ? r->leaf2 : -1);
	if (r->conservative)
		return;
	/* TLBI_S2_IPA, then what drops combined entries (NH_ALL / S12_VMALL). */
	if (rnd(2))
		xlate_inv_range(c, r->vmid, XLATE_ANY_ASID, 0, 1ULL << 48, 0, -1);
	else
		xlate_inv_vmid(c, r->vmid);
}

static void inv_s2_page(struct run *r, unsigned int d)
{
	inv_s2_ipa(r, data_ipa(r, d));
}

static uint8_t *host_at(struct env *e, uint64_t pa)
{
	return e->host.buf + (pa - e->host.base);
}

/* Point the stage-2 page of IPA @ipa at @pa. */
static void s2_move(struct env *e, uint64_t ipa, uint64_t pa)
{
	assert_int_equal(pt_unmap(&e->s2, ipa, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&e->s2, ipa, pa, 0x1000, PT_PROT_RW), 0);
}

/*
 * The host moves the guest's leaf table of page @i to another page, whose
 * copy swaps the descriptors of @i and of another mapped page of the same
 * table (the model swaps them too); reads are checked (@inv: fresh). Then
 * it moves the table back, with the copy's contents: the harness's guest
 * edits its tables in place, at the original page, so the move must be
 * undone before the next change.
 */
static void move_table(struct run *r, unsigned int i, bool inv)
{
	struct env *e = &r->e;
	unsigned int j = i, t, d;
	uint64_t slot, tipa, tpa, npa, a, b, sw;

	for (unsigned int k = 1; k < 16 && j == i; k++) {
		unsigned int cand = (i / 16) * 16 + (i % 16 + k) % 16;

		if (r->m.mapped[cand])
			j = cand;
	}
	if (j == i || !r->m.mapped[i])
		return;
	env_desc_at(&e->s1, IOVA(i), r->leaf1, &slot);
	tipa = slot & ~0xfffULL;
	tpa = e->gram_pa + (tipa - GRAM_IPA);
	npa = ALT_TABLE_PA(e) + (tipa - GRAM_IPA);
	memcpy(host_at(e, npa), host_at(e, tpa), 0x1000);
	a = ((IOVA(i) >> 12) & 511) * 8;
	b = ((IOVA(j) >> 12) & 511) * 8;
	memcpy(&sw, host_at(e, npa) + a, 8);
	memmove(host_at(e, npa) + a, host_at(e, npa) + b, 8);
	memcpy(host_at(e, npa) + b, &sw, 8);
	d = r->m.data[i];
	r->m.data[i] = r->m.data[j];
	r->m.data[j] = d;
	t = r->m.prot[i];
	r->m.prot[i] = r->m.prot[j];
	r->m.prot[j] = t;
	s2_move(e, tipa, npa);
	if (inv)
		inv_s2_ipa(r, tipa);
	/* (Reads only: a write's dirty mark would land in the copy, which check() does not read.) */
	check(r, i, PT_PROT_R, inv);
	check(r, j, PT_PROT_R, inv);
	for (int k = 0; k < 4; k++)
		check(r, (unsigned int)rnd(NPAGES), PT_PROT_R, inv);
	memcpy(host_at(e, tpa), host_at(e, npa), 0x1000);
	s2_move(e, tipa, tpa);
	if (inv)
		inv_s2_ipa(r, tipa);
	r->moves++;
}

/* One random change; @inv: follow it with its invalidation. */
static void step_change(struct run *r, bool inv)
{
	struct env *e = &r->e;
	unsigned int i = (unsigned int)rnd(NPAGES), d = (unsigned int)rnd(NDATA);
	uint64_t tables = e->s1.nr_tables;
	bool freed;

	switch (rnd(r->hwad ? 7 : 6)) {
	case 5: /* the host moves a page of the guest's stage-1 tables */
		move_table(r, i, inv);
		break;
	case 6: /* the guest and the host clean a page's dirty state */
		if (!r->m.mapped[i])
			break;
		__atomic_and_fetch(env_desc_at(&e->s1, IOVA(i), r->leaf1, NULL), ~X86_D,
				   __ATOMIC_RELAXED);
		__atomic_and_fetch(env_desc_at(&e->s2, data_ipa(r, r->m.data[i]), r->leaf2, NULL),
				   ~SS_D, __ATOMIC_RELAXED);
		if (inv) {
			inv_s1_page(r, i, false);
			inv_s2_page(r, r->m.data[i]);
		}
		break;
	case 0: /* map */
	case 1:
		if (r->m.mapped[i])
			break;
		r->m.prot[i] = rnd(3) ? PT_PROT_RW : PT_PROT_R;
		if (rnd(4) == 0)
			r->m.prot[i] |= PT_PROT_U;
		assert_int_equal(pt_map(&e->s1, IOVA(i), data_ipa(r, d), 0x1000, r->m.prot[i]), 0);
		r->m.mapped[i] = true;
		r->m.data[i] = d;
		/* Nothing was cached for an unmapped page: no invalidation needed. */
		break;
	case 2: /* unmap */
		if (!r->m.mapped[i])
			break;
		assert_int_equal(pt_unmap(&e->s1, IOVA(i), 0x1000, NULL), 0);
		r->m.mapped[i] = false;
		if (inv)
			inv_s1_page(r, i, e->s1.nr_tables != tables);
		break;
	case 3: /* remap elsewhere with other permissions */
		if (!r->m.mapped[i])
			break;
		assert_int_equal(pt_unmap(&e->s1, IOVA(i), 0x1000, NULL), 0);
		freed = e->s1.nr_tables != tables;
		r->m.prot[i] = r->m.prot[i] == PT_PROT_R ? PT_PROT_RW : PT_PROT_R;
		r->m.data[i] = d;
		assert_int_equal(pt_map(&e->s1, IOVA(i), data_ipa(r, d), 0x1000, r->m.prot[i]), 0);
		if (inv)
			inv_s1_page(r, i, freed);
		break;
	case 4: { /* stage 2: move a data page, or flip its write permission */
		unsigned int prot;

		if (rnd(2))
			r->m.remapped[d] = !r->m.remapped[d];
		else
			r->m.ro2[d] = !r->m.ro2[d];
		prot = r->m.ro2[d] ? PT_PROT_R : PT_PROT_RW;
		assert_int_equal(pt_unmap(&e->s2, data_ipa(r, d), 0x1000, NULL), 0);
		assert_int_equal(pt_map(&e->s2, data_ipa(r, d), data_pa(r, d), 0x1000, prot), 0);
		if (inv)
			inv_s2_page(r, d);
		break;
	}
	}
}

static void run_one(uint64_t seed, bool conservative, bool x86)
{
	struct pt_cfg s1c, s2c;
	struct xlate_cache_params p;
	struct run *r = calloc(1, sizeof(*r));
	struct xlate_cache_stats st;

	assert_non_null(r);
	r->seed = rng = seed;
	r->conservative = conservative;
	r->vmid = 3;
	r->asid = 11;
	print_message("# seed %llu, %s, %s IPA invalidation\n", (unsigned long long)seed,
		      x86 ? "x86 over vtd-ss, A/D" : "vmsa over vmsa", conservative ? "conservative"
									  : "architectural");
	if (x86) {
		r->hwad = true;
		s1c = env_mk(PT_X86, 12, 48, 52, 0, PT_CFG_NO_BLOCKS | PT_CFG_HW_AD);
		s2c = env_mk(PT_VTD_SS, 12, 48, 52, 0, PT_CFG_NO_BLOCKS | PT_CFG_HW_AD);
	} else {
		s1c = env_mk(PT_VMSA_S1, 12, 48, 48, 0, PT_CFG_NO_BLOCKS);
		s2c = env_mk(PT_VMSA_S2, 12, 48, 48, 2, rnd(2) ? PT_CFG_NO_BLOCKS : 0);
	}
	r->leaf1 = pt_level(&s1c, s1c.nlevels - 1);
	r->leaf2 = pt_level(&s2c, s2c.nlevels - 1);
	/* Host memory 16 MiB: guest RAM in the top 4 MiB, remap targets below it. */
	env_init(&r->e, &s1c, &s2c);
	assert_int_equal(pt_arena_reserve(&r->e.host, ALT_PA(&r->e), 0x400000), 0);
	/* Stage 2 in 4K pages over the data half, so pages can move one by one. */
	assert_int_equal(pt_unmap(&r->e.s2, r->e.data_ipa, 0x200000, NULL), 0);
	assert_int_equal(pt_map(&r->e.s2, r->e.data_ipa, r->e.data_pa, 0x200000, PT_PROT_RW), 0);
	xlate_cache_params_default(&p);
	/* Small caches, so evictions and set conflicts happen too. */
	p.iotlb = (struct xlate_cache_geom){ 32, 4 };
	p.ipa = (struct xlate_cache_geom){ 16, 2 };
	p.walk[0] = p.walk[1] = (struct xlate_cache_geom){ 8, 2 };
	p.ipa_inval_conservative = conservative;
	p.repl = rnd(2) ? XLATE_REPL_LRU : XLATE_REPL_RANDOM;
	p.seed = seed;
	assert_int_equal(xlate_cache_new(&p, &r->e.xc.cache), 0);
	r->e.xc.tag = (struct xlate_tag){ .vmid = r->vmid, .asid = r->asid };
	r->plain = r->e.xc;
	r->plain.cache = NULL;

	/* Phase 1: every change invalidated; cached == uncached == model, always. */
	for (int s = 0; s < 20000; s++) {
		if (rnd(3) == 0)
			step_change(r, true);
		check(r, (unsigned int)rnd(NPAGES), random_access(), true);
	}
	/* Phase 2: the same without invalidations: stale answers must show up. */
	for (int s = 0; s < 600; s++) {
		unsigned int i = (unsigned int)rnd(NPAGES);

		check(r, i, PT_PROT_R, false);
		if (rnd(2) == 0)
			step_change(r, false);
		check(r, i, PT_PROT_R, false);
	}
	assert_true(r->stale > 0);
	/* Phase 3: one full invalidation and everything agrees again. */
	xlate_inv_all(r->e.xc.cache);
	for (unsigned int i = 0; i < NPAGES; i++) {
		check(r, i, PT_PROT_R, true);
		check(r, i, PT_PROT_W, true);
	}
	xlate_cache_get_stats(r->e.xc.cache, &st);
	print_message("# %lu checks, %lu IOTLB hits, %lu stale answers without invalidation; "
		      "IOTLB %llu fills %llu evictions; %lu stage-1 table moves\n", r->checks,
		      r->hits, r->stale, (unsigned long long)st.iotlb.fills,
		      (unsigned long long)st.iotlb.evictions, r->moves);
	assert_true(r->hits > 100);
	assert_true(r->moves > 100);
	assert_true(st.iotlb.evictions > 0);
	xlate_cache_free(r->e.xc.cache);
	env_destroy(&r->e);
	free(r);
}

static void test_property_vmsa(void **state)
{
	run_one(1, false, false);
	run_one(2, false, false);
	run_one(3, true, false);
}

static void test_property_x86(void **state)
{
	run_one(4, false, true);
	run_one(5, true, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property_vmsa),
		cmocka_unit_test(test_property_x86),
	};

	return cmocka_run_group_tests_name("cache_property", tests, NULL, NULL);
}
