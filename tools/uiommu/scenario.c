// SPDX-License-Identifier: MIT
/*
 * scenario.c - scenario files: JSON in, a checked description out.
 *
 * A scenario is documentation that runs, so every mistake in one must come
 * back as a message a person can act on: the file, line and column of the
 * offending value, its path ("stage1.mappings[2].prot"), what was expected
 * and what was found. jansson parses the text and reports syntax errors
 * with a position; the values it returns carry none, so jpos.c indexes the
 * same text once and sc_err() looks the position up by path when (and only
 * when) something is wrong.
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
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "scenario_int.h"
#include "stagecfg.h"
#include "util/bits.h"

#define SC_FILE_MAX (16u << 20)
#define PASID_MAX   ((1u << 20) - 1)
#define SC_PBUF	    256 /* path buffers: long enough for an unknown key's path */

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
/* Messages                                                               */

static size_t add(char *buf, size_t len, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t add(char *buf, size_t len, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (n >= len)
		return n;
	va_start(ap, fmt);
	r = vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return r < 0 ? n : n + (size_t)r;
}

/* Drop the last component of a path: "a.b[2]" -> "a.b" -> "a" -> "". */
static void path_parent(char *p)
{
	char *dot = strrchr(p, '.'), *br = strrchr(p, '[');
	char *cut = dot > br ? dot : br;

	if (cut)
		*cut = 0;
	else
		*p = 0;
}

int sc_err(struct sc_loader *ld, const char *path, bool at_key, const char *fmt, ...)
{
	char p[SC_PBUF];
	int line = 1, col = 1;
	bool found;
	size_t n;
	va_list ap;

	snprintf(p, sizeof(p), "%s", path);
	found = jpos_find(&ld->pos, p, at_key, &line, &col);
	while (!found && *p) {
		path_parent(p);
		found = jpos_find(&ld->pos, p, false, &line, &col);
	}
	n = add(ld->err, ld->errlen, 0, "%s:%d:%d: ", ld->file, line, col);
	if (*path)
		n = add(ld->err, ld->errlen, n, "%s: ", path);
	if (n < ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* What a value is, for "got ...": strings as written, numbers, kinds. */
static const char *describe(const json_t *v, char *buf, size_t len)
{
	size_t n = 0;
	const char *s;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	case JSON_INTEGER:
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	case JSON_STRING:
		break;
	}
	s = json_string_value(v);
	if (!*s)
		return "\"\" (an empty string)";
	for (; *s && n + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (n >= 40) {
			n = add(buf, len, n, "...");
			break;
		}
		n = c < 0x20 || c == 0x7f ? add(buf, len, n, "\\x%02x", c)
					  : add(buf, len, n, "%c", c);
	}
	return buf;
}

/* Paths are cut at the buffer size; vsnprintf keeps -Wformat-truncation quiet on purpose. */
static void pathf(char *dst, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pathf(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

static void child(char *dst, size_t len, const char *parent, const char *key)
{
	pathf(dst, len, "%s%s%s", parent, *parent ? "." : "", key);
}

static int expect_object(struct sc_loader *ld, const json_t *v, const char *path)
{
	char d[64];

	if (json_is_object(v))
		return 0;
	return sc_err(ld, path, false, "expected an object, got %s", describe(v, d, sizeof(d)));
}

/* Every key of @obj must be in @allowed. */
static int check_keys(struct sc_loader *ld, json_t *obj, const char *path,
		      const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		char p[SC_PBUF], list[256];
		size_t n = 0;
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(key, *a);
		if (ok)
			continue;
		for (const char *const *a = allowed; *a; a++)
			n = add(list, sizeof(list), n, "%s%s", a == allowed ? "" : ", ", *a);
		child(p, sizeof(p), path, key);
		return sc_err(ld, p, true, "unknown key (expected %s)", list);
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Values                                                                 */

static int value_u64(struct sc_loader *ld, const json_t *v, const char *path, uint64_t *out)
{
	char d[64];
	int ret;

	if (json_is_integer(v)) {
		long long x = json_integer_value(v);

		if (x < 0)
			return sc_err(ld, path, false, "expected a number 0 or above, got %lld", x);
		*out = (uint64_t)x;
		return 0;
	}
	if (json_is_string(v)) {
		ret = parse_u64(json_string_value(v), out);
		if (!ret)
			return 0;
		if (ret == -ERANGE)
			return sc_err(ld, path, false, "%s does not fit in 64 bits",
				      describe(v, d, sizeof(d)));
	}
	return sc_err(ld, path, false,
		      "expected a number such as 4096, \"0x1000\" or \"4K\", got %s",
		      describe(v, d, sizeof(d)));
}

/* 1 when @key is there (*out set), 0 when absent and optional, -EINVAL. */
static int get_u64(struct sc_loader *ld, json_t *obj, const char *opath, const char *key,
		   bool required, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[SC_PBUF];
	int ret;

	if (!v) {
		if (required)
			return sc_err(ld, opath, false, "missing key \"%s\"", key);
		return 0;
	}
	child(p, sizeof(p), opath, key);
	ret = value_u64(ld, v, p, out);
	return ret ? ret : 1;
}

/* A small number in [lo, hi]. */
static int get_small(struct sc_loader *ld, json_t *obj, const char *opath, const char *key,
		     uint64_t lo, uint64_t hi, uint64_t *out)
{
	char p[SC_PBUF], d[64];
	int ret = get_u64(ld, obj, opath, key, false, out);

	if (ret <= 0)
		return ret;
	if (*out < lo || *out > hi) {
		child(p, sizeof(p), opath, key);
		return sc_err(ld, p, false, "expected a number from %llu to %llu, got %s",
			      (unsigned long long)lo, (unsigned long long)hi,
			      describe(json_object_get(obj, key), d, sizeof(d)));
	}
	return 1;
}

/* 1 and *out, 0 when absent and optional, -EINVAL. */
static int get_str(struct sc_loader *ld, json_t *obj, const char *opath, const char *key,
		   bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);
	char p[SC_PBUF], d[64];

	if (!v) {
		if (required)
			return sc_err(ld, opath, false, "missing key \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v)) {
		child(p, sizeof(p), opath, key);
		return sc_err(ld, p, false, "expected a string, got %s", describe(v, d, sizeof(d)));
	}
	*out = json_string_value(v);
	return 1;
}

/* Permissions of a mapping: letters r, w, x, u with r or w; "rw" when absent. */
static int get_prot(struct sc_loader *ld, json_t *obj, const char *opath, unsigned int *prot)
{
	json_t *v = json_object_get(obj, "prot");
	char p[SC_PBUF], d[64];

	*prot = PT_PROT_RW;
	if (!v)
		return 0;
	child(p, sizeof(p), opath, "prot");
	if (!json_is_string(v) || parse_prot(json_string_value(v), prot) || !(*prot & PT_PROT_RW))
		return sc_err(ld, p, false,
			      "expected the letters r, w, x, u with r or w (e.g. \"rw\"), got %s",
			      describe(v, d, sizeof(d)));
	return 0;
}

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
	char p[SC_PBUF], a[24];

	child(p, sizeof(p), opath, key);
	size_str(align, a, sizeof(a));
	if (start & (align - 1))
		return sc_err(ld, p, false, "0x%llx is not aligned to the %s page size",
			      (unsigned long long)start, a);
	child(p, sizeof(p), opath, "size");
	if (!size)
		return sc_err(ld, p, false, "expected a size above 0, got 0");
	if (size & (align - 1))
		return sc_err(ld, p, false, "0x%llx is not a multiple of the %s page size",
			      (unsigned long long)size, a);
	if (range_wraps(start, size)) {
		child(p, sizeof(p), opath, key);
		return sc_err(ld, p, false, "0x%llx + 0x%llx wraps past 2^64",
			      (unsigned long long)start, (unsigned long long)size);
	}
	return 0;
}

/* The range must fit @bits bits above @base ("input" or "output" size of @stage). */
static int check_bits(struct sc_loader *ld, const char *opath, const char *key, uint64_t start,
		      uint64_t size, uint64_t base, unsigned int bits, const char *what,
		      const char *stage)
{
	char p[SC_PBUF], r[64];

	child(p, sizeof(p), opath, key);
	if (start < base)
		return sc_err(ld, p, false, "%s is below the window base 0x%llx of %s",
			      range_str(start, size, r, sizeof(r)), (unsigned long long)base,
			      stage);
	if (bits < 64 && ((start - base + size - 1) >> bits))
		return sc_err(ld, p, false, "%s is beyond the %u-bit %s size of %s",
			      range_str(start, size, r, sizeof(r)), bits, what, stage);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Stages                                                                 */

static int parse_format(struct sc_loader *ld, json_t *obj, const char *path, enum stage_kind kind,
			enum pt_format *fmt)
{
	const char *s;
	char p[SC_PBUF], d[64];
	int f, ret = get_str(ld, obj, path, "format", true, &s);

	if (ret < 0)
		return ret;
	f = pt_format_parse(s);
	if (f >= 0 && stage_format_ok((enum pt_format)f, kind)) {
		*fmt = (enum pt_format)f;
		return 0;
	}
	child(p, sizeof(p), path, "format");
	return sc_err(ld, p, false, "expected %s, got %s%s", stage_formats_expected(kind),
		      describe(json_object_get(obj, "format"), d, sizeof(d)),
		      f < 0		? ""
		      : kind == STAGE_1 ? " (not a stage-1 format)"
					: " (not a stage-2 format)");
}

static int parse_flags(struct sc_loader *ld, json_t *obj, const char *path, unsigned int *flags)
{
	json_t *arr = json_object_get(obj, "flags"), *v;
	char p[SC_PBUF], d[64];
	size_t i;

	*flags = 0;
	if (!arr)
		return 0;
	child(p, sizeof(p), path, "flags");
	if (!json_is_array(arr))
		return sc_err(ld, p, false, "expected an array of strings (%s), got %s",
			      cfg_flag_names, describe(arr, d, sizeof(d)));
	json_array_foreach(arr, i, v)
	{
		unsigned int f;

		if (!json_is_string(v) || parse_cfg_flag(json_string_value(v), &f)) {
			char e[SC_PBUF];

			pathf(e, sizeof(e), "%s[%zu]", p, i);
			return sc_err(ld, e, false, "expected %s, got %s", cfg_flag_names,
				      describe(v, d, sizeof(d)));
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
	char p[SC_PBUF], d[64], desc[160];
	int ret;

	memset(c, 0, sizeof(*c));
	ret = parse_format(ld, obj, path, kind, &c->format);
	if (ret)
		return ret;

	ret = get_u64(ld, obj, path, "granule", false, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		if (!is_pow2(v) || !stage_granule_ok(c->format, ilog2_u64(v))) {
			child(p, sizeof(p), path, "granule");
			return sc_err(ld, p, false, "expected %s, got %s",
				      stage_granules_expected(c->format),
				      describe(json_object_get(obj, "granule"), d, sizeof(d)));
		}
		c->granule_shift = ilog2_u64(v);
		given |= SF_BIT(SF_GRANULE);
	}
	ret = get_small(ld, obj, path, "ias", 1, 64, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		c->ias = (unsigned int)v;
		given |= SF_BIT(SF_IAS);
	}
	ret = get_small(ld, obj, path, "oas", 1, 64, &v);
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
		child(p, sizeof(p), path, special[i].key);
		return sc_err(ld, p, true, "applies to %s only, not %s",
			      pt_format_name(special[i].only), pt_format_name(c->format));
	}
	ret = get_small(ld, obj, path, "sl0", 0, 3, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		c->sl0 = (int)v;
		given |= SF_BIT(SF_SL0);
	}
	ret = get_small(ld, obj, path, "levels", 1, PT_MAX_LEVELS, &v);
	if (ret < 0)
		return ret;
	if (ret) {
		c->levels = (unsigned int)v;
		given |= SF_BIT(SF_LEVELS);
	}
	ret = get_u64(ld, obj, path, "window_base", false, &c->iova_base);
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
		child(p, sizeof(p), path, "format");
		return sc_err(ld, p, false, "%s page tables are not supported by this build yet",
			      pt_format_name(c->format));
	}
	if (bad != SF_NR) {
		child(p, sizeof(p), path, stage_field_key(bad));
		stage_field_value(c, bad, d, sizeof(d));
		stage_cfg_describe(c, bad, desc, sizeof(desc));
		return sc_err(ld, p, false, "%s is not valid for %s with %s", d,
			      pt_format_name(c->format), desc);
	}
	stage_cfg_describe(c, SF_NR, desc, sizeof(desc));
	return sc_err(ld, path, false, "%s rejects this configuration (%s)",
		      pt_format_name(c->format), desc);
}

/* One "mappings" array of a stage. */
static int parse_mappings(struct sc_loader *ld, json_t *obj, struct sc_stage *st, bool s2)
{
	const char *in_key = s2 ? "ipa" : "iova", *out_key = s2 ? "pa" : "ipa";
	json_t *arr = json_object_get(obj, "mappings"), *m;
	const struct pt_cfg *c = &st->cfg;
	uint64_t pgsz = pt_page_size(c);
	char p[SC_PBUF], d[64], r[64];
	size_t i;
	int ret;

	if (!arr)
		return 0;
	child(p, sizeof(p), st->path, "mappings");
	if (!json_is_array(arr))
		return sc_err(ld, p, false, "expected an array, got %s",
			      describe(arr, d, sizeof(d)));
	st->maps = calloc(json_array_size(arr) + 1, sizeof(*st->maps));
	if (!st->maps)
		return sc_err(ld, p, false, "out of memory");

	json_array_foreach(arr, i, m)
	{
		struct sc_map *mp = &st->maps[i];

		pathf(mp->path, sizeof(mp->path), "%s[%zu]", p, i);
		ret = expect_object(ld, m, mp->path);
		if (!ret)
			ret = check_keys(ld, m, mp->path, s2 ? s2_map_keys : s1_map_keys);
		if (!ret)
			ret = get_u64(ld, m, mp->path, in_key, true, &mp->in);
		if (ret >= 0)
			ret = get_u64(ld, m, mp->path, "size", true, &mp->size);
		if (ret >= 0)
			ret = get_u64(ld, m, mp->path, out_key, false, &mp->out);
		if (ret < 0)
			return ret;
		mp->out_given = ret == 1;
		ret = get_prot(ld, m, mp->path, &mp->prot);
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
			child(r, sizeof(r), mp->path, in_key);
			return sc_err(ld, r, false, "0x%llx-0x%llx overlaps %s (0x%llx-0x%llx)",
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

	pathf(st->path, sizeof(st->path), "%s", path);
	ret = expect_object(ld, obj, path);
	if (!ret)
		ret = check_keys(ld, obj, path, stage_keys);
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
		return sc_err(ld, "", false, "missing key \"memory\"");
	ret = expect_object(ld, obj, "memory");
	if (!ret)
		ret = check_keys(ld, obj, "memory", memory_keys);
	if (!ret)
		ret = get_u64(ld, obj, "memory", "base", true, &sc->mem_base);
	if (ret >= 0)
		ret = get_u64(ld, obj, "memory", "size", true, &sc->mem_size);
	if (ret < 0)
		return ret;
	return check_range(ld, "memory", "base", sc->mem_base, sc->mem_size, 4096);
}

static int parse_guest(struct sc_loader *ld, json_t *root)
{
	struct scenario *sc = ld->sc;
	json_t *obj = json_object_get(root, "guest"), *arr, *m;
	uint64_t pgsz;
	char d[64], r[SC_PBUF];
	size_t i;
	int ret;

	if (!obj)
		return 0;
	ret = expect_object(ld, obj, "guest");
	if (!ret)
		ret = check_keys(ld, obj, "guest", guest_keys);
	if (ret)
		return ret;
	if (!sc->has_s2)
		return sc_err(
			ld, "guest", true,
			"guest RAM needs a \"stage2\" (without one, stage 1 uses memory directly)");
	arr = json_object_get(obj, "ram");
	if (!arr)
		return sc_err(ld, "guest", false, "missing key \"ram\"");
	if (!json_is_array(arr))
		return sc_err(ld, "guest.ram", false, "expected an array of regions, got %s",
			      describe(arr, d, sizeof(d)));
	if (json_array_size(arr) < 1 || json_array_size(arr) > PT_MEM_MAX_REGIONS)
		return sc_err(ld, "guest.ram", false, "expected 1 to %d regions, got %zu",
			      PT_MEM_MAX_REGIONS, json_array_size(arr));
	pgsz = MAX(pt_page_size(&sc->s2.cfg), 4096);

	json_array_foreach(arr, i, m)
	{
		struct sc_ram *ram = &sc->ram[i];

		pathf(ram->path, sizeof(ram->path), "guest.ram[%zu]", i);
		ret = expect_object(ld, m, ram->path);
		if (!ret)
			ret = check_keys(ld, m, ram->path, ram_keys);
		if (!ret)
			ret = get_u64(ld, m, ram->path, "ipa", true, &ram->ipa);
		if (ret >= 0)
			ret = get_u64(ld, m, ram->path, "size", true, &ram->size);
		if (ret >= 0)
			ret = get_u64(ld, m, ram->path, "pa", false, &ram->pa);
		if (ret < 0)
			return ret;
		ram->pa_given = ret == 1;
		ret = get_prot(ld, m, ram->path, &ram->prot);
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

			child(r, sizeof(r), ram->path, "pa");
			return sc_err(ld, r, false, "0x%llx-0x%llx is outside memory (%s)",
				      (unsigned long long)ram->pa,
				      (unsigned long long)(ram->pa + ram->size - 1),
				      range_str(sc->mem_base, sc->mem_size, mr, sizeof(mr)));
		}
		for (unsigned int k = 0; k < i; k++) {
			const struct sc_ram *o = &sc->ram[k];

			if (!overlaps(ram->ipa, ram->size, o->ipa, o->size))
				continue;
			child(r, sizeof(r), ram->path, "ipa");
			return sc_err(ld, r, false, "0x%llx-0x%llx overlaps %s (0x%llx-0x%llx)",
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
	char r[SC_PBUF];

	for (unsigned int i = 0; i < sc->s2.nr_maps; i++) {
		const struct sc_map *m = &sc->s2.maps[i];

		for (unsigned int k = 0; k < sc->nr_ram; k++) {
			const struct sc_ram *o = &sc->ram[k];

			if (!overlaps(m->in, m->size, o->ipa, o->size))
				continue;
			child(r, sizeof(r), m->path, "ipa");
			return sc_err(ld, r, false,
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
	char p[SC_PBUF];
	int ret;

	if (!obj)
		return 0;
	ret = expect_object(ld, obj, "pasids");
	if (ret)
		return ret;
	sc->pasids = calloc(json_object_size(obj) + 1, sizeof(*sc->pasids));
	if (!sc->pasids)
		return sc_err(ld, "pasids", false, "out of memory");
	json_object_foreach(obj, key, v)
	{
		struct sc_stage *st = &sc->pasids[sc->nr_pasids];
		uint64_t pasid;
		bool digits = *key != 0;

		for (const char *k = key; *k; k++)
			digits &= *k >= '0' && *k <= '9';
		child(p, sizeof(p), "pasids", key);
		if (!digits || parse_u64(key, &pasid) || pasid > PASID_MAX)
			return sc_err(ld, p, true,
				      "expected a decimal PASID from 0 to %u, got %.40s", PASID_MAX,
				      key);
		for (unsigned int k = 0; k < sc->nr_pasids; k++)
			if (sc->pasids[k].pasid == pasid)
				return sc_err(ld, p, true, "PASID %llu is already defined by %s",
					      (unsigned long long)pasid, sc->pasids[k].path);
		st->pasid = (uint32_t)pasid;
		ret = parse_stage(ld, v, p, STAGE_1, st);
		if (ret)
			return ret;
		sc->nr_pasids++;
	}
	return 0;
}

static int parse_root(struct sc_loader *ld, json_t *root)
{
	struct scenario *sc = ld->sc;
	json_t *v;
	const char *desc;
	int ret;

	ret = check_keys(ld, root, "", top_keys);
	if (!ret)
		ret = get_str(ld, root, "", "description", false, &desc);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		sc->description = strdup(desc);
		if (!sc->description)
			return sc_err(ld, "description", false, "out of memory");
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
		return sc_err(ld, "", false,
			      "nothing to walk: expected \"stage1\", \"stage2\" or \"pasids\"");
	if ((sc->has_s1 || sc->nr_pasids) && sc->has_s2 && !sc->nr_ram)
		return sc_err(ld, sc->has_s1 ? "stage1" : "pasids", true,
			      "a stage 1 over a stage 2 needs guest RAM for its tables "
			      "(\"guest\": {\"ram\": [...]})");
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                */

static int read_file(const char *file, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > SC_FILE_MAX) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", file,
			 fstat(fd, &st)		? strerror(e)
			 : !S_ISREG(st.st_mode) ? "not a regular file"
						: "larger than 16M, too big for a scenario");
		close(fd);
		return -EINVAL;
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", file);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, *text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (got < (size_t)st.st_size && n < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		close(fd);
		free(*text);
		return -EIO;
	}
	close(fd);
	(*text)[got] = 0;
	*len = got;
	return 0;
}

int scenario_load(const char *file, struct scenario **out, char *err, size_t errlen)
{
	struct sc_loader ld = {.file = file, .err = err, .errlen = errlen};
	struct scenario *sc;
	json_error_t jerr;
	json_t *root = NULL;
	char *text = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	ret = read_file(file, &text, &len, err, errlen);
	if (ret)
		return ret;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", file,
			 jerr.line > 0 ? jerr.line : 1, jerr.column > 0 ? jerr.column : 1,
			 jerr.text);
		free(text);
		return -EINVAL;
	}
	if (jpos_scan(&ld.pos, text, len)) {
		snprintf(err, errlen, "%s: cannot index the JSON text (out of memory?)", file);
		ret = -ENOMEM;
		goto out;
	}
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
	jpos_free(&ld.pos);
	json_decref(root);
	free(text);
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
		n = add(err, errlen, 0, "%s: no \"stage1\"; choose a stage 1 with --pasid (",
			sc->file);
	} else {
		for (unsigned int i = 0; i < sc->nr_pasids; i++)
			if (sc->pasids[i].pasid == (unsigned long)pasid)
				return &sc->pasids[i];
		n = add(err, errlen, 0, "%s: no stage 1 for PASID %ld (", sc->file, pasid);
		if (!sc->nr_pasids)
			n = add(err, errlen, n, "the scenario has no \"pasids\"");
		else
			n = add(err, errlen, n, "the scenario has PASIDs ");
	}
	for (unsigned int i = 0; i < sc->nr_pasids; i++)
		n = add(err, errlen, n, "%s%u", i ? ", " : "", sc->pasids[i].pasid);
	add(err, errlen, n, ")");
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
