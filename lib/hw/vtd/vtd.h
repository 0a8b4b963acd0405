/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/vtd - a model of an Intel VT-d remapping unit in scalable mode:
 * its register file, the root / context / PASID-directory / PASID tables
 * it reads from memory, translation through lib/xlate (first stage, second
 * stage, nested, pass-through), fault recording, the invalidation queue
 * (and register-based invalidation), translation requests (ATS) and the
 * page request queue (PRI), with the messages the unit sends to devices.
 *
 * The model is driven the way hardware is: a driver programs registers
 * with 32/64-bit MMIO accesses (vtd_mmio_read / _write), builds the
 * structures and page tables in memory, submits invalidation descriptors
 * by moving IQT, and a device issues requests (vtd_translate). Every
 * memory access the unit itself makes goes through the pt_mem port given
 * at creation (physical memory). In nested translation (PGTT = 011b) the
 * first-stage table pointer and every first-stage table address are guest
 * physical addresses, translated through the second stage first.
 *
 * Guest input never crashes the model: a bad structure is a fault record
 * with the architecture's reason code, a bad descriptor is FSTS.IQE with
 * IQH left on it.
 */
#ifndef UIOMMU_HW_VTD_H
#define UIOMMU_HW_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"
#include "xlate/cache.h"
#include "xlate/xlate.h"

/* Register offsets. */
#define VTD_VER_REG	0x00
#define VTD_CAP_REG	0x08
#define VTD_ECAP_REG	0x10
#define VTD_GCMD_REG	0x18
#define VTD_GSTS_REG	0x1c
#define VTD_RTADDR_REG	0x20
#define VTD_CCMD_REG	0x28
#define VTD_FSTS_REG	0x34
#define VTD_FECTL_REG	0x38
#define VTD_FEDATA_REG	0x3c
#define VTD_FEADDR_REG	0x40
#define VTD_FEUADDR_REG 0x44
#define VTD_IQH_REG	0x80
#define VTD_IQT_REG	0x88
#define VTD_IQA_REG	0x90
#define VTD_ICS_REG	0x9c
#define VTD_IECTL_REG	0xa0
#define VTD_IEDATA_REG	0xa4
#define VTD_IEADDR_REG	0xa8
#define VTD_IEUADDR_REG 0xac
#define VTD_IQERCD_REG	0xb0
#define VTD_PQH_REG	0xc0 /* page request queue head */
#define VTD_PQT_REG	0xc8 /* page request queue tail */
#define VTD_PQA_REG	0xd0 /* page request queue address: base [63:12], PQS [2:0] */
#define VTD_PRS_REG	0xdc /* page request status: PPR 0, PRO 1 */
#define VTD_PECTL_REG	0xe0
#define VTD_PEDATA_REG	0xe4
#define VTD_PEADDR_REG	0xe8
#define VTD_PEUADDR_REG 0xec
#define VTD_IVA_REG	0x200 /* ECAP.IRO = 0x20: invalidate address register */
#define VTD_IOTLB_REG	0x208 /* IOTLB invalidate register */
#define VTD_FRCD_REG	0x220 /* CAP.FRO = 0x22: the first fault recording register */
#define VTD_MMIO_SIZE	0x1000

/* GCMD / GSTS */
#define VTD_GCMD_TE	(1u << 31)
#define VTD_GCMD_SRTP	(1u << 30)
#define VTD_GCMD_QIE	(1u << 26)
#define VTD_GSTS_TES	(1u << 31)
#define VTD_GSTS_RTPS	(1u << 30)
#define VTD_GSTS_QIES	(1u << 26)
/* RTADDR: TTM [11:10] */
#define VTD_RTADDR_TTM_SHIFT 10
#define VTD_RTADDR_SMT	(1ULL << 10) /* TTM = 01b: scalable mode */
/* FSTS */
#define VTD_FSTS_PFO	(1u << 0)
#define VTD_FSTS_PPF	(1u << 1)
#define VTD_FSTS_IQE	(1u << 4)
#define VTD_FSTS_ICE	(1u << 5)
#define VTD_FSTS_ITE	(1u << 6)
#define VTD_FSTS_FRI_SHIFT 8
/* FECTL / IECTL */
#define VTD_CTL_IM	(1u << 31)
#define VTD_CTL_IP	(1u << 30)
/* PRS */
#define VTD_PRS_PPR	(1u << 0)
#define VTD_PRS_PRO	(1u << 1)
/* CCMD: ICC 63, CIRG [62:61], CAIG [60:59], FM [33:32], SID [31:16], DID [15:0] */
#define VTD_CCMD_ICC	(1ULL << 63)
/* IOTLB_REG: IVT 63, IIRG [61:60], IAIG [58:57], DID [47:32]; IVA_REG: ADDR, IH 6, AM [5:0] */
#define VTD_IOTLB_IVT	(1ULL << 63)
/* Context entry (qword 0) bits the ATS / PRI path reads. */
#define VTD_CTX0_DTE	(1ULL << 2)
#define VTD_CTX0_PRE	(1ULL << 4)
/* ICS */
#define VTD_ICS_IWC	(1u << 0)
/* IQA: base [63:12], DW 11, QS [2:0] */
#define VTD_IQA_DW	(1ULL << 11)

/* CAP bits */
#define VTD_CAP_SAGAW_SHIFT 8
#define VTD_CAP_MGAW_SHIFT  16
#define VTD_CAP_FRO_SHIFT   24
#define VTD_CAP_SSLPS_SHIFT 34
#define VTD_CAP_PSI	    (1ULL << 39)
#define VTD_CAP_NFR_SHIFT   40
#define VTD_CAP_MAMV_SHIFT  48
#define VTD_CAP_FS1GP	    (1ULL << 56)
#define VTD_CAP_FS5LP	    (1ULL << 60)
/* ECAP bits */
#define VTD_ECAP_C	    (1ULL << 0)
#define VTD_ECAP_QI	    (1ULL << 1)
#define VTD_ECAP_DT	    (1ULL << 2)
#define VTD_ECAP_PT	    (1ULL << 6)
#define VTD_ECAP_IRO_SHIFT  8
#define VTD_ECAP_NEST	    (1ULL << 26)
#define VTD_ECAP_PRS	    (1ULL << 29)
#define VTD_ECAP_SRS	    (1ULL << 31)
#define VTD_ECAP_EAFS	    (1ULL << 34)
#define VTD_ECAP_PSS_SHIFT  35
#define VTD_ECAP_PASID	    (1ULL << 40)
#define VTD_ECAP_PDS	    (1ULL << 42)
#define VTD_ECAP_SMTS	    (1ULL << 43)
#define VTD_ECAP_SLADS	    (1ULL << 45)
#define VTD_ECAP_SSTS	    (1ULL << 46)
#define VTD_ECAP_FSTS	    (1ULL << 47)

/*
 * Fault reasons: the scalable-mode codes (VT-d spec §7.2.3), as Linux
 * 6.12's drivers/iommu/intel/dmar.c names them in its
 * dma_remap_sm_fault_reasons table (index = code - 0x30). The legacy-mode
 * codes 0x01-0x0d (QEMU reuses some in scalable mode) are never reported:
 * the model has scalable mode only.
 */
enum vtd_fault_reason {
	VTD_FR_NONE = 0x00,
	VTD_FR_RTADDR_INV = 0x30,	 /* invalid root table address (TTM 1xb) */
	VTD_FR_TTM_INV = 0x31,		 /* TTM 0 (legacy mode, not modelled) */
	VTD_FR_ROOT_READ_ERR = 0x38,	 /* error accessing the root entry */
	VTD_FR_ROOT_NP = 0x39,		 /* root entry present bit clear */
	VTD_FR_ROOT_RSVD = 0x3a,	 /* reserved field set in the root entry */
	VTD_FR_CTX_READ_ERR = 0x40,	 /* error accessing the context entry */
	VTD_FR_CTX_NP = 0x41,		 /* context entry present bit clear */
	VTD_FR_CTX_RSVD = 0x42,		 /* reserved field set in the context entry */
	VTD_FR_CTX_DTE = 0x44,		 /* translation request, DTE clear */
	VTD_FR_CTX_PASIDE = 0x45,	 /* request with PASID, PASIDE clear */
	VTD_FR_PASID_BEYOND_PDTS = 0x46, /* PASID larger than the context entry allows */
	VTD_FR_CTX_PRE = 0x47,		 /* page request, PRE clear */
	VTD_FR_PDIR_READ_ERR = 0x50,	 /* error accessing the PASID-directory entry */
	VTD_FR_PDIR_NP = 0x51,		 /* PASID-directory entry present bit clear */
	VTD_FR_PDIR_RSVD = 0x52,	 /* reserved field set in the PASID-directory entry */
	VTD_FR_PTE_READ_ERR = 0x58,	 /* error accessing the PASID-table entry */
	VTD_FR_PTE_NP = 0x59,		 /* PASID-table entry present bit clear */
	VTD_FR_PTE_RSVD = 0x5a,		 /* reserved field set in the PASID-table entry */
	VTD_FR_PTE_INV = 0x5b,		 /* invalid PASID-table entry (PGTT, AW, FSPM ...) */
	VTD_FR_PTE_SRE = 0x5d,		 /* supervisor request, SRE clear */
	VTD_FR_FS_READ_ERR = 0x70,	 /* error accessing a first-stage entry */
	VTD_FR_FS_NP = 0x71,		 /* first-stage entry present bit clear */
	VTD_FR_FS_RSVD = 0x72,		 /* reserved field set in a first-stage entry */
	VTD_FR_FSPTPTR_INV = 0x73,	 /* error accessing the top first-stage entry */
	VTD_FR_NEST_FS_GAW = 0x74,	 /* nested: first-stage address beyond the SS width */
	VTD_FR_NEST_FS_TOP_READ = 0x75,	 /* nested: SS refuses reading the top FS table */
	VTD_FR_NEST_FS_READ = 0x76,	 /* nested: SS refuses reading a deeper FS table */
	VTD_FR_SS_READ_ERR = 0x78,	 /* error accessing a second-stage entry */
	VTD_FR_SS_RSVD = 0x7a,		 /* reserved field set in a second-stage entry */
	VTD_FR_FS_NON_CANONICAL = 0x80,	 /* first-stage input not canonical */
	VTD_FR_FS_PRIV = 0x81,		 /* user request on a supervisor (U/S 0) page */
	VTD_FR_ADDR_GAW = 0x83,		 /* address beyond the hardware / AGAW limit */
	VTD_FR_SM_WRITE = 0x85,		 /* no write permission for a write */
	VTD_FR_SM_READ = 0x86,		 /* no read permission for a read */
	VTD_FR_SM_INTERRUPT_ADDR = 0x87, /* output in the interrupt address range */
};

/* Invalidation descriptor types (qword 0 [3:0]). */
enum vtd_inv_type {
	VTD_INV_CC = 0x1,
	VTD_INV_IOTLB = 0x2,
	VTD_INV_DEV_TLB = 0x3,
	VTD_INV_IEC = 0x4,
	VTD_INV_WAIT = 0x5,
	VTD_INV_P_IOTLB = 0x6,
	VTD_INV_PC = 0x7,
	VTD_INV_P_DEV_TLB = 0x8,
	VTD_INV_PGRP_RESP = 0x9, /* page group response */
};

/* Page group response codes (descriptor qword 0 [15:12]). */
enum vtd_prg_code {
	VTD_PRG_SUCCESS = 0x0,
	VTD_PRG_INVALID = 0x1,
	VTD_PRG_FAILURE = 0xf,
};

/* Interrupts (MSIs to FEADDR / IEADDR are also written to memory). */
enum vtd_irq {
	VTD_IRQ_FAULT = 0, /* fault event */
	VTD_IRQ_INV,	   /* invalidation completion event */
	VTD_IRQ_PRQ,	   /* page request event */
	VTD_NR_IRQS
};

/* A message from the unit to the device @sid. */
struct vtd_dev_msg {
	enum { VTD_MSG_ATS_INV, VTD_MSG_PRG_RESP } type;
	uint16_t sid;
	bool pasid_valid;
	uint32_t pasid;
	/* ATS_INV: [addr, addr + size) (size 0: everything); global: every PASID. */
	uint64_t addr, size;
	bool global;
	/* PRG_RESP: the group and its response code (enum vtd_prg_code). */
	uint16_t prgi;
	uint8_t code;
};

struct vtd_params {
	unsigned int sagaw;  /* CAP.SAGAW: bit 1 39-bit/3-level, 2 48/4, 3 57/5 (default 0x6) */
	unsigned int mgaw;   /* CAP.MGAW + 1: 39..57 (default 48) */
	unsigned int sslps;  /* CAP.SSLPS: bit 0 2M, bit 1 1G second-stage leaves (default 3) */
	bool fs1gp, fs5lp;   /* CAP.FS1GP / FS5LP */
	bool fsts, ssts, nest, pt; /* translation types (ECAP.FSTS, SSTS, NEST, PT) */
	bool slads;	     /* ECAP.SLADS: second-stage A/D (dirty tracking) */
	bool srs, eafs;	     /* ECAP.SRS (supervisor requests), EAFS */
	bool ats;	     /* ECAP.DT: device TLBs (translation requests, DTE) */
	bool prs;	     /* ECAP.PRS + PDS: page requests (PRE, the page request queue) */
	unsigned int pss;    /* ECAP.PSS: PASIDs have pss + 1 bits (0..19, default 19) */
	unsigned int nfr;    /* fault recording registers, 1..64 (default 8) */
	struct xlate_cache_params cache;
	bool no_cache;	     /* no xlate cache at all: every request walks */
	/* Interrupt: called with the instance lock held; must not call back in. */
	void (*irq)(void *opaque, enum vtd_irq line);
	void *irq_opaque;
	/*
	 * The unit's messages to devices (PCIe ATS Invalidate Requests, PRG
	 * Response Messages), called with the instance lock held: the
	 * receiver takes only its own locks and must not call back in.
	 */
	void (*dev_msg)(void *opaque, const struct vtd_dev_msg *m);
	void *dev_msg_opaque;
};

/* Defaults: all translation types, SAGAW 39/48, MGAW 48, 2M + 1G, FS1GP, SS A/D, SRS. */
void vtd_params_default(struct vtd_params *p);

struct vtd;

/* @mem: the unit's view of physical memory (structures, tables, queue, status writes). */
int vtd_new(const struct vtd_params *p, const struct pt_mem *mem, struct vtd **out);
void vtd_free(struct vtd *v);
/* Back to reset values (registers); caches are flushed. */
void vtd_reset(struct vtd *v);

/*
 * Register access as a driver performs it: @size 4 or 8, naturally
 * aligned, inside the 4 KiB window. Offsets that name no register read as
 * zero and ignore writes. -EINVAL for an access no bus would deliver.
 */
int vtd_mmio_read(struct vtd *v, uint64_t off, unsigned int size, uint64_t *val);
int vtd_mmio_write(struct vtd *v, uint64_t off, unsigned int size, uint64_t val);

/* A request as a device issues it. */
#define VTD_NO_PASID UINT32_MAX
struct vtd_txn {
	uint16_t sid;	     /* requester id: bus [15:8], devfn [7:0] */
	uint32_t pasid;	     /* VTD_NO_PASID: a request without PASID (uses RID_PASID) */
	uint64_t addr;
	/*
	 * PT_PROT_R or PT_PROT_W, plus PT_PROT_X (execute) and PT_PROT_U
	 * (a user request; without it a request with PASID is supervisor).
	 */
	unsigned int access;
	/*
	 * A PCIe Translation Request (ATS): needs DTE in the context entry
	 * (else 0x44); a translation fault (first- or second-stage walk,
	 * permission) is the "no translation" answer, not recorded.
	 */
	bool ats_req;
};

struct vtd_result {
	uint64_t pa;
	uint64_t size;	    /* bytes around pa translated alike; 4K in pass-through */
	unsigned int prot;  /* PT_PROT_* allowed */
	uint8_t reason;	    /* enum vtd_fault_reason of a blocked request */
	bool recorded;	    /* ... written to a fault recording register */
	bool iotlb_hit;
};

/*
 * Translate one request. 0 with r->pa, or -EFAULT when the unit blocks it
 * (r->reason says why, r->recorded whether a fault record was written).
 * -EINVAL for a PASID beyond ECAP.PSS (no device can send one). Safe to
 * call from many threads alongside register accesses.
 */
int vtd_translate(struct vtd *v, const struct vtd_txn *t, struct vtd_result *r);

/*
 * What one translation read: the structure fetches (root, context, PASID
 * directory and PASID entries) at their physical addresses, and the walk
 * (first-stage fetches through the second stage in nested mode). Reads
 * the caches answered do not appear.
 */
#define VTD_TRACE_MAX 8
struct vtd_trace {
	unsigned int n; /* structure fetches; past VTD_TRACE_MAX counted only */
	struct {
		uint64_t pa;
		unsigned int len;
	} rd[VTD_TRACE_MAX];
	struct xlate_record walk; /* n = 0 when no walk ran */
};
int vtd_translate_traced(struct vtd *v, const struct vtd_txn *t, struct vtd_result *r,
			 struct vtd_trace *tr);

/*
 * A Page Request Message from device @sid (PCIe PRI), as the unit receives
 * it. The unit checks the context entry (present, PRE: else a fault record
 * 0x41 / 0x47 and, for the last request of a group, a Response Failure
 * back) and writes a page request descriptor (32 bytes) at PQT: qword 0
 * type [7:0] = 1, PASID present 8, RID [31:16], PASID [51:32], execute
 * 52, privileged 53; qword 1 read 0, write 1, LPIG 2, PRGI [11:3], page
 * address [63:12]; qwords 2-3 zero. PRS.PPR is set and a page request
 * event raised. A full queue (or PRO already set) sets PRO and drops the
 * request; the last request of a group is then answered Success (the
 * device asks again). 0, or -EINVAL (nothing sent: no PRS) / -ENOSPC
 * (dropped) / -EFAULT (refused by the context entry).
 */
struct vtd_page_req {
	uint16_t sid;
	bool pasid_valid;
	uint32_t pasid;
	uint64_t addr;	    /* the page (bits [11:0] ignored) */
	bool read, write, exe, priv;
	bool last;	    /* LPIG */
	uint16_t prgi;	    /* 0..511 */
};
int vtd_page_request(struct vtd *v, const struct vtd_page_req *req);

struct vtd_stats {
	uint64_t faults;	/* fault records written */
	uint64_t faults_lost;	/* faults not recorded: overflow (PFO) */
	uint64_t faults_suppressed; /* qualified faults not recorded because of FPD */
	uint64_t descs;		/* invalidation descriptors consumed */
	uint64_t iqe;		/* descriptors refused (FSTS.IQE) */
	uint64_t page_reqs;	/* page request descriptors written to the queue */
	uint64_t page_reqs_lost; /* page requests dropped: queue full or PRO (auto Success) */
	uint64_t prg_resps;	/* page group responses sent to devices */
	uint64_t ats_invs;	/* device-TLB invalidations sent to devices */
	uint64_t reg_invs;	/* register-based invalidations (CCMD, IOTLB_REG) */
	uint64_t irqs[VTD_NR_IRQS];
};
void vtd_get_stats(struct vtd *v, struct vtd_stats *st);
struct xlate_cache *vtd_cache(struct vtd *v);

#endif
