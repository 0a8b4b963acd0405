/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/smmuv3/smmuv3_ep.h - the PCIe endpoint side of ATS and PRI: what
 * a function with an Address Translation Cache and a Page Request
 * Interface does, so that the SMMUv3 model's messages have somebody to go
 * to.
 *
 * An endpoint keeps:
 *  - an ATC: translations it asked the SMMU for (ATS Translation
 *    Requests, smmuv3_ats_translate()) and uses without the SMMU
 *    (Translated transactions; ATSCHK = 0 lets them through) until an ATS
 *    Invalidate Request removes them;
 *  - its outstanding Page Request Groups: a group index it sent a page
 *    request under (smmuv3_pri_request()) is busy until the PRG Response
 *    Message for it arrives (CMD_PRI_RESP or the SMMU's automatic one).
 * The SMMU reaches it through the ATS port callbacks of smmuv3_params;
 * whoever routes StreamIDs (a test, the driver's platform glue) calls
 * smmuv3_ep_prg_resp() / smmuv3_ep_atc_inv() from them.
 *
 * smmuv3_ep_translate() is the endpoint's access path: the ATC, else a
 * translation request, else (a translation fault, PRI enabled) a page
 * request whose response the caller waits for before trying again.
 */
#ifndef UIOMMU_HW_SMMUV3_EP_H
#define UIOMMU_HW_SMMUV3_EP_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pcie_ep.h"

#include "hw/smmuv3/smmuv3.h"

struct smmuv3_ep_params {
	unsigned int atc_entries; /* ATC size (0: no ATS; at most 4096) */
	bool pri;		  /* Page Request Interface enabled */
	/* Outstanding Page Request Allocation (0: PCIE_PRI_ALLOC_DEFAULT; at most 512). */
	unsigned int pri_alloc;
};

struct smmuv3_ep;

int smmuv3_ep_new(const struct smmuv3_ep_params *p, struct smmuv3_ep **out);
void smmuv3_ep_free(struct smmuv3_ep *ep);

/* Messages from the SMMU. Called with the SMMU's lock held: take only the endpoint's. */
void smmuv3_ep_prg_resp(struct smmuv3_ep *ep, const struct smmuv3_prg_resp *r);
int smmuv3_ep_atc_inv(struct smmuv3_ep *ep, const struct smmuv3_atc_inv *inv);

/* PRI: a free group index (0..511) now busy; -EBUSY when all 512 are outstanding (or no PRI). */
int smmuv3_ep_prg_alloc(struct smmuv3_ep *ep, uint16_t *prgi);
/*
 * Wait for the response to group @prgi and free the index: the response
 * code (enum smmuv3_prg_code), or -ENOENT when @prgi is not outstanding.
 * Blocks: call it holding nothing the response needs.
 */
int smmuv3_ep_prg_wait(struct smmuv3_ep *ep, uint16_t prgi);
/* Give up every outstanding group (unplug, FLR): waiters get Response Failure. */
void smmuv3_ep_prg_abort(struct smmuv3_ep *ep);

/* ATC lookup: 0 with *pa and *left (bytes from @addr translated alike), or -ENOENT. */
int smmuv3_ep_atc_lookup(struct smmuv3_ep *ep, uint32_t ssid, uint64_t addr, unsigned int access,
			 uint64_t *pa, uint64_t *left);
/*
 * Fill: the result @r of a translation request for (@ssid, @addr) that
 * was sent after smmuv3_ep_atc_gen() returned @gen. Dropped when an
 * invalidation came in between (the completion may predate it).
 */
uint64_t smmuv3_ep_atc_gen(struct smmuv3_ep *ep);
void smmuv3_ep_atc_fill(struct smmuv3_ep *ep, uint64_t gen, uint32_t ssid, uint64_t addr,
			const struct smmuv3_result *r);
/* Entries held (tests). */
unsigned int smmuv3_ep_atc_count(struct smmuv3_ep *ep);

/*
 * The access @t of this endpoint through @s: 0 with r->pa / r->size /
 * r->prot (r->iotlb_hit: it came from the ATC), or -EFAULT (r->event
 * says why). With PRI (and @prgi) a translation fault sends a page
 * request and returns -EAGAIN with *prgi its group: wait for the answer
 * with smmuv3_ep_prg_wait() (after letting the host see its PRI queue),
 * and on SMMU_PRG_SUCCESS call again. Without ATS: -EOPNOTSUPP.
 */
int smmuv3_ep_translate(struct smmuv3_ep *ep, struct smmuv3 *s, const struct smmuv3_txn *t,
			struct smmuv3_result *r, uint16_t *prgi);
/*
 * The same for an access of @len (>= 1) bytes from t->addr: when t->addr
 * faults, the page request group names every page of the access that
 * faults (in address order, Last on the final one), as many as the
 * Outstanding Page Request Allocation lets the function have outstanding;
 * pages beyond that are asked for in a later group (the caller's next
 * call, once this group was answered and the access got that far).
 */
int smmuv3_ep_translate_len(struct smmuv3_ep *ep, struct smmuv3 *s, const struct smmuv3_txn *t,
			    uint64_t len, struct smmuv3_result *r, uint16_t *prgi);
/* Software writes the Outstanding Page Request Allocation (pcie_prg_set_alloc()). */
void smmuv3_ep_set_pri_alloc(struct smmuv3_ep *ep, unsigned int alloc);
/*
 * The function's PRI capability (pcie_pri_cfg_read/_write: Control,
 * Status with Response Failure / Unexpected PRG Index / Stopped, capacity,
 * allocation). A group the function gives up on gets SMMU_PRG_FAILURE.
 */
uint32_t smmuv3_ep_pri_cfg_read(struct smmuv3_ep *ep, unsigned int off, unsigned int size);
int smmuv3_ep_pri_cfg_write(struct smmuv3_ep *ep, unsigned int off, unsigned int size, uint32_t val);

/* The endpoint's counters (pcie_ep.h). */
void smmuv3_ep_get_stats(struct smmuv3_ep *ep, struct pcie_ep_stats *st);

#endif
