// SPDX-License-Identifier: MIT
/*
 * uiommu.c - the exported face of libuiommu: thin wrappers that turn the
 * internal layers into the stable uiommu_* API of include/uiommu/.
 * One file per public header beyond the basics (uiommu_pt.c for pt.h).
 */
#include "config.h"
#include <uiommu/uiommu.h>

#include "uiommu_private.h"

UIOMMU_EXPORT const char *uiommu_version(void)
{
	return UIOMMU_VERSION;
}
