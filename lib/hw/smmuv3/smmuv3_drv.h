/* SPDX-License-Identifier: MIT */
/*
 * smmuv3_drv.h - the SMMUv3 driver's internals, shared by smmuv3_iommu.c
 * (instance, queues, events, devices, attach, DMA), smmuv3_domain.c
 * (stage-1 and stage-2 paging domains, nested domains, STE contents),
 * smmuv3_cd.c (a device's CD table, PASID attach) and smmuv3_viommu.c
 * (the vSMMU). Bit positions are on 64-bit words as the
 * architecture lays out STEs, commands and events (see smmuv3_priv.h).
 */
#ifndef UIOMMU_HW_SMMUV3_DRV_H
#define UIOMMU_HW_SMMUV3_DRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/iommufd.h>

#include "hw/smmuv3/smmuv3_ep.h"
#include "hw/smmuv3/smmuv3_iommu.h"
#include "pt/pt.h"
#include "util/bits.h"

/* STE fields the driver writes (qword, bits). */
#define STE0_V		    (1ULL << 0)
#define STE0_CFG_SHIFT	    1
#define STE0_CFG_MASK	    (7ULL << 1)
#define STE_CFG_ABORT	    0
#define STE_CFG_BYPASS	    4
#define STE_CFG_S1_TRANS    5
#define STE_CFG_S2_TRANS    6
#define STE_CFG_NESTED	    7
#define STE0_S1FMT_SHIFT    4
#define STE0_S1FMT_MASK	    (3ULL << 4)
#define STE_S1FMT_LINEAR    0
#define STE_S1FMT_64K_L2    2
#define STE0_S1CTXPTR_MASK  (((1ULL << 52) - 1) & ~((1ULL << 6) - 1)) /* [51:6] */
#define STE0_S1CDMAX_SHIFT  59
#define STE0_S1CDMAX_MASK   (0x1fULL << 59)
#define STE1_S1DSS_MASK	    (3ULL << 0)
#define STE_S1DSS_TERMINATE 0
#define STE_S1DSS_BYPASS    1
#define STE_S1DSS_SSID0	    2
#define STE1_S1C_WBRA_ISH   (1ULL << 2 | 1ULL << 4 | 3ULL << 6) /* S1CIR, S1COR WBRA; S1CSH ISH */
#define STE1_S1CIR_MASK	    (3ULL << 2)
#define STE1_S1COR_MASK	    (3ULL << 4)
#define STE1_S1CSH_MASK	    (3ULL << 6)
#define STE1_MEV	    (1ULL << 19)
#define STE1_S1STALLD	    (1ULL << 27)
#define STE1_EATS_SHIFT	    28
#define STE1_EATS_MASK	    (3ULL << 28)
#define STE1_EATS_TRANS	    (1ULL << 28)
#define STE1_SHCFG_INCOMING (1ULL << 44)
#define STE2_T0SZ_SHIFT	    32
#define STE2_SL0_SHIFT	    38
#define STE2_TG_SHIFT	    46
#define STE2_PS_SHIFT	    48
#define STE2_AA64	    (1ULL << 51)
#define STE2_PTW	    (1ULL << 54)
#define STE2_HD		    (1ULL << 55)
#define STE2_HA		    (1ULL << 56)
#define STE2_S		    (1ULL << 57)
#define STE2_R		    (1ULL << 58)
#define STE3_S2TTB_MASK	    (((1ULL << 52) - 1) & ~0xfULL) /* [51:4] */

/* CD fields the driver writes (a kernel-owned stage 1, Linux's arm_smmu_make_s1_cd). */
#define CD0_T0SZ_SHIFT	0
#define CD0_IRGN0_WBWA	(1ULL << 8)
#define CD0_ORGN0_WBWA	(1ULL << 10)
#define CD0_SH0_ISH	(3ULL << 12)
#define CD0_EPD1	(1ULL << 30)
#define CD0_V		(1ULL << 31)
#define CD0_IPS_SHIFT	32
#define CD0_AA64	(1ULL << 41)
#define CD0_HD		(1ULL << 42)
#define CD0_HA		(1ULL << 43)
#define CD0_S		(1ULL << 44)
#define CD0_R		(1ULL << 45)
#define CD0_A		(1ULL << 46)
#define CD0_ASET	(1ULL << 47)
#define CD0_ASID_SHIFT	48
#define CD1_TTB0_MASK	(((1ULL << 52) - 1) & ~0xfULL) /* [51:4] */
#define CD3_MAIR_NORMAL 0xffULL /* Attr0: normal, write-back (the leaves' AttrIndx 0) */
#define CD_SPLIT	10	/* S1Fmt 64K_L2: 1024 CDs per L2 table */
#define L1CD_V		(1ULL << 0)
#define L1CD_L2PTR_MASK (((1ULL << 52) - 1) & ~0xfffULL) /* [51:12] */

/* What a guest may put in the STE words of IOMMU_HWPT_DATA_ARM_SMMUV3 (Linux's *_NESTING_ALLOWED).
 */
#define STE0_NESTING_ALLOWED \
	(STE0_V | STE0_CFG_MASK | STE0_S1FMT_MASK | STE0_S1CTXPTR_MASK | STE0_S1CDMAX_MASK)
#define STE1_NESTING_ALLOWED                                                                     \
	(STE1_S1DSS_MASK | STE1_S1CIR_MASK | STE1_S1COR_MASK | STE1_S1CSH_MASK | STE1_S1STALLD | \
	 STE1_EATS_MASK)

/* Command fields. */
#define CMD0_SID_SHIFT		 32
#define CMD0_SID_MASK		 (0xffffffffULL << 32)
#define CMD0_VMID_SHIFT		 32
#define CMD0_VMID_MASK		 (0xffffULL << 32)
#define CMD0_NUM_SHIFT		 12
#define CMD0_SCALE_SHIFT	 20
#define CMD0_RESUME_ACTION_SHIFT 12
#define CMD_RESUME_TERM		 0
#define CMD_RESUME_RETRY	 1
#define CMD_RESUME_ABORT	 2
#define CMD1_TG_SHIFT		 10
#define CMD1_RANGE_ALL		 31 /* CFGI_STE_RANGE Range = 31: CFGI_ALL */
#define CMD0_SSV_BIT		 (1ULL << 11)
#define CMD0_SSID_SHIFT		 12
#define CMD0_ASID_SHIFT		 48
#define CMD1_LEAF		 (1ULL << 0)
#define CMD_ATC_SIZE_ALL	 52
#define CMD_PRI_RESP_FAIL	 0
#define CMD_PRI_RESP_INVALID	 1
#define CMD_PRI_RESP_SUCC	 2

/* Event record fields. */
#define EVT1_STAG_MASK 0xffffULL
#define EVT1_STALL     (1ULL << 31)
#define EVT1_PNU       (1ULL << 33)
#define EVT1_IND       (1ULL << 34)
#define EVT1_RNW       (1ULL << 35)
#define EVT1_S2	       (1ULL << 39)
#define EVT0_SSV       (1ULL << 11)

/* The stage 1 and stage 2 of paging domains: 4K granule, 48-bit input, 48-bit PA. */
#define SMMUV3_S1_IAS	 48
#define SMMUV3_S2_IAS	 48
#define SMMUV3_S2_OAS	 48
#define SMMUV3_S2_PS_ENC 5
#define SMMUV3_PGSIZES	 (SZ_4K | SZ_2M | SZ_1G)
#define SZ_4K		 0x1000ULL
#define SZ_2M		 0x200000ULL
#define SZ_1G		 0x40000000ULL

struct smmuv3_master;
struct smmuv3_vsmmu;

/*
 * An ATS device as the ATS port and ATC invalidation see it, by SID: its
 * endpoint, the paging domain its STE translates the RID through (a
 * stage 2, or a stage 1 in CD 0; NULL: abort) and whether a guest stage 1
 * sits on it. Its PASIDs are in their domains' pasid_users.
 */
struct smmuv3_ats_slot {
	struct smmuv3_ep *ep;
	struct smmuv3_domain *s2;
	bool nested;
};

struct smmuv3_iommu {
	struct iommu_device iommu;
	char name[32];
	struct smmuv3 *hw;

	/* What the ID registers said at probe. */
	bool s1p, s2p, httu_dirty, stall, ril, cd2l, pri, ats, asid16;
	bool stall_force; /* IDR0.STALL_MODEL 0b10: every master stalls (CD.S, S2S) */
	unsigned int sid_bits, ssid_bits;

	/*
	 * Guards ats_slots[] (by SID, NULL without ATS): a leaf, taken under the
	 * model's lock by the ATS port callbacks and under master->lock by
	 * attach, so neither path orders smmu->lock against master->lock.
	 */
	pthread_mutex_t ats_lock;
	struct smmuv3_ats_slot *ats_slots;
	unsigned int nr_ats_devs;

	/* Guards masters[], vmid_map and asid_map. */
	pthread_mutex_t lock;
	struct smmuv3_master **masters; /* by SID, 1 << sid_bits */
	uint64_t *vmid_map;		/* bitmap of the 2^16 VMIDs; 0 is never handed out */
	uint64_t *asid_map;		/* bitmap of the ASIDs (2^16 or 2^8); 0 never handed out */

	uint64_t *strtab; /* linear stream table, 1 << sid_bits STEs */

	/* Guards the command queue and its producer index. */
	pthread_mutex_t cmdq_lock;
	uint64_t *cmdq;
	unsigned int cmdq_log2;
	uint32_t cmdq_prod; /* wrap | index, as written to CMDQ_PROD */

	/* Guards event consumption (records are handled in order, under it). */
	pthread_mutex_t evtq_lock;
	uint64_t *evtq;
	unsigned int evtq_log2;
	uint32_t evtq_cons;

	/* Guards PRI queue consumption (records handled in order, under it). */
	pthread_mutex_t priq_lock;
	uint64_t *priq;
	unsigned int priq_log2;
	uint32_t priq_cons;

	/*
	 * Read while an event is reported to somebody (a fault queue through a
	 * domain's sink, a vIOMMU): what the report reaches stays alive.
	 * Written (briefly) by whatever frees a domain, a vIOMMU or a device.
	 */
	pthread_rwlock_t report_lock;

	void *msi_page; /* the doorbell, mapped at SMMUV3_MSI_IOVA_BASE */
	bool own_msi_page;

	/* The event log (params.evt_log), called under evtq_lock. */
	void (*evt_log)(void *opaque, const uint64_t evt[4], enum smmuv3_evt_route route);
	void *evt_log_opaque;

	struct smmuv3_iommu_stats stats; /* atomics */
};

/*
 * A device's CD table (smmuv3_cd.c), made on its first stage-1 attach and
 * kept until the device goes (Linux keeps it too): linear (S1Fmt 0) for up
 * to 1024 CDs or without IDR0.CD2L, else an L1 table of L1CDs whose 64 KiB
 * L2 tables of 1024 CDs are made when a CD in them is first written.
 */
struct smmuv3_cdtab {
	uint64_t *base;	    /* the CDs (linear) or the L1CDs */
	uint64_t **l2;	    /* 2-level: the L2 tables by L1 index (NULL: not made) */
	unsigned int fmt;   /* STE_S1FMT_* */
	unsigned int cdmax; /* S1CDMax: log2 of the SSIDs (the device's ssid_bits) */
	unsigned int nr_l1;
};

/* A PASID of a device attached to a stage-1 domain. */
struct smmuv3_pasid_att {
	uint32_t pasid;
	struct smmuv3_domain *dom;
};

/* A device: its stream, and what it is attached to. */
struct smmuv3_master {
	struct udev udev;
	struct smmuv3_iommu *smmu;
	char name[48];
	struct iommu_resv_region resv; /* the SW_MSI window (when it has MSIs) */
	bool can_stall, msi;
	bool ats, pri;		/* the endpoint's capabilities the driver uses */
	struct smmuv3_ep *ep;	/* its ATC and PRGs (ats) */

	/* Guards everything below (the core serialises attach changes; the event path reads). */
	pthread_mutex_t lock;
	struct iommu_domain *domain;  /* attached (paging or nested); NULL: blocked */
	struct smmuv3_domain *msi_s2; /* the paging domain holding the RID's doorbell mapping */
	struct smmuv3_vsmmu *vsmmu;   /* nested on a vIOMMU with a vDEVICE: events go there */
	uint32_t vsid;
	struct smmuv3_cdtab cd;		 /* base NULL until the first stage-1 attach */
	struct smmuv3_pasid_att *pasids; /* attached PASIDs (never 0), unordered */
	unsigned int nr_pasids, cap_pasids;
};

static inline struct smmuv3_master *to_master(const struct udev *dev)
{
	return container_of(dev, struct smmuv3_master, udev);
}

/* A PASID of an ATS device using a stage-1 domain (for its ATC invalidation). */
struct smmuv3_pasid_user {
	struct smmuv3_master *master;
	uint32_t pasid;
};

/*
 * A paging domain: a stage-1 table and its ASID (s1; its contexts carry
 * VMID 0), or a stage-2 table and its VMID.
 */
struct smmuv3_domain {
	struct iommu_domain domain;
	struct smmuv3_iommu *smmu;
	uint16_t vmid, asid;
	bool s1, nest_parent, dirty;
	/* Guards pasid_users (a leaf: held only to copy or change it). */
	pthread_mutex_t users_lock;
	struct smmuv3_pasid_user *pasid_users;
	unsigned int nr_pasid_users, cap_pasid_users;
	/* Guards pt changes (the core's map / unmap, the doorbell) and msi_users. */
	pthread_mutex_t lock;
	struct pt_table pt;
	unsigned int msi_users; /* attached devices that hold the doorbell mapping */
	/*
	 * A nesting parent's guest stage 1 set without a vIOMMU (the VFIO v13
	 * extension, smmuv3_nesting.c), under lock: s1_config 0 (stage 2
	 * only) or IOMMU_PASID_CONFIG_TRANSLATE / _BYPASS / _ABORT, and for
	 * TRANSLATE the STE's S1ContextPtr, S1Fmt, S1CDMax and S1DSS.
	 */
	unsigned int s1_config;
	uint64_t s1_ctxptr;
	unsigned int s1fmt, s1cdmax, s1dss;
	/* The guest's MSI doorbell binding (giova -> gpa), its gpa page mapped to the doorbell. */
	bool msi_bound;
	uint64_t msi_giova, msi_gpa, msi_size;
};

/* A nested domain of a vIOMMU: the guest's STE words 0-1 over the vIOMMU's stage 2. */
struct smmuv3_nested {
	struct iommu_domain domain;
	struct smmuv3_vsmmu *vsmmu;
	uint64_t ste[2]; /* validated, EATS cleared, CPU order */
};

struct smmuv3_vdev {
	uint64_t vsid;
	struct smmuv3_master *master;
};

/* The vSMMU. Its vDEVICE table changes and is read under the core's vIOMMU lock. */
struct smmuv3_vsmmu {
	struct iommu_viommu core;
	struct smmuv3_iommu *smmu;
	struct smmuv3_domain *s2;
	uint16_t vmid;
	struct smmuv3_vdev *vdevs;
	unsigned int nr_vdevs, cap_vdevs;
};

static inline struct smmuv3_vsmmu *to_vsmmu(const struct iommu_viommu *v)
{
	return container_of(v, struct smmuv3_vsmmu, core);
}

extern const struct iommu_ops smmuv3_iommu_ops;
extern const struct iommu_domain_ops smmuv3_paging_ops, smmuv3_nested_ops;

static inline struct smmuv3_domain *to_s2(const struct iommu_domain *d)
{
	return container_of(d, struct smmuv3_domain, domain);
}

static inline struct smmuv3_nested *to_nested(const struct iommu_domain *d)
{
	return container_of(d, struct smmuv3_nested, domain);
}

static inline bool smmuv3_is_paging(const struct iommu_domain *d)
{
	return d && d->ops == &smmuv3_paging_ops;
}

static inline bool smmuv3_is_nested(const struct iommu_domain *d)
{
	return d && d->ops == &smmuv3_nested_ops;
}

static inline void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* smmuv3_iommu.c */
/*
 * Issue @n commands and a CMD_SYNC. 0 when all took effect; -EIO when the
 * hardware refused one (CMDQ_ERR): *done (optional) gets its index, the
 * ones before it took effect, it and the ones after did not (the driver
 * replaced it with a CMD_SYNC and acknowledged the error, as Linux does).
 */
int smmuv3_cmdq_issue(struct smmuv3_iommu *smmu, const uint64_t (*cmds)[2], unsigned int n,
		      unsigned int *done);
/* One command and a CMD_SYNC. */
int smmuv3_cmdq_issue_one(struct smmuv3_iommu *smmu, uint64_t cmd0, uint64_t cmd1);
/* ATC_INV of everything of @sid (when the SMMU has ATS) + SYNC. */
void smmuv3_atc_inv_sid(struct smmuv3_iommu *smmu, uint32_t sid);
/* Write @ste for @sid (break-before-make through an abort STE when needed) + CFGI_STE. */
void smmuv3_install_ste(struct smmuv3_iommu *smmu, uint32_t sid, const uint64_t ste[8]);
/*
 * Attach @master's RID to @domain (NULL: blocked) with @ste; @s2: the
 * paging domain it translates through (doorbell, ATC invalidation);
 * @vsmmu / @vsid: its vmaster (NULL: none). A stage-1 @domain passes no
 * @ste: CD 0 and the CD-table STE are made here. -EBUSY for a stage 2 or
 * nested domain while PASIDs are attached.
 */
int smmuv3_master_attach(struct smmuv3_master *master, struct iommu_domain *domain,
			 struct smmuv3_domain *s2, const uint64_t *ste, struct smmuv3_vsmmu *vsmmu,
			 uint32_t vsid);
int smmuv3_vmid_alloc(struct smmuv3_iommu *smmu);
void smmuv3_vmid_free(struct smmuv3_iommu *smmu, uint16_t vmid);
int smmuv3_asid_alloc(struct smmuv3_iommu *smmu);
void smmuv3_asid_free(struct smmuv3_iommu *smmu, uint16_t asid);
bool smmuv3_master_ours(const struct udev *dev);

/* smmuv3_domain.c */
struct iommu_domain *smmuv3_domain_alloc_paging(struct udev *dev, uint32_t flags,
						const struct iommu_user_data *data, int *err);
/* The CD of stage-1 domain @s1 for @master (Linux's arm_smmu_make_s1_cd). */
void smmuv3_make_s1_cd(const struct smmuv3_master *master, const struct smmuv3_domain *s1,
		       uint64_t cd[8]);
/* The STE of a stage-1 translation through @master's CD table, with @s1dss for the RID. */
void smmuv3_make_cdtable_ste(const struct smmuv3_master *master, unsigned int s1dss,
			     uint64_t ste[8]);
/* The STE of a stage-2-only translation through @s2 for @master. */
void smmuv3_make_s2_ste(const struct smmuv3_master *master, const struct smmuv3_domain *s2,
			uint64_t ste[8]);
void smmuv3_make_abort_ste(uint64_t ste[8]);
/* Map / unmap the doorbell in @s2 for one more / one fewer device. */
int smmuv3_msi_get(struct smmuv3_domain *s2);
void smmuv3_msi_put(struct smmuv3_domain *s2);
/*
 * Invalidate [iova, iova + size) of paging domain @s2 + SYNC, then the ATCs
 * of the ATS devices using it: TLBI_NH_VA with its ASID for a stage 1;
 * TLBI_S2_IPA (+ TLBI_NH_ALL for a nesting parent) for a stage 2.
 */
void smmuv3_s2_inv_range(struct smmuv3_domain *s2, uint64_t iova, uint64_t size);
/* A nested domain of @vsmmu from the user's STE words. */
struct iommu_domain *smmuv3_nested_alloc(struct smmuv3_vsmmu *vsmmu, uint32_t flags,
					 const struct iommu_user_data *data, int *err);

/* smmuv3_cd.c */
/* Make @master's CD table if it has none. Under master->lock. */
int smmuv3_cd_table_get(struct smmuv3_master *master);
void smmuv3_cd_table_free(struct smmuv3_master *master);
/* Write CD @ssid (NULL: clear it) + CFGI_CD + SYNC; a valid CD is broken first. */
int smmuv3_cd_write(struct smmuv3_master *master, uint32_t ssid, const uint64_t *cd);
/* The domain of @master's PASID @pasid (NULL: none). Under master->lock. */
struct smmuv3_domain *smmuv3_pasid_domain(const struct smmuv3_master *master, uint32_t pasid);
int smmuv3_set_dev_pasid(struct iommu_domain *domain, struct udev *dev, uint32_t pasid,
			 struct iommu_domain *old);
void smmuv3_remove_dev_pasid(struct udev *dev, uint32_t pasid, struct iommu_domain *domain);
/* CMD_ATC_INV of [iova, iova + size) to every PASID of an ATS device on stage-1 domain @s1. */
void smmuv3_s1_pasid_atc_inv(struct smmuv3_domain *s1, uint64_t iova, uint64_t size);

/* smmuv3_nesting.c */
/* Turn @master's stage-2 STE of @s2 into what @s2's guest stage-1 configuration asks for. */
void smmuv3_nesting_apply(const struct smmuv3_master *master, struct smmuv3_domain *s2,
			  uint64_t ste[8]);
/*
 * An event of @master attached to @domain: a stage-1 fault or page request
 * of a device whose guest configuration came through attach_pasid_table
 * goes to the device's fault handler as a struct iommu_fault. 0 when the
 * handler took it; -ENOENT when the event is not one for it (the caller
 * goes on as before); another -errno when the handler refused it.
 */
int smmuv3_nesting_report(struct smmuv3_master *master, struct iommu_domain *domain,
			  const uint64_t evt[4]);
int smmuv3_attach_pasid_table(struct iommu_domain *domain,
			      const struct iommu_pasid_table_config *cfg);
void smmuv3_detach_pasid_table(struct iommu_domain *domain);
int smmuv3_cache_invalidate(struct iommu_domain *domain, struct udev *dev,
			    const struct iommu_cache_invalidate_info *inv);
int smmuv3_bind_guest_msi(struct iommu_domain *domain, uint64_t giova, uint64_t gpa,
			  uint64_t size);
void smmuv3_unbind_guest_msi(struct iommu_domain *domain, uint64_t giova);
int smmuv3_guest_msi_iova(struct iommu_domain *domain, uint64_t *iova);

/* smmuv3_viommu.c */
struct iommu_viommu *smmuv3_viommu_alloc(struct udev *dev, struct iommu_domain *parent,
					 unsigned int type, const struct iommu_user_data *data,
					 int *err);
/* The vSID of @master on @vsmmu: 0 and *vsid, or -ENOENT. Under the core's vIOMMU lock. */
int smmuv3_vsmmu_vsid(const struct smmuv3_vsmmu *vsmmu, const struct smmuv3_master *master,
		      uint32_t *vsid);

#endif
