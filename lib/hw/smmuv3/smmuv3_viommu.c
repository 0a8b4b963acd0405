// SPDX-License-Identifier: MIT
/*
 * smmuv3_viommu.c - the vSMMU: IOMMU_VIOMMU_TYPE_ARM_SMMUV3 on a stage-2
 * nesting parent, its vDEVICEs, its nested domains and the invalidation
 * commands a guest's SMMU driver issues (Linux's arm-smmu-v3-iommufd.c,
 * behaviour for behaviour; the code is ours).
 *
 * Allocation (viommu_alloc): only the ARM_SMMUV3 type (EOPNOTSUPP; the
 * hardware must have both stages, else EOPNOTSUPP too); the parent must be
 * this instance's paging domain made with NEST_PARENT (EINVAL). Driver data
 * is ignored, as Linux ignores it for this type. The vSMMU uses the
 * parent's VMID: every guest TLB invalidation it forwards is confined to
 * it.
 *
 * vDEVICEs: vSID -> device, one of each (EEXIST; the core checks first),
 * a device of this instance (EINVAL). Destroying one makes the device's
 * events stop carrying its vSID (they are then host events).
 *
 * Invalidation (cache_invalidate), entries struct
 * iommu_viommu_arm_smmuv3_invalidate (a raw 128-bit command). The whole
 * array is copied first (iommu_copy_struct_from_full_user_array: wrong
 * type or no entries EINVAL, E2BIG, EFAULT; nothing handled then); more
 * than the kernel's largest allocation is ENOMEM. Each command is then
 * converted in order, as Linux's arm_vsmmu_convert_user_cmd():
 *
 *   TLBI_NSNH_ALL                  -> TLBI_NH_ALL of the VMID
 *   TLBI_NH_VA, _VAA, _ALL, _ASID  VMID field replaced by the vSMMU's
 *   ATC_INV, CFGI_CD, CFGI_CD_ALL  vSID replaced by the device's SID
 *                                  (no vDEVICE with that vSID: EIO)
 *   anything else                  EIO
 *
 * and issued in batches, each followed by CMD_SYNC. The first command that
 * cannot be converted stops the run after the ones before it were issued;
 * a command the hardware refuses (CMDQ_ERR, e.g. SSec set) stops it too,
 * with EIO: entry_num is written back with the number of commands that
 * took effect. (Linux counts the commands of the unissued batch before a
 * bad one as handled, and lets the hardware's refusals pass silently after
 * its GERROR handler skips them; here the count is exact.)
 *
 * Locking: the core serialises every op of one vIOMMU under its lock, and
 * holds it while a device attaches to one of its nested domains (which
 * reads the vDEVICE table). Destruction waits for event deliveries
 * (report_lock) so none reaches a freed vSMMU.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_drv.h"
#include "hw/smmuv3/smmuv3_priv.h"
#include "util/alloc.h"

#define VSMMU_INV_MAX_BYTES (4u << 20) /* Linux's KMALLOC_MAX_SIZE on x86-64 */
#define VSMMU_BATCH	    63	       /* commands per CMD_SYNC (Linux: CMDQ_BATCH_ENTRIES - 1) */

int smmuv3_vsmmu_vsid(const struct smmuv3_vsmmu *vsmmu, const struct smmuv3_master *master,
		      uint32_t *vsid)
{
	for (unsigned int i = 0; i < vsmmu->nr_vdevs; i++) {
		if (vsmmu->vdevs[i].master == master) {
			/* The event and command SID fields are 32 bits (Linux truncates too). */
			*vsid = (uint32_t)vsmmu->vdevs[i].vsid;
			return 0;
		}
	}
	return -ENOENT;
}

static struct smmuv3_master *vsid_to_master(const struct smmuv3_vsmmu *vsmmu, uint64_t vsid)
{
	for (unsigned int i = 0; i < vsmmu->nr_vdevs; i++)
		if (vsmmu->vdevs[i].vsid == vsid)
			return vsmmu->vdevs[i].master;
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Nested domains                                                         */

static struct iommu_domain *smmuv3_vsmmu_alloc_domain_nested(struct iommu_viommu *viommu,
							     uint32_t flags,
							     const struct iommu_user_data *data,
							     int *err)
{
	return smmuv3_nested_alloc(to_vsmmu(viommu), flags, data, err);
}

/* ---------------------------------------------------------------------- */
/* Invalidation                                                           */

/* Linux's arm_vsmmu_convert_user_cmd(): 0, or -EIO. */
static int convert_cmd(const struct smmuv3_vsmmu *vsmmu, uint64_t cmd[2])
{
	uint64_t vmid = (uint64_t)vsmmu->vmid << CMD0_VMID_SHIFT;

	switch (cmd[0] & 0xff) {
	case SMMU_CMD_TLBI_NSNH_ALL:
		cmd[0] = SMMU_CMD_TLBI_NH_ALL | vmid;
		cmd[1] = 0;
		return 0;
	case SMMU_CMD_TLBI_NH_VA:
	case SMMU_CMD_TLBI_NH_VAA:
	case SMMU_CMD_TLBI_NH_ALL:
	case SMMU_CMD_TLBI_NH_ASID:
		cmd[0] = (cmd[0] & ~CMD0_VMID_MASK) | vmid;
		return 0;
	case SMMU_CMD_ATC_INV:
	case SMMU_CMD_CFGI_CD:
	case SMMU_CMD_CFGI_CD_ALL: {
		struct smmuv3_master *master = vsid_to_master(vsmmu, cmd[0] >> CMD0_SID_SHIFT);

		if (!master)
			return -EIO;
		cmd[0] = (cmd[0] & ~CMD0_SID_MASK) | (uint64_t)master->udev.sid << CMD0_SID_SHIFT;
		return 0;
	}
	default:
		return -EIO;
	}
}

static int smmuv3_vsmmu_cache_invalidate(struct iommu_viommu *viommu,
					 struct iommu_user_data_array *array)
{
	struct smmuv3_vsmmu *vsmmu = to_vsmmu(viommu);
	struct iommu_viommu_arm_smmuv3_invalidate *ucmds;
	uint32_t n = array->entry_num, done = 0, last = 0;
	uint64_t(*cmds)[2];
	int ret = 0;

	_Static_assert(sizeof(*ucmds) == 2 * sizeof(uint64_t), "a command is two qwords");
	/* The kernel's kcalloc() fails beyond its largest allocation; so do we. */
	if ((uint64_t)n * sizeof(*ucmds) > VSMMU_INV_MAX_BYTES) {
		array->entry_num = 0;
		return -ENOMEM;
	}
	ucmds = ucalloc(n ? n : 1, sizeof(*ucmds));
	if (!ucmds) {
		array->entry_num = 0;
		return -ENOMEM;
	}
	cmds = (uint64_t(*)[2])ucmds;
	ret = iommu_copy_struct_from_full_user_array(ucmds, sizeof(*ucmds), array,
						     IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
	if (ret)
		goto out;
	while (done < n) {
		unsigned int issued = 0;

		cmds[done][0] = le64toh(ucmds[done].cmd[0]);
		cmds[done][1] = le64toh(ucmds[done].cmd[1]);
		ret = convert_cmd(vsmmu, cmds[done]);
		if (!ret) {
			done++;
			if (done < n && done - last < VSMMU_BATCH)
				continue;
		}
		/* Issue [last, done): a full batch, the end, or what precedes a bad command. */
		if (done > last) {
			int r = smmuv3_cmdq_issue(vsmmu->smmu, (const uint64_t(*)[2]) & cmds[last],
						  done - last, &issued);

			if (r) {
				done = last + issued;
				ret = r;
			}
		}
		last = done;
		if (ret)
			break;
	}
out:
	array->entry_num = done;
	ufree(ucmds);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* vDEVICEs                                                               */

static int smmuv3_vdevice_init(struct iommu_viommu *viommu, struct udev *dev, uint64_t virt_id)
{
	struct smmuv3_vsmmu *vsmmu = to_vsmmu(viommu);
	struct smmuv3_master *master;
	uint32_t old;

	if (!smmuv3_master_ours(dev) || to_master(dev)->smmu != vsmmu->smmu)
		return -EINVAL;
	master = to_master(dev);
	if (vsid_to_master(vsmmu, virt_id) || !smmuv3_vsmmu_vsid(vsmmu, master, &old))
		return -EEXIST;
	if (vsmmu->nr_vdevs == vsmmu->cap_vdevs) {
		unsigned int cap = vsmmu->cap_vdevs ? 2 * vsmmu->cap_vdevs : 4;
		struct smmuv3_vdev *n = ucalloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (vsmmu->nr_vdevs)
			memcpy(n, vsmmu->vdevs, vsmmu->nr_vdevs * sizeof(*n));
		ufree(vsmmu->vdevs);
		vsmmu->vdevs = n;
		vsmmu->cap_vdevs = cap;
	}
	vsmmu->vdevs[vsmmu->nr_vdevs++] = (struct smmuv3_vdev){.vsid = virt_id, .master = master};
	return 0;
}

static void smmuv3_vdevice_destroy(struct iommu_viommu *viommu, struct udev *dev, uint64_t virt_id)
{
	struct smmuv3_vsmmu *vsmmu = to_vsmmu(viommu);

	for (unsigned int i = 0; i < vsmmu->nr_vdevs; i++) {
		struct smmuv3_master *master = vsmmu->vdevs[i].master;

		if (vsmmu->vdevs[i].vsid != virt_id || &master->udev != dev)
			continue;
		vsmmu->vdevs[i] = vsmmu->vdevs[--vsmmu->nr_vdevs];
		/* Its events no longer carry a vSID: they stay with the host. */
		pthread_mutex_lock(&master->lock);
		if (master->vsmmu == vsmmu)
			master->vsmmu = NULL;
		pthread_mutex_unlock(&master->lock);
		return;
	}
}

/* ---------------------------------------------------------------------- */
/* Allocation                                                             */

static void smmuv3_vsmmu_destroy(struct iommu_viommu *viommu)
{
	struct smmuv3_vsmmu *vsmmu = to_vsmmu(viommu);

	/* No event delivery may still be reaching it. */
	pthread_rwlock_wrlock(&vsmmu->smmu->report_lock);
	pthread_rwlock_unlock(&vsmmu->smmu->report_lock);
	ufree(vsmmu->vdevs);
	ufree(vsmmu);
}

static const struct iommu_viommu_ops smmuv3_vsmmu_ops = {
	.alloc_domain_nested = smmuv3_vsmmu_alloc_domain_nested,
	.cache_invalidate = smmuv3_vsmmu_cache_invalidate,
	.vdevice_init = smmuv3_vdevice_init,
	.vdevice_destroy = smmuv3_vdevice_destroy,
	.destroy = smmuv3_vsmmu_destroy,
};

struct iommu_viommu *smmuv3_viommu_alloc(struct udev *dev, struct iommu_domain *parent,
					 unsigned int type, const struct iommu_user_data *data,
					 int *err)
{
	struct smmuv3_vsmmu *vsmmu;
	struct smmuv3_iommu *smmu;

	(void)data; /* Linux ignores driver data for this type */
	if (!smmuv3_master_ours(dev)) {
		*err = -EINVAL;
		return NULL;
	}
	smmu = to_master(dev)->smmu;
	if (type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3 || !smmu->s1p || !smmu->s2p) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (!smmuv3_is_paging(parent) || !to_s2(parent)->nest_parent ||
	    to_s2(parent)->smmu != smmu) {
		*err = -EINVAL;
		return NULL;
	}
	vsmmu = uzalloc(sizeof(*vsmmu));
	if (!vsmmu) {
		*err = -ENOMEM;
		return NULL;
	}
	vsmmu->smmu = smmu;
	vsmmu->s2 = to_s2(parent);
	vsmmu->vmid = vsmmu->s2->vmid;
	vsmmu->core = (struct iommu_viommu){
		.ops = &smmuv3_vsmmu_ops,
		.iommu = &smmu->iommu,
		.parent = parent,
		.type = type,
		.mmap_fd = -1,
		.priv = vsmmu,
	};
	*err = 0;
	return &vsmmu->core;
}
