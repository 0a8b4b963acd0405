// SPDX-License-Identifier: MIT
/*
 * fuzz_smmuv3_ste.c - the SMMUv3 model's stream table, STE and CD decoding
 * and nested walks, on guest-controlled memory.
 *
 * The host owns 2 MiB of memory: the stream table (linear, or 2-level with
 * two L1 descriptors whose Span comes from the input), a fixed stage 2 (4K
 * granule, 40-bit IPA, start level 1) and its tables, and guest RAM, which
 * stage 2 maps at IPA 0x8000_0000: 64 KiB read-write, then 16 KiB
 * read-only; the 16 KiB after that are a hole.
 *
 * Input:
 *   0       flags: bit 0 2-level stream table, bit 1 raw STEs (the host's
 *           stage-2 fields and Config are not enforced, so isolation is not
 *           checked), bit 2 no steering of guest words, bit 3 no caches in
 *           the SMMU under test
 *   1       stream table: LOG2SIZE (linear) / Span of L1STD 0 (2-level;
 *           0..7 unless raw, so that an L2 array fits its page)
 *   2       Span of L1STD 1; 3 SPLIT; 4..7 reserved
 *   8       8 transactions of 16 bytes: SID byte, SSID (3 bytes, bit 23
 *           set: no SSID), access byte (PT_PROT_*), reserved, address (8)
 *   136     8 STEs (64 bytes each)
 *   648     guest RAM (80 KiB), filled with these bytes repeated
 * Without bit 1, every STE gets the host's stage-2 fields (S2VMID from the
 * input, S2R from the input), and Config abort, stage 2 only or nested as
 * the input's Config picks: the fields a guest controls through a vSTE are
 * S1ContextPtr, S1Fmt, S1CDMax, S1DSS and the rest of qword 1. Without
 * bit 2, the address bits [47:12] of every guest word and of each
 * S1ContextPtr are steered into the guest's IPA window (guest RAM, the
 * read-only part, the hole), so random bytes make deep walks.
 *
 * Invariants (__builtin_trap() when broken), for each transaction, on the
 * SMMU under test and on one without caches:
 *  - both give the same outcome (memory does not change during an input);
 *  - isolation (unless raw STEs): an output lies in guest RAM with the
 *    permission the access needs; structure fetches lie in the stream
 *    table or readable guest RAM; stage-1 descriptors in readable guest
 *    RAM; stage-2 descriptors in the host's memory outside guest RAM;
 *  - a terminated transaction's event is one the model defines, and its
 *    record (when written) is consistent: type, StreamID, SSV and
 *    SubstreamID as the transaction; for faults of the walk InputAddr is
 *    the address; a stage-2 fault's IPA is one stage 2 does not map with
 *    the permission needed (read for CLASS CD / TT); a fetch or walk
 *    abort's address lies outside memory; configuration errors carry no
 *    address.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/smmuv3/smmuv3.h"
#include "pt/pt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz_smmuv3_ste: invariant broken at line %d: %s\n", \
				__LINE__, #cond);                                             \
			__builtin_trap();                                                     \
		}                                                                             \
	} while (0)

#define HBASE	 0x40000000ULL
#define HSIZE	 0x200000ULL
#define GRAM_PA	 (HBASE + 0x100000)
#define GRAM_IPA 0x80000000ULL
#define RW_SIZE	 0x10000ULL
#define RO_SIZE	 0x4000ULL
#define WIN_SIZE 0x18000ULL /* the steering window: RAM, read-only, hole */
#define HDR	 8
#define TXN_OFF	 HDR
#define STE_OFF	 (HDR + 8 * 16)
#define MEM_OFF	 (STE_OFF + 8 * 64)

static struct pt_arena arena;
static struct pt_table s2t;
static uint64_t strtab, l2a, l2b, cmdq, evtq[2];
static bool ready, stats; /* FUZZ_STATS=1: one line per transaction on stderr */

static void *hp(uint64_t pa)
{
	return arena.buf + (pa - HBASE);
}

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void setup(void)
{
	struct pt_cfg c2 = {
		.format = PT_VMSA_S2, .granule_shift = 12, .ias = 40, .oas = 48, .sl0 = 1};

	CHECK(!pt_cfg_init(&c2));
	CHECK(!pt_arena_init(&arena, HBASE, HSIZE));
	CHECK(!pt_arena_reserve(&arena, GRAM_PA, HSIZE - (GRAM_PA - HBASE)));
	CHECK(!pt_arena_alloc(&arena, 4096, 4096, &strtab));
	CHECK(!pt_arena_alloc(&arena, 4096, 4096, &l2a));
	CHECK(!pt_arena_alloc(&arena, 4096, 4096, &l2b));
	CHECK(!pt_arena_alloc(&arena, 4096, 4096, &cmdq));
	CHECK(!pt_arena_alloc(&arena, 4096, 4096, &evtq[0]));
	CHECK(!pt_arena_alloc(&arena, 4096, 4096, &evtq[1]));
	CHECK(!pt_table_init(&s2t, &c2, &arena.mem));
	CHECK(!pt_map(&s2t, GRAM_IPA, GRAM_PA, RW_SIZE, PT_PROT_RW));
	CHECK(!pt_map(&s2t, GRAM_IPA + RW_SIZE, GRAM_PA + RW_SIZE, RO_SIZE, PT_PROT_R));
	ready = true;
}

/* Stage 2's permission at @ipa (0: not mapped). */
static unsigned int s2_prot(uint64_t ipa)
{
	/* Mapped without PT_PROT_X: stage 2 is execute-never (XN) for guest RAM. */
	if (ipa >= GRAM_IPA && ipa < GRAM_IPA + RW_SIZE)
		return PT_PROT_R | PT_PROT_W;
	if (ipa >= GRAM_IPA + RW_SIZE && ipa < GRAM_IPA + RW_SIZE + RO_SIZE)
		return PT_PROT_R;
	return 0;
}

/* Guest RAM's permission at host @pa for @len bytes (0: not guest RAM). */
static unsigned int gram_prot(uint64_t pa, uint64_t len)
{
	if (pa < GRAM_PA || pa + len > GRAM_PA + RW_SIZE + RO_SIZE)
		return 0;
	return s2_prot(GRAM_IPA + (pa - GRAM_PA)) & s2_prot(GRAM_IPA + (pa + len - 1 - GRAM_PA));
}

static bool in_gram(uint64_t pa, uint64_t len)
{
	return pa + len > GRAM_PA && pa < GRAM_PA + RW_SIZE + RO_SIZE;
}

/* Address bits [47:12] into the IPA window (kept when already inside it). */
static uint64_t steer(uint64_t v)
{
	uint64_t amask = ((1ULL << 48) - 1) & ~0xfffULL;
	uint64_t off = (((v & amask) >> 12) % (WIN_SIZE >> 12)) << 12;

	if ((v & amask) >= GRAM_IPA && (v & amask) < GRAM_IPA + WIN_SIZE)
		return v;

	return (v & ~amask) | GRAM_IPA | off;
}

struct smmu {
	struct smmuv3 *s;
	uint64_t evtq;
};

static void smmu_start(struct smmu *m, bool cached, uint8_t fl, uint8_t log2, uint8_t split,
		       uint64_t evtq_pa)
{
	struct smmuv3_params p;

	smmuv3_params_default(&p);
	if (cached) {
		p.cache.iotlb = (struct xlate_cache_geom){.entries = 32, .ways = 2};
		p.cache.walk[0] = p.cache.walk[1] =
			(struct xlate_cache_geom){.entries = 8, .ways = 2};
		p.cache.ipa = (struct xlate_cache_geom){.entries = 8, .ways = 2};
		p.cache.cfg = (struct xlate_cache_geom){.entries = 8, .ways = 2};
	} else {
		p.no_cache = true;
	}
	CHECK(!smmuv3_new(&p, &arena.mem, &m->s));
	m->evtq = evtq_pa;
	CHECK(!smmuv3_mmio_write(m->s, SMMU_STRTAB_BASE, 8, strtab));
	CHECK(!smmuv3_mmio_write(m->s, SMMU_STRTAB_BASE_CFG, 4,
				 fl & 1 ? 1u << 16 | (uint32_t)split << 6 | (split + 1u) : log2));
	CHECK(!smmuv3_mmio_write(m->s, SMMU_CMDQ_BASE, 8, cmdq | 4));
	CHECK(!smmuv3_mmio_write(m->s, SMMU_EVENTQ_BASE, 8, evtq_pa | 7)); /* 128 records */
	CHECK(!smmuv3_mmio_write(m->s, SMMU_CR2, 4, SMMU_CR2_RECINVSID));
	CHECK(!smmuv3_mmio_write(m->s, SMMU_CR0, 4,
				 SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN));
}

static const uint64_t *pop_event(struct smmu *m)
{
	uint64_t prod, cons;
	const uint64_t *e;

	CHECK(!smmuv3_mmio_read(m->s, SMMU_EVENTQ_PROD, 4, &prod));
	CHECK(!smmuv3_mmio_read(m->s, SMMU_EVENTQ_CONS, 4, &cons));
	if ((prod & 0xff) == (cons & 0xff))
		return NULL;
	e = hp(m->evtq + (cons & 0x7f) * 32);
	CHECK(!smmuv3_mmio_write(m->s, SMMU_EVENTQ_CONS, 4,
				 (cons & 0x80000000u) | ((cons + 1) & 0xff)));
	return e;
}

static void check_reads(const struct smmuv3_trace *tr, bool iso)
{
	for (unsigned int i = 0; i < tr->n && i < SMMU_TRACE_MAX; i++) {
		uint64_t pa = tr->rd[i].pa, len = tr->rd[i].len;
		bool st = pa >= strtab && pa + len <= strtab + 4096;
		bool l2 = (pa >= l2a && pa + len <= l2a + 4096) ||
			  (pa >= l2b && pa + len <= l2b + 4096);

		if (iso)
			CHECK(st || l2 || (gram_prot(pa, len) & PT_PROT_R));
	}
	for (unsigned int k = 0; k < 3; k++) {
		const struct xlate_record *rec = k < 2 ? &tr->s2[k] : &tr->walk;

		if (k < 2 && k >= tr->ns2)
			continue;
		CHECK(rec->n <= 64);
		for (unsigned int i = 0; i < rec->n && i < XLATE_MAX_READS; i++) {
			const struct xlate_read *r = &rec->r[i];

			CHECK(!(r->addr & 7));
			CHECK(pt_mem_ptr(&arena.mem, r->addr, 8));
			if (!iso)
				continue;
			if (r->stage == 1)
				CHECK(gram_prot(r->addr, 8) & PT_PROT_R);
			else
				CHECK(!in_gram(r->addr, 8));
		}
	}
}

static void check_event(const struct smmuv3_txn *t, const struct smmuv3_result *r,
			const uint64_t *e, bool iso)
{
	bool ssv = t->ssid != SMMU_NO_SSID, s2 = e[1] >> 39 & 1;
	unsigned int cls = e[1] >> 40 & 3;

	CHECK((e[0] & 0xff) == r->event);
	CHECK((e[0] >> 32) == t->sid);
	CHECK((e[0] >> 11 & 1) == ssv);
	CHECK(((e[0] >> 12) & 0xfffff) == (ssv ? t->ssid : 0));
	switch (r->event) {
	case SMMU_EVT_C_BAD_STREAMID:
	case SMMU_EVT_C_BAD_STE:
	case SMMU_EVT_F_STREAM_DISABLED:
	case SMMU_EVT_C_BAD_SUBSTREAMID:
	case SMMU_EVT_C_BAD_CD:
		CHECK(!e[1] && !e[2] && !e[3]);
		break;
	case SMMU_EVT_F_STE_FETCH:
	case SMMU_EVT_F_CD_FETCH:
		CHECK(!pt_mem_ptr(&arena.mem, e[3], 8) || (e[3] & 7));
		break;
	case SMMU_EVT_F_WALK_EABT:
		CHECK(e[2] == t->addr);
		CHECK(!pt_mem_ptr(&arena.mem, e[3], 8));
		break;
	case SMMU_EVT_F_TRANSLATION:
	case SMMU_EVT_F_ADDR_SIZE:
	case SMMU_EVT_F_ACCESS:
	case SMMU_EVT_F_PERMISSION:
		CHECK(e[2] == t->addr);
		CHECK(cls <= XLATE_CLASS_IN);
		CHECK((e[1] >> 35 & 1) == !(t->access & PT_PROT_W));
		if (!s2) {
			CHECK(!e[3]);
		} else if (iso && (r->event == SMMU_EVT_F_TRANSLATION ||
				   r->event == SMMU_EVT_F_PERMISSION)) {
			unsigned int need =
				cls == XLATE_CLASS_IN
					? t->access & (PT_PROT_R | PT_PROT_W | PT_PROT_X)
					: PT_PROT_R;

			CHECK(!(e[3] & 0xfff));
			CHECK(need & ~s2_prot(e[3]));
			if (r->event == SMMU_EVT_F_PERMISSION)
				CHECK(s2_prot(e[3]));
		}
		break;
	default:
		CHECK(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MEM_OFF];
	uint8_t fl;
	bool iso;
	struct smmu m[2];
	uint64_t *ste = NULL, *mem;
	uint8_t log2, split;

	if (!ready) {
		setup();
		stats = getenv("FUZZ_STATS") != NULL;
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, data, size < MEM_OFF ? size : MEM_OFF);
	fl = buf[0];
	iso = !(fl & 2);
	log2 = 1 + buf[1] % 6;
	split = (uint8_t)(6 + 2 * (buf[3] % 3));

	/* Stream table: SIDs 0..7 (2-level: L1STD 0 -> l2a, 1 -> l2b, Span from the input). */
	memset(hp(strtab), 0, 4096);
	memset(hp(l2a), 0, 4096);
	memset(hp(l2b), 0, 4096);
	if (fl & 1) {
		uint64_t *l1 = hp(strtab);

		/*
		 * The host's L1STDs: with isolation checked, Span 0..7 (invalid, or
		 * an L2 array that fits its 4 KiB page), else raw.
		 */
		l1[0] = l2a | (iso ? buf[1] % 8 : buf[1] & 0x1f);
		l1[1] = l2b | (iso ? buf[2] % 8 : buf[2] & 0x1f);
	}
	for (unsigned int sid = 0; sid < 8; sid++) {
		uint64_t *dst =
			fl & 1 ? (uint64_t *)hp(l2a) + 8 * (sid & 3) : hp(strtab + sid * 64ULL);
		unsigned int cfg;

		if ((fl & 1) && sid >= 4)
			dst = (uint64_t *)hp(l2b) + 8 * (sid & 3);
		memcpy(dst, buf + STE_OFF + sid * 64, 64);
		ste = dst;
		if (!(fl & 4))
			ste[0] = (ste[0] & ~(((1ULL << 48) - 1) & ~0xfffULL)) |
				 (steer(ste[0]) & (((1ULL << 48) - 1) & ~0xfffULL));
		if (!iso)
			continue;
		cfg = ste[0] >> 1 & 7;
		cfg = cfg & 4 ? (cfg & 1 ? 7 : 6) : cfg & 3;
		ste[0] = (ste[0] & ~0xeULL) | (uint64_t)cfg << 1;
		/* Host's stage 2: VMID, T0SZ 24, SL0 1, 4K, PS 48, AA64, S2R from the input. */
		ste[2] = (ste[2] & 0xf) | 24ULL << 32 | 1ULL << 38 | 5ULL << 48 | 1ULL << 51 |
			 (ste[2] >> 58 & 1) << 58;
		ste[3] = s2t.root;
		for (unsigned int i = 4; i < 8; i++)
			ste[i] = 0;
	}
	/* Guest RAM. */
	mem = hp(GRAM_PA);
	if (size > MEM_OFF) {
		size_t body = size - MEM_OFF;

		for (size_t off = 0; off < RW_SIZE + RO_SIZE; off += body)
			memcpy((uint8_t *)mem + off, data + MEM_OFF,
			       body < RW_SIZE + RO_SIZE - off ? body : RW_SIZE + RO_SIZE - off);
	} else {
		memset(mem, 0, RW_SIZE + RO_SIZE);
	}
	if (!(fl & 4))
		for (unsigned int i = 0; i < (RW_SIZE + RO_SIZE) / 8; i++)
			if ((mem[i] & 7) != 0 || (i & 7)) /* leave some words as they are */
				mem[i] = steer(mem[i]);

	smmu_start(&m[0], !(fl & 8), fl, log2, split, evtq[0]);
	smmu_start(&m[1], false, fl, log2, split, evtq[1]);
	for (unsigned int k = 0; k < 8; k++) {
		const uint8_t *tb = buf + TXN_OFF + k * 16;
		struct smmuv3_txn t = {.sid = tb[0] % 9, .access = tb[4] & 0xf};
		uint32_t ssid = (uint32_t)get_le(tb + 1, 3);
		struct smmuv3_result r[2];
		struct smmuv3_trace tr;
		int ret[2];

		if (k == 0 && !tb[0] && !tb[4])
			break; /* an empty transaction list */
		t.ssid = ssid & 0x800000 ? SMMU_NO_SSID : ssid & 0xfffff;
		t.addr = get_le(tb + 8, 8);
		if (!(t.access & (PT_PROT_R | PT_PROT_W)))
			t.access |= PT_PROT_R;
		if (!(fl & 4) && (tb[5] & 1))
			t.addr = steer(t.addr) | (t.addr & 0xfff);
		for (unsigned int i = 0; i < 2; i++) {
			const uint64_t *e;

			ret[i] = smmuv3_translate_traced(m[i].s, &t, &r[i], &tr);
			check_reads(&tr, iso);
			if (ret[i] == 0) {
				unsigned int need = t.access & (PT_PROT_R | PT_PROT_W | PT_PROT_X);

				CHECK(r[i].size && !(r[i].size & (r[i].size - 1)));
				if (iso)
					CHECK(!(need &
						~gram_prot(r[i].pa & ~(r[i].size - 1), r[i].size)));
				CHECK(!pop_event(&m[i]));
				continue;
			}
			CHECK(ret[i] == -EFAULT);
			e = pop_event(&m[i]);
			CHECK(!e == !r[i].recorded);
			if (e)
				check_event(&t, &r[i], e, iso);
		}
		if (stats)
			fprintf(stderr,
				"sid %u ssid 0x%x addr 0x%llx access 0x%x: %s event 0x%02x pa "
				"0x%llx\n",
				t.sid, t.ssid, (unsigned long long)t.addr, t.access,
				ret[0] ? "fault" : "ok", r[0].event, (unsigned long long)r[0].pa);
		CHECK(ret[0] == ret[1]);
		CHECK(r[0].event == r[1].event);
		if (!ret[0])
			CHECK(r[0].pa == r[1].pa);
	}
	smmuv3_free(m[0].s);
	smmuv3_free(m[1].s);
	return 0;
}
