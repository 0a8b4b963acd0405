// SPDX-License-Identifier: MIT
/*
 * The SMMUv3 driver behind /dev/iommu: real iommufd ioctls on devices of
 * an SMMUv3 model instance (lib/hw/smmuv3/smmuv3_iommu.h), DMA through
 * iommu_dma_rw(), and what the hardware sees (the STEs the driver wrote,
 * the event records it forwarded, the bytes that moved).
 *
 *  - GET_HW_INFO: the IDR registers, the type, capabilities, the length rules;
 *  - stage-2 paging HWPTs (on a stage-2-only SMMU, where Linux makes plain
 *    HWPTs stage 2): the STE, DMA, faults, unmap invalidation, errnos;
 *  - the MSI doorbell: reserved window, write-only mapping, its lifetime;
 *  - stage-1 paging HWPTs (Linux's choice with both stages): the CD-table
 *    STE, CD 0 with the ASID, a stage-1 walk, TLBI_NH_VA on unmap, replace
 *    to stage 1 and stage 2; a stage-1-only SMMU;
 *  - dirty tracking through stage-1 HTTU (CD.HA/HD; bitmaps, NO_CLEAR,
 *    re-dirtying) and where Linux refuses it (NEST_PARENT, stage 2);
 *  - PASIDs: CDs, S1DSS, DMA with an SSID (iommu_dma_rw and dmatest's
 *    PASID register), replace, detach, 2-level CD tables, the errno
 *    matrix of the core and of the driver, IOPF on a PASID;
 *  - vIOMMU / nested HWPTs / vDEVICEs: errnos of Linux's vSTE validation,
 *    the nested STE, DMA through a guest stage 1 built in guest RAM that
 *    IOAS_MAP maps, vEVENTQ records with the vSID, invalidation commands
 *    with the VMID and SIDs substituted, entry_num on refusals;
 *  - IOPF: a stalled DMA delivered to the fault queue, answered by a page
 *    response (stage 2 and a guest's stage 1);
 *  - DMA while STEs and mappings change; the dmatest PCI function behind
 *    the SMMU (its fault registers, its MSI-X through the SW_MSI window);
 *  - a fail-nth sweep of the driver's allocations.
 *
 * Devices are bound with the internal API the VFIO cdev uses
 * (iommufd_device_bind); everything else is an ioctl on the iommufd.
 */
#include <endian.h>
#include <poll.h>
#include <pthread.h>

#include <linux/pci_regs.h>
#include <sys/eventfd.h>

#include "dev/dmatest/dmatest.h"
#include "dev/msi_doorbell.h"
#include "hw/smmuv3/smmuv3_ep.h"
#include "hw/smmuv3/smmuv3_iommu.h"
#include "iommufd/iommufd_private.h"
#include "pt/pt.h"
#include "util/alloc.h"
#include "util/file.h"

#include "dmatest_regs.h"
#include "hwdev_conc.h"
#include "hwdev_fixture.h"
#include "iommufd_objs.h"

/* STE / CD / command / event fields the test spells out (qword, bit). */
#define STE0_V		  (1ULL << 0)
#define STE0_CFG(c)	  ((uint64_t)(c) << 1)
#define STE1_MEV	  (1ULL << 19)
#define STE1_S1STALLD	  (1ULL << 27)
#define STE1_EATS(e)	  ((uint64_t)(e) << 28)
#define STE1_SHCFG_INC	  (1ULL << 44)
#define STE2_T0SZ(t)	  ((uint64_t)(t) << 32)
#define STE2_SL0(s)	  ((uint64_t)(s) << 38)
#define STE2_PS(p)	  ((uint64_t)(p) << 48)
#define STE2_AA64	  (1ULL << 51)
#define STE2_PTW	  (1ULL << 54)
#define STE2_HD		  (1ULL << 55)
#define STE2_HA		  (1ULL << 56)
#define STE2_S		  (1ULL << 57)
#define STE2_R		  (1ULL << 58)
#define CD0_T0SZ(t)	  ((uint64_t)(t))
#define CD0_HD		  (1ULL << 42)
#define CD0_HA		  (1ULL << 43)
#define CD0_EPD0	  (1ULL << 14)
#define CD0_EPD1	  (1ULL << 30)
#define CD0_V		  (1ULL << 31)
#define CD0_IPS(p)	  ((uint64_t)(p) << 32)
#define CD0_AA64	  (1ULL << 41)
#define CD0_S		  (1ULL << 44)
#define CD0_R		  (1ULL << 45)
#define CD0_A		  (1ULL << 46)
#define CD0_ASID(a)	  ((uint64_t)(a) << 48)
#define CMD_CFGI_STE	  0x03ULL
#define CMD_CFGI_CD	  0x05ULL
#define CMD_CFGI_CD_ALL	  0x06ULL
#define CMD_NH_ALL	  0x10ULL
#define CMD_NH_ASID	  0x11ULL
#define CMD_NH_VA	  0x12ULL
#define CMD_S2_IPA	  0x2aULL
#define CMD_NSNH_ALL	  0x30ULL
#define CMD_ATC_INV	  0x40ULL
#define CMD_SSEC	  (1ULL << 10)
#define CMD_SID(s)	  ((uint64_t)(s) << 32)
#define CMD_ASID(a)	  ((uint64_t)(a) << 48)
#define EVT_PNU		  (1ULL << 33)
#define EVT_RNW		  (1ULL << 35)
#define EVT_S2		  (1ULL << 39)
#define EVT_CLASS_IN	  (2ULL << 40)
#define EVT_F_TRANSLATION 0x10
#define EVT_F_PERMISSION  0x13

#define SID_A 0x10
#define SID_B 0x11
#define VSID  0x42
#define IOVA  0x100000ULL

static struct smmuv3_iommu *smmu;

/* The last event record the driver consumed (its event log). */
static uint64_t evt_last[4];

static void evt_log(void *opaque, const uint64_t evt[4], enum smmuv3_evt_route route)
{
	(void)opaque;
	(void)route;
	memcpy(evt_last, evt, sizeof(evt_last));
}

static void evt_last_clear(void)
{
	memset(evt_last, 0, sizeof(evt_last));
}

static void smmu_setup_p(bool s1p)
{
	struct smmuv3_iommu_params p;

	iommufd_setup();
	smmuv3_iommu_params_default(&p);
	p.hw.s1p = s1p;
	p.evt_log = evt_log;
	TAP_CHECK(!smmuv3_iommu_new(&p, &smmu), "smmuv3_iommu_new");
}

/* Both stages: a plain paging HWPT is stage 1, a NEST_PARENT one stage 2 (Linux's choice). */
static void smmu_setup(void)
{
	smmu_setup_p(true);
}

/* Stage 2 only (IDR0.S1P = 0): every paging HWPT is stage 2. */
static void smmu_setup_s2(void)
{
	smmu_setup_p(false);
}

static struct hwdev sdev_new_p(const struct smmuv3_dev_params *p)
{
	int err;
	struct udev *udev = smmuv3_iommu_dev_create(smmu, p, &err);

	return hwdev_new(udev, err);
}

static struct hwdev sdev_new(uint32_t sid, bool can_stall)
{
	struct smmuv3_dev_params p = {
		.sid = sid, .can_stall = can_stall, .is_pci = true, .ssid_bits = 8};

	return sdev_new_p(&p);
}

static int sdev_attach(struct hwdev *d, uint32_t pt_id)
{
	uint32_t id = pt_id;

	return iommufd_device_attach(d->idev, IOMMU_NO_PASID, &id);
}

static int sdev_replace(struct hwdev *d, uint32_t pt_id)
{
	uint32_t id = pt_id;

	return iommufd_device_replace(d->idev, IOMMU_NO_PASID, &id);
}

static void sdev_free(struct hwdev *d)
{
	hwdev_free(d, smmuv3_iommu_dev_destroy);
}

static void smmu_teardown(void)
{
	iommufd_teardown();
	smmuv3_iommu_free(smmu);
	smmu = NULL;
}

/* The STE the driver wrote for @sid, CPU order. */
static void ste_read(uint32_t sid, uint64_t ste[8])
{
	TAP_CHECK(!smmuv3_iommu_read_ste(smmu, sid, ste), "read_ste");
	for (unsigned int i = 0; i < 8; i++)
		ste[i] = le64toh(ste[i]);
}

static uint16_t hwpt_asid(uint32_t id)
{
	int asid = smmuv3_iommu_domain_asid(hwpt_domain(id));

	TAP_CHECK(asid > 0, "asid %d", asid);
	return (uint16_t)asid;
}

/* CD @ssid of @d's CD table, CPU order. */
static void cd_read(struct hwdev *d, uint32_t ssid, uint64_t cd[8])
{
	TAP_CHECK(!smmuv3_iommu_read_cd(d->udev, ssid, cd), "read_cd %u", ssid);
}

static uint16_t hwpt_vmid(uint32_t id)
{
	int vmid = smmuv3_iommu_domain_vmid(hwpt_domain(id));

	TAP_CHECK(vmid > 0, "vmid %d", vmid);
	return (uint16_t)vmid;
}

static int dma(struct hwdev *d, uint64_t iova, void *buf, size_t len, bool write, size_t *done,
	       struct iommu_dma_fault *f)
{
	return hwdev_dma(d->udev, IOMMU_NO_PASID, iova, buf, len, write, done, f);
}

static void dma_ok(struct hwdev *d, uint64_t iova, void *buf, size_t len, bool write)
{
	hwdev_dma_ok(d->udev, IOMMU_NO_PASID, iova, buf, len, write);
}

static void dma_fault(struct hwdev *d, uint64_t iova, size_t len, bool write, int err,
		      unsigned int reason, size_t want_done, uint64_t fault_iova)
{
	struct iommu_dma_fault f = hwdev_dma_fault(d->udev, IOMMU_NO_PASID, iova, len, write, err,
						   reason, want_done, fault_iova);

	TAP_CHECK_EQ(f.access, write ? PT_PROT_W : PT_PROT_R, "fault access");
}

/* ------------------------------------------------------------------ */
/* GET_HW_INFO                                                        */

static void test_hw_info(void *arg)
{
	struct iommu_hw_info_arm_smmuv3 info;
	struct iommu_hw_info cmd;
	struct smmuv3_dev_params p = {.sid = SID_B, .no_dirty = true};
	struct hwdev a, b;
	uint64_t v;

	smmu_setup();
	a = sdev_new(SID_A, false);
	b = sdev_new_p(&p);

	memset(&info, 0xcc, sizeof(info));
	cmd = (struct iommu_hw_info){
		.dev_id = a.id, .data_len = sizeof(info), .data_uptr = (uintptr_t)&info};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK_EQ(cmd.out_data_type, IOMMU_HW_INFO_TYPE_ARM_SMMUV3, "type");
	TAP_CHECK_EQ(cmd.data_len, 40, "data_len");
	TAP_CHECK_EQ(cmd.out_capabilities, IOMMU_HW_CAP_DIRTY_TRACKING, "caps");
	TAP_CHECK_EQ(cmd.out_max_pasid_log2, 8, "max_pasid_log2");
	TAP_CHECK_EQ(info.flags, 0, "flags");
	TAP_CHECK_EQ(info.__reserved, 0, "reserved");
	/* Exactly the registers as the hardware reads them. */
	for (unsigned int i = 0; i < 6; i++) {
		smmuv3_mmio_read(smmuv3_iommu_hw(smmu), 4 * i, 4, &v);
		TAP_CHECK_EQ(info.idr[i], v, "IDR%u", i);
	}
	smmuv3_mmio_read(smmuv3_iommu_hw(smmu), SMMU_AIDR, 4, &v);
	TAP_CHECK_EQ(info.aidr, v, "AIDR");
	TAP_CHECK_EQ(info.iidr, 0, "IIDR");
	/* S1P | S2P, HTTU = 0b10 (dirty), STALL_MODEL = 0b00 (stall supported). */
	TAP_CHECK_EQ(info.idr[0] & 3, 3, "S1P S2P");
	TAP_CHECK_EQ(info.idr[0] >> 6 & 3, 2, "HTTU");
	TAP_CHECK_EQ(info.idr[0] >> 24 & 3, 0, "STALL_MODEL");
	TAP_CHECK_EQ(info.idr[3] >> 10 & 1, 1, "RIL");

	/* A device that cannot track: no capability. */
	cmd = (struct iommu_hw_info){.dev_id = b.id, .data_len = 0};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK_EQ(cmd.out_capabilities, 0, "no_dirty caps");
	TAP_CHECK_EQ(cmd.data_len, 40, "full length with data_len 0");
	TAP_CHECK_EQ(cmd.out_max_pasid_log2, 0, "no PASID");

	/* Short buffer: 8 bytes copied, the full length reported. */
	memset(&info, 0xcc, sizeof(info));
	cmd = (struct iommu_hw_info){.dev_id = a.id, .data_len = 8, .data_uptr = (uintptr_t)&info};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK_EQ(cmd.data_len, 40, "full length");
	TAP_CHECK_EQ(info.idr[0], 0xcccccccc, "nothing past 8 bytes");

	/* INPUT_TYPE: ARM_SMMUV3 is fine, another vendor's type is EOPNOTSUPP. */
	cmd = (struct iommu_hw_info){.dev_id = a.id,
				     .flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
				     .in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3};
	CHECK_OK(_get_hw_info(&cmd));
	cmd = (struct iommu_hw_info){.dev_id = a.id,
				     .flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
				     .in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD};
	CHECK_ERRNO(EOPNOTSUPP, _get_hw_info(&cmd));

	sdev_free(&a);
	sdev_free(&b);
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* Stage-2 paging                                                     */

static void test_paging(void *arg)
{
	uint32_t ioas, hwpt, hwpt2, auto_id;
	uint8_t out[0x2000], in[0x2000];
	struct iommu_hwpt_arm_smmuv3 vste = {.ste = {1, 0}};
	struct hwdev a, b;
	uint64_t ste[8];

	smmu_setup_s2();
	a = sdev_new(SID_A, false);
	b = sdev_new(SID_B, false);
	ioas = ioas_alloc();
	/* Page 0 on its own, so that it can be unmapped alone. */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	ioas_map_fixed(ioas, (uint8_t *)buffer + PAGE_SIZE, BUFFER_SIZE - PAGE_SIZE,
		       IOVA + PAGE_SIZE);

	/*
	 * What a stage-2-only SMMU cannot do (PASID and dirty tracking are
	 * stage 1's; nesting needs both stages), and driver data: EOPNOTSUPP.
	 */
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_PASID, &hwpt));
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &hwpt));
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc_data(a.id, ioas, 0, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
						 &vste, sizeof(vste), &hwpt));

	hwpt = hwpt_alloc(a.id, ioas, 0);
	/* Blocked before the attach: an abort STE (V, Config 0). */
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0], STE0_V, "abort STE");
	CHECK_OK(sdev_attach(&a, hwpt));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0], STE0_V | STE0_CFG(6), "S2 translate");
	TAP_CHECK_EQ(ste[1], STE1_SHCFG_INC, "q1");
	/* VMID | S2T0SZ 16 | S2SL0 2 (level 0) | S2TG 4K | S2PS 48 | S2AA64 | S2R. */
	TAP_CHECK_EQ(ste[2],
		     hwpt_vmid(hwpt) | STE2_T0SZ(16) | STE2_SL0(2) | STE2_PS(5) | STE2_AA64 |
			     STE2_R,
		     "q2");
	TAP_CHECK(ste[3] && !(ste[3] & 0xfff), "S2TTB 0x%llx", (unsigned long long)ste[3]);
	for (unsigned int i = 4; i < 8; i++)
		TAP_CHECK_EQ(ste[i], 0, "q%u", i);

	/* DMA: bytes land in the buffer IOAS_MAP mapped, across a page boundary. */
	for (unsigned int i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	dma_ok(&a, IOVA + 0x1800, out, sizeof(out), true);
	TAP_CHECK(!memcmp((uint8_t *)buffer + 0x1800, out, sizeof(out)), "bytes written");
	memset(in, 0, sizeof(in));
	dma_ok(&a, IOVA + 0x1800, in, sizeof(in), false);
	TAP_CHECK(!memcmp(in, out, sizeof(in)), "bytes read");
	/* A run into unmapped IOVA moves what is mapped, then faults (F_TRANSLATION). */
	dma_fault(&a, IOVA + BUFFER_SIZE - 0x800, 0x1000, true, -EFAULT, EVT_F_TRANSLATION, 0x800,
		  IOVA + BUFFER_SIZE);
	/* Device B is blocked: abort, no event: a configuration abort, -EIO with reason 0. */
	dma_fault(&b, IOVA, 16, false, -EIO, 0, 0, IOVA);

	/* Unmap invalidates: the translation the IOTLB holds must not survive. */
	ioas_unmap(ioas, IOVA, PAGE_SIZE);
	dma_fault(&a, IOVA + 0x10, 4, false, -EFAULT, EVT_F_TRANSLATION, 0, IOVA + 0x10);
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	dma_ok(&a, IOVA + 0x10, in, 4, false);

	/* Two domains: different VMIDs; replace rewrites the STE. */
	hwpt2 = hwpt_alloc(a.id, ioas, 0);
	TAP_CHECK(hwpt_vmid(hwpt2) != hwpt_vmid(hwpt), "VMIDs");
	CHECK_OK(sdev_replace(&a, hwpt2));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[2] & 0xffff, hwpt_vmid(hwpt2), "VMID after replace");
	dma_ok(&a, IOVA + 0x1800, in, 16, false);

	/* An attach to the IOAS makes an auto HWPT the other device can share. */
	auto_id = ioas;
	CHECK_OK(iommufd_device_attach(b.idev, IOMMU_NO_PASID, &auto_id));
	TAP_CHECK(auto_id != ioas, "auto HWPT");
	dma_ok(&b, IOVA + 0x1800, in, 16, false);
	TAP_CHECK(!memcmp(in, out, 16), "auto domain bytes");

	/* A domain of another instance is not for this device. */
	{
		struct smmuv3_iommu_params pp;
		struct smmuv3_iommu *other, *mine = smmu;
		struct smmuv3_dev_params dp = {.sid = 1};
		struct hwdev c;

		smmuv3_iommu_params_default(&pp);
		pp.hw.s1p = false;
		TAP_CHECK(!smmuv3_iommu_new(&pp, &other), "second instance");
		smmu = other;
		c = sdev_new_p(&dp);
		smmu = mine;
		TAP_CHECK_EQ(sdev_attach(&c, hwpt), -EINVAL, "cross-instance attach");
		sdev_free(&c);
		smmuv3_iommu_free(other);
	}
	sdev_free(&a);
	sdev_free(&b);
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* MSI doorbell                                                       */

static void test_msi(void *arg)
{
	uint32_t ioas, hwpt, msi = 0x1234abcd, v;
	uint64_t db_iova, iova;
	uint32_t *db;
	struct hwdev a;

	smmu_setup_s2(); /* stage 2: the doorbell page is write-only (stage 1 has no such leaf) */
	a = sdev_new(SID_A, false);
	db = smmuv3_iommu_msi_doorbell(smmu, &db_iova);
	TAP_CHECK_EQ(db_iova, SMMUV3_MSI_IOVA_BASE, "doorbell IOVA");
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, IOVA);
	hwpt = hwpt_alloc(a.id, ioas, 0);
	CHECK_OK(sdev_attach(&a, hwpt));

	/* The SW_MSI window is reserved in the IOAS while the device is attached (Linux: EINVAL).
	 */
	iova = SMMUV3_MSI_IOVA_BASE + 0x10000;
	CHECK_ERRNO(EINVAL,
		    _ioas_map(ioas, buffer, PAGE_SIZE, &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	/* The device's MSI write rings the doorbell; the page is write-only. */
	dma_ok(&a, SMMUV3_MSI_IOVA_BASE + 0x40, &msi, sizeof(msi), true);
	TAP_CHECK_EQ(__atomic_load_n(&db[0x10], __ATOMIC_ACQUIRE), msi, "doorbell written");
	dma_fault(&a, SMMUV3_MSI_IOVA_BASE + 0x40, 4, false, -EFAULT, EVT_F_PERMISSION, 0,
		  SMMUV3_MSI_IOVA_BASE + 0x40);
	/* Only one page of the window is mapped. */
	dma_fault(&a, SMMUV3_MSI_IOVA_BASE + 0x1000, 4, true, -EFAULT, EVT_F_TRANSLATION, 0,
		  SMMUV3_MSI_IOVA_BASE + 0x1000);

	/* Detached: the window and the doorbell mapping are gone, so the IOAS may use it... */
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	iova = SMMUV3_MSI_IOVA_BASE;
	CHECK_OK(_ioas_map(ioas, buffer, PAGE_SIZE, &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	/* ... and the device cannot attach while it does. */
	TAP_CHECK_EQ(sdev_attach(&a, hwpt), -EADDRINUSE, "window in use");
	ioas_unmap(ioas, SMMUV3_MSI_IOVA_BASE, PAGE_SIZE);
	CHECK_OK(sdev_attach(&a, hwpt));
	v = 0x55aa55aa;
	dma_ok(&a, SMMUV3_MSI_IOVA_BASE + 0x40, &v, sizeof(v), true);
	TAP_CHECK_EQ(__atomic_load_n(&db[0x10], __ATOMIC_ACQUIRE), v, "doorbell again");

	/* A device without MSIs has no window. */
	{
		struct smmuv3_dev_params p = {.sid = SID_B, .no_msi = true};
		struct hwdev b = sdev_new_p(&p);

		sdev_free(&a);
		iova = SMMUV3_MSI_IOVA_BASE;
		CHECK_OK(_ioas_map(ioas, buffer, PAGE_SIZE, &iova,
				   MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
		CHECK_OK(sdev_attach(&b, hwpt));
		dma_ok(&b, SMMUV3_MSI_IOVA_BASE, &v, sizeof(v), false);
		TAP_CHECK_EQ(v, *(uint32_t *)buffer, "IOAS memory, not the doorbell");
		sdev_free(&b);
	}
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* Dirty tracking                                                     */

static void test_dirty(void *arg)
{
	struct smmuv3_dev_params np = {.sid = SID_B, .no_dirty = true};
	uint32_t ioas, hwpt, plain;
	uint8_t x[8] = "dirtyyy";
	struct hwdev a, b;
	uint64_t ste[8], cd[8];

	smmu_setup();
	a = sdev_new(SID_A, false);
	b = sdev_new_p(&np);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, IOVA);
	/* A device that cannot track gets no DIRTY_TRACKING domain (the core checks the cap). */
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc(b.id, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt));
	hwpt = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	TAP_CHECK_EQ(sdev_attach(&b, hwpt), -EINVAL, "no_dirty device on a tracking domain");
	plain = hwpt_alloc(a.id, ioas, 0);
	CHECK_ERRNO(EOPNOTSUPP, _set_dirty_tracking(plain, true));

	CHECK_OK(sdev_attach(&a, hwpt));
	/* Stage 1 (Linux: IO_PGTABLE_QUIRK_ARM_HD): CD.HA | CD.HD, no stage-2 HTTU. */
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0] & STE0_CFG(7), STE0_CFG(5), "stage-1 STE");
	TAP_CHECK_EQ(ste[2] & (STE2_HA | STE2_HD), 0, "no S2HA | S2HD");
	cd_read(&a, 0, cd);
	TAP_CHECK_EQ(cd[0] & (CD0_HA | CD0_HD), CD0_HA | CD0_HD, "CD.HA | CD.HD");
	TAP_CHECK_EQ(cd[0] >> 48, (uint64_t)hwpt_asid(hwpt), "CD.ASID");

	/* Written before tracking starts: enabling clears it. */
	dma_ok(&a, IOVA + 2 * PAGE_SIZE, x, sizeof(x), true);
	CHECK_OK(_set_dirty_tracking(hwpt, true));
	bitmap_expect(hwpt, IOVA, 16, 0, 0);

	/* Writes dirty their pages (one spans two), reads do not. */
	dma_ok(&a, IOVA + 1 * PAGE_SIZE + 8, x, sizeof(x), true);
	dma_ok(&a, IOVA + 6 * PAGE_SIZE - 4, x, sizeof(x), true);
	dma_ok(&a, IOVA + 9 * PAGE_SIZE, x, sizeof(x), false);
	bitmap_expect(hwpt, IOVA, 16, 1u << 1 | 1u << 5 | 1u << 6, 0);
	/* Read and cleared. */
	bitmap_expect(hwpt, IOVA, 16, 0, 0);
	/* The same page written again is dirty again (its cached translation was dropped). */
	dma_ok(&a, IOVA + 1 * PAGE_SIZE, x, sizeof(x), true);
	/* NO_CLEAR leaves it for the next read; a sub-range reads its own bits only. */
	bitmap_expect(hwpt, IOVA, 16, 1u << 1, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	bitmap_expect(hwpt, IOVA + 4 * PAGE_SIZE, 4, 0, 0);
	bitmap_expect(hwpt, IOVA, 16, 1u << 1, 0);
	bitmap_expect(hwpt, IOVA, 16, 0, 0);
	/* The data got there, of course. */
	TAP_CHECK(!memcmp((uint8_t *)buffer + PAGE_SIZE, x, sizeof(x)), "bytes");

	sdev_free(&a);
	sdev_free(&b);
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* A guest: RAM mapped by IOAS_MAP at GRAM_IPA, its stage 1 built there */

#define GRAM_IPA  0x40000000ULL
#define GRAM_SIZE 0x200000ULL
#define CD_OFF	  0x100000ULL /* first half: stage-1 tables; then the CD; then data */
#define DATA_OFF  0x180000ULL
#define GASID	  5

struct guest {
	uint8_t *ram;
	struct pt_arena tables;
	struct pt_table s1;
};

static uint64_t *guest_cd(struct guest *g)
{
	return (uint64_t *)(g->ram + CD_OFF);
}

static void guest_init(struct guest *g, uint32_t ioas, uint64_t cd_extra)
{
	struct pt_cfg c = {.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48};
	uint64_t *cd;

	g->ram = zpages(GRAM_SIZE);
	ioas_map_fixed(ioas, g->ram, GRAM_SIZE, GRAM_IPA);
	TAP_CHECK(!pt_cfg_init(&c), "s1 cfg");
	TAP_CHECK(!pt_arena_init_at(&g->tables, GRAM_IPA, CD_OFF, g->ram), "guest arena");
	TAP_CHECK(!pt_table_init(&g->s1, &c, &g->tables.mem), "guest s1");
	/* The guest's CD: 48-bit VA, 4K, IPS 48, AA64, R, A, ASID; TTB0 its table (an IPA). */
	cd = guest_cd(g);
	cd[0] = htole64(CD0_T0SZ(16) | CD0_EPD1 | CD0_V | CD0_IPS(5) | CD0_AA64 | CD0_R | CD0_A |
			CD0_ASID(GASID) | cd_extra);
	cd[1] = htole64(g->s1.root);
}

static void guest_map(struct guest *g, uint64_t iova, uint64_t ipa, unsigned int prot)
{
	TAP_CHECK(!pt_map(&g->s1, iova, ipa, PAGE_SIZE, prot), "guest map 0x%llx",
		  (unsigned long long)iova);
}

static void guest_unmap(struct guest *g, uint64_t iova)
{
	TAP_CHECK(!pt_unmap(&g->s1, iova, PAGE_SIZE, NULL), "guest unmap");
}

static void guest_destroy(struct guest *g)
{
	pt_table_destroy(&g->s1);
	pt_arena_destroy(&g->tables);
	munmap(g->ram, GRAM_SIZE);
}

/* The guest's vSTE for a stage-1 translate through its CD. */
static struct iommu_hwpt_arm_smmuv3 vste_s1(uint64_t q1)
{
	return (struct iommu_hwpt_arm_smmuv3){
		.ste = {htole64(STE0_V | STE0_CFG(5) | (GRAM_IPA + CD_OFF)), htole64(q1)},
	};
}

static int _nested_alloc(uint32_t dev, uint32_t viommu, const struct iommu_hwpt_arm_smmuv3 *v,
			 uint32_t flags, uint32_t fault_id, uint32_t *id)
{
	return _hwpt_alloc_data(dev, viommu, flags, fault_id, IOMMU_HWPT_DATA_ARM_SMMUV3, v,
				sizeof(*v), id);
}

static uint32_t nested_alloc(uint32_t dev, uint32_t viommu, struct iommu_hwpt_arm_smmuv3 v)
{
	uint32_t id = 0;

	CHECK_OK(_nested_alloc(dev, viommu, &v, 0, 0, &id));
	return id;
}

static int _inv(uint32_t viommu, const void *cmds, uint32_t entry_len, uint32_t *n)
{
	return _hwpt_invalidate(viommu, cmds, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, entry_len,
				n);
}

static void inv_ok(uint32_t viommu, uint64_t c0, uint64_t c1)
{
	struct iommu_viommu_arm_smmuv3_invalidate cmd = {.cmd = {htole64(c0), htole64(c1)}};
	uint32_t n = 1;

	CHECK_OK(_inv(viommu, &cmd, sizeof(cmd), &n));
	TAP_CHECK_EQ(n, 1, "entry_num");
}

/* ------------------------------------------------------------------ */
/* vIOMMU, nested HWPTs, vDEVICEs                                      */

static void test_viommu(void *arg)
{
	uint32_t ioas, parent, plain, viommu, viommu2, nested, bypass, abort_id, vdev, id;
	struct iommu_hwpt_arm_smmuv3 v;
	struct iommu_hwpt_selftest st = {0};
	struct hwdev a, b;
	uint64_t ste[8], s2ste[8];
	uint16_t vmid;

	smmu_setup();
	a = sdev_new(SID_A, false);
	b = sdev_new(SID_B, true);
	ioas = ioas_alloc();
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	plain = hwpt_alloc(a.id, ioas, 0);
	vmid = hwpt_vmid(parent);

	/* VIOMMU_ALLOC: the type, the parent. */
	CHECK_ERRNO(EOPNOTSUPP,
		    _viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, &viommu));
	CHECK_ERRNO(EINVAL,
		    _viommu_alloc(a.id, plain, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu));
	CHECK_OK(_viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu));
	CHECK_OK(_viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu2));

	/* Nesting needs a vIOMMU: a nested HWPT straight on the parent is EOPNOTSUPP. */
	v = vste_s1(0);
	CHECK_ERRNO(EOPNOTSUPP, _nested_alloc(a.id, parent, &v, 0, 0, &id));
	/* The blob: type (EINVAL), length (EINVAL), flags (EOPNOTSUPP). */
	CHECK_ERRNO(EINVAL, _hwpt_alloc_data(a.id, viommu, 0, 0, IOMMU_HWPT_DATA_SELFTEST, &st,
					     sizeof(st), &id));
	CHECK_ERRNO(EINVAL,
		    _hwpt_alloc_data(a.id, viommu, 0, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &v, 8, &id));
	CHECK_ERRNO(EOPNOTSUPP, _nested_alloc(a.id, viommu, &v, IOMMU_HWPT_ALLOC_PASID, 0, &id));
	/* Linux's vSTE rules: EIO for any bit a guest may not set. */
	v.ste[0] |= htole64(1ULL << 52); /* beyond S1ContextPtr */
	CHECK_ERRNO(EIO, _nested_alloc(a.id, viommu, &v, 0, 0, &id));
	v = vste_s1(1ULL << 30); /* STRW */
	CHECK_ERRNO(EIO, _nested_alloc(a.id, viommu, &v, 0, 0, &id));
	v = vste_s1(0);
	v.ste[1] = htole64(1ULL << 19); /* MEV: the host's */
	CHECK_ERRNO(EIO, _nested_alloc(a.id, viommu, &v, 0, 0, &id));
	v = (struct iommu_hwpt_arm_smmuv3){.ste = {htole64(STE0_V | STE0_CFG(6)), 0}};
	CHECK_ERRNO(EIO, _nested_alloc(a.id, viommu, &v, 0, 0, &id)); /* Config S2 */
	v = (struct iommu_hwpt_arm_smmuv3){.ste = {htole64(STE0_V | STE0_CFG(7)), 0}};
	CHECK_ERRNO(EIO, _nested_alloc(a.id, viommu, &v, 0, 0, &id)); /* Config nested */
	v = vste_s1(STE1_EATS(2));
	CHECK_ERRNO(EIO, _nested_alloc(a.id, viommu, &v, 0, 0, &id)); /* EATS S1CHK */
	/* V = 0 with anything: an abort STE. EATS 1 is fine (and dropped: no ATS here). */
	v = (struct iommu_hwpt_arm_smmuv3){.ste = {htole64(~1ULL), htole64(~0ULL)}};
	abort_id = nested_alloc(a.id, viommu, v);
	nested = nested_alloc(a.id, viommu, vste_s1(STE1_EATS(1) | 0x3 << 2 | 1));
	bypass = nested_alloc(
		a.id, viommu,
		(struct iommu_hwpt_arm_smmuv3){.ste = {htole64(STE0_V | STE0_CFG(4)), 0}});

	/* Translating needs the vDEVICE (its vSID); abort and bypass do not. */
	TAP_CHECK_EQ(sdev_attach(&a, nested), -ENOENT, "no vDEVICE");
	CHECK_OK(sdev_attach(&a, abort_id));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0], STE0_V, "abort");
	CHECK_OK(sdev_replace(&a, bypass));
	ste_read(SID_A, s2ste);
	TAP_CHECK_EQ(s2ste[0], STE0_V | STE0_CFG(6), "bypass = the parent's stage 2");
	TAP_CHECK_EQ(s2ste[2],
		     vmid | STE2_T0SZ(16) | STE2_SL0(2) | STE2_PS(5) | STE2_AA64 | STE2_PTW |
			     STE2_R,
		     "parent q2 (S2PTW: a nesting parent)");

	/* vDEVICE: EEXIST both ways; a device of another vIOMMU is fine. */
	CHECK_OK(_vdevice_alloc(viommu, a.id, VSID, &vdev));
	CHECK_ERRNO(EEXIST, _vdevice_alloc(viommu, b.id, VSID, &id));
	CHECK_ERRNO(EEXIST, _vdevice_alloc(viommu, a.id, VSID + 1, &id));
	CHECK_OK(_vdevice_alloc(viommu2, b.id, VSID, &id));

	CHECK_OK(sdev_replace(&a, nested));
	ste_read(SID_A, ste);
	/* Word 0: V | Config nested | the guest's CD pointer; word 1: its cache bits, MEV,
	 * S1STALLD (this device cannot stall), no EATS; words 2-3: the parent's stage 2. */
	TAP_CHECK_EQ(ste[0], STE0_V | STE0_CFG(7) | (GRAM_IPA + CD_OFF), "q0");
	TAP_CHECK_EQ(ste[1], STE1_SHCFG_INC | 0x3 << 2 | 1 | STE1_MEV | STE1_S1STALLD, "q1");
	TAP_CHECK_EQ(ste[2], s2ste[2], "q2");
	TAP_CHECK_EQ(ste[3], s2ste[3], "q3");
	/* The parent and its vIOMMU are busy. */
	CHECK_ERRNO(EBUSY, _destroy(viommu));
	CHECK_ERRNO(EBUSY, _destroy(parent));

	/* Device B can stall: the guest's S1STALLD = 0 stays. Nested on vIOMMU 2. */
	nested = nested_alloc(b.id, viommu2, vste_s1(0));
	CHECK_OK(sdev_attach(&b, nested));
	ste_read(SID_B, ste);
	TAP_CHECK_EQ(ste[1], STE1_SHCFG_INC | STE1_MEV, "q1 of a stalling device");
	/* Destroying the vDEVICE is fine while attached (its events stay with the host). */
	CHECK_OK(_destroy(vdev));

	sdev_free(&a);
	sdev_free(&b);
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* DMA through a guest stage 1, vEVENTs, invalidation                  */

static ssize_t vevent_read(int fd, void *buf, size_t len)
{
	return uiommu_read(fd_file(fd), buf, len);
}

struct vrec {
	struct iommufd_vevent_header hdr;
	struct iommu_vevent_arm_smmuv3 ev;
};

static void test_nested_dma(void *arg)
{
	uint32_t ioas, parent, viommu, nested, veventq;
	struct smmuv3_iommu_stats st;
	uint8_t buf[16];
	struct guest g;
	struct vrec rec;
	struct hwdev a;
	uint32_t msi = 0xfeedf00d, *db;
	int vfd;

	smmu_setup();
	a = sdev_new(SID_A, false);
	ioas = ioas_alloc();
	guest_init(&g, ioas, 0);
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu));
	CHECK_OK(_vdevice_alloc(viommu, a.id, VSID, NULL));
	CHECK_OK(_veventq_alloc(viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8, &veventq, &vfd));
	nested = nested_alloc(a.id, viommu, vste_s1(0));
	CHECK_OK(sdev_attach(&a, nested));

	/* The guest maps IOVA 0x10000 to a page of its RAM: the DMA lands there. */
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF, PT_PROT_RW);
	guest_map(&g, 0x11000, GRAM_IPA + DATA_OFF + 0x1000, PT_PROT_RW);
	memcpy(buf, "through stage 1", 16);
	dma_ok(&a, 0x10ff8, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0xff8, buf, 16), "bytes in guest RAM");
	TAP_CHECK_EQ(vevent_read(vfd, &rec, sizeof(rec)), 0, "no vEVENT yet");

	/* A stage-1 fault: the guest gets F_TRANSLATION with its vSID. */
	dma_fault(&a, 0x20000, 4, true, -EFAULT, EVT_F_TRANSLATION, 0, 0x20000);
	TAP_CHECK_EQ(vevent_read(vfd, &rec, sizeof(rec)), sizeof(rec), "one vEVENT");
	TAP_CHECK_EQ(rec.hdr.flags, 0, "flags");
	TAP_CHECK_EQ(rec.hdr.sequence, 0, "sequence");
	TAP_CHECK_EQ(le64toh(rec.ev.evt[0]), EVT_F_TRANSLATION | (uint64_t)VSID << 32, "evt0");
	/* A privileged data write (RnW 0), class IN, stage 1. */
	TAP_CHECK_EQ(le64toh(rec.ev.evt[1]), EVT_PNU | EVT_CLASS_IN, "evt1");
	TAP_CHECK_EQ(le64toh(rec.ev.evt[2]), 0x20000, "InputAddr");
	TAP_CHECK_EQ(le64toh(rec.ev.evt[3]), 0, "IPA");
	/* A read fault too: RnW. */
	dma_fault(&a, 0x30008, 4, false, -EFAULT, EVT_F_TRANSLATION, 0, 0x30008);
	TAP_CHECK_EQ(vevent_read(vfd, &rec, sizeof(rec)), sizeof(rec), "second vEVENT");
	TAP_CHECK_EQ(rec.hdr.sequence, 1, "sequence");
	TAP_CHECK_EQ(le64toh(rec.ev.evt[1]), EVT_PNU | EVT_RNW | EVT_CLASS_IN, "evt1 read");

	/* A stage-2 fault (the guest points at IPA the IOAS does not map) is the host's. */
	guest_map(&g, 0x40000, 0x10000000, PT_PROT_RW);
	dma_fault(&a, 0x40000, 4, true, -EFAULT, EVT_F_TRANSLATION, 0, 0x40000);
	TAP_CHECK_EQ(vevent_read(vfd, &rec, sizeof(rec)), 0, "no vEVENT for stage 2");
	smmuv3_iommu_get_stats(smmu, &st);
	TAP_CHECK_EQ(st.vevents, 2, "forwarded");
	TAP_CHECK_EQ(st.unhandled, 1, "host events");

	/*
	 * The guest moves IOVA 0x10000 to another page. Its stale translation
	 * stays in the IOTLB until it invalidates; TLBI_NH_VA carries the
	 * guest's VMID (0 here), which the vIOMMU replaces with its own.
	 */
	guest_unmap(&g, 0x10000);
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF + 0x2000, PT_PROT_RW);
	memcpy(buf, "stale translate", 16);
	dma_ok(&a, 0x10100, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x100, buf, 16), "old page until invalidated");
	inv_ok(viommu, CMD_NH_VA | CMD_ASID(GASID), 0x10000);
	memcpy(buf, "after NH_VA.....", 16);
	dma_ok(&a, 0x10100, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x2100, buf, 16), "new page");
	/* TLBI_NSNH_ALL becomes NH_ALL of the VMID: the same effect. */
	guest_unmap(&g, 0x10000);
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF + 0x3000, PT_PROT_RW);
	inv_ok(viommu, CMD_NSNH_ALL, 0);
	dma_ok(&a, 0x10200, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x3200, buf, 16), "after NSNH_ALL");

	/* The guest disables TTB0 walks in its CD: cached until CFGI_CD names its vSID. */
	guest_cd(&g)[0] |= htole64(CD0_EPD0);
	dma_ok(&a, 0x10200, buf, 16, false);
	inv_ok(viommu, CMD_CFGI_CD | CMD_SID(VSID), 0);
	dma_fault(&a, 0x10200, 16, false, -EFAULT, EVT_F_TRANSLATION, 0, 0x10200);
	TAP_CHECK_EQ(vevent_read(vfd, &rec, sizeof(rec)), sizeof(rec), "EPD0 vEVENT");
	guest_cd(&g)[0] &= ~htole64(CD0_EPD0);
	inv_ok(viommu, CMD_CFGI_CD_ALL | CMD_SID(VSID), 0);
	dma_ok(&a, 0x10200, buf, 16, false);

	/* MSI: the guest maps its MSI IOVA to the SW_MSI window; the write rings the doorbell. */
	db = smmuv3_iommu_msi_doorbell(smmu, NULL);
	guest_map(&g, 0x50000, SMMUV3_MSI_IOVA_BASE, PT_PROT_W);
	dma_ok(&a, 0x50040, &msi, sizeof(msi), true);
	TAP_CHECK_EQ(__atomic_load_n(&db[0x10], __ATOMIC_ACQUIRE), msi, "doorbell through S1");

	CHECK_OK(fd_close(vfd));
	sdev_free(&a);
	smmu_teardown();
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* PASIDs: the guest's CD table                                        */

/*
 * Two CDs (S1CDMax 1): CD 0 for requests without PASID (S1DSS = 0b10,
 * SSID0), CD 1, with a stage 1 of its own, for PASID 1. Faults carry SSV
 * and the SSID; PASID 2 is beyond the table (C_BAD_SUBSTREAMID, -EIO).
 */
static void test_nested_pasid(void *arg)
{
	uint32_t ioas, parent, viommu, nested, veventq;
	struct pt_cfg c = {.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48};
	struct iommu_hwpt_arm_smmuv3 v;
	struct iommu_dma_fault f;
	struct pt_table s1b;
	uint8_t buf[8] = "pasid 1";
	struct guest g;
	struct vrec rec;
	struct hwdev a;
	uint64_t *cd1;
	size_t done;
	int vfd;

	smmu_setup();
	a = sdev_new(SID_A, false);
	ioas = ioas_alloc();
	guest_init(&g, ioas, 0);
	TAP_CHECK(!pt_cfg_init(&c) && !pt_table_init(&s1b, &c, &g.tables.mem), "second table");
	cd1 = guest_cd(&g) + 8;
	cd1[0] = guest_cd(&g)[0] & ~htole64(CD0_ASID(0xffff));
	cd1[0] |= htole64(CD0_ASID(GASID + 1));
	cd1[1] = htole64(s1b.root);
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF, PT_PROT_RW);
	TAP_CHECK(!pt_map(&s1b, 0x10000, GRAM_IPA + DATA_OFF + 0x6000, PAGE_SIZE, PT_PROT_RW),
		  "CD 1 map");
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu));
	CHECK_OK(_vdevice_alloc(viommu, a.id, VSID, NULL));
	CHECK_OK(_veventq_alloc(viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8, &veventq, &vfd));
	v = vste_s1(2);			 /* S1DSS = SSID0 */
	v.ste[0] |= htole64(1ULL << 59); /* S1CDMax 1 */
	nested = nested_alloc(a.id, viommu, v);
	CHECK_OK(sdev_attach(&a, nested));

	/* Without PASID through CD 0, with PASID 1 through CD 1's own stage 1. */
	dma_ok(&a, 0x10000, buf, sizeof(buf), true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF, buf, sizeof(buf)), "CD 0");
	memcpy(buf, "PASID 1", 8);
	TAP_CHECK_EQ(iommu_dma_rw(a.udev, 1, 0x10008, buf, sizeof(buf), true, &done, &f), 0,
		     "PASID 1 DMA");
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x6008, buf, sizeof(buf)), "CD 1");

	/* A fault under PASID 1: the vEVENT has SSV and SubstreamID. */
	TAP_CHECK_EQ(iommu_dma_rw(a.udev, 1, 0x20000, buf, 4, false, &done, &f), -EFAULT,
		     "PASID 1 fault");
	TAP_CHECK_EQ(f.pasid, 1, "fault pasid");
	TAP_CHECK_EQ(vevent_read(vfd, &rec, sizeof(rec)), sizeof(rec), "vEVENT");
	TAP_CHECK_EQ(le64toh(rec.ev.evt[0]),
		     EVT_F_TRANSLATION | 1ULL << 11 | 1ULL << 12 | (uint64_t)VSID << 32, "evt0");
	/* PASID 2 has no CD: C_BAD_SUBSTREAMID, a configuration error the guest is told. */
	TAP_CHECK_EQ(iommu_dma_rw(a.udev, 2, 0x10000, buf, 4, false, &done, &f), -EIO, "PASID 2");
	TAP_CHECK_EQ(f.reason, 0x08, "C_BAD_SUBSTREAMID");
	TAP_CHECK_EQ(vevent_read(vfd, &rec, sizeof(rec)), sizeof(rec), "vEVENT");
	TAP_CHECK_EQ(le64toh(rec.ev.evt[0]), 0x08 | 1ULL << 11 | 2ULL << 12 | (uint64_t)VSID << 32,
		     "evt0 C_BAD_SUBSTREAMID");

	CHECK_OK(fd_close(vfd));
	sdev_free(&a);
	smmu_teardown();
	pt_table_destroy(&s1b);
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* Invalidation refusals and entry_num                                 */

static void test_invalidate(void *arg)
{
	struct iommu_viommu_arm_smmuv3_invalidate cmds[4];
	struct smmuv3_iommu_stats st;
	uint32_t ioas, parent, viommu, n;
	uint64_t wide[3][3];
	struct hwdev a;

	smmu_setup();
	a = sdev_new(SID_A, false);
	ioas = ioas_alloc();
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu));
	CHECK_OK(_vdevice_alloc(viommu, a.id, VSID, NULL));

#define CMD(i, c0, c1)                                        \
	cmds[i] = (struct iommu_viommu_arm_smmuv3_invalidate) \
	{                                                     \
		.cmd = { htole64(c0), htole64(c1) }           \
	}
	/* Good commands of every accepted kind. */
	CMD(0, CMD_NH_ALL, 0);
	CMD(1, CMD_NH_ASID | CMD_ASID(3), 0);
	CMD(2, CMD_CFGI_CD_ALL | CMD_SID(VSID), 0);
	CMD(3, CMD_NSNH_ALL, 0);
	n = 4;
	CHECK_OK(_inv(viommu, cmds, sizeof(cmds[0]), &n));
	TAP_CHECK_EQ(n, 4, "all handled");

	/* Opcodes a guest may not issue: EIO at their index. */
	CMD(1, CMD_CFGI_STE | CMD_SID(VSID), 0);
	n = 4;
	CHECK_ERRNO(EIO, _inv(viommu, cmds, sizeof(cmds[0]), &n));
	TAP_CHECK_EQ(n, 1, "CFGI_STE refused");
	CMD(1, CMD_S2_IPA, 0x1000);
	n = 4;
	CHECK_ERRNO(EIO, _inv(viommu, cmds, sizeof(cmds[0]), &n));
	TAP_CHECK_EQ(n, 1, "TLBI_S2_IPA refused");
	/* A vSID without a vDEVICE: EIO. */
	CMD(1, CMD_NH_ALL, 0);
	CMD(2, CMD_CFGI_CD | CMD_SID(VSID + 1), 0);
	n = 4;
	CHECK_ERRNO(EIO, _inv(viommu, cmds, sizeof(cmds[0]), &n));
	TAP_CHECK_EQ(n, 2, "unknown vSID");
	/* A command the hardware refuses (SSec set): EIO at its index, the rest not issued. */
	smmuv3_iommu_get_stats(smmu, &st);
	CMD(2, CMD_NH_ASID | CMD_SSEC, 0);
	n = 4;
	CHECK_ERRNO(EIO, _inv(viommu, cmds, sizeof(cmds[0]), &n));
	TAP_CHECK_EQ(n, 2, "CMDQ_ERR");
	{
		struct smmuv3_iommu_stats st2;

		smmuv3_iommu_get_stats(smmu, &st2);
		TAP_CHECK_EQ(st2.cmd_errors, st.cmd_errors + 1, "one refusal");
	}
	/* The queue goes on afterwards. */
	n = 1;
	CHECK_OK(_inv(viommu, cmds, sizeof(cmds[0]), &n));

	/* The array rules (copied whole first): nothing handled on a bad array. */
	n = 0;
	CHECK_ERRNO(EINVAL, _inv(viommu, cmds, sizeof(cmds[0]), &n));
	TAP_CHECK_EQ(n, 0, "entry_num 0 is EINVAL for this driver");
	n = 2;
	CHECK_ERRNO(EINVAL, _hwpt_invalidate(viommu, cmds, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     sizeof(cmds[0]), &n));
	TAP_CHECK_EQ(n, 0, "wrong type");
	memset(wide, 0, sizeof(wide));
	wide[0][0] = htole64(CMD_NH_ALL);
	wide[1][0] = htole64(CMD_NH_ASID);
	wide[2][0] = htole64(CMD_NH_ALL);
	n = 3;
	CHECK_OK(_inv(viommu, wide, sizeof(wide[0]), &n));
	TAP_CHECK_EQ(n, 3, "longer entries with zero tails");
	wide[1][2] = 1;
	n = 3;
	CHECK_ERRNO(E2BIG, _inv(viommu, wide, sizeof(wide[0]), &n));
	TAP_CHECK_EQ(n, 0, "a non-zero tail");
	n = 3;
	CHECK_ERRNO(EFAULT, _inv(viommu, (void *)(uintptr_t)0x10, sizeof(cmds[0]), &n));
	TAP_CHECK_EQ(n, 0, "bad pointer");
	/* A nested HWPT of this driver has no invalidation of its own: EOPNOTSUPP. */
	{
		uint32_t nested = nested_alloc(a.id, viommu, vste_s1(0));

		n = 1;
		CHECK_ERRNO(EOPNOTSUPP, _inv(nested, cmds, sizeof(cmds[0]), &n));
	}
#undef CMD
	sdev_free(&a);
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* IOPF through the fault queue                                        */

struct dma_job {
	struct hwdev *d;
	uint32_t pasid;
	uint64_t iova;
	uint8_t buf[64];
	size_t len, done;
	bool write;
	int ret;
	struct iommu_dma_fault f;
	pthread_t th;
};

static void *dma_thread(void *arg)
{
	struct dma_job *j = arg;

	j->ret = iommu_dma_rw(j->d->udev, j->pasid, j->iova, j->buf, j->len, j->write, &j->done,
			      &j->f);
	return NULL;
}

static void job_start_pasid(struct dma_job *j, struct hwdev *d, uint32_t pasid, uint64_t iova,
			    size_t len, bool write)
{
	j->d = d;
	j->pasid = pasid;
	j->iova = iova;
	j->len = len;
	j->write = write;
	j->ret = 1;
	for (size_t i = 0; i < len; i++)
		j->buf[i] = (uint8_t)(0xa0 + i);
	TAP_CHECK(!pthread_create(&j->th, NULL, dma_thread, j), "pthread_create");
}

static void job_start(struct dma_job *j, struct hwdev *d, uint64_t iova, size_t len, bool write)
{
	job_start_pasid(j, d, IOMMU_NO_PASID, iova, len, write);
}

static void fault_respond(int fd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response r = {.cookie = cookie, .code = code};

	TAP_CHECK_EQ(uiommu_write(fd_file(fd), &r, sizeof(r)), sizeof(r), "response");
}

/*
 * A 32-byte write at IOVA + 0x3010, a page @ioas does not map yet, waits:
 * its request (in *@pf) has the Last flag, device @a, address @addr and
 * write permission. Mapping the page and answering SUCCESS completes the
 * write, all 32 bytes into the new page.
 */
static void fault_demand_write(int ffd, struct hwdev *a, uint32_t ioas, uint64_t addr,
			       struct iommu_hwpt_pgfault *pf)
{
	struct dma_job j;

	job_start(&j, a, IOVA + 0x3010, 32, true);
	fault_wait(ffd, pf);
	TAP_CHECK_EQ(pf->flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE, "flags");
	TAP_CHECK_EQ(pf->dev_id, a->id, "dev_id");
	TAP_CHECK_EQ(pf->addr, addr, "addr");
	TAP_CHECK_EQ(pf->perm, IOMMU_PGFAULT_PERM_WRITE | IOMMU_PGFAULT_PERM_PRIV, "perm");
	ioas_map_fixed(ioas, (uint8_t *)buffer + 0x3000, PAGE_SIZE, IOVA + 0x3000);
	fault_respond(ffd, pf->cookie, IOMMUFD_PAGE_RESP_SUCCESS);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.ret, 0, "DMA after the response");
	TAP_CHECK_EQ(j.done, 32, "bytes");
	TAP_CHECK(!memcmp((uint8_t *)buffer + 0x3010, j.buf, 32), "bytes in the new page");
}

/*
 * An 8-byte read at IOVA + 0x5000 (not mapped) waits; answering INVALID
 * fails it with the translation fault, nothing moved.
 */
static void fault_demand_invalid(int ffd, struct hwdev *a)
{
	struct iommu_hwpt_pgfault pf;
	struct dma_job j;

	job_start(&j, a, IOVA + 0x5000, 8, false);
	fault_wait(ffd, &pf);
	TAP_CHECK_EQ(pf.perm, IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_PRIV, "read perm");
	fault_respond(ffd, pf.cookie, IOMMUFD_PAGE_RESP_INVALID);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.ret, -EFAULT, "failed");
	TAP_CHECK_EQ(j.f.reason, EVT_F_TRANSLATION, "reason");
	TAP_CHECK_EQ(j.done, 0, "nothing moved");
}

static void test_iopf_s2(void *arg)
{
	struct iommu_hwpt_pgfault pf;
	uint32_t ioas, hwpt, fault_id, plain;
	struct dma_job j;
	struct hwdev a;
	uint64_t ste[8];
	int ffd;

	smmu_setup_s2();
	a = sdev_new(SID_A, true);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	CHECK_OK(_hwpt_alloc_data(a.id, ioas, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt));
	CHECK_OK(sdev_attach(&a, hwpt));
	/* A device that can stall, on a domain with a fault queue: S2S. */
	ste_read(SID_A, ste);
	TAP_CHECK(ste[2] & STE2_S, "S2S");

	/*
	 * A write to a page not mapped yet waits; the request reaches the
	 * queue with the faulting address. Demand paging: map it, answer
	 * SUCCESS, and the transaction completes.
	 */
	fault_demand_write(ffd, &a, ioas, IOVA + 0x3010, &pf);
	TAP_CHECK(pf.cookie, "cookie");

	/* INVALID: the transaction is aborted. */
	fault_demand_invalid(ffd, &a);

	/* Detaching answers what is outstanding: the waiting transaction ends. */
	job_start(&j, &a, IOVA + 0x6000, 8, true);
	fault_wait(ffd, &pf);
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.ret, -EFAULT, "ended by detach");
	CHECK_ERRNO(EINVAL,
		    uiommu_write(fd_file(ffd),
				 &(struct iommu_hwpt_page_response){
					 .cookie = pf.cookie, .code = IOMMUFD_PAGE_RESP_SUCCESS},
				 sizeof(struct iommu_hwpt_page_response)));

	/* Without a fault queue the same fault is immediate (no S2S). */
	plain = hwpt_alloc(a.id, ioas, 0);
	CHECK_OK(sdev_attach(&a, plain));
	ste_read(SID_A, ste);
	TAP_CHECK(!(ste[2] & STE2_S), "no S2S");
	dma_fault(&a, IOVA + 0x7000, 4, true, -EFAULT, EVT_F_TRANSLATION, 0, IOVA + 0x7000);

	sdev_free(&a);
	CHECK_OK(fd_close(ffd));
	smmu_teardown();
}

/*
 * STALL_MODEL 0b10 (stall forced): Linux's ARM_SMMU_FEAT_STALL_FORCE makes
 * every master stall_enabled, so every CD has S, every stage-2 STE S2S,
 * and no STE S1STALLD (each of those the other way is ILLEGAL under
 * 0b10: C_BAD_CD / C_BAD_STE). A device that did not say it can stall
 * then translates as usual; its fault on a domain without a fault queue
 * stalls and is answered RESUME Abort at once (the DMA fails with the
 * translation fault, nothing waits); on a domain with one it is a page
 * request, and demand paging works. GET_HW_INFO reports 0b10.
 */
static void test_stall_forced(void *arg)
{
	struct smmuv3_iommu_params p;
	struct iommu_hw_info_arm_smmuv3 info;
	struct iommu_hw_info hw;
	struct iommu_hwpt_pgfault pf;
	uint32_t ioas, s1, s2, hwpt, fault_id;
	uint8_t out[64], in[64];
	uint64_t ste[8], cd[8];
	struct hwdev a;
	int ffd;

	iommufd_setup();
	smmuv3_iommu_params_default(&p);
	p.hw.stall_force = true;
	p.evt_log = evt_log;
	TAP_CHECK(!smmuv3_iommu_new(&p, &smmu), "smmuv3_iommu_new");
	a = sdev_new(SID_A, false);
	hw = (struct iommu_hw_info){
		.dev_id = a.id, .data_len = sizeof(info), .data_uptr = (uintptr_t)&info};
	CHECK_OK(_get_hw_info(&hw));
	TAP_CHECK_EQ(info.idr[0] >> 24 & 3, 2, "IDR0.STALL_MODEL 0b10");
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);

	/* Stage 1 without a fault queue: CD.S, no S1STALLD. */
	s1 = hwpt_alloc(a.id, ioas, 0);
	CHECK_OK(sdev_attach(&a, s1));
	ste_read(SID_A, ste);
	TAP_CHECK(!(ste[1] & STE1_S1STALLD), "no S1STALLD");
	cd_read(&a, 0, cd);
	TAP_CHECK(cd[0] & CD0_S, "CD.S");
	memset(out, 0x5a, sizeof(out));
	dma_ok(&a, IOVA + 0x40, out, sizeof(out), true);
	dma_ok(&a, IOVA + 0x40, in, sizeof(in), false);
	TAP_CHECK(!memcmp(in, out, sizeof(in)), "stage 1 round trip");
	dma_fault(&a, IOVA + 0x7000, 4, true, -EFAULT, EVT_F_TRANSLATION, 0, IOVA + 0x7000);
	TAP_CHECK(evt_last[1] & (1ULL << 31), "the fault was a stall (Stall = 1)");

	/* Stage 2 (a nesting parent attached as is): S2S. */
	s2 = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(sdev_replace(&a, s2));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0] >> 1 & 7, 6, "stage-2 STE");
	TAP_CHECK(ste[2] & STE2_S, "S2S");
	dma_ok(&a, IOVA + 0x40, in, sizeof(in), false);
	TAP_CHECK(!memcmp(in, out, sizeof(in)), "stage 2 read");
	evt_last_clear();
	dma_fault(&a, IOVA + 0x7000, 4, false, -EFAULT, EVT_F_TRANSLATION, 0, IOVA + 0x7000);
	TAP_CHECK(evt_last[1] & (1ULL << 31), "stage-2 stall");

	/* Stage 1 with a fault queue: the stall is a page request; demand paging. */
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	CHECK_OK(_hwpt_alloc_data(a.id, ioas, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt));
	CHECK_OK(sdev_replace(&a, hwpt));
	fault_demand_write(ffd, &a, ioas, IOVA + 0x3010, &pf);
	fault_demand_invalid(ffd, &a);

	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	sdev_free(&a);
	CHECK_OK(fd_close(ffd));
	smmu_teardown();
}

static void test_iopf_nested(void *arg)
{
	uint32_t ioas, parent, viommu, nested, fault_id;
	struct iommu_hwpt_arm_smmuv3 v = vste_s1(0);
	struct iommu_hwpt_pgfault pf;
	struct smmuv3_iommu_stats st;
	struct dma_job j;
	struct guest g;
	struct hwdev a;
	int ffd;

	smmu_setup();
	a = sdev_new(SID_A, true);
	ioas = ioas_alloc();
	guest_init(&g, ioas, CD0_S); /* the guest asks its faults to stall */
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu));
	CHECK_OK(_vdevice_alloc(viommu, a.id, VSID, NULL));
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	CHECK_OK(_nested_alloc(a.id, viommu, &v, IOMMU_HWPT_FAULT_ID_VALID, fault_id, &nested));
	CHECK_OK(sdev_attach(&a, nested));

	/* The guest's stage 1 has nothing at 0x70000 yet: the DMA stalls. */
	job_start(&j, &a, 0x70020, 16, true);
	fault_wait(ffd, &pf);
	TAP_CHECK_EQ(pf.addr, 0x70020, "addr");
	TAP_CHECK_EQ(pf.dev_id, a.id, "dev_id");
	/* The guest maps the page and answers. */
	guest_map(&g, 0x70000, GRAM_IPA + DATA_OFF + 0x4000, PT_PROT_RW);
	fault_respond(ffd, pf.cookie, IOMMUFD_PAGE_RESP_SUCCESS);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.ret, 0, "retried through the new stage-1 mapping");
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x4020, j.buf, 16), "bytes");
	smmuv3_iommu_get_stats(smmu, &st);
	TAP_CHECK_EQ(st.iopfs, 1, "one page request");
	TAP_CHECK_EQ(st.vevents, 0, "a stall is a page request, not a vEVENT");

	/* A stall nobody queues (the S1STALLD = 0 guest on a HWPT without a queue): aborted. */
	{
		uint32_t noq = nested_alloc(a.id, viommu, vste_s1(0));

		CHECK_OK(sdev_replace(&a, noq));
		dma_fault(&a, 0x80000, 4, false, -EFAULT, EVT_F_TRANSLATION, 0, 0x80000);
		smmuv3_iommu_get_stats(smmu, &st);
		TAP_CHECK_EQ(st.iopf_aborts, 1, "answered by the driver");
	}
	sdev_free(&a);
	CHECK_OK(fd_close(ffd));
	smmu_teardown();
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* A nesting parent tracking dirty pages                               */

/*
 * Linux tracks dirty state on stage 1 only: a nesting parent is a stage 2,
 * so NEST_PARENT with DIRTY_TRACKING is EOPNOTSUPP (as is NEST_PARENT with
 * PASID), and a stage-2-only SMMU has no DIRTY_TRACKING domain at all.
 */
static void test_dirty_nested(void *arg)
{
	uint32_t ioas, hwpt;
	struct hwdev a;

	smmu_setup();
	a = sdev_new(SID_A, false);
	ioas = ioas_alloc();
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_alloc(a.id, ioas,
				IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				&hwpt));
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID,
				&hwpt));
	/* DIRTY_TRACKING | PASID is a stage 1 that does both. */
	hwpt = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID);
	TAP_CHECK(hwpt_asid(hwpt) > 0, "stage 1");
	CHECK_OK(_set_dirty_tracking(hwpt, true));
	sdev_free(&a);
	smmu_teardown();

	smmu_setup_s2();
	a = sdev_new(SID_A, false);
	ioas = ioas_alloc();
	/* The capability is the hardware's (HTTU); the stage is what refuses. */
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt));
	hwpt = hwpt_alloc(a.id, ioas, 0);
	CHECK_ERRNO(EOPNOTSUPP, _set_dirty_tracking(hwpt, true));
	sdev_free(&a);
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* Stage-1 paging domains and PASIDs (Linux's choice for a plain HWPT)  */

#define STE0_S1FMT(f)	  ((uint64_t)(f) << 4)
#define STE0_CTXPTR_MASK  (((1ULL << 52) - 1) & ~0x3fULL)
#define STE0_S1CDMAX(n)	  ((uint64_t)(n) << 59)
#define STE1_S1DSS(d)	  ((uint64_t)(d))
#define STE1_S1C_WBRA_ISH (1ULL << 2 | 1ULL << 4 | 3ULL << 6)
#define S1DSS_TERMINATE	  0
#define S1DSS_SSID0	  2
#define CD0_S1_STD(asid)                                                                        \
	(CD0_T0SZ(16) | 1ULL << 8 | 1ULL << 10 | 3ULL << 12 | 1ULL << 30 | CD0_V | CD0_IPS(5) | \
	 CD0_AA64 | CD0_R | CD0_A | 1ULL << 47 | CD0_ASID(asid))

/* A translation of @sid / @ssid straight through the model, traced. */
static int hw_translate(uint32_t sid, uint32_t ssid, uint64_t iova, struct smmuv3_result *r,
			struct smmuv3_trace *tr)
{
	struct smmuv3_txn t = {.sid = sid, .ssid = ssid, .addr = iova, .access = PT_PROT_R};
	int ret;

	memset(r, 0, sizeof(*r));
	ret = tr ? smmuv3_translate_traced(smmuv3_iommu_hw(smmu), &t, r, tr)
		 : smmuv3_translate(smmuv3_iommu_hw(smmu), &t, r);
	smmuv3_iommu_process_events(smmu);
	return ret;
}

static int dma_pasid(struct hwdev *d, uint32_t pasid, uint64_t iova, void *buf, size_t len,
		     bool write, struct iommu_dma_fault *f)
{
	size_t done = 0;

	memset(f, 0, sizeof(*f));
	return iommu_dma_rw(d->udev, pasid, iova, buf, len, write, &done, f);
}

static int pasid_attach(struct hwdev *d, uint32_t pasid, uint32_t pt_id)
{
	return iommufd_device_attach(d->idev, pasid, &pt_id);
}

static int pasid_replace(struct hwdev *d, uint32_t pasid, uint32_t pt_id)
{
	return iommufd_device_replace(d->idev, pasid, &pt_id);
}

/*
 * A plain HWPT on an SMMU with both stages is stage 1: the STE points at
 * the device's CD table, CD 0 holds the domain's ASID and table, the walk
 * is a stage-1 walk, an unmap is TLBI_NH_VA with that ASID (the IOTLB
 * entry the DMA left is gone), replace and detach rewrite CD 0 and the STE.
 */
static void test_s1_paging(void *arg)
{
	uint32_t ioas, hwpt, hwpt2, parent;
	struct smmuv3_result r;
	uint64_t ste[8], cd[8];
	uint8_t out[0x2000], in[0x2000];
	struct iommu_dma_fault f;
	struct hwdev a, b;
	uint16_t asid;

	smmu_setup();
	a = sdev_new(SID_A, false);				   /* 8 SSID bits */
	b = sdev_new_p(&(struct smmuv3_dev_params){.sid = SID_B}); /* no PASIDs */
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	ioas_map_fixed(ioas, (uint8_t *)buffer + PAGE_SIZE, BUFFER_SIZE - PAGE_SIZE,
		       IOVA + PAGE_SIZE);
	hwpt = hwpt_alloc(a.id, ioas, 0);
	asid = hwpt_asid(hwpt);
	TAP_CHECK_EQ(smmuv3_iommu_domain_vmid(hwpt_domain(hwpt)), 0, "stage 1: VMID 0");
	TAP_CHECK_EQ(hwpt_domain(hwpt)->aperture_end, (1ULL << 48) - 1, "48-bit VA");
	CHECK_OK(sdev_attach(&a, hwpt));

	/* STE: S1 translate through a linear CD table of 2^8 CDs, S1DSS = SSID0 for the RID. */
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0] & ~STE0_CTXPTR_MASK,
		     STE0_V | STE0_CFG(5) | STE0_S1FMT(0) | STE0_S1CDMAX(8), "q0");
	TAP_CHECK(ste[0] & STE0_CTXPTR_MASK, "S1ContextPtr");
	/* The SMMU stalls and the device cannot: S1STALLD. */
	TAP_CHECK_EQ(ste[1], STE1_S1DSS(S1DSS_SSID0) | STE1_S1C_WBRA_ISH | STE1_S1STALLD, "q1");
	for (unsigned int i = 2; i < 8; i++)
		TAP_CHECK_EQ(ste[i], 0, "q%u", i);
	/* CD 0: Linux's arm_smmu_make_s1_cd. */
	cd_read(&a, 0, cd);
	TAP_CHECK_EQ(cd[0], CD0_S1_STD(asid), "CD 0 q0");
	TAP_CHECK(cd[1] && !(cd[1] & 0xfff), "TTB0 0x%llx", (unsigned long long)cd[1]);
	TAP_CHECK_EQ(cd[3], 0xff, "MAIR");
	TAP_CHECK_EQ(cd[2] | cd[4] | cd[5] | cd[6] | cd[7], 0, "rest");
	cd_read(&a, 1, cd);
	TAP_CHECK_EQ(cd[0], 0, "CD 1 invalid");

	/* DMA across a page boundary. */
	for (unsigned int i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 5);
	dma_ok(&a, IOVA + 0x1800, out, sizeof(out), true);
	TAP_CHECK(!memcmp((uint8_t *)buffer + 0x1800, out, sizeof(out)), "bytes written");
	dma_ok(&a, IOVA + 0x1800, in, sizeof(in), false);
	TAP_CHECK(!memcmp(in, out, sizeof(in)), "bytes read");

	/* The walk is a stage-1 walk (the upper levels may come from the walk caches). */
	{
		struct smmuv3_trace t0;

		/* A fresh page: no IOTLB entry yet. */
		memset(&t0, 0, sizeof(t0));
		CHECK_OK(hw_translate(SID_A, SMMU_NO_SSID, IOVA + 9 * PAGE_SIZE, &r, &t0));
		TAP_CHECK(t0.walk.n >= 1, "a walk");
		for (unsigned int i = 0; i < t0.walk.n && i < XLATE_MAX_READS; i++)
			TAP_CHECK_EQ(t0.walk.r[i].stage, 1, "read %u is stage 1", i);
		/* The leaf is a stage-1 one: nG (ASID-tagged), AP[1] (EL0 too, as Linux). */
		TAP_CHECK_EQ(t0.walk.r[MIN(t0.walk.n, XLATE_MAX_READS) - 1].value &
				     (1ULL << 11 | 1ULL << 6),
			     1ULL << 11 | 1ULL << 6, "stage-1 leaf");
		TAP_CHECK_EQ(r.pa, (uint64_t)(uintptr_t)buffer + 9 * PAGE_SIZE, "PA");
	}

	/*
	 * The doorbell in the stage 1: an MSI write rings it; stage 1 has no
	 * write-only leaf (Linux maps IOMMU_WRITE alone read-write), so a read
	 * is allowed too.
	 */
	{
		uint32_t msi = 0x5eed1234, back = 0, *db = smmuv3_iommu_msi_doorbell(smmu, NULL);

		dma_ok(&a, SMMUV3_MSI_IOVA_BASE + 0x20, &msi, sizeof(msi), true);
		TAP_CHECK_EQ(__atomic_load_n(&db[8], __ATOMIC_ACQUIRE), msi, "doorbell written");
		dma_ok(&a, SMMUV3_MSI_IOVA_BASE + 0x20, &back, sizeof(back), false);
		TAP_CHECK_EQ(back, msi, "and readable");
	}

	/* A fault is a stage-1 one (S2 = 0 in the record). */
	evt_last_clear();
	TAP_CHECK_EQ(dma_pasid(&a, 0, IOVA + BUFFER_SIZE, in, 4, false, &f), -EFAULT, "fault");
	TAP_CHECK_EQ(f.reason, EVT_F_TRANSLATION, "F_TRANSLATION");
	TAP_CHECK_EQ(evt_last[0] & 0xff, EVT_F_TRANSLATION, "recorded");
	TAP_CHECK_EQ(evt_last[1] & EVT_S2, 0, "stage 1 fault");

	/* Unmap: the IOTLB entry the DMA made (a hit now) is gone afterwards (TLBI_NH_VA). */
	dma_ok(&a, IOVA + 0x10, in, 4, false);
	CHECK_OK(hw_translate(SID_A, SMMU_NO_SSID, IOVA + 0x10, &r, NULL));
	TAP_CHECK(r.iotlb_hit, "cached translation");
	ioas_unmap(ioas, IOVA, PAGE_SIZE);
	dma_fault(&a, IOVA + 0x10, 4, false, -EFAULT, EVT_F_TRANSLATION, 0, IOVA + 0x10);
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	dma_ok(&a, IOVA + 0x10, in, 4, false);

	/* Device B has no PASIDs: S1CDMax 0, a single CD. */
	CHECK_OK(sdev_attach(&b, hwpt));
	ste_read(SID_B, ste);
	TAP_CHECK_EQ(ste[0] & ~STE0_CTXPTR_MASK, STE0_V | STE0_CFG(5), "single CD");
	cd_read(&b, 0, cd);
	TAP_CHECK_EQ(cd[0], CD0_S1_STD(asid), "B's CD 0: the same ASID");
	dma_ok(&b, IOVA + 0x1800, in, 16, false);

	/* Replace with another stage 1: CD 0 gets its ASID, the STE stays. */
	hwpt2 = hwpt_alloc(a.id, ioas, 0);
	TAP_CHECK(hwpt_asid(hwpt2) != asid, "ASIDs");
	CHECK_OK(sdev_replace(&a, hwpt2));
	cd_read(&a, 0, cd);
	TAP_CHECK_EQ(cd[0], CD0_S1_STD(hwpt_asid(hwpt2)), "CD 0 after replace");
	dma_ok(&a, IOVA + 0x1800, in, 16, false);
	TAP_CHECK(!memcmp(in, out, 16), "bytes through the new domain");

	/* Replace with a stage 2 (a nesting parent): S2 STE, CD 0 cleared. */
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	TAP_CHECK_EQ(smmuv3_iommu_domain_asid(hwpt_domain(parent)), -EINVAL, "stage 2: no ASID");
	CHECK_OK(sdev_replace(&a, parent));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0], STE0_V | STE0_CFG(6), "stage 2");
	TAP_CHECK_EQ(ste[2] & 0xffff, hwpt_vmid(parent), "VMID");
	cd_read(&a, 0, cd);
	TAP_CHECK_EQ(cd[0] & CD0_V, 0, "CD 0 gone");
	dma_ok(&a, IOVA + 0x1800, in, 16, false);
	/* And back. */
	CHECK_OK(sdev_replace(&a, hwpt));
	cd_read(&a, 0, cd);
	TAP_CHECK_EQ(cd[0], CD0_S1_STD(asid), "CD 0 again");
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0] & 0xf, STE0_V | STE0_CFG(5), "stage 1 again");

	/* Detach: an abort STE. */
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0], STE0_V, "abort");
	dma_fault(&a, IOVA, 4, false, -EIO, 0, 0, IOVA);
	sdev_free(&a);
	sdev_free(&b);
	smmu_teardown();

	/* A stage-1-only SMMU: stage 1 still, and no nesting parent. */
	{
		struct smmuv3_iommu_params p;

		iommufd_setup();
		smmuv3_iommu_params_default(&p);
		p.hw.s2p = false;
		TAP_CHECK(!smmuv3_iommu_new(&p, &smmu), "stage-1-only SMMU");
		a = sdev_new(SID_A, false);
		ioas = ioas_alloc();
		ioas_map_fixed(ioas, buffer, BUFFER_SIZE, IOVA);
		CHECK_ERRNO(EOPNOTSUPP,
			    _hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &hwpt));
		hwpt = hwpt_alloc(a.id, ioas, 0);
		TAP_CHECK(hwpt_asid(hwpt) > 0, "stage 1");
		CHECK_OK(sdev_attach(&a, hwpt));
		dma_ok(&a, IOVA + 0x1800, in, 16, false);
		ioas_unmap(ioas, IOVA, BUFFER_SIZE);
		dma_fault(&a, IOVA + 0x1800, 4, false, -EFAULT, EVT_F_TRANSLATION, 0,
			  IOVA + 0x1800);
		sdev_free(&a);
		smmu_teardown();
	}
}

/*
 * PASIDs: a stage-1 domain on a PASID is that PASID's CD; the RID's STE
 * follows (S1DSS terminate while it is blocked, SSID0 on a stage 1);
 * replace and detach; the errno matrix of the core and of Linux's driver.
 */
static void test_pasid(void *arg)
{
	uint32_t ioas, ioas2, p1, p2, plain, parent, id;
	uint8_t *buf2 = zpages(BUFFER_SIZE), in[64];
	struct iommu_dma_fault f;
	struct iommu_domain *d;
	struct smmuv3_result r;
	uint64_t ste[8], cd[8];
	struct hwdev a, b, c;

	smmu_setup();
	a = sdev_new(SID_A, false);				   /* 8 SSID bits: PASIDs 1..255 */
	c = sdev_new_p(&(struct smmuv3_dev_params){.sid = SID_B}); /* no PASIDs */
	for (unsigned int i = 0; i < BUFFER_SIZE; i++) {
		((uint8_t *)buffer)[i] = (uint8_t)i;
		buf2[i] = (uint8_t)(i ^ 0xa5);
	}
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, IOVA);
	ioas2 = ioas_alloc();
	/* One area per page, so that one page can be unmapped alone. */
	for (unsigned int i = 0; i < 4; i++)
		ioas_map_fixed(ioas2, buf2 + i * PAGE_SIZE, PAGE_SIZE, IOVA + i * PAGE_SIZE);
	p1 = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_PASID);
	p2 = hwpt_alloc(a.id, ioas2, IOMMU_HWPT_ALLOC_PASID);
	plain = hwpt_alloc(a.id, ioas, 0);
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);

	/* The core's rules (Linux's iommufd): all EINVAL. */
	TAP_CHECK_EQ(pasid_attach(&a, 5, plain), -EINVAL, "HWPT without ALLOC_PASID");
	TAP_CHECK_EQ(pasid_attach(&a, 5, parent), -EINVAL, "a stage 2 (no ALLOC_PASID)");
	TAP_CHECK_EQ(pasid_attach(&a, 5, ioas), -EINVAL, "an IOAS");
	TAP_CHECK_EQ(pasid_attach(&a, 256, p1), -EINVAL, "PASID beyond the device's SSID bits");
	TAP_CHECK_EQ(pasid_attach(&c, 1, p1), -EINVAL, "a device without PASIDs");
	TAP_CHECK_EQ(pasid_replace(&a, 5, p1), -EINVAL, "replace of a PASID not attached");
	/* The driver's own answers (Linux's arm_smmu_s1_set_dev_pasid / attach_dev). */
	d = hwpt_domain(parent);
	TAP_CHECK_EQ(d->ops->set_dev_pasid(d, a.udev, 5, NULL), -EINVAL, "driver: stage 2");
	d = hwpt_domain(p1);
	TAP_CHECK_EQ(d->ops->set_dev_pasid(d, a.udev, 256, NULL), -EINVAL, "driver: width");
	TAP_CHECK_EQ(d->ops->set_dev_pasid(d, c.udev, 1, NULL), -EINVAL, "driver: no PASIDs");
	CHECK_OK(sdev_attach(&a, parent));
	TAP_CHECK_EQ(d->ops->set_dev_pasid(d, a.udev, 5, NULL), -EINVAL,
		     "driver: RID on a stage 2 (no CD table)");
	TAP_CHECK_EQ(pasid_attach(&a, 5, p1), -EINVAL, "core: RID HWPT not PASID-capable");
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);

	/* PASID 5 with the RID blocked: CD table STE, S1DSS terminate, CD 5. */
	CHECK_OK(pasid_attach(&a, 5, p1));
	TAP_CHECK_EQ(pasid_attach(&a, 5, p2), -EBUSY, "attached already: replace it");
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0] & ~STE0_CTXPTR_MASK, STE0_V | STE0_CFG(5) | STE0_S1CDMAX(8), "q0");
	TAP_CHECK_EQ(ste[1], STE1_S1DSS(S1DSS_TERMINATE) | STE1_S1C_WBRA_ISH | STE1_S1STALLD,
		     "S1DSS terminate");
	cd_read(&a, 5, cd);
	TAP_CHECK_EQ(cd[0], CD0_S1_STD(hwpt_asid(p1)), "CD 5");
	cd_read(&a, 0, cd);
	TAP_CHECK_EQ(cd[0], 0, "CD 0 unused");
	/* DMA with PASID 5 reaches p1's memory; without a PASID it is terminated. */
	CHECK_OK(dma_pasid(&a, 5, IOVA + 0x2010, in, sizeof(in), false, &f));
	TAP_CHECK(!memcmp(in, (uint8_t *)buffer + 0x2010, sizeof(in)), "PASID 5 bytes");
	TAP_CHECK_EQ(dma_pasid(&a, 0, IOVA, in, 4, false, &f), -EIO, "RID: S1DSS terminate");
	TAP_CHECK_EQ(f.reason, SMMU_EVT_F_STREAM_DISABLED, "F_STREAM_DISABLED");
	TAP_CHECK_EQ(dma_pasid(&a, 6, IOVA, in, 4, false, &f), -EIO, "PASID 6: no CD");
	TAP_CHECK_EQ(f.reason, SMMU_EVT_C_BAD_CD, "C_BAD_CD");
	TAP_CHECK_EQ(f.pasid, 6, "fault PASID");

	/* The RID on a plain stage 1 is refused while a PASID is attached (core). */
	TAP_CHECK_EQ(sdev_attach(&a, plain), -EINVAL, "RID on a HWPT without ALLOC_PASID");
	TAP_CHECK_EQ(sdev_attach(&a, parent), -EINVAL, "RID on a stage 2");
	/* The driver's own answer for a stage 2 under PASIDs: EBUSY, nothing changed. */
	d = hwpt_domain(parent);
	TAP_CHECK_EQ(d->ops->attach_dev(d, a.udev), -EBUSY, "driver: stage 2 with PASIDs");
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[1] & 3, S1DSS_TERMINATE, "unchanged");

	/* The RID on p2: S1DSS = SSID0, CD 0 = p2. */
	CHECK_OK(sdev_attach(&a, p2));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[1] & 3, S1DSS_SSID0, "S1DSS SSID0");
	cd_read(&a, 0, cd);
	TAP_CHECK_EQ(cd[0], CD0_S1_STD(hwpt_asid(p2)), "CD 0");
	dma_ok(&a, IOVA + 0x40, in, sizeof(in), false);
	TAP_CHECK(!memcmp(in, buf2 + 0x40, sizeof(in)), "RID bytes from p2");
	CHECK_OK(dma_pasid(&a, 5, IOVA + 0x40, in, sizeof(in), false, &f));
	TAP_CHECK(!memcmp(in, (uint8_t *)buffer + 0x40, sizeof(in)), "PASID 5 still p1");

	/* Replace PASID 5 by p2: its CD gets p2's ASID; p1's cached entry is never used. */
	CHECK_OK(hw_translate(SID_A, 5, IOVA + 0x40, &r, NULL));
	TAP_CHECK(r.iotlb_hit, "p1's entry is cached");
	CHECK_OK(pasid_replace(&a, 5, p2));
	cd_read(&a, 5, cd);
	TAP_CHECK_EQ(cd[0], CD0_S1_STD(hwpt_asid(p2)), "CD 5 after replace");
	CHECK_OK(dma_pasid(&a, 5, IOVA + 0x40, in, sizeof(in), false, &f));
	TAP_CHECK(!memcmp(in, buf2 + 0x40, sizeof(in)), "PASID 5 bytes from p2");
	/* Unmap in p2: both its users (RID and PASID 5) lose the page. */
	CHECK_OK(hw_translate(SID_A, 5, IOVA + 0x40, &r, NULL));
	TAP_CHECK(r.iotlb_hit, "p2's entry is cached");
	ioas_unmap(ioas2, IOVA, PAGE_SIZE);
	TAP_CHECK_EQ(dma_pasid(&a, 5, IOVA + 0x40, in, 4, false, &f), -EFAULT, "PASID 5 unmapped");
	TAP_CHECK_EQ(f.reason, EVT_F_TRANSLATION, "F_TRANSLATION");
	TAP_CHECK_EQ(f.pasid, 5, "fault PASID 5");
	dma_fault(&a, IOVA + 0x40, 4, false, -EFAULT, EVT_F_TRANSLATION, 0, IOVA + 0x40);
	ioas_map_fixed(ioas2, buf2, PAGE_SIZE, IOVA);

	/* Detach PASID 5: CD 5 invalid; the RID goes on. */
	iommufd_device_detach(a.idev, 5);
	cd_read(&a, 5, cd);
	TAP_CHECK_EQ(cd[0] & CD0_V, 0, "CD 5 cleared");
	TAP_CHECK_EQ(dma_pasid(&a, 5, IOVA, in, 4, false, &f), -EIO, "PASID 5 gone");
	TAP_CHECK_EQ(f.reason, SMMU_EVT_C_BAD_CD, "C_BAD_CD");
	dma_ok(&a, IOVA + 0x40, in, 4, false);
	/* The RID may now go to a HWPT without ALLOC_PASID, and to a stage 2. */
	CHECK_OK(sdev_replace(&a, parent));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0], STE0_V | STE0_CFG(6), "stage 2");
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);

	/* The last PASID of a blocked RID goes: an abort STE again. */
	CHECK_OK(pasid_attach(&a, 255, p1));
	CHECK_OK(dma_pasid(&a, 255, IOVA + 0x80, in, 8, false, &f));
	iommufd_device_detach(a.idev, 255);
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0], STE0_V, "abort STE");

	/* A wide device: a 2-level CD table (S1Fmt 64K_L2), L2 tables made on demand. */
	b = sdev_new_p(&(struct smmuv3_dev_params){.sid = 0x20, .ssid_bits = 16});
	CHECK_OK(pasid_attach(&b, 0x1234, p1));
	ste_read(0x20, ste);
	TAP_CHECK_EQ(ste[0] & ~STE0_CTXPTR_MASK,
		     STE0_V | STE0_CFG(5) | STE0_S1FMT(2) | STE0_S1CDMAX(16), "2-level");
	cd_read(&b, 0x1234, cd);
	TAP_CHECK_EQ(cd[0], CD0_S1_STD(hwpt_asid(p1)), "CD 0x1234");
	TAP_CHECK_EQ(smmuv3_iommu_read_cd(b.udev, 0x2345, cd), -ENOENT, "no L2 table there");
	CHECK_OK(dma_pasid(&b, 0x1234, IOVA + 0x100, in, 8, false, &f));
	TAP_CHECK(!memcmp(in, (uint8_t *)buffer + 0x100, 8), "bytes through the L2 CD");
	TAP_CHECK_EQ(dma_pasid(&b, 0x2345, IOVA, in, 4, false, &f), -EIO, "no L2 table");
	TAP_CHECK_EQ(f.reason, SMMU_EVT_C_BAD_SUBSTREAMID, "L1CD invalid: C_BAD_SUBSTREAMID");
	CHECK_OK(sdev_attach(&b, p2));
	dma_ok(&b, IOVA + 0x40, in, 4, false);
	id = p1;
	CHECK_OK(iommufd_device_attach(b.idev, 0xfffe, &id));
	CHECK_OK(dma_pasid(&b, 0xfffe, IOVA + 0x100, in, 8, false, &f));
	iommufd_device_detach(b.idev, 0x1234);
	iommufd_device_detach(b.idev, 0xfffe);

	sdev_free(&a);
	sdev_free(&b);
	sdev_free(&c);
	smmu_teardown();
	munmap(buf2, BUFFER_SIZE);
}

/*
 * IOPF on a PASID: a stage-1 domain with a fault queue on a PASID of a
 * device that can stall gets CD.S in that PASID's CD only; its stalled
 * fault reaches that queue as a page request with PASID_VALID and the
 * PASID, and the page response resumes it. The RID's own domain has no
 * queue: its fault is immediate.
 */
static void test_iopf_pasid(void *arg)
{
	uint32_t ioas, rid_hwpt, pf_hwpt, fault_id;
	struct iommu_hwpt_pgfault pf;
	uint64_t cd[8];
	struct dma_job j;
	struct hwdev a;
	int ffd;

	smmu_setup();
	a = sdev_new(SID_A, true);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	CHECK_OK(_hwpt_alloc_data(a.id, ioas, IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID,
				  fault_id, IOMMU_HWPT_DATA_NONE, NULL, 0, &pf_hwpt));
	rid_hwpt = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_PASID);
	CHECK_OK(sdev_attach(&a, rid_hwpt));
	CHECK_OK(pasid_attach(&a, 9, pf_hwpt));
	cd_read(&a, 9, cd);
	TAP_CHECK(cd[0] & CD0_S, "CD 9: S");
	cd_read(&a, 0, cd);
	TAP_CHECK(!(cd[0] & CD0_S), "CD 0: no S");

	/* PASID 9 writes a page not mapped yet: it waits; the request names the PASID. */
	job_start_pasid(&j, &a, 9, IOVA + 0x3020, 16, true);
	fault_wait(ffd, &pf);
	TAP_CHECK_EQ(pf.flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE | IOMMU_PGFAULT_FLAGS_PASID_VALID,
		     "flags");
	TAP_CHECK_EQ(pf.pasid, 9, "pasid");
	TAP_CHECK_EQ(pf.addr, IOVA + 0x3020, "addr");
	ioas_map_fixed(ioas, (uint8_t *)buffer + 0x3000, PAGE_SIZE, IOVA + 0x3000);
	fault_respond(ffd, pf.cookie, IOMMUFD_PAGE_RESP_SUCCESS);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.ret, 0, "retried DMA");
	TAP_CHECK(!memcmp((uint8_t *)buffer + 0x3020, j.buf, 16), "bytes");
	/* The RID's domain has no fault queue: an immediate F_TRANSLATION. */
	dma_fault(&a, IOVA + 0x5000, 4, true, -EFAULT, EVT_F_TRANSLATION, 0, IOVA + 0x5000);

	iommufd_device_detach(a.idev, 9);
	sdev_free(&a);
	CHECK_OK(fd_close(ffd));
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* Devices and instances                                               */

/* ------------------------------------------------------------------ */
/* ATS and PRI                                                         */

static struct hwdev sdev_new_pcie(uint32_t sid, bool pri)
{
	struct smmuv3_dev_params p = {
		.sid = sid, .is_pci = true, .ssid_bits = 8, .ats = true, .pri = pri};

	return sdev_new_p(&p);
}

static struct pcie_ep_stats ep_stats(struct hwdev *d)
{
	struct pcie_ep_stats st;

	smmuv3_ep_get_stats(smmuv3_iommu_dev_ep(d->udev), &st);
	return st;
}

/* DMA of an ATS device: EATS, the ATC serving it, unmap invalidating it. */
static void test_ats(void *arg)
{
	struct smmuv3_dev_params bad = {.sid = SID_B, .is_pci = true, .ats = true, .can_stall = true};
	struct pcie_ep_stats e0, e1;
	struct smmuv3_stats hw0, hw1;
	uint32_t ioas, hwpt;
	uint8_t buf[64];
	uint64_t ste[8];
	struct hwdev a, b;
	int err;

	smmu_setup();
	/* A PCIe device does not stall (IHI 0070 §3.12.1); PRI needs ATS. */
	TAP_CHECK(!smmuv3_iommu_dev_create(smmu, &bad, &err) && err == -EINVAL, "ats + stall");
	bad.can_stall = false;
	bad.ats = false;
	bad.pri = true;
	TAP_CHECK(!smmuv3_iommu_dev_create(smmu, &bad, &err) && err == -EINVAL, "pri alone");
	a = sdev_new_pcie(SID_A, false);
	b = sdev_new(SID_B, false);
	TAP_CHECK(!smmuv3_iommu_dev_ep(b.udev), "no endpoint without ATS");
	ioas = ioas_alloc();
	for (unsigned int i = 0; i < 4; i++) /* one area per page: each unmaps alone */
		ioas_map_fixed(ioas, (uint8_t *)buffer + i * PAGE_SIZE, PAGE_SIZE,
			       IOVA + i * PAGE_SIZE);
	hwpt = hwpt_alloc(a.id, ioas, 0);
	CHECK_OK(sdev_attach(&a, hwpt));
	CHECK_OK(sdev_attach(&b, hwpt));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[1] & STE1_EATS(3), STE1_EATS(1), "EATS = 0b01 for the ATS device");
	ste_read(SID_B, ste);
	TAP_CHECK_EQ(ste[1] & STE1_EATS(3), 0, "EATS = 0 for the other");

	/* The first access asks the SMMU (a translation request); the second hits the ATC. */
	smmuv3_get_stats(smmuv3_iommu_hw(smmu), &hw0);
	e0 = ep_stats(&a);
	memset(buf, 0x3c, sizeof(buf));
	dma_ok(&a, IOVA + PAGE_SIZE + 8, buf, sizeof(buf), true);
	TAP_CHECK(!memcmp((uint8_t *)buffer + PAGE_SIZE + 8, buf, sizeof(buf)), "bytes");
	dma_ok(&a, IOVA + PAGE_SIZE + 0x100, buf, sizeof(buf), false);
	e1 = ep_stats(&a);
	smmuv3_get_stats(smmuv3_iommu_hw(smmu), &hw1);
	TAP_CHECK_EQ(hw1.ats_reqs - hw0.ats_reqs, 1, "one translation request");
	TAP_CHECK_EQ(e1.atc_fills - e0.atc_fills, 1, "one fill");
	TAP_CHECK_EQ(e1.atc_hits - e0.atc_hits, 1, "one hit");
	/* Unmapping the page: ATC_INV + SYNC after the TLBI; the next access faults. */
	ioas_unmap(ioas, IOVA + PAGE_SIZE, PAGE_SIZE);
	e0 = ep_stats(&a);
	TAP_CHECK_EQ(e0.atc_invs - e1.atc_invs, 1, "the ATS device's ATC was invalidated");
	TAP_CHECK_EQ(smmuv3_ep_atc_count(smmuv3_iommu_dev_ep(a.udev)), 0, "entry gone");
	dma_fault(&a, IOVA + PAGE_SIZE + 8, 4, false, -EFAULT, EVT_F_TRANSLATION, 0,
		  IOVA + PAGE_SIZE + 8);
	/* Its neighbour page still translates, through a new request. */
	dma_ok(&a, IOVA + 2 * PAGE_SIZE, buf, 8, false);
	/* A translation fault of a request is not recorded: no host event. */
	smmuv3_get_stats(smmuv3_iommu_hw(smmu), &hw0);
	TAP_CHECK_EQ(hw0.events, hw1.events, "no event records");
	/* Detach: the STE goes, and with it the ATC. */
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	TAP_CHECK_EQ(smmuv3_ep_atc_count(smmuv3_iommu_dev_ep(a.udev)), 0, "ATC empty on detach");
	sdev_free(&a);
	sdev_free(&b);
	smmu_teardown();
}

/* A PRI device page-faults: its page request reaches the fault queue; PRI_RESP answers it. */
static void test_pri_iopf(void *arg)
{
	struct smmuv3_iommu_stats st0, st1;
	struct iommu_hwpt_pgfault pf;
	uint32_t ioas, hwpt, fault_id, plain;
	uint64_t ste[8];
	struct hwdev a;
	int ffd;

	smmu_setup();
	a = sdev_new_pcie(SID_A, true);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	CHECK_OK(_hwpt_alloc_data(a.id, ioas, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt));
	CHECK_OK(sdev_attach(&a, hwpt));
	ste_read(SID_A, ste);
	TAP_CHECK(!(ste[2] & STE2_S), "no S2S: PRI, not stall");
	TAP_CHECK_EQ(ste[1] & STE1_EATS(3), STE1_EATS(1), "EATS");
	smmuv3_iommu_get_stats(smmu, &st0);

	/*
	 * A write to a page not mapped yet: a page request for the page (its
	 * address, not the faulting one), write, Last; answered, it completes.
	 */
	fault_demand_write(ffd, &a, ioas, IOVA + 0x3000, &pf);
	TAP_CHECK(pf.grpid < 512, "PRG index");

	/* INVALID: the device gives up; the access fails with the translation fault. */
	fault_demand_invalid(ffd, &a);
	smmuv3_iommu_get_stats(smmu, &st1);
	TAP_CHECK_EQ(st1.pprs - st0.pprs, 2, "two PRI queue records");
	TAP_CHECK_EQ(st1.pri_iopfs - st0.pri_iopfs, 2, "both to the fault queue");
	TAP_CHECK_EQ(st1.evtq_overflows + st1.priq_overflows, 0, "no overflow");

	/* Without a fault queue nobody takes the request: Invalid Request at once. */
	plain = hwpt_alloc(a.id, ioas, 0);
	CHECK_OK(sdev_replace(&a, plain));
	dma_fault(&a, IOVA + 0x7000, 4, true, -EFAULT, EVT_F_TRANSLATION, 0, IOVA + 0x7000);
	smmuv3_iommu_get_stats(smmu, &st0);
	TAP_CHECK_EQ(st0.pri_denied - st1.pri_denied, 1, "denied by the driver");

	sdev_free(&a);
	CHECK_OK(fd_close(ffd));
	smmu_teardown();
}

/* Multi-page Page Request Groups: the pattern their FILLs write (dt_fill_start()). */
#define PRG_FILL 0x0123456789abcdefULL

/* [off, off + len) of the buffer holds the fill pattern (FILL's byte i is byte i % 8 of it). */
static bool fill_bytes_ok(size_t off, size_t len)
{
	const uint8_t *b = (const uint8_t *)buffer + off;

	for (size_t i = 0; i < len; i++)
		if (b[i] != (uint8_t)(PRG_FILL >> (8 * (i % 8))))
			return false;
	return true;
}

/*
 * The records of one group as iommufd defines them: one per page at
 * @addrs (in order), the device, @perm, one group index and one cookie,
 * LAST_PAGE on the final record only.
 */
static void group_check(const struct iommu_hwpt_pgfault *pf, unsigned int n, const uint64_t *addrs,
			unsigned int want, uint32_t dev_id, uint32_t perm)
{
	TAP_CHECK_EQ(n, want, "records in the group");
	for (unsigned int k = 0; k < n && k < want; k++) {
		TAP_CHECK_EQ(pf[k].addr, addrs[k], "record %u: page", k);
		TAP_CHECK_EQ(pf[k].flags, k + 1 == n ? IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0,
			     "record %u: LAST_PAGE on the last only", k);
		TAP_CHECK_EQ(pf[k].perm, perm, "record %u: perm", k);
		TAP_CHECK_EQ(pf[k].dev_id, dev_id, "record %u: dev_id", k);
		TAP_CHECK_EQ(pf[k].grpid, pf[0].grpid, "record %u: one group index", k);
		TAP_CHECK_EQ(pf[k].cookie, pf[0].cookie, "record %u: one cookie", k);
		TAP_CHECK_EQ(pf[k].length, 0, "record %u: length", k);
	}
}

/*
 * A DMA that faults on several pages sends one Page Request Group with a
 * request for each faulting page (not the ones that translate), in
 * address order, Last on the final one; the fault queue hands it out as
 * one group, one response answers it, the DMA completes with every byte.
 * INVALID fails the DMA; the allocation bound splits a larger DMA into
 * groups of at most the allocation, one outstanding at a time.
 */
static void test_pri_group(void *arg)
{
	const uint32_t perm = IOMMU_PGFAULT_PERM_WRITE | IOMMU_PGFAULT_PERM_PRIV;
	struct smmuv3_dev_params bp = {
		.sid = SID_B, .is_pci = true, .ats = true, .pri = true, .pri_alloc = 2};
	struct iommu_hwpt_page_response bogus = {.cookie = 77, .code = IOMMUFD_PAGE_RESP_SUCCESS};
	struct iommu_hwpt_pgfault pf[8];
	struct smmuv3_iommu_stats st0, st1;
	struct pcie_ep_stats e0, e1;
	uint32_t ioas, hwpt, hwpt_b, fault_id;
	struct dmatest *dt, *dtb;
	struct dt_job j;
	struct hwdev a, b;
	unsigned int n;
	int ffd, err;

	smmu_setup();
	a = sdev_new_pcie(SID_A, true);
	b = sdev_new_p(&bp);
	ioas = ioas_alloc();
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	CHECK_OK(_hwpt_alloc_data(a.id, ioas, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt));
	CHECK_OK(_hwpt_alloc_data(b.id, ioas, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt_b));
	CHECK_OK(sdev_attach(&a, hwpt));
	CHECK_OK(sdev_attach(&b, hwpt_b));
	dt = dmatest_create(a.udev, NULL, &err);
	TAP_CHECK(dt, "dmatest_create: %d", err);
	dt_enable(dt);
	dtb = dmatest_create(b.udev, NULL, &err);
	TAP_CHECK(dtb, "dmatest_create: %d", err);
	dt_enable(dtb);
	memset(buffer, 0, BUFFER_SIZE);

	/*
	 * Pages 0 and 2 mapped; a FILL of 0x800..0x4800 (pages 0 to 4): the
	 * group names pages 1, 3 and 4, write, in order.
	 */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	ioas_map_fixed(ioas, (uint8_t *)buffer + 2 * PAGE_SIZE, PAGE_SIZE, IOVA + 2 * PAGE_SIZE);
	smmuv3_iommu_get_stats(smmu, &st0);
	e0 = ep_stats(&a);
	/* No group was read: no cookie a response could name (EINVAL). */
	TAP_CHECK(uiommu_write(fd_file(ffd), &bogus, sizeof(bogus)) < 0 && errno == EINVAL,
		  "a response naming no group read: EINVAL");
	dt_fill_start(&j, dt, IOVA + 0x800, 4 * PAGE_SIZE, PRG_FILL);
	n = group_read(ffd, pf, ARRAY_SIZE_T(pf));
	{
		const uint64_t want[] = {IOVA + PAGE_SIZE, IOVA + 3 * PAGE_SIZE,
					 IOVA + 4 * PAGE_SIZE};

		group_check(pf, n, want, 3, a.id, perm);
	}
	TAP_CHECK(pf[0].grpid < 512, "PRG index");
	/* Nothing else is queued: the device waits for this group's response. */
	TAP_CHECK_EQ(uiommu_read(fd_file(ffd), pf + 4, sizeof(pf[0])), 0, "one group only");
	ioas_map_fixed(ioas, (uint8_t *)buffer + PAGE_SIZE, PAGE_SIZE, IOVA + PAGE_SIZE);
	ioas_map_fixed(ioas, (uint8_t *)buffer + 3 * PAGE_SIZE, 2 * PAGE_SIZE,
		       IOVA + 3 * PAGE_SIZE);
	fault_respond(ffd, pf[0].cookie, IOMMUFD_PAGE_RESP_SUCCESS);
	/* The group is answered: its cookie is gone. */
	bogus.cookie = pf[0].cookie;
	TAP_CHECK(uiommu_write(fd_file(ffd), &bogus, sizeof(bogus)) < 0 && errno == EINVAL,
		  "a second response to the group: EINVAL");
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.st, DMATEST_STATUS_DONE, "FILL done after one response");
	TAP_CHECK_EQ(reg_rd(dt, DMATEST_REG_DONE_BYTES, 4), 4 * PAGE_SIZE, "DONE_BYTES");
	TAP_CHECK(fill_bytes_ok(0x800, 4 * PAGE_SIZE), "every byte filled");
	TAP_CHECK(!((uint8_t *)buffer)[0x7ff] && !((uint8_t *)buffer)[0x4800], "nothing around");
	smmuv3_iommu_get_stats(smmu, &st1);
	e1 = ep_stats(&a);
	TAP_CHECK_EQ(st1.pprs - st0.pprs, 3, "three PRI queue records");
	TAP_CHECK_EQ(st1.pri_iopfs - st0.pri_iopfs, 3, "all three to the fault queue");
	TAP_CHECK_EQ(e1.prgs - e0.prgs, 1, "one group");
	TAP_CHECK_EQ(e1.page_reqs - e0.page_reqs, 3, "three page requests");
	TAP_CHECK_EQ(e1.prg_success - e0.prg_success, 1, "one response");

	/* INVALID: the DMA fails at the first page, nothing moved. */
	dt_fill_start(&j, dt, IOVA + 6 * PAGE_SIZE, 3 * PAGE_SIZE, PRG_FILL);
	n = group_read(ffd, pf, ARRAY_SIZE_T(pf));
	{
		const uint64_t want[] = {IOVA + 6 * PAGE_SIZE, IOVA + 7 * PAGE_SIZE,
					 IOVA + 8 * PAGE_SIZE};

		group_check(pf, n, want, 3, a.id, perm);
	}
	fault_respond(ffd, pf[0].cookie, IOMMUFD_PAGE_RESP_INVALID);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(status_err(j.st), DMATEST_ERR_DMA_FAULT, "FILL failed");
	TAP_CHECK_EQ(reg_rd(dt, DMATEST_REG_DONE_BYTES, 4), 0, "nothing moved");
	TAP_CHECK_EQ(reg_rd(dt, DMATEST_REG_FAULT_IOVA, 8), IOVA + 6 * PAGE_SIZE, "FAULT_IOVA");
	TAP_CHECK_EQ(reg_rd(dt, DMATEST_REG_FAULT_INFO, 4),
		     DMATEST_FAULT_WRITE | EVT_F_TRANSLATION << DMATEST_FAULT_REASON_SHIFT |
			     (uint32_t)EFAULT << DMATEST_FAULT_ERRNO_SHIFT,
		     "FAULT_INFO: a write, F_TRANSLATION");
	reg_wr(dt, DMATEST_REG_STATUS, 4, DMATEST_STATUS_ERROR | DMATEST_STATUS_DONE);

	/*
	 * B's Outstanding Page Request Allocation is 2: a FILL of five
	 * unmapped pages (10..14) asks in groups of at most two, each after
	 * the previous one's response; the program maps what each names.
	 */
	e0 = ep_stats(&b);
	dt_fill_start(&j, dtb, IOVA + 10 * PAGE_SIZE, 5 * PAGE_SIZE, PRG_FILL);
	for (unsigned int g = 0, page = 10; g < 3; g++) {
		uint64_t want[2] = {IOVA + page * PAGE_SIZE, IOVA + (page + 1) * PAGE_SIZE};
		unsigned int cnt = g < 2 ? 2 : 1;

		n = group_read(ffd, pf, ARRAY_SIZE_T(pf));
		group_check(pf, n, want, cnt, b.id, perm);
		ioas_map_fixed(ioas, (uint8_t *)buffer + page * PAGE_SIZE, cnt * PAGE_SIZE,
			       IOVA + page * PAGE_SIZE);
		fault_respond(ffd, pf[0].cookie, IOMMUFD_PAGE_RESP_SUCCESS);
		page += cnt;
	}
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.st, DMATEST_STATUS_DONE, "FILL done after three groups");
	TAP_CHECK(fill_bytes_ok(10 * PAGE_SIZE, 5 * PAGE_SIZE), "every byte filled");
	e1 = ep_stats(&b);
	TAP_CHECK_EQ(e1.prgs - e0.prgs, 3, "three groups");
	TAP_CHECK_EQ(e1.page_reqs - e0.page_reqs, 5, "five page requests");
	TAP_CHECK_EQ(e1.prg_max_outstanding, 2, "never more than the allocation outstanding");

	dmatest_destroy(dt);
	dmatest_destroy(dtb);
	sdev_free(&a);
	sdev_free(&b);
	CHECK_OK(fd_close(ffd));
	smmu_teardown();
}

/*
 * PRI queue overflow in the middle of a group (IHI 0070 §8.2): the records
 * that fit are written, the rest (Last among them) lost and the lost Last
 * answered by the SMMU, so the group would never complete in the fault
 * queue. The driver reports what was written, then drops the device's
 * partial groups before acknowledging the overflow: a later group with
 * the same index is one of its own, not the stale records plus its Last.
 * The requests are an endpoint's messages sent by hand (smmuv3_pri_request)
 * into a PRI queue of two entries.
 */
static void test_priq_overflow_group(void *arg)
{
	struct smmuv3_ppr ppr = {.sid = SID_A, .ssid = SMMU_NO_SSID, .perm = PT_PROT_W, .prgi = 5};
	struct smmuv3_iommu_params p;
	struct smmuv3_iommu_stats st;
	struct iommu_hwpt_pgfault pf[4];
	uint32_t ioas, hwpt, fault_id;
	struct hwdev a;
	int ffd;

	iommufd_setup();
	smmuv3_iommu_params_default(&p);
	p.priq_log2 = 1;
	TAP_CHECK(!smmuv3_iommu_new(&p, &smmu), "smmuv3_iommu_new");
	a = sdev_new_pcie(SID_A, true);
	ioas = ioas_alloc();
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	CHECK_OK(_hwpt_alloc_data(a.id, ioas, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt));
	CHECK_OK(sdev_attach(&a, hwpt));

	/* Three requests of group 5: two fit, the Last is lost (the SMMU answers it). */
	for (unsigned int k = 0; k < 3; k++) {
		ppr.addr = IOVA + k * PAGE_SIZE;
		ppr.last = k == 2;
		TAP_CHECK_EQ(smmuv3_pri_request(smmuv3_iommu_hw(smmu), &ppr), k < 2 ? 0 : -ENOSPC,
			     "request %u", k);
	}
	smmuv3_iommu_process_priq(smmu);
	smmuv3_iommu_get_stats(smmu, &st);
	TAP_CHECK_EQ(st.pprs, 2, "two records consumed");
	TAP_CHECK_EQ(st.priq_overflows, 1, "the overflow seen");
	TAP_CHECK_EQ(uiommu_read(fd_file(ffd), pf, sizeof(pf)), 0, "no complete group");

	/* The device asks again under the same index: its group alone, one page. */
	ppr.addr = IOVA + 7 * PAGE_SIZE;
	ppr.last = true;
	TAP_CHECK_EQ(smmuv3_pri_request(smmuv3_iommu_hw(smmu), &ppr), 0, "written after the ack");
	smmuv3_iommu_process_priq(smmu);
	TAP_CHECK_EQ(uiommu_read(fd_file(ffd), pf, sizeof(pf)), sizeof(pf[0]),
		     "one record: the stale partial group was dropped");
	TAP_CHECK_EQ(pf[0].addr, IOVA + 7 * PAGE_SIZE, "its page");
	TAP_CHECK_EQ(pf[0].grpid, 5, "its index");
	TAP_CHECK_EQ(pf[0].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE, "LAST_PAGE");
	fault_respond(ffd, pf[0].cookie, IOMMUFD_PAGE_RESP_INVALID);

	sdev_free(&a);
	CHECK_OK(fd_close(ffd));
	smmu_teardown();
}

/* Nested: EATS from the vSTE; the guest's ATC_INV reaches its device's physical SID only. */
static void test_ats_nested(void *arg)
{
	uint32_t ioas, parent, viommu, nested;
	struct smmuv3_ep *ea, *eb;
	uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint64_t ste[8];
	struct guest g;
	struct hwdev a, b, c;

	smmu_setup();
	a = sdev_new_pcie(SID_A, false);
	b = sdev_new_pcie(SID_B, false);
	c = sdev_new(SID_B + 1, false);
	ea = smmuv3_iommu_dev_ep(a.udev);
	eb = smmuv3_iommu_dev_ep(b.udev);
	ioas = ioas_alloc();
	guest_init(&g, ioas, 0);
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu));
	CHECK_OK(_vdevice_alloc(viommu, a.id, VSID, NULL));
	CHECK_OK(_vdevice_alloc(viommu, b.id, VSID + 1, NULL));
	CHECK_OK(_vdevice_alloc(viommu, c.id, VSID + 2, NULL));
	nested = nested_alloc(a.id, viommu, vste_s1(STE1_EATS(1)));
	CHECK_OK(sdev_attach(&a, nested));
	CHECK_OK(sdev_attach(&b, nested));
	CHECK_OK(sdev_attach(&c, nested));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[1] & STE1_EATS(3), STE1_EATS(1), "the guest's EATS, ATS device");
	ste_read(SID_B + 1, ste);
	TAP_CHECK_EQ(ste[1] & STE1_EATS(3), 0, "cleared for a device without ATS");

	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF, PT_PROT_RW);
	dma_ok(&a, 0x10000, buf, 8, false);
	dma_ok(&b, 0x10000, buf, 8, false);
	TAP_CHECK_EQ(smmuv3_ep_atc_count(ea), 1, "A cached it");
	TAP_CHECK_EQ(smmuv3_ep_atc_count(eb), 1, "B cached it");
	/* The guest unmaps and invalidates the SMMU's TLB: the ATCs still serve the old page. */
	guest_unmap(&g, 0x10000);
	inv_ok(viommu, CMD_NH_ASID | CMD_ASID(GASID), 0);
	dma_ok(&a, 0x10000, buf, 8, false);
	/* ATC_INV for A's vSID: A's entry goes, B's stays. */
	inv_ok(viommu, CMD_ATC_INV | CMD_SID(VSID), 52);
	TAP_CHECK_EQ(smmuv3_ep_atc_count(ea), 0, "A's ATC invalidated");
	TAP_CHECK_EQ(smmuv3_ep_atc_count(eb), 1, "B's untouched");
	dma_fault(&a, 0x10000, 4, false, -EFAULT, EVT_F_TRANSLATION, 0, 0x10000);
	dma_ok(&b, 0x10000, buf, 8, false); /* stale until its own ATC_INV */
	inv_ok(viommu, CMD_ATC_INV | CMD_SID(VSID + 1), 0x8000 | 4); /* 64 KiB at 0 */
	TAP_CHECK_EQ(smmuv3_ep_atc_count(eb), 1, "B's entry is outside that range");
	inv_ok(viommu, CMD_ATC_INV | CMD_SID(VSID + 1), 0x8000 | 5); /* 128 KiB at 0 */
	TAP_CHECK_EQ(smmuv3_ep_atc_count(eb), 0, "B's by range");
	dma_fault(&b, 0x10000, 4, false, -EFAULT, EVT_F_TRANSLATION, 0, 0x10000);

	sdev_free(&a);
	sdev_free(&b);
	sdev_free(&c);
	guest_destroy(&g);
	smmu_teardown();
}

/*
 * An ATS device's PASID: its CD-table STE has EATS = 0b01, a PASID DMA
 * fills the ATC through a translation request with the PASID, and an
 * unmap of the PASID's domain sends CMD_ATC_INV with SSV and the PASID,
 * after which the entry is gone and the access faults.
 */
static void test_ats_pasid(void *arg)
{
	struct pcie_ep_stats e0, e1;
	uint32_t ioas, p1;
	struct iommu_dma_fault f;
	uint8_t buf[16];
	uint64_t ste[8];
	struct hwdev a;

	smmu_setup();
	a = sdev_new_pcie(SID_A, false);
	ioas = ioas_alloc();
	for (unsigned int i = 0; i < 4; i++)
		ioas_map_fixed(ioas, (uint8_t *)buffer + i * PAGE_SIZE, PAGE_SIZE,
			       IOVA + i * PAGE_SIZE);
	p1 = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_PASID);
	CHECK_OK(pasid_attach(&a, 2, p1));
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[1] & STE1_EATS(3), STE1_EATS(1), "EATS = 0b01");
	TAP_CHECK_EQ(ste[1] & 3, S1DSS_TERMINATE, "blocked RID");

	e0 = ep_stats(&a);
	CHECK_OK(dma_pasid(&a, 2, IOVA + PAGE_SIZE, buf, sizeof(buf), false, &f));
	CHECK_OK(dma_pasid(&a, 2, IOVA + PAGE_SIZE + 64, buf, sizeof(buf), false, &f));
	e1 = ep_stats(&a);
	TAP_CHECK_EQ(e1.atc_fills - e0.atc_fills, 1, "one fill");
	TAP_CHECK_EQ(e1.atc_hits - e0.atc_hits, 1, "one hit");
	TAP_CHECK(smmuv3_ep_atc_count(smmuv3_iommu_dev_ep(a.udev)) >= 1, "an ATC entry");
	ioas_unmap(ioas, IOVA + PAGE_SIZE, PAGE_SIZE);
	e0 = ep_stats(&a);
	TAP_CHECK_EQ(e0.atc_invs - e1.atc_invs, 1, "ATC_INV with the PASID");
	TAP_CHECK_EQ(smmuv3_ep_atc_count(smmuv3_iommu_dev_ep(a.udev)), 0, "entry gone");
	TAP_CHECK_EQ(dma_pasid(&a, 2, IOVA + PAGE_SIZE, buf, 4, false, &f), -EFAULT, "unmapped");
	TAP_CHECK_EQ(f.reason, EVT_F_TRANSLATION, "F_TRANSLATION");
	CHECK_OK(dma_pasid(&a, 2, IOVA + 2 * PAGE_SIZE, buf, 4, false, &f));
	/* Detaching the PASID empties the ATC of it. */
	iommufd_device_detach(a.idev, 2);
	TAP_CHECK_EQ(smmuv3_ep_atc_count(smmuv3_iommu_dev_ep(a.udev)), 0, "ATC empty");
	ste_read(SID_A, ste);
	TAP_CHECK_EQ(ste[0], STE0_V, "abort STE");
	sdev_free(&a);
	smmu_teardown();
}

static void test_devices(void *arg)
{
	struct smmuv3_iommu_params p;
	struct smmuv3_dev_params dp = {.sid = 256};
	struct iommufd_ctx *ictx;
	struct udev *u;
	uint32_t id;
	int err;

	smmu_setup();
	/* The stream table covers 256 SIDs; a SID taken twice; SSID bits beyond SSIDSIZE. */
	TAP_CHECK(!smmuv3_iommu_dev_create(smmu, &dp, &err) && err == -EINVAL, "SID 256: %d", err);
	dp = (struct smmuv3_dev_params){.sid = 3, .ssid_bits = 21};
	TAP_CHECK(!smmuv3_iommu_dev_create(smmu, &dp, &err) && err == -EINVAL, "SSID bits");
	dp.ssid_bits = 0;
	u = smmuv3_iommu_dev_create(smmu, &dp, &err);
	TAP_CHECK(u && !err, "dev_create");
	TAP_CHECK(!smmuv3_iommu_dev_create(smmu, &dp, &err) && err == -EEXIST, "EEXIST");
	TAP_CHECK(smmuv3_iommu_dev_is_ours(u), "ours");
	TAP_CHECK_EQ(u->sid, 3, "sid");
	/* One owner at a time. */
	ictx = iommufd_ctx_from_file(self_file);
	{
		struct iommufd_device *idev = iommufd_device_bind(ictx, u, &id, true);
		struct iommufd_device *again;

		TAP_CHECK(!IS_ERR(idev), "bind");
		again = iommufd_device_bind(ictx, u, &id, true);
		TAP_CHECK_EQ(PTR_ERR(again), -EBUSY, "second bind");
		iommufd_device_unbind(idev);
	}
	iommufd_ctx_put(ictx);
	smmuv3_iommu_dev_destroy(u);
	/* Free again: the SID can be had. */
	u = smmuv3_iommu_dev_create(smmu, &dp, &err);
	TAP_CHECK(u, "recreate");
	smmuv3_iommu_dev_destroy(u);

	/* Parameters. */
	smmuv3_iommu_params_default(&p);
	p.cmdq_log2 = 20;
	TAP_CHECK_EQ(smmuv3_iommu_new(&p, &(struct smmuv3_iommu *){NULL}), -EINVAL, "cmdq");
	smmu_teardown();
}

/* Closing the context with HWPTs, a vIOMMU, vDEVICE, vEVENTQ and fault queue alive. */
static void test_close_all(void *arg)
{
	uint32_t ioas, parent, viommu, nested, fault_id;
	struct guest g;
	struct hwdev a, b;
	int vfd, ffd;

	smmu_setup();
	a = sdev_new(SID_A, true);
	b = sdev_new(SID_B, false);
	ioas = ioas_alloc();
	guest_init(&g, ioas, 0);
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_viommu_alloc(a.id, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &viommu));
	CHECK_OK(_vdevice_alloc(viommu, a.id, VSID, NULL));
	CHECK_OK(_veventq_alloc(viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 2, NULL, &vfd));
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	nested = nested_alloc(a.id, viommu, vste_s1(0));
	CHECK_OK(sdev_attach(&a, nested));
	CHECK_OK(sdev_attach(&b, parent));
	/* Three faults into a depth-2 queue: the third is lost. */
	for (int i = 0; i < 3; i++)
		dma_fault(&a, 0x90000, 4, true, -EFAULT, EVT_F_TRANSLATION, 0, 0x90000);
	CHECK_OK(fd_close(vfd));
	CHECK_OK(fd_close(ffd));
	sdev_free(&a);
	sdev_free(&b);
	smmu_teardown();
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* The dmatest PCI function behind the SMMU                            */

/*
 * dmatest on an SMMUv3 device: COPY through stage 2, a fault whose reason
 * is the SMMU's event type, and an MSI-X message to the SW_MSI window that
 * the platform's interrupt controller (lib/dev's doorbell, handed to the
 * instance as its MSI page) turns into an eventfd signal.
 */
static void test_dmatest(void *arg)
{
	struct smmuv3_iommu_params p;
	struct msi_doorbell *db;
	struct dmatest *dt;
	uint32_t ioas, hwpt, st;
	uint64_t v = 0;
	struct hwdev a;
	int err, efd;

	iommufd_setup();
	db = msi_doorbell_create(8, &err);
	TAP_CHECK(db, "doorbell: %d", err);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	TAP_CHECK(efd >= 0 && !msi_doorbell_set_eventfd(db, 5, efd), "eventfd");
	smmuv3_iommu_params_default(&p);
	p.msi_page = msi_doorbell_page(db);
	TAP_CHECK(!smmuv3_iommu_new(&p, &smmu), "smmuv3_iommu_new");
	a = sdev_new(SID_A, false);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, IOVA);
	hwpt = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_PASID);
	CHECK_OK(sdev_attach(&a, hwpt));
	dt = dmatest_create(a.udev, NULL, &err);
	TAP_CHECK(dt, "dmatest_create: %d", err);
	dt_enable(dt);

	/* COPY page 1 to page 4, through the SMMU. */
	dt_check_copy(dt, buffer, IOVA, PAGE_SIZE);

	/* A read past the mapping: the fault registers carry the SMMU's F_TRANSLATION. */
	dt_check_read_fault(dt, IOVA, IOVA + BUFFER_SIZE, EVT_F_TRANSLATION);
	reg_wr(dt, DMATEST_REG_STATUS, 4, DMATEST_STATUS_ERROR | DMATEST_STATUS_DONE);

	/* MSI-X vector 0 to the SW_MSI window's translater, event 5: the eventfd fires. */
	reg_wr(dt, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_LOWER_ADDR, 8,
	      SMMUV3_MSI_IOVA_BASE + MSI_DOORBELL_TRANSLATER);
	reg_wr(dt, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_DATA, 4, 5);
	reg_wr(dt, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	TAP_CHECK(
		!dmatest_cfg_write(dt, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE),
		"MSI-X on");
	reg_wr(dt, DMATEST_REG_CTRL, 4, DMATEST_CTRL_IRQ_DONE);
	st = dt_go(dt, DMATEST_OP_FILL, 0, IOVA + 8 * PAGE_SIZE, 64);
	TAP_CHECK_EQ(st & DMATEST_STATUS_DONE, DMATEST_STATUS_DONE, "FILL done");
	TAP_CHECK(read(efd, &v, sizeof(v)) == sizeof(v) && v == 1, "one interrupt");
	TAP_CHECK_EQ(msi_doorbell_event_count(db, 5), 1, "event 5 at the doorbell");

	/*
	 * The PASID register: COPY with PASID 3 goes through PASID 3's stage 1
	 * (another IOAS), its fault registers carry the PASID, and an
	 * unattached PASID is a configuration error (C_BAD_CD).
	 */
	{
		uint8_t *b2 = zpages(BUFFER_SIZE);
		uint32_t ioas2 = ioas_alloc(), p3;

		ioas_map_fixed(ioas2, b2, BUFFER_SIZE, IOVA);
		p3 = hwpt_alloc(a.id, ioas2, IOMMU_HWPT_ALLOC_PASID);
		CHECK_OK(pasid_attach(&a, 3, p3));
		TAP_CHECK(!dmatest_cfg_write(dt, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2,
					     PCI_PASID_CTRL_ENABLE),
			  "PASID on");
		for (unsigned int i = 0; i < PAGE_SIZE; i++)
			b2[PAGE_SIZE + i] = (uint8_t)(i ^ 0x77);
		memset((uint8_t *)buffer + 2 * PAGE_SIZE, 0, PAGE_SIZE);
		reg_wr(dt, DMATEST_REG_PASID, 4, 3 | DMATEST_PASID_VALID);
		st = dt_go(dt, DMATEST_OP_COPY, IOVA + PAGE_SIZE, IOVA + 2 * PAGE_SIZE, PAGE_SIZE);
		TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "PASID COPY done");
		TAP_CHECK(!memcmp(b2 + 2 * PAGE_SIZE, b2 + PAGE_SIZE, PAGE_SIZE),
			  "copied in PASID 3's memory");
		TAP_CHECK_EQ(((uint8_t *)buffer)[2 * PAGE_SIZE], 0, "the RID's memory untouched");
		st = dt_go(dt, DMATEST_OP_COPY, IOVA + BUFFER_SIZE, IOVA, 8);
		TAP_CHECK_EQ((st & DMATEST_STATUS_ERR_MASK) >> DMATEST_STATUS_ERR_SHIFT,
			     DMATEST_ERR_DMA_FAULT, "PASID DMA fault");
		TAP_CHECK_EQ(reg_rd(dt, DMATEST_REG_FAULT_INFO, 4),
			     DMATEST_FAULT_READ | DMATEST_FAULT_PASID |
				     EVT_F_TRANSLATION << DMATEST_FAULT_REASON_SHIFT |
				     (uint32_t)EFAULT << DMATEST_FAULT_ERRNO_SHIFT,
			     "FAULT_INFO with PASID");
		TAP_CHECK_EQ(reg_rd(dt, DMATEST_REG_FAULT_PASID, 4), 3, "FAULT_PASID");
		reg_wr(dt, DMATEST_REG_STATUS, 4, DMATEST_STATUS_ERROR | DMATEST_STATUS_DONE);
		reg_wr(dt, DMATEST_REG_PASID, 4, 4 | DMATEST_PASID_VALID);
		st = dt_go(dt, DMATEST_OP_COPY, IOVA, IOVA + PAGE_SIZE, 8);
		TAP_CHECK_EQ(reg_rd(dt, DMATEST_REG_FAULT_INFO, 4),
			     DMATEST_FAULT_READ | DMATEST_FAULT_PASID |
				     SMMU_EVT_C_BAD_CD << DMATEST_FAULT_REASON_SHIFT |
				     (uint32_t)EIO << DMATEST_FAULT_ERRNO_SHIFT,
			     "PASID 4: C_BAD_CD");
		reg_wr(dt, DMATEST_REG_STATUS, 4, DMATEST_STATUS_ERROR | DMATEST_STATUS_DONE);
		iommufd_device_detach(a.idev, 3);
		munmap(b2, BUFFER_SIZE);
	}

	dmatest_destroy(dt);
	sdev_free(&a);
	smmu_teardown();
	msi_doorbell_destroy(db);
	close(efd);
}

/* ------------------------------------------------------------------ */
/* DMA while the configuration and the mappings change                 */

#define CONC_ROUNDS 150

/*
 * hwdev_conc.h's readers while the device flips between two HWPTs of the
 * same IOAS (two stage-1 domains: the STE stays, CD 0 changes). A read is
 * aborted by an STE in its break-before-make window (no event, -EIO,
 * reason 0) or by CD 0 in its break-before-make window (V = 0, as Linux's
 * arm_smmu_write_entry does when the ASID and TTB0 both change: C_BAD_CD,
 * -EIO); an unmapped page faults with F_TRANSLATION.
 */
static void test_concurrent(void *arg)
{
	struct hwdev_conc h = { .iova = IOVA,
				.blocked_reason = { 0, SMMU_EVT_C_BAD_CD },
				.unmapped_reason = EVT_F_TRANSLATION,
				.blocked_name = "aborted" };
	struct hwdev a;

	smmu_setup();
	a = sdev_new(SID_A, false);
	h.udev = a.udev;
	hwdev_conc_setup(&h, a.id);
	CHECK_OK(sdev_attach(&a, h.hwpt[0]));
	hwdev_conc_start(&h);
	for (unsigned int r = 0; r < CONC_ROUNDS; r++) {
		CHECK_OK(sdev_replace(&a, h.hwpt[(r + 1) & 1]));
		hwdev_conc_unmap(&h);
		hwdev_conc_remap(&h);
	}
	hwdev_conc_stop(&h);
	sdev_free(&a);
	smmu_teardown();
}

/* ------------------------------------------------------------------ */
/* Fail-nth sweep                                                      */

/*
 * Each step of a standard sequence runs with its N-th allocation failing,
 * for every N until the step makes fewer than N: the step fails with
 * ENOMEM (or absorbs the failure), succeeds when retried, the rest of the
 * sequence succeeds, and the teardown leaves no file behind (and, under
 * make check-asan, no memory).
 */
static struct fstate {
	struct hwdev a;
	uint32_t ioas, hwpt, parent, viommu, vdev, veventq, nested;
	int vfd;
	uint8_t x[8];
} fs;

static int errno_neg(int rc)
{
	return rc ? -errno : 0;
}

static int f_open(void)
{
	self_file = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
	return self_file ? 0 : -errno;
}

static int f_smmu(void)
{
	struct smmuv3_iommu_params p;

	smmuv3_iommu_params_default(&p);
	return smmuv3_iommu_new(&p, &smmu);
}

static int f_dev(void)
{
	/* 12 SSID bits: a 2-level CD table. */
	struct smmuv3_dev_params p = {.sid = SID_A, .ssid_bits = 12};
	struct iommufd_ctx *ictx;
	int err;

	fs.a.udev = smmuv3_iommu_dev_create(smmu, &p, &err);
	if (!fs.a.udev)
		return err;
	ictx = iommufd_ctx_from_file(self_file);
	fs.a.idev = iommufd_device_bind(ictx, fs.a.udev, &fs.a.id, true);
	iommufd_ctx_put(ictx);
	if (IS_ERR(fs.a.idev)) {
		smmuv3_iommu_dev_destroy(fs.a.udev);
		fs.a.udev = NULL;
		return (int)PTR_ERR(fs.a.idev);
	}
	return 0;
}

static int f_ioas(void)
{
	uint64_t iova = IOVA;
	int rc = _ioas_alloc(&fs.ioas);

	if (rc)
		return -errno;
	rc = errno_neg(
		_ioas_map(fs.ioas, buffer, BUFFER_SIZE, &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	if (rc)
		_destroy(fs.ioas);
	return rc;
}

static int f_hwpt(void)
{
	return errno_neg(_hwpt_alloc(fs.a.id, fs.ioas,
				     IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID,
				     &fs.hwpt));
}

static int f_attach(void)
{
	return sdev_attach(&fs.a, fs.hwpt);
}

static int f_dirty(void)
{
	uint64_t bitmap = 0;
	int rc = errno_neg(_set_dirty_tracking(fs.hwpt, true));

	if (rc)
		return rc;
	if (dma(&fs.a, IOVA + PAGE_SIZE, fs.x, sizeof(fs.x), true, NULL, NULL))
		return -EIO;
	rc = errno_neg(_get_dirty_bitmap(fs.hwpt, IOVA, 16 * PAGE_SIZE, PAGE_SIZE, &bitmap, 0));
	return rc ? rc : bitmap == 2 ? 0 : -EIO;
}

/*
 * A stage-1 PASID HWPT on PASID 0x900 (its CD, in an L2 table made for it),
 * DMA with the PASID, detached again.
 */
static int f_pasid(void)
{
	uint32_t id = 0;
	int rc = errno_neg(_hwpt_alloc(fs.a.id, fs.ioas, IOMMU_HWPT_ALLOC_PASID, &id));

	if (rc)
		return rc;
	rc = pasid_attach(&fs.a, 0x900, id);
	if (!rc) {
		struct iommu_dma_fault f;

		rc = dma_pasid(&fs.a, 0x900, IOVA + PAGE_SIZE, fs.x, sizeof(fs.x), false, &f);
		iommufd_device_detach(fs.a.idev, 0x900);
	}
	_destroy(id);
	return rc;
}

static int f_parent(void)
{
	return errno_neg(_hwpt_alloc(fs.a.id, fs.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &fs.parent));
}

static int f_viommu(void)
{
	return errno_neg(_viommu_alloc(fs.a.id, fs.parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
				       &fs.viommu));
}

static int f_vdev(void)
{
	return errno_neg(_vdevice_alloc(fs.viommu, fs.a.id, VSID, &fs.vdev));
}

static int f_veventq(void)
{
	return errno_neg(
		_veventq_alloc(fs.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &fs.veventq, &fs.vfd));
}

static int f_nested(void)
{
	struct iommu_hwpt_arm_smmuv3 v = vste_s1(0);

	return errno_neg(_nested_alloc(fs.a.id, fs.viommu, &v, 0, 0, &fs.nested));
}

static int f_replace(void)
{
	return sdev_replace(&fs.a, fs.nested);
}

/* The guest's CD is not there (its IPA maps nothing): a stage-2 fault, the host's. */
static int f_fault(void)
{
	uint32_t v;

	return dma(&fs.a, 0x1000, &v, sizeof(v), false, NULL, NULL) == -EFAULT ? 0 : -EIO;
}

static int f_inv(void)
{
	const struct iommu_viommu_arm_smmuv3_invalidate cmds[2] = {
		{.cmd = {htole64(CMD_NH_ALL), 0}},
		{.cmd = {htole64(CMD_CFGI_CD_ALL | CMD_SID(VSID)), 0}},
	};
	uint32_t n = 2;

	return errno_neg(_inv(fs.viommu, cmds, sizeof(cmds[0]), &n));
}

static const struct {
	const char *name;
	int (*fn)(void);
	int lookup_err; /* a failed lookup's errno when not ENOENT */
} fsteps[] = {
	{"open", f_open},
	{"smmu", f_smmu},
	{"dev", f_dev},
	{"ioas", f_ioas},
	{"hwpt", f_hwpt, EINVAL},
	{"attach", f_attach},
	{"dirty", f_dirty},
	{"pasid", f_pasid, EINVAL},
	{"parent", f_parent, EINVAL},
	{"viommu", f_viommu},
	{"vdev", f_vdev},
	{"veventq", f_veventq},
	{"nested", f_nested, EINVAL},
	{"replace", f_replace},
	{"fault", f_fault},
	{"inv", f_inv},
};

static void f_teardown(void)
{
	if (fs.vfd >= 0)
		fd_close(fs.vfd);
	sdev_free(&fs.a);
	iommufd_teardown();
	smmuv3_iommu_free(smmu);
	smmu = NULL;
	memset(&fs, 0, sizeof(fs));
	fs.vfd = -1;
}

static void test_failnth(void *arg)
{
	unsigned int files_before, fired = 0;

	memset(&fs, 0, sizeof(fs));
	fs.vfd = -1;
	files_before = ufile_count();
	for (unsigned int k = 0; k < ARRAY_SIZE_T(fsteps); k++) {
		for (unsigned long n = 1;; n++) {
			unsigned long pending;
			int rc;

			for (unsigned int i = 0; i < k; i++)
				TAP_CHECK(!fsteps[i].fn(), "step %s before %s (N=%lu)",
					  fsteps[i].name, fsteps[k].name, n);
			ualloc_fail_nth(n);
			rc = fsteps[k].fn();
			pending = ualloc_fail_nth_pending();
			ualloc_fail_nth(0);
			if (pending) {
				TAP_CHECK(!rc, "step %s without injection: %d", fsteps[k].name, rc);
				f_teardown();
				break;
			}
			fired++;
			if (rc) {
				/*
				 * -ENOENT (or the step's errno for a missing object):
				 * the injection point was an object lookup, which
				 * Linux's CONFIG_IOMMUFD_TEST fails as an unknown ID.
				 */
				TAP_CHECK(rc == -ENOMEM || rc == -ENOENT ||
						  (fsteps[k].lookup_err &&
						   rc == -fsteps[k].lookup_err),
					  "step %s, allocation %lu: %d", fsteps[k].name, n, rc);
				TAP_CHECK(!fsteps[k].fn(), "step %s retried after allocation %lu",
					  fsteps[k].name, n);
			}
			for (unsigned int i = k + 1; i < ARRAY_SIZE_T(fsteps); i++)
				TAP_CHECK(!fsteps[i].fn(), "step %s after %s failed at %lu",
					  fsteps[i].name, fsteps[k].name, n);
			f_teardown();
			TAP_CHECK_EQ(ufile_count(), files_before, "files left behind");
		}
	}
	tap_diag("%u injected failures", fired);
	TAP_CHECK(fired > 50, "the sweep reached the driver");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"GET_HW_INFO: IDRs, type, capabilities, lengths", test_hw_info},
		{"stage-2 paging (stage-2-only SMMU): STE, DMA, faults, unmap invalidation, errnos",
		 test_paging},
		{"MSI doorbell: reserved window, write-only page, lifetime", test_msi},
		{"dirty tracking through stage-1 HTTU (CD.HA/HD, DBM)", test_dirty},
		{"vIOMMU, nested HWPTs (vSTE rules), vDEVICEs, nested STE", test_viommu},
		{"DMA through a guest stage 1: vEVENTs, TLBI / CFGI with VMID and SID",
		 test_nested_dma},
		{"PASIDs through the guest's CD table, SSID in vEVENTs", test_nested_pasid},
		{"vIOMMU invalidation: refusals, entry_num, array rules", test_invalidate},
		{"IOPF: stage-2 stall, fault queue, page responses", test_iopf_s2},
		{"IOPF: a guest stage-1 stall answered by the guest", test_iopf_nested},
		{"STALL_MODEL 0b10: CD.S and S2S for every device, no S1STALLD", test_stall_forced},
		{"dirty tracking: stage 1 only (NEST_PARENT / stage-2-only errnos)",
		 test_dirty_nested},
		{"ATS: EATS, the device's ATC, unmap invalidation", test_ats},
		{"PRI: page requests to the fault queue, CMD_PRI_RESP", test_pri_iopf},
		{"PRI: multi-page groups of a dmatest FILL, one response, the allocation bound",
		 test_pri_group},
		{"PRI queue overflow mid-group: the partial group dropped",
		 test_priq_overflow_group},
		{"ATS nested: vSTE EATS, forwarded ATC_INV to the right SID", test_ats_nested},
		{"stage-1 paging: STE, CD 0, stage-1 walk, TLBI_NH_VA, replace", test_s1_paging},
		{"PASIDs: CDs, S1DSS, DMA with SSID, replace, detach, errnos", test_pasid},
		{"IOPF on a PASID: CD.S, the page request's PASID, the response", test_iopf_pasid},
		{"ATS on a PASID: EATS, ATC fill, ATC_INV with SSV on unmap", test_ats_pasid},
		{"devices: SIDs, binding, parameters", test_devices},
		{"close with everything alive", test_close_all},
		{"DMA while STEs and mappings change", test_concurrent},
		{"dmatest behind the SMMU: COPY, fault registers, MSI-X doorbell", test_dmatest},
		{"fail-nth sweep of the driver's paths", test_failnth},
	};

	buffer_init();
	tap_plan(ARRAY_SIZE_T(tests));
	for (unsigned int i = 0; i < ARRAY_SIZE_T(tests); i++) {
		tap_run(tests[i].name, tests[i].fn, NULL);
		if (self_file) {
			uiommu_close(self_file);
			self_file = NULL;
		}
	}
	return tap_done();
}
