// SPDX-License-Identifier: MIT
/*
 * mock_viommu.c - the mock's vIOMMU (type IOMMU_VIOMMU_TYPE_SELFTEST):
 * vDEVICEs, the per-device cache it invalidates, nested domains it owns,
 * the driver mmap region and its two HW queues.
 *
 * Allocation (iommu_ops.viommu_alloc). Only the selftest type (else
 * EOPNOTSUPP, which the core also gives for DEFAULT); the parent must be a
 * mock paging domain allocated with NEST_PARENT (EINVAL, as the core also
 * says). Vendor data is optional: struct iommu_viommu_selftest, at least
 * up to out_data (EINVAL), of the vIOMMU's type. With data, the vIOMMU gets
 * a zeroed two-page region (shared memory, iommu_mmap_region_alloc(); its
 * memfd registered as one of the library's own descriptors, util/intfd.h,
 * so the program's close_range() passes it by) whose
 * first u32 is in_data, published through
 * iommu_viommu.mmap_* for the core to offer as mmap(); the data is written
 * back with out_data = in_data, out_mmap_offset and out_mmap_length (two
 * host pages).
 *
 * vDEVICEs (vdevice_init / vdevice_destroy). The vIOMMU keeps its own map
 * virtual ID -> device: a mock device only (EINVAL), one vDEVICE per
 * device and one device per virtual ID (EEXIST; the core checks both
 * first). The map serves three users: attaching a device to a nested
 * domain owned by this vIOMMU (mock.c, ENOENT without a vDEVICE),
 * TRIGGER_VEVENT (the virtual ID in the event), and cache invalidation.
 *
 * Cache invalidation (cache_invalidate), on struct iommu_viommu_
 * invalidate_selftest entries. As in the kernel, an empty array of the
 * right type is a successful no-op; otherwise the whole array is copied
 * first with the full-array rules (iommu.h: wrong type EINVAL, longer
 * entries need zero tails, E2BIG), so a copy failure handles nothing.
 * Then in order: unknown flags EOPNOTSUPP, cache_id above 3 EINVAL (even
 * with FLAG_ALL), an unknown vdev_id EINVAL; FLAG_ALL resets all four
 * entries of the device's cache, else entry cache_id, to 0. The first bad
 * entry stops the run; entry_num is written back with the number handled.
 *
 * HW queues (hw_queue_init / hw_queue_destroy), type IOMMU_HW_QUEUE_TYPE_
 * SELFTEST only (EOPNOTSUPP). index >= IOMMU_TEST_HW_QUEUE_MAX is EINVAL, an
 * index in use EEXIST, index > 0 with index - 1 unused EIO; each queue
 * depends on the one below it, so destroying a queue while the next one
 * exists is EBUSY and changes nothing.
 *
 * Locking: every entry point here is a control call, serialised by the
 * core's context lock. mock.c reads the vDEVICE map only from attach,
 * which is a control call too.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "hw/mock/mock_priv.h"
#include "util/alloc.h"
#include "util/intfd.h"

#define offsetofend(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))
#define MOCK_INV_MAX_BYTES (4u << 20) /* Linux's KMALLOC_MAX_SIZE on x86-64 (order 10) */

struct mock_dev *mock_viommu_find_dev(const struct mock_viommu *v, uint64_t virt_id)
{
	for (unsigned int i = 0; i < v->nr_vdevs; i++)
		if (v->vdevs[i].virt_id == virt_id)
			return v->vdevs[i].dev;
	return NULL;
}

int mock_viommu_vdev_id(const struct mock_viommu *v, const struct mock_dev *dev,
			uint64_t *virt_id)
{
	for (unsigned int i = 0; i < v->nr_vdevs; i++) {
		if (v->vdevs[i].dev == dev) {
			*virt_id = v->vdevs[i].virt_id;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---------------------------------------------------------------------- */
/* Nested domains owned by the vIOMMU                                     */

static struct iommu_domain *mock_viommu_alloc_domain_nested(struct iommu_viommu *viommu,
							    uint32_t flags,
							    const struct iommu_user_data *data,
							    int *err)
{
	struct mock_viommu *v = to_mock_viommu(viommu);
	struct mock_nested *mn = mock_nested_new(v->s2_parent, v, flags, data, err);

	return mn ? &mn->domain : NULL;
}

/* ---------------------------------------------------------------------- */
/* Device-cache invalidation                                              */

static int mock_viommu_cache_invalidate(struct iommu_viommu *viommu,
					struct iommu_user_data_array *array)
{
	struct mock_viommu *v = to_mock_viommu(viommu);
	struct iommu_viommu_invalidate_selftest *cmds;
	uint32_t done = 0;
	int ret;

	if (!array->entry_num && array->type == IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)
		return 0;
	/* The kernel's kcalloc() fails beyond its largest allocation; so do we. */
	if ((uint64_t)array->entry_num * sizeof(*cmds) > MOCK_INV_MAX_BYTES)
		cmds = NULL;
	else
		cmds = ucalloc(array->entry_num ? array->entry_num : 1, sizeof(*cmds));
	if (!cmds) {
		array->entry_num = 0;
		return -ENOMEM;
	}
	ret = iommu_copy_struct_from_full_user_array(cmds, sizeof(*cmds), array,
						     IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST);
	if (ret)
		goto out;
	for (; done < array->entry_num; done++) {
		const struct iommu_viommu_invalidate_selftest *c = &cmds[done];
		struct mock_dev *mdev;

		if (c->flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			ret = -EOPNOTSUPP;
			break;
		}
		if (c->cache_id > MOCK_DEV_CACHE_ID_MAX) {
			ret = -EINVAL;
			break;
		}
		mdev = mock_viommu_find_dev(v, c->vdev_id);
		if (!mdev) {
			ret = -EINVAL;
			break;
		}
		if (c->flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			for (unsigned int i = 0; i < MOCK_DEV_CACHE_NUM; i++)
				__atomic_store_n(&mdev->cache[i], 0, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&mdev->cache[c->cache_id], 0, __ATOMIC_RELAXED);
		}
	}
out:
	array->entry_num = done;
	ufree(cmds);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* vDEVICEs                                                               */

static int mock_vdevice_init(struct iommu_viommu *viommu, struct udev *dev, uint64_t virt_id)
{
	struct mock_viommu *v = to_mock_viommu(viommu);
	struct mock_dev *mdev;
	uint64_t old;

	if (!mock_dev_is_mock(dev))
		return -EINVAL;
	mdev = to_mock_dev(dev);
	if (mock_viommu_find_dev(v, virt_id) || !mock_viommu_vdev_id(v, mdev, &old))
		return -EEXIST;
	if (v->nr_vdevs == v->cap_vdevs) {
		unsigned int cap = v->cap_vdevs ? 2 * v->cap_vdevs : 4;
		struct mock_vdev *n = ucalloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (v->nr_vdevs)
			memcpy(n, v->vdevs, v->nr_vdevs * sizeof(*n));
		ufree(v->vdevs);
		v->vdevs = n;
		v->cap_vdevs = cap;
	}
	v->vdevs[v->nr_vdevs++] = (struct mock_vdev){ .virt_id = virt_id, .dev = mdev };
	return 0;
}

static void mock_vdevice_destroy(struct iommu_viommu *viommu, struct udev *dev, uint64_t virt_id)
{
	struct mock_viommu *v = to_mock_viommu(viommu);

	for (unsigned int i = 0; i < v->nr_vdevs; i++) {
		struct mock_dev *mdev = v->vdevs[i].dev;

		if (v->vdevs[i].virt_id != virt_id || &mdev->udev != dev)
			continue;
		v->vdevs[i] = v->vdevs[--v->nr_vdevs];
		/* The virtual ID is gone: no more vEVENTs carry it. */
		pthread_mutex_lock(&mdev->lock);
		if (mdev->viommu == v && mdev->vdev_id == virt_id)
			mdev->vdev_id = 0;
		pthread_mutex_unlock(&mdev->lock);
		return;
	}
}

/* ---------------------------------------------------------------------- */
/* HW queues                                                              */

static int mock_hw_queue_init(struct iommu_viommu *viommu, unsigned int type, unsigned int index,
			      void *base, uint64_t length)
{
	struct mock_viommu *v = to_mock_viommu(viommu);

	if (type != IOMMU_HW_QUEUE_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	if (index >= IOMMU_TEST_HW_QUEUE_MAX)
		return -EINVAL;
	if (v->hw_queue[index].used)
		return -EEXIST;
	if (index && !v->hw_queue[index - 1].used)
		return -EIO;
	v->hw_queue[index] = (struct mock_hw_queue){ .used = true, .type = type, .base = base,
						     .length = length };
	return 0;
}

static int mock_hw_queue_destroy(struct iommu_viommu *viommu, unsigned int index)
{
	struct mock_viommu *v = to_mock_viommu(viommu);

	if (index >= IOMMU_TEST_HW_QUEUE_MAX || !v->hw_queue[index].used)
		return 0;
	if (index + 1 < IOMMU_TEST_HW_QUEUE_MAX && v->hw_queue[index + 1].used)
		return -EBUSY;
	v->hw_queue[index] = (struct mock_hw_queue){ 0 };
	return 0;
}

int mock_viommu_hw_queue(const struct iommu_viommu *viommu, unsigned int index, void **base,
			 uint64_t *length)
{
	const struct mock_viommu *v;

	if (!viommu || viommu->iommu != &mock_iommu || index >= IOMMU_TEST_HW_QUEUE_MAX)
		return -EINVAL;
	v = to_mock_viommu(viommu);
	if (!v->hw_queue[index].used)
		return -ENOENT;
	if (base)
		*base = v->hw_queue[index].base;
	if (length)
		*length = v->hw_queue[index].length;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Allocation                                                             */

static void mock_viommu_destroy(struct iommu_viommu *viommu)
{
	struct mock_viommu *v = to_mock_viommu(viommu);

	iommu_mmap_region_free(v->page, v->core.mmap_len, intfd_take(&v->core.mmap_fd));
	ufree(v->vdevs);
	ufree(v);
}

static const struct iommu_viommu_ops mock_viommu_ops = {
	.alloc_domain_nested = mock_viommu_alloc_domain_nested,
	.cache_invalidate = mock_viommu_cache_invalidate,
	.vdevice_init = mock_vdevice_init,
	.vdevice_destroy = mock_vdevice_destroy,
	.hw_queue_init = mock_hw_queue_init,
	.hw_queue_destroy = mock_hw_queue_destroy,
	.destroy = mock_viommu_destroy,
};

static uint64_t host_page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

struct iommu_viommu *mock_viommu_alloc(struct udev *dev, struct iommu_domain *parent,
				       unsigned int type, const struct iommu_user_data *data,
				       int *err)
{
	const size_t min = offsetofend(struct iommu_viommu_selftest, out_data);
	struct iommu_viommu_selftest io;
	struct mock_viommu *v;
	int ret;

	if (type != IOMMU_VIOMMU_TYPE_SELFTEST) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (!mock_domain_is_nesting_parent(parent)) {
		*err = -EINVAL;
		return NULL;
	}
	if (data) {
		ret = iommu_copy_struct_from_user(&io, sizeof(io), min, data,
						  IOMMU_VIOMMU_TYPE_SELFTEST);
		if (ret) {
			*err = ret;
			return NULL;
		}
	}
	v = uzalloc(sizeof(*v));
	if (!v) {
		*err = -ENOMEM;
		return NULL;
	}
	v->s2_parent = to_mock_domain(parent);
	v->core = (struct iommu_viommu){
		.ops = &mock_viommu_ops,
		.iommu = &mock_iommu,
		.parent = parent,
		.type = type,
		.mmap_fd = -1,
		.priv = v,
	};
	if (data) {
		uint64_t len = 2 * host_page_size();

		v->page = iommu_mmap_region_alloc(len, &v->core.mmap_fd);
		if (!v->page) {
			ret = -ENOMEM;
			goto err;
		}
		/* The region's memfd is ours, out of the program's reach (util/intfd.h). */
		ret = intfd_add(&v->core.mmap_fd);
		if (ret)
			goto err;
		/* For loopback: the region and out_data both echo in_data. */
		v->page[0] = io.in_data;
		v->core.mmap_base = v->page;
		v->core.mmap_len = len;
		v->core.mmap_offset = iommu_mmap_offset_alloc(len);
		io.out_data = io.in_data;
		io.out_mmap_offset = v->core.mmap_offset;
		io.out_mmap_length = len;
		ret = iommu_copy_struct_to_user(data, &io, sizeof(io), min,
						IOMMU_VIOMMU_TYPE_SELFTEST);
		if (ret)
			goto err;
	}
	*err = 0;
	return &v->core;
err:
	/* mmap_len is set once the region is complete: the length it was made with. */
	iommu_mmap_region_free(v->page, 2 * host_page_size(), intfd_take(&v->core.mmap_fd));
	ufree(v);
	*err = ret;
	return NULL;
}
