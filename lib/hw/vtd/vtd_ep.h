/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/vtd/vtd_ep.h - the PCIe endpoint side of ATS and PRI behind a
 * VT-d unit: a function with an Address Translation Cache (device TLB)
 * and a Page Request Interface, so that the unit's device-TLB
 * invalidations and page group responses reach somebody.
 *
 * An endpoint keeps its ATC (completed Translation Requests, used without
 * the unit until an ATS Invalidate Request removes them) and its
 * outstanding Page Request Groups (an index is busy from its page request
 * to the PRG Response Message for it). The unit's messages (struct
 * vtd_dev_msg) are handed to vtd_ep_msg() by whoever routes requester IDs
 * (the driver's platform glue, a test).
 *
 * vtd_ep_translate() is the endpoint's access path: the ATC, else a
 * Translation Request (vtd_translate with ats_req), else, when PRI is
 * enabled, a page request whose response the caller waits for
 * (vtd_ep_prg_wait) before trying again.
 */
#ifndef UIOMMU_HW_VTD_EP_H
#define UIOMMU_HW_VTD_EP_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pcie_ep.h"
#include "hw/vtd/vtd.h"

struct vtd_ep_params {
	unsigned int atc_entries; /* 1..4096 */
	bool pri;		  /* the function has a Page Request Interface */
	/* Outstanding Page Request Allocation (0: PCIE_PRI_ALLOC_DEFAULT; at most 512). */
	unsigned int pri_alloc;
};

struct vtd_ep;

int vtd_ep_new(const struct vtd_ep_params *p, struct vtd_ep **out);
void vtd_ep_free(struct vtd_ep *ep);

/*
 * PRI Enable (the PRI capability's control bit): page requests only while
 * set. Clearing writes Reset with it (the groups still pending answered
 * VTD_PRG_FAILURE); setting clears Response Failure and Unexpected PRG
 * Index (pcie_ep.h).
 */
void vtd_ep_set_pri(struct vtd_ep *ep, bool enable);
/* The function's PRI capability registers (pcie_pri_cfg_read/_write). */
uint32_t vtd_ep_pri_cfg_read(struct vtd_ep *ep, unsigned int off, unsigned int size);
int vtd_ep_pri_cfg_write(struct vtd_ep *ep, unsigned int off, unsigned int size, uint32_t val);

/* A message from the unit (called with the unit's lock held: takes only the endpoint's). */
void vtd_ep_msg(struct vtd_ep *ep, const struct vtd_dev_msg *m);

/*
 * Wait for the response to group @prgi and free the index: the response
 * code (enum vtd_prg_code), or -ENOENT when @prgi is not outstanding.
 * Blocks: call it holding nothing the response needs.
 */
int vtd_ep_prg_wait(struct vtd_ep *ep, uint16_t prgi);
/* Give up every outstanding group (unplug, PRI disabled): waiters get Response Failure. */
void vtd_ep_prg_abort(struct vtd_ep *ep);

/*
 * The access @t (t->ats_req is ignored) of this endpoint through @v: 0
 * with r->pa / r->size / r->prot (r->iotlb_hit: it came from the ATC), or
 * -EFAULT (r->reason says why). With PRI enabled and @prgi, a translation
 * fault sends a page request (the page, the access's permissions, LPIG)
 * and returns -EAGAIN with *prgi its group: wait with vtd_ep_prg_wait()
 * (after the host has seen its page request queue) and on
 * VTD_PRG_SUCCESS call again.
 */
int vtd_ep_translate(struct vtd_ep *ep, struct vtd *v, const struct vtd_txn *t,
		     struct vtd_result *r, uint16_t *prgi);
/*
 * The same for an access of @len (>= 1) bytes from t->addr: the group a
 * fault sends names every page of the access that faults (address order,
 * LPIG on the final one), as many as the Outstanding Page Request
 * Allocation leaves free; the rest go in a later group (the next call).
 */
int vtd_ep_translate_len(struct vtd_ep *ep, struct vtd *v, const struct vtd_txn *t, uint64_t len,
			 struct vtd_result *r, uint16_t *prgi);
/* Software writes the Outstanding Page Request Allocation (pcie_prg_set_alloc()). */
void vtd_ep_set_pri_alloc(struct vtd_ep *ep, unsigned int alloc);

/* Entries held (tests). */
unsigned int vtd_ep_atc_count(struct vtd_ep *ep);

/* The endpoint's counters (pcie_ep.h). */
void vtd_ep_get_stats(struct vtd_ep *ep, struct pcie_ep_stats *st);

#endif
