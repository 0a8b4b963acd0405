// SPDX-License-Identifier: MIT
/*
 * pci_cfg.c - PCI Express configuration space storage: the bytes, their
 * write rules and the two capability lists (pci_cfg.h has the contract).
 *
 * What it owns: 4 KiB of register bytes and two masks of the same size.
 * A write of @size bytes is applied byte by byte: bits in wmask take the
 * written value, bits in w1cmask written as 1 become 0, all others keep
 * their value. That one rule gives every register type a device needs:
 * read-only identity, read-write control, RW1C status, and BAR size
 * probing (a BAR's wmask holds only the address bits above its size, so
 * writing all-ones reads back the size mask and the read-only type bits).
 *
 * Capabilities. pci_cfg_add_cap() appends to the standard list (header
 * byte 0 ID, byte 1 next; the list starts at Capabilities Pointer 0x34 and
 * Status bit 4 says it exists); pci_cfg_add_ext_cap() to the extended list
 * at 0x100 (a 32-bit header: ID [15:0], version [19:16], next [31:20]).
 * The walkers are what a driver does, with a step bound so that a
 * corrupted list cannot loop.
 *
 * Invariants: the masks never change after the device model has built the
 * space; the data bytes change only through the setters and pci_cfg_write().
 * No locks: the device model serialises access.
 */
#include <errno.h>
#include <string.h>

#include "dev/pci_cfg.h"

void pci_cfg_init(struct pci_cfg *c, uint16_t vendor, uint16_t device, uint8_t revision,
		  uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys)
{
	memset(c, 0, sizeof(*c));
	pci_set_word(c, PCI_VENDOR_ID, vendor);
	pci_set_word(c, PCI_DEVICE_ID, device);
	pci_set_byte(c, PCI_REVISION_ID, revision);
	pci_set_byte(c, PCI_CLASS_PROG, (uint8_t)class_code);
	pci_set_word(c, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	pci_set_byte(c, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
	pci_set_word(c, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	pci_set_word(c, PCI_SUBSYSTEM_ID, subsys);
}

static bool access_ok_cfg(unsigned int off, unsigned int size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	return !(off & (size - 1)) && off < PCI_CFG_SIZE && size <= PCI_CFG_SIZE - off;
}

int pci_cfg_read(const struct pci_cfg *c, unsigned int off, unsigned int size, uint32_t *val)
{
	uint32_t v = 0;

	if (!access_ok_cfg(off, size))
		return -EINVAL;
	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)c->data[off + i] << (8 * i);
	*val = v;
	return 0;
}

int pci_cfg_write(struct pci_cfg *c, unsigned int off, unsigned int size, uint32_t val)
{
	if (!access_ok_cfg(off, size))
		return -EINVAL;
	for (unsigned int i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i)), w = c->wmask[off + i];
		uint8_t d = (uint8_t)((c->data[off + i] & ~w) | (b & w));

		c->data[off + i] = (uint8_t)(d & ~(b & c->w1cmask[off + i]));
	}
	return 0;
}

uint8_t pci_get_byte(const struct pci_cfg *c, unsigned int off)
{
	return c->data[off];
}

uint16_t pci_get_word(const struct pci_cfg *c, unsigned int off)
{
	return (uint16_t)(c->data[off] | c->data[off + 1] << 8);
}

uint32_t pci_get_long(const struct pci_cfg *c, unsigned int off)
{
	return (uint32_t)pci_get_word(c, off) | (uint32_t)pci_get_word(c, off + 2) << 16;
}

static void put_bytes(uint8_t *p, unsigned int size, uint32_t v)
{
	for (unsigned int i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void pci_set_byte(struct pci_cfg *c, unsigned int off, uint8_t v)
{
	c->data[off] = v;
}

void pci_set_word(struct pci_cfg *c, unsigned int off, uint16_t v)
{
	put_bytes(&c->data[off], 2, v);
}

void pci_set_long(struct pci_cfg *c, unsigned int off, uint32_t v)
{
	put_bytes(&c->data[off], 4, v);
}

void pci_set_wmask(struct pci_cfg *c, unsigned int off, unsigned int size, uint32_t mask)
{
	put_bytes(&c->wmask[off], size, mask);
}

void pci_set_w1cmask(struct pci_cfg *c, unsigned int off, unsigned int size, uint32_t mask)
{
	put_bytes(&c->w1cmask[off], size, mask);
}

int pci_cfg_add_cap(struct pci_cfg *c, uint8_t id, unsigned int off, unsigned int len)
{
	if (off & 3 || off < PCI_STD_HEADER_SIZEOF || len < 2 || off + len > 0x100)
		return -EINVAL;
	pci_set_byte(c, off + PCI_CAP_LIST_ID, id);
	pci_set_byte(c, off + PCI_CAP_LIST_NEXT, 0);
	if (c->last_cap)
		pci_set_byte(c, c->last_cap + PCI_CAP_LIST_NEXT, (uint8_t)off);
	else
		pci_set_byte(c, PCI_CAPABILITY_LIST, (uint8_t)off);
	c->last_cap = (uint8_t)off;
	pci_set_word(c, PCI_STATUS, pci_get_word(c, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	return 0;
}

int pci_cfg_add_ext_cap(struct pci_cfg *c, uint16_t id, uint8_t version, unsigned int off,
			unsigned int len)
{
	if (off & 3 || off < 0x100 || len < 4 || off + len > PCI_CFG_SIZE || version > 0xf)
		return -EINVAL;
	pci_set_long(c, off, (uint32_t)id | (uint32_t)version << 16);
	if (c->last_ext_cap) {
		uint32_t h = pci_get_long(c, c->last_ext_cap);

		pci_set_long(c, c->last_ext_cap, (h & 0xfffffu) | (uint32_t)off << 20);
	}
	c->last_ext_cap = (uint16_t)off;
	return 0;
}

unsigned int pci_cfg_find_cap(const struct pci_cfg *c, uint8_t id)
{
	unsigned int off, steps = (0x100 - PCI_STD_HEADER_SIZEOF) / 4;

	if (!(pci_get_word(c, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = pci_get_byte(c, PCI_CAPABILITY_LIST) & ~3u;
	while (off >= PCI_STD_HEADER_SIZEOF && steps--) {
		if (pci_get_byte(c, off + PCI_CAP_LIST_ID) == id)
			return off;
		off = pci_get_byte(c, off + PCI_CAP_LIST_NEXT) & ~3u;
	}
	return 0;
}

unsigned int pci_cfg_find_ext_cap(const struct pci_cfg *c, uint16_t id)
{
	unsigned int off = 0x100, steps = (PCI_CFG_SIZE - 0x100) / 4;

	while (off >= 0x100 && off <= PCI_CFG_SIZE - 4 && steps--) {
		uint32_t h = pci_get_long(c, off);

		if (!h)
			return 0;
		if ((h & 0xffffu) == id)
			return off;
		off = (h >> 20) & ~3u;
	}
	return 0;
}
