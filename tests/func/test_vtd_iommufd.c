// SPDX-License-Identifier: MIT
/*
 * The VT-d driver behind /dev/iommu: real iommufd ioctls on devices of a
 * VT-d model instance (lib/hw/vtd/vtd_iommu.h), DMA through iommu_dma_rw(),
 * and what the hardware sees (the PASID entries the driver wrote, the
 * fault reasons, the bytes that moved).
 *
 *  - GET_HW_INFO: IOMMU_HW_INFO_TYPE_INTEL_VTD with CAP / ECAP;
 *  - second-stage paging HWPTs: the PASID entry, DMA, faults, unmap
 *    invalidation, errnos;
 *  - NEST_PARENT and nested HWPTs from IOMMU_HWPT_DATA_VTD_S1: the errno
 *    rules of Linux's intel nested.c / pasid.c, the nested PASID entry,
 *    DMA through a guest first stage built in guest RAM that IOAS_MAP
 *    maps, a stale translation until IOMMU_HWPT_INVALIDATE, the
 *    invalidation array's rules and entry_num;
 *  - dirty tracking through second-stage A/D (SSADE on and off, bitmaps);
 *  - PASID attach (paging and nested) and DMA with a PASID;
 *  - the dmatest PCI function behind VT-d (COPY, a fault's reason).
 *
 * Devices are bound with the internal API the VFIO cdev uses
 * (iommufd_device_bind); everything else is an ioctl on the iommufd.
 */
#include <endian.h>
#include <pthread.h>

#include <linux/pci_regs.h>

#include "dev/dmatest/dmatest.h"
#include "hw/vtd/vtd_ep.h"
#include "hw/vtd/vtd_iommu.h"
#include "iommufd/iommufd_private.h"
#include "pt/pt.h"
#include "util/alloc.h"

#include "dmatest_regs.h"
#include "hwdev_conc.h"
#include "hwdev_fixture.h"
#include "iommufd_objs.h"

#define SID_A 0x0010
#define SID_B 0x0011
#define IOVA  0x100000ULL

/* PASID entry fields (qword, bit). */
#define PE0_P	    (1ULL << 0)
#define PE0_AW(a)   ((uint64_t)(a) << 2)
#define PE0_PGTT(t) ((uint64_t)(t) << 6)
#define PE0_SSADE   (1ULL << 9)
#define PE2_SRE	    (1ULL << 0)
#define PE2_WPE	    (1ULL << 4)
#define PE2_EAFE    (1ULL << 7)
#define PTR_MASK    0x000ffffffffff000ULL

static struct vtd_iommu *vtd;

static void vtd_setup_p(const struct vtd_iommu_params *p)
{
	struct vtd_iommu_params d;

	iommufd_setup();
	if (!p) {
		vtd_iommu_params_default(&d);
		p = &d;
	}
	TAP_CHECK(!vtd_iommu_new(p, &vtd), "vtd_iommu_new");
}

static void vtd_setup(void)
{
	vtd_setup_p(NULL);
}

static struct hwdev vdev_new_p(const struct vtd_dev_params *p)
{
	int err;
	struct udev *udev = vtd_iommu_dev_create(vtd, p, &err);

	return hwdev_new(udev, err);
}

static struct hwdev vdev_new(uint16_t sid)
{
	struct vtd_dev_params p = {.sid = sid, .is_pci = true, .pasid_bits = 8};

	return vdev_new_p(&p);
}

static int vdev_attach(struct hwdev *d, uint32_t pasid, uint32_t pt_id)
{
	uint32_t id = pt_id;

	return iommufd_device_attach(d->idev, pasid, &id);
}

static void vdev_free(struct hwdev *d)
{
	hwdev_free(d, vtd_iommu_dev_destroy);
}

static void vtd_teardown(void)
{
	iommufd_teardown();
	vtd_iommu_free(vtd);
	vtd = NULL;
}

static uint16_t hwpt_did(uint32_t id)
{
	int did = vtd_iommu_domain_did(hwpt_domain(id));

	TAP_CHECK(did > 1, "did %d", did);
	return (uint16_t)did;
}

static void pe_read(struct hwdev *d, uint32_t pasid, uint64_t pe[8])
{
	TAP_CHECK(!vtd_iommu_read_pasid_entry(d->udev, pasid, pe), "read PASID entry");
}

static int dma(struct hwdev *d, uint32_t pasid, uint64_t iova, void *buf, size_t len, bool write,
	       size_t *done, struct iommu_dma_fault *f)
{
	return hwdev_dma(d->udev, pasid, iova, buf, len, write, done, f);
}

static void dma_ok(struct hwdev *d, uint32_t pasid, uint64_t iova, void *buf, size_t len,
		   bool write)
{
	hwdev_dma_ok(d->udev, pasid, iova, buf, len, write);
}

static void dma_fault(struct hwdev *d, uint32_t pasid, uint64_t iova, size_t len, bool write,
		      int err, unsigned int reason, size_t want_done, uint64_t fault_iova)
{
	hwdev_dma_fault(d->udev, pasid, iova, len, write, err, reason, want_done, fault_iova);
}

/* ------------------------------------------------------------------ */
/* GET_HW_INFO                                                        */

static void test_hw_info(void *arg)
{
	struct vtd_dev_params np = {.sid = SID_B, .no_dirty = true};
	struct iommu_hw_info_vtd info;
	struct iommu_hw_info cmd;
	struct hwdev a, b;
	uint64_t cap, ecap;

	vtd_setup();
	a = vdev_new(SID_A);
	b = vdev_new_p(&np);
	vtd_mmio_read(vtd_iommu_hw(vtd), VTD_CAP_REG, 8, &cap);
	vtd_mmio_read(vtd_iommu_hw(vtd), VTD_ECAP_REG, 8, &ecap);
	memset(&info, 0xcc, sizeof(info));
	cmd = (struct iommu_hw_info){
		.dev_id = a.id, .data_len = sizeof(info), .data_uptr = (uintptr_t)&info};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK_EQ(cmd.out_data_type, IOMMU_HW_INFO_TYPE_INTEL_VTD, "type");
	TAP_CHECK_EQ(cmd.data_len, 24, "data_len");
	TAP_CHECK_EQ(cmd.out_capabilities, IOMMU_HW_CAP_DIRTY_TRACKING, "caps");
	TAP_CHECK_EQ(cmd.out_max_pasid_log2, 8, "max_pasid_log2");
	TAP_CHECK_EQ(info.flags, 0, "flags");
	TAP_CHECK_EQ(info.__reserved, 0, "reserved");
	TAP_CHECK_EQ(info.cap_reg, cap, "CAP");
	TAP_CHECK_EQ(info.ecap_reg, ecap, "ECAP");
	TAP_CHECK(ecap & VTD_ECAP_NEST, "ECAP.NEST");
	TAP_CHECK(ecap & VTD_ECAP_SLADS, "ECAP.SLADS");
	cmd = (struct iommu_hw_info){.dev_id = b.id};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK_EQ(cmd.out_capabilities, 0, "no_dirty caps");
	TAP_CHECK_EQ(cmd.data_len, 24, "full length with data_len 0");
	cmd = (struct iommu_hw_info){.dev_id = a.id,
				     .flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
				     .in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD};
	CHECK_OK(_get_hw_info(&cmd));
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	CHECK_ERRNO(EOPNOTSUPP, _get_hw_info(&cmd));
	vdev_free(&a);
	vdev_free(&b);
	vtd_teardown();
}

/* ------------------------------------------------------------------ */
/* Second-stage paging                                                */

static void test_paging(void *arg)
{
	struct iommu_hwpt_vtd_s1 s1 = {.addr_width = 48};
	uint8_t out[0x2000], in[0x2000];
	uint32_t ioas, hwpt, hwpt2;
	struct hwdev a, b;
	uint64_t pe[8];

	vtd_setup();
	a = vdev_new(SID_A);
	b = vdev_new(SID_B);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	ioas_map_fixed(ioas, (uint8_t *)buffer + PAGE_SIZE, BUFFER_SIZE - PAGE_SIZE,
		       IOVA + PAGE_SIZE);
	/* Driver data on a paging HWPT: EOPNOTSUPP. */
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc_data(a.id, ioas, 0, 0, IOMMU_HWPT_DATA_VTD_S1, &s1,
						 sizeof(s1), &hwpt));
	hwpt = hwpt_alloc(a.id, ioas, 0);
	/* Blocked before the attach: no PASID entry (its table does not exist yet). */
	TAP_CHECK_EQ(vtd_iommu_read_pasid_entry(a.udev, 0, pe), -ENOENT, "no PASID table");
	dma_fault(&a, IOMMU_NO_PASID, IOVA, 16, false, -EIO, VTD_FR_PDIR_NP, 0, IOVA);
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, hwpt));
	pe_read(&a, 0, pe);
	TAP_CHECK_EQ(pe[0] & ~PTR_MASK, PE0_P | PE0_AW(2) | PE0_PGTT(2), "PGTT SS, AW 2");
	TAP_CHECK(pe[0] & PTR_MASK, "SSPTPTR");
	TAP_CHECK_EQ(pe[1], hwpt_did(hwpt), "DID");
	TAP_CHECK_EQ(pe[2], 0, "no first stage");

	for (unsigned int i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 0x1800, out, sizeof(out), true);
	TAP_CHECK(!memcmp((uint8_t *)buffer + 0x1800, out, sizeof(out)), "bytes written");
	memset(in, 0, sizeof(in));
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 0x1800, in, sizeof(in), false);
	TAP_CHECK(!memcmp(in, out, sizeof(in)), "bytes read");
	/* A run into unmapped IOVA moves what is mapped, then faults (no W: 0x05). */
	dma_fault(&a, IOMMU_NO_PASID, IOVA + BUFFER_SIZE - 0x800, 0x1000, true, -EFAULT,
		  VTD_FR_SM_WRITE, 0x800, IOVA + BUFFER_SIZE);
	dma_fault(&a, IOMMU_NO_PASID, IOVA + BUFFER_SIZE, 4, false, -EFAULT, VTD_FR_SM_READ, 0,
		  IOVA + BUFFER_SIZE);
	/* Device B is blocked. */
	dma_fault(&b, IOMMU_NO_PASID, IOVA, 16, false, -EIO, VTD_FR_PDIR_NP, 0, IOVA);

	/* Unmap invalidates: the cached translation must not survive. */
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 0x10, in, 4, false);
	ioas_unmap(ioas, IOVA, PAGE_SIZE);
	dma_fault(&a, IOMMU_NO_PASID, IOVA + 0x10, 4, false, -EFAULT, VTD_FR_SM_READ, 0,
		  IOVA + 0x10);
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, IOVA);
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 0x10, in, 4, false);

	/* The interrupt window is reserved: IOAS_MAP there fails while attached. */
	TAP_CHECK(_ioas_map(ioas, buffer, PAGE_SIZE, &(uint64_t){VTD_MSI_IOVA_BASE},
			    IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE) != 0,
		  "map into the interrupt window");

	/* Replace: another DID; detach: blocked again. */
	hwpt2 = hwpt_alloc(a.id, ioas, 0);
	TAP_CHECK(hwpt_did(hwpt2) != hwpt_did(hwpt), "DIDs");
	{
		uint32_t id = hwpt2;

		CHECK_OK(iommufd_device_replace(a.idev, IOMMU_NO_PASID, &id));
	}
	pe_read(&a, 0, pe);
	TAP_CHECK_EQ(pe[1], hwpt_did(hwpt2), "DID after replace");
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 0x1800, in, 16, false);
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	pe_read(&a, 0, pe);
	TAP_CHECK_EQ(pe[0] & PE0_P, 0, "not present after detach");
	dma_fault(&a, IOMMU_NO_PASID, IOVA, 16, false, -EIO, VTD_FR_PTE_NP, 0, IOVA);
	vdev_free(&a);
	vdev_free(&b);
	vtd_teardown();
}

/* ------------------------------------------------------------------ */
/* A guest: RAM mapped by IOAS_MAP at GRAM_IPA, its first stage there  */

#define GRAM_IPA  0x40000000ULL
#define GRAM_SIZE 0x200000ULL
#define TBL_SIZE  0x100000ULL /* first half: first-stage tables; then data */
#define DATA_OFF  0x180000ULL

struct guest {
	uint8_t *base, *ram;
	struct pt_arena tables;
	struct pt_table s1;
};

static void guest_init(struct guest *g, uint32_t ioas)
{
	struct pt_cfg c = {.format = PT_X86, .ias = 48, .oas = 48};

	/* Never 2 MiB aligned: the IOAS maps it with 4K leaves (dirty bits per page). */
	g->base = zpages(GRAM_SIZE + PAGE_SIZE);
	g->ram = g->base + (((uintptr_t)g->base & (HUGEPAGE_SIZE - 1)) ? 0 : PAGE_SIZE);
	ioas_map_fixed(ioas, g->ram, GRAM_SIZE, GRAM_IPA);
	TAP_CHECK(!pt_cfg_init(&c), "s1 cfg");
	TAP_CHECK(!pt_arena_init_at(&g->tables, GRAM_IPA, TBL_SIZE, g->ram), "guest arena");
	TAP_CHECK(!pt_table_init(&g->s1, &c, &g->tables.mem), "guest s1");
}

static void guest_map(struct guest *g, uint64_t iova, uint64_t gpa, unsigned int prot)
{
	TAP_CHECK(!pt_map(&g->s1, iova, gpa, PAGE_SIZE, prot | PT_PROT_U), "guest map 0x%llx",
		  (unsigned long long)iova);
}

static void guest_unmap(struct guest *g, uint64_t iova)
{
	TAP_CHECK(!pt_unmap(&g->s1, iova, PAGE_SIZE, NULL), "guest unmap");
}

/*
 * For device @dev_id: a NEST_PARENT HWPT of @ioas (its ID in *@parent,
 * unless NULL) and over it @g's first stage as a PASID-capable nested
 * HWPT whose faults go to @fault_id: the nested HWPT's ID.
 */
static uint32_t guest_fault_hwpt(uint32_t dev_id, uint32_t ioas, const struct guest *g,
				 uint32_t fault_id, uint32_t *parent)
{
	struct iommu_hwpt_vtd_s1 s1 = {.addr_width = 48, .pgtbl_addr = g->s1.root};
	uint32_t p = hwpt_alloc(dev_id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT), nested;

	CHECK_OK(_hwpt_alloc_data(dev_id, p, IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID,
				  fault_id, IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1), &nested));
	if (parent)
		*parent = p;
	return nested;
}

static void guest_destroy(struct guest *g)
{
	pt_table_destroy(&g->s1);
	pt_arena_destroy(&g->tables);
	munmap(g->base, GRAM_SIZE + PAGE_SIZE);
}

static int _nested_alloc(uint32_t dev, uint32_t parent, const void *data, uint32_t len,
			 uint32_t flags, uint32_t *id)
{
	return _hwpt_alloc_data(dev, parent, flags, 0, IOMMU_HWPT_DATA_VTD_S1, data, len, id);
}

static uint32_t nested_alloc(uint32_t dev, uint32_t parent, struct iommu_hwpt_vtd_s1 s1)
{
	uint32_t id = 0;

	CHECK_OK(_nested_alloc(dev, parent, &s1, sizeof(s1), 0, &id));
	return id;
}

static int _inv(uint32_t hwpt, const void *reqs, uint32_t entry_len, uint32_t *n)
{
	return _hwpt_invalidate(hwpt, reqs, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, entry_len, n);
}

static void inv_ok(uint32_t hwpt, uint64_t addr, uint64_t npages, uint32_t flags)
{
	struct iommu_hwpt_vtd_s1_invalidate e = {.addr = addr, .npages = npages, .flags = flags};
	uint32_t n = 1;

	CHECK_OK(_inv(hwpt, &e, sizeof(e), &n));
	TAP_CHECK_EQ(n, 1, "entry_num");
}

/* ------------------------------------------------------------------ */
/* Nested HWPTs                                                       */

static void test_nested_rules(void *arg)
{
	struct iommu_hwpt_vtd_s1 s1 = {.addr_width = 48, .pgtbl_addr = GRAM_IPA};
	struct iommu_hwpt_arm_smmuv3 vste = {.ste = {0, 0}};
	uint32_t ioas, parent, plain, id;
	struct vtd_iommu_params p;
	uint8_t big[32] = {0};
	struct hwdev a;

	vtd_setup();
	a = vdev_new(SID_A);
	ioas = ioas_alloc();
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	plain = hwpt_alloc(a.id, ioas, 0);
	/* Another vendor's data: EOPNOTSUPP; a parent that is not NEST_PARENT: EINVAL. */
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc_data(a.id, parent, 0, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
						 &vste, sizeof(vste), &id));
	CHECK_ERRNO(EINVAL, _nested_alloc(a.id, plain, &s1, sizeof(s1), 0, &id));
	/*
	 * The blob: shorter or longer than the struct is EINVAL (reference
	 * iommufd.md §1). Linux 6.12's __iommu_copy_struct_from_user refuses
	 * len > sizeof before copy_struct_from_user runs, so a longer blob is
	 * EINVAL whatever its tail holds: zeros (no E2BIG either way).
	 */
	CHECK_ERRNO(EINVAL, _nested_alloc(a.id, parent, &s1, 16, 0, &id));
	memcpy(big, &s1, sizeof(s1));
	CHECK_ERRNO(EINVAL, _nested_alloc(a.id, parent, big, sizeof(big), 0, &id));
	big[sizeof(big) - 1] = 1;
	CHECK_ERRNO(EINVAL, _nested_alloc(a.id, parent, big, sizeof(big), 0, &id));
	big[sizeof(big) - 1] = 0;
	/* DIRTY_TRACKING is not a nested flag. */
	CHECK_ERRNO(EOPNOTSUPP, _nested_alloc(a.id, parent, &s1, sizeof(s1),
					      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &id));
	/* Fields are checked at attach (Linux 6.12 intel_pasid_setup_nested): EINVAL. */
	s1.addr_width = 39;
	id = nested_alloc(a.id, parent, s1);
	TAP_CHECK_EQ(vdev_attach(&a, IOMMU_NO_PASID, id), -EINVAL, "addr_width 39");
	CHECK_OK(_destroy(id));
	s1.addr_width = 57; /* needs CAP.FS5LP, off by default */
	id = nested_alloc(a.id, parent, s1);
	TAP_CHECK_EQ(vdev_attach(&a, IOMMU_NO_PASID, id), -EINVAL, "addr_width 57");
	CHECK_OK(_destroy(id));
	s1.addr_width = 48;
	s1.flags = IOMMU_VTD_S1_EAFE; /* needs ECAP.EAFS, off by default */
	id = nested_alloc(a.id, parent, s1);
	TAP_CHECK_EQ(vdev_attach(&a, IOMMU_NO_PASID, id), -EINVAL, "EAFE");
	CHECK_OK(_destroy(id));
	/* SRE + WPE: both in the entry; WPE alone is dropped. */
	s1.flags = IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_WPE;
	id = nested_alloc(a.id, parent, s1);
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, id));
	{
		uint64_t pe[8];

		pe_read(&a, 0, pe);
		TAP_CHECK_EQ(pe[0] & ~PTR_MASK, PE0_P | PE0_AW(2) | PE0_PGTT(3), "PGTT nested");
		TAP_CHECK_EQ(pe[1], hwpt_did(id), "nested DID");
		TAP_CHECK(hwpt_did(id) != hwpt_did(parent), "own DID");
		TAP_CHECK_EQ(pe[2], GRAM_IPA | PE2_SRE | PE2_WPE, "FSPTPTR, SRE, WPE");
		iommufd_device_detach(a.idev, IOMMU_NO_PASID);
		CHECK_OK(_destroy(id));
		s1.flags = IOMMU_VTD_S1_WPE;
		id = nested_alloc(a.id, parent, s1);
		CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, id));
		pe_read(&a, 0, pe);
		TAP_CHECK_EQ(pe[2], GRAM_IPA, "WPE without SRE");
		iommufd_device_detach(a.idev, IOMMU_NO_PASID);
		CHECK_OK(_destroy(id));
	}
	vdev_free(&a);
	vtd_teardown();

	/* With FS5LP and EAFS the same requests are accepted; without NEST, no parent. */
	vtd_iommu_params_default(&p);
	p.hw.fs5lp = true;
	p.hw.eafs = true;
	vtd_setup_p(&p);
	a = vdev_new(SID_A);
	ioas = ioas_alloc();
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	s1 = (struct iommu_hwpt_vtd_s1){
		.addr_width = 57, .flags = IOMMU_VTD_S1_EAFE, .pgtbl_addr = GRAM_IPA};
	id = nested_alloc(a.id, parent, s1);
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, id));
	{
		uint64_t pe[8];

		pe_read(&a, 0, pe);
		TAP_CHECK_EQ(pe[2], GRAM_IPA | 1ULL << 2 | PE2_EAFE, "FSPM 5-level, EAFE");
	}
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	vdev_free(&a);
	vtd_teardown();
	vtd_iommu_params_default(&p);
	p.hw.nest = false;
	vtd_setup_p(&p);
	a = vdev_new(SID_A);
	ioas = ioas_alloc();
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &id));
	vdev_free(&a);
	vtd_teardown();
}

static void test_nested_dma(void *arg)
{
	uint32_t ioas, parent, nested;
	struct guest g;
	uint8_t buf[16];
	struct hwdev a;

	vtd_setup();
	a = vdev_new(SID_A);
	ioas = ioas_alloc();
	guest_init(&g, ioas);
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	nested =
		nested_alloc(a.id, parent,
			     (struct iommu_hwpt_vtd_s1){.addr_width = 48, .pgtbl_addr = g.s1.root});
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, nested));

	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF, PT_PROT_RW);
	guest_map(&g, 0x11000, GRAM_IPA + DATA_OFF + 0x1000, PT_PROT_RW);
	guest_map(&g, 0x12000, GRAM_IPA + DATA_OFF + 0x2000, PT_PROT_R);
	memcpy(buf, "through stage 1", 16);
	dma_ok(&a, IOMMU_NO_PASID, 0x10ff8, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0xff8, buf, 16), "bytes in guest RAM");
	/* First-stage faults: not present (0x71), read-only (0x85). */
	dma_fault(&a, IOMMU_NO_PASID, 0x20000, 4, true, -EFAULT, VTD_FR_FS_NP, 0, 0x20000);
	dma_fault(&a, IOMMU_NO_PASID, 0x12000, 4, true, -EFAULT, VTD_FR_SM_WRITE, 0, 0x12000);
	/* A GPA the IOAS does not map: the second stage refuses (0x05 for a write). */
	guest_map(&g, 0x40000, 0x10000000, PT_PROT_RW);
	dma_fault(&a, IOMMU_NO_PASID, 0x40000, 4, true, -EFAULT, VTD_FR_SM_WRITE, 0, 0x40000);

	/* The guest moves 0x10000: stale until it invalidates (the wrong range first). */
	guest_unmap(&g, 0x10000);
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF + 0x3000, PT_PROT_RW);
	memcpy(buf, "stale translate", 16);
	dma_ok(&a, IOMMU_NO_PASID, 0x10100, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x100, buf, 16), "old page until invalidated");
	inv_ok(nested, 0x30000, 1, IOMMU_VTD_INV_FLAGS_LEAF);
	dma_ok(&a, IOMMU_NO_PASID, 0x10100, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x100, buf, 16), "another page's invalidation");
	inv_ok(nested, 0x10000, 1, IOMMU_VTD_INV_FLAGS_LEAF);
	memcpy(buf, "after P_IOTLB...", 16);
	dma_ok(&a, IOMMU_NO_PASID, 0x10100, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x3100, buf, 16), "new page");
	/* Everything: addr 0, npages U64_MAX. */
	guest_unmap(&g, 0x10000);
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF + 0x4000, PT_PROT_RW);
	inv_ok(nested, 0, UINT64_MAX, 0);
	dma_ok(&a, IOMMU_NO_PASID, 0x10200, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x4200, buf, 16), "after invalidate-all");

	/* The host unmaps guest memory: nested translations over it are gone too. */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 0x50000000);
	guest_map(&g, 0x13000, 0x50000000, PT_PROT_RW);
	dma_ok(&a, IOMMU_NO_PASID, 0x13000, buf, 16, false);
	ioas_unmap(ioas, 0x50000000, PAGE_SIZE);
	dma_fault(&a, IOMMU_NO_PASID, 0x13000, 4, false, -EFAULT, VTD_FR_SM_READ, 0, 0x13000);

	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	vdev_free(&a);
	vtd_teardown();
	guest_destroy(&g);
}

static void test_invalidate(void *arg)
{
	struct iommu_hwpt_vtd_s1_invalidate e[3];
	uint32_t ioas, parent, nested, n;
	struct hwdev a;

	vtd_setup();
	a = vdev_new(SID_A);
	ioas = ioas_alloc();
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	nested = nested_alloc(a.id, parent,
			      (struct iommu_hwpt_vtd_s1){.addr_width = 48, .pgtbl_addr = GRAM_IPA});
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, nested));
	memset(e, 0, sizeof(e));
	e[0] = (struct iommu_hwpt_vtd_s1_invalidate){.addr = 0x1000, .npages = 2};
	e[1] = (struct iommu_hwpt_vtd_s1_invalidate){
		.addr = 0x8000, .npages = 1, .flags = IOMMU_VTD_INV_FLAGS_LEAF};
	/* All good. */
	n = 2;
	CHECK_OK(_inv(nested, e, sizeof(e[0]), &n));
	TAP_CHECK_EQ(n, 2, "entry_num");
	/* The third refused: entry_num 2, and each reason's errno. */
	e[2] = (struct iommu_hwpt_vtd_s1_invalidate){.addr = 0x1000, .npages = 1, .flags = 2};
	n = 3;
	CHECK_ERRNO(EOPNOTSUPP, _inv(nested, e, sizeof(e[0]), &n));
	TAP_CHECK_EQ(n, 2, "entry_num, unknown flag");
	e[2] = (struct iommu_hwpt_vtd_s1_invalidate){.addr = 0x1000, .npages = 1, .__reserved = 1};
	n = 3;
	CHECK_ERRNO(EOPNOTSUPP, _inv(nested, e, sizeof(e[0]), &n));
	TAP_CHECK_EQ(n, 2, "entry_num, reserved");
	e[2] = (struct iommu_hwpt_vtd_s1_invalidate){.addr = 0x1800, .npages = 1};
	n = 3;
	CHECK_ERRNO(EINVAL, _inv(nested, e, sizeof(e[0]), &n));
	TAP_CHECK_EQ(n, 2, "entry_num, unaligned");
	e[2] = (struct iommu_hwpt_vtd_s1_invalidate){.addr = 0x1000, .npages = UINT64_MAX};
	n = 3;
	CHECK_ERRNO(EINVAL, _inv(nested, e, sizeof(e[0]), &n));
	TAP_CHECK_EQ(n, 2, "entry_num, U64_MAX with an address");
	/* Another data type: EINVAL with nothing done. */
	n = 1;
	CHECK_ERRNO(EINVAL, _hwpt_invalidate(nested, e, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
					     sizeof(e[0]), &n));
	TAP_CHECK_EQ(n, 0, "entry_num, wrong type");
	/* Entries longer or shorter than the struct: EINVAL, nothing done. */
	{
		uint8_t big[2][32] = {{0}};

		memcpy(big[0], &e[0], sizeof(e[0]));
		memcpy(big[1], &e[1], sizeof(e[1]));
		n = 2;
		CHECK_ERRNO(EINVAL, _inv(nested, big, 32, &n));
		TAP_CHECK_EQ(n, 0, "entry_num, 32-byte entries");
		/* A non-zero tail is EINVAL too (6.12 checks the length first), not E2BIG. */
		big[0][31] = 0xff;
		n = 2;
		CHECK_ERRNO(EINVAL, _inv(nested, big, 32, &n));
		TAP_CHECK_EQ(n, 0, "entry_num, 32-byte entries with a non-zero tail");
		n = 1;
		CHECK_ERRNO(EINVAL, _inv(nested, e, 16, &n));
		TAP_CHECK_EQ(n, 0, "entry_num, short entries");
	}
	/* A paging HWPT takes no invalidation array. */
	n = 1;
	CHECK_ERRNO(EINVAL, _inv(parent, e, sizeof(e[0]), &n));
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	vdev_free(&a);
	vtd_teardown();
}

/* ------------------------------------------------------------------ */
/* Dirty tracking                                                     */

static void test_dirty(void *arg)
{
	struct vtd_dev_params np = {.sid = SID_B, .no_dirty = true};
	uint8_t x[8] = "dirtyyy";
	uint32_t ioas, hwpt, plain;
	struct hwdev a, b;
	uint64_t pe[8];

	vtd_setup();
	a = vdev_new(SID_A);
	b = vdev_new_p(&np);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, IOVA);
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc(b.id, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt));
	hwpt = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	TAP_CHECK_EQ(vdev_attach(&b, IOMMU_NO_PASID, hwpt), -EINVAL,
		     "no_dirty device on a tracking domain");
	plain = hwpt_alloc(a.id, ioas, 0);
	CHECK_ERRNO(EOPNOTSUPP, _set_dirty_tracking(plain, true));
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, hwpt));
	pe_read(&a, 0, pe);
	TAP_CHECK_EQ(pe[0] & PE0_SSADE, 0, "SSADE off until tracking starts");

	dma_ok(&a, IOMMU_NO_PASID, IOVA + 2 * PAGE_SIZE, x, sizeof(x), true);
	CHECK_OK(_set_dirty_tracking(hwpt, true));
	pe_read(&a, 0, pe);
	TAP_CHECK_EQ(pe[0] & PE0_SSADE, PE0_SSADE, "SSADE on");
	bitmap_expect(hwpt, IOVA, 16, 0, 0);
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 1 * PAGE_SIZE + 8, x, sizeof(x), true);
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 6 * PAGE_SIZE - 4, x, sizeof(x), true);
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 9 * PAGE_SIZE, x, sizeof(x), false);
	bitmap_expect(hwpt, IOVA, 16, 1u << 1 | 1u << 5 | 1u << 6, 0);
	bitmap_expect(hwpt, IOVA, 16, 0, 0);
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 1 * PAGE_SIZE, x, sizeof(x), true);
	bitmap_expect(hwpt, IOVA, 16, 1u << 1, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	bitmap_expect(hwpt, IOVA + 4 * PAGE_SIZE, 4, 0, 0);
	bitmap_expect(hwpt, IOVA, 16, 1u << 1, 0);
	bitmap_expect(hwpt, IOVA, 16, 0, 0);
	/* Off: SSADE clear, writes leave no trace. */
	CHECK_OK(_set_dirty_tracking(hwpt, false));
	pe_read(&a, 0, pe);
	TAP_CHECK_EQ(pe[0] & PE0_SSADE, 0, "SSADE off");
	dma_ok(&a, IOMMU_NO_PASID, IOVA + 3 * PAGE_SIZE, x, sizeof(x), true);
	bitmap_expect(hwpt, IOVA, 16, 0, 0);
	TAP_CHECK(!memcmp((uint8_t *)buffer + PAGE_SIZE, x, sizeof(x)), "bytes");
	vdev_free(&a);
	vdev_free(&b);
	vtd_teardown();
}

/* A nesting parent that tracks: a write through the guest's first stage dirties its GPA. */
static void test_dirty_nested(void *arg)
{
	uint32_t ioas, parent, nested;
	uint8_t x[8] = "nesteddd";
	struct guest g;
	struct hwdev a;
	uint64_t pe[8], bitmap = 0;

	vtd_setup();
	a = vdev_new(SID_A);
	ioas = ioas_alloc();
	guest_init(&g, ioas);
	parent = hwpt_alloc(a.id, ioas,
			    IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	nested =
		nested_alloc(a.id, parent,
			     (struct iommu_hwpt_vtd_s1){.addr_width = 48, .pgtbl_addr = g.s1.root});
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, nested));
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF + 0x5000, PT_PROT_RW);
	CHECK_OK(_set_dirty_tracking(parent, true));
	pe_read(&a, 0, pe);
	TAP_CHECK_EQ(pe[0] & (PE0_SSADE | PE0_PGTT(7)), PE0_SSADE | PE0_PGTT(3),
		     "nested entry with SSADE");
	CHECK_OK(_get_dirty_bitmap(parent, GRAM_IPA + DATA_OFF, 64 * PAGE_SIZE, PAGE_SIZE, &bitmap,
				   0));
	dma_ok(&a, IOMMU_NO_PASID, 0x10010, x, sizeof(x), true);
	bitmap = 0;
	CHECK_OK(_get_dirty_bitmap(parent, GRAM_IPA + DATA_OFF, 64 * PAGE_SIZE, PAGE_SIZE, &bitmap,
				   0));
	TAP_CHECK_EQ(bitmap, 1ULL << 5, "the GPA the guest wrote");
	iommufd_device_detach(a.idev, IOMMU_NO_PASID);
	vdev_free(&a);
	vtd_teardown();
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* PASIDs                                                             */

static void test_pasid(void *arg)
{
	uint32_t ioas, hwpt, rid_hwpt, parent, nested;
	struct guest g;
	uint8_t buf[16];
	struct hwdev a;
	uint64_t pe[8];

	vtd_setup();
	a = vdev_new(SID_A);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, IOVA);
	guest_init(&g, ioas);
	rid_hwpt = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_PASID);
	hwpt = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_PASID);
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, rid_hwpt));
	CHECK_OK(vdev_attach(&a, 5, hwpt));
	pe_read(&a, 5, pe);
	TAP_CHECK_EQ(pe[1], hwpt_did(hwpt), "PASID 5 DID");
	memcpy(buf, "with a PASID....", 16);
	dma_ok(&a, 5, IOVA + 0x100, buf, 16, true);
	TAP_CHECK(!memcmp((uint8_t *)buffer + 0x100, buf, 16), "bytes");
	/* A PASID nobody attached: its entry is not present. */
	dma_fault(&a, 6, IOVA, 4, false, -EIO, VTD_FR_PTE_NP, 0, IOVA);
	/* Beyond the device's 8 bits: the core refuses the attach. */
	TAP_CHECK_EQ(vdev_attach(&a, 256, hwpt), -EINVAL, "PASID beyond the width");

	/* A nested domain on PASID 7. */
	parent = hwpt_alloc(a.id, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	{
		struct iommu_hwpt_vtd_s1 s1 = {.addr_width = 48, .pgtbl_addr = g.s1.root};

		CHECK_OK(_hwpt_alloc_data(a.id, parent, IOMMU_HWPT_ALLOC_PASID, 0,
					  IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1), &nested));
	}
	CHECK_OK(vdev_attach(&a, 7, nested));
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF, PT_PROT_RW);
	dma_ok(&a, 7, 0x10020, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x20, buf, 16), "nested PASID bytes");
	/* Its invalidation is P_IOTLB for PASID 7. */
	guest_unmap(&g, 0x10000);
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF + 0x1000, PT_PROT_RW);
	inv_ok(nested, 0x10000, 1, 0);
	dma_ok(&a, 7, 0x10020, buf, 16, true);
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x1020, buf, 16), "after invalidation");
	iommufd_device_detach(a.idev, 7);
	iommufd_device_detach(a.idev, 5);
	dma_fault(&a, 5, IOVA, 4, false, -EIO, VTD_FR_PTE_NP, 0, IOVA);
	vdev_free(&a);
	vtd_teardown();
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* IOPF: page requests to the fault queue, page group responses       */

struct dma_job {
	struct hwdev *d;
	uint32_t pasid;
	uint64_t iova;
	uint8_t buf[32];
	size_t len, done;
	bool write;
	int ret;
	struct iommu_dma_fault f;
	pthread_t th;
};

static void *dma_thread(void *arg)
{
	struct dma_job *j = arg;

	j->ret = dma(j->d, j->pasid, j->iova, j->buf, j->len, j->write, &j->done, &j->f);
	return NULL;
}

static void job_start(struct dma_job *j, struct hwdev *d, uint32_t pasid, uint64_t iova, size_t len,
		      bool write)
{
	*j = (struct dma_job){.d = d, .pasid = pasid, .iova = iova, .len = len, .write = write};
	for (size_t i = 0; i < len; i++)
		j->buf[i] = (uint8_t)(0xc0 + i);
	TAP_CHECK(!pthread_create(&j->th, NULL, dma_thread, j), "pthread_create");
}

static void fault_respond(int fd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response r = {.cookie = cookie, .code = code};

	TAP_CHECK_EQ(uiommu_write(fd_file(fd), &r, sizeof(r)), sizeof(r), "response");
}

static void iopf_setup(void)
{
	struct vtd_iommu_params p;

	vtd_iommu_params_default(&p);
	p.hw.ats = p.hw.prs = true;
	vtd_setup_p(&p);
}

static struct hwdev vdev_pcie(uint16_t sid, bool ats, bool pri)
{
	struct vtd_dev_params p = {
		.sid = sid, .is_pci = true, .pasid_bits = 8, .ats = ats, .pri = pri};

	return vdev_new_p(&p);
}

/*
 * Which devices take a HWPT with a fault queue: Linux 6.12 enables IOPF
 * at attach (iommufd_fault_iopf_enable -> intel_iommu_enable_iopf), ENODEV
 * without PRI, ATS or PCI; the HWPT itself allocates.
 */
static void test_iopf_errno(void *arg)
{
	uint32_t ioas, parent, nested, paging, fault_id;
	struct vtd_dev_params np = {.sid = SID_B + 1, .pasid_bits = 8, .ats = true, .pri = true};
	struct hwdev a, b, c, d;
	struct guest g;
	int ffd;

	iopf_setup();
	a = vdev_pcie(SID_A, true, true);
	b = vdev_pcie(SID_B, true, false);
	c = vdev_pcie(SID_B + 2, false, false);
	d = vdev_new_p(&np); /* ATS and PRI, not PCI */
	ioas = ioas_alloc();
	guest_init(&g, ioas);
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	nested = guest_fault_hwpt(a.id, ioas, &g, fault_id, &parent);
	CHECK_OK(_hwpt_alloc_data(a.id, ioas, IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID,
				  fault_id, IOMMU_HWPT_DATA_NONE, NULL, 0, &paging));
	/* A fault queue on a nesting parent: EOPNOTSUPP (the core). */
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_alloc_data(a.id, ioas,
				     IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_NEST_PARENT,
				     fault_id, IOMMU_HWPT_DATA_NONE, NULL, 0, &(uint32_t){0}));
	TAP_CHECK_EQ(vdev_attach(&b, 5, nested), -ENODEV, "ATS without PRI");
	TAP_CHECK_EQ(vdev_attach(&c, 5, nested), -ENODEV, "no ATS");
	TAP_CHECK_EQ(vdev_attach(&d, 5, nested), -ENODEV, "not PCI");
	TAP_CHECK_EQ(vdev_attach(&b, IOMMU_NO_PASID, paging), -ENODEV, "paging, no PRI");
	/* The failed attaches left the devices blocked and usable. */
	CHECK_OK(vdev_attach(&b, IOMMU_NO_PASID, parent));
	CHECK_OK(vdev_attach(&a, 5, nested));
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, paging));
	iommufd_device_detach(a.idev, 5);
	vdev_free(&a);
	vdev_free(&b);
	vdev_free(&c);
	vdev_free(&d);
	CHECK_OK(fd_close(ffd));
	guest_destroy(&g);
	vtd_teardown();

	/* A unit without PRS: no device has PRI to enable. */
	{
		struct vtd_iommu_params p;

		vtd_iommu_params_default(&p);
		p.hw.ats = true;
		vtd_setup_p(&p);
	}
	a = vdev_pcie(SID_A, true, true);
	ioas = ioas_alloc();
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	CHECK_OK(_hwpt_alloc_data(a.id, ioas, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, &paging));
	TAP_CHECK_EQ(vdev_attach(&a, IOMMU_NO_PASID, paging), -ENODEV, "no ECAP.PRS");
	vdev_free(&a);
	CHECK_OK(fd_close(ffd));
	vtd_teardown();
}

/*
 * A nested HWPT with a fault queue on a PASID: the guest's missing page
 * is a page request; the fault fd gives its fields; the guest maps it and
 * answers SUCCESS, the device retries and the DMA completes. INVALID ends
 * the DMA. A request without PASID (the RID) is refused by the driver,
 * as Linux's prq.c does. The guest's invalidation reaches the ATC.
 */
static void test_iopf_nested(void *arg)
{
	struct vtd_iommu_stats st0, st1;
	uint32_t ioas, nested, fault_id;
	struct iommu_hwpt_pgfault pf;
	struct dma_job j;
	struct guest g;
	struct hwdev a;
	int ffd;

	iopf_setup();
	a = vdev_pcie(SID_A, true, true);
	ioas = ioas_alloc();
	guest_init(&g, ioas);
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	nested = guest_fault_hwpt(a.id, ioas, &g, fault_id, NULL);
	CHECK_OK(vdev_attach(&a, 5, nested));
	guest_map(&g, 0x10000, GRAM_IPA + DATA_OFF, PT_PROT_RW);
	vtd_iommu_get_stats(vtd, &st0);

	/* A write to a page the guest has not mapped: one page request. */
	job_start(&j, &a, 5, 0x21010, 16, true);
	fault_wait(ffd, &pf);
	/* 6.12 copies the kernel's flags: NEEDS_PASID (bit 2) shows with PASID_VALID. */
	TAP_CHECK_EQ(pf.flags,
		     IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE | 1u << 2,
		     "flags");
	TAP_CHECK_EQ(pf.dev_id, a.id, "dev_id");
	TAP_CHECK_EQ(pf.pasid, 5, "pasid");
	TAP_CHECK_EQ(pf.addr, 0x21000, "page address");
	TAP_CHECK_EQ(pf.perm, IOMMU_PGFAULT_PERM_WRITE, "perm: a user write");
	TAP_CHECK(pf.grpid < 512, "PRG index");
	TAP_CHECK(pf.cookie, "cookie");
	/* The guest maps it; SUCCESS: the device asks again and the DMA completes. */
	guest_map(&g, 0x21000, GRAM_IPA + DATA_OFF + 0x1000, PT_PROT_RW);
	fault_respond(ffd, pf.cookie, IOMMUFD_PAGE_RESP_SUCCESS);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.ret, 0, "DMA after the response");
	TAP_CHECK_EQ(j.done, 16, "bytes");
	TAP_CHECK(!memcmp(g.ram + DATA_OFF + 0x1010, j.buf, 16), "bytes in the new page");
	TAP_CHECK(vtd_ep_atc_count(vtd_iommu_dev_ep(a.udev)) > 0, "the ATC holds it");

	/* INVALID: the access fails, nothing moves. */
	job_start(&j, &a, 5, 0x30000, 8, false);
	fault_wait(ffd, &pf);
	TAP_CHECK_EQ(pf.perm, IOMMU_PGFAULT_PERM_READ, "read perm");
	TAP_CHECK_EQ(pf.addr, 0x30000, "read page");
	fault_respond(ffd, pf.cookie, IOMMUFD_PAGE_RESP_INVALID);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.ret, -EFAULT, "failed");
	TAP_CHECK_EQ(j.done, 0, "nothing moved");
	vtd_iommu_get_stats(vtd, &st1);
	TAP_CHECK_EQ(st1.prq_reqs - st0.prq_reqs, 2, "two page request descriptors");
	TAP_CHECK_EQ(st1.iopfs - st0.iopfs, 2, "both to the fault queue");
	TAP_CHECK_EQ(st1.prq_overflows, 0, "no overflow");

	/* The guest invalidates: P_IOTLB and the PASID-based device-TLB empty the ATC. */
	inv_ok(nested, 0x21000, 1, 0);
	TAP_CHECK_EQ(vtd_ep_atc_count(vtd_iommu_dev_ep(a.udev)), 0, "ATC invalidated");
	{
		uint8_t buf[16];

		dma_ok(&a, 5, 0x21010, buf, 16, false);
		for (unsigned int i = 0; i < 16; i++)
			TAP_CHECK_EQ(buf[i], 0xc0 + i, "read back through a fresh translation");
	}

	/* The RID on the same HWPT: its requests carry no PASID and are refused. */
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, nested));
	dma_fault(&a, IOMMU_NO_PASID, 0x40000, 4, true, -EFAULT, VTD_FR_FS_NP, 0, 0x40000);
	vtd_iommu_get_stats(vtd, &st0);
	TAP_CHECK_EQ(st0.prq_denied - st1.prq_denied, 1, "refused by the driver");
	TAP_CHECK_EQ(st0.iopfs, st1.iopfs, "nothing queued");

	/* Detaching the PASID answers the outstanding group: the waiting DMA ends. */
	job_start(&j, &a, 5, 0x50000, 8, true);
	fault_wait(ffd, &pf);
	iommufd_device_detach(a.idev, 5);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.ret, -EFAULT, "ended by detach");

	vdev_free(&a);
	CHECK_OK(fd_close(ffd));
	guest_destroy(&g);
	vtd_teardown();
}

static struct pcie_ep_stats vtd_ep_stats(struct hwdev *d)
{
	struct pcie_ep_stats st;

	vtd_ep_get_stats(vtd_iommu_dev_ep(d->udev), &st);
	return st;
}

/* Multi-page Page Request Groups: the pattern their FILLs write (dt_fill_start()). */
#define PRG_FILL 0xfedcba9876543210ULL

/* One group's records: pages @addrs in order, PASID 5, a user write, LAST_PAGE on the last. */
static void group_check(const struct iommu_hwpt_pgfault *pf, unsigned int n, const uint64_t *addrs,
			unsigned int want, uint32_t dev_id)
{
	const uint32_t flags = IOMMU_PGFAULT_FLAGS_PASID_VALID | 1u << 2; /* + NEEDS_PASID */

	TAP_CHECK_EQ(n, want, "records in the group");
	for (unsigned int k = 0; k < n && k < want; k++) {
		TAP_CHECK_EQ(pf[k].addr, addrs[k], "record %u: page", k);
		TAP_CHECK_EQ(pf[k].flags, flags | (k + 1 == n ? IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0),
			     "record %u: flags, LAST_PAGE on the last only", k);
		TAP_CHECK_EQ(pf[k].pasid, 5, "record %u: pasid", k);
		TAP_CHECK_EQ(pf[k].perm, IOMMU_PGFAULT_PERM_WRITE, "record %u: perm", k);
		TAP_CHECK_EQ(pf[k].dev_id, dev_id, "record %u: dev_id", k);
		TAP_CHECK_EQ(pf[k].grpid, pf[0].grpid, "record %u: one group index", k);
		TAP_CHECK_EQ(pf[k].cookie, pf[0].cookie, "record %u: one cookie", k);
	}
}

/*
 * A dmatest FILL with PASID 5 over guest pages, some not mapped: one page
 * request group names each page that faults (address order, LPIG on the
 * last), one page group response answers it and every byte lands; with an
 * Outstanding Page Request Allocation of 2, five pages take groups of 2,
 * 2 and 1.
 */
static void test_iopf_group(void *arg)
{
	uint32_t ioas, nested, fault_id;
	struct vtd_dev_params bp = {.sid = SID_B,
				    .is_pci = true,
				    .pasid_bits = 8,
				    .ats = true,
				    .pri = true,
				    .pri_alloc = 2};
	struct iommu_hwpt_pgfault pf[8];
	struct pcie_ep_stats e0, e1;
	struct dmatest *dt[2];
	struct hwdev d[2];
	struct dt_job j;
	struct guest g;
	unsigned int n;
	int ffd, err;

	iopf_setup();
	d[0] = vdev_pcie(SID_A, true, true);
	d[1] = vdev_new_p(&bp);
	ioas = ioas_alloc();
	guest_init(&g, ioas);
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	nested = guest_fault_hwpt(d[0].id, ioas, &g, fault_id, NULL);
	for (unsigned int i = 0; i < 2; i++) {
		CHECK_OK(vdev_attach(&d[i], 5, nested));
		dt[i] = dmatest_create(d[i].udev, NULL, &err);
		TAP_CHECK(dt[i], "dmatest_create: %d", err);
		dt_enable(dt[i]);
		cfg_wr(dt[i], DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2, PCI_PASID_CTRL_ENABLE);
		reg_wr(dt[i], DMATEST_REG_PASID, 4, 5 | DMATEST_PASID_VALID);
	}

	/* 0x60000, 0x62000 mapped: a FILL of 0x60800..0x64800 asks for 0x61000, 0x63000, 0x64000 */
	guest_map(&g, 0x60000, GRAM_IPA + DATA_OFF, PT_PROT_RW);
	guest_map(&g, 0x62000, GRAM_IPA + DATA_OFF + 0x2000, PT_PROT_RW);
	e0 = vtd_ep_stats(&d[0]);
	dt_fill_start(&j, dt[0], 0x60800, 0x4000, PRG_FILL);
	n = group_read(ffd, pf, 8);
	{
		const uint64_t want[] = {0x61000, 0x63000, 0x64000};

		group_check(pf, n, want, 3, d[0].id);
	}
	TAP_CHECK_EQ(uiommu_read(fd_file(ffd), pf + 4, sizeof(pf[0])), 0, "one group only");
	guest_map(&g, 0x61000, GRAM_IPA + DATA_OFF + 0x1000, PT_PROT_RW);
	guest_map(&g, 0x63000, GRAM_IPA + DATA_OFF + 0x3000, PT_PROT_RW);
	guest_map(&g, 0x64000, GRAM_IPA + DATA_OFF + 0x4000, PT_PROT_RW);
	fault_respond(ffd, pf[0].cookie, IOMMUFD_PAGE_RESP_SUCCESS);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.st, DMATEST_STATUS_DONE, "FILL done after one response");
	for (size_t i = 0; i < 0x4000; i++) {
		if (g.ram[DATA_OFF + 0x800 + i] != (uint8_t)(PRG_FILL >> (8 * (i % 8)))) {
			TAP_CHECK(false, "byte 0x%zx of the FILL", i);
			break;
		}
	}
	e1 = vtd_ep_stats(&d[0]);
	TAP_CHECK_EQ(e1.prgs - e0.prgs, 1, "one group");
	TAP_CHECK_EQ(e1.page_reqs - e0.page_reqs, 3, "three page requests");

	/* INVALID fails the FILL at its first page. */
	dt_fill_start(&j, dt[0], 0x70000, 0x2000, PRG_FILL);
	n = group_read(ffd, pf, 8);
	{
		const uint64_t want[] = {0x70000, 0x71000};

		group_check(pf, n, want, 2, d[0].id);
	}
	fault_respond(ffd, pf[0].cookie, IOMMUFD_PAGE_RESP_INVALID);
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(status_err(j.st), DMATEST_ERR_DMA_FAULT, "FILL failed");
	TAP_CHECK_EQ(reg_rd(dt[0], DMATEST_REG_DONE_BYTES, 4), 0, "nothing moved");
	TAP_CHECK_EQ(reg_rd(dt[0], DMATEST_REG_FAULT_IOVA, 8), 0x70000, "FAULT_IOVA");

	/* Allocation 2: five pages in groups of 2, 2, 1, each after the last one's response. */
	e0 = vtd_ep_stats(&d[1]);
	dt_fill_start(&j, dt[1], 0x80000, 0x5000, PRG_FILL);
	for (unsigned int grp = 0, page = 0; grp < 3; grp++) {
		const uint64_t want[2] = {0x80000 + page * 0x1000ULL, 0x81000 + page * 0x1000ULL};
		unsigned int cnt = grp < 2 ? 2 : 1;

		n = group_read(ffd, pf, 8);
		group_check(pf, n, want, cnt, d[1].id);
		for (unsigned int k = 0; k < cnt; k++)
			guest_map(&g, want[k],
				  GRAM_IPA + DATA_OFF + 0x10000 + (page + k) * 0x1000ULL,
				  PT_PROT_RW);
		fault_respond(ffd, pf[0].cookie, IOMMUFD_PAGE_RESP_SUCCESS);
		page += cnt;
	}
	pthread_join(j.th, NULL);
	TAP_CHECK_EQ(j.st, DMATEST_STATUS_DONE, "FILL done after three groups");
	TAP_CHECK_EQ(g.ram[DATA_OFF + 0x14fff], (uint8_t)(PRG_FILL >> 56), "last byte");
	e1 = vtd_ep_stats(&d[1]);
	TAP_CHECK_EQ(e1.prgs - e0.prgs, 3, "three groups");
	TAP_CHECK_EQ(e1.page_reqs - e0.page_reqs, 5, "five page requests");
	TAP_CHECK_EQ(e1.prg_max_outstanding, 2, "never more than the allocation outstanding");

	for (unsigned int i = 0; i < 2; i++) {
		dmatest_destroy(dt[i]);
		iommufd_device_detach(d[i].idev, 5);
		vdev_free(&d[i]);
	}
	CHECK_OK(fd_close(ffd));
	guest_destroy(&g);
	vtd_teardown();
}

/*
 * Page request queue overflow in the middle of a group: the descriptors
 * that fit are written, the rest (LPIG among them) dropped with PRO set
 * and the dropped LPIG answered by the unit. The driver reports what was
 * written, then drops the device's partial groups before clearing PRO
 * (Linux: iopf_queue_discard_partial): a later group with the same index
 * stands alone. The requests are the endpoint's messages sent by hand
 * (vtd_page_request) into the driver's queue of 128 descriptors.
 */
static void test_prq_overflow_group(void *arg)
{
	struct vtd_page_req pr = {
		.sid = SID_A, .pasid_valid = true, .pasid = 5, .write = true, .prgi = 9};
	uint32_t ioas, nested, fault_id;
	struct iommu_hwpt_pgfault pf[2];
	struct vtd_iommu_stats st;
	struct guest g;
	struct hwdev a;
	unsigned int k;
	int ffd;

	iopf_setup();
	a = vdev_pcie(SID_A, true, true);
	ioas = ioas_alloc();
	guest_init(&g, ioas);
	CHECK_OK(_fault_alloc(&fault_id, &ffd));
	nested = guest_fault_hwpt(a.id, ioas, &g, fault_id, NULL);
	CHECK_OK(vdev_attach(&a, 5, nested));

	/* 127 descriptors fill the queue; the 128th, the group's last, is dropped. */
	for (k = 0; k < 128; k++) {
		pr.addr = 0x100000 + k * 0x1000ULL;
		pr.last = k == 127;
		if (vtd_page_request(vtd_iommu_hw(vtd), &pr) != (k < 127 ? 0 : -ENOSPC))
			break;
	}
	TAP_CHECK_EQ(k, 128, "127 written, the last dropped");
	vtd_iommu_process_prq(vtd);
	vtd_iommu_get_stats(vtd, &st);
	TAP_CHECK_EQ(st.prq_overflows, 1, "PRO seen");
	TAP_CHECK_EQ(st.iopfs, 127, "127 requests to the fault queue");
	TAP_CHECK_EQ(uiommu_read(fd_file(ffd), pf, sizeof(pf)), 0, "no complete group");

	/* The device asks again under index 9: a group of its own. */
	pr.addr = 0x300000;
	pr.last = true;
	TAP_CHECK_EQ(vtd_page_request(vtd_iommu_hw(vtd), &pr), 0, "written after PRO cleared");
	vtd_iommu_process_prq(vtd);
	TAP_CHECK_EQ(uiommu_read(fd_file(ffd), pf, sizeof(pf)), sizeof(pf[0]),
		     "one record: the stale partial group was dropped");
	TAP_CHECK_EQ(pf[0].addr, 0x300000, "its page");
	TAP_CHECK_EQ(pf[0].grpid, 9, "its index");
	fault_respond(ffd, pf[0].cookie, IOMMUFD_PAGE_RESP_INVALID);

	iommufd_device_detach(a.idev, 5);
	vdev_free(&a);
	CHECK_OK(fd_close(ffd));
	guest_destroy(&g);
	vtd_teardown();
}

/* ------------------------------------------------------------------ */
/* dmatest behind VT-d                                                */

static void test_dmatest(void *arg)
{
	struct vtd_iommu_stats st0, st1;
	uint32_t ioas, hwpt;
	struct dmatest *dt;
	struct hwdev a;
	int err;

	vtd_setup();
	a = vdev_new(SID_A);
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, IOVA);
	hwpt = hwpt_alloc(a.id, ioas, 0);
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, hwpt));
	dt = dmatest_create(a.udev, NULL, &err);
	TAP_CHECK(dt, "dmatest_create: %d", err);
	dt_enable(dt);
	dt_check_copy(dt, buffer, IOVA, PAGE_SIZE);
	vtd_iommu_get_stats(vtd, &st0);
	dt_check_read_fault(dt, IOVA, IOVA + BUFFER_SIZE, VTD_FR_SM_READ);
	/* The driver consumed the fault record. */
	vtd_iommu_get_stats(vtd, &st1);
	TAP_CHECK_EQ(st1.faults - st0.faults, 1, "one fault record");
	dmatest_destroy(dt);
	vdev_free(&a);
	vtd_teardown();
}

/* ------------------------------------------------------------------ */
/* Devices                                                            */

static void test_devices(void *arg)
{
	struct vtd_dev_params p = {.sid = SID_A};
	struct udev *u;
	int err;

	vtd_setup();
	u = vtd_iommu_dev_create(vtd, &p, &err);
	TAP_CHECK(u, "create");
	TAP_CHECK(!vtd_iommu_dev_create(vtd, &p, &err) && err == -EEXIST, "SID taken");
	p.sid = SID_B;
	p.pasid_bits = 21;
	TAP_CHECK(!vtd_iommu_dev_create(vtd, &p, &err) && err == -EINVAL, "PASID bits");
	/* A device at devfn >= 128 (the root entry's upper half). */
	p.sid = 0x0381;
	p.pasid_bits = 20;
	{
		struct udev *hi = vtd_iommu_dev_create(vtd, &p, &err);

		TAP_CHECK(hi, "upper half");
		TAP_CHECK(vtd_iommu_dev_is_ours(hi), "ours");
		vtd_iommu_dev_destroy(hi);
	}
	vtd_iommu_dev_destroy(u);
	vtd_teardown();
}

/* ------------------------------------------------------------------ */
/* DMA while the PASID entry and the mappings change                  */

#define CONC_ROUNDS 150

/*
 * hwdev_conc.h's readers while the device flips between two HWPTs of the
 * same IOAS, reading on until the main thread has done its rounds. A read
 * is blocked by a PASID entry that is not present (the replace's window:
 * 0x59, -EIO); an unmapped page is refused by the second stage (0x06,
 * -EFAULT).
 */
static void test_concurrent(void *arg)
{
	struct hwdev_conc h = { .iova = IOVA,
				.blocked_reason = { VTD_FR_PTE_NP, VTD_FR_PTE_NP },
				.unmapped_reason = VTD_FR_SM_READ,
				.until_stop = true,
				.blocked_name = "blocked" };
	struct hwdev a;

	vtd_setup();
	a = vdev_new(SID_A);
	h.udev = a.udev;
	hwdev_conc_setup(&h, a.id);
	CHECK_OK(vdev_attach(&a, IOMMU_NO_PASID, h.hwpt[0]));
	hwdev_conc_start(&h);
	for (unsigned int r = 0; r < CONC_ROUNDS; r++) {
		uint32_t id = h.hwpt[(r + 1) & 1];

		CHECK_OK(iommufd_device_replace(a.idev, IOMMU_NO_PASID, &id));
		hwdev_conc_unmap(&h);
		/* Whatever the readers cached is gone once the unmap returned. */
		dma_fault(&a, IOMMU_NO_PASID, IOVA + 8 * PAGE_SIZE + 8 * (r % 500), 8, false, -EFAULT,
			  VTD_FR_SM_READ, 0, IOVA + 8 * PAGE_SIZE + 8 * (r % 500));
		hwdev_conc_remap(&h);
	}
	hwdev_conc_stop(&h);
	vdev_free(&a);
	vtd_teardown();
}

/* ------------------------------------------------------------------ */
/* fail-nth                                                           */

/*
 * One pass of the driver's allocating paths, straight through its ops:
 * instance, device, paging and nested domains, RID and PASID attach (a
 * second PASID table), map, DMA, unmap, teardown. Returns 0, or the first
 * errno after unwinding what was built.
 */
static int driver_pass(void)
{
	struct iommu_hwpt_vtd_s1 s1 = { .addr_width = 48, .pgtbl_addr = GRAM_IPA };
	struct iommu_user_data ud = { .type = IOMMU_HWPT_DATA_VTD_S1, .uptr = &s1,
				      .len = sizeof(s1) };
	struct vtd_dev_params dp = { .sid = SID_A, .pasid_bits = 8, .is_pci = true };
	struct iommu_domain *s2 = NULL, *nested = NULL;
	struct vtd_iommu_params p;
	struct iommu_dma_fault f;
	struct vtd_iommu *v = NULL;
	const struct iommu_ops *ops;
	struct udev *u = NULL;
	uint8_t buf[64];
	size_t mapped = 0, done;
	int err = 0;

	vtd_iommu_params_default(&p);
	err = vtd_iommu_new(&p, &v);
	if (err)
		return err;
	ops = vtd_iommu_device(v)->ops;
	u = vtd_iommu_dev_create(v, &dp, &err);
	if (!u)
		goto out;
	s2 = ops->domain_alloc_paging_flags(u, IOMMU_HWPT_ALLOC_NEST_PARENT, NULL, &err);
	if (!s2)
		goto out;
	err = s2->ops->map_pages(s2, IOVA, (uintptr_t)buffer, PAGE_SIZE, 4, IOMMU_READ | IOMMU_WRITE,
				 &mapped);
	if (err)
		goto out;
	err = s2->ops->attach_dev(s2, u);
	if (err)
		goto out;
	err = iommu_dma_rw(u, IOMMU_NO_PASID, IOVA, buf, sizeof(buf), false, &done, &f);
	if (err)
		goto out;
	err = s2->ops->set_dev_pasid(s2, u, 70, NULL); /* directory entry 1: a new table */
	if (err)
		goto out;
	nested = ops->domain_alloc_nested(u, s2, 0, &ud, &err);
	if (!nested)
		goto out;
	err = nested->ops->set_dev_pasid(nested, u, 3, NULL);
	if (err)
		goto out;
	if (s2->ops->unmap_pages(s2, IOVA, PAGE_SIZE, 4) != 4 * PAGE_SIZE)
		err = -EIO;
out:
	if (u) {
		ops->remove_dev_pasid(u, 3, nested);
		ops->remove_dev_pasid(u, 70, s2);
		ops->block_dev(u);
	}
	if (nested)
		nested->ops->free(nested);
	if (s2)
		s2->ops->free(s2);
	if (u)
		vtd_iommu_dev_destroy(u);
	vtd_iommu_free(v);
	return err;
}

static void test_failnth(void *arg)
{
	unsigned int fired = 0;

	TAP_CHECK(!driver_pass(), "a pass without injection");
	for (unsigned long n = 1;; n++) {
		unsigned long pending;
		int rc;

		ualloc_fail_nth(n);
		rc = driver_pass();
		pending = ualloc_fail_nth_pending();
		ualloc_fail_nth(0);
		if (pending) {
			TAP_CHECK(!rc, "pass without injection: %d", rc);
			break;
		}
		fired++;
		TAP_CHECK(!rc || rc == -ENOMEM, "allocation %lu: %d", n, rc);
	}
	tap_diag("%u injected failures", fired);
	TAP_CHECK(fired > 10, "the sweep reached the driver");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"GET_HW_INFO: INTEL_VTD, CAP / ECAP, capabilities", test_hw_info},
		{"second-stage paging: PASID entry, DMA, faults, unmap, replace", test_paging},
		{"nested HWPTs: VTD_S1 errno rules, the nested PASID entry", test_nested_rules},
		{"DMA through a guest first stage, stale until HWPT_INVALIDATE", test_nested_dma},
		{"HWPT_INVALIDATE VTD_S1: rules, errno, entry_num", test_invalidate},
		{"dirty tracking through second-stage A/D", test_dirty},
		{"dirty tracking on a nesting parent, written through stage 1", test_dirty_nested},
		{"PASID attach: paging and nested, DMA with a PASID", test_pasid},
		{"IOPF: which devices take a fault queue (ENODEV without PRI)", test_iopf_errno},
		{"IOPF: page requests to the fault queue, page group responses", test_iopf_nested},
		{"IOPF: multi-page groups of a dmatest FILL, one response, the allocation bound",
		 test_iopf_group},
		{"page request queue overflow mid-group: the partial group dropped",
		 test_prq_overflow_group},
		{"dmatest behind VT-d: COPY and a fault", test_dmatest},
		{"devices: SIDs, PASID widths, both root-entry halves", test_devices},
		{"DMA while PASID entries and mappings change", test_concurrent},
		{"fail-nth sweep of the driver's allocations", test_failnth},
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
