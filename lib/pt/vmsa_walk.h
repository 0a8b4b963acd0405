/* SPDX-License-Identifier: MIT */
/*
 * vmsa_walk.h - the VMSAv8-64 descriptor bits and the walk decoder, as
 * inline functions.
 *
 * They live in a header so that two users get them inlined: vmsa.c (the
 * format back end: map, unmap, and the walk_begin / walk_step of struct
 * pt_fmt) and the nested walk in lib/xlate, whose hot loop decodes about
 * two dozen descriptors per translation and cannot afford an indirect call
 * and a round trip of the walk state through memory for each of them (see
 * pt_walk_inline.h). The rules themselves are described in vmsa.c.
 */
#ifndef UIOMMU_PT_VMSA_WALK_H
#define UIOMMU_PT_VMSA_WALK_H

#include "pt/pt.h"
#include "util/bits.h"

#define D_VALID	     BIT(0)
#define D_TABLE	     BIT(1) /* table at levels 0-2, page at level 3 */
#define D_TYPE_MASK  GENMASK(1, 0)
#define D_ATTRINDX   GENMASK(4, 2)
#define D_S2_MEMATTR GENMASK(5, 2)
#define D_AP1	     BIT(6) /* stage 1: EL0 access; stage 2: S2AP read */
#define D_AP2	     BIT(7) /* stage 1: read-only;  stage 2: S2AP write */
#define D_SH	     GENMASK(9, 8)
#define D_AF	     BIT(10)
#define D_NG	     BIT(11)
#define D_DBM	     BIT(51)
#define D_CONT	     BIT(52)
#define D_PXN	     BIT(53)
#define D_UXN	     BIT(54) /* stage 2: XN[1] */
#define D_PXNTABLE   BIT(59)
#define D_UXNTABLE   BIT(60)
#define D_APTABLE0   BIT(61) /* no EL0 access below */
#define D_APTABLE1   BIT(62) /* no write access below */
#define D_ADDR_TOP   47
static inline bool vmsa_is_s2(const struct pt_cfg *c)
{
	return c->format == PT_VMSA_S2;
}

static inline unsigned int vmsa_last_depth(const struct pt_cfg *c)
{
	return c->nlevels - 1;
}

static inline uint64_t vmsa_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & GENMASK(D_ADDR_TOP, c->granule_shift);
}

static inline uint64_t vmsa_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & GENMASK(D_ADDR_TOP, c->shift[depth]);
}

static inline unsigned int vmsa_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	unsigned int prot;

	if (vmsa_is_s2(c)) {
		prot = PT_PROT_U;
		prot |= d & D_AP1 ? PT_PROT_R : 0;
		prot |= d & D_AP2 ? PT_PROT_W : 0;
		prot |= d & D_UXN ? 0 : PT_PROT_X;
	} else {
		prot = PT_PROT_R;
		prot |= d & D_AP2 ? 0 : PT_PROT_W;
		prot |= d & D_AP1 ? PT_PROT_U : 0;
		prot |= d & D_PXN ? 0 : PT_PROT_X;
	}
	return prot;
}

static inline enum pt_step vmsa_walk_begin(const struct pt_cfg *c, uint64_t root, uint64_t iova,
					   unsigned int access, struct pt_walk *w,
					   struct pt_fault *f)
{
	uint64_t base;

	pt_walk_init(w, c, iova, access);
	if (iova >> c->ias) {
		*f = (struct pt_fault){.reason = PT_FAULT_TRANSLATION, .level = c->start_level};
		return PT_STEP_FAULT;
	}
	if (root >> c->oas) {
		*f = (struct pt_fault){.reason = PT_FAULT_ADDR_SIZE, .level = c->start_level};
		return PT_STEP_FAULT;
	}
	/* Base address bits below the (concatenated) table size are RES0: ignore them. */
	base = root & ~(uint64_t)(pt_table_size(c, 0) - 1);
	w->desc_addr = base + (uint64_t)pt_index(c, 0, iova) * 8;
	return PT_STEP_TABLE;
}

static inline __attribute__((always_inline)) enum pt_step
vmsa_walk_step(struct pt_walk *w, uint64_t d, struct pt_leaf *leaf, struct pt_fault *f)
{
	const struct pt_cfg *c = w->cfg;
	unsigned int depth = w->depth;
	bool last = depth == vmsa_last_depth(c);
	unsigned int prot, need;
	uint64_t oa;

	if (!(d & D_VALID))
		return pt_walk_fault(w, f, PT_FAULT_TRANSLATION, d);

	if (!last && (d & D_TABLE)) {
		uint64_t next = vmsa_table_pa(c, depth, d);

		if (next >> c->oas)
			return pt_walk_fault(w, f, PT_FAULT_ADDR_SIZE, d);
		if (!vmsa_is_s2(c)) {
			if (d & D_APTABLE1)
				w->prot &= ~PT_PROT_W;
			if (d & D_APTABLE0)
				w->prot &= ~PT_PROT_U;
			if (d & D_PXNTABLE)
				w->prot &= ~PT_PROT_X;
			/* UXNTable only matters to unprivileged execution; folded below. */
			if ((d & D_UXNTABLE) && (w->access & PT_PROT_U))
				w->prot &= ~PT_PROT_X;
		}
		w->depth++;
		w->desc_addr = next + (uint64_t)pt_index(c, w->depth, w->iova) * 8;
		return PT_STEP_TABLE;
	}

	/* A leaf: a page at level 3, a block above it where the granule allows. */
	if (last ? !(d & D_TABLE) : !(c->leaf_ok & BIT(depth)))
		return pt_walk_fault(w, f, PT_FAULT_TRANSLATION, d);

	oa = vmsa_leaf_pa(c, depth, d);
	if (oa >> c->oas)
		return pt_walk_fault(w, f, PT_FAULT_ADDR_SIZE, d);

	prot = vmsa_leaf_prot(c, depth, d) & w->prot;
	if (!vmsa_is_s2(c) && (w->access & PT_PROT_U) && (d & D_UXN))
		prot &= ~PT_PROT_X;
	if (!vmsa_is_s2(c) && (w->access & PT_PROT_U) && !(prot & PT_PROT_U))
		prot = 0; /* EL0 has no access at all */

	if (!(d & D_AF) && !(c->flags & PT_CFG_AFFD)) {
		if (!(c->flags & PT_CFG_HW_AD))
			return pt_walk_fault(w, f, PT_FAULT_ACCESS, d);
		pt_walk_request_wb(w, d, d | D_AF);
	}

	need = w->access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);
	if ((need & PT_PROT_W) && !(prot & PT_PROT_W) &&
	    (c->flags & (PT_CFG_HW_AD | PT_CFG_HW_NO_DIRTY)) == PT_CFG_HW_AD && (d & D_DBM) &&
	    (w->prot & PT_PROT_W) && (!(w->access & PT_PROT_U) || (prot & PT_PROT_U))) {
		/* Dirty state: DBM makes a clean-writable descriptor writable on first write. */
		uint64_t nd = (w->wb_valid ? w->wb_new : d) | D_AF;

		nd = vmsa_is_s2(c) ? nd | D_AP2 : nd & ~D_AP2;
		pt_walk_request_wb(w, d, nd);
		prot |= PT_PROT_W;
	}
	if (need & ~prot) {
		w->wb_valid = false;
		return pt_walk_fault(w, f, PT_FAULT_PERMISSION, d);
	}

	leaf->size = pt_entry_size(c, depth);
	leaf->oa = oa | (w->iova & (leaf->size - 1));
	leaf->prot = vmsa_is_s2(c) ? prot | PT_PROT_U : prot;
	leaf->level = pt_level(c, depth);
	leaf->desc = d;
	leaf->desc_addr = w->desc_addr;
	return PT_STEP_LEAF;
}

/*
 * The shape both specialised decoders answer: a valid 4K page descriptor
 * with AF set and no contiguous hint, whose output address (returned in
 * *@oa) fits @oas bits.
 */
static inline __attribute__((always_inline)) bool vmsa_page4k_plain(uint64_t d, unsigned int oas,
								    uint64_t *oa)
{
	*oa = d & GENMASK(D_ADDR_TOP, 12);
	return likely((d & (D_TYPE_MASK | D_AF | D_CONT)) == (D_TYPE_MASK | D_AF)) &&
	       likely(!(*oa >> oas));
}

/*
 * The usual stage-1 4K-granule page, decoded with the format's constants:
 * @d read at the last level (level 3) of a VMSA_S1 table with a 4 KiB
 * granule, @tprot the limit the table descriptors above it imposed (what
 * vmsa_walk_step() keeps in w->prot), @access as the walk's. It answers
 * only a valid page descriptor with AF set, no contiguous hint, an output
 * address inside @oas bits, that grants every permission asked for: then
 * *@leaf_oa and *@leaf_prot get what vmsa_walk_step() would put in the
 * leaf's oa and prot (its size is 4 KiB, its level 3) and the answer is
 * true. Anything else
 * (invalid, a fault, AF clear whatever AFFD and HW_AD say, a DBM update)
 * is false, and the caller decodes @d with vmsa_walk_step(), which knows
 * every case and writes every fault. With AF set and nothing asked for
 * beyond what the descriptor grants, that step requests no write-back, so
 * the two agree on the cases answered here.
 */
static inline __attribute__((always_inline)) bool
vmsa_s1_page4k(uint64_t d, uint64_t iova, unsigned int access, unsigned int tprot, unsigned int oas,
	       uint64_t *leaf_oa, unsigned int *leaf_prot)
{
	unsigned int prot = tprot;
	uint64_t oa;

	if (!vmsa_page4k_plain(d, oas, &oa))
		return false;
	if (d & D_AP2)
		prot &= ~PT_PROT_W;
	if (!(d & D_AP1))
		prot &= ~PT_PROT_U;
	if (d & D_PXN)
		prot &= ~PT_PROT_X;
	if (access & PT_PROT_U) {
		if (d & D_UXN)
			prot &= ~PT_PROT_X;
		if (!(prot & PT_PROT_U))
			prot = 0; /* EL0 has no access at all */
	}
	if (unlikely(access & (PT_PROT_R | PT_PROT_W | PT_PROT_X) & ~prot))
		return false;
	*leaf_oa = oa | (iova & 0xfff);
	*leaf_prot = prot;
	return true;
}

/*
 * The usual stage-2 4K-granule page, as vmsa_s1_page4k() is for stage 1:
 * @d read at the last level of a VMSA_S2 table with a 4 KiB granule,
 * @tprot the limit above it (stage 2 has none but what the walk began
 * with), @access the stage-2 walk's. It answers only a valid page
 * descriptor with AF set, no contiguous hint, an output address inside
 * @oas bits, that grants every permission asked for: then *@leaf_oa and
 * *@leaf_prot get what vmsa_walk_step() would put in the leaf (stage 2:
 * PT_PROT_U always set; its size is 4 KiB, its level 3) and the answer is
 * true. Anything else is false, for vmsa_walk_step() to decode; on the
 * cases answered here that step requests no write-back either (AF set,
 * nothing asked beyond the grant, so no DBM update).
 */
static inline __attribute__((always_inline)) bool
vmsa_s2_page4k(uint64_t d, uint64_t ipa, unsigned int access, unsigned int tprot, unsigned int oas,
	       uint64_t *leaf_oa, unsigned int *leaf_prot)
{
	unsigned int prot = PT_PROT_U;
	uint64_t oa;

	if (!vmsa_page4k_plain(d, oas, &oa))
		return false;
	if (d & D_AP1)
		prot |= PT_PROT_R;
	if (d & D_AP2)
		prot |= PT_PROT_W;
	if (!(d & D_UXN))
		prot |= PT_PROT_X;
	prot = (prot & tprot) | PT_PROT_U;
	if (unlikely(access & (PT_PROT_R | PT_PROT_W | PT_PROT_X) & ~prot))
		return false;
	*leaf_oa = oa | (ipa & 0xfff);
	*leaf_prot = prot;
	return true;
}

#endif
