// SPDX-License-Identifier: MIT
/*
 * run_report.c - how `uiommu run` shows what happened (run_report.h).
 *
 * Every step builds a JSON object whatever the output form, so the two
 * forms cannot disagree: the human form prints the object's summary,
 * details and failure when the step ends (so the lines of a step stay
 * together even when events arrived while it ran), the JSON form keeps
 * the objects and prints one document at the end. Output is flushed per
 * step, so a run that hangs shows how far it got.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"
#include "run_report.h"

struct run_report {
	const struct run_sc *sc;
	bool json;
	int verbose;
	FILE *out;
	json_t *doc, *steps, *events;
	/* The step under way. */
	json_t *step;
	const struct run_step *st;
	unsigned int index;
	bool step_failed;
	/* The run. */
	bool failed;
	unsigned int failed_step;
	char failure[1024];
};

json_t *run_json_hex(uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v);
	return json_string(b);
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

struct run_report *run_report_new(const struct run_sc *sc, bool json, int verbose, FILE *out)
{
	struct run_report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->sc = sc;
	r->json = json;
	r->verbose = verbose;
	r->out = out;
	r->doc = json_object();
	r->steps = json_array();
	r->events = json_array();
	if (!r->doc || !r->steps || !r->events) {
		run_report_free(r);
		return NULL;
	}
	json_object_set_new(r->doc, "scenario", json_string(sc->file));
	json_object_set_new(r->doc, "description",
			    sc->description ? json_string(sc->description) : json_null());
	json_object_set_new(r->doc, "machine", json_array());
	json_object_set_new(r->doc, "boot", json_array());
	if (!json) {
		fprintf(out, "uiommu run %s\n", sc->file);
		if (sc->description)
			fprintf(out, "  %s\n", sc->description);
		fprintf(out, "\n");
	}
	return r;
}

void run_report_free(struct run_report *r)
{
	if (!r)
		return;
	json_decref(r->step);
	json_decref(r->doc);
	json_decref(r->steps);
	json_decref(r->events);
	free(r);
}

void run_report_line(struct run_report *r, const char *section, const char *fmt, ...)
{
	json_t *arr = json_object_get(r->doc, section);
	static const char *last;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	if (!s)
		return;
	if (arr)
		json_array_append_new(arr, json_string(s));
	if (!r->json) {
		fprintf(r->out, "%-9s%s\n", last != section ? section : "", s);
		last = section;
	}
	free(s);
}

void run_report_step_begin(struct run_report *r, unsigned int index, const struct run_step *st)
{
	json_decref(r->step);
	r->step = json_pack("{s:i, s:s, s:i, s:s, s:[]}", "index", (int)index, "step",
			    run_step_name(st->kind), "line", st->line, "result", "pass", "details");
	r->st = st;
	r->index = index;
	r->step_failed = false;
	if (st->note)
		json_object_set_new(r->step, "note", json_string(st->note));
}

static void step_set(struct run_report *r, const char *key, const char *fmt, va_list ap)
{
	char *s = vfmt(fmt, ap);

	if (s && r->step)
		json_object_set_new(r->step, key, json_string(s));
	free(s);
}

void run_report_summary(struct run_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	step_set(r, "summary", fmt, ap);
	va_end(ap);
}

static void add_detail(struct run_report *r, bool verbose, const char *fmt, va_list ap)
{
	char *s = vfmt(fmt, ap);

	if (s && r->step)
		json_array_append_new(json_object_get(r->step, verbose ? "words" : "details"),
				      json_string(s));
	free(s);
}

void run_report_detail(struct run_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_detail(r, false, fmt, ap);
	va_end(ap);
}

void run_report_verbose(struct run_report *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->step)
		return;
	if (!json_object_get(r->step, "words"))
		json_object_set_new(r->step, "words", json_array());
	va_start(ap, fmt);
	add_detail(r, true, fmt, ap);
	va_end(ap);
}

void run_report_fail(struct run_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->step_failed)
		return;
	r->step_failed = true;
	va_start(ap, fmt);
	step_set(r, "failure", fmt, ap);
	va_end(ap);
	json_object_set_new(r->step, "result", json_string("fail"));
}

bool run_report_failed(const struct run_report *r)
{
	return r->step_failed;
}

json_t *run_report_step_json(struct run_report *r)
{
	return r->step;
}

void run_report_step_end(struct run_report *r)
{
	const char *summary = json_string_value(json_object_get(r->step, "summary"));
	const char *failure = json_string_value(json_object_get(r->step, "failure"));
	json_t *arr, *v;
	size_t i;

	if (!r->json) {
		if (r->st->note)
			fprintf(r->out, "%5s# %s\n", "", r->st->note);
		fprintf(r->out, "%3u  %-20s %s\n", r->index, run_step_name(r->st->kind),
			summary ? summary : "");
		arr = json_object_get(r->step, "details");
		json_array_foreach(arr, i, v)
			fprintf(r->out, "%5s%-20s %s\n", "", "", json_string_value(v));
		arr = json_object_get(r->step, "words");
		if (r->verbose)
			json_array_foreach(arr, i, v)
				fprintf(r->out, "%5s%-20s %s\n", "", "", json_string_value(v));
		if (failure)
			fprintf(r->out, "%5s%-20s FAIL: %s\n", "", "", failure);
		fflush(r->out);
	}
	if (r->step_failed && !r->failed) {
		r->failed = true;
		r->failed_step = r->index;
		snprintf(r->failure, sizeof(r->failure), "step %u (%s, line %d): %s", r->index,
			 run_step_name(r->st->kind), r->st->line, failure ? failure : "failed");
	}
	json_array_append_new(r->steps, r->step);
	r->step = NULL;
	r->st = NULL;
}

void run_report_fail_run(struct run_report *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	if (!r->json)
		fprintf(r->out, "FAIL: %s\n", s ? s : "");
	if (!r->failed) {
		r->failed = true;
		snprintf(r->failure, sizeof(r->failure), "%s", s ? s : "");
	}
	free(s);
}

void run_report_event(struct run_report *r, json_t *ev, const char *line)
{
	if (r->step) {
		json_t *arr = json_object_get(r->step, "events");

		if (!arr) {
			arr = json_array();
			json_object_set_new(r->step, "events", arr);
		}
		json_array_append(arr, ev);
		json_array_append_new(json_object_get(r->step, "details"), json_string(line));
	} else if (!r->json) {
		fprintf(r->out, "%-9s%s\n", "", line);
	}
	json_array_append_new(r->events, ev);
}

void run_report_stats(struct run_report *r, const char *const *lines, unsigned int n, json_t *obj)
{
	json_object_set_new(r->doc, "stats", obj);
	if (r->json)
		return;
	fprintf(r->out, "\nstatistics\n");
	for (unsigned int i = 0; i < n; i++)
		fprintf(r->out, "  %s\n", lines[i]);
}

int run_report_finish(struct run_report *r, unsigned int steps_run)
{
	unsigned int total = r->sc->nr_steps;

	json_object_set_new(r->doc, "steps", r->steps);
	json_object_set_new(r->doc, "events", r->events);
	r->steps = r->events = NULL;
	json_object_set_new(r->doc, "steps_run", json_integer(steps_run));
	json_object_set_new(r->doc, "result", json_string(r->failed ? "FAIL" : "PASS"));
	if (r->failed) {
		json_object_set_new(r->doc, "failed_step",
				    r->failed_step ? json_integer(r->failed_step) : json_null());
		json_object_set_new(r->doc, "failure", json_string(r->failure));
	}
	if (r->json) {
		/* The document stays r->doc's (run_report_free() drops it). */
		if (print_json_doc(r->out, json_incref(r->doc))) {
			fflush(r->out);
			warnx("the JSON report could not be written");
			return 1;
		}
	} else {
		fprintf(r->out, "\n");
		if (r->failed && steps_run + 1 == total)
			fprintf(r->out, "not run: step %u\n", total);
		else if (r->failed && steps_run < total)
			fprintf(r->out, "not run: steps %u-%u\n", steps_run + 1, total);
		if (r->failed)
			fprintf(r->out, "FAIL: %s\n", r->failure);
		else
			fprintf(r->out, "PASS: %u steps\n", total);
	}
	fflush(r->out);
	return r->failed ? 1 : 0;
}
