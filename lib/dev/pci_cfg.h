/* SPDX-License-Identifier: MIT */
/*
 * lib/dev/pci_cfg.h - the configuration space of an emulated PCI Express
 * function: 4 KiB of registers with per-bit write rules, and the
 * capability lists in it.
 *
 * Register offsets and bit names are <linux/pci_regs.h>'s (the uAPI
 * header, facts of the PCI specifications); this file adds the storage and
 * the rules. Every bit is one of: read-only (the default), read-write (set
 * in wmask: a write stores it), or RW1C (set in w1cmask: writing 1 clears
 * it, writing 0 leaves it; the device sets it). A device model builds its
 * space with the raw setters and the capability helpers, then lets its
 * owner access it through pci_cfg_read() / pci_cfg_write(), and reacts to
 * writes of registers with side effects (BAR, MSI-X control, FLR ...)
 * itself, after the masked store.
 *
 * Not thread safe: the device model serialises accesses with its own lock.
 */
#ifndef UIOMMU_DEV_PCI_CFG_H
#define UIOMMU_DEV_PCI_CFG_H

#include <linux/pci_regs.h>
#include <stdbool.h>
#include <stdint.h>

#define PCI_CFG_SIZE 4096u /* PCI Express: 256 bytes standard + extended space */

struct pci_cfg {
	uint8_t data[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];   /* bits a write stores */
	uint8_t w1cmask[PCI_CFG_SIZE]; /* bits a write of 1 clears */
	uint8_t last_cap;	       /* offset of the last capability linked (0: none) */
	uint16_t last_ext_cap;	       /* the same in extended space */
};

/*
 * A type 0 header: vendor / device IDs, revision, class code (24 bits:
 * base class, subclass, programming interface), subsystem IDs; every other
 * byte zero and read-only. The caller opens up the writable bits.
 */
void pci_cfg_init(struct pci_cfg *c, uint16_t vendor, uint16_t device, uint8_t revision,
		  uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys);

/*
 * Owner accesses: @size 1, 2 or 4 bytes at @off, naturally aligned and
 * inside the 4 KiB (-EINVAL otherwise, nothing done). Little-endian values.
 * A write stores the wmask bits and clears the w1cmask bits written as 1.
 */
int pci_cfg_read(const struct pci_cfg *c, unsigned int off, unsigned int size, uint32_t *val);
int pci_cfg_write(struct pci_cfg *c, unsigned int off, unsigned int size, uint32_t val);

/* Raw access for the device model (no masks; @off + size within the space). */
uint8_t pci_get_byte(const struct pci_cfg *c, unsigned int off);
uint16_t pci_get_word(const struct pci_cfg *c, unsigned int off);
uint32_t pci_get_long(const struct pci_cfg *c, unsigned int off);
void pci_set_byte(struct pci_cfg *c, unsigned int off, uint8_t v);
void pci_set_word(struct pci_cfg *c, unsigned int off, uint16_t v);
void pci_set_long(struct pci_cfg *c, unsigned int off, uint32_t v);
/* Write rules of @size bytes (1, 2, 4) at @off. */
void pci_set_wmask(struct pci_cfg *c, unsigned int off, unsigned int size, uint32_t mask);
void pci_set_w1cmask(struct pci_cfg *c, unsigned int off, unsigned int size, uint32_t mask);

/*
 * Link a capability of @len bytes at @off (4-byte aligned, inside 0x40 ..
 * 0xff, not overlapping the header) to the end of the list: writes its ID
 * and a next pointer of 0, points the previous one (or Capabilities Pointer)
 * at it, sets Status.CAP_LIST. -EINVAL on a bad place.
 */
int pci_cfg_add_cap(struct pci_cfg *c, uint8_t id, unsigned int off, unsigned int len);
/* The same for an extended capability (header: ID, @version, next) at @off >= 0x100. */
int pci_cfg_add_ext_cap(struct pci_cfg *c, uint16_t id, uint8_t version, unsigned int off,
			unsigned int len);

/*
 * Walk the lists the way a driver does: the offset of the first capability
 * with @id, 0 when none. The walks stop after as many steps as the space
 * could hold, so a looping list (a device bug) ends.
 */
unsigned int pci_cfg_find_cap(const struct pci_cfg *c, uint8_t id);
unsigned int pci_cfg_find_ext_cap(const struct pci_cfg *c, uint16_t id);

#endif
