/* SPDX-License-Identifier: MIT */
/*
 * The uiommu command line: a table of subcommands (main.c) and what every
 * subcommand shares. Adding a subcommand: write cmd_NAME.c with
 * cmd_NAME() and cmd_NAME_usage(), declare them here, and add one CLI_CMD
 * line to the table in main.c (and the file to meson.build).
 *
 * Conventions (reference/style.md §2): human output by default, --json
 * for programs, -v repeats; exit 0 on success, 1 on failure, 2 on a usage
 * error; messages through err(3)/errx(3), prefixed "uiommu CMD:".
 */
#ifndef UIOMMU_TOOLS_CLI_H
#define UIOMMU_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	const char *summary;
	/* argv[0] is the command's name; returns the exit status. */
	int (*run)(int argc, char **argv);
	/* The full help text of the command. */
	void (*usage)(FILE *f);
};

/* -v given before the command (each subcommand may add its own). */
extern int cli_verbose;

/*
 * --trace PATTERNS: enable trace events (util/trace.h) by comma-separated
 * globs, "-glob" to disable; their lines go to stderr. A usage error of
 * @cmd when a pattern is too long or nothing matches.
 */
void cli_trace(const char *cmd, const char *patterns);

/* Print "uiommu CMD: message" and a pointer to --help, then exit(2). */
_Noreturn void cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * getopt_long wrapper for subcommands: reports unknown options and missing
 * arguments as usage errors of @cmd (getopt's own messages are off).
 */
struct option;
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* cliopt.c: an option's number (parse_u64 spellings), else a usage error of @cmd. */
uint64_t cli_opt_u64(const char *cmd, const char *name, const char *arg);
/* A plain non-negative decimal fraction ("0.99", "1", ".5"): 0 or -EINVAL. */
int cli_parse_double(const char *arg, double *out);

/* The cache options of trace and bench (cliopt.c), each a usage error of @cmd when wrong. */
struct xlate_cache_geom;
/* @name's entries: 0 (off) or a power of two up to 1M. */
unsigned int cli_opt_entries(const char *cmd, const char *name, const char *arg);
/* --iotlb N[,WAYS] into @g: true when WAYS was given (else g->ways is left alone). */
bool cli_opt_iotlb(const char *cmd, const char *arg, struct xlate_cache_geom *g);
/* --repl lru|random: an enum xlate_repl. */
int cli_opt_repl(const char *cmd, const char *arg);

/*
 * The five cache options as getopt_long entries (CLI_CACHE_LONGOPTS, in a
 * command's table) and their values, from CLI_OPT_CACHE: a command numbers
 * its own long-only options from CLI_OPT_CACHE_END.
 */
enum {
	CLI_OPT_CACHE = 256,
	CLI_OPT_IOTLB = CLI_OPT_CACHE,
	CLI_OPT_WALK,
	CLI_OPT_IPA,
	CLI_OPT_REPL,
	CLI_OPT_SEED,
	CLI_OPT_CACHE_END,
};

/* clang-format off */
#define CLI_CACHE_LONGOPTS \
	{"iotlb", required_argument, NULL, CLI_OPT_IOTLB}, \
	{"walk-cache", required_argument, NULL, CLI_OPT_WALK}, \
	{"ipa-cache", required_argument, NULL, CLI_OPT_IPA}, \
	{"repl", required_argument, NULL, CLI_OPT_REPL}, \
	{"seed", required_argument, NULL, CLI_OPT_SEED}
/* clang-format on */

struct xlate_cache_params;
/*
 * Option @c with argument @arg into @p, when it is one of the cache
 * options: true (and *ways_given set when --iotlb named its WAYS), else
 * false and nothing changed. A bad value is a usage error of @cmd.
 */
bool cli_opt_cache(const char *cmd, int c, const char *arg, struct xlate_cache_params *p,
		   bool *ways_given);

/* The cache options' values in words: "4096 (4-way)", "4096 (fully associative)" or "off". */
const char *cli_cache_geom_str(const struct xlate_cache_geom *g, char *buf, size_t len);
/* "lru" or "random" (an enum xlate_repl). */
const char *cli_repl_name(int repl);

int cmd_run(int argc, char **argv);
void cmd_run_usage(FILE *f);
int cmd_walk(int argc, char **argv);
void cmd_walk_usage(FILE *f);
int cmd_trace(int argc, char **argv);
void cmd_trace_usage(FILE *f);
int cmd_trace_gen(int argc, char **argv);
void cmd_trace_gen_usage(FILE *f);
int cmd_exec(int argc, char **argv);
void cmd_exec_usage(FILE *f);
int cmd_bench(int argc, char **argv);
void cmd_bench_usage(FILE *f);

#endif
