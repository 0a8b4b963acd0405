// SPDX-License-Identifier: MIT
/*
 * ioas.c - the IOAS object and its ioctls: ALLOC, IOVA_RANGES, ALLOW_IOVAS,
 * MAP, MAP_FILE, COPY, UNMAP, the HUGE_PAGES and RLIMIT_MODE options, and
 * CHANGE_PROCESS.
 *
 * What it owns: nothing beyond the IOAS object itself (an io_pagetable plus
 * the list of HWPTs built on it, which hw_pagetable.c maintains). This file
 * is the thin ioctl layer, as in Linux: validate the uAPI struct in the
 * kernel's order (flags and reserved fields: EOPNOTSUPP; values that cannot
 * be an unsigned long IOVA or length: EOVERFLOW; no permission bit: EINVAL;
 * the IOAS: ENOENT), call io_pagetable.c, write results back.
 *
 * CHANGE_PROCESS in one process: every pinned page is already charged to
 * this process and its user, so after checking that only file-backed areas
 * exist (EINVAL otherwise, as Linux requires) there is nothing to move.
 *
 * Locks: none of its own; ictx->ioas_creation_lock is read around
 * publishing a new IOAS and written by CHANGE_PROCESS while it holds every
 * IOAS's iova_rwsem (taken in ID order, the only place iova_rwsems nest).
 */
#include <errno.h>
#include <string.h>

#include "iommufd/io_pagetable.h"
#include "util/alloc.h"

/* ------------------------------------------------------------------ */
/* The object                                                         */

void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = container_of(obj, struct iommufd_ioas, obj);
	int rc;

	rc = iopt_unmap_all(&ioas->iopt, NULL);
	if (rc)
		ulog_warn("iommufd: IOAS %u: unmap at destroy failed (%d)", obj->id, rc);
	iopt_destroy_table(&ioas->iopt);
	pthread_mutex_destroy(&ioas->mutex);
}

struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	ioas = iommufd_object_alloc(ictx, ioas, IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas))
		return ioas;
	iopt_init_table(&ioas->iopt);
	INIT_LIST_HEAD(&ioas->hwpt_list);
	pthread_mutex_init(&ioas->mutex, NULL);
	return ioas;
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = iommufd_ioas_alloc(ucmd->ictx);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_table;

	pthread_rwlock_rdlock(&ucmd->ictx->ioas_creation_lock);
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	pthread_rwlock_unlock(&ucmd->ictx->ioas_creation_lock);
	return 0;

out_table:
	iommufd_object_abort_and_destroy(ucmd->ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* IOVA ranges                                                        */

int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iommu_iova_range *ranges;
	struct interval_tree_span_iter span;
	struct iommufd_ioas *ioas;
	uint32_t max_iovas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
	max_iovas = cmd->num_iovas;
	ranges = u64_to_user_ptr(cmd->allowed_iovas);
	cmd->num_iovas = 0;
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	interval_tree_for_each_span(&span, &ioas->iopt.reserved_itree, 0, UINT64_MAX)
	{
		if (!span.is_hole)
			continue;
		if (cmd->num_iovas < max_iovas) {
			struct iommu_iova_range elm = {
				.start = span.start_hole,
				.last = span.last_hole,
			};

			if (copy_to_user(uptr_add(ranges, (uint64_t)cmd->num_iovas * sizeof(elm)),
					 &elm, sizeof(elm))) {
				rc = -EFAULT;
				goto out_put;
			}
		}
		cmd->num_iovas++;
	}
	/* The count is written back even when the array was too small. */
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_put;
	if (cmd->num_iovas > max_iovas)
		rc = -EMSGSIZE;
out_put:
	pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

static void iommufd_ioas_free_iovas(struct interval_tree_root *itree)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_first(itree))) {
		interval_tree_remove(node, itree);
		ufree(container_of(node, struct iopt_allowed, node));
	}
}

static int iommufd_ioas_load_iovas(struct interval_tree_root *itree,
				   const struct iommu_iova_range *ranges, uint32_t num)
{
	for (uint32_t i = 0; i != num; i++) {
		struct iommu_iova_range range;
		struct iopt_allowed *allowed;

		if (copy_from_user(&range, uptr_add(ranges, (uint64_t)i * sizeof(range)),
				   sizeof(range)))
			return -EFAULT;
		if (range.start >= range.last)
			return -EINVAL;
		if (interval_tree_iter_first(itree, range.start, range.last))
			return -EINVAL;

		allowed = uzalloc(sizeof(*allowed));
		if (!allowed)
			return -ENOMEM;
		allowed->node.start = range.start;
		allowed->node.last = range.last;
		interval_tree_insert(&allowed->node, itree);
	}
	return 0;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct interval_tree_root allowed_iova = INTERVAL_TREE_ROOT_INIT;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	rc = iommufd_ioas_load_iovas(&allowed_iova, u64_to_user_ptr(cmd->allowed_iovas),
				     cmd->num_iovas);
	if (rc)
		goto out_free;

	/*
	 * The replacement is atomic: the new tree is swapped in and checked;
	 * whichever tree is left over (the old one, or the rejected new one)
	 * is freed here.
	 */
	rc = iopt_set_allow_iova(&ioas->iopt, &allowed_iova);
out_free:
	iommufd_ioas_free_iovas(&allowed_iova);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* MAP, MAP_FILE, COPY, UNMAP                                         */

static int conv_iommu_prot(uint32_t map_flags)
{
	/*
	 * There are no cache maintenance ioctls, so every mapping is coherent
	 * (Linux requires IOMMU_CAP_CACHE_COHERENCY at bind).
	 */
	int iommu_prot = IOMMU_CACHE;

	if (map_flags & IOMMU_IOAS_MAP_WRITEABLE)
		iommu_prot |= IOMMU_WRITE;
	if (map_flags & IOMMU_IOAS_MAP_READABLE)
		iommu_prot |= IOMMU_READ;
	return iommu_prot;
}

#define IOAS_MAP_FLAGS \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)

/* Where MAP and MAP_FILE take memory from: the caller's at @uptr, or (@file) @fd from @start. */
struct ioas_map_src {
	bool file;
	void *uptr;
	int fd;
	uint64_t start;
};

/*
 * MAP and MAP_FILE: the argument checks, in the kernel's order (unknown
 * flags or reserved bits, then overflow, then no permission), the IOAS
 * @ioas_id, the map at *@iova (or, without FIXED_IOVA, where the IOAS finds
 * room), and on success the IOVA used written back in *@iova and the
 * command's @cmd_len bytes.
 */
static int ioas_map_common(struct iommufd_ucmd *ucmd, uint32_t ioas_id, uint32_t cmd_flags,
			   bool reserved, __u64 *iova, uint64_t length,
			   const struct ioas_map_src *src, size_t cmd_len)
{
	uint64_t new_iova = *iova;
	struct iommufd_ioas *ioas;
	unsigned int flags = 0;
	int rc;

	if ((cmd_flags & ~IOAS_MAP_FLAGS) || reserved)
		return -EOPNOTSUPP;
	if (*iova >= UINT64_MAX || length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd_flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;

	ioas = iommufd_get_ioas(ucmd->ictx, ioas_id);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	if (!(cmd_flags & IOMMU_IOAS_MAP_FIXED_IOVA))
		flags = IOPT_ALLOC_IOVA;
	/* EBADF for a bad fd comes from iopt_alloc_file_pages(), after the IOAS. */
	if (src->file)
		rc = iopt_map_file_pages(ucmd->ictx, &ioas->iopt, &new_iova, src->fd, src->start,
					 length, conv_iommu_prot(cmd_flags), flags);
	else
		rc = iopt_map_user_pages(ucmd->ictx, &ioas->iopt, &new_iova, src->uptr, length,
					 conv_iommu_prot(cmd_flags), flags);
	if (rc)
		goto out_put;

	*iova = new_iova;
	rc = iommufd_ucmd_respond(ucmd, cmd_len);
out_put:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	const struct ioas_map_src src = {.uptr = u64_to_user_ptr(cmd->user_va)};

	return ioas_map_common(ucmd, cmd->ioas_id, cmd->flags, cmd->__reserved, &cmd->iova,
			       cmd->length, &src, sizeof(*cmd));
}

int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map_file *cmd = ucmd->cmd;
	const struct ioas_map_src src = {.file = true, .fd = cmd->fd, .start = cmd->start};

	return ioas_map_common(ucmd, cmd->ioas_id, cmd->flags, false, &cmd->iova, cmd->length, &src,
			       sizeof(*cmd));
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	struct iommufd_ioas *src_ioas, *dst_ioas;
	unsigned int flags = 0;
	LIST_HEAD(pages_list);
	uint64_t iova;
	int rc;

	if (cmd->flags & ~IOAS_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->length >= UINT64_MAX || cmd->src_iova >= UINT64_MAX || cmd->dst_iova >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;

	src_ioas = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (IS_ERR(src_ioas))
		return (int)PTR_ERR(src_ioas);
	rc = iopt_get_pages(&src_ioas->iopt, cmd->src_iova, cmd->length, &pages_list);
	iommufd_put_object(ucmd->ictx, &src_ioas->obj);
	if (rc)
		return rc;

	dst_ioas = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (IS_ERR(dst_ioas)) {
		rc = (int)PTR_ERR(dst_ioas);
		iopt_free_pages_list(NULL, &pages_list);
		return rc;
	}

	if (!(cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA))
		flags = IOPT_ALLOC_IOVA;
	iova = cmd->dst_iova;
	rc = iopt_map_pages(&dst_ioas->iopt, &pages_list, cmd->length, &iova,
			    conv_iommu_prot(cmd->flags), flags);
	iopt_free_pages_list(&dst_ioas->iopt, &pages_list);
	if (rc)
		goto out_put_dst;

	cmd->dst_iova = iova;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_put_dst:
	iommufd_put_object(ucmd->ictx, &dst_ioas->obj);
	return rc;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	int rc;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		/* Unmap everything; an empty IOAS is not an error. */
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
		if (rc)
			goto out_put;
	} else {
		if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX) {
			rc = -EOVERFLOW;
			goto out_put;
		}
		rc = iopt_unmap_iova(&ioas->iopt, cmd->iova, cmd->length, &unmapped);
		if (rc)
			goto out_put;
		/* Nothing in the range is an error here (VFIO compat says 0). */
		if (!unmapped) {
			rc = -ENOENT;
			goto out_put;
		}
	}

	cmd->length = unmapped;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Options                                                            */

int iommufd_option_rlimit_mode(struct iommu_option *cmd, struct iommufd_ctx *ictx)
{
	int rc = 0;

	if (cmd->object_id)
		return -EOPNOTSUPP;

	if (cmd->op == IOMMU_OPTION_OP_GET) {
		pthread_mutex_lock(&ictx->lock);
		cmd->val64 = ictx->account_mode == IOPT_PAGES_ACCOUNT_MM;
		pthread_mutex_unlock(&ictx->lock);
		return 0;
	}
	if (cmd->op == IOMMU_OPTION_OP_SET) {
		if (!iommufd_capable(IOMMUFD_CAP_SYS_RESOURCE))
			return -EPERM;

		pthread_mutex_lock(&ictx->lock);
		/* Reserved IDs and tombstones count as objects too. */
		if (idr_count(&ictx->objects)) {
			rc = -EBUSY;
		} else {
			if (cmd->val64 == 0)
				ictx->account_mode = IOPT_PAGES_ACCOUNT_USER;
			else if (cmd->val64 == 1)
				ictx->account_mode = IOPT_PAGES_ACCOUNT_MM;
			else
				rc = -EINVAL;
		}
		pthread_mutex_unlock(&ictx->lock);
		return rc;
	}
	return -EOPNOTSUPP;
}

static int iommufd_ioas_option_huge_pages(struct iommu_option *cmd, struct iommufd_ioas *ioas)
{
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
		cmd->val64 = !ioas->iopt.disable_large_pages;
		pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
		return 0;
	}
	if (cmd->op == IOMMU_OPTION_OP_SET) {
		if (cmd->val64 == 0)
			return iopt_disable_large_pages(&ioas->iopt);
		if (cmd->val64 == 1) {
			iopt_enable_large_pages(&ioas->iopt);
			return 0;
		}
		return -EINVAL;
	}
	return -EOPNOTSUPP;
}

int iommufd_ioas_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->object_id);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);

	switch (cmd->option_id) {
	case IOMMU_OPTION_HUGE_PAGES:
		rc = iommufd_ioas_option_huge_pages(cmd, ioas);
		break;
	default:
		rc = -EOPNOTSUPP;
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* CHANGE_PROCESS                                                     */

/* Every IOAS of the context, referenced and write-locked in ID order. */
struct ioas_set {
	struct iommufd_ioas **ioas;
	unsigned int n, cap;
};

static void iommufd_release_all_iova_rwsem(struct iommufd_ctx *ictx, struct ioas_set *set)
{
	for (unsigned int i = 0; i != set->n; i++) {
		pthread_rwlock_unlock(&set->ioas[i]->iopt.iova_rwsem);
		iommufd_put_object(ictx, &set->ioas[i]->obj);
	}
	pthread_rwlock_unlock(&ictx->ioas_creation_lock);
	ufree(set->ioas);
}

static int iommufd_take_all_iova_rwsem(struct iommufd_ctx *ictx, struct ioas_set *set)
{
	struct iommufd_object *obj;
	int id;

	/*
	 * The creation lock keeps new IOASes from appearing and makes this the
	 * only holder of nested iova_rwsems (always taken in ID order).
	 */
	pthread_rwlock_wrlock(&ictx->ioas_creation_lock);
	pthread_mutex_lock(&ictx->lock);
	for (id = 1; (obj = idr_get_next(&ictx->objects, &id)); id++) {
		if (obj->type != IOMMUFD_OBJ_IOAS || !iommufd_lock_obj(obj))
			continue;
		if (set->n == set->cap) {
			unsigned int cap = set->cap ? set->cap * 2 : 8;
			struct iommufd_ioas **n = ucalloc(cap, sizeof(*n));

			if (!n) {
				pthread_mutex_unlock(&ictx->lock);
				iommufd_put_object(ictx, obj);
				iommufd_release_all_iova_rwsem(ictx, set);
				return -ENOMEM;
			}
			if (set->n)
				memcpy(n, set->ioas, set->n * sizeof(*n));
			ufree(set->ioas);
			set->ioas = n;
			set->cap = cap;
		}
		set->ioas[set->n++] = container_of(obj, struct iommufd_ioas, obj);
	}
	pthread_mutex_unlock(&ictx->lock);
	for (unsigned int i = 0; i != set->n; i++)
		pthread_rwlock_wrlock(&set->ioas[i]->iopt.iova_rwsem);
	return 0;
}

int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_change_process *cmd = ucmd->cmd;
	struct ioas_set set = {0};
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	rc = iommufd_take_all_iova_rwsem(ucmd->ictx, &set);
	if (rc)
		return rc;

	/* Only file-backed memory can change owner: all or nothing. */
	for (unsigned int i = 0; i != set.n && !rc; i++) {
		struct io_pagetable *iopt = &set.ioas[i]->iopt;
		struct iopt_area *area;

		for (area = iopt_area_iter_first(iopt, 0, UINT64_MAX); area;
		     area = iopt_area_iter_next(area, 0, UINT64_MAX)) {
			if (!iopt_area_is_file(area)) {
				rc = -EINVAL;
				break;
			}
		}
	}
	/*
	 * The caller is the process every charge already belongs to (this
	 * library lives in one process), so there is nothing to move.
	 */
	iommufd_release_all_iova_rwsem(ucmd->ictx, &set);
	return rc;
}
