/* SPDX-License-Identifier: MIT */
/*
 * uiommu/pt.h - page tables of real IOMMU formats, for embedders.
 */
#ifndef UIOMMU_PUBLIC_PT_H
#define UIOMMU_PUBLIC_PT_H

#endif
