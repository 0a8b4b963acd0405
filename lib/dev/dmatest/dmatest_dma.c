// SPDX-License-Identifier: MIT
/*
 * dmatest_dma.c - the dmatest DMA engine: what a GO write does.
 *
 * An operation is checked, then run to its end or its first fault, in the
 * thread that wrote GO and under the device lock (dmatest.c's locking):
 *
 *   1. STATUS becomes BUSY (DONE, ERROR, the error code, FAULT_* and
 *      DONE_BYTES of the previous operation, and with DONE and ERROR the
 *      INTx causes they stood for, are cleared);
 *   2. checks, in this order, each ending the operation with its error
 *      code and no DMA issued: INVALID (OP unknown, LEN 0, READ / WRITE
 *      longer than the buffer, a range that wraps the 64-bit space), PASID
 *      (PASID valid but the capability absent or not enabled, PASID 0, or
 *      wider than Max PASID Width), BUS_MASTER (Command.Bus Master clear);
 *   3. the transfer, through iommu_dma_rw() as the function's udev with
 *      the PASID (IOMMU_NO_PASID when not valid);
 *   4. STATUS becomes DONE, plus ERROR and the code on failure; the
 *      COMPLETIONS or ERRORS counter counts it; the completion or error
 *      vector is raised if CTRL enables it.
 *
 * Transfers. READ and WRITE are one iommu_dma_rw() each, between memory
 * and the start of the internal buffer. COPY and FILL go in chunks of
 * DMATEST_CHUNK bytes through the bounce buffer: COPY reads a chunk, then
 * writes what it read, so after a read fault the bytes read before it
 * still reach the destination; FILL writes the pattern (the bounce buffer
 * holds it repeated, and a chunk starts at a multiple of 8 bytes, so byte
 * i of the transfer is byte i % 8 of the pattern). Whatever stops the
 * transfer, DONE_BYTES is the number of bytes that reached their
 * destination, all of them before the faulting one, none after, and the
 * fault registers describe the access that stopped it (the write's when
 * a COPY's write faults before a read fault's offset).
 *
 * Locks: called with d->lock held (dmatest.c); iommu_dma_rw() takes the
 * model's.
 */
#include <errno.h>
#include <string.h>

#include "dev/dmatest/dmatest_priv.h"
#include "util/bits.h"

static uint32_t check(struct dmatest *d, uint32_t *pasid)
{
	uint64_t len = d->len;
	uint32_t p = d->pasid & DMATEST_PASID_MASK;

	*pasid = 0;
	switch (d->op) {
	case DMATEST_OP_READ:
	case DMATEST_OP_WRITE:
		if (len > DMATEST_BUF_SIZE)
			return DMATEST_ERR_INVALID;
		break;
	case DMATEST_OP_COPY:
	case DMATEST_OP_FILL:
		break;
	default:
		return DMATEST_ERR_INVALID;
	}
	if (!len)
		return DMATEST_ERR_INVALID;
	if ((d->op == DMATEST_OP_READ || d->op == DMATEST_OP_COPY) && range_wraps(d->src, len))
		return DMATEST_ERR_INVALID;
	if (d->op != DMATEST_OP_READ && range_wraps(d->dst, len))
		return DMATEST_ERR_INVALID;
	if (d->pasid & DMATEST_PASID_VALID) {
		if (!dmatest_pasid_enabled(d) || !p || p >= (1u << d->pasid_width))
			return DMATEST_ERR_PASID;
		*pasid = p;
	}
	if (!dmatest_bus_master(d))
		return DMATEST_ERR_BUS_MASTER;
	return DMATEST_ERR_NONE;
}

static int copy_chunks(struct dmatest *d, uint32_t pasid, size_t *moved,
		       struct iommu_dma_fault *fault)
{
	size_t off = 0, len = d->len;
	int ret = 0;

	while (off < len) {
		size_t n = MIN(len - off, (size_t)DMATEST_CHUNK), got = 0, put = 0;
		struct iommu_dma_fault fr, fw;
		int r, w = 0;

		r = iommu_dma_rw(d->udev, pasid, d->src + off, d->bounce, n, false, &got, &fr);
		if (got)
			w = iommu_dma_rw(d->udev, pasid, d->dst + off, d->bounce, got, true, &put,
					 &fw);
		off += put;
		if (w) {
			*fault = fw;
			ret = w;
			break;
		}
		if (r) {
			*fault = fr;
			ret = r;
			break;
		}
	}
	*moved = off;
	return ret;
}

static int fill_chunks(struct dmatest *d, uint32_t pasid, size_t *moved,
		       struct iommu_dma_fault *fault)
{
	size_t off = 0, len = d->len;
	int ret = 0;

	for (unsigned int i = 0; i < DMATEST_CHUNK; i++)
		d->bounce[i] = (uint8_t)(d->fill >> (8 * (i % 8)));
	while (off < len) {
		size_t n = MIN(len - off, (size_t)DMATEST_CHUNK), put = 0;

		ret = iommu_dma_rw(d->udev, pasid, d->dst + off, d->bounce, n, true, &put, fault);
		off += put;
		if (ret)
			break;
	}
	*moved = off;
	return ret;
}

void dmatest_go(struct dmatest *d)
{
	struct iommu_dma_fault fault = {0};
	uint32_t code, pasid, st;
	size_t moved = 0;
	int ret = 0;

	__atomic_store_n(&d->status, DMATEST_STATUS_BUSY, __ATOMIC_RELEASE);
	dmatest_intx_ack(d, (1u << DMATEST_NR_VECTORS) - 1); /* DONE and ERROR are clear */
	d->fault_iova = 0;
	d->fault_info = d->fault_pasid = 0;
	d->done_bytes = 0;

	code = check(d, &pasid);
	if (code == DMATEST_ERR_NONE) {
		switch (d->op) {
		case DMATEST_OP_READ:
			ret = iommu_dma_rw(d->udev, pasid, d->src, d->buf, d->len, false, &moved,
					   &fault);
			break;
		case DMATEST_OP_WRITE:
			ret = iommu_dma_rw(d->udev, pasid, d->dst, d->buf, d->len, true, &moved,
					   &fault);
			break;
		case DMATEST_OP_COPY:
			ret = copy_chunks(d, pasid, &moved, &fault);
			break;
		default:
			ret = fill_chunks(d, pasid, &moved, &fault);
			break;
		}
		d->done_bytes = moved;
	}

	st = DMATEST_STATUS_DONE;
	__atomic_store_n(&d->status, st, __ATOMIC_RELEASE);
	if (ret) {
		/* Every failure of iommu_dma_rw() comes with the fault it describes. */
		if (!fault.err)
			fault.err = ret;
		dmatest_latch_fault(d, DMATEST_ERR_DMA_FAULT, &fault);
		code = DMATEST_ERR_DMA_FAULT;
	} else if (code) {
		st |= DMATEST_STATUS_ERROR | code << DMATEST_STATUS_ERR_SHIFT;
		__atomic_store_n(&d->status, st, __ATOMIC_RELEASE);
	}
	if (code) {
		__atomic_fetch_add(&d->errors, 1, __ATOMIC_RELAXED);
		if (d->ctrl & DMATEST_CTRL_IRQ_ERR)
			dmatest_raise(d, DMATEST_IRQ_ERR);
	} else {
		__atomic_fetch_add(&d->completions, 1, __ATOMIC_RELAXED);
		if (d->ctrl & DMATEST_CTRL_IRQ_DONE)
			dmatest_raise(d, DMATEST_IRQ_DONE);
	}
}
