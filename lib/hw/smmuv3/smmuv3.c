// SPDX-License-Identifier: MIT
/*
 * smmuv3.c - the SMMUv3 model's instance: register file, queues, event
 * records and interrupts.
 *
 * What it owns. The programmer's view of one SMMU: the ID registers
 * (what the model implements: stage 1 and/or stage 2 and so nesting,
 * AArch64 tables little endian only, 4K/16K/64K granules, 48-bit OAS,
 * 16-bit ASIDs and VMIDs, linear and 2-level stream tables, 2-level CD
 * tables, range invalidation, MSI for CMD_SYNC and the PRI queue; HTTU,
 * stall, PRI and ATS when the parameters ask for them), the control
 * registers and their acknowledgements, the global error pair, the stream
 * table base, the command, event and PRI queues with their wrap bits and
 * overflow flags, and the translation caches (one struct xlate_cache)
 * that smmuv3_ste.c fills and smmuv3_cmdq.c invalidates. The PRI queue's
 * producer side (page requests) is smmuv3_pri.c.
 *
 * Registers behave as IHI 0070 describes, with these choices: CR0ACK and
 * IRQ_CTRLACK follow their registers at once (updates take no time);
 * page 1 aliases page 0 (so EVENTQ_PROD/CONS are at 0x100a8/0x100ac as the
 * architecture places them, and at 0xa8/0xac too); an 8-byte access is
 * the two 4-byte accesses low then high; a write to a base register or to
 * a queue index the architecture makes read-only while its enable is set
 * (STRTAB_* with SMMUEN, CMDQ_BASE/CONS with CMDQEN, EVENTQ_BASE/PROD
 * with EVENTQEN, PRIQ_BASE/PROD with PRIQEN) is ignored; reserved values
 * of LOG2SIZE beyond IDR1 are taken as the IDR1 maximum. Without PRI the
 * PRIQ_* registers, CR0.PRIQEN and IRQ_CTRL.PRIQ_IRQEN are RAZ/WI. The
 * PRI queue interrupt is an MSI (PRIQ_IRQ_CFG1 written to PRIQ_IRQ_CFG0)
 * when CFG0 holds an address, else the wired line; the event queue's is
 * the wired line only (its IRQ_CFG registers are kept, not used).
 *
 * Global errors: an error is active while its GERROR bit differs from the
 * GERRORN bit; a new error toggles GERROR only when not already active,
 * and raises the GERROR interrupt when IRQ_CTRL.GERROR_IRQEN. While
 * CMDQ_ERR is active the command queue is not consumed; acknowledging it
 * (GERRORN) resumes consumption from CMDQ_CONS, which still points at the
 * command that failed (a driver rewrites that slot first).
 *
 * Event queue: a record is written at PROD and PROD advances; when the
 * queue is full the record is lost, EVENTQ_PROD.OVFLG is toggled unless
 * an overflow is already unacknowledged (OVFLG != EVENTQ_CONS.OVACKFLG),
 * and stats.events_lost counts it, so nothing is lost silently. With
 * EVENTQEN = 0 records are dropped (counted). A write that aborts raises
 * GERROR.EVENTQ_ABT_ERR.
 *
 * Stalled transactions (params.stall): a slot per transaction (at most
 * IDR5.STALL_MAX), holding its SID, tag and state. A stalling fault takes
 * a slot and writes its record (Stall = 1, STAG) in one critical section,
 * so the record and the slot exist together or not at all; CMD_RESUME /
 * STALL_TERM (smmuv3_cmdq.c) set the answer and wake the waiters; the
 * waiter frees the slot. A reset aborts every waiting transaction.
 *
 * Concurrency: one mutex (s->lock) serialises register accesses, command
 * consumption (and so every cache invalidation, which lib/xlate requires
 * to be serialised) and event writes. Translations do not take it to read
 * the registers they need (CR0, CR2, GBPA, STRTAB_BASE / _CFG): every
 * write to one of those republishes a copy under a sequence count
 * (smmuv3_xregs_*), which a translation reads lock-free and consistently
 * (all five as of one moment: a write completes before the MMIO access
 * returns, so a translation that starts after it sees it). They take it
 * only to write an event; the walk and the cache lookups run without it
 * (lib/xlate's caches are safe for concurrent readers against one
 * invalidating thread), so a translation that hits the configuration
 * cache and the IOTLB takes no lock at all.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_priv.h"
#include "util/alloc.h"

void smmuv3_params_default(struct smmuv3_params *p)
{
	memset(p, 0, sizeof(*p));
	p->s1p = true;
	p->s2p = true;
	p->sidsize = 16;
	p->ssidsize = 20;
	xlate_cache_params_default(&p->cache);
}

static void smmuv3_init_idr(struct smmuv3 *s)
{
	uint32_t idr0 = 0;

	if (s->p.s2p)
		idr0 |= 1u << 0;	/* S2P */
	if (s->p.s1p)
		idr0 |= 1u << 1;	/* S1P */
	idr0 |= 2u << 2;		/* TTF: AArch64 tables only */
	idr0 |= 1u << 4;		/* COHACC */
	if (s->p.ats)
		idr0 |= 1u << 10;	/* ATS */
	if (s->p.pri)
		idr0 |= 1u << 16;	/* PRI */
	idr0 |= 1u << 12;		/* ASID16 */
	idr0 |= 1u << 13;		/* MSI */
	idr0 |= 1u << 18;		/* VMID16 */
	idr0 |= 1u << 19;		/* CD2L: 2-level CD tables */
	idr0 |= 2u << 21;		/* TTENDIAN: little endian only */
	if (s->p.httu)
		idr0 |= 2u << 6;	/* HTTU: access flag and dirty state */
	if (!s->p.stall)
		idr0 |= 1u << 24;	/* STALL_MODEL: 0b01 stall not supported */
	else if (s->p.stall_force)
		idr0 |= 2u << 24;	/* 0b10 stall forced (else 0b00: stall configurable) */
	idr0 |= 1u << 26;		/* TERM_MODEL: terminate = abort */
	idr0 |= 1u << 27;		/* ST_LEVEL: 2-level stream table */
	s->idr[0] = idr0;
	s->idr[1] = s->p.sidsize | s->p.ssidsize << 6 | SMMU_Q_MAX_LOG2 << 16 |
		    SMMU_Q_MAX_LOG2 << 21;
	if (s->p.pri)
		s->idr[1] |= s->priqs << 11; /* PRIQS */
	s->idr[2] = 0;
	s->idr[3] = 1u << 10;		/* RIL */
	if (s->p.pri && s->p.ssidsize)
		s->idr[3] |= 1u << 5;	/* PPS: overflow auto-responses keep the PASID */
	s->idr[4] = 0;
	s->idr[5] = SMMU_OAS_ENC | 1u << 4 | 1u << 5 | 1u << 6; /* OAS 48, 4K, 16K, 64K */
	if (s->p.stall)
		s->idr[5] |= s->p.stall_max << 16; /* STALL_MAX */
}

void smmuv3_reset(struct smmuv3 *s)
{
	pthread_mutex_lock(&s->lock);
	s->cr0 = s->cr1 = s->cr2 = 0;
	s->gbpa = 0x1000; /* SHCFG = use incoming; ABORT = 0 */
	s->irq_ctrl = 0;
	s->gerror = s->gerrorn = 0;
	memset(&s->gerror_irq, 0, sizeof(s->gerror_irq));
	memset(&s->evtq_irq, 0, sizeof(s->evtq_irq));
	s->strtab_base = 0;
	s->strtab_base_cfg = 0;
	smmuv3_xregs_publish(s);
	memset(&s->cmdq, 0, sizeof(s->cmdq));
	memset(&s->evtq, 0, sizeof(s->evtq));
	memset(&s->priq, 0, sizeof(s->priq));
	memset(&s->priq_irq, 0, sizeof(s->priq_irq));
	/* Invalidations nobody waited for yet are sent: an ATC must not outlive a reset stale. */
	smmuv3_atc_flush(s);
	s->atc_timeout = false;
	if (s->cache)
		xlate_inv_all(s->cache);
	__atomic_add_fetch(&s->cfg_gen, 1, __ATOMIC_RELEASE);
	/* A reset terminates every stalled transaction. */
	for (unsigned int i = 0; i < s->p.stall_max && s->stalls; i++)
		if (s->stalls[i].state == SMMU_STALL_WAITING)
			s->stalls[i].state = SMMU_STALL_ABORT;
	pthread_cond_broadcast(&s->stall_cond);
	pthread_mutex_unlock(&s->lock);
}

int smmuv3_new(const struct smmuv3_params *p, const struct pt_mem *mem, struct smmuv3 **out)
{
	struct smmuv3 *s;
	int ret;

	if (!p || !mem || !out || (!p->s1p && !p->s2p) || p->sidsize < 1 || p->sidsize > 32 ||
	    p->ssidsize > 20 || p->stall_max > 0xffff || p->priqs > SMMU_Q_MAX_LOG2)
		return -EINVAL;
	s = uzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->p = *p;
	s->p.stall |= p->stall_force;
	s->mem = mem;
	s->priqs = p->priqs ? p->priqs : SMMU_Q_MAX_LOG2;
	if (s->p.stall) {
		if (!s->p.stall_max)
			s->p.stall_max = 32;
		s->stalls = ucalloc(s->p.stall_max, sizeof(*s->stalls));
		if (!s->stalls) {
			ufree(s);
			return -ENOMEM;
		}
	} else {
		s->p.stall_max = 0;
	}
	if (!p->no_cache) {
		ret = xlate_cache_new(&p->cache, &s->cache);
		if (ret) {
			ufree(s->stalls);
			ufree(s);
			return ret;
		}
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->stall_cond, NULL);
	smmuv3_init_idr(s);
	smmuv3_reset(s);
	*out = s;
	return 0;
}

void smmuv3_free(struct smmuv3 *s)
{
	if (!s)
		return;
	if (s->cache)
		xlate_cache_free(s->cache);
	pthread_cond_destroy(&s->stall_cond);
	pthread_mutex_destroy(&s->lock);
	ufree(s->stalls);
	ufree(s);
}

struct xlate_cache *smmuv3_cache(struct smmuv3 *s)
{
	return s->cache;
}

void smmuv3_get_stats(struct smmuv3 *s, struct smmuv3_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->stats;
	pthread_mutex_unlock(&s->lock);
}

/* ---------------------------------------------------------------------- */
/* The registers translations read                                         */

void smmuv3_xregs_publish(struct smmuv3 *s)
{
	struct smmuv3_xregs *x = &s->xregs;
	uint32_t seq = __atomic_load_n(&s->xregs_seq, __ATOMIC_RELAXED);

	__atomic_store_n(&s->xregs_seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&x->cr0, s->cr0, __ATOMIC_RELAXED);
	__atomic_store_n(&x->cr2, s->cr2, __ATOMIC_RELAXED);
	__atomic_store_n(&x->gbpa, s->gbpa, __ATOMIC_RELAXED);
	__atomic_store_n(&x->strtab_cfg, s->strtab_base_cfg, __ATOMIC_RELAXED);
	__atomic_store_n(&x->strtab_base, s->strtab_base, __ATOMIC_RELAXED);
	__atomic_store_n(&s->xregs_seq, seq + 2, __ATOMIC_RELEASE);
}

void smmuv3_xregs_read(struct smmuv3 *s, struct smmuv3_xregs *r)
{
	const struct smmuv3_xregs *x = &s->xregs;
	uint32_t seq;

	for (;;) {
		seq = __atomic_load_n(&s->xregs_seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue; /* a register write is being published */
		r->cr0 = __atomic_load_n(&x->cr0, __ATOMIC_RELAXED);
		r->cr2 = __atomic_load_n(&x->cr2, __ATOMIC_RELAXED);
		r->gbpa = __atomic_load_n(&x->gbpa, __ATOMIC_RELAXED);
		r->strtab_cfg = __atomic_load_n(&x->strtab_cfg, __ATOMIC_RELAXED);
		r->strtab_base = __atomic_load_n(&x->strtab_base, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->xregs_seq, __ATOMIC_RELAXED) == seq)
			return;
	}
}

/* ---------------------------------------------------------------------- */
/* Memory                                                                  */

bool smmuv3_read_qw(struct smmuv3 *s, uint64_t pa, uint64_t *qw, unsigned int n)
{
	uint64_t *p;

	if (pa & 7)
		return false;
	p = pt_mem_ptr(s->mem, pa, (uint64_t)n * 8);
	if (!p)
		return false;
	for (unsigned int i = 0; i < n; i++)
		qw[i] = le64toh(__atomic_load_n(&p[i], __ATOMIC_ACQUIRE));
	return true;
}

static bool smmuv3_write_qw(struct smmuv3 *s, uint64_t pa, const uint64_t *qw, unsigned int n)
{
	uint64_t *p;

	if (pa & 7)
		return false;
	p = pt_mem_ptr(s->mem, pa, (uint64_t)n * 8);
	if (!p)
		return false;
	for (unsigned int i = 0; i < n; i++)
		__atomic_store_n(&p[i], htole64(qw[i]), __ATOMIC_RELEASE);
	return true;
}

bool smmuv3_write32(struct smmuv3 *s, uint64_t pa, uint32_t v)
{
	uint32_t *p;

	if (pa & 3)
		return false;
	p = pt_mem_ptr(s->mem, pa, 4);
	if (!p)
		return false;
	__atomic_store_n(p, htole32(v), __ATOMIC_RELEASE);
	return true;
}

/* ---------------------------------------------------------------------- */
/* Interrupts, global errors, event queue                                  */

void smmuv3_irq(struct smmuv3 *s, enum smmuv3_irq line)
{
	s->stats.irqs[line]++;
	if (s->p.irq)
		s->p.irq(s->p.irq_opaque, line);
}

void smmuv3_gerror_raise(struct smmuv3 *s, uint32_t bits)
{
	uint32_t fresh = bits & ~(s->gerror ^ s->gerrorn); /* not already active */

	if (!fresh)
		return;
	s->gerror ^= fresh;
	if (s->irq_ctrl & SMMU_IRQ_GERROR_EN)
		smmuv3_irq(s, SMMU_IRQ_GERROR);
}

uint32_t smmuv3_q_log2_max(uint64_t base, uint32_t max)
{
	uint32_t l = base & 0x1f;

	return l > max ? max : l;
}

uint32_t smmuv3_q_log2(uint64_t base)
{
	return smmuv3_q_log2_max(base, SMMU_Q_MAX_LOG2);
}

uint64_t smmuv3_q_entry_addr(uint64_t base, uint32_t idx, unsigned int esize)
{
	return smmuv3_q_entry_addr_l(base, smmuv3_q_log2(base), idx, esize);
}

uint64_t smmuv3_q_entry_addr_l(uint64_t base, uint32_t log2, uint32_t idx, unsigned int esize)
{
	uint64_t bytes = ((uint64_t)esize << log2) < 32 ? 32 : (uint64_t)esize << log2;
	uint64_t addr = base & SMMU_MASK(51, 5);

	return (addr & ~(bytes - 1)) + (uint64_t)(idx & ((1u << log2) - 1)) * esize;
}

static void encode_event(const struct smmuv3_event *e, uint64_t qw[4])
{
	bool ssv = e->ssid != SMMU_NO_SSID;

	qw[0] = (uint64_t)e->type | (uint64_t)ssv << 11 |
		(ssv ? (uint64_t)(e->ssid & 0xfffff) << 12 : 0) | (uint64_t)e->sid << 32;
	qw[1] = (uint64_t)e->pnu << 33 | (uint64_t)e->ind << 34 | (uint64_t)e->rnw << 35 |
		(uint64_t)e->s2 << 39 | (uint64_t)(e->cls & 3) << 40 | (uint64_t)e->ttrnw << 44;
	if (e->stall)
		qw[1] |= (uint64_t)e->stag | 1ULL << 31; /* STAG [15:0], Stall */
	qw[2] = e->input;
	qw[3] = e->addr2;
}

/* Write @e at EVENTQ_PROD; lock held. True when it was written. */
static bool record_locked(struct smmuv3 *s, const struct smmuv3_event *e)
{
	struct smmuv3_queue *q = &s->evtq;
	uint32_t log2, wrap, ptr_mask, prod, cons;
	uint64_t qw[4];

	encode_event(e, qw);
	if (!(s->cr0 & SMMU_CR0_EVENTQEN)) {
		s->stats.events_dropped++;
		return false;
	}
	log2 = smmuv3_q_log2(q->base);
	wrap = 1u << log2;
	ptr_mask = (wrap << 1) - 1;
	prod = q->prod & ptr_mask;
	cons = q->cons & ptr_mask;
	if ((prod ^ cons) == wrap) {
		/* Full: lost; flag the overflow unless one is unacknowledged. */
		if (!((q->prod ^ q->cons) & SMMU_Q_OVFLG))
			q->prod ^= SMMU_Q_OVFLG;
		s->stats.events_lost++;
		return false;
	}
	if (!smmuv3_write_qw(s, smmuv3_q_entry_addr(q->base, prod, SMMU_EVT_SIZE), qw, 4)) {
		s->stats.events_dropped++;
		smmuv3_gerror_raise(s, SMMU_GERROR_EVENTQ_ABT_ERR);
		return false;
	}
	q->prod = (q->prod & SMMU_Q_OVFLG) | ((prod + 1) & ptr_mask);
	s->stats.events++;
	if (s->irq_ctrl & SMMU_IRQ_EVENTQ_EN)
		smmuv3_irq(s, SMMU_IRQ_EVTQ);
	return true;
}

bool smmuv3_record_event(struct smmuv3 *s, const struct smmuv3_event *e)
{
	bool written;

	pthread_mutex_lock(&s->lock);
	written = record_locked(s, e);
	pthread_mutex_unlock(&s->lock);
	return written;
}

/* ---------------------------------------------------------------------- */
/* Stalled transactions                                                    */

/* The slot of (@sid, @stag), or NULL. Lock held. */
static struct smmuv3_stall *stall_find(struct smmuv3 *s, uint32_t sid, uint16_t stag)
{
	for (unsigned int i = 0; i < s->p.stall_max; i++)
		if (s->stalls[i].state != SMMU_STALL_FREE && s->stalls[i].sid == sid &&
		    s->stalls[i].stag == stag)
			return &s->stalls[i];
	return NULL;
}

int smmuv3_record_stall(struct smmuv3 *s, struct smmuv3_event *e, uint16_t *stag)
{
	struct smmuv3_stall *slot = NULL;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	if (s->nr_stalled >= s->p.stall_max)
		goto out;
	for (unsigned int i = 0; i < s->p.stall_max; i++) {
		if (s->stalls[i].state == SMMU_STALL_FREE) {
			slot = &s->stalls[i];
			break;
		}
	}
	/* A tag no transaction of this stream holds (at most stall_max are taken). */
	do
		e->stag = s->next_stag++;
	while (stall_find(s, e->sid, e->stag));
	e->stall = true;
	if (!record_locked(s, e)) {
		ret = -1;
		goto out;
	}
	*slot = (struct smmuv3_stall){ .state = SMMU_STALL_WAITING, .stag = e->stag,
				       .sid = e->sid };
	s->nr_stalled++;
	s->stats.stalls++;
	*stag = e->stag;
	ret = 1;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void smmuv3_stall_answer(struct smmuv3 *s, uint32_t sid, bool all, uint16_t stag,
			 enum smmuv3_stall_state answer)
{
	bool woke = false;

	for (unsigned int i = 0; i < s->p.stall_max; i++) {
		struct smmuv3_stall *st = &s->stalls[i];

		/* Only a transaction still waiting takes an answer; later ones are ignored. */
		if (st->state != SMMU_STALL_WAITING || st->sid != sid || (!all && st->stag != stag))
			continue;
		st->state = (uint8_t)answer;
		if (answer == SMMU_STALL_RETRY)
			s->stats.stall_retries++;
		woke = true;
	}
	if (woke)
		pthread_cond_broadcast(&s->stall_cond);
}

int smmuv3_stall_wait(struct smmuv3 *s, uint32_t sid, uint16_t stag)
{
	struct smmuv3_stall *st;
	int ret;

	pthread_mutex_lock(&s->lock);
	st = s->stalls ? stall_find(s, sid, stag) : NULL;
	if (!st) {
		pthread_mutex_unlock(&s->lock);
		return -ENOENT;
	}
	while (st->state == SMMU_STALL_WAITING)
		pthread_cond_wait(&s->stall_cond, &s->lock);
	ret = st->state == SMMU_STALL_RETRY ? 0 : -EFAULT;
	st->state = SMMU_STALL_FREE;
	s->nr_stalled--;
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Registers                                                               */

#define CR0_MASK	(SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN) /* + PRIQEN */
#define CR1_MASK	0xfffu
#define CR2_MASK	0x6u /* RECINVSID, PTM; E2H is RES0 without HYP */
#define GBPA_MASK	0x1f3f1fu
#define IRQ_CTRL_MASK	(SMMU_IRQ_GERROR_EN | SMMU_IRQ_EVENTQ_EN) /* + PRIQ_IRQEN with PRI */
#define GERROR_MASK	0x1fdu
#define STRTAB_BASE_MASK (SMMU_MASK(51, 6) | 1ULL << 62)
#define STRTAB_CFG_MASK	(0x3ffffu & ~0xf800u) /* LOG2SIZE [5:0], SPLIT [10:6], FMT [17:16] */
#define Q_BASE_MASK	(SMMU_MASK(51, 5) | 1ULL << 62 | 0x1f)
#define Q_PTR_MASK	0xfffffu /* wrap + index for LOG2SIZE up to 19 */
#define IRQ_CFG0_MASK	SMMU_MASK(51, 2)

static uint32_t lo32(uint64_t v) { return (uint32_t)v; }
static uint32_t hi32(uint64_t v) { return (uint32_t)(v >> 32); }

static void set_half(uint64_t *reg, bool high, uint32_t v, uint64_t mask)
{
	uint64_t n = high ? ((*reg & 0xffffffffULL) | (uint64_t)v << 32)
			  : ((*reg & ~0xffffffffULL) | v);

	*reg = n & mask;
}

/*
 * The interrupt configuration registers from IRQ_CFG0 (@rel its offset):
 * CFG0 at +0 (64-bit), CFG1 at +8, CFG2 at +0xc. GERROR, EVENTQ and PRIQ
 * lay theirs out alike.
 */
#define SMMU_IRQ_CFG_REGS 0x10
_Static_assert(SMMU_GERROR_IRQ_CFG1 - SMMU_GERROR_IRQ_CFG0 == 8 &&
		       SMMU_GERROR_IRQ_CFG2 - SMMU_GERROR_IRQ_CFG0 == 0xc &&
		       SMMU_EVENTQ_IRQ_CFG1 - SMMU_EVENTQ_IRQ_CFG0 == 8 &&
		       SMMU_EVENTQ_IRQ_CFG2 - SMMU_EVENTQ_IRQ_CFG0 == 0xc &&
		       SMMU_PRIQ_IRQ_CFG1 - SMMU_PRIQ_IRQ_CFG0 == 8 &&
		       SMMU_PRIQ_IRQ_CFG2 - SMMU_PRIQ_IRQ_CFG0 == 0xc,
	       "IRQ_CFG0..2 lay out alike");

static uint32_t read32_irq_cfg(const struct smmuv3_irq_cfg *c, uint32_t rel)
{
	switch (rel) {
	case 0:		return lo32(c->cfg0);
	case 4:		return hi32(c->cfg0);
	case 8:		return c->cfg1;
	case 0xc:	return c->cfg2;
	default:	return 0;
	}
}

static void write32_irq_cfg(struct smmuv3_irq_cfg *c, uint32_t rel, uint32_t v)
{
	switch (rel) {
	case 0:
	case 4:
		set_half(&c->cfg0, rel & 4, v, IRQ_CFG0_MASK);
		break;
	case 8:
		c->cfg1 = v;
		break;
	case 0xc:
		c->cfg2 = v & 0x3f;
		break;
	default:
		break;
	}
}

/*
 * The registers of a queue the SMMU writes (EVENTQ_*, PRIQ_*) from its BASE
 * (@rel the offset): BASE at +0 (64-bit), PROD at +8, CONS at +0xc, the
 * interrupt's IRQ_CFG0..2 from +0x10. BASE and PROD are read-only while
 * the queue is enabled (@en); PROD and CONS keep the overflow flag.
 */
#define SMMU_OUTQ_REGS 0x20
_Static_assert(SMMU_EVENTQ_PROD - SMMU_EVENTQ_BASE == 8 &&
		       SMMU_EVENTQ_CONS - SMMU_EVENTQ_BASE == 0xc &&
		       SMMU_EVENTQ_IRQ_CFG0 - SMMU_EVENTQ_BASE == 0x10 &&
		       SMMU_PRIQ_PROD - SMMU_PRIQ_BASE == 8 && SMMU_PRIQ_CONS - SMMU_PRIQ_BASE == 0xc &&
		       SMMU_PRIQ_IRQ_CFG0 - SMMU_PRIQ_BASE == 0x10,
	       "EVENTQ_* and PRIQ_* lay out alike");

static uint32_t read32_outq(const struct smmuv3_queue *q, const struct smmuv3_irq_cfg *irq,
			    uint32_t rel)
{
	switch (rel) {
	case 0:		return lo32(q->base);
	case 4:		return hi32(q->base);
	case 8:		return q->prod;
	case 0xc:	return q->cons;
	default:	return read32_irq_cfg(irq, rel - 0x10);
	}
}

static void write32_outq(struct smmuv3_queue *q, struct smmuv3_irq_cfg *irq, bool en,
			 uint32_t rel, uint32_t v)
{
	switch (rel) {
	case 0:
	case 4:
		if (!en)
			set_half(&q->base, rel & 4, v, Q_BASE_MASK);
		break;
	case 8:
		if (!en)
			q->prod = v & (Q_PTR_MASK | SMMU_Q_OVFLG);
		break;
	case 0xc:
		q->cons = v & (Q_PTR_MASK | SMMU_Q_OVFLG);
		break;
	default:
		write32_irq_cfg(irq, rel - 0x10, v);
		break;
	}
}

static uint32_t read32(struct smmuv3 *s, uint32_t off)
{
	switch (off) {
	case SMMU_IDR0: case SMMU_IDR1: case SMMU_IDR2:
	case SMMU_IDR3: case SMMU_IDR4: case SMMU_IDR5:
		return s->idr[off / 4];
	case SMMU_IIDR:
		return 0;
	case SMMU_AIDR:
		return 2; /* SMMUv3.2 (range invalidation) */
	case SMMU_CR0:
	case SMMU_CR0ACK:
		return s->cr0;
	case SMMU_CR1:
		return s->cr1;
	case SMMU_CR2:
		return s->cr2;
	case SMMU_STATUSR:
		return 0;
	case SMMU_GBPA:
		return s->gbpa;
	case SMMU_IRQ_CTRL:
	case SMMU_IRQ_CTRLACK:
		return s->irq_ctrl;
	case SMMU_GERROR:
		return s->gerror;
	case SMMU_GERRORN:
		return s->gerrorn;
	case SMMU_STRTAB_BASE:		return lo32(s->strtab_base);
	case SMMU_STRTAB_BASE + 4:	return hi32(s->strtab_base);
	case SMMU_STRTAB_BASE_CFG:	return s->strtab_base_cfg;
	case SMMU_CMDQ_BASE:		return lo32(s->cmdq.base);
	case SMMU_CMDQ_BASE + 4:	return hi32(s->cmdq.base);
	case SMMU_CMDQ_PROD:		return s->cmdq.prod;
	case SMMU_CMDQ_CONS:		return s->cmdq.cons;
	default:
		break;
	}
	if (off - SMMU_GERROR_IRQ_CFG0 < SMMU_IRQ_CFG_REGS)
		return read32_irq_cfg(&s->gerror_irq, off - SMMU_GERROR_IRQ_CFG0);
	if (off - SMMU_EVENTQ_BASE < SMMU_OUTQ_REGS)
		return read32_outq(&s->evtq, &s->evtq_irq, off - SMMU_EVENTQ_BASE);
	if (s->p.pri && off - SMMU_PRIQ_BASE < SMMU_OUTQ_REGS)
		return read32_outq(&s->priq, &s->priq_irq, off - SMMU_PRIQ_BASE);
	return 0;
}

static void write32(struct smmuv3 *s, uint32_t off, uint32_t v)
{
	bool smmuen = s->cr0 & SMMU_CR0_SMMUEN;
	bool cmdqen = s->cr0 & SMMU_CR0_CMDQEN;
	uint32_t was;

	switch (off) {
	case SMMU_CR0:
		was = s->cr0;
		s->cr0 = v & (CR0_MASK | (s->p.pri ? SMMU_CR0_PRIQEN : 0));
		smmuv3_xregs_publish(s);
		if ((s->cr0 & ~was) & SMMU_CR0_CMDQEN)
			smmuv3_cmdq_run(s);
		break;
	case SMMU_CR1:
		s->cr1 = v & CR1_MASK;
		break;
	case SMMU_CR2:
		s->cr2 = v & CR2_MASK;
		smmuv3_xregs_publish(s);
		break;
	case SMMU_GBPA:
		if (v & SMMU_GBPA_UPDATE)
			s->gbpa = v & GBPA_MASK;
		smmuv3_xregs_publish(s);
		break;
	case SMMU_IRQ_CTRL:
		s->irq_ctrl = v & (IRQ_CTRL_MASK | (s->p.pri ? SMMU_IRQ_PRIQ_EN : 0));
		break;
	case SMMU_GERRORN:
		was = s->gerror ^ s->gerrorn;
		s->gerrorn = v & GERROR_MASK;
		if ((was & ~(s->gerror ^ s->gerrorn)) & SMMU_GERROR_CMDQ_ERR)
			smmuv3_cmdq_run(s);
		break;
	case SMMU_STRTAB_BASE:
	case SMMU_STRTAB_BASE + 4:
		if (!smmuen)
			set_half(&s->strtab_base, off & 4, v, STRTAB_BASE_MASK);
		smmuv3_xregs_publish(s);
		break;
	case SMMU_STRTAB_BASE_CFG:
		if (!smmuen)
			s->strtab_base_cfg = v & STRTAB_CFG_MASK;
		smmuv3_xregs_publish(s);
		break;
	case SMMU_CMDQ_BASE:
	case SMMU_CMDQ_BASE + 4:
		if (!cmdqen)
			set_half(&s->cmdq.base, off & 4, v, Q_BASE_MASK);
		break;
	case SMMU_CMDQ_PROD:
		s->cmdq.prod = v & Q_PTR_MASK;
		smmuv3_cmdq_run(s);
		break;
	case SMMU_CMDQ_CONS:
		if (!cmdqen)
			s->cmdq.cons = (s->cmdq.cons & SMMU_CMDQ_CONS_ERR_MASK) | (v & Q_PTR_MASK);
		break;
	default:
		if (off - SMMU_GERROR_IRQ_CFG0 < SMMU_IRQ_CFG_REGS)
			write32_irq_cfg(&s->gerror_irq, off - SMMU_GERROR_IRQ_CFG0, v);
		else if (off - SMMU_EVENTQ_BASE < SMMU_OUTQ_REGS)
			write32_outq(&s->evtq, &s->evtq_irq, s->cr0 & SMMU_CR0_EVENTQEN,
				     off - SMMU_EVENTQ_BASE, v);
		else if (s->p.pri && off - SMMU_PRIQ_BASE < SMMU_OUTQ_REGS)
			write32_outq(&s->priq, &s->priq_irq, s->cr0 & SMMU_CR0_PRIQEN,
				     off - SMMU_PRIQ_BASE, v);
		break; /* else RO or no register: write ignored */
	}
}

static int check_access(uint64_t off, unsigned int size)
{
	if ((size != 4 && size != 8) || (off & (size - 1)) || off >= SMMU_MMIO_SIZE)
		return -EINVAL;
	return 0;
}

int smmuv3_mmio_read(struct smmuv3 *s, uint64_t off, unsigned int size, uint64_t *val)
{
	uint32_t o;

	if (check_access(off, size) || !val)
		return -EINVAL;
	o = (uint32_t)off & 0xffff;
	pthread_mutex_lock(&s->lock);
	*val = read32(s, o);
	if (size == 8)
		*val |= (uint64_t)read32(s, o + 4) << 32;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int smmuv3_mmio_write(struct smmuv3 *s, uint64_t off, unsigned int size, uint64_t val)
{
	uint32_t o;

	if (check_access(off, size))
		return -EINVAL;
	o = (uint32_t)off & 0xffff;
	pthread_mutex_lock(&s->lock);
	write32(s, o, (uint32_t)val);
	if (size == 8)
		write32(s, o + 4, (uint32_t)(val >> 32));
	pthread_mutex_unlock(&s->lock);
	return 0;
}
