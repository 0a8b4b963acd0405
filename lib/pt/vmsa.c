// SPDX-License-Identifier: MIT
/*
 * vmsa.c - ARM VMSAv8-64 translation tables, stage 1 and stage 2, with the
 * 4K, 16K and 64K granules (48-bit input and output, no LPA / LPA2).
 *
 * Geometry. A granule of 2^g bytes holds 2^(g-3) descriptors, so each
 * level resolves stride = g - 3 bits and level L (0..3) starts at input bit
 * g + (3 - L) * stride.
 *  - Stage 1: input size ias = 64 - T0SZ in [25, 48]; the start level is
 *    4 - (ias - 4) / stride, and the root table holds whatever bits are
 *    left above it (possibly fewer than a full table).
 *  - Stage 2: the start level comes from SL0 (4K: 2 - SL0; 16K, 64K:
 *    3 - SL0). The root must resolve between 1 and stride + 4 bits; more
 *    than stride means 2^(bits - stride) concatenated tables (at most 16),
 *    laid out contiguously and aligned to their total size, which pt_cfg
 *    describes as one wide root. sl0 = -1 picks the deepest legal start
 *    level, as Linux does to save a level.
 *  - Blocks: 4K at levels 1 (1G) and 2 (2M); 16K at level 2 (32M); 64K at
 *    level 2 (512M). A block descriptor anywhere else is a translation
 *    fault, and so is 0b01 at level 3.
 *
 * Descriptors (reference hw.md §3.2): bit 0 valid, bit 1 table/page;
 * address [47:g]; stage 1 leaf AP[2:1] at [7:6] (AP[2] read-only, AP[1]
 * EL0), AF 10, nG 11, DBM 51, PXN 53, UXN 54; stage 1 table APTable [62:61],
 * PXNTable 59, UXNTable 60; stage 2 leaf S2AP [7:6] (bit 6 read, bit 7
 * write), MemAttr [5:2], XN 54.
 *
 * Faults, in the architecture's priority order within one descriptor:
 * translation (invalid, reserved type, block at a forbidden level, input out
 * of range), address size (table or output address at or above 2^oas),
 * access flag (AF = 0 unless AFFD, or set by the walk under HTTU), then
 * permission (stage 1 with the table limits accumulated down the walk).
 * Every fault reports the level of the descriptor that caused it.
 *
 * Maps made here are normal write-back inner-shareable memory, AF set,
 * stage 1 non-global (ASID-tagged) and execute-never unless PT_PROT_X.
 * With PT_CFG_DBM a writable leaf is stored writable-clean (DBM set, no
 * write permission) for a walker that manages dirty state (HTTU); with
 * PT_CFG_HW_NO_DIRTY such a walker sets the access flag only and a write
 * to a writable-clean leaf is a permission fault (SMMUv3 HA without HD).
 */
#include <errno.h>
#include <stdio.h>

#include "pt/pt.h"
#include "util/bits.h"

#include "pt/vmsa_walk.h"

/* ---------------------------------------------------------------------- */
/* Configuration                                                          */

static unsigned int level_shift(unsigned int g, int level)
{
	return g + (unsigned int)(3 - level) * (g - 3);
}

static void fill_geometry(struct pt_cfg *c, int start_level)
{
	unsigned int g = c->granule_shift, stride = g - 3;

	c->start_level = start_level;
	c->level_step = 1;
	c->nlevels = (unsigned int)(4 - start_level);
	for (unsigned int d = 0; d < c->nlevels; d++) {
		int level = start_level + (int)d;

		c->shift[d] = (uint8_t)level_shift(g, level);
		c->bits[d] = (uint8_t)stride;
		if ((g == 12 && (level == 1 || level == 2)) || (g != 12 && level == 2) ||
		    level == 3)
			c->leaf_ok |= (uint16_t)BIT(d);
	}
	c->bits[0] = (uint8_t)(c->ias - c->shift[0]);
	c->concat = c->bits[0] > stride ? 1u << (c->bits[0] - stride) : 1;
}

static bool oas_valid(unsigned int oas)
{
	return oas == 32 || oas == 36 || oas == 40 || oas == 42 || oas == 44 || oas == 48;
}

static int vmsa_cfg_common(struct pt_cfg *c)
{
	if (c->granule_shift == 0)
		c->granule_shift = 12;
	if (c->granule_shift != 12 && c->granule_shift != 14 && c->granule_shift != 16)
		return -EINVAL;
	if (c->ias < 25 || c->ias > 48 || !oas_valid(c->oas) || c->iova_base)
		return -EINVAL;
	return 0;
}

static int vmsa_s1_cfg_init(struct pt_cfg *c)
{
	unsigned int stride;
	int ret = vmsa_cfg_common(c);

	if (ret)
		return ret;
	stride = c->granule_shift - 3;
	fill_geometry(c, 4 - (int)((c->ias - 4) / stride));
	return 0;
}

static int vmsa_s2_cfg_init(struct pt_cfg *c)
{
	unsigned int g, stride;
	int level;
	int ret = vmsa_cfg_common(c);

	if (ret)
		return ret;
	g = c->granule_shift;
	stride = g - 3;
	if (c->sl0 < 0) {
		/* Deepest start level whose root needs at most 16 concatenated tables. */
		for (level = 3; level >= 0; level--) {
			unsigned int sh = level_shift(g, level);

			if (c->ias > sh && c->ias - sh <= stride + 4)
				break;
		}
		if (level < 0 || (g == 12 && level == 3) || (g == 16 && level == 0))
			return -EINVAL;
		c->sl0 = g == 12 ? 2 - level : 3 - level;
	}
	if (c->sl0 > 3)
		return -EINVAL;
	if (g == 12) {
		if (c->sl0 == 3) /* level 3 or -1: only with TTST / LPA2 */
			return -EINVAL;
		level = 2 - c->sl0;
	} else {
		if (g == 16 && c->sl0 == 3) /* reserved */
			return -EINVAL;
		level = 3 - c->sl0;
	}
	/* The root resolves 1 .. stride + 4 bits (AArch64.S2InconsistentSL). */
	if (c->ias <= level_shift(g, level) || c->ias - level_shift(g, level) > stride + 4)
		return -EINVAL;
	fill_geometry(c, level);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Engine helpers (see pt_engine.h)                                       */

static inline bool fmt_is_table(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return depth < vmsa_last_depth(c) && (d & D_TYPE_MASK) == (D_VALID | D_TABLE);
}

/*
 * The engine reads only table descriptors it wrote (fmt_mk_table: the
 * table's address, aligned to the granule, and the two type bits), so one
 * constant mask serves every granule; vmsa_table_pa() decodes any descriptor.
 */
static inline uint64_t fmt_table_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return d & GENMASK(D_ADDR_TOP, 12);
}

static inline uint64_t fmt_leaf_pa(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return vmsa_leaf_pa(c, depth, d);
}

static inline unsigned int fmt_leaf_prot(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	return vmsa_leaf_prot(c, depth, d);
}

static inline uint64_t fmt_mk_table(const struct pt_cfg *c, unsigned int depth, uint64_t pa)
{
	return pa | D_VALID | D_TABLE;
}

static inline uint64_t fmt_mk_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t pa,
				   unsigned int prot)
{
	uint64_t d = pa | D_VALID | D_AF | D_SH;

	if (depth == vmsa_last_depth(c))
		d |= D_TABLE;
	/* Dirty tracking: a writable leaf starts writable-clean (DBM, no write permission). */
	bool clean = (c->flags & PT_CFG_DBM) && (prot & PT_PROT_W);

	if (vmsa_is_s2(c)) {
		d |= FIELD_PREP(D_S2_MEMATTR, 0xf); /* normal, write-back */
		d |= prot & PT_PROT_R ? D_AP1 : 0;
		d |= prot & PT_PROT_W && !clean ? D_AP2 : 0;
		d |= prot & PT_PROT_X ? 0 : D_UXN;
	} else {
		/* AttrIndx 0: MAIR slot 0, normal write-back. W implies R on stage 1. */
		d |= D_NG;
		d |= prot & PT_PROT_W && !clean ? 0 : D_AP2;
		d |= prot & PT_PROT_U ? D_AP1 : 0;
		d |= prot & PT_PROT_X ? 0 : (D_PXN | D_UXN);
	}
	return clean ? d | D_DBM : d;
}

static inline uint64_t fmt_split_leaf(const struct pt_cfg *c, unsigned int depth, uint64_t d)
{
	d &= ~D_TYPE_MASK & ~D_CONT;
	return d | D_VALID | (depth + 1 == vmsa_last_depth(c) ? D_TABLE : 0);
}

#include "pt/pt_engine.h"

static void vmsa_decode(const struct pt_cfg *c, int level, uint64_t d, char *buf, size_t len)
{
	unsigned int depth = (unsigned int)(level - c->start_level);
	bool last = depth >= vmsa_last_depth(c);

	if (!(d & D_VALID)) {
		snprintf(buf, len, "invalid");
		return;
	}
	if (!last && (d & D_TABLE)) {
		if (vmsa_is_s2(c))
			snprintf(buf, len, "table next=0x%llx",
				 (unsigned long long)vmsa_table_pa(c, depth, d));
		else
			snprintf(buf, len, "table next=0x%llx APTable=%u%s%s",
				 (unsigned long long)vmsa_table_pa(c, depth, d),
				 (unsigned int)FIELD_GET(GENMASK(62, 61), d),
				 d & D_PXNTABLE ? " PXNTable" : "", d & D_UXNTABLE ? " UXNTable" : "");
		return;
	}
	if (last ? !(d & D_TABLE) : !(c->leaf_ok & BIT(depth))) {
		snprintf(buf, len, "%s (not allowed at level %d)", last ? "reserved" : "block",
			 level);
		return;
	}
	if (vmsa_is_s2(c))
		snprintf(buf, len, "%s oa=0x%llx S2AP=%c%c MemAttr=0x%x SH=%u AF=%u%s%s",
			 last ? "page" : "block", (unsigned long long)fmt_leaf_pa(c, depth, d),
			 d & D_AP1 ? 'r' : '-', d & D_AP2 ? 'w' : '-',
			 (unsigned int)FIELD_GET(D_S2_MEMATTR, d), (unsigned int)FIELD_GET(D_SH, d),
			 !!(d & D_AF), d & D_DBM ? " DBM" : "", d & D_UXN ? " XN" : "");
	else
		snprintf(buf, len, "%s oa=0x%llx AP=%s%s AttrIndx=%u SH=%u AF=%u%s%s%s%s",
			 last ? "page" : "block", (unsigned long long)fmt_leaf_pa(c, depth, d),
			 d & D_AP2 ? "ro" : "rw", d & D_AP1 ? "+el0" : "",
			 (unsigned int)FIELD_GET(D_ATTRINDX, d), (unsigned int)FIELD_GET(D_SH, d),
			 !!(d & D_AF), d & D_NG ? " nG" : "", d & D_DBM ? " DBM" : "",
			 d & D_PXN ? " PXN" : "", d & D_UXN ? " UXN" : "");
}

const struct pt_fmt pt_fmt_vmsa_s1 = {
	.name = "vmsa-s1",
	.cfg_init = vmsa_s1_cfg_init,
	.walk_begin = vmsa_walk_begin,
	.walk_step = vmsa_walk_step,
	.decode = vmsa_decode,
	.map = eng_map,
	.unmap = eng_unmap,
	.iova_to_phys = eng_iova_to_phys,
	.for_each_leaf = eng_for_each_leaf,
	.free_all = eng_free_all,
	.check = eng_check,
};

const struct pt_fmt pt_fmt_vmsa_s2 = {
	.name = "vmsa-s2",
	.cfg_init = vmsa_s2_cfg_init,
	.walk_begin = vmsa_walk_begin,
	.walk_step = vmsa_walk_step,
	.decode = vmsa_decode,
	.map = eng_map,
	.unmap = eng_unmap,
	.iova_to_phys = eng_iova_to_phys,
	.for_each_leaf = eng_for_each_leaf,
	.free_all = eng_free_all,
	.check = eng_check,
};
