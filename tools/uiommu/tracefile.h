/* SPDX-License-Identifier: MIT */
/*
 * DMA trace files for `uiommu trace`: one transaction a line,
 *
 *     iova,len,r|w[,pasid]
 *
 * numbers as everywhere in the CLI (decimal, 0x hex, '_', K/M/G suffixes),
 * blank lines and '#' comments (to the end of the line) ignored, spaces
 * around fields allowed. The whole file is read and checked before
 * anything is replayed.
 */
#ifndef UIOMMU_TOOLS_TRACEFILE_H
#define UIOMMU_TOOLS_TRACEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_MAX_LEN	(1ULL << 32) /* bytes one transaction may move */
#define TRACE_MAX_PASID 0xfffffu

struct trace_op {
	uint64_t iova;
	uint32_t len_m1; /* length - 1 */
	uint16_t ctx;	 /* what the context callback made of the line's PASID */
	uint8_t write;
};

struct trace {
	char *file; /* as given; "<stdin>" for "-" */
	struct trace_op *ops;
	size_t n, cap;
	uint64_t bytes; /* sum of the lengths */
};

/*
 * Resolve a line's context: its PASID (@has_pasid) or the default. Returns
 * 0 and *ctx, or -1 with a message (without file and line) in @err.
 */
typedef int (*trace_ctx_fn)(void *arg, bool has_pasid, uint32_t pasid, uint16_t *ctx, char *err,
			    size_t errlen);

/*
 * Read @file ("-" for stdin). On error returns -1, frees what it built and
 * writes one line to @err: "FILE:LINE: expected iova,len,r|w[,pasid], got
 * '...'" for a line that is not three or four fields, "FILE:LINE: expected
 * WHAT, got '...'" for the first field that is wrong (an IOVA, a length
 * from 1 to 4G, the access r or w, a PASID), "FILE:LINE: ..." for a range
 * past 2^64 or a PASID the callback refuses, "FILE:LINE: ... got the end
 * of the file ..." when no line holds a transaction (LINE: where the file
 * ends), and "FILE: reason" when it cannot be read.
 */
int trace_load(const char *file, trace_ctx_fn fn, void *arg, struct trace *t, char *err,
	       size_t errlen);
void trace_free(struct trace *t);

#endif
