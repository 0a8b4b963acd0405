/* SPDX-License-Identifier: MIT */
/*
 * vtd_priv.h - the VT-d model's internals shared by vtd.c (registers,
 * fault recording, interrupts), vtd_ctx.c (root / context / PASID
 * structures and translation) and vtd_qi.c (the invalidation queue). Bit
 * positions are given on the 64-bit words (qwords) the structures are made
 * of, little endian in memory.
 */
#ifndef UIOMMU_HW_VTD_PRIV_H
#define UIOMMU_HW_VTD_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/vtd/vtd.h"
#include "xlate/xlate.h"

#define VTD_BITS(v, hi, lo) (((v) >> (lo)) & ((2ULL << ((hi) - (lo))) - 1))
#define VTD_MASK(hi, lo)    (((2ULL << ((hi) - (lo))) - 1) << (lo))

#define VTD_HAW		52 /* host address width: structure pointers above it are reserved */
#define VTD_MAMV	18 /* CAP.MAMV: page-selective invalidations of up to 2^18 pages */
#define VTD_IRO		0x20 /* ECAP.IRO: IOTLB registers at 0x200 (not modelled) */
#define VTD_INTR_BASE	0xfee00000ULL
#define VTD_INTR_LAST	0xfeefffffULL

/* Configuration cache key of a request without PASID (PASIDs have 20 bits). */
#define VTD_CFGC_NO_PASID 0x100000u
/* The xlate tag ASID of second-stage-only contexts (no PASID can take it). */
#define VTD_SS_ASID	0x200000u

/* A fault before it is encoded into a fault recording register. */
struct vtd_fault {
	uint8_t reason;
	uint16_t sid;
	bool pp;	/* the request had a PASID */
	uint32_t pasid;
	bool priv, exe, read;
	uint64_t addr;	/* the request's address (FI is its page) */
};

struct vtd {
	struct vtd_params p;
	const struct pt_mem *mem;
	struct xlate_cache *cache;
	pthread_mutex_t lock; /* registers, fault recording, descriptor processing */

	uint64_t cap, ecap;
	uint32_t gsts;
	uint64_t rtaddr;     /* as written */
	uint64_t rta;	     /* latched by SRTP: what translations use */
	uint32_t fsts, fectl, fedata, feaddr, feuaddr;
	uint64_t iqh, iqt, iqa;
	uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
	uint64_t pqh, pqt, pqa;
	uint32_t prs, pectl, pedata, peaddr, peuaddr;
	uint64_t iva;	     /* IVA_REG as written */
	uint64_t (*frcd)[2]; /* nfr records, [0] low qword, [1] high */
	unsigned int fri;

	/*
	 * Configuration generation: every context-cache and PASID-cache
	 * invalidation (and SRTP, reset) advances it. A request that decoded
	 * structures while it moved decodes again.
	 */
	uint64_t cfg_gen;
	struct vtd_stats stats;
};

/*
 * A decoded context + PASID entry as kept in the configuration cache: what
 * a request needs to walk.
 */
enum vtd_pgtt {
	VTD_PGTT_FS = 1,
	VTD_PGTT_SS = 2,
	VTD_PGTT_NESTED = 3,
	VTD_PGTT_PT = 4,
};

struct vtd_dcfg {
	uint8_t pgtt;
	bool fpd;	   /* FPD of the context, PASID-directory or PASID entry */
	bool sre, wpe, eafe;
	bool dte, pre;	   /* the context entry's DTE / PRE */
	uint8_t fs_ias;	   /* 48 or 57 (FSPM) */
	uint8_t ss_ias;	   /* 39, 48 or 57 (AW) */
	uint8_t fs_flags, ss_flags; /* PT_CFG_* */
	uint16_t did;
	uint32_t pasid;	   /* the PASID the request runs in (RID_PASID without one) */
	uint64_t fsptr, ssptr;
};

_Static_assert(sizeof(struct vtd_dcfg) <= XLATE_CFGC_BYTES, "dcfg fits the config cache");

/* vtd.c */
bool vtd_read_qw(struct vtd *v, uint64_t pa, uint64_t *qw, unsigned int n);
bool vtd_write32(struct vtd *v, uint64_t pa, uint32_t val);
/* Record @f (takes the lock). True when a fault recording register took it. */
bool vtd_record_fault(struct vtd *v, const struct vtd_fault *f);
/* An interrupt event (lock held): pending when masked, else the MSI and the callback. */
void vtd_event(struct vtd *v, enum vtd_irq line);

/* vtd_ctx.c: the context entry of @sid under root pointer @rta (VTD_FR_NONE or the reason). */
uint8_t vtd_ctx_fetch(struct vtd *v, uint64_t rta, uint16_t sid, uint64_t ce[4]);

/* vtd_qi.c: consume descriptors from IQH to IQT (lock held). */
void vtd_qi_run(struct vtd *v);
/* A message to a device through params.dev_msg (lock held). */
void vtd_dev_send(struct vtd *v, const struct vtd_dev_msg *m);
/* Register-based invalidation (lock held): a CCMD write with ICC, an IOTLB_REG write with IVT. */
void vtd_reg_inv_cc(struct vtd *v, uint64_t ccmd);
void vtd_reg_inv_iotlb(struct vtd *v, uint64_t iotlb, uint64_t iva);

#endif
