// SPDX-License-Identifier: MIT
/*
 * main.c - the uiommu command: global options and the subcommand table.
 *
 * `uiommu [-v] COMMAND [ARGS]`, in the `tool VERB` grammar of ip, bpftool
 * and git: global options stop at the first word that is not an option
 * (getopt's "+"), the word picks a row of the table, and the row's run()
 * gets the rest of the command line with its own name as argv[0], parses
 * it with cli_getopt() and returns the exit status. The table is the only
 * thing that knows which commands exist, so `uiommu --help`, `uiommu help
 * CMD` and dispatch can never disagree.
 *
 * While a command runs, err(3)-style messages are prefixed "uiommu CMD:"
 * (glibc's program_invocation_short_name), so every message says which
 * command produced it.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "util/trace.h"

#define CLI_CMD(n, s)                                                              \
	{                                                                          \
		.name = #n, .summary = s, .run = cmd_##n, .usage = cmd_##n##_usage \
	}

static const struct cli_cmd commands[] = {
	CLI_CMD(run, "run a machine and a script of guest and VMM steps, check every expectation"),
	CLI_CMD(walk, "walk the page tables for one address and show every read"),
	CLI_CMD(trace, "replay a DMA trace through the IOTLB and walk caches"),
	{ .name = "trace-gen", .summary = "write a synthetic DMA trace (sequential, random, zipfian)",
	  .run = cmd_trace_gen, .usage = cmd_trace_gen_usage },
	CLI_CMD(exec, "run a program with libuiommu as its /dev/iommu (the preload shim)"),
	CLI_CMD(bench, "measure translation, walks and invalidation for one configuration"),
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int cli_verbose;

static char progname[64];

static void set_progname(const char *cmd)
{
	snprintf(progname, sizeof(progname), "uiommu%s%s", cmd ? " " : "", cmd ? cmd : "");
	program_invocation_short_name = progname;
	program_invocation_name = progname;
}

_Noreturn void cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "uiommu%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'uiommu %s%s--help' for more information.\n", cmd ? cmd : "",
		cmd ? " " : "");
	exit(EXIT_USAGE);
}

/*
 * getopt_long() said '?' for @arg, a long option ("--NAME" or "--NAME=V"):
 * say whether it takes no argument, is an ambiguous prefix, or is unknown.
 * (Its own messages are off, and optopt alone cannot tell these apart: it
 * holds the option's value, which need not be a printable character.)
 */
static _Noreturn void bad_long_option(const char *cmd, const char *arg, int val,
				      const struct option *longopts)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name), n = 0;
	char list[256];
	int matches = 0;

	for (const struct option *o = longopts; o && o->name; o++) {
		if (eq && val && o->val == val && o->has_arg == no_argument &&
		    !strncmp(o->name, name, len))
			cli_usage_error(cmd, "option '--%s' takes no argument, got '%s'", o->name,
					arg);
		if (strncmp(o->name, name, len))
			continue;
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s--%s",
					      matches ? ", " : "", o->name);
		matches++;
	}
	if (matches > 1)
		cli_usage_error(cmd, "option '--%.*s' is ambiguous: %s", (int)len, name, list);
	cli_usage_error(cmd, "unknown option '%.*s'", (int)(len + 2), arg);
}

static bool takes_no_arg(const struct option *longopts, int val)
{
	for (const struct option *o = longopts; o && o->name; o++)
		if (o->val == val && o->has_arg == no_argument)
			return true;
	return false;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char opts[128];
	int c;

	/* ':' (after a '+', which must come first) makes getopt return ':' for a missing argument.
	 */
	if (shortopts[0] == '+')
		snprintf(opts, sizeof(opts), "+:%s", shortopts + 1);
	else
		snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c == '?') {
		/*
		 * optopt: 0 for a long option that is unknown or ambiguous, the
		 * option's value for "--NAME=V" of one that takes no argument,
		 * else the unknown short option's letter. A long option always
		 * moves optind past its word; a short one in a cluster may not,
		 * so the word is only looked at when optopt says "long".
		 */
		const char *arg = argv[optind - 1];

		if (!optopt ||
		    (!strncmp(arg, "--", 2) && strchr(arg, '=') && takes_no_arg(longopts, optopt)))
			bad_long_option(cmd, arg, optopt, longopts);
		cli_usage_error(cmd, "unknown option '-%c'", optopt);
	}
	if (c == ':')
		cli_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
	return c;
}

void cli_trace(const char *cmd, const char *patterns)
{
	char list[512];
	size_t n = 0;
	int ret = trace_enable(patterns);

	if (ret > 0)
		return;
	if (ret < 0)
		cli_usage_error(cmd, "--trace: a pattern in '%s' is too long", patterns);
	for (unsigned int i = 0; i < trace_event_count() && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
				      trace_event_name(i));
	cli_usage_error(cmd, "--trace: '%s' matches no trace event (events: %s)", patterns, list);
}

static const struct cli_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: uiommu [-v] [--trace PATTERNS] [--version] [--help] COMMAND [ARGS]\n\n"
		   "uiommu - the Linux nested-IOMMU stack in userspace.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-10s %s\n", "help", "show the help of a command");
	fprintf(f, "\nOptions:\n"
		   "  -v, --verbose   more detail (repeat for more)\n"
		   "      --trace PATTERNS\n"
		   "                  log trace events matching comma-separated globs to stderr\n"
		   "                  (\"xlate_*,pt_map\"; \"-glob\" disables; also UIOMMU_TRACE)\n"
		   "  -V, --version   print the version and exit\n"
		   "  -h, --help      show this help and exit\n\n"
		   "Run 'uiommu help COMMAND' or 'uiommu COMMAND --help' for a command's options.\n"
		   "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (argc > 2)
		cli_usage_error("help", "expected one command name, got %d words", argc - 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c)
		cli_usage_error("help", "unknown command '%s'", argv[1]);
	c->usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{"trace", required_argument, NULL, 't'},
		{0},
	};
	const struct cli_cmd *cmd;
	int c;

	set_progname(NULL);
	while ((c = cli_getopt(NULL, argc, argv, "+vVh", longopts)) != -1) {
		switch (c) {
		case 'v':
			cli_verbose++;
			break;
		case 'V':
			printf("uiommu %s\n", UIOMMU_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 't':
			cli_trace(NULL, optarg);
			break;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "help")) {
		set_progname("help");
		return cmd_help(argc, argv);
	}
	cmd = find_command(argv[0]);
	if (!cmd)
		cli_usage_error(NULL, "unknown command '%s'", argv[0]);
	set_progname(cmd->name);
	optind = 0; /* a fresh getopt scan over the command's own arguments */
	return cmd->run(argc, argv);
}
