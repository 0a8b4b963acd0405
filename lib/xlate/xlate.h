/* SPDX-License-Identifier: MIT */
/*
 * lib/xlate - the translation engine: one stage or stage 1 over stage 2.
 *
 * In a nested walk every stage-1 descriptor address (the root included) is
 * an IPA: it is translated through stage 2 before it is read, and so is the
 * stage-1 output. A 4-level stage 1 over a 4-level stage 2 therefore reads
 * (4 + 1) * (4 + 1) - 1 = 24 descriptors when nothing is cached.
 *
 * Memory: @mem is physical memory. Stage-2 tables, stage-1 tables (after
 * stage 2) and outputs are all addresses in it; a read outside it is a walk
 * abort, never a stray access.
 *
 * Faults say which stage (1 or 2), the class of the access that failed
 * (SMMUv3 CLASS: CD fetch, stage-1 table walk, or the input transaction),
 * the architectural level and reason, the input address and the IPA
 * involved (the table IPA for a TT fault, the stage-1 output for IN).
 */
#ifndef UIOMMU_XLATE_H
#define UIOMMU_XLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"
#include "xlate/cache.h"

enum xlate_class {
	XLATE_CLASS_CD = 0, /* fetching configuration (CD, PASID entry) through stage 2 */
	XLATE_CLASS_TT = 1, /* fetching a stage-1 table descriptor */
	XLATE_CLASS_IN = 2, /* the transaction's own address */
};

struct xlate_stage {
	const struct pt_cfg *cfg; /* NULL: this stage is off (bypass) */
	uint64_t root;		  /* stage 1: root address (an IPA when stage 2 is on); stage 2: PA */
};

struct xlate_cfg {
	struct xlate_stage s1, s2;
	const struct pt_mem *mem;
	struct xlate_cache *cache; /* NULL: nothing is cached (every translation walks) */
	struct xlate_tag tag;	   /* the context's VMID / ASID in the caches */
};

struct xlate_result {
	uint64_t pa;	     /* output address of the input address */
	uint64_t ipa;	     /* stage-1 output (the input address when stage 1 is off) */
	uint64_t size;	     /* bytes the translation covers: the smaller leaf */
	unsigned int prot;   /* PT_PROT_* allowed by both stages */
	unsigned int s1_prot, s2_prot; /* each stage's own (all bits when that stage is off) */
	int s1_level, s2_level;	       /* leaf levels (-1 when that stage is off) */
	uint64_t s1_size, s2_size;     /* leaf sizes (0 when that stage is off) */
	unsigned int reads;	       /* descriptors read (0 on an IOTLB hit) */
	bool iotlb_hit;		       /* answered by the IOTLB */
};

struct xlate_fault {
	int stage;		   /* 1 or 2 */
	enum xlate_class cls;
	int level;
	enum pt_fault_reason reason;
	uint64_t input_addr;	   /* the IOVA (or the CD address for a CD fetch) */
	uint64_t ipa;		   /* stage-2 faults: the IPA being translated */
	uint64_t desc_addr;	   /* descriptor involved (walk abort: the address that failed) */
};

#define XLATE_MAX_READS 64

struct xlate_read {
	uint8_t stage;	  /* 1 or 2 */
	int8_t level;	  /* architectural level of the descriptor */
	int8_t s1_step;	  /* depth of the stage-1 step this read serves; nlevels(s1) = final IPA
			   * (0 with stage 1 off); -1 for xlate_s2 */
	uint64_t addr;	  /* physical address read */
	uint64_t ipa;	  /* stage 1: the descriptor's IPA; stage 2: the IPA being translated */
	uint64_t value;	  /* the descriptor, CPU byte order */
};

/* A cache lookup that hit and so replaced reads. */
struct xlate_hit {
	uint8_t cache;	/* enum xlate_cache_id */
	uint8_t stage;	/* 1 or 2 (walk caches), 0 otherwise */
	int8_t level;	/* walk caches: the level whose table the hit supplied */
	int8_t s1_step; /* as in struct xlate_read */
	uint8_t combined; /* a combined stage-1 walk-cache entry: out_pa is valid */
	uint64_t addr;	/* the looked-up input: IOVA or IPA */
	uint64_t out;	/* what it gave: table address, PA, or output address */
	uint64_t out_pa; /* combined: the table's PA too (no stage-2 look-up for it) */
};

#define XLATE_MAX_HITS 16

struct xlate_record {
	unsigned int n; /* reads made; entries past XLATE_MAX_READS are counted, not stored */
	struct xlate_read r[XLATE_MAX_READS];
	unsigned int nhits; /* cache hits, in order; past XLATE_MAX_HITS counted only */
	struct xlate_hit hit[XLATE_MAX_HITS];
};

/*
 * Translate @iova for @access (PT_PROT_*). Returns PT_OK with *res filled,
 * or the fault reason with *fault filled and *res unspecified (@res and
 * @fault may be NULL).
 * @rec, when not NULL, gets every descriptor read in order and every cache
 * hit that replaced reads (it is reset first).
 *
 * With cfg->cache, the IOTLB is looked up first (cfg->tag names the
 * context); a miss walks starting below the deepest level the walk caches
 * know, translating table IPAs and the output IPA through the IPA cache,
 * and fills what it walked. Results equal the uncached walk's (tables
 * being left unchanged, or changed and invalidated); faults are never
 * cached, and a walk that faults after using cached state is settled by an
 * uncached walk, so faults are reported exactly as without caches.
 */
enum pt_fault_reason xlate(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
			   struct xlate_result *res, struct xlate_fault *fault,
			   struct xlate_record *rec);

/*
 * Translate @n addresses for @access, each exactly as xlate() would, in
 * order: ret[i] gets its outcome, res[i] its result, fault[i] (when @fault
 * is not NULL) its fault. With caches the context's IOTLB state is read
 * once for the whole batch (which starts when the call does), and runs of
 * hits go through a loop that keeps it in registers, so hits cost a
 * fraction of separate calls; misses walk one by one (and the walk's fill
 * serves later addresses of the batch). Returns how many translated.
 */
unsigned int xlate_batch(const struct xlate_cfg *cfg, const uint64_t *iova, unsigned int n,
			 unsigned int access, struct xlate_result *res, struct xlate_fault *fault,
			 enum pt_fault_reason *ret);

/*
 * Translate @ipa through stage 2 only, as a model does to fetch its own
 * structures (CD, PASID entries) in nested mode. A fault is reported with
 * stage 2, class @cls and input address @input_addr. With stage 2 off the
 * IPA is the PA. Returns PT_OK and *pa, or the fault reason.
 */
enum pt_fault_reason xlate_s2(const struct xlate_cfg *cfg, uint64_t ipa, unsigned int access,
			      enum xlate_class cls, uint64_t input_addr, uint64_t *pa,
			      struct xlate_fault *fault, struct xlate_record *rec);

const char *xlate_class_name(enum xlate_class cls);

#endif
