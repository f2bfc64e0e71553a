/* json_read.h — loading and checking JSON with jansson, with one-line errors.
 *
 * Shared by the validating readers (profile_read.c, baseline.c). Every error is one line:
 * "FILE:LINE:COL: what" for syntax (from jansson), "FILE: path.to.key: what" for content.
 * CLI only; the preload never reads JSON. */
#ifndef PROFREG_JSON_READ_H
#define PROFREG_JSON_READ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct jr {
    const char *file; /* named in every message */
    char *err;
    size_t errlen;
};

/* Formats "FILE: message" into r->err; returns -1. */
__attribute__((format(printf, 2, 3))) int jr_fail(struct jr *r, const char *fmt, ...);

/* "an object", "a string", ... for messages. */
const char *jr_type_name(const json_t *v);

/* Parses r->file (a regular file) or text, rejecting duplicate keys. NULL with r->err set. */
json_t *jr_load_file(struct jr *r);
json_t *jr_load_string(struct jr *r, const char *text);

/* An object member that must be an object; absent or null gives NULL and 0. */
int jr_opt_object(struct jr *r, json_t *obj, const char *key, const char *where, json_t **out);

/* Optional string: absent or null -> NULL; else must be a string (copied). */
int jr_opt_string(struct jr *r, json_t *obj, const char *key, const char *where, char **out);

/* A count: a non-negative integer (a real with no fraction is accepted). */
int jr_count(struct jr *r, json_t *v, const char *where, uint64_t *out);

/* A finite non-negative number. */
int jr_number(struct jr *r, json_t *v, const char *where, double *out);

/* Optional number (absent or null -> NAN); else as jr_number. */
int jr_opt_number(struct jr *r, json_t *obj, const char *key, const char *where, double *out);

#endif
