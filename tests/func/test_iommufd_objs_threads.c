// SPDX-License-Identifier: MIT
/*
 * Concurrency smoke test of the object model: threads on one context make
 * and destroy mock devices, replace their attachments among shared HWPTs
 * (paging, nested with a fault queue, a vIOMMU's), trigger page requests
 * and vEVENTs, read and answer the shared fault fd, allocate and destroy
 * HWPTs, vDEVICEs and HW queues, invalidate, read dirty bitmaps and map the
 * vIOMMU region, all at once. Racing programs get errors (EBUSY, ENOENT,
 * EEXIST, EINVAL ...), which are fine; what is checked is that nothing
 * crashes or deadlocks (ThreadSanitizer runs it in make check-tsan), that
 * the shared objects still work afterwards, and that closing the context
 * leaves no file, mapping or pin behind.
 */
#include <pthread.h>

#include "iommufd_internal.h"
#include "iommufd_objs.h"

#define THREADS 4
#define ITERS	1500

static struct {
	uint32_t ioas, parent, iopf, viommu, vnested, dirty, fault_id;
	uint64_t mmap_off, mmap_len;
	int fault_fd, veventq_fd;
} sh;
static _Atomic unsigned long ops_ok, faults_read, events_read;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void drain_faults(void)
{
	struct iommu_hwpt_pgfault f[4];
	ssize_t n = uiommu_read(uiommu_file_from_fd(sh.fault_fd), f, sizeof(f));

	for (ssize_t i = 0; n > 0 && i < n / (ssize_t)sizeof(f[0]); i++) {
		struct iommu_hwpt_page_response resp = {.cookie = f[i].cookie};

		faults_read++;
		(void)uiommu_write(uiommu_file_from_fd(sh.fault_fd), &resp, sizeof(resp));
	}
}

static void *worker(void *arg)
{
	uintptr_t t = (uintptr_t)arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (t + 1);
	struct mock_dev_ids d = {0};
	uint32_t vdev = 0, hwpt = 0, q = 0;

	for (unsigned int i = 0; i < ITERS; i++) {
		uint64_t r = rnd(&seed);
		int rc = -1;

		if (!d.stdev) {
			if (!_mock_domain_flags(sh.ioas, MOCK_FLAGS_DEVICE_PASID, &d.stdev, &d.hwpt,
						&d.idev))
				ops_ok++;
			continue;
		}
		switch ((r >> 8) % 16) {
		case 0: {
			static const uint32_t *targets[] = {&sh.ioas, &sh.parent, &sh.iopf,
							    &sh.vnested, &sh.dirty};

			rc = _mock_domain_replace(d.stdev, *targets[(r >> 16) % 5], NULL);
			break;
		}
		case 1:
			rc = _trigger_iopf(d.idev, (r >> 16) & 1, (uint32_t)(r >> 20) & 0xff, r);
			break;
		case 2:
			drain_faults();
			break;
		case 3:
			rc = _trigger_vevent(d.idev);
			break;
		case 4: {
			uint8_t buf[64];

			if (uiommu_read(uiommu_file_from_fd(sh.veventq_fd), buf, sizeof(buf)) > 0)
				events_read++;
			break;
		}
		case 5:
			if (vdev) {
				rc = _destroy(vdev);
				if (!rc)
					vdev = 0;
			} else {
				rc = _vdevice_alloc(sh.viommu, d.idev, 0x100 + t, &vdev);
			}
			break;
		case 6:
			if (hwpt) {
				rc = _destroy(hwpt);
				if (!rc)
					hwpt = 0;
			} else {
				rc = _hwpt_alloc_nested(
					d.idev, (r >> 16) & 1 ? sh.viommu : sh.parent, 0, 0, &hwpt);
			}
			break;
		case 7: {
			struct iommu_hwpt_invalidate_selftest inv = {
				.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL};
			uint32_t num = 1;

			rc = _hwpt_invalidate(sh.iopf, &inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					      sizeof(inv), &num);
			break;
		}
		case 8: {
			struct iommu_hw_info cmd = {.dev_id = d.idev};

			rc = _get_hw_info(&cmd);
			break;
		}
		case 9: {
			uint8_t bits[16];
			uint64_t nr;

			memset(bits, 0x11, sizeof(bits));
			(void)_dirty(sh.dirty, MOCK_APERTURE_START, 64 * MOCK_PAGE_SIZE,
				     MOCK_PAGE_SIZE, bits, &nr);
			rc = _get_dirty_bitmap(sh.dirty, MOCK_APERTURE_START, 64 * MOCK_PAGE_SIZE,
					       MOCK_PAGE_SIZE, bits, 0);
			break;
		}
		case 10: {
			void *p = uiommu_mmap(self_file, NULL, sh.mmap_len, PROT_READ, MAP_SHARED,
					      (off_t)sh.mmap_off);

			if (p != MAP_FAILED) {
				(void)_destroy(sh.viommu); /* EBUSY: it is mapped */
				rc = uiommu_munmap(p, sh.mmap_len);
			}
			break;
		}
		case 11:
			if (q) {
				rc = _destroy(q);
				if (!rc)
					q = 0;
			} else {
				rc = _hw_queue_alloc(sh.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0,
						     MOCK_APERTURE_START, PAGE_SIZE, &q);
			}
			break;
		case 12:
			rc = _pasid_attach(d.stdev, 1 + (r >> 16) % 4, sh.dirty);
			break;
		case 13:
			rc = _pasid_detach(d.stdev, 1 + (r >> 16) % 4);
			break;
		case 14:
			rc = _check_map(sh.parent, MOCK_APERTURE_START, PAGE_SIZE, buffer);
			break;
		case 15:
			/* Unplug; a vDEVICE goes with it (tombstone). */
			rc = _destroy(d.stdev);
			if (!rc) {
				d = (struct mock_dev_ids){0};
				vdev = 0;
			}
			break;
		}
		if (!rc)
			ops_ok++;
	}
	if (q)
		(void)_destroy(q);
	if (hwpt && d.stdev)
		(void)_mock_domain_replace(d.stdev, sh.ioas, NULL);
	if (hwpt)
		(void)_destroy(hwpt);
	return NULL;
}

static void test_threads(void *arg)
{
	struct iommu_viommu_selftest data = {.in_data = 3};
	unsigned int files = ufile_count();
	struct mock_dev_ids d;
	pthread_t th[THREADS];

	iommufd_setup();
	sh.ioas = ioas_alloc();
	ioas_map_fixed(sh.ioas, buffer, BUFFER_SIZE, MOCK_APERTURE_START);
	d = mock_domain(sh.ioas, MOCK_FLAGS_DEVICE_PASID);
	sh.parent = hwpt_alloc(d.idev, sh.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_fault_alloc(&sh.fault_id, &sh.fault_fd));
	CHECK_OK(_hwpt_alloc_nested(d.idev, sh.parent,
				    IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID, sh.fault_id,
				    &sh.iopf));
	CHECK_OK(_viommu_alloc(d.idev, sh.parent, IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data),
			       &sh.viommu));
	sh.mmap_off = data.out_mmap_offset;
	sh.mmap_len = data.out_mmap_length;
	sh.vnested = hwpt_alloc_nested(d.idev, sh.viommu, IOMMU_HWPT_ALLOC_PASID);
	CHECK_OK(_veventq_alloc(sh.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 4, NULL, &sh.veventq_fd));
	sh.dirty = hwpt_alloc(d.idev, sh.ioas,
			      IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID);
	CHECK_OK(_set_dirty_tracking(sh.dirty, true));

	for (uintptr_t t = 0; t < THREADS; t++)
		TAP_CHECK(!pthread_create(&th[t], NULL, worker, (void *)t), "pthread_create");
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	tap_diag("%lu ops succeeded, %lu faults and %lu event reads", (unsigned long)ops_ok,
		 (unsigned long)faults_read, (unsigned long)events_read);

	/* The shared objects still work. */
	drain_faults();
	CHECK_OK(_check_map(sh.parent, MOCK_APERTURE_START, BUFFER_SIZE, buffer));
	{
		struct iommu_hwpt_invalidate_selftest inv = {
			.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL};
		uint32_t num = 1;

		CHECK_OK(_hwpt_invalidate(sh.iopf, &inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					  sizeof(inv), &num));
	}
	CHECK_OK(fd_close(sh.fault_fd));
	CHECK_OK(fd_close(sh.veventq_fd));
	iommufd_teardown();
	TAP_CHECK_EQ(ufile_count(), files, "no file left");
	TAP_CHECK_EQ(ufile_vma_count(), 0, "no mapping left");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "nothing pinned");
}

int main(void)
{
	buffer_init();
	tap_plan(1);
	tap_run("4 threads on devices, HWPTs, faults, vIOMMU objects at once", test_threads, NULL);
	return tap_done();
}
