// SPDX-License-Identifier: MIT
/*
 * viommu.c - vIOMMU objects and what hangs off them: IOMMU_VIOMMU_ALLOC,
 * IOMMU_VDEVICE_ALLOC and IOMMU_HW_QUEUE_ALLOC (vEVENTQs are in eventq.c,
 * nested HWPTs on a vIOMMU in hw_pagetable.c).
 *
 * What it owns. A vIOMMU is a model's slice of a physical IOMMU for one VM
 * (struct iommu_viommu, made by iommu_ops.viommu_alloc), on a NEST_PARENT
 * paging HWPT that it holds (users). The core object owns the model's
 * object (freed through its ops->destroy) and publishes the model's mmap
 * region, if any, in the context's mmap table: mmap() on the iommufd at
 * that offset maps the region, and the mapping holds the vIOMMU (EBUSY)
 * until it is unmapped. Reference iommufd.md §4.7 has the rules.
 *
 *   vDEVICE   a device's virtual ID on the vIOMMU (what the guest calls
 *             it: vSID, vRID, ...). One per device (EEXIST), one device
 *             per virtual ID (EEXIST), same physical IOMMU (EINVAL), not
 *             while the device is being unbound (ENOENT). It holds the
 *             vIOMMU (users) and the device with a short-term reference,
 *             so unbinding the device force-destroys it and leaves a
 *             tombstone (device.c's pre_destroy). The model learns of it
 *             through vdevice_init / vdevice_destroy.
 *   HW queue  a guest queue (command queue...) the model reads directly:
 *             the guest memory [nesting_parent_iova, + length) is pinned
 *             through an internal access on the parent's IOAS, which locks
 *             the areas (UNMAP: EBUSY) until the queue is destroyed; the
 *             pages must be contiguous in host memory (EFAULT), as the
 *             hardware reads physical addresses. The model's rules apply
 *             (index order, EEXIST ...). Queue i depends on queue i - 1 of
 *             the same vIOMMU (both drivers that have HW queues, the mock
 *             and Tegra241 CMDQV, allocate upward and free downward): it
 *             holds a users reference on it, so destroying a lower queue
 *             first is EBUSY, and closing the context destroys them in
 *             the right order.
 *
 * Locks: viommu->lock serialises every call into the model's vIOMMU ops
 * (the models keep their tables unlocked) and guards the vDEVICE and HW
 * queue lists; a device's lock is taken before it (vDEVICE allocation and
 * destruction, attaching to a vIOMMU's nested HWPT).
 */
#include <errno.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "util/alloc.h"

/* ------------------------------------------------------------------ */
/* vIOMMU                                                             */

void iommufd_viommu_destroy(struct iommufd_object *obj)
{
	struct iommufd_viommu *viommu = container_of(obj, struct iommufd_viommu, obj);

	/* No mapping is left (it would hold us): take the region off the table. */
	iommufd_mmap_remove(viommu->ictx, obj);
	if (viommu->core && viommu->core->ops && viommu->core->ops->destroy)
		viommu->core->ops->destroy(viommu->core);
	viommu->core = NULL;
	if (viommu->hwpt)
		refcount_dec(&viommu->hwpt->common.obj.users);
	pthread_rwlock_destroy(&viommu->veventqs_rwsem);
	pthread_mutex_destroy(&viommu->lock);
}

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;
	const struct iommu_user_data user_data = {
		.type = cmd->type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.len = cmd->data_len,
	};
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	const struct iommu_ops *ops;
	struct iommu_viommu *core;
	int rc, err = 0;

	if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;

	idev = iommufd_get_device(ucmd->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return (int)PTR_ERR(idev);
	ops = idev->dev->iommu->ops;
	if (!ops->viommu_alloc) {
		rc = -EOPNOTSUPP;
		goto out_put_idev;
	}

	hwpt_paging = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (IS_ERR(hwpt_paging)) {
		rc = (int)PTR_ERR(hwpt_paging);
		goto out_put_idev;
	}
	if (!hwpt_paging->nest_parent) {
		rc = -EINVAL;
		goto out_put_hwpt;
	}

	viommu = iommufd_object_alloc_ucmd(ucmd, viommu, IOMMUFD_OBJ_VIOMMU);
	if (IS_ERR(viommu)) {
		rc = (int)PTR_ERR(viommu);
		goto out_put_hwpt;
	}
	viommu->ictx = ucmd->ictx;
	viommu->type = cmd->type;
	pthread_mutex_init(&viommu->lock, NULL);
	pthread_rwlock_init(&viommu->veventqs_rwsem, NULL);
	INIT_LIST_HEAD(&viommu->vdevs);
	INIT_LIST_HEAD(&viommu->hw_queues);
	INIT_LIST_HEAD(&viommu->veventqs);
	viommu->hwpt = hwpt_paging;
	refcount_inc(&hwpt_paging->common.obj.users);

	core = ops->viommu_alloc(idev->dev, hwpt_paging->common.domain, cmd->type,
				 user_data.len ? &user_data : NULL, &err);
	if (!core) {
		rc = err ? err : -ENOMEM;
		goto out_put_hwpt;
	}
	viommu->core = core;
	core->iommufd_priv = viommu;
	core->report_event = iommufd_viommu_report_event;
	if (!core->ops) {
		rc = -EOPNOTSUPP;
		goto out_put_hwpt;
	}
	if (core->mmap_len) {
		rc = iommufd_mmap_add(ucmd->ictx, &viommu->obj, core->mmap_offset, core->mmap_len,
				      core->mmap_fd);
		if (rc)
			goto out_put_hwpt;
	}

	cmd->out_viommu_id = viommu->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));

out_put_hwpt:
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* vDEVICE                                                            */

/* Undo the vDEVICE's links; the device's lock is held. */
static void iommufd_vdevice_unlink(struct iommufd_vdevice *vdev)
{
	struct iommufd_viommu *viommu = vdev->viommu;

	pthread_mutex_lock(&viommu->lock);
	if (vdev->initialized && viommu->core->ops->vdevice_destroy)
		viommu->core->ops->vdevice_destroy(viommu->core, vdev->idev->dev, vdev->virt_id);
	vdev->initialized = false;
	if (!list_empty(&vdev->node))
		list_del_init(&vdev->node);
	pthread_mutex_unlock(&viommu->lock);
	if (vdev->idev->vdev == vdev)
		vdev->idev->vdev = NULL;
	refcount_dec(&viommu->obj.users);
}

void iommufd_vdevice_destroy(struct iommufd_object *obj)
{
	struct iommufd_vdevice *vdev = container_of(obj, struct iommufd_vdevice, obj);
	struct iommufd_device *idev = vdev->idev;

	pthread_mutex_lock(&idev->lock);
	iommufd_vdevice_unlink(vdev);
	pthread_mutex_unlock(&idev->lock);
	/* Lets a waiting unbind of the device go on. */
	iommufd_put_shortterm(idev->ictx, &idev->obj);
}

int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_vdevice_alloc *cmd = ucmd->cmd;
	struct iommufd_vdevice *vdev, *cur;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	int rc;

	/* The virtual ID indexes an unsigned long table in Linux. */
	if (cmd->virt_id > UINTPTR_MAX)
		return -EINVAL;

	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id);
	if (IS_ERR(viommu))
		return (int)PTR_ERR(viommu);
	idev = iommufd_get_device(ucmd->ictx, cmd->dev_id);
	if (IS_ERR(idev)) {
		rc = (int)PTR_ERR(idev);
		goto out_put_viommu;
	}
	if (viommu->core->iommu != idev->dev->iommu) {
		rc = -EINVAL;
		goto out_put_idev;
	}

	/* Held until the vDEVICE is published, so an unbind sees it whole or not at all. */
	pthread_mutex_lock(&idev->lock);
	if (idev->destroying) {
		rc = -ENOENT;
		goto out_unlock_idev;
	}
	if (idev->vdev) {
		rc = -EEXIST;
		goto out_unlock_idev;
	}

	vdev = iommufd_object_alloc(ucmd->ictx, vdev, IOMMUFD_OBJ_VDEVICE);
	if (IS_ERR(vdev)) {
		rc = (int)PTR_ERR(vdev);
		goto out_unlock_idev;
	}
	vdev->virt_id = cmd->virt_id;
	vdev->viommu = viommu;
	vdev->idev = idev;
	INIT_LIST_HEAD(&vdev->node);
	refcount_inc(&viommu->obj.users);
	idev->vdev = vdev;

	pthread_mutex_lock(&viommu->lock);
	list_for_each_entry(cur, &viommu->vdevs, node)
	{
		if (cur->virt_id == vdev->virt_id) {
			rc = -EEXIST;
			goto out_unlock_viommu;
		}
	}
	if (viommu->core->ops->vdevice_init) {
		rc = viommu->core->ops->vdevice_init(viommu->core, idev->dev, vdev->virt_id);
		if (rc)
			goto out_unlock_viommu;
	}
	vdev->initialized = true;
	list_add_tail(&vdev->node, &viommu->vdevs);
	pthread_mutex_unlock(&viommu->lock);

	cmd->out_vdevice_id = vdev->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_abort;
	/* The vDEVICE keeps the device with the get's short-term reference. */
	iommufd_ref_to_shortterm(&idev->obj);
	iommufd_object_finalize(ucmd->ictx, &vdev->obj);
	pthread_mutex_unlock(&idev->lock);
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return 0;

out_unlock_viommu:
	pthread_mutex_unlock(&viommu->lock);
out_abort:
	iommufd_vdevice_unlink(vdev);
	iommufd_object_abort(ucmd->ictx, &vdev->obj);
out_unlock_idev:
	pthread_mutex_unlock(&idev->lock);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
out_put_viommu:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* HW queues                                                          */

/* The pinned range: page-aligned start and length around [base, base + length). */
static int hw_queue_pin_range(uint64_t base, uint64_t length, uint64_t *aligned, uint64_t *len)
{
	uint64_t offset = base & (PAGE_SIZE - 1), total;

	if (__builtin_add_overflow(offset, length, &total) ||
	    __builtin_add_overflow(total, PAGE_SIZE - 1, &total))
		return -ERANGE;
	*aligned = base - offset;
	*len = total & PAGE_MASK;
	return 0;
}

void iommufd_hw_queue_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_queue *hw_queue = container_of(obj, struct iommufd_hw_queue, obj);
	struct iommufd_viommu *viommu = hw_queue->viommu;

	if (hw_queue->initialized) {
		int rc = 0;

		pthread_mutex_lock(&viommu->lock);
		if (viommu->core->ops->hw_queue_destroy)
			rc = viommu->core->ops->hw_queue_destroy(viommu->core, hw_queue->index);
		list_del(&hw_queue->node);
		pthread_mutex_unlock(&viommu->lock);
		/* Cannot happen: a queue depending on this one holds it. */
		if (rc)
			ulog_warn("iommufd: HW queue %u: the model refused to destroy it (%d)",
				  obj->id, rc);
	}
	if (hw_queue->prev)
		refcount_dec(&hw_queue->prev->obj.users);
	if (hw_queue->access) {
		uint64_t aligned, len;

		if (!hw_queue_pin_range(hw_queue->base_addr, hw_queue->length, &aligned, &len))
			iommufd_access_unpin_pages(hw_queue->access, aligned, len);
		iommufd_access_detach(hw_queue->access);
		iommufd_access_destroy(hw_queue->access);
	}
	if (viommu)
		refcount_dec(&viommu->obj.users);
}

/*
 * Pin the guest queue through an internal access on the nesting parent's
 * IOAS; *base gets the host address of its first byte.
 */
static struct iommufd_access *iommufd_hw_queue_alloc_phys(struct iommu_hw_queue_alloc *cmd,
							  struct iommufd_viommu *viommu,
							  void **base)
{
	struct iommufd_access *access;
	uint64_t aligned, len, npages;
	void **pages;
	int rc;

	rc = hw_queue_pin_range(cmd->nesting_parent_iova, cmd->length, &aligned, &len);
	if (rc)
		return ERR_PTR(rc);
	npages = len / PAGE_SIZE;
	pages = ucalloc(npages, sizeof(*pages));
	if (!pages)
		return ERR_PTR(-ENOMEM);

	access = iommufd_access_create_internal(viommu->ictx);
	if (IS_ERR(access)) {
		rc = (int)PTR_ERR(access);
		goto out_free;
	}
	rc = iommufd_access_attach_internal(access, viommu->hwpt->ioas);
	if (rc)
		goto out_destroy;
	rc = iommufd_access_pin_pages(access, aligned, len, pages, 0);
	if (rc)
		goto out_detach;
	/* The model reads the queue as one physical range. */
	for (uint64_t i = 1; i < npages; i++) {
		if ((uintptr_t)pages[i] != (uintptr_t)pages[i - 1] + PAGE_SIZE) {
			rc = -EFAULT;
			goto out_unpin;
		}
	}
	*base = (uint8_t *)pages[0] + (cmd->nesting_parent_iova - aligned);
	ufree(pages);
	return access;

out_unpin:
	iommufd_access_unpin_pages(access, aligned, len);
out_detach:
	iommufd_access_detach(access);
out_destroy:
	iommufd_access_destroy(access);
out_free:
	ufree(pages);
	return ERR_PTR(rc);
}

int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_queue_alloc *cmd = ucmd->cmd;
	struct iommufd_hw_queue *hw_queue, *cur;
	struct iommufd_viommu *viommu;
	struct iommufd_access *access;
	void *base = NULL;
	uint64_t last;
	int rc;

	if (cmd->flags || cmd->type == IOMMU_HW_QUEUE_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->nesting_parent_iova, cmd->length - 1, &last))
		return -EOVERFLOW;

	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id);
	if (IS_ERR(viommu))
		return (int)PTR_ERR(viommu);
	if (!viommu->core->ops->hw_queue_init) {
		rc = -EOPNOTSUPP;
		goto out_put_viommu;
	}

	hw_queue = iommufd_object_alloc_ucmd(ucmd, hw_queue, IOMMUFD_OBJ_HW_QUEUE);
	if (IS_ERR(hw_queue)) {
		rc = (int)PTR_ERR(hw_queue);
		goto out_put_viommu;
	}
	INIT_LIST_HEAD(&hw_queue->node);

	access = iommufd_hw_queue_alloc_phys(cmd, viommu, &base);
	if (IS_ERR(access)) {
		rc = (int)PTR_ERR(access);
		goto out_put_viommu;
	}
	hw_queue->viommu = viommu;
	refcount_inc(&viommu->obj.users);
	hw_queue->access = access;
	hw_queue->type = cmd->type;
	hw_queue->index = cmd->index;
	hw_queue->base_addr = cmd->nesting_parent_iova;
	hw_queue->length = cmd->length;

	pthread_mutex_lock(&viommu->lock);
	rc = viommu->core->ops->hw_queue_init(viommu->core, cmd->type, cmd->index, base,
					      cmd->length);
	if (!rc) {
		hw_queue->initialized = true;
		/* Queue i depends on queue i - 1. */
		list_for_each_entry(cur, &viommu->hw_queues, node)
		{
			if (cmd->index && cur->index == cmd->index - 1) {
				hw_queue->prev = cur;
				refcount_inc(&cur->obj.users);
				break;
			}
		}
		list_add_tail(&hw_queue->node, &viommu->hw_queues);
	}
	pthread_mutex_unlock(&viommu->lock);
	if (rc)
		goto out_put_viommu;

	cmd->out_hw_queue_id = hw_queue->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));

out_put_viommu:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}
