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
 *
 * Locks: v->lock guards the driver's structures, DIDs, attachments and the
 * queue; it is taken inside a domain's own lock never (unmap releases the
 * domain lock before flushing). fault_lock serialises fault consumption.
 * The model's own lock is innermost (MMIO).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/vtd/vtd_drv.h"
#include "util/alloc.h"
#include "util/log.h"

static unsigned int vtd_instances;

static const struct iommu_ops vtd_iommu_ops;

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
	ret = vtd_new(&hw, &pt_mem_host, &v->hw);
	if (ret) {
		ufree(v);
		return ret;
	}
	v->root = ualloc_aligned(4096, 4096);
	v->iq = ualloc_aligned(4096, 4096);
	v->status = ualloc_aligned(64, 64);
	v->did_map = ucalloc(65536 / 64, sizeof(uint64_t));
	if (!v->root || !v->iq || !v->status || !v->did_map) {
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
	v->iommu = (struct iommu_device){.ops = &vtd_iommu_ops, .name = v->name, .priv = v};
	v->cap = rd(v, VTD_CAP_REG, 8);
	v->ecap = rd(v, VTD_ECAP_REG, 8);

	/* Probe: root table, queue, global invalidations, translation on. */
	wr(v, VTD_RTADDR_REG, 8, (uint64_t)(uintptr_t)v->root | VTD_RTADDR_SMT);
	gcmd(v, VTD_GCMD_SRTP, 0);
	wr(v, VTD_IQA_REG, 8, (uint64_t)(uintptr_t)v->iq);
	wr(v, VTD_IQT_REG, 8, 0);
	gcmd(v, VTD_GCMD_QIE, 0);
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

	if (!p || p->pasid_bits > pss_bits) {
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
	m->pdir_entries = 1u << (pdts + 7);
	m->pdir = ualloc_aligned(4096, MAX((size_t)m->pdir_entries * 8, (size_t)4096));
	m->ptbl = ucalloc(m->pdir_entries, sizeof(*m->ptbl));
	if (!m->pdir || !m->ptbl) {
		ufree(m->pdir);
		ufree(m->ptbl);
		ufree(m);
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&v->lock);
	for (it = v->masters; it; it = it->next) {
		if (it->dev.sid == p->sid) {
			pthread_mutex_unlock(&v->lock);
			ufree(m->pdir);
			ufree(m->ptbl);
			ufree(m);
			*err = -EEXIST;
			return NULL;
		}
	}
	ce = ctx_entry(v, p->sid, true);
	if (!ce) {
		pthread_mutex_unlock(&v->lock);
		ufree(m->pdir);
		ufree(m->ptbl);
		ufree(m);
		*err = -ENOMEM;
		return NULL;
	}
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
			 htole64(CTX0_P | CTX0_PASIDE | (uint64_t)pdts << CTX0_PDTS_SHIFT |
				 (uint64_t)(uintptr_t)m->pdir),
			 __ATOMIC_RELEASE);
	m->next = v->masters;
	v->masters = m;
	{
		const uint64_t d[1][2] = {{VTD_INV_CC | 3ULL << 4 | (uint64_t)p->sid << 32, 0}};

		vtd_qi_submit(v, d, 1);
	}
	pthread_mutex_unlock(&v->lock);
	*err = 0;
	return &m->dev;
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

/* Drop the binding of (@m, @pasid) and its entry. Lock held. */
static void detach_locked(struct vtd_master *m, uint32_t pasid)
{
	struct vtd_attach **pp = attach_slot(m->v, m, pasid), *a = *pp;

	install_pe(m, pasid, NULL);
	if (a) {
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
	vtd_make_pe(domain, pe);
	ret = install_pe(m, pasid, pe);
	if (ret) {
		if (*pp != a)
			ufree(a);
		else
			detach_locked(m, pasid);
		pthread_mutex_unlock(&v->lock);
		return ret;
	}
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
	for (pp = &v->masters; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&v->lock);
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
	size_t n = MIN(len, sizeof(info));
	struct vtd_iommu *v;

	if (!vtd_master_ours(dev))
		return -EINVAL;
	if (req_type != IOMMU_HW_INFO_TYPE_DEFAULT && req_type != IOMMU_HW_INFO_TYPE_INTEL_VTD)
		return -EOPNOTSUPP;
	v = to_vmaster(dev)->v;
	info.cap_reg = rd(v, VTD_CAP_REG, 8);
	info.ecap_reg = rd(v, VTD_ECAP_REG, 8);
	if (n && !buf)
		return -EFAULT;
	if (n)
		memcpy(buf, &info, n);
	*type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	*full_len = sizeof(info);
	return (int)n;
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
	.dma_translate = vtd_dma_translate,
};
