// SPDX-License-Identifier: MIT
/*
 * tce.c - sPAPR / PowerNV TCE tables (IODA2 style, one to five levels) as a
 * pt format: the table behind one DMA window of a PowerPC PHB.
 *
 * Window. A TCE table translates one window of bus addresses: 2^ias bytes
 * starting at iova_base (reference hw.md §4.3: window 0 at bus address 0,
 * window 1 at 1 << 59). The window is a power of two and its start is
 * aligned to its size, so "offset into the window" is just the low ias bits.
 * An input outside [iova_base, iova_base + 2^ias) is a translation fault at
 * level 0 before anything is read; the engine's map / unmap say -ERANGE.
 *
 * Geometry. The window holds n = ias - page_shift TCE indices. With L
 * levels, each level below the root resolves e = ceil(n / L) index bits and
 * the root resolves what is left on top, n - (L - 1) * e, which is what
 * Linux's multi-level tables (pnv_pci_ioda2_table_alloc_pages) give when a
 * level is at least a kernel page. Linux also accepts more levels than the
 * window needs (n = 16 in five levels of 4 bits); the root then resolves no
 * bits at all and only its entry 0 is ever used, which we describe as a root
 * of one index bit above the window (bits[0] = 1). Levels are numbered
 * top-down from 0; a leaf (a TCE proper) exists only at the last level. We
 * keep Linux's bound e * L + page_shift < 60 and its five levels; pages are
 * 2^12 .. 2^34 bytes (4K, 64K, 16M and the DDW sizes up to 16G). Differences
 * from Linux, on purpose: our level tables are exactly 8 << e bytes (at
 * least 64), where Linux rounds each one up to a kernel page and then uses
 * the whole page, widening every level (a guest table built that way
 * splits the index differently; modelling it needs the TVE's level-size
 * field as an input, which pt_cfg does not have). A one-level table is
 * limited to 2^24 entries (the engine's table bound): use more levels.
 *
 * Entries (hw.md §4.1) are 64-bit big-endian in memory: fmt_load /
 * fmt_store byte-swap (the host is little-endian, as in pt_mem.c), and
 * .big_endian makes pt_mem_read_desc do the same for walks. In CPU order:
 *   bit 0  TCE_PCI_READ   the device may read the page
 *   bit 1  TCE_PCI_WRITE  the device may write it
 *   [63:page_shift]       leaf: the page's address (RPN << page_shift)
 * An entry with neither READ nor WRITE is not present: translation fault at
 * its level. An indirect entry (any level but the last) holds the next
 * table's address ORed with READ | WRITE; either bit makes it present, and
 * its R/W bits do not limit the leaf (Linux always writes both, and the
 * PHB uses them as "valid" only). The next table is aligned to its size,
 * so address bits below that size are ignored, as the VMSA walker ignores
 * the low bits of a root address.
 *
 * Reserved bits: a leaf's bits [page_shift-1:2] are ignored (they are
 * below the page; Linux masks them off when it reads a TCE back, and a
 * larger IOMMU page simply does not use the low RPN bits). Address bits at
 * or above oas are not ignored: a leaf or table address >= 2^oas is an
 * address size fault at that level rather than a silent alias. oas is the
 * real-address width of the PHB: 32..64, 0 meaning 52 (TCE_RPN_BITS).
 *
 * Permissions: a read needs READ, a write needs WRITE; there is no
 * privilege level (every leaf grants PT_PROT_U) and no execute (never
 * PT_PROT_X, so an execute access is a permission fault). Mapping follows
 * PowerNV's pnv_tce_build: WRITE always comes with READ, because the PHB
 * cannot do write-only DMA, so pt_map(W) stores READ | WRITE; a hand-built
 * write-only TCE still walks as write-only. X and U in pt_map's prot are
 * ignored. There are no blocks, no accessed / dirty bits, and no flags.
 *
 * Locking and ordering are the engine's (pt_engine.h): callers serialise
 * map / unmap; every store is one release store of the swapped value.
 */
#include <errno.h>
#include <stdio.h>

#include "pt/pt.h"
#include "util/bits.h"

#define TCE_READ      BIT(0)
#define TCE_WRITE     BIT(1)
#define TCE_RW	      (TCE_READ | TCE_WRITE)
#define TCE_MAX_LEVELS 5
#define TCE_MIN_PAGE  12
#define TCE_MAX_PAGE  34
#define TCE_RPN_BITS  52 /* default output size */

static inline unsigned int last_depth(const struct pt_cfg *c)
{
	return c->nlevels - 1;
}

/* Address bits at or above the output size (0 when oas is 64). */
static inline bool beyond_oas(const struct pt_cfg *c, uint64_t addr)
{
	return c->oas < 64 && (addr >> c->oas);
}

/* ---------------------------------------------------------------------- */
/* Configuration                                                          */

static int tce_cfg_init(struct pt_cfg *c)
{
	unsigned int g, n, e, top;
	int root_bits;

	if (c->granule_shift == 0)
		c->granule_shift = TCE_MIN_PAGE;
	if (c->oas == 0)
		c->oas = TCE_RPN_BITS;
	g = c->granule_shift;
	if (g < TCE_MIN_PAGE || g > TCE_MAX_PAGE)
		return -EINVAL;
	if (c->levels < 1 || c->levels > TCE_MAX_LEVELS)
		return -EINVAL;
	/* The window holds at least two pages and sits below bit 60. */
	if (c->ias <= g || c->ias > 59)
		return -EINVAL;
	/* A page must fit in the output space, or its offset would leave it. */
	if (c->oas < 32 || c->oas > 64 || c->oas < g)
		return -EINVAL;
	if (!IS_ALIGNED(c->iova_base, 1ULL << c->ias))
		return -EINVAL;

	n = c->ias - g;
	e = (n + c->levels - 1) / c->levels;
	if (e * c->levels + g >= 60)
		return -EINVAL;

	c->nlevels = c->levels;
	c->start_level = 0;
	c->level_step = 1;
	top = c->nlevels - 1;
	for (unsigned int d = 0; d < c->nlevels; d++) {
		c->shift[d] = (uint8_t)(g + (top - d) * e);
		c->bits[d] = (uint8_t)e;
	}
	root_bits = (int)n - (int)(top * e);
	c->bits[0] = (uint8_t)(root_bits > 0 ? root_bits : 1);
	c->leaf_ok = (uint16_t)BIT(top);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Engine helpers (see pt_engine.h)                                       */

static inline uint64_t fmt_load(const uint64_t *p)
{
	return __builtin_bswap64(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline void fmt_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, __builtin_bswap64(v), __ATOMIC_RELEASE);
}

static inline bool fmt_is_table(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return depth < last_depth(c) && (d & TCE_RW);
}

static inline uint64_t fmt_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & ~(uint64_t)(pt_table_size(c, depth + 1) - 1);
}

static inline uint64_t fmt_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & ~mask_bits(c->shift[depth]);
}

static inline unsigned int fmt_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return PT_PROT_U | (d & TCE_READ ? PT_PROT_R : 0) | (d & TCE_WRITE ? PT_PROT_W : 0);
}

static inline uint64_t fmt_mk_table(const struct pt_cfg *c, unsigned int depth, uint64_t pa)
{
	return pa | TCE_RW;
}

static inline uint64_t fmt_mk_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t pa,
				   unsigned int prot)
{
	/* PowerNV: no write-only DMA, WRITE always comes with READ. */
	if (prot & PT_PROT_W)
		return pa | TCE_RW;
	return pa | TCE_READ;
}

/* Never called: leaves exist only at the last level, so there is no block to split. */
static inline uint64_t fmt_split_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d;
}

#define PT_ENGINE_OWN_ACCESS /* big-endian entries: fmt_load / fmt_store above */
#include "pt/pt_engine.h"

/* ---------------------------------------------------------------------- */
/* Walk                                                                   */

static enum pt_step tce_walk_begin(const struct pt_cfg *c, uint64_t root, uint64_t iova,
				   unsigned int access, struct pt_walk *w, struct pt_fault *f)
{
	uint64_t base;

	pt_walk_init(w, c, iova, access);
	w->prot &= ~PT_PROT_X; /* TCE has no execute permission */
	/* Outside the window: nothing is read. */
	if (iova < c->iova_base || ((iova - c->iova_base) >> c->ias)) {
		*f = (struct pt_fault){ .reason = PT_FAULT_TRANSLATION, .level = c->start_level };
		return PT_STEP_FAULT;
	}
	if (beyond_oas(c, root)) {
		*f = (struct pt_fault){ .reason = PT_FAULT_ADDR_SIZE, .level = c->start_level };
		return PT_STEP_FAULT;
	}
	base = root & ~(uint64_t)(pt_table_size(c, 0) - 1);
	w->desc_addr = base + (uint64_t)pt_index(c, 0, iova) * 8;
	return PT_STEP_TABLE;
}

static enum pt_step tce_walk_step(struct pt_walk *w, uint64_t d, struct pt_leaf *leaf,
				  struct pt_fault *f)
{
	const struct pt_cfg *c = w->cfg;
	unsigned int depth = w->depth;
	unsigned int prot, need;
	uint64_t oa;

	if (!(d & TCE_RW))
		return pt_walk_fault(w, f, PT_FAULT_TRANSLATION, d);

	if (depth < last_depth(c)) {
		uint64_t next = fmt_table_pa(c, depth, d);

		if (beyond_oas(c, next))
			return pt_walk_fault(w, f, PT_FAULT_ADDR_SIZE, d);
		w->depth++;
		w->desc_addr = next + (uint64_t)pt_index(c, w->depth, w->iova) * 8;
		return PT_STEP_TABLE;
	}

	oa = fmt_leaf_pa(c, depth, d);
	if (beyond_oas(c, oa))
		return pt_walk_fault(w, f, PT_FAULT_ADDR_SIZE, d);

	prot = fmt_leaf_prot(c, depth, d) & w->prot;
	need = w->access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	if (need & ~prot)
		return pt_walk_fault(w, f, PT_FAULT_PERMISSION, d);

	leaf->size = pt_entry_size(c, depth);
	leaf->oa = oa | ((w->iova - c->iova_base) & (leaf->size - 1));
	leaf->prot = prot;
	leaf->level = pt_level(c, depth);
	leaf->desc = d;
	leaf->desc_addr = w->desc_addr;
	return PT_STEP_LEAF;
}

static void tce_decode(const struct pt_cfg *c, int level, uint64_t d, char *buf, size_t len)
{
	unsigned int depth = level < 0 ? 0 : (unsigned int)(level - c->start_level);
	bool last = depth >= last_depth(c);
	char rw[3] = { d & TCE_READ ? 'r' : '-', d & TCE_WRITE ? 'w' : '-', 0 };
	uint64_t addr, ign;

	if (!(d & TCE_RW)) {
		if (d)
			snprintf(buf, len, "not present (0x%llx)", (unsigned long long)d);
		else
			snprintf(buf, len, "not present");
		return;
	}
	if (!last) {
		addr = fmt_table_pa(c, depth, d);
		ign = d & ~addr & ~TCE_RW;
		snprintf(buf, len, "indirect next=0x%llx %s%s%s", (unsigned long long)addr, rw,
			 beyond_oas(c, addr) ? " beyond-oas" : "", ign ? " ignored-low-bits" : "");
		return;
	}
	addr = fmt_leaf_pa(c, depth, d);
	ign = d & ~addr & ~TCE_RW;
	snprintf(buf, len, "tce oa=0x%llx %s%s%s", (unsigned long long)addr, rw,
		 beyond_oas(c, addr) ? " beyond-oas" : "", ign ? " ignored-low-bits" : "");
}

const struct pt_fmt pt_fmt_tce = {
	.name = "tce",
	.cfg_init = tce_cfg_init,
	.walk_begin = tce_walk_begin,
	.walk_step = tce_walk_step,
	.decode = tce_decode,
	.big_endian = true,
	.map = eng_map,
	.unmap = eng_unmap,
	.iova_to_phys = eng_iova_to_phys,
	.for_each_leaf = eng_for_each_leaf,
	.free_all = eng_free_all,
	.check = eng_check,
};
