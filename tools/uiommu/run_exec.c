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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <uiommu/uiommu.h>

#include "dev/dmatest/dmatest.h"
#include "dev/msi_doorbell.h"
#include "hw/smmuv3/smmuv3.h"
#include "parse.h"
#include "run_exec_int.h"
#include "util/bits.h"
#include "xlate/cache.h"

#define VEVENTQ_DEPTH 64

/* ---------------------------------------------------------------------- */
/* Small things                                                           */

int run_ioc(struct run_ctx *c, unsigned long req, void *arg)
{
	return uiommu_ioctl(c->iommufd, req, arg) ? -errno : 0;
}

const char *run_errno_name(int e)
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
const char *run_sz(uint64_t v, char *b)
{
	if (v < 1024)
		snprintf(b, 32, "%llu byte%s", (unsigned long long)v, v == 1 ? "" : "s");
	else if (v & 1023)
		snprintf(b, 32, "0x%llx bytes", (unsigned long long)v);
	else
		size_str(v, b, 32);
	return b;
}

const char *run_evt_name(unsigned int type)
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

uint64_t run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* BAR0 and configuration space of a device, as its driver accesses them. */
int run_reg_rd(struct run_ctx *c, unsigned int dev, uint64_t off, unsigned int size, uint64_t *v)
{
	*v = 0;
	if (c->sc->m.vfio)
		return run_vfio_reg(c, dev, off, size, v, false);
	return dmatest_bar_read(run_machine_dmatest(c->m, dev), 0, off, size, v);
}

int run_reg_wr(struct run_ctx *c, unsigned int dev, uint64_t off, unsigned int size, uint64_t v)
{
	/* The VFIO path: pwrite on the device fd at BAR0's region offset. */
	if (c->sc->m.vfio)
		return run_vfio_reg(c, dev, off, size, &v, true);
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

json_t *run_evt_json(const struct run_event *ev)
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
		snprintf(line, sizeof(line), "%s",
			 ev->guest_evtq ? "event  guest EVTQ: records were lost (EVENTQ_PROD.OVFLG)"
					: "event  vEVENTQ: events were lost (LOST_EVENTS)");
	} else {
		n = (size_t)snprintf(line, sizeof(line), "event  %s",
				     ev->guest_evtq	       ? "guest EVTQ"
				     : ev->queue == RQ_VEVENTQ ? "vEVENTQ"
							       : "host log");
		if (ev->queue == RQ_VEVENTQ)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " #%u", ev->seq);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ": ");
		if (n < sizeof(line))
			smmuv3_evt_format(&ev->e, ev->queue == RQ_VEVENTQ ? "vSID" : "SID",
					  line + n, sizeof(line) - n);
	}
	run_report_event(c->r, run_evt_json(ev), line);
}

void run_add_event(struct run_ctx *c, const struct run_event *ev)
{
	add_event(c, ev);
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

		/*
		 * vEVENTs, page requests and DMA FAULT ring records reach a program; the
		 * rest only the host's log.
		 */
		if (log[i].route == SMMUV3_EVT_VEVENT || log[i].route == SMMUV3_EVT_IOPF ||
		    log[i].route == SMMUV3_EVT_DEV_FAULT)
			continue;
		smmuv3_evt_decode(log[i].evt, &ev.e);
		add_event(c, &ev);
	}
	free(log);
}

void run_add_pr(struct run_ctx *c, const struct iommu_hwpt_pgfault *pf)
{
	struct run_pr *arr = grow(c->pr, &c->cappr, c->npr, sizeof(*c->pr));
	const char *dev = "?";
	char line[240], pasid[24] = "";
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
	if (pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID)
		snprintf(pasid, sizeof(pasid), ", PASID %u", pf->pasid);
	snprintf(line, sizeof(line),
		 "page request: %s (dev %u) %s at 0x%llx%s, group %u, cookie %u", dev, pf->dev_id,
		 pf->perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read",
		 (unsigned long long)pf->addr, pasid, pf->grpid, pf->cookie);
	o = json_pack("{s:s, s:s, s:i, s:o, s:s, s:i, s:i}", "queue", "fault", "device", dev,
		      "dev_id", (int)pf->dev_id, "addr", run_json_hex(pf->addr), "access",
		      pf->perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read", "group",
		      (int)pf->grpid, "cookie", (int)pf->cookie);
	if (pf->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID)
		json_object_set_new(o, "pasid", json_integer(pf->pasid));
	run_report_event(c->r, o, line);
}

void run_drain_faults(struct run_ctx *c)
{
	struct iommu_hwpt_pgfault pf;

	if (!c->faultq)
		return;
	while (uiommu_read(c->faultq, &pf, sizeof(pf)) == sizeof(pf))
		run_add_pr(c, &pf);
}

int run_fault_fd(struct run_ctx *c)
{
	if (c->faultq)
		return uiommu_file_fd(c->faultq);
	return c->vsm ? run_vsmmu_fault_fd(c) : -1;
}

int run_answer_pr(struct run_ctx *c, struct run_pr *pr, uint32_t code)
{
	struct iommu_hwpt_page_response resp = {.cookie = pr->pf.cookie, .code = code};

	pr->consumed = pr->answered = true;
	if (c->vsm) {
		for (unsigned int i = 0; i < c->sc->m.nr_devices; i++)
			if (run_machine_dev_id(c->m, i) == pr->pf.dev_id)
				return run_vsmmu_resume(c, i, (uint16_t)pr->pf.grpid,
							code == IOMMUFD_PAGE_RESP_SUCCESS);
		return -ENODEV;
	}
	if (uiommu_write(c->faultq, &resp, sizeof(resp)) != sizeof(resp))
		return -errno;
	return 0;
}

static void drain_irqs(struct run_ctx *c)
{
	for (unsigned int i = 0; i < RUN_MSI_EVENTS; i++) {
		uint64_t v;

		if (c->efd[i] < 0 || read(c->efd[i], &v, sizeof(v)) != sizeof(v))
			continue;
		c->irqs[i] += v;
		if (c->sc->m.vfio)
			c->vfio_irqs += v; /* VFIO's eventfds: no doorbell route counted them */
		run_report_detail(c->r, "interrupt: doorbell event %u x%llu", i,
				  (unsigned long long)v);
	}
}

void run_drain_all(struct run_ctx *c)
{
	if (c->sc->m.vfio)
		run_vfio_drain(c);
	drain_vevents(c);
	run_vsmmu_drain(c);
	drain_hostlog(c);
	run_drain_faults(c);
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

int run_job_start(struct run_ctx *c, unsigned int dev)
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
int run_job_wait(struct run_ctx *c, unsigned int dev, bool sync)
{
	struct dma_job *j = &c->dev[dev].job;
	uint64_t deadline = run_now_ms() + c->opts->timeout_ms;
	uint32_t dev_id = run_machine_dev_id(c->m, dev);

	while (j->running) {
		struct pollfd p[2] = {{.fd = j->efd, .events = POLLIN}};
		unsigned int nfds = 1;
		uint64_t now = run_now_ms();
		int n;

		if (run_fault_fd(c) >= 0)
			p[nfds++] = (struct pollfd){.fd = run_fault_fd(c), .events = POLLIN};
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
			int ret;

			if (c->vsm)
				run_vsmmu_drain(c); /* stall records in the guest's event queue */
			else
				run_drain_faults(c);
			for (size_t i = first; sync && i < c->npr; i++) {
				if (c->pr[i].pf.dev_id != dev_id)
					continue;
				run_report_fail(c->r,
						"the DMA stalled (page request for 0x%llx): a DMA "
						"that stalls needs \"wait\": false and a "
						"page_response; answered INVALID",
						(unsigned long long)c->pr[i].pf.addr);
				ret = run_answer_pr(c, &c->pr[i], IOMMUFD_PAGE_RESP_INVALID);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Statistics                                                             */

void run_stats_snapshot(struct run_ctx *c, uint64_t *v)
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
		run_reg_rd(c, i, DMATEST_REG_COMPLETIONS, 4, &ok);
		run_reg_rd(c, i, DMATEST_REG_ERRORS, 4, &bad);
		v[k] += ok + bad;
		v[k + 1] += bad;
	}
	k += 2;
	v[k++] = dbs.signalled + c->vfio_irqs;
	v[k++] = ds.dev_faults;
	v[k] = 0;
	for (unsigned int i = 0; i < c->sc->m.nr_devices; i++)
		v[k] += run_machine_msis_lost(c->m, i);
	k++;
}

static const char *pl(uint64_t v)
{
	return v == 1 ? "" : "s";
}

/* Lines for people: what the counters in @v say. */
unsigned int run_stats_lines(const uint64_t *v, char lines[][200])
{
	unsigned int n = 0;

	snprintf(lines[n++], 200,
		 "translations  IOTLB %llu/%llu, walk caches stage 1 %llu/%llu, stage 2 %llu/%llu, "
		 "IPA cache %llu/%llu, STE/CD cache %llu/%llu (hits/misses)",
		 (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2],
		 (unsigned long long)v[3], (unsigned long long)v[4], (unsigned long long)v[5],
		 (unsigned long long)v[6], (unsigned long long)v[7], (unsigned long long)v[8],
		 (unsigned long long)v[9]);
	snprintf(lines[n++], 200, "commands      %llu issued, %llu refused",
		 (unsigned long long)v[10], (unsigned long long)v[11]);
	snprintf(
		lines[n++], 200,
		"events        %llu recorded: %llu vEVENT%s (%llu lost), %llu page request%s (%llu "
		"nobody queued), %llu for the host",
		(unsigned long long)v[12], (unsigned long long)v[13], pl(v[13]),
		(unsigned long long)v[14], (unsigned long long)v[15], pl(v[15]),
		(unsigned long long)v[16], (unsigned long long)v[17]);
	snprintf(lines[n++], 200, "stalls        %llu (%llu retried)", (unsigned long long)v[18],
		 (unsigned long long)v[19]);
	snprintf(
		lines[n++], 200,
		"devices       %llu DMA operation%s, %llu ended in error; %llu interrupt%s through "
		"the doorbell, %llu MSI%s lost at the IOMMU",
		(unsigned long long)v[20], pl(v[20]), (unsigned long long)v[21],
		(unsigned long long)v[22], pl(v[22]), (unsigned long long)v[24], pl(v[24]));
	if (v[23])
		snprintf(lines[n++], 200, "fault rings   %llu record%s (VFIO DMA FAULT regions)",
			 (unsigned long long)v[23], pl(v[23]));
	return n;
}

json_t *run_stats_json(const uint64_t *v)
{
	json_t *o = json_object();

	for (unsigned int i = 0; run_stat_names[i]; i++)
		json_object_set_new(o, run_stat_names[i], json_integer((json_int_t)v[i]));
	return o;
}

const char *run_host_config(uint64_t ste0)
{
	static const char *const n[8] = {
		"abort",  "abort",	  "abort",	  "abort",
		"bypass", "stage 1 only", "stage 2 only", "nested (stage 1 over stage 2)"};

	return ste0 & 1 ? n[(ste0 >> 1) & 7] : "invalid (V = 0)";
}

/* ---------------------------------------------------------------------- */
/* Boot and teardown                                                      */

static int boot_fail(struct run_ctx *c, const char *what, int ret)
{
	run_report_fail_run(c->r, "boot: %s: %s (%s)", what, strerror(-ret), run_errno_name(ret));
	return ret;
}

int run_vfio_boot_fail(struct run_ctx *c, const char *what, int ret)
{
	return boot_fail(c, what, ret);
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
	int ret = run_ioc(c, IOMMU_HWPT_ALLOC, &a);

	*id = a.out_hwpt_id;
	return ret;
}

static void describe_machine(struct run_ctx *c, const struct iommu_hw_info_arm_smmuv3 *hi)
{
	const struct run_machine_desc *m = &c->sc->m;
	uint32_t idr0 = hi ? hi->idr[0] : 0, idr1 = hi ? hi->idr[1] : 0, idr5 = hi ? hi->idr[5] : 0;
	static const unsigned int oas[] = {32, 36, 40, 42, 44, 48, 52, 0};
	char b[32], b2[32];

	if (!hi)
		run_report_line(c->r, "machine",
				"SMMUv3 smmuv3.0: stage 1 + stage 2, reached through VFIO (a type1 "
				"container has no GET_HW_INFO)");
	else
		run_report_line(
			c->r, "machine",
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
				run_sz(m->ram[i].size, b));
	if (m->viommu)
		run_report_line(c->r, "machine",
				"guest pool 0x%llx-0x%llx (%s): page tables, CD tables",
				(unsigned long long)m->pool_gpa,
				(unsigned long long)(m->pool_gpa + m->pool_size - 1),
				run_sz(m->pool_size, b2));
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

		char vsid[24] = "", name[16];

		if (m->viommu)
			snprintf(vsid, sizeof(vsid), ", vSID 0x%x", d->vsid);
		if (m->vfio) {
			run_machine_vfio_name(i, name, sizeof(name));
			run_report_line(c->r, "machine",
					"%s: dmatest, SID 0x%x%s, %u PASID bits -> VFIO device %s, "
					"group %u",
					d->name, d->sid, vsid, d->pasid_bits, name, i + 1);
			continue;
		}
		run_report_line(c->r, "machine",
				"%s: dmatest, SID 0x%x%s, %u PASID bits, %s -> iommufd device %u",
				d->name, d->sid, vsid, d->pasid_bits,
				d->stall ? "can stall" : "cannot stall",
				run_machine_dev_id(c->m, i));
	}
}

static int boot_done(struct run_ctx *c)
{
	run_stats_snapshot(c, c->stats_last);
	return 0;
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

	if (!m->vfio) {
		c->iommufd = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (!c->iommufd)
			return boot_fail(c, "open /dev/iommu", -errno);
	}
	ret = run_machine_build(m, m->vfio ? NULL : c->iommufd, evt_log, c, &c->m, err,
				sizeof(err));
	if (ret) {
		run_report_fail_run(c->r, "boot: %s", err);
		return ret;
	}
	c->stats_last = calloc(run_stat_count() + 2, sizeof(uint64_t));
	if (!c->stats_last)
		return boot_fail(c, "statistics", -ENOMEM);
	if (m->vfio) {
		/* The legacy path: the devices behind VFIO, the rest is run_vfio.c's. */
		describe_machine(c, NULL);
		ret = run_vfio_boot(c);
		return ret ? ret : boot_done(c);
	}

	info.dev_id = run_machine_dev_id(c->m, 0);
	ret = run_ioc(c, IOMMU_GET_HW_INFO, &info);
	if (ret)
		return boot_fail(c, "IOMMU_GET_HW_INFO", ret);
	describe_machine(c, &hi);

	ret = run_ioc(c, IOMMU_IOAS_ALLOC, &ioas);
	if (ret)
		return boot_fail(c, "IOMMU_IOAS_ALLOC", ret);
	c->ioas = ioas.out_ioas_id;
	run_report_line(c->r, "boot", "/dev/iommu: IOAS %u (the guest's physical address space)",
			c->ioas);
	for (unsigned int i = 0; i < m->nr_devices; i++)
		any_stall |= m->devices[i].stall;
	/* Through the vSMMU the front end owns the fault queue (vsmmuv3_fault_fd()). */
	if (any_stall && !(m->viommu && m->vsmmu)) {
		struct iommu_fault_alloc fa = {.size = sizeof(fa)};

		ret = run_ioc(c, IOMMU_FAULT_QUEUE_ALLOC, &fa);
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

		ret = run_ioc(c, IOMMU_HWPT_ALLOC, &parent);
		if (ret)
			return boot_fail(c, "IOMMU_HWPT_ALLOC (nesting parent)", ret);
		c->s2hwpt = parent.out_hwpt_id;
		if (m->vsmmu)
			return run_vsmmu_boot(c) ? -EINVAL : boot_done(c);
		va.hwpt_id = c->s2hwpt;
		ret = run_ioc(c, IOMMU_VIOMMU_ALLOC, &va);
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

			ret = run_ioc(c, IOMMU_VDEVICE_ALLOC, &vd);
			if (ret)
				return boot_fail(c, "IOMMU_VDEVICE_ALLOC", ret);
			run_report_line(c->r, "boot", "vDEVICE %u: %s is vSID 0x%x to the guest",
					vd.out_vdevice_id, m->devices[i].name, m->devices[i].vsid);
		}
		vq.viommu_id = c->viommu;
		ret = run_ioc(c, IOMMU_VEVENTQ_ALLOC, &vq);
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
		ret = run_ioc(c, IOMMU_HWPT_ALLOC, &s2);
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
				m->devices[i].name, pt, ret ? "?" : run_host_config(ste[0]));
	}
	return boot_done(c);
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
	run_vsmmu_free(c);
	/* VFIO's devices must be closed before they can be unregistered. */
	if (c->sc->m.vfio) {
		join_jobs(c);
		run_vfio_close(c);
	}
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
	free(c->faults);
	free(c->stats_last);
	pthread_mutex_destroy(&c->log_lock);
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
	if (c->sc->m.vfio) {
		char fline[300];
		unsigned int f0 = 0, nf = run_vfio_leftovers(c, &f0, fline, sizeof(fline));

		if (nf && !n) {
			first = f0;
			snprintf(line, sizeof(line), "%s", fline);
		}
		n += nf;
	}
	if (n)
		run_report_fail_run(c->r,
				    "%u event%s no step expected, the first (step %u): %s (an "
				    "expect_event, expect_page_request or expect_fault step "
				    "consumes each)",
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
		run_drain_all(&c);
		bool failed = false;

		for (unsigned int i = 0; i < sc->nr_steps; i++) {
			const struct run_step *st = &sc->steps[i];

			c.step = i + 1;
			run_report_step_begin(c.r, c.step, st);
			run_exec_step(&c, st);
			run_drain_all(&c);
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
				run_stats_snapshot(&c, v);
				nl = run_stats_lines(v, lines);
				for (unsigned int i = 0; i < nl; i++)
					lp[i] = lines[i];
				run_report_stats(c.r, lp, nl, run_stats_json(v));
				free(v);
			}
		}
	}
	teardown(&c);
	status = run_report_finish(c.r, steps_run);
	run_report_free(c.r);
	return status;
}
