// SPDX-License-Identifier: MIT
/*
 * parse.c - permissions, stage configuration flags and sizes as people
 * write and read them.
 *
 * Scenario files and command-line options accept the same spellings, so
 * one parser serves both (numbers: util/numparse.h). Nothing here prints;
 * callers turn -EINVAL into messages that name the option or JSON key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "pt/pt.h"

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
