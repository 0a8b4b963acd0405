/* SPDX-License-Identifier: MIT */
/*
 * lib/xlate/cache.h - translation caches: IOTLB, walk caches, IPA cache and
 * a configuration cache slot, with architectural invalidation.
 *
 * One struct xlate_cache belongs to one IOMMU instance (an SMMU, a VT-d
 * unit, a mock). A translation names its context with a tag: VMID (or
 * VT-d DID) and ASID (or PASID). xlate() consults the caches of its
 * xlate_cfg when one is given and fills them on a miss.
 *
 * What is cached (modelled on real SMMUs; gem5's SMMUv3 model is the
 * feature anchor, reference perf.md §4):
 *  - IOTLB: combined results of the whole translation, keyed by (VMID,
 *    ASID, input page of the leaf size, and whether the access was
 *    unprivileged: VMSA's UXNTable makes stage-1 permissions depend on it).
 *    An entry keeps both stages' permissions, levels and leaf sizes, the
 *    smaller leaf size and the IPA, so a hit answers exactly like the walk
 *    would. An access the entry does not grant (including a first write
 *    where a stage tracks dirty state in hardware) walks, and the walk
 *    reports any fault, so a fault on a hit says which stage refused, with
 *    the walk's level and addresses. A stage-2-only context's entries are
 *    stage-2 entries (IPA = input address).
 *  - Walk caches, per stage and per level: the address of the next-level
 *    table for an input prefix (stage 1: (VMID, ASID, IOVA prefix); stage
 *    2: (VMID, IPA prefix)), plus the permission limits accumulated above
 *    it, so a walk can start below the cached level. In a nested context
 *    a stage-1 entry is combined (walk caches may hold the result of
 *    both stages; the invalidation rule is the combined IOTLB entries'
 *    below): besides the table's IPA it holds the table's PA, stage 2
 *    applied when the walk fetched from it, so a walk that resumes there
 *    reads the next descriptor without translating its address (when the
 *    table straddles stage-2 leaves the entry holds the IPA alone).
 *  - IPA cache: stage-2 results (VMID, IPA page) -> PA page, used for the
 *    stage-1 table fetches and the final IPA of nested walks. It keeps
 *    what the IOTLB does not: the stage-2 leaves of stage-1 table fetches,
 *    and of a final IPA only a leaf larger than the stage-1 leaf (a
 *    smaller or equal one is all in the combined IOTLB entry filled by
 *    the same walk, and would only evict table entries); with the IOTLB
 *    off, every leaf. (xlate_s2(), a model's own stage-2 look-up, is a
 *    table fetch in this sense.)
 *  - Configuration cache: slots a model uses for decoded STE/CD or
 *    context/PASID entries, keyed by (stream id, substream id), with the
 *    same invalidation machinery (xlate_cfgc_*).
 *
 * Structure: each cache is set-associative with a configurable number of
 * entries, ways and replacement (LRU or random); a full set evicts one
 * entry, never the whole cache. Counters per cache: hits, misses, fills,
 * evictions, invalidations.
 *
 * Invalidation:
 *  - all, by VMID, by ASID within a VMID: O(1), by bumping a generation
 *    number that entries carry (ASID generations live in a hashed array;
 *    two contexts that share a slot invalidate each other, which is
 *    allowed: invalidating more than asked is always architecturally
 *    correct);
 *  - by input range for one ASID or for all ASIDs of a VMID, with the
 *    leaf-only hint (walk-cache entries survive) and the TTL hint (leaf
 *    entries of other levels survive; TTL names the leaf, so a non-leaf
 *    invalidation still removes the walk-cache entries above it): cost in
 *    proportion to the pages of the range times the leaf sizes present,
 *    and a range that would take more probes than a cache has sets is
 *    turned into the ASID flush (for any ASID: the VMID's stage-1 entries),
 *    so cost never grows with capacity;
 *  - by IPA range for a VMID: stage-2 walk-cache, IPA-cache and
 *    stage-2-only IOTLB entries (too large a range: the VMID's stage-2
 *    entries). Combined entries built over that IPA (IOTLB entries and
 *    combined stage-1 walk entries) are, by the architecture, only
 *    guaranteed gone after a stage-1 invalidation of the VMID (SMMU:
 *    CMD_TLBI_S2_IPA followed by CMD_TLBI_NH_ALL / S12_VMALL); with
 *    params.ipa_inval_conservative they are removed too (a VMID flush of
 *    combined entries, the stage-1 walk caches' included).
 *
 * Concurrency: many threads translate while one thread (per IOMMU) maps,
 * unmaps and invalidates: the invalidations of one cache must not run
 * concurrently with each other. A hit takes no lock: a reader checks a
 * set's sequence count before and after reading its ways. Fills take the
 * set's lock; a removal is one store to the way's tag. A walk that raced
 * an invalidation must not insert what it read: every invalidation
 * announces itself in its scope (all, a VMID, an ASID, the configuration
 * cache), then advances the cache's invalidation sequence; a walk that
 * starts while one of its scopes has an invalidation under way fills
 * nothing (it may be using entries about to be removed), and a fill only
 * goes in if none of its scopes announced an invalidation since the walk
 * began (checked under the set lock). Invalidations of other contexts
 * leave fills alone. Guarantee: once pt_unmap() and the matching
 * invalidation have returned, no translation that starts afterwards
 * returns the old page. Table pages that leave a tree are reused only
 * after a grace period (util/epoch.h), so a walker still inside an old
 * table reads stale but valid memory. The walk caches name tables too,
 * until the invalidation: an owner whose unmaps free tables brackets each
 * unmap and its invalidation with epoch_hold() / epoch_release(), so that
 * those tables' grace period starts only when no cache entry leads to
 * them any more.
 */
#ifndef UIOMMU_XLATE_CACHE_H
#define UIOMMU_XLATE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"

struct xlate_cache;

enum xlate_repl {
	XLATE_REPL_LRU = 0,
	XLATE_REPL_RANDOM,
};

struct xlate_cache_geom {
	unsigned int entries; /* 0: this cache is off */
	unsigned int ways;    /* 0: fully associative up to 16 ways, else a divisor of entries */
};

struct xlate_cache_params {
	struct xlate_cache_geom iotlb;
	struct xlate_cache_geom walk[2]; /* [0] stage 1, [1] stage 2; entries per level */
	struct xlate_cache_geom ipa;
	struct xlate_cache_geom cfg;
	enum xlate_repl repl;
	uint64_t seed;		      /* random replacement: fixed seed, reproducible */
	bool ipa_inval_conservative;  /* IPA invalidation also drops combined entries */
};

/* Sensible defaults: 4K-entry 4-way IOTLB, 256-entry walk caches, 1K IPA cache, LRU. */
void xlate_cache_params_default(struct xlate_cache_params *p);

int xlate_cache_new(const struct xlate_cache_params *p, struct xlate_cache **out);
void xlate_cache_free(struct xlate_cache *c);

/* The context a translation runs in. */
struct xlate_tag {
	uint16_t vmid; /* VMID (SMMU) or DID (VT-d); 0 when there is no stage 2 */
	uint32_t asid; /* ASID (SMMU) or PASID (VT-d) */
};

#define XLATE_INV_LEAF	  (1u << 0) /* leaf-only: walk-cache entries are kept */
#define XLATE_ANY_ASID	  UINT32_MAX /* xlate_inv_range: every ASID of the VMID (TLBI VAA) */

void xlate_inv_all(struct xlate_cache *c);
void xlate_inv_vmid(struct xlate_cache *c, uint16_t vmid);
void xlate_inv_asid(struct xlate_cache *c, uint16_t vmid, uint32_t asid);
/* @ttl: the level of the leaf being invalidated (architectural numbering), or -1. */
void xlate_inv_range(struct xlate_cache *c, uint16_t vmid, uint32_t asid, uint64_t iova,
		     uint64_t size, unsigned int flags, int ttl);
void xlate_inv_ipa(struct xlate_cache *c, uint16_t vmid, uint64_t ipa, uint64_t size,
		   unsigned int flags, int ttl);

/*
 * Counters of one cache. evictions: live entries replaced for space;
 * invalidated: entries removed by range invalidations (flushes kill
 * entries without visiting them, so they are not counted).
 */
struct xlate_cache_counters {
	uint64_t hits, misses, fills, evictions, invalidated;
};

enum xlate_cache_id {
	XLATE_CACHE_IOTLB = 0,
	XLATE_CACHE_WALK_S1, /* per level: see stats.walk[stage][depth] */
	XLATE_CACHE_WALK_S2,
	XLATE_CACHE_IPA,
	XLATE_CACHE_CFG,
};

struct xlate_cache_stats {
	struct xlate_cache_counters iotlb, ipa, cfg;
	struct xlate_cache_counters walk[2][PT_MAX_LEVELS]; /* by stage, then depth */
};

void xlate_cache_get_stats(const struct xlate_cache *c, struct xlate_cache_stats *s);
void xlate_cache_reset_stats(struct xlate_cache *c);

/*
 * Every live cache of the process (the public statistics, uiommu_stats_*):
 * the sum of their counters, and how many there are; and a reset of all.
 * A fork()ed child starts with none (its copies of the parent's caches are
 * not its own: its files forward to the parent).
 */
unsigned int xlate_cache_stats_all(struct xlate_cache_stats *sum);
void xlate_cache_reset_all(void);
const char *xlate_cache_name(enum xlate_cache_id id);

/*
 * Configuration cache: a model stores a decoded structure (up to
 * XLATE_CFGC_BYTES) under (sid, ssid) and looks it up on the next
 * transaction; invalidated by xlate_cfgc_inv (one stream / substream,
 * UINT32_MAX for all substreams), xlate_cfgc_inv_all, and xlate_inv_all.
 * An insert that follows a missed lookup of the same (sid, ssid) on the
 * same thread is dropped if an invalidation of the configuration cache
 * came in between (the structure was read before it): look up, fetch and
 * decode, insert.
 */
#define XLATE_CFGC_BYTES 128
bool xlate_cfgc_lookup(struct xlate_cache *c, uint32_t sid, uint32_t ssid, void *buf);
void xlate_cfgc_insert(struct xlate_cache *c, uint32_t sid, uint32_t ssid, const void *buf,
		       unsigned int len);
void xlate_cfgc_inv(struct xlate_cache *c, uint32_t sid, uint32_t ssid);
void xlate_cfgc_inv_all(struct xlate_cache *c);

#endif
