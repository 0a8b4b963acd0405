/* SPDX-License-Identifier: MIT */
/*
 * lib/dev/dmatest/dmatest_priv.h - the dmatest function's state, shared by
 * dmatest.c (configuration space, BAR0 decode, MSI-X, interrupts, reset)
 * and dmatest_dma.c (the DMA engine).
 */
#ifndef UIOMMU_DEV_DMATEST_PRIV_H
#define UIOMMU_DEV_DMATEST_PRIV_H

#include <pthread.h>

#include "dev/dmatest/dmatest.h"
#include "dev/pci_cfg.h"

#define DMATEST_CHUNK 0x8000u /* bytes a COPY / FILL chunk moves through the bounce buffer */

struct dmatest_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

/*
 * Everything is guarded by @lock, except udev and the buffer geometry
 * (fixed), and status / completions / errors / mem_on, which are also read
 * without it (atomics; written under the lock).
 */
struct dmatest {
	struct udev *udev;
	unsigned int pasid_width;
	pthread_mutex_t lock;

	struct pci_cfg cfg;
	bool mem_on; /* atomic: Command.MEMORY, for BAR accesses without the lock */

	/* BAR0 registers */
	uint64_t src, dst, fill;
	uint32_t len, pasid, op, ctrl;
	uint32_t status; /* atomic */
	uint64_t fault_iova;
	uint32_t fault_info, fault_pasid;
	uint64_t done_bytes;
	uint32_t completions, errors; /* atomic */
	uint32_t irq_count[DMATEST_NR_VECTORS];

	/* MSI-X */
	struct dmatest_msix_entry msix[DMATEST_NR_VECTORS];
	uint64_t pba;

	/* INTx: vectors whose cause is pending (Status.Interrupt Status) */
	uint32_t intx_pending;

	/* interrupts: the owner's side */
	int irq_fd[DMATEST_NR_VECTORS];
	struct dmatest_irq_stats irq[DMATEST_NR_VECTORS];
	dmatest_irq_fn irq_fn;
	void *irq_opaque;
	/* signals for irq_fn, made under the lock and delivered after it (dmatest_unlock) */
	uint32_t deferred[2][DMATEST_NR_VECTORS];

	/* the internal buffer (memfd, mmap-able) and the engine's bounce buffer */
	uint8_t *buf;
	int buf_fd;
	uint8_t *bounce;
};

/* dmatest.c, under d->lock */
bool dmatest_bus_master(const struct dmatest *d);
/* The INTx causes of both vectors are acknowledged (a GO starting, STATUS cleared). */
void dmatest_intx_ack(struct dmatest *d, uint32_t vectors);
bool dmatest_pasid_enabled(const struct dmatest *d);
/* Raise @vector (the interrupt machinery of dmatest.h). */
void dmatest_raise(struct dmatest *d, unsigned int vector);
/* Latch a fault into STATUS / FAULT_* (with error code @code); Status.REC_MASTER_ABORT. */
void dmatest_latch_fault(struct dmatest *d, unsigned int code, const struct iommu_dma_fault *f);

/* dmatest_dma.c, under d->lock: the GO doorbell. */
void dmatest_go(struct dmatest *d);

#endif
