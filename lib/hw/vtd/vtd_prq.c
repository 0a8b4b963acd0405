// SPDX-License-Identifier: MIT
/*
 * vtd_prq.c - the page request side of the VT-d model: Page Request
 * Messages from devices into the page request queue, and the unit's
 * messages back to devices (PRG responses and ATS invalidations, which
 * vtd_qi.c's descriptors produce).
 *
 * What it owns. The page request queue in memory that PQA names (4 KiB
 * << PQS, 32-byte descriptors), its tail (PQT) and status (PRS), and the
 * page request event. Software owns PQH.
 *
 * A page request (vtd_page_request; VT-d spec §7.5.1, the descriptor as
 * Linux 6.12's prq.c reads it, struct page_req_dsc):
 *  - the context entry of the requester must be present and have PRE;
 *    otherwise the request is a fault (the context-entry reasons of
 *    vtd_ctx.c, or 0x47 PRE clear), recorded, and a request that ends its
 *    group (LPIG) is answered Response Failure, since nobody else will
 *    answer it;
 *  - PRO set, or no room (the slot after PQT is PQH): PRO is set (a page
 *    request event), the request dropped, and one with LPIG answered
 *    Success by the unit itself so the device asks again (a choice: the
 *    spec lets the unit answer a dropped group; Success makes the device
 *    retry, which is what a lost request needs);
 *  - else the descriptor is written at PQT (qword 0 type 1, PASID present
 *    8, RID [31:16], PASID [51:32], execute 52, privileged 53; qword 1
 *    read 0, write 1, LPIG 2, PRGI [11:3], address [63:12]; qwords 2-3
 *    0), PQT moves on, and PPR going from 0 to 1 raises the page request
 *    event.
 * Requests with a PASID the unit does not support (beyond ECAP.PSS) or
 * without PRS at all are refused before anything is sent (-EINVAL).
 *
 * Concurrency: under the instance lock, as every register; dev_msg is
 * called with it held.
 */
#include <endian.h>
#include <errno.h>

#include "hw/vtd/vtd_priv.h"

#define PRQ_DESC 32

void vtd_dev_send(struct vtd *v, const struct vtd_dev_msg *m)
{
	if (m->type == VTD_MSG_ATS_INV)
		v->stats.ats_invs++;
	if (v->p.dev_msg)
		v->p.dev_msg(v->p.dev_msg_opaque, m);
}

static void answer(struct vtd *v, const struct vtd_page_req *req, uint8_t code)
{
	struct vtd_dev_msg m = {.type = VTD_MSG_PRG_RESP,
				.sid = req->sid,
				.pasid_valid = req->pasid_valid,
				.pasid = req->pasid_valid ? req->pasid : 0,
				.prgi = req->prgi,
				.code = code};

	if (req->last)
		vtd_dev_send(v, &m);
}

static bool write_desc(struct vtd *v, uint64_t pa, const uint64_t d[4])
{
	uint64_t *p = pt_mem_ptr(v->mem, pa, PRQ_DESC);

	if (!p)
		return false;
	for (unsigned int i = 1; i < 4; i++)
		__atomic_store_n(&p[i], htole64(d[i]), __ATOMIC_RELAXED);
	__atomic_store_n(&p[0], htole64(d[0]), __ATOMIC_RELEASE);
	return true;
}

int vtd_page_request(struct vtd *v, const struct vtd_page_req *req)
{
	uint64_t ce[4], rta, qbytes, next, d[4];
	uint8_t reason;

	if (!req || !v->p.prs || req->prgi >= 512 ||
	    (req->pasid_valid && (req->pasid >> (v->p.pss + 1))))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	rta = v->rta;
	pthread_mutex_unlock(&v->lock);
	reason = vtd_ctx_fetch(v, rta, req->sid, ce);
	if (!reason && !(ce[0] & VTD_CTX0_PRE))
		reason = VTD_FR_CTX_PRE;
	if (reason) {
		struct vtd_fault f = {.reason = reason,
				      .sid = req->sid,
				      .pp = req->pasid_valid,
				      .pasid = req->pasid,
				      .priv = req->priv,
				      .exe = req->exe,
				      .read = !req->write,
				      .addr = req->addr};

		vtd_record_fault(v, &f);
		pthread_mutex_lock(&v->lock);
		answer(v, req, VTD_PRG_FAILURE);
		pthread_mutex_unlock(&v->lock);
		return -EFAULT;
	}

	pthread_mutex_lock(&v->lock);
	qbytes = 4096ULL << (v->pqa & 7);
	next = (v->pqt + PRQ_DESC) % qbytes;
	d[0] = 1 | (uint64_t)req->pasid_valid << 8 | (uint64_t)req->sid << 16 |
	       (req->pasid_valid ? (uint64_t)(req->pasid & 0xfffff) << 32 : 0) |
	       (uint64_t)req->exe << 52 | (uint64_t)req->priv << 53;
	d[1] = (uint64_t)req->read | (uint64_t)req->write << 1 | (uint64_t)req->last << 2 |
	       (uint64_t)(req->prgi & 0x1ff) << 3 | (req->addr & VTD_MASK(63, 12));
	d[2] = d[3] = 0;
	if ((v->prs & VTD_PRS_PRO) || next == v->pqh || v->pqt >= qbytes ||
	    !write_desc(v, (v->pqa & VTD_MASK(VTD_HAW - 1, 12)) + v->pqt, d)) {
		bool was = v->prs & VTD_PRS_PRO;

		v->prs |= VTD_PRS_PRO;
		v->stats.page_reqs_lost++;
		if (!was)
			vtd_event(v, VTD_IRQ_PRQ);
		answer(v, req, VTD_PRG_SUCCESS);
		pthread_mutex_unlock(&v->lock);
		return -ENOSPC;
	}
	v->pqt = next;
	v->stats.page_reqs++;
	if (!(v->prs & VTD_PRS_PPR)) {
		v->prs |= VTD_PRS_PPR;
		vtd_event(v, VTD_IRQ_PRQ);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}
