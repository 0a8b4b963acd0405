// SPDX-License-Identifier: MIT
/*
 * iommu_nested.c - the IOMMU layer of the nested-stage VFIO extension (the
 * v13 VFIO series over its v15 IOMMU part, Linux 5.12; reference vfio.md
 * §2.3-§2.7): what sits between VFIO's container ioctls and a model's
 * domain ops when a program, not a vIOMMU object, hands the host a guest's
 * stage-1 configuration.
 *
 * What it owns:
 *  - the uAPI checks of the embedded structs. VFIO copies only its own
 *    argsz and flags and passes the user pointer of the embedded struct;
 *    that struct is validated here by its own argsz, in Linux's order:
 *      PASID table (iommu_uapi_attach_pasid_table): no op ENODEV; copy the
 *      24 bytes before vendor_data (EFAULT), argsz < 24 EINVAL, version != 1
 *      EINVAL, SMMUv3 format with argsz < 32 EINVAL; copy the rest (at most
 *      the struct: a newer, longer one is truncated); config outside 1..3
 *      EINVAL; then the op;
 *      invalidation (iommu_uapi_cache_invalidate): no op ENODEV; copy 16
 *      bytes, argsz < 16 EINVAL; PASID granularity needs argsz >= 32 and
 *      ADDR >= 56 (EINVAL); copy the rest; then version, cache bits,
 *      granularity, the cache x granularity matrix (ADDR with PASID-cache,
 *      DOMAIN with DEV_IOTLB), unknown ADDR / PASID flags, non-zero padding
 *      (EINVAL each); then the op;
 *      MSI binding: the op (ENODEV without); unbind never fails; where a
 *      device's messages go while a guest's stage 1 is in force
 *      (iommu_guest_msi_iova, ENOENT without the op);
 *  - the devices' fault handlers (Linux's per-device fault parameter): one
 *    per device, a report runs the handler under the read side of a global
 *    rwlock, unregistering takes the write side, so a handler never runs
 *    after unregister returns.
 *
 * Locks: fault_lock (rwlock) guards every udev's fault_param. Reports come
 * from the models' event paths (SMMUv3: under its evtq and report locks);
 * handlers take their own locks inside it and must not register or
 * unregister.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <linux/iommu.h>

#include "hw/iommu.h"
#include "util/alloc.h"
#include "util/uaccess.h"

#define offsetofend(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))

/* ---------------------------------------------------------------------- */
/* PASID table                                                            */

int iommu_uapi_attach_pasid_table(struct iommu_domain *domain, const void *ucfg)
{
	struct iommu_pasid_table_config cfg;
	const size_t minsz = offsetof(struct iommu_pasid_table_config, vendor_data);

	if (!domain->ops->attach_pasid_table)
		return -ENODEV;
	memset(&cfg, 0, sizeof(cfg));
	if (copy_from_user(&cfg, ucfg, minsz))
		return -EFAULT;
	if (cfg.argsz < minsz)
		return -EINVAL;
	if (cfg.version != PASID_TABLE_CFG_VERSION_1)
		return -EINVAL;
	if (cfg.format == IOMMU_PASID_FORMAT_SMMUV3 &&
	    cfg.argsz < offsetofend(struct iommu_pasid_table_config, vendor_data.smmuv3))
		return -EINVAL;
	/* A newer, longer struct from userspace is tolerated and truncated. */
	if (copy_from_user((uint8_t *)&cfg + minsz, uptr_add(ucfg, minsz),
			   (cfg.argsz < sizeof(cfg) ? cfg.argsz : sizeof(cfg)) - minsz))
		return -EFAULT;
	if (cfg.config < IOMMU_PASID_CONFIG_TRANSLATE || cfg.config > IOMMU_PASID_CONFIG_ABORT)
		return -EINVAL;
	return domain->ops->attach_pasid_table(domain, &cfg);
}

void iommu_detach_pasid_table(struct iommu_domain *domain)
{
	if (domain->ops->detach_pasid_table)
		domain->ops->detach_pasid_table(domain);
}

/* ---------------------------------------------------------------------- */
/* Cache invalidation                                                     */

/* Which granularities each cache type supports (Linux's iommu_check_cache_invl_data). */
static int check_cache_invl(const struct iommu_cache_invalidate_info *info)
{
	const uint32_t addr_flags = IOMMU_INV_ADDR_FLAGS_PASID | IOMMU_INV_ADDR_FLAGS_ARCHID |
				    IOMMU_INV_ADDR_FLAGS_LEAF;
	const uint32_t pasid_flags = IOMMU_INV_PASID_FLAGS_PASID | IOMMU_INV_PASID_FLAGS_ARCHID;

	if (info->version != IOMMU_CACHE_INVALIDATE_INFO_VERSION_1)
		return -EINVAL;
	if (info->cache & ~((1u << IOMMU_CACHE_INV_TYPE_NR) - 1))
		return -EINVAL;
	if (info->granularity >= IOMMU_INV_GRANU_NR)
		return -EINVAL;
	switch (info->granularity) {
	case IOMMU_INV_GRANU_ADDR:
		if (info->cache & IOMMU_CACHE_INV_TYPE_PASID)
			return -EINVAL;
		if (info->granu.addr_info.flags & ~addr_flags)
			return -EINVAL;
		break;
	case IOMMU_INV_GRANU_PASID:
		if (info->granu.pasid_info.flags & ~pasid_flags)
			return -EINVAL;
		break;
	case IOMMU_INV_GRANU_DOMAIN:
		if (info->cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB)
			return -EINVAL;
		break;
	}
	for (size_t i = 0; i < sizeof(info->padding); i++)
		if (info->padding[i])
			return -EINVAL;
	return 0;
}

int iommu_uapi_cache_invalidate(struct iommu_domain *domain, struct udev *dev, const void *uinv)
{
	struct iommu_cache_invalidate_info info;
	const size_t minsz = offsetof(struct iommu_cache_invalidate_info, granu);
	size_t need;
	int ret;

	if (!domain->ops->cache_invalidate)
		return -ENODEV;
	memset(&info, 0, sizeof(info));
	if (copy_from_user(&info, uinv, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* The union member the granularity names must be there. */
	if (info.granularity == IOMMU_INV_GRANU_PASID) {
		need = offsetofend(struct iommu_cache_invalidate_info, granu.pasid_info);
		if (info.argsz < need)
			return -EINVAL;
	} else if (info.granularity == IOMMU_INV_GRANU_ADDR) {
		need = offsetofend(struct iommu_cache_invalidate_info, granu.addr_info);
		if (info.argsz < need)
			return -EINVAL;
	}
	if (copy_from_user((uint8_t *)&info + minsz, uptr_add(uinv, minsz),
			   (info.argsz < sizeof(info) ? info.argsz : sizeof(info)) - minsz))
		return -EFAULT;
	ret = check_cache_invl(&info);
	if (ret)
		return ret;
	return domain->ops->cache_invalidate(domain, dev, &info);
}

/* ---------------------------------------------------------------------- */
/* MSI binding                                                            */

int iommu_bind_guest_msi(struct iommu_domain *domain, uint64_t giova, uint64_t gpa, uint64_t size)
{
	if (!domain->ops->bind_guest_msi)
		return -ENODEV;
	return domain->ops->bind_guest_msi(domain, giova, gpa, size);
}

int iommu_guest_msi_iova(struct iommu_domain *domain, uint64_t *iova)
{
	if (!domain->ops->guest_msi_iova)
		return -ENOENT;
	return domain->ops->guest_msi_iova(domain, iova);
}

void iommu_unbind_guest_msi(struct iommu_domain *domain, uint64_t giova)
{
	if (domain->ops->unbind_guest_msi)
		domain->ops->unbind_guest_msi(domain, giova);
}

/* ---------------------------------------------------------------------- */
/* Device fault handlers                                                  */

struct iommu_fault_param {
	iommu_dev_fault_handler_t handler;
	void *data;
};

static pthread_rwlock_t fault_lock = PTHREAD_RWLOCK_INITIALIZER;

int iommu_register_device_fault_handler(struct udev *dev, iommu_dev_fault_handler_t handler,
					void *data)
{
	struct iommu_fault_param *param;
	int ret = 0;

	if (!dev || !handler)
		return -EINVAL;
	param = uzalloc(sizeof(*param));
	if (!param)
		return -ENOMEM;
	param->handler = handler;
	param->data = data;
	pthread_rwlock_wrlock(&fault_lock);
	if (dev->fault_param)
		ret = -EBUSY;
	else
		dev->fault_param = param;
	pthread_rwlock_unlock(&fault_lock);
	if (ret)
		ufree(param);
	return ret;
}

void iommu_unregister_device_fault_handler(struct udev *dev)
{
	struct iommu_fault_param *param;

	pthread_rwlock_wrlock(&fault_lock);
	param = dev->fault_param;
	dev->fault_param = NULL;
	pthread_rwlock_unlock(&fault_lock);
	ufree(param);
}

bool iommu_device_has_fault_handler(struct udev *dev)
{
	bool has;

	pthread_rwlock_rdlock(&fault_lock);
	has = dev->fault_param != NULL;
	pthread_rwlock_unlock(&fault_lock);
	return has;
}

int iommu_report_device_fault(struct udev *dev, const struct iommu_fault *fault)
{
	struct iommu_fault_param *param;
	int ret = -ENODEV;

	pthread_rwlock_rdlock(&fault_lock);
	param = dev->fault_param;
	if (param)
		ret = param->handler(fault, param->data);
	pthread_rwlock_unlock(&fault_lock);
	return ret;
}
