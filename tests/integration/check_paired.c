/* SPDX-License-Identifier: MIT */
/* check_paired.c — paired runs, `scripts/profreg-ci --base BASE_EXE` and `profreg compare
 * --base-runs`: a build 1.3x slower in one function is flagged on wall and CPU time with that
 * function named; A/A pairs under a background load that switches on and off flag nothing; a
 * base run that fails is reported as the base's; bad --base paths and unpaired file lists
 * exit 2. */
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Runs `scripts/profreg-ci ARGS...` in tu_tmp. */
static struct tu_result wrapper(const char *args)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd \"%s\" && PROFREG=\"%s\" bash \"%s\" %s", tu_tmp,
             tu_build_path("profreg"), tu_src_path("scripts/profreg-ci"), args);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    const char *env[] = {"GITHUB_STEP_SUMMARY=", NULL};
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_msg(!r.timed_out, "profreg-ci %s hung", args);
    return r;
}

static json_t *latest_report(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/artifacts/profiling/latest/comparison.json", tu_tmp);
    json_t *j = tu_load_json(path);
    ck_assert_ptr_nonnull(j);
    return j;
}

static json_t *metric(json_t *report, const char *name)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(report, "metrics"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "name")), name) == 0)
            return m;
    }
    ck_abort_msg("no metric %s", name);
    return NULL;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "(none)";
}

START_TEST(test_slower_build_flagged_on_time_with_its_culprit)
{
    char args[8192];
    snprintf(args, sizeof args,
             "-n 8 --base \"%s\" --base-label 'merge-base abc1234' -- \"%s\" 2",
             tu_build_path("workloads/paired"), tu_build_path("workloads/paired_slow"));
    struct tu_result r = wrapper(args);
    ck_assert_msg(r.status == 1, "exit %d\n%s%s", r.status, tu_tail(r.out), tu_tail(r.err));
    json_t *rep = latest_report();
    for (int k = 0; k < 2; k++) {
        json_t *m = metric(rep, k ? "cpu_time_ms" : "wall_time_ms");
        ck_assert_str_eq(str(m, "status"), "REGRESSION");
        ck_assert_str_eq(str(m, "test"), "paired-t");
        ck_assert_int_eq(json_integer_value(json_object_get(m, "pairs")), 8);
        /* the true ratio is the work's, 780 / 600 units: the estimate and its interval agree */
        double ratio = json_number_value(json_object_get(m, "ratio_median"));
        json_t *ci = json_object_get(m, "ratio_ci");
        double lo = json_number_value(json_array_get(ci, 0));
        double hi = json_number_value(json_array_get(ci, 1));
        ck_assert_msg(lo <= ratio && ratio <= hi && lo > 1.1, "ratio %g [%g, %g]", ratio, lo, hi);
    }
    ck_assert_str_eq(str(json_object_get(rep, "summary"), "most_likely_cause"), "changed_part");
    json_t *paired = json_object_get(json_object_get(rep, "metadata"), "paired");
    ck_assert_int_eq(json_integer_value(json_object_get(paired, "pairs")), 8);
    ck_assert_int_eq(json_array_size(json_object_get(paired, "base_files")), 8);
    json_decref(rep);

    char path[4200];
    snprintf(path, sizeof path, "%s/artifacts/profiling/latest/summary.md", tu_tmp);
    char *md = tu_read_file(path);
    ck_assert_msg(strstr(md, "head vs base (merge-base abc1234), 8 interleaved pairs"), "%s", md);
    free(md);
    /* the base side is archived, and the order of each pair recorded */
    snprintf(path, sizeof path, "%s/artifacts/profiling/latest/metadata.txt", tu_tmp);
    char *meta = tu_read_file(path);
    char *order = strstr(meta, "pair_order:");
    ck_assert_ptr_nonnull(order);
    int pairs = 0;
    for (char *p = order; *p && *p != '\n'; p++)
        pairs += (p[0] == 'b' && p[1] == 'c') || (p[0] == 'c' && p[1] == 'b');
    ck_assert_int_eq(pairs, 8);
    free(meta);
    snprintf(path, sizeof path, "%s/artifacts/profiling/latest/base-profiles", tu_tmp);
    char **files;
    size_t n = tu_list_profiles(path, &files);
    ck_assert_uint_eq(n, 8);
    tu_free_list(files, n);
    tu_result_free(&r);
}
END_TEST

/* A CPU hog on every core that works and rests in turns of 0.3 s until killed. */
static pid_t start_hog(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        for (int c = 0; c < 2; c++)
            if (fork() == 0)
                break;
        volatile unsigned long x = 0;
        for (;;) {
            struct timespec t0, t;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            do {
                for (int i = 0; i < 100000; i++)
                    x += (unsigned long)i;
                clock_gettime(CLOCK_MONOTONIC, &t);
            } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
            struct timespec rest = {0, 300000000L};
            nanosleep(&rest, NULL);
        }
    }
    return pid;
}

/* One A/A invocation of 6 pairs under the switching hog; returns profreg-ci's exit status and
 * the metrics' verdicts in `verdicts`. */
static int aa_once(char *verdicts, size_t size)
{
    pid_t hog = start_hog();
    char args[8192];
    snprintf(args, sizeof args, "-n 6 --base \"%s\" -- \"%s\" 2", tu_build_path("workloads/paired"),
             tu_build_path("workloads/paired"));
    struct tu_result r = wrapper(args);
    kill(-hog, SIGKILL);
    kill(hog, SIGKILL);
    waitpid(hog, NULL, 0);
    ck_assert_msg(r.status == 0 || r.status == 1, "exit %d\n%s%s", r.status, tu_tail(r.out),
                  tu_tail(r.err));
    int status = r.status;
    if (status == 0)
        ck_assert(strstr(r.out, "profreg-ci: no regression"));
    json_t *rep = latest_report();
    ck_assert_str_eq(str(metric(rep, "wall_time_ms"), "test"), "paired-t");
    size_t used = 0;
    verdicts[0] = '\0';
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(rep, "metrics"), i, m)
    {
        json_t *ci = json_object_get(m, "ratio_ci");
        int w = snprintf(verdicts + used, size - used, "%s %s median %.3f [%.3f, %.3f]; ",
                         str(m, "name"), str(m, "status"),
                         json_number_value(json_object_get(m, "ratio_median")),
                         json_number_value(json_array_get(ci, 0)),
                         json_number_value(json_array_get(ci, 1)));
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    json_decref(rep);
    tu_result_free(&r);
    return status;
}

/* A/A pairs flag nothing. Each invocation is a statistical test that alarms at 1 % or less
 * under its model, and a real load is not its model: a second invocation is made only after an
 * alarm, and the test fails when both alarm (a systematic false alarm does both times). */
START_TEST(test_aa_pairs_under_switching_load_flag_nothing)
{
    char first[2048], second[2048];
    if (aa_once(first, sizeof first) == 0)
        return;
    int status = aa_once(second, sizeof second);
    ck_assert_msg(status == 0, "A/A pairs flagged twice: %s / %s", first, second);
}
END_TEST

START_TEST(test_failing_base_run_and_bad_base_paths)
{
    char args[8192];
    snprintf(args, sizeof args, "-n 2 --base /bin/false -- \"%s\"", tu_build_path("workloads/paired"));
    struct tu_result r = wrapper(args);
    ck_assert_msg(r.status == 2 && strstr(r.err, "base run 1") && strstr(r.err, "status 1"),
                  "exit %d\n%s", r.status, tu_tail(r.err));
    tu_result_free(&r);

    char notexec[4200];
    snprintf(notexec, sizeof notexec, "%s/plain file", tu_tmp);
    tu_write_file(notexec, "not a program\n");
    const char *bad[][2] = {{"/nonexistent/base", "does not exist"},
                            {"/tmp", "not a regular file"},
                            {"'plain file'", "not executable"},
                            {"", "does not exist"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "-n 2 --base %s -- \"%s\"", *bad[i][0] ? bad[i][0] : "''",
                 tu_build_path("workloads/paired"));
        r = wrapper(args);
        ck_assert_msg(r.status == 2 && strstr(r.err, "profreg-ci: --base:") &&
                          strstr(r.err, bad[i][1]),
                      "--base %s: exit %d\n%s", bad[i][0], r.status, tu_tail(r.err));
        tu_result_free(&r);
    }
    r = wrapper("--baseline-too -- true");
    ck_assert_msg(r.status == 2 && strstr(r.err, "--baseline-too: only with --base"), "%s",
                  tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

/* compare --base-runs directly: lists that do not pair up, or no --current, exit 2. */
START_TEST(test_compare_base_runs_must_pair_up)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/runs", tu_tmp);
    char cmd[30000];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && for i in 1 2 3; do PROFREG_QUIET=1 PROFREG_OUTPUT='%s/' "
             "LD_PRELOAD='%s' '%s' >/dev/null; done; ls '%s' | wc -l",
             dir, dir, tu_build_path("libprofreg.so"), tu_build_path("workloads/paired"), dir);
    char *count = tu_shell(cmd);
    ck_assert_str_eq(count, "3\n");
    free(count);
    char **files;
    size_t n = tu_list_profiles(dir, &files);
    ck_assert_uint_eq(n, 3);
    const char *unpaired[] = {"compare", "--base-runs", files[0], files[1], "--current",
                              files[2], "--report", tu_in_tmp("r.json"), NULL};
    struct tu_result r = tu_profreg(unpaired, NULL, NULL);
    ck_assert_msg(r.status == 2 && strstr(r.err, "do not pair up"), "%d %s", r.status,
                  tu_tail(r.err));
    ck_assert(!tu_exists(tu_in_tmp("r.json")));
    tu_result_free(&r);
    const char *nocurrent[] = {"compare", "--base-runs", files[0], NULL};
    r = tu_profreg(nocurrent, NULL, NULL);
    ck_assert_msg(r.status == 2 && strstr(r.err, "--current"), "%d %s", r.status, tu_tail(r.err));
    tu_result_free(&r);
    const char *paired[] = {"compare",  "--base-runs", files[0], "--current", files[1],
                            "--report", tu_in_tmp("r.json"), NULL};
    r = tu_profreg(paired, NULL, NULL);
    ck_assert_msg(r.status == 0, "%d %s", r.status, tu_tail(r.err));
    ck_assert(tu_exists(tu_in_tmp("r.json")));
    tu_result_free(&r);
    tu_free_list(files, n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("paired");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_slower_build_flagged_on_time_with_its_culprit);
    tcase_add_test(tc, test_aa_pairs_under_switching_load_flag_nothing);
    tcase_add_test(tc, test_failing_base_run_and_bad_base_paths);
    tcase_add_test(tc, test_compare_base_runs_must_pair_up);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
