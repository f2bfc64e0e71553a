/* judge.c — averaging runs, matching current against baseline, and the verdict rules.
 *
 * Pure: no I/O, no clock, no environment. The verdict for one function is decided in
 * exactly one place (function_verdict). Invariant: the names in a judgement point into the
 * averaged profiles it was computed from. */
#include "profreg/judge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profreg/array.h"
#include "profreg/hashmap.h"
#include "profreg/stats.h"

void judge_options_default(struct judge_options *o)
{
    o->threshold_percent = 50.0;
    o->top = 10;
    o->compat = false;
}

const char *verdict_name(enum verdict v)
{
    return v == VERDICT_REGRESSION ? "REGRESSION" : "PASS";
}

static int cmp_avg(const void *a, const void *b)
{
    const struct avg_function *x = a, *y = b;
    if (x->avg_percentage != y->avg_percentage)
        return x->avg_percentage > y->avg_percentage ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void avg_profile_sort(struct avg_profile *a)
{
    if (a->nfunctions > 1)
        qsort(a->functions, a->nfunctions, sizeof *a->functions, cmp_avg);
}

void avg_profile_free(struct avg_profile *a)
{
    for (size_t i = 0; i < a->nfunctions; i++) {
        free(a->functions[i].name);
        free(a->functions[i].source_file);
    }
    free(a->functions);
    memset(a, 0, sizeof *a);
}

/* Sums of one function over the runs, before dividing. */
struct avg_acc {
    double pct, samples;       /* sums over the runs where present */
    double pct_sq, samples_sq; /* sums of squares, for the spread over all runs */
};

void avg_builder_init(struct avg_builder *b)
{
    memset(b, 0, sizeof *b);
}

void avg_builder_abort(struct avg_builder *b)
{
    if (b->names) {
        hmap_free(b->names);
        free(b->names);
    }
    free(b->acc);
    for (int m = 0; m < 3; m++)
        free(b->metrics[m]);
    avg_profile_free(&b->out);
    memset(b, 0, sizeof *b);
}

/* Records one run's value of whole-run metric m (NAN: not recorded). */
static int add_metric(struct avg_builder *b, int m, double v)
{
    if (isnan(v))
        return 0;
    if (ARRAY_GROW(b->metrics[m], b->nmetrics[m], b->metrics_cap[m]) < 0)
        return -1;
    b->metrics[m][b->nmetrics[m]++] = v;
    return 0;
}

static struct run_metric metric_of(double *v, size_t n)
{
    struct run_metric r = {NAN, NAN, NAN, (unsigned)n};
    if (n == 0)
        return r;
    struct running acc = {0};
    for (size_t i = 0; i < n; i++)
        running_add(&acc, v[i]);
    r.mean = acc.mean;
    r.sd = running_sd(&acc);
    r.median = stats_median(v, n);
    return r;
}

int avg_builder_add(struct avg_builder *b, const struct pr_profile *p)
{
    if (!b->names) {
        if (!(b->names = malloc(sizeof *b->names)))
            return -1;
        hmap_init(b->names);
    }
    struct avg_profile *out = &b->out;
    if (out->nfunctions + p->nfunctions > b->cap) { /* room for every function of this run */
        size_t cap = b->cap ? b->cap : 64;
        while (cap < out->nfunctions + p->nfunctions)
            cap *= 2;
        struct avg_function *f = realloc(out->functions, cap * sizeof *f);
        if (f)
            out->functions = f;
        struct avg_acc *a = realloc(b->acc, cap * sizeof *a);
        if (a)
            b->acc = a;
        if (!f || !a)
            return -1;
        b->cap = cap;
    }
    b->total += (double)p->total_samples;
    b->total_sq += (double)p->total_samples * (double)p->total_samples;
    out->runs++;
    if (add_metric(b, 0, p->wall_time_ms) || add_metric(b, 1, p->cpu_time_ms) ||
        add_metric(b, 2, p->peak_rss_kb))
        return -1;
    for (size_t i = 0; i < p->nfunctions; i++) {
        const struct pr_function *f = &p->functions[i];
        uint32_t idx;
        int ins = hmap_intern(b->names, f->name, strlen(f->name), (uint32_t)out->nfunctions, &idx);
        if (ins < 0)
            return -1;
        struct avg_function *a = &out->functions[idx];
        if (ins == 1) {
            memset(a, 0, sizeof *a);
            memset(&b->acc[idx], 0, sizeof b->acc[idx]);
            a->order = out->nfunctions++;
            a->line = -1;
            if (!(a->name = strdup(f->name)))
                return -1;
        }
        if (!a->source_file && f->source_file && !(a->source_file = strdup(f->source_file)))
            return -1;
        if (a->line < 0)
            a->line = f->line;
        b->acc[idx].pct += f->percentage;
        b->acc[idx].samples += (double)f->samples;
        b->acc[idx].pct_sq += f->percentage * f->percentage;
        b->acc[idx].samples_sq += (double)f->samples * (double)f->samples;
        a->occurrences++;
    }
    return 0;
}

/* Sample standard deviation from a sum and a sum of squares over n values (absent runs are
 * zeros, which add nothing to either sum). */
static double spread(double sum, double sum_sq, double n)
{
    if (n < 2)
        return 0;
    double var = (sum_sq - sum * sum / n) / (n - 1);
    return var > 0 ? sqrt(var) : 0;
}

int avg_builder_finish(struct avg_builder *b, struct avg_profile *out)
{
    struct avg_profile *a = &b->out;
    double runs = (double)a->runs;
    for (size_t i = 0; i < a->nfunctions; i++) {
        struct avg_function *f = &a->functions[i];
        const struct avg_acc *c = &b->acc[i];
        f->avg_percentage = c->pct / f->occurrences;
        f->avg_samples = c->samples / f->occurrences;
        f->mean_pct = c->pct / runs;
        f->mean_samples = c->samples / runs;
        f->sd_pct = spread(c->pct, c->pct_sq, runs);
        f->sd_samples = spread(c->samples, c->samples_sq, runs);
    }
    a->avg_total_samples = a->runs ? b->total / runs : 0;
    a->sd_total_samples = spread(b->total, b->total_sq, runs);
    a->has_spread = true;
    a->wall_ms = metric_of(b->metrics[0], b->nmetrics[0]);
    a->cpu_ms = metric_of(b->metrics[1], b->nmetrics[1]);
    a->peak_rss_kb = metric_of(b->metrics[2], b->nmetrics[2]);
    avg_profile_sort(a);
    *out = *a;
    memset(a, 0, sizeof *a);
    avg_builder_abort(b);
    return 0;
}

int judge_average(const struct pr_profile *const *runs, size_t nruns, struct avg_profile *out)
{
    struct avg_builder b;
    avg_builder_init(&b);
    memset(out, 0, sizeof *out);
    for (size_t r = 0; r < nruns; r++)
        if (avg_builder_add(&b, runs[r]) != 0) {
            avg_builder_abort(&b);
            return -1;
        }
    return avg_builder_finish(&b, out);
}

/* The one place a function's verdict is decided. */
static enum verdict function_verdict(double diff_percent, const struct judge_options *o)
{
    /* The old rule: a relative increase strictly above the threshold; a zero baseline
     * (diff undefined) is never a regression. */
    return !isnan(diff_percent) && diff_percent > o->threshold_percent ? VERDICT_REGRESSION
                                                                       : VERDICT_PASS;
}

static double diff_percent(double current, double baseline)
{
    return baseline > 0 ? (current - baseline) / baseline * 100.0 : NAN;
}

/* Index map of the top n names of a (m initialised by the caller). */
static int index_top(const struct avg_profile *a, size_t n, struct hmap *m)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        if (hmap_intern(m, a->functions[i].name, strlen(a->functions[i].name), (uint32_t)i, &v) < 0)
            return -1;
    }
    return 0;
}

int judge_compare(const struct avg_profile *current, const struct avg_profile *baseline,
                  const struct judge_options *o, struct judgement *j)
{
    memset(j, 0, sizeof *j);
    size_t ncur = current->nfunctions < o->top ? current->nfunctions : o->top;
    size_t nbase = baseline->nfunctions < o->top ? baseline->nfunctions : o->top;
    struct hmap cur_top, base_top;
    hmap_init(&cur_top);
    hmap_init(&base_top);
    int rc = -1;
    if (index_top(current, ncur, &cur_top) || index_top(baseline, nbase, &base_top))
        goto done;
    j->compared = calloc(ncur ? ncur : 1, sizeof *j->compared);
    j->new_hotspots = calloc(ncur ? ncur : 1, sizeof *j->new_hotspots);
    j->disappeared = calloc(nbase ? nbase : 1, sizeof *j->disappeared);
    if (!j->compared || !j->new_hotspots || !j->disappeared)
        goto done;

    for (size_t i = 0; i < ncur; i++) {
        const struct avg_function *c = &current->functions[i];
        uint32_t bi;
        if (!hmap_get(&base_top, c->name, strlen(c->name), &bi)) {
            j->new_hotspots[j->nnew++] = (struct listed_function){c->name, c->avg_percentage};
            continue;
        }
        const struct avg_function *b = &baseline->functions[bi];
        struct judged_function *f = &j->compared[j->ncompared++];
        f->name = c->name;
        f->current_percentage = c->avg_percentage;
        f->baseline_percentage = b->avg_percentage;
        f->current_samples = c->avg_samples;
        f->baseline_samples = b->avg_samples;
        f->diff_percent = diff_percent(c->avg_percentage, b->avg_percentage);
        f->status = function_verdict(f->diff_percent, o);
        if (f->status == VERDICT_REGRESSION)
            j->regressed++;
        else
            j->passed++;
    }
    for (size_t i = 0; i < nbase; i++) {
        const struct avg_function *b = &baseline->functions[i];
        uint32_t ci;
        if (!hmap_get(&cur_top, b->name, strlen(b->name), &ci))
            j->disappeared[j->ndisappeared++] =
                (struct listed_function){b->name, b->avg_percentage};
    }
    rc = 0;
done:
    hmap_free(&cur_top);
    hmap_free(&base_top);
    if (rc != 0)
        judgement_free(j);
    return rc;
}

void judgement_free(struct judgement *j)
{
    free(j->compared);
    free(j->new_hotspots);
    free(j->disappeared);
    memset(j, 0, sizeof *j);
}
