/* json_read.c — jansson loading and typed field access with one-line errors. */
#include "profreg/json_read.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int jr_fail(struct jr *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s: %s", r->file, msg);
    return -1;
}

const char *jr_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

int jr_opt_string(struct jr *r, json_t *obj, const char *key, const char *where, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return jr_fail(r, "%s.%s: expected a string, got %s", where, key, jr_type_name(v));
    *out = strdup(json_string_value(v));
    return 0;
}

int jr_count(struct jr *r, json_t *v, const char *where, uint64_t *out)
{
    double d;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return jr_fail(r, "%s: expected a count, got negative %lld", where, (long long)i);
        *out = (uint64_t)i;
        return 0;
    }
    if (json_is_real(v) && isfinite(d = json_real_value(v)) && d >= 0 && d == floor(d) &&
        d < 1e18) {
        *out = (uint64_t)d;
        return 0;
    }
    if (json_is_real(v))
        return jr_fail(r, "%s: expected a whole non-negative count, got %g", where,
                    json_real_value(v));
    return jr_fail(r, "%s: expected a count, got %s", where, v ? jr_type_name(v) : "nothing");
}

int jr_number(struct jr *r, json_t *v, const char *where, double *out)
{
    if (!v || !json_is_number(v))
        return jr_fail(r, "%s: expected a number, got %s", where, v ? jr_type_name(v) : "nothing");
    double d = json_number_value(v);
    if (!isfinite(d) || d < 0)
        return jr_fail(r, "%s: expected a finite non-negative number, got %g", where, d);
    *out = d;
    return 0;
}

int jr_opt_number(struct jr *r, json_t *obj, const char *key, const char *where,
                      double *out)
{
    json_t *v = json_object_get(obj, key);
    *out = NAN;
    if (!v || json_is_null(v))
        return 0;
    char path[256];
    snprintf(path, sizeof path, "%s.%s", where, key);
    return jr_number(r, v, path, out);
}

int jr_opt_object(struct jr *r, json_t *obj, const char *key, const char *where, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return jr_fail(r, "%s%s%s: expected an object, got %s", where, *where ? "." : "", key,
                       jr_type_name(v));
    *out = v;
    return 0;
}

static json_t *syntax_error(struct jr *r, const json_error_t *e)
{
    if (e->line < 0)
        snprintf(r->err, r->errlen, "%s: %s", r->file, e->text);
    else
        snprintf(r->err, r->errlen, "%s:%d:%d: %s", r->file, e->line, e->column, e->text);
    return NULL;
}

json_t *jr_load_file(struct jr *r)
{
    FILE *f = fopen(r->file, "rb");
    if (!f) {
        jr_fail(r, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        jr_fail(r, "not a regular file");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        json_decref(root);
        jr_fail(r, "read error");
        return NULL;
    }
    return root ? root : syntax_error(r, &jerr);
}

json_t *jr_load_string(struct jr *r, const char *text)
{
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    return root ? root : syntax_error(r, &jerr);
}
