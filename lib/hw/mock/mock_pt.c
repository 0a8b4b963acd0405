// SPDX-License-Identifier: MIT
/*
 * mock_pt.c - the page-table format of the mock IOMMU: a three-level radix
 * table with 2 KiB pages and 1 MiB large leaves, and a dirty bit per leaf.
 *
 * Why a format of its own. The kernel's selftest needs an IOVA granule of
 * 2 KiB (MOCK_PAGE_SIZE, half a CPU page, so that iommufd's handling of
 * sub-page IOVA alignment is exercised), 1 MiB huge mappings (512 pages,
 * MOCK_HUGE_PAGE_SIZE) that dirty tracking reports as a whole, and a dirty
 * bit that hardware sets and the driver reads and clears. No architectural
 * format in lib/pt has all three: the smallest page of VMSA, x86 and VT-d
 * is 4 KiB, and sPAPR TCE, which could be taught 2 KiB pages by relaxing
 * its cfg rule, has neither large leaves nor dirty bits, so both would end
 * up in side tables next to a table that no longer described the mapping.
 * Linux itself gave its mock a real format in v6.19 (AMD v1 with a 2 KiB
 * granule, three levels from level 2); AMD v1 is not in lib/pt, and its
 * variable-size "next level 7" pages are more than the mock needs. So the
 * mock has this small format, with the same geometry as that kernel mock
 * (2 KiB x 512^3 = 2^38 bytes of IOVA), and it lives here, with its only
 * user: it is not an architecture, so it is not in enum pt_format, the CLI
 * or the public API. It is nevertheless a lib/pt format in every other
 * respect: a struct pt_fmt whose map, unmap, split, prune and iterate come
 * from pt_engine.h (so it inherits the engine's all-or-nothing map, block
 * splitting on partial unmap, atomic descriptor stores and rollback), and
 * whose walk_begin / walk_step serve pt_walk_mem and pt_table_walk. Its
 * struct pt_cfg is filled here rather than by pt_cfg_init(); format is
 * PT_NR_FORMATS, which pt_format_name() prints as "?" (fmt->name is
 * "mock").
 *
 * Geometry. Level 2 (depth 0, the root) resolves IOVA bits [37:29], level
 * 1 bits [28:20], level 0 bits [19:11]; tables are 512 entries, 4 KiB.
 * Leaves: a 2 KiB page at level 0, a 1 MiB block at level 1. An input at
 * or above 2^38 is outside the table: a translation fault at level 2
 * before any read (pt_map: -ERANGE).
 *
 * Descriptors (64-bit, little-endian):
 *   bit 0   V  valid
 *   bit 1   R  device may read (leaf)
 *   bit 2   W  device may write (leaf)
 *   bit 3   T  links a table (levels 2 and 1); a leaf has T = 0
 *   bit 4   D  dirty: set by a device write while tracking, cleared by reads
 *   [55:11]    address: table (4 KiB aligned), page, or block (1 MiB aligned)
 * Bits [10:5] and [63:56] are reserved: a walk that finds one set reports
 * PT_FAULT_RESERVED, as it does for T at level 0, a leaf at level 2, bit 11
 * of a table address, and address bits [19:11] of a block. An entry with V
 * clear is not present (translation fault). Table descriptors carry no
 * permissions; a leaf grants R and W as set, U always (there is no
 * privilege level) and never X.
 *
 * Page size is the caller's choice. The engine maps the largest leaves
 * alignment allows; the mock must instead store exactly the page size the
 * core asked for, or dirty tracking would report 512 pages where the
 * kernel's mock reports one ("set_dirty can touch too much", as the
 * selftest puts it). mock_pt_map() therefore sets PT_CFG_NO_BLOCKS in the
 * table's own cfg for every map that is not a 1 MiB one. Only the map path
 * reads that flag; walkers do not.
 *
 * Dirty bits are the one thing the engine does not write. They are changed
 * with atomic read-modify-write (or / and) on the leaf, so a device
 * setting D and the driver clearing it never lose each other's update; a
 * leaf's other bits never change while it is live. Splitting a dirty block
 * gives 512 dirty pages (the split copies the attributes), which is
 * conservative and what hardware that splits a dirty entry reports.
 *
 * Locking: callers serialise map, unmap, set_dirty and read_and_clear
 * (the iommufd context lock); translate runs concurrently with them, as a
 * read-side section of util/epoch.h, so the tables an unmap frees stay
 * intact until it is done (the host port reuses them after the grace
 * period).
 */
#include <errno.h>
#include <stdio.h>

#include "hw/mock/mock_pt.h"
#include "pt/pt.h"
#include "util/bits.h"
#include "util/epoch.h"

#define MPT_V	 BIT(0)
#define MPT_R	 BIT(1)
#define MPT_W	 BIT(2)
#define MPT_T	 BIT(3)
#define MPT_D	 BIT(4)
#define MPT_ADDR GENMASK(55, 11)
#define MPT_RSVD (GENMASK(10, 5) | GENMASK(63, 56))

#define MPT_LEVELS	3
#define MPT_LAST_DEPTH	(MPT_LEVELS - 1)
#define MPT_TABLE_ALIGN 4096u

/* ---------------------------------------------------------------------- */
/* Engine helpers (see pt_engine.h)                                       */

static inline bool fmt_is_table(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return depth < MPT_LAST_DEPTH && (d & MPT_T);
}

static inline uint64_t fmt_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & MPT_ADDR & ~(uint64_t)(MPT_TABLE_ALIGN - 1);
}

static inline uint64_t fmt_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & MPT_ADDR & ~mask_bits(c->shift[depth]);
}

static inline unsigned int fmt_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return PT_PROT_U | (d & MPT_R ? PT_PROT_R : 0) | (d & MPT_W ? PT_PROT_W : 0);
}

static inline uint64_t fmt_mk_table(const struct pt_cfg *c, unsigned int depth, uint64_t pa)
{
	return pa | MPT_V | MPT_T;
}

static inline uint64_t fmt_mk_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t pa,
				   unsigned int prot)
{
	return pa | MPT_V | (prot & PT_PROT_R ? MPT_R : 0) | (prot & PT_PROT_W ? MPT_W : 0);
}

/* The first 2 KiB page of a block: same address, same bits (D included). */
static inline uint64_t fmt_split_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d;
}

#include "pt/pt_engine.h"

/* ---------------------------------------------------------------------- */
/* Walk                                                                   */

static enum pt_step mock_walk_begin(const struct pt_cfg *c, uint64_t root, uint64_t iova,
				    unsigned int access, struct pt_walk *w, struct pt_fault *f)
{
	pt_walk_init(w, c, iova, access);
	w->prot &= ~PT_PROT_X;
	if (iova >> c->ias) {
		*f = (struct pt_fault){ .reason = PT_FAULT_TRANSLATION, .level = c->start_level };
		return PT_STEP_FAULT;
	}
	if (root >> c->oas) {
		*f = (struct pt_fault){ .reason = PT_FAULT_ADDR_SIZE, .level = c->start_level };
		return PT_STEP_FAULT;
	}
	w->desc_addr = (root & ~(uint64_t)(MPT_TABLE_ALIGN - 1)) + pt_index(c, 0, iova) * 8ULL;
	return PT_STEP_TABLE;
}

static enum pt_step mock_walk_step(struct pt_walk *w, uint64_t d, struct pt_leaf *leaf,
				   struct pt_fault *f)
{
	const struct pt_cfg *c = w->cfg;
	unsigned int depth = w->depth;
	unsigned int prot, need;
	uint64_t size;

	if (!(d & MPT_V))
		return pt_walk_fault(w, f, PT_FAULT_TRANSLATION, d);
	if (d & MPT_RSVD)
		return pt_walk_fault(w, f, PT_FAULT_RESERVED, d);
	if (d & MPT_T) {
		if (depth == MPT_LAST_DEPTH || (d & BIT(11)))
			return pt_walk_fault(w, f, PT_FAULT_RESERVED, d);
		w->depth++;
		w->desc_addr = fmt_table_pa(c, depth, d) + pt_index(c, w->depth, w->iova) * 8ULL;
		return PT_STEP_TABLE;
	}
	/* A leaf: only where the format allows one, with an aligned address. */
	if (!(c->leaf_ok & BIT(depth)) || (d & MPT_ADDR & mask_bits(c->shift[depth])))
		return pt_walk_fault(w, f, PT_FAULT_RESERVED, d);

	prot = fmt_leaf_prot(c, depth, d) & w->prot;
	need = w->access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	if (need & ~prot)
		return pt_walk_fault(w, f, PT_FAULT_PERMISSION, d);
	if ((c->flags & PT_CFG_HW_AD) && (w->access & PT_PROT_W) && !(d & MPT_D))
		pt_walk_request_wb(w, d, d | MPT_D);

	size = pt_entry_size(c, depth);
	leaf->size = size;
	leaf->oa = fmt_leaf_pa(c, depth, d) | (w->iova & (size - 1));
	leaf->prot = prot;
	leaf->level = pt_level(c, depth);
	leaf->desc = d;
	leaf->desc_addr = w->desc_addr;
	return PT_STEP_LEAF;
}

static void mock_decode(const struct pt_cfg *c, int level, uint64_t d, char *buf, size_t len)
{
	unsigned int depth = (unsigned int)(c->start_level - level);

	if (!(d & MPT_V)) {
		snprintf(buf, len, d ? "not present (0x%llx)" : "not present",
			 (unsigned long long)d);
		return;
	}
	if (d & MPT_T) {
		snprintf(buf, len, "table next=0x%llx%s", (unsigned long long)fmt_table_pa(c, 0, d),
			 (d & MPT_RSVD) || depth >= MPT_LAST_DEPTH ? " reserved" : "");
		return;
	}
	snprintf(buf, len, "%s oa=0x%llx %c%c%s%s", depth == 1 ? "block" : "page",
		 (unsigned long long)(d & MPT_ADDR), d & MPT_R ? 'r' : '-', d & MPT_W ? 'w' : '-',
		 d & MPT_D ? " dirty" : "", d & MPT_RSVD ? " reserved" : "");
}

const struct pt_fmt mock_pt_fmt = {
	.name = "mock",
	.cfg_init = NULL, /* the cfg is built by mock_pt_init(), never by pt_cfg_init() */
	.walk_begin = mock_walk_begin,
	.walk_step = mock_walk_step,
	.decode = mock_decode,
	.big_endian = false,
	.map = eng_map,
	.unmap = eng_unmap,
	.iova_to_phys = eng_iova_to_phys,
	.for_each_leaf = eng_for_each_leaf,
	.free_all = eng_free_all,
	.check = eng_check,
};

/* ---------------------------------------------------------------------- */
/* The mock's own entry points                                            */

int mock_pt_init(struct pt_table *t)
{
	struct pt_cfg c = {
		.format = PT_NR_FORMATS,
		.granule_shift = MOCK_PT_PAGE_SHIFT,
		.ias = MOCK_PT_IAS,
		.oas = MOCK_PT_OAS,
		.levels = MPT_LEVELS,
		.fmt = &mock_pt_fmt,
		.nlevels = MPT_LEVELS,
		.start_level = MPT_LEVELS - 1,
		.level_step = -1,
		.concat = 1,
		.shift = { 29, 20, 11 },
		.bits = { 9, 9, 9 },
		.leaf_ok = (uint16_t)(BIT(1) | BIT(2)),
	};

	return pt_table_init(t, &c, &pt_mem_host);
}

void mock_pt_destroy(struct pt_table *t)
{
	pt_table_destroy(t);
}

int mock_pt_map(struct pt_table *t, uint64_t iova, uint64_t pa, uint64_t size,
		unsigned int prot, uint64_t leaf_size)
{
	if (leaf_size == (1ULL << MOCK_PT_HUGE_SHIFT))
		t->cfg.flags &= ~PT_CFG_NO_BLOCKS;
	else
		t->cfg.flags |= PT_CFG_NO_BLOCKS;
	return pt_map(t, iova, pa, size, prot);
}

/* The slot of the leaf that maps @iova, or NULL; *depth gets its depth. */
static uint64_t *leaf_slot(const struct pt_table *t, uint64_t iova, unsigned int *depth)
{
	const struct pt_cfg *c = &t->cfg;
	uint64_t *table = t->root_ptr;

	if (iova >> c->ias)
		return NULL;
	for (unsigned int d = 0; d < MPT_LEVELS; d++) {
		uint64_t *p = &table[pt_index(c, d, iova)];
		uint64_t e = fmt_load(p);

		if (!e)
			return NULL;
		if (fmt_is_table(c, d, e)) {
			table = eng_child(t, d, e);
			continue;
		}
		*depth = d;
		return p;
	}
	return NULL;
}

bool mock_pt_set_dirty(struct pt_table *t, uint64_t iova)
{
	unsigned int depth;
	uint64_t *p = leaf_slot(t, iova, &depth);

	if (!p)
		return false;
	__atomic_fetch_or(p, MPT_D, __ATOMIC_RELEASE);
	return true;
}

int mock_pt_leaf_info(const struct pt_table *t, uint64_t iova, uint64_t *size, bool *dirty)
{
	unsigned int depth;
	uint64_t *p;
	int ret = -ENOENT;

	epoch_enter(); /* a walk, like translate() */
	p = leaf_slot(t, iova, &depth);
	if (p) {
		if (size)
			*size = pt_entry_size(&t->cfg, depth);
		if (dirty)
			*dirty = fmt_load(p) & MPT_D;
		ret = 0;
	}
	epoch_exit();
	return ret;
}

static void dirty_level(struct pt_table *t, uint64_t *table, unsigned int depth, uint64_t start,
			uint64_t last, bool no_clear, mock_pt_dirty_fn fn, void *arg)
{
	const struct pt_cfg *c = &t->cfg;
	unsigned int i = pt_index(c, depth, start), ie = pt_index(c, depth, last);
	uint64_t esz = pt_entry_size(c, depth);
	uint64_t ebase = ALIGN_DOWN(start, esz);

	for (; i <= ie; i++, ebase += esz) {
		uint64_t e = fmt_load(&table[i]);

		if (!e)
			continue;
		if (fmt_is_table(c, depth, e)) {
			dirty_level(t, eng_child(t, depth, e), depth + 1, MAX(start, ebase),
				    MIN(last, ebase + esz - 1), no_clear, fn, arg);
			continue;
		}
		if (!(e & MPT_D))
			continue;
		fn(arg, ebase, esz);
		if (!no_clear)
			__atomic_fetch_and(&table[i], ~MPT_D, __ATOMIC_RELEASE);
	}
}

void mock_pt_read_and_clear_dirty(struct pt_table *t, uint64_t start, uint64_t last,
				  bool no_clear, mock_pt_dirty_fn fn, void *arg)
{
	if (start > last || (start >> t->cfg.ias))
		return;
	last = MIN(last, MOCK_PT_IOVA_LAST);
	dirty_level(t, t->root_ptr, 0, start, last, no_clear, fn, arg);
}

/*
 * The DMA path: a walk beside map and unmap, so a read-side section
 * (util/epoch.h) from the first table read to the dirty mark.
 */
static int translate(const struct pt_table *t, uint64_t iova, unsigned int access,
		     bool track_dirty, uint64_t *pa, uint64_t *leaf_size)
{
	unsigned int depth;
	uint64_t *p = leaf_slot(t, iova, &depth);
	uint64_t e, size;

	if (!p)
		return -ENOENT;
	e = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	if (!e)
		return -ENOENT; /* unmapped since leaf_slot looked */
	if (((access & PT_PROT_R) && !(e & MPT_R)) || ((access & PT_PROT_W) && !(e & MPT_W)) ||
	    (access & PT_PROT_X))
		return -EACCES;
	/*
	 * Mark the leaf read above, not whatever the slot holds now: OR-ing D
	 * into an entry an unmap just cleared would leave a stray non-zero
	 * entry in the table. A failed swap means the leaf changed under the
	 * access (unmapped, or marked by another writer): nothing to do.
	 */
	if ((access & PT_PROT_W) && track_dirty && !(e & MPT_D)) {
		uint64_t old = e;

		__atomic_compare_exchange_n(p, &old, e | MPT_D, false, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED);
	}
	size = pt_entry_size(&t->cfg, depth);
	*pa = fmt_leaf_pa(&t->cfg, depth, e) | (iova & (size - 1));
	if (leaf_size)
		*leaf_size = size;
	return 0;
}

int mock_pt_translate(const struct pt_table *t, uint64_t iova, unsigned int access,
		      bool track_dirty, uint64_t *pa)
{
	return mock_pt_translate_leaf(t, iova, access, track_dirty, pa, NULL);
}

int mock_pt_translate_leaf(const struct pt_table *t, uint64_t iova, unsigned int access,
			   bool track_dirty, uint64_t *pa, uint64_t *leaf_size)
{
	int ret;

	epoch_enter();
	ret = translate(t, iova, access, track_dirty, pa, leaf_size);
	epoch_exit();
	return ret;
}
