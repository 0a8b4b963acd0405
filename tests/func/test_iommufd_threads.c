// SPDX-License-Identifier: MIT
/*
 * Concurrency smoke test: several threads issue ioctls on one context at
 * once (MAP, UNMAP, COPY, IOVA_RANGES, ALLOW_IOVAS, DESTROY of each other's
 * objects) on shared and private IOASes, one of them with a domain that
 * pins, while an access copies through it. Errors a racing program can get
 * (EEXIST, ENOENT, EBUSY, ENOSPC ...) are fine; what is checked is that
 * nothing crashes or deadlocks, that every IOAS still answers afterwards,
 * and that closing leaves no pin or charge behind (LSan checks memory in
 * make check-asan).
 */
#include <pthread.h>

#include "iommufd_internal.h"

#define THREADS 4
#define ITERS	3000

static uint32_t shared[2];
static struct test_domain td;
static struct iommufd_access *the_access;
static _Atomic unsigned long maps_ok, unmaps_ok, copies_ok, rw_ok;

static void rw_unmap(void *data, uint64_t iova, uint64_t length)
{
}

static const struct iommufd_access_ops rw_ops = {
	.unmap = rw_unmap,
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker(void *arg)
{
	uintptr_t t = (uintptr_t)arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (t + 1);
	uint32_t own = 0;

	_ioas_alloc(&own);
	for (unsigned int i = 0; i < ITERS; i++) {
		uint64_t r = rnd(&seed);
		uint32_t ioas = r & 1 ? shared[(r >> 1) & 1] : own;
		uint64_t slot = (r >> 8) % 64, iova = (1 << 24) + (t * 64 + slot) * 4 * PAGE_SIZE;
		uint8_t *src = (uint8_t *)buffer + ((r >> 16) % 16) * PAGE_SIZE;

		switch ((r >> 24) % 8) {
		case 0:
		case 1:
			if (!_ioas_map(ioas, src, PAGE_SIZE, &iova,
				       MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA))
				maps_ok++;
			break;
		case 2: {
			uint64_t a = 0;

			if (!_ioas_map(ioas, src, PAGE_SIZE, &a, MAP_RW))
				_ioas_unmap(ioas, a, PAGE_SIZE, NULL);
			break;
		}
		case 3:
			if (!_ioas_unmap(ioas, iova, PAGE_SIZE, NULL))
				unmaps_ok++;
			break;
		case 4: {
			uint64_t dst = 0;

			_copy(shared[0], &dst, ioas, iova, PAGE_SIZE, MAP_RW);
			if (dst) {
				copies_ok++;
				_ioas_unmap(shared[0], dst, PAGE_SIZE, NULL);
			}
			break;
		}
		case 5: {
			struct iommu_iova_range ranges[4];
			uint32_t num = 4;

			_iova_ranges(ioas, ranges, &num, NULL);
			break;
		}
		case 6: {
			uint8_t tmp[64];

			if (!iommufd_access_rw(the_access, iova + (r >> 40) % 4000, tmp, 64, 0))
				rw_ok++;
			break;
		}
		case 7:
			/* Destroying another thread's IOAS races its users: EBUSY or ENOENT. */
			if ((r >> 33) % 64 == 0) {
				_destroy(own);
				own = 0;
				_ioas_alloc(&own);
			}
			break;
		}
	}
	return NULL;
}

static void test_threads(void *arg)
{
	pthread_t th[THREADS];
	uint32_t id;

	iommufd_setup();
	shared[0] = ioas_alloc();
	shared[1] = ioas_alloc();
	test_domain_init(&td, 2048 | 4096 | (1ULL << 20), 0, UINT64_MAX);
	test_domain_attach(&td, shared[1]);
	the_access = iommufd_access_create(test_ictx(), &rw_ops, NULL, &id);
	TAP_CHECK(!IS_ERR(the_access), "the_access");
	TAP_CHECK_EQ(iommufd_access_attach(the_access, shared[1]), 0, "attach");

	for (uintptr_t t = 0; t < THREADS; t++)
		TAP_CHECK(!pthread_create(&th[t], NULL, worker, (void *)t), "pthread_create");
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);

	tap_diag("%lu maps, %lu unmaps, %lu copies, %lu access reads succeeded",
		 (unsigned long)maps_ok, (unsigned long)unmaps_ok, (unsigned long)copies_ok,
		 (unsigned long)rw_ok);
	TAP_CHECK(maps_ok > 100 && unmaps_ok > 100 && copies_ok > 10 && rw_ok > 10,
		  "the threads did real work");
	/* Everything still answers and can be emptied. */
	for (uint32_t i = 1; i < 16; i++) {
		struct iommu_iova_range ranges[4];
		uint32_t num = 4;

		if (_iova_ranges(i, ranges, &num, NULL))
			TAP_CHECK(errno == ENOENT || errno == EMSGSIZE, "IOVA_RANGES %u: %s", i,
				  strerror(errno));
		if (_ioas_unmap(i, 0, UINT64_MAX, NULL))
			TAP_CHECK_EQ(errno, ENOENT, "unmap-all");
	}
	TAP_CHECK(interval_tree_empty(&td.runs), "domain empty");
	iommufd_access_destroy(the_access);
	test_domain_detach(&td);
	iommufd_teardown();
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "no pins left");
	{
		struct iommufd_pin_stats ps;

		iommufd_pin_stats(&ps);
		TAP_CHECK(!ps.mm_pinned_vm && !ps.user_locked_vm && !ps.mm_locked_vm, "no charges");
	}
}

int main(void)
{
	tap_plan(1);
	tap_run("4 threads of random ioctls on one context", test_threads, NULL);
	return tap_done();
}
