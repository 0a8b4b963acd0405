/* SPDX-License-Identifier: MIT */
/*
 * vtd_ss_walk.h - the VT-d second stage descriptor bits and walk decoder, as inline
 * functions shared by vtd_ss.c and the nested walk in lib/xlate (see
 * pt_walk_inline.h and vmsa_walk.h for why). The rules are described in
 * vtd_ss.c.
 */
#ifndef UIOMMU_PT_VTD_SS_WALK_H
#define UIOMMU_PT_VTD_SS_WALK_H

#include "pt/pt.h"
#include "util/bits.h"

#define SS_R	  BIT(0)
#define SS_W	  BIT(1)
#define SS_X	  BIT(2)
#define SS_EMT	  GENMASK(5, 3)
#define SS_IPAT	  BIT(6)
#define SS_PS	  BIT(7)
#define SS_A	  BIT(8)
#define SS_D	  BIT(9)
#define SS_SNP	  BIT(11)
#define SS_ADDR	  GENMASK(51, 12)
#define SS_TM	  BIT(62)
#define SS_EMT_WB 6

static inline unsigned int vtd_ss_last_depth(const struct pt_cfg *c)
{
	return c->nlevels - 1;
}

static inline bool vtd_ss_is_table(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return depth < vtd_ss_last_depth(c) && !(d & SS_PS);
}

/* Reserved bits of a present (R or W) descriptor at @depth. */
static inline uint64_t ss_rsvd(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	int level = pt_level(c, depth);
	uint64_t m = SS_TM | (c->oas < 52 ? GENMASK(51, c->oas) : 0);

	if (level >= 4)
		m |= SS_PS | SS_SNP;
	else if (level >= 2 && (d & SS_PS))
		m |= (c->leaf_ok & BIT(depth)) ? GENMASK(c->shift[depth] - 1, 12) : SS_PS;
	else if (level >= 2)
		m |= SS_SNP; /* a table pointer */
	return m;
}

static inline uint64_t vtd_ss_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & SS_ADDR;
}

static inline uint64_t vtd_ss_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & GENMASK(51, c->shift[depth]);
}

static inline unsigned int ss_prot(uint64_t d)
{
	unsigned int prot = PT_PROT_U;

	prot |= d & SS_R ? PT_PROT_R : 0;
	prot |= d & SS_W ? PT_PROT_W : 0;
	prot |= d & SS_X ? PT_PROT_X : 0;
	return prot;
}

static inline unsigned int vtd_ss_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return ss_prot(d);
}

static inline enum pt_step vtd_ss_walk_begin(const struct pt_cfg *c, uint64_t root, uint64_t iova,
					     unsigned int access, struct pt_walk *w,
					     struct pt_fault *f)
{
	pt_walk_init(w, c, iova, access);
	/* Above the AGAW (fault reason 0x83 in the VT-d model, 0x74 under a first stage). */
	if (iova >> c->ias) {
		*f = (struct pt_fault){.reason = PT_FAULT_TRANSLATION, .level = c->start_level};
		return PT_STEP_FAULT;
	}
	/* SSPTPTR bits above the address width are reserved. */
	if (root >> c->oas) {
		*f = (struct pt_fault){.reason = PT_FAULT_RESERVED, .level = c->start_level};
		return PT_STEP_FAULT;
	}
	w->desc_addr = (root & SS_ADDR) + (uint64_t)pt_index(c, 0, iova) * 8;
	return PT_STEP_TABLE;
}

static inline __attribute__((always_inline)) enum pt_step
vtd_ss_walk_step(struct pt_walk *w, uint64_t d, struct pt_leaf *leaf, struct pt_fault *f)
{
	const struct pt_cfg *c = w->cfg;
	unsigned int depth = w->depth;
	unsigned int need = w->access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);

	if (!(d & (SS_R | SS_W)))
		return pt_walk_fault(w, f, PT_FAULT_TRANSLATION, d);
	if (d & ss_rsvd(c, depth, d))
		return pt_walk_fault(w, f, PT_FAULT_RESERVED, d);

	/* Stacked rights: fault at the first level that lacks one the access needs. */
	w->prot &= ss_prot(d);
	if (need & ~w->prot)
		return pt_walk_fault(w, f, PT_FAULT_PERMISSION, d);

	if (vtd_ss_is_table(c, depth, d)) {
		if (c->flags & PT_CFG_HW_AD)
			pt_walk_request_wb(w, d, d | SS_A);
		w->depth++;
		w->desc_addr =
			vtd_ss_table_pa(c, depth, d) + (uint64_t)pt_index(c, w->depth, w->iova) * 8;
		return PT_STEP_TABLE;
	}

	if (c->flags & PT_CFG_HW_AD)
		pt_walk_request_wb(w, d, d | SS_A | (need & PT_PROT_W ? SS_D : 0));
	leaf->size = pt_entry_size(c, depth);
	leaf->oa = vtd_ss_leaf_pa(c, depth, d) | (w->iova & (leaf->size - 1));
	leaf->prot = w->prot;
	leaf->level = pt_level(c, depth);
	leaf->desc = d;
	leaf->desc_addr = w->desc_addr;
	return PT_STEP_LEAF;
}

#endif
