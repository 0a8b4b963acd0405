// SPDX-License-Identifier: MIT
/*
 * vtd_ep.c - a PCIe endpoint's ATC and Page Request Interface behind the
 * VT-d model (vtd_ep.h).
 *
 * What it owns: the VT-d side of a function's ATS and PRI. The ATC, the
 * Page Request Group indexes and PRI Enable, with PCIe's rules, are
 * lib/hw/pcie_ep.c (shared with the SMMUv3 endpoint); here are the unit's
 * messages (a device-TLB invalidation of Size 0 is everything; a page
 * group response), the faults that start a page request, and the access
 * path.
 *
 * The access path: ATC hit -> done. Miss -> Translation Request.
 * Success -> fill and done. A translation fault (a first- or second-stage
 * walk reason, 0x70 and above: the "no translation" completion) with PRI
 * enabled -> one page request group for the access: the faulting page and
 * every later page of the access whose Translation Request faults too, in
 * address order, LPIG on the final one, at most what the Outstanding Page
 * Request Allocation leaves free (pcie_ep.c; the rest in a later group),
 * and -EAGAIN. A configuration fault (the unit recorded it) ends the
 * access. A Response Failure (a page group response with Response Code
 * 0xF, or the unit's own when the context entry's PRE is clear) sets the
 * capability's Response Failure: no page request until PRI is enabled
 * again (vtd_ep_set_pri: Enable cleared with Reset, then set; pcie_ep.c).
 *
 * Concurrency: pcie_ep.c's lock; nothing here calls the unit while
 * holding it (the unit's messages come with the unit's lock held).
 */
#include <errno.h>
#include <string.h>

#include "hw/pcie_ep.h"
#include "hw/vtd/vtd_ep.h"
#include "util/alloc.h"

struct vtd_ep {
	struct vtd_ep_params p;
	struct pcie_ep core;
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
	if (pcie_ep_init(&ep->core, p->atc_entries)) {
		ufree(ep);
		return -ENOMEM;
	}
	if (p->pri_alloc)
		pcie_prg_set_alloc(&ep->core, p->pri_alloc);
	pcie_pri_init(&ep->core, false, VTD_PRG_FAILURE);
	*out = ep;
	return 0;
}

void vtd_ep_free(struct vtd_ep *ep)
{
	if (!ep)
		return;
	pcie_ep_fini(&ep->core);
	ufree(ep);
}

void vtd_ep_get_stats(struct vtd_ep *ep, struct pcie_ep_stats *st)
{
	pcie_ep_get_stats(&ep->core, st);
}

void vtd_ep_set_pri(struct vtd_ep *ep, bool enable)
{
	pcie_prg_enable(&ep->core, enable && ep->p.pri, VTD_PRG_FAILURE);
}

uint32_t vtd_ep_pri_cfg_read(struct vtd_ep *ep, unsigned int off, unsigned int size)
{
	return pcie_pri_cfg_read(&ep->core, off, size);
}

int vtd_ep_pri_cfg_write(struct vtd_ep *ep, unsigned int off, unsigned int size, uint32_t val)
{
	return pcie_pri_cfg_write(&ep->core, off, size, val);
}

void vtd_ep_set_pri_alloc(struct vtd_ep *ep, unsigned int alloc)
{
	pcie_prg_set_alloc(&ep->core, alloc);
}

void vtd_ep_prg_abort(struct vtd_ep *ep)
{
	pcie_prg_abort(&ep->core, VTD_PRG_FAILURE);
}

void vtd_ep_msg(struct vtd_ep *ep, const struct vtd_dev_msg *m)
{
	if (m->type == VTD_MSG_ATS_INV) {
		uint64_t first = 0, last = UINT64_MAX;

		if (m->size) {
			first = m->addr;
			last = m->addr + m->size - 1;
		}
		pcie_atc_inv(&ep->core, m->pasid_valid, m->pasid, m->global, first, last);
		return;
	}
	pcie_prg_resp(&ep->core, m->prgi, m->code,
		      m->code == VTD_PRG_SUCCESS   ? PCIE_PRG_SUCCESS
		      : m->code == VTD_PRG_INVALID ? PCIE_PRG_INVALID
						   : PCIE_PRG_FAILURE);
}

int vtd_ep_prg_wait(struct vtd_ep *ep, uint16_t prgi)
{
	return pcie_prg_wait(&ep->core, prgi);
}

unsigned int vtd_ep_atc_count(struct vtd_ep *ep)
{
	return pcie_atc_count(&ep->core);
}

/* A translation fault: the "no translation" completion (first- or second-stage walk reasons). */
static bool xlate_fault(int ret, const struct vtd_result *r)
{
	return ret == -EFAULT && r->reason >= VTD_FR_FS_READ_ERR;
}

/* A Translation Request for one page of a page request group (pcie_treq_fn). */
struct prg_treq {
	struct vtd *v;
	struct vtd_txn u;
};

static int prg_treq(void *arg, uint64_t addr, uint64_t *size, uint64_t *pa, unsigned int *prot)
{
	struct prg_treq *q = arg;
	struct vtd_result r;
	int ret;

	q->u.addr = addr;
	ret = vtd_translate(q->v, &q->u, &r);
	if (ret)
		return xlate_fault(ret, &r) ? 1 : -1;
	*size = r.size;
	*pa = r.pa;
	*prot = r.prot;
	return 0;
}

/* The pages of a page request group for an access of @len bytes at t->addr (pcie_prg_pages()). */
static unsigned int prg_pages(struct vtd_ep *ep, struct vtd *v, const struct vtd_txn *t,
			      uint64_t len, uint64_t *pages, unsigned int max)
{
	struct prg_treq q = { .v = v, .u = *t };

	q.u.ats_req = true;
	return pcie_prg_pages(&ep->core, t->pasid != VTD_NO_PASID, t->pasid, t->addr, len,
			      t->access, prg_treq, &q, pages, max);
}

/* A page request of the group in *pr, through the unit's page request queue (pcie_prg_send()). */
struct prq_send {
	struct vtd *v;
	struct vtd_page_req *pr;
};

static int prq_send(void *arg, uint64_t addr, bool last)
{
	struct prq_send *ps = arg;

	ps->pr->addr = addr;
	ps->pr->last = last;
	return vtd_page_request(ps->v, ps->pr);
}

int vtd_ep_translate_len(struct vtd_ep *ep, struct vtd *v, const struct vtd_txn *t, uint64_t len,
			 struct vtd_result *r, uint16_t *prgi)
{
	const bool pv = t->pasid != VTD_NO_PASID;
	uint64_t gen = 0, pa, size, pages[PCIE_PRG_MAX];
	struct vtd_txn req = *t;
	struct vtd_page_req pr;
	unsigned int prot, n, granted;
	int ret;

	if (pcie_atc_translate(&ep->core, pv, t->pasid, t->addr, t->access, &pa, &size, &prot,
			       &gen)) {
		memset(r, 0, sizeof(*r));
		r->pa = pa;
		r->size = size;
		r->prot = prot;
		r->iotlb_hit = true;
		return 0;
	}
	req.ats_req = true;
	ret = vtd_translate(v, &req, r);
	if (!ret) {
		pcie_atc_fill(&ep->core, gen, pv, t->pasid, t->addr, r->size, r->pa, r->prot);
		r->iotlb_hit = false;
		return 0;
	}
	if (!prgi || !xlate_fault(ret, r))
		return ret;
	n = prg_pages(ep, v, t, len ? len : 1, pages, pcie_prg_get_alloc(&ep->core));
	if (pcie_prg_open(&ep->core, n, &pr.prgi, &granted))
		return ret;
	pr.sid = t->sid;
	pr.pasid_valid = pv;
	pr.pasid = pv ? t->pasid : 0;
	pr.read = t->access & PT_PROT_R;
	pr.write = t->access & PT_PROT_W;
	pr.exe = t->access & PT_PROT_X;
	pr.priv = pv && !(t->access & PT_PROT_U);
	{
		struct prq_send ps = {v, &pr};

		pcie_prg_send(&ep->core, pr.prgi, pages, granted, prq_send, &ps, VTD_PRG_FAILURE);
	}
	*prgi = pr.prgi;
	return -EAGAIN;
}

int vtd_ep_translate(struct vtd_ep *ep, struct vtd *v, const struct vtd_txn *t,
		     struct vtd_result *r, uint16_t *prgi)
{
	return vtd_ep_translate_len(ep, v, t, 1, r, prgi);
}
