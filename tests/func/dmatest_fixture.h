/* SPDX-License-Identifier: MIT */
/*
 * tests/func/dmatest_fixture.h - a dmatest function plugged into a mock
 * device that real ioctls made (IOMMU_TEST_OP_MOCK_DOMAIN on an IOAS),
 * and dt_run(), one operation with its PASID register (the other
 * register-level helpers are dmatest_regs.h's).
 *
 * The only internal hooks: iommufd_selftest_dev_hold() to reach the mock
 * device's struct udev, and the dmatest API itself (what VFIO will expose
 * as regions and IRQs). Mapping, attaching and PASIDs are ioctls.
 */
#ifndef UIOMMU_TESTS_FUNC_DMATEST_FIXTURE_H
#define UIOMMU_TESTS_FUNC_DMATEST_FIXTURE_H

#include <poll.h>
#include <sys/eventfd.h>

#include "dev/dmatest/dmatest.h"
#include "dev/pci_cfg.h"
#include "hw/mock/mock.h"
#include "dev/msi_doorbell.h"
#include "iommufd_internal.h"
#include "dmatest_regs.h"
#include "iommufd_objs.h"

struct dt_fix {
	struct mock_dev_ids ids;
	struct iommufd_selftest_hold *hold;
	struct udev *udev;
	struct dmatest *d;
};

/* A mock device with @dev_flags on @pt_id, and a dmatest function on it. */
static inline void dt_open(struct dt_fix *f, uint32_t pt_id, uint32_t dev_flags,
			   const struct dmatest_params *params)
{
	int err = 0;

	f->ids = mock_domain(pt_id, dev_flags);
	f->hold = iommufd_selftest_dev_hold(self_file, f->ids.stdev, &f->udev, &err);
	TAP_CHECK(f->hold && f->udev, "hold: %s", strerror(-err));
	f->d = dmatest_create(f->udev, params, &err);
	TAP_CHECK(f->d, "dmatest_create: %s", strerror(-err));
}

static inline void dt_close(struct dt_fix *f)
{
	dmatest_destroy(f->d);
	iommufd_selftest_dev_release(f->hold);
	CHECK_OK(_destroy(f->ids.stdev));
	memset(f, 0, sizeof(*f));
}

/* Program one operation and ring GO; returns STATUS. */
static inline uint32_t dt_run(struct dmatest *d, uint32_t op, uint64_t src, uint64_t dst,
			      uint32_t len, uint32_t pasid_reg)
{
	reg_wr(d, DMATEST_REG_PASID, 4, pasid_reg);
	return dt_go(d, op, src, dst, len);
}

/* Anonymous memory, page aligned, for DMA. */
static inline uint8_t *dt_mem(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TAP_CHECK(p != MAP_FAILED, "mmap %zu", len);
	return p;
}

/* Ready (readable) within 0 ms: 1; else 0. Reads the counter when ready. */
static inline int efd_take(int fd, uint64_t *count)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t v = 0;

	if (poll(&p, 1, 0) != 1)
		return 0;
	TAP_CHECK(read(fd, &v, sizeof(v)) == sizeof(v), "eventfd read");
	if (count)
		*count = v;
	return 1;
}

#endif
