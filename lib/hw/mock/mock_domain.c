// SPDX-License-Identifier: MIT
/*
 * mock_domain.c - the mock's domains: paging domains over a mock_pt table
 * (map, unmap, iova_to_phys, dirty tracking) and nested domains, whose
 * "stage 1" is four IOTLB entries that user invalidations reset.
 *
 * Paging domains (domain_alloc_paging_flags). Flags: NEST_PARENT,
 * DIRTY_TRACKING and PASID; anything else, or DIRTY_TRACKING for a NO_DIRTY
 * device, is EOPNOTSUPP. Optional data (v6.19): type IOMMU_HWPT_DATA_SELFTEST
 * (or NONE), struct iommu_hwpt_selftest of 4 or 8 bytes (v6.19 added
 * pagetable_type; a 4-byte blob reads it as DEFAULT), other types
 * EOPNOTSUPP, and pagetable_type DEFAULT or HUGE (AMDV1, which Linux later
 * removed again, and unknown values: EOPNOTSUPP). The geometry per kind:
 *
 *   kind                   aperture                    page sizes
 *   DEFAULT                [16 MiB, 2 GiB - 1]         2 KiB
 *   DEFAULT, HUGE_IOVA dev [16 MiB, 2 GiB - 1]         2 KiB | 1 MiB   (6.12)
 *   HUGE                   [0, 2^38 - 1] (the table)   4 KiB | 1 MiB   (v6.19)
 *
 * v6.19 keeps the format's own aperture for HUGE and lists PAGE_SIZE so the
 * core accepts the domain; we do the same (4 KiB, the selftest's page).
 * map_pages stores leaves of exactly the page size asked for (mock_pt.c
 * says why), so a 4 KiB page is two 2 KiB leaves and a 1 MiB page one
 * block. map_pages refuses what the hardware could not hold: a page size
 * outside the bitmap, misaligned addresses, a range that wraps or leaves
 * the aperture (EINVAL, ERANGE), and neither read nor write (EINVAL). Like
 * the kernel's mock it also has a fail-nth point of its own, which fails
 * a map with ENOENT before anything is stored.
 *
 * Dirty tracking. A domain allocated with DIRTY_TRACKING has dirty ops
 * (domain->dirty_ops) and a tracking switch (set_dirty_tracking; EINVAL to
 * enable it without dirty ops). While tracking, device writes and the
 * selftest's DIRTY op set the dirty bit of the leaf they hit;
 * read_and_clear_dirty reports each dirty leaf's intersection with the
 * range (a 1 MiB leaf sets every bit it covers) and clears the leaf unless
 * IOMMU_DIRTY_NO_CLEAR. Reading with a bitmap while tracking is off is
 * EINVAL; reading with a NULL bitmap only clears (the core does that when
 * it enables tracking). Two deliberate differences from Linux 6.12's mock,
 * which kept one xarray entry per 2 KiB: a huge leaf is cleared whole even
 * when the range covers only part of it (a PTE has one dirty bit), and
 * only the part of a dirty leaf inside the range is recorded (6.12 records
 * a full huge page from wherever the range starts).
 *
 * Nested domains (domain_alloc_nested, and a vIOMMU's alloc_domain_nested).
 * The parent must be a mock paging domain allocated with NEST_PARENT
 * (EINVAL; Linux's core checks the flag, the model checks it too, with the
 * same errno, so that it never nests on a table that was not meant to be
 * a stage 2); flags: PASID only
 * (EOPNOTSUPP); data: IOMMU_HWPT_DATA_SELFTEST only (EOPNOTSUPP), at least
 * the iotlb field (EINVAL). All four IOTLB entries start at data.iotlb.
 * cache_invalidate_user takes an array of struct iommu_hwpt_invalidate_
 * selftest: wrong array type EINVAL; each entry is copied (length between
 * the end of iotlb_id and the struct, EINVAL; NULL, EFAULT), unknown flags
 * are EOPNOTSUPP, iotlb_id above 3 EINVAL (even with FLAG_ALL), FLAG_ALL
 * resets all four entries, else entry iotlb_id is reset to 0. Processing
 * stops at the first bad entry; entry_num is written back with the number
 * handled before it, always.
 *
 * Locking: the core serialises control calls on a domain; the IOTLB
 * entries and the tracking switch are read with atomics by the selftest
 * checks and the DMA path.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hw/mock/mock_priv.h"
#include "hw/mock/mock_pt.h"
#include "util/alloc.h"

#define PAGING_FLAGS \
	(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID)

#define offsetofend(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))

bool mock_domain_is_paging(const struct iommu_domain *domain)
{
	return domain && domain->ops == &mock_paging_ops && domain->type == IOMMU_DOMAIN_PAGING;
}

bool mock_domain_is_nested(const struct iommu_domain *domain)
{
	return domain && domain->ops == &mock_nested_ops && domain->type == IOMMU_DOMAIN_NESTED;
}

bool mock_domain_is_nesting_parent(const struct iommu_domain *domain)
{
	return mock_domain_is_paging(domain) &&
	       (to_mock_domain(domain)->alloc_flags & IOMMU_HWPT_ALLOC_NEST_PARENT);
}

/* ---------------------------------------------------------------------- */
/* Paging domains                                                         */

struct iommu_domain *mock_domain_alloc_paging(struct udev *dev, uint32_t flags,
					      const struct iommu_user_data *data, int *err)
{
	struct iommu_hwpt_selftest cfg = { 0 };
	uint32_t dev_flags = mock_dev_flags(dev);
	bool no_dirty = dev_flags & MOCK_FLAGS_DEVICE_NO_DIRTY;
	struct mock_domain *md;
	int ret;

	if ((flags & ~PAGING_FLAGS) || ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) && no_dirty)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (data) {
		if (data->type != IOMMU_HWPT_DATA_SELFTEST && data->type != IOMMU_HWPT_DATA_NONE) {
			*err = -EOPNOTSUPP;
			return NULL;
		}
		ret = iommu_copy_struct_from_user(&cfg, sizeof(cfg),
						  offsetofend(struct iommu_hwpt_selftest, iotlb),
						  data, IOMMU_HWPT_DATA_SELFTEST);
		if (ret) {
			*err = ret;
			return NULL;
		}
	}
	if (cfg.pagetable_type != MOCK_IOMMUPT_DEFAULT && cfg.pagetable_type != MOCK_IOMMUPT_HUGE) {
		*err = -EOPNOTSUPP;
		return NULL;
	}

	md = uzalloc(sizeof(*md));
	if (!md) {
		*err = -ENOMEM;
		return NULL;
	}
	ret = mock_pt_init(&md->pt);
	if (ret) {
		ufree(md);
		*err = ret;
		return NULL;
	}
	md->alloc_flags = flags;
	md->pagetable_type = cfg.pagetable_type;
	md->domain = (struct iommu_domain){
		.type = IOMMU_DOMAIN_PAGING,
		.ops = &mock_paging_ops,
		.iommu = &mock_iommu,
		.pgsize_bitmap = MOCK_PAGE_SIZE,
		.aperture_start = MOCK_APERTURE_START,
		.aperture_end = MOCK_APERTURE_LAST,
		.dirty_ops = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	if (cfg.pagetable_type == MOCK_IOMMUPT_HUGE) {
		md->domain.pgsize_bitmap = MOCK_HUGE_SMALL_PAGE | MOCK_HUGE_PAGE_SIZE;
		md->domain.aperture_start = 0;
		md->domain.aperture_end = MOCK_PT_IOVA_LAST;
	} else if (dev_flags & MOCK_FLAGS_DEVICE_HUGE_IOVA) {
		md->domain.pgsize_bitmap |= MOCK_HUGE_PAGE_SIZE;
	}
	*err = 0;
	return &md->domain;
}

static void mock_paging_free(struct iommu_domain *domain)
{
	struct mock_domain *md = to_mock_domain(domain);

	mock_pt_destroy(&md->pt);
	ufree(md);
}

static int mock_map_pages(struct iommu_domain *domain, uint64_t iova, uint64_t paddr,
			  size_t pgsize, size_t pgcount, int prot, size_t *mapped)
{
	struct mock_domain *md = to_mock_domain(domain);
	unsigned int pt_prot;
	uint64_t size;
	int ret;

	ret = iommu_map_pages_check(domain, iova, paddr, pgsize, pgcount, prot, &size, &pt_prot);
	if (ret)
		return ret;
	/* The kernel mock's own failure point: fail before storing anything. */
	if (ualloc_should_fail())
		return -ENOENT;
	ret = mock_pt_map(&md->pt, iova, paddr, size, pt_prot, pgsize);
	if (!ret && mapped)
		*mapped += size;
	return ret;
}

static size_t mock_unmap_pages(struct iommu_domain *domain, uint64_t iova, size_t pgsize,
			       size_t pgcount)
{
	return (size_t)iommu_pt_unmap(&to_mock_domain(domain)->pt, NULL, iova, pgsize, pgcount);
}

static uint64_t mock_iova_to_phys(struct iommu_domain *domain, uint64_t iova)
{
	return iommu_pt_iova_to_phys(&to_mock_domain(domain)->pt, iova);
}

static int mock_set_dirty_tracking(struct iommu_domain *domain, bool enable)
{
	struct mock_domain *md = to_mock_domain(domain);

	if (enable && !domain->dirty_ops)
		return -EINVAL;
	__atomic_store_n(&md->tracking, enable, __ATOMIC_RELEASE);
	return 0;
}

struct dirty_read {
	struct iommu_dirty_bitmap *bitmap;
	uint64_t start, last; /* the range asked for */
};

/* Record the part of a dirty leaf that lies inside the range read. */
static void record_dirty(void *arg, uint64_t iova, uint64_t size)
{
	const struct dirty_read *r = arg;
	uint64_t s = MAX(iova, r->start), l = MIN(iova + (size - 1), r->last);

	iommu_dirty_bitmap_record(r->bitmap, s, l - s + 1);
}

static int mock_read_and_clear_dirty(struct iommu_domain *domain, uint64_t iova, size_t size,
				     unsigned long flags, struct iommu_dirty_bitmap *dirty)
{
	struct mock_domain *md = to_mock_domain(domain);
	struct dirty_read r = { .bitmap = dirty, .start = iova };

	if (!__atomic_load_n(&md->tracking, __ATOMIC_ACQUIRE) && dirty && dirty->data)
		return -EINVAL;
	if (!size)
		return 0;
	r.last = range_wraps(iova, size) ? UINT64_MAX : iova + (size - 1);
	mock_pt_read_and_clear_dirty(&md->pt, iova, r.last, flags & IOMMU_DIRTY_NO_CLEAR,
				     record_dirty, &r);
	return 0;
}

const struct iommu_domain_ops mock_paging_ops = {
	.attach_dev = mock_attach_dev,
	.set_dev_pasid = mock_set_dev_pasid,
	.map_pages = mock_map_pages,
	.unmap_pages = mock_unmap_pages,
	.iova_to_phys = mock_iova_to_phys,
	.set_dirty_tracking = mock_set_dirty_tracking,
	.read_and_clear_dirty = mock_read_and_clear_dirty,
	.free = mock_paging_free,
};

/* ---------------------------------------------------------------------- */
/* Selftest hooks on paging domains                                       */

bool mock_domain_dirty_tracking(const struct iommu_domain *domain)
{
	return mock_domain_is_paging(domain) &&
	       __atomic_load_n(&to_mock_domain(domain)->tracking, __ATOMIC_ACQUIRE);
}

int mock_domain_check_map(struct iommu_domain *domain, uint64_t iova, uint64_t length,
			  uint64_t uptr, mock_resolve_fn resolve, void *arg)
{
	struct mock_domain *md;
	uint64_t g;

	if (!mock_domain_is_paging(domain))
		return -EINVAL;
	md = to_mock_domain(domain);
	g = domain->pgsize_bitmap & -domain->pgsize_bitmap; /* smallest page size */
	if ((iova | length | uptr) & (g - 1) || (length && range_wraps(uptr, length)))
		return -EINVAL;
	for (uint64_t off = 0; off < length; off += g) {
		uint64_t want = resolve ? resolve(arg, uptr + off) : uptr + off;
		uint64_t pa;

		if (!want || pt_iova_to_phys(&md->pt, iova + off, &pa) || pa != want)
			return -EINVAL;
	}
	return 0;
}

int mock_domain_dirty(struct iommu_domain *domain, uint64_t iova, uint64_t length,
		      uint64_t page_size, const void *bitmap, uint64_t *nr_dirty)
{
	const uint8_t *map = bitmap;
	struct mock_domain *md;
	uint64_t n, count = 0;

	if (!page_size || !length || iova % page_size || length % page_size || !bitmap)
		return -EINVAL;
	if (!mock_domain_dirty_tracking(domain))
		return -EINVAL;
	md = to_mock_domain(domain);
	n = length / page_size;
	for (uint64_t i = 0; i < n; i++) {
		if (!(map[i >> 3] & (1u << (i & 7))))
			continue;
		if (mock_pt_set_dirty(&md->pt, iova + i * page_size))
			count++;
	}
	if (nr_dirty)
		*nr_dirty = count;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Nested domains                                                         */

struct mock_nested *mock_nested_new(struct mock_domain *parent, struct mock_viommu *viommu,
				    uint32_t flags, const struct iommu_user_data *data, int *err)
{
	struct iommu_hwpt_selftest cfg;
	struct mock_nested *mn;
	int ret;

	if (flags & ~IOMMU_HWPT_ALLOC_PASID) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (!data || data->type != IOMMU_HWPT_DATA_SELFTEST) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	ret = iommu_copy_struct_from_user(&cfg, sizeof(cfg),
					  offsetofend(struct iommu_hwpt_selftest, iotlb), data,
					  IOMMU_HWPT_DATA_SELFTEST);
	if (ret) {
		*err = ret;
		return NULL;
	}
	mn = uzalloc(sizeof(*mn));
	if (!mn) {
		*err = -ENOMEM;
		return NULL;
	}
	mn->viommu = viommu;
	mn->alloc_flags = flags;
	for (unsigned int i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		mn->iotlb[i] = cfg.iotlb;
	mn->domain = (struct iommu_domain){
		.type = IOMMU_DOMAIN_NESTED,
		.ops = &mock_nested_ops,
		.iommu = &mock_iommu,
		.parent = &parent->domain,
		.aperture_start = parent->domain.aperture_start,
		.aperture_end = parent->domain.aperture_end,
	};
	*err = 0;
	return mn;
}

struct iommu_domain *mock_domain_alloc_nested(struct udev *dev, struct iommu_domain *parent,
					      uint32_t flags, const struct iommu_user_data *data,
					      int *err)
{
	struct mock_nested *mn;

	if (flags & ~IOMMU_HWPT_ALLOC_PASID) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (!mock_domain_is_nesting_parent(parent)) {
		*err = -EINVAL;
		return NULL;
	}
	mn = mock_nested_new(to_mock_domain(parent), NULL, flags, data, err);
	return mn ? &mn->domain : NULL;
}

static void mock_nested_free(struct iommu_domain *domain)
{
	ufree(to_mock_nested(domain));
}

static int mock_cache_invalidate_user(struct iommu_domain *domain,
				      struct iommu_user_data_array *array)
{
	struct mock_nested *mn = to_mock_nested(domain);
	const size_t min = offsetofend(struct iommu_hwpt_invalidate_selftest, iotlb_id);
	struct iommu_hwpt_invalidate_selftest inv;
	uint32_t done = 0;
	int ret = 0;

	if (array->type != IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) {
		ret = -EINVAL;
		goto out;
	}
	for (uint32_t i = 0; i < array->entry_num; i++) {
		ret = iommu_copy_struct_from_user_array(&inv, sizeof(inv), min, array,
							IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, i);
		if (ret)
			break;
		if (inv.flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			ret = -EOPNOTSUPP;
			break;
		}
		if (inv.iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) {
			ret = -EINVAL;
			break;
		}
		if (inv.flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			for (unsigned int j = 0; j < MOCK_NESTED_DOMAIN_IOTLB_NUM; j++)
				__atomic_store_n(&mn->iotlb[j], 0, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&mn->iotlb[inv.iotlb_id], 0, __ATOMIC_RELAXED);
		}
		done++;
	}
out:
	array->entry_num = done;
	return ret;
}

const struct iommu_domain_ops mock_nested_ops = {
	.attach_dev = mock_attach_dev,
	.set_dev_pasid = mock_set_dev_pasid,
	.cache_invalidate_user = mock_cache_invalidate_user,
	.free = mock_nested_free,
};

int mock_nested_iotlb(const struct iommu_domain *domain, unsigned int id, uint32_t *val)
{
	if (!mock_domain_is_nested(domain) || id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX)
		return -EINVAL;
	*val = __atomic_load_n(&to_mock_nested(domain)->iotlb[id], __ATOMIC_RELAXED);
	return 0;
}

int mock_nested_check_iotlb(const struct iommu_domain *domain, unsigned int id, uint32_t expect)
{
	uint32_t v;
	int ret = mock_nested_iotlb(domain, id, &v);

	if (ret)
		return ret;
	return v == expect ? 0 : -EINVAL;
}
