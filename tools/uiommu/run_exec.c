// SPDX-License-Identifier: MIT
/*
 * run_exec.c - `uiommu run`: the program is the VMM.
 *
 * It does what a VMM offering a vSMMU does, through the public iommufd API
 * only (uiommu_open() / uiommu_ioctl() / uiommu_read() / uiommu_write() on
 * /dev/iommu and the files it hands out): IOAS_ALLOC, IOAS_MAP of guest
 * RAM at IOVA = GPA (the stage 2), HWPT_ALLOC of a NEST_PARENT stage 2,
 * VIOMMU_ALLOC (ARM_SMMUV3), VDEVICE_ALLOC (vSID per device),
 * VEVENTQ_ALLOC, FAULT_QUEUE_ALLOC, HWPT_ALLOC of nested HWPTs from the
 * guest's STE words, HWPT_INVALIDATE of the guest's raw commands on the
 * vIOMMU, read() of vEVENTs and page requests, write() of page responses.
 * The devices are bound and attached by run_machine.c (the VFIO cdev's
 * part) and driven through their BAR0 registers and configuration space
 * only: a DMA is what the device does when the driver rings GO.
 *
 * The guest lives in lib/vmm: guest RAM with its allocator, stage-1 tables
 * built in that RAM by lib/pt, CDs and STE words and commands encoded
 * from the architecture. The guest CPU's accesses to its RAM (write and
 * check steps) are plain loads and stores of the host buffers.
 *
 * Threads: the main thread runs the script. Every DMA runs on a thread of
 * its own (a device's engine: the GO write blocks until the operation
 * ends), so that a transaction stalled by the SMMU can wait for the page
 * response that a later step writes. The main thread waits for a DMA with
 * poll() on an eventfd the thread signals, together with the fault queue:
 * a page request that a waited-for DMA raises is reported at once (and
 * answered INVALID so the DMA ends) instead of hanging. Waits are bounded
 * (opts->timeout_ms). The driver's event log callback may run on any DMA
 * thread; its records go through a mutex-protected list.
 *
 * Events: after every step (and while waiting) the runner drains the
 * vEVENTQ, the fault queue, the driver's event log (the host's records:
 * the ones no program receives) and the doorbell's eventfds. Each event is
 * reported under the step it arrived in, and each must be consumed by an
 * expect_event / expect_page_request step: anything left at the end fails
 * the run, as an unexpected fault should.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <uiommu/uiommu.h>

#include "dev/dmatest/dmatest.h"
#include "dev/msi_doorbell.h"
#include "hw/smmuv3/smmuv3.h"
#include "hw/smmuv3/smmuv3_iommu.h"
#include "parse.h"
#include "run_exec.h"
#include "run_machine.h"
#include "run_report.h"
#include "util/bits.h"
#include "vmm/guest_mem.h"
#include "vmm/guest_smmuv3.h"
#include "vmm/smmuv3_evt.h"
#include "xlate/cache.h"

#define VEVENTQ_DEPTH 64

struct run_event {
	enum run_queue queue;
	struct smmuv3_evt e;
	uint32_t seq;	   /* vEVENTQ: the header's sequence */
	bool lost;	   /* vEVENTQ: a LOST_EVENTS header */
	unsigned int step; /* arrived during this step (0: boot) */
	bool consumed;
};

struct run_pr {
	struct iommu_hwpt_pgfault pf;
	unsigned int step;
	bool consumed, answered;
};

struct hostlog {
	uint64_t evt[4];
	enum smmuv3_evt_route route;
};

struct dma_job {
	pthread_t th;
	bool running;
	int efd; /* signalled when the GO write returned */
	struct dmatest *dt;
	int go_ret;
	unsigned int step;
};

struct run_dev {
	uint32_t hwpt;	   /* the nested HWPT of its last ste step (0: the boot one) */
	uint64_t cd_table; /* GPA of its CD table (0: none yet) */
	struct dma_job job;
};

struct run_ctx {
	const struct run_sc *sc;
	const struct run_opts *opts;
	struct run_report *r;
	unsigned int step; /* 1-based index of the step running */

	struct uiommu_file *iommufd;
	struct run_machine *m;
	struct guest_mem gm;
	struct guest_s1 s1[RUN_MAX_TABLES];
	uint32_t ioas, s2hwpt, viommu, abort_hwpt, veventq_id, fault_id;
	struct uiommu_file *veventq, *faultq;
	struct run_dev dev[RUN_MAX_DEVICES];

	int efd[RUN_MSI_EVENTS];       /* doorbell event -> eventfd (-1: none) */
	uint64_t irqs[RUN_MSI_EVENTS]; /* signals not yet taken by expect_irq */

	pthread_mutex_t log_lock;
	struct hostlog *log; /* the driver's records, from any thread */
	size_t nlog, caplog;

	struct run_event *ev;
	size_t nev, capev;
	struct run_pr *pr;
	size_t npr, cappr;

	uint64_t *stats_last;
	unsigned int stats_step; /* the last stats step (0: none yet) */
};

/* ---------------------------------------------------------------------- */
/* Small things                                                           */

static int ioc(struct run_ctx *c, unsigned long req, void *arg)
{
	return uiommu_ioctl(c->iommufd, req, arg) ? -errno : 0;
}

static const char *errno_name(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = {
		{EPERM, "EPERM"},	  {ENOENT, "ENOENT"},	      {EIO, "EIO"},
		{E2BIG, "E2BIG"},	  {ENOMEM, "ENOMEM"},	      {EFAULT, "EFAULT"},
		{EBUSY, "EBUSY"},	  {EEXIST, "EEXIST"},	      {ENODEV, "ENODEV"},
		{EINVAL, "EINVAL"},	  {ENOSPC, "ENOSPC"},	      {ERANGE, "ERANGE"},
		{EOVERFLOW, "EOVERFLOW"}, {EOPNOTSUPP, "EOPNOTSUPP"}, {EADDRINUSE, "EADDRINUSE"},
		{ETIMEDOUT, "ETIMEDOUT"}, {EAGAIN, "EAGAIN"},
	};

	e = e < 0 ? -e : e;
	for (unsigned int i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i].e == e)
			return t[i].n;
	return "an errno";
}

/* "8K", "16 bytes", "0x1800 bytes". */
static const char *sz(uint64_t v, char *b)
{
	if (v < 1024)
		snprintf(b, 32, "%llu byte%s", (unsigned long long)v, v == 1 ? "" : "s");
	else if (v & 1023)
		snprintf(b, 32, "0x%llx bytes", (unsigned long long)v);
	else
		size_str(v, b, 32);
	return b;
}

static const char *evt_name(unsigned int type)
{
	const char *n = smmuv3_evt_name(type);

	return type == 0 ? "abort (no event)" : n ? n : "an unknown event";
}

static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	void *p;

	if (n < *cap)
		return arr;
	p = realloc(arr, (*cap ? *cap * 2 : 16) * elem);
	if (p)
		*cap = *cap ? *cap * 2 : 16;
	return p;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* BAR0 and configuration space of a device, as its driver accesses them. */
static int reg_rd(struct run_ctx *c, unsigned int dev, uint64_t off, unsigned int size, uint64_t *v)
{
	*v = 0;
	return dmatest_bar_read(run_machine_dmatest(c->m, dev), 0, off, size, v);
}

static int reg_wr(struct run_ctx *c, unsigned int dev, uint64_t off, unsigned int size, uint64_t v)
{
	return dmatest_bar_write(run_machine_dmatest(c->m, dev), 0, off, size, v);
}

/* ---------------------------------------------------------------------- */
/* Events                                                                 */

/* The driver's event log: any thread, under its event lock. */
static void evt_log(void *opaque, const uint64_t evt[4], enum smmuv3_evt_route route)
{
	struct run_ctx *c = opaque;
	struct hostlog *l;

	pthread_mutex_lock(&c->log_lock);
	l = grow(c->log, &c->caplog, c->nlog, sizeof(*c->log));
	if (l) {
		c->log = l;
		memcpy(c->log[c->nlog].evt, evt, sizeof(c->log[0].evt));
		c->log[c->nlog].route = route;
		c->nlog++;
	}
	pthread_mutex_unlock(&c->log_lock);
}

static json_t *evt_json(const struct run_event *ev)
{
	const struct smmuv3_evt *e = &ev->e;
	const char *name = smmuv3_evt_name(e->type);
	json_t *o;

	if (ev->lost)
		return json_pack("{s:s, s:b}", "queue", "veventq", "lost_events", 1);
	o = json_pack("{s:s, s:s, s:i, s:o, s:o}", "queue",
		      ev->queue == RQ_VEVENTQ ? "veventq" : "host", "type", name ? name : "unknown",
		      "code", (int)e->type, "sid", run_json_hex(e->sid), "raw",
		      json_pack("[o, o, o, o]", run_json_hex(e->raw[0]), run_json_hex(e->raw[1]),
				run_json_hex(e->raw[2]), run_json_hex(e->raw[3])));
	if (ev->queue == RQ_VEVENTQ)
		json_object_set_new(o, "sequence", json_integer(ev->seq));
	if (e->ssv)
		json_object_set_new(o, "ssid", json_integer(e->ssid));
	if (smmuv3_evt_has_addr(e->type)) {
		json_object_set_new(o, "addr", run_json_hex(e->input));
		json_object_set_new(o, "access", json_string(e->rnw ? "read" : "write"));
	}
	if (smmuv3_evt_has_stage(e->type)) {
		json_object_set_new(o, "stage", json_integer(e->s2 ? 2 : 1));
		json_object_set_new(o, "class", json_string(smmuv3_evt_class_name(e->cls)));
		if (e->s2)
			json_object_set_new(o, "ipa", run_json_hex(e->ipa));
	}
	if (smmuv3_evt_has_fetch(e->type))
		json_object_set_new(o, "fetch", run_json_hex(e->fetch));
	if (e->stall)
		json_object_set_new(o, "stag", json_integer(e->stag));
	return o;
}

static void add_event(struct run_ctx *c, const struct run_event *ev)
{
	struct run_event *arr = grow(c->ev, &c->capev, c->nev, sizeof(*c->ev));
	char line[320];
	size_t n;

	if (!arr) {
		run_report_fail_run(c->r, "out of memory keeping events");
		return;
	}
	c->ev = arr;
	c->ev[c->nev++] = *ev;
	if (ev->lost) {
		snprintf(line, sizeof(line), "event  vEVENTQ: events were lost (LOST_EVENTS)");
	} else {
		n = (size_t)snprintf(line, sizeof(line), "event  %s",
				     ev->queue == RQ_VEVENTQ ? "vEVENTQ" : "host log");
		if (ev->queue == RQ_VEVENTQ)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " #%u", ev->seq);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ": ");
		if (n < sizeof(line))
			smmuv3_evt_format(&ev->e, ev->queue == RQ_VEVENTQ ? "vSID" : "SID",
					  line + n, sizeof(line) - n);
	}
	run_report_event(c->r, evt_json(ev), line);
}

static void drain_vevents(struct run_ctx *c)
{
	struct {
		struct iommufd_vevent_header hdr;
		struct iommu_vevent_arm_smmuv3 rec;
	} buf;
	ssize_t n;

	if (!c->veventq)
		return;
	while ((n = uiommu_read(c->veventq, &buf, sizeof(buf))) > 0) {
		struct run_event ev = {.queue = RQ_VEVENTQ, .step = c->step};
		uint64_t w[4];

		ev.seq = buf.hdr.sequence;
		if (buf.hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS || n < (ssize_t)sizeof(buf)) {
			ev.lost = true;
		} else {
			for (unsigned int i = 0; i < 4; i++)
				w[i] = le64toh(buf.rec.evt[i]);
			smmuv3_evt_decode(w, &ev.e);
		}
		add_event(c, &ev);
	}
}

static void drain_hostlog(struct run_ctx *c)
{
	struct hostlog *log;
	size_t n;

	pthread_mutex_lock(&c->log_lock);
	log = c->log;
	n = c->nlog;
	c->log = NULL;
	c->nlog = c->caplog = 0;
	pthread_mutex_unlock(&c->log_lock);
	for (size_t i = 0; i < n; i++) {
		struct run_event ev = {.queue = RQ_HOST, .step = c->step};

		/* vEVENTs and page requests reach a program; the rest only the host's log. */
		if (log[i].route == SMMUV3_EVT_VEVENT || log[i].route == SMMUV3_EVT_IOPF)
			continue;
		smmuv3_evt_decode(log[i].evt, &ev.e);
		add_event(c, &ev);
	}
	free(log);
}

static void add_pr(struct run_ctx *c, const struct iommu_hwpt_pgfault *pf)
{
	struct run_pr *arr = grow(c->pr, &c->cappr, c->npr, sizeof(*c->pr));
	const char *dev = "?";
	char line[240];
	json_t *o;

	if (!arr) {
		run_report_fail_run(c->r, "out of memory keeping page requests");
		return;
	}
	c->pr = arr;
	c->pr[c->npr++] = (struct run_pr){.pf = *pf, .step = c->step};
	for (unsigned int i = 0; i < c->sc->m.nr_devices; i++)
		if (run_machine_dev_id(c->m, i) == pf->dev_id)
			dev = c->sc->m.devices[i].name;
	snprintf(line, sizeof(line),
		 "page request: %s (dev %u) %s at 0x%llx%s%.0u%s, group %u, cookie %u", dev,
		 pf->dev_id, pf->perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read",
		 (unsigned long long)pf->addr,
		 pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID ? ", PASID " : "",
		 pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID ? pf->pasid : 0,
		 pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID ? "" : "", pf->grpid, pf->cookie);
	if (pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) {
		/* %.0u prints nothing for 0: spell the PASID out. */
		snprintf(line, sizeof(line),
			 "page request: %s (dev %u) %s at 0x%llx, PASID %u, group %u, cookie %u",
			 dev, pf->dev_id, pf->perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read",
			 (unsigned long long)pf->addr, pf->pasid, pf->grpid, pf->cookie);
	}
	o = json_pack("{s:s, s:s, s:i, s:o, s:s, s:i, s:i}", "queue", "fault", "device", dev,
		      "dev_id", (int)pf->dev_id, "addr", run_json_hex(pf->addr), "access",
		      pf->perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read", "group",
		      (int)pf->grpid, "cookie", (int)pf->cookie);
	if (pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID)
		json_object_set_new(o, "pasid", json_integer(pf->pasid));
	run_report_event(c->r, o, line);
}

static void drain_faults(struct run_ctx *c)
{
	struct iommu_hwpt_pgfault pf;

	if (!c->faultq)
		return;
	while (uiommu_read(c->faultq, &pf, sizeof(pf)) == sizeof(pf))
		add_pr(c, &pf);
}

static void drain_irqs(struct run_ctx *c)
{
	for (unsigned int i = 0; i < RUN_MSI_EVENTS; i++) {
		uint64_t v;

		if (c->efd[i] < 0 || read(c->efd[i], &v, sizeof(v)) != sizeof(v))
			continue;
		c->irqs[i] += v;
		run_report_detail(c->r, "interrupt: doorbell event %u x%llu", i,
				  (unsigned long long)v);
	}
}

static void drain_all(struct run_ctx *c)
{
	drain_vevents(c);
	drain_hostlog(c);
	drain_faults(c);
	drain_irqs(c);
}

/* ---------------------------------------------------------------------- */
/* DMA                                                                    */

static void *job_thread(void *arg)
{
	struct dma_job *j = arg;
	uint64_t one = 1;

	j->go_ret = dmatest_bar_write(j->dt, 0, DMATEST_REG_GO, 4, 1);
	if (write(j->efd, &one, sizeof(one)) != sizeof(one))
		j->go_ret = j->go_ret ? j->go_ret : -EIO;
	return NULL;
}

static int job_start(struct run_ctx *c, unsigned int dev)
{
	struct dma_job *j = &c->dev[dev].job;
	int ret;

	j->dt = run_machine_dmatest(c->m, dev);
	j->step = c->step;
	j->go_ret = 0;
	if (j->efd < 0)
		j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (j->efd < 0)
		return -errno;
	ret = pthread_create(&j->th, NULL, job_thread, j);
	if (ret)
		return -ret;
	j->running = true;
	return 0;
}

static void job_join(struct dma_job *j)
{
	uint64_t v;

	if (!j->running)
		return;
	pthread_join(j->th, NULL);
	j->running = false;
	if (read(j->efd, &v, sizeof(v)) < 0)
		v = 0;
}

/*
 * Wait for the DMA of @dev, collecting page requests meanwhile. @sync: the
 * step waits for its own DMA; a page request of this device then means
 * the DMA stalled: reported, answered INVALID so that it ends.
 * 0 (joined), or -ETIMEDOUT.
 */
static int job_wait(struct run_ctx *c, unsigned int dev, bool sync)
{
	struct dma_job *j = &c->dev[dev].job;
	uint64_t deadline = now_ms() + c->opts->timeout_ms;
	uint32_t dev_id = run_machine_dev_id(c->m, dev);

	while (j->running) {
		struct pollfd p[2] = {{.fd = j->efd, .events = POLLIN}};
		unsigned int nfds = 1;
		uint64_t now = now_ms();
		int n;

		if (c->faultq)
			p[nfds++] =
				(struct pollfd){.fd = uiommu_file_fd(c->faultq), .events = POLLIN};
		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(p, nfds, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			job_join(j);
			break;
		}
		if (nfds > 1 && (p[1].revents & POLLIN)) {
			size_t first = c->npr;

			drain_faults(c);
			for (size_t i = first; sync && i < c->npr; i++) {
				struct iommu_hwpt_page_response resp = {
					.cookie = c->pr[i].pf.cookie,
					.code = IOMMUFD_PAGE_RESP_INVALID,
				};

				if (c->pr[i].pf.dev_id != dev_id)
					continue;
				run_report_fail(c->r,
						"the DMA stalled (page request for 0x%llx): a DMA "
						"that stalls needs \"wait\": false and a "
						"page_response; answered INVALID",
						(unsigned long long)c->pr[i].pf.addr);
				c->pr[i].consumed = c->pr[i].answered = true;
				if (uiommu_write(c->faultq, &resp, sizeof(resp)) != sizeof(resp))
					return -errno;
			}
		}
	}
	return 0;
}

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
	if (reg_rd(c, dev, DMATEST_REG_STATUS, 4, &status) ||
	    reg_rd(c, dev, DMATEST_REG_FAULT_IOVA, 8, &fiova) ||
	    reg_rd(c, dev, DMATEST_REG_FAULT_INFO, 4, &finfo) ||
	    reg_rd(c, dev, DMATEST_REG_DONE_BYTES, 8, &done)) {
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
		snprintf(got, gotlen, "done, %s moved", sz(done, b));
		what = "done";
	} else if (err == DMATEST_ERR_DMA_FAULT || err == DMATEST_ERR_MSI_FAULT) {
		snprintf(got, gotlen, "%s%s at 0x%llx (%s, %s), %s moved before it",
			 err == DMATEST_ERR_MSI_FAULT ? "MSI write fault: " : "fault ",
			 evt_name(reason), (unsigned long long)fiova,
			 access == PT_PROT_W ? "write" : "read", errno_name((int)ferrno),
			 sz(done, b));
		what = "fault";
		json_object_set_new(
			o, "fault",
			json_pack("{s:s, s:i, s:o, s:s, s:s}", "type",
				  reason ? (smmuv3_evt_name(reason) ? smmuv3_evt_name(reason)
								    : "unknown")
					 : "abort",
				  "reason", (int)reason, "addr", run_json_hex(fiova), "access",
				  access == PT_PROT_W ? "write" : "read", "errno",
				  errno_name((int)ferrno)));
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
					evt_name((unsigned int)x->fault), got);
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
	reg_wr(c, dev, DMATEST_REG_STATUS, 4, DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR);
}

static void describe_dma(const struct run_step *st, char *buf, size_t len)
{
	char b[32];

	switch (st->op) {
	case RUN_DMA_READ:
		snprintf(buf, len, "READ 0x%llx -> buffer, %s", (unsigned long long)st->src,
			 sz(st->len, b));
		break;
	case RUN_DMA_WRITE:
		snprintf(buf, len, "WRITE buffer -> 0x%llx, %s", (unsigned long long)st->dst,
			 sz(st->len, b));
		break;
	case RUN_DMA_COPY:
		snprintf(buf, len, "COPY 0x%llx -> 0x%llx, %s", (unsigned long long)st->src,
			 (unsigned long long)st->dst, sz(st->len, b));
		break;
	case RUN_DMA_FILL:
		snprintf(buf, len, "FILL 0x%llx -> 0x%llx, %s", (unsigned long long)st->pattern,
			 (unsigned long long)st->dst, sz(st->len, b));
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
	ret = reg_wr(c, dev, DMATEST_REG_SRC_IOVA, 8, st->src);
	if (!ret)
		ret = reg_wr(c, dev, DMATEST_REG_DST_IOVA, 8, st->dst);
	if (!ret)
		ret = reg_wr(c, dev, DMATEST_REG_LEN, 4, st->len);
	if (!ret)
		ret = reg_wr(c, dev, DMATEST_REG_PASID, 4,
			     st->has_pasid ? DMATEST_PASID_VALID | st->pasid : 0);
	if (!ret)
		ret = reg_wr(c, dev, DMATEST_REG_OP, 4, st->op);
	if (!ret)
		ret = reg_wr(c, dev, DMATEST_REG_FILL, 8, st->pattern);
	if (!ret)
		ret = reg_wr(c, dev, DMATEST_REG_STATUS, 4,
			     DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR);
	if (!ret)
		ret = job_start(c, dev);
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
	ret = job_wait(c, dev, true);
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
	ret = job_wait(c, dev, false);
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

			ret = ioc(c, IOMMU_IOAS_MAP, &map);
			if (!ret)
				done += size;
			run_report_verbose(c->r,
					   "IOMMU_IOAS_MAP ioas %u iova 0x%llx length 0x%llx "
					   "user_va %p: %s",
					   c->ioas, (unsigned long long)gpa,
					   (unsigned long long)size, (void *)(uintptr_t)map.user_va,
					   ret ? errno_name(ret) : "0");
		} else {
			struct iommu_ioas_unmap un = {.size = sizeof(un),
						      .ioas_id = c->ioas,
						      .iova = gpa,
						      .length = size};

			ret = ioc(c, IOMMU_IOAS_UNMAP, &un);
			if (!ret)
				done += un.length;
		}
	}
	if (st->all)
		run_report_summary(c->r, "all guest RAM (%s) %s at IOVA = GPA (IOAS %u)",
				   sz(done, b), prot_letters(st->prot, p), c->ioas);
	else if (st->kind == RS_MAP)
		run_report_summary(c->r, "GPA 0x%llx-0x%llx (%s) %s at IOVA = GPA (IOAS %u)",
				   (unsigned long long)st->gpa,
				   (unsigned long long)(st->gpa + st->size - 1), sz(st->size, b),
				   prot_letters(st->prot, p), c->ioas);
	else
		run_report_summary(c->r, "GPA 0x%llx-0x%llx from stage 2 (IOAS %u): %s unmapped",
				   (unsigned long long)st->gpa,
				   (unsigned long long)(st->gpa + st->size - 1), c->ioas,
				   sz(done, b));
	if (st->expect_errno && ret != -st->expect_errno)
		run_report_fail(c->r, "expected %s, got %s", errno_name(st->expect_errno),
				ret ? errno_name(ret) : "success");
	else if (!st->expect_errno && ret)
		run_report_fail(c->r, "%s: %s (%s)",
				st->kind == RS_MAP ? "IOMMU_IOAS_MAP" : "IOMMU_IOAS_UNMAP",
				strerror(-ret), errno_name(ret));
	else if (ret)
		run_report_detail(c->r, "refused with %s, as expected", errno_name(ret));
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
			ret = reg_wr(c, dev, DMATEST_BUF_OFFSET + off + i, size, v);
		} else {
			ret = reg_rd(c, dev, DMATEST_BUF_OFFSET + off + i, size, &v);
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
			 sz(st->len, b));
	else
		snprintf(where, sizeof(where), "GPA 0x%llx, %s", (unsigned long long)st->gpa,
			 sz(st->len, b));
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
		run_report_summary(c->r,
				   "%s: IOVA 0x%llx-0x%llx: %s unmapped (no invalidation yet)",
				   t->name, (unsigned long long)st->iova,
				   (unsigned long long)(st->iova + st->size - 1), sz(unmapped, b));
	}
	if (ret == -EUCLEAN)
		run_report_fail(
			c->r,
			"the guest's page table %s was overwritten in guest RAM (by the guest "
			"or a device): it cannot be changed any more",
			t->name);
	else if (st->expect_errno && ret != -st->expect_errno)
		run_report_fail(c->r, "expected %s, got %s", errno_name(st->expect_errno),
				ret ? errno_name(ret) : "success");
	else if (!st->expect_errno && ret)
		run_report_fail(c->r, "the guest's page table refused it: %s (%s)", strerror(-ret),
				errno_name(ret));
	else if (ret)
		run_report_detail(c->r, "refused with %s, as expected", errno_name(ret));
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
	int ret = 0;

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
		c->r, "%s CD %u at GPA 0x%llx: %sASID %u, TTB0 0x%llx (%s), %u-bit, %lluK%s%s%s",
		d->name, st->ssid, (unsigned long long)gpa, st->cd_valid ? "" : "invalid, ",
		st->asid, (unsigned long long)cd.ttb0, t->name, t->ias,
		(1ULL << t->granule_shift) >> 10, st->cd_stall ? ", stall" : "",
		st->epd0 ? ", TTB0 walks disabled (EPD0)" : "",
		st->record ? "" : ", faults not recorded");
	run_report_verbose(c->r, "CD words 0x%016llx 0x%016llx", (unsigned long long)w[0],
			   (unsigned long long)w[1]);
	if (ret)
		run_report_fail(c->r, "cannot write the CD: %s", strerror(-ret));
}

static const char *host_config(uint64_t ste0)
{
	static const char *const n[8] = {
		"abort",  "abort",	  "abort",	  "abort",
		"bypass", "stage 1 only", "stage 2 only", "nested (stage 1 over stage 2)"};

	return ste0 & 1 ? n[(ste0 >> 1) & 7] : "invalid (V = 0)";
}

static int hwpt_destroy(struct run_ctx *c, uint32_t id)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = id};

	return ioc(c, IOMMU_DESTROY, &d);
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
	vste.ste[0] = htole64(w[0]);
	vste.ste[1] = htole64(w[1]);
	if (d->stall && c->faultq) {
		alloc.flags |= IOMMU_HWPT_FAULT_ID_VALID;
		alloc.fault_id = c->fault_id;
	}
	run_report_verbose(c->r, "vSTE words 0x%016llx 0x%016llx", (unsigned long long)w[0],
			   (unsigned long long)w[1]);
	ret = ioc(c, IOMMU_HWPT_ALLOC, &alloc);
	if (ret) {
		run_report_summary(c->r, "%s (vSID 0x%x): %s: nested HWPT refused (%s)", d->name,
				   d->vsid, what, errno_name(ret));
		if (st->expect_errno != -ret)
			run_report_fail(c->r, "IOMMU_HWPT_ALLOC: %s%s%s", errno_name(ret),
					st->expect_errno ? ", expected " : "",
					st->expect_errno ? errno_name(st->expect_errno) : "");
		return;
	}
	pt = alloc.out_hwpt_id;
	ret = run_machine_attach(c->m, (unsigned int)st->dev, &pt);
	if (ret) {
		hwpt_destroy(c, alloc.out_hwpt_id);
		run_report_summary(c->r, "%s (vSID 0x%x): %s: nested HWPT %u, attach refused (%s)",
				   d->name, d->vsid, what, alloc.out_hwpt_id, errno_name(ret));
		if (st->expect_errno != -ret)
			run_report_fail(c->r, "attach: %s%s%s", errno_name(ret),
					st->expect_errno ? ", expected " : "",
					st->expect_errno ? errno_name(st->expect_errno) : "");
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
				  host_config(host[0]), (unsigned long long)(host[2] & 0xffff),
				  (host[0] >> 1 & 7) == 7
					  ? ", stage-1 context from the guest's CD table"
					  : "");
	else
		run_report_detail(c->r, "host STE (SID 0x%x): %s", d->sid, host_config(host[0]));
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
				errno_name(st->expect_errno));
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
	ret = ioc(c, IOMMU_HWPT_INVALIDATE, &inv);
	free(arr);
	json_object_set_new(run_report_step_json(c->r), "commands", cmds);
	json_object_set_new(run_report_step_json(c->r), "handled", json_integer(inv.entry_num));
	run_report_summary(c->r, "%s: %u of %u handled%s%s", list, inv.entry_num, st->nr_cmds,
			   ret ? ", " : "", ret ? errno_name(ret) : "");
	if (st->expect_errno) {
		if (ret != -st->expect_errno)
			run_report_fail(c->r, "expected %s, got %s", errno_name(st->expect_errno),
					ret ? errno_name(ret) : "success");
		else if (st->expect_handled >= 0 &&
			 inv.entry_num != (unsigned int)st->expect_handled)
			run_report_fail(c->r, "expected %d handled, got %u", st->expect_handled,
					inv.entry_num);
	} else if (ret) {
		run_report_fail(c->r, "IOMMU_HWPT_INVALIDATE: %s (%s), %u of %u handled",
				strerror(-ret), errno_name(ret), inv.entry_num, st->nr_cmds);
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
		snprintf(why, len, "type %s, expected %s", evt_name(e->type),
			 evt_name((unsigned int)x->type));
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
	const char *q = x->queue == RQ_VEVENTQ ? "vEVENTQ" : "host log";
	struct run_event *ev = NULL;
	char why[200], line[300];

	drain_all(c);
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
				   x->type >= 0 ? evt_name((unsigned int)x->type) : "an event");
		run_report_fail(c->r, "expected %s in the %s, it has none",
				x->type >= 0 ? evt_name((unsigned int)x->type) : "an event", q);
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
	json_object_set_new(run_report_step_json(c->r), "event", evt_json(ev));
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
	uint64_t deadline = now_ms() + c->opts->timeout_ms;
	struct iommu_hwpt_pgfault *pf;
	struct run_pr *pr;

	drain_all(c);
	while (!(pr = next_request(c)) && c->faultq) {
		struct pollfd p = {.fd = uiommu_file_fd(c->faultq), .events = POLLIN};
		uint64_t now = now_ms();

		if (now >= deadline)
			break;
		if (poll(&p, 1, (int)(deadline - now)) > 0)
			drain_faults(c);
	}
	if (!pr) {
		run_report_summary(c->r, "fault queue: nothing within %u ms", c->opts->timeout_ms);
		run_report_fail(c->r, "expected a page request, none came");
		return;
	}
	pr->consumed = true;
	pf = &pr->pf;
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
	struct iommu_hwpt_page_response resp = {.code = st->code};
	struct run_pr *pr = NULL;

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
	pr->answered = true;
	resp.cookie = pr->pf.cookie;
	run_report_summary(c->r, "cookie %u (0x%llx): %s", resp.cookie,
			   (unsigned long long)pr->pf.addr,
			   st->code == IOMMUFD_PAGE_RESP_SUCCESS ? "SUCCESS: retry the access"
								 : "INVALID: abort it");
	if (uiommu_write(c->faultq, &resp, sizeof(resp)) != sizeof(resp))
		run_report_fail(c->r, "write to the fault queue: %s", strerror(errno));
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
		ret = reg_wr(c, dev, entry + PCI_MSIX_ENTRY_LOWER_ADDR, 8, addr);
	if (!ret)
		ret = reg_wr(c, dev, entry + PCI_MSIX_ENTRY_DATA, 4, st->event);
	if (!ret)
		ret = reg_wr(c, dev, entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	if (!ret)
		ret = dmatest_cfg_write(dt, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2,
					PCI_MSIX_FLAGS_ENABLE);
	if (!ret)
		ret = reg_rd(c, dev, DMATEST_REG_CTRL, 4, &ctrl);
	if (!ret)
		ret = reg_wr(c, dev, DMATEST_REG_CTRL, 4,
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

	drain_all(c);
	got = c->irqs[st->event];
	c->irqs[st->event] = 0;
	run_report_summary(c->r, "doorbell event %u: %llu interrupt%s since the last check",
			   st->event, (unsigned long long)got, got == 1 ? "" : "s");
	if (got != st->count)
		run_report_fail(c->r, "expected %llu interrupt%s, got %llu",
				(unsigned long long)st->count, st->count == 1 ? "" : "s",
				(unsigned long long)got);
}

/* ---------------------------------------------------------------------- */
/* Statistics                                                             */

static void stats_snapshot(struct run_ctx *c, uint64_t *v)
{
	struct smmuv3_iommu *smmu = run_machine_smmu(c->m);
	struct xlate_cache *xc = smmuv3_cache(smmuv3_iommu_hw(smmu));
	struct xlate_cache_stats cs = {0};
	struct smmuv3_iommu_stats ds;
	struct msi_doorbell_stats dbs;
	struct smmuv3_stats hs;
	unsigned int k = 0;

	if (xc)
		xlate_cache_get_stats(xc, &cs);
	smmuv3_iommu_get_stats(smmu, &ds);
	smmuv3_get_stats(smmuv3_iommu_hw(smmu), &hs);
	msi_doorbell_stats(run_machine_doorbell(c->m), &dbs);
	v[k++] = cs.iotlb.hits;
	v[k++] = cs.iotlb.misses;
	for (unsigned int s = 0; s < 2; s++) {
		uint64_t h = 0, m = 0;

		for (unsigned int l = 0; l < PT_MAX_LEVELS; l++) {
			h += cs.walk[s][l].hits;
			m += cs.walk[s][l].misses;
		}
		v[k++] = h;
		v[k++] = m;
	}
	v[k++] = cs.ipa.hits;
	v[k++] = cs.ipa.misses;
	v[k++] = cs.cfg.hits;
	v[k++] = cs.cfg.misses;
	v[k++] = ds.cmds;
	v[k++] = ds.cmd_errors;
	v[k++] = ds.events;
	v[k++] = ds.vevents;
	v[k++] = ds.vevents_lost;
	v[k++] = ds.iopfs;
	v[k++] = ds.iopf_aborts;
	v[k++] = ds.unhandled;
	v[k++] = hs.stalls;
	v[k++] = hs.stall_retries;
	v[k] = v[k + 1] = 0;
	for (unsigned int i = 0; i < c->sc->m.nr_devices; i++) {
		uint64_t ok = 0, bad = 0;

		/* Readable while an operation runs (they are atomics in the device). */
		reg_rd(c, i, DMATEST_REG_COMPLETIONS, 4, &ok);
		reg_rd(c, i, DMATEST_REG_ERRORS, 4, &bad);
		v[k] += ok + bad;
		v[k + 1] += bad;
	}
	k += 2;
	v[k++] = dbs.signalled;
}

/* Lines for people: what the counters in @v say. */
static unsigned int stats_lines(const uint64_t *v, char lines[][200])
{
	unsigned int n = 0;

	snprintf(lines[n++], 200,
		 "translations  IOTLB %llu hits, %llu misses; walk caches: stage 1 %llu/%llu, "
		 "stage 2 %llu/%llu; IPA cache %llu/%llu; STE/CD cache %llu/%llu (hits/misses)",
		 (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2],
		 (unsigned long long)v[3], (unsigned long long)v[4], (unsigned long long)v[5],
		 (unsigned long long)v[6], (unsigned long long)v[7], (unsigned long long)v[8],
		 (unsigned long long)v[9]);
	snprintf(lines[n++], 200, "commands      %llu issued, %llu refused",
		 (unsigned long long)v[10], (unsigned long long)v[11]);
	snprintf(lines[n++], 200,
		 "events        %llu recorded: %llu vEVENTs (%llu lost), %llu page requests (%llu "
		 "aborted: nobody queued them), %llu host",
		 (unsigned long long)v[12], (unsigned long long)v[13], (unsigned long long)v[14],
		 (unsigned long long)v[15], (unsigned long long)v[16], (unsigned long long)v[17]);
	snprintf(lines[n++], 200, "stalls        %llu (%llu retried)", (unsigned long long)v[18],
		 (unsigned long long)v[19]);
	snprintf(lines[n++], 200,
		 "devices       %llu DMA operations, %llu ended in error; %llu "
		 "interrupts through the doorbell",
		 (unsigned long long)v[20], (unsigned long long)v[21], (unsigned long long)v[22]);
	return n;
}

static json_t *stats_json(const uint64_t *v)
{
	json_t *o = json_object();

	for (unsigned int i = 0; run_stat_names[i]; i++)
		json_object_set_new(o, run_stat_names[i], json_integer((json_int_t)v[i]));
	return o;
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
	stats_snapshot(c, now);
	for (unsigned int i = 0; i < n; i++)
		d[i] = now[i] - c->stats_last[i];
	memcpy(c->stats_last, now, n * sizeof(*now));
	if (c->stats_step)
		run_report_summary(c->r, "since step %u:", c->stats_step);
	else
		run_report_summary(c->r, "since boot:");
	c->stats_step = c->step;
	nl = stats_lines(d, lines);
	for (unsigned int i = 0; i < nl; i++)
		run_report_detail(c->r, "%s", lines[i]);
	json_object_set_new(run_report_step_json(c->r), "stats", stats_json(d));
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
/* Boot and teardown                                                      */

static int boot_fail(struct run_ctx *c, const char *what, int ret)
{
	run_report_fail_run(c->r, "boot: %s: %s (%s)", what, strerror(-ret), errno_name(ret));
	return ret;
}

static int nested_alloc(struct run_ctx *c, unsigned int dev, uint64_t w0, uint64_t w1, uint32_t *id)
{
	struct iommu_hwpt_arm_smmuv3 vste = {.ste = {htole64(w0), htole64(w1)}};
	struct iommu_hwpt_alloc a = {
		.size = sizeof(a),
		.dev_id = run_machine_dev_id(c->m, dev),
		.pt_id = c->viommu,
		.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
		.data_uptr = (uintptr_t)&vste,
	};
	int ret = ioc(c, IOMMU_HWPT_ALLOC, &a);

	*id = a.out_hwpt_id;
	return ret;
}

static void describe_machine(struct run_ctx *c, const struct iommu_hw_info_arm_smmuv3 *hi)
{
	const struct run_machine_desc *m = &c->sc->m;
	uint32_t idr0 = hi->idr[0], idr1 = hi->idr[1], idr5 = hi->idr[5];
	static const unsigned int oas[] = {32, 36, 40, 42, 44, 48, 52, 0};
	char b[32], b2[32];

	run_report_line(c->r, "machine",
			"SMMUv3 smmuv3.0: %s%s%s, stall %s, SIDSIZE %u, SSIDSIZE %u, OAS %u "
			"(IDR0 0x%08x)",
			idr0 & 2 ? "stage 1" : "", (idr0 & 3) == 3 ? " + " : "",
			idr0 & 1 ? "stage 2" : "",
			((idr0 >> 24) & 3) == 0 ? "and terminate" : "no (terminate only)",
			idr1 & 0x3f, (idr1 >> 6) & 0x1f, oas[idr5 & 7], idr0);
	run_report_line(c->r, "machine", "MSI doorbell: %u event IDs, at IOVA/IPA 0x%llx",
			RUN_MSI_EVENTS, (unsigned long long)SMMUV3_MSI_IOVA_BASE);
	for (unsigned int i = 0; i < m->nr_ram; i++)
		run_report_line(c->r, "machine", "guest RAM 0x%llx-0x%llx (%s)",
				(unsigned long long)m->ram[i].gpa,
				(unsigned long long)(m->ram[i].gpa + m->ram[i].size - 1),
				sz(m->ram[i].size, b));
	if (m->viommu)
		run_report_line(
			c->r, "machine", "guest pool 0x%llx-0x%llx (%s): page tables, CD tables",
			(unsigned long long)m->pool_gpa,
			(unsigned long long)(m->pool_gpa + m->pool_size - 1), sz(m->pool_size, b2));
	for (unsigned int i = 0; m->viommu && i < m->nr_tables; i++)
		run_report_line(
			c->r, "machine",
			"guest page table %s: VMSAv8-64 stage 1, %lluK granule, %u-bit input, "
			"%u-bit output, root at GPA 0x%llx",
			m->tables[i].name, (1ULL << m->tables[i].granule_shift) >> 10,
			m->tables[i].ias, m->tables[i].oas,
			(unsigned long long)guest_s1_root(&c->s1[i]));
	for (unsigned int i = 0; i < m->nr_devices; i++) {
		const struct run_device *d = &m->devices[i];

		run_report_line(
			c->r, "machine",
			"%s: dmatest, SID 0x%x%s%.0x, %u PASID bits, %s -> iommufd device %u",
			d->name, d->sid, m->viommu ? ", vSID 0x" : "", m->viommu ? d->vsid : 0,
			d->pasid_bits, d->stall ? "can stall" : "cannot stall",
			run_machine_dev_id(c->m, i));
	}
}

static int boot(struct run_ctx *c)
{
	const struct run_machine_desc *m = &c->sc->m;
	struct iommu_hw_info_arm_smmuv3 hi = {0};
	struct iommu_hw_info info = {
		.size = sizeof(info), .data_len = sizeof(hi), .data_uptr = (uintptr_t)&hi};
	struct iommu_ioas_alloc ioas = {.size = sizeof(ioas)};
	bool any_stall = false;
	char err[256];
	int ret;

	guest_mem_init(&c->gm);
	for (unsigned int i = 0; i < m->nr_ram; i++) {
		ret = guest_mem_add(&c->gm, m->ram[i].gpa, m->ram[i].size);
		if (ret)
			return boot_fail(c, "guest RAM", ret);
	}
	ret = m->viommu ? guest_mem_set_pool(&c->gm, m->pool_gpa, m->pool_size) : 0;
	if (ret)
		return boot_fail(c, "the guest's pool", ret);
	for (unsigned int i = 0; m->viommu && i < m->nr_tables; i++) {
		ret = guest_s1_init(&c->s1[i], &c->gm, m->tables[i].granule_shift, m->tables[i].ias,
				    m->tables[i].oas);
		if (ret)
			return boot_fail(c, "a guest page table", ret);
	}

	c->iommufd = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (!c->iommufd)
		return boot_fail(c, "open /dev/iommu", -errno);
	ret = run_machine_build(m, c->iommufd, evt_log, c, &c->m, err, sizeof(err));
	if (ret) {
		run_report_fail_run(c->r, "boot: %s", err);
		return ret;
	}
	c->stats_last = calloc(run_stat_count() + 2, sizeof(uint64_t));
	if (!c->stats_last)
		return boot_fail(c, "statistics", -ENOMEM);

	info.dev_id = run_machine_dev_id(c->m, 0);
	ret = ioc(c, IOMMU_GET_HW_INFO, &info);
	if (ret)
		return boot_fail(c, "IOMMU_GET_HW_INFO", ret);
	describe_machine(c, &hi);

	ret = ioc(c, IOMMU_IOAS_ALLOC, &ioas);
	if (ret)
		return boot_fail(c, "IOMMU_IOAS_ALLOC", ret);
	c->ioas = ioas.out_ioas_id;
	run_report_line(c->r, "boot", "/dev/iommu: IOAS %u (the guest's physical address space)",
			c->ioas);
	for (unsigned int i = 0; i < m->nr_devices; i++)
		any_stall |= m->devices[i].stall;
	if (any_stall) {
		struct iommu_fault_alloc fa = {.size = sizeof(fa)};

		ret = ioc(c, IOMMU_FAULT_QUEUE_ALLOC, &fa);
		if (ret)
			return boot_fail(c, "IOMMU_FAULT_QUEUE_ALLOC", ret);
		c->fault_id = fa.out_fault_id;
		c->faultq = uiommu_file_from_fd((int)fa.out_fault_fd);
		if (!c->faultq)
			return boot_fail(c, "the fault queue's fd", -EBADF);
		run_report_line(c->r, "boot", "fault queue %u (page requests of stalling devices)",
				c->fault_id);
	}

	if (m->viommu) {
		struct iommu_hwpt_alloc parent = {
			.size = sizeof(parent),
			.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
			.dev_id = run_machine_dev_id(c->m, 0),
			.pt_id = c->ioas,
		};
		struct iommu_viommu_alloc va = {
			.size = sizeof(va),
			.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
			.dev_id = run_machine_dev_id(c->m, 0),
		};
		struct iommu_veventq_alloc vq = {
			.size = sizeof(vq),
			.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
			.veventq_depth = VEVENTQ_DEPTH,
		};

		ret = ioc(c, IOMMU_HWPT_ALLOC, &parent);
		if (ret)
			return boot_fail(c, "IOMMU_HWPT_ALLOC (nesting parent)", ret);
		c->s2hwpt = parent.out_hwpt_id;
		va.hwpt_id = c->s2hwpt;
		ret = ioc(c, IOMMU_VIOMMU_ALLOC, &va);
		if (ret)
			return boot_fail(c, "IOMMU_VIOMMU_ALLOC", ret);
		c->viommu = va.out_viommu_id;
		run_report_line(
			c->r, "boot",
			"stage 2: nesting parent HWPT %u on IOAS %u; vIOMMU %u (ARM SMMUv3)",
			c->s2hwpt, c->ioas, c->viommu);
		for (unsigned int i = 0; i < m->nr_devices; i++) {
			struct iommu_vdevice_alloc vd = {
				.size = sizeof(vd),
				.viommu_id = c->viommu,
				.dev_id = run_machine_dev_id(c->m, i),
				.virt_id = m->devices[i].vsid,
			};

			ret = ioc(c, IOMMU_VDEVICE_ALLOC, &vd);
			if (ret)
				return boot_fail(c, "IOMMU_VDEVICE_ALLOC", ret);
			run_report_line(c->r, "boot", "vDEVICE %u: %s is vSID 0x%x to the guest",
					vd.out_vdevice_id, m->devices[i].name, m->devices[i].vsid);
		}
		vq.viommu_id = c->viommu;
		ret = ioc(c, IOMMU_VEVENTQ_ALLOC, &vq);
		if (ret)
			return boot_fail(c, "IOMMU_VEVENTQ_ALLOC", ret);
		c->veventq_id = vq.out_veventq_id;
		c->veventq = uiommu_file_from_fd((int)vq.out_veventq_fd);
		if (!c->veventq)
			return boot_fail(c, "the vEVENTQ's fd", -EBADF);
		/* The guest's SMMU starts with every STE invalid: abort (V = 1, Config 0). */
		ret = nested_alloc(c, 0, 1, 0, &c->abort_hwpt);
		if (ret)
			return boot_fail(c, "IOMMU_HWPT_ALLOC (abort vSTE)", ret);
		run_report_line(c->r, "boot", "vEVENTQ %u (depth %u); abort HWPT %u (vSTE abort)",
				c->veventq_id, VEVENTQ_DEPTH, c->abort_hwpt);
	} else {
		struct iommu_hwpt_alloc s2 = {
			.size = sizeof(s2),
			.dev_id = run_machine_dev_id(c->m, 0),
			.pt_id = c->ioas,
		};

		if (c->faultq) {
			s2.flags |= IOMMU_HWPT_FAULT_ID_VALID;
			s2.fault_id = c->fault_id;
		}
		ret = ioc(c, IOMMU_HWPT_ALLOC, &s2);
		if (ret)
			return boot_fail(c, "IOMMU_HWPT_ALLOC (stage 2)", ret);
		c->s2hwpt = s2.out_hwpt_id;
		run_report_line(c->r, "boot", "stage 2: paging HWPT %u on IOAS %u (no vIOMMU)",
				c->s2hwpt, c->ioas);
	}
	for (unsigned int i = 0; i < m->nr_devices; i++) {
		uint32_t pt = m->viommu ? c->abort_hwpt : c->s2hwpt;
		uint64_t ste[8];

		ret = run_machine_attach(c->m, i, &pt);
		if (ret)
			return boot_fail(c, "attach", ret);
		ret = run_machine_read_ste(c->m, i, ste);
		run_report_line(c->r, "boot", "%s attached to HWPT %u: host STE %s",
				m->devices[i].name, pt, ret ? "?" : host_config(ste[0]));
	}
	stats_snapshot(c, c->stats_last);
	return 0;
}

/* Blocked devices cannot stall any more: their DMA threads end. */
static void join_jobs(void *arg)
{
	struct run_ctx *c = arg;

	for (unsigned int i = 0; i < RUN_MAX_DEVICES; i++)
		job_join(&c->dev[i].job);
}

static void teardown(struct run_ctx *c)
{
	run_machine_unplug(c->m, join_jobs, c);
	join_jobs(c);
	if (c->veventq)
		uiommu_close(c->veventq);
	if (c->faultq)
		uiommu_close(c->faultq);
	if (c->iommufd)
		uiommu_close(c->iommufd);
	/* The HWPTs (the SMMU's domains) went with the iommufd: now the SMMU can go. */
	run_machine_free(c->m);
	c->m = NULL;
	for (unsigned int i = 0; i < RUN_MAX_TABLES; i++)
		guest_s1_destroy(&c->s1[i]);
	guest_mem_destroy(&c->gm);
	for (unsigned int i = 0; i < RUN_MAX_DEVICES; i++)
		if (c->dev[i].job.efd >= 0)
			close(c->dev[i].job.efd);
	for (unsigned int i = 0; i < RUN_MSI_EVENTS; i++)
		if (c->efd[i] >= 0)
			close(c->efd[i]);
	free(c->log);
	free(c->ev);
	free(c->pr);
	free(c->stats_last);
	pthread_mutex_destroy(&c->log_lock);
}

/* ---------------------------------------------------------------------- */

static void run_step(struct run_ctx *c, const struct run_step *st)
{
	switch (st->kind) {
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

/* Events and page requests nobody expected fail the run. */
static void leftovers(struct run_ctx *c)
{
	unsigned int n = 0, first = 0;
	char line[300] = "";

	for (size_t i = 0; i < c->nev; i++) {
		if (c->ev[i].consumed)
			continue;
		if (!n++) {
			first = c->ev[i].step;
			if (c->ev[i].lost)
				snprintf(line, sizeof(line), "vEVENTQ LOST_EVENTS");
			else
				smmuv3_evt_format(&c->ev[i].e,
						  c->ev[i].queue == RQ_VEVENTQ ? "vSID" : "SID",
						  line, sizeof(line));
		}
	}
	for (size_t i = 0; i < c->npr; i++) {
		if (c->pr[i].consumed)
			continue;
		if (!n++) {
			first = c->pr[i].step;
			snprintf(line, sizeof(line), "a page request for 0x%llx",
				 (unsigned long long)c->pr[i].pf.addr);
		}
	}
	if (n)
		run_report_fail_run(c->r,
				    "%u event%s no step expected, the first (step %u): %s (an "
				    "expect_event or expect_page_request step consumes each)",
				    n, n == 1 ? "" : "s", first, line);
}

int run_scenario_exec(const struct run_sc *sc, const struct run_opts *opts)
{
	struct run_ctx c = {.sc = sc, .opts = opts};
	unsigned int steps_run = 0;
	int status;

	pthread_mutex_init(&c.log_lock, NULL);
	for (unsigned int i = 0; i < RUN_MSI_EVENTS; i++)
		c.efd[i] = -1;
	for (unsigned int i = 0; i < RUN_MAX_DEVICES; i++)
		c.dev[i].job.efd = -1;
	c.r = run_report_new(sc, opts->json, opts->verbose, opts->out);
	if (!c.r) {
		fprintf(stderr, "uiommu run: out of memory\n");
		pthread_mutex_destroy(&c.log_lock);
		return 1;
	}
	if (!boot(&c)) {
		drain_all(&c);
		bool failed = false;

		for (unsigned int i = 0; i < sc->nr_steps; i++) {
			const struct run_step *st = &sc->steps[i];

			c.step = i + 1;
			run_report_step_begin(c.r, c.step, st);
			run_step(&c, st);
			drain_all(&c);
			failed = run_report_failed(c.r);
			run_report_step_end(c.r);
			steps_run++;
			if (failed)
				break;
		}
		if (!failed)
			leftovers(&c);
		c.step = sc->nr_steps + 1;
		if (c.m) {
			unsigned int n = run_stat_count();
			uint64_t *v = calloc(n + 2, sizeof(*v));
			char lines[8][200];
			const char *lp[8];
			unsigned int nl;

			if (v) {
				stats_snapshot(&c, v);
				nl = stats_lines(v, lines);
				for (unsigned int i = 0; i < nl; i++)
					lp[i] = lines[i];
				run_report_stats(c.r, lp, nl, stats_json(v));
				free(v);
			}
		}
	}
	teardown(&c);
	status = run_report_finish(c.r, steps_run);
	run_report_free(c.r);
	return status;
}
