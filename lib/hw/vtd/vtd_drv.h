/* SPDX-License-Identifier: MIT */
/*
 * vtd_drv.h - the VT-d driver's internals, shared by vtd_iommu.c
 * (instance, invalidation queue, devices, PASID tables, attach, DMA) and
 * vtd_domain.c (second-stage paging domains and first-stage nested
 * domains).
 */
#ifndef UIOMMU_HW_VTD_DRV_H
#define UIOMMU_HW_VTD_DRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/iommufd.h>

#include "hw/vtd/vtd_iommu.h"
#include "pt/pt.h"
#include "util/bits.h"

/* Context and PASID entry fields the driver writes (qword, bit). */
#define CTX0_P	     BIT(0)
#define CTX0_PASIDE  BIT(3)
#define CTX0_DTE     BIT(2)
#define CTX0_PRE     BIT(4)
#define CTX0_PDTS_SHIFT 9
#define PTE0_P	     BIT(0)
#define PTE0_AW_SHIFT 2
#define PTE0_PGTT_SHIFT 6
#define PTE0_SSADE   BIT(9)
#define PTE2_SRE     BIT(0)
#define PTE2_FSPM_5L BIT(2)
#define PTE2_WPE     BIT(4)
#define PTE2_EAFE    BIT(7)
#define VTD_PTR_MASK GENMASK(51, 12)

#define VTD_SS_IAS   48 /* every paging domain: 4-level second stage, AW 2 */
#define VTD_SS_AW    2
#define SZ_4K	     0x1000ULL
#define SZ_2M	     0x200000ULL
#define SZ_1G	     0x40000000ULL

struct vtd_master;

/* One (device, PASID) -> domain binding; on vtd_iommu.attached, under lock. */
struct vtd_attach {
	struct vtd_master *m;
	uint32_t pasid;
	struct iommu_domain *domain;
	bool iopf; /* the domain has a fault queue: counted in m->iopf_users */
	struct vtd_attach *next;
};

struct vtd_iommu {
	struct iommu_device iommu;
	char name[32];
	struct vtd *hw;
	uint64_t cap, ecap;

	/*
	 * Guards everything below: devices, DIDs, root / context / PASID
	 * tables, attachments, nested children lists, the invalidation queue.
	 */
	pthread_mutex_t lock;
	struct vtd_master *masters;
	uint64_t *did_map; /* 2^16 bits; 0 and 1 never handed out */
	uint64_t *root;	   /* 256 root entries (16 bytes) */
	uint64_t *ctx[512]; /* context tables: [bus * 2 + (devfn >= 128)] */
	struct vtd_attach *attached;

	uint64_t *iq;	   /* 256 descriptors of 16 bytes */
	uint32_t iq_tail;  /* byte offset, as written to IQT */
	uint32_t *status;  /* wait descriptors write here */
	uint32_t seq;

	uint64_t *prq;	   /* page request queue (4 KiB: 128 descriptors), NULL without PRS */
	pthread_mutex_t prq_lock; /* page request consumption */
	pthread_rwlock_t report_lock; /* read while a page request is reported */
	/* Endpoints by requester ID for the unit's messages: under ep_lock (a leaf). */
	pthread_mutex_t ep_lock;

	pthread_mutex_t fault_lock; /* fault record consumption */
	struct vtd_iommu_stats stats; /* atomics */
};

struct vtd_master {
	struct udev dev;
	struct vtd_iommu *v;
	char name[48];
	struct iommu_resv_region resv;
	unsigned int pdir_entries; /* 2^(PDTS + 7) */
	uint64_t *pdir;
	uint64_t **ptbl;	   /* per directory entry: its PASID table (64 entries), or NULL */
	struct vtd_ep *ep;	   /* ATS device: its endpoint; NULL otherwise */
	bool ats, pri;		   /* what the driver uses (ECAP.DT / PRS and the device) */
	unsigned int iopf_users;   /* attachments to domains with a fault queue (PRE, PRI on) */
	struct vtd_master *next;
};

/* A second-stage paging domain. */
struct vtd_domain {
	struct iommu_domain domain;
	struct vtd_iommu *v;
	uint16_t did;
	bool nest_parent, dirty_cap;
	bool dirty_on;		   /* SSADE in its PASID entries (under v->lock) */
	pthread_mutex_t lock;	   /* pt (map / unmap / dirty) */
	struct pt_table pt;
	struct vtd_nested *children; /* nested domains on it, under v->lock */
};

/* A guest first stage nested on a paging domain. */
struct vtd_nested {
	struct iommu_domain domain;
	struct vtd_iommu *v;
	uint16_t did;
	struct vtd_domain *s2;
	struct iommu_hwpt_vtd_s1 cfg;
	struct vtd_nested *next; /* on s2->children */
};

extern const struct iommu_domain_ops vtd_paging_ops, vtd_nested_ops;

static inline bool vtd_is_paging(const struct iommu_domain *d)
{
	return d && d->ops == &vtd_paging_ops;
}

static inline bool vtd_is_nested(const struct iommu_domain *d)
{
	return d && d->ops == &vtd_nested_ops;
}

static inline struct vtd_domain *to_vdom(struct iommu_domain *d)
{
	return container_of(d, struct vtd_domain, domain);
}

static inline struct vtd_nested *to_vnest(struct iommu_domain *d)
{
	return container_of(d, struct vtd_nested, domain);
}

static inline struct vtd_master *to_vmaster(struct udev *dev)
{
	return container_of(dev, struct vtd_master, dev);
}

/* vtd_iommu.c */
bool vtd_master_ours(const struct udev *dev);
int vtd_did_alloc(struct vtd_iommu *v);
void vtd_did_free(struct vtd_iommu *v, uint16_t did);
/* Queue @n descriptors and a wait; lock held. 0, or -EIO when the hardware refused one. */
int vtd_qi_submit(struct vtd_iommu *v, const uint64_t (*d)[2], unsigned int n);
/* IOTLB: the range in DID @did (domain-selective when large or @size is 0). Lock held. */
void vtd_flush_iotlb(struct vtd_iommu *v, uint16_t did, uint64_t addr, uint64_t size);
/* PASID-based IOTLB for (@did, @pasid): the range (all when @size is 0). Lock held. */
void vtd_flush_piotlb(struct vtd_iommu *v, uint16_t did, uint32_t pasid, uint64_t addr,
		      uint64_t size, bool leaf);
/* Rewrite the PASID entries of every attachment of @domain (lock held). */
void vtd_reinstall(struct vtd_iommu *v, struct iommu_domain *domain);
/* Attach (@dev, @pasid) to @domain: the PASID entry @domain makes. */
int vtd_attach(struct udev *dev, uint32_t pasid, struct iommu_domain *domain);

/* Wait until no page request report is running (before freeing a domain or a device). */
void vtd_report_barrier(struct vtd_iommu *v);

/* vtd_domain.c */
/* The PASID entry @domain makes (lock held). */
void vtd_make_pe(struct iommu_domain *domain, uint64_t pe[8]);
struct iommu_domain *vtd_domain_alloc_paging(struct udev *dev, uint32_t flags,
					     const struct iommu_user_data *data, int *err);
struct iommu_domain *vtd_domain_alloc_nested(struct udev *dev, struct iommu_domain *parent,
					     uint32_t flags, const struct iommu_user_data *data,
					     int *err);

#endif
