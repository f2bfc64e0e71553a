/* SPDX-License-Identifier: MIT */
/* history.c — history lines (one JSON object per CI invocation) and change points.
 * Invariant: a record's strings are owned by it; a line holds no newline but its last byte. */
#include "analysis/read/history.h"
#include "core/array.h"

#include "analysis/read/json_parse.h"
#include "core/json_write.h"
#include "analysis/judge/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_VERSION 1

void history_record_free(struct hist_record *r)
{
    free(r->executable);
    free(r->commit);
    free(r->branch);
    free(r->date);
    for (size_t i = 0; i < r->nfns; i++)
        free(r->fns[i].name);
    free(r->fns);
    for (size_t i = 0; i < r->ntests; i++)
        free(r->tests[i].name);
    free(r->tests);
    memset(r, 0, sizeof *r);
}

static bool listed(const struct hist_record *r, const char *name)
{
    for (size_t i = 0; i < r->nfns; i++)
        if (strcmp(r->fns[i].name, name) == 0)
            return true;
    return false;
}

static int add_fn(struct hist_record *r, const struct avg_function *f)
{
    if (listed(r, f->name))
        return 0;
    char *name = strdup(f->name);
    if (!name)
        return -1;
    struct hist_fn *h = &r->fns[r->nfns++];
    h->name = name;
    h->total = isnan(f->mean_pct) ? f->avg_percentage : f->mean_pct;
    h->self = f->self_mean_pct;
    return 0;
}

static int cmp_self_desc(const void *a, const void *b)
{
    const struct avg_function *x = *(const struct avg_function *const *)a,
                              *y = *(const struct avg_function *const *)b;
    double sx = isnan(x->self_mean_pct) ? -1 : x->self_mean_pct;
    double sy = isnan(y->self_mean_pct) ? -1 : y->self_mean_pct;
    return sx > sy ? -1 : sx < sy;
}

int history_record_from_avg(struct hist_record *r, const struct avg_profile *a, size_t top)
{
    r->runs = a->runs;
    r->wall_ms = a->wall_ms.median;
    r->wall_sd = a->wall_ms.sd;
    r->cpu_ms = a->cpu_ms.median;
    r->cpu_sd = a->cpu_ms.sd;
    r->rss_kb = a->peak_rss_kb.median;
    r->rss_sd = a->peak_rss_kb.sd;
    size_t n = a->nfunctions < top ? a->nfunctions : top;
    r->fns = calloc(2 * n + 1, sizeof *r->fns);
    const struct avg_function **by_self = calloc(a->nfunctions + 1, sizeof *by_self);
    if (!r->fns || !by_self) {
        free(by_self);
        return -1;
    }
    for (size_t i = 0; i < n; i++) /* functions[] is ranked by total share */
        if (add_fn(r, &a->functions[i]) < 0)
            goto oom;
    for (size_t i = 0; i < a->nfunctions; i++)
        by_self[i] = &a->functions[i];
    array_sort(by_self, a->nfunctions, sizeof *by_self, cmp_self_desc);
    for (size_t i = 0; i < n && !isnan(by_self[i]->self_mean_pct); i++)
        if (add_fn(r, by_self[i]) < 0)
            goto oom;
    free(by_self);
    return 0;
oom:
    free(by_self);
    return -1;
}

int history_record_add_tests(struct hist_record *r, const struct test_profile *t, size_t top)
{
    r->tests = calloc(t->ntests + 1, sizeof *r->tests);
    if (!r->tests)
        return -1;
    for (size_t i = 0; i < t->ntests && r->ntests < top; i++) { /* heaviest first */
        const struct test_stat *s = &t->tests[i];
        if (s->kind == TEST_KIND_NONE)
            continue;
        if (!(r->tests[r->ntests].name = strdup(s->name)))
            return -1;
        r->tests[r->ntests].ms = s->mean_ms;
        r->tests[r->ntests++].sd = s->sd_ms;
    }
    return 0;
}

static void key_opt_string(struct jw *w, const char *key, const char *v)
{
    jw_key(w, key);
    if (v)
        jw_string(w, v);
    else
        jw_null(w);
}

int history_write_line(FILE *f, const struct hist_record *r)
{
    struct jw w;
    jw_init(&w, f);
    jw_object_begin_inline(&w);
    jw_key(&w, "profreg_history");
    jw_int(&w, HISTORY_VERSION);
    key_opt_string(&w, "executable", r->executable);
    key_opt_string(&w, "commit", r->commit);
    key_opt_string(&w, "branch", r->branch);
    key_opt_string(&w, "date", r->date);
    jw_key(&w, "dirty");
    if (r->dirty < 0)
        jw_null(&w);
    else
        jw_bool(&w, r->dirty == 1);
    jw_key(&w, "runs");
    jw_uint(&w, r->runs);
    const char *mkeys[3] = {"wall_time_ms", "cpu_time_ms", "peak_rss_kb"};
    const double med[3] = {r->wall_ms, r->cpu_ms, r->rss_kb},
                 sd[3] = {r->wall_sd, r->cpu_sd, r->rss_sd};
    for (int k = 0; k < 3; k++) {
        jw_key(&w, mkeys[k]);
        jw_object_begin_inline(&w);
        jw_key_double(&w, "median", med[k], 3);
        jw_key_double(&w, "sd", sd[k], 3);
        jw_object_end(&w);
    }
    jw_key(&w, "functions");
    jw_array_begin_inline(&w);
    for (size_t i = 0; i < r->nfns; i++) {
        jw_object_begin_inline(&w);
        jw_key(&w, "name");
        jw_string(&w, r->fns[i].name);
        jw_key_double(&w, "total", r->fns[i].total, 4);
        jw_key_double(&w, "self", r->fns[i].self, 4);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_key(&w, "tests");
    jw_array_begin_inline(&w);
    for (size_t i = 0; i < r->ntests; i++) {
        jw_object_begin_inline(&w);
        jw_key(&w, "name");
        jw_string(&w, r->tests[i].name);
        jw_key_double(&w, "cpu_ms", r->tests[i].ms, 3);
        jw_key_double(&w, "sd", r->tests[i].sd, 3);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    return jw_finish(&w) != 0 ? -1 : 0; /* ends the line */
}

/* ---- reading ------------------------------------------------------------------------------ */

static int opt_str(const struct jdoc *d, const struct jv *o, const char *key, char **out, char *err,
                   size_t errlen)
{
    const struct jv *v = jv_get(d, o, key);
    if (!v || jv_is_null(v))
        return 0;
    if (v->type != JV_STRING) {
        snprintf(err, errlen, "%s: expected a string", key);
        return -1;
    }
    *out = strdup(jv_string(v));
    return *out ? 0 : -1;
}

static int opt_num(const struct jdoc *d, const struct jv *o, const char *key, double *out,
                   char *err, size_t errlen)
{
    const struct jv *v = jv_get(d, o, key);
    *out = NAN;
    if (!v || jv_is_null(v))
        return 0;
    if (!jv_is_number(v) || !isfinite(jv_number(v)) || jv_number(v) < 0) {
        snprintf(err, errlen, "%s: expected a number of at least 0", key);
        return -1;
    }
    *out = jv_number(v);
    return 0;
}

static int metric(const struct jdoc *d, const struct jv *o, const char *key, double *median,
                  double *sd, char *err, size_t errlen)
{
    const struct jv *m = jv_get(d, o, key);
    *median = *sd = NAN;
    if (!m || jv_is_null(m))
        return 0;
    if (!jv_is_object(m)) {
        snprintf(err, errlen, "%s: expected an object", key);
        return -1;
    }
    if (opt_num(d, m, "median", median, err, errlen) || opt_num(d, m, "sd", sd, err, errlen)) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "%s.%s", key, inner);
        return -1;
    }
    return 0;
}

int history_parse_line(char *line, size_t len, struct hist_record *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->dirty = -1;
    struct jdoc d = {0};
    if (jdoc_parse(&d, line, len) != 0) {
        snprintf(err, errlen, "not JSON (a truncated line?)");
        jdoc_free(&d);
        return -1;
    }
    const struct jv *o = &d.v[0];
    const struct jv *ver = jv_get(&d, o, "profreg_history");
    const struct jv *runs = jv_get(&d, o, "runs");
    const struct jv *fns = jv_get(&d, o, "functions");
    const struct jv *dirty = jv_get(&d, o, "dirty");
    if (!jv_is_object(o) || !ver || ver->type != JV_INTEGER || jv_integer(ver) != HISTORY_VERSION) {
        snprintf(err, errlen, "not a profreg history record of version %d", HISTORY_VERSION);
        goto fail;
    }
    if (!runs || runs->type != JV_INTEGER || jv_integer(runs) < 1) {
        snprintf(err, errlen, "runs: expected a whole number of at least 1");
        goto fail;
    }
    r->runs = (unsigned)jv_integer(runs);
    if (dirty && !jv_is_null(dirty)) {
        if (dirty->type != JV_TRUE && dirty->type != JV_FALSE) {
            snprintf(err, errlen, "dirty: expected true, false or null");
            goto fail;
        }
        r->dirty = dirty->type == JV_TRUE;
    }
    if (opt_str(&d, o, "executable", &r->executable, err, errlen) ||
        opt_str(&d, o, "commit", &r->commit, err, errlen) ||
        opt_str(&d, o, "branch", &r->branch, err, errlen) ||
        opt_str(&d, o, "date", &r->date, err, errlen) ||
        metric(&d, o, "wall_time_ms", &r->wall_ms, &r->wall_sd, err, errlen) ||
        metric(&d, o, "cpu_time_ms", &r->cpu_ms, &r->cpu_sd, err, errlen) ||
        metric(&d, o, "peak_rss_kb", &r->rss_kb, &r->rss_sd, err, errlen))
        goto fail;
    if (!r->executable) {
        snprintf(err, errlen, "executable: missing");
        goto fail;
    }
    if (!fns || !jv_is_array(fns)) {
        snprintf(err, errlen, "functions: expected an array");
        goto fail;
    }
    r->fns = calloc(jv_size(fns) + 1, sizeof *r->fns);
    if (!r->fns) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (const struct jv *f = jv_child(&d, fns); f; f = jv_next(&d, f, fns)) {
        const struct jv *name = jv_is_object(f) ? jv_get(&d, f, "name") : NULL;
        struct hist_fn h = {NULL, NAN, NAN};
        if (!name || name->type != JV_STRING || !*jv_string(name) ||
            opt_num(&d, f, "total", &h.total, err, errlen) ||
            opt_num(&d, f, "self", &h.self, err, errlen)) {
            snprintf(err, errlen, "functions[%zu]: expected {name, total, self}", r->nfns);
            goto fail;
        }
        if (!(h.name = strdup(jv_string(name)))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        r->fns[r->nfns++] = h;
    }
    const struct jv *tests = jv_get(&d, o, "tests");
    if (tests && !jv_is_null(tests)) {
        if (!jv_is_array(tests)) {
            snprintf(err, errlen, "tests: expected an array");
            goto fail;
        }
        r->tests = calloc(jv_size(tests) + 1, sizeof *r->tests);
        if (!r->tests) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        for (const struct jv *t = jv_child(&d, tests); t; t = jv_next(&d, t, tests)) {
            const struct jv *name = jv_is_object(t) ? jv_get(&d, t, "name") : NULL;
            struct hist_test h = {NULL, NAN, NAN};
            if (!name || name->type != JV_STRING || !*jv_string(name) ||
                opt_num(&d, t, "cpu_ms", &h.ms, err, errlen) ||
                opt_num(&d, t, "sd", &h.sd, err, errlen)) {
                snprintf(err, errlen, "tests[%zu]: expected {name, cpu_ms, sd}", r->ntests);
                goto fail;
            }
            if (!(h.name = strdup(jv_string(name)))) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            r->tests[r->ntests++] = h;
        }
    }
    jdoc_free(&d);
    return 0;
fail:
    jdoc_free(&d);
    history_record_free(r);
    return -1;
}

/* ---- change points ------------------------------------------------------------------------ */

struct seg_ctx {
    const double *x; /* known values only */
    double min_rel;
    struct change_point *out;
    size_t n, max;
};

static double mean_of(const double *x, size_t a, size_t b)
{
    double s = 0;
    for (size_t i = a; i < b; i++)
        s += x[i];
    return s / (double)(b - a);
}

/* Splits [a, b) at its most significant step, then each side. */
static void segment(struct seg_ctx *c, size_t a, size_t b)
{
    size_t len = b - a;
    if (len < 4 || c->n == c->max)
        return;
    double best_t = 0, best_m1 = 0, best_m2 = 0;
    size_t best = 0;
    for (size_t k = a + 2; k + 2 <= b; k++) {
        double m1 = mean_of(c->x, a, k), m2 = mean_of(c->x, k, b);
        double ss = 0;
        for (size_t i = a; i < k; i++)
            ss += (c->x[i] - m1) * (c->x[i] - m1);
        for (size_t i = k; i < b; i++)
            ss += (c->x[i] - m2) * (c->x[i] - m2);
        double n1 = (double)(k - a), n2 = (double)(b - k);
        double se = sqrt(ss / (double)(len - 2) * (1 / n1 + 1 / n2));
        double t = se > 0 ? fabs(m1 - m2) / se : (m1 != m2 ? INFINITY : 0);
        if (t > best_t) {
            best_t = t;
            best = k;
            best_m1 = m1;
            best_m2 = m2;
        }
    }
    size_t splits = len - 3;
    double crit = stats_t_quantile(0.001 / (double)splits / 2, (double)(len - 2));
    double level = fmax(fabs(best_m1), fabs(best_m2));
    if (best == 0 || !(best_t > crit) || fabs(best_m2 - best_m1) < c->min_rel * level)
        return;
    segment(c, a, best);
    if (c->n < c->max)
        c->out[c->n++] = (struct change_point){best, best_m1, best_m2};
    segment(c, best, b);
}

static int cmp_cp(const void *a, const void *b)
{
    const struct change_point *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

size_t history_change_points(const double *x, size_t n, double min_rel, struct change_point *out,
                             size_t max)
{
    double *v = malloc((n + 1) * sizeof *v);
    size_t *pos = malloc((n + 1) * sizeof *pos);
    size_t m = 0;
    if (!v || !pos) {
        free(v);
        free(pos);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) {
            v[m] = x[i];
            pos[m++] = i;
        }
    struct seg_ctx c = {v, min_rel, out, 0, max};
    segment(&c, 0, m);
    for (size_t i = 0; i < c.n; i++)
        out[i].index = pos[out[i].index];
    array_sort(out, c.n, sizeof *out, cmp_cp);
    free(v);
    free(pos);
    return c.n;
}
