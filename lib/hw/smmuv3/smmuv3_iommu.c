// SPDX-License-Identifier: MIT
/*
 * smmuv3_iommu.c - the SMMUv3 driver: one hardware instance as a driver
 * sees it, its devices and what they are attached to, its queues, its
 * events, and the DMA path.
 *
 * What it owns. The structures a driver keeps in memory for the SMMU and
 * the registers that point at them: a linear stream table (every STE an
 * abort STE until a device attaches), a command queue and an event queue,
 * all host memory that the model reads through the identity port
 * (pt_mem_host: a physical address is a host address). Probe follows
 * Linux's arm_smmu_device_reset(): everything off, GBPA abort, tables and
 * queues programmed, CMDQEN, CFGI_ALL + TLBI_NSNH_ALL + SYNC, EVENTQEN,
 * interrupts, SMMUEN. From then on the driver talks to the hardware only
 * through MMIO and memory.
 *
 * Commands (smmuv3_cmdq_issue): written at CMDQ_PROD in batches that end
 * with a CMD_SYNC; one PROD write per batch. The model consumes
 * synchronously, so when the write returns CONS has caught up, or stopped
 * at a command the hardware refused (GERROR.CMDQ_ERR). The driver then
 * does what Linux's GERROR handler does (overwrite the bad slot with a
 * CMD_SYNC, acknowledge) and, unlike Linux, tells the caller which command
 * it was: a vIOMMU invalidation reports it in entry_num.
 *
 * STEs (smmuv3_install_ste): an STE in use is never rewritten in place.
 * When the old one translates, qword 0 first becomes an abort STE and
 * CFGI_STE + SYNC make every later transaction see it; then qwords 1-7,
 * then qword 0, then CFGI_STE + SYNC again. A transaction during the
 * update is aborted without an event, never translated through a mix of
 * two STEs (Linux's "hitless" updates are a refinement this model does not
 * need: nothing in it observes the abort window but a racing DMA).
 *
 * Events (smmuv3_iommu_process_events), in order, under evtq_lock: the
 * record's SID names a device; a stalled fault (Stall = 1) becomes a page
 * request (group = STAG, LAST_PAGE, PASID_VALID with SSV) for the sink of
 * the domain the device is attached to, and when nobody takes it the
 * driver answers RESUME Abort at once; a stage-1 fault or configuration
 * error of a device nested on a vIOMMU with a vDEVICE goes to the vIOMMU
 * as an IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 record with the vSID in place of the
 * SID (Linux's arm_vmaster_report_event, the same eight event types);
 * the rest are host events, counted. Every record, with where it went,
 * also goes to the optional event log (params.evt_log), the driver's
 * kernel log. The interrupt line is not the
 * trigger (the model raises it with its lock held, when no register can
 * be read): dma_translate drains after every fault it meets, and whoever
 * else makes the model record events calls smmuv3_iommu_process_events().
 *
 * ATS and PRI. A device made with ats has an endpoint (smmuv3_ep.h): its
 * ATC and its page request groups. The driver plays the Root Complex for
 * the model's ATS port (PRG responses and ATS invalidations go to the
 * endpoint of the SID). Its STE has EATS = 0b01; its DMA goes through
 * smmuv3_ep_translate(): the ATC, else a translation request, else (pri)
 * a page request into the PRI queue. The PRI queue (probed from IDR0.PRI,
 * enabled with its interrupt after the event queue, as Linux does) is
 * drained like the event queue, by the DMA path that sent the request:
 * a record becomes a page request for the sink of the attached domain
 * (group = PRG index, LAST_PAGE from Last, PASID_VALID from SSV, the
 * permissions from its bits), and one nobody takes is answered Invalid
 * Request when it ends its group; after an overflow (OVFLG) the devices'
 * partial groups are dropped from the fault queues before the CONS write
 * acknowledges it, since the SMMU answered their lost Last requests. A
 * device's group has a request per faulting page of its access, at most
 * its Outstanding Page Request Allocation, which the driver writes no
 * larger than the PRI queue. The page response is CMD_PRI_RESP
 * (SUCCESS: Success; else Invalid Request). The DMA thread waits for the
 * endpoint's response outside the epoch section, as for a stall. Every
 * unmap of a stage 2 ends with CMD_ATC_INV of the range to each ATS device
 * on it, after the TLBI's SYNC (IHI 0070 §4.5.1), and every STE change of
 * an ATS device with CMD_ATC_INV of everything. Linux 6.12's driver logs
 * and denies PRI requests; this one routes them as VT-d's does, which is
 * where Linux is going.
 *
 * DMA (dma_translate): one smmuv3_translate() per piece. A stall drains
 * the event queue (so the page request reaches its fault queue), then
 * waits in smmuv3_stall_wait() for the RESUME that the page response
 * issues, and translates again on Retry. Both happen outside the epoch
 * read-side section iommu_dma_rw() runs the op in (left and entered
 * again; the section protects nothing while no translation is held).
 *
 * Attach. A device's RID is attached to one domain or blocked, and each
 * of its PASIDs to a stage-1 domain (smmuv3_cd.c). The STE comes from
 * the domain (smmuv3_domain.c): a stage 1 is CD 0 of the device's CD
 * table and a CD-table STE (S1DSS = SSID0), which a blocked RID with
 * PASIDs keeps with S1DSS = terminate; the paging domain the RID
 * translates through holds the doorbell mapping for it while it is
 * attached (the mapping is made on the first device and removed after
 * the last). A paging domain with a fault queue (the core's sink) on a
 * device that can stall gets CD.S (stage 1) or STE.S2S (stage 2): its
 * faults become page requests, for the RID's domain or, with SSV, the
 * PASID's. With STALL_MODEL 0b10 (stall forced) every CD has S and every
 * stage-2 STE S2S, as Linux's ARM_SMMU_FEAT_STALL_FORCE makes every
 * master stall_enabled; a fault of a domain without a fault queue is then
 * answered RESUME Abort at once.
 *
 * Locks, outermost first: the core's (idev->lock, vIOMMU lock) around
 * attach; evtq_lock or priq_lock; report_lock (read while an event is delivered; write
 * by whoever frees a domain, a vIOMMU or a device, so a delivery never
 * reaches freed memory); the core's fault / vEVENTQ locks inside the
 * delivery; master->lock, s2->lock and smmu->lock are leaves except that
 * master->lock is held across s2->lock (doorbell), a domain's users_lock
 * (PASIDs of ATS devices) and cmdq_lock (STE, CD);
 * cmdq_lock is innermost (it takes the model's lock through MMIO). The
 * ATS port callbacks run under the model's lock and take ats_lock, then
 * the endpoint's lock: both leaves.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_drv.h"
#include "hw/smmuv3/smmuv3_priv.h"
#include "util/alloc.h"
#include "util/epoch.h"
#include "util/log.h"
#include "util/trace.h"

static unsigned int smmuv3_instances;

void smmuv3_iommu_params_default(struct smmuv3_iommu_params *p)
{
	memset(p, 0, sizeof(*p));
	smmuv3_params_default(&p->hw);
	p->hw.httu = true;
	p->hw.stall = true;
	p->hw.pri = true;
	p->hw.ats = true;
	p->strtab_log2 = 8;
	p->cmdq_log2 = 8;
	p->evtq_log2 = 7;
	p->priq_log2 = 6;
}

/* ---------------------------------------------------------------------- */
/* Registers                                                              */

static uint32_t rd32(struct smmuv3_iommu *smmu, uint32_t off)
{
	uint64_t v = 0;

	smmuv3_mmio_read(smmu->hw, off, 4, &v);
	return (uint32_t)v;
}

static void wr32(struct smmuv3_iommu *smmu, uint32_t off, uint32_t v)
{
	smmuv3_mmio_write(smmu->hw, off, 4, v);
}

static void wr64(struct smmuv3_iommu *smmu, uint32_t off, uint64_t v)
{
	smmuv3_mmio_write(smmu->hw, off, 8, v);
}

/* The wired interrupt: called with the model's lock held; events are drained elsewhere. */
static void smmuv3_drv_irq(void *opaque, enum smmuv3_irq line)
{
	(void)opaque;
	(void)line;
}

/*
 * The platform's Root Complex: ATS-port messages to the endpoint of a SID.
 * Called with the model's lock held; ats_lock is a leaf under it, and a
 * device leaves ats[] under it before its endpoint is freed.
 */
static void smmuv3_drv_prg_resp(void *opaque, const struct smmuv3_prg_resp *r)
{
	struct smmuv3_iommu *smmu = opaque;

	if (!smmu->ats_slots || r->sid >> smmu->sid_bits)
		return;
	pthread_mutex_lock(&smmu->ats_lock);
	if (smmu->ats_slots[r->sid].ep)
		smmuv3_ep_prg_resp(smmu->ats_slots[r->sid].ep, r);
	pthread_mutex_unlock(&smmu->ats_lock);
}

static int smmuv3_drv_atc_inv(void *opaque, const struct smmuv3_atc_inv *inv)
{
	struct smmuv3_iommu *smmu = opaque;

	if (!smmu->ats_slots || inv->sid >> smmu->sid_bits)
		return 0;
	pthread_mutex_lock(&smmu->ats_lock);
	if (smmu->ats_slots[inv->sid].ep)
		smmuv3_ep_atc_inv(smmu->ats_slots[inv->sid].ep, inv);
	pthread_mutex_unlock(&smmu->ats_lock);
	return 0; /* no function at the SID: an Unsupported Request, not a timeout */
}

/* ---------------------------------------------------------------------- */
/* Command queue                                                          */

#define CMDQ_SPIN_LIMIT 1000000u

static void cmd_sync(uint64_t cmd[2])
{
	cmd[0] = SMMU_CMD_SYNC; /* CS = SIG_NONE: completion is CONS passing it */
	cmd[1] = 0;
}

/*
 * Write @n commands (n < queue size) at PROD and move PROD past them. 0
 * when CONS caught up; -EIO with *bad the index (0-based in this batch)
 * of the command the hardware stopped at. cmdq_lock held.
 */
static int cmdq_submit(struct smmuv3_iommu *smmu, uint64_t (*cmds)[2], unsigned int n,
		       unsigned int *bad)
{
	uint32_t size = 1u << smmu->cmdq_log2, mask = (size << 1) - 1, start = smmu->cmdq_prod;
	uint32_t cons = 0;
	unsigned int spins = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t idx = (start + i) & (size - 1);

		trace_smmu_cmd(smmu->name, (unsigned int)(cmds[i][0] & 0xff), cmds[i][0],
			       cmds[i][1]);
		__atomic_store_n(&smmu->cmdq[idx * 2], htole64(cmds[i][0]), __ATOMIC_RELAXED);
		__atomic_store_n(&smmu->cmdq[idx * 2 + 1], htole64(cmds[i][1]), __ATOMIC_RELAXED);
	}
	smmu->cmdq_prod = (start + n) & mask;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr32(smmu, SMMU_CMDQ_PROD, smmu->cmdq_prod);
	stat_add(&smmu->stats.cmds, n);
	for (;;) {
		cons = rd32(smmu, SMMU_CMDQ_CONS);
		if ((cons & mask) == smmu->cmdq_prod)
			return 0;
		if ((rd32(smmu, SMMU_GERROR) ^ rd32(smmu, SMMU_GERRORN)) & SMMU_GERROR_CMDQ_ERR)
			break;
		if (++spins > CMDQ_SPIN_LIMIT) {
			/* A hardware that never consumes: nothing the driver can do but say so. */
			ulog_warn("%s: command queue stuck (cons 0x%x prod 0x%x)", smmu->name, cons,
				  smmu->cmdq_prod);
			*bad = 0;
			return -ETIMEDOUT;
		}
	}
	/*
	 * CMDQ_ERR: CONS is at the refused command. Like Linux, overwrite it
	 * with a CMD_SYNC and acknowledge; unlike Linux, the rest of the batch
	 * too, so that "the commands before it" is exactly what took effect.
	 */
	*bad = ((cons & mask) - start) & mask;
	trace_smmu_cmd_error(smmu->name, *bad,
			     (cons & SMMU_CMDQ_CONS_ERR_MASK) >> SMMU_CMDQ_CONS_ERR_SHIFT);
	for (unsigned int i = *bad; i < n; i++) {
		uint32_t idx = (start + i) & (size - 1);
		uint64_t sync[2];

		cmd_sync(sync);
		__atomic_store_n(&smmu->cmdq[idx * 2], htole64(sync[0]), __ATOMIC_RELAXED);
		__atomic_store_n(&smmu->cmdq[idx * 2 + 1], htole64(sync[1]), __ATOMIC_RELAXED);
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr32(smmu, SMMU_GERRORN, rd32(smmu, SMMU_GERROR));
	stat_add(&smmu->stats.cmd_errors, 1);
	return -EIO;
}

int smmuv3_cmdq_issue(struct smmuv3_iommu *smmu, const uint64_t (*cmds)[2], unsigned int n,
		      unsigned int *done)
{
	/* Room for a batch and its SYNC, on the stack. */
	enum { BATCH = 63 };
	uint32_t qsize = 1u << smmu->cmdq_log2;
	unsigned int per = MIN((unsigned int)BATCH, qsize - 1), i = 0;
	uint64_t batch[BATCH + 1][2];
	int ret = 0;

	pthread_mutex_lock(&smmu->cmdq_lock);
	do {
		unsigned int k = MIN(per, n - i), bad = 0;

		memcpy(batch, cmds + i, (size_t)k * sizeof(batch[0]));
		cmd_sync(batch[k]);
		ret = cmdq_submit(smmu, batch, k + 1, &bad);
		if (ret) {
			/* A refused SYNC (cannot happen) counts as the batch's last command. */
			i += MIN(bad, k);
			break;
		}
		i += k;
	} while (i < n);
	pthread_mutex_unlock(&smmu->cmdq_lock);
	if (done)
		*done = i;
	return ret;
}

int smmuv3_cmdq_issue_one(struct smmuv3_iommu *smmu, uint64_t cmd0, uint64_t cmd1)
{
	const uint64_t cmd[1][2] = {{cmd0, cmd1}};

	return smmuv3_cmdq_issue(smmu, cmd, 1, NULL);
}

void smmuv3_atc_inv_sid(struct smmuv3_iommu *smmu, uint32_t sid)
{
	if (!smmu->ats)
		return;
	stat_add(&smmu->stats.atc_invs, 1);
	smmuv3_cmdq_issue_one(smmu, SMMU_CMD_ATC_INV | (uint64_t)sid << CMD0_SID_SHIFT,
			      CMD_ATC_SIZE_ALL);
}

/* ---------------------------------------------------------------------- */
/* Stream table                                                           */

static uint64_t *ste_ptr(struct smmuv3_iommu *smmu, uint32_t sid)
{
	return &smmu->strtab[(size_t)sid * 8];
}

/* Valid and not abort (Config 0b1xx: bypass or translate): transactions use the other qwords. */
static bool ste_translates(uint64_t q0)
{
	return (q0 & STE0_V) && (((q0 & STE0_CFG_MASK) >> STE0_CFG_SHIFT) & 4);
}

void smmuv3_install_ste(struct smmuv3_iommu *smmu, uint32_t sid, const uint64_t ste[8])
{
	uint64_t *p = ste_ptr(smmu, sid), old0 = le64toh(__atomic_load_n(&p[0], __ATOMIC_RELAXED));
	uint64_t cfgi = SMMU_CMD_CFGI_STE | (uint64_t)sid << CMD0_SID_SHIFT;
	bool same = true;

	for (unsigned int i = 0; i < 8; i++)
		same &= le64toh(__atomic_load_n(&p[i], __ATOMIC_RELAXED)) == ste[i];
	if (same)
		return;
	trace_smmu_ste(smmu->name, sid, ste[0], ste[1], ste[2], ste[3]);
	if (ste_translates(old0)) {
		/* Break: nothing may translate through half of the old and half of the new. */
		__atomic_store_n(&p[0], htole64(STE0_V), __ATOMIC_RELEASE);
		smmuv3_cmdq_issue_one(smmu, cfgi, 0);
	}
	for (unsigned int i = 1; i < 8; i++)
		__atomic_store_n(&p[i], htole64(ste[i]), __ATOMIC_RELEASE);
	__atomic_store_n(&p[0], htole64(ste[0]), __ATOMIC_RELEASE);
	smmuv3_cmdq_issue_one(smmu, cfgi, 0);
}

int smmuv3_iommu_read_ste(struct smmuv3_iommu *smmu, uint32_t sid, uint64_t ste[8])
{
	uint64_t *p;

	if (!smmu || sid >> smmu->sid_bits)
		return -EINVAL;
	p = ste_ptr(smmu, sid);
	for (unsigned int i = 0; i < 8; i++)
		ste[i] = __atomic_load_n(&p[i], __ATOMIC_ACQUIRE);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* VMIDs                                                                  */

int smmuv3_vmid_alloc(struct smmuv3_iommu *smmu)
{
	int vmid = -ENOSPC;

	pthread_mutex_lock(&smmu->lock);
	for (unsigned int w = 0; w < (1u << 16) / 64; w++) {
		uint64_t free_bits = ~smmu->vmid_map[w];

		if (!free_bits)
			continue;
		vmid = (int)(w * 64 + (unsigned int)__builtin_ctzll(free_bits));
		smmu->vmid_map[w] |= 1ULL << (vmid & 63);
		break;
	}
	pthread_mutex_unlock(&smmu->lock);
	return vmid;
}

void smmuv3_vmid_free(struct smmuv3_iommu *smmu, uint16_t vmid)
{
	pthread_mutex_lock(&smmu->lock);
	smmu->vmid_map[vmid / 64] &= ~(1ULL << (vmid & 63));
	pthread_mutex_unlock(&smmu->lock);
}

/* ASIDs of stage-1 domains: 16 bits with IDR0.ASID16, else 8; 0 is never handed out. */
int smmuv3_asid_alloc(struct smmuv3_iommu *smmu)
{
	unsigned int words = (smmu->asid16 ? 1u << 16 : 1u << 8) / 64;
	int asid = -ENOSPC;

	pthread_mutex_lock(&smmu->lock);
	for (unsigned int w = 0; w < words; w++) {
		uint64_t free_bits = ~smmu->asid_map[w];

		if (!free_bits)
			continue;
		asid = (int)(w * 64 + (unsigned int)__builtin_ctzll(free_bits));
		smmu->asid_map[w] |= 1ULL << (asid & 63);
		break;
	}
	pthread_mutex_unlock(&smmu->lock);
	return asid;
}

void smmuv3_asid_free(struct smmuv3_iommu *smmu, uint16_t asid)
{
	pthread_mutex_lock(&smmu->lock);
	smmu->asid_map[asid / 64] &= ~(1ULL << (asid & 63));
	pthread_mutex_unlock(&smmu->lock);
}

/* ---------------------------------------------------------------------- */
/* Probe and removal                                                      */

static void smmuv3_iommu_release(struct smmuv3_iommu *smmu)
{
	if (smmu->hw)
		smmuv3_free(smmu->hw);
	ufree(smmu->strtab);
	ufree(smmu->cmdq);
	ufree(smmu->evtq);
	ufree(smmu->priq);
	if (smmu->own_msi_page)
		ufree(smmu->msi_page);
	ufree(smmu->masters);
	ufree(smmu->ats_slots);
	ufree(smmu->vmid_map);
	ufree(smmu->asid_map);
	pthread_rwlock_destroy(&smmu->report_lock);
	pthread_mutex_destroy(&smmu->priq_lock);
	pthread_mutex_destroy(&smmu->ats_lock);
	pthread_mutex_destroy(&smmu->evtq_lock);
	pthread_mutex_destroy(&smmu->cmdq_lock);
	pthread_mutex_destroy(&smmu->lock);
	ufree(smmu);
}

/* Allocate a queue or table of 2^log2 entries of @esize bytes, aligned to its size. */
static uint64_t *table_alloc(unsigned int log2, size_t esize)
{
	size_t bytes = esize << log2;

	return ualloc_aligned(bytes < 64 ? 64 : bytes, bytes);
}

static int smmuv3_iommu_reset(struct smmuv3_iommu *smmu)
{
	uint32_t enables, irqs;
	uint64_t ste[8];
	uint32_t idr0 = rd32(smmu, SMMU_IDR0), idr1 = rd32(smmu, SMMU_IDR1);
	uint32_t idr3 = rd32(smmu, SMMU_IDR3);

	smmu->s2p = idr0 & 1;
	smmu->s1p = idr0 >> 1 & 1;
	smmu->httu_dirty = (idr0 >> 6 & 3) == 2;
	smmu->stall = (idr0 >> 24 & 3) != 1;
	smmu->stall_force = (idr0 >> 24 & 3) == 2;
	smmu->ril = idr3 >> 10 & 1;
	smmu->cd2l = idr0 >> 19 & 1;
	smmu->pri = idr0 >> 16 & 1;
	smmu->ats = idr0 >> 10 & 1;
	smmu->asid16 = idr0 >> 12 & 1;
	smmu->ssid_bits = idr1 >> 6 & 0x1f;
	if ((idr1 & 0x3f) < smmu->sid_bits)
		smmu->sid_bits = idr1 & 0x3f;
	if (smmu->cmdq_log2 > (idr1 >> 21 & 0x1f) || smmu->evtq_log2 > (idr1 >> 16 & 0x1f) ||
	    (smmu->pri && smmu->priq_log2 > (idr1 >> 11 & 0x1f)))
		return -EINVAL;
	if (smmu->pri) {
		smmu->priq = table_alloc(smmu->priq_log2, 16);
		if (!smmu->priq)
			return -ENOMEM;
	}
	if (smmu->ats) {
		smmu->ats_slots = ucalloc((size_t)1 << smmu->sid_bits, sizeof(*smmu->ats_slots));
		if (!smmu->ats_slots)
			return -ENOMEM;
	}

	smmu->strtab = table_alloc(smmu->sid_bits, 64);
	smmu->cmdq = table_alloc(smmu->cmdq_log2, 16);
	smmu->evtq = table_alloc(smmu->evtq_log2, 32);
	if (!smmu->msi_page) {
		smmu->msi_page = ualloc_aligned(4096, 4096);
		smmu->own_msi_page = true;
	}
	smmu->masters = ucalloc((size_t)1 << smmu->sid_bits, sizeof(*smmu->masters));
	smmu->vmid_map = ucalloc((1u << 16) / 64, sizeof(uint64_t));
	smmu->asid_map = ucalloc((1u << 16) / 64, sizeof(uint64_t));
	if (!smmu->strtab || !smmu->cmdq || !smmu->evtq || !smmu->msi_page || !smmu->masters ||
	    !smmu->vmid_map || !smmu->asid_map)
		return -ENOMEM;
	smmu->vmid_map[0] = 1; /* VMID 0 is never a domain's: stage-1 streams use it */
	smmu->asid_map[0] = 1; /* nor is ASID 0 (Linux starts at 1) */

	smmuv3_make_abort_ste(ste);
	for (uint32_t sid = 0; sid < (1u << smmu->sid_bits); sid++)
		memcpy(ste_ptr(smmu, sid), ste, sizeof(ste));

	/* Off, abort while off, then the tables and queues. */
	wr32(smmu, SMMU_CR0, 0);
	wr32(smmu, SMMU_GBPA, SMMU_GBPA_UPDATE | SMMU_GBPA_ABORT);
	wr32(smmu, SMMU_CR2, SMMU_CR2_RECINVSID);
	wr64(smmu, SMMU_STRTAB_BASE, (uint64_t)(uintptr_t)smmu->strtab | 1ULL << 62);
	wr32(smmu, SMMU_STRTAB_BASE_CFG, smmu->sid_bits); /* FMT linear, LOG2SIZE */
	wr64(smmu, SMMU_CMDQ_BASE, (uint64_t)(uintptr_t)smmu->cmdq | 1ULL << 62 | smmu->cmdq_log2);
	wr32(smmu, SMMU_CMDQ_PROD, 0);
	wr32(smmu, SMMU_CMDQ_CONS, 0);
	smmu->cmdq_prod = 0;
	wr32(smmu, SMMU_CR0, SMMU_CR0_CMDQEN);
	{
		const uint64_t cmds[2][2] = {
			{SMMU_CMD_CFGI_STE_RANGE, CMD1_RANGE_ALL},
			{SMMU_CMD_TLBI_NSNH_ALL, 0},
		};

		if (smmuv3_cmdq_issue(smmu, cmds, 2, NULL))
			return -EIO;
	}
	wr64(smmu, SMMU_EVENTQ_BASE,
	     (uint64_t)(uintptr_t)smmu->evtq | 1ULL << 62 | smmu->evtq_log2);
	wr32(smmu, SMMU_EVENTQ_PROD, 0);
	wr32(smmu, SMMU_EVENTQ_CONS, 0);
	smmu->evtq_cons = 0;
	enables = SMMU_CR0_CMDQEN | SMMU_CR0_EVENTQEN;
	irqs = SMMU_IRQ_GERROR_EN | SMMU_IRQ_EVENTQ_EN;
	if (smmu->pri) {
		/* As Linux: the PRI queue after the event queue, with its interrupt. */
		wr64(smmu, SMMU_PRIQ_BASE,
		     (uint64_t)(uintptr_t)smmu->priq | 1ULL << 62 | smmu->priq_log2);
		wr32(smmu, SMMU_PRIQ_PROD, 0);
		wr32(smmu, SMMU_PRIQ_CONS, 0);
		smmu->priq_cons = 0;
		enables |= SMMU_CR0_PRIQEN;
		irqs |= SMMU_IRQ_PRIQ_EN;
	}
	wr32(smmu, SMMU_CR0, enables);
	wr32(smmu, SMMU_IRQ_CTRL, irqs);
	wr32(smmu, SMMU_CR0, enables | SMMU_CR0_SMMUEN);
	if (!(rd32(smmu, SMMU_CR0ACK) & SMMU_CR0_SMMUEN))
		return -EIO;
	return 0;
}

int smmuv3_iommu_new(const struct smmuv3_iommu_params *p, struct smmuv3_iommu **out)
{
	struct smmuv3_params hw;
	struct smmuv3_iommu *smmu;
	unsigned int n;
	int ret;

	if (!p || !out || p->strtab_log2 < 1 || p->strtab_log2 > 16 || p->cmdq_log2 < 1 ||
	    p->cmdq_log2 > SMMU_Q_MAX_LOG2 || p->evtq_log2 < 1 || p->evtq_log2 > SMMU_Q_MAX_LOG2 ||
	    (p->hw.pri && (p->priq_log2 < 1 || p->priq_log2 > SMMU_Q_MAX_LOG2)) ||
	    ((uintptr_t)p->msi_page & 0xfff))
		return -EINVAL;
	smmu = uzalloc(sizeof(*smmu));
	if (!smmu)
		return -ENOMEM;
	pthread_mutex_init(&smmu->lock, NULL);
	pthread_mutex_init(&smmu->cmdq_lock, NULL);
	pthread_mutex_init(&smmu->evtq_lock, NULL);
	pthread_mutex_init(&smmu->priq_lock, NULL);
	pthread_mutex_init(&smmu->ats_lock, NULL);
	pthread_rwlock_init(&smmu->report_lock, NULL);
	n = __atomic_fetch_add(&smmuv3_instances, 1, __ATOMIC_RELAXED);
	if (p->name)
		snprintf(smmu->name, sizeof(smmu->name), "%s", p->name);
	else
		snprintf(smmu->name, sizeof(smmu->name), "smmuv3.%u", n);
	smmu->iommu =
		(struct iommu_device){.ops = &smmuv3_iommu_ops, .name = smmu->name, .priv = smmu};
	smmu->sid_bits = p->strtab_log2;
	smmu->msi_page = p->msi_page;
	smmu->evt_log = p->evt_log;
	smmu->evt_log_opaque = p->evt_log_opaque;
	smmu->cmdq_log2 = p->cmdq_log2;
	smmu->evtq_log2 = p->evtq_log2;
	smmu->priq_log2 = p->priq_log2;

	hw = p->hw;
	hw.irq = smmuv3_drv_irq;
	hw.irq_opaque = smmu;
	hw.prg_resp = smmuv3_drv_prg_resp;
	hw.atc_inv = smmuv3_drv_atc_inv;
	hw.ep_opaque = smmu;
	ret = smmuv3_new(&hw, &pt_mem_host, &smmu->hw);
	if (ret)
		goto err;
	ret = smmuv3_iommu_reset(smmu);
	if (ret)
		goto err;
	*out = smmu;
	return 0;
err:
	smmuv3_iommu_release(smmu);
	return ret;
}

void smmuv3_iommu_free(struct smmuv3_iommu *smmu)
{
	if (!smmu)
		return;
	for (uint32_t sid = 0; sid < (1u << smmu->sid_bits); sid++)
		if (smmu->masters[sid])
			ulog_warn("%s: freed with device %s still present", smmu->name,
				  smmu->masters[sid]->name);
	wr32(smmu, SMMU_CR0, 0);
	smmuv3_iommu_release(smmu);
}

struct iommu_device *smmuv3_iommu_device(struct smmuv3_iommu *smmu)
{
	return &smmu->iommu;
}

struct smmuv3 *smmuv3_iommu_hw(struct smmuv3_iommu *smmu)
{
	return smmu->hw;
}

void *smmuv3_iommu_msi_doorbell(struct smmuv3_iommu *smmu, uint64_t *iova)
{
	if (iova)
		*iova = SMMUV3_MSI_IOVA_BASE;
	return smmu->msi_page;
}

void smmuv3_iommu_get_stats(struct smmuv3_iommu *smmu, struct smmuv3_iommu_stats *st)
{
	const uint64_t *src = (const uint64_t *)&smmu->stats;
	uint64_t *dst = (uint64_t *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* Devices                                                                */

bool smmuv3_master_ours(const struct udev *dev)
{
	return dev && dev->iommu && dev->iommu->ops == &smmuv3_iommu_ops &&
	       dev->iommu_priv == to_master(dev);
}

bool smmuv3_iommu_dev_is_ours(const struct udev *dev)
{
	return smmuv3_master_ours(dev);
}

struct udev *smmuv3_iommu_dev_create(struct smmuv3_iommu *smmu, const struct smmuv3_dev_params *p,
				     int *err)
{
	struct smmuv3_master *master;

	if (!smmu || !p || p->sid >> smmu->sid_bits || p->ssid_bits > smmu->ssid_bits ||
	    (p->pri && !p->ats) || (p->can_stall && p->ats) || p->atc_entries > 4096) {
		*err = -EINVAL;
		return NULL;
	}
	master = uzalloc(sizeof(*master));
	if (!master) {
		*err = -ENOMEM;
		return NULL;
	}
	master->ats = p->ats && smmu->ats;
	master->pri = master->ats && p->pri && smmu->pri;
	if (master->ats) {
		/*
		 * PRI: the allocation keeps a function's outstanding requests
		 * within the PRI queue (Linux's VT-d driver sizes it by its page
		 * request queue the same way), so one function alone never
		 * overflows it.
		 */
		unsigned int alloc = p->pri_alloc ? p->pri_alloc : SMMUV3_PRI_ALLOC_DEFAULT;
		struct smmuv3_ep_params ep = {
			.atc_entries = p->atc_entries ? p->atc_entries : 32,
			.pri = master->pri,
			.pri_alloc = MIN(alloc, 1u << smmu->priq_log2),
		};
		int ret = smmuv3_ep_new(&ep, &master->ep);

		if (ret) {
			ufree(master);
			*err = ret;
			return NULL;
		}
	}
	master->smmu = smmu;
	pthread_mutex_init(&master->lock, NULL);
	if (p->name)
		snprintf(master->name, sizeof(master->name), "%s", p->name);
	else
		snprintf(master->name, sizeof(master->name), "%s:%04x", smmu->name, p->sid);
	/*
	 * Linux's stall_enabled: a master that says it can stall on an SMMU
	 * that can, and every master when stalls are forced (CD.S = 0 and
	 * S2S = 0 are then ILLEGAL).
	 */
	master->can_stall = (p->can_stall && smmu->stall) || smmu->stall_force;
	master->msi = !p->no_msi;
	master->resv = (struct iommu_resv_region){
		.start = SMMUV3_MSI_IOVA_BASE,
		.last = SMMUV3_MSI_IOVA_BASE + SMMUV3_MSI_IOVA_LENGTH - 1,
	};
	master->udev = (struct udev){
		.name = master->name,
		.iommu = &smmu->iommu,
		.sid = p->sid,
		.max_pasid_log2 = p->ssid_bits,
		.no_dirty = p->no_dirty,
		.is_pci = p->is_pci,
		.nr_resv = master->msi ? 1 : 0,
		.resv = master->msi ? &master->resv : NULL,
		.iommu_priv = master,
	};
	pthread_mutex_lock(&smmu->lock);
	if (smmu->masters[p->sid]) {
		pthread_mutex_unlock(&smmu->lock);
		pthread_mutex_destroy(&master->lock);
		smmuv3_ep_free(master->ep);
		ufree(master);
		*err = -EEXIST;
		return NULL;
	}
	smmu->masters[p->sid] = master;
	pthread_mutex_unlock(&smmu->lock);
	if (master->ep) {
		pthread_mutex_lock(&smmu->ats_lock);
		smmu->ats_slots[p->sid] = (struct smmuv3_ats_slot){ .ep = master->ep };
		smmu->nr_ats_devs++;
		pthread_mutex_unlock(&smmu->ats_lock);
	}
	*err = 0;
	return &master->udev;
}

static void smmuv3_block_dev(struct udev *dev);

void smmuv3_iommu_dev_destroy(struct udev *dev)
{
	struct smmuv3_master *master;
	struct smmuv3_iommu *smmu;

	if (!smmuv3_master_ours(dev))
		return;
	master = to_master(dev);
	smmu = master->smmu;
	if (master->domain)
		smmuv3_block_dev(dev);
	/* No event report may be looking at it any more. */
	pthread_rwlock_wrlock(&smmu->report_lock);
	pthread_mutex_lock(&smmu->lock);
	smmu->masters[dev->sid] = NULL;
	pthread_mutex_unlock(&smmu->lock);
	pthread_rwlock_unlock(&smmu->report_lock);
	if (master->nr_pasids)
		ulog_warn("%s: device %s destroyed with %u PASIDs attached", smmu->name,
			  master->name, master->nr_pasids);
	/* Their domains must not keep pointing at it (ATC invalidation). */
	if (master->nr_pasids) {
		while (master->nr_pasids)
			smmuv3_remove_dev_pasid(dev, master->pasids[0].pasid, NULL);
		if (smmu->stall)
			smmuv3_cmdq_issue_one(
				smmu, SMMU_CMD_STALL_TERM | (uint64_t)dev->sid << CMD0_SID_SHIFT,
				0);
	}
	if (master->ep) {
		/* Nothing routes to it any more; a DMA still waiting gives up. */
		pthread_mutex_lock(&smmu->ats_lock);
		smmu->ats_slots[dev->sid] = (struct smmuv3_ats_slot){ 0 };
		smmu->nr_ats_devs--;
		pthread_mutex_unlock(&smmu->ats_lock);
		smmuv3_ep_prg_abort(master->ep);
		smmuv3_ep_free(master->ep);
	}
	smmuv3_cd_table_free(master);
	ufree(master->pasids);
	pthread_mutex_destroy(&master->lock);
	ufree(master);
}

/* ---------------------------------------------------------------------- */
/* Attach                                                                 */

static bool on_s1(const struct iommu_domain *d)
{
	return smmuv3_is_paging(d) && to_s2(d)->s1;
}

int smmuv3_master_attach(struct smmuv3_master *master, struct iommu_domain *domain,
			 struct smmuv3_domain *s2, const uint64_t *ste_in,
			 struct smmuv3_vsmmu *vsmmu, uint32_t vsid)
{
	struct smmuv3_domain *old_s2;
	bool s1 = on_s1(domain), was_s1;
	uint64_t ste[8], cd[8];
	int ret;

	pthread_mutex_lock(&master->lock);
	was_s1 = on_s1(master->domain);
	/* PASIDs live in the CD table: the RID can only be stage 1 or blocked (Linux: EBUSY). */
	if (domain && !s1 && master->nr_pasids) {
		pthread_mutex_unlock(&master->lock);
		return -EBUSY;
	}
	if (s1) {
		ret = smmuv3_cd_table_get(master);
		if (ret) {
			pthread_mutex_unlock(&master->lock);
			return ret;
		}
	}
	old_s2 = master->msi_s2;
	/* The new domain maps the doorbell before the STE points at it. */
	if (master->msi && s2 && s2 != old_s2) {
		ret = smmuv3_msi_get(s2);
		if (ret) {
			pthread_mutex_unlock(&master->lock);
			return ret;
		}
	}
	if (s1) {
		/* CD 0 first, then the STE that uses it (S1DSS = SSID0 for the RID). */
		smmuv3_make_s1_cd(master, s2, cd);
		smmuv3_cd_write(master, 0, cd);
		smmuv3_make_cdtable_ste(master, STE_S1DSS_SSID0, ste);
	} else if (!domain && master->nr_pasids) {
		/* Blocked with PASIDs: their CDs stay, the RID's traffic is terminated. */
		smmuv3_make_cdtable_ste(master, STE_S1DSS_TERMINATE, ste);
	} else {
		memcpy(ste, ste_in, sizeof(ste));
	}
	smmuv3_install_ste(master->smmu, master->udev.sid, ste);
	/* CD 0 is nobody's once no STE uses it (Linux: arm_smmu_clear_cd after the STE). */
	if (was_s1 && !s1)
		smmuv3_cd_write(master, 0, NULL);
	/* What the ATC holds was translated under the old STE (Linux: atc_inv_master). */
	if (master->ep) {
		struct smmuv3_iommu *smmu = master->smmu;

		pthread_mutex_lock(&smmu->ats_lock);
		smmu->ats_slots[master->udev.sid].s2 = s2;
		smmu->ats_slots[master->udev.sid].nested = domain && !smmuv3_is_paging(domain);
		pthread_mutex_unlock(&smmu->ats_lock);
		smmuv3_atc_inv_sid(smmu, master->udev.sid);
	}
	if (master->msi && old_s2 && s2 != old_s2)
		smmuv3_msi_put(old_s2);
	master->msi_s2 = master->msi ? s2 : NULL;
	master->domain = domain;
	master->vsmmu = vsmmu;
	master->vsid = vsid;
	pthread_mutex_unlock(&master->lock);
	return 0;
}

static void smmuv3_block_dev(struct udev *dev)
{
	struct smmuv3_master *master;
	uint64_t ste[8];
	bool pasids;

	if (!smmuv3_master_ours(dev))
		return;
	master = to_master(dev);
	smmuv3_make_abort_ste(ste);
	smmuv3_master_attach(master, NULL, NULL, ste, NULL, 0);
	pthread_mutex_lock(&master->lock);
	pasids = master->nr_pasids;
	pthread_mutex_unlock(&master->lock);
	/*
	 * Nothing may stay stalled on a device nobody translates for (while
	 * PASIDs translate, STALL_TERM would end their stalls too: their own
	 * domains' fault queues answer those).
	 */
	if (master->smmu->stall && !pasids)
		smmuv3_cmdq_issue_one(master->smmu,
				      SMMU_CMD_STALL_TERM | (uint64_t)dev->sid << CMD0_SID_SHIFT,
				      0);
}

/* ---------------------------------------------------------------------- */
/* GET_HW_INFO, capabilities                                              */

static int smmuv3_hw_info(struct udev *dev, unsigned int req_type, void *buf, size_t len,
			  unsigned int *type, size_t *full_len)
{
	struct iommu_hw_info_arm_smmuv3 info = {0};
	struct smmuv3_iommu *smmu;

	if (!smmuv3_master_ours(dev))
		return -EINVAL;
	if (req_type != IOMMU_HW_INFO_TYPE_DEFAULT && req_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
		return -EOPNOTSUPP;
	smmu = to_master(dev)->smmu;
	for (unsigned int i = 0; i < 6; i++)
		info.idr[i] = rd32(smmu, SMMU_IDR0 + 4 * i);
	info.iidr = rd32(smmu, SMMU_IIDR);
	info.aidr = rd32(smmu, SMMU_AIDR);
	return iommu_hw_info_fill(&info, sizeof(info), IOMMU_HW_INFO_TYPE_ARM_SMMUV3, buf, len,
				  type, full_len);
}

static uint64_t smmuv3_capabilities(struct udev *dev)
{
	if (!smmuv3_master_ours(dev))
		return 0;
	return to_master(dev)->smmu->httu_dirty && !dev->no_dirty ? IOMMU_HW_CAP_DIRTY_TRACKING : 0;
}

/* ---------------------------------------------------------------------- */
/* Events                                                                 */

static void resume(struct smmuv3_iommu *smmu, uint32_t sid, uint16_t stag, unsigned int action)
{
	smmuv3_cmdq_issue_one(smmu,
			      SMMU_CMD_RESUME | (uint64_t)action << CMD0_RESUME_ACTION_SHIFT |
				      (uint64_t)sid << CMD0_SID_SHIFT,
			      stag);
}

/* The event types a vIOMMU gets (Linux's arm_smmu_handle_event). */
static bool vevent_type(unsigned int type)
{
	switch (type) {
	case SMMU_EVT_C_BAD_STE:
	case SMMU_EVT_F_STREAM_DISABLED:
	case SMMU_EVT_C_BAD_SUBSTREAMID:
	case SMMU_EVT_C_BAD_CD:
	case SMMU_EVT_F_TRANSLATION:
	case SMMU_EVT_F_ADDR_SIZE:
	case SMMU_EVT_F_ACCESS:
	case SMMU_EVT_F_PERMISSION:
		return true;
	default:
		return false;
	}
}

/* A stalled fault: a page request for the attached domain's fault queue. 0 or -errno. */
static int report_stall(struct iommu_domain *domain, struct udev *dev, const uint64_t evt[4])
{
	struct iommu_event_sink *sink;
	struct iopf_fault f = {
		.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		.grpid = (uint32_t)(evt[1] & EVT1_STAG_MASK),
		.addr = evt[2],
	};

	if (!smmuv3_evt_is_xlate_fault(evt[0] & 0xff))
		return -EOPNOTSUPP;
	f.perm = evt[1] & EVT1_RNW ? IOMMU_PGFAULT_PERM_READ : IOMMU_PGFAULT_PERM_WRITE;
	if (evt[1] & EVT1_IND)
		f.perm |= IOMMU_PGFAULT_PERM_EXEC;
	if (evt[1] & EVT1_PNU)
		f.perm |= IOMMU_PGFAULT_PERM_PRIV;
	if (evt[0] & EVT0_SSV) {
		f.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
		f.pasid = (uint32_t)(evt[0] >> 12) & 0xfffff;
	}
	if (!domain)
		return -ENODEV;
	sink = __atomic_load_n(&domain->sink, __ATOMIC_ACQUIRE);
	if (!sink || !sink->report_iopf)
		return -EOPNOTSUPP;
	return sink->report_iopf(domain, dev, &f);
}

/* One record, in CPU order. Under evtq_lock. */
static void handle_event(struct smmuv3_iommu *smmu, const uint64_t evt[4])
{
	uint32_t sid = (uint32_t)(evt[0] >> 32);
	unsigned int type = evt[0] & 0xff;
	bool stall = evt[1] & EVT1_STALL;
	struct smmuv3_master *master = NULL;
	struct iommu_domain *domain = NULL;
	struct smmuv3_vsmmu *vsmmu = NULL;
	enum smmuv3_evt_route route = SMMUV3_EVT_HOST;
	uint32_t vsid = 0;
	int ret;

	pthread_rwlock_rdlock(&smmu->report_lock);
	pthread_mutex_lock(&smmu->lock);
	if (!(sid >> smmu->sid_bits))
		master = smmu->masters[sid];
	pthread_mutex_unlock(&smmu->lock);
	if (master) {
		pthread_mutex_lock(&master->lock);
		domain = master->domain;
		vsmmu = master->vsmmu;
		vsid = master->vsid;
		/* A PASID's fault is its domain's (its fault queue). */
		if ((evt[0] & EVT0_SSV) && master->nr_pasids) {
			struct smmuv3_domain *pd =
				smmuv3_pasid_domain(master, (uint32_t)(evt[0] >> 12) & 0xfffff);

			if (pd) {
				domain = &pd->domain;
				vsmmu = NULL;
			}
		}
		pthread_mutex_unlock(&master->lock);
	}
	/* A device nested through attach_pasid_table: its owner's fault handler (VFIO's ring). */
	ret = master ? smmuv3_nesting_report(master, domain, evt) : -ENOENT;
	if (ret != -ENOENT) {
		stat_add(ret ? &smmu->stats.dev_faults_lost : &smmu->stats.dev_faults, 1);
		route = ret ? SMMUV3_EVT_DEV_FAULT_LOST : SMMUV3_EVT_DEV_FAULT;
		trace_smmu_evt(smmu->name, type, sid, evt[1], evt[2],
			       ret ? "dev-fault-lost" : "dev-fault");
		/* A page request nobody will answer is answered now. */
		if (stall && ret) {
			stat_add(&smmu->stats.iopf_aborts, 1);
			resume(smmu, sid, (uint16_t)(evt[1] & EVT1_STAG_MASK), CMD_RESUME_ABORT);
		}
	} else if (stall) {
		ret = master ? report_stall(domain, &master->udev, evt) : -ENODEV;
		trace_smmu_evt(smmu->name, type, sid, evt[1], evt[2], ret ? "abort" : "iopf");
		if (ret) {
			/* Nobody will answer: do it now, so the transaction does not wait forever.
			 */
			stat_add(&smmu->stats.iopf_aborts, 1);
			route = SMMUV3_EVT_IOPF_ABORT;
			resume(smmu, sid, (uint16_t)(evt[1] & EVT1_STAG_MASK), CMD_RESUME_ABORT);
		} else {
			stat_add(&smmu->stats.iopfs, 1);
			route = SMMUV3_EVT_IOPF;
		}
	} else if (vsmmu && !(evt[1] & EVT1_S2) && vevent_type(type)) {
		struct iommu_vevent_arm_smmuv3 vevt;

		vevt.evt[0] = htole64((evt[0] & ~CMD0_SID_MASK) | (uint64_t)vsid << 32);
		for (unsigned int i = 1; i < 4; i++)
			vevt.evt[i] = htole64(evt[i]);
		ret = vsmmu->core.report_event
			      ? vsmmu->core.report_event(&vsmmu->core,
							 IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, &vevt,
							 sizeof(vevt))
			      : -EOPNOTSUPP;
		stat_add(ret ? &smmu->stats.vevents_lost : &smmu->stats.vevents, 1);
		route = ret ? SMMUV3_EVT_VEVENT_LOST : SMMUV3_EVT_VEVENT;
		trace_smmu_evt(smmu->name, type, sid, evt[1], evt[2],
			       ret ? "vevent-lost" : "vevent");
	} else {
		stat_add(&smmu->stats.unhandled, 1);
		trace_smmu_evt(smmu->name, type, sid, evt[1], evt[2], "host");
	}
	pthread_rwlock_unlock(&smmu->report_lock);
	if (smmu->evt_log)
		smmu->evt_log(smmu->evt_log_opaque, evt, route);
}

void smmuv3_iommu_process_events(struct smmuv3_iommu *smmu)
{
	uint32_t size = 1u << smmu->evtq_log2, mask = (size << 1) - 1;

	pthread_mutex_lock(&smmu->evtq_lock);
	for (;;) {
		uint32_t prod = rd32(smmu, SMMU_EVENTQ_PROD), cons = smmu->evtq_cons;

		if ((prod ^ cons) & SMMU_Q_OVFLG) {
			/* Records were lost; acknowledge the overflow with the next CONS write. */
			stat_add(&smmu->stats.evtq_overflows, 1);
			cons ^= SMMU_Q_OVFLG;
		}
		if ((prod & mask) == (cons & mask)) {
			smmu->evtq_cons = cons;
			wr32(smmu, SMMU_EVENTQ_CONS, cons);
			break;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		while ((prod & mask) != (cons & mask)) {
			const uint64_t *e = &smmu->evtq[(size_t)(cons & (size - 1)) * 4];
			uint64_t evt[4];

			for (unsigned int i = 0; i < 4; i++)
				evt[i] = le64toh(__atomic_load_n(&e[i], __ATOMIC_RELAXED));
			cons = (cons & SMMU_Q_OVFLG) | ((cons + 1) & mask);
			/* Free the slot before handling: a stall answered now may fault again. */
			smmu->evtq_cons = cons;
			wr32(smmu, SMMU_EVENTQ_CONS, cons);
			stat_add(&smmu->stats.events, 1);
			handle_event(smmu, evt);
		}
	}
	pthread_mutex_unlock(&smmu->evtq_lock);
}

/* ---------------------------------------------------------------------- */
/* PRI queue                                                              */

static void pri_resp(struct smmuv3_iommu *smmu, uint32_t sid, bool ssv, uint32_t ssid,
		     uint32_t grpid, unsigned int resp)
{
	smmuv3_cmdq_issue_one(smmu,
			      SMMU_CMD_PRI_RESP | (ssv ? CMD0_SSV_BIT : 0) |
				      (uint64_t)(ssid & 0xfffff) << 12 |
				      (uint64_t)sid << CMD0_SID_SHIFT,
			      (grpid & 0x1ff) | (uint64_t)resp << 12);
}

/* One page request, in CPU order. Under priq_lock. */
static void handle_ppr(struct smmuv3_iommu *smmu, const uint64_t ppr[2])
{
	uint32_t sid = (uint32_t)ppr[0], ssid = (uint32_t)(ppr[0] >> 32) & 0xfffff;
	bool ssv = ppr[0] >> 63 & 1, last = ppr[0] >> 62 & 1;
	struct iopf_fault f = {
		.flags = last ? IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0,
		.grpid = (uint32_t)(ppr[1] & 0x1ff),
		.addr = ppr[1] & ~0xfffULL,
	};
	struct smmuv3_master *master = NULL;
	struct iommu_domain *domain = NULL;
	struct iommu_event_sink *sink;
	int ret = -ENODEV;

	if (ppr[0] >> 60 & 1)
		f.perm |= IOMMU_PGFAULT_PERM_READ;
	if (ppr[0] >> 61 & 1)
		f.perm |= IOMMU_PGFAULT_PERM_WRITE;
	if (ppr[0] >> 59 & 1)
		f.perm |= IOMMU_PGFAULT_PERM_EXEC;
	if (ppr[0] >> 58 & 1)
		f.perm |= IOMMU_PGFAULT_PERM_PRIV;
	if (ssv) {
		f.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
		f.pasid = ssid;
	}
	pthread_rwlock_rdlock(&smmu->report_lock);
	pthread_mutex_lock(&smmu->lock);
	if (!(sid >> smmu->sid_bits))
		master = smmu->masters[sid];
	pthread_mutex_unlock(&smmu->lock);
	if (master && master->pri) {
		pthread_mutex_lock(&master->lock);
		domain = master->domain;
		if (ssv && smmuv3_pasid_domain(master, ssid))
			domain = &smmuv3_pasid_domain(master, ssid)->domain;
		pthread_mutex_unlock(&master->lock);
		sink = domain ? __atomic_load_n(&domain->sink, __ATOMIC_ACQUIRE) : NULL;
		ret = sink && sink->report_iopf ? sink->report_iopf(domain, &master->udev, &f)
						: -EOPNOTSUPP;
	}
	pthread_rwlock_unlock(&smmu->report_lock);
	trace_smmu_evt(smmu->name, 0, sid, ppr[0], ppr[1], ret ? "ppr-denied" : "ppr-iopf");
	if (!ret) {
		stat_add(&smmu->stats.pri_iopfs, 1);
		return;
	}
	/* Nobody will answer the group: do it now (Linux's iopf core answers INVALID). */
	stat_add(&smmu->stats.pri_denied, 1);
	if (last)
		pri_resp(smmu, sid, ssv, ssid, f.grpid, CMD_PRI_RESP_INVALID);
}

/* Lock held: @domain's sink drops the partial groups of @master (PRI queue overflow). */
static void discard_partial(struct smmuv3_master *master, struct iommu_domain *domain)
{
	struct iommu_event_sink *sink =
		domain ? __atomic_load_n(&domain->sink, __ATOMIC_ACQUIRE) : NULL;

	if (sink && sink->discard_partial)
		sink->discard_partial(domain, &master->udev);
}

/*
 * The PRI queue overflowed: requests were lost, and the SMMU answered the
 * lost Last ones itself (§8.2), so groups that began before the overflow
 * and are still partial in a fault queue will never end. Drop them, for
 * every PRI device (Linux's iopf_queue_discard_partial()), under
 * report_lock as deliveries are. Under priq_lock.
 */
static void priq_discard_partial(struct smmuv3_iommu *smmu)
{
	pthread_rwlock_rdlock(&smmu->report_lock);
	for (uint32_t sid = 0; sid < (1u << smmu->sid_bits); sid++) {
		struct smmuv3_master *master;
		struct iommu_domain *domain;

		pthread_mutex_lock(&smmu->lock);
		master = smmu->masters[sid];
		pthread_mutex_unlock(&smmu->lock);
		if (!master || !master->pri)
			continue;
		pthread_mutex_lock(&master->lock);
		domain = master->domain;
		pthread_mutex_unlock(&master->lock);
		discard_partial(master, domain);
		for (unsigned int i = 0;; i++) {
			pthread_mutex_lock(&master->lock);
			domain = i < master->nr_pasids ? &master->pasids[i].dom->domain : NULL;
			pthread_mutex_unlock(&master->lock);
			if (!domain)
				break;
			discard_partial(master, domain);
		}
	}
	pthread_rwlock_unlock(&smmu->report_lock);
}

void smmuv3_iommu_process_priq(struct smmuv3_iommu *smmu)
{
	uint32_t size = 1u << smmu->priq_log2, mask = (size << 1) - 1;

	if (!smmu->pri)
		return;
	pthread_mutex_lock(&smmu->priq_lock);
	for (;;) {
		uint32_t prod = rd32(smmu, SMMU_PRIQ_PROD), cons = smmu->priq_cons;
		bool overflow = (prod ^ cons) & SMMU_Q_OVFLG;

		if ((prod & mask) == (cons & mask)) {
			if (overflow) {
				/*
				 * Requests were lost. Every record written before
				 * the overflow has been handled (nothing is written
				 * while it is unacknowledged): the groups still
				 * partial go, then the CONS write acknowledges
				 * (§8.1.1), and records may come again.
				 */
				stat_add(&smmu->stats.priq_overflows, 1);
				priq_discard_partial(smmu);
				cons ^= SMMU_Q_OVFLG;
			}
			smmu->priq_cons = cons;
			wr32(smmu, SMMU_PRIQ_CONS, cons);
			if (overflow)
				continue;
			break;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		while ((prod & mask) != (cons & mask)) {
			const uint64_t *e = &smmu->priq[(size_t)(cons & (size - 1)) * 2];
			uint64_t ppr[2];

			ppr[0] = le64toh(__atomic_load_n(&e[0], __ATOMIC_RELAXED));
			ppr[1] = le64toh(__atomic_load_n(&e[1], __ATOMIC_RELAXED));
			cons = (cons & SMMU_Q_OVFLG) | ((cons + 1) & mask);
			smmu->priq_cons = cons;
			wr32(smmu, SMMU_PRIQ_CONS, cons);
			stat_add(&smmu->stats.pprs, 1);
			handle_ppr(smmu, ppr);
		}
	}
	pthread_mutex_unlock(&smmu->priq_lock);
}

struct smmuv3_ep *smmuv3_iommu_dev_ep(struct udev *dev)
{
	return smmuv3_master_ours(dev) ? to_master(dev)->ep : NULL;
}

/* ---------------------------------------------------------------------- */
/* Page responses                                                         */

static int smmuv3_page_response(struct udev *dev, const struct iopf_fault *fault,
				const struct iommu_page_response *resp)
{
	struct smmuv3_master *master;

	if (!smmuv3_master_ours(dev) || !resp)
		return -EINVAL;
	master = to_master(dev);
	if (master->pri) {
		/* A PCIe page request group: CMD_PRI_RESP with the group's PASID. */
		bool ssv = fault && (fault->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID);

		pri_resp(master->smmu, dev->sid, ssv, ssv ? fault->pasid : 0, resp->grpid,
			 resp->code == IOMMUFD_PAGE_RESP_SUCCESS ? CMD_PRI_RESP_SUCC
								 : CMD_PRI_RESP_INVALID);
		return 0;
	}
	if (!master->smmu->stall)
		return -EOPNOTSUPP;
	/* The group is the STAG; SUCCESS retries the transaction, anything else aborts it. */
	resume(master->smmu, dev->sid, (uint16_t)resp->grpid,
	       resp->code == IOMMUFD_PAGE_RESP_SUCCESS ? CMD_RESUME_RETRY : CMD_RESUME_ABORT);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* DMA                                                                    */

/*
 * Configuration errors, and aborts the configuration asks for (abort STE,
 * GBPA abort, no event; S1DSS terminate): -EIO, as the mock reports a
 * blocked device. Every other termination is a translation fault: -EFAULT.
 */
static int fault_errno(enum smmuv3_event_type type)
{
	switch (type) {
	case SMMU_EVT_NONE:
	case SMMU_EVT_F_STREAM_DISABLED:
	case SMMU_EVT_C_BAD_STREAMID:
	case SMMU_EVT_F_STE_FETCH:
	case SMMU_EVT_C_BAD_STE:
	case SMMU_EVT_C_BAD_SUBSTREAMID:
	case SMMU_EVT_F_CD_FETCH:
	case SMMU_EVT_C_BAD_CD:
	case SMMU_EVT_F_BAD_ATS_TREQ:
		return -EIO;
	default:
		return -EFAULT;
	}
}

/* Let the driver see what the model queued (events, page requests), outside any section. */
static void drain_outside_section(struct smmuv3_iommu *smmu)
{
	bool section = epoch_in_section();

	if (section)
		epoch_exit();
	smmuv3_iommu_process_events(smmu);
	smmuv3_iommu_process_priq(smmu);
	if (section)
		epoch_enter();
}

/*
 * An ATS-capable device: its ATC, else a translation request, else (PRI)
 * a page request through the PRI queue to the fault queue and a wait for
 * the response, outside the epoch section (as a stall), then again.
 */
#define EP_PRI_ROUNDS 8

static int ep_dma_translate(struct smmuv3_master *master, const struct smmuv3_txn *t, size_t len,
			    void **host, size_t *contig, struct iommu_dma_fault *fault)
{
	struct smmuv3_iommu *smmu = master->smmu;
	struct smmuv3_result r;
	unsigned int rounds = 0;
	uint16_t prgi;
	int ret;

	for (;;) {
		bool section;
		int code;

		ret = smmuv3_ep_translate_len(master->ep, smmu->hw, t, len, &r,
					      rounds < EP_PRI_ROUNDS ? &prgi : NULL);
		if (ret != -EAGAIN)
			break;
		rounds++;
		section = epoch_in_section();
		if (section)
			epoch_exit();
		smmuv3_iommu_process_priq(smmu);
		code = smmuv3_ep_prg_wait(master->ep, prgi);
		if (section)
			epoch_enter();
		if (code != SMMU_PRG_SUCCESS) {
			ret = -EFAULT;
			break;
		}
	}
	if (!ret) {
		uint64_t left = r.size - (t->addr & (r.size - 1));

		*host = (void *)(uintptr_t)r.pa;
		*contig = left < len ? (size_t)left : len;
		return 0;
	}
	/* A configuration error or F_BAD_ATS_TREQ was recorded: its owner gets it now. */
	drain_outside_section(smmu);
	if (ret == -EFAULT)
		ret = fault_errno(r.event);
	if (fault)
		*fault = (struct iommu_dma_fault){
			.iova = t->addr,
			.pasid = t->ssid == SMMU_NO_SSID ? 0 : t->ssid,
			.access = t->access,
			.err = ret,
			.reason = r.event,
		};
	return ret;
}

static int smmuv3_dma_translate(struct udev *dev, uint32_t pasid, uint64_t iova, size_t len,
				unsigned int access, void **host, size_t *contig,
				struct iommu_dma_fault *fault)
{
	struct smmuv3_txn t = {.ssid = pasid ? pasid : SMMU_NO_SSID, .addr = iova};
	struct smmuv3_iommu *smmu;
	struct smmuv3_result r;
	int ret;

	if (!smmuv3_master_ours(dev) || !len || !host || !contig ||
	    (access != PT_PROT_R && access != PT_PROT_W))
		return -EINVAL;
	smmu = to_master(dev)->smmu;
	t.sid = dev->sid;
	/* A data access, privileged (as QEMU's model issues every transaction). */
	t.access = access;
	if (to_master(dev)->ep)
		return ep_dma_translate(to_master(dev), &t, len, host, contig, fault);
	for (;;) {
		bool section;

		ret = smmuv3_translate(smmu->hw, &t, &r);
		if (ret != -EAGAIN)
			break;
		/*
		 * Stalled: deliver the page request, then wait for the RESUME it
		 * brings, outside the caller's epoch section (iommu_dma_rw() runs
		 * us in one): nothing is held across the wait, and a section
		 * held while a program answers could keep that program's own
		 * grace periods waiting on us.
		 */
		section = epoch_in_section();
		if (section)
			epoch_exit();
		smmuv3_iommu_process_events(smmu);
		ret = smmuv3_stall_wait(smmu->hw, t.sid, r.stag);
		if (section)
			epoch_enter();
		if (ret) {
			ret = -EFAULT;
			break;
		}
	}
	if (!ret) {
		uint64_t left = r.size - (iova & (r.size - 1));

		*host = (void *)(uintptr_t)r.pa;
		*contig = left < len ? (size_t)left : len;
		return 0;
	}
	if (r.recorded) {
		/* The record goes to its owner now (vEVENTQ ...); that needs no section either. */
		bool section = epoch_in_section();

		if (section)
			epoch_exit();
		smmuv3_iommu_process_events(smmu);
		if (section)
			epoch_enter();
	}
	if (fault)
		*fault = (struct iommu_dma_fault){
			.iova = iova,
			.pasid = pasid,
			.access = access,
			.err = ret == -EFAULT ? fault_errno(r.event) : ret,
			.reason = r.event,
		};
	return ret == -EFAULT ? fault_errno(r.event) : ret;
}

/* ---------------------------------------------------------------------- */

const struct iommu_ops smmuv3_iommu_ops = {
	.name = "arm-smmu-v3",
	.hw_info = smmuv3_hw_info,
	.capabilities = smmuv3_capabilities,
	.domain_alloc_paging_flags = smmuv3_domain_alloc_paging,
	/* Nesting goes through a vIOMMU, as in Linux: no domain_alloc_nested. */
	.block_dev = smmuv3_block_dev,
	.remove_dev_pasid = smmuv3_remove_dev_pasid,
	.page_response = smmuv3_page_response,
	.viommu_alloc = smmuv3_viommu_alloc,
	.dma_translate = smmuv3_dma_translate,
};
