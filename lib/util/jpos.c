// SPDX-License-Identifier: MIT
/*
 * jpos.c - where each JSON value starts, for error messages.
 *
 * The scanner is a recursive descent over text that jansson has already
 * parsed, so it can be small: it still refuses anything malformed rather
 * than trusting that, and it never reads past @len. Lines count '\n';
 * columns count characters (UTF-8 lead bytes), 1-based, which is how
 * jansson counts them in json_error_t, so syntax and semantic errors point
 * the same way. Keys are decoded (escapes, \u surrogate pairs) so that the
 * path of a value is the same string the loader builds from jansson's keys.
 *
 * The index is a flat array searched linearly: scenario and topology
 * files have a few hundred values, and lookups happen only when an error
 * is reported. It lives in lib/util because both the CLI (scenarios) and
 * the library (lib/vmm's topology files) report positions; its memory
 * comes from util/alloc.h like the rest of the library's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/jpos.h"

#define JPOS_MAX_DEPTH 2048

struct scan {
	const char *s;
	size_t len, i;
	int line, col;
	struct jpos *jp;
	int depth;
};

struct sbuf {
	char *p;
	size_t n, cap;
};

/* A larger block from the library's allocator, with @old's @old_size bytes; @old is freed. */
static void *grow(void *old, size_t old_size, size_t new_size)
{
	void *p = ualloc(new_size);

	if (!p)
		return NULL;
	if (old)
		memcpy(p, old, old_size);
	ufree(old);
	return p;
}

static int sbuf_putc(struct sbuf *b, char c)
{
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		char *p = grow(b->p, b->p ? b->n + 1 : 0, cap);

		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	b->p[b->n++] = c;
	b->p[b->n] = 0;
	return 0;
}

static int sbuf_puts(struct sbuf *b, const char *s)
{
	for (; *s; s++)
		if (sbuf_putc(b, *s))
			return -ENOMEM;
	return 0;
}

static int peek(const struct scan *sc)
{
	return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

static int next(struct scan *sc)
{
	int c = peek(sc);

	if (c < 0)
		return c;
	sc->i++;
	if (c == '\n') {
		sc->line++;
		sc->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		sc->col++;
	}
	return c;
}

static void skip_ws(struct scan *sc)
{
	int c;

	while ((c = peek(sc)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		next(sc);
}

static int record(struct scan *sc, const char *path, int line, int col, int kline, int kcol)
{
	struct jpos *jp = sc->jp;
	struct jpos_entry *e;

	if (jp->n == jp->cap) {
		size_t cap = jp->cap ? jp->cap * 2 : 64;

		e = grow(jp->e, jp->n * sizeof(*e), cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		jp->e = e;
		jp->cap = cap;
	}
	e = &jp->e[jp->n];
	e->path = ualloc(strlen(path) + 1);
	if (!e->path)
		return -ENOMEM;
	memcpy(e->path, path, strlen(path) + 1);
	e->line = line;
	e->col = col;
	e->key_line = kline;
	e->key_col = kcol;
	jp->n++;
	return 0;
}

static int hex4(struct scan *sc, unsigned int *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++) {
		int c = next(sc), d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		*v = *v << 4 | (unsigned int)d;
	}
	return 0;
}

static int put_utf8(struct sbuf *b, unsigned int cp)
{
	char u[5] = {0};

	if (cp < 0x80) {
		u[0] = (char)cp;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
	}
	return sbuf_puts(b, u);
}

/* A string at the cursor (opening quote); decoded into @out when not NULL. */
static int scan_string(struct scan *sc, struct sbuf *out)
{
	int c;

	if (next(sc) != '"')
		return -EINVAL;
	for (;;) {
		c = next(sc);
		if (c < 0)
			return -EINVAL;
		if (c == '"')
			return 0;
		if (c != '\\') {
			if (out && sbuf_putc(out, (char)c))
				return -ENOMEM;
			continue;
		}
		c = next(sc);
		switch (c) {
		case '"':
		case '\\':
		case '/':
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u': {
			unsigned int cp, lo;

			if (hex4(sc, &cp))
				return -EINVAL;
			if (cp >= 0xd800 && cp < 0xdc00 && peek(sc) == '\\') {
				next(sc);
				if (next(sc) != 'u' || hex4(sc, &lo))
					return -EINVAL;
				if (lo >= 0xdc00 && lo < 0xe000)
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (out && put_utf8(out, cp))
				return -ENOMEM;
			continue;
		}
		default:
			return -EINVAL;
		}
		if (out && sbuf_putc(out, (char)c))
			return -ENOMEM;
	}
}

static int scan_value(struct scan *sc, struct sbuf *path, int kline, int kcol);

static int scan_object(struct scan *sc, struct sbuf *path)
{
	size_t base = path->n;
	int c, ret;

	next(sc); /* '{' */
	skip_ws(sc);
	if (peek(sc) == '}') {
		next(sc);
		return 0;
	}
	for (;;) {
		int kline, kcol;

		skip_ws(sc);
		kline = sc->line;
		kcol = sc->col;
		if (base && sbuf_putc(path, '.'))
			return -ENOMEM;
		ret = scan_string(sc, path);
		if (ret)
			return ret;
		skip_ws(sc);
		if (next(sc) != ':')
			return -EINVAL;
		ret = scan_value(sc, path, kline, kcol);
		if (ret)
			return ret;
		path->n = base;
		if (path->p)
			path->p[base] = 0;
		skip_ws(sc);
		c = next(sc);
		if (c == '}')
			return 0;
		if (c != ',')
			return -EINVAL;
	}
}

static int scan_array(struct scan *sc, struct sbuf *path)
{
	size_t base = path->n;
	unsigned long idx = 0;
	int c, ret;

	next(sc); /* '[' */
	skip_ws(sc);
	if (peek(sc) == ']') {
		next(sc);
		return 0;
	}
	for (;; idx++) {
		char sub[32];

		snprintf(sub, sizeof(sub), "[%lu]", idx);
		if (sbuf_puts(path, sub))
			return -ENOMEM;
		ret = scan_value(sc, path, 0, 0);
		if (ret)
			return ret;
		path->n = base;
		path->p[base] = 0;
		skip_ws(sc);
		c = next(sc);
		if (c == ']')
			return 0;
		if (c != ',')
			return -EINVAL;
	}
}

static int scan_value(struct scan *sc, struct sbuf *path, int kline, int kcol)
{
	int c, ret;

	skip_ws(sc);
	ret = record(sc, path->p ? path->p : "", sc->line, sc->col, kline, kcol);
	if (ret)
		return ret;
	c = peek(sc);
	if (c == '{' || c == '[') {
		if (++sc->depth > JPOS_MAX_DEPTH)
			return -EINVAL;
		ret = c == '{' ? scan_object(sc, path) : scan_array(sc, path);
		sc->depth--;
		return ret;
	}
	if (c == '"')
		return scan_string(sc, NULL);
	/* number, true, false, null: up to the next delimiter */
	if (c < 0 || c == ',' || c == ']' || c == '}' || c == ':')
		return -EINVAL;
	while ((c = peek(sc)) >= 0 && c != ',' && c != ']' && c != '}' && c != ' ' && c != '\t' &&
	       c != '\n' && c != '\r')
		next(sc);
	return 0;
}

int jpos_scan(struct jpos *jp, const char *text, size_t len)
{
	struct scan sc = {.s = text, .len = len, .line = 1, .col = 1, .jp = jp};
	struct sbuf path = {0};
	int ret;

	memset(jp, 0, sizeof(*jp));
	ret = scan_value(&sc, &path, 0, 0);
	ufree(path.p);
	if (ret)
		jpos_free(jp);
	return ret;
}

bool jpos_find(const struct jpos *jp, const char *path, bool key, int *line, int *col)
{
	/* The last match wins, as a duplicate key's last value is the one kept. */
	for (size_t i = jp->n; i-- > 0;) {
		const struct jpos_entry *e = &jp->e[i];

		if (strcmp(e->path, path))
			continue;
		if (key && e->key_line) {
			*line = e->key_line;
			*col = e->key_col;
		} else {
			*line = e->line;
			*col = e->col;
		}
		return true;
	}
	return false;
}

void jpos_free(struct jpos *jp)
{
	for (size_t i = 0; i < jp->n; i++)
		ufree(jp->e[i].path);
	ufree(jp->e);
	memset(jp, 0, sizeof(*jp));
}

/* "a.b[2]" -> "a.b" -> "a" -> "". */
static void path_parent(char *p)
{
	char *dot = strrchr(p, '.'), *br = strrchr(p, '[');
	char *cut = dot > br ? dot : br;

	if (cut)
		*cut = 0;
	else
		*p = 0;
}

void jpos_vmessage(const struct jpos *jp, const char *file, char *err, size_t errlen,
		   const char *path, bool at_key, const char *fmt, va_list ap)
{
	char p[256];
	int line = 1, col = 1, r;
	bool found;
	size_t n;

	snprintf(p, sizeof(p), "%s", path);
	found = jpos_find(jp, p, at_key, &line, &col);
	while (!found && *p) {
		path_parent(p);
		found = jpos_find(jp, p, false, &line, &col);
	}
	if (*path)
		r = snprintf(err, errlen, "%s:%d:%d: %s: ", file, line, col, path);
	else
		r = snprintf(err, errlen, "%s:%d:%d: ", file, line, col);
	n = r < 0 ? 0 : (size_t)r;
	if (n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
}
