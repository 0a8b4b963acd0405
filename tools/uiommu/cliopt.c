// SPDX-License-Identifier: MIT
/*
 * cliopt.c - option values that several subcommands parse the same way:
 * numbers with sizes, and fractions. Every failure is a usage error of the
 * command that asked, worded like the rest of the CLI.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cli.h"
#include "parse.h"

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
