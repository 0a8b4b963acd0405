/* SPDX-License-Identifier: MIT */
/*
 * JSON files with messages that point at the mistake: loading (read,
 * parse, index every value's position), key checking and the typed field
 * readers that every loader shares (lib/vmm's topology files, the CLI's
 * walk/trace and run scenarios). Each reader checks one value and, when it
 * is wrong, writes one line "FILE:LINE:COL: PATH: what was expected, got
 * what" and returns -EINVAL; paths are written as in the messages
 * ("steps[3].expect.addr"; the root is "").
 *
 * Two spellings grew up apart and both are kept, chosen per file by the
 * flags of jf_init(): scenario files (0) and topology files (JF_TOPOLOGY,
 * as doc/topology.md documents them).
 */
#ifndef UIOMMU_UTIL_JSON_FIELD_H
#define UIOMMU_UTIL_JSON_FIELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/jpos.h"

#define JF_PBUF 256 /* path buffers: long enough for an unknown key's path */

/* "got \"abc\"" rather than "got abc" for a string value. */
#define JF_QUOTE_STRINGS (1u << 0)
/*
 * Numbers given as strings are decimal or 0x-hex digits only (no '_', no
 * suffix), and every bad number, whatever is wrong with it, gets the range
 * message "expected a number from LO to HI, got ...".
 */
#define JF_PLAIN_NUMBERS (1u << 1)
/* Range messages write a top bound above 0xffff in hex ("from 0 to 0x7fffffff"). */
#define JF_HEX_BOUNDS (1u << 2)
#define JF_TOPOLOGY   (JF_QUOTE_STRINGS | JF_PLAIN_NUMBERS | JF_HEX_BOUNDS)

struct jf {
	const char *file;
	unsigned int flags; /* JF_* above */
	struct jpos pos;    /* where each value of the file starts */
	char *err;
	size_t errlen;
};

/* Start on @file (named in every message), writing messages to @err. Keeps both pointers. */
void jf_init(struct jf *jf, const char *file, unsigned int flags, char *err, size_t errlen);
/*
 * Read @file (a regular file of at most @max bytes) into a buffer from
 * util/alloc.h (ufree it), NUL-terminated. 0; else a negative errno (-ENOMEM,
 * the errno of open(), -EINVAL: not a regular file or too big, -EIO) and
 * one line "FILE: reason" in @err, @too_big the reason for a file over @max.
 */
int jf_read_file(const char *file, size_t max, const char *too_big, char **text, size_t *len,
		 char *err, size_t errlen);
/*
 * Parse @len bytes of @text (duplicate keys refused) and index it. 0 with
 * *root; else -EINVAL ("FILE:LINE:COL: invalid JSON: ...") or -ENOMEM.
 */
int jf_parse(struct jf *jf, const char *text, size_t len, json_t **root);
/* jf_read_file() of jf->file, then jf_parse(). */
int jf_load_file(struct jf *jf, size_t max, const char *too_big, json_t **root);
/* Releases the index (not the root: json_decref() it). */
void jf_free(struct jf *jf);

/*
 * The message for the value at @path (of its key when @at_key), or of the
 * nearest enclosing value that has a position. Returns -EINVAL.
 */
int jf_err(struct jf *jf, const char *path, bool at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* snprintf at @buf + @n, returning the new length (saturating at @len). */
size_t jf_add(char *buf, size_t len, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* What a value is, for "got ...": strings as written (cut at 40), numbers, kinds. */
const char *jf_describe(const json_t *v, char *buf, size_t len);
/* The same in @jf's spelling (JF_QUOTE_STRINGS). */
const char *jf_describe_as(const struct jf *jf, const json_t *v, char *buf, size_t len);
/* Paths: formatted (cut at @len), and "parent.key". */
void jf_pathf(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void jf_child(char *dst, size_t len, const char *parent, const char *key);

int jf_expect_object(struct jf *jf, const json_t *v, const char *path);
/* Every key of @obj must be in the NULL-terminated @allowed. */
int jf_check_keys(struct jf *jf, json_t *obj, const char *path, const char *const *allowed);
/* The same, with @note after the list of allowed keys ("unknown key (expected a, b@note)"). */
int jf_check_keys_note(struct jf *jf, json_t *obj, const char *path, const char *const *allowed,
		       const char *note);

/* A number: a JSON integer >= 0 or a string parse_u64() accepts. */
int jf_value_u64(struct jf *jf, const json_t *v, const char *path, uint64_t *out);
/* Readers of @key of @obj (at @opath): 1 when present, 0 when absent and optional, -EINVAL. */
int jf_get_u64(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
	       uint64_t *out);
/* A number in [lo, hi]; *out untouched unless 1 is returned. */
int jf_get_small(struct jf *jf, json_t *obj, const char *opath, const char *key, uint64_t lo,
		 uint64_t hi, uint64_t *out);
int jf_get_str(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
	       const char **out);
int jf_get_bool(struct jf *jf, json_t *obj, const char *opath, const char *key, bool *out);
/* One of @names (NULL-terminated): its index in *out. */
int jf_get_enum(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
		const char *const *names, unsigned int *out);

#endif
