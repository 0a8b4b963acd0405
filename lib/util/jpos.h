/* SPDX-License-Identifier: MIT */
/*
 * Source positions of JSON values, by path.
 *
 * jansson reports line and column for syntax errors but keeps no position
 * for the values it returns, so a second, much smaller scanner walks the
 * same text (after jansson accepted it) and records where every value and
 * every object key starts. Paths are written as in error messages:
 * "stage1.mappings[2].prot"; the root is "".
 */
#ifndef UIOMMU_UTIL_JPOS_H
#define UIOMMU_UTIL_JPOS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct jpos_entry {
	char *path;
	int line, col;	       /* first character of the value (1-based; columns in characters) */
	int key_line, key_col; /* opening quote of its key; 0 for array elements and the root */
};

struct jpos {
	struct jpos_entry *e;
	size_t n, cap;
};

/*
 * Index @text (@len bytes, valid JSON as checked by jansson). 0, -ENOMEM,
 * or -EINVAL if the text turns out not to be JSON after all.
 */
int jpos_scan(struct jpos *jp, const char *text, size_t len);

/*
 * Position of the value at @path (@key: of its key instead, falling back to
 * the value for array elements). False when the path is not in the index.
 */
bool jpos_find(const struct jpos *jp, const char *path, bool key, int *line, int *col);

void jpos_free(struct jpos *jp);

/*
 * The loaders' one message format: "FILE:LINE:COL: PATH: message" in @err
 * (@errlen bytes), with the position of the value at @path (of its key with
 * @at_key), or of the nearest enclosing value the index has ("a.b[2]" ->
 * "a.b" -> "a" -> ""). PATH and its ": " are left out for the root.
 */
void jpos_vmessage(const struct jpos *jp, const char *file, char *err, size_t errlen,
		   const char *path, bool at_key, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

#endif
