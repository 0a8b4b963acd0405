// SPDX-License-Identifier: MIT
/*
 * x86.c - x86-64 IA-32e paging (4-level and 5-level) as the Intel VT-d
 * first-stage format.
 *
 * Geometry. 4 KiB tables of 512 entries; level L (1..5, the leaf PTE being
 * level 1) resolves input bits [12 + 9L - 1 : 12 + 9(L - 1)]. A 48-bit input
 * (FSPM = 4-level) starts at the PML4 (level 4); 57 bits (5-level) at the
 * PML5. Leaves: 4K PTEs at level 1, 2M pages (PS = 1) at level 2 and 1G
 * pages at level 3 unless PT_CFG_NO_1G (CAP.FS1GP clear). The input is not
 * sign-extended for DMA: anything at or above 2^ias is non-canonical and
 * faults before any read.
 *
 * Descriptors (reference hw.md §2.2, Intel SDM vol. 3 §4.5): P 0, R/W 1,
 * U/S 2, PWT 3, PCD 4, A 5, D 6 (leaf), PS 7 (PDPTE / PDE; PAT in a PTE),
 * G 8 (leaf), PAT 12 in a large leaf, address [51:12] (large: [51:21],
 * [51:30]), XD 63; bits 62:52 are ignored. Reserved, giving
 * PT_FAULT_RESERVED: address bits [51:oas], PS in a PML4E / PML5E, PS in a
 * PDPTE when 1G pages are not supported, and the low address bits of a
 * large leaf above PAT ([20:13] for 2M, [29:13] for 1G).
 *
 * Faults, in order within one descriptor: not present (translation),
 * reserved bits, then, at the leaf only, permissions. R/W and U/S act as
 * limits accumulated down the walk (a page is writable only if every level
 * has R/W = 1, user-accessible only if every level has U/S = 1) and XD at
 * any level removes execute; supervisor writes always honour R/W (the
 * PASID entry's WPE = 1 behaviour). A request carrying PT_PROT_U is a user
 * request and faults on a supervisor page.
 *
 * A/D (PT_CFG_HW_AD): each step asks for one write-back of the descriptor
 * it decoded: A on every level walked, plus D on the leaf of a write that
 * is allowed. A faulting leaf is left untouched.
 *
 * Maps made here: leaves P | A | (R/W if W) | (U/S if PT_PROT_U) | (XD if
 * not PT_PROT_X), with D preset on writable leaves so hardware never has
 * to write a descriptor we own, write-back memory type (PWT = PCD = PAT =
 * 0), not global. x86 cannot express write-only: W maps read-write.
 * Tables are P | R/W | U/S | A and never restrict; the leaf decides.
 */
#include <errno.h>
#include <stdio.h>

#include "pt/pt.h"
#include "util/bits.h"

#define X86_P	    BIT(0)
#define X86_RW	    BIT(1)
#define X86_US	    BIT(2)
#define X86_PWT	    BIT(3)
#define X86_PCD	    BIT(4)
#define X86_A	    BIT(5)
#define X86_D	    BIT(6)
#define X86_PS	    BIT(7) /* PDPTE / PDE; in a PTE this bit is PAT */
#define X86_PAT_PTE BIT(7)
#define X86_G	    BIT(8)
#define X86_PAT_LG  BIT(12)
#define X86_XD	    BIT(63)
#define X86_ADDR    GENMASK(51, 12)

static inline unsigned int last_depth(const struct pt_cfg *c)
{
	return c->nlevels - 1;
}

/* ---------------------------------------------------------------------- */
/* Configuration                                                          */

static int x86_cfg_init(struct pt_cfg *c)
{
	if (c->granule_shift == 0)
		c->granule_shift = 12;
	if (c->granule_shift != 12 || (c->ias != 48 && c->ias != 57))
		return -EINVAL;
	if (c->oas < 32 || c->oas > 52 || c->iova_base)
		return -EINVAL;
	/* Every x86 paging mode has 2M pages: "no 2M" cannot be expressed. */
	if (c->flags & PT_CFG_NO_2M)
		return -EINVAL;

	c->nlevels = c->ias == 57 ? 5 : 4;
	if (c->levels && c->levels != c->nlevels)
		return -EINVAL;
	c->start_level = (int)c->nlevels;
	c->level_step = -1;
	for (unsigned int d = 0; d < c->nlevels; d++) {
		unsigned int level = c->nlevels - d;

		c->shift[d] = (uint8_t)(12 + 9 * (level - 1));
		c->bits[d] = 9;
		if (level == 1 || level == 2 || (level == 3 && !(c->flags & PT_CFG_NO_1G)))
			c->leaf_ok |= (uint16_t)BIT(d);
	}
	return 0;
}

/*
 * Reserved bits of a present descriptor at @depth. A PS bit that is not
 * allowed at its level is itself reserved; a large leaf reserves the
 * address bits between PAT (bit 12) and its alignment.
 */
static uint64_t x86_rsvd(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	int level = pt_level(c, depth);
	uint64_t m = c->oas < 52 ? GENMASK(51, c->oas) : 0;

	if (level >= 4)
		m |= X86_PS;
	else if (level >= 2 && (d & X86_PS))
		m |= (c->leaf_ok & BIT(depth)) ? GENMASK(c->shift[depth] - 1, 13) : X86_PS;
	return m;
}

/* ---------------------------------------------------------------------- */
/* Engine helpers (see pt_engine.h)                                       */

static inline uint64_t fmt_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void fmt_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline bool fmt_is_table(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return depth < last_depth(c) && !(d & X86_PS);
}

static inline uint64_t fmt_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & X86_ADDR;
}

static inline uint64_t fmt_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & GENMASK(51, c->shift[depth]);
}

static inline unsigned int fmt_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	unsigned int prot = PT_PROT_R;

	prot |= d & X86_RW ? PT_PROT_W : 0;
	prot |= d & X86_US ? PT_PROT_U : 0;
	prot |= d & X86_XD ? 0 : PT_PROT_X;
	return prot;
}

static inline uint64_t fmt_mk_table(const struct pt_cfg *c, unsigned int depth, uint64_t pa)
{
	return pa | X86_P | X86_RW | X86_US | X86_A;
}

static inline uint64_t fmt_mk_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t pa,
				   unsigned int prot)
{
	uint64_t d = pa | X86_P | X86_A;

	if (depth != last_depth(c))
		d |= X86_PS;
	if (prot & PT_PROT_W)
		d |= X86_RW | X86_D;
	if (prot & PT_PROT_U)
		d |= X86_US;
	if (!(prot & PT_PROT_X))
		d |= X86_XD;
	return d;
}

/*
 * First child of a large leaf: the same attributes one level down. PAT
 * moves from bit 12 to bit 7 when the children are 4K PTEs, where bit 7
 * is PAT rather than PS.
 */
static inline uint64_t fmt_split_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	uint64_t attrs = d & ~X86_ADDR;
	bool pat = d & X86_PAT_LG;

	if (depth + 1 == last_depth(c)) {
		attrs &= ~X86_PS;
		attrs |= pat ? X86_PAT_PTE : 0;
	} else {
		attrs |= pat ? X86_PAT_LG : 0;
	}
	return fmt_leaf_pa(c, depth, d) | attrs;
}

#include "pt/pt_engine.h"

/* ---------------------------------------------------------------------- */
/* Walk                                                                   */

static enum pt_step fault_at(struct pt_walk *w, struct pt_fault *f, enum pt_fault_reason r,
			     uint64_t desc)
{
	f->reason = r;
	f->level = pt_level(w->cfg, w->depth);
	f->desc_addr = w->desc_addr;
	f->desc = desc;
	return PT_STEP_FAULT;
}

static void request_wb(struct pt_walk *w, uint64_t old, uint64_t val)
{
	if (val == old)
		return;
	w->wb_valid = true;
	w->wb_addr = w->desc_addr;
	w->wb_old = old;
	w->wb_new = val;
}

static enum pt_step x86_walk_begin(const struct pt_cfg *c, uint64_t root, uint64_t iova,
				   unsigned int access, struct pt_walk *w, struct pt_fault *f)
{
	*w = (struct pt_walk){ .cfg = c, .iova = iova, .access = access, .depth = 0,
			       .prot = PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U };
	/* Not sign-extended: the upper half is non-canonical for DMA. */
	if (iova >> c->ias) {
		*f = (struct pt_fault){ .reason = PT_FAULT_TRANSLATION, .level = c->start_level };
		return PT_STEP_FAULT;
	}
	/* FSPTPTR bits above the address width are reserved. */
	if (root >> c->oas) {
		*f = (struct pt_fault){ .reason = PT_FAULT_RESERVED, .level = c->start_level };
		return PT_STEP_FAULT;
	}
	w->desc_addr = (root & X86_ADDR) + (uint64_t)pt_index(c, 0, iova) * 8;
	return PT_STEP_TABLE;
}

static enum pt_step x86_walk_step(struct pt_walk *w, uint64_t d, struct pt_leaf *leaf,
				  struct pt_fault *f)
{
	const struct pt_cfg *c = w->cfg;
	unsigned int depth = w->depth;
	unsigned int need;

	if (!(d & X86_P))
		return fault_at(w, f, PT_FAULT_TRANSLATION, d);
	if (d & x86_rsvd(c, depth, d))
		return fault_at(w, f, PT_FAULT_RESERVED, d);

	if (!(d & X86_RW))
		w->prot &= ~PT_PROT_W;
	if (!(d & X86_US))
		w->prot &= ~PT_PROT_U;
	if (d & X86_XD)
		w->prot &= ~PT_PROT_X;

	if (fmt_is_table(c, depth, d)) {
		if (c->flags & PT_CFG_HW_AD)
			request_wb(w, d, d | X86_A);
		w->depth++;
		w->desc_addr =
			fmt_table_pa(c, depth, d) + (uint64_t)pt_index(c, w->depth, w->iova) * 8;
		return PT_STEP_TABLE;
	}

	/* A leaf: a PTE, or a PS = 1 entry at a level x86_rsvd() accepted. */
	need = w->access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	if ((w->access & PT_PROT_U) && !(w->prot & PT_PROT_U))
		return fault_at(w, f, PT_FAULT_PERMISSION, d);
	if (need & ~w->prot)
		return fault_at(w, f, PT_FAULT_PERMISSION, d);
	if (c->flags & PT_CFG_HW_AD)
		request_wb(w, d, d | X86_A | (need & PT_PROT_W ? X86_D : 0));

	leaf->size = pt_entry_size(c, depth);
	leaf->oa = fmt_leaf_pa(c, depth, d) | (w->iova & (leaf->size - 1));
	leaf->prot = w->prot;
	leaf->level = pt_level(c, depth);
	leaf->desc = d;
	leaf->desc_addr = w->desc_addr;
	return PT_STEP_LEAF;
}

static void x86_decode(const struct pt_cfg *c, int level, uint64_t d, char *buf, size_t len)
{
	static const char *const names[] = { "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };
	unsigned int depth;
	uint64_t rsvd;
	int n;

	if (level < 1 || level > c->start_level) {
		snprintf(buf, len, "level %d out of range", level);
		return;
	}
	depth = (unsigned int)(c->start_level - level);
	if (!(d & X86_P)) {
		snprintf(buf, len, "%s not present", names[level - 1]);
		return;
	}
	rsvd = d & x86_rsvd(c, depth, d);
	if (fmt_is_table(c, depth, d)) {
		n = snprintf(buf, len, "%s table next=0x%llx %s %s A=%u%s%s%s", names[level - 1],
			     (unsigned long long)fmt_table_pa(c, depth, d),
			     d & X86_RW ? "rw" : "ro", d & X86_US ? "user" : "supervisor",
			     !!(d & X86_A), d & X86_PWT ? " PWT" : "", d & X86_PCD ? " PCD" : "",
			     d & X86_XD ? " XD" : "");
	} else {
		bool large = depth != last_depth(c);
		bool pat = large ? d & X86_PAT_LG : d & X86_PAT_PTE;
		const char *kind = level == 1 ? "4K page" : level == 2 ? "2M page" : "1G page";

		if (!(c->leaf_ok & BIT(depth)))
			kind = "PS (reserved here)";
		n = snprintf(buf, len, "%s %s oa=0x%llx %s %s A=%u D=%u%s%s%s%s%s",
			     names[level - 1], kind, (unsigned long long)fmt_leaf_pa(c, depth, d),
			     d & X86_RW ? "rw" : "ro", d & X86_US ? "user" : "supervisor",
			     !!(d & X86_A), !!(d & X86_D), d & X86_PWT ? " PWT" : "",
			     d & X86_PCD ? " PCD" : "", pat ? " PAT" : "", d & X86_G ? " G" : "",
			     d & X86_XD ? " XD" : "");
	}
	if (rsvd && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " RSVD=0x%llx", (unsigned long long)rsvd);
}

const struct pt_fmt pt_fmt_x86 = {
	.name = "x86",
	.cfg_init = x86_cfg_init,
	.walk_begin = x86_walk_begin,
	.walk_step = x86_walk_step,
	.decode = x86_decode,
	.map = eng_map,
	.unmap = eng_unmap,
	.iova_to_phys = eng_iova_to_phys,
	.for_each_leaf = eng_for_each_leaf,
	.free_all = eng_free_all,
};
