// SPDX-License-Identifier: MIT
/*
 * smmuv3_ep.c - a PCIe endpoint's ATC and Page Request Interface, the far
 * side of the SMMUv3 model's ATS port (smmuv3_ep.h).
 *
 * What it owns: the SMMUv3 side of a function's ATS and PRI. The ATC and
 * the Page Request Group indexes, with PCIe's rules, are lib/hw/pcie_ep.c
 * (shared with the VT-d endpoint); here are the SMMU's message formats
 * (an ATC_INV's range is 4096 << Size bytes aligned to itself, Size 52 and
 * above is everything; SSID SMMU_NO_SSID is "no PASID"), the faults that
 * start a page request, and the access path.
 *
 * The access path (smmuv3_ep_translate_len): ATC hit -> done (a
 * Translated transaction, which the SMMU lets through with ATSCHK = 0).
 * Miss -> Translation Request. Success -> fill and done. A translation
 * fault with PRI enabled -> one Page Request Group for the access: the
 * faulting page, then every later page of the access that faults too
 * (the function asks for each with a Translation Request first, and
 * keeps the ones that succeed), in address order, with the access's
 * permissions, Last on the final one; at most as many as the Outstanding
 * Page Request Allocation leaves free (pcie_ep.c), the rest left for a
 * later group. Then -EAGAIN: the caller waits for the response
 * (smmuv3_ep_prg_wait) and, on Success, tries the access again; anything
 * else fails it. The SMMU sees the requests as they would come over the
 * link: one PRI queue record each, in order. A Response Failure (the
 * SMMU answers one itself with PRIQEN = 0 or PRIQ_ABT_ERR active, and
 * CMD_PRI_RESP Resp 0b00 sends one) sets the capability's Response
 * Failure: no page request until software clears Enable, writes Reset and
 * sets Enable again (pcie_ep.c); an access that faults meanwhile fails.
 *
 * Concurrency: pcie_ep.c's lock; nothing here calls into the SMMU while
 * holding it (messages from the SMMU come with the SMMU's lock held).
 */
#include <errno.h>
#include <string.h>

#include "hw/pcie_ep.h"
#include "hw/smmuv3/smmuv3_ep.h"
#include "util/alloc.h"

struct smmuv3_ep {
	struct smmuv3_ep_params p;
	struct pcie_ep core;
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
	if (pcie_ep_init(&ep->core, p->atc_entries)) {
		ufree(ep);
		return -ENOMEM;
	}
	pcie_pri_init(&ep->core, false, SMMU_PRG_FAILURE);
	if (p->pri)
		pcie_prg_enable(&ep->core, true, SMMU_PRG_FAILURE);
	if (p->pri_alloc)
		pcie_prg_set_alloc(&ep->core, p->pri_alloc);
	*out = ep;
	return 0;
}

void smmuv3_ep_free(struct smmuv3_ep *ep)
{
	if (!ep)
		return;
	pcie_ep_fini(&ep->core);
	ufree(ep);
}

void smmuv3_ep_get_stats(struct smmuv3_ep *ep, struct pcie_ep_stats *st)
{
	pcie_ep_get_stats(&ep->core, st);
}

/* ---------------------------------------------------------------------- */
/* Page Request Groups                                                     */

void smmuv3_ep_prg_resp(struct smmuv3_ep *ep, const struct smmuv3_prg_resp *r)
{
	pcie_prg_resp(&ep->core, r->prgi, r->code,
		      r->code == SMMU_PRG_SUCCESS   ? PCIE_PRG_SUCCESS
		      : r->code == SMMU_PRG_INVALID ? PCIE_PRG_INVALID
						    : PCIE_PRG_FAILURE);
}

int smmuv3_ep_prg_alloc(struct smmuv3_ep *ep, uint16_t *prgi)
{
	int ret = pcie_prg_alloc(&ep->core, prgi);

	return ret == -EPERM ? -EBUSY : ret;
}

int smmuv3_ep_prg_wait(struct smmuv3_ep *ep, uint16_t prgi)
{
	return pcie_prg_wait(&ep->core, prgi);
}

void smmuv3_ep_set_pri_alloc(struct smmuv3_ep *ep, unsigned int alloc)
{
	pcie_prg_set_alloc(&ep->core, alloc);
}

void smmuv3_ep_prg_abort(struct smmuv3_ep *ep)
{
	pcie_prg_abort(&ep->core, SMMU_PRG_FAILURE);
}

uint32_t smmuv3_ep_pri_cfg_read(struct smmuv3_ep *ep, unsigned int off, unsigned int size)
{
	return pcie_pri_cfg_read(&ep->core, off, size);
}

int smmuv3_ep_pri_cfg_write(struct smmuv3_ep *ep, unsigned int off, unsigned int size, uint32_t val)
{
	return pcie_pri_cfg_write(&ep->core, off, size, val);
}

/* ---------------------------------------------------------------------- */
/* ATC                                                                     */

int smmuv3_ep_atc_inv(struct smmuv3_ep *ep, const struct smmuv3_atc_inv *inv)
{
	uint64_t first = 0, last = UINT64_MAX;

	if (inv->size_log2 < 52) {
		first = inv->addr & ~((4096ULL << inv->size_log2) - 1);
		last = first + (4096ULL << inv->size_log2) - 1;
	}
	pcie_atc_inv(&ep->core, inv->ssid != SMMU_NO_SSID, inv->ssid, inv->global, first, last);
	return 0;
}

uint64_t smmuv3_ep_atc_gen(struct smmuv3_ep *ep)
{
	return pcie_atc_gen(&ep->core);
}

int smmuv3_ep_atc_lookup(struct smmuv3_ep *ep, uint32_t ssid, uint64_t addr, unsigned int access,
			 uint64_t *pa, uint64_t *left)
{
	return pcie_atc_lookup(&ep->core, ssid != SMMU_NO_SSID, ssid, addr, access, pa, left);
}

void smmuv3_ep_atc_fill(struct smmuv3_ep *ep, uint64_t gen, uint32_t ssid, uint64_t addr,
			const struct smmuv3_result *r)
{
	pcie_atc_fill(&ep->core, gen, ssid != SMMU_NO_SSID, ssid, addr, r->size, r->pa, r->prot);
}

unsigned int smmuv3_ep_atc_count(struct smmuv3_ep *ep)
{
	return pcie_atc_count(&ep->core);
}

/* ---------------------------------------------------------------------- */
/* The access path                                                         */

/* A Translation Request for one page of a page request group (pcie_treq_fn). */
struct prg_treq {
	struct smmuv3 *s;
	struct smmuv3_txn u;
};

static int prg_treq(void *arg, uint64_t addr, uint64_t *size, uint64_t *pa, unsigned int *prot)
{
	struct prg_treq *q = arg;
	struct smmuv3_result r;

	q->u.addr = addr;
	if (smmuv3_ats_translate(q->s, &q->u, &r))
		return smmuv3_evt_is_xlate_fault(r.event) ? 1 : -1;
	*size = r.size;
	*pa = r.pa;
	*prot = r.prot;
	return 0;
}

/* The pages of a page request group for an access of @len bytes at t->addr (pcie_prg_pages()). */
static unsigned int prg_pages(struct smmuv3_ep *ep, struct smmuv3 *s, const struct smmuv3_txn *t,
			      uint64_t len, uint64_t *pages, unsigned int max)
{
	struct prg_treq q = { .s = s, .u = *t };

	return pcie_prg_pages(&ep->core, t->ssid != SMMU_NO_SSID, t->ssid, t->addr, len, t->access,
			      prg_treq, &q, pages, max);
}

/* A page request of the group in *ppr, through the SMMU's PRI queue (pcie_prg_send()). */
struct pri_send {
	struct smmuv3 *s;
	struct smmuv3_ppr *ppr;
};

static int pri_send(void *arg, uint64_t addr, bool last)
{
	struct pri_send *ps = arg;

	ps->ppr->addr = addr;
	ps->ppr->last = last;
	return smmuv3_pri_request(ps->s, ps->ppr);
}

int smmuv3_ep_translate_len(struct smmuv3_ep *ep, struct smmuv3 *s, const struct smmuv3_txn *t,
			    uint64_t len, struct smmuv3_result *r, uint16_t *prgi)
{
	const bool pv = t->ssid != SMMU_NO_SSID;
	uint64_t gen = 0, pa, size, pages[PCIE_PRG_MAX];
	unsigned int prot, n, granted;
	struct smmuv3_ppr ppr;
	int ret;

	if (!ep || !ep->p.atc_entries)
		return -EOPNOTSUPP;
	if (pcie_atc_translate(&ep->core, pv, t->ssid, t->addr, t->access, &pa, &size, &prot,
			       &gen)) {
		memset(r, 0, sizeof(*r));
		r->pa = pa;
		r->size = size;
		r->prot = prot;
		r->iotlb_hit = true;
		return 0;
	}
	ret = smmuv3_ats_translate(s, t, r);
	if (!ret) {
		smmuv3_ep_atc_fill(ep, gen, t->ssid, t->addr, r);
		r->iotlb_hit = false;
		return 0;
	}
	if (ret != -EFAULT || !ep->p.pri || !smmuv3_evt_is_xlate_fault(r->event) || !prgi)
		return ret;
	n = prg_pages(ep, s, t, len ? len : 1, pages, pcie_prg_get_alloc(&ep->core));
	if (pcie_prg_open(&ep->core, n, &ppr.prgi, &granted))
		return -EFAULT;
	ppr.sid = t->sid;
	ppr.ssid = t->ssid;
	ppr.perm = t->access;
	{
		struct pri_send ps = {s, &ppr};

		pcie_prg_send(&ep->core, ppr.prgi, pages, granted, pri_send, &ps, SMMU_PRG_FAILURE);
	}
	*prgi = ppr.prgi;
	return -EAGAIN;
}

int smmuv3_ep_translate(struct smmuv3_ep *ep, struct smmuv3 *s, const struct smmuv3_txn *t,
			struct smmuv3_result *r, uint16_t *prgi)
{
	return smmuv3_ep_translate_len(ep, s, t, 1, r, prgi);
}
