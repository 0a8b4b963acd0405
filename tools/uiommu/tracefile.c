// SPDX-License-Identifier: MIT
/*
 * tracefile.c - reading DMA traces (iova,len,r|w[,pasid] lines).
 *
 * What it owns: the trace syntax and its error messages. A trace is read
 * whole into an array of 16-byte operations before anything is replayed,
 * so that a bad line 900,000 is reported before any result is printed,
 * and so that --sweep can replay the same operations many times.
 *
 * A line is cut at the first '#', split at commas into three or four
 * fields, and each field is trimmed of blanks; a line left empty is
 * skipped. The numbers are parse_u64()'s (the scenario files' spelling).
 * The context of a line (which stage 1 it goes through) is not known here:
 * the caller's callback turns the line's PASID, or its absence, into a
 * small context number and can refuse it, and the message is then
 * prefixed with the file and line like every other.
 *
 * Limits, so that no input can make the replay run away: a transaction
 * moves 1 byte to 4 GiB and may not run past 2^64; PASIDs are 20 bits.
 * The line shown in a message is cut to 60 characters and anything that
 * is not printable ASCII is written \xNN, so a binary file gives a
 * readable one-line error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "tracefile.h"

#define SHOW_MAX 60

/* @s (of @len bytes) as a quoted, escaped, cut-down string. */
static void show(const char *s, size_t len, char *buf, size_t blen)
{
	size_t o = 0;

	buf[o++] = '\'';
	for (size_t i = 0; i < len && o + 8 < blen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == SHOW_MAX) {
			o += (size_t)snprintf(buf + o, blen - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, blen - o, "\\x%02x", c);
	}
	buf[o++] = '\'';
	buf[o] = 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

static int push(struct trace *t, const struct trace_op *op)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		struct trace_op *ops = realloc(t->ops, cap * sizeof(*ops));

		if (!ops)
			return -ENOMEM;
		t->ops = ops;
		t->cap = cap;
	}
	t->ops[t->n++] = *op;
	return 0;
}

enum line_result { LINE_OK, LINE_EMPTY, LINE_SYNTAX, LINE_OTHER };

/*
 * Parse one line (modified in place). LINE_SYNTAX (not three or four
 * fields): the generic message with the whole line; LINE_OTHER: @why says
 * which field is wrong and what it should be.
 */
static enum line_result parse_line(char *line, struct trace_op *op, bool *has_pasid,
				   uint32_t *pasid, char *why, size_t wlen)
{
	char *field[5], *hash = strchr(line, '#'), *p = line, shown[SHOW_MAX * 4 + 16];
	unsigned int nf = 0;
	uint64_t iova, len, v;
	int ret;

	if (hash)
		*hash = 0;
	if (!*trim(line))
		return LINE_EMPTY;
	for (;;) {
		char *comma = strchr(p, ',');

		if (nf == 5)
			return LINE_SYNTAX;
		field[nf++] = p;
		if (!comma)
			break;
		*comma = 0;
		p = comma + 1;
	}
	if (nf < 3 || nf > 4)
		return LINE_SYNTAX;
	for (unsigned int i = 0; i < nf; i++)
		field[i] = trim(field[i]);

	/* Three or four fields: from here on a message names the field that is wrong. */
	ret = parse_u64(field[0], &iova);
	if (ret) {
		show(field[0], strlen(field[0]), shown, sizeof(shown));
		snprintf(why, wlen, "expected an IOVA %s, got %s",
			 ret == -ERANGE ? "below 2^64" : "such as 0x1000 or 4096", shown);
		return LINE_OTHER;
	}
	ret = parse_u64(field[1], &len);
	if (ret || !len || len > TRACE_MAX_LEN) {
		show(field[1], strlen(field[1]), shown, sizeof(shown));
		snprintf(why, wlen, "expected a length from 1 to 4G, got %s", shown);
		return LINE_OTHER;
	}
	if (iova > UINT64_MAX - (len - 1)) {
		snprintf(why, wlen,
			 "0x%llx + %llu bytes runs past the end of the 64-bit "
			 "address space",
			 (unsigned long long)iova, (unsigned long long)len);
		return LINE_OTHER;
	}
	if (strcmp(field[2], "r") && strcmp(field[2], "w")) {
		show(field[2], strlen(field[2]), shown, sizeof(shown));
		snprintf(why, wlen, "expected the access r or w, got %s", shown);
		return LINE_OTHER;
	}
	*has_pasid = nf == 4;
	if (nf == 4) {
		ret = parse_u64(field[3], &v);
		if (ret || v > TRACE_MAX_PASID) {
			show(field[3], strlen(field[3]), shown, sizeof(shown));
			snprintf(why, wlen, "expected a PASID from 0 to %u, got %s", TRACE_MAX_PASID,
				 shown);
			return LINE_OTHER;
		}
		*pasid = (uint32_t)v;
	}
	op->iova = iova;
	op->len_m1 = (uint32_t)(len - 1);
	op->write = field[2][0] == 'w';
	return LINE_OK;
}

int trace_load(const char *file, trace_ctx_fn fn, void *arg, struct trace *t, char *err,
	       size_t errlen)
{
	bool is_stdin = !strcmp(file, "-");
	FILE *f = is_stdin ? stdin : fopen(file, "r");
	char *line = NULL, *copy = NULL, why[512], shown[SHOW_MAX * 4 + 16];
	size_t cap = 0, ccap = 0;
	unsigned long lineno = 0;
	bool open_line = false; /* the last line read has no '\n' */
	ssize_t len;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	t->file = strdup(is_stdin ? "<stdin>" : file);
	if (!t->file) {
		snprintf(err, errlen, "%s: out of memory", file);
		goto out;
	}
	if (!f) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		goto out;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct trace_op op = {0};
		bool has_pasid = false;
		uint32_t pasid = 0;
		size_t shown_len = (size_t)len;

		lineno++;
		open_line = line[len - 1] != '\n';
		while (shown_len && (line[shown_len - 1] == '\n' || line[shown_len - 1] == '\r'))
			shown_len--;
		/* Keep the line as it was for the message; parsing cuts it up. */
		if ((size_t)len + 1 > ccap) {
			free(copy);
			ccap = (size_t)len + 1;
			copy = malloc(ccap);
			if (!copy) {
				snprintf(err, errlen, "%s: out of memory", t->file);
				goto out;
			}
		}
		memcpy(copy, line, shown_len);
		copy[shown_len] = 0;
		if (memchr(line, 0, (size_t)len)) {
			show(copy, shown_len, shown, sizeof(shown));
			snprintf(err, errlen, "%s:%lu: expected iova,len,r|w[,pasid], got %s",
				 t->file, lineno, shown);
			goto out;
		}
		switch (parse_line(line, &op, &has_pasid, &pasid, why, sizeof(why))) {
		case LINE_EMPTY:
			continue;
		case LINE_SYNTAX:
			show(copy, shown_len, shown, sizeof(shown));
			snprintf(err, errlen, "%s:%lu: expected iova,len,r|w[,pasid], got %s",
				 t->file, lineno, shown);
			goto out;
		case LINE_OTHER:
			snprintf(err, errlen, "%s:%lu: %s", t->file, lineno, why);
			goto out;
		case LINE_OK:
			break;
		}
		if (fn(arg, has_pasid, pasid, &op.ctx, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%lu: %s", t->file, lineno, why);
			goto out;
		}
		if (push(t, &op)) {
			snprintf(err, errlen, "%s: out of memory at line %lu", t->file, lineno);
			goto out;
		}
		t->bytes += (uint64_t)op.len_m1 + 1;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", t->file, strerror(errno));
		goto out;
	}
	if (!t->n) {
		/* Where the file ends, as the JSON loaders say it: the line after a last '\n'. */
		snprintf(err, errlen,
			 "%s:%lu: expected lines iova,len,r|w[,pasid], got the end of the file "
			 "and no transaction",
			 t->file, lineno + !open_line);
		goto out;
	}
	ret = 0;
out:
	free(line);
	free(copy);
	if (f && !is_stdin)
		fclose(f);
	if (ret)
		trace_free(t);
	return ret;
}

void trace_free(struct trace *t)
{
	free(t->file);
	free(t->ops);
	memset(t, 0, sizeof(*t));
}
