/* SPDX-License-Identifier: MIT */
/*
 * smmuv3_priv.h - the SMMUv3 model's internals shared by smmuv3.c (registers,
 * queues, events), smmuv3_ste.c (stream table, STE/CD, translation) and
 * smmuv3_cmdq.c (commands). Bit positions are given on 64-bit words
 * (qwords) as the architecture lays out STEs, CDs, commands and events.
 */
#ifndef UIOMMU_HW_SMMUV3_PRIV_H
#define UIOMMU_HW_SMMUV3_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/smmuv3/smmuv3.h"
#include "xlate/xlate.h"

#define SMMU_BITS(v, hi, lo) (((v) >> (lo)) & ((2ULL << ((hi) - (lo))) - 1))
#define SMMU_MASK(hi, lo)    (((2ULL << ((hi) - (lo))) - 1) << (lo))

#define SMMU_OAS_BITS	48 /* IDR5.OAS = 0b101 */
#define SMMU_OAS_ENC	5
#define SMMU_Q_MAX_LOG2 19 /* IDR1.CMDQS / EVENTQS / PRIQS */
#define SMMU_STE_SIZE	64
#define SMMU_CD_SIZE	64
#define SMMU_CMD_SIZE	16
#define SMMU_EVT_SIZE	32
#define SMMU_PRIQ_SIZE	16
#define SMMU_ATC_PENDING 32 /* ATS invalidations held until CMD_SYNC */
#define SMMU_PTCFG_MAX	 32 /* distinct derived stage configurations kept */
#define SMMU_PTCFG_NONE	 0xff

struct smmuv3_queue {
	uint64_t base; /* register as written */
	uint32_t prod, cons;
};

/* An interrupt's IRQ_CFG0 (MSI address), IRQ_CFG1 (MSI data) and IRQ_CFG2 (attributes). */
struct smmuv3_irq_cfg {
	uint64_t cfg0;
	uint32_t cfg1, cfg2;
};

/* Fields of a transaction's event record before it is encoded. */
struct smmuv3_event {
	enum smmuv3_event_type type;
	uint32_t sid, ssid; /* ssid SMMU_NO_SSID: SSV = 0 */
	bool s2, rnw, ind, pnu, ttrnw;
	bool stall;	    /* the transaction is stalled under tag stag */
	uint16_t stag;
	unsigned int cls;   /* enum xlate_class */
	uint64_t input;	    /* InputAddr (qword 2) */
	uint64_t addr2;	    /* IPA or FetchAddr (qword 3), already masked */
};

/* A stalled transaction (slot of smmuv3.stalls). */
enum smmuv3_stall_state {
	SMMU_STALL_FREE = 0,
	SMMU_STALL_WAITING, /* no answer yet */
	SMMU_STALL_RETRY,   /* RESUME Retry */
	SMMU_STALL_ABORT,   /* RESUME Abort / Terminate, STALL_TERM, reset */
};

struct smmuv3_stall {
	uint8_t state;
	uint16_t stag;
	uint32_t sid;
};

/* The registers a translation reads, as published for lock-free readers. */
struct smmuv3_xregs {
	uint32_t cr0, cr2, gbpa, strtab_cfg;
	uint64_t strtab_base;
};

struct smmuv3 {
	struct smmuv3_params p;
	const struct pt_mem *mem;
	struct xlate_cache *cache;
	pthread_mutex_t lock; /* registers, queues, command consumption, event writes */

	uint32_t idr[6];
	uint32_t cr0, cr1, cr2, gbpa, irq_ctrl, gerror, gerrorn;
	struct smmuv3_irq_cfg gerror_irq, evtq_irq;
	uint64_t strtab_base;
	uint32_t strtab_base_cfg;
	/*
	 * A copy of cr0, cr2, gbpa, strtab_base(_cfg) for translations, which
	 * read it without the lock: a sequence count (odd while the copy is
	 * rewritten, under lock) and fields read and written with atomics.
	 */
	uint32_t xregs_seq;
	struct smmuv3_xregs xregs;
	/*
	 * Bit n: a translation has walked through TTB1 with an IAS of n bits
	 * (so the caches may hold entries under SMMU_TAG_TTB1 for inputs of n
	 * bits). Set before that walk with a sequentially consistent RMW, never
	 * cleared; TLBI_NH_VA / VAA of a TTB1-range VA invalidate at these IASs
	 * alone (smmuv3_cmdq.c's inv_va()).
	 */
	uint64_t ttb1_ias_seen;
	struct smmuv3_queue cmdq, evtq, priq;
	struct smmuv3_irq_cfg priq_irq;
	uint32_t priqs; /* IDR1.PRIQS: the largest PRI queue (log2) */

	/*
	 * ATS invalidations consumed but not yet sent (CMD_ATC_INV), sent by
	 * the next CMD_SYNC (or earlier, when this fills); atc_timeout: one
	 * sent early found no answer, so that CMD_SYNC fails with
	 * CERROR_ATC_INV_SYNC. Under lock.
	 */
	struct smmuv3_atc_inv atc_pending[SMMU_ATC_PENDING];
	unsigned int nr_atc_pending;
	bool atc_timeout;

	/*
	 * Configuration generation: every CFGI_* (and TLBI_NSNH_ALL, reset)
	 * advances it (under lock, atomically). A transaction that decoded
	 * STE / CD while it moved decodes again, so no translation uses a
	 * structure read half before and half after an invalidation.
	 */
	uint64_t cfg_gen;

	/* Stalled transactions: stall_max slots, under lock; stall_cond signals answers. */
	struct smmuv3_stall *stalls;
	unsigned int nr_stalled;
	uint16_t next_stag;
	pthread_cond_t stall_cond;

	struct smmuv3_stats stats;

	/*
	 * Derived stage configurations (pt_cfg_init's output) for the distinct
	 * {format, granule, IAS, OAS, SL0, flags} decoded so far: append-only
	 * under lock, each immutable once nr_ptcfgs (release) counts it, so a
	 * cached decode names one by index and a translation uses it as is.
	 */
	struct pt_cfg ptcfgs[SMMU_PTCFG_MAX];
	unsigned int nr_ptcfgs;
};

/*
 * A decoded STE (and CD) as kept in the configuration cache: what a
 * transaction needs, small enough for XLATE_CFGC_BYTES. pt_cfgs are
 * rebuilt from these fields (pt_cfg_init is a few comparisons).
 */
enum smmuv3_cfg_kind {
	SMMU_CFG_ABORT = 1, /* STE.Config 0b0xx, or S1DSS terminate: abort, no event */
	SMMU_CFG_BYPASS,    /* STE.Config 0b100, or S1DSS bypass for this stream */
	SMMU_CFG_TRANSLATE,
};

struct smmuv3_stage_cfg {
	uint8_t granule_shift, ias, oas, flags;
	int8_t sl0;
	uint8_t ptcfg; /* index of its derived pt_cfg in smmuv3.ptcfgs, or SMMU_PTCFG_NONE */
	uint64_t root;
};

struct smmuv3_dcfg {
	uint8_t kind;
	bool s1, s2;	    /* stages enabled */
	bool s1_record, s2_record; /* CD.R, STE.S2R */
	bool epd0, epd1;    /* stage 1: TTB0 / TTB1 walks disabled */
	uint8_t tbi;	    /* CD.TBI: bit 0 TTB0's range, bit 1 TTB1's: top byte ignored */
	bool s1_stall, s2_stall; /* CD.S, STE.S2S: faults of that stage stall */
	bool ats;	    /* effective STE.EATS = 0b01: translation requests served */
	uint16_t vmid;
	uint16_t asid;
	uint16_t s1_event;  /* abort-with-event decided at decode: F_STREAM_DISABLED (S1DSS) */
	struct smmuv3_stage_cfg st[2]; /* stage 1 through TTB0, stage 2 */
	struct smmuv3_stage_cfg tt1;   /* stage 1 through TTB1 (T1SZ, TG1, TTB1) */
};

_Static_assert(sizeof(struct smmuv3_dcfg) <= XLATE_CFGC_BYTES, "dcfg fits the config cache");

/* smmuv3.c */
/* Publish the translation registers after a write (lock held); read them (no lock). */
void smmuv3_xregs_publish(struct smmuv3 *s);
void smmuv3_xregs_read(struct smmuv3 *s, struct smmuv3_xregs *r);
uint32_t smmuv3_q_log2(uint64_t base);
/* Physical address of entry @idx (index bits only) of the queue with base register @base. */
uint64_t smmuv3_q_entry_addr(uint64_t base, uint32_t idx, unsigned int esize);
/* The same for a queue of 2^@log2 entries (LOG2SIZE already capped). */
uint64_t smmuv3_q_entry_addr_l(uint64_t base, uint32_t log2, uint32_t idx, unsigned int esize);
/* Read @n little-endian qwords at physical @pa; false when outside memory. */
bool smmuv3_read_qw(struct smmuv3 *s, uint64_t pa, uint64_t *qw, unsigned int n);
bool smmuv3_write32(struct smmuv3 *s, uint64_t pa, uint32_t v);
/* Queue an event record (takes the lock); true when it was written. */
bool smmuv3_record_event(struct smmuv3 *s, const struct smmuv3_event *e);
/*
 * Stall a transaction: take a stall slot and a tag, queue @e with Stall =
 * 1 and that tag (takes the lock). 1 with *stag set; 0 when no slot is
 * free (nothing written); -1 when the record could not be written
 * (counted as lost or dropped, nothing held).
 */
int smmuv3_record_stall(struct smmuv3 *s, struct smmuv3_event *e, uint16_t *stag);
/* Answer stalled transactions of @sid (@all: every one, else the one tagged @stag). Lock held. */
void smmuv3_stall_answer(struct smmuv3 *s, uint32_t sid, bool all, uint16_t stag,
			 enum smmuv3_stall_state answer);
void smmuv3_gerror_raise(struct smmuv3 *s, uint32_t bits);		  /* lock held */
void smmuv3_irq(struct smmuv3 *s, enum smmuv3_irq line);		  /* lock held */
/* Queue log2 of a base register, capped at @max (the IDR1 field). */
uint32_t smmuv3_q_log2_max(uint64_t base, uint32_t max);

/* smmuv3_pri.c: a PRG response generated by the SMMU itself (lock held). */
void smmuv3_prg_auto(struct smmuv3 *s, const struct smmuv3_ppr *p, uint32_t ssid,
		     enum smmuv3_prg_code code);

/* smmuv3_cmdq.c: consume commands (lock held). */
void smmuv3_cmdq_run(struct smmuv3 *s);
/* Send the pending ATS invalidations (lock held); false if one timed out. */
bool smmuv3_atc_flush(struct smmuv3 *s);

/* Configuration cache key of a transaction without substream (SSIDs have 20 bits). */
#define SMMU_CFGC_NO_SSID 0x100000u

#endif
