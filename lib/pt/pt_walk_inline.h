/* SPDX-License-Identifier: MIT */
/*
 * pt_walk_inline.h - pt_walk_begin / pt_walk_step for hot loops.
 *
 * The same decoders as pt_walk_begin() / pt_walk_step(), but formats that
 * publish their walk as inline functions are called directly (a switch on
 * the format, well predicted in a loop), so the compiler can keep the walk
 * state in registers across steps. Other formats go through struct pt_fmt.
 * Used by lib/xlate's nested walk; pt.c keeps the out-of-line entry points.
 */
#ifndef UIOMMU_PT_WALK_INLINE_H
#define UIOMMU_PT_WALK_INLINE_H

#include "pt/pt.h"
#include "pt/vmsa_walk.h"
#include "pt/vtd_ss_walk.h"
#include "pt/x86_walk.h"

static inline __attribute__((always_inline)) enum pt_step
pt_walk_begin_inline(const struct pt_cfg *cfg, uint64_t root, uint64_t iova, unsigned int access,
		     struct pt_walk *w, struct pt_fault *fault)
{
	switch (cfg->format) {
	case PT_VMSA_S1:
	case PT_VMSA_S2:
		return vmsa_walk_begin(cfg, root, iova, access, w, fault);
	case PT_X86:
		return x86_walk_begin(cfg, root, iova, access, w, fault);
	case PT_VTD_SS:
		return vtd_ss_walk_begin(cfg, root, iova, access, w, fault);
	default:
		return cfg->fmt->walk_begin(cfg, root, iova, access, w, fault);
	}
}

static inline __attribute__((always_inline)) enum pt_step
pt_walk_step_inline(struct pt_walk *w, uint64_t desc, struct pt_leaf *leaf, struct pt_fault *fault)
{
	switch (w->cfg->format) {
	case PT_VMSA_S1:
	case PT_VMSA_S2:
		return vmsa_walk_step(w, desc, leaf, fault);
	case PT_X86:
		return x86_walk_step(w, desc, leaf, fault);
	case PT_VTD_SS:
		return vtd_ss_walk_step(w, desc, leaf, fault);
	default:
		return w->cfg->fmt->walk_step(w, desc, leaf, fault);
	}
}

#endif
