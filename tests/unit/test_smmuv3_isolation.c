// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: the isolation property. Whatever a guest writes into its
 * own memory (CDs, CD tables, stage-1 tables) and into the guest-owned
 * fields of its STEs (Config between abort, stage 2 only and nested;
 * S1ContextPtr, S1Fmt, S1CDMax, S1DSS), a DMA only ever reaches memory that
 * the host's stage 2 maps, with the permission it needs, and the SMMU only
 * ever reads the guest's structures through stage 2.
 *
 * The host: 32 MiB of "physical" memory at HBASE. Its lower half holds the
 * stream table, the queues and the stage-2 tables; its upper half holds
 * guest RAM and, between the guest regions, host memory that no stage 2
 * maps. Stage 2 (4K granule, 40-bit IPA, start level 1) maps these regions:
 *
 *   ram0   IPA 0x8000_0000, 2 MiB, RWX (one block)
 *   (hole) IPA 0x8020_0000, 2 MiB: not mapped, as MMIO would be
 *   ram1   IPA 0x8040_0000, 1 MiB, RW
 *   ro     IPA 0x8050_0000, 256 KiB, read-only
 *   wo     IPA 0x8054_0000, 64 KiB, write-only (a stage-1 table here cannot be read)
 *   alias  IPA 0x4000_0000, 1 MiB, RW: the IPA of the host's own tables,
 *          so an IPA used as a PA would read them
 *   high   IPA 0x1_0000_0000, 1 MiB, RW
 *
 * Each round writes random guest structures: STEs (stage-2 fields fixed by
 * the host), CD tables (linear and 2-level, valid and invalid L1CDs), CDs
 * with random T0SZ/TG0/T1SZ/TG1/IPS/EPD0/EPD1/TBI/AA64/ENDI/R/A/S/HA/HD
 * bits, and stage-1 tables (TTB0's and TTB1's) built along random IOVAs
 * (tagged ones too, and addresses in the gap between the ranges), whose
 * descriptors point into RAM, at the hole, beyond the IPA size, at the
 * tables themselves, at the host's addresses, or are garbage. Then random transactions (SID, SSID, address,
 * R/W/X/unprivileged) go to two SMMUs over the same memory: one with
 * (small) caches, one without.
 *
 * Checks, for each transaction and each SMMU:
 *  1. isolation: a translation that succeeds outputs an address inside a
 *     region stage 2 maps with the permission the access needs (the whole
 *     reported run, pa rounded to size);
 *  2. every read the SMMU made (smmuv3_translate_traced): STE fetches in
 *     the stream table; CD and L1CD fetches and stage-1 descriptors in a
 *     region stage 2 maps readable; stage-2 descriptors in host memory
 *     outside every guest region;
 *  3. the outcome equals a reference written from IHI 0070 here (STE and
 *     CD rules, substreams, the nested walk step by step with stage 2 as
 *     the region list above, lib/pt's descriptor decoder): the same PA, or
 *     the same event type, stage (S2), CLASS, InputAddr and IPA, recorded
 *     as CD.R / STE.S2R say, with the record's bytes checked; a stage-2
 *     fault on a CD fetch is CLASS CD, on a stage-1 table fetch CLASS TT
 *     with the table's IPA.
 * The round's seed is printed on failure; ISO_SEED=... reruns one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "smmuv3_env.h"

#define HOST_BASE  0x40000000ULL
#define HOST_SIZE  0x2000000ULL
#define GUEST_HALF (HOST_BASE + 0x1000000ULL) /* guest RAM and unmapped host memory above */
#define NSID	   16
#define ISO_LOG2Q  6 /* 64-entry queues */
#define ROUNDS	   200
#define TXNS	   300
#define POOL	   48

#define FIELD(v, hi, lo) (((v) >> (lo)) & ((2ULL << ((hi) - (lo))) - 1))
#define GMASK(hi, lo)	 (((2ULL << ((hi) - (lo))) - 1) << (lo))

#define R_ PT_PROT_R
#define W_ PT_PROT_W
#define X_ PT_PROT_X

struct region {
	const char *name;
	uint64_t ipa, size, pa;
	unsigned int prot;
};

static const struct region regions[] = {
	{"ram0", 0x80000000ULL, 0x200000, GUEST_HALF + 0x000000, R_ | W_ | X_},
	{"ram1", 0x80400000ULL, 0x100000, GUEST_HALF + 0x400000, R_ | W_},
	{"ro", 0x80500000ULL, 0x40000, GUEST_HALF + 0x500000, R_},
	{"wo", 0x80540000ULL, 0x10000, GUEST_HALF + 0x580000, W_},
	{"alias", HOST_BASE, 0x100000, GUEST_HALF + 0x600000, R_ | W_},
	{"high", 0x100000000ULL, 0x100000, GUEST_HALF + 0x800000, R_ | W_},
};
#define NREG	 (sizeof(regions) / sizeof(regions[0]))
#define HOLE_IPA 0x80200000ULL

struct pool_ent {
	uint32_t ssid;
	uint64_t iova;
};

struct smmu {
	struct smmuv3 *s;
	uint64_t cmdq, evtq;
};

struct iso {
	struct pt_arena host;
	struct pt_table s2;
	uint64_t strtab;
	struct smmu a, b; /* a: caches, b: none */
	uint64_t rng, seed;
	unsigned int round, txn;
	/* guest allocator: next free offset per region, and what was allocated */
	uint64_t next[NREG];
	uint64_t allocs[256];
	unsigned int nallocs;
	struct pool_ent pool[NSID][POOL];
	unsigned int npool[NSID];
	unsigned long n_ok, n_fault, n_cd_cls, n_tt_cls, n_in_s2, n_ttb1_ok, n_gap;
};

#define ISO_FAIL(w, ...)                                                                           \
	do {                                                                                       \
		print_message("isolation: seed 0x%" PRIx64 " round %u txn %u (ISO_SEED=0x%" PRIx64 \
			      " reruns it)\n",                                                     \
			      (w)->seed, (w)->round, (w)->txn, (w)->seed);                         \
		fail_msg(__VA_ARGS__);                                                             \
	} while (0)
#define ISO_CHECK(w, cond, ...)                   \
	do {                                      \
		if (!(cond))                      \
			ISO_FAIL(w, __VA_ARGS__); \
	} while (0)

static uint64_t rnd(struct iso *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int pct(struct iso *w)
{
	return (unsigned int)(rnd(w) % 100);
}

static void *hp(struct iso *w, uint64_t pa)
{
	return w->host.buf + (pa - HOST_BASE);
}

/* The region holding IPA range [ipa, ipa + len), or NULL. */
static const struct region *reg_of_ipa(uint64_t ipa, uint64_t len)
{
	for (unsigned int i = 0; i < NREG; i++)
		if (ipa >= regions[i].ipa && ipa - regions[i].ipa + len <= regions[i].size)
			return &regions[i];
	return NULL;
}

static const struct region *reg_of_pa(uint64_t pa, uint64_t len)
{
	for (unsigned int i = 0; i < NREG; i++)
		if (pa >= regions[i].pa && pa - regions[i].pa + len <= regions[i].size)
			return &regions[i];
	return NULL;
}

static bool overlaps_guest(uint64_t pa, uint64_t len)
{
	for (unsigned int i = 0; i < NREG; i++)
		if (pa < regions[i].pa + regions[i].size && regions[i].pa < pa + len)
			return true;
	return false;
}

/* Host pointer of guest memory at @ipa (whole @len inside one region), or NULL. */
static uint64_t *gptr(struct iso *w, uint64_t ipa, uint64_t len)
{
	const struct region *r = reg_of_ipa(ipa, len);

	return r ? hp(w, r->pa + (ipa - r->ipa)) : NULL;
}

/* ---------------------------------------------------------------------- */
/* Guest structure generation                                             */

/* Guest memory for a table: @size bytes aligned to @size, in a random region (0: none left). */
static uint64_t g_alloc(struct iso *w, uint64_t size)
{
	/* ram0 30%, ram1 25%, ro 10%, wo 5%, alias 10%, high 20% */
	static const unsigned int weight[NREG] = {30, 55, 65, 70, 80, 100};

	for (unsigned int tries = 0; tries < 4; tries++) {
		unsigned int i = 0, p = pct(w);
		const struct region *r;

		while (p >= weight[i])
			i++;
		r = &regions[i];
		uint64_t off = (w->next[i] + size - 1) & ~(size - 1);

		if (off + size > r->size)
			continue;
		w->next[i] = off + size;
		if (w->nallocs < 256)
			w->allocs[w->nallocs++] = r->ipa + off;
		return r->ipa + off;
	}
	return 0;
}

/* An IPA a guest might write: mostly in RAM, sometimes anywhere that hurts. */
static uint64_t ipa_pick(struct iso *w, uint64_t align)
{
	unsigned int p = pct(w);
	uint64_t ipa;

	if (p < 60 || pct(w) < 40) {
		const struct region *r = &regions[rnd(w) % NREG];

		ipa = r->ipa + rnd(w) % r->size;
	} else if (p < 70) {
		ipa = HOLE_IPA + rnd(w) % 0x200000;
	} else if (p < 78 && w->nallocs) {
		ipa = w->allocs[rnd(w) % w->nallocs] + (rnd(w) % 8) * 8; /* the tables themselves */
	} else if (p < 84) {
		ipa = (1ULL << 40) + rnd(w) % (1ULL << 47); /* beyond stage 2's 40 bits */
	} else if (p < 90) {
		ipa = HOST_BASE + rnd(w) % HOST_SIZE; /* the host's own addresses */
	} else if (p < 95) {
		ipa = rnd(w) & 0xffffffffULL;
	} else {
		ipa = rnd(w) & ((1ULL << 48) - 1);
	}
	return ipa & ~(align - 1);
}

/* One stage-1 descriptor for depth @d of @c: tables, leaves, invalid, garbage. */
static uint64_t gen_desc(struct iso *w, const struct pt_cfg *c, unsigned int d)
{
	bool last = d == c->nlevels - 1, leaf_ok = c->leaf_ok & (1u << d);
	uint64_t g = 1ULL << c->granule_shift, desc;
	unsigned int p = pct(w);

	if (p < 5)
		return 0;
	if (p < 9)
		return rnd(w); /* garbage */
	if (!last && (p < 75 || !leaf_ok)) {
		uint64_t next = pct(w) < 85 ? g_alloc(w, g) : 0;

		if (!next)
			next = ipa_pick(w, g);
		desc = next | 3;
		if (pct(w) < 10)
			desc |= (rnd(w) & 0xfULL) << 59; /* PXNTable, UXNTable, APTable */
		return desc;
	}
	desc = ipa_pick(w, pt_entry_size(c, d)) | (last ? 3 : 1);
	if (pct(w) < 90)
		desc |= 1ULL << 10;	/* AF */
	desc |= (rnd(w) & 3) << 6;	/* AP[2:1] */
	desc |= (rnd(w) & 3) << 53;	/* PXN, UXN */
	desc |= 3ULL << 8 | 1ULL << 11; /* SH, nG */
	return desc;
}

/* Write descriptors along the walk of @iova (wherever the walk reads inside guest RAM). */
static void build_path(struct iso *w, const struct pt_cfg *c, uint64_t root, uint64_t iova)
{
	struct pt_walk wk;
	struct pt_leaf leaf;
	struct pt_fault f;
	enum pt_step st = pt_walk_begin(c, root, iova, PT_PROT_R, &wk, &f);

	for (unsigned int n = 0; st == PT_STEP_TABLE && n < c->nlevels; n++) {
		uint64_t *p = gptr(w, wk.desc_addr, 8);

		if (!p)
			return;
		if (!*p)
			*p = gen_desc(w, c, wk.depth);
		st = pt_walk_step(&wk, *p, &leaf, &f);
	}
}

static void pool_add(struct iso *w, uint32_t sid, uint32_t ssid, uint64_t iova)
{
	if (w->npool[sid] < POOL)
		w->pool[sid][w->npool[sid]++] = (struct pool_ent){ssid, iova};
}

/* A CD at @cd_ipa (if it lies in RAM) and stage-1 tables for a few IOVAs of it. */
static const unsigned int ips_bits[8] = {32, 36, 40, 42, 44, 48, 48, 48};

/* A stage-1 root for @c: fresh guest memory mostly, else any IPA. */
static uint64_t gen_root(struct iso *w, const struct pt_cfg *c)
{
	uint64_t root = pct(w) < 85 ? g_alloc(w, pt_table_size(c, 0) < 4096 ? 4096
									  : pt_table_size(c, 0))
				    : 0;

	return root ? root : ipa_pick(w, 16);
}

/* A random top byte for a tagged address (TBI), or none. */
static uint64_t gen_tag(struct iso *w, uint64_t va)
{
	return pct(w) < 50 ? (va & ~GMASK(63, 56)) | (rnd(w) & GMASK(63, 56)) : va;
}

static void gen_cd(struct iso *w, uint32_t sid, uint32_t ssid, uint64_t cd_ipa)
{
	static const unsigned int tg_shift[3] = {12, 16, 14}, tg1_shift[4] = {12, 14, 12, 16};
	uint64_t *cd = gptr(w, cd_ipa, 64);
	unsigned int tg0 = pct(w) < 60 ? 0 : pct(w) < 90 ? 1 + (unsigned int)(rnd(w) % 2) : 3;
	unsigned int t0sz =
		pct(w) < 90 ? 16 + (unsigned int)(rnd(w) % 24) : (unsigned int)(rnd(w) % 64);
	/* TTB1: TG1 0b01 16K, 0b10 4K, 0b11 64K, 0b00 Reserved (C_BAD_CD unless EPD1). */
	unsigned int tg1 = pct(w) < 95 ? 1 + (unsigned int)(rnd(w) % 3) : 0;
	unsigned int t1sz =
		pct(w) < 90 ? 16 + (unsigned int)(rnd(w) % 24) : (unsigned int)(rnd(w) % 64);
	unsigned int ips = pct(w) < 60 ? 5 : (unsigned int)(rnd(w) % 8);
	bool ttb1 = pct(w) < 40;
	struct pt_cfg c, c1;
	uint64_t q0, root, root1;

	if (!cd)
		return;
	q0 = CD0_T0SZ(t0sz) | CD0_TG0(tg0) | CD0_IPS(ips) | CD0_ASID(rnd(w) % 8);
	q0 |= pct(w) < 96 ? CD0_V : 0;
	q0 |= pct(w) < 97 ? CD0_AA64 : 0;
	q0 |= pct(w) < 97 ? CD0_A : 0;
	q0 |= pct(w) < 80 ? CD0_R : 0;
	q0 |= pct(w) < 30 ? CD0_AFFD : 0;
	q0 |= pct(w) < 4 ? CD0_EPD0 : 0;
	q0 |= pct(w) < 3 ? CD0_ENDI : 0;
	q0 |= pct(w) < 3 ? CD0_HD : 0;
	q0 |= pct(w) < 3 ? CD0_S : 0;
	q0 |= pct(w) < 3 ? 1ULL << 43 : 0; /* HA */
	q0 |= pct(w) < 30 ? (rnd(w) & 3) << 38 : 0; /* TBI */
	/* EPD1 mostly when TTB1 is not set up; T1SZ / TG1 are then IGNORED, often garbage. */
	if (ttb1)
		q0 |= CD0_T1SZ(t1sz) | CD0_TG1(tg1) | (pct(w) < 4 ? CD0_EPD1 : 0);
	else
		q0 |= (pct(w) < 97 ? CD0_EPD1 : 0) | (pct(w) < 50 ? rnd(w) & GMASK(23, 16) : 0);
	c = (struct pt_cfg){.format = PT_VMSA_S1,
			    .granule_shift = tg0 < 3 ? tg_shift[tg0] : 12,
			    .ias = 64 - (t0sz < 16 || t0sz > 39 ? 39 : t0sz),
			    .oas = ips_bits[ips],
			    .sl0 = -1};
	assert_int_equal(pt_cfg_init(&c), 0);
	c1 = (struct pt_cfg){.format = PT_VMSA_S1,
			     .granule_shift = tg1_shift[tg1],
			     .ias = 64 - (t1sz < 16 || t1sz > 39 ? 39 : t1sz),
			     .oas = ips_bits[ips],
			     .sl0 = -1};
	assert_int_equal(pt_cfg_init(&c1), 0);
	root = gen_root(w, &c);
	root1 = ttb1 ? gen_root(w, &c1) : (pct(w) < 50 ? rnd(w) : 0);
	cd[0] = q0;
	cd[1] = root | (pct(w) < 5 ? rnd(w) & 0xf : 0);
	cd[2] = root1 | (pct(w) < 5 ? rnd(w) & 0xf : 0);
	for (unsigned int k = 0; k < 3; k++) {
		uint64_t iova = rnd(w) & ((1ULL << c.ias) - 1);

		build_path(w, &c, root, iova);
		pool_add(w, sid, ssid, pct(w) < 20 ? gen_tag(w, iova) : iova);
	}
	for (unsigned int k = 0; ttb1 && k < 3; k++) {
		uint64_t low = rnd(w) & ((1ULL << c1.ias) - 1), va = ~0ULL << c1.ias | low;

		build_path(w, &c1, root1, low);
		pool_add(w, sid, ssid, pct(w) < 20 ? gen_tag(w, va) : va);
	}
	if (pct(w) < 20) { /* the gap between the ranges, whatever TBI says */
		uint64_t g = rnd(w);

		g = pct(w) < 50 ? (g | 1ULL << 54) & ~(1ULL << 55) : (g | 1ULL << 55) & ~(1ULL << 50);
		pool_add(w, sid, ssid, g);
	}
}

static uint64_t *ste_ptr(struct iso *w, uint32_t sid)
{
	return hp(w, w->strtab + (uint64_t)sid * 64);
}

static void gen_ste(struct iso *w, uint32_t sid)
{
	uint64_t *ste = ste_ptr(w, sid), q0 = 0, q1 = 0, ptr;
	unsigned int p = pct(w), cdmax, fmt;

	memset(ste, 0, 64);
	q0 |= pct(w) < 97 ? STE0_V : 0;
	q0 |= p < 8 ? STE0_CFG(rnd(w) % 4) : p < 22 ? STE0_CFG(6) : STE0_CFG(7);
	p = pct(w);
	cdmax = p < 45	 ? 0
		: p < 80 ? 1 + (unsigned int)(rnd(w) % 3)
		: p < 95 ? 4 + (unsigned int)(rnd(w) % 8)
			 : 21 + (unsigned int)(rnd(w) % 11);
	p = pct(w);
	fmt = p < 60 ? 0 : p < 75 ? 1 : p < 90 ? 2 : 3;
	q0 |= STE0_CDMAX(cdmax) | STE0_S1FMT(fmt);
	q1 |= STE1_S1DSS(rnd(w) % 4);
	q1 |= pct(w) < 10 ? (rnd(w) & 3) << 28 : 0; /* EATS: IGNORED */
	if ((q0 & STE0_CFG(7)) == STE0_CFG(6) && pct(w) < 10)
		q1 |= (rnd(w) & 3) << 30; /* STRW: IGNORED with stage 2 */

	ptr = 0;
	if (cdmax && (fmt == 1 || fmt == 2) && pct(w) < 90) {
		unsigned int split = fmt == 1 ? 6 : 10;
		uint64_t l1 = g_alloc(w, 4096);

		for (uint32_t i = 0; l1 && i < 4; i++) {
			uint64_t *l1cd = gptr(w, l1 + i * 8, 8), l2 = 0;

			if (pct(w) < 80)
				l2 = g_alloc(w, fmt == 1 ? 4096 : 0x10000);
			if (!l2)
				l2 = ipa_pick(w, 4096);
			*l1cd = l2 | (pct(w) < 85 ? 1 : 0);
			for (uint32_t j = 0; j < 3; j++) {
				uint32_t ssid = i << split | j, first = w->npool[sid];

				gen_cd(w, sid, ssid, l2 + (uint64_t)j * 64);
				/* CD 0 also serves traffic without SSID (S1DSS = SSID0). */
				for (uint32_t k = first; ssid == 0 && k < w->npool[sid]; k++)
					if (pct(w) < 50)
						w->pool[sid][k].ssid = SMMU_NO_SSID;
			}
		}
		ptr = l1;
	} else if (pct(w) < 92) {
		unsigned int n = cdmax ? 1u << (cdmax < 3 ? cdmax : 3) : 1;

		ptr = g_alloc(w, 4096);
		for (uint32_t i = 0; ptr && i < n; i++) {
			uint32_t first = w->npool[sid];

			gen_cd(w, sid, cdmax ? i : SMMU_NO_SSID, ptr + (uint64_t)i * 64);
			for (uint32_t k = first; cdmax && i == 0 && k < w->npool[sid]; k++)
				if (pct(w) < 50)
					w->pool[sid][k].ssid = SMMU_NO_SSID;
		}
	}
	if (!ptr)
		ptr = ipa_pick(w, 64);
	if ((q0 & STE0_CFG(7)) == STE0_CFG(6)) {
		/* Stage 2 only: traffic mostly without SSID, at IPAs. */
		w->npool[sid] = 0;
		for (unsigned int k = 0; k < 8; k++)
			pool_add(w, sid, pct(w) < 90 ? SMMU_NO_SSID : 0, ipa_pick(w, 8));
	}
	ste[0] = q0 | ptr;
	ste[1] = q1;
	ste[2] = ste2_std((uint16_t)(1 + sid % 4), 40, 1) & (pct(w) < 80 ? ~0ULL : ~STE2_R);
	ste[3] = w->s2.root;
}

static void gen_round(struct iso *w)
{
	for (unsigned int i = 0; i < NREG; i++) {
		uint64_t *p = hp(w, regions[i].pa);

		memset(p, 0, regions[i].size);
		/* Some noise in a few pages. */
		for (uint64_t off = 0; off < regions[i].size; off += 4096)
			if (pct(w) < 3)
				for (unsigned int k = 0; k < 512; k++)
					p[off / 8 + k] = pct(w) < 50 ? rnd(w) : 0;
		w->next[i] = 0;
	}
	w->nallocs = 0;
	memset(w->npool, 0, sizeof(w->npool));
	for (uint32_t sid = 0; sid < NSID; sid++)
		gen_ste(w, sid);
}

/* ---------------------------------------------------------------------- */
/* The reference                                                           */

struct ref {
	int ret;
	uint64_t pa;
	enum smmuv3_event_type ev;
	bool record, record_known;
	bool fault; /* a translation fault record (S2, CLASS, addresses meaningful) */
	bool s2;
	unsigned int cls;
	uint64_t ipa;
	int ttb; /* the stage-1 table selected (-1: none, or no stage 1) */
};

static void ref_config(struct ref *o, enum smmuv3_event_type ev)
{
	*o = (struct ref){.ret = -EFAULT, .ev = ev, .record = true, .record_known = true};
}

static void ref_fault(struct ref *o, enum pt_fault_reason r, bool s2, unsigned int cls,
		      uint64_t ipa, bool record)
{
	static const enum smmuv3_event_type map[PT_NR_FAULTS] = {
		[PT_FAULT_TRANSLATION] = SMMU_EVT_F_TRANSLATION,
		[PT_FAULT_ACCESS] = SMMU_EVT_F_ACCESS,
		[PT_FAULT_PERMISSION] = SMMU_EVT_F_PERMISSION,
		[PT_FAULT_ADDR_SIZE] = SMMU_EVT_F_ADDR_SIZE,
		[PT_FAULT_RESERVED] = SMMU_EVT_F_TRANSLATION,
		[PT_FAULT_EXT_ABORT] = SMMU_EVT_F_WALK_EABT,
	};

	*o = (struct ref){.ret = -EFAULT,
			  .ev = map[r],
			  .record = record,
			  .record_known = true,
			  .fault = true,
			  .s2 = s2,
			  .cls = cls,
			  .ipa = s2 ? ipa : 0};
}

/* Stage 2 as the region list: PT_OK and *pa, or the fault reason. */
static enum pt_fault_reason ref_s2(uint64_t ipa, unsigned int need, uint64_t *pa)
{
	const struct region *r;

	if (ipa >> 40)
		return PT_FAULT_TRANSLATION;
	r = reg_of_ipa(ipa, 1);
	if (!r)
		return PT_FAULT_TRANSLATION;
	if (need & ~r->prot)
		return PT_FAULT_PERMISSION;
	*pa = r->pa + (ipa - r->ipa);
	return PT_OK;
}

/* Read @n qwords of guest structure at @ipa through stage 2 (class CD); false: *o is the fault. */
static bool ref_fetch(struct iso *w, uint64_t ipa, uint64_t *qw, unsigned int n, bool s2r,
		      struct ref *o)
{
	enum pt_fault_reason r;
	uint64_t pa;

	r = ref_s2(ipa, R_, &pa);
	if (r) {
		ref_fault(o, r, true, XLATE_CLASS_CD, ipa, s2r);
		return false;
	}
	memcpy(qw, hp(w, pa), n * 8);
	return true;
}

static void ref_s2_only(uint64_t addr, unsigned int access, bool s2r, struct ref *o)
{
	enum pt_fault_reason r;
	uint64_t pa;

	if (addr >> 48) {
		/* §5.2 S1DSS 0b01 / Config 0b1x0: stage-1 address size fault (IAS = 48). */
		ref_fault(o, PT_FAULT_ADDR_SIZE, false, XLATE_CLASS_IN, 0, s2r);
		o->record_known = false;
		return;
	}
	r = ref_s2(addr, access & (R_ | W_ | X_), &pa);
	if (r)
		ref_fault(o, r, true, XLATE_CLASS_IN, addr, s2r);
	else
		*o = (struct ref){.ret = 0, .pa = pa};
}

static void ref_translate(struct iso *w, uint32_t sid, uint32_t ssid, uint64_t addr,
			  unsigned int access, struct ref *o)
{
	static const unsigned int tg_shift[3] = {12, 16, 14}, tg1_shift[4] = {0, 14, 12, 16};
	bool ssv = ssid != SMMU_NO_SSID, s2r, cdr, epd0, epd1, b55;
	uint64_t ste[8], cd[8], ptr, cd_ipa, root, root1, va;
	unsigned int config, cdmax, fmt, s1dss, t0sz, tg0, t1sz, tg1, oas;
	struct pt_cfg c1;
	struct pt_walk wk;
	struct pt_leaf leaf;
	struct pt_fault f;
	enum pt_step st;

	if (sid >= NSID) {
		ref_config(o, SMMU_EVT_C_BAD_STREAMID); /* CR2.RECINVSID is set */
		return;
	}
	memcpy(ste, ste_ptr(w, sid), 64);
	config = FIELD(ste[0], 3, 1);
	if (!(ste[0] & 1)) {
		ref_config(o, SMMU_EVT_C_BAD_STE);
		return;
	}
	if (!(config & 4)) {
		*o = (struct ref){.ret = -EFAULT, .ev = SMMU_EVT_NONE, .record_known = true};
		return;
	}
	s2r = ste[2] & STE2_R;
	if (config == 6) {
		if (ssv)
			ref_config(o, SMMU_EVT_C_BAD_SUBSTREAMID);
		else
			ref_s2_only(addr, access, s2r, o);
		return;
	}
	/* config 7: nested. §5.2 S1CDMax, S1Fmt, S1DSS. */
	cdmax = FIELD(ste[0], 63, 59);
	fmt = FIELD(ste[0], 5, 4);
	s1dss = FIELD(ste[1], 1, 0);
	ptr = ste[0] & GMASK(51, 6);
	if (cdmax > 20) {
		ref_config(o, SMMU_EVT_C_BAD_STE);
		return;
	}
	fmt = fmt == 3 ? 0 : fmt;
	s1dss = s1dss == 3 ? 0 : s1dss;
	if (!cdmax) {
		if (ssv) {
			ref_config(o, SMMU_EVT_C_BAD_SUBSTREAMID);
			return;
		}
		ssid = 0;
		fmt = 0;
	} else if (!ssv) {
		if (s1dss == 0) {
			ref_config(o, SMMU_EVT_F_STREAM_DISABLED);
			return;
		}
		if (s1dss == 1) {
			ref_s2_only(addr, access, s2r, o);
			return;
		}
		ssid = 0;
	} else if (ssid >> cdmax) {
		ref_config(o, SMMU_EVT_C_BAD_SUBSTREAMID);
		return;
	} else if (s1dss == 2 && ssid == 0) {
		ref_config(o, SMMU_EVT_F_STREAM_DISABLED);
		return;
	}
	if (fmt) {
		unsigned int split = fmt == 1 ? 6 : 10;
		uint64_t l1;

		if (!ref_fetch(w, ptr + (uint64_t)(ssid >> split) * 8, &l1, 1, s2r, o))
			return;
		if (!(l1 & 1)) {
			ref_config(o, SMMU_EVT_C_BAD_SUBSTREAMID);
			return;
		}
		/* L2Ptr [51:12]; for 64KB leaves bits [15:12] are RES0, taken as written. */
		cd_ipa = (l1 & GMASK(51, 12)) + (uint64_t)(ssid & ((1u << split) - 1)) * 64;
	} else {
		cd_ipa = ptr + (uint64_t)ssid * 64;
	}
	if (!ref_fetch(w, cd_ipa, cd, 8, s2r, o))
		return;
	/* §5.4: the CD's validity. */
	t0sz = FIELD(cd[0], 5, 0);
	tg0 = FIELD(cd[0], 7, 6);
	t1sz = FIELD(cd[0], 21, 16);
	tg1 = FIELD(cd[0], 23, 22);
	epd0 = cd[0] & CD0_EPD0;
	epd1 = cd[0] & CD0_EPD1;
	cdr = cd[0] & CD0_R;
	oas = ips_bits[FIELD(cd[0], 34, 32)];
	root = cd[1] & GMASK(51, 4);
	root1 = cd[2] & GMASK(51, 4);
	if (!(cd[0] & CD0_V) || (cd[0] & CD0_ENDI) || !(cd[0] & CD0_AA64) ||
	    (cd[0] & (3ULL << 42)) || (cd[0] & CD0_S) || !(cd[0] & CD0_A) ||
	    (!epd0 && (tg0 == 3 || t0sz < 16 || t0sz > 39 || (root >> oas))) ||
	    (!epd1 && (tg1 == 0 || t1sz < 16 || t1sz > 39 || (root1 >> oas)))) {
		ref_config(o, SMMU_EVT_C_BAD_CD);
		return;
	}
	/* §3.4.1: TBI of the range bit 55 names, then TTB0 / TTB1 / the gap. */
	b55 = addr >> 55 & 1;
	va = addr;
	if (cd[0] & (b55 ? CD0_TBI1 : CD0_TBI0))
		va = b55 ? va | GMASK(63, 56) : va & ~GMASK(63, 56);
	if (!b55 && !epd0 && !(va >> (64 - t0sz))) {
		c1 = (struct pt_cfg){.granule_shift = tg_shift[tg0], .ias = 64 - t0sz};
	} else if (b55 && !epd1 && !(~va >> (64 - t1sz))) {
		c1 = (struct pt_cfg){.granule_shift = tg1_shift[tg1], .ias = 64 - t1sz};
		root = root1;
		va &= (1ULL << (64 - t1sz)) - 1;
	} else {
		ref_fault(o, PT_FAULT_TRANSLATION, false, XLATE_CLASS_IN, 0, cdr);
		w->n_gap++;
		return;
	}
	c1.format = PT_VMSA_S1;
	c1.oas = oas;
	c1.sl0 = -1;
	c1.flags = (cd[0] & CD0_AFFD) ? PT_CFG_AFFD : 0;
	assert_int_equal(pt_cfg_init(&c1), 0);
	/* The nested walk: each descriptor's IPA through stage 2 (class TT), then the output. */
	st = pt_walk_begin(&c1, root, va, access, &wk, &f);
	while (st == PT_STEP_TABLE) {
		enum pt_fault_reason r;
		uint64_t pa, d;

		r = ref_s2(wk.desc_addr, R_, &pa);
		if (r) {
			ref_fault(o, r, true, XLATE_CLASS_TT, wk.desc_addr, s2r);
			return;
		}
		memcpy(&d, hp(w, pa), 8);
		st = pt_walk_step(&wk, d, &leaf, &f);
	}
	if (st == PT_STEP_FAULT) {
		ref_fault(o, f.reason, false, XLATE_CLASS_IN, 0, cdr);
		return;
	}
	{
		enum pt_fault_reason r;
		uint64_t pa;

		r = ref_s2(leaf.oa, access & (R_ | W_ | X_), &pa);
		if (r)
			ref_fault(o, r, true, XLATE_CLASS_IN, leaf.oa, s2r);
		else
			*o = (struct ref){.ret = 0, .pa = pa, .ttb = b55};
	}
}

/* ---------------------------------------------------------------------- */
/* The SMMUs                                                               */

static void w64(struct smmuv3 *s, uint64_t off, uint64_t v)
{
	assert_int_equal(smmuv3_mmio_write(s, off, 8, v), 0);
}

static void w32(struct smmuv3 *s, uint64_t off, uint32_t v)
{
	assert_int_equal(smmuv3_mmio_write(s, off, 4, v), 0);
}

static uint32_t r32(struct smmuv3 *s, uint64_t off)
{
	uint64_t v;

	assert_int_equal(smmuv3_mmio_read(s, off, 4, &v), 0);
	return (uint32_t)v;
}

static void smmu_init(struct iso *w, struct smmu *m, bool cached)
{
	struct smmuv3_params p;

	smmuv3_params_default(&p);
	if (cached) {
		/* Small caches, so that entries are evicted and refilled within a round. */
		p.cache.iotlb = (struct xlate_cache_geom){.entries = 128, .ways = 2};
		p.cache.walk[0] = (struct xlate_cache_geom){.entries = 32, .ways = 2};
		p.cache.walk[1] = (struct xlate_cache_geom){.entries = 32, .ways = 2};
		p.cache.ipa = (struct xlate_cache_geom){.entries = 64, .ways = 2};
		p.cache.cfg = (struct xlate_cache_geom){.entries = 16, .ways = 2};
	} else {
		p.no_cache = true;
	}
	assert_int_equal(smmuv3_new(&p, &w->host.mem, &m->s), 0);
	assert_int_equal(pt_arena_alloc(&w->host, 4096, 4096, &m->cmdq), 0);
	assert_int_equal(pt_arena_alloc(&w->host, 4096, 4096, &m->evtq), 0);
	w64(m->s, SMMU_STRTAB_BASE, w->strtab);
	w32(m->s, SMMU_STRTAB_BASE_CFG, 4); /* linear, 16 STEs */
	w64(m->s, SMMU_CMDQ_BASE, m->cmdq | ISO_LOG2Q);
	w64(m->s, SMMU_EVENTQ_BASE, m->evtq | ISO_LOG2Q);
	w32(m->s, SMMU_CR2, SMMU_CR2_RECINVSID);
	w32(m->s, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
}

/* CFGI_ALL, TLBI_NSNH_ALL, CMD_SYNC: everything the guest rewrote is forgotten. */
static void smmu_flush(struct smmu *m, struct iso *w)
{
	static const uint64_t cmds[3][2] = {
		{SMMU_CMD_CFGI_STE_RANGE, 31}, {SMMU_CMD_TLBI_NSNH_ALL, 0}, {SMMU_CMD_SYNC, 0}};
	uint32_t prod = r32(m->s, SMMU_CMDQ_PROD), mask = (2u << ISO_LOG2Q) - 1;

	for (unsigned int i = 0; i < 3; i++) {
		uint64_t *slot = hp(w, m->cmdq + (uint64_t)(prod & ((1u << ISO_LOG2Q) - 1)) * 16);

		slot[0] = cmds[i][0];
		slot[1] = cmds[i][1];
		prod = (prod + 1) & mask;
	}
	w32(m->s, SMMU_CMDQ_PROD, prod);
	assert_int_equal(r32(m->s, SMMU_CMDQ_CONS), prod);
	assert_int_equal(r32(m->s, SMMU_GERROR), r32(m->s, SMMU_GERRORN));
}

/* The next event record of @m, consumed (NULL when the queue is empty). */
static const uint64_t *next_event(struct iso *w, struct smmu *m)
{
	uint32_t prod = r32(m->s, SMMU_EVENTQ_PROD), cons = r32(m->s, SMMU_EVENTQ_CONS);
	uint32_t mask = (2u << ISO_LOG2Q) - 1;
	const uint64_t *e;

	if ((prod & mask) == (cons & mask))
		return NULL;
	e = hp(w, m->evtq + (uint64_t)(cons & ((1u << ISO_LOG2Q) - 1)) * 32);
	w32(m->s, SMMU_EVENTQ_CONS, (cons & SMMU_Q_OVFLG) | ((cons + 1) & mask));
	return e;
}

/* Check 2: where the SMMU read. */
static void check_reads(struct iso *w, const struct smmuv3_trace *tr, const char *who)
{
	for (unsigned int i = 0; i < tr->n && i < SMMU_TRACE_MAX; i++) {
		uint64_t pa = tr->rd[i].pa, len = tr->rd[i].len;
		const struct region *r = reg_of_pa(pa, len);
		bool in_st = pa >= w->strtab && pa + len <= w->strtab + 64 * NSID;

		ISO_CHECK(w, in_st || (r && (r->prot & R_)),
			  "%s: structure fetch of %" PRIu64 " bytes at PA 0x%" PRIx64
			  " outside the stream table and the readable guest regions",
			  who, len, pa);
	}
	for (unsigned int k = 0; k < 3; k++) {
		const struct xlate_record *rec = k < 2 ? &tr->s2[k] : &tr->walk;

		if (k < 2 && k >= tr->ns2)
			continue;
		for (unsigned int i = 0; i < rec->n && i < XLATE_MAX_READS; i++) {
			const struct xlate_read *rd = &rec->r[i];

			if (rd->stage == 1) {
				const struct region *r = reg_of_pa(rd->addr, 8);

				ISO_CHECK(w, r && (r->prot & R_),
					  "%s: stage-1 descriptor read at PA 0x%" PRIx64
					  " (IPA 0x%" PRIx64 ") outside readable guest memory",
					  who, rd->addr, rd->ipa);
			} else {
				ISO_CHECK(w,
					  rd->addr >= HOST_BASE && rd->addr < GUEST_HALF &&
						  !overlaps_guest(rd->addr, 8),
					  "%s: stage-2 descriptor read at PA 0x%" PRIx64
					  " outside the host's tables",
					  who, rd->addr);
			}
		}
	}
}

static void check_one(struct iso *w, struct smmu *m, const char *who, const struct smmuv3_txn *t,
		      const struct ref *o)
{
	struct smmuv3_result r;
	struct smmuv3_trace *tr = malloc(sizeof(*tr));
	unsigned int need = t->access & (R_ | W_ | X_);
	const uint64_t *e;
	int ret;

	assert_non_null(tr);
	ret = smmuv3_translate_traced(m->s, t, &r, tr);
	check_reads(w, tr, who);
	free(tr);
	if (ret == 0) {
		const struct region *reg = reg_of_pa(r.pa & ~(r.size - 1), r.size);

		/* Check 1: isolation, whatever the reference says. */
		ISO_CHECK(w, reg && !(need & ~reg->prot),
			  "%s: sid %u ssid 0x%x addr 0x%" PRIx64 " access 0x%x -> PA 0x%" PRIx64
			  " size 0x%" PRIx64 ": not in memory stage 2 maps for this access",
			  who, t->sid, t->ssid, t->addr, t->access, r.pa, r.size);
	}
	/* Check 3: the reference. */
	ISO_CHECK(w, ret == o->ret,
		  "%s: sid %u ssid 0x%x addr 0x%" PRIx64 " access 0x%x: ret %d event 0x%x, "
		  "expected ret %d event 0x%x (pa 0x%" PRIx64 ")",
		  who, t->sid, t->ssid, t->addr, t->access, ret, r.event, o->ret, o->ev, o->pa);
	if (ret == 0) {
		ISO_CHECK(w, r.pa == o->pa, "%s: PA 0x%" PRIx64 ", expected 0x%" PRIx64, who, r.pa,
			  o->pa);
		assert_null(next_event(w, m));
		return;
	}
	ISO_CHECK(w, r.event == o->ev,
		  "%s: sid %u ssid 0x%x addr 0x%" PRIx64 " access 0x%x: event 0x%x, expected 0x%x",
		  who, t->sid, t->ssid, t->addr, t->access, r.event, o->ev);
	if (o->record_known)
		ISO_CHECK(w, r.recorded == o->record, "%s: event 0x%x recorded %d, expected %d",
			  who, r.event, r.recorded, o->record);
	e = next_event(w, m);
	ISO_CHECK(w, (e != NULL) == r.recorded, "%s: recorded %d but queue %s", who, r.recorded,
		  e ? "has a record" : "is empty");
	if (!e)
		return;
	{
		bool ssv = t->ssid != SMMU_NO_SSID;
		uint64_t q0 = (uint64_t)o->ev | (uint64_t)ssv << 11 |
			      (ssv ? (uint64_t)t->ssid << 12 : 0) | (uint64_t)t->sid << 32;
		uint64_t q1 = 0, q2 = 0, q3 = 0;

		if (o->fault) {
			q1 = (uint64_t) !(t->access & PT_PROT_U) << 33 |
			     (uint64_t) !!(t->access & X_) << 34 |
			     (uint64_t) !(t->access & W_) << 35 | (uint64_t)o->s2 << 39 |
			     (uint64_t)o->cls << 40 | (uint64_t)(o->cls == XLATE_CLASS_TT) << 44;
			q2 = t->addr;
			q3 = o->s2 ? o->ipa & GMASK(51, 12) : 0;
		}
		ISO_CHECK(w, e[0] == q0 && e[1] == q1 && e[2] == q2 && e[3] == q3,
			  "%s: record %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64
			  ", expected %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64,
			  who, e[0], e[1], e[2], e[3], q0, q1, q2, q3);
	}
}

static void gen_txn(struct iso *w, struct smmuv3_txn *t)
{
	unsigned int p = pct(w);

	t->sid = pct(w) < 97 ? (uint32_t)(rnd(w) % NSID) : NSID + (uint32_t)(rnd(w) % 48);
	if (t->sid < NSID && w->npool[t->sid] && pct(w) < 85) {
		const struct pool_ent *pe = &w->pool[t->sid][rnd(w) % w->npool[t->sid]];

		t->ssid = pe->ssid;
		t->addr = (pe->iova & ~0xfffULL) | (rnd(w) & 0xff8);
	} else {
		t->ssid = pct(w) < 50 ? SMMU_NO_SSID : (uint32_t)(rnd(w) % 2048);
		t->addr = pct(w) < 50 ? ipa_pick(w, 8) : rnd(w) & ((1ULL << 49) - 1);
	}
	t->access = p < 50 ? R_ : p < 85 ? W_ : R_ | X_;
	t->access |= pct(w) < 20 ? PT_PROT_U : 0;
}

static void test_isolation(void **state)
{
	struct pt_cfg s2c = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct iso *w = calloc(1, sizeof(*w));
	const char *env = getenv("ISO_SEED");
	uint64_t base_seed = env && *env ? strtoull(env, NULL, 0) : 0x15017a710aULL;
	unsigned int rounds = env && *env ? 1 : ROUNDS;

	assert_non_null(w);
	assert_int_equal(pt_arena_init(&w->host, HOST_BASE, HOST_SIZE), 0);
	assert_int_equal(
		pt_arena_reserve(&w->host, GUEST_HALF, HOST_SIZE - (GUEST_HALF - HOST_BASE)), 0);
	/* The host's tables come first, so the alias region's IPAs are their PAs. */
	assert_int_equal(pt_table_init(&w->s2, &s2c, &w->host.mem), 0);
	for (unsigned int i = 0; i < NREG; i++)
		assert_int_equal(pt_map(&w->s2, regions[i].ipa, regions[i].pa, regions[i].size,
					regions[i].prot),
				 0);
	assert_int_equal(pt_arena_alloc(&w->host, 64 * NSID, 4096, &w->strtab), 0);
	smmu_init(w, &w->a, true);
	smmu_init(w, &w->b, false);

	for (w->round = 0; w->round < rounds; w->round++) {
		struct smmuv3_txn t;
		struct ref o;

		w->seed = base_seed + w->round;
		w->rng = w->seed;
		gen_round(w);
		smmu_flush(&w->a, w);
		for (w->txn = 0; w->txn < TXNS; w->txn++) {
			gen_txn(w, &t);
			ref_translate(w, t.sid, t.ssid, t.addr, t.access, &o);
			check_one(w, &w->a, "cached", &t, &o);
			check_one(w, &w->b, "uncached", &t, &o);
			if (o.ret == 0) {
				w->n_ok++;
				w->n_ttb1_ok += o.ttb == 1;
			}
			else
				w->n_fault++;
			if (o.fault && o.s2) {
				w->n_in_s2 += o.cls == XLATE_CLASS_IN;
				w->n_tt_cls += o.cls == XLATE_CLASS_TT;
				w->n_cd_cls += o.cls == XLATE_CLASS_CD;
			}
		}
	}
	print_message("  %u rounds: %lu translated, %lu terminated; stage-2 faults of class "
		      "CD %lu, TT %lu, IN %lu; %lu translated through TTB1, %lu in no range\n",
		      rounds, w->n_ok, w->n_fault, w->n_cd_cls, w->n_tt_cls, w->n_in_s2,
		      w->n_ttb1_ok, w->n_gap);
	/* The generator must reach every kind of outcome, or the property says little. */
	if (rounds == ROUNDS) {
		assert_true(w->n_ok > 100);
		assert_true(w->n_cd_cls > 10 && w->n_tt_cls > 10 && w->n_in_s2 > 10);
		assert_true(w->n_ttb1_ok > 100 && w->n_gap > 100);
	}
	smmuv3_free(w->a.s);
	smmuv3_free(w->b.s);
	pt_table_destroy(&w->s2);
	pt_arena_destroy(&w->host);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isolation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
