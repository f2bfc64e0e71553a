/* SPDX-License-Identifier: MIT */
/* check_judge.c — the Instruments workflow's rules, each against a hand-computed case: averaging
 * over the runs a function appears in, the top-N cut on both sides, the threshold boundary, a zero
 * baseline, new hotspots, disappeared functions, ties. */
#include "testutil.h"

#include "analysis/judge/judge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A run from "name:percentage:samples" triples, total samples given. */
static struct pr_profile run(uint64_t total, const char *const *spec)
{
    struct pr_profile p;
    profile_init(&p);
    size_t n = 0;
    while (spec[n])
        n++;
    p.functions = calloc(n ? n : 1, sizeof *p.functions);
    p.nfunctions = n;
    p.total_samples = total;
    for (size_t i = 0; i < n; i++) {
        char name[128];
        double pct;
        unsigned long samples;
        ck_assert(sscanf(spec[i], "%127[^:]:%lf:%lu", name, &pct, &samples) == 3);
        p.functions[i].name = strdup(name);
        p.functions[i].percentage = pct;
        p.functions[i].samples = samples;
        p.functions[i].line = -1;
    }
    return p;
}

static const struct avg_function *find(const struct avg_profile *a, const char *name)
{
    for (size_t i = 0; i < a->nfunctions; i++)
        if (strcmp(a->functions[i].name, name) == 0)
            return &a->functions[i];
    return NULL;
}

static void average(struct pr_profile *runs, size_t n, struct avg_profile *out)
{
    const struct pr_profile *list[16];
    for (size_t i = 0; i < n; i++)
        list[i] = &runs[i];
    ck_assert_int_eq(judge_average(list, n, out), 0);
}

/* An averaged profile straight from "name:avg_percentage" pairs, ranked. */
static struct avg_profile avg_of(const char *const *spec)
{
    struct avg_profile a = {0};
    size_t n = 0;
    while (spec[n])
        n++;
    a.functions = calloc(n ? n : 1, sizeof *a.functions);
    a.nfunctions = n;
    a.runs = 1;
    for (size_t i = 0; i < n; i++) {
        char name[128];
        double pct;
        ck_assert(sscanf(spec[i], "%127[^:]:%lf", name, &pct) == 2);
        a.functions[i].name = strdup(name);
        a.functions[i].avg_percentage = pct;
        a.functions[i].avg_samples = pct * 10;
        a.functions[i].occurrences = 1;
        a.functions[i].line = -1;
        a.functions[i].order = i;
    }
    avg_profile_sort(&a);
    return a;
}

START_TEST(test_average_over_runs_where_present)
{
    const char *r1[] = {"f:10:100", "g:30:300", NULL};
    const char *r2[] = {"f:20:220", "g:50:550", "h:4:44", NULL};
    const char *r3[] = {"g:40:400", NULL};
    struct pr_profile runs[3] = {run(1000, r1), run(1100, r2), run(1000, r3)};
    runs[0].wall_time_ms = 100;
    runs[1].wall_time_ms = 300;
    runs[2].wall_time_ms = 200;
    runs[1].cpu_time_ms = 250;
    struct avg_profile a;
    average(runs, 3, &a);
    ck_assert_uint_eq(a.runs, 3);
    ck_assert_uint_eq(a.nfunctions, 3);
    /* f appears in 2 runs: (10 + 20) / 2, not (10 + 20 + 0) / 3 */
    const struct avg_function *f = find(&a, "f"), *g = find(&a, "g"), *h = find(&a, "h");
    ck_assert_double_eq_tol(f->avg_percentage, 15.0, 1e-12);
    ck_assert_double_eq_tol(f->avg_samples, 160.0, 1e-12);
    ck_assert_uint_eq(f->occurrences, 2);
    ck_assert_double_eq_tol(g->avg_percentage, 40.0, 1e-12);
    ck_assert_uint_eq(g->occurrences, 3);
    /* a function seen once keeps its single value: the old rule's inflation of rare ones */
    ck_assert_double_eq_tol(h->avg_percentage, 4.0, 1e-12);
    ck_assert_uint_eq(h->occurrences, 1);
    ck_assert_double_eq_tol(a.avg_total_samples, 3100.0 / 3, 1e-9);
    /* the spread over all runs, absent = 0: f is 10, 20, 0 -> mean 10, sd 10; g 30, 50, 40 */
    ck_assert(a.has_spread);
    ck_assert_double_eq_tol(f->mean_pct, 10.0, 1e-12);
    ck_assert_double_eq_tol(f->sd_pct, 10.0, 1e-9);
    ck_assert_double_eq_tol(f->mean_samples, 320.0 / 3, 1e-9);
    ck_assert_double_eq_tol(g->mean_pct, 40.0, 1e-12);
    ck_assert_double_eq_tol(g->sd_pct, 10.0, 1e-9);
    /* whole-run metrics: wall 100, 300, 200 ms -> median 200, sd 100; CPU recorded once */
    ck_assert_uint_eq(a.wall_ms.n, 3);
    ck_assert_double_eq_tol(a.wall_ms.median, 200.0, 1e-12);
    ck_assert_double_eq_tol(a.wall_ms.sd, 100.0, 1e-9);
    ck_assert_uint_eq(a.cpu_ms.n, 1);
    ck_assert_uint_eq(a.peak_rss_kb.n, 0);
    ck_assert(isnan(a.peak_rss_kb.median));
    /* ranked by average share */
    ck_assert_str_eq(a.functions[0].name, "g");
    ck_assert_str_eq(a.functions[1].name, "f");
    ck_assert_str_eq(a.functions[2].name, "h");
    avg_profile_free(&a);
    for (int i = 0; i < 3; i++)
        profile_free(&runs[i]);
}
END_TEST

/* Sums are taken in run order, like Python's sum() over the runs: same bits. */
START_TEST(test_average_sums_in_run_order)
{
    const char *r1[] = {"f:0.1:1", NULL};
    const char *r2[] = {"f:0.2:2", NULL};
    const char *r3[] = {"f:0.3:3", NULL};
    struct pr_profile runs[3] = {run(10, r1), run(10, r2), run(10, r3)};
    struct avg_profile a;
    average(runs, 3, &a);
    volatile double s = 0.1;
    s += 0.2;
    s += 0.3;
    ck_assert(a.functions[0].avg_percentage == s / 3);
    avg_profile_free(&a);
    for (int i = 0; i < 3; i++)
        profile_free(&runs[i]);
}
END_TEST

START_TEST(test_ties_keep_first_appearance_order)
{
    /* equal shares: the Instruments workflow's stable sort kept the order functions were first seen
     */
    const char *r1[] = {"zeta:5:5", "alpha:5:5", "mid:7:7", NULL};
    const char *r2[] = {"beta:5:5", NULL};
    struct pr_profile runs[2] = {run(100, r1), run(100, r2)};
    struct avg_profile a;
    average(runs, 2, &a);
    const char *want[] = {"mid", "zeta", "alpha", "beta"};
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(a.functions[i].name, want[i]);
    avg_profile_free(&a);
    for (int i = 0; i < 2; i++)
        profile_free(&runs[i]);
}
END_TEST

static struct judgement judge(const struct avg_profile *cur, const struct avg_profile *base,
                              double threshold, size_t top)
{
    struct judge_options o;
    judge_options_default(&o);
    o.compat = true;
    o.threshold_percent = threshold;
    o.top = top;
    struct judgement j;
    ck_assert_int_eq(judge_compare(cur, base, &o, &j), 0);
    return j;
}

static const struct judged_function *judged(const struct judgement *j, const char *name)
{
    for (size_t i = 0; i < j->ncompared; i++)
        if (strcmp(j->compared[i].name, name) == 0)
            return &j->compared[i];
    return NULL;
}

START_TEST(test_threshold_boundary)
{
    /* base 10 -> 15 is +50 % exactly: PASS; 10 -> 15.01 is +50.1 %: REGRESSION.
     * base 8 -> 4 is -50 %: PASS (only increases count). */
    const char *b[] = {"at:10", "above:10", "down:8", NULL};
    const char *c[] = {"at:15", "above:15.01", "down:4", NULL};
    struct avg_profile base = avg_of(b), cur = avg_of(c);
    struct judgement j = judge(&cur, &base, 50, 10);
    ck_assert_uint_eq(j.ncompared, 3);
    ck_assert_double_eq_tol(judged(&j, "at")->diff_percent, 50.0, 1e-9);
    ck_assert_int_eq(judged(&j, "at")->status, VERDICT_PASS);
    ck_assert_double_eq_tol(judged(&j, "above")->diff_percent, 50.1, 1e-9);
    ck_assert_int_eq(judged(&j, "above")->status, VERDICT_REGRESSION);
    ck_assert_double_eq_tol(judged(&j, "down")->diff_percent, -50.0, 1e-9);
    ck_assert_int_eq(judged(&j, "down")->status, VERDICT_PASS);
    ck_assert_uint_eq(j.passed, 2);
    ck_assert_uint_eq(j.regressed, 1);
    judgement_free(&j);

    /* the same numbers under --threshold 60: nothing regresses; under 25: both increases */
    j = judge(&cur, &base, 60, 10);
    ck_assert_uint_eq(j.regressed, 0);
    judgement_free(&j);
    j = judge(&cur, &base, 25, 10);
    ck_assert_uint_eq(j.regressed, 2);
    judgement_free(&j);
    avg_profile_free(&base);
    avg_profile_free(&cur);
}
END_TEST

START_TEST(test_zero_baseline_is_never_a_regression)
{
    const char *b[] = {"big:50", "zero:0", NULL};
    const char *c[] = {"big:50", "zero:30", NULL};
    struct avg_profile base = avg_of(b), cur = avg_of(c);
    struct judgement j = judge(&cur, &base, 50, 10);
    const struct judged_function *z = judged(&j, "zero");
    ck_assert_ptr_nonnull(z);
    ck_assert(isnan(z->diff_percent));
    ck_assert_int_eq(z->status, VERDICT_PASS);
    ck_assert_uint_eq(j.regressed, 0);
    judgement_free(&j);
    avg_profile_free(&base);
    avg_profile_free(&cur);
}
END_TEST

START_TEST(test_top_n_cut_new_and_disappeared)
{
    /* top 3 on each side. Baseline ranks a b c | d; current ranks a d b | c.
     * d is in the current top 3 only (new hotspot, even though the baseline has it at rank 4);
     * c fell to rank 4 (disappeared, even though it is still in the current profile);
     * e is not tracked anywhere. */
    const char *b[] = {"a:40", "b:30", "c:20", "d:5", "e:1", NULL};
    const char *c[] = {"a:40", "d:31", "b:30", "c:19", "e:50.5", NULL};
    struct avg_profile base = avg_of(b), cur = avg_of(c);
    /* e leads the current ranking after sorting: the cut is by rank, not by file order */
    ck_assert_str_eq(cur.functions[0].name, "e");
    struct judgement j = judge(&cur, &base, 50, 3);
    ck_assert_uint_eq(j.ncompared, 1); /* only a: e, a, d are the current top 3 */
    ck_assert_str_eq(j.compared[0].name, "a");
    ck_assert_uint_eq(j.nnew, 2);
    ck_assert_str_eq(j.new_hotspots[0].name, "e");
    ck_assert_double_eq_tol(j.new_hotspots[0].percentage, 50.5, 1e-12);
    ck_assert_str_eq(j.new_hotspots[1].name, "d");
    ck_assert_uint_eq(j.ndisappeared, 2);
    ck_assert_str_eq(j.disappeared[0].name, "b");
    ck_assert_str_eq(j.disappeared[1].name, "c");
    ck_assert_double_eq_tol(j.disappeared[1].percentage, 20.0, 1e-12);
    judgement_free(&j);

    /* top 10 covers everything: all five compared, d +520 % and e +5050 % regress */
    j = judge(&cur, &base, 50, 10);
    ck_assert_uint_eq(j.ncompared, 5);
    ck_assert_uint_eq(j.nnew + j.ndisappeared, 0);
    ck_assert_int_eq(judged(&j, "d")->status, VERDICT_REGRESSION);
    ck_assert_double_eq_tol(judged(&j, "d")->diff_percent, 520.0, 1e-9);
    ck_assert_int_eq(judged(&j, "e")->status, VERDICT_REGRESSION);
    ck_assert_int_eq(judged(&j, "c")->status, VERDICT_PASS);
    ck_assert_uint_eq(j.regressed, 2);
    ck_assert_uint_eq(j.passed, 3);
    judgement_free(&j);
    avg_profile_free(&base);
    avg_profile_free(&cur);
}
END_TEST

START_TEST(test_empty_sides)
{
    const char *none[] = {NULL};
    const char *b[] = {"a:40", NULL};
    struct avg_profile empty = avg_of(none), base = avg_of(b);
    struct judgement j = judge(&empty, &base, 50, 10);
    ck_assert_uint_eq(j.ncompared, 0);
    ck_assert_uint_eq(j.ndisappeared, 1);
    judgement_free(&j);
    j = judge(&base, &empty, 50, 10);
    ck_assert_uint_eq(j.nnew, 1);
    judgement_free(&j);
    avg_profile_free(&empty);
    avg_profile_free(&base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("judge");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_average_over_runs_where_present);
    tcase_add_test(tc, test_average_sums_in_run_order);
    tcase_add_test(tc, test_ties_keep_first_appearance_order);
    tcase_add_test(tc, test_threshold_boundary);
    tcase_add_test(tc, test_zero_baseline_is_never_a_regression);
    tcase_add_test(tc, test_top_n_cut_new_and_disappeared);
    tcase_add_test(tc, test_empty_sides);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
