/* SPDX-License-Identifier: MIT */
/*
 * tests/abi/test_uapi_abi.c - the uAPI headers as user code sees them.
 *
 * Includes <linux/iommufd.h> and <linux/iommufd_test.h> exactly as a program
 * would (the include path points at include/uapi), and is built with
 * -Wall -Wextra -Werror -pedantic, so compiling at all proves the headers'
 * own static layout assertions hold and that they are warning-free.
 *
 * Then it checks, one TAP point each, every value against a number written
 * down by hand from the reference notes (iommufd.md §1.2, §1.3, §2),
 * not recomputed from the header: each ioctl request number and its decoding
 * (type ';', no direction, no size, nr), each ioctl struct's size and minimum
 * size, each vendor/record struct's size, and every flag, type and constant.
 *
 * A second translation unit (test_uapi_abi_tu2.c) includes the headers in the
 * other order, twice, the way the kernel selftest does, with the selftest's
 * own helper macros defined around them.
 */
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include <stddef.h>
#include <stdio.h>

#include "test_uapi_abi_tu2.h"

#define OFFSETOFEND(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))

static unsigned int points, failures;

/* One TAP point; on failure, the value found and the one expected. */
static void point(int ok, const char *name, unsigned long long got, unsigned long long want)
{
	points++;
	if (ok) {
		printf("ok %u - %s\n", points, name);
	} else {
		failures++;
		printf("not ok %u - %s\n# found %#llx, expected %#llx\n", points, name, got, want);
	}
}

/* ioctl request numbers, worked out by hand: _IO(';', nr) = 0x3b00 | nr. */
struct ioctl_row {
	const char *name;
	unsigned long long req;
	unsigned int want_nr;
	unsigned long long want_req;
};

#define IOCTL_ROW(name, nr, req)     \
	{                            \
#name, name, nr, req \
	}

static const struct ioctl_row ioctl_rows[] = {
	IOCTL_ROW(IOMMU_DESTROY, 0x80, 0x3b80),
	IOCTL_ROW(IOMMU_IOAS_ALLOC, 0x81, 0x3b81),
	IOCTL_ROW(IOMMU_IOAS_ALLOW_IOVAS, 0x82, 0x3b82),
	IOCTL_ROW(IOMMU_IOAS_COPY, 0x83, 0x3b83),
	IOCTL_ROW(IOMMU_IOAS_IOVA_RANGES, 0x84, 0x3b84),
	IOCTL_ROW(IOMMU_IOAS_MAP, 0x85, 0x3b85),
	IOCTL_ROW(IOMMU_IOAS_UNMAP, 0x86, 0x3b86),
	IOCTL_ROW(IOMMU_OPTION, 0x87, 0x3b87),
	IOCTL_ROW(IOMMU_VFIO_IOAS, 0x88, 0x3b88),
	IOCTL_ROW(IOMMU_HWPT_ALLOC, 0x89, 0x3b89),
	IOCTL_ROW(IOMMU_GET_HW_INFO, 0x8a, 0x3b8a),
	IOCTL_ROW(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x8b, 0x3b8b),
	IOCTL_ROW(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x8c, 0x3b8c),
	IOCTL_ROW(IOMMU_HWPT_INVALIDATE, 0x8d, 0x3b8d),
	IOCTL_ROW(IOMMU_FAULT_QUEUE_ALLOC, 0x8e, 0x3b8e),
	IOCTL_ROW(IOMMU_IOAS_MAP_FILE, 0x8f, 0x3b8f),
	IOCTL_ROW(IOMMU_VIOMMU_ALLOC, 0x90, 0x3b90),
	IOCTL_ROW(IOMMU_VDEVICE_ALLOC, 0x91, 0x3b91),
	IOCTL_ROW(IOMMU_IOAS_CHANGE_PROCESS, 0x92, 0x3b92),
	IOCTL_ROW(IOMMU_VEVENTQ_ALLOC, 0x93, 0x3b93),
	IOCTL_ROW(IOMMU_HW_QUEUE_ALLOC, 0x94, 0x3b94),
	IOCTL_ROW(IOMMU_TEST_CMD, 0xa0, 0x3ba0),
};

/* Structs: size, and for ioctl structs the minimum size (0: not an ioctl struct). */
struct size_row {
	const char *name;
	size_t size, min;
	size_t want_size, want_min;
};

#define IOCTL_STRUCT(t, last, sz, mn)                                               \
	{                                                                           \
		"struct " #t, sizeof(struct t), OFFSETOFEND(struct t, last), sz, mn \
	}
#define DATA_STRUCT(t, sz)                               \
	{                                                \
		"struct " #t, sizeof(struct t), 0, sz, 0 \
	}

static const struct size_row size_rows[] = {
	IOCTL_STRUCT(iommu_destroy, id, 8, 8),
	IOCTL_STRUCT(iommu_ioas_alloc, out_ioas_id, 12, 12),
	IOCTL_STRUCT(iommu_ioas_allow_iovas, allowed_iovas, 24, 24),
	IOCTL_STRUCT(iommu_ioas_copy, src_iova, 40, 40),
	IOCTL_STRUCT(iommu_ioas_iova_ranges, out_iova_alignment, 32, 32),
	IOCTL_STRUCT(iommu_ioas_map, iova, 40, 40),
	IOCTL_STRUCT(iommu_ioas_unmap, length, 24, 24),
	IOCTL_STRUCT(iommu_option, val64, 24, 24),
	IOCTL_STRUCT(iommu_vfio_ioas, __reserved, 12, 12),
	IOCTL_STRUCT(iommu_hwpt_alloc, __reserved, 48, 24),
	IOCTL_STRUCT(iommu_hw_info, __reserved, 40, 32),
	IOCTL_STRUCT(iommu_hwpt_set_dirty_tracking, __reserved, 16, 16),
	IOCTL_STRUCT(iommu_hwpt_get_dirty_bitmap, data, 48, 48),
	IOCTL_STRUCT(iommu_hwpt_invalidate, __reserved, 32, 32),
	IOCTL_STRUCT(iommu_fault_alloc, out_fault_fd, 16, 16),
	IOCTL_STRUCT(iommu_ioas_map_file, iova, 40, 40),
	IOCTL_STRUCT(iommu_viommu_alloc, out_viommu_id, 40, 24),
	IOCTL_STRUCT(iommu_vdevice_alloc, virt_id, 24, 24),
	IOCTL_STRUCT(iommu_ioas_change_process, __reserved, 8, 8),
	IOCTL_STRUCT(iommu_veventq_alloc, out_veventq_fd, 32, 28),
	IOCTL_STRUCT(iommu_hw_queue_alloc, length, 40, 40),
	IOCTL_STRUCT(iommu_test_cmd, last, 72, 68),
	DATA_STRUCT(iommu_iova_range, 16),
	DATA_STRUCT(iommu_hwpt_vtd_s1, 24),
	DATA_STRUCT(iommu_hwpt_arm_smmuv3, 16),
	DATA_STRUCT(iommu_hw_info_vtd, 24),
	DATA_STRUCT(iommu_hw_info_arm_smmuv3, 40),
	DATA_STRUCT(iommu_hw_info_tegra241_cmdqv, 8),
	DATA_STRUCT(iommu_hwpt_vtd_s1_invalidate, 24),
	DATA_STRUCT(iommu_viommu_arm_smmuv3_invalidate, 16),
	DATA_STRUCT(iommu_hwpt_pgfault, 40),
	DATA_STRUCT(iommu_hwpt_page_response, 8),
	DATA_STRUCT(iommu_viommu_tegra241_cmdqv, 16),
	DATA_STRUCT(iommufd_vevent_header, 8),
	DATA_STRUCT(iommu_vevent_arm_smmuv3, 32),
	DATA_STRUCT(iommu_vevent_tegra241_cmdqv, 16),
	DATA_STRUCT(iommu_test_hw_info, 8),
	DATA_STRUCT(iommu_hwpt_selftest, 8),
	DATA_STRUCT(iommu_hwpt_invalidate_selftest, 8),
	DATA_STRUCT(iommu_viommu_selftest, 24),
	DATA_STRUCT(iommu_viommu_invalidate_selftest, 12),
	DATA_STRUCT(iommu_viommu_event_selftest, 4),
};

/* Every enum and constant, with its value from the reference. */
struct const_row {
	const char *name;
	unsigned long long value, want;
};

#define C(name, want)                                   \
	{                                               \
#name, (unsigned long long)(name), want \
	}

static const struct const_row const_rows[] = {
	C(IOMMUFD_TYPE, 0x3b),
	C(IOMMUFD_CMD_BASE, 0x80),
	/* enum iommufd_ioas_map_flags */
	C(IOMMU_IOAS_MAP_FIXED_IOVA, 1),
	C(IOMMU_IOAS_MAP_WRITEABLE, 2),
	C(IOMMU_IOAS_MAP_READABLE, 4),
	/* enum iommufd_option, enum iommufd_option_ops */
	C(IOMMU_OPTION_RLIMIT_MODE, 0),
	C(IOMMU_OPTION_HUGE_PAGES, 1),
	C(IOMMU_OPTION_OP_SET, 0),
	C(IOMMU_OPTION_OP_GET, 1),
	/* enum iommufd_vfio_ioas_op */
	C(IOMMU_VFIO_IOAS_GET, 0),
	C(IOMMU_VFIO_IOAS_SET, 1),
	C(IOMMU_VFIO_IOAS_CLEAR, 2),
	/* enum iommufd_hwpt_alloc_flags */
	C(IOMMU_HWPT_ALLOC_NEST_PARENT, 1),
	C(IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 2),
	C(IOMMU_HWPT_FAULT_ID_VALID, 4),
	C(IOMMU_HWPT_ALLOC_PASID, 8),
	/* enum iommu_hwpt_vtd_s1_flags */
	C(IOMMU_VTD_S1_SRE, 1),
	C(IOMMU_VTD_S1_EAFE, 2),
	C(IOMMU_VTD_S1_WPE, 4),
	/* enum iommu_hwpt_data_type */
	C(IOMMU_HWPT_DATA_NONE, 0),
	C(IOMMU_HWPT_DATA_VTD_S1, 1),
	C(IOMMU_HWPT_DATA_ARM_SMMUV3, 2),
	/* enum iommu_hw_info_vtd_flags */
	C(IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, 1),
	/* enum iommu_hw_info_type */
	C(IOMMU_HW_INFO_TYPE_NONE, 0),
	C(IOMMU_HW_INFO_TYPE_DEFAULT, 0),
	C(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1),
	C(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, 2),
	C(IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, 3),
	/* enum iommufd_hw_capabilities, enum iommufd_hw_info_flags */
	C(IOMMU_HW_CAP_DIRTY_TRACKING, 1),
	C(IOMMU_HW_CAP_PCI_PASID_EXEC, 2),
	C(IOMMU_HW_CAP_PCI_PASID_PRIV, 4),
	C(IOMMU_HW_INFO_FLAG_INPUT_TYPE, 1),
	/* dirty tracking flags */
	C(IOMMU_HWPT_DIRTY_TRACKING_ENABLE, 1),
	C(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 1),
	/* enum iommu_hwpt_invalidate_data_type, VT-d invalidation flags */
	C(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0),
	C(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 1),
	C(IOMMU_VTD_INV_FLAGS_LEAF, 1),
	/* page faults */
	C(IOMMU_PGFAULT_FLAGS_PASID_VALID, 1),
	C(IOMMU_PGFAULT_FLAGS_LAST_PAGE, 2),
	C(IOMMU_PGFAULT_PERM_READ, 1),
	C(IOMMU_PGFAULT_PERM_WRITE, 2),
	C(IOMMU_PGFAULT_PERM_EXEC, 4),
	C(IOMMU_PGFAULT_PERM_PRIV, 8),
	C(IOMMUFD_PAGE_RESP_SUCCESS, 0),
	C(IOMMUFD_PAGE_RESP_INVALID, 1),
	/* enum iommu_viommu_type */
	C(IOMMU_VIOMMU_TYPE_DEFAULT, 0),
	C(IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 1),
	C(IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, 2),
	/* vEVENTQ */
	C(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1),
	C(IOMMU_VEVENTQ_TYPE_DEFAULT, 0),
	C(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1),
	C(IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 2),
	/* enum iommu_hw_queue_type */
	C(IOMMU_HW_QUEUE_TYPE_DEFAULT, 0),
	C(IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 1),
	/* selftest operations */
	C(IOMMU_TEST_OP_ADD_RESERVED, 1),
	C(IOMMU_TEST_OP_MOCK_DOMAIN, 2),
	C(IOMMU_TEST_OP_MD_CHECK_MAP, 3),
	C(IOMMU_TEST_OP_MD_CHECK_REFS, 4),
	C(IOMMU_TEST_OP_CREATE_ACCESS, 5),
	C(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, 6),
	C(IOMMU_TEST_OP_ACCESS_PAGES, 7),
	C(IOMMU_TEST_OP_ACCESS_RW, 8),
	C(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 9),
	C(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, 10),
	C(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, 11),
	C(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, 12),
	C(IOMMU_TEST_OP_DIRTY, 13),
	C(IOMMU_TEST_OP_MD_CHECK_IOTLB, 14),
	C(IOMMU_TEST_OP_TRIGGER_IOPF, 15),
	C(IOMMU_TEST_OP_DEV_CHECK_CACHE, 16),
	C(IOMMU_TEST_OP_TRIGGER_VEVENT, 17),
	C(IOMMU_TEST_OP_PASID_ATTACH, 18),
	C(IOMMU_TEST_OP_PASID_REPLACE, 19),
	C(IOMMU_TEST_OP_PASID_DETACH, 20),
	C(IOMMU_TEST_OP_PASID_CHECK_HWPT, 21),
	C(IOMMU_TEST_OP_DMABUF_GET, 22),
	C(IOMMU_TEST_OP_DMABUF_REVOKE, 23),
	C(IOMMU_TEST_OP_MD_CHECK_DMABUF, 24),
	/* selftest mock constants */
	C(MOCK_IOMMUPT_DEFAULT, 0),
	C(MOCK_IOMMUPT_HUGE, 1),
	C(MOCK_IOMMUPT_AMDV1, 2),
	C(MOCK_APERTURE_START, 0x1000000),
	C(MOCK_APERTURE_LAST, 0x7fffffff),
	C(MOCK_PAGE_SIZE, 2048),
	C(MOCK_HUGE_PAGE_SIZE, 0x100000),
	C(MOCK_FLAGS_ACCESS_WRITE, 1),
	C(MOCK_FLAGS_ACCESS_SYZ, 0x10000),
	C(MOCK_ACCESS_RW_WRITE, 1),
	C(MOCK_ACCESS_RW_SLOW_PATH, 4),
	C(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, 1),
	C(MOCK_FLAGS_DEVICE_NO_DIRTY, 1),
	C(MOCK_FLAGS_DEVICE_HUGE_IOVA, 2),
	C(MOCK_FLAGS_DEVICE_PASID, 4),
	C(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX, 3),
	C(MOCK_NESTED_DOMAIN_IOTLB_NUM, 4),
	C(MOCK_DEV_CACHE_ID_MAX, 3),
	C(MOCK_DEV_CACHE_NUM, 4),
	C(MOCK_PASID_WIDTH, 20),
	C(IOMMU_TEST_PASID_RESERVED, 1024),
	C(IOMMU_HW_INFO_TYPE_SELFTEST, 0xfeedbeef),
	C(IOMMU_HW_INFO_SELFTEST_REGVAL, 0xdeadbeef),
	C(IOMMU_HWPT_DATA_SELFTEST, 0xdead),
	C(IOMMU_TEST_IOTLB_DEFAULT, 0xbadbeef),
	C(IOMMU_TEST_DEV_CACHE_DEFAULT, 0xbaddad),
	C(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0xdeadbeef),
	C(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, 0xdadbeef),
	C(IOMMU_TEST_INVALIDATE_FLAG_ALL, 1),
	C(IOMMU_VIOMMU_TYPE_SELFTEST, 0xdeadbeef),
	C(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, 0xdeadbeef),
	C(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID, 0xdadbeef),
	C(IOMMU_VEVENTQ_TYPE_SELFTEST, 0xbeefbeef),
	C(IOMMU_HW_QUEUE_TYPE_SELFTEST, 0xdeadbeef),
	C(IOMMU_TEST_HW_QUEUE_MAX, 2),
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int main(void)
{
	char name[160];
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n",
	       ARRAY_SIZE(ioctl_rows) + ARRAY_SIZE(size_rows) + ARRAY_SIZE(const_rows) + 1);

	for (i = 0; i < ARRAY_SIZE(ioctl_rows); i++) {
		const struct ioctl_row *r = &ioctl_rows[i];
		int ok = r->req == r->want_req && _IOC_TYPE(r->req) == ';' &&
			 _IOC_NR(r->req) == r->want_nr && _IOC_DIR(r->req) == _IOC_NONE &&
			 _IOC_SIZE(r->req) == 0;

		snprintf(name, sizeof(name), "%s = _IO(';', %#x) = %#llx", r->name, r->want_nr,
			 r->want_req);
		point(ok, name, r->req, r->want_req);
	}

	for (i = 0; i < ARRAY_SIZE(size_rows); i++) {
		const struct size_row *r = &size_rows[i];
		int ok = r->size == r->want_size && r->min == r->want_min;

		if (r->want_min)
			snprintf(name, sizeof(name), "sizeof(%s) = %zu, min size %zu", r->name,
				 r->want_size, r->want_min);
		else
			snprintf(name, sizeof(name), "sizeof(%s) = %zu", r->name, r->want_size);
		point(ok, name, r->size, r->want_size);
		if (!ok)
			printf("# size %zu, min size %zu\n", r->size, r->min);
	}

	for (i = 0; i < ARRAY_SIZE(const_rows); i++) {
		const struct const_row *r = &const_rows[i];

		snprintf(name, sizeof(name), "%s = %#llx", r->name, r->want);
		point(r->value == r->want, name, r->value, r->want);
	}

	/* The second translation unit, with the kernel selftest's include pattern. */
	point(uapi_tu2_check() == 0, "second TU (test header first, selftest's macros) agrees",
	      uapi_tu2_check(), 0);

	return failures ? 1 : 0;
}
