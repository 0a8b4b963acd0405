/* SPDX-License-Identifier: MIT */
/*
 * Bit and range helpers shared by every layer. Ranges follow the kernel's
 * convention: "last" is inclusive, "end" is exclusive.
 */
#ifndef UIOMMU_UTIL_BITS_H
#define UIOMMU_UTIL_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIT(n)		  (1ULL << (n))
/* Mask of bits hi..lo inclusive, hi >= lo, hi <= 63. */
#define GENMASK(hi, lo)	  ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))
#define FIELD_GET(m, v)	  (((v) & (m)) >> __builtin_ctzll(m))
#define FIELD_PREP(m, v)  (((uint64_t)(v) << __builtin_ctzll(m)) & (m))
#define ARRAY_SIZE(a)	  (sizeof(a) / sizeof((a)[0]))
#define ALIGN_DOWN(x, a)  ((x) & ~((uint64_t)(a)-1))
#define ALIGN_UP(x, a)	  (((x) + ((uint64_t)(a)-1)) & ~((uint64_t)(a)-1))
#define IS_ALIGNED(x, a)  (((x) & ((uint64_t)(a)-1)) == 0)
#define MIN(a, b)	  ((a) < (b) ? (a) : (b))
#define MAX(a, b)	  ((a) > (b) ? (a) : (b))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Low n bits set; n may be 64. */
static inline __attribute__((always_inline)) uint64_t mask_bits(unsigned int n)
{
	return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

static inline bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static inline unsigned int ilog2_u64(uint64_t x)
{
	return 63 - __builtin_clzll(x);
}

/* True when [start, start + len) wraps past 2^64 (len > 0). */
static inline bool range_wraps(uint64_t start, uint64_t len)
{
	return start + (len - 1) < start;
}

#endif
