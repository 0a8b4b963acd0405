// SPDX-License-Identifier: MIT
/*
 * HWPTs and devices through real ioctls (reference iommufd.md §4.1, §4.4,
 * §4.5, §4.10), with mock devices made by IOMMU_TEST_OP_MOCK_DOMAIN:
 *
 *  - MOCK_DOMAIN: IDs, the auto HWPT and its lifetime (shared by devices
 *    of one IOAS, destroyed with the last), EBUSY of everything in use,
 *    failures leave no object behind;
 *  - HWPT_ALLOC: every errno of paging and nested allocation, write-backs;
 *  - nesting rules: NEST_PARENT, same driver, not on an auto or nested HWPT;
 *  - HWPT_INVALIDATE: entry_num written back in every case;
 *  - attach / replace / detach: no-op replace, atomic failure, reserved
 *    regions (EADDRINUSE) moving with the IOAS;
 *  - PASIDs: the compatibility rules, EBUSY, replace rollback (PASID 1024);
 *  - GET_HW_INFO: copy, zero fill, data_len, capabilities, PASID width.
 */
#include "hw/mock/mock.h"
#include "iommufd_internal.h"
#include "iommufd_objs.h"

/* ------------------------------------------------------------------ */

static void test_mock_domain_lifetime(void *arg)
{
	struct iommu_iova_range r;
	struct mock_dev_ids a, b, c;
	uint32_t ioas, ioas2, num;
	uint64_t align;

	iommufd_setup();
	ioas = ioas_alloc();
	a = mock_domain(ioas, 0);
	/* IDs in the kernel's order: stdev, idev, auto HWPT. */
	TAP_CHECK(a.stdev == ioas + 1 && a.idev == ioas + 2 && a.hwpt == ioas + 3, "ids %u %u %u",
		  a.stdev, a.idev, a.hwpt);
	num = 1;
	CHECK_OK(_iova_ranges(ioas, &r, &num, &align));
	TAP_CHECK(num == 1 && r.start == MOCK_APERTURE_START && r.last == MOCK_APERTURE_LAST &&
			  align == MOCK_PAGE_SIZE,
		  "aperture %llx..%llx align %llu", (unsigned long long)r.start,
		  (unsigned long long)r.last, (unsigned long long)align);
	/* Everything in use is busy; devices can only go with their stdev. */
	CHECK_ERRNO(EBUSY, _destroy(ioas));
	CHECK_ERRNO(EBUSY, _destroy(a.hwpt));
	CHECK_ERRNO(EBUSY, _destroy(a.idev));

	/* A second device on the IOAS reuses the auto HWPT. */
	b = mock_domain(ioas, 0);
	TAP_CHECK_EQ(b.hwpt, a.hwpt, "auto HWPT shared");
	/* A device attached to the HWPT directly. */
	c = mock_domain(a.hwpt, 0);
	TAP_CHECK_EQ(c.hwpt, a.hwpt, "attached to the HWPT itself");
	CHECK_OK(_destroy(a.stdev));
	CHECK_ERRNO(EBUSY, _destroy(a.hwpt));
	CHECK_OK(_destroy(b.stdev));
	CHECK_ERRNO(EBUSY, _destroy(a.hwpt));
	/* Tombstone-free: the stdev and idev IDs are gone, not busy. */
	CHECK_ERRNO(ENOENT, _destroy(a.stdev));
	CHECK_ERRNO(ENOENT, _destroy(a.idev));
	CHECK_OK(_destroy(c.stdev));
	/* The last device left the auto HWPT: it is gone, and the IOAS is free. */
	CHECK_ERRNO(ENOENT, _destroy(a.hwpt));
	num = 1;
	CHECK_OK(_iova_ranges(ioas, &r, &num, &align));
	TAP_CHECK(r.start == 0 && r.last == UINT64_MAX && align == 1, "aperture released");

	/* Devices on different IOASes get different auto HWPTs. */
	ioas2 = ioas_alloc();
	a = mock_domain(ioas, 0);
	b = mock_domain(ioas2, 0);
	TAP_CHECK(a.hwpt != b.hwpt, "one auto HWPT per IOAS");

	/* Failures leave no object and consume no ID. */
	{
		uint32_t next = next_free_id(), s = 0;

		CHECK_ERRNO(EINVAL, _mock_domain_flags(ioas, 1u << 30, &s, NULL, NULL));
		CHECK_ERRNO(ENOENT, _mock_domain(9999, &s, NULL, NULL));
		CHECK_ERRNO(EINVAL, _mock_domain(a.idev, &s, NULL, NULL));
		TAP_CHECK_EQ(next_free_id(), next, "no ID consumed");
	}
	/* Closing destroys every device and HWPT. */
	iommufd_teardown();
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "nothing pinned");
}

static void test_hwpt_alloc_errors(void *arg)
{
	struct iommu_hwpt_alloc cmd;
	struct mock_dev_ids d, nd;
	uint32_t ioas, hwpt, parent, fault_id, next;
	int fault_fd;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, MOCK_APERTURE_START);
	d = mock_domain(ioas, 0);
	next = next_free_id();

	cmd = (struct iommu_hwpt_alloc){.size = sizeof(cmd), .dev_id = d.idev, .pt_id = ioas};
	cmd.__reserved = 1;
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_HWPT_ALLOC, &cmd));
	cmd.__reserved = 0;
	cmd.data_len = 8; /* type NONE with data */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, IOMMU_HWPT_ALLOC, &cmd));
	cmd.data_len = 0;
	cmd.data_type = IOMMU_HWPT_DATA_SELFTEST; /* data type without data */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, IOMMU_HWPT_ALLOC, &cmd));

	CHECK_ERRNO(ENOENT, _hwpt_alloc(ioas, ioas, 0, &hwpt)); /* dev_id not a device */
	CHECK_ERRNO(ENOENT, _hwpt_alloc(9999, ioas, 0, &hwpt));
	CHECK_ERRNO(EINVAL, _hwpt_alloc(d.idev, d.idev, 0, &hwpt)); /* pt_id a device */
	CHECK_ERRNO(EINVAL, _hwpt_alloc(d.idev, 9999, 0, &hwpt));   /* pt_id missing */
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc(d.idev, ioas, 1u << 20, &hwpt));
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_alloc(d.idev, ioas,
				IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_FAULT_ID_VALID, &hwpt));
	CHECK_ERRNO(ENOENT, _hwpt_alloc_data(d.idev, ioas, IOMMU_HWPT_FAULT_ID_VALID, 9999,
					     IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt));
	/* A paging HWPT with a blob of an unknown type: the model's EOPNOTSUPP. */
	{
		uint32_t blob = 0;

		CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc_data(d.idev, ioas, 0, 0, 0x1234, &blob,
							 sizeof(blob), &hwpt));
	}
	/* Dirty tracking needs a device that can track. */
	nd = mock_domain(ioas, MOCK_FLAGS_DEVICE_NO_DIRTY);
	next = next_free_id();
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc(nd.idev, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt));
	TAP_CHECK_EQ(next_free_id(), next, "failures consumed no ID");

	/* Success writes out_hwpt_id, maps every area, keeps the IOAS busy. */
	hwpt = hwpt_alloc(d.idev, ioas, 0);
	TAP_CHECK_EQ(hwpt, next, "lowest free ID");
	CHECK_OK(_check_map(hwpt, MOCK_APERTURE_START, BUFFER_SIZE, buffer));
	/* Not an auto HWPT: MOCK_DOMAIN on the IOAS does not pick it. */
	{
		struct mock_dev_ids e = mock_domain(ioas, 0);

		TAP_CHECK(e.hwpt != hwpt, "manual HWPTs are never picked");
		CHECK_OK(_destroy(e.stdev));
	}
	CHECK_OK(_destroy(hwpt));
	/* A short blob for a paging HWPT of the mock: EINVAL; NULL: EFAULT. */
	{
		struct iommu_hwpt_selftest data = {.pagetable_type = MOCK_IOMMUPT_HUGE};

		CHECK_ERRNO(EINVAL, _hwpt_alloc_data(d.idev, ioas, 0, 0, IOMMU_HWPT_DATA_SELFTEST,
						     &data, 3, &hwpt));
		CHECK_ERRNO(EFAULT, _hwpt_alloc_data(d.idev, ioas, 0, 0, IOMMU_HWPT_DATA_SELFTEST,
						     NULL, sizeof(data), &hwpt));
		CHECK_ERRNO(EFAULT, _hwpt_alloc_data(d.idev, ioas, 0, 0, IOMMU_HWPT_DATA_SELFTEST,
						     (void *)(uintptr_t)0x10000000000ULL,
						     sizeof(data), &hwpt));
		/* v6.19 page-table type: a huge domain with 4 KiB pages. */
		hwpt = 0;
		CHECK_OK(_hwpt_alloc_data(d.idev, ioas, 0, 0, IOMMU_HWPT_DATA_SELFTEST, &data,
					  sizeof(data), &hwpt));
		CHECK_OK(_check_map(hwpt, MOCK_APERTURE_START, BUFFER_SIZE, buffer));
		CHECK_OK(_destroy(hwpt));
	}

	/* A fault queue: held by the HWPT (busy), released with it. */
	CHECK_OK(_fault_alloc(&fault_id, &fault_fd));
	CHECK_OK(_hwpt_alloc_data(d.idev, ioas, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt));
	CHECK_OK(fd_close(fault_fd));
	CHECK_ERRNO(EBUSY, _destroy(fault_id));
	CHECK_OK(_destroy(hwpt));
	CHECK_OK(_destroy(fault_id));

	/* NEST_PARENT paging HWPTs: not picked automatically either. */
	parent = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_ERRNO(EBUSY, _destroy(ioas));
	CHECK_OK(_destroy(parent));
	iommufd_teardown();
}

static void test_nested(void *arg)
{
	const uint32_t min_len = offsetofend(struct iommu_hwpt_selftest, iotlb);
	struct iommu_hwpt_selftest data = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
	uint32_t ioas, parent, not_parent, nested[2], hwpt, next;
	struct mock_dev_ids d;

	iommufd_setup();
	ioas = ioas_alloc();
	d = mock_domain(ioas, 0);
	parent = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	not_parent = hwpt_alloc(d.idev, ioas, 0);
	next = next_free_id();

	CHECK_ERRNO(EINVAL, _hwpt_alloc_data(d.idev, parent, 0, 0, IOMMU_HWPT_DATA_NONE, &data,
					     sizeof(data), &hwpt));
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc_data(d.idev, parent, 0, 0, IOMMU_HWPT_DATA_SELFTEST + 1,
						 &data, sizeof(data), &hwpt));
	CHECK_ERRNO(EINVAL, _hwpt_alloc_data(d.idev, parent, 0, 0, IOMMU_HWPT_DATA_SELFTEST, &data,
					     min_len - 1, &hwpt));
	CHECK_ERRNO(EFAULT, _hwpt_alloc_data(d.idev, parent, 0, 0, IOMMU_HWPT_DATA_SELFTEST, NULL,
					     sizeof(data), &hwpt));
	/* A longer blob than the driver knows is refused too. */
	{
		uint8_t big[sizeof(data) + 1] = {0};

		CHECK_ERRNO(EINVAL, _hwpt_alloc_data(d.idev, parent, 0, 0, IOMMU_HWPT_DATA_SELFTEST,
						     big, sizeof(big), &hwpt));
	}
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_alloc_data(d.idev, parent, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
				     IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data), &hwpt));
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_alloc_data(d.idev, parent, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0,
				     IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data), &hwpt));
	/* Parents: NEST_PARENT, not auto (EINVAL). */
	CHECK_ERRNO(EINVAL, _hwpt_alloc_nested(d.idev, not_parent, 0, 0, &hwpt));
	CHECK_ERRNO(EINVAL, _hwpt_alloc_nested(d.idev, d.hwpt, 0, 0, &hwpt));
	TAP_CHECK_EQ(next_free_id(), next, "no ID consumed");

	nested[0] = hwpt_alloc_nested(d.idev, parent, 0);
	nested[1] = hwpt_alloc_nested(d.idev, parent, 0);
	check_iotlb_all(nested[0], IOMMU_TEST_IOTLB_DEFAULT);
	check_iotlb_all(nested[1], IOMMU_TEST_IOTLB_DEFAULT);
	/* MD_CHECK_IOTLB: a bad entry, value, or HWPT kind. */
	CHECK_ERRNO(EINVAL, _check_iotlb(nested[0], MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1,
					 IOMMU_TEST_IOTLB_DEFAULT));
	CHECK_ERRNO(EINVAL, _check_iotlb(nested[0], 0, 0));
	CHECK_ERRNO(ENOENT, _check_iotlb(parent, 0, IOMMU_TEST_IOTLB_DEFAULT));
	/* No nesting on a nested HWPT; the parent is busy. */
	CHECK_ERRNO(EINVAL, _hwpt_alloc_nested(d.idev, nested[0], 0, 0, &hwpt));
	CHECK_ERRNO(EBUSY, _destroy(parent));
	/* A nested HWPT cannot be checked as a paging one. */
	CHECK_ERRNO(ENOENT, _check_map(nested[0], MOCK_APERTURE_START, 0, buffer));

	/* Attach, busy, switch, back. */
	CHECK_OK(_mock_domain_replace(d.stdev, nested[0], &hwpt));
	TAP_CHECK_EQ(hwpt, nested[0], "pt_id written back");
	CHECK_ERRNO(EBUSY, _destroy(nested[0]));
	CHECK_OK(_mock_domain_replace(d.stdev, nested[1], NULL));
	CHECK_ERRNO(EBUSY, _destroy(nested[1]));
	CHECK_OK(_destroy(nested[0]));
	/* The device's auto HWPT went when it left it. */
	CHECK_ERRNO(ENOENT, _destroy(d.hwpt));
	CHECK_OK(_mock_domain_replace(d.stdev, parent, NULL));
	CHECK_OK(_destroy(nested[1]));
	CHECK_OK(_mock_domain_replace(d.stdev, ioas, &hwpt));
	TAP_CHECK(hwpt != parent && hwpt != not_parent, "a new auto HWPT: %u", hwpt);
	CHECK_OK(_destroy(parent));
	CHECK_OK(_destroy(not_parent));
	iommufd_teardown();
}

static void test_invalidate(void *arg)
{
	struct iommu_hwpt_invalidate_selftest inv[2] = {0};
	struct iommu_hwpt_invalidate cmd;
	uint32_t ioas, parent, nested[2], num;
	struct mock_dev_ids d;

	iommufd_setup();
	ioas = ioas_alloc();
	d = mock_domain(ioas, 0);
	parent = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	nested[0] = hwpt_alloc_nested(d.idev, parent, 0);
	nested[1] = hwpt_alloc_nested(d.idev, parent, 0);

	/* Not a nested HWPT or vIOMMU: EINVAL; missing: ENOENT; entry_num back to 0. */
	num = 1;
	CHECK_ERRNO(EINVAL, _hwpt_invalidate(parent, inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	num = 1;
	CHECK_ERRNO(EINVAL, _hwpt_invalidate(ioas, inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	num = 1;
	CHECK_ERRNO(ENOENT, _hwpt_invalidate(9999, inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	/* Reserved field: EOPNOTSUPP, entry_num 0. */
	cmd = (struct iommu_hwpt_invalidate){.size = sizeof(cmd),
					     .hwpt_id = nested[0],
					     .data_uptr = (uintptr_t)inv,
					     .data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     .entry_len = sizeof(*inv),
					     .entry_num = 1,
					     .__reserved = 1};
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_HWPT_INVALIDATE, &cmd));
	TAP_CHECK_EQ(cmd.entry_num, 0, "entry_num");

	/* An empty array checks only the type. */
	num = 0;
	CHECK_OK(_hwpt_invalidate(nested[0], NULL, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0, &num));
	num = 0;
	CHECK_ERRNO(EINVAL,
		    _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
				     sizeof(*inv), &num));
	num = 1;
	CHECK_ERRNO(EINVAL,
		    _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
				     sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	num = 1;
	CHECK_ERRNO(EINVAL, _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv) + 1, &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	num = 1;
	CHECK_ERRNO(EINVAL,
		    _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 1, &num));
	num = 1;
	CHECK_ERRNO(EINVAL, _hwpt_invalidate(nested[0], NULL, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
	num = 1;
	CHECK_ERRNO(EINVAL,
		    _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0, &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	/* A wild array pointer: EFAULT, nothing handled. */
	num = 1;
	CHECK_ERRNO(EFAULT,
		    _hwpt_invalidate(nested[0], (void *)(uintptr_t)0x10000000000ULL,
				     IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	num = 1;
	inv[0].flags = 0xffffffff;
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
				     sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	num = 1;
	inv[0].flags = 0;
	inv[0].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	CHECK_ERRNO(EINVAL, _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 0, "entry_num");
	check_iotlb_all(nested[0], IOMMU_TEST_IOTLB_DEFAULT);

	/* The first entry done, the second refused: entry_num 1, entry 0 reset only. */
	inv[0] = (struct iommu_hwpt_invalidate_selftest){.iotlb_id = 0};
	inv[1] = (struct iommu_hwpt_invalidate_selftest){.flags = 0xffffffff, .iotlb_id = 1};
	num = 2;
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
				     sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 1, "entry_num");
	CHECK_OK(_check_iotlb(nested[0], 0, 0));
	CHECK_OK(_check_iotlb(nested[0], 1, IOMMU_TEST_IOTLB_DEFAULT));
	inv[1] = (struct iommu_hwpt_invalidate_selftest){.iotlb_id = 4};
	num = 2;
	CHECK_ERRNO(EINVAL, _hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
	TAP_CHECK_EQ(num, 1, "entry_num");
	CHECK_OK(_check_iotlb(nested[0], 2, IOMMU_TEST_IOTLB_DEFAULT));
	/* Shorter entries are zero-extended. */
	inv[0] = (struct iommu_hwpt_invalidate_selftest){.iotlb_id = 1};
	num = 1;
	CHECK_OK(_hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(*inv),
				  &num));
	TAP_CHECK_EQ(num, 1, "entry_num");
	CHECK_OK(_check_iotlb(nested[0], 1, 0));
	inv[0] = (struct iommu_hwpt_invalidate_selftest){.iotlb_id = 2};
	inv[1] = (struct iommu_hwpt_invalidate_selftest){.iotlb_id = 3};
	num = 2;
	CHECK_OK(_hwpt_invalidate(nested[0], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(*inv),
				  &num));
	TAP_CHECK_EQ(num, 2, "entry_num");
	check_iotlb_all(nested[0], 0);
	/* FLAG_ALL on the other HWPT; the first is unaffected by it. */
	inv[0] = (struct iommu_hwpt_invalidate_selftest){.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL};
	num = 1;
	CHECK_OK(_hwpt_invalidate(nested[1], inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(*inv),
				  &num));
	check_iotlb_all(nested[1], 0);
	iommufd_teardown();
}

/* Reserved regions of a device (an MSI window), which mock devices lack. */
static const struct iommu_resv_region msi_window[] = {
	{.start = MOCK_APERTURE_START + (1 << 20), .last = MOCK_APERTURE_START + (2 << 20) - 1},
};

static void test_reserved_regions(void *arg)
{
	struct iommufd_device *idev;
	struct udev *dev;
	uint32_t ioas, ioas2, idev_id, pt, hwpt2, num;
	struct iommu_iova_range r[3];
	uint64_t iova;
	int err;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas2 = ioas_alloc();
	dev = mock_dev_create(0, &err);
	TAP_CHECK(dev, "mock device");
	dev->resv = msi_window;
	dev->nr_resv = 1;
	idev = iommufd_device_bind(test_ictx(), dev, &idev_id, false);
	TAP_CHECK(!IS_ERR(idev), "bind");
	/* A second bind of the same device: EBUSY. */
	{
		uint32_t id2;

		TAP_CHECK(PTR_ERR(iommufd_device_bind(test_ictx(), dev, &id2, false)) == -EBUSY,
			  "second bind");
	}

	/* An area over the window: EADDRINUSE, nothing attached. */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, msi_window[0].start);
	pt = ioas;
	TAP_CHECK_EQ(iommufd_device_attach(idev, IOMMU_NO_PASID, &pt), -EADDRINUSE, "attach");
	TAP_CHECK(!iommufd_device_attached_hwpt(idev, IOMMU_NO_PASID), "not attached");
	ioas_unmap(ioas, msi_window[0].start, PAGE_SIZE);
	pt = ioas;
	TAP_CHECK_EQ(iommufd_device_attach(idev, IOMMU_NO_PASID, &pt), 0, "attach");
	/* The window is reserved now: IOVA_RANGES has a hole, maps there fail. */
	num = 3;
	CHECK_OK(_iova_ranges(ioas, r, &num, NULL));
	TAP_CHECK(num == 2 && r[0].last == msi_window[0].start - 1 &&
			  r[1].start == msi_window[0].last + 1,
		  "hole for the window");
	iova = msi_window[0].start;
	CHECK_ERRNO(EINVAL,
		    _ioas_map(ioas, buffer, PAGE_SIZE, &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	CHECK_ERRNO(EADDRINUSE, _allow_iovas(ioas,
					     (struct iommu_iova_range[]){
						     {msi_window[0].start, msi_window[0].last}},
					     1));

	/* Replace to an IOAS with a conflicting area: EADDRINUSE, nothing changed. */
	ioas_map_fixed(ioas2, buffer, PAGE_SIZE, msi_window[0].start);
	hwpt2 = ioas2;
	TAP_CHECK_EQ(iommufd_device_replace(idev, IOMMU_NO_PASID, &hwpt2), -EADDRINUSE, "replace");
	TAP_CHECK(iommufd_device_attached_hwpt(idev, IOMMU_NO_PASID)->obj.id == pt,
		  "still on the old HWPT");
	num = 3;
	CHECK_OK(_iova_ranges(ioas2, r, &num, NULL));
	TAP_CHECK(num == 1 && r[0].start == 0, "nothing reserved in the new IOAS");
	/* Without the conflict the reservation moves with the device. */
	ioas_unmap(ioas2, msi_window[0].start, PAGE_SIZE);
	hwpt2 = ioas2;
	TAP_CHECK_EQ(iommufd_device_replace(idev, IOMMU_NO_PASID, &hwpt2), 0, "replace");
	num = 3;
	CHECK_OK(_iova_ranges(ioas, r, &num, NULL));
	TAP_CHECK(num == 1 && r[0].start == 0 && r[0].last == UINT64_MAX,
		  "released in the old IOAS (its auto HWPT is gone)");
	num = 3;
	CHECK_OK(_iova_ranges(ioas2, r, &num, NULL));
	TAP_CHECK_EQ(num, 2, "reserved in the new IOAS");
	CHECK_ERRNO(ENOENT, _destroy(pt));
	iommufd_device_detach(idev, IOMMU_NO_PASID);
	num = 3;
	CHECK_OK(_iova_ranges(ioas2, r, &num, NULL));
	TAP_CHECK(num == 1 && r[0].start == 0 && r[0].last == UINT64_MAX, "detached: released");
	iommufd_device_unbind(idev);
	mock_dev_destroy(dev);
	iommufd_teardown();
}

static void test_replace_rules(void *arg)
{
	struct mock_dev_ids d, nodirty;
	uint32_t ioas, ioas2, hwpt, dirty_hwpt, h;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas2 = ioas_alloc();
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, MOCK_APERTURE_START);
	d = mock_domain(ioas, 0);
	nodirty = mock_domain(ioas, MOCK_FLAGS_DEVICE_NO_DIRTY);
	TAP_CHECK_EQ(nodirty.hwpt, d.hwpt, "shared auto HWPT");

	/* Replace to the current HWPT: no-op, nothing destroyed. */
	CHECK_OK(_mock_domain_replace(d.stdev, d.hwpt, &h));
	TAP_CHECK_EQ(h, d.hwpt, "same");
	CHECK_OK(_mock_domain_replace(d.stdev, ioas, &h));
	TAP_CHECK_EQ(h, d.hwpt, "the IOAS's auto HWPT again");
	/* Replace to nothing valid. */
	CHECK_ERRNO(ENOENT, _mock_domain_replace(d.stdev, 9999, NULL));
	CHECK_ERRNO(EINVAL, _mock_domain_replace(d.stdev, d.idev, NULL));
	CHECK_ERRNO(ENOENT, _mock_domain_replace(d.idev, ioas, NULL));
	/* A dirty-tracking HWPT refuses a NO_DIRTY device: replace fails, nothing changes. */
	dirty_hwpt = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	CHECK_ERRNO(EINVAL, _mock_domain_replace(nodirty.stdev, dirty_hwpt, NULL));
	CHECK_ERRNO(EINVAL,
		    _mock_domain_flags(dirty_hwpt, MOCK_FLAGS_DEVICE_NO_DIRTY, NULL, NULL, NULL));
	CHECK_OK(_check_map(d.hwpt, MOCK_APERTURE_START, PAGE_SIZE, buffer));
	CHECK_ERRNO(EBUSY, _destroy(d.hwpt));
	/* Move d to the other IOAS: its own auto HWPT there; the old one stays for nodirty. */
	CHECK_OK(_mock_domain_replace(d.stdev, ioas2, &hwpt));
	TAP_CHECK(hwpt != d.hwpt, "new auto HWPT");
	CHECK_OK(_mock_domain_replace(nodirty.stdev, ioas2, &h));
	TAP_CHECK_EQ(h, hwpt, "nodirty joins it");
	CHECK_ERRNO(ENOENT, _destroy(d.hwpt));
	CHECK_OK(_destroy(dirty_hwpt));
	CHECK_OK(_destroy(d.stdev));
	CHECK_OK(_destroy(nodirty.stdev));
	CHECK_ERRNO(ENOENT, _destroy(hwpt));
	CHECK_OK(_destroy(ioas));
	CHECK_OK(_destroy(ioas2));
	iommufd_teardown();
}

static void test_pasid(void *arg)
{
	uint32_t ioas, parent, nested[3], s2, viommu, iopf_hwpt, fault_id, pasid = 100;
	struct mock_dev_ids d, np;
	struct iommu_hwpt_pgfault f;
	int fault_fd;

	iommufd_setup();
	ioas = ioas_alloc();
	d = mock_domain(ioas, MOCK_FLAGS_DEVICE_PASID);
	np = mock_domain(ioas, 0);

	/* Detaching a PASID that is not attached is fine. */
	CHECK_OK(_pasid_detach(d.stdev, pasid));
	parent = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	nested[0] = hwpt_alloc_nested(d.idev, parent, IOMMU_HWPT_ALLOC_PASID);
	nested[1] = hwpt_alloc_nested(d.idev, parent, IOMMU_HWPT_ALLOC_PASID);
	CHECK_OK(_fault_alloc(&fault_id, &fault_fd));
	CHECK_OK(_hwpt_alloc_nested(d.idev, parent,
				    IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID, fault_id,
				    &iopf_hwpt));
	CHECK_OK(_viommu_alloc(d.idev, parent, IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, &viommu));
	nested[2] = hwpt_alloc_nested(d.idev, viommu, IOMMU_HWPT_ALLOC_PASID);
	s2 = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_PASID);

	/* RID on a non-PASID HWPT: no PASID may attach. */
	CHECK_OK(_mock_domain_replace(d.stdev, parent, NULL));
	CHECK_ERRNO(EINVAL, _pasid_attach(d.stdev, pasid, s2));
	/* RID on a PASID-compatible one: PASIDs may, and then the RID must stay compatible. */
	CHECK_OK(_mock_domain_replace(d.stdev, s2, NULL));
	CHECK_OK(_pasid_attach(d.stdev, pasid, nested[0]));
	CHECK_ERRNO(EINVAL, _mock_domain_replace(d.stdev, parent, NULL));
	CHECK_ERRNO(EBUSY, _destroy(nested[0]));
	CHECK_OK(_pasid_detach(d.stdev, pasid));
	CHECK_OK(_pasid_check(d.stdev, pasid, 0));

	/* A device without PASIDs: PASID-compatible HWPTs still serve its RID, PASIDs fail. */
	CHECK_OK(_mock_domain_replace(np.stdev, nested[0], NULL));
	CHECK_OK(_mock_domain_replace(np.stdev, ioas, NULL));
	CHECK_ERRNO(EINVAL, _pasid_attach(np.stdev, pasid, parent));
	CHECK_ERRNO(EINVAL, _pasid_attach(np.stdev, pasid, s2));

	/* Non-compatible HWPT, an IOAS: EINVAL, still detached. */
	CHECK_ERRNO(EINVAL, _pasid_attach(d.stdev, pasid, parent));
	CHECK_OK(_pasid_check(d.stdev, pasid, 0));
	CHECK_ERRNO(EINVAL, _pasid_attach(d.stdev, pasid, ioas));
	CHECK_OK(_pasid_check(d.stdev, pasid, 0));
	/* A PASID beyond the device's 20 bits: EINVAL. */
	CHECK_ERRNO(EINVAL, _pasid_attach(d.stdev, 1u << 20, s2));

	CHECK_OK(_pasid_attach(d.stdev, pasid, s2));
	CHECK_OK(_pasid_check(d.stdev, pasid, s2));
	CHECK_ERRNO(EINVAL, _pasid_check(d.stdev, pasid, nested[0]));
	CHECK_ERRNO(EINVAL, _pasid_check(d.stdev, pasid + 1, s2));
	CHECK_ERRNO(EINVAL, _pasid_check(d.stdev, pasid, 0));
	CHECK_ERRNO(ENOENT, _pasid_check(d.stdev, pasid, 9999));
	CHECK_ERRNO(EBUSY, _pasid_attach(d.stdev, pasid, nested[0]));
	CHECK_OK(_pasid_detach(d.stdev, pasid));
	CHECK_OK(_pasid_attach(d.stdev, pasid, nested[0]));
	CHECK_OK(_pasid_check(d.stdev, pasid, nested[0]));
	CHECK_ERRNO(EBUSY, _pasid_attach(d.stdev, pasid, nested[0]));
	CHECK_OK(_pasid_detach(d.stdev, pasid));

	/* Replace: only when attached; to an IOAS fails and keeps the old. */
	pasid = 200;
	CHECK_ERRNO(EINVAL, _pasid_replace(d.stdev, pasid, s2));
	CHECK_OK(_pasid_attach(d.stdev, pasid, s2));
	CHECK_ERRNO(EINVAL, _pasid_replace(d.stdev, pasid, ioas));
	CHECK_OK(_pasid_check(d.stdev, pasid, s2));
	CHECK_OK(_pasid_replace(d.stdev, pasid, nested[0]));
	CHECK_OK(_pasid_check(d.stdev, pasid, nested[0]));
	CHECK_OK(_pasid_replace(d.stdev, pasid, nested[1]));
	CHECK_OK(_pasid_check(d.stdev, pasid, nested[1]));
	/* A vIOMMU-owned HWPT needs the device's vDEVICE only for the RID. */
	CHECK_OK(_pasid_replace(d.stdev, pasid, nested[2]));
	CHECK_OK(_pasid_check(d.stdev, pasid, nested[2]));
	CHECK_OK(_pasid_detach(d.stdev, pasid));

	/* PASID 1024 fails every second attach: a failed replace keeps the old domain. */
	pasid = IOMMU_TEST_PASID_RESERVED;
	CHECK_OK(_pasid_attach(d.stdev, pasid, s2));
	CHECK_ERRNO(ENOMEM, _pasid_replace(d.stdev, pasid, nested[0]));
	CHECK_OK(_pasid_check(d.stdev, pasid, s2));
	CHECK_OK(_pasid_detach(d.stdev, pasid));

	/* A page request on a PASID goes to its HWPT's fault queue. */
	pasid = 2048;
	CHECK_OK(_pasid_attach(d.stdev, pasid, iopf_hwpt));
	CHECK_OK(_trigger_iopf(d.idev, pasid, 2, 0xdeadbeef));
	TAP_CHECK_EQ(uiommu_read(fd_file(fault_fd), &f, sizeof(f)), (ssize_t)sizeof(f), "read");
	TAP_CHECK(f.pasid == pasid && f.dev_id == d.idev &&
			  (f.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID),
		  "fault %u %u %#x", f.pasid, f.dev_id, f.flags);
	{
		struct iommu_hwpt_page_response resp = {.cookie = f.cookie};

		TAP_CHECK_EQ(uiommu_write(fd_file(fault_fd), &resp, sizeof(resp)),
			     (ssize_t)sizeof(resp), "respond");
	}
	CHECK_OK(_pasid_replace(d.stdev, pasid, s2));
	CHECK_OK(_pasid_check(d.stdev, pasid, s2));
	CHECK_OK(_pasid_detach(d.stdev, pasid));
	CHECK_OK(_destroy(iopf_hwpt));
	CHECK_OK(fd_close(fault_fd));
	CHECK_OK(_destroy(fault_id));

	/* Destroying the stdev detaches its PASIDs too. */
	CHECK_OK(_pasid_attach(d.stdev, 300, s2));
	CHECK_OK(_pasid_attach(d.stdev, 301, nested[0]));
	CHECK_ERRNO(EBUSY, _destroy(s2));
	CHECK_OK(_destroy(d.stdev));
	CHECK_OK(_destroy(s2));
	CHECK_OK(_destroy(nested[0]));
	iommufd_teardown();
}

static void test_hw_info(void *arg)
{
	struct iommu_test_hw_info exact;
	struct {
		struct iommu_test_hw_info info;
		uint64_t trailing;
	} larger;
	struct iommu_hw_info cmd;
	struct mock_dev_ids d, p, nd;
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	d = mock_domain(ioas, 0);
	p = mock_domain(ioas, MOCK_FLAGS_DEVICE_PASID);
	nd = mock_domain(ioas, MOCK_FLAGS_DEVICE_NO_DIRTY);

	/* No buffer: the full length and type still come back. */
	cmd = (struct iommu_hw_info){.dev_id = d.idev};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK(cmd.data_len == sizeof(exact) && cmd.out_data_type == IOMMU_HW_INFO_TYPE_SELFTEST,
		  "len %u type %#x", cmd.data_len, cmd.out_data_type);
	TAP_CHECK_EQ(cmd.out_capabilities, IOMMU_HW_CAP_DIRTY_TRACKING, "caps");
	TAP_CHECK_EQ(cmd.out_max_pasid_log2, 0, "no PASID");

	memset(&exact, 0xaa, sizeof(exact));
	cmd = (struct iommu_hw_info){
		.dev_id = d.idev, .data_len = sizeof(exact), .data_uptr = (uintptr_t)&exact};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK(exact.flags == 0 && exact.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL, "blob");
	/* A larger buffer: the tail is zeroed. */
	memset(&larger, 0xaa, sizeof(larger));
	cmd = (struct iommu_hw_info){
		.dev_id = d.idev, .data_len = sizeof(larger), .data_uptr = (uintptr_t)&larger};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK(larger.trailing == 0 && larger.info.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL,
		  "zero-filled tail");
	TAP_CHECK_EQ(cmd.data_len, sizeof(exact), "driver length written back");
	/* A smaller one: only what fits is written. */
	memset(&exact, 0xaa, sizeof(exact));
	cmd = (struct iommu_hw_info){.dev_id = d.idev,
				     .data_len = offsetofend(struct iommu_test_hw_info, flags),
				     .data_uptr = (uintptr_t)&exact};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK(exact.flags == 0 && exact.test_reg == 0xaaaaaaaa, "partial copy");
	TAP_CHECK_EQ(cmd.data_len, sizeof(exact), "full length");

	/* Requested types. */
	cmd = (struct iommu_hw_info){.dev_id = d.idev,
				     .flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
				     .in_data_type = IOMMU_HW_INFO_TYPE_SELFTEST + 1};
	CHECK_ERRNO(EOPNOTSUPP, _get_hw_info(&cmd));
	cmd.in_data_type = IOMMU_HW_INFO_TYPE_SELFTEST;
	CHECK_OK(_get_hw_info(&cmd));
	/* Without INPUT_TYPE the in field is ignored. */
	cmd = (struct iommu_hw_info){.dev_id = d.idev, .in_data_type = 0x1234};
	CHECK_OK(_get_hw_info(&cmd));
	/* Flags, reserved bytes, device. */
	cmd = (struct iommu_hw_info){.dev_id = d.idev, .flags = 2};
	CHECK_ERRNO(EOPNOTSUPP, _get_hw_info(&cmd));
	cmd = (struct iommu_hw_info){.dev_id = d.idev};
	cmd.__reserved[2] = 1;
	CHECK_ERRNO(EOPNOTSUPP, _get_hw_info(&cmd));
	cmd = (struct iommu_hw_info){.dev_id = ioas};
	CHECK_ERRNO(ENOENT, _get_hw_info(&cmd));
	cmd = (struct iommu_hw_info){
		.dev_id = d.idev, .data_len = 8, .data_uptr = (uintptr_t)0x10000000000ULL};
	CHECK_ERRNO(EFAULT, _get_hw_info(&cmd));

	/* Capabilities and PASID width per device. */
	cmd = (struct iommu_hw_info){.dev_id = p.idev};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK_EQ(cmd.out_max_pasid_log2, MOCK_PASID_WIDTH, "PASID width");
	cmd = (struct iommu_hw_info){.dev_id = nd.idev};
	CHECK_OK(_get_hw_info(&cmd));
	TAP_CHECK_EQ(cmd.out_capabilities, 0, "no dirty tracking");
	iommufd_teardown();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"MOCK_DOMAIN: IDs, auto HWPT shared and freed with its last device, EBUSY",
		 test_mock_domain_lifetime},
		{"HWPT_ALLOC: errnos, write-back, fault queue, NEST_PARENT",
		 test_hwpt_alloc_errors},
		{"nested HWPTs: errnos, parents, attach/replace/busy", test_nested},
		{"HWPT_INVALIDATE: errnos and entry_num write-back", test_invalidate},
		{"reserved regions: EADDRINUSE, moved by replace, released by detach",
		 test_reserved_regions},
		{"replace: no-op, failures change nothing, auto HWPT lifetime", test_replace_rules},
		{"PASID attach/replace/detach rules and IOPF", test_pasid},
		{"GET_HW_INFO: copy, zero fill, lengths, caps, PASID width", test_hw_info},
	};

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
