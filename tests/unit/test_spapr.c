// SPDX-License-Identifier: MIT
/*
 * The sPAPR TCE IOMMU model (lib/hw/spapr): topology, table geometry and
 * accounting sizes, H_PUT_TCE stores, windows, DMA through them (bytes
 * moved), faults and the EEH freeze they cause, thaw / reset / inject, and
 * allocation failures.
 *
 * Expected table sizes are worked out by hand from PowerNV's rules
 * (reference hw.md §4.2, 64 KiB kernel pages), not read back from the code.
 * The random test compares the model with a dictionary of TCEs over a
 * fixed seed, printed on failure.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/vfio.h>

#include "hw/spapr/spapr.h"
#include "util/alloc.h"

#define SZ_4K	  0x1000ULL
#define SZ_64K	  0x10000ULL
#define SZ_1G	  (1ULL << 30)
#define DDW_START (1ULL << 59)

struct env {
	struct spapr_iommu *phb;
	struct spapr_pe *pe;
	struct udev *dev;
	uint8_t *mem; /* 1 MiB, 64 KiB aligned */
	void *raw;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	int err;

	assert_non_null(e);
	e->phb = spapr_iommu_create(NULL, &err);
	assert_non_null(e->phb);
	e->pe = spapr_pe_create(e->phb, 7, &err);
	assert_non_null(e->pe);
	e->dev = spapr_dev_create(e->pe, "0002:01:00.0", 0x100, &err);
	assert_non_null(e->dev);
	e->raw = aligned_alloc(SZ_64K, 1 << 20);
	assert_non_null(e->raw);
	e->mem = e->raw;
	memset(e->mem, 0, 1 << 20);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	for (unsigned int i = 0; i < SPAPR_MAX_WINDOWS; i++)
		spapr_pe_unset_window(e->pe, i);
	spapr_dev_destroy(e->dev);
	assert_int_equal(spapr_pe_destroy(e->pe), 0);
	assert_int_equal(spapr_iommu_destroy(e->phb), 0);
	free(e->raw);
	free(e);
	return 0;
}

static int dma(struct env *e, uint64_t iova, const void *buf, size_t len, bool write,
	       struct iommu_dma_fault *f, size_t *done)
{
	struct iommu_dma_fault ff;
	size_t n;

	return iommu_dma_rw(e->dev, 0, iova, (void *)(uintptr_t)buf, len, write, done ? done : &n,
			    f ? f : &ff);
}

static int put(struct spapr_table *tbl, uint64_t entry, uint64_t hpa, enum spapr_dma_dir dir,
	       uint64_t *old_hpa, enum spapr_dma_dir *old_dir)
{
	int rc = spapr_tce_xchg(tbl, entry, &hpa, &dir);

	if (old_hpa)
		*old_hpa = hpa;
	if (old_dir)
		*old_dir = dir;
	return rc;
}

/* ------------------------------------------------------------------ */

static void test_topology(void **state)
{
	struct spapr_config bad = {.dma32_size = 3u << 20};
	struct spapr_iommu *phb;
	struct spapr_pe *pe;
	struct spapr_pe_info info;
	struct udev *dev;
	int err;

	(void)state;
	assert_false(spapr_platform_present());
	assert_null(spapr_iommu_create(&bad, &err));
	assert_int_equal(err, -EINVAL);
	bad = (struct spapr_config){.ddw_start = 1ULL << 40};
	assert_null(spapr_iommu_create(&bad, &err));
	assert_int_equal(err, -EINVAL);
	bad = (struct spapr_config){.pgsizes = SZ_64K}; /* no 4 KiB for the default window */
	assert_null(spapr_iommu_create(&bad, &err));
	assert_int_equal(err, -EINVAL);
	bad = (struct spapr_config){.max_levels = 6};
	assert_null(spapr_iommu_create(&bad, &err));
	assert_int_equal(err, -EINVAL);

	phb = spapr_iommu_create(NULL, &err);
	assert_non_null(phb);
	assert_true(spapr_platform_present());
	assert_true(spapr_is_iommu(spapr_iommu_device(phb)));
	pe = spapr_pe_create(phb, 3, &err);
	assert_non_null(pe);
	assert_null(spapr_pe_create(phb, 3, &err));
	assert_int_equal(err, -EEXIST);
	assert_int_equal(spapr_pe_number(pe), 3);
	spapr_pe_info(pe, &info);
	assert_int_equal(info.tce32_start, 0);
	assert_int_equal(info.tce32_size, SZ_1G);
	assert_int_equal(info.pgsizes, SZ_4K | SZ_64K | (1ULL << 24));
	assert_int_equal(info.max_dynamic_windows_supported, 2);
	assert_int_equal(info.max_levels, 5);
	dev = spapr_dev_create(pe, "d", 1, &err);
	assert_non_null(dev);
	assert_ptr_equal(spapr_dev_pe(dev), pe);
	assert_ptr_equal(dev->iommu, spapr_iommu_device(phb));
	assert_int_equal(spapr_iommu_destroy(phb), -EBUSY);
	assert_int_equal(spapr_pe_destroy(pe), -EBUSY);
	spapr_dev_destroy(dev);
	assert_int_equal(spapr_pe_destroy(pe), 0);
	assert_int_equal(spapr_iommu_destroy(phb), 0);
	assert_false(spapr_platform_present());
}

static void test_table_size(void **state)
{
	(void)state;
	/* 1 GiB of 4 KiB TCEs, 1 level: a 2 MiB table, twice. */
	assert_int_equal(spapr_table_size(12, SZ_1G, 1), 4ULL << 20);
	/* 4 GiB of 64 KiB TCEs: 2^16 entries, 512 KiB, twice. */
	assert_int_equal(spapr_table_size(16, 4 * SZ_1G, 1), 1ULL << 20);
	/* A tiny window still takes a whole 64 KiB level. */
	assert_int_equal(spapr_table_size(12, SZ_64K, 1), 128ULL << 10);
	/* 1 TiB of 4 KiB TCEs in 3 levels: 2 GiB + 256 KiB + 64 KiB, twice. */
	assert_int_equal(spapr_table_size(12, 1ULL << 40, 3),
			 2 * ((2ULL << 30) + (256ULL << 10) + SZ_64K));
	assert_int_equal(spapr_table_size(12, SZ_1G, 0), 0);
	assert_int_equal(spapr_table_size(12, SZ_1G, 6), 0);
	assert_int_equal(spapr_table_size(12, 3 * SZ_1G, 1), 0);
	assert_int_equal(spapr_table_size(16, SZ_4K, 1), 0);
	assert_int_equal(spapr_table_size(12, 0, 1), 0);
}

static void test_table_create(void **state)
{
	struct env *e = *state;
	struct spapr_table_info info;
	struct spapr_table *tbl;
	int err;

	assert_null(spapr_table_create(e->pe, 2, 12, SZ_1G, 1, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(spapr_table_create(e->pe, 1, 12, SZ_1G, 4, &err));
	assert_int_equal(err, -EINVAL); /* (16 - 3) * 4 + 12 >= 55 */
	assert_null(spapr_table_create(e->pe, 1, 12, 3 * SZ_1G, 1, &err));
	assert_int_equal(err, -EINVAL);
	tbl = spapr_table_create(e->pe, 0, 12, SZ_1G, 1, &err);
	assert_non_null(tbl);
	spapr_table_info(tbl, &info);
	assert_int_equal(info.offset, 0);
	assert_int_equal(info.size, SZ_1G >> 12);
	assert_int_equal(info.allocated_size, 4ULL << 20);
	spapr_table_put(tbl);
	/* Slot 1 starts at the platform's DDW address whatever its geometry. */
	tbl = spapr_table_create(e->pe, 1, 16, 1ULL << 36, 2, &err);
	assert_non_null(tbl);
	spapr_table_info(tbl, &info);
	assert_int_equal(info.offset << info.page_shift, DDW_START);
	assert_int_equal(info.size, 1ULL << 20);
	assert_int_equal(info.levels, 2);
	spapr_table_put(tbl);
}

static void test_xchg(void **state)
{
	struct env *e = *state;
	struct spapr_table *tbl;
	enum spapr_dma_dir dir;
	uint64_t hpa, base = (uintptr_t)e->mem;
	int err;

	tbl = spapr_table_create(e->pe, 1, 12, 1ULL << 32, 2, &err);
	assert_non_null(tbl);
	/* Indexes are absolute: the window's first TCE is DDW_START >> 12. */
	assert_int_equal(put(tbl, 0, base, SPAPR_DMA_BIDIRECTIONAL, NULL, NULL), -EINVAL);
	assert_int_equal(put(tbl, (DDW_START >> 12) + (1ULL << 20), base,
			     SPAPR_DMA_BIDIRECTIONAL, NULL, NULL),
			 -EINVAL);
	assert_int_equal(put(tbl, (DDW_START >> 12) + 5, base + 8, SPAPR_DMA_TO_DEVICE, NULL, NULL),
			 -EINVAL);
	assert_int_equal(put(tbl, (DDW_START >> 12) + 5, base, SPAPR_DMA_TO_DEVICE, &hpa, &dir), 0);
	assert_int_equal(dir, SPAPR_DMA_NONE);
	assert_int_equal(hpa, 0);
	assert_int_equal(spapr_tce_get(tbl, (DDW_START >> 12) + 5, &hpa, &dir), 0);
	assert_int_equal(hpa, base);
	assert_int_equal(dir, SPAPR_DMA_TO_DEVICE);
	/* Replace: the old one comes back. FROM_DEVICE is stored with READ. */
	assert_int_equal(put(tbl, (DDW_START >> 12) + 5, base + SZ_4K, SPAPR_DMA_FROM_DEVICE, &hpa,
			     &dir),
			 0);
	assert_int_equal(hpa, base);
	assert_int_equal(dir, SPAPR_DMA_TO_DEVICE);
	assert_int_equal(spapr_tce_get(tbl, (DDW_START >> 12) + 5, &hpa, &dir), 0);
	assert_int_equal(hpa, base + SZ_4K);
	assert_int_equal(dir, SPAPR_DMA_BIDIRECTIONAL);
	/* Clear. */
	assert_int_equal(put(tbl, (DDW_START >> 12) + 5, 0, SPAPR_DMA_NONE, &hpa, &dir), 0);
	assert_int_equal(hpa, base + SZ_4K);
	assert_int_equal(spapr_tce_get(tbl, (DDW_START >> 12) + 5, &hpa, &dir), 0);
	assert_int_equal(dir, SPAPR_DMA_NONE);
	/* spapr_tce_clear reports what was there, clipped to the window. */
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(put(tbl, (DDW_START >> 12) + 100 + i * 1000, base + i * SZ_4K,
				     SPAPR_DMA_BIDIRECTIONAL, NULL, NULL),
				 0);
	assert_int_equal(spapr_tce_clear(tbl, 0, (DDW_START >> 12) + 1101, NULL, NULL), 2);
	assert_int_equal(spapr_tce_clear(tbl, DDW_START >> 12, 1ULL << 40, NULL, NULL), 2);
	assert_int_equal(spapr_tce_clear(tbl, DDW_START >> 12, 1ULL << 20, NULL, NULL), 0);
	spapr_table_put(tbl);
}

static void test_windows_and_dma(void **state)
{
	struct env *e = *state;
	struct spapr_table *w0, *w1, *other;
	struct spapr_iommu *phb2;
	struct spapr_pe *pe2;
	struct iommu_dma_fault f;
	uint64_t base = (uintptr_t)e->mem;
	uint8_t buf[32];
	size_t done;
	int err;

	w0 = spapr_table_create(e->pe, 0, 12, SZ_1G, 1, &err);
	w1 = spapr_table_create(e->pe, 1, 16, 1ULL << 34, 2, &err);
	assert_non_null(w0);
	assert_non_null(w1);
	assert_int_equal(spapr_pe_set_window(e->pe, 0, w0), 0);
	assert_int_equal(spapr_pe_set_window(e->pe, 0, w1), -EBUSY);
	assert_int_equal(spapr_pe_set_window(e->pe, 2, w1), -EINVAL);
	assert_int_equal(spapr_pe_set_window(e->pe, 1, w1), 0);
	/* A table of another PHB cannot be programmed here. */
	phb2 = spapr_iommu_create(NULL, &err);
	pe2 = spapr_pe_create(phb2, 1, &err);
	other = spapr_table_create(pe2, 0, 12, SZ_1G, 1, &err);
	assert_non_null(other);
	spapr_pe_unset_window(e->pe, 0);
	assert_int_equal(spapr_pe_set_window(e->pe, 0, other), -EINVAL);
	spapr_table_put(other);
	assert_int_equal(spapr_pe_destroy(pe2), 0);
	assert_int_equal(spapr_iommu_destroy(phb2), 0);
	assert_int_equal(spapr_pe_set_window(e->pe, 0, w0), 0);
	/* The PE holds its own references: the creator's can go. */
	spapr_table_put(w0);
	spapr_table_put(w1);
	assert_int_equal(spapr_pe_destroy(e->pe), -EBUSY);

	/* Bytes through window 0 (4 KiB TCEs) and the DDW (64 KiB TCEs). */
	memcpy(e->mem + 0x2ff0, "0123456789abcdefFEDCBA9876543210", 32);
	assert_int_equal(put(w0, 0x42, base + 0x2000, SPAPR_DMA_BIDIRECTIONAL, NULL, NULL), 0);
	assert_int_equal(put(w0, 0x43, base + 0x3000, SPAPR_DMA_BIDIRECTIONAL, NULL, NULL), 0);
	assert_int_equal(dma(e, 0x42ff0, buf, 32, false, NULL, &done), 0);
	assert_int_equal(done, 32);
	assert_memory_equal(buf, "0123456789abcdefFEDCBA9876543210", 32);
	assert_int_equal(put(w1, (DDW_START >> 16) + 3, base + 0x10000, SPAPR_DMA_FROM_DEVICE, NULL,
			     NULL),
			 0);
	assert_int_equal(dma(e, DDW_START + 3 * SZ_64K + 0xfff0, "ddw-write-xyz!!!", 16, true,
			     NULL, &done),
			 0);
	assert_memory_equal(e->mem + 0x1fff0, "ddw-write-xyz!!!", 16);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_NORMAL);

	/* A run stops at the first missing TCE: the bytes before it moved. */
	assert_int_equal(dma(e, 0x43ff8, buf, 16, false, &f, &done), -EFAULT);
	assert_int_equal(done, 8);
	assert_int_equal(f.reason, SPAPR_DMA_FAULT_NOT_MAPPED);
	assert_int_equal(f.iova, 0x44000);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_STOPPED);
	assert_false(spapr_dev_mmio_ok(e->dev, false));
	assert_int_equal(dma(e, 0x42000, buf, 8, false, &f, NULL), -EIO);
	assert_int_equal(f.reason, SPAPR_DMA_FAULT_FROZEN);
	assert_int_equal(spapr_eeh_set_option(e->pe, SPAPR_EEH_OPT_THAW_DMA), 0);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_UNAVAIL);
	assert_int_equal(dma(e, 0x42000, buf, 8, false, NULL, NULL), 0);
	assert_int_equal(spapr_eeh_set_option(e->pe, SPAPR_EEH_OPT_THAW_MMIO), 0);
	assert_true(spapr_dev_mmio_ok(e->dev, true));
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_NORMAL);

	/* Direction: a TO_DEVICE TCE refuses a write. */
	assert_int_equal(put(w0, 0x50, base, SPAPR_DMA_TO_DEVICE, NULL, NULL), 0);
	assert_int_equal(dma(e, 0x50000, buf, 8, false, NULL, NULL), 0);
	assert_int_equal(dma(e, 0x50000, "x", 1, true, &f, NULL), -EFAULT);
	assert_int_equal(f.reason, SPAPR_DMA_FAULT_PERM);
	assert_int_equal(spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE), 0);
	/* No window: between them, and above the DDW. */
	assert_int_equal(dma(e, SZ_1G, buf, 8, false, &f, NULL), -EFAULT);
	assert_int_equal(f.reason, SPAPR_DMA_FAULT_NO_WINDOW);
	spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE);
	assert_int_equal(dma(e, DDW_START + (1ULL << 34), buf, 8, false, &f, NULL), -EFAULT);
	assert_int_equal(f.reason, SPAPR_DMA_FAULT_NO_WINDOW);
	spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE);
	/* PASID-tagged requests are refused without a freeze. */
	{
		size_t n;

		assert_int_equal(iommu_dma_rw(e->dev, 1, 0x42000, buf, 8, false, &n, &f), -EIO);
		assert_int_equal(f.reason, SPAPR_DMA_FAULT_PASID);
		assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_NORMAL);
	}
	/* Unset: the window is gone for DMA. */
	spapr_pe_unset_window(e->pe, 0);
	assert_int_equal(dma(e, 0x42000, buf, 8, false, &f, NULL), -EFAULT);
	assert_int_equal(f.reason, SPAPR_DMA_FAULT_NO_WINDOW);
	spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE);
}

static void test_eeh(void **state)
{
	struct env *e = *state;
	struct spapr_table *w0;
	uint64_t base = (uintptr_t)e->mem, freezes;
	int err;

	assert_int_equal(spapr_eeh_get_state(NULL), -ENODEV);
	assert_int_equal(spapr_eeh_set_option(e->pe, 9), -EINVAL);
	assert_int_equal(spapr_eeh_reset(e->pe, 2), -EINVAL);
	assert_int_equal(spapr_eeh_configure(e->pe), 0);
	assert_int_equal(spapr_eeh_set_option(e->pe, SPAPR_EEH_OPT_ENABLE), 0);
	spapr_eeh_set_enabled(false);
	assert_false(spapr_eeh_enabled());
	assert_int_equal(spapr_eeh_set_option(e->pe, SPAPR_EEH_OPT_ENABLE), -EIO);
	spapr_eeh_set_enabled(true);
	/* Thawing what is not frozen is fine. */
	assert_int_equal(spapr_eeh_set_option(e->pe, SPAPR_EEH_OPT_THAW_DMA), 0);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_NORMAL);

	w0 = spapr_table_create(e->pe, 0, 12, SZ_1G, 1, &err);
	assert_int_equal(spapr_pe_set_window(e->pe, 0, w0), 0);
	spapr_table_put(w0);
	assert_int_equal(put(w0, 1, base, SPAPR_DMA_BIDIRECTIONAL, NULL, NULL), 0);
	assert_int_equal(put(w0, 2, base + SZ_4K, SPAPR_DMA_BIDIRECTIONAL, NULL, NULL), 0);

	/* Reset: RESET state, no DMA, no MMIO; deactivate thaws everything. */
	assert_int_equal(spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_FUNDAMENTAL), 0);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_RESET);
	assert_int_equal(dma(e, 0x1000, (uint8_t[8]){0}, 8, false, NULL, NULL), -EIO);
	assert_false(spapr_dev_mmio_ok(e->dev, false));
	assert_int_equal(spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE), 0);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_NORMAL);

	/* Injection: argument checks, then a DMA read function. */
	assert_int_equal(spapr_eeh_inject_err(e->pe, 0, -1, 0, 0), -EINVAL);
	assert_int_equal(spapr_eeh_inject_err(e->pe, 0, 20, 0, 0), -EINVAL);
	assert_int_equal(spapr_eeh_inject_err(e->pe, 7, 12, 0, 0), -ERANGE);
	freezes = spapr_pe_freeze_count(e->pe);
	assert_int_equal(spapr_eeh_inject_err(e->pe, 0, 13, 0x2000, ~0xfffULL), 0);
	assert_int_equal(dma(e, 0x1000, (uint8_t[8]){0}, 8, false, NULL, NULL), 0);
	assert_int_equal(dma(e, 0x2000, "w", 1, true, NULL, NULL), 0);
	{
		struct iommu_dma_fault f;

		assert_int_equal(dma(e, 0x2010, (uint8_t[8]){0}, 8, false, &f, NULL), -EIO);
		assert_int_equal(f.reason, SPAPR_DMA_FAULT_INJECTED);
	}
	assert_int_equal(spapr_pe_freeze_count(e->pe), freezes + 1);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_STOPPED);
	assert_int_equal(spapr_eeh_set_option(e->pe, SPAPR_EEH_OPT_THAW_MMIO), 0);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_STOPPED_DMA);
	assert_int_equal(spapr_eeh_set_option(e->pe, SPAPR_EEH_OPT_THAW_DMA), 0);
	assert_int_equal(dma(e, 0x2010, (uint8_t[8]){0}, 8, false, NULL, NULL), 0);
	/* A reset disarms an injection that has not hit. */
	assert_int_equal(spapr_eeh_inject_err(e->pe, 1, 17, 0, 0), 0);
	assert_int_equal(spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_HOT), 0);
	assert_int_equal(spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE), 0);
	assert_int_equal(dma(e, 0x1000, "w", 1, true, NULL, NULL), 0);
	/* A load / store function freezes now. */
	assert_int_equal(spapr_eeh_inject_err(e->pe, 0, 6, 0, 0), 0);
	assert_int_equal(spapr_eeh_get_state(e->pe), VFIO_EEH_PE_STATE_STOPPED);
	assert_int_equal(spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE), 0);
}

/* Random stores and clears against a dictionary of TCEs, DMA checking every entry. */
static void test_random(void **state)
{
	struct env *e = *state;
	enum { N = 256 };
	uint64_t model[N]; /* 0: none, else page index + 1 */
	struct spapr_table *w1;
	unsigned int seed = 0x5ea5a1u;
	uint64_t base = (uintptr_t)e->mem;
	int err;

	for (unsigned int p = 0; p < 16; p++)
		memset(e->mem + p * SZ_64K, (int)p + 1, SZ_64K);
	w1 = spapr_table_create(e->pe, 1, 12, 1ULL << 30, 3, &err);
	assert_non_null(w1);
	assert_int_equal(spapr_pe_set_window(e->pe, 1, w1), 0);
	memset(model, 0, sizeof(model));
	for (unsigned int step = 0; step < 2000; step++) {
		unsigned int i = (unsigned int)rand_r(&seed) % N;
		uint64_t entry = (DDW_START >> 12) + (uint64_t)i * 977;
		unsigned int page = (unsigned int)rand_r(&seed) % 16;
		enum spapr_dma_dir dir = rand_r(&seed) % 3 ? SPAPR_DMA_BIDIRECTIONAL : SPAPR_DMA_NONE;
		uint64_t old;
		enum spapr_dma_dir odir;

		assert_int_equal(put(w1, entry, base + page * SZ_64K, dir, &old, &odir), 0);
		if (model[i]) {
			if (odir == SPAPR_DMA_NONE || old != base + (model[i] - 1) * SZ_64K)
				fail_msg("seed 0x5ea5a1 step %u: old TCE of %u wrong", step, i);
		} else if (odir != SPAPR_DMA_NONE) {
			fail_msg("seed 0x5ea5a1 step %u: TCE %u was not empty", step, i);
		}
		model[i] = dir == SPAPR_DMA_NONE ? 0 : page + 1;
	}
	for (unsigned int i = 0; i < N; i++) {
		uint8_t b = 0;
		int rc = dma(e, DDW_START + (uint64_t)i * 977 * SZ_4K + 5, &b, 1, false, NULL, NULL);

		if (model[i] ? (rc || b != model[i]) : rc != -EFAULT)
			fail_msg("seed 0x5ea5a1: entry %u: rc %d byte %u, model %llu", i, rc, b,
				 (unsigned long long)model[i]);
		spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE);
	}
	spapr_pe_unset_window(e->pe, 1);
	spapr_table_put(w1);
}

/* Every allocation of table creation and of a store may fail; nothing is left half done. */
static void test_failnth(void **state)
{
	struct env *e = *state;
	unsigned int failures = 0;

	for (unsigned long n = 1; n < 100; n++) {
		struct spapr_table *tbl;
		uint64_t hpa = (uintptr_t)e->mem;
		enum spapr_dma_dir dir = SPAPR_DMA_BIDIRECTIONAL;
		int err, rc = 0;

		ualloc_fail_nth(n);
		tbl = spapr_table_create(e->pe, 1, 12, 1ULL << 32, 3, &err);
		if (tbl) {
			rc = spapr_tce_xchg(tbl, (DDW_START >> 12) + 12345, &hpa, &dir);
			if (rc) {
				assert_int_equal(rc, -ENOMEM);
				assert_int_equal(spapr_tce_get(tbl, (DDW_START >> 12) + 12345, &hpa,
							       &dir),
						 0);
				assert_int_equal(dir, SPAPR_DMA_NONE);
			}
			spapr_table_put(tbl);
		} else {
			assert_int_equal(err, -ENOMEM);
		}
		if (!ualloc_fail_nth_pending()) {
			failures++;
			continue;
		}
		ualloc_fail_nth(0);
		assert_non_null(tbl);
		assert_int_equal(rc, 0);
		break;
	}
	assert_true(failures >= 3);
}

struct reader {
	struct env *e;
	atomic_bool stop;
	unsigned long reads, bad, faults;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load(&r->stop)) {
		uint8_t b = 0;
		int rc = dma(r->e, (uint64_t)(r->reads % 16) * SZ_4K + 7, &b, 1, false, NULL, NULL);

		if (rc) {
			r->faults++;
			break; /* the window went away */
		}
		if (b != 0xa1 && b != 0xb2)
			r->bad++;
		r->reads++;
	}
	return NULL;
}

/*
 * DMA from another thread while TCEs are rewritten in place and the window
 * is finally unset: every byte read comes from one of the two pages ever
 * mapped (never from a torn TCE), and the unset ends the reads with a
 * fault, not a crash (the table outlives the reader's walk).
 */
static void test_threads(void **state)
{
	struct env *e = *state;
	struct reader r = {.e = e};
	struct spapr_table *w0;
	uint64_t a = (uintptr_t)e->mem, b = a + SZ_64K;
	pthread_t t;
	int err;

	memset(e->mem, 0xa1, SZ_64K);
	memset(e->mem + SZ_64K, 0xb2, SZ_64K);
	w0 = spapr_table_create(e->pe, 0, 12, SZ_1G, 2, &err);
	assert_non_null(w0);
	assert_int_equal(spapr_pe_set_window(e->pe, 0, w0), 0);
	spapr_table_put(w0);
	for (uint64_t i = 0; i < 16; i++)
		assert_int_equal(put(w0, i, a + i * SZ_4K, SPAPR_DMA_BIDIRECTIONAL, NULL, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, reader_fn, &r), 0);
	for (unsigned int round = 0; round < 2000; round++)
		for (uint64_t i = 0; i < 16; i++)
			assert_int_equal(put(w0, i, (round & 1 ? b : a) + i * SZ_4K,
					     SPAPR_DMA_BIDIRECTIONAL, NULL, NULL),
					 0);
	spapr_pe_unset_window(e->pe, 0);
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	if (r.bad)
		fail_msg("%lu of %lu reads saw a byte of no mapped page", r.bad, r.reads);
	spapr_eeh_reset(e->pe, SPAPR_EEH_RESET_DEACTIVATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_table_size),
		cmocka_unit_test_setup_teardown(test_table_create, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_xchg, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_windows_and_dma, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_eeh, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_random, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_failnth, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_threads, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
