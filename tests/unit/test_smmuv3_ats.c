// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: ATS - STE.EATS, translation requests, CMD_ATC_INV and its
 * completion by CMD_SYNC, and the endpoint model (smmuv3_ep.h) behind the
 * ATS port: its ATC and its page requests.
 *
 * Facts (IHI 0070 §5.2 STE.EATS, §4.5.1 CMD_ATC_INV, §7.3 F_BAD_ATS_TREQ
 * = 0x05; Linux's CMDQ_ATC_*): EATS is STE bits [93:92] (qword 1 [29:28]);
 * 0b01 full ATS, ILLEGAL with Config 0b11x and S2S; 0b10 split stage,
 * ILLEGAL unless Config 0b111 without S2S, else 0b00 without ATSCHK;
 * IGNORED without IDR0.ATS (bit 10) and for Config 0b100 (effective 0b00).
 * CMD_ATC_INV (0x40): Global 9, SSV 11, SSID [31:12], SID [63:32]; qword 1
 * Size [5:0], Address [63:12]; span 4096 << Size, aligned; 52 = all;
 * ILLEGAL without ATS; completes at the next CMD_SYNC, which fails with
 * CERROR_ATC_INV_SYNC (3) when an endpoint does not answer.
 */
#include <pthread.h>
#include <sched.h>

#include <linux/pci_regs.h>

#include "smmuv3_env.h"

#include "hw/smmuv3/smmuv3_ep.h"

#define SID  3
#define VMID 9
#define STE1_EATS(e) ((uint64_t)(e) << 28)
#define ATC_INV(sid, ssv, ssid, g)                                                 \
	(0x40ULL | (uint64_t)(g) << 9 | (uint64_t)(ssv) << 11 | (uint64_t)(ssid) << 12 | \
	 (uint64_t)(sid) << 32)
#define CMD_SYNC	 0x46ULL
#define TLBI_S12_VMALL(v) (0x28ULL | (uint64_t)(v) << 32)

/* The ATS port: everything goes to one endpoint (or times out). */
static struct smmuv3_ep *the_ep;
static bool inv_timeout;
static unsigned int nr_invs;

static void port_prg_resp(void *opaque, const struct smmuv3_prg_resp *r)
{
	(void)opaque;
	if (r->sid == SID && the_ep)
		smmuv3_ep_prg_resp(the_ep, r);
}

static int port_atc_inv(void *opaque, const struct smmuv3_atc_inv *inv)
{
	(void)opaque;
	nr_invs++;
	if (inv_timeout)
		return -ETIMEDOUT;
	return inv->sid == SID && the_ep ? smmuv3_ep_atc_inv(the_ep, inv) : 0;
}

struct ats_env {
	struct smmu_env t;
	struct smmuv3_ep *ep;
	uint64_t priq;
};

/* Stage 2 only (4K pages, no blocks), SID with EATS @eats; an endpoint with an ATC (and PRI). */
static void ats_init(struct ats_env *a, unsigned int eats, bool pri)
{
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, PT_CFG_NO_BLOCKS);
	struct smmuv3_ep_params ep = { .atc_entries = 8, .pri = pri };
	struct smmuv3_params p;

	smmuv3_params_default(&p);
	p.ats = true;
	p.pri = pri;
	p.prg_resp = port_prg_resp;
	p.atc_inv = port_atc_inv;
	inv_timeout = false;
	nr_invs = 0;
	smmu_env_init_p(&a->t, NULL, &c2, &p);
	ste_set(&a->t, SID, STE0_V | STE0_CFG(6), STE1_EATS(eats), ste2_std(VMID, 40, 1),
		a->t.e.s2.root);
	assert_int_equal(smmuv3_ep_new(&ep, &a->ep), 0);
	the_ep = a->ep;
	if (pri) {
		a->priq = sm_alloc(&a->t, 4096);
		sm_w64(&a->t, SMMU_PRIQ_BASE, a->priq | 4);
		sm_w32(&a->t, SMMU_CR0, sm_r32(&a->t, SMMU_CR0) | SMMU_CR0_PRIQEN);
	}
}

static void ats_destroy(struct ats_env *a)
{
	the_ep = NULL;
	smmu_env_destroy(&a->t);
	smmuv3_ep_free(a->ep);
}

static int ep_xlate(struct ats_env *a, uint32_t ssid, uint64_t addr, unsigned int access,
		    struct smmuv3_result *r)
{
	struct smmuv3_txn txn = { .sid = SID, .ssid = ssid, .addr = addr, .access = access };

	return smmuv3_ep_translate(a->ep, a->t.s, &txn, r, NULL);
}

static int ats_req(struct ats_env *a, uint32_t sid, uint64_t addr, unsigned int access,
		   struct smmuv3_result *r)
{
	struct smmuv3_txn txn = { .sid = sid, .ssid = SMMU_NO_SSID, .addr = addr, .access = access };

	return smmuv3_ats_translate(a->t.s, &txn, r);
}

static uint32_t cmdq_err(struct smmu_env *t)
{
	return (sm_r32(t, SMMU_CMDQ_CONS) & SMMU_CMDQ_CONS_ERR_MASK) >> SMMU_CMDQ_CONS_ERR_SHIFT;
}

static void cmdq_recover(struct smmu_env *t)
{
	uint32_t cons = sm_r32(t, SMMU_CMDQ_CONS);
	uint64_t *p = sm_hp(t, t->cmdq + (uint64_t)(cons & ((1u << CMDQ_LOG2) - 1)) * 16);

	p[0] = CMD_SYNC;
	p[1] = 0;
	sm_w32(t, SMMU_GERRORN, sm_r32(t, SMMU_GERROR));
}

/* Move IPA page @ipa to a new output page (the stage 2 changes; no invalidation yet). */
static uint64_t remap(struct ats_env *a, uint64_t ipa, uint64_t new_pa)
{
	assert_int_equal(pt_unmap(&a->t.e.s2, ipa, 0x1000, NULL), 0);
	assert_int_equal(pt_map(&a->t.e.s2, ipa, new_pa, 0x1000, PT_PROT_RW), 0);
	return new_pa;
}

static void test_idr_eats(void **state)
{
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, 0);
	struct smmuv3_params p;
	struct smmuv3_result r;
	struct ats_env a;
	struct smmu_env t;

	(void)state;
	ats_init(&a, 1, false);
	assert_true(sm_r32(&a.t, SMMU_IDR0) & 1u << 10);
	/* EATS 0b01, stage 2 only: transactions and requests translate. */
	assert_int_equal(sm_xlate(&a.t, SID, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), 0);
	assert_int_equal(ats_req(&a, SID, GRAM_IPA + 0x123, PT_PROT_R | PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, a.t.e.gram_pa + 0x123);
	assert_int_equal(r.prot & PT_PROT_RW, PT_PROT_RW);
	/* EATS 0b10 on a stage-2-only STE: ILLEGAL. */
	ste_at(&a.t, SID)[1] = STE1_EATS(2);
	cmd_issue(&a.t, 0x03 | (uint64_t)SID << 32, 0);
	assert_int_equal(sm_xlate(&a.t, SID, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
	evt_next(&a.t);
	/* EATS 0b11 (no DPT): behaves as 0b00 - transactions fine, requests refused. */
	ste_at(&a.t, SID)[1] = STE1_EATS(3);
	cmd_issue(&a.t, 0x03 | (uint64_t)SID << 32, 0);
	assert_int_equal(sm_xlate(&a.t, SID, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), 0);
	assert_int_equal(ats_req(&a, SID, GRAM_IPA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_BAD_ATS_TREQ);
	evt_next(&a.t);
	ats_destroy(&a);

	/* With stall: EATS 0b01 and S2S together are ILLEGAL. */
	smmuv3_params_default(&p);
	p.ats = true;
	p.stall = true;
	smmu_env_init_p(&t, NULL, &c2, &p);
	ste_set(&t, SID, STE0_V | STE0_CFG(6), STE1_EATS(1), ste2_std(VMID, 40, 1) | STE2_S,
		t.e.s2.root);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
	smmu_env_destroy(&t);

	/* Without ATS: EATS is IGNORED (0b10 is no error), requests are not available. */
	smmuv3_params_default(&p);
	smmu_env_init_p(&t, NULL, &c2, &p);
	assert_false(sm_r32(&t, SMMU_IDR0) & 1u << 10);
	ste_set(&t, SID, STE0_V | STE0_CFG(6), STE1_EATS(2), ste2_std(VMID, 40, 1), t.e.s2.root);
	assert_int_equal(sm_xlate(&t, SID, SMMU_NO_SSID, GRAM_IPA, PT_PROT_R, &r), 0);
	{
		struct smmuv3_txn txn = { .sid = SID, .ssid = SMMU_NO_SSID, .addr = GRAM_IPA,
					  .access = PT_PROT_R };

		assert_int_equal(smmuv3_ats_translate(t.s, &txn, &r), -EOPNOTSUPP);
	}
	smmu_env_destroy(&t);
}

/* Translation requests: what is recorded and what is only in the completion. */
static void test_ats_requests(void **state)
{
	struct smmuv3_result r;
	struct smmuv3_stats st;
	struct ats_env a;
	const uint64_t *e;

	(void)state;
	ats_init(&a, 1, false);
	/* A translation fault (STE.S2R set): no record, no stall, the completion says it. */
	assert_int_equal(ats_req(&a, SID, 0x10000000, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_TRANSLATION);
	assert_false(r.recorded);
	assert_true(evt_empty(&a.t));
	/* EATS 0b00: F_BAD_ATS_TREQ, recorded with SID and the page address. */
	ste_set(&a.t, SID + 1, STE0_V | STE0_CFG(6), 0, ste2_std(VMID, 40, 1), a.t.e.s2.root);
	assert_int_equal(ats_req(&a, SID + 1, GRAM_IPA + 0x1234, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_BAD_ATS_TREQ);
	assert_true(r.recorded);
	e = evt_next(&a.t);
	assert_int_equal(e[0], 0x05 | (uint64_t)(SID + 1) << 32);
	assert_int_equal(e[1], 1ULL << 33 | 1ULL << 35); /* privileged read */
	assert_int_equal(e[2], GRAM_IPA + 0x1000);
	/* A bypass STE: effective EATS 0b00, whatever the field says. */
	ste_set(&a.t, SID + 2, STE0_V | STE0_CFG(4), STE1_EATS(1), 0, 0);
	assert_int_equal(ats_req(&a, SID + 2, 0x5000, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_F_BAD_ATS_TREQ);
	evt_next(&a.t);
	/* An abort STE: Unsupported Request without a record. */
	ste_set(&a.t, SID + 3, STE0_V, STE1_EATS(1), 0, 0);
	assert_int_equal(ats_req(&a, SID + 3, 0x5000, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_NONE);
	/* A bad STE: its configuration error, recorded. */
	ste_set(&a.t, SID + 4, STE0_CFG(6), STE1_EATS(1), 0, 0);
	assert_int_equal(ats_req(&a, SID + 4, 0x5000, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
	evt_next(&a.t);
	/* SMMUEN = 0: Unsupported Request, silent. */
	sm_w32(&a.t, SMMU_CR0, sm_r32(&a.t, SMMU_CR0) & ~SMMU_CR0_SMMUEN);
	assert_int_equal(ats_req(&a, SID, GRAM_IPA, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_NONE);
	assert_true(evt_empty(&a.t));
	smmuv3_get_stats(a.t.s, &st);
	assert_int_equal(st.ats_reqs, 6);
	ats_destroy(&a);
}

/*
 * The ATC serves a stale translation after the page moved and the SMMU's TLB
 * was invalidated; CMD_ATC_INV alone does not complete; CMD_SYNC does, and
 * the next access translates anew.
 */
static void test_atc_inv_sync(void **state)
{
	struct pcie_ep_stats est;
	struct smmuv3_result r;
	struct ats_env a;
	uint64_t old_pa, new_pa;

	(void)state;
	ats_init(&a, 1, false);
	old_pa = a.t.e.gram_pa + 0x2000;
	assert_int_equal(ep_xlate(&a, SMMU_NO_SSID, GRAM_IPA + 0x2008, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, old_pa + 8);
	assert_false(r.iotlb_hit); /* from a translation request */
	new_pa = remap(&a, GRAM_IPA + 0x2000, a.t.e.gram_pa + 0x7000);
	cmd_issue(&a.t, TLBI_S12_VMALL(VMID), 0);
	cmd_issue(&a.t, CMD_SYNC, 0);
	/* The SMMU now translates to the new page; the ATC still to the old. */
	assert_int_equal(sm_xlate(&a.t, SID, SMMU_NO_SSID, GRAM_IPA + 0x2008, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, new_pa + 8);
	assert_int_equal(ep_xlate(&a, SMMU_NO_SSID, GRAM_IPA + 0x2010, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, old_pa + 0x10);
	assert_true(r.iotlb_hit);
	/* ATC_INV consumed, not yet complete. */
	cmd_issue(&a.t, ATC_INV(SID, 0, 0, 0), GRAM_IPA + 0x2000);
	assert_int_equal(nr_invs, 0);
	assert_int_equal(ep_xlate(&a, SMMU_NO_SSID, GRAM_IPA + 0x2010, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, old_pa + 0x10);
	/* CMD_SYNC: delivered, and the next access sees the new translation. */
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(nr_invs, 1);
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 0);
	assert_int_equal(ep_xlate(&a, SMMU_NO_SSID, GRAM_IPA + 0x2010, PT_PROT_R, &r), 0);
	assert_int_equal(r.pa, new_pa + 0x10);
	smmuv3_ep_get_stats(a.ep, &est);
	assert_int_equal(est.atc_fills, 2);
	assert_int_equal(est.atc_hits, 2);
	ats_destroy(&a);
}

/* The span: Size and Address alignment, SSV / SSID, Global. */
static void test_atc_inv_span(void **state)
{
	struct smmuv3_result r;
	struct ats_env a;

	(void)state;
	ats_init(&a, 1, false);
	/* Three entries: no PASID at +0x4000, PASID 5 and PASID 6 (filled directly) at +0x8000. */
	assert_int_equal(ep_xlate(&a, SMMU_NO_SSID, GRAM_IPA + 0x4000, PT_PROT_R, &r), 0);
	r = (struct smmuv3_result){ .pa = a.t.e.gram_pa + 0x8000, .size = 0x1000,
				    .prot = PT_PROT_RW };
	smmuv3_ep_atc_fill(a.ep, smmuv3_ep_atc_gen(a.ep), 5, GRAM_IPA + 0x8000, &r);
	smmuv3_ep_atc_fill(a.ep, smmuv3_ep_atc_gen(a.ep), 6, GRAM_IPA + 0x8000, &r);
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 3);
	/* Size 1 (8 KiB) at +0x6000 (aligned down to +0x6000): covers neither. */
	cmd_issue(&a.t, ATC_INV(SID, 0, 0, 0), (GRAM_IPA + 0x6000) | 1);
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 3);
	/* Size 2 (16 KiB) given +0x7000: aligned to +0x4000, covers the first only. */
	cmd_issue(&a.t, ATC_INV(SID, 0, 0, 0), (GRAM_IPA + 0x7000) | 2);
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 2);
	assert_int_not_equal(smmuv3_ep_atc_lookup(a.ep, SMMU_NO_SSID, GRAM_IPA + 0x4000,
						  PT_PROT_R, &r.pa, &r.size), 0);
	/* SSV, SSID 5: PASID 5's entry only. */
	cmd_issue(&a.t, ATC_INV(SID, 1, 5, 0), GRAM_IPA + 0x8000);
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 1);
	assert_int_equal(smmuv3_ep_atc_lookup(a.ep, 6, GRAM_IPA + 0x8000, PT_PROT_R, &r.pa,
					      &r.size), 0);
	/* SSV, SSID 7, Global: every PASID's entry in the range. */
	cmd_issue(&a.t, ATC_INV(SID, 1, 7, 1), GRAM_IPA + 0x8000);
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 0);
	/* No SSV: everything in the range, whatever its PASID; Size 52: everything. */
	smmuv3_ep_atc_fill(a.ep, smmuv3_ep_atc_gen(a.ep), 6, GRAM_IPA + 0x8000, &r);
	cmd_issue(&a.t, ATC_INV(SID, 0, 0, 0), 52);
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 0);
	/* Another SID's invalidation does not reach this endpoint. */
	assert_int_equal(ep_xlate(&a, SMMU_NO_SSID, GRAM_IPA + 0x4000, PT_PROT_R, &r), 0);
	cmd_issue(&a.t, ATC_INV(SID + 1, 0, 0, 0), 52);
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 1);
	/* A fill racing an invalidation is dropped. */
	{
		uint64_t gen = smmuv3_ep_atc_gen(a.ep);

		cmd_issue(&a.t, ATC_INV(SID, 0, 0, 0), 52);
		cmd_issue(&a.t, CMD_SYNC, 0);
		smmuv3_ep_atc_fill(a.ep, gen, 6, GRAM_IPA + 0x8000, &r);
		assert_int_equal(smmuv3_ep_atc_count(a.ep), 0);
	}
	ats_destroy(&a);
}

/* CERROR_ILL without ATS and for Size > 52; IGNORED with SMMUEN = 0; the SYNC timeout. */
static void test_atc_inv_errors(void **state)
{
	struct smmuv3_params p;
	struct ats_env a;
	struct smmu_env t;

	(void)state;
	ats_init(&a, 1, false);
	cmd_issue(&a.t, ATC_INV(SID, 0, 0, 0), 53);
	assert_int_equal(cmdq_err(&a.t), SMMU_CERROR_ILL);
	cmdq_recover(&a.t);
	assert_int_equal(sm_r32(&a.t, SMMU_GERROR) ^ sm_r32(&a.t, SMMU_GERRORN), 0);
	/* An endpoint that never completes: the CMD_SYNC after it stops with ATC_INV_SYNC. */
	inv_timeout = true;
	cmd_issue(&a.t, ATC_INV(SID, 0, 0, 0), 52);
	assert_int_equal(sm_r32(&a.t, SMMU_GERROR) ^ sm_r32(&a.t, SMMU_GERRORN), 0);
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(sm_r32(&a.t, SMMU_GERROR) ^ sm_r32(&a.t, SMMU_GERRORN),
			 SMMU_GERROR_CMDQ_ERR);
	assert_int_equal(cmdq_err(&a.t), SMMU_CERROR_ATC_INV_SYNC);
	assert_int_equal(sm_r32(&a.t, SMMU_CMDQ_CONS) & 0xf, (sm_r32(&a.t, SMMU_CMDQ_PROD) - 1) & 0xf);
	inv_timeout = false;
	cmdq_recover(&a.t); /* the SYNC again: nothing pending, it completes */
	assert_int_equal(sm_r32(&a.t, SMMU_CMDQ_CONS) & 0xf, sm_r32(&a.t, SMMU_CMDQ_PROD) & 0xf);
	/* SMMUEN = 0: IGNORED, nothing held for the SYNC. */
	sm_w32(&a.t, SMMU_CR0, sm_r32(&a.t, SMMU_CR0) & ~SMMU_CR0_SMMUEN);
	nr_invs = 0;
	cmd_issue(&a.t, ATC_INV(SID, 0, 0, 0), 52);
	cmd_issue(&a.t, CMD_SYNC, 0);
	assert_int_equal(nr_invs, 0);
	ats_destroy(&a);

	smmuv3_params_default(&p);
	smmu_env_init_p(&t, NULL, NULL, &p);
	cmd_issue(&t, ATC_INV(SID, 0, 0, 0), 52);
	assert_int_equal(cmdq_err(&t), SMMU_CERROR_ILL);
	smmu_env_destroy(&t);
}

/* The endpoint's page request: PRI queue, software maps and answers, the access goes through. */
static void test_ep_pri(void **state)
{
	struct pcie_ep_stats est;
	struct smmuv3_result r;
	struct smmuv3_txn txn = { .sid = SID, .ssid = SMMU_NO_SSID, .addr = 0x10000040,
				  .access = PT_PROT_W };
	struct ats_env a;
	const uint64_t *rec;
	uint16_t prgi = 999;

	(void)state;
	ats_init(&a, 1, true);
	/* IPA 0x10000000 is not mapped: a page request, and -EAGAIN. */
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), -EAGAIN);
	assert_true(prgi < 512);
	assert_int_equal(sm_r32(&a.t, SMMU_PRIQ_PROD), 1);
	rec = sm_hp(&a.t, a.priq);
	assert_int_equal(rec[0], (uint64_t)SID | 1ULL << 58 | 1ULL << 61 | 1ULL << 62);
	assert_int_equal(rec[1], 0x10000000ULL | prgi);
	assert_true(evt_empty(&a.t)); /* requests' faults are not events */
	/* Software: map the page, answer Success for the group. */
	assert_int_equal(pt_map(&a.t.e.s2, 0x10000000, a.t.e.gram_pa + 0x3000, 0x1000,
				PT_PROT_RW), 0);
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)prgi | 2ULL << 12);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_SUCCESS);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), -ENOENT); /* free again */
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), 0);
	assert_int_equal(r.pa, a.t.e.gram_pa + 0x3040);
	/* Invalid Request: the endpoint gives up on that page. */
	txn.addr = 0x20000000;
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), -EAGAIN);
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)prgi | 1ULL << 12);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_INVALID);
	/* A response nobody waits for is ignored (Unexpected PRG Index). */
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, 17ULL | 2ULL << 12);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_UPRGI);
	/* PRIQEN = 0: the SMMU answers Response Failure itself; PRI stops. */
	sm_w32(&a.t, SMMU_CR0, sm_r32(&a.t, SMMU_CR0) & ~SMMU_CR0_PRIQEN);
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), -EAGAIN);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_FAILURE);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2),
			 PCI_PRI_STATUS_RF | PCI_PRI_STATUS_UPRGI);
	smmuv3_ep_get_stats(a.ep, &est);
	assert_int_equal(est.page_reqs, 3);
	assert_int_equal(est.prg_success, 1);
	assert_int_equal(est.prg_invalid, 1);
	assert_int_equal(est.prg_failure, 1);
	assert_int_equal(est.prg_stray, 1);
	/* Disable, Reset, enable: PRI works again, the status bits clear. */
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2, PCI_PRI_CTRL_RESET), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2, PCI_PRI_CTRL_ENABLE), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), 0);
	/* All 512 group indexes outstanding: -EBUSY. */
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(smmuv3_ep_prg_alloc(a.ep, &prgi), 0);
	assert_int_equal(smmuv3_ep_prg_alloc(a.ep, &prgi), -EBUSY);
	smmuv3_ep_prg_abort(a.ep);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_FAILURE);
	ats_destroy(&a);
}

/*
 * The PRI capability after a Response Failure (PCIe PRI; Linux's
 * PCI_PRI_* layout): CMD_PRI_RESP Resp 0b00 is Response Failure
 * (0b01 Invalid Request, 0b10 Success). The function sets RF (Status bit
 * 0), gives up its other waiting groups, sends no page request (a fault
 * fails at once, nothing in the PRI queue), ignores every later response
 * (no UPRGI either). Clearing Enable leaves the given-up groups'
 * requests outstanding (Stopped, Status bit 8, stays clear); Reset with
 * Enable clear clears them (Stopped set); setting Enable clears RF,
 * UPRGI and Stopped, and page requests flow again.
 */
static void test_ep_pri_response_failure(void **state)
{
	struct smmuv3_txn txn = {
		.sid = SID, .ssid = SMMU_NO_SSID, .addr = 0x20000000, .access = PT_PROT_R};
	struct pcie_ep_stats est;
	struct smmuv3_result r;
	struct ats_env a;
	uint16_t g1, g2, prgi;

	(void)state;
	ats_init(&a, 1, true);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_CTRL, 2), PCI_PRI_CTRL_ENABLE);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_MAX_REQ, 4), 512);
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_ALLOC_REQ, 4, 8), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_ALLOC_REQ, 4), 8);
	/* Two groups outstanding; the first is answered Response Failure. */
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &g1), -EAGAIN);
	txn.addr = 0x20005000;
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &g2), -EAGAIN);
	assert_int_equal(sm_r32(&a.t, SMMU_PRIQ_PROD), 2);
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)g1 | 0ULL << 12);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_RF);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, g1), SMMU_PRG_FAILURE);
	/* The other group is given up: its access fails too. */
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, g2), SMMU_PRG_FAILURE);
	/* No page request while RF: the fault fails, the PRI queue is unchanged. */
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), -EFAULT);
	assert_int_equal(sm_r32(&a.t, SMMU_PRIQ_PROD), 2);
	/* Responses are ignored: g2's Success and a stray index set nothing. */
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)g2 | 2ULL << 12);
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, 300ULL | 2ULL << 12);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_RF);
	smmuv3_ep_get_stats(a.ep, &est);
	assert_int_equal(est.page_reqs, 2);
	assert_int_equal(est.prg_failure, 1);
	assert_int_equal(est.prg_success, 0);
	assert_int_equal(est.prg_ignored, 2);
	assert_int_equal(est.prg_stray, 0);
	assert_int_equal(est.prg_refused, 1);
	/* RF stays when Enable is cleared; g2's request is still outstanding: not Stopped. */
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2, 0), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_CTRL, 2), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_RF);
	/* Reset (reads 0): the pending state goes, Stopped. */
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2, PCI_PRI_CTRL_RESET), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_CTRL, 2), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2),
			 PCI_PRI_STATUS_RF | PCI_PRI_STATUS_STOPPED);
	/* Still disabled: a fault fails without a page request. */
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), -EFAULT);
	/* Enable: RF and Stopped clear, page requests again. */
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2, PCI_PRI_CTRL_ENABLE), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), 0);
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), -EAGAIN);
	assert_int_equal(sm_r32(&a.t, SMMU_PRIQ_PROD), 3);
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)prgi | 1ULL << 12);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_INVALID);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), 0);
	ats_destroy(&a);
}

/*
 * Unexpected PRG Index (Status bit 1): a response for an index with no
 * request outstanding sets it and is otherwise ignored; writing 1 clears
 * it (RW1C), writing 0 does not; so does setting Enable from clear. And
 * Stopped: with Enable clear and a group outstanding it is clear; the
 * group's response (still taken with Enable clear) sets it.
 */
static void test_ep_pri_uprgi_stopped(void **state)
{
	struct smmuv3_txn txn = {
		.sid = SID, .ssid = SMMU_NO_SSID, .addr = 0x20000000, .access = PT_PROT_R};
	struct pcie_ep_stats est;
	struct smmuv3_result r;
	struct ats_env a;
	uint16_t prgi;

	(void)state;
	ats_init(&a, 1, true);
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, 5ULL | 2ULL << 12);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_UPRGI);
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_STATUS, 2, 0), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_UPRGI);
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_STATUS, 2, PCI_PRI_STATUS_UPRGI), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), 0);
	/* Set again; a later response for a waiting group does not clear it. */
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), -EAGAIN);
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)((prgi + 1) & 511) | 2ULL << 12);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_UPRGI);
	/* Enable cleared with the group outstanding: not Stopped. */
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2, 0), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_UPRGI);
	/* Its response still counts; now nothing is outstanding: Stopped. */
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)prgi | 2ULL << 12);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_SUCCESS);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2),
			 PCI_PRI_STATUS_UPRGI | PCI_PRI_STATUS_STOPPED);
	/* Enable clears UPRGI (and Stopped). */
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2, PCI_PRI_CTRL_ENABLE), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), 0);
	/* Reset with Enable set does nothing (a group stays outstanding). */
	assert_int_equal(smmuv3_ep_translate(a.ep, a.t.s, &txn, &r, &prgi), -EAGAIN);
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2,
						 PCI_PRI_CTRL_ENABLE | PCI_PRI_CTRL_RESET),
			 0);
	smmuv3_ep_get_stats(a.ep, &est);
	assert_int_equal(est.pri_resets, 0);
	/* Enable cleared and Reset in one write: the group is answered, Stopped. */
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, PCI_PRI_CTRL, 2, PCI_PRI_CTRL_RESET), 0);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_FAILURE);
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, PCI_PRI_STATUS, 2), PCI_PRI_STATUS_STOPPED);
	smmuv3_ep_get_stats(a.ep, &est);
	assert_int_equal(est.pri_resets, 1);
	assert_int_equal(est.prg_stray, 2);
	/* Offsets outside the registers: read 0, write -EINVAL. */
	assert_int_equal(smmuv3_ep_pri_cfg_read(a.ep, 0x02, 2), 0);
	assert_int_equal(smmuv3_ep_pri_cfg_write(a.ep, 0x08, 4, 1), -EINVAL);
	ats_destroy(&a);
}

/*
 * A page request group for an access over several pages: the pages whose
 * Translation Requests fault (not the one that translates), one PRG index,
 * in address order, Last on the final record only.
 */
static void test_ep_pri_group(void **state)
{
	struct smmuv3_txn txn = {
		.sid = SID, .ssid = SMMU_NO_SSID, .addr = 0x10000800, .access = PT_PROT_R};
	struct smmuv3_result r;
	struct pcie_ep_stats est;
	struct ats_env a;
	uint16_t prgi = 999;

	(void)state;
	ats_init(&a, 1, true);
	/* 0x10001000 mapped; the access 0x10000800..0x10003fff faults at its first page. */
	assert_int_equal(pt_map(&a.t.e.s2, 0x10001000, a.t.e.gram_pa + 0x1000, 0x1000, PT_PROT_RW),
			 0);
	assert_int_equal(smmuv3_ep_translate_len(a.ep, a.t.s, &txn, 0x3800, &r, &prgi), -EAGAIN);
	assert_int_equal(sm_r32(&a.t, SMMU_PRIQ_PROD), 3);
	for (unsigned int k = 0; k < 3; k++) {
		const uint64_t *rec = sm_hp(&a.t, a.priq + 16 * k);
		static const uint64_t page[3] = {0x10000000, 0x10002000, 0x10003000};

		/* Privileged read; Last (bit 62) on the third only. */
		assert_int_equal(rec[0], (uint64_t)SID | 1ULL << 58 | 1ULL << 60 |
						 (k == 2 ? 1ULL << 62 : 0));
		assert_int_equal(rec[1], page[k] | prgi);
	}
	/* The page that translated is in the ATC now (the function asked for it). */
	assert_int_equal(smmuv3_ep_atc_count(a.ep), 1);
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)prgi | 1ULL << 12);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_INVALID);
	smmuv3_ep_get_stats(a.ep, &est);
	assert_int_equal(est.prgs, 1);
	assert_int_equal(est.page_reqs, 3);
	/* An allocation of 2: the same access asks for its first two pages only. */
	smmuv3_ep_set_pri_alloc(a.ep, 2);
	assert_int_equal(smmuv3_ep_translate_len(a.ep, a.t.s, &txn, 0x3800, &r, &prgi), -EAGAIN);
	assert_int_equal(sm_r32(&a.t, SMMU_PRIQ_PROD), 5);
	{
		const uint64_t *r3 = sm_hp(&a.t, a.priq + 16 * 3),
			       *r4 = sm_hp(&a.t, a.priq + 16 * 4);

		assert_int_equal(r3[0], (uint64_t)SID | 1ULL << 58 | 1ULL << 60);
		assert_int_equal(r4[0], (uint64_t)SID | 1ULL << 58 | 1ULL << 60 | 1ULL << 62);
		assert_int_equal(r4[1], 0x10002000ULL | prgi);
	}
	cmd_issue(&a.t, 0x41 | (uint64_t)SID << 32, (uint64_t)prgi | 1ULL << 12);
	assert_int_equal(smmuv3_ep_prg_wait(a.ep, prgi), SMMU_PRG_INVALID);
	ats_destroy(&a);
}

/* The Outstanding Page Request Allocation (pcie_ep.c). */
struct opener {
	struct pcie_ep *e;
	unsigned int want, granted;
	uint16_t prgi;
	int ret;
};

static void *open_thread(void *arg)
{
	struct opener *o = arg;

	o->ret = pcie_prg_open(o->e, o->want, &o->prgi, &o->granted);
	return NULL;
}

static void wait_for_alloc_waits(struct pcie_ep *e, uint64_t n)
{
	struct pcie_ep_stats st;

	do {
		sched_yield();
		pcie_ep_get_stats(e, &st);
	} while (st.prg_alloc_waits < n);
}

/*
 * Groups take requests of the allocation until their response: a group
 * asking for more than is free gets what is free; with nothing free the
 * sender waits (PCIe: it must not exceed the allocation) until a response
 * gives some back, or PRI Enable is cleared (-EPERM).
 */
static void test_pcie_prg_alloc(void **state)
{
	struct opener o = {0};
	struct pcie_ep_stats st;
	struct pcie_ep e;
	unsigned int granted;
	uint16_t g1, g2;
	pthread_t th;

	(void)state;
	assert_int_equal(pcie_ep_init(&e, 0), 0);
	assert_int_equal(pcie_prg_open(&e, 1, &g1, &granted), -EPERM); /* PRI off */
	pcie_prg_enable(&e, true, 1);
	pcie_prg_set_alloc(&e, 3);
	assert_int_equal(pcie_prg_get_alloc(&e), 3);
	assert_int_equal(pcie_prg_open(&e, 0, &g1, &granted), -EINVAL);
	assert_int_equal(pcie_prg_open(&e, 2, &g1, &granted), 0);
	assert_int_equal(granted, 2);
	assert_int_equal(pcie_prg_open(&e, 5, &g2, &granted), 0);
	assert_int_equal(granted, 1); /* what was free */
	assert_int_not_equal(g1, g2);
	/* Nothing free: the next sender waits for a response. */
	o = (struct opener){.e = &e, .want = 4};
	assert_int_equal(pthread_create(&th, NULL, open_thread, &o), 0);
	wait_for_alloc_waits(&e, 1);
	pcie_prg_resp(&e, g1, 0, PCIE_PRG_SUCCESS);
	pthread_join(th, NULL);
	assert_int_equal(o.ret, 0);
	assert_int_equal(o.granted, 2); /* g1's two came back */
	assert_int_equal(pcie_prg_wait(&e, g1), 0);
	pcie_ep_get_stats(&e, &st);
	assert_int_equal(st.prg_max_outstanding, 3);
	assert_int_equal(st.page_reqs, 5);
	assert_int_equal(st.prgs, 3);
	/* Waiting when PRI Enable is cleared: -EPERM, and the waiting groups answered. */
	o = (struct opener){.e = &e, .want = 1};
	assert_int_equal(pthread_create(&th, NULL, open_thread, &o), 0);
	wait_for_alloc_waits(&e, 2);
	pcie_prg_enable(&e, false, 7);
	pthread_join(th, NULL);
	assert_int_equal(o.ret, -EPERM);
	assert_int_equal(pcie_prg_wait(&e, g2), 7);
	pcie_ep_fini(&e);
}

/* pcie_prg_send()'s callback: records each request; answers as told. */
struct sender {
	struct pcie_ep *e;
	uint64_t addr[8];
	bool last[8];
	unsigned int n;
	unsigned int fail_after; /* after this many sent, the IOMMU answers Response Failure */
	uint16_t fail_prgi;
	bool refuse;		 /* the link refuses every request */
};

static int sender_fn(void *arg, uint64_t addr, bool last)
{
	struct sender *sd = arg;

	if (sd->refuse)
		return -EINVAL;
	sd->addr[sd->n] = addr;
	sd->last[sd->n] = last;
	if (++sd->n == sd->fail_after)
		pcie_prg_resp(sd->e, sd->fail_prgi, 0xf, PCIE_PRG_FAILURE);
	return 0;
}

/*
 * pcie_prg_send(): the group's pages in order, Last on the final one; a
 * request the link refuses cancels the group (its code, its share of the
 * allocation back); a Response Failure coming back mid-group stops the
 * rest, the function sending no page request while it is set.
 */
static void test_pcie_prg_send(void **state)
{
	const uint64_t pages[4] = {0x1000, 0x3000, 0x4000, 0x9000};
	struct sender sd = {0};
	struct pcie_ep e;
	unsigned int granted;
	uint16_t g;

	(void)state;
	assert_int_equal(pcie_ep_init(&e, 0), 0);
	pcie_prg_enable(&e, true, 1);
	pcie_prg_set_alloc(&e, 8);
	/* All four sent. */
	sd.e = &e;
	assert_int_equal(pcie_prg_open(&e, 4, &g, &granted), 0);
	assert_int_equal(granted, 4);
	pcie_prg_send(&e, g, pages, granted, sender_fn, &sd, 0xf);
	assert_int_equal(sd.n, 4);
	for (unsigned int k = 0; k < 4; k++) {
		assert_int_equal(sd.addr[k], pages[k]);
		assert_int_equal(sd.last[k], k == 3);
	}
	pcie_prg_resp(&e, g, 0, PCIE_PRG_SUCCESS);
	assert_int_equal(pcie_prg_wait(&e, g), 0);
	/* Refused: nothing sent, the group answered the failure code, its requests back. */
	sd = (struct sender){.e = &e, .refuse = true};
	assert_int_equal(pcie_prg_open(&e, 4, &g, &granted), 0);
	pcie_prg_send(&e, g, pages, granted, sender_fn, &sd, 0xf);
	assert_int_equal(sd.n, 0);
	assert_int_equal(pcie_prg_wait(&e, g), 0xf);
	assert_false(pcie_pri_failed(&e));
	assert_int_equal(pcie_prg_open(&e, 8, &g, &granted), 0);
	assert_int_equal(granted, 8); /* the whole allocation free again */
	pcie_prg_cancel(&e, g, 0);
	assert_int_equal(pcie_prg_wait(&e, g), 0);
	/* A Response Failure after the second request: the last two are never sent. */
	sd = (struct sender){.e = &e, .fail_after = 2};
	assert_int_equal(pcie_prg_open(&e, 4, &g, &granted), 0);
	sd.fail_prgi = g;
	pcie_prg_send(&e, g, pages, granted, sender_fn, &sd, 0xf);
	assert_int_equal(sd.n, 2);
	assert_false(sd.last[1]);
	assert_true(pcie_pri_failed(&e));
	assert_int_equal(pcie_prg_wait(&e, g), 0xf);
	pcie_ep_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idr_eats),
		cmocka_unit_test(test_ats_requests),
		cmocka_unit_test(test_atc_inv_sync),
		cmocka_unit_test(test_atc_inv_span),
		cmocka_unit_test(test_atc_inv_errors),
		cmocka_unit_test(test_ep_pri),
		cmocka_unit_test(test_ep_pri_group),
		cmocka_unit_test(test_pcie_prg_alloc),
		cmocka_unit_test(test_pcie_prg_send),
		cmocka_unit_test(test_ep_pri_response_failure),
		cmocka_unit_test(test_ep_pri_uprgi_stopped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
