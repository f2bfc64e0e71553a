/* SPDX-License-Identifier: MIT */
/* export.c — folded stacks (write and read) and speedscope's JSON. pprof is in
 * export_pprof.c. Hand-written: both formats are a few lines of text or JSON. */
#include "analysis/export/export.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/intern.h"
#include "core/json_write.h"

/* ---- folded ------------------------------------------------------------------------------ */

/* A name as one folded frame: ';' would split it, a newline would end the line. */
static void folded_name(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == ';' ? ':' : *s == '\n' || *s == '\r' ? ' ' : *s, out);
}

int export_folded(FILE *out, const struct pr_profile *p)
{
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct pr_stack *s = &p->stacks[i];
        if (s->count == 0)
            continue;
        for (uint32_t d = 0; d < s->depth; d++) {
            if (d)
                fputc(';', out);
            folded_name(out, s->frames[d] < p->nfunctions ? p->functions[s->frames[d]].name
                                                           : "[unknown]");
        }
        fprintf(out, " %llu\n", (unsigned long long)s->count);
    }
    return ferror(out) ? -1 : 0;
}

struct folded_builder {
    struct pr_profile *p;
    struct fn_intern names;
    struct stack_intern stacks;
    uint64_t total; /* of the lines so far: at most PR_MAX_SAMPLES */
};

static int fail(char *err, size_t errlen, const char *name, size_t line, const char *what)
{
    snprintf(err, errlen, "%s:%zu: %s", name, line, what);
    return -1;
}

/* One line "a;b;c COUNT". */
static int read_line(struct folded_builder *b, const char *s, size_t len, const char *name,
                     size_t lineno, char *err, size_t errlen)
{
    const char *sp = NULL;
    for (size_t i = len; i-- > 0;)
        if (s[i] == ' ') {
            sp = s + i;
            break;
        }
    if (!sp || sp == s)
        return fail(err, errlen, name, lineno, "expected 'frame;frame;... COUNT'");
    const char *num = sp + 1, *end = s + len;
    uint64_t count = 0;
    if (num == end)
        return fail(err, errlen, name, lineno, "missing sample count after the stack");
    for (const char *c = num; c < end; c++) {
        if (*c < '0' || *c > '9')
            return fail(err, errlen, name, lineno, "the sample count is not a whole number");
        uint64_t d = (uint64_t)(*c - '0');
        /* past PR_MAX_SAMPLES (UINT64_MAX marks it), only the digits are checked */
        count = count > (PR_MAX_SAMPLES - d) / 10 ? UINT64_MAX : count * 10 + d;
    }
    if (count > PR_MAX_SAMPLES) {
        char what[128];
        snprintf(what, sizeof what,
                 "the sample count %.*s%s is too large (more than " PR_MAX_SAMPLES_TEXT ")",
                 end - num > 30 ? 30 : (int)(end - num), num, end - num > 30 ? "..." : "");
        return fail(err, errlen, name, lineno, what);
    }
    /* every stack's count, merged or not, and every function's stay below the total */
    if (!pr_count_add(&b->total, count))
        return fail(err, errlen, name, lineno,
                    "the samples add up to more than " PR_MAX_SAMPLES_TEXT);
    bool empty = count == 0; /* checked like any line, but a stack of no samples is none */
    uint32_t depth = 0, *frames = NULL;
    for (const char *f = s; f <= sp;) {
        const char *e = f;
        while (e < sp && *e != ';')
            e++;
        if (e == f)
            return fail(err, errlen, name, lineno, "empty frame name");
        uint32_t idx;
        if (!(frames = stack_intern_frames(&b->stacks, depth + 1)) ||
            fn_intern_add(&b->names, &b->p->functions, &b->p->nfunctions, f, (size_t)(e - f), NULL,
                          NULL, &idx) < 0)
            return fail(err, errlen, name, lineno, "out of memory");
        frames[depth++] = idx;
        f = e + 1;
    }
    uint32_t idx;
    if (!empty && stack_intern_add(&b->stacks, &b->p->stacks, &b->p->nstacks, frames, NULL, depth,
                                   count, 0, &idx) != 0)
        return fail(err, errlen, name, lineno, "out of memory");
    return 0;
}

int folded_read(const char *text, const char *name, struct pr_profile *out, char *err,
                size_t errlen)
{
    profile_init(out);
    struct folded_builder b = {.p = out};
    fn_intern_init(&b.names, FN_BY_NAME);
    stack_intern_init(&b.stacks, STACK_BY_FRAMES);
    int rc = 0;
    size_t lineno = 0;
    for (const char *s = text; rc == 0 && *s;) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        lineno++;
        size_t l = len;
        while (l > 0 && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
            l--;
        if (l > 0 && s[0] != '#')
            rc = read_line(&b, s, l, name, lineno, err, errlen);
        s += len + (e ? 1 : 0);
    }
    fn_intern_free(&b.names);
    stack_intern_free(&b.stacks);
    if (rc == 0 && out->nstacks == 0)
        rc = fail(err, errlen, name, lineno, "no stacks in it");
    if (rc == 0) {
        /* counts per function: inclusive once per stack (recursion counts once), self at
         * the innermost frame */
        uint8_t *seen = calloc(out->nfunctions ? out->nfunctions : 1, 1);
        if (!seen)
            rc = fail(err, errlen, name, lineno, "out of memory");
        for (size_t i = 0; rc == 0 && i < out->nstacks; i++) {
            const struct pr_stack *st = &out->stacks[i];
            out->total_samples += st->count;
            for (uint32_t d = 0; d < st->depth; d++)
                if (!seen[st->frames[d]]) {
                    seen[st->frames[d]] = 1;
                    out->functions[st->frames[d]].samples += st->count;
                }
            for (uint32_t d = 0; d < st->depth; d++)
                seen[st->frames[d]] = 0;
            out->functions[st->frames[st->depth - 1]].self_samples += st->count;
        }
        free(seen);
    }
    if (rc == 0) {
        out->has_stacks = true;
        out->signals = out->total_samples;
        profile_compute_percentages(out);
        if (profile_sort(out) != 0)
            rc = fail(err, errlen, name, lineno, "out of memory");
    }
    if (rc != 0)
        profile_free(out);
    return rc;
}

/* ---- speedscope -------------------------------------------------------------------------- */

int export_speedscope(FILE *out, const struct pr_profile *p, const char *name)
{
    /* weights in milliseconds of sampled time when known (a weighted sample is one period
     * of the requested rate), else in samples */
    double ms_per_sample = NAN;
    if (isfinite(p->total_time_ms) && p->total_time_ms > 0 && p->total_samples > 0)
        ms_per_sample = p->total_time_ms / (double)p->total_samples;
    else if (isfinite(p->frequency_hz) && p->frequency_hz > 0)
        ms_per_sample = 1000.0 / p->frequency_hz;
    struct jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "$schema");
    jw_string(&w, "https://www.speedscope.app/file-format-schema.json");
    jw_key(&w, "shared");
    jw_object_begin(&w);
    jw_key(&w, "frames");
    jw_array_begin(&w);
    for (size_t i = 0; i < p->nfunctions; i++) {
        const struct pr_function *f = &p->functions[i];
        jw_object_begin_inline(&w);
        jw_key(&w, "name");
        jw_string(&w, f->name);
        const char *file = f->source_path ? f->source_path : f->source_file;
        if (file) {
            jw_key(&w, "file");
            jw_string(&w, file);
        }
        if (f->line >= 0) {
            jw_key(&w, "line");
            jw_int(&w, f->line);
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    jw_key(&w, "profiles");
    jw_array_begin(&w);
    jw_object_begin(&w);
    jw_key(&w, "type");
    jw_string(&w, "sampled");
    jw_key(&w, "name");
    jw_string(&w, name ? name : "profile");
    jw_key(&w, "unit");
    jw_string(&w, isnan(ms_per_sample) ? "none" : "milliseconds");
    double total = 0;
    for (size_t i = 0; i < p->nstacks; i++)
        total += (double)p->stacks[i].count * (isnan(ms_per_sample) ? 1 : ms_per_sample);
    jw_key(&w, "startValue");
    jw_uint(&w, 0);
    jw_key(&w, "endValue");
    jw_double(&w, total, 3);
    jw_key(&w, "samples");
    jw_array_begin(&w);
    for (size_t i = 0; i < p->nstacks; i++) {
        jw_array_begin_inline(&w);
        for (uint32_t d = 0; d < p->stacks[i].depth; d++)
            jw_uint(&w, p->stacks[i].frames[d]);
        jw_array_end(&w);
    }
    jw_array_end(&w);
    jw_key(&w, "weights");
    jw_array_begin_inline(&w);
    for (size_t i = 0; i < p->nstacks; i++)
        jw_double(&w, (double)p->stacks[i].count * (isnan(ms_per_sample) ? 1 : ms_per_sample),
                  3);
    jw_array_end(&w);
    jw_object_end(&w);
    jw_array_end(&w);
    jw_key(&w, "name");
    jw_string(&w, name ? name : "profile");
    jw_key(&w, "activeProfileIndex");
    jw_uint(&w, 0);
    jw_key(&w, "exporter");
    jw_string(&w, "profreg");
    jw_object_end(&w);
    return jw_finish(&w);
}
