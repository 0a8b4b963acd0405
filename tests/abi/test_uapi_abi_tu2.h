/* SPDX-License-Identifier: MIT */
/* tests/abi: the second translation unit of test_uapi_abi. */
#ifndef UIOMMU_TEST_UAPI_ABI_TU2_H
#define UIOMMU_TEST_UAPI_ABI_TU2_H

/* 0 when every check of the second TU held, else a bit per failed check. */
unsigned long long uapi_tu2_check(void);

#endif
