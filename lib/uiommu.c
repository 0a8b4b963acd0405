// SPDX-License-Identifier: MIT
/*
 * uiommu.c - the exported face of libuiommu: thin wrappers that turn the
 * internal layers into the stable uiommu_* API of include/uiommu/.
 */
#include "config.h"
#include <uiommu/uiommu.h>

#define UIOMMU_EXPORT __attribute__((visibility("default")))

UIOMMU_EXPORT const char *uiommu_version(void)
{
	return UIOMMU_VERSION;
}
