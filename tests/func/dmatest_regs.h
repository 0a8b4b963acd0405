/* SPDX-License-Identifier: MIT */
/*
 * tests/func/dmatest_regs.h - the register-level helpers a driver of the
 * dmatest PCI function would have (config space, BAR0, one operation), and
 * the two checks the model driver tests run through any IOMMU in front of
 * it: a COPY that moves a page, and a read past the mapping whose fault
 * registers carry the IOMMU's own reason.
 *
 * Every access must succeed (a TAP check); the device is the caller's.
 */
#ifndef UIOMMU_TESTS_FUNC_DMATEST_REGS_H
#define UIOMMU_TESTS_FUNC_DMATEST_REGS_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "dev/dmatest/dmatest.h"
#include "dev/pci_cfg.h"

#include "tap.h"

static inline uint32_t cfg_rd(struct dmatest *d, unsigned int off, unsigned int size)
{
	uint32_t v = 0;
	int rc = dmatest_cfg_read(d, off, size, &v);

	TAP_CHECK(!rc, "cfg read 0x%x/%u: %d", off, size, rc);
	return v;
}

static inline void cfg_wr(struct dmatest *d, unsigned int off, unsigned int size, uint32_t v)
{
	int rc = dmatest_cfg_write(d, off, size, v);

	TAP_CHECK(!rc, "cfg write 0x%x/%u: %d", off, size, rc);
}

static inline uint64_t reg_rd(struct dmatest *d, uint64_t off, unsigned int size)
{
	uint64_t v = 0;
	int rc = dmatest_bar_read(d, 0, off, size, &v);

	TAP_CHECK(!rc, "BAR0 read 0x%llx/%u: %d", (unsigned long long)off, size, rc);
	return v;
}

static inline void reg_wr(struct dmatest *d, uint64_t off, unsigned int size, uint64_t v)
{
	int rc = dmatest_bar_write(d, 0, off, size, v);

	TAP_CHECK(!rc, "BAR0 write 0x%llx/%u: %d", (unsigned long long)off, size, rc);
}

/* Memory Space and Bus Master on, as a driver's pci_enable_device + set_master. */
static inline void dt_enable(struct dmatest *d)
{
	cfg_wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static inline uint32_t status_err(uint32_t st)
{
	return (st & DMATEST_STATUS_ERR_MASK) >> DMATEST_STATUS_ERR_SHIFT;
}

/* Program one operation (the PASID register as it is) and ring GO; returns STATUS. */
static inline uint32_t dt_go(struct dmatest *d, uint32_t op, uint64_t src, uint64_t dst,
			     uint32_t len)
{
	reg_wr(d, DMATEST_REG_SRC_IOVA, 8, src);
	reg_wr(d, DMATEST_REG_DST_IOVA, 8, dst);
	reg_wr(d, DMATEST_REG_LEN, 4, len);
	reg_wr(d, DMATEST_REG_OP, 4, op);
	reg_wr(d, DMATEST_REG_GO, 4, 1);
	return (uint32_t)reg_rd(d, DMATEST_REG_STATUS, 4);
}

/*
 * @buf is mapped at @iova (at least 5 pages): a COPY of page 1 to page 4
 * completes and moves the bytes.
 */
static inline void dt_check_copy(struct dmatest *d, uint8_t *buf, uint64_t iova, size_t page)
{
	uint32_t st;

	for (size_t i = 0; i < page; i++)
		buf[page + i] = (uint8_t)(i ^ 0x3c);
	st = dt_go(d, DMATEST_OP_COPY, iova + page, iova + 4 * page, page);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "COPY done");
	TAP_CHECK(!memcmp(buf + 4 * page, buf + page, page), "copied");
}

/*
 * @end is the first IOVA past a mapping that starts at @iova: a COPY
 * reading 0x200 bytes from @end - 0x100 stops with a DMA fault at @end
 * after 0x100 bytes, the read's fault carrying @reason and EFAULT.
 */
static inline void dt_check_read_fault(struct dmatest *d, uint64_t iova, uint64_t end,
				       uint32_t reason)
{
	uint32_t st = dt_go(d, DMATEST_OP_COPY, end - 0x100, iova, 0x200);

	TAP_CHECK_EQ(status_err(st), DMATEST_ERR_DMA_FAULT, "DMA fault");
	TAP_CHECK_EQ(reg_rd(d, DMATEST_REG_FAULT_IOVA, 8), end, "FAULT_IOVA");
	TAP_CHECK_EQ(reg_rd(d, DMATEST_REG_FAULT_INFO, 4),
		     DMATEST_FAULT_READ | reason << DMATEST_FAULT_REASON_SHIFT |
			     (uint32_t)EFAULT << DMATEST_FAULT_ERRNO_SHIFT,
		     "FAULT_INFO");
	TAP_CHECK_EQ(reg_rd(d, DMATEST_REG_DONE_BYTES, 8), 0x100, "DONE_BYTES");
}

/*
 * A dmatest FILL of @len bytes at @dst with @pattern, run on a thread: GO
 * returns only when the DMA has ended, which a page request group may keep
 * waiting for its response. Join j->th; j->st is then GO's status.
 */
struct dt_job {
	struct dmatest *dt;
	uint64_t dst;
	uint32_t len, st;
	pthread_t th;
};

static inline void *dt_fill_thread(void *arg)
{
	struct dt_job *j = arg;

	j->st = dt_go(j->dt, DMATEST_OP_FILL, 0, j->dst, j->len);
	return NULL;
}

static inline void dt_fill_start(struct dt_job *j, struct dmatest *dt, uint64_t dst, uint32_t len,
				 uint64_t pattern)
{
	*j = (struct dt_job){.dt = dt, .dst = dst, .len = len};
	reg_wr(dt, DMATEST_REG_FILL, 8, pattern);
	TAP_CHECK(!pthread_create(&j->th, NULL, dt_fill_thread, j), "pthread_create");
}

#endif
