// SPDX-License-Identifier: MIT
/*
 * standalone.c - run a libFuzzer target without libFuzzer, as a TAP test.
 *
 *   fuzz_target [--seed S] [--runs N] [--max-len L] [DIR | FILE]...
 *
 * Every regular file in each DIR (sorted by name) and every FILE is one
 * input and one test point. Then N pseudo-random inputs (default 200000,
 * or $FUZZ_RUNS) from seed S (default fixed, or $FUZZ_SEED; always printed)
 * run in batches of 20000, one test point per batch, so a make check stays
 * short and its count readable.
 *
 * A target reports a broken invariant by crashing (__builtin_trap, a
 * sanitizer, a fault). The signal handler prints "not ok" for the input
 * that was running, how to rerun it, and saves it as
 * ./crash-<target>-<n> so that it can be replayed (here or in the libFuzzer
 * build) and added to the corpus once fixed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BATCH		20000
#define DEFAULT_SEED	0x75696f6d6d75ULL /* "uiommu" */
#define DEFAULT_RUNS	200000
#define DEFAULT_MAX_LEN 4096

static inline uint64_t MIN_U64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static const char *prog;
static unsigned int test_no;
/* What is running, for the crash handler (prepared before each call). */
static const uint8_t *cur_data;
static size_t cur_len;
static char cur_line[512];

static void crash_handler(int sig)
{
	char path[256];
	const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	int n, fd;

	/* Only write(2) and open(2) here; the strings were formatted beforehand. */
	if (write(STDOUT_FILENO, cur_line, strlen(cur_line)) < 0)
		_exit(128 + sig);
	n = snprintf(path, sizeof(path), "crash-%s-%u", base, test_no);
	fd = n > 0 ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
	if (fd >= 0) {
		if (write(fd, cur_data, cur_len) == (ssize_t)cur_len) {
			static const char msg[] = "# input saved as ./";

			if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0 ||
			    write(STDOUT_FILENO, path, strlen(path)) < 0 ||
			    write(STDOUT_FILENO, "\n", 1) < 0)
				_exit(128 + sig);
		}
		close(fd);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void run_one(const uint8_t *data, size_t len, const char *what)
{
	cur_data = data;
	cur_len = len;
	snprintf(cur_line, sizeof(cur_line), "not ok %u - %s: crashed\n", test_no, what);
	LLVMFuzzerTestOneInput(data, len);
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long sz;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	*data = malloc(sz ? (size_t)sz : 1);
	if (!*data) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(*data, 1, (size_t)sz, f);
	fclose(f);
	return *len == (size_t)sz ? 0 : -EIO;
}

/* Collect the inputs named on the command line: files, and the files in directories. */
struct inputs {
	char **path;
	unsigned int n, cap;
};

static int add_input(struct inputs *in, const char *path)
{
	if (in->n == in->cap) {
		unsigned int cap = in->cap ? 2 * in->cap : 64;
		char **p = realloc(in->path, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		in->path = p;
		in->cap = cap;
	}
	in->path[in->n] = strdup(path);
	return in->path[in->n++] ? 0 : -ENOMEM;
}

static int collect(struct inputs *in, const char *path)
{
	struct dirent **ents;
	struct stat st;
	int n, ret = 0;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return add_input(in, path);
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char full[4096];

		if (!ret && ents[i]->d_name[0] != '.') {
			snprintf(full, sizeof(full), "%s/%s", path, ents[i]->d_name);
			if (!stat(full, &st) && S_ISREG(st.st_mode))
				ret = add_input(in, full);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_random(uint64_t *s, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = next_rand(s);

		memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
	}
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

int main(int argc, char **argv)
{
	uint64_t seed = env_u64("FUZZ_SEED", DEFAULT_SEED);
	uint64_t runs = env_u64("FUZZ_RUNS", DEFAULT_RUNS);
	uint64_t max_len = DEFAULT_MAX_LEN, s, batches;
	struct inputs in = { 0 };
	static const int sigs[] = { SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT };
	uint8_t *buf;

	prog = argv[0];
	for (int i = 1; i < argc; i++) {
		int ret;

		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--max-len") && i + 1 < argc) {
			max_len = strtoull(argv[++i], NULL, 0);
		} else if ((ret = collect(&in, argv[i]))) {
			printf("Bail out! %s: %s\n", argv[i], strerror(-ret));
			return 1;
		}
	}
	if (max_len < 1)
		max_len = 1;
	buf = malloc(max_len);
	if (!buf) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], crash_handler);

	batches = (runs + BATCH - 1) / BATCH;
	printf("1..%" PRIu64 "\n", in.n + batches);
	printf("# %u corpus inputs, %" PRIu64 " random inputs of up to %" PRIu64
	       " bytes from seed 0x%" PRIx64 "\n",
	       in.n, runs, max_len, seed);
	printf("# rerun: %s --seed 0x%" PRIx64 " --runs %" PRIu64 " --max-len %" PRIu64 "\n",
	       argv[0], seed, runs, max_len);
	fflush(stdout);

	for (unsigned int i = 0; i < in.n; i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		int ret;

		test_no++;
		ret = read_file(in.path[i], &data, &len);
		if (ret) {
			printf("not ok %u - %s: %s\n", test_no, in.path[i], strerror(-ret));
		} else {
			run_one(data, len, in.path[i]);
			printf("ok %u - %s (%zu bytes)\n", test_no, in.path[i], len);
		}
		fflush(stdout);
		free(data);
		free(in.path[i]);
	}
	free(in.path);

	s = seed;
	for (uint64_t b = 0; b < batches; b++) {
		uint64_t first = b * BATCH, last = MIN_U64(first + BATCH, runs);

		test_no++;
		for (uint64_t k = first; k < last; k++) {
			/* Half of them short, half up to max_len. */
			uint64_t r = next_rand(&s);
			size_t len = (size_t)(r % 2 ? r % MIN_U64(max_len, 600) : r % max_len) + 1;
			char what[128];

			fill_random(&s, buf, len);
			snprintf(what, sizeof(what), "random input %" PRIu64 " of seed 0x%" PRIx64,
				 k, seed);
			run_one(buf, len, what);
		}
		printf("ok %u - random inputs %" PRIu64 "..%" PRIu64 "\n", test_no, first,
		       last - 1);
		fflush(stdout);
	}
	free(buf);
	return 0;
}
