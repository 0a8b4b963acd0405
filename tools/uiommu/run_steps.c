// SPDX-License-Identifier: MIT
/*
 * run_steps.c - what each kind of step of a run scenario does (the guest's
 * steps, the VMM's, the devices', the expectations) and how it is judged.
 *
 * Every function here gets the run (struct run_ctx, run_exec_int.h) and
 * its step, acts through the iommufd API, the guest's lib/vmm structures
 * or the device's registers, and reports through run_report.h: a summary
 * of what happened, detail lines, and a failure when what happened is not
 * what the step expected. None keeps state of its own beyond the run's;
 * none blocks without a bound (DMA and page-request waits are
 * run_exec.c's, bounded by the run's timeout).
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <uiommu/uiommu.h>

#include "dev/dmatest/dmatest.h"
#include "dev/msi_doorbell.h"
#include "parse.h"
#include "run_exec_int.h"
#include "util/bits.h"

static const char *const op_names[] = {"?", "READ", "WRITE", "COPY", "FILL"};

/* The outcome of the device's last operation, against the step's expectation. */
static void dma_result(struct run_ctx *c, const struct run_step *st, unsigned int dev,
		       const struct run_expect_dma *x, char *got, size_t gotlen)
{
	uint64_t status = 0, fiova = 0, finfo = 0, done = 0;
	unsigned int err, reason, ferrno, access;
	const char *what;
	char b[32];
	json_t *o;

	snprintf(got, gotlen, "?");
	if (c->dev[dev].job.go_ret) {
		run_report_fail(c->r, "the GO write failed: %s", strerror(-c->dev[dev].job.go_ret));
		return;
	}
	if (run_reg_rd(c, dev, DMATEST_REG_STATUS, 4, &status) ||
	    run_reg_rd(c, dev, DMATEST_REG_FAULT_IOVA, 8, &fiova) ||
	    run_reg_rd(c, dev, DMATEST_REG_FAULT_INFO, 4, &finfo) ||
	    run_reg_rd(c, dev, DMATEST_REG_DONE_BYTES, 8, &done)) {
		run_report_fail(c->r, "cannot read the device's status registers");
		return;
	}
	err = (unsigned int)(status & DMATEST_STATUS_ERR_MASK) >> DMATEST_STATUS_ERR_SHIFT;
	reason = (unsigned int)(finfo >> DMATEST_FAULT_REASON_SHIFT) & 0xffff;
	ferrno = (unsigned int)(finfo >> DMATEST_FAULT_ERRNO_SHIFT) & 0xff;
	access = finfo & DMATEST_FAULT_WRITE ? PT_PROT_W : PT_PROT_R;
	o = json_pack("{s:s, s:s, s:I}", "device", c->sc->m.devices[dev].name, "op",
		      op_names[st->op], "len", (json_int_t)st->len);
	if (st->op == RUN_DMA_READ || st->op == RUN_DMA_COPY)
		json_object_set_new(o, "src", run_json_hex(st->src));
	if (st->op != RUN_DMA_READ)
		json_object_set_new(o, "dst", run_json_hex(st->dst));
	if (st->has_pasid)
		json_object_set_new(o, "pasid", json_integer(st->pasid));
	json_object_set_new(o, "status", run_json_hex(status));
	json_object_set_new(o, "bytes_done", json_integer((json_int_t)done));
	if (!(status & DMATEST_STATUS_ERROR)) {
		snprintf(got, gotlen, "done, %s moved", run_sz(done, b));
		what = "done";
	} else if (err == DMATEST_ERR_DMA_FAULT || err == DMATEST_ERR_MSI_FAULT) {
		snprintf(got, gotlen, "%s%s at 0x%llx (%s, %s), %s moved before it",
			 err == DMATEST_ERR_MSI_FAULT ? "MSI write fault: " : "fault ",
			 run_evt_name(reason), (unsigned long long)fiova,
			 access == PT_PROT_W ? "write" : "read", run_errno_name((int)ferrno),
			 run_sz(done, b));
		what = "fault";
		json_object_set_new(
			o, "fault",
			json_pack("{s:s, s:i, s:o, s:s, s:s}", "type",
				  reason ? (smmuv3_evt_name(reason) ? smmuv3_evt_name(reason)
								    : "unknown")
					 : "abort",
				  "reason", (int)reason, "addr", run_json_hex(fiova), "access",
				  access == PT_PROT_W ? "write" : "read", "errno",
				  run_errno_name((int)ferrno)));
	} else {
		static const char *const errs[] = {"none", "invalid", "pasid", "bus_master"};

		snprintf(got, gotlen, "refused by the device: error %s",
			 err < ARRAY_SIZE(errs) ? errs[err] : "?");
		what = "error";
		json_object_set_new(o, "error",
				    json_string(err < ARRAY_SIZE(errs) ? errs[err] : "?"));
	}
	json_object_set_new(o, "result", json_string(what));
	json_object_set_new(run_report_step_json(c->r), "dma", o);
	/* The expectation. */
	switch (x->status) {
	case RX_DONE:
		if (status & DMATEST_STATUS_ERROR)
			run_report_fail(c->r, "expected the DMA to complete, got %s", got);
		else if (done != st->len)
			run_report_fail(c->r, "done, but %llu of %llu bytes moved",
					(unsigned long long)done, (unsigned long long)st->len);
		break;
	case RX_ERROR:
		if (!(status & DMATEST_STATUS_ERROR) || err != x->error)
			run_report_fail(c->r, "expected the device to refuse it (error %u), got %s",
					x->error, got);
		break;
	case RX_FAULT:
		if (!(status & DMATEST_STATUS_ERROR) || err != DMATEST_ERR_DMA_FAULT)
			run_report_fail(c->r, "expected a fault, got %s", got);
		else if (x->fault >= 0 && (unsigned int)x->fault != reason)
			run_report_fail(c->r, "expected the fault to be %s, got %s",
					run_evt_name((unsigned int)x->fault), got);
		else if (x->has_addr && x->addr != fiova)
			run_report_fail(c->r, "expected the fault at 0x%llx, got %s",
					(unsigned long long)x->addr, got);
		else if (x->access >= 0 && (unsigned int)x->access != access)
			run_report_fail(c->r, "expected a %s fault, got %s",
					x->access == PT_PROT_W ? "write" : "read", got);
		else if (x->has_done && x->done != done)
			run_report_fail(c->r, "expected %llu bytes moved before the fault, got %s",
					(unsigned long long)x->done, got);
		break;
	}
	/* Ready for the next operation: DONE and ERROR are write-1-to-clear. */
	run_reg_wr(c, dev, DMATEST_REG_STATUS, 4, DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR);
}

static void describe_dma(const struct run_step *st, char *buf, size_t len)
{
	char b[32];

	switch (st->op) {
	case RUN_DMA_READ:
		snprintf(buf, len, "READ 0x%llx -> buffer, %s", (unsigned long long)st->src,
			 run_sz(st->len, b));
		break;
	case RUN_DMA_WRITE:
		snprintf(buf, len, "WRITE buffer -> 0x%llx, %s", (unsigned long long)st->dst,
			 run_sz(st->len, b));
		break;
	case RUN_DMA_COPY:
		snprintf(buf, len, "COPY 0x%llx -> 0x%llx, %s", (unsigned long long)st->src,
			 (unsigned long long)st->dst, run_sz(st->len, b));
		break;
	case RUN_DMA_FILL:
		snprintf(buf, len, "FILL 0x%llx -> 0x%llx, %s", (unsigned long long)st->pattern,
			 (unsigned long long)st->dst, run_sz(st->len, b));
		break;
	}
}

static void step_dma(struct run_ctx *c, const struct run_step *st)
{
	unsigned int dev = (unsigned int)st->dev;
	char what[160], pasid[32] = "", got[200];
	int ret;

	describe_dma(st, what, sizeof(what));
	if (st->has_pasid)
		snprintf(pasid, sizeof(pasid), ", PASID %u", st->pasid);
	ret = run_reg_wr(c, dev, DMATEST_REG_SRC_IOVA, 8, st->src);
	if (!ret)
		ret = run_reg_wr(c, dev, DMATEST_REG_DST_IOVA, 8, st->dst);
	if (!ret)
		ret = run_reg_wr(c, dev, DMATEST_REG_LEN, 4, st->len);
	if (!ret)
		ret = run_reg_wr(c, dev, DMATEST_REG_PASID, 4,
				 st->has_pasid ? DMATEST_PASID_VALID | st->pasid : 0);
	if (!ret)
		ret = run_reg_wr(c, dev, DMATEST_REG_OP, 4, st->op);
	if (!ret)
		ret = run_reg_wr(c, dev, DMATEST_REG_FILL, 8, st->pattern);
	if (!ret)
		ret = run_reg_wr(c, dev, DMATEST_REG_STATUS, 4,
				 DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR);
	if (!ret)
		ret = run_job_start(c, dev);
	if (ret) {
		run_report_summary(c->r, "%s %s%s", c->sc->m.devices[dev].name, what, pasid);
		run_report_fail(c->r, "cannot start the DMA: %s", strerror(-ret));
		return;
	}
	if (!st->wait) {
		run_report_summary(c->r, "%s %s%s: started, running on", c->sc->m.devices[dev].name,
				   what, pasid);
		return;
	}
	ret = run_job_wait(c, dev, true);
	if (ret) {
		run_report_summary(c->r, "%s %s%s", c->sc->m.devices[dev].name, what, pasid);
		run_report_fail(c->r, "the DMA did not end within %u ms (%s)", c->opts->timeout_ms,
				strerror(-ret));
		return;
	}
	dma_result(c, st, dev, &st->xdma, got, sizeof(got));
	run_report_summary(c->r, "%s %s%s: %s", c->sc->m.devices[dev].name, what, pasid, got);
}

static void step_dma_wait(struct run_ctx *c, const struct run_step *st)
{
	unsigned int dev = (unsigned int)st->dev;
	const struct run_step *start = &c->sc->steps[c->dev[dev].job.step - 1];
	char what[160], got[200];
	int ret;

	describe_dma(start, what, sizeof(what));
	ret = run_job_wait(c, dev, false);
	if (ret) {
		run_report_summary(c->r, "%s %s (step %u)", c->sc->m.devices[dev].name, what,
				   c->dev[dev].job.step);
		run_report_fail(c->r,
				"the DMA did not end within %u ms (stalled, and nobody "
				"answered?)",
				c->opts->timeout_ms);
		return;
	}
	dma_result(c, start, dev, &st->xdma, got, sizeof(got));
	run_report_summary(c->r, "%s %s (step %u): %s", c->sc->m.devices[dev].name, what,
			   c->dev[dev].job.step, got);
}

/* ---------------------------------------------------------------------- */
/* Guest RAM and stage 2                                                  */

static void step_map(struct run_ctx *c, const struct run_step *st)
{
	const struct run_machine_desc *m = &c->sc->m;
	char b[32], p[8];
	uint64_t done = 0;
	int ret = 0;

	for (unsigned int i = 0; i < m->nr_ram && !ret; i++) {
		uint64_t gpa = st->all ? m->ram[i].gpa : st->gpa;
		uint64_t size = st->all ? m->ram[i].size : st->size;

		if (!st->all && i)
			break;
		if (st->kind == RS_MAP) {
			struct iommu_ioas_map map = {
				.size = sizeof(map),
				.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
					 (st->prot & PT_PROT_R ? IOMMU_IOAS_MAP_READABLE : 0) |
					 (st->prot & PT_PROT_W ? IOMMU_IOAS_MAP_WRITEABLE : 0),
				.ioas_id = c->ioas,
				.user_va = (uintptr_t)guest_mem_ptr(&c->gm, gpa, size),
				.length = size,
				.iova = gpa,
			};

			ret = run_ioc(c, IOMMU_IOAS_MAP, &map);
			if (!ret)
				done += size;
			run_report_verbose(c->r,
					   "IOMMU_IOAS_MAP ioas %u iova 0x%llx length 0x%llx "
					   "user_va %p: %s",
					   c->ioas, (unsigned long long)gpa,
					   (unsigned long long)size, (void *)(uintptr_t)map.user_va,
					   ret ? run_errno_name(ret) : "0");
		} else {
			struct iommu_ioas_unmap un = {.size = sizeof(un),
						      .ioas_id = c->ioas,
						      .iova = gpa,
						      .length = size};

			ret = run_ioc(c, IOMMU_IOAS_UNMAP, &un);
			if (!ret)
				done += un.length;
		}
	}
	if (st->all)
		run_report_summary(c->r, "all guest RAM (%s) %s at IOVA = GPA (IOAS %u)",
				   run_sz(done, b), prot_letters(st->prot, p), c->ioas);
	else if (st->kind == RS_MAP)
		run_report_summary(c->r, "GPA 0x%llx-0x%llx (%s) %s at IOVA = GPA (IOAS %u)",
				   (unsigned long long)st->gpa,
				   (unsigned long long)(st->gpa + st->size - 1),
				   run_sz(st->size, b), prot_letters(st->prot, p), c->ioas);
	else
		run_report_summary(c->r, "GPA 0x%llx-0x%llx from stage 2 (IOAS %u): %s unmapped",
				   (unsigned long long)st->gpa,
				   (unsigned long long)(st->gpa + st->size - 1), c->ioas,
				   run_sz(done, b));
	if (st->expect_errno && ret != -st->expect_errno)
		run_report_fail(c->r, "expected %s, got %s", run_errno_name(st->expect_errno),
				ret ? run_errno_name(ret) : "success");
	else if (!st->expect_errno && ret)
		run_report_fail(c->r, "%s: %s (%s)",
				st->kind == RS_MAP ? "IOMMU_IOAS_MAP" : "IOMMU_IOAS_UNMAP",
				strerror(-ret), run_errno_name(ret));
	else if (ret)
		run_report_detail(c->r, "refused with %s, as expected", run_errno_name(ret));
}

/* The bytes a data spec stands for (RD_GPA: guest RAM now). NULL on failure (reported). */
static uint8_t *data_bytes(struct run_ctx *c, const struct run_step *st)
{
	uint8_t *buf = malloc(st->len ? st->len : 1);

	if (!buf) {
		run_report_fail(c->r, "out of memory");
		return NULL;
	}
	if (st->data.kind == RD_GPA) {
		if (guest_mem_read(&c->gm, st->data.value, buf, st->len)) {
			run_report_fail(c->r, "GPA 0x%llx is not guest RAM",
					(unsigned long long)st->data.value);
			free(buf);
			return NULL;
		}
	} else {
		run_data_fill(&st->data, buf, st->len);
	}
	return buf;
}

/* The device's buffer through its BAR0 window, 8 bytes at a time. */
static int buf_access(struct run_ctx *c, unsigned int dev, uint64_t off, uint8_t *bytes, size_t len,
		      bool write)
{
	size_t i = 0;
	int ret = 0;

	while (!ret && i < len) {
		unsigned int size = (len - i >= 8 && !((off + i) & 7)) ? 8 : 1;
		uint64_t v = 0;

		if (write) {
			memcpy(&v, bytes + i, size);
			v = le64toh(v);
			ret = run_reg_wr(c, dev, DMATEST_BUF_OFFSET + off + i, size, v);
		} else {
			ret = run_reg_rd(c, dev, DMATEST_BUF_OFFSET + off + i, size, &v);
			v = htole64(v);
			memcpy(bytes + i, &v, size);
		}
		i += size;
	}
	return ret;
}

static void step_bytes(struct run_ctx *c, const struct run_step *st)
{
	uint8_t *want = data_bytes(c, st), *have = NULL;
	char where[96], what[96], b[32];
	int ret;

	if (!want)
		return;
	run_data_describe(&st->data, what, sizeof(what));
	if (st->on_device)
		snprintf(where, sizeof(where), "%s buffer +0x%llx, %s",
			 c->sc->m.devices[st->dev].name, (unsigned long long)st->offset,
			 run_sz(st->len, b));
	else
		snprintf(where, sizeof(where), "GPA 0x%llx, %s", (unsigned long long)st->gpa,
			 run_sz(st->len, b));
	if (st->kind == RS_WRITE) {
		ret = st->on_device ? buf_access(c, (unsigned int)st->dev, st->offset, want,
						 st->len, true)
				    : guest_mem_write(&c->gm, st->gpa, want, st->len);
		run_report_summary(c->r, "%s: %s", where, what);
		if (ret)
			run_report_fail(c->r, "cannot write: %s", strerror(-ret));
		free(want);
		return;
	}
	have = malloc(st->len);
	if (!have) {
		free(want);
		run_report_fail(c->r, "out of memory");
		return;
	}
	ret = st->on_device ? buf_access(c, (unsigned int)st->dev, st->offset, have, st->len, false)
			    : guest_mem_read(&c->gm, st->gpa, have, st->len);
	if (ret) {
		run_report_summary(c->r, "%s", where);
		run_report_fail(c->r, "cannot read: %s", strerror(-ret));
	} else {
		size_t first = SIZE_MAX, ndiff = 0;

		for (size_t i = 0; i < st->len; i++) {
			if (have[i] == want[i])
				continue;
			if (first == SIZE_MAX)
				first = i;
			ndiff++;
		}
		json_object_set_new(run_report_step_json(c->r), "differ",
				    json_integer((json_int_t)ndiff));
		if (!ndiff) {
			run_report_summary(c->r, "%s = %s: all %zu bytes as expected", where, what,
					   (size_t)st->len);
		} else {
			run_report_summary(c->r, "%s = %s: %zu byte%s differ", where, what, ndiff,
					   ndiff == 1 ? "" : "s");
			if (st->on_device)
				run_report_fail(
					c->r,
					"byte 0x%zx of the buffer (offset 0x%llx) is 0x%02x, "
					"expected 0x%02x (%zu of %zu bytes differ)",
					first, (unsigned long long)(st->offset + first),
					have[first], want[first], ndiff, (size_t)st->len);
			else
				run_report_fail(
					c->r,
					"byte 0x%zx (GPA 0x%llx) is 0x%02x, expected 0x%02x "
					"(%zu of %zu bytes differ)",
					first, (unsigned long long)(st->gpa + first), have[first],
					want[first], ndiff, (size_t)st->len);
		}
	}
	free(want);
	free(have);
}

/* ---------------------------------------------------------------------- */
/* The guest's IOMMU structures                                           */

static void step_guest_map(struct run_ctx *c, const struct run_step *st)
{
	const struct run_table *t = &c->sc->m.tables[st->table];
	struct guest_s1 *s1 = &c->s1[st->table];
	char b[32], p[8];
	uint64_t unmapped = 0;
	int ret;

	if (st->kind == RS_GUEST_MAP) {
		ret = guest_s1_map(s1, st->iova, st->gpa, st->size, st->prot);
		run_report_summary(c->r, "%s: IOVA 0x%llx-0x%llx -> %s 0x%llx %s%s", t->name,
				   (unsigned long long)st->iova,
				   (unsigned long long)(st->iova + st->size - 1), "GPA",
				   (unsigned long long)st->gpa, prot_letters(st->prot, p),
				   st->gpa_is_msi ? " (the MSI doorbell)" : "");
	} else {
		ret = guest_s1_unmap(s1, st->iova, st->size, &unmapped);
		run_report_summary(
			c->r, "%s: IOVA 0x%llx-0x%llx: %s unmapped (no invalidation yet)", t->name,
			(unsigned long long)st->iova, (unsigned long long)(st->iova + st->size - 1),
			run_sz(unmapped, b));
	}
	if (ret == -EUCLEAN)
		run_report_fail(
			c->r,
			"the guest's page table %s was overwritten in guest RAM (by the guest "
			"or a device): it cannot be changed any more",
			t->name);
	else if (st->expect_errno && ret != -st->expect_errno)
		run_report_fail(c->r, "expected %s, got %s", run_errno_name(st->expect_errno),
				ret ? run_errno_name(ret) : "success");
	else if (!st->expect_errno && ret)
		run_report_fail(c->r, "the guest's page table refused it: %s (%s)", strerror(-ret),
				run_errno_name(ret));
	else if (ret)
		run_report_detail(c->r, "refused with %s, as expected", run_errno_name(ret));
}

static unsigned int cd_log2(const struct run_device *d)
{
	return MIN(d->pasid_bits, RUN_CD_MAX_LOG2);
}

static void step_cd(struct run_ctx *c, const struct run_step *st)
{
	const struct run_device *d = &c->sc->m.devices[st->dev];
	const struct run_table *t = &c->sc->m.tables[st->table];
	struct run_dev *rd = &c->dev[st->dev];
	struct guest_cd cd = {
		.valid = st->cd_valid,
		.asid = st->asid,
		.ttb0 = guest_s1_root(&c->s1[st->table]),
		.ias = t->ias,
		.granule_shift = t->granule_shift,
		.oas = t->oas,
		.epd0 = st->epd0,
		.stall = st->cd_stall,
		.record = st->record,
	};
	uint64_t w[8], gpa;
	char ttb1[96] = "";
	int ret = 0;

	if (st->ttb1_table >= 0) {
		const struct run_table *t1 = &c->sc->m.tables[st->ttb1_table];

		cd.ttb1_on = true;
		cd.ttb1 = guest_s1_root(&c->s1[st->ttb1_table]);
		cd.ias1 = t1->ias;
		cd.granule1_shift = t1->granule_shift;
		snprintf(ttb1, sizeof(ttb1), ", TTB1 0x%llx (%s), %u-bit, %lluK",
			 (unsigned long long)cd.ttb1, t1->name, t1->ias,
			 (1ULL << t1->granule_shift) >> 10);
	}
	cd.tbi = st->tbi;
	if (!rd->cd_table) {
		ret = guest_mem_alloc(&c->gm, (uint64_t)GUEST_CD_SIZE << cd_log2(d), 64,
				      &rd->cd_table);
		if (ret) {
			run_report_fail(c->r, "the guest's pool has no room for %s's CD table: %s",
					d->name, strerror(-ret));
			return;
		}
		run_report_detail(c->r, "%s's CD table: %u CD%s at GPA 0x%llx", d->name,
				  1u << cd_log2(d), cd_log2(d) ? "s" : "",
				  (unsigned long long)rd->cd_table);
	}
	gpa = rd->cd_table + (uint64_t)st->ssid * GUEST_CD_SIZE;
	ret = guest_cd_encode(&cd, w);
	if (!ret)
		ret = guest_cd_write(&c->gm, gpa, w);
	run_report_summary(
		c->r, "%s CD %u at GPA 0x%llx: %sASID %u, TTB0 0x%llx (%s), %u-bit, %lluK%s%s%s%s%s",
		d->name, st->ssid, (unsigned long long)gpa, st->cd_valid ? "" : "invalid, ",
		st->asid, (unsigned long long)cd.ttb0, t->name, t->ias,
		(1ULL << t->granule_shift) >> 10, ttb1, st->cd_stall ? ", stall" : "",
		st->epd0 ? ", TTB0 walks disabled (EPD0)" : "",
		st->tbi == 3	 ? ", top byte ignored (TBI)"
		: st->tbi == 2 ? ", top byte ignored in TTB1's range (TBI)"
		: st->tbi == 1 ? ", top byte ignored in TTB0's range (TBI)"
			       : "",
		st->record ? "" : ", faults not recorded");
	run_report_verbose(c->r, "CD words 0x%016llx 0x%016llx 0x%016llx",
			   (unsigned long long)w[0], (unsigned long long)w[1],
			   (unsigned long long)w[2]);
	if (ret)
		run_report_fail(c->r, "cannot write the CD: %s", strerror(-ret));
}

static int hwpt_destroy(struct run_ctx *c, uint32_t id)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = id};

	return run_ioc(c, IOMMU_DESTROY, &d);
}

static void step_ste(struct run_ctx *c, const struct run_step *st)
{
	const struct run_device *d = &c->sc->m.devices[st->dev];
	struct run_dev *rd = &c->dev[st->dev];
	struct iommu_hwpt_arm_smmuv3 vste;
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.dev_id = run_machine_dev_id(c->m, (unsigned int)st->dev),
		.pt_id = c->viommu,
		.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
		.data_uptr = (uintptr_t)&vste,
	};
	struct guest_ste gs = st->ste;
	uint64_t w[2], host[8];
	char what[160];
	uint32_t pt;
	int ret;

	if (st->ste_raw) {
		w[0] = st->ste_words[0];
		w[1] = st->ste_words[1];
		snprintf(what, sizeof(what), "raw words 0x%llx 0x%llx", (unsigned long long)w[0],
			 (unsigned long long)w[1]);
	} else {
		gs.cd_table = rd->cd_table;
		ret = guest_ste_encode(&gs, w);
		if (ret) {
			run_report_fail(c->r, "cannot encode the STE: %s", strerror(-ret));
			return;
		}
		if (gs.config == GUEST_STE_TRANSLATE)
			snprintf(what, sizeof(what), "translate, CD table 0x%llx (S1CDMax %u%s)",
				 (unsigned long long)gs.cd_table, gs.s1cdmax,
				 !gs.s1cdmax			  ? ""
				 : gs.s1dss == GUEST_S1DSS_SSID0  ? ", no PASID: CD 0"
				 : gs.s1dss == GUEST_S1DSS_BYPASS ? ", no PASID: bypass"
								  : ", no PASID: terminate");
		else
			snprintf(what, sizeof(what), "%s", guest_ste_config_name(gs.config));
	}
	if (c->vsm) {
		run_vsmmu_ste(c, st, w, what);
		return;
	}
	vste.ste[0] = htole64(w[0]);
	vste.ste[1] = htole64(w[1]);
	if (d->stall && c->faultq) {
		alloc.flags |= IOMMU_HWPT_FAULT_ID_VALID;
		alloc.fault_id = c->fault_id;
	}
	run_report_verbose(c->r, "vSTE words 0x%016llx 0x%016llx", (unsigned long long)w[0],
			   (unsigned long long)w[1]);
	ret = run_ioc(c, IOMMU_HWPT_ALLOC, &alloc);
	if (ret) {
		run_report_summary(c->r, "%s (vSID 0x%x): %s: nested HWPT refused (%s)", d->name,
				   d->vsid, what, run_errno_name(ret));
		if (st->expect_errno != -ret)
			run_report_fail(c->r, "IOMMU_HWPT_ALLOC: %s%s%s", run_errno_name(ret),
					st->expect_errno ? ", expected " : "",
					st->expect_errno ? run_errno_name(st->expect_errno) : "");
		return;
	}
	pt = alloc.out_hwpt_id;
	ret = run_machine_attach(c->m, (unsigned int)st->dev, &pt);
	if (ret) {
		hwpt_destroy(c, alloc.out_hwpt_id);
		run_report_summary(c->r, "%s (vSID 0x%x): %s: nested HWPT %u, attach refused (%s)",
				   d->name, d->vsid, what, alloc.out_hwpt_id, run_errno_name(ret));
		if (st->expect_errno != -ret)
			run_report_fail(c->r, "attach: %s%s%s", run_errno_name(ret),
					st->expect_errno ? ", expected " : "",
					st->expect_errno ? run_errno_name(st->expect_errno) : "");
		return;
	}
	if (rd->hwpt)
		hwpt_destroy(c, rd->hwpt);
	rd->hwpt = alloc.out_hwpt_id;
	if (run_machine_read_ste(c->m, (unsigned int)st->dev, host)) {
		run_report_fail(c->r, "cannot read the host STE");
		return;
	}
	run_report_summary(c->r, "%s (vSID 0x%x): %s -> nested HWPT %u, attached", d->name, d->vsid,
			   what, alloc.out_hwpt_id);
	if ((host[0] & 1) && (host[0] >> 1 & 6) == 6)
		run_report_detail(c->r, "host STE (SID 0x%x): %s, VMID %llu%s", d->sid,
				  run_host_config(host[0]), (unsigned long long)(host[2] & 0xffff),
				  (host[0] >> 1 & 7) == 7
					  ? ", stage-1 context from the guest's CD table"
					  : "");
	else
		run_report_detail(c->r, "host STE (SID 0x%x): %s", d->sid,
				  run_host_config(host[0]));
	run_report_verbose(c->r, "host STE 0x%016llx 0x%016llx 0x%016llx 0x%016llx",
			   (unsigned long long)host[0], (unsigned long long)host[1],
			   (unsigned long long)host[2], (unsigned long long)host[3]);
	json_object_set_new(run_report_step_json(c->r), "hwpt", json_integer(rd->hwpt));
	json_object_set_new(run_report_step_json(c->r), "vste",
			    json_pack("[o, o]", run_json_hex(w[0]), run_json_hex(w[1])));
	json_object_set_new(run_report_step_json(c->r), "host_ste",
			    json_pack("[o, o, o, o]", run_json_hex(host[0]), run_json_hex(host[1]),
				      run_json_hex(host[2]), run_json_hex(host[3])));
	if (st->expect_errno)
		run_report_fail(c->r, "expected %s, but the STE was accepted",
				run_errno_name(st->expect_errno));
}

static size_t cmd_describe(const struct run_cmd *rc, char *buf, size_t len)
{
	const struct guest_cmd *g = &rc->c;
	const char *name = guest_cmd_name(g->op);
	size_t n;

	if (rc->raw)
		return (size_t)snprintf(buf, len, "raw 0x%llx 0x%llx",
					(unsigned long long)rc->words[0],
					(unsigned long long)rc->words[1]);
	if (g->op == GUEST_CMD_CFGI_STE_RANGE && g->range == 31)
		name = "CFGI_ALL";
	n = (size_t)snprintf(buf, len, "%s", name ? name : "?");
#define FLD(cond, ...)                                                        \
	do {                                                                  \
		if ((cond) && n < len)                                        \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
	} while (0)
	switch (g->op) {
	case GUEST_CMD_CFGI_STE:
	case GUEST_CMD_CFGI_CD:
	case GUEST_CMD_CFGI_CD_ALL:
	case GUEST_CMD_ATC_INV:
	case GUEST_CMD_PREFETCH_CONFIG:
	case GUEST_CMD_PREFETCH_ADDR:
	case GUEST_CMD_RESUME:
	case GUEST_CMD_STALL_TERM:
	case GUEST_CMD_PRI_RESP:
		FLD(1, " SID 0x%x", g->sid);
		break;
	case GUEST_CMD_CFGI_STE_RANGE:
		FLD(g->range != 31, " SID 0x%x range %u", g->sid, g->range);
		break;
	}
	FLD(g->op == GUEST_CMD_CFGI_CD || g->ssv, " SSID %u", g->ssid);
	FLD(g->asid, " ASID %u", g->asid);
	FLD(g->vmid, " VMID %u", g->vmid);
	FLD(g->addr, " 0x%llx", (unsigned long long)g->addr);
	FLD(g->num || g->scale, " (%u << %u pages)", g->num + 1, g->scale);
	FLD(g->tg, " TG %s", g->tg == 1 ? "4K" : g->tg == 2 ? "16K" : "64K");
	FLD(g->ttl, " TTL %u", g->ttl);
	FLD(g->leaf, " leaf");
	FLD(g->ssec, " SSec");
#undef FLD
	return n;
}

static void step_invalidate(struct run_ctx *c, const struct run_step *st)
{
	struct iommu_viommu_arm_smmuv3_invalidate *arr;
	struct iommu_hwpt_invalidate inv = {
		.size = sizeof(inv),
		.hwpt_id = c->viommu,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(*arr),
		.entry_num = st->nr_cmds,
	};
	char list[512];
	size_t n = 0;
	json_t *cmds = json_array();
	int ret;

	arr = calloc(st->nr_cmds, sizeof(*arr));
	inv.data_uptr = (uintptr_t)arr;
	if (!arr) {
		json_decref(cmds);
		run_report_fail(c->r, "out of memory");
		return;
	}
	for (unsigned int i = 0; i < st->nr_cmds; i++) {
		uint64_t w[2];

		if (st->cmds[i].raw) {
			w[0] = st->cmds[i].words[0];
			w[1] = st->cmds[i].words[1];
		} else if (guest_cmd_encode(&st->cmds[i].c, w)) {
			run_report_fail(c->r, "command %u cannot be encoded", i);
			free(arr);
			json_decref(cmds);
			return;
		}
		arr[i].cmd[0] = htole64(w[0]);
		arr[i].cmd[1] = htole64(w[1]);
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s", i ? ", " : "");
		if (n < sizeof(list))
			n += cmd_describe(&st->cmds[i], list + n, sizeof(list) - n);
		json_array_append_new(cmds,
				      json_pack("[o, o]", run_json_hex(w[0]), run_json_hex(w[1])));
		run_report_verbose(c->r, "command %u: 0x%016llx 0x%016llx", i,
				   (unsigned long long)w[0], (unsigned long long)w[1]);
	}
	if (c->vsm) {
		uint64_t(*cw)[2] = (uint64_t(*)[2])arr;

		for (unsigned int i = 0; i < st->nr_cmds; i++) {
			cw[i][0] = le64toh(arr[i].cmd[0]);
			cw[i][1] = le64toh(arr[i].cmd[1]);
		}
		json_object_set_new(run_report_step_json(c->r), "commands", cmds);
		run_vsmmu_invalidate(c, st, (const uint64_t(*)[2])cw, st->nr_cmds, list);
		free(arr);
		return;
	}
	ret = run_ioc(c, IOMMU_HWPT_INVALIDATE, &inv);
	free(arr);
	json_object_set_new(run_report_step_json(c->r), "commands", cmds);
	json_object_set_new(run_report_step_json(c->r), "handled", json_integer(inv.entry_num));
	run_report_summary(c->r, "%s: %u of %u handled%s%s", list, inv.entry_num, st->nr_cmds,
			   ret ? ", " : "", ret ? run_errno_name(ret) : "");
	if (st->expect_errno) {
		if (ret != -st->expect_errno)
			run_report_fail(c->r, "expected %s, got %s",
					run_errno_name(st->expect_errno),
					ret ? run_errno_name(ret) : "success");
		else if (st->expect_handled >= 0 &&
			 inv.entry_num != (unsigned int)st->expect_handled)
			run_report_fail(c->r, "expected %d handled, got %u", st->expect_handled,
					inv.entry_num);
	} else if (ret) {
		run_report_fail(c->r, "IOMMU_HWPT_INVALIDATE: %s (%s), %u of %u handled",
				strerror(-ret), run_errno_name(ret), inv.entry_num, st->nr_cmds);
	} else if (inv.entry_num !=
		   (st->expect_handled >= 0 ? (unsigned int)st->expect_handled : st->nr_cmds)) {
		run_report_fail(c->r, "%u of %u handled", inv.entry_num, st->nr_cmds);
	}
}

/* ---------------------------------------------------------------------- */
/* Expectations about events                                              */

static bool event_matches(const struct run_expect_event *x, const struct run_event *ev, char *why,
			  size_t len)
{
	const struct smmuv3_evt *e = &ev->e;

	if (ev->lost) {
		snprintf(why, len, "events were lost (LOST_EVENTS)");
		return false;
	}
	if (x->type >= 0 && (unsigned int)x->type != e->type) {
		snprintf(why, len, "type %s, expected %s", run_evt_name(e->type),
			 run_evt_name((unsigned int)x->type));
		return false;
	}
	if (x->has_sid && x->sid != e->sid) {
		snprintf(why, len, "SID 0x%x, expected 0x%x", e->sid, x->sid);
		return false;
	}
	if (x->has_ssid && (!e->ssv || x->ssid != e->ssid)) {
		snprintf(why, len, "%s, expected SSID %u", e->ssv ? "another SSID" : "no SSID",
			 x->ssid);
		return false;
	}
	if (x->has_addr && x->addr != e->input) {
		snprintf(why, len, "address 0x%llx, expected 0x%llx", (unsigned long long)e->input,
			 (unsigned long long)x->addr);
		return false;
	}
	if (x->has_ipa && x->ipa != e->ipa) {
		snprintf(why, len, "IPA 0x%llx, expected 0x%llx", (unsigned long long)e->ipa,
			 (unsigned long long)x->ipa);
		return false;
	}
	if (x->has_fetch && x->fetch != e->fetch) {
		snprintf(why, len, "fetch address 0x%llx, expected 0x%llx",
			 (unsigned long long)e->fetch, (unsigned long long)x->fetch);
		return false;
	}
	if (x->stage && x->stage != (e->s2 ? 2 : 1)) {
		snprintf(why, len, "stage %d, expected %d", e->s2 ? 2 : 1, x->stage);
		return false;
	}
	if (x->cls >= 0 && (unsigned int)x->cls != e->cls) {
		snprintf(why, len, "class %s, expected %s", smmuv3_evt_class_name(e->cls),
			 smmuv3_evt_class_name((unsigned int)x->cls));
		return false;
	}
	if (x->access >= 0 && (x->access == PT_PROT_R) != e->rnw) {
		snprintf(why, len, "a %s, expected a %s", e->rnw ? "read" : "write",
			 x->access == PT_PROT_R ? "read" : "write");
		return false;
	}
	if (x->stall >= 0 && x->stall != e->stall) {
		snprintf(why, len, "%sstalled", e->stall ? "" : "not ");
		return false;
	}
	return true;
}

static void step_expect_event(struct run_ctx *c, const struct run_step *st)
{
	const struct run_expect_event *x = &st->xev;
	const char *q = x->queue != RQ_VEVENTQ ? "host log" : c->vsm ? "guest EVTQ" : "vEVENTQ";
	struct run_event *ev = NULL;
	char why[200], line[300];

	run_drain_all(c);
	for (size_t i = 0; i < c->nev; i++) {
		if (!c->ev[i].consumed && c->ev[i].queue == x->queue) {
			ev = &c->ev[i];
			break;
		}
	}
	if (x->none) {
		run_report_summary(c->r, "%s: nothing (more)", q);
		if (ev) {
			smmuv3_evt_format(&ev->e, "SID", line, sizeof(line));
			run_report_fail(c->r, "expected no event, the %s has %s", q,
					ev->lost ? "a LOST_EVENTS header" : line);
			ev->consumed = true;
		}
		return;
	}
	if (!ev) {
		run_report_summary(c->r, "%s: %s", q,
				   x->type >= 0 ? run_evt_name((unsigned int)x->type) : "an event");
		run_report_fail(c->r, "expected %s in the %s, it has none",
				x->type >= 0 ? run_evt_name((unsigned int)x->type) : "an event", q);
		return;
	}
	ev->consumed = true;
	if (ev->lost)
		snprintf(line, sizeof(line), "LOST_EVENTS");
	else
		smmuv3_evt_format(&ev->e, x->queue == RQ_VEVENTQ ? "vSID" : "SID", line,
				  sizeof(line));
	if (ev->queue == RQ_VEVENTQ)
		run_report_summary(c->r, "%s #%u: %s", q, ev->seq, line);
	else
		run_report_summary(c->r, "%s: %s", q, line);
	json_object_set_new(run_report_step_json(c->r), "event", run_evt_json(ev));
	if (!event_matches(x, ev, why, sizeof(why)))
		run_report_fail(c->r, "the %s's next event has %s", q, why);
}

static struct run_pr *next_request(struct run_ctx *c)
{
	for (size_t i = 0; i < c->npr; i++)
		if (!c->pr[i].consumed)
			return &c->pr[i];
	return NULL;
}

static void step_expect_page_request(struct run_ctx *c, const struct run_step *st)
{
	const struct run_expect_event *x = &st->xev;
	uint64_t deadline = run_now_ms() + c->opts->timeout_ms;
	struct iommu_hwpt_pgfault *pf;
	struct run_pr *pr;

	run_drain_all(c);
	while (!(pr = next_request(c)) && run_fault_fd(c) >= 0) {
		struct pollfd p = {.fd = run_fault_fd(c), .events = POLLIN};
		uint64_t now = run_now_ms();

		if (now >= deadline)
			break;
		if (poll(&p, 1, (int)(deadline - now)) > 0)
			run_drain_all(c);
	}
	if (!pr) {
		run_report_summary(c->r, "fault queue: nothing within %u ms", c->opts->timeout_ms);
		run_report_fail(c->r, "expected a page request, none came");
		return;
	}
	pr->consumed = true;
	pf = &pr->pf;
	if (c->vsm)
		run_report_summary(c->r, "guest EVTQ: stall, %s at 0x%llx, STAG %u",
				   pf->perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read",
				   (unsigned long long)pf->addr, pf->grpid);
	else
		run_report_summary(c->r, "fault queue: %s at 0x%llx, cookie %u",
				   pf->perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read",
				   (unsigned long long)pf->addr, pf->cookie);
	if (st->dev >= 0 && pf->dev_id != run_machine_dev_id(c->m, (unsigned int)st->dev))
		run_report_fail(c->r, "the request is device %u's, expected %s's (device %u)",
				pf->dev_id, c->sc->m.devices[st->dev].name,
				run_machine_dev_id(c->m, (unsigned int)st->dev));
	else if (x->has_addr && pf->addr != x->addr)
		run_report_fail(c->r, "the request is for 0x%llx, expected 0x%llx",
				(unsigned long long)pf->addr, (unsigned long long)x->addr);
	else if (x->access >= 0 &&
		 !!(pf->perm & IOMMU_PGFAULT_PERM_WRITE) != (x->access == PT_PROT_W))
		run_report_fail(c->r, "the request is a %s, expected a %s",
				pf->perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read",
				x->access == PT_PROT_W ? "write" : "read");
	else if (x->has_ssid &&
		 (!(pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) || pf->pasid != x->ssid))
		run_report_fail(c->r, "the request has %s, expected PASID %u",
				pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID ? "another PASID"
									    : "no PASID",
				x->ssid);
}

static void step_page_response(struct run_ctx *c, const struct run_step *st)
{
	struct run_pr *pr = NULL;
	int ret;

	for (size_t i = 0; i < c->npr; i++) {
		if (c->pr[i].consumed && !c->pr[i].answered) {
			pr = &c->pr[i];
			break;
		}
	}
	if (!pr) {
		run_report_fail(c->r, "no page request waits for an answer");
		return;
	}
	if (c->vsm)
		run_report_summary(c->r, "STAG %u (0x%llx): CMD_RESUME %s + CMD_SYNC", pr->pf.grpid,
				   (unsigned long long)pr->pf.addr,
				   st->code == IOMMUFD_PAGE_RESP_SUCCESS ? "Retry" : "Abort");
	else
		run_report_summary(c->r, "cookie %u (0x%llx): %s", pr->pf.cookie,
				   (unsigned long long)pr->pf.addr,
				   st->code == IOMMUFD_PAGE_RESP_SUCCESS
					   ? "SUCCESS: retry the access"
					   : "INVALID: abort it");
	ret = run_answer_pr(c, pr, st->code);
	if (ret)
		run_report_fail(c->r, "%s: %s", c->vsm ? "CMD_RESUME" : "write to the fault queue",
				strerror(-ret));
}

/* ---------------------------------------------------------------------- */
/* Interrupts                                                             */

static void step_msi(struct run_ctx *c, const struct run_step *st)
{
	unsigned int dev = (unsigned int)st->dev;
	struct dmatest *dt = run_machine_dmatest(c->m, dev);
	uint64_t entry = DMATEST_MSIX_TABLE + 16ULL * st->vector, ctrl = 0;
	uint64_t addr = st->addr + MSI_DOORBELL_TRANSLATER;
	int ret = 0;

	if (c->efd[st->event] < 0) {
		c->efd[st->event] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->efd[st->event] < 0)
			ret = -errno;
		if (!ret)
			ret = msi_doorbell_set_eventfd(run_machine_doorbell(c->m), st->event,
						       c->efd[st->event]);
	}
	if (!ret)
		ret = run_reg_wr(c, dev, entry + PCI_MSIX_ENTRY_LOWER_ADDR, 8, addr);
	if (!ret)
		ret = run_reg_wr(c, dev, entry + PCI_MSIX_ENTRY_DATA, 4, st->event);
	if (!ret)
		ret = run_reg_wr(c, dev, entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	if (!ret)
		ret = dmatest_cfg_write(dt, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2,
					PCI_MSIX_FLAGS_ENABLE);
	if (!ret)
		ret = run_reg_rd(c, dev, DMATEST_REG_CTRL, 4, &ctrl);
	if (!ret)
		ret = run_reg_wr(
			c, dev, DMATEST_REG_CTRL, 4,
			ctrl | (st->vector ? DMATEST_CTRL_IRQ_ERR : DMATEST_CTRL_IRQ_DONE));
	run_report_summary(c->r,
			   "%s MSI-X vector %u (%s interrupt): write %u to 0x%llx, doorbell event "
			   "%u",
			   c->sc->m.devices[dev].name, st->vector,
			   st->vector ? "error" : "completion", st->event, (unsigned long long)addr,
			   st->event);
	if (ret)
		run_report_fail(c->r, "cannot program the vector: %s", strerror(-ret));
}

static void step_expect_irq(struct run_ctx *c, const struct run_step *st)
{
	uint64_t got;

	run_drain_all(c);
	got = c->irqs[st->event];
	c->irqs[st->event] = 0;
	run_report_summary(c->r, "doorbell event %u: %llu interrupt%s since the last check",
			   st->event, (unsigned long long)got, got == 1 ? "" : "s");
	if (got != st->count)
		run_report_fail(c->r, "expected %llu interrupt%s, got %llu",
				(unsigned long long)st->count, st->count == 1 ? "" : "s",
				(unsigned long long)got);
}

static void step_stats(struct run_ctx *c, const struct run_step *st)
{
	unsigned int n = run_stat_count();
	uint64_t *now = calloc(n + 2, sizeof(*now)), *d = calloc(n + 2, sizeof(*d));
	char lines[8][200];
	unsigned int nl;

	if (!now || !d) {
		free(now);
		free(d);
		run_report_fail(c->r, "out of memory");
		return;
	}
	run_stats_snapshot(c, now);
	for (unsigned int i = 0; i < n; i++)
		d[i] = now[i] - c->stats_last[i];
	memcpy(c->stats_last, now, n * sizeof(*now));
	if (c->stats_step)
		run_report_summary(c->r, "since step %u:", c->stats_step);
	else
		run_report_summary(c->r, "since boot:");
	c->stats_step = c->step;
	nl = run_stats_lines(d, lines);
	for (unsigned int i = 0; i < nl; i++)
		run_report_detail(c->r, "%s", lines[i]);
	json_object_set_new(run_report_step_json(c->r), "stats", run_stats_json(d));
	for (unsigned int i = 0; i < st->nr_stats; i++) {
		const struct run_stat_expect *x = &st->stats[i];

		if (d[x->id] != x->value) {
			run_report_fail(c->r, "%s: expected %llu, got %llu", run_stat_names[x->id],
					(unsigned long long)x->value, (unsigned long long)d[x->id]);
			break;
		}
	}
	free(now);
	free(d);
}

/* ---------------------------------------------------------------------- */

void run_exec_step(struct run_ctx *c, const struct run_step *st)
{
	if (c->sc->m.vfio) {
		switch (st->kind) {
		case RS_MAP:
		case RS_UNMAP:
			run_vfio_step_map(c, st);
			return;
		case RS_STE:
			run_vfio_step_ste(c, st);
			return;
		case RS_INVALIDATE:
			run_vfio_step_invalidate(c, st);
			return;
		case RS_MSI:
			run_vfio_step_msi(c, st);
			return;
		default:
			break;
		}
	}
	switch (st->kind) {
	case RS_EXPECT_FAULT:
		run_vfio_step_expect_fault(c, st);
		break;
	case RS_MAP:
	case RS_UNMAP:
		step_map(c, st);
		break;
	case RS_WRITE:
	case RS_CHECK:
		step_bytes(c, st);
		break;
	case RS_GUEST_MAP:
	case RS_GUEST_UNMAP:
		step_guest_map(c, st);
		break;
	case RS_CD:
		step_cd(c, st);
		break;
	case RS_STE:
		step_ste(c, st);
		break;
	case RS_INVALIDATE:
		step_invalidate(c, st);
		break;
	case RS_DMA:
		step_dma(c, st);
		break;
	case RS_DMA_WAIT:
		step_dma_wait(c, st);
		break;
	case RS_EXPECT_EVENT:
		step_expect_event(c, st);
		break;
	case RS_EXPECT_PAGE_REQUEST:
		step_expect_page_request(c, st);
		break;
	case RS_PAGE_RESPONSE:
		step_page_response(c, st);
		break;
	case RS_MSI:
		step_msi(c, st);
		break;
	case RS_EXPECT_IRQ:
		step_expect_irq(c, st);
		break;
	case RS_STATS:
		step_stats(c, st);
		break;
	case RS_NR:
		break;
	}
}
