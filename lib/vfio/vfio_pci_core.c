// SPDX-License-Identifier: MIT
/*
 * vfio_pci_core.c - the device ioctls of a vfio-pci device, over the model's
 * vfio_device_ops (Linux's vfio_pci_core.c, vfio_pci_rdwr.c and the
 * config-space entry of vfio_pci_config.c).
 *
 * What it owns: the answers of VFIO_DEVICE_GET_INFO, GET_REGION_INFO (with
 * the SPARSE_MMAP, MSIX_MAPPABLE and TYPE capabilities), GET_IRQ_INFO (with
 * the nested extension's TYPE capability for device-specific indexes) and
 * RESET, and the way read / write / mmap of the device fd reach regions.
 * SET_IRQS is vfio_pci_intrs.c's. The model describes; this file applies
 * vfio-pci's rules on top:
 *
 *   regions  the offset of index i is i << 40; BARs of size 0 report flags
 *            0; the ROM is read-only; VGA of size 0 does not exist
 *            (EINVAL); index >= num_regions is EINVAL
 *   rw       config space: the whole access inside it (else EFAULT), cut
 *            into naturally aligned 1/2/4-byte pieces; other regions: the
 *            start inside (else EINVAL), the length clamped to the end;
 *            the file position advances by what was moved
 *   mmap     MAP_SHARED only; BARs with the MMAP flag and device-specific
 *            regions with it; the range inside the page-rounded region;
 *            the mapping keeps the device file (and so the device) open
 *            until it is unmapped, as a VMA keeps its file. A BAR mapping
 *            of a device behind an sPAPR PE follows the PE's MMIO state:
 *            while frozen its pages are all ones and stores to them never
 *            reach the device (a private page), as the frozen PHB answers
 *            loads and drops stores; thawed, the device's memory is back
 *   IRQs     INTx is MASKABLE | AUTOMASKED, every other PCI index NORESIZE
 *            (no dynamic MSI-X); ERR exists only on PCIe (count 1)
 *   hot      GET_PCI_HOT_RESET_INFO and PCI_HOT_RESET check their argument
 *   reset    as Linux does, then ENODEV: Linux resets a resettable hotplug
 *            slot or the bus below a bridge, and the topology's devices sit
 *            on root buses (pciDDDD:BB, see lib/uiommu_sysfs.c) with no slot
 *   feature  DEVICE_FEATURE checks argsz and flags as vfio_main.c does;
 *            migration and dirty logging are then ENOTTY (no mig_ops /
 *            log_ops), the rest is the device's (vfio_pci_pm.c): the
 *            LOW_POWER features, and ENOTTY for the VF token (no SR-IOV)
 *   lowpower  while the device is in low power (vfio_pci_pm.c) every BAR
 *            mapping raises SIGBUS (struct vfio_bar_map below), reads and
 *            writes resume it first, IOEVENTFD's writes are dropped
 *   ioeventfd  IOEVENTFD (vfio_pci_rdwr.c's checks, in order): argsz,
 *            flags, one size of 1/2/4/8, fd >= -1 (EINVAL); a BAR (the
 *            ROM, config, VGA and device regions: EINVAL), the write inside
 *            it and off the MSI-X table, found through the MSI-X capability
 *            of the config space (EINVAL); then under ioeventfds_lock: the
 *            same offset, data and size is removed by fd -1, else EEXIST;
 *            fd -1 without one ENODEV; 1000 per device ENOSPC; the
 *            eventfd's EBADF / EINVAL. A signal writes the low bytes of
 *            DATA through the model as write(2) there would (virqfd.c's
 *            watcher thread); RESET keeps them, the last close ends them
 *
 * The program's buffers are reached only through util/uaccess (bounce
 * buffers), never handed to the model.
 *
 * Locks: ioeventfds_lock (the device's IOEVENTFD list; ending one waits
 * for its running handler, which takes only the model's locks);
 * memory_lock (vfio_pci_pm.c's: the BAR mappings' list and state);
 * otherwise none of its own: the model serialises its own state. A frozen /
 * thawed BAR mapping is swapped under the PE's watch lock, memory_lock and
 * util/file's mapping lock (ufile_vma_swap), in that order; a forked
 * child's under the PE's watch lock, memory_lock, the channel's agent lock,
 * then the child's mapping lock (in the child, by its agent thread:
 * lib/uiommu_remote.c). A zap or its end takes memory_lock, then the
 * mapping or agent lock.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/spapr/spapr.h"
#include "util/alloc.h"
#include "util/infocap.h"
#include "util/intfd.h"
#include "util/log.h"
#include "util/uaccess.h"
#include "vfio/vfio_private.h"
#include "vfio/virqfd.h"

#include <linux/pci_regs.h>

void vfio_pci_region_info(struct vfio_device *vdev, unsigned int index, struct vfio_region *info)
{
	uint16_t cap_id;

	*info = (struct vfio_region){0};
	/* The nested extension's regions follow the model's. */
	if (index >= vdev->ops->num_regions) {
		if (!vfio_dma_fault_region_info(vdev, index, info, &cap_id))
			*info = (struct vfio_region){0};
		return;
	}
	vdev->ops->region_info(vdev, index, info);
	info->flags &= VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		       VFIO_REGION_INFO_FLAG_MMAP;
	if (!vdev->ops->region_mmap)
		info->flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	if (!info->size)
		info->flags = 0;
}

void vfio_pci_irq_info(struct vfio_device *vdev, unsigned int index, struct vfio_irq *info)
{
	*info = (struct vfio_irq){0};
	if (index >= vdev->ops->num_irqs) {
		if (!vfio_dma_fault_irq_info(vdev, index, info))
			*info = (struct vfio_irq){0};
		return;
	}
	vdev->ops->irq_info(vdev, index, info);
}

/* Copy an INFO struct with its capability chain out, as every VFIO INFO ioctl does. */
static int vfio_info_respond(void *arg, void *info, size_t info_size, uint32_t *argsz,
			     uint32_t *flags, uint32_t caps_flag, uint32_t *cap_offset,
			     struct infocap *caps, size_t copy_len)
{
	int rc = 0;

	if (caps->err)
		return caps->err;
	if (caps->size) {
		*flags |= caps_flag;
		if (*argsz < info_size + caps->size) {
			*argsz = (uint32_t)(info_size + caps->size);
			*cap_offset = 0;
		} else {
			infocap_shift(caps, info_size);
			if (copy_to_user(uptr_add(arg, info_size), caps->buf, caps->size))
				rc = -EFAULT;
			*cap_offset = (uint32_t)info_size;
		}
	}
	infocap_free(caps);
	if (!rc && copy_to_user(arg, info, copy_len))
		rc = -EFAULT;
	return rc;
}

static int vfio_pci_ioctl_get_info(struct vfio_device *vdev, void *arg)
{
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info = {0};

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = MIN(info.argsz, sizeof(info));

	info.flags = vdev->ops->flags & ~(VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_CAPS);
	if (vdev->ops->reset)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = vfio_num_regions(vdev);
	info.num_irqs = vfio_num_irqs(vdev);
	/* No device capability (zPCI, atomics) is offered: cap_offset stays 0. */
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static int vfio_region_add_sparse(struct infocap *caps, const struct vfio_region *r)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;

	sparse = infocap_add(caps, sizeof(*sparse) + r->nr_areas * sizeof(sparse->areas[0]),
			     VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
	if (!sparse)
		return caps->err;
	sparse->nr_areas = r->nr_areas;
	for (unsigned int i = 0; i < r->nr_areas; i++) {
		sparse->areas[i].offset = r->areas[i].offset;
		sparse->areas[i].size = r->areas[i].size;
	}
	return 0;
}

static int vfio_pci_ioctl_get_region_info(struct vfio_device *vdev, void *arg)
{
	size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;
	struct infocap caps = {0};
	struct vfio_region r;
	uint16_t cap_id;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.index >= vfio_num_regions(vdev))
		return -EINVAL;

	vfio_pci_region_info(vdev, info.index, &r);
	if (info.index == VFIO_PCI_VGA_REGION_INDEX && !r.size)
		return -EINVAL;
	info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
	info.size = r.size;
	info.flags = r.flags;
	info.cap_offset = 0;
	if (info.index == VFIO_PCI_ROM_REGION_INDEX)
		info.flags &= VFIO_REGION_INFO_FLAG_READ;

	if (info.index >= VFIO_PCI_NUM_REGIONS) {
		struct vfio_region_info_cap_type *type;

		type = infocap_add(&caps, sizeof(*type), VFIO_REGION_INFO_CAP_TYPE, 1);
		if (type) {
			type->type = r.type;
			type->subtype = r.subtype;
		}
		if (vfio_dma_fault_region_info(vdev, info.index, &r, &cap_id))
			vfio_dma_fault_add_cap(&caps, cap_id);
	} else if (info.index <= VFIO_PCI_BAR5_REGION_INDEX && r.msix_mappable &&
		   (info.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		infocap_add(&caps, sizeof(struct vfio_info_cap_header),
			    VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1);
	}
	if (r.nr_areas && (info.flags & VFIO_REGION_INFO_FLAG_MMAP))
		vfio_region_add_sparse(&caps, &r);

	return vfio_info_respond(arg, &info, sizeof(info), &info.argsz, &info.flags,
				 VFIO_REGION_INFO_FLAG_CAPS, &info.cap_offset, &caps, minsz);
}

static int vfio_pci_ioctl_get_irq_info(struct vfio_device *vdev, void *arg)
{
	size_t minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info = {0};
	struct infocap caps = {0};
	struct vfio_irq irq;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= vfio_num_irqs(vdev))
		return -EINVAL;

	vfio_pci_irq_info(vdev, info.index, &irq);
	/* The error IRQ is a PCIe function's (the model reports count 0 otherwise). */
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !irq.count)
		return -EINVAL;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = irq.count;
	info.cap_offset = 0;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX) {
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	} else if (info.index < VFIO_PCI_NUM_IRQS) {
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	} else {
		/* Device-specific (nested extension): described only by its type. */
		struct vfio_irq_info_cap_type *type;

		type = infocap_add(&caps, sizeof(*type), VFIO_IRQ_INFO_CAP_TYPE, 1);
		if (type) {
			type->type = irq.type;
			type->subtype = irq.subtype;
		}
	}
	/* cap_offset is written back only to callers whose argsz covers it. */
	return vfio_info_respond(arg, &info, sizeof(info), &info.argsz, &info.flags,
				 VFIO_IRQ_INFO_FLAG_CAPS, &info.cap_offset, &caps,
				 MIN(info.argsz, sizeof(info)));
}

static int vfio_pci_ioctl_get_pci_hot_reset_info(struct vfio_device *vdev, void *arg)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_hot_reset_info hdr;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	/* No slot, and a root bus: pci_probe_reset_slot/bus() both refuse. */
	return -ENODEV;
}

static int vfio_pci_ioctl_pci_hot_reset(struct vfio_device *vdev, void *arg)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset hdr;
	bool cdev;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	/* Group fds are listed by the group path; a cdev-bound device lists none. */
	pthread_mutex_lock(&vdev->core->lock);
	cdev = vdev->core->cdev_opened;
	pthread_mutex_unlock(&vdev->core->lock);
	if (!!hdr.count == cdev)
		return -EINVAL;
	return -ENODEV;
}

static int vfio_ioctl_device_feature(struct vfio_device *vdev, void *arg)
{
	size_t minsz = offsetofend(struct vfio_device_feature, flags);
	struct vfio_device_feature feature;

	if (copy_from_user(&feature, arg, minsz))
		return -EFAULT;
	if (feature.argsz < minsz)
		return -EINVAL;
	if (feature.flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET and SET together only with PROBE. */
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_SET) && (feature.flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	/*
	 * Migration and dirty logging refuse first for want of their ops (see
	 * the essay); the rest is the device's (vfio_pci_pm.c).
	 */
	switch (feature.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return -ENOTTY;
	}
	return vfio_pci_core_ioctl_feature(vdev, feature.flags, uptr_add(arg, minsz),
					   feature.argsz - minsz);
}

/* ------------------------------------------------------------------ */
/* IOEVENTFD                                                          */

/* Cap on IOEVENTFDs per device (Linux's VFIO_PCI_IOEVENTFD_MAX). */
#define VFIO_PCI_IOEVENTFD_MAX 1000

/* One IOEVENTFD: write @data, @count bytes, at @pos of BAR @bar when its eventfd is signalled. */
struct vfio_pci_ioeventfd {
	struct list_head next; /* core->ioeventfds_list */
	struct vfio_device *vdev;
	struct virqfd *virqfd;
	uint64_t pos, data;
	unsigned int bar, count;
};

void vfio_pci_ioeventfds_init(struct vfio_device_core *core)
{
	pthread_mutex_init(&core->ioeventfds_lock, NULL);
	INIT_LIST_HEAD(&core->ioeventfds_list);
	core->ioeventfds_nr = 0;
}

void vfio_pci_ioeventfds_free(struct vfio_device_core *core)
{
	pthread_mutex_destroy(&core->ioeventfds_lock);
}

void vfio_pci_ioeventfds_teardown(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);
	struct vfio_pci_ioeventfd *ie, *tmp;

	pthread_mutex_lock(&core->ioeventfds_lock);
	list_for_each_entry_safe(ie, tmp, &core->ioeventfds_list, next) {
		vfio_virqfd_disable(&ie->virqfd);
		list_del(&ie->next);
		ufree(ie);
	}
	core->ioeventfds_nr = 0;
	pthread_mutex_unlock(&core->ioeventfds_lock);
}

/* A config-space read of @size bytes at @off through the model (0 when it fails). */
static uint32_t vfio_pci_cfg_read(struct vfio_device *vdev, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	if (vdev->ops->region_rw(vdev, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, size, false) !=
	    (ssize_t)size)
		return 0;
	return v;
}

/*
 * Where the MSI-X table is, from the MSI-X capability of the model's
 * config space (vfio_pci_core_enable() reads the same three fields):
 * false when the function has none.
 */
static bool vfio_pci_msix_table(struct vfio_device *vdev, unsigned int *bar, uint64_t *off,
				uint64_t *size)
{
	struct vfio_region cfg;
	unsigned int pos;

	vfio_pci_region_info(vdev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (cfg.size < 0x40 || !(vfio_pci_cfg_read(vdev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return false;
	pos = vfio_pci_cfg_read(vdev, PCI_CAPABILITY_LIST, 1);
	/* pci_find_capability(): at most 48 steps, pointers dword aligned, none below 0x40. */
	for (unsigned int ttl = 48; ttl-- && pos >= 0x40 && pos + 8 <= cfg.size;) {
		unsigned int id;

		pos &= ~3u;
		id = vfio_pci_cfg_read(vdev, pos + PCI_CAP_LIST_ID, 1);
		if (id == 0xff)
			break;
		if (id == PCI_CAP_ID_MSIX) {
			uint32_t flags = vfio_pci_cfg_read(vdev, pos + PCI_MSIX_FLAGS, 2);
			uint32_t table = vfio_pci_cfg_read(vdev, pos + PCI_MSIX_TABLE, 4);

			*bar = table & PCI_MSIX_TABLE_BIR;
			*off = table & PCI_MSIX_TABLE_OFFSET;
			*size = ((uint64_t)(flags & PCI_MSIX_FLAGS_QSIZE) + 1) * 16;
			return true;
		}
		pos = vfio_pci_cfg_read(vdev, pos + PCI_CAP_LIST_NEXT, 1);
	}
	return false;
}

/*
 * The eventfd was signalled (the watcher thread): the write, as a write(2)
 * of those bytes at that offset of the device fd would make it: a BAR the
 * model does not let be written, a frozen PE's MMIO (dropped stores) and
 * the model's own refusals (Memory Space off: EIO) leave it undone, as
 * Linux's handler does nothing while memory decoding is off.
 */
static void vfio_pci_ioeventfd_handler(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ie = opaque;
	struct vfio_device *vdev = ie->vdev;
	uint64_t data = ie->data; /* little-endian: its low @count bytes, as iowriteN() */
	struct vfio_region r;

	(void)unused;
	vfio_pci_region_info(vdev, ie->bar, &r);
	if (!(r.flags & VFIO_REGION_INFO_FLAG_WRITE) || ie->pos + ie->count > r.size)
		return;
	if (!spapr_dev_mmio_ok(vdev->dev, true))
		return;
	/* A device in low power is suspended: the write reaches nothing (Linux: no resume here). */
	if (vfio_pci_pm_engaged(vdev))
		return;
	(void)vdev->ops->region_rw(vdev, ie->bar, ie->pos, &data, ie->count, true);
}

/* vfio_pci_ioeventfd(): the checks in Linux's order, then add, find or remove. */
static int vfio_pci_ioeventfd(struct vfio_device *vdev, uint64_t offset, uint64_t data,
			      unsigned int count, int32_t fd)
{
	struct vfio_device_core *core = vfio_core(vdev);
	uint64_t pos = offset & VFIO_PCI_OFFSET_MASK, msix_off, msix_size;
	uint64_t index = VFIO_PCI_OFFSET_TO_INDEX(offset);
	struct vfio_pci_ioeventfd *ie;
	unsigned int msix_bar;
	struct vfio_region r;
	int rc;

	/* Only BARs: the ROM, config space, VGA and device-specific regions are EINVAL. */
	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	vfio_pci_region_info(vdev, (unsigned int)index, &r);
	if (pos + count > r.size)
		return -EINVAL;
	/* Never around the MSI-X table's writes. */
	if (vfio_pci_msix_table(vdev, &msix_bar, &msix_off, &msix_size) && index == msix_bar &&
	    !(pos + count <= msix_off || pos >= msix_off + msix_size))
		return -EINVAL;

	pthread_mutex_lock(&core->ioeventfds_lock);
	list_for_each_entry(ie, &core->ioeventfds_list, next) {
		if (ie->pos == pos && ie->bar == index && ie->data == data && ie->count == count) {
			if (fd == -1) {
				vfio_virqfd_disable(&ie->virqfd);
				list_del(&ie->next);
				core->ioeventfds_nr--;
				ufree(ie);
				rc = 0;
			} else {
				rc = -EEXIST;
			}
			goto out;
		}
	}
	if (fd < 0) {
		rc = -ENODEV;
		goto out;
	}
	if (core->ioeventfds_nr >= VFIO_PCI_IOEVENTFD_MAX) {
		rc = -ENOSPC;
		goto out;
	}
	ie = uzalloc(sizeof(*ie));
	if (!ie) {
		rc = -ENOMEM;
		goto out;
	}
	*ie = (struct vfio_pci_ioeventfd){
		.vdev = vdev,
		.pos = pos,
		.data = data,
		.bar = (unsigned int)index,
		.count = count,
	};
	rc = vfio_virqfd_enable(ie, vfio_pci_ioeventfd_handler, NULL, &ie->virqfd, fd);
	if (rc) {
		ufree(ie);
		goto out;
	}
	list_add(&ie->next, &core->ioeventfds_list);
	core->ioeventfds_nr++;
out:
	pthread_mutex_unlock(&core->ioeventfds_lock);
	return rc;
}

static int vfio_pci_ioctl_ioeventfd(struct vfio_device *vdev, void *arg)
{
	size_t minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd ioeventfd;
	unsigned int count;

	if (copy_from_user(&ioeventfd, arg, minsz))
		return -EFAULT;
	if (ioeventfd.argsz < minsz)
		return -EINVAL;
	if (ioeventfd.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	count = ioeventfd.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	/* One size (1, 2, 4 or 8 bytes: iowrite64 exists on 64-bit hosts); fd -1 removes. */
	if (__builtin_popcount(count) != 1 || ioeventfd.fd < -1)
		return -EINVAL;
	return vfio_pci_ioeventfd(vdev, ioeventfd.offset, ioeventfd.data, count, ioeventfd.fd);
}

long vfio_pci_core_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	void *uarg = (void *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vfio_pci_ioctl_get_info(vdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vfio_pci_ioctl_get_region_info(vdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_pci_ioctl_get_irq_info(vdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vfio_pci_ioctl_set_irqs(vdev, uarg);
	case VFIO_DEVICE_RESET:
		if (!vdev->ops->reset)
			return -EINVAL;
		return vdev->ops->reset(vdev);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vfio_pci_ioctl_get_pci_hot_reset_info(vdev, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vfio_pci_ioctl_pci_hot_reset(vdev, uarg);
	case VFIO_DEVICE_FEATURE:
		return vfio_ioctl_device_feature(vdev, uarg);
	case VFIO_DEVICE_IOEVENTFD:
		return vfio_pci_ioctl_ioeventfd(vdev, uarg);
	default:
		/* QUERY_GFX_PLANE, GET_GFX_DMABUF and the rest: not vfio-pci's. */
		return -ENOTTY;
	}
}

/* ------------------------------------------------------------------ */
/* read / write                                                       */

/* One model access through a bounce buffer. */
static ssize_t vfio_region_bounce(struct vfio_device *vdev, unsigned int index, uint64_t off,
				  void *ubuf, size_t count, bool write, void *bounce)
{
	ssize_t n;

	if (write && copy_from_user(bounce, ubuf, count))
		return -EFAULT;
	n = vdev->ops->region_rw(vdev, index, off, bounce, count, write);
	if (n > 0 && !write && copy_to_user(ubuf, bounce, (size_t)n))
		return -EFAULT;
	return n;
}

/* Config space: the whole access inside, in naturally aligned pieces of at most 4 bytes. */
static ssize_t vfio_pci_config_rw(struct vfio_device *vdev, uint64_t size, void *ubuf, size_t count,
				  uint64_t pos, bool write)
{
	size_t done = 0;
	uint8_t piece[4];

	if (pos >= size || count > size - pos)
		return -EFAULT;
	while (done < count) {
		uint64_t at = pos + done;
		size_t n = count - done;
		ssize_t rc;

		if (n >= 4 && !(at % 4))
			n = 4;
		else if (n >= 2 && !(at % 2))
			n = 2;
		else
			n = 1;
		rc = vfio_region_bounce(vdev, VFIO_PCI_CONFIG_REGION_INDEX, at,
					uptr_add(ubuf, done), n, write, piece);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		if (!rc)
			break;
		done += (size_t)rc;
	}
	return (ssize_t)done;
}

static ssize_t vfio_pci_mmio_frozen(void *buf, size_t count, bool write)
{
	uint8_t ones[256];

	if (write)
		return (ssize_t)count;
	memset(ones, 0xff, sizeof(ones));
	for (size_t done = 0; done < count; done += sizeof(ones))
		if (copy_to_user(uptr_add(buf, done), ones, MIN(count - done, sizeof(ones))))
			return -EFAULT;
	return (ssize_t)count;
}

ssize_t vfio_pci_core_rw(struct vfio_device *vdev, void *buf, size_t count, int64_t *ppos,
			 bool write)
{
	uint64_t pos = (uint64_t)*ppos;
	unsigned int index;
	uint64_t off;
	struct vfio_region r;
	void *bounce;
	ssize_t done;

	if (*ppos < 0)
		return -EINVAL;
	index = (unsigned int)MIN(VFIO_PCI_OFFSET_TO_INDEX(pos), (uint64_t)UINT32_MAX);
	off = pos & VFIO_PCI_OFFSET_MASK;
	if (index >= vfio_num_regions(vdev))
		return -EINVAL;
	vfio_pci_region_info(vdev, index, &r);
	if (!count)
		return 0;
	/* vfio_pci_rw(): a valid index resumes the device, whatever the access then does. */
	vfio_pci_pm_access(vdev);

	if (index >= vdev->ops->num_regions) {
		/* The nested extension's rings: their own access rules. */
		done = vfio_dma_fault_rw(vdev, index, off, buf, count, write);
		if (done > 0)
			*ppos += done;
		return done;
	}

	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (!r.size)
			return -EINVAL;
		done = vfio_pci_config_rw(vdev, r.size, buf, count, off, write);
	} else {
		if (index == VFIO_PCI_ROM_REGION_INDEX && write)
			return -EINVAL;
		if (!r.size ||
		    !(r.flags & (write ? VFIO_REGION_INFO_FLAG_WRITE : VFIO_REGION_INFO_FLAG_READ)))
			return -EINVAL;
		if (off >= r.size)
			return -EINVAL;
		count = (size_t)MIN((uint64_t)count, r.size - off);
		/*
		 * A BAR of a device whose sPAPR PE has its MMIO frozen (EEH): the
		 * PHB answers loads with all ones and drops stores.
		 */
		if (index <= VFIO_PCI_BAR5_REGION_INDEX && !spapr_dev_mmio_ok(vdev->dev, write))
			return vfio_pci_mmio_frozen(buf, count, write);
		/* Large accesses go through in pieces of at most 64 KiB. */
		bounce = ualloc(MIN(count, (size_t)65536));
		if (!bounce)
			return -ENOMEM;
		done = 0;
		while ((size_t)done < count) {
			size_t n = MIN(count - (size_t)done, (size_t)65536);
			ssize_t rc =
				vfio_region_bounce(vdev, index, off + (uint64_t)done,
						   uptr_add(buf, (uint64_t)done), n, write, bounce);

			if (rc < 0) {
				if (!done)
					done = rc;
				break;
			}
			done += rc;
			if ((size_t)rc < n)
				break;
		}
		ufree(bounce);
	}
	if (done > 0)
		*ppos += done;
	return done;
}

/* ------------------------------------------------------------------ */
/* mmap                                                               */

static void vfio_region_vma_close(void *priv)
{
	ufile_put(priv);
}

/*
 * A live mapping of a BAR. Its loads and stores reach the device's memory
 * without passing here, so what must change them changes the mapping
 * itself, in place (util/file.h ufile_vma_swap()):
 *  - a freeze of its sPAPR PE's MMIO (EEH): the pages become a private page
 *    of all ones (loads read ones, stores never reach the device), and when
 *    MMIO thaws the device's memory is mapped back at the same address;
 *  - the device's low power (vfio_pci_pm.c): the pages become those of an
 *    empty file, so that a touch raises SIGBUS (Linux zaps the mapping and
 *    its fault handler answers VM_FAULT_SIGBUS while pm_runtime_engaged),
 *    until low power ends.
 * Low power wins over a frozen PE; its end puts back what the PE says. A
 * mapping made in a forked child (a remote caller) is swapped by the child,
 * which the owner asks (util/file.h ufile_rvma_swap()); such a mapping of a
 * device behind no PE has no handle and is not on the list (see the essay).
 */
struct vfio_bar_map {
	struct list_head next; /* core->bar_maps (memory_lock), if @listed */
	struct vfio_device *vdev;
	struct spapr_mmio_watch w;
	struct spapr_pe *pe;	  /* the PE it follows, or NULL */
	struct uiommu_file *file; /* the device file the mapping holds */
	struct ufile_rvma *rv;	  /* the remote caller's mapping, or NULL: ours */
	uintptr_t addr;
	int prot, fd;
	uint64_t fd_off;
	bool listed;
	bool frozen; /* the PE's MMIO is frozen (memory_lock) */
	bool zapped; /* mapped to the empty file (memory_lock) */
};

/* Map @bm's pages to all ones (@how 1), the device's memory (0) or @gone (2). */
static void vfio_bar_map_swap(struct vfio_bar_map *bm, int how, int gone)
{
	static const char *const what[] = {"restoring", "freezing", "zapping"};
	int fd = how == 2 ? gone : bm->fd;
	uint64_t off = how == 2 ? 0 : bm->fd_off;
	int rc;

	if (bm->rv)
		rc = ufile_rvma_swap(bm->rv, how == 1, bm->prot, fd, off);
	else
		rc = ufile_vma_swap((void *)bm->addr, how == 1, bm->prot, fd, off);
	/* Unmapped meanwhile (ENOENT), or the child has gone (ESRCH): nothing to swap. */
	if (rc && rc != -ENOENT && rc != -ESRCH)
		ulog_warn("vfio: BAR mapping at %p: %s failed: %s", (void *)bm->addr, what[how],
			  strerror(-rc));
}

/* What the device and the PE say @bm's pages are, applied (memory_lock held). */
static void vfio_bar_map_apply(struct vfio_bar_map *bm, int gone)
{
	bool zap = atomic_load(&vfio_core(bm->vdev)->pm_runtime_engaged);

	vfio_bar_map_swap(bm, zap ? 2 : bm->frozen ? 1 : 0, gone);
	bm->zapped = zap;
}

int vfio_pci_bar_maps_update(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);
	bool engaged = atomic_load(&core->pm_runtime_engaged);
	struct vfio_bar_map *bm;
	int gone = -1;

	list_for_each_entry(bm, &core->bar_maps, next) {
		if (bm->zapped == engaged)
			continue;
		/*
		 * An empty file: every touch of a page mapped from it is SIGBUS.
		 * Ours while it lasts (util/intfd.h): a forked child's mapping is
		 * swapped by the child's agent, and we wait for each answer with it
		 * open, maybe in the server thread, while no call of the program's
		 * is under way to tell it a number is taken (lib/util/intfd.c). We
		 * are inside the fork gate: its number cannot move until we leave.
		 */
		if (engaged && gone < 0) {
			int rc;

			gone = memfd_create("vfio-bar-low-power", MFD_CLOEXEC);
			if (gone < 0)
				return -errno;
			rc = intfd_add(&gone);
			if (rc) {
				close(gone);
				return rc;
			}
		}
		vfio_bar_map_apply(bm, intfd_fd(gone));
	}
	intfd_close(&gone);
	return 0;
}

/* The PE's MMIO froze or thawed (under the PE's watch lock). */
static void vfio_bar_map_state(void *arg, bool frozen)
{
	struct vfio_bar_map *bm = arg;
	struct vfio_device_core *core = vfio_core(bm->vdev);

	pthread_mutex_lock(&core->memory_lock);
	bm->frozen = frozen;
	/* While zapped, the end of low power applies it. */
	if (!bm->zapped)
		vfio_bar_map_swap(bm, frozen ? 1 : 0, -1);
	pthread_mutex_unlock(&core->memory_lock);
}

static void vfio_bar_vma_close(void *priv)
{
	struct vfio_bar_map *bm = priv;
	struct vfio_device_core *core = vfio_core(bm->vdev);

	if (bm->pe)
		spapr_pe_unwatch_mmio(bm->pe, &bm->w);
	if (bm->listed) {
		pthread_mutex_lock(&core->memory_lock);
		list_del(&bm->next);
		pthread_mutex_unlock(&core->memory_lock);
	}
	ufile_rvma_put(bm->rv);
	ufile_put(bm->file);
	ufree(bm);
}

/*
 * Register the new BAR mapping @p; it follows the device's power state and
 * its PE's MMIO state. A mapping made while the device is in low power is
 * zapped at once (Linux's mmap() succeeds, its first fault is SIGBUS).
 */
static int vfio_bar_map_add(struct vfio_device_file *df, void *p, size_t length, uint64_t req_len,
			    int prot, int fd, uint64_t fd_off, void **out)
{
	struct vfio_device *vdev = df->device;
	struct vfio_device_core *core = vfio_core(vdev);
	struct vfio_bar_map *bm = uzalloc(sizeof(*bm));
	int rc = -ENOMEM;

	if (!bm)
		goto unmap;
	*bm = (struct vfio_bar_map){
		.vdev = vdev,
		.w = {.fn = vfio_bar_map_state, .arg = bm},
		.pe = spapr_dev_pe(vdev->dev),
		.file = df->file,
		.addr = (uintptr_t)p,
		.prot = prot,
		.fd = fd,
		.fd_off = fd_off,
	};
	/* In a forked child: a handle the owner's other threads can swap it through. */
	if (uaccess_current_mm() && bm->pe) {
		bm->rv = ufile_rvma_get(p, &rc);
		if (!bm->rv)
			goto free;
	}
	bm->listed = !uaccess_current_mm() || bm->rv;
	ufile_get(df->file);
	rc = ufile_vma_add(p, req_len, vfio_bar_vma_close, bm);
	if (rc) {
		ufile_put(df->file);
		ufile_rvma_put(bm->rv);
		goto free;
	}
	if (bm->listed) {
		pthread_mutex_lock(&core->memory_lock);
		list_add_tail(&bm->next, &core->bar_maps);
		/* A failure to zap leaves the mapping live (logged); the mmap stands. */
		if (vfio_pci_bar_maps_update(vdev))
			ulog_warn("vfio: BAR mapping at %p made in low power: not zapped", p);
		pthread_mutex_unlock(&core->memory_lock);
	}
	/* Applies the state now: a mapping made while frozen starts as all ones. */
	if (bm->pe)
		spapr_pe_watch_mmio(bm->pe, &bm->w);
	*out = p;
	return 0;
free:
	ufree(bm);
unmap:
	ufile_unmap(p, length);
	return rc;
}

int vfio_pci_core_mmap(struct vfio_device_file *df, void *addr, size_t length, int prot, int flags,
		       int64_t offset, void **out)
{
	struct vfio_device *vdev = df->device;
	uint64_t off, req_len, phys_len, fd_off = 0;
	unsigned int index;
	struct vfio_region r;
	int fd = -1, rc;
	void *p;

	/* What mmap(2) itself refuses. */
	if (!length || offset < 0 || offset & (PAGE_SIZE - 1))
		return -EINVAL;
	index = (unsigned int)MIN(VFIO_PCI_OFFSET_TO_INDEX(offset), (uint64_t)UINT32_MAX);
	if (index >= vfio_num_regions(vdev))
		return -EINVAL;
	if ((flags & MAP_TYPE) != MAP_SHARED && (flags & MAP_TYPE) != MAP_SHARED_VALIDATE)
		return -EINVAL;
	vfio_pci_region_info(vdev, index, &r);
	if (index >= VFIO_PCI_ROM_REGION_INDEX && index < VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	if (!(r.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EINVAL;

	off = (uint64_t)offset & VFIO_PCI_OFFSET_MASK;
	req_len = ((uint64_t)length + PAGE_SIZE - 1) & PAGE_MASK;
	phys_len = (r.size + PAGE_SIZE - 1) & PAGE_MASK;
	if (off > phys_len || req_len > phys_len - off)
		return -EINVAL;

	if (index >= vdev->ops->num_regions)
		rc = vfio_dma_fault_mmap(vdev, index, off, req_len, &fd, &fd_off);
	else
		rc = vdev->ops->region_mmap(vdev, index, off, req_len, &fd, &fd_off);
	if (rc)
		return rc;
	/* Here, or in the forked child this thread serves (fd passed over the channel). */
	rc = ufile_map(addr, length, prot, flags & ~MAP_ANONYMOUS, fd, (int64_t)fd_off, &p);
	if (rc)
		return rc;
	if (index <= VFIO_PCI_BAR5_REGION_INDEX)
		return vfio_bar_map_add(df, p, length, req_len, prot, fd, fd_off, out);
	/* The mapping holds the device file, as a VMA holds its file. */
	ufile_get(df->file);
	rc = ufile_vma_add(p, req_len, vfio_region_vma_close, df->file);
	if (rc) {
		ufile_unmap(p, length);
		ufile_put(df->file);
		return rc;
	}
	*out = p;
	return 0;
}
