// SPDX-License-Identifier: MIT
/*
 * vfio_pci_dma_fault.c - the nested extension's per-device parts (VFIO v13
 * patches 04-13; reference vfio.md §2.6-§2.9): the DMA FAULT region, its
 * IRQ, and the DMA FAULT RESPONSE region of a vfio-pci device whose
 * container is a VFIO_TYPE1_NESTING_IOMMU one.
 *
 * What it owns. When a device is first opened through a nesting container
 * (vfio_df_open), it gains, after the model's own indexes:
 *   region num_regions      type NESTED (4) / DMA_FAULT (1), READ | WRITE |
 *                           MMAP; caps TYPE, DMA_FAULT (version 1: the
 *                           struct iommu_fault ABI), SPARSE_MMAP {PAGE_SIZE,
 *                           the ring}. Page 0: struct vfio_region_dma_fault
 *                           {tail, entry_size 64, nb_entries 512, offset
 *                           PAGE_SIZE, head}; the ring of 512 records from
 *                           PAGE_SIZE.
 *   region num_regions + 1  type NESTED / DMA_FAULT_RESPONSE (2), the mirror
 *                           image: {head (user), entry_size 24, nb_entries
 *                           512, offset PAGE_SIZE, tail}, cap 7 version 1.
 *   IRQ num_irqs            type NESTED / DMA_FAULT, count 1, eventfd only
 *                           (vfio_pci_intrs.c's single-vector rules).
 * They go at the last close (the fault handler first, then the memory).
 * Devices opened any other way have none of it (GET_INFO counts show it).
 *
 * Access (Linux's vfio_pci_dma_fault_rw / _mmap): read anywhere below the
 * region's end (clamped); write only 4 bytes at offset 0, the user's index
 * (tail of the fault ring, head of the response ring), below nb_entries
 * (EINVAL otherwise; it is not checked against the other index, as in
 * Linux); mmap only from PAGE_SIZE on (EINVAL for page 0 or past the end).
 *
 * Producer (the device's fault handler, iommu_nested.c; the IOMMU model's
 * event path calls it): a full ring (CIRC_SPACE < 1, so at most 511
 * records) drops the record, counts it and answers ENOSPC; otherwise the
 * 64-byte record goes to ring[head], head advances, and the IRQ's eventfd
 * is signalled, once per record.
 *
 * Responses: a head write makes every record between tail and the new head
 * a page response (struct iommu_page_response of 5.10+: grpid, code,
 * pasid) given to the IOMMU model's page_response (SMMUv3: CMD_RESUME
 * Retry for SUCCESS, Abort otherwise); its result is ignored (Linux's
 * "TODO"); tail then catches up. Done at once rather than in a worker.
 *
 * Locks: nf->lock guards both headers and rings for the handler and the
 * file's read / write; it is taken under the IOMMU's fault lock (by the
 * handler) and takes the device's single_lock inside (the signal, a leaf
 * lock: the handler runs under the faulting DMA's own locks). The rings'
 * mmap()ed view is the program's to read without any lock, as in Linux.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/iommu.h>

#include "util/alloc.h"
#include "util/infocap.h"
#include "util/intfd.h"
#include "vfio/vfio_private.h"

#define DMA_FAULT_RING_LENGTH 512u
#define FAULT_ENTRY_SIZE      sizeof(struct iommu_fault)
#define RESP_ENTRY_SIZE	      IOMMU_PAGE_RESPONSE_UAPI_SIZE

struct vfio_nested_fault {
	pthread_mutex_t lock;
	void *fault_base; /* page 0: struct vfio_region_dma_fault; ring from PAGE_SIZE */
	size_t fault_size;
	int fault_fd;
	void *resp_base; /* page 0: struct vfio_region_dma_fault_response */
	size_t resp_size;
	int resp_fd;
	unsigned int region_index; /* the fault region; the response region follows */
	unsigned int irq_index;
	uint64_t dropped; /* records the full ring refused */
	struct vfio_region_area fault_area, resp_area;
};

static size_t ring_region_size(size_t entry)
{
	return ((entry * DMA_FAULT_RING_LENGTH + PAGE_SIZE - 1) & PAGE_MASK) + PAGE_SIZE;
}

static struct vfio_nested_fault *nested(struct vfio_device *vdev)
{
	return vfio_core(vdev)->nested;
}

unsigned int vfio_num_regions(struct vfio_device *vdev)
{
	return vdev->ops->num_regions + (nested(vdev) ? 2 : 0);
}

unsigned int vfio_num_irqs(struct vfio_device *vdev)
{
	return vdev->ops->num_irqs + (nested(vdev) ? 1 : 0);
}

uint64_t vfio_device_dma_faults_dropped(struct vfio_device *vdev)
{
	struct vfio_nested_fault *nf = nested(vdev);
	uint64_t n;

	if (!nf)
		return 0;
	pthread_mutex_lock(&nf->lock);
	n = nf->dropped;
	pthread_mutex_unlock(&nf->lock);
	return n;
}

/* ------------------------------------------------------------------ */
/* The producer                                                       */

static int vfio_dma_fault_handler(const struct iommu_fault *fault, void *data)
{
	struct vfio_device *vdev = data;
	struct vfio_nested_fault *nf = nested(vdev);
	struct vfio_region_dma_fault *hdr = nf->fault_base;
	uint32_t head, tail;

	pthread_mutex_lock(&nf->lock);
	head = __atomic_load_n(&hdr->head, __ATOMIC_RELAXED);
	tail = __atomic_load_n(&hdr->tail, __ATOMIC_RELAXED);
	/* CIRC_SPACE: one slot stays free so that full and empty differ. */
	if (((tail - head - 1) & (DMA_FAULT_RING_LENGTH - 1)) < 1) {
		nf->dropped++;
		pthread_mutex_unlock(&nf->lock);
		return -ENOSPC;
	}
	memcpy((uint8_t *)nf->fault_base + PAGE_SIZE + (size_t)head * FAULT_ENTRY_SIZE, fault,
	       FAULT_ENTRY_SIZE);
	__atomic_store_n(&hdr->head, (head + 1) % DMA_FAULT_RING_LENGTH, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&nf->lock);
	vfio_device_irq(vdev, nf->irq_index, 0);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lifetime                                                           */

int vfio_dma_fault_open(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);
	struct vfio_nested_fault *nf;
	struct vfio_region_dma_fault *fh;
	struct vfio_region_dma_fault_response *rh;
	int rc;

	nf = uzalloc(sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	pthread_mutex_init(&nf->lock, NULL);
	nf->fault_fd = nf->resp_fd = -1;
	nf->fault_size = ring_region_size(FAULT_ENTRY_SIZE);
	nf->resp_size = ring_region_size(RESP_ENTRY_SIZE);
	nf->fault_base = iommu_mmap_region_alloc(nf->fault_size, &nf->fault_fd);
	nf->resp_base = iommu_mmap_region_alloc(nf->resp_size, &nf->resp_fd);
	if (!nf->fault_base || !nf->resp_base) {
		rc = -ENOMEM;
		goto err_free;
	}
	/* The rings' memfds are ours, out of the program's reach (util/intfd.h). */
	rc = intfd_add(&nf->fault_fd);
	if (!rc)
		rc = intfd_add(&nf->resp_fd);
	if (rc)
		goto err_free;
	fh = nf->fault_base;
	fh->entry_size = FAULT_ENTRY_SIZE;
	fh->nb_entries = DMA_FAULT_RING_LENGTH;
	fh->offset = PAGE_SIZE;
	rh = nf->resp_base;
	rh->entry_size = RESP_ENTRY_SIZE;
	rh->nb_entries = DMA_FAULT_RING_LENGTH;
	rh->offset = PAGE_SIZE;
	nf->region_index = vdev->ops->num_regions;
	nf->irq_index = vdev->ops->num_irqs;
	nf->fault_area = (struct vfio_region_area){PAGE_SIZE, nf->fault_size - PAGE_SIZE};
	nf->resp_area = (struct vfio_region_area){PAGE_SIZE, nf->resp_size - PAGE_SIZE};
	/* Visible before the handler can run: it reads core->nested. */
	core->nested = nf;
	rc = iommu_register_device_fault_handler(vdev->dev, vfio_dma_fault_handler, vdev);
	if (rc) {
		core->nested = NULL;
		goto err_free;
	}
	return 0;

err_free:
	if (nf->fault_base)
		iommu_mmap_region_free(nf->fault_base, nf->fault_size, intfd_take(&nf->fault_fd));
	if (nf->resp_base)
		iommu_mmap_region_free(nf->resp_base, nf->resp_size, intfd_take(&nf->resp_fd));
	pthread_mutex_destroy(&nf->lock);
	ufree(nf);
	return rc;
}

void vfio_dma_fault_close(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);
	struct vfio_nested_fault *nf = core->nested;

	if (!nf)
		return;
	/* No report runs in the handler once this returns. */
	iommu_unregister_device_fault_handler(vdev->dev);
	core->nested = NULL;
	iommu_mmap_region_free(nf->fault_base, nf->fault_size, intfd_take(&nf->fault_fd));
	iommu_mmap_region_free(nf->resp_base, nf->resp_size, intfd_take(&nf->resp_fd));
	pthread_mutex_destroy(&nf->lock);
	ufree(nf);
}

/* ------------------------------------------------------------------ */
/* Region and IRQ descriptions                                        */

bool vfio_dma_fault_region_info(struct vfio_device *vdev, unsigned int index,
				struct vfio_region *info, uint16_t *cap_id)
{
	struct vfio_nested_fault *nf = nested(vdev);
	bool fault;

	if (!nf || index < nf->region_index || index > nf->region_index + 1)
		return false;
	fault = index == nf->region_index;
	*info = (struct vfio_region){
		.size = fault ? nf->fault_size : nf->resp_size,
		.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			 VFIO_REGION_INFO_FLAG_MMAP,
		.type = VFIO_REGION_TYPE_NESTED,
		.subtype = fault ? VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT
				 : VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT_RESPONSE,
		.nr_areas = 1,
		.areas = fault ? &nf->fault_area : &nf->resp_area,
	};
	*cap_id = fault ? VFIO_REGION_INFO_CAP_DMA_FAULT : VFIO_REGION_INFO_CAP_DMA_FAULT_RESPONSE;
	return true;
}

int vfio_dma_fault_add_cap(struct infocap *caps, uint16_t cap_id)
{
	/* Both caps are {header, __u32 version}: the records' ABI version, 1. */
	struct vfio_region_info_cap_fault *cap = infocap_add(caps, sizeof(*cap), cap_id, 1);

	if (!cap)
		return caps->err;
	cap->version = 1;
	return 0;
}

bool vfio_dma_fault_irq_info(struct vfio_device *vdev, unsigned int index, struct vfio_irq *info)
{
	struct vfio_nested_fault *nf = nested(vdev);

	if (!nf || index != nf->irq_index)
		return false;
	*info = (struct vfio_irq){
		.count = 1,
		.type = VFIO_IRQ_TYPE_NESTED,
		.subtype = VFIO_IRQ_SUBTYPE_DMA_FAULT,
	};
	return true;
}

/* ------------------------------------------------------------------ */
/* read / write / mmap                                                */

/* Deliver the page responses between tail and head. Under nf->lock. */
static void vfio_dma_fault_responses(struct vfio_device *vdev, struct vfio_nested_fault *nf)
{
	struct vfio_region_dma_fault_response *hdr = nf->resp_base;
	uint32_t head = hdr->head, tail = hdr->tail;
	struct udev *dev = vdev->dev;

	while (((head - tail) & (DMA_FAULT_RING_LENGTH - 1)) >= 1) {
		const uint8_t *r =
			(const uint8_t *)nf->resp_base + PAGE_SIZE + (size_t)tail * RESP_ENTRY_SIZE;
		struct iommu_page_response resp;
		uint32_t pasid, grpid, code;

		/* The 5.10+ uAPI layout: pasid @12, grpid @16, code @20. */
		memcpy(&pasid, r + 12, 4);
		memcpy(&grpid, r + 16, 4);
		memcpy(&code, r + 20, 4);
		resp = (struct iommu_page_response){
			.pasid = pasid,
			.grpid = grpid,
			.code = code == IOMMU_PAGE_RESP_SUCCESS ? IOMMUFD_PAGE_RESP_SUCCESS
								: IOMMUFD_PAGE_RESP_INVALID,
		};
		if (dev->iommu->ops->page_response)
			(void)dev->iommu->ops->page_response(dev, NULL, &resp);
		tail = (tail + 1) % DMA_FAULT_RING_LENGTH;
		__atomic_store_n(&hdr->tail, tail, __ATOMIC_RELEASE);
	}
}

ssize_t vfio_dma_fault_rw(struct vfio_device *vdev, unsigned int index, uint64_t off, void *ubuf,
			  size_t count, bool write)
{
	struct vfio_nested_fault *nf = nested(vdev);
	bool fault = index == nf->region_index;
	uint8_t *base = fault ? nf->fault_base : nf->resp_base;
	size_t size = fault ? nf->fault_size : nf->resp_size;
	uint32_t v;
	ssize_t rc;

	if (off >= size)
		return -EINVAL;
	if (!write) {
		count = (size_t)MIN((uint64_t)count, size - off);
		pthread_mutex_lock(&nf->lock);
		rc = copy_to_user(ubuf, base + off, count) ? -EFAULT : (ssize_t)count;
		pthread_mutex_unlock(&nf->lock);
		return rc;
	}
	/* Only the user's index: 4 bytes at offset 0, below nb_entries. */
	if (off || count != sizeof(v))
		return -EINVAL;
	if (copy_from_user(&v, ubuf, sizeof(v)))
		return -EFAULT;
	if (v >= DMA_FAULT_RING_LENGTH)
		return -EINVAL;
	pthread_mutex_lock(&nf->lock);
	__atomic_store_n((uint32_t *)base, v, __ATOMIC_RELEASE);
	if (!fault)
		vfio_dma_fault_responses(vdev, nf);
	pthread_mutex_unlock(&nf->lock);
	return sizeof(v);
}

int vfio_dma_fault_mmap(struct vfio_device *vdev, unsigned int index, uint64_t off, uint64_t len,
			int *fd, uint64_t *fd_off)
{
	struct vfio_nested_fault *nf = nested(vdev);
	bool fault = index == nf->region_index;
	size_t size = fault ? nf->fault_size : nf->resp_size;

	/* The header page is reached with pread / pwrite only. */
	if (off < PAGE_SIZE || off > size || len > size - off)
		return -EINVAL;
	*fd = intfd_fd(fault ? nf->fault_fd : nf->resp_fd);
	*fd_off = off;
	return 0;
}
