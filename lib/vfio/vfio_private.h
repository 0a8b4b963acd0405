/* SPDX-License-Identifier: MIT */
/*
 * vfio_private.h - the contract inside lib/vfio (Linux's drivers/vfio/vfio.h).
 *
 * Files and what they own:
 *   vfio_main.c       the registry of devices and groups, path lookup, the
 *                     device file (open counting, the IOMMU binding of the
 *                     group path, ioctl / read / write / mmap dispatch)
 *   vfio_pci_core.c   the PCI-shaped device ioctls over the model's ops:
 *                     GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, RESET, region
 *                     read / write / mmap
 *   vfio_pci_intrs.c  SET_IRQS, vfio_device_irq()
 *   vfio_pci_pm.c     the LOW_POWER device features: runtime power
 *                     management driven by the user, the wake-up on an
 *                     access, the zap of BAR mappings while low-power
 *   virqfd.c          the user's eventfds: our references, signals, and
 *                     actions run when one is signalled (IOEVENTFD, the
 *                     INTx unmask eventfd)
 *   container.c       /dev/vfio/vfio: an iommufd context with VFIO's type1
 *                     answers, its groups, SET_IOMMU
 *   group.c           /dev/vfio/<group>: status, container, device fds
 *   device_cdev.c     /dev/vfio/devices/vfioN: BIND_IOMMUFD, ATTACH / DETACH
 *   container_nested.c  the nested extension's container ioctls (v13:
 *                     SET_PASID_TABLE, CACHE_INVALIDATE, SET_MSI_BINDING)
 *   vfio_pci_dma_fault.c  the nested extension's device parts: the DMA
 *                     FAULT and FAULT RESPONSE regions and the fault IRQ
 *   vfio_iommu_spapr_tce.c  the container's sPAPR TCE backend (v1, v2, EEH)
 *                     for groups behind an sPAPR IOMMU (lib/hw/spapr)
 *   mm_iommu.c        the process's preregistered memory (sPAPR v2)
 *
 * The IOMMU side is lib/iommufd, used the way drivers/vfio uses iommufd in
 * Linux: every path binds the device (iommufd_device_bind()) to a context
 * and attaches it to an IOAS or HWPT. A device has at most one binding at a
 * time (the IOMMU's DMA ownership, udev->iommufd_priv):
 *   container   bound to the container's context when its group joins an
 *               open container (SET_IOMMU, or SET_CONTAINER after it) and
 *               attached to the container's IOAS; unbound when it leaves
 *   group + iommufd  bound at the first open of the device fd, attached to
 *               the context's compat IOAS; unbound at the last close
 *   cdev        bound by BIND_IOMMUFD, attached by ATTACH_IOMMUFD_PT;
 *               unbound when that fd closes
 *
 * Locks, in order (never take one above while holding one below):
 *   vfio_registry_lock   groups, devices, cdev numbers
 *   group->lock          the group's file, container / iommufd, users,
 *                        cdev_device_open_cnt (Linux's group_lock)
 *   container->lock      (rwlock) its groups and whether SET_IOMMU is done;
 *                        read by the type1 ioctls, written by changes
 *   the container's type1 lock (lib/iommufd)
 *   core->lock           open_count, the binding (Linux's dev_set->lock)
 *   core->ioeventfds_lock  the device's IOEVENTFDs (vfio_pci_core.c)
 *   core->memory_lock    the power state and the BAR mappings' state
 *                        (vfio_pci_pm.c; taken inside an sPAPR PE's watch
 *                        lock, and holds util/file's mapping lock or a
 *                        forked child's agent lock inside)
 *   core->igate          interrupt state (vfio_pci_intrs.c)
 *   virqfd.c's lock      (a leaf but for disable's wait) every virqfd
 *   core->irqlock        (a leaf) INTx delivery's state
 *   core->single_lock    (a leaf) the eventfds of ERR, REQ and device-specific IRQs
 * A virqfd's handler runs with none of these held and takes only what it
 * needs: IOEVENTFD's, the model's locks (a BAR write, which may raise an
 * interrupt); INTx unmask's, core->irqlock. Ending a virqfd waits for its
 * running handler, so it is done with ioeventfds_lock or igate held, never
 * with a lock such a handler takes.
 *   lib/iommufd's locks
 * A group's device list changes only with both the registry lock and the
 * group lock held, so either one is enough to read it.
 */
#ifndef UIOMMU_VFIO_PRIVATE_H
#define UIOMMU_VFIO_PRIVATE_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "iommufd/iommufd_private.h"
#include "util/list.h"
#include "vfio/vfio.h"

#include <linux/vfio.h>

/* Region offsets in a device fd: index << 40 (vfio-pci's layout). */
#define VFIO_PCI_OFFSET_SHIFT	      40
#define VFIO_PCI_OFFSET_TO_INDEX(off) ((uint64_t)(off) >> VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_INDEX_TO_OFFSET(idx) ((uint64_t)(idx) << VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_OFFSET_MASK	      ((1ULL << VFIO_PCI_OFFSET_SHIFT) - 1)

/* Config space size of the PCI shape (a PCIe function's extended space). */
#define VFIO_PCI_CFG_SPACE_MAX 4096

extern pthread_mutex_t vfio_registry_lock;

struct vfio_container;
struct vfio_nested_fault;
struct infocap;
struct virqfd;

struct vfio_group {
	unsigned int id;
	struct iommu_device *iommu;   /* every device of the group is behind it */
	struct list_head device_list; /* vfio_device_core::group_next */
	struct list_head registry_next;

	pthread_mutex_t lock;
	struct uiommu_file *opened_file;   /* the group fd (one at a time), or NULL */
	struct vfio_container *container;  /* SET_CONTAINER to a container */
	struct list_head container_next;   /* container->group_list */
	unsigned int container_users;	   /* 1 + devices opened through the container */
	struct iommufd_ctx *iommufd;	   /* SET_CONTAINER to an iommufd, with a reference */
	unsigned int cdev_device_open_cnt; /* devices bound through their cdev */
};

/* Interrupt state of one device (vfio_pci_intrs.c); under core->igate. */
struct vfio_irq_ctx {
	int trigger; /* our dup of the user's eventfd, or -1 */
};

struct vfio_device_core {
	struct vfio_device *vdev;
	struct vfio_group *group;
	unsigned int index; /* cdev number */
	struct list_head group_next;
	struct list_head registry_next;
	/*
	 * Open device / cdev files (a mapping holds its file). Atomic: it only
	 * rises while something else keeps the device registered (its open
	 * group, or the registry lock held by the cdev open).
	 */
	atomic_uint files;

	pthread_mutex_t lock;
	unsigned int open_count;     /* opens through the group path, or 1 when cdev-bound */
	struct iommufd_device *idev; /* the binding, or NULL */
	struct iommufd_ctx *ictx;    /* its context (the idev holds a reference) */
	uint32_t devid;
	bool iommufd_attached; /* the RID is attached (group path, cdev) */
	bool cdev_opened;      /* bound through the cdev */
	bool container_bound;  /* bound by its group's container */

	/* VFIO_DEVICE_IOEVENTFD (vfio_pci_core.c): struct vfio_pci_ioeventfd, under the lock. */
	pthread_mutex_t ioeventfds_lock;
	struct list_head ioeventfds_list;
	unsigned int ioeventfds_nr;

	/*
	 * Runtime power management (vfio_pci_pm.c; Linux's memory_lock guards
	 * the same): the LOW_POWER features, and every live BAR mapping
	 * (struct vfio_bar_map, vfio_pci_core.c), zapped while engaged.
	 * pm_runtime_engaged is written under memory_lock and read without it
	 * by the paths that only test it (an access's wake-up, IOEVENTFD).
	 */
	pthread_mutex_t memory_lock;
	atomic_bool pm_runtime_engaged; /* LOW_POWER_ENTRY(_WITH_WAKEUP) in force */
	int pm_wake_fd;			/* our dup of the wake-up eventfd, or -1 */
	struct list_head bar_maps;	/* struct vfio_bar_map::next */

	/* Interrupts. */
	pthread_mutex_t igate;
	pthread_mutex_t irqlock;     /* INTx delivery: irq_type, ctx, intx_*; a leaf */
	struct virqfd *intx_unmask;  /* SET_IRQS UNMASK's eventfd (igate) */
	pthread_mutex_t single_lock; /* single[].trigger; a leaf: nothing is taken inside */
	int irq_type;		     /* VFIO_PCI_INTX/MSI/MSIX_IRQ_INDEX enabled, or -1 */
	unsigned int num_ctx;
	struct vfio_irq_ctx *ctx; /* num_ctx vectors of irq_type */
	bool intx_masked, intx_pending;
	struct vfio_irq_ctx
		*single; /* ERR, REQ and device-specific: index - VFIO_PCI_ERR_IRQ_INDEX */
	unsigned int nr_single;

	/*
	 * The nested extension's regions and IRQ (vfio_pci_dma_fault.c): set
	 * at the first open through a nesting container, cleared at the last
	 * close (both under lock); stable while any file of the device is open.
	 */
	struct vfio_nested_fault *nested;
};

/* An open device fd (group path) or cdev fd. */
struct vfio_device_file {
	struct vfio_device *device;
	struct vfio_group *group;	/* the group path; NULL: cdev */
	struct uiommu_file *group_file; /* the group path: a reference on the group's file */
	struct uiommu_file *file;
	struct iommufd_ctx *iommufd; /* cdev: the context BIND gave, with a reference */
	atomic_bool access_granted;  /* opened (group path) or bound (cdev) */
};

static inline struct vfio_device_core *vfio_core(struct vfio_device *vdev)
{
	return vdev->core;
}

/* vfio_main.c */
extern const struct ufile_ops vfio_device_fops;
struct vfio_device_file *vfio_allocate_device_file(struct vfio_device *vdev);
/* A device file of @df (which it takes over), installed as a new fd; NULL with *err. */
struct uiommu_file *vfio_device_file_create(struct vfio_device_file *df, int *err);
/* First open / last close of the device: the model's open_device and the IOMMU binding. */
int vfio_df_open(struct vfio_device_file *df);
void vfio_df_close(struct vfio_device_file *df);
/* Bind @vdev to @ictx (core->lock held); attach to @ioas_id unless 0. */
int vfio_device_bind_iommufd(struct vfio_device *vdev, struct iommufd_ctx *ictx, uint32_t ioas_id);
/* Undo it: detach the RID and every PASID, unbind (core->lock held). */
void vfio_device_unbind_iommufd(struct vfio_device *vdev);
/* The device of @group called @name, or NULL (group->lock held). */
struct vfio_device *vfio_group_find_device(struct vfio_group *group, const char *name);
/* Registry counts of open files (keep the device registered). */
void vfio_device_get_file(struct vfio_device *vdev);
void vfio_device_put_file(struct vfio_device *vdev);

/* vfio_pci_core.c */
void vfio_pci_ioeventfds_init(struct vfio_device_core *core);
void vfio_pci_ioeventfds_free(struct vfio_device_core *core);
/* End every IOEVENTFD of the device (its last close). */
void vfio_pci_ioeventfds_teardown(struct vfio_device *vdev);
long vfio_pci_core_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg);
ssize_t vfio_pci_core_rw(struct vfio_device *vdev, void *buf, size_t count, int64_t *ppos,
			 bool write);
int vfio_pci_core_mmap(struct vfio_device_file *df, void *addr, size_t length, int prot, int flags,
		       int64_t offset, void **out);
/* The region's description, with the core's own checks of the model's answer. */
void vfio_pci_region_info(struct vfio_device *vdev, unsigned int index, struct vfio_region *info);
void vfio_pci_irq_info(struct vfio_device *vdev, unsigned int index, struct vfio_irq *info);

/* vfio_pci_pm.c */
void vfio_pci_pm_init(struct vfio_device_core *core);
void vfio_pci_pm_free(struct vfio_device_core *core);
/*
 * An access through the device fd (an ioctl, a read or write of a region)
 * resumes the device first, as Linux's pm_runtime_resume_and_get() around
 * them: a device in low power with a wake-up eventfd signals it and leaves
 * low power; without one it stays engaged (it suspends again after).
 */
void vfio_pci_pm_access(struct vfio_device *vdev);
/* The last close (vfio_pci_core_disable()): out of low power, no signal. */
void vfio_pci_pm_close(struct vfio_device *vdev);
/* VFIO_DEVICE_FEATURE's device part (vfio_pci_core_ioctl_feature()); @arg: the data. */
int vfio_pci_core_ioctl_feature(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz);
/* Is the device in low power now (IOEVENTFD's writes are dropped then)? */
bool vfio_pci_pm_engaged(struct vfio_device *vdev);

/*
 * vfio_pci_core.c: put every live BAR mapping of the device in the state
 * the device and its PE say (memory_lock held): the device's memory, a
 * private page of all ones while its sPAPR PE's MMIO is frozen, or pages
 * that raise SIGBUS while the device is in low power (Linux's zap, after
 * which its fault handler answers VM_FAULT_SIGBUS). 0, or the errno of
 * making the empty file that zapped pages map (nothing changed then).
 */
int vfio_pci_bar_maps_update(struct vfio_device *vdev);

/*
 * vfio_check_feature() (include/linux/vfio.h): 1 to go on with the
 * feature, 0 for a PROBE that the feature supports, or -EINVAL (GET or SET
 * it does not have; neither GET nor SET without PROBE; argsz < minsz).
 */
static inline int vfio_check_feature(uint32_t flags, size_t argsz, uint32_t supported_ops,
				     size_t minsz)
{
	if (flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET) & ~supported_ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

/* vfio_pci_intrs.c */
int vfio_intrs_init(struct vfio_device_core *core, unsigned int num_irqs);
void vfio_intrs_free(struct vfio_device_core *core);
/* Turn every interrupt off and drop every eventfd (last close, reset of state). */
void vfio_intrs_teardown(struct vfio_device *vdev);
int vfio_pci_ioctl_set_irqs(struct vfio_device *vdev, void *arg);

/* vfio_pci_dma_fault.c */
/* Indexes the device has now: the model's, plus the nested extension's while it is open. */
unsigned int vfio_num_regions(struct vfio_device *vdev);
unsigned int vfio_num_irqs(struct vfio_device *vdev);
/* First open through a nesting container / last close (core->lock held). */
int vfio_dma_fault_open(struct vfio_device *vdev);
void vfio_dma_fault_close(struct vfio_device *vdev);
/* Describe one of its regions (false: not one); *cap_id: its DMA_FAULT(_RESPONSE) cap. */
bool vfio_dma_fault_region_info(struct vfio_device *vdev, unsigned int index,
				struct vfio_region *info, uint16_t *cap_id);
int vfio_dma_fault_add_cap(struct infocap *caps, uint16_t cap_id);
bool vfio_dma_fault_irq_info(struct vfio_device *vdev, unsigned int index, struct vfio_irq *info);
ssize_t vfio_dma_fault_rw(struct vfio_device *vdev, unsigned int index, uint64_t off, void *ubuf,
			  size_t count, bool write);
int vfio_dma_fault_mmap(struct vfio_device *vdev, unsigned int index, uint64_t off, uint64_t len,
			int *fd, uint64_t *fd_off);

/* container_nested.c: SET_PASID_TABLE / CACHE_INVALIDATE / SET_MSI_BINDING (group_lock read). */
long vfio_container_nested_ioctl(struct vfio_container *container, unsigned int cmd,
				 unsigned long arg);

/* container.c */
struct uiommu_file *vfio_container_fops_open(int flags, int *err);
struct vfio_container *vfio_container_from_file(struct uiommu_file *file);
/* SET_CONTAINER / UNSET_CONTAINER / group release (group->lock held). */
int vfio_container_attach_group(struct vfio_container *container, struct vfio_group *group);
void vfio_group_detach_container(struct vfio_group *group);
/* GET_DEVICE_FD through a container: EINVAL until SET_IOMMU (group->lock held). */
int vfio_group_use_container(struct vfio_group *group);
void vfio_group_unuse_container(struct vfio_group *group);
/* The group's container runs VFIO_TYPE1_NESTING_IOMMU (group->lock held). */
bool vfio_group_container_nesting(struct vfio_group *group);
/*
 * @fn on every device of the container's groups bound to its context, in
 * order, until one returns non-zero (returned). The caller holds the
 * container's group lock (the nested ioctls: for reading).
 */
int vfio_container_for_each_device(struct vfio_container *container,
				   int (*fn)(struct vfio_device_core *core, void *arg), void *arg);

/* vfio_iommu_spapr_tce.c (the container's group_lock held as container.c says) */
struct tce_container;
struct spapr_pe;
bool vfio_spapr_group_is_spapr(struct vfio_group *group);
struct spapr_pe *vfio_spapr_group_pe(struct vfio_group *group);
long tce_iommu_check_extension(unsigned long arg);
struct tce_container *tce_iommu_open(unsigned long arg, int *err);
void tce_iommu_release(struct tce_container *tc);
int tce_iommu_attach_group(struct tce_container *tc, struct vfio_group *group);
void tce_iommu_detach_group(struct tce_container *tc, struct vfio_group *group);
long tce_iommu_ioctl(struct tce_container *tc, unsigned int cmd, unsigned long arg);

/* mm_iommu.c: a preregistered region, in kernel pages of SPAPR_PAGE_SIZE. */
struct mm_iommu_mem {
	struct list_head next;
	uint64_t used;		/* containers that registered it (mm_iommu_lock) */
	_Atomic int64_t mapped; /* 1 + TCEs pointing into it; 0 once released */
	unsigned int pageshift; /* the largest TCE page it can back */
	uint64_t ua, entries;
};
long mm_iommu_new(uint64_t ua, uint64_t entries, struct mm_iommu_mem **pmem);
struct mm_iommu_mem *mm_iommu_get(uint64_t ua, uint64_t entries);
long mm_iommu_put(struct mm_iommu_mem *mem);
struct mm_iommu_mem *mm_iommu_lookup(uint64_t ua, uint64_t size);
long mm_iommu_ua_to_hpa(struct mm_iommu_mem *mem, uint64_t ua, unsigned int pageshift,
			uint64_t *hpa);
long mm_iommu_mapped_inc(struct mm_iommu_mem *mem);
void mm_iommu_mapped_dec(struct mm_iommu_mem *mem);
uint64_t mm_iommu_mapped(const struct mm_iommu_mem *mem);

/* group.c */
struct uiommu_file *vfio_group_fops_open(struct vfio_group *group, int flags, int *err);
bool vfio_group_has_iommu(struct vfio_group *group);
/* The cdev path keeps the group closed while a device is bound (EBUSY). */
int vfio_device_block_group(struct vfio_device *vdev);
void vfio_device_unblock_group(struct vfio_device *vdev);

/* device_cdev.c */
struct uiommu_file *vfio_device_fops_cdev_open(struct vfio_device *vdev, int flags, int *err);
long vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df, void *arg);
long vfio_df_ioctl_attach_pt(struct vfio_device_file *df, void *arg);
long vfio_df_ioctl_detach_pt(struct vfio_device_file *df, void *arg);
void vfio_df_unbind_iommufd(struct vfio_device_file *df);

#endif
