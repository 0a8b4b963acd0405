// SPDX-License-Identifier: MIT
/*
 * stagecfg.c - a translation stage as people describe it.
 *
 * lib/pt owns the architecture: pt_cfg_init() accepts or rejects a
 * configuration but only says -EINVAL. A user needs to know which of the
 * values they wrote is wrong, so when pt_cfg_init() refuses we try again
 * with each field the user gave replaced by that format's default; if
 * exactly one replacement makes it valid, that field is the one to blame.
 * This keeps every architectural rule in lib/pt (nothing is re-checked
 * here except the granule list, which is needed to say what is expected)
 * and still points at the exact key or option.
 *
 * Formats whose back end is not built yet answer -EOPNOTSUPP even for
 * their defaults; that is reported as "not supported by this build".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "stagecfg.h"

static const char *const field_keys[SF_NR] = {
	[SF_GRANULE] = "granule", [SF_IAS] = "ias",	  [SF_OAS] = "oas",
	[SF_SL0] = "sl0",	  [SF_LEVELS] = "levels", [SF_WINDOW_BASE] = "window_base",
};

static const char *const field_opts[SF_NR] = {
	[SF_GRANULE] = "granule", [SF_IAS] = "ias",	  [SF_OAS] = "oas",
	[SF_SL0] = "sl0",	  [SF_LEVELS] = "levels", [SF_WINDOW_BASE] = "window-base",
};

const char *stage_field_key(enum stage_field f)
{
	return (unsigned int)f < SF_NR ? field_keys[f] : "?";
}

const char *stage_field_opt(enum stage_field f)
{
	return (unsigned int)f < SF_NR ? field_opts[f] : "?";
}

bool stage_format_ok(enum pt_format f, enum stage_kind kind)
{
	switch (kind) {
	case STAGE_1:
		return f == PT_VMSA_S1 || f == PT_X86 || f == PT_TCE;
	case STAGE_2:
		return f == PT_VMSA_S2 || f == PT_VTD_SS;
	case STAGE_ANY:
		return (unsigned int)f < PT_NR_FORMATS;
	}
	return false;
}

const char *stage_formats_expected(enum stage_kind kind)
{
	switch (kind) {
	case STAGE_1:
		return "vmsa-s1, x86 or tce";
	case STAGE_2:
		return "vmsa-s2 or vtd-ss";
	case STAGE_ANY:
		break;
	}
	return "vmsa-s1, vmsa-s2, x86, vtd-ss or tce";
}

bool stage_granule_ok(enum pt_format f, unsigned int shift)
{
	switch (f) {
	case PT_VMSA_S1:
	case PT_VMSA_S2:
		return shift == 12 || shift == 14 || shift == 16;
	case PT_X86:
	case PT_VTD_SS:
		return shift == 12;
	case PT_TCE:
		/* IOMMU page sizes: the format decides which it walks. */
		return shift >= 12 && shift <= 34;
	case PT_NR_FORMATS:
		break;
	}
	return false;
}

const char *stage_granules_expected(enum pt_format f)
{
	switch (f) {
	case PT_VMSA_S1:
	case PT_VMSA_S2:
		return "4K, 16K or 64K";
	case PT_X86:
	case PT_VTD_SS:
		return "4K";
	case PT_TCE:
		return "a power of two from 4K to 16G";
	case PT_NR_FORMATS:
		break;
	}
	return "?";
}

/* Defaults: the common configuration of each format (doc/scenario.md). */
static struct pt_cfg format_default(enum pt_format f)
{
	struct pt_cfg d = {.format = f, .granule_shift = 12, .sl0 = -1};

	switch (f) {
	case PT_VMSA_S1:
	case PT_VMSA_S2:
	case PT_VTD_SS:
		d.ias = 48;
		d.oas = 48;
		break;
	case PT_X86:
		d.ias = 48;
		d.oas = 52;
		break;
	case PT_TCE:
		d.ias = 31; /* the 2 GiB 32-bit DMA window */
		d.oas = 52;
		d.levels = 1;
		break;
	case PT_NR_FORMATS:
		break;
	}
	return d;
}

static void copy_field(struct pt_cfg *dst, const struct pt_cfg *src, enum stage_field f)
{
	switch (f) {
	case SF_GRANULE:
		dst->granule_shift = src->granule_shift;
		break;
	case SF_IAS:
		dst->ias = src->ias;
		break;
	case SF_OAS:
		dst->oas = src->oas;
		break;
	case SF_SL0:
		dst->sl0 = src->sl0;
		break;
	case SF_LEVELS:
		dst->levels = src->levels;
		break;
	case SF_WINDOW_BASE:
		dst->iova_base = src->iova_base;
		break;
	case SF_NR:
		break;
	}
}

void stage_cfg_defaults(struct pt_cfg *c, unsigned int given)
{
	struct pt_cfg d = format_default(c->format);

	for (int f = 0; f < SF_NR; f++)
		if (!(given & SF_BIT(f)))
			copy_field(c, &d, (enum stage_field)f);
}

int stage_cfg_init(struct pt_cfg *c, unsigned int given, enum stage_field *bad, bool *unsupported)
{
	struct pt_cfg orig = *c, base, probe;
	int ret, culprits = 0;

	*bad = SF_NR;
	*unsupported = false;
	ret = pt_cfg_init(c);
	if (!ret)
		return 0;
	*c = orig; /* a failed init may have filled derived fields (sl0) */

	base = format_default(c->format);
	if (pt_cfg_init(&base) == -EOPNOTSUPP) {
		*unsupported = true;
		return ret;
	}
	for (int f = 0; f < SF_NR; f++) {
		if (!(given & SF_BIT(f)))
			continue;
		probe = *c;
		copy_field(&probe, &base, (enum stage_field)f);
		if (!pt_cfg_init(&probe)) {
			*bad = (enum stage_field)f;
			culprits++;
		}
	}
	if (culprits != 1)
		*bad = SF_NR;
	return ret;
}

void stage_field_value(const struct pt_cfg *c, enum stage_field f, char *buf, size_t len)
{
	switch (f) {
	case SF_GRANULE:
		if (c->granule_shift < 64)
			size_str(1ULL << c->granule_shift, buf, len);
		else
			snprintf(buf, len, "2^%u", c->granule_shift);
		break;
	case SF_IAS:
		snprintf(buf, len, "%u", c->ias);
		break;
	case SF_OAS:
		snprintf(buf, len, "%u", c->oas);
		break;
	case SF_SL0:
		snprintf(buf, len, "%d", c->sl0);
		break;
	case SF_LEVELS:
		snprintf(buf, len, "%u", c->levels);
		break;
	case SF_WINDOW_BASE:
		snprintf(buf, len, "0x%llx", (unsigned long long)c->iova_base);
		break;
	case SF_NR:
		snprintf(buf, len, "?");
		break;
	}
}

void stage_cfg_describe(const struct pt_cfg *c, enum stage_field skip, char *buf, size_t len)
{
	size_t n = 0;
	char v[32];

	for (int f = 0; f < SF_NR && n < len; f++) {
		if (f == SF_SL0 && (c->format != PT_VMSA_S2 || c->sl0 < 0))
			continue;
		if (f == SF_LEVELS && c->format != PT_TCE)
			continue;
		if ((f == SF_WINDOW_BASE && !c->iova_base) || f == (int)skip)
			continue;
		stage_field_value(c, (enum stage_field)f, v, sizeof(v));
		n += (size_t)snprintf(buf + n, len - n, "%s%s %s", n ? ", " : "",
				      stage_field_key((enum stage_field)f), v);
	}
	if (!n && len)
		buf[0] = 0;
}
