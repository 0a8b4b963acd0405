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
 */
#include <sys/stat.h>

#include "iommufd_internal.h"

static struct state {
	uint32_t ioas1, ioas2;
	uint64_t auto_iova, file_iova, copy_iova, dom_iova;
	int mfd;
	struct test_domain td;
	struct iommufd_access *access;
	uint32_t access_id;
	bool pinned;
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

static const struct step {
	const char *name;
	int (*fn)(void);
} steps[] = {
	{"open", s_open},
	{"IOAS_ALLOC", s_ioas1},
	{"IOAS_ALLOC 2", s_ioas2},
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
	if (self_file)
		uiommu_close(self_file);
	self_file = NULL;
	if (st.mfd >= 0)
		close(st.mfd);
	memset(&st, 0, sizeof(st));
	st.mfd = -1;
}

static void fresh(void)
{
	memset(&st, 0, sizeof(st));
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
			TAP_CHECK(err == ENOMEM, "step %s, allocation %lu failed: %s, want ENOMEM",
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
