// SPDX-License-Identifier: MIT
/*
 * xlate.c - a plain nested walk behind lib/xlate/xlate.h, no caches.
 *
 * This is a stand-in written on the cli branch so that `uiommu walk` can be
 * built and tested before the real translation engine lands; the engine's
 * own file replaces it at merge and the CLI relies only on the header.
 *
 * Stage 1 runs over IPAs: before each stage-1 descriptor is read, its
 * address goes through a full stage-2 walk (class TT), and the stage-1
 * output goes through one more (class IN). Every descriptor read is
 * appended to the record in the order it happens, so a 4-level stage 1
 * over an L-level stage 2 records 4 * (L + 1) + L reads when no leaf is a
 * block. Hardware A/D updates are done with a compare-and-swap on the
 * physical address that was read; a lost race restarts the stage walk a
 * bounded number of times and is then reported as a walk abort.
 */
#include <errno.h>
#include <string.h>

#include "xlate/xlate.h"

#define XLATE_RETRIES 8
#define PROT_ALL      (PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U)

static void rec_add(struct xlate_record *rec, int stage, int level, int s1_step, uint64_t addr,
		    uint64_t ipa, uint64_t value)
{
	if (!rec)
		return;
	if (rec->n < XLATE_MAX_READS)
		rec->r[rec->n] = (struct xlate_read){.stage = (uint8_t)stage,
						     .level = (int8_t)level,
						     .s1_step = (int8_t)s1_step,
						     .addr = addr,
						     .ipa = ipa,
						     .value = value};
	rec->n++;
}

static void fault_fill(struct xlate_fault *f, int stage, enum xlate_class cls,
		       const struct pt_fault *pf, uint64_t input, uint64_t ipa)
{
	*f = (struct xlate_fault){.stage = stage,
				  .cls = cls,
				  .level = pf->level,
				  .reason = pf->reason,
				  .input_addr = input,
				  .ipa = ipa,
				  .desc_addr = pf->desc_addr};
}

/* Stage 2 alone: @ipa to a physical address, recording reads under @s1_step. */
static enum pt_fault_reason walk_s2(const struct xlate_cfg *cfg, uint64_t ipa, unsigned int access,
				    int s1_step, struct pt_leaf *leaf, struct pt_fault *pf,
				    struct xlate_record *rec)
{
	const struct pt_cfg *c = cfg->s2.cfg;

	for (int attempt = 0; attempt < XLATE_RETRIES; attempt++) {
		struct pt_walk w;
		enum pt_step st = pt_walk_begin(c, cfg->s2.root, ipa, access, &w, pf);
		bool restart = false;

		while (st == PT_STEP_TABLE) {
			uint64_t desc;

			if (pt_mem_read_desc(c, cfg->mem, w.desc_addr, &desc)) {
				*pf = (struct pt_fault){.reason = PT_FAULT_EXT_ABORT,
							.level = pt_level(c, w.depth),
							.desc_addr = w.desc_addr};
				return PT_FAULT_EXT_ABORT;
			}
			rec_add(rec, 2, pt_level(c, w.depth), s1_step, w.desc_addr, ipa, desc);
			w.wb_valid = false;
			st = pt_walk_step(&w, desc, leaf, pf);
			if (w.wb_valid) {
				int ret =
					pt_mem_cas_desc(c, cfg->mem, w.wb_addr, w.wb_old, w.wb_new);

				if (ret == -EAGAIN) {
					restart = true;
					break;
				}
			}
		}
		if (restart)
			continue;
		return st == PT_STEP_LEAF ? PT_OK : pf->reason;
	}
	*pf = (struct pt_fault){.reason = PT_FAULT_EXT_ABORT, .level = c->start_level};
	return PT_FAULT_EXT_ABORT;
}

enum pt_fault_reason xlate_s2(const struct xlate_cfg *cfg, uint64_t ipa, unsigned int access,
			      enum xlate_class cls, uint64_t input_addr, uint64_t *pa,
			      struct xlate_fault *fault, struct xlate_record *rec)
{
	struct pt_leaf leaf;
	struct pt_fault pf;

	if (!cfg->s2.cfg) {
		*pa = ipa;
		return PT_OK;
	}
	if (walk_s2(cfg, ipa, access, 0, &leaf, &pf, rec)) {
		fault_fill(fault, 2, cls, &pf, input_addr, ipa);
		return pf.reason;
	}
	*pa = leaf.oa;
	return PT_OK;
}

/* Stage 1 over stage 2 (or over physical memory when stage 2 is off). */
static enum pt_fault_reason walk_s1(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
				    struct pt_leaf *leaf, struct xlate_fault *fault,
				    struct xlate_record *rec)
{
	const struct pt_cfg *c = cfg->s1.cfg;
	struct pt_fault pf;

	for (int attempt = 0; attempt < XLATE_RETRIES; attempt++) {
		struct pt_walk w;
		enum pt_step st = pt_walk_begin(c, cfg->s1.root, iova, access, &w, &pf);
		bool restart = false;

		while (st == PT_STEP_TABLE) {
			uint64_t pa = w.desc_addr, desc;

			if (cfg->s2.cfg) {
				struct pt_leaf l2;
				struct pt_fault f2;

				if (walk_s2(cfg, w.desc_addr, PT_PROT_R, (int)w.depth, &l2, &f2,
					    rec)) {
					fault_fill(fault, 2, XLATE_CLASS_TT, &f2, iova,
						   w.desc_addr);
					return f2.reason;
				}
				pa = l2.oa;
			}
			if (pt_mem_read_desc(c, cfg->mem, pa, &desc)) {
				pf = (struct pt_fault){.reason = PT_FAULT_EXT_ABORT,
						       .level = pt_level(c, w.depth),
						       .desc_addr = pa};
				fault_fill(fault, 1, XLATE_CLASS_TT, &pf, iova, w.desc_addr);
				return PT_FAULT_EXT_ABORT;
			}
			rec_add(rec, 1, pt_level(c, w.depth), (int)w.depth, pa, w.desc_addr, desc);
			w.wb_valid = false;
			st = pt_walk_step(&w, desc, leaf, &pf);
			if (w.wb_valid && pt_mem_cas_desc(c, cfg->mem, pa, w.wb_old, w.wb_new)) {
				restart = true;
				break;
			}
		}
		if (restart)
			continue;
		if (st == PT_STEP_LEAF)
			return PT_OK;
		fault_fill(fault, 1, XLATE_CLASS_IN, &pf, iova, 0);
		return pf.reason;
	}
	pf = (struct pt_fault){.reason = PT_FAULT_EXT_ABORT, .level = c->start_level};
	fault_fill(fault, 1, XLATE_CLASS_TT, &pf, iova, 0);
	return PT_FAULT_EXT_ABORT;
}

enum pt_fault_reason xlate(const struct xlate_cfg *cfg, uint64_t iova, unsigned int access,
			   struct xlate_result *res, struct xlate_fault *fault,
			   struct xlate_record *rec)
{
	struct pt_leaf l1 = {0}, l2 = {0};
	struct pt_fault pf;
	enum pt_fault_reason r;
	int final_step = cfg->s1.cfg ? (int)cfg->s1.cfg->nlevels : 0;

	if (rec)
		rec->n = 0;
	memset(res, 0, sizeof(*res));

	res->ipa = iova;
	res->s1_prot = PROT_ALL;
	res->s1_level = -1;
	if (cfg->s1.cfg) {
		r = walk_s1(cfg, iova, access, &l1, fault, rec);
		if (r)
			return r;
		res->ipa = l1.oa;
		res->s1_prot = l1.prot;
		res->s1_level = l1.level;
		res->s1_size = l1.size;
	}

	res->pa = res->ipa;
	res->s2_prot = PROT_ALL;
	res->s2_level = -1;
	if (cfg->s2.cfg) {
		r = walk_s2(cfg, res->ipa, access, final_step, &l2, &pf, rec);
		if (r) {
			fault_fill(fault, 2, XLATE_CLASS_IN, &pf, iova, res->ipa);
			return r;
		}
		res->pa = l2.oa;
		res->s2_prot = l2.prot;
		res->s2_level = l2.level;
		res->s2_size = l2.size;
	}

	res->prot = res->s1_prot & res->s2_prot;
	if (res->s1_size && res->s2_size)
		res->size = res->s1_size < res->s2_size ? res->s1_size : res->s2_size;
	else if (res->s1_size || res->s2_size)
		res->size = res->s1_size | res->s2_size;
	else
		res->size = 4096;
	return PT_OK;
}

const char *xlate_class_name(enum xlate_class cls)
{
	switch (cls) {
	case XLATE_CLASS_CD:
		return "CD";
	case XLATE_CLASS_TT:
		return "TT";
	case XLATE_CLASS_IN:
		return "IN";
	}
	return "?";
}
