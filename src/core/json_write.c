/* SPDX-License-Identifier: MIT */
/* json_write.c — streaming JSON writer with deterministic formatting.
 *
 * Invariant: the output is always valid JSON when jw_finish() returns 0: every string is
 * escaped (invalid UTF-8 becomes U+FFFD), every number is finite or null. */
#include "core/json_write.h"

#include "core/utf8.h"

#include <math.h>
#include <string.h>

void jw_init(struct jw *w, FILE *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->first[0] = true;
}

static void newline_indent(struct jw *w)
{
    fputc('\n', w->f);
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

/* Separator and indentation before a value or key at the current depth. */
static void before_item(struct jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    if (!w->first[w->depth])
        fputc(',', w->f);
    if (w->oneline[w->depth]) {
        if (!w->first[w->depth])
            fputc(' ', w->f);
    } else {
        newline_indent(w);
    }
    w->first[w->depth] = false;
}

static void open_container(struct jw *w, char c, bool oneline)
{
    before_item(w);
    fputc(c, w->f);
    if (w->depth + 1 >= JW_MAX_DEPTH) {
        w->overflow = true;
        return;
    }
    bool parent_oneline = w->depth > 0 && w->oneline[w->depth];
    w->depth++;
    w->first[w->depth] = true;
    w->oneline[w->depth] = oneline || parent_oneline;
}

static void close_container(struct jw *w, char c)
{
    if (w->depth == 0) {
        w->overflow = true;
        return;
    }
    bool empty = w->first[w->depth];
    bool oneline = w->oneline[w->depth];
    w->depth--;
    if (!empty && !oneline)
        newline_indent(w);
    fputc(c, w->f);
}

void jw_object_begin(struct jw *w)
{
    open_container(w, '{', false);
}

void jw_object_begin_inline(struct jw *w)
{
    open_container(w, '{', true);
}

void jw_object_end(struct jw *w)
{
    close_container(w, '}');
}

void jw_array_begin(struct jw *w)
{
    open_container(w, '[', false);
}

void jw_array_begin_inline(struct jw *w)
{
    open_container(w, '[', true);
}

void jw_array_end(struct jw *w)
{
    close_container(w, ']');
}

void jw_key(struct jw *w, const char *key)
{
    before_item(w);
    jw_write_escaped(w->f, key);
    fputs(": ", w->f);
    w->after_key = true;
}

void jw_write_escaped(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s) {
        unsigned char c = *s;
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\b':
            fputs("\\b", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        default:
            if (c < 0x20) {
                fprintf(f, "\\u%04x", c);
            } else if (c < 0x80) {
                fputc(c, f);
            } else {
                uint32_t cp;
                size_t n = utf8_decode((const char *)s, SIZE_MAX, &cp);
                if (n == 0) {
                    fputs("\\ufffd", f);
                    n = 1;
                } else {
                    fwrite(s, 1, n, f);
                }
                s += n;
                continue;
            }
        }
        s++;
    }
    fputc('"', f);
}

void jw_string(struct jw *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    before_item(w);
    jw_write_escaped(w->f, s);
}

void jw_int(struct jw *w, long long v)
{
    before_item(w);
    fprintf(w->f, "%lld", v);
}

void jw_uint(struct jw *w, unsigned long long v)
{
    before_item(w);
    fprintf(w->f, "%llu", v);
}

void jw_format_double(char *buf, size_t len, double v, int decimals)
{
    if (decimals < 1)
        decimals = 1;
    if (decimals > 17)
        decimals = 17;
    snprintf(buf, len, "%.*f", decimals, v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot + 1 && *end == '0')
            *end-- = '\0';
    }
    if (strcmp(buf, "-0.0") == 0)
        snprintf(buf, len, "0.0");
}

void jw_double(struct jw *w, double v, int decimals)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    char buf[400];
    jw_format_double(buf, sizeof buf, v, decimals);
    before_item(w);
    fputs(buf, w->f);
}

void jw_bool(struct jw *w, bool v)
{
    before_item(w);
    fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w)
{
    before_item(w);
    fputs("null", w->f);
}

int jw_finish(struct jw *w)
{
    fputc('\n', w->f);
    if (w->depth != 0 || w->overflow || w->after_key)
        return -1;
    return ferror(w->f) ? -1 : 0;
}

void jw_key_double(struct jw *w, const char *key, double v, int decimals)
{
    jw_key(w, key);
    jw_double(w, v, decimals);
}
