/* SPDX-License-Identifier: MIT */
/*
 * pcie_ep.h - the device side of PCIe ATS and PRI, shared by the models'
 * endpoints (smmuv3_ep.c, vtd_ep.c): an ATC and the Page Request Group
 * indexes. The models keep what differs (how a Translation Request reaches
 * their IOMMU, the messages' formats, which faults start a page request);
 * the rules that are PCIe's live here once.
 */
#ifndef UIOMMU_HW_PCIE_EP_H
#define UIOMMU_HW_PCIE_EP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PCIE_PRG_MAX 512
/*
 * The Outstanding Page Request Allocation a function starts with in the
 * models (software writes its own, pcie_prg_set_alloc()): as many page
 * requests as there are group indexes.
 */
#define PCIE_PRI_ALLOC_DEFAULT PCIE_PRG_MAX

struct pcie_atc_entry {
	bool valid, pasid_valid;
	uint32_t pasid;
	uint64_t base, size, pa;
	unsigned int prot;
};

struct pcie_ep_stats {
	uint64_t atc_hits, atc_misses, atc_fills, atc_fill_races, atc_invs, atc_evicted;
	/* prg_stray: responses for an index not outstanding (each sets UPRGI) */
	uint64_t page_reqs, prg_success, prg_invalid, prg_failure, prg_stray;
	uint64_t prg_ignored; /* responses ignored while Response Failure was set */
	uint64_t prg_refused; /* page requests not sent: Enable clear or Response Failure */
	uint64_t pri_resets;  /* Reset written with Enable clear: pending state cleared */
	uint64_t prgs;			  /* groups sent (page_reqs counts their requests) */
	uint64_t prg_alloc_waits;	  /* a group waited for the allocation to free up */
	unsigned int prg_max_outstanding; /* the most page requests ever outstanding at once */
};

/* PCIe's PRG Response codes (the models' own constants have the same values). */
#define PCIE_PRG_CODE_SUCCESS 0x0
#define PCIE_PRG_CODE_INVALID 0x1 /* Invalid Request */
#define PCIE_PRG_CODE_FAILURE 0xf /* Response Failure */

/* What a PRG response said, for the counters (each model has its own codes). */
enum pcie_prg_outcome { PCIE_PRG_SUCCESS, PCIE_PRG_INVALID, PCIE_PRG_FAILURE };

struct pcie_ep {
	pthread_mutex_t lock;
	pthread_cond_t prg_cond;
	struct pcie_atc_entry *atc;
	unsigned int atc_entries, next_victim;
	uint64_t gen; /* ATS invalidations seen */
	bool pri_enabled;    /* PRI Control: Enable */
	uint16_t pri_status; /* PRI Status: RF, UPRGI, PRG Response PASID Required */
	uint8_t prg_state[PCIE_PRG_MAX], prg_code[PCIE_PRG_MAX];
	uint16_t prg_nreq[PCIE_PRG_MAX]; /* page requests of each waiting group */
	uint16_t next_prgi;
	uint8_t pri_reset_code;	      /* what a group answered by Reset or given up on gets */
	unsigned int prg_alloc;	      /* Outstanding Page Request Allocation */
	unsigned int prg_outstanding; /* page requests sent and not answered yet */
	struct pcie_ep_stats stats;
};

/* @atc_entries (0: no ATC); PRI disabled. 0 or -ENOMEM. */
int pcie_ep_init(struct pcie_ep *e, unsigned int atc_entries);
void pcie_ep_fini(struct pcie_ep *e);
void pcie_ep_get_stats(struct pcie_ep *e, struct pcie_ep_stats *st);

/*
 * The ATC entry translating (@pasid_valid, @pasid, @addr) with @access (R
 * and W are checked): true with its output address for @addr (*pa), its
 * size and permissions, counted a hit; false counted a miss, with *gen
 * the generation a fill of the Translation Completion must carry.
 */
bool pcie_atc_translate(struct pcie_ep *e, bool pasid_valid, uint32_t pasid, uint64_t addr,
			unsigned int access, uint64_t *pa, uint64_t *size, unsigned int *prot,
			uint64_t *gen);
/* The same look-up, not counted: 0 with *pa and the bytes *left in the entry, or -ENOENT. */
int pcie_atc_lookup(struct pcie_ep *e, bool pasid_valid, uint32_t pasid, uint64_t addr,
		    unsigned int access, uint64_t *pa, uint64_t *left);
uint64_t pcie_atc_gen(struct pcie_ep *e);
/*
 * Install a completion ([@addr aligned to @size (a power of two, else
 * 4096), @pa, @prot]) unless an invalidation came after @gen was read
 * (atc_fill_races); an entry answering the same key is replaced, else the
 * round-robin victim (atc_evicted when it was valid).
 */
void pcie_atc_fill(struct pcie_ep *e, uint64_t gen, bool pasid_valid, uint32_t pasid,
		   uint64_t addr, uint64_t size, uint64_t pa, unsigned int prot);
/*
 * An Invalidate Request: without a PASID every entry in [@first, @last];
 * with one that PASID's entries, or with @global every PASID's (more than
 * Global asks for untagged entries is allowed).
 */
void pcie_atc_inv(struct pcie_ep *e, bool pasid_valid, uint32_t pasid, bool global,
		  uint64_t first, uint64_t last);
unsigned int pcie_atc_count(struct pcie_ep *e);

/*
 * A Translation Request for one page, the IOMMU's side (a model's
 * callback): 0 with the completion (*size, *pa, *prot) for @addr, 1 for a
 * translation fault (the page goes in a page request), any other value
 * for anything else (the access ends there).
 */
typedef int (*pcie_treq_fn)(void *arg, uint64_t addr, uint64_t *size, uint64_t *pa,
			    unsigned int *prot);
/*
 * The pages of the Page Request Group of an access of @len bytes at @addr
 * whose first page faulted: that page, then each later page of the access
 * whose Translation Request (@treq) faults too, in address order, at most
 * @max. Later pages the ATC holds are skipped; a page that translates is
 * cached (the function asked for it anyway); anything but a translation
 * fault ends the list, as the access would end there. Returns how many
 * are in @pages (>= 1).
 */
unsigned int pcie_prg_pages(struct pcie_ep *e, bool pasid_valid, uint32_t pasid, uint64_t addr,
			    uint64_t len, unsigned int access, pcie_treq_fn treq, void *arg,
			    uint64_t *pages, unsigned int max);

/*
 * The PRI Extended Capability as software sees it, from its Control
 * register on (@off: Linux's PCI_PRI_CTRL 0x04 (2 bytes), PCI_PRI_STATUS
 * 0x06 (2), PCI_PRI_MAX_REQ 0x08 (4, the Outstanding Page Request
 * Capacity: PCIE_PRG_MAX), PCI_PRI_ALLOC_REQ 0x0c (4)). A read of another
 * offset or size is 0 (-EINVAL from the write).
 *
 * Control: Enable, and Reset (reads 0). Writing Reset with Enable clear,
 * or being cleared by the same write, clears the pending request state:
 * every group still waiting is answered @reset_code (the accesses waiting
 * for them fail) and no page request is outstanding any more. Setting
 * Enable (from clear) clears Response Failure and Unexpected PRG Index.
 * Clearing Enable alone stops new page requests (a sender waiting for
 * the allocation gives up) and leaves the groups outstanding: their
 * responses still count, and Stopped is set once none is left.
 *
 * Status: Response Failure (RW1C) is set by a Response Failure response
 * (pcie_prg_resp, PCIE_PRG_FAILURE); while it is set the function sends
 * no page request (pcie_prg_open: -EPERM), ignores every PRG Response
 * (prg_ignored) and has given up on its other waiting groups (answered
 * @reset_code, their requests still outstanding: no response will be
 * taken for them, so only Reset gives them back). Enabling while page
 * requests are outstanding (Stopped clear) is indeterminate in PCIe;
 * here they stay outstanding, taking their share of the allocation.
 * Unexpected PRG Index (RW1C): a response for an index not outstanding.
 * Stopped (RO): Enable clear and no page request outstanding (undefined
 * with Enable set; the model reads 0 then). PRG Response PASID Required
 * (RO): @pasid_required of pcie_pri_init.
 */
void pcie_pri_init(struct pcie_ep *e, bool pasid_required, uint8_t reset_code);
uint32_t pcie_pri_cfg_read(struct pcie_ep *e, unsigned int off, unsigned int size);
int pcie_pri_cfg_write(struct pcie_ep *e, unsigned int off, unsigned int size, uint32_t val);
/* Response Failure is set: the function sends no page request. */
bool pcie_pri_failed(struct pcie_ep *e);

/*
 * PRI Enable as a driver turns it on and off: Enable set, or Enable
 * cleared with Reset in the same write (the pending groups answered
 * @code).
 */
void pcie_prg_enable(struct pcie_ep *e, bool enable, uint8_t code);
/*
 * The Outstanding Page Request Allocation (the PRI capability's register
 * software writes): how many page requests the function may have
 * outstanding at once, 1..PCIE_PRG_MAX (other values are clamped). A
 * request is outstanding from the moment it is sent until the response
 * to its group arrives.
 */
void pcie_prg_set_alloc(struct pcie_ep *e, unsigned int alloc);
unsigned int pcie_prg_get_alloc(struct pcie_ep *e);
/*
 * Open a Page Request Group for up to @want (>= 1) page requests: a free
 * index (0..511), now waiting, and *granted (1..@want) requests reserved
 * of the allocation, counted page requests; send exactly *granted, the
 * last with Last / LPIG. PCIe forbids exceeding the allocation: with none
 * of it free (other groups of the function outstanding) this waits for a
 * response that frees some; a group that would exceed it is cut short
 * (the caller sends the rest as a later group). -EBUSY when all 512
 * indexes are outstanding, -EPERM without PRI Enable (also when it is
 * cleared while waiting).
 */
int pcie_prg_open(struct pcie_ep *e, unsigned int want, uint16_t *prgi, unsigned int *granted);
/* A group of one request (pcie_prg_open(e, 1, ...)). */
int pcie_prg_alloc(struct pcie_ep *e, uint16_t *prgi);
/*
 * A PRG Response Message for @prgi: ignored while Response Failure is set
 * (prg_ignored); for an index not waiting, Unexpected PRG Index
 * (prg_stray); else the group is answered @code, and @o PCIE_PRG_FAILURE
 * (Response Failure) sets Response Failure (see pcie_pri_cfg_read).
 */
void pcie_prg_resp(struct pcie_ep *e, uint16_t prgi, uint8_t code, enum pcie_prg_outcome o);
/*
 * The function's own end of a group whose requests never left it (the
 * link refused them): answered @code, its requests given back; not a
 * PRG Response (no status changes).
 */
void pcie_prg_cancel(struct pcie_ep *e, uint16_t prgi, uint8_t code);
/*
 * A Page Request Message, the IOMMU's side (a model's callback): the
 * request for @addr of the group the caller opened, @last its Last / LPIG.
 * -EINVAL when the link refused it (nothing was sent), else 0.
 */
typedef int (*pcie_preq_fn)(void *arg, uint64_t addr, bool last);
/*
 * Send the @n requests of group @prgi (pcie_prg_open()'s *granted) for
 * @pages in order, the last with Last / LPIG. A request the link refuses
 * is refused for every page: the group is cancelled (@fail_code) and no
 * more are sent. A Response Failure that comes back meanwhile (the
 * IOMMU's own answer) stops the rest: the function sends no page request
 * while it is set.
 */
void pcie_prg_send(struct pcie_ep *e, uint16_t prgi, const uint64_t *pages, unsigned int n,
		   pcie_preq_fn send, void *arg, uint8_t fail_code);
/* Wait for @prgi's response and free it: the code, or -ENOENT when it is not outstanding. */
int pcie_prg_wait(struct pcie_ep *e, uint16_t prgi);
/* Answer every waiting group @code (the function goes away: no status changes). */
void pcie_prg_abort(struct pcie_ep *e, uint8_t code);

#endif
