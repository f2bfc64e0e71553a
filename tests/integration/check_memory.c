/* SPDX-License-Identifier: MIT */
/* check_memory.c — the memory layer against known truth: the workloads print what they
 * really allocated ("NAME BYTES COUNT"), and the profile's estimates must match it.
 *
 * Tolerances follow from the sampling (docs/design.md): an estimate of B bytes at rate R has a
 * standard error of about sqrt(R x B); shares and totals at the default rate are held to the
 * contract's 3 points and 10 % (both over 5 standard errors here), other estimates to 5
 * standard errors. At PROFREG_MEMORY_RATE=1 every allocation of 8 bytes or more is sampled with
 * probability above 0.9996, so figures of 4096-byte blocks are exact: a miscount fails. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RATE 524288.0

/* ---- running ----------------------------------------------------------------------------- */

struct run {
    char *out, *err;
    int status;
};

/* Runs a workload (build/workloads/NAME ARGS) with the preload writing into tu_tmp/DIR/ and
 * the environment entries given (NULL-terminated, "PROFREG_MEMORY=1" and the rest). */
static struct run run_profiled(const char *dir, const char *name, const char *const *args,
                               const char *const *env_extra)
{
    char exe[4096], preload[4200], output[4200];
    snprintf(exe, sizeof exe, "%s/workloads/%s", tu_build(), name);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s/%s/", tu_tmp, dir);
    const char *argv[16] = {exe};
    size_t n = 1;
    for (const char *const *a = args; a && *a && n < 15; a++)
        argv[n++] = *a;
    const char *env[24] = {preload, output, "PROFREG_QUIET=1"};
    size_t m = 3;
    for (const char *const *e = env_extra; e && *e && m < 23; e++)
        env[m++] = *e;
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_msg(!r.timed_out && r.signal == 0, "%s %s: killed (signal %d, timed out %d)", name,
                  args && args[0] ? args[0] : "", r.signal, r.timed_out);
    struct run out = {r.out, r.err, r.status};
    return out;
}

/* The same workload without profreg: its stdout. */
static char *run_plain(const char *name, const char *const *args)
{
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/workloads/%s", tu_build(), name);
    const char *argv[16] = {exe};
    size_t n = 1;
    for (const char *const *a = args; a && *a && n < 15; a++)
        argv[n++] = *a;
    struct tu_result r = tu_run(argv, NULL, NULL);
    ck_assert_int_eq(r.status, 0);
    free(r.err);
    return r.out;
}

/* The only profile in tu_tmp/DIR. */
static json_t *only_profile(const char *dir)
{
    char **paths;
    size_t n = tu_list_profiles(tu_in_tmp(dir), &paths);
    ck_assert_msg(n == 1, "%zu profiles in %s", n, dir);
    json_t *p = tu_load_json(paths[0]);
    tu_free_list(paths, n);
    return p;
}

/* ---- what the workloads say and what the profile says ------------------------------------ */

/* "NAME BYTES COUNT" lines: the truth for NAME, false when absent. */
static bool truth_of(const char *out, const char *name, double *bytes, double *count)
{
    size_t len = strlen(name);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, name, len) == 0 && l[len] == ' ' &&
            sscanf(l + len, "%lf %lf", bytes, count) == 2)
            return true;
    }
    return false;
}

static double truth_bytes(const char *out, const char *name)
{
    double b, c;
    ck_assert_msg(truth_of(out, name, &b, &c), "no truth line for %s in: %s", name, out);
    return b;
}

static double truth_count(const char *out, const char *name)
{
    double b, c;
    ck_assert_msg(truth_of(out, name, &b, &c), "no truth line for %s in: %s", name, out);
    return c;
}

static json_t *memory_of(json_t *p)
{
    json_t *m = json_object_get(p, "memory");
    ck_assert_msg(json_is_object(m), "the profile has no memory section");
    return m;
}

static json_t *mem_function(json_t *p, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(memory_of(p), "functions"), i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return f;
    }
    return NULL;
}

static double num(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

/* A function's figure (0 when the function is not in the section). */
static double fig(json_t *p, const char *name, const char *key)
{
    json_t *f = mem_function(p, name);
    return f ? num(f, key) : 0;
}

/* One standard error of an estimate of `bytes` at `rate` (docs/design.md). */
static double stderr_bytes(double rate, double bytes)
{
    return sqrt(rate * bytes);
}

/* ---- the contract's shares ---------------------------------------------------------------- */

/* Three functions allocate 60:30:10 % of 8 GiB in sizes from 8 B to 1 MiB on four threads;
 * at the default rate the shares are within 3 points and the total within 10 %. Run with
 * memory_env (PROFREG_MEMORY=1 or only) into tu_tmp/DIR; the profile, the caller's to free. */
static json_t *check_shares(const char *dir, const char *memory_env)
{
    const char *args[] = {"shares", "8192", NULL};
    const char *env[] = {memory_env, NULL};
    struct run r = run_profiled(dir, "alloc_shares", args, env);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(r.err[0] == '\0', "%s", tu_tail(r.err));
    json_t *p = only_profile(dir);
    json_t *m = memory_of(p);
    ck_assert(num(m, "rate_bytes") == DEFAULT_RATE);
    const char *names[] = {"alloc_60", "alloc_30", "alloc_10"};
    double truth_total = 0;
    for (int i = 0; i < 3; i++)
        truth_total += truth_bytes(r.out, names[i]);
    double est_total = num(m, "alloc_bytes");
    ck_assert_msg(fabs(est_total - truth_total) <= 0.10 * truth_total,
                  "estimated %.0f bytes, allocated %.0f", est_total, truth_total);
    for (int i = 0; i < 3; i++) {
        double truth_share = 100.0 * truth_bytes(r.out, names[i]) / truth_total;
        double share = 100.0 * fig(p, names[i], "alloc_bytes") / est_total;
        ck_assert_msg(fabs(share - truth_share) <= 3.0, "%s: %.2f %% estimated, %.2f %% real",
                      names[i], share, truth_share);
    }
    /* the three own every sampled allocation between them and free it all */
    ck_assert(num(m, "lost_samples") == 0 && num(m, "untracked_samples") == 0);
    ck_assert(num(m, "exit_live_bytes") == 0);
    double in_three = 0, in_stacks = 0;
    for (int i = 0; i < 3; i++)
        in_three += fig(p, names[i], "alloc_bytes");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m, "stacks"), i, s) in_stacks += num(s, "alloc_bytes");
    ck_assert(in_stacks == est_total);
    ck_assert(in_three == est_total);
    /* the peak: at most every thread's 32 live blocks of at most 1 MiB, estimated */
    ck_assert(num(m, "peak_live_bytes") > 0);
    ck_assert(num(m, "peak_live_bytes") <=
              4 * 32 * 1048576.0 + 10 * stderr_bytes(DEFAULT_RATE, 4 * 32 * 1048576.0));
    /* every sampled stack is whole: from the threads' start (pthread_create) to the caller */
    ck_assert(fig(p, "worker", "alloc_bytes") == est_total);
    ck_assert(fig(p, "start_thread", "alloc_bytes") == est_total);
    free(r.out);
    free(r.err);
    return p;
}

START_TEST(test_shares_and_total_from_four_threads)
{
    json_t *p = check_shares("shares", "PROFREG_MEMORY=1");
    ck_assert(num(json_object_get(p, "summary"), "total_samples") > 0);
    ck_assert_ptr_null(json_object_get(json_object_get(p, "metadata"), "cpu_sampling"));
    json_decref(p);
}
END_TEST

/* PROFREG_MEMORY=only: the same shares from the same threads, and nothing sampled CPU time
 * (with CPU sampling, the tens of ms of CPU time this takes give a dozen samples or more). */
START_TEST(test_memory_only_shares)
{
    json_t *p = check_shares("only", "PROFREG_MEMORY=only");
    json_t *md = json_object_get(p, "metadata"), *sum = json_object_get(p, "summary");
    ck_assert(json_is_false(json_object_get(md, "cpu_sampling")));
    ck_assert_str_eq(json_string_value(json_object_get(md, "mode")), "cpu");
    ck_assert_ptr_null(json_object_get(md, "clock"));
    ck_assert_ptr_null(json_object_get(md, "frequency_hz"));
    ck_assert(num(sum, "total_samples") == 0);
    ck_assert(num(sum, "total_time_ms") == 0);
    ck_assert_ptr_null(json_object_get(sum, "signals"));
    ck_assert(num(sum, "cpu_time_ms") > 20); /* the work was done */
    ck_assert(num(sum, "thread_count") == 5); /* the main thread and the four workers */
    ck_assert(num(sum, "unsampled_threads") == 0);
    ck_assert_int_eq(json_array_size(json_object_get(p, "top_functions")), 0);
    json_t *stacks = json_object_get(p, "stacks");
    ck_assert(json_is_array(stacks) && json_array_size(stacks) == 0);
    json_decref(p);
}
END_TEST

/* A value PROFREG_MEMORY does not take: one line naming it and the values it takes; the run
 * is profiled as with 0 (CPU samples, no memory section). */
START_TEST(test_bad_memory_value_warns)
{
    const char *args[] = {"shares", "256", NULL};
    const char *env[] = {"PROFREG_MEMORY=on", NULL};
    struct run r = run_profiled("badmem", "alloc_shares", args, env);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strcmp(r.err, "profreg: PROFREG_MEMORY='on' is not 1, 0 or only; using 0\n") == 0,
                  "%s", tu_tail(r.err));
    json_t *p = only_profile("badmem");
    ck_assert_ptr_null(json_object_get(p, "memory"));
    ck_assert_ptr_null(json_object_get(json_object_get(p, "metadata"), "cpu_sampling"));
    json_decref(p);
    free(r.out);
    free(r.err);
}
END_TEST

/* At rate 1 every allocation is sampled (p >= 1 - exp(-8)): counts and bytes are known. */
START_TEST(test_counts_at_rate_one)
{
    const char *args[] = {"shares", "64", NULL};
    const char *env[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=1", NULL};
    struct run r = run_profiled("counts", "alloc_shares", args, env);
    ck_assert_int_eq(r.status, 0);
    json_t *p = only_profile("counts");
    const char *names[] = {"alloc_60", "alloc_30", "alloc_10"};
    for (int i = 0; i < 3; i++) {
        double b = truth_bytes(r.out, names[i]), c = truth_count(r.out, names[i]);
        double eb = fig(p, names[i], "alloc_bytes"), ec = fig(p, names[i], "alloc_count");
        ck_assert_msg(fabs(eb - b) <= 0.001 * b, "%s: %.0f bytes estimated, %.0f real", names[i],
                      eb, b);
        ck_assert_msg(fabs(ec - c) <= 0.005 * c + 1, "%s: %.0f allocations estimated, %.0f real",
                      names[i], ec, c);
        ck_assert_msg(fig(p, names[i], "samples") >= c * 0.99, "%s: %.0f samples for %.0f",
                      names[i], fig(p, names[i], "samples"), c);
    }
    json_decref(p);
    free(r.out);
    free(r.err);
}
END_TEST

/* hold_peak holds 128 MiB at once and frees it; leak_known leaks 64 MiB; churn allocates and
 * frees 64 MiB: the peak is hold_peak's, what is live at exit leak_known's. */
START_TEST(test_leak_and_peak)
{
    const double rate = 16384;
    const char *args[] = {"leak", "64", NULL};
    const char *env[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=16K", NULL};
    struct run r = run_profiled("leak", "alloc_shares", args, env);
    ck_assert_int_eq(r.status, 0);
    json_t *p = only_profile("leak");
    json_t *m = memory_of(p);
    double leak = truth_bytes(r.out, "leak_known"), held = truth_bytes(r.out, "hold_peak");
    double tol_leak = 5 * stderr_bytes(rate, leak), tol_held = 5 * stderr_bytes(rate, held);
    double exit_leak = fig(p, "leak_known", "exit_live_bytes");
    ck_assert_msg(fabs(exit_leak - leak) <= tol_leak, "leak_known: %.0f live at exit, leaked %.0f",
                  exit_leak, leak);
    ck_assert_msg(fabs(num(m, "exit_live_bytes") - leak) <= tol_leak, "exit_live_bytes %.0f",
                  num(m, "exit_live_bytes"));
    ck_assert(fig(p, "hold_peak", "exit_live_bytes") == 0);
    ck_assert(fig(p, "churn", "exit_live_bytes") == 0);
    double peak_held = fig(p, "hold_peak", "peak_live_bytes");
    ck_assert_msg(fabs(peak_held - held) <= tol_held, "hold_peak: %.0f live at the peak, held %.0f",
                  peak_held, held);
    ck_assert_msg(fabs(num(m, "peak_live_bytes") - held) <= tol_held, "peak_live_bytes %.0f",
                  num(m, "peak_live_bytes"));
    ck_assert(fig(p, "leak_known", "peak_live_bytes") == 0); /* it came after the peak */
    ck_assert(num(m, "peak_time_ms") > 0 &&
              num(m, "peak_time_ms") <= num(json_object_get(p, "summary"), "wall_time_ms"));
    json_decref(p);
    free(r.out);
    free(r.err);
}
END_TEST

/* ---- C++ ---------------------------------------------------------------------------------- */

static void assert_exact(json_t *p, const char *out, const char *name)
{
    ck_assert_msg(mem_function(p, name), "%s missing from the memory section", name);
    ck_assert_msg(fig(p, name, "alloc_bytes") == truth_bytes(out, name),
                  "%s: %.0f bytes estimated, %.0f real", name, fig(p, name, "alloc_bytes"),
                  truth_bytes(out, name));
    ck_assert_msg(fig(p, name, "alloc_count") == truth_count(out, name),
                  "%s: %.0f allocations estimated, %.0f real", name, fig(p, name, "alloc_count"),
                  truth_count(out, name));
}

START_TEST(test_cxx_new_containers_and_strings)
{
    const char *env[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=1", NULL};
    struct run r = run_profiled("cxx", "alloc_cxx", NULL, env);
    ck_assert_int_eq(r.status, 0);
    char *plain = run_plain("alloc_cxx", NULL);
    ck_assert_str_eq(r.out, plain);
    ck_assert_ptr_nonnull(strstr(r.out, "huge new: std::bad_alloc"));
    ck_assert_ptr_nonnull(strstr(r.out, "new handler: 3 calls, then std::bad_alloc"));
    json_t *p = only_profile("cxx");
    /* every operator new and delete, before main, after main */
    assert_exact(p, r.out, "every_new()");
    assert_exact(p, r.out, "Registry::Registry()");
    assert_exact(p, r.out, "Registry::~Registry()");
    assert_exact(p, r.out, "cxx_leak()");
    ck_assert(fig(p, "cxx_leak()", "exit_live_bytes") == truth_bytes(r.out, "cxx_leak()"));
    ck_assert(num(memory_of(p), "exit_live_bytes") == truth_bytes(r.out, "cxx_leak()"));
    /* containers: allocated under the function, by the library's code */
    ck_assert(fig(p, "fill_vector()", "alloc_bytes") > 200000 * sizeof(long));
    ck_assert(fig(p, "fill_vector()", "self_alloc_bytes") == 0);
    ck_assert(fig(p, "make_strings()", "alloc_count") >= 5000);
    bool string_alloc = false;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(memory_of(p), "functions"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        ck_assert_msg(strncmp(name, "operator new", 12) != 0 &&
                          strncmp(name, "operator delete", 15),
                      "allocator frame %s in the memory section", name);
        string_alloc |= strstr(name, "basic_string") && num(f, "self_alloc_bytes") > 0;
    }
    ck_assert_msg(string_alloc, "no std::string function allocates");
    json_decref(p);
    free(plain);
    free(r.out);
    free(r.err);
}
END_TEST

/* ---- a process's life ---------------------------------------------------------------------- */

/* What a C program never frees is what is live at exit, to the byte at rate 1. */
START_TEST(test_c_leak_exact)
{
    const char *args[] = {"leak", NULL};
    const char *env[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=1", NULL};
    struct run r = run_profiled("cleak", "alloc_life", args, env);
    ck_assert_int_eq(r.status, 0);
    json_t *p = only_profile("cleak");
    assert_exact(p, r.out, "leak_known");
    ck_assert(fig(p, "leak_known", "exit_live_bytes") == truth_bytes(r.out, "leak_known"));
    ck_assert(num(memory_of(p), "exit_live_bytes") == truth_bytes(r.out, "leak_known"));
    json_decref(p);
    free(r.out);
    free(r.err);
}
END_TEST

START_TEST(test_before_main_and_after)
{
    const char *args[] = {"stages", NULL};
    const char *env[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=1", NULL};
    struct run r = run_profiled("stages", "alloc_life", args, env);
    ck_assert_int_eq(r.status, 0);
    json_t *p = only_profile("stages");
    assert_exact(p, r.out, "ctor_alloc");
    assert_exact(p, r.out, "main_alloc");
    assert_exact(p, r.out, "dtor_alloc");
    assert_exact(p, r.out, "atexit_alloc");
    json_decref(p);
    free(r.out);
    free(r.err);
}
END_TEST

/* The profile of tu_tmp/DIR whose memory section names `name`, or NULL. */
static json_t *profile_with(const char *dir, const char *name, size_t *nprofiles)
{
    char **paths;
    size_t n = tu_list_profiles(tu_in_tmp(dir), &paths);
    *nprofiles = n;
    json_t *found = NULL;
    for (size_t i = 0; i < n && !found; i++) {
        json_t *p = tu_load_json(paths[i]);
        if (json_object_get(p, "memory") && mem_function(p, name))
            found = p;
        else
            json_decref(p);
    }
    tu_free_list(paths, n);
    return found;
}

/* A forked child counts its own allocations from the fork; an exec'd program starts afresh. */
/* With PROFREG_MEMORY=1 (_i 0) and only (_i 1): the same profiles, without CPU samples. */
START_TEST(test_fork_and_exec)
{
    const char *args[] = {"fork", NULL};
    const char *env[] = {_i ? "PROFREG_MEMORY=only" : "PROFREG_MEMORY=1",
                         "PROFREG_MEMORY_RATE=1", NULL};
    const char *dir = _i ? "fork_only" : "fork";
    struct run r = run_profiled(dir, "alloc_life", args, env);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "children 0 0"));
    size_t n;
    json_t *parent = profile_with(dir, "parent_alloc", &n);
    ck_assert_int_eq(n, 3); /* parent, forked child, exec'd program */
    json_t *child = profile_with(dir, "child_alloc", &n);
    json_t *execd = profile_with(dir, "execd_alloc", &n);
    ck_assert(parent && child && execd && parent != child);
    json_t *each[] = {parent, child, execd};
    for (int k = 0; _i && k < 3; k++) {
        ck_assert(num(json_object_get(each[k], "summary"), "total_samples") == 0);
        ck_assert(json_is_false(json_object_get(json_object_get(each[k], "metadata"),
                                                "cpu_sampling")));
    }
    assert_exact(parent, r.out, "parent_alloc");
    assert_exact(parent, r.out, "before_fork");
    ck_assert_ptr_null(mem_function(parent, "child_alloc"));
    ck_assert_ptr_null(mem_function(parent, "execd_alloc"));
    assert_exact(child, r.out, "child_alloc");
    ck_assert_ptr_null(mem_function(child, "before_fork")); /* the parent's, before the fork */
    ck_assert_ptr_null(mem_function(child, "parent_alloc"));
    assert_exact(execd, r.out, "execd_alloc");
    ck_assert_ptr_null(mem_function(execd, "before_fork"));
    ck_assert(num(json_object_get(child, "metadata"), "pid") !=
              num(json_object_get(parent, "metadata"), "pid"));
    json_decref(parent);
    json_decref(child);
    json_decref(execd);
    free(r.out);
    free(r.err);
}
END_TEST

/* Four threads allocate while the main thread forks 20 children, which allocate and exit. */
START_TEST(test_fork_while_threads_allocate)
{
    const char *args[] = {"threads_fork", NULL};
    const char *env[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=4096", NULL};
    struct run r = run_profiled("tfork", "alloc_life", args, env);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "forked 20 children, 20 exited cleanly"));
    char **paths;
    size_t n = tu_list_profiles(tu_in_tmp("tfork"), &paths);
    ck_assert_int_eq(n, 21);
    for (size_t i = 0; i < n; i++) {
        json_t *p = tu_load_json(paths[i]);
        ck_assert(num(memory_of(p), "samples") > 0);
        json_decref(p);
    }
    tu_free_list(paths, n);
    free(r.out);
    free(r.err);
}
END_TEST

/* A signal handler allocates: while the thread it interrupts is inside profreg's sampling
 * (at rate 1 the main thread nearly always is) nothing recurses or deadlocks, and otherwise its
 * allocations are sampled like any. */
START_TEST(test_allocation_in_signal_handlers)
{
    const char *args[] = {"signals", NULL};
    const char *always[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=1", NULL};
    struct run r = run_profiled("sig1", "alloc_life", args, always);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "signals handled: 200 or more"));
    free(r.out);
    free(r.err);

    const char *some[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=4096", NULL};
    r = run_profiled("sig2", "alloc_life", args, some);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "signals handled: 200 or more"));
    json_t *p = only_profile("sig2");
    double handled = truth_count(r.out, "on_signal_alloc");
    double seen = fig(p, "on_signal_alloc", "alloc_count");
    ck_assert_msg(seen >= 0.5 * handled && seen <= handled, "%.0f of %.0f handler allocations",
                  seen, handled);
    json_decref(p);
    free(r.out);
    free(r.err);
}
END_TEST

/* realloc to zero, impossible sizes (errno), every entry point: the same output as without
 * profreg, with memory profiling on and off. */
START_TEST(test_edge_cases_unchanged)
{
    const char *args[] = {"edge", NULL};
    char *plain = run_plain("alloc_life", args);
    const char *on[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=1", NULL};
    struct run r = run_profiled("edge_on", "alloc_life", args, on);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, plain);
    json_t *p = only_profile("edge_on");
    ck_assert(fig(p, "mode_edge", "alloc_bytes") >= 64.0 * 1048576);
    ck_assert(num(memory_of(p), "exit_live_bytes") == 0);
    json_decref(p);
    free(r.out);
    free(r.err);
    r = run_profiled("edge_off", "alloc_life", args, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, plain);
    p = only_profile("edge_off");
    ck_assert_ptr_null(json_object_get(p, "memory")); /* off: no section */
    json_decref(p);
    free(r.out);
    free(r.err);
    free(plain);
}
END_TEST

/* A dlsym that allocates (tests/lib/dlsym_alloc.c) makes profreg's lookup of the real
 * allocator allocate while it is under way: those blocks come from the bootstrap arena, are
 * freed and reallocated through profreg, and the program runs as without it. */
START_TEST(test_allocating_dlsym_bootstrap)
{
    const char *args[] = {"edge", NULL};
    char *plain = run_plain("alloc_life", args);
    char preload[8400];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so %s/testlibs/libdlsym_alloc.so",
             tu_build(), tu_build());
    const char *on[] = {preload, "PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=1", NULL};
    const char *off[] = {preload, NULL};
    const char *const *envs[] = {on, off};
    for (int i = 0; i < 2; i++) {
        char dir[32];
        snprintf(dir, sizeof dir, "dlsym%d", i);
        struct run r = run_profiled(dir, "alloc_life", args, envs[i]);
        ck_assert_int_eq(r.status, 0);
        ck_assert_str_eq(r.out, plain);
        json_t *p = only_profile(dir);
        ck_assert(i == 1 || fig(p, "mode_edge", "alloc_bytes") >= 64.0 * 1048576);
        json_decref(p);
        free(r.out);
        free(r.err);
    }
    free(plain);
}
END_TEST

START_TEST(test_bad_rates_warn_and_keep_the_default)
{
    const char *bad[] = {"abc", "-5", "0", "12T"};
    const char *args[] = {"leak", NULL};
    char *plain = run_plain("alloc_life", args);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char rate[64], dir[32];
        snprintf(rate, sizeof rate, "PROFREG_MEMORY_RATE=%s", bad[i]);
        snprintf(dir, sizeof dir, "bad%zu", i);
        const char *env[] = {"PROFREG_MEMORY=1", rate, NULL};
        struct run r = run_profiled(dir, "alloc_life", args, env);
        ck_assert_int_eq(r.status, 0);
        ck_assert_str_eq(r.out, plain);
        ck_assert_msg(strncmp(r.err, "profreg: PROFREG_MEMORY_RATE=", 29) == 0, "%s",
                      tu_tail(r.err));
        ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "not one line: %s",
                      tu_tail(r.err));
        json_t *p = only_profile(dir);
        ck_assert(num(memory_of(p), "rate_bytes") == DEFAULT_RATE);
        json_decref(p);
        free(r.out);
        free(r.err);
    }
    free(plain);
}
END_TEST

/* ---- programs with their own allocator ---------------------------------------------------- */

static const char *const allocators[] = {"/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
                                         "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"};

/* After libprofreg.so: the program keeps it, and its allocations (malloc's and operator
 * new's, which neither routes through malloc) are sampled exactly as under glibc's. */
START_TEST(test_allocator_after_profreg)
{
    char *plain = run_plain("alloc_cxx", NULL);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_msg(tu_exists(allocators[i]), "%s missing (sh scripts/ensure-deps check)",
                      allocators[i]);
        char preload[8192], dir[32];
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so %s", tu_build(),
                 allocators[i]);
        snprintf(dir, sizeof dir, "after%zu", i);
        const char *env[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=1", preload, NULL};
        struct run r = run_profiled(dir, "alloc_cxx", NULL, env);
        ck_assert_int_eq(r.status, 0);
        ck_assert_str_eq(r.out, plain);
        json_t *p = only_profile(dir);
        assert_exact(p, r.out, "every_new()");
        assert_exact(p, r.out, "cxx_leak()");
        ck_assert(fig(p, "cxx_leak()", "exit_live_bytes") == truth_bytes(r.out, "cxx_leak()"));
        json_decref(p);
        free(r.out);
        free(r.err);
    }
    free(plain);
}
END_TEST

/* Before libprofreg.so: nothing reaches profreg; it says so in one line and the CPU profile
 * is written as ever. */
START_TEST(test_allocator_before_profreg)
{
    char *plain = run_plain("alloc_cxx", NULL);
    for (size_t i = 0; i < 2; i++) {
        char preload[8192], dir[32];
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s %s/libprofreg.so", allocators[i],
                 tu_build());
        snprintf(dir, sizeof dir, "before%zu", i);
        const char *env[] = {"PROFREG_MEMORY=1", preload, NULL};
        struct run r = run_profiled(dir, "alloc_cxx", NULL, env);
        ck_assert_int_eq(r.status, 0);
        ck_assert_str_eq(r.out, plain);
        ck_assert_msg(strstr(r.err, "comes before libprofreg.so") && strstr(r.err, allocators[i]) &&
                          strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                      "%s", tu_tail(r.err));
        json_t *p = only_profile(dir);
        ck_assert_ptr_null(json_object_get(p, "memory"));
        ck_assert(json_array_size(json_object_get(p, "top_functions")) > 0 ||
                  json_integer_value(
                      json_object_get(json_object_get(p, "summary"), "total_samples")) == 0);
        json_decref(p);
        free(r.out);
        free(r.err);
    }
    free(plain);
}
END_TEST

/* ---- the commands --------------------------------------------------------------------------- */

/* A profile of alloc_shares leak 32 at 16K in tu_tmp/NAME/, its path. */
static char *leak_profile(const char *name, const char *mib)
{
    const char *args[] = {"leak", mib, NULL};
    const char *env[] = {"PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=16K", NULL};
    struct run r = run_profiled(name, "alloc_shares", args, env);
    ck_assert_int_eq(r.status, 0);
    free(r.out);
    free(r.err);
    char **paths;
    size_t n = tu_list_profiles(tu_in_tmp(name), &paths);
    ck_assert_int_eq(n, 1);
    char *path = strdup(paths[0]);
    tu_free_list(paths, n);
    return path;
}

static struct tu_result ok(const char *const *args)
{
    struct tu_result r = tu_profreg(args, NULL, NULL);
    ck_assert_msg(r.status == 0, "profreg %s %s: exit %d: %s", args[0], args[1], r.status,
                  tu_tail(r.err));
    return r;
}

START_TEST(test_report_memory)
{
    char *prof = leak_profile("rep", "32");
    struct tu_result r = ok((const char *[]){"report", "--memory", prof, "--no-color", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "allocated in"));
    ck_assert_ptr_nonnull(strstr(r.out, "Exit live"));
    /* hold_peak allocates 2 x 32 MiB itself (take() is inlined into it), leak_known and churn's
     * churn_budget 32 MiB each */
    ck_assert_ptr_nonnull(strstr(r.out, "Top allocator: hold_peak"));
    tu_result_free(&r);
    r = ok((const char *[]){"report", "--memory", "--exit", prof, "--no-color", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "Top allocator: leak_known"));
    ck_assert_ptr_null(strstr(r.out, "hold_peak")); /* nothing live at exit: not listed */
    tu_result_free(&r);
    r = ok((const char *[]){"report", "--memory", "--live", prof, "--no-color", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "Top allocator: hold_peak"));
    tu_result_free(&r);
    /* two files: summed */
    r = ok((const char *[]){"report", "--memory", prof, prof, "--no-color", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "(2 profiles merged)"));
    tu_result_free(&r);
    free(prof);
}
END_TEST

/* The counts of folded stack lines ("frame;frame COUNT"), summed. */
static double folded_total(const char *text)
{
    double sum = 0;
    for (const char *l = text; *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        const char *sp = l + len;
        while (sp > l && sp[-1] != ' ')
            sp--;
        if (sp > l)
            sum += atof(sp);
        l += len + (end ? 1 : 0);
    }
    return sum;
}

/* The folded export of the memory view adds up to the section's figures. */
START_TEST(test_export_and_flamegraph_memory)
{
    char *prof = leak_profile("exp", "32");
    json_t *p = tu_load_json(prof);
    json_t *m = memory_of(p);
    double alloc = 0, exit_live = 0;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m, "stacks"), i, s)
    {
        alloc += num(s, "alloc_bytes");
        exit_live += num(s, "exit_live_bytes");
    }
    const char *kinds[][2] = {{"--memory", NULL}, {"--memory", "--exit"}};
    double want[] = {alloc, exit_live};
    for (int k = 0; k < 2; k++) {
        struct tu_result r = ok(
            (const char *[]){"export", prof, "--format", "folded", kinds[k][0], kinds[k][1], NULL});
        double sum = folded_total(r.out);
        ck_assert_msg(sum == want[k], "folded %s: %.0f, section %.0f",
                      kinds[k][1] ? kinds[k][1] : "", sum, want[k]);
        tu_result_free(&r);
    }
    const char *svg = tu_in_tmp("m.svg");
    struct tu_result r =
        ok((const char *[]){"flamegraph", "--memory", "--live", prof, "-o", svg, NULL});
    char *text = tu_read_file(svg);
    ck_assert_ptr_nonnull(strstr(text, "bytes live at the peak"));
    ck_assert_ptr_nonnull(strstr(text, "hold_peak"));
    ck_assert_ptr_null(strstr(text, ">leak_known<")); /* nothing of it live at the peak */
    free(text);
    tu_result_free(&r);
    /* pprof: Go's heap profile types, decodable */
    const char *pb = tu_in_tmp("m.pb.gz");
    r = ok((const char *[]){"export", prof, "--memory", "--format", "pprof", "-o", pb, NULL});
    tu_result_free(&r);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s' | protoc --decode_raw", pb);
    char *raw = tu_shell(cmd);
    ck_assert_ptr_nonnull(raw);
    ck_assert_ptr_nonnull(strstr(raw, "alloc_space"));
    ck_assert_ptr_nonnull(strstr(raw, "alloc_objects"));
    ck_assert_ptr_nonnull(strstr(raw, "inuse_space"));
    free(raw);
    if (system("command -v go >/dev/null 2>&1") == 0) {
        /* go tool pprof's inuse_space total is the bytes live at exit */
        snprintf(cmd, sizeof cmd,
                 "go tool pprof -raw '%s' 2>/dev/null | awk '/^Samples/ {s=1; next} /^Locations/ "
                 "{s=0} s && $3 ~ /:$/ {sub(\":\", \"\", $3); t += $3} END {print t}'",
                 pb);
        char *total = tu_shell(cmd);
        ck_assert_ptr_nonnull(total);
        ck_assert_msg(atof(total) == exit_live, "go tool pprof: inuse %s, section %.0f", total,
                      exit_live);
        free(total);
    } else {
        fprintf(stderr, "check_memory: go not installed, go tool pprof check skipped\n");
    }
    json_decref(p);
    free(prof);
}
END_TEST

START_TEST(test_diff_memory)
{
    char *a = leak_profile("da", "16"), *b = leak_profile("db", "32");
    struct tu_result r = ok((const char *[]){"diff", "--memory", a, "--", b, "--top", "3", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "bytes allocated (estimated):"));
    ck_assert_ptr_nonnull(strstr(r.out, "percent of bytes allocated"));
    tu_result_free(&r);
    r = ok(
        (const char *[]){"diff", "--memory", "--exit", a, "--", b, "-o", tu_in_tmp("d.svg"), NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "bytes live at exit (estimated):"));
    tu_result_free(&r);
    free(a);
    free(b);
}
END_TEST

/* Bad uses: one line, exit 2, nothing written. */
START_TEST(test_memory_options_refused)
{
    char *prof = leak_profile("bad", "8");
    const char *svg = tu_in_tmp("never.svg");
    /* a profile without a memory section */
    const char *args[] = {"leak", "8", NULL};
    struct run plain = run_profiled("cpu", "alloc_shares", args, NULL);
    free(plain.out);
    free(plain.err);
    char **paths;
    size_t n = tu_list_profiles(tu_in_tmp("cpu"), &paths);
    ck_assert_int_eq(n, 1);
    struct {
        const char *args[8];
        const char *says;
    } cases[] = {
        {{"report", "--memory", paths[0], NULL}, "has no memory section"},
        {{"flamegraph", "--memory", paths[0], "-o", svg, NULL}, "has no memory section"},
        {{"flamegraph", "--live", prof, "-o", svg, NULL}, "--live goes with --memory"},
        {{"export", prof, "--format", "folded", "--exit", NULL}, "--exit goes with --memory"},
        {{"report", "--memory", "--live", "--exit", prof, NULL}, "--live or --exit"},
        {{"report", "--memory", "--by-test", prof, NULL}, "no --by-test"},
        {{"export", prof, "--memory", "--live", "--format", "pprof", "-o", svg},
         "every memory type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tu_result r = tu_profreg(cases[i].args, NULL, NULL);
        ck_assert_msg(r.status == 2, "%s %s: exit %d", cases[i].args[0], cases[i].args[1],
                      r.status);
        ck_assert_msg(strstr(r.err, cases[i].says) && strncmp(r.err, "profreg: ", 9) == 0 &&
                          strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                      "%s: %s", cases[i].args[0], tu_tail(r.err));
        ck_assert(!tu_exists(svg));
        tu_result_free(&r);
    }
    tu_free_list(paths, n);
    free(prof);
}
END_TEST

/* ---- judging ------------------------------------------------------------------------------- */

/* n runs of alloc_shares leak 16 LEAK (hold_peak 32 MiB, churn 16, leak_known LEAK MiB) at
 * 16K into the project tu_tmp/proj (profile_results/alloc_shares/). */
static void project_runs(int n, const char *leak)
{
    char output[4200], preload[4200];
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s/proj/profile_results/alloc_shares/", tu_tmp);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    const char *env[] = {
        preload, output, "PROFREG_QUIET=1", "PROFREG_MEMORY=1", "PROFREG_MEMORY_RATE=16K", NULL};
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/workloads/alloc_shares", tu_build());
    const char *argv[] = {exe, "leak", "16", leak, NULL};
    for (int i = 0; i < n; i++) {
        struct tu_result r = tu_run(argv, env, NULL);
        ck_assert_int_eq(r.status, 0);
        tu_result_free(&r);
    }
}

/* The newest comparison report of the project. */
static json_t *newest_report(void)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd,
             "ls %s/proj/profile_results/alloc_shares/comparison_*.json | tail -n 1", tu_tmp);
    char *path = tu_shell(cmd);
    ck_assert_ptr_nonnull(path);
    path[strcspn(path, "\n")] = '\0';
    json_t *j = tu_load_json(path);
    free(path);
    return j;
}

static const char *status_of(json_t *report, const char *array, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(report, array), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            return json_string_value(json_object_get(e, "status"));
    }
    return NULL;
}

/* A baseline keeps memory figures; compare --metric alloc names the function whose share of
 * allocated bytes grew, and the bytes allocated regress as a whole-run metric. */
START_TEST(test_compare_metric_alloc)
{
    project_runs(3, "16");
    const char *root = tu_in_tmp("proj");
    char *proj = strdup(root);
    struct tu_result r = ok((const char *[]){"compare", "--set-baseline", "--root", proj,
                                             "--executable", "alloc_shares", NULL});
    tu_result_free(&r);
    char bpath[4400];
    snprintf(bpath, sizeof bpath, "%s/baselines/alloc_shares/baseline.json", proj);
    json_t *b = tu_load_json(bpath);
    json_t *bm = json_object_get(b, "memory");
    ck_assert_msg(json_is_object(bm), "the baseline keeps no memory section");
    ck_assert_int_eq(json_integer_value(json_object_get(bm, "runs_averaged")), 3);
    ck_assert(json_array_size(json_object_get(json_object_get(bm, "alloc"), "functions")) > 0);
    ck_assert(json_is_object(json_object_get(json_object_get(b, "summary"), "alloc_kb")));
    json_decref(b);
    r = ok(
        (const char *[]){"baseline", "show", "--root", proj, "--executable", "alloc_shares", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "memory:      median"));
    tu_result_free(&r);

    /* the same runs again: leak_known's share holds; the bytes allocated too */
    project_runs(3, "16");
    r = tu_profreg((const char *[]){"compare", "--root", proj, "--executable", "alloc_shares",
                                    "--metric", "alloc", "--runs", "3", "--no-color", NULL},
                   NULL, NULL);
    ck_assert_msg(r.status == 0 || r.status == 1, "%s", tu_tail(r.err));
    tu_result_free(&r);
    json_t *rep = newest_report();
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(rep, "metadata"), "shares_of")),
        "allocated bytes");
    ck_assert_str_eq(status_of(rep, "functions", "leak_known"), "PASS");
    ck_assert_str_eq(status_of(rep, "metrics", "alloc_kb"), "PASS");
    json_decref(rep);

    /* leak_known leaks twice as much: its share 20 -> 33 %, 25 % more bytes in all */
    project_runs(3, "32");
    r = tu_profreg((const char *[]){"compare", "--root", proj, "--executable", "alloc_shares",
                                    "--metric", "alloc", "--runs", "3", "--strict", "--no-color",
                                    NULL},
                   NULL, NULL);
    ck_assert_msg(r.status == 1, "exit %d: %s%s", r.status, tu_tail(r.out), tu_tail(r.err));
    ck_assert_ptr_nonnull(strstr(r.out, "shares:    of the allocated bytes"));
    tu_result_free(&r);
    rep = newest_report();
    ck_assert_str_eq(status_of(rep, "functions", "leak_known"), "REGRESSION");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(rep, "summary"), "most_likely_cause")),
        "leak_known");
    ck_assert_str_eq(status_of(rep, "metrics", "alloc_kb"), "REGRESSION");
    json_decref(rep);
    /* and of the bytes live at the peak: judged too */
    r = tu_profreg((const char *[]){"compare", "--root", proj, "--executable", "alloc_shares",
                                    "--metric", "live", "--runs", "3", "--output-json-only", NULL},
                   NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    rep = newest_report();
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(rep, "metadata"), "shares_of")),
        "bytes live at the peak");
    json_decref(rep);
    free(proj);
}
END_TEST

START_TEST(test_compare_metric_alloc_needs_memory)
{
    /* runs without memory sections */
    char output[4200], preload[4200];
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s/proj/profile_results/alloc_shares/", tu_tmp);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    const char *env[] = {preload, output, "PROFREG_QUIET=1", NULL};
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/workloads/alloc_shares", tu_build());
    const char *argv[] = {exe, "leak", "8", NULL};
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);
    char *proj = strdup(tu_in_tmp("proj"));
    r = ok((const char *[]){"compare", "--set-baseline", "--root", proj, "--executable",
                            "alloc_shares", NULL});
    tu_result_free(&r);
    r = tu_profreg((const char *[]){"compare", "--root", proj, "--executable", "alloc_shares",
                                    "--metric", "alloc", NULL},
                   NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "the current runs have no memory sections"), "%s", tu_tail(r.err));
    tu_result_free(&r);
    /* runs with them, the baseline without */
    project_runs(1, "8");
    r = tu_profreg((const char *[]){"compare", "--root", proj, "--executable", "alloc_shares",
                                    "--metric", "live", "--runs", "1", NULL},
                   NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "keeps no memory figures"), "%s", tu_tail(r.err));
    tu_result_free(&r);
    r = tu_profreg(
        (const char *[]){"compare", "--root", proj, "--metric", "alloc", "--compat", NULL}, NULL,
        NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "not with --compat"), "%s", tu_tail(r.err));
    tu_result_free(&r);
    free(proj);
}
END_TEST

/* Runs of allocations only (PROFREG_MEMORY=only): the CPU views refuse them in one line that
 * says --memory (report, flamegraph, export) or --metric alloc|live (compare), exit 2; the
 * memory views take them. */
START_TEST(test_memory_only_commands)
{
    char output[4200], preload[4200];
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s/proj/profile_results/alloc_shares/", tu_tmp);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    const char *env[] = {preload, output, "PROFREG_QUIET=1", "PROFREG_MEMORY=only",
                         "PROFREG_MEMORY_RATE=16K", NULL};
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/workloads/alloc_shares", tu_build());
    const char *argv[] = {exe, "leak", "16", NULL};
    for (int i = 0; i < 3; i++) {
        struct tu_result r = tu_run(argv, env, NULL);
        ck_assert_int_eq(r.status, 0);
        tu_result_free(&r);
    }
    char **paths;
    size_t n = tu_list_profiles(tu_in_tmp("proj/profile_results/alloc_shares"), &paths);
    ck_assert_int_eq(n, 3);
    char *prof = strdup(paths[0]);
    tu_free_list(paths, n);
    const char *svg = tu_in_tmp("cpu.svg");
    const char *refused[][6] = {
        {"report", prof, NULL},
        {"report", "--by-region", prof, NULL},
        {"flamegraph", prof, "-o", svg, NULL},
        {"export", prof, "--format", "folded", NULL},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        struct tu_result r = tu_profreg(refused[i], NULL, NULL);
        ck_assert_msg(r.status == 2, "profreg %s: exit %d", refused[i][0], r.status);
        ck_assert_msg(strstr(r.err, "no CPU samples") && strstr(r.err, "PROFREG_MEMORY=only") &&
                          strstr(r.err, "add --memory") &&
                          strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                      "profreg %s: %s", refused[i][0], tu_tail(r.err));
        ck_assert_str_eq(r.out, "");
        tu_result_free(&r);
    }
    ck_assert(!tu_exists(svg));
    struct tu_result r = ok((const char *[]){"report", "--memory", prof, "--no-color", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "Top allocator: hold_peak"));
    tu_result_free(&r);
    const char *msvg = tu_in_tmp("mem.svg");
    r = ok((const char *[]){"flamegraph", "--memory", prof, "-o", msvg, NULL});
    tu_result_free(&r);
    char *text = tu_read_file(msvg);
    ck_assert_ptr_nonnull(strstr(text, "leak_known"));
    free(text);

    char *proj = strdup(tu_in_tmp("proj"));
    r = ok((const char *[]){"compare", "--set-baseline", "--root", proj, "--executable",
                            "alloc_shares", NULL});
    tu_result_free(&r);
    r = tu_profreg((const char *[]){"compare", "--root", proj, "--executable", "alloc_shares",
                                    "--runs", "3", NULL},
                   NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "allocations only (PROFREG_MEMORY=only)") &&
                      strstr(r.err, "--metric alloc") &&
                      strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "%s", tu_tail(r.err));
    tu_result_free(&r);
    r = tu_profreg((const char *[]){"compare", "--root", proj, "--executable", "alloc_shares",
                                    "--runs", "3", "--metric", "alloc", "--no-color", NULL},
                   NULL, NULL);
    ck_assert_msg(r.status == 0 || r.status == 1, "exit %d: %s", r.status, tu_tail(r.err));
    ck_assert_ptr_nonnull(strstr(r.out, "shares:    of the allocated bytes"));
    ck_assert_ptr_nonnull(strstr(r.out, "leak_known"));
    tu_result_free(&r);
    free(proj);
    free(prof);
}
END_TEST

/* profreg-ci with flag (--memory or --memory-only) in a new project dir: a baseline of
 * alloc_shares made, then three runs of it leaking more judged against it (what they print,
 * with "exit N" after it); *proj gets the project's directory (malloc'd). */
static char *ci_memory_runs(const char *flag, const char *dir, char **proj)
{
    *proj = strdup(tu_in_tmp(dir));
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && cd '%s' && PROFREG='%s' bash '%s' %s --memory-rate 16K -n 3 "
             "--update-baseline -- '%s' leak 16 >/dev/null 2>&1 && echo ok",
             *proj, *proj, tu_build_path("profreg"), tu_src_path("scripts/profreg-ci"), flag,
             tu_build_path("workloads/alloc_shares"));
    char *out = tu_shell(cmd);
    ck_assert_msg(out && strstr(out, "ok"), "profreg-ci --update-baseline %s failed", flag);
    free(out);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && PROFREG='%s' bash '%s' %s --memory-rate 16K -n 3 --compare-arg "
             "--time-threshold --compare-arg 1000 -- '%s' leak 16 32; echo \"exit $?\"",
             *proj, tu_build_path("profreg"), tu_src_path("scripts/profreg-ci"), flag,
             tu_build_path("workloads/alloc_shares"));
    out = tu_shell(cmd);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strstr(out, "exit 1\n"), "%s", out); /* leak_known's share grew */
    ck_assert_msg(strstr(out, "top 15 allocating functions"), "%s", out);
    return out;
}

/* Checks the files archived under proj's latest artifacts, then that comparison (a report
 * file there) says leak_known regressed, and that metadata.txt says memory_line. */
static void check_ci_artifacts(const char *proj, const char *const *files, size_t nfiles,
                               const char *comparison, const char *memory_line)
{
    char path[8192];
    for (size_t i = 0; i < nfiles; i++) {
        snprintf(path, sizeof path, "%s/artifacts/profiling/latest/%s", proj, files[i]);
        ck_assert_msg(tu_exists(path), "%s not archived", files[i]);
    }
    snprintf(path, sizeof path, "%s/artifacts/profiling/latest/%s", proj, comparison);
    json_t *rep = tu_load_json(path);
    ck_assert_str_eq(status_of(rep, "functions", "leak_known"), "REGRESSION");
    json_decref(rep);
    snprintf(path, sizeof path, "%s/artifacts/profiling/latest/metadata.txt", proj);
    char *meta = tu_read_file(path);
    ck_assert_ptr_nonnull(strstr(meta, memory_line));
    free(meta);
}

/* profreg-ci --memory-only: no CPU table or flame graph; the allocation report and flame
 * graph archived; the runs judged on the shares of allocated bytes in comparison.json. */
START_TEST(test_ci_memory_only)
{
    char *proj;
    char *out = ci_memory_runs("--memory-only", "cionly", &proj);
    ck_assert_msg(strstr(out, "== no CPU samples (--memory-only"), "%s", out);
    ck_assert_msg(!strstr(out, "== top 30 functions"), "%s", out);
    ck_assert_msg(!strstr(out, "== shares of allocated bytes (--memory)"), "%s", out);
    free(out);
    const char *files[] = {"memory.txt", "memory.svg", "comparison.json", "junit.xml",
                           "summary.md"};
    check_ci_artifacts(proj, files, 5, "comparison.json", "memory: only (no CPU sampling)");
    char path[8192];
    snprintf(path, sizeof path, "%s/artifacts/profiling/latest/flamegraph.svg", proj);
    ck_assert_msg(!tu_exists(path), "a CPU flame graph of no samples");
    snprintf(path, sizeof path, "%s/artifacts/profiling/latest/comparison.json", proj);
    json_t *rep = tu_load_json(path);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(rep, "metadata"), "shares_of")),
        "allocated bytes");
    json_decref(rep);
    free(proj);
}
END_TEST

/* profreg-ci --memory: allocation report and flame graph archived, the allocation shares
 * judged against a baseline made with --memory. */
START_TEST(test_ci_memory)
{
    char *proj;
    char *out = ci_memory_runs("--memory", "ci", &proj);
    ck_assert_msg(strstr(out, "== shares of allocated bytes (--memory)"), "%s", out);
    free(out);
    const char *files[] = {"memory.txt", "memory.svg", "comparison-alloc.json", "junit-alloc.xml"};
    check_ci_artifacts(proj, files, 4, "comparison-alloc.json",
                       "memory: on, one sampled allocation per 16K bytes");
    free(proj);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memory");
    TCase *truth = tcase_create("truth");
    tcase_add_checked_fixture(truth, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(truth, 240);
    tcase_add_test(truth, test_shares_and_total_from_four_threads);
    tcase_add_test(truth, test_memory_only_shares);
    tcase_add_test(truth, test_counts_at_rate_one);
    tcase_add_test(truth, test_leak_and_peak);
    tcase_add_test(truth, test_cxx_new_containers_and_strings);
    suite_add_tcase(s, truth);
    TCase *life = tcase_create("life");
    tcase_add_checked_fixture(life, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(life, 240);
    tcase_add_test(life, test_before_main_and_after);
    tcase_add_test(life, test_c_leak_exact);
    tcase_add_loop_test(life, test_fork_and_exec, 0, 2);
    tcase_add_test(life, test_fork_while_threads_allocate);
    tcase_add_test(life, test_allocation_in_signal_handlers);
    tcase_add_test(life, test_edge_cases_unchanged);
    tcase_add_test(life, test_bad_rates_warn_and_keep_the_default);
    tcase_add_test(life, test_bad_memory_value_warns);
    tcase_add_test(life, test_allocating_dlsym_bootstrap);
    tcase_add_test(life, test_allocator_after_profreg);
    tcase_add_test(life, test_allocator_before_profreg);
    suite_add_tcase(s, life);
    TCase *cmds = tcase_create("commands");
    tcase_add_checked_fixture(cmds, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(cmds, 240);
    tcase_add_test(cmds, test_report_memory);
    tcase_add_test(cmds, test_export_and_flamegraph_memory);
    tcase_add_test(cmds, test_diff_memory);
    tcase_add_test(cmds, test_memory_options_refused);
    tcase_add_test(cmds, test_memory_only_commands);
    suite_add_tcase(s, cmds);
    TCase *judging = tcase_create("judging");
    tcase_add_checked_fixture(judging, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(judging, 300);
    tcase_add_test(judging, test_compare_metric_alloc);
    tcase_add_test(judging, test_compare_metric_alloc_needs_memory);
    tcase_add_test(judging, test_ci_memory);
    tcase_add_test(judging, test_ci_memory_only);
    suite_add_tcase(s, judging);
    return tu_run_suite(s);
}
