/* SPDX-License-Identifier: MIT */
/* check_judge_default.c — the noise-aware default judge: each of its three gates (relative
 * threshold, absolute min-delta, significance) decides a case on its own; noise that the
 * old rules flag and a real slowdown both rules flag (simulated, fixed seeds); baseline
 * functions judged wherever they now rank; new hotspots; --metric self; whole-run metrics,
 * their thresholds and budgets; baselines of the old format; filters. */
#include "testutil.h"

#include "analysis/judge/filter.h"
#include "analysis/judge/judge.h"
#include "analysis/judge/stats.h"
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* An averaged profile by hand: "name:mean:sd" (per-run shares in percent; self = total
 * unless "name:mean:sd:self"; '|' separates instead when names hold ':'), `runs` runs of
 * `total` samples each. */
static struct avg_profile avg(unsigned runs, double total, const char *const *spec)
{
    struct avg_profile a;
    memset(&a, 0, sizeof a);
    size_t n = 0;
    while (spec[n])
        n++;
    a.functions = calloc(n ? n : 1, sizeof *a.functions);
    a.nfunctions = n;
    a.runs = runs;
    a.avg_total_samples = total;
    a.sd_total_samples = 0;
    a.has_spread = a.has_self = a.complete = true;
    a.avg_signals = NAN;
    struct run_metric none = {NAN, NAN, NAN, 0};
    a.wall_ms = a.cpu_ms = a.peak_rss_kb = none;
    for (size_t i = 0; i < n; i++) {
        char name[128];
        double mean, sd, self = NAN;
        int got = strchr(spec[i], '|')
                      ? sscanf(spec[i], "%127[^|]|%lf|%lf|%lf", name, &mean, &sd, &self)
                      : sscanf(spec[i], "%127[^:]:%lf:%lf:%lf", name, &mean, &sd, &self);
        ck_assert(got >= 3);
        if (got < 4)
            self = mean;
        struct avg_function *f = &a.functions[i];
        f->name = strdup(name);
        f->avg_percentage = f->mean_pct = mean;
        f->sd_pct = sd;
        f->mean_samples = f->avg_samples = mean * total / 100;
        f->sd_samples = sd * total / 100;
        f->avg_self_pct = f->self_mean_pct = self;
        f->self_sd_pct = sd;
        f->self_mean_samples = self * total / 100;
        f->self_sd_samples = sd * total / 100;
        f->occurrences = runs;
        f->line = -1;
        f->order = i;
    }
    avg_profile_sort(&a);
    return a;
}

static const struct judged_function *judged(const struct judgement *j, const char *name)
{
    for (size_t i = 0; i < j->ncompared; i++)
        if (strcmp(j->compared[i].name, name) == 0)
            return &j->compared[i];
    return NULL;
}

static struct judge_options defaults(void)
{
    struct judge_options o;
    judge_options_default(&o);
    return o;
}

/* Gate 1, the relative threshold: +40 % is large, significant and far above min-delta, but
 * below the 50 % threshold; at --threshold 30 it is a regression. */
START_TEST(test_gate_threshold)
{
    const char *c[] = {"main:100:0", "f:14:0.2", NULL}, *b[] = {"main:100:0", "f:10:0.2", NULL};
    struct avg_profile cur = avg(5, 2000, c), base = avg(5, 2000, b);
    struct judge_options o = defaults();
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *f = judged(&j, "f");
    ck_assert_ptr_nonnull(f);
    ck_assert(!f->grew_enough && f->moved_enough && f->significant);
    ck_assert_int_eq(f->status, VERDICT_PASS);
    ck_assert_int_eq(f->test, TEST_WELCH);
    ck_assert_double_eq_tol(f->p_value, stats_welch_greater(14, 0.2, 5, 10, 0.2, 5, NULL), 1e-12);
    judgement_free(&j);
    o.threshold_percent = 30;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_int_eq(judged(&j, "f")->status, VERDICT_REGRESSION);
    ck_assert_uint_eq(j.regressed, 1);
    ck_assert(judgement_failed(&j));
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* Gate 2, min-delta: the 0.4 % -> 0.7 % (+75 %, significant with tight runs) is 0.3
 * points: not a regression by default, one under --compat and under --min-delta 0.2. */
START_TEST(test_gate_min_delta)
{
    const char *c[] = {"main:100:0", "f:0.7:0.02", NULL}, *b[] = {"main:100:0", "f:0.4:0.02", NULL};
    struct avg_profile cur = avg(5, 5000, c), base = avg(5, 5000, b);
    struct judge_options o = defaults();
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *f = judged(&j, "f");
    ck_assert(f->grew_enough && !f->moved_enough && f->significant);
    ck_assert_double_eq_tol(f->delta_points, 0.3, 1e-12);
    ck_assert_int_eq(f->status, VERDICT_PASS);
    judgement_free(&j);
    o.compat = true;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_int_eq(judged(&j, "f")->status, VERDICT_REGRESSION);
    judgement_free(&j);
    o = defaults();
    o.min_delta = 0.2;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_int_eq(judged(&j, "f")->status, VERDICT_REGRESSION);
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* Gate 3, significance: 2 % -> 4 % is +100 % and 2 points, but the runs scatter by 1.5
 * points: p ~ 0.03, not significant at 99 %, so the verdict cannot be decided either way
 * (INCONCLUSIVE, never a silent PASS); significant at --confidence 90. */
START_TEST(test_gate_significance)
{
    const char *c[] = {"main:100:0", "f:4:1.5", NULL}, *b[] = {"main:100:0", "f:2:1.5", NULL};
    struct avg_profile cur = avg(5, 1000, c), base = avg(5, 1000, b);
    struct judge_options o = defaults();
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *f = judged(&j, "f");
    double p = stats_welch_greater(4, 1.5, 5, 2, 1.5, 5, NULL);
    ck_assert_double_eq_tol(f->p_value, p, 1e-12);
    ck_assert(p > 0.01 && p < 0.1);
    ck_assert(f->grew_enough && f->moved_enough && !f->significant);
    ck_assert_int_eq(f->status, VERDICT_INCONCLUSIVE);
    ck_assert(j.notes & NOTE_INCONCLUSIVE);
    ck_assert(!judgement_failed(&j));
    judgement_free(&j);
    o.confidence = 90;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_int_eq(judged(&j, "f")->status, VERDICT_REGRESSION);
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* Fewer than 3 runs on a side: against a baseline with run-to-run spread, a t-test on that
 * spread; without one, the binomial test on pooled counts, with the note; samples that weigh
 * 4 signals each count as a quarter as many observations. */
START_TEST(test_few_runs_binomial)
{
    const char *bs[] = {"main:100:0", "f:10:0.5", NULL};
    const char *c[] = {"main:100:0", "f:13:0", NULL}, *b[] = {"main:100:0", "f:10:0", NULL};
    {
        struct avg_profile cur = avg(1, 1000, c), base = avg(5, 1000, bs);
        struct judge_options o = defaults();
        struct judgement j;
        ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
        const struct judged_function *f = judged(&j, "f");
        ck_assert_int_eq(f->test, TEST_POOLED_T);
        double se = 0.5 * sqrt(1.0 + 1.0 / 5);
        ck_assert_double_eq_tol(f->p_value, stats_t_sf(3 / se, 4), 1e-12);
        ck_assert(j.notes & NOTE_FEW_RUNS);
        ck_assert(j.notes & NOTE_ONE_RUN);
        judgement_free(&j);
        avg_profile_free(&cur);
        avg_profile_free(&base);
    }
    struct avg_profile cur = avg(1, 1000, c), base = avg(5, 1000, b);
    struct judge_options o = defaults();
    o.threshold_percent = 20;
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *f = judged(&j, "f");
    ck_assert_int_eq(f->test, TEST_BINOMIAL);
    ck_assert_double_eq_tol(f->p_value, stats_rate_greater(130, 1000, 500, 5000), 1e-12);
    ck_assert(j.notes & NOTE_FEW_RUNS);
    double p_unweighted = f->p_value;
    judgement_free(&j);
    cur.avg_signals = 250;
    base.avg_signals = 250;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    f = judged(&j, "f");
    ck_assert_double_eq_tol(f->p_value, stats_rate_greater(33, 250, 125, 1250), 1e-12);
    ck_assert(f->p_value > p_unweighted);
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* A baseline top-N function is judged wherever it ranks now; the old rules call it
 * "disappeared" as soon as it leaves the current top N. */
START_TEST(test_judged_wherever_it_ranks)
{
    const char *b[] = {"main:100:0", "g:30:0.5", "a:5:0.5", "c:4:0.5", "d:3:0.5", NULL};
    const char *c[] = {"main:100:0", "a:40:0.5", "c:35:0.5", "d:32:0.5", "g:29:0.5", NULL};
    struct avg_profile cur = avg(5, 1000, c), base = avg(5, 1000, b);
    struct judge_options o = defaults();
    o.top = 2;
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *g = judged(&j, "g");
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->current_rank, 5);
    ck_assert_uint_eq(g->baseline_rank, 2);
    ck_assert_int_eq(g->status, VERDICT_PASS);
    ck_assert_uint_eq(j.ndisappeared, 0);
    /* a rose from 5 % to 40 % into the current top 2: the baseline has it, so it is judged
     * like the others (a regression), not set aside as a new hotspot */
    const struct judged_function *a = judged(&j, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->status, VERDICT_REGRESSION);
    ck_assert_uint_eq(j.nnew, 0);
    ck_assert(judgement_failed(&j));
    judgement_free(&j);
    o = defaults();
    o.top = 2;
    o.compat = true;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_ptr_null(judged(&j, "g"));
    ck_assert_uint_eq(j.ndisappeared, 1);
    ck_assert_str_eq(j.disappeared[0].name, "g");
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* New hotspots: from a baseline listing every function, absence means 0; from one cut to
 * its top functions, at most the smallest share it lists. A function that only shuffles
 * into the top N is not listed. */
START_TEST(test_new_hotspot_baseline_share)
{
    const char *b[] = {"main:100:0", "f:50:0.5", "g:8:0.5", "k:3:0.5", NULL};
    const char *c[] = {"main:100:0", "f:50:0.5", "h:9:0.5", "k:3.2:0.5", "g:8:0.5", NULL};
    struct avg_profile cur = avg(5, 1000, c), base = avg(5, 1000, b);
    struct judge_options o = defaults();
    o.top = 3;
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_uint_eq(j.nnew, 1);
    ck_assert_str_eq(j.new_hotspots[0].name, "h");
    ck_assert_double_eq(j.new_hotspots[0].baseline_percentage, 0);
    judgement_free(&j);
    base.complete = false;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_uint_eq(j.nnew, 1);
    ck_assert_double_eq_tol(j.new_hotspots[0].baseline_percentage, 3, 1e-12);
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* --metric self judges self shares; both are reported. */
START_TEST(test_metric_self)
{
    /* f's inclusive share is steady, its own time doubled (a callee got cheaper) */
    const char *b[] = {"main:100:0:0", "f:40:0.3:10", "g:30:0.3:30", NULL};
    const char *c[] = {"main:100:0:0", "f:40:0.3:20", "g:20:0.3:20", NULL};
    struct avg_profile cur = avg(5, 2000, c), base = avg(5, 2000, b);
    struct judge_options o = defaults();
    struct judgement j;
    o.metric = METRIC_TOTAL;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *f = judged(&j, "f");
    ck_assert_int_eq(f->status, VERDICT_PASS);
    ck_assert_double_eq(f->current_self, 20);
    ck_assert_double_eq(f->baseline_self, 10);
    judgement_free(&j);
    /* the default judges both shares: the self share decides */
    o.metric = METRIC_BOTH;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    f = judged(&j, "f");
    ck_assert_int_eq(f->status, VERDICT_REGRESSION);
    ck_assert_int_eq(f->decided_by, METRIC_SELF);
    ck_assert_int_eq(f->total.status, VERDICT_PASS);
    ck_assert_int_eq(f->self.status, VERDICT_REGRESSION);
    ck_assert_double_eq(f->current_percentage, 20);
    judgement_free(&j);
    o.metric = METRIC_SELF;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    f = judged(&j, "f");
    ck_assert_int_eq(f->status, VERDICT_REGRESSION);
    ck_assert_double_eq(f->current_percentage, 20);
    ck_assert_double_eq(f->current_total, 40);
    ck_assert_uint_eq(f->baseline_rank, 2); /* by self share: g 30, f 10, main 0 */
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* Adds a stack "a;b;c" with count to an averaged profile (frames by name). */
static void add_stack(struct avg_profile *a, const char *path, uint64_t count)
{
    uint32_t frames[16];
    uint32_t depth = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        size_t i = 0;
        while (i < a->nfunctions && strcmp(a->functions[i].name, t) != 0)
            i++;
        ck_assert_msg(i < a->nfunctions, "no function %s", t);
        frames[depth++] = (uint32_t)i;
    }
    a->stacks = realloc(a->stacks, (a->nstacks + 1) * sizeof *a->stacks);
    uint32_t *f = malloc(depth * sizeof *f);
    memcpy(f, frames, depth * sizeof *f);
    a->stacks[a->nstacks++] = (struct pr_stack){f, depth, count, NULL, 0};
    a->has_stacks = true;
}

/* Frames in nearly every sample on both sides (entry points, runners, main) take no top-N
 * slot: with --top 2, the two slots go to functions that can move. */
START_TEST(test_structural_frames_take_no_slot)
{
    const char *b[] = {"_start:100:0:0",
                       "main:99.5:0.1:0",
                       "testing::Test::Run()|99|0.1|0",
                       "body:60:0.5:10",
                       "work:50:0.5:50",
                       "other:20:0.5:20",
                       NULL};
    const char *c[] = {"_start:100:0:0",
                       "main:99.5:0.1:0",
                       "testing::Test::Run()|99|0.1|0",
                       "body:60:0.5:10",
                       "work:50:0.5:50",
                       "other:20:0.5:20",
                       NULL};
    struct avg_profile cur = avg(5, 4000, c), base = avg(5, 4000, b);
    struct judge_options o = defaults();
    o.top = 2;
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_ptr_null(judged(&j, "main"));
    ck_assert_ptr_null(judged(&j, "_start"));
    ck_assert_ptr_nonnull(judged(&j, "body"));
    ck_assert_ptr_nonnull(judged(&j, "work"));
    ck_assert_uint_eq(j.nstructural, 3);
    ck_assert_uint_eq(j.regressed, 0);
    judgement_free(&j);
    /* a runner frame that one build inlined (absent, or nearly, on one side) is no new
     * hotspot and no disappeared function: it is in nearly every sample where it exists */
    avg_profile_free(&cur);
    const char *c2[] = {"_start:100:0:0",
                        "main:99.5:0.1:0",
                        "testing::TestSuite::Run()|99|0.1|0",
                        "testing::Test::Run()|99|0.1|0",
                        "body:60:0.5:10",
                        "work:50:0.5:50",
                        "other:20:0.5:20",
                        NULL};
    cur = avg(5, 4000, c2);
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_uint_eq(j.nnew, 0);
    ck_assert_ptr_null(judged(&j, "testing::TestSuite::Run()"));
    judgement_free(&j);
    ck_assert_int_eq(judge_compare(&base, &cur, &o, &j), 0);
    ck_assert_uint_eq(j.ndisappeared, 0);
    ck_assert_ptr_null(judged(&j, "testing::TestSuite::Run()"));
    judgement_free(&j);
    /* --compat keeps the old rule: the top 2 by share, whatever they are */
    o.compat = true;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_ptr_nonnull(judged(&j, "_start"));
    ck_assert_uint_eq(j.nstructural, 0);
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* The most likely cause is the deepest regressed function whose growth is its own; callers
 * that only pass the growth on inherit it. body -> work doubled (its own code), body's own
 * share unchanged: work is the cause, body inherits from it, main takes no slot. */
START_TEST(test_most_likely_cause)
{
    /* baseline: body 40 (self 10) -> work 30 (self 30); rest 60 elsewhere */
    const char *b[] = {"main:100:0.1:0", "body:40:0.5:10", "work:30:0.5:30", "rest:60:0.5:60",
                       NULL};
    /* current: work doubled in time: 60 of 130 -> shares renormalised */
    const char *c[] = {"main:100:0.1:0", "body:53.85:0.5:7.69", "work:46.15:0.5:46.15",
                       "rest:46.15:0.5:46.15", NULL};
    struct avg_profile cur = avg(5, 1000, c), base = avg(5, 1000, b);
    add_stack(&base, "main;body", 100 * 5);
    add_stack(&base, "main;body;work", 300 * 5);
    add_stack(&base, "main;rest", 600 * 5);
    add_stack(&cur, "main;body", 77 * 5);
    add_stack(&cur, "main;body;work", 462 * 5);
    add_stack(&cur, "main;rest", 461 * 5);
    struct judge_options o = defaults();
    o.threshold_percent = 20;
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *w = judged(&j, "work"), *body = judged(&j, "body");
    ck_assert_int_eq(w->status, VERDICT_REGRESSION);
    ck_assert_int_eq(body->status, VERDICT_REGRESSION);
    ck_assert_int_eq(w->role, ROLE_MOST_LIKELY_CAUSE);
    ck_assert_int_eq(body->role, ROLE_INHERITS);
    ck_assert_uint_eq(body->ninherits, 1);
    ck_assert_str_eq(body->inherits_from[0], "work");
    ck_assert_str_eq(j.likely_cause, "work");
    ck_assert(!(j.notes & NOTE_NO_STACKS));
    judgement_free(&j);
    /* without stacks the cause is told from self growth: still work */
    cur.has_stacks = false;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_str_eq(j.likely_cause, "work");
    ck_assert(j.notes & NOTE_NO_STACKS);
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* What the data can see: 1 run of 50 samples against 1 run cannot show a 50 % growth of a
 * 2 % function, so its verdict is INCONCLUSIVE with the notes saying why; with 5 runs of
 * 20,000 samples of little spread the same unchanged function is a plain PASS. */
START_TEST(test_inconclusive_when_blind)
{
    const char *fns[] = {"main:100:0:0", "f:2:0:2", "g:98:0:98", NULL};
    struct avg_profile cur = avg(1, 50, fns), base = avg(1, 50, fns);
    struct judge_options o = defaults();
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *f = judged(&j, "f");
    ck_assert_int_eq(f->status, VERDICT_INCONCLUSIVE);
    ck_assert(f->detectable_percent > o.threshold_percent);
    ck_assert(j.notes & NOTE_ONE_RUN);
    ck_assert(j.notes & NOTE_FEW_SAMPLES);
    ck_assert(j.notes & NOTE_INCONCLUSIVE);
    ck_assert(!judgement_failed(&j));
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
    const char *fns2[] = {"main:100:0:0", "f:2:0.05:2", "g:98:0.05:98", NULL};
    cur = avg(5, 20000, fns2);
    base = avg(5, 20000, fns2);
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    f = judged(&j, "f");
    ck_assert_int_eq(f->status, VERDICT_PASS);
    ck_assert(f->detectable_percent <= o.threshold_percent + 1e-9);
    ck_assert(!(j.notes & (NOTE_ONE_RUN | NOTE_FEW_SAMPLES | NOTE_INCONCLUSIVE)));
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* A small function that grew a lot but stays below the top N by both shares is still judged
 * (one of the current runs' largest growers), held to the level divided by the number of
 * functions screened; with the runs' noise small it is a regression, with larger noise the
 * same growth is INCONCLUSIVE (significant alone, not among all screened). */
START_TEST(test_growers_judged)
{
    const char *b[] = {"main:100:0:0", "a:30:0.3:30",   "b:25:0.3:25",    "c:20:0.3:20",
                       "d:15:0.3:15",  "leaf:1:0.05:1", "e:0.5:0.05:0.5", NULL};
    const char *c[] = {"main:100:0:0",    "a:29.5:0.3:29.5",   "b:24.5:0.3:24.5", "c:19.6:0.3:19.6",
                       "d:14.8:0.3:14.8", "leaf:2.5:0.05:2.5", "e:0.5:0.05:0.5",  NULL};
    struct avg_profile cur = avg(5, 4000, c), base = avg(5, 4000, b);
    struct judge_options o = defaults();
    o.top = 2;
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    const struct judged_function *f = judged(&j, "leaf");
    ck_assert_ptr_nonnull(f);
    ck_assert(f->picked_from > 1);
    ck_assert_int_eq(f->status, VERDICT_REGRESSION);
    ck_assert_str_eq(j.likely_cause, "leaf");
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
    const char *c2[] = {"main:100:0:0",    "a:29.5:0.3:29.5",  "b:24.5:0.3:24.5", "c:19.6:0.3:19.6",
                        "d:14.8:0.3:14.8", "leaf:2.5:0.9:2.5", "e:0.5:0.05:0.5",  NULL};
    const char *b2[] = {"main:100:0:0", "a:30:0.3:30",  "b:25:0.3:25",    "c:20:0.3:20",
                        "d:15:0.3:15",  "leaf:1:0.5:1", "e:0.5:0.05:0.5", NULL};
    cur = avg(5, 4000, c2);
    base = avg(5, 4000, b2);
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    f = judged(&j, "leaf");
    ck_assert_ptr_nonnull(f);
    ck_assert(f->total.p_value < 0.01);
    ck_assert_int_eq(f->status, VERDICT_INCONCLUSIVE);
    ck_assert(!judgement_failed(&j));
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

static struct run_metric metric(double median, double mean, double sd, unsigned n)
{
    return (struct run_metric){median, mean, sd, n};
}

/* Whole-run metrics: medians against --time-threshold / --memory-threshold with the same
 * significance gate; budgets fail whatever the baseline (--compat too). */
START_TEST(test_whole_run_metrics)
{
    const char *fns[] = {"main:100:0", NULL};
    struct avg_profile cur = avg(5, 1000, fns), base = avg(5, 1000, fns);
    base.wall_ms = metric(1000, 1000, 20, 5);
    base.cpu_ms = metric(900, 900, 20, 5);
    base.peak_rss_kb = metric(10240, 10240, 0, 5);
    cur.wall_ms = metric(1200, 1200, 20, 5);      /* +20 %, clearly significant */
    cur.cpu_ms = metric(950, 950, 20, 5);         /* +5.6 %: under 10 % */
    cur.peak_rss_kb = metric(11776, 11776, 0, 5); /* +15 % */
    struct judge_options o = defaults();
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_uint_eq(j.nmetrics, 3);
    ck_assert_str_eq(j.metrics[0].key, "wall_time_ms");
    ck_assert_int_eq(j.metrics[0].status, VERDICT_REGRESSION);
    ck_assert_int_eq(j.metrics[0].test, TEST_WELCH);
    ck_assert_double_eq_tol(j.metrics[0].diff_percent, 20, 1e-9);
    ck_assert_int_eq(j.metrics[1].status, VERDICT_PASS);
    ck_assert_int_eq(j.metrics[2].status, VERDICT_REGRESSION);
    ck_assert_uint_eq(j.metrics_regressed, 2);
    ck_assert_uint_eq(j.regressed, 0);
    ck_assert(judgement_failed(&j));
    judgement_free(&j);
    /* looser thresholds: nothing */
    o.time_threshold = 25;
    o.memory_threshold = 20;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_uint_eq(j.metrics_regressed, 0);
    judgement_free(&j);
    /* +20 % but the runs scatter by 300 ms: not significant */
    cur.wall_ms = metric(1200, 1200, 300, 5);
    base.wall_ms = metric(1000, 1000, 300, 5);
    o = defaults();
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert(j.metrics[0].over_threshold && !j.metrics[0].significant);
    ck_assert_int_eq(j.metrics[0].status, VERDICT_PASS);
    judgement_free(&j);
    /* budgets: 1200 ms over --max-time-ms 1100, 11.5 MB over --max-memory-mb 11, even
     * under --compat, which judges nothing else of the whole run */
    o.compat = true;
    o.max_time_ms = 1100;
    o.max_memory_mb = 11;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert(j.metrics[0].over_budget && j.metrics[2].over_budget);
    ck_assert_uint_eq(j.metrics_regressed, 2);
    ck_assert(isnan(j.metrics[1].threshold_percent));
    judgement_free(&j);
    o.max_memory_mb = 12;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_uint_eq(j.metrics_regressed, 1);
    judgement_free(&j);
    /* not recorded now (old profiles): a budget cannot be judged, and says so */
    cur.wall_ms = metric(NAN, NAN, NAN, 0);
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert(!j.metrics[0].judged);
    ck_assert(j.notes & NOTE_METRIC_MISSING);
    judgement_free(&j);
    /* one run a side: no spread anywhere, judged on the threshold alone (with a note) */
    o = defaults();
    cur.wall_ms = metric(1200, 1200, 0, 1);
    base.wall_ms = metric(1000, 1000, 0, 1);
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_int_eq(j.metrics[0].test, TEST_NONE);
    ck_assert(j.notes & NOTE_METRIC_UNTESTED);
    ck_assert_int_eq(j.metrics[0].status, VERDICT_REGRESSION);
    judgement_free(&j);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* A baseline of the old format (no spread, no self): still judged, on pooled counts, with
 * the note that run-to-run significance could not be assessed. Its mean over all runs
 * follows from avg_percentage and occurrences. */
START_TEST(test_old_format_baseline)
{
    struct baseline b;
    char err[512];
    baseline_init(&b);
    ck_assert_msg(baseline_read_string(
                      "{\"metadata\": {\"runs_averaged\": 4},"
                      " \"summary\": {\"avg_total_samples\": 1000},"
                      " \"top_functions\": ["
                      "  {\"name\": \"main\", \"avg_percentage\": 100, \"avg_samples\": 1000,"
                      "   \"occurrences\": 4},"
                      "  {\"name\": \"f\", \"avg_percentage\": 10, \"avg_samples\": 100,"
                      "   \"occurrences\": 4},"
                      "  {\"name\": \"rare\", \"avg_percentage\": 8, \"avg_samples\": 80,"
                      "   \"occurrences\": 1}]}",
                      "old.json", &b, err, sizeof err) == 0,
                  "%s", err);
    ck_assert(!b.avg.has_spread && !b.avg.has_self && !b.avg.complete);
    const char *c[] = {"main:100:0", "f:25:0.5", "rare:2:0.5", NULL};
    struct avg_profile cur = avg(5, 1000, c);
    struct judge_options o = defaults();
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &b.avg, &o, &j), 0);
    const struct judged_function *f = judged(&j, "f");
    ck_assert_int_eq(f->test, TEST_BINOMIAL);
    ck_assert_double_eq_tol(f->p_value, stats_rate_greater(1250, 5000, 400, 4000), 1e-12);
    ck_assert_int_eq(f->status, VERDICT_REGRESSION);
    ck_assert(isnan(f->baseline_self));
    /* rare: 8 % in 1 of 4 runs is 2 % over all runs */
    ck_assert_double_eq_tol(judged(&j, "rare")->baseline_percentage, 2, 1e-12);
    ck_assert(j.notes & NOTE_NO_SPREAD);
    ck_assert_msg(strstr(judge_note_text(NOTE_NO_SPREAD), "could not be assessed"), "%s",
                  judge_note_text(NOTE_NO_SPREAD));
    judgement_free(&j);
    /* no sample counts at all: judged on threshold and min-delta, significance not assessed */
    b.avg.avg_total_samples = 0;
    ck_assert_int_eq(judge_compare(&cur, &b.avg, &o, &j), 0);
    ck_assert_int_eq(judged(&j, "f")->test, TEST_NONE);
    ck_assert_int_eq(judged(&j, "f")->status, VERDICT_REGRESSION);
    ck_assert(j.notes & NOTE_NO_COUNTS);
    judgement_free(&j);
    avg_profile_free(&cur);
    baseline_free(&b);
}
END_TEST

/* Filters choose the functions before the top N is taken, on both sides. */
START_TEST(test_filters)
{
    const char *b[] = {"main|100|0", "std::sort()|30|0.5", "app::f()|10|0.5", "app::g()|5|0.5",
                       NULL};
    const char *c[] = {"main|100|0", "std::sort()|60|0.5", "app::f()|10|0.5", "app::g()|12|0.5",
                       NULL};
    struct avg_profile cur = avg(5, 1000, c), base = avg(5, 1000, b);
    struct fn_filter flt;
    char err[256];
    filter_init(&flt);
    ck_assert_int_eq(filter_add_prefix(&flt, "app::", err, sizeof err), 0);
    struct judge_options o = defaults();
    o.top = 2;
    o.filter = &flt;
    struct judgement j;
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_uint_eq(j.ncompared, 2);
    ck_assert_ptr_null(judged(&j, "std::sort()"));
    ck_assert_int_eq(judged(&j, "app::g()")->status, VERDICT_REGRESSION);
    judgement_free(&j);
    filter_free(&flt);
    filter_init(&flt);
    ck_assert_int_eq(filter_add_exclude(&flt, "^app::g", err, sizeof err), 0);
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_ptr_nonnull(judged(&j, "std::sort()"));
    ck_assert_ptr_null(judged(&j, "app::g()"));
    judgement_free(&j);
    filter_free(&flt);
    /* --project-only: paths from the current side decide for a baseline without them */
    filter_init(&flt);
    ck_assert_int_eq(filter_set_project_root(&flt, "/src/app"), 0);
    for (size_t i = 0; i < cur.nfunctions; i++)
        if (strncmp(cur.functions[i].name, "app::", 5) == 0)
            cur.functions[i].source_path = strdup("/src/app/lib/x.cpp");
        else
            cur.functions[i].source_path = strdup("/usr/include/c++/12/bits/stl_algo.h");
    ck_assert_int_eq(judge_compare(&cur, &base, &o, &j), 0);
    ck_assert_uint_eq(j.ncompared, 2);
    ck_assert_ptr_nonnull(judged(&j, "app::f()"));
    ck_assert_ptr_nonnull(judged(&j, "app::g()"));
    judgement_free(&j);
    filter_free(&flt);
    avg_profile_free(&cur);
    avg_profile_free(&base);
}
END_TEST

/* Simulated noise (tests/sim.h, fixed seeds): among A/A comparisons of a realistic profile
 * there are ones the old rules flag; the default judge flags none of those. */
START_TEST(test_noise_compat_flags_default_does_not)
{
    unsigned compat_flags = 0, both = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct sim_rng r;
        sim_seed(&r, seed);
        struct sim_workload w;
        sim_workload_default(&w, 0.01);
        struct baseline base;
        ck_assert_int_eq(sim_baseline(&r, &w, 5, &base), 0);
        struct avg_profile cur;
        sim_average(&r, &w, 5, &cur);
        struct judge_options o = defaults();
        struct judgement jd, jc;
        ck_assert_int_eq(judge_compare(&cur, &base.avg, &o, &jd), 0);
        o.compat = true;
        ck_assert_int_eq(judge_compare(&cur, &base.avg, &o, &jc), 0);
        bool c = jc.regressed || jc.nnew || jc.ndisappeared, d = judgement_failed(&jd);
        compat_flags += c;
        both += c && d;
        judgement_free(&jd);
        judgement_free(&jc);
        avg_profile_free(&cur);
        baseline_free(&base);
    }
    ck_assert_msg(compat_flags >= 10, "the old rules flagged only %u of 200", compat_flags);
    ck_assert_msg(both == 0, "the default judge flagged %u of the old rules' %u", both,
                  compat_flags);
}
END_TEST

/* A real slowdown (the 3 % function takes twice as long) is flagged by both, every seed. */
START_TEST(test_real_slowdown_both_flag)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct sim_rng r;
        sim_seed(&r, seed);
        struct sim_workload w;
        sim_workload_default(&w, 0.03);
        struct baseline base;
        ck_assert_int_eq(sim_baseline(&r, &w, 5, &base), 0);
        sim_scale(&w, w.target, 2);
        struct avg_profile cur;
        sim_average(&r, &w, 5, &cur);
        for (int compat = 0; compat < 2; compat++) {
            struct judge_options o = defaults();
            o.compat = compat;
            struct judgement j;
            ck_assert_int_eq(judge_compare(&cur, &base.avg, &o, &j), 0);
            const struct judged_function *f = judged(&j, "target");
            ck_assert_msg(f && f->status == VERDICT_REGRESSION, "seed %llu, %s: not flagged",
                          (unsigned long long)seed, compat ? "compat" : "default");
            ck_assert(judgement_failed(&j));
            judgement_free(&j);
        }
        avg_profile_free(&cur);
        baseline_free(&base);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("judge_default");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_gate_threshold);
    tcase_add_test(tc, test_gate_min_delta);
    tcase_add_test(tc, test_gate_significance);
    tcase_add_test(tc, test_few_runs_binomial);
    tcase_add_test(tc, test_judged_wherever_it_ranks);
    tcase_add_test(tc, test_new_hotspot_baseline_share);
    tcase_add_test(tc, test_metric_self);
    tcase_add_test(tc, test_structural_frames_take_no_slot);
    tcase_add_test(tc, test_most_likely_cause);
    tcase_add_test(tc, test_inconclusive_when_blind);
    tcase_add_test(tc, test_growers_judged);
    tcase_add_test(tc, test_whole_run_metrics);
    tcase_add_test(tc, test_old_format_baseline);
    tcase_add_test(tc, test_filters);
    tcase_add_test(tc, test_noise_compat_flags_default_does_not);
    tcase_add_test(tc, test_real_slowdown_both_flag);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
