// SPDX-License-Identifier: MIT
/*
 * Fail-nth sweep of /dev/iommu (the kernel's iommufd_fail_nth idea): a
 * standard sequence of real ioctls (and the domain and access paths the
 * selftest ops will drive) is run with the N-th allocation of one step made
 * to fail, for every step and every N until the step makes fewer than N
 * allocations.
 *
 * For step k and N: a fresh context runs steps 0..k-1 normally, then step k
 * with ualloc_fail_nth(N) armed. If the injection fired, the step must have
 * failed with ENOMEM (or absorbed the failure and succeeded), and the
 * context must still be consistent: IOVA_RANGES answers for every IOAS,
 * the step succeeds when retried without injection, and every later step of
 * the sequence succeeds. Then everything is torn down; no file, pin or
 * charge may be left, and under `make check-asan` LeakSanitizer checks that
 * no memory is.
 *
 * The second half of the sequence drives the object model on a third IOAS:
 * a mock device (MOCK_DOMAIN), GET_HW_INFO, paging / nested / fault HWPTs,
 * a page request read and answered through the fault fd, invalidation, a
 * vIOMMU with its mmap region, a vDEVICE, a vEVENTQ and an event read from
 * it, HW queues, dirty tracking, PASIDs, an access fd, and their teardown.
 * Steps that reach the mock's page tables may fail with ENOENT instead of
 * ENOMEM: the mock's map has a fail-nth point of its own that answers
 * ENOENT, as the kernel's does.
 */
#include <sys/stat.h>

#include "iommufd_internal.h"
#include "iommufd_objs.h"

static struct state {
	uint32_t ioas1, ioas2;
	uint64_t auto_iova, file_iova, copy_iova, dom_iova;
	int mfd;
	struct test_domain td;
	struct iommufd_access *access;
	uint32_t access_id;
	bool pinned;
	/* The object-model steps. */
	uint32_t ioas3, stdev, idev, hwpt, parent, nested, fault_id, iopf, viommu, vdev, veventq;
	uint32_t vnested, hwq[2], dirty, pstdev, pidev, s2;
	int fault_fd, veventq_fd, access_fd, dmabuf_fd;
	uint64_t dmabuf_iova;
	bool pasid_attached;
	uint64_t mmap_off, mmap_len;
} st;

static void access_unmap(void *data, uint64_t iova, uint64_t length)
{
	if (st.pinned) {
		iommufd_access_unpin_pages(st.access, 1 << 20, PAGE_SIZE);
		st.pinned = false;
	}
}

static const struct iommufd_access_ops access_ops = {
	.needs_pin_pages = true,
	.unmap = access_unmap,
};

/* Each step: 0, or -1 with errno. */
static int ret_neg(int rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

static int s_open(void)
{
	self_file = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
	return self_file ? 0 : -1;
}

static int s_ioas1(void)
{
	return _ioas_alloc(&st.ioas1);
}

static int s_ioas2(void)
{
	return _ioas_alloc(&st.ioas2);
}

static int s_allow(void)
{
	struct iommu_iova_range r[2] = {
		{.start = 1 << 24, .last = (1 << 25) - 1},
		{.start = 1 << 26, .last = (1 << 27) - 1},
	};

	return _allow_iovas(st.ioas2, r, 2);
}

static int s_map_fixed(void)
{
	uint64_t iova = 1 << 20;

	return _ioas_map(st.ioas1, buffer, 4 * PAGE_SIZE, &iova,
			 MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}

static int s_map_auto(void)
{
	st.auto_iova = 0;
	return _ioas_map(st.ioas1, (uint8_t *)buffer + 4 * PAGE_SIZE, 4 * PAGE_SIZE, &st.auto_iova,
			 MAP_RW);
}

static int s_map_file(void)
{
	st.file_iova = 0;
	return _map_file(st.ioas1, st.mfd, 0, 2 * PAGE_SIZE, &st.file_iova, MAP_RW);
}

static int s_copy(void)
{
	st.copy_iova = 0;
	return _copy(st.ioas2, &st.copy_iova, st.ioas1, 1 << 20, 4 * PAGE_SIZE, MAP_RW);
}

static int s_ranges(void)
{
	struct iommu_iova_range r[8];
	uint32_t num = 8;

	return _iova_ranges(st.ioas1, r, &num, NULL);
}

static int s_attach(void)
{
	test_domain_init(&st.td, 2048 | 4096 | (1ULL << 20), 0, UINT64_MAX);
	return ret_neg(_test_domain_attach(&st.td, st.ioas1));
}

static int s_map_domain(void)
{
	st.dom_iova = 0;
	return _ioas_map(st.ioas1, (uint8_t *)buffer + 8 * PAGE_SIZE, 8 * PAGE_SIZE, &st.dom_iova,
			 MAP_RW);
}

static int s_option(void)
{
	uint64_t val = 0;

	return _option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, st.ioas1, &val);
}

static int s_access(void)
{
	int rc;

	st.access = iommufd_access_create(test_ictx(), &access_ops, NULL, &st.access_id);
	if (IS_ERR(st.access)) {
		rc = (int)PTR_ERR(st.access);
		st.access = NULL;
		return ret_neg(rc);
	}
	rc = iommufd_access_attach(st.access, st.ioas1);
	if (rc) {
		iommufd_access_destroy(st.access);
		st.access = NULL;
	}
	return ret_neg(rc);
}

static int s_pin(void)
{
	void *pages[1];
	int rc = iommufd_access_pin_pages(st.access, 1 << 20, PAGE_SIZE, pages, 0);

	st.pinned = !rc;
	return ret_neg(rc);
}

static int s_rw(void)
{
	uint8_t tmp[64];

	return ret_neg(iommufd_access_rw(st.access, st.auto_iova + 100, tmp, sizeof(tmp), 0));
}

static int s_access_done(void)
{
	if (st.pinned)
		iommufd_access_unpin_pages(st.access, 1 << 20, PAGE_SIZE);
	st.pinned = false;
	iommufd_access_destroy(st.access);
	st.access = NULL;
	return 0;
}

static int s_vfio(void)
{
	struct iommu_vfio_ioas v = {
		.size = sizeof(v), .ioas_id = st.ioas2, .op = IOMMU_VFIO_IOAS_SET};
	struct vfio_map {
		uint32_t argsz, flags;
		uint64_t vaddr, iova, size;
	} m = {.argsz = sizeof(m),
	       .flags = 3,
	       .vaddr = (uintptr_t)buffer,
	       .iova = 1 << 26,
	       .size = PAGE_SIZE};

	if (uiommu_ioctl(self_file, IOMMU_VFIO_IOAS, &v))
		return -1;
	/* VFIO_SET_IOMMU(TYPE1v2) and VFIO_IOMMU_MAP_DMA. */
	if (uiommu_ioctl(self_file, _IO(';', 100 + 2), 3))
		return -1;
	return uiommu_ioctl(self_file, _IO(';', 100 + 13), &m);
}

static int s_unmap_dma(void)
{
	struct {
		uint32_t argsz, flags;
		uint64_t iova, size;
	} u = {.argsz = sizeof(u), .iova = 1 << 26, .size = PAGE_SIZE};

	return uiommu_ioctl(self_file, _IO(';', 100 + 14), &u);
}

static int s_copy_domain(void)
{
	uint64_t iova = 0;

	return _copy(st.ioas1, &iova, st.ioas1, st.dom_iova, 8 * PAGE_SIZE, MAP_RW);
}

static int s_unmap(void)
{
	return _ioas_unmap(st.ioas1, 1 << 20, 4 * PAGE_SIZE, NULL);
}

static int s_detach(void)
{
	iopt_table_remove_domain(&st.td.ioas->iopt, &st.td.dom);
	refcount_dec(&st.td.ioas->obj.users);
	st.td.ioas = NULL;
	return 0;
}

static int s_unmap_all(void)
{
	return _ioas_unmap(st.ioas1, 0, UINT64_MAX, NULL);
}

static int s_destroy(void)
{
	return _destroy(st.ioas2);
}

/* ------------------------------------------------------------------ */
/* The object model                                                   */

static int s_ioas3(void)
{
	if (_ioas_alloc(&st.ioas3))
		return -1;
	return _ioas_map(st.ioas3, buffer, BUFFER_SIZE, &(uint64_t){MOCK_APERTURE_START},
			 MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}

static int s_mock_domain(void)
{
	return _mock_domain(st.ioas3, &st.stdev, &st.hwpt, &st.idev);
}

static int s_hw_info(void)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info cmd = {
		.dev_id = st.idev, .data_len = sizeof(info), .data_uptr = (uintptr_t)&info};

	return _get_hw_info(&cmd);
}

static int s_hwpt_parent(void)
{
	return _hwpt_alloc(st.idev, st.ioas3, IOMMU_HWPT_ALLOC_NEST_PARENT, &st.parent);
}

static int s_hwpt_nested(void)
{
	return _hwpt_alloc_nested(st.idev, st.parent, 0, 0, &st.nested);
}

static int s_fault_alloc(void)
{
	return _fault_alloc(&st.fault_id, &st.fault_fd);
}

static int s_hwpt_iopf(void)
{
	return _hwpt_alloc_nested(st.idev, st.parent, IOMMU_HWPT_FAULT_ID_VALID, st.fault_id,
				  &st.iopf);
}

static int s_replace_iopf(void)
{
	return _mock_domain_replace(st.stdev, st.iopf, NULL);
}

static int s_iopf(void)
{
	struct iommu_hwpt_page_response resp = {0};
	struct iommu_hwpt_pgfault f;
	ssize_t n;

	if (_trigger_iopf(st.idev, 1, 2, 0x1000))
		return -1;
	n = uiommu_read(uiommu_file_from_fd(st.fault_fd), &f, sizeof(f));
	if (n < 0)
		return -1;
	/* Nothing queued: the core had no memory for the request (the model answered it). */
	if (n != sizeof(f)) {
		errno = ENOMEM;
		return -1;
	}
	resp.cookie = f.cookie;
	return uiommu_write(uiommu_file_from_fd(st.fault_fd), &resp, sizeof(resp)) < 0 ? -1 : 0;
}

static int s_invalidate(void)
{
	struct iommu_hwpt_invalidate_selftest inv[2] = {{.iotlb_id = 1},
							{.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL}};
	uint32_t num = 2;

	return _hwpt_invalidate(st.nested, inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(inv[0]),
				&num);
}

static int s_replace_nested(void)
{
	return _mock_domain_replace(st.stdev, st.nested, NULL);
}

static int s_viommu(void)
{
	struct iommu_viommu_selftest data = {.in_data = 5};
	int rc = _viommu_alloc(st.idev, st.parent, IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data),
			       &st.viommu);

	st.mmap_off = data.out_mmap_offset;
	st.mmap_len = data.out_mmap_length;
	return rc;
}

static int s_mmap(void)
{
	void *p = uiommu_mmap(self_file, NULL, st.mmap_len, PROT_READ, MAP_SHARED,
			      (off_t)st.mmap_off);

	if (p == MAP_FAILED)
		return -1;
	if (*(uint32_t *)p != 5) {
		errno = EIO;
		return -1;
	}
	return uiommu_munmap(p, st.mmap_len);
}

static int s_vdevice(void)
{
	return _vdevice_alloc(st.viommu, st.idev, 0x99, &st.vdev);
}

static int s_veventq(void)
{
	return _veventq_alloc(st.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 4, &st.veventq,
			      &st.veventq_fd);
}

static int s_vnested(void)
{
	return _hwpt_alloc_nested(st.idev, st.viommu, 0, 0, &st.vnested);
}

static int s_replace_vnested(void)
{
	return _mock_domain_replace(st.stdev, st.vnested, NULL);
}

static int s_vevent(void)
{
	uint8_t rec[16];
	ssize_t n;

	/* An event the core had no memory for is reported as ENOMEM (and lost). */
	if (_trigger_vevent(st.idev))
		return -1;
	n = uiommu_read(uiommu_file_from_fd(st.veventq_fd), rec, sizeof(rec));
	if (n < 0)
		return -1;
	if (n != 12) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int s_viommu_invalidate(void)
{
	struct iommu_viommu_invalidate_selftest inv = {.vdev_id = 0x99};
	uint32_t num = 1;

	return _hwpt_invalidate(st.viommu, &inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, sizeof(inv),
				&num);
}

static int s_hw_queue0(void)
{
	return _hw_queue_alloc(st.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, MOCK_APERTURE_START,
			       PAGE_SIZE, &st.hwq[0]);
}

static int s_hw_queue1(void)
{
	return _hw_queue_alloc(st.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1,
			       MOCK_APERTURE_START + PAGE_SIZE, PAGE_SIZE, &st.hwq[1]);
}

static int s_dirty(void)
{
	uint8_t bits[8] = {0x55};
	uint64_t nr;

	/* Composite steps redo only what a failed attempt did not finish. */
	if ((!st.dirty &&
	     _hwpt_alloc(st.idev, st.ioas3, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &st.dirty)) ||
	    _set_dirty_tracking(st.dirty, true) ||
	    _dirty(st.dirty, MOCK_APERTURE_START, 8 * MOCK_PAGE_SIZE, MOCK_PAGE_SIZE, bits, &nr))
		return -1;
	memset(bits, 0, sizeof(bits));
	return _get_dirty_bitmap(st.dirty, MOCK_APERTURE_START, 8 * MOCK_PAGE_SIZE, MOCK_PAGE_SIZE,
				 bits, 0);
}

static int s_pasid_dev(void)
{
	return _mock_domain_flags(st.ioas3, MOCK_FLAGS_DEVICE_PASID, &st.pstdev, NULL, &st.pidev);
}

static int s_pasid(void)
{
	if ((!st.s2 && _hwpt_alloc(st.pidev, st.ioas3, IOMMU_HWPT_ALLOC_PASID, &st.s2)) ||
	    _mock_domain_replace(st.pstdev, st.s2, NULL))
		return -1;
	if (!st.pasid_attached) {
		if (_pasid_attach(st.pstdev, 100, st.s2))
			return -1;
		st.pasid_attached = true;
	}
	return _pasid_replace(st.pstdev, 100, st.s2);
}

static int s_access_fd(void)
{
	uint8_t tmp[32];
	uint32_t item;

	if ((st.access_fd < 0 &&
	     _create_access(st.ioas3, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, &st.access_fd)) ||
	    _access_pages(st.access_fd, MOCK_APERTURE_START, PAGE_SIZE, buffer, 0, &item) ||
	    _access_rw(st.access_fd, MOCK_APERTURE_START + 8, tmp, sizeof(tmp), 0))
		return -1;
	return _destroy_access_pages(st.access_fd, item);
}

/* A dma-buf (once) and a MAP_FILE of it in the mock device's IOAS. */
static int s_dmabuf(void)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DMABUF_GET,
		.dmabuf_get = {.length = 4 * PAGE_SIZE, .open_flags = O_CLOEXEC},
	};

	if (st.dmabuf_fd < 0) {
		int fd = _test_cmd(&cmd);

		if (fd < 0)
			return -1;
		st.dmabuf_fd = fd;
	}
	st.dmabuf_iova = 0;
	return _map_file(st.ioas3, st.dmabuf_fd, 0, 4 * PAGE_SIZE, &st.dmabuf_iova, MAP_RW);
}

/* Revoke (a new MAP_FILE is ENODEV), restore, map again, unmap the first. */
static int s_dmabuf_revoke(void)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DMABUF_REVOKE,
		.dmabuf_revoke = {.dmabuf_fd = st.dmabuf_fd, .revoked = 1},
	};
	uint64_t iova = 0;

	if (_test_cmd(&cmd))
		return -1;
	/* The pages are allocated before the exporter says no: ENOMEM comes first. */
	if (!_map_file(st.ioas3, st.dmabuf_fd, 0, 4 * PAGE_SIZE, &iova, MAP_RW)) {
		errno = EPROTO;
		return -1;
	}
	if (errno != ENODEV)
		return -1;
	cmd.dmabuf_revoke.revoked = 0;
	if (_test_cmd(&cmd) || _map_file(st.ioas3, st.dmabuf_fd, 0, 4 * PAGE_SIZE, &iova, MAP_RW))
		return -1;
	if (st.dmabuf_iova) {
		if (_ioas_unmap(st.ioas3, st.dmabuf_iova, 4 * PAGE_SIZE, NULL))
			return -1;
		st.dmabuf_iova = 0;
	}
	return 0;
}

/* Destroy *id (and zero it) unless done already: teardown can resume after a failure. */
static int drop(uint32_t *id)
{
	if (*id && _destroy(*id))
		return -1;
	*id = 0;
	return 0;
}

static int drop_fd(int *fd)
{
	if (*fd >= 0 && uiommu_close(uiommu_file_from_fd(*fd)))
		return -1;
	*fd = -1;
	return 0;
}

static int s_model_teardown(void)
{
	if (st.pasid_attached) {
		if (_pasid_detach(st.pstdev, 100))
			return -1;
		st.pasid_attached = false;
	}
	if (drop(&st.pstdev) || drop(&st.s2) || drop(&st.dirty) || drop(&st.hwq[1]) ||
	    drop(&st.hwq[0]))
		return -1;
	/* Back to an auto HWPT (which may need memory). */
	if (st.vnested && _mock_domain_replace(st.stdev, st.ioas3, NULL))
		return -1;
	if (drop(&st.vnested) || drop(&st.vdev) || drop_fd(&st.veventq_fd) || drop(&st.veventq) ||
	    drop(&st.viommu) || drop(&st.nested) || drop(&st.iopf) || drop_fd(&st.fault_fd) ||
	    drop(&st.fault_id) || drop(&st.parent) || drop_fd(&st.access_fd) ||
	    drop_fd(&st.dmabuf_fd) || drop(&st.stdev) || drop(&st.ioas3))
		return -1;
	return 0;
}

static const struct step {
	const char *name;
	int (*fn)(void);
	/*
	 * No object lookup and no mock map_pages on the way: an injected
	 * failure can only be ENOMEM (elsewhere ENOENT is one too).
	 */
	bool enomem_only;
	/*
	 * The errno of a failed lookup in this step when it is not ENOENT
	 * (HWPT_ALLOC's pt_id lookup is EINVAL in Linux).
	 */
	int lookup_err;
} steps[] = {
	{"open", s_open, true},
	{"IOAS_ALLOC", s_ioas1, true},
	{"IOAS_ALLOC 2", s_ioas2, true},
	{"ALLOW_IOVAS", s_allow},
	{"MAP fixed", s_map_fixed},
	{"MAP auto", s_map_auto},
	{"MAP_FILE", s_map_file},
	{"COPY", s_copy},
	{"IOVA_RANGES", s_ranges},
	{"attach domain", s_attach},
	{"MAP with a domain", s_map_domain},
	{"OPTION", s_option},
	{"access create+attach", s_access},
	{"access pin", s_pin},
	{"access rw", s_rw},
	{"access unpin+destroy", s_access_done},
	{"VFIO_IOAS + SET_IOMMU + MAP_DMA", s_vfio},
	{"UNMAP_DMA", s_unmap_dma},
	{"COPY with a domain", s_copy_domain},
	{"UNMAP (with an access gone)", s_unmap},
	{"detach domain", s_detach},
	{"UNMAP all", s_unmap_all},
	{"DESTROY", s_destroy},
	{"IOAS_ALLOC 3 + MAP", s_ioas3},
	{"MOCK_DOMAIN", s_mock_domain},
	{"GET_HW_INFO", s_hw_info},
	{"HWPT_ALLOC nest parent", s_hwpt_parent, false, EINVAL},
	{"HWPT_ALLOC nested", s_hwpt_nested, false, EINVAL},
	{"FAULT_QUEUE_ALLOC", s_fault_alloc},
	{"HWPT_ALLOC nested with a fault queue", s_hwpt_iopf, false, EINVAL},
	{"MOCK_DOMAIN_REPLACE to it", s_replace_iopf},
	{"TRIGGER_IOPF, read, respond", s_iopf},
	{"HWPT_INVALIDATE", s_invalidate},
	{"MOCK_DOMAIN_REPLACE to nested", s_replace_nested},
	{"VIOMMU_ALLOC with data", s_viommu},
	{"mmap + munmap of its region", s_mmap},
	{"VDEVICE_ALLOC", s_vdevice},
	{"VEVENTQ_ALLOC", s_veventq},
	{"HWPT_ALLOC on the vIOMMU", s_vnested, false, EINVAL},
	{"MOCK_DOMAIN_REPLACE to it (vIOMMU)", s_replace_vnested},
	{"TRIGGER_VEVENT + read", s_vevent},
	{"vIOMMU invalidation", s_viommu_invalidate},
	{"HW_QUEUE_ALLOC 0", s_hw_queue0},
	{"HW_QUEUE_ALLOC 1", s_hw_queue1},
	{"dirty HWPT, tracking, DIRTY, GET_DIRTY_BITMAP", s_dirty, false, EINVAL},
	{"PASID-capable MOCK_DOMAIN", s_pasid_dev},
	{"PASID HWPT, RID replace, PASID attach/replace", s_pasid, false, EINVAL},
	{"access fd: pages, rw, destroy pages", s_access_fd},
	{"DMABUF_GET + MAP_FILE of it", s_dmabuf},
	{"DMABUF_REVOKE, ENODEV, restore, MAP_FILE, UNMAP", s_dmabuf_revoke},
	{"object-model teardown", s_model_teardown},
};

static void teardown_all(void)
{
	if (st.access) {
		if (st.pinned)
			iommufd_access_unpin_pages(st.access, 1 << 20, PAGE_SIZE);
		st.pinned = false;
		iommufd_access_destroy(st.access);
	}
	if (st.td.ioas)
		test_domain_detach(&st.td);
	if (st.fault_fd > 0)
		uiommu_close(uiommu_file_from_fd(st.fault_fd));
	if (st.veventq_fd > 0)
		uiommu_close(uiommu_file_from_fd(st.veventq_fd));
	if (st.access_fd > 0)
		uiommu_close(uiommu_file_from_fd(st.access_fd));
	if (st.dmabuf_fd > 0)
		uiommu_close(uiommu_file_from_fd(st.dmabuf_fd));
	if (self_file)
		uiommu_close(self_file);
	self_file = NULL;
	if (st.mfd >= 0)
		close(st.mfd);
	memset(&st, 0, sizeof(st));
	st.mfd = -1;
	st.fault_fd = st.veventq_fd = st.access_fd = st.dmabuf_fd = -1;
}

static void fresh(void)
{
	memset(&st, 0, sizeof(st));
	st.fault_fd = st.veventq_fd = st.access_fd = st.dmabuf_fd = -1;
	st.mfd = memfd_create("failnth", MFD_CLOEXEC);
	TAP_CHECK(st.mfd >= 0 && !ftruncate(st.mfd, 4 * PAGE_SIZE), "memfd");
}

/* The context is usable: every IOAS answers IOVA_RANGES. */
static void check_consistent(void)
{
	uint32_t ids[2] = {st.ioas1, st.ioas2};
	struct iommu_iova_range r[8];

	if (!self_file)
		return;
	for (int i = 0; i < 2; i++) {
		uint32_t num = 8;

		if (!ids[i])
			continue;
		TAP_CHECK(!_iova_ranges(ids[i], r, &num, NULL) || errno == ENOENT,
			  "IOVA_RANGES after a failure: %s", strerror(errno));
	}
}

static unsigned int files_before;
static unsigned long total_runs, total_fired;

static void sweep_step(unsigned int k)
{
	for (unsigned long n = 1;; n++) {
		unsigned long pending;
		int rc, err;

		fresh();
		for (unsigned int i = 0; i < k; i++) {
			rc = steps[i].fn();
			TAP_CHECK(!rc, "step %s (before %s, N=%lu) failed: %s", steps[i].name,
				  steps[k].name, n, strerror(errno));
		}
		ualloc_fail_nth(n);
		rc = steps[k].fn();
		err = errno;
		pending = ualloc_fail_nth_pending();
		ualloc_fail_nth(0);
		total_runs++;

		if (pending) {
			/* Fewer than n allocations: the step ran normally. */
			TAP_CHECK(!rc, "step %s without injection failed: %s", steps[k].name,
				  strerror(err));
			teardown_all();
			break;
		}
		total_fired++;
		if (rc) {
			/*
			 * ENOENT: the injection point was an object lookup
			 * (iommufd_get_object(), which Linux's CONFIG_IOMMUFD_TEST
			 * fails with ENOENT) or the mock's map.
			 */
			TAP_CHECK(err == ENOMEM || (!steps[k].enomem_only &&
						    (err == ENOENT || err == steps[k].lookup_err)),
				  "step %s, allocation %lu failed: %s, want ENOMEM (or a failed lookup's errno)",
				  steps[k].name, n, strerror(err));
			check_consistent();
			if (k > 0) {
				rc = steps[k].fn();
				TAP_CHECK(!rc, "step %s retried after allocation %lu: %s",
					  steps[k].name, n, strerror(errno));
			} else {
				TAP_CHECK(!steps[0].fn(), "reopen");
			}
		}
		for (unsigned int i = k + 1; i < ARRAY_SIZE_T(steps); i++) {
			rc = steps[i].fn();
			TAP_CHECK(!rc, "step %s after %s failed at allocation %lu: %s",
				  steps[i].name, steps[k].name, n, strerror(errno));
		}
		teardown_all();
		TAP_CHECK_EQ(ufile_count(), files_before, "files left behind");
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "pins left behind");
		{
			struct iommufd_pin_stats ps;

			iommufd_pin_stats(&ps);
			TAP_CHECK(!ps.user_locked_vm && !ps.mm_locked_vm && !ps.mm_pinned_vm,
				  "charges left behind");
		}
	}
}

static void test_reference(void *arg)
{
	fresh();
	for (unsigned int i = 0; i < ARRAY_SIZE_T(steps); i++)
		TAP_CHECK(!steps[i].fn(), "step %s: %s", steps[i].name, strerror(errno));
	teardown_all();
	TAP_CHECK_EQ(ufile_count(), files_before, "files left behind");
}

static void test_sweep(void *arg)
{
	unsigned int k = *(unsigned int *)arg;

	sweep_step(k);
}

int main(void)
{
	static unsigned int idx[ARRAY_SIZE_T(steps)];
	char name[128];

	buffer_init();
	files_before = ufile_count();
	st.mfd = -1;
	tap_plan(1 + ARRAY_SIZE_T(steps));
	tap_run("the sequence without injection", test_reference, NULL);
	for (unsigned int k = 0; k < ARRAY_SIZE_T(steps); k++) {
		idx[k] = k;
		snprintf(name, sizeof(name), "fail-nth sweep of step %u: %s", k, steps[k].name);
		tap_run(name, test_sweep, &idx[k]);
		teardown_all();
	}
	tap_diag("%lu runs, %lu with an injected failure", total_runs, total_fired);
	return tap_done();
}
