// SPDX-License-Identifier: MIT
/*
 * bench/xsetup.c - the shared translation setups of the cache benchmarks.
 *
 * Addresses (host "physical" memory starts at HBASE = 4 GiB; the arena is
 * reserved lazily, so only what is touched becomes resident):
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
 */
#include <errno.h>
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
	*ptr = mem->region[0].host + off;
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

uint64_t xs_addr_4k(const struct xsetup *s, uint64_t i)
{
	return (s->mode == XS_S2 ? IPA_4K : IOVA_4K) + i * 4096;
}

uint64_t xs_addr_4k_s2_2m(const struct xsetup *s, uint64_t i)
{
	return (s->mode == XS_S2 ? IPA_4K2M : IOVA_4K2M) + i * 4096;
}

uint64_t xs_addr_2m(const struct xsetup *s, uint64_t i, uint64_t off)
{
	return (s->mode == XS_S2 ? IPA_2M : IOVA_2M) + i * (2ULL << 20) + off;
}

int xs_build(struct xsetup *s, enum xs_mode mode)
{
	uint64_t out_base = 0; /* stage-1 outputs: IPA, or PA with stage 1 alone */
	int ret;

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->s1c = (struct pt_cfg){.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48};
	s->s2c = (struct pt_cfg){
		.format = PT_VMSA_S2, .granule_shift = 12, .ias = 48, .oas = 48, .sl0 = 2};
	ret = pt_cfg_init(&s->s1c);
	if (!ret)
		ret = pt_cfg_init(&s->s2c);
	if (!ret)
		ret = pt_arena_init(&s->host, HBASE, ARENA_SIZE);
	if (!ret)
		ret = pt_arena_reserve(&s->host, HBASE, DATA_END);
	if (ret)
		return ret;

	if (mode != XS_S1) {
		ret = pt_table_init(&s->s2, &s->s2c, &s->host.mem);
		if (!ret)
			ret = pt_map(&s->s2, 0, HBASE + 4096, RAM4K_SIZE, PT_PROT_RW);
		if (!ret)
			ret = pt_map(&s->s2, RAM4K_SIZE, HBASE + RAM4K_SIZE + (2ULL << 20),
				     (8ULL << 30) - RAM4K_SIZE, PT_PROT_RW);
		if (ret)
			return ret;
		s->xc.s2.cfg = &s->s2.cfg;
		s->xc.s2.root = s->s2.root;
	}
	if (mode != XS_S2) {
		struct pt_mem *mem = &s->host.mem;

		if (mode == XS_NESTED) {
			s->guest.mem.nr_regions = 1;
			s->guest.mem.region[0] = (struct pt_mem_region){
				.base = 0, .size = RAM4K_SIZE, .host = s->host.buf + 4096};
			s->guest.mem.alloc_table = guest_alloc_table;
			s->guest.mem.free_table = guest_free_table;
			s->guest.next = GTABLES;
			s->guest.limit = RAM4K_SIZE;
			mem = &s->guest.mem;
		} else {
			out_base = HBASE;
		}
		ret = pt_table_init(&s->s1, &s->s1c, mem);
		if (!ret)
			ret = pt_map(&s->s1, IOVA_4K, out_base + IPA_4K, XS_4K_PAGES * 4096,
				     PT_PROT_RW);
		if (!ret)
			ret = pt_map(&s->s1, IOVA_2M, out_base + IPA_2M, XS_2M_BLOCKS << 21,
				     PT_PROT_RW);
		if (!ret)
			ret = pt_map(&s->s1, IOVA_4K2M, out_base + IPA_4K2M, XS_4K_PAGES * 4096,
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
