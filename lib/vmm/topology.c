// SPDX-License-Identifier: MIT
/*
 * topology.c - topology files: JSON in, a checked struct topology out;
 * the default topology; printing one back (as a file, or for people).
 *
 * What it owns: the schema of doc/topology.md and every rule a topology
 * must keep before machine.c may build it, so that a file that loads here
 * builds (memory permitting): the models and their option ranges (SMMUv3:
 * stages s1, s2 or both, SIDSIZE, SSIDSIZE, translation cache geometry as
 * lib/xlate accepts it; VT-d: the caches only, requester IDs from the PCI
 * names, unique per instance; the mock: one per process; spapr: a PowerNV
 * PHB whose groups are PEs, no PASIDs), PCI names, stream IDs
 * inside the driver's stream table and unique per instance, PASID widths
 * the IOMMU can serve, group numbers, and a group's devices all behind one
 * IOMMU instance (VFIO's rule). Unknown keys are errors: a misspelt
 * optional key must not be silently ignored.
 *
 * Messages: util/json_field.h loads the text, checks keys and reads the
 * typed fields, naming "FILE:LINE:COL: PATH: ..." for any value, in the
 * spelling of topology files (JF_TOPOLOGY: strings quoted, numbers plain
 * decimal or 0x-hex, large bounds in hex), as doc/topology.md shows them.
 *
 * Ownership: a struct topology owns its strings and arrays (util/alloc.h);
 * topology_free() releases them. jansson's own memory is malloc'ed and not
 * reached by fail-nth. No locks: a topology is immutable once loaded.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_iommu.h"
#include "hw/vtd/vtd_iommu.h"
#include "util/alloc.h"
#include "util/bits.h"
#include "util/json_field.h"
#include "vmm/topology.h"

#define TL_FILE_MAX   (1u << 20)
#define TL_PBUF	      128 /* paths: long enough for an unknown key's */
#define TL_CACHE_WAYS 4	  /* ways of a cache given by its entries only */
#define TL_CACHE_MAX  (1u << 24)
#define TL_WAYS_MAX   16
#define MOCK_WIDTH    20 /* the mock's PASID width (MOCK_FLAGS_DEVICE_PASID) */

static const char *const top_keys[] = {"description", "iommus", "devices", NULL};
static const char *const mock_keys[] = {"name", "model", NULL};
static const char *const spapr_keys[] = {"name", "model", NULL};
static const char *const smmu_keys[] = {"name", "model", "stages", "sidsize", "ssidsize",
					"httu", "stall", "cache",  NULL};
static const char *const vtd_keys[] = {"name", "model", "ats", "prs", "cache", NULL};
static const char *const cache_keys[] = {"iotlb", "walk_s1", "walk_s2", "ipa", "cfg", NULL};
static const char *const geom_keys[] = {"entries", "ways", NULL};
static const char *const dev_keys[] = {"type",	"name",	       "iommu",	    "sid",
				       "group", "pasid_width", "can_stall", "ats", "pri", NULL};

struct tl {
	struct jf jf; /* the file, its positions, the message buffer */
	struct topology *t;
	bool *group_given; /* per device: "group" was in the file */
	bool *sid_given;
};

static char *ustrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ualloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* ---------------------------------------------------------------------- */
/* PCI names                                                              */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* @n lower-case hex digits at @s. */
static bool hexfield(const char *s, unsigned int n, unsigned int *out)
{
	unsigned int v = 0;

	for (unsigned int i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return false;
		v = v << 4 | (unsigned int)d;
	}
	*out = v;
	return true;
}

bool topology_pci_name_rid(const char *name, uint32_t *rid)
{
	unsigned int dom, bus, dev, fn;

	if (strlen(name) != 12 || name[4] != ':' || name[7] != ':' || name[10] != '.')
		return false;
	if (!hexfield(name, 4, &dom) || !hexfield(name + 5, 2, &bus) ||
	    !hexfield(name + 8, 2, &dev) || !hexfield(name + 11, 1, &fn))
		return false;
	if (dev > 0x1f || fn > 7)
		return false;
	*rid = bus << 8 | dev << 3 | fn;
	return true;
}

/* ---------------------------------------------------------------------- */
/* IOMMU instances                                                        */

/* An SMMUv3's "stages" as the topology file spells them. */
static const char *topo_stages_name(const struct topo_iommu *io)
{
	return io->s1 && io->s2 ? "s1+s2" : io->s1 ? "s1" : "s2";
}

static void smmu_defaults(struct topo_iommu *io)
{
	struct smmuv3_iommu_params p;

	smmuv3_iommu_params_default(&p);
	io->s1 = p.hw.s1p;
	io->s2 = p.hw.s2p;
	io->httu = p.hw.httu;
	io->stall = p.hw.stall;
	io->sidsize = p.hw.sidsize;
	io->ssidsize = p.hw.ssidsize;
	io->no_cache = p.hw.no_cache;
	io->cache = p.hw.cache;
}

static int parse_geom(struct tl *ld, json_t *cache, const char *cpath, const char *key,
		      struct xlate_cache_geom *g)
{
	json_t *v = json_object_get(cache, key);
	char p[TL_PBUF], d[64];
	uint64_t entries = 0, ways = 0;
	unsigned int eff;
	int ret;

	if (!v)
		return 0;
	jf_child(p, sizeof(p), cpath, key);
	if (json_is_object(v)) {
		ret = jf_check_keys(&ld->jf, v, p, geom_keys);
		if (ret)
			return ret;
		ret = jf_get_small(&ld->jf, v, p, "entries", 0, TL_CACHE_MAX, &entries);
		if (ret < 0)
			return ret;
		if (!ret)
			return jf_err(&ld->jf, p, false, "missing key \"entries\"");
		ret = jf_get_small(&ld->jf, v, p, "ways", 0, TL_WAYS_MAX, &ways);
		if (ret < 0)
			return ret;
		eff = ways ? (unsigned int)ways : (unsigned int)MIN(entries, (uint64_t)TL_WAYS_MAX);
		if (entries && entries % eff) {
			char e[TL_PBUF];

			jf_child(e, sizeof(e), p, "entries");
			return jf_err(
				&ld->jf, e, false,
				"%llu entries do not divide into %u ways (sets of equal size)",
				(unsigned long long)entries, eff);
		}
	} else {
		ret = jf_get_small(&ld->jf, cache, cpath, key, 0, TL_CACHE_MAX, &entries);
		if (ret < 0)
			return ret;
		ways = MIN(entries, (uint64_t)TL_CACHE_WAYS);
		if (entries % (ways ? ways : 1))
			return jf_err(&ld->jf, p, false,
				      "expected a multiple of %u (the ways of a cache given by its "
				      "size), or {\"entries\": N, \"ways\": W}, got %s",
				      TL_CACHE_WAYS, jf_describe_as(&ld->jf, v, d, sizeof(d)));
	}
	g->entries = (unsigned int)entries;
	g->ways = (unsigned int)ways;
	return 0;
}

static int parse_cache(struct tl *ld, json_t *obj, const char *opath, struct topo_iommu *io)
{
	json_t *v = json_object_get(obj, "cache");
	char p[TL_PBUF], d[64];
	int ret;

	if (!v)
		return 0;
	jf_child(p, sizeof(p), opath, "cache");
	if (json_is_boolean(v)) {
		io->no_cache = !json_is_true(v);
		return 0;
	}
	if (!json_is_object(v))
		return jf_err(&ld->jf, p, false,
			      "expected false (no caches), true (the defaults) or an object of "
			      "cache sizes, got %s",
			      jf_describe_as(&ld->jf, v, d, sizeof(d)));
	ret = jf_check_keys(&ld->jf, v, p, cache_keys);
	if (!ret)
		ret = parse_geom(ld, v, p, "iotlb", &io->cache.iotlb);
	if (!ret)
		ret = parse_geom(ld, v, p, "walk_s1", &io->cache.walk[0]);
	if (!ret)
		ret = parse_geom(ld, v, p, "walk_s2", &io->cache.walk[1]);
	if (!ret)
		ret = parse_geom(ld, v, p, "ipa", &io->cache.ipa);
	if (!ret)
		ret = parse_geom(ld, v, p, "cfg", &io->cache.cfg);
	return ret;
}

/* "stall": true (STALL_MODEL 0b00), false (0b01) or "forced" (0b10). */
static int parse_stall(struct tl *ld, json_t *obj, const char *path, struct topo_iommu *io)
{
	json_t *v = json_object_get(obj, "stall");

	char p[TL_PBUF], d[64];

	if (json_is_string(v) && !strcmp(json_string_value(v), "forced")) {
		io->stall = io->stall_force = true;
		return 1;
	}
	io->stall_force = false;
	if (v && !json_is_boolean(v)) {
		jf_child(p, sizeof(p), path, "stall");
		return jf_err(&ld->jf, p, false, "expected true, false or \"forced\", got %s",
			      jf_describe_as(&ld->jf, v, d, sizeof(d)));
	}
	return jf_get_bool(&ld->jf, obj, path, "stall", &io->stall);
}

static int parse_smmu(struct tl *ld, json_t *obj, const char *path, struct topo_iommu *io)
{
	const char *stages = NULL;
	char p[TL_PBUF], d[64];
	uint64_t x;
	int ret;

	smmu_defaults(io);
	ret = jf_check_keys(&ld->jf, obj, path, smmu_keys);
	if (ret)
		return ret;
	ret = jf_get_str(&ld->jf, obj, path, "stages", false, &stages);
	if (ret < 0)
		return ret;
	if (ret) {
		jf_child(p, sizeof(p), path, "stages");
		if (!strcmp(stages, "s1+s2"))
			io->s1 = io->s2 = true;
		else if (!strcmp(stages, "s2"))
			io->s1 = false, io->s2 = true;
		else if (!strcmp(stages, "s1"))
			io->s1 = true, io->s2 = false;
		else
			return jf_err(&ld->jf, p, false,
				      "expected \"s1+s2\", \"s1\" or \"s2\", got %s",
				      jf_describe_as(&ld->jf, json_object_get(obj, "stages"), d,
						     sizeof(d)));
	}
	ret = jf_get_small(&ld->jf, obj, path, "sidsize", 1, 32, &x);
	if (ret < 0)
		return ret;
	if (ret)
		io->sidsize = (unsigned int)x;
	ret = jf_get_small(&ld->jf, obj, path, "ssidsize", 0, 20, &x);
	if (ret < 0)
		return ret;
	if (ret)
		io->ssidsize = (unsigned int)x;
	ret = jf_get_bool(&ld->jf, obj, path, "httu", &io->httu);
	if (ret >= 0)
		ret = parse_stall(ld, obj, path, io);
	if (ret >= 0)
		ret = parse_cache(ld, obj, path, io);
	return ret < 0 ? ret : 0;
}

/* A VT-d unit: the driver's defaults; only the caches are options. */
static int parse_vtd(struct tl *ld, json_t *obj, const char *path, struct topo_iommu *io)
{
	struct vtd_iommu_params p;
	int ret;

	vtd_iommu_params_default(&p);
	io->no_cache = p.hw.no_cache;
	io->cache = p.hw.cache;
	io->ssidsize = p.hw.pss + 1;
	io->ats = p.hw.ats;
	io->prs = p.hw.prs;
	ret = jf_check_keys(&ld->jf, obj, path, vtd_keys);
	if (!ret)
		ret = jf_get_bool(&ld->jf, obj, path, "ats", &io->ats);
	if (ret >= 0)
		ret = jf_get_bool(&ld->jf, obj, path, "prs", &io->prs);
	if (ret >= 0 && io->prs && !io->ats) {
		char p2[TL_PBUF];

		jf_child(p2, sizeof(p2), path, "prs");
		return jf_err(&ld->jf, p2, false,
			      "page requests come from devices' ATS translations: give \"ats\": "
			      "true too");
	}
	if (ret >= 0)
		ret = parse_cache(ld, obj, path, io);
	return ret;
}

static int parse_iommu(struct tl *ld, json_t *obj, unsigned int i)
{
	struct topology *t = ld->t;
	struct topo_iommu *io = &t->iommus[i];
	const char *name, *model;
	char path[TL_PBUF], p[TL_PBUF], d[64];
	int ret;

	jf_pathf(path, sizeof(path), "iommus[%u]", i);
	ret = jf_expect_object(&ld->jf, obj, path);
	if (ret)
		return ret;
	ret = jf_get_str(&ld->jf, obj, path, "name", true, &name);
	if (ret < 0)
		return ret;
	jf_child(p, sizeof(p), path, "name");
	if (!*name || strlen(name) >= TOPO_NAME_MAX)
		return jf_err(&ld->jf, p, false, "expected a name of 1 to %u characters, got %s",
			      TOPO_NAME_MAX - 1,
			      jf_describe_as(&ld->jf, json_object_get(obj, "name"), d, sizeof(d)));
	for (unsigned int j = 0; j < i; j++)
		if (!strcmp(t->iommus[j].name, name))
			return jf_err(&ld->jf, p, false, "\"%s\" is iommus[%u]'s name already",
				      name, j);
	snprintf(io->name, sizeof(io->name), "%s", name);
	ret = jf_get_str(&ld->jf, obj, path, "model", true, &model);
	if (ret < 0)
		return ret;
	if (!strcmp(model, "smmuv3")) {
		io->model = TOPO_IOMMU_SMMUV3;
		return parse_smmu(ld, obj, path, io);
	}
	if (!strcmp(model, "vtd")) {
		io->model = TOPO_IOMMU_VTD;
		return parse_vtd(ld, obj, path, io);
	}
	jf_child(p, sizeof(p), path, "model");
	if (!strcmp(model, "spapr")) {
		io->model = TOPO_IOMMU_SPAPR;
		return jf_check_keys_note(&ld->jf, obj, path, spapr_keys,
					  " (the spapr model has no options)");
	}
	if (strcmp(model, "mock"))
		return jf_err(&ld->jf, p, false,
			      "expected \"smmuv3\", \"vtd\", \"spapr\" or \"mock\", got %s",
			      jf_describe_as(&ld->jf, json_object_get(obj, "model"), d, sizeof(d)));
	io->model = TOPO_IOMMU_MOCK;
	for (unsigned int j = 0; j < i; j++)
		if (t->iommus[j].model == TOPO_IOMMU_MOCK)
			return jf_err(&ld->jf, p, false,
				      "the mock IOMMU is one per process (the kernel selftest's), "
				      "and iommus[%u] is it already",
				      j);
	return jf_check_keys_note(&ld->jf, obj, path, mock_keys, " (the mock has no options)");
}

/* ---------------------------------------------------------------------- */
/* Devices                                                                */

static int find_iommu(struct tl *ld, json_t *obj, const char *path, unsigned int *out)
{
	struct topology *t = ld->t;
	const char *name = NULL;
	char p[TL_PBUF], list[256];
	size_t n = 0;
	int ret;

	ret = jf_get_str(&ld->jf, obj, path, "iommu", false, &name);
	if (ret < 0)
		return ret;
	if (!t->nr_iommus)
		return jf_err(&ld->jf, path, false,
			      "no IOMMU instance to put the device behind (\"iommus\" is empty)");
	if (!ret) {
		if (t->nr_iommus == 1) {
			*out = 0;
			return 0;
		}
		return jf_err(&ld->jf, path, false,
			      "missing key \"iommu\" (there is more than one instance)");
	}
	for (unsigned int j = 0; j < t->nr_iommus; j++) {
		if (!strcmp(t->iommus[j].name, name)) {
			*out = j;
			return 0;
		}
		n = jf_add(list, sizeof(list), n, "%s\"%s\"", j ? ", " : "", t->iommus[j].name);
	}
	jf_child(p, sizeof(p), path, "iommu");
	return jf_err(&ld->jf, p, false, "no IOMMU instance \"%s\" (there is %s)", name, list);
}

/* A device behind @io, which is not an SMMUv3 (@what it is), has no "sid", "can_stall", "ats" or "pri". */
static int refuse_smmu_keys(struct tl *ld, json_t *obj, const char *path,
			    const struct topo_iommu *io, const char *what)
{
	static const char *const smmu_only[] = {"sid", "can_stall", "ats", "pri"};
	/* A VT-d unit's devices may have ATS and PRI (parse_ats_pri()). */
	const size_t n = io->model == TOPO_IOMMU_VTD ? 2 : ARRAY_SIZE(smmu_only);
	char p[TL_PBUF];

	for (size_t k = 0; k < n; k++) {
		if (!json_object_get(obj, smmu_only[k]))
			continue;
		jf_child(p, sizeof(p), path, smmu_only[k]);
		return jf_err(&ld->jf, p, true, "only for a device behind an smmuv3 (\"%s\" is %s)",
			      io->name, what);
	}
	return 0;
}

/*
 * "ats" and "pri" of a device behind an SMMUv3 or a VT-d unit (PRI needs
 * ATS; behind VT-d the unit must have device TLBs and page requests).
 */
static int parse_ats_pri(struct tl *ld, json_t *obj, const char *path,
			 const struct topo_iommu *io, struct topo_device *dev)
{
	char p[TL_PBUF];
	int ret;

	ret = jf_get_bool(&ld->jf, obj, path, "ats", &dev->ats);
	if (ret < 0)
		return ret;
	ret = jf_get_bool(&ld->jf, obj, path, "pri", &dev->pri);
	if (ret < 0)
		return ret;
	if (dev->pri && !dev->ats) {
		jf_child(p, sizeof(p), path, "pri");
		return jf_err(&ld->jf, p, false,
			      "PRI requests pages for an ATS translation: give \"ats\": true too");
	}
	if (io->model != TOPO_IOMMU_VTD)
		return 0;
	if (dev->ats && !io->ats) {
		jf_child(p, sizeof(p), path, "ats");
		return jf_err(&ld->jf, p, false,
			      "%s has \"ats\": false (no device TLBs), so no device behind it "
			      "uses ATS",
			      io->name);
	}
	if (dev->pri && !io->prs) {
		jf_child(p, sizeof(p), path, "pri");
		return jf_err(&ld->jf, p, false,
			      "%s has \"prs\": false (no page requests), so no device behind "
			      "it uses PRI",
			      io->name);
	}
	return 0;
}

static int parse_device(struct tl *ld, json_t *obj, unsigned int i)
{
	struct topology *t = ld->t;
	struct topo_device *dev = &t->devices[i];
	const struct topo_iommu *io;
	const char *type, *name;
	char path[TL_PBUF], p[TL_PBUF], d[64];
	unsigned int sid_bits;
	uint32_t rid;
	uint64_t x;
	int ret;

	jf_pathf(path, sizeof(path), "devices[%u]", i);
	ret = jf_expect_object(&ld->jf, obj, path);
	if (ret)
		return ret;
	ret = jf_check_keys(&ld->jf, obj, path, dev_keys);
	if (ret)
		return ret;
	ret = jf_get_str(&ld->jf, obj, path, "type", true, &type);
	if (ret < 0)
		return ret;
	if (strcmp(type, "dmatest")) {
		jf_child(p, sizeof(p), path, "type");
		return jf_err(&ld->jf, p, false, "expected \"dmatest\", got %s",
			      jf_describe_as(&ld->jf, json_object_get(obj, "type"), d, sizeof(d)));
	}
	dev->type = TOPO_DEV_DMATEST;
	ret = jf_get_str(&ld->jf, obj, path, "name", true, &name);
	if (ret < 0)
		return ret;
	jf_child(p, sizeof(p), path, "name");
	if (!topology_pci_name_rid(name, &rid))
		return jf_err(&ld->jf, p, false,
			      "expected a PCI name DDDD:BB:DD.F in lower-case hex (device up to "
			      "1f, function up to 7) such as \"0000:00:01.0\", got %s",
			      jf_describe_as(&ld->jf, json_object_get(obj, "name"), d, sizeof(d)));
	for (unsigned int j = 0; j < i; j++)
		if (!strcmp(t->devices[j].name, name))
			return jf_err(&ld->jf, p, false, "\"%s\" is devices[%u]'s name already",
				      name, j);
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	ret = find_iommu(ld, obj, path, &dev->iommu);
	if (ret)
		return ret;
	io = &t->iommus[dev->iommu];

	if (io->model == TOPO_IOMMU_SPAPR) {
		ret = refuse_smmu_keys(ld, obj, path, io, "an spapr PHB");
		if (ret)
			return ret;
		/* A PE translates by bus address alone: no PASID on sPAPR. */
		dev->pasid_width = 0;
		dev->sid = rid; /* the requester ID, which the PHB maps to the PE */
		ret = jf_get_small(&ld->jf, obj, path, "pasid_width", 0, 0, &x);
		if (ret < 0)
			return ret;
	} else if (io->model == TOPO_IOMMU_MOCK) {
		ret = refuse_smmu_keys(ld, obj, path, io, "a mock");
		if (ret)
			return ret;
		dev->pasid_width = 0;
		ret = jf_get_small(&ld->jf, obj, path, "pasid_width", 0, MOCK_WIDTH, &x);
		if (ret < 0)
			return ret;
		if (ret && x && x != MOCK_WIDTH) {
			jf_child(p, sizeof(p), path, "pasid_width");
			return jf_err(
				&ld->jf, p, false,
				"the mock's devices have PASIDs of %u bits or none: expected 0 "
				"or %u, got %llu",
				MOCK_WIDTH, MOCK_WIDTH, (unsigned long long)x);
		}
		if (ret)
			dev->pasid_width = (unsigned int)x;
	} else if (io->model == TOPO_IOMMU_VTD) {
		/* The requester ID is the PCI name's; PASIDs up to ECAP.PSS + 1 bits. */
		ret = refuse_smmu_keys(ld, obj, path, io,
				       "a vtd: the requester ID is the PCI name's");
		if (ret)
			return ret;
		dev->sid = rid;
		dev->pasid_width = io->ssidsize;
		ret = jf_get_small(&ld->jf, obj, path, "pasid_width", 0, io->ssidsize, &x);
		if (ret < 0)
			return ret;
		if (ret)
			dev->pasid_width = (unsigned int)x;
		ret = parse_ats_pri(ld, obj, path, io, dev);
		if (ret)
			return ret;
	} else {
		sid_bits = MIN(io->sidsize, (unsigned int)TOPO_SID_BITS_MAX);
		dev->sid = rid;
		ret = jf_get_small(&ld->jf, obj, path, "sid", 0, (1ull << sid_bits) - 1, &x);
		if (ret < 0)
			return ret;
		ld->sid_given[i] = ret;
		if (ret)
			dev->sid = (uint32_t)x;
		else if (dev->sid >> sid_bits)
			return jf_err(
				&ld->jf, p, false,
				"the stream ID the PCI name gives, 0x%x, is beyond %s's %u-bit "
				"stream IDs%s: give \"sid\"",
				dev->sid, io->name, sid_bits,
				io->sidsize > sid_bits ? " (the driver's stream table)" : "");
		dev->pasid_width = MIN(io->ssidsize, 20u);
		ret = jf_get_small(&ld->jf, obj, path, "pasid_width", 0, MIN(io->ssidsize, 20u),
				   &x);
		if (ret < 0)
			return ret;
		if (ret)
			dev->pasid_width = (unsigned int)x;
		ret = jf_get_bool(&ld->jf, obj, path, "can_stall", &dev->can_stall);
		if (ret < 0)
			return ret;
		if (dev->can_stall && !io->stall) {
			jf_child(p, sizeof(p), path, "can_stall");
			return jf_err(&ld->jf, p, false,
				      "%s has \"stall\": false, so no device behind it can stall",
				      io->name);
		}
		ret = parse_ats_pri(ld, obj, path, io, dev);
		if (ret)
			return ret;
	}
	ret = jf_get_small(&ld->jf, obj, path, "group", 0, TOPO_GROUP_MAX, &x);
	if (ret < 0)
		return ret;
	ld->group_given[i] = ret;
	if (ret)
		dev->group = (unsigned int)x;
	return 0;
}

static bool group_used(const struct topology *t, unsigned int n, unsigned int group,
		       const bool *given)
{
	for (unsigned int j = 0; j < n; j++)
		if (given[j] && t->devices[j].group == group)
			return true;
	return false;
}

/* Rules across devices: unique SIDs per instance, default groups, one IOMMU per group. */
static int check_devices(struct tl *ld)
{
	struct topology *t = ld->t;
	char p[TL_PBUF];

	for (unsigned int i = 0; i < t->nr_devices; i++) {
		struct topo_device *dev = &t->devices[i];

		if (t->iommus[dev->iommu].model != TOPO_IOMMU_SMMUV3 &&
		    t->iommus[dev->iommu].model != TOPO_IOMMU_VTD)
			continue;
		for (unsigned int j = 0; j < i; j++) {
			if (t->devices[j].iommu != dev->iommu || t->devices[j].sid != dev->sid)
				continue;
			if (t->iommus[dev->iommu].model == TOPO_IOMMU_VTD) {
				jf_pathf(p, sizeof(p), "devices[%u].name", i);
				return jf_err(
					&ld->jf, p, false,
					"requester ID 0x%x is %s's already, behind the same %s",
					dev->sid, t->devices[j].name, t->iommus[dev->iommu].name);
			}
			jf_pathf(p, sizeof(p), "devices[%u].%s", i,
				 ld->sid_given[i] ? "sid" : "name");
			return jf_err(&ld->jf, p, false,
				      "stream ID 0x%x%s is %s's already, behind the same %s%s",
				      dev->sid, ld->sid_given[i] ? "" : " (from the PCI name)",
				      t->devices[j].name, t->iommus[dev->iommu].name,
				      ld->sid_given[i] ? "" : ": give \"sid\"");
		}
	}
	/* A device without "group" gets one of its own: the lowest number from 1 not taken. */
	for (unsigned int i = 0; i < t->nr_devices; i++) {
		unsigned int g = 1;

		if (ld->group_given[i])
			continue;
		while (group_used(t, t->nr_devices, g, ld->group_given))
			g++;
		t->devices[i].group = g;
		ld->group_given[i] = true;
	}
	for (unsigned int i = 0; i < t->nr_devices; i++) {
		const struct topo_device *dev = &t->devices[i];

		for (unsigned int j = 0; j < i; j++) {
			const struct topo_device *o = &t->devices[j];

			if (o->group != dev->group || o->iommu == dev->iommu)
				continue;
			jf_pathf(p, sizeof(p), "devices[%u].group", i);
			return jf_err(&ld->jf, p, false,
				      "group %u has %s behind %s, and a group's devices are all "
				      "behind one IOMMU instance (this one is behind %s)",
				      dev->group, o->name, t->iommus[o->iommu].name,
				      t->iommus[dev->iommu].name);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                */

void topology_free(struct topology *t)
{
	if (!t)
		return;
	ufree(t->iommus);
	ufree(t->devices);
	ufree(t->description);
	ufree(t->source);
	ufree(t);
}

/*
 * uiommu's CLI reads two more kinds of JSON file, kept next to topologies
 * in scenarios/: a top-level key of one of them says which it looks like.
 */
static const char *other_kind(json_t *root)
{
	if (json_object_get(root, "machine") || json_object_get(root, "steps"))
		return "; this looks like a run scenario, for uiommu run, which describes its "
		       "own machine";
	if (json_object_get(root, "memory") || json_object_get(root, "stage1") ||
	    json_object_get(root, "stage2"))
		return "; this looks like a page-table scenario, for uiommu walk and uiommu trace";
	return NULL;
}

static int parse_root(struct tl *ld, json_t *root)
{
	struct topology *t = ld->t;
	json_t *iommus, *devices, *v;
	const char *desc = NULL;
	char d[64];
	size_t i;
	int ret;

	if (!json_is_object(root))
		return jf_err(&ld->jf, "", false, "expected an object at the top level, got %s",
			      jf_describe_as(&ld->jf, root, d, sizeof(d)));
	ret = jf_check_keys_note(&ld->jf, root, "", top_keys, other_kind(root));
	if (ret)
		return ret;
	ret = jf_get_str(&ld->jf, root, "", "description", false, &desc);
	if (ret < 0)
		return ret;
	if (ret && !(t->description = ustrdup(desc)))
		return -ENOMEM;
	iommus = json_object_get(root, "iommus");
	devices = json_object_get(root, "devices");
	if (!iommus)
		return jf_err(&ld->jf, "", false, "missing key \"iommus\"");
	if (!json_is_array(iommus))
		return jf_err(&ld->jf, "iommus", false,
			      "expected an array of IOMMU instances, got %s",
			      jf_describe_as(&ld->jf, iommus, d, sizeof(d)));
	if (!devices)
		return jf_err(&ld->jf, "", false, "missing key \"devices\"");
	if (!json_is_array(devices))
		return jf_err(&ld->jf, "devices", false, "expected an array of devices, got %s",
			      jf_describe_as(&ld->jf, devices, d, sizeof(d)));
	if (json_array_size(iommus) > 64 || json_array_size(devices) > 1024)
		return jf_err(&ld->jf, json_array_size(iommus) > 64 ? "iommus" : "devices", false,
			      "at most 64 IOMMU instances and 1024 devices");
	t->nr_iommus = (unsigned int)json_array_size(iommus);
	t->nr_devices = (unsigned int)json_array_size(devices);
	t->iommus = ucalloc(t->nr_iommus ? t->nr_iommus : 1, sizeof(*t->iommus));
	t->devices = ucalloc(t->nr_devices ? t->nr_devices : 1, sizeof(*t->devices));
	ld->group_given = ucalloc(t->nr_devices ? t->nr_devices : 1, sizeof(bool));
	ld->sid_given = ucalloc(t->nr_devices ? t->nr_devices : 1, sizeof(bool));
	if (!t->iommus || !t->devices || !ld->group_given || !ld->sid_given)
		return -ENOMEM;
	json_array_foreach(iommus, i, v)
	{
		ret = parse_iommu(ld, v, (unsigned int)i);
		if (ret)
			return ret;
	}
	json_array_foreach(devices, i, v)
	{
		ret = parse_device(ld, v, (unsigned int)i);
		if (ret)
			return ret;
	}
	return check_devices(ld);
}

int topology_parse(const char *text, size_t len, const char *file, struct topology **out, char *err,
		   size_t errlen)
{
	struct tl ld = {0};
	json_t *root;
	int ret;

	*out = NULL;
	if (errlen)
		err[0] = 0;
	jf_init(&ld.jf, file, JF_TOPOLOGY, err, errlen);
	ret = jf_parse(&ld.jf, text, len, &root);
	if (ret)
		goto out;
	ld.t = uzalloc(sizeof(*ld.t));
	if (!ld.t || !(ld.t->source = ustrdup(file))) {
		ret = -ENOMEM;
	} else {
		ret = parse_root(&ld, root);
	}
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", file);
	if (ret)
		topology_free(ld.t);
	else
		*out = ld.t;
	json_decref(root);
out:
	ufree(ld.group_given);
	ufree(ld.sid_given);
	jf_free(&ld.jf);
	return ret;
}

int topology_load(const char *file, struct topology **out, char *err, size_t errlen)
{
	size_t len = 0;
	char *text;
	int ret;

	*out = NULL;
	ret = jf_read_file(file, TL_FILE_MAX, "larger than 1 MiB, too big for a topology", &text,
			   &len, err, errlen);
	if (ret)
		return ret == -ENOMEM ? -ENOMEM : -EINVAL;
	ret = topology_parse(text, len, file, out, err, errlen);
	ufree(text);
	return ret;
}

int topology_default(struct topology **out)
{
	static const char *const names[] = {"0000:00:01.0", "0000:00:02.0"};
	struct topology *t = uzalloc(sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->source = ustrdup("(default)");
	t->iommus = ucalloc(1, sizeof(*t->iommus));
	t->devices = ucalloc(ARRAY_SIZE(names), sizeof(*t->devices));
	if (!t->source || !t->iommus || !t->devices) {
		topology_free(t);
		return -ENOMEM;
	}
	t->nr_iommus = 1;
	snprintf(t->iommus[0].name, TOPO_NAME_MAX, "smmu0");
	t->iommus[0].model = TOPO_IOMMU_SMMUV3;
	smmu_defaults(&t->iommus[0]);
	t->nr_devices = ARRAY_SIZE(names);
	for (unsigned int i = 0; i < t->nr_devices; i++) {
		struct topo_device *dev = &t->devices[i];

		dev->type = TOPO_DEV_DMATEST;
		snprintf(dev->name, TOPO_NAME_MAX, "%s", names[i]);
		topology_pci_name_rid(dev->name, &dev->sid); /* 0x8, 0x10 */
		dev->pasid_width = 20;
		dev->group = i + 1;
	}
	*out = t;
	return 0;
}

int topology_copy(const struct topology *t, struct topology **out)
{
	struct topology *c = uzalloc(sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->nr_iommus = t->nr_iommus;
	c->nr_devices = t->nr_devices;
	c->source = ustrdup(t->source);
	c->description = t->description ? ustrdup(t->description) : NULL;
	c->iommus = ucalloc(t->nr_iommus ? t->nr_iommus : 1, sizeof(*c->iommus));
	c->devices = ucalloc(t->nr_devices ? t->nr_devices : 1, sizeof(*c->devices));
	if (!c->source || (t->description && !c->description) || !c->iommus || !c->devices) {
		topology_free(c);
		return -ENOMEM;
	}
	memcpy(c->iommus, t->iommus, t->nr_iommus * sizeof(*c->iommus));
	memcpy(c->devices, t->devices, t->nr_devices * sizeof(*c->devices));
	*out = c;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Printing                                                               */

static json_t *geom_json(const struct xlate_cache_geom *g)
{
	return json_pack("{s:I,s:I}", "entries", (json_int_t)g->entries, "ways",
			 (json_int_t)g->ways);
}

static json_t *iommu_json(const struct topo_iommu *io)
{
	json_t *o, *c;

	if (io->model == TOPO_IOMMU_MOCK)
		return json_pack("{s:s,s:s}", "name", io->name, "model", "mock");
	if (io->model == TOPO_IOMMU_SPAPR)
		return json_pack("{s:s,s:s}", "name", io->name, "model", "spapr");
	if (io->model == TOPO_IOMMU_VTD)
		o = json_pack("{s:s,s:s,s:b,s:b}", "name", io->name, "model", "vtd", "ats", io->ats,
			      "prs", io->prs);
	else
		o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:o}", "name", io->name, "model", "smmuv3",
			      "stages", topo_stages_name(io), "sidsize", (json_int_t)io->sidsize,
			      "ssidsize", (json_int_t)io->ssidsize, "httu", io->httu, "stall",
			      io->stall_force ? json_string("forced") : json_boolean(io->stall));
	if (!o)
		return NULL;
	if (io->no_cache)
		c = json_false();
	else
		c = json_pack("{s:o,s:o,s:o,s:o,s:o}", "iotlb", geom_json(&io->cache.iotlb),
			      "walk_s1", geom_json(&io->cache.walk[0]), "walk_s2",
			      geom_json(&io->cache.walk[1]), "ipa", geom_json(&io->cache.ipa),
			      "cfg", geom_json(&io->cache.cfg));
	if (!c || json_object_set_new(o, "cache", c)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *device_json(const struct topology *t, const struct topo_device *dev)
{
	const struct topo_iommu *io = &t->iommus[dev->iommu];

	if (io->model == TOPO_IOMMU_MOCK || io->model == TOPO_IOMMU_SPAPR)
		return json_pack("{s:s,s:s,s:s,s:I,s:I}", "type", "dmatest", "name", dev->name,
				 "iommu", io->name, "group", (json_int_t)dev->group, "pasid_width",
				 (json_int_t)dev->pasid_width);
	if (io->model == TOPO_IOMMU_VTD)
		return json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:b}", "type", "dmatest", "name",
				 dev->name, "iommu", io->name, "group", (json_int_t)dev->group,
				 "pasid_width", (json_int_t)dev->pasid_width, "ats", dev->ats, "pri",
				 dev->pri);
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:b,s:b,s:b}", "type", "dmatest", "name",
			 dev->name, "iommu", io->name, "group", (json_int_t)dev->group, "sid",
			 (json_int_t)dev->sid, "pasid_width", (json_int_t)dev->pasid_width,
			 "can_stall", dev->can_stall, "ats", dev->ats, "pri", dev->pri);
}

int topology_print_json(const struct topology *t, FILE *f)
{
	json_t *root = json_object(), *iommus = json_array(), *devices = json_array();
	int ret = -ENOMEM;

	if (!root || !iommus || !devices)
		goto out;
	if (t->description && json_object_set_new(root, "description", json_string(t->description)))
		goto out;
	for (unsigned int i = 0; i < t->nr_iommus; i++)
		if (json_array_append_new(iommus, iommu_json(&t->iommus[i])))
			goto out;
	for (unsigned int i = 0; i < t->nr_devices; i++)
		if (json_array_append_new(devices, device_json(t, &t->devices[i])))
			goto out;
	if (json_object_set(root, "iommus", iommus) || json_object_set(root, "devices", devices))
		goto out;
	ret = json_dumpf(root, f, JSON_INDENT(2)) || fputc('\n', f) == EOF ? -EIO : 0;
out:
	json_decref(iommus);
	json_decref(devices);
	json_decref(root);
	return ret;
}

static void geom_text(FILE *f, const char *name, const struct xlate_cache_geom *g, bool last)
{
	if (g->entries)
		fprintf(f, "%s %u", name, g->entries);
	else
		fprintf(f, "%s off", name);
	fputs(last ? "" : ", ", f);
}

/* The stall model as printed: "on" (0b00), "off" (0b01) or "forced" (0b10). */
static const char *stall_name(const struct topo_iommu *io)
{
	if (io->stall_force)
		return "forced";
	return io->stall ? "on" : "off";
}

int topology_print_text(const struct topology *t, FILE *f)
{
	fprintf(f, "topology %s%s%s\n", t->source, t->description ? ": " : "",
		t->description ? t->description : "");
	for (unsigned int i = 0; i < t->nr_iommus; i++) {
		const struct topo_iommu *io = &t->iommus[i];

		if (io->model == TOPO_IOMMU_MOCK) {
			fprintf(f, "iommu %s: mock (the kernel selftest's)\n", io->name);
			continue;
		}
		if (io->model == TOPO_IOMMU_SPAPR) {
			fprintf(f,
				"iommu %s: spapr (a PowerNV PHB: TCE windows and EEH, each group "
				"a PE)\n",
				io->name);
			continue;
		}
		if (io->model == TOPO_IOMMU_VTD)
			fprintf(f, "iommu %s: vtd, scalable mode, %u-bit PASIDs%s%s\n", io->name,
				io->ssidsize, io->ats ? ", device TLBs" : "",
				io->prs ? ", page requests" : "");
		else
			fprintf(f,
				"iommu %s: smmuv3, stages %s, SIDSIZE %u, SSIDSIZE %u, HTTU %s, "
				"stall %s\n",
				io->name, topo_stages_name(io), io->sidsize, io->ssidsize,
				io->httu ? "on" : "off", stall_name(io));
		fputs("  caches: ", f);
		if (io->no_cache) {
			fputs("none\n", f);
			continue;
		}
		geom_text(f, "IOTLB", &io->cache.iotlb, false);
		geom_text(f, "walk s1", &io->cache.walk[0], false);
		geom_text(f, "walk s2", &io->cache.walk[1], false);
		geom_text(f, "IPA", &io->cache.ipa, false);
		geom_text(f, "config", &io->cache.cfg, true);
		fputc('\n', f);
	}
	/*
	 * Groups in order of first appearance, each with its devices. The machine
	 * registers devices in file order and VFIO numbers cdevs from the lowest
	 * free: device j is vfio<j> when nothing else registered before.
	 */
	for (unsigned int i = 0; i < t->nr_devices; i++) {
		const struct topo_device *dev = &t->devices[i];
		bool seen = false;

		for (unsigned int j = 0; j < i; j++)
			seen |= t->devices[j].group == dev->group;
		if (seen)
			continue;
		fprintf(f, "group %u: /dev/vfio/%u, behind %s\n", dev->group, dev->group,
			t->iommus[dev->iommu].name);
		for (unsigned int j = i; j < t->nr_devices; j++) {
			const struct topo_device *m = &t->devices[j];

			if (m->group != dev->group)
				continue;
			fprintf(f, "  %s dmatest", m->name);
			if (t->iommus[m->iommu].model == TOPO_IOMMU_SMMUV3)
				fprintf(f, ", SID 0x%x", m->sid);
			else if (t->iommus[m->iommu].model == TOPO_IOMMU_VTD)
				fprintf(f, ", RID 0x%x", m->sid);
			fprintf(f, ", PASID width %u%s%s, /dev/vfio/devices/vfio%u\n", m->pasid_width,
				m->can_stall ? ", can stall" : "",
				m->pri ? ", ATS and PRI" : m->ats ? ", ATS" : "", j);
		}
	}
	return ferror(f) ? -EIO : 0;
}
