/* SPDX-License-Identifier: MIT */
/* check_realistic.c — profreg on realistic programs, through the real CLI (`profreg record`,
 * `profreg compare`): tests/workloads/gtest_sim.cpp (a gtest executable with a fixture, Eigen
 * code inlined into the functions that work, a GCC clone, a recorder thread; CPU shares fixed
 * by work counts, changed through SIM_* environment knobs) and tests/workloads/bench_sim.cpp
 * (Google Benchmark, four benchmarks with work 40:30:20:10).
 *
 *  - names: gtest's runner frames under their exact demangled names, in nearly every sample
 *    of the main thread; every test body of the binary (the list is taken from nm, not from
 *    this file) as Suite_Name_Test::TestBody();
 *  - A/A: 5 runs against a baseline of 5 runs, nothing changed: no regression under --strict,
 *    the judged shares within 4 points of the baseline's;
 *  - SIM_SLOW_FUNC=sim::Integrator::step (≥ 5 % inclusive, nearly all inlined Eigen code)
 *    doubled: a REGRESSION, summary.most_likely_cause names it, anything else regressed only
 *    inherits it; its share grows as the baseline share predicts (within 4 points);
 *  - a rebuild that only changes cloning (gtest_sim_noclone: -fno-ipa-cp; nm shows the clone
 *    suffixes differ and every other function of the workload keeps its size) judged against
 *    the first build's baseline: nothing regressed, nothing new or disappeared, no "[clone" in
 *    any name;
 *  - bench_sim: the benchmark runner's frames, and the benchmarks' shares in their work ratio.
 *
 * The slow check (`make check-slow`, which runs this binary with PROFREG_SLOW=1 instead of the
 * checks above): SIM_SCALE=4 (about 3 s of CPU a run), 5 runs a side; a 2.5x slowdown of
 * sim::Contact::resolve (≈ 1 % folded self share) is a REGRESSION named as the most likely
 * cause. About 15 s of CPU a side. It needs the 1,000 stacks per CPU second of perf events
 * (about 45 of them in the function a run): with the kernel's 250 Hz CPU timers it gets about
 * 11 a run, Welch's p ≈ 0.005 against the 0.001 its slot is judged at, and the check was
 * INCONCLUSIVE in 2 of 4 runs.
 *
 * Whole-run times are never judged here (the machines are shared): --time-threshold and
 * --memory-threshold are opened wide, as in check_ci.c; shares are asserted within the
 * tolerances stated next to each assertion. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 5

/* The project directory shared by the tests of one tcase (unchecked fixture: made once, in
 * the parent process): baseline runs in profile_results/gtest_sim/, the baseline in
 * baselines/gtest_sim/, each test's runs in runs/NAME/, reports in reports/. */
static char *proj;

static const char *in_proj(const char *rel)
{
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", proj, rel);
    return b;
}

/* Runs `profreg record -- EXE ARGS...` n times, profiles into DIR/, with extra environment
 * entries (NULL-terminated, may be NULL); each run must pass. */
static void record_runs(const char *exe, const char *dir, int n, const char *const *extra_env,
                        const char *const *args)
{
    char out[4200];
    snprintf(out, sizeof out, "PROFREG_OUTPUT=%s/", dir);
    for (int i = 0; i < n; i++) {
        const char *argv[24] = {tu_build_path("profreg"), "record", "--", exe};
        size_t a = 4;
        for (const char *const *p = args; p && *p && a < 23; p++)
            argv[a++] = *p;
        argv[a] = NULL;
        const char *env[16] = {out, "PROFREG_QUIET=1"};
        size_t e = 2;
        for (const char *const *p = extra_env; p && *p && e < 15; p++)
            env[e++] = *p;
        env[e] = NULL;
        struct tu_result r = tu_run(argv, env, NULL);
        ck_assert_msg(r.status == 0 && !r.timed_out, "%s run %d: exit %d (signal %d)\n%s%s", exe,
                      i + 1, r.status, r.signal, tu_tail(r.out), tu_tail(r.err));
        tu_result_free(&r);
    }
    char **paths;
    size_t got = tu_list_profiles(dir, &paths);
    tu_free_list(paths, got);
    ck_assert_msg(got >= (size_t)n, "%s: %zu profiles, expected %d", dir, got, n);
}

/* The runs' profiles, parsed (array of n). */
static json_t **load_runs(const char *dir, size_t *n)
{
    char **paths;
    *n = tu_list_profiles(dir, &paths);
    json_t **p = calloc(*n, sizeof *p);
    for (size_t i = 0; i < *n; i++)
        p[i] = tu_load_json(paths[i]);
    tu_free_list(paths, *n);
    return p;
}

static void free_runs(json_t **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(p[i]);
    free(p);
}

/* Makes the shared project: RUNS runs of gtest_sim with env, and the baseline from them. */
static void make_project(const char *const *env)
{
    proj = tu_mkdtemp();
    record_runs(tu_build_path("workloads/gtest_sim"), in_proj("profile_results/gtest_sim"), RUNS,
                env, NULL);
    const char *args[] = {"compare",
                          "--root",
                          proj,
                          "--executable",
                          "gtest_sim",
                          "--set-baseline",
                          "--output-json-only",
                          NULL};
    struct tu_result r = tu_profreg(args, NULL, NULL);
    ck_assert_msg(r.status == 0, "set-baseline: %s", tu_tail(r.err));
    tu_result_free(&r);
    ck_assert(tu_exists(in_proj("baselines/gtest_sim/baseline.json")));
}

static void setup_project(void)
{
    make_project(NULL);
}

static void setup_project_slow(void)
{
    const char *env[] = {"SIM_SCALE=4", NULL};
    make_project(env);
}

static void teardown_project(void)
{
    tu_rmtree(proj);
    free(proj);
    proj = NULL;
}

/* `profreg compare --root PROJ --executable gtest_sim --strict` on the profiles in DIR
 * (--current each), report written to reports/NAME.json; returns the exit status (0 or 1)
 * and the parsed report. */
static int compare_runs(const char *dir, const char *name, json_t **report)
{
    char rep[4200];
    snprintf(rep, sizeof rep, "%s/reports/%s.json", proj, name);
    tu_write_file(in_proj("reports/.keep"), "");
    const char *args[40] = {"compare",
                            "--root",
                            proj,
                            "--executable",
                            "gtest_sim",
                            "--strict",
                            "--output-json-only",
                            "--time-threshold",
                            "1000",
                            "--memory-threshold",
                            "1000",
                            "--report",
                            rep};
    size_t n = 13;
    char **paths;
    size_t np = tu_list_profiles(dir, &paths);
    for (size_t i = 0; i < np && n + 2 < 38; i++) {
        args[n++] = "--current";
        args[n++] = paths[i];
    }
    args[n] = NULL;
    struct tu_result r = tu_profreg(args, NULL, NULL);
    tu_free_list(paths, np);
    int status = r.status;
    ck_assert_msg(status == 0 || status == 1, "compare %s: exit %d: %s", name, status,
                  tu_tail(r.err));
    tu_result_free(&r);
    *report = tu_load_json(rep);
    return status;
}

/* "name: baseline -> current % (status, role)" for each function not PASS (static buffer). */
static const char *flagged(json_t *report)
{
    static char buf[8192];
    size_t len = 0;
    json_t *e;
    size_t i;
    buf[0] = '\0';
    json_array_foreach(json_object_get(report, "functions"), i, e)
    {
        const char *status = json_string_value(json_object_get(e, "status"));
        if (!status || strcmp(status, "PASS") == 0 || len + 300 > sizeof buf)
            continue;
        json_t *role = json_object_get(e, "role");
        json_t *by = json_object_get(e, json_string_value(json_object_get(e, "decided_by")));
        len += (size_t)snprintf(
            buf + len, sizeof buf - len,
            "\n  %.160s: %.2f -> %.2f %% (%s, %s; p %.4g at %.4g, detects %.2f points)",
            json_string_value(json_object_get(e, "name")),
            json_number_value(json_object_get(e, "baseline_percentage")),
            json_number_value(json_object_get(e, "current_percentage")), status,
            json_is_string(role) ? json_string_value(role) : "no role",
            json_number_value(json_object_get(by, "p_value")),
            json_number_value(json_object_get(by, "alpha")),
            json_number_value(json_object_get(by, "detectable_points")));
    }
    return buf;
}

/* The report's entry for the function whose name starts with prefix, or NULL. */
static json_t *report_fn(json_t *report, const char *prefix)
{
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(report, "functions"), i, e)
    {
        if (strncmp(json_string_value(json_object_get(e, "name")), prefix, strlen(prefix)) == 0)
            return e;
    }
    return NULL;
}

/* The full name of the profile's function whose name starts with prefix (the parameter
 * list as profreg wrote it, not as this file would guess it); fails when absent. */
static const char *profile_name(json_t *profile, const char *prefix)
{
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(profile, "top_functions"), i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (strncmp(n, prefix, strlen(prefix)) == 0)
            return n;
    }
    ck_abort_msg("no function %s... in the profile", prefix);
    return NULL;
}

static const char *str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double num(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

/* The mean inclusive share of a function over the runs (0 in a run without it). */
static double mean_pct(json_t **runs, size_t n, const char *name)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *f = tu_function(runs[i], name);
        s += f ? tu_pct(f) : 0;
    }
    return n ? s / (double)n : 0;
}

/* Asserts what every judged comparison report with exactly one injected cause shows: the
 * cause regressed and is summary.most_likely_cause with that role; nothing else is a cause;
 * every other regressed function inherits it. */
static void assert_named_cause(json_t *rep, const char *cause)
{
    json_t *summary = json_object_get(rep, "summary");
    ck_assert_str_eq(str(summary, "verdict"), "REGRESSION");
    ck_assert_msg(str(summary, "most_likely_cause") != NULL,
                  "summary.most_likely_cause is missing or null (the judge names no cause)");
    ck_assert_str_eq(str(summary, "most_likely_cause"), cause);
    json_t *e;
    size_t i;
    int found = 0;
    json_array_foreach(json_object_get(rep, "functions"), i, e)
    {
        const char *name = str(e, "name"), *status = str(e, "status"), *role = str(e, "role");
        if (strcmp(name, cause) == 0) {
            found = 1;
            ck_assert_str_eq(status, "REGRESSION");
            ck_assert_msg(role && strcmp(role, "most_likely_cause") == 0, "%s: role %s", name,
                          role ? role : "null");
            continue;
        }
        ck_assert_msg(!role || strcmp(role, "inherits") == 0, "%s: role %s (only %s is a cause)",
                      name, role, cause);
        if (strcmp(status, "REGRESSION") != 0)
            continue;
        ck_assert_msg(role, "%s regressed with no role", name);
        int from_cause = 0;
        json_t *c;
        size_t k;
        json_array_foreach(json_object_get(e, "inherits_from"), k, c)
        {
            from_cause |= strcmp(json_string_value(c), cause) == 0;
        }
        ck_assert_msg(from_cause, "%s inherits, but not from %s: inherits_from %s; notes %s", name,
                      cause, json_dumps(json_object_get(e, "inherits_from"), 0),
                      json_dumps(json_object_get(summary, "notes"), 0));
    }
    ck_assert_msg(found, "%s is not in the report", cause);
}

/* ---- names -------------------------------------------------------------------------- */

/* Names nm gives the binary's defined symbols, demangled, one per line (malloc'd). */
static char *nm_names(const char *exe, const char *grep_re)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "nm -C --defined-only '%s' | sed 's/^[0-9a-f]* [A-Za-z] //' | grep -E '%s' | "
             "LC_ALL=C sort -u",
             exe, grep_re);
    char *out = tu_shell(cmd);
    ck_assert_msg(out != NULL, "nm %s", exe);
    return out;
}

START_TEST(test_gtest_names)
{
    size_t n;
    json_t **runs = load_runs(in_proj("profile_results/gtest_sim"), &n);
    ck_assert_int_eq(n, RUNS);

    /* gtest's runner frames, named exactly as nm -C (c++filt) names the binary's symbols,
     * each in nearly every sample of the main thread: at least 95 % of main's share (outside
     * them: gtest's start and end, its output, closing the recorder's file; in CPU mode the
     * kernel time of a close can come as one sample weighing tens of milliseconds) */
    const char *runner[] = {
        "testing::UnitTest::Run()",
        "testing::internal::UnitTestImpl::RunAllTests()",
        "testing::TestSuite::Run()",
        "testing::TestInfo::Run()",
        "testing::Test::Run()",
        "void testing::internal::HandleExceptionsInMethodIfSupported<testing::Test, void>"
        "(testing::Test*, void (testing::Test::*)(), char const*)",
        "bool testing::internal::HandleExceptionsInMethodIfSupported<"
        "testing::internal::UnitTestImpl, bool>(testing::internal::UnitTestImpl*, "
        "bool (testing::internal::UnitTestImpl::*)(), char const*)",
    };
    char *defined = nm_names(tu_build_path("workloads/gtest_sim"), "^((bool|void) )?testing::");
    for (size_t r = 0; r < n; r++) {
        double main_pct = tu_pct(tu_function(runs[r], "main"));
        ck_assert_msg(main_pct > 80, "main: %.2f %%", main_pct);
        for (size_t i = 0; i < sizeof runner / sizeof *runner; i++) {
            char line[512];
            snprintf(line, sizeof line, "%s\n", runner[i]);
            ck_assert_msg(strstr(defined, line), "nm does not name %s", runner[i]);
            json_t *f = tu_function(runs[r], runner[i]);
            ck_assert_msg(f, "run %zu: no %s", r + 1, runner[i]);
            ck_assert_msg(tu_pct(f) >= 0.95 * main_pct && tu_pct(f) <= main_pct + 0.01,
                          "%s %.2f %% vs main %.2f %%", runner[i], tu_pct(f), main_pct);
        }
        /* the fixture's SetUp, and the recorder thread: main + the thread ≈ the process */
        ck_assert_ptr_nonnull(tu_function(runs[r], "SimFixture::SetUp()"));
        json_t *rec = tu_function(runs[r], "sim::Recorder::run()");
        ck_assert_ptr_nonnull(rec);
        ck_assert_msg(main_pct + tu_pct(rec) >= 97, "main %.2f + recorder %.2f", main_pct,
                      tu_pct(rec));
        ck_assert_int_eq(json_integer_value(
                             json_object_get(json_object_get(runs[r], "summary"), "thread_count")),
                         2);
    }
    free(defined);

    /* every test body the binary defines (nm: Suite_Name_Test::TestBody(), typed tests with
     * their type argument) is sampled under that exact name: each body works for 7 ms or more
     * (one or two signals at HZ=250), so in one run a body can go unsampled, in 5 runs not */
    char *bodies = nm_names(tu_build_path("workloads/gtest_sim"),
                            "^[A-Za-z0-9_]+_Test(<[^>]*>)?::TestBody\\(\\)$");
    size_t nbodies = 0;
    for (char *line = bodies, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        nbodies++;
        size_t seen = 0;
        for (size_t r = 0; r < n; r++)
            seen += tu_function(runs[r], line) != NULL;
        ck_assert_msg(seen > 0, "no run has %s", line);
    }
    ck_assert_msg(nbodies >= 20, "only %zu test bodies in nm", nbodies);
    free(bodies);
    /* and no test body the binary does not define (a name made up or mangled differently) */
    bodies = nm_names(tu_build_path("workloads/gtest_sim"), "::TestBody\\(\\)$");
    for (size_t r = 0; r < n; r++) {
        json_t *e;
        size_t i;
        json_array_foreach(json_object_get(runs[r], "top_functions"), i, e)
        {
            const char *name = str(e, "name");
            const char *tb = strstr(name, "::TestBody()");
            if (!tb || tb[strlen("::TestBody()")])
                continue;
            char line[1024];
            snprintf(line, sizeof line, "\n%s\n", name);
            char *padded = malloc(strlen(bodies) + 2);
            sprintf(padded, "\n%s", bodies);
            ck_assert_msg(strstr(padded, line), "%s is not a symbol of the binary", name);
            free(padded);
        }
    }
    free(bodies);
    free_runs(runs, n);
}
END_TEST

/* ---- A/A ------------------------------------------------------------------------------ */

START_TEST(test_aa_no_regression)
{
    record_runs(tu_build_path("workloads/gtest_sim"), in_proj("runs/aa"), RUNS, NULL, NULL);
    json_t *rep;
    int status = compare_runs(in_proj("runs/aa"), "aa", &rep);
    if (status != 0) {
        /* the judge allows about 1 % false alarms at 5 runs against 5 (docs/judging.md): a
         * second, independent A/A must then be clean; a judge that cries wolf fails both */
        fprintf(stderr, "check_realistic: A/A flagged%s; judging 5 new runs\n", flagged(rep));
        json_decref(rep);
        record_runs(tu_build_path("workloads/gtest_sim"), in_proj("runs/aa2"), RUNS, NULL, NULL);
        status = compare_runs(in_proj("runs/aa2"), "aa2", &rep);
    }
    json_t *summary = json_object_get(rep, "summary");
    ck_assert_msg(status == 0, "A/A failed --strict: verdict %s, most likely cause %s:%s",
                  str(summary, "verdict"), str(summary, "most_likely_cause"), flagged(rep));
    ck_assert_int_eq(json_integer_value(json_object_get(summary, "regressed")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(summary, "new_hotspots")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(summary, "disappeared")), 0);
    json_t *cause = json_object_get(summary, "most_likely_cause");
    ck_assert_msg(cause && json_is_null(cause), "A/A names a cause: %s", json_string_value(cause));
    json_t *e;
    size_t i;
    ck_assert_int_ge(json_array_size(json_object_get(rep, "functions")), 5);
    json_array_foreach(json_object_get(rep, "functions"), i, e)
    {
        ck_assert_msg(strcmp(str(e, "status"), "REGRESSION") != 0, "%s regressed", str(e, "name"));
        ck_assert_msg(json_is_null(json_object_get(e, "role")), "%s: role %s", str(e, "name"),
                      str(e, "role"));
        /* nothing changed: every judged share within 4 points of the baseline's (a run's
         * share of a function varies by up to 2 points on these shared machines: the mean of 5
         * by about 1) */
        double c = num(e, "current_percentage"), b = num(e, "baseline_percentage");
        ck_assert_msg(fabs(c - b) <= 4, "%s: %.2f %% now, %.2f %% in the baseline", str(e, "name"),
                      c, b);
    }
    json_decref(rep);
}
END_TEST

/* ---- a 2x slowdown of a function at ≥ 5 % ----------------------------------------------- */

START_TEST(test_doubled_function_named)
{
    size_t nb;
    json_t **base = load_runs(in_proj("profile_results/gtest_sim"), &nb);
    const char *step = strdup(profile_name(base[0], "sim::Integrator::step("));
    double b = mean_pct(base, nb, step);
    ck_assert_msg(b >= 5, "%s: %.2f %% inclusive, the workload promises at least 5 %%", step, b);
    free_runs(base, nb);

    const char *env[] = {"SIM_SLOW_FUNC=sim::Integrator::step", "SIM_SLOW_FACTOR=2.0", NULL};
    record_runs(tu_build_path("workloads/gtest_sim"), in_proj("runs/x2"), RUNS, env, NULL);

    /* the share grew as doubling predicts from the baseline share: 2b / (1 + b), within 4
     * points (the rest of the program is unchanged) */
    size_t nc;
    json_t **cur = load_runs(in_proj("runs/x2"), &nc);
    double c = mean_pct(cur, nc, step), want = 100 * (2 * b / 100) / (1 + b / 100);
    ck_assert_msg(fabs(c - want) <= 4, "%s: %.2f %% -> %.2f %%, doubling predicts %.2f %%", step, b,
                  c, want);
    free_runs(cur, nc);

    json_t *rep;
    int status = compare_runs(in_proj("runs/x2"), "x2", &rep);
    ck_assert_msg(status == 1, "a doubled %s passed --strict:%s", step, flagged(rep));
    json_t *f = report_fn(rep, step);
    ck_assert_msg(f, "%s not judged", step);
    ck_assert_str_eq(str(f, "status"), "REGRESSION");
    /* functions the slowdown does not touch are not flagged */
    const char *untouched[] = {"sim::Broadphase::collide(", "sim::hull_volume(",
                               "sim::Recorder::encode_frame("};
    for (size_t i = 0; i < sizeof untouched / sizeof *untouched; i++) {
        json_t *u = report_fn(rep, untouched[i]);
        ck_assert_msg(u, "%s... not judged", untouched[i]);
        ck_assert_msg(strcmp(str(u, "status"), "REGRESSION") != 0, "%s regressed", str(u, "name"));
    }
    /* the judge names it (summary.most_likely_cause, functions[].role) */
    assert_named_cause(rep, step);
    json_decref(rep);
    free((char *)step);
}
END_TEST

/* ---- a rebuild that only changes cloning ----------------------------------------------- */

START_TEST(test_rebuild_without_clones_matches)
{
    /* the two builds differ in clone suffixes: the first has the workload's
     * [clone .constprop.0] of sim::hull_volume, the rebuild does not */
    char *a = nm_names(tu_build_path("workloads/gtest_sim"), "^(sim|Eigen)::.*\\[clone \\.");
    char *b =
        nm_names(tu_build_path("workloads/gtest_sim_noclone"), "^(sim|Eigen)::.*\\[clone \\.");
    ck_assert_msg(strstr(a, "sim::hull_volume(") && strstr(a, "[clone .constprop.0]"), "%s", a);
    ck_assert_msg(strcmp(a, b) != 0, "both builds have the same clones:\n%s", a);
    ck_assert_msg(!strstr(b, "sim::hull_volume("), "the rebuild still clones:\n%s", b);
    free(a);
    free(b);
    /* and in nothing else: every other function of the workload (its namespace, the test
     * bodies) has the same size in both builds, once clone suffixes are taken off */
    char cmd[8192];
#define SIZES                                                                                      \
    "nm -S -C --defined-only '%s' | grep -E ' [tTW] (sim::|(double|float) sim::|"                  \
    "[A-Za-z0-9_]+_Test(<[^>]*>)?::TestBody)' | cut -d' ' -f2- | "                                 \
    "sed 's/ \\[clone [^]]*\\]//g' | LC_ALL=C sort > '%s'"
    snprintf(cmd, sizeof cmd, SIZES, tu_build_path("workloads/gtest_sim"), in_proj("sizes.a"));
    free(tu_shell(cmd));
    snprintf(cmd, sizeof cmd, SIZES, tu_build_path("workloads/gtest_sim_noclone"),
             in_proj("sizes.b"));
    free(tu_shell(cmd));
    snprintf(cmd, sizeof cmd,
             "diff '%s' '%s' | grep '^[<>]' | grep -v ' sim::hull_volume(' || true",
             in_proj("sizes.a"), in_proj("sizes.b"));
    char *other = tu_shell(cmd);
    ck_assert_msg(other && !*other, "the rebuild changed more than the clone:\n%s", other);
    free(other);
    char *na = tu_read_file(in_proj("sizes.a"));
    ck_assert_msg(na && strstr(na, "sim::Integrator::step(") && strstr(na, "::TestBody()"),
                  "nm -S lists: %s", na);
    free(na);

    /* the rebuild is the same program under the same name: copied to rebuild/gtest_sim */
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s' && echo ok", in_proj("rebuild"),
             tu_build_path("workloads/gtest_sim_noclone"), in_proj("rebuild/gtest_sim"));
    free(tu_shell(cmd));
    record_runs(in_proj("rebuild/gtest_sim"), in_proj("runs/noclone"), RUNS, NULL, NULL);

    /* profreg names the clone after its origin (raw_name keeps the symbol's own name), so
     * both builds' profiles hold sim::hull_volume(...) under the same name */
    size_t nb, nc;
    json_t **base = load_runs(in_proj("profile_results/gtest_sim"), &nb);
    json_t **cur = load_runs(in_proj("runs/noclone"), &nc);
    const char *hull = profile_name(base[0], "sim::hull_volume(");
    const char *raw = str(tu_function(base[0], hull), "raw_name");
    ck_assert_msg(raw && strstr(raw, "[clone .constprop.0]"), "raw_name %s", raw);
    ck_assert_msg(!strstr(hull, "[clone"), "%s", hull);
    ck_assert_msg(tu_function(cur[0], hull), "the rebuild's profile has no %s", hull);
    ck_assert_msg(fabs(mean_pct(base, nb, hull) - mean_pct(cur, nc, hull)) <= 4,
                  "%s: %.2f %% vs %.2f %% rebuilt", hull, mean_pct(base, nb, hull),
                  mean_pct(cur, nc, hull));
    for (size_t r = 0; r < nc; r++) {
        json_t *e;
        size_t i;
        json_array_foreach(json_object_get(cur[r], "top_functions"), i, e)
        {
            ck_assert_msg(!strstr(str(e, "name"), "[clone"), "%s", str(e, "name"));
        }
    }
    free_runs(base, nb);
    free_runs(cur, nc);

    /* judged against the first build's baseline: nothing flagged, nothing new or gone (with
     * one independent retry, as the A/A case: about 1 % false alarms are allowed) */
    json_t *rep;
    int status = compare_runs(in_proj("runs/noclone"), "noclone", &rep);
    if (status != 0) {
        fprintf(stderr, "check_realistic: the rebuild flagged%s; judging 5 new runs\n",
                flagged(rep));
        json_decref(rep);
        record_runs(in_proj("rebuild/gtest_sim"), in_proj("runs/noclone2"), RUNS, NULL, NULL);
        status = compare_runs(in_proj("runs/noclone2"), "noclone2", &rep);
    }
    json_t *summary = json_object_get(rep, "summary");
    ck_assert_msg(status == 0, "the rebuild failed --strict: verdict %s:%s",
                  str(summary, "verdict"), flagged(rep));
    ck_assert_int_eq(json_integer_value(json_object_get(summary, "regressed")), 0);
    ck_assert_msg(json_array_size(json_object_get(summary, "new_hotspots")) == 0,
                  "new hotspots: %s", json_dumps(json_object_get(summary, "new_hotspots"), 0));
    ck_assert_msg(json_array_size(json_object_get(summary, "disappeared")) == 0, "disappeared: %s",
                  json_dumps(json_object_get(summary, "disappeared"), 0));
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(rep, "functions"), i, e)
    {
        ck_assert_msg(!strstr(str(e, "name"), "[clone"), "%s", str(e, "name"));
        ck_assert_msg(json_is_number(json_object_get(e, "baseline_percentage")) &&
                          json_is_number(json_object_get(e, "current_percentage")),
                      "%s is not on both sides", str(e, "name"));
    }
    ck_assert_ptr_nonnull(report_fn(rep, "sim::hull_volume("));
    json_decref(rep);
}
END_TEST

/* ---- Google Benchmark ------------------------------------------------------------------ */

START_TEST(test_benchmark_shares)
{
    record_runs(tu_build_path("workloads/bench_sim"), in_proj("runs/bench"), 1, NULL,
                (const char *const[]){"--benchmark_min_time=0.01", NULL});
    size_t n;
    json_t **runs = load_runs(in_proj("runs/bench"), &n);
    ck_assert_int_eq(n, 1);
    json_t *p = runs[0];
    /* the runner's entry, from libbenchmark.so's dynamic symbols (its internal frames have
     * none: Debian strips the library, so they are named libbenchmark.so.1.7.1+0xOFFSET),
     * in every sample */
    json_t *runner = tu_function(p, "benchmark::RunSpecifiedBenchmarks()");
    ck_assert_ptr_nonnull(runner);
    ck_assert_msg(tu_pct(runner) >= 95, "RunSpecifiedBenchmarks %.2f %%", tu_pct(runner));
    /* four benchmarks doing 40:30:20:10 units a fixed number of times: their shares of the
     * four, within 3 points; each BM_ entry carries its work function */
    const char *work[] = {"bench::hull(unsigned int)", "bench::broadphase(unsigned int)",
                          "bench::integrate(unsigned int)", "bench::record(unsigned int)"};
    const char *entry[] = {"BM_Hull(benchmark::State&)", "BM_Broadphase(benchmark::State&)",
                           "BM_Integrate(benchmark::State&)", "BM_Record(benchmark::State&)"};
    const double units[] = {40, 30, 20, 10};
    double pct[4], sum = 0;
    for (int i = 0; i < 4; i++) {
        json_t *f = tu_function(p, work[i]);
        ck_assert_msg(f, "no %s", work[i]);
        pct[i] = tu_pct(f);
        sum += pct[i];
        json_t *bm = tu_function(p, entry[i]);
        ck_assert_msg(bm, "no %s", entry[i]);
        ck_assert_msg(tu_pct(bm) >= pct[i] - 0.01, "%s %.2f %% < %s %.2f %%", entry[i], tu_pct(bm),
                      work[i], pct[i]);
    }
    ck_assert_msg(sum >= 80, "the benchmarks are %.2f %% of the process", sum);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(100 * pct[i] / sum - units[i]) <= 3, "%s: %.2f %% of the benchmarks",
                      work[i], 100 * pct[i] / sum);
    free_runs(runs, n);
}
END_TEST

/* ---- slow: a 2.5x slowdown of a ≈ 1 % function (make check-slow) ------------------------ */

START_TEST(test_small_function_named)
{
    size_t nb;
    json_t **base = load_runs(in_proj("profile_results/gtest_sim"), &nb);
    const char *resolve = strdup(profile_name(base[0], "sim::Contact::resolve("));
    free_runs(base, nb);

    const char *env[] = {"SIM_SCALE=4", "SIM_SLOW_FUNC=sim::Contact::resolve",
                         "SIM_SLOW_FACTOR=2.5", NULL};
    record_runs(tu_build_path("workloads/gtest_sim"), in_proj("runs/resolve"), RUNS, env, NULL);
    json_t *rep;
    int status = compare_runs(in_proj("runs/resolve"), "resolve", &rep);
    json_t *f = report_fn(rep, resolve);
    ck_assert_msg(f, "%s not judged", resolve);
    /* the workload's promise: ≈ 1 % folded self share (0.5–2.5 %: about 45 signals a run, so
     * the mean of 5 runs is good to ±15 %), and its share grew by 1.5 to 4 times (2.5x the
     * work of its loop, not of the call around it; perf measures 2.2–2.5x; the baseline's
     * ±25 % stretches the ratio: 1.08 % -> 3.36 % was seen) */
    json_t *self = json_object_get(f, "self");
    ck_assert_msg(json_is_object(self), "no self verdict for %s", resolve);
    double b = num(self, "baseline"), c = num(self, "current");
    ck_assert_msg(b >= 0.5 && b <= 2.5, "%s: folded self %.2f %% in the baseline", resolve, b);
    ck_assert_msg(c >= 1.5 * b && c <= 4 * b, "%s: %.2f %% -> %.2f %%", resolve, b, c);
    ck_assert_msg(status == 1, "a 2.5x slower %s passed --strict:%s", resolve, flagged(rep));
    ck_assert_str_eq(str(f, "status"), "REGRESSION");
    assert_named_cause(rep, resolve);
    json_decref(rep);
    free((char *)resolve);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("realistic");
    const char *slow = getenv("PROFREG_SLOW");
    if (slow && strcmp(slow, "1") == 0) {
        TCase *tc = tcase_create("slow");
        tcase_add_unchecked_fixture(tc, setup_project_slow, teardown_project);
        tcase_set_timeout(tc, 900);
        tcase_add_test(tc, test_small_function_named);
        suite_add_tcase(s, tc);
    } else {
        TCase *tc = tcase_create("gtest");
        tcase_add_unchecked_fixture(tc, setup_project, teardown_project);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_gtest_names);
        tcase_add_test(tc, test_aa_no_regression);
        tcase_add_test(tc, test_doubled_function_named);
        tcase_add_test(tc, test_rebuild_without_clones_matches);
        tcase_add_test(tc, test_benchmark_shares);
        suite_add_tcase(s, tc);
    }
    return tu_run_suite(s);
}
