// SPDX-License-Identifier: MIT
/*
 * device_cdev.c - the VFIO device cdev, /dev/vfio/devices/vfio<N>
 * (reference vfio.md §5; Linux's device_cdev.c).
 *
 * What it owns. Opening the cdev gives a device file without access: every
 * ioctl but VFIO_DEVICE_BIND_IOMMUFD, and read / write / mmap, are EINVAL
 * until a bind succeeds (vfio_main.c checks access_granted).
 *
 *   BIND_IOMMUFD     argsz >= 16, flags 0, iommufd >= 0 (EINVAL); only on
 *                    a cdev fd (a group-path fd: EINVAL); the device's
 *                    group must not be open (EBUSY; while bound, the group
 *                    cannot be opened either); bound already, or opened
 *                    elsewhere: EINVAL; the fd: EBADF when not open, EBADFD
 *                    when not an iommufd. Binds the device (the iommufd
 *                    DEVICE object, its ID written to out_devid), opens it.
 *   ATTACH_IOMMUFD_PT  argsz >= 12 and flags within ATTACH_PASID (EINVAL);
 *                    with the PASID flag argsz >= 16. pt_id names an IOAS
 *                    (an automatic HWPT is found or made) or a HWPT; the
 *                    HWPT attached is written back to pt_id. An attached
 *                    RID or PASID is replaced, not refused.
 *   DETACH_IOMMUFD_PT  argsz >= 8, flags within DETACH_PASID, with it
 *                    argsz >= 12; back to blocking DMA; a no-op when not
 *                    attached. Never fails otherwise.
 * Closing the fd unbinds: every attachment goes, then the binding; the
 * group may be opened again.
 *
 * PASIDs: every device here is PCI-shaped and has the PASID ops, as
 * vfio-pci does; whether the device can use a PASID is lib/iommufd's
 * answer (EINVAL for a device without PASID support or a PASID out of its
 * width). PASID 0 is EINVAL: lib/iommufd uses it for the RID.
 *
 * Locks: core->lock (Linux's dev_set lock) around bind, attach and detach;
 * the group lock briefly to block the group.
 */
#include <errno.h>
#include <fcntl.h>

#include "util/alloc.h"
#include "vfio/vfio_private.h"

struct uiommu_file *vfio_device_fops_cdev_open(struct vfio_device *vdev, int flags, int *err)
{
	struct vfio_device_file *df;
	struct uiommu_file *file;

	/* The caller counted this file for the registry. */
	df = vfio_allocate_device_file(vdev);
	if (!df) {
		*err = -ENOMEM;
		goto err_put;
	}
	file = ufile_create(&vfio_device_fops, df, UFILE_BACKING_MEMFD, flags, err);
	if (!file) {
		ufree(df);
		goto err_put;
	}
	df->file = file;
	return file;

err_put:
	vfio_device_put_file(vdev);
	return NULL;
}

/* iommufd_ctx_from_fd(): EBADF when @fd is not open, EBADFD when it is no iommufd. */
static struct iommufd_ctx *vfio_iommufd_ctx_from_fd(int fd)
{
	struct uiommu_file *file = ufile_lookup(fd);
	struct iommufd_ctx *ictx;

	if (!file)
		return ERR_PTR(fcntl(fd, F_GETFD) >= 0 ? -EBADFD : -EBADF);
	ictx = iommufd_ctx_from_file(file);
	ufile_put(file);
	return IS_ERR(ictx) ? ERR_PTR(-EBADFD) : ictx;
}

long vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df, void *arg)
{
	size_t minsz = offsetofend(struct vfio_device_bind_iommufd, out_devid);
	struct vfio_device *vdev = df->device;
	struct vfio_device_core *core = vfio_core(vdev);
	struct vfio_device_bind_iommufd bind;
	struct iommufd_ctx *ictx;
	int rc;

	if (copy_from_user(&bind, arg, minsz))
		return -EFAULT;
	if (bind.argsz < minsz || bind.flags || bind.iommufd < 0)
		return -EINVAL;
	/* Only a cdev fd binds. */
	if (df->group)
		return -EINVAL;
	rc = vfio_device_block_group(vdev);
	if (rc)
		return rc;

	pthread_mutex_lock(&core->lock);
	/* One device cannot be bound twice. */
	if (atomic_load(&df->access_granted)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	ictx = vfio_iommufd_ctx_from_fd(bind.iommufd);
	if (IS_ERR(ictx)) {
		rc = (int)PTR_ERR(ictx);
		goto out_unlock;
	}
	df->iommufd = ictx;
	rc = vfio_df_open(df);
	if (rc)
		goto out_put_ctx;
	if (copy_to_user(uptr_add(arg, offsetof(struct vfio_device_bind_iommufd, out_devid)),
			 &core->devid, sizeof(core->devid))) {
		rc = -EFAULT;
		goto out_close;
	}
	core->cdev_opened = true;
	atomic_store_explicit(&df->access_granted, true, memory_order_release);
	pthread_mutex_unlock(&core->lock);
	return 0;

out_close:
	vfio_df_close(df);
out_put_ctx:
	iommufd_ctx_put(ictx);
	df->iommufd = NULL;
out_unlock:
	pthread_mutex_unlock(&core->lock);
	vfio_device_unblock_group(vdev);
	return rc;
}

void vfio_df_unbind_iommufd(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;
	struct vfio_device_core *core = vfio_core(vdev);

	/* Closing: nobody else can change access_granted now. */
	if (!atomic_load(&df->access_granted))
		return;
	pthread_mutex_lock(&core->lock);
	vfio_df_close(df);
	core->cdev_opened = false;
	pthread_mutex_unlock(&core->lock);
	iommufd_ctx_put(df->iommufd);
	df->iommufd = NULL;
	vfio_device_unblock_group(vdev);
}

long vfio_df_ioctl_attach_pt(struct vfio_device_file *df, void *arg)
{
	size_t minsz = offsetofend(struct vfio_device_attach_iommufd_pt, pt_id);
	size_t xend = offsetofend(struct vfio_device_attach_iommufd_pt, pasid);
	struct vfio_device_core *core = vfio_core(df->device);
	struct vfio_device_attach_iommufd_pt attach = {0};
	bool pasid_mode;
	int rc;

	if (copy_from_user(&attach, arg, minsz))
		return -EFAULT;
	if (attach.argsz < minsz || attach.flags & ~VFIO_DEVICE_ATTACH_PASID)
		return -EINVAL;
	pasid_mode = attach.flags & VFIO_DEVICE_ATTACH_PASID;
	if (pasid_mode) {
		if (attach.argsz < xend)
			return -EINVAL;
		if (copy_from_user(&attach.pasid, uptr_add(arg, minsz), xend - minsz))
			return -EFAULT;
	}

	/* PASID 0 is how the IOMMU layer names the RID: not a PASID here. */
	if (pasid_mode && attach.pasid == IOMMU_NO_PASID)
		return -EINVAL;

	pthread_mutex_lock(&core->lock);
	if (pasid_mode) {
		if (iommufd_device_attached_hwpt(core->idev, attach.pasid))
			rc = iommufd_device_replace(core->idev, attach.pasid, &attach.pt_id);
		else
			rc = iommufd_device_attach(core->idev, attach.pasid, &attach.pt_id);
	} else if (core->iommufd_attached) {
		rc = iommufd_device_replace(core->idev, IOMMU_NO_PASID, &attach.pt_id);
	} else {
		rc = iommufd_device_attach(core->idev, IOMMU_NO_PASID, &attach.pt_id);
		if (!rc)
			core->iommufd_attached = true;
	}
	if (rc)
		goto out_unlock;
	if (copy_to_user(uptr_add(arg, offsetof(struct vfio_device_attach_iommufd_pt, pt_id)),
			 &attach.pt_id, sizeof(attach.pt_id))) {
		rc = -EFAULT;
		iommufd_device_detach(core->idev, pasid_mode ? attach.pasid : IOMMU_NO_PASID);
		if (!pasid_mode)
			core->iommufd_attached = false;
	}
out_unlock:
	pthread_mutex_unlock(&core->lock);
	return rc;
}

long vfio_df_ioctl_detach_pt(struct vfio_device_file *df, void *arg)
{
	size_t minsz = offsetofend(struct vfio_device_detach_iommufd_pt, flags);
	size_t xend = offsetofend(struct vfio_device_detach_iommufd_pt, pasid);
	struct vfio_device_core *core = vfio_core(df->device);
	struct vfio_device_detach_iommufd_pt detach = {0};

	if (copy_from_user(&detach, arg, minsz))
		return -EFAULT;
	if (detach.argsz < minsz || detach.flags & ~VFIO_DEVICE_DETACH_PASID)
		return -EINVAL;
	if (detach.flags & VFIO_DEVICE_DETACH_PASID) {
		if (detach.argsz < xend)
			return -EINVAL;
		if (copy_from_user(&detach.pasid, uptr_add(arg, minsz), xend - minsz))
			return -EFAULT;
	}

	if ((detach.flags & VFIO_DEVICE_DETACH_PASID) && detach.pasid == IOMMU_NO_PASID)
		return -EINVAL;

	pthread_mutex_lock(&core->lock);
	if (detach.flags & VFIO_DEVICE_DETACH_PASID) {
		iommufd_device_detach(core->idev, detach.pasid);
	} else if (core->iommufd_attached) {
		iommufd_device_detach(core->idev, IOMMU_NO_PASID);
		core->iommufd_attached = false;
	}
	pthread_mutex_unlock(&core->lock);
	return 0;
}
