/* render_json.c — the comparison report JSON (SPEC section 4) with stable formatting. */
#include "profreg/json_write.h"
#include "profreg/render_compare.h"

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
        jw_object_end(w);
    }
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
    jw_key(&w, "baseline_runs");
    jw_uint(&w, v->baseline_runs);
    jw_key(&w, "baseline_git_commit");
    jw_string(&w, v->baseline_commit);
    jw_key(&w, "baseline_file");
    jw_string(&w, v->baseline_file);
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
    jw_object_end(&w);

    jw_object_end(&w);
    return jw_finish(&w);
}
