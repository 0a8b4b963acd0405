// SPDX-License-Identifier: MIT
/*
 * vtd_ss.c - the Intel VT-d second-stage page-table format (scalable mode).
 *
 * Geometry. 4 KiB tables of 512 entries with the x86 level layout: level L
 * (1..5, the leaf SS-PTE being level 1) resolves input bits
 * [12 + 9L - 1 : 12 + 9(L - 1)]. The adjusted guest address width picks the
 * depth: 39 bits = 3 levels (AW 1), 48 = 4 (AW 2), 57 = 5 (AW 3). Leaves:
 * 4K at level 1, 2M (PS = 1) at level 2 unless PT_CFG_NO_2M, 1G at level 3
 * unless PT_CFG_NO_1G (CAP.SSLPS bits 0 and 1). SSLPS has no encoding for
 * 1G without 2M, so NO_2M without NO_1G is -EINVAL. An input at or above
 * 2^ias is beyond the AGAW: a translation fault before any read.
 *
 * Descriptors (reference hw.md §2.2, VT-d spec §9.8): R 0, W 1, X 2,
 * EMT [5:3], IPAT 6, PS 7 (SS-PDPTE / SS-PDE), A 8, D 9 (leaf), SNP 11
 * (leaf), address [51:12]. Bits 10, 52..61 and 63 are ignored everywhere
 * (the reference's ignored mask 0xbff0000000000000, plus bit 10); bits 6:3
 * of a non-leaf entry and bit 7 of an SS-PTE are ignored. Reserved, giving
 * PT_FAULT_RESERVED: address bits [51:oas], bit 62 (the legacy TM bit,
 * reserved in scalable mode), PS and bit 11 in an SS-PML4E / SS-PML5E,
 * bit 11 in a non-leaf SS-PDPTE / SS-PDE, PS at a level whose large page is
 * not supported, and the low address bits of a large leaf ([20:12] for 2M,
 * [29:12] for 1G). There is no present bit: an entry with neither R nor W
 * is not present (translation fault).
 *
 * Faults, in order within one descriptor: not present, reserved bits, then
 * permissions. Permissions are stacked as QEMU models them: a read needs R,
 * a write W, an execute X at every level, and the walk faults at the first
 * level that lacks one. There is no privilege: every leaf is PT_PROT_U.
 *
 * A/D (PT_CFG_HW_AD, the PASID entry's SSADE): each step asks for one
 * write-back of the descriptor it decoded: A on every level walked, plus D
 * on the leaf of an allowed write.
 *
 * Maps made here: leaves R / W / X as asked (write-only is expressible),
 * EMT = 6 (write-back, used when the PASID entry sets EMTE), IPAT = 0,
 * SNP = 0, A = D = 0 so that dirty tracking sees the first write. Tables
 * are R | W | X so that the leaf alone decides.
 */
#include <errno.h>
#include <stdio.h>

#include "pt/pt.h"
#include "util/bits.h"
#include "pt/vtd_ss_walk.h"

/* ---------------------------------------------------------------------- */
/* Configuration                                                          */

static int vtd_ss_cfg_init(struct pt_cfg *c)
{
	if (c->granule_shift == 0)
		c->granule_shift = 12;
	if (c->granule_shift != 12 || (c->ias != 39 && c->ias != 48 && c->ias != 57))
		return -EINVAL;
	if (c->oas < 32 || c->oas > 52 || c->iova_base)
		return -EINVAL;
	/* SSLPS: 0 none, 1 2M, 3 2M + 1G; there is no "1G only". */
	if ((c->flags & PT_CFG_NO_2M) && !(c->flags & PT_CFG_NO_1G))
		return -EINVAL;

	return pt_cfg_geometry_4k_down(c, (c->ias - 12) / 9);
}

/* ---------------------------------------------------------------------- */
/* Engine helpers (see pt_engine.h)                                       */

static inline bool fmt_is_table(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return vtd_ss_is_table(c, depth, d);
}

static inline uint64_t fmt_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return vtd_ss_table_pa(c, depth, d);
}

static inline uint64_t fmt_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return vtd_ss_leaf_pa(c, depth, d);
}

static inline unsigned int fmt_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return vtd_ss_leaf_prot(c, depth, d);
}

static inline uint64_t fmt_mk_table(const struct pt_cfg *c, unsigned int depth, uint64_t pa)
{
	return pa | SS_R | SS_W | SS_X;
}

static inline uint64_t fmt_mk_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t pa,
				   unsigned int prot)
{
	uint64_t d = pa | FIELD_PREP(SS_EMT, SS_EMT_WB);

	if (depth != vtd_ss_last_depth(c))
		d |= SS_PS;
	d |= prot & PT_PROT_R ? SS_R : 0;
	d |= prot & PT_PROT_W ? SS_W : 0;
	d |= prot & PT_PROT_X ? SS_X : 0;
	return d;
}

/* First child of a large leaf: same attributes, PS only if the child is large too. */
static inline uint64_t fmt_split_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	uint64_t attrs = d & ~SS_ADDR;

	if (depth + 1 == vtd_ss_last_depth(c))
		attrs &= ~SS_PS;
	return vtd_ss_leaf_pa(c, depth, d) | attrs;
}

#include "pt/pt_engine.h"

/* ---------------------------------------------------------------------- */
/* Walk                                                                   */

static void vtd_ss_decode(const struct pt_cfg *c, int level, uint64_t d, char *buf, size_t len)
{
	static const char *const names[] = { "SS-PTE", "SS-PDE", "SS-PDPTE", "SS-PML4E",
					     "SS-PML5E" };
	unsigned int depth;
	uint64_t rsvd;
	int n;

	if (level < 1 || level > c->start_level) {
		snprintf(buf, len, "level %d out of range", level);
		return;
	}
	depth = (unsigned int)(c->start_level - level);
	if (!(d & (SS_R | SS_W))) {
		snprintf(buf, len, "%s not present", names[level - 1]);
		return;
	}
	rsvd = d & ss_rsvd(c, depth, d);
	if (fmt_is_table(c, depth, d)) {
		n = snprintf(buf, len, "%s table next=0x%llx %c%c%c A=%u", names[level - 1],
			     (unsigned long long)vtd_ss_table_pa(c, depth, d), d & SS_R ? 'r' : '-',
			     d & SS_W ? 'w' : '-', d & SS_X ? 'x' : '-', !!(d & SS_A));
	} else {
		const char *kind = level == 1 ? "4K page" : level == 2 ? "2M page" : "1G page";

		if (!(c->leaf_ok & BIT(depth)))
			kind = "PS (reserved here)";
		n = snprintf(buf, len, "%s %s oa=0x%llx %c%c%c EMT=%u A=%u D=%u%s%s",
			     names[level - 1], kind, (unsigned long long)vtd_ss_leaf_pa(c, depth, d),
			     d & SS_R ? 'r' : '-', d & SS_W ? 'w' : '-', d & SS_X ? 'x' : '-',
			     (unsigned int)FIELD_GET(SS_EMT, d), !!(d & SS_A), !!(d & SS_D),
			     d & SS_IPAT ? " IPAT" : "", d & SS_SNP ? " SNP" : "");
	}
	if (rsvd && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " RSVD=0x%llx", (unsigned long long)rsvd);
}

const struct pt_fmt pt_fmt_vtd_ss = {
	.name = "vtd-ss",
	.cfg_init = vtd_ss_cfg_init,
	.walk_begin = vtd_ss_walk_begin,
	.walk_step = vtd_ss_walk_step,
	.decode = vtd_ss_decode,
	.map = eng_map,
	.unmap = eng_unmap,
	.iova_to_phys = eng_iova_to_phys,
	.for_each_leaf = eng_for_each_leaf,
	.free_all = eng_free_all,
	.check = eng_check,
};
