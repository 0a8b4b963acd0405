// SPDX-License-Identifier: MIT
/*
 * hw_pagetable.c - HWPT objects: paging HWPTs (a domain of a model that the
 * core fills from an IOAS), nested HWPTs (a user stage 1 on a NEST_PARENT
 * paging HWPT, or on a vIOMMU), and their ioctls: HWPT_ALLOC,
 * HWPT_INVALIDATE, HWPT_SET_DIRTY_TRACKING, HWPT_GET_DIRTY_BITMAP.
 *
 * What it owns. A HWPT owns its iommu_domain (freed with it) and the
 * references that tie it into the object graph:
 *
 *   paging  -> its IOAS (users); while alive its domain is one of the
 *              IOAS's domains (iopt_table_add_domain(): every area mapped,
 *              the aperture reserved) and the HWPT is on ioas->hwpt_list;
 *   nested  -> its parent paging HWPT (users), or its vIOMMU (users), whose
 *              nesting parent is then the parent;
 *   either  -> the FAULT object whose queue gets its page requests (users),
 *              when allocated with IOMMU_HWPT_FAULT_ID_VALID; the domain
 *              then carries iommufd_fault_sink.
 *
 * Devices hold users references on the HWPT they are attached to
 * (device.c), and nested HWPTs and vIOMMUs on their parent, so IOMMU_DESTROY
 * of a HWPT in use is EBUSY. "Auto" paging HWPTs are the ones an attach to
 * an IOAS creates; they are never used as nesting parents, never picked by
 * HWPT_ALLOC, and destroyed when their last device leaves
 * (iommufd_hw_pagetable_put()).
 *
 * HWPT_ALLOC follows Linux's order of checks (reference iommufd.md §4.4):
 * reserved field EOPNOTSUPP; data type and length must agree (EINVAL);
 * the device (ENOENT); pt_id must exist (EINVAL, not ENOENT: a missing
 * parent is a bad argument) and be an IOAS, a paging HWPT or a vIOMMU
 * (EINVAL); then the kind's own flag rules; the fault queue (ENOENT) last,
 * after the domain exists. Driver blobs are read by the model through the
 * guarded helpers of lib/hw/iommu.h, so a wild pointer is EFAULT.
 *
 * HWPT_INVALIDATE always writes entry_num back: the number of entries the
 * model handled, 0 when the call failed before reaching it.
 *
 * Locks: ioas->mutex is held from the allocation of a paging HWPT until it
 * is published or aborted (so auto-domain searches never see a half-made
 * one) and around hwpt_item changes; the abort callback of a paging HWPT
 * runs under it. A vIOMMU's lock serialises its model's ops (invalidation,
 * nested-domain allocation).
 */
#include <errno.h>

#include "iommufd/io_pagetable.h"
#include "util/alloc.h"

/* ------------------------------------------------------------------ */
/* The objects                                                        */

static void iommufd_hwpt_common_destroy(struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt->domain) {
		hwpt->domain->sink = NULL;
		hwpt->domain->ops->free(hwpt->domain);
		hwpt->domain = NULL;
	}
	if (hwpt->fault)
		refcount_dec(&hwpt->fault->obj.users);
	hwpt->fault = NULL;
}

void iommufd_hwpt_paging_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt_paging =
		container_of(obj, struct iommufd_hwpt_paging, common.obj);

	if (hwpt_paging->in_iopt) {
		pthread_mutex_lock(&hwpt_paging->ioas->mutex);
		list_del(&hwpt_paging->hwpt_item);
		pthread_mutex_unlock(&hwpt_paging->ioas->mutex);
		iopt_table_remove_domain(&hwpt_paging->ioas->iopt, hwpt_paging->common.domain);
		hwpt_paging->in_iopt = false;
	}
	iommufd_hwpt_common_destroy(&hwpt_paging->common);
	if (hwpt_paging->ioas)
		refcount_dec(&hwpt_paging->ioas->obj.users);
}

/* The same, for a HWPT that was never published; ioas->mutex is held. */
void iommufd_hwpt_paging_abort(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt_paging =
		container_of(obj, struct iommufd_hwpt_paging, common.obj);

	if (hwpt_paging->in_iopt) {
		list_del(&hwpt_paging->hwpt_item);
		iopt_table_remove_domain(&hwpt_paging->ioas->iopt, hwpt_paging->common.domain);
		hwpt_paging->in_iopt = false;
	}
	iommufd_hwpt_paging_destroy(obj);
}

void iommufd_hwpt_nested_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_nested *hwpt_nested =
		container_of(obj, struct iommufd_hwpt_nested, common.obj);

	iommufd_hwpt_common_destroy(&hwpt_nested->common);
	if (hwpt_nested->viommu)
		refcount_dec(&hwpt_nested->viommu->obj.users);
	else if (hwpt_nested->parent)
		refcount_dec(&hwpt_nested->parent->common.obj.users);
}

void iommufd_hwpt_nested_abort(struct iommufd_object *obj)
{
	iommufd_hwpt_nested_destroy(obj);
}

void iommufd_hw_pagetable_put(struct iommufd_ctx *ictx, struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_hwpt_paging *hwpt_paging = find_hwpt_paging(hwpt);

	if (hwpt_paging && hwpt_paging->auto_domain) {
		/*
		 * Drops our reference and destroys the HWPT if nothing else uses
		 * it (EBUSY: another device still does, which is fine).
		 */
		iommufd_object_remove(ictx, &hwpt->obj, hwpt->obj.id, 0);
		return;
	}
	refcount_dec(&hwpt->obj.users);
}

/* Reserve an unpublished object for a HWPT of @size bytes (common first). */
static struct iommufd_hw_pagetable *hwpt_alloc_obj(struct iommufd_ctx *ictx, size_t size,
						   enum iommufd_object_type type)
{
	struct iommufd_object *obj = iommufd_object_alloc_raw(ictx, size, type);

	if (IS_ERR(obj))
		return (struct iommufd_hw_pagetable *)obj;
	return to_hwpt(obj);
}

_Static_assert(offsetof(struct iommufd_hwpt_paging, common) == 0, "common first");
_Static_assert(offsetof(struct iommufd_hwpt_nested, common) == 0, "common first");

/* ------------------------------------------------------------------ */
/* Allocation                                                         */

struct iommufd_hwpt_paging *iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx,
						      struct iommufd_ioas *ioas,
						      struct iommufd_device *idev, uint32_t pasid,
						      uint32_t flags, bool immediate_attach,
						      const struct iommu_user_data *user_data)
{
	const uint32_t valid_flags = IOMMU_HWPT_ALLOC_NEST_PARENT |
				     IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_FAULT_ID_VALID |
				     IOMMU_HWPT_ALLOC_PASID;
	const struct iommu_ops *ops = idev->dev->iommu->ops;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_hw_pagetable *hwpt;
	uint64_t caps = ops->capabilities ? ops->capabilities(idev->dev) : 0;
	int rc, err = 0;

	if (flags & ~valid_flags)
		return ERR_PTR(-EOPNOTSUPP);
	if ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) && !(caps & IOMMU_HW_CAP_DIRTY_TRACKING))
		return ERR_PTR(-EOPNOTSUPP);
	if ((flags & IOMMU_HWPT_FAULT_ID_VALID) && (flags & IOMMU_HWPT_ALLOC_NEST_PARENT))
		return ERR_PTR(-EOPNOTSUPP);
	if (!ops->domain_alloc_paging_flags)
		return ERR_PTR(-EOPNOTSUPP);

	hwpt = hwpt_alloc_obj(ictx, sizeof(*hwpt_paging), IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt))
		return (struct iommufd_hwpt_paging *)hwpt;
	hwpt_paging = container_of(hwpt, struct iommufd_hwpt_paging, common);
	hwpt->pasid_compat = flags & IOMMU_HWPT_ALLOC_PASID;
	INIT_LIST_HEAD(&hwpt_paging->hwpt_item);
	/* Pairs with the destroy callback. */
	refcount_inc(&ioas->obj.users);
	hwpt_paging->ioas = ioas;
	hwpt_paging->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	hwpt_paging->enforce_cache_coherency = true;

	hwpt->domain = ops->domain_alloc_paging_flags(idev->dev, flags & ~IOMMU_HWPT_FAULT_ID_VALID,
						      user_data, &err);
	if (!hwpt->domain) {
		rc = err ? err : -ENOMEM;
		goto out_abort;
	}
	hwpt->domain->iommufd_hwpt = hwpt;

	/*
	 * An attach to an IOAS attaches before the domain is filled, as
	 * Linux's immediate_attach does (reserved regions of the device are
	 * claimed first).
	 */
	if (immediate_attach) {
		rc = iommufd_hw_pagetable_attach(hwpt, idev, pasid);
		if (rc)
			goto out_abort;
	}

	rc = iopt_table_add_domain(&ioas->iopt, hwpt->domain);
	if (rc)
		goto out_detach;
	list_add_tail(&hwpt_paging->hwpt_item, &ioas->hwpt_list);
	hwpt_paging->in_iopt = true;
	return hwpt_paging;

out_detach:
	if (immediate_attach)
		iommufd_hw_pagetable_detach(idev, pasid);
out_abort:
	iommufd_object_abort_and_destroy(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

/*
 * A driver's answer to domain_alloc_nested (@err its error): 0 when it is
 * a nested domain, now @hwpt's; else -errno (-ENOMEM when the driver said
 * nothing, -EOPNOTSUPP for a domain of another type).
 */
static int hwpt_take_nested_domain(struct iommufd_hw_pagetable *hwpt, int err)
{
	if (!hwpt->domain)
		return err ? err : -ENOMEM;
	hwpt->domain->iommufd_hwpt = hwpt;
	return hwpt->domain->type == IOMMU_DOMAIN_NESTED ? 0 : -EOPNOTSUPP;
}

static struct iommufd_hwpt_nested *
iommufd_hwpt_nested_alloc(struct iommufd_ctx *ictx, struct iommufd_hwpt_paging *parent,
			  struct iommufd_device *idev, uint32_t flags,
			  const struct iommu_user_data *user_data)
{
	const struct iommu_ops *ops = idev->dev->iommu->ops;
	struct iommufd_hwpt_nested *hwpt_nested;
	struct iommufd_hw_pagetable *hwpt;
	int rc, err = 0;

	if ((flags & ~(IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)) || !user_data->len ||
	    !ops->domain_alloc_nested)
		return ERR_PTR(-EOPNOTSUPP);
	/* A stage 2 meant for nesting, of the same driver, made by the user. */
	if (parent->auto_domain || !parent->nest_parent || parent->common.domain->iommu->ops != ops)
		return ERR_PTR(-EINVAL);

	hwpt = hwpt_alloc_obj(ictx, sizeof(*hwpt_nested), IOMMUFD_OBJ_HWPT_NESTED);
	if (IS_ERR(hwpt))
		return (struct iommufd_hwpt_nested *)hwpt;
	hwpt_nested = container_of(hwpt, struct iommufd_hwpt_nested, common);
	hwpt->pasid_compat = flags & IOMMU_HWPT_ALLOC_PASID;
	refcount_inc(&parent->common.obj.users);
	hwpt_nested->parent = parent;

	hwpt->domain =
		ops->domain_alloc_nested(idev->dev, parent->common.domain,
					 flags & ~IOMMU_HWPT_FAULT_ID_VALID, user_data, &err);
	rc = hwpt_take_nested_domain(hwpt, err);
	if (rc)
		goto out_abort;
	return hwpt_nested;

out_abort:
	iommufd_object_abort_and_destroy(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

static struct iommufd_hwpt_nested *
iommufd_viommu_alloc_hwpt_nested(struct iommufd_viommu *viommu, uint32_t flags,
				 const struct iommu_user_data *user_data)
{
	struct iommufd_hwpt_nested *hwpt_nested;
	struct iommufd_hw_pagetable *hwpt;
	int rc, err = 0;

	if (flags & ~(IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID))
		return ERR_PTR(-EOPNOTSUPP);
	if (!user_data->len)
		return ERR_PTR(-EOPNOTSUPP);
	if (!viommu->core->ops || !viommu->core->ops->alloc_domain_nested)
		return ERR_PTR(-EOPNOTSUPP);

	hwpt = hwpt_alloc_obj(viommu->ictx, sizeof(*hwpt_nested), IOMMUFD_OBJ_HWPT_NESTED);
	if (IS_ERR(hwpt))
		return (struct iommufd_hwpt_nested *)hwpt;
	hwpt_nested = container_of(hwpt, struct iommufd_hwpt_nested, common);
	hwpt->pasid_compat = flags & IOMMU_HWPT_ALLOC_PASID;
	hwpt_nested->viommu = viommu;
	refcount_inc(&viommu->obj.users);
	hwpt_nested->parent = viommu->hwpt;

	pthread_mutex_lock(&viommu->lock);
	hwpt->domain = viommu->core->ops->alloc_domain_nested(
		viommu->core, flags & ~IOMMU_HWPT_FAULT_ID_VALID, user_data, &err);
	pthread_mutex_unlock(&viommu->lock);
	rc = hwpt_take_nested_domain(hwpt, err);
	if (rc)
		goto out_abort;
	return hwpt_nested;

out_abort:
	iommufd_object_abort_and_destroy(viommu->ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	const struct iommu_user_data user_data = {
		.type = cmd->data_type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.len = cmd->data_len,
	};
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_ioas *ioas = NULL;
	struct iommufd_object *pt_obj;
	struct iommufd_device *idev;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;

	idev = iommufd_get_device(ucmd->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return (int)PTR_ERR(idev);

	pt_obj = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt_obj)) {
		rc = -EINVAL;
		goto out_put_idev;
	}

	if (pt_obj->type == IOMMUFD_OBJ_IOAS) {
		struct iommufd_hwpt_paging *hwpt_paging;

		ioas = container_of(pt_obj, struct iommufd_ioas, obj);
		pthread_mutex_lock(&ioas->mutex);
		hwpt_paging = iommufd_hwpt_paging_alloc(ucmd->ictx, ioas, idev, IOMMU_NO_PASID,
							cmd->flags, false,
							user_data.len ? &user_data : NULL);
		if (IS_ERR(hwpt_paging)) {
			rc = (int)PTR_ERR(hwpt_paging);
			goto out_unlock;
		}
		hwpt = &hwpt_paging->common;
	} else if (pt_obj->type == IOMMUFD_OBJ_HWPT_PAGING) {
		struct iommufd_hwpt_nested *hwpt_nested;

		hwpt_nested = iommufd_hwpt_nested_alloc(
			ucmd->ictx, container_of(pt_obj, struct iommufd_hwpt_paging, common.obj),
			idev, cmd->flags, &user_data);
		if (IS_ERR(hwpt_nested)) {
			rc = (int)PTR_ERR(hwpt_nested);
			goto out_unlock;
		}
		hwpt = &hwpt_nested->common;
	} else if (pt_obj->type == IOMMUFD_OBJ_VIOMMU) {
		struct iommufd_viommu *viommu = container_of(pt_obj, struct iommufd_viommu, obj);
		struct iommufd_hwpt_nested *hwpt_nested;

		/* The device must sit behind the vIOMMU's physical IOMMU. */
		if (viommu->core->iommu != idev->dev->iommu) {
			rc = -EINVAL;
			goto out_unlock;
		}
		hwpt_nested = iommufd_viommu_alloc_hwpt_nested(viommu, cmd->flags, &user_data);
		if (IS_ERR(hwpt_nested)) {
			rc = (int)PTR_ERR(hwpt_nested);
			goto out_unlock;
		}
		hwpt = &hwpt_nested->common;
	} else {
		rc = -EINVAL;
		goto out_put_pt;
	}

	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		struct iommufd_fault *fault = iommufd_get_fault(ucmd->ictx, cmd->fault_id);

		if (IS_ERR(fault)) {
			rc = (int)PTR_ERR(fault);
			goto out_hwpt;
		}
		hwpt->fault = fault;
		iommufd_ref_to_users(&fault->obj);
		hwpt->domain->sink = &iommufd_fault_sink;
	}

	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_hwpt;
	iommufd_object_finalize(ucmd->ictx, &hwpt->obj);
	goto out_unlock;

out_hwpt:
	iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
out_unlock:
	if (ioas)
		pthread_mutex_unlock(&ioas->mutex);
out_put_pt:
	iommufd_put_object(ucmd->ictx, pt_obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Dirty tracking                                                     */

int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	int rc;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE || cmd->__reserved)
		return -EOPNOTSUPP;

	hwpt_paging = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (IS_ERR(hwpt_paging))
		return (int)PTR_ERR(hwpt_paging);
	rc = iopt_set_dirty_tracking(&hwpt_paging->ioas->iopt, hwpt_paging->common.domain,
				     cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return rc;
}

int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	int rc;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->__reserved)
		return -EOPNOTSUPP;

	hwpt_paging = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (IS_ERR(hwpt_paging))
		return (int)PTR_ERR(hwpt_paging);
	rc = iopt_read_and_clear_dirty_data(
		&hwpt_paging->ioas->iopt, hwpt_paging->common.domain,
		cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR ? IOMMU_DIRTY_NO_CLEAR : 0,
		cmd->iova, cmd->length, cmd->page_size, u64_to_user_ptr(cmd->data));
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Invalidation                                                       */

int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	struct iommu_user_data_array data_array = {
		.type = cmd->data_type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.entry_len = cmd->entry_len,
		.entry_num = cmd->entry_num,
	};
	struct iommufd_object *pt_obj;
	uint32_t done_num = 0;
	int rc;

	if (cmd->__reserved) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len)) {
		rc = -EINVAL;
		goto out;
	}

	pt_obj = iommufd_get_object(ucmd->ictx, cmd->hwpt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt_obj)) {
		rc = (int)PTR_ERR(pt_obj);
		goto out;
	}
	if (pt_obj->type == IOMMUFD_OBJ_HWPT_NESTED) {
		struct iommufd_hw_pagetable *hwpt = to_hwpt(pt_obj);

		if (!hwpt->domain->ops || !hwpt->domain->ops->cache_invalidate_user) {
			rc = -EOPNOTSUPP;
			goto out_put_pt;
		}
		rc = hwpt->domain->ops->cache_invalidate_user(hwpt->domain, &data_array);
	} else if (pt_obj->type == IOMMUFD_OBJ_VIOMMU) {
		struct iommufd_viommu *viommu = container_of(pt_obj, struct iommufd_viommu, obj);

		if (!viommu->core->ops || !viommu->core->ops->cache_invalidate) {
			rc = -EOPNOTSUPP;
			goto out_put_pt;
		}
		pthread_mutex_lock(&viommu->lock);
		rc = viommu->core->ops->cache_invalidate(viommu->core, &data_array);
		pthread_mutex_unlock(&viommu->lock);
	} else {
		rc = -EINVAL;
		goto out_put_pt;
	}
	done_num = data_array.entry_num;

out_put_pt:
	iommufd_put_object(ucmd->ictx, pt_obj);
out:
	/* Written back on failure too: how many entries were handled. */
	cmd->entry_num = done_num;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		return -EFAULT;
	return rc;
}
