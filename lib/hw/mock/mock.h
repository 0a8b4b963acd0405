/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/mock/mock.h - the mock IOMMU model: what the kernel's iommufd
 * selftest expects of its mock driver (drivers/iommu/iommufd/selftest.c),
 * as a model behind lib/hw/iommu.h.
 *
 * The iommufd core drives the model through the driver-ops interface like
 * any other (mock_iommu_device()->ops, domain->ops, viommu->ops). This
 * header is the rest: what IOMMU_TEST_CMD (lib/iommufd/selftest.c) needs
 * to reach inside the model, one function per selftest operation, plus a
 * DMA entry point for emulated devices. Every function returns 0 or a
 * negative errno, the one the kernel's op returns for the same condition,
 * so the glue can pass it straight out.
 *
 * Op by op (reference iommufd.md §2):
 *   MOCK_DOMAIN(_FLAGS)  mock_dev_create(dev_flags) -> udev, bind it, attach
 *                        (the stdev object's destroy: detach, unbind,
 *                        mock_dev_destroy)
 *   MD_CHECK_MAP         mock_domain_check_map()
 *   DIRTY                mock_domain_dirty()
 *   MD_CHECK_IOTLB       mock_nested_check_iotlb()
 *   DEV_CHECK_CACHE      mock_dev_check_cache()
 *   TRIGGER_IOPF         mock_dev_trigger_iopf() (the op itself always
 *                        returns 0, as the kernel's does)
 *   TRIGGER_VEVENT       mock_dev_trigger_vevent()
 *   PASID_CHECK_HWPT     mock_dev_pasid_domain() == the HWPT's domain
 *   "is this a mock HWPT" (EINVAL otherwise): mock_domain_is_paging() /
 *                        mock_domain_is_nested()
 * The vIOMMU's mmap region (struct iommu_viommu_selftest.out_mmap_*) is
 * published through the generic struct iommu_viommu.mmap_* fields.
 *
 * Locking: the core serialises control calls per context (iommufd.h's
 * rule); these functions follow it. mock_dev_translate() may run
 * concurrently with everything else.
 */
#ifndef UIOMMU_HW_MOCK_H
#define UIOMMU_HW_MOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/iommu.h"

/* The one mock IOMMU instance of the process ("iommufd_selftest_iommu"). */
struct iommu_device *mock_iommu_device(void);

/*
 * A mock device behind it, named "iommufd_mock<N>" (lowest free N), with
 * MOCK_FLAGS_DEVICE_* flags: NO_DIRTY (no dirty tracking: capability clear,
 * DIRTY_TRACKING domains refused), HUGE_IOVA (6.12 selftest: its paging
 * domains also map 1 MiB pages), PASID (PASID width 20). NULL with *err =
 * -EINVAL for an unknown flag, -ENOMEM. Its 4-entry device cache starts at
 * IOMMU_TEST_DEV_CACHE_DEFAULT; it starts blocked (no domain).
 */
struct udev *mock_dev_create(uint32_t dev_flags, int *err);
/*
 * Unplug. The core detaches every PASID and the RID and destroys the
 * device's vDEVICEs first; what is still attached is dropped here without
 * calling anybody.
 */
void mock_dev_destroy(struct udev *dev);
bool mock_dev_is_mock(const struct udev *dev);
uint32_t mock_dev_flags(const struct udev *dev);

/* Is @domain a paging (resp. nested) domain of the mock? */
bool mock_domain_is_paging(const struct iommu_domain *domain);
bool mock_domain_is_nested(const struct iommu_domain *domain);

/*
 * MD_CHECK_MAP. With g the domain's smallest page size (2 KiB; 4 KiB for
 * v6.19 "huge" domains): iova, length and uptr must be multiples of g and
 * uptr + length must not wrap (-EINVAL); then for each g-sized step the
 * domain must translate iova + k*g to the host address that user address
 * uptr + k*g stands for, else -EINVAL. @resolve gives that host address
 * (the core may map user memory through an alias, e.g. a memfd it mapped
 * itself); NULL means identity, the address is uptr + k*g itself. A
 * resolve that returns 0 (unknown address) counts as a mismatch.
 */
typedef uint64_t (*mock_resolve_fn)(void *arg, uint64_t uva);
int mock_domain_check_map(struct iommu_domain *domain, uint64_t iova, uint64_t length,
			  uint64_t uptr, mock_resolve_fn resolve, void *arg);

/*
 * DIRTY: simulate device writes. For every set bit i of @bitmap (little-
 * endian words, (length / page_size) bits), mark the leaf that maps iova +
 * i * page_size dirty; *nr_dirty gets how many of those addresses were
 * mapped. -EINVAL: page_size or length 0, iova or length not a multiple of
 * page_size, bitmap NULL, not a mock paging domain, or dirty tracking not
 * enabled on it.
 */
int mock_domain_dirty(struct iommu_domain *domain, uint64_t iova, uint64_t length,
		      uint64_t page_size, const void *bitmap, uint64_t *nr_dirty);
/* Is dirty tracking enabled (set_dirty_tracking(true)) on this paging domain? */
bool mock_domain_dirty_tracking(const struct iommu_domain *domain);

/*
 * MD_CHECK_IOTLB: entry @id (0..MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) of a mock
 * nested domain must equal @expect; -EINVAL otherwise, or for a bad id or
 * a domain that is not a mock nested one. mock_nested_iotlb() reads it.
 */
int mock_nested_check_iotlb(const struct iommu_domain *domain, unsigned int id, uint32_t expect);
int mock_nested_iotlb(const struct iommu_domain *domain, unsigned int id, uint32_t *val);

/* DEV_CHECK_CACHE: the same for entry @id (0..MOCK_DEV_CACHE_ID_MAX) of a device cache. */
int mock_dev_check_cache(const struct udev *dev, unsigned int id, uint32_t expect);
int mock_dev_cache(const struct udev *dev, unsigned int id, uint32_t *val);

/*
 * TRIGGER_IOPF: the device issues a page request (flags LAST_PAGE, plus
 * PASID_VALID when @pasid != 0). It goes to the domain attached to that
 * PASID, or, when the PASID has none, to the RID's domain if that is a
 * nested one (the mock keeps PASID tables in the guest, as Linux's mock
 * says with user_pasid_table); without a PASID, to the RID's domain. That
 * domain's sink (the core's fault queue) gets it: 0. Nobody to take it:
 * -ENODEV (no domain) or -EOPNOTSUPP (no sink), and the model answers the
 * request itself with IOMMUFD_PAGE_RESP_INVALID.
 */
int mock_dev_trigger_iopf(struct udev *dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
			  uint64_t addr);
/* Page responses the device received (core's page_response or its own), and the last one. */
unsigned int mock_dev_page_responses(const struct udev *dev, struct iommu_page_response *last);

/*
 * TRIGGER_VEVENT: when the device is attached to a nested domain of a
 * vIOMMU and has a non-zero virtual ID there, report a vEVENT of type
 * IOMMU_VEVENTQ_TYPE_SELFTEST carrying struct iommu_viommu_event_selftest
 * {virt_id} through viommu->report_event and return its result; -ENOENT
 * otherwise, -EOPNOTSUPP when the core installed no report_event.
 */
int mock_dev_trigger_vevent(struct udev *dev);

/*
 * The domain translating (@dev, @pasid): PASID 0 (IOMMU_NO_PASID) is the
 * RID. NULL when blocked / not attached.
 */
struct iommu_domain *mock_dev_pasid_domain(const struct udev *dev, uint32_t pasid);

/*
 * A DMA by the device: @access is PT_PROT_R and/or PT_PROT_W, @pasid 0 for
 * none. The host address, or -EPERM (blocked), -ENOENT (nothing mapped),
 * -EACCES (not permitted). A nested domain translates through its parent
 * (the mock's stage 1 is the identity, as in Linux's mock). A write to a
 * domain with dirty tracking enabled sets the leaf's dirty bit.
 */
int mock_dev_translate(struct udev *dev, uint32_t pasid, uint64_t iova, unsigned int access,
		       uint64_t *pa);

/*
 * The reason codes of the mock's dma_translate op (struct iommu_dma_fault
 * .reason): BLOCKED with err -EIO (RID blocked, PASID not attached, not a
 * mock device), NOT_MAPPED and PERM with err -EFAULT. A run it returns
 * never crosses the end of the leaf that maps @iova.
 */
enum {
	MOCK_DMA_FAULT_BLOCKED = 1,
	MOCK_DMA_FAULT_NOT_MAPPED = 2,
	MOCK_DMA_FAULT_PERM = 3,
};

/* Queue @index (0 or 1) of a mock vIOMMU: base / length given at init. -ENOENT when unused. */
int mock_viommu_hw_queue(const struct iommu_viommu *viommu, unsigned int index, void **base,
			 uint64_t *length);

#endif
