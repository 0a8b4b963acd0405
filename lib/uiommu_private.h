/* SPDX-License-Identifier: MIT */
/*
 * Shared by the lib/uiommu*.c files that implement the public API: the
 * marker that exports a definition. Everything else in the library is
 * compiled with hidden visibility, and lib/libuiommu.map keeps only
 * uiommu_* in the dynamic symbol table.
 */
#ifndef UIOMMU_LIB_PRIVATE_H
#define UIOMMU_LIB_PRIVATE_H

#define UIOMMU_EXPORT __attribute__((visibility("default")))

#endif
