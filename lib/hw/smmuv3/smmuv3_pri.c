// SPDX-License-Identifier: MIT
/*
 * smmuv3_pri.c - the PRI queue's producer: page requests from PCIe
 * endpoints, and the responses the SMMU gives on software's behalf.
 *
 * What it owns. smmuv3_pri_request(): one Page Request Message (PPR) of
 * an endpoint, written as a 16-byte record at PRIQ_PROD, or discarded
 * with the automatic PRG response the architecture asks for; and
 * smmuv3_prg_auto(), the way those responses reach the endpoint (the ATS
 * port callback of the parameters). The registers (PRIQ_BASE / PROD /
 * CONS / IRQ_CFG*) live with the others in smmuv3.c; CMD_PRI_RESP, the
 * software response, in smmuv3_cmdq.c.
 *
 * Record (IHI 0070 §8, the layout Linux's PRIQ_0_* / PRIQ_1_* read):
 *   qword 0: StreamID [31:0], SubstreamID [51:32], Priv 58, Exec 59,
 *            Read 60, Write 61, Last 62, SSV 63;
 *   qword 1: PRG index [8:0], page address [63:12].
 *
 * Architecture, §8.1 - §8.2:
 *  - PRIQEN = 0 (SMMUEN = 0 included), or GERROR.PRIQ_ABT_ERR active: the
 *    request is discarded and answered with Response Failure, without
 *    PASID. A write that aborts raises PRIQ_ABT_ERR and the request gets
 *    the same answer (the model's aborts are synchronous).
 *  - The queue full: OVFLG in PRIQ_PROD toggles, unless an overflow is
 *    already unacknowledged (OVFLG != PRIQ_CONS.OVACKFLG); while it is,
 *    nothing more is written even when the queue has room again, until
 *    software acknowledges. A discarded request with Last = 1 is answered
 *    Success (so the endpoint asks again); one with Last = 0 silently
 *    dropped (its group ends in a Last request that will be answered).
 *    The answer keeps the request's PASID: IDR3.PPS = 1 (STE.PPAR is
 *    then IGNORED, and no STE is read here).
 *  - Page requests do not depend on STE.EATS or ATSCHK: nothing of the
 *    stream's configuration is consulted.
 * A record written raises the PRI queue interrupt when IRQ_CTRL.PRIQ_IRQEN:
 * an MSI (PRIQ_IRQ_CFG1 to the address in PRIQ_IRQ_CFG0, an abort of it
 * GERROR.MSI_PRIQ_ABT_ERR) when CFG0 is non-zero, else the wired line.
 *
 * Concurrency: everything under the instance lock, as the event queue;
 * responses reach the endpoint from inside it (the callback must not call
 * back in).
 */
#include <endian.h>
#include <errno.h>

#include "hw/smmuv3/smmuv3_priv.h"

void smmuv3_prg_auto(struct smmuv3 *s, const struct smmuv3_ppr *p, uint32_t ssid,
		     enum smmuv3_prg_code code)
{
	struct smmuv3_prg_resp r = {
		.sid = p->sid, .ssid = ssid, .prgi = p->prgi, .code = (uint8_t)code,
		.automatic = true,
	};

	s->stats.prg_auto++;
	if (s->p.prg_resp)
		s->p.prg_resp(s->p.ep_opaque, &r);
}

static void encode_ppr(const struct smmuv3_ppr *p, uint64_t qw[2])
{
	bool ssv = p->ssid != SMMU_NO_SSID;

	qw[0] = (uint64_t)p->sid | (ssv ? (uint64_t)(p->ssid & 0xfffff) << 32 : 0) |
		(uint64_t)!(p->perm & PT_PROT_U) << 58 | (uint64_t)!!(p->perm & PT_PROT_X) << 59 |
		(uint64_t)!!(p->perm & PT_PROT_R) << 60 | (uint64_t)!!(p->perm & PT_PROT_W) << 61 |
		(uint64_t)p->last << 62 | (uint64_t)ssv << 63;
	qw[1] = (uint64_t)(p->prgi & 0x1ff) | (p->addr & SMMU_MASK(63, 12));
}

/* The PRI queue interrupt for a record just written. Lock held. */
static void priq_irq(struct smmuv3 *s)
{
	uint64_t addr = s->priq_irq.cfg0 & SMMU_MASK(51, 2);

	if (!(s->irq_ctrl & SMMU_IRQ_PRIQ_EN))
		return;
	if (addr) {
		s->stats.irqs[SMMU_IRQ_PRIQ]++;
		if (!smmuv3_write32(s, addr, s->priq_irq.cfg1))
			smmuv3_gerror_raise(s, SMMU_GERROR_MSI_PRIQ_ABT);
		return;
	}
	smmuv3_irq(s, SMMU_IRQ_PRIQ);
}

/* Write @p at PRIQ_PROD, or answer it. Lock held. */
static int pri_locked(struct smmuv3 *s, const struct smmuv3_ppr *p)
{
	struct smmuv3_queue *q = &s->priq;
	uint32_t log2, wrap, ptr_mask, prod, cons;
	uint64_t qw[2], *m;

	if (!(s->cr0 & SMMU_CR0_SMMUEN) || !(s->cr0 & SMMU_CR0_PRIQEN) ||
	    ((s->gerror ^ s->gerrorn) & SMMU_GERROR_PRIQ_ABT_ERR)) {
		/* §8.2: every request answered Response Failure, no PASID. */
		s->stats.pri_lost++;
		smmuv3_prg_auto(s, p, SMMU_NO_SSID, SMMU_PRG_FAILURE);
		return -EIO;
	}
	log2 = smmuv3_q_log2_max(q->base, s->priqs);
	wrap = 1u << log2;
	ptr_mask = (wrap << 1) - 1;
	prod = q->prod & ptr_mask;
	cons = q->cons & ptr_mask;
	if (((q->prod ^ q->cons) & SMMU_Q_OVFLG) || (prod ^ cons) == wrap) {
		/* Full, or an overflow not acknowledged yet: nothing is written. */
		if (!((q->prod ^ q->cons) & SMMU_Q_OVFLG))
			q->prod ^= SMMU_Q_OVFLG;
		s->stats.pri_lost++;
		if (p->last)
			smmuv3_prg_auto(s, p, p->ssid, SMMU_PRG_SUCCESS);
		return -ENOSPC;
	}
	encode_ppr(p, qw);
	m = pt_mem_ptr(s->mem, smmuv3_q_entry_addr_l(q->base, log2, prod, SMMU_PRIQ_SIZE),
		       SMMU_PRIQ_SIZE);
	if (!m) {
		/* An external abort: PRIQ_ABT_ERR, and this request answered as with it active. */
		s->stats.pri_lost++;
		smmuv3_gerror_raise(s, SMMU_GERROR_PRIQ_ABT_ERR);
		smmuv3_prg_auto(s, p, SMMU_NO_SSID, SMMU_PRG_FAILURE);
		return -EIO;
	}
	__atomic_store_n(&m[0], htole64(qw[0]), __ATOMIC_RELAXED);
	__atomic_store_n(&m[1], htole64(qw[1]), __ATOMIC_RELEASE);
	q->prod = (q->prod & SMMU_Q_OVFLG) | ((prod + 1) & ptr_mask);
	s->stats.pri_reqs++;
	priq_irq(s);
	return 0;
}

int smmuv3_pri_request(struct smmuv3 *s, const struct smmuv3_ppr *p)
{
	int ret;

	if (!s || !p || !s->p.pri || p->prgi > 0x1ff ||
	    (p->ssid != SMMU_NO_SSID && (p->ssid >> s->p.ssidsize)))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = pri_locked(s, p);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
