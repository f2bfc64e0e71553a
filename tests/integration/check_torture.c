/* SPDX-License-Identifier: MIT */
/* check_torture.c — libprofreg.so never harms the profiled program: fork, exec, every way a
 * process ends, a program that takes SIGPROF over or blocks it, dlopen/dlclose under heavy
 * sampling, many threads, tiny programs, bad settings, parallel processes.
 *
 * Every case runs the torture workload twice, without and with the preload, and asserts the
 * same exit status or terminating signal and the same stdout; then the profile's presence,
 * validity and the expected function names. Every run has a time limit (tu_timeout_s): a
 * deadlock fails the test, never hangs it. */
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Own buffers: tu_build_path's rotate, and a test may run a program many times. */
static const char *torture(void)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/workloads/torture", tu_build());
    return path;
}

static const char *plugin(void)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/testlibs/libplugin.so", tu_build());
    return path;
}

/* Runs argv plainly, then under the preload with output into tu_tmp/out/ and extra env;
 * asserts the same status, signal and stdout, and returns the preloaded run. */
static struct tu_result both(const char *const *argv, const char *const *extra_env)
{
    struct tu_result plain = tu_run(argv, NULL, NULL);
    ck_assert_msg(!plain.timed_out, "%s %s timed out without the preload", argv[0], argv[1]);
    char preload[4200], output[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s/out/", tu_tmp);
    const char *env[16] = {preload, output};
    size_t n = 2;
    for (const char *const *e = extra_env; e && *e && n < 15; e++)
        env[n++] = *e;
    env[n] = NULL;
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_msg(!r.timed_out, "%s %s %s hung under the preload (killed after %d s)", argv[0],
                  argv[1], argv[2] ? argv[2] : "", tu_timeout_s);
    ck_assert_msg(r.status == plain.status && r.signal == plain.signal,
                  "%s %s: status %d signal %d under the preload, %d/%d without", argv[1],
                  argv[2] ? argv[2] : "", r.status, r.signal, plain.status, plain.signal);
    ck_assert_msg(strcmp(r.out, plain.out) == 0, "stdout differs:\n%s---\n%s", tu_tail(r.out),
                  tu_tail(plain.out));
    tu_result_free(&plain);
    return r;
}

/* The profiles written into tu_tmp/out, parsed; returns their number. */
static size_t profiles(json_t **out, size_t max)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/out", tu_tmp);
    char **paths;
    size_t n = tu_list_profiles(dir, &paths);
    ck_assert_uint_le(n, max);
    for (size_t i = 0; i < n; i++)
        out[i] = tu_load_json(paths[i]); /* fails the test when a file is not valid JSON */
    tu_free_list(paths, n);
    return n;
}

static void free_profiles(json_t **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(p[i]);
}

static void clear_out(void)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf %s/out", tu_tmp);
    free(tu_shell(cmd));
}

/* Exactly one profile was written; it names `present` (when given) and not `absent` (when
 * given). The output directory is emptied for the next run. */
static void expect_one_profile(const char *present, const char *absent)
{
    json_t *p[2];
    size_t n = profiles(p, 2);
    ck_assert_uint_eq(n, 1);
    if (present)
        ck_assert_msg(tu_function(p[0], present) != NULL, "%s missing", present);
    if (absent)
        ck_assert_msg(tu_function(p[0], absent) == NULL, "%s present", absent);
    free_profiles(p, n);
    clear_out();
}

static long pid_of(json_t *p)
{
    return (long)json_integer_value(json_object_get(json_object_get(p, "metadata"), "pid"));
}

static bool has(json_t *p, const char *fn)
{
    return tu_function(p, fn) != NULL;
}

/* ---- fork and exec ------------------------------------------------------------------------ */

START_TEST(test_fork_child_writes_its_own_profile)
{
    for (int death = 0; death < 2; death++) {
        const char *argv[] = {torture(), death ? "deathtest" : "fork", NULL};
        struct tu_result r = both(argv, NULL);
        ck_assert_str_eq(r.out, death ? "child exited 5\n" : "child exited 4\n");
        json_t *p[4];
        size_t n = profiles(p, 4);
        ck_assert_uint_eq(n, 2);
        /* the parent's holds parent_work only; the child's child_work only */
        json_t *parent = has(p[0], "parent_work") ? p[0] : p[1];
        json_t *child = parent == p[0] ? p[1] : p[0];
        ck_assert(has(parent, "parent_work") && !has(parent, "child_work"));
        ck_assert(has(child, "child_work") && !has(child, "parent_work"));
        ck_assert_int_ne(pid_of(parent), pid_of(child));
        /* the child's pid is in its file name */
        char want[64];
        snprintf(want, sizeof want, "_%ld.json", pid_of(child));
        const char *name =
            json_string_value(json_object_get(json_object_get(child, "metadata"), "trace_file"));
        ck_assert_msg(strstr(name, want), "%s lacks %s", name, want);
        free_profiles(p, n);
        tu_result_free(&r);
        clear_out();
    }
}
END_TEST

START_TEST(test_exec_starts_from_scratch)
{
    const char *argv[] = {torture(), "exec", "self", NULL};
    struct tu_result r = both(argv, NULL);
    ck_assert_str_eq(r.out, "exec'd\n");
    json_t *p[2];
    size_t n = profiles(p, 2);
    ck_assert_uint_eq(n, 1); /* the exec'd image's; the image before exec leaves none */
    ck_assert(has(p[0], "child_work"));
    ck_assert(!has(p[0], "parent_work"));
    free_profiles(p, n);
    tu_result_free(&r);

    /* a program without symbols of its own, exec'd: fine, a valid profile */
    clear_out();
    const char *argv2[] = {torture(), "exec", "/bin/true", NULL};
    r = both(argv2, NULL);
    n = profiles(p, 2);
    ck_assert_uint_eq(n, 1); /* /bin/true's own, valid (profiles() parses it) */
    free_profiles(p, n);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_target_glob_limits_profiling)
{
    /* a wrapper (sh) runs the workload and other programs: only the workload is profiled */
    char script[4300];
    snprintf(script, sizeof script, "%s tiny; /bin/true; echo done", torture());
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    const char *env[] = {"PROFREG_TARGET=tort*", NULL};
    struct tu_result r = both(argv, env);
    ck_assert_str_eq(r.out, "tiny\ndone\n");
    json_t *p[4];
    size_t n = profiles(p, 4);
    ck_assert_uint_eq(n, 1);
    const char *exe =
        json_string_value(json_object_get(json_object_get(p[0], "metadata"), "executable"));
    ck_assert_str_eq(exe, torture());
    free_profiles(p, n);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_record_output_file_with_descendants)
{
    /* record -o FILE: FILE is the command's own profile; programs it runs write beside it */
    char out[4300], script[4300];
    snprintf(out, sizeof out, "%s/x.json", tu_tmp);
    snprintf(script, sizeof script, "%s tiny; %s end exit; true", torture(), torture());
    const char *argv[] = {
        tu_build_path("profreg"), "record", "-q", "-o", out, "--", "/bin/sh", "-c", script, NULL};
    struct tu_result r = tu_run(argv, NULL, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "tiny\nending by exit\n");
    tu_result_free(&r);
    json_t *own = tu_load_json(out);
    const char *exe =
        json_string_value(json_object_get(json_object_get(own, "metadata"), "executable"));
    ck_assert_str_ne(exe, torture()); /* the shell's */
    json_decref(own);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '^x\\.[0-9]*\\.json$'", tu_tmp);
    char *n = tu_shell(cmd);
    ck_assert_str_eq(n, "2\n");
    free(n);
}
END_TEST

/* ---- every way to end ---------------------------------------------------------------------- */

START_TEST(test_every_way_to_end)
{
    static const struct {
        const char *how;
        int status, signal;
        const char *work;
    } cases[] = {
        {"return", 2, 0, "main_work"},         {"exit", 3, 0, "main_work"},
        {"_exit", 4, 0, "main_work"},          {"_Exit", 5, 0, "main_work"},
        {"pthread_exit", 0, 0, "worker_work"}, {"SIGINT", -1, SIGINT, "main_work"},
        {"SIGTERM", -1, SIGTERM, "main_work"}, {"SIGHUP", -1, SIGHUP, "main_work"},
        {"abort", -1, SIGABRT, "main_work"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {torture(), "end", cases[i].how, NULL};
        struct tu_result r = both(argv, NULL);
        ck_assert_msg(r.status == cases[i].status && r.signal == cases[i].signal,
                      "%s: status %d signal %d", cases[i].how, r.status, r.signal);
        json_t *p[2];
        size_t n = profiles(p, 2);
        ck_assert_msg(n == 1, "%s: %zu profiles (stderr: %s)", cases[i].how, n, tu_tail(r.err));
        ck_assert_msg(has(p[0], cases[i].work), "%s: %s missing", cases[i].how, cases[i].work);
        ck_assert_msg(strstr(r.err, "profreg: wrote "), "%s: %s", cases[i].how, tu_tail(r.err));
        free_profiles(p, n);
        tu_result_free(&r);
        clear_out();
    }
}
END_TEST

/* ---- signals -------------------------------------------------------------------------------- */

START_TEST(test_program_takes_sigprof_over)
{
    const char *argv[] = {torture(), "own_sigprof", NULL};
    struct tu_result r = both(argv, NULL);
    /* its handler runs, and it sees the default as the previous action, as without profreg */
    ck_assert_str_eq(r.out, "previous action was default: yes\nown handler ran: yes\n");
    ck_assert_msg(strstr(r.err, "profreg: the program installs its own SIGPROF action; "
                                "sampling stops here"),
                  "%s", tu_tail(r.err));
    expect_one_profile("main_work", NULL);
    tu_result_free(&r);

    /* ITIMER_PROF without a handler: the program dies of SIGPROF, as it would anyway */
    const char *argv2[] = {torture(), "itimer_only", NULL};
    r = both(argv2, NULL);
    ck_assert_int_eq(r.signal, SIGPROF);
    ck_assert(strstr(r.err, "arms ITIMER_PROF"));
    tu_result_free(&r);
}
END_TEST

START_TEST(test_thread_blocking_sigprof_is_not_sampled)
{
    const char *argv[] = {torture(), "block_sigprof", NULL};
    struct tu_result r = both(argv, NULL);
    expect_one_profile("main_work", "blocked_work");
    tu_result_free(&r);
}
END_TEST

START_TEST(test_blocking_read_is_restarted)
{
    /* wall-clock sampling signals a thread blocked in read(): SA_RESTART, so no EINTR */
    const char *argv[] = {torture(), "read_restart", NULL};
    const char *env[] = {"PROFREG_MODE=wall", "PROFREG_FREQUENCY=2000", NULL};
    struct tu_result r = both(argv, env);
    ck_assert_str_eq(r.out, "read returned 1 (ok)\n");
    json_t *p[2];
    size_t n = profiles(p, 2);
    ck_assert_uint_eq(n, 1);
    ck_assert(has(p[0], "mode_read_restart") || has(p[0], "late_writer"));
    free_profiles(p, n);
    tu_result_free(&r);
}
END_TEST

/* ---- dlopen / dlclose ----------------------------------------------------------------------- */

START_TEST(test_unloaded_library_still_named)
{
    const char *argv[] = {torture(), "dlopen", plugin(), "1", NULL};
    struct tu_result r = both(argv, NULL);
    json_t *p[2];
    size_t n = profiles(p, 2);
    ck_assert_uint_eq(n, 1);
    json_t *f = tu_function(p[0], "plugin_burn");
    ck_assert_msg(f != NULL, "plugin_burn not named after dlclose");
    ck_assert_str_eq(json_string_value(json_object_get(f, "module")), "libplugin.so");
    ck_assert_str_eq(json_string_value(json_object_get(f, "source_file")), "plugin.c");
    ck_assert(has(p[0], "after_unload_work"));
    free_profiles(p, n);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_dlopen_loop_never_deadlocks)
{
    /* four threads load and unload a library 1500 times each while wall-clock sampling runs
     * at 10 kHz: without profreg's guard around the loader this deadlocks within a few runs */
    const char *argv[] = {torture(), "dlopen_threads", plugin(), "1500", NULL};
    const char *env[] = {"PROFREG_MODE=wall", "PROFREG_FREQUENCY=10000", "PROFREG_QUIET=1", NULL};
    int saved = tu_timeout_s;
    tu_timeout_s = 30;
    for (int i = 0; i < 20; i++) {
        struct tu_result r = both(argv, env);
        ck_assert_str_eq(r.out, "4 threads loaded and unloaded 1500 times each: ok\n");
        tu_result_free(&r);
    }
    tu_timeout_s = saved;
    json_t *p[64];
    size_t n = profiles(p, 64);
    ck_assert_uint_eq(n, 20);
    free_profiles(p, n);
}
END_TEST

/* ---- threads -------------------------------------------------------------------------------- */

START_TEST(test_threads_in_waves_and_clone)
{
    const char *argv[] = {torture(), "threads", NULL};
    struct tu_result r = both(argv, NULL);
    ck_assert_str_eq(r.out, "64 threads joined\n");
    json_t *p[2];
    size_t n = profiles(p, 2);
    ck_assert_uint_eq(n, 1);
    ck_assert(has(p[0], "worker_work"));
    /* the main thread and 64 more, each sampled */
    ck_assert_int_eq(
        (int)json_number_value(json_object_get(json_object_get(p[0], "summary"), "thread_count")),
        65);
    free_profiles(p, n);
    tu_result_free(&r);
    clear_out();

    /* a thread made by clone(2) directly is not sampled, and nothing breaks */
    const char *argv2[] = {torture(), "clone", NULL};
    r = both(argv2, NULL);
    ck_assert_str_eq(r.out, "clone thread done\n");
    expect_one_profile("main_work", NULL);
    tu_result_free(&r);
}
END_TEST

/* ---- edges ---------------------------------------------------------------------------------- */

START_TEST(test_tiny_program)
{
    const char *argv[] = {torture(), "tiny", NULL};
    struct tu_result r = both(argv, NULL);
    json_t *p[2];
    size_t n = profiles(p, 2);
    ck_assert_uint_eq(n, 1);
    json_t *s = json_object_get(p[0], "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "total_samples")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(p[0], "top_functions")), 0);
    free_profiles(p, n);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_bad_settings_and_output)
{
    /* an output directory that cannot be created (tried when the profile is written): one
     * line, the program unaffected */
    const char *argv[] = {torture(), "end", "exit", NULL};
    char preload[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
    const char *env[] = {preload, "PROFREG_OUTPUT=/proc/no/such/dir/", NULL};
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.out, "ending by exit\n");
    ck_assert_msg(
        strncmp(r.err, "profreg: no profile written: cannot create directory /proc/no", 61) == 0 &&
            strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
        "%s", tu_tail(r.err));
    tu_result_free(&r);

    /* values that do not parse: one line naming each variable, defaults used */
    const char *env2[] = {"PROFREG_FREQUENCY=fast", "PROFREG_MODE=sometimes", NULL};
    r = both(argv, env2);
    ck_assert_msg(strstr(r.err, "PROFREG_FREQUENCY") && strstr(r.err, "PROFREG_MODE"), "%s",
                  tu_tail(r.err));
    json_t *p[2];
    size_t n = profiles(p, 2);
    ck_assert_uint_eq(n, 1);
    json_t *m = json_object_get(p[0], "metadata");
    ck_assert_double_eq(json_number_value(json_object_get(m, "frequency_hz")), 1000.0);
    ck_assert_str_eq(json_string_value(json_object_get(m, "mode")), "cpu");
    free_profiles(p, n);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_static_program_under_record)
{
    const char *argv[] = {tu_build_path("profreg"), "record", "--",
                          tu_build_path("testlibs/static_hello"), NULL};
    struct tu_result r = tu_run(argv, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    ck_assert_msg(strstr(r.err, "is statically linked: LD_PRELOAD cannot apply"), "%s",
                  tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

/* A setuid program run by another user: the loader ignores the preload (secure mode). */
START_TEST(test_setuid_program_left_alone)
{
    char *have = tu_shell("command -v setpriv || true");
    if (geteuid() != 0 || !have || !*have) {
        fprintf(stderr, "skipped: needs root and setpriv(1) to run a setuid program as nobody\n");
        free(have);
        return;
    }
    free(have);
    char copy[4300], cmd[9000];
    snprintf(copy, sizeof copy, "%s/suid_torture", tu_tmp);
    snprintf(cmd, sizeof cmd, "cp %s %s && chmod 4755 %s && chmod 777 %s && echo ok", torture(),
             copy, copy, tu_tmp);
    free(tu_shell(cmd));
    const char *argv[] = {
        "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", copy, "end", "exit",
        NULL};
    struct tu_result r = both(argv, NULL);
    ck_assert_str_eq(r.out, "ending by exit\n");
    ck_assert_int_eq(r.status, 3);
    json_t *p[2];
    ck_assert_uint_eq(profiles(p, 2), 0);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_parallel_processes_one_directory)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "cd %s && for i in 1 2 3 4 5 6 7 8; do LD_PRELOAD=%s PROFREG_OUTPUT=%s/out/ "
             "PROFREG_QUIET=1 %s end exit >/dev/null & done; wait; echo finished",
             tu_tmp, tu_build_path("libprofreg.so"), tu_tmp, torture());
    char *out = tu_shell(cmd);
    ck_assert_str_eq(out, "finished\n");
    free(out);
    json_t *p[16];
    size_t n = profiles(p, 16);
    ck_assert_uint_eq(n, 8);
    for (size_t i = 0; i < n; i++) {
        ck_assert(has(p[i], "main_work"));
        for (size_t k = 0; k < i; k++)
            ck_assert_int_ne(pid_of(p[i]), pid_of(p[k]));
    }
    free_profiles(p, n);
    /* no temporary file left behind */
    snprintf(cmd, sizeof cmd, "ls -A %s/out | grep -vc '^profile_.*\\.json$' || true", tu_tmp);
    out = tu_shell(cmd);
    ck_assert_str_eq(out, "0\n");
    free(out);
}
END_TEST

/* ---- found by a fault campaign --------------------------------------------------------------- */

START_TEST(test_no_descriptor_in_the_programs_numbers)
{
    /* profreg's descriptors (perf events, and the pipe libunwind opens when it starts) stay at
     * 512 and above: the program sees the same descriptors below 512 as without profreg */
    for (int u = 0; u < 2; u++) {
        const char *argv[] = {torture(), "fds", NULL};
        const char *env[] = {u ? "PROFREG_UNWIND=slow" : "PROFREG_UNWIND=fast", NULL};
        struct tu_result r = both(argv, env);
        expect_one_profile(NULL, NULL);
        tu_result_free(&r);
    }
    /* Under a descriptor limit below 512 (found by make stress), nothing can go there: the
     * perf events and libunwind's pipe stayed at 3, 4, 5. Now profreg does without them
     * (CPU-time timers instead of perf events). */
    const char *argv[] = {"prlimit", "--nofile=16", torture(), "fds", NULL};
    struct tu_result r = both(argv, NULL);
    json_t *p[2];
    ck_assert_uint_eq(profiles(p, 2), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p[0], "metadata"), "clock")),
                     "timer");
    free_profiles(p, 1);
    clear_out();
    tu_result_free(&r);
}
END_TEST

START_TEST(test_reused_descriptor_numbers_stay_the_programs)
{
    /* The program closes every descriptor (glibc's close_range, or the raw system call no
     * preload sees), opens inputs and a log, which get 3 to 11, and reads and writes them
     * while threads work in deep stacks. libunwind validated addresses through a pipe it had
     * opened at the first unwind (3 and 4 in a small program): the handler read bytes of an
     * input and wrote memory into another descriptor of the program's. */
    static const char *const hows[] = {"", "syscall"};
    static const char *const unwinds[] = {"PROFREG_UNWIND=fast", "PROFREG_UNWIND=slow"};
    for (int h = 0; h < 2; h++) {
        for (int u = 0; u < 2; u++) {
            const char *argv[] = {torture(), "fdreuse", hows[h], NULL};
            const char *env[] = {unwinds[u], "PROFREG_FREQUENCY=10000", NULL};
            struct tu_result r = both(argv, env);
            ck_assert_str_eq(r.out, "fds 3-10 11: inputs intact, log intact\n");
            expect_one_profile("reuse_work", NULL);
            tu_result_free(&r);
        }
    }
}
END_TEST

START_TEST(test_small_signal_stack)
{
    /* A signal handler of the program works on an 8 KiB signal stack while samples arrive:
     * the SIGPROF handler runs on that stack too. It needed about 4 KB for its frame buffer
     * alone and crashed into a guard page below the stack, or wrote over what lay below. Now
     * the samples there are skipped and counted. */
    static const char *const hows[] = {"guard", "canary"};
    static const char *const unwinds[] = {"PROFREG_UNWIND=fast", "PROFREG_UNWIND=slow"};
    for (int h = 0; h < 2; h++) {
        for (int u = 0; u < 2; u++) {
            const char *argv[] = {torture(), "altstack", hows[h], NULL};
            const char *env[] = {unwinds[u], "PROFREG_FREQUENCY=10000", NULL};
            struct tu_result r = both(argv, env);
            ck_assert_int_eq(r.status, 0);
            json_t *p[2];
            ck_assert_uint_eq(profiles(p, 2), 1);
            json_t *skipped = json_object_get(json_object_get(p[0], "summary"), "skipped_samples");
            ck_assert_msg(json_integer_value(skipped) > 0, "%s %s: no sample skipped", hows[h],
                          unwinds[u]);
            free_profiles(p, 1);
            clear_out();
            tu_result_free(&r);
        }
    }
}
END_TEST

START_TEST(test_exit_from_signal_handler)
{
    /* A SIGALRM handler ends a two-thread program with _exit(7) or exit(7) while its main
     * thread allocates and frees (malloc's arena lock held most of the time). profreg's exit
     * work used to run right there: it allocated and waited forever on the lock the handler had
     * interrupted (16 of 30 runs with _exit, 7 of 20 with exit hung). Every run must end with
     * status 7, leaving a valid profile or one line saying why there is none. */
    static const char *const hows[] = {"_exit", "exit"};
    int saved = tu_timeout_s;
    tu_timeout_s = 20;
    for (int h = 0; h < 2; h++) {
        for (int i = 0; i < 10; i++) {
            const char *argv[] = {torture(), "exit_in_handler", hows[h], NULL};
            struct tu_result r = both(argv, NULL); /* fails on a hang, or another status */
            ck_assert_int_eq(r.status, 7);
            json_t *p[2];
            size_t n = profiles(p, 2); /* fails when a file is not valid JSON */
            if (n == 1)
                ck_assert_msg(strncmp(r.err, "profreg: wrote ", 15) == 0, "%s", tu_tail(r.err));
            else
                ck_assert_msg(strncmp(r.err, "profreg: no profile written: ", 29) == 0 &&
                                  strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                              "%s: no profile, and stderr: %s", hows[h], tu_tail(r.err));
            free_profiles(p, n);
            clear_out();
            tu_result_free(&r);
        }
    }
    tu_timeout_s = saved;
}
END_TEST

/* Runs argv in dir (the working directory at start), plainly and then under the preload with
 * env (PROFREG_OUTPUT not set unless env sets it; only the torture workload is profiled);
 * asserts the same status and stdout, and returns the preloaded run. */
static struct tu_result both_in(const char *dir, const char *const *argv, const char *const *env)
{
    char back[4200], preload[4200], clean[4400];
    ck_assert_ptr_nonnull(getcwd(back, sizeof back));
    ck_assert_int_eq(chdir(dir), 0);
    struct tu_result plain = tu_run(argv, NULL, NULL);
    snprintf(clean, sizeof clean, "rm -rf '%s'/* 2>/dev/null; true", dir);
    free(tu_shell(clean)); /* anything the plain run left */
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
    const char *full[8] = {preload, "PROFREG_TARGET=torture"};
    size_t n = 2;
    for (const char *const *e = env; e && *e && n < 7; e++)
        full[n++] = *e;
    full[n] = NULL;
    if (!tu_exists(dir)) /* the plain run removed it: the same start for both */
        ck_assert_int_eq(mkdir(dir, 0777), 0);
    ck_assert_int_eq(chdir(dir), 0);
    struct tu_result r = tu_run(argv, full, NULL);
    ck_assert_int_eq(chdir(back), 0);
    ck_assert_msg(!r.timed_out, "%s %s hung", argv[1], argv[2]);
    ck_assert_msg(r.status == plain.status && r.signal == plain.signal,
                  "%s %s: status %d under the preload, %d without (stderr: %s)", argv[1], argv[2],
                  r.status, plain.status, tu_tail(r.err));
    ck_assert_msg(strcmp(r.out, plain.out) == 0, "stdout differs:\n%s---\n%s", tu_tail(r.out),
                  tu_tail(plain.out));
    tu_result_free(&plain);
    return r;
}

START_TEST(test_nothing_created_before_main)
{
    /* profile_results/<exe>/ was created in the working directory when the library loaded:
     * a program cloning into "." found it not empty (git clone exits 128), and a program
     * removing the directory it started in could not. Now directories are made only when the
     * profile is written, under the directory the process started in. */
    char dir[4200], want[4400];
    snprintf(dir, sizeof dir, "%s/start", tu_tmp);
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    const char *argv[] = {torture(), "startdir", "", NULL};
    struct tu_result r = both_in(dir, argv, NULL);
    ck_assert_str_eq(r.out, "entries at start: 0\n");
    snprintf(want, sizeof want, "%s/profile_results/torture", dir);
    char **paths;
    size_t n = tu_list_profiles(want, &paths); /* under the starting directory, not "/" */
    ck_assert_msg(n == 1, "%zu profiles in %s (stderr: %s)", n, want, tu_tail(r.err));
    json_decref(tu_load_json(paths[0]));
    tu_free_list(paths, n);
    tu_result_free(&r);

    /* a relative PROFREG_OUTPUT is taken from the starting directory too */
    snprintf(want, sizeof want, "rm -rf %s/profile_results", dir);
    free(tu_shell(want));
    const char *rel[] = {"PROFREG_OUTPUT=rel/p.json", NULL};
    r = both_in(dir, argv, rel);
    snprintf(want, sizeof want, "%s/rel/p.json", dir);
    ck_assert_msg(tu_exists(want), "%s missing (stderr: %s)", want, tu_tail(r.err));
    json_decref(tu_load_json(want));
    tu_result_free(&r);
    snprintf(want, sizeof want, "rm -rf %s/rel", dir);
    free(tu_shell(want));

    /* the program removes the directory it started in: it can, and profreg does not create it
     * again; one line says where the profile would have gone */
    const char *argv2[] = {torture(), "startdir", "rmdir", NULL};
    r = both_in(dir, argv2, NULL);
    ck_assert_str_eq(r.out, "entries at start: 0\nrmdir of the starting directory: ok\n");
    ck_assert_msg(!tu_exists(dir), "%s was created again", dir);
    ck_assert_msg(strncmp(r.err, "profreg: no profile written: ", 29) == 0 &&
                      strstr(r.err, "no longer exists") &&
                      strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "%s", tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

START_TEST(test_raw_clone_child_starts_afresh)
{
    /* A child made by the clone system call without fork's handlers (as some runtimes do)
     * wrote the parent's samples as its own profile (296 of 296 runs). A new process is now
     * noticed by its pid where it matters (a thread registered, the end) and starts afresh:
     * whatever it writes holds none of the parent's samples. */
    static const char *const hows[] = {"", "thread", "_exit"};
    for (int h = 0; h < 3; h++) {
        const char *argv[] = {torture(), "rawclone", hows[h], NULL};
        struct tu_result r = both(argv, NULL);
        ck_assert_str_eq(r.out, "clone child exited 6\n");
        json_t *p[4];
        size_t n = profiles(p, 4);
        /* with _exit, a child that made no thread writes only where the kernel can say it
         * shares no memory with the parent (kcmp), unlike a vfork child */
        ck_assert_msg(n == 2 || (n == 1 && h == 2), "%s: %zu profiles", hows[h], n);
        size_t with_parent_work = 0;
        for (size_t i = 0; i < n; i++)
            with_parent_work += has(p[i], "parent_work");
        ck_assert_msg(with_parent_work == 1, "%s: parent_work in %zu of %zu profiles", hows[h],
                      with_parent_work, n);
        json_t *parent = has(p[0], "parent_work") ? p[0] : p[1];
        ck_assert(!has(parent, "child_work") && !has(parent, "worker_work"));
        if (n == 2) {
            json_t *child = parent == p[0] ? p[1] : p[0];
            ck_assert_int_ne(pid_of(parent), pid_of(child));
            if (h == 1) /* sampled from its first thread on: that thread, and its own */
                ck_assert_msg(has(child, "worker_work"), "the child's thread was not sampled");
        }
        free_profiles(p, n);
        clear_out();
        tu_result_free(&r);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("torture");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_fork_child_writes_its_own_profile);
    tcase_add_test(tc, test_exec_starts_from_scratch);
    tcase_add_test(tc, test_target_glob_limits_profiling);
    tcase_add_test(tc, test_record_output_file_with_descendants);
    tcase_add_test(tc, test_every_way_to_end);
    tcase_add_test(tc, test_program_takes_sigprof_over);
    tcase_add_test(tc, test_thread_blocking_sigprof_is_not_sampled);
    tcase_add_test(tc, test_blocking_read_is_restarted);
    tcase_add_test(tc, test_unloaded_library_still_named);
    tcase_add_test(tc, test_dlopen_loop_never_deadlocks);
    tcase_add_test(tc, test_threads_in_waves_and_clone);
    tcase_add_test(tc, test_tiny_program);
    tcase_add_test(tc, test_bad_settings_and_output);
    tcase_add_test(tc, test_static_program_under_record);
    tcase_add_test(tc, test_setuid_program_left_alone);
    tcase_add_test(tc, test_parallel_processes_one_directory);
    suite_add_tcase(s, tc);
    TCase *campaign = tcase_create("campaign");
    tcase_add_checked_fixture(campaign, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(campaign, 600);
    tcase_add_test(campaign, test_no_descriptor_in_the_programs_numbers);
    tcase_add_test(campaign, test_reused_descriptor_numbers_stay_the_programs);
    tcase_add_test(campaign, test_small_signal_stack);
    tcase_add_test(campaign, test_exit_from_signal_handler);
    tcase_add_test(campaign, test_nothing_created_before_main);
    tcase_add_test(campaign, test_raw_clone_child_starts_afresh);
    suite_add_tcase(s, campaign);
    return tu_run_suite(s);
}
