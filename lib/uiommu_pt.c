// SPDX-License-Identifier: MIT
/*
 * uiommu_pt.c - include/uiommu/pt.h on top of lib/pt.
 *
 * What it owns: struct uiommu_pt, which is a struct pt_table over the host
 * memory port (table addresses are this process's virtual addresses) plus
 * nothing else. The wrappers validate what the internal layer trusts
 * (NULL pointers, unknown flag and permission bits, the format name),
 * translate the public constants (identical by construction, checked
 * below at compile time) and pass errno values through unchanged.
 *
 * Invariants: a struct uiommu_pt handed out always holds an initialised
 * table; uiommu_pt_free() is the only way it goes away.
 *
 * Locking: none here. Callers serialise calls on one table as pt.h says;
 * lib/pt makes descriptor stores atomic, so concurrent walks are safe
 * against each other.
 */
#include <errno.h>
#include <string.h>

#include <uiommu/uiommu.h>

#include "pt/pt.h"
#include "uiommu_private.h"
#include "util/alloc.h"

_Static_assert(UIOMMU_PROT_READ == PT_PROT_R, "UIOMMU_PROT_READ");
_Static_assert(UIOMMU_PROT_WRITE == PT_PROT_W, "UIOMMU_PROT_WRITE");
_Static_assert(UIOMMU_PROT_EXEC == PT_PROT_X, "UIOMMU_PROT_EXEC");
_Static_assert(UIOMMU_PROT_USER == PT_PROT_U, "UIOMMU_PROT_USER");

_Static_assert(UIOMMU_PT_HW_AD == PT_CFG_HW_AD, "UIOMMU_PT_HW_AD");
_Static_assert(UIOMMU_PT_AFFD == PT_CFG_AFFD, "UIOMMU_PT_AFFD");
_Static_assert(UIOMMU_PT_NO_1G == PT_CFG_NO_1G, "UIOMMU_PT_NO_1G");
_Static_assert(UIOMMU_PT_NO_2M == PT_CFG_NO_2M, "UIOMMU_PT_NO_2M");
_Static_assert(UIOMMU_PT_NO_BLOCKS == PT_CFG_NO_BLOCKS, "UIOMMU_PT_NO_BLOCKS");

_Static_assert(UIOMMU_PT_FAULT_NONE == (int)PT_OK, "fault none");
_Static_assert(UIOMMU_PT_FAULT_TRANSLATION == (int)PT_FAULT_TRANSLATION, "fault translation");
_Static_assert(UIOMMU_PT_FAULT_ACCESS == (int)PT_FAULT_ACCESS, "fault access");
_Static_assert(UIOMMU_PT_FAULT_PERMISSION == (int)PT_FAULT_PERMISSION, "fault permission");
_Static_assert(UIOMMU_PT_FAULT_ADDR_SIZE == (int)PT_FAULT_ADDR_SIZE, "fault address size");
_Static_assert(UIOMMU_PT_FAULT_RESERVED == (int)PT_FAULT_RESERVED, "fault reserved");
_Static_assert(UIOMMU_PT_FAULT_WALK_ABORT == (int)PT_FAULT_EXT_ABORT, "fault walk abort");
_Static_assert(UIOMMU_PT_FAULT_WALK_ABORT + 1 == (int)PT_NR_FAULTS, "a fault without a name");

#define PUBLIC_PROT (UIOMMU_PROT_READ | UIOMMU_PROT_WRITE | UIOMMU_PROT_EXEC | UIOMMU_PROT_USER)
#define PUBLIC_FLAGS \
	(UIOMMU_PT_HW_AD | UIOMMU_PT_AFFD | UIOMMU_PT_NO_1G | UIOMMU_PT_NO_2M | UIOMMU_PT_NO_BLOCKS)

struct uiommu_pt {
	struct pt_table table;
};

UIOMMU_EXPORT int uiommu_pt_new(const struct uiommu_pt_config *cfg, struct uiommu_pt **out)
{
	struct pt_cfg c = { 0 };
	struct uiommu_pt *pt;
	int fmt, ret;

	if (!cfg || !out || !cfg->format)
		return -EINVAL;
	fmt = pt_format_parse(cfg->format);
	if (fmt < 0)
		return -EINVAL;
	if (cfg->flags & ~PUBLIC_FLAGS)
		return -EOPNOTSUPP;

	c.format = (enum pt_format)fmt;
	c.granule_shift = cfg->granule_shift;
	c.ias = cfg->ias;
	c.oas = cfg->oas;
	c.sl0 = cfg->sl0;
	c.levels = cfg->levels;
	c.iova_base = cfg->iova_base;
	c.flags = cfg->flags;
	ret = pt_cfg_init(&c);
	if (ret)
		return ret;

	pt = uzalloc(sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	ret = pt_table_init(&pt->table, &c, &pt_mem_host);
	if (ret) {
		ufree(pt);
		return ret;
	}
	*out = pt;
	return 0;
}

UIOMMU_EXPORT void uiommu_pt_free(struct uiommu_pt *pt)
{
	if (!pt)
		return;
	pt_table_destroy(&pt->table);
	ufree(pt);
}

UIOMMU_EXPORT int uiommu_pt_map(struct uiommu_pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
				unsigned int prot)
{
	if (!pt || (prot & ~PUBLIC_PROT))
		return -EINVAL;
	return pt_map(&pt->table, iova, pa, size, prot);
}

UIOMMU_EXPORT int uiommu_pt_unmap(struct uiommu_pt *pt, uint64_t iova, uint64_t size,
				  uint64_t *unmapped)
{
	uint64_t done = 0;
	int ret;

	if (!pt)
		return -EINVAL;
	ret = pt_unmap(&pt->table, iova, size, &done);
	if (unmapped)
		*unmapped = ret ? 0 : done;
	return ret;
}

UIOMMU_EXPORT int uiommu_pt_iova_to_phys(const struct uiommu_pt *pt, uint64_t iova, uint64_t *pa)
{
	if (!pt || !pa)
		return -EINVAL;
	return pt_iova_to_phys(&pt->table, iova, pa);
}

UIOMMU_EXPORT uint64_t uiommu_pt_root(const struct uiommu_pt *pt)
{
	return pt ? pt->table.root : 0;
}

UIOMMU_EXPORT int uiommu_pt_walk(const struct uiommu_pt *pt, uint64_t iova, unsigned int access,
				 struct uiommu_pt_walk_result *res)
{
	struct pt_leaf leaf = { 0 };
	struct pt_fault fault = { 0 };
	enum pt_fault_reason r;

	if (!pt || !res || (access & ~PUBLIC_PROT))
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	r = pt_table_walk(&pt->table, iova, access, &leaf, &fault);
	res->fault = (uint32_t)r;
	if (r == PT_OK) {
		res->level = leaf.level;
		res->oa = leaf.oa;
		res->size = leaf.size;
		res->prot = leaf.prot;
		res->desc = leaf.desc;
		res->desc_addr = leaf.desc_addr;
	} else {
		res->level = fault.level;
		res->desc = fault.desc;
		res->desc_addr = fault.desc_addr;
	}
	return 0;
}

UIOMMU_EXPORT int uiommu_pt_stats(const struct uiommu_pt *pt, struct uiommu_pt_stats *st)
{
	if (!pt || !st)
		return -EINVAL;
	st->tables = pt->table.nr_tables;
	st->bytes = pt->table.table_bytes;
	return 0;
}

UIOMMU_EXPORT const char *uiommu_pt_fault_name(unsigned int fault)
{
	return fault < PT_NR_FAULTS ? pt_fault_name((enum pt_fault_reason)fault) : "?";
}
