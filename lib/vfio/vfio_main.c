// SPDX-License-Identifier: MIT
/*
 * vfio_main.c - the VFIO registry and the device file.
 *
 * What it owns. The topology: every registered struct vfio_device, the
 * groups they make up (created with a group's first device, freed with its
 * last), and the cdev numbers (lowest free first). The emulated paths under
 * /dev/vfio/ resolve here. And the device file, whichever way it was opened
 * (GET_DEVICE_FD on a group, or the cdev): its ioctls go to the cdev
 * handlers (BIND / ATTACH / DETACH), else to the PCI-shaped core
 * (vfio_pci_core.c, vfio_pci_intrs.c); read / write / mmap reach regions.
 * Until the file is granted access (opened through the group, or bound
 * through the cdev) everything but BIND_IOMMUFD is EINVAL, as in Linux.
 *
 * Opening a device (vfio_df_open): the group path may open one device many
 * times (each GET_DEVICE_FD is a new fd, open_count counts them); the cdev
 * path only when nothing else has it open (EINVAL). The first open binds
 * the device to its IOMMU context where the path asks for it (a group set
 * to an iommufd: bind and attach to the compat IOAS; a group in a
 * container: the container bound it already, the open only counts as a
 * container user) and calls the model's open_device; the last close undoes
 * it all, with every interrupt turned off first.
 *
 * Lifetime. A registered device stays until vfio_unregister_device(),
 * which refuses (EBUSY) while any of its files is open (device and cdev
 * files, mappings of its regions: core->files) or its group is open. Files
 * therefore never see a device go away. A device file of the group path
 * holds a reference on the group's file, so the group outlives it.
 *
 * Locks: see vfio_private.h. vfio_registry_lock guards the lists and the
 * cdev numbers; core->files is atomic.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"
#include "util/numparse.h"
#include "vfio/vfio_private.h"

pthread_mutex_t vfio_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(vfio_groups);
static LIST_HEAD(vfio_devices);
static unsigned int vfio_nr_devices;

/* ------------------------------------------------------------------ */
/* Registry                                                           */

static struct vfio_group *group_find_locked(unsigned int id)
{
	struct vfio_group *group;

	list_for_each_entry(group, &vfio_groups, registry_next) if (group->id == id) return group;
	return NULL;
}

static struct vfio_device *device_find_locked(const char *name)
{
	struct vfio_device_core *core;

	list_for_each_entry(core, &vfio_devices,
			    registry_next) if (!strcmp(core->vdev->name, name)) return core->vdev;
	return NULL;
}

static struct vfio_device *cdev_find_locked(unsigned int index)
{
	struct vfio_device_core *core;

	list_for_each_entry(core, &vfio_devices,
			    registry_next) if (core->index == index) return core->vdev;
	return NULL;
}

/* The lowest cdev number no device has. */
static unsigned int cdev_alloc_locked(void)
{
	unsigned int index = 0;

	while (cdev_find_locked(index))
		index++;
	return index;
}

static struct vfio_group *group_alloc(unsigned int id, struct iommu_device *iommu)
{
	struct vfio_group *group = uzalloc(sizeof(*group));

	if (!group)
		return NULL;
	group->id = id;
	group->iommu = iommu;
	INIT_LIST_HEAD(&group->device_list);
	INIT_LIST_HEAD(&group->container_next);
	pthread_mutex_init(&group->lock, NULL);
	return group;
}

static void group_free(struct vfio_group *group)
{
	pthread_mutex_destroy(&group->lock);
	ufree(group);
}

int vfio_register_device(struct vfio_device *vdev)
{
	struct vfio_device_core *core;
	struct vfio_group *group, *new_group = NULL;
	int rc;

	if (!vdev || !vdev->ops || !vdev->name || !vdev->name[0] || !vdev->dev ||
	    !vdev->dev->iommu || !vdev->ops->region_info || !vdev->ops->irq_info ||
	    vdev->ops->num_regions < VFIO_PCI_NUM_REGIONS ||
	    vdev->ops->num_irqs < VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (vdev->core)
		return -EEXIST;

	core = uzalloc(sizeof(*core));
	if (!core)
		return -ENOMEM;
	core->vdev = vdev;
	pthread_mutex_init(&core->lock, NULL);
	vfio_pci_ioeventfds_init(core);
	vfio_pci_pm_init(core);
	rc = vfio_intrs_init(core, vdev->ops->num_irqs);
	if (rc)
		goto err_free;
	new_group = group_alloc(vdev->group_id, vdev->dev->iommu);
	if (!new_group) {
		rc = -ENOMEM;
		goto err_intrs;
	}

	pthread_mutex_lock(&vfio_registry_lock);
	if (device_find_locked(vdev->name)) {
		rc = -EEXIST;
		goto err_unlock;
	}
	group = group_find_locked(vdev->group_id);
	if (group && group->iommu != vdev->dev->iommu) {
		/* A group is what one IOMMU cannot tell apart. */
		rc = -EINVAL;
		goto err_unlock;
	}
	if (!group) {
		group = new_group;
		new_group = NULL;
		list_add_tail(&group->registry_next, &vfio_groups);
	}
	core->group = group;
	core->index = cdev_alloc_locked();
	pthread_mutex_lock(&group->lock);
	list_add_tail(&core->group_next, &group->device_list);
	pthread_mutex_unlock(&group->lock);
	list_add_tail(&core->registry_next, &vfio_devices);
	vfio_nr_devices++;
	vdev->core = core;
	pthread_mutex_unlock(&vfio_registry_lock);
	if (new_group)
		group_free(new_group);
	return 0;

err_unlock:
	pthread_mutex_unlock(&vfio_registry_lock);
	group_free(new_group);
err_intrs:
	vfio_intrs_free(core);
err_free:
	vfio_pci_pm_free(core);
	vfio_pci_ioeventfds_free(core);
	pthread_mutex_destroy(&core->lock);
	ufree(core);
	return rc;
}

int vfio_unregister_device(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vdev ? vdev->core : NULL;
	struct vfio_group *group, *free_group = NULL;

	if (!core)
		return -EINVAL;
	pthread_mutex_lock(&vfio_registry_lock);
	group = core->group;
	pthread_mutex_lock(&group->lock);
	if (atomic_load(&core->files) || group->opened_file || core->open_count || core->idev) {
		pthread_mutex_unlock(&group->lock);
		pthread_mutex_unlock(&vfio_registry_lock);
		return -EBUSY;
	}
	list_del(&core->group_next);
	if (list_empty(&group->device_list)) {
		list_del(&group->registry_next);
		free_group = group;
	}
	pthread_mutex_unlock(&group->lock);
	list_del(&core->registry_next);
	vfio_nr_devices--;
	vdev->core = NULL;
	pthread_mutex_unlock(&vfio_registry_lock);

	if (free_group)
		group_free(free_group);
	vfio_intrs_free(core);
	vfio_pci_pm_free(core);
	vfio_pci_ioeventfds_free(core);
	pthread_mutex_destroy(&core->lock);
	ufree(core);
	return 0;
}

unsigned int vfio_device_cdev_index(const struct vfio_device *vdev)
{
	return vdev->core->index;
}

bool vfio_group_exists(unsigned int group_id)
{
	bool found;

	pthread_mutex_lock(&vfio_registry_lock);
	found = group_find_locked(group_id);
	pthread_mutex_unlock(&vfio_registry_lock);
	return found;
}

bool vfio_cdev_exists(unsigned int index)
{
	bool found;

	pthread_mutex_lock(&vfio_registry_lock);
	found = cdev_find_locked(index);
	pthread_mutex_unlock(&vfio_registry_lock);
	return found;
}

int vfio_device_group_id(const char *name, unsigned int *group_id)
{
	struct vfio_device *vdev;

	pthread_mutex_lock(&vfio_registry_lock);
	vdev = device_find_locked(name);
	if (vdev)
		*group_id = vdev->group_id;
	pthread_mutex_unlock(&vfio_registry_lock);
	return vdev ? 0 : -ENOENT;
}

unsigned int vfio_device_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&vfio_registry_lock);
	n = vfio_nr_devices;
	pthread_mutex_unlock(&vfio_registry_lock);
	return n;
}

struct vfio_device *vfio_group_find_device(struct vfio_group *group, const char *name)
{
	struct vfio_device_core *core;

	list_for_each_entry(core, &group->device_list,
			    group_next) if (!strcmp(core->vdev->name, name)) return core->vdev;
	return NULL;
}

void vfio_device_get_file(struct vfio_device *vdev)
{
	atomic_fetch_add(&vdev->core->files, 1);
}

void vfio_device_put_file(struct vfio_device *vdev)
{
	atomic_fetch_sub(&vdev->core->files, 1);
}

/* ------------------------------------------------------------------ */
/* Paths                                                              */

struct uiommu_file *vfio_path_open(const char *path, int flags, int *err)
{
	static const char cdev_prefix[] = "/dev/vfio/devices/vfio";
	static const char prefix[] = "/dev/vfio/";
	struct vfio_device *vdev;
	struct vfio_group *group;
	unsigned int index;

	if (!strcmp(path, "/dev/vfio/vfio"))
		return vfio_container_fops_open(flags, err);

	if (!strncmp(path, cdev_prefix, sizeof(cdev_prefix) - 1) &&
	    parse_dec_index(path + sizeof(cdev_prefix) - 1, &index)) {
		pthread_mutex_lock(&vfio_registry_lock);
		vdev = cdev_find_locked(index);
		if (vdev)
			vfio_device_get_file(vdev);
		pthread_mutex_unlock(&vfio_registry_lock);
		if (!vdev)
			goto enoent;
		return vfio_device_fops_cdev_open(vdev, flags, err);
	}

	if (!strncmp(path, prefix, sizeof(prefix) - 1) &&
	    parse_dec_index(path + sizeof(prefix) - 1, &index)) {
		struct uiommu_file *file;

		/* The registry lock keeps the group from going while it opens. */
		pthread_mutex_lock(&vfio_registry_lock);
		group = group_find_locked(index);
		file = group ? vfio_group_fops_open(group, flags, err) : NULL;
		pthread_mutex_unlock(&vfio_registry_lock);
		if (!group)
			goto enoent;
		return file;
	}
enoent:
	*err = -ENOENT;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Binding to an iommufd context                                      */

int vfio_device_bind_iommufd(struct vfio_device *vdev, struct iommufd_ctx *ictx, uint32_t ioas_id)
{
	struct vfio_device_core *core = vfio_core(vdev);
	struct iommufd_device *idev;
	uint32_t devid, pt_id = ioas_id;
	int rc;

	if (core->idev)
		return -EBUSY;
	idev = iommufd_device_bind(ictx, vdev->dev, &devid, true);
	if (IS_ERR(idev))
		return (int)PTR_ERR(idev);
	if (ioas_id) {
		rc = iommufd_device_attach(idev, IOMMU_NO_PASID, &pt_id);
		if (rc) {
			iommufd_device_unbind(idev);
			return rc;
		}
		core->iommufd_attached = true;
	}
	core->idev = idev;
	core->ictx = ictx;
	core->devid = devid;
	return 0;
}

void vfio_device_unbind_iommufd(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);
	struct iommufd_device *idev = core->idev;

	if (!idev)
		return;
	/* Every attachment first (PASIDs included): unbind detaches nothing. */
	for (;;) {
		uint32_t pasid;
		bool any;

		pthread_mutex_lock(&idev->lock);
		any = idev->nattach;
		pasid = any ? idev->attach[0].pasid : 0;
		pthread_mutex_unlock(&idev->lock);
		if (!any)
			break;
		iommufd_device_detach(idev, pasid);
	}
	iommufd_device_unbind(idev);
	core->idev = NULL;
	core->ictx = NULL;
	core->devid = 0;
	core->iommufd_attached = false;
}

/* ------------------------------------------------------------------ */
/* Open and close of a device                                         */

struct vfio_device_file *vfio_allocate_device_file(struct vfio_device *vdev)
{
	struct vfio_device_file *df = uzalloc(sizeof(*df));

	if (!df)
		return NULL;
	df->device = vdev;
	atomic_init(&df->access_granted, false);
	return df;
}

/*
 * The first open's IOMMU step (vfio_df_device_first_open() in Linux): with
 * an iommufd (the cdev's, or the group's) bind the device to it, and on the
 * group path attach it to the compat IOAS; in a container, take a
 * container user (the container bound the device already).
 */
static int vfio_df_use_iommu(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;
	uint32_t ioas_id = 0;
	int rc;

	if (!df->iommufd)
		return vfio_group_use_container(df->group);
	if (df->group) {
		rc = iommufd_vfio_compat_ioas_get_id(df->iommufd, &ioas_id);
		if (rc)
			return rc;
	}
	return vfio_device_bind_iommufd(vdev, df->iommufd, ioas_id);
}

static void vfio_df_unuse_iommu(struct vfio_device_file *df)
{
	if (df->iommufd)
		vfio_device_unbind_iommufd(df->device);
	else
		vfio_group_unuse_container(df->group);
}

int vfio_df_open(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;
	struct vfio_device_core *core = vfio_core(vdev);
	int rc;

	/* Only the group path opens a device more than once. */
	if (core->open_count && !df->group)
		return -EINVAL;
	if (++core->open_count != 1)
		return 0;
	rc = vfio_df_use_iommu(df);
	if (rc)
		goto err_count;
	/* In a nested domain: the DMA fault region, its IRQ and the response region. */
	if (!df->iommufd && vfio_group_container_nesting(df->group)) {
		rc = vfio_dma_fault_open(vdev);
		if (rc)
			goto err_unuse;
	}
	if (vdev->ops->open_device) {
		rc = vdev->ops->open_device(vdev);
		if (rc)
			goto err_fault;
	}
	return 0;

err_fault:
	vfio_dma_fault_close(vdev);
err_unuse:
	vfio_df_unuse_iommu(df);
err_count:
	core->open_count--;
	return rc;
}

void vfio_df_close(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;
	struct vfio_device_core *core = vfio_core(vdev);

	if (!core->open_count)
		return;
	if (core->open_count == 1) {
		/* Linux's vfio_pci_core_disable(): interrupts, then the IOEVENTFDs. */
		vfio_pci_pm_close(vdev);
		vfio_intrs_teardown(vdev);
		vfio_pci_ioeventfds_teardown(vdev);
		if (vdev->ops->close_device)
			vdev->ops->close_device(vdev);
		vfio_dma_fault_close(vdev);
		vfio_df_unuse_iommu(df);
	}
	core->open_count--;
}

/* ------------------------------------------------------------------ */
/* The device file                                                    */

static long vfio_device_fops_ioctl(struct uiommu_file *file, unsigned long request,
				   unsigned long arg)
{
	struct vfio_device_file *df = file->private_data;
	unsigned int cmd = (unsigned int)request;
	void *uarg = (void *)arg;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vfio_df_ioctl_bind_iommufd(df, uarg);
	if (!atomic_load_explicit(&df->access_granted, memory_order_acquire))
		return -EINVAL;
	/* Every other ioctl resumes the device first (vfio_device_pm_runtime_get()). */
	vfio_pci_pm_access(df->device);
	if (!df->group) {
		switch (cmd) {
		case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
			return vfio_df_ioctl_attach_pt(df, uarg);
		case VFIO_DEVICE_DETACH_IOMMUFD_PT:
			return vfio_df_ioctl_detach_pt(df, uarg);
		}
	}
	return vfio_pci_core_ioctl(df->device, cmd, arg);
}

static ssize_t vfio_device_fops_read(struct uiommu_file *file, void *buf, size_t count,
				     int64_t *ppos)
{
	struct vfio_device_file *df = file->private_data;

	if (!atomic_load_explicit(&df->access_granted, memory_order_acquire))
		return -EINVAL;
	return vfio_pci_core_rw(df->device, buf, count, ppos, false);
}

static ssize_t vfio_device_fops_write(struct uiommu_file *file, const void *buf, size_t count,
				      int64_t *ppos)
{
	struct vfio_device_file *df = file->private_data;

	if (!atomic_load_explicit(&df->access_granted, memory_order_acquire))
		return -EINVAL;
	return vfio_pci_core_rw(df->device, (void *)buf, count, ppos, true);
}

static int vfio_device_fops_mmap(struct uiommu_file *file, void *addr, size_t length, int prot,
				 int flags, int64_t offset, void **out)
{
	struct vfio_device_file *df = file->private_data;

	if (!atomic_load_explicit(&df->access_granted, memory_order_acquire))
		return -EINVAL;
	return vfio_pci_core_mmap(df, addr, length, prot, flags, offset, out);
}

static void vfio_device_fops_release(struct uiommu_file *file)
{
	struct vfio_device_file *df = file->private_data;
	struct vfio_device *vdev = df->device;

	if (df->group) {
		struct vfio_group *group = df->group;

		pthread_mutex_lock(&group->lock);
		pthread_mutex_lock(&vfio_core(vdev)->lock);
		vfio_df_close(df);
		pthread_mutex_unlock(&vfio_core(vdev)->lock);
		pthread_mutex_unlock(&group->lock);
		/* The reference taken at GET_DEVICE_FD; may release the group file. */
		ufile_put(df->group_file);
	} else {
		vfio_df_unbind_iommufd(df);
	}
	vfio_device_put_file(vdev);
	ufree(df);
}

const struct ufile_ops vfio_device_fops = {
	.name = "vfio-device",
	.ioctl = vfio_device_fops_ioctl,
	.read = vfio_device_fops_read,
	.write = vfio_device_fops_write,
	.mmap = vfio_device_fops_mmap,
	.release = vfio_device_fops_release,
	/* Opened by path or made by GET_DEVICE_FD with FMODE_PREAD | FMODE_PWRITE, as Linux. */
	.fmode = UFILE_FMODE_PREAD,
};

struct uiommu_file *vfio_device_file_create(struct vfio_device_file *df, int *err)
{
	/* Device fds are always close-on-exec (get_unused_fd_flags(O_CLOEXEC)). */
	struct uiommu_file *file =
		ufile_create(&vfio_device_fops, df, UFILE_BACKING_MEMFD, O_RDWR | O_CLOEXEC, err);

	if (file)
		df->file = file;
	return file;
}
