/* SPDX-License-Identifier: MIT */
/*
 * x86_walk.h - the x86-64 (VT-d first stage) descriptor bits and walk decoder, as inline
 * functions shared by x86.c and the nested walk in lib/xlate (see
 * pt_walk_inline.h and vmsa_walk.h for why). The rules are described in
 * x86.c.
 */
#ifndef UIOMMU_PT_X86_WALK_H
#define UIOMMU_PT_X86_WALK_H

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

static inline unsigned int x86_last_depth(const struct pt_cfg *c)
{
	return c->nlevels - 1;
}

static inline bool x86_is_table(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return depth < x86_last_depth(c) && !(d & X86_PS);
}

/*
 * Reserved bits of a present descriptor at @depth. A PS bit that is not
 * allowed at its level is itself reserved; a large leaf reserves the
 * address bits between PAT (bit 12) and its alignment.
 */
static inline uint64_t x86_rsvd(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	int level = pt_level(c, depth);
	uint64_t m = c->oas < 52 ? GENMASK(51, c->oas) : 0;

	if (level >= 4)
		m |= X86_PS;
	else if (level >= 2 && (d & X86_PS))
		m |= (c->leaf_ok & BIT(depth)) ? GENMASK(c->shift[depth] - 1, 13) : X86_PS;
	return m;
}

static inline uint64_t x86_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & X86_ADDR;
}

static inline uint64_t x86_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & GENMASK(51, c->shift[depth]);
}

static inline unsigned int x86_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	unsigned int prot = PT_PROT_R;

	prot |= d & X86_RW ? PT_PROT_W : 0;
	prot |= d & X86_US ? PT_PROT_U : 0;
	prot |= d & X86_XD ? 0 : PT_PROT_X;
	return prot;
}

static inline enum pt_step x86_walk_begin(const struct pt_cfg *c, uint64_t root, uint64_t iova,
					  unsigned int access, struct pt_walk *w,
					  struct pt_fault *f)
{
	pt_walk_init(w, c, iova, access);
	/* Not sign-extended: the upper half is non-canonical for DMA. */
	if (iova >> c->ias) {
		*f = (struct pt_fault){.reason = PT_FAULT_TRANSLATION, .level = c->start_level};
		return PT_STEP_FAULT;
	}
	/* FSPTPTR bits above the address width are reserved. */
	if (root >> c->oas) {
		*f = (struct pt_fault){.reason = PT_FAULT_RESERVED, .level = c->start_level};
		return PT_STEP_FAULT;
	}
	w->desc_addr = (root & X86_ADDR) + (uint64_t)pt_index(c, 0, iova) * 8;
	return PT_STEP_TABLE;
}

static inline __attribute__((always_inline)) enum pt_step
x86_walk_step(struct pt_walk *w, uint64_t d, struct pt_leaf *leaf, struct pt_fault *f)
{
	const struct pt_cfg *c = w->cfg;
	unsigned int depth = w->depth;
	unsigned int need;

	if (!(d & X86_P))
		return pt_walk_fault(w, f, PT_FAULT_TRANSLATION, d);
	if (d & x86_rsvd(c, depth, d))
		return pt_walk_fault(w, f, PT_FAULT_RESERVED, d);

	if (!(d & X86_RW))
		w->prot &= ~PT_PROT_W;
	if (!(d & X86_US))
		w->prot &= ~PT_PROT_U;
	if (d & X86_XD)
		w->prot &= ~PT_PROT_X;

	if (x86_is_table(c, depth, d)) {
		if (c->flags & PT_CFG_HW_AD)
			pt_walk_request_wb(w, d, d | X86_A);
		w->depth++;
		w->desc_addr =
			x86_table_pa(c, depth, d) + (uint64_t)pt_index(c, w->depth, w->iova) * 8;
		return PT_STEP_TABLE;
	}

	/* A leaf: a PTE, or a PS = 1 entry at a level x86_rsvd() accepted. */
	need = w->access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	if ((w->access & PT_PROT_U) && !(w->prot & PT_PROT_U))
		return pt_walk_fault(w, f, PT_FAULT_PERMISSION, d);
	if (need & ~w->prot)
		return pt_walk_fault(w, f, PT_FAULT_PERMISSION, d);
	if (c->flags & PT_CFG_HW_AD)
		pt_walk_request_wb(w, d, d | X86_A | (need & PT_PROT_W ? X86_D : 0));

	leaf->size = pt_entry_size(c, depth);
	leaf->oa = x86_leaf_pa(c, depth, d) | (w->iova & (leaf->size - 1));
	leaf->prot = w->prot;
	leaf->level = pt_level(c, depth);
	leaf->desc = d;
	leaf->desc_addr = w->desc_addr;
	return PT_STEP_LEAF;
}

#endif
