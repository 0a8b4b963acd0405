// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: PRI - the PRI queue registers, page request records,
 * wrap and overflow, the automatic responses, the queue's interrupt, and
 * CMD_PRI_RESP.
 *
 * Facts (IHI 0070 §6.3, §8, §4.5.2; Linux's arm-smmu-v3.h for offsets):
 * PRIQ_BASE 0xc0, PRIQ_PROD 0xc8, PRIQ_CONS 0xcc, PRIQ_IRQ_CFG0/1/2 0xd0 /
 * 0xd8 / 0xdc; CR0.PRIQEN bit 1; IRQ_CTRL.PRIQ_IRQEN bit 1;
 * GERROR.PRIQ_ABT_ERR bit 3, MSI_PRIQ_ABT_ERR bit 6; IDR0.PRI bit 16;
 * IDR1.PRIQS [15:11]; IDR3.PPS bit 5. Record: qword 0 = SID [31:0], SSID
 * [51:32], Priv 58, Exec 59, Read 60, Write 61, Last 62, SSV 63; qword 1
 * = PRG index [8:0], address [63:12]. CMD_PRI_RESP (0x41): SSV 11, SSID
 * [31:12], SID [63:32]; qword 1 PRGIndex [8:0], Resp [13:12] (0b00
 * Response Failure, 0b01 Invalid Request, 0b10 Success, 0b11 ILLEGAL).
 */
#include "smmuv3_env.h"

#define SID  5
#define PAGE 0x12345000ULL

#define PRI_RESP(sid, ssv, ssid) \
	(0x41ULL | (uint64_t)(ssv) << 11 | (uint64_t)(ssid) << 12 | (uint64_t)(sid) << 32)

/* PRG responses the SMMU sent (the ATS port). */
static struct smmuv3_prg_resp resps[16];
static unsigned int nr_resps;

static void on_prg_resp(void *opaque, const struct smmuv3_prg_resp *r)
{
	(void)opaque;
	if (nr_resps < 16)
		resps[nr_resps] = *r;
	nr_resps++;
}

static unsigned int nr_irqs;

static void on_irq(void *opaque, enum smmuv3_irq line)
{
	(void)opaque;
	if (line == SMMU_IRQ_PRIQ)
		nr_irqs++;
}

struct pri_env {
	struct smmu_env t;
	uint64_t priq;
	unsigned int log2;
};

/* An instance with PRI and a PRI queue of 2^@log2 entries, PRIQEN set. */
static void pri_init(struct pri_env *pe, unsigned int log2)
{
	struct smmuv3_params p;

	smmuv3_params_default(&p);
	p.pri = true;
	p.priqs = 4;
	p.prg_resp = on_prg_resp;
	p.irq = on_irq;
	nr_resps = 0;
	nr_irqs = 0;
	smmu_env_init_p(&pe->t, NULL, NULL, &p);
	pe->log2 = log2;
	pe->priq = sm_alloc(&pe->t, 4096);
	sm_w64(&pe->t, SMMU_PRIQ_BASE, pe->priq | log2);
	sm_w32(&pe->t, SMMU_CR0, sm_r32(&pe->t, SMMU_CR0) | SMMU_CR0_PRIQEN);
}

static struct smmuv3_ppr ppr(uint16_t prgi, bool last)
{
	return (struct smmuv3_ppr){ .sid = SID, .ssid = SMMU_NO_SSID, .addr = PAGE,
				    .perm = PT_PROT_R, .prgi = prgi, .last = last };
}

static const uint64_t *priq_entry(struct pri_env *pe, uint32_t idx)
{
	return sm_hp(&pe->t, pe->priq + (uint64_t)(idx & ((1u << pe->log2) - 1)) * 16);
}

static void test_idr_and_registers(void **state)
{
	struct smmuv3_params p;
	struct pri_env pe;

	(void)state;
	pri_init(&pe, 3);
	assert_true(sm_r32(&pe.t, SMMU_IDR0) & 1u << 16);
	assert_int_equal(sm_r32(&pe.t, SMMU_IDR1) >> 11 & 0x1f, 4);
	assert_true(sm_r32(&pe.t, SMMU_IDR3) & 1u << 5); /* PPS */
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_BASE), (uint32_t)(pe.priq | 3));
	assert_true(sm_r32(&pe.t, SMMU_CR0ACK) & SMMU_CR0_PRIQEN);
	/* PRIQEN set: BASE and PROD are read-only; CONS is not. */
	sm_w64(&pe.t, SMMU_PRIQ_BASE, 0x5000);
	sm_w32(&pe.t, SMMU_PRIQ_PROD, 3);
	sm_w32(&pe.t, SMMU_PRIQ_CONS, 0x80000001);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_BASE), (uint32_t)(pe.priq | 3));
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), 0);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_CONS), 0x80000001);
	/* IRQ_CTRL.PRIQ_IRQEN and the IRQ_CFG registers hold their fields. */
	sm_w32(&pe.t, SMMU_IRQ_CTRL, 0x7);
	assert_int_equal(sm_r32(&pe.t, SMMU_IRQ_CTRLACK), 0x7);
	sm_w64(&pe.t, SMMU_PRIQ_IRQ_CFG0, 0xffffffffffffffffULL);
	sm_w32(&pe.t, SMMU_PRIQ_IRQ_CFG2, 0xff);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_IRQ_CFG0), 0xfffffffc);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_IRQ_CFG0 + 4), 0xfffff);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_IRQ_CFG2), 0x3f);
	/* PRIQEN off: BASE and PROD writable. */
	sm_w32(&pe.t, SMMU_CR0, sm_r32(&pe.t, SMMU_CR0) & ~SMMU_CR0_PRIQEN);
	sm_w32(&pe.t, SMMU_PRIQ_PROD, 0x80000003);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), 0x80000003);
	smmu_env_destroy(&pe.t);

	/* Without PRI: IDR bits clear, the registers RAZ/WI, PRIQEN and PRIQ_IRQEN RES0. */
	smmuv3_params_default(&p);
	smmu_env_init_p(&pe.t, NULL, NULL, &p);
	assert_false(sm_r32(&pe.t, SMMU_IDR0) & 1u << 16);
	assert_int_equal(sm_r32(&pe.t, SMMU_IDR1) >> 11 & 0x1f, 0);
	assert_false(sm_r32(&pe.t, SMMU_IDR3) & 1u << 5);
	sm_w64(&pe.t, SMMU_PRIQ_BASE, 0x5003);
	sm_w32(&pe.t, SMMU_PRIQ_CONS, 1);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_BASE), 0);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_CONS), 0);
	sm_w32(&pe.t, SMMU_CR0, sm_r32(&pe.t, SMMU_CR0) | SMMU_CR0_PRIQEN);
	assert_false(sm_r32(&pe.t, SMMU_CR0ACK) & SMMU_CR0_PRIQEN);
	sm_w32(&pe.t, SMMU_IRQ_CTRL, 0x7);
	assert_int_equal(sm_r32(&pe.t, SMMU_IRQ_CTRLACK), 0x5);
	{
		struct smmuv3_ppr r = ppr(1, true);

		assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -EINVAL);
	}
	smmu_env_destroy(&pe.t);

	/* PRIQS beyond 19 is refused. */
	smmuv3_params_default(&p);
	p.pri = true;
	p.priqs = 20;
	assert_int_equal(smmuv3_new(&p, &pe.t.e.host.mem, &pe.t.s), -EINVAL);
}

/* The record's bytes, for two requests that set every field differently. */
static void test_record_bytes(void **state)
{
	struct smmuv3_ppr a = {
		.sid = 0x1234, .ssid = 0xabcde, .addr = 0xfedcba9876543abcULL,
		.perm = PT_PROT_R | PT_PROT_W, .prgi = 0x1a5, .last = true,
	};
	struct smmuv3_ppr b = {
		.sid = SID, .ssid = SMMU_NO_SSID, .addr = 0x7000,
		.perm = PT_PROT_X | PT_PROT_U, .prgi = 0x5a, .last = false,
	};
	struct pri_env pe;
	const uint64_t *e;

	(void)state;
	pri_init(&pe, 3);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &a), 0);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &b), 0);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), 2);
	e = priq_entry(&pe, 0);
	/* SID | SSID << 32 | Priv | Read | Write | Last | SSV */
	assert_int_equal(e[0], 0x1234ULL | 0xabcdeULL << 32 | 1ULL << 58 | 1ULL << 60 |
				       1ULL << 61 | 1ULL << 62 | 1ULL << 63);
	assert_int_equal(e[1], 0x1a5ULL | 0xfedcba9876543000ULL);
	e = priq_entry(&pe, 1);
	/* unprivileged, Exec, no SSV, not last */
	assert_int_equal(e[0], (uint64_t)SID | 1ULL << 59);
	assert_int_equal(e[1], 0x5aULL | 0x7000ULL);
	assert_int_equal(nr_resps, 0);
	/* Out of range: PRG index > 511, an SSID beyond SSIDSIZE. */
	b.prgi = 0x200;
	assert_int_equal(smmuv3_pri_request(pe.t.s, &b), -EINVAL);
	b.prgi = 0;
	b.ssid = 1u << 20;
	assert_int_equal(smmuv3_pri_request(pe.t.s, &b), -EINVAL);
	smmu_env_destroy(&pe.t);
}

/* Two laps round a two-entry queue: PROD's wrap bit, entries at index & 1. */
static void test_wrap(void **state)
{
	struct pri_env pe;
	struct smmuv3_stats st;

	(void)state;
	pri_init(&pe, 1);
	for (unsigned int lap = 0; lap < 3; lap++) {
		for (unsigned int i = 0; i < 2; i++) {
			struct smmuv3_ppr r = ppr((uint16_t)(lap * 2 + i), true);

			assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
			assert_int_equal(priq_entry(&pe, i)[1] & 0x1ff, lap * 2 + i);
		}
		/* PROD = (4 * lap + 2) mod 4: the wrap bit flips every lap. */
		assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), ((lap + 1) * 2) & 3);
		sm_w32(&pe.t, SMMU_PRIQ_CONS, sm_r32(&pe.t, SMMU_PRIQ_PROD));
	}
	smmuv3_get_stats(pe.t.s, &st);
	assert_int_equal(st.pri_reqs, 6);
	assert_int_equal(st.pri_lost, 0);
	assert_int_equal(nr_resps, 0);
	smmu_env_destroy(&pe.t);
}

/*
 * Overflow: OVFLG toggles once; a lost Last request is answered Success with
 * its PASID, a lost non-last one not at all; nothing is written until the
 * overflow is acknowledged, even with room.
 */
static void test_overflow(void **state)
{
	struct smmuv3_ppr r;
	struct smmuv3_stats st;
	struct pri_env pe;

	(void)state;
	pri_init(&pe, 1);
	for (unsigned int i = 0; i < 2; i++) {
		r = ppr((uint16_t)i, true);
		assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
	}
	r = ppr(7, true);
	r.ssid = 0x42;
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -ENOSPC);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), SMMU_Q_OVFLG | 2);
	assert_int_equal(nr_resps, 1);
	assert_int_equal(resps[0].sid, SID);
	assert_int_equal(resps[0].ssid, 0x42);
	assert_int_equal(resps[0].prgi, 7);
	assert_int_equal(resps[0].code, SMMU_PRG_SUCCESS);
	assert_true(resps[0].automatic);
	/* Not last: dropped silently; OVFLG stays (not toggled back). */
	r = ppr(8, false);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -ENOSPC);
	assert_int_equal(nr_resps, 1);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), SMMU_Q_OVFLG | 2);
	/* Room again, overflow not acknowledged: still discarded. */
	sm_w32(&pe.t, SMMU_PRIQ_CONS, 2);
	r = ppr(9, true);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -ENOSPC);
	assert_int_equal(nr_resps, 2);
	assert_int_equal(resps[1].ssid, SMMU_NO_SSID);
	/* Acknowledged (OVACKFLG = OVFLG): written again, OVFLG kept as is. */
	sm_w32(&pe.t, SMMU_PRIQ_CONS, SMMU_Q_OVFLG | 2);
	r = ppr(10, true);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), SMMU_Q_OVFLG | 3);
	assert_int_equal(priq_entry(&pe, 2)[1] & 0x1ff, 10);
	/* A second overflow toggles OVFLG back to 0. */
	r = ppr(11, false);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
	r = ppr(12, true);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -ENOSPC);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), 0);
	smmuv3_get_stats(pe.t.s, &st);
	assert_int_equal(st.pri_reqs, 4);
	assert_int_equal(st.pri_lost, 4);
	assert_int_equal(st.prg_auto, 3);
	smmu_env_destroy(&pe.t);
}

/* PRIQEN = 0, SMMUEN = 0, and a queue write that aborts: Response Failure, no PASID. */
static void test_unavailable(void **state)
{
	struct smmuv3_ppr r = ppr(3, false);
	struct pri_env pe;
	uint32_t cr0;

	(void)state;
	r.ssid = 9;
	pri_init(&pe, 2);
	cr0 = sm_r32(&pe.t, SMMU_CR0) & ~SMMU_CR0_PRIQEN;
	sm_w32(&pe.t, SMMU_CR0, cr0 & ~SMMU_CR0_PRIQEN);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -EIO);
	assert_int_equal(nr_resps, 1); /* every request, Last or not */
	assert_int_equal(resps[0].code, SMMU_PRG_FAILURE);
	assert_int_equal(resps[0].ssid, SMMU_NO_SSID);
	assert_int_equal(resps[0].prgi, 3);
	sm_w32(&pe.t, SMMU_CR0, (cr0 | SMMU_CR0_PRIQEN) & ~SMMU_CR0_SMMUEN);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -EIO);
	assert_int_equal(nr_resps, 2);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), 0);

	/* The queue outside memory: PRIQ_ABT_ERR, and answered while it is active. */
	sm_w32(&pe.t, SMMU_CR0, 0);
	sm_w64(&pe.t, SMMU_PRIQ_BASE, (1ULL << 47) | 2);
	sm_w32(&pe.t, SMMU_CR0, cr0 | SMMU_CR0_PRIQEN);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -EIO);
	assert_int_equal(sm_r32(&pe.t, SMMU_GERROR) & SMMU_GERROR_PRIQ_ABT_ERR,
			 SMMU_GERROR_PRIQ_ABT_ERR);
	assert_int_equal(nr_resps, 3);
	assert_int_equal(resps[2].code, SMMU_PRG_FAILURE);
	sm_w32(&pe.t, SMMU_CR0, cr0);
	sm_w64(&pe.t, SMMU_PRIQ_BASE, pe.priq | 2);
	sm_w32(&pe.t, SMMU_CR0, cr0 | SMMU_CR0_PRIQEN);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), -EIO); /* still active */
	assert_int_equal(nr_resps, 4);
	sm_w32(&pe.t, SMMU_GERRORN, sm_r32(&pe.t, SMMU_GERROR));
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
	assert_int_equal(nr_resps, 4);
	smmu_env_destroy(&pe.t);
}

/* PRIQ_IRQEN: the wired line without an MSI address, else an MSI write of CFG1. */
static void test_irq(void **state)
{
	struct smmuv3_ppr r = ppr(1, true);
	struct pri_env pe;
	uint64_t msi;

	(void)state;
	pri_init(&pe, 3);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
	assert_int_equal(nr_irqs, 0); /* PRIQ_IRQEN clear */
	sm_w32(&pe.t, SMMU_IRQ_CTRL, SMMU_IRQ_PRIQ_EN);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
	assert_int_equal(nr_irqs, 1);
	msi = sm_alloc(&pe.t, 4096);
	sm_w64(&pe.t, SMMU_PRIQ_IRQ_CFG0, msi + 8);
	sm_w32(&pe.t, SMMU_PRIQ_IRQ_CFG1, 0xcafe0001);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
	assert_int_equal(nr_irqs, 1); /* not the wire */
	assert_int_equal(*(uint32_t *)sm_hp(&pe.t, msi + 8), 0xcafe0001);
	/* An MSI that aborts: GERROR.MSI_PRIQ_ABT_ERR; the record is written all the same. */
	sm_w64(&pe.t, SMMU_PRIQ_IRQ_CFG0, 1ULL << 47);
	assert_int_equal(smmuv3_pri_request(pe.t.s, &r), 0);
	assert_int_equal(sm_r32(&pe.t, SMMU_GERROR) & SMMU_GERROR_MSI_PRIQ_ABT,
			 SMMU_GERROR_MSI_PRIQ_ABT);
	assert_int_equal(sm_r32(&pe.t, SMMU_PRIQ_PROD), 4);
	smmu_env_destroy(&pe.t);
}

static uint32_t cmdq_err(struct smmu_env *t)
{
	return (sm_r32(t, SMMU_CMDQ_CONS) & SMMU_CMDQ_CONS_ERR_MASK) >> SMMU_CMDQ_CONS_ERR_SHIFT;
}

/* Acknowledge a CMDQ_ERR after replacing the bad command with a CMD_SYNC. */
static void cmdq_recover(struct smmu_env *t)
{
	uint32_t cons = sm_r32(t, SMMU_CMDQ_CONS);
	uint64_t *p = sm_hp(t, t->cmdq + (uint64_t)(cons & ((1u << CMDQ_LOG2) - 1)) * 16);

	p[0] = SMMU_CMD_SYNC;
	p[1] = 0;
	sm_w32(t, SMMU_GERRORN, sm_r32(t, SMMU_GERROR));
}

static void test_pri_resp(void **state)
{
	static const uint8_t code[3] = { SMMU_PRG_FAILURE, SMMU_PRG_INVALID, SMMU_PRG_SUCCESS };
	struct smmuv3_params p;
	struct smmuv3_stats st;
	struct pri_env pe;

	(void)state;
	pri_init(&pe, 3);
	for (unsigned int resp = 0; resp < 3; resp++) {
		cmd_issue(&pe.t, PRI_RESP(0x3f, 1, 0xfedcb), 0x1ffULL | (uint64_t)resp << 12);
		assert_int_equal(nr_resps, resp + 1);
		assert_int_equal(resps[resp].sid, 0x3f);
		assert_int_equal(resps[resp].ssid, 0xfedcb);
		assert_int_equal(resps[resp].prgi, 0x1ff);
		assert_int_equal(resps[resp].code, code[resp]);
		assert_false(resps[resp].automatic);
	}
	/* SSV = 0: no PASID, whatever the SSID field says. */
	cmd_issue(&pe.t, PRI_RESP(SID, 0, 0x77), 2ULL << 12 | 5);
	assert_int_equal(nr_resps, 4);
	assert_int_equal(resps[3].ssid, SMMU_NO_SSID);
	assert_int_equal(resps[3].prgi, 5);
	/* Resp 0b11: CERROR_ILL, nothing sent. */
	cmd_issue(&pe.t, PRI_RESP(SID, 0, 0), 3ULL << 12);
	assert_int_equal(cmdq_err(&pe.t), SMMU_CERROR_ILL);
	assert_int_equal(sm_r32(&pe.t, SMMU_GERROR) & SMMU_GERROR_CMDQ_ERR, SMMU_GERROR_CMDQ_ERR);
	assert_int_equal(nr_resps, 4);
	cmdq_recover(&pe.t);
	assert_int_equal(sm_r32(&pe.t, SMMU_CMDQ_CONS) & 0xf, sm_r32(&pe.t, SMMU_CMDQ_PROD) & 0xf);
	/* SMMUEN = 0: IGNORED. */
	sm_w32(&pe.t, SMMU_CR0, sm_r32(&pe.t, SMMU_CR0) & ~SMMU_CR0_SMMUEN);
	cmd_issue(&pe.t, PRI_RESP(SID, 0, 0), 2ULL << 12);
	assert_int_equal(nr_resps, 4);
	smmuv3_get_stats(pe.t.s, &st);
	assert_int_equal(st.prg_resps, 4);
	smmu_env_destroy(&pe.t);

	/* No PRI: CERROR_ILL. */
	smmuv3_params_default(&p);
	p.prg_resp = on_prg_resp;
	nr_resps = 0;
	smmu_env_init_p(&pe.t, NULL, NULL, &p);
	cmd_issue(&pe.t, PRI_RESP(SID, 0, 0), 2ULL << 12);
	assert_int_equal(cmdq_err(&pe.t), SMMU_CERROR_ILL);
	assert_int_equal(nr_resps, 0);
	smmu_env_destroy(&pe.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idr_and_registers), cmocka_unit_test(test_record_bytes),
		cmocka_unit_test(test_wrap),		  cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_unavailable),	  cmocka_unit_test(test_irq),
		cmocka_unit_test(test_pri_resp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
