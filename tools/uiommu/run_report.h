/* SPDX-License-Identifier: MIT */
/*
 * The report of `uiommu run`: readable lines as the run goes, or one JSON
 * document at the end (--json). The runner says what happened; this file
 * decides how it looks.
 *
 * Human form: the machine and boot lines, then one line per step
 * ("  7  check      GPA 0x40102000 +8K: 8192 bytes as expected"), its
 * detail lines indented below it (events delivered, interrupts, words
 * with -v), "FAIL: why" under a failed step, the statistics, and a last
 * line "PASS: N steps" or "FAIL: step N (KIND, line L): why".
 *
 * JSON form: {"scenario", "description", "machine": [...lines],
 * "boot": [...lines], "steps": [{"index", "step", "line", "result",
 * "summary", "details", "failure", ...step fields}], "events": [...],
 * "stats": {...}, "result", "failed_step", "failure"}.
 */
#ifndef UIOMMU_TOOLS_RUN_REPORT_H
#define UIOMMU_TOOLS_RUN_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "run_scenario.h"

struct run_report;

struct run_report *run_report_new(const struct run_sc *sc, bool json, int verbose, FILE *out);
void run_report_free(struct run_report *r);

/* A line of the machine description or of the boot (section "machine" or "boot"). */
void run_report_line(struct run_report *r, const char *section, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Steps: begin, then any of summary / detail / fail / fields, then end. */
void run_report_step_begin(struct run_report *r, unsigned int index, const struct run_step *st);
void run_report_summary(struct run_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void run_report_detail(struct run_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A detail line shown only with -v (and always in JSON). */
void run_report_verbose(struct run_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The step fails (the first message is kept). */
void run_report_fail(struct run_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool run_report_failed(const struct run_report *r);
/* The step's JSON object, for fields of its own (borrowed). */
json_t *run_report_step_json(struct run_report *r);
void run_report_step_end(struct run_report *r);
/* A failure outside any step (boot, teardown, leftovers): the run fails. */
void run_report_fail_run(struct run_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* An event delivered (JSON "events" gets @ev; a detail line @line). */
void run_report_event(struct run_report *r, json_t *ev, const char *line);
/* Statistics: lines for people, an object for programs (stolen). */
void run_report_stats(struct run_report *r, const char *const *lines, unsigned int n, json_t *obj);

/* Print the end (and the JSON document); the exit status: 0 PASS, 1 FAIL. */
int run_report_finish(struct run_report *r, unsigned int steps_run);

/* "0x1234" for JSON. */
json_t *run_json_hex(uint64_t v);

#endif
