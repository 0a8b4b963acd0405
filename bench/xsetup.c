// SPDX-License-Identifier: MIT
/*
 * bench/xsetup.c - the translation setups of the cache benchmarks and of
 * `uiommu bench`: one builder (xs_build_layout) over two stage
 * configurations and a layout, the bench/ programs' fixed layout
 * (xs_build), and a fitted layout for any configuration (xs_layout_fit).
 *
 * The fixed layout (host "physical" memory starts at HBASE = 4 GiB; the
 * arena is reserved lazily, so only what is touched becomes resident):
 *
 *   IPA [0, 2G)   -> PA HBASE + 4K + IPA     stage 2 in 4K pages
 *   IPA [2G, 8G)  -> PA HBASE + 2M + IPA     stage 2 in 2M blocks
 *   stage-1 tables in guest RAM at IPA [1.5G, 2G) (nested)
 *   IOVA 0x10_0000_0000 + [0, 1G) -> IPA 4K + ...        4K pages
 *   IOVA 0x20_0000_0000 + [0, 4G) -> IPA 2G + 2M + ...   2M blocks
 *   IOVA 0x30_0000_0000 + [0, 1G) -> IPA 6G + 2M + 4K + ... 4K pages whose
 *     IPAs stage 2 maps in 2M blocks (guest RAM on huge pages, as VMMs
 *     back it)
 *
 * With stage 1 alone the stage-1 outputs are PA HBASE + those IPAs; with
 * stage 2 alone the inputs are the IPAs. Table pages of the host come from
 * the arena after the 8 GiB + 2 MiB of data, those of the guest from a
 * bump allocator over its table region that reuses freed pages (the strict
 * map/unmap loop of bench_inval frees and allocates leaf tables).
 *
 * The fitted layout (P = the input stage's page, P1 / P2 each stage's;
 * bases aligned to 1 GiB, so that every output is one page off any block
 * boundary and both stages map with their smallest leaves):
 *
 *   arena at 1G: guest RAM for the stage-1 tables (nested), then the
 *     host's tables; the data lies above the arena and is never touched
 *     (a translation reads descriptors only)
 *   IOVA B + i * P1 -> IPA P1 + i * P1 (B: 0x10_0000_0000 when the input
 *     size leaves room, else the stage's window base)
 *   IPA [0, ...) -> PA data + P2 + IPA; guest tables at the next 1G
 *     boundary -> PA arena + P2
 *   stage 2 alone: IPA P2 + i * P2 are the inputs
 *
 * Sizes are estimated generously from the page count (two descriptors a
 * page and 64 tables of the largest size), and every address is checked
 * against the input, intermediate and output sizes before anything is
 * built.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bits.h"
#include "xsetup.h"

#define HBASE	   (4ULL << 30)
#define DATA_END   ((8ULL << 30) + (2ULL << 20)) /* bytes of data from HBASE */
#define ARENA_SIZE (9ULL << 30)
#define RAM4K_SIZE (2ULL << 30)
#define GTABLES	   (3ULL << 29) /* 1.5G: the guest's stage-1 tables */
#define IOVA_4K	   0x1000000000ULL
#define IOVA_2M	   0x2000000000ULL
#define IPA_4K	   0x1000ULL
#define IPA_2M	   ((2ULL << 30) + (2ULL << 20))
#define IOVA_4K2M  0x3000000000ULL
#define IPA_4K2M   ((6ULL << 30) + (2ULL << 20) + 4096) /* not 2M aligned: stage 1 in 4K pages */

const char *xs_mode_name(enum xs_mode m)
{
	static const char *const names[] = {"s1", "s2", "nested"};

	return names[m];
}

uint64_t xs_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static int guest_alloc_table(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
			     void **ptr)
{
	struct xs_guest *g = container_of(mem, struct xs_guest, mem);
	uint64_t sz = ALIGN_UP(size, 4096), off;

	if (sz == 4096 && g->nfree) {
		off = g->free[--g->nfree];
	} else {
		off = ALIGN_UP(g->next, sz);
		if (off + sz > g->limit)
			return -ENOMEM;
		g->next = off + sz;
	}
	*pa = off;
	*ptr = mem->region[0].host + (off - mem->region[0].base);
	memset(*ptr, 0, sz);
	return 0;
}

static void guest_free_table(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size)
{
	struct xs_guest *g = container_of(mem, struct xs_guest, mem);

	if (size > 4096)
		return;
	if (g->nfree == g->cap) {
		unsigned int cap = g->cap ? g->cap * 2 : 64;
		uint64_t *f = realloc(g->free, cap * sizeof(*f));

		if (!f)
			return; /* leaked to the bump allocator: harmless here */
		g->free = f;
		g->cap = cap;
	}
	g->free[g->nfree++] = pa;
}

const struct pt_cfg *xs_input_cfg(const struct xsetup *s)
{
	return s->mode == XS_S2 ? &s->s2.cfg : &s->s1.cfg;
}

uint64_t xs_addr(const struct xsetup *s, enum xs_region r, uint64_t i, uint64_t off)
{
	const struct xs_range *g = &s->lay.region[r];

	return (s->mode == XS_S2 ? g->out : g->in) + i * s->lay.unit[r] + off;
}

uint64_t xs_ipa(const struct xsetup *s, enum xs_region r, uint64_t i)
{
	return s->lay.region[r].out + i * s->lay.unit[r];
}

uint64_t xs_addr_4k(const struct xsetup *s, uint64_t i)
{
	return xs_addr(s, XS_R_4K, i, 0);
}

uint64_t xs_addr_4k_s2_2m(const struct xsetup *s, uint64_t i)
{
	return xs_addr(s, XS_R_4K2M, i, 0);
}

uint64_t xs_addr_2m(const struct xsetup *s, uint64_t i, uint64_t off)
{
	return xs_addr(s, XS_R_2M, i, off);
}

static const struct xs_layout fixed_layout = {
	.hbase = HBASE,
	.arena_size = ARENA_SIZE,
	.reserve = DATA_END,
	.nr_s2 = 2,
	.s2 = {{0, HBASE + 4096, RAM4K_SIZE},
	       {RAM4K_SIZE, HBASE + RAM4K_SIZE + (2ULL << 20), (8ULL << 30) - RAM4K_SIZE}},
	.gram = {0, HBASE + 4096, RAM4K_SIZE},
	.gtables = GTABLES,
	.region = {[XS_R_4K] = {IOVA_4K, IPA_4K, XS_4K_PAGES * 4096},
		   [XS_R_2M] = {IOVA_2M, IPA_2M, XS_2M_BLOCKS << 21},
		   [XS_R_4K2M] = {IOVA_4K2M, IPA_4K2M, XS_4K_PAGES * 4096}},
	.unit = {[XS_R_4K] = 4096, [XS_R_2M] = 2ULL << 20, [XS_R_4K2M] = 4096},
	.s1_pa_bias = HBASE,
};

int xs_build(struct xsetup *s, enum xs_mode mode)
{
	const struct pt_cfg s1c = {.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48};
	const struct pt_cfg s2c = {
		.format = PT_VMSA_S2, .granule_shift = 12, .ias = 48, .oas = 48, .sl0 = 2};

	return xs_build_layout(s, mode, &s1c, &s2c, &fixed_layout);
}

/* The inputs of @c, to be initialised afresh. */
static struct pt_cfg cfg_inputs(const struct pt_cfg *c)
{
	return (struct pt_cfg){.format = c->format,
			       .granule_shift = c->granule_shift,
			       .ias = c->ias,
			       .oas = c->oas,
			       .sl0 = c->sl0,
			       .levels = c->levels,
			       .iova_base = c->iova_base,
			       .flags = c->flags};
}

int xs_build_layout(struct xsetup *s, enum xs_mode mode, const struct pt_cfg *s1c,
		    const struct pt_cfg *s2c, const struct xs_layout *lay)
{
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->lay = *lay;
	if (mode != XS_S2) {
		s->s1c = cfg_inputs(s1c);
		ret = pt_cfg_init(&s->s1c);
	}
	if (!ret && mode != XS_S1) {
		s->s2c = cfg_inputs(s2c);
		ret = pt_cfg_init(&s->s2c);
	}
	if (!ret)
		ret = pt_arena_init(&s->host, lay->hbase, lay->arena_size);
	if (!ret && lay->reserve)
		ret = pt_arena_reserve(&s->host, lay->hbase, lay->reserve);
	if (ret)
		return ret;

	if (mode != XS_S1) {
		ret = pt_table_init(&s->s2, &s->s2c, &s->host.mem);
		for (unsigned int i = 0; !ret && i < lay->nr_s2; i++)
			ret = pt_map(&s->s2, lay->s2[i].in, lay->s2[i].out, lay->s2[i].size,
				     PT_PROT_RW);
		if (ret)
			return ret;
		s->xc.s2.cfg = &s->s2.cfg;
		s->xc.s2.root = s->s2.root;
	}
	if (mode != XS_S2) {
		struct pt_mem *mem = &s->host.mem;
		uint64_t out_base = 0; /* stage-1 outputs: IPA, or PA with stage 1 alone */

		if (mode == XS_NESTED) {
			s->guest.mem.nr_regions = 1;
			s->guest.mem.region[0] = (struct pt_mem_region){
				.base = lay->gram.in,
				.size = lay->gram.size,
				.host = s->host.buf + (lay->gram.out - lay->hbase)};
			s->guest.mem.alloc_table = guest_alloc_table;
			s->guest.mem.free_table = guest_free_table;
			s->guest.next = lay->gtables;
			s->guest.limit = lay->gram.in + lay->gram.size;
			mem = &s->guest.mem;
		} else {
			out_base = lay->s1_pa_bias;
		}
		ret = pt_table_init(&s->s1, &s->s1c, mem);
		for (unsigned int r = 0; !ret && r < XS_NR_REGIONS; r++)
			if (lay->region[r].size)
				ret = pt_map(&s->s1, lay->region[r].in,
					     out_base + lay->region[r].out, lay->region[r].size,
					     PT_PROT_RW);
		if (ret)
			return ret;
		s->xc.s1.cfg = &s->s1.cfg;
		s->xc.s1.root = s->s1.root;
	}
	s->xc.mem = &s->host.mem;
	s->xc.tag = (struct xlate_tag){.vmid = mode == XS_S1 ? 0 : 1, .asid = 1};
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Fitted layouts                                                         */

#define FIT_ALIGN  (1ULL << 30)
#define FIT_HBASE  (1ULL << 30)
#define FIT_TABLES 64 /* tables of the largest size allowed for above the leaf tables */

/* 2^bits, saturated: the first address a size of @bits does not reach. */
static uint64_t top_of(unsigned int bits)
{
	return bits >= 64 ? UINT64_MAX : 1ULL << bits;
}

/* Bytes of tables for @pages leaves of one stage: two descriptors a leaf and FIT_TABLES roots. */
static uint64_t table_room(const struct pt_cfg *c, uint64_t pages)
{
	uint64_t big = MAX((uint64_t)pt_table_size(c, 0), pt_page_size(c));

	return ALIGN_UP(pages * 16 + FIT_TABLES * MAX(big, 4096ULL), 2ULL << 20);
}

/* "stage 1 ias 25 is too small: the IOVAs would reach 0x40000000 (limit 0x2000000)" */
static int fit_fail(char *why, size_t len, const char *stage, const char *size, unsigned int bits,
		    const char *what, uint64_t need)
{
	if (why && len)
		snprintf(why, len,
			 "%s %s %u is too small: the %ss would reach 0x%llx (limit 0x%llx)", stage,
			 size, bits, what, (unsigned long long)need,
			 (unsigned long long)top_of(bits));
	return -ERANGE;
}

static int fit_one(struct xs_layout *lay, enum xs_mode mode, const struct pt_cfg *s1c,
		   const struct pt_cfg *s2c, uint64_t pages, char *why, size_t len)
{
	uint64_t p1 = mode != XS_S2 ? pt_page_size(s1c) : 0;
	uint64_t p2 = mode != XS_S1 ? pt_page_size(s2c) : 0;
	uint64_t p = mode == XS_S2 ? p2 : p1, data = pages * p, ib = 0, dbase, top;
	struct xs_range *r = &lay->region[XS_R_4K];

	memset(lay, 0, sizeof(*lay));
	if (!pages || data / pages != p || data > (1ULL << 56)) {
		if (why && len)
			snprintf(why, len, "%llu pages of 0x%llx bytes are more than 2^56 bytes",
				 (unsigned long long)pages, (unsigned long long)p);
		return -ERANGE;
	}
	lay->hbase = FIT_HBASE;
	lay->unit[XS_R_4K] = p;
	if (mode != XS_S2) {
		uint64_t span = top_of(s1c->ias - 1);

		ib = s1c->iova_base;
		if (span >= 0x1000000000ULL && span - 0x1000000000ULL >= data)
			ib += 0x1000000000ULL;
		if (data > top_of(s1c->ias) - (ib - s1c->iova_base))
			return fit_fail(why, len, "stage 1", "ias", s1c->ias, "IOVA", ib + data);
	}
	switch (mode) {
	case XS_S1:
		*r = (struct xs_range){ib, p1, data};
		lay->arena_size = table_room(s1c, pages);
		dbase = ALIGN_UP(lay->hbase + lay->arena_size, FIT_ALIGN);
		lay->s1_pa_bias = dbase;
		top = dbase + p1 + data;
		if (top > top_of(s1c->oas))
			return fit_fail(why, len, "stage 1", "oas", s1c->oas, "PA", top);
		return 0;
	case XS_S2:
		*r = (struct xs_range){0, p2, data};
		lay->arena_size = table_room(s2c, pages + 1);
		dbase = ALIGN_UP(lay->hbase + lay->arena_size, FIT_ALIGN);
		lay->nr_s2 = 1;
		lay->s2[0] = (struct xs_range){0, dbase + p2, p2 + data};
		if (p2 + data > top_of(s2c->ias))
			return fit_fail(why, len, "stage 2", "ias", s2c->ias, "IPA", p2 + data);
		top = dbase + 2 * p2 + data;
		if (top > top_of(s2c->oas))
			return fit_fail(why, len, "stage 2", "oas", s2c->oas, "PA", top);
		return 0;
	case XS_NESTED: {
		uint64_t ipa_data = ALIGN_UP(p1 + data, p2), gt = ALIGN_UP(ipa_data, FIT_ALIGN);
		uint64_t gsize = ALIGN_UP(table_room(s1c, pages), p2), ipa_top = gt + gsize;

		*r = (struct xs_range){ib, p1, data};
		lay->reserve = p2 + gsize;
		lay->gram = (struct xs_range){gt, lay->hbase + p2, gsize};
		lay->gtables = gt;
		lay->arena_size = lay->reserve + table_room(s2c, ipa_data / p2 + gsize / p2);
		dbase = ALIGN_UP(lay->hbase + lay->arena_size, FIT_ALIGN);
		lay->nr_s2 = 2;
		lay->s2[0] = (struct xs_range){0, dbase + p2, ipa_data};
		lay->s2[1] = (struct xs_range){gt, lay->hbase + p2, gsize};
		if (ipa_top > top_of(s1c->oas))
			return fit_fail(why, len, "stage 1", "oas", s1c->oas, "IPA", ipa_top);
		if (ipa_top > top_of(s2c->ias))
			return fit_fail(why, len, "stage 2", "ias", s2c->ias, "IPA", ipa_top);
		top = dbase + p2 + ipa_data;
		if (top > top_of(s2c->oas))
			return fit_fail(why, len, "stage 2", "oas", s2c->oas, "PA", top);
		return 0;
	}
	}
	return -EINVAL;
}

int xs_layout_fit(struct xs_layout *lay, enum xs_mode mode, const struct pt_cfg *s1c,
		  const struct pt_cfg *s2c, uint64_t *pages, uint64_t min_pages, char *why,
		  size_t len)
{
	uint64_t n = *pages;
	bool first = true;

	if (why && len)
		why[0] = 0;
	for (; n >= min_pages && n; n /= 2) {
		/* The first failure says why; the later ones only look for a size that fits. */
		if (!fit_one(lay, mode, s1c, s2c, n, first ? why : NULL, first ? len : 0)) {
			*pages = n;
			return 0;
		}
		first = false;
	}
	return -ERANGE;
}

void xs_destroy(struct xsetup *s)
{
	if (s->s1.root_ptr)
		pt_table_destroy(&s->s1);
	if (s->s2.root_ptr)
		pt_table_destroy(&s->s2);
	if (s->host.buf)
		pt_arena_destroy(&s->host);
	free(s->guest.free);
	memset(s, 0, sizeof(*s));
}
