/* SPDX-License-Identifier: MIT */
/* check_clock.c — what drives CPU sampling (PROFREG_CLOCK), run under LD_PRELOAD:
 *  - auto, where the kernel allows perf events (perf_event_paranoid <= 2; skipped, saying so,
 *    elsewhere): metadata.clock "perf_event", at least 800 signals per CPU second at the default
 *    1000 Hz (measured: 950-990; CPU-time timers give the kernel's HZ, 250 here), and the chain
 *    workload's 50:30:20 leaf shares within 3 points;
 *  - timer forced: "timer", the same shares, no fallback counted;
 *  - perf events refused (a seccomp filter, as in a container): auto falls back to timers
 *    ("timer", one thread counted as fallen back, same shares); perf forced says so in one line
 *    and the program runs unprofiled, its output and status untouched;
 *  - a program that closes every descriptor (glibc close_range, and the raw system call no
 *    preload sees), forks and uses the numbers it gets next: output and status as without
 *    profreg; with close_range its thread is sampled again afterwards;
 *  - 500 threads at once at 10 kHz: output and status unchanged, every thread sampled by a
 *    perf event. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_TOLERANCE 3.0

static bool perf_allowed(void)
{
    char *v = tu_read_file("/proc/sys/kernel/perf_event_paranoid");
    int level = v ? atoi(v) : 3;
    free(v);
    if (level > 2)
        fprintf(stderr, "check_clock: perf_event_paranoid is %d: perf-event checks skipped\n",
                level);
    return level <= 2;
}

/* Runs argv (argv[0] a build-relative path) with the preload and env; the profile it wrote
 * into a fresh file under tu_tmp (NULL when none), and the result in *r. */
static json_t *run(const char *name, const char *const *argv_rel, const char *const *env_extra,
                   struct tu_result *r)
{
    char preload[4200], output[4400], path[4200];
    snprintf(path, sizeof path, "%s/%s.json", tu_tmp, name);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s", path);
    const char *env[16] = {preload, output};
    size_t m = 2;
    for (const char *const *e = env_extra; e && *e && m < 15; e++)
        env[m++] = *e;
    env[m] = NULL;
    const char *argv[16];
    size_t n = 0;
    static char abs[8][4200];
    for (; argv_rel[n] && n < 15; n++) {
        if (n < 8 && argv_rel[n][0] != '-' && strchr(argv_rel[n], '/')) {
            snprintf(abs[n], sizeof abs[n], "%s", tu_build_path(argv_rel[n]));
            argv[n] = abs[n];
        } else {
            argv[n] = argv_rel[n];
        }
    }
    argv[n] = NULL;
    *r = tu_run(argv, env, "");
    return tu_exists(path) ? tu_load_json(path) : NULL;
}

static const char *meta_str(json_t *p, const char *key)
{
    return json_string_value(json_object_get(json_object_get(p, "metadata"), key));
}

static double summary_num(json_t *p, const char *key)
{
    json_t *v = json_object_get(json_object_get(p, "summary"), key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void assert_chain_shares(json_t *p)
{
    const char *leaf[] = {"leaf_a", "leaf_b", "leaf_c"};
    const double want[] = {50, 30, 20};
    for (int i = 0; i < 3; i++) {
        json_t *f = tu_function(p, leaf[i]);
        ck_assert_msg(f, "%s missing", leaf[i]);
        ck_assert_msg(fabs(tu_self_pct(f) - want[i]) <= SHARE_TOLERANCE,
                      "%s: %.2f %%, expected %.0f +- %.0f", leaf[i], tu_self_pct(f), want[i],
                      SHARE_TOLERANCE);
    }
}

START_TEST(test_auto_uses_perf_events_at_the_rate_asked)
{
    if (!perf_allowed())
        return;
    struct tu_result r;
    json_t *p = run("auto", (const char *[]){"workloads/chain", NULL}, NULL, &r);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(meta_str(p, "clock"), "perf_event");
    double per_cpu_s = summary_num(p, "signals") / summary_num(p, "cpu_time_ms") * 1000;
    ck_assert_msg(per_cpu_s >= 800, "%.0f signals per CPU second at 1000 Hz", per_cpu_s);
    ck_assert(summary_num(p, "clock_fallback_threads") == 0);
    assert_chain_shares(p);
    json_decref(p);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_timer_forced)
{
    struct tu_result r;
    json_t *p = run("timer", (const char *[]){"workloads/chain", NULL},
                    (const char *[]){"PROFREG_CLOCK=timer", NULL}, &r);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(meta_str(p, "clock"), "timer");
    ck_assert(summary_num(p, "clock_fallback_threads") == 0);
    assert_chain_shares(p);
    json_decref(p);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_refused_perf_events_fall_back_to_timers)
{
    struct tu_result r;
    json_t *p =
        run("noperf", (const char *[]){"testlibs/noperf", "workloads/chain", NULL}, NULL, &r);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "chain done\n");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(meta_str(p, "clock"), "timer");
    ck_assert(summary_num(p, "clock_fallback_threads") == 1);
    assert_chain_shares(p);
    json_decref(p);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_perf_forced_but_refused_runs_unprofiled)
{
    struct tu_result r;
    json_t *p = run("forced", (const char *[]){"testlibs/noperf", "workloads/chain", NULL},
                    (const char *[]){"PROFREG_CLOCK=perf", NULL}, &r);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "chain done\n");
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(r.err, "PROFREG_CLOCK=perf") &&
                      strchr(r.err, '\n') == strrchr(r.err, '\n'),
                  "not one line naming PROFREG_CLOCK=perf: %s", tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

/* torture MODE ARG without and with the preload: the same output and status. */
static json_t *same_as_unprofiled(const char *name, const char *mode, const char *arg,
                                  const char *const *env)
{
    const char *argv[] = {tu_build_path("workloads/torture"), mode, arg, NULL};
    struct tu_result plain = tu_run(argv, (const char *[]){"PROFREG_DISABLE=1", NULL}, "");
    struct tu_result r;
    json_t *p = run(name, (const char *[]){"workloads/torture", mode, arg, NULL}, env, &r);
    ck_assert_int_eq(plain.status, 0);
    ck_assert_int_eq(r.status, plain.status);
    ck_assert_str_eq(r.out, plain.out);
    ck_assert_ptr_nonnull(p);
    tu_result_free(&plain);
    tu_result_free(&r);
    return p;
}

START_TEST(test_program_closing_every_descriptor)
{
    json_t *p = same_as_unprofiled("closefds", "closefds", "", (const char *[]){NULL});
    if (perf_allowed()) {
        /* its perf event went with the rest: close_range gave the thread a new one, so the
         * work after it (five times the work before) is sampled */
        json_t *f = tu_function(p, "closed_fds_work");
        ck_assert_msg(f && tu_self_pct(f) >= 50, "closed_fds_work %.2f %%",
                      f ? tu_self_pct(f) : 0.0);
    }
    json_decref(p);
    json_decref(same_as_unprofiled("closefds_raw", "closefds", "syscall", (const char *[]){NULL}));
}
END_TEST

START_TEST(test_500_threads_at_10khz)
{
    json_t *p = same_as_unprofiled("many", "many_threads", "500",
                                   (const char *[]){"PROFREG_FREQUENCY=10000", NULL});
    ck_assert(summary_num(p, "thread_count") == 501);
    ck_assert(summary_num(p, "unsampled_threads") == 0);
    if (perf_allowed())
        ck_assert_str_eq(meta_str(p, "clock"), "perf_event");
    json_decref(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_add_test(tc, test_auto_uses_perf_events_at_the_rate_asked);
    tcase_add_test(tc, test_timer_forced);
    tcase_add_test(tc, test_refused_perf_events_fall_back_to_timers);
    tcase_add_test(tc, test_perf_forced_but_refused_runs_unprofiled);
    tcase_add_test(tc, test_program_closing_every_descriptor);
    tcase_add_test(tc, test_500_threads_at_10khz);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
