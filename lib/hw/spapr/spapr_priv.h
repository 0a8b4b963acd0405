/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/spapr/spapr_priv.h - the model's structures, shared by spapr.c
 * (PHB, PEs, devices, DMA), spapr_tce.c (tables, windows) and spapr_eeh.c
 * (PE error state).
 */
#ifndef UIOMMU_HW_SPAPR_PRIV_H
#define UIOMMU_HW_SPAPR_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "hw/spapr/spapr.h"
#include "pt/pt.h"
#include "util/list.h"

struct spapr_iommu {
	struct iommu_device iommu;
	struct spapr_config cfg; /* defaults filled in */
	pthread_mutex_t lock;	 /* pe_list */
	struct list_head pe_list;
	char name[32];
};

/* EEH state bits of a PE (struct spapr_pe.eeh). */
#define SPAPR_PE_MMIO_FROZEN (1u << 0)
#define SPAPR_PE_DMA_FROZEN  (1u << 1)
#define SPAPR_PE_RESET	     (1u << 2) /* reset asserted */
#define SPAPR_PE_CFG_BLOCKED (1u << 3)

/* An armed error injection (spapr_eeh_inject_err). */
struct spapr_eeh_inject {
	bool armed;
	bool write; /* a DMA write function (else a DMA read) */
	uint64_t addr, mask;
};

struct spapr_pe {
	struct spapr_iommu *phb;
	unsigned int number;
	struct list_head phb_next;
	unsigned int nr_devs; /* under phb->lock */
	/*
	 * Windows: written under win_lock, read by DMA without it (atomic
	 * loads inside an epoch section; a table unset here is freed after
	 * a grace period).
	 */
	pthread_mutex_t win_lock;
	_Atomic(struct spapr_table *) tables[SPAPR_MAX_WINDOWS];
	/* EEH: eeh_lock serialises changes; DMA reads eeh / inject atomically. */
	pthread_mutex_t eeh_lock;
	atomic_uint eeh;
	struct spapr_eeh_inject inject; /* under eeh_lock; inject_armed mirrors .armed */
	atomic_bool inject_armed;
	atomic_uint_fast64_t freezes;
	/* MMIO watchers (spapr_pe_watch_mmio): watch_lock guards the list and each
	 * watcher's last state, and is held while a watcher runs. */
	pthread_mutex_t watch_lock;
	struct list_head watchers;
};

struct spapr_dev {
	struct udev udev;
	struct spapr_pe *pe;
	char name[64];
};

struct spapr_table {
	struct spapr_iommu *phb;
	struct pt_table pt; /* tce format over the window */
	unsigned int page_shift, levels;
	uint64_t bus_start, window_size;
	uint64_t allocated_size;
	atomic_uint refs;
	pthread_mutex_t lock; /* serialises TCE stores */
};

extern const struct iommu_ops spapr_iommu_ops;

/* spapr_eeh.c: the PHB froze the PE (DMA error, injected error). */
void spapr_pe_freeze(struct spapr_pe *pe);
/* Tell the MMIO watchers of @pe what its MMIO state is now (after any change). */
void spapr_mmio_notify(struct spapr_pe *pe);
/* A DMA at @iova (@write) hit an armed injection: disarms it and returns true. */
bool spapr_eeh_inject_hit(struct spapr_pe *pe, uint64_t iova, bool write);
void spapr_eeh_init(struct spapr_pe *pe);

#endif
