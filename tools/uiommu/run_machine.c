// SPDX-License-Identifier: MIT
/*
 * run_machine.c - the hardware of a run scenario, built with the library's
 * internal APIs (see run_machine.h for why this is the only such place).
 *
 * What it owns: the MSI doorbell (the platform's interrupt controller,
 * RUN_MSI_EVENTS event IDs), the SMMUv3 instance whose MSI page it is,
 * and per device an SMMUv3 device (stream ID, SSID bits, stall), a dmatest
 * function on it (Memory Space, Bus Master and PASID enabled, as the
 * guest's driver would at probe) and its binding to the iommufd context.
 * With machine.iommu.api "vfio" (no iommufd given) each function is
 * registered with VFIO instead, as PCI function 0000:00:<i+1>.0 in group
 * i + 1 (run_machine_vfio_name()), for the runner to open through
 * /dev/vfio like a VMM; VFIO's open enables the function.
 *
 * Teardown order matters: devices are blocked first (which terminates
 * stalled transactions, so DMA threads can end), the caller joins its
 * threads, then functions, bindings and devices go (run_machine_unplug);
 * the caller then closes the iommufd, whose HWPTs are the SMMU's domains,
 * and only then do the instance and the doorbell go (run_machine_free).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "dev/dmatest/dmatest.h"
#include "dev/dmatest/dmatest_vfio.h"
#include "dev/msi_doorbell.h"
#include "iommufd/iommufd_private.h"
#include "run_machine.h"

struct run_mdev {
	struct udev *udev;
	struct dmatest *dt;
	struct dmatest_vfio *dv; /* machine.iommu.api "vfio": the function behind VFIO */
	struct iommufd_device *idev;
	uint32_t id;
	bool attached;
};

struct run_machine {
	struct msi_doorbell *db;
	struct smmuv3_iommu *smmu;
	unsigned int nr;
	struct run_mdev dev[RUN_MAX_DEVICES];
};

static void cache_geom(struct xlate_cache_geom *g, unsigned int entries)
{
	if (entries == UINT32_MAX)
		return; /* the model's default */
	g->entries = entries;
	g->ways = entries ? 4 : 0;
}

static int enable_function(struct dmatest *dt, unsigned int pasid_bits)
{
	uint32_t v = 0;
	int ret;

	ret = dmatest_cfg_write(dt, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (ret || !pasid_bits)
		return ret;
	/* PASID capability: Enable (bit 0 of its control register, offset 6). */
	ret = dmatest_cfg_read(dt, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2, &v);
	if (!ret)
		ret = dmatest_cfg_write(dt, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2,
					v | PCI_PASID_CTRL_ENABLE);
	return ret;
}

int run_machine_build(const struct run_machine_desc *desc, struct uiommu_file *iommufd,
		      void (*evt_log)(void *, const uint64_t[4], enum smmuv3_evt_route),
		      void *opaque, struct run_machine **out, char *err, size_t errlen)
{
	struct smmuv3_iommu_params p;
	struct iommufd_ctx *ictx;
	struct run_machine *m;
	int ret = 0;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->db = msi_doorbell_create(RUN_MSI_EVENTS, &ret);
	if (!m->db) {
		snprintf(err, errlen, "the MSI doorbell: %s", strerror(-ret));
		goto fail;
	}
	smmuv3_iommu_params_default(&p);
	/*
	 * Without a vIOMMU the guest's devices translate through the host's
	 * stage 2 alone: an SMMU with stage 2 only, on which the driver's
	 * paging HWPT is a stage 2 (on one with both stages Linux's driver,
	 * and ours, would make it a stage 1).
	 */
	p.hw.s1p = desc->viommu;
	p.hw.stall = desc->stall;
	p.hw.httu = desc->httu;
	p.hw.ssidsize = desc->ssidsize;
	cache_geom(&p.hw.cache.iotlb, desc->iotlb);
	cache_geom(&p.hw.cache.walk[0], desc->walk);
	cache_geom(&p.hw.cache.walk[1], desc->walk);
	cache_geom(&p.hw.cache.ipa, desc->ipa);
	cache_geom(&p.hw.cache.cfg, desc->cfg);
	p.msi_page = msi_doorbell_page(m->db);
	p.evt_log = evt_log;
	p.evt_log_opaque = opaque;
	p.name = "smmuv3.0";
	ret = smmuv3_iommu_new(&p, &m->smmu);
	if (ret) {
		snprintf(err, errlen, "the SMMUv3 instance: %s", strerror(-ret));
		goto fail;
	}
	ictx = desc->vfio ? NULL : iommufd_ctx_from_file(iommufd);
	if (IS_ERR(ictx)) {
		ret = (int)PTR_ERR(ictx);
		snprintf(err, errlen, "the iommufd: %s", strerror(-ret));
		goto fail;
	}
	for (unsigned int i = 0; i < desc->nr_devices; i++) {
		const struct run_device *d = &desc->devices[i];
		struct smmuv3_dev_params dp = {
			.sid = d->sid,
			.ssid_bits = d->pasid_bits,
			.can_stall = d->stall,
			.is_pci = true,
		};
		struct dmatest_params tp = {.pasid_width = d->pasid_bits};
		struct run_mdev *md = &m->dev[i];

		md->udev = smmuv3_iommu_dev_create(m->smmu, &dp, &ret);
		if (!md->udev) {
			snprintf(err, errlen, "%s (SID 0x%x): %s", d->name, d->sid, strerror(-ret));
			break;
		}
		m->nr++;
		if (desc->vfio) {
			char name[16];

			run_machine_vfio_name(i, name, sizeof(name));
			md->dv = dmatest_vfio_create(md->udev, name, i + 1, &tp, &ret);
			if (!md->dv) {
				snprintf(err, errlen, "%s: VFIO device %s: %s", d->name, name,
					 strerror(-ret));
				break;
			}
			md->dt = dmatest_vfio_function(md->dv);
			continue;
		}
		md->dt = dmatest_create(md->udev, &tp, &ret);
		if (md->dt)
			ret = enable_function(md->dt, d->pasid_bits);
		if (ret) {
			snprintf(err, errlen, "%s: the dmatest function: %s", d->name,
				 strerror(-ret));
			break;
		}
		md->idev = iommufd_device_bind(ictx, md->udev, &md->id, true);
		if (IS_ERR(md->idev)) {
			ret = (int)PTR_ERR(md->idev);
			md->idev = NULL;
			snprintf(err, errlen, "%s: bind: %s", d->name, strerror(-ret));
			break;
		}
	}
	if (ictx)
		iommufd_ctx_put(ictx);
	if (ret)
		goto fail;
	*out = m;
	return 0;
fail:
	run_machine_free(m);
	return ret ? ret : -ENOMEM;
}

void run_machine_unplug(struct run_machine *m, void (*before_unbind)(void *), void *arg)
{
	if (!m)
		return;
	for (unsigned int i = 0; i < m->nr; i++)
		if (m->dev[i].idev && m->dev[i].attached)
			iommufd_device_detach(m->dev[i].idev, IOMMU_NO_PASID);
	if (before_unbind)
		before_unbind(arg);
	for (unsigned int i = 0; i < m->nr; i++) {
		struct run_mdev *md = &m->dev[i];

		if (md->dv)
			dmatest_vfio_destroy(md->dv);
		else if (md->dt)
			dmatest_destroy(md->dt);
		if (md->idev)
			iommufd_device_unbind(md->idev);
		smmuv3_iommu_dev_destroy(md->udev);
	}
	m->nr = 0;
}

void run_machine_free(struct run_machine *m)
{
	if (!m)
		return;
	run_machine_unplug(m, NULL, NULL);
	smmuv3_iommu_free(m->smmu);
	msi_doorbell_destroy(m->db);
	free(m);
}

uint32_t run_machine_dev_id(const struct run_machine *m, unsigned int dev)
{
	return m->dev[dev].id;
}

struct dmatest *run_machine_dmatest(const struct run_machine *m, unsigned int dev)
{
	return m->dev[dev].dt;
}

int run_machine_attach(struct run_machine *m, unsigned int dev, uint32_t *pt_id)
{
	struct run_mdev *md = &m->dev[dev];
	int ret;

	if (md->attached)
		return iommufd_device_replace(md->idev, IOMMU_NO_PASID, pt_id);
	ret = iommufd_device_attach(md->idev, IOMMU_NO_PASID, pt_id);
	if (!ret)
		md->attached = true;
	return ret;
}

struct smmuv3_iommu *run_machine_smmu(const struct run_machine *m)
{
	return m->smmu;
}

struct msi_doorbell *run_machine_doorbell(const struct run_machine *m)
{
	return m->db;
}

int run_machine_read_ste(const struct run_machine *m, unsigned int dev, uint64_t ste[8])
{
	int ret = smmuv3_iommu_read_ste(m->smmu, m->dev[dev].udev->sid, ste);

	for (unsigned int i = 0; !ret && i < 8; i++)
		ste[i] = le64toh(ste[i]);
	return ret;
}

uint64_t run_machine_msis_lost(const struct run_machine *m, unsigned int dev)
{
	const struct run_mdev *md = &m->dev[dev];
	struct dmatest_irq_stats st;
	uint64_t n = 0;

	if (dev >= m->nr || !md->dt)
		return 0;
	/* Host-owned vectors (VFIO): messages that had to cross a guest's stage 1 and did not. */
	if (md->dv)
		return dmatest_vfio_msi_dropped(md->dv);
	for (unsigned int v = 0; v < DMATEST_NR_VECTORS; v++)
		if (!dmatest_irq_stats(md->dt, v, &st))
			n += st.msi_faults;
	return n;
}

void run_machine_vfio_name(unsigned int dev, char *buf, size_t len)
{
	snprintf(buf, len, "0000:00:%02x.0", dev + 1);
}
