// SPDX-License-Identifier: MIT
/*
 * device.c - devices bound to an iommufd (IOMMUFD_OBJ_DEVICE), their
 * attachments to HWPTs, and IOMMU_GET_HW_INFO.
 *
 * What it owns. An iommufd_device ("idev") stands for one struct udev
 * bound to one context. The binding driver (selftest.c's mock device
 * object; later the VFIO cdev) holds a users reference until it unbinds,
 * and every attachment holds another, so IOMMU_DESTROY of a device is
 * always EBUSY: devices go away with their driver. Linux groups devices
 * that cannot be isolated from each other into iommu groups and attaches
 * the group; here every device is its own group, so the per-group state
 * (attachments per PASID, the lock) lives in the idev.
 *
 * Attachments: the RID (pasid 0, IOMMU_NO_PASID) and any number of PASIDs,
 * each to one HWPT, each holding a users reference on it. The rules are
 * Linux's (reference iommufd.md §4.4):
 *
 *   attach   an attached (idev, pasid) is EBUSY (replace is the way); the
 *            PASID rules below; attaching the RID to a paging HWPT first
 *            claims the device's reserved regions in that HWPT's IOAS
 *            (EADDRINUSE); then the model attaches.
 *   replace  only on an attached (idev, pasid) (EINVAL); to the same HWPT
 *            a no-op; atomic: every check and the model's switch come
 *            before anything is released, and on failure nothing changed.
 *            Reserved regions move with the RID when the IOAS changes.
 *   detach   back to blocked; a no-op when not attached.
 *   PASIDs   a HWPT may serve a PASID only if allocated with the PASID
 *            flag; while any PASID is attached, the RID's HWPT must be
 *            PASID-compatible too; the device must support PASIDs and the
 *            PASID fit its width (all EINVAL).
 *
 * Attaching to an IOAS uses an auto HWPT: any existing auto HWPT of the
 * IOAS that the device accepts (the model's EINVAL means "incompatible, try
 * the next"), else a new one, made and attached under ioas->mutex. An auto
 * HWPT is destroyed when the last attachment leaves it
 * (iommufd_hw_pagetable_put()). Leaving a HWPT with a fault queue answers
 * every page request of that attachment still queued or unanswered with
 * INVALID (fault.c).
 *
 * vDEVICEs: a device has at most one (viommu.c). The vDEVICE holds the
 * idev with a short-term reference; unbinding waits for it after the
 * idev's pre_destroy has marked the device "destroying" (no new vDEVICE:
 * ENOENT) and force-destroyed the vDEVICE, leaving a tombstone ID.
 *
 * Locks: idev->iopf_rwsem (write) around every attach change, so fault
 * and event triggers (read) never see a device between two domains;
 * ioas->mutex (auto HWPTs) above idev->lock, which guards the attachment
 * table, vdev and destroying; a vIOMMU's lock inside it while the model
 * attaches to one of its nested domains (the model reads its vDEVICE
 * table); iova_rwsem (reserved regions) below those.
 */
#include <errno.h>
#include <string.h>

#include "iommufd/io_pagetable.h"
#include "util/alloc.h"

/* ------------------------------------------------------------------ */
/* Bind / unbind                                                      */

struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx, struct udev *dev, uint32_t *id,
					   bool hold_ctx)
{
	struct iommufd_device *idev;

	if (!dev || !dev->iommu || !dev->iommu->ops)
		return ERR_PTR(-EINVAL);
	/* One owner at a time (Linux: iommu_device_claim_dma_owner()). */
	if (__atomic_load_n(&dev->iommufd_priv, __ATOMIC_ACQUIRE))
		return ERR_PTR(-EBUSY);

	idev = iommufd_object_alloc(ictx, idev, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(idev))
		return idev;
	idev->ictx = ictx;
	idev->dev = dev;
	pthread_mutex_init(&idev->lock, NULL);
	pthread_rwlock_init(&idev->iopf_rwsem, NULL);
	{
		void *expected = NULL;

		if (!__atomic_compare_exchange_n(&dev->iommufd_priv, &expected, idev, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			pthread_rwlock_destroy(&idev->iopf_rwsem);
			pthread_mutex_destroy(&idev->lock);
			iommufd_object_abort(ictx, &idev->obj);
			return ERR_PTR(-EBUSY);
		}
	}
	idev->holds_ctx = hold_ctx;
	if (hold_ctx)
		iommufd_ctx_get(ictx);
	/* The binding driver is a user until iommufd_device_unbind(). */
	refcount_inc(&idev->obj.users);
	iommufd_object_finalize(ictx, &idev->obj);
	*id = idev->obj.id;
	return idev;
}

void iommufd_device_unbind(struct iommufd_device *idev)
{
	iommufd_object_destroy_user(idev->ictx, &idev->obj);
}

/* Force-destroy the device's vDEVICE, leaving a tombstone; it drops its hold on us. */
void iommufd_device_pre_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev = container_of(obj, struct iommufd_device, obj);
	struct iommufd_vdevice *vdev;
	struct iommufd_object *vobj;

	pthread_mutex_lock(&idev->lock);
	idev->destroying = true;
	vdev = idev->vdev;
	if (!vdev) {
		pthread_mutex_unlock(&idev->lock);
		return;
	}
	/*
	 * ENOENT: a DESTROY of the vDEVICE already took it out of the table
	 * and is finishing (it needs this lock); the remover waits for it.
	 */
	vobj = iommufd_get_object_noinject(idev->ictx, vdev->obj.id, IOMMUFD_OBJ_VDEVICE);
	if (IS_ERR(vobj)) {
		pthread_mutex_unlock(&idev->lock);
		return;
	}
	/* Keep a users reference for the tombstone removal, drop the get's short-term one. */
	iommufd_ref_to_users(vobj);
	pthread_mutex_unlock(&idev->lock);
	iommufd_object_tombstone_user(idev->ictx, vobj);
}

void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev = container_of(obj, struct iommufd_device, obj);

	if (idev->nattach)
		ulog_warn("iommufd: device %u destroyed while attached", obj->id);
	__atomic_store_n(&idev->dev->iommufd_priv, NULL, __ATOMIC_RELEASE);
	ufree(idev->attach);
	pthread_rwlock_destroy(&idev->iopf_rwsem);
	pthread_mutex_destroy(&idev->lock);
	if (idev->holds_ctx)
		iommufd_ctx_put(idev->ictx);
}

/* ------------------------------------------------------------------ */
/* The attachment table (under idev->lock)                            */

static struct iommufd_attach *attach_find(struct iommufd_device *idev, uint32_t pasid)
{
	for (unsigned int i = 0; i < idev->nattach; i++)
		if (idev->attach[i].pasid == pasid)
			return &idev->attach[i];
	return NULL;
}

/* Room for one more entry; -ENOMEM. */
static int attach_reserve(struct iommufd_device *idev)
{
	struct iommufd_attach *n;
	unsigned int cap;

	if (idev->nattach < idev->attach_cap)
		return 0;
	cap = idev->attach_cap ? 2 * idev->attach_cap : 4;
	n = ucalloc(cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (idev->nattach)
		memcpy(n, idev->attach, idev->nattach * sizeof(*n));
	ufree(idev->attach);
	idev->attach = n;
	idev->attach_cap = cap;
	return 0;
}

static void attach_remove(struct iommufd_device *idev, struct iommufd_attach *a)
{
	*a = idev->attach[--idev->nattach];
}

struct iommufd_hw_pagetable *iommufd_device_attached_hwpt(struct iommufd_device *idev,
							  uint32_t pasid)
{
	struct iommufd_hw_pagetable *hwpt = NULL;
	struct iommufd_attach *a;

	pthread_mutex_lock(&idev->lock);
	a = attach_find(idev, pasid);
	if (a)
		hwpt = a->hwpt;
	pthread_mutex_unlock(&idev->lock);
	return hwpt;
}

/* The PASID rules (Linux's iommufd_hwpt_pasid_compat()). Under idev->lock. */
static int iommufd_hwpt_pasid_compat(struct iommufd_hw_pagetable *hwpt, struct iommufd_device *idev,
				     uint32_t pasid)
{
	if (pasid == IOMMU_NO_PASID) {
		if (hwpt->pasid_compat)
			return 0;
		for (unsigned int i = 0; i < idev->nattach; i++)
			if (idev->attach[i].pasid != IOMMU_NO_PASID)
				return -EINVAL;
		return 0;
	} else {
		struct iommufd_attach *rid = attach_find(idev, IOMMU_NO_PASID);

		if (!hwpt->pasid_compat)
			return -EINVAL;
		if (rid && !rid->hwpt->pasid_compat)
			return -EINVAL;
		return 0;
	}
}

/* The vIOMMU whose lock covers a model call on @hwpt's domain, or NULL. */
static struct iommufd_viommu *hwpt_viommu(struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt->obj.type != IOMMUFD_OBJ_HWPT_NESTED)
		return NULL;
	return container_of(hwpt, struct iommufd_hwpt_nested, common)->viommu;
}

/*
 * The model's side of attaching (@idev, @pasid) to @hwpt, replacing @old
 * (NULL for a first attach): its attach is a replace.
 */
static int iommufd_hwpt_model_attach(struct iommufd_hw_pagetable *hwpt, struct iommufd_device *idev,
				     uint32_t pasid, struct iommufd_hw_pagetable *old)
{
	struct iommufd_viommu *viommu = hwpt_viommu(hwpt);
	struct iommu_domain *domain = hwpt->domain;
	struct udev *dev = idev->dev;
	int rc;

	if (pasid != IOMMU_NO_PASID) {
		/* The device must do PASIDs, and this one must fit its width. */
		if (!dev->max_pasid_log2 || dev->max_pasid_log2 >= 32 ||
		    pasid >= (1u << dev->max_pasid_log2))
			return -EINVAL;
		if (!domain->ops->set_dev_pasid)
			return -EOPNOTSUPP;
	} else if (!domain->ops->attach_dev) {
		return -EOPNOTSUPP;
	}
	if (domain->iommu != dev->iommu)
		return -EINVAL;

	if (viommu)
		pthread_mutex_lock(&viommu->lock);
	if (pasid == IOMMU_NO_PASID)
		rc = domain->ops->attach_dev(domain, dev);
	else
		rc = domain->ops->set_dev_pasid(domain, dev, pasid, old ? old->domain : NULL);
	if (viommu)
		pthread_mutex_unlock(&viommu->lock);
	return rc;
}

/* The model's side of detaching: the RID is blocked, a PASID removed. */
static void iommufd_hwpt_model_detach(struct iommufd_hw_pagetable *hwpt,
				      struct iommufd_device *idev, uint32_t pasid)
{
	const struct iommu_ops *ops = idev->dev->iommu->ops;

	if (pasid == IOMMU_NO_PASID) {
		if (ops->block_dev)
			ops->block_dev(idev->dev);
	} else if (ops->remove_dev_pasid) {
		ops->remove_dev_pasid(idev->dev, pasid, hwpt->domain);
	}
}

int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt, struct iommufd_device *idev,
				uint32_t pasid)
{
	struct iommufd_hwpt_paging *hwpt_paging = find_hwpt_paging(hwpt);
	bool attach_resv = hwpt_paging && pasid == IOMMU_NO_PASID;
	struct iommufd_attach *a;
	int rc;

	pthread_mutex_lock(&idev->lock);
	if (attach_find(idev, pasid)) {
		rc = -EBUSY;
		goto out_unlock;
	}
	rc = iommufd_hwpt_pasid_compat(hwpt, idev, pasid);
	if (rc)
		goto out_unlock;
	rc = attach_reserve(idev);
	if (rc)
		goto out_unlock;
	if (attach_resv) {
		rc = iopt_table_enforce_dev_resv_regions(&hwpt_paging->ioas->iopt, idev->dev);
		if (rc)
			goto out_unlock;
	}
	rc = iommufd_hwpt_model_attach(hwpt, idev, pasid, NULL);
	if (rc) {
		if (attach_resv)
			iopt_remove_reserved_iova(&hwpt_paging->ioas->iopt, idev->dev);
		goto out_unlock;
	}
	refcount_inc(&hwpt->obj.users);
	a = &idev->attach[idev->nattach++];
	a->pasid = pasid;
	a->hwpt = hwpt;
out_unlock:
	pthread_mutex_unlock(&idev->lock);
	return rc;
}

struct iommufd_hw_pagetable *iommufd_hw_pagetable_detach(struct iommufd_device *idev,
							 uint32_t pasid)
{
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_attach *a;

	pthread_mutex_lock(&idev->lock);
	a = attach_find(idev, pasid);
	if (!a) {
		pthread_mutex_unlock(&idev->lock);
		return NULL;
	}
	hwpt = a->hwpt;
	hwpt_paging = find_hwpt_paging(hwpt);
	iommufd_hwpt_model_detach(hwpt, idev, pasid);
	iommufd_auto_response_faults(hwpt, idev, pasid);
	if (hwpt_paging && pasid == IOMMU_NO_PASID)
		iopt_remove_reserved_iova(&hwpt_paging->ioas->iopt, idev->dev);
	attach_remove(idev, a);
	pthread_mutex_unlock(&idev->lock);
	/* The caller puts the HWPT. */
	return hwpt;
}

/* Attach-mode step of iommufd_device_change_pt(): NULL or ERR_PTR. */
static struct iommufd_hw_pagetable *iommufd_device_do_attach(struct iommufd_device *idev,
							     uint32_t pasid,
							     struct iommufd_hw_pagetable *hwpt)
{
	int rc = iommufd_hw_pagetable_attach(hwpt, idev, pasid);

	return rc ? ERR_PTR(rc) : NULL;
}

/* Replace-mode step: the old HWPT (its reference for the caller to put), NULL, or ERR_PTR. */
static struct iommufd_hw_pagetable *iommufd_device_do_replace(struct iommufd_device *idev,
							      uint32_t pasid,
							      struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_hwpt_paging *hwpt_paging = find_hwpt_paging(hwpt);
	struct iommufd_hwpt_paging *old_paging;
	struct iommufd_hw_pagetable *old;
	bool claim_resv = false;
	struct iommufd_attach *a;
	int rc;

	pthread_mutex_lock(&idev->lock);
	a = attach_find(idev, pasid);
	if (!a) {
		rc = -EINVAL;
		goto err_unlock;
	}
	old = a->hwpt;
	if (hwpt == old) {
		pthread_mutex_unlock(&idev->lock);
		return NULL;
	}
	rc = iommufd_hwpt_pasid_compat(hwpt, idev, pasid);
	if (rc)
		goto err_unlock;

	old_paging = find_hwpt_paging(old);
	if (hwpt_paging && pasid == IOMMU_NO_PASID &&
	    (!old_paging || old_paging->ioas != hwpt_paging->ioas)) {
		rc = iopt_table_enforce_dev_resv_regions(&hwpt_paging->ioas->iopt, idev->dev);
		if (rc)
			goto err_unlock;
		claim_resv = true;
	}

	rc = iommufd_hwpt_model_attach(hwpt, idev, pasid, old);
	if (rc)
		goto err_unresv;

	/* Past the point of no return: release what the old attachment held. */
	if (old_paging && pasid == IOMMU_NO_PASID &&
	    (!hwpt_paging || hwpt_paging->ioas != old_paging->ioas))
		iopt_remove_reserved_iova(&old_paging->ioas->iopt, idev->dev);
	iommufd_auto_response_faults(old, idev, pasid);
	refcount_inc(&hwpt->obj.users);
	a->hwpt = hwpt;
	pthread_mutex_unlock(&idev->lock);
	return old;

err_unresv:
	if (claim_resv)
		iopt_remove_reserved_iova(&hwpt_paging->ioas->iopt, idev->dev);
err_unlock:
	pthread_mutex_unlock(&idev->lock);
	return ERR_PTR(rc);
}

typedef struct iommufd_hw_pagetable *(*attach_fn)(struct iommufd_device *idev, uint32_t pasid,
						  struct iommufd_hw_pagetable *hwpt);

/*
 * Attach or replace to an IOAS: reuse an auto HWPT the device accepts, else
 * make one. Returns what the attach step returned.
 */
static struct iommufd_hw_pagetable *
iommufd_device_auto_get_domain(struct iommufd_device *idev, uint32_t pasid,
			       struct iommufd_ioas *ioas, uint32_t *pt_id, attach_fn do_attach)
{
	bool immediate_attach = do_attach == iommufd_device_do_attach;
	struct iommufd_hw_pagetable *destroy_hwpt;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_hw_pagetable *hwpt;

	pthread_mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt_paging, &ioas->hwpt_list, hwpt_item)
	{
		if (!hwpt_paging->auto_domain)
			continue;
		hwpt = &hwpt_paging->common;
		/* Safe under ioas->mutex: a dying HWPT leaves the list under it. */
		if (!iommufd_lock_obj(&hwpt->obj))
			continue;
		destroy_hwpt = do_attach(idev, pasid, hwpt);
		if (IS_ERR(destroy_hwpt)) {
			iommufd_put_object(idev->ictx, &hwpt->obj);
			/* EINVAL: this domain does not suit the device; try the next one. */
			if (PTR_ERR(destroy_hwpt) == -EINVAL)
				continue;
			goto out_unlock;
		}
		*pt_id = hwpt->obj.id;
		iommufd_put_object(idev->ictx, &hwpt->obj);
		goto out_unlock;
	}

	hwpt_paging = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, pasid,
						ioas->auto_hwpt_flags, immediate_attach, NULL);
	if (IS_ERR(hwpt_paging)) {
		destroy_hwpt = (struct iommufd_hw_pagetable *)hwpt_paging;
		goto out_unlock;
	}
	hwpt = &hwpt_paging->common;
	if (!immediate_attach) {
		destroy_hwpt = do_attach(idev, pasid, hwpt);
		if (IS_ERR(destroy_hwpt)) {
			iommufd_object_abort_and_destroy(idev->ictx, &hwpt->obj);
			goto out_unlock;
		}
	} else {
		destroy_hwpt = NULL;
	}
	hwpt_paging->auto_domain = true;
	*pt_id = hwpt->obj.id;
	iommufd_object_finalize(idev->ictx, &hwpt->obj);
out_unlock:
	pthread_mutex_unlock(&ioas->mutex);
	return destroy_hwpt;
}

static int iommufd_device_change_pt(struct iommufd_device *idev, uint32_t pasid, uint32_t *pt_id,
				    attach_fn do_attach)
{
	struct iommufd_hw_pagetable *destroy_hwpt;
	struct iommufd_object *pt_obj;

	pt_obj = iommufd_get_object(idev->ictx, *pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt_obj))
		return (int)PTR_ERR(pt_obj);

	switch (pt_obj->type) {
	case IOMMUFD_OBJ_HWPT_NESTED:
	case IOMMUFD_OBJ_HWPT_PAGING:
		destroy_hwpt = do_attach(idev, pasid, to_hwpt(pt_obj));
		break;
	case IOMMUFD_OBJ_IOAS:
		destroy_hwpt = iommufd_device_auto_get_domain(
			idev, pasid, container_of(pt_obj, struct iommufd_ioas, obj), pt_id,
			do_attach);
		break;
	default:
		destroy_hwpt = ERR_PTR(-EINVAL);
		break;
	}
	iommufd_put_object(idev->ictx, pt_obj);
	if (IS_ERR(destroy_hwpt))
		return (int)PTR_ERR(destroy_hwpt);
	/* After every lock is dropped: this may destroy an auto HWPT. */
	if (destroy_hwpt)
		iommufd_hw_pagetable_put(idev->ictx, destroy_hwpt);
	return 0;
}

int iommufd_device_attach(struct iommufd_device *idev, uint32_t pasid, uint32_t *pt_id)
{
	int rc;

	pthread_rwlock_wrlock(&idev->iopf_rwsem);
	rc = iommufd_device_change_pt(idev, pasid, pt_id, iommufd_device_do_attach);
	pthread_rwlock_unlock(&idev->iopf_rwsem);
	if (rc)
		return rc;
	/* Pairs with iommufd_device_detach(): an attached device cannot be destroyed. */
	refcount_inc(&idev->obj.users);
	return 0;
}

int iommufd_device_replace(struct iommufd_device *idev, uint32_t pasid, uint32_t *pt_id)
{
	int rc;

	pthread_rwlock_wrlock(&idev->iopf_rwsem);
	rc = iommufd_device_change_pt(idev, pasid, pt_id, iommufd_device_do_replace);
	pthread_rwlock_unlock(&idev->iopf_rwsem);
	return rc;
}

void iommufd_device_detach(struct iommufd_device *idev, uint32_t pasid)
{
	struct iommufd_hw_pagetable *hwpt;

	pthread_rwlock_wrlock(&idev->iopf_rwsem);
	hwpt = iommufd_hw_pagetable_detach(idev, pasid);
	pthread_rwlock_unlock(&idev->iopf_rwsem);
	if (!hwpt)
		return;
	iommufd_hw_pagetable_put(idev->ictx, hwpt);
	refcount_dec(&idev->obj.users);
}

/* ------------------------------------------------------------------ */
/* IOMMU_GET_HW_INFO                                                  */

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	void *user_ptr = u64_to_user_ptr(cmd->data_uptr);
	const struct iommu_ops *ops;
	struct iommufd_device *idev;
	unsigned int out_type = IOMMU_HW_INFO_TYPE_NONE;
	size_t data_len = 0, copy_len;
	void *data = NULL;
	int rc;

	if (cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE)
		return -EOPNOTSUPP;
	if (cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;
	/* Without INPUT_TYPE the field is not an input: drivers see DEFAULT. */
	if (!(cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE))
		cmd->in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;

	idev = iommufd_get_device(ucmd->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return (int)PTR_ERR(idev);

	ops = idev->dev->iommu->ops;
	if (ops->hw_info) {
		unsigned int type = IOMMU_HW_INFO_TYPE_NONE;

		/* First the size of the driver's blob, then the blob. */
		rc = ops->hw_info(idev->dev, cmd->in_data_type, NULL, 0, &type, &data_len);
		if (rc < 0)
			goto out_put;
		if (data_len) {
			data = uzalloc(data_len);
			if (!data) {
				rc = -ENOMEM;
				goto out_put;
			}
			rc = ops->hw_info(idev->dev, cmd->in_data_type, data, data_len, &type,
					  &data_len);
			if (rc < 0)
				goto out_free;
		}
		/* A driver with hw_info has a type of its own. */
		if (type == IOMMU_HW_INFO_TYPE_NONE) {
			rc = -EOPNOTSUPP;
			goto out_free;
		}
		out_type = type;
	}

	copy_len = MIN((size_t)cmd->data_len, data_len);
	if (copy_len && copy_to_user(user_ptr, data, copy_len)) {
		rc = -EFAULT;
		goto out_free;
	}
	/* A larger user buffer gets its tail zeroed. */
	if (copy_len < cmd->data_len &&
	    clear_user(uptr_add(user_ptr, copy_len), cmd->data_len - copy_len)) {
		rc = -EFAULT;
		goto out_free;
	}
	/* The driver's full length, which may exceed what the user offered. */
	cmd->data_len = (uint32_t)data_len;
	cmd->out_data_type = out_type;
	cmd->out_capabilities = ops->capabilities ? ops->capabilities(idev->dev) : 0;
	cmd->out_max_pasid_log2 = (uint8_t)idev->dev->max_pasid_log2;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	ufree(data);
out_put:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
