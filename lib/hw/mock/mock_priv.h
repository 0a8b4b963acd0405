/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/mock/mock_priv.h - the mock model's internal structures, shared by
 * mock.c (device, IOMMU ops, attach state), mock_domain.c (paging and
 * nested domains) and mock_viommu.c (vIOMMU, vDEVICE, HW queues).
 */
#ifndef UIOMMU_HW_MOCK_PRIV_H
#define UIOMMU_HW_MOCK_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/iommufd_test.h>

#include "hw/iommu.h"
#include "hw/mock/mock.h"
#include "pt/pt.h"
#include "util/bits.h"

#define MOCK_PASID_MAX	     ((1u << MOCK_PASID_WIDTH) - 1)
#define MOCK_HUGE_SMALL_PAGE 4096u /* v6.19 "huge" domains: PAGE_SIZE | 1 MiB */

struct mock_viommu;

/* One attached PASID (other than 0, which is the RID). */
struct mock_pasid {
	uint32_t pasid;
	struct iommu_domain *domain;
};

/*
 * A mock device. @lock guards the attach state (rid_domain, pasids,
 * viommu, vdev_id) so that the DMA path and the event triggers see it
 * whole; control calls are already serialised by the core. cache[] is
 * read and written with relaxed atomics.
 */
struct mock_dev {
	struct udev udev;
	uint32_t flags; /* MOCK_FLAGS_DEVICE_* */
	int id;
	char name[24];

	pthread_mutex_t lock;
	struct iommu_domain *rid_domain; /* NULL: blocked */
	struct mock_pasid *pasids;	 /* unsorted, nr_pasids used */
	unsigned int nr_pasids, cap_pasids;
	bool pasid_1024_fake_error;
	struct mock_viommu *viommu; /* of the nested domain the RID is attached to */
	uint64_t vdev_id;	    /* the device's virtual ID there (0: none) */

	uint32_t cache[MOCK_DEV_CACHE_NUM];

	unsigned int nr_responses;
	struct iommu_page_response last_response;
};

static inline struct mock_dev *to_mock_dev(const struct udev *dev)
{
	return container_of(dev, struct mock_dev, udev);
}

/* A paging domain: a mock_pt table. */
struct mock_domain {
	struct iommu_domain domain;
	struct pt_table pt;
	uint32_t alloc_flags;	 /* IOMMU_HWPT_ALLOC_* */
	uint32_t pagetable_type; /* MOCK_IOMMUPT_* */
	bool tracking;		 /* dirty tracking on (atomic) */
};

/* A nested domain: 4 IOTLB entries on a mock paging parent, maybe owned by a vIOMMU. */
struct mock_nested {
	struct iommu_domain domain;
	struct mock_viommu *viommu;
	uint32_t alloc_flags;
	uint32_t iotlb[MOCK_NESTED_DOMAIN_IOTLB_NUM];
};

struct mock_vdev {
	uint64_t virt_id;
	struct mock_dev *dev;
};

struct mock_hw_queue {
	bool used;
	unsigned int type;
	void *base;
	uint64_t length;
};

/* A vIOMMU. Its tables change only in control calls (serialised by the core). */
struct mock_viommu {
	struct iommu_viommu core;
	struct mock_domain *s2_parent;
	struct mock_vdev *vdevs;
	unsigned int nr_vdevs, cap_vdevs;
	struct mock_hw_queue hw_queue[IOMMU_TEST_HW_QUEUE_MAX];
	uint32_t *page; /* the 2-page mmap region (NULL without vendor data) */
};

static inline struct mock_viommu *to_mock_viommu(const struct iommu_viommu *v)
{
	return container_of(v, struct mock_viommu, core);
}

extern const struct iommu_ops mock_iommu_ops;
extern const struct iommu_domain_ops mock_paging_ops, mock_nested_ops;
extern struct iommu_device mock_iommu;

static inline struct mock_domain *to_mock_domain(const struct iommu_domain *d)
{
	return container_of(d, struct mock_domain, domain);
}

static inline struct mock_nested *to_mock_nested(const struct iommu_domain *d)
{
	return container_of(d, struct mock_nested, domain);
}

/* mock_domain.c */
bool mock_domain_is_nesting_parent(const struct iommu_domain *domain);
struct iommu_domain *mock_domain_alloc_paging(struct udev *dev, uint32_t flags,
					      const struct iommu_user_data *data, int *err);
struct iommu_domain *mock_domain_alloc_nested(struct udev *dev, struct iommu_domain *parent,
					      uint32_t flags, const struct iommu_user_data *data,
					      int *err);
/* A nested domain for @viommu (NULL for a plain one on @parent). */
struct mock_nested *mock_nested_new(struct mock_domain *parent, struct mock_viommu *viommu,
				    uint32_t flags, const struct iommu_user_data *data, int *err);

/* mock.c: the attach ops shared by paging and nested domains */
int mock_attach_dev(struct iommu_domain *domain, struct udev *dev);
int mock_set_dev_pasid(struct iommu_domain *domain, struct udev *dev, uint32_t pasid,
		       struct iommu_domain *old);

/* mock_viommu.c */
struct iommu_viommu *mock_viommu_alloc(struct udev *dev, struct iommu_domain *parent,
				       unsigned int type, const struct iommu_user_data *data,
				       int *err);
/* The device registered under @virt_id, or NULL. */
struct mock_dev *mock_viommu_find_dev(const struct mock_viommu *v, uint64_t virt_id);
/* The virtual ID of @dev on @v: 0 and *virt_id, or -ENOENT. */
int mock_viommu_vdev_id(const struct mock_viommu *v, const struct mock_dev *dev,
			uint64_t *virt_id);

#endif
