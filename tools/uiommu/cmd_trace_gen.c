// SPDX-License-Identifier: MIT
/*
 * cmd_trace_gen.c - `uiommu trace-gen`: write a synthetic DMA trace.
 *
 * One transaction a line, in the format `uiommu trace` reads
 * (iova,len,r|w), each one page long and page aligned: page number p of
 * the stream becomes iova = base + p * page size. The stream is one of
 * tracegen.c's: sequential (pages 0, 1, ... P-1, then again), uniform
 * random, or Zipf (page 0 the most frequent). The first line is a comment
 * that repeats the parameters, so a trace file says how to make it again.
 *
 * Every option is checked before the first line is written; after that
 * the only failure is a write error on stdout (exit 1).
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parse.h"
#include "tracegen.h"
#include "util/bits.h"

#define CMD "trace-gen"

void cmd_trace_gen_usage(FILE *f)
{
	fprintf(f,
		"usage: uiommu trace-gen sequential|random|zipfian --count N --pages P\n"
		"                        [--base ADDR] [--page-size SIZE] [--theta T]\n"
		"                        [--seed S] [--write-ratio R]\n"
		"\n"
		"Write a synthetic DMA trace to stdout, one page-sized transaction a line\n"
		"(iova,len,r|w), for uiommu trace. The same options and seed always give the\n"
		"same trace.\n"
		"\n"
		"Kinds:\n"
		"  sequential   pages 0, 1, ... P-1, then from 0 again\n"
		"  random       each page drawn uniformly from the P pages\n"
		"  zipfian      page k drawn with probability proportional to 1/(k+1)^theta\n"
		"               (page 0 the hottest; exact, by rejection-inversion)\n"
		"\n"
		"Options:\n"
		"  -n, --count N        transactions to write (required, at least 1)\n"
		"  -P, --pages P        pages the stream draws from (required)\n"
		"  -b, --base ADDR      IOVA of page 0 (default 0)\n"
		"      --page-size SIZE bytes a page, a power of two (default 4K)\n"
		"      --theta T        zipfian skew, above 0 and at most 10 (default 0.99)\n"
		"  -s, --seed S         random seed (default 1)\n"
		"  -w, --write-ratio R  fraction of writes, 0 to 1 (default 0: all reads)\n"
		"  -h, --help           show this help\n"
		"\n"
		"Numbers: decimal or 0x hex, '_' between digits, sizes with K, M, G, T suffixes.\n"
		"Exit status: 0 success, 1 a write error, 2 usage error.\n"
		"See uiommu-trace-gen(1).\n");
}

enum { OPT_PAGE_SIZE = 256, OPT_THETA };

static const struct option gen_longopts[] = {
	{"count", required_argument, NULL, 'n'},
	{"pages", required_argument, NULL, 'P'},
	{"base", required_argument, NULL, 'b'},
	{"page-size", required_argument, NULL, OPT_PAGE_SIZE},
	{"theta", required_argument, NULL, OPT_THETA},
	{"seed", required_argument, NULL, 's'},
	{"write-ratio", required_argument, NULL, 'w'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

int cmd_trace_gen(int argc, char **argv)
{
	const char *count = NULL, *pages = NULL, *base = NULL, *psize = NULL, *theta = NULL;
	const char *seed = NULL, *wratio = NULL;
	uint64_t n, np, b = 0, ps = 4096, s = 1;
	double th = 0.99, wr = 0;
	struct tg_stream st;
	int c, kind;

	while ((c = cli_getopt(CMD, argc, argv, "n:P:b:s:w:h", gen_longopts)) != -1) {
		switch (c) {
		case 'n':
			count = optarg;
			break;
		case 'P':
			pages = optarg;
			break;
		case 'b':
			base = optarg;
			break;
		case OPT_PAGE_SIZE:
			psize = optarg;
			break;
		case OPT_THETA:
			theta = optarg;
			break;
		case 's':
			seed = optarg;
			break;
		case 'w':
			wratio = optarg;
			break;
		case 'h':
			cmd_trace_gen_usage(stdout);
			return 0;
		}
	}
	if (optind >= argc)
		cli_usage_error(CMD, "expected sequential, random or zipfian");
	kind = tg_kind_parse(argv[optind]);
	if (kind < 0)
		cli_usage_error(CMD, "expected sequential, random or zipfian, got '%s'",
				argv[optind]);
	if (++optind < argc)
		cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
	if (!count)
		cli_usage_error(CMD, "missing --count N");
	if (!pages)
		cli_usage_error(CMD, "missing --pages P");
	n = cli_opt_u64(CMD, "--count", count);
	if (!n) /* a trace with no transaction, which uiommu trace refuses */
		cli_usage_error(CMD, "--count: expected at least 1 transaction, got %s", count);
	np = cli_opt_u64(CMD, "--pages", pages);
	if (!np)
		cli_usage_error(CMD, "--pages: expected at least 1 page, got %s", pages);
	if (base)
		b = cli_opt_u64(CMD, "--base", base);
	if (psize) {
		ps = cli_opt_u64(CMD, "--page-size", psize);
		if (!is_pow2(ps) || ps > (1ULL << 32))
			cli_usage_error(CMD,
					"--page-size: expected a power of two up to 4G such as 4K, "
					"got '%s'",
					psize);
	}
	if (theta) {
		if (kind != TG_ZIPFIAN)
			cli_usage_error(CMD, "--theta applies to zipfian only");
		if (cli_parse_double(theta, &th) || !(th > 0 && th <= TG_THETA_MAX))
			cli_usage_error(
				CMD, "--theta: expected a number above 0 and at most 10, got '%s'",
				theta);
	}
	if (seed)
		s = cli_opt_u64(CMD, "--seed", seed);
	if (wratio && (cli_parse_double(wratio, &wr) || wr > 1))
		cli_usage_error(CMD, "--write-ratio: expected a fraction from 0 to 1, got '%s'",
				wratio);
	if (b > UINT64_MAX - (ps - 1) || np - 1 > (UINT64_MAX - b - (ps - 1)) / ps)
		cli_usage_error(CMD,
				"--pages: %s pages of %llu bytes from 0x%llx run past the end of "
				"the 64-bit address space",
				pages, (unsigned long long)ps, (unsigned long long)b);
	if (tg_stream_init(&st, (enum tg_kind)kind, np, th, s, wr))
		cli_usage_error(CMD, "invalid parameters"); /* every case is checked above */

	printf("# uiommu trace-gen %s --count %llu --pages %llu --base 0x%llx --page-size %llu",
	       argv[optind - 1], (unsigned long long)n, (unsigned long long)np,
	       (unsigned long long)b, (unsigned long long)ps);
	/* The values as given, so that the line reproduces the trace exactly. */
	if (kind == TG_ZIPFIAN)
		printf(" --theta %s", theta ? theta : "0.99");
	printf(" --seed %llu --write-ratio %s\n", (unsigned long long)s, wratio ? wratio : "0");
	for (uint64_t i = 0; i < n; i++) {
		bool w;
		uint64_t p = tg_stream_next(&st, &w);

		printf("0x%llx,%llu,%c\n", (unsigned long long)(b + p * ps), (unsigned long long)ps,
		       w ? 'w' : 'r');
	}
	if (fflush(stdout) || ferror(stdout))
		err(1, "stdout");
	return 0;
}
