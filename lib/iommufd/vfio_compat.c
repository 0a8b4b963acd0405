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
 * The same ioctls on a VFIO container (/dev/vfio/vfio, lib/vfio) answer as
 * VFIO's own type1 driver does (reference vfio.md §3.4 to §3.8), on the
 * same IOAS engine rather than a second implementation: the container is a
 * context (ictx->vfio_type1 set) whose compat IOAS appears at SET_IOMMU and
 * goes when its last group leaves. Where the two drivers differ:
 *   MAP_DMA    READ or WRITE required (or VADDR alone); size, iova and
 *              vaddr multiples of the smallest page size; any overlap is
 *              EEXIST (checked before the entry limit, ENOSPC, and the
 *              usable ranges, EINVAL); VADDR re-validates an invalidated
 *              mapping of exactly that range (ENOENT, EINVAL)
 *   UNMAP_DMA  v2 refuses to split a mapping with EINVAL (not ENOENT); v1
 *              removes whole mappings that start in the range and stops at
 *              one that starts before it; VADDR invalidates instead of
 *              removing (all or nothing); GET_DIRTY_BITMAP; the size is
 *              written back only on success
 *   GET_INFO   capabilities MIGRATION, DMA_AVAIL (65535 entries, VFIO's
 *              dma_entry_limit), IOVA_RANGE, copied only when all fit
 *   DIRTY_PAGES  START / STOP / GET_BITMAP on v2 (EACCES on v1): type1
 *              reads no dirty state from an IOMMU, so every mapped page
 *              reports dirty, as in Linux
 *   CHECK_EXTENSION  TYPE1, TYPE1v2, TYPE1_NESTING, UNMAP_ALL: 1;
 *              UPDATE_VADDR and DMA_CC_IOMMU only once SET_IOMMU is done
 * Pinned memory counts against the process's RLIMIT_MEMLOCK (MM mode).
 *
 * Locks: ictx->lock guards vfio_ioas and no_iommu_mode; the IOAS found is
 * held by a short-term reference for the duration of the call. A
 * container's type1 lock comes before every IOAS lock.
 */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "iommufd/io_pagetable.h"
#include "util/alloc.h"
#include "util/infocap.h"
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

/* ------------------------------------------------------------------ */
/* VFIO containers: VFIO's own type1 answers on the same engine       */

/*
 * What a VFIO container adds to its context (ictx->vfio_type1). @lock
 * serialises every type1 ioctl, SET_IOMMU's open and close, and group
 * attaches (Linux's vfio_iommu::lock); it is taken before any IOAS lock.
 * Mappings are the compat IOAS's areas: a container has no other way to
 * make areas (its file offers no iommufd ioctl, and type1 never cuts one),
 * so each area is exactly one MAP_DMA, Linux's struct vfio_dma.
 */
struct iommufd_vfio_type1 {
	pthread_mutex_t lock;
	unsigned long type; /* 0 until SET_IOMMU, then TYPE1, TYPE1v2 or TYPE1_NESTING */
	bool v2;
	bool dirty_tracking;
	uint32_t dma_avail; /* further MAP_DMA entries allowed */
	/* Mappings whose vaddr was invalidated (exact ranges; VFIO_DMA_UNMAP_FLAG_VADDR). */
	struct interval_tree_root vaddr_invalid;
	unsigned int vaddr_invalid_count;
};

unsigned int iommufd_vfio_dma_entry_limit = UINT16_MAX;

/* Linux's DIRTY_BITMAP_PAGES_MAX and the bitmap bytes for n pages (whole u64 words). */
#define DIRTY_BITMAP_PAGES_MAX ((uint64_t)INT32_MAX)
#define DIRTY_BITMAP_BYTES(n)  ((((uint64_t)(n) + 63) / 64) * 8)
#define DIRTY_BITMAP_SIZE_MAX  DIRTY_BITMAP_BYTES(DIRTY_BITMAP_PAGES_MAX)
/* access_ok(): the range lies in the user half of an x86-64 address space. */
#define TASK_SIZE_MAX ((1ULL << 47) - PAGE_SIZE)

static bool type1_access_ok(uint64_t addr, uint64_t size)
{
	return size <= TASK_SIZE_MAX && addr <= TASK_SIZE_MAX - size;
}

int iommufd_vfio_container_init(struct iommufd_ctx *ictx)
{
	struct iommufd_vfio_type1 *t = uzalloc(sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->vaddr_invalid = INTERVAL_TREE_ROOT_INIT;
	ictx->vfio_type1 = t;
	/* Pinned pages count against the process's locked memory, as type1 does. */
	ictx->account_mode = IOPT_PAGES_ACCOUNT_MM;
	return 0;
}

static struct interval_tree_node *type1_vaddr_find(struct iommufd_vfio_type1 *t, uint64_t iova)
{
	struct interval_tree_node *node = interval_tree_iter_first(&t->vaddr_invalid, iova, iova);

	return node && node->start == iova ? node : NULL;
}

static void type1_vaddr_drop(struct iommufd_vfio_type1 *t, struct interval_tree_node *node)
{
	interval_tree_remove(node, &t->vaddr_invalid);
	ufree(node);
	t->vaddr_invalid_count--;
}

static void type1_vaddr_drop_all(struct iommufd_vfio_type1 *t)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_first(&t->vaddr_invalid)))
		type1_vaddr_drop(t, node);
}

void iommufd_vfio_container_destroy(struct iommufd_ctx *ictx)
{
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;

	if (!t)
		return;
	type1_vaddr_drop_all(t);
	pthread_mutex_destroy(&t->lock);
	ufree(t);
	ictx->vfio_type1 = NULL;
}

int iommufd_vfio_container_open(struct iommufd_ctx *ictx, unsigned long type, uint32_t *ioas_id)
{
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;
	struct iommufd_ioas *ioas;
	int rc;

	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_TYPE1_NESTING_IOMMU:
		break;
	case VFIO_UNMAP_ALL:
		/* type1 claims the extension, then its open refuses the type. */
		return -EINVAL;
	default:
		/* No registered backend claims it (no sPAPR, no no-IOMMU here). */
		return -ENODEV;
	}

	pthread_mutex_lock(&t->lock);
	rc = iommufd_vfio_compat_ioas_create(ictx);
	if (rc)
		goto out_unlock;
	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas)) {
		rc = (int)PTR_ERR(ioas);
		goto out_unlock;
	}
	if (type == VFIO_TYPE1_NESTING_IOMMU) {
		/* The host owns stage 2 only: every domain is a nesting parent. */
		pthread_mutex_lock(&ioas->mutex);
		ioas->auto_hwpt_flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
		pthread_mutex_unlock(&ioas->mutex);
	}
	*ioas_id = ioas->obj.id;
	iommufd_put_object(ictx, &ioas->obj);
	t->type = type;
	t->v2 = type != VFIO_TYPE1_IOMMU;
	t->dirty_tracking = false;
	t->dma_avail = iommufd_vfio_dma_entry_limit;
out_unlock:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void iommufd_vfio_container_close(struct iommufd_ctx *ictx)
{
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;
	struct iommufd_ioas *ioas;
	uint64_t unmapped;
	uint32_t id;

	pthread_mutex_lock(&t->lock);
	ioas = get_compat_ioas(ictx);
	if (!IS_ERR(ioas)) {
		if (iopt_unmap_all(&ioas->iopt, &unmapped))
			ulog_warn("vfio: container mappings left behind at release");
		id = ioas->obj.id;
		iommufd_put_object(ictx, &ioas->obj);
		/* Its devices are detached, so nothing but the table refers to it. */
		if (iommufd_object_remove(ictx, NULL, id, 0))
			ulog_warn("vfio: container IOAS %u still in use at release", id);
	}
	type1_vaddr_drop_all(t);
	t->type = 0;
	t->v2 = false;
	t->dirty_tracking = false;
	t->dma_avail = 0;
	pthread_mutex_unlock(&t->lock);
}

int iommufd_vfio_container_attach_begin(struct iommufd_ctx *ictx)
{
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;

	pthread_mutex_lock(&t->lock);
	/* Attaching could need pinning, which an invalid vaddr forbids. */
	if (t->vaddr_invalid_count) {
		pthread_mutex_unlock(&t->lock);
		return -EBUSY;
	}
	return 0;
}

void iommufd_vfio_container_attach_end(struct iommufd_ctx *ictx)
{
	pthread_mutex_unlock(&ictx->vfio_type1->lock);
}

/*
 * The container's page sizes: those every domain has, with sizes below
 * PAGE_SIZE folded into PAGE_SIZE; every size from PAGE_SIZE up while there
 * is no domain (type1's initial PAGE_MASK).
 */
static uint64_t type1_pgsize_bitmap(struct iommufd_ioas *ioas)
{
	struct io_pagetable *iopt = &ioas->iopt;
	uint64_t bitmap = UINT64_MAX;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	for (unsigned int i = 0; i != iopt->next_domain_id; i++)
		bitmap &= iopt->domains[i]->pgsize_bitmap;
	if (!iopt->next_domain_id)
		bitmap = PAGE_MASK;
	else if (bitmap & ~PAGE_MASK)
		bitmap = (bitmap & PAGE_MASK) | PAGE_SIZE;
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return bitmap;
}

static uint64_t type1_min_pgsize(struct iommufd_ioas *ioas)
{
	uint64_t bitmap = type1_pgsize_bitmap(ioas);

	return bitmap ? bitmap & -bitmap : PAGE_SIZE;
}

/* The area (mapping) containing @iova, or NULL; its range in *start / *last. */
static bool type1_find_dma(struct iommufd_ioas *ioas, uint64_t first, uint64_t last,
			   uint64_t *start, uint64_t *end_last)
{
	struct iopt_area *area;
	bool found = false;

	pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
	area = iopt_area_iter_first(&ioas->iopt, first, last);
	if (area) {
		*start = iopt_area_iova(area);
		*end_last = iopt_area_last_iova(area);
		found = true;
	}
	pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
	return found;
}

/*
 * VFIO v2's rule, for UNMAP and GET_BITMAP: the range may cover several
 * mappings but must not split one (EINVAL).
 */
static int type1_check_no_split(struct iommufd_ioas *ioas, uint64_t iova, uint64_t last)
{
	uint64_t start, end;

	if (type1_find_dma(ioas, iova, iova, &start, &end) && start != iova)
		return -EINVAL;
	if (type1_find_dma(ioas, last, last, &start, &end) && end != last)
		return -EINVAL;
	return 0;
}

static int type1_map_dma(struct iommufd_ctx *ictx, void *arg)
{
	const uint32_t supported_flags =
		VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;
	struct vfio_iommu_type1_dma_map map;
	struct interval_tree_node *inval;
	struct iommufd_ioas *ioas;
	uint64_t pgsize, start, last, iova;
	bool set_vaddr;
	int prot = 0, rc;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~supported_flags)
		return -EINVAL;
	set_vaddr = map.flags & VFIO_DMA_MAP_FLAG_VADDR;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	/* Either a new mapping with a permission, or a vaddr update without one. */
	if ((prot && set_vaddr) || (!prot && !set_vaddr))
		return -EINVAL;

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	pthread_mutex_lock(&t->lock);
	pgsize = type1_min_pgsize(ioas);
	rc = -EINVAL;
	if (!map.size || (map.size | map.iova | map.vaddr) & (pgsize - 1))
		goto out_unlock;
	if (map.iova + map.size - 1 < map.iova || map.vaddr + map.size - 1 < map.vaddr)
		goto out_unlock;

	if (set_vaddr) {
		if (!type1_find_dma(ioas, map.iova, map.iova + map.size - 1, &start, &last)) {
			rc = -ENOENT;
			goto out_unlock;
		}
		inval = type1_vaddr_find(t, start);
		if (!inval || start != map.iova || last != map.iova + map.size - 1)
			goto out_unlock;
		/*
		 * The new address maps the same memory (the caller's promise, as
		 * in Linux); the pinned pages, which DMA uses, stay as they are.
		 */
		type1_vaddr_drop(t, inval);
		rc = 0;
		goto out_unlock;
	}
	if (type1_find_dma(ioas, map.iova, map.iova + map.size - 1, &start, &last)) {
		rc = -EEXIST;
		goto out_unlock;
	}
	if (!t->dma_avail) {
		rc = -ENOSPC;
		goto out_unlock;
	}
	/* Outside the usable IOVA ranges: the engine's reserved check gives EINVAL. */
	iova = map.iova;
	rc = iopt_map_user_pages(ictx, &ioas->iopt, &iova, u64_to_user_ptr(map.vaddr), map.size,
				 IOMMU_CACHE | prot, 0);
	if (!rc)
		t->dma_avail--;
out_unlock:
	pthread_mutex_unlock(&t->lock);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/*
 * Report every page of the mapping [dma_iova, dma_iova + dma_size) dirty in
 * the user bitmap whose bit 0 is @base_iova: type1 cannot read dirty state
 * from an IOMMU, so every page a domain maps counts as dirty. The words
 * touched are written whole (bits past the mapping cleared), the bits
 * before the mapping in its first word kept, as Linux does.
 */
static int type1_report_dirty(void *ubitmap, uint64_t base_iova, uint64_t dma_iova,
			      uint64_t dma_size, unsigned int pgshift)
{
	uint64_t nbits = dma_size >> pgshift;
	uint64_t bit = (dma_iova - base_iova) >> pgshift;
	uint64_t shift = bit % 64, nwords = (shift + nbits + 63) / 64;
	uint64_t *uwords = (uint64_t *)ubitmap + bit / 64;
	uint64_t buf[64];

	for (uint64_t w = 0; w < nwords; w += ARRAY_SIZE(buf)) {
		uint64_t n = MIN((uint64_t)ARRAY_SIZE(buf), nwords - w);

		for (uint64_t i = 0; i < n; i++) {
			uint64_t lo = (w + i) * 64, s = MAX(lo, shift),
				 e = MIN(lo + 64, shift + nbits);

			buf[i] = 0;
			if (s < e)
				buf[i] = (e - s == 64 ? UINT64_MAX : ((1ULL << (e - s)) - 1))
					 << (s - lo);
		}
		if (!w && shift) {
			uint64_t old;

			if (copy_from_user(&old, uwords, sizeof(old)))
				return -EFAULT;
			buf[0] |= old & ((1ULL << shift) - 1);
		}
		if (copy_to_user(uwords + w, buf, n * sizeof(buf[0])))
			return -EFAULT;
	}
	return 0;
}

/* Linux's verify_bitmap_size(). */
static int type1_verify_bitmap_size(uint64_t npages, uint64_t bitmap_size)
{
	if (!npages || !bitmap_size || bitmap_size > DIRTY_BITMAP_SIZE_MAX ||
	    bitmap_size < DIRTY_BITMAP_BYTES(npages))
		return -EINVAL;
	return 0;
}

/* The user bitmap's page size: a power of two (pgsize 0 is EINVAL here). */
static int type1_bitmap_pgshift(uint64_t pgsize, unsigned int *pgshift)
{
	if (!pgsize)
		return -EINVAL;
	*pgshift = (unsigned int)__builtin_ctzll(pgsize);
	return 0;
}

/*
 * Undo the VADDR marks this UNMAP made on [iova, before): every mapping it
 * met there was valid before (the walk stops at the first invalid one).
 */
static void type1_vaddr_unmark(struct iommufd_vfio_type1 *t, uint64_t iova, uint64_t before)
{
	struct interval_tree_node *node, *next;

	if (before == iova)
		return;
	for (node = interval_tree_iter_first(&t->vaddr_invalid, iova, before - 1); node;
	     node = next) {
		next = interval_tree_iter_next(node, iova, before - 1);
		type1_vaddr_drop(t, node);
	}
}

static int type1_unmap_dma(struct iommufd_ctx *ictx, void *arg)
{
	const uint32_t supported_flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
					 VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_bitmap bitmap = {0};
	uint64_t pgsize, last, cur, unmapped = 0;
	unsigned int pgshift = 0;
	struct iommufd_ioas *ioas;
	bool unmap_all, inval_vaddr, get_dirty;
	int rc;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || unmap.flags & ~supported_flags)
		return -EINVAL;
	unmap_all = unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL;
	inval_vaddr = unmap.flags & VFIO_DMA_UNMAP_FLAG_VADDR;
	get_dirty = unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	if (get_dirty && (unmap_all || inval_vaddr))
		return -EINVAL;
	if (get_dirty) {
		if (unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		if (copy_from_user(&bitmap, uptr_add(arg, minsz), sizeof(bitmap)))
			return -EFAULT;
		if (!type1_access_ok((uintptr_t)bitmap.data, bitmap.size))
			return -EINVAL;
		rc = type1_bitmap_pgshift(bitmap.pgsize, &pgshift);
		if (!rc)
			rc = type1_verify_bitmap_size(unmap.size >> pgshift, bitmap.size);
		if (rc)
			return rc;
	}

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	pthread_mutex_lock(&t->lock);
	pgsize = type1_min_pgsize(ioas);
	rc = -EINVAL;
	if (unmap.iova & (pgsize - 1))
		goto out_unlock;
	if (unmap_all) {
		if (unmap.iova || unmap.size)
			goto out_unlock;
		last = UINT64_MAX;
	} else {
		if (!unmap.size || unmap.size & (pgsize - 1) ||
		    unmap.iova + unmap.size - 1 < unmap.iova)
			goto out_unlock;
		last = unmap.iova + unmap.size - 1;
	}
	/* Dirty bits only while tracking, and only at the smallest page size. */
	if (get_dirty && (!t->dirty_tracking || bitmap.pgsize != pgsize))
		goto out_unlock;
	if (t->v2 && !unmap_all) {
		rc = type1_check_no_split(ioas, unmap.iova, last);
		if (rc)
			goto out_unlock;
	}

	rc = 0;
	for (cur = unmap.iova;;) {
		uint64_t start, end, n;
		struct interval_tree_node *inval;

		if (!type1_find_dma(ioas, cur, last, &start, &end))
			break;
		/* v1: a mapping that starts before the range stops the walk. */
		if (!t->v2 && unmap.iova > start)
			break;
		inval = type1_vaddr_find(t, start);
		if (inval_vaddr) {
			if (inval) {
				type1_vaddr_unmark(t, unmap.iova, start);
				unmapped = 0;
				rc = -EINVAL;
				break;
			}
			inval = uzalloc(sizeof(*inval));
			if (!inval) {
				type1_vaddr_unmark(t, unmap.iova, start);
				unmapped = 0;
				rc = -ENOMEM;
				break;
			}
			inval->start = start;
			inval->last = end;
			interval_tree_insert(inval, &t->vaddr_invalid);
			t->vaddr_invalid_count++;
			unmapped += end - start + 1;
		} else {
			if (get_dirty) {
				rc = type1_report_dirty(bitmap.data, unmap.iova, start,
							end - start + 1, pgshift);
				if (rc)
					break;
			}
			rc = iopt_unmap_iova(&ioas->iopt, start, end - start + 1, &n);
			if (rc)
				break;
			if (inval)
				type1_vaddr_drop(t, inval);
			t->dma_avail++;
			unmapped += n;
		}
		if (end >= last)
			break;
		cur = end + 1;
	}
out_unlock:
	pthread_mutex_unlock(&t->lock);
	iommufd_put_object(ictx, &ioas->obj);
	if (rc)
		return rc;
	/* The bytes unmapped (or invalidated) replace the size asked for. */
	unmap.size = unmapped;
	return copy_to_user(arg, &unmap, minsz) ? -EFAULT : 0;
}

static int type1_dirty_pages(struct iommufd_ctx *ictx, void *arg)
{
	const uint32_t mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			      VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags);
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;
	struct vfio_iommu_type1_dirty_bitmap_get range;
	struct vfio_iommu_type1_dirty_bitmap dirty;
	struct iommufd_ioas *ioas;
	unsigned int pgshift;
	uint64_t pgsize, cur, last;
	int rc;

	/* Only v2 containers track (t->v2 is fixed while a backend is set). */
	if (!t->v2)
		return -EACCES;
	if (copy_from_user(&dirty, arg, minsz))
		return -EFAULT;
	if (dirty.argsz < minsz || dirty.flags & ~mask)
		return -EINVAL;
	/* Exactly one flag. */
	if (!dirty.flags || dirty.flags & (dirty.flags - 1))
		return -EINVAL;

	if (dirty.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_START ||
	    dirty.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
		pthread_mutex_lock(&t->lock);
		t->dirty_tracking = dirty.flags == VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
		pthread_mutex_unlock(&t->lock);
		return 0;
	}

	if (dirty.argsz - minsz < sizeof(range))
		return -EINVAL;
	if (copy_from_user(&range, uptr_add(arg, minsz), sizeof(range)))
		return -EFAULT;
	if (range.iova + range.size < range.iova)
		return -EINVAL;
	if (!type1_access_ok((uintptr_t)range.bitmap.data, range.bitmap.size))
		return -EINVAL;
	rc = type1_bitmap_pgshift(range.bitmap.pgsize, &pgshift);
	if (!rc)
		rc = type1_verify_bitmap_size(range.size >> pgshift, range.bitmap.size);
	if (rc)
		return rc;

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	pthread_mutex_lock(&t->lock);
	pgsize = type1_min_pgsize(ioas);
	rc = -EINVAL;
	if (range.bitmap.pgsize != pgsize || range.iova & (pgsize - 1) || !range.size ||
	    range.size & (pgsize - 1) || !t->dirty_tracking)
		goto out_unlock;
	last = range.iova + range.size - 1;
	rc = type1_check_no_split(ioas, range.iova, last);
	for (cur = range.iova; !rc;) {
		uint64_t start, end;

		if (!type1_find_dma(ioas, cur, last, &start, &end))
			break;
		rc = type1_report_dirty(range.bitmap.data, range.iova, start, end - start + 1,
					pgshift);
		if (end >= last)
			break;
		cur = end + 1;
	}
out_unlock:
	pthread_mutex_unlock(&t->lock);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static int type1_check_extension(struct iommufd_ctx *ictx, unsigned long type)
{
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;
	bool has_backend;

	pthread_mutex_lock(&t->lock);
	has_backend = t->type != 0;
	pthread_mutex_unlock(&t->lock);

	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_TYPE1_NESTING_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_UPDATE_VADDR:
		/* Only an open type1 answers it (there are no emulated groups here). */
		return has_backend;
	case VFIO_DMA_CC_IOMMU:
		return has_backend ? iommufd_vfio_cc_iommu(ictx) : 0;
	default:
		return 0;
	}
}

static int type1_get_info(struct iommufd_ctx *ictx, void *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info_cap_iova_range *iovas;
	struct iommufd_vfio_type1 *t = ictx->vfio_type1;
	struct vfio_iommu_type1_info info = {0};
	struct interval_tree_span_iter span;
	struct infocap caps = {0};
	struct iommufd_ioas *ioas;
	uint32_t nr = 0;
	int rc = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = MIN(info.argsz, sizeof(info));

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	pthread_mutex_lock(&t->lock);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = type1_pgsize_bitmap(ioas);

	mig = infocap_add(&caps, sizeof(*mig), VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1);
	if (mig) {
		mig->flags = 0;
		mig->pgsize_bitmap = info.iova_pgsizes & -info.iova_pgsizes;
		mig->max_dirty_bitmap_size = DIRTY_BITMAP_SIZE_MAX;
	}
	avail = infocap_add(&caps, sizeof(*avail), VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1);
	if (avail)
		avail->avail = t->dma_avail;

	/* The usable ranges: the holes between reserved IOVA (apertures, MSI windows ...). */
	pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
	interval_tree_for_each_span(&span, &ioas->iopt.reserved_itree, 0, UINT64_MAX) nr +=
		span.is_hole;
	/* No domain (never, once a group is in): an empty list and no capability. */
	if (nr && ioas->iopt.next_domain_id) {
		iovas = infocap_add(&caps, sizeof(*iovas) + nr * sizeof(struct vfio_iova_range),
				    VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
		if (iovas) {
			iovas->nr_iovas = 0;
			interval_tree_for_each_span(&span, &ioas->iopt.reserved_itree, 0,
						    UINT64_MAX)
			{
				if (!span.is_hole)
					continue;
				iovas->iova_ranges[iovas->nr_iovas].start = span.start_hole;
				iovas->iova_ranges[iovas->nr_iovas].end = span.last_hole;
				iovas->nr_iovas++;
			}
		}
	}
	pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
	pthread_mutex_unlock(&t->lock);
	iommufd_put_object(ictx, &ioas->obj);
	if (caps.err)
		return caps.err;

	if (caps.size) {
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			/* Too small: say how much is needed, copy no capability. */
			info.argsz = (uint32_t)(sizeof(info) + caps.size);
		} else {
			infocap_shift(&caps, sizeof(info));
			if (copy_to_user(uptr_add(arg, sizeof(info)), caps.buf, caps.size))
				rc = -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}
	infocap_free(&caps);
	if (rc)
		return rc;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* The container's type1 ioctls (after SET_IOMMU; lib/vfio/container.c routes them). */
static long type1_ioctl(struct iommufd_ctx *ictx, unsigned int cmd, unsigned long arg)
{
	void *uarg = (void *)arg;

	switch (cmd) {
	case VFIO_CHECK_EXTENSION:
		return type1_check_extension(ictx, arg);
	case VFIO_IOMMU_GET_INFO:
		return type1_get_info(ictx, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return type1_map_dma(ictx, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return type1_unmap_dma(ictx, uarg);
	case VFIO_IOMMU_DIRTY_PAGES:
		return type1_dirty_pages(ictx, uarg);
	default:
		/* The nested extension's +18..+20 come with the SMMUv3 driver. */
		return -ENOIOCTLCMD;
	}
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
	case VFIO_IOMMU_DIRTY_PAGES:
		return "VFIO_IOMMU_DIRTY_PAGES";
	default:
		return NULL;
	}
}

long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd, unsigned long arg)
{
	void *uarg = (void *)arg;
	long rc;

	if (ictx->vfio_type1) {
		rc = type1_ioctl(ictx, cmd, arg);
		trace_iommufd_vfio_ioctl(cmd, rc);
		return rc;
	}
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
