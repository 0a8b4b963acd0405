// SPDX-License-Identifier: MIT
/*
 * mm_iommu.c - memory preregistered for sPAPR TCE v2 (Linux's
 * arch/powerpc/mm/book3s64/iommu_api.c, for facts; the code is ours).
 *
 * What it owns. The process's list of preregistered regions: the "mm" of
 * Linux is the process here, so the list is process-wide and shared by
 * every v2 container, as in Linux. A region is (ua, entries) in pages of
 * the emulated kernel (SPAPR_PAGE_SIZE, 64 KiB). Registering a new region
 * charges entries pages to the process's locked memory first (-ENOMEM past
 * RLIMIT_MEMLOCK without CAP_IPC_LOCK), then "pins" it (every host page
 * must be mapped writable: -EFAULT otherwise), then refuses a region that
 * overlaps another one without being it (-EINVAL). Registering the exact
 * same region again only takes a reference (mm_iommu_get).
 *
 * Each region counts its users (containers that registered it) and its
 * mappings (TCEs that point into it, plus one while it is registered).
 * Dropping the last user fails with -EBUSY while TCEs still point into it,
 * and with -ENOENT for a region already gone.
 *
 * pageshift: the largest IOMMU page a TCE may take from the region: the
 * natural alignment of ua and of the size, capped at the kernel page
 * size, since our memory is never counted as hugetlb-backed (Linux raises
 * the cap to the huge page size for hugetlbfs memory; not modelled).
 *
 * Locks: mm_iommu_lock guards the list and every region's used count;
 * mapped is atomic (TCE stores and clears inc / dec it under their
 * container's lock only).
 */
#include <errno.h>

#include "hw/spapr/spapr.h"
#include "util/alloc.h"
#include "util/uaccess.h"
#include "vfio/vfio_private.h"

static pthread_mutex_t mm_iommu_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(mm_iommu_list);

static uint64_t mem_end(const struct mm_iommu_mem *mem)
{
	return mem->ua + (mem->entries << SPAPR_PAGE_SHIFT);
}

long mm_iommu_new(uint64_t ua, uint64_t entries, struct mm_iommu_mem **pmem)
{
	uint64_t size = entries << SPAPR_PAGE_SHIFT;
	struct mm_iommu_mem *mem, *it;
	int rc;

	rc = iommufd_account_locked_vm(size, true);
	if (rc)
		return rc;
	mem = uzalloc(sizeof(*mem));
	if (!mem) {
		rc = -ENOMEM;
		goto err_unaccount;
	}
	mem->pageshift = (unsigned int)__builtin_ctzll(ua | size);
	if (mem->pageshift > SPAPR_PAGE_SHIFT)
		mem->pageshift = SPAPR_PAGE_SHIFT;
	/* Pinning: every page present and writable (FOLL_WRITE | FOLL_LONGTERM). */
	rc = probe_user_pages((const void *)(uintptr_t)ua, size, 4096, true);
	if (rc) {
		rc = -EFAULT;
		goto err_free;
	}
	atomic_init(&mem->mapped, 1);
	mem->used = 1;
	mem->ua = ua;
	mem->entries = entries;
	pthread_mutex_lock(&mm_iommu_lock);
	list_for_each_entry(it, &mm_iommu_list, next)
	{
		if (it->ua < ua + size && ua < mem_end(it)) {
			pthread_mutex_unlock(&mm_iommu_lock);
			rc = -EINVAL;
			goto err_free;
		}
	}
	list_add(&mem->next, &mm_iommu_list);
	pthread_mutex_unlock(&mm_iommu_lock);
	*pmem = mem;
	return 0;

err_free:
	ufree(mem);
err_unaccount:
	iommufd_account_locked_vm(size, false);
	return rc;
}

struct mm_iommu_mem *mm_iommu_get(uint64_t ua, uint64_t entries)
{
	struct mm_iommu_mem *mem, *ret = NULL;

	pthread_mutex_lock(&mm_iommu_lock);
	list_for_each_entry(mem, &mm_iommu_list, next)
	{
		if (mem->ua == ua && mem->entries == entries) {
			mem->used++;
			ret = mem;
			break;
		}
	}
	pthread_mutex_unlock(&mm_iommu_lock);
	return ret;
}

long mm_iommu_put(struct mm_iommu_mem *mem)
{
	uint64_t unaccount = 0;
	long rc = 0;

	pthread_mutex_lock(&mm_iommu_lock);
	if (!mem->used) {
		rc = -ENOENT;
		goto out;
	}
	if (--mem->used)
		goto out;
	/* The last user: only when no TCE points into it any more. */
	{
		int64_t one = 1;

		if (!atomic_compare_exchange_strong(&mem->mapped, &one, 0)) {
			mem->used++;
			rc = -EBUSY;
			goto out;
		}
	}
	list_del(&mem->next);
	unaccount = mem->entries << SPAPR_PAGE_SHIFT;
out:
	pthread_mutex_unlock(&mm_iommu_lock);
	if (unaccount) {
		iommufd_account_locked_vm(unaccount, false);
		ufree(mem);
	}
	return rc;
}

struct mm_iommu_mem *mm_iommu_lookup(uint64_t ua, uint64_t size)
{
	struct mm_iommu_mem *mem, *ret = NULL;

	pthread_mutex_lock(&mm_iommu_lock);
	list_for_each_entry(mem, &mm_iommu_list, next)
	{
		if (mem->ua <= ua && ua + size <= mem_end(mem) && ua + size >= ua) {
			ret = mem;
			break;
		}
	}
	pthread_mutex_unlock(&mm_iommu_lock);
	return ret;
}

long mm_iommu_ua_to_hpa(struct mm_iommu_mem *mem, uint64_t ua, unsigned int pageshift,
			uint64_t *hpa)
{
	if (ua < mem->ua || ((ua - mem->ua) >> SPAPR_PAGE_SHIFT) >= mem->entries)
		return -EFAULT;
	if (pageshift > mem->pageshift)
		return -EFAULT;
	*hpa = ua; /* a host physical address is our virtual address */
	return 0;
}

long mm_iommu_mapped_inc(struct mm_iommu_mem *mem)
{
	int64_t v = atomic_load(&mem->mapped);

	do {
		if (!v)
			return -ENXIO; /* being unregistered */
	} while (!atomic_compare_exchange_weak(&mem->mapped, &v, v + 1));
	return 0;
}

void mm_iommu_mapped_dec(struct mm_iommu_mem *mem)
{
	int64_t v = atomic_load(&mem->mapped);

	do {
		if (v == 1)
			return;
	} while (!atomic_compare_exchange_weak(&mem->mapped, &v, v - 1));
}

uint64_t mm_iommu_mapped(const struct mm_iommu_mem *mem)
{
	return (uint64_t)atomic_load(&((struct mm_iommu_mem *)mem)->mapped);
}
