/* SPDX-License-Identifier: MIT */
/*
 * tests/func/vfio_nested_utils.h - the nested-stage VFIO extension from a
 * program's side (reference vfio.md §2.11, how QEMU consumes it), for any
 * device: the ioctls' structs, discovery of the DMA FAULT region and IRQ by
 * type, the fault ring, and a guest whose RAM the container maps with
 * MAP_DMA and whose stage 1 (an SMMUv3 CD and VMSA tables) is built in
 * that RAM.
 *
 * The file operations go through VN_IOCTL / VN_PREAD / VN_PWRITE / VN_MMAP
 * on a VN_FILE, which default to uiommu_*() on struct uiommu_file *; a
 * program under the preload shim defines them as ioctl / pread / pwrite /
 * mmap on int fds before including this header.
 */
#ifndef UIOMMU_TESTS_FUNC_VFIO_NESTED_UTILS_H
#define UIOMMU_TESTS_FUNC_VFIO_NESTED_UTILS_H

#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "pt/pt.h"

#ifndef VN_FILE
#include <uiommu/uiommu.h>
#define VN_FILE			   struct uiommu_file *
#define VN_IOCTL(f, req, arg)	   uiommu_ioctl((f), (req), (arg))
#define VN_PREAD(f, buf, n, off)   uiommu_pread((f), (buf), (n), (off))
#define VN_PWRITE(f, buf, n, off)  uiommu_pwrite((f), (buf), (n), (off))
#define VN_MMAP(f, len, prot, off) uiommu_mmap((f), NULL, (len), (prot), MAP_SHARED, (off))
#define VN_MUNMAP(p, len)	   uiommu_munmap((p), (len))
#endif

/* ---- ioctl structs ---- */

/* SET_PASID_TABLE for an SMMUv3 CD table at @cd_gpa (the form QEMU's vSMMUv3 sends). */
static inline struct vfio_iommu_type1_set_pasid_table vn_pasid_table(uint32_t flags, uint8_t config,
								     uint64_t cd_gpa)
{
	struct vfio_iommu_type1_set_pasid_table spt;

	memset(&spt, 0, sizeof(spt));
	spt.argsz = sizeof(spt);
	spt.flags = flags;
	spt.config.argsz = sizeof(spt.config);
	spt.config.version = PASID_TABLE_CFG_VERSION_1;
	spt.config.base_ptr = cd_gpa;
	spt.config.format = IOMMU_PASID_FORMAT_SMMUV3;
	spt.config.config = config;
	spt.config.vendor_data.smmuv3.version = PASID_TABLE_SMMUV3_CFG_VERSION_1;
	return spt;
}

static inline struct vfio_iommu_type1_cache_invalidate vn_inv(uint8_t cache, uint8_t granularity)
{
	struct vfio_iommu_type1_cache_invalidate ci;

	memset(&ci, 0, sizeof(ci));
	ci.argsz = sizeof(ci);
	ci.info.argsz = sizeof(ci.info);
	ci.info.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
	ci.info.cache = cache;
	ci.info.granularity = granularity;
	return ci;
}

/* An IOTLB invalidation of one @granule at @addr for ASID @asid (QEMU's leaf form). */
static inline struct vfio_iommu_type1_cache_invalidate vn_inv_addr(uint32_t asid, uint64_t addr,
								   uint64_t granule)
{
	struct vfio_iommu_type1_cache_invalidate ci =
		vn_inv(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_ADDR);

	ci.info.granu.addr_info.flags = IOMMU_INV_ADDR_FLAGS_ARCHID | IOMMU_INV_ADDR_FLAGS_LEAF;
	ci.info.granu.addr_info.archid = asid;
	ci.info.granu.addr_info.addr = addr;
	ci.info.granu.addr_info.granule_size = granule;
	ci.info.granu.addr_info.nb_granules = 1;
	return ci;
}

static inline struct vfio_iommu_type1_set_msi_binding vn_msi(uint32_t flags, uint64_t iova,
							     uint64_t gpa, uint64_t size)
{
	struct vfio_iommu_type1_set_msi_binding m = {
		.argsz = sizeof(m), .flags = flags, .iova = iova, .gpa = gpa, .size = size};

	return m;
}

/* ---- discovery ---- */

/* The capability @id of an INFO reply in @buf (0: none), its offset. */
static inline uint32_t vn_find_cap(const uint8_t *buf, uint32_t first, uint16_t id)
{
	for (uint32_t off = first; off;
	     off = ((const struct vfio_info_cap_header *)(buf + off))->next)
		if (((const struct vfio_info_cap_header *)(buf + off))->id == id)
			return off;
	return 0;
}

/*
 * The region of @type / @subtype among the device-specific ones: its index,
 * with GET_REGION_INFO's reply (and caps) in @buf (@len bytes); -1 if none.
 */
static inline int vn_find_region(VN_FILE dev, uint32_t type, uint32_t subtype, uint8_t *buf,
				 size_t len)
{
	struct vfio_device_info di = {.argsz = sizeof(di)};
	struct vfio_region_info *ri = (struct vfio_region_info *)buf;

	if (VN_IOCTL(dev, VFIO_DEVICE_GET_INFO, &di))
		return -1;
	for (uint32_t i = VFIO_PCI_NUM_REGIONS; i < di.num_regions; i++) {
		uint32_t off;

		memset(buf, 0, len);
		ri->argsz = (uint32_t)len;
		ri->index = i;
		if (VN_IOCTL(dev, VFIO_DEVICE_GET_REGION_INFO, ri) ||
		    !(ri->flags & VFIO_REGION_INFO_FLAG_CAPS))
			continue;
		off = vn_find_cap(buf, ri->cap_offset, VFIO_REGION_INFO_CAP_TYPE);
		if (off && ((struct vfio_region_info_cap_type *)(buf + off))->type == type &&
		    ((struct vfio_region_info_cap_type *)(buf + off))->subtype == subtype)
			return (int)i;
	}
	return -1;
}

/* The IRQ index of @type / @subtype (indexes >= VFIO_PCI_NUM_IRQS), or -1. */
static inline int vn_find_irq(VN_FILE dev, uint32_t type, uint32_t subtype)
{
	struct vfio_device_info di = {.argsz = sizeof(di)};
	uint8_t buf[64];
	struct vfio_irq_info *ii = (struct vfio_irq_info *)buf;

	if (VN_IOCTL(dev, VFIO_DEVICE_GET_INFO, &di))
		return -1;
	for (uint32_t i = VFIO_PCI_NUM_IRQS; i < di.num_irqs; i++) {
		uint32_t off;

		memset(buf, 0, sizeof(buf));
		ii->argsz = sizeof(buf);
		ii->index = i;
		if (VN_IOCTL(dev, VFIO_DEVICE_GET_IRQ_INFO, ii) ||
		    !(ii->flags & VFIO_IRQ_INFO_FLAG_CAPS))
			continue;
		off = vn_find_cap(buf, ii->cap_offset, VFIO_IRQ_INFO_CAP_TYPE);
		if (off && ((struct vfio_irq_info_cap_type *)(buf + off))->type == type &&
		    ((struct vfio_irq_info_cap_type *)(buf + off))->subtype == subtype)
			return (int)i;
	}
	return -1;
}

/* An eventfd on single-vector IRQ @index (ACTION_TRIGGER | DATA_EVENTFD, start 0, count 1). */
static inline int vn_set_irq_eventfd(VN_FILE dev, uint32_t index, int32_t efd)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
	set->index = index;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	return VN_IOCTL(dev, VFIO_DEVICE_SET_IRQS, set);
}

/* The header of a fault (or response) region at file offset @reg_off. */
static inline int vn_read_header(VN_FILE dev, uint64_t reg_off, struct vfio_region_dma_fault *h)
{
	return VN_PREAD(dev, h, sizeof(*h), (off_t)reg_off) == (ssize_t)sizeof(*h) ? 0 : -1;
}

/* Write the user's index (the fault ring's tail, the response ring's head). */
static inline ssize_t vn_write_index(VN_FILE dev, uint64_t reg_off, uint32_t v)
{
	return VN_PWRITE(dev, &v, sizeof(v), (off_t)reg_off);
}

/* ---- a guest: RAM (mapped by the caller with MAP_DMA at gpa), its stage 1 and CD ---- */

#define VN_CD0_T0SZ(t) ((uint64_t)(t))
#define VN_CD0_EPD1    (1ULL << 30) /* TTB1 walks disabled */
#define VN_CD0_V       (1ULL << 31)
#define VN_CD0_IPS(p)  ((uint64_t)(p) << 32)
#define VN_CD0_AA64    (1ULL << 41)
#define VN_CD0_R       (1ULL << 45)
#define VN_CD0_A       (1ULL << 46)
#define VN_CD0_ASID(a) ((uint64_t)(a) << 48)

struct vn_guest {
	uint8_t *ram;
	uint64_t gpa, size;
	uint64_t tables_size; /* [gpa, gpa + tables_size): stage-1 tables; the CD right after */
	struct pt_arena tables;
	struct pt_table s1;
};

/*
 * @ram (@size bytes, zeroed) is the guest's RAM at @gpa. Stage-1 tables go
 * in its first @tables_size bytes, the CD (ASID @asid, 48-bit VA, 4K) right
 * after them; its GPA is vn_guest_cd_gpa(). 0 or -errno.
 */
static inline int vn_guest_init(struct vn_guest *g, void *ram, uint64_t gpa, uint64_t size,
				uint64_t tables_size, uint16_t asid)
{
	struct pt_cfg c = {.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48};
	uint64_t *cd;
	int rc;

	g->ram = ram;
	g->gpa = gpa;
	g->size = size;
	g->tables_size = tables_size;
	rc = pt_cfg_init(&c);
	if (!rc)
		rc = pt_arena_init_at(&g->tables, gpa, tables_size, ram);
	if (!rc)
		rc = pt_table_init(&g->s1, &c, &g->tables.mem);
	if (rc)
		return rc;
	cd = (uint64_t *)(g->ram + tables_size);
	cd[0] = htole64(VN_CD0_T0SZ(16) | VN_CD0_EPD1 | VN_CD0_V | VN_CD0_IPS(5) | VN_CD0_AA64 |
			VN_CD0_R | VN_CD0_A | VN_CD0_ASID(asid));
	cd[1] = htole64(g->s1.root);
	return 0;
}

static inline uint64_t vn_guest_cd_gpa(const struct vn_guest *g)
{
	return g->gpa + g->tables_size;
}

/* Host pointer of guest physical @gpa (inside RAM). */
static inline void *vn_guest_ptr(const struct vn_guest *g, uint64_t gpa)
{
	return g->ram + (gpa - g->gpa);
}

static inline int vn_guest_map(struct vn_guest *g, uint64_t iova, uint64_t gpa, unsigned int prot)
{
	return pt_map(&g->s1, iova, gpa, 4096, prot);
}

static inline int vn_guest_unmap(struct vn_guest *g, uint64_t iova)
{
	return pt_unmap(&g->s1, iova, 4096, NULL);
}

static inline void vn_guest_destroy(struct vn_guest *g)
{
	pt_table_destroy(&g->s1);
	pt_arena_destroy(&g->tables);
}

#endif
