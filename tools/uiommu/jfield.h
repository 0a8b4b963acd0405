/* SPDX-License-Identifier: MIT */
/*
 * JSON files with messages that point at the mistake: loading (read,
 * parse, index every value's position), and the field readers that every
 * loader of the CLI shares (scenario files for walk and trace, run
 * scenarios). Each reader checks one value and, when it is wrong, writes
 * one line "FILE:LINE:COL: PATH: what was expected, got what" and returns
 * -EINVAL; paths are written as in the messages ("steps[3].expect.addr").
 */
#ifndef UIOMMU_TOOLS_JFIELD_H
#define UIOMMU_TOOLS_JFIELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/jpos.h"

#define JF_PBUF 256 /* path buffers: long enough for an unknown key's path */

struct jf {
	const char *file;
	struct jpos pos; /* where each value of the file starts */
	char *err;
	size_t errlen;
};

/*
 * Read @file (a regular file of at most 16 MiB), parse it (duplicate keys
 * refused) and index it. 0 with *root; else a negative errno and one line
 * in @err ("FILE: reason", or "FILE:LINE:COL: invalid JSON: ..."). @jf
 * keeps @file and @err; jf_free() releases the index.
 */
int jf_load(struct jf *jf, const char *file, json_t **root, char *err, size_t errlen);
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
/* Paths: formatted (cut at @len), and "parent.key". */
void jf_pathf(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void jf_child(char *dst, size_t len, const char *parent, const char *key);

int jf_expect_object(struct jf *jf, const json_t *v, const char *path);
/* Every key of @obj must be in the NULL-terminated @allowed. */
int jf_check_keys(struct jf *jf, json_t *obj, const char *path, const char *const *allowed);

/* A number: a JSON integer >= 0 or a string parse_u64() accepts. */
int jf_value_u64(struct jf *jf, const json_t *v, const char *path, uint64_t *out);
/* Readers of @key of @obj (at @opath): 1 when present, 0 when absent and optional, -EINVAL. */
int jf_get_u64(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
	       uint64_t *out);
/* A number in [lo, hi]. */
int jf_get_small(struct jf *jf, json_t *obj, const char *opath, const char *key, uint64_t lo,
		 uint64_t hi, uint64_t *out);
int jf_get_str(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
	       const char **out);
int jf_get_bool(struct jf *jf, json_t *obj, const char *opath, const char *key, bool *out);
/* One of @names (NULL-terminated): its index in *out. */
int jf_get_enum(struct jf *jf, json_t *obj, const char *opath, const char *key, bool required,
		const char *const *names, unsigned int *out);
/* Permissions: letters r, w, x, u with r or w; "rw" when absent. 0 or -EINVAL. */
int jf_get_prot(struct jf *jf, json_t *obj, const char *opath, unsigned int *prot);

#endif
