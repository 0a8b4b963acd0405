// SPDX-License-Identifier: MIT
/*
 * smmuv3_evt.c - decoding SMMUv3 event records (Arm IHI 0070 §7.3).
 *
 * What it owns: the field positions of an event record as four 64-bit
 * words, the names of the event types, and which fields each type
 * carries. Stateless; no locks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/bits.h"
#include "vmm/smmuv3_evt.h"

/* Word 0 */
#define EVT0_TYPE GENMASK(7, 0)
#define EVT0_SSV  BIT(11)
#define EVT0_SSID GENMASK(31, 12)
#define EVT0_SID  GENMASK(63, 32)
/* Word 1 */
#define EVT1_STAG  GENMASK(15, 0)
#define EVT1_STALL BIT(31)
#define EVT1_PNU   BIT(33)
#define EVT1_IND   BIT(34)
#define EVT1_RNW   BIT(35)
#define EVT1_S2	   BIT(39)
#define EVT1_CLASS GENMASK(41, 40)
#define EVT1_TTRNW BIT(44)
/* Word 3 */
#define EVT3_IPA   GENMASK(51, 12)
#define EVT3_FETCH GENMASK(51, 3)

static const struct {
	unsigned int type;
	const char *name;
} names[] = {
	{0x01, "F_UUT"},
	{0x02, "C_BAD_STREAMID"},
	{0x03, "F_STE_FETCH"},
	{0x04, "C_BAD_STE"},
	{0x05, "F_BAD_ATS_TREQ"},
	{0x06, "F_STREAM_DISABLED"},
	{0x07, "F_TRANSL_FORBIDDEN"},
	{0x08, "C_BAD_SUBSTREAMID"},
	{0x09, "F_CD_FETCH"},
	{0x0a, "C_BAD_CD"},
	{0x0b, "F_WALK_EABT"},
	{0x10, "F_TRANSLATION"},
	{0x11, "F_ADDR_SIZE"},
	{0x12, "F_ACCESS"},
	{0x13, "F_PERMISSION"},
	{0x20, "F_TLB_CONFLICT"},
	{0x21, "F_CFG_CONFLICT"},
	{0x24, "E_PAGE_REQUEST"},
	{0x25, "F_VMS_FETCH"},
};

const char *smmuv3_evt_name(unsigned int type)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].type == type)
			return names[i].name;
	return NULL;
}

int smmuv3_evt_parse(const char *name)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(names[i].name, name))
			return (int)names[i].type;
	return -EINVAL;
}

const char *smmuv3_evt_class_name(unsigned int cls)
{
	static const char *const n[] = {"CD", "TT", "IN"};

	return cls < ARRAY_SIZE(n) ? n[cls] : "?";
}

/* The translation-related faults and the walk abort carry the whole record. */
bool smmuv3_evt_has_stage(unsigned int type)
{
	return type == 0x0b || (type >= 0x10 && type <= 0x13);
}

bool smmuv3_evt_has_addr(unsigned int type)
{
	return smmuv3_evt_has_stage(type) || type == 0x01 || type == 0x05 || type == 0x07 ||
	       type == 0x20;
}

bool smmuv3_evt_has_fetch(unsigned int type)
{
	return type == 0x03 || type == 0x09 || type == 0x0b || type == 0x25;
}

void smmuv3_evt_decode(const uint64_t w[4], struct smmuv3_evt *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->raw, w, sizeof(e->raw));
	e->type = (unsigned int)FIELD_GET(EVT0_TYPE, w[0]);
	e->sid = (uint32_t)FIELD_GET(EVT0_SID, w[0]);
	e->ssv = w[0] & EVT0_SSV;
	e->ssid = e->ssv ? (uint32_t)FIELD_GET(EVT0_SSID, w[0]) : 0;
	e->stall = w[1] & EVT1_STALL;
	e->stag = e->stall ? (uint16_t)FIELD_GET(EVT1_STAG, w[1]) : 0;
	e->pnu = w[1] & EVT1_PNU;
	e->ind = w[1] & EVT1_IND;
	e->rnw = w[1] & EVT1_RNW;
	e->s2 = w[1] & EVT1_S2;
	e->cls = (unsigned int)FIELD_GET(EVT1_CLASS, w[1]);
	e->ttrnw = w[1] & EVT1_TTRNW;
	e->input = w[2];
	if (smmuv3_evt_has_stage(e->type) && e->s2 && e->type != 0x0b)
		e->ipa = w[3] & EVT3_IPA;
	if (smmuv3_evt_has_fetch(e->type))
		e->fetch = w[3] & EVT3_FETCH;
}

int smmuv3_evt_format(const struct smmuv3_evt *e, const char *sid_label, char *buf, size_t len)
{
	const char *name = smmuv3_evt_name(e->type);
	size_t n = 0;
	int r;

#define ADD(...)                                                           \
	do {                                                               \
		r = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__); \
		if (r > 0)                                                 \
			n += (size_t)r;                                    \
	} while (0)
	if (!len)
		buf = NULL;
	if (name)
		ADD("%s", name);
	else
		ADD("event 0x%02x", e->type);
	ADD(" %s 0x%x", sid_label, e->sid);
	if (e->ssv)
		ADD(" ssid %u", e->ssid);
	if (smmuv3_evt_has_addr(e->type))
		ADD(": %s%s%s 0x%llx", e->ind ? "instruction " : "", e->pnu ? "" : "unprivileged ",
		    e->rnw ? "read of" : "write to", (unsigned long long)e->input);
	else if (e->type == 0x09 || e->type == 0x03)
		ADD(":");
	if (smmuv3_evt_has_stage(e->type)) {
		ADD(", stage %d, class %s", e->s2 ? 2 : 1, smmuv3_evt_class_name(e->cls));
		if (e->cls == SMMUV3_EVT_CLASS_TT && !e->ttrnw)
			ADD(" (descriptor update)");
		if (e->s2 && e->type != 0x0b)
			ADD(", IPA 0x%llx", (unsigned long long)e->ipa);
	}
	if (smmuv3_evt_has_fetch(e->type))
		ADD("%s fetch address 0x%llx", smmuv3_evt_has_addr(e->type) ? "," : "",
		    (unsigned long long)e->fetch);
	if (e->stall)
		ADD(", stalled (STAG %u)", e->stag);
#undef ADD
	return (int)n;
}
