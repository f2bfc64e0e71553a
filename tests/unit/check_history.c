/* SPDX-License-Identifier: MIT */
/* check_history.c — history lines and change points: a record written and read back; broken
 * lines refused with a reason (truncated, wrong types, missing keys); change points of
 * generated series with noise: one step and two steps found at the indices they were put at,
 * a step smaller than 2 % ignored, and in A/A series (noise only, 200 seeds) almost none. */
#include "testutil.h"

#include "analysis/read/history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A seeded normal deviate (Box-Muller over a 64-bit LCG). */
static double normal(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    double u1 = ((double)(*s >> 11) + 1) / 9007199254740993.0;
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    double u2 = (double)(*s >> 11) / 9007199254740992.0;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

START_TEST(test_round_trip)
{
    struct hist_fn fns[2] = {{"ns::f(int)", 12.5, 3.25}, {"main", 100, NAN}};
    struct hist_test tests[1] = {{"Suite.Case", 41.5, 2}};
    struct hist_record r = {
        "my exe", "abc123", "main", "2026-12-03T10:00:00Z", 0, 5, 1200, 12, 1100, 11, 4096, 0, fns,
        2,        tests,    1};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(history_write_line(f, &r), 0);
    fclose(f);
    ck_assert_msg(len > 0 && buf[len - 1] == '\n' && !memchr(buf, '\n', len - 1), "not one line");
    struct hist_record back;
    char err[256];
    ck_assert_int_eq(history_parse_line(buf, len - 1, &back, err, sizeof err), 0);
    ck_assert_str_eq(back.executable, "my exe");
    ck_assert_str_eq(back.commit, "abc123");
    ck_assert_int_eq(back.dirty, 0);
    ck_assert_uint_eq(back.runs, 5);
    ck_assert(fabs(back.wall_ms - 1200) < 1e-9 && fabs(back.rss_kb - 4096) < 1e-9);
    ck_assert_uint_eq(back.nfns, 2);
    ck_assert_str_eq(back.fns[0].name, "ns::f(int)");
    ck_assert(fabs(back.fns[0].self - 3.25) < 1e-9 && isnan(back.fns[1].self));
    ck_assert_uint_eq(back.ntests, 1);
    ck_assert_str_eq(back.tests[0].name, "Suite.Case");
    ck_assert(fabs(back.tests[0].ms - 41.5) < 1e-9);
    history_record_free(&back);
    free(buf);
}
END_TEST

START_TEST(test_bad_lines)
{
    const char *bad[] = {
        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": 1, \"functi",
        "[1, 2]",
        "{\"profreg_history\": 2, \"executable\": \"x\", \"runs\": 1, \"functions\": []}",
        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": 0, \"functions\": []}",
        "{\"profreg_history\": 1, \"executable\": 3, \"runs\": 1, \"functions\": []}",
        "{\"profreg_history\": 1, \"runs\": 1, \"functions\": []}",
        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": 1, \"functions\": {}}",
        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": 1, \"functions\": [{}]}",
        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": 1, \"functions\": [], "
        "\"wall_time_ms\": {\"median\": \"slow\"}}",
        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": 1, \"functions\": [], "
        "\"dirty\": \"yes\"}",
        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": 1, \"functions\": [], "
        "\"tests\": [{\"name\": \"T.a\", \"cpu_ms\": -1}]}",
        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": 1, \"functions\": [], "
        "\"tests\": 3}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *line = strdup(bad[i]);
        struct hist_record r;
        char err[256] = "";
        ck_assert_msg(history_parse_line(line, strlen(line), &r, err, sizeof err) == -1,
                      "accepted: %s", bad[i]);
        ck_assert_msg(err[0] && !strchr(err, '\n'), "%s: no one-line reason", bad[i]);
        free(line);
    }
}
END_TEST

/* n values: level `base`, times (1 + step) from index k1 (and again from k2 when k2 > 0),
 * with relative noise sd. */
static void series(double *x, size_t n, double base, double step, size_t k1, size_t k2, double sd,
                   uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        double level = base;
        if (i >= k1)
            level *= 1 + step;
        if (k2 && i >= k2)
            level *= 1 + step;
        x[i] = level * (1 + sd * normal(&seed));
    }
}

START_TEST(test_steps_found_where_they_are)
{
    double x[40];
    struct change_point cp[8];
    for (uint64_t seed = 1; seed <= 20; seed++) {
        series(x, 30, 1200, 0.18, 17, 0, 0.02, seed); /* wall time +18 % at 17, 2 % noise */
        size_t n = history_change_points(x, 30, 0.02, cp, 8);
        ck_assert_msg(n == 1 && cp[0].index == 17, "seed %llu: %zu points, first at %zu",
                      (unsigned long long)seed, n, n ? cp[0].index : 0);
        ck_assert(cp[0].after > cp[0].before * 1.1);
        series(x, 40, 20, 0.5, 10, 28, 0.03, seed); /* a share stepping twice */
        n = history_change_points(x, 40, 0.02, cp, 8);
        ck_assert_msg(n == 2 && cp[0].index == 10 && cp[1].index == 28,
                      "seed %llu: %zu points (%zu, %zu)", (unsigned long long)seed, n,
                      n ? cp[0].index : 0, n > 1 ? cp[1].index : 0);
    }
    /* a step below 2 % is not one, however clean */
    series(x, 30, 1000, 0.01, 15, 0, 0, 1);
    ck_assert_uint_eq(history_change_points(x, 30, 0.02, cp, 8), 0);
    /* unknown values are skipped; the step lands on the next known one */
    series(x, 20, 100, 0.3, 10, 0, 0.01, 3);
    x[10] = NAN;
    size_t n = history_change_points(x, 20, 0.02, cp, 8);
    ck_assert_msg(n == 1 && cp[0].index == 11, "%zu points, at %zu", n, n ? cp[0].index : 0);
}
END_TEST

START_TEST(test_noise_alone_rarely_steps)
{
    double x[30];
    struct change_point cp[8];
    unsigned with_points = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        series(x, 30, 1200, 0, 0, 0, 0.03, seed);
        with_points += history_change_points(x, 30, 0.02, cp, 8) > 0;
    }
    ck_assert_msg(with_points <= 2, "%u of 200 A/A series had a change point", with_points);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_bad_lines);
    tcase_add_test(tc, test_steps_found_where_they_are);
    tcase_add_test(tc, test_noise_alone_rarely_steps);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
