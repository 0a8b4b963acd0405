/* SPDX-License-Identifier: MIT */
/*
 * lib/vmm/smmuv3_evt.h - SMMUv3 event records as software reads them:
 * decoded fields, type names, one-line descriptions.
 *
 * A VMM reads the records of its vIOMMU's vEVENTQ (struct
 * iommu_vevent_arm_smmuv3: the hardware's record with the vSID in place of
 * the SID) to put them in the guest's event queue; a host driver reads its
 * own queue. Both need the same decoding (Arm IHI 0070 §7.3), written here
 * from the specification rather than borrowed from the hardware model.
 */
#ifndef UIOMMU_VMM_SMMUV3_EVT_H
#define UIOMMU_VMM_SMMUV3_EVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CLASS of a translation-related fault: what the SMMU was fetching. */
enum smmuv3_evt_class {
	SMMUV3_EVT_CLASS_CD = 0, /* a CD (or an L1 CD descriptor) */
	SMMUV3_EVT_CLASS_TT = 1, /* a translation table descriptor */
	SMMUV3_EVT_CLASS_IN = 2, /* the transaction's input address itself */
};

struct smmuv3_evt {
	unsigned int type; /* word 0 [7:0] */
	uint32_t sid;	   /* StreamID (a vSID in a vEVENT) */
	bool ssv;	   /* SubstreamID valid */
	uint32_t ssid;	   /* SubstreamID (PASID) */
	bool stall;	   /* the transaction is stalled, tag stag */
	uint16_t stag;
	bool pnu, ind, rnw; /* privileged, instruction, read */
	bool s2;	    /* the fault is of stage 2 */
	unsigned int cls;   /* enum smmuv3_evt_class */
	bool ttrnw;	    /* CLASS TT: the fetch was a read (else an HTTU update write) */
	uint64_t input;	    /* InputAddr */
	uint64_t ipa;	    /* stage-2 faults: the IPA ([51:12]) */
	uint64_t fetch;	    /* F_*_FETCH, F_WALK_EABT: the fetch address ([51:3]) */
	uint64_t raw[4];
};

/* @words: the record in CPU order (le64toh of what is in memory). */
void smmuv3_evt_decode(const uint64_t words[4], struct smmuv3_evt *e);

/* "F_TRANSLATION" for 0x10, NULL for a type the architecture does not define. */
const char *smmuv3_evt_name(unsigned int type);
/* The type of a name, or -EINVAL. */
int smmuv3_evt_parse(const char *name);
/* "CD", "TT", "IN" (or "?"). */
const char *smmuv3_evt_class_name(unsigned int cls);

/* Which fields the record carries for its type. */
bool smmuv3_evt_has_addr(unsigned int type);  /* InputAddr, RnW, PnU, InD */
bool smmuv3_evt_has_stage(unsigned int type); /* S2, CLASS, IPA, Stall */
bool smmuv3_evt_has_fetch(unsigned int type); /* a fetch address */

/*
 * One line: "F_TRANSLATION sid 0x42: write to 0x12000, stage 1, class IN"
 * with the fields the type carries; @sid_label "sid" or "vSID". Returns
 * what snprintf returns.
 */
int smmuv3_evt_format(const struct smmuv3_evt *e, const char *sid_label, char *buf, size_t len);

#endif
