// SPDX-License-Identifier: MIT
/*
 * uiommu_stats.c - the exported statistics API of include/uiommu/uiommu.h
 * (what `uiommu exec --summary` prints), over util/stats.c. No state or
 * locks of its own.
 */
#include <errno.h>
#include <stdint.h>

#include <uiommu/uiommu.h>

#include "uiommu_private.h"
#include "util/stats.h"

UIOMMU_EXPORT int uiommu_stats_enable(int on)
{
	return stats_enable(on != 0);
}

UIOMMU_EXPORT void uiommu_stats_reset(void)
{
	stats_reset();
}

UIOMMU_EXPORT int uiommu_stats_get(const char *name, unsigned long long *value)
{
	uint64_t v;
	int rc;

	if (!name || !value) {
		errno = EFAULT;
		return -1;
	}
	rc = stats_get(name, &v);
	if (rc) {
		errno = -rc;
		return -1;
	}
	*value = v;
	return 0;
}

UIOMMU_EXPORT size_t uiommu_stats_format(char *buf, size_t size)
{
	return stats_format(size ? buf : NULL, size);
}
