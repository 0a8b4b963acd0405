// SPDX-License-Identifier: MIT
/*
 * numparse.c - unsigned numbers as people write them.
 *
 * Command-line options and scenario files accept the same spellings, so one
 * parser serves both: decimal or 0x-hex digits with optional '_' separators,
 * then one binary size suffix. Topology files (doc/topology.md) accept the
 * plain spelling only, decimal or 0x-hex digits; device paths, decimal
 * indices without leading zeros. Nothing here prints or allocates; callers
 * turn -EINVAL / -ERANGE into messages that name the option or the JSON
 * key. No state, no locks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/numparse.h"

static int digit_value(char c, unsigned int base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return (unsigned int)v < base ? v : -1;
}

static unsigned int suffix_shift(char c)
{
	switch (c) {
	case 'k':
	case 'K':
		return 10;
	case 'm':
	case 'M':
		return 20;
	case 'g':
	case 'G':
		return 30;
	case 't':
	case 'T':
		return 40;
	case 'p':
	case 'P':
		return 50;
	case 'e':
	case 'E':
		return 60;
	}
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned int base = 10, shift;
	uint64_t v = 0;
	bool any = false, prev_sep = false;
	int d;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		if (*s == '_') {
			/* Only between digits: not first, not doubled. */
			if (!any || prev_sep)
				return -EINVAL;
			prev_sep = true;
			continue;
		}
		d = digit_value(*s, base);
		if (d < 0)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
		any = true;
		prev_sep = false;
	}
	if (!any || prev_sep)
		return -EINVAL;
	if (*s) {
		/* "0x10K" would be ambiguous next to hex digits; sizes are decimal. */
		shift = suffix_shift(*s);
		if (!shift || s[1] || base == 16)
			return -EINVAL;
		if (v > (UINT64_MAX >> shift))
			return -ERANGE;
		v <<= shift;
	}
	*out = v;
	return 0;
}

bool parse_u64_plain(const char *s, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		int d = digit_value(*s, base);

		if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return true;
}

bool parse_dec_index(const char *s, unsigned int *out)
{
	unsigned long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (unsigned int)v;
	return true;
}
