// SPDX-License-Identifier: MIT
/*
 * bench_dma - DMA copy throughput of a dmatest function through a mock
 * domain: the device data path of DESIGN.md §1 (GO -> iommu_dma_rw() ->
 * the mock's dma_translate per leaf -> memcpy), end to end.
 *
 * Setup is real ioctls: an IOAS, a mock device on it (IOMMU_TEST_OP_MOCK_
 * DOMAIN), the source and destination buffers mapped with IOMMU_IOAS_MAP;
 * the dmatest function plugs into the mock device through the selftest
 * hold. Leaf sizes, named in the "leaf" parameter:
 *   2K   the mock's DEFAULT domain (2 KiB pages only);
 *   4K   the mock's v6.19 HUGE domain with the IOAS's huge pages option off;
 *   1M   the HUGE domain with 1 MiB aligned buffers (1 MiB leaves).
 * Every leaf is one dma_translate call (one walk: the mock has no IOTLB),
 * so the rows show what a translation costs per byte.
 *
 * Workloads: COPY of 4 KiB and of 1 MiB (one GO per sample, reported per
 * operation with gb_per_s = bytes moved / ns), and memcpy() of the same
 * buffers as the baseline of the same run (COPY goes through the device's
 * 32 KiB bounce buffer, so it moves every byte twice).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include <linux/iommufd_test.h>
#include <uiommu/uiommu.h>

#include "bench.h"
#include "dev/dmatest/dmatest.h"
#include "dev/pci_cfg.h"
#include "iommufd/iommufd_private.h"

#define MIB	 (1ULL << 20)
#define BUF	 (2 * MIB)
#define SRC_IOVA (64 * MIB)
#define DST_IOVA (128 * MIB)

static struct uiommu_file *file;

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_dma: %s: %s\n", what, strerror(err));
	exit(1);
}

static void ioc(unsigned long req, void *arg, const char *what)
{
	if (uiommu_ioctl(file, req, arg))
		die(what, errno);
}

struct setup {
	const char *leaf;
	uint32_t ioas, stdev, idev, hwpt;
	struct iommufd_selftest_hold *hold;
	struct dmatest *d;
};

static void map_fixed(uint32_t ioas, void *p, uint64_t len, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)p,
		.length = len,
		.iova = iova,
	};

	ioc(IOMMU_IOAS_MAP, &m, "IOAS_MAP");
}

static void setup(struct setup *s, const char *leaf, uint8_t *src, uint8_t *dst)
{
	struct iommu_ioas_alloc a = {.size = sizeof(a)};
	struct iommu_test_cmd md = {.size = sizeof(md), .op = IOMMU_TEST_OP_MOCK_DOMAIN};
	struct udev *udev = NULL;
	int err = 0;

	s->leaf = leaf;
	file = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (!file)
		die("open", errno);
	ioc(IOMMU_IOAS_ALLOC, &a, "IOAS_ALLOC");
	s->ioas = a.out_ioas_id;
	if (!strcmp(leaf, "4K")) {
		struct iommu_option o = {.size = sizeof(o),
					 .option_id = IOMMU_OPTION_HUGE_PAGES,
					 .op = IOMMU_OPTION_OP_SET,
					 .object_id = s->ioas,
					 .val64 = 0};

		ioc(IOMMU_OPTION, &o, "OPTION huge pages off");
	}
	md.id = s->ioas;
	ioc(IOMMU_TEST_CMD, &md, "MOCK_DOMAIN");
	s->stdev = md.mock_domain.out_stdev_id;
	s->idev = md.mock_domain.out_idev_id;
	s->hwpt = 0;
	if (strcmp(leaf, "2K")) {
		struct iommu_hwpt_selftest data = {.iotlb = 0, .pagetable_type = MOCK_IOMMUPT_HUGE};
		struct iommu_hwpt_alloc h = {
			.size = sizeof(h),
			.dev_id = s->idev,
			.pt_id = s->ioas,
			.data_type = IOMMU_HWPT_DATA_SELFTEST,
			.data_len = sizeof(data),
			.data_uptr = (uintptr_t)&data,
		};
		struct iommu_test_cmd rep = {.size = sizeof(rep),
					     .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
					     .id = s->stdev};

		ioc(IOMMU_HWPT_ALLOC, &h, "HWPT_ALLOC huge");
		s->hwpt = h.out_hwpt_id;
		rep.mock_domain_replace.pt_id = s->hwpt;
		ioc(IOMMU_TEST_CMD, &rep, "MOCK_DOMAIN_REPLACE");
	}
	map_fixed(s->ioas, src, BUF, SRC_IOVA);
	map_fixed(s->ioas, dst, BUF, DST_IOVA);
	s->hold = iommufd_selftest_dev_hold(file, s->stdev, &udev, &err);
	if (!s->hold)
		die("hold", -err);
	s->d = dmatest_create(udev, NULL, &err);
	if (!s->d)
		die("dmatest_create", -err);
	dmatest_cfg_write(s->d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	dmatest_bar_write(s->d, 0, DMATEST_REG_SRC_IOVA, 8, SRC_IOVA);
	dmatest_bar_write(s->d, 0, DMATEST_REG_DST_IOVA, 8, DST_IOVA);
	dmatest_bar_write(s->d, 0, DMATEST_REG_OP, 4, DMATEST_OP_COPY);
}

static void teardown(struct setup *s)
{
	dmatest_destroy(s->d);
	iommufd_selftest_dev_release(s->hold);
	uiommu_close(file); /* destroys the device, the HWPT and the IOAS */
	file = NULL;
}

static void emit(const char *name, const char *leaf, uint64_t bytes, struct bench_stats *st)
{
	struct bench_json j;

	bj_begin(&j, name);
	bj_param_str(&j, "leaf", leaf);
	bj_param_u64(&j, "bytes", bytes);
	bj_stats(&j, st);
	bj_f(&j, "gb_per_s", (double)bytes / st->p50);
	bj_end(&j);
}

static void run_copy(struct setup *s, uint8_t *src, uint8_t *dst, uint64_t bytes)
{
	unsigned int n = bench_samples_for((double)bytes / 2.0, 20, 5000);
	double *v = calloc(n, sizeof(double));
	struct bench_stats st;
	char desc[64];
	uint64_t status;

	snprintf(desc, sizeof(desc), "dma copy %s %llu", s->leaf, (unsigned long long)bytes);
	if (!v || !bench_want(desc)) {
		free(v);
		return;
	}
	dmatest_bar_write(s->d, 0, DMATEST_REG_LEN, 4, bytes);
	for (unsigned int i = 0; i <= n; i++) {
		uint64_t t0 = bench_ticks();

		dmatest_bar_write(s->d, 0, DMATEST_REG_GO, 4, 1);
		if (i)
			v[i - 1] = bench_ns(bench_ticks() - t0);
	}
	dmatest_bar_read(s->d, 0, DMATEST_REG_STATUS, 4, &status);
	if (status != DMATEST_STATUS_DONE || memcmp(src, dst, bytes))
		die(desc, EIO);
	bench_stats(v, n, &st);
	emit("dma_copy", s->leaf, bytes, &st);
	free(v);
}

static void run_memcpy(uint8_t *src, uint8_t *dst, uint64_t bytes)
{
	unsigned int n = bench_samples_for((double)bytes / 8.0, 20, 5000);
	double *v = calloc(n, sizeof(double));
	struct bench_stats st;
	char desc[64];

	snprintf(desc, sizeof(desc), "memcpy %llu", (unsigned long long)bytes);
	if (!v || !bench_want(desc)) {
		free(v);
		return;
	}
	for (unsigned int i = 0; i <= n; i++) {
		uint64_t t0 = bench_ticks();

		memcpy(dst, src, bytes);
		bench_keep(dst[bytes - 1]);
		if (i)
			v[i - 1] = bench_ns(bench_ticks() - t0);
	}
	bench_stats(v, n, &st);
	emit("memcpy_baseline", "-", bytes, &st);
	free(v);
}

int main(int argc, char **argv)
{
	static const char *const leaves[] = {"2K", "4K", "1M"};
	static const uint64_t sizes[] = {4096, MIB};
	uint8_t *src, *dst;

	bench_init(argc, argv, "bench_dma");
	if (posix_memalign((void **)&src, BUF, BUF) || posix_memalign((void **)&dst, BUF, BUF))
		die("memory", ENOMEM);
	for (uint64_t i = 0; i < BUF; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	memset(dst, 0, BUF);
	for (size_t l = 0; l < sizeof(leaves) / sizeof(leaves[0]); l++) {
		struct setup s;

		setup(&s, leaves[l], src, dst);
		for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
			run_copy(&s, src, dst, sizes[z]);
		teardown(&s);
	}
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
		run_memcpy(src, dst, sizes[z]);
	free(src);
	free(dst);
	return 0;
}
