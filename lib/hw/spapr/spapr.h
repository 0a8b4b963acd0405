/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/spapr/spapr.h - the sPAPR / PowerNV TCE IOMMU model: what the
 * topology loader, VFIO's sPAPR TCE backend and tests see of it.
 *
 * The model is a PHB (PCI host bridge) of a POWER machine, IODA2 style
 * (reference hw.md §4). Its unit of isolation is the PE (partitionable
 * endpoint): every device sits in exactly one PE, and a PE is what an
 * IOMMU group is on this platform. A PE translates DMA through at most
 * two DMA windows (SPAPR_MAX_WINDOWS, the TVEs of the PE):
 *
 *   window 0  the default 32-bit window, at bus address dma32_start
 *             (0), dma32_size bytes (1 GiB unless configured);
 *   window 1  the dynamic (DDW) window, at bus address ddw_start (1 << 59,
 *             PHB3's TVE#1 select bit).
 *
 * The platform chooses the start of a window from its number alone, so a
 * table created for slot 0 always starts at dma32_start, whatever its size
 * and page size. Each window is backed by a TCE table in lib/pt's "tce"
 * format (big-endian, 1 to 5 levels). A table is created on its own
 * (spapr_table_create) and then programmed into any number of PEs
 * (spapr_pe_set_window); this is how Linux's VFIO driver shares one table
 * between every group of a v2 container. Tables are reference counted:
 * the creator holds one reference, each PE window one more.
 *
 * Entries are written one at a time, H_PUT_TCE style: spapr_tce_xchg()
 * stores (address, direction) at one TCE index and hands back what was
 * there. A "host physical address" is a host virtual address of this
 * process (DESIGN.md §1).
 *
 * DMA. The model's dma_translate (struct iommu_ops) finds the window that
 * holds the bus address and walks its table. Anything the PHB would
 * reject freezes the PE, as PowerNV hardware does: an address in no
 * window, a TCE that is not present, a direction the TCE does not allow,
 * or an armed error injection that matches. A frozen PE fails every DMA
 * (err -EIO) and every MMIO access (spapr_dev_mmio_ok() false: loads read
 * all ones, stores are dropped) until it is thawed or reset (EEH, below).
 *
 * EEH (PE error state), the operations VFIO_EEH_PE_OP reaches; each
 * returns what Linux's eeh_pe_* function returns for PowerNV:
 *   spapr_eeh_set_option  DISABLE (no effect), ENABLE (-EIO when EEH is
 *                         off on the platform), THAW_MMIO / THAW_DMA (clear
 *                         one half of a freeze; 0 when it was not frozen)
 *   spapr_eeh_get_state   EEH_PE_STATE_* (RESET while a reset is asserted;
 *                         NORMAL, STOPPED (DMA and MMIO), STOPPED_DMA, or
 *                         UNAVAIL for the DMA-on / MMIO-off combination)
 *   spapr_eeh_reset       HOT / FUNDAMENTAL freeze the PE and assert the
 *                         reset; DEACTIVATE deasserts it, resets the
 *                         devices' IOMMU-visible state and thaws the PE
 *   spapr_eeh_configure   0 (bridges need no set-up in the model)
 *   spapr_eeh_inject_err  arms an error (type 32/64-bit, function 0..19):
 *                         DMA functions freeze the PE at the next DMA of
 *                         that direction whose address matches addr under
 *                         mask; load / store functions freeze it at once
 *                         (the model decodes no MMIO addresses)
 *
 * Threads: every function may be called from any thread. Control calls on
 * one table are serialised by the table's lock; DMA runs concurrently with
 * them (tables are freed after an epoch grace period).
 */
#ifndef UIOMMU_HW_SPAPR_H
#define UIOMMU_HW_SPAPR_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/iommu.h"
#include "util/list.h"

/* The page size of the emulated POWER kernel (Linux's PAGE_SHIFT there: 64 KiB). */
#define SPAPR_PAGE_SHIFT 16
#define SPAPR_PAGE_SIZE	 (1ULL << SPAPR_PAGE_SHIFT)

#define SPAPR_MAX_WINDOWS 2 /* IOMMU_TABLE_GROUP_MAX_TABLES */
#define SPAPR_MAX_LEVELS  5 /* POWERNV_IOMMU_MAX_LEVELS */

/* Defaults of struct spapr_config (0 in a field means its default). */
#define SPAPR_DEFAULT_DMA32_SIZE (1ULL << 30)
#define SPAPR_DEFAULT_DDW_START	 (1ULL << 59)
#define SPAPR_DEFAULT_PGSIZES	 ((1ULL << 12) | (1ULL << 16) | (1ULL << 24))

struct spapr_config {
	uint32_t dma32_start; /* bus address of window 0 (tce32_start) */
	uint32_t dma32_size;  /* its size (tce32_size); 0: 1 GiB */
	uint64_t ddw_start;   /* bus address of window 1; 0: 1 << 59 */
	uint64_t pgsizes;     /* TCE page sizes (bitmap); 0: 4K | 64K | 16M */
	unsigned int max_levels; /* 0: 5 */
	bool no_ddw;	      /* max_dynamic_windows_supported = 0 (v1-only PEs) */
};

struct spapr_iommu;
struct spapr_pe;
struct spapr_table;

/* ------------------------------------------------------------------ */
/* Topology                                                           */

/*
 * A PHB. -EINVAL for a bad configuration (dma32 window not a power of two
 * or not aligned to its size, DDW start not aligned to 2^59 or above it,
 * page sizes outside 4K..16G, max_levels above 5), -ENOMEM.
 */
struct spapr_iommu *spapr_iommu_create(const struct spapr_config *cfg, int *err);
/* Destroy it; every PE must be gone (-EBUSY otherwise, nothing changes). */
int spapr_iommu_destroy(struct spapr_iommu *iommu);
struct iommu_device *spapr_iommu_device(struct spapr_iommu *iommu);
/* Is this IOMMU instance an sPAPR one? */
bool spapr_is_iommu(const struct iommu_device *iommu);
/* Is any sPAPR IOMMU instance alive (the platform has the sPAPR VFIO backend)? */
bool spapr_platform_present(void);

/* A PE, number @pe_number (unique per PHB: -EEXIST), with no window. */
struct spapr_pe *spapr_pe_create(struct spapr_iommu *iommu, unsigned int pe_number, int *err);
/* Destroy it: -EBUSY while it has devices or a window (nothing changes). */
int spapr_pe_destroy(struct spapr_pe *pe);
unsigned int spapr_pe_number(const struct spapr_pe *pe);

/* A device in @pe, named @name (copied), requester id @rid. */
struct udev *spapr_dev_create(struct spapr_pe *pe, const char *name, uint32_t rid, int *err);
void spapr_dev_destroy(struct udev *dev);
/* The PE of an sPAPR device, NULL for any other device. */
struct spapr_pe *spapr_dev_pe(const struct udev *dev);

/* What Linux's struct iommu_table_group tells VFIO about a PE. */
struct spapr_pe_info {
	uint32_t tce32_start, tce32_size;
	uint64_t pgsizes;
	uint32_t max_dynamic_windows_supported; /* 2, or 0 with no_ddw */
	uint32_t max_levels;
};
void spapr_pe_info(const struct spapr_pe *pe, struct spapr_pe_info *info);

/* ------------------------------------------------------------------ */
/* TCE tables and windows                                             */

/*
 * Bytes a table for (page_shift, window_size, levels) takes, the way
 * PowerNV counts them for locked-memory accounting (hardware table plus
 * its userspace shadow, levels rounded to kernel pages); 0 when the
 * geometry is invalid (levels 0 or above 5, size not a power of two or
 * smaller than one page).
 */
uint64_t spapr_table_size(unsigned int page_shift, uint64_t window_size, unsigned int levels);

/*
 * A table for window slot @num of @pe's PHB (the bus start is the
 * platform's for that slot). -EINVAL: bad geometry (as above, or the
 * platform's bound (level bits - 3) * levels + page_shift >= 55, or
 * beyond what the tce format can describe), -ENOMEM.
 */
struct spapr_table *spapr_table_create(struct spapr_pe *pe, unsigned int num,
				       unsigned int page_shift, uint64_t window_size,
				       unsigned int levels, int *err);
void spapr_table_get(struct spapr_table *tbl);
/* Drop a reference; the last one frees the table (after a grace period). */
void spapr_table_put(struct spapr_table *tbl);

struct spapr_table_info {
	unsigned int page_shift, levels;
	uint64_t offset;	 /* first TCE index: bus start >> page_shift (it_offset) */
	uint64_t size;		 /* TCEs in the window (it_size) */
	uint64_t allocated_size; /* spapr_table_size() of its geometry */
};
void spapr_table_info(const struct spapr_table *tbl, struct spapr_table_info *info);

/* DMA directions of a TCE (Linux's enum dma_data_direction). */
enum spapr_dma_dir {
	SPAPR_DMA_BIDIRECTIONAL = 0,
	SPAPR_DMA_TO_DEVICE = 1,   /* the device reads memory: TCE_PCI_READ */
	SPAPR_DMA_FROM_DEVICE = 2, /* the device writes memory: TCE_PCI_WRITE (with READ) */
	SPAPR_DMA_NONE = 3,
};

/*
 * H_PUT_TCE: store (*hpa, *dir) at TCE index @entry (absolute: offset
 * included) and return the old one in (*hpa, *dir) (*dir NONE, *hpa 0
 * when none). *hpa must be aligned to the table's page size. -EINVAL:
 * index outside the window or hpa misaligned; -ENOMEM: no table memory
 * (nothing changed).
 */
int spapr_tce_xchg(struct spapr_table *tbl, uint64_t entry, uint64_t *hpa,
		   enum spapr_dma_dir *dir);
/* The TCE at @entry: 0 and (*hpa, *dir), or -EINVAL outside the window. */
int spapr_tce_get(struct spapr_table *tbl, uint64_t entry, uint64_t *hpa,
		  enum spapr_dma_dir *dir);
/*
 * Clear @pages TCEs from @entry (clipped to the window), calling @fn for
 * each one that was present with its old address; returns how many were.
 */
typedef void (*spapr_tce_fn)(void *arg, uint64_t entry, uint64_t hpa);
uint64_t spapr_tce_clear(struct spapr_table *tbl, uint64_t entry, uint64_t pages,
			 spapr_tce_fn fn, void *arg);

/*
 * Program @tbl as window @num of @pe (takes a reference). -EINVAL: num
 * out of range or the table made for another PHB; -EBUSY: the slot is in
 * use. Unset drops it (nothing if the slot is empty).
 */
int spapr_pe_set_window(struct spapr_pe *pe, unsigned int num, struct spapr_table *tbl);
void spapr_pe_unset_window(struct spapr_pe *pe, unsigned int num);
/* The table in window @num (no reference taken), or NULL. */
struct spapr_table *spapr_pe_window(const struct spapr_pe *pe, unsigned int num);

/* ------------------------------------------------------------------ */
/* DMA and EEH                                                        */

/* struct iommu_dma_fault.reason of the model's dma_translate. */
enum {
	SPAPR_DMA_FAULT_FROZEN = 1,    /* err -EIO: the PE's DMA is frozen (or in reset) */
	SPAPR_DMA_FAULT_NO_WINDOW = 2, /* err -EFAULT: no window holds the address; PE frozen */
	SPAPR_DMA_FAULT_NOT_MAPPED = 3, /* err -EFAULT: TCE not present; PE frozen */
	SPAPR_DMA_FAULT_PERM = 4,      /* err -EFAULT: direction not allowed; PE frozen */
	SPAPR_DMA_FAULT_INJECTED = 5,  /* err -EIO: an injected error hit; PE frozen */
	SPAPR_DMA_FAULT_PASID = 6,     /* err -EIO: a PASID-tagged request (none on a PHB) */
	SPAPR_DMA_FAULT_NO_PE = 7,     /* err -EIO: not an sPAPR device */
};

/* The platform's EEH switch (Linux's eeh_enabled()), on by default. */
bool spapr_eeh_enabled(void);
void spapr_eeh_set_enabled(bool on);

/* Options (Linux's EEH_OPT_*) and reset kinds (EEH_RESET_*). */
#define SPAPR_EEH_OPT_DISABLE	0
#define SPAPR_EEH_OPT_ENABLE	1
#define SPAPR_EEH_OPT_THAW_MMIO 2
#define SPAPR_EEH_OPT_THAW_DMA	3
#define SPAPR_EEH_OPT_FREEZE_PE 4
#define SPAPR_EEH_RESET_DEACTIVATE  0
#define SPAPR_EEH_RESET_HOT	    1
#define SPAPR_EEH_RESET_FUNDAMENTAL 3

int spapr_eeh_set_option(struct spapr_pe *pe, int option);
int spapr_eeh_get_state(struct spapr_pe *pe);
int spapr_eeh_reset(struct spapr_pe *pe, int option);
int spapr_eeh_configure(struct spapr_pe *pe);
int spapr_eeh_inject_err(struct spapr_pe *pe, int type, int func, uint64_t addr, uint64_t mask);
/* Freezes so far (DMA faults and injections that hit), for tests and stats. */
uint64_t spapr_pe_freeze_count(const struct spapr_pe *pe);

/*
 * Watching a PE's MMIO state: what a mapping of a BAR needs, since its
 * loads and stores reach the device without any check. @fn(arg, frozen) is
 * called at once with the current state and then at every change of it
 * (freeze, THAW_MMIO, reset asserted / deasserted), never concurrently for
 * one PE, from whichever thread changed the state (a DMA thread when a DMA
 * froze the PE); after spapr_pe_unwatch_mmio() returns it is not running
 * and will not run. The struct is the caller's until then.
 */
struct spapr_mmio_watch {
	void (*fn)(void *arg, bool frozen);
	void *arg;
	bool frozen; /* the state @fn was last told */
	struct list_head node;
};
void spapr_pe_watch_mmio(struct spapr_pe *pe, struct spapr_mmio_watch *w);
void spapr_pe_unwatch_mmio(struct spapr_pe *pe, struct spapr_mmio_watch *w);

/* May the device's MMIO (BAR) accesses reach it? False while its PE's MMIO is frozen. */
bool spapr_dev_mmio_ok(struct udev *dev, bool write);

#endif
