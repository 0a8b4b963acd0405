// SPDX-License-Identifier: MIT
/*
 * vfio_iommu_spapr_tce.c - the sPAPR TCE backend of a VFIO container
 * (VFIO_SPAPR_TCE_IOMMU, v1, and VFIO_SPAPR_TCE_v2_IOMMU), with EEH.
 *
 * What it owns. A struct tce_container: up to two DMA windows (TCE tables
 * of lib/hw/spapr, programmed into the PE of every group), the groups,
 * the regions of preregistered memory this container registered
 * (mm_iommu.c), and whether it is enabled. Behaviour and every errno are
 * those of Linux 6.12's drivers/vfio/vfio_iommu_spapr_tce.c and its EEH
 * op, read for facts (reference vfio.md §4); the code is ours. In short:
 *
 *   v1  one group only (EBUSY for a second); ENABLE accounts the whole
 *       32-bit window to locked memory and enables; MAP pins each page
 *       (checks it is mapped: EFAULT) and accounts nothing per page;
 *       REGISTER/UNREGISTER_MEMORY and TCE_CREATE/REMOVE are ENOTTY.
 *   v2  groups must support dynamic windows (EINVAL); REGISTER_MEMORY
 *       enables; MAP takes pages only from preregistered memory (EINVAL
 *       otherwise, or when the region's page size is smaller than the
 *       TCE page); windows are created and removed by the user;
 *       ENABLE/DISABLE are ENOTTY.
 *   both  the first group leaves the default 32-bit window "pending":
 *       MAP, UNMAP and TCE_CREATE create it first (4 KiB TCEs, one
 *       level, dma32 size); TCE_REMOVE of address 0 while pending just
 *       cancels it. MAP over a present TCE replaces it (H_PUT_TCE).
 *
 * Quirks of Linux kept on purpose, because programs see them:
 *   - MAP with an IOVA inside a window but not aligned to its page size,
 *     and UNMAP with a misaligned IOVA or a range running past the end of
 *     the window, return 1 (not an error: the kernel's param-check macro
 *     yields a boolean that the ioctl returns as is). Nothing changes.
 *   - UNMAP's size is not written back; its flags must be 0.
 *   - UNREGISTER_MEMORY of a region that TCEs still point into returns 0
 *     and leaves the region registered (pinned, accounted) for the
 *     process but no longer for this container; registering it again
 *     adopts it.
 *   - Detaching one group clears every TCE of the container's windows.
 *   - TCE_REMOVE takes any address inside a window, not only its start.
 * Where Linux has no check and would write past the table (a MAP whose
 * pages run beyond the end of the window), ours fails with EINVAL after
 * undoing the TCEs it stored; where Linux leaks the accounting of a table
 * the platform then refuses (EINVAL for the 55-bit bound), ours gives it
 * back.
 *
 * Locks: the VFIO container's group_lock (held for reading by ioctls, for
 * writing by attach / detach / release) and then tc->lock, which
 * serialises every ioctl of the backend. The TCE stores take the table's
 * own lock (lib/hw/spapr); DMA takes none of these.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hw/spapr/spapr.h"
#include "util/alloc.h"
#include "util/uaccess.h"
#include "vfio/vfio_private.h"

#define TCE_PAGE_SHIFT SPAPR_PAGE_SHIFT
#define TCE_PAGE_SIZE  SPAPR_PAGE_SIZE
#define TCE_PAGE_MASK  (~(TCE_PAGE_SIZE - 1))

struct tce_iommu_group {
	struct list_head next;
	struct vfio_group *grp;
	struct spapr_pe *pe;
};

struct tce_iommu_prereg {
	struct list_head next;
	struct mm_iommu_mem *mem;
};

struct tce_container {
	pthread_mutex_t lock;
	bool enabled;
	bool v2;
	bool def_window_pending;
	uint64_t locked_bytes; /* v1 ENABLE's accounting */
	pid_t mm;	       /* the process it is bound to, 0 until the first use */
	struct spapr_table *tables[SPAPR_MAX_WINDOWS];
	struct list_head group_list;  /* tce_iommu_group::next */
	struct list_head prereg_list; /* tce_iommu_prereg::next */
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static long tce_iommu_mm_set(struct tce_container *tc)
{
	pid_t me = getpid();

	if (tc->mm)
		return tc->mm == me ? 0 : -EPERM;
	tc->mm = me;
	return 0;
}

static bool tce_groups_attached(struct tce_container *tc)
{
	return !list_empty(&tc->group_list);
}

static struct spapr_pe *tce_first_pe(struct tce_container *tc)
{
	return list_first_entry(&tc->group_list, struct tce_iommu_group, next)->pe;
}

/* The PE of a group: the PE of its (first) device; NULL if not sPAPR. */
struct spapr_pe *vfio_spapr_group_pe(struct vfio_group *group)
{
	struct vfio_device_core *core;

	if (!spapr_is_iommu(group->iommu))
		return NULL;
	core = list_first_entry_or_null(&group->device_list, struct vfio_device_core, group_next);
	return core ? spapr_dev_pe(core->vdev->dev) : NULL;
}

bool vfio_spapr_group_is_spapr(struct vfio_group *group)
{
	return spapr_is_iommu(group->iommu);
}

static long tce_iommu_find_table(struct tce_container *tc, uint64_t ioba, struct spapr_table **ptbl,
				 struct spapr_table_info *info)
{
	for (unsigned int i = 0; i < SPAPR_MAX_WINDOWS; i++) {
		struct spapr_table *tbl = tc->tables[i];
		uint64_t entry;

		if (!tbl)
			continue;
		spapr_table_info(tbl, info);
		entry = ioba >> info->page_shift;
		if (info->offset <= entry && entry < info->offset + info->size) {
			*ptbl = tbl;
			return i;
		}
	}
	return -1;
}

static int tce_iommu_find_free_table(struct tce_container *tc)
{
	for (int i = 0; i < SPAPR_MAX_WINDOWS; i++)
		if (!tc->tables[i])
			return i;
	return -ENOSPC;
}

/* ------------------------------------------------------------------ */
/* Clearing TCEs                                                      */

/* A TCE that pointed into preregistered memory goes: one mapping less there. */
static void tce_unuse_v2(void *arg, uint64_t entry, uint64_t hpa)
{
	struct mm_iommu_mem *mem = mm_iommu_lookup(hpa, 1);

	(void)arg;
	(void)entry;
	if (mem)
		mm_iommu_mapped_dec(mem);
}

static void tce_iommu_clear(struct tce_container *tc, struct spapr_table *tbl, uint64_t entry,
			    uint64_t pages)
{
	/* v1 "unpins" nothing: the pages were only checked, never held. */
	spapr_tce_clear(tbl, entry, pages, tc->v2 ? tce_unuse_v2 : NULL, NULL);
}

static void tce_iommu_clear_all(struct tce_container *tc, struct spapr_table *tbl)
{
	struct spapr_table_info info;

	spapr_table_info(tbl, &info);
	tce_iommu_clear(tc, tbl, info.offset, info.size);
}

/* ------------------------------------------------------------------ */
/* Preregistered memory (v2)                                          */

static long tce_iommu_prereg_free(struct tce_iommu_prereg *tcemem)
{
	long ret = mm_iommu_put(tcemem->mem);

	if (ret)
		return ret;
	list_del(&tcemem->next);
	ufree(tcemem);
	return 0;
}

static long tce_iommu_register_pages(struct tce_container *tc, uint64_t vaddr, uint64_t size)
{
	struct tce_iommu_prereg *tcemem;
	struct mm_iommu_mem *mem;
	uint64_t entries = size >> TCE_PAGE_SHIFT;
	long ret;

	if ((vaddr & ~TCE_PAGE_MASK) || (size & ~TCE_PAGE_MASK) || vaddr + size < vaddr)
		return -EINVAL;
	mem = mm_iommu_get(vaddr, entries);
	if (mem) {
		list_for_each_entry(tcemem, &tc->prereg_list, next)
		{
			if (tcemem->mem == mem) {
				mm_iommu_put(mem);
				return -EBUSY;
			}
		}
	} else {
		ret = mm_iommu_new(vaddr, entries, &mem);
		if (ret)
			return ret;
	}
	tcemem = uzalloc(sizeof(*tcemem));
	if (!tcemem) {
		mm_iommu_put(mem);
		return -ENOMEM;
	}
	tcemem->mem = mem;
	list_add(&tcemem->next, &tc->prereg_list);
	tc->enabled = true;
	return 0;
}

static long tce_iommu_unregister_pages(struct tce_container *tc, uint64_t vaddr, uint64_t size)
{
	struct tce_iommu_prereg *tcemem;
	struct mm_iommu_mem *mem;
	bool found = false;
	long ret;

	if ((vaddr & ~TCE_PAGE_MASK) || (size & ~TCE_PAGE_MASK))
		return -EINVAL;
	mem = mm_iommu_get(vaddr, size >> TCE_PAGE_SHIFT);
	if (!mem)
		return -ENOENT;
	list_for_each_entry(tcemem, &tc->prereg_list, next)
	{
		if (tcemem->mem == mem) {
			found = true;
			break;
		}
	}
	ret = found ? tce_iommu_prereg_free(tcemem) : -ENOENT;
	/* Linux ignores this one's answer (see the essay: a mapped region lingers). */
	mm_iommu_put(mem);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Windows                                                            */

static void tce_iommu_free_table(struct spapr_table *tbl)
{
	struct spapr_table_info info;

	spapr_table_info(tbl, &info);
	spapr_table_put(tbl);
	iommufd_account_locked_vm(info.allocated_size, false);
}

static long tce_iommu_create_window(struct tce_container *tc, uint32_t page_shift,
				    uint64_t window_size, uint32_t levels, uint64_t *start_addr)
{
	struct tce_iommu_group *tcegrp;
	struct spapr_pe_info pinfo;
	struct spapr_table_info info;
	struct spapr_table *tbl;
	uint64_t table_size;
	int num, err;
	long ret;

	num = tce_iommu_find_free_table(tc);
	if (num < 0)
		return num;
	spapr_pe_info(tce_first_pe(tc), &pinfo);
	if (page_shift >= 64 || !(pinfo.pgsizes & (1ULL << page_shift)))
		return -EINVAL;
	table_size = spapr_table_size(page_shift, window_size, levels);
	if (!table_size)
		return -EINVAL;
	ret = iommufd_account_locked_vm(table_size, true);
	if (ret)
		return ret;
	tbl = spapr_table_create(tce_first_pe(tc), (unsigned int)num, page_shift, window_size,
				 levels, &err);
	if (!tbl) {
		iommufd_account_locked_vm(table_size, false);
		return err;
	}
	/* Program the table into every group (compatible: checked at attach). */
	list_for_each_entry(tcegrp, &tc->group_list, next)
	{
		ret = spapr_pe_set_window(tcegrp->pe, (unsigned int)num, tbl);
		if (ret)
			goto unset_exit;
	}
	tc->tables[num] = tbl;
	spapr_table_info(tbl, &info);
	*start_addr = info.offset << info.page_shift;
	return 0;

unset_exit:
	list_for_each_entry(tcegrp, &tc->group_list, next)
	{
		if (spapr_pe_window(tcegrp->pe, (unsigned int)num) == tbl)
			spapr_pe_unset_window(tcegrp->pe, (unsigned int)num);
	}
	tce_iommu_free_table(tbl);
	return ret;
}

static long tce_iommu_remove_window(struct tce_container *tc, uint64_t start_addr)
{
	struct tce_iommu_group *tcegrp;
	struct spapr_table_info info;
	struct spapr_table *tbl;
	long num;

	num = tce_iommu_find_table(tc, start_addr, &tbl, &info);
	if (num < 0)
		return -EINVAL;
	tce_iommu_clear_all(tc, tbl);
	list_for_each_entry(tcegrp, &tc->group_list, next)
		spapr_pe_unset_window(tcegrp->pe, (unsigned int)num);
	tce_iommu_free_table(tbl);
	tc->tables[num] = NULL;
	return 0;
}

static long tce_iommu_create_default_window(struct tce_container *tc)
{
	struct spapr_pe_info pinfo;
	uint64_t start_addr = 0;
	long ret;

	if (!tc->def_window_pending)
		return 0;
	if (!tce_groups_attached(tc))
		return -ENODEV;
	spapr_pe_info(tce_first_pe(tc), &pinfo);
	ret = tce_iommu_create_window(tc, 12, pinfo.tce32_size, 1, &start_addr);
	if (!ret)
		tc->def_window_pending = false;
	return ret;
}

/* ------------------------------------------------------------------ */
/* ENABLE / DISABLE (v1)                                              */

static long tce_iommu_enable(struct tce_container *tc)
{
	struct spapr_pe_info pinfo;
	long ret;

	if (tc->enabled)
		return -EBUSY;
	if (!tce_groups_attached(tc))
		return -ENODEV;
	spapr_pe_info(tce_first_pe(tc), &pinfo);
	if (!pinfo.tce32_size)
		return -EPERM;
	ret = tce_iommu_mm_set(tc);
	if (ret)
		return ret;
	/* The worst case, the whole 32-bit window, counted once (in kernel pages). */
	ret = iommufd_account_locked_vm(pinfo.tce32_size & TCE_PAGE_MASK, true);
	if (ret)
		return ret;
	tc->locked_bytes = pinfo.tce32_size & TCE_PAGE_MASK;
	tc->enabled = true;
	return 0;
}

static void tce_iommu_disable(struct tce_container *tc)
{
	if (!tc->enabled)
		return;
	tc->enabled = false;
	iommufd_account_locked_vm(tc->locked_bytes, false);
	tc->locked_bytes = 0;
}

/* ------------------------------------------------------------------ */
/* MAP_DMA                                                            */

/* The page backing a TCE must be at least as large as the TCE page. */
static bool tce_page_is_contained(unsigned int it_page_shift)
{
	return TCE_PAGE_SHIFT >= it_page_shift;
}

static long tce_iommu_build(struct tce_container *tc, struct spapr_table *tbl,
			    const struct spapr_table_info *info, uint64_t entry, uint64_t tce,
			    uint64_t pages, enum spapr_dma_dir direction)
{
	uint64_t i;
	long ret = 0;

	for (i = 0; i < pages; i++) {
		uint64_t page = tce & TCE_PAGE_MASK, hpa;
		enum spapr_dma_dir dirtmp = direction;

		/* "Pin" the kernel page holding it: present, and writable unless to-device. */
		if (probe_user_pages((const void *)(uintptr_t)page, TCE_PAGE_SIZE, 4096,
				     direction != SPAPR_DMA_TO_DEVICE)) {
			ret = -EFAULT;
			break;
		}
		if (!tce_page_is_contained(info->page_shift)) {
			ret = -EPERM;
			break;
		}
		hpa = tce;
		ret = spapr_tce_xchg(tbl, entry + i, &hpa, &dirtmp);
		if (ret)
			break;
		tce += 1ULL << info->page_shift;
	}
	if (ret)
		tce_iommu_clear(tc, tbl, entry, i);
	return ret;
}

static long tce_iommu_build_v2(struct tce_container *tc, struct spapr_table *tbl,
			       const struct spapr_table_info *info, uint64_t entry, uint64_t tce,
			       uint64_t pages, enum spapr_dma_dir direction)
{
	uint64_t i;
	long ret = 0;

	for (i = 0; i < pages; i++) {
		enum spapr_dma_dir dirtmp = direction;
		struct mm_iommu_mem *mem;
		uint64_t hpa;

		mem = mm_iommu_lookup(tce, 1ULL << info->page_shift);
		if (!mem || mm_iommu_ua_to_hpa(mem, tce, info->page_shift, &hpa)) {
			ret = -EINVAL;
			break;
		}
		if (!tce_page_is_contained(info->page_shift)) {
			ret = -EPERM;
			break;
		}
		/* The region is being unregistered: stop here (Linux returns 0). */
		if (mm_iommu_mapped_inc(mem))
			break;
		ret = spapr_tce_xchg(tbl, entry + i, &hpa, &dirtmp);
		if (ret) {
			mm_iommu_mapped_dec(mem);
			break;
		}
		if (dirtmp != SPAPR_DMA_NONE)
			tce_unuse_v2(NULL, entry + i, hpa);
		tce += 1ULL << info->page_shift;
	}
	if (ret)
		tce_iommu_clear(tc, tbl, entry, i);
	return ret;
}

static long tce_iommu_map_dma(struct tce_container *tc, void *arg)
{
	struct vfio_iommu_type1_dma_map param;
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	enum spapr_dma_dir direction;
	struct spapr_table_info info;
	struct spapr_table *tbl = NULL;
	uint64_t mask;
	long ret;

	if (!tc->enabled)
		return -EPERM;
	if (copy_from_user(&param, arg, minsz))
		return -EFAULT;
	if (param.argsz < minsz)
		return -EINVAL;
	if (param.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	ret = tce_iommu_create_default_window(tc);
	if (ret)
		return ret;
	if (tce_iommu_find_table(tc, param.iova, &tbl, &info) < 0)
		return -ENXIO;
	mask = (1ULL << info.page_shift) - 1;
	if ((param.size & mask) || (param.vaddr & mask))
		return -EINVAL;
	if (param.flags & VFIO_DMA_MAP_FLAG_READ)
		direction = param.flags & VFIO_DMA_MAP_FLAG_WRITE ? SPAPR_DMA_BIDIRECTIONAL
								  : SPAPR_DMA_TO_DEVICE;
	else if (param.flags & VFIO_DMA_MAP_FLAG_WRITE)
		direction = SPAPR_DMA_FROM_DEVICE;
	else
		return -EINVAL;
	/* iommu_tce_put_param_check(): a boolean, returned as the ioctl's value. */
	if (param.iova & mask)
		return 1;
	if (tc->v2)
		return tce_iommu_build_v2(tc, tbl, &info, param.iova >> info.page_shift,
					  param.vaddr, param.size >> info.page_shift, direction);
	return tce_iommu_build(tc, tbl, &info, param.iova >> info.page_shift, param.vaddr,
			       param.size >> info.page_shift, direction);
}

static long tce_iommu_unmap_dma(struct tce_container *tc, void *arg)
{
	struct vfio_iommu_type1_dma_unmap param;
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct spapr_table_info info;
	struct spapr_table *tbl = NULL;
	uint64_t mask, ioba, npages;
	long ret;

	if (!tc->enabled)
		return -EPERM;
	if (copy_from_user(&param, arg, minsz))
		return -EFAULT;
	if (param.argsz < minsz)
		return -EINVAL;
	if (param.flags)
		return -EINVAL;
	ret = tce_iommu_create_default_window(tc);
	if (ret)
		return ret;
	if (tce_iommu_find_table(tc, param.iova, &tbl, &info) < 0)
		return -ENXIO;
	mask = (1ULL << info.page_shift) - 1;
	if (param.size & mask)
		return -EINVAL;
	/* iommu_tce_clear_param_check(): a boolean, returned as the ioctl's value. */
	npages = param.size >> info.page_shift;
	if (param.iova & mask)
		return 1;
	ioba = param.iova >> info.page_shift;
	if (ioba < info.offset || ioba + npages < ioba || ioba - info.offset + npages > info.size)
		return 1;
	tce_iommu_clear(tc, tbl, ioba, npages);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                          */

/* Every sPAPR argument below starts with the VFIO header: argsz, then flags. */
#define TCE_ARG_HEADER(type)                                                     \
	_Static_assert(offsetof(type, argsz) == 0 && offsetof(type, flags) == 4, \
		       #type " starts with argsz, flags")
TCE_ARG_HEADER(struct vfio_eeh_pe_op);
TCE_ARG_HEADER(struct vfio_iommu_spapr_register_memory);
TCE_ARG_HEADER(struct vfio_iommu_spapr_tce_create);
TCE_ARG_HEADER(struct vfio_iommu_spapr_tce_remove);

/*
 * The first @minsz bytes of a flagless argument into @buf: -EFAULT, or
 * -EINVAL when its argsz is below @minsz or it sets a flag (in that order,
 * as the kernel checks them).
 */
static long tce_copy_arg(void *buf, void *arg, size_t minsz)
{
	uint32_t hdr[2];

	if (copy_from_user(buf, arg, minsz))
		return -EFAULT;
	memcpy(hdr, buf, sizeof(hdr));
	return hdr[0] < minsz || hdr[1] ? -EINVAL : 0;
}

/* ------------------------------------------------------------------ */
/* EEH                                                                */

static long vfio_spapr_ioctl_eeh_pe_op(struct spapr_pe *pe, void *arg)
{
	struct vfio_eeh_pe_op op;
	size_t minsz = offsetofend(struct vfio_eeh_pe_op, op);
	long ret;

	if (!pe)
		return -ENODEV;
	ret = tce_copy_arg(&op, arg, minsz);
	if (ret)
		return ret;
	switch (op.op) {
	case VFIO_EEH_PE_DISABLE:
		return spapr_eeh_set_option(pe, SPAPR_EEH_OPT_DISABLE);
	case VFIO_EEH_PE_ENABLE:
		return spapr_eeh_set_option(pe, SPAPR_EEH_OPT_ENABLE);
	case VFIO_EEH_PE_UNFREEZE_IO:
		return spapr_eeh_set_option(pe, SPAPR_EEH_OPT_THAW_MMIO);
	case VFIO_EEH_PE_UNFREEZE_DMA:
		return spapr_eeh_set_option(pe, SPAPR_EEH_OPT_THAW_DMA);
	case VFIO_EEH_PE_GET_STATE:
		return spapr_eeh_get_state(pe);
	case VFIO_EEH_PE_RESET_DEACTIVATE:
		return spapr_eeh_reset(pe, SPAPR_EEH_RESET_DEACTIVATE);
	case VFIO_EEH_PE_RESET_HOT:
		return spapr_eeh_reset(pe, SPAPR_EEH_RESET_HOT);
	case VFIO_EEH_PE_RESET_FUNDAMENTAL:
		return spapr_eeh_reset(pe, SPAPR_EEH_RESET_FUNDAMENTAL);
	case VFIO_EEH_PE_CONFIGURE:
		return spapr_eeh_configure(pe);
	case VFIO_EEH_PE_INJECT_ERR:
		minsz = offsetofend(struct vfio_eeh_pe_op, err.mask);
		if (op.argsz < minsz)
			return -EINVAL;
		if (copy_from_user(&op, arg, minsz))
			return -EFAULT;
		return spapr_eeh_inject_err(pe, (int)op.err.type, (int)op.err.func, op.err.addr,
					    op.err.mask);
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* The backend's ioctls                                               */

long tce_iommu_check_extension(unsigned long arg)
{
	switch (arg) {
	case VFIO_SPAPR_TCE_IOMMU:
	case VFIO_SPAPR_TCE_v2_IOMMU:
		return 1;
	case VFIO_EEH:
		return spapr_eeh_enabled();
	default:
		return 0;
	}
}

static long tce_iommu_get_info(struct tce_container *tc, void *arg)
{
	struct vfio_iommu_spapr_tce_info info;
	size_t minsz = offsetofend(struct vfio_iommu_spapr_tce_info, dma32_window_size);
	const size_t ddwsz = offsetofend(struct vfio_iommu_spapr_tce_info, ddw);
	struct spapr_pe_info pinfo;

	if (!tce_groups_attached(tc))
		return -ENXIO;
	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	spapr_pe_info(tce_first_pe(tc), &pinfo);
	info.dma32_window_start = pinfo.tce32_start;
	info.dma32_window_size = pinfo.tce32_size;
	info.flags = 0;
	memset(&info.ddw, 0, sizeof(info.ddw));
	if (pinfo.max_dynamic_windows_supported && tc->v2) {
		info.flags |= VFIO_IOMMU_SPAPR_INFO_DDW;
		info.ddw.pgsizes = pinfo.pgsizes;
		info.ddw.max_dynamic_windows_supported = pinfo.max_dynamic_windows_supported;
		info.ddw.levels = pinfo.max_levels;
	}
	if (info.argsz >= ddwsz)
		minsz = ddwsz;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* TCE_CREATE and TCE_REMOVE start alike: the container's mm, an attached group, the argument. */
static long tce_window_arg(struct tce_container *tc, void *buf, void *arg, size_t minsz)
{
	long ret = tce_iommu_mm_set(tc);

	if (ret)
		return ret;
	if (!tce_groups_attached(tc))
		return -ENXIO;
	return tce_copy_arg(buf, arg, minsz);
}

static long tce_iommu_ioctl_locked(struct tce_container *tc, unsigned int cmd, void *arg)
{
	struct vfio_iommu_spapr_register_memory reg;
	struct vfio_iommu_spapr_tce_create create;
	struct vfio_iommu_spapr_tce_remove remove;
	struct tce_iommu_group *tcegrp;
	size_t minsz;
	long ret;

	/* One process's container is not another's to change. */
	if (tc->mm && tc->mm != getpid())
		return -EPERM;

	switch (cmd) {
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO:
		return tce_iommu_get_info(tc, arg);
	case VFIO_IOMMU_MAP_DMA:
		return tce_iommu_map_dma(tc, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return tce_iommu_unmap_dma(tc, arg);
	case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
		if (!tc->v2)
			break;
		minsz = offsetofend(struct vfio_iommu_spapr_register_memory, size);
		ret = tce_iommu_mm_set(tc);
		if (ret)
			return ret;
		ret = tce_copy_arg(&reg, arg, minsz);
		if (ret)
			return ret;
		return tce_iommu_register_pages(tc, reg.vaddr, reg.size);
	case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY:
		if (!tc->v2)
			break;
		if (!tc->mm)
			return -EPERM;
		minsz = offsetofend(struct vfio_iommu_spapr_register_memory, size);
		ret = tce_copy_arg(&reg, arg, minsz);
		if (ret)
			return ret;
		return tce_iommu_unregister_pages(tc, reg.vaddr, reg.size);
	case VFIO_IOMMU_ENABLE:
		if (tc->v2)
			break;
		return tce_iommu_enable(tc);
	case VFIO_IOMMU_DISABLE:
		if (tc->v2)
			break;
		tce_iommu_disable(tc);
		return 0;
	case VFIO_EEH_PE_OP:
		ret = 0;
		list_for_each_entry(tcegrp, &tc->group_list, next)
		{
			ret = vfio_spapr_ioctl_eeh_pe_op(tcegrp->pe, arg);
			if (ret)
				return ret;
		}
		return ret;
	case VFIO_IOMMU_SPAPR_TCE_CREATE:
		if (!tc->v2)
			break;
		minsz = offsetofend(struct vfio_iommu_spapr_tce_create, start_addr);
		ret = tce_window_arg(tc, &create, arg, minsz);
		if (ret)
			return ret;
		ret = tce_iommu_create_default_window(tc);
		if (!ret) {
			uint64_t start = 0;

			ret = tce_iommu_create_window(tc, create.page_shift, create.window_size,
						      create.levels, &start);
			create.start_addr = start;
		}
		if (!ret && copy_to_user(arg, &create, minsz))
			ret = -EFAULT;
		return ret;
	case VFIO_IOMMU_SPAPR_TCE_REMOVE:
		if (!tc->v2)
			break;
		minsz = offsetofend(struct vfio_iommu_spapr_tce_remove, start_addr);
		ret = tce_window_arg(tc, &remove, arg, minsz);
		if (ret)
			return ret;
		if (tc->def_window_pending && !remove.start_addr) {
			tc->def_window_pending = false;
			return 0;
		}
		return tce_iommu_remove_window(tc, remove.start_addr);
	default:
		break;
	}
	return -ENOTTY;
}

long tce_iommu_ioctl(struct tce_container *tc, unsigned int cmd, unsigned long arg)
{
	long ret;

	if (cmd == VFIO_CHECK_EXTENSION)
		return tce_iommu_check_extension(arg);
	pthread_mutex_lock(&tc->lock);
	ret = tce_iommu_ioctl_locked(tc, cmd, (void *)(uintptr_t)arg);
	pthread_mutex_unlock(&tc->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Open, groups, release                                              */

struct tce_container *tce_iommu_open(unsigned long arg, int *err)
{
	struct tce_container *tc;

	if (arg != VFIO_SPAPR_TCE_IOMMU && arg != VFIO_SPAPR_TCE_v2_IOMMU) {
		*err = -EINVAL;
		return NULL;
	}
	tc = uzalloc(sizeof(*tc));
	if (!tc) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&tc->lock, NULL);
	INIT_LIST_HEAD(&tc->group_list);
	INIT_LIST_HEAD(&tc->prereg_list);
	tc->v2 = arg == VFIO_SPAPR_TCE_v2_IOMMU;
	*err = 0;
	return tc;
}

static void tce_iommu_release_ownership(struct tce_container *tc, struct spapr_pe *pe)
{
	for (unsigned int i = 0; i < SPAPR_MAX_WINDOWS; i++) {
		if (!tc->tables[i])
			continue;
		tce_iommu_clear_all(tc, tc->tables[i]);
		spapr_pe_unset_window(pe, i);
	}
}

static long tce_iommu_take_ownership(struct tce_container *tc, struct spapr_pe *pe)
{
	long ret;

	for (unsigned int i = 0; i < SPAPR_MAX_WINDOWS; i++) {
		if (!tc->tables[i])
			continue;
		ret = spapr_pe_set_window(pe, i, tc->tables[i]);
		if (ret) {
			for (unsigned int j = 0; j < i; j++)
				if (tc->tables[j])
					spapr_pe_unset_window(pe, j);
			return ret;
		}
	}
	return 0;
}

int tce_iommu_attach_group(struct tce_container *tc, struct vfio_group *group)
{
	struct spapr_pe_info pinfo;
	struct tce_iommu_group *tcegrp;
	struct spapr_pe *pe;
	int ret = 0;

	pthread_mutex_lock(&tc->lock);
	pe = vfio_spapr_group_pe(group);
	if (!pe) {
		ret = -ENODEV;
		goto unlock;
	}
	spapr_pe_info(pe, &pinfo);
	/* v2 needs dynamic windows; v1 does not share its tables between PEs. */
	if (tc->v2 && !pinfo.max_dynamic_windows_supported) {
		ret = -EINVAL;
		goto unlock;
	}
	if (!tc->v2 && tce_groups_attached(tc)) {
		ret = -EBUSY;
		goto unlock;
	}
	list_for_each_entry(tcegrp, &tc->group_list, next)
	{
		if (tcegrp->grp == group) {
			ret = -EBUSY;
			goto unlock;
		}
	}
	tcegrp = uzalloc(sizeof(*tcegrp));
	if (!tcegrp) {
		ret = -ENOMEM;
		goto unlock;
	}
	ret = (int)tce_iommu_take_ownership(tc, pe);
	if (!tce_groups_attached(tc) && !tc->tables[0])
		tc->def_window_pending = true;
	if (ret) {
		ufree(tcegrp);
		goto unlock;
	}
	tcegrp->grp = group;
	tcegrp->pe = pe;
	list_add(&tcegrp->next, &tc->group_list);
unlock:
	pthread_mutex_unlock(&tc->lock);
	return ret;
}

void tce_iommu_detach_group(struct tce_container *tc, struct vfio_group *group)
{
	struct tce_iommu_group *tcegrp, *found = NULL;

	pthread_mutex_lock(&tc->lock);
	list_for_each_entry(tcegrp, &tc->group_list, next)
	{
		if (tcegrp->grp == group) {
			found = tcegrp;
			break;
		}
	}
	if (found) {
		list_del(&found->next);
		tce_iommu_release_ownership(tc, found->pe);
		ufree(found);
	}
	pthread_mutex_unlock(&tc->lock);
}

void tce_iommu_release(struct tce_container *tc)
{
	struct tce_iommu_prereg *tcemem, *tmp;

	while (tce_groups_attached(tc))
		tce_iommu_detach_group(
			tc, list_first_entry(&tc->group_list, struct tce_iommu_group, next)->grp);
	for (unsigned int i = 0; i < SPAPR_MAX_WINDOWS; i++) {
		if (!tc->tables[i])
			continue;
		/* The PEs dropped theirs: clear what the container still maps, then free. */
		tce_iommu_clear_all(tc, tc->tables[i]);
		tce_iommu_free_table(tc->tables[i]);
		tc->tables[i] = NULL;
	}
	list_for_each_entry_safe(tcemem, tmp, &tc->prereg_list, next)
	{
		if (tce_iommu_prereg_free(tcemem)) {
			/* Still mapped elsewhere: the region stays the process's (Linux WARNs). */
			list_del(&tcemem->next);
			ufree(tcemem);
		}
	}
	tce_iommu_disable(tc);
	pthread_mutex_destroy(&tc->lock);
	ufree(tc);
}
