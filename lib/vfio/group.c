// SPDX-License-Identifier: MIT
/*
 * group.c - the VFIO group file, /dev/vfio/<group>.
 *
 * What it owns. A group is the set of devices its IOMMU cannot isolate
 * from each other (here: whatever the topology put under one number); the
 * group file is how a program takes them, as Linux's group.c:
 *
 *   open              one file at a time (EBUSY), and not while one of its
 *                     devices is bound through its cdev (EBUSY)
 *   GET_STATUS        VIABLE | CONTAINER_SET once set to a container or an
 *                     iommufd; VIABLE alone while no device of the group
 *                     has another DMA owner
 *   SET_CONTAINER     the fd of a container (joins it: container.c) or of
 *                     an iommufd (its compat IOAS is made if missing; the
 *                     devices bind at their first open). EBADF: not an open
 *                     fd; EINVAL: set already; EBADFD: neither kind
 *   UNSET_CONTAINER   EINVAL when not set; EBUSY while a device opened
 *                     through the container is open
 *   GET_DEVICE_FD     by name (NUL-terminated, at most a page: EINVAL;
 *                     unknown: ENODEV); EINVAL before the group has an
 *                     IOMMU (no container or iommufd, or a container
 *                     without SET_IOMMU); a new fd (O_CLOEXEC) each time
 *   anything else     ENOTTY
 *
 * Closing the group file leaves the container or the iommufd. Device fds
 * hold a reference on the group file, so that happens after the last one.
 *
 * Locks: group->lock around each of these; see vfio_private.h for the
 * order.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "util/alloc.h"
#include "vfio/vfio_private.h"

bool vfio_group_has_iommu(struct vfio_group *group)
{
	return group->container || group->iommufd;
}

/* Some device of the group has a DMA owner (an iommufd binding). */
static bool vfio_group_dma_owner_claimed(struct vfio_group *group)
{
	struct vfio_device_core *core;

	list_for_each_entry(core, &group->device_list,
			    group_next) if (__atomic_load_n(&core->vdev->dev->iommufd_priv,
							    __ATOMIC_ACQUIRE)) return true;
	return false;
}

static int vfio_group_ioctl_get_status(struct vfio_group *group, void *arg)
{
	size_t minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, arg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;
	status.flags = 0;
	pthread_mutex_lock(&group->lock);
	if (vfio_group_has_iommu(group))
		status.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
	else if (!vfio_group_dma_owner_claimed(group))
		status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	pthread_mutex_unlock(&group->lock);
	return copy_to_user(arg, &status, minsz) ? -EFAULT : 0;
}

static int vfio_group_ioctl_set_container(struct vfio_group *group, void *arg)
{
	struct vfio_container *container;
	struct iommufd_ctx *ictx;
	struct uiommu_file *file;
	int32_t fd;
	int rc;

	if (copy_from_user(&fd, arg, sizeof(fd)))
		return -EFAULT;
	file = ufile_lookup(fd);
	if (!file)
		/* An open fd that is not one of ours is of the wrong kind. */
		return fd >= 0 && fcntl(fd, F_GETFD) >= 0 ? -EBADFD : -EBADF;

	pthread_mutex_lock(&group->lock);
	if (vfio_group_has_iommu(group)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	container = vfio_container_from_file(file);
	if (container) {
		rc = vfio_container_attach_group(container, group);
		goto out_unlock;
	}
	ictx = iommufd_ctx_from_file(file);
	if (!IS_ERR(ictx)) {
		rc = iommufd_vfio_compat_ioas_create(ictx);
		if (rc) {
			iommufd_ctx_put(ictx);
			goto out_unlock;
		}
		group->iommufd = ictx;
		goto out_unlock;
	}
	rc = -EBADFD;
out_unlock:
	pthread_mutex_unlock(&group->lock);
	ufile_put(file);
	return rc;
}

static int vfio_group_ioctl_unset_container(struct vfio_group *group)
{
	int rc = 0;

	pthread_mutex_lock(&group->lock);
	if (!vfio_group_has_iommu(group)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (group->container) {
		if (group->container_users != 1) {
			rc = -EBUSY;
			goto out_unlock;
		}
		vfio_group_detach_container(group);
	}
	if (group->iommufd) {
		iommufd_ctx_put(group->iommufd);
		group->iommufd = NULL;
	}
out_unlock:
	pthread_mutex_unlock(&group->lock);
	return rc;
}

/* strndup_user(arg, PAGE_SIZE): EFAULT, or EINVAL without a NUL in the first page. */
static char *vfio_strndup_user(const void *arg, int *err)
{
	char *buf = ualloc(PAGE_SIZE + 1);
	size_t i;

	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i <= PAGE_SIZE; i++) {
		if (copy_from_user(&buf[i], uptr_add(arg, i), 1)) {
			*err = -EFAULT;
			goto err_free;
		}
		if (!buf[i])
			return buf;
	}
	*err = -EINVAL;
err_free:
	ufree(buf);
	return NULL;
}

static int vfio_group_ioctl_get_device_fd(struct uiommu_file *group_file, struct vfio_group *group,
					  void *arg)
{
	struct vfio_device_file *df;
	struct vfio_device *vdev;
	struct uiommu_file *file;
	int rc = 0;
	char *name;

	name = vfio_strndup_user(arg, &rc);
	if (!name)
		return rc;
	pthread_mutex_lock(&group->lock);
	vdev = vfio_group_find_device(group, name);
	ufree(name);
	if (!vdev) {
		rc = -ENODEV;
		goto out_unlock;
	}
	df = vfio_allocate_device_file(vdev);
	if (!df) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	df->group = group;
	df->iommufd = group->iommufd;
	/* vfio_df_group_open(): the group needs an IOMMU first. */
	if (!vfio_group_has_iommu(group)) {
		rc = -EINVAL;
		goto err_free;
	}
	pthread_mutex_lock(&vfio_core(vdev)->lock);
	rc = vfio_df_open(df);
	pthread_mutex_unlock(&vfio_core(vdev)->lock);
	if (rc)
		goto err_free;
	vfio_device_get_file(vdev);
	file = vfio_device_file_create(df, &rc);
	if (!file)
		goto err_close;
	ufile_get(group_file);
	df->group_file = group_file;
	atomic_store_explicit(&df->access_granted, true, memory_order_release);
	rc = file->fd;
	goto out_unlock;

err_close:
	vfio_device_put_file(vdev);
	pthread_mutex_lock(&vfio_core(vdev)->lock);
	vfio_df_close(df);
	pthread_mutex_unlock(&vfio_core(vdev)->lock);
err_free:
	ufree(df);
out_unlock:
	pthread_mutex_unlock(&group->lock);
	return rc;
}

static long vfio_group_fops_ioctl(struct uiommu_file *file, unsigned long request,
				  unsigned long arg)
{
	struct vfio_group *group = file->private_data;
	void *uarg = (void *)arg;

	switch ((unsigned int)request) {
	case VFIO_GROUP_GET_DEVICE_FD:
		return vfio_group_ioctl_get_device_fd(file, group, uarg);
	case VFIO_GROUP_GET_STATUS:
		return vfio_group_ioctl_get_status(group, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		return vfio_group_ioctl_set_container(group, uarg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return vfio_group_ioctl_unset_container(group);
	default:
		return -ENOTTY;
	}
}

static void vfio_group_fops_release(struct uiommu_file *file)
{
	struct vfio_group *group = file->private_data;

	pthread_mutex_lock(&group->lock);
	/* Device fds hold this file: none is open any more. */
	if (group->container)
		vfio_group_detach_container(group);
	if (group->iommufd) {
		iommufd_ctx_put(group->iommufd);
		group->iommufd = NULL;
	}
	group->opened_file = NULL;
	pthread_mutex_unlock(&group->lock);
}

static const struct ufile_ops vfio_group_fops = {
	.name = "vfio-group",
	.ioctl = vfio_group_fops_ioctl,
	.release = vfio_group_fops_release,
	.fmode = UFILE_FMODE_PREAD, /* a character device opened by path */
};

struct uiommu_file *vfio_group_fops_open(struct vfio_group *group, int flags, int *err)
{
	struct uiommu_file *file = NULL;

	pthread_mutex_lock(&group->lock);
	if (group->cdev_device_open_cnt || group->opened_file) {
		*err = -EBUSY;
		goto out_unlock;
	}
	file = ufile_create(&vfio_group_fops, group, UFILE_BACKING_MEMFD, flags, err);
	if (file)
		group->opened_file = file;
out_unlock:
	pthread_mutex_unlock(&group->lock);
	return file;
}

int vfio_device_block_group(struct vfio_device *vdev)
{
	struct vfio_group *group = vfio_core(vdev)->group;
	int rc = 0;

	pthread_mutex_lock(&group->lock);
	if (group->opened_file)
		rc = -EBUSY;
	else
		group->cdev_device_open_cnt++;
	pthread_mutex_unlock(&group->lock);
	return rc;
}

void vfio_device_unblock_group(struct vfio_device *vdev)
{
	struct vfio_group *group = vfio_core(vdev)->group;

	pthread_mutex_lock(&group->lock);
	group->cdev_device_open_cnt--;
	pthread_mutex_unlock(&group->lock);
}
