/* SPDX-License-Identifier: MIT */
/*
 * tests/func/vfio_fixture.h - a TEST FIXTURE device behind VFIO.
 *
 * Not a device model: a small, fully predictable implementation of
 * lib/vfio's struct vfio_device_ops over a mock-IOMMU udev
 * (mock_dev_create()), so that the VFIO core can be tested before the real
 * PCI DMA device (lib/dev/dmatest) exists. Its IDs (vendor 0xabcd, device
 * 0x0f17) are made up for this fixture.
 *
 *   regions  BAR0    4 KiB registers, read/write, not mmap-able:
 *                    0x00 ID (0x0f17abcd, read-only), 0x08 SCRATCH,
 *                    0x10 IRQ doorbell (write index << 16 | vector: the
 *                    device raises that interrupt),
 *                    0x20 DMA_IOVA, 0x28 DMA_PASID, 0x30 DMA_DATA,
 *                    0x38 DMA_CMD (write 1: read 8 bytes at DMA_IOVA into
 *                    DMA_DATA; 2: write DMA_DATA there; through the mock
 *                    IOMMU), 0x40 DMA_STATUS (0 or the negative errno)
 *            BAR2    64 KiB of memory (a memfd), read/write/mmap; the MSI-X
 *                    table sits at 16 KiB..32 KiB, so the sparse areas are
 *                    [0, 16 KiB) and [32 KiB, 64 KiB), and MSIX_MAPPABLE
 *            ROM     2 KiB of 0xa5, read-only
 *            CONFIG  256 bytes: IDs at 0, anything else read/write
 *            index 9 a device-specific region (vendor type 0xabcd,
 *                    subtype 1) of 4 KiB, read/write
 *            BAR1, BAR3-5 and VGA are absent
 *   IRQs     INTx 1, MSI 4, MSI-X 8, ERR 1 (PCIe), REQ 1, and index 5: one
 *            device-specific IRQ of type NESTED / DMA_FAULT
 *   reset    clears SCRATCH and counts
 * It counts opens, closes, resets and irq_enable calls so tests can see
 * what the core asked of it.
 *
 * fixture_create_on() puts the same device behind any IOMMU instead: the
 * caller's udev (e.g. from smmuv3_iommu_dev_create(), which the caller
 * keeps and destroys), DMA through iommu_dma_rw() (DMA_STATUS: its errno),
 * and no device-specific IRQ of its own (num_irqs = VFIO_PCI_NUM_IRQS), so
 * that the nested extension's DMA fault IRQ, which VFIO adds in a nesting
 * container, is index 5 as on Linux.
 */
#ifndef UIOMMU_TESTS_FUNC_VFIO_FIXTURE_H
#define UIOMMU_TESTS_FUNC_VFIO_FIXTURE_H

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd_test.h>

#include "hw/mock/mock.h"
#include "pt/pt.h"
#include "vfio/vfio.h"

#include <linux/vfio.h>

#define FIX_BAR0_SIZE	   4096u
#define FIX_BAR2_SIZE	   65536u
#define FIX_ROM_SIZE	   2048u
#define FIX_CFG_SIZE	   256u
#define FIX_DEVREG_SIZE	   4096u
#define FIX_NUM_REGIONS	   (VFIO_PCI_NUM_REGIONS + 1)
#define FIX_NUM_IRQS	   (VFIO_PCI_NUM_IRQS + 1)
#define FIX_REG_ID	   0x00
#define FIX_REG_SCRATCH	   0x08
#define FIX_REG_IRQ	   0x10
#define FIX_REG_DMA_IOVA   0x20
#define FIX_REG_DMA_PASID  0x28
#define FIX_REG_DMA_DATA   0x30
#define FIX_REG_DMA_CMD	   0x38
#define FIX_REG_DMA_STATUS 0x40
#define FIX_ID		   0x0f17abcdu

struct fixture_dev {
	struct vfio_device vdev;
	char name[32];
	pthread_mutex_t lock;
	uint8_t bar0[FIX_BAR0_SIZE];
	uint8_t cfg[FIX_CFG_SIZE];
	uint8_t devreg[FIX_DEVREG_SIZE];
	int bar2_fd;
	bool dma_rw; /* DMA through iommu_dma_rw() on a caller's udev (fixture_create_on) */
	/* What the core did. */
	unsigned int opens, closes, resets;
	int irq_index; /* last irq_enable: index and nvec */
	unsigned int irq_nvec;
	unsigned int irq_enables;
};

static inline struct fixture_dev *to_fix(struct vfio_device *vdev)
{
	return (struct fixture_dev *)vdev->priv;
}

static inline uint64_t fix_reg(struct fixture_dev *f, unsigned int off)
{
	uint64_t v;

	memcpy(&v, &f->bar0[off], sizeof(v));
	return v;
}

static inline void fix_set_reg(struct fixture_dev *f, unsigned int off, uint64_t v)
{
	memcpy(&f->bar0[off], &v, sizeof(v));
}

static int fix_open(struct vfio_device *vdev)
{
	to_fix(vdev)->opens++;
	return 0;
}

static void fix_close(struct vfio_device *vdev)
{
	to_fix(vdev)->closes++;
}

static void fix_region_info(struct vfio_device *vdev, unsigned int index, struct vfio_region *r)
{
	static const struct vfio_region_area bar2_areas[] = {
		{0, 16384},
		{32768, 32768},
	};
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		r->size = FIX_BAR0_SIZE;
		r->flags = rw;
		break;
	case VFIO_PCI_BAR2_REGION_INDEX:
		r->size = FIX_BAR2_SIZE;
		r->flags = rw | VFIO_REGION_INFO_FLAG_MMAP;
		r->areas = bar2_areas;
		r->nr_areas = 2;
		r->msix_mappable = true;
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		r->size = FIX_ROM_SIZE;
		r->flags = VFIO_REGION_INFO_FLAG_READ;
		break;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		r->size = FIX_CFG_SIZE;
		r->flags = rw;
		break;
	case VFIO_PCI_NUM_REGIONS:
		r->size = FIX_DEVREG_SIZE;
		r->flags = rw;
		r->type = VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0xabcd;
		r->subtype = 1;
		break;
	default:
		break;
	}
}

/* The device does one 8-byte DMA through its IOMMU (the mock's translation). */
static void fix_dma(struct fixture_dev *f, uint64_t cmd)
{
	uint64_t iova = fix_reg(f, FIX_REG_DMA_IOVA), pa = 0;
	uint32_t pasid = (uint32_t)fix_reg(f, FIX_REG_DMA_PASID);
	int rc;

	if (f->dma_rw) {
		struct iommu_dma_fault fault;
		size_t done = 0;

		rc = iommu_dma_rw(f->vdev.dev, pasid, iova, &f->bar0[FIX_REG_DMA_DATA], 8, cmd == 2,
				  &done, &fault);
		fix_set_reg(f, FIX_REG_DMA_STATUS, (uint64_t)(int64_t)rc);
		return;
	}
	rc = mock_dev_translate(f->vdev.dev, pasid, iova, cmd == 1 ? PT_PROT_R : PT_PROT_W, &pa);
	if (!rc) {
		if (cmd == 1)
			memcpy(&f->bar0[FIX_REG_DMA_DATA], (void *)(uintptr_t)pa, 8);
		else
			memcpy((void *)(uintptr_t)pa, &f->bar0[FIX_REG_DMA_DATA], 8);
	}
	fix_set_reg(f, FIX_REG_DMA_STATUS, (uint64_t)(int64_t)rc);
}

static ssize_t fix_bar0_rw(struct fixture_dev *f, uint64_t off, void *buf, size_t count, bool write)
{
	uint64_t irq = 0, cmd = 0;
	bool raise = false, dma = false;

	pthread_mutex_lock(&f->lock);
	if (!write) {
		memcpy(buf, &f->bar0[off], count);
		pthread_mutex_unlock(&f->lock);
		return (ssize_t)count;
	}
	for (size_t i = 0; i < count; i++) {
		uint64_t at = off + i;

		if (at < FIX_REG_ID + 8)
			continue; /* read-only */
		f->bar0[at] = ((const uint8_t *)buf)[i];
	}
	if (off <= FIX_REG_IRQ && off + count >= FIX_REG_IRQ + 4) {
		uint32_t v;

		memcpy(&v, &f->bar0[FIX_REG_IRQ], sizeof(v));
		irq = v;
		raise = true;
	}
	if (off <= FIX_REG_DMA_CMD && off + count >= FIX_REG_DMA_CMD + 8) {
		cmd = fix_reg(f, FIX_REG_DMA_CMD);
		dma = cmd == 1 || cmd == 2;
		if (dma)
			fix_dma(f, cmd);
	}
	pthread_mutex_unlock(&f->lock);
	/* Raised outside the device's lock, as a device's interrupt line would be. */
	if (raise)
		vfio_device_irq(&f->vdev, (unsigned int)(irq >> 16), (unsigned int)(irq & 0xffff));
	return (ssize_t)count;
}

static ssize_t fix_rw(struct vfio_device *vdev, unsigned int index, uint64_t off, void *buf,
		      size_t count, bool write)
{
	struct fixture_dev *f = to_fix(vdev);
	ssize_t n;

	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		return fix_bar0_rw(f, off, buf, count, write);
	case VFIO_PCI_BAR2_REGION_INDEX:
		n = write ? pwrite(f->bar2_fd, buf, count, (off_t)off)
			  : pread(f->bar2_fd, buf, count, (off_t)off);
		return n < 0 ? -EIO : n;
	case VFIO_PCI_ROM_REGION_INDEX:
		memset(buf, 0xa5, count);
		return (ssize_t)count;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		pthread_mutex_lock(&f->lock);
		if (write) {
			/* The IDs (the first 4 bytes) are read-only. */
			for (size_t i = 0; i < count; i++)
				if (off + i >= 4)
					f->cfg[off + i] = ((const uint8_t *)buf)[i];
		} else {
			memcpy(buf, &f->cfg[off], count);
		}
		pthread_mutex_unlock(&f->lock);
		return (ssize_t)count;
	case VFIO_PCI_NUM_REGIONS:
		pthread_mutex_lock(&f->lock);
		if (write)
			memcpy(&f->devreg[off], buf, count);
		else
			memcpy(buf, &f->devreg[off], count);
		pthread_mutex_unlock(&f->lock);
		return (ssize_t)count;
	default:
		return -EINVAL;
	}
}

static int fix_mmap(struct vfio_device *vdev, unsigned int index, uint64_t off, uint64_t len,
		    int *fd, uint64_t *fd_off)
{
	if (index != VFIO_PCI_BAR2_REGION_INDEX || off + len > FIX_BAR2_SIZE)
		return -EINVAL;
	*fd = to_fix(vdev)->bar2_fd;
	*fd_off = off;
	return 0;
}

static void fix_irq_info(struct vfio_device *vdev, unsigned int index, struct vfio_irq *irq)
{
	static const uint32_t counts[FIX_NUM_IRQS] = {1, 4, 8, 1, 1, 1};

	if (index < FIX_NUM_IRQS)
		irq->count = counts[index];
	if (index == VFIO_PCI_NUM_IRQS) {
		irq->type = VFIO_IRQ_TYPE_NESTED;
		irq->subtype = VFIO_IRQ_SUBTYPE_DMA_FAULT;
	}
}

static int fix_irq_enable(struct vfio_device *vdev, unsigned int index, unsigned int nvec)
{
	struct fixture_dev *f = to_fix(vdev);

	f->irq_index = (int)index;
	f->irq_nvec = nvec;
	f->irq_enables++;
	return 0;
}

static int fix_reset(struct vfio_device *vdev)
{
	struct fixture_dev *f = to_fix(vdev);

	pthread_mutex_lock(&f->lock);
	fix_set_reg(f, FIX_REG_SCRATCH, 0);
	f->resets++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static const struct vfio_device_ops fixture_ops = {
	.name = "test-fixture",
	.flags = VFIO_DEVICE_FLAGS_PCI,
	.num_regions = FIX_NUM_REGIONS,
	.num_irqs = FIX_NUM_IRQS,
	.open_device = fix_open,
	.close_device = fix_close,
	.region_info = fix_region_info,
	.region_rw = fix_rw,
	.region_mmap = fix_mmap,
	.irq_info = fix_irq_info,
	.irq_enable = fix_irq_enable,
	.reset = fix_reset,
};

/* The same device without its own device-specific IRQ (fixture_create_on). */
static const struct vfio_device_ops fixture_ops_on = {
	.name = "test-fixture",
	.flags = VFIO_DEVICE_FLAGS_PCI,
	.num_regions = FIX_NUM_REGIONS,
	.num_irqs = VFIO_PCI_NUM_IRQS,
	.open_device = fix_open,
	.close_device = fix_close,
	.region_info = fix_region_info,
	.region_rw = fix_rw,
	.region_mmap = fix_mmap,
	.irq_info = fix_irq_info,
	.irq_enable = fix_irq_enable,
	.reset = fix_reset,
};

static inline struct fixture_dev *fixture_alloc(const char *name, unsigned int group_id)
{
	struct fixture_dev *f = calloc(1, sizeof(*f));
	uint32_t id = FIX_ID;

	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->name, sizeof(f->name), "%s", name);
	memcpy(&f->bar0[FIX_REG_ID], &id, sizeof(id));
	memcpy(&f->cfg[0], &id, sizeof(id));
	f->irq_index = -1;
	f->vdev.name = f->name;
	f->vdev.group_id = group_id;
	f->vdev.priv = f;
	f->bar2_fd = memfd_create("vfio-fixture-bar2", MFD_CLOEXEC);
	if (f->bar2_fd < 0 || ftruncate(f->bar2_fd, FIX_BAR2_SIZE)) {
		if (f->bar2_fd >= 0)
			close(f->bar2_fd);
		free(f);
		return NULL;
	}
	return f;
}

/*
 * A fixture device named @name in group @group_id behind @udev's IOMMU
 * (any model; the caller keeps @udev and destroys it after
 * fixture_destroy()), registered. NULL on failure.
 */
static inline struct fixture_dev *fixture_create_on(const char *name, unsigned int group_id,
						    struct udev *udev)
{
	struct fixture_dev *f = fixture_alloc(name, group_id);

	if (!f)
		return NULL;
	f->vdev.ops = &fixture_ops_on;
	f->vdev.dev = udev;
	f->dma_rw = true;
	if (vfio_register_device(&f->vdev)) {
		close(f->bar2_fd);
		free(f);
		return NULL;
	}
	return f;
}

/*
 * A fixture device named @name in group @group_id, behind the mock IOMMU
 * (@mock_flags: MOCK_FLAGS_DEVICE_*), registered. NULL on failure.
 */
static inline struct fixture_dev *fixture_create(const char *name, unsigned int group_id,
						 uint32_t mock_flags)
{
	struct fixture_dev *f = calloc(1, sizeof(*f));
	uint32_t id = FIX_ID;
	int err = 0;

	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->name, sizeof(f->name), "%s", name);
	memcpy(&f->bar0[FIX_REG_ID], &id, sizeof(id));
	memcpy(&f->cfg[0], &id, sizeof(id));
	f->irq_index = -1;
	f->bar2_fd = memfd_create("vfio-fixture-bar2", MFD_CLOEXEC);
	if (f->bar2_fd < 0 || ftruncate(f->bar2_fd, FIX_BAR2_SIZE))
		goto err_free;
	f->vdev.ops = &fixture_ops;
	f->vdev.name = f->name;
	f->vdev.group_id = group_id;
	f->vdev.priv = f;
	f->vdev.dev = mock_dev_create(mock_flags, &err);
	if (!f->vdev.dev)
		goto err_free;
	if (vfio_register_device(&f->vdev)) {
		mock_dev_destroy(f->vdev.dev);
		goto err_free;
	}
	return f;
err_free:
	if (f->bar2_fd >= 0)
		close(f->bar2_fd);
	free(f);
	return NULL;
}

/* Unregister and free; the VFIO core's answer (EBUSY while in use: nothing is freed). */
static inline int fixture_destroy(struct fixture_dev *f)
{
	int rc = vfio_unregister_device(&f->vdev);

	if (rc)
		return rc;
	if (!f->dma_rw)
		mock_dev_destroy(f->vdev.dev);
	close(f->bar2_fd);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

#endif
