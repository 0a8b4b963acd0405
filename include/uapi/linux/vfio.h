/* SPDX-License-Identifier: MIT */
/*
 * <linux/vfio.h> - the VFIO user ABI, as uiommu speaks it.
 *
 * uiommu's own transcription of Linux's VFIO uAPI: the container and its
 * type1 IOMMU (info capabilities, MAP/UNMAP_DMA, dirty tracking), groups,
 * device fds (regions, capabilities, IRQs, reset, PCI hot reset, IOEVENTFD), the device
 * cdev (BIND_IOMMUFD, ATTACH/DETACH_IOMMUFD_PT with the PASID variants), and
 * the nested-stage ("IOMMU dual stage control") extension of the never-merged
 * v13 series (reference vfio.md §2: SET_PASID_TABLE, CACHE_INVALIDATE,
 * SET_MSI_BINDING, the NESTED region type with the DMA fault and fault
 * response regions, IRQ capability chains and the DMA fault IRQ), which
 * needs <linux/iommu.h> of that era. Numbers, field order and sizes are
 * Linux's (facts from the reference notes, vfio.md §1 to §5, and Linux
 * 6.12's header); the wording is ours. The sPAPR TCE container (v1 and v2:
 * GET_INFO with DDW, ENABLE/DISABLE, memory preregistration, window
 * CREATE/REMOVE) and EEH (VFIO_EEH_PE_OP) follow the type1 part; their
 * numbers 100 + 12..21 are shared with type1 and device ioctls.
 *
 * Where v13 and upstream differ, this header is v13: struct vfio_irq_info
 * has the trailing cap_offset (20 bytes; the kernel writes it back only to
 * callers whose argsz covers it, so 16-byte callers are unaffected), and
 * extension 6 is VFIO_TYPE1_NESTING_IOMMU (upstream since 6.13 calls it
 * __VFIO_RESERVED_TYPE1_NESTING_IOMMU; both names are defined). The ioctl
 * numbers 100 + 18..20 mean the cdev's BIND/ATTACH/DETACH on a device fd
 * and the nested SET_PASID_TABLE / CACHE_INVALIDATE / SET_MSI_BINDING on a
 * container fd: dispatch depends on the fd.
 *
 * Every VFIO ioctl is _IO(';', 100 + n): no size or direction bits. Every
 * struct starts with argsz (the caller's sizeof) and flags.
 */
#ifndef _UAPIVFIO_H
#define _UAPIVFIO_H

#include <linux/ioctl.h>
#include <linux/iommu.h>
#include <linux/types.h>

#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif

#define VFIO_API_VERSION 0

/* Extensions (VFIO_CHECK_EXTENSION argument; SET_IOMMU takes the IOMMU types). */
#define VFIO_TYPE1_IOMMU		    1
#define VFIO_SPAPR_TCE_IOMMU		    2
#define VFIO_TYPE1v2_IOMMU		    3
#define VFIO_DMA_CC_IOMMU		    4
#define VFIO_EEH			    5
#define VFIO_TYPE1_NESTING_IOMMU	    6 /* implies v2 (nested extension, v13) */
#define __VFIO_RESERVED_TYPE1_NESTING_IOMMU 6
#define VFIO_SPAPR_TCE_v2_IOMMU		    7
#define VFIO_NOIOMMU_IOMMU		    8
#define VFIO_UNMAP_ALL			    9
#define VFIO_UPDATE_VADDR		    10

#define VFIO_TYPE (';')
#define VFIO_BASE 100

/* Capability chains: next is an offset from the start of the info struct, 0 ends. */
struct vfio_info_cap_header {
	__u16 id;
	__u16 version;
	__u32 next;
};

/* Container ioctls. */
#define VFIO_GET_API_VERSION _IO(VFIO_TYPE, VFIO_BASE + 0)
#define VFIO_CHECK_EXTENSION _IO(VFIO_TYPE, VFIO_BASE + 1)
#define VFIO_SET_IOMMU	     _IO(VFIO_TYPE, VFIO_BASE + 2)

/* ---- group fd (/dev/vfio/<group>) ---- */

struct vfio_group_status {
	__u32 argsz;
	__u32 flags;
#define VFIO_GROUP_FLAGS_VIABLE	       (1 << 0) /* every device of the group may be used */
#define VFIO_GROUP_FLAGS_CONTAINER_SET (1 << 1) /* set to a container or an iommufd */
};
#define VFIO_GROUP_GET_STATUS _IO(VFIO_TYPE, VFIO_BASE + 3)

/* Argument: a pointer to the __s32 fd of a container (or of an iommufd). */
#define VFIO_GROUP_SET_CONTAINER   _IO(VFIO_TYPE, VFIO_BASE + 4)
#define VFIO_GROUP_UNSET_CONTAINER _IO(VFIO_TYPE, VFIO_BASE + 5)
/* Argument: the device's name, NUL terminated. Returns a new device fd. */
#define VFIO_GROUP_GET_DEVICE_FD _IO(VFIO_TYPE, VFIO_BASE + 6)

/* ---- device fd ---- */

struct vfio_device_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_FLAGS_RESET	   (1 << 0) /* VFIO_DEVICE_RESET works */
#define VFIO_DEVICE_FLAGS_PCI	   (1 << 1)
#define VFIO_DEVICE_FLAGS_PLATFORM (1 << 2)
#define VFIO_DEVICE_FLAGS_AMBA	   (1 << 3)
#define VFIO_DEVICE_FLAGS_CCW	   (1 << 4)
#define VFIO_DEVICE_FLAGS_AP	   (1 << 5)
#define VFIO_DEVICE_FLAGS_FSL_MC   (1 << 6)
#define VFIO_DEVICE_FLAGS_CAPS	   (1 << 7) /* cap_offset is valid */
#define VFIO_DEVICE_FLAGS_CDX	   (1 << 8)
	__u32 num_regions; /* highest region index + 1 */
	__u32 num_irqs;	   /* highest IRQ index + 1 */
	__u32 cap_offset;
	__u32 pad;
};
#define VFIO_DEVICE_GET_INFO _IO(VFIO_TYPE, VFIO_BASE + 7)

#define VFIO_DEVICE_API_PCI_STRING	"vfio-pci"
#define VFIO_DEVICE_API_PLATFORM_STRING "vfio-platform"
#define VFIO_DEVICE_API_AMBA_STRING	"vfio-amba"
#define VFIO_DEVICE_API_CCW_STRING	"vfio-ccw"
#define VFIO_DEVICE_API_AP_STRING	"vfio-ap"

/* Device info capabilities. */
#define VFIO_DEVICE_INFO_CAP_ZPCI_BASE	     1
#define VFIO_DEVICE_INFO_CAP_ZPCI_GROUP	     2
#define VFIO_DEVICE_INFO_CAP_ZPCI_UTIL	     3
#define VFIO_DEVICE_INFO_CAP_ZPCI_PFIP	     4
#define VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP 5

struct vfio_device_info_cap_pci_atomic_comp {
	struct vfio_info_cap_header header;
	__u32 flags;
#define VFIO_PCI_ATOMIC_COMP32	(1 << 0)
#define VFIO_PCI_ATOMIC_COMP64	(1 << 1)
#define VFIO_PCI_ATOMIC_COMP128 (1 << 2)
	__u32 reserved;
};

struct vfio_region_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_REGION_INFO_FLAG_READ  (1 << 0)
#define VFIO_REGION_INFO_FLAG_WRITE (1 << 1)
#define VFIO_REGION_INFO_FLAG_MMAP  (1 << 2)
#define VFIO_REGION_INFO_FLAG_CAPS  (1 << 3) /* cap_offset is valid */
	__u32 index;
	__u32 cap_offset;
	__aligned_u64 size;   /* bytes; 0: not implemented */
	__aligned_u64 offset; /* where the region starts in the device fd */
};
#define VFIO_DEVICE_GET_REGION_INFO _IO(VFIO_TYPE, VFIO_BASE + 8)

/* Only these parts of an mmap-able region may be mapped. */
#define VFIO_REGION_INFO_CAP_SPARSE_MMAP 1

struct vfio_region_sparse_mmap_area {
	__aligned_u64 offset; /* within the region */
	__aligned_u64 size;
};

struct vfio_region_info_cap_sparse_mmap {
	struct vfio_info_cap_header header;
	__u32 nr_areas;
	__u32 reserved;
	struct vfio_region_sparse_mmap_area areas[];
};

/* What a device-specific region (index >= VFIO_PCI_NUM_REGIONS) is. */
#define VFIO_REGION_INFO_CAP_TYPE 2

struct vfio_region_info_cap_type {
	struct vfio_info_cap_header header;
	__u32 type;
	__u32 subtype;
};

#define VFIO_REGION_TYPE_PCI_VENDOR_TYPE      ((int)(1U << 31)) /* Linux: (1 << 31), an int */
#define VFIO_REGION_TYPE_PCI_VENDOR_MASK      (0xffff)
#define VFIO_REGION_TYPE_GFX		      (1)
#define VFIO_REGION_TYPE_CCW		      (2)
#define VFIO_REGION_TYPE_MIGRATION_DEPRECATED (3)
/* The nested extension (v12/v13; it was 2 in v8-v11). */
#define VFIO_REGION_TYPE_NESTED (4)

#define VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION	      (1)
#define VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG	      (2)
#define VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG	      (3)
#define VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM	      (1)
#define VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD	      (1)
#define VFIO_REGION_SUBTYPE_GFX_EDID		      (1)
#define VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD	      (1)
#define VFIO_REGION_SUBTYPE_CCW_SCHIB		      (2)
#define VFIO_REGION_SUBTYPE_CCW_CRW		      (3)
#define VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED      (1)
#define VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT	      (1)
#define VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT_RESPONSE (2)

/* The MSI-X table of this BAR may be mmap()ed. No payload. */
#define VFIO_REGION_INFO_CAP_MSIX_MAPPABLE 3
/* 4 and 5 were the NVLink2 capabilities (removed). */

/*
 * DMA_FAULT region (NESTED / DMA_FAULT): the ABI version of the fault
 * records in the ring (struct iommu_fault, version 1).
 */
#define VFIO_REGION_INFO_CAP_DMA_FAULT 6

struct vfio_region_info_cap_fault {
	struct vfio_info_cap_header header;
	__u32 version;
};

/* DMA_FAULT_RESPONSE region: the ABI version of the response records. */
#define VFIO_REGION_INFO_CAP_DMA_FAULT_RESPONSE 7

struct vfio_region_info_cap_fault_response {
	struct vfio_info_cap_header header;
	__u32 version;
};

/*
 * Page 0 of the DMA_FAULT region. The ring of nb_entries records of
 * entry_size bytes starts at @offset (PAGE_SIZE) and may be mmap()ed; the
 * header only read and, for @tail, written with a 4-byte pwrite at 0.
 */
struct vfio_region_dma_fault {
	__u32 tail;	  /* written by the user: the next record it will read */
	__u32 entry_size; /* sizeof(struct iommu_fault) */
	__u32 nb_entries;
	__u32 offset;
	__u32 head; /* written by the kernel: where the next fault goes */
};

/* Page 0 of the DMA_FAULT_RESPONSE region: the mirror image. */
struct vfio_region_dma_fault_response {
	__u32 head;	  /* written by the user: where its next response goes */
	__u32 entry_size; /* sizeof(struct iommu_page_response) */
	__u32 nb_entries;
	__u32 offset;
	__u32 tail; /* written by the kernel: the next response it consumes */
};

struct vfio_irq_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_IRQ_INFO_EVENTFD	 (1 << 0)
#define VFIO_IRQ_INFO_MASKABLE	 (1 << 1)
#define VFIO_IRQ_INFO_AUTOMASKED (1 << 2)
#define VFIO_IRQ_INFO_NORESIZE	 (1 << 3)
#define VFIO_IRQ_INFO_FLAG_CAPS	 (1 << 4) /* cap_offset is valid (nested extension) */
	__u32 index;
	__u32 count; /* 0: not implemented */
	/* Nested extension (v13): written back only when argsz covers it. */
	__u32 cap_offset;
};
#define VFIO_DEVICE_GET_IRQ_INFO _IO(VFIO_TYPE, VFIO_BASE + 9)

/* What a device-specific IRQ (index >= VFIO_PCI_NUM_IRQS) is. */
#define VFIO_IRQ_INFO_CAP_TYPE 3

struct vfio_irq_info_cap_type {
	struct vfio_info_cap_header header;
	__u32 type;
	__u32 subtype;
};

#define VFIO_IRQ_TYPE_NESTED	   (1)
#define VFIO_IRQ_SUBTYPE_DMA_FAULT (1)

struct vfio_irq_set {
	__u32 argsz;
	__u32 flags;
#define VFIO_IRQ_SET_DATA_NONE	    (1 << 0) /* no data */
#define VFIO_IRQ_SET_DATA_BOOL	    (1 << 1) /* count __u8 */
#define VFIO_IRQ_SET_DATA_EVENTFD   (1 << 2) /* count __s32 fds, -1 de-assigns */
#define VFIO_IRQ_SET_ACTION_MASK    (1 << 3)
#define VFIO_IRQ_SET_ACTION_UNMASK  (1 << 4)
#define VFIO_IRQ_SET_ACTION_TRIGGER (1 << 5)
	__u32 index;
	__u32 start;
	__u32 count;
	__u8 data[];
};
#define VFIO_DEVICE_SET_IRQS _IO(VFIO_TYPE, VFIO_BASE + 10)

#define VFIO_IRQ_SET_DATA_TYPE_MASK \
	(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD)
#define VFIO_IRQ_SET_ACTION_TYPE_MASK \
	(VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER)

#define VFIO_DEVICE_RESET _IO(VFIO_TYPE, VFIO_BASE + 11)

/* The fixed indexes of a vfio-pci device; the region offset is index << 40. */
enum {
	VFIO_PCI_BAR0_REGION_INDEX,
	VFIO_PCI_BAR1_REGION_INDEX,
	VFIO_PCI_BAR2_REGION_INDEX,
	VFIO_PCI_BAR3_REGION_INDEX,
	VFIO_PCI_BAR4_REGION_INDEX,
	VFIO_PCI_BAR5_REGION_INDEX,
	VFIO_PCI_ROM_REGION_INDEX,
	VFIO_PCI_CONFIG_REGION_INDEX,
	VFIO_PCI_VGA_REGION_INDEX,
	VFIO_PCI_NUM_REGIONS = 9 /* fixed; higher indexes carry a type capability */
};

enum {
	VFIO_PCI_INTX_IRQ_INDEX,
	VFIO_PCI_MSI_IRQ_INDEX,
	VFIO_PCI_MSIX_IRQ_INDEX,
	VFIO_PCI_ERR_IRQ_INDEX,
	VFIO_PCI_REQ_IRQ_INDEX,
	VFIO_PCI_NUM_IRQS /* 5, fixed; higher indexes carry a type capability */
};

/* PCI hot reset (+12 / +13 on a device fd). */
struct vfio_pci_dependent_device {
	union {
		__u32 group_id;
		__u32 devid;
#define VFIO_PCI_DEVID_OWNED	 0
#define VFIO_PCI_DEVID_NOT_OWNED -1
	};
	__u16 segment;
	__u8 bus;
	__u8 devfn;
};

struct vfio_pci_hot_reset_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID	     (1 << 0)
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED (1 << 1)
	__u32 count;
	struct vfio_pci_dependent_device devices[];
};
#define VFIO_DEVICE_GET_PCI_HOT_RESET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

struct vfio_pci_hot_reset {
	__u32 argsz;
	__u32 flags;
	__u32 count;
	__s32 group_fds[];
};
#define VFIO_DEVICE_PCI_HOT_RESET _IO(VFIO_TYPE, VFIO_BASE + 13)

/*
 * IOEVENTFD (+16 on a device fd; +16 on a type1 container is
 * VFIO_IOMMU_DISABLE): when the eventfd @fd is signalled, write @data, of
 * the one size flags names, at device fd offset @offset (vfio-pci: a BAR,
 * outside the MSI-X table). @fd -1 removes the ioeventfd of that offset,
 * data and size.
 */
struct vfio_device_ioeventfd {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_IOEVENTFD_8		(1 << 0)
#define VFIO_DEVICE_IOEVENTFD_16	(1 << 1)
#define VFIO_DEVICE_IOEVENTFD_32	(1 << 2)
#define VFIO_DEVICE_IOEVENTFD_64	(1 << 3)
#define VFIO_DEVICE_IOEVENTFD_SIZE_MASK (0xf)
	__aligned_u64 offset;
	__aligned_u64 data;
	__s32 fd;
	__u32 reserved;
};
#define VFIO_DEVICE_IOEVENTFD _IO(VFIO_TYPE, VFIO_BASE + 16)

/*
 * Device features (+17 on a device fd; +17 on a container is DIRTY_PAGES):
 * the low 16 bits of flags name the feature, GET / SET / PROBE the access.
 */
struct vfio_device_feature {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_FEATURE_MASK  (0xffff)
#define VFIO_DEVICE_FEATURE_GET	  (1 << 16)
#define VFIO_DEVICE_FEATURE_SET	  (1 << 17)
#define VFIO_DEVICE_FEATURE_PROBE (1 << 18)
	__u8 data[];
};
#define VFIO_DEVICE_FEATURE _IO(VFIO_TYPE, VFIO_BASE + 17)

/* Feature numbers (payloads are transcribed for the features a device offers). */
#define VFIO_DEVICE_FEATURE_PCI_VF_TOKEN		(0)
#define VFIO_DEVICE_FEATURE_MIGRATION			1
#define VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE		2
#define VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY		3
#define VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP 4
#define VFIO_DEVICE_FEATURE_LOW_POWER_EXIT		5
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_START		6
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP		7
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT		8
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE		9
#define VFIO_DEVICE_FEATURE_BUS_MASTER			10

/*
 * LOW_POWER_ENTRY_WITH_WAKEUP's payload (SET only): the eventfd signalled
 * when an access wakes the device, which then leaves low power. reserved
 * is not checked.
 */
struct vfio_device_low_power_entry_with_wakeup {
	__s32 wakeup_eventfd;
	__u32 reserved;
};

/* ---- device cdev (/dev/vfio/devices/vfioN) ---- */

struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags; /* must be 0 */
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_ATTACH_PASID (1 << 0)
	__u32 pt_id; /* in: IOAS or HWPT; out: the HWPT attached */
	__u32 pasid; /* with VFIO_DEVICE_ATTACH_PASID */
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_DETACH_PASID (1 << 0)
	__u32 pasid; /* with VFIO_DEVICE_DETACH_PASID */
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)

/* ---- type1 IOMMU ---- */

struct vfio_iommu_type1_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_INFO_PGSIZES (1 << 0) /* iova_pgsizes is valid */
#define VFIO_IOMMU_INFO_CAPS	(1 << 1) /* cap_offset is valid */
	__aligned_u64 iova_pgsizes;
	__u32 cap_offset;
	__u32 pad;
};

/* Usable IOVA ranges (inclusive). */
#define VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE 1

struct vfio_iova_range {
	__u64 start;
	__u64 end;
};

struct vfio_iommu_type1_info_cap_iova_range {
	struct vfio_info_cap_header header;
	__u32 nr_iovas;
	__u32 reserved;
	struct vfio_iova_range iova_ranges[];
};

/*
 * Dirty tracking (migration) support: the page sizes dirty bitmaps use and
 * the largest bitmap accepted. Reported by VFIO's type1, not by the iommufd
 * compat layer.
 */
#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION 2

struct vfio_iommu_type1_info_cap_migration {
	struct vfio_info_cap_header header;
	__u32 flags;
	__u64 pgsize_bitmap;
	__u64 max_dirty_bitmap_size; /* bytes */
};

/* How many more MAP_DMA entries the container accepts. */
#define VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL 3

struct vfio_iommu_type1_info_dma_avail {
	struct vfio_info_cap_header header;
	__u32 avail;
};

#define VFIO_IOMMU_GET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

struct vfio_iommu_type1_dma_map {
	__u32 argsz;
	__u32 flags;
#define VFIO_DMA_MAP_FLAG_READ	(1 << 0) /* readable from the device */
#define VFIO_DMA_MAP_FLAG_WRITE (1 << 1) /* writable from the device */
#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)
	__u64 vaddr;
	__u64 iova;
	__u64 size;
};

#define VFIO_IOMMU_MAP_DMA _IO(VFIO_TYPE, VFIO_BASE + 13)

struct vfio_bitmap {
	__u64 pgsize;
	__u64 size;
	__u64 *data;
};

struct vfio_iommu_type1_dma_unmap {
	__u32 argsz;
	__u32 flags;
#define VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1 << 0)
#define VFIO_DMA_UNMAP_FLAG_ALL		     (1 << 1)
#define VFIO_DMA_UNMAP_FLAG_VADDR	     (1 << 2)
	__u64 iova;
	__u64 size; /* in: bytes to unmap; out: bytes unmapped */
	__u8 data[];
};

#define VFIO_IOMMU_UNMAP_DMA _IO(VFIO_TYPE, VFIO_BASE + 14)

/* sPAPR v1 only; type1 and the iommufd compatibility layer answer ENOTTY. */
#define VFIO_IOMMU_ENABLE  _IO(VFIO_TYPE, VFIO_BASE + 15)
#define VFIO_IOMMU_DISABLE _IO(VFIO_TYPE, VFIO_BASE + 16)

/*
 * Dirty page tracking of a type1 v2 container (not the iommufd compat
 * layer): exactly one flag; GET_BITMAP carries a
 * struct vfio_iommu_type1_dirty_bitmap_get in data[].
 */
struct vfio_iommu_type1_dirty_bitmap {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_START      (1 << 0)
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP       (1 << 1)
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP (1 << 2)
	__u8 data[];
};

struct vfio_iommu_type1_dirty_bitmap_get {
	__u64 iova;
	__u64 size;
	struct vfio_bitmap bitmap;
};

#define VFIO_IOMMU_DIRTY_PAGES _IO(VFIO_TYPE, VFIO_BASE + 17)

/*
 * ---- The nested-stage extension on a container (v13; reference vfio.md §2) ----
 * Only on a VFIO_TYPE1_NESTING_IOMMU container. The embedded IOMMU structs
 * (<linux/iommu.h>) are validated by their own argsz.
 */
struct vfio_iommu_type1_set_pasid_table {
	__u32 argsz;
	__u32 flags;
#define VFIO_PASID_TABLE_FLAG_SET   (1 << 0)
#define VFIO_PASID_TABLE_FLAG_UNSET (1 << 1)
	struct iommu_pasid_table_config config; /* SET only */
};
#define VFIO_IOMMU_SET_PASID_TABLE _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_iommu_type1_cache_invalidate {
	__u32 argsz;
	__u32 flags; /* must be 0 */
	struct iommu_cache_invalidate_info info;
};
#define VFIO_IOMMU_CACHE_INVALIDATE _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_iommu_type1_set_msi_binding {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_BIND_MSI   (1 << 0)
#define VFIO_IOMMU_UNBIND_MSI (1 << 1)
	__u64 iova; /* guest IOVA of the MSI doorbell */
	__u64 gpa;  /* the guest physical address it maps to (BIND) */
	__u64 size; /* bytes of the stage-1 mapping (BIND) */
};
#define VFIO_IOMMU_SET_MSI_BINDING _IO(VFIO_TYPE, VFIO_BASE + 20)

/* ---- sPAPR TCE IOMMU (VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU) ---- */

/* Dynamic DMA windows: page sizes, how many windows, how many table levels. */
struct vfio_iommu_spapr_tce_ddw_info {
	__u64 pgsizes; /* bitmap of TCE page sizes */
	__u32 max_dynamic_windows_supported;
	__u32 levels; /* the most levels a TCE table may have */
};

/*
 * The 32-bit window (bus addresses, absolute: MAP_DMA's iova is a bus
 * address, the window filters it) and, with the DDW flag (v2 containers
 * on platforms with dynamic windows), the ddw part.
 */
struct vfio_iommu_spapr_tce_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_SPAPR_INFO_DDW (1 << 0)
	__u32 dma32_window_start;
	__u32 dma32_window_size;
	struct vfio_iommu_spapr_tce_ddw_info ddw;
};
#define VFIO_IOMMU_SPAPR_TCE_GET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

/* EEH: an operation on the PE of every group of the container. */
struct vfio_eeh_pe_err {
	__u32 type; /* 0: 32-bit, 1: 64-bit */
	__u32 func; /* 0..19: load / store / DMA read / DMA write, address or data */
	__u64 addr;
	__u64 mask;
};

struct vfio_eeh_pe_op {
	__u32 argsz;
	__u32 flags;
	__u32 op;
	union {
		struct vfio_eeh_pe_err err; /* VFIO_EEH_PE_INJECT_ERR */
	};
};

#define VFIO_EEH_PE_DISABLE	      0
#define VFIO_EEH_PE_ENABLE	      1
#define VFIO_EEH_PE_UNFREEZE_IO	      2
#define VFIO_EEH_PE_UNFREEZE_DMA      3
#define VFIO_EEH_PE_GET_STATE	      4 /* the ioctl's return value is the state: */
#define VFIO_EEH_PE_STATE_NORMAL      0 /*   working */
#define VFIO_EEH_PE_STATE_RESET	      1 /*   reset asserted */
#define VFIO_EEH_PE_STATE_STOPPED     2 /*   DMA and MMIO stopped */
#define VFIO_EEH_PE_STATE_STOPPED_DMA 4 /*   DMA stopped */
#define VFIO_EEH_PE_STATE_UNAVAIL     5 /*   unknown */
#define VFIO_EEH_PE_RESET_DEACTIVATE  5
#define VFIO_EEH_PE_RESET_HOT	      6
#define VFIO_EEH_PE_RESET_FUNDAMENTAL 7
#define VFIO_EEH_PE_CONFIGURE	      8
#define VFIO_EEH_PE_INJECT_ERR	      9

#define VFIO_EEH_PE_OP _IO(VFIO_TYPE, VFIO_BASE + 21)

/* v2: pin and account user memory up front; MAP_DMA then maps only from it. */
struct vfio_iommu_spapr_register_memory {
	__u32 argsz;
	__u32 flags; /* must be 0 */
	__u64 vaddr;
	__u64 size;
};
#define VFIO_IOMMU_SPAPR_REGISTER_MEMORY   _IO(VFIO_TYPE, VFIO_BASE + 17)
#define VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY _IO(VFIO_TYPE, VFIO_BASE + 18)

/* v2: a new DMA window (TCE table) in every group; the platform picks its bus start. */
struct vfio_iommu_spapr_tce_create {
	__u32 argsz;
	__u32 flags; /* must be 0 */
	/* in */
	__u32 page_shift;
	__u32 __resv1;
	__u64 window_size;
	__u32 levels;
	__u32 __resv2;
	/* out */
	__u64 start_addr;
};
#define VFIO_IOMMU_SPAPR_TCE_CREATE _IO(VFIO_TYPE, VFIO_BASE + 19)

/* v2: remove the window that starts at start_addr. */
struct vfio_iommu_spapr_tce_remove {
	__u32 argsz;
	__u32 flags; /* must be 0 */
	/* in */
	__u64 start_addr;
};
#define VFIO_IOMMU_SPAPR_TCE_REMOVE _IO(VFIO_TYPE, VFIO_BASE + 20)

/*
 * Layout checks (C11 / C++11 and later); the helper macros are removed at
 * the end of the header.
 */
#if (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L) || \
	(defined(__cplusplus) && __cplusplus >= 201103L)
#ifdef __cplusplus
#define UIOMMU_VFIO_ASSERT(e, msg) static_assert(e, msg)
#else
#define UIOMMU_VFIO_ASSERT(e, msg) _Static_assert(e, msg)
#endif
#define UIOMMU_VFIO_SIZE(t, n) UIOMMU_VFIO_ASSERT(sizeof(t) == (n), "sizeof(" #t ") != " #n)
#define UIOMMU_VFIO_OFF(t, f, n) \
	UIOMMU_VFIO_ASSERT(__builtin_offsetof(t, f) == (n), "offsetof(" #t ", " #f ") != " #n)
/* offsetofend(t, f): the minimum argsz where the kernel uses the field's end. */
#define UIOMMU_VFIO_END(t, f, n)                                                  \
	UIOMMU_VFIO_ASSERT(__builtin_offsetof(t, f) + sizeof(((t *)0)->f) == (n), \
			   "offsetofend(" #t ", " #f ") != " #n)

UIOMMU_VFIO_SIZE(struct vfio_info_cap_header, 8);
UIOMMU_VFIO_OFF(struct vfio_info_cap_header, version, 2);
UIOMMU_VFIO_OFF(struct vfio_info_cap_header, next, 4);

UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_info, 24);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info, iova_pgsizes, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info, cap_offset, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info, pad, 20);

UIOMMU_VFIO_SIZE(struct vfio_iova_range, 16);
UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_info_cap_iova_range, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info_cap_iova_range, nr_iovas, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info_cap_iova_range, reserved, 12);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges, 16);

UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_info_dma_avail, 12);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info_dma_avail, avail, 8);

UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_dma_map, 32);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dma_map, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dma_map, vaddr, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dma_map, iova, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dma_map, size, 24);

UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_dma_unmap, 24);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dma_unmap, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dma_unmap, iova, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dma_unmap, size, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dma_unmap, data, 24);

UIOMMU_VFIO_SIZE(struct vfio_device_low_power_entry_with_wakeup, 8);
UIOMMU_VFIO_OFF(struct vfio_device_low_power_entry_with_wakeup, reserved, 4);

UIOMMU_VFIO_ASSERT(VFIO_GET_API_VERSION == 0x3b64, "VFIO_GET_API_VERSION");
UIOMMU_VFIO_ASSERT(VFIO_CHECK_EXTENSION == 0x3b65, "VFIO_CHECK_EXTENSION");
UIOMMU_VFIO_ASSERT(VFIO_SET_IOMMU == 0x3b66, "VFIO_SET_IOMMU");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_GET_INFO == 0x3b70, "VFIO_IOMMU_GET_INFO");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_MAP_DMA == 0x3b71, "VFIO_IOMMU_MAP_DMA");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_UNMAP_DMA == 0x3b72, "VFIO_IOMMU_UNMAP_DMA");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_DIRTY_PAGES == 0x3b75, "VFIO_IOMMU_DIRTY_PAGES");
UIOMMU_VFIO_ASSERT(VFIO_GROUP_GET_STATUS == 0x3b67, "VFIO_GROUP_GET_STATUS");
UIOMMU_VFIO_ASSERT(VFIO_GROUP_SET_CONTAINER == 0x3b68, "VFIO_GROUP_SET_CONTAINER");
UIOMMU_VFIO_ASSERT(VFIO_GROUP_UNSET_CONTAINER == 0x3b69, "VFIO_GROUP_UNSET_CONTAINER");
UIOMMU_VFIO_ASSERT(VFIO_GROUP_GET_DEVICE_FD == 0x3b6a, "VFIO_GROUP_GET_DEVICE_FD");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_GET_INFO == 0x3b6b, "VFIO_DEVICE_GET_INFO");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_GET_REGION_INFO == 0x3b6c, "VFIO_DEVICE_GET_REGION_INFO");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_GET_IRQ_INFO == 0x3b6d, "VFIO_DEVICE_GET_IRQ_INFO");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_SET_IRQS == 0x3b6e, "VFIO_DEVICE_SET_IRQS");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_RESET == 0x3b6f, "VFIO_DEVICE_RESET");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO == 0x3b70, "GET_PCI_HOT_RESET_INFO");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_PCI_HOT_RESET == 0x3b71, "VFIO_DEVICE_PCI_HOT_RESET");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_BIND_IOMMUFD == 0x3b76, "VFIO_DEVICE_BIND_IOMMUFD");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_ATTACH_IOMMUFD_PT == 0x3b77, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
UIOMMU_VFIO_ASSERT(VFIO_DEVICE_DETACH_IOMMUFD_PT == 0x3b78, "VFIO_DEVICE_DETACH_IOMMUFD_PT");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_SET_PASID_TABLE == 0x3b76, "VFIO_IOMMU_SET_PASID_TABLE");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_CACHE_INVALIDATE == 0x3b77, "VFIO_IOMMU_CACHE_INVALIDATE");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_SET_MSI_BINDING == 0x3b78, "VFIO_IOMMU_SET_MSI_BINDING");
UIOMMU_VFIO_ASSERT(VFIO_PCI_NUM_REGIONS == 9 && VFIO_PCI_CONFIG_REGION_INDEX == 7,
		   "VFIO_PCI region indexes");
UIOMMU_VFIO_ASSERT(VFIO_PCI_NUM_IRQS == 5 && VFIO_PCI_MSIX_IRQ_INDEX == 2, "VFIO_PCI IRQ indexes");

/* Every field is a __u32/__u16/__u8 or an __aligned_u64: the same on 32-bit ABIs. */
UIOMMU_VFIO_SIZE(struct vfio_group_status, 8);
UIOMMU_VFIO_OFF(struct vfio_group_status, flags, 4);

UIOMMU_VFIO_SIZE(struct vfio_device_info, 24);
UIOMMU_VFIO_OFF(struct vfio_device_info, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_device_info, num_regions, 8);
UIOMMU_VFIO_OFF(struct vfio_device_info, num_irqs, 12);
UIOMMU_VFIO_OFF(struct vfio_device_info, cap_offset, 16);
UIOMMU_VFIO_OFF(struct vfio_device_info, pad, 20);
UIOMMU_VFIO_SIZE(struct vfio_device_info_cap_pci_atomic_comp, 16);
UIOMMU_VFIO_OFF(struct vfio_device_info_cap_pci_atomic_comp, flags, 8);
UIOMMU_VFIO_OFF(struct vfio_device_info_cap_pci_atomic_comp, reserved, 12);

UIOMMU_VFIO_SIZE(struct vfio_region_info, 32);
UIOMMU_VFIO_OFF(struct vfio_region_info, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_region_info, index, 8);
UIOMMU_VFIO_OFF(struct vfio_region_info, cap_offset, 12);
UIOMMU_VFIO_OFF(struct vfio_region_info, size, 16);
UIOMMU_VFIO_OFF(struct vfio_region_info, offset, 24);
UIOMMU_VFIO_SIZE(struct vfio_region_sparse_mmap_area, 16);
UIOMMU_VFIO_OFF(struct vfio_region_sparse_mmap_area, size, 8);
UIOMMU_VFIO_SIZE(struct vfio_region_info_cap_sparse_mmap, 16);
UIOMMU_VFIO_OFF(struct vfio_region_info_cap_sparse_mmap, nr_areas, 8);
UIOMMU_VFIO_OFF(struct vfio_region_info_cap_sparse_mmap, reserved, 12);
UIOMMU_VFIO_OFF(struct vfio_region_info_cap_sparse_mmap, areas, 16);
UIOMMU_VFIO_SIZE(struct vfio_region_info_cap_type, 16);
UIOMMU_VFIO_OFF(struct vfio_region_info_cap_type, type, 8);
UIOMMU_VFIO_OFF(struct vfio_region_info_cap_type, subtype, 12);
UIOMMU_VFIO_SIZE(struct vfio_region_info_cap_fault, 12);
UIOMMU_VFIO_OFF(struct vfio_region_info_cap_fault, version, 8);
UIOMMU_VFIO_SIZE(struct vfio_region_info_cap_fault_response, 12);
UIOMMU_VFIO_OFF(struct vfio_region_info_cap_fault_response, version, 8);
UIOMMU_VFIO_SIZE(struct vfio_region_dma_fault, 20);
UIOMMU_VFIO_OFF(struct vfio_region_dma_fault, entry_size, 4);
UIOMMU_VFIO_OFF(struct vfio_region_dma_fault, nb_entries, 8);
UIOMMU_VFIO_OFF(struct vfio_region_dma_fault, offset, 12);
UIOMMU_VFIO_OFF(struct vfio_region_dma_fault, head, 16);
UIOMMU_VFIO_SIZE(struct vfio_region_dma_fault_response, 20);
UIOMMU_VFIO_OFF(struct vfio_region_dma_fault_response, entry_size, 4);
UIOMMU_VFIO_OFF(struct vfio_region_dma_fault_response, nb_entries, 8);
UIOMMU_VFIO_OFF(struct vfio_region_dma_fault_response, offset, 12);
UIOMMU_VFIO_OFF(struct vfio_region_dma_fault_response, tail, 16);

UIOMMU_VFIO_SIZE(struct vfio_irq_info, 20);
UIOMMU_VFIO_OFF(struct vfio_irq_info, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_irq_info, index, 8);
UIOMMU_VFIO_OFF(struct vfio_irq_info, count, 12);
UIOMMU_VFIO_OFF(struct vfio_irq_info, cap_offset, 16);
UIOMMU_VFIO_SIZE(struct vfio_irq_info_cap_type, 16);
UIOMMU_VFIO_OFF(struct vfio_irq_info_cap_type, type, 8);
UIOMMU_VFIO_OFF(struct vfio_irq_info_cap_type, subtype, 12);
UIOMMU_VFIO_SIZE(struct vfio_irq_set, 20);
UIOMMU_VFIO_OFF(struct vfio_irq_set, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_irq_set, index, 8);
UIOMMU_VFIO_OFF(struct vfio_irq_set, start, 12);
UIOMMU_VFIO_OFF(struct vfio_irq_set, count, 16);
UIOMMU_VFIO_OFF(struct vfio_irq_set, data, 20);

UIOMMU_VFIO_SIZE(struct vfio_pci_dependent_device, 8);
UIOMMU_VFIO_OFF(struct vfio_pci_dependent_device, segment, 4);
UIOMMU_VFIO_OFF(struct vfio_pci_dependent_device, bus, 6);
UIOMMU_VFIO_OFF(struct vfio_pci_dependent_device, devfn, 7);
UIOMMU_VFIO_SIZE(struct vfio_pci_hot_reset_info, 12);
UIOMMU_VFIO_OFF(struct vfio_pci_hot_reset_info, count, 8);
UIOMMU_VFIO_OFF(struct vfio_pci_hot_reset_info, devices, 12);
UIOMMU_VFIO_SIZE(struct vfio_pci_hot_reset, 12);
UIOMMU_VFIO_SIZE(struct vfio_device_feature, 8);
UIOMMU_VFIO_OFF(struct vfio_device_feature, data, 8);
UIOMMU_VFIO_OFF(struct vfio_pci_hot_reset, count, 8);
UIOMMU_VFIO_OFF(struct vfio_pci_hot_reset, group_fds, 12);

UIOMMU_VFIO_SIZE(struct vfio_device_bind_iommufd, 16);
UIOMMU_VFIO_OFF(struct vfio_device_bind_iommufd, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_device_bind_iommufd, iommufd, 8);
UIOMMU_VFIO_OFF(struct vfio_device_bind_iommufd, out_devid, 12);
UIOMMU_VFIO_SIZE(struct vfio_device_attach_iommufd_pt, 16);
UIOMMU_VFIO_OFF(struct vfio_device_attach_iommufd_pt, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_device_attach_iommufd_pt, pt_id, 8);
UIOMMU_VFIO_OFF(struct vfio_device_attach_iommufd_pt, pasid, 12);
UIOMMU_VFIO_SIZE(struct vfio_device_detach_iommufd_pt, 12);
UIOMMU_VFIO_OFF(struct vfio_device_detach_iommufd_pt, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_device_detach_iommufd_pt, pasid, 8);

UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_dirty_bitmap, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dirty_bitmap, data, 8);

/* The minimum sizes (minsz) the ioctls check argsz against. */
UIOMMU_VFIO_END(struct vfio_iommu_type1_info, iova_pgsizes, 16);
UIOMMU_VFIO_END(struct vfio_iommu_type1_dma_map, size, 32);
UIOMMU_VFIO_END(struct vfio_iommu_type1_dma_unmap, size, 24);
UIOMMU_VFIO_END(struct vfio_iommu_type1_dirty_bitmap, flags, 8);
UIOMMU_VFIO_END(struct vfio_group_status, flags, 8);
UIOMMU_VFIO_END(struct vfio_device_info, num_irqs, 16);
UIOMMU_VFIO_END(struct vfio_region_info, offset, 32);
UIOMMU_VFIO_END(struct vfio_irq_info, count, 16);
UIOMMU_VFIO_END(struct vfio_irq_info, cap_offset, 20);
UIOMMU_VFIO_END(struct vfio_irq_set, count, 20);
UIOMMU_VFIO_END(struct vfio_pci_hot_reset_info, count, 12);
UIOMMU_VFIO_END(struct vfio_pci_hot_reset, count, 12);
UIOMMU_VFIO_END(struct vfio_device_bind_iommufd, out_devid, 16);
UIOMMU_VFIO_END(struct vfio_device_attach_iommufd_pt, pt_id, 12);
UIOMMU_VFIO_END(struct vfio_device_attach_iommufd_pt, pasid, 16);
UIOMMU_VFIO_END(struct vfio_device_detach_iommufd_pt, flags, 8);
UIOMMU_VFIO_END(struct vfio_device_detach_iommufd_pt, pasid, 12);
UIOMMU_VFIO_END(struct vfio_region_dma_fault, tail, 4);
UIOMMU_VFIO_END(struct vfio_region_dma_fault_response, head, 4);
UIOMMU_VFIO_END(struct vfio_iommu_type1_set_pasid_table, flags, 8);
UIOMMU_VFIO_END(struct vfio_iommu_type1_cache_invalidate, flags, 8);
UIOMMU_VFIO_END(struct vfio_iommu_type1_set_msi_binding, size, 32);

/* sPAPR TCE and EEH. */
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_SPAPR_TCE_GET_INFO == 0x3b70, "VFIO_IOMMU_SPAPR_TCE_GET_INFO");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_SPAPR_REGISTER_MEMORY == 0x3b75, "SPAPR_REGISTER_MEMORY");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY == 0x3b76, "SPAPR_UNREGISTER_MEMORY");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_SPAPR_TCE_CREATE == 0x3b77, "VFIO_IOMMU_SPAPR_TCE_CREATE");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_SPAPR_TCE_REMOVE == 0x3b78, "VFIO_IOMMU_SPAPR_TCE_REMOVE");
UIOMMU_VFIO_ASSERT(VFIO_EEH_PE_OP == 0x3b79, "VFIO_EEH_PE_OP");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_ENABLE == 0x3b73 && VFIO_IOMMU_DISABLE == 0x3b74,
		   "VFIO_IOMMU_ENABLE / DISABLE");
UIOMMU_VFIO_SIZE(struct vfio_iommu_spapr_tce_ddw_info, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_ddw_info, max_dynamic_windows_supported, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_ddw_info, levels, 12);
UIOMMU_VFIO_SIZE(struct vfio_iommu_spapr_tce_info, 32);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_info, flags, 4);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_info, dma32_window_start, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_info, dma32_window_size, 12);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_info, ddw, 16);
UIOMMU_VFIO_END(struct vfio_iommu_spapr_tce_info, dma32_window_size, 16);
UIOMMU_VFIO_END(struct vfio_iommu_spapr_tce_info, ddw, 32);
UIOMMU_VFIO_SIZE(struct vfio_iommu_spapr_register_memory, 24);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_register_memory, vaddr, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_register_memory, size, 16);
UIOMMU_VFIO_END(struct vfio_iommu_spapr_register_memory, size, 24);
UIOMMU_VFIO_SIZE(struct vfio_iommu_spapr_tce_create, 40);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_create, page_shift, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_create, __resv1, 12);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_create, window_size, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_create, levels, 24);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_create, __resv2, 28);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_create, start_addr, 32);
UIOMMU_VFIO_END(struct vfio_iommu_spapr_tce_create, start_addr, 40);
UIOMMU_VFIO_SIZE(struct vfio_iommu_spapr_tce_remove, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_spapr_tce_remove, start_addr, 8);
UIOMMU_VFIO_END(struct vfio_iommu_spapr_tce_remove, start_addr, 16);
UIOMMU_VFIO_OFF(struct vfio_eeh_pe_op, op, 8);
UIOMMU_VFIO_END(struct vfio_eeh_pe_op, op, 12);

/*
 * Linux declares these with plain __u64 fields (or a pointer), so their
 * layout is that of LP64 only; a 32-bit ABI packs them differently, as
 * it does with the kernel's own header.
 */
#if defined(__LP64__)
UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_info_cap_migration, 32);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info_cap_migration, flags, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info_cap_migration, pgsize_bitmap, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size, 24);
UIOMMU_VFIO_SIZE(struct vfio_bitmap, 24);
UIOMMU_VFIO_OFF(struct vfio_bitmap, size, 8);
UIOMMU_VFIO_OFF(struct vfio_bitmap, data, 16);
UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_dirty_bitmap_get, 40);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dirty_bitmap_get, size, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_dirty_bitmap_get, bitmap, 16);
UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_set_pasid_table, 40);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_set_pasid_table, config, 8);
UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_cache_invalidate, 64);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_cache_invalidate, info, 8);
UIOMMU_VFIO_SIZE(struct vfio_iommu_type1_set_msi_binding, 32);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_set_msi_binding, iova, 8);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_set_msi_binding, gpa, 16);
UIOMMU_VFIO_OFF(struct vfio_iommu_type1_set_msi_binding, size, 24);
UIOMMU_VFIO_SIZE(struct vfio_eeh_pe_err, 24);
UIOMMU_VFIO_OFF(struct vfio_eeh_pe_err, func, 4);
UIOMMU_VFIO_OFF(struct vfio_eeh_pe_err, addr, 8);
UIOMMU_VFIO_OFF(struct vfio_eeh_pe_err, mask, 16);
UIOMMU_VFIO_SIZE(struct vfio_eeh_pe_op, 40);
UIOMMU_VFIO_OFF(struct vfio_eeh_pe_op, err, 16);
UIOMMU_VFIO_END(struct vfio_eeh_pe_op, err.mask, 40);
#endif

#undef UIOMMU_VFIO_END
#undef UIOMMU_VFIO_OFF
#undef UIOMMU_VFIO_SIZE
#undef UIOMMU_VFIO_ASSERT
#endif /* C11 or C++11 */

#endif /* _UAPIVFIO_H */
