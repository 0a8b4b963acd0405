// SPDX-License-Identifier: MIT
/*
 * vsmmuv3_fault.c - the vSMMUv3 front end's recoverable faults: stalled
 * transactions and PRI page requests of assigned devices, reported to the
 * guest as the architecture reports them and answered through iommufd.
 *
 * What it owns. The host fault queue (IOMMU_FAULT_QUEUE_ALLOC, made the
 * first time a guest STE needs it), the guest's PRI queue (PRIQ_BASE /
 * PROD / CONS / IRQ_CFG*, with IDR0.PRI), and the page requests the guest
 * has been told of and not answered (struct vpend: the fault queue's
 * cookie each answer names).
 *
 * The path. A nested HWPT is allocated with IOMMU_HWPT_FAULT_ID_VALID when
 * its endpoint can fault recoverably and the guest's STE lets it
 * (vsmmuv3_wants_faults): a device that can stall (the firmware says so),
 * a guest STALL_MODEL that allows stalls and S1STALLD = 0 (or stalls
 * forced); or a device with PRI whose STE has EATS = 0b01. The host
 * driver turns a stalled fault or a page request of such a device into
 * iommu_hwpt_pgfault records on the fault fd (iommufd has one record for
 * both). The pump (vsmmuv3_poll_faults) knows which is which from the
 * endpoint (a PCIe device with PRI does not stall, IHI 0070 §3.12.1):
 *
 *   stall  -> a guest EVTQ record F_TRANSLATION, Stall = 1, STAG = the
 *             group index (the host's STAG), SSV/SSID, RnW, InD, PnU,
 *             CLASS IN, InputAddr. iommufd does not say which fault it
 *             was (translation, permission, access flag, address size):
 *             the guest sees a translation fault, which its handler
 *             treats alike (it maps the page and resumes).
 *   PRI    -> guest PRIQ records (IHI 0070 §8: SID = vSID, SSV/SSID,
 *             Priv, Exec, Read, Write, Last, PRG index, page address), a
 *             group at a time.
 *
 * The answers. CMD_RESUME (Retry: SUCCESS; Terminate or Abort: INVALID)
 * names the stall by (SID, STAG); CMD_STALL_TERM answers every stall of
 * the SID INVALID; CMD_PRI_RESP (Success: SUCCESS; Response Failure or
 * Invalid Request: INVALID; iommufd has no third code) names the group by
 * (SID, PRG index). Each becomes an IOMMU_HWPT_PAGE_RESPONSE write of the
 * remembered cookie. A command naming nothing pending is ignored, as the
 * architecture ignores a RESUME naming no stalled transaction; a reserved
 * Action or Resp, or the command on a vSMMU without stalls / PRI, is
 * CERROR_ILL.
 *
 * Where the guest cannot be told, the front end answers itself, as the
 * SMMU would: a PRI group while PRIQEN = 0 (or SMMUEN = 0, or PRIQ_ABT_ERR
 * active) Response Failure; a PRIQ write outside RAM PRIQ_ABT_ERR and
 * Response Failure; a full queue (or an overflow not acknowledged) toggles
 * PRIQ_PROD.OVFLG and a lost Last request is answered Success (the device
 * asks again), §8.2. A stall that cannot be recorded (event queue off,
 * full, outside RAM, or PEND_MAX unanswered requests) is terminated:
 * answered INVALID, so no transaction waits for an answer nobody will
 * give. When an endpoint leaves the HWPT its requests came through (a new
 * STE, SMMUEN = 0), iommufd answers them INVALID itself; they are
 * forgotten here (vsmmuv3_pend_drop).
 *
 * Locks: none (the VMM serialises calls, vsmmuv3.h).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <uiommu/uiommu.h>

#include "vmm/vsmmuv3_priv.h"

/*
 * Records per read. read() hands out whole groups only, so the largest group
 * must fit: a function has at most its Outstanding Page Request Allocation
 * outstanding, which the endpoint models cap at 512 (one group of 512 at
 * most); a group that did not fit would never be read.
 */
#define PGFAULT_BATCH 512u
#define PRIQ_ENT      16u

/* Event record fields (IHI 0070 §7.3). */
#define EVT0_SSV      (1ULL << 11)
#define EVT1_STALL    (1ULL << 31)
#define EVT1_PNU      (1ULL << 33)
#define EVT1_IND      (1ULL << 34)
#define EVT1_RNW      (1ULL << 35)
#define EVT1_CLASS_IN (2ULL << 40)

/* PRI queue record fields (IHI 0070 §8.1). */
#define PRI0_PRIV  (1ULL << 58)
#define PRI0_EXEC  (1ULL << 59)
#define PRI0_READ  (1ULL << 60)
#define PRI0_WRITE (1ULL << 61)
#define PRI0_LAST  (1ULL << 62)
#define PRI0_SSV   (1ULL << 63)

/* Commands. */
#define RESUME_ACTION(w)  ((unsigned int)((w) >> 12) & 3)
#define RESUME_RETRY	  1u
#define RESUME_STAG(w)	  ((uint16_t)(w))
#define PRI_RESP_CODE(w)  ((unsigned int)((w) >> 12) & 3) /* qword 1 */
#define PRI_RESP_PRGI(w)  ((uint16_t)((w)&0x1ff))
#define PRI_RESP_SUCCESS  2u
#define PRI_RESP_RESERVED 3u
#define RESUME_RESERVED	  3u

static unsigned int stall_model(const struct vsmmuv3 *v)
{
	return (v->idr[0] & IDR0_STALL_MASK) >> IDR0_STALL_SHIFT;
}

bool vsmmuv3_wants_faults(const struct vsmmuv3 *v, unsigned int i, const uint64_t ste[2])
{
	const struct vsmmuv3_endpoint *e = &v->ep[i].ep;
	unsigned int model = stall_model(v);

	if (e->can_stall && model != STALL_MODEL_NONE &&
	    (model == STALL_MODEL_FORCED || !(ste[1] & STE1_S1STALLD)))
		return true;
	return e->pri && (v->idr[0] & IDR0_PRI) && STE1_EATS(ste[1]) == 1;
}

int vsmmuv3_fault_get(struct vsmmuv3 *v)
{
	struct iommu_fault_alloc a = {.size = sizeof(a)};

	if (v->fault_id)
		return v->fault ? 0 : -EBADF;
	if (uiommu_ioctl(v->p.iommufd, IOMMU_FAULT_QUEUE_ALLOC, &a))
		return -errno;
	v->fault_id = a.out_fault_id;
	v->fault = uiommu_file_from_fd((int)a.out_fault_fd);
	return v->fault ? 0 : -EBADF;
}

void vsmmuv3_fault_free(struct vsmmuv3 *v)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = v->fault_id};

	/* The open fd holds the object: close it first (iommufd answers what is left). */
	if (v->fault)
		uiommu_close(v->fault);
	if (v->fault_id)
		uiommu_ioctl(v->p.iommufd, IOMMU_DESTROY, &d);
	v->fault = NULL;
	v->fault_id = 0;
	v->npend = 0;
}

/* ---------------------------------------------------------------------- */
/* Pending requests and answers                                           */

/* Answer the group of @cookie: 0, or the host's failure. */
static int respond(struct vsmmuv3 *v, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response r = {.cookie = cookie, .code = code};

	if (uiommu_write(v->fault, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		v->st.page_resps++;
		return 0;
	}
	/* EINVAL: the cookie is gone (iommufd answered it when the attachment ended). */
	return errno == EINVAL ? 0 : -errno;
}

static int pend_find(const struct vsmmuv3 *v, int ep, bool pri, uint16_t tag)
{
	for (unsigned int k = 0; k < v->npend; k++)
		if (v->pend[k].ep == ep && v->pend[k].pri == pri && v->pend[k].tag == tag)
			return (int)k;
	return -1;
}

static void pend_remove(struct vsmmuv3 *v, unsigned int k)
{
	v->pend[k] = v->pend[--v->npend];
}

void vsmmuv3_pend_drop(struct vsmmuv3 *v, unsigned int i)
{
	for (unsigned int k = 0; k < v->npend;) {
		if (v->pend[k].ep == i)
			pend_remove(v, k);
		else
			k++;
	}
}

/* Answer pending request @k with @code and forget it, unless the host failed. */
static int pend_answer(struct vsmmuv3 *v, unsigned int k, uint32_t code)
{
	int ret = respond(v, v->pend[k].cookie, code);

	if (!ret)
		pend_remove(v, k);
	return ret;
}

bool vsmmuv3_cmd_resume(struct vsmmuv3 *v, const uint64_t c[2], int *err)
{
	unsigned int action = RESUME_ACTION(c[0]);
	int k, r;

	if (stall_model(v) == STALL_MODEL_NONE || action == RESUME_RESERVED)
		return false;
	k = pend_find(v, vsmmuv3_ep_of_sid(v, CMD_SID(c[0])), false, RESUME_STAG(c[1]));
	if (k < 0)
		return true; /* no such stalled transaction: ignored */
	r = pend_answer(v, (unsigned int)k,
			action == RESUME_RETRY ? IOMMUFD_PAGE_RESP_SUCCESS
					       : IOMMUFD_PAGE_RESP_INVALID);
	if (r && !*err)
		*err = r;
	return true;
}

bool vsmmuv3_cmd_stall_term(struct vsmmuv3 *v, const uint64_t c[2], int *err)
{
	int ep = vsmmuv3_ep_of_sid(v, CMD_SID(c[0]));

	if (stall_model(v) == STALL_MODEL_NONE)
		return false;
	for (unsigned int k = 0; k < v->npend;) {
		int r;

		if (v->pend[k].ep != ep || v->pend[k].pri) {
			k++;
			continue;
		}
		r = pend_answer(v, k, IOMMUFD_PAGE_RESP_INVALID);
		if (r) {
			if (!*err)
				*err = r;
			break;
		}
	}
	return true;
}

bool vsmmuv3_cmd_pri_resp(struct vsmmuv3 *v, const uint64_t c[2], int *err)
{
	unsigned int resp = PRI_RESP_CODE(c[1]);
	int k, r;

	if (!(v->idr[0] & IDR0_PRI) || resp == PRI_RESP_RESERVED)
		return false;
	if (!(v->cr0 & VSMMUV3_CR0_SMMUEN))
		return true; /* IGNORED */
	k = pend_find(v, vsmmuv3_ep_of_sid(v, CMD_SID(c[0])), true, PRI_RESP_PRGI(c[1]));
	if (k < 0)
		return true;
	r = pend_answer(v, (unsigned int)k,
			resp == PRI_RESP_SUCCESS ? IOMMUFD_PAGE_RESP_SUCCESS
						 : IOMMUFD_PAGE_RESP_INVALID);
	if (r && !*err)
		*err = r;
	return true;
}

static bool pend_add(struct vsmmuv3 *v, unsigned int ep, bool pri, uint16_t tag, uint32_t cookie)
{
	if (v->npend == PEND_MAX)
		return false;
	v->pend[v->npend++] =
		(struct vpend){.cookie = cookie, .tag = tag, .ep = (uint8_t)ep, .pri = pri};
	return true;
}

/* ---------------------------------------------------------------------- */
/* Stalls                                                                 */

static int stall_in(struct vsmmuv3 *v, unsigned int ep, const struct iommu_hwpt_pgfault *pf)
{
	uint16_t stag = (uint16_t)pf->grpid;
	uint64_t rec[4] = {0};

	rec[0] = EVT_F_TRANSLATION | (uint64_t)v->ep[ep].ep.vsid << 32;
	if (pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID)
		rec[0] |= EVT0_SSV | (uint64_t)(pf->pasid & 0xfffff) << 12;
	rec[1] = stag | EVT1_STALL | EVT1_CLASS_IN;
	if (pf->perm & IOMMU_PGFAULT_PERM_PRIV)
		rec[1] |= EVT1_PNU;
	if (pf->perm & IOMMU_PGFAULT_PERM_EXEC)
		rec[1] |= EVT1_IND;
	if (!(pf->perm & IOMMU_PGFAULT_PERM_WRITE))
		rec[1] |= EVT1_RNW;
	rec[2] = pf->addr;
	/* A stall the guest is not told of, or cannot answer, is terminated now. */
	if (pend_find(v, (int)ep, false, stag) >= 0 || v->npend == PEND_MAX ||
	    !vsmmuv3_evtq_put(v, rec))
		return respond(v, pf->cookie, IOMMUFD_PAGE_RESP_INVALID);
	v->st.stalls++;
	pend_add(v, ep, false, stag, pf->cookie);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The PRI queue                                                          */

enum priq_put_result { PRIQ_OK, PRIQ_FULL, PRIQ_ABORT };

static enum priq_put_result priq_put(struct vsmmuv3 *v, const uint64_t rec[2])
{
	unsigned int log2 = q_log2(v->priq.base);
	uint64_t le[2] = {htole64(rec[0]), htole64(rec[1])};
	uint64_t gpa;

	if (((v->priq.prod ^ v->priq.cons) & VSMMUV3_Q_OVFLG) ||
	    q_full(v->priq.prod, v->priq.cons, log2)) {
		/* Nothing is written while an overflow is unacknowledged (§8.2). */
		outq_overflow(&v->priq);
		return PRIQ_FULL;
	}
	gpa = q_addr(v->priq.base, log2, PRIQ_ENT) + PRIQ_ENT * (v->priq.prod & ((1u << log2) - 1));
	if (guest_mem_write(v->p.gm, gpa, le, sizeof(le))) {
		vsmmuv3_gerror_raise(v, VSMMUV3_GERROR_PRIQ_ABT);
		return PRIQ_ABORT;
	}
	v->priq.prod = (v->priq.prod & VSMMUV3_Q_OVFLG) | q_next(v->priq.prod, log2);
	v->priq.irq_pending = true;
	v->st.pri_reqs++;
	return PRIQ_OK;
}

static bool priq_off(const struct vsmmuv3 *v)
{
	return !(v->cr0 & VSMMUV3_CR0_SMMUEN) || !(v->cr0 & VSMMUV3_CR0_PRIQEN) ||
	       ((v->gerror ^ v->gerrorn) & VSMMUV3_GERROR_PRIQ_ABT);
}

/* The records of one page request group (the last one ends it, when @n > 0). */
static int pri_in(struct vsmmuv3 *v, unsigned int ep, const struct iommu_hwpt_pgfault *pf,
		  unsigned int n)
{
	const struct iommu_hwpt_pgfault *last = &pf[n - 1];
	enum priq_put_result r = PRIQ_OK;

	if (priq_off(v))
		return respond(v, last->cookie, IOMMUFD_PAGE_RESP_INVALID);
	for (unsigned int k = 0; k < n; k++) {
		bool ssv = pf[k].flags & IOMMU_PGFAULT_FLAGS_PASID_VALID;
		bool is_last = k == n - 1;
		uint64_t rec[2];

		rec[0] = v->ep[ep].ep.vsid | (ssv ? (uint64_t)(pf[k].pasid & 0xfffff) << 32 : 0);
		rec[0] |= (pf[k].perm & IOMMU_PGFAULT_PERM_PRIV ? PRI0_PRIV : 0) |
			  (pf[k].perm & IOMMU_PGFAULT_PERM_EXEC ? PRI0_EXEC : 0) |
			  (pf[k].perm & IOMMU_PGFAULT_PERM_READ ? PRI0_READ : 0) |
			  (pf[k].perm & IOMMU_PGFAULT_PERM_WRITE ? PRI0_WRITE : 0) |
			  (is_last ? PRI0_LAST : 0) | (ssv ? PRI0_SSV : 0);
		rec[1] = (pf[k].grpid & 0x1ff) | (pf[k].addr & ~0xfffULL);
		/* The guest must be able to answer the group: no room to remember it is a loss. */
		if (is_last &&
		    (v->npend == PEND_MAX ||
		     pend_find(v, (int)ep, true, (uint16_t)(last->grpid & 0x1ff)) >= 0)) {
			outq_overflow(&v->priq);
			r = PRIQ_FULL;
		} else {
			r = priq_put(v, rec);
		}
		if (r == PRIQ_ABORT)
			break;
	}
	if (r == PRIQ_ABORT)
		return respond(v, last->cookie, IOMMUFD_PAGE_RESP_INVALID);
	if (r == PRIQ_FULL) /* the Last request lost: Success, so that the device asks again */
		return respond(v, last->cookie, IOMMUFD_PAGE_RESP_SUCCESS);
	pend_add(v, ep, true, (uint16_t)(last->grpid & 0x1ff), last->cookie);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The pump                                                               */

static int ep_of_dev(const struct vsmmuv3 *v, uint32_t dev_id)
{
	for (unsigned int i = 0; i < v->nr; i++)
		if (v->ep[i].ep.dev_id == dev_id)
			return (int)i;
	return -1;
}

/* One group: records [0, n), the last one ends it. */
static int group_in(struct vsmmuv3 *v, const struct iommu_hwpt_pgfault *pf, unsigned int n)
{
	int ep = ep_of_dev(v, pf[n - 1].dev_id), ret = 0;

	v->st.page_reqs += n;
	if (ep < 0)
		return respond(v, pf[n - 1].cookie, IOMMUFD_PAGE_RESP_INVALID);
	if (v->ep[ep].ep.pri)
		return pri_in(v, (unsigned int)ep, pf, n);
	/* A stall is a group of one; should one have more, each is a stall of its own. */
	for (unsigned int k = 0; k < n && !ret; k++)
		ret = stall_in(v, (unsigned int)ep, &pf[k]);
	return ret;
}

int vsmmuv3_poll_faults(struct vsmmuv3 *v)
{
	struct iommu_hwpt_pgfault pf[PGFAULT_BATCH];
	int err = 0;
	ssize_t n;

	if (!v->fault)
		return 0;
	while ((n = uiommu_read(v->fault, pf, sizeof(pf))) > 0) {
		unsigned int cnt = (unsigned int)((size_t)n / sizeof(pf[0])), first = 0;

		/* read() hands out whole groups, each ending with LAST_PAGE. */
		for (unsigned int k = 0; k < cnt; k++) {
			int ret;

			if (!(pf[k].flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) && k + 1 < cnt)
				continue;
			/* Groups read are handled even when answering one failed. */
			ret = group_in(v, &pf[first], k + 1 - first);
			if (ret && !err)
				err = ret;
			first = k + 1;
		}
	}
	if (n < 0 && !err)
		err = -errno;
	return err;
}
