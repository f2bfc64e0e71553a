/* SPDX-License-Identifier: MIT */
/* json_read.h — loading and checking JSON documents, with one-line errors.
 *
 * Shared by the validating readers (profile_read.c, baseline.c). Documents are parsed by
 * json_parse.h (fast); when a text is not valid JSON, jansson parses it again to word the
 * error. Every error is one line: "FILE:LINE:COL: what" for syntax (jansson's text),
 * "FILE: path.to.key: what" for content. CLI only; the preload never reads JSON. */
#ifndef PROFREG_JSON_READ_H
#define PROFREG_JSON_READ_H

#include "analysis/read/json_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jr {
    const char *file; /* named in every message */
    char *err;
    size_t errlen;
    const struct jdoc *doc; /* set while a reader runs */
};

/* Formats "FILE: message" into r->err; returns -1. */
__attribute__((format(printf, 2, 3))) int jr_fail(struct jr *r, const char *fmt, ...);

/* "an object", "a string", ... for messages. */
const char *jr_type_name(const struct jv *v);

/* Reads the parsed document; returns 0, or -1 with r->err set (via jr_fail). */
typedef int (*jr_read_fn)(struct jr *r, const struct jv *root, void *ctx);

/* Parses r->file (a regular file) or text, rejecting duplicate keys, and calls fn on the
 * document, which exists only during the call (copy what you keep). Returns fn's result, or
 * -1 with r->err set when the file cannot be read or is not JSON. */
int jr_parse_file(struct jr *r, jr_read_fn fn, void *ctx);
int jr_parse_string(struct jr *r, const char *text, jr_read_fn fn, void *ctx);

/* Member of an object of the current document, or NULL. */
static inline const struct jv *jr_get(const struct jr *r, const struct jv *obj, const char *key)
{
    return jv_get(r->doc, obj, key);
}

/* An object member that must be an object; absent or null gives NULL and 0. */
int jr_opt_object(struct jr *r, const struct jv *obj, const char *key, const char *where,
                  const struct jv **out);

/* Optional string: absent or null -> NULL; else must be a string (copied). */
int jr_opt_string(struct jr *r, const struct jv *obj, const char *key, const char *where,
                  char **out);

/* A count: a non-negative integer (a real with no fraction is accepted). */
int jr_count(struct jr *r, const struct jv *v, const char *where, uint64_t *out);

/* A finite non-negative number. */
int jr_number(struct jr *r, const struct jv *v, const char *where, double *out);

/* Optional number (absent or null -> NAN); else as jr_number. */
int jr_opt_number(struct jr *r, const struct jv *obj, const char *key, const char *where,
                  double *out);

/* A member `key` of element `index` of the array named `array` (messages say
 * "array[index].key"): a count, a finite non-negative number, or a string (copied).
 * Returns 1 when present and valid, 0 when absent or null and not required, -1 with r->err
 * set otherwise. Fast: the path is formatted only for an error. */
int jr_elem_count(struct jr *r, const struct jv *obj, const char *array, size_t index,
                  const char *key, bool required, uint64_t *out);
int jr_elem_number(struct jr *r, const struct jv *obj, const char *array, size_t index,
                   const char *key, bool required, double *out);
int jr_elem_string(struct jr *r, const struct jv *obj, const char *array, size_t index,
                   const char *key, char **out);

#endif
