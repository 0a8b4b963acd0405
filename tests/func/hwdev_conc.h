/* SPDX-License-Identifier: MIT */
/*
 * tests/func/hwdev_conc.h - DMA while the configuration and the mappings
 * change, as the driver tests of the IOMMU models run it
 * (test_smmuv3_iommufd.c, test_vtd_iommufd.c).
 *
 * Page p of the test buffer holds p + 1 in every word and is mapped at
 * iova + p * PAGE_SIZE through one IOAS: pages 0-7 always, pages 8-15 come
 * and go. HWDEV_CONC_THREADS readers each read two words at a time from
 * the pages in turn while the test's main thread flips the device between
 * two HWPTs of that IOAS and unmaps and maps pages 8-15 again, round after
 * round. A read returns the right page's words, or is blocked by the
 * change in flight (-EIO with one of the model's two blocking reasons, no
 * byte moved), or, on pages 8-15 only, fails as unmapped (-EFAULT with the
 * model's reason, no byte moved). Anything else fails the test with what
 * the reader saw; so does no read at all getting through.
 *
 * The model's test supplies the device, the reasons and the replace.
 */
#ifndef UIOMMU_TESTS_FUNC_HWDEV_CONC_H
#define UIOMMU_TESTS_FUNC_HWDEV_CONC_H

#include <pthread.h>
#include <stdbool.h>

#include "hwdev_fixture.h"

#define HWDEV_CONC_THREADS 2
#define HWDEV_CONC_DMAS	   3000

struct hwdev_conc;

struct hwdev_conc_reader {
	struct hwdev_conc *h;
	unsigned int id;
	unsigned long ok, blocked, unmapped;
	char bad[160];
};

struct hwdev_conc {
	/* Set by the test. */
	struct udev *udev;
	uint64_t iova;
	unsigned int blocked_reason[2]; /* -EIO with either: blocked */
	unsigned int unmapped_reason;	/* -EFAULT on pages 8-15 */
	/* Read on until hwdev_conc_stop(), not just HWDEV_CONC_DMAS times. */
	bool until_stop;
	const char *blocked_name; /* for the diagnostics: "aborted", "blocked" */
	/* Set here. */
	bool stop;
	uint32_t ioas, hwpt[2];
	struct hwdev_conc_reader rd[HWDEV_CONC_THREADS];
	pthread_t th[HWDEV_CONC_THREADS];
};

static inline void *hwdev_conc_reader(void *arg)
{
	struct hwdev_conc_reader *c = arg;
	struct hwdev_conc *h = c->h;

	for (unsigned int i = 0;
	     (i < HWDEV_CONC_DMAS ||
	      (h->until_stop && !__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE))) &&
	     !c->bad[0];
	     i++) {
		unsigned int p = (i * 7 + c->id * 3) % 16;
		struct iommu_dma_fault f = {0};
		uint64_t w[2] = {0, 0};
		size_t done;
		int ret = hwdev_dma(h->udev, IOMMU_NO_PASID,
				    h->iova + (uint64_t)p * PAGE_SIZE + 8 * (i % 500), w, sizeof(w),
				    false, &done, &f);

		if (!ret && w[0] == p + 1 && w[1] == p + 1)
			c->ok++;
		else if (ret == -EIO &&
			 (f.reason == h->blocked_reason[0] || f.reason == h->blocked_reason[1]) &&
			 !done)
			c->blocked++;
		else if (ret == -EFAULT && p >= 8 && f.reason == h->unmapped_reason && !done)
			c->unmapped++;
		else
			snprintf(c->bad, sizeof(c->bad),
				 "page %u: ret %d reason 0x%x done %zu words 0x%llx 0x%llx", p, ret,
				 f.reason, done, (unsigned long long)w[0],
				 (unsigned long long)w[1]);
	}
	return NULL;
}

/*
 * Fill the buffer, map it at h->iova in a new IOAS (h->ioas) as two halves,
 * and allocate two HWPTs of it for device @dev_id (h->hwpt). The test then
 * attaches the device to h->hwpt[0] and calls hwdev_conc_start().
 */
static inline void hwdev_conc_setup(struct hwdev_conc *h, uint32_t dev_id)
{
	uint64_t *words = buffer;

	for (unsigned int i = 0; i < BUFFER_SIZE / 8; i++)
		words[i] = i / (PAGE_SIZE / 8) + 1;
	h->ioas = ioas_alloc();
	ioas_map_fixed(h->ioas, buffer, BUFFER_SIZE / 2, h->iova);
	ioas_map_fixed(h->ioas, (uint8_t *)buffer + BUFFER_SIZE / 2, BUFFER_SIZE / 2,
		       h->iova + BUFFER_SIZE / 2);
	h->hwpt[0] = hwpt_alloc(dev_id, h->ioas, 0);
	h->hwpt[1] = hwpt_alloc(dev_id, h->ioas, 0);
}

/* Start the readers. */
static inline void hwdev_conc_start(struct hwdev_conc *h)
{
	__atomic_store_n(&h->stop, false, __ATOMIC_RELEASE);
	for (unsigned int t = 0; t < HWDEV_CONC_THREADS; t++) {
		h->rd[t] = (struct hwdev_conc_reader){.h = h, .id = t};
		TAP_CHECK(!pthread_create(&h->th[t], NULL, hwdev_conc_reader, &h->rd[t]),
			  "pthread_create");
	}
}

/* One round's mapping change, first half: pages 8-15 unmapped. */
static inline void hwdev_conc_unmap(struct hwdev_conc *h)
{
	ioas_unmap(h->ioas, h->iova + BUFFER_SIZE / 2, BUFFER_SIZE / 2);
}

/* ... and second half: pages 8-15 mapped again. */
static inline void hwdev_conc_remap(struct hwdev_conc *h)
{
	ioas_map_fixed(h->ioas, (uint8_t *)buffer + BUFFER_SIZE / 2, BUFFER_SIZE / 2,
		       h->iova + BUFFER_SIZE / 2);
}

/* Stop and join the readers: none saw anything else, and some reads got through. */
static inline void hwdev_conc_stop(struct hwdev_conc *h)
{
	unsigned long ok = 0;

	__atomic_store_n(&h->stop, true, __ATOMIC_RELEASE);
	for (unsigned int t = 0; t < HWDEV_CONC_THREADS; t++) {
		struct hwdev_conc_reader *c = &h->rd[t];

		pthread_join(h->th[t], NULL);
		TAP_CHECK(!c->bad[0], "thread %u: %s", t, c->bad);
		ok += c->ok;
		tap_diag("thread %u: %lu read, %lu %s, %lu unmapped", t, c->ok, c->blocked,
			 h->blocked_name, c->unmapped);
	}
	TAP_CHECK(ok, "some reads got through");
}

#endif
