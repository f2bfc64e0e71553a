/* SPDX-License-Identifier: MIT */
/* check_judge_real.c — the default judge on real profiles: a small C++ program built in the
 * test's own project directory, profiled under LD_PRELOAD. Its baseline carries spread, self
 * shares, project-relative source paths and the whole-run metrics; the same runs judged
 * against themselves pass (every function with a Welch p-value); --project-only keeps only
 * the project's functions; a time budget fails; and a real 3x slowdown of one function is a
 * regression of exactly that function. */
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *app_src =
    "#include <cstdlib>\n"
    "namespace app {\n"
    "__attribute__((noinline)) double heavy(long n) { volatile double x = 1;\n"
    "    for (long i = 0; i < n; i++) x = x * 1.0000001 + 1e-9; return x; }\n"
    "__attribute__((noinline)) double light(long n) { volatile double x = 2;\n"
    "    for (long i = 0; i < n; i++) x = x * 0.9999999 + 1e-9; return x; }\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "    long k = argc > 1 ? std::atol(argv[1]) : 1;\n"
    "    double s = 0;\n"
    "    for (int r = 0; r < 20; r++) s += app::heavy(k * 1500000) + app::light(6000000);\n"
    "    return s < 0;\n"
    "}\n";

static struct tu_result profreg(const char *const *args)
{
    const char *env[] = {"COLUMNS=160", NULL};
    return tu_profreg(args, env, NULL);
}

static void build_app(void)
{
    tu_write_file(tu_in_tmp("src/app.cpp"), app_src);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && g++ -O1 -g -o app src/app.cpp && echo ok", tu_tmp);
    char *out = tu_shell(cmd);
    ck_assert_msg(out && strstr(out, "ok"), "g++ failed");
    free(out);
}

static void profile_app(int runs, const char *factor)
{
    char outdir[4096];
    snprintf(outdir, sizeof outdir, "PROFREG_OUTPUT=%s/profile_results/app/", tu_tmp);
    for (int i = 0; i < runs; i++) {
        const char *argv[] = {tu_build_path("profreg"), "record", "--",
                              tu_in_tmp("app"),         factor,   NULL};
        const char *env[] = {outdir, "PROFREG_QUIET=1", NULL};
        struct tu_result r = tu_run(argv, env, NULL);
        ck_assert_msg(r.status == 0, "record: %s", tu_tail(r.err));
        tu_result_free(&r);
    }
}

static json_t *fn(json_t *report, const char *name)
{
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(report, "functions"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            return e;
    }
    return NULL;
}

static json_t *metric(json_t *report, const char *key)
{
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(report, "metrics"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), key) == 0)
            return e;
    }
    return NULL;
}

/* Runs compare with args after "compare --root ROOT --executable app --report R"; returns
 * the exit status and the parsed report in *rep. */
static int compare(const char *report_name, const char *const *extra, json_t **rep)
{
    const char *args[32] = {
        "compare", "--root", tu_tmp, "--executable", "app", "--report", tu_in_tmp(report_name)};
    size_t n = 7;
    for (size_t i = 0; extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    struct tu_result r = profreg(args);
    int status = r.status;
    ck_assert_msg(status == 0 || status == 1, "compare: exit %d: %s", status, tu_tail(r.err));
    tu_result_free(&r);
    *rep = tu_load_json(tu_in_tmp(report_name));
    return status;
}

START_TEST(test_real_profiles)
{
    build_app();
    profile_app(3, "1");
    const char *set[] = {"baseline", "set", "--root", tu_tmp, "--executable", "app", NULL};
    struct tu_result r = profreg(set);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);

    /* the baseline: spread, self, a project-relative path, whole-run metrics */
    json_t *b = tu_load_json(tu_in_tmp("baselines/app/baseline.json"));
    json_t *s = json_object_get(b, "summary");
    ck_assert(json_is_number(json_object_get(s, "sd_total_samples")));
    ck_assert(json_is_number(json_object_get(json_object_get(s, "wall_time_ms"), "median")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "peak_rss_kb"), "runs")),
                     3);
    json_t *e, *heavy = NULL;
    size_t i;
    json_array_foreach(json_object_get(b, "top_functions"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), "app::heavy(long)") == 0)
            heavy = e;
    }
    ck_assert_ptr_nonnull(heavy);
    ck_assert_str_eq(json_string_value(json_object_get(heavy, "source_path")), "src/app.cpp");
    ck_assert(json_is_number(json_object_get(heavy, "sd_percentage")));
    ck_assert(json_is_number(json_object_get(heavy, "self_mean_percentage")));
    json_decref(b);

    /* the same runs against themselves: nothing regressed, every function tested by Welch */
    const char *strict[] = {"--strict", NULL};
    json_t *rep;
    ck_assert_int_eq(compare("same.json", strict, &rep), 0);
    json_array_foreach(json_object_get(rep, "functions"), i, e)
    {
        ck_assert_str_eq(json_string_value(json_object_get(e, "test")), "welch");
        ck_assert(json_is_number(json_object_get(e, "p_value")));
        ck_assert_str_eq(json_string_value(json_object_get(e, "status")), "PASS");
    }
    json_t *wall = metric(rep, "wall_time_ms");
    ck_assert_str_eq(json_string_value(json_object_get(wall, "status")), "PASS");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rep, "summary"), "verdict")),
                     "PASS");
    json_decref(rep);

    /* --project-only: the project's three functions, nothing of libc; main is in every
     * sample, so it takes no slot and is listed as such (and so would heavy be, were it
     * above 2/3 of the samples: it could not grow by 50 %) */
    const char *proj[] = {"--project-only", NULL};
    ck_assert_int_eq(compare("proj.json", proj, &rep), 0);
    json_t *slotless = json_object_get(json_object_get(rep, "summary"), "not_given_a_slot");
    ck_assert_ptr_null(fn(rep, "main"));
    bool main_listed = false;
    json_array_foreach(slotless, i, e)
    {
        main_listed |= strcmp(json_string_value(e), "main") == 0;
    }
    ck_assert(main_listed);
    ck_assert_int_eq(json_array_size(json_object_get(rep, "functions")) + json_array_size(slotless), 3);
    ck_assert(fn(rep, "app::light(long)") || fn(rep, "app::heavy(long)"));
    json_decref(rep);

    /* --metric self: judged on self shares; main has none of its own */
    const char *self[] = {"--metric", "self", "--strict", NULL};
    ck_assert_int_eq(compare("self.json", self, &rep), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rep, "metadata"), "metric")),
                     "self");
    json_t *m = fn(rep, "app::light(long)");
    ck_assert_double_eq(json_number_value(json_object_get(m, "current_percentage")),
                        json_number_value(json_object_get(m, "current_self_percentage")));
    json_decref(rep);

    /* a budget no run can meet: fails --strict whatever the baseline says */
    const char *budget[] = {
        "--max-time-ms",        "1", "--strict", "--junit", tu_in_tmp("budget.xml"), "--markdown",
        tu_in_tmp("budget.md"), NULL};
    ck_assert_int_eq(compare("budget.json", budget, &rep), 1);
    wall = metric(rep, "wall_time_ms");
    ck_assert_str_eq(json_string_value(json_object_get(wall, "status")), "REGRESSION");
    ck_assert(json_is_true(json_object_get(wall, "over_budget")));
    json_decref(rep);
    tu_assert_xml(tu_in_tmp("budget.xml"));
    char *junit = tu_read_file(tu_in_tmp("budget.xml")), *md = tu_read_file(tu_in_tmp("budget.md"));
    ck_assert_msg(strstr(junit, "type=\"budget\""), "%s", junit);
    ck_assert_msg(strstr(md, "(over budget)"), "%s", md);
    free(junit);
    free(md);

    /* app::heavy three times slower: exactly it regressed */
    profile_app(3, "3");
    ck_assert_int_eq(
        compare("slow.json", (const char *const[]){"--runs", "3", "--strict", NULL}, &rep), 1);
    json_array_foreach(json_object_get(rep, "functions"), i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *status = json_string_value(json_object_get(e, "status"));
        ck_assert_msg(
            strcmp(status, strcmp(name, "app::heavy(long)") == 0 ? "REGRESSION" : "PASS") == 0,
            "%s: %s", name, status);
    }
    m = fn(rep, "app::heavy(long)");
    ck_assert(json_number_value(json_object_get(m, "p_value")) < 0.01);
    json_decref(rep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("judge_real");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_real_profiles);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
