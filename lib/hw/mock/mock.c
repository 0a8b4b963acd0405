// SPDX-License-Identifier: MIT
/*
 * mock.c - the mock IOMMU: the one iommu_device, its devices, and what a
 * device is attached to.
 *
 * This is the model of the kernel's selftest driver (Linux
 * drivers/iommu/iommufd/selftest.c), behaviour for behaviour, errno for
 * errno, as iommufd.md §2 and §4 describe it; the code is our own. The
 * pieces: this file (the IOMMU, devices, attach / PASID state, GET_HW_INFO,
 * capabilities, page requests and the DMA entry points: mock_dev_translate()
 * and the dma_translate op), mock_domain.c
 * (paging domains over the mock page-table format of mock_pt.c, dirty
 * tracking, nested domains and their IOTLB), mock_viommu.c (vIOMMU,
 * vDEVICE, device-cache invalidation, HW queues). mock.h is the API the
 * selftest glue uses to look inside.
 *
 * Devices. One process-wide mock IOMMU ("iommufd_selftest_iommu") owns
 * every mock device; devices get the lowest free number N and the name
 * iommufd_mock<N>, as the kernel's ida does. A device's flags are fixed at
 * creation: NO_DIRTY, HUGE_IOVA (6.12's way to get 1 MiB pages), PASID
 * (max_pasid_log2 = MOCK_PASID_WIDTH). Its 4-entry cache starts at
 * IOMMU_TEST_DEV_CACHE_DEFAULT.
 *
 * Attach state. The RID is attached to one domain or blocked (NULL); each
 * PASID other than 0 to one domain or none. Attaching a domain allocated
 * for dirty tracking to a NO_DIRTY device fails with EINVAL (RID and
 * PASID alike). Attaching the RID to a nested domain owned by a vIOMMU
 * needs the device's vDEVICE on that vIOMMU (ENOENT otherwise) and
 * records its virtual ID, which TRIGGER_VEVENT reports; any other attach,
 * and blocking, forgets it. The policy checks of iommufd.md §4.4 (PASID-
 * compatible domains, EBUSY on a second attach, replace of an unattached
 * PASID) are the core's; the model only refuses what its hardware cannot
 * do.
 *
 * PASID 1024 (IOMMU_TEST_PASID_RESERVED) fails every second attach on
 * purpose, so that the core's rollback of a failed replace is exercised:
 * an attach that succeeds arms the failure, the next one fails with
 * ENOMEM and disarms it, and detaching the PASID disarms it too.
 *
 * Page requests (TRIGGER_IOPF) go to the sink of the domain that
 * translates the request (mock.h says which); a request nobody takes is
 * answered by the model with INVALID, which it records like any response.
 *
 * Locking: the core serialises control calls on a context; a device's
 * mutex makes its attach state consistent for mock_dev_translate() and the
 * triggers, which may come from other threads. The device registry has
 * its own mutex. Lock order: registry, then device.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/mock/mock_priv.h"
#include "hw/mock/mock_pt.h"
#include "util/alloc.h"
#include "util/idr.h"

#define MOCK_DEV_VALID_FLAGS \
	(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA | MOCK_FLAGS_DEVICE_PASID)

static pthread_mutex_t mock_devs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idr mock_devs = { .max_id = 0 }; /* set up on first use */
static bool mock_devs_ready;

struct iommu_device mock_iommu = {
	.ops = &mock_iommu_ops,
	.name = "iommufd_selftest_iommu",
};

struct iommu_device *mock_iommu_device(void)
{
	return &mock_iommu;
}

/* ---------------------------------------------------------------------- */
/* Devices                                                                */

struct udev *mock_dev_create(uint32_t dev_flags, int *err)
{
	struct mock_dev *mdev;
	int id;

	if (dev_flags & ~MOCK_DEV_VALID_FLAGS) {
		*err = -EINVAL;
		return NULL;
	}
	mdev = uzalloc(sizeof(*mdev));
	if (!mdev) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&mock_devs_lock);
	if (!mock_devs_ready) {
		idr_init(&mock_devs);
		mock_devs_ready = true;
	}
	/* The name number is the ID minus one: iommufd_mock0 first, like an ida. */
	id = idr_alloc(&mock_devs, mdev);
	pthread_mutex_unlock(&mock_devs_lock);
	if (id < 0) {
		ufree(mdev);
		*err = id;
		return NULL;
	}
	mdev->id = id - 1;
	snprintf(mdev->name, sizeof(mdev->name), "iommufd_mock%d", mdev->id);
	mdev->flags = dev_flags;
	pthread_mutex_init(&mdev->lock, NULL);
	for (unsigned int i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		mdev->cache[i] = IOMMU_TEST_DEV_CACHE_DEFAULT;
	mdev->udev = (struct udev){
		.name = mdev->name,
		.iommu = &mock_iommu,
		.sid = (uint32_t)mdev->id,
		.max_pasid_log2 = dev_flags & MOCK_FLAGS_DEVICE_PASID ? MOCK_PASID_WIDTH : 0,
		.no_dirty = dev_flags & MOCK_FLAGS_DEVICE_NO_DIRTY,
		.is_pci = false,
		.iommu_priv = mdev,
	};
	*err = 0;
	return &mdev->udev;
}

void mock_dev_destroy(struct udev *dev)
{
	struct mock_dev *mdev;

	if (!dev || !mock_dev_is_mock(dev))
		return;
	mdev = to_mock_dev(dev);
	pthread_mutex_lock(&mock_devs_lock);
	idr_remove(&mock_devs, mdev->id + 1);
	pthread_mutex_unlock(&mock_devs_lock);
	pthread_mutex_destroy(&mdev->lock);
	ufree(mdev->pasids);
	ufree(mdev);
}

bool mock_dev_is_mock(const struct udev *dev)
{
	return dev && dev->iommu == &mock_iommu && dev->iommu_priv == to_mock_dev(dev);
}

uint32_t mock_dev_flags(const struct udev *dev)
{
	return mock_dev_is_mock(dev) ? to_mock_dev(dev)->flags : 0;
}

/* ---------------------------------------------------------------------- */
/* Attach                                                                 */

static bool mock_domain_is_ours(const struct iommu_domain *domain)
{
	return mock_domain_is_paging(domain) || mock_domain_is_nested(domain);
}

/* The slot of @pasid in the device's table, or -1. Under mdev->lock. */
static int pasid_find(const struct mock_dev *mdev, uint32_t pasid)
{
	for (unsigned int i = 0; i < mdev->nr_pasids; i++)
		if (mdev->pasids[i].pasid == pasid)
			return (int)i;
	return -1;
}

int mock_attach_dev(struct iommu_domain *domain, struct udev *dev)
{
	struct mock_viommu *viommu = NULL;
	struct mock_dev *mdev;
	uint64_t vdev_id = 0;
	int ret;

	if (!mock_dev_is_mock(dev) || !mock_domain_is_ours(domain))
		return -EINVAL;
	mdev = to_mock_dev(dev);
	if (domain->dirty_ops && (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EINVAL;
	if (domain->type == IOMMU_DOMAIN_NESTED) {
		viommu = to_mock_nested(domain)->viommu;
		if (viommu) {
			ret = mock_viommu_vdev_id(viommu, mdev, &vdev_id);
			if (ret)
				return ret;
		}
	}
	pthread_mutex_lock(&mdev->lock);
	mdev->rid_domain = domain;
	mdev->viommu = viommu;
	mdev->vdev_id = vdev_id;
	pthread_mutex_unlock(&mdev->lock);
	return 0;
}

int mock_set_dev_pasid(struct iommu_domain *domain, struct udev *dev, uint32_t pasid,
		       struct iommu_domain *old)
{
	struct mock_dev *mdev;
	int slot, ret = 0;

	if (!mock_dev_is_mock(dev) || !mock_domain_is_ours(domain))
		return -EINVAL;
	mdev = to_mock_dev(dev);
	/* PASID 0 is the RID (attach_dev); the PASID must fit the device's width. */
	if (!pasid || pasid >= (1u << dev->max_pasid_log2))
		return -EINVAL;
	if (domain->dirty_ops && (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EINVAL;

	pthread_mutex_lock(&mdev->lock);
	if (pasid == IOMMU_TEST_PASID_RESERVED) {
		mdev->pasid_1024_fake_error = !mdev->pasid_1024_fake_error;
		if (!mdev->pasid_1024_fake_error) {
			ret = -ENOMEM; /* the armed, second attach */
			goto out;
		}
	}
	slot = pasid_find(mdev, pasid);
	if (slot < 0) {
		if (mdev->nr_pasids == mdev->cap_pasids) {
			unsigned int cap = mdev->cap_pasids ? 2 * mdev->cap_pasids : 4;
			struct mock_pasid *n = ucalloc(cap, sizeof(*n));

			if (!n) {
				/* Nothing changed: the 1024 rule must not count this try. */
				if (pasid == IOMMU_TEST_PASID_RESERVED)
					mdev->pasid_1024_fake_error = false;
				ret = -ENOMEM;
				goto out;
			}
			if (mdev->nr_pasids)
				memcpy(n, mdev->pasids, mdev->nr_pasids * sizeof(*n));
			ufree(mdev->pasids);
			mdev->pasids = n;
			mdev->cap_pasids = cap;
		}
		slot = (int)mdev->nr_pasids++;
		mdev->pasids[slot].pasid = pasid;
	}
	mdev->pasids[slot].domain = domain;
out:
	pthread_mutex_unlock(&mdev->lock);
	return ret;
}

static void mock_block_dev(struct udev *dev)
{
	struct mock_dev *mdev;

	if (!mock_dev_is_mock(dev))
		return;
	mdev = to_mock_dev(dev);
	pthread_mutex_lock(&mdev->lock);
	mdev->rid_domain = NULL;
	mdev->viommu = NULL;
	mdev->vdev_id = 0;
	pthread_mutex_unlock(&mdev->lock);
}

static void mock_remove_dev_pasid(struct udev *dev, uint32_t pasid, struct iommu_domain *domain)
{
	struct mock_dev *mdev;
	int slot;

	if (!mock_dev_is_mock(dev))
		return;
	mdev = to_mock_dev(dev);
	pthread_mutex_lock(&mdev->lock);
	/* Blocking PASID 1024 disarms its fake error, attached or not. */
	if (pasid == IOMMU_TEST_PASID_RESERVED)
		mdev->pasid_1024_fake_error = false;
	slot = pasid_find(mdev, pasid);
	if (slot >= 0)
		mdev->pasids[slot] = mdev->pasids[--mdev->nr_pasids];
	pthread_mutex_unlock(&mdev->lock);
}

struct iommu_domain *mock_dev_pasid_domain(const struct udev *dev, uint32_t pasid)
{
	struct mock_dev *mdev;
	struct iommu_domain *d = NULL;
	int slot;

	if (!mock_dev_is_mock(dev))
		return NULL;
	mdev = to_mock_dev(dev);
	pthread_mutex_lock(&mdev->lock);
	if (!pasid) {
		d = mdev->rid_domain;
	} else {
		slot = pasid_find(mdev, pasid);
		if (slot >= 0)
			d = mdev->pasids[slot].domain;
	}
	pthread_mutex_unlock(&mdev->lock);
	return d;
}

/* ---------------------------------------------------------------------- */
/* GET_HW_INFO and capabilities                                           */

static int mock_hw_info(struct udev *dev, unsigned int req_type, void *buf, size_t len,
			unsigned int *type, size_t *full_len)
{
	struct iommu_test_hw_info info = { .flags = 0,
					   .test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL };

	if (req_type != IOMMU_HW_INFO_TYPE_DEFAULT && req_type != IOMMU_HW_INFO_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	return iommu_hw_info_fill(&info, sizeof(info), IOMMU_HW_INFO_TYPE_SELFTEST, buf, len, type,
				  full_len);
}

static uint64_t mock_capabilities(struct udev *dev)
{
	return mock_dev_flags(dev) & MOCK_FLAGS_DEVICE_NO_DIRTY ? 0 : IOMMU_HW_CAP_DIRTY_TRACKING;
}

/* ---------------------------------------------------------------------- */
/* Page requests                                                          */

static void record_response(struct mock_dev *mdev, const struct iommu_page_response *resp)
{
	pthread_mutex_lock(&mdev->lock);
	mdev->nr_responses++;
	mdev->last_response = *resp;
	pthread_mutex_unlock(&mdev->lock);
}

static int mock_page_response(struct udev *dev, const struct iopf_fault *fault,
			      const struct iommu_page_response *resp)
{
	if (!mock_dev_is_mock(dev) || !resp)
		return -EINVAL;
	record_response(to_mock_dev(dev), resp);
	return 0;
}

int mock_dev_trigger_iopf(struct udev *dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
			  uint64_t addr)
{
	struct iopf_fault fault = {
		.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		.pasid = pasid,
		.grpid = grpid,
		.perm = perm,
		.addr = addr,
	};
	struct iommu_page_response resp = { .pasid = pasid, .grpid = grpid,
					    .code = IOMMUFD_PAGE_RESP_INVALID };
	struct iommu_domain *domain;
	struct mock_dev *mdev;
	int ret;

	if (!mock_dev_is_mock(dev))
		return -EINVAL;
	mdev = to_mock_dev(dev);
	if (pasid)
		fault.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;

	domain = mock_dev_pasid_domain(dev, pasid);
	if (!domain && pasid) {
		/* No domain on the PASID: the guest owns the PASID table (nested RID). */
		struct iommu_domain *rid = mock_dev_pasid_domain(dev, 0);

		if (rid && rid->type == IOMMU_DOMAIN_NESTED)
			domain = rid;
	}
	if (!domain) {
		ret = -ENODEV;
	} else if (!domain->sink || !domain->sink->report_iopf) {
		ret = -EOPNOTSUPP;
	} else {
		ret = domain->sink->report_iopf(domain, dev, &fault);
		if (!ret)
			return 0;
	}
	record_response(mdev, &resp);
	return ret;
}

unsigned int mock_dev_page_responses(const struct udev *dev, struct iommu_page_response *last)
{
	struct mock_dev *mdev;
	unsigned int n;

	if (!mock_dev_is_mock(dev))
		return 0;
	mdev = to_mock_dev(dev);
	pthread_mutex_lock(&mdev->lock);
	n = mdev->nr_responses;
	if (last)
		*last = mdev->last_response;
	pthread_mutex_unlock(&mdev->lock);
	return n;
}

/* ---------------------------------------------------------------------- */
/* vEVENTs, device cache                                                  */

int mock_dev_trigger_vevent(struct udev *dev)
{
	struct iommu_viommu_event_selftest ev = { 0 };
	struct mock_viommu *viommu;
	struct mock_dev *mdev;

	if (!mock_dev_is_mock(dev))
		return -EINVAL;
	mdev = to_mock_dev(dev);
	pthread_mutex_lock(&mdev->lock);
	viommu = mdev->viommu;
	ev.virt_id = (uint32_t)mdev->vdev_id;
	pthread_mutex_unlock(&mdev->lock);
	/* As the kernel's mock: a virtual ID of 0 counts as none. */
	if (!viommu || !ev.virt_id)
		return -ENOENT;
	if (!viommu->core.report_event)
		return -EOPNOTSUPP;
	return viommu->core.report_event(&viommu->core, IOMMU_VEVENTQ_TYPE_SELFTEST, &ev,
					 sizeof(ev));
}

int mock_dev_cache(const struct udev *dev, unsigned int id, uint32_t *val)
{
	if (!mock_dev_is_mock(dev) || id > MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;
	*val = __atomic_load_n(&to_mock_dev(dev)->cache[id], __ATOMIC_RELAXED);
	return 0;
}

int mock_dev_check_cache(const struct udev *dev, unsigned int id, uint32_t expect)
{
	uint32_t v;
	int ret = mock_dev_cache(dev, id, &v);

	if (ret)
		return ret;
	return v == expect ? 0 : -EINVAL;
}

/* ---------------------------------------------------------------------- */
/* DMA                                                                    */

/* mock_dev_translate(), also giving the leaf size. */
static int mock_dev_translate_leaf(struct udev *dev, uint32_t pasid, uint64_t iova,
				   unsigned int access, uint64_t *pa, uint64_t *leaf_size)
{
	struct iommu_domain *domain = mock_dev_pasid_domain(dev, pasid);
	struct mock_domain *md;

	if (!domain)
		return -EPERM;
	if (domain->type == IOMMU_DOMAIN_NESTED)
		domain = domain->parent;
	if (!mock_domain_is_paging(domain))
		return -EPERM;
	md = to_mock_domain(domain);
	if (iova < domain->aperture_start || iova > domain->aperture_end)
		return -ENOENT;
	return mock_pt_translate_leaf(&md->pt, iova, access,
				      __atomic_load_n(&md->tracking, __ATOMIC_ACQUIRE), pa,
				      leaf_size);
}

int mock_dev_translate(struct udev *dev, uint32_t pasid, uint64_t iova, unsigned int access,
		       uint64_t *pa)
{
	return mock_dev_translate_leaf(dev, pasid, iova, access, pa, NULL);
}

/*
 * The dma_translate op. The mock has no event queue: a fault is reported
 * to the device only (its return value and *fault), with a reason code of
 * MOCK_DMA_FAULT_*; a blocked RID or an unattached PASID is a configuration
 * error (-EIO, what an SMMU's "no valid STE/CD" abort is), nothing mapped or
 * a missing permission a translation fault (-EFAULT). A run ends at the end
 * of the leaf: each leaf is one translation, even where the next one
 * happens to be contiguous in host memory.
 */
static int mock_dma_translate(struct udev *dev, uint32_t pasid, uint64_t iova, size_t len,
			      unsigned int access, void **host, size_t *contig,
			      struct iommu_dma_fault *fault)
{
	uint64_t pa = 0, leaf = 0, room;
	int ret;

	if (!mock_dev_is_mock(dev))
		ret = -EPERM;
	else
		ret = mock_dev_translate_leaf(dev, pasid, iova, access, &pa, &leaf);
	if (ret) {
		*fault = (struct iommu_dma_fault){
			.iova = iova,
			.pasid = pasid,
			.access = access,
			.err = ret == -EPERM ? -EIO : -EFAULT,
			.reason = ret == -EPERM	   ? MOCK_DMA_FAULT_BLOCKED :
				  ret == -EACCES ? MOCK_DMA_FAULT_PERM :
						   MOCK_DMA_FAULT_NOT_MAPPED,
		};
		return fault->err;
	}
	room = leaf - (iova & (leaf - 1));
	*host = (void *)(uintptr_t)pa;
	*contig = (size_t)MIN((uint64_t)len, room);
	return 0;
}

/* ---------------------------------------------------------------------- */

const struct iommu_ops mock_iommu_ops = {
	.name = "mock",
	.hw_info = mock_hw_info,
	.capabilities = mock_capabilities,
	.domain_alloc_paging_flags = mock_domain_alloc_paging,
	.domain_alloc_nested = mock_domain_alloc_nested,
	.block_dev = mock_block_dev,
	.remove_dev_pasid = mock_remove_dev_pasid,
	.page_response = mock_page_response,
	.viommu_alloc = mock_viommu_alloc,
	.dma_translate = mock_dma_translate,
};
