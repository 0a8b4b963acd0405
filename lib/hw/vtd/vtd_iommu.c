// SPDX-License-Identifier: MIT
/*
 * vtd_iommu.c - the VT-d driver: one hardware instance as a driver sees
 * it, its devices and what their PASIDs are attached to, the invalidation
 * queue, fault records, and the DMA path.
 *
 * What it owns. The structures the unit reads, all host memory that the
 * model reads through the identity port (pt_mem_host: a physical address
 * is a host address): the scalable-mode root table, a context table per
 * bus half (made when the first device of that half appears), and per
 * device a PASID directory sized to its PASID width (PDTS) with PASID
 * tables made on first use; the invalidation queue (256 descriptors of
 * 128 bits) and the status word its wait descriptors write. Probe
 * follows Linux's: root table, SRTP, queue (QIE), global context-cache,
 * PASID-cache and IOTLB invalidation, TE. From then on the driver talks to
 * the hardware only through MMIO and memory.
 *
 * Invalidation (vtd_qi_submit): descriptors are written at IQT followed
 * by a wait descriptor (SW, a fresh sequence number) and IQT is moved
 * once. The model runs the queue when IQT is written, so when the write
 * returns the status either holds the sequence number or the hardware
 * refused a descriptor (FSTS.IQE, IQH on it): the driver then does what
 * Linux's qi_check_fault does (overwrite the bad descriptor with a wait
 * without status write, clear IQE so the rest runs) and reports -EIO.
 *
 * PASID entries (install_pe): an entry in use is never rewritten in
 * place. A present entry is first made not present, its PASID-cache
 * entry and IOTLB entries dropped (PASID-selective PASID-cache; P_IOTLB
 * for first-stage and nested entries, a domain-selective IOTLB flush for
 * second-stage ones, as Linux's intel_pasid_tear_down_entry); then
 * qwords 1-7 and last qword 0 are written. A request during the update is
 * blocked (0x59), never translated through a mix of two entries.
 *
 * Attach. Every (device, PASID) binding - the RID is PASID 0, the context
 * entries' RID_PASID - is on one list (v->attached) with its domain, so
 * that a domain can rewrite the entries of its devices (dirty tracking on
 * and off) and flush by (DID, PASID).
 *
 * DMA (dma_translate): one vtd_translate() per piece, a user request
 * without PASID for PASID 0 (IOMMU_NO_PASID), with PASID otherwise. A
 * blocked request drains the fault recording registers (the driver's
 * fault interrupt handler) and reports -EIO for a configuration fault
 * (root, context and PASID structures), -EFAULT for a translation fault.
 * An ATS device (PCI, ECAP.DT) goes through its endpoint (vtd_ep.h): the
 * ATC, else a translation request, else with PRI on a page request; the
 * DMA thread then drains the page request queue (vtd_iommu_process_prq,
 * the driver's prq thread) and waits for the group's response outside the
 * epoch section, translating again on Success.
 *
 * ATS and PRI (Linux 6.12's iommu.c / prq.c / cache.c). The context entry
 * of an ATS device has DTE. IOPF is turned on for a device when the first
 * of its attachments to a domain with a fault queue (the core's sink) is
 * made - PRE in its context entry with a device-selective context-cache
 * flush, and the endpoint's PRI Enable - and off after the last; a device
 * without PRI is ENODEV (intel_iommu_enable_iopf). The page request
 * queue (4 KiB) is set up at probe when ECAP.PRS; its handler refuses
 * what prq_event_thread refuses and reports the rest to the sink of the
 * domain the request's PASID is attached to; the page response is a page
 * group response descriptor. With PRO (requests dropped, the dropped LPIG
 * ones answered by the unit) the devices' partial groups are dropped from
 * the fault queues before PRO is cleared. A device's group has a request
 * per faulting page of its access, at most its Outstanding Page Request
 * Allocation, which the driver writes no larger than the queue. Every IOTLB / P_IOTLB flush is followed by
 * the device-TLB invalidation of the ATS devices attached to the DID, and
 * a PASID entry's teardown by its device's. The unit's messages to
 * devices come back through params.dev_msg (route_dev_msg): to the
 * endpoint of the requester ID.
 *
 * Locks: v->lock guards the driver's structures, DIDs, attachments and the
 * queue; it is taken inside a domain's own lock never (unmap releases the
 * domain lock before flushing). fault_lock serialises fault consumption,
 * prq_lock page request consumption. report_lock is held (read) while a
 * page request finds its domain (under v->lock) and is reported to the
 * core's sink (without v->lock: the sink takes the core's device lock,
 * which the core holds around attach, which takes v->lock); so it comes
 * before v->lock, and freeing a domain or a device takes it for write,
 * holding nothing, first (vtd_report_barrier). The model's own
 * lock is inside v->lock (MMIO); ep_lock (the device list for messages)
 * inside the model's, and an endpoint's lock inside that: leaves.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/vtd/vtd_drv.h"
#include "hw/vtd/vtd_ep.h"
#include "util/alloc.h"
#include "util/epoch.h"
#include "util/log.h"

static unsigned int vtd_instances;

static const struct iommu_ops vtd_iommu_ops;

/* The unit's messages to devices: to the endpoint of the requester ID (model lock held). */
static void route_dev_msg(void *opaque, const struct vtd_dev_msg *m)
{
	struct vtd_iommu *v = opaque;

	pthread_mutex_lock(&v->ep_lock);
	for (struct vtd_master *it = v->masters; it; it = it->next) {
		if (it->dev.sid == m->sid) {
			if (it->ep)
				vtd_ep_msg(it->ep, m);
			break;
		}
	}
	pthread_mutex_unlock(&v->ep_lock);
}

void vtd_iommu_params_default(struct vtd_iommu_params *p)
{
	memset(p, 0, sizeof(*p));
	vtd_params_default(&p->hw);
}

/* ---------------------------------------------------------------------- */
/* Registers and the queue                                                */

static uint64_t rd(struct vtd_iommu *v, uint32_t off, unsigned int size)
{
	uint64_t val = 0;

	vtd_mmio_read(v->hw, off, size, &val);
	return val;
}

static void wr(struct vtd_iommu *v, uint32_t off, unsigned int size, uint64_t val)
{
	vtd_mmio_write(v->hw, off, size, val);
}

/* A one-shot GCMD command, keeping the persistent enables (TE, QIE) as they are. */
static void gcmd(struct vtd_iommu *v, uint32_t set, uint32_t clear)
{
	uint32_t keep = (uint32_t)rd(v, VTD_GSTS_REG, 4) & (VTD_GCMD_TE | VTD_GCMD_QIE);

	wr(v, VTD_GCMD_REG, 4, ((keep | set) & ~clear));
}

int vtd_qi_submit(struct vtd_iommu *v, const uint64_t (*d)[2], unsigned int n)
{
	uint32_t start = v->iq_tail, seq = ++v->seq;
	int ret = 0;

	for (unsigned int i = 0; i <= n; i++) {
		uint64_t *slot = &v->iq[v->iq_tail / 8];

		if (i < n) {
			slot[0] = htole64(d[i][0]);
			slot[1] = htole64(d[i][1]);
		} else {
			slot[0] = htole64(VTD_INV_WAIT | BIT(5) | (uint64_t)seq << 32);
			slot[1] = htole64((uint64_t)(uintptr_t)v->status);
		}
		v->iq_tail = (v->iq_tail + 16) % 4096;
	}
	__atomic_add_fetch(&v->stats.descs, n + 1, __ATOMIC_RELAXED);
	wr(v, VTD_IQT_REG, 8, v->iq_tail);
	while (__atomic_load_n(v->status, __ATOMIC_ACQUIRE) != seq) {
		uint32_t iqh;

		if (!(rd(v, VTD_FSTS_REG, 4) & VTD_FSTS_IQE))
			break; /* cannot happen: the model completes before the write returns */
		iqh = (uint32_t)rd(v, VTD_IQH_REG, 8);
		ulog_warn("%s: invalidation descriptor %u refused (IQE)", v->name,
			  (unsigned int)(((iqh - start) % 4096) / 16));
		__atomic_add_fetch(&v->stats.qi_errors, 1, __ATOMIC_RELAXED);
		v->iq[iqh / 8] = htole64(VTD_INV_WAIT);
		v->iq[iqh / 8 + 1] = 0;
		wr(v, VTD_FSTS_REG, 4, VTD_FSTS_IQE);
		ret = -EIO;
	}
	return ret;
}

static void flush_dev_tlbs(struct vtd_iommu *v, uint16_t did, int64_t pasid, uint64_t addr,
			   uint64_t size);

/* The address mask (log2 of 4K pages) covering [addr, addr + size), or -1 when too large. */
static int inv_am(uint64_t addr, uint64_t size, uint64_t *base)
{
	uint64_t first = addr >> 12, last;

	if (!size || addr + (size - 1) < addr)
		return -1;
	last = (addr + (size - 1)) >> 12;
	for (int am = 0; am <= 18; am++) {
		if ((first >> am) == (last >> am)) {
			*base = (first >> am) << (am + 12);
			return am;
		}
	}
	return -1;
}

void vtd_flush_iotlb(struct vtd_iommu *v, uint16_t did, uint64_t addr, uint64_t size)
{
	uint64_t d[1][2], base;
	int am = inv_am(addr, size, &base);

	if (am < 0) {
		d[0][0] = VTD_INV_IOTLB | 2ULL << 4 | (uint64_t)did << 16;
		d[0][1] = 0;
	} else {
		d[0][0] = VTD_INV_IOTLB | 3ULL << 4 | (uint64_t)did << 16;
		d[0][1] = base | (uint64_t)am;
	}
	vtd_qi_submit(v, (const uint64_t(*)[2])d, 1);
	flush_dev_tlbs(v, did, -1, addr, size);
}

/*
 * Device-TLB invalidation of [addr, addr + size) (size 0: everything) for
 * the ATS device of @a, after its IOTLB flush (Linux's cache.c batches the
 * two the same way). Lock held.
 */
static void flush_dev_tlb(struct vtd_iommu *v, const struct vtd_attach *a, uint64_t addr,
			  uint64_t size)
{
	uint64_t d[1][2], q1;
	unsigned int order = 0;

	if (!a->m->ats)
		return;
	/* The smallest aligned block of 2^order pages holding the range. */
	if (size && !range_wraps(addr, size))
		while (order < 51 && (addr >> (12 + order)) != ((addr + size - 1) >> (12 + order)))
			order++;
	if (!size || range_wraps(addr, size) || order >= 51) {
		q1 = GENMASK(62, 12) | 1; /* S, ones up to bit 62: everything */
	} else if (!order) {
		q1 = addr & GENMASK(63, 12); /* one page, S = 0 */
	} else {
		/* S: ADDR's lowest zero bit (12 + order - 1) gives the size, ones below it. */
		q1 = (addr & ~((SZ_4K << order) - 1)) | (((SZ_4K << (order - 1)) - 1) & ~0xfffULL) |
		     1;
	}
	if (a->pasid == 0) {
		d[0][0] = VTD_INV_DEV_TLB | (uint64_t)a->m->dev.sid << 32;
		d[0][1] = q1;
	} else {
		/* PASID-based: the same ADDR, S at bit 11. */
		d[0][0] = VTD_INV_P_DEV_TLB | (uint64_t)a->m->dev.sid << 16 |
			  (uint64_t)a->pasid << 32;
		d[0][1] = (q1 & GENMASK(63, 12)) | (q1 & 1 ? BIT(11) : 0);
	}
	vtd_qi_submit(v, (const uint64_t(*)[2])d, 1);
}

/* The device TLBs of every attachment of a domain with DID @did (@pasid: that one only). */
static void flush_dev_tlbs(struct vtd_iommu *v, uint16_t did, int64_t pasid, uint64_t addr,
			   uint64_t size)
{
	for (struct vtd_attach *a = v->attached; a; a = a->next) {
		if (!a->m->ats || vtd_iommu_domain_did(a->domain) != did ||
		    (pasid >= 0 && a->pasid != (uint32_t)pasid))
			continue;
		/* A nested device's ATC holds guest addresses: a stage-2 range names none. */
		flush_dev_tlb(v, a, addr, pasid < 0 && vtd_is_nested(a->domain) ? 0 : size);
	}
}

void vtd_flush_piotlb(struct vtd_iommu *v, uint16_t did, uint32_t pasid, uint64_t addr,
		      uint64_t size, bool leaf)
{
	uint64_t d[1][2], base;
	int am = inv_am(addr, size, &base);

	d[0][0] = VTD_INV_P_IOTLB | (uint64_t)did << 16 | (uint64_t)pasid << 32;
	if (am < 0) {
		d[0][0] |= 2ULL << 4;
		d[0][1] = 0;
	} else {
		d[0][0] |= 3ULL << 4;
		d[0][1] = base | (uint64_t)am | (leaf ? BIT(6) : 0);
	}
	vtd_qi_submit(v, (const uint64_t(*)[2])d, 1);
	flush_dev_tlbs(v, did, pasid, addr, size);
}

/* ---------------------------------------------------------------------- */
/* Instance                                                               */

int vtd_did_alloc(struct vtd_iommu *v)
{
	for (unsigned int did = 2; did < 65536; did++) {
		if (!(v->did_map[did / 64] & BIT(did % 64))) {
			v->did_map[did / 64] |= BIT(did % 64);
			return (int)did;
		}
	}
	return -ENOSPC;
}

void vtd_did_free(struct vtd_iommu *v, uint16_t did)
{
	v->did_map[did / 64] &= ~BIT(did % 64);
}

static void vtd_iommu_free_mem(struct vtd_iommu *v)
{
	for (unsigned int i = 0; i < 512; i++)
		ufree(v->ctx[i]);
	ufree(v->root);
	ufree(v->iq);
	ufree(v->status);
	ufree(v->prq);
	ufree(v->did_map);
	vtd_free(v->hw);
	ufree(v);
}

int vtd_iommu_new(const struct vtd_iommu_params *p, struct vtd_iommu **out)
{
	struct vtd_params hw;
	struct vtd_iommu *v;
	unsigned int n;
	int ret;

	if (!p || !out)
		return -EINVAL;
	v = uzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	hw = p->hw;
	hw.irq = NULL;
	hw.irq_opaque = NULL;
	hw.dev_msg = route_dev_msg;
	hw.dev_msg_opaque = v;
	ret = vtd_new(&hw, &pt_mem_host, &v->hw);
	if (ret) {
		ufree(v);
		return ret;
	}
	v->root = ualloc_aligned(4096, 4096);
	v->iq = ualloc_aligned(4096, 4096);
	v->status = ualloc_aligned(64, 64);
	v->did_map = ucalloc(65536 / 64, sizeof(uint64_t));
	if (p->hw.prs)
		v->prq = ualloc_aligned(4096, 4096);
	if (!v->root || !v->iq || !v->status || !v->did_map || (p->hw.prs && !v->prq)) {
		vtd_iommu_free_mem(v);
		return -ENOMEM;
	}
	n = __atomic_fetch_add(&vtd_instances, 1, __ATOMIC_RELAXED);
	if (p->name)
		snprintf(v->name, sizeof(v->name), "%s", p->name);
	else
		snprintf(v->name, sizeof(v->name), "dmar%u", n);
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->fault_lock, NULL);
	pthread_mutex_init(&v->prq_lock, NULL);
	pthread_rwlock_init(&v->report_lock, NULL);
	pthread_mutex_init(&v->ep_lock, NULL);
	v->iommu = (struct iommu_device){.ops = &vtd_iommu_ops, .name = v->name, .priv = v};
	v->cap = rd(v, VTD_CAP_REG, 8);
	v->ecap = rd(v, VTD_ECAP_REG, 8);

	/* Probe: root table, queue, global invalidations, translation on. */
	wr(v, VTD_RTADDR_REG, 8, (uint64_t)(uintptr_t)v->root | VTD_RTADDR_SMT);
	gcmd(v, VTD_GCMD_SRTP, 0);
	wr(v, VTD_IQA_REG, 8, (uint64_t)(uintptr_t)v->iq);
	wr(v, VTD_IQT_REG, 8, 0);
	gcmd(v, VTD_GCMD_QIE, 0);
	if (v->prq) {
		/* The page request queue (Linux's intel_iommu_enable_prq), 4 KiB. */
		memset(v->prq, 0, 4096);
		wr(v, VTD_PQH_REG, 8, 0);
		wr(v, VTD_PQA_REG, 8, (uint64_t)(uintptr_t)v->prq);
	}
	pthread_mutex_lock(&v->lock);
	{
		const uint64_t d[3][2] = {
			{VTD_INV_CC | 1ULL << 4, 0},
			{VTD_INV_PC | 3ULL << 4, 0},
			{VTD_INV_IOTLB | 1ULL << 4, 0},
		};

		ret = vtd_qi_submit(v, d, 3);
	}
	pthread_mutex_unlock(&v->lock);
	gcmd(v, VTD_GCMD_TE, 0);
	if (ret || !(rd(v, VTD_GSTS_REG, 4) & VTD_GSTS_TES)) {
		vtd_iommu_free_mem(v);
		return ret ? ret : -EIO;
	}
	*out = v;
	return 0;
}

void vtd_iommu_free(struct vtd_iommu *v)
{
	if (!v)
		return;
	if (v->masters)
		ulog_warn("%s: freed with devices", v->name);
	gcmd(v, 0, VTD_GCMD_TE);
	gcmd(v, 0, VTD_GCMD_QIE);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->fault_lock);
	pthread_mutex_destroy(&v->prq_lock);
	pthread_rwlock_destroy(&v->report_lock);
	pthread_mutex_destroy(&v->ep_lock);
	vtd_iommu_free_mem(v);
}

struct iommu_device *vtd_iommu_device(struct vtd_iommu *v)
{
	return &v->iommu;
}

struct vtd *vtd_iommu_hw(struct vtd_iommu *v)
{
	return v->hw;
}

void vtd_iommu_get_stats(struct vtd_iommu *v, struct vtd_iommu_stats *st)
{
	st->descs = __atomic_load_n(&v->stats.descs, __ATOMIC_RELAXED);
	st->qi_errors = __atomic_load_n(&v->stats.qi_errors, __ATOMIC_RELAXED);
	st->faults = __atomic_load_n(&v->stats.faults, __ATOMIC_RELAXED);
	st->overflows = __atomic_load_n(&v->stats.overflows, __ATOMIC_RELAXED);
	st->prq_reqs = __atomic_load_n(&v->stats.prq_reqs, __ATOMIC_RELAXED);
	st->iopfs = __atomic_load_n(&v->stats.iopfs, __ATOMIC_RELAXED);
	st->prq_denied = __atomic_load_n(&v->stats.prq_denied, __ATOMIC_RELAXED);
	st->prq_overflows = __atomic_load_n(&v->stats.prq_overflows, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* Faults                                                                 */

void vtd_iommu_process_faults(struct vtd_iommu *v, void (*log)(void *opaque, const uint64_t rec[2]),
			      void *opaque)
{
	unsigned int nfr = (unsigned int)((v->cap >> VTD_CAP_NFR_SHIFT) & 0xff) + 1;
	uint64_t fro = ((v->cap >> VTD_CAP_FRO_SHIFT) & 0x3ff) * 16;

	pthread_mutex_lock(&v->fault_lock);
	for (;;) {
		uint32_t fsts = (uint32_t)rd(v, VTD_FSTS_REG, 4);
		unsigned int i = (fsts >> VTD_FSTS_FRI_SHIFT) & 0xff, seen = 0;

		if (fsts & VTD_FSTS_PFO) {
			__atomic_add_fetch(&v->stats.overflows, 1, __ATOMIC_RELAXED);
			wr(v, VTD_FSTS_REG, 4, VTD_FSTS_PFO);
		}
		if (!(fsts & VTD_FSTS_PPF))
			break;
		/* Oldest first: from FRI round the ring, as Linux's handler walks it. */
		for (unsigned int k = 0; k < nfr; k++, i = (i + 1) % nfr) {
			uint64_t rec[2];

			rec[1] = rd(v, (uint32_t)(fro + 16 * i + 8), 8);
			if (!(rec[1] >> 63))
				continue;
			rec[0] = rd(v, (uint32_t)(fro + 16 * i), 8);
			if (log)
				log(opaque, rec);
			wr(v, (uint32_t)(fro + 16 * i + 8), 8, BIT(63));
			__atomic_add_fetch(&v->stats.faults, 1, __ATOMIC_RELAXED);
			seen++;
		}
		if (!seen)
			break;
	}
	pthread_mutex_unlock(&v->fault_lock);
}

/* ---------------------------------------------------------------------- */
/* Devices                                                                */

bool vtd_master_ours(const struct udev *dev)
{
	return dev && dev->iommu && dev->iommu->ops == &vtd_iommu_ops;
}

bool vtd_iommu_dev_is_ours(const struct udev *dev)
{
	return vtd_master_ours(dev);
}

static uint64_t *ctx_entry(struct vtd_iommu *v, uint16_t sid, bool alloc)
{
	unsigned int bus = sid >> 8, devfn = sid & 0xff, half = bus * 2 + (devfn >= 128);

	if (!v->ctx[half]) {
		if (!alloc)
			return NULL;
		v->ctx[half] = ualloc_aligned(4096, 4096);
		if (!v->ctx[half])
			return NULL;
		/* Present root-entry half pointing at the new table (LP / UP). */
		__atomic_store_n(&v->root[bus * 2 + (devfn >= 128)],
				 htole64((uint64_t)(uintptr_t)v->ctx[half] | 1), __ATOMIC_RELEASE);
	}
	return &v->ctx[half][(devfn & 0x7f) * 4];
}

struct udev *vtd_iommu_dev_create(struct vtd_iommu *v, const struct vtd_dev_params *p, int *err)
{
	unsigned int pss_bits = (unsigned int)((v->ecap >> VTD_ECAP_PSS_SHIFT) & 0x1f) + 1;
	unsigned int pdts = 0, dir_bits;
	struct vtd_master *m, *it;
	uint64_t *ce;
	int rc;

	if (!p || p->pasid_bits > pss_bits || (p->pri && !p->ats) || p->atc_entries > 4096) {
		*err = -EINVAL;
		return NULL;
	}
	dir_bits = p->pasid_bits > 6 ? p->pasid_bits - 6 : 0;
	if (dir_bits > 7)
		pdts = dir_bits - 7;
	m = uzalloc(sizeof(*m));
	if (!m) {
		*err = -ENOMEM;
		return NULL;
	}
	if (p->ats) {
		/* Within the 4 KiB page request queue (128 descriptors), as Linux's PRQ_DEPTH. */
		unsigned int alloc = p->pri_alloc ? p->pri_alloc : VTD_PRI_ALLOC_DEFAULT;
		struct vtd_ep_params ep = {.atc_entries = p->atc_entries ? p->atc_entries : 64,
					   .pri = p->pri,
					   .pri_alloc = MIN(alloc, 4096u / 32)};

		rc = vtd_ep_new(&ep, &m->ep);
		if (rc)
			goto err_free;
		/* Linux: ATS with ECAP.DT on a PCI device; PRI also needs PRS and PDS. */
		m->ats = p->is_pci && (v->ecap & VTD_ECAP_DT);
		m->pri = m->ats && p->pri && (v->ecap & VTD_ECAP_PRS) && (v->ecap & VTD_ECAP_PDS);
	}
	m->pdir_entries = 1u << (pdts + 7);
	m->pdir = ualloc_aligned(4096, MAX((size_t)m->pdir_entries * 8, (size_t)4096));
	m->ptbl = ucalloc(m->pdir_entries, sizeof(*m->ptbl));
	rc = -ENOMEM;
	if (!m->pdir || !m->ptbl)
		goto err_free;
	pthread_mutex_lock(&v->lock);
	rc = -EEXIST;
	for (it = v->masters; it; it = it->next)
		if (it->dev.sid == p->sid)
			goto err_unlock;
	rc = -ENOMEM;
	ce = ctx_entry(v, p->sid, true);
	if (!ce)
		goto err_unlock;
	m->v = v;
	if (p->name)
		snprintf(m->name, sizeof(m->name), "%s", p->name);
	else
		snprintf(m->name, sizeof(m->name), "%s:%04x", v->name, p->sid);
	m->resv = (struct iommu_resv_region){VTD_MSI_IOVA_BASE, VTD_MSI_IOVA_LAST};
	m->dev = (struct udev){.name = m->name,
			       .iommu = &v->iommu,
			       .sid = p->sid,
			       .max_pasid_log2 = p->pasid_bits,
			       .no_dirty = p->no_dirty,
			       .is_pci = p->is_pci,
			       .nr_resv = 1,
			       .resv = &m->resv,
			       .iommu_priv = m};
	/* Context entry: PASID directory, PASIDE, RID_PASID 0; qword 0 (P) last. */
	ce[1] = 0;
	ce[2] = ce[3] = 0;
	__atomic_store_n(&ce[0],
			 htole64(CTX0_P | CTX0_PASIDE | (m->ats ? CTX0_DTE : 0) |
				 (uint64_t)pdts << CTX0_PDTS_SHIFT | (uint64_t)(uintptr_t)m->pdir),
			 __ATOMIC_RELEASE);
	pthread_mutex_lock(&v->ep_lock);
	m->next = v->masters;
	v->masters = m;
	pthread_mutex_unlock(&v->ep_lock);
	{
		const uint64_t d[1][2] = {{VTD_INV_CC | 3ULL << 4 | (uint64_t)p->sid << 32, 0}};

		vtd_qi_submit(v, d, 1);
	}
	pthread_mutex_unlock(&v->lock);
	*err = 0;
	return &m->dev;

err_unlock:
	pthread_mutex_unlock(&v->lock);
err_free:
	ufree(m->pdir);
	ufree(m->ptbl);
	vtd_ep_free(m->ep);
	ufree(m);
	*err = rc;
	return NULL;
}

static struct vtd_attach **attach_slot(struct vtd_iommu *v, struct vtd_master *m, uint32_t pasid)
{
	struct vtd_attach **pp;

	for (pp = &v->attached; *pp; pp = &(*pp)->next)
		if ((*pp)->m == m && (*pp)->pasid == pasid)
			return pp;
	return pp;
}

/* The PASID entry slot of (@m, @pasid), its table made when @alloc. Lock held. */
static uint64_t *pe_slot(struct vtd_master *m, uint32_t pasid, bool alloc)
{
	unsigned int di = pasid >> 6;

	if (di >= m->pdir_entries)
		return NULL;
	if (!m->ptbl[di]) {
		if (!alloc)
			return NULL;
		m->ptbl[di] = ualloc_aligned(4096, 4096);
		if (!m->ptbl[di])
			return NULL;
		__atomic_store_n(&m->pdir[di], htole64((uint64_t)(uintptr_t)m->ptbl[di] | 1),
				 __ATOMIC_RELEASE);
	}
	return &m->ptbl[di][(pasid & 63) * 8];
}

/* Write @pe (NULL: not present) as the entry of (@m, @pasid). Lock held. */
static int install_pe(struct vtd_master *m, uint32_t pasid, const uint64_t *pe)
{
	struct vtd_iommu *v = m->v;
	uint64_t *slot = pe_slot(m, pasid, pe != NULL), old0;

	if (!slot)
		return pe ? -ENOMEM : 0;
	old0 = le64toh(__atomic_load_n(&slot[0], __ATOMIC_RELAXED));
	if (old0 & PTE0_P) {
		uint16_t did = (uint16_t)le64toh(slot[1]);
		unsigned int pgtt = (unsigned int)((old0 >> PTE0_PGTT_SHIFT) & 7);
		uint64_t d[2][2] = {
			{VTD_INV_PC | 1ULL << 4 | (uint64_t)did << 16 | (uint64_t)pasid << 32, 0},
		};

		__atomic_store_n(&slot[0], 0, __ATOMIC_RELEASE);
		if (pgtt == 2) {
			d[1][0] = VTD_INV_IOTLB | 2ULL << 4 | (uint64_t)did << 16;
			d[1][1] = 0;
		} else {
			d[1][0] = VTD_INV_P_IOTLB | 2ULL << 4 | (uint64_t)did << 16 |
				  (uint64_t)pasid << 32;
			d[1][1] = 0;
		}
		vtd_qi_submit(v, (const uint64_t(*)[2])d, 2);
		{
			struct vtd_attach one = {.m = m, .pasid = pasid};

			flush_dev_tlb(v, &one, 0, 0);
		}
	}
	if (!pe)
		return 0;
	for (unsigned int i = 1; i < 8; i++)
		__atomic_store_n(&slot[i], htole64(pe[i]), __ATOMIC_RELAXED);
	__atomic_store_n(&slot[0], htole64(pe[0]), __ATOMIC_RELEASE);
	return 0;
}

int vtd_iommu_read_pasid_entry(struct udev *dev, uint32_t pasid, uint64_t pe[8])
{
	struct vtd_master *m;
	uint64_t *slot;

	if (!vtd_master_ours(dev))
		return -EINVAL;
	m = to_vmaster(dev);
	pthread_mutex_lock(&m->v->lock);
	slot = pe_slot(m, pasid, false);
	if (slot)
		for (unsigned int i = 0; i < 8; i++)
			pe[i] = le64toh(slot[i]);
	pthread_mutex_unlock(&m->v->lock);
	return slot ? 0 : -ENOENT;
}

/*
 * PRE in the device's context entry, and the device's PRI Enable, as
 * Linux's context_flip_pri + pci_enable_pri / pci_disable_pri do (a
 * device-selective context-cache invalidation after the entry changes).
 * Lock held.
 */
static void flip_pri(struct vtd_master *m, bool enable)
{
	struct vtd_iommu *v = m->v;
	uint64_t *ce = ctx_entry(v, (uint16_t)m->dev.sid, false);
	const uint64_t d[1][2] = {{VTD_INV_CC | 3ULL << 4 | (uint64_t)m->dev.sid << 32, 0}};
	uint64_t c0;

	if (!ce)
		return;
	c0 = le64toh(__atomic_load_n(&ce[0], __ATOMIC_RELAXED));
	c0 = enable ? c0 | CTX0_PRE : c0 & ~CTX0_PRE;
	__atomic_store_n(&ce[0], htole64(c0), __ATOMIC_RELEASE);
	vtd_qi_submit(v, d, 1);
	vtd_ep_set_pri(m->ep, enable);
}

/*
 * Attaching a domain with a fault queue turns IOPF on for the device
 * (Linux: iommufd_fault_iopf_enable -> intel_iommu_enable_iopf), once for
 * all such attachments: a device without PRI (or ATS, or not PCI) is
 * ENODEV. Lock held.
 */
static int iopf_get(struct vtd_master *m)
{
	if (!m->pri)
		return -ENODEV;
	if (m->iopf_users++ == 0)
		flip_pri(m, true);
	return 0;
}

static void iopf_put(struct vtd_master *m)
{
	if (m->iopf_users && --m->iopf_users == 0)
		flip_pri(m, false);
}

static bool has_sink(const struct iommu_domain *domain)
{
	return __atomic_load_n(&domain->sink, __ATOMIC_ACQUIRE) != NULL;
}

/* Drop the binding of (@m, @pasid) and its entry. Lock held. */
static void detach_locked(struct vtd_master *m, uint32_t pasid)
{
	struct vtd_attach **pp = attach_slot(m->v, m, pasid), *a = *pp;

	install_pe(m, pasid, NULL);
	if (a) {
		if (a->iopf)
			iopf_put(m);
		*pp = a->next;
		ufree(a);
	}
}

int vtd_attach(struct udev *dev, uint32_t pasid, struct iommu_domain *domain)
{
	struct vtd_master *m = to_vmaster(dev);
	struct vtd_iommu *v = m->v;
	struct vtd_attach **pp, *a;
	uint64_t pe[8];
	int ret;

	pthread_mutex_lock(&v->lock);
	pp = attach_slot(v, m, pasid);
	a = *pp;
	if (!a) {
		a = uzalloc(sizeof(*a));
		if (!a) {
			pthread_mutex_unlock(&v->lock);
			return -ENOMEM;
		}
		a->m = m;
		a->pasid = pasid;
	}
	if (has_sink(domain) && !a->iopf) {
		ret = iopf_get(m);
		if (ret) {
			if (*pp != a)
				ufree(a);
			pthread_mutex_unlock(&v->lock);
			return ret;
		}
	}
	vtd_make_pe(domain, pe);
	ret = install_pe(m, pasid, pe);
	if (ret) {
		if (has_sink(domain) && !a->iopf)
			iopf_put(m);
		if (*pp != a)
			ufree(a);
		else
			detach_locked(m, pasid);
		pthread_mutex_unlock(&v->lock);
		return ret;
	}
	/* Leaving a domain with a fault queue for one without turns IOPF off. */
	if (a->iopf && !has_sink(domain))
		iopf_put(m);
	a->iopf = has_sink(domain);
	a->domain = domain;
	if (*pp != a) {
		a->next = NULL;
		*pp = a;
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

void vtd_reinstall(struct vtd_iommu *v, struct iommu_domain *domain)
{
	for (struct vtd_attach *a = v->attached; a; a = a->next) {
		uint64_t pe[8];

		if (a->domain != domain)
			continue;
		vtd_make_pe(domain, pe);
		install_pe(a->m, a->pasid, pe);
	}
}

static void vtd_block_dev(struct udev *dev)
{
	struct vtd_master *m;

	if (!vtd_master_ours(dev))
		return;
	m = to_vmaster(dev);
	pthread_mutex_lock(&m->v->lock);
	detach_locked(m, 0);
	pthread_mutex_unlock(&m->v->lock);
}

static void vtd_remove_dev_pasid(struct udev *dev, uint32_t pasid, struct iommu_domain *domain)
{
	struct vtd_master *m;

	(void)domain;
	if (!vtd_master_ours(dev))
		return;
	m = to_vmaster(dev);
	pthread_mutex_lock(&m->v->lock);
	detach_locked(m, pasid);
	pthread_mutex_unlock(&m->v->lock);
}

void vtd_iommu_dev_destroy(struct udev *dev)
{
	struct vtd_master *m, **pp;
	struct vtd_iommu *v;
	uint64_t *ce;

	if (!vtd_master_ours(dev))
		return;
	m = to_vmaster(dev);
	v = m->v;
	pthread_mutex_lock(&v->lock);
	/* Whatever is still attached goes (the core detached everything it owned). */
	for (struct vtd_attach *a = v->attached, *n; a; a = n) {
		n = a->next;
		if (a->m == m)
			detach_locked(m, a->pasid);
	}
	ce = ctx_entry(v, dev->sid, false);
	if (ce) {
		const uint64_t d[2][2] = {
			{VTD_INV_CC | 3ULL << 4 | (uint64_t)dev->sid << 32, 0},
			{VTD_INV_PC | 3ULL << 4, 0},
		};

		__atomic_store_n(&ce[0], 0, __ATOMIC_RELEASE);
		vtd_qi_submit(v, d, 2);
	}
	pthread_mutex_lock(&v->ep_lock);
	for (pp = &v->masters; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&v->ep_lock);
	pthread_mutex_unlock(&v->lock);
	vtd_report_barrier(v);
	vtd_ep_free(m->ep);
	for (unsigned int i = 0; i < m->pdir_entries; i++)
		ufree(m->ptbl[i]);
	ufree(m->ptbl);
	ufree(m->pdir);
	ufree(m);
}

/* ---------------------------------------------------------------------- */
/* Driver ops                                                             */

static int vtd_hw_info(struct udev *dev, unsigned int req_type, void *buf, size_t len,
		       unsigned int *type, size_t *full_len)
{
	struct iommu_hw_info_vtd info = {0};
	struct vtd_iommu *v;

	if (!vtd_master_ours(dev))
		return -EINVAL;
	if (req_type != IOMMU_HW_INFO_TYPE_DEFAULT && req_type != IOMMU_HW_INFO_TYPE_INTEL_VTD)
		return -EOPNOTSUPP;
	v = to_vmaster(dev)->v;
	info.cap_reg = rd(v, VTD_CAP_REG, 8);
	info.ecap_reg = rd(v, VTD_ECAP_REG, 8);
	return iommu_hw_info_fill(&info, sizeof(info), IOMMU_HW_INFO_TYPE_INTEL_VTD, buf, len, type,
				  full_len);
}

static uint64_t vtd_capabilities(struct udev *dev)
{
	if (!vtd_master_ours(dev))
		return 0;
	return (to_vmaster(dev)->v->ecap & VTD_ECAP_SLADS) && !dev->no_dirty
		       ? IOMMU_HW_CAP_DIRTY_TRACKING
		       : 0;
}

static bool config_fault(uint8_t reason)
{
	/* Root, context, PASID-directory and PASID-table reasons (0x30-0x6f). */
	return reason >= 0x30 && reason < 0x70;
}

/* ---------------------------------------------------------------------- */
/* Page requests                                                          */

struct vtd_ep *vtd_iommu_dev_ep(struct udev *dev)
{
	return vtd_master_ours(dev) ? to_vmaster(dev)->ep : NULL;
}

static void prq_respond(struct vtd_iommu *v, uint16_t sid, bool pasid_valid, uint32_t pasid,
			uint16_t prgi, bool last, unsigned int code)
{
	const uint64_t d[1][2] = {
		{VTD_INV_PGRP_RESP | (uint64_t)pasid_valid << 4 | (uint64_t)code << 12 |
			 (uint64_t)sid << 16 | (uint64_t)(pasid & 0xfffff) << 32,
		 (uint64_t)last << 2 | (uint64_t)(prgi & 0x1ff) << 3},
	};

	pthread_mutex_lock(&v->lock);
	vtd_qi_submit(v, d, 1);
	pthread_mutex_unlock(&v->lock);
}

/* One page request descriptor (CPU order): 0 when a fault queue took it. */
static int prq_report(struct vtd_iommu *v, const uint64_t q[4])
{
	uint16_t sid = (uint16_t)(q[0] >> 16);
	uint32_t pasid = (uint32_t)(q[0] >> 32) & 0xfffff;
	bool rd = q[1] & 1, wr = q[1] & 2, exe = q[0] & BIT(52), pm = q[0] & BIT(53);
	/*
	 * intel_prq_report also sets the kernel's IOMMU_FAULT_PAGE_RESPONSE_
	 * NEEDS_PASID (bit 2) with PASID_VALID, and 6.12's iommufd copies the
	 * kernel flags into the record as they are: userspace sees bit 2 too.
	 */
	struct iopf_fault f = {
		.flags = IOMMU_PGFAULT_FLAGS_PASID_VALID | VTD_IOPF_NEEDS_PASID |
			 (q[1] & 4 ? IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0),
		.pasid = pasid,
		.grpid = (uint32_t)(q[1] >> 3) & 0x1ff,
		.perm = (rd ? IOMMU_PGFAULT_PERM_READ : 0) | (wr ? IOMMU_PGFAULT_PERM_WRITE : 0) |
			(exe ? IOMMU_PGFAULT_PERM_EXEC : 0) | (pm ? IOMMU_PGFAULT_PERM_PRIV : 0),
		.addr = q[1] & GENMASK(63, 12),
	};
	struct iommu_domain *domain = NULL;
	struct iommu_event_sink *sink;
	struct vtd_attach *a;

	/* Linux's prq_event_thread: no PASID, privileged R/W and execute reads are refused. */
	if (!(q[0] & BIT(8)) || (pm && (rd || wr)) || (exe && rd))
		return -EINVAL;
	/*
	 * The domain the PASID is attached to (VT-d has no user PASID table:
	 * no fallback to the RID's, as iommu_report_device_fault()). The
	 * lookup and the report run under report_lock (read), taken before
	 * v->lock: whoever frees a domain or a device waits on it after the
	 * last attachment went, so neither goes away meanwhile. v->lock is
	 * not held across the report (the core's sink takes the device lock,
	 * which the core holds around attach, which takes v->lock).
	 */
	pthread_rwlock_rdlock(&v->report_lock);
	pthread_mutex_lock(&v->lock);
	for (a = v->attached; a; a = a->next) {
		if (a->m->dev.sid == sid && a->pasid == pasid && pasid) {
			domain = a->domain;
			break;
		}
	}
	sink = domain ? __atomic_load_n(&domain->sink, __ATOMIC_ACQUIRE) : NULL;
	if (!sink || !sink->report_iopf || !a->m->pri || !a->iopf) {
		pthread_mutex_unlock(&v->lock);
		pthread_rwlock_unlock(&v->report_lock);
		return -ENODEV;
	}
	{
		struct udev *dev = &a->m->dev;
		int ret;

		pthread_mutex_unlock(&v->lock);
		ret = sink->report_iopf(domain, dev, &f);
		pthread_rwlock_unlock(&v->report_lock);
		return ret;
	}
}

void vtd_report_barrier(struct vtd_iommu *v)
{
	pthread_rwlock_wrlock(&v->report_lock);
	pthread_rwlock_unlock(&v->report_lock);
}

/*
 * PRO: page requests were dropped, and the unit answered the dropped LPIG
 * ones itself, so groups that began before and are still partial in a
 * fault queue will never end: drop them, for every attachment with a
 * fault queue (Linux's prq thread calls iopf_queue_discard_partial()).
 * The sink runs under report_lock only, as a report does; the n-th
 * attachment is found again each time, v->lock not held across the call.
 */
static void prq_discard_partial(struct vtd_iommu *v)
{
	pthread_rwlock_rdlock(&v->report_lock);
	for (unsigned int n = 0;; n++) {
		struct iommu_event_sink *sink = NULL;
		struct iommu_domain *domain = NULL;
		struct udev *dev = NULL;
		unsigned int k = 0;
		struct vtd_attach *a;

		pthread_mutex_lock(&v->lock);
		for (a = v->attached; a; a = a->next) {
			if (!a->m->pri || !a->iopf)
				continue;
			if (k++ == n) {
				domain = a->domain;
				dev = &a->m->dev;
				break;
			}
		}
		pthread_mutex_unlock(&v->lock);
		if (!domain)
			break;
		sink = __atomic_load_n(&domain->sink, __ATOMIC_ACQUIRE);
		if (sink && sink->discard_partial)
			sink->discard_partial(domain, dev);
	}
	pthread_rwlock_unlock(&v->report_lock);
}

void vtd_iommu_process_prq(struct vtd_iommu *v)
{
	if (!v->prq)
		return;
	pthread_mutex_lock(&v->prq_lock);
	for (;;) {
		uint64_t head, tail;

		/* Clear PPR before reading head and tail, so a new request sets it again. */
		wr(v, VTD_PRS_REG, 4, VTD_PRS_PPR);
		tail = rd(v, VTD_PQT_REG, 8) & 0xfe0;
		head = rd(v, VTD_PQH_REG, 8) & 0xfe0;
		if (head == tail)
			break;
		while (head != tail) {
			const uint64_t *e = &v->prq[head / 8];
			uint64_t q[4];
			int ret;

			for (unsigned int i = 0; i < 4; i++)
				q[i] = le64toh(__atomic_load_n(&e[i], __ATOMIC_ACQUIRE));
			head = (head + 32) & 0xfe0;
			__atomic_add_fetch(&v->stats.prq_reqs, 1, __ATOMIC_RELAXED);
			/* A stop marker (LPIG without R / W) needs no response. */
			if ((q[1] & 4) && !(q[1] & 3) && (q[0] & BIT(8)))
				continue;
			ret = prq_report(v, q);
			if (!ret) {
				__atomic_add_fetch(&v->stats.iopfs, 1, __ATOMIC_RELAXED);
				continue;
			}
			__atomic_add_fetch(&v->stats.prq_denied, 1, __ATOMIC_RELAXED);
			if (q[1] & 4)
				prq_respond(v, (uint16_t)(q[0] >> 16), q[0] & BIT(8),
					    (uint32_t)(q[0] >> 32) & 0xfffff,
					    (uint16_t)(q[1] >> 3) & 0x1ff, true, VTD_PRG_INVALID);
		}
		wr(v, VTD_PQH_REG, 8, tail);
	}
	/* Overflow: cleared once the queue is empty, as Linux does. */
	if (rd(v, VTD_PRS_REG, 4) & VTD_PRS_PRO) {
		__atomic_add_fetch(&v->stats.prq_overflows, 1, __ATOMIC_RELAXED);
		if ((rd(v, VTD_PQH_REG, 8) & 0xfe0) == (rd(v, VTD_PQT_REG, 8) & 0xfe0)) {
			prq_discard_partial(v);
			wr(v, VTD_PRS_REG, 4, VTD_PRS_PRO);
		}
	}
	pthread_mutex_unlock(&v->prq_lock);
}

/* Linux's intel_iommu_page_response: a page group response descriptor. */
static int vtd_page_response(struct udev *dev, const struct iopf_fault *fault,
			     const struct iommu_page_response *resp)
{
	struct vtd_master *m;
	bool pv;

	if (!vtd_master_ours(dev) || !resp || !fault)
		return -EINVAL;
	m = to_vmaster(dev);
	if (!m->pri)
		return -EOPNOTSUPP;
	pv = fault->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID;
	prq_respond(m->v, (uint16_t)dev->sid, pv, pv ? fault->pasid : 0, (uint16_t)resp->grpid,
		    fault->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		    resp->code == IOMMUFD_PAGE_RESP_SUCCESS ? VTD_PRG_SUCCESS : VTD_PRG_INVALID);
	return 0;
}

/*
 * An ATS device's access: its ATC, else a translation request, else (PRI
 * on) a page request, the page request queue drained, and a wait for the
 * response outside the epoch section; Success tries again.
 */
#define EP_PRI_ROUNDS 8

static int ep_translate(struct vtd_master *m, const struct vtd_txn *t, size_t len,
			struct vtd_result *r)
{
	unsigned int rounds = 0;
	uint16_t prgi;
	int ret;

	for (;;) {
		bool section;
		int code;

		ret = vtd_ep_translate_len(m->ep, m->v->hw, t, len, r,
					   rounds < EP_PRI_ROUNDS ? &prgi : NULL);
		if (ret != -EAGAIN)
			return ret;
		rounds++;
		section = epoch_in_section();
		if (section)
			epoch_exit();
		vtd_iommu_process_prq(m->v);
		code = vtd_ep_prg_wait(m->ep, prgi);
		if (section)
			epoch_enter();
		if (code != VTD_PRG_SUCCESS) {
			r->reason = r->reason ? r->reason : VTD_FR_FS_NP;
			return -EFAULT;
		}
	}
}

static int vtd_dma_translate(struct udev *dev, uint32_t pasid, uint64_t iova, size_t len,
			     unsigned int access, void **host, size_t *contig,
			     struct iommu_dma_fault *fault)
{
	struct vtd_txn t = {.pasid = pasid ? pasid : VTD_NO_PASID, .addr = iova};
	struct vtd_result r;
	struct vtd_iommu *v;
	int ret;

	if (!vtd_master_ours(dev) || !len || !host || !contig ||
	    (access != PT_PROT_R && access != PT_PROT_W))
		return -EINVAL;
	v = to_vmaster(dev)->v;
	t.sid = (uint16_t)dev->sid;
	/* A user request (Linux's first-stage tables set U/S). */
	t.access = access | PT_PROT_U;
	if (to_vmaster(dev)->ats)
		ret = ep_translate(to_vmaster(dev), &t, len, &r);
	else
		ret = vtd_translate(v->hw, &t, &r);
	if (!ret) {
		uint64_t left = r.size - (iova & (r.size - 1));

		*host = (void *)(uintptr_t)r.pa;
		*contig = left < len ? (size_t)left : len;
		return 0;
	}
	if (r.recorded)
		vtd_iommu_process_faults(v, NULL, NULL);
	if (fault) {
		*fault = (struct iommu_dma_fault){
			.iova = iova,
			.pasid = pasid,
			.access = access,
			.err = ret == -EFAULT && !config_fault(r.reason) ? -EFAULT : -EIO,
			.reason = r.reason};
	}
	return fault ? fault->err : -EFAULT;
}

static const struct iommu_ops vtd_iommu_ops = {
	.name = "vtd",
	.hw_info = vtd_hw_info,
	.capabilities = vtd_capabilities,
	.domain_alloc_paging_flags = vtd_domain_alloc_paging,
	.domain_alloc_nested = vtd_domain_alloc_nested,
	.block_dev = vtd_block_dev,
	.remove_dev_pasid = vtd_remove_dev_pasid,
	.page_response = vtd_page_response,
	.dma_translate = vtd_dma_translate,
};
