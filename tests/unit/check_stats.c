/* SPDX-License-Identifier: MIT */
/* check_stats.c — the judge's statistics against values computed by hand or tabulated:
 * binomial tails as exact fractions, Student's t critical values, Welch's degrees of freedom,
 * Welford against the two-pass formula. */
#include "testutil.h"

#include "analysis/judge/stats.h"

#include <math.h>

START_TEST(test_running_mean_sd)
{
    double v[] = {2, 4, 4, 4, 5, 5, 7, 9};
    struct running r = {0};
    for (int i = 0; i < 8; i++)
        running_add(&r, v[i]);
    ck_assert_double_eq_tol(r.mean, 5.0, 1e-12);
    /* two-pass: sum of squared deviations 32, / 7 */
    ck_assert_double_eq_tol(running_sd(&r), sqrt(32.0 / 7), 1e-12);
    struct running one = {0};
    running_add(&one, 3);
    ck_assert_double_eq(running_sd(&one), 0.0);
    double odd[] = {5, 1, 3}, even[] = {4, 1, 3, 2};
    ck_assert_double_eq(stats_median(odd, 3), 3.0);
    ck_assert_double_eq(stats_median(even, 4), 2.5);
    ck_assert(isnan(stats_median(even, 0)));
}
END_TEST

START_TEST(test_binomial_tails_exact)
{
    /* P(X >= 8 | 10, 1/2) = (45 + 10 + 1) / 1024 */
    ck_assert_double_eq_tol(stats_binom_sf(8, 10, 0.5), 56.0 / 1024, 1e-13);
    /* P(X >= 1 | 5, 0.2) = 1 - 0.8^5 */
    ck_assert_double_eq_tol(stats_binom_sf(1, 5, 0.2), 1 - pow(0.8, 5), 1e-13);
    /* P(X >= 3 | 3, 0.3) = 0.027 */
    ck_assert_double_eq_tol(stats_binom_sf(3, 3, 0.3), 0.027, 1e-13);
    ck_assert_double_eq(stats_binom_sf(0, 10, 0.3), 1.0);
    ck_assert_double_eq(stats_binom_sf(11, 10, 0.3), 0.0);
    /* equal rates: 30 of 60 samples in 1000 vs 1000 trials is no evidence */
    ck_assert(stats_rate_greater(30, 1000, 30, 1000) > 0.5);
    /* 60 vs 30 in equal trials: P(X >= 60 | 90, 1/2) is small */
    ck_assert(stats_rate_greater(60, 1000, 30, 1000) < 0.002);
    ck_assert_double_eq_tol(stats_rate_greater(8, 100, 2, 100), 56.0 / 1024, 1e-13);
}
END_TEST

START_TEST(test_t_distribution)
{
    /* tabulated one-sided critical values */
    ck_assert_double_eq_tol(stats_t_sf(2.015048, 5), 0.05, 1e-6);
    ck_assert_double_eq_tol(stats_t_sf(3.364930, 5), 0.01, 1e-6);
    ck_assert_double_eq_tol(stats_t_sf(1.812461, 10), 0.05, 1e-6);
    ck_assert_double_eq_tol(stats_t_sf(2.763262, 28), 0.005, 1e-6);
    ck_assert_double_eq_tol(stats_t_sf(0, 7), 0.5, 1e-12);
    ck_assert_double_eq_tol(stats_t_sf(-2.015048, 5), 0.95, 1e-6);
    /* df -> infinity approaches the normal: P(Z >= 1.959964) = 0.025 */
    ck_assert_double_eq_tol(stats_t_sf(1.959964, 1e7), 0.025, 1e-6);
    ck_assert(isnan(stats_t_sf(1, 0)));
}
END_TEST

START_TEST(test_welch)
{
    /* equal spreads and counts: df = 2(n - 1), t = diff / sqrt(2 sd^2 / n) */
    double df;
    double p = stats_welch_greater(12, 2, 5, 10, 2, 5, &df);
    ck_assert_double_eq_tol(df, 8.0, 1e-12);
    ck_assert_double_eq_tol(p, stats_t_sf(2 / sqrt(1.6), 8), 1e-14);
    /* unequal: Welch-Satterthwaite by hand: v1 = 4/4, v0 = 1/5; df = 1.44 / (1/3 + 0.04/4) */
    p = stats_welch_greater(3, 2, 4, 1, 1, 5, &df);
    ck_assert_double_eq_tol(df, 1.44 / (1.0 / 3 + 0.04 / 4), 1e-12);
    ck_assert(p > 0 && p < 0.5);
    /* a decrease is never significant as an increase */
    ck_assert(stats_welch_greater(10, 1, 5, 12, 1, 5, NULL) > 0.99);
    /* no spread anywhere */
    ck_assert_double_eq(stats_welch_greater(2, 0, 5, 1, 0, 5, NULL), 0.0);
    ck_assert_double_eq(stats_welch_greater(1, 0, 5, 1, 0, 5, NULL), 1.0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_running_mean_sd);
    tcase_add_test(tc, test_binomial_tails_exact);
    tcase_add_test(tc, test_t_distribution);
    tcase_add_test(tc, test_welch);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
