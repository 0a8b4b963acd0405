// SPDX-License-Identifier: MIT
/*
 * smmuv3_cd.c - a device's CD table and its PASIDs: where a stage-1
 * domain is put for the RID (CD 0) and for each PASID (CD n, n = the
 * PASID, Linux's set_dev_pasid / remove_dev_pasid).
 *
 * The table (struct smmuv3_cdtab) is made on the device's first stage-1
 * attach and kept until the device is destroyed, as Linux keeps it. It
 * has 2^ssid_bits CDs (the device's PASID width, at most IDR1.SSIDSIZE;
 * S1CDMax = ssid_bits, so one CD and no substreams for a device without
 * PASIDs). Up to 1024 CDs, or without IDR0.CD2L, it is linear (S1Fmt 0);
 * beyond, 2-level (S1Fmt 0b10): L1CDs whose 64 KiB L2 tables of 1024 CDs
 * are made when one of their CDs is first written (Linux's
 * arm_smmu_alloc_cd_tables / arm_smmu_get_cd_ptr). L1CD 0's table is made
 * with the table, so that CD 0 can always be written.
 *
 * Writing a CD (smmuv3_cd_write): a CD that is valid is first made
 * invalid (V = 0, CFGI_CD + SYNC), then qwords 1-7 are written, then
 * qword 0, then CFGI_CD + SYNC: a transaction never translates through a
 * CD of two domains (the ASID of one and the table of the other), which
 * is what Linux's entry-set writer does when more than one used qword
 * changes. Clearing a CD writes V = 0 and CFGI_CD + SYNC.
 *
 * PASIDs (smmuv3_set_dev_pasid, for stage-1 domains only: a stage 2
 * serves no PASID, EINVAL as in Linux). The core has checked the PASID
 * against the device's width (EINVAL) and the HWPT's ALLOC_PASID; the
 * driver refuses what Linux's arm_smmu_set_pasid refuses: a domain of
 * another instance (EINVAL), and a RID translating through a stage 2 or a
 * nested domain (its STE has no CD table: EINVAL). The STE becomes (or
 * stays) a CD-table STE: S1DSS = SSID0 while the RID is on a stage-1
 * domain (CD 0), S1DSS = terminate while it is blocked and PASIDs are
 * attached (Linux's arm_smmu_update_ste). Replace rewrites the CD; the
 * old domain's TLB entries carry its own ASID and are never hit again
 * under the new one. Removing a PASID clears its CD and invalidates the
 * device's ATC; when the last PASID of a blocked RID goes, the STE is an
 * abort STE again (Linux re-attaches the blocked domain).
 *
 * ATS: an ATS device's PASIDs are listed in their domain's pasid_users,
 * so that an unmap of the domain sends CMD_ATC_INV with SSV and the PASID
 * to each (smmuv3_s1_pasid_atc_inv); every change of a PASID's CD is
 * followed by CMD_ATC_INV of everything of the device.
 *
 * Locks: everything here runs under master->lock (the core serialises
 * attach changes per device); a domain's users_lock is a leaf, never held
 * across a command.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_drv.h"
#include "hw/smmuv3/smmuv3_priv.h"
#include "util/alloc.h"
#include "util/log.h"

#define CD_QWORDS     8
#define L2_CDS	      (1u << CD_SPLIT)
#define L2_TABLE_SIZE ((size_t)L2_CDS * SMMU_CD_SIZE)

/* Zeroed: every CD invalid. */
static uint64_t *l2_alloc(void)
{
	return ualloc_aligned(4096, L2_TABLE_SIZE);
}

static void l1_set(struct smmuv3_cdtab *cd, unsigned int i, uint64_t *l2)
{
	cd->l2[i] = l2;
	__atomic_store_n(&cd->base[i],
			 htole64(((uint64_t)(uintptr_t)l2 & L1CD_L2PTR_MASK) | L1CD_V),
			 __ATOMIC_RELEASE);
}

int smmuv3_cd_table_get(struct smmuv3_master *master)
{
	struct smmuv3_cdtab *cd = &master->cd;
	unsigned int bits = master->udev.max_pasid_log2;
	size_t bytes;

	if (cd->base)
		return 0;
	memset(cd, 0, sizeof(*cd));
	cd->cdmax = bits;
	if (!master->smmu->cd2l || bits <= CD_SPLIT) {
		cd->fmt = STE_S1FMT_LINEAR;
		bytes = ((size_t)1 << bits) * SMMU_CD_SIZE;
		cd->base = ualloc_aligned(bytes < 4096 ? 64 : 4096, bytes);
		return cd->base ? 0 : -ENOMEM;
	}
	cd->fmt = STE_S1FMT_64K_L2;
	cd->nr_l1 = 1u << (bits - CD_SPLIT);
	bytes = (size_t)cd->nr_l1 * sizeof(uint64_t);
	cd->base = ualloc_aligned(64, bytes < 64 ? 64 : bytes);
	cd->l2 = ucalloc(cd->nr_l1, sizeof(*cd->l2));
	if (cd->base && cd->l2) {
		uint64_t *l2 = l2_alloc();

		if (l2) {
			l1_set(cd, 0, l2);
			return 0;
		}
	}
	ufree(cd->l2);
	ufree(cd->base);
	memset(cd, 0, sizeof(*cd));
	return -ENOMEM;
}

void smmuv3_cd_table_free(struct smmuv3_master *master)
{
	struct smmuv3_cdtab *cd = &master->cd;

	if (cd->l2)
		for (unsigned int i = 0; i < cd->nr_l1; i++)
			ufree(cd->l2[i]);
	ufree(cd->l2);
	ufree(cd->base);
	memset(cd, 0, sizeof(*cd));
}

/* CD @ssid's place; with @make an L2 table is made when needed (NULL: -ENOMEM). */
static uint64_t *cd_ptr(struct smmuv3_master *master, uint32_t ssid, bool make)
{
	struct smmuv3_cdtab *cd = &master->cd;
	unsigned int i;

	if (cd->fmt == STE_S1FMT_LINEAR)
		return &cd->base[(size_t)ssid * CD_QWORDS];
	i = ssid >> CD_SPLIT;
	if (!cd->l2[i]) {
		uint64_t *l2;

		if (!make)
			return NULL;
		l2 = l2_alloc();
		if (!l2)
			return NULL;
		/* A table of invalid CDs, then the descriptor that points at it. */
		l1_set(cd, i, l2);
		smmuv3_cmdq_issue_one(
			master->smmu,
			SMMU_CMD_CFGI_CD_ALL | (uint64_t)master->udev.sid << CMD0_SID_SHIFT, 0);
	}
	return &cd->l2[i][(size_t)(ssid & (L2_CDS - 1)) * CD_QWORDS];
}

static void cfgi_cd(struct smmuv3_master *master, uint32_t ssid)
{
	smmuv3_cmdq_issue_one(master->smmu,
			      SMMU_CMD_CFGI_CD | (uint64_t)ssid << CMD0_SSID_SHIFT |
				      (uint64_t)master->udev.sid << CMD0_SID_SHIFT,
			      CMD1_LEAF);
}

int smmuv3_cd_write(struct smmuv3_master *master, uint32_t ssid, const uint64_t *cd)
{
	uint64_t *p;

	if (!master->cd.base || ssid >> master->cd.cdmax)
		return cd ? -EINVAL : 0;
	p = cd_ptr(master, ssid, cd != NULL);
	if (!p)
		return cd ? -ENOMEM : 0;
	if (le64toh(__atomic_load_n(&p[0], __ATOMIC_RELAXED)) & CD0_V) {
		__atomic_store_n(&p[0], 0, __ATOMIC_RELEASE);
		cfgi_cd(master, ssid);
	}
	if (!cd)
		return 0;
	for (unsigned int i = 1; i < CD_QWORDS; i++)
		__atomic_store_n(&p[i], htole64(cd[i]), __ATOMIC_RELEASE);
	__atomic_store_n(&p[0], htole64(cd[0]), __ATOMIC_RELEASE);
	cfgi_cd(master, ssid);
	return 0;
}

int smmuv3_iommu_read_cd(struct udev *dev, uint32_t ssid, uint64_t cd[8])
{
	struct smmuv3_master *master;
	uint64_t *p = NULL;

	if (!smmuv3_master_ours(dev))
		return -EINVAL;
	master = to_master(dev);
	pthread_mutex_lock(&master->lock);
	if (master->cd.base && !(ssid >> master->cd.cdmax))
		p = cd_ptr(master, ssid, false);
	for (unsigned int i = 0; i < CD_QWORDS; i++)
		cd[i] = p ? le64toh(__atomic_load_n(&p[i], __ATOMIC_ACQUIRE)) : 0;
	pthread_mutex_unlock(&master->lock);
	return p ? 0 : -ENOENT;
}

/* ---------------------------------------------------------------------- */
/* PASIDs                                                                 */

static struct smmuv3_pasid_att *pasid_find(const struct smmuv3_master *master, uint32_t pasid)
{
	for (unsigned int i = 0; i < master->nr_pasids; i++)
		if (master->pasids[i].pasid == pasid)
			return &master->pasids[i];
	return NULL;
}

struct smmuv3_domain *smmuv3_pasid_domain(const struct smmuv3_master *master, uint32_t pasid)
{
	const struct smmuv3_pasid_att *a = pasid_find(master, pasid);

	return a ? a->dom : NULL;
}

/* Room for one more element of @n in an array of @cap of @size bytes; -ENOMEM. */
static int grow(void **arr, unsigned int n, unsigned int *cap, size_t size)
{
	unsigned int ncap;
	void *a;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 4;
	a = ucalloc(ncap, size);
	if (!a)
		return -ENOMEM;
	if (n)
		memcpy(a, *arr, (size_t)n * size);
	ufree(*arr);
	*arr = a;
	*cap = ncap;
	return 0;
}

static void users_del(struct smmuv3_domain *dom, struct smmuv3_master *master, uint32_t pasid)
{
	pthread_mutex_lock(&dom->users_lock);
	for (unsigned int i = 0; i < dom->nr_pasid_users; i++)
		if (dom->pasid_users[i].master == master && dom->pasid_users[i].pasid == pasid) {
			dom->pasid_users[i] = dom->pasid_users[--dom->nr_pasid_users];
			break;
		}
	pthread_mutex_unlock(&dom->users_lock);
}

/* The RID's STE for @master now that its PASIDs changed. Under master->lock. */
static void pasid_update_ste(struct smmuv3_master *master)
{
	uint64_t ste[8];

	if (master->domain)
		return; /* on a stage-1 domain: CD table, S1DSS = SSID0 already */
	if (master->nr_pasids)
		smmuv3_make_cdtable_ste(master, STE_S1DSS_TERMINATE, ste);
	else
		smmuv3_make_abort_ste(ste);
	smmuv3_install_ste(master->smmu, master->udev.sid, ste);
}

int smmuv3_set_dev_pasid(struct iommu_domain *domain, struct udev *dev, uint32_t pasid,
			 struct iommu_domain *old)
{
	struct smmuv3_domain *s1 = to_s2(domain), *prev;
	struct smmuv3_pasid_att *a;
	struct smmuv3_master *master;
	uint64_t cd[8];
	int ret;

	(void)old; /* the driver knows what the PASID had */
	if (!smmuv3_master_ours(dev) || to_master(dev)->smmu != s1->smmu || !s1->s1)
		return -EINVAL;
	master = to_master(dev);
	if (pasid == 0 || pasid >> dev->max_pasid_log2)
		return -EINVAL;
	pthread_mutex_lock(&master->lock);
	/* A RID on a stage 2 or a nested domain: no CD table in its STE (Linux: EINVAL). */
	if (master->domain && !(smmuv3_is_paging(master->domain) && to_s2(master->domain)->s1)) {
		ret = -EINVAL;
		goto out;
	}
	prev = smmuv3_pasid_domain(master, pasid);
	ret = smmuv3_cd_table_get(master);
	if (!ret)
		ret = grow((void **)&master->pasids, master->nr_pasids, &master->cap_pasids,
			   sizeof(*master->pasids));
	if (!ret && master->ep && prev != s1) {
		pthread_mutex_lock(&s1->users_lock);
		ret = grow((void **)&s1->pasid_users, s1->nr_pasid_users, &s1->cap_pasid_users,
			   sizeof(*s1->pasid_users));
		pthread_mutex_unlock(&s1->users_lock);
	}
	if (ret)
		goto out;
	smmuv3_make_s1_cd(master, s1, cd);
	ret = smmuv3_cd_write(master, pasid, cd);
	if (ret)
		goto out;
	a = pasid_find(master, pasid);
	if (!a) {
		a = &master->pasids[master->nr_pasids++];
		a->pasid = pasid;
	}
	a->dom = s1;
	if (master->ep && prev != s1) {
		if (prev)
			users_del(prev, master, pasid);
		pthread_mutex_lock(&s1->users_lock);
		s1->pasid_users[s1->nr_pasid_users++] =
			(struct smmuv3_pasid_user){.master = master, .pasid = pasid};
		pthread_mutex_unlock(&s1->users_lock);
	}
	pasid_update_ste(master);
	/* What the ATC holds for the PASID was translated under the old CD. */
	if (master->ep)
		smmuv3_atc_inv_sid(master->smmu, dev->sid);
out:
	pthread_mutex_unlock(&master->lock);
	return ret;
}

void smmuv3_remove_dev_pasid(struct udev *dev, uint32_t pasid, struct iommu_domain *domain)
{
	struct smmuv3_master *master;
	struct smmuv3_pasid_att *a;

	(void)domain;
	if (!smmuv3_master_ours(dev))
		return;
	master = to_master(dev);
	pthread_mutex_lock(&master->lock);
	a = pasid_find(master, pasid);
	if (a) {
		smmuv3_cd_write(master, pasid, NULL);
		if (master->ep) {
			users_del(a->dom, master, pasid);
			smmuv3_atc_inv_sid(master->smmu, dev->sid);
		}
		*a = master->pasids[--master->nr_pasids];
		pasid_update_ste(master);
	}
	pthread_mutex_unlock(&master->lock);
}

void smmuv3_s1_pasid_atc_inv(struct smmuv3_domain *s1, uint64_t iova, uint64_t size)
{
	struct smmuv3_iommu *smmu = s1->smmu;
	uint64_t first = iova >> 12, last = (iova + size - 1) >> 12, cmds[32][2], arg;
	unsigned int span = 0, n, done = 0;

	if (size > SZ_1G || range_wraps(iova, size))
		span = CMD_ATC_SIZE_ALL;
	else
		while ((first >> span) != (last >> span))
			span++;
	arg = span >= CMD_ATC_SIZE_ALL ? CMD_ATC_SIZE_ALL : (first >> span << span << 12) | span;
	/* Chunks of up to 32 commands, users_lock (a leaf) never held across one. */
	for (;;) {
		pthread_mutex_lock(&s1->users_lock);
		for (n = 0; done < s1->nr_pasid_users && n < 32; done++, n++) {
			const struct smmuv3_pasid_user *u = &s1->pasid_users[done];

			cmds[n][0] = SMMU_CMD_ATC_INV | CMD0_SSV_BIT |
				     (uint64_t)u->pasid << CMD0_SSID_SHIFT |
				     (uint64_t)u->master->udev.sid << CMD0_SID_SHIFT;
			cmds[n][1] = arg;
		}
		pthread_mutex_unlock(&s1->users_lock);
		if (!n)
			break;
		stat_add(&smmu->stats.atc_invs, n);
		smmuv3_cmdq_issue(smmu, (const uint64_t(*)[2])cmds, n, NULL);
	}
}
