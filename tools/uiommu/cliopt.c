// SPDX-License-Identifier: MIT
/*
 * cliopt.c - option values that several subcommands parse the same way:
 * numbers with sizes, fractions, and the cache options of trace and bench
 * (--iotlb N[,WAYS], --walk-cache N, --ipa-cache N, --repl). Every failure
 * is a usage error of the command that asked, worded like the rest of the
 * CLI.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parse.h"
#include "util/bits.h"
#include "xlate/cache.h"

#define CACHE_MAX (1u << 20)

uint64_t cli_opt_u64(const char *cmd, const char *name, const char *arg)
{
	uint64_t v;
	int ret = parse_u64(arg, &v);

	if (ret == -ERANGE)
		cli_usage_error(cmd, "%s: %s does not fit in 64 bits", name, arg);
	if (ret)
		cli_usage_error(cmd, "%s: expected a number such as 4096, 0x1000 or 4K, got '%s'",
				name, arg);
	return v;
}

int cli_parse_double(const char *arg, double *out)
{
	char *end;
	double v;

	if (!arg || !*arg || (*arg != '.' && (*arg < '0' || *arg > '9')))
		return -EINVAL;
	errno = 0;
	v = strtod(arg, &end);
	if (*end || errno || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

unsigned int cli_opt_entries(const char *cmd, const char *name, const char *arg)
{
	uint64_t v = cli_opt_u64(cmd, name, arg);

	if (v && (!is_pow2(v) || v > CACHE_MAX))
		cli_usage_error(cmd,
				"%s: expected 0 (off) or a power of two up to 1M entries, got '%s'",
				name, arg);
	return (unsigned int)v;
}

bool cli_opt_iotlb(const char *cmd, const char *arg, struct xlate_cache_geom *g)
{
	const char *comma = strchr(arg, ',');
	char n[64];
	uint64_t ways;

	if (!comma) {
		g->entries = cli_opt_entries(cmd, "--iotlb", arg);
		return false;
	}
	snprintf(n, sizeof(n), "%.*s", (int)MIN((size_t)(comma - arg), sizeof(n) - 1), arg);
	g->entries = cli_opt_entries(cmd, "--iotlb", n);
	ways = cli_opt_u64(cmd, "--iotlb WAYS", comma + 1);
	if (!ways || !is_pow2(ways) || ways > 64)
		cli_usage_error(cmd, "--iotlb: expected WAYS a power of two from 1 to 64, got '%s'",
				comma + 1);
	g->ways = (unsigned int)ways;
	return true;
}

int cli_opt_repl(const char *cmd, const char *arg)
{
	if (!strcmp(arg, "lru"))
		return XLATE_REPL_LRU;
	if (!strcmp(arg, "random"))
		return XLATE_REPL_RANDOM;
	cli_usage_error(cmd, "--repl: expected lru or random, got '%s'", arg);
}

bool cli_opt_cache(const char *cmd, int c, const char *arg, struct xlate_cache_params *p,
		   bool *ways_given)
{
	switch (c) {
	case CLI_OPT_IOTLB:
		*ways_given |= cli_opt_iotlb(cmd, arg, &p->iotlb);
		return true;
	case CLI_OPT_WALK:
		p->walk[0].entries = p->walk[1].entries = cli_opt_entries(cmd, "--walk-cache", arg);
		return true;
	case CLI_OPT_IPA:
		p->ipa.entries = cli_opt_entries(cmd, "--ipa-cache", arg);
		return true;
	case CLI_OPT_REPL:
		p->repl = (enum xlate_repl)cli_opt_repl(cmd, arg);
		return true;
	case CLI_OPT_SEED:
		p->seed = cli_opt_u64(cmd, "--seed", arg);
		return true;
	default:
		return false;
	}
}

const char *cli_cache_geom_str(const struct xlate_cache_geom *g, char *buf, size_t len)
{
	if (!g->entries)
		snprintf(buf, len, "off");
	else if (g->ways)
		snprintf(buf, len, "%u (%u-way)", g->entries, g->ways);
	else
		snprintf(buf, len, "%u (fully associative)", g->entries);
	return buf;
}

const char *cli_repl_name(int repl)
{
	return repl == XLATE_REPL_RANDOM ? "random" : "lru";
}
