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
#include "pt/x86_walk.h"

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

	return pt_cfg_geometry_4k_down(c, c->ias == 57 ? 5 : 4);
}

/* ---------------------------------------------------------------------- */
/* Engine helpers (see pt_engine.h)                                       */

static inline bool fmt_is_table(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return x86_is_table(c, depth, d);
}

static inline uint64_t fmt_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return x86_table_pa(c, depth, d);
}

static inline uint64_t fmt_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return x86_leaf_pa(c, depth, d);
}

static inline unsigned int fmt_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return x86_leaf_prot(c, depth, d);
}

static inline uint64_t fmt_mk_table(const struct pt_cfg *c, unsigned int depth, uint64_t pa)
{
	return pa | X86_P | X86_RW | X86_US | X86_A;
}

static inline uint64_t fmt_mk_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t pa,
				   unsigned int prot)
{
	uint64_t d = pa | X86_P | X86_A;

	if (depth != x86_last_depth(c))
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

	if (depth + 1 == x86_last_depth(c)) {
		attrs &= ~X86_PS;
		attrs |= pat ? X86_PAT_PTE : 0;
	} else {
		attrs |= pat ? X86_PAT_LG : 0;
	}
	return x86_leaf_pa(c, depth, d) | attrs;
}

#include "pt/pt_engine.h"

/* ---------------------------------------------------------------------- */
/* Walk                                                                   */

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
			     (unsigned long long)x86_table_pa(c, depth, d),
			     d & X86_RW ? "rw" : "ro", d & X86_US ? "user" : "supervisor",
			     !!(d & X86_A), d & X86_PWT ? " PWT" : "", d & X86_PCD ? " PCD" : "",
			     d & X86_XD ? " XD" : "");
	} else {
		bool large = depth != x86_last_depth(c);
		bool pat = large ? d & X86_PAT_LG : d & X86_PAT_PTE;
		const char *kind = level == 1 ? "4K page" : level == 2 ? "2M page" : "1G page";

		if (!(c->leaf_ok & BIT(depth)))
			kind = "PS (reserved here)";
		n = snprintf(buf, len, "%s %s oa=0x%llx %s %s A=%u D=%u%s%s%s%s%s",
			     names[level - 1], kind, (unsigned long long)x86_leaf_pa(c, depth, d),
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
	.check = eng_check,
};
