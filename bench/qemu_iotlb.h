/* SPDX-License-Identifier: MIT */
/*
 * bench/qemu_iotlb.h - the QEMU-style IOTLB baseline of the cache
 * benchmarks, written here from the description in perf.md §2.1: a GLib
 * GHashTable keyed by a heap-allocated (iova, asid, vmid, tg, level) key
 * with a Jenkins-style hash and an equality callback, entries allocated on
 * every miss, a lookup that probes from the start level down to level 3,
 * and a flush of everything when the table reaches its capacity (256 in
 * QEMU's SMMUv3 model).
 */
#ifndef UIOMMU_BENCH_QEMU_IOTLB_H
#define UIOMMU_BENCH_QEMU_IOTLB_H

#include <stdbool.h>
#include <stdint.h>

#include "xlate/xlate.h"

#define QEMU_SMMU_IOTLB_MAX 256

struct qiotlb;

/* @capacity: entries before the flush-all; @in: the input stage's configuration (levels). */
struct qiotlb *qiotlb_new(unsigned int capacity, const struct pt_cfg *in);
void qiotlb_free(struct qiotlb *q);

/*
 * Translate @iova for @access: the level probe first; on a miss, walk with
 * @xc (whose cache must be NULL) and insert the result. *hit says which.
 * Returns PT_OK and *pa, or the walk's fault (nothing is inserted).
 */
enum pt_fault_reason qiotlb_translate(struct qiotlb *q, const struct xlate_cfg *xc, uint64_t iova,
				      unsigned int access, uint64_t *pa, bool *hit);

struct qiotlb_stats {
	uint64_t hits, misses, flushes, probes;
};
void qiotlb_get_stats(const struct qiotlb *q, struct qiotlb_stats *s);
void qiotlb_reset_stats(struct qiotlb *q);

#endif
