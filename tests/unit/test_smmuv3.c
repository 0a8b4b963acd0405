// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: the register file and the queues.
 *
 * Registers are read and written through smmuv3_mmio_read/_write exactly
 * as a driver does; queues live in a host arena (smmuv3_env.h). Expected
 * values are spelled out bit by bit in the comments.
 */
#include "smmuv3_env.h"

static void test_reset_values(void **state)
{
	struct smmu_env t;
	struct smmuv3_params p;
	uint64_t v;

	smmuv3_params_default(&p);
	env_init(&t.e, NULL, NULL);
	assert_int_equal(smmuv3_new(&p, &t.e.host.mem, &t.s), 0);
	/*
	 * IDR0 = S2P 1 | S1P 1 << 1 | TTF 2 << 2 | COHACC 1 << 4 | ASID16 1 << 12 | MSI 1 << 13
	 *      | VMID16 1 << 18 | CD2L 1 << 19 | TTENDIAN 2 << 21 | STALL_MODEL 1 << 24
	 *      | TERM_MODEL 1 << 26 | ST_LEVEL 1 << 27 = 0x0d4c301b
	 */
	assert_int_equal(sm_r32(&t, SMMU_IDR0), 0x0d4c301b);
	/* IDR1 = SIDSIZE 16 | SSIDSIZE 20 << 6 | EVENTQS 19 << 16 | CMDQS 19 << 21 */
	assert_int_equal(sm_r32(&t, SMMU_IDR1), 16 | 20 << 6 | 19 << 16 | 19 << 21);
	assert_int_equal(sm_r32(&t, SMMU_IDR3), 1 << 10);	/* RIL */
	assert_int_equal(sm_r32(&t, SMMU_IDR5), 0x75);	/* OAS 0b101 | GRAN4K/16K/64K */
	assert_int_equal(sm_r32(&t, SMMU_AIDR), 2);
	assert_int_equal(sm_r32(&t, SMMU_CR0), 0);
	assert_int_equal(sm_r32(&t, SMMU_CR0ACK), 0);
	assert_int_equal(sm_r32(&t, SMMU_GBPA), 0x1000);
	assert_int_equal(sm_r32(&t, SMMU_GERROR), 0);
	assert_int_equal(sm_r32(&t, SMMU_GERRORN), 0);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_PROD), 0);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_CONS), 0);
	/* No register: RAZ/WI. Bad accesses are refused. */
	assert_int_equal(sm_r32(&t, 0x30), 0);
	sm_w32(&t, 0x30, 0xffffffff);
	assert_int_equal(sm_r32(&t, 0x30), 0);
	assert_int_equal(smmuv3_mmio_read(t.s, 0x2, 4, &v), -EINVAL);
	assert_int_equal(smmuv3_mmio_read(t.s, 0x4, 8, &v), -EINVAL);
	assert_int_equal(smmuv3_mmio_read(t.s, 0x0, 2, &v), -EINVAL);
	assert_int_equal(smmuv3_mmio_write(t.s, SMMU_MMIO_SIZE, 4, 0), -EINVAL);
	/* IDRs are read-only. */
	sm_w32(&t, SMMU_IDR0, 0);
	assert_int_equal(sm_r32(&t, SMMU_IDR0), 0x0d4c301b);
	/* Only one stage: S1P alone. */
	smmuv3_free(t.s);
	p.s2p = false;
	assert_int_equal(smmuv3_new(&p, &t.e.host.mem, &t.s), 0);
	assert_int_equal(sm_r32(&t, SMMU_IDR0) & 3, 2);
	smmuv3_free(t.s);
	p.s1p = false;
	assert_int_equal(smmuv3_new(&p, &t.e.host.mem, &t.s), -EINVAL);
	env_destroy(&t.e);
}

static void test_register_rw(void **state)
{
	struct smmu_env t;
	struct smmuv3_params p;
	uint64_t v;

	smmuv3_params_default(&p);
	env_init(&t.e, NULL, NULL);
	assert_int_equal(smmuv3_new(&p, &t.e.host.mem, &t.s), 0);

	/* CR0: SMMUEN | PRIQEN (no PRI: RES0) | EVENTQEN | CMDQEN | reserved bit 5 */
	sm_w32(&t, SMMU_CR0, 0x2f);
	assert_int_equal(sm_r32(&t, SMMU_CR0), 0x0d);
	assert_int_equal(sm_r32(&t, SMMU_CR0ACK), 0x0d);
	sm_w32(&t, SMMU_CR0, SMMU_CR0_CMDQEN);
	assert_int_equal(sm_r32(&t, SMMU_CR0ACK), SMMU_CR0_CMDQEN);
	sm_w32(&t, SMMU_CR0, 0);

	/* GBPA: taken only with UPDATE, which reads back as 0. */
	sm_w32(&t, SMMU_GBPA, SMMU_GBPA_ABORT);
	assert_int_equal(sm_r32(&t, SMMU_GBPA), 0x1000);
	sm_w32(&t, SMMU_GBPA, SMMU_GBPA_UPDATE | SMMU_GBPA_ABORT);
	assert_int_equal(sm_r32(&t, SMMU_GBPA), SMMU_GBPA_ABORT);

	/* IRQ_CTRL: GERROR | PRI (RES0) | EVENTQ; the ACK follows. */
	sm_w32(&t, SMMU_IRQ_CTRL, 7);
	assert_int_equal(sm_r32(&t, SMMU_IRQ_CTRL), 5);
	assert_int_equal(sm_r32(&t, SMMU_IRQ_CTRLACK), 5);

	/* GERROR is read-only. */
	sm_w32(&t, SMMU_GERROR, 1);
	assert_int_equal(sm_r32(&t, SMMU_GERROR), 0);

	/* 64-bit register by 64-bit and by 32-bit halves; ADDR [51:6], RA 62. */
	sm_w64(&t, SMMU_STRTAB_BASE, 0xfff0123456789fffULL);
	assert_int_equal(smmuv3_mmio_read(t.s, SMMU_STRTAB_BASE, 8, &v), 0);
	assert_int_equal(v, 0x4000123456789fc0ULL);
	sm_w32(&t, SMMU_STRTAB_BASE + 4, 0x1);
	assert_int_equal(smmuv3_mmio_read(t.s, SMMU_STRTAB_BASE, 8, &v), 0);
	assert_int_equal(v, 0x0000000156789fc0ULL);
	/* STRTAB_BASE_CFG: LOG2SIZE [5:0], SPLIT [10:6], FMT [17:16]; others RES0. */
	sm_w32(&t, SMMU_STRTAB_BASE_CFG, 0xffffffff);
	assert_int_equal(sm_r32(&t, SMMU_STRTAB_BASE_CFG), 0x307ff);
	/* Base registers are read-only while their enable is set. */
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN | SMMU_CR0_EVENTQEN);
	sm_w32(&t, SMMU_STRTAB_BASE_CFG, 6);
	assert_int_equal(sm_r32(&t, SMMU_STRTAB_BASE_CFG), 0x307ff);
	sm_w64(&t, SMMU_CMDQ_BASE, 0x1000 | 4);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_BASE), 0);
	sm_w32(&t, SMMU_CMDQ_CONS, 3);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), 0);
	sm_w32(&t, SMMU_EVENTQ_PROD, 3);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_PROD), 0);
	sm_w32(&t, SMMU_CR0, 0);
	sm_w64(&t, SMMU_CMDQ_BASE, 0x1000 | 4);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_BASE), 0x1004);
	/* Page 1 aliases page 0: EVENTQ_PROD / CONS at 0x100a8 / 0x100ac. */
	sm_w32(&t, 0x100a8, 0x5);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_PROD), 0x5);
	sm_w32(&t, 0x100ac, 0x80000003);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_CONS), 0x80000003);
	assert_int_equal(sm_r32(&t, 0x100ac), 0x80000003);
	smmuv3_free(t.s);
	env_destroy(&t.e);
}

static int irq_seen[SMMU_NR_IRQS];
static void note_irq(void *opaque, enum smmuv3_irq line)
{
	irq_seen[line]++;
}

/* An illegal command: CMDQ_ERR, CONS.ERR = ILL, consumption stops until GERRORN. */
static void test_cmdq_error(void **state)
{
	struct smmuv3_params p;
	struct smmu_env t;
	uint64_t *slot;

	smmuv3_params_default(&p);
	p.irq = note_irq;
	memset(irq_seen, 0, sizeof(irq_seen));
	smmu_env_init_p(&t, NULL, NULL, &p);
	sm_w32(&t, SMMU_IRQ_CTRL, SMMU_IRQ_GERROR_EN);

	cmd_issue(&t, SMMU_CMD_SYNC, 0);		/* slot 0: fine */
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), 1);
	cmd_issue(&t, 0xff, 0);				/* slot 1: no such opcode */
	assert_int_equal(sm_r32(&t, SMMU_GERROR), SMMU_GERROR_CMDQ_ERR);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), SMMU_CERROR_ILL << 24 | 1);
	assert_int_equal(irq_seen[SMMU_IRQ_GERROR], 1);
	cmd_issue(&t, SMMU_CMD_SYNC | 1 << 12, 0);	/* slot 2: waits */
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS) & 0xf, 1);
	assert_int_equal(irq_seen[SMMU_IRQ_CMD_SYNC], 0);
	/* A second error while the first is active does not toggle GERROR again. */
	/* The driver replaces the bad command with CMD_SYNC and acknowledges. */
	slot = sm_hp(&t, t.cmdq + 16);
	slot[0] = SMMU_CMD_SYNC;
	sm_w32(&t, SMMU_GERRORN, SMMU_GERROR_CMDQ_ERR);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS) & 0xf, 3);
	assert_int_equal(irq_seen[SMMU_IRQ_CMD_SYNC], 1); /* CS = SIG_IRQ, no MSI address */

	/* SSec = 1 and a reserved CS are illegal too; a queue outside memory is ABT. */
	cmd_issue(&t, SMMU_CMD_TLBI_NSNH_ALL | 1 << 10, 0);
	assert_int_equal(sm_r32(&t, SMMU_GERROR), 0);	/* toggled back: active again */
	assert_int_not_equal(sm_r32(&t, SMMU_GERROR), sm_r32(&t, SMMU_GERRORN));
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS) >> 24, SMMU_CERROR_ILL);
	slot = sm_hp(&t, t.cmdq + 3 * 16);
	slot[0] = SMMU_CMD_SYNC | 3 << 12;
	sm_w32(&t, SMMU_GERRORN, sm_r32(&t, SMMU_GERROR));
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS) >> 24, SMMU_CERROR_ILL);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS) & 0xf, 3);
	slot[0] = SMMU_CMD_SYNC;
	sm_w32(&t, SMMU_GERRORN, sm_r32(&t, SMMU_GERROR));
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS) & 0xf, 4);

	/* MSI completion: CMD_SYNC CS = SIG_IRQ writes MSIData at MSIAddress. */
	*(uint32_t *)sm_hp(&t, t.free) = 0xffffffff;
	cmd_issue(&t, SMMU_CMD_SYNC | 1 << 12 | 0x1234abcdULL << 32, t.free);
	assert_int_equal(*(uint32_t *)sm_hp(&t, t.free), 0x1234abcd);
	assert_int_equal(irq_seen[SMMU_IRQ_CMD_SYNC], 1);

	/* The queue itself outside memory: CERROR_ABT. */
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN);
	sm_w64(&t, SMMU_CMDQ_BASE, 0x7000000000ULL | CMDQ_LOG2);
	sm_w32(&t, SMMU_CMDQ_PROD, 0);
	sm_w32(&t, SMMU_CMDQ_CONS, 0);
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
	sm_w32(&t, SMMU_CMDQ_PROD, 1);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), SMMU_CERROR_ABT << 24);
	assert_int_not_equal(sm_r32(&t, SMMU_GERROR), sm_r32(&t, SMMU_GERRORN));
	smmu_env_destroy(&t);
}

/* Command queue wrap: 8 slots, 13 commands; PROD/CONS carry the wrap bit (bit 3). */
static void test_cmdq_wrap(void **state)
{
	struct smmu_env t;
	struct smmuv3_stats st;

	smmu_env_init(&t, NULL, NULL);
	for (int i = 0; i < 13; i++)
		cmd_issue(&t, SMMU_CMD_SYNC, 0);
	/* 13 = one lap (8) + 5: wrap bit set, index 5 */
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_PROD), 0x8 | 5);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), 0x8 | 5);
	smmuv3_get_stats(t.s, &st);
	assert_int_equal(st.cmds, 13);
	for (int i = 0; i < 3; i++)
		cmd_issue(&t, SMMU_CMD_SYNC, 0);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), 0); /* two laps: wrap bit back to 0 */
	/*
	 * PROD moved 12 slots ahead of CONS in an 8-slot queue (a driver bug:
	 * more than full): the SMMU still consumes until CONS == PROD (found
	 * by fuzz_smmuv3_cmdq; the model used to stop after one lap and leave
	 * 4 commands pending with nothing to restart it).
	 */
	for (int i = 0; i < 8; i++)
		((uint64_t *)sm_hp(&t, t.cmdq + i * 16))[0] = SMMU_CMD_SYNC;
	sm_w32(&t, SMMU_CMDQ_PROD, 0x8 | 4);
	assert_int_equal(sm_r32(&t, SMMU_CMDQ_CONS), 0x8 | 4);
	smmuv3_get_stats(t.s, &st);
	assert_int_equal(st.cmds, 16 + 12);
	smmu_env_destroy(&t);
}

/*
 * Event queue: 8 slots. Invalid STEs (V = 0) produce C_BAD_STE records;
 * 8 fill the queue, the 9th overflows (OVFLG toggles), the 10th is lost
 * too without toggling again; after the driver consumes and acknowledges
 * (OVACKFLG = OVFLG), records flow again, across the wrap.
 */
static void test_evtq_wrap_overflow(void **state)
{
	struct smmuv3_result r;
	struct smmuv3_stats st;
	struct smmu_env t;

	smmu_env_init(&t, NULL, NULL);
	for (int i = 0; i < 8; i++)
		assert_int_equal(sm_xlate(&t, (uint32_t)i, SMMU_NO_SSID, 0, PT_PROT_R, &r),
				 -EFAULT);
	assert_true(r.recorded);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_PROD), 0x8 | 0); /* full: wrap differs */
	assert_int_equal(sm_xlate(&t, 9, SMMU_NO_SSID, 0, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_C_BAD_STE);
	assert_false(r.recorded);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_PROD), SMMU_Q_OVFLG | 0x8);
	assert_int_equal(sm_xlate(&t, 10, SMMU_NO_SSID, 0, PT_PROT_R, &r), -EFAULT);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_PROD), SMMU_Q_OVFLG | 0x8);
	smmuv3_get_stats(t.s, &st);
	assert_int_equal(st.events, 8);
	assert_int_equal(st.events_lost, 2);
	/* Records 0..7 name SIDs 0..7, in order. */
	for (uint32_t i = 0; i < 8; i++) {
		const uint64_t *e = evt_next(&t);

		assert_int_equal(e[0], SMMU_EVT_C_BAD_STE | (uint64_t)i << 32);
	}
	assert_true(evt_empty(&t));
	/* Acknowledge the overflow: OVACKFLG = OVFLG. */
	sm_w32(&t, SMMU_EVENTQ_CONS, SMMU_Q_OVFLG | sm_r32(&t, SMMU_EVENTQ_CONS));
	assert_int_equal(sm_xlate(&t, 11, SMMU_NO_SSID, 0, PT_PROT_R, &r), -EFAULT);
	assert_true(r.recorded);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_PROD), SMMU_Q_OVFLG | 0x8 | 1);
	assert_int_equal(evt_next(&t)[0], SMMU_EVT_C_BAD_STE | 11ULL << 32);
	/* A new overflow after acknowledgement toggles OVFLG back. */
	for (int i = 0; i < 9; i++)
		sm_xlate(&t, 12, SMMU_NO_SSID, 0, PT_PROT_R, &r);
	assert_int_equal(sm_r32(&t, SMMU_EVENTQ_PROD), 0x0 | 1);
	/* EVENTQEN = 0: records are dropped (counted). */
	sm_w32(&t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN);
	sm_xlate(&t, 13, SMMU_NO_SSID, 0, PT_PROT_R, &r);
	assert_false(r.recorded);
	smmuv3_get_stats(t.s, &st);
	assert_int_equal(st.events_dropped, 1);
	smmu_env_destroy(&t);
}

/* SMMUEN = 0: GBPA decides, no event. */
static void test_gbpa(void **state)
{
	struct smmuv3_result r;
	struct smmu_env t;

	smmu_env_init(&t, NULL, NULL);
	sm_w32(&t, SMMU_CR0, SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, 0x1234, PT_PROT_W, &r), 0);
	assert_int_equal(r.pa, 0x1234);
	sm_w32(&t, SMMU_GBPA, SMMU_GBPA_UPDATE | SMMU_GBPA_ABORT);
	assert_int_equal(sm_xlate(&t, 1, SMMU_NO_SSID, 0x1234, PT_PROT_W, &r), -EFAULT);
	assert_int_equal(r.event, SMMU_EVT_NONE);
	assert_int_equal(evt_count(&t), 0);
	smmu_env_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_values),
		cmocka_unit_test(test_register_rw),
		cmocka_unit_test(test_cmdq_error),
		cmocka_unit_test(test_cmdq_wrap),
		cmocka_unit_test(test_evtq_wrap_overflow),
		cmocka_unit_test(test_gbpa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
