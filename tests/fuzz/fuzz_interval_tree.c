// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: lib/util/interval_tree against the brute-force model of
 * tests/unit/interval_tree_model.h. The input is the operation stream:
 * byte 0 picks the universe (bottom or top of the 64-bit space), then each
 * random draw of the model consumes four bytes. After every mutation both
 * trees are checked for every red-black and augmentation invariant; every
 * query is compared with the model. A mismatch prints the model's message
 * and aborts, which libFuzzer reports as a crash with the input saved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "interval_tree_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct itm m;
	struct itm_src src = { .data = data, .len = size };

	itm_init(&m, size && (data[0] & 1));
	src.pos = size ? 1 : 0;
	while (!src.exhausted && m.ops < 4096) {
		if (itm_step(&m, &src)) {
			fprintf(stderr, "fuzz_interval_tree: %s\n", m.err);
			abort();
		}
	}
	if (itm_drain(&m)) {
		fprintf(stderr, "fuzz_interval_tree: %s\n", m.err);
		abort();
	}
	return 0;
}
