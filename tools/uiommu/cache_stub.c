// SPDX-License-Identifier: MIT
/*
 * cache_stub.c - stands in for lib/xlate/cache.c until that lands, so that
 * the CLI links. meson.build compiles it only when lib/xlate/cache.c does
 * not exist: every constructor fails with -ENOSYS and `uiommu trace` says
 * the caches are not in this build (its cache-less replay still works).
 * Delete this file, and its line in meson.build, once the caches are on
 * main.
 */
#include <errno.h>
#include <string.h>

#include "xlate/cache.h"

void xlate_cache_params_default(struct xlate_cache_params *p)
{
	memset(p, 0, sizeof(*p));
	p->iotlb = (struct xlate_cache_geom){4096, 4};
	p->walk[0] = p->walk[1] = (struct xlate_cache_geom){256, 4};
	p->ipa = (struct xlate_cache_geom){1024, 4};
	p->cfg = (struct xlate_cache_geom){64, 4};
	p->repl = XLATE_REPL_LRU;
}

int xlate_cache_new(const struct xlate_cache_params *p, struct xlate_cache **out)
{
	*out = NULL;
	return -ENOSYS;
}

void xlate_cache_free(struct xlate_cache *c)
{
}

void xlate_cache_get_stats(const struct xlate_cache *c, struct xlate_cache_stats *s)
{
	memset(s, 0, sizeof(*s));
}

void xlate_cache_reset_stats(struct xlate_cache *c)
{
}

void xlate_inv_all(struct xlate_cache *c)
{
}

void xlate_inv_vmid(struct xlate_cache *c, uint16_t vmid)
{
}

void xlate_inv_asid(struct xlate_cache *c, uint16_t vmid, uint32_t asid)
{
}

void xlate_inv_range(struct xlate_cache *c, uint16_t vmid, uint32_t asid, uint64_t iova,
		     uint64_t size, unsigned int flags, int ttl)
{
}

void xlate_inv_ipa(struct xlate_cache *c, uint16_t vmid, uint64_t ipa, uint64_t size,
		   unsigned int flags, int ttl)
{
}
