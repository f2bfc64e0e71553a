/* baseline.c — reading (validated) and writing (stable formatting) baseline JSON.
 *
 * Invariant: the writer's output depends only on the struct (no clock, no environment),
 * and every file it writes is read back by baseline_read_* into the same ranking. */
#include "profreg/baseline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profreg/hashmap.h"
#include "profreg/json_read.h"
#include "profreg/json_write.h"

void baseline_init(struct baseline *b)
{
    memset(b, 0, sizeof *b);
    b->git_dirty = -1;
}

void baseline_free(struct baseline *b)
{
    avg_profile_free(&b->avg);
    free(b->executable);
    free(b->average_timestamp);
    free(b->created_at);
    free(b->git_commit);
    free(b->profreg_version);
    free(b->project_root);
    baseline_init(b);
}

/* ---- reading ---------------------------------------------------------------------------- */

static int read_metadata(struct jr *r, const struct jv *root, struct baseline *b)
{
    const struct jv *m;
    if (jr_opt_object(r, root, "metadata", "", &m))
        return -1;
    if (!m)
        return 0;
    const struct jv *runs = jr_get(r, m, "runs_averaged");
    if (runs && !jv_is_null(runs)) {
        uint64_t v;
        if (jr_count(r, runs, "metadata.runs_averaged", &v))
            return -1;
        if (v > 1000000)
            return jr_fail(r, "metadata.runs_averaged: %llu is not a plausible run count",
                           (unsigned long long)v);
        b->avg.runs = (unsigned)v;
    }
    const struct jv *dirty = jr_get(r, m, "git_dirty");
    if (dirty && !jv_is_null(dirty)) {
        if (!jv_is_bool(dirty))
            return jr_fail(r, "metadata.git_dirty: expected a boolean, got %s",
                           jr_type_name(dirty));
        b->git_dirty = jv_is_true(dirty);
    }
    const struct jv *seen = jr_get(r, m, "functions_seen");
    if (seen && !jv_is_null(seen)) {
        uint64_t v;
        if (jr_count(r, seen, "metadata.functions_seen", &v))
            return -1;
        b->functions_seen = (size_t)v;
    }
    return jr_opt_string(r, m, "executable", "metadata", &b->executable) ||
                   jr_opt_string(r, m, "average_timestamp", "metadata", &b->average_timestamp) ||
                   jr_opt_string(r, m, "created_at", "metadata", &b->created_at) ||
                   jr_opt_string(r, m, "git_commit", "metadata", &b->git_commit) ||
                   jr_opt_string(r, m, "profreg_version", "metadata", &b->profreg_version)
               ? -1
               : 0;
}

static int read_function(struct jr *r, const struct jv *e, size_t i, struct avg_function *f)
{
    char where[64], key[96];
    snprintf(where, sizeof where, "top_functions[%zu]", i);
    f->line = -1;
    f->order = i;
    f->mean_pct = f->sd_pct = f->mean_samples = f->sd_samples = NAN;
    f->avg_self_pct = f->self_mean_pct = f->self_sd_pct = NAN;
    f->self_mean_samples = f->self_sd_samples = NAN;
    if (!jv_is_object(e))
        return jr_fail(r, "%s: expected an object, got %s", where, jr_type_name(e));
    const struct jv *name = jr_get(r, e, "name");
    if (!jv_is_string(name) || !*jv_string(name))
        return jr_fail(r, "%s.name: expected a non-empty string, got %s", where,
                       name ? jr_type_name(name) : "nothing");
    if (!(f->name = strdup(jv_string(name))))
        return jr_fail(r, "out of memory");
    snprintf(key, sizeof key, "%s.avg_percentage", where);
    if (jr_number(r, jr_get(r, e, "avg_percentage"), key, &f->avg_percentage))
        return -1;
    if (f->avg_percentage > 100.0 + 1e-6)
        return jr_fail(r, "%s: avg_percentage %g is above 100", where, f->avg_percentage);
    if (jr_opt_number(r, e, "avg_samples", where, &f->avg_samples))
        return -1;
    if (isnan(f->avg_samples))
        f->avg_samples = 0;
    const struct jv *occ = jr_get(r, e, "occurrences");
    f->occurrences = 0;
    if (occ && !jv_is_null(occ)) {
        uint64_t v;
        snprintf(key, sizeof key, "%s.occurrences", where);
        if (jr_count(r, occ, key, &v))
            return -1;
        f->occurrences = (unsigned)(v > 1000000 ? 1000000 : v);
    }
    const struct jv *line = jr_get(r, e, "line");
    if (line && !jv_is_null(line)) {
        uint64_t v;
        snprintf(key, sizeof key, "%s.line", where);
        if (jr_count(r, line, key, &v))
            return -1;
        f->line = (long)v;
    }
    if (jr_opt_number(r, e, "mean_percentage", where, &f->mean_pct) ||
        jr_opt_number(r, e, "sd_percentage", where, &f->sd_pct) ||
        jr_opt_number(r, e, "mean_samples", where, &f->mean_samples) ||
        jr_opt_number(r, e, "sd_samples", where, &f->sd_samples))
        return -1;
    if (f->mean_pct > 100.0 + 1e-6)
        return jr_fail(r, "%s: mean_percentage %g is above 100", where, f->mean_pct);
    if (jr_opt_number(r, e, "self_mean_percentage", where, &f->self_mean_pct) ||
        jr_opt_number(r, e, "self_sd_percentage", where, &f->self_sd_pct) ||
        jr_opt_number(r, e, "self_mean_samples", where, &f->self_mean_samples) ||
        jr_opt_number(r, e, "self_sd_samples", where, &f->self_sd_samples))
        return -1;
    if (f->self_mean_pct > 100.0 + 1e-6)
        return jr_fail(r, "%s: self_mean_percentage %g is above 100", where, f->self_mean_pct);
    if (f->self_mean_pct > f->mean_pct + 1e-3)
        return jr_fail(r, "%s: self_mean_percentage %g is above mean_percentage %g", where,
                       f->self_mean_pct, f->mean_pct);
    return jr_opt_string(r, e, "source_file", where, &f->source_file) ||
                   jr_opt_string(r, e, "source_path", where, &f->source_path)
               ? -1
               : 0;
}

/* A whole-run metric object of the summary, when present. */
static int read_metric(struct jr *r, const struct jv *s, const char *key, struct run_metric *m)
{
    const struct jv *o;
    char where[64];
    snprintf(where, sizeof where, "summary.%s", key);
    m->median = m->mean = m->sd = NAN;
    m->n = 0;
    if (jr_opt_object(r, s, key, "summary", &o))
        return -1;
    if (!o)
        return 0;
    uint64_t n = 0;
    const struct jv *runs = jr_get(r, o, "runs");
    char key_runs[96];
    snprintf(key_runs, sizeof key_runs, "%s.runs", where);
    if (jr_opt_number(r, o, "median", where, &m->median) ||
        jr_opt_number(r, o, "mean", where, &m->mean) || jr_opt_number(r, o, "sd", where, &m->sd) ||
        (runs && jr_count(r, runs, key_runs, &n)))
        return -1;
    m->n = (unsigned)(n > 1000000 ? 1000000 : n);
    return 0;
}

static int read_functions(struct jr *r, const struct jv *root, struct baseline *b)
{
    const struct jv *arr = jr_get(r, root, "top_functions");
    if (!arr)
        return jr_fail(r, "top_functions: missing");
    if (!jv_is_array(arr))
        return jr_fail(r, "top_functions: expected an array, got %s", jr_type_name(arr));
    size_t n = jv_size(arr);
    b->avg.functions = calloc(n ? n : 1, sizeof *b->avg.functions);
    if (!b->avg.functions)
        return jr_fail(r, "out of memory");
    struct hmap names;
    hmap_init(&names);
    int rc = 0;
    const struct jv *e = jv_child(r->doc, arr);
    for (size_t i = 0; i < n && rc == 0; i++, e = jv_next(r->doc, e, arr)) {
        b->avg.nfunctions = i + 1;
        struct avg_function *f = &b->avg.functions[i];
        rc = read_function(r, e, i, f);
        uint32_t first;
        int ins = rc ? 1 : hmap_intern(&names, f->name, strlen(f->name), (uint32_t)i, &first);
        if (ins < 0)
            rc = jr_fail(r, "out of memory");
        else if (ins == 0)
            rc = jr_fail(r, "top_functions[%zu]: duplicate function name (also at [%u]): %.200s", i,
                         first, f->name);
    }
    hmap_free(&names);
    return rc;
}

static int read_root(struct jr *r, const struct jv *root, struct baseline *b)
{
    if (!jv_is_object(root))
        return jr_fail(r, "expected a JSON object at the top, got %s", jr_type_name(root));
    const struct jv *s;
    if (read_metadata(r, root, b) || jr_opt_object(r, root, "summary", "", &s))
        return -1;
    b->avg.avg_total_samples = 0;
    b->avg.sd_total_samples = NAN;
    b->avg.avg_signals = NAN;
    struct run_metric none = {NAN, NAN, NAN, 0};
    b->avg.wall_ms = b->avg.cpu_ms = b->avg.peak_rss_kb = none;
    if (s) {
        double v;
        if (jr_opt_number(r, s, "avg_total_samples", "summary", &v) ||
            jr_opt_number(r, s, "sd_total_samples", "summary", &b->avg.sd_total_samples) ||
            jr_opt_number(r, s, "avg_signals", "summary", &b->avg.avg_signals) ||
            read_metric(r, s, "wall_time_ms", &b->avg.wall_ms) ||
            read_metric(r, s, "cpu_time_ms", &b->avg.cpu_ms) ||
            read_metric(r, s, "peak_rss_kb", &b->avg.peak_rss_kb))
            return -1;
        b->avg.avg_total_samples = isnan(v) ? 0 : v;
    }
    if (read_functions(r, root, b))
        return -1;
    /* spread is known when every function carries it (baselines of the old tool do not) */
    struct avg_profile *a = &b->avg;
    a->has_spread = !isnan(a->sd_total_samples);
    a->has_self = a->nfunctions > 0;
    for (size_t i = 0; i < a->nfunctions; i++) {
        struct avg_function *f = &a->functions[i];
        if (isnan(f->mean_pct) || isnan(f->sd_pct))
            a->has_spread = false;
        if (isnan(f->self_mean_pct) || isnan(f->self_sd_pct) || isnan(f->self_mean_samples))
            a->has_self = false;
        /* the old tool's averages are over the runs a function appears in: the mean over
         * all runs follows from the occurrences */
        double share = a->runs && f->occurrences ? (double)f->occurrences / a->runs : 1;
        if (share > 1)
            share = 1;
        if (isnan(f->mean_pct))
            f->mean_pct = f->avg_percentage * share;
        if (isnan(f->mean_samples))
            f->mean_samples = f->avg_samples * share;
        f->avg_self_pct = f->self_mean_pct / share;
    }
    /* it lists every function the runs had (absent means no samples) when it says so */
    a->complete = b->functions_seen > 0 && b->functions_seen == a->nfunctions;
    avg_profile_sort(a);
    return 0;
}

static int read_doc(struct jr *r, const struct jv *root, void *ctx)
{
    struct baseline *b = ctx;
    if (read_root(r, root, b) == 0)
        return 0;
    baseline_free(b);
    return -1;
}

int baseline_read_file(const char *path, struct baseline *b, char *err, size_t errlen)
{
    struct jr r = {path, err, errlen, NULL};
    return jr_parse_file(&r, read_doc, b);
}

int baseline_read_string(const char *text, const char *name, struct baseline *b, char *err,
                         size_t errlen)
{
    struct jr r = {name, err, errlen, NULL};
    return jr_parse_string(&r, text, read_doc, b);
}

/* ---- writing ---------------------------------------------------------------------------- */

size_t baseline_kept(const struct baseline *b)
{
    size_t n = 0;
    while (n < b->avg.nfunctions && (n < BASELINE_KEEP_TOP || b->avg.functions[n].avg_percentage >=
                                                                  BASELINE_KEEP_MIN_PERCENT))
        n++;
    return n;
}

/* path relative to root when it lies under it (so that baselines do not depend on where
 * the project was checked out), else as it is. */
static const char *project_relative(const char *root, const char *path)
{
    size_t n = root ? strlen(root) : 0;
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (n > 1 && strncmp(path, root, n) == 0 && path[n] == '/' && path[n + 1])
        return path + n + 1;
    return path;
}

/* A whole-run metric as one line: {"median": .., "mean": .., "sd": .., "runs": n}. */
static void write_metric(struct jw *w, const char *key, const struct run_metric *m)
{
    if (m->n == 0)
        return;
    jw_key(w, key);
    jw_object_begin_inline(w);
    jw_key(w, "median");
    jw_double(w, m->median, 1);
    jw_key(w, "mean");
    jw_double(w, m->mean, 1);
    jw_key(w, "sd");
    jw_double(w, m->sd, 1);
    jw_key(w, "runs");
    jw_uint(w, m->n);
    jw_object_end(w);
}

int baseline_write(FILE *f, const struct baseline *b)
{
    struct jw w;
    jw_init(&w, f);
    jw_object_begin(&w);

    jw_key(&w, "metadata");
    jw_object_begin(&w);
    jw_key(&w, "runs_averaged");
    jw_uint(&w, b->avg.runs);
    jw_key(&w, "executable");
    jw_string(&w, b->executable);
    jw_key(&w, "average_timestamp");
    jw_string(&w, b->average_timestamp);
    jw_key(&w, "created_at");
    jw_string(&w, b->created_at);
    jw_key(&w, "git_commit");
    jw_string(&w, b->git_commit);
    jw_key(&w, "git_dirty");
    if (b->git_dirty < 0)
        jw_null(&w);
    else
        jw_bool(&w, b->git_dirty == 1);
    jw_key(&w, "profreg_version");
    jw_string(&w, b->profreg_version);
    jw_key(&w, "functions_seen");
    jw_uint(&w, b->functions_seen ? b->functions_seen : b->avg.nfunctions);
    jw_object_end(&w);

    jw_key(&w, "summary");
    jw_object_begin(&w);
    jw_key(&w, "avg_total_samples");
    jw_double(&w, b->avg.avg_total_samples, BASELINE_SAMPLES_DECIMALS);
    if (b->avg.has_spread) {
        jw_key(&w, "sd_total_samples");
        jw_double(&w, b->avg.sd_total_samples, BASELINE_SAMPLES_DECIMALS);
        if (!isnan(b->avg.avg_signals)) {
            jw_key(&w, "avg_signals");
            jw_double(&w, b->avg.avg_signals, BASELINE_SAMPLES_DECIMALS);
        }
        write_metric(&w, "wall_time_ms", &b->avg.wall_ms);
        write_metric(&w, "cpu_time_ms", &b->avg.cpu_ms);
        write_metric(&w, "peak_rss_kb", &b->avg.peak_rss_kb);
    }
    jw_object_end(&w);

    jw_key(&w, "top_functions");
    jw_array_begin(&w);
    size_t kept = baseline_kept(b);
    for (size_t i = 0; i < kept; i++) {
        const struct avg_function *fn = &b->avg.functions[i];
        jw_object_begin_inline(&w);
        jw_key(&w, "name");
        jw_string(&w, fn->name);
        jw_key(&w, "avg_percentage");
        jw_double(&w, fn->avg_percentage, BASELINE_PCT_DECIMALS);
        jw_key(&w, "avg_samples");
        jw_double(&w, fn->avg_samples, BASELINE_SAMPLES_DECIMALS);
        jw_key(&w, "occurrences");
        jw_uint(&w, fn->occurrences);
        if (b->avg.has_spread) {
            jw_key(&w, "mean_percentage");
            jw_double(&w, fn->mean_pct, BASELINE_PCT_DECIMALS);
            jw_key(&w, "sd_percentage");
            jw_double(&w, fn->sd_pct, BASELINE_PCT_DECIMALS);
            jw_key(&w, "mean_samples");
            jw_double(&w, fn->mean_samples, BASELINE_SAMPLES_DECIMALS);
            jw_key(&w, "sd_samples");
            jw_double(&w, fn->sd_samples, BASELINE_SAMPLES_DECIMALS);
        }
        if (b->avg.has_spread && b->avg.has_self) {
            jw_key(&w, "self_mean_percentage");
            jw_double(&w, fn->self_mean_pct, BASELINE_PCT_DECIMALS);
            jw_key(&w, "self_sd_percentage");
            jw_double(&w, fn->self_sd_pct, BASELINE_PCT_DECIMALS);
            jw_key(&w, "self_mean_samples");
            jw_double(&w, fn->self_mean_samples, BASELINE_SAMPLES_DECIMALS);
            jw_key(&w, "self_sd_samples");
            jw_double(&w, fn->self_sd_samples, BASELINE_SAMPLES_DECIMALS);
        }
        jw_key(&w, "source_file");
        jw_string(&w, fn->source_file);
        /* absolute, or relative to the project root; a compiler's path relative to some
         * other build directory would read as the project's, so it is left out */
        const char *path = fn->source_path ? project_relative(b->project_root, fn->source_path)
                                           : NULL;
        if (path && (path[0] == '/' || path != fn->source_path)) {
            jw_key(&w, "source_path");
            jw_string(&w, path);
        }
        jw_key(&w, "line");
        if (fn->line >= 0)
            jw_int(&w, fn->line);
        else
            jw_null(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    return jw_finish(&w);
}
