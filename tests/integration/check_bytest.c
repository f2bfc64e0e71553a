/* SPDX-License-Identifier: MIT */
/* check_bytest.c — per-test attribution end to end: the bytest_gtest workload (a known split
 * of CPU between its tests, fixed by work counts) profiled under libprofreg.so, report
 * --by-test, the baseline's tests section, compare --by-test on a slowed test (table, report
 * JSON, Markdown, --strict with and without --fail-on-test-time), bad input, programs without
 * tests, and the realistic gtest_sim / bench_sim workloads when they are built. Builds nothing
 * itself: the Makefile builds the workloads. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shares of the process's CPU time, from the work counts in bytest_gtest.cpp. */
#define HEAVY_SHARE  (700.0 / 1200 * 100)
#define LIGHT_SHARE  (300.0 / 1200 * 100)
#define SETUP_SHARE  (100.0 / 1200 * 100)
#define BODY_SHARE   (100.0 / 1200 * 100)
#define TOLERANCE_PP 3.0 /* points: a call is counted to within one 4 ms tick (burn.h) */

static bool one_line(const char *s)
{
    const char *nl = strchr(s, '\n');
    return nl && nl[1] == '\0';
}

/* Runs `profreg record` of bytest_gtest into ROOT/profile_results/bytest_gtest/. */
static void record_run(const char *root, bool slow)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/profile_results/bytest_gtest/", root);
    const char *args[] = {"record", "-q", "-o", dir, "--", tu_build_path("workloads/bytest_gtest"),
                          NULL};
    const char *env[] = {"PROFREG_LIB=", "BYTEST_SCALE=3", slow ? "BYTEST_SLOW_LIGHT=1" : NULL,
                         NULL};
    struct tu_result r = tu_profreg(args, env, NULL);
    ck_assert_msg(r.status == 0, "bytest_gtest exited %d: %s", r.status, tu_tail(r.err));
    tu_result_free(&r);
}

static struct tu_result profreg_in(const char *root, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    for (; args[n] && n < 36; n++)
        argv[n] = args[n];
    argv[n++] = "--root";
    argv[n++] = root;
    argv[n] = NULL;
    const char *env[] = {"PROFREG_LIB=", NULL};
    return tu_profreg(argv, env, NULL);
}

static json_t *find_named(json_t *arr, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            return e;
    }
    return NULL;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

static void expect_share(json_t *tests, const char *name, double share)
{
    json_t *t = find_named(tests, name);
    ck_assert_msg(t != NULL, "no test %s in the baseline", name);
    ck_assert_str_eq(json_string_value(json_object_get(t, "kind")), "gtest");
    double got = num(t, "mean_share");
    ck_assert_msg(fabs(got - share) <= TOLERANCE_PP, "%s: %.2f %% of CPU, expected %.2f ± %.1f",
                  name, got, share, TOLERANCE_PP);
    ck_assert_double_eq(num(t, "runs"), 3);
    ck_assert(num(t, "mean_ms") > 0);
}

START_TEST(test_known_split_and_judging)
{
    char root[4200], base[4300], rep[4300], md[4300], rep2[4300], rep3[4300];
    snprintf(root, sizeof root, "%s", tu_tmp);
    for (int i = 0; i < 3; i++)
        record_run(root, false);

    /* report --by-test: every test, heaviest first */
    char **files;
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/profile_results/bytest_gtest", root);
    size_t n = tu_list_profiles(dir, &files);
    ck_assert_uint_eq(n, 3);
    const char *rargs[] = {"report", "--by-test", "--no-color", files[0], files[1], files[2], NULL};
    const char *env[] = {"PROFREG_LIB=", NULL};
    struct tu_result r = tu_profreg(rargs, env, NULL);
    ck_assert_int_eq(r.status, 0);
    const char *heavy = strstr(r.out, "Split.Heavy"), *light = strstr(r.out, "Split.Light");
    ck_assert_msg(heavy && light && heavy < light, "%s", tu_tail(r.out));
    ck_assert_ptr_nonnull(strstr(r.out, "Fix (SetUp/TearDown)"));
    ck_assert_ptr_nonnull(strstr(r.out, "Fix.Body"));
    ck_assert_ptr_null(strstr(r.out, "testing::"));
    tu_result_free(&r);
    tu_free_list(files, n);

    /* the baseline keeps each test's share and time: the known split */
    const char *set[] = {"baseline", "set", NULL};
    r = profreg_in(root, set);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    snprintf(base, sizeof base, "%s/baselines/bytest_gtest/baseline.json", root);
    json_t *b = tu_load_json(base);
    json_t *tests = json_object_get(b, "tests");
    ck_assert(json_is_array(tests));
    ck_assert_double_eq(num(b, "test_runs"), 3);
    expect_share(tests, "Split.Heavy", HEAVY_SHARE);
    expect_share(tests, "Split.Light", LIGHT_SHARE);
    expect_share(tests, "Fix (SetUp/TearDown)", SETUP_SHARE);
    expect_share(tests, "Fix.Body", BODY_SHARE);
    ck_assert(json_is_array(json_object_get(b, "test_functions")));
    json_decref(b);

    /* Split.Light doubled: its time regresses, and its TestBody's growth is in that test */
    for (int i = 0; i < 3; i++)
        record_run(root, true);
    snprintf(rep, sizeof rep, "%s/rep.json", root);
    snprintf(md, sizeof md, "%s/sum.md", root);
    const char *cargs[] = {"compare",  "--runs", "3",          "--by-test", "--no-color",
                           "--report", rep,      "--markdown", md,          NULL};
    r = profreg_in(root, cargs);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_ptr_nonnull(strstr(r.out, "Tests (mean CPU ms per run"));
    ck_assert_ptr_nonnull(strstr(r.out, "Regressed functions, by test"));
    tu_result_free(&r);
    json_t *j = tu_load_json(rep);
    json_t *ts = json_object_get(j, "tests");
    ck_assert(json_is_object(ts));
    json_t *lt = find_named(json_object_get(ts, "tests"), "Split.Light");
    ck_assert_ptr_nonnull(lt);
    ck_assert_str_eq(json_string_value(json_object_get(lt, "status")), "REGRESSION");
    ck_assert_msg(num(lt, "diff_percent") > 70 && num(lt, "diff_percent") < 130, "%g",
                  num(lt, "diff_percent"));
    json_t *hv = find_named(json_object_get(ts, "tests"), "Split.Heavy");
    ck_assert_str_eq(json_string_value(json_object_get(hv, "status")), "PASS");
    ck_assert_str_eq(json_string_value(json_object_get(ts, "verdict")), "PASS"); /* report only */
    json_t *fn = find_named(json_object_get(ts, "functions"), "Split_Light_Test::TestBody()");
    ck_assert_msg(fn != NULL, "the regressed TestBody is not explained");
    json_t *top = json_array_get(json_object_get(fn, "tests"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(top, "name")), "Split.Light");
    ck_assert(num(top, "growth_ms") > 0);
    json_decref(j);
    char *mdtext = tu_read_file(md);
    ck_assert_ptr_nonnull(strstr(mdtext, "#### Tests"));
    ck_assert_ptr_nonnull(strstr(mdtext, "| `Split.Light` | gtest |"));
    free(mdtext);

    /* --strict: a regressed test fails only with --fail-on-test-time (functions other than
     * Heavy's left out, whole-run times loosened, so that only the test time remains) */
    snprintf(rep2, sizeof rep2, "%s/rep2.json", root);
    const char *strict[] = {"compare",  "--runs",    "3",     "--by-test",
                            "--strict", "--include", "Heavy", "--time-threshold",
                            "1000",     "--report",  rep2,    "--output-json-only",
                            NULL};
    r = profreg_in(root, strict);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, tu_tail(r.err));
    ck_assert_str_eq(r.out, "");
    tu_result_free(&r);
    snprintf(rep3, sizeof rep3, "%s/rep3.json", root);
    const char *fail[] = {"compare",
                          "--runs",
                          "3",
                          "--by-test",
                          "--strict",
                          "--include",
                          "Heavy",
                          "--time-threshold",
                          "1000",
                          "--report",
                          rep3,
                          "--fail-on-test-time",
                          "--output-json-only",
                          NULL};
    r = profreg_in(root, fail);
    ck_assert_int_eq(r.status, 1);
    tu_result_free(&r);
    j = tu_load_json(rep3);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "tests"), "verdict")),
                     "REGRESSION");
    json_decref(j);

    /* without --by-test compare is as before: no tests section, no table */
    const char *plain[] = {"compare", "--runs", "3", "--no-color", NULL};
    r = profreg_in(root, plain);
    ck_assert_ptr_null(strstr(r.out, "Tests ("));
    const char *at = strstr(r.out, "Report: ");
    ck_assert_ptr_nonnull(at);
    char path[4300];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(at + 8, "\n"), at + 8);
    tu_result_free(&r);
    j = tu_load_json(path);
    ck_assert_ptr_null(json_object_get(j, "tests"));
    json_decref(j);
}
END_TEST

START_TEST(test_bad_input)
{
    const char *env[] = {"PROFREG_LIB=", NULL};
    const char *const *cases[] = {
        (const char *const[]){"compare", "--fail-on-test-time", NULL},
        (const char *const[]){"compare", "--test-threshold", "20", NULL},
        (const char *const[]){"compare", "--by-test", "--test-threshold", "-5", NULL},
        (const char *const[]){"compare", "--by-test", "--test-threshold", "abc", NULL},
        (const char *const[]){"compare", "--by-test", "--test-threshold", NULL},
        (const char *const[]){"compare", "--by-test=yes", NULL},
        (const char *const[]){"report", "--by-test", NULL},
        (const char *const[]){"report", "--by-test", "/nonexistent/profile.json", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct tu_result r = tu_profreg(cases[i], env, NULL);
        ck_assert_msg(r.status == 2, "%s %s: exit %d", cases[i][0], cases[i][1], r.status);
        ck_assert_msg(strncmp(r.err, "profreg: ", 9) == 0 || strstr(r.err, "unrecognized") ||
                          strstr(r.err, "requires an argument") || strstr(r.err, "allow"),
                      "%s", tu_tail(r.err));
        tu_result_free(&r);
    }
    /* invalid JSON */
    tu_write_file(tu_in_tmp("bad.json"), "{\"metadata\": ");
    const char *bad[] = {"report", "--by-test", tu_in_tmp("bad.json"), NULL};
    struct tu_result r = tu_profreg(bad, env, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(one_line(r.err) && strstr(r.err, "bad.json"), "%s", tu_tail(r.err));
    tu_result_free(&r);

    /* a baseline whose tests section is broken: one line naming the key, nothing written */
    char root[4200];
    snprintf(root, sizeof root, "%s/proj", tu_tmp);
    record_run(root, false);
    const char *set[] = {"baseline", "set", NULL};
    r = profreg_in(root, set);
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);
    char base[4300];
    snprintf(base, sizeof base, "%s/baselines/bytest_gtest/baseline.json", root);
    char *text = tu_read_file(base);
    char *broken = tu_replace(text, "\"kind\": \"gtest\"", "\"kind\": \"nunit\"");
    tu_write_file(base, broken);
    char *before = tu_tree_digest(root);
    const char *cmp[] = {"compare", "--by-test", NULL};
    r = profreg_in(root, cmp);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(one_line(r.err) && strstr(r.err, "tests[") && strstr(r.err, "kind"), "%s",
                  tu_tail(r.err));
    tu_result_free(&r);
    char *after = tu_tree_digest(root);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    free(broken);
    free(text);
}
END_TEST

START_TEST(test_no_tests)
{
    /* a program without tests: said, not an error; compare --by-test says it too */
    char root[4200];
    snprintf(root, sizeof root, "%s/plain", tu_tmp);
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/profile_results/chain/", root);
    const char *env[] = {"PROFREG_LIB=", NULL};
    for (int i = 0; i < 2; i++) {
        const char *args[] = {"record", "-q", "-o", dir, "--", tu_build_path("workloads/chain"),
                              NULL};
        struct tu_result r = tu_profreg(args, env, NULL);
        ck_assert_int_eq(r.status, 0);
        tu_result_free(&r);
    }
    char **files;
    size_t n = tu_list_profiles(dir, &files);
    ck_assert_uint_eq(n, 2);
    const char *rargs[] = {"report", "--by-test", files[0], NULL};
    struct tu_result r = tu_profreg(rargs, env, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "no tests recognised"));
    tu_result_free(&r);
    tu_free_list(files, n);
    const char *set[] = {"baseline", "set", NULL};
    r = profreg_in(root, set);
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);
    char base[4300];
    snprintf(base, sizeof base, "%s/baselines/chain/baseline.json", root);
    json_t *b = tu_load_json(base);
    ck_assert_ptr_null(json_object_get(b, "tests")); /* nothing to keep */
    json_decref(b);
    const char *cmp[] = {"compare", "--by-test", "--no-color", NULL};
    r = profreg_in(root, cmp);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "no tests recognised"));
    tu_result_free(&r);
    /* profiles of the Instruments workflow (no stacks): none recognised, and said why */
    const char *old[] = {"report", "--by-test", tu_fixture("msd_sim_bench_top20.json"), NULL};
    r = tu_profreg(old, env, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "without stacks"));
    tu_result_free(&r);
}
END_TEST

/* The realistic workloads another suite owns, when the build has them. */
START_TEST(test_realistic_workloads)
{
    const char *env[] = {"PROFREG_LIB=", NULL};
    if (!tu_exists(tu_build_path("workloads/gtest_sim"))) {
        printf("check_bytest: skipped gtest_sim (not built)\n");
    } else {
        json_t *p = tu_profile_workload(tu_tmp, "gtest_sim", NULL, NULL);
        json_decref(p);
        char path[4300];
        snprintf(path, sizeof path, "%s/gtest_sim.json", tu_tmp);
        const char *args[] = {"report", "--by-test", "--no-color", path, NULL};
        struct tu_result r = tu_profreg(args, env, NULL);
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(strstr(r.out, "HullTest.Cube") && strstr(r.out, "SimFixture") &&
                          strstr(r.out, "[outside tests]"),
                      "%s", tu_tail(r.out));
        tu_result_free(&r);
    }
    if (!tu_exists(tu_build_path("workloads/bench_sim"))) {
        printf("check_bytest: skipped bench_sim (not built)\n");
    } else {
        const char *bargs[] = {"--benchmark_min_time=0.05", NULL};
        json_t *p = tu_profile_workload(tu_tmp, "bench_sim", bargs, NULL);
        json_decref(p);
        char path[4300];
        snprintf(path, sizeof path, "%s/bench_sim.json", tu_tmp);
        const char *args[] = {"report", "--by-test", "--no-color", path, NULL};
        struct tu_result r = tu_profreg(args, env, NULL);
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(strstr(r.out, " benchmark ") && !strstr(r.out, "0 benchmark,"), "%s",
                      tu_tail(r.out));
        tu_result_free(&r);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bytest");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_known_split_and_judging);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_no_tests);
    tcase_add_test(tc, test_realistic_workloads);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
