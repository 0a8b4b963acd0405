// SPDX-License-Identifier: MIT
/*
 * cmd_walk.c - `uiommu walk`: translate addresses and show every read.
 *
 * Two sources of tables, one series of walks:
 *  - a scenario file (scenario.c builds memory, stage 2, guest RAM and the
 *    guest's stage-1 tables; --pasid picks among several stage 1s);
 *  - raw memory images (--image FILE@BASE, and --s2-image for a nested
 *    walk), with the stage configuration given as options.
 * Either way the result is a struct xlate_cfg, and each --iova is one call
 * to xlate() with a record, in order; print.c turns each record into a
 * report. With --cache (or any cache size option) the walks share one set
 * of translation caches (lib/xlate/cache.h), so later walks show which
 * caches answered in place of reads, and the caches' counters follow.
 *
 * Stage 1 can have two VA ranges, as an SMMUv3 CD gives it (--ttb1-root,
 * --tbi): each address first selects TTB0, TTB1 or neither, exactly as the
 * SMMUv3 model does (smmuv3_select_tt), and the report says which.
 *
 * Everything the command line alone can show to be wrong (unknown option,
 * bad number, a configuration the format refuses) is a usage error, exit 2,
 * checked before any file is opened. Problems with files are failures,
 * exit 1, and so is a walk that faults (the fault report is the output).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hw/smmuv3/smmuv3.h"
#include "memimage.h"
#include "parse.h"
#include "print.h"
#include "scenario.h"
#include "stagecfg.h"
#include "util/bits.h"

#define CMD "walk"

/* One stage described by options: "--format ..." or "--s2-format ...". */
struct stage_opts {
	const char *prefix; /* "" or "s2-" */
	const char *image, *format, *root, *flags;
	const char *field[SF_NR]; /* granule, ias, oas, sl0, levels, window-base */
};

#define MAX_IOVAS 256

struct walk_opts {
	const char *scenario;
	uint64_t iova[MAX_IOVAS];
	unsigned int niova;
	unsigned int access;
	long pasid;
	bool json;
	bool cache;		       /* walks share caches */
	struct xlate_cache_params cp;
	struct stage_opts s1, s2;
	/* Stage 1's upper VA range (an SMMUv3 CD's TTB1) and TBI, in image mode. */
	const char *ttb1_root, *ttb1_ias, *ttb1_granule, *tbi;
	bool ranges;		       /* TTB0 / TTB1 selection before each walk */
	unsigned int tbi_bits;	       /* CD.TBI: bit 0 TTB0's range, bit 1 TTB1's */
	struct xlate_stage ttb0, ttb1; /* ttb1.cfg NULL: TTB1 disabled */
};

struct image_stage {
	struct pt_cfg cfg;
	uint64_t root;
};

void cmd_walk_usage(FILE *f)
{
	fprintf(f,
		"usage: uiommu walk SCENARIO.json --iova ADDR... [--pasid N] [--access ACC]\n"
		"                   [--json] [--cache] [--iotlb N[,WAYS]] [--walk-cache N[,WAYS]]\n"
		"                   [--ipa-cache N[,WAYS]] [-v] [--trace PATTERNS]\n"
		"       uiommu walk --image FILE[@BASE] --format FMT --root ADDR --iova ADDR\n"
		"                   [stage options] [--s2-format FMT --s2-root ADDR ...]\n"
		"\n"
		"Translate input addresses and show every descriptor read: the 2-D nested\n"
		"walk of a scenario's stage 1 over its stage 2, or tables in a raw memory image.\n"
		"\n"
		"Options:\n"
		"  -i, --iova ADDR          an input address to translate (required; repeat it\n"
		"                           to walk several addresses in order)\n"
		"  -a, --access ACC         the access to check: r, w, x, combined (e.g. rw),\n"
		"                           plus u for an unprivileged access (default r)\n"
		"  -p, --pasid N            walk the stage 1 of the scenario's \"pasids\" entry N\n"
		"                           instead of its \"stage1\"\n"
		"  -j, --json               print one JSON object instead of the text report\n"
		"                           (an array of them for several --iova)\n"
		"  -c, --cache              walk through translation caches shared by the walks\n"
		"                           (IOTLB 4096,4; walk caches 256,4 per level; IPA cache\n"
		"                           1024,4), showing which cache answered\n"
		"      --iotlb N[,WAYS], --walk-cache N[,WAYS], --ipa-cache N[,WAYS]\n"
		"                           caches on, with this size and associativity (0: that\n"
		"                           cache off; walk caches: entries per level)\n"
		"  -v, --verbose            also print every mapping of the scenario's tables\n"
		"      --trace PATTERNS     log matching trace events to stderr (\"xlate_*\")\n"
		"  -h, --help               show this help\n"
		"\n"
		"Memory image mode:\n"
		"      --image FILE[@BASE]  the file's bytes are memory at address BASE\n"
		"                           (default 0)\n"
		"      --format FMT         vmsa-s1, vmsa-s2, x86, vtd-ss or tce\n"
		"      --root ADDR          address of the root table (an IPA in a nested walk)\n"
		"      --granule SIZE       4K, 16K or 64K for VMSA (default 4K); TCE page size\n"
		"      --ias N, --oas N     input and output address bits (default: the format's)\n"
		"      --sl0 N              VMSA stage-2 start level (default: the deepest legal)\n"
		"      --levels N           TCE levels (default 1)\n"
		"      --window-base ADDR   TCE window bus address (default 0)\n"
		"      --flags LIST         comma-separated: hw-ad, affd, no-1g, no-2m, no-blocks\n"
		"      --s2-format FMT      vmsa-s2 or vtd-ss: walk nested, stage 1 over this\n"
		"                           stage 2\n"
		"      --s2-image FILE[@BASE]  stage-2 tables and data in another image\n"
		"                           (default: the same memory as --image)\n"
		"      --s2-root, --s2-granule, --s2-ias, --s2-oas, --s2-sl0, --s2-flags\n"
		"                           the same for stage 2\n"
		"      --ttb1-root ADDR     vmsa-s1 with two VA ranges, as an SMMUv3 CD: --root\n"
		"                           is TTB0 (addresses whose bits above --ias are 0),\n"
		"                           this TTB1 (bits above --ttb1-ias all 1; the walk\n"
		"                           translates the low --ttb1-ias bits); any other\n"
		"                           address is a stage-1 translation fault\n"
		"      --ttb1-ias N, --ttb1-granule SIZE\n"
		"                           TTB1's input bits (64 - T1SZ) and granule\n"
		"                           (default: --ias, --granule)\n"
		"      --tbi N              CD.TBI: 1 TTB0's range, 2 TTB1's, 3 both ignore the\n"
		"                           top byte (bits [63:56] taken as bit 55); alone,\n"
		"                           TTB1 is disabled (EPD1)\n"
		"\n"
		"Numbers: decimal or 0x hex, '_' between digits, sizes with K, M, G, T suffixes.\n"
		"Exit status: 0 translated, 1 the walk faulted or an error, 2 an input that\n"
		"does not load (scenario, image) or a usage error.\n"
		"See uiommu-walk(1) and doc/scenario.md.\n");
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */

enum {
	OPT_IOTLB = 200,
	OPT_WALK_CACHE,
	OPT_IPA_CACHE,
	OPT_TTB1_ROOT,
	OPT_TTB1_IAS,
	OPT_TTB1_GRANULE,
	OPT_TBI,
	OPT_IMAGE = 256,
	OPT_FORMAT,
	OPT_ROOT,
	OPT_FLAGS,
	OPT_FIELD,		    /* + enum stage_field */
	OPT_S2 = OPT_FIELD + SF_NR, /* + any of the above - OPT_IMAGE */
};

static const struct option walk_longopts[] = {
	{"iova", required_argument, NULL, 'i'},
	{"access", required_argument, NULL, 'a'},
	{"pasid", required_argument, NULL, 'p'},
	{"json", no_argument, NULL, 'j'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"trace", required_argument, NULL, 't'},
	{"cache", no_argument, NULL, 'c'},
	{"iotlb", required_argument, NULL, OPT_IOTLB},
	{"walk-cache", required_argument, NULL, OPT_WALK_CACHE},
	{"ipa-cache", required_argument, NULL, OPT_IPA_CACHE},
	{"ttb1-root", required_argument, NULL, OPT_TTB1_ROOT},
	{"ttb1-ias", required_argument, NULL, OPT_TTB1_IAS},
	{"ttb1-granule", required_argument, NULL, OPT_TTB1_GRANULE},
	{"tbi", required_argument, NULL, OPT_TBI},
	{"image", required_argument, NULL, OPT_IMAGE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"root", required_argument, NULL, OPT_ROOT},
	{"flags", required_argument, NULL, OPT_FLAGS},
	{"granule", required_argument, NULL, OPT_FIELD + SF_GRANULE},
	{"ias", required_argument, NULL, OPT_FIELD + SF_IAS},
	{"oas", required_argument, NULL, OPT_FIELD + SF_OAS},
	{"sl0", required_argument, NULL, OPT_FIELD + SF_SL0},
	{"levels", required_argument, NULL, OPT_FIELD + SF_LEVELS},
	{"window-base", required_argument, NULL, OPT_FIELD + SF_WINDOW_BASE},
	{"s2-image", required_argument, NULL, OPT_S2 + OPT_IMAGE - OPT_IMAGE},
	{"s2-format", required_argument, NULL, OPT_S2 + OPT_FORMAT - OPT_IMAGE},
	{"s2-root", required_argument, NULL, OPT_S2 + OPT_ROOT - OPT_IMAGE},
	{"s2-flags", required_argument, NULL, OPT_S2 + OPT_FLAGS - OPT_IMAGE},
	{"s2-granule", required_argument, NULL, OPT_S2 + OPT_FIELD + SF_GRANULE - OPT_IMAGE},
	{"s2-ias", required_argument, NULL, OPT_S2 + OPT_FIELD + SF_IAS - OPT_IMAGE},
	{"s2-oas", required_argument, NULL, OPT_S2 + OPT_FIELD + SF_OAS - OPT_IMAGE},
	{"s2-sl0", required_argument, NULL, OPT_S2 + OPT_FIELD + SF_SL0 - OPT_IMAGE},
	{"s2-levels", required_argument, NULL, OPT_S2 + OPT_FIELD + SF_LEVELS - OPT_IMAGE},
	{"s2-window-base", required_argument, NULL,
	 OPT_S2 + OPT_FIELD + SF_WINDOW_BASE - OPT_IMAGE},
	{0},
};

/* Record a stage option; @code is relative to OPT_IMAGE. */
static void set_stage_opt(struct stage_opts *so, int code, const char *arg)
{
	switch (code + OPT_IMAGE) {
	case OPT_IMAGE:
		so->image = arg;
		break;
	case OPT_FORMAT:
		so->format = arg;
		break;
	case OPT_ROOT:
		so->root = arg;
		break;
	case OPT_FLAGS:
		so->flags = arg;
		break;
	default:
		so->field[code + OPT_IMAGE - OPT_FIELD] = arg;
		break;
	}
}

static bool stage_opts_any(const struct stage_opts *so)
{
	if (so->image || so->format || so->root || so->flags)
		return true;
	for (int f = 0; f < SF_NR; f++)
		if (so->field[f])
			return true;
	return false;
}

/* The first stage option given, as "--s2-root", for messages. */
static const char *stage_opts_first(const struct stage_opts *so, char *buf, size_t len)
{
	const char *name = so->image	? "image"
			   : so->format ? "format"
			   : so->root	? "root"
			   : so->flags	? "flags"
					: NULL;

	for (int f = 0; !name && f < SF_NR; f++)
		if (so->field[f])
			name = stage_field_opt((enum stage_field)f);
	snprintf(buf, len, "--%s%s", so->prefix, name ? name : "?");
	return buf;
}

static uint64_t opt_u64(const char *name, const char *arg)
{
	uint64_t v;
	int ret = parse_u64(arg, &v);

	if (ret == -ERANGE)
		cli_usage_error(CMD, "%s: %s does not fit in 64 bits", name, arg);
	if (ret)
		cli_usage_error(CMD, "%s: expected a number such as 4096, 0x1000 or 4K, got '%s'",
				name, arg);
	return v;
}

/* "N" or "N,WAYS": a cache geometry that xlate_cache_new() accepts. */
static struct xlate_cache_geom opt_geom(const char *name, const char *arg)
{
	struct xlate_cache_geom g = {0};
	const char *comma = strchr(arg, ',');
	char num[64];
	uint64_t n, ways = 0;

	if ((size_t)(comma ? comma - arg : (ptrdiff_t)strlen(arg)) >= sizeof(num))
		goto bad;
	snprintf(num, sizeof(num), "%.*s", comma ? (int)(comma - arg) : (int)strlen(arg), arg);
	if (parse_u64(num, &n) || (comma && parse_u64(comma + 1, &ways)))
		goto bad;
	if (n > (1u << 24) || ways > 16 || (n && ways && n % ways) || (!n && ways))
		goto bad;
	g.entries = (unsigned int)n;
	g.ways = (unsigned int)ways;
	return g;
bad:
	cli_usage_error(CMD,
			"%s: expected ENTRIES[,WAYS] (entries up to 16M, 1 to 16 ways dividing "
			"them), got '%s'",
			name, arg);
}

static unsigned int opt_flags(const char *name, const char *arg)
{
	unsigned int flags = 0, f;
	char *copy = strdup(arg), *save = NULL, *tok;

	if (!copy)
		err(1, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_cfg_flag(tok, &f))
			cli_usage_error(CMD, "%s: expected %s, got '%s'", name, cfg_flag_names,
					tok);
		flags |= f;
	}
	free(copy);
	return flags;
}

/* Turn one stage's options into a validated configuration. */
static void stage_from_opts(const struct stage_opts *so, enum stage_kind kind,
			    struct image_stage *is)
{
	struct pt_cfg *c = &is->cfg;
	unsigned int given = 0;
	enum stage_field bad;
	bool unsupported;
	char name[32], v[32], desc[160];
	int f, ret;

	memset(is, 0, sizeof(*is));
	snprintf(name, sizeof(name), "--%sformat", so->prefix);
	if (!so->format)
		cli_usage_error(CMD, "missing %s FMT", name);
	f = pt_format_parse(so->format);
	if (f < 0 || !stage_format_ok((enum pt_format)f, kind))
		cli_usage_error(CMD, "%s: expected %s, got '%s'", name,
				stage_formats_expected(kind), so->format);
	c->format = (enum pt_format)f;

	snprintf(name, sizeof(name), "--%sroot", so->prefix);
	if (!so->root)
		cli_usage_error(CMD, "missing %s ADDR", name);
	is->root = opt_u64(name, so->root);

	for (int k = 0; k < SF_NR; k++) {
		uint64_t x;

		if (!so->field[k])
			continue;
		snprintf(name, sizeof(name), "--%s%s", so->prefix, stage_field_opt(k));
		x = opt_u64(name, so->field[k]);
		switch (k) {
		case SF_GRANULE:
			if (!is_pow2(x) || !stage_granule_ok(c->format, ilog2_u64(x)))
				cli_usage_error(CMD, "%s: expected %s, got %s", name,
						stage_granules_expected(c->format), so->field[k]);
			c->granule_shift = ilog2_u64(x);
			break;
		case SF_IAS:
		case SF_OAS:
			if (x < 1 || x > 64)
				cli_usage_error(CMD, "%s: expected a number from 1 to 64, got %s",
						name, so->field[k]);
			*(k == SF_IAS ? &c->ias : &c->oas) = (unsigned int)x;
			break;
		case SF_SL0:
			if (c->format != PT_VMSA_S2)
				cli_usage_error(CMD, "%s applies to vmsa-s2 only", name);
			if (x > 3)
				cli_usage_error(CMD, "%s: expected a number from 0 to 3, got %s",
						name, so->field[k]);
			c->sl0 = (int)x;
			break;
		case SF_LEVELS:
		case SF_WINDOW_BASE:
			if (c->format != PT_TCE)
				cli_usage_error(CMD, "%s applies to tce only", name);
			if (k == SF_LEVELS && (x < 1 || x > PT_MAX_LEVELS))
				cli_usage_error(CMD, "%s: expected a number from 1 to %d, got %s",
						name, PT_MAX_LEVELS, so->field[k]);
			if (k == SF_LEVELS)
				c->levels = (unsigned int)x;
			else
				c->iova_base = x;
			break;
		}
		given |= SF_BIT(k);
	}
	if (so->flags) {
		snprintf(name, sizeof(name), "--%sflags", so->prefix);
		c->flags = opt_flags(name, so->flags);
	}

	stage_cfg_defaults(c, given);
	ret = stage_cfg_init(c, given, &bad, &unsupported);
	if (!ret)
		return;
	if (unsupported)
		errx(1, "--%sformat %s: %s page tables are not supported by this build yet",
		     so->prefix, so->format, so->format);
	if (bad != SF_NR) {
		stage_field_value(c, bad, v, sizeof(v));
		stage_cfg_describe(c, bad, desc, sizeof(desc));
		cli_usage_error(CMD, "--%s%s: %s is not valid for %s with %s", so->prefix,
				stage_field_opt(bad), v, pt_format_name(c->format), desc);
	}
	stage_cfg_describe(c, SF_NR, desc, sizeof(desc));
	cli_usage_error(CMD,
			"%s rejects this configuration (%s); check --%sgranule, --%sias, "
			"--%soas%s",
			pt_format_name(c->format), desc, so->prefix, so->prefix, so->prefix,
			c->format == PT_VMSA_S2 ? " and --s2-sl0" : "");
}

/* ---------------------------------------------------------------------- */
/* The walk                                                               */

/*
 * One walk of stage 1 with two VA ranges, as the SMMUv3 model does it
 * (smmuv3_select_tt): TBI, then TTB0, TTB1 or neither; TTB1's walks are
 * cached under the model's tag for them. A fault reports the address as
 * given, as the model's event record does.
 */
static enum pt_fault_reason walk_ranges(const struct walk_opts *o, struct xlate_cfg *xc,
					struct walk_report *rep, struct xlate_result *res,
					struct xlate_fault *fault, struct xlate_record *rec)
{
	struct smmuv3_tt_sel sel;
	enum pt_fault_reason r;

	smmuv3_select_tt(rep->iova, o->tbi_bits, o->ttb0.cfg->ias,
			 o->ttb1.cfg ? o->ttb1.cfg->ias : 0, &sel);
	if (sel.ttb == 1 && !o->ttb1.cfg)
		sel.ttb = -1; /* TTB1 disabled */
	rep->ttb = sel.ttb;
	rep->tbi = sel.tbi;
	rep->walk_in = sel.in;
	xc->s1 = sel.ttb == 1 ? o->ttb1 : o->ttb0;
	xc->tag.asid = sel.ttb == 1 ? SMMU_TAG_TTB1 : 0;
	if (sel.ttb < 0) {
		memset(rec, 0, sizeof(*rec));
		memset(res, 0, sizeof(*res));
		*fault = (struct xlate_fault){.stage = 1, .cls = XLATE_CLASS_IN,
					      .level = o->ttb0.cfg->start_level,
					      .reason = PT_FAULT_TRANSLATION,
					      .input_addr = rep->iova};
		return PT_FAULT_TRANSLATION;
	}
	r = xlate(xc, sel.in, o->access, res, fault, rec);
	if (r != PT_OK)
		fault->input_addr = rep->iova;
	return r;
}

/* Walk every --iova in order (through caches shared by the walks when asked). */
static int run_walk(const struct walk_opts *o, struct walk_report *rep, struct xlate_cfg *xc)
{
	struct xlate_cache *cache = NULL;
	struct xlate_record rec;
	struct xlate_result res;
	struct xlate_fault fault;
	json_t *all = NULL;
	bool faulted = false;
	int ret;

	if (o->cache) {
		ret = xlate_cache_new(&o->cp, &cache);
		if (ret)
			errx(1, "cannot create the caches: %s", strerror(-ret));
		xc->cache = cache;
	}
	if (o->json && o->niova > 1 && !(all = json_array()))
		errx(1, "out of memory building the JSON report");
	rep->xc = xc;
	rep->access = o->access;
	rep->pasid = o->pasid;
	rep->rec = &rec;
	rep->res = &res;
	rep->fault = &fault;
	rep->ranges = o->ranges;
	rep->ttb0 = &o->ttb0;
	rep->ttb1 = o->ttb1.cfg ? &o->ttb1 : NULL;
	for (unsigned int i = 0; i < o->niova; i++) {
		rep->iova = o->iova[i];
		if (o->ranges)
			rep->reason = walk_ranges(o, xc, rep, &res, &fault, &rec);
		else
			rep->reason = xlate(xc, o->iova[i], o->access, &res, &fault, &rec);
		faulted |= rep->reason != PT_OK;
		if (all) {
			if (json_array_append_new(all, walk_json(rep)))
				errx(1, "out of memory building the JSON report");
		} else if (o->json) {
			if (walk_print_json(stdout, rep))
				errx(1, "out of memory building the JSON report");
		} else if (i == 0) {
			walk_print_text(stdout, rep);
		} else {
			walk_print_text_walk(stdout, rep);
		}
	}
	if (all && print_json_doc(stdout, all))
		errx(1, "out of memory building the JSON report");
	if (cache && !o->json)
		walk_print_cache_stats(stdout, cache, xc, o->niova);
	xc->cache = NULL;
	xlate_cache_free(cache);
	if (fflush(stdout))
		err(1, "stdout");
	return faulted ? 1 : 0;
}

static int walk_scenario(const struct walk_opts *o)
{
	struct walk_report rep = {.source = o->scenario};
	const struct sc_stage *s1;
	struct scenario *sc;
	struct xlate_cfg xc;
	char msg[512];
	bool none;
	int ret;

	/* An input that does not load is 2, as for run and exec; 1 is a fault. */
	if (scenario_load(o->scenario, &sc, msg, sizeof(msg)))
		errx(2, "%s", msg);
	s1 = scenario_stage1(sc, o->pasid, &none, msg, sizeof(msg));
	if (!s1 && !none) {
		scenario_free(sc);
		errx(2, "%s", msg);
	}
	if (cli_verbose)
		scenario_dump(sc, o->json ? stderr : stdout);
	scenario_xlate_cfg(sc, s1, &xc);
	rep.description = sc->description;
	rep.s1_name = s1 ? s1->path : NULL;
	ret = run_walk(o, &rep, &xc);
	scenario_free(sc);
	return ret;
}

static void open_image(const struct stage_opts *so, struct memimage *img)
{
	char msg[512], *file;
	uint64_t base;

	if (memimage_parse_spec(so->image, &file, &base, msg, sizeof(msg)))
		cli_usage_error(CMD, "--%simage: %s", so->prefix, msg);
	if (memimage_open(img, file, base, msg, sizeof(msg)))
		errx(2, "--%simage: %s", so->prefix, msg);
	free(file);
}

/* --ttb1-root, --ttb1-ias, --ttb1-granule, --tbi: TTB1 beside stage 1's --root (TTB0). */
static void ttb1_from_opts(struct walk_opts *o, const struct image_stage *s1,
			   struct image_stage *tt1)
{
	struct pt_cfg *c = &tt1->cfg;

	if (s1->cfg.format != PT_VMSA_S1)
		cli_usage_error(CMD, "%s needs --format vmsa-s1 (a stage 1 with two VA ranges)",
				o->ttb1_root ? "--ttb1-root" : "--tbi");
	if (!o->ttb1_root && (o->ttb1_ias || o->ttb1_granule))
		cli_usage_error(CMD, "%s needs --ttb1-root ADDR",
				o->ttb1_ias ? "--ttb1-ias" : "--ttb1-granule");
	o->ranges = true;
	if (o->tbi) {
		uint64_t v = opt_u64("--tbi", o->tbi);

		if (v > 3)
			cli_usage_error(CMD, "--tbi: expected 0 to 3 (CD.TBI), got %s", o->tbi);
		o->tbi_bits = (unsigned int)v;
	}
	o->ttb0 = (struct xlate_stage){&s1->cfg, s1->root};
	if (!o->ttb1_root)
		return;
	*tt1 = *s1;
	tt1->root = opt_u64("--ttb1-root", o->ttb1_root);
	if (o->ttb1_ias) {
		uint64_t x = opt_u64("--ttb1-ias", o->ttb1_ias);

		c->ias = x < 64 ? (unsigned int)x : 64;
	}
	if (o->ttb1_granule) {
		uint64_t x = opt_u64("--ttb1-granule", o->ttb1_granule);

		if (!is_pow2(x) || !stage_granule_ok(c->format, ilog2_u64(x)))
			cli_usage_error(CMD, "--ttb1-granule: expected %s, got %s",
					stage_granules_expected(c->format), o->ttb1_granule);
		c->granule_shift = ilog2_u64(x);
	}
	if (pt_cfg_init(c))
		cli_usage_error(CMD, "--ttb1-ias %u with a %s granule: vmsa-s1 takes 25 to 48 bits",
				c->ias, o->ttb1_granule ? o->ttb1_granule : "--granule");
	o->ttb1 = (struct xlate_stage){c, tt1->root};
}

static int walk_image(struct walk_opts *o)
{
	bool nested = o->s2.format;
	struct image_stage s1, s2, tt1;
	struct memimage img1, img2 = {0};
	struct pt_mem mem = {0};
	struct xlate_cfg xc = {0};
	struct walk_report rep = {0};
	char source[512], name[32];
	int n, ret;

	/* Everything the options alone can get wrong, before any file is opened. */
	stage_from_opts(&o->s1, nested ? STAGE_1 : STAGE_ANY, &s1);
	if (nested)
		stage_from_opts(&o->s2, STAGE_2, &s2);
	if (o->ttb1_root || o->tbi)
		ttb1_from_opts(o, &s1, &tt1);

	open_image(&o->s1, &img1);
	memimage_add_region(&img1, &mem);
	if (o->s2.image) {
		open_image(&o->s2, &img2);
		if (img2.base <= img1.base + (img1.size - 1) &&
		    img1.base <= img2.base + (img2.size - 1))
			errx(2, "--s2-image %s (0x%llx-0x%llx) overlaps --image %s (0x%llx-0x%llx)",
			     img2.file, (unsigned long long)img2.base,
			     (unsigned long long)(img2.base + img2.size - 1), img1.file,
			     (unsigned long long)img1.base,
			     (unsigned long long)(img1.base + img1.size - 1));
		memimage_add_region(&img2, &mem);
	}

	xc.mem = &mem;
	/* A lone stage-2 format is walked as stage 2 (an IPA in, a PA out). */
	if (!nested && (s1.cfg.format == PT_VMSA_S2 || s1.cfg.format == PT_VTD_SS)) {
		xc.s2.cfg = &s1.cfg;
		xc.s2.root = s1.root;
	} else {
		xc.s1.cfg = &s1.cfg;
		xc.s1.root = s1.root;
	}
	if (nested) {
		xc.s2.cfg = &s2.cfg;
		xc.s2.root = s2.root;
	}
	n = snprintf(source, sizeof(source), "image %s@0x%llx", img1.file,
		     (unsigned long long)img1.base);
	if (img2.file && n > 0 && (size_t)n < sizeof(source))
		snprintf(source + n, sizeof(source) - (size_t)n, ", s2-image %s@0x%llx", img2.file,
			 (unsigned long long)img2.base);
	snprintf(name, sizeof(name), "--format %s", pt_format_name(s1.cfg.format));
	rep.source = source;
	rep.s1_name = xc.s1.cfg ? name : NULL;
	ret = run_walk(o, &rep, &xc);
	memimage_close(&img1);
	memimage_close(&img2);
	return ret;
}

int cmd_walk(int argc, char **argv)
{
	static struct walk_opts o;
	const char *iova[MAX_IOVAS], *pasid = NULL;
	char b1[32], b2[32];
	int c;

	memset(&o, 0, sizeof(o));
	o.access = PT_PROT_R;
	o.pasid = -1;
	o.s1.prefix = "";
	o.s2.prefix = "s2-";
	xlate_cache_params_default(&o.cp);
	while ((c = cli_getopt(CMD, argc, argv, "i:a:p:jcvh", walk_longopts)) != -1) {
		switch (c) {
		case 'i':
			if (o.niova == MAX_IOVAS)
				cli_usage_error(CMD, "--iova: at most %d addresses", MAX_IOVAS);
			iova[o.niova++] = optarg;
			break;
		case 'c':
			o.cache = true;
			break;
		case OPT_IOTLB:
			o.cp.iotlb = opt_geom("--iotlb", optarg);
			o.cache = true;
			break;
		case OPT_WALK_CACHE:
			o.cp.walk[0] = o.cp.walk[1] = opt_geom("--walk-cache", optarg);
			o.cache = true;
			break;
		case OPT_IPA_CACHE:
			o.cp.ipa = opt_geom("--ipa-cache", optarg);
			o.cache = true;
			break;
		case OPT_TTB1_ROOT:
			o.ttb1_root = optarg;
			break;
		case OPT_TTB1_IAS:
			o.ttb1_ias = optarg;
			break;
		case OPT_TTB1_GRANULE:
			o.ttb1_granule = optarg;
			break;
		case OPT_TBI:
			o.tbi = optarg;
			break;
		case 'a':
			if (parse_prot(optarg, &o.access) ||
			    !(o.access & (PT_PROT_R | PT_PROT_W | PT_PROT_X)))
				cli_usage_error(CMD,
						"--access: expected r, w and/or x (plus u for an "
						"unprivileged access), got '%s'",
						optarg);
			break;
		case 'p':
			pasid = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'v':
			cli_verbose++;
			break;
		case 'h':
			cmd_walk_usage(stdout);
			return 0;
		case 't':
			cli_trace(CMD, optarg);
			break;
		default:
			if (c >= OPT_S2)
				set_stage_opt(&o.s2, c - OPT_S2, optarg);
			else if (c >= OPT_IMAGE)
				set_stage_opt(&o.s1, c - OPT_IMAGE, optarg);
			break;
		}
	}
	if (optind < argc)
		o.scenario = argv[optind++];
	if (optind < argc)
		cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);

	if (!o.scenario && !o.s1.image)
		cli_usage_error(CMD, "expected a SCENARIO file or --image FILE[@BASE]");
	if (o.scenario && (stage_opts_any(&o.s1) || stage_opts_any(&o.s2)))
		cli_usage_error(CMD, "%s is for --image mode, not with a scenario file",
				stage_opts_any(&o.s1) ? stage_opts_first(&o.s1, b1, sizeof(b1))
						      : stage_opts_first(&o.s2, b2, sizeof(b2)));
	if (o.scenario && (o.ttb1_root || o.ttb1_ias || o.ttb1_granule || o.tbi))
		cli_usage_error(CMD, "%s is for --image mode, not with a scenario file",
				o.ttb1_root ? "--ttb1-root" : o.tbi ? "--tbi" : "--ttb1-ias");
	if (!o.scenario && !o.s1.format)
		cli_usage_error(CMD, "missing --format FMT for --image");
	if (!o.scenario && stage_opts_any(&o.s2) && !o.s2.format)
		cli_usage_error(CMD, "%s needs --s2-format",
				stage_opts_first(&o.s2, b2, sizeof(b2)));
	if (!o.niova)
		cli_usage_error(CMD, "missing --iova ADDR");
	for (unsigned int i = 0; i < o.niova; i++)
		o.iova[i] = opt_u64("--iova", iova[i]);
	if (pasid) {
		uint64_t p = opt_u64("--pasid", pasid);

		if (!o.scenario)
			cli_usage_error(CMD, "--pasid selects a stage 1 of a scenario file");
		if (p > 0xfffff)
			cli_usage_error(CMD, "--pasid: expected a PASID from 0 to 1048575, got %s",
					pasid);
		o.pasid = (long)p;
	}
	return o.scenario ? walk_scenario(&o) : walk_image(&o);
}
