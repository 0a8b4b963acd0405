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

struct pcie_atc_entry {
	bool valid, pasid_valid;
	uint32_t pasid;
	uint64_t base, size, pa;
	unsigned int prot;
};

struct pcie_ep_stats {
	uint64_t atc_hits, atc_misses, atc_fills, atc_fill_races, atc_invs, atc_evicted;
	uint64_t page_reqs, prg_success, prg_invalid, prg_failure, prg_stray;
};

/* What a PRG response said, for the counters (each model has its own codes). */
enum pcie_prg_outcome { PCIE_PRG_SUCCESS, PCIE_PRG_INVALID, PCIE_PRG_FAILURE };

struct pcie_ep {
	pthread_mutex_t lock;
	pthread_cond_t prg_cond;
	struct pcie_atc_entry *atc;
	unsigned int atc_entries, next_victim;
	uint64_t gen; /* ATS invalidations seen */
	bool pri_enabled;
	uint8_t prg_state[PCIE_PRG_MAX], prg_code[PCIE_PRG_MAX];
	uint16_t next_prgi;
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

/* PRI Enable; clearing it answers the waiting groups @code. */
void pcie_prg_enable(struct pcie_ep *e, bool enable, uint8_t code);
/* A free group index (0..511), now waiting, counted a page request; -EBUSY, or -EPERM without PRI. */
int pcie_prg_alloc(struct pcie_ep *e, uint16_t *prgi);
/* A PRG Response for @prgi (ignored, prg_stray, unless it is waiting). */
void pcie_prg_resp(struct pcie_ep *e, uint16_t prgi, uint8_t code, enum pcie_prg_outcome o);
/* Wait for @prgi's response and free it: the code, or -ENOENT when it is not outstanding. */
int pcie_prg_wait(struct pcie_ep *e, uint16_t prgi);
/* Answer every waiting group @code. */
void pcie_prg_abort(struct pcie_ep *e, uint8_t code);

#endif
