/* SPDX-License-Identifier: MIT */
/*
 * libuiommu - the Linux nested-IOMMU stack in userspace.
 *
 * This header is the installed, stable face of the library. Everything
 * exported is prefixed uiommu_ and listed in lib/libuiommu.map.
 */
#ifndef UIOMMU_UIOMMU_H
#define UIOMMU_UIOMMU_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * uiommu_version() - version of the library, "MAJOR.MINOR.PATCH".
 */
const char *uiommu_version(void);

#ifdef __cplusplus
}
#endif

#include <uiommu/pt.h>

#endif
