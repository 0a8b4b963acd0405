// SPDX-License-Identifier: MIT
/*
 * pt.c - the format-independent face of lib/pt: configuration dispatch,
 * the single-stage walk loop over a memory port, and the table object.
 *
 * Nothing here knows a descriptor bit. Each format file supplies a struct
 * pt_fmt; the map / unmap / iterate algorithms themselves are written once
 * in pt_engine.h and instantiated by every format file with its own inline
 * descriptor helpers.
 *
 * The walkers that may run beside map and unmap (pt_walk_mem, so
 * pt_table_walk, and pt_iova_to_phys) are read-side sections of
 * util/epoch.h, so the tables an unmap frees under them are not reused
 * until they are done. pt_for_each_leaf and pt_dump are owner-side: they
 * run with map and unmap serialised against them.
 */
#include <errno.h>
#include <string.h>

#include "pt/pt.h"
#include "util/bits.h"
#include "util/epoch.h"

static const struct pt_fmt *const formats[PT_NR_FORMATS] = {
	[PT_VMSA_S1] = &pt_fmt_vmsa_s1, [PT_VMSA_S2] = &pt_fmt_vmsa_s2,
	[PT_X86] = &pt_fmt_x86,		[PT_VTD_SS] = &pt_fmt_vtd_ss,
	[PT_TCE] = &pt_fmt_tce,
};

static const char *const format_names[PT_NR_FORMATS] = {
	[PT_VMSA_S1] = "vmsa-s1", [PT_VMSA_S2] = "vmsa-s2", [PT_X86] = "x86",
	[PT_VTD_SS] = "vtd-ss",	  [PT_TCE] = "tce",
};

const char *pt_format_name(enum pt_format f)
{
	return (unsigned int)f < PT_NR_FORMATS ? format_names[f] : "?";
}

int pt_format_parse(const char *name)
{
	for (int i = 0; i < PT_NR_FORMATS; i++)
		if (!strcmp(name, format_names[i]))
			return i;
	return -1;
}

const char *pt_fault_name(enum pt_fault_reason r)
{
	static const char *const names[PT_NR_FAULTS] = {
		[PT_OK] = "none",
		[PT_FAULT_TRANSLATION] = "translation",
		[PT_FAULT_ACCESS] = "access-flag",
		[PT_FAULT_PERMISSION] = "permission",
		[PT_FAULT_ADDR_SIZE] = "address-size",
		[PT_FAULT_RESERVED] = "reserved-bits",
		[PT_FAULT_EXT_ABORT] = "walk-abort",
	};
	return (unsigned int)r < PT_NR_FAULTS ? names[r] : "?";
}

int pt_cfg_init(struct pt_cfg *cfg)
{
	const struct pt_fmt *fmt;
	int ret;

	if ((unsigned int)cfg->format >= PT_NR_FORMATS)
		return -EINVAL;
	fmt = formats[cfg->format];
	if (!fmt)
		return -EINVAL;
	cfg->fmt = fmt;
	cfg->nlevels = 0;
	cfg->concat = 1;
	cfg->leaf_ok = 0;
	memset(cfg->shift, 0, sizeof(cfg->shift));
	memset(cfg->bits, 0, sizeof(cfg->bits));
	ret = fmt->cfg_init(cfg);
	if (ret)
		return ret;
	/* Geometry sanity every back end must satisfy. */
	if (!cfg->nlevels || cfg->nlevels > PT_MAX_LEVELS)
		return -EINVAL;
	for (unsigned int d = 0; d < cfg->nlevels; d++)
		if (!cfg->bits[d] || cfg->bits[d] > 24 || cfg->shift[d] + cfg->bits[d] > 64)
			return -EINVAL;
	if (!(cfg->leaf_ok & BIT(cfg->nlevels - 1)))
		return -EINVAL;
	cfg->fast = 0;
	if (cfg->granule_shift == 12 && cfg->nlevels >= 2 && !cfg->iova_base && !fmt->big_endian)
		cfg->fast = cfg->format == PT_VMSA_S1	? PT_FAST_VMSA4K_S1
			    : cfg->format == PT_VMSA_S2 ? PT_FAST_VMSA4K_S2
							: 0;
	return 0;
}

int pt_cfg_geometry_4k_down(struct pt_cfg *c, unsigned int nlevels)
{
	c->nlevels = nlevels;
	if (c->levels && c->levels != c->nlevels)
		return -EINVAL;
	c->start_level = (int)c->nlevels;
	c->level_step = -1;
	for (unsigned int d = 0; d < c->nlevels; d++) {
		unsigned int level = c->nlevels - d;

		c->shift[d] = (uint8_t)(12 + 9 * (level - 1));
		c->bits[d] = 9;
		if (level == 1 || (level == 2 && !(c->flags & PT_CFG_NO_2M)) ||
		    (level == 3 && !(c->flags & PT_CFG_NO_1G)))
			c->leaf_ok |= (uint16_t)BIT(d);
	}
	return 0;
}

enum pt_step pt_walk_begin(const struct pt_cfg *cfg, uint64_t root, uint64_t iova,
			   unsigned int access, struct pt_walk *w, struct pt_fault *fault)
{
	return cfg->fmt->walk_begin(cfg, root, iova, access, w, fault);
}

enum pt_step pt_walk_step(struct pt_walk *w, uint64_t desc, struct pt_leaf *leaf,
			  struct pt_fault *fault)
{
	return w->cfg->fmt->walk_step(w, desc, leaf, fault);
}

void pt_desc_decode(const struct pt_cfg *cfg, int level, uint64_t desc, char *buf, size_t len)
{
	cfg->fmt->decode(cfg, level, desc, buf, len);
}

static enum pt_fault_reason walk_mem(const struct pt_cfg *cfg, const struct pt_mem *mem,
				     uint64_t root, uint64_t iova, unsigned int access,
				     struct pt_leaf *leaf, struct pt_fault *fault, pt_read_fn fn,
				     void *arg)
{
	/* A/D races restart the walk; bound the restarts so a hostile writer cannot spin us. */
	for (int attempt = 0; attempt < 8; attempt++) {
		struct pt_walk w;
		enum pt_step st = pt_walk_begin(cfg, root, iova, access, &w, fault);
		bool restart = false;

		while (st == PT_STEP_TABLE) {
			uint64_t desc;

			if (pt_mem_read_desc(cfg, mem, w.desc_addr, &desc)) {
				*fault = (struct pt_fault){ .reason = PT_FAULT_EXT_ABORT,
							    .level = pt_level(cfg, w.depth),
							    .desc_addr = w.desc_addr };
				return PT_FAULT_EXT_ABORT;
			}
			if (fn)
				fn(arg, pt_level(cfg, w.depth), w.desc_addr, desc);
			w.wb_valid = false;
			st = pt_walk_step(&w, desc, leaf, fault);
			if (w.wb_valid) {
				int ret = pt_mem_cas_desc(cfg, mem, w.wb_addr, w.wb_old, w.wb_new);

				if (ret == -EAGAIN) {
					/* st may be LEAF: the update was lost, so do not finish on it. */
					restart = true;
					break;
				}
				if (ret) {
					*fault = (struct pt_fault){ .reason = PT_FAULT_EXT_ABORT,
								    .level = pt_level(cfg, w.depth),
								    .desc_addr = w.wb_addr };
					return PT_FAULT_EXT_ABORT;
				}
			}
		}
		if (restart)
			continue;
		if (st == PT_STEP_LEAF)
			return PT_OK;
		if (st == PT_STEP_FAULT)
			return fault->reason;
	}
	/* The descriptor kept changing under us: report it as a walk abort. */
	*fault = (struct pt_fault){ .reason = PT_FAULT_EXT_ABORT, .level = cfg->start_level };
	return PT_FAULT_EXT_ABORT;
}

/* A walk may run while an unmap frees tables: it is a read-side section (util/epoch.h). */
enum pt_fault_reason pt_walk_mem(const struct pt_cfg *cfg, const struct pt_mem *mem,
				 uint64_t root, uint64_t iova, unsigned int access,
				 struct pt_leaf *leaf, struct pt_fault *fault, pt_read_fn fn,
				 void *arg)
{
	enum pt_fault_reason r;

	epoch_enter();
	r = walk_mem(cfg, mem, root, iova, access, leaf, fault, fn, arg);
	epoch_exit();
	return r;
}

/* ---------------------------------------------------------------------- */
/* Owned tables                                                           */

int pt_table_init(struct pt_table *t, const struct pt_cfg *cfg, struct pt_mem *mem)
{
	size_t sz;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!cfg->fmt || !mem || !mem->alloc_table)
		return -EINVAL;
	t->cfg = *cfg;
	t->mem = mem;
	t->direct = mem->nr_regions == 1;
	if (t->direct)
		t->host_delta = (uintptr_t)mem->region[0].host - (uintptr_t)mem->region[0].base;
	/* Counters only when every non-root table of the format has one. */
	t->counted = mem->count.max_size && cfg->nlevels > 1;
	for (unsigned int d = 1; d < cfg->nlevels; d++) {
		sz = pt_table_size(cfg, d);
		if (sz < mem->count.min_size || sz > mem->count.max_size || sz / 8 > UINT16_MAX)
			t->counted = false;
	}
	if (t->counted)
		t->count = mem->count;
	t->in_last = cfg->ias < 64 ? (1ULL << cfg->ias) - 1 : UINT64_MAX;
	t->out_last = cfg->oas < 64 ? (1ULL << cfg->oas) - 1 : UINT64_MAX;
	memset(t->depth_of, 0xff, sizeof(t->depth_of));
	for (unsigned int d = 0; d < cfg->nlevels; d++) {
		t->depth_of[cfg->shift[d] & 63] = (uint8_t)d;
		t->idx_mask[d] = (uint32_t)((1ULL << cfg->bits[d]) - 1);
	}
	sz = pt_table_size(cfg, 0);
	ret = mem->alloc_table(mem, sz, 0, &t->root, &t->root_ptr);
	if (ret)
		return ret;
	t->nr_tables = 1;
	t->table_bytes = sz;
	return 0;
}

void pt_table_destroy(struct pt_table *t)
{
	if (!t->root_ptr)
		return;
	t->cfg.fmt->free_all(t);
	t->mem->free_table(t->mem, t->root, t->root_ptr, pt_table_size(&t->cfg, 0));
	t->root_ptr = NULL;
	t->nr_tables = 0;
	t->table_bytes = 0;
}

/* The format's map and unmap fire the trace points themselves: these are plain tail calls. */
int pt_map(struct pt_table *t, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot)
{
	return t->cfg.fmt->map(t, iova, pa, size, prot);
}

int pt_unmap(struct pt_table *t, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	return t->cfg.fmt->unmap(t, iova, size, unmapped);
}

int pt_table_check(const struct pt_table *t, FILE *err)
{
	return t->cfg.fmt->check(t, err);
}

int pt_iova_to_phys(const struct pt_table *t, uint64_t iova, uint64_t *pa)
{
	int ret;

	epoch_enter();
	ret = t->cfg.fmt->iova_to_phys(t, iova, pa);
	epoch_exit();
	return ret;
}

enum pt_fault_reason pt_table_walk(const struct pt_table *t, uint64_t iova, unsigned int access,
				   struct pt_leaf *leaf, struct pt_fault *fault)
{
	return pt_walk_mem(&t->cfg, t->mem, t->root, iova, access, leaf, fault, NULL, NULL);
}

int pt_for_each_leaf(const struct pt_table *t, uint64_t start, uint64_t last, pt_leaf_fn fn,
		     void *arg)
{
	return t->cfg.fmt->for_each_leaf(t, start, last, fn, arg);
}

struct dump_ctx {
	FILE *f;
	const struct pt_table *t;
	uint64_t n;
};

static int dump_leaf(void *arg, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
		     int level)
{
	struct dump_ctx *d = arg;

	fprintf(d->f, "  0x%016llx-0x%016llx -> 0x%016llx  %8llx  %c%c%c%c  L%d\n",
		(unsigned long long)iova, (unsigned long long)(iova + size - 1),
		(unsigned long long)pa, (unsigned long long)size, prot & PT_PROT_R ? 'r' : '-',
		prot & PT_PROT_W ? 'w' : '-', prot & PT_PROT_X ? 'x' : '-',
		prot & PT_PROT_U ? 'u' : '-', level);
	d->n++;
	return 0;
}

void pt_dump(const struct pt_table *t, FILE *f)
{
	struct dump_ctx d = { .f = f, .t = t };

	fprintf(f, "%s table: root 0x%llx, %u levels (start level %d), %llu tables, %llu bytes\n",
		t->cfg.fmt->name, (unsigned long long)t->root, t->cfg.nlevels, t->cfg.start_level,
		(unsigned long long)t->nr_tables, (unsigned long long)t->table_bytes);
	pt_for_each_leaf(t, t->cfg.iova_base, UINT64_MAX, dump_leaf, &d);
	fprintf(f, "  %llu leaves\n", (unsigned long long)d.n);
}
