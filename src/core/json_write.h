/* SPDX-License-Identifier: MIT */
/* json_write.h — a small streaming JSON writer with stable formatting.
 *
 * Everything profreg writes (profiles, baselines, reports) goes through this writer, so
 * the same data always gives the same bytes: two-space indentation, keys in the order they
 * are written, doubles with a fixed maximum of decimals, strings escaped to valid JSON even
 * when the input is not valid UTF-8. It is not used in the signal handler. */
#ifndef PROFREG_JSON_WRITE_H
#define PROFREG_JSON_WRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32
#define JW_BUF_BYTES 4096

struct jw {
    FILE *f;
    size_t len;                 /* bytes waiting in buf; written to f when full and at the end */
    char *buf;                  /* own, or a larger one lent by jw_lend_buffer */
    size_t cap;
    char own[JW_BUF_BYTES];
    int depth;
    bool first[JW_MAX_DEPTH];   /* no element written yet in this container */
    bool oneline[JW_MAX_DEPTH]; /* this container is written on a single line */
    bool after_key;             /* a key was written; the value follows on the same line */
    bool overflow;              /* nesting deeper than JW_MAX_DEPTH was attempted */
};

/* Start writing one JSON document to f. */
void jw_init(struct jw *w, FILE *f);

/* For a large document: the text goes through buf (cap bytes, kept by the caller until
 * jw_finish) instead of the writer's few KB, in fewer and larger writes. Call before
 * anything is written. */
void jw_lend_buffer(struct jw *w, char *buf, size_t cap);

/* Containers. The *_inline variants put the whole container on one line
 * (e.g. short arrays of numbers), which keeps large files compact and diffs readable. */
void jw_object_begin(struct jw *w);
void jw_object_begin_inline(struct jw *w);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w);
void jw_array_begin_inline(struct jw *w);
void jw_array_end(struct jw *w);

/* An object key; the next call writes its value. */
void jw_key(struct jw *w, const char *key);

/* Values. jw_string(NULL) writes null. jw_double writes at most `decimals` decimals, trims
 * trailing zeros but keeps one (so the value stays a JSON real), and writes null for NaN
 * and infinities. */
void jw_string(struct jw *w, const char *s);
void jw_int(struct jw *w, long long v);
void jw_uint(struct jw *w, unsigned long long v);
void jw_double(struct jw *w, double v, int decimals);
/* jw_key then jw_double: a number member ("key": v, null when v is not finite). */
void jw_key_double(struct jw *w, const char *key, double v, int decimals);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);

/* Ends the document with a newline. Returns 0, or -1 when a write failed or the
 * document was malformed (unbalanced or too deep). */
int jw_finish(struct jw *w);

/* Writes s as a quoted, escaped JSON string to f (also used by renderers). */
void jw_write_escaped(FILE *f, const char *s);

/* Formats v like jw_double into buf (at least 32 bytes). */
void jw_format_double(char *buf, size_t len, double v, int decimals);

#endif
