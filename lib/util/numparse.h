/* SPDX-License-Identifier: MIT */
/*
 * Numbers as people write them in command-line options and JSON files:
 * "0x8040_2000", "4K", "2M", 4096.
 */
#ifndef UIOMMU_UTIL_NUMPARSE_H
#define UIOMMU_UTIL_NUMPARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parse an unsigned 64-bit number: decimal, or hexadecimal with 0x, with
 * '_' allowed between digits and an optional binary suffix K, M, G, T, P
 * or E (upper or lower case, "4K" = 4096). 0, -EINVAL for bad syntax,
 * -ERANGE when the value does not fit in 64 bits.
 */
int parse_u64(const char *s, uint64_t *out);

/*
 * The plain spelling only: decimal, or hexadecimal with 0x; no sign, no
 * '_', no suffix. False for anything else, including a value beyond 64 bits.
 */
bool parse_u64_plain(const char *s, uint64_t *out);

/*
 * An index as /proc and /dev write them ("/dev/vfio/12", "vfio3"): decimal
 * digits with nothing after them, no leading zero ("0" itself is fine),
 * below 2^32. False for anything else.
 */
bool parse_dec_index(const char *s, unsigned int *out);

#endif
