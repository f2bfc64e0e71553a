/* SPDX-License-Identifier: MIT */
/* check_compare.c — `profreg compare` and `profreg baseline` end to end: set-baseline round
 * trip, --strict, the real fixtures, --current, several executables, fewer runs than asked,
 * reports never overwritten, console goldens, colours, and every bad input (exit 2, one line
 * naming the file, the tree unchanged). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------- */

static struct tu_result run(const char *const *args)
{
    const char *env[] = {"COLUMNS=100", NULL};
    return tu_profreg(args, env, NULL);
}

/* A profile of the given runs directory entry: fns are "name|percentage|samples". */
static void write_run(const char *exe, const char *file, const char *ts, unsigned total,
                      const char *const *fns)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f,
            "{\"metadata\": {\"trace_file\": \"%s\", \"template\": \"Time Profiler\", "
            "\"export_timestamp\": \"%s\", \"executable\": \"/opt/bin/%s\"},\n"
            " \"summary\": {\"total_samples\": %u, \"total_time_ms\": %u.0},\n"
            " \"top_functions\": [",
            file, ts, exe, total, total);
    for (size_t i = 0; fns[i]; i++) {
        char name[256];
        double pct;
        unsigned samples;
        ck_assert(sscanf(fns[i], "%255[^|]|%lf|%u", name, &pct, &samples) == 3);
        fprintf(f,
                "%s\n  {\"rank\": %zu, \"name\": \"%s\", \"samples\": %u, \"percentage\": %.2f, "
                "\"source_file\": null, \"line\": null}",
                i ? "," : "", i + 1, name, samples, pct);
    }
    fprintf(f, "]}\n");
    fclose(f);
    char rel[512];
    snprintf(rel, sizeof rel, "profile_results/%s/%s", exe, file);
    tu_write_file(tu_in_tmp(rel), text);
    free(text);
}

/* Three runs of "sim" where Solver::step takes 40/42/44 % and Mesh::refine 20 %. */
static void three_runs(const char *exe)
{
    const char *r1[] = {"main|100|1000", "Solver::step(double)|40|400", "Mesh::refine()|20|200",
                        "io::write(int)|5|50", NULL};
    const char *r2[] = {"main|100|1000", "Solver::step(double)|42|420", "Mesh::refine()|20|200",
                        "io::write(int)|4|40", NULL};
    const char *r3[] = {"main|100|1000", "Solver::step(double)|44|440", "Mesh::refine()|20|200",
                        NULL};
    write_run(exe, "profile_20261124_100000_000001_11.json", "2026-11-24T10:00:00Z", 1000, r1);
    write_run(exe, "profile_20261124_100100_000001_12.json", "2026-11-24T10:01:00Z", 1000, r2);
    write_run(exe, "profile_20261124_100200_000001_13.json", "2026-11-24T10:02:00Z", 1000, r3);
}

/* The newest comparison report in profile_results/EXE (parsed), or NULL. */
static json_t *newest_report(const char *exe)
{
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "ls %s/profile_results/%s/comparison_*.json 2>/dev/null | tail -n 1",
             tu_tmp, exe);
    char *out = tu_shell(cmd);
    if (!out || !*out) {
        free(out);
        return NULL;
    }
    out[strcspn(out, "\n")] = '\0';
    json_t *j = tu_load_json(out);
    free(out);
    return j;
}

static size_t count_reports(const char *exe)
{
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "ls %s/profile_results/%s | grep -c '^comparison_' || true", tu_tmp,
             exe);
    char *out = tu_shell(cmd);
    size_t n = out ? strtoul(out, NULL, 10) : 0;
    free(out);
    return n;
}

static json_t *report_function(json_t *report, const char *name)
{
    json_t *arr = json_object_get(report, "functions"), *e;
    size_t i;
    json_array_foreach(arr, i, e) if (strcmp(json_string_value(json_object_get(e, "name")), name) ==
                                      0) return e;
    return NULL;
}

static bool one_line(const char *s)
{
    const char *nl = strchr(s, '\n');
    return nl && nl[1] == '\0';
}

/* ---- behaviour -------------------------------------------------------------------------- */

START_TEST(test_set_baseline_round_trip)
{
    three_runs("sim");
    const char *set[] = {"compare", "--root", tu_tmp, "--set-baseline", NULL};
    struct tu_result r = run(set);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "3 runs averaged"), "%s", tu_tail(r.out));
    tu_result_free(&r);
    json_t *b = tu_load_json(tu_in_tmp("baselines/sim/baseline.json"));
    json_t *m = json_object_get(b, "metadata");
    ck_assert_int_eq(json_integer_value(json_object_get(m, "runs_averaged")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(m, "executable")), "sim");
    ck_assert_str_eq(json_string_value(json_object_get(m, "average_timestamp")),
                     "2026-11-24T10:01:00Z");
    /* io::write appears in 2 of 3 runs: (5 + 4) / 2 */
    json_t *fns = json_object_get(b, "top_functions"), *e;
    size_t i;
    double io = -1, step = -1;
    json_array_foreach(fns, i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));
        double v = json_number_value(json_object_get(e, "avg_percentage"));
        if (strcmp(n, "io::write(int)") == 0)
            io = v;
        if (strcmp(n, "Solver::step(double)") == 0)
            step = v;
    }
    ck_assert_double_eq_tol(io, 4.5, 1e-9);
    ck_assert_double_eq_tol(step, 42.0, 1e-9);
    json_decref(b);

    /* the same runs against their own baseline: nothing regressed, also under --strict; main
     * (in every sample) takes no slot; io::write, in 2 runs of 3 (5 % and 4 %), is too
     * noisy for 3 runs to have seen a 50 % growth: INCONCLUSIVE, not a silent PASS */
    const char *cmp[] = {"compare", "--root", tu_tmp, "--strict", "--no-color", NULL};
    r = run(cmp);
    ck_assert_msg(r.status == 0, "%s%s", tu_tail(r.out), tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "3 compared, 2 passed, 0 regressed, 1 inconclusive"), "%s",
                  tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "Not given a slot") && strstr(r.out, "main"), "%s", tu_tail(r.out));
    tu_result_free(&r);
    json_t *rep = newest_report("sim");
    ck_assert_ptr_nonnull(rep);
    json_t *s = json_object_get(rep, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "total_compared")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "regressed")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "inconclusive")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(s, "verdict")), "INCONCLUSIVE");
    ck_assert_int_eq(json_array_size(json_object_get(s, "new_hotspots")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(s, "disappeared")), 0);
    json_t *rm = json_object_get(rep, "metadata");
    ck_assert_int_eq(json_integer_value(json_object_get(rm, "runs_averaged")), 3);
    ck_assert_double_eq(json_number_value(json_object_get(rm, "threshold_percent")), 50.0);
    ck_assert_str_eq(json_string_value(json_object_get(rm, "baseline_timestamp")),
                     "2026-11-24T10:01:00Z");
    json_decref(rep);
}
END_TEST

START_TEST(test_strict_exit_and_regression_named)
{
    three_runs("sim");
    const char *set[] = {"baseline", "set", "--root", tu_tmp, NULL};
    struct tu_result r = run(set);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    /* a new run where Mesh::refine went from 20 % to 31 % (+55 %) */
    const char *r4[] = {"main|100|1000", "Solver::step(double)|42|420", "Mesh::refine()|31|310",
                        "io::write(int)|4|40", NULL};
    write_run("sim", "profile_20261124_110000_000001_14.json", "2026-11-24T11:00:00Z", 1000, r4);
    const char *strict[] = {"compare", "--root", tu_tmp, "--runs", "1", "--strict", NULL};
    r = run(strict);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.out, "Mesh::refine()") && strstr(r.out, "REGRESSION"), "%s",
                  tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "+55.0%"), "%s", tu_tail(r.out));
    tu_result_free(&r);
    json_t *rep = newest_report("sim");
    json_t *f = report_function(rep, "Mesh::refine()");
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(json_string_value(json_object_get(f, "status")), "REGRESSION");
    ck_assert_double_eq_tol(json_number_value(json_object_get(f, "diff_percent")), 55.0, 1e-9);
    ck_assert_double_eq_tol(json_number_value(json_object_get(f, "baseline_percentage")), 20.0,
                            1e-9);
    json_decref(rep);
    /* without --strict a regression is reported but the exit is 0 */
    const char *lenient[] = {"compare", "--root", tu_tmp, "--runs", "1", NULL};
    r = run(lenient);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "1 regressed"), "%s", tu_tail(r.out));
    tu_result_free(&r);
    /* --threshold 60: +55 % passes */
    const char *loose[] = {"compare",  "--root",      tu_tmp, "--runs", "1",
                           "--strict", "--threshold", "60",   NULL};
    r = run(loose);
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);
}
END_TEST

/* The Instruments workflow's real files: a baseline made from the full recording, judged against
 * its own top-20 export and its project-only export. Expected verdicts computed by hand
 * from the files (ties in rank keep the files' order). */
START_TEST(test_fixtures)
{
    const char *set[] = {"compare",
                         "--root",
                         tu_tmp,
                         "--executable",
                         "msd_sim_bench",
                         "--current",
                         tu_fixture("msd_sim_bench_all.json"),
                         "--set-baseline",
                         NULL};
    struct tu_result r = run(set);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "247 of 808 functions kept"), "%s", tu_tail(r.out));
    tu_result_free(&r);

    /* top20 is the first 20 entries of the same recording: its top 10 equals the baseline's
     * top 10, every diff is 0, nothing new, nothing gone. */
    const char *top20[] = {"compare",
                           "--root",
                           tu_tmp,
                           "--executable",
                           "msd_sim_bench",
                           "--current",
                           tu_fixture("msd_sim_bench_top20.json"),
                           "--strict",
                           "--compat",
                           NULL};
    r = run(top20);
    ck_assert_msg(r.status == 0, "%s%s", tu_tail(r.out), tu_tail(r.err));
    tu_result_free(&r);
    json_t *rep = newest_report("msd_sim_bench");
    json_t *s = json_object_get(rep, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "total_compared")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "passed")), 10);
    ck_assert_int_eq(json_array_size(json_object_get(s, "new_hotspots")), 0);
    json_t *f = report_function(rep, "__vfprintf");
    ck_assert_double_eq(json_number_value(json_object_get(f, "diff_percent")), 0.0);
    ck_assert_double_eq(json_number_value(json_object_get(f, "current_percentage")), 0.9);
    json_decref(rep);

    /* project_only: of its top 10 only extractHullData and computeCentroid (0.3 % each, rank
     * 7 and 8 in the full recording) are in the baseline's top 10: 2 compared, both PASS at
     * 0 %; the other 8 are new hotspots; the baseline's other 8 disappeared. */
    const char *proj[] = {"compare",
                          "--root",
                          tu_tmp,
                          "--executable",
                          "msd_sim_bench",
                          "--current",
                          tu_fixture("msd_sim_bench_project_only.json"),
                          "--compat",
                          NULL};
    sleep(1); /* a new report name; the old one is never overwritten anyway */
    r = run(proj);
    ck_assert_msg(r.status == 0, "%s%s", tu_tail(r.out), tu_tail(r.err));
    tu_result_free(&r);
    rep = newest_report("msd_sim_bench");
    s = json_object_get(rep, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "total_compared")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "passed")), 2);
    ck_assert_int_eq(json_array_size(json_object_get(s, "new_hotspots")), 8);
    ck_assert_int_eq(json_array_size(json_object_get(s, "disappeared")), 8);
    ck_assert_ptr_nonnull(report_function(rep, "msd_sim::ConvexHull::extractHullData(qhT*)"));
    ck_assert_ptr_nonnull(report_function(rep, "msd_sim::ConvexHull::computeCentroid()"));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(s, "disappeared"), 0)),
                     "__vfprintf");
    /* new hotspots in current rank order: rank 3 first, and rank 10 (0.0 %) last */
    json_t *nh = json_object_get(s, "new_hotspots");
    ck_assert_str_eq(json_string_value(json_array_get(nh, 2)),
                     "msd_sim::Coordinate::Coordinate(double, double, double)");
    ck_assert_str_eq(json_string_value(json_array_get(nh, 7)),
                     "msd_sim::ConvexHull::ConvexHull<msd_sim::Coordinate>(std::__1::vector<"
                     "msd_sim::Coordinate, std::__1::allocator<msd_sim::Coordinate>> const&)");
    json_decref(rep);
}
END_TEST

START_TEST(test_current_file_is_really_used)
{
    three_runs("sim");
    const char *set[] = {"compare", "--root", tu_tmp, "--set-baseline", NULL};
    struct tu_result r = run(set);
    tu_result_free(&r);
    /* a file outside the results directory with Solver::step at 80 %: only it is judged */
    const char *fns[] = {"main|100|1000", "Solver::step(double)|80|800", NULL};
    write_run("elsewhere", "profile_20261124_120000_000001_99.json", "2026-11-24T12:00:00Z", 1000,
              fns);
    const char *cmp[] = {
        "compare",
        "--root",
        tu_tmp,
        "--executable",
        "sim",
        "--current",
        tu_in_tmp("profile_results/elsewhere/profile_20261124_120000_000001_99.json"),
        NULL};
    r = run(cmp);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    json_t *rep = newest_report("sim");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(rep, "metadata"), "runs_averaged")), 1);
    json_t *f = report_function(rep, "Solver::step(double)");
    ck_assert_double_eq_tol(json_number_value(json_object_get(f, "current_percentage")), 80.0,
                            1e-9);
    ck_assert_str_eq(json_string_value(json_object_get(f, "status")), "REGRESSION");
    json_decref(rep);
}
END_TEST

START_TEST(test_several_executables)
{
    three_runs("msd_sim_test");
    const char *bench[] = {"main|100|500", "Bench::run()|70|350", NULL};
    write_run("msd_sim_bench", "profile_20261124_100000_000001_21.json", "2026-11-24T10:00:00Z",
              500, bench);
    /* no --executable with two of them: exit 2 naming both */
    const char *ambiguous[] = {"compare", "--root", tu_tmp, NULL};
    struct tu_result r = run(ambiguous);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(one_line(r.err) && strstr(r.err, "msd_sim_bench, msd_sim_test") &&
                      strstr(r.err, "--executable"),
                  "%s", tu_tail(r.err));
    tu_result_free(&r);
    /* each gets its own baseline and its own reports */
    const char *exes[] = {"msd_sim_test", "msd_sim_bench"};
    for (int i = 0; i < 2; i++) {
        const char *set[] = {"compare", "--root",         tu_tmp, "--executable",
                             exes[i],   "--set-baseline", NULL};
        r = run(set);
        ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
        tu_result_free(&r);
        const char *cmp[] = {"compare", "--root",   tu_tmp, "--executable",
                             exes[i],   "--strict", NULL};
        r = run(cmp);
        ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
        tu_result_free(&r);
        ck_assert_uint_eq(count_reports(exes[i]), 1);
    }
    json_t *b = tu_load_json(tu_in_tmp("baselines/msd_sim_bench/baseline.json"));
    ck_assert_int_eq(json_array_size(json_object_get(b, "top_functions")), 2);
    json_decref(b);
    b = tu_load_json(tu_in_tmp("baselines/msd_sim_test/baseline.json"));
    ck_assert_int_eq(json_array_size(json_object_get(b, "top_functions")), 4);
    json_decref(b);
}
END_TEST

START_TEST(test_fewer_runs_than_asked)
{
    three_runs("sim");
    const char *set[] = {"compare", "--root", tu_tmp, "--set-baseline", "--runs", "2", NULL};
    struct tu_result r = run(set);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.err, "");
    tu_result_free(&r);
    json_t *b = tu_load_json(tu_in_tmp("baselines/sim/baseline.json"));
    /* the newest two: step (42 + 44) / 2 */
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(b, "metadata"), "runs_averaged")), 2);
    json_decref(b);
    const char *cmp[] = {"compare", "--root", tu_tmp, "--runs", "9", NULL};
    r = run(cmp);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.err, "has 3 runs, fewer than --runs 9; used 3"), "%s", tu_tail(r.err));
    tu_result_free(&r);
    json_t *rep = newest_report("sim");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(rep, "metadata"), "runs_averaged")), 3);
    json_decref(rep);
}
END_TEST

START_TEST(test_report_never_overwritten)
{
    three_runs("sim");
    const char *set[] = {"compare", "--root", tu_tmp, "--set-baseline", NULL};
    struct tu_result r = run(set);
    tu_result_free(&r);
    /* occupy the names of this second and the next few with foreign files */
    time_t now = time(NULL);
    for (int d = 0; d < 4; d++) {
        time_t t = now + d;
        struct tm tm;
        gmtime_r(&t, &tm);
        char rel[256];
        strftime(rel, sizeof rel, "profile_results/sim/comparison_%Y%m%d_%H%M%S.json", &tm);
        tu_write_file(tu_in_tmp(rel), "precious\n");
    }
    const char *cmp[] = {"compare", "--root", tu_tmp, "--output-json-only", NULL};
    r = run(cmp);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_str_eq(r.out, ""); /* --output-json-only */
    tu_result_free(&r);
    ck_assert_uint_eq(count_reports("sim"), 5);
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "cat %s/profile_results/sim/comparison_*.json | grep -c precious",
             tu_tmp);
    char *out = tu_shell(cmd);
    ck_assert_str_eq(out, "4\n");
    free(out);
}
END_TEST

/* --report FILE names the file: an existing one is replaced (only generated names never are);
 * --project-only that leaves nothing to judge says so, naming the root and --root. */
START_TEST(test_named_report_replaced_and_empty_project_said)
{
    three_runs("sim");
    const char *set[] = {"compare", "--root", tu_tmp, "--set-baseline", NULL};
    struct tu_result r = run(set);
    tu_result_free(&r);
    const char *named = tu_in_tmp("mine.json");
    tu_write_file(named, "old contents\n");
    const char *cmp[] = {"compare", "--root", tu_tmp, "--report", named, "--output-json-only",
                         NULL};
    r = run(cmp);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    json_t *rep = tu_load_json(named);
    ck_assert(json_is_object(json_object_get(rep, "summary")));
    json_decref(rep);
    /* these profiles name no source file: under --project-only nothing is judged */
    const char *po[] = {"compare", "--root", tu_tmp, "--project-only", "--output-json-only", NULL};
    r = run(po);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.err, "--project-only: no sampled function") &&
                      strstr(r.err, "or give it with --root DIR)\n"),
                  "%s", tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

/* The console table, byte for byte (without colour), against a reviewed golden file. */
START_TEST(test_console_golden)
{
    three_runs("sim");
    tu_write_file(
        tu_in_tmp("baselines/sim/baseline.json"),
        "{\"metadata\": {\"runs_averaged\": 5, \"executable\": \"sim\", "
        "\"average_timestamp\": \"2026-11-20T08:00:00Z\", \"git_commit\": "
        "\"89abcdef0123456789abcdef0123456789abcdef\"},\n"
        " \"summary\": {\"avg_total_samples\": 1000},\n"
        " \"top_functions\": [\n"
        "  {\"name\": \"main\", \"avg_percentage\": 100, \"avg_samples\": 1000},\n"
        "  {\"name\": \"Solver::step(double)\", \"avg_percentage\": 25, "
        "\"avg_samples\": 250},\n"
        "  {\"name\": \"Mesh::refine()\", \"avg_percentage\": 20, \"avg_samples\": 200},\n"
        "  {\"name\": "
        "\"physics::collision::detail::NarrowPhaseDispatcher<physics::shapes::"
        "ConvexPolyhedron, physics::shapes::Sphere>::dispatch(physics::shapes::"
        "ConvexPolyhedron const&, physics::shapes::Sphere const&, physics::Manifold&) "
        "const\", \"avg_percentage\": 9, \"avg_samples\": 90},\n"
        "  {\"name\": \"zero()\", \"avg_percentage\": 0, \"avg_samples\": 0}]}\n");
    const char *r4[] = {"main|100|1000", "Solver::step(double)|44|440", "Mesh::refine()|20|200",
                        "zero()|3|30", NULL};
    write_run("sim", "profile_20261124_100300_000001_14.json", "2026-11-24T10:03:00Z", 1000, r4);
    const char *cmp[] = {"compare", "--root", tu_tmp, "--no-color", "--top",
                         "5",       "--runs", "4",    "--compat",   NULL};
    struct tu_result r = run(cmp);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    char *a = tu_replace(r.out, tu_tmp, "ROOT");
    /* the report's name carries the clock: mask its stamp */
    char *stamp = strstr(a, "comparison_");
    ck_assert_ptr_nonnull(stamp);
    memset(stamp + 11, 'X', 15);
    char *want = tu_read_file(tu_src_path("tests/golden/compare_table.txt"));
    ck_assert_ptr_nonnull(want);
    ck_assert_msg(strcmp(a, want) == 0, "got:\n%s\nwant:\n%s", a, want);
    /* not a terminal: no colour even without --no-color */
    tu_result_free(&r);
    const char *plain[] = {"compare", "--root", tu_tmp, "--top", "5", NULL};
    r = run(plain);
    ck_assert_ptr_null(strchr(r.out, '\033'));
    tu_result_free(&r);
    free(a);
    free(want);
}
END_TEST

/* Colours on a terminal (through script(1)), and NO_COLOR / --no-color turning them off. */
START_TEST(test_colours_on_a_terminal)
{
    char *have = tu_shell("command -v script || true");
    if (!have || !*have) {
        fprintf(stderr, "skipped: script(1) (util-linux) is not installed\n");
        free(have);
        return;
    }
    free(have);
    three_runs("sim");
    const char *set[] = {"compare", "--root", tu_tmp, "--set-baseline", NULL};
    struct tu_result r = run(set);
    tu_result_free(&r);
    const char *r4[] = {"main|100|1000", "Solver::step(double)|42|420", "Mesh::refine()|31|310",
                        "fresh()|50|500", NULL};
    write_run("sim", "profile_20261124_110000_000001_14.json", "2026-11-24T11:00:00Z", 1000, r4);
    struct {
        const char *extra, *env;
        bool colour;
    } cases[] = {{"", "", true}, {"--no-color", "", false}, {"", "NO_COLOR=1", false}};
    for (int i = 0; i < 3; i++) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd,
                 "env %s script -qec \"%s compare --root %s --runs 1 %s\" /dev/null", cases[i].env,
                 tu_build_path("profreg"), tu_tmp, cases[i].extra);
        char *out = tu_shell(cmd);
        ck_assert_ptr_nonnull(out);
        if (cases[i].colour) {
            ck_assert_msg(strstr(out, "\033[0;31mREGRESSION"), "case %d: %s", i, out);
            ck_assert_msg(strstr(out, "\033[0;32mPASS"), "case %d", i);
            ck_assert_msg(strstr(out, "\033[1;33mNEW"), "case %d", i);
            ck_assert_msg(strstr(out, "\033[0;34m"), "case %d", i);
        } else {
            ck_assert_msg(!strchr(out, '\033'), "case %d: %s", i, out);
        }
        free(out);
    }
}
END_TEST

START_TEST(test_baseline_show_and_reset)
{
    three_runs("sim");
    const char *set[] = {"baseline", "set", "--root", tu_tmp, NULL};
    struct tu_result r = run(set);
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);
    const char *show[] = {"baseline", "show", "--root", tu_tmp, NULL};
    r = run(show);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "runs:        3 averaged, mean time 2026-11-24T10:01:00Z"), "%s",
                  tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "profreg:     "), "%s", tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "Solver::step(double)") && strstr(r.out, "42.000"), "%s",
                  tu_tail(r.out));
    tu_result_free(&r);
    const char *reset[] = {"baseline", "reset", "--root", tu_tmp, NULL};
    r = run(reset);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "deleting ") && strstr(r.out, "3 averaged") &&
                      strstr(r.out, "deleted "),
                  "%s", tu_tail(r.out));
    tu_result_free(&r);
    ck_assert(!tu_exists(tu_in_tmp("baselines/sim/baseline.json")));
    ck_assert(!tu_exists(tu_in_tmp("baselines/sim")));
    /* nothing left to reset or show: exit 2 */
    r = run(reset);
    ck_assert_int_eq(r.status, 2);
    ck_assert(one_line(r.err));
    tu_result_free(&r);
}
END_TEST

START_TEST(test_git_commit_recorded)
{
    char *git = tu_shell("command -v git || true");
    if (!git || !*git) {
        fprintf(stderr, "skipped: git is not installed\n");
        free(git);
        return;
    }
    free(git);
    three_runs("sim");
    char cmd[4600];
    snprintf(cmd, sizeof cmd,
             "cd %s && git init -q . && git -c user.name=t -c user.email=t@t commit -q "
             "--allow-empty -m init && git rev-parse HEAD",
             tu_tmp);
    char *head = tu_shell(cmd);
    ck_assert_ptr_nonnull(head);
    head[strcspn(head, "\n")] = '\0';
    const char *set[] = {"baseline", "set", "--root", tu_tmp, NULL};
    struct tu_result r = run(set);
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);
    json_t *b = tu_load_json(tu_in_tmp("baselines/sim/baseline.json"));
    json_t *m = json_object_get(b, "metadata");
    ck_assert_str_eq(json_string_value(json_object_get(m, "git_commit")), head);
    ck_assert(json_is_false(json_object_get(m, "git_dirty")));
    ck_assert_str_eq(json_string_value(json_object_get(m, "profreg_version")), PROFREG_VERSION);
    json_decref(b);
    free(head);
}
END_TEST

/* scripts/compare-profiles: the Instruments workflow's command name, same options and exit codes */
START_TEST(test_compare_profiles_wrapper)
{
    three_runs("sim");
    const char *set[] = {"compare", "--root", tu_tmp, "--set-baseline", NULL};
    struct tu_result r = run(set);
    tu_result_free(&r);
    const char *r4[] = {"main|100|1000", "Solver::step(double)|90|900", NULL};
    write_run("sim", "profile_20261124_110000_000001_14.json", "2026-11-24T11:00:00Z", 1000, r4);
    char prog[4200];
    snprintf(prog, sizeof prog, "PROFREG=%s", tu_build_path("profreg"));
    const char *env[] = {prog, NULL};
    const char *argv[] = {
        tu_src_path("scripts/compare-profiles"), "--root", tu_tmp, "--runs", "1", "--strict", NULL};
    r = tu_run(argv, env, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.out, "Solver::step(double)") && strstr(r.out, "REGRESSION"), "%s",
                  tu_tail(r.out));
    tu_result_free(&r);
    const char *help[] = {tu_src_path("scripts/compare-profiles"), "--help", NULL};
    r = tu_run(help, env, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert(strncmp(r.out, "usage: profreg compare", 22) == 0);
    tu_result_free(&r);
}
END_TEST

/* ---- bad input: exit 2, one line naming the file and the problem, nothing changed ------- */

struct bad_case {
    const char *what;
    const char *args[12]; /* after "compare --root ROOT" unless args[0] is "baseline" */
    const char *err_has;  /* substring of stderr */
    void (*setup)(void);  /* breaks the tree after the good runs and baseline exist */
};

static const char *newest_run_path(void)
{
    return tu_in_tmp("profile_results/sim/profile_20261124_100200_000001_13.json");
}

static void break_syntax(void)
{
    tu_write_file(newest_run_path(), "{\"summary\": {\"total_samples\": 10,\n \"x\": [1, 2}\n");
}
static void break_type(void)
{
    const char *f[] = {"main|100|1000", NULL};
    write_run("sim", "profile_20261124_100200_000001_13.json", "2026-11-24T10:02:00Z", 1000, f);
    char *t = tu_read_file(newest_run_path());
    char *u = tu_replace(t, "\"percentage\": 100.00", "\"percentage\": \"100\"");
    tu_write_file(newest_run_path(), u);
    free(t);
    free(u);
}
static void break_negative(void)
{
    char *t = tu_read_file(newest_run_path());
    char *u = tu_replace(t, "\"samples\": 200,", "\"samples\": -200,");
    tu_write_file(newest_run_path(), u);
    free(t);
    free(u);
}
static void break_nonfinite(void)
{
    char *t = tu_read_file(newest_run_path());
    char *u = tu_replace(t, "\"percentage\": 20.00", "\"percentage\": 1e999");
    tu_write_file(newest_run_path(), u);
    free(t);
    free(u);
}
static void break_duplicate(void)
{
    const char *f[] = {"main|100|1000", "f()|10|100", "f()|20|200", NULL};
    write_run("sim", "profile_20261124_100200_000001_13.json", "2026-11-24T10:02:00Z", 1000, f);
}
static void break_baseline(void)
{
    tu_write_file(tu_in_tmp("baselines/sim/baseline.json"), "{\"top_functions\": [{\"name\": 3}]}");
}
static void baseline_is_directory(void)
{
    unlink(tu_in_tmp("baselines/sim/baseline.json"));
    mkdir(tu_in_tmp("baselines/sim/baseline.json"), 0755);
}
static void no_baseline(void)
{
    unlink(tu_in_tmp("baselines/sim/baseline.json"));
}
static void empty_results(void)
{
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "rm -f %s/profile_results/sim/*", tu_tmp);
    free(tu_shell(cmd));
}
static void no_results(void)
{
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "rm -rf %s/profile_results", tu_tmp);
    free(tu_shell(cmd));
}
static void nothing(void) {}

START_TEST(test_bad_input_changes_nothing)
{
    static const struct bad_case cases[] = {
        {"invalid JSON", {NULL}, "profile_20261124_100200_000001_13.json:2:12: ", break_syntax},
        {"wrong type",
         {NULL},
         "profile_20261124_100200_000001_13.json: top_functions[0].percentage: expected a "
         "number, got a string",
         break_type},
        {"negative", {NULL}, "expected a count, got negative -200", break_negative},
        {"non-finite", {NULL}, "profile_20261124_100200_000001_13.json:", break_nonfinite},
        {"duplicate", {NULL}, "duplicate function name (also at [1]): f()", break_duplicate},
        {"bad baseline", {NULL}, "baseline.json: top_functions[0].name: expected", break_baseline},
        {"baseline dir", {NULL}, "baseline.json: not a regular file", baseline_is_directory},
        {"no baseline", {NULL}, "baseline.json: no baseline yet", no_baseline},
        {"no runs", {NULL}, "profile_results/sim: no runs (profile_*.json) in it", empty_results},
        {"no results dir", {NULL}, "profile_results: cannot read directory", no_results},
        {"set-baseline from a bad run",
         {"--set-baseline", NULL},
         "profile_20261124_100200_000001_13.json:2:12: ",
         break_syntax},
        {"missing executable",
         {"--executable", "nope", NULL},
         "profile_results/nope: cannot read directory",
         nothing},
        {"bad executable name",
         {"--executable", "../sim", NULL},
         "--executable: '../sim'",
         nothing},
        {"missing --current",
         {"--current", "/nonexistent.json", NULL},
         "/nonexistent.json: cannot open",
         nothing},
        {"bad threshold",
         {"--threshold", "abc", NULL},
         "--threshold: 'abc' is not a number",
         nothing},
        {"negative threshold", {"--threshold", "-5", NULL}, "--threshold: '-5'", nothing},
        {"infinite threshold", {"--threshold", "inf", NULL}, "--threshold: 'inf'", nothing},
        {"zero top", {"--top", "0", NULL}, "--top: '0' is not a whole number", nothing},
        {"bad runs", {"--runs", "-1", NULL}, "--runs: '-1'", nothing},
        {"unknown option", {"--frobnicate", NULL}, "unknown option '--frobnicate'", nothing},
        {"bad metric",
         {"--metric", "wall", NULL},
         "--metric: 'wall' is not 'both', 'total', 'self', 'alloc' or 'live'",
         nothing},
        {"self of old runs",
         {"--metric", "self", NULL},
         "--metric self: a current profile has no self counts",
         nothing},
        {"bad min-delta", {"--min-delta", "-0.1", NULL}, "--min-delta: '-0.1'", nothing},
        {"bad confidence", {"--confidence", "100", NULL}, "--confidence: '100'", nothing},
        {"low confidence", {"--confidence", "20", NULL}, "--confidence: '20'", nothing},
        {"bad time threshold",
         {"--time-threshold", "ten", NULL},
         "--time-threshold: 'ten'",
         nothing},
        {"bad memory threshold",
         {"--memory-threshold", "nan", NULL},
         "--memory-threshold: 'nan'",
         nothing},
        {"bad time budget", {"--max-time-ms", "-1", NULL}, "--max-time-ms: '-1'", nothing},
        {"bad memory budget",
         {"--max-memory-mb", "1e99", NULL},
         "--max-memory-mb: '1e99'",
         nothing},
        {"bad include", {"--include", "(", NULL}, "--include: '(' is not a valid regular", nothing},
        {"bad exclude", {"--exclude", "a[", NULL}, "--exclude: 'a['", nothing},
        {"empty include", {"--include", "", NULL}, "--include: empty regular expression", nothing},
        {"empty prefix", {"--prefix", "", NULL}, "--prefix: empty prefix", nothing},
        {"stray argument", {"extra", NULL}, "unexpected argument 'extra'", nothing},
        {"bad root",
         {"--root", "/nonexistent-root", NULL},
         "/nonexistent-root: not a directory",
         nothing},
        {"baseline bad action", {"baseline", "frob", NULL}, "unknown action 'frob'", nothing},
        {"baseline show --runs",
         {"baseline", "show", "--runs", "3", NULL},
         "--runs applies to 'baseline set' only",
         nothing},
        {"baseline show broken",
         {"baseline", "show", NULL},
         "top_functions[0].name",
         break_baseline},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        three_runs("sim");
        const char *set[] = {"compare", "--root", tu_tmp, "--set-baseline", NULL};
        struct tu_result r = run(set);
        ck_assert_int_eq(r.status, 0);
        tu_result_free(&r);
        cases[i].setup();
        char *before = tu_tree_digest(tu_tmp);

        const char *argv[20];
        size_t n = 0;
        bool is_baseline = cases[i].args[0] && strcmp(cases[i].args[0], "baseline") == 0;
        size_t k = 0;
        if (is_baseline) {
            argv[n++] = "baseline";
            argv[n++] = cases[i].args[1];
            k = 2;
        } else {
            argv[n++] = "compare";
        }
        bool has_root = false;
        for (size_t j = k; cases[i].args[j]; j++)
            has_root |= strcmp(cases[i].args[j], "--root") == 0;
        if (!has_root) {
            argv[n++] = "--root";
            argv[n++] = tu_tmp;
        }
        for (; cases[i].args[k]; k++)
            argv[n++] = cases[i].args[k];
        argv[n] = NULL;
        r = run(argv);
        ck_assert_msg(r.status == 2, "%s: exit %d, stderr %s", cases[i].what, r.status,
                      tu_tail(r.err));
        ck_assert_msg(strstr(r.err, cases[i].err_has), "%s: stderr '%s' lacks '%s'", cases[i].what,
                      tu_tail(r.err), cases[i].err_has);
        ck_assert_msg(one_line(r.err) && strncmp(r.err, "profreg: ", 9) == 0, "%s: '%s'",
                      cases[i].what, tu_tail(r.err));
        char *after = tu_tree_digest(tu_tmp);
        ck_assert_msg(strcmp(before, after) == 0, "%s changed the tree:\n%s\n---\n%s",
                      cases[i].what, before, after);
        free(before);
        free(after);
        tu_result_free(&r);
        char cmd[4600];
        snprintf(cmd, sizeof cmd, "rm -rf %s/profile_results %s/baselines", tu_tmp, tu_tmp);
        free(tu_shell(cmd));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_set_baseline_round_trip);
    tcase_add_test(tc, test_strict_exit_and_regression_named);
    tcase_add_test(tc, test_fixtures);
    tcase_add_test(tc, test_current_file_is_really_used);
    tcase_add_test(tc, test_several_executables);
    tcase_add_test(tc, test_fewer_runs_than_asked);
    tcase_add_test(tc, test_report_never_overwritten);
    tcase_add_test(tc, test_named_report_replaced_and_empty_project_said);
    tcase_add_test(tc, test_console_golden);
    tcase_add_test(tc, test_colours_on_a_terminal);
    tcase_add_test(tc, test_baseline_show_and_reset);
    tcase_add_test(tc, test_git_commit_recorded);
    tcase_add_test(tc, test_compare_profiles_wrapper);
    tcase_add_test(tc, test_bad_input_changes_nothing);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
