// SPDX-License-Identifier: MIT
/*
 * scenario.c - scenario files: JSON in, a checked description out.
 *
 * A scenario is documentation that runs, so every mistake in one comes
 * back as one line with the file, line and column of the offending value,
 * its path, what was expected and what was found (jfield.c: the loading,
 * the positions and the readers of single values, shared with the run
 * scenarios of run_scenario.c).
 *
 * The checks here are the ones that need no memory: types, unknown keys
 * (always an error: a misspelt optional key must not be silently ignored),
 * number syntax, formats and granules per stage, page alignment, input and
 * output ranges, and overlaps between regions and between mappings of one
 * stage. The architectural rules of a stage configuration stay in lib/pt;
 * stagecfg.c turns a refusal from pt_cfg_init() into the name of the field
 * to fix. Building the tables is scenario_build.c.
 *
 * Ownership: struct scenario owns every string and array it points to and
 * the memory arena that holds all tables and data; scenario_free() releases
 * it all, on success and after any error alike.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "scenario_int.h"
#include "stagecfg.h"
#include "util/bits.h"

#define PASID_MAX ((1u << 20) - 1)

static const char *const top_keys[] = {"description", "memory", "stage2", "guest",
				       "stage1",      "pasids", NULL};
static const char *const memory_keys[] = {"base", "size", NULL};
static const char *const stage_keys[] = {"format", "granule",	  "ias",   "oas",      "sl0",
					 "levels", "window_base", "flags", "mappings", NULL};
static const char *const guest_keys[] = {"ram", NULL};
static const char *const ram_keys[] = {"ipa", "size", "pa", "prot", NULL};
static const char *const s1_map_keys[] = {"iova", "size", "ipa", "prot", NULL};
static const char *const s2_map_keys[] = {"ipa", "size", "pa", "prot", NULL};

/* ---------------------------------------------------------------------- */
/* Ranges                                                                 */

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a <= b + (bsize - 1) && b <= a + (asize - 1);
}

static const char *range_str(uint64_t start, uint64_t size, char *buf, size_t len)
{
	snprintf(buf, len, "0x%llx-0x%llx", (unsigned long long)start,
		 (unsigned long long)(start + size - 1));
	return buf;
}

/* @start and @size aligned to @align, size > 0, no wrap. */
static int check_range(struct sc_loader *ld, const char *opath, const char *key, uint64_t start,
		       uint64_t size, uint64_t align)
{
	char p[JF_PBUF], a[24];

	jf_child(p, sizeof(p), opath, key);
	size_str(align, a, sizeof(a));
	if (start & (align - 1))
		return jf_err(&ld->jf, p, false, "0x%llx is not aligned to the %s page size",
			      (unsigned long long)start, a);
	jf_child(p, sizeof(p), opath, "size");
	if (!size)
		return jf_err(&ld->jf, p, false, "expected a size above 0, got 0");
	if (size & (align - 1))
		return jf_err(&ld->jf, p, false, "0x%llx is not a multiple of the %s page size",
			      (unsigned long long)size, a);
	if (range_wraps(start, size)) {
		jf_child(p, sizeof(p), opath, key);
		return jf_err(&ld->jf, p, false, "0x%llx + 0x%llx wraps past 2^64",
			      (unsigned long long)start, (unsigned long long)size);
	}
	return 0;
}

/* The range must fit @bits bits above @base ("input" or "output" size of @stage). */
static int check_bits(struct sc_loader *ld, const char *opath, const char *key, uint64_t start,
		      uint64_t size, uint64_t base, unsigned int bits, const char *what,
		      const char *stage)
{
	char p[JF_PBUF], r[64];

	jf_child(p, sizeof(p), opath, key);
	if (start < base)
		return jf_err(&ld->jf, p, false, "%s is below the window base 0x%llx of %s",
			      range_str(start, size, r, sizeof(r)), (unsigned long long)base,
			      stage);
	if (bits < 64 && ((start - base + size - 1) >> bits))
		return jf_err(&ld->jf, p, false, "%s is beyond the %u-bit %s size of %s",
			      range_str(start, size, r, sizeof(r)), bits, what, stage);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Stages                                                                 */

static int parse_format(struct sc_loader *ld, json_t *obj, const char *path, enum stage_kind kind,
			enum pt_format *fmt)
{
	const char *s;
	char p[JF_PBUF], d[64];
	int f, ret = jf_get_str(&ld->jf, obj, path, "format", true, &s);

	if (ret < 0)
		return ret;
	f = pt_format_parse(s);
	if (f >= 0 && stage_format_ok((enum pt_format)f, kind)) {
		*fmt = (enum pt_format)f;
		return 0;
	}
	jf_child(p, sizeof(p), path, "format");
	return jf_err(&ld->jf, p, false, "expected %s, got %s%s", stage_formats_expected(kind),
		      jf_describe(json_object_get(obj, "format"), d, sizeof(d)),
		      f < 0		? ""
		      : kind == STAGE_1 ? " (not a stage-1 format)"
					: " (not a stage-2 format)");
}

static int parse_flags(struct sc_loader *ld, json_t *obj, const char *path, unsigned int *flags)
{
	json_t *arr = json_object_get(obj, "flags"), *v;
	char p[JF_PBUF], d[64];
	size_t i;

	*flags = 0;
	if (!arr)
		return 0;
	jf_child(p, sizeof(p), path, "flags");
	if (!json_is_array(arr))
		return jf_err(&ld->jf, p, false, "expected an array of strings (%s), got %s",
			      cfg_flag_names, jf_describe(arr, d, sizeof(d)));
	json_array_foreach(arr, i, v)
	{
		unsigned int f;

		if (!json_is_string(v) || parse_cfg_flag(json_string_value(v), &f)) {
			char e[JF_PBUF];

			jf_pathf(e, sizeof(e), "%s[%zu]", p, i);
			return jf_err(&ld->jf, e, false, "expected %s, got %s", cfg_flag_names,
				      jf_describe(v, d, sizeof(d)));
		}
		*flags |= f;
	}
	return 0;
}

/* Read the configuration fields and let lib/pt judge them. */
static int parse_stage_cfg(struct sc_loader *ld, json_t *obj, const char *path,
			   enum stage_kind kind, struct pt_cfg *c)
{
	unsigned int given = 0;
	enum stage_field bad;
	bool unsupported;
	uint64_t v;
	char p[JF_PBUF], d[64], desc[160];
	int ret;

	memset(c, 0, sizeof(*c));
	ret = parse_format(ld, obj, path, kind, &c->format);
	if (ret)
		return ret;

	ret = jf_get_u64(&ld->jf, obj, path, "granule", false, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		if (!is_pow2(v) || !stage_granule_ok(c->format, ilog2_u64(v))) {
			jf_child(p, sizeof(p), path, "granule");
			return jf_err(&ld->jf, p, false, "expected %s, got %s",
				      stage_granules_expected(c->format),
				      jf_describe(json_object_get(obj, "granule"), d, sizeof(d)));
		}
		c->granule_shift = ilog2_u64(v);
		given |= SF_BIT(SF_GRANULE);
	}
	ret = jf_get_small(&ld->jf, obj, path, "ias", 1, 64, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		c->ias = (unsigned int)v;
		given |= SF_BIT(SF_IAS);
	}
	ret = jf_get_small(&ld->jf, obj, path, "oas", 1, 64, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		c->oas = (unsigned int)v;
		given |= SF_BIT(SF_OAS);
	}

	/* Fields that only some formats have: an error elsewhere, not silence. */
	static const struct {
		const char *key;
		enum pt_format only;
	} special[] = {{"sl0", PT_VMSA_S2}, {"levels", PT_TCE}, {"window_base", PT_TCE}};
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		if (!json_object_get(obj, special[i].key) || c->format == special[i].only)
			continue;
		jf_child(p, sizeof(p), path, special[i].key);
		return jf_err(&ld->jf, p, true, "applies to %s only, not %s",
			      pt_format_name(special[i].only), pt_format_name(c->format));
	}
	ret = jf_get_small(&ld->jf, obj, path, "sl0", 0, 3, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		c->sl0 = (int)v;
		given |= SF_BIT(SF_SL0);
	}
	ret = jf_get_small(&ld->jf, obj, path, "levels", 1, PT_MAX_LEVELS, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		c->levels = (unsigned int)v;
		given |= SF_BIT(SF_LEVELS);
	}
	ret = jf_get_u64(&ld->jf, obj, path, "window_base", false, &c->iova_base);
	if (ret < 0)
		return ret;
	if (ret)
		given |= SF_BIT(SF_WINDOW_BASE);
	ret = parse_flags(ld, obj, path, &c->flags);
	if (ret)
		return ret;

	stage_cfg_defaults(c, given);
	ret = stage_cfg_init(c, given, &bad, &unsupported);
	if (!ret)
		return 0;
	if (unsupported) {
		jf_child(p, sizeof(p), path, "format");
		return jf_err(&ld->jf, p, false,
			      "%s page tables are not supported by this build yet",
			      pt_format_name(c->format));
	}
	if (bad != SF_NR) {
		jf_child(p, sizeof(p), path, stage_field_key(bad));
		stage_field_value(c, bad, d, sizeof(d));
		stage_cfg_describe(c, bad, desc, sizeof(desc));
		return jf_err(&ld->jf, p, false, "%s is not valid for %s with %s", d,
			      pt_format_name(c->format), desc);
	}
	stage_cfg_describe(c, SF_NR, desc, sizeof(desc));
	return jf_err(&ld->jf, path, false, "%s rejects this configuration (%s)",
		      pt_format_name(c->format), desc);
}

/* One "mappings" array of a stage. */
static int parse_mappings(struct sc_loader *ld, json_t *obj, struct sc_stage *st, bool s2)
{
	const char *in_key = s2 ? "ipa" : "iova", *out_key = s2 ? "pa" : "ipa";
	json_t *arr = json_object_get(obj, "mappings"), *m;
	const struct pt_cfg *c = &st->cfg;
	uint64_t pgsz = pt_page_size(c);
	char p[JF_PBUF], d[64], r[64];
	size_t i;
	int ret;

	if (!arr)
		return 0;
	jf_child(p, sizeof(p), st->path, "mappings");
	if (!json_is_array(arr))
		return jf_err(&ld->jf, p, false, "expected an array, got %s",
			      jf_describe(arr, d, sizeof(d)));
	st->maps = calloc(json_array_size(arr) + 1, sizeof(*st->maps));
	if (!st->maps)
		return jf_err(&ld->jf, p, false, "out of memory");

	json_array_foreach(arr, i, m)
	{
		struct sc_map *mp = &st->maps[i];

		jf_pathf(mp->path, sizeof(mp->path), "%s[%zu]", p, i);
		ret = jf_expect_object(&ld->jf, m, mp->path);
		if (!ret)
			ret = jf_check_keys(&ld->jf, m, mp->path, s2 ? s2_map_keys : s1_map_keys);
		if (!ret)
			ret = jf_get_u64(&ld->jf, m, mp->path, in_key, true, &mp->in);
		if (ret >= 0)
			ret = jf_get_u64(&ld->jf, m, mp->path, "size", true, &mp->size);
		if (ret >= 0)
			ret = jf_get_u64(&ld->jf, m, mp->path, out_key, false, &mp->out);
		if (ret < 0)
			return ret;
		mp->out_given = ret == 1;
		ret = jf_get_prot(&ld->jf, m, mp->path, &mp->prot);
		if (!ret)
			ret = check_range(ld, mp->path, in_key, mp->in, mp->size, pgsz);
		if (!ret)
			ret = check_bits(ld, mp->path, in_key, mp->in, mp->size, c->iova_base,
					 c->ias, "input", st->path);
		if (!ret && mp->out_given)
			ret = check_range(ld, mp->path, out_key, mp->out, mp->size, pgsz);
		if (!ret && mp->out_given)
			ret = check_bits(ld, mp->path, out_key, mp->out, mp->size, 0, c->oas,
					 "output", st->path);
		if (ret)
			return ret;
		for (unsigned int k = 0; k < i; k++) {
			const struct sc_map *o = &st->maps[k];

			if (!overlaps(mp->in, mp->size, o->in, o->size))
				continue;
			jf_child(r, sizeof(r), mp->path, in_key);
			return jf_err(&ld->jf, r, false,
				      "0x%llx-0x%llx overlaps %s (0x%llx-0x%llx)",
				      (unsigned long long)mp->in,
				      (unsigned long long)(mp->in + mp->size - 1), o->path,
				      (unsigned long long)o->in,
				      (unsigned long long)(o->in + o->size - 1));
		}
		st->nr_maps++;
	}
	return 0;
}

static int parse_stage(struct sc_loader *ld, json_t *obj, const char *path, enum stage_kind kind,
		       struct sc_stage *st)
{
	int ret;

	jf_pathf(st->path, sizeof(st->path), "%s", path);
	ret = jf_expect_object(&ld->jf, obj, path);
	if (!ret)
		ret = jf_check_keys(&ld->jf, obj, path, stage_keys);
	if (!ret)
		ret = parse_stage_cfg(ld, obj, path, kind, &st->cfg);
	if (!ret)
		ret = parse_mappings(ld, obj, st, kind == STAGE_2);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Memory and guest RAM                                                   */

static int parse_memory(struct sc_loader *ld, json_t *root)
{
	struct scenario *sc = ld->sc;
	json_t *obj = json_object_get(root, "memory");
	int ret;

	if (!obj)
		return jf_err(&ld->jf, "", false, "missing key \"memory\"");
	ret = jf_expect_object(&ld->jf, obj, "memory");
	if (!ret)
		ret = jf_check_keys(&ld->jf, obj, "memory", memory_keys);
	if (!ret)
		ret = jf_get_u64(&ld->jf, obj, "memory", "base", true, &sc->mem_base);
	if (ret >= 0)
		ret = jf_get_u64(&ld->jf, obj, "memory", "size", true, &sc->mem_size);
	if (ret < 0)
		return ret;
	return check_range(ld, "memory", "base", sc->mem_base, sc->mem_size, 4096);
}

static int parse_guest(struct sc_loader *ld, json_t *root)
{
	struct scenario *sc = ld->sc;
	json_t *obj = json_object_get(root, "guest"), *arr, *m;
	uint64_t pgsz;
	char d[64], r[JF_PBUF];
	size_t i;
	int ret;

	if (!obj)
		return 0;
	ret = jf_expect_object(&ld->jf, obj, "guest");
	if (!ret)
		ret = jf_check_keys(&ld->jf, obj, "guest", guest_keys);
	if (ret)
		return ret;
	if (!sc->has_s2)
		return sc_err(
			ld, "guest", true,
			"guest RAM needs a \"stage2\" (without one, stage 1 uses memory directly)");
	arr = json_object_get(obj, "ram");
	if (!arr)
		return jf_err(&ld->jf, "guest", false, "missing key \"ram\"");
	if (!json_is_array(arr))
		return jf_err(&ld->jf, "guest.ram", false, "expected an array of regions, got %s",
			      jf_describe(arr, d, sizeof(d)));
	if (json_array_size(arr) < 1 || json_array_size(arr) > PT_MEM_MAX_REGIONS)
		return jf_err(&ld->jf, "guest.ram", false, "expected 1 to %d regions, got %zu",
			      PT_MEM_MAX_REGIONS, json_array_size(arr));
	pgsz = MAX(pt_page_size(&sc->s2.cfg), 4096);

	json_array_foreach(arr, i, m)
	{
		struct sc_ram *ram = &sc->ram[i];

		jf_pathf(ram->path, sizeof(ram->path), "guest.ram[%zu]", i);
		ret = jf_expect_object(&ld->jf, m, ram->path);
		if (!ret)
			ret = jf_check_keys(&ld->jf, m, ram->path, ram_keys);
		if (!ret)
			ret = jf_get_u64(&ld->jf, m, ram->path, "ipa", true, &ram->ipa);
		if (ret >= 0)
			ret = jf_get_u64(&ld->jf, m, ram->path, "size", true, &ram->size);
		if (ret >= 0)
			ret = jf_get_u64(&ld->jf, m, ram->path, "pa", false, &ram->pa);
		if (ret < 0)
			return ret;
		ram->pa_given = ret == 1;
		ret = jf_get_prot(&ld->jf, m, ram->path, &ram->prot);
		if (!ret)
			ret = check_range(ld, ram->path, "ipa", ram->ipa, ram->size, pgsz);
		if (!ret)
			ret = check_bits(ld, ram->path, "ipa", ram->ipa, ram->size, 0,
					 sc->s2.cfg.ias, "input", "stage2");
		if (!ret && ram->pa_given)
			ret = check_range(ld, ram->path, "pa", ram->pa, ram->size, pgsz);
		if (ret)
			return ret;
		if (ram->pa_given && (ram->pa < sc->mem_base ||
				      ram->pa + ram->size - 1 > sc->mem_base + sc->mem_size - 1)) {
			char mr[64];

			jf_child(r, sizeof(r), ram->path, "pa");
			return jf_err(&ld->jf, r, false, "0x%llx-0x%llx is outside memory (%s)",
				      (unsigned long long)ram->pa,
				      (unsigned long long)(ram->pa + ram->size - 1),
				      range_str(sc->mem_base, sc->mem_size, mr, sizeof(mr)));
		}
		for (unsigned int k = 0; k < i; k++) {
			const struct sc_ram *o = &sc->ram[k];

			if (!overlaps(ram->ipa, ram->size, o->ipa, o->size))
				continue;
			jf_child(r, sizeof(r), ram->path, "ipa");
			return jf_err(&ld->jf, r, false,
				      "0x%llx-0x%llx overlaps %s (0x%llx-0x%llx)",
				      (unsigned long long)ram->ipa,
				      (unsigned long long)(ram->ipa + ram->size - 1), o->path,
				      (unsigned long long)o->ipa,
				      (unsigned long long)(o->ipa + o->size - 1));
		}
		sc->nr_ram++;
	}
	return 0;
}

/* Stage-2 mappings may not overlap guest RAM, which stage 2 maps too. */
static int check_s2_vs_ram(struct sc_loader *ld)
{
	const struct scenario *sc = ld->sc;
	char r[JF_PBUF];

	for (unsigned int i = 0; i < sc->s2.nr_maps; i++) {
		const struct sc_map *m = &sc->s2.maps[i];

		for (unsigned int k = 0; k < sc->nr_ram; k++) {
			const struct sc_ram *o = &sc->ram[k];

			if (!overlaps(m->in, m->size, o->ipa, o->size))
				continue;
			jf_child(r, sizeof(r), m->path, "ipa");
			return jf_err(&ld->jf, r, false,
				      "0x%llx-0x%llx overlaps %s (0x%llx-0x%llx), which stage 2 "
				      "already maps",
				      (unsigned long long)m->in,
				      (unsigned long long)(m->in + m->size - 1), o->path,
				      (unsigned long long)o->ipa,
				      (unsigned long long)(o->ipa + o->size - 1));
		}
	}
	return 0;
}

static int parse_pasids(struct sc_loader *ld, json_t *root)
{
	struct scenario *sc = ld->sc;
	json_t *obj = json_object_get(root, "pasids"), *v;
	const char *key;
	char p[JF_PBUF];
	int ret;

	if (!obj)
		return 0;
	ret = jf_expect_object(&ld->jf, obj, "pasids");
	if (ret)
		return ret;
	sc->pasids = calloc(json_object_size(obj) + 1, sizeof(*sc->pasids));
	if (!sc->pasids)
		return jf_err(&ld->jf, "pasids", false, "out of memory");
	json_object_foreach(obj, key, v)
	{
		struct sc_stage *st = &sc->pasids[sc->nr_pasids];
		uint64_t pasid;
		bool digits = *key != 0;

		for (const char *k = key; *k; k++)
			digits &= *k >= '0' && *k <= '9';
		jf_child(p, sizeof(p), "pasids", key);
		if (!digits || parse_u64(key, &pasid) || pasid > PASID_MAX)
			return jf_err(&ld->jf, p, true,
				      "expected a decimal PASID from 0 to %u, got %.40s", PASID_MAX,
				      key);
		for (unsigned int k = 0; k < sc->nr_pasids; k++)
			if (sc->pasids[k].pasid == pasid)
				return jf_err(&ld->jf, p, true,
					      "PASID %llu is already defined by %s",
					      (unsigned long long)pasid, sc->pasids[k].path);
		st->pasid = (uint32_t)pasid;
		ret = parse_stage(ld, v, p, STAGE_1, st);
		if (ret)
			return ret;
		sc->nr_pasids++;
	}
	return 0;
}

/*
 * The CLI reads three kinds of JSON file and scenarios/ holds all three: a
 * top-level key of another kind says which it looks like.
 */
static const char *other_kind(json_t *root)
{
	if (json_object_get(root, "machine") || json_object_get(root, "steps"))
		return "; this looks like a run scenario, for uiommu run";
	if (json_object_get(root, "iommus") || json_object_get(root, "devices"))
		return "; this looks like a topology, for uiommu exec --config";
	return NULL;
}

static int parse_root(struct sc_loader *ld, json_t *root)
{
	struct scenario *sc = ld->sc;
	json_t *v;
	const char *desc;
	int ret;

	ret = jf_check_keys_note(&ld->jf, root, "", top_keys, other_kind(root));
	if (!ret)
		ret = jf_get_str(&ld->jf, root, "", "description", false, &desc);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		sc->description = strdup(desc);
		if (!sc->description)
			return jf_err(&ld->jf, "description", false, "out of memory");
	}
	ret = parse_memory(ld, root);
	if (ret)
		return ret;

	v = json_object_get(root, "stage2");
	if (v) {
		ret = parse_stage(ld, v, "stage2", STAGE_2, &sc->s2);
		if (ret)
			return ret;
		sc->has_s2 = true;
	}
	ret = parse_guest(ld, root);
	if (!ret && sc->has_s2)
		ret = check_s2_vs_ram(ld);
	if (ret)
		return ret;

	v = json_object_get(root, "stage1");
	if (v) {
		ret = parse_stage(ld, v, "stage1", STAGE_1, &sc->s1);
		if (ret)
			return ret;
		sc->has_s1 = true;
	}
	ret = parse_pasids(ld, root);
	if (ret)
		return ret;

	if (!sc->has_s1 && !sc->nr_pasids && !sc->has_s2)
		return jf_err(&ld->jf, "", false,
			      "nothing to walk: expected \"stage1\", \"stage2\" or \"pasids\"");
	if ((sc->has_s1 || sc->nr_pasids) && sc->has_s2 && !sc->nr_ram)
		return jf_err(&ld->jf, sc->has_s1 ? "stage1" : "pasids", true,
			      "a stage 1 over a stage 2 needs guest RAM for its tables "
			      "(\"guest\": {\"ram\": [...]})");
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                */

int scenario_load(const char *file, struct scenario **out, char *err, size_t errlen)
{
	struct sc_loader ld;
	struct scenario *sc;
	json_t *root = NULL;
	int ret;

	*out = NULL;
	ret = jf_load(&ld.jf, file, &root, err, errlen);
	if (ret)
		return ret;
	sc = calloc(1, sizeof(*sc));
	if (!sc || !(sc->file = strdup(file))) {
		free(sc);
		snprintf(err, errlen, "%s: out of memory", file);
		ret = -ENOMEM;
		goto out;
	}
	ld.sc = sc;
	if (!json_is_object(root))
		ret = sc_err(&ld, "", false, "expected an object at the top level, got an array");
	else
		ret = parse_root(&ld, root);
	if (!ret)
		ret = sc_build(&ld);
	if (ret)
		scenario_free(sc);
	else
		*out = sc;
out:
	jf_free(&ld.jf);
	json_decref(root);
	return ret;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	/* Every table lives in the arena (or in guest RAM, which is in the arena). */
	pt_arena_destroy(&sc->arena);
	for (unsigned int i = 0; i < PT_MEM_MAX_REGIONS; i++)
		free(sc->guest.used[i]);
	free(sc->s1.maps);
	free(sc->s2.maps);
	for (unsigned int i = 0; sc->pasids && sc->pasids[i].path[0]; i++)
		free(sc->pasids[i].maps);
	free(sc->pasids);
	free(sc->description);
	free(sc->file);
	free(sc);
}

const struct sc_stage *scenario_stage1(const struct scenario *sc, long pasid, bool *none, char *err,
				       size_t errlen)
{
	size_t n = 0;

	*none = false;
	if (pasid < 0) {
		if (sc->has_s1)
			return &sc->s1;
		if (!sc->nr_pasids) {
			*none = true;
			return NULL;
		}
		n = jf_add(err, errlen, 0, "%s: no \"stage1\"; choose a stage 1 with --pasid (",
			   sc->file);
	} else {
		for (unsigned int i = 0; i < sc->nr_pasids; i++)
			if (sc->pasids[i].pasid == (unsigned long)pasid)
				return &sc->pasids[i];
		n = jf_add(err, errlen, 0, "%s: no stage 1 for PASID %ld (", sc->file, pasid);
		if (!sc->nr_pasids)
			n = jf_add(err, errlen, n, "the scenario has no \"pasids\"");
		else
			n = jf_add(err, errlen, n, "the scenario has PASIDs ");
	}
	for (unsigned int i = 0; i < sc->nr_pasids; i++)
		n = jf_add(err, errlen, n, "%s%u", i ? ", " : "", sc->pasids[i].pasid);
	jf_add(err, errlen, n, ")");
	return NULL;
}

void scenario_xlate_cfg(const struct scenario *sc, const struct sc_stage *s1, struct xlate_cfg *xc)
{
	memset(xc, 0, sizeof(*xc));
	if (s1) {
		xc->s1.cfg = &s1->table.cfg;
		xc->s1.root = s1->table.root;
	}
	if (sc->has_s2) {
		xc->s2.cfg = &sc->s2.table.cfg;
		xc->s2.root = sc->s2.table.root;
	}
	xc->mem = &sc->arena.mem;
}
