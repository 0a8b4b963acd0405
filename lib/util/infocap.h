/* SPDX-License-Identifier: MIT */
/*
 * Capability chains of VFIO-style INFO structs (reference vfio.md §1.3).
 *
 * An INFO ioctl (VFIO_IOMMU_GET_INFO, VFIO_DEVICE_GET_REGION_INFO ...)
 * may follow its fixed struct with a chain of capabilities, each starting
 * with {u16 id; u16 version; u32 next;}, where next is the offset of the
 * following one from the start of the INFO struct (0 ends the chain) and
 * every capability is padded to a multiple of 8 bytes. The kernel builds
 * the chain in a buffer, then either copies it right behind the struct
 * (cap_offset = sizeof(struct)) when the caller's argsz leaves room for it
 * all, or copies nothing and reports the size needed in argsz.
 *
 * Usage: struct infocap caps = {0}; p = infocap_add(&caps, size, id, 1)
 * for each capability (fill the payload behind the header); infocap_shift()
 * by the struct's size when it fits; copy caps.buf/caps.size out;
 * infocap_free(). A failed add (-ENOMEM) frees the chain and makes every
 * later add fail too: check caps.err once at the end.
 */
#ifndef UIOMMU_UTIL_INFOCAP_H
#define UIOMMU_UTIL_INFOCAP_H

#include <stddef.h>
#include <stdint.h>

struct infocap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next;
};

struct infocap {
	uint8_t *buf;
	size_t size;
	int err; /* 0 or -ENOMEM */
};

/* Append a zeroed capability of @size bytes (header included); NULL on failure. */
void *infocap_add(struct infocap *caps, size_t size, uint16_t id, uint16_t version);
/* Turn the chain's offsets (from the buffer's start) into offsets from a struct of @offset bytes.
 */
void infocap_shift(struct infocap *caps, size_t offset);
void infocap_free(struct infocap *caps);

#endif
