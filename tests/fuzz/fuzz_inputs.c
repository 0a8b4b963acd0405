// SPDX-License-Identifier: MIT
/*
 * fuzz_inputs.c - libFuzzer target over the files a user hands the CLI:
 * the machine topology (`uiommu exec --config`, lib/vmm/topology.c), the
 * `uiommu run` scenario (tools/uiommu/run_scenario.c), the `uiommu walk` /
 * `trace` scenario (tools/uiommu/scenario.c, which also builds the tables
 * it describes) and the DMA trace (tools/uiommu/tracefile.c).
 *
 * Each input: byte 0 picks the reader (% 4), the rest is the file. The
 * file is written to one private temporary path and read back through the
 * reader's own load function, as the CLI does.
 *
 * Invariants (a message, then a trap), besides no crash, no sanitizer
 * report and no leak:
 *  - a reader accepts (0) or refuses with a negative errno; a refusal
 *    leaves exactly one line in its message buffer, NUL-terminated, that
 *    begins with the file's name and a colon (the readers' contract: "FILE:
 *    reason" or "FILE:LINE[:COL]: ..."), and since the file can always be
 *    read, every refusal names a line, "FILE:N:" with N >= 1, but for
 *    -ENOMEM (a trace with no transaction in it is refused at the line
 *    where it ends);
 *  - the same file read twice gives the same answer and the same message
 *    (nothing is left over from the first read).
 *
 * Seeds: the files of scenarios/ and tests/data/, prefixed with their
 * reader's byte (tests/fuzz/gen_input_seeds.sh writes corpus/fuzz_inputs/).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_scenario.h"
#include "scenario.h"
#include "tracefile.h"
#include "vmm/topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                             \
	do {                                                  \
		fprintf(stderr, "fuzz_inputs: " __VA_ARGS__); \
		fputc('\n', stderr);                          \
		__builtin_trap();                             \
	} while (0)

enum reader { R_TOPOLOGY, R_RUN, R_WALK, R_TRACE, R_NR };

static const char *const reader_names[R_NR] = {"topology", "run scenario", "walk scenario",
					       "trace"};

static char path[64];

/* The file every input is written to, made once per process; removed at exit. */
static void remove_path(void)
{
	unlink(path);
}

static int input_file(const uint8_t *data, size_t size)
{
	int fd;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/uiommu-fuzz-inputs-%d", (int)getpid());
		atexit(remove_path);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (size) {
		ssize_t n = write(fd, data, size);

		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		data += n;
		size -= (size_t)n;
	}
	close(fd);
	return 0;
}

/* Trace contexts: PASIDs 0..3 exist, any other is refused (the callback's error path). */
static int trace_ctx(void *arg, bool has_pasid, uint32_t pasid, uint16_t *ctx, char *err,
		     size_t errlen)
{
	(void)arg;
	if (!has_pasid) {
		*ctx = 0;
		return 0;
	}
	if (pasid > 3) {
		snprintf(err, errlen, "no PASID %u", pasid);
		return -1;
	}
	*ctx = (uint16_t)(pasid + 1);
	return 0;
}

/* Read the file with @r; 0 or a negative errno, the message in @err. */
static int read_once(enum reader r, char *err, size_t errlen)
{
	struct topology *t;
	struct run_sc *rs;
	struct scenario *sc;
	struct trace tr;
	int ret;

	err[0] = '\0';
	switch (r) {
	case R_TOPOLOGY:
		ret = topology_load(path, &t, err, errlen);
		if (!ret)
			topology_free(t);
		return ret;
	case R_RUN:
		ret = run_scenario_load(path, &rs, err, errlen);
		if (!ret)
			run_scenario_free(rs);
		return ret;
	case R_WALK:
		ret = scenario_load(path, &sc, err, errlen);
		if (!ret)
			scenario_free(sc);
		return ret;
	default:
		memset(&tr, 0, sizeof(tr));
		ret = trace_load(path, trace_ctx, NULL, &tr, err, errlen);
		if (!ret) {
			trace_free(&tr);
			return 0;
		}
		return ret < 0 ? (ret == -1 ? -EINVAL : ret) : -EINVAL;
	}
}

/* The message of a refusal: one line, the file's name and a line number. */
static void check_message(enum reader r, int ret, const char *err, size_t errlen)
{
	size_t plen = strlen(path), len = strnlen(err, errlen);
	const char *p;

	if (len == errlen)
		FAIL("%s: message not terminated", reader_names[r]);
	if (!len)
		FAIL("%s: refused (%d) with no message", reader_names[r], ret);
	if (strchr(err, '\n'))
		FAIL("%s: message of more than one line: '%s'", reader_names[r], err);
	if (strncmp(err, path, plen) || err[plen] != ':')
		FAIL("%s: message does not begin with 'FILE:': '%s'", reader_names[r], err);
	p = err + plen + 1;
	/* Not about a line: memory. (A trace with no transaction is at the line where it ends.) */
	if (ret == -ENOMEM)
		return;
	if (*p < '1' || *p > '9')
		FAIL("%s: refusal without a line: '%s'", reader_names[r], err);
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p != ':')
		FAIL("%s: refusal without 'FILE:LINE:': '%s'", reader_names[r], err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[2][512];
	enum reader r;
	int ret[2];

	if (!size)
		return 0;
	r = (enum reader)(data[0] % R_NR);
	if (input_file(data + 1, size - 1))
		FAIL("cannot write %s: %s", path, strerror(errno));
	for (int i = 0; i < 2; i++) {
		ret[i] = read_once(r, err[i], sizeof(err[i]));
		if (ret[i] > 0)
			FAIL("%s: returned %d", reader_names[r], ret[i]);
		if (ret[i])
			check_message(r, ret[i], err[i], sizeof(err[i]));
	}
	if (ret[0] != ret[1] || strcmp(err[0], err[1]))
		FAIL("%s: two reads differ: %d '%s' then %d '%s'", reader_names[r], ret[0], err[0],
		     ret[1], err[1]);
	return 0;
}
