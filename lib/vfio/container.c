// SPDX-License-Identifier: MIT
/*
 * container.c - the VFIO container, /dev/vfio/vfio.
 *
 * What it owns. Each open of /dev/vfio/vfio is a new container: an iommufd
 * context (lib/iommufd) whose type1 ioctls answer as VFIO's type1 driver
 * does (vfio_compat.c, ictx->vfio_type1), plus the groups set to it. As in
 * Linux with CONFIG_IOMMUFD_VFIO_CONTAINER, there is one IOMMU engine and
 * the container is a context of it; the type1 rules of reference vfio.md
 * §3.5 to §3.8 are applied on top of the IOAS, not by a second
 * implementation. The container's file offers only the VFIO ioctls:
 *
 *   GET_API_VERSION   VFIO_API_VERSION (0)
 *   CHECK_EXTENSION   type1's answer (before SET_IOMMU too, as Linux polls
 *                     its backends); 0 for sPAPR, no-IOMMU and the unknown
 *   SET_IOMMU         EINVAL without a group or once set; then type1 opens
 *                     (TYPE1, TYPE1v2, TYPE1_NESTING; UNMAP_ALL EINVAL;
 *                     anything else ENODEV: no such backend) and every
 *                     group's devices are bound to the context and attached
 *                     to its IOAS; a failure unwinds all of it
 *   +18 / +19 / +20   on a TYPE1_NESTING container: SET_PASID_TABLE,
 *                     CACHE_INVALIDATE, SET_MSI_BINDING (container_nested.c);
 *                     on another type1 container ENOTTY, as Linux
 *   anything else     EINVAL until SET_IOMMU, then type1's (ENOTTY for what
 *                     it does not know)
 *
 * There is no "unset": when the last group leaves, the backend goes with
 * every mapping and the container is as new. A group joining an open
 * container is attached at once (EBUSY while a mapping's vaddr is invalid;
 * EINVAL when its IOMMU cannot map what is already mapped: an aperture or
 * reserved region conflict).
 *
 * Lifetime: every group set to the container holds a reference on its
 * file, and every device bound to its context one more (the iommufd
 * device's context reference), so closing the container's fd first is
 * fine: the container lives until its last group has left.
 *
 * Locks: group_lock (a rwlock) guards group_list and changes of iommu_set;
 * ioctls hold it for reading, SET_IOMMU and group attach / detach for
 * writing. Opening a device reads iommu_set without it (atomic), because
 * the device's lock, held there, comes after it.
 * Callers of the group functions hold the group's lock, which comes first.
 * The groups of a container are open, so their device lists are stable.
 */
#include <errno.h>

#include "util/alloc.h"
#include "util/log.h"
#include "vfio/vfio_private.h"

struct vfio_container {
	struct uiommu_file *file;
	struct iommufd_ctx *ictx;
	pthread_rwlock_t group_lock;
	struct list_head group_list; /* vfio_group::container_next */
	atomic_bool iommu_set;	     /* written under group_lock (write); read without it */
	atomic_bool nesting;	     /* iommu_set with VFIO_TYPE1_NESTING_IOMMU (same rules) */
	uint32_t ioas_id;	     /* the IOAS the groups' devices attach to, once set */
};

/* ------------------------------------------------------------------ */
/* The devices of a group on the container's IOAS                     */

static void vfio_group_unbind_devices(struct vfio_group *group, struct vfio_device_core *upto)
{
	struct vfio_device_core *core;

	list_for_each_entry(core, &group->device_list, group_next)
	{
		if (core == upto)
			break;
		pthread_mutex_lock(&core->lock);
		if (core->container_bound) {
			vfio_device_unbind_iommufd(core->vdev);
			core->container_bound = false;
		}
		pthread_mutex_unlock(&core->lock);
	}
}

static int vfio_group_bind_devices(struct vfio_container *container, struct vfio_group *group)
{
	struct vfio_device_core *core;
	int rc = 0;

	list_for_each_entry(core, &group->device_list, group_next)
	{
		pthread_mutex_lock(&core->lock);
		rc = vfio_device_bind_iommufd(core->vdev, container->ictx, container->ioas_id);
		if (!rc)
			core->container_bound = true;
		pthread_mutex_unlock(&core->lock);
		if (rc) {
			vfio_group_unbind_devices(group, core);
			/* type1 reports an aperture or reserved-region conflict as EINVAL. */
			return rc == -EADDRINUSE ? -EINVAL : rc;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* SET_IOMMU                                                          */

static long vfio_ioctl_set_iommu(struct vfio_container *container, unsigned long type)
{
	struct vfio_group *group, *failed = NULL;
	int rc;

	pthread_rwlock_wrlock(&container->group_lock);
	/*
	 * Only a container with a group may enable an IOMMU (a group is the
	 * privilege); and there is no second SET_IOMMU.
	 */
	if (list_empty(&container->group_list) || container->iommu_set) {
		rc = -EINVAL;
		goto out_unlock;
	}
	rc = iommufd_vfio_container_open(container->ictx, type, &container->ioas_id);
	if (rc)
		goto out_unlock;
	list_for_each_entry(group, &container->group_list, container_next)
	{
		rc = vfio_group_bind_devices(container, group);
		if (rc) {
			failed = group;
			break;
		}
	}
	if (rc) {
		list_for_each_entry(group, &container->group_list, container_next)
		{
			if (group == failed)
				break;
			vfio_group_unbind_devices(group, NULL);
		}
		iommufd_vfio_container_close(container->ictx);
		goto out_unlock;
	}
	atomic_store_explicit(&container->nesting, type == VFIO_TYPE1_NESTING_IOMMU,
			      memory_order_relaxed);
	atomic_store_explicit(&container->iommu_set, true, memory_order_release);
out_unlock:
	pthread_rwlock_unlock(&container->group_lock);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Groups                                                             */

int vfio_container_attach_group(struct vfio_container *container, struct vfio_group *group)
{
	int rc = 0;

	pthread_rwlock_wrlock(&container->group_lock);
	if (container->iommu_set) {
		rc = iommufd_vfio_container_attach_begin(container->ictx);
		if (rc)
			goto out_unlock;
		rc = vfio_group_bind_devices(container, group);
		iommufd_vfio_container_attach_end(container->ictx);
		if (rc)
			goto out_unlock;
	}
	list_add_tail(&group->container_next, &container->group_list);
	group->container = container;
	group->container_users = 1;
	/* The group keeps the container alive. */
	ufile_get(container->file);
out_unlock:
	pthread_rwlock_unlock(&container->group_lock);
	return rc;
}

void vfio_group_detach_container(struct vfio_group *group)
{
	struct vfio_container *container = group->container;

	pthread_rwlock_wrlock(&container->group_lock);
	if (container->iommu_set)
		vfio_group_unbind_devices(group, NULL);
	list_del_init(&group->container_next);
	/* The last group takes the IOMMU backend and every mapping with it. */
	if (container->iommu_set && list_empty(&container->group_list)) {
		iommufd_vfio_container_close(container->ictx);
		atomic_store_explicit(&container->iommu_set, false, memory_order_release);
		atomic_store_explicit(&container->nesting, false, memory_order_relaxed);
		container->ioas_id = 0;
	}
	pthread_rwlock_unlock(&container->group_lock);
	group->container = NULL;
	group->container_users = 0;
	ufile_put(container->file);
}

int vfio_group_use_container(struct vfio_group *group)
{
	struct vfio_container *container = group->container;

	/*
	 * Called under the group's lock and a device's lock, so the container
	 * lock (above the device's) cannot be taken: iommu_set is read
	 * atomically. It cannot go back to false meanwhile, since that takes
	 * this group's leaving, and its lock is ours.
	 */
	if (!atomic_load_explicit(&container->iommu_set, memory_order_acquire))
		return -EINVAL; /* SET_CONTAINER done, SET_IOMMU not yet */
	group->container_users++;
	return 0;
}

void vfio_group_unuse_container(struct vfio_group *group)
{
	group->container_users--;
}

bool vfio_group_container_nesting(struct vfio_group *group)
{
	struct vfio_container *container = group->container;

	/* As iommu_set in vfio_group_use_container(): stable while the group's lock is ours. */
	return container && atomic_load_explicit(&container->iommu_set, memory_order_acquire) &&
	       atomic_load_explicit(&container->nesting, memory_order_relaxed);
}

int vfio_container_for_each_device(struct vfio_container *container,
				   int (*fn)(struct vfio_device_core *core, void *arg), void *arg)
{
	struct vfio_device_core *core;
	struct vfio_group *group;
	int rc;

	list_for_each_entry(group, &container->group_list, container_next)
	{
		list_for_each_entry(core, &group->device_list, group_next)
		{
			/* Bindings change only under the group lock's write side. */
			if (!core->container_bound)
				continue;
			rc = fn(core, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The container file                                                 */

static long vfio_container_fops_ioctl(struct uiommu_file *file, unsigned long request,
				      unsigned long arg)
{
	struct vfio_container *container = file->private_data;
	unsigned int cmd = (unsigned int)request;
	long rc = -EINVAL;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_SET_IOMMU:
		return vfio_ioctl_set_iommu(container, arg);
	case VFIO_CHECK_EXTENSION:
		/* No base extension: the (only) backend answers, set or not. */
		pthread_rwlock_rdlock(&container->group_lock);
		rc = iommufd_vfio_ioctl(container->ictx, cmd, arg);
		pthread_rwlock_unlock(&container->group_lock);
		return rc;
	case VFIO_IOMMU_SET_PASID_TABLE:
	case VFIO_IOMMU_CACHE_INVALIDATE:
	case VFIO_IOMMU_SET_MSI_BINDING:
		/* The nested extension's numbers, on a nesting container only. */
		pthread_rwlock_rdlock(&container->group_lock);
		if (container->iommu_set && container->nesting)
			rc = vfio_container_nested_ioctl(container, cmd, arg);
		else if (container->iommu_set)
			rc = iommufd_vfio_ioctl(container->ictx, cmd, arg);
		pthread_rwlock_unlock(&container->group_lock);
		return rc;
	default:
		pthread_rwlock_rdlock(&container->group_lock);
		if (container->iommu_set)
			rc = iommufd_vfio_ioctl(container->ictx, cmd, arg);
		pthread_rwlock_unlock(&container->group_lock);
		return rc;
	}
}

static void vfio_container_fops_release(struct uiommu_file *file)
{
	struct vfio_container *container = file->private_data;

	/* No group is left (each held a reference): only the context remains. */
	iommufd_ctx_free(container->ictx);
	pthread_rwlock_destroy(&container->group_lock);
	ufree(container);
}

static const struct ufile_ops vfio_container_fops = {
	.name = "vfio-container",
	.ioctl = vfio_container_fops_ioctl,
	.release = vfio_container_fops_release,
	.fmode = UFILE_FMODE_PREAD, /* a character device opened by path */
};

struct vfio_container *vfio_container_from_file(struct uiommu_file *file)
{
	return file && file->ops == &vfio_container_fops ? file->private_data : NULL;
}

struct uiommu_file *vfio_container_fops_open(int flags, int *err)
{
	struct vfio_container *container;
	struct uiommu_file *file;
	int rc;

	container = uzalloc(sizeof(*container));
	if (!container) {
		*err = -ENOMEM;
		return NULL;
	}
	container->ictx = iommufd_ctx_alloc(err);
	if (!container->ictx)
		goto err_free;
	rc = iommufd_vfio_container_init(container->ictx);
	if (rc) {
		*err = rc;
		goto err_ctx;
	}
	INIT_LIST_HEAD(&container->group_list);
	pthread_rwlock_init(&container->group_lock, NULL);
	file = ufile_create(&vfio_container_fops, container, UFILE_BACKING_MEMFD, flags, err);
	if (!file) {
		pthread_rwlock_destroy(&container->group_lock);
		goto err_ctx;
	}
	/* The context's references (iommufd_ctx_get()) are references on this file. */
	container->ictx->file = file;
	container->file = file;
	return file;

err_ctx:
	iommufd_ctx_free(container->ictx);
err_free:
	ufree(container);
	return NULL;
}
