// SPDX-License-Identifier: MIT
/*
 * Property tests: every page-table format against a reference model.
 *
 * One test point per configuration (a granule, stage, level count, window).
 * For each, a seeded random sequence of map and unmap calls over a bounded
 * IOVA window is applied both to a real table and to a model: a sorted list
 * of extents (iova, size, pa, prot), one per successful map, cut by unmaps.
 * The model is the definition of what the table must translate:
 *
 *   - map returns -EEXIST exactly when some page of the range is in the
 *     model, and then the table is unchanged (leaves and table counts);
 *     otherwise it succeeds and its leaves are the greedy decomposition
 *     "largest leaf that the alignment of iova and pa allows";
 *   - unmap returns 0 and reports exactly the bytes the model had mapped in
 *     the range, whatever blocks it had to split;
 *   - after every step, iova_to_phys and a full architectural walk agree
 *     with the model on the edges of the touched range, on random pages
 *     inside it, on random pages of the window and inside random extents;
 *     the leaves of the touched range match the model leaf by leaf;
 *   - every 10 steps and at the end, every leaf of the table is compared
 *     with the model and the exact number of tables the leaves need is
 *     computed: nr_tables and table_bytes must equal it (no table is ever
 *     left empty); small windows also get a page-by-page comparison;
 *   - nr_tables never exceeds a bound computed from the model's extents;
 *   - unmapping the whole window leaves only the root.
 *
 * What a leaf's permissions read back as is learned per configuration by
 * mapping one page with every combination first (formats differ in what
 * they can express: VMSA stage 1 has no write-only page); the requested R
 * and W must always be granted, and for VMSA the learned table is checked
 * against the architecture's encoding.
 *
 * Differential points run two tables with different but equivalent
 * configurations (blocks vs PT_CFG_NO_BLOCKS, another start level, another
 * stage) through the same sequence; besides both matching the model, their
 * coalesced translations must be identical.
 *
 * Seeds are fixed per configuration (a hash of its name) so a run is
 * reproducible; a failure prints the seed, the step and the last operations.
 * UIOMMU_SEED overrides the seed of every point, UIOMMU_PROP_ONLY runs one
 * configuration (by name), UIOMMU_PROP_OPS changes the sequence length.
 *
 * Every configuration runs three times, with the same seed, on three
 * memory ports: the host port (per-table counters in its chunks), a copy of
 * it without counters (the engine's scanning fallback) split in two
 * regions (the engine's path for a port that is not one offset), and an
 * arena (its own counter array). After every step pt_table_check() walks each table:
 * every counter must equal the entries of its table, no non-root table may
 * be empty, and nr_tables / table_bytes must match the tables reached.
 *
 * Configurations of formats that pt_cfg_init() refuses with -EOPNOTSUPP
 * (not written yet) are TAP skips, so they run as soon as the format lands.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt/pt.h"
#include "tap.h"
#include "util/bits.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)
#define TIB (1ULL << 40)

#define FULL_EVERY  10	 /* steps between full comparisons */
#define SMALL_PAGES 4096 /* windows with at most this many pages get page-by-page checks */
#define HIST	    8

/* ---------------------------------------------------------------------- */
/* Random numbers: xoshiro256** seeded through splitmix64                 */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n); n > 0. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return h;
}

/* ---------------------------------------------------------------------- */
/* The model: sorted, non-overlapping extents                             */

struct ext {
	uint64_t iova, size, pa;
	unsigned int prot;
};

struct model {
	struct ext *e;
	size_t n, cap;
};

/* Index of the first extent that ends above @iova. */
static size_t model_first_after(const struct model *m, uint64_t iova)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->e[mid].iova + m->e[mid].size - 1 < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct ext *model_lookup(const struct model *m, uint64_t iova)
{
	size_t i = model_first_after(m, iova);

	if (i < m->n && m->e[i].iova <= iova)
		return &m->e[i];
	return NULL;
}

static bool model_overlaps(const struct model *m, uint64_t iova, uint64_t size)
{
	size_t i = model_first_after(m, iova);

	return i < m->n && m->e[i].iova <= iova + size - 1;
}

static void model_insert_at(struct model *m, size_t i, struct ext e)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->e = realloc(m->e, m->cap * sizeof(*m->e));
		TAP_CHECK(m->e, "out of memory");
	}
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(*m->e));
	m->e[i] = e;
	m->n++;
}

static void model_insert(struct model *m, struct ext e)
{
	model_insert_at(m, model_first_after(m, e.iova), e);
}

/* Remove [iova, iova + size); return the bytes that were mapped. */
static uint64_t model_remove(struct model *m, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1, removed = 0;
	size_t i = model_first_after(m, iova);

	while (i < m->n && m->e[i].iova <= last) {
		struct ext e = m->e[i];
		uint64_t elast = e.iova + e.size - 1;
		uint64_t s = e.iova > iova ? e.iova : iova;
		uint64_t l = elast < last ? elast : last;

		removed += l - s + 1;
		memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(*m->e));
		m->n--;
		if (e.iova < iova) {
			struct ext left = e;

			left.size = iova - e.iova;
			model_insert_at(m, i++, left);
		}
		if (elast > last) {
			struct ext right = e;

			right.iova = last + 1;
			right.size = elast - last;
			right.pa = e.pa + (last + 1 - e.iova);
			model_insert_at(m, i++, right);
		}
	}
	return removed;
}

static uint64_t model_bytes_in(const struct model *m, uint64_t start, uint64_t last)
{
	uint64_t bytes = 0;

	for (size_t i = model_first_after(m, start); i < m->n && m->e[i].iova <= last; i++) {
		uint64_t s = m->e[i].iova > start ? m->e[i].iova : start;
		uint64_t elast = m->e[i].iova + m->e[i].size - 1;

		bytes += (elast < last ? elast : last) - s + 1;
	}
	return bytes;
}

/* ---------------------------------------------------------------------- */
/* Configurations                                                         */

struct prop_spec {
	const char *name;
	struct pt_cfg cfg;
	uint64_t win_off, win_size; /* window, relative to cfg.iova_base */
	uint64_t max_leaf;	    /* largest leaf size the generator aims at (0: any) */
	unsigned int ops;	    /* 0: the default */
	/* Differential: a second, equivalent configuration. */
	bool diff;
	struct pt_cfg cfg2;
	unsigned int diff_prot_mask; /* permission bits both must agree on */
};

#define VMSA(st, g, ias_, sl0_) \
	{ .format = PT_VMSA_##st, .granule_shift = (g), .ias = (ias_), .oas = 48, .sl0 = (sl0_) }
#define FMT(f, ias_) { .format = (f), .ias = (ias_), .oas = 48, .sl0 = -1 }
#define TCE(g, ias_, lv, base) \
	{ .format = PT_TCE, .granule_shift = (g), .ias = (ias_), .oas = 48, .levels = (lv), \
	  .iova_base = (base), .sl0 = -1 }

static const struct prop_spec specs[] = {
	/* VMSAv8-64 stage 1, each granule. Windows cross a root entry or touch the top. */
	{ "vmsa-s1-4k-48", VMSA(S1, 12, 48, 0), 512 * GIB - 2 * GIB, 4 * GIB },
	{ "vmsa-s1-4k-39-top", VMSA(S1, 12, 39, 0), (1ULL << 39) - 4 * GIB, 4 * GIB },
	{ "vmsa-s1-16k-48", VMSA(S1, 14, 48, 0), 64 * GIB - 256 * MIB, 512 * MIB },
	{ "vmsa-s1-16k-36-top", VMSA(S1, 14, 36, 0), (1ULL << 36) - 256 * MIB, 256 * MIB },
	{ "vmsa-s1-64k-48-top", VMSA(S1, 16, 48, 0), (1ULL << 48) - 4 * GIB, 4 * GIB },
	{ "vmsa-s1-64k-42", VMSA(S1, 16, 42, 0), 2 * TIB - 2 * GIB, 4 * GIB },
	/* Stage 2: plain roots, concatenated roots (window across two of them), one level. */
	{ "vmsa-s2-4k-48", VMSA(S2, 12, 48, -1), 0, 4 * GIB },
	{ "vmsa-s2-4k-40-concat2", VMSA(S2, 12, 40, -1), 512 * GIB - 2 * GIB, 4 * GIB },
	{ "vmsa-s2-4k-32-concat4-top", VMSA(S2, 12, 32, -1), 2 * GIB, 2 * GIB },
	{ "vmsa-s2-16k-40-concat16", VMSA(S2, 14, 40, -1), 64 * GIB - 256 * MIB, 512 * MIB },
	{ "vmsa-s2-64k-48", VMSA(S2, 16, 48, -1), 4 * TIB - 2 * GIB, 4 * GIB },
	{ "vmsa-s2-64k-33-1level", VMSA(S2, 16, 33, 0), 4 * GIB - 64 * MIB, 128 * MIB },
	/* x86-64 paging (VT-d first stage). */
	{ "x86-4level", FMT(PT_X86, 48), 512 * GIB - 2 * GIB, 4 * GIB },
	{ "x86-5level", FMT(PT_X86, 57), 256 * TIB - 2 * GIB, 4 * GIB },
	/* VT-d second stage. */
	{ "vtd-ss-3level-top", FMT(PT_VTD_SS, 39), (1ULL << 39) - 4 * GIB, 4 * GIB },
	{ "vtd-ss-4level", FMT(PT_VTD_SS, 48), 512 * GIB - 2 * GIB, 4 * GIB },
	{ "vtd-ss-5level", FMT(PT_VTD_SS, 57), 256 * TIB - 2 * GIB, 4 * GIB },
	/* sPAPR TCE: 1..3 levels, 4K and 64K pages, a 64-bit window at 1 << 59. */
	{ "tce-4k-1level", TCE(12, 28, 1, 0), 0, 64 * MIB },
	{ "tce-4k-2level", TCE(12, 32, 2, 0), 2 * GIB - 32 * MIB, 64 * MIB },
	{ "tce-4k-3level", TCE(12, 40, 3, 0), 512 * GIB - 32 * MIB, 64 * MIB },
	{ "tce-64k-1level", TCE(16, 32, 1, 0), 0, 256 * MIB },
	{ "tce-64k-2level-at-2^59", TCE(16, 40, 2, 1ULL << 59), 512 * GIB - 256 * MIB,
	  512 * MIB },
	{ "tce-64k-3level-at-2^59", TCE(16, 48, 3, 1ULL << 59), 4 * TIB - 256 * MIB, 512 * MIB },

	/* Differential pairs. */
	{ "diff-vmsa-s1-4k-blocks-vs-noblocks", VMSA(S1, 12, 48, 0), GIB - 64 * MIB, 128 * MIB,
	  .max_leaf = 2 * MIB, .ops = 800, .diff = true,
	  .cfg2 = { .format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48,
		    .flags = PT_CFG_NO_BLOCKS },
	  .diff_prot_mask = PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U },
	{ "diff-vmsa-s1-64k-blocks-vs-noblocks", VMSA(S1, 16, 48, 0), 0, 2 * GIB, .ops = 400,
	  .diff = true,
	  .cfg2 = { .format = PT_VMSA_S1, .granule_shift = 16, .ias = 48, .oas = 48,
		    .flags = PT_CFG_NO_BLOCKS },
	  .diff_prot_mask = PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U },
	{ "diff-vmsa-s2-4k-40-concat-vs-level0", VMSA(S2, 12, 40, 1), 512 * GIB - 2 * GIB,
	  4 * GIB, .diff = true, .cfg2 = VMSA(S2, 12, 40, 2),
	  .diff_prot_mask = PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U },
	{ "diff-vmsa-16k-s1-vs-s2", VMSA(S1, 14, 48, 0), 64 * GIB - 256 * MIB, 512 * MIB,
	  .diff = true, .cfg2 = VMSA(S2, 14, 48, -1), .diff_prot_mask = PT_PROT_W },
	{ "diff-x86-1g-vs-no1g", FMT(PT_X86, 48), 4 * GIB, 4 * GIB, .diff = true,
	  .cfg2 = { .format = PT_X86, .ias = 48, .oas = 48, .flags = PT_CFG_NO_1G },
	  .diff_prot_mask = PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U },
	{ "diff-vtd-ss-4level-vs-5level", FMT(PT_VTD_SS, 48), 256 * GIB, 4 * GIB, .diff = true,
	  .cfg2 = FMT(PT_VTD_SS, 57), .diff_prot_mask = PT_PROT_R | PT_PROT_W | PT_PROT_X },
	{ "diff-tce-4k-1level-vs-2level", TCE(12, 28, 1, 0), 64 * MIB, 64 * MIB, .diff = true,
	  .cfg2 = TCE(12, 28, 2, 0), .diff_prot_mask = PT_PROT_R | PT_PROT_W },
};

/* ---------------------------------------------------------------------- */
/* Run state                                                              */

enum op_kind { OP_MAP, OP_UNMAP, OP_BAD_MAP, OP_BAD_UNMAP };

struct op {
	enum op_kind kind;
	uint64_t iova, size, pa;
	unsigned int prot;
	long long ret;
	uint64_t unmapped;
};

struct tbl {
	struct pt_table t;
	bool live;
	unsigned int prot_map[16]; /* requested PT_PROT_* -> what the leaf reads back as */
	unsigned int nleaf;
	uint64_t leaf_size[PT_MAX_LEVELS]; /* ascending */
};

/* Where the tables of a run live. */
enum mem_mode { MEM_HOST, MEM_HOST_NO_COUNT, MEM_ARENA, NR_MEM_MODES };

static const char *const mem_mode_suffix[NR_MEM_MODES] = { "", " no-counters", " arena" };

#define ARENA_BASE (1ULL << 44)
#define ARENA_SIZE (256 * MIB)

struct prop {
	const struct prop_spec *s;
	const char *name;
	enum mem_mode mode;
	struct pt_mem host_no_count;
	struct pt_arena arena;
	bool arena_live;
	uint64_t seed;
	struct rng rng;
	struct model m;
	struct tbl tb[2];
	unsigned int ntb;
	uint64_t win_base, win_last, page;
	uint64_t gen[PT_MAX_LEVELS]; /* leaf sizes the generator aims at, ascending */
	unsigned int ngen;
	unsigned int step;
	struct op hist[HIST];
	unsigned int nhist;
	/* statistics, printed as a TAP comment */
	unsigned long n_map, n_eexist, n_unmap, n_bad, max_leaves, max_tables;
	uint64_t bytes_unmapped;
};

static const char *op_name(enum op_kind k)
{
	static const char *const n[] = { "map", "unmap", "bad-map", "bad-unmap" };

	return n[k];
}

static void prop_on_fail(void *arg)
{
	struct prop *p = arg;
	unsigned int n = p->nhist < HIST ? p->nhist : HIST;

	tap_diag("config %s seed 0x%016" PRIx64 " failed at step %u", p->name, p->seed, p->step);
	tap_diag("rerun: UIOMMU_SEED=0x%" PRIx64 " UIOMMU_PROP_ONLY=%s tests/unit/test_pt_property",
		 p->seed, p->name);
	tap_diag("last operations (oldest first):");
	for (unsigned int i = p->nhist - n; i < p->nhist; i++) {
		const struct op *o = &p->hist[i % HIST];

		tap_diag("  #%u %-9s iova 0x%" PRIx64 " size 0x%" PRIx64 " pa 0x%" PRIx64
			 " prot 0x%x -> ret %lld unmapped 0x%" PRIx64,
			 p->step - (p->nhist - 1 - i), op_name(o->kind), o->iova, o->size, o->pa,
			 o->prot, o->ret, o->unmapped);
	}
}

static unsigned int depth_of_level(const struct pt_cfg *c, int level)
{
	return (unsigned int)((level - c->start_level) * c->level_step);
}

static bool leaf_depth_ok(const struct pt_cfg *c, unsigned int d)
{
	if (d >= c->nlevels || !(c->leaf_ok & (1u << d)))
		return false;
	return d == c->nlevels - 1 || !(c->flags & PT_CFG_NO_BLOCKS);
}

static unsigned int leaf_sizes(const struct pt_cfg *c, uint64_t *out)
{
	unsigned int n = 0;

	for (int d = (int)c->nlevels - 1; d >= 0; d--)
		if (leaf_depth_ok(c, (unsigned int)d))
			out[n++] = pt_entry_size(c, (unsigned int)d);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Checks                                                                 */

struct leaf_chk {
	struct prop *p;
	struct tbl *tb;
	uint64_t start, last;
	uint64_t next_min;
	bool any;
	uint64_t covered;
	uint64_t nleaves;
	/* exact table count implied by the leaves (full checks) */
	bool count_tables;
	uint64_t tables[PT_MAX_LEVELS], last_span[PT_MAX_LEVELS];
	bool have_span[PT_MAX_LEVELS];
	/* greedy decomposition of a map just done */
	bool greedy;
	uint64_t g_iova, g_pa, g_end;
	/* coalesced extents (differential) */
	struct model *out;
	unsigned int out_mask;
};

static uint64_t greedy_size(const struct tbl *tb, uint64_t base, uint64_t pos, uint64_t pa,
			    uint64_t end)
{
	for (int i = (int)tb->nleaf - 1; i >= 0; i--) {
		uint64_t e = tb->leaf_size[i];

		if (!((pos - base) & (e - 1)) && !(pa & (e - 1)) && end - pos >= e)
			return e;
	}
	return 0;
}

static int chk_leaf(void *arg, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
		    int level)
{
	struct leaf_chk *k = arg;
	struct prop *p = k->p;
	const struct pt_cfg *c = &k->tb->t.cfg;
	unsigned int depth = depth_of_level(c, level);
	const struct ext *e;
	uint64_t s, l;

	TAP_CHECK(leaf_depth_ok(c, depth), "leaf at level %d (depth %u) not allowed", level, depth);
	TAP_CHECK_EQ(size, pt_entry_size(c, depth), "leaf size at level %d, iova 0x%" PRIx64,
		     level, iova);
	TAP_CHECK(!((iova - c->iova_base) & (size - 1)) && !(pa & (size - 1)),
		  "misaligned leaf iova 0x%" PRIx64 " pa 0x%" PRIx64 " size 0x%" PRIx64, iova, pa,
		  size);
	TAP_CHECK(!k->any || iova >= k->next_min,
		  "leaves out of order or overlapping at 0x%" PRIx64, iova);
	k->any = true;
	k->next_min = iova + size;
	TAP_CHECK(iova >= p->win_base && iova + size - 1 <= p->win_last,
		  "leaf 0x%" PRIx64 "+0x%" PRIx64 " outside the window", iova, size);
	e = model_lookup(&p->m, iova);
	TAP_CHECK(e && e->iova + e->size >= iova + size,
		  "leaf iova 0x%" PRIx64 " size 0x%" PRIx64 " pa 0x%" PRIx64
		  " is not inside one mapped extent of the model",
		  iova, size, pa);
	TAP_CHECK_EQ(pa, e->pa + (iova - e->iova), "leaf pa at iova 0x%" PRIx64, iova);
	TAP_CHECK_EQ(prot, k->tb->prot_map[e->prot], "leaf prot at iova 0x%" PRIx64 " (asked 0x%x)",
		     iova, e->prot);

	s = iova > k->start ? iova : k->start;
	l = iova + size - 1 < k->last ? iova + size - 1 : k->last;
	if (s <= l)
		k->covered += l - s + 1;
	k->nleaves++;

	if (k->count_tables) {
		for (unsigned int d = 1; d <= depth; d++) {
			uint64_t span = (iova - c->iova_base) >> c->shift[d - 1];

			if (!k->have_span[d] || span != k->last_span[d]) {
				k->tables[d]++;
				k->last_span[d] = span;
				k->have_span[d] = true;
			}
		}
	}
	if (k->greedy && iova >= k->g_iova && iova < k->g_end) {
		uint64_t want = greedy_size(k->tb, c->iova_base, iova, k->g_pa + (iova - k->g_iova),
					    k->g_end);

		TAP_CHECK_EQ(size, want, "map did not pick the largest leaf at iova 0x%" PRIx64,
			     iova);
	}
	if (k->out) {
		struct model *o = k->out;
		struct ext *prev = o->n ? &o->e[o->n - 1] : NULL;
		unsigned int pr = prot & k->out_mask;

		if (prev && prev->iova + prev->size == iova && prev->pa + prev->size == pa &&
		    prev->prot == pr)
			prev->size += size;
		else
			model_insert_at(o, o->n, (struct ext){ iova, size, pa, pr });
	}
	return 0;
}

/* Compare the leaves of [start, last] with the model. */
static void check_leaves(struct prop *p, struct tbl *tb, uint64_t start, uint64_t last,
			 struct leaf_chk *k)
{
	uint64_t want;
	int ret;

	k->p = p;
	k->tb = tb;
	k->start = start;
	k->last = last;
	ret = pt_for_each_leaf(&tb->t, start, last, chk_leaf, k);
	TAP_CHECK_EQ(ret, 0, "pt_for_each_leaf");
	want = model_bytes_in(&p->m, start, last);
	TAP_CHECK_EQ(k->covered, want,
		     "bytes mapped in [0x%" PRIx64 ", 0x%" PRIx64 "]: table vs model", start, last);
}

/*
 * Compare the leaves around [start, last]: the range grown to the largest
 * leaf boundaries, which takes in whatever a split at either end produced.
 */
static void check_range(struct prop *p, struct tbl *tb, uint64_t start, uint64_t last)
{
	struct leaf_chk k = { 0 };
	uint64_t big = tb->leaf_size[tb->nleaf - 1], base = tb->t.cfg.iova_base;
	uint64_t s = ALIGN_DOWN(start - base, big) + base;
	uint64_t l = ALIGN_DOWN(last - base, big) + base + (big - 1);

	check_leaves(p, tb, s < p->win_base ? p->win_base : s, l > p->win_last ? p->win_last : l,
		     &k);
}

static void check_point(struct prop *p, struct tbl *tb, uint64_t iova)
{
	const struct ext *e = model_lookup(&p->m, iova);
	uint64_t off = rng_below(&p->rng, p->page) & ~7ULL, pa = 0;
	struct pt_leaf leaf;
	struct pt_fault f;
	int ret = pt_iova_to_phys(&tb->t, iova + off, &pa);

	if (e) {
		uint64_t want = e->pa + (iova - e->iova) + off;
		unsigned int prot = tb->prot_map[e->prot];
		unsigned int access = prot & PT_PROT_R ? PT_PROT_R : PT_PROT_W;
		enum pt_fault_reason r;

		TAP_CHECK_EQ(ret, 0, "iova_to_phys(0x%" PRIx64 ") of a mapped page", iova + off);
		TAP_CHECK_EQ(pa, want, "iova_to_phys(0x%" PRIx64 ")", iova + off);
		r = pt_table_walk(&tb->t, iova + off, access, &leaf, &f);
		TAP_CHECK(r == PT_OK, "walk of mapped iova 0x%" PRIx64 ": %s at level %d",
			  iova + off, pt_fault_name(r), f.level);
		TAP_CHECK_EQ(leaf.oa, want, "walk oa of iova 0x%" PRIx64, iova + off);
		TAP_CHECK_EQ(leaf.prot, prot, "walk prot of iova 0x%" PRIx64, iova + off);
		TAP_CHECK_EQ(leaf.size, pt_entry_size(&tb->t.cfg,
						      depth_of_level(&tb->t.cfg, leaf.level)),
			     "walk leaf size of iova 0x%" PRIx64, iova + off);
	} else {
		TAP_CHECK_EQ(ret, -ENOENT, "iova_to_phys(0x%" PRIx64 ") of an unmapped page",
			     iova + off);
		TAP_CHECK(pt_table_walk(&tb->t, iova + off, PT_PROT_R, &leaf, &f) != PT_OK,
			  "walk of unmapped iova 0x%" PRIx64 " found oa 0x%" PRIx64, iova + off,
			  leaf.oa);
	}
}

/* Upper bound on the tables the model's extents can need. */
static uint64_t table_bound(const struct prop *p, const struct pt_cfg *c)
{
	uint64_t total = 1;

	for (unsigned int d = 1; d < c->nlevels; d++) {
		uint64_t prev = UINT64_MAX;

		for (size_t i = 0; i < p->m.n; i++) {
			const struct ext *e = &p->m.e[i];
			uint64_t first = (e->iova - c->iova_base) >> c->shift[d - 1];
			uint64_t last = (e->iova + e->size - 1 - c->iova_base) >> c->shift[d - 1];

			if (first == prev)
				first++;
			if (first <= last && last != UINT64_MAX)
				total += last - first + 1;
			prev = last;
		}
	}
	return total;
}

static void check_full(struct prop *p, struct tbl *tb)
{
	const struct pt_cfg *c = &tb->t.cfg;
	struct leaf_chk k = { .count_tables = true };
	uint64_t want_tables = 1, want_bytes = pt_table_size(c, 0);

	check_leaves(p, tb, 0, UINT64_MAX, &k);
	for (unsigned int d = 1; d < c->nlevels; d++) {
		want_tables += k.tables[d];
		want_bytes += k.tables[d] * pt_table_size(c, d);
	}
	TAP_CHECK_EQ(tb->t.nr_tables, want_tables, "nr_tables vs the tables %" PRIu64
		     " leaves need (an empty table was kept, or one is missing)", k.nleaves);
	TAP_CHECK_EQ(tb->t.table_bytes, want_bytes, "table_bytes");
	if (k.nleaves > p->max_leaves)
		p->max_leaves = k.nleaves;
	if (want_tables > p->max_tables)
		p->max_tables = want_tables;
	if ((p->win_last - p->win_base + 1) / p->page <= SMALL_PAGES)
		for (uint64_t a = p->win_base; a - 1 != p->win_last; a += p->page)
			check_point(p, tb, a);
}

/* The coalesced translations of both tables must be the same. */
static void check_diff(struct prop *p)
{
	struct model a = { 0 }, b = { 0 };
	struct leaf_chk ka = { .out = &a, .out_mask = p->s->diff_prot_mask };
	struct leaf_chk kb = { .out = &b, .out_mask = p->s->diff_prot_mask };

	check_leaves(p, &p->tb[0], 0, UINT64_MAX, &ka);
	check_leaves(p, &p->tb[1], 0, UINT64_MAX, &kb);
	TAP_CHECK_EQ(a.n, b.n, "differential: number of coalesced extents");
	for (size_t i = 0; i < a.n; i++) {
		TAP_CHECK(a.e[i].iova == b.e[i].iova && a.e[i].size == b.e[i].size &&
				  a.e[i].pa == b.e[i].pa && a.e[i].prot == b.e[i].prot,
			  "differential: extent %zu: 0x%" PRIx64 "+0x%" PRIx64 "->0x%" PRIx64
			  "/%x vs 0x%" PRIx64 "+0x%" PRIx64 "->0x%" PRIx64 "/%x",
			  i, a.e[i].iova, a.e[i].size, a.e[i].pa, a.e[i].prot, b.e[i].iova,
			  b.e[i].size, b.e[i].pa, b.e[i].prot);
	}
	free(a.e);
	free(b.e);
}

/* ---------------------------------------------------------------------- */
/* Operations                                                             */

static struct op *hist_push(struct prop *p, struct op o)
{
	struct op *slot = &p->hist[p->nhist++ % HIST];

	*slot = o;
	return slot;
}

static uint64_t rand_page_in(struct prop *p, uint64_t start, uint64_t last)
{
	return start + rng_below(&p->rng, (last - start) / p->page + 1) * p->page;
}

/* Point checks around one operation's range, in every table. */
static void check_after(struct prop *p, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1;

	for (unsigned int t = 0; t < p->ntb; t++) {
		struct tbl *tb = &p->tb[t];

		check_point(p, tb, iova);
		check_point(p, tb, last + 1 - p->page);
		if (iova > p->win_base)
			check_point(p, tb, iova - p->page);
		if (last < p->win_last)
			check_point(p, tb, last + 1);
		for (int i = 0; i < 3; i++)
			check_point(p, tb, rand_page_in(p, iova, last + 1 - p->page));
		for (int i = 0; i < 3; i++)
			check_point(p, tb, rand_page_in(p, p->win_base, p->win_last + 1 - p->page));
		for (int i = 0; i < 2 && p->m.n; i++) {
			const struct ext *e = &p->m.e[rng_below(&p->rng, p->m.n)];

			check_point(p, tb, rand_page_in(p, e->iova, e->iova + e->size - p->page));
		}
		TAP_CHECK(tb->t.nr_tables <= table_bound(p, &tb->t.cfg),
			  "nr_tables %" PRIu64 " above the bound %" PRIu64 " of the mapped pages",
			  tb->t.nr_tables, table_bound(p, &tb->t.cfg));
	}
}

/* A range for map or unmap: sizes from one page to a few of the largest leaves. */
static void gen_range(struct prop *p, uint64_t *iova, uint64_t *size, uint64_t *gran)
{
	struct rng *r = &p->rng;
	unsigned int li = p->ngen == 1 || rng_below(r, 2) == 0
				  ? 0
				  : 1 + (unsigned int)rng_below(r, p->ngen - 1);
	uint64_t L = p->gen[li], g = L, sz, wsize = p->win_last - p->win_base + 1, slots;

	if (li > 0 && rng_below(r, 10) < 3) {
		/* Not aligned to the leaf size: smaller leaves at the ends. */
		g = p->gen[li - 1];
		if (L / g > 1024)
			g = L / 1024;
	}
	sz = L * (li == 0 ? 1 + rng_below(r, 16) : 1 + rng_below(r, 3));
	if (L > g && rng_below(r, 3) == 0)
		sz += rng_below(r, L / g) * g;
	if (sz > wsize / 2)
		sz = wsize / 2 / g * g;
	if (!sz)
		sz = g;
	slots = (wsize - sz) / g + 1;
	*iova = p->win_base + rng_below(r, slots) * g;
	*size = sz;
	*gran = g;
}

static void snapshot(struct prop *p, uint64_t *nt, uint64_t *nb)
{
	for (unsigned int t = 0; t < p->ntb; t++) {
		nt[t] = p->tb[t].t.nr_tables;
		nb[t] = p->tb[t].t.table_bytes;
	}
}

static void check_unchanged(struct prop *p, const uint64_t *nt, const uint64_t *nb)
{
	for (unsigned int t = 0; t < p->ntb; t++) {
		TAP_CHECK_EQ(p->tb[t].t.nr_tables, nt[t], "nr_tables changed by a failed call");
		TAP_CHECK_EQ(p->tb[t].t.table_bytes, nb[t], "table_bytes changed by a failed call");
	}
}

static void do_map(struct prop *p)
{
	struct rng *r = &p->rng;
	uint64_t iova, size, g, pa, lmax = p->gen[p->ngen - 1], oa_top, slots;
	uint64_t nt[2], nb[2];
	unsigned int prot = (unsigned int)(1 + rng_below(r, 3));
	bool pa_aligned = rng_below(r, 5) != 0;
	bool overlap;
	struct op *o;

	prot |= rng_below(r, 2) ? PT_PROT_X : 0;
	prot |= rng_below(r, 2) ? PT_PROT_U : 0;
	gen_range(p, &iova, &size, &g);
	if (!pa_aligned && size > 512 * p->page)
		size = 512 * p->page; /* all small leaves: keep it cheap */
	oa_top = 1ULL << (p->tb[0].t.cfg.oas < 48 ? p->tb[0].t.cfg.oas : 48);
	slots = (oa_top - size) / lmax;
	if (slots > 1)
		slots--;
	pa = rng_below(r, slots) * lmax;
	if (pa_aligned)
		pa += (iova - p->tb[0].t.cfg.iova_base) & (lmax - 1);
	else
		pa += rng_below(r, lmax / p->page) * p->page;
	if (pa + size > oa_top)
		pa = (oa_top - size) & ~(lmax - 1);

	overlap = model_overlaps(&p->m, iova, size);
	o = hist_push(p, (struct op){ OP_MAP, iova, size, pa, prot, 0, 0 });
	snapshot(p, nt, nb);
	for (unsigned int t = 0; t < p->ntb; t++) {
		int ret = pt_map(&p->tb[t].t, iova, pa, size, prot);

		o->ret = ret;
		TAP_CHECK_EQ(ret, overlap ? -EEXIST : 0, "pt_map on table %u (%s)", t,
			     overlap ? "the model has pages in the range" : "the range is free");
	}
	p->n_map++;
	p->n_eexist += overlap;
	if (overlap) {
		check_unchanged(p, nt, nb);
		for (unsigned int t = 0; t < p->ntb; t++)
			check_range(p, &p->tb[t], iova, iova + size - 1);
	} else {
		model_insert(&p->m, (struct ext){ iova, size, pa, prot });
		for (unsigned int t = 0; t < p->ntb; t++) {
			struct leaf_chk k = { .greedy = true, .g_iova = iova, .g_pa = pa,
					      .g_end = iova + size };

			check_leaves(p, &p->tb[t], iova, iova + size - 1, &k);
		}
	}
	check_after(p, iova, size);
}

static void do_unmap(struct prop *p)
{
	struct rng *r = &p->rng;
	uint64_t iova, size, g, want;
	unsigned int how = (unsigned int)rng_below(r, 100);
	struct op *o;

	if (how < 3) {
		iova = p->win_base;
		size = p->win_last - p->win_base + 1;
	} else if (how < 50 && p->m.n) {
		/* Around an existing extent: often cutting its leaves. */
		const struct ext *e = &p->m.e[rng_below(r, p->m.n)];
		uint64_t pages = e->size / p->page;

		iova = e->iova;
		if (rng_below(r, 3))
			iova += rng_below(r, pages) * p->page;
		if (rng_below(r, 4) == 0) {
			uint64_t back = rng_below(r, 8) * p->page;

			iova = iova - p->win_base >= back ? iova - back : p->win_base;
		}
		size = rng_below(r, 3) == 0 ? e->size : (1 + rng_below(r, pages + 8)) * p->page;
		if (size > p->win_last - iova + 1)
			size = p->win_last - iova + 1;
	} else {
		gen_range(p, &iova, &size, &g);
	}
	want = model_remove(&p->m, iova, size);
	p->n_unmap++;
	p->bytes_unmapped += want;
	o = hist_push(p, (struct op){ OP_UNMAP, iova, size, 0, 0, 0, 0 });
	for (unsigned int t = 0; t < p->ntb; t++) {
		uint64_t unmapped = ~0ULL;
		int ret = pt_unmap(&p->tb[t].t, iova, size, &unmapped);

		o->ret = ret;
		o->unmapped = unmapped;
		TAP_CHECK_EQ(ret, 0, "pt_unmap on table %u", t);
		TAP_CHECK_EQ(unmapped, want, "bytes unmapped by table %u vs the model", t);
		check_range(p, &p->tb[t], iova, iova + size - 1);
	}
	check_after(p, iova, size);
}

/* Calls the contract rejects: nothing may change. */
static void do_bad(struct prop *p)
{
	const struct pt_cfg *c = &p->tb[0].t.cfg;
	uint64_t top = c->ias < 64 ? c->iova_base + (1ULL << c->ias) : 0;
	uint64_t iova = rand_page_in(p, p->win_base, p->win_last + 1 - p->page), size = p->page;
	uint64_t pa = 0x40000000ULL, nt[2], nb[2];
	unsigned int prot = PT_PROT_RW, how = (unsigned int)rng_below(&p->rng, 5);
	bool unmap = false;
	int want = -EINVAL;
	struct op *o;

	switch (how) {
	case 0:
		iova += p->page / 2;
		break;
	case 1:
		size = 0;
		break;
	case 2:
		prot = PT_PROT_X | PT_PROT_U;
		break;
	case 3:
		unmap = true;
		size = p->page + p->page / 2;
		break;
	default:
		if (top && p->win_last == top - 1) {
			iova = top - p->page;
			size = 2 * p->page;
			want = -ERANGE;
			unmap = rng_below(&p->rng, 2);
		} else {
			size = 0;
		}
		break;
	}
	p->n_bad++;
	snapshot(p, nt, nb);
	o = hist_push(p, (struct op){ unmap ? OP_BAD_UNMAP : OP_BAD_MAP, iova, size, pa, prot, 0,
				      0 });
	for (unsigned int t = 0; t < p->ntb; t++) {
		uint64_t unmapped = 0;
		int ret = unmap ? pt_unmap(&p->tb[t].t, iova, size, &unmapped)
				: pt_map(&p->tb[t].t, iova, pa, size, prot);

		o->ret = ret;
		TAP_CHECK_EQ(ret, want, "rejected %s on table %u", unmap ? "unmap" : "map", t);
		TAP_CHECK_EQ(unmapped, 0, "a rejected unmap reported bytes");
	}
	check_unchanged(p, nt, nb);
}

/* ---------------------------------------------------------------------- */
/* Set-up                                                                 */

struct prot_seen {
	unsigned int prot;
	unsigned int n;
};

static int seen_leaf(void *arg, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
		     int level)
{
	struct prot_seen *s = arg;

	s->prot = prot;
	s->n++;
	return 0;
}

/* The VMSA encodings, from the architecture (not from the code under test). */
static unsigned int vmsa_expected_prot(enum pt_format f, unsigned int want)
{
	unsigned int prot = want & (PT_PROT_W | PT_PROT_X);

	if (f == PT_VMSA_S1)
		return prot | PT_PROT_R | (want & PT_PROT_U); /* no write-only pages */
	return prot | (want & PT_PROT_R) | PT_PROT_U; /* stage 2 has no EL0 distinction */
}

static void learn_prot(struct prop *p, struct tbl *tb)
{
	const struct pt_cfg *c = &tb->t.cfg;
	struct pt_table scratch;

	TAP_CHECK_EQ(pt_table_init(&scratch, c, &pt_mem_host), 0, "pt_table_init");
	for (unsigned int want = 1; want < 16; want++) {
		struct prot_seen s = { 0 };
		uint64_t unmapped = 0;

		if (!(want & PT_PROT_RW))
			continue;
		TAP_CHECK_EQ(pt_map(&scratch, p->win_base, 0, p->page, want), 0,
			     "map one page with prot 0x%x", want);
		pt_for_each_leaf(&scratch, p->win_base, p->win_base, seen_leaf, &s);
		TAP_CHECK_EQ(s.n, 1, "leaves after mapping one page");
		TAP_CHECK_EQ(s.prot & want & PT_PROT_RW, want & PT_PROT_RW,
			     "prot 0x%x read back as 0x%x: R/W not granted", want, s.prot);
		if (c->format == PT_VMSA_S1 || c->format == PT_VMSA_S2)
			TAP_CHECK_EQ(s.prot, vmsa_expected_prot(c->format, want),
				     "VMSA prot 0x%x read back", want);
		tb->prot_map[want] = s.prot;
		TAP_CHECK_EQ(pt_unmap(&scratch, p->win_base, p->page, &unmapped), 0, "unmap");
		TAP_CHECK_EQ(unmapped, p->page, "unmapped");
	}
	TAP_CHECK_EQ(scratch.nr_tables, 1, "tables left after unmapping the only page");
	pt_table_destroy(&scratch);
}

static struct pt_mem *prop_mem(struct prop *p)
{
	switch (p->mode) {
	case MEM_HOST_NO_COUNT:
		/* Also two regions (the same identity), so no table is "direct". */
		p->host_no_count = pt_mem_host;
		p->host_no_count.count = (struct pt_count_map){ 0 };
		p->host_no_count.nr_regions = 2;
		p->host_no_count.region[0] =
			(struct pt_mem_region){ .base = 0, .size = 1ULL << 63, .host = NULL };
		p->host_no_count.region[1] = (struct pt_mem_region){
			.base = 1ULL << 63,
			.size = 1ULL << 63,
			.host = (void *)(uintptr_t)(1ULL << 63),
		};
		return &p->host_no_count;
	case MEM_ARENA:
		if (!p->arena_live) {
			TAP_CHECK_EQ(pt_arena_init(&p->arena, ARENA_BASE, ARENA_SIZE), 0,
				     "pt_arena_init");
			p->arena_live = true;
		}
		return &p->arena.mem;
	default:
		return &pt_mem_host;
	}
}

static void tbl_init(struct prop *p, struct tbl *tb, const struct pt_cfg *in)
{
	struct pt_cfg c = *in;
	int ret = pt_cfg_init(&c);
	struct pt_mem *mem;
	bool want_counted;

	if (ret == -EOPNOTSUPP)
		tap_skip("not implemented (%s)", pt_format_name(in->format));
	TAP_CHECK_EQ(ret, 0, "pt_cfg_init");
	mem = prop_mem(p);
	TAP_CHECK_EQ(pt_table_init(&tb->t, &c, mem), 0, "pt_table_init");
	tb->live = true;
	tb->nleaf = leaf_sizes(&c, tb->leaf_size);
	/* Counted exactly when the port has a counter for every non-root table size. */
	want_counted = mem->count.max_size && c.nlevels > 1;
	for (unsigned int d = 1; d < c.nlevels; d++)
		if (pt_table_size(&c, d) < mem->count.min_size ||
		    pt_table_size(&c, d) > mem->count.max_size)
			want_counted = false;
	TAP_CHECK_EQ(tb->t.counted, want_counted, "pt_table_init: counted");
	TAP_CHECK_EQ(tb->t.direct, mem->nr_regions == 1, "pt_table_init: direct");
	TAP_CHECK_EQ(pt_table_check(&tb->t, stderr), 0, "pt_table_check of a new table");
}

static void prop_free(struct prop *p)
{
	for (unsigned int t = 0; t < 2; t++)
		if (p->tb[t].live)
			pt_table_destroy(&p->tb[t].t);
	if (p->arena_live) {
		TAP_CHECK_EQ(p->arena.tables_live, 0, "arena tables left after pt_table_destroy");
		pt_arena_destroy(&p->arena);
	}
	free(p->m.e);
}

/* The counters and the never-empty invariant, in every table. */
static void check_tables(struct prop *p)
{
	for (unsigned int t = 0; t < p->ntb; t++)
		TAP_CHECK_EQ(pt_table_check(&p->tb[t].t, stderr), 0, "pt_table_check of table %u",
			     t);
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static unsigned int default_ops(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 1000; /* ASan / UBSan builds are several times slower */
#else
	return 2000;
#endif
}

/* A test point: a configuration on one of the memory ports. */
struct prop_run {
	const struct prop_spec *s;
	enum mem_mode mode;
	char name[96];
};

static void run_spec(void *arg)
{
	const struct prop_run *run = arg;
	const struct prop_spec *s = run->s;
	static struct prop p; /* static: survives the longjmp of a failed check */
	const char *seed_env = getenv("UIOMMU_SEED");
	unsigned int ops;
	uint64_t unmapped, total;

	prop_free(&p);
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.name = run->name;
	p.mode = run->mode;
	p.seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 0) : name_hash(s->name);
	rng_seed(&p.rng, p.seed);
	tap.on_fail = prop_on_fail;
	tap.on_fail_arg = &p;

	p.ntb = s->diff ? 2 : 1;
	tbl_init(&p, &p.tb[0], &s->cfg);
	if (s->diff)
		tbl_init(&p, &p.tb[1], &s->cfg2);
	p.page = pt_page_size(&p.tb[0].t.cfg);
	if (s->diff)
		TAP_CHECK_EQ(pt_page_size(&p.tb[1].t.cfg), p.page, "differential page sizes");
	p.win_base = p.tb[0].t.cfg.iova_base + s->win_off;
	p.win_last = p.win_base + s->win_size - 1;
	for (unsigned int i = 0; i < p.tb[0].nleaf; i++)
		if (!s->max_leaf || p.tb[0].leaf_size[i] <= s->max_leaf)
			p.gen[p.ngen++] = p.tb[0].leaf_size[i];
	for (unsigned int t = 0; t < p.ntb; t++)
		learn_prot(&p, &p.tb[t]);

	ops = (unsigned int)env_ulong("UIOMMU_PROP_OPS", s->ops ? s->ops : default_ops());
	if (s->ops && !getenv("UIOMMU_PROP_OPS") && ops > default_ops())
		ops = default_ops();
	for (p.step = 1; p.step <= ops; p.step++) {
		unsigned int what = (unsigned int)rng_below(&p.rng, 100);

		if (what < 55)
			do_map(&p);
		else if (what < 96)
			do_unmap(&p);
		else
			do_bad(&p);
		check_tables(&p);
		if (p.step % FULL_EVERY == 0 || p.step == ops) {
			for (unsigned int t = 0; t < p.ntb; t++)
				check_full(&p, &p.tb[t]);
			if (s->diff)
				check_diff(&p);
		}
	}

	/* Unmap the whole window in one call: everything but the root is freed. */
	total = model_remove(&p.m, p.win_base, p.win_last - p.win_base + 1);
	hist_push(&p, (struct op){ OP_UNMAP, p.win_base, p.win_last - p.win_base + 1, 0, 0, 0, 0 });
	for (unsigned int t = 0; t < p.ntb; t++) {
		struct pt_table *t_ = &p.tb[t].t;

		TAP_CHECK_EQ(pt_unmap(t_, p.win_base, p.win_last - p.win_base + 1, &unmapped), 0,
			     "final unmap");
		TAP_CHECK_EQ(unmapped, total, "final unmap bytes");
		TAP_CHECK_EQ(t_->nr_tables, 1, "tables left after unmapping everything");
		TAP_CHECK_EQ(t_->table_bytes, pt_table_size(&t_->cfg, 0), "table bytes left");
		check_full(&p, &p.tb[t]);
	}
	check_tables(&p);
	tap_diag("%s: seed 0x%016" PRIx64 ", %u steps: %lu maps (%lu -EEXIST), %lu unmaps "
		 "(0x%" PRIx64 " bytes), %lu rejected calls; up to %lu leaves in %lu tables",
		 p.name, p.seed, ops, p.n_map, p.n_eexist, p.n_unmap, p.bytes_unmapped, p.n_bad,
		 p.max_leaves, p.max_tables);
	prop_free(&p);
	memset(&p, 0, sizeof(p));
}

int main(void)
{
	const char *only = getenv("UIOMMU_PROP_ONLY");
	unsigned int n = 0;

	static struct prop_run runs[NR_MEM_MODES * ARRAY_SIZE(specs)];

	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		if (!only || !*only || !strcmp(only, specs[i].name))
			n += NR_MEM_MODES;
	tap_plan(n);
	for (unsigned int m = 0; m < NR_MEM_MODES; m++)
		for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
			struct prop_run *r = &runs[m * ARRAY_SIZE(specs) + i];

			if (only && *only && strcmp(only, specs[i].name))
				continue;
			r->s = &specs[i];
			r->mode = (enum mem_mode)m;
			snprintf(r->name, sizeof(r->name), "%s%s", specs[i].name,
				 mem_mode_suffix[m]);
			tap_run(r->name, run_spec, r);
		}
	return tap_done();
}
