// SPDX-License-Identifier: MIT
/*
 * container_nested.c - the nested extension's container ioctls (VFIO v13
 * patches 01-03, over the IOMMU part v15; reference vfio.md §2.3-§2.5) on a
 * VFIO_TYPE1_NESTING_IOMMU container: the host keeps stage 2 (MAP_DMA),
 * the program hands over the guest's stage-1 configuration, its
 * invalidations and its MSI doorbell binding.
 *
 *   SET_PASID_TABLE (+18)  argsz >= 8 (EINVAL); flags exactly SET: every
 *        domain of the container gets the embedded struct
 *        iommu_pasid_table_config (by user pointer, validated by its own
 *        argsz in lib/hw's iommu_nested.c, then the model); the first
 *        failure detaches the domains already done and is returned.
 *        Exactly UNSET: every domain detaches, always 0. Else EINVAL.
 *   CACHE_INVALIDATE (+19) argsz >= 8, flags 0 (EINVAL); for every device
 *        of every domain, the embedded struct iommu_cache_invalidate_info
 *        (user pointer, validated by its own argsz); stops at the first
 *        error and returns it; 0 with no device.
 *   SET_MSI_BINDING (+20)  argsz >= 32 even to unbind (EINVAL); exactly
 *        BIND: (iova, gpa, size) in every domain, unwound on failure;
 *        exactly UNBIND: iova unbound in every domain, always 0; else
 *        EINVAL.
 *
 * The container's domains are the ones its bound devices are attached to
 * (one auto-made NEST_PARENT stage-2 domain per compatible IOMMU in
 * practice), each counted once. Models without the ops answer ENODEV
 * (the mock: it cannot take a PASID table).
 *
 * vfio_device_guest_msi_iova: a device model's question, from its own
 * thread while the device is open (so its binding stays): the domain's
 * answer (iommu_guest_msi_iova), ENOENT when it has none.
 *
 * Locks: called with the container's group lock held for reading, so no
 * device binds, unbinds or changes domain meanwhile; nested_lock
 * serialises these ioctls (one lock for every container: they are rare
 * control operations, and a model's domain needs them one at a time).
 */
#include <errno.h>

#include "util/alloc.h"
#include "util/uaccess.h"
#include "vfio/vfio_private.h"

static pthread_mutex_t nested_lock = PTHREAD_MUTEX_INITIALIZER;

/* The container's distinct domains, in device order. */
struct nested_domains {
	struct iommu_domain **d;
	unsigned int n, cap;
	int err;
};

static struct iommu_domain *core_domain(struct vfio_device_core *core)
{
	struct iommufd_hw_pagetable *hwpt;

	if (!core->idev)
		return NULL;
	hwpt = iommufd_device_attached_hwpt(core->idev, IOMMU_NO_PASID);
	return hwpt ? hwpt->domain : NULL;
}

static int collect_domain(struct vfio_device_core *core, void *arg)
{
	struct nested_domains *nd = arg;
	struct iommu_domain *domain = core_domain(core);

	if (!domain)
		return 0;
	for (unsigned int i = 0; i < nd->n; i++)
		if (nd->d[i] == domain)
			return 0;
	if (nd->n == nd->cap) {
		unsigned int cap = nd->cap ? 2 * nd->cap : 4;
		struct iommu_domain **d = ucalloc(cap, sizeof(*d));

		if (!d)
			return -ENOMEM;
		for (unsigned int i = 0; i < nd->n; i++)
			d[i] = nd->d[i];
		ufree(nd->d);
		nd->d = d;
		nd->cap = cap;
	}
	nd->d[nd->n++] = domain;
	return 0;
}

static int get_domains(struct vfio_container *container, struct nested_domains *nd)
{
	*nd = (struct nested_domains){0};
	return vfio_container_for_each_device(container, collect_domain, nd);
}

static void put_domains(struct nested_domains *nd)
{
	ufree(nd->d);
}

/* ------------------------------------------------------------------ */
/* SET_PASID_TABLE                                                    */

static long set_pasid_table(struct vfio_container *container, void *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_set_pasid_table, flags);
	struct vfio_iommu_type1_set_pasid_table spt;
	struct nested_domains nd;
	unsigned int i;
	int rc;

	if (copy_from_user(&spt, arg, minsz))
		return -EFAULT;
	if (spt.argsz < minsz)
		return -EINVAL;
	if (spt.flags != VFIO_PASID_TABLE_FLAG_SET && spt.flags != VFIO_PASID_TABLE_FLAG_UNSET)
		return -EINVAL;
	rc = get_domains(container, &nd);
	if (rc)
		goto out;
	if (spt.flags == VFIO_PASID_TABLE_FLAG_UNSET) {
		for (i = 0; i < nd.n; i++)
			iommu_detach_pasid_table(nd.d[i]);
		goto out;
	}
	for (i = 0; i < nd.n; i++) {
		rc = iommu_uapi_attach_pasid_table(nd.d[i], uptr_add(arg, minsz));
		if (rc)
			break;
	}
	if (rc)
		while (i--)
			iommu_detach_pasid_table(nd.d[i]);
out:
	put_domains(&nd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* CACHE_INVALIDATE                                                   */

static int invalidate_one(struct vfio_device_core *core, void *arg)
{
	struct iommu_domain *domain = core_domain(core);

	if (!domain)
		return 0;
	return iommu_uapi_cache_invalidate(domain, core->vdev->dev, arg);
}

static long cache_invalidate(struct vfio_container *container, void *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_cache_invalidate, flags);
	struct vfio_iommu_type1_cache_invalidate ci;

	if (copy_from_user(&ci, arg, minsz))
		return -EFAULT;
	if (ci.argsz < minsz || ci.flags)
		return -EINVAL;
	return vfio_container_for_each_device(container, invalidate_one, uptr_add(arg, minsz));
}

/* ------------------------------------------------------------------ */
/* SET_MSI_BINDING                                                    */

static long set_msi_binding(struct vfio_container *container, void *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_set_msi_binding, size);
	struct vfio_iommu_type1_set_msi_binding msi;
	struct nested_domains nd;
	unsigned int i;
	int rc;

	if (copy_from_user(&msi, arg, minsz))
		return -EFAULT;
	if (msi.argsz < minsz)
		return -EINVAL;
	if (msi.flags != VFIO_IOMMU_BIND_MSI && msi.flags != VFIO_IOMMU_UNBIND_MSI)
		return -EINVAL;
	rc = get_domains(container, &nd);
	if (rc)
		goto out;
	if (msi.flags == VFIO_IOMMU_UNBIND_MSI) {
		for (i = 0; i < nd.n; i++)
			iommu_unbind_guest_msi(nd.d[i], msi.iova);
		goto out;
	}
	for (i = 0; i < nd.n; i++) {
		rc = iommu_bind_guest_msi(nd.d[i], msi.iova, msi.gpa, msi.size);
		if (rc)
			break;
	}
	if (rc)
		while (i--)
			iommu_unbind_guest_msi(nd.d[i], msi.iova);
out:
	put_domains(&nd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Where the device's messages go                                     */

int vfio_device_guest_msi_iova(struct vfio_device *vdev, uint64_t *iova)
{
	struct iommu_domain *domain;

	if (!vdev->core)
		return -ENOENT;
	domain = core_domain(vdev->core);
	if (!domain)
		return -ENOENT;
	return iommu_guest_msi_iova(domain, iova);
}

long vfio_container_nested_ioctl(struct vfio_container *container, unsigned int cmd,
				 unsigned long arg)
{
	void *uarg = (void *)arg;
	long rc;

	pthread_mutex_lock(&nested_lock);
	switch (cmd) {
	case VFIO_IOMMU_SET_PASID_TABLE:
		rc = set_pasid_table(container, uarg);
		break;
	case VFIO_IOMMU_CACHE_INVALIDATE:
		rc = cache_invalidate(container, uarg);
		break;
	case VFIO_IOMMU_SET_MSI_BINDING:
		rc = set_msi_binding(container, uarg);
		break;
	default:
		rc = -ENOTTY;
		break;
	}
	pthread_mutex_unlock(&nested_lock);
	return rc;
}
