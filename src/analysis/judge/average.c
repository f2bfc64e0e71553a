/* SPDX-License-Identifier: MIT */
/* average.c — averaging runs: functions matched by name over the runs (the Instruments workflow's
 * rule, sums in run order), spreads over all runs, whole-run metrics, stacks summed. Pure: no I/O,
 * no clock, no environment. */
#include "analysis/judge/average.h"
#include "core/memory.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/hashmap.h"
#include "core/intern.h"
#include "analysis/judge/stats.h"

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
        array_sort(a->functions, a->nfunctions, sizeof *a->functions, cmp_avg);
}

void avg_profile_free(struct avg_profile *a)
{
    for (size_t i = 0; i < a->nfunctions; i++) {
        free(a->functions[i].name);
        free(a->functions[i].source_file);
        free(a->functions[i].source_path);
    }
    free(a->functions);
    for (size_t i = 0; i < a->nstacks; i++)
        free(a->stacks[i].frames);
    free(a->stacks);
    memset(a, 0, sizeof *a);
}

/* Sums of one function over the runs, before dividing. */
struct avg_acc {
    double pct, samples;       /* sums over the runs where present */
    double pct_sq, samples_sq; /* sums of squares, for the spread over all runs */
    double self_pct, self_samples, self_pct_sq, self_samples_sq; /* the same for self */
};

void avg_builder_init(struct avg_builder *b)
{
    memset(b, 0, sizeof *b);
}

void avg_builder_abort(struct avg_builder *b)
{
    if (b->names) {
        fn_intern_free(b->names);
        free(b->names);
    }
    free(b->acc);
    for (int m = 0; m < RUN_METRICS; m++)
        free(b->metrics[m]);
    if (b->stacks) {
        stack_intern_free(b->stacks);
        free(b->stacks);
    }
    free(b->fmap);
    avg_profile_free(&b->out);
    memset(b, 0, sizeof *b);
}

/* Records one run's value of whole-run metric m (NAN: not recorded). */
static int add_metric(struct avg_builder *b, enum run_metric_id m, double v)
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

/* Adds a run's stacks, its frames translated to the averaged functions, counts summed. */
static int add_stacks(struct avg_builder *b, const struct pr_profile *p)
{
    struct avg_profile *out = &b->out;
    if (!b->stacks) {
        if (!(b->stacks = malloc(sizeof *b->stacks)))
            return -1;
        stack_intern_init(b->stacks, STACK_BY_FRAMES);
    }
    for (size_t s = 0; s < p->nstacks; s++) {
        const struct pr_stack *st = &p->stacks[s];
        uint32_t *frames = stack_intern_frames(b->stacks, st->depth), idx;
        if (!frames)
            return -1;
        for (uint32_t d = 0; d < st->depth; d++)
            frames[d] = st->frames[d] < p->nfunctions ? b->fmap[st->frames[d]] : 0;
        /* errno EOVERFLOW: runs whose samples add up past PR_MAX_SAMPLES */
        if (stack_intern_add(b->stacks, &out->stacks, &out->nstacks, frames, NULL, st->depth,
                             st->count, 0, &idx) < 0)
            return -1;
    }
    return 0;
}

int avg_builder_add(struct avg_builder *b, const struct pr_profile *p)
{
    if (!b->names) {
        if (!(b->names = malloc(sizeof *b->names)))
            return -1;
        fn_intern_init(b->names, FN_BY_NAME);
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
    if (out->runs == 0) {
        out->has_self = true;
        out->complete = true;
        out->has_stacks = true;
    }
    if (!p->has_stacks)
        out->has_stacks = false;
    if (p->nfunctions > b->fmap_cap) {
        uint32_t *m = realloc(b->fmap, p->nfunctions * sizeof *m);
        if (!m)
            return -1;
        b->fmap = m;
        b->fmap_cap = p->nfunctions;
    }
    out->runs++;
    /* profreg's profiles list every function; the Instruments workflow's may be cut to a top N */
    if (!p->profreg_version)
        out->complete = false;
    if (p->signals > 0 && p->total_samples > 0) {
        b->signals += (double)p->signals;
        b->signal_runs++;
    }
    if (add_metric(b, RUN_WALL_MS, p->wall_time_ms) || add_metric(b, RUN_CPU_MS, p->cpu_time_ms) ||
        add_metric(b, RUN_PEAK_RSS_KB, p->peak_rss_kb))
        return -1;
    if (p->memory &&
        (add_metric(b, RUN_ALLOC_KB, (double)p->memory->total[MEM_ALLOC_BYTES] / 1024) ||
         add_metric(b, RUN_PEAK_LIVE_KB, (double)p->memory->total[MEM_PEAK_LIVE] / 1024)))
        return -1;
    for (size_t i = 0; i < p->nfunctions; i++) {
        const struct pr_function *f = &p->functions[i];
        uint32_t idx;
        int ins = fn_intern(b->names, f->name, strlen(f->name), NULL, NULL,
                            (uint32_t)out->nfunctions, &idx);
        if (ins < 0)
            return -1;
        struct avg_function *a = &out->functions[idx];
        b->fmap[i] = idx;
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
        if (!a->source_path && f->source_path && !(a->source_path = strdup(f->source_path)))
            return -1;
        if (a->line < 0)
            a->line = f->line;
        if (!f->has_self)
            out->has_self = false;
        struct avg_acc *c = &b->acc[idx];
        c->self_pct += f->self_percentage;
        c->self_samples += (double)f->self_samples;
        c->self_pct_sq += f->self_percentage * f->self_percentage;
        c->self_samples_sq += (double)f->self_samples * (double)f->self_samples;
        b->acc[idx].pct += f->percentage;
        b->acc[idx].samples += (double)f->samples;
        b->acc[idx].pct_sq += f->percentage * f->percentage;
        b->acc[idx].samples_sq += (double)f->samples * (double)f->samples;
        a->occurrences++;
    }
    return out->has_stacks ? add_stacks(b, p) : 0;
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
        if (a->has_self) {
            f->avg_self_pct = c->self_pct / f->occurrences;
            f->self_mean_pct = c->self_pct / runs;
            f->self_mean_samples = c->self_samples / runs;
            f->self_sd_pct = spread(c->self_pct, c->self_pct_sq, runs);
            f->self_sd_samples = spread(c->self_samples, c->self_samples_sq, runs);
        } else {
            f->avg_self_pct = f->self_mean_pct = f->self_sd_pct = NAN;
            f->self_mean_samples = f->self_sd_samples = NAN;
        }
    }
    /* signals per run, on the runs that recorded them; only when all did */
    a->avg_signals = b->signal_runs && b->signal_runs == a->runs ? b->signals / runs : NAN;
    a->avg_total_samples = a->runs ? b->total / runs : 0;
    a->sd_total_samples = spread(b->total, b->total_sq, runs);
    a->has_spread = true;
    a->wall_ms = metric_of(b->metrics[RUN_WALL_MS], b->nmetrics[RUN_WALL_MS]);
    a->cpu_ms = metric_of(b->metrics[RUN_CPU_MS], b->nmetrics[RUN_CPU_MS]);
    a->peak_rss_kb = metric_of(b->metrics[RUN_PEAK_RSS_KB], b->nmetrics[RUN_PEAK_RSS_KB]);
    a->alloc_kb = metric_of(b->metrics[RUN_ALLOC_KB], b->nmetrics[RUN_ALLOC_KB]);
    a->peak_live_kb = metric_of(b->metrics[RUN_PEAK_LIVE_KB], b->nmetrics[RUN_PEAK_LIVE_KB]);
    avg_profile_sort(a);
    /* the stacks' frames follow the functions to their ranked places (order is the index
     * a function had before sorting) */
    if (a->nstacks) {
        uint32_t *to = malloc(a->nfunctions * sizeof *to);
        if (!to) {
            avg_builder_abort(b);
            return -1;
        }
        for (size_t i = 0; i < a->nfunctions; i++) {
            assert(a->functions[i].order < a->nfunctions); /* a permutation of 0..n-1 */
            to[a->functions[i].order] = (uint32_t)i;
        }
        for (size_t s = 0; s < a->nstacks; s++)
            for (uint32_t d = 0; d < a->stacks[s].depth; d++)
                a->stacks[s].frames[d] = to[a->stacks[s].frames[d]];
        free(to);
    }
    if (!a->has_stacks) {
        for (size_t s = 0; s < a->nstacks; s++)
            free(a->stacks[s].frames);
        free(a->stacks);
        a->stacks = NULL;
        a->nstacks = 0;
    }
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

int avg_profile_adopt_stacks(struct avg_profile *a, const struct pr_profile *s)
{
    if (!s->has_stacks || !s->nstacks)
        return 0;
    struct hmap names;
    hmap_init(&names);
    uint32_t *map = malloc((s->nfunctions ? s->nfunctions : 1) * sizeof *map);
    struct pr_stack *stacks = calloc(s->nstacks, sizeof *stacks);
    int rc = map && stacks ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < a->nfunctions; i++) {
        uint32_t v;
        const char *n = a->functions[i].name;
        if (hmap_intern(&names, n, strlen(n), (uint32_t)i, &v) < 0)
            rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < s->nfunctions; i++) {
        const char *n = s->functions[i].name;
        if (!hmap_get(&names, n, strlen(n), &map[i]))
            map[i] = UINT32_MAX; /* cut from the list, or "[other stacks]" */
    }
    size_t n = 0;
    for (; rc == 0 && n < s->nstacks; n++) {
        const struct pr_stack *st = &s->stacks[n];
        if (!(stacks[n].frames = malloc((st->depth ? st->depth : 1) * sizeof(uint32_t)))) {
            rc = -1;
            break;
        }
        stacks[n].depth = st->depth;
        stacks[n].count = st->count;
        for (uint32_t d = 0; d < st->depth; d++)
            stacks[n].frames[d] = st->frames[d] < s->nfunctions ? map[st->frames[d]] : UINT32_MAX;
    }
    if (rc == 0) {
        for (size_t i = 0; i < a->nstacks; i++)
            free(a->stacks[i].frames);
        free(a->stacks);
        a->stacks = stacks;
        a->nstacks = s->nstacks;
        a->has_stacks = true;
    } else if (stacks) {
        for (size_t i = 0; i < n; i++)
            free(stacks[i].frames);
        free(stacks);
    }
    free(map);
    hmap_free(&names);
    return rc;
}
