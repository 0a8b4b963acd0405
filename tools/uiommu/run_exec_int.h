/* SPDX-License-Identifier: MIT */
/*
 * What run_exec.c (the VMM: boot, events, DMA threads, statistics,
 * teardown) and run_steps.c (one function per kind of step) share: the
 * run's state and the helpers both use. See run_exec.c for the threads
 * and the events.
 */
#ifndef UIOMMU_TOOLS_RUN_EXEC_INT_H
#define UIOMMU_TOOLS_RUN_EXEC_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/iommu.h>
#include <linux/iommufd.h>

#include "hw/smmuv3/smmuv3_iommu.h"
#include "run_exec.h"
#include "run_machine.h"
#include "run_report.h"
#include "run_scenario.h"
#include "run_vsmmu.h"
#include "vmm/guest_mem.h"
#include "vmm/guest_smmuv3.h"
#include "vmm/smmuv3_evt.h"

struct dmatest;

struct run_event {
	enum run_queue queue;
	struct smmuv3_evt e;
	uint32_t seq;	   /* vEVENTQ: the header's sequence */
	bool lost;	   /* vEVENTQ: a LOST_EVENTS header */
	unsigned int step; /* arrived during this step (0: boot) */
	bool consumed;
	bool guest_evtq; /* read from the guest's event queue (machine.iommu.vsmmu) */
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

/* api "vfio": a device's files and DMA FAULT ring (run_vfio.c). */
struct run_vfio_dev {
	struct uiommu_file *group, *dev;
	uint64_t bar0, fault_off, fault_size;
	int fault_region, fault_irq;
	const uint8_t *ring; /* the mmap()ed records */
	int fault_efd;
	uint32_t tail;	  /* our consumer index */
	int vec_event[2]; /* the doorbell event each MSI-X vector signals (-1: none) */
};

/* A record read from a device's DMA FAULT ring. */
struct run_vfio_fault {
	unsigned int dev, index, step;
	struct iommu_fault f;
	bool consumed;
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
	struct run_vsmmu *vsm;	 /* machine.iommu.vsmmu: the front end and the guest's driver */

	/* api "vfio" (run_vfio.c) */
	struct uiommu_file *container;
	struct run_vfio_dev vd[RUN_MAX_DEVICES];
	unsigned int s1_config; /* the last SET_PASID_TABLE config (0: none) */
	bool msi_bound;
	uint64_t msi_iova;
	uint64_t vfio_irqs; /* MSI-X eventfd signals taken */
	struct run_vfio_fault *faults;
	size_t nfaults, capfaults;
};

/* An ioctl on the run's iommufd: 0 or -errno. */
int run_ioc(struct run_ctx *c, unsigned long req, void *arg);
/* "EINVAL" for EINVAL or -EINVAL. */
const char *run_errno_name(int e);
/* A size for people: "8K", "16 bytes", "0x1800 bytes"; @b has 32 bytes. */
const char *run_sz(uint64_t v, char *b);
/* An SMMU event type's name, "abort (no event)" for 0. */
const char *run_evt_name(unsigned int type);
uint64_t run_now_ms(void);
/* The device's BAR0 registers, as its driver accesses them. */
int run_reg_rd(struct run_ctx *c, unsigned int dev, uint64_t off, unsigned int size, uint64_t *v);
int run_reg_wr(struct run_ctx *c, unsigned int dev, uint64_t off, unsigned int size, uint64_t v);
/* An event as JSON. */
json_t *run_evt_json(const struct run_event *ev);
/* Collect page requests; everything (vEVENTs, the host log, page requests, interrupts). */
void run_drain_faults(struct run_ctx *c);
/* Keep and report a page request (the fault queue's, or the guest's stall record). */
void run_add_pr(struct run_ctx *c, const struct iommu_hwpt_pgfault *pf);
/* Where page requests arrive: the runner's fault queue, or the vSMMU's; -1: none. */
int run_fault_fd(struct run_ctx *c);
/* Answer page request @pr (IOMMUFD_PAGE_RESP_*): the fault queue, or the guest's RESUME. 0/-errno
 */
int run_answer_pr(struct run_ctx *c, struct run_pr *pr, uint32_t code);
void run_drain_all(struct run_ctx *c);
/* A DMA: ring GO on a thread of its own; wait for it (@sync: the step's own DMA). */
int run_job_start(struct run_ctx *c, unsigned int dev);
int run_job_wait(struct run_ctx *c, unsigned int dev, bool sync);
/* Counters in run_stat_names[] order, lines for people, JSON. */
void run_stats_snapshot(struct run_ctx *c, uint64_t *v);
unsigned int run_stats_lines(const uint64_t *v, char lines[][200]);
json_t *run_stats_json(const uint64_t *v);
/* "nested (stage 1 over stage 2)" for a host STE's word 0. */
const char *run_host_config(uint64_t ste0);

/* run_vfio.c: the VFIO path (machine.iommu.api "vfio"). */
int run_vfio_boot_fail(struct run_ctx *c, const char *what, int ret);
int run_vfio_boot(struct run_ctx *c);
void run_vfio_close(struct run_ctx *c);
int run_vfio_reg(struct run_ctx *c, unsigned int dev, uint64_t off, unsigned int size, uint64_t *v,
		 bool write);
void run_vfio_drain(struct run_ctx *c);
/* Records no step consumed: how many, the first's step and line. */
unsigned int run_vfio_leftovers(struct run_ctx *c, unsigned int *first, char *line, size_t len);
const char *run_vfio_reason_name(unsigned int reason);
void run_vfio_step_map(struct run_ctx *c, const struct run_step *st);
void run_vfio_step_ste(struct run_ctx *c, const struct run_step *st);
void run_vfio_step_invalidate(struct run_ctx *c, const struct run_step *st);
void run_vfio_step_msi(struct run_ctx *c, const struct run_step *st);
void run_vfio_step_expect_fault(struct run_ctx *c, const struct run_step *st);

/* Report an event and keep it for the expect_event steps. */
void run_add_event(struct run_ctx *c, const struct run_event *ev);

/* run_steps.c: carry out one step, reporting to c->r. */
void run_exec_step(struct run_ctx *c, const struct run_step *st);

#endif
