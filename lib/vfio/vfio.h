/* SPDX-License-Identifier: MIT */
/*
 * lib/vfio/vfio.h - what device models and the topology loader see of VFIO.
 *
 * A device model (lib/dev/dmatest, a test fixture ...) describes itself to
 * VFIO with a struct vfio_device and its ops, the way a Linux driver fills
 * struct vfio_device_ops / vfio_pci_core: regions (size, flags, sparse mmap
 * areas, type/subtype for device-specific ones, read/write/mmap), IRQ
 * indexes (count, type/subtype for device-specific ones), reset, and the
 * struct udev the IOMMU knows it by. The shape is PCI's (VFIO_PCI_*_INDEX):
 * BARs 0-5, ROM, config space, VGA, then device-specific regions; INTx,
 * MSI, MSI-X, ERR, REQ, then device-specific IRQs (the nested extension's
 * DMA fault IRQ). VFIO does the rest: the ioctls, argsz and capability
 * chains, offsets (index << 40), IRQ state and eventfds, the IOMMU binding.
 *
 * The topology (which IOMMU instance, which devices, which group numbers)
 * comes from the `uiommu exec --config` loader or from a test: it registers
 * each device with vfio_register_device(). Groups appear with their first
 * device and vanish with their last; the cdev number is the lowest free.
 *
 * Paths (uiommu_open()):
 *   /dev/vfio/vfio               the container (a new one per open)
 *   /dev/vfio/<group>            a registered group (ENOENT otherwise)
 *   /dev/vfio/devices/vfio<N>    a registered device's cdev (ENOENT otherwise)
 *
 * Threads: every function here may be called from any thread. The model's
 * ops are called without VFIO locks held except where noted; irq_enable
 * runs under the device's interrupt lock, so it must not call
 * vfio_device_irq() itself (that would deadlock) and must not wait for a
 * thread that might.
 */
#ifndef UIOMMU_VFIO_VFIO_H
#define UIOMMU_VFIO_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hw/iommu.h"

struct vfio_device;
struct vfio_device_core;
struct uiommu_file;

/* A part of a region that may be mmap()ed (VFIO_REGION_INFO_CAP_SPARSE_MMAP). */
struct vfio_region_area {
	uint64_t offset, size;
};

/* What GET_REGION_INFO reports for one index. size 0: not implemented. */
struct vfio_region {
	uint64_t size;
	uint32_t flags; /* VFIO_REGION_INFO_FLAG_READ | _WRITE | _MMAP */
	/* Device-specific regions (index >= VFIO_PCI_NUM_REGIONS): the TYPE capability. */
	uint32_t type, subtype;
	/* With _MMAP: only these parts may be mapped (none: all of it). */
	unsigned int nr_areas;
	const struct vfio_region_area *areas;
	/* A BAR holding the MSI-X table that may be mapped anyway (MSIX_MAPPABLE). */
	bool msix_mappable;
};

/* What GET_IRQ_INFO reports for one index. count 0: not implemented. */
struct vfio_irq {
	uint32_t count;
	/* Device-specific IRQs (index >= VFIO_PCI_NUM_IRQS): the TYPE capability. */
	uint32_t type, subtype;
};

struct vfio_device_ops {
	const char *name; /* the driver, for logs */
	/* VFIO_DEVICE_FLAGS_PCI (the shape of this interface); RESET is added with .reset. */
	uint32_t flags;
	unsigned int num_regions; /* VFIO_PCI_NUM_REGIONS + device-specific ones */
	unsigned int num_irqs;	  /* VFIO_PCI_NUM_IRQS + device-specific ones */

	/* First open of the device (any path) and last close. Optional. */
	int (*open_device)(struct vfio_device *vdev);
	void (*close_device)(struct vfio_device *vdev);

	/* Describe region @index (< num_regions); zeroed on entry. */
	void (*region_info)(struct vfio_device *vdev, unsigned int index, struct vfio_region *info);
	/*
	 * Move @count bytes at @off of region @index to (@write) or from @buf.
	 * VFIO has checked the range against the region's size and flags; for
	 * the config space it splits accesses into naturally aligned 1, 2 and 4
	 * byte pieces, as config cycles are. Bytes moved, or -errno.
	 */
	ssize_t (*region_rw)(struct vfio_device *vdev, unsigned int index, uint64_t off, void *buf,
			     size_t count, bool write);
	/*
	 * The memory behind [off, off + len) of an MMAP region: a shared,
	 * mappable fd (*fd, still the model's) at offset *fd_off. Optional.
	 */
	int (*region_mmap)(struct vfio_device *vdev, unsigned int index, uint64_t off, uint64_t len,
			   int *fd, uint64_t *fd_off);

	/* Describe IRQ index @index (< num_irqs); zeroed on entry. */
	void (*irq_info)(struct vfio_device *vdev, unsigned int index, struct vfio_irq *info);
	/*
	 * Delivery of INTx, MSI or MSI-X switched on with @nvec vectors, or
	 * off (@nvec 0); only one of the three is on at a time. While on, the
	 * model raises vector v with vfio_device_irq(). Optional; -errno makes
	 * the SET_IRQS that enables fail.
	 */
	int (*irq_enable)(struct vfio_device *vdev, unsigned int index, unsigned int nvec);
	/* VFIO_DEVICE_RESET. Optional (without it the ioctl is EINVAL). */
	int (*reset)(struct vfio_device *vdev);
};

struct vfio_device {
	/* Filled in by the model before registering. */
	const struct vfio_device_ops *ops;
	const char *name;      /* GET_DEVICE_FD's name, e.g. "0000:00:03.0"; unique */
	struct udev *dev;      /* the device behind its IOMMU, bound to iommufd contexts */
	unsigned int group_id; /* its IOMMU group: /dev/vfio/<group_id> */
	void *priv;	       /* the model's */

	/* VFIO's state (vfio_private.h), from registration on. */
	struct vfio_device_core *core;
};

/*
 * Add a device to the topology: its group is created if needed (a group's
 * devices are behind one IOMMU instance: EINVAL otherwise), it gets the
 * lowest free cdev number. EINVAL: missing ops, name or udev, or no IOMMU
 * behind the udev; EEXIST: the name is taken or the device registered;
 * ENOMEM.
 */
int vfio_register_device(struct vfio_device *vdev);
/*
 * Remove it again. EBUSY while any file of it is open (a device fd, a cdev
 * fd, a mapping of a region) or its group is open; nothing changes then.
 */
int vfio_unregister_device(struct vfio_device *vdev);
/* The cdev number: /dev/vfio/devices/vfio<N>. */
unsigned int vfio_device_cdev_index(const struct vfio_device *vdev);

/*
 * The model raises vector @vector of IRQ index @index. INTx is level-like
 * and auto-masked: it signals the eventfd and masks itself until the user
 * unmasks it (a raise while masked is remembered and signalled at unmask).
 * MSI / MSI-X vectors and the single-vector indexes (ERR, REQ, device
 * specific ones) signal their eventfd if one is set. Nothing happens for an
 * index that is not enabled. Callable from any thread, while the device
 * is registered.
 */
void vfio_device_irq(struct vfio_device *vdev, unsigned int index, unsigned int vector);

/*
 * Records the device's DMA FAULT ring refused because it was full (nested
 * extension; 0 while the device is not open in a nesting container).
 */
uint64_t vfio_device_dma_faults_dropped(struct vfio_device *vdev);

/*
 * For a device model's host-owned MSI-X: the IOVA of the host's MSI
 * doorbell page while the device sits in a nesting container whose guest
 * configuration is in force (vfio.md §2.5: MSIs are then translated by
 * both stages; the page is the guest's bound doorbell IOVA, or the host's
 * own doorbell IOVA with nothing bound). The model must then write its
 * message through the IOMMU there, and only a write that reaches the
 * doorbell is an interrupt. -ENOENT when messages need no translation
 * (not bound to an IOMMU domain, stage 2 only, a model without nesting).
 * Called from the device's own threads while it is open.
 */
int vfio_device_guest_msi_iova(struct vfio_device *vdev, uint64_t *iova);

/* Topology queries (stat of the emulated paths, summaries, tests). */
bool vfio_group_exists(unsigned int group_id);
bool vfio_cdev_exists(unsigned int index);
unsigned int vfio_device_count(void);
/* The group of the device registered as @name: 0, or -ENOENT when there is none. */
int vfio_device_group_id(const char *name, unsigned int *group_id);

/*
 * uiommu_open() of a path under /dev/vfio/: the container, a group or a
 * cdev, or NULL with *err = -ENOENT (no such node), -EBUSY (the group is
 * open already, or one of its devices is bound through its cdev), -ENOMEM.
 */
struct uiommu_file *vfio_path_open(const char *path, int flags, int *err);

#endif
