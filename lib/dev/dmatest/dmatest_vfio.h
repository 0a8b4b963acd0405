/* SPDX-License-Identifier: MIT */
/*
 * lib/dev/dmatest/dmatest_vfio.h - a dmatest function behind VFIO: the
 * vfio-pci role for it (Linux's vfio-pci-core over a real function).
 *
 * What the VFIO user sees (vfio.h's device-model interface, filled here):
 *
 *   regions  CONFIG  4 KiB, read/write: the function's configuration
 *                    space, with vfio-pci's virtualisation kept to what a
 *                    host must own: the MSI-X capability and the PASID
 *                    extended capability are read-only (the host enables
 *                    MSI-X for SET_IRQS and PASID at open, as the IOMMU
 *                    driver does), and Device Control's Initiate FLR is a
 *                    VFIO_DEVICE_RESET; everything else is the function's
 *                    own (BAR sizing, Command, INTx Disable, RW1C bits)
 *            BAR0    64 KiB, read/write/mmap: registers in 4-byte pieces
 *                    (the 64-bit ones as two halves), the buffer window in
 *                    pieces of 1, 2, 4 or 8 bytes; the MSI-X table reads
 *                    all ones and drops writes, as vfio-pci's does (the
 *                    host owns it); Memory Space off: EIO. Only the
 *                    buffer [0x8000, 0x10000) may be mapped (the sparse
 *                    mmap capability says so); it is the function's own
 *                    memory, so a mapping sees what the device sees
 *            BAR1-5, ROM, VGA: absent (size 0; BAR1 is BAR0's upper half)
 *   IRQs     INTx 1 (INTA#), MSI 0 (no MSI capability), MSI-X 2, ERR 1 (a
 *            PCIe function; the function never reports AER errors, so it
 *            never fires), REQ 1 (never fires: unplug while open is EBUSY)
 *   reset    VFIO_DEVICE_RESET is a Function Level Reset with what
 *            vfio-pci's pci_try_reset_function() saves and restores
 *            around it: Command, Cache Line Size, Interrupt Line, BAR0,
 *            Device Control, PASID Control, and the MSI-X vectors the
 *            user enabled; registers, counters and the buffer come back at
 *            their power-on values
 *   open     the first open resets the function and enables Memory Space
 *            (and PASID, when it has the capability), as vfio-pci's enable
 *            does; the last close resets it again (Memory Space and Bus
 *            Master off)
 *
 * Interrupts reach VFIO through the function's owner handler
 * (dmatest_set_irq_handler()), which calls vfio_device_irq(): INTx as
 * index INTx, MSI-X vector v as index MSI-X vector v. Enabling MSI-X with
 * SET_IRQS turns the function's MSI-X on with those vectors unmasked
 * (dmatest_host_msix()); the vectors are host-owned, so no message is
 * written through the IOMMU, except while the device sits in a nesting
 * container whose guest configuration is in force: ARM's MSIs are then
 * translated by both stages, so the host's message is written through the
 * IOMMU at the doorbell IOVA VFIO names (vfio_device_guest_msi_iova(): the
 * guest's bound doorbell, or the host's own IOVA with no binding), and
 * only a write that reaches the doorbell register signals the vector's
 * eventfd; a fault is the IOMMU's (a stage-1 one lands in the guest's
 * DMA FAULT ring) and the interrupt is lost (dmatest_vfio_msi_dropped()).
 */
#ifndef UIOMMU_DEV_DMATEST_VFIO_H
#define UIOMMU_DEV_DMATEST_VFIO_H

#include "dev/dmatest/dmatest.h"
#include "vfio/vfio.h"

struct dmatest_vfio;

/*
 * A dmatest function whose DMA goes out as @udev (which must outlive it),
 * registered with VFIO as @name (a PCI name such as "0000:00:01.0", at
 * most 31 characters) in group @group_id. NULL with *err: -EINVAL (bad
 * name or parameters, or what vfio_register_device() refuses), -EEXIST
 * (the name is taken), -ENOMEM.
 */
struct dmatest_vfio *dmatest_vfio_create(struct udev *udev, const char *name, unsigned int group_id,
					 const struct dmatest_params *params, int *err);
/*
 * Unregister and free: -EBUSY while VFIO has it open (nothing changes
 * then). A device already unregistered with vfio_unregister_device() is
 * just freed.
 */
int dmatest_vfio_destroy(struct dmatest_vfio *dv);

struct dmatest *dmatest_vfio_function(struct dmatest_vfio *dv);
struct vfio_device *dmatest_vfio_device(struct dmatest_vfio *dv);
/*
 * MSI-X messages that had to go through a guest's stage 1 (nested
 * extension) and did not reach the host's doorbell: no interrupt.
 */
uint64_t dmatest_vfio_msi_dropped(struct dmatest_vfio *dv);

#endif
