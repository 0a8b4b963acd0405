// SPDX-License-Identifier: MIT
/*
 * run_vsmmu.c - `uiommu run` playing its guest through the vSMMUv3 front
 * end (lib/vmm/vsmmuv3.h): the runner is the VMM (it forwards the guest's
 * MMIO accesses and pumps events) and the guest's SMMUv3 driver (it keeps
 * a 2-level stream table, a command queue and an event queue in its pool
 * and programs the registers), instead of calling iommufd for the guest.
 *
 * What it owns: the front end instance and the guest driver's state (the
 * stream table's L1 and one L2 table per L1 index a device needs, the
 * queues, the event queue's CONS). Devices are attached through the front
 * end's attach hook, which is run_machine_attach() (the VFIO cdev's part).
 *
 * Stalls: a stalling device's STE with S1STALLD = 0 gets the front end's
 * fault queue; its stalled faults come back as Stall records in the
 * guest's event queue, which the drain turns into the scenario's page
 * requests (STAG for cookie), and a page_response is the guest's
 * CMD_RESUME (Retry or Abort) + CMD_SYNC.
 *
 * Errors the guest makes are the architecture's answers: a command the
 * vSMMU refuses stops the queue (CONS.ERR, GERROR.CMDQ_ERR); the runner,
 * as Linux's driver does, reports it, replaces the command with a
 * CMD_SYNC and acknowledges, so the queue goes on. An STE the vSMMU cannot
 * take is a C_BAD_STE record in the guest's event queue.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run_exec_int.h"
#include "run_vsmmu.h"
#include "util/alloc.h"
#include "vmm/vsmmuv3.h"

#define SPLIT	  8u
#define CMDQ_LOG2 8u /* 256 commands: 4 KiB */
#define EVTQ_LOG2 7u /* 128 records: 4 KiB */

struct run_vsmmu {
	struct vsmmuv3 *vs;
	uint64_t l1, l2[256]; /* L2 table per L1 index (0: none) */
	uint64_t cmdq, evtq;
	uint32_t cmdq_prod, evtq_cons;
	unsigned int evtq_seen;
};

static int attach_hook(void *opaque, unsigned int ep, uint32_t pt_id)
{
	struct run_ctx *c = opaque;
	uint32_t pt = pt_id;

	if (!pt_id)
		return 0; /* run_machine_unplug() detaches */
	return run_machine_attach(c->m, ep, &pt);
}

static int mmio_wr(struct run_ctx *c, uint64_t off, unsigned int size, uint64_t val)
{
	return vsmmuv3_mmio_write(c->vsm->vs, off, size, val);
}

static uint32_t mmio_rd(struct run_ctx *c, uint64_t off)
{
	uint64_t v = 0;

	vsmmuv3_mmio_read(c->vsm->vs, off, 4, &v);
	return (uint32_t)v;
}

static uint64_t ste_gpa(struct run_ctx *c, uint32_t vsid)
{
	return c->vsm->l2[vsid >> SPLIT] + 64ULL * (vsid & ((1u << SPLIT) - 1));
}

/* The guest's probe: tables and queues from its pool, then the registers. */
static int probe(struct run_ctx *c)
{
	const struct run_machine_desc *m = &c->sc->m;
	struct run_vsmmu *v = c->vsm;
	int ret;

	ret = guest_mem_alloc(&c->gm, 256 * 8, 4096, &v->l1);
	if (!ret)
		ret = guest_mem_alloc(&c->gm, 16u << CMDQ_LOG2, 16u << CMDQ_LOG2, &v->cmdq);
	if (!ret)
		ret = guest_mem_alloc(&c->gm, 32u << EVTQ_LOG2, 32u << EVTQ_LOG2, &v->evtq);
	for (unsigned int i = 0; !ret && i < m->nr_devices; i++) {
		unsigned int idx = (m->devices[i].vsid >> SPLIT) & 0xff;
		uint64_t desc;

		if (v->l2[idx])
			continue;
		ret = guest_mem_alloc(&c->gm, 64u << SPLIT, 64u << SPLIT, &v->l2[idx]);
		desc = htole64(v->l2[idx] | (SPLIT + 1)); /* Span: all 2^SPLIT STEs */
		if (!ret)
			ret = guest_mem_write(&c->gm, v->l1 + 8ULL * idx, &desc, 8);
	}
	if (ret)
		return ret;
	ret = mmio_wr(c, VSMMUV3_STRTAB_BASE_CFG, 4,
		      VSMMUV3_STRTAB_FMT_2LVL | VSMMUV3_STRTAB_SPLIT(SPLIT) | 16);
	if (!ret)
		ret = mmio_wr(c, VSMMUV3_STRTAB_BASE, 8, v->l1);
	if (!ret)
		ret = mmio_wr(c, VSMMUV3_CMDQ_BASE, 8, v->cmdq | CMDQ_LOG2);
	if (!ret)
		ret = mmio_wr(c, VSMMUV3_EVENTQ_BASE, 8, v->evtq | EVTQ_LOG2);
	if (!ret)
		ret = mmio_wr(c, VSMMUV3_IRQ_CTRL, 4, VSMMUV3_IRQ_GERROR | VSMMUV3_IRQ_EVENTQ);
	if (!ret)
		ret = mmio_wr(c, VSMMUV3_CR0, 4,
			      VSMMUV3_CR0_CMDQEN | VSMMUV3_CR0_EVENTQEN | VSMMUV3_CR0_SMMUEN);
	return ret;
}

int run_vsmmu_boot(struct run_ctx *c)
{
	const struct run_machine_desc *m = &c->sc->m;
	struct vsmmuv3_endpoint eps[RUN_MAX_DEVICES];
	struct vsmmuv3_params p = {
		.iommufd = c->iommufd,
		.s2_hwpt = c->s2hwpt,
		.gm = &c->gm,
		.eps = eps,
		.nr_eps = m->nr_devices,
		.attach = attach_hook,
		.opaque = c,
	};
	int ret;

	for (unsigned int i = 0; i < m->nr_devices; i++)
		eps[i] = (struct vsmmuv3_endpoint){.vsid = m->devices[i].vsid,
						   .dev_id = run_machine_dev_id(c->m, i),
						   .can_stall = m->devices[i].stall};
	c->vsm = uzalloc(sizeof(*c->vsm));
	if (!c->vsm)
		return -ENOMEM;
	ret = vsmmuv3_create(&p, &c->vsm->vs);
	if (ret) {
		run_report_fail_run(c->r, "boot: the vSMMU front end: %s (%s)", strerror(-ret),
				    run_errno_name(ret));
		return ret;
	}
	c->viommu = vsmmuv3_viommu_id(c->vsm->vs);
	ret = probe(c);
	if (ret) {
		run_report_fail_run(c->r, "boot: the guest's SMMU driver: %s", strerror(-ret));
		return ret;
	}
	run_report_line(c->r, "boot",
			"vSMMUv3 front end: vIOMMU %u, IDR0 0x%08x IDR1 0x%08x; the guest's "
			"stream table (2-level) at GPA 0x%llx, CMDQ 0x%llx, EVTQ 0x%llx, enabled",
			c->viommu, mmio_rd(c, VSMMUV3_IDR0), mmio_rd(c, VSMMUV3_IDR1),
			(unsigned long long)c->vsm->l1, (unsigned long long)c->vsm->cmdq,
			(unsigned long long)c->vsm->evtq);
	return 0;
}

void run_vsmmu_free(struct run_ctx *c)
{
	if (!c->vsm)
		return;
	vsmmuv3_destroy(c->vsm->vs);
	ufree(c->vsm);
	c->vsm = NULL;
}

/*
 * Put @n commands and ring PROD. The number consumed; *cerror the
 * CONS.ERR of a stop (0: none), after which the command is replaced by a
 * CMD_SYNC and the error acknowledged.
 */
static unsigned int issue(struct run_ctx *c, const uint64_t (*cmds)[2], unsigned int n,
			  unsigned int *cerror, int *host)
{
	struct run_vsmmu *v = c->vsm;
	uint32_t start = v->cmdq_prod, mask = (2u << CMDQ_LOG2) - 1, cons;
	unsigned int done;

	*cerror = 0;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t le[2] = {htole64(cmds[i][0]), htole64(cmds[i][1])};

		guest_mem_write(&c->gm, v->cmdq + 16ULL * (v->cmdq_prod & ((1u << CMDQ_LOG2) - 1)),
				le, sizeof(le));
		v->cmdq_prod = (v->cmdq_prod + 1) & mask;
	}
	*host = mmio_wr(c, VSMMUV3_CMDQ_PROD, 4, v->cmdq_prod);
	cons = mmio_rd(c, VSMMUV3_CMDQ_CONS);
	done = ((cons & mask) - start) & mask;
	if ((mmio_rd(c, VSMMUV3_GERROR) ^ mmio_rd(c, VSMMUV3_GERRORN)) & VSMMUV3_GERROR_CMDQ) {
		uint64_t le[2] = {htole64(0x46), 0}; /* CMD_SYNC, CS none */

		*cerror = VSMMUV3_CONS_ERR(cons);
		guest_mem_write(&c->gm, v->cmdq + 16ULL * (cons & ((1u << CMDQ_LOG2) - 1)), le,
				sizeof(le));
		mmio_wr(c, VSMMUV3_GERRORN, 4, mmio_rd(c, VSMMUV3_GERROR));
	}
	return done;
}

static const char *cerror_name(unsigned int e)
{
	return e == VSMMUV3_CERROR_ILL	 ? "CERROR_ILL"
	       : e == VSMMUV3_CERROR_ABT ? "CERROR_ABT"
					 : "?";
}

void run_vsmmu_ste(struct run_ctx *c, const struct run_step *st, const uint64_t w[2],
		   const char *what)
{
	const struct run_device *d = &c->sc->m.devices[st->dev];
	uint64_t le[8] = {htole64(w[0]), htole64(w[1])},
		 cmds[2][2] = {
			 {0x03 | (uint64_t)d->vsid << 32, 1}, /* CFGI_STE, leaf */
			 {0x46, 0},			      /* CMD_SYNC */
		 };
	unsigned int done, cerror;
	uint64_t host[8];
	int herr;

	if (st->expect_errno) {
		run_report_fail(c->r, "expect_errno: through the vSMMU an STE is never refused "
				      "by an errno (expect a C_BAD_STE event instead)");
		return;
	}
	guest_mem_write(&c->gm, ste_gpa(c, d->vsid), le, sizeof(le));
	done = issue(c, (const uint64_t(*)[2])cmds, 2, &cerror, &herr);
	if (herr || cerror || done != 2) {
		run_report_fail(c->r, "CFGI_STE: %u of 2 commands%s%s%s", done, cerror ? ", " : "",
				cerror ? cerror_name(cerror) : "", herr ? ", the host failed" : "");
		return;
	}
	run_report_summary(c->r,
			   "%s (vSID 0x%x): %s, written at GPA 0x%llx; CFGI_STE + CMD_SYNC "
			   "-> host HWPT %u",
			   d->name, d->vsid, what, (unsigned long long)ste_gpa(c, d->vsid),
			   vsmmuv3_ep_hwpt(c->vsm->vs, (unsigned int)st->dev));
	if (!run_machine_read_ste(c->m, (unsigned int)st->dev, host))
		run_report_detail(c->r, "host STE (SID 0x%x): %s", d->sid,
				  run_host_config(host[0]));
}

void run_vsmmu_invalidate(struct run_ctx *c, const struct run_step *st, const uint64_t (*cmds)[2],
			  unsigned int n, const char *list)
{
	uint64_t(*all)[2] = calloc(n + 1, sizeof(*all));
	unsigned int done, cerror;
	int herr;

	if (!all) {
		run_report_fail(c->r, "out of memory");
		return;
	}
	memcpy(all, cmds, n * sizeof(*all));
	all[n][0] = 0x46; /* CMD_SYNC */
	done = issue(c, (const uint64_t(*)[2])all, n + 1, &cerror, &herr);
	free(all);
	if (done > n)
		done = n;
	run_report_summary(c->r,
			   "%s + CMD_SYNC through the guest's command queue: %u of %u "
			   "consumed%s%s",
			   list, done, n, cerror ? ", then " : "",
			   cerror ? cerror_name(cerror) : "");
	if (herr)
		run_report_fail(c->r, "the host failed: %s", strerror(-herr));
	else if (st->expect_errno && !cerror)
		run_report_fail(c->r, "expected a refusal, every command was consumed");
	else if (!st->expect_errno && cerror)
		run_report_fail(c->r, "command %u refused (%s)", done, cerror_name(cerror));
	else if (st->expect_handled >= 0 && done != (unsigned int)st->expect_handled)
		run_report_fail(c->r, "expected %d consumed, got %u", st->expect_handled, done);
}

/* A stall record: the scenario's page request (its STAG stands for the cookie). */
static void stall_request(struct run_ctx *c, const struct smmuv3_evt *e)
{
	struct iommu_hwpt_pgfault pf = {
		.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		.grpid = e->stag,
		.perm = e->rnw ? IOMMU_PGFAULT_PERM_READ : IOMMU_PGFAULT_PERM_WRITE,
		.addr = e->input,
		.cookie = e->stag,
	};

	for (unsigned int i = 0; i < c->sc->m.nr_devices; i++)
		if (c->sc->m.devices[i].vsid == e->sid)
			pf.dev_id = run_machine_dev_id(c->m, i);
	if (e->ssv) {
		pf.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
		pf.pasid = e->ssid;
	}
	run_add_pr(c, &pf);
}

int run_vsmmu_fault_fd(struct run_ctx *c)
{
	return c->vsm ? vsmmuv3_fault_fd(c->vsm->vs) : -1;
}

int run_vsmmu_resume(struct run_ctx *c, unsigned int dev, uint16_t stag, bool retry)
{
	uint64_t cmds[2][2] = {
		{0x44 | (uint64_t)(retry ? 1 : 2) << 12 |
			 (uint64_t)c->sc->m.devices[dev].vsid << 32,
		 stag},	   /* CMD_RESUME */
		{0x46, 0}, /* CMD_SYNC */
	};
	unsigned int done, cerror;
	int herr;

	done = issue(c, (const uint64_t(*)[2])cmds, 2, &cerror, &herr);
	if (herr)
		return herr;
	return cerror || done != 2 ? -EIO : 0;
}

void run_vsmmu_drain(struct run_ctx *c)
{
	struct run_vsmmu *v = c->vsm;
	uint32_t prod, mask = (2u << EVTQ_LOG2) - 1;

	if (!v)
		return;
	vsmmuv3_poll_events(v->vs);
	prod = mmio_rd(c, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD);
	if ((prod ^ v->evtq_cons) & VSMMUV3_Q_OVFLG) {
		struct run_event ev = {
			.queue = RQ_VEVENTQ, .step = c->step, .lost = true, .guest_evtq = true};

		run_add_event(c, &ev);
		v->evtq_cons ^= VSMMUV3_Q_OVFLG; /* acknowledged */
	}
	while ((prod & mask) != (v->evtq_cons & mask)) {
		struct run_event ev = {.queue = RQ_VEVENTQ, .step = c->step, .guest_evtq = true};
		uint64_t w[4];

		guest_mem_read(&c->gm, v->evtq + 32ULL * (v->evtq_cons & ((1u << EVTQ_LOG2) - 1)),
			       w, sizeof(w));
		for (unsigned int i = 0; i < 4; i++)
			w[i] = le64toh(w[i]);
		smmuv3_evt_decode(w, &ev.e);
		v->evtq_cons = (v->evtq_cons & ~mask) | ((v->evtq_cons + 1) & mask);
		if (ev.e.stall) {
			stall_request(c, &ev.e);
			continue;
		}
		ev.seq = v->evtq_seen++;
		run_add_event(c, &ev);
	}
	mmio_wr(c, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS, 4, v->evtq_cons);
}
