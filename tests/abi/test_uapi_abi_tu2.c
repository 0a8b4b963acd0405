/* SPDX-License-Identifier: MIT */
/*
 * tests/abi/test_uapi_abi_tu2.c - the headers included the way the kernel
 * selftest includes them: the test header first (it pulls in
 * <linux/iommufd.h> itself), each header a second time, and then the
 * selftest's own helpers - offsetofend() and, in 6.12, MOCK_PAGE_SIZE as a
 * macro - defined after them. None of that may clash with the headers, and
 * the layout helpers the headers use must not leak out of them.
 */
#include <linux/iommufd_test.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>
#include <linux/iommufd.h>

#include <stddef.h>

#include "test_uapi_abi_tu2.h"

#if defined(UIOMMU_UAPI_ASSERT) || defined(UIOMMU_UAPI_SIZE) || defined(UIOMMU_UAPI_OFF) || \
	defined(UIOMMU_UAPI_MIN) || defined(UIOMMU_UAPI_OFFSETOFEND) || defined(UIOMMU_UAPI_TC)
#error "a layout helper macro leaked out of the uapi headers"
#endif

/* As tools/testing/selftests/iommu/iommufd_utils.h and iommufd.c (6.12) have them. */
#define sizeof_field(TYPE, MEMBER) sizeof((((TYPE *)0)->MEMBER))
#define offsetofend(TYPE, MEMBER)  (offsetof(TYPE, MEMBER) + sizeof_field(TYPE, MEMBER))
#define MOCK_PAGE_SIZE		   (4096 / 2)
#define MOCK_HUGE_PAGE_SIZE	   (512 * MOCK_PAGE_SIZE)

unsigned long long uapi_tu2_check(void)
{
	unsigned long long bad = 0;

	bad |= (unsigned long long)(offsetofend(struct iommu_test_cmd, last) != 68) << 0;
	bad |= (unsigned long long)(sizeof(struct iommu_test_cmd) != 72) << 1;
	bad |= (unsigned long long)(offsetofend(struct iommu_hwpt_selftest, iotlb) != 4) << 2;
	bad |= (unsigned long long)(MOCK_PAGE_SIZE != 2048) << 3;
	bad |= (unsigned long long)(MOCK_HUGE_PAGE_SIZE != 0x100000) << 4;
	bad |= (unsigned long long)(offsetofend(struct iommu_hw_info, __reserved) != 32) << 5;
	bad |= (unsigned long long)(IOMMU_TEST_CMD != 0x3ba0) << 6;
	return bad;
}
