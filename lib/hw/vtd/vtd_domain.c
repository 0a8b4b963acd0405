// SPDX-License-Identifier: MIT
/*
 * vtd_domain.c - the VT-d driver's domains and the PASID entries they
 * make: second-stage paging domains (map, unmap, dirty tracking) and
 * first-stage domains nested on them (IOMMU_HWPT_DATA_VTD_S1).
 *
 * Paging domains (domain_alloc_paging_flags) are second stage, always: a
 * VT-d second-stage table (lib/pt, 4-level, 48-bit input, 4K leaves plus
 * 2M / 1G as CAP.SSLPS offers) in host memory and a DID of their own.
 * Flags: NEST_PARENT (needs ECAP.NEST), DIRTY_TRACKING (needs ECAP.SLADS
 * and a device that tracks), PASID; any other flag and driver data are
 * EOPNOTSUPP (Linux's intel_iommu_domain_alloc_paging_flags). Their PASID
 * entry: PGTT 010b, AW 2, SSPTPTR, DID, SSADE while dirty tracking is on.
 *
 * Map adds leaves (nothing to invalidate: faults are never cached).
 * Unmap removes them, then flushes the range from the IOTLB of the
 * domain's DID and of the DID of every nested domain on it (page-
 * selective, domain-selective when the range needs an address mask above
 * 18): the unit's page-selective invalidation of a second-stage address
 * also drops the nested translations built over it.
 *
 * Dirty tracking (Linux's intel_pasid_setup_dirty_tracking): switching it
 * on or off rewrites the PASID entries of the domain's devices and of its
 * nested domains' devices with SSADE set or clear; while set the unit
 * marks D (bit 9) in the leaves that DMA writes. read_and_clear_dirty
 * walks the leaves of the range: a leaf with D is recorded and, unless
 * NO_CLEAR, D is cleared by a compare-and-swap (a concurrent hardware
 * update is never lost), then the range is flushed so the next write
 * walks and sets D again.
 *
 * Nested domains (domain_alloc_nested): the data must be
 * IOMMU_HWPT_DATA_VTD_S1 (EOPNOTSUPP otherwise), the parent one of ours
 * allocated with NEST_PARENT (EINVAL); the blob is copied with the
 * project's iommu_copy_struct_from_user rules (shorter or longer than the
 * struct: EINVAL). As in
 * Linux 6.12, the fields are checked when a device attaches
 * (intel_pasid_setup_nested): addr_width 48, or 57 with CAP.FS5LP, else
 * EINVAL; SRE without ECAP.SRS, EAFE without ECAP.EAFS: EINVAL; WPE counts
 * only with SRE. A device on a dirty-tracking parent must track (EINVAL).
 * Their PASID entry: PGTT 011b, the parent's SSPTPTR / AW / SSADE, the
 * nested domain's own DID, FSPTPTR = pgtbl_addr, FSPM, SRE, WPE, EAFE.
 *
 * IOMMU_HWPT_INVALIDATE (cache_invalidate_user, Linux's
 * intel_nested_cache_invalidate_user): the array type must be
 * IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 (EINVAL); each entry is copied (its
 * errno), flags other than LEAF or a non-zero __reserved are EOPNOTSUPP,
 * an address not 4 KiB aligned, or npages = U64_MAX with a non-zero
 * address, EINVAL; a good entry flushes [addr, addr + npages * 4K) with
 * P_IOTLB for every (DID, PASID) the domain is attached as (npages =
 * U64_MAX: all of it), LEAF as IH. entry_num says how many entries were
 * handled, also on error.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hw/vtd/vtd_drv.h"
#include "util/alloc.h"
#include "util/epoch.h"

#define PAGING_FLAGS \
	(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID)
#define offsetofend(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))
#define SS_D		  BIT(9)

void vtd_make_pe(struct iommu_domain *domain, uint64_t pe[8])
{
	struct vtd_domain *s2;

	memset(pe, 0, 8 * sizeof(uint64_t));
	if (vtd_is_nested(domain)) {
		struct vtd_nested *n = to_vnest(domain);

		s2 = n->s2;
		pe[0] = PTE0_P | (uint64_t)VTD_SS_AW << PTE0_AW_SHIFT | 3ULL << PTE0_PGTT_SHIFT |
			(s2->pt.root & VTD_PTR_MASK) | (s2->dirty_on ? PTE0_SSADE : 0);
		pe[1] = n->did;
		pe[2] = (n->cfg.pgtbl_addr & VTD_PTR_MASK) |
			(n->cfg.addr_width == 57 ? PTE2_FSPM_5L : 0);
		if (n->cfg.flags & IOMMU_VTD_S1_SRE) {
			pe[2] |= PTE2_SRE;
			if (n->cfg.flags & IOMMU_VTD_S1_WPE)
				pe[2] |= PTE2_WPE;
		}
		if (n->cfg.flags & IOMMU_VTD_S1_EAFE)
			pe[2] |= PTE2_EAFE;
		return;
	}
	s2 = to_vdom(domain);
	pe[0] = PTE0_P | (uint64_t)VTD_SS_AW << PTE0_AW_SHIFT | 2ULL << PTE0_PGTT_SHIFT |
		(s2->pt.root & VTD_PTR_MASK) | (s2->dirty_on ? PTE0_SSADE : 0);
	pe[1] = s2->did;
}

/* Flush [iova, iova + size) of a paging domain and of its nested domains. v->lock held. */
static void s2_flush(struct vtd_domain *s2, uint64_t iova, uint64_t size)
{
	vtd_flush_iotlb(s2->v, s2->did, iova, size);
	for (struct vtd_nested *n = s2->children; n; n = n->next)
		vtd_flush_iotlb(s2->v, n->did, iova, size);
}

/* ---------------------------------------------------------------------- */
/* Paging domains                                                         */

struct iommu_domain *vtd_domain_alloc_paging(struct udev *dev, uint32_t flags,
					     const struct iommu_user_data *data, int *err)
{
	struct vtd_iommu *v;
	struct vtd_domain *s2;
	struct pt_cfg cfg;
	unsigned int sslps;
	int did, ret;

	if (!vtd_master_ours(dev)) {
		*err = -EINVAL;
		return NULL;
	}
	v = to_vmaster(dev)->v;
	if ((flags & ~PAGING_FLAGS) || data) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (((flags & IOMMU_HWPT_ALLOC_NEST_PARENT) && !(v->ecap & VTD_ECAP_NEST)) ||
	    ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
	     (!(v->ecap & VTD_ECAP_SLADS) || dev->no_dirty)) ||
	    !(v->ecap & VTD_ECAP_SSTS)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	s2 = uzalloc(sizeof(*s2));
	if (!s2) {
		*err = -ENOMEM;
		return NULL;
	}
	sslps = (unsigned int)((v->cap >> VTD_CAP_SSLPS_SHIFT) & 3);
	cfg = (struct pt_cfg){.format = PT_VTD_SS, .ias = VTD_SS_IAS, .oas = 48};
	if (!(sslps & 2))
		cfg.flags |= PT_CFG_NO_1G;
	if (!(sslps & 1))
		cfg.flags |= PT_CFG_NO_2M;
	ret = pt_cfg_init(&cfg);
	if (!ret)
		ret = pt_table_init(&s2->pt, &cfg, &pt_mem_host);
	if (ret) {
		ufree(s2);
		*err = ret;
		return NULL;
	}
	pthread_mutex_lock(&v->lock);
	did = vtd_did_alloc(v);
	pthread_mutex_unlock(&v->lock);
	if (did < 0) {
		pt_table_destroy(&s2->pt);
		ufree(s2);
		*err = did;
		return NULL;
	}
	s2->v = v;
	s2->did = (uint16_t)did;
	s2->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	s2->dirty_cap = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	pthread_mutex_init(&s2->lock, NULL);
	s2->domain = (struct iommu_domain){
		.type = IOMMU_DOMAIN_PAGING,
		.ops = &vtd_paging_ops,
		.iommu = &v->iommu,
		.pgsize_bitmap = SZ_4K | ((sslps & 1) ? SZ_2M : 0) | ((sslps & 2) ? SZ_1G : 0),
		.aperture_start = 0,
		.aperture_end = (1ULL << VTD_SS_IAS) - 1,
		.dirty_ops = s2->dirty_cap,
	};
	*err = 0;
	return &s2->domain;
}

static void vtd_paging_free(struct iommu_domain *domain)
{
	struct vtd_domain *s2 = to_vdom(domain);
	struct vtd_iommu *v = s2->v;

	vtd_report_barrier(v);
	/* The walk caches forget the tables before they are reused; the DID is clean for reuse. */
	epoch_hold();
	pt_table_destroy(&s2->pt);
	pthread_mutex_lock(&v->lock);
	vtd_flush_iotlb(v, s2->did, 0, 0);
	vtd_did_free(v, s2->did);
	pthread_mutex_unlock(&v->lock);
	epoch_release();
	pthread_mutex_destroy(&s2->lock);
	ufree(s2);
}

static int vtd_paging_attach(struct iommu_domain *domain, struct udev *dev)
{
	struct vtd_domain *s2 = to_vdom(domain);

	if (!vtd_master_ours(dev) || to_vmaster(dev)->v != s2->v)
		return -EINVAL;
	if (s2->dirty_cap && dev->no_dirty)
		return -EINVAL;
	return vtd_attach(dev, 0, domain);
}

static int vtd_paging_set_dev_pasid(struct iommu_domain *domain, struct udev *dev, uint32_t pasid,
				    struct iommu_domain *old)
{
	struct vtd_domain *s2 = to_vdom(domain);

	(void)old;
	if (!vtd_master_ours(dev) || to_vmaster(dev)->v != s2->v)
		return -EINVAL;
	if (s2->dirty_cap && dev->no_dirty)
		return -EINVAL;
	return vtd_attach(dev, pasid, domain);
}

static int vtd_map_pages(struct iommu_domain *domain, uint64_t iova, uint64_t paddr, size_t pgsize,
			 size_t pgcount, int prot, size_t *mapped)
{
	struct vtd_domain *s2 = to_vdom(domain);
	unsigned int pt_prot;
	uint64_t size;
	int ret;

	ret = iommu_map_pages_check(domain, iova, paddr, pgsize, pgcount, prot, &size, &pt_prot);
	if (ret)
		return ret;
	return iommu_pt_map(&s2->pt, &s2->lock, iova, paddr, size, pt_prot, mapped);
}

static size_t vtd_unmap_pages(struct iommu_domain *domain, uint64_t iova, size_t pgsize,
			      size_t pgcount)
{
	struct vtd_domain *s2 = to_vdom(domain);
	uint64_t unmapped;

	epoch_hold();
	unmapped = iommu_pt_unmap(&s2->pt, &s2->lock, iova, pgsize, pgcount);
	if (unmapped) {
		pthread_mutex_lock(&s2->v->lock);
		s2_flush(s2, iova, (uint64_t)pgsize * pgcount);
		pthread_mutex_unlock(&s2->v->lock);
	}
	epoch_release();
	return (size_t)unmapped;
}

static uint64_t vtd_iova_to_phys(struct iommu_domain *domain, uint64_t iova)
{
	return iommu_pt_iova_to_phys(&to_vdom(domain)->pt, iova);
}

static int vtd_set_dirty_tracking(struct iommu_domain *domain, bool enable)
{
	struct vtd_domain *s2 = to_vdom(domain);
	struct vtd_iommu *v = s2->v;

	if (!s2->dirty_cap)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	if (s2->dirty_on != enable) {
		s2->dirty_on = enable;
		vtd_reinstall(v, domain);
		for (struct vtd_nested *n = s2->children; n; n = n->next)
			vtd_reinstall(v, &n->domain);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* A second-stage leaf is dirty when the unit has set its D bit (SSADE). */
static int vtd_read_and_clear_dirty(struct iommu_domain *domain, uint64_t iova, size_t size,
				    unsigned long flags, struct iommu_dirty_bitmap *dirty)
{
	struct vtd_domain *s2 = to_vdom(domain);
	uint64_t inv_start, inv_last;

	if (!s2->dirty_cap)
		return -EINVAL;
	if (iommu_pt_collect_dirty(&s2->pt, &s2->lock, iova, size, flags, SS_D, SS_D, SS_D, dirty,
				   &inv_start, &inv_last)) {
		pthread_mutex_lock(&s2->v->lock);
		s2_flush(s2, inv_start, inv_last - inv_start + 1);
		pthread_mutex_unlock(&s2->v->lock);
	}
	return 0;
}

const struct iommu_domain_ops vtd_paging_ops = {
	.attach_dev = vtd_paging_attach,
	.set_dev_pasid = vtd_paging_set_dev_pasid,
	.map_pages = vtd_map_pages,
	.unmap_pages = vtd_unmap_pages,
	.iova_to_phys = vtd_iova_to_phys,
	.set_dirty_tracking = vtd_set_dirty_tracking,
	.read_and_clear_dirty = vtd_read_and_clear_dirty,
	.free = vtd_paging_free,
};

int vtd_iommu_domain_did(const struct iommu_domain *domain)
{
	if (vtd_is_paging(domain))
		return container_of(domain, struct vtd_domain, domain)->did;
	if (vtd_is_nested(domain))
		return container_of(domain, struct vtd_nested, domain)->did;
	return -EINVAL;
}

/* ---------------------------------------------------------------------- */
/* Nested domains                                                         */

struct iommu_domain *vtd_domain_alloc_nested(struct udev *dev, struct iommu_domain *parent,
					     uint32_t flags, const struct iommu_user_data *data,
					     int *err)
{
	struct iommu_hwpt_vtd_s1 cfg;
	struct vtd_domain *s2;
	struct vtd_nested *n;
	struct vtd_iommu *v;
	int did, ret;

	if (!vtd_master_ours(dev)) {
		*err = -EINVAL;
		return NULL;
	}
	v = to_vmaster(dev)->v;
	if ((flags & ~IOMMU_HWPT_ALLOC_PASID) || !data || data->type != IOMMU_HWPT_DATA_VTD_S1 ||
	    !(v->ecap & VTD_ECAP_NEST)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (!vtd_is_paging(parent) || !to_vdom(parent)->nest_parent || to_vdom(parent)->v != v) {
		*err = -EINVAL;
		return NULL;
	}
	s2 = to_vdom(parent);
	ret = iommu_copy_struct_from_user(&cfg, sizeof(cfg), offsetofend(typeof(cfg), __reserved),
					  data, IOMMU_HWPT_DATA_VTD_S1);
	if (ret) {
		*err = ret;
		return NULL;
	}
	n = uzalloc(sizeof(*n));
	if (!n) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&v->lock);
	did = vtd_did_alloc(v);
	if (did < 0) {
		pthread_mutex_unlock(&v->lock);
		ufree(n);
		*err = did;
		return NULL;
	}
	n->v = v;
	n->did = (uint16_t)did;
	n->s2 = s2;
	n->cfg = cfg;
	n->next = s2->children;
	s2->children = n;
	pthread_mutex_unlock(&v->lock);
	n->domain = (struct iommu_domain){
		.type = IOMMU_DOMAIN_NESTED,
		.ops = &vtd_nested_ops,
		.iommu = &v->iommu,
		.parent = parent,
	};
	*err = 0;
	return &n->domain;
}

static void vtd_nested_free(struct iommu_domain *domain)
{
	struct vtd_nested *n = to_vnest(domain), **pp;
	struct vtd_iommu *v = n->v;

	vtd_report_barrier(v);
	pthread_mutex_lock(&v->lock);
	for (pp = &n->s2->children; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	vtd_flush_iotlb(v, n->did, 0, 0);
	vtd_did_free(v, n->did);
	pthread_mutex_unlock(&v->lock);
	ufree(n);
}

/* Linux's intel_pasid_setup_nested checks, at attach. */
static int nested_check(struct vtd_nested *n, struct udev *dev)
{
	struct vtd_iommu *v = n->v;

	if (!vtd_master_ours(dev) || to_vmaster(dev)->v != v)
		return -EINVAL;
	if (n->s2->dirty_cap && dev->no_dirty)
		return -EINVAL;
	switch (n->cfg.addr_width) {
	case 48:
		break;
	case 57:
		if (!(v->cap & VTD_CAP_FS5LP))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if ((n->cfg.flags & IOMMU_VTD_S1_SRE) && !(v->ecap & VTD_ECAP_SRS))
		return -EINVAL;
	if ((n->cfg.flags & IOMMU_VTD_S1_EAFE) && !(v->ecap & VTD_ECAP_EAFS))
		return -EINVAL;
	return 0;
}

static int vtd_nested_attach(struct iommu_domain *domain, struct udev *dev)
{
	int ret = nested_check(to_vnest(domain), dev);

	return ret ? ret : vtd_attach(dev, 0, domain);
}

static int vtd_nested_set_dev_pasid(struct iommu_domain *domain, struct udev *dev, uint32_t pasid,
				    struct iommu_domain *old)
{
	int ret = nested_check(to_vnest(domain), dev);

	(void)old;
	return ret ? ret : vtd_attach(dev, pasid, domain);
}

static int vtd_nested_cache_invalidate_user(struct iommu_domain *domain,
					    struct iommu_user_data_array *array)
{
	struct vtd_nested *n = to_vnest(domain);
	struct iommu_hwpt_vtd_s1_invalidate inv;
	struct vtd_iommu *v = n->v;
	uint32_t index, done = 0;
	int ret = 0;

	if (array->type != IOMMU_HWPT_INVALIDATE_DATA_VTD_S1) {
		ret = -EINVAL;
		goto out;
	}
	for (index = 0; index < array->entry_num; index++) {
		uint64_t size;

		ret = iommu_copy_struct_from_user_array(&inv, sizeof(inv),
							offsetofend(typeof(inv), __reserved), array,
							IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, index);
		if (ret)
			break;
		if ((inv.flags & ~IOMMU_VTD_INV_FLAGS_LEAF) || inv.__reserved) {
			ret = -EOPNOTSUPP;
			break;
		}
		if (!IS_ALIGNED(inv.addr, SZ_4K) || (inv.npages == UINT64_MAX && inv.addr)) {
			ret = -EINVAL;
			break;
		}
		/* Everything (size 0) when the range does not fit 64 bits. */
		if (__builtin_mul_overflow(inv.npages, SZ_4K, &size) || range_wraps(inv.addr, size))
			size = 0;
		pthread_mutex_lock(&v->lock);
		for (struct vtd_attach *a = v->attached; a; a = a->next)
			if (a->domain == domain && (size || inv.npages))
				vtd_flush_piotlb(v, n->did, a->pasid, inv.addr, size,
						 inv.flags & IOMMU_VTD_INV_FLAGS_LEAF);
		pthread_mutex_unlock(&v->lock);
		done++;
	}
out:
	array->entry_num = done;
	return ret;
}

const struct iommu_domain_ops vtd_nested_ops = {
	.attach_dev = vtd_nested_attach,
	.set_dev_pasid = vtd_nested_set_dev_pasid,
	.cache_invalidate_user = vtd_nested_cache_invalidate_user,
	.free = vtd_nested_free,
};
