/* SPDX-License-Identifier: MIT */
/*
 * lib/dev/dmatest/dmatest.h - dmatest, a PCI Express DMA test function.
 *
 * A device that does nothing but DMA on command: a driver (a test, a VMM
 * through VFIO, a guest) programs source, destination, length, PASID and
 * an operation into BAR0, rings GO, and the device moves bytes through the
 * IOMMU in front of it (iommu_dma_rw() with the stream id of its struct
 * udev), reports the result in STATUS and the fault registers, and raises
 * an interrupt. doc/dmatest.md is the data sheet; this header is its
 * machine-readable half.
 *
 * Identity (synthetic: these IDs are not assigned by the PCI-SIG to
 * anybody, and must never be mistaken for a real product):
 *   vendor 0x5549 ("UI"), device 0x444d ("DM"), revision 1,
 *   subsystem 0x5549:0x0001, class 0xff0000 (device does not fit a class).
 *
 * Configuration space (4 KiB):
 *   0x00  type 0 header; Command: Memory Space, Bus Master, Parity Error
 *         Response, SERR# and INTx Disable writable; Status: CAP_LIST, and
 *         RW1C error bits (the device sets Received Master Abort when a
 *         DMA of its own faults); BAR0 64-bit memory, non-prefetchable,
 *         DMATEST_BAR0_SIZE bytes (size probing by writing all-ones);
 *         BAR2..5, ROM: not implemented (read 0); Interrupt Pin 1 (INTA#),
 *         Status.Interrupt Status while INTx is pending
 *   0x40  MSI-X, DMATEST_NR_VECTORS vectors, table at BAR0 + 0x1000, PBA
 *         at BAR0 + 0x2000; Function Mask and Enable writable
 *   0x50  PCI Express v2, endpoint, Function Level Reset capable
 *         (Device Control bit 15 resets the function; reads 0)
 *   0x100 PASID extended capability: Max PASID Width from the parameters,
 *         no execute / privileged modes; Enable writable (absent when the
 *         width is 0)
 *
 * BAR0 registers (little-endian; 32-bit registers take 4-byte accesses,
 * 64-bit ones 8-byte accesses or two 4-byte halves; other sizes or
 * misaligned offsets are refused with -EINVAL):
 *
 *   off    name         acc  meaning
 *   0x000  ID           RO   DMATEST_ID_VALUE ("UIDM")
 *   0x004  VERSION      RO   1
 *   0x008  BUF_SIZE     RO   bytes of the internal buffer
 *   0x00c  NR_VECTORS   RO   MSI-X vectors
 *   0x010  SRC_IOVA     RW64 source address (READ, COPY)
 *   0x018  DST_IOVA     RW64 destination address (WRITE, COPY, FILL)
 *   0x020  LEN          RW   bytes to move (1 .. 2^32 - 1; READ / WRITE at
 *                            most BUF_SIZE)
 *   0x024  PASID        RW   [19:0] PASID, bit 31 PASID valid
 *   0x028  OP           RW   DMATEST_OP_*
 *   0x02c  CTRL         RW   bit 0 completion interrupt, bit 1 error interrupt
 *   0x030  FILL         RW64 pattern for FILL (byte i of the transfer is
 *                            byte i % 8 of the pattern)
 *   0x038  GO           WO   write 1: run the operation (reads 0)
 *   0x03c  STATUS       RW1C bit 0 BUSY (RO), bit 1 DONE, bit 2 ERROR (W1C),
 *                            [15:8] error code DMATEST_ERR_* (RO, cleared
 *                            with ERROR)
 *   0x040  FAULT_IOVA   RO64 first byte that faulted
 *   0x048  FAULT_INFO   RO   bit 0 read, bit 1 write, bit 2 PASID valid,
 *                            [23:8] the IOMMU's reason code, [31:24] the
 *                            errno (14 EFAULT: translation / permission,
 *                            5 EIO: configuration)
 *   0x04c  FAULT_PASID  RO   PASID of the faulting request
 *   0x050  DONE_BYTES   RO64 bytes the last operation moved (written to
 *                            their destination)
 *   0x058  COMPLETIONS  RO   operations that ended without error
 *   0x05c  ERRORS       RO   operations that ended with an error
 *   0x060  IRQ_COUNT0   RO   interrupts the device raised on vector 0
 *   0x064  IRQ_COUNT1   RO   ... on vector 1
 *   0x1000 MSI-X table  (16 bytes a vector: address low, high, data, control)
 *   0x2000 MSI-X PBA    RO
 *   0x8000 buffer       RW   the internal buffer, DMATEST_BUF_SIZE bytes,
 *                            any access size 1, 2, 4, 8; also mmap-able
 *
 * Operations: READ copies LEN bytes of memory at SRC_IOVA into the buffer
 * (from its start); WRITE copies the buffer's first LEN bytes to DST_IOVA;
 * COPY moves SRC_IOVA to DST_IOVA in chunks (each chunk read whole, then
 * written); FILL writes the pattern to DST_IOVA. A faulting access stops
 * the operation: every byte before the faulting one has reached its
 * destination (for COPY: what was read before a read fault is written
 * first), none at or after it has, and DONE_BYTES is the fault's offset
 * in the transfer. In-range bytes of the buffer past a READ fault keep
 * their old contents.
 *
 * Execution is synchronous: the GO write runs the operation, latches the
 * status and raises the interrupt before it returns. Accesses to the
 * device are serialised by its lock; STATUS, COMPLETIONS and ERRORS are
 * also readable without it (so another thread sees BUSY), and a GO from a
 * second thread waits for the first to end.
 *
 * Interrupts (vector 0: completion, vector 1: error; one per operation,
 * enabled by CTRL). With MSI-X enabled (and Bus Master set) an interrupt
 * is a message: masked (vector or function mask) it sets its PBA bit and
 * is sent when unmasked; unmasked, it goes to the owner's eventfd for that
 * vector if one is set (a host-owned vector, how VFIO delivers MSI-X),
 * otherwise the device writes the entry's data to the entry's address
 * through the IOMMU, as a DMA write without PASID: a doorbell page there
 * (dev/msi_doorbell.h) turns it into an eventfd signal, ordinary memory
 * just receives the 4 bytes, and a fault is a DMA fault (latched in
 * STATUS / FAULT_* as DMATEST_ERR_MSI_FAULT unless an error is already
 * latched; it raises no further interrupt). With MSI-X disabled the
 * interrupt is INTx: the vector's cause stays pending (Status.Interrupt
 * Status set) until the driver clears the STATUS bit that caused it (DONE
 * for vector 0, ERROR for vector 1; a GO and an FLR clear both), and
 * unless Command.INTx Disable is set the owner's eventfd for the vector is
 * signalled (a virtual wire: no Bus Master needed); a cause raised while
 * INTx is disabled is signalled when the driver enables it again. With no
 * way to deliver, the interrupt is counted as lost.
 *
 * The owner's side of a vector is its eventfd, or a handler
 * (dmatest_set_irq_handler(): how VFIO takes the function's interrupts),
 * which then takes the place of every eventfd.
 */
#ifndef UIOMMU_DEV_DMATEST_H
#define UIOMMU_DEV_DMATEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/iommu.h"

#define DMATEST_VENDOR_ID	 0x5549u
#define DMATEST_DEVICE_ID	 0x444du
#define DMATEST_REVISION	 1u
#define DMATEST_CLASS		 0xff0000u
#define DMATEST_SUBSYS_VENDOR_ID 0x5549u
#define DMATEST_SUBSYS_ID	 0x0001u

#define DMATEST_CAP_MSIX      0x40u
#define DMATEST_CAP_PCIE      0x50u
#define DMATEST_EXT_CAP_PASID 0x100u

#define DMATEST_BAR0_SIZE   0x10000u
#define DMATEST_NR_VECTORS  2u
#define DMATEST_MSIX_TABLE  0x1000u
#define DMATEST_MSIX_PBA    0x2000u
#define DMATEST_BUF_OFFSET  0x8000u
#define DMATEST_BUF_SIZE    0x8000u
#define DMATEST_PASID_WIDTH 20u /* default Max PASID Width */

/* BAR0 register offsets */
#define DMATEST_REG_ID		0x000
#define DMATEST_REG_VERSION	0x004
#define DMATEST_REG_BUF_SIZE	0x008
#define DMATEST_REG_NR_VECTORS	0x00c
#define DMATEST_REG_SRC_IOVA	0x010
#define DMATEST_REG_DST_IOVA	0x018
#define DMATEST_REG_LEN		0x020
#define DMATEST_REG_PASID	0x024
#define DMATEST_REG_OP		0x028
#define DMATEST_REG_CTRL	0x02c
#define DMATEST_REG_FILL	0x030
#define DMATEST_REG_GO		0x038
#define DMATEST_REG_STATUS	0x03c
#define DMATEST_REG_FAULT_IOVA	0x040
#define DMATEST_REG_FAULT_INFO	0x048
#define DMATEST_REG_FAULT_PASID 0x04c
#define DMATEST_REG_DONE_BYTES	0x050
#define DMATEST_REG_COMPLETIONS 0x058
#define DMATEST_REG_ERRORS	0x05c
#define DMATEST_REG_IRQ_COUNT0	0x060 /* + 4 * vector */
#define DMATEST_REG_END		0x068

#define DMATEST_ID_VALUE 0x4d444955u /* "UIDM" read as bytes */

#define DMATEST_PASID_MASK  0x000fffffu
#define DMATEST_PASID_VALID (1u << 31)

enum dmatest_op {
	DMATEST_OP_NONE = 0,
	DMATEST_OP_READ = 1,  /* memory -> buffer */
	DMATEST_OP_WRITE = 2, /* buffer -> memory */
	DMATEST_OP_COPY = 3,  /* memory -> memory */
	DMATEST_OP_FILL = 4,  /* pattern -> memory */
};

#define DMATEST_CTRL_IRQ_DONE (1u << 0)
#define DMATEST_CTRL_IRQ_ERR  (1u << 1)

#define DMATEST_STATUS_BUSY	 (1u << 0)
#define DMATEST_STATUS_DONE	 (1u << 1)
#define DMATEST_STATUS_ERROR	 (1u << 2)
#define DMATEST_STATUS_ERR_SHIFT 8
#define DMATEST_STATUS_ERR_MASK	 (0xffu << DMATEST_STATUS_ERR_SHIFT)

enum dmatest_err {
	DMATEST_ERR_NONE = 0,
	DMATEST_ERR_INVALID = 1,    /* unknown OP, LEN 0, or READ/WRITE longer than the buffer */
	DMATEST_ERR_PASID = 2,	    /* PASID valid but PASID not enabled, 0, or too wide */
	DMATEST_ERR_BUS_MASTER = 3, /* Bus Master Enable clear: no DMA issued */
	DMATEST_ERR_DMA_FAULT = 4,  /* the IOMMU refused an access: FAULT_* */
	DMATEST_ERR_MSI_FAULT = 5,  /* an MSI-X message write faulted: FAULT_* */
};

#define DMATEST_FAULT_READ	   (1u << 0)
#define DMATEST_FAULT_WRITE	   (1u << 1)
#define DMATEST_FAULT_PASID	   (1u << 2)
#define DMATEST_FAULT_REASON_SHIFT 8
#define DMATEST_FAULT_ERRNO_SHIFT  24

#define DMATEST_IRQ_DONE 0u /* vector of the completion interrupt */
#define DMATEST_IRQ_ERR	 1u /* vector of the error interrupt */

struct dmatest;

struct dmatest_params {
	unsigned int pasid_width; /* Max PASID Width of the PASID capability (0: no capability) */
};

/*
 * A dmatest function whose DMA goes out as @udev (its IOMMU, stream id and
 * attachments). @udev must outlive the function; @params NULL gives the
 * defaults (PASID width 20). NULL with *err: -EINVAL (no udev, width above
 * 20), -ENOMEM.
 */
struct dmatest *dmatest_create(struct udev *udev, const struct dmatest_params *params, int *err);
void dmatest_destroy(struct dmatest *d);
struct udev *dmatest_udev(const struct dmatest *d);

/*
 * Configuration space: @size 1, 2 or 4 at a naturally aligned @off below
 * 4096 (-EINVAL otherwise). Writes follow each register's RO / RW / RW1C
 * rules and have their side effects (MSI-X enable and masks, FLR).
 */
int dmatest_cfg_read(struct dmatest *d, unsigned int off, unsigned int size, uint32_t *val);
int dmatest_cfg_write(struct dmatest *d, unsigned int off, unsigned int size, uint32_t val);

/* Bytes of BAR @bar (0 for the BARs that are not implemented). */
uint64_t dmatest_bar_size(const struct dmatest *d, unsigned int bar);
/*
 * BAR access at @off of BAR @bar (-EINVAL: no such BAR, out of range, bad
 * size or alignment for the register; -EIO: Memory Space disabled in the
 * Command register, as vfio-pci refuses BAR access then).
 */
int dmatest_bar_read(struct dmatest *d, unsigned int bar, uint64_t off, unsigned int size,
		     uint64_t *val);
int dmatest_bar_write(struct dmatest *d, unsigned int bar, uint64_t off, unsigned int size,
		      uint64_t val);

/*
 * The mmap-able part of BAR @bar: the internal buffer, [*offset, *offset +
 * *len) of BAR0, backed by memfd *fd at file offset 0 (the device keeps
 * the fd; map it MAP_SHARED to see what the device sees). -EINVAL for
 * other BARs. A program writing the buffer while an operation runs races
 * with the device, as it would on hardware.
 */
int dmatest_bar_mmap_area(const struct dmatest *d, unsigned int bar, uint64_t *offset,
			  uint64_t *len, int *fd);

/* Interrupts: the owner's eventfd for @vector (-1: none). -EINVAL for a bad vector. */
int dmatest_set_irq_eventfd(struct dmatest *d, unsigned int vector, int fd);

/* How an interrupt reached the owner's handler. */
enum dmatest_irq_kind {
	DMATEST_IRQ_INTX, /* MSI-X disabled: INTA# asserted for @vector's cause */
	DMATEST_IRQ_MSIX, /* an unmasked MSI-X message of @vector (a host-owned vector) */
};
typedef void (*dmatest_irq_fn)(void *opaque, enum dmatest_irq_kind kind, unsigned int vector);

/*
 * The owner's interrupt handler (NULL: back to the eventfds). While one is
 * set, every interrupt the eventfds would have received goes to it
 * instead: INTx, and every unmasked MSI-X message (the vectors are then
 * host-owned: no message is written through the IOMMU). It is called
 * once per interrupt, without the function's lock, from the thread whose
 * access raised it (a GO, an unmask), after that access is done; so it may
 * call back into the function and take locks of its own, but must not be
 * cleared while an access may still be running.
 */
void dmatest_set_irq_handler(struct dmatest *d, dmatest_irq_fn fn, void *opaque);

/*
 * The host's side of MSI-X, what a host's PCI core does for the driver
 * that owns the function (vfio-pci on VFIO_DEVICE_SET_IRQS): @nvec > 0
 * sets MSI-X Enable, clears Function Mask and the PBA, unmasks vectors
 * below @nvec and masks the others; 0 clears Enable (and the PBA).
 * Never calls the handler (nothing is pending right after). -EINVAL for
 * @nvec above DMATEST_NR_VECTORS.
 */
int dmatest_host_msix(struct dmatest *d, unsigned int nvec);

struct dmatest_irq_stats {
	uint64_t raised;     /* the device wanted to signal */
	uint64_t msi_writes; /* message writes that reached their target */
	uint64_t eventfd;    /* signals to the owner: its eventfd, or its handler */
	uint64_t masked;     /* raised while masked (PBA bit set; INTx Disable set) */
	uint64_t lost;	     /* no way to deliver (no eventfd or handler; or no Bus Master) */
	uint64_t msi_faults; /* message writes the IOMMU refused */
};
int dmatest_irq_stats(struct dmatest *d, unsigned int vector, struct dmatest_irq_stats *st);

/* Function Level Reset: configuration, registers, MSI-X and buffer to power-on state. */
void dmatest_reset(struct dmatest *d);

#endif
