// SPDX-License-Identifier: MIT
/*
 * dmatest.c - the dmatest PCI function: its configuration space, BAR0
 * decode, MSI-X table, interrupt delivery and reset. The DMA engine that
 * GO starts is dmatest_dma.c; dmatest.h is the data sheet.
 *
 * What it owns: a struct dmatest per function, with its config space (a
 * struct pci_cfg built here), its registers, MSI-X table and PBA, the
 * owner's per-vector eventfds and interrupt counters, the internal buffer
 * (a memfd mapping, so VFIO can offer it for mmap) and the engine's bounce
 * buffer. It does not own the struct udev it issues DMA as: that is the
 * bus identity (stream id, PASID width, attachments) which the platform
 * (the iommufd selftest's mock device, later the VFIO topology) created
 * and keeps alive while the function exists.
 *
 * The interface is the one a VFIO device model needs and nothing more
 * specific: configuration read/write, BAR read/write, the mmap-able part
 * of BAR0, an eventfd per interrupt vector, reset.
 *
 * Interrupts. dmatest_raise() is the one place an interrupt starts. With
 * MSI-X enabled it is a message: Bus Master must be set (else lost),
 * the function and vector masks hold it in the PBA, and an unmasked one is
 * either given to the owner (a host-owned vector) or written through the
 * IOMMU to the table entry's address, where a doorbell page
 * (dev/msi_doorbell.h) may take it. Unmasking (Vector Control, Function
 * Mask, Enable) sends what is pending. With MSI-X disabled it is INTx: the
 * vector's cause stays pending until the driver acknowledges it in STATUS
 * (Status.Interrupt Status shows it), and the owner is signalled unless
 * Command.INTx Disable holds it back. The owner is an eventfd per vector,
 * or a handler; handler calls are counted under the lock and made by
 * dmatest_unlock() once it is dropped, so the handler can take locks that
 * are held around calls into the function (VFIO's interrupt lock, around
 * dmatest_host_msix()) without an ordering problem.
 *
 * Invariants: the config space's masks are fixed at build time; PBA bits
 * are only set while MSI-X is enabled and cleared when it is disabled; the
 * error code in STATUS is non-zero exactly when ERROR is set;
 * Status.Interrupt Status is set exactly when intx_pending is non-zero,
 * which it never is while MSI-X is enabled.
 *
 * Locks: d->lock guards everything mutable (config, registers, MSI-X,
 * eventfds, counters, buffer, and the whole of an operation: GO runs under
 * it). STATUS, COMPLETIONS, ERRORS and the Memory Space bit are also kept
 * in atomics, so that STATUS can be read while an operation runs. Order:
 * d->lock, then the doorbell list lock (msi_doorbell_write), then the
 * IOMMU model's locks (dma_translate). The owner's handler runs with none
 * of them held.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dev/dmatest/dmatest_priv.h"
#include "dev/msi_doorbell.h"
#include "util/alloc.h"
#include "util/bits.h"
#include "util/epoch.h"
#include "util/intfd.h"

#define CMD_WRITABLE                                                                       \
	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | \
	 PCI_COMMAND_INTX_DISABLE)
#define STATUS_W1C                                                                       \
	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT | \
	 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define PCIE_CAP_LEN	0x3c /* PCI Express capability structure, version 2 */
#define PCIE_DEVCTL_DEF (PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | 0x2000)
#define PCIE_DEVCTL_RW	0x7fffu
#define PCIE_DEVSTA_W1C \
	(PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD)

/* ---------------------------------------------------------------------- */
/* Configuration space                                                    */

static void cfg_build(struct dmatest *d)
{
	struct pci_cfg *c = &d->cfg;
	unsigned int x = DMATEST_CAP_MSIX, e = DMATEST_CAP_PCIE;

	pci_cfg_init(c, DMATEST_VENDOR_ID, DMATEST_DEVICE_ID, DMATEST_REVISION, DMATEST_CLASS,
		     DMATEST_SUBSYS_VENDOR_ID, DMATEST_SUBSYS_ID);
	pci_set_wmask(c, PCI_COMMAND, 2, CMD_WRITABLE);
	pci_set_w1cmask(c, PCI_STATUS, 2, STATUS_W1C);
	pci_set_wmask(c, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_set_wmask(c, PCI_INTERRUPT_LINE, 1, 0xff);
	pci_set_byte(c, PCI_INTERRUPT_PIN, 1); /* INTA# */

	/* BAR0: 64-bit memory, not prefetchable; address bits above the size are writable. */
	pci_set_long(c, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_64);
	pci_set_wmask(c, PCI_BASE_ADDRESS_0, 4, ~(DMATEST_BAR0_SIZE - 1) & ~0xfu);
	pci_set_wmask(c, PCI_BASE_ADDRESS_1, 4, 0xffffffffu);

	pci_cfg_add_cap(c, PCI_CAP_ID_MSIX, x, PCI_CAP_MSIX_SIZEOF);
	pci_set_word(c, x + PCI_MSIX_FLAGS, DMATEST_NR_VECTORS - 1);
	pci_set_wmask(c, x + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_set_long(c, x + PCI_MSIX_TABLE, DMATEST_MSIX_TABLE | 0);
	pci_set_long(c, x + PCI_MSIX_PBA, DMATEST_MSIX_PBA | 0);

	pci_cfg_add_cap(c, PCI_CAP_ID_EXP, e, PCIE_CAP_LEN);
	pci_set_word(c, e + PCI_EXP_FLAGS, 2 | PCI_EXP_TYPE_ENDPOINT << 4);
	pci_set_long(c, e + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR);
	pci_set_word(c, e + PCI_EXP_DEVCTL, PCIE_DEVCTL_DEF);
	pci_set_wmask(c, e + PCI_EXP_DEVCTL, 2, PCIE_DEVCTL_RW);
	pci_set_w1cmask(c, e + PCI_EXP_DEVSTA, 2, PCIE_DEVSTA_W1C);

	if (d->pasid_width) {
		pci_cfg_add_ext_cap(c, PCI_EXT_CAP_ID_PASID, 1, DMATEST_EXT_CAP_PASID,
				    PCI_EXT_CAP_PASID_SIZEOF);
		pci_set_word(c, DMATEST_EXT_CAP_PASID + PCI_PASID_CAP,
			     (uint16_t)(d->pasid_width << 8));
		pci_set_wmask(c, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2, PCI_PASID_CTRL_ENABLE);
	}
}

static uint16_t cfg_command(const struct dmatest *d)
{
	return pci_get_word(&d->cfg, PCI_COMMAND);
}

bool dmatest_bus_master(const struct dmatest *d)
{
	return cfg_command(d) & PCI_COMMAND_MASTER;
}

bool dmatest_pasid_enabled(const struct dmatest *d)
{
	return d->pasid_width && (pci_get_word(&d->cfg, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL) &
				  PCI_PASID_CTRL_ENABLE);
}

static uint16_t msix_flags(const struct dmatest *d)
{
	return pci_get_word(&d->cfg, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS);
}

static bool msix_enabled(const struct dmatest *d)
{
	return msix_flags(d) & PCI_MSIX_FLAGS_ENABLE;
}

static void sync_mem_enabled(struct dmatest *d);
static void msix_send_pending(struct dmatest *d);
static void intx_assert_pending(struct dmatest *d);
static void dmatest_unlock(struct dmatest *d);

/* Does an access of @size bytes at @off, value @val, write byte @byte with bit @bit set? */
static bool writes_bit(unsigned int off, unsigned int size, uint32_t val, unsigned int byte,
		       unsigned int bit)
{
	if (byte < off || byte >= off + size)
		return false;
	return (val >> (8 * (byte - off))) & (1u << bit);
}

int dmatest_cfg_read(struct dmatest *d, unsigned int off, unsigned int size, uint32_t *val)
{
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = pci_cfg_read(&d->cfg, off, size, val);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void reset_locked(struct dmatest *d);

static void intx_ack_all(struct dmatest *d)
{
	dmatest_intx_ack(d, (1u << DMATEST_NR_VECTORS) - 1);
}

int dmatest_cfg_write(struct dmatest *d, unsigned int off, unsigned int size, uint32_t val)
{
	unsigned int devctl_hi = DMATEST_CAP_PCIE + PCI_EXP_DEVCTL + 1;
	uint16_t old_flags, old_cmd;
	int ret;

	pthread_mutex_lock(&d->lock);
	old_flags = msix_flags(d);
	old_cmd = cfg_command(d);
	ret = pci_cfg_write(&d->cfg, off, size, val);
	if (ret)
		goto out;
	/* Initiate Function Level Reset: bit 15 of Device Control, never stored. */
	if (writes_bit(off, size, val, devctl_hi, 7)) {
		reset_locked(d);
		goto out;
	}
	sync_mem_enabled(d);
	if ((old_flags & PCI_MSIX_FLAGS_ENABLE) && !msix_enabled(d))
		d->pba = 0;
	/* A function with MSI-X enabled does not use INTx: its causes go. */
	if (!(old_flags & PCI_MSIX_FLAGS_ENABLE) && msix_enabled(d))
		intx_ack_all(d);
	if (msix_flags(d) != old_flags)
		msix_send_pending(d);
	/* INTx enabled again with a cause pending: the pin asserts now. */
	if ((old_cmd & PCI_COMMAND_INTX_DISABLE) && !(cfg_command(d) & PCI_COMMAND_INTX_DISABLE))
		intx_assert_pending(d);
out:
	dmatest_unlock(d);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Interrupts                                                             */

static void eventfd_signal(int fd)
{
	static const uint64_t one = 1;

	/* EAGAIN (a full counter) leaves the eventfd readable anyway. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

/* Give @vector's interrupt to the owner (its handler, later, or its eventfd); false: no owner. */
static bool owner_signal(struct dmatest *d, enum dmatest_irq_kind kind, unsigned int vector)
{
	if (d->irq_fn) {
		d->deferred[kind][vector]++;
	} else if (d->irq_fd[vector] >= 0) {
		eventfd_signal(d->irq_fd[vector]);
	} else {
		return false;
	}
	d->irq[vector].eventfd++;
	return true;
}

/* Drop d->lock, then make the handler calls the locked section queued. */
static void dmatest_unlock(struct dmatest *d)
{
	uint32_t calls[2][DMATEST_NR_VECTORS];
	dmatest_irq_fn fn = d->irq_fn;
	void *opaque = d->irq_opaque;
	bool any = false;

	memcpy(calls, d->deferred, sizeof(calls));
	for (unsigned int k = 0; k < 2; k++)
		for (unsigned int v = 0; v < DMATEST_NR_VECTORS; v++)
			any |= calls[k][v] != 0;
	if (any)
		memset(d->deferred, 0, sizeof(d->deferred));
	pthread_mutex_unlock(&d->lock);
	if (!any || !fn)
		return;
	for (unsigned int k = 0; k < 2; k++)
		for (unsigned int v = 0; v < DMATEST_NR_VECTORS; v++)
			for (uint32_t i = 0; i < calls[k][v]; i++)
				fn(opaque, (enum dmatest_irq_kind)k, v);
}

/* Status.Interrupt Status mirrors the pending INTx causes. */
static void intx_sync_status(struct dmatest *d)
{
	uint16_t st = pci_get_word(&d->cfg, PCI_STATUS) & ~PCI_STATUS_INTERRUPT;

	pci_set_word(&d->cfg, PCI_STATUS, st | (d->intx_pending ? PCI_STATUS_INTERRUPT : 0));
}

void dmatest_intx_ack(struct dmatest *d, uint32_t vectors)
{
	if (!(d->intx_pending & vectors))
		return;
	d->intx_pending &= ~vectors;
	intx_sync_status(d);
}

/* INTx Disable was cleared: every pending cause asserts the pin (one signal each). */
static void intx_assert_pending(struct dmatest *d)
{
	for (unsigned int v = 0; v < DMATEST_NR_VECTORS; v++)
		if (d->intx_pending & (1u << v) && !owner_signal(d, DMATEST_IRQ_INTX, v))
			d->irq[v].lost++;
}

/* Latch an error unless one is latched already (the first error wins). */
static bool error_latched(const struct dmatest *d)
{
	return __atomic_load_n(&d->status, __ATOMIC_RELAXED) & DMATEST_STATUS_ERROR;
}

void dmatest_latch_fault(struct dmatest *d, unsigned int code, const struct iommu_dma_fault *f)
{
	uint32_t st = __atomic_load_n(&d->status, __ATOMIC_RELAXED);
	uint32_t info = 0;

	st = (st & ~DMATEST_STATUS_ERR_MASK) | DMATEST_STATUS_ERROR |
	     code << DMATEST_STATUS_ERR_SHIFT;
	__atomic_store_n(&d->status, st, __ATOMIC_RELEASE);
	if (f->access & IOMMU_READ)
		info |= DMATEST_FAULT_READ;
	if (f->access & IOMMU_WRITE)
		info |= DMATEST_FAULT_WRITE;
	if (f->pasid)
		info |= DMATEST_FAULT_PASID;
	info |= (f->reason & 0xffffu) << DMATEST_FAULT_REASON_SHIFT;
	info |= ((unsigned int)-f->err & 0xffu) << DMATEST_FAULT_ERRNO_SHIFT;
	d->fault_iova = f->iova;
	d->fault_pasid = f->pasid;
	d->fault_info = info;
	/* The request was aborted: what a requester sees on an Unsupported Request. */
	pci_set_word(&d->cfg, PCI_STATUS,
		     pci_get_word(&d->cfg, PCI_STATUS) | PCI_STATUS_REC_MASTER_ABORT);
}

/* The message write of @vector: through the IOMMU, to a doorbell or to memory. */
static void msi_write(struct dmatest *d, unsigned int vector)
{
	const struct dmatest_msix_entry *e = &d->msix[vector];
	const struct iommu_ops *ops = d->udev->iommu ? d->udev->iommu->ops : NULL;
	uint64_t addr = (uint64_t)e->addr_hi << 32 | e->addr_lo;
	uint8_t le[4] = {(uint8_t)e->data, (uint8_t)(e->data >> 8), (uint8_t)(e->data >> 16),
			 (uint8_t)(e->data >> 24)};
	struct iommu_dma_fault f = {.iova = addr, .access = IOMMU_WRITE, .err = -EIO};
	size_t contig = 0, done;
	void *host = NULL;
	int ret = -EOPNOTSUPP;

	epoch_enter();
	if (ops && ops->dma_translate)
		ret = ops->dma_translate(d->udev, 0, addr, 4, IOMMU_WRITE, &host, &contig, &f);
	if (!ret && contig >= 4 && !msi_doorbell_write(host, 4, e->data))
		memcpy(host, le, 4);
	epoch_exit();
	/* A model whose run ends inside the dword: write it as plain DMA (no doorbell). */
	if (!ret && contig < 4)
		ret = iommu_dma_rw(d->udev, 0, addr, le, 4, true, &done, &f);
	if (ret) {
		d->irq[vector].msi_faults++;
		if (!error_latched(d))
			dmatest_latch_fault(d, DMATEST_ERR_MSI_FAULT, &f);
		return;
	}
	d->irq[vector].msi_writes++;
}

/* An unmasked MSI-X interrupt of @vector, Bus Master set. */
static void msix_send(struct dmatest *d, unsigned int vector)
{
	if (!owner_signal(d, DMATEST_IRQ_MSIX, vector))
		msi_write(d, vector);
}

static bool vector_masked(const struct dmatest *d, unsigned int vector)
{
	return (msix_flags(d) & PCI_MSIX_FLAGS_MASKALL) ||
	       (d->msix[vector].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

void dmatest_raise(struct dmatest *d, unsigned int vector)
{
	d->irq_count[vector]++;
	d->irq[vector].raised++;
	if (msix_enabled(d)) {
		if (!dmatest_bus_master(d)) {
			d->irq[vector].lost++;
		} else if (vector_masked(d, vector)) {
			d->pba |= 1ull << vector;
			d->irq[vector].masked++;
		} else {
			msix_send(d, vector);
		}
		return;
	}
	/* INTx: the cause stays pending until STATUS acknowledges it. */
	d->intx_pending |= 1u << vector;
	intx_sync_status(d);
	if (cfg_command(d) & PCI_COMMAND_INTX_DISABLE)
		d->irq[vector].masked++;
	else if (!owner_signal(d, DMATEST_IRQ_INTX, vector))
		d->irq[vector].lost++;
}

/* Send every pending vector that is no longer masked. */
static void msix_send_pending(struct dmatest *d)
{
	if (!msix_enabled(d))
		return;
	for (unsigned int v = 0; v < DMATEST_NR_VECTORS; v++) {
		if (!(d->pba & (1ull << v)) || vector_masked(d, v))
			continue;
		d->pba &= ~(1ull << v);
		if (dmatest_bus_master(d))
			msix_send(d, v);
		else
			d->irq[v].lost++;
	}
}

int dmatest_set_irq_eventfd(struct dmatest *d, unsigned int vector, int fd)
{
	if (vector >= DMATEST_NR_VECTORS)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	d->irq_fd[vector] = fd < 0 ? -1 : fd;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void dmatest_set_irq_handler(struct dmatest *d, dmatest_irq_fn fn, void *opaque)
{
	pthread_mutex_lock(&d->lock);
	d->irq_fn = fn;
	d->irq_opaque = fn ? opaque : NULL;
	memset(d->deferred, 0, sizeof(d->deferred));
	pthread_mutex_unlock(&d->lock);
}

int dmatest_host_msix(struct dmatest *d, unsigned int nvec)
{
	unsigned int x = DMATEST_CAP_MSIX + PCI_MSIX_FLAGS;
	uint16_t flags;

	if (nvec > DMATEST_NR_VECTORS)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	flags = msix_flags(d) & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	d->pba = 0;
	if (nvec) {
		pci_set_word(&d->cfg, x, flags | PCI_MSIX_FLAGS_ENABLE);
		for (unsigned int v = 0; v < DMATEST_NR_VECTORS; v++)
			d->msix[v].ctrl = v < nvec ? 0 : PCI_MSIX_ENTRY_CTRL_MASKBIT;
		intx_ack_all(d);
	} else {
		pci_set_word(&d->cfg, x, flags);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int dmatest_irq_stats(struct dmatest *d, unsigned int vector, struct dmatest_irq_stats *st)
{
	if (vector >= DMATEST_NR_VECTORS)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	*st = d->irq[vector];
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* BAR0                                                                   */

static bool mem_enabled(const struct dmatest *d)
{
	return __atomic_load_n(&d->mem_on, __ATOMIC_ACQUIRE);
}

/* Mirror Command.MEMORY into mem_on, which BAR accesses read without the lock. */
static void sync_mem_enabled(struct dmatest *d)
{
	__atomic_store_n(&d->mem_on, (cfg_command(d) & PCI_COMMAND_MEMORY) != 0, __ATOMIC_RELEASE);
}

uint64_t dmatest_bar_size(const struct dmatest *d, unsigned int bar)
{
	return bar == 0 ? DMATEST_BAR0_SIZE : 0;
}

static bool is_reg64(uint64_t off)
{
	switch (off) {
	case DMATEST_REG_SRC_IOVA:
	case DMATEST_REG_DST_IOVA:
	case DMATEST_REG_FILL:
	case DMATEST_REG_FAULT_IOVA:
	case DMATEST_REG_DONE_BYTES:
		return true;
	}
	return false;
}

static uint32_t lo32(uint64_t v)
{
	return (uint32_t)v;
}

static uint32_t hi32(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

/*
 * The 64-bit register at 8-aligned @off, read as two 32-bit halves (low at
 * @off, high at @off + 4), or NULL; *@writable: software may write it.
 */
static uint64_t *reg64(struct dmatest *d, uint64_t off, bool *writable)
{
	*writable = true;
	switch (off) {
	case DMATEST_REG_SRC_IOVA:
		return &d->src;
	case DMATEST_REG_DST_IOVA:
		return &d->dst;
	case DMATEST_REG_FILL:
		return &d->fill;
	case DMATEST_REG_FAULT_IOVA:
		*writable = false;
		return &d->fault_iova;
	case DMATEST_REG_DONE_BYTES:
		*writable = false;
		return &d->done_bytes;
	default:
		return NULL;
	}
}

/* A 32-bit register (or half of a 64-bit one) at 4-aligned @off < 0x1000. */
static uint32_t reg_read32(struct dmatest *d, uint64_t off)
{
	bool writable;
	uint64_t *r = reg64(d, off & ~4ULL, &writable);

	if (r)
		return off & 4 ? hi32(*r) : lo32(*r);
	switch (off) {
	case DMATEST_REG_ID:
		return DMATEST_ID_VALUE;
	case DMATEST_REG_VERSION:
		return 1;
	case DMATEST_REG_BUF_SIZE:
		return DMATEST_BUF_SIZE;
	case DMATEST_REG_NR_VECTORS:
		return DMATEST_NR_VECTORS;
	case DMATEST_REG_LEN:
		return d->len;
	case DMATEST_REG_PASID:
		return d->pasid;
	case DMATEST_REG_OP:
		return d->op;
	case DMATEST_REG_CTRL:
		return d->ctrl;
	case DMATEST_REG_STATUS:
		return __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
	case DMATEST_REG_FAULT_INFO:
		return d->fault_info;
	case DMATEST_REG_FAULT_PASID:
		return d->fault_pasid;
	case DMATEST_REG_COMPLETIONS:
		return __atomic_load_n(&d->completions, __ATOMIC_RELAXED);
	case DMATEST_REG_ERRORS:
		return __atomic_load_n(&d->errors, __ATOMIC_RELAXED);
	}
	if (off >= DMATEST_REG_IRQ_COUNT0 && off < DMATEST_REG_IRQ_COUNT0 + 4 * DMATEST_NR_VECTORS)
		return d->irq_count[(off - DMATEST_REG_IRQ_COUNT0) / 4];
	return 0; /* reserved */
}

static void reg_write32(struct dmatest *d, uint64_t off, uint32_t v)
{
	unsigned int sh = off & 4 ? 32 : 0;
	bool writable;
	uint64_t *r = reg64(d, off & ~4ULL, &writable);
	uint32_t st;

	if (r) {
		if (writable)
			*r = (*r & ~(0xffffffffULL << sh)) | (uint64_t)v << sh;
		return;
	}
	switch (off) {
	case DMATEST_REG_LEN:
		d->len = v;
		break;
	case DMATEST_REG_PASID:
		d->pasid = v & (DMATEST_PASID_MASK | DMATEST_PASID_VALID);
		break;
	case DMATEST_REG_OP:
		d->op = v & 0xff;
		break;
	case DMATEST_REG_CTRL:
		d->ctrl = v & (DMATEST_CTRL_IRQ_DONE | DMATEST_CTRL_IRQ_ERR);
		break;
	case DMATEST_REG_GO:
		if (v & 1)
			dmatest_go(d);
		break;
	case DMATEST_REG_STATUS:
		st = __atomic_load_n(&d->status, __ATOMIC_RELAXED);
		if (v & DMATEST_STATUS_DONE) {
			st &= ~DMATEST_STATUS_DONE;
			dmatest_intx_ack(d, 1u << DMATEST_IRQ_DONE);
		}
		if (v & DMATEST_STATUS_ERROR) {
			st &= ~(DMATEST_STATUS_ERROR | DMATEST_STATUS_ERR_MASK);
			dmatest_intx_ack(d, 1u << DMATEST_IRQ_ERR);
		}
		__atomic_store_n(&d->status, st, __ATOMIC_RELEASE);
		break;
	default:
		break; /* read-only or reserved */
	}
}

static uint32_t msix_read32(struct dmatest *d, uint64_t off)
{
	const struct dmatest_msix_entry *e = &d->msix[off / PCI_MSIX_ENTRY_SIZE];

	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		return e->addr_lo;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		return e->addr_hi;
	case PCI_MSIX_ENTRY_DATA:
		return e->data;
	default:
		return e->ctrl;
	}
}

static void msix_write32(struct dmatest *d, uint64_t off, uint32_t v)
{
	struct dmatest_msix_entry *e = &d->msix[off / PCI_MSIX_ENTRY_SIZE];

	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		e->addr_lo = v & ~3u; /* a message address is dword aligned */
		break;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		e->addr_hi = v;
		break;
	case PCI_MSIX_ENTRY_DATA:
		e->data = v;
		break;
	default:
		e->ctrl = v & PCI_MSIX_ENTRY_CTRL_MASKBIT;
		msix_send_pending(d);
		break;
	}
}

enum bar_area { AREA_REGS, AREA_MSIX, AREA_PBA, AREA_BUF, AREA_NONE };

/* Which part of BAR0 an access falls in; -EINVAL for a size or alignment it refuses. */
static int bar_area(uint64_t off, unsigned int size, enum bar_area *area)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	if (off & (size - 1) || off >= DMATEST_BAR0_SIZE || size > DMATEST_BAR0_SIZE - off)
		return -EINVAL;
	if (off >= DMATEST_BUF_OFFSET) {
		*area = AREA_BUF;
		return 0;
	}
	if (size < 4)
		return -EINVAL;
	if (off < DMATEST_MSIX_TABLE) {
		if (size == 8 && !is_reg64(off))
			return -EINVAL;
		*area = AREA_REGS;
	} else if (off < DMATEST_MSIX_TABLE + DMATEST_NR_VECTORS * PCI_MSIX_ENTRY_SIZE) {
		*area = AREA_MSIX;
	} else if (off >= DMATEST_MSIX_PBA && off < DMATEST_MSIX_PBA + 8) {
		*area = AREA_PBA;
	} else {
		*area = AREA_NONE;
	}
	return 0;
}

/*
 * The checks of every BAR access, in order: BAR 0 only and an access
 * bar_area() takes (EINVAL), memory space enabled (EIO); then *@area.
 */
static int bar_access(struct dmatest *d, unsigned int bar, uint64_t off, unsigned int size,
		      enum bar_area *area)
{
	int ret;

	if (bar != 0)
		return -EINVAL;
	ret = bar_area(off, size, area);
	if (ret)
		return ret;
	if (!mem_enabled(d))
		return -EIO;
	return 0;
}

static uint64_t area_read32(struct dmatest *d, enum bar_area area, uint64_t off)
{
	switch (area) {
	case AREA_REGS:
		return reg_read32(d, off);
	case AREA_MSIX:
		return msix_read32(d, off - DMATEST_MSIX_TABLE);
	case AREA_PBA:
		return off == DMATEST_MSIX_PBA ? lo32(d->pba) : hi32(d->pba);
	default:
		return 0;
	}
}

static void area_write32(struct dmatest *d, enum bar_area area, uint64_t off, uint32_t v)
{
	if (area == AREA_REGS)
		reg_write32(d, off, v);
	else if (area == AREA_MSIX)
		msix_write32(d, off - DMATEST_MSIX_TABLE, v);
	/* PBA and reserved space: read-only */
}

int dmatest_bar_read(struct dmatest *d, unsigned int bar, uint64_t off, unsigned int size,
		     uint64_t *val)
{
	enum bar_area area;
	uint64_t v = 0;
	int ret;

	ret = bar_access(d, bar, off, size, &area);
	if (ret)
		return ret;
	/* STATUS (and the counters) without the lock: BUSY is visible during an operation. */
	if (area == AREA_REGS && size == 4 &&
	    (off == DMATEST_REG_STATUS || off == DMATEST_REG_COMPLETIONS ||
	     off == DMATEST_REG_ERRORS)) {
		*val = reg_read32(d, off);
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if (area == AREA_BUF) {
		for (unsigned int i = 0; i < size; i++)
			v |= (uint64_t)d->buf[off - DMATEST_BUF_OFFSET + i] << (8 * i);
	} else {
		v = area_read32(d, area, off);
		if (size == 8)
			v |= area_read32(d, area, off + 4) << 32;
	}
	pthread_mutex_unlock(&d->lock);
	*val = v;
	return 0;
}

int dmatest_bar_write(struct dmatest *d, unsigned int bar, uint64_t off, unsigned int size,
		      uint64_t val)
{
	enum bar_area area;
	int ret;

	ret = bar_access(d, bar, off, size, &area);
	if (ret)
		return ret;
	pthread_mutex_lock(&d->lock);
	if (area == AREA_BUF) {
		for (unsigned int i = 0; i < size; i++)
			d->buf[off - DMATEST_BUF_OFFSET + i] = (uint8_t)(val >> (8 * i));
	} else {
		area_write32(d, area, off, (uint32_t)val);
		if (size == 8)
			area_write32(d, area, off + 4, (uint32_t)(val >> 32));
	}
	dmatest_unlock(d);
	return 0;
}

int dmatest_bar_mmap_area(const struct dmatest *d, unsigned int bar, uint64_t *offset,
			  uint64_t *len, int *fd)
{
	if (bar != 0)
		return -EINVAL;
	*offset = DMATEST_BUF_OFFSET;
	*len = DMATEST_BUF_SIZE;
	*fd = intfd_fd(d->buf_fd);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                             */

static size_t buf_alloc_len(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return ALIGN_UP((size_t)DMATEST_BUF_SIZE, pg);
}

static void reset_locked(struct dmatest *d)
{
	cfg_build(d);
	sync_mem_enabled(d);
	d->src = d->dst = d->fill = 0;
	d->len = d->pasid = d->op = d->ctrl = 0;
	__atomic_store_n(&d->status, 0, __ATOMIC_RELEASE);
	d->fault_iova = 0;
	d->fault_info = d->fault_pasid = 0;
	d->done_bytes = 0;
	__atomic_store_n(&d->completions, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&d->errors, 0, __ATOMIC_RELAXED);
	memset(d->irq_count, 0, sizeof(d->irq_count));
	d->intx_pending = 0; /* cfg_build() cleared Interrupt Status */
	/* MSI-X after reset: every vector masked, nothing pending. */
	for (unsigned int v = 0; v < DMATEST_NR_VECTORS; v++)
		d->msix[v] = (struct dmatest_msix_entry){.ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT};
	d->pba = 0;
	memset(d->buf, 0, DMATEST_BUF_SIZE);
}

void dmatest_reset(struct dmatest *d)
{
	pthread_mutex_lock(&d->lock);
	reset_locked(d);
	pthread_mutex_unlock(&d->lock);
}

struct dmatest *dmatest_create(struct udev *udev, const struct dmatest_params *params, int *err)
{
	unsigned int width = params ? params->pasid_width : DMATEST_PASID_WIDTH;
	struct dmatest *d;

	if (!udev || width > DMATEST_PASID_WIDTH) {
		*err = -EINVAL;
		return NULL;
	}
	d = uzalloc(sizeof(*d));
	if (!d)
		goto nomem;
	d->buf_fd = -1;
	d->bounce = ualloc(DMATEST_CHUNK);
	if (!d->bounce)
		goto nomem;
	d->buf = iommu_mmap_region_alloc(buf_alloc_len(), &d->buf_fd);
	if (!d->buf)
		goto nomem;
	/* The buffer's memfd is the device's, out of the program's reach (util/intfd.h). */
	if (intfd_add(&d->buf_fd)) {
		iommu_mmap_region_free(d->buf, buf_alloc_len(), d->buf_fd);
		goto nomem;
	}
	d->udev = udev;
	d->pasid_width = width;
	for (unsigned int v = 0; v < DMATEST_NR_VECTORS; v++)
		d->irq_fd[v] = -1;
	pthread_mutex_init(&d->lock, NULL);
	reset_locked(d);
	*err = 0;
	return d;

nomem:
	if (d)
		ufree(d->bounce);
	ufree(d);
	*err = -ENOMEM;
	return NULL;
}

void dmatest_destroy(struct dmatest *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	iommu_mmap_region_free(d->buf, buf_alloc_len(), intfd_take(&d->buf_fd));
	ufree(d->bounce);
	ufree(d);
}

struct udev *dmatest_udev(const struct dmatest *d)
{
	return d->udev;
}
