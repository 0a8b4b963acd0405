// SPDX-License-Identifier: MIT
/*
 * machine.c - the emulated machine: a topology's IOMMU instances and
 * devices, built and registered with VFIO; and the process's machine,
 * built lazily from UIOMMU_CONFIG.
 *
 * What it owns: for each SMMUv3 instance its MSI doorbell and its driver
 * instance (which owns the model), for each sPAPR PHB the model and one PE
 * per group (PE number = group number, made by the group's first device),
 * for each device its struct udev and its dmatest function behind VFIO,
 * and a copy of the topology they came from.
 * A machine is what a VMM's board file is to QEMU: lib/vmm is the VMM side
 * of the layers, above the models (lib/hw), VFIO and the devices (lib/dev),
 * which it plugs together and none of which know about it.
 *
 * Build order: instances, then each device (udev, then its function and
 * registration, in topology order, so cdev numbers follow the file). Any
 * failure unwinds what was made, in reverse. Destroy unregisters every
 * device before freeing anything, so that an open device (EBUSY) leaves
 * the machine whole: what was unregistered before it is registered again.
 *
 * The process's machine (vmm_machine_ensure()): decided once, under
 * machine_lock, at the first open under /dev/vfio; the decision (built,
 * the program's own topology, or failed) sticks, except after ENOMEM,
 * which the next open retries. The message of a failed configuration is
 * logged once. The machine then lives as long as the process (as the mock
 * IOMMU does).
 *
 * Locks: machine_lock guards the process's machine and its state; it is
 * held while building (VFIO's registry lock is taken inside). A struct
 * machine has no lock of its own (machine.h's threading rule).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/dmatest/dmatest_vfio.h"
#include "dev/msi_doorbell.h"
#include "hw/mock/mock.h"
#include "hw/smmuv3/smmuv3_iommu.h"
#include "hw/spapr/spapr.h"
#include "hw/vtd/vtd_iommu.h"
#include "util/alloc.h"
#include "util/bits.h"
#include "util/log.h"
#include "vfio/vfio.h"
#include "vmm/machine.h"

#include <linux/iommufd_test.h>

#define MACHINE_MSI_EVENTS 64 /* event IDs each instance's doorbell routes */
#define MACHINE_ERR_MAX	   512

struct machine_iommu {
	struct smmuv3_iommu *smmu; /* an SMMUv3 instance, else NULL */
	struct spapr_iommu *spapr; /* an sPAPR PHB, else NULL */
	struct vtd_iommu *vtd;	   /* a VT-d unit, else NULL */
	struct msi_doorbell *db;
};

struct machine_dev {
	struct udev *udev;
	struct dmatest_vfio *dv;
	bool mock, vtd;
	struct spapr_pe *pe; /* sPAPR: its group's PE */
	bool owns_pe;	     /* the group's first device made the PE */
};

struct machine {
	struct topology *topo;
	struct machine_iommu *iommus;
	struct machine_dev *devs;
	unsigned int nr_devs; /* devices made so far (all of them once built) */
};

static void machine_free(struct machine *m)
{
	for (unsigned int i = m->nr_devs; i-- > 0;) {
		struct machine_dev *md = &m->devs[i];

		dmatest_vfio_destroy(md->dv);
		if (md->udev && md->mock)
			mock_dev_destroy(md->udev);
		else if (md->udev && md->pe)
			spapr_dev_destroy(md->udev);
		else if (md->udev && md->vtd)
			vtd_iommu_dev_destroy(md->udev);
		else if (md->udev)
			smmuv3_iommu_dev_destroy(md->udev);
	}
	/* PEs after all their devices. */
	for (unsigned int i = m->nr_devs; i-- > 0;)
		if (m->devs[i].owns_pe && spapr_pe_destroy(m->devs[i].pe))
			ulog_err("machine: the PE of group %u is still busy",
				 m->topo->devices[i].group);
	for (unsigned int i = m->iommus ? m->topo->nr_iommus : 0; i-- > 0;) {
		if (m->iommus[i].spapr && spapr_iommu_destroy(m->iommus[i].spapr))
			ulog_err("machine: sPAPR PHB %s still has PEs", m->topo->iommus[i].name);
		smmuv3_iommu_free(m->iommus[i].smmu);
		vtd_iommu_free(m->iommus[i].vtd);
		if (m->iommus[i].db)
			msi_doorbell_destroy(m->iommus[i].db);
	}
	ufree(m->devs);
	ufree(m->iommus);
	topology_free(m->topo);
	ufree(m);
}

/* Stream table bits: enough for the largest SID of instance @i (at least 8). */
static unsigned int strtab_bits(const struct topology *t, unsigned int i)
{
	unsigned int bits = 8;

	for (unsigned int d = 0; d < t->nr_devices; d++)
		while (t->devices[d].iommu == i && bits < TOPO_SID_BITS_MAX &&
		       t->devices[d].sid >> bits)
			bits++;
	return MIN(bits, t->iommus[i].sidsize);
}

static int make_iommu(struct machine *m, unsigned int i, char *err, size_t errlen)
{
	const struct topo_iommu *io = &m->topo->iommus[i];
	struct machine_iommu *mi = &m->iommus[i];
	struct smmuv3_iommu_params p;
	int rc = 0;

	if (io->model == TOPO_IOMMU_MOCK)
		return 0;
	if (io->model == TOPO_IOMMU_SPAPR) {
		struct spapr_config cfg = {0}; /* the platform's defaults */

		mi->spapr = spapr_iommu_create(&cfg, &rc);
		if (mi->spapr)
			return 0;
		goto fail;
	}
	if (io->model == TOPO_IOMMU_VTD) {
		struct vtd_iommu_params vp;

		vtd_iommu_params_default(&vp);
		vp.hw.no_cache = io->no_cache;
		vp.hw.cache = io->cache;
		vp.hw.ats = io->ats;
		vp.hw.prs = io->prs;
		vp.name = io->name;
		rc = vtd_iommu_new(&vp, &mi->vtd);
		if (!rc)
			return 0;
		goto fail;
	}
	mi->db = msi_doorbell_create(MACHINE_MSI_EVENTS, &rc);
	if (!mi->db)
		goto fail;
	smmuv3_iommu_params_default(&p);
	p.hw.s1p = io->s1;
	p.hw.s2p = io->s2;
	p.hw.httu = io->httu;
	p.hw.stall = io->stall;
	p.hw.stall_force = io->stall_force;
	p.hw.sidsize = io->sidsize;
	p.hw.ssidsize = io->ssidsize;
	p.hw.no_cache = io->no_cache;
	p.hw.cache = io->cache;
	p.strtab_log2 = strtab_bits(m->topo, i);
	p.name = io->name;
	p.msi_page = msi_doorbell_page(mi->db);
	rc = smmuv3_iommu_new(&p, &mi->smmu);
	if (!rc)
		return 0;
fail:
	snprintf(err, errlen, "%s: IOMMU %s: %s", m->topo->source, io->name, strerror(-rc));
	return rc;
}

static int make_device(struct machine *m, unsigned int i, char *err, size_t errlen)
{
	const struct topo_device *dev = &m->topo->devices[i];
	const struct topo_iommu *io = &m->topo->iommus[dev->iommu];
	struct dmatest_params dp = {.pasid_width = dev->pasid_width};
	struct machine_dev *md = &m->devs[i];
	int rc = 0;

	if (io->model == TOPO_IOMMU_MOCK) {
		md->mock = true;
		md->udev = mock_dev_create(dev->pasid_width ? MOCK_FLAGS_DEVICE_PASID : 0, &rc);
	} else if (io->model == TOPO_IOMMU_SPAPR) {
		/* The group is a PE: its first device makes it (PE number = group). */
		for (unsigned int j = 0; j < i && !md->pe; j++)
			if (m->devs[j].pe && m->topo->devices[j].group == dev->group)
				md->pe = m->devs[j].pe;
		if (!md->pe) {
			md->pe = spapr_pe_create(m->iommus[dev->iommu].spapr, dev->group, &rc);
			md->owns_pe = md->pe != NULL;
		}
		if (md->pe)
			md->udev = spapr_dev_create(md->pe, dev->name, dev->sid, &rc);
	} else if (io->model == TOPO_IOMMU_VTD) {
		struct vtd_dev_params vp = {
			.sid = (uint16_t)dev->sid,
			.pasid_bits = dev->pasid_width,
			.is_pci = true,
			.ats = dev->ats,
			.pri = dev->pri,
			.name = dev->name,
		};

		md->vtd = true;
		md->udev = vtd_iommu_dev_create(m->iommus[dev->iommu].vtd, &vp, &rc);
	} else {
		struct smmuv3_dev_params sp = {
			.sid = dev->sid,
			.ssid_bits = dev->pasid_width,
			.can_stall = dev->can_stall,
			.ats = dev->ats,
			.pri = dev->pri,
			.is_pci = true,
			.name = dev->name,
		};

		md->udev = smmuv3_iommu_dev_create(m->iommus[dev->iommu].smmu, &sp, &rc);
	}
	m->nr_devs = i + 1;
	if (md->udev)
		md->dv = dmatest_vfio_create(md->udev, dev->name, dev->group, &dp, &rc);
	if (md->dv)
		return 0;
	if (rc == -EEXIST && md->udev)
		snprintf(err, errlen, "%s: device %s: VFIO has a device of that name already",
			 m->topo->source, dev->name);
	else if (rc == -EINVAL && md->udev)
		snprintf(err, errlen,
			 "%s: device %s: VFIO refused it in group %u (a group of another IOMMU "
			 "instance?)",
			 m->topo->source, dev->name, dev->group);
	else
		snprintf(err, errlen, "%s: device %s: %s", m->topo->source, dev->name,
			 strerror(-rc));
	return rc;
}

int machine_create(const struct topology *t, struct machine **out, char *err, size_t errlen)
{
	struct machine *m;
	int rc;

	*out = NULL;
	if (errlen)
		err[0] = 0;
	m = uzalloc(sizeof(*m));
	if (!m)
		goto nomem;
	rc = topology_copy(t, &m->topo);
	if (rc) {
		ufree(m);
		goto nomem;
	}
	m->iommus = ucalloc(t->nr_iommus ? t->nr_iommus : 1, sizeof(*m->iommus));
	m->devs = ucalloc(t->nr_devices ? t->nr_devices : 1, sizeof(*m->devs));
	if (!m->iommus || !m->devs) {
		machine_free(m);
		goto nomem;
	}
	for (unsigned int i = 0; i < t->nr_iommus; i++) {
		rc = make_iommu(m, i, err, errlen);
		if (rc)
			goto fail;
	}
	for (unsigned int i = 0; i < t->nr_devices; i++) {
		rc = make_device(m, i, err, errlen);
		if (rc)
			goto fail;
	}
	*out = m;
	return 0;
fail:
	machine_free(m);
	return rc;
nomem:
	snprintf(err, errlen, "%s: out of memory", t->source);
	return -ENOMEM;
}

int machine_destroy(struct machine *m)
{
	unsigned int i;
	int rc = 0;

	if (!m)
		return 0;
	for (i = m->nr_devs; i-- > 0;) {
		rc = vfio_unregister_device(dmatest_vfio_device(m->devs[i].dv));
		if (rc)
			break;
	}
	if (rc) {
		/* Put back what went, in the original order (the cdev numbers come back too). */
		for (unsigned int j = i + 1; j < m->nr_devs; j++)
			if (vfio_register_device(dmatest_vfio_device(m->devs[j].dv)))
				ulog_err("machine: device %s could not be registered again",
					 m->topo->devices[j].name);
		return rc;
	}
	machine_free(m);
	return 0;
}

const struct topology *machine_topology(const struct machine *m)
{
	return m->topo;
}

struct dmatest_vfio *machine_dmatest(struct machine *m, const char *pci_name)
{
	for (unsigned int i = 0; i < m->nr_devs; i++)
		if (!strcmp(m->topo->devices[i].name, pci_name))
			return m->devs[i].dv;
	return NULL;
}

static int iommu_index(const struct machine *m, const char *name)
{
	for (unsigned int i = 0; i < m->topo->nr_iommus; i++)
		if (!strcmp(m->topo->iommus[i].name, name))
			return (int)i;
	return -1;
}

struct smmuv3_iommu *machine_smmu(struct machine *m, const char *iommu_name)
{
	int i = iommu_index(m, iommu_name);

	return i < 0 ? NULL : m->iommus[i].smmu;
}

struct msi_doorbell *machine_doorbell(struct machine *m, const char *iommu_name)
{
	int i = iommu_index(m, iommu_name);

	return i < 0 ? NULL : m->iommus[i].db;
}

/* ---------------------------------------------------------------------- */
/* The process's machine                                                  */

enum machine_state {
	MACHINE_UNDECIDED,
	MACHINE_BUILT,
	MACHINE_EXTERNAL, /* the program registered its own devices */
	MACHINE_FAILED,
};

static pthread_mutex_t machine_lock = PTHREAD_MUTEX_INITIALIZER;
static enum machine_state machine_state;
static struct machine *the_machine;

static int machine_build_locked(void)
{
	const char *cfg = getenv("UIOMMU_CONFIG");
	struct topology *t = NULL;
	char *msg = ualloc(MACHINE_ERR_MAX);
	int rc;

	if (!msg)
		return -ENOMEM;
	msg[0] = 0;
	if (cfg && *cfg)
		rc = topology_load(cfg, &t, msg, MACHINE_ERR_MAX);
	else
		rc = topology_default(&t);
	if (!rc) {
		rc = machine_create(t, &the_machine, msg, MACHINE_ERR_MAX);
		topology_free(t);
	}
	if (!rc) {
		machine_state = MACHINE_BUILT;
	} else if (rc != -ENOMEM) {
		char line[MACHINE_ERR_MAX + 64];

		/* Whatever the log level: the program's open fails because of it. */
		machine_state = MACHINE_FAILED;
		snprintf(line, sizeof(line), "%s (UIOMMU_CONFIG; /dev/vfio has no devices)",
			 msg[0] ? msg : "the topology could not be built");
		ulog_emit(ULOG_ERR, line);
	}
	ufree(msg);
	return rc == -ENOMEM ? -ENOMEM : rc ? -EINVAL : 0;
}

int vmm_machine_ensure(void)
{
	int rc = 0;

	pthread_mutex_lock(&machine_lock);
	if (machine_state == MACHINE_UNDECIDED) {
		if (vfio_device_count())
			machine_state = MACHINE_EXTERNAL;
		else
			rc = machine_build_locked();
	} else if (machine_state == MACHINE_FAILED) {
		rc = -EINVAL;
	}
	pthread_mutex_unlock(&machine_lock);
	return rc;
}

struct machine *vmm_machine(void)
{
	struct machine *m;

	pthread_mutex_lock(&machine_lock);
	m = the_machine;
	pthread_mutex_unlock(&machine_lock);
	return m;
}
