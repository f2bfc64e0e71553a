/* SPDX-License-Identifier: MIT */
/* judge.c — matching current against baseline, and the verdict rules (averaging runs is
 * average.c).
 *
 * Pure: no I/O, no clock, no environment. The verdict for one function is decided in
 * exactly one place (function_verdict). Invariant: the names in a judgement point into the
 * averaged profiles it was computed from. */
#include "analysis/judge/judge.h"
#include "core/memory.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "analysis/judge/filter.h"
#include "core/hashmap.h"
#include "analysis/judge/stats.h"

void judge_options_default(struct judge_options *o)
{
    memset(o, 0, sizeof *o);
    o->threshold_percent = 50.0;
    o->top = 10;
    o->compat = false;
    o->metric = METRIC_BOTH;
    o->min_delta = 0.5;
    o->confidence = 99.0;
    o->time_threshold = 10.0;
    o->memory_threshold = 10.0;
    o->max_time_ms = NAN;
    o->max_memory_mb = NAN;
    o->filter = NULL;
}

const char *verdict_name(enum verdict v)
{
    return v == VERDICT_REGRESSION     ? "REGRESSION"
           : v == VERDICT_INCONCLUSIVE ? "INCONCLUSIVE"
                                       : "PASS";
}

const char *judge_metric_name(enum judge_metric m)
{
    return m == METRIC_SELF ? "self" : m == METRIC_BOTH ? "both" : "total";
}

const char *cause_role_name(enum cause_role r)
{
    switch (r) {
    case ROLE_MOST_LIKELY_CAUSE:
        return "most_likely_cause";
    case ROLE_CAUSE:
        return "cause";
    case ROLE_INHERITS:
        return "inherits";
    default:
        return "none";
    }
}

const char *sig_test_name(enum sig_test t)
{
    switch (t) {
    case TEST_WELCH:
        return "welch";
    case TEST_BINOMIAL:
        return "binomial";
    case TEST_POOLED_T:
        return "pooled-t";
    case TEST_PAIRED_T:
        return "paired-t";
    default:
        return "none";
    }
}

const char *judge_note_text(unsigned note)
{
    switch (note) {
    case NOTE_NO_SPREAD:
        return "the baseline carries no run-to-run spread (written by parse-profile.py): "
               "significance against run-to-run noise could not be assessed, only sampling "
               "noise (binomial test on pooled counts); refresh it with 'profreg baseline set'";
    case NOTE_NO_COUNTS:
        return "the baseline has no sample counts: significance could not be assessed; "
               "judged on --threshold and --min-delta alone";
    case NOTE_FEW_RUNS:
        return "a side has fewer than 3 runs: significance from the baseline's run-to-run "
               "spread where it has one (t-test), else from sampling noise only (binomial "
               "test on pooled counts); 3 or more runs a side measure the spread of both";
    case NOTE_METRIC_UNTESTED:
        return "a whole-run metric has no spread on either side (fewer than 2 runs): "
               "judged on its threshold alone";
    case NOTE_METRIC_MISSING:
        return "a whole-run metric was not recorded on one side (profiles or baselines of "
               "the Instruments workflow): not judged against the baseline";
    case NOTE_ONE_RUN:
        return "a side has a single run: run-to-run noise is unknown, so only sampling noise "
               "is accounted for; use 5 runs a side (profreg-ci -n 5)";
    case NOTE_FEW_SAMPLES:
        return "a side has fewer than 100 samples a run: shares are too coarse to judge "
               "small functions; run the workload longer or raise PROFREG_FREQUENCY";
    case NOTE_INCONCLUSIVE:
        return "INCONCLUSIVE: these runs could not have shown a regression of the size looked "
               "for at that share (see 'detectable'), or the growth may be noise; more runs "
               "(-n 10) or longer runs decide it";
    case NOTE_NO_STACKS:
        return "a side has no stacks (old profiles or baseline): causes are told from self "
               "growth alone; refresh the baseline to keep its stacks";
    default:
        return "";
    }
}

bool judgement_failed(const struct judgement *j)
{
    return j->regressed + j->metrics_regressed + j->new_regressed > 0;
}

/* ---- judging ---------------------------------------------------------------------------- */

/* One side's view of one function for one share. */
struct fn_view {
    double value;   /* the share judged: compat the mean where present, else over all runs */
    double sd;      /* over all runs; NAN when unknown */
    double samples; /* mean samples per run over all runs (compat: where present) */
    double pooled;  /* samples summed over the runs; NAN when unknown */
};

static struct fn_view view_of(const struct avg_function *f, const struct avg_profile *a,
                              enum judge_metric m, bool compat)
{
    struct fn_view v;
    bool self = m == METRIC_SELF;
    if (compat) {
        v.value = self ? f->avg_self_pct : f->avg_percentage;
        v.samples = self ? f->self_mean_samples * a->runs / (f->occurrences ? f->occurrences : 1)
                         : f->avg_samples;
    } else {
        v.value = self ? f->self_mean_pct : f->mean_pct;
        v.samples = self ? f->self_mean_samples : f->mean_samples;
    }
    v.sd = self ? f->self_sd_pct : f->sd_pct;
    if (!a->has_spread)
        v.sd = NAN;
    double mean_samples = self ? f->self_mean_samples : f->mean_samples;
    v.pooled = mean_samples * a->runs;
    return v;
}

struct ranked {
    uint32_t idx;
    double key;
    size_t order;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* One side's functions that pass the filter, ranked by one share. */
struct ranking {
    struct ranked *ranked;
    size_t nranked;
    size_t *rank;    /* per function index, 1-based; 0 = filtered out */
    uint32_t *tops;  /* the functions given a top-N slot, best first */
    uint8_t *intop;  /* per function index: among tops */
    size_t top;      /* how many */
    double smallest; /* smallest share listed (after the filter); 0 when none */
};

/* One side prepared for judging. */
struct side {
    const struct avg_profile *a;
    struct hmap names;    /* every function, by name */
    struct ranking by[2]; /* [METRIC_TOTAL], [METRIC_SELF] */
    uint8_t *structural;  /* per function: in nearly every sample, or too large to grow */
    uint8_t *passthrough; /* per function: its samples go on into one callee (both sides) */
    bool is_baseline;     /* its relative source paths are relative to the project root */
};

static void ranking_free(struct ranking *r)
{
    free(r->ranked);
    free(r->rank);
    free(r->tops);
    free(r->intop);
}

static void side_free(struct side *s)
{
    hmap_free(&s->names);
    ranking_free(&s->by[0]);
    ranking_free(&s->by[1]);
    free(s->structural);
    free(s->passthrough);
}

static long side_find(const struct side *s, const char *name)
{
    uint32_t i;
    return hmap_get(&s->names, name, strlen(name), &i) ? (long)i : -1;
}

/* Whether a function passes the filter; its source path may be known only to the other
 * side (a baseline of the Instruments workflow stores none). */
static bool passes(const struct judge_options *o, const struct avg_function *f,
                   const struct side *self, const struct side *other)
{
    if (filter_is_empty(o->filter))
        return true;
    const char *path = f->source_path;
    bool project_relative = self->is_baseline;
    if (!path && other) {
        long k = side_find(other, f->name);
        if (k >= 0) {
            path = other->a->functions[k].source_path;
            project_relative = other->is_baseline;
        }
    }
    return filter_match(o->filter, f->name, path, project_relative);
}

static int side_init(struct side *s, const struct avg_profile *a)
{
    memset(s, 0, sizeof *s);
    s->a = a;
    hmap_init(&s->names);
    size_t n = a->nfunctions ? a->nfunctions : 1;
    for (int m = 0; m < 2; m++) {
        struct ranking *r = &s->by[m];
        r->ranked = calloc(n, sizeof *r->ranked);
        r->rank = calloc(n, sizeof *r->rank);
        r->tops = calloc(n, sizeof *r->tops);
        r->intop = calloc(n, 1);
        if (!r->ranked || !r->rank || !r->tops || !r->intop)
            return -1;
    }
    if (!(s->structural = calloc(n, 1)) || !(s->passthrough = calloc(n, 1)))
        return -1;
    for (size_t i = 0; i < a->nfunctions; i++) {
        uint32_t v;
        const char *name = a->functions[i].name;
        if (hmap_intern(&s->names, name, strlen(name), (uint32_t)i, &v) < 0)
            return -1;
    }
    return 0;
}

/* A function's inclusive share: the mean over all runs (an old baseline's: where present). */
static double share_of(const struct avg_function *f)
{
    return isnan(f->mean_pct) ? f->avg_percentage : f->mean_pct;
}

/* The share at or above which a function cannot grow by the threshold (it would pass 100 %). */
static double cannot_grow_share(const struct judge_options *o)
{
    return 100.0 / (1.0 + o->threshold_percent / 100.0);
}

/* Marks, on both sides, the functions in nearly every sample on both sides, or too large
 * on both to grow by the threshold: entry points, runners, main. */
static void mark_structural(struct side *cs, struct side *bs, const struct judge_options *o)
{
    double limit = cannot_grow_share(o);
    if (limit > JUDGE_STRUCTURAL_SHARE)
        limit = JUDGE_STRUCTURAL_SHARE;
    for (size_t ci = 0; ci < cs->a->nfunctions; ci++) {
        long bi = side_find(bs, cs->a->functions[ci].name);
        if (bi >= 0 && share_of(&cs->a->functions[ci]) >= limit &&
            share_of(&bs->a->functions[bi]) >= limit)
            cs->structural[ci] = bs->structural[bi] = 1;
    }
}

/* Per function of one side: the largest share of its stacks that go on into one and the
 * same callee (another function), 0..1; NULL when the side has no stacks. */
static double *through_shares(const struct avg_profile *a)
{
    if (!a->has_stacks || !a->nstacks || !a->nfunctions)
        return NULL;
    size_t n = a->nfunctions;
    double *w = calloc(n, sizeof *w), *best = calloc(n, sizeof *best);
    size_t *stamp = malloc(n * sizeof *stamp);
    struct hmap pairs;
    hmap_init(&pairs);
    double *pw = NULL;
    size_t npw = 0, cap = 0;
    int rc = w && best && stamp ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        stamp[i] = SIZE_MAX;
    for (size_t st = 0; rc == 0 && st < a->nstacks; st++) {
        const struct pr_stack *p = &a->stacks[st];
        double c = (double)p->count;
        for (uint32_t d = 0; rc == 0 && d < p->depth; d++) {
            uint32_t f = p->frames[d];
            if (f >= n || stamp[f] == st)
                continue; /* counted once per stack, at its outermost place */
            stamp[f] = st;
            w[f] += c;
            uint32_t g = d + 1 < p->depth ? p->frames[d + 1] : UINT32_MAX;
            if (g >= n || g == f)
                continue;
            uint64_t key = (uint64_t)f << 32 | g;
            uint32_t idx;
            int r = hmap_intern(&pairs, &key, sizeof key, (uint32_t)npw, &idx);
            if (r < 0 || (r == 1 && ARRAY_GROW(pw, npw, cap) < 0)) {
                rc = -1;
                break;
            }
            if (r == 1)
                pw[npw++] = 0;
            pw[idx] += c;
            if (pw[idx] > best[f])
                best[f] = pw[idx];
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        best[i] = w[i] > 0 ? best[i] / w[i] : 0;
    free(w);
    free(stamp);
    free(pw);
    hmap_free(&pairs);
    if (rc != 0) {
        free(best);
        return NULL;
    }
    return best;
}

/* A frame large on one side (it could not grow by the threshold) that the other side lacks or
 * nearly lacks, and that is in nearly every sample or passes them all on to one callee: a
 * runner frame the other build inlined into its caller (yaml-cpp's testing::TestSuite::Run()
 * at 94.7 % after a rebuild, 0.04 % before). No new hotspot, not disappeared: no slot. */
static void mark_one_sided(struct side *s, const struct side *other, const double *through,
                           double limit)
{
    for (size_t i = 0; i < s->a->nfunctions; i++) {
        const struct avg_function *f = &s->a->functions[i];
        long k = side_find(other, f->name);
        double here = share_of(f), there = k >= 0 ? share_of(&other->a->functions[k]) : 0;
        if (here >= limit && there < 1 &&
            (here >= JUDGE_STRUCTURAL_SHARE || (through && through[i] >= JUDGE_PASS_THROUGH)))
            s->structural[i] = 1;
    }
}

/* Marks, on both sides, the pass-through frames: functions almost all of whose samples go on
 * into one and the same callee on both sides (thread entry points, wrappers, dispatchers).
 * They cannot grow unless that callee does, which is judged in their place. Then the frames
 * of mark_one_sided. */
static void mark_pass_through(struct side *cs, struct side *bs, const struct judge_options *o)
{
    double *ct = through_shares(cs->a), *bt = through_shares(bs->a);
    for (size_t ci = 0; ct && bt && ci < cs->a->nfunctions; ci++) {
        long bi = side_find(bs, cs->a->functions[ci].name);
        if (bi >= 0 && ct[ci] >= JUDGE_PASS_THROUGH && bt[bi] >= JUDGE_PASS_THROUGH)
            cs->passthrough[ci] = bs->passthrough[bi] = 1;
    }
    double limit = cannot_grow_share(o);
    if (limit > JUDGE_STRUCTURAL_SHARE)
        limit = JUDGE_STRUCTURAL_SHARE;
    mark_one_sided(cs, bs, ct, limit);
    mark_one_sided(bs, cs, bt, limit);
    free(ct);
    free(bt);
}

/* Ranks s's functions that pass the filter by share m; structural ones get no top slot. */
static void side_rank(struct side *s, const struct side *other, enum judge_metric m,
                      const struct judge_options *o)
{
    const struct avg_profile *a = s->a;
    struct ranking *r = &s->by[m == METRIC_SELF];
    for (size_t i = 0; i < a->nfunctions; i++) {
        if (!passes(o, &a->functions[i], s, other))
            continue;
        double v = view_of(&a->functions[i], a, m, o->compat).value;
        r->ranked[r->nranked++] =
            (struct ranked){(uint32_t)i, isnan(v) ? -1 : v, a->functions[i].order};
    }
    if (r->nranked > 1)
        array_sort(r->ranked, r->nranked, sizeof *r->ranked, cmp_ranked);
    for (size_t k = 0; k < r->nranked; k++) {
        uint32_t i = r->ranked[k].idx;
        r->rank[i] = k + 1;
        /* a pass-through frame's total share is its callee's: no total-share slot */
        bool through = m == METRIC_TOTAL && s->passthrough[i];
        if (r->top < o->top && !s->structural[i] && !through) {
            r->tops[r->top++] = i;
            r->intop[i] = 1;
        }
    }
    r->smallest = r->nranked ? r->ranked[r->nranked - 1].key : 0;
    if (r->smallest < 0)
        r->smallest = 0;
}

static bool in_top(const struct ranking *r, long i)
{
    return i >= 0 && r->intop[i];
}

static double diff_percent(double current, double baseline)
{
    return baseline > 0 ? (current - baseline) / baseline * 100.0 : NAN;
}

/* The noise-aware test of "current's share is larger than the baseline's": the p-value, and
 * the standard error of the difference (points) with its degrees of freedom (INFINITY for a
 * normal approximation), from which the detectable growth follows at any level. */
static enum sig_test share_test(const struct fn_view *c, const struct avg_profile *ca,
                                const struct fn_view *b, const struct avg_profile *ba,
                                struct share_verdict *v, unsigned *notes)
{
    v->p_value = v->se = v->df = NAN;
    if (ca->runs >= 3 && ba->runs >= 3 && !isnan(c->sd) && !isnan(b->sd)) {
        double df = 0;
        v->p_value = stats_welch_greater(c->value, c->sd, ca->runs, b->value, b->sd, ba->runs, &df);
        v->se = sqrt(c->sd * c->sd / ca->runs + b->sd * b->sd / ba->runs);
        v->df = df > 0 ? df : ca->runs + ba->runs - 2.0;
        return TEST_WELCH;
    }
    if (ca->runs < 3 && ba->runs >= 3 && !isnan(b->sd) && b->sd > 0) {
        /* a run or two against a baseline with spread: the baseline's run-to-run spread
         * (sampling noise included) is the noise of each current run too */
        v->se = b->sd * sqrt(1.0 / ca->runs + 1.0 / ba->runs);
        v->df = ba->runs - 1.0;
        v->p_value = stats_t_sf((c->value - b->value) / v->se, v->df);
        *notes |= NOTE_FEW_RUNS;
        return TEST_POOLED_T;
    }
    double n1 = ca->avg_total_samples * ca->runs, n0 = ba->avg_total_samples * ba->runs;
    if (isnan(c->pooled) || isnan(b->pooled) || !(n1 > 0) || !(n0 > 0)) {
        *notes |= NOTE_NO_COUNTS;
        return TEST_NONE;
    }
    *notes |= ba->has_spread ? NOTE_FEW_RUNS : NOTE_NO_SPREAD;
    /* A sample weighs 1 + the timer's overruns: count independent signals, not weight. */
    double w1 = isnan(ca->avg_signals) ? 1 : ca->avg_signals / ca->avg_total_samples;
    double w0 = isnan(ba->avg_signals) ? 1 : ba->avg_signals / ba->avg_total_samples;
    v->p_value = stats_rate_greater(round(c->pooled * w1), round(n1 * w1), round(b->pooled * w0),
                                    round(n0 * w0));
    /* normal approximation at the baseline's share (at least one signal's worth) */
    double s1 = n1 * w1, s0 = n0 * w0;
    double q = b->value / 100;
    if (q * s0 < 1)
        q = 1 / s0;
    v->se = sqrt(q * (1 - q) * (1 / s1 + 1 / s0)) * 100;
    v->df = INFINITY;
    return TEST_BINOMIAL;
}

/* The one place a share's verdict is decided, at significance level alpha (the detectable
 * growth at level alpha_mde). */
static void share_verdict_decide(struct share_verdict *v, const struct judge_options *o,
                                 double alpha, double alpha_mde)
{
    if (o->compat) {
        /* The old rule: a relative increase strictly above the threshold; a zero baseline
         * (diff undefined) is never a regression. */
        v->grew_enough = !isnan(v->diff_percent) && v->diff_percent > o->threshold_percent;
        v->moved_enough = v->significant = true;
        v->status = v->grew_enough ? VERDICT_REGRESSION : VERDICT_PASS;
        return;
    }
    v->alpha = alpha;
    /* relative growth above the threshold (from zero: any growth), an absolute move of at
     * least min_delta points, and significance (when it can be assessed) */
    v->grew_enough =
        isnan(v->diff_percent) ? v->current > 0 : v->diff_percent > o->threshold_percent;
    v->moved_enough = v->delta_points >= o->min_delta - 1e-9;
    v->significant = v->test == TEST_NONE || v->p_value < alpha;
    v->needed_points = fmax(o->min_delta, o->threshold_percent / 100 * v->baseline);
    v->mde_points = NAN;
    if (v->test != TEST_NONE && !isnan(v->se))
        v->mde_points = stats_t_quantile(alpha_mde, isinf(v->df) ? 1e6 : v->df) * v->se;
    if (v->grew_enough && v->moved_enough && v->significant)
        v->status = VERDICT_REGRESSION;
    else if (v->test != TEST_NONE &&
             ((v->grew_enough && v->moved_enough) || v->mde_points > v->needed_points))
        v->status = VERDICT_INCONCLUSIVE; /* it grew but could be noise, or a regression of
                                             the size looked for could not have shown */
    else
        v->status = VERDICT_PASS;
}

/* Judges share m of one function (c or b may be NULL: absent; an absent baseline function
 * has `absent_share`). */
static void share_judge(struct share_verdict *v, enum judge_metric m, const struct side *cs,
                        const struct avg_function *c, const struct side *bs,
                        const struct avg_function *b, double absent_share,
                        const struct judge_options *o, unsigned *notes)
{
    const struct avg_profile *ca = cs->a, *ba = bs->a;
    struct fn_view cv = {0, 0, 0, 0}, bv = {absent_share, 0, 0, NAN};
    if (c)
        cv = view_of(c, ca, m, o->compat);
    if (b) {
        bv = view_of(b, ba, m, o->compat);
    } else {
        bv.samples = absent_share * ba->avg_total_samples / 100;
        bv.pooled = bv.samples * ba->runs;
        bv.sd = ba->has_spread ? 0 : NAN;
    }
    memset(v, 0, sizeof *v);
    v->judged = true;
    v->current = cv.value;
    v->baseline = bv.value;
    v->diff_percent = diff_percent(cv.value, bv.value);
    v->delta_points = cv.value - bv.value;
    v->p_value = v->mde_points = v->se = v->df = NAN;
    v->test = TEST_NONE;
    if (!o->compat)
        v->test = share_test(&cv, ca, &bv, ba, v, notes);
    double alpha = 1 - o->confidence / 100;
    share_verdict_decide(v, o, alpha, alpha);
}

static enum verdict worse(enum verdict a, enum verdict b)
{
    if (a == VERDICT_REGRESSION || b == VERDICT_REGRESSION)
        return VERDICT_REGRESSION;
    return a == VERDICT_INCONCLUSIVE || b == VERDICT_INCONCLUSIVE ? VERDICT_INCONCLUSIVE
                                                                  : VERDICT_PASS;
}

/* One function to judge: where it is on each side (-1: absent; an absent baseline function
 * has `absent` share), and the share that gave it its slot. */
struct candidate {
    long ci, bi;
    double absent;
    enum judge_metric slot;
    double scale; /* how many it was picked from, for the data of this comparison: 1 for the
                     baseline's top N (picked before these runs), N for the current runs'
                     top N, the functions screened for the growers (Bonferroni) */
};

/* Judges both shares of candidate k into f (at the unadjusted level; holm_adjust may hold
 * them to a stricter one) and fills the fields that do not depend on the verdicts. */
static void judge_shares(struct judged_function *f, const struct candidate *k,
                         const struct side *cs, const struct side *bs,
                         const struct judge_options *o, unsigned *notes)
{
    const struct avg_profile *ca = cs->a, *ba = bs->a;
    const struct avg_function *c = k->ci >= 0 ? &ca->functions[k->ci] : NULL;
    const struct avg_function *b = k->bi >= 0 ? &ba->functions[k->bi] : NULL;
    bool compat = o->compat;
    memset(f, 0, sizeof *f);
    f->name = c ? c->name : b ? b->name : ""; /* one of them is always given */
    f->slot = k->slot;
    f->picked_from = k->scale;
    bool both = o->metric == METRIC_BOTH;
    bool self_known = ca->has_self && ba->has_self;
    if (both || o->metric == METRIC_TOTAL)
        share_judge(&f->total, METRIC_TOTAL, cs, c, bs, b, k->absent, o, notes);
    if ((both && self_known) || o->metric == METRIC_SELF)
        share_judge(&f->self, METRIC_SELF, cs, c, bs, b, k->absent, o, notes);
    for (int m = 0; m < 2; m++) {
        struct fn_view cv =
            c ? view_of(c, ca, (enum judge_metric)m, compat) : (struct fn_view){0, 0, 0, 0};
        struct fn_view bv = b ? view_of(b, ba, (enum judge_metric)m, compat)
                              : (struct fn_view){0, 0, k->absent * ba->avg_total_samples / 100, 0};
        f->samples_of[m][0] = cv.samples;
        f->samples_of[m][1] = bv.samples;
    }
    f->current_total = c ? (compat ? c->avg_percentage : c->mean_pct) : 0;
    f->current_self = c ? (compat ? c->avg_self_pct : c->self_mean_pct) : (ca->has_self ? 0 : NAN);
    f->baseline_total = b ? (compat ? b->avg_percentage : b->mean_pct) : NAN;
    f->baseline_self = b ? (compat ? b->avg_self_pct : b->self_mean_pct) : NAN;
    if (!b && f->total.judged)
        f->baseline_total = k->absent;
    if (!b && f->self.judged)
        f->baseline_self = k->absent;
    int primary = o->metric == METRIC_SELF;
    f->current_rank = c ? cs->by[primary].rank[k->ci] : 0;
    f->baseline_rank = b ? bs->by[primary].rank[k->bi] : 0;
    f->role = ROLE_NONE;
    f->own_delta_points = NAN;
}

/* The one place a function's verdict follows from its shares' verdicts. */
static void function_verdict(struct judged_function *f, const struct judge_options *o)
{
    /* the deciding share: the one that regressed (total first), else the ranking one */
    const struct share_verdict *d;
    if (o->metric == METRIC_SELF || (f->self.judged && f->self.status == VERDICT_REGRESSION &&
                                     f->total.status != VERDICT_REGRESSION)) {
        d = &f->self;
        f->decided_by = METRIC_SELF;
    } else {
        d = &f->total;
        f->decided_by = METRIC_TOTAL;
    }
    f->current_percentage = d->current;
    f->baseline_percentage = d->baseline;
    f->diff_percent = d->diff_percent;
    f->delta_points = d->delta_points;
    f->p_value = d->p_value;
    f->test = d->test;
    f->grew_enough = d->grew_enough;
    f->moved_enough = d->moved_enough;
    f->significant = d->significant;
    f->current_samples = f->samples_of[f->decided_by == METRIC_SELF][0];
    f->baseline_samples = f->samples_of[f->decided_by == METRIC_SELF][1];
    /* REGRESSION when either share regressed; else the verdict of the share that gave the
     * function its slot (the other one was not what it was picked for, and is often too
     * small to measure: a 10 % thread entry's 0.9 % self share) */
    const struct share_verdict *by_slot = f->slot == METRIC_SELF && f->self.judged ? &f->self
                                          : f->total.judged                        ? &f->total
                                                                                   : &f->self;
    f->status = worse(f->total.judged ? f->total.status : VERDICT_PASS,
                      f->self.judged ? f->self.status : VERDICT_PASS) == VERDICT_REGRESSION
                    ? VERDICT_REGRESSION
                    : by_slot->status;
    /* the smallest relative growth this comparison could have called a regression */
    f->detectable_percent = NAN;
    if (!o->compat && d->baseline > 0) {
        double pts = d->needed_points;
        if (!isnan(d->mde_points) && d->mde_points > pts)
            pts = d->mde_points;
        f->detectable_percent = pts / d->baseline * 100;
    }
}

/* Judges candidate k into f at the unadjusted level. */
static void judge_one(struct judged_function *f, const struct candidate *k, const struct side *cs,
                      const struct side *bs, const struct judge_options *o, unsigned *notes)
{
    judge_shares(f, k, cs, bs, o, notes);
    function_verdict(f, o);
}

/* One share test of the family, for Holm's step-down. */
struct family_member {
    double p;     /* its smallest gated p-value times the number it was picked from */
    double scale; /* that number */
};

/* Holds the shares that grew past the threshold and the min-delta — the only ones that can be
 * called a regression — to one family-wise level (Holm's step-down at 1 - confidence, each
 * p-value first multiplied by the number its function was picked from): when a
 * few functions of an unchanged program pass both gates by chance, one p-value below 1 %
 * among them would otherwise fail the build. Shares that did not pass the gates cannot
 * regress whatever their p-value, so they are no part of the family (and the detectable
 * growth is given at the single test's level). Then re-decides every verdict. */
static int holm_adjust(struct judged_function *fs, size_t n, const struct judge_options *o)
{
    /* one hypothesis per function ("it regressed"), tested by its gated shares' smallest
     * p-value: a leaf's total and self shares are one measurement, not two */
    struct family_member *m = calloc(n + 1, sizeof *m);
    size_t *of = calloc(n + 1, sizeof *of);
    if (!m || !of) {
        free(m);
        free(of);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct share_verdict *v[2] = {&fs[i].total, &fs[i].self};
        double best = INFINITY;
        for (int s = 0; s < 2; s++)
            if (v[s]->judged && v[s]->test != TEST_NONE && !isnan(v[s]->p_value) &&
                v[s]->grew_enough && v[s]->moved_enough && v[s]->p_value < best)
                best = v[s]->p_value;
        if (isinf(best))
            continue;
        of[k] = i;
        m[k++] = (struct family_member){fmin(1, best * fs[i].picked_from), fs[i].picked_from};
    }
    double alpha = 1 - o->confidence / 100;
    /* sort the members with their function indices */
    for (size_t x = 1; x < k; x++)
        for (size_t y = x; y > 0 && m[y].p < m[y - 1].p; y--) {
            struct family_member t = m[y];
            m[y] = m[y - 1];
            m[y - 1] = t;
            size_t u = of[y];
            of[y] = of[y - 1];
            of[y - 1] = u;
        }
    bool alive = true;
    for (size_t r = 0; r < k; r++) {
        double level = alpha / (double)(k - r);
        alive = alive && m[r].p < level;
        struct judged_function *f = &fs[of[r]];
        double held = alive ? level / m[r].scale : 0;
        if (f->total.judged)
            share_verdict_decide(&f->total, o, held, alpha);
        if (f->self.judged)
            share_verdict_decide(&f->self, o, held, alpha);
    }
    for (size_t i = 0; i < n; i++)
        function_verdict(&fs[i], o);
    free(m);
    free(of);
    return 0;
}

/* Whole-run metrics ---------------------------------------------------------------------- */

/* p-value of "current's metric is larger", with the spread available. */
static enum sig_test metric_test(const struct run_metric *c, const struct run_metric *b, double *p)
{
    *p = NAN;
    if (c->n >= 3 && b->n >= 3 && !isnan(c->sd) && !isnan(b->sd)) {
        *p = stats_welch_greater(c->mean, c->sd, c->n, b->mean, b->sd, b->n, NULL);
        return TEST_WELCH;
    }
    /* the spread of the side(s) with at least 2 runs, pooled */
    double ss = 0, df = 0;
    if (c->n >= 2 && !isnan(c->sd)) {
        ss += c->sd * c->sd * (c->n - 1);
        df += c->n - 1;
    }
    if (b->n >= 2 && !isnan(b->sd)) {
        ss += b->sd * b->sd * (b->n - 1);
        df += b->n - 1;
    }
    if (df == 0)
        return TEST_NONE;
    double se = sqrt(ss / df * (1.0 / c->n + 1.0 / b->n));
    *p = se > 0 ? stats_t_sf((c->mean - b->mean) / se, df) : (c->mean > b->mean ? 0 : 1);
    return TEST_POOLED_T;
}

static void judge_metric(struct judged_metric *m, const struct run_metric *c,
                         const struct run_metric *b, double threshold, double budget,
                         double budget_scale, const struct judge_options *o, unsigned *notes)
{
    m->current_median = c->n ? c->median : NAN;
    m->baseline_median = b->n ? b->median : NAN;
    m->current_runs = c->n;
    m->baseline_runs = b->n;
    m->diff_percent = diff_percent(m->current_median, m->baseline_median);
    m->threshold_percent = o->compat ? NAN : threshold;
    m->budget = budget;
    m->p_value = NAN;
    m->test = TEST_NONE;
    m->significant = true;
    bool against_baseline = !o->compat && b->n > 0;
    m->judged = c->n > 0 && (against_baseline || !isnan(budget));
    if (c->n == 0) {
        if (!isnan(budget) || (!o->compat && b->n > 0))
            *notes |= NOTE_METRIC_MISSING;
        m->status = VERDICT_PASS;
        return;
    }
    m->over_budget = !isnan(budget) && m->current_median * budget_scale > budget;
    if (!o->compat && b->n == 0)
        *notes |= NOTE_METRIC_MISSING;
    if (against_baseline) {
        m->over_threshold = !isnan(m->diff_percent) && m->diff_percent > threshold;
        m->test = metric_test(c, b, &m->p_value);
        if (m->test == TEST_NONE)
            *notes |= NOTE_METRIC_UNTESTED;
        else
            m->significant = m->p_value < 1 - o->confidence / 100;
    }
    m->status =
        (m->over_threshold && m->significant) || m->over_budget ? VERDICT_REGRESSION : VERDICT_PASS;
}

static void judge_metrics(const struct avg_profile *c, const struct avg_profile *b,
                          const struct judge_options *o, struct judgement *j)
{
    static const struct {
        const char *key, *label, *unit;
    } names[RUN_METRICS] = {[RUN_WALL_MS] = {"wall_time_ms", "wall time", "ms"},
                            [RUN_CPU_MS] = {"cpu_time_ms", "CPU time", "ms"},
                            [RUN_PEAK_RSS_KB] = {"peak_rss_kb", "peak memory", "MB"},
                            [RUN_ALLOC_KB] = {"alloc_kb", "allocated", "MB"},
                            [RUN_PEAK_LIVE_KB] = {"peak_live_kb", "peak live heap", "MB"}};
    const struct run_metric *cm[RUN_METRICS] = {[RUN_WALL_MS] = &c->wall_ms,
                                                [RUN_CPU_MS] = &c->cpu_ms,
                                                [RUN_PEAK_RSS_KB] = &c->peak_rss_kb,
                                                [RUN_ALLOC_KB] = &c->alloc_kb,
                                                [RUN_PEAK_LIVE_KB] = &c->peak_live_kb};
    const struct run_metric *bm[RUN_METRICS] = {[RUN_WALL_MS] = &b->wall_ms,
                                                [RUN_CPU_MS] = &b->cpu_ms,
                                                [RUN_PEAK_RSS_KB] = &b->peak_rss_kb,
                                                [RUN_ALLOC_KB] = &b->alloc_kb,
                                                [RUN_PEAK_LIVE_KB] = &b->peak_live_kb};
    double thresholds[RUN_METRICS] = {[RUN_WALL_MS] = o->time_threshold,
                                      [RUN_CPU_MS] = o->time_threshold,
                                      [RUN_PEAK_RSS_KB] = o->memory_threshold,
                                      [RUN_ALLOC_KB] = o->memory_threshold,
                                      [RUN_PEAK_LIVE_KB] = o->memory_threshold};
    double budgets[RUN_METRICS] = {[RUN_WALL_MS] = o->max_time_ms,
                                   [RUN_CPU_MS] = NAN,
                                   [RUN_PEAK_RSS_KB] = o->max_memory_mb,
                                   [RUN_ALLOC_KB] = NAN,
                                   [RUN_PEAK_LIVE_KB] = NAN};
    double scale[RUN_METRICS] = {[RUN_WALL_MS] = 1,
                                 [RUN_CPU_MS] = 1,
                                 [RUN_PEAK_RSS_KB] = 1.0 / 1024,
                                 [RUN_ALLOC_KB] = 1.0 / 1024,
                                 [RUN_PEAK_LIVE_KB] = 1.0 / 1024};
    /* the memory layer's figures, when either side has them (else the report is as before) */
    j->nmetrics = c->alloc_kb.n || b->alloc_kb.n ? RUN_METRICS : RUN_METRICS_BASIC;
    for (size_t i = 0; i < j->nmetrics; i++) {
        struct judged_metric *m = &j->metrics[i];
        m->key = names[i].key;
        m->label = names[i].label;
        m->unit = names[i].unit;
        judge_metric(m, cm[i], bm[i], thresholds[i], budgets[i], scale[i], o, &j->notes);
        if (m->status == VERDICT_REGRESSION)
            j->metrics_regressed++;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void judge_paired_metrics(const double (*current)[RUN_METRICS_BASIC],
                          const double (*base)[RUN_METRICS_BASIC], size_t n,
                          const struct judge_options *o, struct judgement *j)
{
    double thresholds[RUN_METRICS_BASIC] = {[RUN_WALL_MS] = o->time_threshold,
                                            [RUN_CPU_MS] = o->time_threshold,
                                            [RUN_PEAK_RSS_KB] = o->memory_threshold};
    double *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return; /* out of memory: the unpaired verdicts stand */
    j->metrics_regressed = 0;
    for (size_t k = 0; k < j->nmetrics && k < RUN_METRICS_BASIC; k++) {
        struct judged_metric *m = &j->metrics[k];
        size_t used = 0;
        for (size_t i = 0; i < n; i++) {
            double c = current[i][k], b = base[i][k];
            if (isfinite(c) && isfinite(b) && c > 0 && b > 0)
                r[used++] = log(c / b);
        }
        m->paired = true;
        m->pairs = (unsigned)used;
        m->ratio_median = m->ratio_gmean = m->ratio_lo = m->ratio_hi = NAN;
        if (used == 0) {
            if (m->status == VERDICT_REGRESSION)
                j->metrics_regressed++;
            continue;
        }
        struct running acc = {0};
        for (size_t i = 0; i < used; i++)
            running_add(&acc, r[i]);
        qsort(r, used, sizeof *r, cmp_double);
        m->ratio_median = exp(used % 2 ? r[used / 2] : (r[used / 2 - 1] + r[used / 2]) / 2);
        m->ratio_gmean = exp(acc.mean);
        m->diff_percent = (m->ratio_median - 1) * 100;
        m->threshold_percent = thresholds[k];
        m->judged = true;
        m->over_threshold = m->diff_percent > thresholds[k];
        m->p_value = NAN;
        m->test = TEST_NONE;
        m->significant = false;
        if (used >= 2) {
            double sd = running_sd(&acc), se = sd / sqrt((double)used), df = (double)used - 1;
            double alpha = 1 - o->confidence / 100;
            m->test = TEST_PAIRED_T;
            m->p_value = se > 0 ? stats_t_sf(acc.mean / se, df) : (acc.mean > 0 ? 0 : 1);
            double q = se > 0 ? stats_t_quantile(alpha / 2, df) : 0;
            m->ratio_lo = exp(acc.mean - q * se);
            m->ratio_hi = exp(acc.mean + q * se);
            m->significant = m->p_value < alpha;
        } else {
            j->notes |= NOTE_METRIC_UNTESTED;
        }
        m->status = (m->over_threshold && m->significant) || m->over_budget ? VERDICT_REGRESSION
                                                                              : VERDICT_PASS;
        if (m->status == VERDICT_REGRESSION)
            j->metrics_regressed++;
    }
    free(r);
}

/* Orders compared functions by current rank, absent ones last by baseline rank. */
static int cmp_compared(const void *a, const void *b)
{
    const struct judged_function *x = a, *y = b;
    size_t rx = x->current_rank ? x->current_rank : SIZE_MAX;
    size_t ry = y->current_rank ? y->current_rank : SIZE_MAX;
    if (rx != ry)
        return rx < ry ? -1 : 1;
    return x->baseline_rank < y->baseline_rank ? -1 : x->baseline_rank > y->baseline_rank;
}

static void judge_compat(const struct side *cs, const struct side *bs,
                         const struct judge_options *o, struct judgement *j)
{
    int m = o->metric == METRIC_SELF;
    const struct ranking *cr = &cs->by[m], *br = &bs->by[m];
    for (size_t r = 0; r < cr->top; r++) {
        uint32_t ci = cr->tops[r];
        const struct avg_function *c = &cs->a->functions[ci];
        long bi = side_find(bs, c->name);
        if (!in_top(br, bi)) {
            j->new_hotspots[j->nnew++] =
                (struct listed_function){c->name, cr->ranked[r].key, NAN, NAN};
            continue;
        }
        struct candidate k = {(long)ci, bi, 0, (enum judge_metric)m, 1};
        judge_one(&j->compared[j->ncompared++], &k, cs, bs, o, &j->notes);
    }
    for (size_t r = 0; r < br->top; r++) {
        uint32_t bi = br->tops[r];
        const struct avg_function *b = &bs->a->functions[bi];
        long ci = side_find(cs, b->name);
        if (!in_top(cr, ci))
            j->disappeared[j->ndisappeared++] =
                (struct listed_function){b->name, br->ranked[r].key, NAN, NAN};
    }
}

/* The shares whose top-N slots choose the functions judged. */
static int ranked_metrics(const struct judge_options *o, const struct side *cs,
                          const struct side *bs, int out[2])
{
    if (o->metric != METRIC_BOTH) {
        out[0] = o->metric == METRIC_SELF;
        return 1;
    }
    out[0] = 0;
    out[1] = 1;
    return cs->a->has_self && bs->a->has_self ? 2 : 1;
}

/* The candidates chosen so far, without repeats. */
struct picks {
    struct candidate *k;
    size_t n;
    uint8_t *cdone, *bdone; /* per function of each side: already a candidate */
};

static void pick(struct picks *p, long ci, long bi, double absent, enum judge_metric slot,
                 double scale)
{
    if (ci >= 0)
        p->cdone[ci] = 1;
    if (bi >= 0)
        p->bdone[bi] = 1;
    p->k[p->n++] = (struct candidate){ci, bi, absent, slot, scale};
}

/* The current runs' largest growers that the baseline has, by points of either share, not
 * picked yet: a small function that tripled can stay below the top N by share (a 1 % leaf at
 * 2.5 % among thirty helpers of 1-3 %). At most N, each grown by at least min-delta; only with
 * 3 or more runs a side (a single run's noise makes growers of everything). */
static int pick_growers(struct picks *p, const struct side *cs, const struct side *bs,
                        const struct judge_options *o)
{
    const struct avg_profile *ca = cs->a, *ba = bs->a;
    if (ca->runs < 3 || ba->runs < 3)
        return 0;
    struct ranked *g = calloc(ca->nfunctions ? ca->nfunctions : 1, sizeof *g);
    uint8_t *by_self = calloc(ca->nfunctions ? ca->nfunctions : 1, 1);
    if (!g || !by_self) {
        free(g);
        free(by_self);
        return -1;
    }
    size_t n = 0, screened = 0;
    bool self = ca->has_self && ba->has_self;
    for (size_t ci = 0; ci < ca->nfunctions; ci++) {
        const struct avg_function *c = &ca->functions[ci];
        if (p->cdone[ci] || cs->structural[ci] || !passes(o, c, cs, bs))
            continue;
        long bi = side_find(bs, c->name);
        if (bi < 0 || p->bdone[bi])
            continue;
        screened++;
        const struct avg_function *b = &ba->functions[bi];
        double dt = cs->passthrough[ci] ? -INFINITY : c->mean_pct - b->mean_pct;
        double ds = self ? c->self_mean_pct - b->self_mean_pct : -INFINITY;
        double key = ds > dt ? ds : dt;
        if (!(key >= o->min_delta - 1e-9))
            continue;
        by_self[ci] = ds > dt;
        g[n++] = (struct ranked){(uint32_t)ci, key, c->order};
    }
    if (n > 1)
        qsort(g, n, sizeof *g, cmp_ranked);
    for (size_t r = 0; r < n && r < o->top; r++) {
        uint32_t ci = g[r].idx;
        pick(p, (long)ci, side_find(bs, ca->functions[ci].name), 0,
             by_self[ci] ? METRIC_SELF : METRIC_TOTAL, (double)screened);
    }
    free(g);
    free(by_self);
    return 0;
}

static int judge_default(const struct side *cs, const struct side *bs,
                         const struct judge_options *o, struct judgement *j, struct picks *p)
{
    int ms[2];
    int nm = ranked_metrics(o, cs, bs, ms);
    /* every baseline top-N function (by each share), wherever it ranks now */
    for (int k = 0; k < nm; k++) {
        const struct ranking *br = &bs->by[ms[k]];
        for (size_t r = 0; r < br->top; r++) {
            uint32_t bi = br->tops[r];
            if (!p->bdone[bi])
                pick(p, side_find(cs, bs->a->functions[bi].name), (long)bi, 0,
                     ms[k] ? METRIC_SELF : METRIC_TOTAL, 1);
        }
    }
    /* current top-N functions not picked yet: judged like the others when the baseline has
     * them (they rose into the top); new hotspots when it has none of them (absent from a
     * baseline that lists every function: 0; from a cut one: at most the smallest share it
     * lists) */
    for (int k = 0; k < nm; k++) {
        const struct ranking *cr = &cs->by[ms[k]];
        for (size_t r = 0; r < cr->top; r++) {
            uint32_t ci = cr->tops[r];
            if (p->cdone[ci])
                continue;
            long bi = side_find(bs, cs->a->functions[ci].name);
            if (bi >= 0 && bs->by[ms[k]].rank[bi] == 0)
                continue; /* filtered out on the baseline's side */
            pick(p, (long)ci, bi,
                 bi >= 0           ? 0
                 : bs->a->complete ? 0
                                   : bs->by[ms[k]].smallest,
                 ms[k] ? METRIC_SELF : METRIC_TOTAL, (double)(o->top ? o->top : 1));
        }
    }
    if (pick_growers(p, cs, bs, o) != 0)
        return -1;
    /* judge them all, as one family of tests */
    struct judged_function *fs = calloc(p->n + 1, sizeof *fs);
    if (!fs)
        return -1;
    for (size_t i = 0; i < p->n; i++)
        judge_shares(&fs[i], &p->k[i], cs, bs, o, &j->notes);
    if (holm_adjust(fs, p->n, o) != 0) {
        free(fs);
        return -1;
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct candidate *k = &p->k[i];
        struct judged_function *f = &fs[i];
        if (k->bi >= 0) {
            j->compared[j->ncompared++] = *f;
            if (k->ci < 0)
                j->disappeared[j->ndisappeared++] =
                    (struct listed_function){f->name, f->baseline_percentage, NAN, NAN};
            continue;
        }
        if (f->status != VERDICT_REGRESSION)
            continue; /* a new function, not above zero by the gates */
        j->new_hotspots[j->nnew++] = (struct listed_function){f->name, f->current_percentage,
                                                              f->baseline_percentage, f->p_value};
        if (o->fail_on_new)
            j->new_regressed++;
    }
    free(fs);
    if (j->ncompared > 1)
        array_sort(j->compared, j->ncompared, sizeof *j->compared, cmp_compared);
    return 0;
}

/* ---- causes: which regressed function the growth is owed to ----------------------------- */

/* Per side: the weight of stacks holding regressed function k that no other regressed
 * function below it explains (own[k]), and the weight each other one explains (expl[k][g]). */
static int owed_weights(const struct side *s, const struct judgement *j, const size_t *reg,
                        size_t nreg, double *own, double *expl, double *total)
{
    const struct avg_profile *a = s->a;
    long *kof = malloc((a->nfunctions ? a->nfunctions : 1) * sizeof *kof);
    long *first = malloc(nreg * sizeof *first), *last = malloc(nreg * sizeof *last);
    if (!kof || !first || !last) {
        free(kof);
        free(first);
        free(last);
        return -1;
    }
    for (size_t i = 0; i < a->nfunctions; i++)
        kof[i] = -1;
    for (size_t k = 0; k < nreg; k++) {
        long i = side_find(s, j->compared[reg[k]].name);
        if (i >= 0)
            kof[i] = (long)k;
    }
    *total = 0;
    for (size_t st = 0; st < a->nstacks; st++) {
        const struct pr_stack *p = &a->stacks[st];
        double w = (double)p->count;
        *total += w;
        for (size_t k = 0; k < nreg; k++)
            first[k] = last[k] = -1;
        bool any = false;
        for (uint32_t d = 0; d < p->depth; d++) {
            long k = p->frames[d] < a->nfunctions ? kof[p->frames[d]] : -1;
            if (k < 0)
                continue;
            if (first[k] < 0)
                first[k] = d;
            last[k] = d;
            any = true;
        }
        if (!any)
            continue;
        for (size_t k = 0; k < nreg; k++) {
            if (first[k] < 0)
                continue;
            bool explained = false;
            for (size_t g = 0; g < nreg; g++)
                if (g != k && last[g] > first[k]) {
                    explained = true;
                    expl[k * nreg + g] += w;
                }
            if (!explained)
                own[k] += w;
        }
    }
    free(kof);
    free(first);
    free(last);
    return 0;
}

/* Gives every regressed function its role; names the most likely cause. */
static int assign_causes(struct judgement *j, const struct side *cs, const struct side *bs,
                         const struct judge_options *o)
{
    size_t nreg = 0;
    size_t *reg = malloc((j->ncompared ? j->ncompared : 1) * sizeof *reg);
    if (!reg)
        return -1;
    for (size_t i = 0; i < j->ncompared; i++)
        if (j->compared[i].status == VERDICT_REGRESSION)
            reg[nreg++] = i;
    if (nreg == 0) {
        free(reg);
        return 0;
    }
    bool stacks = cs->a->has_stacks && bs->a->has_stacks && cs->a->nstacks && bs->a->nstacks;
    double *own_c = calloc(nreg, sizeof *own_c), *own_b = calloc(nreg, sizeof *own_b);
    double *ex_c = calloc(nreg * nreg, sizeof *ex_c), *ex_b = calloc(nreg * nreg, sizeof *ex_b);
    int rc = own_c && own_b && ex_c && ex_b ? 0 : -1;
    double tc = 0, tb = 0;
    if (rc == 0 && stacks)
        rc = owed_weights(cs, j, reg, nreg, own_c, ex_c, &tc) ||
                     owed_weights(bs, j, reg, nreg, own_b, ex_b, &tb)
                 ? -1
                 : 0;
    if (rc == 0 && !stacks)
        j->notes |= NOTE_NO_STACKS;
    long best = -1;
    double best_own = -INFINITY;
    for (size_t k = 0; rc == 0 && k < nreg; k++) {
        struct judged_function *f = &j->compared[reg[k]];
        double own;
        bool cause;
        if (stacks && tc > 0 && tb > 0) {
            own = own_c[k] / tc * 100 - own_b[k] / tb * 100;
            double total_delta = f->total.judged ? f->total.delta_points : f->delta_points;
            /* self growth is its own by definition; otherwise what regressed callees leave */
            cause = f->decided_by == METRIC_SELF ||
                    own >= fmax(o->min_delta, 0.25 * total_delta) - 1e-9;
            f->own_delta_points = own;
            /* the regressed callees that explain most of it, now */
            for (size_t n = 0; n < JUDGE_MAX_INHERITS; n++) {
                double w = 0;
                long g_best = -1;
                for (size_t g = 0; g < nreg; g++) {
                    double e = ex_c[k * nreg + g] / tc - ex_b[k * nreg + g] / tb;
                    bool taken = false;
                    for (size_t q = 0; q < f->ninherits; q++)
                        taken |= f->inherits_from[q] == j->compared[reg[g]].name;
                    if (!taken && e > w) {
                        w = e;
                        g_best = (long)g;
                    }
                }
                if (g_best < 0)
                    break;
                f->inherits_from[f->ninherits++] = j->compared[reg[g_best]].name;
            }
        } else {
            /* no stacks: a function whose own (self) share grew is a cause */
            own = f->self.judged ? f->self.delta_points : f->delta_points;
            cause = !f->self.judged || own >= o->min_delta - 1e-9;
        }
        f->role = cause ? ROLE_CAUSE : ROLE_INHERITS;
        if (cause)
            f->ninherits = 0;
        /* the cause with most growth of its own; if every one inherits (recursion through
         * each other), the one with most growth of its own all the same */
        double key = cause ? own + 1e6 : own;
        if (key > best_own) {
            best_own = key;
            best = (long)k;
        }
    }
    if (rc == 0 && best >= 0) {
        struct judged_function *f = &j->compared[reg[best]];
        f->role = ROLE_MOST_LIKELY_CAUSE;
        f->ninherits = 0;
        j->likely_cause = f->name;
    }
    free(reg);
    free(own_c);
    free(own_b);
    free(ex_c);
    free(ex_b);
    return rc;
}

/* Notes on how much the data can see: one run, few samples. */
static void data_notes(const struct avg_profile *c, const struct avg_profile *b, unsigned *notes)
{
    if (c->runs == 1 || b->runs == 1)
        *notes |= NOTE_ONE_RUN;
    if ((c->runs && c->avg_total_samples < 100) || (b->runs && b->avg_total_samples < 100))
        *notes |= NOTE_FEW_SAMPLES;
}

int judge_compare(const struct avg_profile *current, const struct avg_profile *baseline,
                  const struct judge_options *opts, struct judgement *j)
{
    memset(j, 0, sizeof *j);
    struct judge_options eo = *opts;
    const struct judge_options *o = &eo;
    if (eo.compat && eo.metric == METRIC_BOTH)
        eo.metric = METRIC_TOTAL; /* the Instruments workflow judged the inclusive share */
    struct side cs, bs;
    int rc = -1;
    uint8_t *cdone = NULL, *bdone = NULL;
    struct candidate *picked = NULL;
    int e1 = side_init(&cs, current), e2 = side_init(&bs, baseline);
    if (e1 || e2)
        goto done;
    bs.is_baseline = true;
    if (!o->compat) {
        mark_structural(&cs, &bs, o);
        mark_pass_through(&cs, &bs, o);
    }
    int ms[2];
    int nm = ranked_metrics(o, &cs, &bs, ms);
    for (int k = 0; k < nm; k++) {
        side_rank(&cs, &bs, ms[k] ? METRIC_SELF : METRIC_TOTAL, o);
        side_rank(&bs, &cs, ms[k] ? METRIC_SELF : METRIC_TOTAL, o);
    }
    size_t slots = (2 * (size_t)nm + 1) * (o->top + 1) + 1;
    j->compared = calloc(slots, sizeof *j->compared);
    j->new_hotspots = calloc(slots, sizeof *j->new_hotspots);
    j->disappeared = calloc(slots, sizeof *j->disappeared);
    struct picks p = {calloc(slots, sizeof(struct candidate)), 0,
                      cdone = calloc(current->nfunctions + 1, 1),
                      bdone = calloc(baseline->nfunctions + 1, 1)};
    picked = p.k;
    if (!j->compared || !j->new_hotspots || !j->disappeared || !cdone || !bdone || !p.k)
        goto done;
    if (o->compat) {
        judge_compat(&cs, &bs, o, j);
    } else {
        data_notes(current, baseline, &j->notes);
        if (judge_default(&cs, &bs, o, j, &p) != 0)
            goto done;
        size_t ns = 0;
        for (size_t i = 0; i < baseline->nfunctions; i++)
            ns += bs.structural[i];
        if (ns && !(j->structural = calloc(ns, sizeof *j->structural)))
            goto done;
        for (size_t r = 0; r < bs.by[0].nranked || r < baseline->nfunctions; r++) {
            /* in rank order when ranked by total, so the list reads outermost first */
            uint32_t i = r < bs.by[0].nranked ? bs.by[0].ranked[r].idx : (uint32_t)r;
            if (bs.structural[i] && j->nstructural < ns) {
                bool dup = false;
                for (size_t q = 0; q < j->nstructural; q++)
                    dup |= j->structural[q] == baseline->functions[i].name;
                if (!dup)
                    j->structural[j->nstructural++] = baseline->functions[i].name;
            }
        }
    }
    for (size_t i = 0; i < j->ncompared; i++) {
        enum verdict v = j->compared[i].status;
        j->regressed += v == VERDICT_REGRESSION;
        j->inconclusive += v == VERDICT_INCONCLUSIVE;
        j->passed += v == VERDICT_PASS;
    }
    if (j->inconclusive)
        j->notes |= NOTE_INCONCLUSIVE;
    if (!o->compat && assign_causes(j, &cs, &bs, o) != 0)
        goto done;
    judge_metrics(current, baseline, o, j);
    rc = 0;
done:
    free(cdone);
    free(bdone);
    free(picked);
    side_free(&cs);
    side_free(&bs);
    if (rc != 0)
        judgement_free(j);
    return rc;
}

void judgement_free(struct judgement *j)
{
    free(j->compared);
    free(j->new_hotspots);
    free(j->disappeared);
    free(j->structural);
    memset(j, 0, sizeof *j);
}
