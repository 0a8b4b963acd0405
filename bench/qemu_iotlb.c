// SPDX-License-Identifier: MIT
/*
 * bench/qemu_iotlb.c - a QEMU-style IOTLB, the baseline that W4 and W6
 * compare our caches with (perf.md §2.1, §3.3, §5).
 *
 * Written from the published description of QEMU's SMMUv3 IOTLB, not from
 * its code. What it keeps of that design, because that is what costs:
 *
 *  - the table is a GLib GHashTable whose keys and values are separate heap
 *    objects: hash and equality go through function pointers, and every
 *    lookup builds a key on the stack and chases the bucket's pointers;
 *  - the key is (iova of the page, ASID, VMID, translation granule, level),
 *    so one lookup can only find an entry of one page size: a translation
 *    probes from the input stage's start level down to level 3, one hash
 *    lookup each, and a 4K hit costs four lookups over a 4-level table
 *    (three of them misses);
 *  - the hash is a Jenkins-style mix (the final() of Bob Jenkins' public
 *    domain lookup3) of the key's words;
 *  - a miss walks the tables (here our own walker with no caches, so the
 *    difference measured is the IOTLB's), allocates a key and an entry with
 *    g_new0 and inserts them; when the table already holds its capacity it
 *    is emptied first (g_hash_table_remove_all), which is QEMU's
 *    flush-everything-when-full policy;
 *  - stage-2-only entries use ASID -1, as QEMU's do.
 *
 * No lock, no trace points, no config lookup: the figure is the IOTLB's
 * alone, which flatters the baseline.
 */
#include <glib.h>
#include <stdlib.h>

#include "qemu_iotlb.h"

struct qkey {
	uint64_t iova;
	int32_t asid;
	uint16_t vmid;
	uint8_t tg, level;
};

struct qentry {
	uint64_t iova, translated_addr, addr_mask;
	unsigned int perm;
	uint8_t level, granule;
};

struct qiotlb {
	GHashTable *h;
	unsigned int capacity;
	int start_level;
	uint8_t tg;
	uint64_t level_mask[4]; /* page mask of an entry at architectural level 0..3 */
	struct qiotlb_stats st;
};

static inline uint32_t rot(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

static guint qkey_hash(gconstpointer p)
{
	const struct qkey *k = p;
	uint32_t a, b, c;

	a = b = c = 0xdeadbeef + (uint32_t)sizeof(*k);
	a += (uint32_t)k->asid + ((uint32_t)k->vmid << 16);
	b += (uint32_t)k->iova;
	c += (uint32_t)(k->iova >> 32) + ((uint32_t)k->tg << 8) + ((uint32_t)k->level << 16);
	/* lookup3 final() */
	c ^= b;
	c -= rot(b, 14);
	a ^= c;
	a -= rot(c, 11);
	b ^= a;
	b -= rot(a, 25);
	c ^= b;
	c -= rot(b, 16);
	a ^= c;
	a -= rot(c, 4);
	b ^= a;
	b -= rot(a, 14);
	c ^= b;
	c -= rot(b, 24);
	return c;
}

static gboolean qkey_equal(gconstpointer pa, gconstpointer pb)
{
	const struct qkey *a = pa, *b = pb;

	return a->iova == b->iova && a->asid == b->asid && a->vmid == b->vmid && a->tg == b->tg &&
	       a->level == b->level;
}

struct qiotlb *qiotlb_new(unsigned int capacity, const struct pt_cfg *in)
{
	struct qiotlb *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->h = g_hash_table_new_full(qkey_hash, qkey_equal, g_free, g_free);
	q->capacity = capacity;
	q->start_level = in->start_level;
	q->tg = (uint8_t)in->granule_shift;
	for (unsigned int d = 0; d < in->nlevels; d++) {
		int level = pt_level(in, d);

		if (level >= 0 && level < 4)
			q->level_mask[level] = pt_entry_size(in, d) - 1;
	}
	return q;
}

void qiotlb_free(struct qiotlb *q)
{
	if (!q)
		return;
	g_hash_table_destroy(q->h);
	free(q);
}

static int level_of_size(const struct qiotlb *q, uint64_t size)
{
	for (int l = 3; l >= q->start_level; l--)
		if (q->level_mask[l] + 1 >= size)
			return l;
	return 3;
}

enum pt_fault_reason qiotlb_translate(struct qiotlb *q, const struct xlate_cfg *xc, uint64_t iova,
				      unsigned int access, uint64_t *pa, bool *hit)
{
	int32_t asid = xc->s1.cfg ? (int32_t)xc->tag.asid : -1;
	struct xlate_result res;
	enum pt_fault_reason f;
	struct qentry *e;
	struct qkey key, *k;

	for (int level = q->start_level; level <= 3; level++) {
		key = (struct qkey){.iova = iova & ~q->level_mask[level],
				    .asid = asid,
				    .vmid = xc->tag.vmid,
				    .tg = q->tg,
				    .level = (uint8_t)level};
		q->st.probes++;
		e = g_hash_table_lookup(q->h, &key);
		if (e && (e->perm & access) == access) {
			q->st.hits++;
			*hit = true;
			*pa = e->translated_addr + (iova & e->addr_mask);
			return PT_OK;
		}
	}
	q->st.misses++;
	*hit = false;
	f = xlate(xc, iova, access, &res, NULL, NULL);
	if (f != PT_OK)
		return f;
	if (g_hash_table_size(q->h) >= q->capacity) {
		g_hash_table_remove_all(q->h);
		q->st.flushes++;
	}
	k = g_new0(struct qkey, 1);
	e = g_new0(struct qentry, 1);
	e->level = (uint8_t)level_of_size(q, res.size);
	e->addr_mask = q->level_mask[e->level];
	e->iova = iova & ~e->addr_mask;
	e->translated_addr = res.pa & ~e->addr_mask;
	e->perm = res.prot;
	e->granule = q->tg;
	*k = (struct qkey){.iova = e->iova,
			   .asid = asid,
			   .vmid = xc->tag.vmid,
			   .tg = q->tg,
			   .level = e->level};
	g_hash_table_insert(q->h, k, e);
	*pa = res.pa;
	return PT_OK;
}

void qiotlb_get_stats(const struct qiotlb *q, struct qiotlb_stats *s)
{
	*s = q->st;
}

void qiotlb_reset_stats(struct qiotlb *q)
{
	q->st = (struct qiotlb_stats){0};
}
