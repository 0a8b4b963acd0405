/* SPDX-License-Identifier: MIT */
/*
 * `uiommu run` with machine.iommu.vsmmu: the guest drives a vSMMUv3
 * (lib/vmm/vsmmuv3.h) as it drives hardware, and the runner is its VMM.
 * The boot programs the vSMMU's registers (stream table, queues in the
 * guest's pool), `ste` steps write the STE into the guest's stream table
 * and issue CFGI_STE + CMD_SYNC through its command queue, `invalidate`
 * steps go through the command queue (CONS.ERR and GERROR for a refused
 * command), and events reach the scenario through the guest's event queue.
 */
#ifndef UIOMMU_TOOLS_RUN_VSMMU_H
#define UIOMMU_TOOLS_RUN_VSMMU_H

#include <stdbool.h>
#include <stdint.h>

struct run_ctx;
struct run_step;

/* After the parent HWPT exists (c->s2hwpt): the front end, the guest's driver probe. -errno. */
int run_vsmmu_boot(struct run_ctx *c);
void run_vsmmu_free(struct run_ctx *c);
/* The guest writes STE words @w for the step's device and invalidates them. */
void run_vsmmu_ste(struct run_ctx *c, const struct run_step *st, const uint64_t w[2],
		   const char *what);
/* The guest issues @n commands (CPU order) and a CMD_SYNC; @list describes them. */
void run_vsmmu_invalidate(struct run_ctx *c, const struct run_step *st, const uint64_t (*cmds)[2],
			  unsigned int n, const char *list);
/*
 * The event pump, then the records the guest finds in its event queue (a
 * stall record is a page request: run_add_pr(), its STAG as the cookie).
 */
void run_vsmmu_drain(struct run_ctx *c);
/* The front end's fault queue fd (poll it for page requests), or -1. */
int run_vsmmu_fault_fd(struct run_ctx *c);
/*
 * The guest answers the stall of @dev with tag @stag: CMD_RESUME (@retry:
 * Retry, else Abort) + CMD_SYNC through its command queue. 0 or -errno.
 */
int run_vsmmu_resume(struct run_ctx *c, unsigned int dev, uint16_t stag, bool retry);

#endif
