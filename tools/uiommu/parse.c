// SPDX-License-Identifier: MIT
/*
 * parse.c - numbers, sizes, permissions and flags as people write them.
 *
 * Scenario files and command-line options accept the same spellings, so
 * one parser serves both: decimal or 0x-hex digits with optional '_'
 * separators, then one binary size suffix. Nothing here prints; callers
 * turn -EINVAL / -ERANGE into messages that name the option or JSON key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "pt/pt.h"

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

int parse_prot(const char *s, unsigned int *prot)
{
	unsigned int p = 0, bit;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		switch (*s) {
		case 'r':
			bit = PT_PROT_R;
			break;
		case 'w':
			bit = PT_PROT_W;
			break;
		case 'x':
			bit = PT_PROT_X;
			break;
		case 'u':
			bit = PT_PROT_U;
			break;
		default:
			return -EINVAL;
		}
		if (p & bit)
			return -EINVAL;
		p |= bit;
	}
	*prot = p;
	return 0;
}

const char *prot_str(unsigned int prot, char *buf)
{
	buf[0] = prot & PT_PROT_R ? 'r' : '-';
	buf[1] = prot & PT_PROT_W ? 'w' : '-';
	buf[2] = prot & PT_PROT_X ? 'x' : '-';
	buf[3] = prot & PT_PROT_U ? 'u' : '-';
	buf[4] = 0;
	return buf;
}

const char *prot_letters(unsigned int prot, char *buf)
{
	char *p = buf;

	if (prot & PT_PROT_R)
		*p++ = 'r';
	if (prot & PT_PROT_W)
		*p++ = 'w';
	if (prot & PT_PROT_X)
		*p++ = 'x';
	if (prot & PT_PROT_U)
		*p++ = 'u';
	*p = 0;
	return p == buf ? "none" : buf;
}

const char *size_str(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int u = -1;
	uint64_t v = size;

	while (v && !(v & 1023) && u < 5) {
		v >>= 10;
		u++;
	}
	if (u < 0 || !size)
		snprintf(buf, len, "%s%llx", size ? "0x" : "", (unsigned long long)size);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
	return buf;
}

static const struct {
	const char *name;
	unsigned int flag;
} cfg_flags[] = {
	{"hw-ad", PT_CFG_HW_AD}, {"affd", PT_CFG_AFFD},		  {"no-1g", PT_CFG_NO_1G},
	{"no-2m", PT_CFG_NO_2M}, {"no-blocks", PT_CFG_NO_BLOCKS},
};

const char cfg_flag_names[] = "hw-ad, affd, no-1g, no-2m or no-blocks";

int parse_cfg_flag(const char *s, unsigned int *flag)
{
	for (size_t i = 0; i < sizeof(cfg_flags) / sizeof(cfg_flags[0]); i++) {
		if (!strcmp(s, cfg_flags[i].name)) {
			*flag = cfg_flags[i].flag;
			return 0;
		}
	}
	return -EINVAL;
}
