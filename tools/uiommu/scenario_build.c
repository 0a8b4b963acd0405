// SPDX-License-Identifier: MIT
/*
 * scenario_build.c - from a checked scenario to real tables in memory.
 *
 * All memory comes from one pt_arena shown at the scenario's "memory"
 * base, so every address printed by a walk is the same on every run and
 * every machine. Allocation order is fixed, which is what makes it so:
 *
 *   1. explicit addresses are reserved first (guest RAM "pa", stage-2
 *      mapping "pa", and stage-1 "ipa" when there is no stage 2), so that
 *      nothing allocated later lands on them;
 *   2. guest RAM without "pa", then stage-2 mapping outputs without "pa",
 *      are allocated first-fit, each aligned to the largest power of two not
 *      above its size (at most 1G) so that blocks can map it;
 *   3. the stage-2 tables (root first) come from what is left, and guest
 *      RAM, then the stage-2 mappings, are mapped in file order;
 *   4. guest RAM gets the same treatment in IPA space: the stage-1 "ipa"
 *      of every stage 1 (the "stage1" key and each PASID) is reserved, the
 *      missing ones are allocated, and the stage-1 tables are allocated
 *      from the guest RAM pages that remain.
 *
 * Guest RAM is reached through struct sc_guest, a memory port whose regions
 * are the RAM regions at their IPAs with host pointers into the arena: the
 * stage-1 tables are built through it with IPAs in their descriptors, and a
 * nested walk later finds the same bytes through stage 2 in the arena.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "scenario_int.h"
#include "util/bits.h"

#define GPAGE 4096ULL

static uint64_t natural_align(uint64_t size)
{
	uint64_t a = 1ULL << ilog2_u64(size);

	return MIN(MAX(a, GPAGE), 1ULL << 30);
}

/* ---------------------------------------------------------------------- */
/* Guest RAM port                                                         */

static bool bm_free(const uint64_t *bm, uint64_t first, uint64_t n)
{
	for (uint64_t u = first; u < first + n; u++)
		if (bm[u / 64] & BIT(u % 64))
			return false;
	return true;
}

static void bm_mark(uint64_t *bm, uint64_t first, uint64_t n, bool used)
{
	for (uint64_t u = first; u < first + n; u++) {
		if (used)
			bm[u / 64] |= BIT(u % 64);
		else
			bm[u / 64] &= ~BIT(u % 64);
	}
}

/* First fit over the regions in order; @align applies to the IPA. */
static int guest_alloc(struct sc_guest *g, uint64_t size, uint64_t align, uint64_t *ipa, void **ptr)
{
	uint64_t n = ALIGN_UP(size, GPAGE) / GPAGE, step = MAX(align, GPAGE) / GPAGE;

	for (unsigned int i = 0; i < g->mem.nr_regions; i++) {
		const struct pt_mem_region *r = &g->mem.region[i];
		uint64_t units = r->size / GPAGE;
		uint64_t first = (ALIGN_UP(r->base, MAX(align, GPAGE)) - r->base) / GPAGE;

		for (; first + n <= units; first += step) {
			if (!bm_free(g->used[i], first, n))
				continue;
			bm_mark(g->used[i], first, n, true);
			*ipa = r->base + first * GPAGE;
			*ptr = r->host + first * GPAGE;
			return 0;
		}
	}
	return -ENOMEM;
}

/* Take whatever part of [ipa, ipa + size) is guest RAM out of the allocator. */
static void guest_reserve(struct sc_guest *g, uint64_t ipa, uint64_t size)
{
	for (unsigned int i = 0; i < g->mem.nr_regions; i++) {
		const struct pt_mem_region *r = &g->mem.region[i];
		uint64_t s = MAX(ipa, r->base), l = MIN(ipa + size - 1, r->base + r->size - 1);

		if (s > l)
			continue;
		s = ALIGN_DOWN(s - r->base, GPAGE) / GPAGE;
		l = (l - r->base) / GPAGE;
		bm_mark(g->used[i], s, l - s + 1, true);
	}
}

static int guest_alloc_table(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
			     void **ptr)
{
	struct sc_guest *g = container_of(mem, struct sc_guest, mem);
	uint64_t align = size <= GPAGE ? GPAGE : 1ULL << (64 - __builtin_clzll(size - 1));
	int ret = guest_alloc(g, size, align, pa, ptr);

	if (ret)
		return ret;
	memset(*ptr, 0, ALIGN_UP(size, GPAGE));
	return 0;
}

static void guest_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
	struct sc_guest *g = container_of(mem, struct sc_guest, mem);

	for (unsigned int i = 0; i < g->mem.nr_regions; i++) {
		const struct pt_mem_region *r = &g->mem.region[i];

		if (pa - r->base < r->size)
			bm_mark(g->used[i], (pa - r->base) / GPAGE, ALIGN_UP(size, GPAGE) / GPAGE,
				false);
	}
}

static int guest_init(struct sc_loader *ld)
{
	struct scenario *sc = ld->sc;
	struct sc_guest *g = &sc->guest;

	g->mem.alloc_table = guest_alloc_table;
	g->mem.free_table = guest_free_table;
	for (unsigned int i = 0; i < sc->nr_ram; i++) {
		const struct sc_ram *ram = &sc->ram[i];

		g->used[i] = calloc((ram->size / GPAGE + 63) / 64, sizeof(uint64_t));
		if (!g->used[i])
			return sc_err(ld, ram->path, false, "out of memory");
		g->mem.region[i] = (struct pt_mem_region){
			.base = ram->ipa,
			.size = ram->size,
			.host = sc->arena.buf + (ram->pa - sc->arena.base),
		};
		g->mem.nr_regions++;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Host memory                                                            */

/* Reserve the part of [pa, pa + size) inside the arena; aliases are fine. */
static void arena_reserve(struct scenario *sc, uint64_t pa, uint64_t size)
{
	uint64_t s = MAX(pa, sc->arena.base);
	uint64_t l = MIN(pa + size - 1, sc->arena.base + sc->arena.size - 1);

	if (s <= l)
		pt_arena_reserve(&sc->arena, s, l - s + 1);
}

static const char *mem_str(const struct scenario *sc, char *buf, size_t len)
{
	char sz[24];

	snprintf(buf, len, "memory has %s at 0x%llx", size_str(sc->mem_size, sz, sizeof(sz)),
		 (unsigned long long)sc->mem_base);
	return buf;
}

static int map_err(struct sc_loader *ld, const char *path, int ret, const char *pool)
{
	switch (ret) {
	case -ENOMEM:
		return sc_err(ld, path, false, "not enough free %s for the page tables", pool);
	case -EEXIST:
		return sc_err(ld, path, false, "overlaps an earlier mapping");
	case -ERANGE:
		return sc_err(ld, path, false, "beyond the input or output size of the stage");
	}
	return sc_err(ld, path, false, "cannot map: %s", strerror(-ret));
}

static int build_stage1(struct sc_loader *ld, struct sc_stage *st)
{
	struct scenario *sc = ld->sc;
	struct pt_mem *mem = sc->has_s2 ? &sc->guest.mem : &sc->arena.mem;
	const char *pool = sc->has_s2 ? "guest RAM" : "memory";
	int ret = pt_table_init(&st->table, &st->cfg, mem);

	if (ret)
		return sc_err(ld, st->path, false, "not enough free %s for the root table", pool);
	for (unsigned int i = 0; i < st->nr_maps; i++) {
		const struct sc_map *m = &st->maps[i];

		ret = pt_map(&st->table, m->in, m->out, m->size, m->prot);
		if (ret)
			return map_err(ld, m->path, ret, pool);
	}
	return 0;
}

/* Every stage 1: "stage1" then each PASID, in file order. */
static struct sc_stage *stage1_at(struct scenario *sc, unsigned int i)
{
	if (sc->has_s1) {
		if (!i)
			return &sc->s1;
		i--;
	}
	return i < sc->nr_pasids ? &sc->pasids[i] : NULL;
}

/* Give every stage-1 mapping without "ipa" an output in guest RAM (or memory). */
static int alloc_stage1_outputs(struct sc_loader *ld)
{
	struct scenario *sc = ld->sc;
	struct sc_stage *st;
	char buf[64], sz[24];

	for (unsigned int k = 0; (st = stage1_at(sc, k)); k++)
		for (unsigned int i = 0; i < st->nr_maps; i++)
			if (st->maps[i].out_given) {
				if (sc->has_s2)
					guest_reserve(&sc->guest, st->maps[i].out,
						      st->maps[i].size);
				else
					arena_reserve(sc, st->maps[i].out, st->maps[i].size);
			}
	for (unsigned int k = 0; (st = stage1_at(sc, k)); k++) {
		for (unsigned int i = 0; i < st->nr_maps; i++) {
			struct sc_map *m = &st->maps[i];
			void *ptr;
			int ret;

			if (m->out_given)
				continue;
			if (sc->has_s2)
				ret = guest_alloc(&sc->guest, m->size, natural_align(m->size),
						  &m->out, &ptr);
			else
				ret = pt_arena_alloc(&sc->arena, m->size, natural_align(m->size),
						     &m->out);
			if (ret)
				return sc_err(ld, m->path, false, "not enough free %s for %s (%s)",
					      sc->has_s2 ? "guest RAM" : "memory",
					      size_str(m->size, sz, sizeof(sz)),
					      sc->has_s2 ? "guest RAM is full"
							 : mem_str(sc, buf, sizeof(buf)));
		}
	}
	return 0;
}

int sc_build(struct sc_loader *ld)
{
	struct scenario *sc = ld->sc;
	struct sc_stage *st;
	char buf[64], sz[24];
	int ret;

	ret = pt_arena_init(&sc->arena, sc->mem_base, sc->mem_size);
	if (ret)
		return sc_err(ld, "memory.size", false, "cannot allocate %s: %s",
			      size_str(sc->mem_size, sz, sizeof(sz)), strerror(-ret));

	/* 1. Explicit addresses. */
	for (unsigned int i = 0; i < sc->nr_ram; i++)
		if (sc->ram[i].pa_given)
			arena_reserve(sc, sc->ram[i].pa, sc->ram[i].size);
	for (unsigned int i = 0; i < sc->s2.nr_maps; i++)
		if (sc->s2.maps[i].out_given)
			arena_reserve(sc, sc->s2.maps[i].out, sc->s2.maps[i].size);

	/* 2. Guest RAM and stage-2 outputs. */
	for (unsigned int i = 0; i < sc->nr_ram; i++) {
		struct sc_ram *ram = &sc->ram[i];

		if (ram->pa_given)
			continue;
		if (pt_arena_alloc(&sc->arena, ram->size, natural_align(ram->size), &ram->pa))
			return sc_err(ld, ram->path, false, "not enough free memory for %s (%s)",
				      size_str(ram->size, sz, sizeof(sz)),
				      mem_str(sc, buf, sizeof(buf)));
	}
	for (unsigned int i = 0; i < sc->s2.nr_maps; i++) {
		struct sc_map *m = &sc->s2.maps[i];

		if (m->out_given)
			continue;
		if (pt_arena_alloc(&sc->arena, m->size, natural_align(m->size), &m->out))
			return sc_err(ld, m->path, false, "not enough free memory for %s (%s)",
				      size_str(m->size, sz, sizeof(sz)),
				      mem_str(sc, buf, sizeof(buf)));
		if (sc->s2.cfg.oas < 64 && ((m->out + m->size - 1) >> sc->s2.cfg.oas))
			return sc_err(ld, m->path, false,
				      "memory for it at 0x%llx is beyond the %u-bit output size "
				      "of stage2",
				      (unsigned long long)m->out, sc->s2.cfg.oas);
	}

	/* 3. Stage 2. */
	if (sc->has_s2) {
		ret = pt_table_init(&sc->s2.table, &sc->s2.cfg, &sc->arena.mem);
		if (ret)
			return sc_err(ld, "stage2", false,
				      "not enough free memory for the root table (%s)",
				      mem_str(sc, buf, sizeof(buf)));
		for (unsigned int i = 0; i < sc->nr_ram; i++) {
			const struct sc_ram *ram = &sc->ram[i];

			ret = pt_map(&sc->s2.table, ram->ipa, ram->pa, ram->size, ram->prot);
			if (ret)
				return map_err(ld, ram->path, ret, "memory");
		}
		for (unsigned int i = 0; i < sc->s2.nr_maps; i++) {
			const struct sc_map *m = &sc->s2.maps[i];

			ret = pt_map(&sc->s2.table, m->in, m->out, m->size, m->prot);
			if (ret)
				return map_err(ld, m->path, ret, "memory");
		}
		ret = guest_init(ld);
		if (ret)
			return ret;
	}

	/* 4. Stage 1. */
	ret = alloc_stage1_outputs(ld);
	for (unsigned int k = 0; !ret && (st = stage1_at(sc, k)); k++)
		ret = build_stage1(ld, st);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Dump                                                                   */

void scenario_dump(const struct scenario *sc, FILE *f)
{
	const struct sc_stage *st;
	char sz[24];

	fprintf(f, "memory: %s at 0x%llx-0x%llx\n", size_str(sc->mem_size, sz, sizeof(sz)),
		(unsigned long long)sc->mem_base,
		(unsigned long long)(sc->mem_base + sc->mem_size - 1));
	for (unsigned int i = 0; i < sc->nr_ram; i++)
		fprintf(f, "guest RAM: ipa 0x%llx-0x%llx at pa 0x%llx\n",
			(unsigned long long)sc->ram[i].ipa,
			(unsigned long long)(sc->ram[i].ipa + sc->ram[i].size - 1),
			(unsigned long long)sc->ram[i].pa);
	if (sc->has_s2) {
		fprintf(f, "stage2: ");
		pt_dump(&sc->s2.table, f);
	}
	for (unsigned int k = 0; (st = stage1_at((struct scenario *)sc, k)); k++) {
		fprintf(f, "%s: ", st->path);
		pt_dump(&st->table, f);
	}
}
