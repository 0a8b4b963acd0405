/* SPDX-License-Identifier: MIT */
/*
 * The CLI's JSON files: util/json_field.h (loading with positions, key
 * checking, typed field readers) in the scenario files' spelling, and the
 * one reader that needs page-table permissions (lib/pt), which lib/util
 * cannot know.
 */
#ifndef UIOMMU_TOOLS_JFIELD_H
#define UIOMMU_TOOLS_JFIELD_H

#include "util/json_field.h"

/*
 * Read @file (a regular file of at most 16 MiB), parse it (duplicate keys
 * refused) and index it. 0 with *root; else a negative errno and one line
 * in @err ("FILE: reason", or "FILE:LINE:COL: invalid JSON: ..."). @jf
 * keeps @file and @err; jf_free() releases the index.
 */
int jf_load(struct jf *jf, const char *file, json_t **root, char *err, size_t errlen);

/* Permissions: letters r, w, x, u with r or w; "rw" when absent. 0 or -EINVAL. */
int jf_get_prot(struct jf *jf, json_t *obj, const char *opath, unsigned int *prot);

#endif
