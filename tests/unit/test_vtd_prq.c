// SPDX-License-Identifier: MIT
/*
 * lib/hw/vtd: page requests and the messages to devices. The page request
 * descriptor's bytes (as Linux 6.12's prq.c reads them), PPR / PRO and the
 * page request event, the unit's own answers (PRE clear, a full queue),
 * the page group response and device-TLB descriptors as the messages a
 * device receives (the Size encoding of the address), translation
 * requests (DTE, walk faults not recorded), and the register-based
 * invalidation (CCMD, IOTLB_REG) with the queue off and ignored with it
 * on. Memory as in vtd_env.h.
 */
#include <linux/pci_regs.h>

#include "hw/vtd/vtd_ep.h"
#include "vtd_env.h"

#define IOVA 0x10000000ULL
#define UR   (PT_PROT_R | PT_PROT_U)
#define UW   (PT_PROT_W | PT_PROT_U)

static struct vtd_dev_msg msgs[8];
static unsigned int nmsgs;

static void collect(void *opaque, const struct vtd_dev_msg *m)
{
	(void)opaque;
	if (nmsgs < 8)
		msgs[nmsgs] = *m;
	nmsgs++;
}

static void init_ats(struct vtd_env *t, struct pt_cfg *s2c)
{
	struct vtd_params p;

	vtd_params_default(&p);
	p.ats = p.prs = true;
	p.dev_msg = collect;
	nmsgs = 0;
	vt_init_p(t, NULL, s2c, &p);
}

/* ECAP.DT (2), PRS (29), PDS (42) follow the parameters. */
static void test_ecap(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_env t;

	vt_init(&t, NULL, &c2);
	assert_false(vt_rd(&t, VTD_ECAP_REG, 8) & (1ULL << 2 | 1ULL << 29 | 1ULL << 42));
	vt_destroy(&t);
	init_ats(&t, &c2);
	assert_int_equal(vt_rd(&t, VTD_ECAP_REG, 8) & (1ULL << 2 | 1ULL << 29 | 1ULL << 42),
			 1ULL << 2 | 1ULL << 29 | 1ULL << 42);
	vt_destroy(&t);
}

static void setup_prq(struct vtd_env *t, uint64_t *prq)
{
	*prq = vt_page(t);
	vt_wr(t, VTD_PQH_REG, 8, 0);
	vt_wr(t, VTD_PQA_REG, 8, *prq); /* PQS 0: 4 KiB, 128 descriptors */
	vt_wr(t, VTD_PECTL_REG, 4, 0);
	vt_wr(t, VTD_PEDATA_REG, 4, 0x99);
	vt_wr(t, VTD_PEADDR_REG, 4, t->status + 0x200);
}

/* A page request becomes the 32-byte descriptor at PQT, PPR and one event. */
static void test_page_request(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_page_req req = {.sid = VSID,
				   .pasid_valid = true,
				   .pasid = 0x12345,
				   .addr = 0x7654321abcULL,
				   .write = true,
				   .read = true,
				   .last = true,
				   .prgi = 0x1a5};
	struct vtd_env t;
	uint64_t prq, *d;

	init_ats(&t, &c2);
	vt_set_ctx(&t, 1ULL << 4 /* PRE */, 0);
	setup_prq(&t, &prq);
	assert_int_equal(vtd_page_request(t.v, &req), 0);
	d = vt_hp(&t, prq);
	/* type 1, PASID present 8, RID [31:16], PASID [51:32]; R 0, W 1, LPIG 2, PRGI [11:3]. */
	assert_int_equal(d[0], 1 | 1ULL << 8 | (uint64_t)VSID << 16 | 0x12345ULL << 32);
	assert_int_equal(d[1], 3 | 1ULL << 2 | 0x1a5ULL << 3 | 0x7654321000ULL);
	assert_int_equal(d[2] | d[3], 0);
	assert_int_equal(vt_rd(&t, VTD_PQT_REG, 8), 32);
	assert_int_equal(vt_rd(&t, VTD_PRS_REG, 4), VTD_PRS_PPR);
	assert_int_equal(t.irqs[VTD_IRQ_PRQ], 1);
	assert_int_equal(*(uint32_t *)vt_hp(&t, t.status + 0x200), 0x99);
	/* A second one: privileged execute, no PASID; PPR still set, no new event. */
	req = (struct vtd_page_req){
		.sid = VSID, .addr = 0x5000, .exe = true, .priv = true, .prgi = 3};
	assert_int_equal(vtd_page_request(t.v, &req), 0);
	assert_int_equal(d[4], 1 | (uint64_t)VSID << 16 | 1ULL << 52 | 1ULL << 53);
	assert_int_equal(d[5], 3ULL << 3 | 0x5000);
	assert_int_equal(t.irqs[VTD_IRQ_PRQ], 1);
	/* Software consumes both and clears PPR: the next request raises the event again. */
	vt_wr(&t, VTD_PQH_REG, 8, 64);
	vt_wr(&t, VTD_PRS_REG, 4, VTD_PRS_PPR);
	assert_int_equal(vt_rd(&t, VTD_PRS_REG, 4), 0);
	assert_int_equal(vtd_page_request(t.v, &req), 0);
	assert_int_equal(t.irqs[VTD_IRQ_PRQ], 2);
	assert_int_equal(nmsgs, 0);
	/* A PRGI beyond 9 bits, or a PASID beyond ECAP.PSS, cannot be sent. */
	req.prgi = 512;
	assert_int_equal(vtd_page_request(t.v, &req), -EINVAL);
	vt_destroy(&t);
}

/* PRE clear: fault 0x47 recorded, and the group answered Response Failure by the unit. */
static void test_page_request_pre(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_page_req req = {.sid = VSID,
				   .pasid_valid = true,
				   .pasid = 9,
				   .addr = 0x3000,
				   .read = true,
				   .last = true,
				   .prgi = 7};
	struct vtd_env t;
	uint64_t prq, hi;

	init_ats(&t, &c2);
	vt_set_ctx(&t, 0, 0);
	setup_prq(&t, &prq);
	assert_int_equal(vtd_page_request(t.v, &req), -EFAULT);
	hi = vt_rd(&t, VTD_FRCD_REG + 8, 8);
	assert_int_equal((hi >> 32) & 0xff, VTD_FR_CTX_PRE);
	assert_int_equal(VTD_FR_CTX_PRE, 0x47);
	assert_int_equal(vt_rd(&t, VTD_PQT_REG, 8), 0);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].type, VTD_MSG_PRG_RESP);
	assert_int_equal(msgs[0].sid, VSID);
	assert_int_equal(msgs[0].prgi, 7);
	assert_int_equal(msgs[0].code, VTD_PRG_FAILURE);
	assert_true(msgs[0].pasid_valid);
	assert_int_equal(msgs[0].pasid, 9);
	/* Not the last of its group: nothing to answer. */
	req.last = false;
	assert_int_equal(vtd_page_request(t.v, &req), -EFAULT);
	assert_int_equal(nmsgs, 1);
	vt_destroy(&t);
}

/* A full queue: PRO, the event, the request dropped and its group answered Success. */
static void test_page_request_overflow(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_page_req req = {.sid = VSID, .addr = 0x3000, .read = true, .last = true};
	struct vtd_env t;
	uint64_t prq;

	init_ats(&t, &c2);
	vt_set_ctx(&t, 1ULL << 4, 0);
	setup_prq(&t, &prq);
	/* 128 slots, one always empty: 127 fit. */
	for (unsigned int i = 0; i < 127; i++) {
		req.prgi = (uint16_t)i;
		assert_int_equal(vtd_page_request(t.v, &req), 0);
	}
	assert_int_equal(vt_rd(&t, VTD_PQT_REG, 8), 127 * 32);
	assert_int_equal(t.irqs[VTD_IRQ_PRQ], 1);
	req.prgi = 200;
	assert_int_equal(vtd_page_request(t.v, &req), -ENOSPC);
	assert_int_equal(vt_rd(&t, VTD_PRS_REG, 4), VTD_PRS_PPR | VTD_PRS_PRO);
	assert_int_equal(t.irqs[VTD_IRQ_PRQ], 2);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].prgi, 200);
	assert_int_equal(msgs[0].code, VTD_PRG_SUCCESS);
	/* While PRO is set nothing is queued, even with room. */
	vt_wr(&t, VTD_PQH_REG, 8, 127 * 32);
	assert_int_equal(vtd_page_request(t.v, &req), -ENOSPC);
	vt_wr(&t, VTD_PRS_REG, 4, VTD_PRS_PRO);
	assert_int_equal(vtd_page_request(t.v, &req), 0);
	assert_int_equal(vt_rd(&t, VTD_PQT_REG, 8), 0); /* wrapped */
	vt_destroy(&t);
}

/* The page group response descriptor (0x9) is the device's PRG Response Message. */
static void test_pgrp_resp(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_env t;

	init_ats(&t, &c2);
	/* PASID present, code Invalid Request, RID, PASID 0x54321; LPIG, PRGI 0x1ff. */
	assert_true(vt_inv(&t, 0x9 | 1ULL << 4 | 1ULL << 12 | 0x0304ULL << 16 | 0x54321ULL << 32,
			   1ULL << 2 | 0x1ffULL << 3));
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].type, VTD_MSG_PRG_RESP);
	assert_int_equal(msgs[0].sid, 0x0304);
	assert_true(msgs[0].pasid_valid);
	assert_int_equal(msgs[0].pasid, 0x54321);
	assert_int_equal(msgs[0].prgi, 0x1ff);
	assert_int_equal(msgs[0].code, VTD_PRG_INVALID);
	/* Reserved bits (qword 1 [63:12]) stop the queue. */
	assert_false(vt_inv(&t, 0x9, 1ULL << 12));
	assert_true(vt_rd(&t, VTD_FSTS_REG, 4) & VTD_FSTS_IQE);
	vt_destroy(&t);
	/* Without PRS the descriptor type is invalid. */
	vt_init(&t, NULL, &c2);
	assert_false(vt_inv(&t, 0x9, 0));
	assert_true(vt_rd(&t, VTD_FSTS_REG, 4) & VTD_FSTS_IQE);
	vt_destroy(&t);
}

/* Device-TLB descriptors: the Size encoding of ADDR (S: ones below the size's zero bit). */
static void test_dev_tlb(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_env t;

	init_ats(&t, &c2);
	/* S = 0: the one page. */
	assert_true(vt_inv(&t, 0x3 | 0x0108ULL << 32, 0x12345000));
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].type, VTD_MSG_ATS_INV);
	assert_int_equal(msgs[0].sid, 0x0108);
	assert_false(msgs[0].pasid_valid);
	assert_int_equal(msgs[0].addr, 0x12345000);
	assert_int_equal(msgs[0].size, 4096);
	/* S = 1, bit 12 zero: 8 KiB. */
	assert_true(vt_inv(&t, 0x3 | 0x0108ULL << 32, 0x12344000 | 1));
	assert_int_equal(msgs[1].addr, 0x12344000);
	assert_int_equal(msgs[1].size, 8192);
	/* S = 1, bits 12-14 ones, 15 zero: 64 KiB at 0x12340000. */
	assert_true(vt_inv(&t, 0x3 | 0x0108ULL << 32, 0x12347000 | 1));
	assert_int_equal(msgs[2].addr, 0x12340000);
	assert_int_equal(msgs[2].size, 65536);
	/* S = 1, ones up to bit 62: everything. */
	assert_true(vt_inv(&t, 0x3, 0x7ffffffffffff000ULL | 1));
	assert_int_equal(msgs[3].size, 0);
	/* PASID-based: SID [31:16], PASID [51:32], G (bit 0), S at bit 11. */
	assert_true(vt_inv(&t, 0x8 | 0x0108ULL << 16 | 0x77ULL << 32, 0x2000 | 1ULL << 11 | 1));
	assert_int_equal(msgs[4].sid, 0x0108);
	assert_true(msgs[4].pasid_valid);
	assert_int_equal(msgs[4].pasid, 0x77);
	assert_true(msgs[4].global);
	assert_int_equal(msgs[4].addr, 0x2000);
	assert_int_equal(msgs[4].size, 8192);
	assert_int_equal(nmsgs, 5);
	/* Reserved bits: qword 1 [11:1] of a device-TLB descriptor. */
	assert_false(vt_inv(&t, 0x3, 1ULL << 4));
	vt_destroy(&t);
	/* Without ECAP.DT both types are invalid. */
	vt_init(&t, NULL, &c2);
	assert_false(vt_inv(&t, 0x3, 0));
	vt_destroy(&t);
}

/* Translation requests: DTE needed (0x44); walk faults are answered, not recorded. */
static void test_translation_request(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_txn txn = {.sid = VSID, .pasid = VTD_NO_PASID, .access = UR, .ats_req = true};
	struct vtd_result r;
	struct vtd_stats st;
	struct vtd_env t;

	init_ats(&t, &c2);
	vt_set_ctx(&t, 0, 0);
	vt_pe_ss(&t, 0, DID);
	assert_int_equal(pt_map(&t.e.s2, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	txn.addr = IOVA;
	assert_int_equal(vtd_translate(t.v, &txn, &r), -EFAULT);
	assert_int_equal(r.reason, VTD_FR_CTX_DTE);
	assert_true(r.recorded);
	vt_wr(&t, VTD_FRCD_REG + 8, 8, 1ULL << 63);
	vt_set_ctx(&t, VTD_CTX0_DTE, 0);
	assert_true(vt_inv(&t, VTD_INV_CC | 1ULL << 4, 0));
	assert_int_equal(vtd_translate(t.v, &txn, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa);
	assert_int_equal(r.prot & PT_PROT_RW, PT_PROT_RW);
	/* Not mapped: no translation, nothing recorded. */
	txn.addr = IOVA + 0x1000;
	vtd_get_stats(t.v, &st);
	assert_int_equal(vtd_translate(t.v, &txn, &r), -EFAULT);
	assert_int_equal(r.reason, VTD_FR_SM_READ);
	assert_false(r.recorded);
	{
		struct vtd_stats st2;

		vtd_get_stats(t.v, &st2);
		assert_int_equal(st2.faults, st.faults);
	}
	/* The same untranslated request is recorded. */
	vt_expect_fault(&t, VTD_NO_PASID, IOVA + 0x1000, UR, VTD_FR_SM_READ, true);
	vt_destroy(&t);
	/* DTE without ECAP.DT is a reserved bit: 0x42. */
	vt_init(&t, NULL, &c2);
	vt_set_ctx(&t, VTD_CTX0_DTE, 0);
	vt_pe_ss(&t, 0, DID);
	vt_expect_fault(&t, VTD_NO_PASID, IOVA, UR, VTD_FR_CTX_RSVD, true);
	vt_destroy(&t);
}

/* CCMD and IOTLB_REG invalidate with the queue off; with it on they are ignored. */
static void test_register_invalidation(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_result r;
	struct vtd_stats st;
	struct vtd_env t;
	uint64_t other;

	vt_init(&t, NULL, &c2);
	assert_int_equal(vt_rd(&t, VTD_ECAP_REG, 8) >> 8 & 0x3ff, VTD_IVA_REG / 16);
	vt_set_ctx(&t, 0, 0);
	vt_pe_ss(&t, 0, DID);
	other = t.e.data_pa + 0x1000;
	assert_int_equal(pt_map(&t.e.s2, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, IOVA, UR, &r), 0);
	assert_int_equal(pt_unmap(&t.e.s2, IOVA, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&t.e.s2, IOVA, other, 0x1000, PT_PROT_RW), 0);
	/* Queue on: a page-selective IOTLB_REG write is ignored, the stale entry serves. */
	vt_wr(&t, VTD_IVA_REG, 8, IOVA);
	vt_wr(&t, VTD_IOTLB_REG, 8, VTD_IOTLB_IVT | 3ULL << 60 | (uint64_t)DID << 32);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, IOVA, UR, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa);
	vtd_get_stats(t.v, &st);
	assert_int_equal(st.reg_invs, 0);
	/* Queue off: the same write invalidates; IVT reads back 0 (done). */
	vt_wr(&t, VTD_GCMD_REG, 4, VTD_GCMD_TE);
	assert_false(vt_rd(&t, VTD_GSTS_REG, 4) & VTD_GSTS_QIES);
	vt_wr(&t, VTD_IOTLB_REG, 8, VTD_IOTLB_IVT | 3ULL << 60 | (uint64_t)DID << 32);
	assert_int_equal(vt_rd(&t, VTD_IOTLB_REG, 8), 0);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, IOVA, UR, &r), 0);
	assert_int_equal(r.pa, other);
	/* Another DID's domain-selective flush leaves this DID's entries. */
	assert_int_equal(pt_unmap(&t.e.s2, IOVA, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&t.e.s2, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	vt_wr(&t, VTD_IOTLB_REG, 8, VTD_IOTLB_IVT | 2ULL << 60 | (uint64_t)(DID + 1) << 32);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, IOVA, UR, &r), 0);
	assert_int_equal(r.pa, other);
	vt_wr(&t, VTD_IOTLB_REG, 8, VTD_IOTLB_IVT | 2ULL << 60 | (uint64_t)DID << 32);
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, IOVA, UR, &r), 0);
	assert_int_equal(r.pa, t.e.data_pa);
	/* CCMD device-selective: the context entry is read again. */
	vt_ce(&t, VSID)[0] &= ~CE0_P;
	assert_int_equal(vt_xlate(&t, VTD_NO_PASID, IOVA, UR, &r), 0);
	vt_wr(&t, VTD_CCMD_REG, 8, VTD_CCMD_ICC | 3ULL << 61 | (uint64_t)VSID << 16);
	vt_expect_fault(&t, VTD_NO_PASID, IOVA, UR, VTD_FR_CTX_NP, true);
	vtd_get_stats(t.v, &st);
	assert_int_equal(st.reg_invs, 4);
	vt_destroy(&t);
}

static struct vtd_ep *the_ep;

static void to_ep(void *opaque, const struct vtd_dev_msg *m)
{
	(void)opaque;
	collect(NULL, m);
	if (the_ep && m->sid == VSID)
		vtd_ep_msg(the_ep, m);
}

/*
 * The endpoint against the unit: ATC fill and hit, a page request from a
 * translation fault (PRI on), the host's page group response descriptor
 * reaching the waiting group, the retry; device-TLB invalidations
 * emptying the ATC by PASID.
 */
static void test_endpoint(void **state)
{
	struct pt_cfg c2 = vt_s2_cfg(0);
	struct vtd_ep_params ep = {.atc_entries = 4, .pri = true};
	struct vtd_txn txn = {.sid = VSID, .pasid = 3, .addr = IOVA + 0x10, .access = UW};
	struct pcie_ep_stats es;
	struct vtd_params p;
	struct vtd_result r;
	struct vtd_env t;
	uint16_t prgi;
	uint64_t prq, *d, pqt;

	vtd_params_default(&p);
	p.ats = p.prs = true;
	p.dev_msg = to_ep;
	nmsgs = 0;
	vt_init_p(&t, NULL, &c2, &p);
	assert_int_equal(vtd_ep_new(&ep, &the_ep), 0);
	vt_set_ctx(&t, VTD_CTX0_DTE | VTD_CTX0_PRE, 0);
	vt_pe_ss(&t, 3, DID);
	setup_prq(&t, &prq);
	/* PRI not enabled: a translation fault is just a failure. */
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), -EFAULT);
	assert_int_equal(r.reason, VTD_FR_SM_WRITE);
	assert_int_equal(vt_rd(&t, VTD_PQT_REG, 8), 0);
	/* PRI on: a page request for the page, write, LPIG; -EAGAIN with its group. */
	vtd_ep_set_pri(the_ep, true);
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), -EAGAIN);
	d = vt_hp(&t, prq);
	assert_int_equal(d[0], 1 | 1ULL << 8 | (uint64_t)VSID << 16 | 3ULL << 32);
	assert_int_equal(d[1], 2 | 1ULL << 2 | (uint64_t)prgi << 3 | IOVA);
	/* The host maps the page and answers Success with a page group response. */
	assert_int_equal(pt_map(&t.e.s2, IOVA, t.e.data_pa, 0x1000, PT_PROT_RW), 0);
	assert_true(vt_inv(&t, 0x9 | 1ULL << 4 | (uint64_t)VSID << 16 | 3ULL << 32,
			   1ULL << 2 | (uint64_t)prgi << 3));
	assert_int_equal(vtd_ep_prg_wait(the_ep, prgi), VTD_PRG_SUCCESS);
	assert_int_equal(vtd_ep_prg_wait(the_ep, prgi), -ENOENT);
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), 0);
	assert_int_equal(r.pa, t.e.data_pa + 0x10);
	assert_false(r.iotlb_hit);
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), 0);
	assert_true(r.iotlb_hit);
	assert_int_equal(vtd_ep_atc_count(the_ep), 1);
	/* Another PASID's invalidation leaves it; its own removes it. */
	assert_true(vt_inv(&t, 0x8 | (uint64_t)VSID << 16 | 4ULL << 32, IOVA));
	assert_int_equal(vtd_ep_atc_count(the_ep), 1);
	assert_true(vt_inv(&t, 0x8 | (uint64_t)VSID << 16 | 3ULL << 32, IOVA));
	assert_int_equal(vtd_ep_atc_count(the_ep), 0);
	/* Refill; a device-TLB invalidation without PASID removes every PASID's entry. */
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), 0);
	assert_true(vt_inv(&t, 0x3 | (uint64_t)VSID << 32, IOVA));
	assert_int_equal(vtd_ep_atc_count(the_ep), 0);
	/* Disabling PRI fails a waiting group. */
	txn.addr = IOVA + 0x5000;
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), -EAGAIN);
	vtd_ep_set_pri(the_ep, false);
	assert_int_equal(vtd_ep_prg_wait(the_ep, prgi), VTD_PRG_FAILURE);
	vtd_ep_get_stats(the_ep, &es);
	assert_int_equal(es.page_reqs, 2);
	assert_int_equal(es.prg_success, 1);
	assert_int_equal(es.atc_invs, 3);
	/* ...and left it Stopped (Enable cleared with Reset). */
	assert_int_equal(vtd_ep_pri_cfg_read(the_ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_STOPPED);
	/* Response Code 0xF (Response Failure): RF set, no page request until PRI is re-enabled. */
	vtd_ep_set_pri(the_ep, true);
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), -EAGAIN);
	assert_true(vt_inv(&t, 0x9 | 1ULL << 4 | 0xfULL << 12 | (uint64_t)VSID << 16 | 3ULL << 32,
			   1ULL << 2 | (uint64_t)prgi << 3));
	assert_int_equal(vtd_ep_prg_wait(the_ep, prgi), VTD_PRG_FAILURE);
	assert_int_equal(vtd_ep_pri_cfg_read(the_ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_RF);
	pqt = vt_rd(&t, VTD_PQT_REG, 8);
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), -EFAULT);
	assert_int_equal(vt_rd(&t, VTD_PQT_REG, 8), pqt);
	vtd_ep_set_pri(the_ep, false);
	vtd_ep_set_pri(the_ep, true);
	assert_int_equal(vtd_ep_pri_cfg_read(the_ep, PCI_PRI_STATUS, 2), 0);
	/* PRE cleared in the context entry: the unit answers Response Failure itself. */
	vt_set_ctx(&t, VTD_CTX0_DTE, 0);
	assert_true(vt_inv(&t, VTD_INV_CC | 1ULL << 4, 0)); /* global context-cache */
	assert_int_equal(vtd_ep_translate(the_ep, t.v, &txn, &r, &prgi), -EAGAIN);
	assert_int_equal(vtd_ep_prg_wait(the_ep, prgi), VTD_PRG_FAILURE);
	assert_int_equal(vtd_ep_pri_cfg_read(the_ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_RF);
	assert_int_equal(vt_rd(&t, VTD_PQT_REG, 8), pqt);
	vtd_ep_get_stats(the_ep, &es);
	assert_int_equal(es.page_reqs, 4);
	assert_int_equal(es.prg_failure, 2);
	assert_int_equal(es.prg_refused, 2); /* PRI off at first, then RF */
	vtd_ep_free(the_ep);
	the_ep = NULL;
	vt_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* clang-format off */
		cmocka_unit_test(test_ecap),
		cmocka_unit_test(test_page_request),
		cmocka_unit_test(test_page_request_pre),
		cmocka_unit_test(test_page_request_overflow),
		cmocka_unit_test(test_pgrp_resp),
		cmocka_unit_test(test_dev_tlb),
		cmocka_unit_test(test_translation_request),
		cmocka_unit_test(test_register_invalidation),
		cmocka_unit_test(test_endpoint),
		/* clang-format on */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
