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

#include <stdbool.h>
#include <stddef.h>

struct uiommu_file;

/*
 * uiommu_path.c: lexical normalisation of an absolute path (0, -EINVAL for
 * a relative one, -ENAMETOOLONG), and open(2) of a path of the emulated
 * namespace (NULL with *err = -errno).
 */
int upath_normalize(const char *path, char *out, size_t size, bool *trailing_slash);
struct uiommu_file *upath_open(const char *path, int flags, int *err);

/* uiommu_process.c: read the process-wide settings of the environment (once). */
void uiommu_process_init(void);

#endif
