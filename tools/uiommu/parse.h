/* SPDX-License-Identifier: MIT */
/*
 * Parsing and printing of the small values the CLI and scenario files share:
 * numbers and sizes ("0x8040_2000", "4K", "2M", 4096), permission strings
 * ("rw", "rwx", "ru"), stage configuration flags, and human sizes.
 */
#ifndef UIOMMU_TOOLS_PARSE_H
#define UIOMMU_TOOLS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "util/numparse.h" /* parse_u64(), which the CLI's callers reach through here */

/*
 * Parse a permission string made of the letters r, w, x, u (each at most
 * once, any order) into PT_PROT_* bits. "" is invalid. 0 or -EINVAL.
 */
int parse_prot(const char *s, unsigned int *prot);

/* "rwxu" with '-' for missing bits, into @buf (at least 5 bytes). */
const char *prot_str(unsigned int prot, char *buf);
/* The set letters only ("rw"), "none" when empty; @buf at least 5 bytes. */
const char *prot_letters(unsigned int prot, char *buf);

/*
 * A size for people: "4K", "2M", "1G", "512G" when exact, else hex
 * ("0x1800"). @buf at least 24 bytes.
 */
const char *size_str(uint64_t size, char *buf, size_t len);

/* Stage configuration flags by name (hw-ad, affd, no-1g, no-2m, no-blocks). */
int parse_cfg_flag(const char *s, unsigned int *flag);
/* "hw-ad, affd, no-1g, no-2m or no-blocks" for error messages. */
extern const char cfg_flag_names[];

#endif
