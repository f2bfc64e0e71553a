/* SPDX-License-Identifier: MIT */
/* render_json.c — the comparison report JSON (docs/formats.md) with stable formatting. */
#include "core/json_write.h"
#include "analysis/render/render_compare.h"
#include "analysis/render/render_tests.h"

#include <math.h>

#define PCT_DECIMALS 4

static void write_names(struct jw *w, const struct listed_function *l, size_t n)
{
    jw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        jw_string(w, l[i].name);
    jw_array_end(w);
}

static void write_listed(struct jw *w, const struct listed_function *l, size_t n)
{
    jw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        jw_object_begin_inline(w);
        jw_key(w, "name");
        jw_string(w, l[i].name);
        jw_key(w, "percentage");
        jw_double(w, l[i].percentage, PCT_DECIMALS);
        if (!isnan(l[i].baseline_percentage)) {
            jw_key(w, "baseline_percentage");
            jw_double(w, l[i].baseline_percentage, PCT_DECIMALS);
            jw_key(w, "p_value");
            jw_double(w, l[i].p_value, 6);
        }
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* A number, null when NAN. */
static void write_metrics(struct jw *w, const struct judgement *j)
{
    jw_array_begin(w);
    for (size_t i = 0; i < j->nmetrics; i++) {
        const struct judged_metric *m = &j->metrics[i];
        jw_object_begin(w);
        jw_key(w, "name");
        jw_string(w, m->key);
        jw_key_double(w, "current_median", m->current_median, 3);
        jw_key_double(w, "baseline_median", m->baseline_median, 3);
        jw_key(w, "current_runs");
        jw_uint(w, m->current_runs);
        jw_key(w, "baseline_runs");
        jw_uint(w, m->baseline_runs);
        jw_key_double(w, "diff_percent", m->diff_percent, PCT_DECIMALS);
        jw_key_double(w, "threshold_percent", m->threshold_percent, 6);
        jw_key_double(w, "budget", m->budget, 6);
        jw_key_double(w, "p_value", m->p_value, 6);
        jw_key(w, "test");
        jw_string(w, sig_test_name(m->test));
        jw_key(w, "over_threshold");
        jw_bool(w, m->over_threshold);
        jw_key(w, "over_budget");
        jw_bool(w, m->over_budget);
        if (m->paired) {
            jw_key(w, "pairs");
            jw_uint(w, m->pairs);
            jw_key_double(w, "ratio_median", m->ratio_median, 6);
            jw_key_double(w, "ratio_geometric_mean", m->ratio_gmean, 6);
            jw_key(w, "ratio_ci");
            jw_array_begin(w);
            jw_double(w, m->ratio_lo, 6);
            jw_double(w, m->ratio_hi, 6);
            jw_array_end(w);
        }
        jw_key(w, "status");
        jw_string(w, m->judged ? verdict_name(m->status) : "NOT_JUDGED");
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* One share's verdict: {"current", "baseline", "diff_percent", "delta_points", "p_value",
 * "detectable_points", "needed_points", "status"}. */
static void write_share(struct jw *w, const char *key, const struct share_verdict *v)
{
    jw_key(w, key);
    if (!v->judged) {
        jw_null(w);
        return;
    }
    jw_object_begin_inline(w);
    jw_key_double(w, "current", v->current, PCT_DECIMALS);
    jw_key_double(w, "baseline", v->baseline, PCT_DECIMALS);
    jw_key_double(w, "diff_percent", v->diff_percent, PCT_DECIMALS);
    jw_key_double(w, "delta_points", v->delta_points, PCT_DECIMALS);
    jw_key_double(w, "p_value", v->p_value, 6);
    jw_key_double(w, "detectable_points", v->mde_points, PCT_DECIMALS);
    jw_key_double(w, "needed_points", v->needed_points, PCT_DECIMALS);
    jw_key_double(w, "alpha", v->alpha, 8);
    jw_key(w, "status");
    jw_string(w, verdict_name(v->status));
    jw_object_end(w);
}

/* The default judge's keys: both shares, what could be detected, and the cause analysis. */
static void write_default_extras(struct jw *w, const struct judged_function *f)
{
    jw_key(w, "decided_by");
    jw_string(w, judge_metric_name(f->decided_by));
    write_share(w, "total", &f->total);
    write_share(w, "self", &f->self);
    jw_key_double(w, "picked_from", f->picked_from, 0);
    jw_key_double(w, "detectable_growth_percent", f->detectable_percent, 2);
    jw_key(w, "role");
    if (f->role == ROLE_NONE)
        jw_null(w);
    else
        jw_string(w, cause_role_name(f->role));
    jw_key_double(w, "own_delta_points", f->own_delta_points, PCT_DECIMALS);
    jw_key(w, "inherits_from");
    jw_array_begin_inline(w);
    for (size_t k = 0; k < f->ninherits; k++)
        jw_string(w, f->inherits_from[k]);
    jw_array_end(w);
}

int render_compare_json(FILE *out, const struct compare_view *v, const struct judgement *j)
{
    struct jw w;
    jw_init(&w, out);
    jw_object_begin(&w);

    jw_key(&w, "metadata");
    jw_object_begin(&w);
    jw_key(&w, "generated_at");
    jw_string(&w, v->generated_at);
    jw_key(&w, "executable");
    jw_string(&w, v->executable);
    jw_key(&w, "runs_averaged");
    jw_uint(&w, v->current_runs);
    jw_key(&w, "threshold_percent");
    jw_double(&w, v->options->threshold_percent, 6);
    jw_key(&w, "current_timestamp");
    jw_string(&w, v->current_timestamp);
    jw_key(&w, "baseline_timestamp");
    jw_string(&w, v->baseline_timestamp);
    jw_key(&w, "top");
    jw_uint(&w, v->options->top);
    jw_key(&w, "judge");
    jw_string(&w, v->options->compat ? "compat" : "default");
    const struct judge_options *o = v->options;
    jw_key(&w, "metric");
    jw_string(&w, judge_metric_name(o->metric));
    if (v->share_of) { /* compare --metric alloc|live */
        jw_key(&w, "shares_of");
        jw_string(&w, v->share_of);
    }
    jw_key_double(&w, "min_delta", o->compat ? NAN : o->min_delta, 6);
    jw_key_double(&w, "confidence", o->compat ? NAN : o->confidence, 6);
    jw_key_double(&w, "time_threshold_percent", o->compat ? NAN : o->time_threshold, 6);
    jw_key_double(&w, "memory_threshold_percent", o->compat ? NAN : o->memory_threshold, 6);
    jw_key_double(&w, "max_time_ms", o->max_time_ms, 6);
    jw_key_double(&w, "max_memory_mb", o->max_memory_mb, 6);
    jw_key(&w, "filter");
    jw_string(&w, v->filter_text);
    jw_key(&w, "baseline_runs");
    jw_uint(&w, v->baseline_runs);
    jw_key(&w, "baseline_git_commit");
    jw_string(&w, v->baseline_commit);
    jw_key(&w, "baseline_file");
    jw_string(&w, v->baseline_file);
    if (v->base_files) {
        jw_key(&w, "paired");
        jw_object_begin(&w);
        jw_key(&w, "pairs");
        jw_uint(&w, v->nbase_files);
        jw_key(&w, "base_label");
        jw_string(&w, v->base_label);
        jw_key(&w, "base_files");
        jw_array_begin(&w);
        for (size_t i = 0; i < v->nbase_files; i++)
            jw_string(&w, v->base_files[i]);
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_key(&w, "current_files");
    jw_array_begin(&w);
    for (size_t i = 0; i < v->ncurrent_files; i++)
        jw_string(&w, v->current_files[i]);
    jw_array_end(&w);
    jw_object_end(&w);

    jw_key(&w, "functions");
    jw_array_begin(&w);
    for (size_t i = 0; i < j->ncompared; i++) {
        const struct judged_function *f = &j->compared[i];
        jw_object_begin(&w);
        jw_key(&w, "name");
        jw_string(&w, f->name);
        jw_key(&w, "current_percentage");
        jw_double(&w, f->current_percentage, PCT_DECIMALS);
        jw_key(&w, "baseline_percentage");
        jw_double(&w, f->baseline_percentage, PCT_DECIMALS);
        jw_key(&w, "current_samples");
        jw_double(&w, f->current_samples, 2);
        jw_key(&w, "baseline_samples");
        jw_double(&w, f->baseline_samples, 2);
        jw_key(&w, "diff_percent");
        jw_double(&w, f->diff_percent, PCT_DECIMALS); /* null when the baseline share is 0 */
        jw_key(&w, "status");
        jw_string(&w, verdict_name(f->status));
        jw_key_double(&w, "delta_points", f->delta_points, PCT_DECIMALS);
        jw_key_double(&w, "current_total_percentage", f->current_total, PCT_DECIMALS);
        jw_key_double(&w, "baseline_total_percentage", f->baseline_total, PCT_DECIMALS);
        jw_key_double(&w, "current_self_percentage", f->current_self, PCT_DECIMALS);
        jw_key_double(&w, "baseline_self_percentage", f->baseline_self, PCT_DECIMALS);
        jw_key(&w, "current_rank");
        if (f->current_rank)
            jw_uint(&w, f->current_rank);
        else
            jw_null(&w);
        jw_key(&w, "baseline_rank");
        if (f->baseline_rank)
            jw_uint(&w, f->baseline_rank);
        else
            jw_null(&w);
        jw_key_double(&w, "p_value", f->p_value, 6);
        jw_key(&w, "test");
        jw_string(&w, sig_test_name(f->test));
        jw_key(&w, "checks");
        jw_object_begin_inline(&w);
        jw_key(&w, "threshold");
        jw_bool(&w, f->grew_enough);
        jw_key(&w, "min_delta");
        jw_bool(&w, f->moved_enough);
        jw_key(&w, "significant");
        jw_bool(&w, f->significant);
        jw_object_end(&w);
        if (!o->compat)
            write_default_extras(&w, f);
        jw_object_end(&w);
    }
    jw_array_end(&w);

    jw_key(&w, "summary");
    jw_object_begin(&w);
    jw_key(&w, "total_compared");
    jw_uint(&w, j->ncompared);
    jw_key(&w, "passed");
    jw_uint(&w, j->passed);
    jw_key(&w, "regressed");
    jw_uint(&w, j->regressed);
    jw_key(&w, "new_hotspots");
    write_names(&w, j->new_hotspots, j->nnew);
    jw_key(&w, "disappeared");
    write_names(&w, j->disappeared, j->ndisappeared);
    jw_key(&w, "new_hotspot_shares");
    write_listed(&w, j->new_hotspots, j->nnew);
    jw_key(&w, "disappeared_shares");
    write_listed(&w, j->disappeared, j->ndisappeared);
    jw_key(&w, "metrics_regressed");
    jw_uint(&w, j->metrics_regressed);
    jw_key(&w, "new_hotspots_failing");
    jw_uint(&w, j->new_regressed);
    jw_key(&w, "inconclusive");
    jw_uint(&w, j->inconclusive);
    jw_key(&w, "verdict");
    jw_string(&w, judgement_failed(j) ? "REGRESSION" : j->inconclusive ? "INCONCLUSIVE" : "PASS");
    jw_key(&w, "most_likely_cause");
    jw_string(&w, j->likely_cause);
    jw_key(&w, "not_given_a_slot");
    jw_array_begin(&w);
    for (size_t i = 0; i < j->nstructural; i++)
        jw_string(&w, j->structural[i]);
    jw_array_end(&w);
    jw_key(&w, "notes");
    jw_array_begin(&w);
    for (unsigned bit = 0; bit < JUDGE_NOTES; bit++)
        if (j->notes & (1u << bit))
            jw_string(&w, judge_note_text(1u << bit));
    jw_array_end(&w);
    jw_object_end(&w);

    jw_key(&w, "metrics");
    write_metrics(&w, j);
    render_tests_json(&w, v->tests); /* compare --by-test */

    jw_object_end(&w);
    return jw_finish(&w);
}
