// SPDX-License-Identifier: MIT
/*
 * fuzz_pt_walk.c - the page-table walkers on random table memory.
 *
 * One source, built once per format family (FUZZ_FAMILY): 0 = VMSA stage 1
 * and 2, 1 = sPAPR TCE, 2 = x86 / VT-d second stage. Each build is both a
 * libFuzzer target (clang, -fsanitize=fuzzer,address,undefined) and, linked
 * with standalone.c, a plain program that replays a corpus for make check.
 *
 * Input: a 40-byte header, then the bytes of the table memory.
 *
 *   0  sel     bit 0 sub-format (S1/S2, x86/VT-d SS); bit 3 (with flags
 *              bit 7) do not steer the address fields of the descriptors
 *              into the arena; bit 4 arena at 2 GiB instead of 0; bit 5
 *              (with flags bit 6) raw root, else an offset; bit 6 raw
 *              iova_base (with its low bits 0b11); bit 7 raw iova (with
 *              bit 7 of access), else the iova is inside the input range
 *   1  flags   PT_CFG_* (low 6 bits); bits 6, 7 see sel
 *   2  granule 3 ias 4 oas  (top 2 bits set: the low 6 bits raw, else a legal pick)
 *   5  sl0     6 levels     7 access (PT_PROT_* bits)
 *   8  iova    16 iova_base 24 root (little-endian u64; TCE: iova_base
 *              low bits 0 window 0, 1 window 1 (1 << 59), 2 aligned)
 *   32 race    with PT_CFG_HW_AD: at the (race % 16)-th read (0: never),
 *   33 bit1    the read callback flips bits bit1 % 64 and bit2 % 64 of the
 *   34 bit2    descriptor just read, as a concurrent writer would
 *   35 ...     reserved (0)
 *   40 ...     table memory: a pt_arena of the input's size rounded up to
 *              4 KiB (4 KiB .. 64 KiB) at base 0 (or 2 GiB), filled with
 *              these bytes repeated (so short random inputs still walk)
 *
 * A configuration pt_cfg_init() refuses is skipped, so formats still being
 * written (their cfg_init says -EOPNOTSUPP) are covered as soon as they land.
 *
 * Invariants, each a __builtin_trap() when broken:
 *  - every descriptor read is 8-byte aligned and lies inside the arena;
 *  - a walk reads at most nlevels descriptors (8 * nlevels with HW A/D,
 *    whose compare-and-swap races restart it);
 *  - a leaf has the size of an entry at a depth where leaves are allowed,
 *    reports that depth's level, came from the last descriptor read, keeps
 *    the page offset, grants the access, and its output is below 2^oas;
 *  - a fault has a known reason and a level within the configured levels;
 *    an input outside the input range (VMSA, TCE) faults before any read;
 *  - without HW A/D, a second walk driven step by step through
 *    pt_walk_begin / pt_walk_step gives exactly the same answer;
 *  - pt_desc_decode() of every descriptor read stays inside its buffer;
 *  - with HW A/D, a walk never completes on a descriptor whose A/D
 *    write-back it requested after another writer changed it (that
 *    compare-and-swap failed; the walk must start again).
 *
 * tests/fuzz/gen_seeds.py writes the seed corpora in this layout;
 * FUZZ_STATS=1 (or 2) prints what the inputs turned into.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt/pt.h"
#include "util/bits.h"

#ifndef FUZZ_FAMILY
#define FUZZ_FAMILY 0
#endif

#define HDR_LEN	  40
#define ARENA_MIN 0x1000u
#define ARENA_MAX 0x10000u
#define MAX_READS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz_pt_walk: invariant broken at line %d: %s\n",    \
				__LINE__, #cond);                                             \
			__builtin_trap();                                                     \
		}                                                                             \
	} while (0)

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* One value in four is taken raw (mostly illegal: cfg_init's checks), the rest picked legal. */
#define RAW(b) (((b)&0xc0) == 0xc0)

static unsigned int pick(const unsigned int *set, unsigned int n, uint8_t b)
{
	return set[b % n];
}

/* ---------------------------------------------------------------------- */
/* Configuration from the header                                          */

static void make_cfg(struct pt_cfg *c, const uint8_t *h)
{
	uint8_t sel = h[0];
	uint64_t base_raw = get_u64(h + 16);

	memset(c, 0, sizeof(*c));
	c->flags = h[1] & 0x3f;
	c->sl0 = (int)(h[5] % 6) - 1;
	c->levels = h[6] % 7;

#if FUZZ_FAMILY == 0
	static const unsigned int g_set[] = { 12, 14, 16 };
	static const unsigned int oas_set[] = { 32, 36, 40, 42, 44, 48 };

	c->format = sel & 1 ? PT_VMSA_S2 : PT_VMSA_S1;
	c->granule_shift = RAW(h[2]) ? h[2] & 0x3f : pick(g_set, 3, h[2]);
	c->ias = RAW(h[3]) ? h[3] & 0x3f : 25 + h[3] % 24;
	c->oas = RAW(h[4]) ? h[4] & 0x3f : pick(oas_set, 6, h[4]);
	if ((base_raw & 3) == 3 && (sel & 0x40))
		c->iova_base = base_raw;
#elif FUZZ_FAMILY == 1
	static const unsigned int g_set[] = { 12, 16, 21, 24 };
	static const unsigned int oas_set[] = { 0, 32, 40, 48, 52, 64 };
	unsigned int g;

	c->format = PT_TCE;
	if (RAW(h[2]))
		g = h[2] & 0x3f;
	else if (h[2] & 0x40)
		g = pick(g_set, 4, h[2]);
	else
		g = 12 + h[2] % 23;
	c->granule_shift = g;
	c->ias = RAW(h[3]) || g >= 58 ? h[3] & 0x3f : g + 1 + h[3] % (59 - g);
	if (RAW(h[4]))
		c->oas = h[4] & 0x3f;
	else if (h[4] & 0x40)
		c->oas = 32 + h[4] % 33u;
	else
		c->oas = pick(oas_set, 6, h[4]);
	if (!c->levels)
		c->levels = 1 + h[6] / 7 % 5;
	/* Window 0, window 1, any aligned start, or raw (mostly misaligned). */
	if ((base_raw & 3) == 1)
		c->iova_base = 1ULL << 59;
	else if ((base_raw & 3) == 2)
		c->iova_base = base_raw & ~mask_bits(c->ias);
	else if ((base_raw & 3) == 3 && (sel & 0x40))
		c->iova_base = base_raw;
#else
	static const unsigned int g_set[] = { 0, 12 };
	static const unsigned int ias_set[] = { 39, 48, 57 };
	static const unsigned int oas_set[] = { 0, 39, 42, 46, 48, 52 };

	c->format = sel & 1 ? PT_VTD_SS : PT_X86;
	c->granule_shift = RAW(h[2]) ? h[2] & 0x3f : pick(g_set, 2, h[2]);
	c->ias = RAW(h[3]) ? h[3] & 0x3f : pick(ias_set, 3, h[3]);
	c->oas = RAW(h[4]) ? h[4] & 0x3f : pick(oas_set, 6, h[4]);
	if ((base_raw & 3) == 3 && (sel & 0x40))
		c->iova_base = base_raw;
#endif
}

/*
 * Rewrite the address field of every descriptor-sized word so that it
 * points inside the arena (keeping every other bit), which makes random
 * inputs walk deep instead of aborting at the first level.
 */
static void steer(const struct pt_cfg *c, struct pt_arena *a)
{
	unsigned int lo = FUZZ_FAMILY == 1 ? 3 : 12;
	uint64_t amask = FUZZ_FAMILY == 1 ? GENMASK(63, 3) : GENMASK(47, 12);
	uint64_t *w = (uint64_t *)a->buf;

	for (uint64_t i = 0; i < a->size / 8; i++) {
		uint64_t v = c->fmt->big_endian ? __builtin_bswap64(w[i]) : w[i];
		uint64_t off = (((v & amask) >> lo) % (a->size >> lo)) << lo;

		v = (v & ~amask) | ((a->base + off) & amask);
		w[i] = c->fmt->big_endian ? __builtin_bswap64(v) : v;
	}
}

/* ---------------------------------------------------------------------- */
/* Invariants                                                             */

struct reads {
	const struct pt_cfg *cfg;
	const struct pt_mem *mem;
	uint64_t lo, hi; /* arena [lo, hi) */
	unsigned int n, limit;
	unsigned int attempt; /* index of the first read of the current attempt */
	/* The simulated concurrent writer: flip race_xor at read number race_at. */
	unsigned int race_at, race_idx;
	uint64_t race_xor;
	bool raced;
	uint64_t addr[MAX_READS], val[MAX_READS];
	int level[MAX_READS];
};

/* Depth of an architectural level, or -1 when the configuration has none. */
static int depth_of(const struct pt_cfg *c, int level)
{
	for (unsigned int d = 0; d < c->nlevels; d++)
		if (pt_level(c, d) == level)
			return (int)d;
	return -1;
}

static void on_read(void *arg, int level, uint64_t addr, uint64_t value)
{
	struct reads *r = arg;
	char buf[96];

	CHECK(r->n < r->limit);
	CHECK(!(addr & 7));
	CHECK(addr >= r->lo && addr <= r->hi - 8);
	CHECK(depth_of(r->cfg, level) >= 0);
	if (depth_of(r->cfg, level) == 0)
		r->attempt = r->n; /* only the first read of an attempt is at depth 0 */
	r->addr[r->n] = addr;
	r->val[r->n] = value;
	r->level[r->n] = level;
	r->n++;
	if (r->race_at && !r->raced && r->n == r->race_at) {
		uint64_t *p = pt_mem_ptr(r->mem, addr, 8);

		*p ^= r->race_xor;
		r->raced = true;
		r->race_idx = r->n - 1;
	}

	memset(buf, 0x5a, sizeof(buf));
	pt_desc_decode(r->cfg, level, value, buf, sizeof(buf));
	CHECK(memchr(buf, 0, sizeof(buf)) != NULL);
}

static bool in_input_range(const struct pt_cfg *c, uint64_t iova)
{
	return iova >= c->iova_base && (c->ias >= 64 || !((iova - c->iova_base) >> c->ias));
}

static void check_leaf(const struct pt_cfg *c, const struct reads *r, uint64_t iova,
		       unsigned int access, const struct pt_leaf *leaf)
{
	int d = depth_of(c, leaf->level);
	unsigned int need = access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);

	CHECK(r->n >= 1);
	CHECK(d >= 0);
	CHECK(c->leaf_ok & BIT(d));
	CHECK(leaf->size == pt_entry_size(c, (unsigned int)d));
	CHECK(leaf->desc_addr == r->addr[r->n - 1]);
	/* With HW A/D a format may report the descriptor as it updated it. */
	if (!(c->flags & PT_CFG_HW_AD))
		CHECK(leaf->desc == r->val[r->n - 1]);
	CHECK((leaf->oa & (leaf->size - 1)) == ((iova - c->iova_base) & (leaf->size - 1)));
	CHECK(!(need & ~leaf->prot));
	if (c->oas && c->oas < 64)
		CHECK(!(leaf->oa >> c->oas));
}

static void check_fault(const struct pt_cfg *c, enum pt_fault_reason res,
			const struct pt_fault *f)
{
	CHECK(res > PT_OK && res < PT_NR_FAULTS);
	CHECK(f->reason == res);
	CHECK(depth_of(c, f->level) >= 0);
}

/*
 * A walk that ended in a leaf after the simulated writer changed a
 * descriptor of its last attempt: replay that attempt from the values it
 * read. If the step that decoded the changed descriptor asked for a
 * write-back of it, the compare-and-swap saw the new value and failed, so
 * pt_walk_mem had to restart rather than finish.
 */
static void check_race(const struct pt_cfg *c, const struct reads *r, uint64_t root,
		       uint64_t iova, unsigned int access)
{
	struct pt_walk w;
	struct pt_leaf lf;
	struct pt_fault f;
	enum pt_step st = pt_walk_begin(c, root, iova, access, &w, &f);

	for (unsigned int i = r->attempt; i < r->n; i++) {
		CHECK(st == PT_STEP_TABLE);
		CHECK(w.desc_addr == r->addr[i]);
		w.wb_valid = false;
		st = pt_walk_step(&w, r->val[i], &lf, &f);
		if (i == r->race_idx)
			CHECK(!(w.wb_valid && w.wb_addr == r->addr[i]));
	}
	CHECK(st == PT_STEP_LEAF);
}

/* The same walk, one step at a time, without pt_walk_mem. */
static enum pt_fault_reason walk_by_steps(const struct pt_cfg *c, const struct pt_mem *mem,
					  uint64_t root, uint64_t iova, unsigned int access,
					  struct pt_leaf *leaf, struct pt_fault *f,
					  unsigned int *reads)
{
	struct pt_walk w;
	enum pt_step st = pt_walk_begin(c, root, iova, access, &w, f);

	*reads = 0;
	while (st == PT_STEP_TABLE) {
		uint64_t desc;

		CHECK(*reads < c->nlevels);
		if (pt_mem_read_desc(c, mem, w.desc_addr, &desc)) {
			f->reason = PT_FAULT_EXT_ABORT;
			f->level = pt_level(c, w.depth);
			f->desc_addr = w.desc_addr;
			return PT_FAULT_EXT_ABORT;
		}
		(*reads)++;
		w.wb_valid = false;
		st = pt_walk_step(&w, desc, leaf, f);
		CHECK(!w.wb_valid); /* no A/D updates without PT_CFG_HW_AD */
	}
	return st == PT_STEP_LEAF ? PT_OK : f->reason;
}

/*
 * FUZZ_STATS=1 in the environment: what the inputs turned into, at exit;
 * FUZZ_STATS=2: also one line per walk (for checking seeds).
 */
static unsigned long st_inputs, st_cfg_ok, st_result[PT_NR_FAULTS], st_reads[PT_MAX_LEVELS + 1];

static int stats_mode(void)
{
	static int mode = -1;

	if (mode < 0) {
		const char *e = getenv("FUZZ_STATS");

		mode = e ? atoi(e) : 0;
	}
	return mode;
}

__attribute__((destructor)) static void print_stats(void)
{
	if (!stats_mode() || !st_inputs)
		return;
	fprintf(stderr, "inputs %lu, configs accepted %lu\n", st_inputs, st_cfg_ok);
	for (int i = 0; i < PT_NR_FAULTS; i++)
		fprintf(stderr, "  %-14s %lu\n", pt_fault_name(i), st_result[i]);
	for (int i = 0; i <= PT_MAX_LEVELS; i++)
		fprintf(stderr, "  %d reads        %lu\n", i, st_reads[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[HDR_LEN] = { 0 };
	struct pt_cfg cfg;
	struct pt_arena arena;
	struct pt_leaf leaf, leaf2;
	struct pt_fault fault, fault2;
	struct reads r;
	enum pt_fault_reason res, res2;
	uint64_t base, asize, iova, root, raw_iova, raw_root;
	unsigned int access, reads2;
	size_t body;

	memcpy(hdr, data, size < HDR_LEN ? size : HDR_LEN);
	make_cfg(&cfg, hdr);
	st_inputs++;
	if (pt_cfg_init(&cfg))
		return 0;
	st_cfg_ok++;

	body = size > HDR_LEN ? size - HDR_LEN : 0;
	asize = ALIGN_UP(body ? body : 1, ARENA_MIN);
	if (asize > ARENA_MAX)
		asize = ARENA_MAX;
	base = hdr[0] & 0x10 ? 0x80000000ULL : 0;
	if (pt_arena_init(&arena, base, asize))
		return 0;
	for (uint64_t off = 0; body && off < asize; off += body)
		memcpy(arena.buf + off, data + HDR_LEN, MIN(body, asize - off));
	if (!((hdr[0] & 0x08) && (hdr[1] & 0x80)))
		steer(&cfg, &arena);

	raw_iova = get_u64(hdr + 8);
	raw_root = get_u64(hdr + 24);
	access = hdr[7] & (PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U);
	if (((hdr[0] & 0x80) && (hdr[7] & 0x80)) || cfg.ias >= 64)
		iova = raw_iova;
	else
		iova = cfg.iova_base + (raw_iova & mask_bits(cfg.ias));
	root = (hdr[0] & 0x20) && (hdr[1] & 0x40) ? raw_root : base + raw_root % asize;

	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	r.lo = base;
	r.hi = base + asize;
	r.limit = cfg.flags & PT_CFG_HW_AD ? 8 * cfg.nlevels : cfg.nlevels;
	r.mem = &arena.mem;
	if (cfg.flags & PT_CFG_HW_AD) {
		r.race_at = hdr[32] % 16;
		r.race_xor = BIT(hdr[33] % 64) | BIT(hdr[34] % 64);
	}
	memset(&leaf, 0, sizeof(leaf));
	memset(&fault, 0, sizeof(fault));
	res = pt_walk_mem(&cfg, &arena.mem, root, iova, access, &leaf, &fault, on_read, &r);

	st_result[res]++;
	if (stats_mode() >= 2)
		fprintf(stderr, "%s ias %u g %u levels %u iova 0x%llx: %s level %d, %u reads%s\n",
			cfg.fmt->name, cfg.ias, cfg.granule_shift, cfg.nlevels,
			(unsigned long long)iova, pt_fault_name(res),
			res == PT_OK ? leaf.level : fault.level, r.n,
			res == PT_OK ? " (leaf)" : "");
	st_reads[MIN(r.n, PT_MAX_LEVELS)]++;
	if (res == PT_OK)
		check_leaf(&cfg, &r, iova, access, &leaf);
	else
		check_fault(&cfg, res, &fault);
	if (res == PT_OK && r.raced && r.race_idx >= r.attempt)
		check_race(&cfg, &r, root, iova, access);
	if (cfg.format != PT_X86 && !in_input_range(&cfg, iova)) {
		/* x86 is left out: canonical upper-half inputs are its own business. */
		CHECK(res == PT_FAULT_TRANSLATION);
		CHECK(r.n == 0);
	}

	if (!(cfg.flags & PT_CFG_HW_AD)) {
		memset(&leaf2, 0, sizeof(leaf2));
		memset(&fault2, 0, sizeof(fault2));
		res2 = walk_by_steps(&cfg, &arena.mem, root, iova, access, &leaf2, &fault2,
				     &reads2);
		CHECK(res2 == res);
		CHECK(reads2 == r.n);
		if (res == PT_OK) {
			CHECK(leaf2.oa == leaf.oa && leaf2.size == leaf.size);
			CHECK(leaf2.prot == leaf.prot && leaf2.level == leaf.level);
			CHECK(leaf2.desc == leaf.desc && leaf2.desc_addr == leaf.desc_addr);
		} else {
			CHECK(fault2.level == fault.level);
			CHECK(fault2.desc_addr == fault.desc_addr);
		}
	}

	pt_arena_destroy(&arena);
	return 0;
}
