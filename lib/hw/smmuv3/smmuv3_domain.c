// SPDX-License-Identifier: MIT
/*
 * smmuv3_domain.c - the SMMUv3 driver's domains and the STEs and CDs they
 * make: paging domains of either stage (map, unmap, invalidation, dirty
 * tracking, the doorbell) and a vIOMMU's nested domains (the guest's STE
 * words over the vIOMMU's stage 2).
 *
 * Which stage (domain_alloc_paging_flags), as Linux's
 * arm_smmu_domain_alloc_paging_flags picks it (6.12 has the stage rule and
 * the dirty rule; the NEST_PARENT and PASID flags came with 6.13's
 * iommufd support and are taken from there):
 *   0                      stage 1 when IDR0.S1P, else stage 2;
 *   NEST_PARENT            stage 2; needs both stages (EOPNOTSUPP);
 *   DIRTY_TRACKING, PASID, stage 1; needs S1P (EOPNOTSUPP). Dirty
 *   or both                tracking also needs IDR0.HTTU = 0b10 and a
 *                          device that tracks: the core checks the
 *                          capability first (EOPNOTSUPP);
 *   any other combination  EOPNOTSUPP: NEST_PARENT with DIRTY_TRACKING
 *                          or PASID, unknown flags, driver data. A
 *                          stage 2 never tracks dirty state in Linux (6.12:
 *                          finalise refuses DIRTY_TRACKING on stage 2 with
 *                          EOPNOTSUPP), so a nesting parent cannot either.
 *
 * Stage 1 (Linux's ARM_64_LPAE_S1 io-pgtable): a VMSAv8-64 stage-1 table
 * (lib/pt, 4K granule, 48-bit VA, 48-bit OA, 4K / 2M / 1G leaves, nG,
 * EL0 and EL1 access), an ASID of its own (16 bits with IDR0.ASID16, 0
 * never handed out), VMID 0 in every command (no stage 2 on its
 * streams). Its CD (smmuv3_make_s1_cd): T0SZ 16, TG0 4K, IRGN0 / ORGN0
 * WBWA, SH0 inner, EPD1, V, IPS 48 bits, AA64, R, A, ASET, the ASID,
 * TTB0, MAIR attr 0 normal write-back; HA | HD with DIRTY_TRACKING; S
 * when the domain has a fault queue and the device can stall, and always
 * with STALL_MODEL 0b10 (stall forced: S = 0 is ILLEGAL). The STE
 * (smmuv3_make_cdtable_ste): Config S1 translate, S1ContextPtr of the
 * device's CD table (smmuv3_cd.c), S1Fmt, S1CDMax = the device's SSID
 * bits, S1DSS (SSID0: a RID on a stage-1 domain uses CD 0; terminate: a
 * blocked RID with PASIDs), S1CIR / S1COR WBRA, S1CSH inner, S1STALLD
 * when the SMMU's stall is configurable (0b00) and the device cannot
 * stall, EATS = 0b01 with ATS.
 * Unmap: TLBI_NH_VA (VMID 0, ASID) over the range (range commands with
 * IDR3.RIL), TLBI_NH_ASID above 1 GiB, CMD_SYNC, then CMD_ATC_INV to ATS
 * devices using it (the RID without SSV, each PASID with it). Free:
 * TLBI_NH_ASID, the ASID is free again. A stage-1 domain serves PASIDs
 * (set_dev_pasid, smmuv3_cd.c).
 *
 * Stage 2: a VMSAv8-64 stage-2 table (4K granule, 48-bit IPA, start level
 * chosen by lib/pt) and a VMID of its own. Its STE: Config S2 translate,
 * S2VMID, S2T0SZ 16, S2SL0 from the table, S2TG 4K, S2PS 48 bits, S2AA64,
 * S2R (record faults), S2PTW for a nesting parent; S2S when the domain
 * has a fault queue and the device can stall (stage-2 faults then become
 * page requests), and always with stall forced; EATS = 0b01 for a device
 * with ATS (whose IOPF is PRI instead), except with stall forced (EATS
 * 0b01 with S2S is ILLEGAL). A stage 2 serves no PASID (set_dev_pasid: EINVAL, as Linux);
 * a RID cannot move to one while PASIDs are attached (EBUSY).
 *
 * Map and unmap (the core's, under its lock for this domain; the doorbell
 * mapping, under the device's attach; both under s2->lock): map adds
 * leaves (nothing to invalidate: faults are never cached); unmap removes
 * them, then TLBI_S2_IPA over the range (range commands when IDR3.RIL,
 * TLBI_S12_VMALL for more than 1 GiB), TLBI_NH_ALL for the VMID when the
 * domain is a nesting parent (guest stage-1 entries were built over the old
 * stage 2), CMD_SYNC, and then CMD_ATC_INV of the range to each ATS
 * device translating through it (everything for a nested one) and
 * CMD_SYNC again. The tables unmap frees are retired only after that
 * invalidation (epoch_hold / epoch_release): the SMMU's walk caches may
 * hold their addresses until then.
 *
 * Dirty tracking (stage 1 only, as in Linux: IO_PGTABLE_QUIRK_ARM_HD).
 * The table is made with PT_CFG_DBM: writable leaves are stored
 * writable-clean (DBM, AP[2] set: read-only), and the CD's HA | HD let
 * the SMMU make them writable-dirty (AP[2] clear) on the first write.
 * set_dirty_tracking is a no-op (Linux's too: the hardware always tracks,
 * and the core clears stale state when tracking is switched on).
 * read_and_clear_dirty walks the leaves in the range
 * (iommu_pt_collect_dirty): a DBM leaf with AP[2] clear is dirty; its part
 * inside the range is recorded and, unless NO_CLEAR, AP[2] is set again by
 * a compare-and-swap (a concurrent hardware update is never lost), then
 * the range is invalidated so the next write walks and marks it again.
 *
 * Doorbell (smmuv3_msi_get / _put): the first device with MSIs attached
 * (its RID) through this domain maps the instance's doorbell page
 * write-only at SMMUV3_MSI_IOVA_BASE; the last one to leave unmaps it.
 * The core keeps the window out of the IOAS while a device is attached to
 * a paging HWPT (its reserved region); a nested attach finds an IOAS
 * mapping there and fails with EADDRINUSE.
 *
 * Nested domains (smmuv3_nested_alloc, for a vIOMMU). The data is struct
 * iommu_hwpt_arm_smmuv3 (EINVAL for another type or a short blob; flags
 * EOPNOTSUPP). Validation is Linux's arm_smmu_validate_vste(): V = 0 means
 * an abort STE (the words are zeroed); otherwise a bit outside V, Config,
 * S1Fmt, S1ContextPtr, S1CDMax (word 0) and S1DSS, S1CIR/COR/CSH, S1STALLD,
 * EATS (word 1) is EIO, a Config other than abort, bypass or stage-1
 * translate is EIO, EATS other than 0 or 1 is EIO; EATS = 1 (TRANS) reaches
 * the physical STE of a stage-1 translate attach when the device has ATS
 * (cleared otherwise, and for bypass). Attach builds the STE: abort; bypass
 * = the parent's stage-2 STE; stage-1 translate = the parent's stage-2 STE
 * with Config nested, the guest's words 0 and 1 ORed in, and MEV. On an
 * SMMU that can stall, a device that cannot gets S1STALLD whatever the
 * guest said (a guest CD.S = 1 is then C_BAD_CD, the architecture's answer
 * to CD.S with S1STALLD; Linux passes the guest's bit through), unless it
 * is an ATS device, whose Translation Requests never stall (the guest's
 * S1STALLD stands: CD.S = 1 under S1STALLD = 0 is legal, and its faults
 * go through PRI); without stall, and with stall forced, S1STALLD is
 * ILLEGAL, so it is cleared (and the guest's CD.S = 0 is C_BAD_CD). A
 * stage-1 translate attach needs the device's vDEVICE on the vIOMMU
 * (ENOENT), whose vSID its events will carry; abort and bypass do not
 * (Linux's GBPA case).
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_drv.h"
#include "hw/smmuv3/smmuv3_priv.h"
#include "util/alloc.h"
#include "util/epoch.h"
#include "util/log.h"

#define PAGING_FLAGS \
	(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID)
#define offsetofend(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))

/* VMSA descriptor bits read_and_clear_dirty looks at. */
#define S2_DESC_AP_W  (1ULL << 7) /* S2AP[1]: write */
#define S1_DESC_AP_RO (1ULL << 7) /* AP[2]: read-only */
#define DESC_DBM      (1ULL << 51)

/* Above this an unmap invalidates the whole VMID rather than the range. */
#define INV_RANGE_MAX SZ_1G

/* ---------------------------------------------------------------------- */
/* STEs                                                                   */

void smmuv3_make_abort_ste(uint64_t ste[8])
{
	memset(ste, 0, 8 * sizeof(uint64_t));
	ste[0] = STE0_V | (uint64_t)STE_CFG_ABORT << STE0_CFG_SHIFT;
}

void smmuv3_make_s2_ste(const struct smmuv3_master *master, const struct smmuv3_domain *s2,
			uint64_t ste[8])
{
	const struct pt_cfg *c = &s2->pt.cfg;

	memset(ste, 0, 8 * sizeof(uint64_t));
	ste[0] = STE0_V | (uint64_t)STE_CFG_S2_TRANS << STE0_CFG_SHIFT;
	ste[1] = STE1_SHCFG_INCOMING;
	ste[2] = s2->vmid | (uint64_t)(64 - c->ias) << STE2_T0SZ_SHIFT |
		 (uint64_t)c->sl0 << STE2_SL0_SHIFT | 0ULL << STE2_TG_SHIFT |
		 (uint64_t)SMMUV3_S2_PS_ENC << STE2_PS_SHIFT | STE2_AA64 | STE2_R;
	if (s2->nest_parent)
		ste[2] |= STE2_PTW;
	if (s2->dirty)
		ste[2] |= STE2_HA | STE2_HD;
	if ((master->can_stall && __atomic_load_n(&s2->domain.sink, __ATOMIC_ACQUIRE)) ||
	    master->smmu->stall_force)
		ste[2] |= STE2_S;
	/*
	 * Translation requests served: full ATS (never with S2S: a device that
	 * can stall has no ATS; with stall forced, S2S is needed and EATS 0b01
	 * ILLEGAL with it, so a stage 2 serves no Translation Request).
	 */
	if (master->ats && !master->smmu->stall_force)
		ste[1] |= STE1_EATS_TRANS;
	ste[3] = s2->pt.root & STE3_S2TTB_MASK;
}

void smmuv3_make_s1_cd(const struct smmuv3_master *master, const struct smmuv3_domain *s1,
		       uint64_t cd[8])
{
	const struct pt_cfg *c = &s1->pt.cfg;

	memset(cd, 0, 8 * sizeof(uint64_t));
	cd[0] = (uint64_t)(64 - c->ias) << CD0_T0SZ_SHIFT | CD0_IRGN0_WBWA | CD0_ORGN0_WBWA |
		CD0_SH0_ISH | CD0_EPD1 | CD0_V | (uint64_t)SMMUV3_S2_PS_ENC << CD0_IPS_SHIFT |
		CD0_AA64 | CD0_R | CD0_A | CD0_ASET | (uint64_t)s1->asid << CD0_ASID_SHIFT;
	if (s1->dirty)
		cd[0] |= CD0_HA | CD0_HD;
	if ((master->can_stall && __atomic_load_n(&s1->domain.sink, __ATOMIC_ACQUIRE)) ||
	    master->smmu->stall_force)
		cd[0] |= CD0_S; /* stall forced: S = 0 is ILLEGAL */
	cd[1] = s1->pt.root & CD1_TTB0_MASK;
	cd[3] = CD3_MAIR_NORMAL;
}

void smmuv3_make_cdtable_ste(const struct smmuv3_master *master, unsigned int s1dss,
			     uint64_t ste[8])
{
	const struct smmuv3_cdtab *cd = &master->cd;

	memset(ste, 0, 8 * sizeof(uint64_t));
	ste[0] = STE0_V | (uint64_t)STE_CFG_S1_TRANS << STE0_CFG_SHIFT |
		 (uint64_t)cd->fmt << STE0_S1FMT_SHIFT |
		 ((uint64_t)(uintptr_t)cd->base & STE0_S1CTXPTR_MASK) |
		 (uint64_t)cd->cdmax << STE0_S1CDMAX_SHIFT;
	ste[1] = (uint64_t)s1dss | STE1_S1C_WBRA_ISH;
	/*
	 * Stall is the CD's to ask for (CD.S); a device that cannot take it
	 * never gets it. S1STALLD is ILLEGAL unless stall is configurable.
	 */
	if (master->smmu->stall && !master->smmu->stall_force && !master->can_stall)
		ste[1] |= STE1_S1STALLD;
	if (master->ats)
		ste[1] |= STE1_EATS_TRANS;
}

/* ---------------------------------------------------------------------- */
/* Invalidation                                                           */

/*
 * CMD_ATC_INV for [iova, iova + size) to every ATS device translating
 * through @s2, + SYNC. One command per device: the smallest aligned
 * power-of-two span of 4K pages holding the range (Linux's
 * arm_smmu_atc_inv_to_cmd); everything for a device nested over @s2 (its
 * ATC holds guest addresses, not IPAs).
 */
static void s2_atc_inv(struct smmuv3_domain *s2, uint64_t iova, uint64_t size)
{
	struct smmuv3_iommu *smmu = s2->smmu;
	uint64_t first = iova >> 12, last = (iova + size - 1) >> 12, cmds[32][2];
	unsigned int span = 0, n = 0;
	uint32_t nsids = 1u << smmu->sid_bits;

	if (!smmu->ats_slots)
		return;
	if (size > INV_RANGE_MAX || range_wraps(iova, size))
		span = CMD_ATC_SIZE_ALL;
	else
		while ((first >> span) != (last >> span))
			span++;
	/* Chunks of up to 32 commands; ats_lock (a leaf) is never held across a command. */
	for (uint32_t sid = 0; sid < nsids;) {
		pthread_mutex_lock(&smmu->ats_lock);
		if (!smmu->nr_ats_devs)
			sid = nsids;
		for (n = 0; sid < nsids && n < 32; sid++) {
			const struct smmuv3_ats_slot *slot = &smmu->ats_slots[sid];

			if (!slot->ep || slot->s2 != s2)
				continue;
			cmds[n][0] = SMMU_CMD_ATC_INV | (uint64_t)sid << CMD0_SID_SHIFT;
			cmds[n++][1] = slot->nested || span >= CMD_ATC_SIZE_ALL
					       ? CMD_ATC_SIZE_ALL
					       : (first >> span << span << 12) | span;
		}
		pthread_mutex_unlock(&smmu->ats_lock);
		if (n) {
			stat_add(&smmu->stats.atc_invs, n);
			smmuv3_cmdq_issue(smmu, (const uint64_t(*)[2])cmds, n, NULL);
		}
	}
}

void smmuv3_s2_inv_range(struct smmuv3_domain *s2, uint64_t iova, uint64_t size)
{
	struct smmuv3_iommu *smmu = s2->smmu;
	/* A stage 1: VMID 0 and its ASID, NH_VA over the range, NH_ASID for all of it. */
	uint64_t vmid0 = s2->s1 ? (uint64_t)s2->asid << CMD0_ASID_SHIFT
				: (uint64_t)s2->vmid << CMD0_VMID_SHIFT;
	uint64_t op_all = s2->s1 ? SMMU_CMD_TLBI_NH_ASID : SMMU_CMD_TLBI_S12_VMALL;
	uint64_t op_range = s2->s1 ? SMMU_CMD_TLBI_NH_VA : SMMU_CMD_TLBI_S2_IPA;
	uint64_t cmds[64][2];
	unsigned int n = 0;

	if (!size)
		return;
	if (size > INV_RANGE_MAX || range_wraps(iova, size)) {
		cmds[n][0] = op_all | vmid0;
		cmds[n++][1] = 0;
	} else if (smmu->ril) {
		/* (NUM + 1) << SCALE pages of 4K from iova, as Linux's __arm_smmu_tlb_inv_range. */
		uint64_t pages = (ALIGN_UP(iova + size, SZ_4K) - ALIGN_DOWN(iova, SZ_4K)) >> 12;
		uint64_t addr = ALIGN_DOWN(iova, SZ_4K);

		while (pages && n < 63) {
			unsigned int scale = (unsigned int)__builtin_ctzll(pages);
			uint64_t num = (pages >> scale) & 31;

			cmds[n][0] = op_range | vmid0 | (num - 1) << CMD0_NUM_SHIFT |
				     (uint64_t)scale << CMD0_SCALE_SHIFT;
			cmds[n++][1] = addr | 1ULL << CMD1_TG_SHIFT;
			addr += num << (scale + 12);
			pages -= num << scale;
		}
		if (pages) {
			n = 0;
			cmds[n][0] = op_all | vmid0;
			cmds[n++][1] = 0;
		}
	} else {
		for (uint64_t a = ALIGN_DOWN(iova, SZ_4K); a < iova + size && n < 63; a += SZ_4K) {
			cmds[n][0] = op_range | vmid0;
			cmds[n++][1] = a;
		}
		if (ALIGN_DOWN(iova, SZ_4K) + (uint64_t)n * SZ_4K < iova + size) {
			n = 0;
			cmds[n][0] = op_all | vmid0;
			cmds[n++][1] = 0;
		}
	}
	/* Guest stage-1 entries over this stage 2 are gone too (Linux: NH_ALL for a parent). */
	if (s2->nest_parent) {
		cmds[n][0] = SMMU_CMD_TLBI_NH_ALL | vmid0;
		cmds[n++][1] = 0;
	}
	smmuv3_cmdq_issue(smmu, (const uint64_t(*)[2])cmds, n, NULL);
	/* Then, the SMMU's own caches clean (§4.5.1), the ATCs of the devices on it. */
	s2_atc_inv(s2, iova, size);
	if (s2->s1)
		smmuv3_s1_pasid_atc_inv(s2, iova, size);
}

/* ---------------------------------------------------------------------- */
/* Paging domains                                                         */

/* The stage Linux picks for @flags: 1 or 2, or -EOPNOTSUPP. */
static int pick_stage(const struct smmuv3_iommu *smmu, uint32_t flags)
{
	switch (flags) {
	case 0:
		return smmu->s1p ? 1 : 2;
	case IOMMU_HWPT_ALLOC_NEST_PARENT:
		return smmu->s1p && smmu->s2p ? 2 : -EOPNOTSUPP;
	case IOMMU_HWPT_ALLOC_DIRTY_TRACKING:
	case IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID:
	case IOMMU_HWPT_ALLOC_PASID:
		return smmu->s1p ? 1 : -EOPNOTSUPP;
	default:
		return -EOPNOTSUPP;
	}
}

struct iommu_domain *smmuv3_domain_alloc_paging(struct udev *dev, uint32_t flags,
						const struct iommu_user_data *data, int *err)
{
	struct smmuv3_iommu *smmu;
	struct smmuv3_domain *s2;
	struct pt_cfg cfg;
	int id, ret, stage;

	if (!smmuv3_master_ours(dev)) {
		*err = -EINVAL;
		return NULL;
	}
	smmu = to_master(dev)->smmu;
	stage = (flags & ~PAGING_FLAGS) || data ? -EOPNOTSUPP : pick_stage(smmu, flags);
	if (stage < 0) {
		*err = stage;
		return NULL;
	}
	if ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) && (!smmu->httu_dirty || dev->no_dirty)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	s2 = uzalloc(sizeof(*s2));
	if (!s2) {
		*err = -ENOMEM;
		return NULL;
	}
	cfg = (struct pt_cfg){.format = stage == 1 ? PT_VMSA_S1 : PT_VMSA_S2,
			      .granule_shift = 12,
			      .ias = stage == 1 ? SMMUV3_S1_IAS : SMMUV3_S2_IAS,
			      .oas = SMMUV3_S2_OAS,
			      .sl0 = -1};
	if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING)
		cfg.flags |= PT_CFG_DBM;
	ret = pt_cfg_init(&cfg);
	if (!ret)
		ret = pt_table_init(&s2->pt, &cfg, &pt_mem_host);
	if (ret) {
		ufree(s2);
		*err = ret;
		return NULL;
	}
	id = stage == 1 ? smmuv3_asid_alloc(smmu) : smmuv3_vmid_alloc(smmu);
	if (id < 0) {
		pt_table_destroy(&s2->pt);
		ufree(s2);
		*err = id;
		return NULL;
	}
	s2->smmu = smmu;
	s2->s1 = stage == 1;
	if (s2->s1)
		s2->asid = (uint16_t)id;
	else
		s2->vmid = (uint16_t)id;
	s2->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	s2->dirty = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	pthread_mutex_init(&s2->lock, NULL);
	pthread_mutex_init(&s2->users_lock, NULL);
	s2->domain = (struct iommu_domain){
		.type = IOMMU_DOMAIN_PAGING,
		.ops = &smmuv3_paging_ops,
		.iommu = &smmu->iommu,
		.pgsize_bitmap = SMMUV3_PGSIZES,
		.aperture_start = 0,
		.aperture_end = (1ULL << cfg.ias) - 1,
		.dirty_ops = s2->dirty,
	};
	*err = 0;
	return &s2->domain;
}

static void smmuv3_paging_free(struct iommu_domain *domain)
{
	struct smmuv3_domain *s2 = to_s2(domain);
	struct smmuv3_iommu *smmu = s2->smmu;

	/* No event delivery may still be looking at it. */
	pthread_rwlock_wrlock(&smmu->report_lock);
	pthread_rwlock_unlock(&smmu->report_lock);
	if (s2->msi_users)
		ulog_warn("%s: stage-2 domain freed with %u devices on its doorbell", smmu->name,
			  s2->msi_users);
	if (s2->nr_pasid_users)
		ulog_warn("%s: stage-1 domain freed with %u PASIDs on it", smmu->name,
			  s2->nr_pasid_users);
	/*
	 * The walk caches forget the tables before they are reused; the VMID
	 * (ASID) is clean for reuse.
	 */
	epoch_hold();
	pt_table_destroy(&s2->pt);
	if (s2->s1)
		smmuv3_cmdq_issue_one(
			smmu, SMMU_CMD_TLBI_NH_ASID | (uint64_t)s2->asid << CMD0_ASID_SHIFT, 0);
	else
		smmuv3_cmdq_issue_one(
			smmu, SMMU_CMD_TLBI_S12_VMALL | (uint64_t)s2->vmid << CMD0_VMID_SHIFT, 0);
	epoch_release();
	if (s2->s1)
		smmuv3_asid_free(smmu, s2->asid);
	else
		smmuv3_vmid_free(smmu, s2->vmid);
	ufree(s2->pasid_users);
	pthread_mutex_destroy(&s2->users_lock);
	pthread_mutex_destroy(&s2->lock);
	ufree(s2);
}

static int smmuv3_paging_attach(struct iommu_domain *domain, struct udev *dev)
{
	struct smmuv3_domain *s2 = to_s2(domain);
	struct smmuv3_master *master;
	uint64_t ste[8];

	if (!smmuv3_master_ours(dev) || to_master(dev)->smmu != s2->smmu)
		return -EINVAL;
	master = to_master(dev);
	if (s2->dirty && dev->no_dirty)
		return -EINVAL;
	if (s2->s1) /* the STE and CD 0 come from the device's CD table */
		return smmuv3_master_attach(master, domain, s2, NULL, NULL, 0);
	smmuv3_make_s2_ste(master, s2, ste);
	smmuv3_nesting_apply(master, s2, ste);
	return smmuv3_master_attach(master, domain, s2, ste, NULL, 0);
}

static int smmuv3_map_pages(struct iommu_domain *domain, uint64_t iova, uint64_t paddr,
			    size_t pgsize, size_t pgcount, int prot, size_t *mapped)
{
	struct smmuv3_domain *s2 = to_s2(domain);
	unsigned int pt_prot;
	uint64_t size;
	int ret;

	ret = iommu_map_pages_check(domain, iova, paddr, pgsize, pgcount, prot, &size, &pt_prot);
	if (ret)
		return ret;
	if (!(prot & IOMMU_NOEXEC))
		pt_prot |= PT_PROT_X;
	/* Stage 1: EL0 may use it too (Linux's ARM_LPAE_PTE_AP_UNPRIV without IOMMU_PRIV). */
	if (s2->s1)
		pt_prot |= PT_PROT_U;
	return iommu_pt_map(&s2->pt, &s2->lock, iova, paddr, size, pt_prot, mapped);
}

static size_t smmuv3_unmap_pages(struct iommu_domain *domain, uint64_t iova, size_t pgsize,
				 size_t pgcount)
{
	struct smmuv3_domain *s2 = to_s2(domain);
	uint64_t unmapped;

	epoch_hold();
	unmapped = iommu_pt_unmap(&s2->pt, &s2->lock, iova, pgsize, pgcount);
	if (unmapped)
		smmuv3_s2_inv_range(s2, iova, (uint64_t)pgsize * pgcount);
	epoch_release();
	return (size_t)unmapped;
}

static uint64_t smmuv3_iova_to_phys(struct iommu_domain *domain, uint64_t iova)
{
	return iommu_pt_iova_to_phys(&to_s2(domain)->pt, iova);
}

static int smmuv3_set_dirty_tracking(struct iommu_domain *domain, bool enable)
{
	/* The hardware always tracks a DIRTY_TRACKING domain (Linux's is a no-op too). */
	if (enable && !domain->dirty_ops)
		return -EINVAL;
	return 0;
}

/*
 * A stage-1 leaf with DBM set is writable-clean while AP[2] is set and
 * dirty once the SMMU has cleared it (HTTU); cleaning sets AP[2] again. (A
 * stage-2 leaf, were one tracked, is dirty with S2AP[W] set.)
 */
static int smmuv3_read_and_clear_dirty(struct iommu_domain *domain, uint64_t iova, size_t size,
				       unsigned long flags, struct iommu_dirty_bitmap *dirty)
{
	struct smmuv3_domain *s2 = to_s2(domain);
	uint64_t inv_start, inv_last;
	bool cleaned;

	if (!s2->dirty)
		return -EINVAL;
	if (s2->s1)
		cleaned = iommu_pt_collect_dirty(&s2->pt, &s2->lock, iova, size, flags,
						 DESC_DBM | S1_DESC_AP_RO, DESC_DBM, S1_DESC_AP_RO,
						 dirty, &inv_start, &inv_last);
	else
		cleaned = iommu_pt_collect_dirty(&s2->pt, &s2->lock, iova, size, flags,
						 DESC_DBM | S2_DESC_AP_W, DESC_DBM | S2_DESC_AP_W,
						 S2_DESC_AP_W, dirty, &inv_start, &inv_last);
	/* Cached writable translations must go, or the next write would not mark the leaf. */
	if (cleaned)
		smmuv3_s2_inv_range(s2, inv_start, inv_last - inv_start + 1);
	return 0;
}

const struct iommu_domain_ops smmuv3_paging_ops = {
	.attach_dev = smmuv3_paging_attach,
	.set_dev_pasid = smmuv3_set_dev_pasid,
	.map_pages = smmuv3_map_pages,
	.unmap_pages = smmuv3_unmap_pages,
	.iova_to_phys = smmuv3_iova_to_phys,
	.set_dirty_tracking = smmuv3_set_dirty_tracking,
	.read_and_clear_dirty = smmuv3_read_and_clear_dirty,
	.attach_pasid_table = smmuv3_attach_pasid_table,
	.detach_pasid_table = smmuv3_detach_pasid_table,
	.cache_invalidate = smmuv3_cache_invalidate,
	.bind_guest_msi = smmuv3_bind_guest_msi,
	.unbind_guest_msi = smmuv3_unbind_guest_msi,
	.guest_msi_iova = smmuv3_guest_msi_iova,
	.free = smmuv3_paging_free,
};

int smmuv3_iommu_domain_vmid(const struct iommu_domain *domain)
{
	if (smmuv3_is_paging(domain))
		return to_s2(domain)->vmid; /* 0 for a stage 1 */
	if (smmuv3_is_nested(domain))
		return to_nested(domain)->vsmmu->vmid;
	return -EINVAL;
}

int smmuv3_iommu_domain_asid(const struct iommu_domain *domain)
{
	if (smmuv3_is_paging(domain) && to_s2(domain)->s1)
		return to_s2(domain)->asid;
	return -EINVAL;
}

/* ---------------------------------------------------------------------- */
/* The doorbell                                                           */

int smmuv3_msi_get(struct smmuv3_domain *s2)
{
	int ret = 0;

	pthread_mutex_lock(&s2->lock);
	if (!s2->msi_users) {
		/* Write-only, like Linux's MSI page (IOMMU_WRITE | IOMMU_MMIO). */
		ret = pt_map(&s2->pt, SMMUV3_MSI_IOVA_BASE, (uint64_t)(uintptr_t)s2->smmu->msi_page,
			     SZ_4K, PT_PROT_W);
		if (ret == -EEXIST)
			ret = -EADDRINUSE; /* the IOAS maps something in the window */
	}
	if (!ret)
		s2->msi_users++;
	pthread_mutex_unlock(&s2->lock);
	return ret;
}

void smmuv3_msi_put(struct smmuv3_domain *s2)
{
	bool unmap;

	epoch_hold();
	pthread_mutex_lock(&s2->lock);
	unmap = !--s2->msi_users;
	if (unmap)
		pt_unmap(&s2->pt, SMMUV3_MSI_IOVA_BASE, SZ_4K, NULL);
	pthread_mutex_unlock(&s2->lock);
	if (unmap)
		smmuv3_s2_inv_range(s2, SMMUV3_MSI_IOVA_BASE, SZ_4K);
	epoch_release();
}

/* ---------------------------------------------------------------------- */
/* Nested domains                                                         */

/* Linux's arm_smmu_validate_vste(): 0, or -EIO for what a guest may not ask. */
static int validate_vste(uint64_t ste[2])
{
	unsigned int cfg, eats;

	if (!(ste[0] & STE0_V)) {
		ste[0] = ste[1] = 0; /* an invalid STE: abort */
		return 0;
	}
	if ((ste[0] & ~STE0_NESTING_ALLOWED) || (ste[1] & ~STE1_NESTING_ALLOWED))
		return -EIO;
	cfg = (unsigned int)((ste[0] & STE0_CFG_MASK) >> STE0_CFG_SHIFT);
	if (cfg != STE_CFG_ABORT && cfg != STE_CFG_BYPASS && cfg != STE_CFG_S1_TRANS)
		return -EIO;
	eats = (unsigned int)((ste[1] & STE1_EATS_MASK) >> STE1_EATS_SHIFT);
	if (eats > 1) /* ABT or TRANS only */
		return -EIO;
	/* Kept: attach honours TRANS for a device that has ATS, and clears it otherwise. */
	return 0;
}

struct iommu_domain *smmuv3_nested_alloc(struct smmuv3_vsmmu *vsmmu, uint32_t flags,
					 const struct iommu_user_data *data, int *err)
{
	struct iommu_hwpt_arm_smmuv3 arg;
	struct smmuv3_nested *nested;
	uint64_t ste[2];
	int ret;

	if (flags) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	ret = iommu_copy_struct_from_user(&arg, sizeof(arg),
					  offsetofend(struct iommu_hwpt_arm_smmuv3, ste), data,
					  IOMMU_HWPT_DATA_ARM_SMMUV3);
	if (ret) {
		*err = ret;
		return NULL;
	}
	ste[0] = le64toh(arg.ste[0]);
	ste[1] = le64toh(arg.ste[1]);
	ret = validate_vste(ste);
	if (ret) {
		*err = ret;
		return NULL;
	}
	nested = uzalloc(sizeof(*nested));
	if (!nested) {
		*err = -ENOMEM;
		return NULL;
	}
	nested->vsmmu = vsmmu;
	nested->ste[0] = ste[0];
	nested->ste[1] = ste[1];
	nested->domain = (struct iommu_domain){
		.type = IOMMU_DOMAIN_NESTED,
		.ops = &smmuv3_nested_ops,
		.iommu = &vsmmu->smmu->iommu,
		.parent = &vsmmu->s2->domain,
		.aperture_start = vsmmu->s2->domain.aperture_start,
		.aperture_end = vsmmu->s2->domain.aperture_end,
	};
	*err = 0;
	return &nested->domain;
}

static unsigned int nested_cfg(const struct smmuv3_nested *nested)
{
	if (!(nested->ste[0] & STE0_V))
		return STE_CFG_ABORT;
	return (unsigned int)((nested->ste[0] & STE0_CFG_MASK) >> STE0_CFG_SHIFT);
}

static int smmuv3_nested_attach(struct iommu_domain *domain, struct udev *dev)
{
	struct smmuv3_nested *nested = to_nested(domain);
	struct smmuv3_vsmmu *vsmmu = nested->vsmmu;
	unsigned int cfg = nested_cfg(nested);
	struct smmuv3_master *master;
	uint32_t vsid = 0;
	uint64_t ste[8];
	bool vmaster;

	if (!smmuv3_master_ours(dev) || to_master(dev)->smmu != vsmmu->smmu)
		return -EINVAL;
	master = to_master(dev);
	if (vsmmu->s2->dirty && dev->no_dirty)
		return -EINVAL;
	/* CD invalidations and vEVENTs need the vSID: translating needs a vDEVICE. */
	vmaster = !smmuv3_vsmmu_vsid(vsmmu, master, &vsid);
	if (!vmaster && cfg == STE_CFG_S1_TRANS)
		return -ENOENT;

	switch (cfg) {
	case STE_CFG_S1_TRANS:
		smmuv3_make_s2_ste(master, vsmmu->s2, ste);
		/* EATS as the guest's vSTE asks, when the device has ATS (Linux: enable_ats). */
		/* Stage-2 faults are the host's, never the guest's requests (unless forced). */
		if (!master->smmu->stall_force)
			ste[2] &= ~STE2_S;
		ste[0] = STE0_V | (uint64_t)STE_CFG_NESTED << STE0_CFG_SHIFT |
			 (nested->ste[0] & ~STE0_CFG_MASK);
		ste[1] &= ~STE1_EATS_MASK;
		if (master->ats && !master->smmu->stall_force) /* EATS 0b01 with S2S: ILLEGAL */
			ste[1] |= nested->ste[1] & STE1_EATS_MASK;
		ste[1] |= (nested->ste[1] & ~STE1_EATS_MASK) | STE1_MEV;
		/*
		 * S1STALLD is ILLEGAL unless stall is configurable: only then is
		 * it ours to set. A device that cannot stall gets it (a guest
		 * CD.S = 1 is then C_BAD_CD, not a stall nobody can take), except
		 * an ATS device: it sends only Translation Requests and Translated
		 * transactions, and a Translation Request never stalls (its
		 * translation fault is in the completion, unrecorded, and the
		 * device asks with PRI). The guest's S1STALLD stands for it, so
		 * that its CD.S = 1 under S1STALLD = 0, which the architecture
		 * allows, works as on hardware instead of being C_BAD_CD.
		 */
		if (!master->smmu->stall || master->smmu->stall_force)
			ste[1] &= ~STE1_S1STALLD;
		else if (!master->can_stall && !master->ats)
			ste[1] |= STE1_S1STALLD;
		break;
	case STE_CFG_BYPASS:
		smmuv3_make_s2_ste(master, vsmmu->s2, ste);
		if (!master->smmu->stall_force)
			ste[2] &= ~STE2_S;
		ste[1] &= ~STE1_EATS_MASK;
		break;
	default:
		smmuv3_make_abort_ste(ste);
		break;
	}
	return smmuv3_master_attach(master, domain, cfg == STE_CFG_ABORT ? NULL : vsmmu->s2, ste,
				    vmaster ? vsmmu : NULL, vsid);
}

static void smmuv3_nested_free(struct iommu_domain *domain)
{
	struct smmuv3_nested *nested = to_nested(domain);
	struct smmuv3_iommu *smmu = nested->vsmmu->smmu;

	pthread_rwlock_wrlock(&smmu->report_lock);
	pthread_rwlock_unlock(&smmu->report_lock);
	ufree(nested);
}

const struct iommu_domain_ops smmuv3_nested_ops = {
	.attach_dev = smmuv3_nested_attach,
	.free = smmuv3_nested_free,
};
