/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/smmuv3 - a model of an Arm SMMUv3 (IHI 0070): its register file,
 * stream table, context descriptors, command queue and event queue, with
 * translation through lib/xlate and its caches.
 *
 * The model is driven the way hardware is: a driver programs registers
 * with 32/64-bit MMIO accesses (smmuv3_mmio_read / _write), builds stream
 * tables, context descriptors, page tables and queues in memory, and a
 * device issues transactions (smmuv3_translate). Every memory access the
 * SMMU itself makes (STE, CD, L1 descriptors, queue entries, page tables,
 * MSI writes) goes through the pt_mem port given at creation (physical
 * memory); in nested configurations the CD pointer and stage-1 tables are
 * IPAs and are translated through stage 2 first. Optional features:
 * HTTU (access flag and dirty state in the descriptors), stall (a
 * faulting transaction waits for software's CMD_RESUME), and the PCIe
 * side: PRI (endpoints' page requests into the PRI queue, CMD_PRI_RESP
 * back to them) and ATS (translation requests, CMD_ATC_INV to endpoints'
 * ATCs). Endpoints are reached through the "ATS port" callbacks of the
 * parameters (what a Root Complex does with the messages); smmuv3_ep.h
 * is an endpoint model that sits behind them.
 *
 * Guest input never crashes the model: a bad STE is C_BAD_STE, a bad
 * command is CMDQ_ERR with CMDQ_CONS.ERR = ILL, a read outside memory is
 * a fetch abort, each as the architecture says.
 */
#ifndef UIOMMU_HW_SMMUV3_H
#define UIOMMU_HW_SMMUV3_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"
#include "xlate/cache.h"
#include "xlate/xlate.h"

/* Register offsets (page 1, at 0x10000, aliases page 0). */
#define SMMU_IDR0		0x00
#define SMMU_IDR1		0x04
#define SMMU_IDR2		0x08
#define SMMU_IDR3		0x0c
#define SMMU_IDR4		0x10
#define SMMU_IDR5		0x14
#define SMMU_IIDR		0x18
#define SMMU_AIDR		0x1c
#define SMMU_CR0		0x20
#define SMMU_CR0ACK		0x24
#define SMMU_CR1		0x28
#define SMMU_CR2		0x2c
#define SMMU_STATUSR		0x40
#define SMMU_GBPA		0x44
#define SMMU_IRQ_CTRL		0x50
#define SMMU_IRQ_CTRLACK	0x54
#define SMMU_GERROR		0x60
#define SMMU_GERRORN		0x64
#define SMMU_GERROR_IRQ_CFG0	0x68
#define SMMU_GERROR_IRQ_CFG1	0x70
#define SMMU_GERROR_IRQ_CFG2	0x74
#define SMMU_STRTAB_BASE	0x80
#define SMMU_STRTAB_BASE_CFG	0x88
#define SMMU_CMDQ_BASE		0x90
#define SMMU_CMDQ_PROD		0x98
#define SMMU_CMDQ_CONS		0x9c
#define SMMU_EVENTQ_BASE	0xa0
#define SMMU_EVENTQ_PROD	0xa8
#define SMMU_EVENTQ_CONS	0xac
#define SMMU_EVENTQ_IRQ_CFG0	0xb0
#define SMMU_EVENTQ_IRQ_CFG1	0xb8
#define SMMU_EVENTQ_IRQ_CFG2	0xbc
#define SMMU_PRIQ_BASE		0xc0
#define SMMU_PRIQ_PROD		0xc8
#define SMMU_PRIQ_CONS		0xcc
#define SMMU_PRIQ_IRQ_CFG0	0xd0
#define SMMU_PRIQ_IRQ_CFG1	0xd8
#define SMMU_PRIQ_IRQ_CFG2	0xdc
#define SMMU_MMIO_SIZE		0x20000

/* CR0 / CR0ACK */
#define SMMU_CR0_SMMUEN		(1u << 0)
#define SMMU_CR0_PRIQEN		(1u << 1)
#define SMMU_CR0_EVENTQEN	(1u << 2)
#define SMMU_CR0_CMDQEN		(1u << 3)
/* CR2 */
#define SMMU_CR2_RECINVSID	(1u << 1)
/* GBPA */
#define SMMU_GBPA_ABORT		(1u << 20)
#define SMMU_GBPA_UPDATE	(1u << 31)
/* IRQ_CTRL */
#define SMMU_IRQ_GERROR_EN	(1u << 0)
#define SMMU_IRQ_PRIQ_EN	(1u << 1)
#define SMMU_IRQ_EVENTQ_EN	(1u << 2)
/* GERROR / GERRORN */
#define SMMU_GERROR_CMDQ_ERR	   (1u << 0)
#define SMMU_GERROR_EVENTQ_ABT_ERR (1u << 2)
#define SMMU_GERROR_PRIQ_ABT_ERR   (1u << 3)
#define SMMU_GERROR_MSI_CMDQ_ABT   (1u << 4)
#define SMMU_GERROR_MSI_PRIQ_ABT   (1u << 6)
/* Queue PROD / CONS */
#define SMMU_Q_OVFLG		(1u << 31) /* *Q_PROD.OVFLG, *Q_CONS.OVACKFLG */
#define SMMU_CMDQ_CONS_ERR_SHIFT 24
#define SMMU_CMDQ_CONS_ERR_MASK	(0x7fu << 24)

/* CMDQ_CONS.ERR */
enum smmuv3_cerror {
	SMMU_CERROR_NONE = 0,
	SMMU_CERROR_ILL = 1,
	SMMU_CERROR_ABT = 2,
	SMMU_CERROR_ATC_INV_SYNC = 3,
};

/* Event record types (word 0 [7:0]). */
enum smmuv3_event_type {
	SMMU_EVT_NONE = 0x00,
	SMMU_EVT_F_UUT = 0x01,
	SMMU_EVT_C_BAD_STREAMID = 0x02,
	SMMU_EVT_F_STE_FETCH = 0x03,
	SMMU_EVT_C_BAD_STE = 0x04,
	SMMU_EVT_F_BAD_ATS_TREQ = 0x05,
	SMMU_EVT_F_STREAM_DISABLED = 0x06,
	SMMU_EVT_C_BAD_SUBSTREAMID = 0x08,
	SMMU_EVT_F_CD_FETCH = 0x09,
	SMMU_EVT_C_BAD_CD = 0x0a,
	SMMU_EVT_F_WALK_EABT = 0x0b,
	SMMU_EVT_F_TRANSLATION = 0x10,
	SMMU_EVT_F_ADDR_SIZE = 0x11,
	SMMU_EVT_F_ACCESS = 0x12,
	SMMU_EVT_F_PERMISSION = 0x13,
};

/*
 * The translation faults, F_TRANSLATION .. F_PERMISSION: the events a
 * transaction can stall on, and that a page request (PRI, or a stall
 * reported as one) can resolve.
 */
static inline bool smmuv3_evt_is_xlate_fault(unsigned int type)
{
	return type >= SMMU_EVT_F_TRANSLATION && type <= SMMU_EVT_F_PERMISSION;
}

/* Command opcodes (word 0 [7:0]). */
enum smmuv3_cmd_op {
	SMMU_CMD_PREFETCH_CONFIG = 0x01,
	SMMU_CMD_PREFETCH_ADDR = 0x02,
	SMMU_CMD_CFGI_STE = 0x03,
	SMMU_CMD_CFGI_STE_RANGE = 0x04, /* CFGI_ALL is Range = 31 */
	SMMU_CMD_CFGI_CD = 0x05,
	SMMU_CMD_CFGI_CD_ALL = 0x06,
	SMMU_CMD_TLBI_NH_ALL = 0x10,
	SMMU_CMD_TLBI_NH_ASID = 0x11,
	SMMU_CMD_TLBI_NH_VA = 0x12,
	SMMU_CMD_TLBI_NH_VAA = 0x13,
	SMMU_CMD_TLBI_S12_VMALL = 0x28,
	SMMU_CMD_TLBI_S2_IPA = 0x2a,
	SMMU_CMD_TLBI_NSNH_ALL = 0x30,
	SMMU_CMD_ATC_INV = 0x40,
	SMMU_CMD_PRI_RESP = 0x41,
	SMMU_CMD_RESUME = 0x44,
	SMMU_CMD_STALL_TERM = 0x45,
	SMMU_CMD_SYNC = 0x46,
};

/* Interrupt lines (wired); MSIs are writes to memory. */
enum smmuv3_irq {
	SMMU_IRQ_EVTQ = 0,
	SMMU_IRQ_PRIQ,
	SMMU_IRQ_CMD_SYNC,
	SMMU_IRQ_GERROR,
	SMMU_NR_IRQS
};

/* The PCIe response codes of a PRG Response Message. */
enum smmuv3_prg_code {
	SMMU_PRG_SUCCESS = 0x0,
	SMMU_PRG_INVALID = 0x1, /* Invalid Request: a page could not be made present */
	SMMU_PRG_FAILURE = 0xf, /* Response Failure: permanent, PRI off for the function */
};

#define SMMU_NO_SSID UINT32_MAX

/* A PRG Response Message to (sid, ssid). */
struct smmuv3_prg_resp {
	uint32_t sid;
	uint32_t ssid;	 /* SMMU_NO_SSID: no PASID prefix */
	uint16_t prgi;	 /* Page Request Group Index, 9 bits */
	uint8_t code;	 /* enum smmuv3_prg_code */
	bool automatic;	 /* generated by the SMMU (overflow, PRI off), not CMD_PRI_RESP */
};

/* An ATS Invalidate Request to (sid, ssid): [addr, addr + (4096 << size_log2)), aligned. */
struct smmuv3_atc_inv {
	uint32_t sid;
	uint32_t ssid;	 /* SMMU_NO_SSID: no PASID prefix (every PASID's entries go) */
	bool global;	 /* Global Invalidate (only with a PASID) */
	unsigned int size_log2; /* 52: everything */
	uint64_t addr;
};

struct smmuv3_params {
	bool s1p, s2p;	     /* stages implemented (IDR0.S1P / S2P); nesting when both */
	/*
	 * IDR0.HTTU = 0b10: hardware update of the access flag and dirty state
	 * (CD.HA / HD, STE.S2HA / S2HD, DBM in the descriptors). Off: those
	 * fields are ILLEGAL.
	 */
	bool httu;
	/*
	 * IDR0.STALL_MODEL = 0b00: stall and terminate both supported (CD.S,
	 * STE.S2S, STE.S1STALLD, CMD_RESUME / CMD_STALL_TERM). Off: 0b01,
	 * CD.S and STE.S2S ILLEGAL. stall_max (IDR5.STALL_MAX, 1..65535;
	 * 0 = 32) bounds the transactions stalled at once; one more fault is
	 * terminated instead.
	 */
	bool stall;
	unsigned int stall_max;
	/*
	 * With stall: IDR0.STALL_MODEL = 0b10, stall forced (implies stall).
	 * Every fault of a translating stage stalls: CD.S = 0 is ILLEGAL
	 * (C_BAD_CD), and so are STE.S2S = 0 with stage 2 on and S1STALLD = 1
	 * with stage 1 on (C_BAD_STE; S1STALLD is ILLEGAL with any
	 * STALL_MODEL but 0b00).
	 */
	bool stall_force;
	/*
	 * IDR0.PRI: the PRI queue (PRIQ_* registers, CR0.PRIQEN,
	 * IRQ_CTRL.PRIQ_IRQEN, GERROR.PRIQ_ABT_ERR), smmuv3_pri_request()
	 * and CMD_PRI_RESP. priqs: IDR1.PRIQS (largest queue, log2, 1..19;
	 * 0 = 19). Off: the registers are RAZ/WI and PRI_RESP is CERROR_ILL.
	 */
	bool pri;
	unsigned int priqs;
	/*
	 * IDR0.ATS: STE.EATS, smmuv3_ats_translate() and CMD_ATC_INV. Off:
	 * EATS is IGNORED and ATC_INV is CERROR_ILL.
	 */
	bool ats;
	unsigned int sidsize;  /* IDR1.SIDSIZE, 1..32 (default 16) */
	unsigned int ssidsize; /* IDR1.SSIDSIZE, 0..20 (default 20) */
	struct xlate_cache_params cache; /* entries 0 everywhere: caches off */
	bool no_cache;	     /* no xlate cache at all: every translation walks */
	/* Wired interrupt: called with the instance lock held; must not call back in. */
	void (*irq)(void *opaque, enum smmuv3_irq line);
	void *irq_opaque;
	/*
	 * The ATS port: messages to endpoints, routed by StreamID (the Root
	 * Complex's job). Called with the instance lock held; they must not
	 * call back in. NULL: nobody listens (responses and invalidations go
	 * nowhere, as to a StreamID with no PCIe function behind it).
	 *   prg_resp  a PRG Response Message (CMD_PRI_RESP, or automatic);
	 *   atc_inv   an ATS Invalidate Request; 0 when the endpoint completed
	 *             it, -ETIMEDOUT when it never answers (the CMD_SYNC that
	 *             waits for it then fails with CERROR_ATC_INV_SYNC).
	 */
	void (*prg_resp)(void *opaque, const struct smmuv3_prg_resp *r);
	int (*atc_inv)(void *opaque, const struct smmuv3_atc_inv *inv);
	void *ep_opaque;
};

/* Defaults: both stages, SIDSIZE 16, SSIDSIZE 20, default caches. */
void smmuv3_params_default(struct smmuv3_params *p);

struct smmuv3;

/* @mem: the SMMU's view of physical memory (tables, queues, MSI targets). */
int smmuv3_new(const struct smmuv3_params *p, const struct pt_mem *mem, struct smmuv3 **out);
void smmuv3_free(struct smmuv3 *s);
/* Back to reset values (registers); caches are flushed. */
void smmuv3_reset(struct smmuv3 *s);

/*
 * Register access as a driver performs it: @size 4 or 8, naturally
 * aligned, inside the 128 KiB window (page 1 aliases page 0). Offsets
 * that name no register read as zero and ignore writes. -EINVAL for an
 * access that no bus would deliver (size, alignment, out of window).
 */
int smmuv3_mmio_read(struct smmuv3 *s, uint64_t off, unsigned int size, uint64_t *val);
int smmuv3_mmio_write(struct smmuv3 *s, uint64_t off, unsigned int size, uint64_t val);

/* A transaction as a device issues it. */
struct smmuv3_txn {
	uint32_t sid;
	uint32_t ssid;	     /* SMMU_NO_SSID: no substream (SSV = 0) */
	uint64_t addr;
	unsigned int access; /* PT_PROT_R or PT_PROT_W, plus PT_PROT_X (InD), PT_PROT_U (!PnU) */
};

struct smmuv3_result {
	bool stalled;	      /* -EAGAIN: the transaction is stalled under tag stag */
	uint16_t stag;
	uint64_t pa;
	uint64_t size;	      /* bytes around pa translated alike (smaller leaf); 4K in bypass */
	unsigned int prot;    /* PT_PROT_* allowed */
	enum smmuv3_event_type event; /* why it was terminated (NONE: abort without event) */
	bool recorded;	      /* the event was written to the event queue */
	bool iotlb_hit;
};

/*
 * Translate one transaction. 0 with r->pa, or -EFAULT when the SMMU
 * terminates it (r->event says why; r->recorded whether an event record
 * was queued). Safe to call from many threads alongside register
 * accesses.
 *
 * Stall: a translation-related fault (F_TRANSLATION, F_ADDR_SIZE,
 * F_ACCESS, F_PERMISSION) of a stage configured to stall (CD.S, STE.S2S)
 * holds the transaction: its event record carries Stall = 1 and a tag
 * (STAG), and the call returns -EAGAIN with r->stalled, r->stag, r->event
 * set. The transaction then waits in smmuv3_stall_wait() until software
 * answers with CMD_RESUME (Retry: translate it again; Abort / Terminate)
 * or CMD_STALL_TERM. If the record cannot be written (queue full or off)
 * or STALL_MAX transactions are already stalled, the fault terminates the
 * transaction instead, as it would without stall.
 */
int smmuv3_translate(struct smmuv3 *s, const struct smmuv3_txn *t, struct smmuv3_result *r);

/*
 * ATS (params.ats): an ATS Translation Request of endpoint @t->sid for
 * @t->addr with @t->access (Read, or Read and Write without No-Write):
 * 0 with r->pa / r->size / r->prot, the completion the endpoint may cache
 * in its ATC. -EFAULT when the request is unsuccessful:
 *   r->event a translation, address size, access or permission fault:
 *     the completion grants no access; nothing is recorded and nothing
 *     stalls (the endpoint may send a page request, smmuv3_pri_request);
 *   r->event F_BAD_ATS_TREQ: the stream's effective EATS is 0b00
 *     (bypass STEs included), Unsupported Request, recorded;
 *   r->event NONE: SMMUEN = 0 or an abort STE (Unsupported Request, silent);
 *   any other r->event: the configuration error, recorded as for a
 *     transaction (Completer Abort).
 * -EOPNOTSUPP without ATS. EATS 0b10 (split stage) needs CR0.ATSCHK, which
 * the model does not implement, and so behaves as 0b00; 0b11 (DPT) too
 * (IDR3.DPT = 0). Translated transactions are not the SMMU's business with
 * ATSCHK = 0: the endpoint's ATC output goes to memory directly.
 */
int smmuv3_ats_translate(struct smmuv3 *s, const struct smmuv3_txn *t, struct smmuv3_result *r);

/*
 * Which stage-1 table a CD's address space gives input address @addr
 * (IHI 0070 §3.4.1, VMSAv8-64's two VA ranges). CD.TBI (@tbi: bit 0 for
 * TTB0's range, bit 1 for TTB1's; the range is the one bit 55 names)
 * makes bits [63:56] copies of bit 55: the top byte is ignored for the
 * range check and the walk. Then an address whose bits [63:ias0] are all
 * 0 uses TTB0, one whose bits [63:ias1] are all 1 uses TTB1, and any
 * other is in neither range: a stage-1 Translation fault. @ias0 / @ias1
 * are 64 - TxSZ, or 0 for a table that EPDx disables (its TxSZ is then
 * IGNORED): addresses whose bit 55 names it select it, and fault there.
 */
struct smmuv3_tt_sel {
	int ttb;     /* 0 or 1; -1: in neither range (the gap) */
	bool tbi;    /* the top byte was ignored */
	uint64_t va; /* @addr with TBI applied (the tag-stripped address) */
	uint64_t in; /* the walk's input: va for TTB0, va's low ias1 bits for TTB1 */
};
void smmuv3_select_tt(uint64_t addr, unsigned int tbi, unsigned int ias0, unsigned int ias1,
		      struct smmuv3_tt_sel *sel);

/*
 * lib/xlate tag bit of a walk through TTB1: the model keeps its stage-1
 * entries under {VMID, ASID | SMMU_TAG_TTB1} (ASIDs have 16 bits), apart
 * from TTB0's, because the walk's input is the TTB1-range address's low
 * IAS bits (smmuv3_tt_sel.in), which a TTB0 address may share.
 */
#define SMMU_TAG_TTB1 (1u << 16)

/*
 * What one translation read, for tests that check where guest-written
 * structures led the SMMU: the structure fetches (STE, L1STD, L1CD, CD) at
 * their physical addresses, the stage-2 walks that translated the L1CD and
 * CD addresses (nested), and the translation's own walk. Reads the caches
 * answered do not appear (a model without caches shows every read).
 */
#define SMMU_TRACE_MAX 8
struct smmuv3_trace {
	unsigned int n; /* structure fetches attempted; past SMMU_TRACE_MAX counted only */
	struct {
		uint64_t pa;
		unsigned int len;
	} rd[SMMU_TRACE_MAX];
	unsigned int ns2; /* stage-2 walks of L1CD / CD fetches (at most 2 stored) */
	struct xlate_record s2[2];
	struct xlate_record walk; /* n = 0 when no walk ran */
	int ttb;		  /* stage 1: the table selected (0, 1), -1 none or no stage 1 */
	uint64_t walk_in;	  /* the address the walk translated (smmuv3_tt_sel.in) */
};

/* smmuv3_translate() that also fills @tr (set for the call's duration, this thread only). */
int smmuv3_translate_traced(struct smmuv3 *s, const struct smmuv3_txn *t, struct smmuv3_result *r,
			    struct smmuv3_trace *tr);

/*
 * Wait for the answer to the stalled transaction (@sid, @stag): 0 when it
 * is to be retried (the caller translates it again), -EFAULT when it was
 * terminated (RESUME Abort / Terminate, STALL_TERM, or a reset), -ENOENT
 * when no such transaction is stalled. The tag is free again on return.
 * Blocks: call it without holding anything the answer needs.
 */
int smmuv3_stall_wait(struct smmuv3 *s, uint32_t sid, uint16_t stag);

struct smmuv3_stats {
	uint64_t events;      /* records written to the event queue */
	uint64_t events_lost; /* records that found the queue full (overflow) */
	uint64_t events_dropped; /* records not written: EVENTQEN = 0 or queue write abort */
	uint64_t cmds;	      /* commands consumed */
	uint64_t stalls;      /* transactions stalled */
	uint64_t stall_retries; /* of those, answered with RESUME Retry */
	uint64_t pri_reqs;    /* page requests written to the PRI queue */
	uint64_t pri_lost;    /* page requests discarded (overflow, PRIQEN = 0, abort) */
	uint64_t prg_auto;    /* PRG responses the SMMU generated itself */
	uint64_t prg_resps;   /* PRG responses sent for CMD_PRI_RESP */
	uint64_t ats_reqs;    /* ATS translation requests */
	uint64_t atc_invs;    /* ATS invalidations delivered (at CMD_SYNC) */
	uint64_t irqs[SMMU_NR_IRQS];
};
void smmuv3_get_stats(struct smmuv3 *s, struct smmuv3_stats *st);

/*
 * PRI (params.pri): a page request (PCIe Page Request Message) from the
 * endpoint @p->sid. Written to the PRI queue at PRIQ_PROD when PRIQEN is
 * set and the queue can take it: 0. Otherwise it is discarded, and the
 * SMMU answers for software as IHI 0070 §8 says:
 *   PRIQEN = 0 (or SMMUEN = 0), or PRIQ_ABT_ERR active, or the write
 *     aborts: a Response Failure for the request (-EIO);
 *   the queue full, or an overflow not yet acknowledged
 *     (PRIQ_PROD.OVFLG != PRIQ_CONS.OVACKFLG): OVFLG toggles (once), and
 *     a request that ends its group (last) gets Success with its PASID
 *     (IDR3.PPS = 1), so the endpoint asks again (-ENOSPC).
 * -EINVAL (nothing sent) for a model without PRI or fields out of range.
 */
struct smmuv3_ppr {
	uint32_t sid;
	uint32_t ssid;	     /* SMMU_NO_SSID: no PASID */
	uint64_t addr;	     /* the page (bits [63:12]) */
	unsigned int perm;   /* PT_PROT_R / _W / _X requested; PT_PROT_U: unprivileged */
	uint16_t prgi;	     /* Page Request Group Index, 0..511 */
	bool last;	     /* Last Request in PRG */
};
int smmuv3_pri_request(struct smmuv3 *s, const struct smmuv3_ppr *p);
struct xlate_cache *smmuv3_cache(struct smmuv3 *s);

#endif
