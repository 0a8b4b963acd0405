/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/vtd/vtd_iommu.h - the host "kernel driver" of a VT-d model
 * instance: what Linux's intel-iommu driver is to the hardware, and the
 * driver ops (lib/hw/iommu.h) the iommufd core uses.
 *
 * An instance owns one struct vtd (the hardware model) and programs it
 * only the way a driver does: MMIO registers, a scalable-mode root table,
 * context tables, PASID directories and PASID tables in host memory, and
 * invalidation descriptors on the queue, each batch ending with a wait
 * descriptor whose status write says it completed. Its devices (struct
 * udev with a requester id) are made here and bound to an iommufd context
 * by the caller with iommufd_device_bind(); they then take HWPTs the usual
 * way.
 *
 * What the ops give the core (reference iommufd.md §4, Linux's
 * drivers/iommu/intel/{iommu.c,nested.c,pasid.c} for the errnos):
 *   paging domains   second stage (4-level, 48-bit) with a DID of their
 *                    own; NEST_PARENT (needs ECAP.NEST), DIRTY_TRACKING
 *                    through second-stage A/D (needs ECAP.SLADS), PASID;
 *   nested domains   from IOMMU_HWPT_DATA_VTD_S1 on a NEST_PARENT paging
 *                    domain: a guest first stage (PGTT nested) with a DID
 *                    of its own; IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
 *   PASIDs           RID and PASID attach of both kinds (RID_PASID 0);
 *   GET_HW_INFO      IOMMU_HW_INFO_TYPE_INTEL_VTD: CAP and ECAP;
 *   DMA              dma_translate over vtd_translate(); the fault
 *                    recording registers are drained after each fault.
 *   IOPF             HWPTs with a fault queue on PRI devices (ENODEV on
 *                    others, Linux's intel_iommu_enable_iopf): page
 *                    requests with a PASID to the fault queue, page
 *                    responses as page group response descriptors;
 * Not offered: vIOMMU objects,
 * the VFIO v13 nesting extension, MSIs through the IOMMU (every device
 * has the interrupt window 0xFEE00000-0xFEEFFFFF as a reserved region).
 */
#ifndef UIOMMU_HW_VTD_IOMMU_H
#define UIOMMU_HW_VTD_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/iommu.h"
#include "hw/vtd/vtd.h"

#define VTD_MSI_IOVA_BASE 0xfee00000ULL
#define VTD_MSI_IOVA_LAST 0xfeefffffULL
/*
 * The flag Linux's VT-d driver adds to a page request with PASID
 * (IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID, bit 2 in 6.12), which reaches
 * the fault fd's iommu_hwpt_pgfault.flags unfiltered.
 */
#define VTD_IOPF_NEEDS_PASID (1u << 2)

struct vtd_iommu;

struct vtd_iommu_params {
	struct vtd_params hw; /* hw.irq is the driver's own */
	const char *name;     /* the iommu_device name (default "dmar<n>") */
};

/* Defaults: the model's defaults (all translation types, SS A/D, 20-bit PASIDs). */
void vtd_iommu_params_default(struct vtd_iommu_params *p);

/*
 * Make the hardware model and bring it up as Linux's probe does: root
 * table (scalable mode), SRTP, the invalidation queue (QIE), global
 * context / PASID / IOTLB invalidation, TE. -EINVAL, -ENOMEM.
 */
int vtd_iommu_new(const struct vtd_iommu_params *p, struct vtd_iommu **out);
/* Disable and free. Every device must have been destroyed. */
void vtd_iommu_free(struct vtd_iommu *v);

struct iommu_device *vtd_iommu_device(struct vtd_iommu *v);
struct vtd *vtd_iommu_hw(struct vtd_iommu *v);

#define VTD_PRI_ALLOC_DEFAULT 32

struct vtd_dev_params {
	uint16_t sid;		 /* requester id: bus [15:8], devfn [7:0] */
	unsigned int pasid_bits; /* PASID width (0: none; at most ECAP.PSS + 1) */
	bool no_dirty;		 /* the device is excluded from dirty tracking */
	bool is_pci;
	/*
	 * PCIe ATS (an ATC of atc_entries, default 64) and PRI (needs ats).
	 * The driver uses ATS when the unit has device TLBs (ECAP.DT) and the
	 * device is PCI, and PRI (IOPF) when the unit also has PRS + PDS.
	 */
	bool ats, pri;
	unsigned int atc_entries;
	/*
	 * The Outstanding Page Request Allocation the driver writes (page
	 * requests the function may have outstanding): 0 for
	 * VTD_PRI_ALLOC_DEFAULT; never more than the page request queue holds.
	 */
	unsigned int pri_alloc;
	const char *name; /* default "dmar<n>:<sid>" */
};

/*
 * A device behind the instance, blocked (context entry present, PASID
 * entries not). NULL with *err: -EINVAL (PASID bits beyond ECAP.PSS),
 * -EEXIST (SID taken), -ENOMEM.
 */
struct udev *vtd_iommu_dev_create(struct vtd_iommu *v, const struct vtd_dev_params *p, int *err);
/* Unplug (after the core unbound it and its DMA stopped): context entry cleared, freed. */
void vtd_iommu_dev_destroy(struct udev *dev);
bool vtd_iommu_dev_is_ours(const struct udev *dev);

/* The PASID entry of (@dev, @pasid) as the driver last wrote it; -ENOENT without a table. */
int vtd_iommu_read_pasid_entry(struct udev *dev, uint32_t pasid, uint64_t pe[8]);

/* The DID of a paging or nested domain; -EINVAL if not ours. */
int vtd_iommu_domain_did(const struct iommu_domain *domain);

/*
 * Consume the fault recording registers (and PFO), as the driver's fault
 * interrupt handler does: each record is counted, passed to the optional
 * @log (CPU order: [0] low qword, [1] high) and freed. dma_translate does
 * this after every fault it meets.
 */
void vtd_iommu_process_faults(struct vtd_iommu *v,
			      void (*log)(void *opaque, const uint64_t rec[2]), void *opaque);

/* The device's endpoint (ATC, PRI), or NULL without ATS. */
struct vtd_ep *vtd_iommu_dev_ep(struct udev *dev);

/*
 * Consume the page request queue, as Linux's prq_event_thread does: each
 * request goes to the fault queue of the domain its PASID is attached to
 * (the core's sink); one without PASID, in privileged mode with read or
 * write, or an execute read, is answered Invalid Request (when it ends its
 * group) and not reported, as is one nobody takes; stop markers are
 * dropped. dma_translate runs this after each page request it sends.
 */
void vtd_iommu_process_prq(struct vtd_iommu *v);

struct vtd_iommu_stats {
	uint64_t descs;	     /* invalidation descriptors issued (waits included) */
	uint64_t qi_errors;  /* descriptors the hardware refused (IQE) */
	uint64_t faults;     /* fault records consumed */
	uint64_t overflows;  /* PFO seen */
	uint64_t prq_reqs;   /* page request descriptors consumed */
	uint64_t iopfs;	     /* page requests given to a fault queue */
	uint64_t prq_denied; /* page requests answered Invalid Request by the driver */
	uint64_t prq_overflows; /* PRO seen */
};
void vtd_iommu_get_stats(struct vtd_iommu *v, struct vtd_iommu_stats *st);

#endif
