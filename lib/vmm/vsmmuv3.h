/* SPDX-License-Identifier: MIT */
/*
 * lib/vmm/vsmmuv3.h - a guest-visible SMMUv3 (a vSMMU front end), as a
 * VMM offering an accelerated SMMUv3 to its guest implements it.
 *
 * The guest's SMMUv3 driver programs registers (vsmmuv3_mmio_read/write:
 * the VMM forwards the trapped accesses of the vSMMU's MMIO frame) and
 * structures in its own RAM (stream table, command queue, event queue);
 * the front end turns them into iommufd calls on the host: a vIOMMU on the
 * stage-2 nesting parent, a vDEVICE per endpoint (vSID = the guest's SID),
 * nested HWPTs from the guest's STE words, raw invalidation commands
 * (IOMMU_HWPT_INVALIDATE on the vIOMMU), and a vEVENTQ whose records
 * become entries of the guest's event queue. See doc/vsmmu.md for the
 * order of calls and what the guest sees where the architecture leaves a
 * choice.
 *
 * Only the public API is used: uiommu_ioctl()/uiommu_read()/uiommu_close()
 * on the iommufd and the endpoints' VFIO cdevs (or a VMM's attach hook).
 *
 * Threads: not thread-safe. The VMM calls every function of one instance
 * from one thread, or under its own lock (as a VMM serialises a device's
 * MMIO handlers with its event pump).
 *
 * Errors: guest mistakes are never errors of these functions: they become
 * what the architecture says (GERROR bits, CMDQ_CONS.ERR, event records).
 * A negative errno is the host's refusal (out of memory, an ioctl the
 * kernel failed that a guest cannot cause), for the VMM to report.
 */
#ifndef UIOMMU_VMM_VSMMUV3_H
#define UIOMMU_VMM_VSMMUV3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

struct uiommu_file;
struct vsmmuv3;

#define VSMMUV3_MMIO_SIZE  0x20000u /* two 64 KiB pages */
#define VSMMUV3_MAX_EPS	   64u
#define VSMMUV3_SIDSIZE	   16u /* vSIDs are 16 bits */
#define VSMMUV3_QUEUE_LOG2 19u /* CMDQS / EVENTQS advertised */

/* Register offsets (page 0; EVENTQ_PROD/CONS and PRIQ_PROD/CONS also at + 0x10000). */
enum {
	VSMMUV3_IDR0 = 0x00,
	VSMMUV3_IDR1 = 0x04,
	VSMMUV3_IDR2 = 0x08,
	VSMMUV3_IDR3 = 0x0c,
	VSMMUV3_IDR4 = 0x10,
	VSMMUV3_IDR5 = 0x14,
	VSMMUV3_IIDR = 0x18,
	VSMMUV3_AIDR = 0x1c,
	VSMMUV3_CR0 = 0x20,
	VSMMUV3_CR0ACK = 0x24,
	VSMMUV3_CR1 = 0x28,
	VSMMUV3_CR2 = 0x2c,
	VSMMUV3_STATUSR = 0x40,
	VSMMUV3_GBPA = 0x44,
	VSMMUV3_AGBPA = 0x48,
	VSMMUV3_IRQ_CTRL = 0x50,
	VSMMUV3_IRQ_CTRLACK = 0x54,
	VSMMUV3_GERROR = 0x60,
	VSMMUV3_GERRORN = 0x64,
	VSMMUV3_GERROR_IRQ_CFG0 = 0x68, /* 64 bits */
	VSMMUV3_GERROR_IRQ_CFG1 = 0x70,
	VSMMUV3_GERROR_IRQ_CFG2 = 0x74,
	VSMMUV3_STRTAB_BASE = 0x80, /* 64 bits */
	VSMMUV3_STRTAB_BASE_CFG = 0x88,
	VSMMUV3_CMDQ_BASE = 0x90, /* 64 bits */
	VSMMUV3_CMDQ_PROD = 0x98,
	VSMMUV3_CMDQ_CONS = 0x9c,
	VSMMUV3_EVENTQ_BASE = 0xa0, /* 64 bits */
	VSMMUV3_EVENTQ_PROD = 0xa8,
	VSMMUV3_EVENTQ_CONS = 0xac,
	VSMMUV3_EVENTQ_IRQ_CFG0 = 0xb0, /* 64 bits */
	VSMMUV3_EVENTQ_IRQ_CFG1 = 0xb8,
	VSMMUV3_EVENTQ_IRQ_CFG2 = 0xbc,
	VSMMUV3_PRIQ_BASE = 0xc0, /* 64 bits */
	VSMMUV3_PRIQ_PROD = 0xc8,
	VSMMUV3_PRIQ_CONS = 0xcc,
	VSMMUV3_PRIQ_IRQ_CFG0 = 0xd0, /* 64 bits */
	VSMMUV3_PRIQ_IRQ_CFG1 = 0xd8,
	VSMMUV3_PRIQ_IRQ_CFG2 = 0xdc,
	VSMMUV3_PAGE1 = 0x10000,
};

/* Register fields a guest driver (and a test playing one) uses. */
#define VSMMUV3_CR0_SMMUEN	    (1u << 0)
#define VSMMUV3_CR0_PRIQEN	    (1u << 1)
#define VSMMUV3_CR0_EVENTQEN	    (1u << 2)
#define VSMMUV3_CR0_CMDQEN	    (1u << 3)
#define VSMMUV3_GBPA_ABORT	    (1u << 20)
#define VSMMUV3_GBPA_UPDATE	    (1u << 31)
#define VSMMUV3_IRQ_GERROR	    (1u << 0)
#define VSMMUV3_IRQ_PRIQ	    (1u << 1)
#define VSMMUV3_IRQ_EVENTQ	    (1u << 2)
#define VSMMUV3_GERROR_CMDQ	    (1u << 0)
#define VSMMUV3_GERROR_EVTQ_ABT	    (1u << 2)
#define VSMMUV3_GERROR_PRIQ_ABT	    (1u << 3)
#define VSMMUV3_GERROR_MSI_CMDQ_ABT (1u << 4)
#define VSMMUV3_GERROR_MSI_EVTQ_ABT (1u << 5)
#define VSMMUV3_GERROR_MSI_PRIQ_ABT (1u << 6)
#define VSMMUV3_GERROR_MSI_GERR_ABT (1u << 7)
#define VSMMUV3_STRTAB_FMT_LINEAR   (0u << 16)
#define VSMMUV3_STRTAB_FMT_2LVL	    (1u << 16)
#define VSMMUV3_STRTAB_SPLIT(s)	    ((uint32_t)(s) << 6)
#define VSMMUV3_Q_OVFLG		    (1u << 31) /* EVENTQ_PROD.OVFLG, EVENTQ_CONS.OVACKFLG */
#define VSMMUV3_CONS_ERR(c)	    (((c) >> 24) & 0x7f)
#define VSMMUV3_CERROR_NONE	    0u
#define VSMMUV3_CERROR_ILL	    1u
#define VSMMUV3_CERROR_ABT	    2u

/* The interrupts the vSMMU raises (wired lines, when no MSI address is programmed). */
enum vsmmuv3_irq {
	VSMMUV3_IRQ_LINE_EVENTQ,
	VSMMUV3_IRQ_LINE_CMD_SYNC,
	VSMMUV3_IRQ_LINE_GERROR,
	VSMMUV3_IRQ_LINE_PRIQ,
};

/* An endpoint: a device bound to the iommufd that the guest sees as stream @vsid. */
struct vsmmuv3_endpoint {
	uint32_t vsid;	 /* the guest's StreamID (< 2^VSMMUV3_SIDSIZE) */
	uint32_t dev_id; /* its iommufd device ID (VFIO_DEVICE_BIND_IOMMUFD) */
	/*
	 * Its VFIO cdev, bound to the iommufd: HWPTs are attached with
	 * VFIO_DEVICE_ATTACH_IOMMUFD_PT (and DETACH at the end). NULL: use
	 * vsmmuv3_params.attach.
	 */
	struct uiommu_file *cdev;
	/*
	 * What the guest's firmware and the device's PCI capabilities say (the
	 * VMM builds both): @can_stall, the device tolerates stalled
	 * transactions (IORT / DT "dma-can-stall"); @pri, it has an enabled
	 * PRI capability (and ATS). They decide whether the nested HWPT of a
	 * guest STE asking for stalls or ATS gets the host fault queue.
	 */
	bool can_stall, pri;
};

struct vsmmuv3_params {
	struct uiommu_file *iommufd;
	uint32_t s2_hwpt; /* the NEST_PARENT stage 2 (GPA -> host), on the guest RAM's IOAS */
	struct guest_mem *gm;
	const struct vsmmuv3_endpoint *eps;
	unsigned int nr_eps;	/* 1..VSMMUV3_MAX_EPS */
	uint32_t veventq_depth; /* 0: 64 */
	/* GBPA.ABORT at reset (the architecture leaves it to the implementation). */
	bool gbpa_bypass_at_reset;
	/*
	 * The VMM's hooks (all optional; @opaque is theirs). irq: a wired line
	 * pulses. msi: an MSI write to @addr that is not guest RAM (the
	 * interrupt controller's doorbell); 0, or -errno: the vSMMU's MSI
	 * abort (GERROR.MSI_*_ABT_ERR). attach: attach HWPT @pt_id to endpoint
	 * @ep (@pt_id 0: detach) when it has no cdev; 0 or -errno.
	 */
	void (*irq)(void *opaque, enum vsmmuv3_irq line);
	int (*msi)(void *opaque, uint64_t addr, uint32_t data);
	int (*attach)(void *opaque, unsigned int ep, uint32_t pt_id);
	void *opaque;
};

/*
 * Create the vSMMU: GET_HW_INFO (the host's IDRs, from endpoint 0),
 * VIOMMU_ALLOC on @s2_hwpt, a VDEVICE per endpoint, the abort and bypass
 * nested HWPTs, and every endpoint attached per GBPA (SMMUEN is 0 at
 * reset). 0 and *out, or -errno with everything undone: -EINVAL (no
 * endpoints, too many, a vSID too wide or twice), -EOPNOTSUPP (the host
 * SMMU lacks something the front end needs: stage 1 + stage 2, AArch64
 * tables, little endian), the ioctls' errnos, -ENOMEM.
 */
int vsmmuv3_create(const struct vsmmuv3_params *p, struct vsmmuv3 **out);
/*
 * Undo everything: endpoints detached (or given to the attach hook as 0),
 * nested HWPTs, vDEVICEs, the vEVENTQ and the vIOMMU destroyed. NULL is a
 * no-op.
 */
void vsmmuv3_destroy(struct vsmmuv3 *v);

/*
 * A guest access at @off (< VSMMUV3_MMIO_SIZE) of @size 4 or 8 bytes,
 * naturally aligned: 0, or -EINVAL for an access the architecture makes
 * an external abort (the VMM injects one): a bad size or alignment, an
 * offset outside the frame, a 64-bit access to a 32-bit register. Offsets
 * the front end does not implement read as zero and ignore writes.
 * Writes run their effects synchronously (CMDQ_PROD consumes the queue,
 * CR0 enables, GBPA updates), so a negative errno from a write is the
 * host's failure, as for vsmmuv3_poll_events().
 */
int vsmmuv3_mmio_read(struct vsmmuv3 *v, uint64_t off, unsigned int size, uint64_t *val);
int vsmmuv3_mmio_write(struct vsmmuv3 *v, uint64_t off, unsigned int size, uint64_t val);

/*
 * The event pump: move the vEVENTQ's records into the guest's event queue
 * (honouring its PROD/CONS, wrap and OVFLG), and the fault queue's page
 * requests into the guest's event queue (stalls) or PRI queue, and raise
 * their interrupts. The number of records written to the guest's queues
 * (>= 0) or -errno. Call it when vsmmuv3_event_fd() or vsmmuv3_fault_fd()
 * is readable (poll()), or after DMA.
 */
int vsmmuv3_poll_events(struct vsmmuv3 *v);
/* The vEVENTQ's fd (poll() it for POLLIN), -1 until the guest enabled its event queue. */
int vsmmuv3_event_fd(const struct vsmmuv3 *v);
/*
 * The host fault queue's fd (POLLIN: page requests for the pump), -1
 * until a guest STE asked for stalls or PRI of an endpoint that can.
 */
int vsmmuv3_fault_fd(const struct vsmmuv3 *v);

/* For a VMM's monitor and tests: counters. */
struct vsmmuv3_stats {
	uint64_t cmds;	      /* commands consumed */
	uint64_t forwarded;   /* commands forwarded through IOMMU_HWPT_INVALIDATE */
	uint64_t invalidates; /* IOMMU_HWPT_INVALIDATE calls */
	uint64_t ste_updates; /* nested HWPTs allocated from guest STEs */
	uint64_t events;      /* records written to the guest's event queue */
	uint64_t events_lost; /* records dropped (queue full, disabled, LOST_EVENTS) */
	uint64_t page_reqs;   /* page requests read from the host fault queue */
	uint64_t stalls;      /* of them, stall records written to the guest's event queue */
	uint64_t pri_reqs;    /* of them, records written to the guest's PRI queue */
	uint64_t page_resps;  /* page responses written to the fault queue (guest's or automatic) */
};
void vsmmuv3_get_stats(const struct vsmmuv3 *v, struct vsmmuv3_stats *st);
/* The host HWPT endpoint @ep is attached to now (0: none), for tests. */
uint32_t vsmmuv3_ep_hwpt(const struct vsmmuv3 *v, unsigned int ep);
/* The vIOMMU's object ID. */
uint32_t vsmmuv3_viommu_id(const struct vsmmuv3 *v);

#endif
