// SPDX-License-Identifier: MIT
/*
 * vtd_ep.c - a PCIe endpoint's ATC and Page Request Interface behind the
 * VT-d model (vtd_ep.h).
 *
 * What it owns. The ATC: a small fully associative cache of completed
 * translation requests, each {PASID or none, input range (the leaf's
 * size, aligned), output address, permissions}, replaced round robin; the
 * 512 Page Request Group indexes (free, waiting, or answered with the code
 * kept until the waiter takes it); PRI Enable.
 *
 * PCIe rules it follows (ATS and PRI chapters):
 *  - An Invalidate Request without PASID removes every entry in its
 *    range, whatever its PASID; with a PASID, that PASID's entries, or
 *    every PASID's with Global set (more than Global asks for untagged
 *    entries is allowed). Size 0 in the message is everything.
 *  - A completion must not install what an invalidation that arrived
 *    after its request was sent removed: every invalidation bumps a
 *    generation read before the request, and an older fill is dropped
 *    (atc_fill_races).
 *  - A group index is busy from its page request to its response; a
 *    response for an index that is not waiting is ignored (prg_stray).
 *    Clearing PRI Enable answers the waiting groups Response Failure.
 *
 * The access path: ATC hit -> done. Miss -> Translation Request.
 * Success -> fill and done. A translation fault (a first- or second-stage
 * walk reason, 0x70 and above: the "no translation" completion) with PRI
 * enabled -> a page request for the page as its group's only (last)
 * request, and -EAGAIN. A configuration fault (the unit recorded it) ends
 * the access.
 *
 * Concurrency: one mutex over everything; the unit's messages come with
 * the unit's lock held, so nothing here calls the unit holding it.
 * prg_cond wakes waiters.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "hw/vtd/vtd_ep.h"
#include "util/alloc.h"

#define PRG_MAX 512

enum prg_state { PRG_FREE = 0, PRG_WAITING, PRG_ANSWERED };

struct atc_entry {
	bool valid, pasid_valid;
	uint32_t pasid;
	uint64_t base, size, pa;
	unsigned int prot;
};

struct vtd_ep {
	struct vtd_ep_params p;
	pthread_mutex_t lock;
	pthread_cond_t prg_cond;
	bool pri_enabled;
	struct atc_entry *atc;
	unsigned int next_victim;
	uint64_t gen;
	uint8_t prg_state[PRG_MAX], prg_code[PRG_MAX];
	uint16_t next_prgi;
	struct vtd_ep_stats stats;
};

int vtd_ep_new(const struct vtd_ep_params *p, struct vtd_ep **out)
{
	struct vtd_ep *ep;

	if (!p || !out || !p->atc_entries || p->atc_entries > 4096)
		return -EINVAL;
	ep = uzalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->p = *p;
	ep->atc = ucalloc(p->atc_entries, sizeof(*ep->atc));
	if (!ep->atc) {
		ufree(ep);
		return -ENOMEM;
	}
	pthread_mutex_init(&ep->lock, NULL);
	pthread_cond_init(&ep->prg_cond, NULL);
	*out = ep;
	return 0;
}

void vtd_ep_free(struct vtd_ep *ep)
{
	if (!ep)
		return;
	pthread_cond_destroy(&ep->prg_cond);
	pthread_mutex_destroy(&ep->lock);
	ufree(ep->atc);
	ufree(ep);
}

void vtd_ep_get_stats(struct vtd_ep *ep, struct vtd_ep_stats *st)
{
	pthread_mutex_lock(&ep->lock);
	*st = ep->stats;
	pthread_mutex_unlock(&ep->lock);
}

/* Lock held: answer every waiting group with @code. */
static void abort_groups(struct vtd_ep *ep, uint8_t code)
{
	for (unsigned int i = 0; i < PRG_MAX; i++) {
		if (ep->prg_state[i] == PRG_WAITING) {
			ep->prg_state[i] = PRG_ANSWERED;
			ep->prg_code[i] = code;
		}
	}
	pthread_cond_broadcast(&ep->prg_cond);
}

void vtd_ep_set_pri(struct vtd_ep *ep, bool enable)
{
	pthread_mutex_lock(&ep->lock);
	ep->pri_enabled = enable && ep->p.pri;
	if (!ep->pri_enabled)
		abort_groups(ep, VTD_PRG_FAILURE);
	pthread_mutex_unlock(&ep->lock);
}

void vtd_ep_prg_abort(struct vtd_ep *ep)
{
	pthread_mutex_lock(&ep->lock);
	abort_groups(ep, VTD_PRG_FAILURE);
	pthread_mutex_unlock(&ep->lock);
}

static bool inv_hits(const struct vtd_dev_msg *m, const struct atc_entry *e)
{
	if (m->pasid_valid && !m->global && (!e->pasid_valid || e->pasid != m->pasid))
		return false;
	if (!m->size)
		return true;
	return e->base <= m->addr + m->size - 1 && e->base + e->size - 1 >= m->addr;
}

void vtd_ep_msg(struct vtd_ep *ep, const struct vtd_dev_msg *m)
{
	unsigned int i = m->prgi & (PRG_MAX - 1);

	pthread_mutex_lock(&ep->lock);
	if (m->type == VTD_MSG_ATS_INV) {
		ep->gen++;
		ep->stats.atc_invs++;
		for (unsigned int k = 0; k < ep->p.atc_entries; k++)
			if (ep->atc[k].valid && inv_hits(m, &ep->atc[k]))
				ep->atc[k].valid = false;
	} else if (ep->prg_state[i] != PRG_WAITING) {
		ep->stats.prg_stray++;
	} else {
		ep->prg_state[i] = PRG_ANSWERED;
		ep->prg_code[i] = m->code;
		if (m->code == VTD_PRG_SUCCESS)
			ep->stats.prg_success++;
		else if (m->code == VTD_PRG_INVALID)
			ep->stats.prg_invalid++;
		else
			ep->stats.prg_failure++;
		pthread_cond_broadcast(&ep->prg_cond);
	}
	pthread_mutex_unlock(&ep->lock);
}

int vtd_ep_prg_wait(struct vtd_ep *ep, uint16_t prgi)
{
	int ret;

	if (prgi >= PRG_MAX)
		return -ENOENT;
	pthread_mutex_lock(&ep->lock);
	if (ep->prg_state[prgi] == PRG_FREE) {
		pthread_mutex_unlock(&ep->lock);
		return -ENOENT;
	}
	while (ep->prg_state[prgi] == PRG_WAITING)
		pthread_cond_wait(&ep->prg_cond, &ep->lock);
	ret = ep->prg_code[prgi];
	ep->prg_state[prgi] = PRG_FREE;
	pthread_mutex_unlock(&ep->lock);
	return ret;
}

/* Lock held: a free group index, now waiting; -EBUSY when all 512 are. */
static int prg_alloc(struct vtd_ep *ep, uint16_t *prgi)
{
	for (unsigned int n = 0; n < PRG_MAX; n++) {
		unsigned int i = (ep->next_prgi + n) & (PRG_MAX - 1);

		if (ep->prg_state[i] == PRG_FREE) {
			ep->prg_state[i] = PRG_WAITING;
			ep->next_prgi = (uint16_t)((i + 1) & (PRG_MAX - 1));
			*prgi = (uint16_t)i;
			return 0;
		}
	}
	return -EBUSY;
}

static struct atc_entry *atc_find(struct vtd_ep *ep, const struct vtd_txn *t)
{
	unsigned int access = t->access & (PT_PROT_R | PT_PROT_W);
	bool pv = t->pasid != VTD_NO_PASID;

	for (unsigned int i = 0; i < ep->p.atc_entries; i++) {
		struct atc_entry *e = &ep->atc[i];

		if (e->valid && e->pasid_valid == pv && (!pv || e->pasid == t->pasid) &&
		    t->addr - e->base < e->size && (e->prot & access) == access)
			return e;
	}
	return NULL;
}

unsigned int vtd_ep_atc_count(struct vtd_ep *ep)
{
	unsigned int n = 0;

	pthread_mutex_lock(&ep->lock);
	for (unsigned int i = 0; i < ep->p.atc_entries; i++)
		n += ep->atc[i].valid;
	pthread_mutex_unlock(&ep->lock);
	return n;
}

int vtd_ep_translate(struct vtd_ep *ep, struct vtd *v, const struct vtd_txn *t,
		     struct vtd_result *r, uint16_t *prgi)
{
	struct vtd_txn req = *t;
	struct vtd_page_req pr;
	struct atc_entry *e;
	uint64_t gen, size;
	int ret;

	pthread_mutex_lock(&ep->lock);
	e = atc_find(ep, t);
	if (e) {
		memset(r, 0, sizeof(*r));
		r->pa = e->pa + (t->addr - e->base);
		r->size = e->size;
		r->prot = e->prot;
		r->iotlb_hit = true;
		ep->stats.atc_hits++;
		pthread_mutex_unlock(&ep->lock);
		return 0;
	}
	ep->stats.atc_misses++;
	gen = ep->gen;
	pthread_mutex_unlock(&ep->lock);

	req.ats_req = true;
	ret = vtd_translate(v, &req, r);
	if (!ret) {
		size = r->size && !(r->size & (r->size - 1)) ? r->size : 4096;
		pthread_mutex_lock(&ep->lock);
		if (gen != ep->gen) {
			ep->stats.atc_fill_races++;
		} else {
			e = &ep->atc[ep->next_victim];
			ep->next_victim = (ep->next_victim + 1) % ep->p.atc_entries;
			*e = (struct atc_entry){.valid = true,
						.pasid_valid = t->pasid != VTD_NO_PASID,
						.pasid = t->pasid,
						.base = t->addr & ~(size - 1),
						.size = size,
						.pa = r->pa & ~(size - 1),
						.prot = r->prot};
			ep->stats.atc_fills++;
		}
		pthread_mutex_unlock(&ep->lock);
		r->iotlb_hit = false;
		return 0;
	}
	if (ret != -EFAULT || !prgi || r->reason < VTD_FR_FS_READ_ERR)
		return ret;
	pthread_mutex_lock(&ep->lock);
	if (!ep->pri_enabled || prg_alloc(ep, &pr.prgi)) {
		pthread_mutex_unlock(&ep->lock);
		return ret;
	}
	ep->stats.page_reqs++;
	pthread_mutex_unlock(&ep->lock);
	pr.sid = t->sid;
	pr.pasid_valid = t->pasid != VTD_NO_PASID;
	pr.pasid = pr.pasid_valid ? t->pasid : 0;
	pr.addr = t->addr & ~0xfffULL;
	pr.read = t->access & PT_PROT_R;
	pr.write = t->access & PT_PROT_W;
	pr.exe = t->access & PT_PROT_X;
	pr.priv = pr.pasid_valid && !(t->access & PT_PROT_U);
	pr.last = true;
	if (vtd_page_request(v, &pr) == -EINVAL) {
		/* Nothing was sent: nothing will answer. */
		struct vtd_dev_msg none = {
			.type = VTD_MSG_PRG_RESP, .prgi = pr.prgi, .code = VTD_PRG_FAILURE};

		vtd_ep_msg(ep, &none);
	}
	*prgi = pr.prgi;
	return -EAGAIN;
}
