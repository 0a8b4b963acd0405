// SPDX-License-Identifier: MIT
/*
 * cache_reg.c - the process's list of live translation caches, so that the
 * public statistics (uiommu_stats_get("cache.iotlb.hits") ...) can sum the
 * counters of every IOMMU model's caches without knowing the models.
 *
 * What it owns. A doubly linked list through struct xlate_cache (reg_next,
 * reg_pprev), under one mutex. xlate_cache_new() adds a cache once it is
 * complete, xlate_cache_free() takes it off before freeing anything; a
 * cache that never made it on (a failed new) has reg_pprev NULL.
 *
 * Fork. The mutex is taken around fork() (pthread_atfork), so a child
 * never inherits it locked. The child's copies of the parent's caches are
 * not its own (its inherited files forward to the parent, which keeps
 * translating), so the child empties its list: every entry is detached
 * (reg_pprev NULL) and a later free of one of those copies touches the
 * list no more. Counting is the caches' own (cache.c, per-thread shards);
 * this file adds nothing to a translation.
 */
#include <pthread.h>
#include <string.h>

#include "xlate/cache_int.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xlate_cache *reg_head;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void reg_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
}

static void reg_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
}

static void reg_child(void)
{
	struct xlate_cache *c = reg_head, *next;

	for (; c; c = next) {
		next = c->reg_next;
		c->reg_next = NULL;
		c->reg_pprev = NULL;
	}
	reg_head = NULL;
	pthread_mutex_unlock(&reg_lock);
}

static void reg_init(void)
{
	pthread_atfork(reg_prepare, reg_parent, reg_child);
}

void xc_reg_add(struct xlate_cache *c)
{
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_lock);
	c->reg_next = reg_head;
	if (reg_head)
		reg_head->reg_pprev = &c->reg_next;
	reg_head = c;
	c->reg_pprev = &reg_head;
	pthread_mutex_unlock(&reg_lock);
}

void xc_reg_del(struct xlate_cache *c)
{
	pthread_mutex_lock(&reg_lock);
	if (c->reg_pprev) {
		*c->reg_pprev = c->reg_next;
		if (c->reg_next)
			c->reg_next->reg_pprev = c->reg_pprev;
		c->reg_next = NULL;
		c->reg_pprev = NULL;
	}
	pthread_mutex_unlock(&reg_lock);
}

static void add_ctrs(struct xlate_cache_counters *sum, const struct xlate_cache_counters *k)
{
	sum->hits += k->hits;
	sum->misses += k->misses;
	sum->fills += k->fills;
	sum->evictions += k->evictions;
	sum->invalidated += k->invalidated;
}

unsigned int xlate_cache_stats_all(struct xlate_cache_stats *sum)
{
	unsigned int n = 0;

	memset(sum, 0, sizeof(*sum));
	pthread_mutex_lock(&reg_lock);
	for (const struct xlate_cache *c = reg_head; c; c = c->reg_next, n++) {
		struct xlate_cache_stats s;

		xlate_cache_get_stats(c, &s);
		add_ctrs(&sum->iotlb, &s.iotlb);
		add_ctrs(&sum->ipa, &s.ipa);
		add_ctrs(&sum->cfg, &s.cfg);
		for (int st = 0; st < 2; st++)
			for (int d = 0; d < PT_MAX_LEVELS; d++)
				add_ctrs(&sum->walk[st][d], &s.walk[st][d]);
	}
	pthread_mutex_unlock(&reg_lock);
	return n;
}

void xlate_cache_reset_all(void)
{
	pthread_mutex_lock(&reg_lock);
	for (struct xlate_cache *c = reg_head; c; c = c->reg_next)
		xlate_cache_reset_stats(c);
	pthread_mutex_unlock(&reg_lock);
}
