/* SPDX-License-Identifier: MIT */
/*
 * fuzz_prog.h - the input reader that the ioctl-program fuzz targets share
 * (fuzz_iommufd.c over /dev/iommu, fuzz_vfio.c over the VFIO files).
 *
 * An input is read front to back; a read past its end gives 0, so every
 * input decodes to some program. Each record names a request from the
 * target's op table, then a mode byte and a payload, and these helpers
 * decode the parts both targets spell alike: the payload bytes, the
 * struct's size field (mode bits 1:0) and the argument pointer (mode bits
 * 5:3). They consume the input exactly as the targets' own copies did, so
 * the corpora in corpus/<target>/ replay the same programs.
 */
#ifndef UIOMMU_FUZZ_PROG_H
#define UIOMMU_FUZZ_PROG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FUZZ_PAYLOAD_MAX 96 /* payload bytes a record carries at most */

struct input {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t get8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Little endian. */
static inline uint32_t get32(struct input *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)get8(in) << (8 * i);
	return v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The payload: @buf's first 256 bytes cleared, then up to FUZZ_PAYLOAD_MAX input bytes. */
static inline void fuzz_payload(struct input *in, uint8_t *buf)
{
	size_t n;

	memset(buf, 0, 256);
	n = get8(in) % (FUZZ_PAYLOAD_MAX + 1);
	for (size_t i = 0; i < n; i++)
		buf[i] = get8(in);
}

/*
 * The size field by @mode bits 1:0: @ours, @below_min (the target's "our
 * minimum - 1"), @ours + 0..23, or a raw number below 8192.
 */
static inline size_t fuzz_size(struct input *in, uint8_t mode, size_t ours, size_t below_min)
{
	switch (mode & 3) {
	case 1:
		return below_min;
	case 2:
		return ours + get8(in) % 24;
	case 3:
		return get32(in) % 8192;
	}
	return ours;
}

/* The argument by @mode bits 5:3: 6 NULL, 7 a wild pointer, anything else @buf. */
static inline void *fuzz_arg(struct input *in, uint8_t mode, void *buf)
{
	switch ((mode >> 3) & 7) {
	case 6:
		return NULL;
	case 7:
		return (void *)(uintptr_t)(0x1000 + get32(in));
	}
	return buf;
}

#endif
