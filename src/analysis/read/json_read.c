/* SPDX-License-Identifier: MIT */
/* json_read.c — parse with json_parse.c, word syntax errors with jansson, and typed field
 * access with one-line errors. */
#include "analysis/read/json_read.h"

#include "core/fsutil.h"
#include "analysis/render/term.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int jr_fail(struct jr *r, const char *fmt, ...)
{
    char msg[512], line[4 * sizeof msg + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* names quoted from the file (a duplicate name ...) may hold a newline: one line */
    term_escape(msg, line, sizeof line);
    snprintf(r->err, r->errlen, "%s: %s", r->file, line);
    return -1;
}

const char *jr_type_name(const struct jv *v)
{
    if (!v)
        return "nothing";
    switch (v->type) {
    case JV_OBJECT:
        return "an object";
    case JV_ARRAY:
        return "an array";
    case JV_STRING:
        return "a string";
    case JV_INTEGER:
        return "an integer";
    case JV_REAL:
        return "a number";
    case JV_TRUE:
    case JV_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

int jr_opt_string(struct jr *r, const struct jv *obj, const char *key, const char *where,
                  char **out)
{
    const struct jv *v = jr_get(r, obj, key);
    *out = NULL;
    if (!v || jv_is_null(v))
        return 0;
    if (!jv_is_string(v))
        return jr_fail(r, "%s.%s: expected a string, got %s", where, key, jr_type_name(v));
    if (!(*out = strdup(jv_string(v))))
        return jr_fail(r, "out of memory");
    return 0;
}

int jr_count(struct jr *r, const struct jv *v, const char *where, uint64_t *out)
{
    double d;
    if (jv_is_integer(v)) {
        long long i = jv_integer(v);
        if (i < 0)
            return jr_fail(r, "%s: expected a count, got negative %lld", where, i);
        *out = (uint64_t)i;
        return 0;
    }
    if (jv_is_real(v) && isfinite(d = jv_real(v)) && d >= 0 && d == floor(d) && d < 1e18) {
        *out = (uint64_t)d;
        return 0;
    }
    if (jv_is_real(v))
        return jr_fail(r, "%s: expected a whole non-negative count, got %g", where, jv_real(v));
    return jr_fail(r, "%s: expected a count, got %s", where, jr_type_name(v));
}

int jr_number(struct jr *r, const struct jv *v, const char *where, double *out)
{
    if (!jv_is_number(v))
        return jr_fail(r, "%s: expected a number, got %s", where, jr_type_name(v));
    double d = jv_number(v);
    if (!isfinite(d) || d < 0)
        return jr_fail(r, "%s: expected a finite non-negative number, got %g", where, d);
    *out = d;
    return 0;
}

int jr_opt_number(struct jr *r, const struct jv *obj, const char *key, const char *where,
                  double *out)
{
    const struct jv *v = jr_get(r, obj, key);
    *out = NAN;
    if (!v || jv_is_null(v))
        return 0;
    char path[256];
    snprintf(path, sizeof path, "%s.%s", where, key);
    return jr_number(r, v, path, out);
}

int jr_opt_object(struct jr *r, const struct jv *obj, const char *key, const char *where,
                  const struct jv **out)
{
    const struct jv *v = jr_get(r, obj, key);
    *out = NULL;
    if (!v || jv_is_null(v))
        return 0;
    if (!jv_is_object(v))
        return jr_fail(r, "%s%s%s: expected an object, got %s", where, *where ? "." : "", key,
                       jr_type_name(v));
    *out = v;
    return 0;
}

/* ---- parsing ------------------------------------------------------------------------------ */

/* The text was not accepted: jansson (which parsed it again into root, or failed with e)
 * says where and why, in its words. */
static int syntax_error(struct jr *r, json_t *root, const json_error_t *e)
{
    if (root) { /* the parsers disagree: never expected, but say so rather than guess */
        json_decref(root);
        return jr_fail(r, "valid JSON that profreg's parser does not accept (please report)");
    }
    /* jansson quotes the text near the error as it is: a newline or an escape in it would
     * break the one-line error */
    char text[4 * JSON_ERROR_TEXT_LENGTH + 1];
    term_escape(e->text, text, sizeof text);
    if (e->line < 0)
        snprintf(r->err, r->errlen, "%s: %s", r->file, text);
    else
        snprintf(r->err, r->errlen, "%s:%d:%d: %s", r->file, e->line, e->column, text);
    return -1;
}

#define NOT_ACCEPTED (-2)

/* Parses buf in place and runs fn; NOT_ACCEPTED when the text is not accepted. */
static int parse_buffer(struct jr *r, char *buf, size_t len, jr_read_fn fn, void *ctx)
{
    struct jdoc d;
    if (jdoc_parse(&d, buf, len) != 0)
        return NOT_ACCEPTED;
    r->doc = &d;
    int rc = fn(r, d.v, ctx);
    r->doc = NULL;
    jdoc_free(&d);
    return rc;
}

int jr_parse_file(struct jr *r, jr_read_fn fn, void *ctx)
{
    int fd = fs_open_input(r->file, r->err, r->errlen); /* a FIFO would block: refused */
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return jr_fail(r, "cannot read: %s", strerror(errno));
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return jr_fail(r, "out of memory reading %lld bytes", (long long)st.st_size);
    }
    for (;;) { /* the size may change under us: read to the end */
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                close(fd);
                return jr_fail(r, "out of memory");
            }
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return jr_fail(r, "read error: %s", strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    int rc = parse_buffer(r, buf, len, fn, ctx);
    free(buf);
    if (rc != NOT_ACCEPTED)
        return rc;
    /* buf was decoded in place: jansson reads the file itself */
    FILE *f = fs_fopen_input(r->file, r->err, r->errlen);
    if (!f)
        return -1;
    json_error_t e;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &e);
    fclose(f);
    return syntax_error(r, root, &e);
}

int jr_parse_string(struct jr *r, const char *text, jr_read_fn fn, void *ctx)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (!copy)
        return jr_fail(r, "out of memory (%zu bytes)", len);
    memcpy(copy, text, len + 1);
    int rc = parse_buffer(r, copy, len, fn, ctx);
    free(copy);
    if (rc != NOT_ACCEPTED)
        return rc;
    json_error_t e;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    return syntax_error(r, root, &e);
}

/* ---- members of array elements, with the path formatted only for a message --------------- */

static void elem_path(char *buf, size_t len, const char *array, size_t index, const char *key)
{
    snprintf(buf, len, "%s[%zu].%s", array, index, key);
}

int jr_elem_count(struct jr *r, const struct jv *obj, const char *array, size_t index,
                  const char *key, bool required, uint64_t *out)
{
    const struct jv *v = jr_get(r, obj, key);
    if (jv_is_integer(v) && jv_integer(v) >= 0) {
        *out = (uint64_t)jv_integer(v);
        return 1;
    }
    if (!required && (!v || jv_is_null(v)))
        return 0;
    char path[160];
    elem_path(path, sizeof path, array, index, key);
    return jr_count(r, v, path, out) == 0 ? 1 : -1;
}

int jr_elem_number(struct jr *r, const struct jv *obj, const char *array, size_t index,
                   const char *key, bool required, double *out)
{
    const struct jv *v = jr_get(r, obj, key);
    if (jv_is_number(v)) {
        double d = jv_number(v);
        if (isfinite(d) && d >= 0) {
            *out = d;
            return 1;
        }
    }
    if (!required && (!v || jv_is_null(v)))
        return 0;
    char path[160];
    elem_path(path, sizeof path, array, index, key);
    return jr_number(r, v, path, out) == 0 ? 1 : -1;
}

int jr_elem_string(struct jr *r, const struct jv *obj, const char *array, size_t index,
                   const char *key, char **out)
{
    const struct jv *v = jr_get(r, obj, key);
    *out = NULL;
    if (!v || jv_is_null(v))
        return 0;
    if (!jv_is_string(v))
        return jr_fail(r, "%s[%zu].%s: expected a string, got %s", array, index, key,
                       jr_type_name(v));
    if (!(*out = strdup(jv_string(v))))
        return jr_fail(r, "out of memory");
    return 1;
}
