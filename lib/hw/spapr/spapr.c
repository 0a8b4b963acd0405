// SPDX-License-Identifier: MIT
/*
 * spapr.c - the sPAPR / PowerNV TCE IOMMU model: PHBs, their PEs, the
 * devices in them, and the DMA path.
 *
 * What it owns. A PHB (struct spapr_iommu) is one IOMMU instance with its
 * platform parameters (spapr.h: the 32-bit window, the DDW start, the TCE
 * page sizes, the level limit). It holds a list of PEs; a PE holds up to
 * two windows (tables of spapr_tce.c) and its EEH state (spapr_eeh.c);
 * devices point at their PE. The topology is built by whoever sets the
 * machine up (the `uiommu exec --config` loader, tests): create a PHB, a
 * PE per IOMMU group, devices in the PEs, then register the devices with
 * VFIO (group id = the PE's group).
 *
 * DMA (the dma_translate op). A request carries no PASID (a PASID-tagged
 * one is refused with -EIO, PE untouched). A frozen PE (DMA half) or one
 * in reset fails at once with -EIO. Otherwise an armed DMA injection that
 * matches freezes the PE (-EIO); then the window that holds the bus
 * address is looked up and its table walked with the access's direction.
 * No window, no TCE, or a TCE without the direction: the PHB freezes the
 * PE, DMA and MMIO both (PowerNV's "ER" freeze), and the request fails
 * with -EFAULT. A hit returns the host address and the bytes up to the
 * end of the TCE page.
 *
 * Invariants: a PE's windows hold a reference on their table; a PE is
 * destroyed only without devices or windows, a PHB only without PEs.
 *
 * Locks: the process-wide registry lock (the count of PHBs), then
 * phb->lock (its PE list and the PEs' device counts), then a PE's
 * win_lock / eeh_lock (spapr_tce.c, spapr_eeh.c). DMA takes none: it
 * reads a window pointer atomically inside an epoch read-side section
 * and the table behind it is freed only after a grace period.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/spapr/spapr_priv.h"
#include "util/alloc.h"
#include "util/bits.h"
#include "util/epoch.h"

static atomic_uint spapr_nr_phbs;

bool spapr_platform_present(void)
{
	return atomic_load(&spapr_nr_phbs) != 0;
}

bool spapr_is_iommu(const struct iommu_device *iommu)
{
	return iommu && iommu->ops == &spapr_iommu_ops;
}

/* ------------------------------------------------------------------ */
/* PHB                                                                */

static int spapr_config_fill(struct spapr_config *c)
{
	if (!c->dma32_size)
		c->dma32_size = (uint32_t)SPAPR_DEFAULT_DMA32_SIZE;
	if (!c->ddw_start)
		c->ddw_start = SPAPR_DEFAULT_DDW_START;
	if (!c->pgsizes)
		c->pgsizes = SPAPR_DEFAULT_PGSIZES;
	if (!c->max_levels)
		c->max_levels = SPAPR_MAX_LEVELS;
	if (!is_pow2(c->dma32_size) || c->dma32_size < (1u << 16) ||
	    !IS_ALIGNED(c->dma32_start, c->dma32_size))
		return -EINVAL;
	/* Window 1 sits at or above bit 59 and is aligned to it (TVE#1 select). */
	if (!IS_ALIGNED(c->ddw_start, SPAPR_DEFAULT_DDW_START))
		return -EINVAL;
	if (c->pgsizes & ~GENMASK(34, 12))
		return -EINVAL;
	if (!(c->pgsizes & BIT(12)))
		return -EINVAL; /* the default window uses 4 KiB TCEs */
	if (c->max_levels > SPAPR_MAX_LEVELS)
		return -EINVAL;
	return 0;
}

struct spapr_iommu *spapr_iommu_create(const struct spapr_config *cfg, int *err)
{
	struct spapr_iommu *phb;
	struct spapr_config c = cfg ? *cfg : (struct spapr_config){ 0 };
	static atomic_uint next_id;
	int rc;

	rc = spapr_config_fill(&c);
	if (rc) {
		*err = rc;
		return NULL;
	}
	phb = uzalloc(sizeof(*phb));
	if (!phb) {
		*err = -ENOMEM;
		return NULL;
	}
	phb->cfg = c;
	snprintf(phb->name, sizeof(phb->name), "spapr-phb%u", atomic_fetch_add(&next_id, 1));
	phb->iommu = (struct iommu_device){ .ops = &spapr_iommu_ops, .name = phb->name,
					    .priv = phb };
	pthread_mutex_init(&phb->lock, NULL);
	INIT_LIST_HEAD(&phb->pe_list);
	atomic_fetch_add(&spapr_nr_phbs, 1);
	*err = 0;
	return phb;
}

int spapr_iommu_destroy(struct spapr_iommu *phb)
{
	pthread_mutex_lock(&phb->lock);
	if (!list_empty(&phb->pe_list)) {
		pthread_mutex_unlock(&phb->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&phb->lock);
	pthread_mutex_destroy(&phb->lock);
	atomic_fetch_sub(&spapr_nr_phbs, 1);
	ufree(phb);
	return 0;
}

struct iommu_device *spapr_iommu_device(struct spapr_iommu *phb)
{
	return &phb->iommu;
}

/* ------------------------------------------------------------------ */
/* PEs                                                                */

struct spapr_pe *spapr_pe_create(struct spapr_iommu *phb, unsigned int pe_number, int *err)
{
	struct spapr_pe *pe, *it;

	pe = uzalloc(sizeof(*pe));
	if (!pe) {
		*err = -ENOMEM;
		return NULL;
	}
	pe->phb = phb;
	pe->number = pe_number;
	pthread_mutex_init(&pe->win_lock, NULL);
	spapr_eeh_init(pe);
	pthread_mutex_lock(&phb->lock);
	list_for_each_entry(it, &phb->pe_list, phb_next)
	{
		if (it->number == pe_number) {
			pthread_mutex_unlock(&phb->lock);
			pthread_mutex_destroy(&pe->win_lock);
			pthread_mutex_destroy(&pe->eeh_lock);
			pthread_mutex_destroy(&pe->watch_lock);
			ufree(pe);
			*err = -EEXIST;
			return NULL;
		}
	}
	list_add_tail(&pe->phb_next, &phb->pe_list);
	pthread_mutex_unlock(&phb->lock);
	*err = 0;
	return pe;
}

int spapr_pe_destroy(struct spapr_pe *pe)
{
	struct spapr_iommu *phb = pe->phb;

	pthread_mutex_lock(&phb->lock);
	pthread_mutex_lock(&pe->win_lock);
	for (unsigned int i = 0; i < SPAPR_MAX_WINDOWS; i++) {
		if (atomic_load(&pe->tables[i])) {
			pthread_mutex_unlock(&pe->win_lock);
			pthread_mutex_unlock(&phb->lock);
			return -EBUSY;
		}
	}
	pthread_mutex_unlock(&pe->win_lock);
	if (pe->nr_devs) {
		pthread_mutex_unlock(&phb->lock);
		return -EBUSY;
	}
	list_del(&pe->phb_next);
	pthread_mutex_unlock(&phb->lock);
	pthread_mutex_destroy(&pe->win_lock);
	pthread_mutex_destroy(&pe->eeh_lock);
	pthread_mutex_destroy(&pe->watch_lock);
	ufree(pe);
	return 0;
}

unsigned int spapr_pe_number(const struct spapr_pe *pe)
{
	return pe->number;
}

void spapr_pe_info(const struct spapr_pe *pe, struct spapr_pe_info *info)
{
	const struct spapr_config *c = &pe->phb->cfg;

	*info = (struct spapr_pe_info){
		.tce32_start = c->dma32_start,
		.tce32_size = c->dma32_size,
		.pgsizes = c->pgsizes,
		.max_dynamic_windows_supported = c->no_ddw ? 0 : SPAPR_MAX_WINDOWS,
		.max_levels = c->max_levels,
	};
}

/* ------------------------------------------------------------------ */
/* Devices                                                            */

struct udev *spapr_dev_create(struct spapr_pe *pe, const char *name, uint32_t rid, int *err)
{
	struct spapr_dev *sdev;

	if (!pe || !name) {
		*err = -EINVAL;
		return NULL;
	}
	sdev = uzalloc(sizeof(*sdev));
	if (!sdev) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(sdev->name, sizeof(sdev->name), "%s", name);
	sdev->pe = pe;
	sdev->udev = (struct udev){
		.name = sdev->name,
		.iommu = &pe->phb->iommu,
		.sid = rid,
		.is_pci = true,
		.no_dirty = true,
		.iommu_priv = sdev,
	};
	pthread_mutex_lock(&pe->phb->lock);
	pe->nr_devs++;
	pthread_mutex_unlock(&pe->phb->lock);
	*err = 0;
	return &sdev->udev;
}

static struct spapr_dev *to_sdev(const struct udev *dev)
{
	if (!dev || !spapr_is_iommu(dev->iommu))
		return NULL;
	return dev->iommu_priv;
}

void spapr_dev_destroy(struct udev *dev)
{
	struct spapr_dev *sdev = to_sdev(dev);

	if (!sdev)
		return;
	pthread_mutex_lock(&sdev->pe->phb->lock);
	sdev->pe->nr_devs--;
	pthread_mutex_unlock(&sdev->pe->phb->lock);
	ufree(sdev);
}

struct spapr_pe *spapr_dev_pe(const struct udev *dev)
{
	struct spapr_dev *sdev = to_sdev(dev);

	return sdev ? sdev->pe : NULL;
}

bool spapr_dev_mmio_ok(struct udev *dev, bool write)
{
	struct spapr_pe *pe = spapr_dev_pe(dev);

	(void)write;
	if (!pe)
		return true;
	return !(atomic_load(&pe->eeh) & (SPAPR_PE_MMIO_FROZEN | SPAPR_PE_RESET));
}

/* ------------------------------------------------------------------ */
/* DMA                                                                */

static int dma_fail(struct iommu_dma_fault *fault, int err, unsigned int reason)
{
	fault->err = err;
	fault->reason = reason;
	return err;
}

static int spapr_dma_translate(struct udev *dev, uint32_t pasid, uint64_t iova, size_t len,
			       unsigned int access, void **host, size_t *contig,
			       struct iommu_dma_fault *fault)
{
	struct spapr_pe *pe = spapr_dev_pe(dev);
	bool write = access & IOMMU_WRITE;
	struct spapr_table *tbl = NULL;
	struct pt_leaf leaf;
	struct pt_fault pf;
	enum pt_fault_reason r;
	uint64_t off;
	int ret = 0;

	*fault = (struct iommu_dma_fault){ .iova = iova, .pasid = pasid,
					   .access = write ? IOMMU_WRITE : IOMMU_READ };
	if (!pe)
		return dma_fail(fault, -EIO, SPAPR_DMA_FAULT_NO_PE);
	if (pasid)
		return dma_fail(fault, -EIO, SPAPR_DMA_FAULT_PASID);
	if (atomic_load(&pe->eeh) & (SPAPR_PE_DMA_FROZEN | SPAPR_PE_RESET))
		return dma_fail(fault, -EIO, SPAPR_DMA_FAULT_FROZEN);
	if (atomic_load(&pe->inject_armed) && spapr_eeh_inject_hit(pe, iova, write)) {
		spapr_pe_freeze(pe);
		return dma_fail(fault, -EIO, SPAPR_DMA_FAULT_INJECTED);
	}

	epoch_enter();
	for (unsigned int i = 0; i < SPAPR_MAX_WINDOWS; i++) {
		struct spapr_table *t = atomic_load_explicit(&pe->tables[i], memory_order_acquire);

		if (t && iova >= t->bus_start && iova - t->bus_start < t->window_size) {
			tbl = t;
			break;
		}
	}
	if (!tbl) {
		epoch_exit();
		spapr_pe_freeze(pe);
		return dma_fail(fault, -EFAULT, SPAPR_DMA_FAULT_NO_WINDOW);
	}
	r = pt_table_walk(&tbl->pt, iova, write ? PT_PROT_W : PT_PROT_R, &leaf, &pf);
	off = r == PT_OK ? (iova - tbl->bus_start) & (leaf.size - 1) : 0;
	epoch_exit();
	if (r != PT_OK) {
		spapr_pe_freeze(pe);
		return dma_fail(fault, -EFAULT,
				r == PT_FAULT_PERMISSION ? SPAPR_DMA_FAULT_PERM
							 : SPAPR_DMA_FAULT_NOT_MAPPED);
	}
	/* leaf.oa is the host address of iova; the run ends with the TCE page. */
	*host = (void *)(uintptr_t)leaf.oa;
	*contig = (size_t)MIN((uint64_t)len, leaf.size - off);
	return ret;
}

const struct iommu_ops spapr_iommu_ops = {
	.name = "spapr-tce",
	.dma_translate = spapr_dma_translate,
};
