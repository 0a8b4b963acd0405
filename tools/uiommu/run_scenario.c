// SPDX-License-Identifier: MIT
/*
 * run_scenario.c - run scenarios: JSON in, a checked machine and script out.
 *
 * The loader's promise is that a scenario which loads can run: every value
 * is checked where it stands (types, unknown keys, numbers, names of
 * devices and tables, ranges inside guest RAM, alignment), and the script
 * is checked as a whole (run_script.c: a device busy with a DMA that has
 * not been waited for, a page response with no page request before it,
 * an STE pointing at a CD table the guest has not written, a vIOMMU step
 * on a machine without one). Each refusal is one jfield.c message with the position of
 * the offending value. Whatever depends on the behaviour of the system
 * under test (the errno of an ioctl, the bytes a DMA moved, the events it
 * raised) is left to the runner, which reports it as a failed step.
 *
 * Ownership: struct run_sc owns its strings and arrays (the steps, their
 * notes, command arrays and data bytes); run_scenario_free() releases them
 * on success and after any error.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jfield.h"
#include "parse.h"
#include "run_scenario_int.h"
#include "util/bits.h"
#include "vmm/smmuv3_evt.h"

static const char *const step_names[RS_NR] = {
	[RS_MAP] = "map",
	[RS_UNMAP] = "unmap",
	[RS_WRITE] = "write",
	[RS_CHECK] = "check",
	[RS_GUEST_MAP] = "guest_map",
	[RS_GUEST_UNMAP] = "guest_unmap",
	[RS_CD] = "cd",
	[RS_STE] = "ste",
	[RS_INVALIDATE] = "invalidate",
	[RS_DMA] = "dma",
	[RS_DMA_WAIT] = "dma_wait",
	[RS_EXPECT_EVENT] = "expect_event",
	[RS_EXPECT_PAGE_REQUEST] = "expect_page_request",
	[RS_PAGE_RESPONSE] = "page_response",
	[RS_MSI] = "msi",
	[RS_EXPECT_IRQ] = "expect_irq",
	[RS_STATS] = "stats",
	[RS_EXPECT_FAULT] = "expect_fault",
};

const char *run_step_name(enum run_step_kind k)
{
	return k < RS_NR ? step_names[k] : "?";
}

const char *const run_stat_names[] = {
	"iotlb_hits",
	"iotlb_misses",
	"walk_s1_hits",
	"walk_s1_misses",
	"walk_s2_hits",
	"walk_s2_misses",
	"ipa_hits",
	"ipa_misses",
	"cfg_hits",
	"cfg_misses",
	"commands",
	"command_errors",
	"events",
	"vevents",
	"vevents_lost",
	"page_requests",
	"page_request_aborts",
	"host_events",
	"stalls",
	"stall_retries",
	"dma_ops",
	"dma_errors",
	"interrupts",
	"ring_records",
	"msis_lost",
	NULL,
};

unsigned int run_stat_count(void)
{
	unsigned int n = 0;

	while (run_stat_names[n])
		n++;
	return n;
}

/* ---------------------------------------------------------------------- */
/* Data                                                                   */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void run_data_fill(const struct run_data *d, uint8_t *out, size_t len)
{
	uint64_t s = d->value, r = 0;

	switch (d->kind) {
	case RD_RANDOM:
		for (size_t i = 0; i < len; i++) {
			if (!(i % 8))
				r = splitmix64(&s);
			out[i] = (uint8_t)(r >> (8 * (i % 8)));
		}
		break;
	case RD_BYTE:
		memset(out, (int)d->value, len);
		break;
	case RD_TEXT:
	case RD_HEX:
		memcpy(out, d->bytes, MIN(len, d->nbytes));
		break;
	case RD_GPA:
		break;
	}
}

void run_data_describe(const struct run_data *d, char *buf, size_t len)
{
	switch (d->kind) {
	case RD_RANDOM:
		snprintf(buf, len, "random %llu", (unsigned long long)d->value);
		break;
	case RD_BYTE:
		snprintf(buf, len, "byte 0x%02llx", (unsigned long long)d->value);
		break;
	case RD_TEXT: {
		size_t n = (size_t)snprintf(buf, len, "text \"");

		for (size_t i = 0; i < d->nbytes && n + 8 < len; i++) {
			unsigned char ch = d->bytes[i];

			if (i == 40) {
				n += (size_t)snprintf(buf + n, len - n, "...");
				break;
			}
			if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
				n += (size_t)snprintf(buf + n, len - n, "\\x%02x", ch);
			else
				buf[n++] = (char)ch;
		}
		snprintf(buf + n, len > n ? len - n : 0, "\"");
		break;
	}
	case RD_HEX:
		snprintf(buf, len, "hex (%zu bytes)", d->nbytes);
		break;
	case RD_GPA:
		snprintf(buf, len, "the bytes at GPA 0x%llx", (unsigned long long)d->value);
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* Small readers                                                          */

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a <= b + (bsize - 1) && b <= a + (asize - 1);
}

/* A name: 1 to 31 of [a-z0-9_-], starting with a letter. */
static bool good_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= RUN_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static int region_index(const struct run_machine_desc *m, uint64_t gpa, uint64_t size)
{
	for (unsigned int i = 0; i < m->nr_ram; i++)
		if (gpa >= m->ram[i].gpa && gpa - m->ram[i].gpa < m->ram[i].size &&
		    size <= m->ram[i].size - (gpa - m->ram[i].gpa))
			return (int)i;
	return -1;
}

/* A range of guest RAM at @opath.@gkey / .@skey: aligned to @align (1: any), inside one region. */
int rs_check_ram_range(struct rl *rl, const char *opath, const char *gkey, const char *skey,
		       uint64_t gpa, uint64_t size, uint64_t align)
{
	char p[JF_PBUF], q[JF_PBUF];

	jf_child(p, sizeof(p), opath, gkey);
	jf_child(q, sizeof(q), opath, skey);
	if (align > 1 && (gpa & (align - 1)))
		return err(rl, p, false, "0x%llx is not 4K aligned", (unsigned long long)gpa);
	if (!size)
		return err(rl, q, false, "expected a size above 0, got 0");
	if (align > 1 && (size & (align - 1)))
		return err(rl, q, false, "0x%llx is not a multiple of 4K",
			   (unsigned long long)size);
	if (range_wraps(gpa, size) || region_index(&rl->sc->m, gpa, size) < 0)
		return err(rl, p, false, "0x%llx-0x%llx is not inside one guest RAM region",
			   (unsigned long long)gpa, (unsigned long long)(gpa + size - 1));
	return 0;
}

static const char *const errno_names[] = {
	"EPERM",  "ENOENT", "EIO",    "E2BIG",	"ENOMEM",    "EFAULT",	   "EBUSY",	 "EEXIST",
	"ENODEV", "EINVAL", "ENOSPC", "ERANGE", "EOVERFLOW", "EOPNOTSUPP", "EADDRINUSE", NULL};
static const int errno_values[] = {EPERM,  ENOENT, EIO,	      E2BIG,	  ENOMEM,
				   EFAULT, EBUSY,  EEXIST,    ENODEV,	  EINVAL,
				   ENOSPC, ERANGE, EOVERFLOW, EOPNOTSUPP, EADDRINUSE};

/* "expect": {"error": "EIO"} of an action (and "handled" for invalidate). */
int rs_parse_action_expect(struct rl *rl, json_t *obj, struct run_step *st, bool handled)
{
	static const char *const keys[] = {"error", NULL};
	static const char *const inv_keys[] = {"error", "handled", NULL};
	json_t *x = json_object_get(obj, "expect");
	char p[JF_PBUF];
	unsigned int e;
	uint64_t v;
	int ret;

	st->expect_errno = 0;
	st->expect_handled = -1;
	if (!x)
		return 0;
	jf_child(p, sizeof(p), st->path, "expect");
	ret = jf_expect_object(&rl->jf, x, p);
	if (!ret)
		ret = jf_check_keys(&rl->jf, x, p, handled ? inv_keys : keys);
	if (!ret)
		ret = jf_get_enum(&rl->jf, x, p, "error", false, errno_names, &e);
	if (ret < 0)
		return ret;
	if (ret == 1)
		st->expect_errno = errno_values[e];
	if (handled) {
		ret = jf_get_small(&rl->jf, x, p, "handled", 0, RUN_MAX_CMDS, &v);
		if (ret < 0)
			return ret;
		if (ret == 1)
			st->expect_handled = (int)v;
	}
	return 0;
}

int rs_get_device(struct rl *rl, json_t *obj, const char *opath, bool required, int *dev)
{
	const char *s;
	char p[JF_PBUF], list[256];
	size_t n = 0;
	int ret = jf_get_str(&rl->jf, obj, opath, "device", required, &s);

	*dev = -1;
	if (ret <= 0)
		return ret;
	for (unsigned int i = 0; i < rl->sc->m.nr_devices; i++) {
		if (!strcmp(rl->sc->m.devices[i].name, s)) {
			*dev = (int)i;
			return 1;
		}
		n = jf_add(list, sizeof(list), n, "%s%s", i ? ", " : "", rl->sc->m.devices[i].name);
	}
	jf_child(p, sizeof(p), opath, "device");
	return err(rl, p, false, "no device \"%.40s\" in the machine (devices: %s)", s, list);
}

int rs_get_table(struct rl *rl, json_t *obj, const char *opath, int *table)
{
	return rs_get_table_at(rl, obj, opath, "table", table);
}

int rs_get_table_at(struct rl *rl, json_t *obj, const char *opath, const char *key, int *table)
{
	const struct run_machine_desc *m = &rl->sc->m;
	const char *s = m->tables[0].name;
	char p[JF_PBUF], list[256];
	size_t n = 0;
	int ret = jf_get_str(&rl->jf, obj, opath, key, false, &s);

	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < m->nr_tables; i++) {
		if (!strcmp(m->tables[i].name, s)) {
			*table = (int)i;
			return 0;
		}
		n = jf_add(list, sizeof(list), n, "%s%s", i ? ", " : "", m->tables[i].name);
	}
	jf_child(p, sizeof(p), opath, key);
	return err(rl, p, false, "no guest page table \"%.40s\" (page_tables: %s)", s, list);
}

/* "access": "read" | "write" */
int rs_get_access(struct rl *rl, json_t *obj, const char *opath, int *access)
{
	static const char *const names[] = {"read", "write", NULL};
	unsigned int a;
	int ret = jf_get_enum(&rl->jf, obj, opath, "access", false, names, &a);

	*access = -1;
	if (ret == 1)
		*access = a ? PT_PROT_W : PT_PROT_R;
	return ret < 0 ? ret : 0;
}

/* An event type by name ("F_TRANSLATION"): the type, or (with @abort_ok) "abort" = 0. */
int rs_get_event_type(struct rl *rl, json_t *obj, const char *opath, const char *key, bool abort_ok,
		      int *type)
{
	const char *s;
	char p[JF_PBUF], d[64];
	int ret = jf_get_str(&rl->jf, obj, opath, key, false, &s), t;

	*type = -1;
	if (ret <= 0)
		return ret;
	if (abort_ok && !strcmp(s, "abort")) {
		*type = 0;
		return 1;
	}
	if (!strcmp(s, "any"))
		return 1;
	t = smmuv3_evt_parse(s);
	if (t > 0) {
		*type = t;
		return 1;
	}
	jf_child(p, sizeof(p), opath, key);
	return err(rl, p, false,
		   "expected an SMMUv3 event name such as F_TRANSLATION or F_PERMISSION%s, or "
		   "\"any\", got %s",
		   abort_ok ? ", \"abort\" (no event)" : "",
		   jf_describe(json_object_get(obj, key), d, sizeof(d)));
}

/* ---------------------------------------------------------------------- */
/* Machine                                                                */

static int parse_iommu(struct rl *rl, json_t *mobj)
{
	static const char *const keys[] = {"model",  "viommu", "stall", "httu", "ssidsize",
					   "caches", "vsmmu",  "api",	NULL};
	static const char *const apis[] = {"iommufd", "vfio", NULL};
	unsigned int api = 0;
	static const char *const cache_keys[] = {"iotlb", "walk", "ipa", "cfg", NULL};
	static const char *const models[] = {"smmuv3", NULL};
	struct run_machine_desc *m = &rl->sc->m;
	json_t *o = json_object_get(mobj, "iommu"), *c;
	unsigned int *sizes[] = {&m->iotlb, &m->walk, &m->ipa, &m->cfg};
	unsigned int model;
	uint64_t v;
	int ret;

	m->viommu = m->stall = m->httu = true;
	m->ssidsize = 20;
	m->iotlb = m->walk = m->ipa = m->cfg = UINT32_MAX; /* the model's defaults */
	if (!o)
		return 0;
	ret = jf_expect_object(&rl->jf, o, "machine.iommu");
	if (!ret)
		ret = jf_check_keys(&rl->jf, o, "machine.iommu", keys);
	if (!ret)
		ret = jf_get_enum(&rl->jf, o, "machine.iommu", "model", false, models, &model);
	if (ret >= 0)
		ret = jf_get_bool(&rl->jf, o, "machine.iommu", "viommu", &m->viommu);
	if (ret >= 0)
		ret = jf_get_bool(&rl->jf, o, "machine.iommu", "vsmmu", &m->vsmmu);
	if (ret >= 0 && m->vsmmu && !m->viommu)
		return err(rl, "machine.iommu.vsmmu", false, "the vSMMU front end needs viommu");
	if (ret >= 0)
		ret = jf_get_bool(&rl->jf, o, "machine.iommu", "stall", &m->stall);
	if (ret >= 0)
		ret = jf_get_bool(&rl->jf, o, "machine.iommu", "httu", &m->httu);
	if (ret >= 0)
		ret = jf_get_enum(&rl->jf, o, "machine.iommu", "api", false, apis, &api);
	if (ret >= 0 && api == 1 && !m->viommu)
		return err(rl, "machine.iommu.api", false,
			   "\"vfio\" forwards a guest's vSMMU through VFIO's nested extension: it "
			   "needs \"viommu\": true");
	if (ret >= 0 && api == 1 && m->vsmmu)
		return err(rl, "machine.iommu.api", false,
			   "the vSMMU front end (\"vsmmu\") forwards through iommufd: not with "
			   "\"vfio\"");
	m->vfio = api == 1;
	if (ret >= 0)
		ret = jf_get_small(&rl->jf, o, "machine.iommu", "ssidsize", 0, 20, &v);
	if (ret < 0)
		return ret;
	if (ret == 1)
		m->ssidsize = (unsigned int)v;
	c = json_object_get(o, "caches");
	if (!c)
		return 0;
	ret = jf_expect_object(&rl->jf, c, "machine.iommu.caches");
	if (!ret)
		ret = jf_check_keys(&rl->jf, c, "machine.iommu.caches", cache_keys);
	for (unsigned int i = 0; !ret && cache_keys[i]; i++) {
		ret = jf_get_small(&rl->jf, c, "machine.iommu.caches", cache_keys[i], 0, 1u << 20,
				   &v);
		if (ret == 1 && v % 4) {
			char p[JF_PBUF];

			jf_child(p, sizeof(p), "machine.iommu.caches", cache_keys[i]);
			return err(rl, p, false,
				   "expected 0 (off) or a multiple of 4 entries (4 ways), got %llu",
				   (unsigned long long)v);
		}
		if (ret == 1)
			*sizes[i] = (unsigned int)v;
		ret = ret < 0 ? ret : 0;
	}
	return ret;
}

static int parse_tables(struct rl *rl, json_t *gobj)
{
	static const char *const keys[] = {"granule", "ias", "oas", NULL};
	struct run_machine_desc *m = &rl->sc->m;
	json_t *o = json_object_get(gobj, "page_tables"), *t;
	const char *name;
	char p[JF_PBUF], d[64];
	uint64_t v;
	int ret;

	if (!o) {
		m->nr_tables = 1;
		m->tables[0] =
			(struct run_table){.name = "s1", .granule_shift = 12, .ias = 48, .oas = 48};
		return 0;
	}
	ret = jf_expect_object(&rl->jf, o, "machine.guest.page_tables");
	if (ret)
		return ret;
	if (!json_object_size(o) || json_object_size(o) > RUN_MAX_TABLES)
		return err(rl, "machine.guest.page_tables", false,
			   "expected 1 to %d tables, got %zu", RUN_MAX_TABLES, json_object_size(o));
	json_object_foreach(o, name, t)
	{
		struct run_table *tb = &m->tables[m->nr_tables];

		jf_child(p, sizeof(p), "machine.guest.page_tables", name);
		if (!good_name(name))
			return err(rl, p, true,
				   "expected a name of 1 to 31 letters a-z, digits, '_' or '-', "
				   "starting with a letter");
		*tb = (struct run_table){.granule_shift = 12, .ias = 48, .oas = 48};
		snprintf(tb->name, sizeof(tb->name), "%s", name);
		ret = jf_expect_object(&rl->jf, t, p);
		if (!ret)
			ret = jf_check_keys(&rl->jf, t, p, keys);
		if (!ret)
			ret = jf_get_u64(&rl->jf, t, p, "granule", false, &v);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			if (v != 4096 && v != 16384 && v != 65536) {
				char q[JF_PBUF];

				jf_child(q, sizeof(q), p, "granule");
				return err(
					rl, q, false, "expected 4K, 16K or 64K, got %s",
					jf_describe(json_object_get(t, "granule"), d, sizeof(d)));
			}
			tb->granule_shift = ilog2_u64(v);
		}
		ret = jf_get_small(&rl->jf, t, p, "ias", 25, 48, &v);
		if (ret < 0)
			return ret;
		if (ret == 1)
			tb->ias = (unsigned int)v;
		ret = jf_get_small(&rl->jf, t, p, "oas", 32, 48, &v);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			if (v != 32 && v != 36 && v != 40 && v != 42 && v != 44 && v != 48) {
				char q[JF_PBUF];

				jf_child(q, sizeof(q), p, "oas");
				return err(
					rl, q, false,
					"expected 32, 36, 40, 42, 44 or 48 (what CD.IPS can say), "
					"got %llu",
					(unsigned long long)v);
			}
			tb->oas = (unsigned int)v;
		}
		m->nr_tables++;
	}
	return 0;
}

static int parse_guest(struct rl *rl, json_t *mobj)
{
	static const char *const keys[] = {"ram", "pool", "page_tables", NULL};
	static const char *const rkeys[] = {"gpa", "size", NULL};
	struct run_machine_desc *m = &rl->sc->m;
	json_t *g = json_object_get(mobj, "guest"), *arr, *r, *pool;
	uint64_t total = 0;
	char p[JF_PBUF], d[64];
	size_t i;
	int ret;

	if (!g)
		return err(rl, "machine", false, "missing key \"guest\"");
	ret = jf_expect_object(&rl->jf, g, "machine.guest");
	if (!ret)
		ret = jf_check_keys(&rl->jf, g, "machine.guest", keys);
	if (ret)
		return ret;
	arr = json_object_get(g, "ram");
	if (!arr)
		return err(rl, "machine.guest", false, "missing key \"ram\"");
	if (!json_is_array(arr))
		return err(rl, "machine.guest.ram", false, "expected an array of regions, got %s",
			   jf_describe(arr, d, sizeof(d)));
	if (json_array_size(arr) < 1 || json_array_size(arr) > RUN_MAX_RAM)
		return err(rl, "machine.guest.ram", false, "expected 1 to %d regions, got %zu",
			   RUN_MAX_RAM, json_array_size(arr));
	json_array_foreach(arr, i, r)
	{
		uint64_t gpa, size;

		jf_pathf(p, sizeof(p), "machine.guest.ram[%zu]", i);
		ret = jf_expect_object(&rl->jf, r, p);
		if (!ret)
			ret = jf_check_keys(&rl->jf, r, p, rkeys);
		if (!ret)
			ret = jf_get_u64(&rl->jf, r, p, "gpa", true, &gpa);
		if (ret >= 0)
			ret = jf_get_u64(&rl->jf, r, p, "size", true, &size);
		if (ret < 0)
			return ret;
		if (gpa & (PAGE - 1)) {
			char q[JF_PBUF];

			jf_child(q, sizeof(q), p, "gpa");
			return err(rl, q, false, "0x%llx is not 4K aligned",
				   (unsigned long long)gpa);
		}
		if (!size || (size & (PAGE - 1)) || size > RAM_MAX) {
			char q[JF_PBUF];

			jf_child(q, sizeof(q), p, "size");
			return err(rl, q, false, "expected a multiple of 4K from 4K to 1G, got %s",
				   jf_describe(json_object_get(r, "size"), d, sizeof(d)));
		}
		if (range_wraps(gpa, size) || ((gpa + size - 1) >> IPA_BITS)) {
			char q[JF_PBUF];

			jf_child(q, sizeof(q), p, "gpa");
			return err(rl, q, false,
				   "0x%llx-0x%llx is beyond the 48-bit IPA space of the host's "
				   "stage 2",
				   (unsigned long long)gpa, (unsigned long long)(gpa + size - 1));
		}
		if (overlaps(gpa, size, SW_MSI_BASE, SW_MSI_SIZE)) {
			char q[JF_PBUF];

			jf_child(q, sizeof(q), p, "gpa");
			return err(
				rl, q, false,
				"0x%llx-0x%llx overlaps 0x8000000-0x80fffff, the window the host "
				"reserves for MSI doorbells",
				(unsigned long long)gpa, (unsigned long long)(gpa + size - 1));
		}
		for (unsigned int k = 0; k < m->nr_ram; k++) {
			char q[JF_PBUF];

			if (!overlaps(gpa, size, m->ram[k].gpa, m->ram[k].size))
				continue;
			jf_child(q, sizeof(q), p, "gpa");
			return err(rl, q, false, "0x%llx-0x%llx overlaps machine.guest.ram[%u]",
				   (unsigned long long)gpa, (unsigned long long)(gpa + size - 1),
				   k);
		}
		total += size;
		if (total > RAM_MAX)
			return err(rl, p, false, "more than 1G of guest RAM in all");
		m->ram[m->nr_ram].gpa = gpa;
		m->ram[m->nr_ram].size = size;
		m->nr_ram++;
	}

	pool = json_object_get(g, "pool");
	if (!m->viommu) {
		static const char *const vkeys[] = {"pool", "page_tables"};

		/* Without a vIOMMU the guest has no IOMMU driver, hence no tables to keep. */
		for (unsigned int k = 0; k < ARRAY_SIZE(vkeys); k++) {
			if (!json_object_get(g, vkeys[k]))
				continue;
			jf_child(p, sizeof(p), "machine.guest", vkeys[k]);
			return err(rl, p, true,
				   "the guest has page tables only with a vIOMMU "
				   "(machine.iommu.viommu is false)");
		}
		return 0;
	}
	if (pool) {
		ret = jf_expect_object(&rl->jf, pool, "machine.guest.pool");
		if (!ret)
			ret = jf_check_keys(&rl->jf, pool, "machine.guest.pool", rkeys);
		if (!ret)
			ret = jf_get_u64(&rl->jf, pool, "machine.guest.pool", "gpa", true,
					 &m->pool_gpa);
		if (ret >= 0)
			ret = jf_get_u64(&rl->jf, pool, "machine.guest.pool", "size", true,
					 &m->pool_size);
		if (ret < 0)
			return ret;
		ret = rs_check_ram_range(rl, "machine.guest.pool", "gpa", "size", m->pool_gpa,
					 m->pool_size, PAGE);
		if (ret)
			return ret;
	} else {
		/* The last 1M of the first region, or its last half when it is smaller than 2M. */
		m->pool_size = MIN(1ULL << 20, ALIGN_DOWN(m->ram[0].size / 2, PAGE));
		if (!m->pool_size)
			return err(
				rl, "machine.guest.ram[0]", false,
				"a region of 4K leaves no room for the guest's page tables: give "
				"\"pool\" or more RAM");
		m->pool_gpa = m->ram[0].gpa + m->ram[0].size - m->pool_size;
	}
	return parse_tables(rl, g);
}

static int parse_devices(struct rl *rl, json_t *mobj)
{
	static const char *const keys[] = {"name",	 "type",  "sid", "vsid",
					   "pasid_bits", "stall", NULL};
	static const char *const types[] = {"dmatest", NULL};
	struct run_machine_desc *m = &rl->sc->m;
	json_t *arr = json_object_get(mobj, "devices"), *o;
	char p[JF_PBUF], q[JF_PBUF], d[64];
	size_t i;
	int ret;

	if (!arr)
		return err(rl, "machine", false, "missing key \"devices\"");
	if (!json_is_array(arr))
		return err(rl, "machine.devices", false, "expected an array of devices, got %s",
			   jf_describe(arr, d, sizeof(d)));
	if (json_array_size(arr) < 1 || json_array_size(arr) > RUN_MAX_DEVICES)
		return err(rl, "machine.devices", false, "expected 1 to %d devices, got %zu",
			   RUN_MAX_DEVICES, json_array_size(arr));
	json_array_foreach(arr, i, o)
	{
		struct run_device *dev = &m->devices[m->nr_devices];
		const char *name;
		unsigned int type;
		uint64_t v;

		jf_pathf(p, sizeof(p), "machine.devices[%zu]", i);
		jf_pathf(dev->path, sizeof(dev->path), "machine.devices[%zu]", i);
		ret = jf_expect_object(&rl->jf, o, p);
		if (!ret)
			ret = jf_check_keys(&rl->jf, o, p, keys);
		if (!ret)
			ret = jf_get_str(&rl->jf, o, p, "name", true, &name);
		if (ret < 0)
			return ret;
		jf_child(q, sizeof(q), p, "name");
		if (!good_name(name))
			return err(rl, q, false,
				   "expected a name of 1 to 31 letters a-z, digits, '_' or '-', "
				   "starting with a letter, got %s",
				   jf_describe(json_object_get(o, "name"), d, sizeof(d)));
		for (unsigned int k = 0; k < m->nr_devices; k++)
			if (!strcmp(m->devices[k].name, name))
				return err(rl, q, false,
					   "\"%s\" is the name of machine.devices[%u]", name, k);
		snprintf(dev->name, sizeof(dev->name), "%s", name);
		ret = jf_get_enum(&rl->jf, o, p, "type", false, types, &type);
		if (ret >= 0)
			ret = jf_get_small(&rl->jf, o, p, "sid", 0, 255, &v);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return err(rl, p, false, "missing key \"sid\"");
		dev->sid = (uint32_t)v;
		dev->vsid = dev->sid;
		ret = jf_get_small(&rl->jf, o, p, "vsid", 0, UINT32_MAX, &v);
		if (ret < 0)
			return ret;
		if (ret == 1)
			dev->vsid = (uint32_t)v;
		ret = jf_get_small(&rl->jf, o, p, "pasid_bits", 0, 20, &v);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			if (v > m->ssidsize) {
				jf_child(q, sizeof(q), p, "pasid_bits");
				return err(rl, q, false,
					   "%llu is more than the SMMU's SSIDSIZE (%u)",
					   (unsigned long long)v, m->ssidsize);
			}
			dev->pasid_bits = (unsigned int)v;
		}
		ret = jf_get_bool(&rl->jf, o, p, "stall", &dev->stall);
		if (ret < 0)
			return ret;
		if (dev->stall && !m->stall) {
			jf_child(q, sizeof(q), p, "stall");
			return err(rl, q, false,
				   "the SMMU has no stall model (machine.iommu.stall)");
		}
		if (dev->stall && m->vfio) {
			jf_child(q, sizeof(q), p, "stall");
			return err(rl, q, false,
				   "stalled DMA is not run on the VFIO path (machine.iommu.api is "
				   "\"vfio\"): its page requests would go to the fault response "
				   "region, which uiommu run does not drive");
		}
		for (unsigned int k = 0; k < m->nr_devices; k++) {
			if (m->devices[k].sid == dev->sid) {
				jf_child(q, sizeof(q), p, "sid");
				return err(rl, q, false, "SID 0x%x is machine.devices[%u]'s",
					   dev->sid, k);
			}
			if (m->devices[k].vsid == dev->vsid) {
				jf_child(q, sizeof(q), p,
					 json_object_get(o, "vsid") ? "vsid" : "sid");
				return err(rl, q, false, "vSID 0x%x is machine.devices[%u]'s",
					   dev->vsid, k);
			}
		}
		m->nr_devices++;
	}
	return 0;
}

static int parse_machine(struct rl *rl, json_t *root)
{
	static const char *const keys[] = {"iommu", "guest", "devices", NULL};
	json_t *m = json_object_get(root, "machine");
	int ret;

	if (!m)
		return err(rl, "", false, "missing key \"machine\"");
	ret = jf_expect_object(&rl->jf, m, "machine");
	if (!ret)
		ret = jf_check_keys(&rl->jf, m, "machine", keys);
	if (!ret)
		ret = parse_iommu(rl, m);
	if (!ret)
		ret = parse_guest(rl, m);
	if (!ret)
		ret = parse_devices(rl, m);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                */

/*
 * The CLI reads three kinds of JSON file and scenarios/ holds all three: a
 * top-level key of another kind says which it looks like.
 */
static const char *other_kind(json_t *root)
{
	static const char *const walk_keys[] = {"memory", "stage1", "stage2", "pasids", "guest"};

	if (json_object_get(root, "iommus"))
		return "; this looks like a topology, for uiommu exec --config";
	for (size_t i = 0; i < sizeof(walk_keys) / sizeof(walk_keys[0]); i++)
		if (json_object_get(root, walk_keys[i]))
			return "; this looks like a page-table scenario, for uiommu walk and "
			       "uiommu trace";
	return NULL;
}

int run_scenario_load(const char *file, struct run_sc **out, char *errbuf, size_t errlen)
{
	static const char *const keys[] = {"description", "machine", "steps", NULL};
	struct rl rl;
	struct run_sc *sc;
	json_t *root = NULL;
	const char *desc;
	int ret;

	*out = NULL;
	memset(&rl, 0, sizeof(rl));
	ret = jf_load(&rl.jf, file, &root, errbuf, errlen);
	if (ret)
		return ret;
	sc = calloc(1, sizeof(*sc));
	if (!sc || !(sc->file = strdup(file))) {
		free(sc);
		snprintf(errbuf, errlen, "%s: out of memory", file);
		ret = -ENOMEM;
		goto out;
	}
	rl.sc = sc;
	if (!json_is_object(root))
		ret = err(&rl, "", false, "expected an object at the top level, got an array");
	if (!ret)
		ret = jf_check_keys_note(&rl.jf, root, "", keys, other_kind(root));
	if (!ret)
		ret = jf_get_str(&rl.jf, root, "", "description", false, &desc);
	if (ret == 1 && !(sc->description = strdup(desc)))
		ret = err(&rl, "description", false, "out of memory");
	if (ret >= 0)
		ret = parse_machine(&rl, root);
	if (!ret)
		ret = rs_parse_steps(&rl, root);
	if (ret)
		run_scenario_free(sc);
	else
		*out = sc;
out:
	jf_free(&rl.jf);
	json_decref(root);
	return ret < 0 ? ret : 0;
}

void run_scenario_free(struct run_sc *sc)
{
	if (!sc)
		return;
	for (unsigned int i = 0; i < sc->nr_steps; i++) {
		free(sc->steps[i].note);
		free(sc->steps[i].cmds);
		free(sc->steps[i].data.bytes);
	}
	free(sc->steps);
	free(sc->description);
	free(sc->file);
	free(sc);
}
