/* SPDX-License-Identifier: MIT */
/*
 * tests/func/iommufd_internal.h - what the functional tests need from
 * inside the library until the selftest ops (IOMMU_TEST_CMD) and HWPTs
 * exist: reserve IOVA in an IOAS (the selftest's ADD_RESERVED), attach a
 * paging domain of a small in-test IOMMU model (what a HWPT would do), and
 * create accesses. Everything else in these tests is real ioctls.
 *
 * The test domain keeps its mappings as runs {iova, last, paddr, prot} in
 * an interval tree: map_pages refuses overlaps (EEXIST) and allocates
 * through ualloc (so fail-nth reaches it), unmap_pages removes any
 * sub-range (splitting a run with plain malloc: unmap never fails), and
 * iova_to_phys answers from the runs. It counts calls and mapped bytes.
 */
#ifndef UIOMMU_TESTS_FUNC_IOMMUFD_INTERNAL_H
#define UIOMMU_TESTS_FUNC_IOMMUFD_INTERNAL_H

#include "iommufd/io_pagetable.h"
#include "util/alloc.h"

#include "iommufd_utils.h"

struct test_run {
	struct interval_tree_node node;
	uint64_t paddr;
	int prot;
	bool from_malloc;
};

struct test_domain {
	struct iommu_domain dom;
	struct interval_tree_root runs;
	uint64_t mapped_bytes;
	unsigned long map_calls, unmap_calls;
	/* Fail the map_pages call when mapped_bytes would pass this (0: never). */
	uint64_t fail_after;
	struct iommufd_ioas *ioas; /* attached to, with a users reference */
};

static int test_map_pages(struct iommu_domain *domain, uint64_t iova, uint64_t paddr, size_t pgsize,
			  size_t pgcount, int prot, size_t *mapped)
{
	struct test_domain *td = container_of(domain, struct test_domain, dom);
	uint64_t len = (uint64_t)pgsize * pgcount;
	struct test_run *run;

	td->map_calls++;
	*mapped = 0;
	if ((iova | paddr) & (pgsize - 1) || !(domain->pgsize_bitmap & pgsize))
		return -EINVAL;
	if (iova < domain->aperture_start || iova + len - 1 > domain->aperture_end)
		return -EINVAL;
	if (interval_tree_iter_first(&td->runs, iova, iova + len - 1))
		return -EEXIST;
	if (td->fail_after && td->mapped_bytes + len > td->fail_after)
		return -ENOMEM;
	run = uzalloc(sizeof(*run));
	if (!run)
		return -ENOMEM;
	run->node.start = iova;
	run->node.last = iova + len - 1;
	run->paddr = paddr;
	run->prot = prot;
	interval_tree_insert(&run->node, &td->runs);
	td->mapped_bytes += len;
	*mapped = len;
	return 0;
}

static size_t test_unmap_pages(struct iommu_domain *domain, uint64_t iova, size_t pgsize,
			       size_t pgcount)
{
	struct test_domain *td = container_of(domain, struct test_domain, dom);
	uint64_t last = iova + (uint64_t)pgsize * pgcount - 1;
	struct interval_tree_node *n;
	size_t done = 0;

	td->unmap_calls++;
	while ((n = interval_tree_iter_first(&td->runs, iova, last))) {
		struct test_run *run = container_of(n, struct test_run, node);
		uint64_t s = MAX(n->start, iova), l = MIN(n->last, last);

		interval_tree_remove(n, &td->runs);
		/* Keep the parts outside [iova, last] as runs of their own. */
		if (n->start < s) {
			struct test_run *left = calloc(1, sizeof(*left));

			if (left) {
				*left = *run;
				left->node.last = s - 1;
				left->from_malloc = true;
				interval_tree_insert(&left->node, &td->runs);
			}
		}
		if (n->last > l) {
			struct test_run *right = calloc(1, sizeof(*right));

			if (right) {
				*right = *run;
				right->node.start = l + 1;
				right->paddr = run->paddr + (l + 1 - n->start);
				right->from_malloc = true;
				interval_tree_insert(&right->node, &td->runs);
			}
		}
		done += l - s + 1;
		td->mapped_bytes -= l - s + 1;
		if (run->from_malloc)
			free(run);
		else
			ufree(run);
	}
	return done;
}

static uint64_t test_iova_to_phys(struct iommu_domain *domain, uint64_t iova)
{
	struct test_domain *td = container_of(domain, struct test_domain, dom);
	struct interval_tree_node *n = interval_tree_iter_first(&td->runs, iova, iova);

	if (!n)
		return 0;
	return container_of(n, struct test_run, node)->paddr + (iova - n->start);
}

static const struct iommu_domain_ops test_domain_ops = {
	.map_pages = test_map_pages,
	.unmap_pages = test_unmap_pages,
	.iova_to_phys = test_iova_to_phys,
};

static inline void test_domain_init(struct test_domain *td, uint64_t pgsize_bitmap,
				    uint64_t aperture_start, uint64_t aperture_end)
{
	memset(td, 0, sizeof(*td));
	td->dom.type = IOMMU_DOMAIN_PAGING;
	td->dom.ops = &test_domain_ops;
	td->dom.pgsize_bitmap = pgsize_bitmap;
	td->dom.aperture_start = aperture_start;
	td->dom.aperture_end = aperture_end;
	td->runs = INTERVAL_TREE_ROOT_INIT;
}

/* The context of self_file (no reference kept: the file outlives the test). */
static inline struct iommufd_ctx *test_ictx(void)
{
	struct iommufd_ctx *ictx = iommufd_ctx_from_file(self_file);

	TAP_CHECK(!IS_ERR(ictx), "not an iommufd");
	iommufd_ctx_put(ictx);
	return ictx;
}

/*
 * Attach @td to IOAS @ioas_id the way a HWPT does: iopt_table_add_domain()
 * with a users reference on the IOAS (so DESTROY of the IOAS is EBUSY).
 * Returns 0 or the negative errno of the attach.
 */
static inline int _test_domain_attach(struct test_domain *td, uint32_t ioas_id)
{
	struct iommufd_ctx *ictx = test_ictx();
	struct iommufd_ioas *ioas = iommufd_get_ioas(ictx, ioas_id);
	int rc;

	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	rc = iopt_table_add_domain(&ioas->iopt, &td->dom);
	if (rc) {
		iommufd_put_object(ictx, &ioas->obj);
		return rc;
	}
	iommufd_ref_to_users(&ioas->obj);
	td->ioas = ioas;
	return 0;
}

static inline void test_domain_attach(struct test_domain *td, uint32_t ioas_id)
{
	int rc = _test_domain_attach(td, ioas_id);

	TAP_CHECK(!rc, "attach: %s", strerror(-rc));
}

static inline void test_domain_detach(struct test_domain *td)
{
	if (!td->ioas)
		return;
	iopt_table_remove_domain(&td->ioas->iopt, &td->dom);
	refcount_dec(&td->ioas->obj.users);
	td->ioas = NULL;
	TAP_CHECK(interval_tree_empty(&td->runs), "domain not empty after detach");
}

/* IOMMU_TEST_OP_ADD_RESERVED: reserve [start, start + length - 1]. 0 or -errno. */
static inline int test_add_reserved(uint32_t ioas_id, uint64_t start, uint64_t length)
{
	struct iommufd_ctx *ictx = test_ictx();
	struct iommufd_ioas *ioas = iommufd_get_ioas(ictx, ioas_id);
	int rc;

	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	rc = iopt_reserve_iova(&ioas->iopt, start, start + length - 1, NULL);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/* Host address the domain maps @iova to (0: nothing). */
static inline uint64_t test_domain_phys(struct test_domain *td, uint64_t iova)
{
	return td->dom.ops->iova_to_phys(&td->dom, iova);
}

/* Every byte of [iova, iova + len) maps to buf + offset in @td, with @prot. */
static inline void check_domain_map(struct test_domain *td, uint64_t iova, void *buf, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += 512)
		TAP_CHECK(test_domain_phys(td, iova + off) == (uintptr_t)buf + off,
			  "iova 0x%llx maps to 0x%llx, want %p + 0x%llx",
			  (unsigned long long)(iova + off),
			  (unsigned long long)test_domain_phys(td, iova + off), buf,
			  (unsigned long long)off);
}

#endif
