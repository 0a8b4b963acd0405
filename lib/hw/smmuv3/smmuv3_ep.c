// SPDX-License-Identifier: MIT
/*
 * smmuv3_ep.c - a PCIe endpoint's ATC and Page Request Interface, the far
 * side of the SMMUv3 model's ATS port (smmuv3_ep.h).
 *
 * What it owns. The ATC: a small fully associative cache of completed
 * translation requests, each {PASID or none, input range (the leaf's
 * size, aligned), output address, permissions}, replaced round robin. And
 * the 512 Page Request Group indexes: free, or waiting for a response, or
 * answered (the code kept until the waiter takes it).
 *
 * PCIe rules it follows (ATS and PRI chapters, as IHI 0070 §3.9 and §4.5
 * restate them):
 *  - An Invalidate Request without PASID removes every entry in the range,
 *    whatever its PASID; with a PASID, that PASID's entries, or with
 *    Global set every PASID's (more than the flag asks, which is allowed).
 *    The range is 4096 << Size bytes aligned to itself; Size 52 and above
 *    is everything.
 *  - A translation completion must not install what an invalidation that
 *    completed after the request was sent removed: every invalidation
 *    bumps a generation, and a fill carries the generation read before its
 *    request (smmuv3_ep_atc_gen); a fill older than the last invalidation
 *    is dropped (counted in atc_fill_races).
 *  - A group index stays busy from its page request to its response; a
 *    response for an index that is not waiting is ignored (prg_stray).
 *
 * The access path (smmuv3_ep_translate): ATC hit -> done (a Translated
 * transaction, which the SMMU lets through with ATSCHK = 0). Miss ->
 * Translation Request. Success -> fill and done. A translation fault with
 * PRI enabled -> a page request for the page with the access's
 * permissions as its group's only (Last) request, and -EAGAIN: the caller
 * waits for the response (smmuv3_ep_prg_wait) and, on Success, tries the
 * access again; anything else fails it.
 *
 * Concurrency: one mutex over both parts; messages from the SMMU come
 * with the SMMU's lock held, so this lock is taken inside it and nothing
 * here calls into the SMMU while holding it. prg_cond wakes waiters.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_ep.h"
#include "util/alloc.h"

#define PRG_MAX 512

enum prg_state { PRG_FREE = 0, PRG_WAITING, PRG_ANSWERED };

struct atc_entry {
	bool valid;
	uint32_t ssid;
	uint64_t base, size, pa;
	unsigned int prot;
};

struct smmuv3_ep {
	struct smmuv3_ep_params p;
	pthread_mutex_t lock;
	pthread_cond_t prg_cond;
	struct atc_entry *atc;
	unsigned int next_victim;
	uint64_t gen; /* invalidations seen */
	uint8_t prg_state[PRG_MAX], prg_code[PRG_MAX];
	uint16_t next_prgi;
	struct smmuv3_ep_stats stats;
};

int smmuv3_ep_new(const struct smmuv3_ep_params *p, struct smmuv3_ep **out)
{
	struct smmuv3_ep *ep;

	if (!p || !out || p->atc_entries > 4096)
		return -EINVAL;
	ep = uzalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->p = *p;
	if (p->atc_entries) {
		ep->atc = ucalloc(p->atc_entries, sizeof(*ep->atc));
		if (!ep->atc) {
			ufree(ep);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&ep->lock, NULL);
	pthread_cond_init(&ep->prg_cond, NULL);
	*out = ep;
	return 0;
}

void smmuv3_ep_free(struct smmuv3_ep *ep)
{
	if (!ep)
		return;
	pthread_cond_destroy(&ep->prg_cond);
	pthread_mutex_destroy(&ep->lock);
	ufree(ep->atc);
	ufree(ep);
}

void smmuv3_ep_get_stats(struct smmuv3_ep *ep, struct smmuv3_ep_stats *st)
{
	pthread_mutex_lock(&ep->lock);
	*st = ep->stats;
	pthread_mutex_unlock(&ep->lock);
}

/* ---------------------------------------------------------------------- */
/* Page Request Groups                                                     */

void smmuv3_ep_prg_resp(struct smmuv3_ep *ep, const struct smmuv3_prg_resp *r)
{
	unsigned int i = r->prgi & (PRG_MAX - 1);

	pthread_mutex_lock(&ep->lock);
	if (ep->prg_state[i] != PRG_WAITING) {
		ep->stats.prg_stray++;
	} else {
		ep->prg_state[i] = PRG_ANSWERED;
		ep->prg_code[i] = r->code;
		if (r->code == SMMU_PRG_SUCCESS)
			ep->stats.prg_success++;
		else if (r->code == SMMU_PRG_INVALID)
			ep->stats.prg_invalid++;
		else
			ep->stats.prg_failure++;
		pthread_cond_broadcast(&ep->prg_cond);
	}
	pthread_mutex_unlock(&ep->lock);
}

int smmuv3_ep_prg_alloc(struct smmuv3_ep *ep, uint16_t *prgi)
{
	int ret = -EBUSY;

	pthread_mutex_lock(&ep->lock);
	for (unsigned int n = 0; n < PRG_MAX; n++) {
		unsigned int i = (ep->next_prgi + n) & (PRG_MAX - 1);

		if (ep->prg_state[i] == PRG_FREE) {
			ep->prg_state[i] = PRG_WAITING;
			ep->next_prgi = (uint16_t)((i + 1) & (PRG_MAX - 1));
			*prgi = (uint16_t)i;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ep->lock);
	return ret;
}

int smmuv3_ep_prg_wait(struct smmuv3_ep *ep, uint16_t prgi)
{
	unsigned int i = prgi;
	int ret;

	if (i >= PRG_MAX)
		return -ENOENT;
	pthread_mutex_lock(&ep->lock);
	if (ep->prg_state[i] == PRG_FREE) {
		pthread_mutex_unlock(&ep->lock);
		return -ENOENT;
	}
	while (ep->prg_state[i] == PRG_WAITING)
		pthread_cond_wait(&ep->prg_cond, &ep->lock);
	ret = ep->prg_code[i];
	ep->prg_state[i] = PRG_FREE;
	pthread_mutex_unlock(&ep->lock);
	return ret;
}

void smmuv3_ep_prg_abort(struct smmuv3_ep *ep)
{
	pthread_mutex_lock(&ep->lock);
	for (unsigned int i = 0; i < PRG_MAX; i++) {
		if (ep->prg_state[i] == PRG_WAITING) {
			ep->prg_state[i] = PRG_ANSWERED;
			ep->prg_code[i] = SMMU_PRG_FAILURE;
		}
	}
	pthread_cond_broadcast(&ep->prg_cond);
	pthread_mutex_unlock(&ep->lock);
}

/* ---------------------------------------------------------------------- */
/* ATC                                                                     */

static bool inv_hits(const struct smmuv3_atc_inv *inv, const struct atc_entry *e)
{
	uint64_t first, last;

	if (inv->ssid != SMMU_NO_SSID && !inv->global && e->ssid != inv->ssid)
		return false;
	if (inv->size_log2 >= 52)
		return true;
	first = inv->addr & ~((4096ULL << inv->size_log2) - 1);
	last = first + (4096ULL << inv->size_log2) - 1;
	return e->base <= last && e->base + e->size - 1 >= first;
}

int smmuv3_ep_atc_inv(struct smmuv3_ep *ep, const struct smmuv3_atc_inv *inv)
{
	pthread_mutex_lock(&ep->lock);
	ep->gen++;
	ep->stats.atc_invs++;
	for (unsigned int i = 0; i < ep->p.atc_entries; i++)
		if (ep->atc[i].valid && inv_hits(inv, &ep->atc[i]))
			ep->atc[i].valid = false;
	pthread_mutex_unlock(&ep->lock);
	return 0;
}

uint64_t smmuv3_ep_atc_gen(struct smmuv3_ep *ep)
{
	uint64_t g;

	pthread_mutex_lock(&ep->lock);
	g = ep->gen;
	pthread_mutex_unlock(&ep->lock);
	return g;
}

/* The entry translating (@ssid, @addr) for @access, or NULL. Lock held. */
static struct atc_entry *atc_find(struct smmuv3_ep *ep, uint32_t ssid, uint64_t addr,
				  unsigned int access)
{
	access &= PT_PROT_R | PT_PROT_W;
	for (unsigned int i = 0; i < ep->p.atc_entries; i++) {
		struct atc_entry *e = &ep->atc[i];

		if (e->valid && e->ssid == ssid && addr - e->base < e->size &&
		    (e->prot & access) == access)
			return e;
	}
	return NULL;
}

int smmuv3_ep_atc_lookup(struct smmuv3_ep *ep, uint32_t ssid, uint64_t addr, unsigned int access,
			 uint64_t *pa, uint64_t *left)
{
	struct atc_entry *e;
	int ret = -ENOENT;

	pthread_mutex_lock(&ep->lock);
	e = ep->atc ? atc_find(ep, ssid, addr, access) : NULL;
	if (e) {
		*pa = e->pa + (addr - e->base);
		*left = e->size - (addr - e->base);
		ret = 0;
	}
	pthread_mutex_unlock(&ep->lock);
	return ret;
}

void smmuv3_ep_atc_fill(struct smmuv3_ep *ep, uint64_t gen, uint32_t ssid, uint64_t addr,
			const struct smmuv3_result *r)
{
	uint64_t size = r->size && !(r->size & (r->size - 1)) ? r->size : 4096;
	struct atc_entry *e;

	if (!ep->atc)
		return;
	pthread_mutex_lock(&ep->lock);
	if (gen != ep->gen) {
		ep->stats.atc_fill_races++;
		goto out;
	}
	e = atc_find(ep, ssid, addr, r->prot);
	if (!e) {
		e = &ep->atc[ep->next_victim];
		ep->next_victim = (ep->next_victim + 1) % ep->p.atc_entries;
		if (e->valid)
			ep->stats.atc_evicted++;
	}
	*e = (struct atc_entry){ .valid = true, .ssid = ssid, .base = addr & ~(size - 1),
				 .size = size, .pa = r->pa & ~(size - 1), .prot = r->prot };
	ep->stats.atc_fills++;
out:
	pthread_mutex_unlock(&ep->lock);
}

unsigned int smmuv3_ep_atc_count(struct smmuv3_ep *ep)
{
	unsigned int n = 0;

	pthread_mutex_lock(&ep->lock);
	for (unsigned int i = 0; i < ep->p.atc_entries; i++)
		n += ep->atc[i].valid;
	pthread_mutex_unlock(&ep->lock);
	return n;
}

/* ---------------------------------------------------------------------- */
/* The access path                                                         */

static bool pri_fault(enum smmuv3_event_type e)
{
	switch (e) {
	case SMMU_EVT_F_TRANSLATION:
	case SMMU_EVT_F_ADDR_SIZE:
	case SMMU_EVT_F_ACCESS:
	case SMMU_EVT_F_PERMISSION:
		return true;
	default:
		return false;
	}
}

static void count(struct smmuv3_ep *ep, uint64_t *c)
{
	pthread_mutex_lock(&ep->lock);
	(*c)++;
	pthread_mutex_unlock(&ep->lock);
}

int smmuv3_ep_translate(struct smmuv3_ep *ep, struct smmuv3 *s, const struct smmuv3_txn *t,
			struct smmuv3_result *r, uint16_t *prgi)
{
	struct smmuv3_ppr ppr;
	struct atc_entry *e;
	uint64_t gen;
	int ret;

	if (!ep || !ep->atc)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&ep->lock);
	e = atc_find(ep, t->ssid, t->addr, t->access);
	if (e) {
		memset(r, 0, sizeof(*r));
		r->pa = e->pa + (t->addr - e->base);
		r->size = e->size; /* aligned: the leaf the completion described */
		r->prot = e->prot;
		r->iotlb_hit = true;
		ep->stats.atc_hits++;
		pthread_mutex_unlock(&ep->lock);
		return 0;
	}
	ep->stats.atc_misses++;
	gen = ep->gen;
	pthread_mutex_unlock(&ep->lock);
	ret = smmuv3_ats_translate(s, t, r);
	if (!ret) {
		smmuv3_ep_atc_fill(ep, gen, t->ssid, t->addr, r);
		r->iotlb_hit = false;
		return 0;
	}
	if (ret != -EFAULT || !ep->p.pri || !pri_fault(r->event) || !prgi)
		return ret;
	if (smmuv3_ep_prg_alloc(ep, &ppr.prgi))
		return -EFAULT;
	ppr.sid = t->sid;
	ppr.ssid = t->ssid;
	ppr.addr = t->addr & ~0xfffULL;
	ppr.perm = t->access;
	ppr.last = true;
	count(ep, &ep->stats.page_reqs);
	if (smmuv3_pri_request(s, &ppr) == -EINVAL) {
		/* Nothing was sent: nothing will answer. */
		struct smmuv3_prg_resp none = { .prgi = ppr.prgi, .code = SMMU_PRG_FAILURE };

		smmuv3_ep_prg_resp(ep, &none);
	}
	*prgi = ppr.prgi;
	return -EAGAIN;
}
