// SPDX-License-Identifier: MIT
/*
 * json_field.c - JSON files for people: loading with positions, key
 * checking, and field readers whose every refusal names the file, line,
 * column and path.
 *
 * A scenario or a topology is documentation that runs, so every mistake in
 * one must come back as a message a person can act on: the file, line and
 * column of the offending value, its path ("stage1.mappings[2].prot"),
 * what was expected and what was found. jansson parses the text and
 * reports syntax errors with a position; the values it returns carry none,
 * so jpos.c indexes the same text once and jf_err() looks the position up
 * by path when (and only when) something is wrong.
 *
 * Shared by lib/vmm's topology loader and the CLI's scenario loaders
 * (tools/uiommu: scenario.c, run_scenario.c, run_script.c); the two
 * spellings they had before they shared this code are kept by the flags of
 * struct jf (json_field.h), so every message reads as it did.
 *
 * Memory: the file's text and the position index come from util/alloc.h
 * (fail-nth reaches them); jansson's own memory is malloc'ed and is not.
 * No locks: a struct jf belongs to one loader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/json_field.h"
#include "util/numparse.h"

/* ---------------------------------------------------------------------- */
/* Messages                                                               */

size_t jf_add(char *buf, size_t len, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (n >= len)
		return n;
	va_start(ap, fmt);
	r = vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return r < 0 ? n : n + (size_t)r;
}

int jf_err(struct jf *jf, const char *path, bool at_key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jpos_vmessage(&jf->pos, jf->file, jf->err, jf->errlen, path, at_key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *describe(const json_t *v, bool quote, char *buf, size_t len)
{
	size_t n = 0;
	const char *s;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	case JSON_INTEGER:
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	case JSON_REAL:
		/* As written, near enough: 1.0 must not read as the integer 1. */
		snprintf(buf, len, "%.15g", json_real_value(v));
		if (!strpbrk(buf, ".eni"))
			jf_add(buf, len, strlen(buf), ".0");
		return buf;
	case JSON_STRING:
		break;
	}
	s = json_string_value(v);
	if (!*s)
		return "\"\" (an empty string)";
	if (quote)
		n = jf_add(buf, len, n, "\"");
	for (; *s && n + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (n >= 40) {
			n = jf_add(buf, len, n, "...");
			break;
		}
		n = c < 0x20 || c == 0x7f ? jf_add(buf, len, n, "\\x%02x", c)
					  : jf_add(buf, len, n, "%c", c);
	}
	if (quote)
		jf_add(buf, len, n, "\"");
	return buf;
}

const char *jf_describe(const json_t *v, char *buf, size_t len)
{
	return describe(v, false, buf, len);
}

const char *jf_describe_as(const struct jf *jf, const json_t *v, char *buf, size_t len)
{
	return describe(v, jf->flags & JF_QUOTE_STRINGS, buf, len);
}

/* Paths are cut at the buffer size; vsnprintf keeps -Wformat-truncation quiet on purpose. */
void jf_pathf(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

void jf_child(char *dst, size_t len, const char *parent, const char *key)
{
	jf_pathf(dst, len, "%s%s%s", parent, *parent ? "." : "", key);
}

int jf_expect_object(struct jf *jf, const json_t *v, const char *path)
{
	char d[64];

	if (json_is_object(v))
		return 0;
	return jf_err(jf, path, false, "expected an object, got %s",
		      jf_describe_as(jf, v, d, sizeof(d)));
}

int jf_check_keys_note(struct jf *jf, json_t *obj, const char *path, const char *const *allowed,
		       const char *note)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		char p[JF_PBUF], list[320];
		size_t n = 0;
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(key, *a);
		if (ok)
			continue;
		for (const char *const *a = allowed; *a; a++)
			n = jf_add(list, sizeof(list), n, "%s%s", a == allowed ? "" : ", ", *a);
		jf_child(p, sizeof(p), path, key);
		return jf_err(jf, p, true, "unknown key (expected %s%s)", list, note ? note : "");
	}
	return 0;
}

int jf_check_keys(struct jf *jf, json_t *obj, const char *path, const char *const *allowed)
{
	return jf_check_keys_note(jf, obj, path, allowed, NULL);
}

/* ---------------------------------------------------------------------- */
/* Values                                                                 */

int jf_value_u64(struct jf *jf, const json_t *v, const char *path, uint64_t *out)
{
	char d[64];
	int ret;

	if (json_is_integer(v)) {
		long long x = json_integer_value(v);

		if (x < 0)
			return jf_err(jf, path, false, "expected a number 0 or above, got %lld", x);
		*out = (uint64_t)x;
		return 0;
	}
	if (json_is_string(v)) {
		ret = parse_u64(json_string_value(v), out);
		if (!ret)
			return 0;
		if (ret == -ERANGE)
			return jf_err(jf, path, false, "%s does not fit in 64 bits",
				      jf_describe_as(jf, v, d, sizeof(d)));
	}
	return jf_err(jf, path, false,
		      "expected a number such as 4096, \"0x1000\" or \"4K\", got %s",
		      jf_describe_as(jf, v, d, sizeof(d)));
}

int jf_get_u64(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
	       uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[JF_PBUF];
	int ret;

	if (!v) {
		if (required)
			return jf_err(jf, opath, false, "missing key \"%s\"", key);
		return 0;
	}
	jf_child(p, sizeof(p), opath, key);
	ret = jf_value_u64(jf, v, p, out);
	return ret ? ret : 1;
}

/* A JSON integer >= 0 or a string parse_u64_plain() accepts (JF_PLAIN_NUMBERS). */
static bool plain_value(const json_t *v, uint64_t *out)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return false;
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	return json_is_string(v) && parse_u64_plain(json_string_value(v), out);
}

int jf_get_small(struct jf *jf, json_t *obj, const char *opath, const char *key, uint64_t lo,
		 uint64_t hi, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char p[JF_PBUF], d[64];
	uint64_t x = 0;
	bool ok = true;
	int ret;

	if (!v)
		return 0;
	jf_child(p, sizeof(p), opath, key);
	if (jf->flags & JF_PLAIN_NUMBERS) {
		ok = plain_value(v, &x);
	} else {
		ret = jf_value_u64(jf, v, p, &x);
		if (ret)
			return ret;
	}
	if (ok && x >= lo && x <= hi) {
		*out = x;
		return 1;
	}
	if ((jf->flags & JF_HEX_BOUNDS) && hi > 0xffff)
		return jf_err(jf, p, false, "expected a number from %llu to 0x%llx, got %s",
			      (unsigned long long)lo, (unsigned long long)hi,
			      jf_describe_as(jf, v, d, sizeof(d)));
	return jf_err(jf, p, false, "expected a number from %llu to %llu, got %s",
		      (unsigned long long)lo, (unsigned long long)hi,
		      jf_describe_as(jf, v, d, sizeof(d)));
}

int jf_get_str(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
	       const char **out)
{
	json_t *v = json_object_get(obj, key);
	char p[JF_PBUF], d[64];

	if (!v) {
		if (required)
			return jf_err(jf, opath, false, "missing key \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v)) {
		jf_child(p, sizeof(p), opath, key);
		return jf_err(jf, p, false, "expected a string, got %s",
			      jf_describe_as(jf, v, d, sizeof(d)));
	}
	*out = json_string_value(v);
	return 1;
}

int jf_get_bool(struct jf *jf, json_t *obj, const char *opath, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	char p[JF_PBUF], d[64];

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		jf_child(p, sizeof(p), opath, key);
		return jf_err(jf, p, false, "expected true or false, got %s",
			      jf_describe_as(jf, v, d, sizeof(d)));
	}
	*out = json_is_true(v);
	return 1;
}

int jf_get_enum(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
		const char *const *names, unsigned int *out)
{
	const char *s = NULL;
	char p[JF_PBUF], d[64], list[320];
	size_t n = 0;
	int ret = jf_get_str(jf, obj, opath, key, required, &s);

	if (ret <= 0 && !(ret == -EINVAL && json_object_get(obj, key)))
		return ret;
	for (unsigned int i = 0; s && names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 1;
		}
	}
	for (unsigned int i = 0; names[i]; i++)
		n = jf_add(list, sizeof(list), n, "%s%s",
			   !i		  ? ""
			   : names[i + 1] ? ", "
					  : " or ",
			   names[i]);
	jf_child(p, sizeof(p), opath, key);
	return jf_err(jf, p, false, "expected %s, got %s", list,
		      jf_describe_as(jf, json_object_get(obj, key), d, sizeof(d)));
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                */

void jf_init(struct jf *jf, const char *file, unsigned int flags, char *err, size_t errlen)
{
	memset(jf, 0, sizeof(*jf));
	jf->file = file;
	jf->flags = flags;
	jf->err = err;
	jf->errlen = errlen;
}

int jf_read_file(const char *file, size_t max, const char *too_big, char **text, size_t *len,
		 char *err, size_t errlen)
{
	struct stat st;
	ssize_t n = 0;
	size_t got = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	*text = NULL;
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", file, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", file,
			 fstat(fd, &st)		? strerror(e)
			 : !S_ISREG(st.st_mode) ? "not a regular file"
						: too_big);
		close(fd);
		return -EINVAL;
	}
	*text = ualloc((size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", file);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, *text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (got < (size_t)st.st_size && n < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		close(fd);
		ufree(*text);
		*text = NULL;
		return -EIO;
	}
	close(fd);
	(*text)[got] = 0;
	*len = got;
	return 0;
}

int jf_parse(struct jf *jf, const char *text, size_t len, json_t **root)
{
	json_error_t jerr;
	int ret;

	*root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*root) {
		/* An integer JSON cannot hold here is one for a string: say how. */
		bool big = json_error_code(&jerr) == json_error_numeric_overflow &&
			   !strncmp(jerr.text, "too big integer", 15);

		snprintf(jf->err, jf->errlen, "%s:%d:%d: invalid JSON: %s%s", jf->file,
			 jerr.line > 0 ? jerr.line : 1, jerr.column > 0 ? jerr.column : 1,
			 jerr.text,
			 big ? " (expected at most 2^63 - 1; write larger numbers as strings, "
			       "e.g. \"0xffff_ffff_ffff_ffff\")"
			     : "");
		return -EINVAL;
	}
	ret = jpos_scan(&jf->pos, text, len);
	if (ret) {
		snprintf(jf->err, jf->errlen, "%s: %s", jf->file,
			 ret == -ENOMEM ? "out of memory" : "cannot index the JSON text");
		json_decref(*root);
		*root = NULL;
	}
	return ret;
}

int jf_load_file(struct jf *jf, size_t max, const char *too_big, json_t **root)
{
	char *text;
	size_t len = 0;
	int ret;

	*root = NULL;
	ret = jf_read_file(jf->file, max, too_big, &text, &len, jf->err, jf->errlen);
	if (ret)
		return ret;
	ret = jf_parse(jf, text, len, root);
	ufree(text);
	return ret;
}

void jf_free(struct jf *jf)
{
	jpos_free(&jf->pos);
}
