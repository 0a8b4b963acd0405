// SPDX-License-Identifier: MIT
/*
 * The mock IOMMU model (lib/hw/mock) at the driver-ops level: what the
 * iommufd core calls through lib/hw/iommu.h, and what the selftest glue
 * reads through mock.h.
 *
 * Expectations come from the kernel's mock as reference iommufd.md §2 and
 * §4 describe it, worked out by hand: addresses, leaf sizes, which IOTLB
 * or cache entries an invalidation array resets and how many entries it
 * reports, which bitmap bytes a dirty read sets. "Physical" addresses are
 * made-up host addresses (PA below): mapping never dereferences them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/iommufd_test.h>

#include "hw/iommu.h"
#include "hw/mock/mock.h"
#include "hw/mock/mock_pt.h"
#include "pt/pt.h"
#include "util/alloc.h"

#define A    ((uint64_t)MOCK_APERTURE_START) /* 16 MiB */
#define LAST ((uint64_t)MOCK_APERTURE_LAST)  /* 2 GiB - 1 */
#define K2   2048u
#define M1   (1u << 20)
#define PA   0x7f1200000000ULL /* 1 MiB aligned */
#define RW   (IOMMU_READ | IOMMU_WRITE)

#define offsetofend(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))

static const struct iommu_ops *ops(void)
{
	return mock_iommu_device()->ops;
}

static struct udev *mkdev(uint32_t flags)
{
	int err = 1;
	struct udev *d = mock_dev_create(flags, &err);

	assert_non_null(d);
	assert_int_equal(err, 0);
	return d;
}

static struct iommu_domain *paging(struct udev *dev, uint32_t flags,
				   const struct iommu_user_data *data, int *err)
{
	return ops()->domain_alloc_paging_flags(dev, flags, data, err);
}

static struct iommu_domain *paging_ok(struct udev *dev, uint32_t flags)
{
	int err = 1;
	struct iommu_domain *d = paging(dev, flags, NULL, &err);

	assert_non_null(d);
	assert_int_equal(err, 0);
	return d;
}

static int map(struct iommu_domain *d, uint64_t iova, uint64_t pa, size_t pgsize, size_t n,
	       int prot)
{
	size_t mapped = 0;
	int ret = d->ops->map_pages(d, iova, pa, pgsize, n, prot, &mapped);

	assert_int_equal(mapped, ret ? 0 : pgsize * n);
	return ret;
}

static struct iommu_domain *nested(struct udev *dev, struct iommu_domain *parent, uint32_t flags,
				   uint32_t iotlb, int *err)
{
	struct iommu_hwpt_selftest cfg = { .iotlb = iotlb };
	struct iommu_user_data data = { .type = IOMMU_HWPT_DATA_SELFTEST, .uptr = &cfg,
					.len = sizeof(cfg) };

	return ops()->domain_alloc_nested(dev, parent, flags, &data, err);
}

/* ---------------------------------------------------------------------- */
/* Devices, HW info, capabilities                                         */

static void test_dev_create(void **state)
{
	struct udev *a = mkdev(0), *b = mkdev(MOCK_FLAGS_DEVICE_PASID);
	struct udev *c = mkdev(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA);
	int err = 0;

	assert_null(mock_dev_create(1u << 3, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(mock_dev_create(~0u, &err));
	assert_int_equal(err, -EINVAL);

	/* Names are iommufd_mock<N>, lowest free N. */
	assert_int_equal(strncmp(a->name, "iommufd_mock", 12), 0);
	assert_int_equal(atoi(b->name + 12), atoi(a->name + 12) + 1);
	assert_ptr_equal(a->iommu, mock_iommu_device());
	assert_true(mock_dev_is_mock(a));
	assert_false(mock_dev_is_mock(NULL));

	assert_int_equal(a->max_pasid_log2, 0);
	assert_int_equal(b->max_pasid_log2, 20);
	assert_false(a->no_dirty);
	assert_true(c->no_dirty);
	assert_int_equal(mock_dev_flags(c),
			 MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA);

	/* Capabilities: dirty tracking unless NO_DIRTY; never the PCI PASID bits. */
	assert_int_equal(ops()->capabilities(a), IOMMU_HW_CAP_DIRTY_TRACKING);
	assert_int_equal(ops()->capabilities(b), IOMMU_HW_CAP_DIRTY_TRACKING);
	assert_int_equal(ops()->capabilities(c), 0);

	/* Freed numbers are reused. */
	{
		int n = atoi(a->name + 12);
		struct udev *d;

		mock_dev_destroy(a);
		d = mkdev(0);
		assert_int_equal(atoi(d->name + 12), n);
		mock_dev_destroy(d);
	}
	/* Every device starts with a default cache and no domain. */
	for (unsigned int i = 0; i <= MOCK_DEV_CACHE_ID_MAX; i++)
		assert_int_equal(mock_dev_check_cache(b, i, IOMMU_TEST_DEV_CACHE_DEFAULT), 0);
	assert_int_equal(mock_dev_check_cache(b, 4, IOMMU_TEST_DEV_CACHE_DEFAULT), -EINVAL);
	assert_int_equal(mock_dev_check_cache(b, 0, 0), -EINVAL);
	assert_null(mock_dev_pasid_domain(b, 0));
	mock_dev_destroy(b);
	mock_dev_destroy(c);
}

static void test_hw_info(void **state)
{
	struct udev *dev = mkdev(0);
	unsigned int type = 0;
	size_t full = 0;
	uint8_t buf[16];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(ops()->hw_info(dev, IOMMU_HW_INFO_TYPE_DEFAULT, buf, sizeof(buf), &type,
					&full),
			 8);
	assert_int_equal(type, IOMMU_HW_INFO_TYPE_SELFTEST);
	assert_int_equal(full, 8);
	{
		/* flags 0, test_reg 0xdeadbeef little-endian; the rest untouched */
		const uint8_t want[10] = { 0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 0xaa, 0xaa };

		assert_memory_equal(buf, want, 10);
	}
	/* Asked by type; a short buffer gets the first bytes; length 0 nothing. */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(ops()->hw_info(dev, IOMMU_HW_INFO_TYPE_SELFTEST, buf, 6, &type, &full), 6);
	assert_int_equal(buf[4], 0xef);
	assert_int_equal(buf[5], 0xbe);
	assert_int_equal(buf[6], 0xaa);
	assert_int_equal(full, 8);
	assert_int_equal(ops()->hw_info(dev, IOMMU_HW_INFO_TYPE_DEFAULT, NULL, 0, &type, &full), 0);
	assert_int_equal(full, 8);
	/* Another vendor's type. */
	assert_int_equal(ops()->hw_info(dev, IOMMU_HW_INFO_TYPE_INTEL_VTD, buf, 16, &type, &full),
			 -EOPNOTSUPP);
	mock_dev_destroy(dev);
}

/* ---------------------------------------------------------------------- */
/* Paging domain allocation                                               */

static void test_paging_alloc_flags(void **state)
{
	struct udev *dev = mkdev(0), *nodirty = mkdev(MOCK_FLAGS_DEVICE_NO_DIRTY);
	const uint32_t all[] = { IOMMU_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				 IOMMU_HWPT_ALLOC_PASID };
	int err;

	/* Every combination of the three paging flags. */
	for (unsigned int m = 0; m < 8; m++) {
		uint32_t flags = 0;
		struct iommu_domain *d;
		bool dirty;

		for (unsigned int i = 0; i < 3; i++)
			if (m & (1u << i))
				flags |= all[i];
		dirty = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;

		err = 1;
		d = paging(dev, flags, NULL, &err);
		assert_non_null(d);
		assert_int_equal(err, 0);
		assert_int_equal(d->type, IOMMU_DOMAIN_PAGING);
		assert_ptr_equal(d->iommu, mock_iommu_device());
		assert_int_equal(d->dirty_ops, dirty);
		assert_int_equal(d->aperture_start, A);
		assert_int_equal(d->aperture_end, LAST);
		assert_int_equal(d->pgsize_bitmap, K2);
		assert_true(mock_domain_is_paging(d));
		assert_false(mock_domain_is_nested(d));
		d->ops->free(d);

		/* A NO_DIRTY device refuses exactly the dirty-tracking ones. */
		err = 1;
		d = paging(nodirty, flags, NULL, &err);
		if (dirty) {
			assert_null(d);
			assert_int_equal(err, -EOPNOTSUPP);
		} else {
			assert_non_null(d);
			d->ops->free(d);
		}
	}
	/* FAULT_ID_VALID is the core's; unknown bits too: EOPNOTSUPP. */
	assert_null(paging(dev, IOMMU_HWPT_FAULT_ID_VALID, NULL, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	assert_null(paging(dev, 1u << 4, NULL, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	assert_null(paging(dev, 1u << 31 | IOMMU_HWPT_ALLOC_NEST_PARENT, NULL, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	mock_dev_destroy(dev);
	mock_dev_destroy(nodirty);
}

static void test_paging_alloc_data(void **state)
{
	struct udev *dev = mkdev(0), *huge_dev = mkdev(MOCK_FLAGS_DEVICE_HUGE_IOVA);
	struct iommu_hwpt_selftest cfg = { .iotlb = 0, .pagetable_type = MOCK_IOMMUPT_HUGE };
	struct iommu_user_data data = { .type = IOMMU_HWPT_DATA_SELFTEST, .uptr = &cfg,
					.len = sizeof(cfg) };
	uint8_t nine[9] = { 0 };
	struct iommu_domain *d;
	int err;

	/* v6.19 HUGE: the table's own aperture, PAGE_SIZE | 1 MiB. */
	d = paging(dev, 0, &data, &err);
	assert_non_null(d);
	assert_int_equal(d->aperture_start, 0);
	assert_int_equal(d->aperture_end, (1ULL << 38) - 1);
	assert_int_equal(d->pgsize_bitmap, 4096 | M1);
	d->ops->free(d);

	/* DEFAULT, given explicitly, and a 4-byte (pre-v6.19) blob: the mock geometry. */
	cfg.pagetable_type = MOCK_IOMMUPT_DEFAULT;
	d = paging(dev, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &data, &err);
	assert_non_null(d);
	assert_int_equal(d->pgsize_bitmap, K2);
	assert_int_equal(d->aperture_start, A);
	d->ops->free(d);
	cfg.pagetable_type = MOCK_IOMMUPT_HUGE; /* past a 4-byte blob: ignored */
	data.len = 4;
	d = paging(dev, 0, &data, &err);
	assert_non_null(d);
	assert_int_equal(d->pgsize_bitmap, K2);
	d->ops->free(d);

	/* 6.12: a HUGE_IOVA device adds 1 MiB pages, same aperture. */
	d = paging_ok(huge_dev, 0);
	assert_int_equal(d->pgsize_bitmap, K2 | M1);
	assert_int_equal(d->aperture_start, A);
	assert_int_equal(d->aperture_end, LAST);
	d->ops->free(d);

	/* AMDV1 and unknown table types; other data types. */
	data.len = sizeof(cfg);
	cfg.pagetable_type = MOCK_IOMMUPT_AMDV1;
	assert_null(paging(dev, 0, &data, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	cfg.pagetable_type = 77;
	assert_null(paging(dev, 0, &data, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	cfg.pagetable_type = 0;
	data.type = IOMMU_HWPT_DATA_VTD_S1;
	assert_null(paging(dev, 0, &data, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	/* NONE with a blob: the copy's type check. */
	data.type = IOMMU_HWPT_DATA_NONE;
	assert_null(paging(dev, 0, &data, &err));
	assert_int_equal(err, -EINVAL);
	/* Sizes: 3 and 9 bytes; a NULL pointer. */
	data.type = IOMMU_HWPT_DATA_SELFTEST;
	data.len = 3;
	assert_null(paging(dev, 0, &data, &err));
	assert_int_equal(err, -EINVAL);
	data.uptr = nine;
	data.len = 9;
	assert_null(paging(dev, 0, &data, &err));
	assert_int_equal(err, -EINVAL);
	data.uptr = NULL;
	data.len = 8;
	assert_null(paging(dev, 0, &data, &err));
	assert_int_equal(err, -EFAULT);
	mock_dev_destroy(dev);
	mock_dev_destroy(huge_dev);
}

/* ---------------------------------------------------------------------- */
/* Map, unmap, iova_to_phys                                               */

static void test_map_2k(void **state)
{
	struct udev *dev = mkdev(0);
	struct iommu_domain *d = paging_ok(dev, 0);

	/* Three 2 KiB pages at the aperture start. */
	assert_int_equal(map(d, A, PA + 0x800, K2, 3, RW), 0);
	assert_int_equal(d->ops->iova_to_phys(d, A), PA + 0x800);
	assert_int_equal(d->ops->iova_to_phys(d, A + 0x7ff), PA + 0xfff);
	assert_int_equal(d->ops->iova_to_phys(d, A + 0x1234), PA + 0x1a34);
	assert_int_equal(d->ops->iova_to_phys(d, A + 0x1800), 0);
	/* Nothing is ever replaced. */
	assert_int_equal(map(d, A + K2, PA, K2, 1, RW), -EEXIST);
	assert_int_equal(d->ops->iova_to_phys(d, A + K2), PA + 0x1000);

	/* Page-size and alignment rules. */
	assert_int_equal(map(d, A + 0x400, PA, K2, 1, RW), -EINVAL);	   /* iova */
	assert_int_equal(map(d, A + 0x10000, PA + 0x10, K2, 1, RW), -EINVAL); /* paddr */
	assert_int_equal(map(d, A + 0x10000, PA, 4096, 1, RW), -EINVAL);     /* not in bitmap */
	assert_int_equal(map(d, A + 0x100000, PA, M1, 1, RW), -EINVAL);	   /* no huge here */
	assert_int_equal(map(d, A + 0x10000, PA, 3000, 1, RW), -EINVAL);
	assert_int_equal(map(d, A + 0x10000, PA, K2, 0, RW), -EINVAL);
	assert_int_equal(map(d, A + 0x10000, PA, K2, 1, 0), -EINVAL);	   /* no access */
	assert_int_equal(map(d, A + 0x10000, PA, K2, 1, IOMMU_NOEXEC), -EINVAL);

	/* Read-only and write-only leaves translate for the access they allow. */
	assert_int_equal(map(d, A + 0x10000, PA + 0x10000, K2, 1, IOMMU_READ), 0);
	assert_int_equal(map(d, A + 0x20000, PA + 0x20000, K2, 1, IOMMU_WRITE), 0);
	assert_int_equal(d->ops->iova_to_phys(d, A + 0x10000), PA + 0x10000);

	/* Unmap reports the bytes it removed; unmapping nothing gives 0. */
	assert_int_equal(d->ops->unmap_pages(d, A, K2, 3), 3 * K2);
	assert_int_equal(d->ops->iova_to_phys(d, A), 0);
	assert_int_equal(d->ops->unmap_pages(d, A, K2, 3), 0);
	assert_int_equal(d->ops->unmap_pages(d, A + 0x10000, K2, 0x21), 2 * K2);
	assert_int_equal(d->ops->unmap_pages(d, A, 0, 1), 0);
	/* Map after unmap reuses the range. */
	assert_int_equal(map(d, A, PA, K2, 1, RW), 0);
	assert_int_equal(d->ops->unmap_pages(d, A, K2, 1), K2);
	d->ops->free(d);
	mock_dev_destroy(dev);
}

static void test_aperture_edges(void **state)
{
	struct udev *dev = mkdev(0);
	struct iommu_domain *d = paging_ok(dev, 0);

	/* First and last page of [16 MiB, 2 GiB - 1]. */
	assert_int_equal(map(d, A, PA, K2, 1, RW), 0);
	assert_int_equal(map(d, LAST + 1 - K2, PA + K2, K2, 1, RW), 0);
	assert_int_equal(d->ops->iova_to_phys(d, LAST), PA + K2 + K2 - 1);
	/* One page below, one page past, a range straddling either end. */
	assert_int_equal(map(d, A - K2, PA, K2, 1, RW), -ERANGE);
	assert_int_equal(map(d, LAST + 1, PA, K2, 1, RW), -ERANGE);
	assert_int_equal(map(d, LAST + 1 - K2, PA, K2, 2, RW), -ERANGE);
	assert_int_equal(map(d, A - K2, PA, K2, 2, RW), -ERANGE);
	assert_int_equal(map(d, 0, PA, K2, 1, RW), -ERANGE);
	/* Wrapping sizes. */
	assert_int_equal(map(d, A, PA, K2, SIZE_MAX / K2 + 1, RW), -EOVERFLOW);
	assert_int_equal(d->ops->unmap_pages(d, A, K2, 1), K2);
	assert_int_equal(d->ops->unmap_pages(d, LAST + 1 - K2, K2, 1), K2);
	d->ops->free(d);

	/* A v6.19 HUGE domain maps from IOVA 0 to 2^38 - 1. */
	{
		struct iommu_hwpt_selftest cfg = { .pagetable_type = MOCK_IOMMUPT_HUGE };
		struct iommu_user_data data = { .type = IOMMU_HWPT_DATA_SELFTEST, .uptr = &cfg,
						.len = sizeof(cfg) };
		int err;

		d = paging(dev, 0, &data, &err);
		assert_non_null(d);
		assert_int_equal(map(d, 0, PA, 4096, 1, RW), 0);
		assert_int_equal(map(d, (1ULL << 38) - M1, PA, M1, 1, RW), 0);
		assert_int_equal(map(d, 1ULL << 38, PA, 4096, 1, RW), -ERANGE);
		assert_int_equal(d->ops->iova_to_phys(d, (1ULL << 38) - 1), PA + M1 - 1);
		assert_int_equal(d->ops->unmap_pages(d, 0, 4096, 1), 4096);
		assert_int_equal(d->ops->unmap_pages(d, (1ULL << 38) - M1, M1, 1), M1);
		d->ops->free(d);
	}
	mock_dev_destroy(dev);
}

/* ---------------------------------------------------------------------- */
/* The mock page-table format itself                                      */

static void test_pt_format(void **state)
{
	struct pt_table t;
	struct pt_leaf leaf;
	struct pt_fault f;
	uint64_t size, pa;
	bool dirty;

	assert_int_equal(mock_pt_init(&t), 0);
	assert_string_equal(t.cfg.fmt->name, "mock");
	assert_int_equal(pt_page_size(&t.cfg), K2);
	assert_int_equal(pt_entry_size(&t.cfg, 1), M1);
	assert_int_equal(pt_entry_size(&t.cfg, 0), 512ULL * M1);
	assert_int_equal(pt_table_size(&t.cfg, 0), 4096);

	/* 1 MiB leaf when asked for 1 MiB; 2 KiB leaves otherwise, even if aligned. */
	assert_int_equal(mock_pt_map(&t, A, PA, M1, PT_PROT_RW, M1), 0);
	assert_int_equal(mock_pt_map(&t, A + M1, PA + M1, M1, PT_PROT_RW, K2), 0);
	assert_int_equal(mock_pt_map(&t, A + 2 * M1, PA, 4096, PT_PROT_R, 4096), 0);
	assert_int_equal(mock_pt_leaf_info(&t, A + 0x12345, &size, &dirty), 0);
	assert_int_equal(size, M1);
	assert_false(dirty);
	assert_int_equal(mock_pt_leaf_info(&t, A + M1 + 0x12345, &size, NULL), 0);
	assert_int_equal(size, K2);
	assert_int_equal(mock_pt_leaf_info(&t, A + 2 * M1 + K2, &size, NULL), 0);
	assert_int_equal(size, K2);
	assert_int_equal(mock_pt_leaf_info(&t, A + 2 * M1 + 4096, &size, NULL), -ENOENT);
	/* A 1 MiB map that is not 1 MiB aligned falls back to pages. */
	assert_int_equal(mock_pt_map(&t, A + 3 * M1 + K2, PA + K2, M1, PT_PROT_RW, M1), 0);
	assert_int_equal(mock_pt_leaf_info(&t, A + 3 * M1 + K2, &size, NULL), 0);
	assert_int_equal(size, K2);

	/* The architectural walk: levels 0 (page) and 1 (block), faults. */
	assert_int_equal(pt_table_walk(&t, A + 0x12345, PT_PROT_W, &leaf, &f), PT_OK);
	assert_int_equal(leaf.level, 1);
	assert_int_equal(leaf.size, M1);
	assert_int_equal(leaf.oa, PA + 0x12345);
	assert_int_equal(leaf.prot, PT_PROT_R | PT_PROT_W | PT_PROT_U);
	assert_int_equal(pt_table_walk(&t, A + M1 + 0x801, PT_PROT_R, &leaf, &f), PT_OK);
	assert_int_equal(leaf.level, 0);
	assert_int_equal(leaf.oa, PA + M1 + 0x801);
	assert_int_equal(pt_table_walk(&t, A + 2 * M1, PT_PROT_W, &leaf, &f), PT_FAULT_PERMISSION);
	assert_int_equal(f.level, 0);
	assert_int_equal(pt_table_walk(&t, A + 2 * M1, PT_PROT_X, &leaf, &f), PT_FAULT_PERMISSION);
	assert_int_equal(pt_table_walk(&t, A + 8 * M1, PT_PROT_R, &leaf, &f), PT_FAULT_TRANSLATION);
	assert_int_equal(f.level, 1); /* level-1 entry 24 is empty */
	assert_int_equal(pt_table_walk(&t, 1ULL << 40, PT_PROT_R, &leaf, &f),
			 PT_FAULT_TRANSLATION);
	assert_int_equal(f.level, 2);
	assert_int_equal(pt_table_walk(&t, 1ULL << 30, PT_PROT_R, &leaf, &f),
			 PT_FAULT_TRANSLATION);
	assert_int_equal(f.level, 2); /* root entry 2 is empty */

	/* Dirty bits: set, read with clear / no clear, translate with tracking. */
	assert_true(mock_pt_set_dirty(&t, A + 0x5000));
	assert_false(mock_pt_set_dirty(&t, A + 8 * M1));
	assert_int_equal(mock_pt_leaf_info(&t, A, NULL, &dirty), 0);
	assert_true(dirty);
	assert_int_equal(mock_pt_translate(&t, A + M1 + 0x10, PT_PROT_W, false, &pa), 0);
	assert_int_equal(pa, PA + M1 + 0x10);
	assert_int_equal(mock_pt_leaf_info(&t, A + M1, NULL, &dirty), 0);
	assert_false(dirty);
	assert_int_equal(mock_pt_translate(&t, A + M1 + 0x10, PT_PROT_W, true, &pa), 0);
	assert_int_equal(mock_pt_leaf_info(&t, A + M1, NULL, &dirty), 0);
	assert_true(dirty);
	assert_int_equal(mock_pt_translate(&t, A + 2 * M1, PT_PROT_W, true, &pa), -EACCES);
	assert_int_equal(mock_pt_translate(&t, A + 2 * M1, PT_PROT_R, true, &pa), 0);
	assert_int_equal(mock_pt_translate(&t, A + 9 * M1, PT_PROT_R, true, &pa), -ENOENT);

	/* Splitting a dirty block: the pages left keep the bit. */
	{
		uint64_t unmapped;

		assert_int_equal(pt_unmap(&t, A + 0x80000, K2, &unmapped), 0);
		assert_int_equal(unmapped, K2);
		assert_int_equal(mock_pt_leaf_info(&t, A + 0x7f800, &size, &dirty), 0);
		assert_int_equal(size, K2);
		assert_true(dirty);
		assert_int_equal(mock_pt_leaf_info(&t, A + 0x80000, &size, &dirty), -ENOENT);
		assert_int_equal(pt_iova_to_phys(&t, A + 0x80800, &pa), 0);
		assert_int_equal(pa, PA + 0x80800);
	}
	mock_pt_destroy(&t);
}

static void test_map_huge(void **state)
{
	struct udev *dev = mkdev(MOCK_FLAGS_DEVICE_HUGE_IOVA);
	struct iommu_domain *d = paging_ok(dev, 0);

	/* Two 1 MiB pages, then 2 KiB pages next to them. */
	assert_int_equal(map(d, A, PA, M1, 2, RW), 0);
	assert_int_equal(d->ops->iova_to_phys(d, A + 0x123456), PA + 0x123456);
	assert_int_equal(map(d, A + 2 * M1, PA + 4 * M1, K2, 4, RW), 0);
	assert_int_equal(d->ops->iova_to_phys(d, A + 2 * M1 + 0x1801), PA + 4 * M1 + 0x1801);
	/* 1 MiB alignment of iova and paddr. */
	assert_int_equal(map(d, A + 3 * M1 + K2, PA, M1, 1, RW), -EINVAL);
	assert_int_equal(map(d, A + 3 * M1, PA + K2, M1, 1, RW), -EINVAL);
	/* A 1 MiB map over existing pages, pages over a block. */
	assert_int_equal(map(d, A + 2 * M1, PA, M1, 1, RW), -EEXIST);
	assert_int_equal(map(d, A + M1 + K2, PA, K2, 1, RW), -EEXIST);

	/* The core may unmap with other page sizes than it mapped: a cut block splits. */
	assert_int_equal(d->ops->unmap_pages(d, A + M1, K2, 256), M1 / 2);
	assert_int_equal(d->ops->iova_to_phys(d, A + M1 + M1 / 2 - 1), 0);
	assert_int_equal(d->ops->iova_to_phys(d, A + M1 + M1 / 2), PA + M1 + M1 / 2);
	assert_int_equal(d->ops->unmap_pages(d, A, M1, 3), M1 + M1 / 2 + 4 * K2);
	assert_int_equal(d->ops->iova_to_phys(d, A), 0);
	d->ops->free(d);
	mock_dev_destroy(dev);
}

/* ---------------------------------------------------------------------- */
/* MD_CHECK_MAP                                                           */

static uint64_t resolve_plus(void *arg, uint64_t uva)
{
	return uva + *(uint64_t *)arg;
}

static void test_check_map(void **state)
{
	struct udev *dev = mkdev(0);
	struct iommu_domain *d = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT), *n;
	uint8_t *buf = ualloc_aligned(4096, 16384);
	uint64_t u = (uintptr_t)buf, delta = 0x1000000;
	int err;

	assert_non_null(buf);
	assert_int_equal(map(d, A, u, K2, 8, RW), 0);
	assert_int_equal(mock_domain_check_map(d, A, 16384, u, NULL, NULL), 0);
	assert_int_equal(mock_domain_check_map(d, A + K2, 4 * K2, u + K2, NULL, NULL), 0);
	assert_int_equal(mock_domain_check_map(d, A, 0, u, NULL, NULL), 0);
	/* Shifted by a page: mismatch; past the mapping: mismatch. */
	assert_int_equal(mock_domain_check_map(d, A, K2, u + K2, NULL, NULL), -EINVAL);
	assert_int_equal(mock_domain_check_map(d, A, 16384 + K2, u, NULL, NULL), -EINVAL);
	/* Alignment of iova, length, uptr; a wrapping user range. */
	assert_int_equal(mock_domain_check_map(d, A + 1, K2, u, NULL, NULL), -EINVAL);
	assert_int_equal(mock_domain_check_map(d, A, K2 + 1, u, NULL, NULL), -EINVAL);
	assert_int_equal(mock_domain_check_map(d, A, K2, u + 8, NULL, NULL), -EINVAL);
	assert_int_equal(mock_domain_check_map(d, A, 4096, ~0ULL - 2047, NULL, NULL), -EINVAL);
	/* With a resolver: the core's alias of the user range. */
	assert_int_equal(mock_domain_check_map(d, A, 16384, u - delta, resolve_plus, &delta), 0);
	assert_int_equal(mock_domain_check_map(d, A, 16384, u, resolve_plus, &delta), -EINVAL);
	/* Only mock paging domains. */
	n = nested(dev, d, 0, 0, &err);
	assert_non_null(n);
	assert_int_equal(mock_domain_check_map(n, A, K2, u, NULL, NULL), -EINVAL);
	assert_int_equal(mock_domain_check_map(NULL, A, K2, u, NULL, NULL), -EINVAL);
	n->ops->free(n);
	assert_int_equal(d->ops->unmap_pages(d, A, K2, 8), 16384);
	d->ops->free(d);
	ufree(buf);
	mock_dev_destroy(dev);
}

/* ---------------------------------------------------------------------- */
/* Dirty tracking                                                         */

static void test_dirty_basic(void **state)
{
	struct udev *dev = mkdev(0);
	struct iommu_domain *d = paging_ok(dev, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	struct iommu_domain *plain = paging_ok(dev, 0);
	struct iommu_dirty_bitmap b;
	uint8_t set[2] = { 0x21, 0x80 }; /* bits 0, 5 and 15 */
	uint8_t map8[2];
	uint64_t nr = 99;

	/* Eight 2 KiB pages at A; page 15 (bit 15) is not mapped. */
	assert_int_equal(map(d, A, PA, K2, 8, RW), 0);

	/* Tracking is off: the DIRTY op and a real read refuse. */
	assert_false(mock_domain_dirty_tracking(d));
	assert_int_equal(mock_domain_dirty(d, A, 16 * K2, K2, set, &nr), -EINVAL);
	assert_int_equal(iommu_dirty_bitmap_init(&b, map8, A, 16 * K2, K2), 0);
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, 0, &b), -EINVAL);
	/* A domain without dirty ops cannot start tracking. */
	assert_int_equal(plain->ops->set_dirty_tracking(plain, true), -EINVAL);
	assert_int_equal(plain->ops->set_dirty_tracking(plain, false), 0);

	assert_int_equal(d->ops->set_dirty_tracking(d, true), 0);
	assert_true(mock_domain_dirty_tracking(d));
	/* Argument checks of the DIRTY op. */
	assert_int_equal(mock_domain_dirty(d, A, 16 * K2, 0, set, &nr), -EINVAL);
	assert_int_equal(mock_domain_dirty(d, A, 0, K2, set, &nr), -EINVAL);
	assert_int_equal(mock_domain_dirty(d, A + 1, 16 * K2, K2, set, &nr), -EINVAL);
	assert_int_equal(mock_domain_dirty(d, A, 16 * K2 + 1, K2, set, &nr), -EINVAL);
	assert_int_equal(mock_domain_dirty(d, A, 16 * K2, K2, NULL, &nr), -EINVAL);
	assert_int_equal(mock_domain_dirty(plain, A, 16 * K2, K2, set, &nr), -EINVAL);

	/* Bits 0, 5, 15 set: two of those pages exist. */
	assert_int_equal(mock_domain_dirty(d, A, 16 * K2, K2, set, &nr), 0);
	assert_int_equal(nr, 2);

	/* NO_CLEAR twice: the same bits both times. */
	for (int i = 0; i < 2; i++) {
		memset(map8, 0, sizeof(map8));
		assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, IOMMU_DIRTY_NO_CLEAR,
							      &b),
				 0);
		assert_int_equal(map8[0], 0x21);
		assert_int_equal(map8[1], 0);
	}
	/* A read clears; the next read is empty. */
	memset(map8, 0, sizeof(map8));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, 0, &b), 0);
	assert_int_equal(map8[0], 0x21);
	memset(map8, 0, sizeof(map8));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, 0, &b), 0);
	assert_int_equal(map8[0], 0);

	/* A read of a sub-range only reports (and clears) that range. */
	assert_int_equal(mock_domain_dirty(d, A, 16 * K2, K2, set, &nr), 0);
	memset(map8, 0, sizeof(map8));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A + 4 * K2, 4 * K2, 0, &b), 0);
	assert_int_equal(map8[0], 0x20);
	memset(map8, 0, sizeof(map8));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, 0, &b), 0);
	assert_int_equal(map8[0], 0x01);

	/* Turning tracking off keeps the bits; a NULL bitmap read clears them. */
	assert_int_equal(mock_domain_dirty(d, A, 16 * K2, K2, set, &nr), 0);
	assert_int_equal(d->ops->set_dirty_tracking(d, false), 0);
	assert_int_equal(mock_domain_dirty(d, A, 16 * K2, K2, set, &nr), -EINVAL);
	{
		struct iommu_dirty_bitmap none;

		assert_int_equal(iommu_dirty_bitmap_init(&none, NULL, A, 16 * K2, K2), 0);
		assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, 0, &none), 0);
		assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, 0, NULL), 0);
	}
	assert_int_equal(d->ops->set_dirty_tracking(d, true), 0);
	memset(map8, 0, sizeof(map8));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, 0, &b), 0);
	assert_int_equal(map8[0], 0);

	/* A device write with tracking on dirties its page. */
	assert_int_equal(d->ops->attach_dev(d, dev), 0);
	{
		uint64_t pa;

		assert_int_equal(mock_dev_translate(dev, 0, A + 3 * K2 + 5, PT_PROT_W, &pa), 0);
		assert_int_equal(pa, PA + 3 * K2 + 5);
		assert_int_equal(mock_dev_translate(dev, 0, A + 4 * K2, PT_PROT_R, &pa), 0);
	}
	memset(map8, 0, sizeof(map8));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 16 * K2, 0, &b), 0);
	assert_int_equal(map8[0], 0x08);
	ops()->block_dev(dev);

	assert_int_equal(d->ops->unmap_pages(d, A, K2, 8), 8 * K2);
	d->ops->free(d);
	plain->ops->free(plain);
	mock_dev_destroy(dev);
}

static void test_dirty_huge(void **state)
{
	/*
	 * The selftest's huge variant: 1 MiB leaves, DIRTY with 2 KiB bits
	 * on the first page of every other huge page, a read with 2 KiB bits
	 * that must set all 512 bits of each dirty leaf.
	 */
	struct udev *dev = mkdev(MOCK_FLAGS_DEVICE_HUGE_IOVA);
	struct iommu_domain *d = paging_ok(dev, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	static uint8_t set[256], out[256 + 0x1000];
	uint8_t *bm = out + 0xff1; /* u64-unaligned, as the selftest does */
	struct iommu_dirty_bitmap b;
	uint64_t nr = 0;

	assert_int_equal(map(d, A, PA, M1, 4, RW), 0);
	assert_int_equal(d->ops->set_dirty_tracking(d, true), 0);

	/* 4 MiB = 2048 bits of 2 KiB; set bits 0 and 1024 (+3: inside the 3rd leaf). */
	memset(set, 0, sizeof(set));
	set[0] = 0x01;
	set[128] = 0x08;
	assert_int_equal(mock_domain_dirty(d, A, 4 * M1, K2, set, &nr), 0);
	assert_int_equal(nr, 2);

	memset(out, 0, sizeof(out));
	assert_int_equal(iommu_dirty_bitmap_init(&b, bm, A, 4 * M1, K2), 0);
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 4 * M1, IOMMU_DIRTY_NO_CLEAR, &b), 0);
	for (unsigned int i = 0; i < 256; i++) {
		/* leaves 0 and 2 are bytes 0..63 and 128..191 */
		uint8_t want = (i < 64 || (i >= 128 && i < 192)) ? 0xff : 0;

		assert_int_equal(bm[i], want);
	}
	assert_int_equal(out[0xff0], 0);
	assert_int_equal(bm[256], 0);

	/* A read of half a leaf reports that half, and clears the whole leaf. */
	memset(out, 0, sizeof(out));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A + M1 / 2, M1, 0, &b), 0);
	for (unsigned int i = 0; i < 256; i++)
		assert_int_equal(bm[i], i >= 32 && i < 64 ? 0xff : 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 4 * M1, 0, &b), 0);
	for (unsigned int i = 0; i < 256; i++)
		assert_int_equal(bm[i], i >= 128 && i < 192 ? 0xff : 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 4 * M1, 0, &b), 0);
	for (unsigned int i = 0; i < 256; i++)
		assert_int_equal(bm[i], 0);

	/* 4 KiB bits: a 1 MiB leaf is 256 of them (32 bytes). */
	assert_int_equal(mock_domain_dirty(d, A, 4 * M1, K2, set, &nr), 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(iommu_dirty_bitmap_init(&b, bm, A, 4 * M1, 4096), 0);
	assert_int_equal(d->ops->read_and_clear_dirty(d, A, 4 * M1, 0, &b), 0);
	for (unsigned int i = 0; i < 128; i++)
		assert_int_equal(bm[i], (i < 32 || (i >= 64 && i < 96)) ? 0xff : 0);

	assert_int_equal(d->ops->unmap_pages(d, A, M1, 4), 4 * M1);
	d->ops->free(d);
	mock_dev_destroy(dev);
}

static void test_dirty_attach_no_dirty(void **state)
{
	struct udev *dev = mkdev(MOCK_FLAGS_DEVICE_PASID);
	struct udev *nd = mkdev(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_PASID);
	struct iommu_domain *d = paging_ok(dev, IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
							IOMMU_HWPT_ALLOC_PASID);
	struct iommu_domain *plain = paging_ok(dev, IOMMU_HWPT_ALLOC_PASID);

	/* A dirty-tracking domain: fine for a normal device, EINVAL for NO_DIRTY. */
	assert_int_equal(d->ops->attach_dev(d, dev), 0);
	assert_int_equal(d->ops->attach_dev(d, nd), -EINVAL);
	assert_null(mock_dev_pasid_domain(nd, 0));
	assert_int_equal(d->ops->set_dev_pasid(d, nd, 100, NULL), -EINVAL);
	assert_null(mock_dev_pasid_domain(nd, 100));
	assert_int_equal(plain->ops->attach_dev(plain, nd), 0);
	assert_int_equal(plain->ops->set_dev_pasid(plain, nd, 100, NULL), 0);
	ops()->remove_dev_pasid(nd, 100, plain);
	ops()->block_dev(nd);
	ops()->block_dev(dev);
	d->ops->free(d);
	plain->ops->free(plain);
	mock_dev_destroy(dev);
	mock_dev_destroy(nd);
}

/* ---------------------------------------------------------------------- */
/* Nested domains                                                         */

static void check_iotlb(struct iommu_domain *n, uint32_t e0, uint32_t e1, uint32_t e2,
			uint32_t e3)
{
	assert_int_equal(mock_nested_check_iotlb(n, 0, e0), 0);
	assert_int_equal(mock_nested_check_iotlb(n, 1, e1), 0);
	assert_int_equal(mock_nested_check_iotlb(n, 2, e2), 0);
	assert_int_equal(mock_nested_check_iotlb(n, 3, e3), 0);
}

static void test_nested_alloc(void **state)
{
	struct udev *dev = mkdev(0);
	struct iommu_domain *parent = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommu_hwpt_selftest cfg = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_user_data data = { .type = IOMMU_HWPT_DATA_SELFTEST, .uptr = &cfg,
					.len = sizeof(cfg) };
	struct iommu_domain *n;
	uint32_t v;
	int err;

	n = nested(dev, parent, 0, IOMMU_TEST_IOTLB_DEFAULT, &err);
	assert_non_null(n);
	assert_int_equal(err, 0);
	assert_int_equal(n->type, IOMMU_DOMAIN_NESTED);
	assert_ptr_equal(n->parent, parent);
	assert_true(mock_domain_is_nested(n));
	assert_false(mock_domain_is_paging(n));
	check_iotlb(n, IOMMU_TEST_IOTLB_DEFAULT, IOMMU_TEST_IOTLB_DEFAULT,
		    IOMMU_TEST_IOTLB_DEFAULT, IOMMU_TEST_IOTLB_DEFAULT);
	assert_int_equal(mock_nested_check_iotlb(n, 4, IOMMU_TEST_IOTLB_DEFAULT), -EINVAL);
	assert_int_equal(mock_nested_check_iotlb(n, 0, 0), -EINVAL);
	assert_int_equal(mock_nested_check_iotlb(parent, 0, 0), -EINVAL);
	assert_int_equal(mock_nested_iotlb(n, 3, &v), 0);
	assert_int_equal(v, IOMMU_TEST_IOTLB_DEFAULT);
	n->ops->free(n);

	/* PASID is the one flag; a 4-byte (6.12) blob is fine. */
	data.len = 4;
	cfg.iotlb = 0x1234;
	n = ops()->domain_alloc_nested(dev, parent, IOMMU_HWPT_ALLOC_PASID, &data, &err);
	assert_non_null(n);
	check_iotlb(n, 0x1234, 0x1234, 0x1234, 0x1234);
	/* Nesting on a nested domain, on nothing, on a paging domain that is no parent. */
	assert_null(nested(dev, n, 0, 0, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(nested(dev, NULL, 0, 0, &err));
	assert_int_equal(err, -EINVAL);
	{
		struct iommu_domain *np = paging_ok(dev, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);

		assert_null(nested(dev, np, 0, 0, &err));
		assert_int_equal(err, -EINVAL);
		np->ops->free(np);
	}
	n->ops->free(n);

	/* Flags, types, sizes. */
	assert_null(nested(dev, parent, IOMMU_HWPT_ALLOC_NEST_PARENT, 0, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	assert_null(nested(dev, parent, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	data.type = IOMMU_HWPT_DATA_ARM_SMMUV3;
	assert_null(ops()->domain_alloc_nested(dev, parent, 0, &data, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	assert_null(ops()->domain_alloc_nested(dev, parent, 0, NULL, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	data.type = IOMMU_HWPT_DATA_SELFTEST;
	data.len = 3;
	assert_null(ops()->domain_alloc_nested(dev, parent, 0, &data, &err));
	assert_int_equal(err, -EINVAL);
	data.len = 9;
	assert_null(ops()->domain_alloc_nested(dev, parent, 0, &data, &err));
	assert_int_equal(err, -EINVAL);
	data.len = 8;
	data.uptr = NULL;
	assert_null(ops()->domain_alloc_nested(dev, parent, 0, &data, &err));
	assert_int_equal(err, -EFAULT);
	parent->ops->free(parent);
	mock_dev_destroy(dev);
}

static int invalidate(struct iommu_domain *n, unsigned int type, void *uptr, size_t entry_len,
		      uint32_t *num)
{
	struct iommu_user_data_array a = { .type = type, .uptr = uptr, .entry_len = entry_len,
					   .entry_num = *num };
	int ret = n->ops->cache_invalidate_user(n, &a);

	*num = a.entry_num;
	return ret;
}

static void test_nested_invalidate(void **state)
{
	const uint32_t D = IOMMU_TEST_IOTLB_DEFAULT;
	const unsigned int T = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
	struct udev *dev = mkdev(0);
	struct iommu_domain *parent = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommu_hwpt_invalidate_selftest inv[3];
	struct iommu_domain *n;
	uint32_t num;
	int err;

	n = nested(dev, parent, 0, D, &err);
	assert_non_null(n);

	/* An empty array of the right type: nothing to do. */
	num = 0;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]), &num), 0);
	assert_int_equal(num, 0);
	/* Wrong type, with or without entries: EINVAL, nothing handled. */
	num = 1;
	assert_int_equal(invalidate(n, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, inv,
				    sizeof(inv[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 0);
	num = 0;
	assert_int_equal(invalidate(n, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, inv, sizeof(inv[0]),
				    &num),
			 -EINVAL);
	/* Entry sizes: sizeof + 1, below the end of iotlb_id; a NULL array. */
	memset(inv, 0, sizeof(inv));
	num = 1;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]) + 1, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(invalidate(n, T, inv, 7, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(invalidate(n, T, NULL, sizeof(inv[0]), &num), -EFAULT);
	assert_int_equal(num, 0);
	check_iotlb(n, D, D, D, D);

	/* Unknown flags, iotlb_id out of range (FLAG_ALL does not excuse it). */
	inv[0] = (struct iommu_hwpt_invalidate_selftest){ .flags = 0xffffffff, .iotlb_id = 0 };
	num = 1;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]), &num), -EOPNOTSUPP);
	assert_int_equal(num, 0);
	inv[0] = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 4 };
	num = 1;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 0);
	inv[0] = (struct iommu_hwpt_invalidate_selftest){ .flags = IOMMU_TEST_INVALIDATE_FLAG_ALL,
							  .iotlb_id = 4 };
	num = 1;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 0);
	check_iotlb(n, D, D, D, D);

	/* First entry good, second bad flags: entry 0 reset, entry_num 1. */
	inv[0] = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 0 };
	inv[1] = (struct iommu_hwpt_invalidate_selftest){ .flags = 0xffffffff, .iotlb_id = 1 };
	num = 2;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]), &num), -EOPNOTSUPP);
	assert_int_equal(num, 1);
	check_iotlb(n, 0, D, D, D);
	/* First good (entry 1), second bad id: entry 1 reset, entry_num 1. */
	inv[0] = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 1 };
	inv[1] = (struct iommu_hwpt_invalidate_selftest){ 0 };
	inv[1].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	num = 2;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 1);
	check_iotlb(n, 0, 0, D, D);
	/* Entries 2 and 3 in one call. */
	inv[0] = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 2 };
	inv[1] = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 3 };
	num = 2;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]), &num), 0);
	assert_int_equal(num, 2);
	check_iotlb(n, 0, 0, 0, 0);
	n->ops->free(n);

	/* FLAG_ALL resets everything, iotlb_id ignored (if in range); short entries zero-extend. */
	n = nested(dev, parent, 0, D, &err);
	assert_non_null(n);
	inv[0] = (struct iommu_hwpt_invalidate_selftest){ .flags = IOMMU_TEST_INVALIDATE_FLAG_ALL,
							  .iotlb_id = 3 };
	num = 1;
	assert_int_equal(invalidate(n, T, inv, sizeof(inv[0]), &num), 0);
	assert_int_equal(num, 1);
	check_iotlb(n, 0, 0, 0, 0);
	n->ops->free(n);

	/* Three entries from a raw array, the third bad: two handled. */
	n = nested(dev, parent, 0, D, &err);
	assert_non_null(n);
	{
		uint32_t raw[3][2] = { { 0, 2 }, { 0, 0 }, { 2, 1 } }; /* flags 2: unknown */

		num = 3;
		assert_int_equal(invalidate(n, T, raw, 8, &num), -EOPNOTSUPP);
		assert_int_equal(num, 2);
		check_iotlb(n, 0, D, 0, D);
	}
	n->ops->free(n);
	parent->ops->free(parent);
	mock_dev_destroy(dev);
}

/* ---------------------------------------------------------------------- */
/* dma_translate and iommu_dma_rw                                         */

static void test_dma_translate(void **state)
{
	struct udev *dev = mkdev(MOCK_FLAGS_DEVICE_HUGE_IOVA);
	struct iommu_domain *d = paging_ok(dev, 0);
	uint8_t *mem = ualloc_aligned(M1, 2 * M1), out[4 * K2], in[16];
	uint64_t H = A + 16 * M1; /* 1 MiB leaf */
	struct iommu_dma_fault f;
	size_t contig = 0, done = 7;
	void *host = NULL;

	assert_non_null(mem);
	for (unsigned int i = 0; i < 4 * K2; i++)
		mem[i] = (uint8_t)(i * 7 + 1);
	/* Blocked: a configuration error, reported with the request's fields. */
	assert_int_equal(ops()->dma_translate(dev, 0, A, 16, IOMMU_READ, &host, &contig, &f), -EIO);
	assert_int_equal(f.iova, A);
	assert_int_equal(f.access, IOMMU_READ);
	assert_int_equal(f.reason, MOCK_DMA_FAULT_BLOCKED);
	assert_int_equal(d->ops->attach_dev(d, dev), 0);
	/* Two RW pages, a hole, a read-only page; and one 1 MiB leaf. */
	assert_int_equal(map(d, A, (uintptr_t)mem, K2, 2, RW), 0);
	assert_int_equal(map(d, A + 3 * K2, (uintptr_t)mem + 3 * K2, K2, 1, IOMMU_READ), 0);
	assert_int_equal(map(d, H, (uintptr_t)mem, M1, 1, RW), 0);

	/* A run ends at the end of its leaf, or at @len. */
	assert_int_equal(ops()->dma_translate(dev, 0, A + 100, 8192, IOMMU_READ, &host, &contig, &f),
			 0);
	assert_ptr_equal(host, mem + 100);
	assert_int_equal(contig, K2 - 100);
	assert_int_equal(ops()->dma_translate(dev, 0, A + K2, 10, IOMMU_WRITE, &host, &contig, &f), 0);
	assert_int_equal(contig, 10);
	assert_int_equal(ops()->dma_translate(dev, 0, H + 5, 3 * M1, IOMMU_READ, &host, &contig, &f),
			 0);
	assert_ptr_equal(host, mem + 5);
	assert_int_equal(contig, M1 - 5);

	/* A read across the hole moves the two pages before it and nothing else. */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(iommu_dma_rw(dev, 0, A, out, sizeof(out), false, &done, &f), -EFAULT);
	assert_int_equal(done, 2 * K2);
	assert_int_equal(f.iova, A + 2 * K2);
	assert_int_equal(f.access, IOMMU_READ);
	assert_int_equal(f.err, -EFAULT);
	assert_int_equal(f.reason, MOCK_DMA_FAULT_NOT_MAPPED);
	assert_memory_equal(out, mem, 2 * K2);
	for (unsigned int i = 2 * K2; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xee);
	/* A write to the read-only page: a permission fault, nothing written. */
	memset(in, 0x5a, sizeof(in));
	assert_int_equal(iommu_dma_rw(dev, 0, A + 3 * K2 + 8, in, 16, true, &done, &f), -EFAULT);
	assert_int_equal(done, 0);
	assert_int_equal(f.access, IOMMU_WRITE);
	assert_int_equal(f.reason, MOCK_DMA_FAULT_PERM);
	assert_int_not_equal(mem[3 * K2 + 8], 0x5a);
	/* A write across a leaf boundary lands in both leaves. */
	assert_int_equal(iommu_dma_rw(dev, 0, A + K2 - 8, in, 16, true, &done, &f), 0);
	assert_int_equal(done, 16);
	assert_memory_equal(mem + K2 - 8, in, 16);
	/* An unattached PASID, a wrapping range, nothing to move. */
	assert_int_equal(iommu_dma_rw(dev, 9, A, out, 8, false, &done, &f), -EIO);
	assert_int_equal(f.pasid, 9);
	assert_int_equal(f.reason, MOCK_DMA_FAULT_BLOCKED);
	assert_int_equal(iommu_dma_rw(dev, 0, UINT64_MAX - 3, out, 8, false, &done, &f), -EINVAL);
	assert_int_equal(done, 0);
	assert_int_equal(iommu_dma_rw(dev, 0, A, out, 0, false, &done, &f), 0);
	assert_int_equal(done, 0);

	ops()->block_dev(dev);
	d->ops->free(d);
	mock_dev_destroy(dev);
	ufree(mem);
}

/* ---------------------------------------------------------------------- */
/* Attach and PASIDs                                                      */

static void test_attach_rid(void **state)
{
	struct udev *dev = mkdev(0), *dev2 = mkdev(0);
	struct iommu_domain *a = paging_ok(dev, 0);
	struct iommu_domain *b = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommu_domain *n;
	uint64_t pa;
	int err;

	n = nested(dev, b, 0, 0, &err);
	assert_non_null(n);
	assert_int_equal(mock_dev_translate(dev, 0, A, PT_PROT_R, &pa), -EPERM);
	assert_int_equal(a->ops->attach_dev(a, dev), 0);
	assert_ptr_equal(mock_dev_pasid_domain(dev, 0), a);
	/* One domain, two devices. */
	assert_int_equal(a->ops->attach_dev(a, dev2), 0);
	assert_ptr_equal(mock_dev_pasid_domain(dev2, 0), a);
	/* Replace by attaching another domain. */
	assert_int_equal(n->ops->attach_dev(n, dev), 0);
	assert_ptr_equal(mock_dev_pasid_domain(dev, 0), n);
	/* DMA through a nested domain goes through its parent. */
	assert_int_equal(map(b, A, PA, K2, 1, IOMMU_READ), 0);
	assert_int_equal(mock_dev_translate(dev, 0, A + 8, PT_PROT_R, &pa), 0);
	assert_int_equal(pa, PA + 8);
	assert_int_equal(mock_dev_translate(dev, 0, A + 8, PT_PROT_W, &pa), -EACCES);
	assert_int_equal(mock_dev_translate(dev, 0, A + K2, PT_PROT_R, &pa), -ENOENT);
	assert_int_equal(mock_dev_translate(dev, 0, 0, PT_PROT_R, &pa), -ENOENT);
	/* An unattached PASID is blocked. */
	assert_int_equal(mock_dev_translate(dev, 7, A, PT_PROT_R, &pa), -EPERM);
	ops()->block_dev(dev);
	assert_null(mock_dev_pasid_domain(dev, 0));
	assert_int_equal(mock_dev_translate(dev, 0, A, PT_PROT_R, &pa), -EPERM);
	/* Not ours: a foreign device or domain. */
	{
		struct udev foreign = { .name = "x" };
		struct iommu_domain other = { .type = IOMMU_DOMAIN_PAGING };

		assert_int_equal(a->ops->attach_dev(a, &foreign), -EINVAL);
		assert_int_equal(a->ops->attach_dev(&other, dev), -EINVAL);
		ops()->block_dev(&foreign); /* ignored */
	}
	ops()->block_dev(dev2);
	assert_int_equal(b->ops->unmap_pages(b, A, K2, 1), K2);
	n->ops->free(n);
	a->ops->free(a);
	b->ops->free(b);
	mock_dev_destroy(dev);
	mock_dev_destroy(dev2);
}

static void test_pasid_attach(void **state)
{
	struct udev *dev = mkdev(MOCK_FLAGS_DEVICE_PASID), *nop = mkdev(0);
	struct iommu_domain *a = paging_ok(dev, IOMMU_HWPT_ALLOC_PASID);
	struct iommu_domain *b =
		paging_ok(dev, IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommu_domain *n;
	uint64_t pa;
	int err;

	n = nested(dev, b, IOMMU_HWPT_ALLOC_PASID, 0, &err);
	assert_non_null(n);
	assert_int_equal(a->ops->set_dev_pasid(a, dev, 100, NULL), 0);
	assert_ptr_equal(mock_dev_pasid_domain(dev, 100), a);
	assert_null(mock_dev_pasid_domain(dev, 0));
	assert_null(mock_dev_pasid_domain(dev, 200));
	/* Replace: another paging domain, then a nested one. */
	assert_int_equal(b->ops->set_dev_pasid(b, dev, 100, a), 0);
	assert_ptr_equal(mock_dev_pasid_domain(dev, 100), b);
	assert_int_equal(n->ops->set_dev_pasid(n, dev, 100, b), 0);
	assert_ptr_equal(mock_dev_pasid_domain(dev, 100), n);
	/* Several PASIDs at once. */
	for (uint32_t p = 1; p <= 9; p++)
		assert_int_equal(a->ops->set_dev_pasid(a, dev, p * 1000, NULL), 0);
	for (uint32_t p = 1; p <= 9; p++)
		assert_ptr_equal(mock_dev_pasid_domain(dev, p * 1000), a);
	assert_ptr_equal(mock_dev_pasid_domain(dev, 100), n);
	/* DMA with a PASID uses that PASID's domain. */
	assert_int_equal(map(a, A, PA, K2, 1, RW), 0);
	assert_int_equal(mock_dev_translate(dev, 5000, A + 1, PT_PROT_W, &pa), 0);
	assert_int_equal(pa, PA + 1);
	assert_int_equal(mock_dev_translate(dev, 0, A + 1, PT_PROT_W, &pa), -EPERM);
	for (uint32_t p = 1; p <= 9; p++)
		ops()->remove_dev_pasid(dev, p * 1000, a);
	assert_null(mock_dev_pasid_domain(dev, 5000));
	/* Detach; detaching again (or a PASID never attached) is harmless. */
	ops()->remove_dev_pasid(dev, 100, n);
	assert_null(mock_dev_pasid_domain(dev, 100));
	ops()->remove_dev_pasid(dev, 100, n);
	ops()->remove_dev_pasid(dev, 555, n);
	/* PASID 0 is the RID; the width is 20 bits; no PASIDs without the flag. */
	assert_int_equal(a->ops->set_dev_pasid(a, dev, 0, NULL), -EINVAL);
	assert_int_equal(a->ops->set_dev_pasid(a, dev, 1u << 20, NULL), -EINVAL);
	assert_int_equal(a->ops->set_dev_pasid(a, dev, (1u << 20) - 1, NULL), 0);
	ops()->remove_dev_pasid(dev, (1u << 20) - 1, a);
	assert_int_equal(a->ops->set_dev_pasid(a, nop, 100, NULL), -EINVAL);
	assert_int_equal(a->ops->unmap_pages(a, A, K2, 1), K2);
	n->ops->free(n);
	a->ops->free(a);
	b->ops->free(b);
	mock_dev_destroy(dev);
	mock_dev_destroy(nop);
}

static void test_pasid_1024(void **state)
{
	const uint32_t P = IOMMU_TEST_PASID_RESERVED;
	struct udev *dev = mkdev(MOCK_FLAGS_DEVICE_PASID);
	struct iommu_domain *a = paging_ok(dev, IOMMU_HWPT_ALLOC_PASID);
	struct iommu_domain *b = paging_ok(dev, IOMMU_HWPT_ALLOC_PASID);

	/* Attach succeeds; the next (replace) fails with ENOMEM and changes nothing. */
	assert_int_equal(a->ops->set_dev_pasid(a, dev, P, NULL), 0);
	assert_ptr_equal(mock_dev_pasid_domain(dev, P), a);
	assert_int_equal(b->ops->set_dev_pasid(b, dev, P, a), -ENOMEM);
	assert_ptr_equal(mock_dev_pasid_domain(dev, P), a);
	/* The third works, the fourth fails again: every second one. */
	assert_int_equal(b->ops->set_dev_pasid(b, dev, P, a), 0);
	assert_ptr_equal(mock_dev_pasid_domain(dev, P), b);
	assert_int_equal(a->ops->set_dev_pasid(a, dev, P, b), -ENOMEM);
	assert_ptr_equal(mock_dev_pasid_domain(dev, P), b);
	/* The core's rollback re-attaches the old domain: that is the fifth, it works. */
	assert_int_equal(b->ops->set_dev_pasid(b, dev, P, b), 0);
	/* Detach disarms: attach after detach succeeds, the next fails. */
	ops()->remove_dev_pasid(dev, P, b);
	assert_null(mock_dev_pasid_domain(dev, P));
	assert_int_equal(a->ops->set_dev_pasid(a, dev, P, NULL), 0);
	assert_int_equal(b->ops->set_dev_pasid(b, dev, P, a), -ENOMEM);
	ops()->remove_dev_pasid(dev, P, a);
	assert_int_equal(a->ops->set_dev_pasid(a, dev, P, NULL), 0);
	ops()->remove_dev_pasid(dev, P, a);
	/* Other PASIDs never fail. */
	for (int i = 0; i < 4; i++) {
		struct iommu_domain *x = i & 1 ? b : a;

		assert_int_equal(x->ops->set_dev_pasid(x, dev, 1023, NULL), 0);
	}
	ops()->remove_dev_pasid(dev, 1023, b);
	a->ops->free(a);
	b->ops->free(b);
	mock_dev_destroy(dev);
}

/* ---------------------------------------------------------------------- */
/* Page requests                                                          */

struct sink_log {
	unsigned int n;
	struct iommu_domain *domain;
	struct udev *dev;
	struct iopf_fault fault;
	int ret;
};

static struct sink_log sink_log;

static int sink_report(struct iommu_domain *domain, struct udev *dev,
		       const struct iopf_fault *fault)
{
	sink_log.n++;
	sink_log.domain = domain;
	sink_log.dev = dev;
	sink_log.fault = *fault;
	return sink_log.ret;
}

static void test_iopf(void **state)
{
	struct iommu_event_sink sink = { .report_iopf = sink_report };
	struct udev *dev = mkdev(MOCK_FLAGS_DEVICE_PASID);
	struct iommu_domain *parent = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommu_domain *p2 = paging_ok(dev, IOMMU_HWPT_ALLOC_PASID);
	struct iommu_domain *n;
	struct iommu_page_response resp;
	int err;

	memset(&sink_log, 0, sizeof(sink_log));
	n = nested(dev, parent, 0, 0, &err);
	assert_non_null(n);
	n->sink = &sink;

	/* Blocked: nobody takes it; the model answers INVALID itself. */
	assert_int_equal(mock_dev_trigger_iopf(dev, 0, 1, IOMMU_PGFAULT_PERM_READ, A), -ENODEV);
	assert_int_equal(mock_dev_page_responses(dev, &resp), 1);
	assert_int_equal(resp.code, IOMMUFD_PAGE_RESP_INVALID);
	assert_int_equal(resp.grpid, 1);

	/* RID on the nested domain (with a sink). */
	assert_int_equal(n->ops->attach_dev(n, dev), 0);
	assert_int_equal(mock_dev_trigger_iopf(dev, 0, 0x55, IOMMU_PGFAULT_PERM_WRITE, 0xdeadb000),
			 0);
	assert_int_equal(sink_log.n, 1);
	assert_ptr_equal(sink_log.domain, n);
	assert_ptr_equal(sink_log.dev, dev);
	assert_int_equal(sink_log.fault.flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(sink_log.fault.pasid, 0);
	assert_int_equal(sink_log.fault.grpid, 0x55);
	assert_int_equal(sink_log.fault.perm, IOMMU_PGFAULT_PERM_WRITE);
	assert_int_equal(sink_log.fault.addr, 0xdeadb000);
	assert_int_equal(sink_log.fault.length, 0);
	/* A PASID with no domain of its own: the nested RID (guest PASID table) takes it. */
	assert_int_equal(mock_dev_trigger_iopf(dev, 7, 2, IOMMU_PGFAULT_PERM_READ, A), 0);
	assert_int_equal(sink_log.n, 2);
	assert_ptr_equal(sink_log.domain, n);
	assert_int_equal(sink_log.fault.flags,
			 IOMMU_PGFAULT_FLAGS_LAST_PAGE | IOMMU_PGFAULT_FLAGS_PASID_VALID);
	assert_int_equal(sink_log.fault.pasid, 7);
	/* A PASID with a domain without a sink: EOPNOTSUPP, answered INVALID. */
	assert_int_equal(p2->ops->set_dev_pasid(p2, dev, 7, NULL), 0);
	assert_int_equal(mock_dev_trigger_iopf(dev, 7, 3, IOMMU_PGFAULT_PERM_READ, A), -EOPNOTSUPP);
	assert_int_equal(sink_log.n, 2);
	assert_int_equal(mock_dev_page_responses(dev, &resp), 2);
	assert_int_equal(resp.pasid, 7);
	assert_int_equal(resp.grpid, 3);
	/* The sink refuses: its error, answered INVALID. */
	p2->sink = &sink;
	sink_log.ret = -ENOSPC;
	assert_int_equal(mock_dev_trigger_iopf(dev, 7, 4, IOMMU_PGFAULT_PERM_READ, A), -ENOSPC);
	assert_ptr_equal(sink_log.domain, p2);
	assert_int_equal(mock_dev_page_responses(dev, NULL), 3);
	sink_log.ret = 0;
	ops()->remove_dev_pasid(dev, 7, p2);
	/* RID on a paging domain: a PASID request without a PASID domain has nowhere to go. */
	assert_int_equal(parent->ops->attach_dev(parent, dev), 0);
	assert_int_equal(mock_dev_trigger_iopf(dev, 9, 5, IOMMU_PGFAULT_PERM_READ, A), -ENODEV);
	/* The core's response goes through page_response. */
	{
		struct iommu_page_response r = { .pasid = 0, .grpid = 0x55,
						 .code = IOMMUFD_PAGE_RESP_SUCCESS };

		assert_int_equal(ops()->page_response(dev, &sink_log.fault, &r), 0);
		assert_int_equal(mock_dev_page_responses(dev, &resp), 5);
		assert_int_equal(resp.code, IOMMUFD_PAGE_RESP_SUCCESS);
		assert_int_equal(resp.grpid, 0x55);
	}
	ops()->block_dev(dev);
	n->ops->free(n);
	parent->ops->free(parent);
	p2->ops->free(p2);
	mock_dev_destroy(dev);
}

/* ---------------------------------------------------------------------- */
/* vIOMMU                                                                 */

struct event_log {
	unsigned int n, type;
	size_t len;
	uint32_t virt_id;
};

static struct event_log event_log;

static int report_event(struct iommu_viommu *viommu, unsigned int type, const void *data,
			size_t len)
{
	event_log.n++;
	event_log.type = type;
	event_log.len = len;
	memcpy(&event_log.virt_id, data, sizeof(uint32_t));
	return 0;
}

static struct iommu_viommu *viommu_new(struct udev *dev, struct iommu_domain *parent,
				       const struct iommu_user_data *data, int *err)
{
	return ops()->viommu_alloc(dev, parent, IOMMU_VIOMMU_TYPE_SELFTEST, data, err);
}

static void test_viommu_alloc(void **state)
{
	struct udev *dev = mkdev(0);
	struct iommu_domain *parent = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT), *n;
	struct iommu_viommu_selftest io = { .in_data = 0xabcd1234 };
	struct iommu_user_data data = { .type = IOMMU_VIOMMU_TYPE_SELFTEST, .uptr = &io,
					.len = sizeof(io) };
	struct iommu_viommu *v, *v2;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int err;

	/* Without data: no mmap region. */
	v = viommu_new(dev, parent, NULL, &err);
	assert_non_null(v);
	assert_int_equal(err, 0);
	assert_ptr_equal(v->parent, parent);
	assert_ptr_equal(v->iommu, mock_iommu_device());
	assert_int_equal(v->type, IOMMU_VIOMMU_TYPE_SELFTEST);
	assert_int_equal(v->mmap_len, 0);
	assert_null(v->mmap_base);
	v->ops->destroy(v);

	/* With data: the echo and a two-page region whose first u32 is in_data. */
	v = viommu_new(dev, parent, &data, &err);
	assert_non_null(v);
	assert_int_equal(io.out_data, 0xabcd1234);
	assert_int_equal(io.out_mmap_length, 2 * page);
	assert_int_equal(io.out_mmap_offset, v->mmap_offset);
	assert_true(io.out_mmap_offset != 0);
	assert_int_equal(io.out_mmap_offset % 0x10000, 0);
	assert_int_equal(v->mmap_len, 2 * page);
	assert_int_equal((uintptr_t)v->mmap_base % page, 0);
	assert_int_equal(*(uint32_t *)v->mmap_base, 0xabcd1234);
	assert_int_equal(((uint8_t *)v->mmap_base)[2 * page - 1], 0);
	/* A second vIOMMU: another offset. */
	v2 = viommu_new(dev, parent, &data, &err);
	assert_non_null(v2);
	assert_true(v2->mmap_offset != v->mmap_offset);
	v2->ops->destroy(v2);
	/* Its nested domains: flags and data as for plain nested domains. */
	{
		struct iommu_hwpt_selftest cfg = { .iotlb = 7 };
		struct iommu_user_data nd = { .type = IOMMU_HWPT_DATA_SELFTEST, .uptr = &cfg,
					      .len = sizeof(cfg) };

		n = v->ops->alloc_domain_nested(v, IOMMU_HWPT_ALLOC_PASID, &nd, &err);
		assert_non_null(n);
		assert_ptr_equal(n->parent, parent);
		assert_int_equal(mock_nested_check_iotlb(n, 2, 7), 0);
		n->ops->free(n);
		n = v->ops->alloc_domain_nested(v, IOMMU_HWPT_ALLOC_NEST_PARENT, &nd, &err);
		assert_null(n);
		assert_int_equal(err, -EOPNOTSUPP);
		nd.type = IOMMU_HWPT_DATA_VTD_S1;
		assert_null(v->ops->alloc_domain_nested(v, 0, &nd, &err));
		assert_int_equal(err, -EOPNOTSUPP);
	}
	v->ops->destroy(v);

	/* Data rules: up to out_data at least, at most the struct, the vIOMMU's type. */
	data.len = 4;
	assert_null(viommu_new(dev, parent, &data, &err));
	assert_int_equal(err, -EINVAL);
	data.len = sizeof(io) + 1;
	assert_null(viommu_new(dev, parent, &data, &err));
	assert_int_equal(err, -EINVAL);
	data.len = 8; /* in_data and out_data only: no room for the offset, still fine */
	io.out_mmap_offset = 0;
	v = viommu_new(dev, parent, &data, &err);
	assert_non_null(v);
	assert_int_equal(io.out_mmap_offset, 0);
	v->ops->destroy(v);
	data.len = sizeof(io);
	data.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
	assert_null(viommu_new(dev, parent, &data, &err));
	assert_int_equal(err, -EINVAL);
	data.type = IOMMU_VIOMMU_TYPE_SELFTEST;
	data.uptr = NULL;
	assert_null(viommu_new(dev, parent, &data, &err));
	assert_int_equal(err, -EFAULT);
	/* Types and parents. */
	assert_null(ops()->viommu_alloc(dev, parent, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	assert_null(ops()->viommu_alloc(dev, parent, IOMMU_VIOMMU_TYPE_DEFAULT, NULL, &err));
	assert_int_equal(err, -EOPNOTSUPP);
	n = nested(dev, parent, 0, 0, &err);
	assert_non_null(n);
	assert_null(viommu_new(dev, n, NULL, &err));
	assert_int_equal(err, -EINVAL);
	n->ops->free(n);
	n = paging_ok(dev, 0);
	assert_null(viommu_new(dev, n, NULL, &err));
	assert_int_equal(err, -EINVAL);
	n->ops->free(n);
	parent->ops->free(parent);
	mock_dev_destroy(dev);
}

static void test_vdevice_and_vevent(void **state)
{
	struct udev *dev = mkdev(0), *dev2 = mkdev(0);
	struct iommu_domain *parent = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommu_hwpt_selftest cfg = { .iotlb = 0 };
	struct iommu_user_data nd = { .type = IOMMU_HWPT_DATA_SELFTEST, .uptr = &cfg,
				      .len = sizeof(cfg) };
	struct iommu_domain *vn, *plain_n;
	struct iommu_viommu *v;
	int err;

	memset(&event_log, 0, sizeof(event_log));
	v = viommu_new(dev, parent, NULL, &err);
	assert_non_null(v);
	vn = v->ops->alloc_domain_nested(v, 0, &nd, &err);
	assert_non_null(vn);
	plain_n = nested(dev, parent, 0, 0, &err);
	assert_non_null(plain_n);

	/* No vDEVICE: no attach to the vIOMMU's nested domain. */
	assert_int_equal(vn->ops->attach_dev(vn, dev), -ENOENT);
	assert_null(mock_dev_pasid_domain(dev, 0));
	assert_int_equal(mock_dev_trigger_vevent(dev), -ENOENT);

	assert_int_equal(v->ops->vdevice_init(v, dev, 0x99), 0);
	/* One virtual ID per device, one device per virtual ID. */
	assert_int_equal(v->ops->vdevice_init(v, dev2, 0x99), -EEXIST);
	assert_int_equal(v->ops->vdevice_init(v, dev, 0x98), -EEXIST);
	assert_int_equal(vn->ops->attach_dev(vn, dev), 0);

	/* TRIGGER_VEVENT: with no report_event installed, then with one. */
	assert_int_equal(mock_dev_trigger_vevent(dev), -EOPNOTSUPP);
	v->report_event = report_event;
	assert_int_equal(mock_dev_trigger_vevent(dev), 0);
	assert_int_equal(event_log.n, 1);
	assert_int_equal(event_log.type, IOMMU_VEVENTQ_TYPE_SELFTEST);
	assert_int_equal(event_log.len, sizeof(struct iommu_viommu_event_selftest));
	assert_int_equal(event_log.virt_id, 0x99);
	/* Another device without a vDEVICE there. */
	assert_int_equal(mock_dev_trigger_vevent(dev2), -ENOENT);

	/* Leaving the vIOMMU's domain: no more events. */
	assert_int_equal(plain_n->ops->attach_dev(plain_n, dev), 0);
	assert_int_equal(mock_dev_trigger_vevent(dev), -ENOENT);
	assert_int_equal(vn->ops->attach_dev(vn, dev), 0);
	ops()->block_dev(dev);
	assert_int_equal(mock_dev_trigger_vevent(dev), -ENOENT);

	/* Destroying the vDEVICE while attached drops the virtual ID. */
	assert_int_equal(vn->ops->attach_dev(vn, dev), 0);
	v->ops->vdevice_destroy(v, dev, 0x99);
	assert_int_equal(mock_dev_trigger_vevent(dev), -ENOENT);
	ops()->block_dev(dev);
	assert_int_equal(vn->ops->attach_dev(vn, dev), -ENOENT);

	/* Again with 0x88; and a virtual ID of 0, which the mock treats as none. */
	assert_int_equal(v->ops->vdevice_init(v, dev, 0x88), 0);
	assert_int_equal(vn->ops->attach_dev(vn, dev), 0);
	assert_int_equal(mock_dev_trigger_vevent(dev), 0);
	assert_int_equal(event_log.virt_id, 0x88);
	assert_int_equal(v->ops->vdevice_init(v, dev2, 0), 0);
	assert_int_equal(vn->ops->attach_dev(vn, dev2), 0);
	assert_int_equal(mock_dev_trigger_vevent(dev2), -ENOENT);
	assert_int_equal(event_log.n, 2);
	/* Not a mock device. */
	{
		struct udev foreign = { .name = "x" };

		assert_int_equal(v->ops->vdevice_init(v, &foreign, 5), -EINVAL);
	}
	ops()->block_dev(dev);
	ops()->block_dev(dev2);
	v->ops->vdevice_destroy(v, dev, 0x88);
	v->ops->vdevice_destroy(v, dev2, 0);
	vn->ops->free(vn);
	plain_n->ops->free(plain_n);
	v->ops->destroy(v);
	parent->ops->free(parent);
	mock_dev_destroy(dev);
	mock_dev_destroy(dev2);
}

static int vinv(struct iommu_viommu *v, unsigned int type, void *uptr, size_t entry_len,
		uint32_t *num)
{
	struct iommu_user_data_array a = { .type = type, .uptr = uptr, .entry_len = entry_len,
					   .entry_num = *num };
	int ret = v->ops->cache_invalidate(v, &a);

	*num = a.entry_num;
	return ret;
}

static void check_cache(struct udev *dev, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3)
{
	assert_int_equal(mock_dev_check_cache(dev, 0, c0), 0);
	assert_int_equal(mock_dev_check_cache(dev, 1, c1), 0);
	assert_int_equal(mock_dev_check_cache(dev, 2, c2), 0);
	assert_int_equal(mock_dev_check_cache(dev, 3, c3), 0);
}

static void test_viommu_invalidate(void **state)
{
	const uint32_t D = IOMMU_TEST_DEV_CACHE_DEFAULT;
	const unsigned int T = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST;
	struct udev *dev = mkdev(0), *other = mkdev(0);
	struct iommu_domain *parent = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommu_viommu_invalidate_selftest inv[2];
	struct iommu_viommu *v;
	uint32_t num;
	int err;

	v = viommu_new(dev, parent, NULL, &err);
	assert_non_null(v);
	assert_int_equal(v->ops->vdevice_init(v, dev, 0x99), 0);
	assert_int_equal(v->ops->vdevice_init(v, other, 0x77), 0);
	memset(inv, 0, sizeof(inv));

	/* An empty array of the right type; of a wrong type. */
	num = 0;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), 0);
	assert_int_equal(num, 0);
	num = 0;
	assert_int_equal(vinv(v, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID, inv,
			      sizeof(inv[0]), &num),
			 -EINVAL);
	num = 1;
	assert_int_equal(vinv(v, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID, inv,
			      sizeof(inv[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 0);
	/*
	 * Sizes: sizeof + 1 (zero tail: copied, then vdev_id 0 is unknown) and
	 * 1 byte (zero-extended: the same), both EINVAL with nothing done; a
	 * non-zero tail is E2BIG; NULL EFAULT.
	 */
	num = 1;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]) + 1, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(vinv(v, T, inv, 1, &num), -EINVAL);
	assert_int_equal(num, 0);
	{
		uint8_t raw[13] = { 0 };

		raw[4] = 0x99; /* vdev_id */
		raw[12] = 1;
		num = 1;
		assert_int_equal(vinv(v, T, raw, 13, &num), -E2BIG);
		assert_int_equal(num, 0);
		raw[12] = 0;
		num = 1;
		assert_int_equal(vinv(v, T, raw, 13, &num), 0);
		assert_int_equal(num, 1);
		check_cache(dev, 0, D, D, D);
	}
	num = 1;
	assert_int_equal(vinv(v, T, NULL, sizeof(inv[0]), &num), -EFAULT);
	assert_int_equal(num, 0);

	/* Unknown flags, cache_id too large, unknown vdev_id. */
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .flags = 0xffffffff, .vdev_id = 0x99 };
	num = 1;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), -EOPNOTSUPP);
	assert_int_equal(num, 0);
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x99, .cache_id = 4 };
	num = 1;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 0);
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .flags = IOMMU_TEST_INVALIDATE_FLAG_ALL,
							    .vdev_id = 0x99, .cache_id = 4 };
	num = 1;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), -EINVAL);
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x9 };
	num = 1;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 0);
	check_cache(dev, 0, D, D, D);

	/* Good then bad flags; good then bad cache_id: one handled each time. */
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x99, .cache_id = 1 };
	inv[1] = (struct iommu_viommu_invalidate_selftest){ .flags = 0xffffffff, .vdev_id = 0x99,
							    .cache_id = 2 };
	num = 2;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), -EOPNOTSUPP);
	assert_int_equal(num, 1);
	check_cache(dev, 0, 0, D, D);
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x77, .cache_id = 3 };
	inv[1] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x99,
							    .cache_id = MOCK_DEV_CACHE_ID_MAX + 1 };
	num = 2;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 1);
	check_cache(other, D, D, D, 0);
	check_cache(dev, 0, 0, D, D);
	/* Two good entries. */
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x99, .cache_id = 2 };
	inv[1] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x99, .cache_id = 3 };
	num = 2;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), 0);
	assert_int_equal(num, 2);
	check_cache(dev, 0, 0, 0, 0);
	/* FLAG_ALL on the other device. */
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .flags = IOMMU_TEST_INVALIDATE_FLAG_ALL,
							    .vdev_id = 0x77, .cache_id = 1 };
	num = 1;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), 0);
	assert_int_equal(num, 1);
	check_cache(other, 0, 0, 0, 0);
	/* After vdevice_destroy the virtual ID is unknown. */
	v->ops->vdevice_destroy(v, other, 0x77);
	num = 1;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), -EINVAL);
	/* Absurd entry counts fail like the kernel's allocation. */
	num = 0x7fffffff;
	assert_int_equal(vinv(v, T, inv, sizeof(inv[0]), &num), -ENOMEM);
	assert_int_equal(num, 0);

	v->ops->vdevice_destroy(v, dev, 0x99);
	v->ops->destroy(v);
	parent->ops->free(parent);
	mock_dev_destroy(dev);
	mock_dev_destroy(other);
}

static void test_hw_queue(void **state)
{
	const unsigned int T = IOMMU_HW_QUEUE_TYPE_SELFTEST;
	struct udev *dev = mkdev(0);
	struct iommu_domain *parent = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	static uint8_t q0[4096], q1[4096];
	struct iommu_viommu *v;
	uint64_t len;
	void *base;
	int err;

	v = viommu_new(dev, parent, NULL, &err);
	assert_non_null(v);
	assert_int_equal(v->ops->hw_queue_init(v, IOMMU_HW_QUEUE_TYPE_DEFAULT, 0, q0, 4096),
			 -EOPNOTSUPP);
	/* Must start at 0; 2 is beyond the two queues. */
	assert_int_equal(v->ops->hw_queue_init(v, T, 1, q0, 4096), -EIO);
	assert_int_equal(v->ops->hw_queue_init(v, T, IOMMU_TEST_HW_QUEUE_MAX, q0, 4096), -EINVAL);
	assert_int_equal(mock_viommu_hw_queue(v, 0, &base, &len), -ENOENT);
	assert_int_equal(v->ops->hw_queue_init(v, T, 0, q0, 4096), 0);
	assert_int_equal(v->ops->hw_queue_init(v, T, 0, q1, 4096), -EEXIST);
	assert_int_equal(v->ops->hw_queue_init(v, T, 1, q1 + 2048, 2048), 0);
	assert_int_equal(v->ops->hw_queue_init(v, T, 1, q1, 4096), -EEXIST);
	assert_int_equal(mock_viommu_hw_queue(v, 1, &base, &len), 0);
	assert_ptr_equal(base, q1 + 2048);
	assert_int_equal(len, 2048);
	assert_int_equal(mock_viommu_hw_queue(v, 2, &base, &len), -EINVAL);
	/* Queue 1 depends on queue 0: destroy in descending order. */
	assert_int_equal(v->ops->hw_queue_destroy(v, 0), -EBUSY);
	assert_int_equal(mock_viommu_hw_queue(v, 0, &base, NULL), 0);
	assert_ptr_equal(base, q0);
	assert_int_equal(v->ops->hw_queue_destroy(v, 1), 0);
	assert_int_equal(v->ops->hw_queue_destroy(v, 0), 0);
	assert_int_equal(mock_viommu_hw_queue(v, 0, &base, &len), -ENOENT);
	/* Index 1 needs index 0 again. */
	assert_int_equal(v->ops->hw_queue_init(v, T, 1, q1, 4096), -EIO);
	assert_int_equal(v->ops->hw_queue_destroy(v, 1), 0); /* unused: nothing to do */
	v->ops->destroy(v);
	parent->ops->free(parent);
	mock_dev_destroy(dev);
}

/* ---------------------------------------------------------------------- */
/* Allocation failures                                                    */

static void test_failnth(void **state)
{
	struct udev *dev = mkdev(0);
	struct iommu_domain *parent = paging_ok(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommu_viommu_selftest io = { .in_data = 1 };
	struct iommu_user_data vd = { .type = IOMMU_VIOMMU_TYPE_SELFTEST, .uptr = &io,
				      .len = sizeof(io) };
	unsigned int fired;

	/*
	 * Every allocation of a domain, a device, a vIOMMU and a map in turn:
	 * each failure gives an error, leaks nothing (ASan) and leaves what
	 * existed as it was.
	 */
	assert_int_equal(map(parent, A, PA, K2, 1, RW), 0);
	fired = 0;
	for (unsigned long nth = 1; nth < 256; nth++) {
		struct iommu_domain *d;
		struct iommu_viommu *v;
		struct udev *x;
		int err = 0, ret;
		bool failed;

		ualloc_fail_nth(nth);
		x = mock_dev_create(0, &err);
		d = x ? paging(x, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, NULL, &err) : NULL;
		v = d ? viommu_new(x, parent, &vd, &err) : NULL;
		ret = v ? map(d, A + M1, PA, K2, 600, RW) : err;
		failed = ualloc_fail_nth_pending() == 0;
		ualloc_fail_nth(0);
		if (failed) {
			fired++;
			assert_true(ret == -ENOMEM || ret == -ENOENT);
		} else {
			assert_int_equal(ret, 0);
		}
		if (d && !ret)
			assert_int_equal(d->ops->unmap_pages(d, A + M1, K2, 600), 600 * K2);
		if (d)
			assert_int_equal(d->ops->iova_to_phys(d, A + M1), 0);
		if (v)
			v->ops->destroy(v);
		if (d)
			d->ops->free(d);
		if (x)
			mock_dev_destroy(x);
		if (!failed)
			break;
	}
	assert_true(fired > 3);
	assert_int_equal(parent->ops->iova_to_phys(parent, A), PA);
	assert_int_equal(parent->ops->unmap_pages(parent, A, K2, 1), K2);
	parent->ops->free(parent);
	mock_dev_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dev_create),
		cmocka_unit_test(test_hw_info),
		cmocka_unit_test(test_paging_alloc_flags),
		cmocka_unit_test(test_paging_alloc_data),
		cmocka_unit_test(test_map_2k),
		cmocka_unit_test(test_aperture_edges),
		cmocka_unit_test(test_pt_format),
		cmocka_unit_test(test_map_huge),
		cmocka_unit_test(test_check_map),
		cmocka_unit_test(test_dirty_basic),
		cmocka_unit_test(test_dirty_huge),
		cmocka_unit_test(test_dirty_attach_no_dirty),
		cmocka_unit_test(test_nested_alloc),
		cmocka_unit_test(test_nested_invalidate),
		cmocka_unit_test(test_attach_rid),
		cmocka_unit_test(test_pasid_attach),
		cmocka_unit_test(test_pasid_1024),
		cmocka_unit_test(test_iopf),
		cmocka_unit_test(test_viommu_alloc),
		cmocka_unit_test(test_vdevice_and_vevent),
		cmocka_unit_test(test_viommu_invalidate),
		cmocka_unit_test(test_hw_queue),
		cmocka_unit_test(test_failnth),
		cmocka_unit_test(test_dma_translate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
