// SPDX-License-Identifier: MIT
/*
 * vfio_compat.c - VFIO type1 container ioctls on /dev/iommu, and
 * IOMMU_VFIO_IOAS.
 *
 * What it owns: the choice of the "compat IOAS" (ictx->vfio_ioas), the IOAS
 * that the type1 ioctls act on since their structs carry no IOAS ID. It is
 * set with IOMMU_VFIO_IOAS (or created when the first VFIO group attaches,
 * lib/vfio), holds no reference (destroying the IOAS clears it), and every
 * type1 ioctl without one fails with ENODEV.
 *
 * The ioctls, as Linux's iommufd answers them (reference iommufd.md §4.11):
 *   VFIO_GET_API_VERSION  VFIO_API_VERSION
 *   VFIO_CHECK_EXTENSION  1 for TYPE1, TYPE1v2 and UNMAP_ALL; DMA_CC_IOMMU:
 *                         whether every HWPT of the compat IOAS enforces
 *                         coherency (1 with none); 0 otherwise
 *   VFIO_SET_IOMMU        TYPE1 or TYPE1v2 (EINVAL), needs the compat IOAS
 *                         (ENODEV); TYPE1 turns huge pages off so any
 *                         sub-range can be unmapped later
 *   VFIO_IOMMU_GET_INFO   page sizes and a capability chain (DMA_AVAIL, then
 *                         IOVA_RANGE), written only as far as argsz reaches;
 *                         argsz is set to the full size, cap_offset only if
 *                         everything fitted
 *   VFIO_IOMMU_MAP_DMA    a fixed-IOVA IOAS map of user memory
 *   VFIO_IOMMU_UNMAP_DMA  UNMAP_ALL (iova = size = 0), or a range: v1 cuts
 *                         areas at both ends first, v2 refuses to cut
 *                         (ENOENT); an empty range succeeds with size 0; the
 *                         bytes unmapped are written back, even on error
 * Anything else: ENOTTY (Linux returns -ENOIOCTLCMD).
 *
 * Locks: ictx->lock guards vfio_ioas and no_iommu_mode; the IOAS found is
 * held by a short-term reference for the duration of the call.
 */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "iommufd/io_pagetable.h"
#include "util/trace.h"

#define ENOIOCTLCMD ENOTTY

static struct iommufd_ioas *get_compat_ioas(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas = ERR_PTR(-ENODEV);

	pthread_mutex_lock(&ictx->lock);
	if (ictx->vfio_ioas && iommufd_lock_obj(&ictx->vfio_ioas->obj))
		ioas = ictx->vfio_ioas;
	pthread_mutex_unlock(&ictx->lock);
	return ioas;
}

int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, uint32_t *out_ioas_id)
{
	struct iommufd_ioas *ioas = get_compat_ioas(ictx);

	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	*out_ioas_id = ioas->obj.id;
	iommufd_put_object(ictx, &ioas->obj);
	return 0;
}

int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx)
{
	int rc = 0;

	pthread_mutex_lock(&ictx->lock);
	if (!ictx->vfio_ioas)
		ictx->no_iommu_mode = 1;
	else
		rc = -EINVAL;
	pthread_mutex_unlock(&ictx->lock);
	return rc;
}

int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	ioas = iommufd_ioas_alloc(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	pthread_mutex_lock(&ictx->lock);
	/* VFIO does not let one container mix IOMMU and no-IOMMU groups. */
	if (ictx->no_iommu_mode) {
		rc = -EINVAL;
		goto out_abort;
	}
	/* Already have one that is alive. */
	if (ictx->vfio_ioas && refcount_read(&ictx->vfio_ioas->obj.users))
		goto out_abort;
	ictx->vfio_ioas = ioas;
	pthread_mutex_unlock(&ictx->lock);

	/*
	 * An automatically created compat IOAS is like one the program made:
	 * IOMMU_VFIO_IOAS GET tells its ID, and close destroys it.
	 */
	iommufd_object_finalize(ictx, &ioas->obj);
	return 0;

out_abort:
	pthread_mutex_unlock(&ictx->lock);
	iommufd_object_abort_and_destroy(ictx, &ioas->obj);
	return rc;
}

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		ioas = get_compat_ioas(ucmd->ictx);
		if (IS_ERR(ioas))
			return (int)PTR_ERR(ioas);
		cmd->ioas_id = ioas->obj.id;
		iommufd_put_object(ucmd->ictx, &ioas->obj);
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));

	case IOMMU_VFIO_IOAS_SET:
		ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
		if (IS_ERR(ioas))
			return (int)PTR_ERR(ioas);
		pthread_mutex_lock(&ucmd->ictx->lock);
		ucmd->ictx->vfio_ioas = ioas;
		pthread_mutex_unlock(&ucmd->ictx->lock);
		iommufd_put_object(ucmd->ictx, &ioas->obj);
		return 0;

	case IOMMU_VFIO_IOAS_CLEAR:
		pthread_mutex_lock(&ucmd->ictx->lock);
		ucmd->ictx->vfio_ioas = NULL;
		pthread_mutex_unlock(&ucmd->ictx->lock);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int iommufd_vfio_map_dma(struct iommufd_ctx *ictx, void *arg)
{
	const uint32_t supported_flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	int iommu_prot = IOMMU_CACHE;
	struct iommufd_ioas *ioas;
	uint64_t iova;
	int rc;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~supported_flags)
		return -EINVAL;

	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		iommu_prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		iommu_prot |= IOMMU_WRITE;

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	/*
	 * Maps made through the legacy interface use VFIO-style (MM) accounting
	 * only when the context was opened as /dev/vfio/vfio; the fixed IOVA is
	 * the only kind type1 knows.
	 */
	iova = map.iova;
	rc = iopt_map_user_pages(ictx, &ioas->iopt, &iova, u64_to_user_ptr(map.vaddr), map.size,
				 iommu_prot, 0);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static int iommufd_vfio_unmap_dma(struct iommufd_ctx *ictx, void *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	/* GET_DIRTY_BITMAP is superseded by the HWPT dirty tracking ioctls. */
	const uint32_t supported_flags = VFIO_DMA_UNMAP_FLAG_ALL;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	int rc;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || unmap.flags & ~supported_flags)
		return -EINVAL;

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova != 0 || unmap.size != 0) {
			rc = -EINVAL;
			goto err_put;
		}
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else {
		pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
		bool cut = ioas->iopt.disable_large_pages;
		pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);

		if (cut) {
			/*
			 * Type1 (v1): cut the areas at both ends of the range
			 * first, so the unmap below removes exactly the range.
			 * An IOVA of 0 needs no cut before it.
			 */
			uint64_t iovas[] = {unmap.iova + unmap.size - 1, unmap.iova - 1};

			rc = iopt_cut_iova(&ioas->iopt, iovas, unmap.iova ? 2 : 1);
			if (rc)
				goto err_put;
		}
		rc = iopt_unmap_iova(&ioas->iopt, unmap.iova, unmap.size, &unmapped);
	}
	unmap.size = unmapped;
	if (copy_to_user(arg, &unmap, minsz))
		rc = -EFAULT;

err_put:
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static int iommufd_vfio_cc_iommu(struct iommufd_ctx *ictx)
{
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_ioas *ioas;
	int rc = 1;

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	/* 1 when every HWPT of the IOAS enforces cache coherency, and with none. */
	pthread_mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt_paging, &ioas->hwpt_list, hwpt_item)
	{
		if (!hwpt_paging->enforce_cache_coherency) {
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ioas->mutex);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static int iommufd_vfio_check_extension(struct iommufd_ctx *ictx, unsigned long type)
{
	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_NOIOMMU_IOMMU:
		/* No unsafe no-IOMMU mode here (CONFIG_VFIO_NOIOMMU off). */
		return 0;
	case VFIO_DMA_CC_IOMMU:
		return iommufd_vfio_cc_iommu(ictx);
	case __VFIO_RESERVED_TYPE1_NESTING_IOMMU:
		return 0;
	case VFIO_UPDATE_VADDR:
	default:
		return 0;
	}
}

static int iommufd_vfio_set_iommu(struct iommufd_ctx *ictx, unsigned long type)
{
	struct iommufd_ioas *ioas;
	bool no_iommu_mode;
	int rc = 0;

	pthread_mutex_lock(&ictx->lock);
	no_iommu_mode = ictx->no_iommu_mode;
	pthread_mutex_unlock(&ictx->lock);

	if ((type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU) || no_iommu_mode)
		return -EINVAL;

	/* VFIO fails SET_IOMMU when there is no group. */
	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	/*
	 * TYPE1 may unmap any sub-range of a mapping; huge IOPTEs cannot be
	 * cut, so type1 is emulated by never creating them.
	 */
	if (type == VFIO_TYPE1_IOMMU)
		rc = iopt_disable_large_pages(&ioas->iopt);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static uint64_t iommufd_get_pagesizes(struct iommufd_ioas *ioas)
{
	struct io_pagetable *iopt = &ioas->iopt;
	uint64_t pgsize_bitmap = UINT64_MAX;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	for (unsigned int i = 0; i != iopt->next_domain_id; i++)
		pgsize_bitmap &= iopt->domains[i]->pgsize_bitmap;
	/* Sizes below PAGE_SIZE are shown as PAGE_SIZE (vfio_update_pgsize_bitmap()). */
	if (pgsize_bitmap & ~PAGE_MASK) {
		pgsize_bitmap &= PAGE_MASK;
		pgsize_bitmap |= PAGE_SIZE;
	}
	pgsize_bitmap = MAX(pgsize_bitmap, iopt->iova_alignment);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return pgsize_bitmap;
}

/* Each fill function writes its capability at @cur when @avail bytes allow; returns its size. */
static int iommufd_fill_cap_iova(struct iommufd_ioas *ioas, void *cur, size_t avail)
{
	struct vfio_iommu_type1_info_cap_iova_range cap_iovas = {
		.header =
			{
				.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
				.version = 1,
			},
	};
	struct vfio_iommu_type1_info_cap_iova_range *ucap = cur;
	struct interval_tree_span_iter span;

	interval_tree_for_each_span(&span, &ioas->iopt.reserved_itree, 0, UINT64_MAX)
	{
		struct vfio_iova_range range;

		if (!span.is_hole)
			continue;
		range.start = span.start_hole;
		range.end = span.last_hole;
		if (avail >= sizeof(cap_iovas) + sizeof(range) * (cap_iovas.nr_iovas + 1) &&
		    copy_to_user(uptr_add(ucap, sizeof(cap_iovas) + (uint64_t)cap_iovas.nr_iovas *
									    sizeof(range)),
				 &range, sizeof(range)))
			return -EFAULT;
		cap_iovas.nr_iovas++;
	}
	if (avail >= sizeof(cap_iovas) + sizeof(struct vfio_iova_range) * cap_iovas.nr_iovas &&
	    copy_to_user(ucap, &cap_iovas, sizeof(cap_iovas)))
		return -EFAULT;
	return (int)(sizeof(cap_iovas) + sizeof(struct vfio_iova_range) * cap_iovas.nr_iovas);
}

static int iommufd_fill_cap_dma_avail(struct iommufd_ioas *ioas, void *cur, size_t avail)
{
	struct vfio_iommu_type1_info_dma_avail cap_dma = {
		.header =
			{
				.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
				.version = 1,
			},
		/*
		 * There is no per-container entry limit (VFIO's is 65535):
		 * report U32_MAX, as Linux's iommufd does.
		 */
		.avail = UINT32_MAX,
	};

	if (avail >= sizeof(cap_dma) && copy_to_user(cur, &cap_dma, sizeof(cap_dma)))
		return -EFAULT;
	return sizeof(cap_dma);
}

static int iommufd_vfio_iommu_get_info(struct iommufd_ctx *ictx, void *arg)
{
	typedef int (*fill_cap_fn)(struct iommufd_ioas * ioas, void *cur, size_t avail);
	static const fill_cap_fn fill_fns[] = {
		iommufd_fill_cap_dma_avail,
		iommufd_fill_cap_iova,
	};
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_info_cap_header *last_cap = NULL;
	struct vfio_iommu_type1_info info = {0};
	struct iommufd_ioas *ioas;
	size_t total_cap_size;
	int rc;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = MIN(info.argsz, sizeof(info));

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = iommufd_get_pagesizes(ioas);
	info.cap_offset = 0;

	pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
	total_cap_size = sizeof(info);
	for (size_t i = 0; i != ARRAY_SIZE(fill_fns); i++) {
		int cap_size;

		if (info.argsz > total_cap_size)
			cap_size = fill_fns[i](ioas, uptr_add(arg, total_cap_size),
					       info.argsz - total_cap_size);
		else
			cap_size = fill_fns[i](ioas, NULL, 0);
		if (cap_size < 0) {
			rc = cap_size;
			goto out_put;
		}
		cap_size = (int)ALIGN_UP((uint64_t)cap_size, sizeof(uint64_t));

		if (last_cap && info.argsz >= total_cap_size) {
			uint32_t next = (uint32_t)total_cap_size;

			if (copy_to_user(
				    uptr_add(last_cap, offsetof(struct vfio_info_cap_header, next)),
				    &next, sizeof(next))) {
				rc = -EFAULT;
				goto out_put;
			}
		}
		last_cap = uptr_add(arg, total_cap_size);
		total_cap_size += cap_size;
	}

	/*
	 * If the caller's buffer was too small only some capabilities were
	 * written; argsz tells the size that gets them all.
	 */
	if (info.argsz >= total_cap_size)
		info.cap_offset = sizeof(info);
	info.argsz = (uint32_t)total_cap_size;
	info.flags |= VFIO_IOMMU_INFO_CAPS;
	rc = copy_to_user(arg, &info, minsz) ? -EFAULT : 0;

out_put:
	pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

const char *iommufd_vfio_ioctl_name(unsigned int cmd)
{
	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return "VFIO_GET_API_VERSION";
	case VFIO_SET_IOMMU:
		return "VFIO_SET_IOMMU";
	case VFIO_CHECK_EXTENSION:
		return "VFIO_CHECK_EXTENSION";
	case VFIO_IOMMU_GET_INFO:
		return "VFIO_IOMMU_GET_INFO";
	case VFIO_IOMMU_MAP_DMA:
		return "VFIO_IOMMU_MAP_DMA";
	case VFIO_IOMMU_UNMAP_DMA:
		return "VFIO_IOMMU_UNMAP_DMA";
	default:
		return NULL;
	}
}

long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd, unsigned long arg)
{
	void *uarg = (void *)arg;
	long rc;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		rc = VFIO_API_VERSION;
		break;
	case VFIO_SET_IOMMU:
		rc = iommufd_vfio_set_iommu(ictx, arg);
		break;
	case VFIO_CHECK_EXTENSION:
		rc = iommufd_vfio_check_extension(ictx, arg);
		break;
	case VFIO_IOMMU_GET_INFO:
		rc = iommufd_vfio_iommu_get_info(ictx, uarg);
		break;
	case VFIO_IOMMU_MAP_DMA:
		rc = iommufd_vfio_map_dma(ictx, uarg);
		break;
	case VFIO_IOMMU_UNMAP_DMA:
		rc = iommufd_vfio_unmap_dma(ictx, uarg);
		break;
	case VFIO_IOMMU_DIRTY_PAGES:
	default:
		rc = -ENOIOCTLCMD;
		break;
	}
	trace_iommufd_vfio_ioctl(cmd, rc);
	return rc;
}
