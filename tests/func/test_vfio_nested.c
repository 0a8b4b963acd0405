// SPDX-License-Identifier: MIT
/*
 * The nested-stage VFIO extension (v13; reference vfio.md §2) through
 * uiommu_open()/uiommu_ioctl(): the test fixture device of vfio_fixture.h
 * behind an SMMUv3 (smmuv3_iommu_dev_create()) in a TYPE1_NESTING
 * container, and one behind the mock, which cannot nest.
 *
 *  - +18/+19/+20 on other containers (EINVAL before SET_IOMMU, ENOTTY on
 *    type1 v2) and on the mock (ENODEV);
 *  - every validation rule of SET_PASID_TABLE, CACHE_INVALIDATE and
 *    SET_MSI_BINDING (VFIO's and the IOMMU layer's, §2.3-§2.5) with its
 *    errno, and the STEs SET_PASID_TABLE writes (translate / bypass /
 *    abort / unset);
 *  - regions and IRQ: present only for a device opened in a nesting
 *    container, found by type; the header; access rules of §2.6 / §2.9;
 *  - the flow: MAP_DMA guest RAM, a CD table and stage 1 built in it,
 *    SET_PASID_TABLE, DMA through the guest's stage 1 moves the right
 *    bytes; a stage-1 change + CACHE_INVALIDATE; a fault after an unmap
 *    lands in the mmap()ed ring after the eventfd fires (header and
 *    record fields), tail writes, a full ring drops and counts; MSI
 *    binding: a write to the guest's doorbell IOVA lands in the doorbell;
 *  - a stalled DMA's page request in the ring, answered through the
 *    mmap()ed response ring: the DMA completes with the guest's new page.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include "hw/smmuv3/smmuv3_iommu.h"
#include "iommufd/iommufd_private.h"
#include "util/file.h"
#include "vfio/vfio_private.h"

#include "iommufd_utils.h"
#include "vfio_fixture.h"
#include "vfio_nested_utils.h"

#define NAME_S	  "0000:00:05.0" /* behind the SMMU, group 5 */
#define NAME_M	  "0000:00:06.0" /* behind the mock, group 6 */
#define NAME_T	  "0000:00:07.0" /* behind the SMMU, can stall, group 7 */
#define GROUP_T	  "/dev/vfio/7"
#define SID_T	  0x11
#define CD0_S	  (1ULL << 44) /* stall on a stage-1 fault */
#define GROUP_S	  "/dev/vfio/5"
#define GROUP_M	  "/dev/vfio/6"
#define SID	  0x10
#define SSID_BITS 4
#define GRAM_GPA  0x40000000ULL
#define GRAM_SIZE 0x200000ULL
#define TABLES	  0x100000ULL /* stage-1 tables; the CD follows; then data */
#define DATA_GPA  (GRAM_GPA + 0x180000ULL)
#define ASID	  5
#define GIOVA	  0x100000ULL /* the guest's stage-1 IOVA of the data */
#define MSI_GIOVA 0x200000ULL
#define MSI_GPA	  0x9000000ULL /* outside RAM and the SW_MSI window */
#define RW	  (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* STE fields the test spells out. */
#define STE_CFG(q0)    (((q0) >> 1) & 7)
#define STE1_MEV       (1ULL << 19)
#define STE1_S1STALLD  (1ULL << 27)
#define STE0_CTX(q0)   ((q0) & (((1ULL << 52) - 1) & ~63ULL))
#define STE0_CDMAX(q0) (((q0) >> 59) & 0x1f)
#define STE0_FMT(q0)   (((q0) >> 4) & 3)

static struct smmuv3_iommu *smmu;
static struct udev *sdev, *tdev;
static struct fixture_dev *fs, *fm, *ft;
static unsigned int base_files;

struct nest {
	struct uiommu_file *container, *group, *dev;
	uint8_t *ram;
	struct vn_guest g;
};

static struct uiommu_file *xopen(const char *path)
{
	struct uiommu_file *f = uiommu_open(path, O_RDWR | O_CLOEXEC);

	TAP_CHECK(f, "open %s: %s", path, strerror(errno));
	return f;
}

static void nest_setup(struct nest *n, const char *group, const char *name, unsigned long type)
{
	int32_t fd;
	int dfd;

	memset(n, 0, sizeof(*n));
	n->container = xopen("/dev/vfio/vfio");
	n->group = xopen(group);
	fd = uiommu_file_fd(n->container);
	CHECK_OK(uiommu_ioctl(n->group, VFIO_GROUP_SET_CONTAINER, &fd));
	CHECK_OK(uiommu_ioctl(n->container, VFIO_SET_IOMMU, type));
	dfd = uiommu_ioctl(n->group, VFIO_GROUP_GET_DEVICE_FD, name);
	TAP_CHECK(dfd >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	n->dev = uiommu_file_from_fd(dfd);
}

/* Guest RAM mapped by MAP_DMA at GRAM_GPA, the guest's stage 1 and CD in it. */
static void nest_guest(struct nest *n)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = RW, .iova = GRAM_GPA, .size = GRAM_SIZE};

	n->ram = mmap(NULL, GRAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(n->ram != MAP_FAILED, "mmap");
	m.vaddr = (uintptr_t)n->ram;
	CHECK_OK(uiommu_ioctl(n->container, VFIO_IOMMU_MAP_DMA, &m));
	CHECK_OK(vn_guest_init(&n->g, n->ram, GRAM_GPA, GRAM_SIZE, TABLES, ASID));
}

static void nest_teardown(struct nest *n)
{
	if (n->dev)
		CHECK_OK(uiommu_close(n->dev));
	CHECK_OK(uiommu_close(n->group));
	CHECK_OK(uiommu_close(n->container));
	if (n->ram) {
		vn_guest_destroy(&n->g);
		munmap(n->ram, GRAM_SIZE);
	}
	memset(n, 0, sizeof(*n));
}

static void check_no_leak(void)
{
	TAP_CHECK_EQ(ufile_count(), base_files, "files left open");
	TAP_CHECK_EQ(ufile_vma_count(), 0, "mappings left");
	TAP_CHECK(!sdev->iommufd_priv && !tdev->iommufd_priv && !fm->vdev.dev->iommufd_priv,
		  "a device is still bound");
	TAP_CHECK(!sdev->fault_param && !tdev->fault_param, "fault handler left registered");
}

static void ste_read(uint64_t ste[8])
{
	TAP_CHECK(!smmuv3_iommu_read_ste(smmu, SID, ste), "read_ste");
	for (unsigned int i = 0; i < 8; i++)
		ste[i] = le64toh(ste[i]);
}

static int spt(struct nest *n, struct vfio_iommu_type1_set_pasid_table *s)
{
	return uiommu_ioctl(n->container, VFIO_IOMMU_SET_PASID_TABLE, s);
}

static int inv(struct nest *n, struct vfio_iommu_type1_cache_invalidate *c)
{
	return uiommu_ioctl(n->container, VFIO_IOMMU_CACHE_INVALIDATE, c);
}

static int msi(struct nest *n, struct vfio_iommu_type1_set_msi_binding *m)
{
	return uiommu_ioctl(n->container, VFIO_IOMMU_SET_MSI_BINDING, m);
}

static void reg_write(struct uiommu_file *dev, unsigned int reg, uint64_t v)
{
	TAP_CHECK(uiommu_pwrite(dev, &v, 8, reg) == 8, "BAR0 write 0x%x: %s", reg, strerror(errno));
}

static uint64_t reg_read(struct uiommu_file *dev, unsigned int reg)
{
	uint64_t v = 0;

	TAP_CHECK(uiommu_pread(dev, &v, 8, reg) == 8, "BAR0 read 0x%x: %s", reg, strerror(errno));
	return v;
}

/* The device DMAs 8 bytes (cmd 1 read, 2 write) at @iova; its status (0 / -errno). */
static int64_t dev_dma(struct uiommu_file *dev, uint64_t iova, int cmd, uint64_t *data)
{
	reg_write(dev, FIX_REG_DMA_IOVA, iova);
	reg_write(dev, FIX_REG_DMA_PASID, 0);
	if (cmd == 2)
		reg_write(dev, FIX_REG_DMA_DATA, *data);
	reg_write(dev, FIX_REG_DMA_CMD, (uint64_t)cmd);
	if (cmd == 1)
		*data = reg_read(dev, FIX_REG_DMA_DATA);
	return (int64_t)reg_read(dev, FIX_REG_DMA_STATUS);
}

/* ------------------------------------------------------------------ */
/* Other containers                                                   */

static void test_other_containers(void *arg)
{
	struct vfio_iommu_type1_set_pasid_table s =
		vn_pasid_table(VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_BYPASS, 0);
	struct vfio_iommu_type1_cache_invalidate c =
		vn_inv(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_DOMAIN);
	struct vfio_iommu_type1_set_msi_binding m = vn_msi(VFIO_IOMMU_UNBIND_MSI, 0, 0, 0);
	struct uiommu_file *container = xopen("/dev/vfio/vfio");
	struct nest n;

	(void)arg;
	/* No backend yet: EINVAL, as for every type1 ioctl. */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(container, VFIO_IOMMU_SET_PASID_TABLE, &s));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(container, VFIO_IOMMU_CACHE_INVALIDATE, &c));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(container, VFIO_IOMMU_SET_MSI_BINDING, &m));
	CHECK_OK(uiommu_close(container));
	/* type1 v2: the numbers mean nothing (ENOTTY), and no fault region or IRQ. */
	nest_setup(&n, GROUP_S, NAME_S, VFIO_TYPE1v2_IOMMU);
	CHECK_ERRNO(ENOTTY, spt(&n, &s));
	CHECK_ERRNO(ENOTTY, inv(&n, &c));
	CHECK_ERRNO(ENOTTY, msi(&n, &m));
	{
		struct vfio_device_info di = {.argsz = sizeof(di)};

		CHECK_OK(uiommu_ioctl(n.dev, VFIO_DEVICE_GET_INFO, &di));
		TAP_CHECK(di.num_regions == FIX_NUM_REGIONS && di.num_irqs == VFIO_PCI_NUM_IRQS,
			  "v2: %u regions, %u irqs", di.num_regions, di.num_irqs);
	}
	nest_teardown(&n);
	/* The mock cannot take a PASID table: ENODEV from the IOMMU layer. */
	nest_setup(&n, GROUP_M, NAME_M, VFIO_TYPE1_NESTING_IOMMU);
	CHECK_ERRNO(ENODEV, spt(&n, &s));
	CHECK_ERRNO(ENODEV, inv(&n, &c));
	m = vn_msi(VFIO_IOMMU_BIND_MSI, MSI_GIOVA, MSI_GPA, 4096);
	CHECK_ERRNO(ENODEV, msi(&n, &m));
	m.flags = VFIO_IOMMU_UNBIND_MSI;
	CHECK_OK(msi(&n, &m)); /* unbinding never fails */
	s.flags = VFIO_PASID_TABLE_FLAG_UNSET;
	CHECK_OK(spt(&n, &s));
	nest_teardown(&n);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* SET_PASID_TABLE                                                    */

static void test_set_pasid_table(void *arg)
{
	const uint64_t cd = GRAM_GPA + TABLES;
	struct vfio_iommu_type1_set_pasid_table s;
	uint8_t big[sizeof(s) + 32];
	uint64_t ste[8];
	struct nest n;

	(void)arg;
	nest_setup(&n, GROUP_S, NAME_S, VFIO_TYPE1_NESTING_IOMMU);
	ste_read(ste);
	TAP_CHECK_EQ(STE_CFG(ste[0]), 6, "stage 2 only at first");
	/* VFIO's part: argsz, then exactly SET or UNSET. */
	s = vn_pasid_table(VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_TRANSLATE, cd);
	s.argsz = 7;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.argsz = 8; /* the config is the IOMMU layer's: VFIO checks only argsz and flags */
	s.flags = 0;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.flags = VFIO_PASID_TABLE_FLAG_SET | VFIO_PASID_TABLE_FLAG_UNSET;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.flags = 1u << 2;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.flags = VFIO_PASID_TABLE_FLAG_UNSET;
	CHECK_OK(spt(&n, &s));
	/* The IOMMU layer's, by config.argsz. */
	s = vn_pasid_table(VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_TRANSLATE, cd);
	s.config.argsz = 23;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.config.argsz = 32;
	s.config.version = 2;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.config.version = 1;
	s.config.argsz = 24; /* SMMUv3 needs its vendor data */
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.config.argsz = 32;
	s.config.config = 0;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.config.config = 4;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.config.config = IOMMU_PASID_CONFIG_TRANSLATE;
	/* The SMMUv3 driver's. */
	s.config.format = 2;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.config.format = IOMMU_PASID_FORMAT_SMMUV3;
	s.config.vendor_data.smmuv3.version = 2;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.config.vendor_data.smmuv3.version = 1;
	s.config.pasid_bits = SSID_BITS + 1;
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	ste_read(ste);
	TAP_CHECK_EQ(STE_CFG(ste[0]), 6, "no failure touched the STE");
	/* TRANSLATE: the STE nests the guest's CD table over stage 2. */
	s.config.pasid_bits = SSID_BITS;
	s.config.vendor_data.smmuv3.s1fmt = 1;
	s.config.vendor_data.smmuv3.s1dss = 2;
	CHECK_OK(spt(&n, &s));
	ste_read(ste);
	TAP_CHECK(STE_CFG(ste[0]) == 7 && STE0_CTX(ste[0]) == cd &&
			  STE0_CDMAX(ste[0]) == SSID_BITS && STE0_FMT(ste[0]) == 1 &&
			  (ste[1] & 3) == 2 && (ste[1] & STE1_MEV) && (ste[1] & STE1_S1STALLD),
		  "nested STE %016llx %016llx", (unsigned long long)ste[0],
		  (unsigned long long)ste[1]);
	/* No stage-1 to stage-1 change. */
	CHECK_ERRNO(EINVAL, spt(&n, &s));
	s.config.config = IOMMU_PASID_CONFIG_ABORT;
	CHECK_OK(spt(&n, &s));
	ste_read(ste);
	TAP_CHECK_EQ(STE_CFG(ste[0]), 0, "abort");
	s.config.config = IOMMU_PASID_CONFIG_BYPASS;
	CHECK_OK(spt(&n, &s));
	ste_read(ste);
	TAP_CHECK_EQ(STE_CFG(ste[0]), 6, "bypass: stage 2 only");
	/* A longer (newer) config is truncated to what this ABI knows. */
	s.config.config = IOMMU_PASID_CONFIG_TRANSLATE;
	s.config.pasid_bits = 0;
	s.config.vendor_data.smmuv3.s1fmt = 0;
	s.config.vendor_data.smmuv3.s1dss = 0;
	memset(big, 0xff, sizeof(big));
	memcpy(big, &s, sizeof(s));
	((struct vfio_iommu_type1_set_pasid_table *)big)->config.argsz = 64;
	CHECK_OK(spt(&n, (void *)big));
	ste_read(ste);
	TAP_CHECK(STE_CFG(ste[0]) == 7 && STE0_CDMAX(ste[0]) == 0, "translate again");
	s.flags = VFIO_PASID_TABLE_FLAG_UNSET;
	CHECK_OK(spt(&n, &s));
	ste_read(ste);
	TAP_CHECK_EQ(STE_CFG(ste[0]), 6, "unset: stage 2 only");
	nest_teardown(&n);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* CACHE_INVALIDATE                                                   */

static void test_cache_invalidate(void *arg)
{
	struct vfio_iommu_type1_cache_invalidate c;
	uint8_t big[sizeof(c) + 8];
	struct nest n;

	(void)arg;
	nest_setup(&n, GROUP_S, NAME_S, VFIO_TYPE1_NESTING_IOMMU);
	/* VFIO's: argsz >= 8, flags 0. */
	c = vn_inv(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_DOMAIN);
	c.argsz = 7;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.argsz = sizeof(c);
	c.flags = 1;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.flags = 0;
	CHECK_OK(inv(&n, &c));
	/* The IOMMU layer's, by info.argsz and the matrix. */
	c.info.argsz = 15;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c = vn_inv(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID);
	c.info.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_ARCHID;
	c.info.argsz = 31;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.info.argsz = 32;
	CHECK_OK(inv(&n, &c));
	c = vn_inv_addr(ASID, GIOVA, 4096);
	c.info.argsz = 55;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.info.argsz = 56;
	CHECK_OK(inv(&n, &c));
	c.info.version = 2;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.info.version = 1;
	c.info.cache = 1u << 3;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.info.cache = IOMMU_CACHE_INV_TYPE_IOTLB;
	c.info.granularity = IOMMU_INV_GRANU_NR;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.info.granularity = IOMMU_INV_GRANU_ADDR;
	c.info.cache = IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_PASID;
	CHECK_ERRNO(EINVAL, inv(&n, &c)); /* ADDR cannot invalidate the PASID cache */
	c.info.cache = IOMMU_CACHE_INV_TYPE_IOTLB;
	c.info.granu.addr_info.flags |= 1u << 3;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.info.granu.addr_info.flags &= ~(1u << 3);
	c.info.padding[5] = 1;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.info.padding[5] = 0;
	c = vn_inv(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID);
	c.info.granu.pasid_info.flags = 1u << 2;
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c = vn_inv(IOMMU_CACHE_INV_TYPE_DEV_IOTLB, IOMMU_INV_GRANU_DOMAIN);
	CHECK_ERRNO(EINVAL, inv(&n, &c)); /* DOMAIN takes no device IOTLB */
	/* The SMMUv3 driver's: the TLB is tagged by ASID (ARCHID). */
	c = vn_inv(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID);
	CHECK_ERRNO(EINVAL, inv(&n, &c));
	c.info.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
	CHECK_ERRNO(ENOENT, inv(&n, &c));
	c = vn_inv_addr(ASID, GIOVA, 4096);
	c.info.granu.addr_info.flags = IOMMU_INV_ADDR_FLAGS_PASID;
	CHECK_ERRNO(ENOENT, inv(&n, &c));
	c = vn_inv_addr(ASID, GIOVA, 3 * 4096);
	CHECK_ERRNO(EINVAL, inv(&n, &c)); /* granule not a power of two */
	c = vn_inv(IOMMU_CACHE_INV_TYPE_PASID, IOMMU_INV_GRANU_PASID);
	CHECK_ERRNO(EINVAL, inv(&n, &c)); /* which PASID? */
	/* What each cache and granularity accepts. */
	c.info.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
	c.info.granu.pasid_info.pasid = 1;
	CHECK_OK(inv(&n, &c));
	c.info.cache = IOMMU_CACHE_INV_TYPE_DEV_IOTLB;
	CHECK_OK(inv(&n, &c));
	c = vn_inv(IOMMU_CACHE_INV_TYPE_PASID | IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_DOMAIN);
	CHECK_OK(inv(&n, &c));
	c = vn_inv_addr(ASID, GIOVA, 4096);
	c.info.cache |= IOMMU_CACHE_INV_TYPE_DEV_IOTLB;
	c.info.granu.addr_info.nb_granules = 300; /* more than a batch: the whole ASID */
	CHECK_OK(inv(&n, &c));
	c.info.granu.addr_info.flags = 0; /* no ASID: everything of the VMID */
	CHECK_OK(inv(&n, &c));
	/* A longer info from newer userspace: the extra is not read. */
	c = vn_inv_addr(ASID, GIOVA, 4096);
	memset(big, 0xff, sizeof(big));
	memcpy(big, &c, sizeof(c));
	((struct vfio_iommu_type1_cache_invalidate *)big)->info.argsz = 64;
	CHECK_OK(inv(&n, (void *)big));
	nest_teardown(&n);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* SET_MSI_BINDING                                                    */

static void test_msi_binding_rules(void *arg)
{
	struct vfio_iommu_type1_set_msi_binding m;
	struct nest n;

	(void)arg;
	nest_setup(&n, GROUP_S, NAME_S, VFIO_TYPE1_NESTING_IOMMU);
	nest_guest(&n);
	m = vn_msi(VFIO_IOMMU_UNBIND_MSI, MSI_GIOVA, 0, 0);
	m.argsz = 31; /* 32 even to unbind */
	CHECK_ERRNO(EINVAL, msi(&n, &m));
	m.argsz = 32;
	CHECK_OK(msi(&n, &m)); /* nothing bound: still 0 */
	m.flags = 0;
	CHECK_ERRNO(EINVAL, msi(&n, &m));
	m.flags = VFIO_IOMMU_BIND_MSI | VFIO_IOMMU_UNBIND_MSI;
	CHECK_ERRNO(EINVAL, msi(&n, &m));
	m = vn_msi(VFIO_IOMMU_BIND_MSI, MSI_GIOVA, MSI_GPA, 0);
	CHECK_ERRNO(EINVAL, msi(&n, &m)); /* size 0 */
	/* A doorbell IPA beyond stage 2's input range (fuzz_vfio found ERANGE here). */
	m = vn_msi(VFIO_IOMMU_BIND_MSI, MSI_GIOVA, 1ULL << 60, 4096);
	CHECK_ERRNO(EINVAL, msi(&n, &m));
	m = vn_msi(VFIO_IOMMU_BIND_MSI, MSI_GIOVA, GRAM_GPA, 4096);
	CHECK_ERRNO(EEXIST, msi(&n, &m)); /* stage 2 maps guest RAM there */
	m.gpa = MSI_GPA;
	CHECK_OK(msi(&n, &m));
	CHECK_OK(msi(&n, &m)); /* the same binding again */
	m.gpa = MSI_GPA + 0x10000;
	CHECK_ERRNO(EINVAL, msi(&n, &m)); /* one doorbell per domain */
	m = vn_msi(VFIO_IOMMU_UNBIND_MSI, MSI_GIOVA, 0, 0);
	CHECK_OK(msi(&n, &m));
	m = vn_msi(VFIO_IOMMU_BIND_MSI, MSI_GIOVA, MSI_GPA + 0x10000, 4096);
	CHECK_OK(msi(&n, &m)); /* free again after the unbind */
	nest_teardown(&n);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* Regions and the IRQ                                                */

static void test_regions(void *arg)
{
	uint8_t buf[256];
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_region_dma_fault h;
	struct vfio_device_info di = {.argsz = sizeof(di)};
	uint64_t off, roff;
	uint32_t coff;
	int idx, ridx, irq;
	struct nest n;
	void *p;

	(void)arg;
	nest_setup(&n, GROUP_S, NAME_S, VFIO_TYPE1_NESTING_IOMMU);
	CHECK_OK(uiommu_ioctl(n.dev, VFIO_DEVICE_GET_INFO, &di));
	TAP_CHECK(di.num_regions == FIX_NUM_REGIONS + 2 && di.num_irqs == VFIO_PCI_NUM_IRQS + 1,
		  "nested: %u regions, %u irqs", di.num_regions, di.num_irqs);
	irq = vn_find_irq(n.dev, VFIO_IRQ_TYPE_NESTED, VFIO_IRQ_SUBTYPE_DMA_FAULT);
	TAP_CHECK_EQ(irq, VFIO_PCI_NUM_IRQS, "the DMA fault IRQ");
	{
		struct vfio_irq_info ii = {.argsz = 16, .index = (uint32_t)irq};

		CHECK_OK(uiommu_ioctl(n.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii));
		TAP_CHECK(ii.count == 1 &&
				  ii.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_FLAG_CAPS),
			  "irq flags %x count %u", ii.flags, ii.count);
	}
	ridx = vn_find_region(n.dev, VFIO_REGION_TYPE_NESTED,
			      VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT_RESPONSE, buf, sizeof(buf));
	TAP_CHECK_EQ(ridx, FIX_NUM_REGIONS + 1, "the response region");
	coff = vn_find_cap(buf, ri->cap_offset, VFIO_REGION_INFO_CAP_DMA_FAULT_RESPONSE);
	TAP_CHECK(coff && ((struct vfio_region_info_cap_fault_response *)(buf + coff))->version ==
				  1,
		  "response cap");
	TAP_CHECK_EQ(ri->size, 4096 + 12288, "response region size");
	roff = ri->offset;
	idx = vn_find_region(n.dev, VFIO_REGION_TYPE_NESTED, VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT,
			     buf, sizeof(buf));
	TAP_CHECK_EQ(idx, FIX_NUM_REGIONS, "the fault region");
	TAP_CHECK(ri->flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS) &&
			  ri->size == 4096 + 32768,
		  "fault region flags %x size %llu", ri->flags, (unsigned long long)ri->size);
	coff = vn_find_cap(buf, ri->cap_offset, VFIO_REGION_INFO_CAP_DMA_FAULT);
	TAP_CHECK(coff && ((struct vfio_region_info_cap_fault *)(buf + coff))->version == 1 &&
			  ((struct vfio_info_cap_header *)(buf + coff))->version == 1,
		  "DMA_FAULT cap, ABI version 1");
	coff = vn_find_cap(buf, ri->cap_offset, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	{
		struct vfio_region_info_cap_sparse_mmap *sp = (void *)(buf + coff);

		TAP_CHECK(coff && sp->nr_areas == 1 && sp->areas[0].offset == 4096 &&
				  sp->areas[0].size == 32768,
			  "sparse area: the ring");
	}
	off = ri->offset;
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK(h.tail == 0 && h.entry_size == 64 && h.nb_entries == 512 && h.offset == 4096 &&
			  h.head == 0,
		  "header %u %u %u %u %u", h.tail, h.entry_size, h.nb_entries, h.offset, h.head);
	/* Access rules: only a 4-byte tail write below nb_entries; mmap from page 1. */
	TAP_CHECK_EQ(vn_write_index(n.dev, off, 3), 4, "tail write");
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK_EQ(h.tail, 3, "tail stored");
	TAP_CHECK(vn_write_index(n.dev, off, 512) == -1 && errno == EINVAL, "tail >= nb_entries");
	{
		uint16_t v2 = 0;
		uint32_t v4 = 0;

		TAP_CHECK(uiommu_pwrite(n.dev, &v2, 2, (off_t)off) == -1 && errno == EINVAL,
			  "2-byte write");
		TAP_CHECK(uiommu_pwrite(n.dev, &v4, 4, (off_t)off + 16) == -1 && errno == EINVAL,
			  "head is not writable");
		TAP_CHECK(uiommu_pread(n.dev, buf, 16, (off_t)off + 36864) == -1 && errno == EINVAL,
			  "read past the end");
		TAP_CHECK(uiommu_pread(n.dev, buf, 64, (off_t)off + 36864 - 8) == 8,
			  "read clamped at the end");
	}
	TAP_CHECK(uiommu_mmap(n.dev, NULL, 4096, PROT_READ, MAP_SHARED, (off_t)off) == MAP_FAILED &&
			  errno == EINVAL,
		  "the header page cannot be mapped");
	TAP_CHECK(uiommu_mmap(n.dev, NULL, 36864, PROT_READ, MAP_SHARED, (off_t)off + 4096) ==
				  MAP_FAILED &&
			  errno == EINVAL,
		  "past the end");
	p = uiommu_mmap(n.dev, NULL, 32768, PROT_READ, MAP_SHARED, (off_t)off + 4096);
	TAP_CHECK(p != MAP_FAILED, "ring mmap: %s", strerror(errno));
	CHECK_OK(uiommu_munmap(p, 32768));
	/* The response region's head: the same rules (an empty ring: nothing to answer). */
	TAP_CHECK(vn_write_index(n.dev, roff, 512) == -1 && errno == EINVAL, "head >= nb_entries");
	nest_teardown(&n);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* The flow                                                           */

static void test_flow(void *arg)
{
	uint8_t buf[256];
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_region_dma_fault h;
	struct vfio_iommu_type1_set_pasid_table s;
	struct vfio_iommu_type1_cache_invalidate c;
	struct vfio_iommu_type1_set_msi_binding m;
	struct smmuv3_iommu_stats st0, st1;
	const struct iommu_fault *ring;
	uint64_t off, v, want, *data, *data2, *bell;
	int efd, irq;
	struct nest n;

	(void)arg;
	nest_setup(&n, GROUP_S, NAME_S, VFIO_TYPE1_NESTING_IOMMU);
	nest_guest(&n);
	data = vn_guest_ptr(&n.g, DATA_GPA);
	data2 = vn_guest_ptr(&n.g, DATA_GPA + 4096);
	*data = 0x1122334455667788ULL;
	*data2 = 0x99aabbccddeeff00ULL;
	CHECK_OK(vn_guest_map(&n.g, GIOVA, DATA_GPA, PT_PROT_R | PT_PROT_W));
	s = vn_pasid_table(VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_TRANSLATE,
			   vn_guest_cd_gpa(&n.g));
	CHECK_OK(spt(&n, &s));
	/* The fault IRQ and ring. */
	irq = vn_find_irq(n.dev, VFIO_IRQ_TYPE_NESTED, VFIO_IRQ_SUBTYPE_DMA_FAULT);
	TAP_CHECK(irq >= 0, "fault IRQ");
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK_OK(vn_set_irq_eventfd(n.dev, (uint32_t)irq, efd));
	TAP_CHECK(vn_find_region(n.dev, VFIO_REGION_TYPE_NESTED,
				 VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT, buf, sizeof(buf)) >= 0,
		  "fault region");
	off = ri->offset;
	ring = uiommu_mmap(n.dev, NULL, 32768, PROT_READ, MAP_SHARED, (off_t)off + 4096);
	TAP_CHECK(ring != MAP_FAILED, "ring mmap");

	/* DMA through the guest's stage 1 and the host's stage 2. */
	TAP_CHECK_EQ(dev_dma(n.dev, GIOVA, 1, &v), 0, "DMA read through both stages");
	TAP_CHECK_EQ(v, *data, "the bytes at the guest's page");
	want = 0x0badf00d0badf00dULL;
	TAP_CHECK_EQ(dev_dma(n.dev, GIOVA + 8, 2, &want), 0, "DMA write");
	TAP_CHECK_EQ(data[1], want, "written where stage 1 points");
	/* The guest moves its page and invalidates: the next DMA sees the new one. */
	CHECK_OK(vn_guest_unmap(&n.g, GIOVA));
	CHECK_OK(vn_guest_map(&n.g, GIOVA, DATA_GPA + 4096, PT_PROT_R | PT_PROT_W));
	c = vn_inv_addr(ASID, GIOVA, 4096);
	CHECK_OK(inv(&n, &c));
	TAP_CHECK_EQ(dev_dma(n.dev, GIOVA, 1, &v), 0, "DMA after the change");
	TAP_CHECK_EQ(v, *data2, "the new page's bytes");
	TAP_CHECK_EQ(read(efd, &v, 8), -1, "no fault so far");

	/* Unmapped + invalidated: the next DMA faults, and the fault reaches the ring. */
	CHECK_OK(vn_guest_unmap(&n.g, GIOVA));
	c = vn_inv(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID);
	c.info.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_ARCHID;
	c.info.granu.pasid_info.archid = ASID;
	CHECK_OK(inv(&n, &c));
	TAP_CHECK_EQ(dev_dma(n.dev, GIOVA + 0x10, 1, &v), -EFAULT, "DMA faults");
	TAP_CHECK(read(efd, &v, 8) == 8 && v == 1, "eventfd fired once");
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK(h.head == 1 && h.tail == 0, "head %u tail %u", h.head, h.tail);
	TAP_CHECK(ring[0].type == IOMMU_FAULT_DMA_UNRECOV &&
			  ring[0].event.reason == IOMMU_FAULT_REASON_PTE_FETCH &&
			  ring[0].event.flags == IOMMU_FAULT_UNRECOV_ADDR_VALID &&
			  /* iommu_dma_rw() issues privileged data accesses (PnU). */
			  ring[0].event.perm == (IOMMU_FAULT_PERM_READ | IOMMU_FAULT_PERM_PRIV) &&
			  ring[0].event.addr == GIOVA + 0x10 && ring[0].event.pasid == 0,
		  "record: type %u reason %u flags %x perm %x addr %llx", ring[0].type,
		  ring[0].event.reason, ring[0].event.flags, ring[0].event.perm,
		  (unsigned long long)ring[0].event.addr);
	/* A write fault: PERM_WRITE. */
	TAP_CHECK_EQ(dev_dma(n.dev, GIOVA, 2, &want), -EFAULT, "write faults");
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK(h.head == 2 &&
			  ring[1].event.perm == (IOMMU_FAULT_PERM_WRITE | IOMMU_FAULT_PERM_PRIV) &&
			  ring[1].event.addr == GIOVA,
		  "second record");
	TAP_CHECK_EQ(vn_write_index(n.dev, off, 2), 4, "consumed both");

	/* Fill the ring: 511 records fit, the next is dropped and counted. */
	smmuv3_iommu_get_stats(smmu, &st0);
	(void)read(efd, &v, 8);
	for (unsigned int i = 0; i < 511; i++)
		TAP_CHECK_EQ(dev_dma(n.dev, GIOVA, 1, &v), -EFAULT, "fault %u", i);
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK(h.head == 1 && h.tail == 2, "full: head %u tail %u", h.head, h.tail);
	TAP_CHECK(read(efd, &v, 8) == 8 && v == 511, "signalled once per record: %llu",
		  (unsigned long long)v);
	TAP_CHECK_EQ(vfio_device_dma_faults_dropped(&fs->vdev), 0, "none dropped yet");
	TAP_CHECK_EQ(dev_dma(n.dev, GIOVA + 0x40, 1, &v), -EFAULT, "one more");
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK_EQ(h.head, 1, "head unchanged");
	TAP_CHECK_EQ(vfio_device_dma_faults_dropped(&fs->vdev), 1, "dropped and counted");
	TAP_CHECK_EQ(read(efd, &v, 8), -1, "no signal for a dropped record");
	smmuv3_iommu_get_stats(smmu, &st1);
	TAP_CHECK(st1.dev_faults - st0.dev_faults == 511 &&
			  st1.dev_faults_lost - st0.dev_faults_lost == 1,
		  "driver counts %llu / %llu",
		  (unsigned long long)(st1.dev_faults - st0.dev_faults),
		  (unsigned long long)(st1.dev_faults_lost - st0.dev_faults_lost));
	/* Consuming makes room again. */
	TAP_CHECK_EQ(vn_write_index(n.dev, off, 1), 4, "all consumed");
	TAP_CHECK_EQ(dev_dma(n.dev, GIOVA + 0x80, 1, &v), -EFAULT, "fault after draining");
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK(h.head == 2 && ring[1].event.addr == GIOVA + 0x80, "recorded again");

	/* MSI: the guest's doorbell IOVA -> GPA, bound to the physical doorbell. */
	bell = smmuv3_iommu_msi_doorbell(smmu, NULL);
	CHECK_OK(vn_guest_map(&n.g, MSI_GIOVA, MSI_GPA, PT_PROT_W));
	want = 0x4d5349; /* "MSI" */
	TAP_CHECK_EQ(dev_dma(n.dev, MSI_GIOVA, 2, &want), -EFAULT, "not bound: stage 2 faults");
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK_EQ(h.head, 2, "a stage-2 fault is the host's, not the guest's record");
	m = vn_msi(VFIO_IOMMU_BIND_MSI, MSI_GIOVA, MSI_GPA, 4096);
	CHECK_OK(msi(&n, &m));
	TAP_CHECK_EQ(dev_dma(n.dev, MSI_GIOVA, 2, &want), 0, "MSI write through both stages");
	TAP_CHECK_EQ(bell[0], want, "landed in the doorbell");
	m = vn_msi(VFIO_IOMMU_UNBIND_MSI, MSI_GIOVA, 0, 0);
	CHECK_OK(msi(&n, &m));
	TAP_CHECK_EQ(dev_dma(n.dev, MSI_GIOVA, 2, &want), -EFAULT, "unbound again");
	bell[0] = 0;

	/* UNSET: stage 2 only, the guest's IOVA is a GPA again. */
	s.flags = VFIO_PASID_TABLE_FLAG_UNSET;
	CHECK_OK(spt(&n, &s));
	TAP_CHECK_EQ(dev_dma(n.dev, DATA_GPA, 1, &v), 0, "stage 2 only");
	TAP_CHECK_EQ(v, *data, "at the GPA");

	CHECK_OK(uiommu_munmap((void *)ring, 32768));
	close(efd);
	nest_teardown(&n);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* Page requests and the response region                              */

struct stalled_dma {
	struct uiommu_file *dev;
	uint64_t data;
	int64_t status;
};

static void *stalled_dma_thread(void *arg)
{
	struct stalled_dma *t = arg;

	t->status = dev_dma(t->dev, GIOVA, 1, &t->data);
	return NULL;
}

static void test_page_response(void *arg)
{
	uint8_t buf[256];
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_region_dma_fault h;
	struct vfio_iommu_type1_set_pasid_table s;
	const struct iommu_fault *ring;
	struct stalled_dma t = {0};
	struct pollfd pfd;
	uint64_t off, roff, v, *data, *cd;
	uint8_t *resp;
	pthread_t th;
	int efd;
	struct nest n;

	(void)arg;
	nest_setup(&n, GROUP_T, NAME_T, VFIO_TYPE1_NESTING_IOMMU);
	nest_guest(&n);
	/* The guest asks for stalls (CD.S); the device can stall, so no S1STALLD. */
	cd = vn_guest_ptr(&n.g, vn_guest_cd_gpa(&n.g));
	cd[0] |= htole64(CD0_S);
	data = vn_guest_ptr(&n.g, DATA_GPA);
	*data = 0x5555aaaa5555aaaaULL;
	s = vn_pasid_table(VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_TRANSLATE,
			   vn_guest_cd_gpa(&n.g));
	CHECK_OK(spt(&n, &s));
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK_OK(vn_set_irq_eventfd(
		n.dev,
		(uint32_t)vn_find_irq(n.dev, VFIO_IRQ_TYPE_NESTED, VFIO_IRQ_SUBTYPE_DMA_FAULT),
		efd));
	TAP_CHECK(vn_find_region(n.dev, VFIO_REGION_TYPE_NESTED,
				 VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT, buf, sizeof(buf)) >= 0,
		  "fault region");
	off = ri->offset;
	TAP_CHECK(vn_find_region(n.dev, VFIO_REGION_TYPE_NESTED,
				 VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT_RESPONSE, buf,
				 sizeof(buf)) >= 0,
		  "response region");
	roff = ri->offset;
	ring = uiommu_mmap(n.dev, NULL, 32768, PROT_READ, MAP_SHARED, (off_t)off + 4096);
	resp = uiommu_mmap(n.dev, NULL, 12288, PROT_READ | PROT_WRITE, MAP_SHARED,
			   (off_t)roff + 4096);
	TAP_CHECK(ring != MAP_FAILED && resp != MAP_FAILED, "ring mmaps");

	/* No stage-1 mapping yet: the DMA stalls and a page request is recorded. */
	t.dev = n.dev;
	TAP_CHECK(!pthread_create(&th, NULL, stalled_dma_thread, &t), "thread");
	pfd = (struct pollfd){.fd = efd, .events = POLLIN};
	TAP_CHECK(poll(&pfd, 1, 10000) == 1, "the fault IRQ fired");
	TAP_CHECK(read(efd, &v, 8) == 8 && v == 1, "one record");
	CHECK_OK(vn_read_header(n.dev, off, &h));
	TAP_CHECK_EQ(h.head, 1, "recorded");
	TAP_CHECK(ring[0].type == IOMMU_FAULT_PAGE_REQ &&
			  ring[0].prm.flags == IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE &&
			  ring[0].prm.addr == GIOVA &&
			  ring[0].prm.perm == (IOMMU_FAULT_PERM_READ | IOMMU_FAULT_PERM_PRIV),
		  "page request: type %u flags %x addr %llx perm %x", ring[0].type,
		  ring[0].prm.flags, (unsigned long long)ring[0].prm.addr, ring[0].prm.perm);
	/* The guest maps the page and answers SUCCESS: the DMA retries and completes. */
	CHECK_OK(vn_guest_map(&n.g, GIOVA, DATA_GPA, PT_PROT_R | PT_PROT_W));
	{
		uint32_t r[6] = {IOMMU_PAGE_RESPONSE_UAPI_SIZE,
				 IOMMU_PAGE_RESP_VERSION_1,
				 0,
				 0,
				 ring[0].prm.grpid,
				 IOMMU_PAGE_RESP_SUCCESS};

		memcpy(resp, r, sizeof(r));
	}
	TAP_CHECK_EQ(vn_write_index(n.dev, roff, 1), 4, "response head");
	TAP_CHECK(!pthread_join(th, NULL), "join");
	TAP_CHECK_EQ(t.status, 0, "the stalled DMA completed");
	TAP_CHECK_EQ(t.data, *data, "with the page the guest mapped");
	{
		struct vfio_region_dma_fault_response rh;

		TAP_CHECK(uiommu_pread(n.dev, &rh, sizeof(rh), (off_t)roff) == sizeof(rh) &&
				  rh.head == 1 && rh.tail == 1 && rh.entry_size == 24,
			  "response consumed: head %u tail %u", rh.head, rh.tail);
	}
	CHECK_OK(uiommu_munmap((void *)ring, 32768));
	CHECK_OK(uiommu_munmap(resp, 12288));
	close(efd);
	nest_teardown(&n);
	check_no_leak();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"+18..+20 on other containers and the mock", test_other_containers},
		{"SET_PASID_TABLE rules and STEs", test_set_pasid_table},
		{"CACHE_INVALIDATE rules", test_cache_invalidate},
		{"SET_MSI_BINDING rules", test_msi_binding_rules},
		{"DMA FAULT regions and IRQ", test_regions},
		{"nested flow: DMA, invalidation, fault ring, MSI", test_flow},
		{"page request answered through the response region", test_page_response},
	};
	struct smmuv3_iommu_params p;
	struct smmuv3_dev_params dp = {.sid = SID, .ssid_bits = SSID_BITS, .is_pci = true};
	int err = 0;

	smmuv3_iommu_params_default(&p);
	if (smmuv3_iommu_new(&p, &smmu)) {
		printf("Bail out! smmuv3\n");
		return 1;
	}
	sdev = smmuv3_iommu_dev_create(smmu, &dp, &err);
	fs = sdev ? fixture_create_on(NAME_S, 5, sdev) : NULL;
	fm = fixture_create(NAME_M, 6, 0);
	dp.sid = SID_T;
	dp.can_stall = true;
	tdev = smmuv3_iommu_dev_create(smmu, &dp, &err);
	ft = tdev ? fixture_create_on(NAME_T, 7, tdev) : NULL;
	if (!fs || !fm || !ft) {
		printf("Bail out! fixture devices\n");
		return 1;
	}
	base_files = ufile_count();
	tap_plan(ARRAY_SIZE_T(tests) + 1);
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	{
		int rc = fixture_destroy(fs) | fixture_destroy(fm) | fixture_destroy(ft);

		printf("%s %u - devices unregister at the end\n", rc ? "not ok" : "ok", ++tap.n);
		if (rc)
			tap.failed++;
		smmuv3_iommu_dev_destroy(sdev);
		smmuv3_iommu_dev_destroy(tdev);
		smmuv3_iommu_free(smmu);
	}
	return tap_done();
}
