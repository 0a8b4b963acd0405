/* SPDX-License-Identifier: MIT */
/*
 * Raw memory images: a file whose bytes are physical memory at a chosen
 * base address ("dump.bin@0x80000000"), presented as a pt_mem region.
 */
#ifndef UIOMMU_TOOLS_MEMIMAGE_H
#define UIOMMU_TOOLS_MEMIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "pt/pt.h"

struct memimage {
	char *file;
	uint64_t base, size;
	void *map; /* private copy-on-write mapping: A/D updates never reach the file */
};

/*
 * Split "FILE[@BASE]" (the last '@' separates; no '@' means base 0).
 * 0, or -EINVAL with @err saying what is wrong with BASE.
 */
int memimage_parse_spec(const char *spec, char **file, uint64_t *base, char *err, size_t errlen);

/* Map @file at @base. 0, or -errno with "FILE: reason" in @err. */
int memimage_open(struct memimage *img, const char *file, uint64_t base, char *err, size_t errlen);
void memimage_close(struct memimage *img);

/* Add the image as a region of @mem. */
void memimage_add_region(const struct memimage *img, struct pt_mem *mem);

#endif
