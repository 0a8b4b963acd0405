// SPDX-License-Identifier: MIT
/*
 * spapr_eeh.c - EEH, the error state of a PE.
 *
 * What it owns. Each PE has four state bits (spapr_priv.h): MMIO frozen,
 * DMA frozen, reset asserted, config blocked; and at most one armed error
 * injection. The PHB sets both frozen bits when it rejects a DMA
 * (spapr.c) or an injected error hits; software clears them with the
 * THAW options or a reset. What each operation returns is what Linux's
 * eeh_pe_set_option / _get_state / _reset / _configure / _inject_err
 * return on PowerNV (arch/powerpc/kernel/eeh.c and eeh-powernv.c, read for
 * facts):
 *
 *   ENABLE      0, or -EIO when EEH is off on the platform
 *   DISABLE     0 and nothing else (Linux does not disable EEH per PE)
 *   THAW_MMIO   0; clears the MMIO freeze (0 at once when MMIO was on)
 *   THAW_DMA    0; clears the DMA freeze (likewise)
 *   FREEZE_PE   freezes both (what a reset does first)
 *   other       -EINVAL
 *   GET_STATE   RESET (1) while reset is asserted, else from the two
 *               freeze bits: NORMAL 0, STOPPED 2 (both), STOPPED_DMA 4
 *               (DMA only), UNAVAIL 5 (MMIO only)
 *   reset HOT / FUNDAMENTAL  freeze, block config, assert reset: 0
 *   reset DEACTIVATE         deassert, unblock config, thaw both: 0
 *   reset other              -EINVAL
 *   CONFIGURE   0
 *   INJECT_ERR  func outside 0..19 -EINVAL (generic check), type not
 *               32/64-bit -ERANGE (PowerNV's check); otherwise armed: 0
 *
 * How an injection hits (the model's choice, as the PHB's error-injection
 * registers are not modelled bit by bit): functions 12..15 (DMA read) and
 * 16..19 (DMA write) match the next DMA of that direction with (iova &
 * mask) == (addr & mask); load and store functions (0..11) freeze the PE
 * at once, as the model decodes no MMIO addresses. A hit freezes the PE
 * and disarms the injection; a reset disarms it too.
 *
 * MMIO watchers (a VFIO mapping of a BAR): every change of the MMIO half of
 * the state is followed by spapr_mmio_notify(), which tells each watcher
 * the state it reads under watch_lock, once per change.
 *
 * Locks: pe->eeh_lock serialises changes of the state and the injection;
 * the DMA path reads the state bits and inject_armed atomically and takes
 * the lock only to claim an armed injection. pe->watch_lock (taken with
 * eeh_lock released) serialises the MMIO watchers, which may take
 * util/file's mapping lock inside.
 */
#include <errno.h>
#include <linux/vfio.h>

#include "hw/spapr/spapr_priv.h"

/* Error injection (Linux's EEH_ERR_TYPE_* / EEH_ERR_FUNC_*). */
#define EEH_ERR_TYPE_32		 0
#define EEH_ERR_TYPE_64		 1
#define EEH_ERR_FUNC_MIN	 0
#define EEH_ERR_FUNC_DMA_RD_ADDR 12
#define EEH_ERR_FUNC_DMA_WR_ADDR 16
#define EEH_ERR_FUNC_MAX	 19

static atomic_bool eeh_off;

bool spapr_eeh_enabled(void)
{
	return !atomic_load(&eeh_off);
}

void spapr_eeh_set_enabled(bool on)
{
	atomic_store(&eeh_off, !on);
}

void spapr_eeh_init(struct spapr_pe *pe)
{
	pthread_mutex_init(&pe->eeh_lock, NULL);
	atomic_init(&pe->eeh, 0);
	atomic_init(&pe->inject_armed, false);
	atomic_init(&pe->freezes, 0);
	pthread_mutex_init(&pe->watch_lock, NULL);
	INIT_LIST_HEAD(&pe->watchers);
}

static bool mmio_frozen(struct spapr_pe *pe)
{
	return atomic_load(&pe->eeh) & (SPAPR_PE_MMIO_FROZEN | SPAPR_PE_RESET);
}

void spapr_mmio_notify(struct spapr_pe *pe)
{
	struct spapr_mmio_watch *w;
	bool frozen;

	pthread_mutex_lock(&pe->watch_lock);
	/* Read under the lock: the last notify of racing changes sees the final state. */
	frozen = mmio_frozen(pe);
	list_for_each_entry(w, &pe->watchers, node)
	{
		if (w->frozen == frozen)
			continue;
		w->frozen = frozen;
		w->fn(w->arg, frozen);
	}
	pthread_mutex_unlock(&pe->watch_lock);
}

void spapr_pe_watch_mmio(struct spapr_pe *pe, struct spapr_mmio_watch *w)
{
	pthread_mutex_lock(&pe->watch_lock);
	w->frozen = mmio_frozen(pe);
	list_add_tail(&w->node, &pe->watchers);
	w->fn(w->arg, w->frozen);
	pthread_mutex_unlock(&pe->watch_lock);
}

void spapr_pe_unwatch_mmio(struct spapr_pe *pe, struct spapr_mmio_watch *w)
{
	pthread_mutex_lock(&pe->watch_lock);
	list_del(&w->node);
	pthread_mutex_unlock(&pe->watch_lock);
}

void spapr_pe_freeze(struct spapr_pe *pe)
{
	unsigned int old = atomic_fetch_or(&pe->eeh, SPAPR_PE_MMIO_FROZEN | SPAPR_PE_DMA_FROZEN);

	atomic_fetch_add(&pe->freezes, 1);
	if (!(old & SPAPR_PE_MMIO_FROZEN))
		spapr_mmio_notify(pe);
}

uint64_t spapr_pe_freeze_count(const struct spapr_pe *pe)
{
	return atomic_load(&((struct spapr_pe *)pe)->freezes);
}

bool spapr_eeh_inject_hit(struct spapr_pe *pe, uint64_t iova, bool write)
{
	bool hit = false;

	pthread_mutex_lock(&pe->eeh_lock);
	if (pe->inject.armed && pe->inject.write == write &&
	    (iova & pe->inject.mask) == (pe->inject.addr & pe->inject.mask)) {
		pe->inject.armed = false;
		atomic_store(&pe->inject_armed, false);
		hit = true;
	}
	pthread_mutex_unlock(&pe->eeh_lock);
	return hit;
}

int spapr_eeh_set_option(struct spapr_pe *pe, int option)
{
	if (!pe)
		return -ENODEV;
	switch (option) {
	case SPAPR_EEH_OPT_ENABLE:
		return spapr_eeh_enabled() ? 0 : -EIO;
	case SPAPR_EEH_OPT_DISABLE:
		return 0;
	case SPAPR_EEH_OPT_THAW_MMIO:
		atomic_fetch_and(&pe->eeh, ~SPAPR_PE_MMIO_FROZEN);
		spapr_mmio_notify(pe);
		return 0;
	case SPAPR_EEH_OPT_THAW_DMA:
		atomic_fetch_and(&pe->eeh, ~SPAPR_PE_DMA_FROZEN);
		return 0;
	case SPAPR_EEH_OPT_FREEZE_PE:
		atomic_fetch_or(&pe->eeh, SPAPR_PE_MMIO_FROZEN | SPAPR_PE_DMA_FROZEN);
		spapr_mmio_notify(pe);
		return 0;
	default:
		return -EINVAL;
	}
}

int spapr_eeh_get_state(struct spapr_pe *pe)
{
	unsigned int s;
	bool dma_en, mmio_en;

	if (!pe)
		return -ENODEV;
	s = atomic_load(&pe->eeh);
	if (s & SPAPR_PE_RESET)
		return VFIO_EEH_PE_STATE_RESET;
	dma_en = !(s & SPAPR_PE_DMA_FROZEN);
	mmio_en = !(s & SPAPR_PE_MMIO_FROZEN);
	if (dma_en && mmio_en)
		return VFIO_EEH_PE_STATE_NORMAL;
	if (!dma_en && !mmio_en)
		return VFIO_EEH_PE_STATE_STOPPED;
	if (!dma_en)
		return VFIO_EEH_PE_STATE_STOPPED_DMA;
	return VFIO_EEH_PE_STATE_UNAVAIL;
}

int spapr_eeh_reset(struct spapr_pe *pe, int option)
{
	if (!pe)
		return -ENODEV;
	switch (option) {
	case SPAPR_EEH_RESET_DEACTIVATE:
		pthread_mutex_lock(&pe->eeh_lock);
		pe->inject.armed = false;
		atomic_store(&pe->inject_armed, false);
		/* Deassert, unblock config, re-enable the devices: the PE thaws. */
		atomic_store(&pe->eeh, 0);
		pthread_mutex_unlock(&pe->eeh_lock);
		spapr_mmio_notify(pe);
		return 0;
	case SPAPR_EEH_RESET_HOT:
	case SPAPR_EEH_RESET_FUNDAMENTAL:
		pthread_mutex_lock(&pe->eeh_lock);
		pe->inject.armed = false;
		atomic_store(&pe->inject_armed, false);
		atomic_fetch_or(&pe->eeh, SPAPR_PE_MMIO_FROZEN | SPAPR_PE_DMA_FROZEN |
						  SPAPR_PE_CFG_BLOCKED | SPAPR_PE_RESET);
		pthread_mutex_unlock(&pe->eeh_lock);
		spapr_mmio_notify(pe);
		return 0;
	default:
		return -EINVAL;
	}
}

int spapr_eeh_configure(struct spapr_pe *pe)
{
	return pe ? 0 : -ENODEV;
}

int spapr_eeh_inject_err(struct spapr_pe *pe, int type, int func, uint64_t addr, uint64_t mask)
{
	if (!pe)
		return -ENODEV;
	if (func < EEH_ERR_FUNC_MIN || func > EEH_ERR_FUNC_MAX)
		return -EINVAL;
	if (type != EEH_ERR_TYPE_32 && type != EEH_ERR_TYPE_64)
		return -ERANGE;
	if (func < EEH_ERR_FUNC_DMA_RD_ADDR) {
		/* A load or store error: the model has no MMIO decode, it hits now. */
		spapr_pe_freeze(pe);
		return 0;
	}
	pthread_mutex_lock(&pe->eeh_lock);
	pe->inject = (struct spapr_eeh_inject){
		.armed = true,
		.write = func >= EEH_ERR_FUNC_DMA_WR_ADDR,
		.addr = addr,
		.mask = mask,
	};
	atomic_store(&pe->inject_armed, true);
	pthread_mutex_unlock(&pe->eeh_lock);
	return 0;
}
