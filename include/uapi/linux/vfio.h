/* SPDX-License-Identifier: MIT */
/*
 * <linux/vfio.h> - the VFIO user ABI, as uiommu speaks it (partial).
 *
 * uiommu's own transcription of the parts of Linux's VFIO uAPI that the
 * type1 compatibility ioctls of /dev/iommu need: the API version, the
 * extension numbers, SET_IOMMU, IOMMU_GET_INFO with its capability chain,
 * MAP_DMA and UNMAP_DMA. Numbers, field order and sizes are Linux's (facts
 * from the project's reference notes, vfio.md §1 and §3); the wording is
 * ours. The rest of VFIO (groups, devices, regions, IRQs, cdev, sPAPR, the
 * nested-stage extension) is added by lib/vfio with the same rules.
 *
 * Every VFIO ioctl is _IO(';', 100 + n): no size or direction bits. Every
 * struct starts with argsz (the caller's sizeof) and flags.
 */
#ifndef _UAPIVFIO_H
#define _UAPIVFIO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif

#define VFIO_API_VERSION 0

/* Extensions (VFIO_CHECK_EXTENSION argument; SET_IOMMU takes the IOMMU types). */
#define VFIO_TYPE1_IOMMU		 1
#define VFIO_SPAPR_TCE_IOMMU		 2
#define VFIO_TYPE1v2_IOMMU		 3
#define VFIO_DMA_CC_IOMMU		 4
#define VFIO_EEH			 5
#define __VFIO_RESERVED_TYPE1_NESTING_IOMMU 6
#define VFIO_SPAPR_TCE_v2_IOMMU		 7
#define VFIO_NOIOMMU_IOMMU		 8
#define VFIO_UNMAP_ALL			 9
#define VFIO_UPDATE_VADDR		 10

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

/* Dirty tracking (migration) support; not reported by the iommufd compat layer. */
#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION 2

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

/* Not implemented by the iommufd compatibility layer (ENOTTY there). */
#define VFIO_IOMMU_ENABLE      _IO(VFIO_TYPE, VFIO_BASE + 15)
#define VFIO_IOMMU_DISABLE     _IO(VFIO_TYPE, VFIO_BASE + 16)
#define VFIO_IOMMU_DIRTY_PAGES _IO(VFIO_TYPE, VFIO_BASE + 17)

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

UIOMMU_VFIO_ASSERT(VFIO_GET_API_VERSION == 0x3b64, "VFIO_GET_API_VERSION");
UIOMMU_VFIO_ASSERT(VFIO_CHECK_EXTENSION == 0x3b65, "VFIO_CHECK_EXTENSION");
UIOMMU_VFIO_ASSERT(VFIO_SET_IOMMU == 0x3b66, "VFIO_SET_IOMMU");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_GET_INFO == 0x3b70, "VFIO_IOMMU_GET_INFO");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_MAP_DMA == 0x3b71, "VFIO_IOMMU_MAP_DMA");
UIOMMU_VFIO_ASSERT(VFIO_IOMMU_UNMAP_DMA == 0x3b72, "VFIO_IOMMU_UNMAP_DMA");

#undef UIOMMU_VFIO_OFF
#undef UIOMMU_VFIO_SIZE
#undef UIOMMU_VFIO_ASSERT
#endif /* C11 or C++11 */

#endif /* _UAPIVFIO_H */
