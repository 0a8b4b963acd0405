// SPDX-License-Identifier: MIT
/*
 * run_scenario.c - run scenarios: JSON in, a checked machine and script out.
 *
 * The loader's promise is that a scenario which loads can run: every value
 * is checked where it stands (types, unknown keys, numbers, names of
 * devices and tables, ranges inside guest RAM, alignment), and the script
 * is checked as a whole (a device busy with a DMA that has not been waited
 * for, a page response with no page request before it, an STE pointing at
 * a CD table the guest has not written, a vIOMMU step on a machine
 * without one). Each refusal is one jfield.c message with the position of
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
#include "run_scenario.h"
#include "util/bits.h"
#include "vmm/smmuv3_evt.h"

#include <linux/iommufd.h>

/* What the host reserves for MSI doorbells (the SMMUv3 driver's SW_MSI window). */
#define SW_MSI_BASE 0x8000000ULL
#define SW_MSI_SIZE 0x100000ULL
#define RAM_MAX	    (1ULL << 30)
#define IPA_BITS    48 /* the driver's stage 2 */
#define MAX_STEPS   1000
#define PAGE	    4096ULL

struct rl {
	struct jf jf;
	struct run_sc *sc;
	/* Script state while checking the steps. */
	int busy[RUN_MAX_DEVICES];    /* step index of the DMA in flight, -1: none */
	bool has_cd[RUN_MAX_DEVICES]; /* a cd step wrote the device's CD table */
	int page_requests;	      /* read and not yet answered */
};

#define err(rl, ...) jf_err(&(rl)->jf, __VA_ARGS__)

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
};

const char *run_step_name(enum run_step_kind k)
{
	return k < RS_NR ? step_names[k] : "?";
}

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
					"epd0", "valid", "record", NULL},
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
	[RS_MSI] = (const char *const[]){"step", "note", "device", "vector", "addr", "event", NULL},
	[RS_EXPECT_IRQ] = (const char *const[]){"step", "note", "event", "count", NULL},
	[RS_STATS] = (const char *const[]){"step", "note", "expect", NULL},
};

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
static int check_ram_range(struct rl *rl, const char *opath, const char *gkey, const char *skey,
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
static int parse_action_expect(struct rl *rl, json_t *obj, struct run_step *st, bool handled)
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

static int get_device(struct rl *rl, json_t *obj, const char *opath, bool required, int *dev)
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

static int get_table(struct rl *rl, json_t *obj, const char *opath, int *table)
{
	const struct run_machine_desc *m = &rl->sc->m;
	const char *s = m->tables[0].name;
	char p[JF_PBUF], list[256];
	size_t n = 0;
	int ret = jf_get_str(&rl->jf, obj, opath, "table", false, &s);

	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < m->nr_tables; i++) {
		if (!strcmp(m->tables[i].name, s)) {
			*table = (int)i;
			return 0;
		}
		n = jf_add(list, sizeof(list), n, "%s%s", i ? ", " : "", m->tables[i].name);
	}
	jf_child(p, sizeof(p), opath, "table");
	return err(rl, p, false, "no guest page table \"%.40s\" (page_tables: %s)", s, list);
}

/* "access": "read" | "write" */
static int get_access(struct rl *rl, json_t *obj, const char *opath, int *access)
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
static int get_event_type(struct rl *rl, json_t *obj, const char *opath, const char *key,
			  bool abort_ok, int *type)
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
	static const char *const keys[] = {"model",    "viommu", "stall", "httu",
					   "ssidsize", "caches", NULL};
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
		ret = jf_get_bool(&rl->jf, o, "machine.iommu", "stall", &m->stall);
	if (ret >= 0)
		ret = jf_get_bool(&rl->jf, o, "machine.iommu", "httu", &m->httu);
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
		ret = check_ram_range(rl, "machine.guest.pool", "gpa", "size", m->pool_gpa,
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
/* Steps                                                                  */

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

	ret = get_device(rl, o, st->path, false, &st->dev);
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
		ret = check_ram_range(rl, st->path, "data", "len", st->data.value, st->len, 1);
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
	return check_ram_range(rl, st->path, "gpa", "len", st->gpa, st->len, 1);
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
		int ret = check_ram_range(rl, st->path, "gpa", "size", st->gpa, st->size, PAGE);

		if (ret)
			return ret;
	}
	return parse_action_expect(rl, o, st, false);
}

static int parse_guest_map(struct rl *rl, json_t *o, struct run_step *st)
{
	const struct run_table *t;
	char p[JF_PBUF];
	uint64_t pg;
	int ret;

	ret = need_viommu(rl, st);
	if (!ret)
		ret = get_table(rl, o, st->path, &st->table);
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
			st->gpa = SW_MSI_BASE;
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
	return parse_action_expect(rl, o, st, false);
}

static int parse_cd(struct rl *rl, json_t *o, struct run_step *st)
{
	const struct run_device *d;
	char p[JF_PBUF];
	uint64_t v;
	int ret = need_viommu(rl, st);

	if (!ret)
		ret = get_device(rl, o, st->path, true, &st->dev);
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
	ret = get_table(rl, o, st->path, &st->table);
	if (!ret)
		ret = jf_get_small(&rl->jf, o, st->path, "asid", 0, 0xffff, &v);
	if (ret < 0)
		return ret;
	st->asid = ret == 1 ? (uint16_t)v : 0;
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
		ret = get_device(rl, o, st->path, true, &st->dev);
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
		return parse_action_expect(rl, o, st, false);
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
		return parse_action_expect(rl, o, st, false);
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
	return parse_action_expect(rl, o, st, false);
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
	return parse_action_expect(rl, o, st, true);
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
	ret = get_event_type(rl, x, p, "fault", true, &e->fault);
	if (ret >= 0)
		ret = jf_get_u64(&rl->jf, x, p, "addr", false, &e->addr);
	if (ret < 0)
		return ret;
	e->has_addr = ret == 1;
	ret = jf_get_u64(&rl->jf, x, p, "done", false, &e->done);
	if (ret < 0)
		return ret;
	e->has_done = ret == 1;
	return get_access(rl, x, p, &e->access);
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
	int ret = get_device(rl, o, st->path, true, &st->dev);

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
	int ret = get_device(rl, o, st->path, true, &st->dev);

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
	ret = get_event_type(rl, o, st->path, "type", false, &e->type);
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
	ret = get_access(rl, o, st->path, &e->access);
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
	ret = get_device(rl, o, st->path, false, &st->dev);
	if (ret >= 0)
		ret = jf_get_u64(&rl->jf, o, st->path, "addr", false, &e->addr);
	if (ret < 0)
		return ret;
	e->has_addr = ret == 1;
	ret = get_access(rl, o, st->path, &e->access);
	if (ret >= 0)
		ret = jf_get_small(&rl->jf, o, st->path, "pasid", 0, 0xfffff, &v);
	if (ret < 0)
		return ret;
	e->has_ssid = ret == 1;
	e->ssid = (uint32_t)v;
	rl->page_requests++;
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
	for (st->kind = 0; st->kind < RS_NR && strcmp(step_names[st->kind], kind); st->kind++)
		n = jf_add(list, sizeof(list), n, "%s%s", n ? ", " : "", step_names[st->kind]);
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
		return parse_ste(rl, o, st);
	case RS_INVALIDATE:
		return parse_invalidate(rl, o, st);
	case RS_DMA:
		return parse_dma(rl, o, st);
	case RS_DMA_WAIT:
		return parse_dma_wait(rl, o, st);
	case RS_EXPECT_EVENT:
		return parse_expect_event(rl, o, st);
	case RS_EXPECT_PAGE_REQUEST:
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

		ret = get_device(rl, o, st->path, true, &st->dev);
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

static int parse_steps(struct rl *rl, json_t *root)
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

/* ---------------------------------------------------------------------- */
/* Loading                                                                */

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
		ret = jf_check_keys(&rl.jf, root, "", keys);
	if (!ret)
		ret = jf_get_str(&rl.jf, root, "", "description", false, &desc);
	if (ret == 1 && !(sc->description = strdup(desc)))
		ret = err(&rl, "description", false, "out of memory");
	if (ret >= 0)
		ret = parse_machine(&rl, root);
	if (!ret)
		ret = parse_steps(&rl, root);
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
