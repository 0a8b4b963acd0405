// SPDX-License-Identifier: MIT
/*
 * uiommu_stats.c - the exported statistics API of include/uiommu/uiommu.h
 * (what `uiommu exec --summary` prints), over util/stats.c, plus the
 * translation caches' counters: "cache.<cache>.<counter>", the sum over
 * every live cache of the process (lib/xlate, cache_reg.c). No state or
 * locks of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <uiommu/uiommu.h>

#include "uiommu_private.h"
#include "util/stats.h"
#include "xlate/cache.h"

UIOMMU_EXPORT int uiommu_stats_enable(int on)
{
	return stats_enable(on != 0);
}

UIOMMU_EXPORT void uiommu_stats_reset(void)
{
	stats_reset();
	xlate_cache_reset_all();
}

/* The caches by public name; the walk caches summed over their levels. */
static const char *const cache_names[] = { "iotlb", "walk_s1", "walk_s2", "ipa", "cfg" };

static void cache_sum(const struct xlate_cache_stats *s, unsigned int i,
		      struct xlate_cache_counters *k)
{
	memset(k, 0, sizeof(*k));
	if (i == 1 || i == 2) {
		for (int d = 0; d < PT_MAX_LEVELS; d++) {
			const struct xlate_cache_counters *w = &s->walk[i - 1][d];

			k->hits += w->hits;
			k->misses += w->misses;
			k->fills += w->fills;
			k->evictions += w->evictions;
			k->invalidated += w->invalidated;
		}
		return;
	}
	*k = i == 0 ? s->iotlb : i == 3 ? s->ipa : s->cfg;
}

/* "cache.<cache>.<counter>": 0, or -ENOENT for a name that is not one. */
static int cache_get(const char *name, uint64_t *value)
{
	static const struct {
		const char *name;
		size_t off;
	} ctr[] = {
		{ "hits", offsetof(struct xlate_cache_counters, hits) },
		{ "misses", offsetof(struct xlate_cache_counters, misses) },
		{ "fills", offsetof(struct xlate_cache_counters, fills) },
		{ "evictions", offsetof(struct xlate_cache_counters, evictions) },
		{ "invalidated", offsetof(struct xlate_cache_counters, invalidated) },
	};
	struct xlate_cache_counters k;
	struct xlate_cache_stats s;
	const char *dot;

	name += strlen("cache.");
	dot = strchr(name, '.');
	if (!dot)
		return -ENOENT;
	for (unsigned int i = 0; i < ARRAY_SIZE(cache_names); i++) {
		if (strlen(cache_names[i]) != (size_t)(dot - name) ||
		    strncmp(name, cache_names[i], (size_t)(dot - name)))
			continue;
		for (unsigned int j = 0; j < ARRAY_SIZE(ctr); j++) {
			if (strcmp(dot + 1, ctr[j].name))
				continue;
			xlate_cache_stats_all(&s);
			cache_sum(&s, i, &k);
			memcpy(value, (const uint8_t *)&k + ctr[j].off, sizeof(*value));
			return 0;
		}
	}
	return -ENOENT;
}

UIOMMU_EXPORT int uiommu_stats_get(const char *name, unsigned long long *value)
{
	uint64_t v;
	int rc;

	if (!name || !value) {
		errno = EFAULT;
		return -1;
	}
	rc = strncmp(name, "cache.", 6) ? stats_get(name, &v) : cache_get(name, &v);
	if (rc) {
		errno = -rc;
		return -1;
	}
	*value = v;
	return 0;
}

UIOMMU_EXPORT size_t uiommu_stats_format(char *buf, size_t size)
{
	size_t len = stats_format(size ? buf : NULL, size);
	struct xlate_cache_stats s;
	unsigned int n = xlate_cache_stats_all(&s);

	/* One more line when the process has translation caches (hits/misses). */
	if (n) {
		stats_put(buf, size, &len, "caches: %u, hits/misses", n);
		for (unsigned int i = 0; i < ARRAY_SIZE(cache_names); i++) {
			struct xlate_cache_counters k;

			cache_sum(&s, i, &k);
			stats_put(buf, size, &len, "%s %s %" PRIu64 "/%" PRIu64, i ? "," : "",
			    cache_names[i], k.hits, k.misses);
		}
		stats_put(buf, size, &len, "\n");
	}
	return len;
}
