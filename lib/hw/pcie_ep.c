// SPDX-License-Identifier: MIT
/*
 * pcie_ep.c - a PCIe function's ATC and Page Request Group indexes, the
 * part of ATS and PRI that does not depend on the IOMMU (pcie_ep.h).
 *
 * What it owns. The ATC: a small fully associative cache of completed
 * Translation Requests, each {PASID or none, input range (the leaf's size,
 * aligned), output address, permissions}, replaced round robin. And the
 * 512 Page Request Group indexes: free, or waiting for a response, or
 * answered (the code kept until the waiter takes it).
 *
 * PCIe rules it follows (the ATS and PRI chapters):
 *  - An Invalidate Request without a PASID removes every entry in its
 *    range, whatever its PASID; with one, that PASID's entries, or every
 *    PASID's with Global set (more than the flag asks, which is allowed).
 *  - A completion must not install what an invalidation that completed
 *    after its request was sent removed: every invalidation bumps a
 *    generation, a fill carries the generation read before its request,
 *    and an older fill is dropped (atc_fill_races).
 *  - A group index is busy from its page request to its response; a
 *    response for an index that is not waiting is ignored and sets
 *    Unexpected PRG Index (prg_stray).
 *  - The PRI capability's Control and Status (pcie_pri_cfg_read/_write,
 *    Linux's PCI_PRI_* layout). A Response Failure response sets Response
 *    Failure: the PCIe response code table says it disables the function's
 *    Page Request Interface and that the function ignores every later PRG
 *    Response until PRI is enabled again. So, while it is set, no page
 *    request is sent (the access fails at once, prg_refused), responses
 *    are ignored (prg_ignored), and the groups still waiting are given up
 *    (their accesses fail) with their requests left outstanding, since no
 *    response for them will be taken. Software recovers as Linux's
 *    pci_disable_pri / pci_reset_pri / pci_enable_pri do: clear Enable,
 *    write Reset (the pending request state and credits cleared: Stopped
 *    sets), set Enable (which clears Response Failure and Unexpected PRG
 *    Index). Clearing Enable alone sends nothing new and lets the
 *    outstanding groups finish; Stopped sets when none is left.
 *  - The Outstanding Page Request Allocation bounds the page requests
 *    (not groups) a function has outstanding: a request is outstanding
 *    from when it is sent until its group's response. The function must
 *    not exceed it, so a group is opened for at most what is free
 *    (pcie_prg_open grants fewer than asked: the caller ends its group
 *    there with Last and asks for the other pages in a later group, after
 *    this one's response), and when nothing is free the sender waits for
 *    a response. A response, an abort or PRI Enable cleared gives the
 *    group's requests back.
 *  - A faulting access asks for its pages in one group (pcie_prg_pages):
 *    the first page, then each later page of the access that neither the
 *    ATC nor a Translation Request (the IOMMU's, a callback) can answer,
 *    in address order; the pages that do translate are cached on the way.
 *    The group's requests are sent by pcie_prg_send (the IOMMU's Page
 *    Request, a callback), Last on the final one; a Response Failure that
 *    comes back before the last stops the rest, as RF says.
 *
 * Concurrency: one mutex over everything. The IOMMUs' messages come with
 * their own lock held, so this lock is taken inside theirs, and nothing
 * calls out while holding it (the callbacks run without it). prg_cond
 * wakes waiters.
 */
#include <errno.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "hw/pcie_ep.h"
#include "pt/pt.h"
#include "util/alloc.h"

enum prg_state { PRG_FREE = 0, PRG_WAITING, PRG_ANSWERED };

int pcie_ep_init(struct pcie_ep *e, unsigned int atc_entries)
{
	memset(e, 0, sizeof(*e));
	if (atc_entries) {
		e->atc = ucalloc(atc_entries, sizeof(*e->atc));
		if (!e->atc)
			return -ENOMEM;
	}
	e->atc_entries = atc_entries;
	e->prg_alloc = PCIE_PRI_ALLOC_DEFAULT;
	e->pri_reset_code = PCIE_PRG_CODE_FAILURE;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->prg_cond, NULL);
	return 0;
}

void pcie_ep_fini(struct pcie_ep *e)
{
	pthread_cond_destroy(&e->prg_cond);
	pthread_mutex_destroy(&e->lock);
	ufree(e->atc);
	e->atc = NULL;
}

void pcie_ep_get_stats(struct pcie_ep *e, struct pcie_ep_stats *st)
{
	pthread_mutex_lock(&e->lock);
	*st = e->stats;
	pthread_mutex_unlock(&e->lock);
}

/* ---------------------------------------------------------------------- */
/* ATC                                                                     */

/* The entry translating (@pv, @pasid, @addr) for @access, or NULL. Lock held. */
static struct pcie_atc_entry *atc_find(struct pcie_ep *e, bool pv, uint32_t pasid, uint64_t addr,
				       unsigned int access)
{
	access &= PT_PROT_R | PT_PROT_W;
	for (unsigned int i = 0; i < e->atc_entries; i++) {
		struct pcie_atc_entry *a = &e->atc[i];

		if (a->valid && a->pasid_valid == pv && (!pv || a->pasid == pasid) &&
		    addr - a->base < a->size && (a->prot & access) == access)
			return a;
	}
	return NULL;
}

bool pcie_atc_translate(struct pcie_ep *e, bool pasid_valid, uint32_t pasid, uint64_t addr,
			unsigned int access, uint64_t *pa, uint64_t *size, unsigned int *prot,
			uint64_t *gen)
{
	struct pcie_atc_entry *a;

	pthread_mutex_lock(&e->lock);
	a = atc_find(e, pasid_valid, pasid, addr, access);
	if (a) {
		*pa = a->pa + (addr - a->base);
		*size = a->size; /* aligned: the leaf the completion described */
		*prot = a->prot;
		e->stats.atc_hits++;
	} else {
		e->stats.atc_misses++;
		*gen = e->gen;
	}
	pthread_mutex_unlock(&e->lock);
	return a != NULL;
}

int pcie_atc_lookup(struct pcie_ep *e, bool pasid_valid, uint32_t pasid, uint64_t addr,
		    unsigned int access, uint64_t *pa, uint64_t *left)
{
	struct pcie_atc_entry *a;
	int ret = -ENOENT;

	pthread_mutex_lock(&e->lock);
	a = atc_find(e, pasid_valid, pasid, addr, access);
	if (a) {
		*pa = a->pa + (addr - a->base);
		*left = a->size - (addr - a->base);
		ret = 0;
	}
	pthread_mutex_unlock(&e->lock);
	return ret;
}

uint64_t pcie_atc_gen(struct pcie_ep *e)
{
	uint64_t g;

	pthread_mutex_lock(&e->lock);
	g = e->gen;
	pthread_mutex_unlock(&e->lock);
	return g;
}

void pcie_atc_fill(struct pcie_ep *e, uint64_t gen, bool pasid_valid, uint32_t pasid,
		   uint64_t addr, uint64_t size, uint64_t pa, unsigned int prot)
{
	struct pcie_atc_entry *a;

	if (!e->atc_entries)
		return;
	if (!size || (size & (size - 1)))
		size = 4096;
	pthread_mutex_lock(&e->lock);
	if (gen != e->gen) {
		e->stats.atc_fill_races++;
		goto out;
	}
	a = atc_find(e, pasid_valid, pasid, addr, prot);
	if (!a) {
		a = &e->atc[e->next_victim];
		e->next_victim = (e->next_victim + 1) % e->atc_entries;
		if (a->valid)
			e->stats.atc_evicted++;
	}
	*a = (struct pcie_atc_entry){ .valid = true,
				      .pasid_valid = pasid_valid,
				      .pasid = pasid_valid ? pasid : 0,
				      .base = addr & ~(size - 1),
				      .size = size,
				      .pa = pa & ~(size - 1),
				      .prot = prot };
	e->stats.atc_fills++;
out:
	pthread_mutex_unlock(&e->lock);
}

void pcie_atc_inv(struct pcie_ep *e, bool pasid_valid, uint32_t pasid, bool global,
		  uint64_t first, uint64_t last)
{
	pthread_mutex_lock(&e->lock);
	e->gen++;
	e->stats.atc_invs++;
	for (unsigned int i = 0; i < e->atc_entries; i++) {
		struct pcie_atc_entry *a = &e->atc[i];

		if (!a->valid)
			continue;
		if (pasid_valid && !global && (!a->pasid_valid || a->pasid != pasid))
			continue;
		if (a->base <= last && a->base + a->size - 1 >= first)
			a->valid = false;
	}
	pthread_mutex_unlock(&e->lock);
}

unsigned int pcie_atc_count(struct pcie_ep *e)
{
	unsigned int n = 0;

	pthread_mutex_lock(&e->lock);
	for (unsigned int i = 0; i < e->atc_entries; i++)
		n += e->atc[i].valid;
	pthread_mutex_unlock(&e->lock);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Page Request Groups                                                     */

/* Lock held: group @i is answered @code; its requests are no longer outstanding. */
static void answer_group(struct pcie_ep *e, unsigned int i, uint8_t code)
{
	e->prg_state[i] = PRG_ANSWERED;
	e->prg_code[i] = code;
	e->prg_outstanding -= e->prg_nreq[i];
	e->prg_nreq[i] = 0;
}

/* Lock held: answer every waiting group with @code. */
static void abort_groups(struct pcie_ep *e, uint8_t code)
{
	for (unsigned int i = 0; i < PCIE_PRG_MAX; i++)
		if (e->prg_state[i] == PRG_WAITING)
			answer_group(e, i, code);
	pthread_cond_broadcast(&e->prg_cond);
}

void pcie_prg_set_alloc(struct pcie_ep *e, unsigned int alloc)
{
	pthread_mutex_lock(&e->lock);
	e->prg_alloc = alloc < 1 ? 1 : alloc > PCIE_PRG_MAX ? PCIE_PRG_MAX : alloc;
	pthread_cond_broadcast(&e->prg_cond);
	pthread_mutex_unlock(&e->lock);
}

unsigned int pcie_prg_get_alloc(struct pcie_ep *e)
{
	unsigned int a;

	pthread_mutex_lock(&e->lock);
	a = e->prg_alloc;
	pthread_mutex_unlock(&e->lock);
	return a;
}

void pcie_pri_init(struct pcie_ep *e, bool pasid_required, uint8_t reset_code)
{
	pthread_mutex_lock(&e->lock);
	e->pri_reset_code = reset_code;
	if (pasid_required)
		e->pri_status |= PCI_PRI_STATUS_PASID;
	else
		e->pri_status &= (uint16_t)~PCI_PRI_STATUS_PASID;
	pthread_mutex_unlock(&e->lock);
}

/* Lock held: Reset with Enable clear: no group pending, no request outstanding. */
static void pri_reset(struct pcie_ep *e)
{
	for (unsigned int i = 0; i < PCIE_PRG_MAX; i++)
		if (e->prg_state[i] == PRG_WAITING)
			answer_group(e, i, e->pri_reset_code);
	e->prg_outstanding = 0;
	e->stats.pri_resets++;
	pthread_cond_broadcast(&e->prg_cond);
}

/* Lock held: the Control register written @v. */
static void pri_write_ctrl(struct pcie_ep *e, uint16_t v)
{
	bool enable = v & PCI_PRI_CTRL_ENABLE;

	/* Reset counts with Enable clear or being cleared by this write. */
	if ((v & PCI_PRI_CTRL_RESET) && !enable)
		pri_reset(e);
	if (enable && !e->pri_enabled)
		e->pri_status &= (uint16_t)~(PCI_PRI_STATUS_RF | PCI_PRI_STATUS_UPRGI);
	e->pri_enabled = enable;
	pthread_cond_broadcast(&e->prg_cond); /* a sender waiting for the allocation looks again */
}

/* Lock held: the Status register as read. */
static uint16_t pri_status(struct pcie_ep *e)
{
	uint16_t st = e->pri_status;

	if (!e->pri_enabled && !e->prg_outstanding)
		st |= PCI_PRI_STATUS_STOPPED;
	return st;
}

uint32_t pcie_pri_cfg_read(struct pcie_ep *e, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	pthread_mutex_lock(&e->lock);
	if (off == PCI_PRI_CTRL && size == 2)
		v = e->pri_enabled ? PCI_PRI_CTRL_ENABLE : 0; /* Reset reads 0 */
	else if (off == PCI_PRI_STATUS && size == 2)
		v = pri_status(e);
	else if (off == PCI_PRI_MAX_REQ && size == 4)
		v = PCIE_PRG_MAX;
	else if (off == PCI_PRI_ALLOC_REQ && size == 4)
		v = e->prg_alloc;
	pthread_mutex_unlock(&e->lock);
	return v;
}

int pcie_pri_cfg_write(struct pcie_ep *e, unsigned int off, unsigned int size, uint32_t val)
{
	int ret = 0;

	if (off == PCI_PRI_ALLOC_REQ && size == 4) {
		pcie_prg_set_alloc(e, val);
		return 0;
	}
	pthread_mutex_lock(&e->lock);
	if (off == PCI_PRI_CTRL && size == 2)
		pri_write_ctrl(e, (uint16_t)val);
	else if (off == PCI_PRI_STATUS && size == 2) /* RF and UPRGI are RW1C */
		e->pri_status &= (uint16_t)~(val & (PCI_PRI_STATUS_RF | PCI_PRI_STATUS_UPRGI));
	else
		ret = -EINVAL;
	pthread_mutex_unlock(&e->lock);
	return ret;
}

bool pcie_pri_failed(struct pcie_ep *e)
{
	bool rf;

	pthread_mutex_lock(&e->lock);
	rf = e->pri_status & PCI_PRI_STATUS_RF;
	pthread_mutex_unlock(&e->lock);
	return rf;
}

void pcie_prg_enable(struct pcie_ep *e, bool enable, uint8_t code)
{
	pthread_mutex_lock(&e->lock);
	e->pri_reset_code = code;
	pri_write_ctrl(e, enable ? PCI_PRI_CTRL_ENABLE : PCI_PRI_CTRL_RESET);
	pthread_mutex_unlock(&e->lock);
}

unsigned int pcie_prg_pages(struct pcie_ep *e, bool pasid_valid, uint32_t pasid, uint64_t addr,
			    uint64_t len, unsigned int access, pcie_treq_fn treq, void *arg,
			    uint64_t *pages, unsigned int max)
{
	const uint64_t last = addr + (len - 1);
	uint64_t a = (addr & ~0xfffULL) + 4096;
	unsigned int n = 0;

	pages[n++] = addr & ~0xfffULL;
	while (n < max && a > addr && a <= last) {
		uint64_t pa, left, size, next;
		unsigned int prot;
		int ret;

		if (!pcie_atc_lookup(e, pasid_valid, pasid, a, access, &pa, &left)) {
			next = a + left;
		} else {
			uint64_t gen = pcie_atc_gen(e);

			ret = treq(arg, a, &size, &pa, &prot);
			if (ret == 0) {
				pcie_atc_fill(e, gen, pasid_valid, pasid, a, size, pa, prot);
				next = (a & ~(size - 1)) + size;
			} else if (ret == 1) {
				pages[n++] = a;
				next = a + 4096;
			} else {
				break;
			}
		}
		if (next <= a) /* the top of the address space */
			break;
		a = next & ~0xfffULL;
	}
	return n;
}

int pcie_prg_open(struct pcie_ep *e, unsigned int want, uint16_t *prgi, unsigned int *granted)
{
	bool waited = false;
	unsigned int n, i = 0, g;
	int ret = 0;

	if (!want)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		if (!e->pri_enabled || (e->pri_status & PCI_PRI_STATUS_RF)) {
			e->stats.prg_refused++;
			ret = -EPERM;
			goto out;
		}
		for (n = 0; n < PCIE_PRG_MAX; n++) {
			i = (e->next_prgi + n) & (PCIE_PRG_MAX - 1);
			if (e->prg_state[i] == PRG_FREE)
				break;
		}
		if (n == PCIE_PRG_MAX) {
			ret = -EBUSY;
			goto out;
		}
		if (e->prg_outstanding < e->prg_alloc)
			break;
		/* No request beyond the allocation: wait for a response to give some back. */
		if (!waited)
			e->stats.prg_alloc_waits++;
		waited = true;
		pthread_cond_wait(&e->prg_cond, &e->lock);
	}
	g = e->prg_alloc - e->prg_outstanding;
	g = want < g ? want : g;
	e->prg_state[i] = PRG_WAITING;
	e->prg_nreq[i] = (uint16_t)g;
	e->prg_outstanding += g;
	if (e->prg_outstanding > e->stats.prg_max_outstanding)
		e->stats.prg_max_outstanding = e->prg_outstanding;
	e->next_prgi = (uint16_t)((i + 1) & (PCIE_PRG_MAX - 1));
	*prgi = (uint16_t)i;
	*granted = g;
	e->stats.page_reqs += g;
	e->stats.prgs++;
out:
	pthread_mutex_unlock(&e->lock);
	return ret;
}

int pcie_prg_alloc(struct pcie_ep *e, uint16_t *prgi)
{
	unsigned int granted;

	return pcie_prg_open(e, 1, prgi, &granted);
}

void pcie_prg_resp(struct pcie_ep *e, uint16_t prgi, uint8_t code, enum pcie_prg_outcome o)
{
	unsigned int i = prgi & (PCIE_PRG_MAX - 1);

	pthread_mutex_lock(&e->lock);
	if (e->pri_status & PCI_PRI_STATUS_RF) {
		e->stats.prg_ignored++;
	} else if (e->prg_state[i] != PRG_WAITING) {
		e->pri_status |= PCI_PRI_STATUS_UPRGI;
		e->stats.prg_stray++;
	} else {
		answer_group(e, i, code);
		if (o == PCIE_PRG_SUCCESS) {
			e->stats.prg_success++;
		} else if (o == PCIE_PRG_INVALID) {
			e->stats.prg_invalid++;
		} else {
			e->stats.prg_failure++;
			e->pri_status |= PCI_PRI_STATUS_RF;
			/* Given up: answered, their requests outstanding until Reset. */
			for (unsigned int k = 0; k < PCIE_PRG_MAX; k++) {
				if (e->prg_state[k] != PRG_WAITING)
					continue;
				e->prg_state[k] = PRG_ANSWERED;
				e->prg_code[k] = e->pri_reset_code;
				e->prg_nreq[k] = 0;
			}
		}
		pthread_cond_broadcast(&e->prg_cond);
	}
	pthread_mutex_unlock(&e->lock);
}

void pcie_prg_cancel(struct pcie_ep *e, uint16_t prgi, uint8_t code)
{
	unsigned int i = prgi & (PCIE_PRG_MAX - 1);

	pthread_mutex_lock(&e->lock);
	if (e->prg_state[i] == PRG_WAITING) {
		answer_group(e, i, code);
		pthread_cond_broadcast(&e->prg_cond);
	}
	pthread_mutex_unlock(&e->lock);
}

void pcie_prg_send(struct pcie_ep *e, uint16_t prgi, const uint64_t *pages, unsigned int n,
		   pcie_preq_fn send, void *arg, uint8_t fail_code)
{
	for (unsigned int k = 0; k < n; k++) {
		bool last = k + 1 == n;

		if (send(arg, pages[k], last) == -EINVAL) {
			pcie_prg_cancel(e, prgi, fail_code);
			return;
		}
		if (!last && pcie_pri_failed(e))
			return;
	}
}

int pcie_prg_wait(struct pcie_ep *e, uint16_t prgi)
{
	int ret;

	if (prgi >= PCIE_PRG_MAX)
		return -ENOENT;
	pthread_mutex_lock(&e->lock);
	if (e->prg_state[prgi] == PRG_FREE) {
		pthread_mutex_unlock(&e->lock);
		return -ENOENT;
	}
	while (e->prg_state[prgi] == PRG_WAITING)
		pthread_cond_wait(&e->prg_cond, &e->lock);
	ret = e->prg_code[prgi];
	e->prg_state[prgi] = PRG_FREE;
	pthread_mutex_unlock(&e->lock);
	return ret;
}

void pcie_prg_abort(struct pcie_ep *e, uint8_t code)
{
	pthread_mutex_lock(&e->lock);
	abort_groups(e, code);
	pthread_mutex_unlock(&e->lock);
}
