/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/smmuv3/smmuv3_iommu.h - the host "kernel driver" of an SMMUv3
 * model instance: what Linux's arm-smmu-v3 driver is to the hardware, and
 * the driver ops (lib/hw/iommu.h) the iommufd core uses.
 *
 * An instance owns one struct smmuv3 (the hardware model) and programs it
 * only the way a driver does: MMIO registers, a stream table, a command
 * queue and an event queue in host memory, commands followed by CMD_SYNC.
 * Its devices (struct udev with a stream ID) are made here and bound to an
 * iommufd context by the caller with iommufd_device_bind() (the VFIO cdev
 * does the same); they then take HWPTs the usual way.
 *
 * What the ops give the core (reference iommufd.md §4.4-4.10, Linux's
 * arm-smmu-v3.c and arm-smmu-v3-iommufd.c for the errnos):
 *   paging domains   as Linux picks them: stage 1 (VMSAv8-64 stage 1,
 *                    4K granule, 48-bit VA, an ASID, a CD in the device's
 *                    CD table) when the SMMU has stage 1, for flags 0,
 *                    DIRTY_TRACKING (CD.HA/HD, DBM) and PASID; stage 2
 *                    (48-bit IPA, a VMID) for NEST_PARENT, and for flags 0
 *                    on a stage-2-only SMMU; every other combination
 *                    (NEST_PARENT with DIRTY_TRACKING or PASID) EOPNOTSUPP;
 *   PASIDs           a stage-1 domain on a PASID (set_dev_pasid): CD n of
 *                    the device's CD table, S1DSS = SSID0 / terminate for
 *                    the RID; DMA with a PASID carries it as the SSID;
 *   nested domains   only through a vIOMMU, from IOMMU_HWPT_DATA_ARM_SMMUV3
 *                    (the guest's STE words 0-1, checked as Linux's
 *                    arm_smmu_validate_vste does: EIO for any other bit);
 *   vIOMMU           IOMMU_VIOMMU_TYPE_ARM_SMMUV3: raw invalidation
 *                    commands (VMID and SIDs substituted), vDEVICEs (vSID
 *                    -> SID), vEVENTs (stage-1 faults and configuration
 *                    errors of its devices, with the vSID);
 *   GET_HW_INFO      IOMMU_HW_INFO_TYPE_ARM_SMMUV3: IDR0-5, IIDR, AIDR;
 *   IOPF             stall faults go to the attached domain's fault queue
 *                    as page requests (group = STAG); page responses are
 *                    CMD_RESUME; for a PRI-capable (PCIe) device its page
 *                    requests come through the PRI queue (group = PRG
 *                    index, LAST_PAGE from Last) and page responses are
 *                    CMD_PRI_RESP;
 *   ATS              an ATS-capable device has an ATC (smmuv3_ep.h): its
 *                    STE gets EATS = 0b01 (a nested one when the guest's
 *                    vSTE asks for it), its DMA goes through the ATC and
 *                    translation requests, and every unmap of the stage 2
 *                    it uses, and every change of its STE, is followed by
 *                    CMD_ATC_INV + CMD_SYNC;
 *   DMA              dma_translate over smmuv3_translate();
 *   VFIO nesting     without a vIOMMU (the v13 container extension,
 *                    smmuv3_nesting.c): a NEST_PARENT domain takes the
 *                    guest's CD table (attach_pasid_table), its
 *                    invalidations (cache_invalidate -> TLBI_NH_*,
 *                    ATC_INV, CFGI_CD*), its MSI doorbell (bind_guest_msi),
 *                    and reports stage-1 faults to the device's fault
 *                    handler (VFIO's DMA fault ring).
 *
 * MSI: every device with MSIs has the SW_MSI window [0x8000000, +1 MiB)
 * as a reserved region (the core keeps it out of the IOAS), and while it
 * is attached the paging domain its RID translates through maps the
 * instance's doorbell page (the platform's interrupt controller, or one of
 * the driver's own) at the window's start (write-only on stage 2; stage 1
 * has no write-only leaf, so there it reads too): a device's MSI write to
 * that IOVA (or, nested, to a guest IOVA the guest's stage 1 maps to that
 * IPA) lands in the doorbell.
 *
 * Errors: 0 or a negative errno; allocators NULL with *err set.
 */
#ifndef UIOMMU_HW_SMMUV3_IOMMU_H
#define UIOMMU_HW_SMMUV3_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/iommu.h"
#include "hw/smmuv3/smmuv3.h"

/* The SW_MSI window (Linux's MSI_IOVA_BASE / MSI_IOVA_LENGTH) and its doorbell. */
#define SMMUV3_MSI_IOVA_BASE   0x8000000ULL
#define SMMUV3_MSI_IOVA_LENGTH 0x100000ULL

struct smmuv3_iommu;

/* What the driver did with an event record it consumed (struct smmuv3_iommu_params.evt_log). */
enum smmuv3_evt_route {
	SMMUV3_EVT_HOST = 0,	/* nobody's: the host's own (Linux logs it) */
	SMMUV3_EVT_VEVENT,	/* forwarded to the vIOMMU's vEVENTQ */
	SMMUV3_EVT_VEVENT_LOST, /* ... which did not take it */
	SMMUV3_EVT_IOPF,	/* a stall turned into a page request */
	SMMUV3_EVT_IOPF_ABORT,	/* a stall nobody queues: answered RESUME Abort */
	SMMUV3_EVT_DEV_FAULT,	/* given to the device's fault handler (VFIO's DMA FAULT ring) */
	SMMUV3_EVT_DEV_FAULT_LOST, /* ... which refused it (a full ring) */
};

struct smmuv3_iommu_params {
	/* The hardware: defaults plus HTTU and stall. hw.irq is the driver's own. */
	struct smmuv3_params hw;
	unsigned int strtab_log2; /* SIDs the linear stream table covers (capped at SIDSIZE) */
	unsigned int cmdq_log2;	  /* command queue entries (log2, 1..19) */
	unsigned int evtq_log2;	  /* event queue entries (log2, 1..19) */
	unsigned int priq_log2;	  /* PRI queue entries (log2, 1..IDR1.PRIQS), with PRI */
	const char *name;	  /* the iommu_device name (default "smmuv3.<n>") */
	/*
	 * The MSI doorbell: a 4 KiB-aligned host page the platform's interrupt
	 * controller owns (e.g. lib/dev's msi_doorbell_page()), which stays
	 * valid until the instance is freed; NULL: the driver allocates a
	 * plain page of its own.
	 */
	void *msi_page;
	/*
	 * Optional: told of every event record the driver consumes (CPU
	 * order) and where it went, as Linux's driver prints the records it
	 * cannot hand to anybody. Called under the driver's event lock from
	 * whichever thread drains the queue; it must not call into the driver.
	 */
	void (*evt_log)(void *opaque, const uint64_t evt[4], enum smmuv3_evt_route route);
	void *evt_log_opaque;
};

/* Defaults: both stages, HTTU, stall, PRI, ATS, 256 SIDs, 256 commands, 128 events, 64 PPRs. */
void smmuv3_iommu_params_default(struct smmuv3_iommu_params *p);

/*
 * Make the hardware model and bring it up as Linux's probe does (stream
 * table of abort STEs, queues, CFGI_ALL + TLBI_NSNH_ALL, SMMUEN).
 * -EINVAL for bad parameters, -ENOMEM.
 */
int smmuv3_iommu_new(const struct smmuv3_iommu_params *p, struct smmuv3_iommu **out);
/* Disable and free. Every device must have been destroyed. */
void smmuv3_iommu_free(struct smmuv3_iommu *smmu);

struct iommu_device *smmuv3_iommu_device(struct smmuv3_iommu *smmu);
/* The hardware model (for tests and tools that look at registers and caches). */
struct smmuv3 *smmuv3_iommu_hw(struct smmuv3_iommu *smmu);

#define SMMUV3_PRI_ALLOC_DEFAULT 32

struct smmuv3_dev_params {
	uint32_t sid;
	unsigned int ssid_bits; /* PASID width (0: none; at most IDR1.SSIDSIZE) */
	bool can_stall;		/* the device tolerates stalled transactions */
	/*
	 * PCIe ATS (an ATC of atc_entries, default 32) and PRI (needs ATS).
	 * Ignored when the SMMU lacks them; with can_stall -EINVAL (IHI 0070
	 * §3.12.1: stalls are not for PCIe devices).
	 */
	bool ats, pri;
	unsigned int atc_entries;
	/*
	 * The Outstanding Page Request Allocation the driver writes into the
	 * function's PRI capability (page requests it may have outstanding):
	 * 0 for SMMUV3_PRI_ALLOC_DEFAULT; never more than the PRI queue holds.
	 */
	unsigned int pri_alloc;
	bool no_msi;		/* no MSIs: no SW_MSI window, no doorbell mapping */
	bool no_dirty;		/* the device is excluded from dirty tracking */
	bool is_pci;
	const char *name; /* default "smmuv3.<n>:<sid>" */
};

/*
 * A device behind the instance with stream ID p->sid, blocked (abort STE).
 * NULL with *err: -EINVAL (SID beyond the stream table, SSID bits beyond
 * SSIDSIZE), -EEXIST (SID taken), -ENOMEM.
 */
struct udev *smmuv3_iommu_dev_create(struct smmuv3_iommu *smmu, const struct smmuv3_dev_params *p,
				     int *err);
/*
 * Unplug (after the core unbound it, and after the device's own DMA has
 * stopped): blocked, stalled transactions terminated, freed.
 */
void smmuv3_iommu_dev_destroy(struct udev *dev);
bool smmuv3_iommu_dev_is_ours(const struct udev *dev);

/* The STE of @sid as the driver last wrote it (little-endian qwords as in memory). */
int smmuv3_iommu_read_ste(struct smmuv3_iommu *smmu, uint32_t sid, uint64_t ste[8]);

/*
 * Consume the event queue: forward what belongs to a vIOMMU or a fault
 * queue, count the rest. dma_translate does this after every fault it
 * meets; anything else that makes the model record events (a direct
 * smmuv3_translate) calls it.
 */
void smmuv3_iommu_process_events(struct smmuv3_iommu *smmu);
/* Consume the PRI queue: page requests to the attached domain's fault queue (or answered). */
void smmuv3_iommu_process_priq(struct smmuv3_iommu *smmu);
/* The ATS / PRI endpoint of a device made with ats (NULL otherwise), for tests. */
struct smmuv3_ep *smmuv3_iommu_dev_ep(struct udev *dev);

/* The doorbell page (4 KiB, host memory) and the IOVA it is mapped at. */
void *smmuv3_iommu_msi_doorbell(struct smmuv3_iommu *smmu, uint64_t *iova);

/*
 * The VMID of a paging domain (0 for a stage 1, whose streams carry VMID
 * 0) or of a nested domain's parent; -EINVAL if not ours.
 */
int smmuv3_iommu_domain_vmid(const struct iommu_domain *domain);
/* The ASID of a stage-1 paging domain; -EINVAL for anything else. */
int smmuv3_iommu_domain_asid(const struct iommu_domain *domain);
/*
 * CD @ssid of @dev's CD table as the driver last wrote it (CPU order);
 * -ENOENT when the device has no table or no L2 table holds @ssid yet,
 * -EINVAL when not ours.
 */
int smmuv3_iommu_read_cd(struct udev *dev, uint32_t ssid, uint64_t cd[8]);

struct smmuv3_iommu_stats {
	uint64_t cmds;		 /* commands issued (CMD_SYNCs included) */
	uint64_t cmd_errors;	 /* commands the hardware refused (CMDQ_ERR) */
	uint64_t events;	 /* event records consumed */
	uint64_t evtq_overflows; /* EVENTQ_PROD.OVFLG seen */
	uint64_t vevents;	 /* records forwarded to a vIOMMU */
	uint64_t vevents_lost;	 /* ... that the vIOMMU did not take */
	uint64_t iopfs;		 /* stall records given to a fault queue */
	uint64_t iopf_aborts;	 /* stall records nobody took (answered RESUME Abort) */
	uint64_t unhandled;	 /* records for nobody (host faults: logged only) */
	uint64_t dev_faults;	 /* records given to a device's fault handler (VFIO nested) */
	uint64_t dev_faults_lost; /* ... that it refused (its ring was full) */
	uint64_t pprs;		 /* PRI queue records consumed */
	uint64_t priq_overflows; /* PRIQ_PROD.OVFLG seen */
	uint64_t pri_iopfs;	 /* page requests given to a fault queue */
	uint64_t pri_denied;	 /* page requests nobody took (answered Invalid Request) */
	uint64_t atc_invs;	 /* CMD_ATC_INV issued */
};
void smmuv3_iommu_get_stats(struct smmuv3_iommu *smmu, struct smmuv3_iommu_stats *st);

#endif
