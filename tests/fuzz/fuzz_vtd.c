// SPDX-License-Identifier: MIT
/*
 * fuzz_vtd.c - the VT-d model under guest-chosen invalidation descriptors,
 * PASID and context entries, first-stage tables and register writes.
 *
 * Each input is a fresh unit (small caches) over a fixed 4 MiB memory:
 * a root table, one context table (bus 0), a PASID directory and table
 * per known device, a second-stage table mapping a 64 KiB guest region
 * (IPA 0x20000000) onto host data, an invalidation queue area, a status
 * page. Known streams that nothing in the input may touch:
 *   SID 0x08  RID_PASID 0: second stage only over that table;
 *   SID 0x10  PASID 5: first stage only, IOVA 0x10000000 -> data.
 * Fuzzed structures (the guest's):
 *   SID 0x18  its context entry (qwords 0-1, P and the PASID directory
 *             pointer kept) and its PASID entries 0-7 (qword 0 keeps the
 *             known SSPTPTR and AW, and a PGTT of second stage or nested:
 *             a host never hands a guest PGTT first-stage-only or
 *             pass-through, nor the second stage's width;
 *             qwords 1-7 free: DID, FSPTPTR, SRE, FSPM, reserved bits ...);
 *   the guest region: 64 KiB of first-stage tables and data, at any byte.
 * Records, each an op byte and its operands:
 *   op % 6 = 0  an 8-byte write into a fuzzed structure (selector, value)
 *            1  a descriptor (16 bytes; with op bit 3 its type is replaced
 *               by a known one, 0x1-0x9: device-TLB and page group
 *               responses included) written at IQT, then IQT moved past it
 *            2  a register write: IQT (raw), FSTS, FECTL, ICS, IECTL, an
 *               FRCD's F, IQA (inside the queue area, any DW / QS), GCMD
 *               (QIE toggled; TE and the root pointer kept), PQH, PQA
 *               (inside the page request area), PRS / PECTL, CCMD, IVA_REG
 *               + IOTLB_REG (register-based invalidation)
 *            3  a request: stream selector, PASID, address, access; with
 *               selector bit 6 a page request (PRGI, LPIG) instead
 *            4  a guest-region write (offset, 8 bytes)
 *            5  a wait descriptor with status write (the driver's sync)
 *
 * Invariants (a __builtin_trap() when broken), besides no crash, no
 * sanitizer report and no leak:
 *  - the queue: with QIES and IQE clear, IQH has caught up with IQT after
 *    every write that runs it; with IQE set, IQH is a descriptor boundary
 *    inside the queue and stays put until IQE is cleared;
 *  - the page request queue: PQT stays a descriptor boundary inside it;
 *    an accepted request is the descriptor at the old PQT; messages to
 *    devices carry a 9-bit PRGI;
 *  - the known streams translate to the address their tables give,
 *    whatever descriptors shuffled the caches;
 *  - isolation: a request of the fuzzed device that translates lands in
 *    the host data the second stage maps, and so does the whole range the
 *    unit says translates alike.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hw/vtd/vtd.h"
#include "pt/pt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz_vtd: invariant broken at line %d: %s\n", __LINE__, \
				#cond);                                                          \
			__builtin_trap();                                                        \
		}                                                                                \
	} while (0)

#define HBASE	 0x40000000ULL
#define HSIZE	 0x400000ULL
#define ROOT	 (HBASE + 0x200000)
#define CTX	 (HBASE + 0x201000)
#define PDIR(i)	 (HBASE + 0x202000 + (i)*0x2000) /* i = 0..2: SIDs 0x08, 0x10, 0x18 */
#define PTBL(i)	 (PDIR(i) + 0x1000)
#define IQ_AREA	 (HBASE + 0x210000) /* 64 KiB */
#define STATUS	 (HBASE + 0x220000)
#define PRQ_AREA (HBASE + 0x230000) /* 64 KiB */
#define GUEST_PA (HBASE + 0x300000) /* 64 KiB of guest region */
#define DATA_PA	 (HBASE + 0x340000) /* 64 KiB of data */
#define GPA	 0x20000000ULL
#define IOVA	 0x10000000ULL
#define REGION	 0x10000ULL

static struct pt_arena arena;
static struct pt_table ss, fs;
static bool ready;

static uint64_t *hp(uint64_t pa)
{
	return (uint64_t *)(arena.buf + (pa - HBASE));
}

static int setup(void)
{
	struct pt_cfg sc = {.format = PT_VTD_SS, .ias = 48, .oas = 48};
	struct pt_cfg fc = {.format = PT_X86, .ias = 48, .oas = 48};

	if (pt_arena_init(&arena, HBASE, HSIZE) ||
	    pt_arena_reserve(&arena, HBASE + 0x200000, HSIZE - 0x200000))
		return -1;
	if (pt_cfg_init(&sc) || pt_cfg_init(&fc) || pt_table_init(&ss, &sc, &arena.mem) ||
	    pt_table_init(&fs, &fc, &arena.mem))
		return -1;
	/* The guest region (GPA) -> guest memory; IPA GPA + REGION -> data. */
	if (pt_map(&ss, GPA, GUEST_PA, REGION, PT_PROT_RW) ||
	    pt_map(&ss, GPA + REGION, DATA_PA, REGION, PT_PROT_RW) ||
	    pt_map(&fs, IOVA, DATA_PA, REGION, PT_PROT_RW | PT_PROT_U))
		return -1;
	return 0;
}

static const uint16_t sids[3] = {0x08, 0x10, 0x18};

/* The structures of one input: everything below 0x300000 + the guest region rewritten. */
static void reset_memory(void)
{
	memset(hp(ROOT), 0, 0x30000);
	memset(hp(GUEST_PA), 0, REGION);
	memset(hp(PRQ_AREA), 0, 0x10000);
	hp(ROOT)[0] = CTX | 1;
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t *ce = hp(CTX + (sids[i] & 0x7f) * 32);

		ce[0] = 1 | 1ULL << 3 | PDIR(i); /* P, PASIDE, PDTS 0 */
		hp(PDIR(i))[0] = PTBL(i) | 1;
	}
	/* SID 0x08, PASID 0: SS only, AW 2, DID 3. */
	hp(PTBL(0))[0] = 1 | 2ULL << 2 | 2ULL << 6 | ss.root;
	hp(PTBL(0))[1] = 3;
	/* SID 0x10, PASID 5: FS only, DID 4. */
	hp(PTBL(1) + 5 * 64)[0] = 1 | 1ULL << 6;
	hp(PTBL(1) + 5 * 64)[1] = 4;
	hp(PTBL(1) + 5 * 64)[2] = fs.root;
	/* SID 0x18, PASID 0: nested over the known second stage (guest FS at GPA). */
	hp(PTBL(2))[0] = 1 | 2ULL << 2 | 3ULL << 6 | ss.root;
	hp(PTBL(2))[1] = 7;
	hp(PTBL(2))[2] = GPA;
}

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct in *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes && in->n; i++, in->n--, in->p++)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static uint64_t rd(struct vtd *v, uint64_t off, unsigned int size)
{
	uint64_t val = 0;

	CHECK(!vtd_mmio_read(v, off, size, &val));
	return val;
}

static void wr(struct vtd *v, uint64_t off, unsigned int size, uint64_t val)
{
	CHECK(!vtd_mmio_write(v, off, size, val));
}

static uint64_t qbytes(struct vtd *v)
{
	return 4096ULL << (rd(v, VTD_IQA_REG, 8) & 7);
}

/* After a write that runs the queue (IQT, or clearing IQE). */
static void check_queue(struct vtd *v, uint64_t iqh_before, bool iqe_before)
{
	uint64_t iqh = rd(v, VTD_IQH_REG, 8), iqt = rd(v, VTD_IQT_REG, 8);
	bool iqe = rd(v, VTD_FSTS_REG, 4) & VTD_FSTS_IQE;
	bool dw = rd(v, VTD_IQA_REG, 8) & VTD_IQA_DW;

	if (!(rd(v, VTD_GSTS_REG, 4) & VTD_GSTS_QIES))
		return;
	if (iqe_before && iqe) {
		CHECK(iqh == iqh_before);
		return;
	}
	if (!iqe) {
		CHECK(iqh == iqt);
		return;
	}
	/* Stopped at a descriptor boundary inside the queue (or at an IQT it refused). */
	CHECK((iqh < qbytes(v) && !(iqh & 15)) || iqh == iqh_before);
	(void)dw;
}

static void check_known(struct vtd *v)
{
	struct vtd_txn t0 = {.sid = 0x08,
			     .pasid = VTD_NO_PASID,
			     .addr = GPA + REGION + 0x123,
			     .access = PT_PROT_W};
	struct vtd_txn t1 = {
		.sid = 0x10, .pasid = 5, .addr = IOVA + 0x4567, .access = PT_PROT_R | PT_PROT_U};
	struct vtd_result r;

	if (!(rd(v, VTD_GSTS_REG, 4) & VTD_GSTS_TES))
		return;
	CHECK(!vtd_translate(v, &t0, &r) && r.pa == DATA_PA + 0x123);
	CHECK(!vtd_translate(v, &t1, &r) && r.pa == DATA_PA + 0x4567);
}

static void dev_msg(void *opaque, const struct vtd_dev_msg *m)
{
	(void)opaque;
	CHECK(m->type != VTD_MSG_PRG_RESP || m->prgi < 512);
	CHECK(m->type != VTD_MSG_ATS_INV || !m->size || !(m->size & (m->size - 1)));
}

static void page_request(struct vtd *v, struct in *in, unsigned int sel)
{
	uint64_t pqt = rd(v, VTD_PQT_REG, 8), bytes = 4096ULL << (rd(v, VTD_PQA_REG, 8) & 7);
	struct vtd_page_req req = {
		.sid = sids[sel % 3],
		.pasid_valid = !(sel & 0x80),
		.pasid = (uint32_t)take(in, 1) & 7,
		.addr = take(in, 8),
		.read = sel & 0x4,
		.write = sel & 0x8,
		.priv = sel & 0x10,
		.exe = sel & 0x20,
	};
	uint16_t x = (uint16_t)take(in, 2);

	req.prgi = x & 0x1ff;
	req.last = x & 0x200;
	if (!vtd_page_request(v, &req)) {
		const uint64_t *d = hp(PRQ_AREA + pqt);

		CHECK((d[0] >> 16 & 0xffff) == req.sid && ((d[0] >> 8) & 1) == req.pasid_valid);
		CHECK((d[1] >> 3 & 0x1ff) == req.prgi &&
		      (d[1] & ~0xfffULL) == (req.addr & ~0xfffULL));
	}
	pqt = rd(v, VTD_PQT_REG, 8);
	CHECK(!(pqt & 31) && pqt < bytes);
}

static void request(struct vtd *v, struct in *in)
{
	unsigned int sel = (unsigned int)take(in, 1);

	if (sel & 0x40) {
		page_request(v, in, sel);
		return;
	}
	struct vtd_txn t = {
		.sid = sids[sel % 3],
		.pasid = sel & 0x80 ? VTD_NO_PASID : (uint32_t)(take(in, 1) & 7),
		.addr = take(in, 8),
		.access = (sel & 0x8 ? PT_PROT_W : PT_PROT_R) | (sel & 0x10 ? PT_PROT_U : 0),
	};
	struct vtd_result r;

	if (sel & 0x20)
		t.addr &= 0xffffffffULL; /* near the mapped ranges more often */
	if (vtd_translate(v, &t, &r) || t.sid != 0x18)
		return;
	/* Isolation: the fuzzed device reaches only what the second stage maps. */
	{
		uint64_t base = r.pa & ~(r.size - 1);

		CHECK(r.size && !(r.size & (r.size - 1)));
		CHECK((base >= DATA_PA && base + r.size <= DATA_PA + REGION) ||
		      (base >= GUEST_PA && base + r.size <= GUEST_PA + REGION));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	struct vtd_params p;
	struct vtd *v;
	uint32_t seq = 0;

	if (!ready) {
		if (setup())
			return 0;
		ready = true;
	}
	reset_memory();
	vtd_params_default(&p);
	p.cache.iotlb = (struct xlate_cache_geom){16, 4};
	p.cache.walk[0] = p.cache.walk[1] = (struct xlate_cache_geom){8, 4};
	p.cache.ipa = (struct xlate_cache_geom){8, 4};
	p.cache.cfg = (struct xlate_cache_geom){8, 4};
	p.nfr = 4;
	p.ats = p.prs = true;
	p.dev_msg = dev_msg;
	if (vtd_new(&p, &arena.mem, &v))
		return 0;
	wr(v, VTD_RTADDR_REG, 8, ROOT | VTD_RTADDR_SMT);
	wr(v, VTD_GCMD_REG, 4, VTD_GCMD_SRTP);
	wr(v, VTD_IQA_REG, 8, IQ_AREA);
	wr(v, VTD_GCMD_REG, 4, VTD_GCMD_QIE);
	wr(v, VTD_GCMD_REG, 4, VTD_GCMD_QIE | VTD_GCMD_TE);
	wr(v, VTD_PQA_REG, 8, PRQ_AREA);
	check_known(v);

	while (in.n) {
		unsigned int op = (unsigned int)take(&in, 1);
		uint64_t iqh = rd(v, VTD_IQH_REG, 8);
		bool iqe = rd(v, VTD_FSTS_REG, 4) & VTD_FSTS_IQE;

		switch (op % 6) {
		case 0: { /* a fuzzed structure qword */
			unsigned int sel = (unsigned int)take(&in, 1);
			uint64_t val = take(&in, 8);

			if (sel & 0x80) {
				uint64_t *ce = hp(CTX + (0x18 & 0x7f) * 32);

				/* Host-owned: RID_PASID stays in the fuzzed PASID table. */
				if (sel & 1)
					ce[1] = val & ~0xffff8ULL;
				else
					ce[0] = (val & 0xfffULL) | PDIR(2) | 1;
			} else {
				uint64_t *pe = hp(PTBL(2) + ((sel >> 3) & 7) * 64);
				unsigned int q = sel & 7;

				/*
				 * qword 0: the host's AW (the known second
				 * stage has 4 levels) and SSPTPTR, PGTT second
				 * stage or nested; P, FPD, SSEE, SSADE free.
				 */
				if (q == 0)
					val = (val & 0x223ULL) | 2ULL << 2 |
					      (2ULL + (val >> 6 & 1)) << 6 | ss.root;
				pe[q] = val;
			}
			break;
		}
		case 1: { /* a descriptor at IQT */
			uint64_t d0 = take(&in, 8), d1 = take(&in, 8);
			uint64_t iqt = rd(v, VTD_IQT_REG, 8), qb = qbytes(v);
			bool dw = rd(v, VTD_IQA_REG, 8) & VTD_IQA_DW;
			uint64_t *slot = hp(IQ_AREA + (iqt % qb));

			if (op & 8)
				d0 = (d0 & ~0xe0fULL) | (1 + (op >> 4) % 9);
			if (d0 % 16 == VTD_INV_WAIT)
				d1 = STATUS + (d1 & 0xffc);
			slot[0] = d0;
			slot[1] = d1;
			if (dw) {
				slot[2] = op & 0x80 ? d1 : 0;
				slot[3] = 0;
			}
			wr(v, VTD_IQT_REG, 8, (iqt + (dw ? 32 : 16)) % qb);
			check_queue(v, iqh, iqe);
			break;
		}
		case 2: { /* a register write */
			unsigned int sel = (unsigned int)take(&in, 1);
			uint64_t val = take(&in, 8);

			switch (sel % 12) {
			case 0:
				wr(v, VTD_IQT_REG, 8, val);
				break;
			case 1:
				wr(v, VTD_FSTS_REG, 4, val);
				break;
			case 2:
				wr(v, VTD_FECTL_REG, 4, val);
				break;
			case 3:
				wr(v, VTD_ICS_REG, 4, val);
				wr(v, VTD_IECTL_REG, 4, val >> 32);
				break;
			case 4:
				wr(v, VTD_FRCD_REG + 16 * (val % 4) + 8, 8, val);
				break;
			case 5: /* IQA, inside the area (QS up to 4: 64 KiB) */
				wr(v, VTD_IQA_REG, 8, IQ_AREA | (val & VTD_IQA_DW) | (val % 5));
				break;
			case 8:
				wr(v, VTD_PQH_REG, 8, val);
				break;
			case 9: /* PQA inside the area (PQS up to 4), PRS, PECTL */
				if (val & 1)
					wr(v, VTD_PQA_REG, 8, PRQ_AREA | (val >> 1) % 5);
				wr(v, VTD_PRS_REG, 4, val >> 8);
				wr(v, VTD_PECTL_REG, 4, val >> 32);
				break;
			case 10:
				wr(v, VTD_CCMD_REG, 8, val);
				break;
			case 11:
				wr(v, VTD_IVA_REG, 8, val);
				wr(v, VTD_IOTLB_REG, 8, val << 7 | 1ULL << 63);
				break;
			default: { /* QIE toggled, TE and the root pointer kept */
				uint32_t g = (uint32_t)rd(v, VTD_GSTS_REG, 4);

				wr(v, VTD_GCMD_REG, 4,
				   (g & (VTD_GCMD_TE | VTD_GCMD_QIE)) ^ VTD_GCMD_QIE);
				break;
			}
			}
			/* An IQT write runs the queue; so does clearing an IQE that was set. */
			if (sel % 12 == 0)
				check_queue(v, iqh, iqe);
			else if (sel % 12 == 1 && iqe && (val & VTD_FSTS_IQE))
				check_queue(v, iqh, false);
			break;
		}
		case 3:
			request(v, &in);
			break;
		case 4: { /* the guest region */
			uint64_t off = take(&in, 2) % (REGION - 7);

			memcpy((uint8_t *)hp(GUEST_PA) + off, &(uint64_t){take(&in, 8)}, 8);
			break;
		}
		default: { /* the driver's sync: a wait with status write */
			uint64_t iqt = rd(v, VTD_IQT_REG, 8), qb = qbytes(v);
			bool dw = rd(v, VTD_IQA_REG, 8) & VTD_IQA_DW;
			uint64_t *slot = hp(IQ_AREA + (iqt % qb));
			bool empty = iqh == iqt; /* a driver syncs on a drained queue */

			seq++;
			slot[0] = VTD_INV_WAIT | 1ULL << 5 | (uint64_t)seq << 32;
			slot[1] = STATUS;
			if (dw)
				slot[2] = slot[3] = 0;
			wr(v, VTD_IQT_REG, 8, (iqt + (dw ? 32 : 16)) % qb);
			check_queue(v, iqh, iqe);
			/* It ran when the queue was drained, and is clean and enabled. */
			if (empty && (rd(v, VTD_GSTS_REG, 4) & VTD_GSTS_QIES) &&
			    !(rd(v, VTD_FSTS_REG, 4) & VTD_FSTS_IQE))
				CHECK(*(uint32_t *)hp(STATUS) == seq);
			break;
		}
		}
		check_known(v);
	}
	vtd_free(v);
	return 0;
}
