// SPDX-License-Identifier: MIT
/*
 * run_script.c - the steps of a run scenario: each step's keys and values,
 * and the script as a whole.
 *
 * A step is checked where it stands, with what the steps before it did:
 * which device has a DMA in flight (no other DMA, MSI or buffer access on
 * it until its dma_wait; a DMA that is never waited for is an error at its
 * "wait"), which device's CD table the guest has written (an STE that
 * translates needs it), how many page requests have been read and not yet
 * answered (a page_response needs one). Steps that need a vIOMMU are
 * refused on a machine without one. Every refusal is one jfield.c message
 * with the position of the offending value.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommufd.h>

#include "jfield.h"
#include "run_scenario_int.h"
#include "util/bits.h"

/* Keys of each step, "step" and "note" included. */
static const char *const *const step_keys[RS_NR] = {
	[RS_MAP] = (const char *const[]){"step", "note", "gpa", "size", "prot", "expect", NULL},
	[RS_UNMAP] = (const char *const[]){"step", "note", "gpa", "size", "expect", NULL},
	[RS_WRITE] = (const char *const[]){"step", "note", "gpa", "device", "offset", "len", "data",
					   NULL},
	[RS_CHECK] = (const char *const[]){"step", "note", "gpa", "device", "offset", "len", "data",
					   NULL},
	[RS_GUEST_MAP] = (const char *const[]){"step", "note", "table", "iova", "gpa", "size",
					       "prot", "expect", NULL},
	[RS_GUEST_UNMAP] =
		(const char *const[]){"step", "note", "table", "iova", "size", "expect", NULL},
	[RS_CD] = (const char *const[]){"step", "note", "device", "ssid", "table", "asid", "stall",
					"epd0", "valid", "record", "ttb1", "tbi", NULL},
	[RS_STE] = (const char *const[]){"step", "note", "device", "config", "cdmax", "s1dss",
					 "s1stalld", "words", "expect", NULL},
	[RS_INVALIDATE] = (const char *const[]){"step", "note", "commands", "expect", NULL},
	[RS_DMA] = (const char *const[]){"step", "note", "device", "op", "src", "dst", "len",
					 "pasid", "pattern", "wait", "expect", NULL},
	[RS_DMA_WAIT] = (const char *const[]){"step", "note", "device", "expect", NULL},
	[RS_EXPECT_EVENT] = (const char *const[]){"step", "note", "queue", "none", "type", "sid",
						  "ssid", "addr", "ipa", "fetch", "stage", "class",
						  "access", "stall", NULL},
	[RS_EXPECT_PAGE_REQUEST] =
		(const char *const[]){"step", "note", "device", "addr", "access", "pasid", NULL},
	[RS_PAGE_RESPONSE] = (const char *const[]){"step", "note", "code", NULL},
	[RS_MSI] = (const char *const[]){"step", "note", "device", "vector", "addr", "event",
					 "bind", NULL},
	[RS_EXPECT_IRQ] = (const char *const[]){"step", "note", "event", "count", NULL},
	[RS_STATS] = (const char *const[]){"step", "note", "expect", NULL},
	[RS_EXPECT_FAULT] = (const char *const[]){"step", "note", "device", "none", "reason",
						  "addr", "access", "pasid", NULL},
};

static unsigned int cd_log2(const struct run_device *d)
{
	return MIN(d->pasid_bits, RUN_CD_MAX_LOG2);
}

static int need_viommu(struct rl *rl, struct run_step *st)
{
	char p[JF_PBUF];

	if (rl->sc->m.viommu)
		return 0;
	jf_child(p, sizeof(p), st->path, "step");
	return err(rl, p, false,
		   "%s needs a vIOMMU, and this machine has none (machine.iommu.viommu is false)",
		   run_step_name(st->kind));
}

/* A step that exists on one of the two APIs only (machine.iommu.api). */
static int need_api(struct rl *rl, struct run_step *st, bool vfio, const char *why)
{
	char p[JF_PBUF];

	if (rl->sc->m.vfio == vfio)
		return 0;
	jf_child(p, sizeof(p), st->path, "step");
	return err(rl, p, false, "%s %s (machine.iommu.api is \"%s\")", run_step_name(st->kind),
		   why, rl->sc->m.vfio ? "vfio" : "iommufd");
}

static int device_free(struct rl *rl, struct run_step *st)
{
	char p[JF_PBUF];

	if (st->dev < 0 || rl->busy[st->dev] < 0)
		return 0;
	jf_child(p, sizeof(p), st->path, "device");
	return err(rl, p, false, "%s is busy with the DMA of steps[%d] until a dma_wait",
		   rl->sc->m.devices[st->dev].name, rl->busy[st->dev]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_data(struct rl *rl, json_t *obj, struct run_step *st)
{
	static const char *const keys[] = {"random", "byte", "text", "hex", "gpa", NULL};
	json_t *o = json_object_get(obj, "data"), *v = NULL;
	char p[JF_PBUF], q[JF_PBUF], d[64];
	struct run_data *dt = &st->data;
	const char *key;
	uint64_t x;
	int ret;

	jf_child(p, sizeof(p), st->path, "data");
	if (!o)
		return err(rl, st->path, false, "missing key \"data\"");
	ret = jf_expect_object(&rl->jf, o, p);
	if (!ret)
		ret = jf_check_keys(&rl->jf, o, p, keys);
	if (ret)
		return ret;
	if (json_object_size(o) != 1)
		return err(rl, p, false,
			   "expected exactly one of random, byte, text, hex or gpa, got %zu keys",
			   json_object_size(o));
	key = json_object_iter_key(json_object_iter(o));
	v = json_object_get(o, key);
	jf_child(q, sizeof(q), p, key);
	if (!strcmp(key, "text") || !strcmp(key, "hex")) {
		const char *s;

		ret = jf_get_str(&rl->jf, o, p, key, true, &s);
		if (ret < 0)
			return ret;
		if (!*s)
			return err(rl, q, false, "expected at least one byte, got \"\"");
		dt->bytes = malloc(strlen(s) + 1);
		if (!dt->bytes)
			return err(rl, q, false, "out of memory");
		if (!strcmp(key, "text")) {
			dt->kind = RD_TEXT;
			dt->nbytes = strlen(s);
			memcpy(dt->bytes, s, dt->nbytes);
		} else {
			dt->kind = RD_HEX;
			for (const char *c = s; *c;) {
				int hi, lo;

				if (*c == ' ' || *c == '_') {
					c++;
					continue;
				}
				hi = hexval(c[0]);
				lo = hi < 0 ? -1 : hexval(c[1]);
				if (lo < 0)
					return err(rl, q, false,
						   "expected pairs of hex digits (spaces and '_' "
						   "allowed between bytes), got %s",
						   jf_describe(v, d, sizeof(d)));
				dt->bytes[dt->nbytes++] = (uint8_t)(hi << 4 | lo);
				c += 2;
			}
		}
		if (!st->len)
			st->len = dt->nbytes;
		return 0;
	}
	ret = jf_value_u64(&rl->jf, v, q, &x);
	if (ret)
		return ret;
	if (!strcmp(key, "random")) {
		dt->kind = RD_RANDOM;
	} else if (!strcmp(key, "byte")) {
		if (x > 255)
			return err(rl, q, false, "expected a byte (0 to 255), got %llu",
				   (unsigned long long)x);
		dt->kind = RD_BYTE;
	} else {
		dt->kind = RD_GPA;
	}
	dt->value = x;
	return 0;
}

/* write / check: a range of guest RAM or of the device's buffer, and the data. */
static int parse_bytes_step(struct rl *rl, json_t *o, struct run_step *st)
{
	char p[JF_PBUF];
	uint64_t v;
	int ret;

	ret = rs_get_device(rl, o, st->path, false, &st->dev);
	if (ret < 0)
		return ret;
	st->on_device = ret == 1;
	ret = jf_get_u64(&rl->jf, o, st->path, "len", false, &st->len);
	if (ret < 0)
		return ret;
	ret = parse_data(rl, o, st);
	if (ret)
		return ret;
	if (!st->len)
		return err(rl, st->path, false, "missing key \"len\" (or a size above 0)");
	if ((st->data.kind == RD_TEXT || st->data.kind == RD_HEX) && st->len != st->data.nbytes) {
		jf_child(p, sizeof(p), st->path, "len");
		return err(rl, p, false, "%llu, but the data has %zu bytes",
			   (unsigned long long)st->len, st->data.nbytes);
	}
	if (st->len > RUN_DATA_MAX) {
		jf_child(p, sizeof(p), st->path, "len");
		return err(rl, p, false, "expected at most 16M, got 0x%llx",
			   (unsigned long long)st->len);
	}
	if (st->data.kind == RD_GPA) {
		ret = rs_check_ram_range(rl, st->path, "data", "len", st->data.value, st->len, 1);
		if (ret)
			return ret;
	}
	if (st->on_device) {
		if (json_object_get(o, "gpa")) {
			jf_child(p, sizeof(p), st->path, "gpa");
			return err(rl, p, true,
				   "give \"gpa\" (guest RAM) or \"device\" (its buffer), "
				   "not both");
		}
		ret = jf_get_u64(&rl->jf, o, st->path, "offset", false, &st->offset);
		if (ret < 0)
			return ret;
		if (st->offset > RUN_DEV_BUF_SIZE || st->len > RUN_DEV_BUF_SIZE - st->offset) {
			jf_child(p, sizeof(p), st->path, "len");
			return err(
				rl, p, false,
				"0x%llx bytes at offset 0x%llx do not fit the device's 32K buffer",
				(unsigned long long)st->len, (unsigned long long)st->offset);
		}
		return device_free(rl, st);
	}
	if (json_object_get(o, "offset")) {
		jf_child(p, sizeof(p), st->path, "offset");
		return err(rl, p, true, "applies to a device's buffer only (with \"device\")");
	}
	ret = jf_get_u64(&rl->jf, o, st->path, "gpa", false, &v);
	if (ret < 0)
		return ret;
	if (!ret)
		return err(rl, st->path, false, "missing key \"gpa\" (or \"device\")");
	st->gpa = v;
	return rs_check_ram_range(rl, st->path, "gpa", "len", st->gpa, st->len, 1);
}

static int parse_map(struct rl *rl, json_t *o, struct run_step *st)
{
	int rg, rs;

	rg = jf_get_u64(&rl->jf, o, st->path, "gpa", false, &st->gpa);
	if (rg < 0)
		return rg;
	rs = jf_get_u64(&rl->jf, o, st->path, "size", st->kind == RS_UNMAP || rg == 1, &st->size);
	if (rs < 0)
		return rs;
	if (rs == 1 && rg == 0)
		return err(rl, st->path, false, "missing key \"gpa\"");
	if (st->kind == RS_UNMAP && rg == 0)
		return err(rl, st->path, false, "missing key \"gpa\"");
	st->all = rg == 0;
	if (st->kind == RS_MAP && jf_get_prot(&rl->jf, o, st->path, &st->prot))
		return -EINVAL;
	if (!st->all) {
		int ret = rs_check_ram_range(rl, st->path, "gpa", "size", st->gpa, st->size, PAGE);

		if (ret)
			return ret;
	}
	return rs_parse_action_expect(rl, o, st, false);
}

static int parse_guest_map(struct rl *rl, json_t *o, struct run_step *st)
{
	const struct run_table *t;
	char p[JF_PBUF];
	uint64_t pg;
	int ret;

	ret = need_viommu(rl, st);
	if (!ret)
		ret = rs_get_table(rl, o, st->path, &st->table);
	if (ret)
		return ret;
	t = &rl->sc->m.tables[st->table];
	pg = 1ULL << t->granule_shift;
	ret = jf_get_u64(&rl->jf, o, st->path, "iova", true, &st->iova);
	if (ret >= 0)
		ret = jf_get_u64(&rl->jf, o, st->path, "size", true, &st->size);
	if (ret < 0)
		return ret;
	jf_child(p, sizeof(p), st->path, "iova");
	if (st->iova & (pg - 1))
		return err(rl, p, false, "0x%llx is not aligned to the table's %lluK granule",
			   (unsigned long long)st->iova, (unsigned long long)pg >> 10);
	if (!st->size || (st->size & (pg - 1))) {
		jf_child(p, sizeof(p), st->path, "size");
		return err(rl, p, false,
			   "expected a multiple of the table's %lluK granule, got 0x%llx",
			   (unsigned long long)pg >> 10, (unsigned long long)st->size);
	}
	if (range_wraps(st->iova, st->size) || ((st->iova + st->size - 1) >> t->ias))
		return err(rl, p, false, "0x%llx-0x%llx is beyond the table's %u-bit input",
			   (unsigned long long)st->iova,
			   (unsigned long long)(st->iova + st->size - 1), t->ias);
	if (st->kind == RS_GUEST_MAP) {
		json_t *g = json_object_get(o, "gpa");

		if (!g)
			return err(rl, st->path, false, "missing key \"gpa\"");
		jf_child(p, sizeof(p), st->path, "gpa");
		if (json_is_string(g) && !strcmp(json_string_value(g), RUN_MSI_IPA_NAME)) {
			st->gpa_is_msi = true;
			/* iommufd: the host's SW_MSI window; VFIO: the vITS, bound by msi. */
			st->gpa = rl->sc->m.vfio ? RUN_VFIO_MSI_GPA : SW_MSI_BASE;
			if (st->size != pg)
				return err(rl, p, false,
					   "the MSI doorbell is one 4K page: map it with a size of "
					   "one "
					   "granule");
		} else {
			ret = jf_value_u64(&rl->jf, g, p, &st->gpa);
			if (ret)
				return ret;
			if (st->gpa & (pg - 1))
				return err(rl, p, false,
					   "0x%llx is not aligned to the table's %lluK granule",
					   (unsigned long long)st->gpa,
					   (unsigned long long)pg >> 10);
			if (range_wraps(st->gpa, st->size) || ((st->gpa + st->size - 1) >> t->oas))
				return err(rl, p, false,
					   "0x%llx-0x%llx is beyond the table's %u-bit output",
					   (unsigned long long)st->gpa,
					   (unsigned long long)(st->gpa + st->size - 1), t->oas);
		}
		ret = jf_get_prot(&rl->jf, o, st->path, &st->prot);
		if (ret)
			return ret;
	}
	return rs_parse_action_expect(rl, o, st, false);
}

static int parse_cd(struct rl *rl, json_t *o, struct run_step *st)
{
	const struct run_device *d;
	char p[JF_PBUF];
	uint64_t v;
	int ret = need_viommu(rl, st);

	if (!ret)
		ret = rs_get_device(rl, o, st->path, true, &st->dev);
	if (ret < 0)
		return ret;
	d = &rl->sc->m.devices[st->dev];
	ret = jf_get_u64(&rl->jf, o, st->path, "ssid", false, &v);
	if (ret < 0)
		return ret;
	if (!ret)
		v = 0;
	st->ssid = (uint32_t)MIN(v, UINT32_MAX);
	if (v >> cd_log2(d)) {
		jf_child(p, sizeof(p), st->path, "ssid");
		return err(rl, p, false, "%s's CD table has %u entr%s (0 to %u)", d->name,
			   1u << cd_log2(d), cd_log2(d) ? "ies" : "y", (1u << cd_log2(d)) - 1);
	}
	ret = rs_get_table(rl, o, st->path, &st->table);
	if (!ret)
		ret = jf_get_small(&rl->jf, o, st->path, "asid", 0, 0xffff, &v);
	if (ret < 0)
		return ret;
	st->asid = ret == 1 ? (uint16_t)v : 0;
	st->ttb1_table = -1;
	if (json_object_get(o, "ttb1")) {
		ret = rs_get_table_at(rl, o, st->path, "ttb1", &st->ttb1_table);
		if (ret < 0)
			return ret;
	}
	ret = jf_get_small(&rl->jf, o, st->path, "tbi", 0, 3, &v);
	if (ret < 0)
		return ret;
	st->tbi = ret == 1 ? (unsigned int)v : 0;
	st->cd_valid = st->record = true;
	if (jf_get_bool(&rl->jf, o, st->path, "stall", &st->cd_stall) < 0 ||
	    jf_get_bool(&rl->jf, o, st->path, "epd0", &st->epd0) < 0 ||
	    jf_get_bool(&rl->jf, o, st->path, "valid", &st->cd_valid) < 0 ||
	    jf_get_bool(&rl->jf, o, st->path, "record", &st->record) < 0)
		return -EINVAL;
	rl->has_cd[st->dev] = true;
	return 0;
}

static int parse_ste(struct rl *rl, json_t *o, struct run_step *st)
{
	static const char *const configs[] = {"abort", "bypass", "translate", NULL};
	static const char *const dss[] = {"terminate", "bypass", "ssid0", NULL};
	const struct run_device *d;
	json_t *w;
	char p[JF_PBUF], d64[64];
	unsigned int cfg = 0, s1dss = GUEST_S1DSS_SSID0;
	uint64_t v;
	int ret = need_viommu(rl, st);

	if (!ret)
		ret = rs_get_device(rl, o, st->path, true, &st->dev);
	if (ret < 0)
		return ret;
	d = &rl->sc->m.devices[st->dev];
	w = json_object_get(o, "words");
	if (w) {
		size_t i;
		json_t *x;

		jf_child(p, sizeof(p), st->path, "words");
		if (json_object_get(o, "config")) {
			jf_child(p, sizeof(p), st->path, "config");
			return err(rl, p, true, "give \"config\" or raw \"words\", not both");
		}
		if (!json_is_array(w) || json_array_size(w) != 2)
			return err(rl, p, false, "expected STE words 0 and 1, two numbers, got %s",
				   json_is_array(w) ? "another number of values"
						    : jf_describe(w, d64, sizeof(d64)));
		json_array_foreach(w, i, x)
		{
			char q[JF_PBUF];

			jf_pathf(q, sizeof(q), "%s[%zu]", p, i);
			ret = jf_value_u64(&rl->jf, x, q, &st->ste_words[i]);
			if (ret)
				return ret;
		}
		st->ste_raw = true;
		return rs_parse_action_expect(rl, o, st, false);
	}
	ret = jf_get_enum(&rl->jf, o, st->path, "config", true, configs, &cfg);
	if (ret < 0)
		return ret;
	st->ste = (struct guest_ste){.valid = true, .config = (enum guest_ste_config)cfg};
	if (cfg != GUEST_STE_TRANSLATE) {
		static const char *const s1keys[] = {"cdmax", "s1dss", "s1stalld"};

		for (unsigned int i = 0; i < ARRAY_SIZE(s1keys); i++) {
			if (!json_object_get(o, s1keys[i]))
				continue;
			jf_child(p, sizeof(p), st->path, s1keys[i]);
			return err(rl, p, true, "applies to config \"translate\" only");
		}
		return rs_parse_action_expect(rl, o, st, false);
	}
	if (!rl->has_cd[st->dev])
		return err(rl, st->path, false,
			   "%s has no CD table yet: write its CD first (a \"cd\" step)", d->name);
	st->ste.s1cdmax = cd_log2(d);
	ret = jf_get_small(&rl->jf, o, st->path, "cdmax", 0, cd_log2(d), &v);
	if (ret < 0)
		return ret;
	if (ret == 1)
		st->ste.s1cdmax = (unsigned int)v;
	ret = jf_get_enum(&rl->jf, o, st->path, "s1dss", false, dss, &s1dss);
	if (ret < 0)
		return ret;
	st->ste.s1dss = (enum guest_s1dss)s1dss;
	ret = jf_get_bool(&rl->jf, o, st->path, "s1stalld", &st->ste.s1stalld);
	if (ret < 0)
		return ret;
	return rs_parse_action_expect(rl, o, st, false);
}

/* Command fields, and which opcodes take them. */
enum {
	CF_SID,
	CF_SSID,
	CF_SSV,
	CF_ASID,
	CF_VMID,
	CF_ADDR,
	CF_LEAF,
	CF_TTL,
	CF_TG,
	CF_NUM,
	CF_SCALE,
	CF_RANGE,
	CF_SIZE,
	CF_CS,
	CF_STAG,
	CF_ACTION,
	CF_SSEC,
	CF_NR
};
static const char *const cmd_fields[CF_NR] = {
	"sid", "ssid",	"ssv",	 "asid", "vmid", "addr", "leaf",   "ttl",  "tg",
	"num", "scale", "range", "size", "cs",	 "stag", "action", "ssec",
};

#define F(x) (1u << CF_##x)
static unsigned int cmd_allowed(unsigned int op, bool cfgi_all)
{
	unsigned int tlbi_range = F(ADDR) | F(LEAF) | F(TTL) | F(TG) | F(NUM) | F(SCALE);

	if (cfgi_all)
		return F(SSEC);
	switch (op) {
	case GUEST_CMD_PREFETCH_CONFIG:
		return F(SID) | F(SSID) | F(SSV) | F(SSEC);
	case GUEST_CMD_PREFETCH_ADDR:
		return F(SID) | F(SSID) | F(SSV) | F(ADDR) | F(SSEC);
	case GUEST_CMD_CFGI_STE:
		return F(SID) | F(LEAF) | F(SSEC);
	case GUEST_CMD_CFGI_STE_RANGE:
		return F(SID) | F(RANGE) | F(SSEC);
	case GUEST_CMD_CFGI_CD:
		return F(SID) | F(SSID) | F(LEAF) | F(SSEC);
	case GUEST_CMD_CFGI_CD_ALL:
	case GUEST_CMD_PRI_RESP:
	case GUEST_CMD_STALL_TERM:
		return F(SID) | F(SSEC);
	case GUEST_CMD_TLBI_NH_ALL:
	case GUEST_CMD_TLBI_S12_VMALL:
		return F(VMID) | F(SSEC);
	case GUEST_CMD_TLBI_NH_ASID:
		return F(ASID) | F(VMID) | F(SSEC);
	case GUEST_CMD_TLBI_NH_VA:
		return F(ASID) | F(VMID) | tlbi_range | F(SSEC);
	case GUEST_CMD_TLBI_NH_VAA:
	case GUEST_CMD_TLBI_S2_IPA:
		return F(VMID) | tlbi_range | F(SSEC);
	case GUEST_CMD_ATC_INV:
		return F(SID) | F(SSID) | F(SSV) | F(ADDR) | F(SIZE) | F(SSEC);
	case GUEST_CMD_RESUME:
		return F(SID) | F(STAG) | F(ACTION) | F(SSEC);
	case GUEST_CMD_SYNC:
		return F(CS) | F(SSEC);
	}
	return F(SSEC);
}
#undef F

static int parse_cmd(struct rl *rl, json_t *v, const char *path, struct run_cmd *c)
{
	static const uint64_t maxv[CF_NR] = {
		[CF_SID] = UINT32_MAX,	[CF_SSID] = 0xfffff, [CF_ASID] = 0xffff, [CF_VMID] = 0xffff,
		[CF_ADDR] = UINT64_MAX, [CF_TTL] = 3,	     [CF_NUM] = 31,	 [CF_SCALE] = 31,
		[CF_RANGE] = 31,	[CF_SIZE] = 63,	     [CF_CS] = 3,	 [CF_STAG] = 0xffff,
		[CF_ACTION] = 2,
	};
	const char *name, *key;
	char p[JF_PBUF], d[64];
	bool all;
	json_t *x;
	int op, ret;

	memset(c, 0, sizeof(*c));
	if (json_is_string(v)) {
		name = json_string_value(v);
		op = guest_cmd_parse(name, &all);
		if (op < 0)
			return err(rl, path, false,
				   "expected an SMMUv3 command name such as TLBI_NH_VA or CFGI_CD, "
				   "got %s",
				   jf_describe(v, d, sizeof(d)));
		c->c.op = (unsigned int)op;
		c->c.range = all ? 31 : 0;
		return 0;
	}
	if (!json_is_object(v))
		return err(rl, path, false,
			   "expected a command: a name, {\"op\": NAME, fields...} or {\"raw\": "
			   "[word0, word1]}, got %s",
			   jf_describe(v, d, sizeof(d)));
	x = json_object_get(v, "raw");
	if (x) {
		static const char *const rkeys[] = {"raw", NULL};
		size_t i;
		json_t *w;

		ret = jf_check_keys(&rl->jf, v, path, rkeys);
		if (ret)
			return ret;
		jf_child(p, sizeof(p), path, "raw");
		if (!json_is_array(x) || json_array_size(x) != 2)
			return err(rl, p, false, "expected the command's two 64-bit words");
		json_array_foreach(x, i, w)
		{
			char q[JF_PBUF];

			jf_pathf(q, sizeof(q), "%s[%zu]", p, i);
			ret = jf_value_u64(&rl->jf, w, q, &c->words[i]);
			if (ret)
				return ret;
		}
		c->raw = true;
		return 0;
	}
	ret = jf_get_str(&rl->jf, v, path, "op", true, &name);
	if (ret < 0)
		return ret;
	op = guest_cmd_parse(name, &all);
	if (op < 0) {
		jf_child(p, sizeof(p), path, "op");
		return err(rl, p, false,
			   "expected an SMMUv3 command name such as TLBI_NH_VA or CFGI_CD, got %s",
			   jf_describe(json_object_get(v, "op"), d, sizeof(d)));
	}
	c->c.op = (unsigned int)op;
	c->c.range = all ? 31 : 0;
	json_object_foreach(v, key, x)
	{
		unsigned int f;
		uint64_t val = 0;

		if (!strcmp(key, "op"))
			continue;
		for (f = 0; f < CF_NR && strcmp(cmd_fields[f], key); f++)
			;
		jf_child(p, sizeof(p), path, key);
		if (f == CF_NR) {
			char list[256];
			size_t n = jf_add(list, sizeof(list), 0, "op");

			for (f = 0; f < CF_NR; f++)
				if (cmd_allowed(c->c.op, all) & (1u << f))
					n = jf_add(list, sizeof(list), n, ", %s", cmd_fields[f]);
			return err(rl, p, true, "unknown key (expected %s)", list);
		}
		if (!(cmd_allowed(c->c.op, all) & (1u << f)))
			return err(rl, p, true, "%s has no field \"%s\"", name, key);
		if (f == CF_LEAF || f == CF_SSV || f == CF_SSEC) {
			bool b = false;

			ret = jf_get_bool(&rl->jf, v, path, key, &b);
			if (ret < 0)
				return ret;
			val = b;
		} else if (f == CF_TG && json_is_string(x) &&
			   (!strcmp(json_string_value(x), "4K") ||
			    !strcmp(json_string_value(x), "16K") ||
			    !strcmp(json_string_value(x), "64K"))) {
			const char *s = json_string_value(x);

			val = s[0] == '4' ? 1 : s[0] == '1' ? 2 : 3;
		} else {
			ret = jf_value_u64(&rl->jf, x, p, &val);
			if (ret)
				return ret;
			if (f == CF_TG && val > 3)
				return err(
					rl, p, false,
					"expected \"4K\", \"16K\", \"64K\" or the encoding 0 to 3, "
					"got %llu",
					(unsigned long long)val);
			if (f != CF_TG && val > maxv[f])
				return err(rl, p, false, "expected at most %llu, got %llu",
					   (unsigned long long)maxv[f], (unsigned long long)val);
		}
		switch (f) {
		case CF_SID:
			c->c.sid = (uint32_t)val;
			break;
		case CF_SSID:
			c->c.ssid = (uint32_t)val;
			break;
		case CF_SSV:
			c->c.ssv = val;
			break;
		case CF_ASID:
			c->c.asid = (uint16_t)val;
			break;
		case CF_VMID:
			c->c.vmid = (uint16_t)val;
			break;
		case CF_ADDR:
			c->c.addr = val;
			break;
		case CF_LEAF:
			c->c.leaf = val;
			break;
		case CF_TTL:
			c->c.ttl = (unsigned int)val;
			break;
		case CF_TG:
			c->c.tg = (unsigned int)val;
			break;
		case CF_NUM:
			c->c.num = (unsigned int)val;
			break;
		case CF_SCALE:
			c->c.scale = (unsigned int)val;
			break;
		case CF_RANGE:
			c->c.range = (unsigned int)val;
			break;
		case CF_SIZE:
			c->c.size = (unsigned int)val;
			break;
		case CF_CS:
			c->c.cs = (unsigned int)val;
			break;
		case CF_STAG:
			c->c.stag = (uint16_t)val;
			break;
		case CF_ACTION:
			c->c.action = (unsigned int)val;
			break;
		case CF_SSEC:
			c->c.ssec = val;
			break;
		}
	}
	return 0;
}

static int parse_invalidate(struct rl *rl, json_t *o, struct run_step *st)
{
	json_t *arr = json_object_get(o, "commands"), *v;
	char p[JF_PBUF], d[64];
	size_t i;
	int ret = need_viommu(rl, st);

	if (ret)
		return ret;
	if (!arr)
		return err(rl, st->path, false, "missing key \"commands\"");
	jf_child(p, sizeof(p), st->path, "commands");
	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > RUN_MAX_CMDS)
		return err(rl, p, false, "expected an array of 1 to %d commands, got %s",
			   RUN_MAX_CMDS,
			   json_is_array(arr) ? "another number" : jf_describe(arr, d, sizeof(d)));
	st->cmds = calloc(json_array_size(arr), sizeof(*st->cmds));
	if (!st->cmds)
		return err(rl, p, false, "out of memory");
	json_array_foreach(arr, i, v)
	{
		char q[JF_PBUF];

		jf_pathf(q, sizeof(q), "%s[%zu]", p, i);
		ret = parse_cmd(rl, v, q, &st->cmds[i]);
		if (ret)
			return ret;
		st->nr_cmds++;
	}
	return rs_parse_action_expect(rl, o, st, true);
}

static int parse_dma_expect(struct rl *rl, json_t *o, struct run_step *st)
{
	static const char *const keys[] = {"fault", "error", "addr", "access", "done", NULL};
	static const char *const errors[] = {"none",	  "invalid",   "pasid", "bus_master",
					     "dma_fault", "msi_fault", NULL};
	json_t *x = json_object_get(o, "expect");
	struct run_expect_dma *e = &st->xdma;
	char p[JF_PBUF], d[64];
	unsigned int code;
	int ret;

	*e = (struct run_expect_dma){.status = RX_DONE, .fault = -1, .access = -1};
	if (!x)
		return 0;
	jf_child(p, sizeof(p), st->path, "expect");
	if (json_is_string(x) && !strcmp(json_string_value(x), "done"))
		return 0;
	if (!json_is_object(x))
		return err(rl, p, false,
			   "expected \"done\" or an object (fault, error, ...), got %s",
			   jf_describe(x, d, sizeof(d)));
	ret = jf_check_keys(&rl->jf, x, p, keys);
	if (ret)
		return ret;
	if (json_object_get(x, "fault") && json_object_get(x, "error")) {
		char q[JF_PBUF];

		jf_child(q, sizeof(q), p, "error");
		return err(rl, q, true,
			   "give \"fault\" (the IOMMU refused an access) or \"error\" "
			   "(the device refused the operation), not both");
	}
	if (json_object_get(x, "error")) {
		static const char *const only[] = {"addr", "access", "done"};

		ret = jf_get_enum(&rl->jf, x, p, "error", true, errors, &code);
		if (ret < 0)
			return ret;
		for (unsigned int i = 0; i < ARRAY_SIZE(only); i++) {
			char q[JF_PBUF];

			if (!json_object_get(x, only[i]))
				continue;
			jf_child(q, sizeof(q), p, only[i]);
			return err(rl, q, true, "applies to \"fault\" only");
		}
		e->status = code ? RX_ERROR : RX_DONE;
		e->error = code;
		return 0;
	}
	if (!json_object_get(x, "fault")) {
		if (json_object_size(x))
			return err(rl, p, false,
				   "addr, access and done describe a fault: give \"fault\" too");
		return 0;
	}
	e->status = RX_FAULT;
	ret = rs_get_event_type(rl, x, p, "fault", true, &e->fault);
	if (ret >= 0)
		ret = jf_get_u64(&rl->jf, x, p, "addr", false, &e->addr);
	if (ret < 0)
		return ret;
	e->has_addr = ret == 1;
	ret = jf_get_u64(&rl->jf, x, p, "done", false, &e->done);
	if (ret < 0)
		return ret;
	e->has_done = ret == 1;
	return rs_get_access(rl, x, p, &e->access);
}

static int parse_dma(struct rl *rl, json_t *o, struct run_step *st)
{
	static const char *const ops[] = {"read", "write", "copy", "fill", NULL};
	static const struct {
		const char *key;
		unsigned int ops; /* bit (op - 1) */
	} use[] = {{"src", 1 | 4}, {"dst", 2 | 4 | 8}, {"pattern", 8}};
	const struct run_device *d;
	char p[JF_PBUF];
	unsigned int op;
	uint64_t v;
	int ret = rs_get_device(rl, o, st->path, true, &st->dev);

	if (ret < 0)
		return ret;
	d = &rl->sc->m.devices[st->dev];
	ret = device_free(rl, st);
	if (!ret)
		ret = jf_get_enum(&rl->jf, o, st->path, "op", true, ops, &op);
	if (ret < 0)
		return ret;
	st->op = (enum run_dma_op)(op + 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(use); i++) {
		bool wanted = use[i].ops & (1u << op);

		v = 0;
		ret = jf_get_u64(&rl->jf, o, st->path, use[i].key, wanted && i < 2, &v);
		if (ret < 0)
			return ret;
		if (ret == 1 && !wanted) {
			jf_child(p, sizeof(p), st->path, use[i].key);
			return err(rl, p, true, "a %s has no %s", ops[op], use[i].key);
		}
		if (i == 0)
			st->src = v;
		else if (i == 1)
			st->dst = v;
		else if (ret == 1)
			st->pattern = v;
	}
	ret = jf_get_u64(&rl->jf, o, st->path, "len", true, &st->len);
	if (ret < 0)
		return ret;
	jf_child(p, sizeof(p), st->path, "len");
	if (!st->len || st->len > UINT32_MAX)
		return err(rl, p, false, "expected 1 to 0xffffffff bytes, got 0x%llx",
			   (unsigned long long)st->len);
	if ((st->op == RUN_DMA_READ || st->op == RUN_DMA_WRITE) && st->len > RUN_DEV_BUF_SIZE)
		return err(rl, p, false, "a %s moves at most the device's 32K buffer, got 0x%llx",
			   ops[op], (unsigned long long)st->len);
	ret = jf_get_u64(&rl->jf, o, st->path, "pasid", false, &v);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		jf_child(p, sizeof(p), st->path, "pasid");
		if (v >= 1u << 20)
			return err(rl, p, false, "expected a 20-bit PASID, got 0x%llx",
				   (unsigned long long)v);
		if (!d->pasid_bits)
			return err(rl, p, false, "%s has no PASIDs (its pasid_bits is 0)", d->name);
		st->has_pasid = true;
		st->pasid = (uint32_t)v;
	}
	st->wait = true;
	ret = jf_get_bool(&rl->jf, o, st->path, "wait", &st->wait);
	if (ret < 0)
		return ret;
	if (!st->wait) {
		if (json_object_get(o, "expect")) {
			jf_child(p, sizeof(p), st->path, "expect");
			return err(
				rl, p, true,
				"a DMA that is not waited for ends at its dma_wait: expect there");
		}
		rl->busy[st->dev] = (int)(st - rl->sc->steps);
		return 0;
	}
	return parse_dma_expect(rl, o, st);
}

static int parse_dma_wait(struct rl *rl, json_t *o, struct run_step *st)
{
	char p[JF_PBUF];
	int ret = rs_get_device(rl, o, st->path, true, &st->dev);

	if (ret < 0)
		return ret;
	if (rl->busy[st->dev] < 0) {
		jf_child(p, sizeof(p), st->path, "device");
		return err(rl, p, false, "%s has no DMA in flight (a dma with \"wait\": false)",
			   rl->sc->m.devices[st->dev].name);
	}
	rl->busy[st->dev] = -1;
	return parse_dma_expect(rl, o, st);
}

static int parse_expect_event(struct rl *rl, json_t *o, struct run_step *st)
{
	static const char *const queues[] = {"veventq", "host", NULL};
	static const char *const classes[] = {"CD", "TT", "IN", NULL};
	struct run_expect_event *e = &st->xev;
	unsigned int q = RQ_VEVENTQ, cls;
	char p[JF_PBUF];
	uint64_t v;
	bool b = false;
	int ret;

	*e = (struct run_expect_event){.type = -1, .cls = -1, .access = -1, .stall = -1};
	ret = jf_get_enum(&rl->jf, o, st->path, "queue", false, queues, &q);
	if (ret < 0)
		return ret;
	e->queue = (enum run_queue)q;
	if (e->queue == RQ_VEVENTQ && (ret = need_viommu(rl, st)))
		return ret;
	ret = jf_get_bool(&rl->jf, o, st->path, "none", &e->none);
	if (ret < 0)
		return ret;
	if (e->none) {
		const char *key;
		json_t *x;

		json_object_foreach(o, key, x)
		{
			if (!strcmp(key, "step") || !strcmp(key, "note") || !strcmp(key, "queue") ||
			    !strcmp(key, "none"))
				continue;
			jf_child(p, sizeof(p), st->path, key);
			return err(rl, p, true, "\"none\": true expects no event: no fields");
		}
		return 0;
	}
	ret = rs_get_event_type(rl, o, st->path, "type", false, &e->type);
	if (ret >= 0)
		ret = jf_get_small(&rl->jf, o, st->path, "sid", 0, UINT32_MAX, &v);
	if (ret < 0)
		return ret;
	e->has_sid = ret == 1;
	e->sid = (uint32_t)v;
	ret = jf_get_small(&rl->jf, o, st->path, "ssid", 0, 0xfffff, &v);
	if (ret < 0)
		return ret;
	e->has_ssid = ret == 1;
	e->ssid = (uint32_t)v;
	ret = jf_get_u64(&rl->jf, o, st->path, "addr", false, &e->addr);
	if (ret < 0)
		return ret;
	e->has_addr = ret == 1;
	ret = jf_get_u64(&rl->jf, o, st->path, "ipa", false, &e->ipa);
	if (ret < 0)
		return ret;
	e->has_ipa = ret == 1;
	ret = jf_get_u64(&rl->jf, o, st->path, "fetch", false, &e->fetch);
	if (ret < 0)
		return ret;
	e->has_fetch = ret == 1;
	ret = jf_get_small(&rl->jf, o, st->path, "stage", 1, 2, &v);
	if (ret < 0)
		return ret;
	e->stage = ret == 1 ? (int)v : 0;
	ret = jf_get_enum(&rl->jf, o, st->path, "class", false, classes, &cls);
	if (ret < 0)
		return ret;
	if (ret == 1)
		e->cls = (int)cls;
	ret = rs_get_access(rl, o, st->path, &e->access);
	if (ret < 0)
		return ret;
	ret = jf_get_bool(&rl->jf, o, st->path, "stall", &b);
	if (ret < 0)
		return ret;
	if (ret == 1)
		e->stall = b;
	return 0;
}

static int parse_page_request(struct rl *rl, json_t *o, struct run_step *st)
{
	struct run_expect_event *e = &st->xev;
	bool any = false;
	uint64_t v;
	int ret;

	for (unsigned int i = 0; i < rl->sc->m.nr_devices; i++)
		any |= rl->sc->m.devices[i].stall;
	if (!any)
		return err(rl, st->path, false,
			   "no device can stall (machine.devices[].stall), so nothing makes page "
			   "requests");
	*e = (struct run_expect_event){.type = -1, .cls = -1, .access = -1, .stall = -1};
	ret = rs_get_device(rl, o, st->path, false, &st->dev);
	if (ret >= 0)
		ret = jf_get_u64(&rl->jf, o, st->path, "addr", false, &e->addr);
	if (ret < 0)
		return ret;
	e->has_addr = ret == 1;
	ret = rs_get_access(rl, o, st->path, &e->access);
	if (ret >= 0)
		ret = jf_get_small(&rl->jf, o, st->path, "pasid", 0, 0xfffff, &v);
	if (ret < 0)
		return ret;
	e->has_ssid = ret == 1;
	e->ssid = (uint32_t)v;
	rl->page_requests++;
	return 0;
}

static int parse_expect_fault(struct rl *rl, json_t *o, struct run_step *st)
{
	/* enum iommu_fault_reason, by its name without IOMMU_FAULT_REASON_. */
	static const char *const reasons[] = {
		"UNKNOWN",   "PASID_FETCH", "BAD_PASID_ENTRY", "PASID_INVALID", "WALK_EABT",
		"PTE_FETCH", "PERMISSION",  "ACCESS",	       "OOR_ADDRESS",	NULL};
	struct run_expect_fault *x = &st->xf;
	unsigned int reason;
	char p[JF_PBUF];
	uint64_t v;
	int ret;

	*x = (struct run_expect_fault){.reason = -1, .access = -1};
	ret = need_api(rl, st, true,
		       "reads a device's DMA FAULT ring, which only the VFIO path has");
	if (!ret)
		ret = rs_get_device(rl, o, st->path, true, &st->dev);
	if (ret >= 0)
		ret = jf_get_bool(&rl->jf, o, st->path, "none", &x->none);
	if (ret < 0)
		return ret;
	if (x->none) {
		static const char *const fields[] = {"reason", "addr", "access", "pasid"};

		for (unsigned int k = 0; k < ARRAY_SIZE(fields); k++) {
			if (!json_object_get(o, fields[k]))
				continue;
			jf_child(p, sizeof(p), st->path, fields[k]);
			return err(rl, p, true, "\"none\": true expects no record: no fields");
		}
		return 0;
	}
	ret = jf_get_enum(&rl->jf, o, st->path, "reason", false, reasons, &reason);
	if (ret < 0)
		return ret;
	if (ret == 1)
		x->reason = (int)reason;
	ret = jf_get_u64(&rl->jf, o, st->path, "addr", false, &x->addr);
	if (ret < 0)
		return ret;
	x->has_addr = ret == 1;
	ret = jf_get_small(&rl->jf, o, st->path, "pasid", 0, 0xfffff, &v);
	if (ret < 0)
		return ret;
	x->has_pasid = ret == 1;
	x->pasid = (uint32_t)v;
	ret = rs_get_access(rl, o, st->path, &x->access);
	return ret < 0 ? ret : 0;
}

/* api "vfio": the guest commands VFIO's CACHE_INVALIDATE (or the STE step) can carry. */
static int vfio_cmds_ok(struct rl *rl, struct run_step *st)
{
	char p[JF_PBUF];

	for (unsigned int i = 0; i < st->nr_cmds; i++) {
		const struct run_cmd *c = &st->cmds[i];

		if (!c->raw) {
			switch (c->c.op) {
			case GUEST_CMD_TLBI_NH_ALL:
			case GUEST_CMD_TLBI_NH_ASID:
			case GUEST_CMD_TLBI_NH_VA:
			case GUEST_CMD_TLBI_NH_VAA:
			case GUEST_CMD_CFGI_CD:
			case GUEST_CMD_CFGI_CD_ALL:
			case GUEST_CMD_CFGI_STE:
			case GUEST_CMD_CFGI_STE_RANGE:
			case GUEST_CMD_SYNC:
				continue;
			default:
				break;
			}
		}
		snprintf(p, sizeof(p), "%s.commands[%u]", st->path, i);
		return err(rl, p, false,
			   "%s has no VFIO_IOMMU_CACHE_INVALIDATE form (machine.iommu.api is "
			   "\"vfio\": TLBI_NH_ALL, TLBI_NH_ASID, TLBI_NH_VA(A), CFGI_CD(_ALL), "
			   "CFGI_STE(_RANGE), CMD_SYNC)",
			   c->raw ? "a raw command" : guest_cmd_name(c->c.op));
	}
	return 0;
}

static int parse_step(struct rl *rl, json_t *o, struct run_step *st)
{
	const char *kind, *note;
	char p[JF_PBUF], d[64], list[400];
	size_t n = 0;
	uint64_t v;
	int ret;

	ret = jf_expect_object(&rl->jf, o, st->path);
	if (!ret)
		ret = jf_get_str(&rl->jf, o, st->path, "step", true, &kind);
	if (ret < 0)
		return ret;
	for (st->kind = 0; st->kind < RS_NR && strcmp(run_step_name(st->kind), kind); st->kind++)
		n = jf_add(list, sizeof(list), n, "%s%s", n ? ", " : "", run_step_name(st->kind));
	if (st->kind == RS_NR) {
		jf_child(p, sizeof(p), st->path, "step");
		return err(rl, p, false, "expected a step (%s), got %s", list,
			   jf_describe(json_object_get(o, "step"), d, sizeof(d)));
	}
	ret = jf_check_keys(&rl->jf, o, st->path, step_keys[st->kind]);
	if (!ret)
		ret = jf_get_str(&rl->jf, o, st->path, "note", false, &note);
	if (ret < 0)
		return ret;
	if (ret == 1 && !(st->note = strdup(note)))
		return err(rl, st->path, false, "out of memory");
	st->dev = -1;

	switch (st->kind) {
	case RS_MAP:
	case RS_UNMAP:
		return parse_map(rl, o, st);
	case RS_WRITE:
	case RS_CHECK:
		return parse_bytes_step(rl, o, st);
	case RS_GUEST_MAP:
	case RS_GUEST_UNMAP:
		return parse_guest_map(rl, o, st);
	case RS_CD:
		return parse_cd(rl, o, st);
	case RS_STE:
		ret = parse_ste(rl, o, st);
		if (!ret && rl->sc->m.vfio && st->ste_raw)
			return err(rl, st->path, false,
				   "raw STE words have no VFIO_IOMMU_SET_PASID_TABLE form "
				   "(machine.iommu.api is \"vfio\"): give \"config\"");
		return ret;
	case RS_INVALIDATE:
		ret = parse_invalidate(rl, o, st);
		if (!ret && rl->sc->m.vfio)
			ret = vfio_cmds_ok(rl, st);
		return ret;
	case RS_DMA:
		return parse_dma(rl, o, st);
	case RS_DMA_WAIT:
		return parse_dma_wait(rl, o, st);
	case RS_EXPECT_EVENT:
		ret = parse_expect_event(rl, o, st);
		if (!ret && rl->sc->m.vfio && st->xev.queue == RQ_VEVENTQ)
			return err(rl, st->path, false,
				   "the VFIO path has no vEVENTQ (machine.iommu.api is \"vfio\"): "
				   "the guest's faults are in the device's DMA FAULT ring "
				   "(expect_fault); \"queue\": \"host\" reads the host's log");
		return ret;
	case RS_EXPECT_FAULT:
		return parse_expect_fault(rl, o, st);
	case RS_EXPECT_PAGE_REQUEST:
		if ((ret = need_api(rl, st, false, "is not run on the VFIO path")))
			return ret;
		return parse_page_request(rl, o, st);
	case RS_PAGE_RESPONSE: {
		static const char *const codes[] = {"success", "invalid", NULL};
		unsigned int c = 0;

		if (!rl->page_requests) {
			jf_child(p, sizeof(p), st->path, "step");
			return err(rl, p, false,
				   "no page request to answer: an expect_page_request reads one "
				   "first");
		}
		rl->page_requests--;
		ret = jf_get_enum(&rl->jf, o, st->path, "code", true, codes, &c);
		st->code = c ? IOMMUFD_PAGE_RESP_INVALID : IOMMUFD_PAGE_RESP_SUCCESS;
		return ret < 0 ? ret : 0;
	}
	case RS_MSI: {
		json_t *a = json_object_get(o, "addr");

		ret = rs_get_device(rl, o, st->path, true, &st->dev);
		if (ret >= 0)
			ret = device_free(rl, st);
		if (ret >= 0)
			ret = jf_get_small(&rl->jf, o, st->path, "vector", 0, 1, &v);
		if (ret < 0)
			return ret;
		st->vector = ret == 1 ? (unsigned int)v : 0;
		ret = jf_get_small(&rl->jf, o, st->path, "event", 0, RUN_MSI_EVENTS - 1, &v);
		if (ret < 0)
			return ret;
		if (!ret)
			return err(rl, st->path, false, "missing key \"event\"");
		st->event = (unsigned int)v;
		if (json_object_get(o, "bind")) {
			bool bind = true;

			if ((ret = need_api(rl, st, true,
					    "\"bind\" is VFIO_IOMMU_SET_MSI_BINDING's")))
				return ret;
			ret = jf_get_bool(&rl->jf, o, st->path, "bind", &bind);
			if (ret < 0)
				return ret;
			st->no_bind = !bind;
		}
		st->addr = SW_MSI_BASE;
		if (a && !(json_is_string(a) && !strcmp(json_string_value(a), RUN_MSI_IPA_NAME))) {
			jf_child(p, sizeof(p), st->path, "addr");
			ret = jf_value_u64(&rl->jf, a, p, &st->addr);
			if (ret)
				return ret;
			if (st->addr & 0xfff)
				return err(
					rl, p, false,
					"0x%llx is not the start of a 4K page (the doorbell page)",
					(unsigned long long)st->addr);
		}
		return 0;
	}
	case RS_EXPECT_IRQ:
		ret = jf_get_small(&rl->jf, o, st->path, "event", 0, RUN_MSI_EVENTS - 1, &v);
		if (ret < 0)
			return ret;
		if (!ret)
			return err(rl, st->path, false, "missing key \"event\"");
		st->event = (unsigned int)v;
		ret = jf_get_u64(&rl->jf, o, st->path, "count", true, &st->count);
		return ret < 0 ? ret : 0;
	case RS_STATS: {
		json_t *x = json_object_get(o, "expect"), *val;
		const char *key;

		if (!x)
			return 0;
		jf_child(p, sizeof(p), st->path, "expect");
		ret = jf_expect_object(&rl->jf, x, p);
		if (!ret)
			ret = jf_check_keys(&rl->jf, x, p, run_stat_names);
		if (ret)
			return ret;
		if (json_object_size(x) > RUN_MAX_STATS)
			return err(rl, p, false, "expected at most %d counters", RUN_MAX_STATS);
		json_object_foreach(x, key, val)
		{
			struct run_stat_expect *se = &st->stats[st->nr_stats];
			char q[JF_PBUF];

			for (se->id = 0; strcmp(run_stat_names[se->id], key); se->id++)
				;
			jf_child(q, sizeof(q), p, key);
			ret = jf_value_u64(&rl->jf, val, q, &se->value);
			if (ret)
				return ret;
			st->nr_stats++;
		}
		return 0;
	}
	case RS_NR:
		break;
	}
	return 0;
}

int rs_parse_steps(struct rl *rl, json_t *root)
{
	json_t *arr = json_object_get(root, "steps"), *o;
	struct run_sc *sc = rl->sc;
	char d[64];
	size_t i;
	int ret;

	if (!arr)
		return err(rl, "", false, "missing key \"steps\"");
	if (!json_is_array(arr))
		return err(rl, "steps", false, "expected an array of steps, got %s",
			   jf_describe(arr, d, sizeof(d)));
	if (!json_array_size(arr) || json_array_size(arr) > MAX_STEPS)
		return err(rl, "steps", false, "expected 1 to %d steps, got %zu", MAX_STEPS,
			   json_array_size(arr));
	sc->steps = calloc(json_array_size(arr), sizeof(*sc->steps));
	if (!sc->steps)
		return err(rl, "steps", false, "out of memory");
	for (unsigned int k = 0; k < RUN_MAX_DEVICES; k++)
		rl->busy[k] = -1;
	json_array_foreach(arr, i, o)
	{
		struct run_step *st = &sc->steps[i];
		int col;

		jf_pathf(st->path, sizeof(st->path), "steps[%zu]", i);
		if (!jpos_find(&rl->jf.pos, st->path, false, &st->line, &col))
			st->line = 0;
		sc->nr_steps++;
		ret = parse_step(rl, o, st);
		if (ret)
			return ret;
	}
	for (unsigned int k = 0; k < sc->m.nr_devices; k++) {
		char p[JF_PBUF];

		if (rl->busy[k] < 0)
			continue;
		jf_pathf(p, sizeof(p), "steps[%d].wait", rl->busy[k]);
		return err(rl, p, false,
			   "this DMA of %s is never waited for: end it with a dma_wait",
			   sc->m.devices[k].name);
	}
	return 0;
}
