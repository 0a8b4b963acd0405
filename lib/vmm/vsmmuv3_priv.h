/* SPDX-License-Identifier: MIT */
/*
 * lib/vmm/vsmmuv3_priv.h - the vSMMUv3 front end's state, shared by
 * vsmmuv3.c (registers, stream table, commands, events) and
 * vsmmuv3_fault.c (page requests: stalls into the event queue, PRI into
 * the PRI queue, and their answers). Not an interface: nothing outside
 * lib/vmm/vsmmuv3*.c includes it.
 */
#ifndef UIOMMU_VMM_VSMMUV3_PRIV_H
#define UIOMMU_VMM_VSMMUV3_PRIV_H

#include <linux/iommufd.h>

#include "vmm/vsmmuv3.h"

#define BATCH_MAX 64u

/* IDR fields. */
#define IDR0_S2P	    (1u << 0)
#define IDR0_S1P	    (1u << 1)
#define IDR0_TTF_SHIFT	    2
#define IDR0_COHACC	    (1u << 4)
#define IDR0_ASID16	    (1u << 12)
#define IDR0_MSI	    (1u << 13)
#define IDR0_CD2L	    (1u << 19)
#define IDR0_TTENDIAN_SHIFT 21
#define IDR0_ATS	    (1u << 10)
#define IDR0_PRI	    (1u << 16)
#define IDR0_STALL_SHIFT    24 /* STALL_MODEL [25:24] */
#define IDR0_STALL_MASK	    (3u << IDR0_STALL_SHIFT)
#define STALL_MODEL_BOTH    0u /* stall and terminate */
#define STALL_MODEL_NONE    1u /* terminate only */
#define STALL_MODEL_FORCED  2u /* stall only */
#define IDR0_TERM_MODEL	    (1u << 26)
#define IDR0_STLEVEL_2LVL   (1u << 27)
#define IDR1_SSIDSIZE(v)    (((v) >> 6) & 0x1f)
#define IDR3_RIL	    (1u << 10)
#define IDR5_OAS_MASK	    0x7u
#define IDR5_GRAN_MASK	    (7u << 4)

/* Register masks. */
#define CR0_MASK \
	(VSMMUV3_CR0_SMMUEN | VSMMUV3_CR0_PRIQEN | VSMMUV3_CR0_EVENTQEN | VSMMUV3_CR0_CMDQEN)
#define GBPA_FIELDS	 0x1f3fffu /* ABORT, INSTCFG, PRIVCFG, SHCFG, ALLOCCFG, MTCFG, MEMATTR */
#define IRQ_CTRL_MASK	 (VSMMUV3_IRQ_GERROR | VSMMUV3_IRQ_PRIQ | VSMMUV3_IRQ_EVENTQ)
#define GERROR_MASK	 0x1fdu
#define ADDR_MASK(lo)	 ((((1ULL << 52) - 1) >> (lo)) << (lo))
#define STRTAB_BASE_MASK ((1ULL << 62) | ADDR_MASK(6))
#define STRTAB_CFG_MASK	 0x307ffu
#define Q_BASE_MASK	 ((1ULL << 62) | ADDR_MASK(5) | 0x1fULL)
#define IRQ_CFG0_MASK	 ADDR_MASK(2)
#define Q_IDX_MASK	 0xfffffu /* WR + RD for up to 2^19 entries */
#define CONS_ERR_SHIFT	 24
#define CONS_ERR_MASK	 (0x7fu << CONS_ERR_SHIFT)

/* STE words 0 and 1 (CPU order). */
#define STE0_V		 (1ULL << 0)
#define STE0_CFG(w)	 (((w) >> 1) & 7)
#define STE0_S1FMT(w)	 (((w) >> 4) & 3)
#define STE0_CTXPTR_MASK ADDR_MASK(6)
#define STE0_S1CDMAX(w)	 ((unsigned int)((w) >> 59) & 0x1f)
#define STE0_KEEP	 (STE0_V | (7ULL << 1) | (3ULL << 4) | STE0_CTXPTR_MASK | (0x1fULL << 59))
#define STE1_S1DSS(w)	 ((w)&3)
#define STE1_KEEP	 (0xffULL | STE1_S1STALLD) /* S1DSS, S1CIR, S1COR, S1CSH, S1STALLD */
#define STE1_S1STALLD	 (1ULL << 27)
#define STE1_EATS_MASK	 (3ULL << 28)
#define STE1_EATS(w)	 ((unsigned int)((w) >> 28) & 3)
#define STE_CFG_BYPASS	 4
#define STE_CFG_S1	 5

/* Commands. */
#define CMD_OP(w)	   ((unsigned int)(w)&0xff)
#define CMD_SSEC	   (1ULL << 10)
#define CMD_SID(w)	   ((uint32_t)((w) >> 32))
#define CMD_SYNC_CS(w)	   ((unsigned int)((w) >> 12) & 3)
#define CMD_SYNC_DATA(w)   ((uint32_t)((w) >> 32))
#define CMD_SYNC_ADDR(w)   ((w)&ADDR_MASK(2))
#define CMD_STE_RANGE(w)   ((unsigned int)(w)&0x1f)
#define OP_PREFETCH_CONFIG 0x01
#define OP_PREFETCH_ADDR   0x02
#define OP_CFGI_STE	   0x03
#define OP_CFGI_STE_RANGE  0x04
#define OP_CFGI_CD	   0x05
#define OP_CFGI_CD_ALL	   0x06
#define OP_TLBI_NH_ALL	   0x10
#define OP_TLBI_NH_ASID	   0x11
#define OP_TLBI_NH_VA	   0x12
#define OP_TLBI_NH_VAA	   0x13
#define OP_TLBI_NSNH_ALL   0x30
#define OP_ATC_INV	   0x40
#define OP_PRI_RESP	   0x41
#define OP_RESUME	   0x44
#define OP_STALL_TERM	   0x45
#define OP_SYNC		   0x46
#define CS_NONE		   0
#define CS_IRQ		   1
#define CS_SEV		   2

/* Events the front end records itself. */
#define EVT_C_BAD_STREAMID 0x02
#define EVT_F_STE_FETCH	   0x03
#define EVT_C_BAD_STE	   0x04
#define EVT_F_TRANSLATION  0x10

struct vep {
	struct vsmmuv3_endpoint ep;
	uint32_t vdev_id;
	uint32_t hwpt;	 /* attached now (0: none) */
	uint32_t nested; /* owned nested HWPT (0: none) */
};

/*
 * A page request handed to the guest and not answered yet: a stalled
 * transaction (its EVTQ record's STAG) or a PRI page request group (its
 * PRG index), with the host fault queue's cookie the answer needs.
 */
struct vpend {
	uint32_t cookie;
	uint16_t tag; /* STAG, or PRG index */
	uint8_t ep;
	bool pri;
};

#define PEND_MAX 64u

/*
 * A queue the vSMMU writes and the guest reads (the event queue, the PRI
 * queue): BASE, PROD, CONS and IRQ_CFG0..2 as the guest wrote them, and
 * whether an interrupt is owed for records written since the last signal.
 */
struct vsmmuv3_outq {
	uint64_t base, cfg0;
	uint32_t prod, cons, cfg1, cfg2;
	bool irq_pending;
};

struct vsmmuv3 {
	struct vsmmuv3_params p;
	unsigned int nr;
	struct vep ep[VSMMUV3_MAX_EPS];
	uint32_t viommu, abort_hwpt, bypass_hwpt, veventq_id;
	struct uiommu_file *veventq;

	uint32_t idr[6], iidr, aidr;
	uint32_t cr0, cr1, cr2, gbpa, irq_ctrl, gerror, gerrorn;
	uint64_t gerror_cfg0, strtab_base, cmdq_base;
	uint32_t gerror_cfg1, gerror_cfg2, strtab_cfg;
	uint32_t cmdq_prod, cmdq_cons;
	struct vsmmuv3_outq evtq;

	/* PRI queue (IDR0.PRI) and page requests (vsmmuv3_fault.c). */
	struct vsmmuv3_outq priq;
	uint32_t fault_id; /* the host fault queue (0: none yet) */
	struct uiommu_file *fault;
	struct vpend pend[PEND_MAX];
	unsigned int npend;

	struct iommu_viommu_arm_smmuv3_invalidate batch[BATCH_MAX];
	uint32_t batch_pos[BATCH_MAX]; /* the CONS value of each batched command */
	unsigned int nbatch;

	struct vsmmuv3_stats st;
};

/* Queue indexes: WR + RD of a queue of 2^@log2 entries. */
static inline uint32_t q_wr_rd(uint32_t v, unsigned int log2)
{
	return v & ((2u << log2) - 1);
}

static inline uint32_t q_next(uint32_t v, unsigned int log2)
{
	return (v & ~((2u << log2) - 1)) | q_wr_rd(v + 1, log2);
}

static inline bool q_full(uint32_t prod, uint32_t cons, unsigned int log2)
{
	return (q_wr_rd(prod, log2) ^ q_wr_rd(cons, log2)) == (1u << log2);
}

static inline unsigned int q_log2(uint64_t base)
{
	unsigned int l = (unsigned int)(base & 0x1f);

	return l > VSMMUV3_QUEUE_LOG2 ? VSMMUV3_QUEUE_LOG2 : l;
}

/* Base address of a queue of 2^@log2 entries of @esz bytes (bits below its size ignored). */
static inline uint64_t q_addr(uint64_t base, unsigned int log2, uint64_t esz)
{
	uint64_t size = esz << log2;

	return base & ADDR_MASK(5) & ~(size - 1);
}

/* A record lost to a full @q: PROD.OVFLG toggles, unless an overflow is unacknowledged already. */
static inline void outq_overflow(struct vsmmuv3_outq *q)
{
	if (!((q->prod ^ q->cons) & VSMMUV3_Q_OVFLG))
		q->prod ^= VSMMUV3_Q_OVFLG;
}

/* vsmmuv3.c */
void vsmmuv3_gerror_raise(struct vsmmuv3 *v, uint32_t bit);
int vsmmuv3_msi_write(struct vsmmuv3 *v, uint64_t addr, uint32_t data);
void vsmmuv3_irq_line(struct vsmmuv3 *v, enum vsmmuv3_irq line);
bool vsmmuv3_evtq_put(struct vsmmuv3 *v, const uint64_t rec[4]);
int vsmmuv3_ep_of_sid(const struct vsmmuv3 *v, uint32_t sid);

/* vsmmuv3_fault.c */
/* Whether a nested HWPT for endpoint @i with these STE words needs the fault queue. */
bool vsmmuv3_wants_faults(const struct vsmmuv3 *v, unsigned int i, const uint64_t ste[2]);
/* The fault queue, allocated at its first use: 0 or -errno. */
int vsmmuv3_fault_get(struct vsmmuv3 *v);
void vsmmuv3_fault_free(struct vsmmuv3 *v);
/* Endpoint @i left the HWPT its page requests came through: the host answered them. */
void vsmmuv3_pend_drop(struct vsmmuv3 *v, unsigned int i);
/* Read the fault queue into the guest's queues: records written, or -errno. */
int vsmmuv3_poll_faults(struct vsmmuv3 *v);
/* CMD_RESUME, CMD_STALL_TERM, CMD_PRI_RESP: false if the command is CERROR_ILL. */
bool vsmmuv3_cmd_resume(struct vsmmuv3 *v, const uint64_t c[2], int *err);
bool vsmmuv3_cmd_stall_term(struct vsmmuv3 *v, const uint64_t c[2], int *err);
bool vsmmuv3_cmd_pri_resp(struct vsmmuv3 *v, const uint64_t c[2], int *err);

#endif
