/* SPDX-License-Identifier: MIT */
/*
 * What run_scenario.c (the file, the machine, the readers of values) and
 * run_script.c (the steps and the checks of the script as a whole) share.
 */
#ifndef UIOMMU_TOOLS_RUN_SCENARIO_INT_H
#define UIOMMU_TOOLS_RUN_SCENARIO_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "jfield.h"
#include "run_scenario.h"

/* What the host reserves for MSI doorbells (the SMMUv3 driver's SW_MSI window). */
#define SW_MSI_BASE 0x8000000ULL
#define SW_MSI_SIZE 0x100000ULL
#define RAM_MAX	    (1ULL << 30)
#define IPA_BITS    48 /* the driver's stage 2 */
#define MAX_STEPS   1000
#define PAGE	    4096ULL

struct rl {
	struct jf jf;
	struct run_sc *sc;
	/* Script state while checking the steps. */
	int busy[RUN_MAX_DEVICES];    /* step index of the DMA in flight, -1: none */
	bool has_cd[RUN_MAX_DEVICES]; /* a cd step wrote the device's CD table */
	int page_requests;	      /* read and not yet answered */
};

/* "FILE:LINE:COL: PATH: message" (jf_err()); -EINVAL. */
#define err(rl, ...) jf_err(&(rl)->jf, __VA_ARGS__)

/* A range of guest RAM at @opath.@gkey / .@skey: aligned to @align (1: any), inside one region. */
int rs_check_ram_range(struct rl *rl, const char *opath, const char *gkey, const char *skey,
		       uint64_t gpa, uint64_t size, uint64_t align);
/* "expect": {"error": ERRNO} of an action (and "handled" for an invalidate). */
int rs_parse_action_expect(struct rl *rl, json_t *obj, struct run_step *st, bool handled);
/* "device": a device's name (1 and *dev, 0 absent, -EINVAL). */
int rs_get_device(struct rl *rl, json_t *obj, const char *opath, bool required, int *dev);
/* "table": a guest page table's name (default the first one). */
int rs_get_table(struct rl *rl, json_t *obj, const char *opath, int *table);
/* The same for the table named by @key (default: the first table). */
int rs_get_table_at(struct rl *rl, json_t *obj, const char *opath, const char *key, int *table);
/* "access": "read" or "write" (PT_PROT_R / _W, -1 absent). */
int rs_get_access(struct rl *rl, json_t *obj, const char *opath, int *access);
/* An SMMU event type by name, "any" (-1), or with @abort_ok "abort" (0). */
int rs_get_event_type(struct rl *rl, json_t *obj, const char *opath, const char *key, bool abort_ok,
		      int *type);

/* run_script.c: "steps", checked step by step and as a whole. */
int rs_parse_steps(struct rl *rl, json_t *root);

#endif
