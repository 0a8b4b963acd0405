// SPDX-License-Identifier: MIT
/*
 * bench_iommufd - W8 of perf.md §5: the iommufd object layer end to end.
 *
 * Workloads (every call is a real IOMMU_IOAS_MAP / UNMAP through
 * uiommu_ioctl(), the library path a program or the preload shim takes):
 *
 *   fixed cost   IOAS_MAP + IOAS_UNMAP of one 4K page at a fixed IOVA, per
 *                call (pair / 2): without a domain (bookkeeping only), and
 *                with a domain (pinning check and IOPTE work included).
 *   scale        1 M mappings of one 4K page each in one IOAS: the per-call
 *                cost of MAP while the IOAS holds ~1K, ~100K and ~1M areas,
 *                then of UNMAP on the way back down (O(log n) expected).
 *   bulk         MAP of 1 GiB of pre-faulted memory with a domain attached:
 *                THP-backed (2M) and 4K-backed, then its UNMAP; throughput
 *                in GB/s. Plus 1 GiB with huge pages off (4K IOPTEs).
 *
 * The domains, named in the output's "domain" parameter:
 *   pt-vmsa-s2  the benchmark's own paging domain whose map_pages /
 *               unmap_pages are lib/pt's VMSA stage-2 4K tables (pgsize
 *               4K | 2M | 1G): real table walks and allocations;
 *   mock        the mock IOMMU model (lib/hw/mock), DEFAULT domain: 2 KiB
 *               pages, aperture [16 MiB, 2 GiB);
 *   mock-huge   the mock's v6.19 HUGE domain: 4 KiB | 1 MiB pages.
 * Host addresses are what a domain maps (DESIGN.md §1), and host memory is
 * contiguous, so 4K-backed memory still gets the largest IOPTEs where IOVA
 * and address line up, as Linux would with physically contiguous pages; the
 * 4K-backed figure therefore measures the per-page pinning check, and the
 * "iopte-4k" row (huge pages off) measures 4K IOPTEs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include <uiommu/uiommu.h>

#include <linux/iommufd_test.h>

#include "bench.h"
#include "hw/mock/mock.h"
#include "iommufd/io_pagetable.h"
#include "pt/pt.h"

#define KIB (1ULL << 10)
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static struct uiommu_file *file;

/* The domain under the IOAS: lib/pt VMSA stage 2, or the mock IOMMU model. */
enum dom_kind { DOM_NONE, DOM_PT, DOM_MOCK, DOM_MOCK_HUGE };

static const char *const dom_names[] = {"none", "pt-vmsa-s2", "mock", "mock-huge"};

struct pt_domain {
	struct iommu_domain dom;
	struct pt_table t;
	struct iommufd_ioas *ioas;
	enum dom_kind kind;
	struct iommu_domain *mock;
	struct udev *dev;
};

static int ptd_map(struct iommu_domain *d, uint64_t iova, uint64_t paddr, size_t pgsize,
		   size_t pgcount, int prot, size_t *mapped)
{
	struct pt_domain *p = container_of(d, struct pt_domain, dom);
	uint64_t len = (uint64_t)pgsize * pgcount;
	int rc = pt_map(&p->t, iova, paddr, len, prot & (PT_PROT_R | PT_PROT_W));

	*mapped = rc ? 0 : len;
	return rc;
}

static size_t ptd_unmap(struct iommu_domain *d, uint64_t iova, size_t pgsize, size_t pgcount)
{
	struct pt_domain *p = container_of(d, struct pt_domain, dom);
	uint64_t unmapped = 0;

	pt_unmap(&p->t, iova, (uint64_t)pgsize * pgcount, &unmapped);
	return unmapped;
}

static const struct iommu_domain_ops ptd_ops = {
	.map_pages = ptd_map,
	.unmap_pages = ptd_unmap,
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_iommufd: %s: %s\n", what, strerror(err));
	exit(1);
}

static uint32_t ioas_alloc(void)
{
	struct iommu_ioas_alloc cmd = {.size = sizeof(cmd)};

	if (uiommu_ioctl(file, IOMMU_IOAS_ALLOC, &cmd))
		die("IOAS_ALLOC", errno);
	return cmd.out_ioas_id;
}

static void ptd_attach(struct pt_domain *p, uint32_t ioas_id, enum dom_kind kind)
{
	struct pt_cfg cfg = {
		.format = PT_VMSA_S2, .granule_shift = 12, .ias = 48, .oas = 48, .sl0 = -1};
	struct iommufd_ctx *ictx = iommufd_ctx_from_file(file);
	struct iommu_domain *dom;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	if (IS_ERR(ictx))
		die("ctx", EBADF);
	if (kind == DOM_PT) {
		rc = pt_cfg_init(&cfg);
		if (!rc)
			rc = pt_table_init(&p->t, &cfg, &pt_mem_host);
		if (rc)
			die("pt table", -rc);
		p->dom.type = IOMMU_DOMAIN_PAGING;
		p->dom.ops = &ptd_ops;
		p->dom.pgsize_bitmap = (4 * KIB) | (2 * MIB) | GIB;
		p->dom.aperture_start = 0;
		p->dom.aperture_end = (1ULL << 48) - 1;
		dom = &p->dom;
	} else {
		struct iommu_hwpt_selftest data = {.pagetable_type = MOCK_IOMMUPT_HUGE};
		struct iommu_user_data ud = {
			.type = IOMMU_HWPT_DATA_SELFTEST, .uptr = &data, .len = sizeof(data)};

		p->dev = mock_dev_create(0, &rc);
		if (!p->dev)
			die("mock device", -rc);
		p->mock = mock_iommu_device()->ops->domain_alloc_paging_flags(
			p->dev, 0, kind == DOM_MOCK_HUGE ? &ud : NULL, &rc);
		if (!p->mock)
			die("mock domain", -rc);
		dom = p->mock;
	}
	p->ioas = iommufd_get_ioas(ictx, ioas_id);
	if (IS_ERR(p->ioas))
		die("get IOAS", ENOENT);
	rc = iopt_table_add_domain(&p->ioas->iopt, dom);
	if (rc)
		die("attach", -rc);
	iommufd_ref_to_users(&p->ioas->obj);
	iommufd_ctx_put(ictx);
}

static void ptd_detach(struct pt_domain *p)
{
	iopt_table_remove_domain(&p->ioas->iopt, p->kind == DOM_PT ? &p->dom : p->mock);
	refcount_dec(&p->ioas->obj.users);
	if (p->kind == DOM_PT) {
		pt_table_destroy(&p->t);
	} else {
		p->mock->ops->free(p->mock);
		mock_dev_destroy(p->dev);
	}
}

static int map(uint32_t ioas, void *va, uint64_t len, uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	int rc = uiommu_ioctl(file, IOMMU_IOAS_MAP, &cmd);

	*iova = cmd.iova;
	return rc;
}

static int unmap(uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	return uiommu_ioctl(file, IOMMU_IOAS_UNMAP, &cmd);
}

static void emit(const char *name, const char *domain, const char *extra_key, const char *extra_val,
		 struct bench_stats *st, double bytes_per_op)
{
	struct bench_json j;

	bj_begin(&j, name);
	bj_param_str(&j, "domain", domain);
	if (extra_key)
		bj_param_str(&j, extra_key, extra_val);
	bj_stats(&j, st);
	if (bytes_per_op > 0)
		bj_f(&j, "gb_per_s", bytes_per_op / st->p50);
	bj_end(&j);
}

/* MAP + UNMAP of one page, K pairs per sample; reported per call. */
static void fixed_cost(enum dom_kind kind)
{
	char desc[64];
	const unsigned int K = 256;
	unsigned int n = bench_samples(4000, 200);
	double *v = calloc(n, sizeof(double));
	struct pt_domain ptd;
	struct bench_stats st;
	uint32_t ioas;
	void *page;

	snprintf(desc, sizeof(desc), "map+unmap 1x4K %s", dom_names[kind]);
	if (!bench_want(desc) || !v) {
		free(v);
		return;
	}
	page = aligned_alloc(4096, 4096);
	memset(page, 1, 4096);
	ioas = ioas_alloc();
	if (kind != DOM_NONE)
		ptd_attach(&ptd, ioas, kind);
	for (unsigned int s = 0; s <= n; s++) {
		uint64_t t0 = bench_ticks();

		for (unsigned int k = 0; k < K; k++) {
			uint64_t iova = 1ULL << 30;

			if (map(ioas, page, 4096, &iova, IOMMU_IOAS_MAP_FIXED_IOVA) ||
			    unmap(ioas, 1ULL << 30, 4096))
				die(desc, errno);
		}
		if (s)
			v[s - 1] = bench_ns(bench_ticks() - t0) / (2.0 * K);
	}
	bench_stats(v, n, &st);
	emit("iommufd_map_unmap_fixed_cost", dom_names[kind], "per", "call", &st, 0);
	if (kind != DOM_NONE)
		ptd_detach(&ptd);
	free(page);
	free(v);
}

/* 1 M single-page areas: per-call MAP and UNMAP cost at 1K / 100K / 1M areas. */
static void scale(void)
{
	const uint64_t N = bench_opts.quick ? 100000 : 1000000;
	static const uint64_t marks[] = {1000, 100000, 1000000};
	const unsigned int W = 1000; /* calls timed at each mark */
	uint32_t ioas;
	void *page;

	if (!bench_want("scale 1M areas"))
		return;
	page = aligned_alloc(4096, 4096);
	ioas = ioas_alloc();
	/* Warm the allocator and the code paths: W maps and unmaps, untimed. */
	for (uint64_t i = 0; i < W; i++) {
		uint64_t iova = (i + 1) * 8192;

		if (map(ioas, page, 4096, &iova, IOMMU_IOAS_MAP_FIXED_IOVA))
			die("scale warm-up", errno);
	}
	for (uint64_t i = 0; i < W; i++)
		if (unmap(ioas, (i + 1) * 8192, 4096))
			die("scale warm-up", errno);
	for (unsigned int m = 0; m < 3 && marks[m] <= N; m++) {
		uint64_t have = m ? marks[m - 1] : 0;
		struct bench_stats st;
		struct bench_json j;
		double v[1];
		uint64_t t0;

		/* Grow untimed to mark - W, then time the last W maps. */
		for (uint64_t i = have; i < marks[m] - W; i++) {
			uint64_t iova = (i + 1) * 8192;

			if (map(ioas, page, 4096, &iova, IOMMU_IOAS_MAP_FIXED_IOVA))
				die("scale map", errno);
		}
		t0 = bench_ticks();
		for (uint64_t i = marks[m] - W; i < marks[m]; i++) {
			uint64_t iova = (i + 1) * 8192;

			if (map(ioas, page, 4096, &iova, IOMMU_IOAS_MAP_FIXED_IOVA))
				die("scale map", errno);
		}
		v[0] = bench_ns(bench_ticks() - t0) / W;
		bench_stats(v, 1, &st);
		bj_begin(&j, "iommufd_scale_map");
		bj_param_u64(&j, "areas", marks[m]);
		bj_param_str(&j, "domain", "none");
		bj_stats(&j, &st);
		bj_end(&j);
	}
	for (int m = 2; m >= 0; m--) {
		struct bench_stats st;
		struct bench_json j;
		double v[1];
		uint64_t t0;

		if (marks[m] > N)
			continue;
		/* Time W unmaps from the top at this size, then shrink untimed. */
		t0 = bench_ticks();
		for (uint64_t i = marks[m]; i > marks[m] - W; i--)
			if (unmap(ioas, i * 8192, 4096))
				die("scale unmap", errno);
		v[0] = bench_ns(bench_ticks() - t0) / W;
		bench_stats(v, 1, &st);
		bj_begin(&j, "iommufd_scale_unmap");
		bj_param_u64(&j, "areas", marks[m]);
		bj_param_str(&j, "domain", "none");
		bj_stats(&j, &st);
		bj_end(&j);
		for (uint64_t i = marks[m] - W; i > (m ? marks[m - 1] : 0); i--)
			if (unmap(ioas, i * 8192, 4096))
				die("scale unmap", errno);
	}
	free(page);
}

static void *prefaulted(uint64_t len, bool huge)
{
	uint8_t *raw = mmap(NULL, len + 2 * MIB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *p;

	if (raw == MAP_FAILED)
		die("mmap", errno);
	p = (uint8_t *)(((uintptr_t)raw + 2 * MIB - 1) & ~(2 * MIB - 1));
	madvise(p, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(p, 0x5a, len);
	return p;
}

/* MAP / UNMAP of @len bytes with a pt domain. */
static void bulk(const char *backing, void *buf, uint64_t len, bool small_iopte, enum dom_kind kind)
{
	unsigned int reps = bench_samples(10, 3);
	double *vm = calloc(reps, sizeof(double)), *vu = calloc(reps, sizeof(double));
	char desc[96];
	struct pt_domain ptd;
	struct bench_stats sm, su;
	uint32_t ioas;

	snprintf(desc, sizeof(desc), "bulk 1G %s %s%s", dom_names[kind], backing,
		 small_iopte ? " iopte-4k" : "");
	if (!bench_want(desc) || !vm || !vu) {
		free(vm);
		free(vu);
		return;
	}
	ioas = ioas_alloc();
	if (small_iopte) {
		struct iommu_option o = {.size = sizeof(o),
					 .option_id = IOMMU_OPTION_HUGE_PAGES,
					 .op = IOMMU_OPTION_OP_SET,
					 .object_id = ioas};

		if (uiommu_ioctl(file, IOMMU_OPTION, &o))
			die("option", errno);
	}
	ptd_attach(&ptd, ioas, kind);
	for (unsigned int r = 0; r <= reps; r++) {
		uint64_t iova = 1ULL << 32, t0, t1, t2;

		t0 = bench_ticks();
		if (map(ioas, buf, len, &iova, IOMMU_IOAS_MAP_FIXED_IOVA))
			die(desc, errno);
		t1 = bench_ticks();
		if (unmap(ioas, iova, len))
			die(desc, errno);
		t2 = bench_ticks();
		if (r) {
			vm[r - 1] = bench_ns(t1 - t0);
			vu[r - 1] = bench_ns(t2 - t1);
		}
	}
	bench_stats(vm, reps, &sm);
	bench_stats(vu, reps, &su);
	emit(small_iopte ? "iommufd_map_1g_iopte4k" : "iommufd_map_1g", dom_names[kind],
	     "backing", backing, &sm, (double)len);
	emit(small_iopte ? "iommufd_unmap_1g_iopte4k" : "iommufd_unmap_1g", dom_names[kind],
	     "backing", backing, &su, (double)len);
	ptd_detach(&ptd);
	free(vm);
	free(vu);
}

int main(int argc, char **argv)
{
	void *thp, *small;

	bench_init(argc, argv, "bench_iommufd");
	file = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (!file)
		die("open /dev/iommu", errno);

	fixed_cost(DOM_NONE);
	fixed_cost(DOM_PT);
	fixed_cost(DOM_MOCK);
	scale();
	/* A fresh context: the 1 M areas above go with the old one. */
	uiommu_close(file);
	file = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (!file)
		die("open /dev/iommu", errno);

	if (bench_want("bulk 1G")) {
		thp = prefaulted(GIB, true);
		small = prefaulted(GIB, false);
		bulk("2M", thp, GIB, false, DOM_PT);
		bulk("4K", small, GIB, false, DOM_PT);
		bulk("4K", small, GIB, true, DOM_PT);
		bulk("2M", thp, GIB, false, DOM_MOCK_HUGE);
		bulk("4K", small, GIB, false, DOM_MOCK_HUGE);
	}
	uiommu_close(file);
	return 0;
}
