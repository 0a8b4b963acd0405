// SPDX-License-Identifier: MIT
/*
 * fuzz_smmuv3_cmdq.c - the SMMUv3 model's command queue under guest-chosen
 * commands and register writes.
 *
 * Each input is a fresh SMMU (small caches) over a fixed 4 MiB memory that
 * holds a stream table (SID 1 stage 1 only, SID 2 stage 2 only, SIDs 3..7
 * garbage STEs, SID 8 invalid), their page tables, a command queue area,
 * an event queue and an MSI page. The first byte picks the queue size
 * (2..64 commands) and the stages implemented (both, stage 1 only, stage 2
 * only); then records, each an op byte and its operands:
 *
 *   op % 8 = 0..3  one command: 16 bytes (with op bit 3 set its opcode
 *                  byte is replaced by a known opcode), written at PROD,
 *                  then PROD + 1 written
 *   4              a batch: count byte (1..8), then that many commands,
 *                  then one PROD write
 *   5              a register write: selector byte, 8-byte value: CMDQ_PROD,
 *                  CMDQ_CONS, CR0, CMDQ_BASE (inside the queue area with a
 *                  random size, or raw), GERRORN (the acknowledgement, or
 *                  raw), EVENTQ_CONS, IRQ_CTRL, GBPA
 *   6              a transaction of a known stream: selector byte, offset
 *   7              a raw 16-byte write into a queue slot without PROD
 *
 * CMD_SYNC's MSI address is steered into the MSI page, and every event
 * queue base into the event queue area, so the SMMU never writes over the
 * tables: they never change, and every translation must give the same
 * answer however the commands shuffled the caches.
 *
 * Invariants (a __builtin_trap() when broken): besides no crash, no
 * sanitizer report and no leak,
 *  - after each write that lets the queue run (PROD, CR0, GERRORN), the
 *    queue is where a reference consumer written here says: commands are
 *    consumed in order from the old CONS, each legal one moves CONS past
 *    it; the first illegal one (unknown opcode, a stage not implemented,
 *    SSec = 1, CMD_SYNC with CS = 0b11) stops it with CONS.ERR = ILL, a
 *    slot outside memory with CONS.ERR = ABT, and GERROR.CMDQ_ERR becomes
 *    active; while it is active nothing is consumed;
 *  - transactions of SIDs 1 and 2 (when their stage exists and SMMUEN is
 *    set) translate to the address their tables give;
 *  - at the end the model is usable: the error is acknowledged (the bad
 *    slot rewritten as CMD_SYNC, as a driver does), or the queue is
 *    reprogrammed if its base was wild; then a CMD_SYNC with an MSI
 *    completes (CONS past it, the MSI data written, no new error) and the
 *    known transactions still translate.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hw/smmuv3/smmuv3.h"
#include "pt/pt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz_smmuv3_cmdq: invariant broken at line %d: %s\n", \
				__LINE__, #cond);                                              \
			__builtin_trap();                                                      \
		}                                                                              \
	} while (0)

#define HBASE	  0x40000000ULL
#define HSIZE	  0x400000ULL
#define CMDQ_AREA (HBASE + 0x300000) /* 64 KiB: up to 4096 commands */
#define EVTQ_AREA (HBASE + 0x310000) /* 64 KiB */
#define MSI_PAGE  (HBASE + 0x320000)
#define DATA_PA	  (HBASE + 0x340000) /* 64 KiB of data the streams map */
#define IOVA	  0x10000000ULL
#define IPA	  0x20000000ULL
#define NSTE	  16

static struct pt_arena arena;
static struct pt_table s1, s2;
static uint64_t strtab, cd_pa;
static bool ready;

static void *hp(uint64_t pa)
{
	return arena.buf + (pa - HBASE);
}

static void setup(void)
{
	struct pt_cfg c1 = {.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48};
	struct pt_cfg c2 = {
		.format = PT_VMSA_S2, .granule_shift = 12, .ias = 40, .oas = 48, .sl0 = 1};
	uint64_t *ste, seed = 0x5eed;

	CHECK(!pt_cfg_init(&c1) && !pt_cfg_init(&c2));
	CHECK(!pt_arena_init(&arena, HBASE, HSIZE));
	CHECK(!pt_arena_reserve(&arena, HBASE + 0x300000, HSIZE - 0x300000));
	CHECK(!pt_arena_alloc(&arena, NSTE * 64, 4096, &strtab));
	CHECK(!pt_arena_alloc(&arena, 4096, 4096, &cd_pa));
	CHECK(!pt_table_init(&s1, &c1, &arena.mem) && !pt_table_init(&s2, &c2, &arena.mem));
	CHECK(!pt_map(&s1, IOVA, DATA_PA, 0x10000, PT_PROT_RW));
	CHECK(!pt_map(&s2, IPA, DATA_PA, 0x10000, PT_PROT_RW));
	/* CD: T0SZ 16, TG0 4K, EPD1, V, IPS 48, AA64, R, A, ASID 5; TTB0. */
	((uint64_t *)hp(cd_pa))[0] =
		16 | 1ULL << 30 | 1ULL << 31 | 5ULL << 32 | 1ULL << 41 | 1ULL << 45 | 1ULL << 46 |
		5ULL << 48;
	((uint64_t *)hp(cd_pa))[1] = s1.root;
	ste = hp(strtab);
	ste[8 * 1 + 0] = 1 | 5 << 1 | cd_pa; /* SID 1: stage 1 */
	ste[8 * 1 + 2] = 7;		     /* S2VMID */
	ste[8 * 2 + 0] = 1 | 6 << 1;	     /* SID 2: stage 2, VMID 3 */
	ste[8 * 2 + 2] = 3 | 24ULL << 32 | 1ULL << 38 | 5ULL << 48 | 1ULL << 51 | 1ULL << 58;
	ste[8 * 2 + 3] = s2.root;
	for (unsigned int i = 3 * 8; i < 8 * 8; i++) { /* SIDs 3..7: garbage */
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		ste[i] = seed;
	}
	/* SID 8: V = 0 (zero) */
	ready = true;
}

static uint32_t rd(struct smmuv3 *s, uint64_t off)
{
	uint64_t v = 0;

	CHECK(!smmuv3_mmio_read(s, off, 4, &v));
	return (uint32_t)v;
}

static void wr(struct smmuv3 *s, uint64_t off, unsigned int sz, uint64_t v)
{
	CHECK(!smmuv3_mmio_write(s, off, sz, v));
}

static uint64_t get64(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)(*p < end ? *(*p)++ : 0) << (8 * i);
	return v;
}

static uint8_t get8(const uint8_t **p, const uint8_t *end)
{
	return *p < end ? *(*p)++ : 0;
}

struct ctx {
	struct smmuv3 *s;
	bool s1p, s2p, pri, ats, stall;
};

/* The architecture's list (IHI 0070 §4): CERROR_NONE or CERROR_ILL. */
static unsigned int cmd_legal(const struct ctx *x, const uint64_t c[2])
{
	unsigned int op = c[0] & 0xff;

	if (c[0] >> 10 & 1) /* SSec on the Non-secure queue */
		return SMMU_CERROR_ILL;
	switch (op) {
	case 0x01:
	case 0x02:
	case 0x03:
	case 0x04:
	case 0x05:
	case 0x06:
	case 0x30:
		return SMMU_CERROR_NONE;
	case 0x44: /* RESUME: stall, Action != 0b11 */
		return x->stall && ((c[0] >> 12) & 3) != 3 ? SMMU_CERROR_NONE : SMMU_CERROR_ILL;
	case 0x45: /* STALL_TERM: stall */
		return x->stall ? SMMU_CERROR_NONE : SMMU_CERROR_ILL;
	case 0x40: /* ATC_INV: ATS implemented, Size <= 52 */
		return x->ats && (c[1] & 0x3f) <= 52 ? SMMU_CERROR_NONE : SMMU_CERROR_ILL;
	case 0x41: /* PRI_RESP: PRI implemented, Resp != 0b11 */
		return x->pri && ((c[1] >> 12) & 3) != 3 ? SMMU_CERROR_NONE : SMMU_CERROR_ILL;
	case 0x10:
	case 0x11:
	case 0x12:
	case 0x13:
		return x->s1p ? SMMU_CERROR_NONE : SMMU_CERROR_ILL;
	case 0x28:
	case 0x2a:
		return x->s2p ? SMMU_CERROR_NONE : SMMU_CERROR_ILL;
	case 0x46:
		return ((c[0] >> 12) & 3) == 3 ? SMMU_CERROR_ILL : SMMU_CERROR_NONE;
	default: /* unknown, EL2 / EL3 / Secure TLBIs without those features */
		return SMMU_CERROR_ILL;
	}
}

static uint64_t q_base(uint64_t reg)
{
	return reg & (((1ULL << 52) - 1) & ~0x1fULL);
}

static unsigned int q_log2(uint64_t reg)
{
	unsigned int l = reg & 0x1f;

	return l > 19 ? 19 : l;
}

/* Host pointer of command slot @idx of the queue whose base register is @reg, or NULL. */
static uint64_t *slot_ptr(uint64_t reg, uint32_t idx)
{
	unsigned int log2 = q_log2(reg);
	uint64_t bytes = (16ULL << log2) < 32 ? 32 : 16ULL << log2;
	uint64_t pa = (q_base(reg) & ~(bytes - 1)) + (uint64_t)(idx & ((1u << log2) - 1)) * 16;

	return pt_mem_ptr(&arena.mem, pa, 16);
}

struct qstate {
	uint64_t base;
	uint32_t cons, prod, cr0, gerror, gerrorn;
};

static void snap(struct smmuv3 *s, struct qstate *q)
{
	uint64_t v;

	CHECK(!smmuv3_mmio_read(s, SMMU_CMDQ_BASE, 8, &v));
	q->base = v;
	q->cons = rd(s, SMMU_CMDQ_CONS);
	q->prod = rd(s, SMMU_CMDQ_PROD);
	q->cr0 = rd(s, SMMU_CR0);
	q->gerror = rd(s, SMMU_GERROR);
	q->gerrorn = rd(s, SMMU_GERRORN);
}

/*
 * The reference consumer: from CONS before a kick (@cons0) and the state
 * after it (@a: base, PROD, enables, GERRORN as written), where must the
 * queue be now?
 */
static void check_consumed(const struct ctx *x, const struct qstate *b, const struct qstate *a)
{
	unsigned int log2 = q_log2(a->base);
	uint32_t wrap = 1u << log2, mask = (wrap << 1) - 1;
	uint32_t c = b->cons & mask, p = a->prod & mask;
	unsigned int err = SMMU_CERROR_NONE;
	bool active = (b->gerror ^ a->gerrorn) & SMMU_GERROR_CMDQ_ERR;

	if (!(a->cr0 & SMMU_CR0_CMDQEN) || active) {
		CHECK((a->cons & mask) == c); /* nothing consumed */
		return;
	}
	/* (p - c) & mask may exceed a lap (a broken driver): consumed all the same */
	while (c != p) {
		uint64_t *e = slot_ptr(a->base, c);

		if (!e) {
			err = SMMU_CERROR_ABT;
			break;
		}
		err = cmd_legal(x, e);
		if (err)
			break;
		c = (c + 1) & mask;
	}
	CHECK((a->cons & mask) == c);
	if (err) {
		CHECK(((a->cons & SMMU_CMDQ_CONS_ERR_MASK) >> SMMU_CMDQ_CONS_ERR_SHIFT) == err);
		CHECK((a->gerror ^ a->gerrorn) & SMMU_GERROR_CMDQ_ERR);
	} else {
		CHECK(!((a->gerror ^ a->gerrorn) & SMMU_GERROR_CMDQ_ERR));
	}
}

/* A write that may let the queue run, checked against the reference. */
static void kick(const struct ctx *x, uint64_t off, uint32_t v)
{
	struct qstate b, a;

	snap(x->s, &b);
	wr(x->s, off, 4, v);
	snap(x->s, &a);
	check_consumed(x, &b, &a);
}

/* Known transactions: SID 1 (stage 1), SID 2 (stage 2) map their 64 KiB to DATA_PA. */
static void check_known(const struct ctx *x, unsigned int which, uint64_t off)
{
	struct smmuv3_txn t = {.sid = which & 1 ? 1 : 2,
			       .ssid = SMMU_NO_SSID,
			       .access = off & 1 ? PT_PROT_W : PT_PROT_R};
	struct smmuv3_result r;
	int ret;

	off &= 0xfff8;
	t.addr = (t.sid == 1 ? IOVA : IPA) + off;
	ret = smmuv3_translate(x->s, &t, &r);
	if (!(rd(x->s, SMMU_CR0) & SMMU_CR0_SMMUEN))
		return; /* GBPA decides */
	if ((t.sid == 1 && !x->s1p) || (t.sid == 2 && !x->s2p)) {
		CHECK(ret == -EFAULT && r.event == SMMU_EVT_C_BAD_STE);
		return;
	}
	CHECK(ret == 0);
	CHECK(r.pa == DATA_PA + off);
}

static void garbage_txn(const struct ctx *x, uint8_t sel, uint64_t addr)
{
	struct smmuv3_txn t = {.sid = 3 + sel % 14,
			       .ssid = sel & 0x80 ? sel & 7 : SMMU_NO_SSID,
			       .addr = addr,
			       .access = PT_PROT_R};
	struct smmuv3_result r;

	if (smmuv3_translate(x->s, &t, &r))
		CHECK(r.event <= SMMU_EVT_F_PERMISSION);
}

static const uint8_t known_ops[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11,
				    0x12, 0x13, 0x28, 0x2a, 0x30, 0x40, 0x41, 0x44,
				    0x45, 0x46, 0x46, 0x46, 0x20, 0x18, 0x00, 0xff};

/* Write command @c at PROD's slot (when the slot is in memory); returns the next PROD. */
static uint32_t put_cmd(const struct ctx *x, uint32_t prod, uint64_t c[2], bool known)
{
	uint64_t base;
	uint32_t mask;
	uint64_t *e;

	CHECK(!smmuv3_mmio_read(x->s, SMMU_CMDQ_BASE, 8, &base));
	mask = (2u << q_log2(base)) - 1;
	if (known)
		c[0] = (c[0] & ~0xffULL) | known_ops[(c[0] >> 8) % sizeof(known_ops)];
	if ((c[0] & 0xff) == SMMU_CMD_SYNC)
		c[1] = MSI_PAGE + (c[1] & 0xffc); /* the MSI lands in the MSI page */
	e = slot_ptr(base, prod);
	if (e) {
		e[0] = c[0];
		e[1] = c[1];
	}
	return (prod + 1) & mask;
}

static void reg_write(const struct ctx *x, uint8_t sel, uint64_t v)
{
	switch (sel % 8) {
	case 0:
		kick(x, SMMU_CMDQ_PROD, (uint32_t)v);
		break;
	case 1:
		wr(x->s, SMMU_CMDQ_CONS, 4, (uint32_t)v);
		break;
	case 2:
		kick(x, SMMU_CR0, (uint32_t)v | (v >> 32 & 1 ? SMMU_CR0_SMMUEN : 0));
		break;
	case 3:
		if ((sel & 0x80) && (q_base(v) < HBASE || q_base(v) >= HBASE + HSIZE))
			wr(x->s, SMMU_CMDQ_BASE, 8, v); /* outside memory: reads abort */
		else if (sel & 0x80)
			wr(x->s, SMMU_CMDQ_BASE, 8, v | 1ULL << 45);
		else
			wr(x->s, SMMU_CMDQ_BASE, 8,
			   CMDQ_AREA + (v & 0xffe0 & ~0x1fULL) + (v & 0xf) % 13);
		break;
	case 4:
		kick(x, SMMU_GERRORN, sel & 0x80 ? (uint32_t)v : rd(x->s, SMMU_GERROR));
		break;
	case 5:
		wr(x->s, SMMU_EVENTQ_CONS, 4, (uint32_t)v);
		break;
	case 6:
		wr(x->s, SMMU_IRQ_CTRL, 4, (uint32_t)v);
		break;
	default:
		wr(x->s, SMMU_GBPA, 4, (uint32_t)v);
		if (sel & 0x80) /* an event queue elsewhere inside its area */
			wr(x->s, SMMU_EVENTQ_BASE, 8,
			   EVTQ_AREA + (v >> 32 & 0xf000) + (v >> 48) % 12);
		break;
	}
}

/* Make the queue usable again as a driver would, then prove it with an MSI-signalled sync. */
static void recover(const struct ctx *x)
{
	uint32_t *msi = hp(MSI_PAGE + 0xff0), cons, prod, mask;
	uint64_t base, c[2], *slot;
	struct qstate a;

	CHECK(!smmuv3_mmio_read(x->s, SMMU_CMDQ_BASE, 8, &base));
	cons = rd(x->s, SMMU_CMDQ_CONS);
	slot = slot_ptr(base, cons);
	if (!slot || !(rd(x->s, SMMU_CR0) & SMMU_CR0_CMDQEN)) {
		/* A wild base or disabled queue: program it afresh (CONS is writable while off). */
		wr(x->s, SMMU_CR0, 4, rd(x->s, SMMU_CR0) & ~SMMU_CR0_CMDQEN);
		wr(x->s, SMMU_CMDQ_BASE, 8, CMDQ_AREA | 4);
		wr(x->s, SMMU_CMDQ_CONS, 4, rd(x->s, SMMU_CMDQ_PROD) & 0x1f);
		wr(x->s, SMMU_CMDQ_PROD, 4, rd(x->s, SMMU_CMDQ_PROD) & 0x1f);
		wr(x->s, SMMU_CR0, 4, rd(x->s, SMMU_CR0) | SMMU_CR0_CMDQEN | SMMU_CR0_SMMUEN);
		CHECK(!smmuv3_mmio_read(x->s, SMMU_CMDQ_BASE, 8, &base));
		cons = rd(x->s, SMMU_CMDQ_CONS);
		slot = slot_ptr(base, cons);
		CHECK(slot);
	}
	if ((rd(x->s, SMMU_GERROR) ^ rd(x->s, SMMU_GERRORN)) & SMMU_GERROR_CMDQ_ERR) {
		/* The failed command is still at CONS: replace it, then acknowledge. */
		slot[0] = SMMU_CMD_SYNC;
		slot[1] = 0;
	}
	wr(x->s, SMMU_GERRORN, 4, rd(x->s, SMMU_GERROR));
	/* Everything queued before is consumed; now drop anything illegal still queued. */
	mask = (2u << q_log2(base)) - 1;
	for (uint32_t guard = 0; guard <= mask && (rd(x->s, SMMU_GERROR) ^ rd(x->s, SMMU_GERRORN)) &
							  SMMU_GERROR_CMDQ_ERR;
	     guard++) {
		slot = slot_ptr(base, rd(x->s, SMMU_CMDQ_CONS));
		slot[0] = SMMU_CMD_SYNC;
		slot[1] = 0;
		wr(x->s, SMMU_GERRORN, 4, rd(x->s, SMMU_GERROR));
	}
	snap(x->s, &a);
	CHECK(!((a.gerror ^ a.gerrorn) & SMMU_GERROR_CMDQ_ERR));
	CHECK((a.cons & mask) == (a.prod & mask));
	/* CMD_SYNC, CS = SIG_IRQ with an MSI: completes and writes its data. */
	*msi = 0;
	c[0] = SMMU_CMD_SYNC | 1 << 12 | 0x600dULL << 32;
	c[1] = MSI_PAGE + 0xff0;
	prod = put_cmd(x, a.prod, c, false);
	kick(x, SMMU_CMDQ_PROD, prod);
	CHECK((rd(x->s, SMMU_CMDQ_CONS) & mask) == prod);
	CHECK(*msi == 0x600d);
	CHECK(!((rd(x->s, SMMU_GERROR) ^ rd(x->s, SMMU_GERRORN)) & SMMU_GERROR_CMDQ_ERR));
	wr(x->s, SMMU_CR0, 4, rd(x->s, SMMU_CR0) | SMMU_CR0_SMMUEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct smmuv3_params prm;
	struct ctx x = {0};
	uint8_t cfg = get8(&p, end);
	unsigned int log2 = 1 + cfg % 6;

	if (!ready)
		setup();
	smmuv3_params_default(&prm);
	prm.s1p = (cfg >> 3) % 3 != 2;
	prm.s2p = (cfg >> 3) % 3 != 1;
	prm.cache.iotlb = (struct xlate_cache_geom){.entries = 32, .ways = 2};
	prm.cache.walk[0] = prm.cache.walk[1] = (struct xlate_cache_geom){.entries = 8, .ways = 2};
	prm.cache.ipa = (struct xlate_cache_geom){.entries = 8, .ways = 2};
	prm.cache.cfg = (struct xlate_cache_geom){.entries = 8, .ways = 2};
	prm.pri = cfg & 0x20;
	prm.ats = cfg & 0x40;
	prm.stall = cfg & 0x80;
	x.s1p = prm.s1p;
	x.s2p = prm.s2p;
	x.pri = prm.pri;
	x.ats = prm.ats;
	x.stall = prm.stall;
	CHECK(!smmuv3_new(&prm, &arena.mem, &x.s));
	memset(hp(CMDQ_AREA), 0, 0x30000);
	wr(x.s, SMMU_STRTAB_BASE, 8, strtab);
	wr(x.s, SMMU_STRTAB_BASE_CFG, 4, 4);
	wr(x.s, SMMU_CMDQ_BASE, 8, CMDQ_AREA | log2);
	wr(x.s, SMMU_EVENTQ_BASE, 8, EVTQ_AREA | 6);
	wr(x.s, SMMU_CR2, 4, SMMU_CR2_RECINVSID);
	wr(x.s, SMMU_IRQ_CTRL, 4, SMMU_IRQ_GERROR_EN | SMMU_IRQ_EVENTQ_EN);
	kick(&x, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);

	for (unsigned int n = 0; p < end && n < 256; n++) {
		uint8_t op = get8(&p, end);
		uint64_t c[2];
		uint32_t prod;

		switch (op % 8) {
		case 0:
		case 1:
		case 2:
		case 3:
			c[0] = get64(&p, end);
			c[1] = get64(&p, end);
			prod = put_cmd(&x, rd(x.s, SMMU_CMDQ_PROD), c, op & 8);
			kick(&x, SMMU_CMDQ_PROD, prod);
			break;
		case 4: {
			unsigned int k = 1 + get8(&p, end) % 8;

			prod = rd(x.s, SMMU_CMDQ_PROD);
			for (unsigned int i = 0; i < k; i++) {
				c[0] = get64(&p, end);
				c[1] = get64(&p, end);
				prod = put_cmd(&x, prod, c, op & 8);
			}
			kick(&x, SMMU_CMDQ_PROD, prod);
			break;
		}
		case 5: {
			uint8_t sel = get8(&p, end);

			reg_write(&x, sel, get64(&p, end));
			break;
		}
		case 6: {
			uint8_t sel = get8(&p, end);
			uint64_t off = get64(&p, end);

			if (sel & 0x40)
				garbage_txn(&x, sel, off);
			else
				check_known(&x, sel, off);
			break;
		}
		default: {
			uint64_t base, *e;

			c[0] = get64(&p, end);
			c[1] = get64(&p, end);
			CHECK(!smmuv3_mmio_read(x.s, SMMU_CMDQ_BASE, 8, &base));
			e = slot_ptr(base, (uint32_t)(c[1] >> 52));
			if (e && (c[0] & 0xff) != SMMU_CMD_SYNC) {
				e[0] = c[0];
				e[1] = c[1];
			}
			break;
		}
		}
	}

	recover(&x);
	for (unsigned int i = 0; i < 4; i++)
		check_known(&x, i, i * 0x1238);
	smmuv3_free(x.s);
	return 0;
}
