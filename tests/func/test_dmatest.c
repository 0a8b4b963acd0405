// SPDX-License-Identifier: MIT
/*
 * lib/dev/dmatest through real ioctls: a dmatest function on a mock device
 * (IOMMU_TEST_OP_MOCK_DOMAIN) whose DMA goes through the mock domain that
 * IOMMU_IOAS_MAP filled. Expectations are the data sheet's (dmatest.h,
 * doc/dmatest.md) and the PCI rules it cites:
 *
 *  - configuration space: IDs, class, RO / RW / RW1C bits, BAR sizing,
 *    the capability chains walked as a driver walks them, access checks;
 *  - BAR0: register widths, the buffer window, Memory Space gating;
 *  - every operation moves exactly the bytes asked (guard bytes checked);
 *  - faults: a copy that hits a hole, a read fault, a permission fault:
 *    STATUS, FAULT_*, DONE_BYTES, Received Master Abort, and the bytes
 *    before / after the faulting one;
 *  - PASID: refused unless enabled (and for PASID 0 or too wide), and
 *    translated by the PASID's own domain when enabled;
 *  - Bus Master off: no DMA, no message;
 *  - interrupts: MSI-X through a doorbell mapping, to plain memory, to a
 *    faulting address; masking and the PBA; owner eventfds with and
 *    without MSI-X; counters;
 *  - FLR, the mmap-able buffer, and the device hold (EBUSY on destroy).
 */
#include "dmatest_fixture.h"

#define K4   4096u
#define IOVA ((uint64_t)MOCK_APERTURE_START) /* 16 MiB */

static void test_config_space(void *arg)
{
	struct dmatest_params nopasid = {.pasid_width = 0};
	struct dt_fix f, g;
	unsigned int off, x = 0, e = 0, ids[4], n = 0;
	uint32_t v;
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);

	TAP_CHECK_EQ(cfg_rd(f.d, PCI_VENDOR_ID, 2), DMATEST_VENDOR_ID, "vendor");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_DEVICE_ID, 2), DMATEST_DEVICE_ID, "device");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_VENDOR_ID, 4), DMATEST_DEVICE_ID << 16 | DMATEST_VENDOR_ID,
		     "dword");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_CLASS_REVISION, 4), DMATEST_CLASS << 8 | DMATEST_REVISION,
		     "class");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL, "header type");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_SUBSYSTEM_VENDOR_ID, 2), DMATEST_SUBSYS_VENDOR_ID, "ssvid");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_INTERRUPT_PIN, 1), 1, "INTA#");
	/* Read-only identity. */
	cfg_wr(f.d, PCI_VENDOR_ID, 4, 0x12345678);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_VENDOR_ID, 2), DMATEST_VENDOR_ID, "vendor is RO");
	/* Command: only the writable bits stick; I/O space does not exist. */
	cfg_wr(f.d, PCI_COMMAND, 2, 0xffff);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_COMMAND, 2),
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			     PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
		     "command mask");
	cfg_wr(f.d, PCI_COMMAND, 2, 0);
	/* Status: CAP_LIST is RO 1; writing ones to RW1C bits that are clear changes nothing. */
	cfg_wr(f.d, PCI_STATUS, 2, 0xffff);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_STATUS, 2), PCI_STATUS_CAP_LIST, "status");
	/* Byte accesses to RW registers. */
	cfg_wr(f.d, PCI_CACHE_LINE_SIZE, 1, 0x10);
	cfg_wr(f.d, PCI_INTERRUPT_LINE, 1, 0x2a);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_CACHE_LINE_SIZE, 1), 0x10, "cache line");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_INTERRUPT_LINE, 1), 0x2a, "irq line");

	/* BAR0 sizing: all-ones reads back the size mask and the type bits. */
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_BASE_ADDRESS_0, 4), PCI_BASE_ADDRESS_MEM_TYPE_64, "BAR0 type");
	cfg_wr(f.d, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cfg_wr(f.d, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	v = cfg_rd(f.d, PCI_BASE_ADDRESS_0, 4);
	TAP_CHECK_EQ(v, ~(DMATEST_BAR0_SIZE - 1) | PCI_BASE_ADDRESS_MEM_TYPE_64, "BAR0 probe");
	TAP_CHECK_EQ((uint32_t)(~(v & PCI_BASE_ADDRESS_MEM_MASK) + 1), DMATEST_BAR0_SIZE,
		     "decoded size");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_BASE_ADDRESS_1, 4), 0xffffffffu, "BAR1 = upper half");
	cfg_wr(f.d, PCI_BASE_ADDRESS_0, 4, 0xfe012345);
	cfg_wr(f.d, PCI_BASE_ADDRESS_1, 4, 0x80);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_BASE_ADDRESS_0, 4), 0xfe010000u | PCI_BASE_ADDRESS_MEM_TYPE_64,
		     "BAR0 address keeps its alignment");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_BASE_ADDRESS_1, 4), 0x80, "BAR1");
	for (off = PCI_BASE_ADDRESS_2; off <= PCI_BASE_ADDRESS_5; off += 4) {
		cfg_wr(f.d, off, 4, 0xffffffff);
		TAP_CHECK_EQ(cfg_rd(f.d, off, 4), 0, "BAR at 0x%x not implemented", off);
	}
	cfg_wr(f.d, PCI_ROM_ADDRESS, 4, 0xffffffff);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_ROM_ADDRESS, 4), 0, "no ROM");
	TAP_CHECK_EQ(dmatest_bar_size(f.d, 0), DMATEST_BAR0_SIZE, "BAR0 size");
	TAP_CHECK_EQ(dmatest_bar_size(f.d, 2), 0, "BAR2 size");

	/* The capability list, walked from Capabilities Pointer. */
	off = cfg_rd(f.d, PCI_CAPABILITY_LIST, 1);
	while (off && n < 4) {
		ids[n++] = cfg_rd(f.d, off + PCI_CAP_LIST_ID, 1);
		if (ids[n - 1] == PCI_CAP_ID_MSIX)
			x = off;
		if (ids[n - 1] == PCI_CAP_ID_EXP)
			e = off;
		off = cfg_rd(f.d, off + PCI_CAP_LIST_NEXT, 1);
	}
	TAP_CHECK_EQ(n, 2, "two capabilities");
	TAP_CHECK(ids[0] == PCI_CAP_ID_MSIX && ids[1] == PCI_CAP_ID_EXP, "MSI-X, then PCIe");
	TAP_CHECK_EQ(cfg_rd(f.d, x + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE,
		     DMATEST_NR_VECTORS - 1, "table size");
	TAP_CHECK_EQ(cfg_rd(f.d, x + PCI_MSIX_TABLE, 4), DMATEST_MSIX_TABLE | 0, "table in BAR0");
	TAP_CHECK_EQ(cfg_rd(f.d, x + PCI_MSIX_PBA, 4), DMATEST_MSIX_PBA | 0, "PBA in BAR0");
	cfg_wr(f.d, x + PCI_MSIX_FLAGS, 2, 0xffff);
	TAP_CHECK_EQ(cfg_rd(f.d, x + PCI_MSIX_FLAGS, 2),
		     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | (DMATEST_NR_VECTORS - 1),
		     "MSI-X control: enable and mask writable, size RO");
	cfg_wr(f.d, x + PCI_MSIX_FLAGS, 2, 0);
	TAP_CHECK_EQ(cfg_rd(f.d, e + PCI_EXP_FLAGS, 2), 2 | PCI_EXP_TYPE_ENDPOINT << 4,
		     "PCIe v2 EP");
	TAP_CHECK(cfg_rd(f.d, e + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR, "FLR capable");
	/* Extended capabilities: PASID at 0x100, the end of the list. */
	v = cfg_rd(f.d, 0x100, 4);
	TAP_CHECK_EQ(v & 0xffff, PCI_EXT_CAP_ID_PASID, "PASID at 0x100");
	TAP_CHECK_EQ((v >> 16) & 0xf, 1, "version 1");
	TAP_CHECK_EQ(v >> 20, 0, "last");
	TAP_CHECK_EQ((cfg_rd(f.d, 0x100 + PCI_PASID_CAP, 2) >> 8) & 0x1f, DMATEST_PASID_WIDTH,
		     "Max PASID Width");
	TAP_CHECK_EQ(cfg_rd(f.d, 0x100 + PCI_PASID_CAP, 2) &
			     (PCI_PASID_CAP_EXEC | PCI_PASID_CAP_PRIV),
		     0, "no exec / priv");
	cfg_wr(f.d, 0x100 + PCI_PASID_CTRL, 2, 0xffff);
	TAP_CHECK_EQ(cfg_rd(f.d, 0x100 + PCI_PASID_CTRL, 2), PCI_PASID_CTRL_ENABLE, "enable only");
	cfg_wr(f.d, 0x100 + PCI_PASID_CAP, 2, 0);
	TAP_CHECK_EQ((cfg_rd(f.d, 0x100 + PCI_PASID_CAP, 2) >> 8) & 0x1f, DMATEST_PASID_WIDTH,
		     "width is RO");

	/* Access checks. */
	TAP_CHECK_EQ(dmatest_cfg_read(f.d, 1, 2, &v), -EINVAL, "misaligned");
	TAP_CHECK_EQ(dmatest_cfg_read(f.d, 0, 3, &v), -EINVAL, "size 3");
	TAP_CHECK_EQ(dmatest_cfg_read(f.d, 4096, 1, &v), -EINVAL, "past the end");
	TAP_CHECK_EQ(dmatest_cfg_write(f.d, 4094, 4, 0), -EINVAL, "straddles the end");
	TAP_CHECK_EQ(cfg_rd(f.d, 4092, 4), 0, "last dword readable");

	/* Without a PASID width there is no extended capability at all. */
	dt_open(&g, ioas, 0, &nopasid);
	TAP_CHECK_EQ(cfg_rd(g.d, 0x100, 4), 0, "no extended capabilities");
	dt_close(&g);
	{
		struct dmatest_params wide = {.pasid_width = 21};
		int err = 0;

		TAP_CHECK(!dmatest_create(f.udev, &wide, &err) && err == -EINVAL, "width 21");
		TAP_CHECK(!dmatest_create(NULL, NULL, &err) && err == -EINVAL, "no udev");
	}
	dt_close(&f);
	iommufd_teardown();
}

static void test_bar0(void *arg)
{
	struct dt_fix f;
	uint64_t v;
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);
	/* Memory Space off: BAR accesses are refused. */
	TAP_CHECK_EQ(dmatest_bar_read(f.d, 0, DMATEST_REG_ID, 4, &v), -EIO, "memory off");
	TAP_CHECK_EQ(dmatest_bar_write(f.d, 0, DMATEST_REG_LEN, 4, 1), -EIO, "memory off");
	cfg_wr(f.d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_ID, 4), DMATEST_ID_VALUE, "ID");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_VERSION, 4), 1, "version");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_BUF_SIZE, 4), DMATEST_BUF_SIZE, "buffer size");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_NR_VECTORS, 4), DMATEST_NR_VECTORS, "vectors");
	/* 64-bit registers: whole or in halves. */
	reg_wr(f.d, DMATEST_REG_SRC_IOVA, 8, 0x1122334455667788ull);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_SRC_IOVA + 4, 4), 0x11223344, "high half");
	reg_wr(f.d, DMATEST_REG_SRC_IOVA, 4, 0xaabbccdd);
	TAP_CHECK(reg_rd(f.d, DMATEST_REG_SRC_IOVA, 8) == 0x11223344aabbccddull, "low half");
	reg_wr(f.d, DMATEST_REG_PASID, 4, 0xffffffff);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_PASID, 4), DMATEST_PASID_VALID | DMATEST_PASID_MASK,
		     "PASID mask");
	reg_wr(f.d, DMATEST_REG_ID, 4, 0);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_ID, 4), DMATEST_ID_VALUE, "ID is RO");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_GO, 4), 0, "GO reads 0");
	TAP_CHECK_EQ(reg_rd(f.d, 0x800, 4), 0, "reserved");
	/* Sizes and alignment. */
	TAP_CHECK_EQ(dmatest_bar_read(f.d, 0, DMATEST_REG_LEN, 8, &v), -EINVAL,
		     "8 on a 32-bit reg");
	TAP_CHECK_EQ(dmatest_bar_read(f.d, 0, DMATEST_REG_LEN, 2, &v), -EINVAL, "2 on a register");
	TAP_CHECK_EQ(dmatest_bar_read(f.d, 0, DMATEST_REG_LEN + 2, 4, &v), -EINVAL, "misaligned");
	TAP_CHECK_EQ(dmatest_bar_read(f.d, 0, DMATEST_BAR0_SIZE, 4, &v), -EINVAL, "past BAR0");
	TAP_CHECK_EQ(dmatest_bar_read(f.d, 1, 0, 4, &v), -EINVAL, "BAR1");
	TAP_CHECK_EQ(dmatest_bar_read(f.d, 0, 0, 3, &v), -EINVAL, "size 3");
	/* The buffer window takes any size. */
	reg_wr(f.d, DMATEST_BUF_OFFSET + 1, 1, 0xab);
	reg_wr(f.d, DMATEST_BUF_OFFSET + 2, 2, 0xcdef);
	reg_wr(f.d, DMATEST_BUF_OFFSET + 8, 8, 0x0102030405060708ull);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_BUF_OFFSET, 4), 0xcdefab00u, "buffer bytes");
	TAP_CHECK(reg_rd(f.d, DMATEST_BUF_OFFSET + 12, 4) == 0x01020304u, "buffer dword");
	TAP_CHECK(reg_rd(f.d, DMATEST_BUF_OFFSET + DMATEST_BUF_SIZE - 8, 8) == 0, "buffer end");
	dt_close(&f);
	iommufd_teardown();
}

/* Source and destination memory with guards: [guard][len][guard] mapped RW at @iova. */
struct dt_mem {
	uint8_t *p;
	size_t size;
	uint64_t iova;
};

/* Mapped one 4 KiB area a page, so that a test can unmap and remap any page. */
static void mem_map(struct dt_mem *m, uint32_t ioas, size_t size, uint64_t iova, uint8_t seed)
{
	m->p = dt_mem(size);
	m->size = size;
	m->iova = iova;
	for (size_t i = 0; i < size; i++)
		m->p[i] = (uint8_t)(seed + i * 31 + (i >> 9));
	for (size_t off = 0; off < size; off += K4)
		ioas_map_fixed(ioas, m->p + off, MIN(K4, size - off), iova + off);
}

static void mem_unmap(struct dt_mem *m, uint32_t ioas)
{
	ioas_unmap(ioas, m->iova, m->size);
	munmap(m->p, m->size);
}

static void test_ops(void *arg)
{
	struct dt_mem src, dst;
	struct dt_fix f;
	uint8_t *before;
	uint32_t ioas, st;
	size_t sz = 24 * K4;
	uint64_t fill = 0x8877665544332211ull;

	iommufd_setup();
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);
	dt_enable(f.d);
	mem_map(&src, ioas, sz, IOVA, 1);
	mem_map(&dst, ioas, sz, IOVA + (1 << 20), 2);
	before = malloc(sz);
	TAP_CHECK(before, "malloc");

	/* READ: memory -> buffer, at an odd offset and length. */
	st = dt_run(f.d, DMATEST_OP_READ, src.iova + 3, 0, 1001, 0);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "READ status");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_DONE_BYTES, 8), 1001, "READ bytes");
	for (unsigned int i = 0; i < 1001; i++)
		TAP_CHECK_EQ(reg_rd(f.d, DMATEST_BUF_OFFSET + i, 1), src.p[3 + i], "buffer[%u]", i);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_BUF_OFFSET + 1001, 1), 0, "buffer past the READ");
	/* WRITE: buffer -> memory; the bytes around it stay. */
	memcpy(before, dst.p, sz);
	st = dt_run(f.d, DMATEST_OP_WRITE, 0, dst.iova + 5000, 1001, 0);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "WRITE status");
	TAP_CHECK(!memcmp(dst.p + 5000, src.p + 3, 1001), "WRITE data");
	TAP_CHECK(!memcmp(dst.p, before, 5000) && !memcmp(dst.p + 6001, before + 6001, sz - 6001),
		  "WRITE guards");
	/* A whole-buffer READ + WRITE. */
	st = dt_run(f.d, DMATEST_OP_READ, src.iova, 0, DMATEST_BUF_SIZE, 0);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "full READ");
	st = dt_run(f.d, DMATEST_OP_WRITE, 0, dst.iova, DMATEST_BUF_SIZE, 0);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "full WRITE");
	TAP_CHECK(!memcmp(dst.p, src.p, DMATEST_BUF_SIZE), "full round trip");
	/* READ / WRITE longer than the buffer: INVALID, nothing moved. */
	st = dt_run(f.d, DMATEST_OP_READ, src.iova, 0, DMATEST_BUF_SIZE + 1, 0);
	TAP_CHECK_EQ(st,
		     DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR |
			     DMATEST_ERR_INVALID << DMATEST_STATUS_ERR_SHIFT,
		     "READ too long");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_DONE_BYTES, 8), 0, "nothing moved");
	/* COPY: more than two chunks, unaligned on both sides. */
	memcpy(before, dst.p, sz);
	st = dt_run(f.d, DMATEST_OP_COPY, src.iova + 7, dst.iova + 4093, 20 * K4 + 11, 0);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "COPY status");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_DONE_BYTES, 8), 20 * K4 + 11, "COPY bytes");
	TAP_CHECK(!memcmp(dst.p + 4093, src.p + 7, 20 * K4 + 11), "COPY data");
	TAP_CHECK(!memcmp(dst.p, before, 4093) &&
			  !memcmp(dst.p + 4093 + 20 * K4 + 11, before + 4093 + 20 * K4 + 11,
				  sz - (4093 + 20 * K4 + 11)),
		  "COPY guards");
	/* FILL: the pattern from the first byte of the transfer, at an odd address. */
	memcpy(before, dst.p, sz);
	reg_wr(f.d, DMATEST_REG_FILL, 8, fill);
	st = dt_run(f.d, DMATEST_OP_FILL, 0, dst.iova + 1, 9 * K4 + 5, 0);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "FILL status");
	for (size_t i = 0; i < 9 * K4 + 5; i++)
		TAP_CHECK_EQ(dst.p[1 + i], (uint8_t)(fill >> (8 * (i % 8))), "FILL byte %zu", i);
	TAP_CHECK(dst.p[0] == before[0] &&
			  !memcmp(dst.p + 9 * K4 + 6, before + 9 * K4 + 6, sz - (9 * K4 + 6)),
		  "FILL guards");
	/* Bad programming: unknown OP, LEN 0, a wrapping range; nothing moves. */
	TAP_CHECK_EQ(status_err(dt_run(f.d, 9, src.iova, dst.iova, 8, 0)), DMATEST_ERR_INVALID,
		     "unknown op");
	TAP_CHECK_EQ(status_err(dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 0, 0)),
		     DMATEST_ERR_INVALID, "LEN 0");
	TAP_CHECK_EQ(status_err(dt_run(f.d, DMATEST_OP_FILL, 0, UINT64_MAX - 3, 8, 0)),
		     DMATEST_ERR_INVALID, "wrap");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_COMPLETIONS, 4), 6, "completions");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_ERRORS, 4), 4, "errors");
	/* STATUS is W1C: DONE and ERROR (with its code) clear independently. */
	reg_wr(f.d, DMATEST_REG_STATUS, 4, DMATEST_STATUS_DONE);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_STATUS, 4),
		     DMATEST_STATUS_ERROR | DMATEST_ERR_INVALID << DMATEST_STATUS_ERR_SHIFT,
		     "DONE cleared");
	reg_wr(f.d, DMATEST_REG_STATUS, 4, 0);
	TAP_CHECK(reg_rd(f.d, DMATEST_REG_STATUS, 4) & DMATEST_STATUS_ERROR, "0 clears nothing");
	reg_wr(f.d, DMATEST_REG_STATUS, 4, DMATEST_STATUS_ERROR | DMATEST_STATUS_BUSY);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_STATUS, 4), 0, "ERROR and code cleared");

	free(before);
	mem_unmap(&src, ioas);
	mem_unmap(&dst, ioas);
	dt_close(&f);
	iommufd_teardown();
}

static void check_fault(struct dmatest *d, uint64_t iova, uint32_t access, unsigned int reason,
			int err, uint64_t done)
{
	uint32_t st = (uint32_t)reg_rd(d, DMATEST_REG_STATUS, 4);
	uint32_t info = (uint32_t)reg_rd(d, DMATEST_REG_FAULT_INFO, 4);

	TAP_CHECK_EQ(st,
		     DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR |
			     DMATEST_ERR_DMA_FAULT << DMATEST_STATUS_ERR_SHIFT,
		     "status");
	TAP_CHECK(reg_rd(d, DMATEST_REG_FAULT_IOVA, 8) == iova, "FAULT_IOVA 0x%llx, want 0x%llx",
		  (unsigned long long)reg_rd(d, DMATEST_REG_FAULT_IOVA, 8),
		  (unsigned long long)iova);
	TAP_CHECK_EQ(info & 3, access, "access");
	TAP_CHECK_EQ((info >> DMATEST_FAULT_REASON_SHIFT) & 0xffff, reason, "reason");
	TAP_CHECK_EQ(info >> DMATEST_FAULT_ERRNO_SHIFT, err, "errno");
	TAP_CHECK_EQ(reg_rd(d, DMATEST_REG_DONE_BYTES, 8), done, "DONE_BYTES");
}

static void test_faults(void *arg)
{
	struct dt_mem src, dst;
	struct dt_fix f;
	uint8_t *before;
	uint32_t ioas;
	size_t sz = 4 * K4;
	uint64_t ro_iova = IOVA + (8 << 20);
	uint8_t *ro;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t n = 0;

	iommufd_setup();
	TAP_CHECK(efd >= 0, "eventfd");
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);
	dt_enable(f.d);
	mem_map(&src, ioas, sz, IOVA, 1);
	mem_map(&dst, ioas, sz, IOVA + (1 << 20), 2);
	before = malloc(sz);
	TAP_CHECK(before, "malloc");
	CHECK_OK(dmatest_set_irq_eventfd(f.d, DMATEST_IRQ_ERR, efd));
	reg_wr(f.d, DMATEST_REG_CTRL, 4, DMATEST_CTRL_IRQ_DONE | DMATEST_CTRL_IRQ_ERR);

	/* A hole in the destination: the copy stops at its first byte. */
	ioas_unmap(ioas, dst.iova + 2 * K4, K4);
	memcpy(before, dst.p, sz);
	dt_run(f.d, DMATEST_OP_COPY, src.iova + 100, dst.iova + 100, 3 * K4, 0);
	check_fault(f.d, dst.iova + 2 * K4, DMATEST_FAULT_WRITE, MOCK_DMA_FAULT_NOT_MAPPED, EFAULT,
		    2 * K4 - 100);
	TAP_CHECK(!memcmp(dst.p + 100, src.p + 100, 2 * K4 - 100), "bytes before the fault moved");
	TAP_CHECK(!memcmp(dst.p + 2 * K4, before + 2 * K4, 2 * K4), "none at or after it");
	TAP_CHECK(!memcmp(dst.p, before, 100), "none before the start");
	TAP_CHECK(cfg_rd(f.d, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT, "master abort");
	cfg_wr(f.d, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	TAP_CHECK(!(cfg_rd(f.d, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT), "RW1C");
	TAP_CHECK(efd_take(efd, &n) && n == 1, "error interrupt on the owner's eventfd");
	ioas_map_fixed(ioas, dst.p + 2 * K4, K4, dst.iova + 2 * K4);

	/* A hole in the source: what was read before it is still written. */
	ioas_unmap(ioas, src.iova + K4, K4);
	memcpy(before, dst.p, sz);
	dt_run(f.d, DMATEST_OP_COPY, src.iova + 10, dst.iova, 2 * K4, 0);
	check_fault(f.d, src.iova + K4, DMATEST_FAULT_READ, MOCK_DMA_FAULT_NOT_MAPPED, EFAULT,
		    K4 - 10);
	TAP_CHECK(!memcmp(dst.p, src.p + 10, K4 - 10), "read bytes written");
	TAP_CHECK(!memcmp(dst.p + K4 - 10, before + K4 - 10, sz - (K4 - 10)), "nothing after");
	/* READ into the buffer: bytes past the fault keep their old contents. */
	reg_wr(f.d, DMATEST_BUF_OFFSET + K4, 4, 0xdeadbeef);
	dt_run(f.d, DMATEST_OP_READ, src.iova + 16, 0, 2 * K4, 0);
	check_fault(f.d, src.iova + K4, DMATEST_FAULT_READ, MOCK_DMA_FAULT_NOT_MAPPED, EFAULT,
		    K4 - 16);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_BUF_OFFSET + K4 - 17, 1), src.p[K4 - 1], "last byte read");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_BUF_OFFSET + K4, 4), 0xdeadbeef, "past the fault");
	ioas_map_fixed(ioas, src.p + K4, K4, src.iova + K4);

	/* A read-only mapping: a permission fault on the first write. */
	ro = dt_mem(K4);
	{
		uint64_t iova = ro_iova;

		CHECK_OK(_ioas_map(ioas, ro, K4, &iova,
				   IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA));
	}
	memset(ro, 0x33, K4);
	reg_wr(f.d, DMATEST_REG_FILL, 8, 0);
	dt_run(f.d, DMATEST_OP_FILL, 0, ro_iova + 8, 64, 0);
	check_fault(f.d, ro_iova + 8, DMATEST_FAULT_WRITE, MOCK_DMA_FAULT_PERM, EFAULT, 0);
	TAP_CHECK(ro[8] == 0x33 && ro[71] == 0x33, "nothing written");
	/* ... and it reads fine. */
	TAP_CHECK_EQ(dt_run(f.d, DMATEST_OP_COPY, ro_iova, dst.iova, 64, 0), DMATEST_STATUS_DONE,
		     "read of a read-only page");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_ERRORS, 4), 4, "errors counted");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_IRQ_COUNT0 + 4, 4), 4, "error vector raised 4 times");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_IRQ_COUNT0, 4), 1, "completion vector once");
	ioas_unmap(ioas, ro_iova, K4);
	munmap(ro, K4);

	/* The device detached (blocked): a configuration error. */
	{
		uint32_t other = ioas_alloc();
		uint32_t hwpt = hwpt_alloc(f.ids.idev, other, 0);

		CHECK_OK(_mock_domain_replace(f.ids.stdev, hwpt, NULL));
		dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 16, 0);
		check_fault(f.d, src.iova, DMATEST_FAULT_READ, MOCK_DMA_FAULT_NOT_MAPPED, EFAULT,
			    0);
		CHECK_OK(_mock_domain_replace(f.ids.stdev, ioas, NULL));
		CHECK_OK(_destroy(hwpt));
		CHECK_OK(_destroy(other));
	}

	free(before);
	close(efd);
	mem_unmap(&src, ioas);
	mem_unmap(&dst, ioas);
	dt_close(&f);
	iommufd_teardown();
}

static void test_pasid(void *arg)
{
	struct dmatest_params narrow = {.pasid_width = 4};
	struct dt_mem a, b;
	struct dt_fix f, g;
	uint32_t ioas, ioas2, rid_hwpt, pasid_hwpt, st, info;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas2 = ioas_alloc();
	dt_open(&f, ioas, MOCK_FLAGS_DEVICE_PASID, NULL);
	dt_enable(f.d);
	rid_hwpt = hwpt_alloc(f.ids.idev, ioas, IOMMU_HWPT_ALLOC_PASID);
	CHECK_OK(_mock_domain_replace(f.ids.stdev, rid_hwpt, NULL));
	pasid_hwpt = hwpt_alloc(f.ids.idev, ioas2, IOMMU_HWPT_ALLOC_PASID);
	/* The same IOVA: RID memory in ioas, PASID memory in ioas2. */
	mem_map(&a, ioas, K4, IOVA, 1);
	mem_map(&b, ioas2, K4, IOVA, 2);

	/* PASID valid while the capability is disabled: refused, no DMA. */
	st = dt_run(f.d, DMATEST_OP_READ, IOVA, 0, 64, DMATEST_PASID_VALID | 5);
	TAP_CHECK_EQ(status_err(st), DMATEST_ERR_PASID, "PASID not enabled");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_DONE_BYTES, 8), 0, "nothing moved");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_BUF_OFFSET, 1), 0, "buffer untouched");
	cfg_wr(f.d, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2, PCI_PASID_CTRL_ENABLE);
	/* Enabled, PASID 5 not attached: the IOMMU refuses (configuration error). */
	dt_run(f.d, DMATEST_OP_READ, IOVA, 0, 64, DMATEST_PASID_VALID | 5);
	info = (uint32_t)reg_rd(f.d, DMATEST_REG_FAULT_INFO, 4);
	TAP_CHECK_EQ(status_err((uint32_t)reg_rd(f.d, DMATEST_REG_STATUS, 4)),
		     DMATEST_ERR_DMA_FAULT, "unattached PASID");
	TAP_CHECK_EQ(info,
		     DMATEST_FAULT_READ | DMATEST_FAULT_PASID |
			     MOCK_DMA_FAULT_BLOCKED << DMATEST_FAULT_REASON_SHIFT |
			     (uint32_t)EIO << DMATEST_FAULT_ERRNO_SHIFT,
		     "FAULT_INFO");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_FAULT_PASID, 4), 5, "FAULT_PASID");
	/* Attached: PASID 5 reads ioas2's memory, no PASID reads ioas's. */
	CHECK_OK(_pasid_attach(f.ids.stdev, 5, pasid_hwpt));
	TAP_CHECK_EQ(dt_run(f.d, DMATEST_OP_READ, IOVA, 0, 64, DMATEST_PASID_VALID | 5),
		     DMATEST_STATUS_DONE, "PASID 5");
	for (unsigned int i = 0; i < 64; i++)
		TAP_CHECK_EQ(reg_rd(f.d, DMATEST_BUF_OFFSET + i, 1), b.p[i], "PASID byte %u", i);
	TAP_CHECK_EQ(dt_run(f.d, DMATEST_OP_READ, IOVA, 0, 64, 5), DMATEST_STATUS_DONE,
		     "PASID bits without VALID: the RID");
	for (unsigned int i = 0; i < 64; i++)
		TAP_CHECK_EQ(reg_rd(f.d, DMATEST_BUF_OFFSET + i, 1), a.p[i], "RID byte %u", i);
	/* PASID 0 is not a PASID here (IOMMU_NO_PASID). */
	TAP_CHECK_EQ(status_err(dt_run(f.d, DMATEST_OP_READ, IOVA, 0, 64, DMATEST_PASID_VALID)),
		     DMATEST_ERR_PASID, "PASID 0");
	/* Disabled again: refused again. */
	cfg_wr(f.d, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2, 0);
	TAP_CHECK_EQ(status_err(dt_run(f.d, DMATEST_OP_READ, IOVA, 0, 64, DMATEST_PASID_VALID | 5)),
		     DMATEST_ERR_PASID, "disabled");
	CHECK_OK(_pasid_detach(f.ids.stdev, 5));

	/* A 4-bit PASID width: PASID 16 is too wide, 15 is fine (but unattached). */
	dt_open(&g, ioas, MOCK_FLAGS_DEVICE_PASID, &narrow);
	dt_enable(g.d);
	cfg_wr(g.d, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2, PCI_PASID_CTRL_ENABLE);
	TAP_CHECK_EQ(status_err(dt_run(g.d, DMATEST_OP_READ, IOVA, 0, 8, DMATEST_PASID_VALID | 16)),
		     DMATEST_ERR_PASID, "too wide");
	TAP_CHECK_EQ(status_err(dt_run(g.d, DMATEST_OP_READ, IOVA, 0, 8, DMATEST_PASID_VALID | 15)),
		     DMATEST_ERR_DMA_FAULT, "in range");
	dt_close(&g);

	mem_unmap(&a, ioas);
	mem_unmap(&b, ioas2);
	CHECK_OK(_mock_domain_replace(f.ids.stdev, ioas, NULL));
	dt_close(&f);
	CHECK_OK(_destroy(rid_hwpt));
	CHECK_OK(_destroy(pasid_hwpt));
	iommufd_teardown();
}

static void test_bus_master(void *arg)
{
	struct dmatest_irq_stats is;
	struct dt_mem src, dst;
	struct dt_fix f;
	uint32_t ioas, st;
	uint8_t *before;

	iommufd_setup();
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);
	mem_map(&src, ioas, K4, IOVA, 1);
	mem_map(&dst, ioas, K4, IOVA + K4, 2);
	before = malloc(K4);
	TAP_CHECK(before, "malloc");
	memcpy(before, dst.p, K4);
	cfg_wr(f.d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	/* MSI-X on, vector 1 unmasked: without Bus Master the message is lost too. */
	cfg_wr(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	reg_wr(f.d, DMATEST_MSIX_TABLE + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	reg_wr(f.d, DMATEST_REG_CTRL, 4, DMATEST_CTRL_IRQ_ERR);
	st = dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, K4, 0);
	TAP_CHECK_EQ(st,
		     DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR |
			     DMATEST_ERR_BUS_MASTER << DMATEST_STATUS_ERR_SHIFT,
		     "BME off");
	TAP_CHECK(!memcmp(dst.p, before, K4), "no DMA");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_DONE_BYTES, 8), 0, "DONE_BYTES");
	CHECK_OK(dmatest_irq_stats(f.d, DMATEST_IRQ_ERR, &is));
	TAP_CHECK(is.raised == 1 && is.lost == 1 && !is.msi_writes && !is.msi_faults,
		  "message lost");
	TAP_CHECK_EQ(dmatest_irq_stats(f.d, 2, &is), -EINVAL, "vector 2");
	dt_enable(f.d);
	TAP_CHECK_EQ(dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, K4, 0), DMATEST_STATUS_DONE,
		     "BME on");
	TAP_CHECK(!memcmp(dst.p, src.p, K4), "copied");
	free(before);
	mem_unmap(&src, ioas);
	mem_unmap(&dst, ioas);
	dt_close(&f);
	iommufd_teardown();
}

static void msix_entry(struct dmatest *d, unsigned int v, uint64_t addr, uint32_t data, bool mask)
{
	uint64_t e = DMATEST_MSIX_TABLE + v * PCI_MSIX_ENTRY_SIZE;

	reg_wr(d, e + PCI_MSIX_ENTRY_LOWER_ADDR, 8, addr);
	reg_wr(d, e + PCI_MSIX_ENTRY_DATA, 4, data);
	reg_wr(d, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, mask ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

static void test_msix_doorbell(void *arg)
{
	struct msi_doorbell_stats ds;
	struct dmatest_irq_stats is;
	struct msi_doorbell *db;
	struct dt_mem src, dst, ram;
	struct dt_fix f;
	uint64_t db_iova = IOVA + (4 << 20), n = 0, bad = IOVA + (6 << 20);
	uint32_t ioas, st;
	int efd3 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
	    efd4 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int err = 0;

	iommufd_setup();
	TAP_CHECK(efd3 >= 0 && efd4 >= 0, "eventfd");
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);
	dt_enable(f.d);
	mem_map(&src, ioas, K4, IOVA, 1);
	mem_map(&dst, ioas, K4, IOVA + K4, 2);
	mem_map(&ram, ioas, K4, IOVA + 2 * K4, 3);
	db = msi_doorbell_create(8, &err);
	TAP_CHECK(db, "doorbell: %d", err);
	TAP_CHECK_EQ(msi_doorbell_set_eventfd(db, 8, efd3), -EINVAL, "event out of range");
	CHECK_OK(msi_doorbell_set_eventfd(db, 3, efd3));
	CHECK_OK(msi_doorbell_set_eventfd(db, 4, efd4));
	ioas_map_fixed(ioas, msi_doorbell_page(db), msi_doorbell_page_size(), db_iova);

	/* After reset every vector is masked. */
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4),
		     PCI_MSIX_ENTRY_CTRL_MASKBIT, "masked at reset");
	msix_entry(f.d, 0, db_iova + MSI_DOORBELL_TRANSLATER + 3, 3, false);
	TAP_CHECK(reg_rd(f.d, DMATEST_MSIX_TABLE, 8) == db_iova + MSI_DOORBELL_TRANSLATER,
		  "address bits 1:0 are 0");
	msix_entry(f.d, 1, db_iova + MSI_DOORBELL_TRANSLATER, 4, false);
	cfg_wr(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	reg_wr(f.d, DMATEST_REG_CTRL, 4, DMATEST_CTRL_IRQ_DONE | DMATEST_CTRL_IRQ_ERR);

	/* Completion: a message through the IOMMU to the doorbell, event 3. */
	st = dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "copy");
	TAP_CHECK(efd_take(efd3, &n) && n == 1, "event 3 signalled");
	TAP_CHECK(!efd_take(efd4, NULL), "event 4 quiet");
	TAP_CHECK_EQ(msi_doorbell_event_count(db, 3), 1, "doorbell count");
	/* Error: vector 1, event 4. */
	dt_run(f.d, DMATEST_OP_COPY, src.iova, IOVA + (7 << 20), 64, 0);
	TAP_CHECK(efd_take(efd4, &n) && n == 1, "event 4 signalled");
	TAP_CHECK(!efd_take(efd3, NULL), "event 3 quiet");
	reg_wr(f.d, DMATEST_REG_STATUS, 4, DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR);

	/* Function mask: the message waits in the PBA and goes on unmask. */
	cfg_wr(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2,
	       PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	TAP_CHECK(!efd_take(efd3, NULL), "masked: nothing");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_PBA, 8), 1, "PBA bit 0");
	cfg_wr(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	TAP_CHECK(efd_take(efd3, &n) && n == 1, "sent on function unmask");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_PBA, 8), 0, "PBA clear");
	/* Vector mask, twice raised: one pending bit, one message. */
	reg_wr(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 1);
	dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	TAP_CHECK(!efd_take(efd3, NULL), "vector masked: nothing");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_PBA, 4), 1, "PBA");
	reg_wr(f.d, DMATEST_MSIX_PBA, 4, 0);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_PBA, 4), 1, "PBA is RO");
	reg_wr(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	TAP_CHECK(efd_take(efd3, &n) && n == 1, "one message on vector unmask");
	/* Masked, then MSI-X disabled: the pending message is dropped. */
	reg_wr(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 1);
	dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	cfg_wr(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2, 0);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_PBA, 4), 0, "PBA cleared on disable");
	cfg_wr(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	reg_wr(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	TAP_CHECK(!efd_take(efd3, NULL), "nothing pending");

	/* A message to another address of the doorbell page: stray, no signal. */
	msix_entry(f.d, 0, db_iova + 0x80, 3, false);
	dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	TAP_CHECK(!efd_take(efd3, NULL), "stray write");
	msi_doorbell_stats(db, &ds);
	TAP_CHECK(ds.stray == 1 && ds.signalled == 4 && ds.unrouted == 0,
		  "doorbell stats %llu %llu", (unsigned long long)ds.stray,
		  (unsigned long long)ds.signalled);
	/* An event without a route: unrouted. */
	msix_entry(f.d, 0, db_iova + MSI_DOORBELL_TRANSLATER, 6, false);
	dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	msi_doorbell_stats(db, &ds);
	TAP_CHECK_EQ(ds.unrouted, 1, "unrouted");
	/* A message to ordinary memory: the 4 data bytes land there. */
	msix_entry(f.d, 0, ram.iova + 8, 0xa1b2c3d4, false);
	dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	TAP_CHECK(ram.p[8] == 0xd4 && ram.p[9] == 0xc3 && ram.p[10] == 0xb2 && ram.p[11] == 0xa1,
		  "message in memory");
	TAP_CHECK(ram.p[12] == (uint8_t)(3 + 12 * 31), "and nothing more");

	/* A message to an unmapped address: a DMA fault, latched as MSI_FAULT. */
	msix_entry(f.d, 0, bad, 3, false);
	st = dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0);
	TAP_CHECK_EQ(st,
		     DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR |
			     DMATEST_ERR_MSI_FAULT << DMATEST_STATUS_ERR_SHIFT,
		     "MSI fault status");
	TAP_CHECK(reg_rd(f.d, DMATEST_REG_FAULT_IOVA, 8) == bad, "FAULT_IOVA");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_FAULT_INFO, 4),
		     DMATEST_FAULT_WRITE | MOCK_DMA_FAULT_NOT_MAPPED << DMATEST_FAULT_REASON_SHIFT |
			     (uint32_t)EFAULT << DMATEST_FAULT_ERRNO_SHIFT,
		     "FAULT_INFO");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_DONE_BYTES, 8), 64, "the copy itself completed");
	TAP_CHECK(!efd_take(efd3, NULL) && !efd_take(efd4, NULL), "no interrupt");
	CHECK_OK(dmatest_irq_stats(f.d, 0, &is));
	TAP_CHECK(is.msi_faults == 1 && is.masked == 4, "faults %llu masked %llu",
		  (unsigned long long)is.msi_faults, (unsigned long long)is.masked);
	/* A host-owned vector: the owner's eventfd takes it, not the table's address. */
	CHECK_OK(dmatest_set_irq_eventfd(f.d, 0, efd4));
	reg_wr(f.d, DMATEST_REG_STATUS, 4, DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR);
	TAP_CHECK_EQ(dt_run(f.d, DMATEST_OP_COPY, src.iova, dst.iova, 64, 0), DMATEST_STATUS_DONE,
		     "no MSI write");
	TAP_CHECK(efd_take(efd4, &n) && n == 1, "owner eventfd");
	CHECK_OK(dmatest_irq_stats(f.d, 0, &is));
	TAP_CHECK_EQ(is.eventfd, 1, "counted");

	ioas_unmap(ioas, db_iova, msi_doorbell_page_size());
	msi_doorbell_destroy(db);
	close(efd3);
	close(efd4);
	mem_unmap(&src, ioas);
	mem_unmap(&dst, ioas);
	mem_unmap(&ram, ioas);
	dt_close(&f);
	iommufd_teardown();
}

static void test_eventfd_wire(void *arg)
{
	struct dmatest_irq_stats is;
	struct dt_mem src;
	struct dt_fix f;
	uint32_t ioas;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t n = 0;

	iommufd_setup();
	TAP_CHECK(efd >= 0, "eventfd");
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);
	dt_enable(f.d);
	mem_map(&src, ioas, K4, IOVA, 1);
	TAP_CHECK_EQ(dmatest_set_irq_eventfd(f.d, 2, efd), -EINVAL, "vector 2");
	/* No MSI-X, no eventfd: lost. Then an eventfd: signalled, no mask applies. */
	reg_wr(f.d, DMATEST_REG_CTRL, 4, DMATEST_CTRL_IRQ_DONE);
	dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	CHECK_OK(dmatest_set_irq_eventfd(f.d, 0, efd));
	for (int i = 0; i < 3; i++)
		dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	TAP_CHECK(efd_take(efd, &n) && n == 3, "three signals, got %llu", (unsigned long long)n);
	/* CTRL off: no interrupt. */
	reg_wr(f.d, DMATEST_REG_CTRL, 4, 0);
	dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	TAP_CHECK(!efd_take(efd, NULL), "CTRL off");
	CHECK_OK(dmatest_irq_stats(f.d, 0, &is));
	TAP_CHECK(is.raised == 4 && is.eventfd == 3 && is.lost == 1, "stats");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_IRQ_COUNT0, 4), 4, "IRQ_COUNT0");
	/* Cleared eventfd: lost again. */
	CHECK_OK(dmatest_set_irq_eventfd(f.d, 0, -1));
	reg_wr(f.d, DMATEST_REG_CTRL, 4, DMATEST_CTRL_IRQ_DONE);
	dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	TAP_CHECK(!efd_take(efd, NULL), "no eventfd");
	close(efd);
	mem_unmap(&src, ioas);
	dt_close(&f);
	iommufd_teardown();
}

/* What the owner's handler saw: one entry per call. */
struct irq_log {
	unsigned int n;
	enum dmatest_irq_kind kind[16];
	unsigned int vector[16];
	struct dmatest *d; /* the handler reads STATUS back: it runs without the device lock */
	uint32_t status_seen;
};

static void irq_log_fn(void *opaque, enum dmatest_irq_kind kind, unsigned int vector)
{
	struct irq_log *l = opaque;
	uint64_t st = 0;

	if (l->n < 16) {
		l->kind[l->n] = kind;
		l->vector[l->n] = vector;
	}
	l->n++;
	/* Re-entering the function from the handler must not deadlock. */
	if (!dmatest_bar_read(l->d, 0, DMATEST_REG_STATUS, 4, &st))
		l->status_seen = (uint32_t)st;
}

static void test_intx_handler(void *arg)
{
	struct dmatest_irq_stats is;
	struct irq_log log = {0};
	struct dt_mem src;
	struct dt_fix f;
	uint32_t ioas;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	iommufd_setup();
	TAP_CHECK(efd >= 0, "eventfd");
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);
	dt_enable(f.d);
	mem_map(&src, ioas, K4, IOVA, 1);
	log.d = f.d;

	/* INTx: the cause is pending until STATUS.DONE is cleared; Interrupt Status shows it. */
	CHECK_OK(dmatest_set_irq_eventfd(f.d, DMATEST_IRQ_DONE, efd));
	reg_wr(f.d, DMATEST_REG_CTRL, 4, DMATEST_CTRL_IRQ_DONE | DMATEST_CTRL_IRQ_ERR);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0, "nothing pending");
	dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	TAP_CHECK(efd_take(efd, NULL), "INTx signalled");
	TAP_CHECK(cfg_rd(f.d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, "Interrupt Status");
	reg_wr(f.d, DMATEST_REG_STATUS, 4, DMATEST_STATUS_DONE);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0, "acknowledged");

	/* INTx Disable holds the pin back; enabling INTx again with the cause pending asserts it.
	 */
	cfg_wr(f.d, PCI_COMMAND, 2,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	TAP_CHECK(!efd_take(efd, NULL), "held back");
	TAP_CHECK(cfg_rd(f.d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, "pending anyway");
	dt_enable(f.d);
	TAP_CHECK(efd_take(efd, NULL), "asserted at INTx enable");
	/* Acknowledged while disabled: nothing to assert later. */
	cfg_wr(f.d, PCI_COMMAND, 2,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	reg_wr(f.d, DMATEST_REG_STATUS, 4, DMATEST_STATUS_DONE);
	dt_enable(f.d);
	TAP_CHECK(!efd_take(efd, NULL), "acknowledged before INTx enable");
	CHECK_OK(dmatest_irq_stats(f.d, DMATEST_IRQ_DONE, &is));
	TAP_CHECK(is.raised == 3 && is.eventfd == 2 && is.masked == 2 && is.lost == 0,
		  "stats: raised %llu eventfd %llu masked %llu", (unsigned long long)is.raised,
		  (unsigned long long)is.eventfd, (unsigned long long)is.masked);

	/* A handler replaces the eventfds: INTx of the error vector, with STATUS readable. */
	dmatest_set_irq_handler(f.d, irq_log_fn, &log);
	dt_run(f.d, DMATEST_OP_READ, IOVA + 64 * K4, 0, 8, 0);
	TAP_CHECK(!efd_take(efd, NULL), "the eventfd is not used");
	TAP_CHECK(log.n == 1 && log.kind[0] == DMATEST_IRQ_INTX && log.vector[0] == DMATEST_IRQ_ERR,
		  "handler: INTx, error vector (%u calls)", log.n);
	TAP_CHECK(log.status_seen & DMATEST_STATUS_ERROR, "STATUS from inside the handler");

	/* Host-owned MSI-X: enabled by the host, unmasked below nvec; messages go to the handler.
	 */
	TAP_CHECK_EQ(dmatest_host_msix(f.d, DMATEST_NR_VECTORS + 1), -EINVAL, "nvec too big");
	CHECK_OK(dmatest_host_msix(f.d, 1));
	TAP_CHECK_EQ(cfg_rd(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2) &
			     (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL),
		     PCI_MSIX_FLAGS_ENABLE, "MSI-X on, function unmasked");
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0, "INTx cause gone");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 0,
		     "vector 0 unmasked");
	TAP_CHECK_EQ(reg_rd(f.d,
			    DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL,
			    4),
		     1, "vector 1 masked");
	dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	TAP_CHECK(log.n == 2 && log.kind[1] == DMATEST_IRQ_MSIX &&
			  log.vector[1] == DMATEST_IRQ_DONE,
		  "handler: MSI-X vector 0 (%u calls)", log.n);
	dt_run(f.d, DMATEST_OP_READ, IOVA + 64 * K4, 0, 8, 0);
	TAP_CHECK(log.n == 2, "vector 1 masked: pending");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_PBA, 4), 1u << DMATEST_IRQ_ERR, "PBA");
	/* Unmasking sends it, through the handler, after the unmasking write. */
	reg_wr(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	TAP_CHECK(log.n == 3 && log.kind[2] == DMATEST_IRQ_MSIX && log.vector[2] == DMATEST_IRQ_ERR,
		  "sent at unmask (%u calls)", log.n);
	CHECK_OK(dmatest_host_msix(f.d, 0));
	TAP_CHECK_EQ(cfg_rd(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE, 0,
		     "MSI-X off");
	/* Back to the eventfds. */
	dmatest_set_irq_handler(f.d, NULL, NULL);
	reg_wr(f.d, DMATEST_REG_STATUS, 4, DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR);
	dt_run(f.d, DMATEST_OP_READ, src.iova, 0, 8, 0);
	TAP_CHECK(efd_take(efd, NULL) && log.n == 3, "eventfd again");

	close(efd);
	mem_unmap(&src, ioas);
	dt_close(&f);
	iommufd_teardown();
}

static void test_flr_mmap_hold(void *arg)
{
	struct dt_mem src;
	struct dt_fix f;
	uint64_t off = 0, len = 0;
	uint32_t ioas;
	uint8_t *win;
	int fd = -1;

	iommufd_setup();
	ioas = ioas_alloc();
	dt_open(&f, ioas, 0, NULL);
	dt_enable(f.d);
	mem_map(&src, ioas, K4, IOVA, 1);

	/* The buffer through its mmap: what the device reads is what the program wrote. */
	CHECK_OK(dmatest_bar_mmap_area(f.d, 0, &off, &len, &fd));
	TAP_CHECK(off == DMATEST_BUF_OFFSET && len == DMATEST_BUF_SIZE && fd >= 0, "area");
	TAP_CHECK_EQ(dmatest_bar_mmap_area(f.d, 1, &off, &len, &fd), -EINVAL, "BAR1");
	win = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TAP_CHECK(win != MAP_FAILED, "mmap");
	memset(win, 0x7e, 100);
	TAP_CHECK_EQ(dt_run(f.d, DMATEST_OP_WRITE, 0, src.iova, 100, 0), DMATEST_STATUS_DONE,
		     "WRITE");
	TAP_CHECK(src.p[0] == 0x7e && src.p[99] == 0x7e && src.p[100] != 0x7e, "from the mmap");
	dt_run(f.d, DMATEST_OP_READ, src.iova + 200, 0, 8, 0);
	TAP_CHECK(!memcmp(win, src.p + 200, 8), "READ shows in the mmap");

	/* The device is held: its stdev cannot be destroyed under it. */
	CHECK_ERRNO(EBUSY, _destroy(f.ids.stdev));

	/* FLR: configuration, registers and MSI-X back to power-on state. */
	cfg_wr(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	reg_wr(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	cfg_wr(f.d, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2, PCI_PASID_CTRL_ENABLE);
	reg_wr(f.d, DMATEST_REG_LEN, 4, 77);
	cfg_wr(f.d, DMATEST_CAP_PCIE + PCI_EXP_DEVCTL, 2,
	       cfg_rd(f.d, DMATEST_CAP_PCIE + PCI_EXP_DEVCTL, 2) | PCI_EXP_DEVCTL_BCR_FLR);
	TAP_CHECK_EQ(cfg_rd(f.d, PCI_COMMAND, 2), 0, "command cleared");
	TAP_CHECK_EQ(cfg_rd(f.d, DMATEST_CAP_PCIE + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR, 0,
		     "FLR bit reads 0");
	TAP_CHECK_EQ(cfg_rd(f.d, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE, 0,
		     "MSI-X off");
	TAP_CHECK_EQ(cfg_rd(f.d, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2), 0, "PASID off");
	cfg_wr(f.d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_LEN, 4), 0, "LEN cleared");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_REG_COMPLETIONS, 4), 0, "counters cleared");
	TAP_CHECK_EQ(reg_rd(f.d, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1,
		     "vector masked");
	TAP_CHECK_EQ(win[0], 0, "buffer cleared");
	munmap(win, len);

	mem_unmap(&src, ioas);
	dt_close(&f);
	iommufd_teardown();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"config space: IDs, RO/RW/RW1C, BAR sizing, capability chains, access checks",
		 test_config_space},
		{"BAR0: Memory Space gating, register widths, buffer window", test_bar0},
		{"READ / WRITE / COPY / FILL move exactly the bytes asked", test_ops},
		{"faults: destination and source holes, read-only page, a domain without the map",
		 test_faults},
		{"PASID: refused unless enabled, 0, too wide; the PASID's own domain", test_pasid},
		{"Bus Master off: no DMA, no message", test_bus_master},
		{"MSI-X: doorbell, masks and PBA, stray and unrouted, memory, faulting address",
		 test_msix_doorbell},
		{"owner eventfds without MSI-X; CTRL; counters", test_eventfd_wire},
		{"INTx: pending causes, INTx Disable; the owner's handler; host-owned MSI-X",
		 test_intx_handler},
		{"mmap of the buffer, the device hold, FLR", test_flr_mmap_hold},
	};

	tap_plan(ARRAY_SIZE_T(tests));
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++) {
		tap_run(tests[i].name, tests[i].fn, NULL);
		if (self_file) {
			uiommu_close(self_file);
			self_file = NULL;
		}
	}
	return tap_done();
}
