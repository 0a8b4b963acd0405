/* SPDX-License-Identifier: MIT */
/*
 * lib/vmm/guest_smmuv3.h - what a guest's SMMUv3 driver writes: stage-1
 * page tables and context descriptors in its RAM, the words of its stream
 * table entries, and the commands of its command queue.
 *
 * A VMM offering a vSMMU (Linux's iommufd nesting, QEMU's accelerated
 * SMMUv3) passes these on: the guest's STE words 0-1 become a nested HWPT
 * (IOMMU_HWPT_DATA_ARM_SMMUV3), its invalidation commands go raw through
 * IOMMU_HWPT_INVALIDATE on the vIOMMU, and its CDs and stage-1 tables stay
 * in guest RAM, where the SMMU walks them through stage 2. Tests and the
 * `uiommu run` command play the guest with these builders.
 *
 * The encodings are written from the architecture (Arm IHI 0070, SMMUv3:
 * STE, CD and command layouts as 64-bit words, little-endian in memory),
 * independently of the hardware model in lib/hw/smmuv3, so a scenario
 * checks the model against the specification rather than against itself.
 *
 * Errors: 0 or a negative errno (-EINVAL for what the architecture cannot
 * encode).
 */
#ifndef UIOMMU_VMM_GUEST_SMMUV3_H
#define UIOMMU_VMM_GUEST_SMMUV3_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"
#include "vmm/guest_mem.h"

/* ---------------------------------------------------------------------- */
/* Stage-1 address spaces                                                 */

/*
 * A guest stage 1: VMSAv8-64 stage-1 tables in guest RAM (from the guest
 * memory's pool), holding GPAs. @granule_shift 12, 14 or 16; @ias 25..48
 * (what CD.T0SZ can say); @oas 32, 36, 40, 42, 44 or 48 (CD.IPS).
 */
struct guest_s1 {
	struct pt_table pt;
	bool live;
	bool corrupt; /* found overwritten: no more map, unmap or walk of it */
};

int guest_s1_init(struct guest_s1 *s1, struct guest_mem *gm, unsigned int granule_shift,
		  unsigned int ias, unsigned int oas);
void guest_s1_destroy(struct guest_s1 *s1);
/*
 * pt_map / pt_unmap of the guest's table (PT_PROT_*); their errnos, and
 * -EUCLEAN when the tables were overwritten (by the guest's CPU or a
 * device: they are guest RAM) so that lib/pt cannot safely follow them:
 * every call checks the tree first (pt_table_check), and a table found
 * corrupt is abandoned, never walked again (destroy leaves its pages to
 * the guest memory, which goes as a whole).
 */
int guest_s1_map(struct guest_s1 *s1, uint64_t iova, uint64_t gpa, uint64_t size,
		 unsigned int prot);
int guest_s1_unmap(struct guest_s1 *s1, uint64_t iova, uint64_t size, uint64_t *unmapped);
/* GPA of the root table (CD.TTB0). */
uint64_t guest_s1_root(const struct guest_s1 *s1);

/* ---------------------------------------------------------------------- */
/* Context descriptors                                                    */

#define GUEST_CD_SIZE 64u

struct guest_cd {
	bool valid;		    /* V */
	uint16_t asid;		    /* ASID */
	uint64_t ttb0;		    /* TTB0: GPA of the stage-1 root, 16-byte aligned */
	unsigned int ias;	    /* 64 - T0SZ: 25..48 */
	unsigned int granule_shift; /* TG0: 12, 14, 16 */
	unsigned int oas;	    /* IPS: 32, 36, 40, 42, 44, 48, 52 */
	bool epd0;		    /* TTB0 walks disabled: every lookup faults */
	bool stall;		    /* S: faults stall (the device must tolerate it) */
	bool record;		    /* R: faults are recorded as events */
	bool affd;		    /* access flag faults disabled */
	bool ha, hd;		    /* hardware access flag / dirty state updates */
	/* The upper VA range (addresses whose bits above ias1 are all 1): off (EPD1) unless */
	bool ttb1_on;
	uint64_t ttb1;		     /* TTB1: GPA of its stage-1 root, 16-byte aligned */
	unsigned int ias1;	     /* 64 - T1SZ: 25..48 */
	unsigned int granule1_shift; /* TG1: 12, 14, 16 */
	unsigned int tbi;	     /* TBI: bit 0 TTB0's range, bit 1 TTB1's: top byte ignored */
};

/*
 * The CD's eight words (CPU order): TTB1 walks disabled (EPD1) unless
 * ttb1_on, AA64, A (abort on fault, as Linux sets it), inner/outer
 * write-back cacheable, inner shareable walks. -EINVAL for a field out of
 * its encoding. A guest_s1 serves TTB1 as well: it maps the low ias1 bits
 * of the upper range's addresses (IHI 0070's walk of a TTB1 address).
 */
int guest_cd_encode(const struct guest_cd *cd, uint64_t words[8]);
/*
 * Write a CD at @gpa as a driver does: words 1-7 first, then word 0 (with
 * V) with a release store, so a walker that sees V sees the rest. -EFAULT
 * outside RAM, -EINVAL unaligned.
 */
int guest_cd_write(struct guest_mem *gm, uint64_t gpa, const uint64_t words[8]);

/* ---------------------------------------------------------------------- */
/* Stream table entries (the words a vSMMU hands over)                    */

enum guest_ste_config {
	GUEST_STE_ABORT,     /* Config 0b000: every transaction aborted, no event */
	GUEST_STE_BYPASS,    /* Config 0b100: no stage 1 (the host's stage 2 still applies) */
	GUEST_STE_TRANSLATE, /* Config 0b101: stage 1 through the CD table */
};

enum guest_s1dss {
	GUEST_S1DSS_TERMINATE = 0, /* transactions without a PASID are terminated */
	GUEST_S1DSS_BYPASS = 1,	   /* ... bypass stage 1 */
	GUEST_S1DSS_SSID0 = 2,	   /* ... use CD 0 (then PASID 0 is refused) */
};

struct guest_ste {
	bool valid; /* V (false: an invalid STE, C_BAD_STE) */
	enum guest_ste_config config;
	uint64_t cd_table;	/* S1ContextPtr: GPA of a linear CD table, 64-byte aligned */
	unsigned int s1cdmax;	/* log2 of its CDs (0: one CD, no PASIDs) */
	enum guest_s1dss s1dss; /* with s1cdmax > 0 */
	bool s1stalld;		/* stall faults are not allowed */
};

/*
 * STE words 0 and 1 (CPU order; the vSTE of IOMMU_HWPT_DATA_ARM_SMMUV3):
 * S1Fmt linear, S1CIR / S1COR write-back, S1CSH inner shareable. -EINVAL
 * for a misaligned or too wide CD pointer, S1CDMax above 20.
 */
int guest_ste_encode(const struct guest_ste *ste, uint64_t words[2]);
const char *guest_ste_config_name(enum guest_ste_config c);

/* ---------------------------------------------------------------------- */
/* Commands                                                               */

/* Opcodes (word 0 [7:0]). */
enum guest_cmd_op {
	GUEST_CMD_PREFETCH_CONFIG = 0x01,
	GUEST_CMD_PREFETCH_ADDR = 0x02,
	GUEST_CMD_CFGI_STE = 0x03,
	GUEST_CMD_CFGI_STE_RANGE = 0x04,
	GUEST_CMD_CFGI_CD = 0x05,
	GUEST_CMD_CFGI_CD_ALL = 0x06,
	GUEST_CMD_TLBI_NH_ALL = 0x10,
	GUEST_CMD_TLBI_NH_ASID = 0x11,
	GUEST_CMD_TLBI_NH_VA = 0x12,
	GUEST_CMD_TLBI_NH_VAA = 0x13,
	GUEST_CMD_TLBI_S12_VMALL = 0x28,
	GUEST_CMD_TLBI_S2_IPA = 0x2a,
	GUEST_CMD_TLBI_NSNH_ALL = 0x30,
	GUEST_CMD_ATC_INV = 0x40,
	GUEST_CMD_PRI_RESP = 0x41,
	GUEST_CMD_RESUME = 0x44,
	GUEST_CMD_STALL_TERM = 0x45,
	GUEST_CMD_SYNC = 0x46,
};

/* A command and its fields; each opcode uses the ones the architecture gives it. */
struct guest_cmd {
	unsigned int op;
	uint32_t sid;		 /* CFGI_*, ATC_INV, PREFETCH_*, RESUME, STALL_TERM */
	bool ssv;		 /* PREFETCH_*, ATC_INV: ssid is valid */
	uint32_t ssid;		 /* CFGI_CD, PREFETCH_*, ATC_INV (20 bits) */
	uint16_t asid, vmid;	 /* TLBI_* */
	uint64_t addr;		 /* TLBI_*_VA(A), TLBI_S2_IPA, ATC_INV, PREFETCH_ADDR */
	bool leaf;		 /* CFGI_STE, CFGI_CD, TLBI_*_VA(A), TLBI_S2_IPA */
	unsigned int ttl;	 /* TLBI ranges: level of the leaf (0: unknown) */
	unsigned int tg;	 /* TLBI ranges: 0 none, 1 4K, 2 16K, 3 64K */
	unsigned int num, scale; /* TLBI ranges: (num + 1) << scale pages */
	unsigned int range;	 /* CFGI_STE_RANGE: 2^(range + 1) SIDs (31: CFGI_ALL) */
	unsigned int size;	 /* ATC_INV: 2^size pages */
	unsigned int cs;	 /* CMD_SYNC: completion signal (0 none, 1 IRQ, 2 SEV) */
	uint16_t stag;		 /* RESUME */
	unsigned int action;	 /* RESUME: 0 terminate, 1 retry, 2 abort */
	bool ssec;		 /* SSec (a secure stream: refused on a non-secure queue) */
};

/* "TLBI_NH_VA" for GUEST_CMD_TLBI_NH_VA ("CFGI_ALL" is CFGI_STE_RANGE, range 31); NULL. */
const char *guest_cmd_name(unsigned int op);
/* The opcode of a name (also "CFGI_ALL": *range_all set), or -EINVAL. */
int guest_cmd_parse(const char *name, bool *range_all);
/* The two words (CPU order). -EINVAL for an opcode not listed above or a field too wide. */
int guest_cmd_encode(const struct guest_cmd *c, uint64_t words[2]);

#endif
