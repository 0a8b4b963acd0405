/* SPDX-License-Identifier: MIT */
/*
 * tests/func/hwdev_fixture.h - the setup that the driver tests of the
 * IOMMU models share (test_smmuv3_iommufd.c, test_vtd_iommufd.c): a
 * model's device bound to the test's iommufd with the internal API the
 * VFIO cdev uses, the domain behind a HWPT ID, DMA through the device with
 * its result checked, and zeroed shared pages for buffers and guest RAM.
 *
 * Each test keeps its own model setup (the instance, its device
 * parameters); these helpers take the parts they need.
 */
#ifndef UIOMMU_TESTS_FUNC_HWDEV_FIXTURE_H
#define UIOMMU_TESTS_FUNC_HWDEV_FIXTURE_H

#include <poll.h>
#include <sys/mman.h>

#include "hw/iommu.h"
#include "iommufd/iommufd_private.h"

#include "iommufd_objs.h"

/* Bind @udev to the test's iommufd (self_file): the device and, in *@id, its ID. */
static inline struct iommufd_device *hwdev_bind(struct udev *udev, uint32_t *id)
{
	struct iommufd_ctx *ictx = iommufd_ctx_from_file(self_file);
	struct iommufd_device *idev;

	TAP_CHECK(!IS_ERR(ictx), "ctx");
	idev = iommufd_device_bind(ictx, udev, id, true);
	iommufd_ctx_put(ictx);
	TAP_CHECK(!IS_ERR(idev), "bind: %ld", PTR_ERR(idev));
	return idev;
}

/* Detach (no PASID) and unbind; the model's device is the caller's to destroy. */
static inline void hwdev_unbind(struct iommufd_device *idev)
{
	iommufd_device_detach(idev, IOMMU_NO_PASID);
	iommufd_device_unbind(idev);
}

/* A model's device bound to the test's iommufd, and its ID there. */
struct hwdev {
	struct udev *udev;
	struct iommufd_device *idev;
	uint32_t id;
};

/* @udev, just made by the model's dev_create (NULL: it failed with @err), bound. */
static inline struct hwdev hwdev_new(struct udev *udev, int err)
{
	struct hwdev d = {0};

	TAP_CHECK(udev, "dev_create: %d", err);
	d.udev = udev;
	d.idev = hwdev_bind(udev, &d.id);
	return d;
}

/* Unbind @d and destroy its device with the model's @destroy; once only. */
static inline void hwdev_free(struct hwdev *d, void (*destroy)(struct udev *))
{
	if (!d->udev)
		return;
	hwdev_unbind(d->idev);
	destroy(d->udev);
	d->udev = NULL;
}

/* The domain of HWPT @id (looked up in the context, for its VMID or DID). */
static inline struct iommu_domain *hwpt_domain(uint32_t id)
{
	struct iommufd_ctx *ictx = iommufd_ctx_from_file(self_file);
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_ANY);
	struct iommu_domain *d;

	TAP_CHECK(!IS_ERR(obj), "HWPT %u", id);
	d = to_hwpt(obj)->domain;
	iommufd_put_object(ictx, obj);
	iommufd_ctx_put(ictx);
	return d;
}

/* iommu_dma_rw() with @done and @f optional. */
static inline int hwdev_dma(struct udev *udev, uint32_t pasid, uint64_t iova, void *buf, size_t len,
			    bool write, size_t *done, struct iommu_dma_fault *f)
{
	struct iommu_dma_fault fl;
	size_t dn;

	return iommu_dma_rw(udev, pasid, iova, buf, len, write, done ? done : &dn, f ? f : &fl);
}

/* A DMA that must move all @len bytes. */
static inline void hwdev_dma_ok(struct udev *udev, uint32_t pasid, uint64_t iova, void *buf,
				size_t len, bool write)
{
	struct iommu_dma_fault f = {0};
	size_t done = 0;
	int ret = hwdev_dma(udev, pasid, iova, buf, len, write, &done, &f);

	TAP_CHECK(!ret && done == len, "DMA %s 0x%llx+%zu: %d, done %zu, reason 0x%x",
		  write ? "write" : "read", (unsigned long long)iova, len, ret, done, f.reason);
}

/*
 * A DMA (of at most 0x3000 bytes) that must fail with @err and the fault
 * record's @reason at @fault_iova, after moving @want_done bytes. Returns
 * the fault record for the model's own checks.
 */
static inline struct iommu_dma_fault hwdev_dma_fault(struct udev *udev, uint32_t pasid,
						     uint64_t iova, size_t len, bool write, int err,
						     unsigned int reason, size_t want_done,
						     uint64_t fault_iova)
{
	uint8_t buf[0x3000];
	struct iommu_dma_fault f = {0};
	size_t done = 99;
	int ret;

	memset(buf, 0x5a, sizeof(buf));
	ret = hwdev_dma(udev, pasid, iova, buf, len, write, &done, &f);
	TAP_CHECK_EQ(ret, err, "DMA 0x%llx", (unsigned long long)iova);
	TAP_CHECK_EQ(done, want_done, "bytes moved before the fault");
	TAP_CHECK_EQ(f.err, err, "fault err");
	TAP_CHECK_EQ(f.reason, reason, "fault reason");
	TAP_CHECK_EQ(f.iova, fault_iova, "fault iova");
	return f;
}

/* @len bytes of zeroed shared memory, page aligned. */
static inline void *zpages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	TAP_CHECK(p != MAP_FAILED, "mmap");
	return p;
}

/*
 * GET_DIRTY_BITMAP of @npages 4K pages from @iova into one word, which
 * must read @want. Bits are only ever ORed in: the word starts with a
 * pattern above the range, which must survive.
 */
static inline void bitmap_expect(uint32_t hwpt, uint64_t iova, unsigned int npages, uint64_t want,
				 uint32_t flags)
{
	uint64_t bitmap = 0xdead0000ULL << 32;

	CHECK_OK(_get_dirty_bitmap(hwpt, iova, (uint64_t)npages * PAGE_SIZE, PAGE_SIZE, &bitmap,
				   flags));
	TAP_CHECK_EQ(bitmap, want | 0xdead0000ULL << 32, "dirty bitmap");
}

/*
 * Wait for the fault queue @fd to be readable: 20 s at most, a bound that
 * only a lost page request reaches (the test fails there rather than at
 * meson's timeout).
 */
static inline void hwdev_fault_poll(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	TAP_CHECK_EQ(poll(&p, 1, 20000), 1, "a page request reached the fault queue");
}

/* Wait for one page request, and read it. */
static inline void fault_wait(int fd, struct iommu_hwpt_pgfault *pf)
{
	hwdev_fault_poll(fd);
	TAP_CHECK_EQ(uiommu_read(fd_file(fd), pf, sizeof(*pf)), sizeof(*pf), "read a request");
}

/*
 * Wait for a group and read it: the records (at most @max) in @pf, their
 * count returned. read() hands out whole groups, so a buffer of @max
 * records holds the group when it has no more.
 */
static inline unsigned int group_read(int ffd, struct iommu_hwpt_pgfault *pf, unsigned int max)
{
	ssize_t n;

	hwdev_fault_poll(ffd);
	n = uiommu_read(fd_file(ffd), pf, max * sizeof(*pf));
	TAP_CHECK(n > 0 && n % (ssize_t)sizeof(*pf) == 0, "read a group: %zd", n);
	return n > 0 ? (unsigned int)((size_t)n / sizeof(*pf)) : 0;
}

#endif
