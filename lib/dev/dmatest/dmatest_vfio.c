// SPDX-License-Identifier: MIT
/*
 * dmatest_vfio.c - a dmatest function as a VFIO device: the vfio-pci role
 * (what Linux's vfio-pci-core does for a real function) over dmatest.h.
 *
 * What it owns: the struct vfio_device of one function and its ops, the
 * host's side of the function's interrupts (the owner handler that turns
 * them into vfio_device_irq() calls, MSI-X enabled for SET_IRQS), the
 * small part of the configuration space a host keeps from the user, and
 * the save / restore around a reset. dmatest_vfio.h lists what the user
 * sees. Why here, in lib/dev, rather than in lib/vfio or lib/vmm: the
 * layers allow lib/dev to see lib/vfio and not the reverse, and how a
 * device appears to VFIO is that device's business, as a vfio-pci variant
 * driver is its device's (doc/design.md).
 *
 * Config space. Linux's vfio_pci_config.c virtualises a real function
 * capability by capability. dmatest is emulated already, so its own
 * configuration space is the truth (lib/vfio's rule) except where a host
 * has to own a field: MSI-X Message Control (vfio-pci exposes the MSI-X
 * capability read-only and enables vectors from SET_IRQS), the PASID
 * capability (Linux 6.12's vfio-pci hides it; the IOMMU driver enables
 * PASID when it probes the device: here it is read-only and enabled at
 * open), and Initiate FLR (vfio-pci turns it into pci_try_reset_function).
 *
 * Locks: dv->lock guards msix_nvec and serialises a reset (save, FLR,
 * restore) against SET_IRQS changing MSI-X. Order: VFIO's interrupt lock
 * (irq_enable runs under it), then dv->lock, then the function's lock.
 * The owner handler is called with none of them held (dmatest.h), so its
 * vfio_device_irq() takes VFIO's interrupt lock freely.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <linux/vfio.h>

#include "dev/dmatest/dmatest_vfio.h"
#include "dev/msi_doorbell.h"
#include "dev/pci_cfg.h"
#include "util/alloc.h"
#include "util/bits.h"
#include "util/epoch.h"

#define DV_NAME_MAX	  32
#define DV_CFG_SIZE	  4096u
#define DV_MSIX_TABLE_END (DMATEST_MSIX_TABLE + DMATEST_NR_VECTORS * PCI_MSIX_ENTRY_SIZE)
#define DV_DEVCTL	  (DMATEST_CAP_PCIE + PCI_EXP_DEVCTL)

struct dmatest_vfio {
	struct vfio_device vdev;
	struct dmatest *d;
	char name[DV_NAME_MAX];
	pthread_mutex_t lock;
	unsigned int msix_nvec; /* MSI-X vectors VFIO enabled (0: off) */
	uint64_t msi_dropped;	/* host messages that did not reach the doorbell (atomic) */
};

static const struct vfio_region_area dv_bar0_areas[] = {
	{DMATEST_BUF_OFFSET, DMATEST_BUF_SIZE},
};

static struct dmatest_vfio *to_dv(struct vfio_device *vdev)
{
	return vdev->priv;
}

/* ---------------------------------------------------------------------- */
/* Interrupts                                                             */

/*
 * The host's message for @vector written through the IOMMU at @addr (a
 * posted write without PASID, as dmatest's own message writes): true when
 * it reached a doorbell register; a write that lands in memory stores the
 * data there (the host's event ID: the vector), a fault is the IOMMU's
 * (its event, the guest's ring for a stage-1 fault) and drops it.
 */
static bool dv_msi_through_iommu(struct dmatest_vfio *dv, uint64_t addr, unsigned int vector)
{
	struct udev *udev = dv->vdev.dev;
	const struct iommu_ops *ops = udev->iommu ? udev->iommu->ops : NULL;
	struct iommu_dma_fault f = {.iova = addr, .access = IOMMU_WRITE};
	uint8_t le[4] = {(uint8_t)vector, 0, 0, 0};
	size_t contig = 0, done;
	void *host = NULL;
	bool bell = false;
	int ret = -EOPNOTSUPP;

	epoch_enter();
	if (ops && ops->dma_translate)
		ret = ops->dma_translate(udev, 0, addr, 4, IOMMU_WRITE, &host, &contig, &f);
	if (!ret && contig >= 4) {
		bell = msi_doorbell_is_register(host);
		if (!bell && !msi_doorbell_write(host, 4, vector))
			memcpy(host, le, 4);
	}
	epoch_exit();
	if (!ret && contig < 4)
		iommu_dma_rw(udev, 0, addr, le, 4, true, &done, &f);
	return bell;
}

/*
 * The function's owner handler: its interrupts go to VFIO's eventfds. An
 * MSI-X message of a device whose guest's stage 1 is in force first has
 * to get through it to the host's doorbell (vfio_device_guest_msi_iova).
 */
static void dv_irq(void *opaque, enum dmatest_irq_kind kind, unsigned int vector)
{
	struct dmatest_vfio *dv = opaque;
	uint64_t page;

	if (kind == DMATEST_IRQ_INTX) {
		vfio_device_irq(&dv->vdev, VFIO_PCI_INTX_IRQ_INDEX, 0);
		return;
	}
	if (!vfio_device_guest_msi_iova(&dv->vdev, &page) &&
	    !dv_msi_through_iommu(dv, page + MSI_DOORBELL_TRANSLATER, vector)) {
		__atomic_fetch_add(&dv->msi_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	vfio_device_irq(&dv->vdev, VFIO_PCI_MSIX_IRQ_INDEX, vector);
}

static void dv_irq_info(struct vfio_device *vdev, unsigned int index, struct vfio_irq *irq)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_ERR_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		irq->count = 1;
		break;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		irq->count = DMATEST_NR_VECTORS;
		break;
	default:
		break; /* MSI: no capability */
	}
}

/* Under VFIO's interrupt lock: MSI-X on with @nvec vectors, or off. INTx needs nothing. */
static int dv_irq_enable(struct vfio_device *vdev, unsigned int index, unsigned int nvec)
{
	struct dmatest_vfio *dv = to_dv(vdev);
	int rc = 0;

	if (index != VFIO_PCI_MSIX_IRQ_INDEX)
		return 0;
	pthread_mutex_lock(&dv->lock);
	rc = dmatest_host_msix(dv->d, nvec);
	if (!rc)
		dv->msix_nvec = nvec;
	pthread_mutex_unlock(&dv->lock);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Reset                                                                  */

/* What pci_try_reset_function() saves and restores around the reset. */
static const struct {
	unsigned int off, size;
} dv_saved[] = {
	{PCI_BASE_ADDRESS_0, 4},  {PCI_BASE_ADDRESS_1, 4},
	{PCI_CACHE_LINE_SIZE, 1}, {PCI_INTERRUPT_LINE, 1},
	{DV_DEVCTL, 2},		  {DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2},
	{PCI_COMMAND, 2},
};

static int dv_reset(struct vfio_device *vdev)
{
	struct dmatest_vfio *dv = to_dv(vdev);
	uint32_t val[ARRAY_SIZE(dv_saved)];
	int rc = 0;

	pthread_mutex_lock(&dv->lock);
	for (size_t i = 0; i < ARRAY_SIZE(dv_saved) && !rc; i++)
		rc = dmatest_cfg_read(dv->d, dv_saved[i].off, dv_saved[i].size, &val[i]);
	if (rc)
		goto out;
	dmatest_reset(dv->d);
	for (size_t i = 0; i < ARRAY_SIZE(dv_saved) && !rc; i++)
		rc = dmatest_cfg_write(dv->d, dv_saved[i].off, dv_saved[i].size, val[i]);
	if (!rc && dv->msix_nvec)
		rc = dmatest_host_msix(dv->d, dv->msix_nvec);
out:
	pthread_mutex_unlock(&dv->lock);
	return rc;
}

/* vfio-pci's enable: a clean function with Memory Space on (pci_enable_device), PASID on. */
static int dv_open(struct vfio_device *vdev)
{
	struct dmatest_vfio *dv = to_dv(vdev);
	int rc;

	dmatest_reset(dv->d);
	rc = dmatest_cfg_write(dv->d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	if (!rc)
		rc = dmatest_cfg_write(dv->d, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2,
				       PCI_PASID_CTRL_ENABLE);
	return rc;
}

/* vfio-pci's disable: interrupts are off already (VFIO tore them down); reset. */
static void dv_close(struct vfio_device *vdev)
{
	struct dmatest_vfio *dv = to_dv(vdev);

	pthread_mutex_lock(&dv->lock);
	dmatest_host_msix(dv->d, 0);
	dv->msix_nvec = 0;
	dmatest_reset(dv->d);
	pthread_mutex_unlock(&dv->lock);
}

/* ---------------------------------------------------------------------- */
/* Regions                                                                */

static void dv_region_info(struct vfio_device *vdev, unsigned int index, struct vfio_region *r)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		r->size = DMATEST_BAR0_SIZE;
		r->flags = rw | VFIO_REGION_INFO_FLAG_MMAP;
		r->areas = dv_bar0_areas;
		r->nr_areas = ARRAY_SIZE(dv_bar0_areas);
		break;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		r->size = DV_CFG_SIZE;
		r->flags = rw;
		break;
	default:
		break;
	}
}

static uint32_t le_get(const uint8_t *b, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static void le_put(uint8_t *b, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* Does [off, off + n) overlap [start, start + len)? */
static bool cfg_hits(uint64_t off, size_t n, unsigned int start, unsigned int len)
{
	return off < start + len && start < off + n;
}

/* One naturally aligned config access of 1, 2 or 4 bytes (VFIO cut it so). */
static ssize_t dv_cfg_rw(struct dmatest_vfio *dv, uint64_t off, uint8_t *buf, size_t n, bool write)
{
	unsigned int devctl_hi = DV_DEVCTL + 1;
	uint32_t v = 0;
	bool flr;
	int rc;

	if (!write) {
		rc = dmatest_cfg_read(dv->d, (unsigned int)off, (unsigned int)n, &v);
		if (rc)
			return rc;
		le_put(buf, n, v);
		return (ssize_t)n;
	}
	/* The host's: dropped, as vfio-pci drops writes to read-only capabilities. */
	if (cfg_hits(off, n, DMATEST_CAP_MSIX, PCI_CAP_MSIX_SIZEOF) ||
	    cfg_hits(off, n, DMATEST_EXT_CAP_PASID, PCI_EXT_CAP_PASID_SIZEOF))
		return (ssize_t)n;
	v = le_get(buf, n);
	flr = off <= devctl_hi && devctl_hi < off + n &&
	      (v >> (8 * (devctl_hi - off))) & (PCI_EXP_DEVCTL_BCR_FLR >> 8);
	if (flr)
		v &= ~((uint32_t)(PCI_EXP_DEVCTL_BCR_FLR >> 8) << (8 * (devctl_hi - off)));
	rc = dmatest_cfg_write(dv->d, (unsigned int)off, (unsigned int)n, v);
	if (!rc && flr)
		rc = dv_reset(&dv->vdev);
	return rc ? rc : (ssize_t)n;
}

/* The access size for BAR0 at @at with @fill bytes before a boundary; 0 if none fits. */
static unsigned int bar0_piece(uint64_t at, size_t fill)
{
	if (at >= DMATEST_BUF_OFFSET) {
		for (unsigned int n = 8; n > 1; n /= 2)
			if (fill >= n && !(at % n))
				return n;
		return 1;
	}
	return fill >= 4 && !(at % 4) ? 4 : 0;
}

static ssize_t dv_bar0_rw(struct dmatest_vfio *dv, uint64_t off, uint8_t *buf, size_t count,
			  bool write)
{
	size_t done = 0;

	while (done < count) {
		uint64_t at = off + done, v = 0;
		size_t left = count - done, fill;
		unsigned int n;
		int rc;

		/* The MSI-X table is the host's: all ones to reads, writes dropped. */
		if (at >= DMATEST_MSIX_TABLE && at < DV_MSIX_TABLE_END) {
			fill = MIN(left, (size_t)(DV_MSIX_TABLE_END - at));
			if (!write)
				memset(buf + done, 0xff, fill);
			done += fill;
			continue;
		}
		fill = at < DMATEST_MSIX_TABLE ? MIN(left, (size_t)(DMATEST_MSIX_TABLE - at))
					       : left;
		n = bar0_piece(at, fill);
		if (!n)
			return done ? (ssize_t)done : -EINVAL;
		if (write)
			rc = dmatest_bar_write(
				dv->d, 0, at, n,
				le_get(buf + done, MIN(n, 4u)) |
					(n == 8 ? (uint64_t)le_get(buf + done + 4, 4) << 32 : 0));
		else
			rc = dmatest_bar_read(dv->d, 0, at, n, &v);
		if (rc)
			return done ? (ssize_t)done : rc;
		if (!write)
			le_put(buf + done, n, v);
		done += n;
	}
	return (ssize_t)done;
}

static ssize_t dv_region_rw(struct vfio_device *vdev, unsigned int index, uint64_t off, void *buf,
			    size_t count, bool write)
{
	struct dmatest_vfio *dv = to_dv(vdev);

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return dv_cfg_rw(dv, off, buf, count, write);
	case VFIO_PCI_BAR0_REGION_INDEX:
		return dv_bar0_rw(dv, off, buf, count, write);
	default:
		return -EINVAL;
	}
}

static int dv_region_mmap(struct vfio_device *vdev, unsigned int index, uint64_t off, uint64_t len,
			  int *fd, uint64_t *fd_off)
{
	struct dmatest_vfio *dv = to_dv(vdev);
	uint64_t area, area_len;
	int rc;

	if (index != VFIO_PCI_BAR0_REGION_INDEX)
		return -EINVAL;
	rc = dmatest_bar_mmap_area(dv->d, 0, &area, &area_len, fd);
	if (rc)
		return rc;
	if (off < area || len > area_len || off - area > area_len - len)
		return -EINVAL;
	*fd_off = off - area;
	return 0;
}

static const struct vfio_device_ops dmatest_vfio_ops = {
	.name = "dmatest-vfio-pci",
	.flags = VFIO_DEVICE_FLAGS_PCI,
	.num_regions = VFIO_PCI_NUM_REGIONS,
	.num_irqs = VFIO_PCI_NUM_IRQS,
	.open_device = dv_open,
	.close_device = dv_close,
	.region_info = dv_region_info,
	.region_rw = dv_region_rw,
	.region_mmap = dv_region_mmap,
	.irq_info = dv_irq_info,
	.irq_enable = dv_irq_enable,
	.reset = dv_reset,
};

/* ---------------------------------------------------------------------- */
/* Life cycle                                                             */

struct dmatest_vfio *dmatest_vfio_create(struct udev *udev, const char *name, unsigned int group_id,
					 const struct dmatest_params *params, int *err)
{
	struct dmatest_vfio *dv;
	int rc;

	if (!name || !*name || strlen(name) >= DV_NAME_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	dv = uzalloc(sizeof(*dv));
	if (!dv) {
		*err = -ENOMEM;
		return NULL;
	}
	dv->d = dmatest_create(udev, params, err);
	if (!dv->d) {
		ufree(dv);
		return NULL;
	}
	snprintf(dv->name, sizeof(dv->name), "%s", name);
	pthread_mutex_init(&dv->lock, NULL);
	dv->vdev = (struct vfio_device){
		.ops = &dmatest_vfio_ops,
		.name = dv->name,
		.dev = udev,
		.group_id = group_id,
		.priv = dv,
	};
	dmatest_set_irq_handler(dv->d, dv_irq, dv);
	rc = vfio_register_device(&dv->vdev);
	if (rc) {
		pthread_mutex_destroy(&dv->lock);
		dmatest_destroy(dv->d);
		ufree(dv);
		*err = rc;
		return NULL;
	}
	*err = 0;
	return dv;
}

int dmatest_vfio_destroy(struct dmatest_vfio *dv)
{
	int rc;

	if (!dv)
		return 0;
	/* A device its owner unregistered already (vfio_unregister_device()) is just freed. */
	if (dv->vdev.core) {
		rc = vfio_unregister_device(&dv->vdev);
		if (rc)
			return rc;
	}
	dmatest_set_irq_handler(dv->d, NULL, NULL);
	dmatest_destroy(dv->d);
	pthread_mutex_destroy(&dv->lock);
	ufree(dv);
	return 0;
}

struct dmatest *dmatest_vfio_function(struct dmatest_vfio *dv)
{
	return dv->d;
}

struct vfio_device *dmatest_vfio_device(struct dmatest_vfio *dv)
{
	return &dv->vdev;
}

uint64_t dmatest_vfio_msi_dropped(struct dmatest_vfio *dv)
{
	return __atomic_load_n(&dv->msi_dropped, __ATOMIC_RELAXED);
}
