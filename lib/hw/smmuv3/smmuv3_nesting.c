// SPDX-License-Identifier: MIT
/*
 * smmuv3_nesting.c - two stages without a vIOMMU: the SMMUv3 driver's side
 * of the nested-stage VFIO extension (v13 VFIO over the v15 IOMMU part,
 * reference vfio.md §2.3-§2.7), on a stage-2 paging domain made with
 * NEST_PARENT (what a VFIO_TYPE1_NESTING_IOMMU container's devices sit in).
 *
 * What it owns: a nesting parent's guest stage-1 configuration (the guest's
 * CD table pointer and STE stage-1 fields, or "abort" / "bypass"), which
 * every device attached to the domain gets in its STE; the translation of
 * a guest's invalidations into commands; the guest's MSI doorbell binding;
 * and the conversion of the SMMU's event records into struct iommu_fault
 * for the device's fault handler (VFIO's DMA fault region).
 *
 * attach_pasid_table (after iommu_nested.c's generic checks): format not
 * SMMUv3, or config / smmuv3 version not 1: EINVAL; a domain that is not a
 * nesting parent of ours: EINVAL. ABORT: every device's STE aborts; BYPASS:
 * stage 2 only; TRANSLATE: EINVAL if a TRANSLATE configuration is set
 * already (no stage-1 to stage-1 change: unset, abort or bypass first),
 * EINVAL if pasid_bits exceeds an attached device's SSID bits, EINVAL for
 * 2-level 64K CD tables on an SMMU without CD2L; otherwise each STE becomes
 * Config nested: the stage-2 words, S1ContextPtr = base_ptr, S1Fmt,
 * S1CDMax = pasid_bits, S1DSS, MEV, S1STALLD for a device that cannot
 * stall (as a vIOMMU's nested domain), no S2S (stage-2 faults stay the
 * host's). detach_pasid_table: stage 2 only again. A device attached
 * later gets the same (smmuv3_nesting_apply).
 *
 * cache_invalidate. Linux's v15 driver translates IOTLB invalidations only
 * (ENOENT for the PASID cache and device IOTLB); this one also issues
 * CFGI_CD / CFGI_CD_ALL and ATC_INV, which is what a vSMMU forwards for
 * them on the vIOMMU path:
 *   IOTLB    DOMAIN: TLBI_NH_ALL of the VMID; PASID: the ARCHID flag
 *            required (EINVAL), a PASID without it ENOENT (the SMMU tags
 *            by ASID), TLBI_NH_ASID; ADDR: the PASID flag without ARCHID
 *            ENOENT, with ARCHID a power-of-two granule (EINVAL) and
 *            TLBI_NH_VA over nb_granules granules (range commands when RIL,
 *            Leaf from the LEAF flag; TLBI_NH_ASID beyond 63 commands), no
 *            ARCHID: TLBI_NH_ALL (Linux's "global" invalidation)
 *   DEV_IOTLB  ATC_INV of the device's SID (with the PASID when given;
 *            the whole ATC otherwise)
 *   PASID    DOMAIN: CFGI_CD_ALL of the SID; PASID: CFGI_CD of that SSID
 *            (the PASID flag required: EINVAL)
 * A domain that is not a nesting parent of ours: EINVAL.
 *
 * bind_guest_msi: the guest's stage 1 maps @giova to @gpa; the host maps
 * the page of @gpa in stage 2 to the doorbell page, write-only, so the
 * device's MSI write through both stages lands there. One binding per
 * domain: binding the same triple again is 0, another one EINVAL (the
 * IOMMU part keeps a single doorbell per nested domain); a gpa page that
 * stage 2 maps already (guest RAM, the SW_MSI window): EEXIST; size 0, a
 * range that wraps, or a gpa page outside stage 2's input range (the
 * domain's aperture): EINVAL. unbind of the bound giova unmaps it and
 * invalidates; any other giova is ignored.
 *
 * Where messages go (guest_msi_iova). With a TRANSLATE configuration a
 * device's MSI write is translated by both stages like any DMA (which is
 * why the extension has SET_MSI_BINDING): the host composes the message
 * with the bound giova's page when there is a binding, and with its own
 * doorbell IOVA (SMMUV3_MSI_IOVA_BASE) when there is none, which the
 * guest's stage 1 does not map, so the write faults at stage 1 (the
 * series' own description of the problem the binding solves). With ABORT
 * the STE aborts messages too. Stage 2 only (none, BYPASS): -ENOENT, the
 * host's doorbell mapping at SMMUV3_MSI_IOVA_BASE always translates.
 *
 * Fault records (smmuv3_nesting_report), for a device attached to a
 * domain with a TRANSLATE configuration and a registered fault handler,
 * stage-1 events only (S2 = 0: stage-2 faults are the host's): the
 * mapping of the series' "report non-recoverable faults" patch, F_TRANSLATION
 * -> PTE_FETCH, F_ADDR_SIZE -> OOR_ADDRESS, F_ACCESS -> ACCESS,
 * F_PERMISSION -> PERMISSION (ADDR_VALID, addr = InputAddr), C_BAD_SUBSTREAMID
 * -> PASID_INVALID, F_CD_FETCH -> PASID_FETCH (FETCH_ADDR_VALID), C_BAD_CD ->
 * BAD_PASID_ENTRY, F_WALK_EABT -> WALK_EABT; PASID_VALID with SSV; perm
 * READ (RnW) or WRITE, EXEC (InD), PRIV (PnU). A stalled event is a
 * PAGE_REQ (grpid STAG, LAST_PAGE, PASID_VALID with SSV); its response
 * comes back through page_response (CMD_RESUME).
 *
 * Locks: s2->lock guards the configuration and the binding; the STE
 * rewrite takes each master's lock (smmuv3_master_attach) with none held.
 * The caller (VFIO's container) serialises the ops of one domain.
 */
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>

#include "hw/smmuv3/smmuv3_drv.h"
#include "hw/smmuv3/smmuv3_priv.h"
#include "util/alloc.h"
#include "util/epoch.h"

#define STE0_S1FMT_SHIFT   4
#define STE0_S1CDMAX_SHIFT 59
#define CD_FMT_64K_L2	   2
#define EVT3_FETCH_MASK	   (((1ULL << 52) - 1) & ~7ULL)
#define CMD0_ASID_SHIFT	   48
#define CMD0_SSID_SHIFT	   12
#define CMD0_SSV	   (1ULL << 11)
#define CMD1_LEAF	   (1ULL << 0)
#define CMD1_ATC_SIZE_ALL  52 /* ATC_INV Size: 2^52 pages of 4K, everything */
#define INV_CMDS_MAX	   63

static bool nest_parent_of_ours(const struct iommu_domain *domain)
{
	return smmuv3_is_paging(domain) && to_s2(domain)->nest_parent;
}

/* ---------------------------------------------------------------------- */
/* The guest's stage-1 configuration                                      */

void smmuv3_nesting_apply(const struct smmuv3_master *master, struct smmuv3_domain *s2,
			  uint64_t ste[8])
{
	pthread_mutex_lock(&s2->lock);
	switch (s2->s1_config) {
	case IOMMU_PASID_CONFIG_ABORT:
		smmuv3_make_abort_ste(ste);
		break;
	case IOMMU_PASID_CONFIG_TRANSLATE:
		/* Stage-2 faults are the host's, never the guest's requests (unless forced). */
		if (!s2->smmu->stall_force)
			ste[2] &= ~STE2_S;
		ste[0] = STE0_V | (uint64_t)STE_CFG_NESTED << STE0_CFG_SHIFT |
			 (s2->s1_ctxptr & STE0_S1CTXPTR_MASK) |
			 ((uint64_t)s2->s1fmt << STE0_S1FMT_SHIFT & STE0_S1FMT_MASK) |
			 ((uint64_t)s2->s1cdmax << STE0_S1CDMAX_SHIFT & STE0_S1CDMAX_MASK);
		ste[1] |= ((uint64_t)s2->s1dss & STE1_S1DSS_MASK) | STE1_MEV;
		if (!master->can_stall && s2->smmu->stall && !s2->smmu->stall_force)
			ste[1] |= STE1_S1STALLD; /* ILLEGAL unless stall is configurable */
		break;
	default: /* none, BYPASS: stage 2 only */
		break;
	}
	pthread_mutex_unlock(&s2->lock);
}

/* Rewrite the STE of every device attached to @s2. */
static void reinstall_stes(struct smmuv3_domain *s2)
{
	struct smmuv3_iommu *smmu = s2->smmu;

	for (uint32_t sid = 0; sid < (1u << smmu->sid_bits); sid++) {
		struct smmuv3_master *master;
		uint64_t ste[8];

		pthread_mutex_lock(&smmu->lock);
		master = smmu->masters[sid];
		pthread_mutex_unlock(&smmu->lock);
		if (!master)
			continue;
		pthread_mutex_lock(&master->lock);
		if (master->domain != &s2->domain) {
			pthread_mutex_unlock(&master->lock);
			continue;
		}
		pthread_mutex_unlock(&master->lock);
		smmuv3_make_s2_ste(master, s2, ste);
		smmuv3_nesting_apply(master, s2, ste);
		smmuv3_master_attach(master, &s2->domain, s2, ste, NULL, 0);
	}
}

/* The smallest SSID width of the devices attached to @s2 (UINT_MAX: none). */
static unsigned int attached_ssid_bits(struct smmuv3_domain *s2)
{
	struct smmuv3_iommu *smmu = s2->smmu;
	unsigned int bits = UINT32_MAX;

	pthread_mutex_lock(&smmu->lock);
	for (uint32_t sid = 0; sid < (1u << smmu->sid_bits); sid++) {
		struct smmuv3_master *master = smmu->masters[sid];

		if (!master)
			continue;
		pthread_mutex_lock(&master->lock);
		if (master->domain == &s2->domain && master->udev.max_pasid_log2 < bits)
			bits = master->udev.max_pasid_log2;
		pthread_mutex_unlock(&master->lock);
	}
	pthread_mutex_unlock(&smmu->lock);
	return bits;
}

int smmuv3_attach_pasid_table(struct iommu_domain *domain,
			      const struct iommu_pasid_table_config *cfg)
{
	const struct iommu_pasid_smmuv3 *v = &cfg->vendor_data.smmuv3;
	struct smmuv3_domain *s2;
	int ret = 0;

	if (cfg->format != IOMMU_PASID_FORMAT_SMMUV3 || cfg->version != PASID_TABLE_CFG_VERSION_1 ||
	    v->version != PASID_TABLE_SMMUV3_CFG_VERSION_1)
		return -EINVAL;
	if (!nest_parent_of_ours(domain))
		return -EINVAL;
	s2 = to_s2(domain);
	if (cfg->config == IOMMU_PASID_CONFIG_TRANSLATE) {
		unsigned int bits = attached_ssid_bits(s2);

		if (bits != UINT32_MAX && cfg->pasid_bits > bits)
			return -EINVAL;
		if (v->s1fmt == CD_FMT_64K_L2 && !s2->smmu->cd2l)
			return -EINVAL;
	}
	pthread_mutex_lock(&s2->lock);
	switch (cfg->config) {
	case IOMMU_PASID_CONFIG_TRANSLATE:
		if (s2->s1_config == IOMMU_PASID_CONFIG_TRANSLATE) {
			ret = -EINVAL; /* no stage-1 to stage-1 transition */
			break;
		}
		s2->s1_ctxptr = cfg->base_ptr;
		s2->s1fmt = v->s1fmt;
		s2->s1cdmax = cfg->pasid_bits;
		s2->s1dss = v->s1dss;
		s2->s1_config = cfg->config;
		break;
	case IOMMU_PASID_CONFIG_BYPASS:
	case IOMMU_PASID_CONFIG_ABORT:
		s2->s1_config = cfg->config;
		break;
	default:
		ret = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&s2->lock);
	if (!ret)
		reinstall_stes(s2);
	return ret;
}

void smmuv3_detach_pasid_table(struct iommu_domain *domain)
{
	struct smmuv3_domain *s2;

	if (!nest_parent_of_ours(domain))
		return;
	s2 = to_s2(domain);
	pthread_mutex_lock(&s2->lock);
	s2->s1_config = 0;
	pthread_mutex_unlock(&s2->lock);
	reinstall_stes(s2);
}

/* ---------------------------------------------------------------------- */
/* Invalidation                                                           */

/* TLBI_NH_VA over [addr, addr + size) for @asid; 0 commands if it needs more than @max. */
static unsigned int nh_va_cmds(const struct smmuv3_domain *s2, uint16_t asid, uint64_t addr,
			       uint64_t size, bool leaf, uint64_t (*cmds)[2], unsigned int max)
{
	uint64_t cmd0 = SMMU_CMD_TLBI_NH_VA | (uint64_t)s2->vmid << CMD0_VMID_SHIFT |
			(uint64_t)asid << CMD0_ASID_SHIFT;
	uint64_t start = ALIGN_DOWN(addr, SZ_4K), pages, a;
	unsigned int n = 0;

	if (!size || range_wraps(addr, size))
		return 0;
	pages = (ALIGN_UP(addr + size, SZ_4K) - start) >> 12;
	if (s2->smmu->ril) {
		for (a = start; pages && n < max;) {
			unsigned int scale = (unsigned int)__builtin_ctzll(pages);
			uint64_t num = (pages >> scale) & 31;

			cmds[n][0] = cmd0 | (num - 1) << CMD0_NUM_SHIFT |
				     (uint64_t)scale << CMD0_SCALE_SHIFT;
			cmds[n++][1] = a | 1ULL << CMD1_TG_SHIFT | (leaf ? CMD1_LEAF : 0);
			a += num << (scale + 12);
			pages -= num << scale;
		}
		return pages ? 0 : n;
	}
	if (pages > max)
		return 0;
	for (a = start; n < pages; a += SZ_4K) {
		cmds[n][0] = cmd0;
		cmds[n++][1] = a | (leaf ? CMD1_LEAF : 0);
	}
	return n;
}

int smmuv3_cache_invalidate(struct iommu_domain *domain, struct udev *dev,
			    const struct iommu_cache_invalidate_info *inv)
{
	uint64_t cmds[INV_CMDS_MAX + 1][2];
	struct smmuv3_domain *s2;
	uint64_t vmid0, sid0;
	unsigned int n = 0;

	if (!nest_parent_of_ours(domain) || !smmuv3_master_ours(dev) ||
	    to_master(dev)->smmu != to_s2(domain)->smmu)
		return -EINVAL;
	if (inv->version != IOMMU_CACHE_INVALIDATE_INFO_VERSION_1)
		return -EINVAL;
	s2 = to_s2(domain);
	vmid0 = (uint64_t)s2->vmid << CMD0_VMID_SHIFT;
	sid0 = (uint64_t)dev->sid << CMD0_SID_SHIFT;

	if (inv->cache & IOMMU_CACHE_INV_TYPE_IOTLB) {
		const struct iommu_inv_pasid_info *pi = &inv->granu.pasid_info;
		const struct iommu_inv_addr_info *ai = &inv->granu.addr_info;
		bool all = false;

		switch (inv->granularity) {
		case IOMMU_INV_GRANU_DOMAIN:
			all = true;
			break;
		case IOMMU_INV_GRANU_PASID:
			if (!(pi->flags & IOMMU_INV_PASID_FLAGS_ARCHID))
				return pi->flags & IOMMU_INV_PASID_FLAGS_PASID ? -ENOENT : -EINVAL;
			cmds[n][0] = SMMU_CMD_TLBI_NH_ASID | vmid0 |
				     (uint64_t)(uint16_t)pi->archid << CMD0_ASID_SHIFT;
			cmds[n++][1] = 0;
			break;
		case IOMMU_INV_GRANU_ADDR: {
			uint64_t size;
			unsigned int k;

			if (!(ai->flags & IOMMU_INV_ADDR_FLAGS_ARCHID)) {
				if (ai->flags & IOMMU_INV_ADDR_FLAGS_PASID)
					return -ENOENT;
				all = true;
				break;
			}
			if (!ai->granule_size || (ai->granule_size & (ai->granule_size - 1)))
				return -EINVAL;
			if (__builtin_mul_overflow(ai->granule_size, ai->nb_granules, &size) ||
			    range_wraps(ai->addr, size))
				return -EINVAL;
			k = nh_va_cmds(s2, (uint16_t)ai->archid, ai->addr, size,
				       ai->flags & IOMMU_INV_ADDR_FLAGS_LEAF, cmds,
				       INV_CMDS_MAX - 2);
			if (!k && size) {
				/* Too many pages for commands: the whole ASID. */
				cmds[0][0] = SMMU_CMD_TLBI_NH_ASID | vmid0 |
					     (uint64_t)(uint16_t)ai->archid << CMD0_ASID_SHIFT;
				cmds[0][1] = 0;
				k = 1;
			}
			n += k;
			break;
		}
		}
		if (all) {
			cmds[n][0] = SMMU_CMD_TLBI_NH_ALL | vmid0;
			cmds[n++][1] = 0;
		}
	}
	/* ATC_INV is CERROR_ILL on an SMMU without ATS (and no device there has an ATC). */
	if ((inv->cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB) && s2->smmu->ats) {
		/* PASID or ADDR granularity (DOMAIN was refused by the IOMMU layer). */
		bool pasid = inv->granularity == IOMMU_INV_GRANU_PASID
				     ? inv->granu.pasid_info.flags & IOMMU_INV_PASID_FLAGS_PASID
				     : inv->granu.addr_info.flags & IOMMU_INV_ADDR_FLAGS_PASID;
		uint64_t ssid = inv->granularity == IOMMU_INV_GRANU_PASID
					? inv->granu.pasid_info.pasid
					: inv->granu.addr_info.pasid;

		cmds[n][0] = SMMU_CMD_ATC_INV | sid0 |
			     (pasid ? CMD0_SSV | (ssid & 0xfffff) << CMD0_SSID_SHIFT : 0);
		cmds[n++][1] = CMD1_ATC_SIZE_ALL;
	}
	if (inv->cache & IOMMU_CACHE_INV_TYPE_PASID) {
		/* DOMAIN or PASID granularity (ADDR was refused by the IOMMU layer). */
		if (inv->granularity == IOMMU_INV_GRANU_DOMAIN) {
			cmds[n][0] = SMMU_CMD_CFGI_CD_ALL | sid0;
			cmds[n++][1] = 0;
		} else {
			if (!(inv->granu.pasid_info.flags & IOMMU_INV_PASID_FLAGS_PASID))
				return -EINVAL;
			cmds[n][0] = SMMU_CMD_CFGI_CD | sid0 |
				     (inv->granu.pasid_info.pasid & 0xfffff) << CMD0_SSID_SHIFT;
			cmds[n++][1] = CMD1_LEAF;
		}
	}
	if (!n)
		return 0;
	return smmuv3_cmdq_issue(s2->smmu, (const uint64_t(*)[2])cmds, n, NULL);
}

/* ---------------------------------------------------------------------- */
/* The guest's MSI doorbell                                               */

int smmuv3_bind_guest_msi(struct iommu_domain *domain, uint64_t giova, uint64_t gpa, uint64_t size)
{
	struct smmuv3_domain *s2;
	int ret = 0;

	if (!nest_parent_of_ours(domain))
		return -EINVAL;
	if (!size || range_wraps(giova, size) || range_wraps(gpa, size))
		return -EINVAL;
	s2 = to_s2(domain);
	/* A doorbell IPA stage 2 cannot hold (the table would say ERANGE). */
	if (ALIGN_DOWN(gpa, SZ_4K) < domain->aperture_start ||
	    ALIGN_DOWN(gpa, SZ_4K) + SZ_4K - 1 > domain->aperture_end)
		return -EINVAL;
	pthread_mutex_lock(&s2->lock);
	if (s2->msi_bound) {
		if (s2->msi_giova != giova || s2->msi_gpa != gpa || s2->msi_size != size)
			ret = -EINVAL;
		goto out_unlock;
	}
	/* Write-only, like the SW_MSI doorbell mapping. */
	ret = pt_map(&s2->pt, ALIGN_DOWN(gpa, SZ_4K), (uint64_t)(uintptr_t)s2->smmu->msi_page,
		     SZ_4K, PT_PROT_W);
	if (ret)
		goto out_unlock;
	s2->msi_bound = true;
	s2->msi_giova = giova;
	s2->msi_gpa = gpa;
	s2->msi_size = size;
out_unlock:
	pthread_mutex_unlock(&s2->lock);
	return ret;
}

int smmuv3_guest_msi_iova(struct iommu_domain *domain, uint64_t *iova)
{
	struct smmuv3_domain *s2;
	int ret = -ENOENT;

	if (!nest_parent_of_ours(domain))
		return -ENOENT;
	s2 = to_s2(domain);
	pthread_mutex_lock(&s2->lock);
	if (s2->s1_config == IOMMU_PASID_CONFIG_TRANSLATE ||
	    s2->s1_config == IOMMU_PASID_CONFIG_ABORT) {
		*iova = s2->msi_bound ? ALIGN_DOWN(s2->msi_giova, SZ_4K) : SMMUV3_MSI_IOVA_BASE;
		ret = 0;
	}
	pthread_mutex_unlock(&s2->lock);
	return ret;
}

void smmuv3_unbind_guest_msi(struct iommu_domain *domain, uint64_t giova)
{
	struct smmuv3_domain *s2;
	uint64_t page = 0;
	bool unmap = false;

	if (!nest_parent_of_ours(domain))
		return;
	s2 = to_s2(domain);
	epoch_hold();
	pthread_mutex_lock(&s2->lock);
	if (s2->msi_bound && s2->msi_giova == giova) {
		page = ALIGN_DOWN(s2->msi_gpa, SZ_4K);
		pt_unmap(&s2->pt, page, SZ_4K, NULL);
		s2->msi_bound = false;
		unmap = true;
	}
	pthread_mutex_unlock(&s2->lock);
	if (unmap)
		smmuv3_s2_inv_range(s2, page, SZ_4K);
	epoch_release();
}

/* ---------------------------------------------------------------------- */
/* Fault records                                                          */

static int unrecov_reason(unsigned int type, uint32_t *flags)
{
	switch (type) {
	case SMMU_EVT_F_TRANSLATION:
		*flags |= IOMMU_FAULT_UNRECOV_ADDR_VALID;
		return IOMMU_FAULT_REASON_PTE_FETCH;
	case SMMU_EVT_F_ADDR_SIZE:
		*flags |= IOMMU_FAULT_UNRECOV_ADDR_VALID;
		return IOMMU_FAULT_REASON_OOR_ADDRESS;
	case SMMU_EVT_F_ACCESS:
		*flags |= IOMMU_FAULT_UNRECOV_ADDR_VALID;
		return IOMMU_FAULT_REASON_ACCESS;
	case SMMU_EVT_F_PERMISSION:
		*flags |= IOMMU_FAULT_UNRECOV_ADDR_VALID;
		return IOMMU_FAULT_REASON_PERMISSION;
	case SMMU_EVT_C_BAD_SUBSTREAMID:
		return IOMMU_FAULT_REASON_PASID_INVALID;
	case SMMU_EVT_F_CD_FETCH:
		*flags |= IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID;
		return IOMMU_FAULT_REASON_PASID_FETCH;
	case SMMU_EVT_C_BAD_CD:
		return IOMMU_FAULT_REASON_BAD_PASID_ENTRY;
	case SMMU_EVT_F_WALK_EABT:
		return IOMMU_FAULT_REASON_WALK_EABT;
	default:
		return -1;
	}
}

static uint32_t evt_perm(const uint64_t evt[4])
{
	uint32_t perm = evt[1] & EVT1_RNW ? IOMMU_FAULT_PERM_READ : IOMMU_FAULT_PERM_WRITE;

	if (evt[1] & EVT1_IND)
		perm |= IOMMU_FAULT_PERM_EXEC;
	if (evt[1] & EVT1_PNU)
		perm |= IOMMU_FAULT_PERM_PRIV;
	return perm;
}

int smmuv3_nesting_report(struct smmuv3_master *master, struct iommu_domain *domain,
			  const uint64_t evt[4])
{
	unsigned int type = evt[0] & 0xff;
	struct iommu_fault f;
	bool translate;
	int reason;

	if (!nest_parent_of_ours(domain) || (evt[1] & EVT1_S2))
		return -ENOENT;
	pthread_mutex_lock(&to_s2(domain)->lock);
	translate = to_s2(domain)->s1_config == IOMMU_PASID_CONFIG_TRANSLATE;
	pthread_mutex_unlock(&to_s2(domain)->lock);
	if (!translate || !iommu_device_has_fault_handler(&master->udev))
		return -ENOENT;

	memset(&f, 0, sizeof(f));
	if (evt[1] & EVT1_STALL) {
		if (!smmuv3_evt_is_xlate_fault(type))
			return -ENOENT;
		f.type = IOMMU_FAULT_PAGE_REQ;
		f.prm.flags = IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
		if (evt[0] & EVT0_SSV) {
			f.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;
			f.prm.pasid = (uint32_t)(evt[0] >> 12) & 0xfffff;
		}
		f.prm.grpid = (uint32_t)(evt[1] & EVT1_STAG_MASK);
		f.prm.perm = evt_perm(evt);
		f.prm.addr = evt[2];
	} else {
		reason = unrecov_reason(type, &f.event.flags);
		if (reason < 0)
			return -ENOENT;
		f.type = IOMMU_FAULT_DMA_UNRECOV;
		f.event.reason = (uint32_t)reason;
		if (evt[0] & EVT0_SSV) {
			f.event.flags |= IOMMU_FAULT_UNRECOV_PASID_VALID;
			f.event.pasid = (uint32_t)(evt[0] >> 12) & 0xfffff;
		}
		f.event.perm = evt_perm(evt);
		if (f.event.flags & IOMMU_FAULT_UNRECOV_ADDR_VALID)
			f.event.addr = evt[2];
		if (f.event.flags & IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID)
			f.event.fetch_addr = evt[3] & EVT3_FETCH_MASK;
	}
	return iommu_report_device_fault(&master->udev, &f);
}
