/* SPDX-License-Identifier: MIT */
/* check_preload.c — real workloads under LD_PRELOAD=libprofreg.so, asserting what their
 * profiles must say: shares fixed by work counts, demangled names equal to c++filt's,
 * source lines equal to eu-addr2line's, inline frames, recursion, schema and invariants.
 *
 * Tolerance: shares are asserted within 3 percentage points of the work ratio (the
 * workloads run each function for tens of milliseconds at a time, so tick sampling errs by
 * at most one tick per call boundary). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_TOLERANCE 3.0

static void assert_share(json_t *p, const char *name, double self_expected)
{
    json_t *f = tu_function(p, name);
    ck_assert_msg(f != NULL, "%s missing from the profile", name);
    double got = tu_self_pct(f);
    ck_assert_msg(fabs(got - self_expected) <= SHARE_TOLERANCE,
                  "%s: self share %.2f %%, expected %.1f %% +- %.1f", name, got, self_expected,
                  SHARE_TOLERANCE);
}

START_TEST(test_chain_leaf_shares)
{
    json_t *p = tu_profile_workload(tu_tmp, "chain", NULL, NULL);
    assert_share(p, "leaf_a", 50);
    assert_share(p, "leaf_b", 30);
    assert_share(p, "leaf_c", 20);
    /* Every frame of the 30-deep chain (and main) is on every stack that burns. */
    char name[32];
    for (int i = 1; i <= 30; i++) {
        snprintf(name, sizeof name, "chain_%02d", i);
        json_t *f = tu_function(p, name);
        ck_assert_msg(f != NULL, "%s missing", name);
        ck_assert_msg(tu_pct(f) >= 100.0 - SHARE_TOLERANCE, "%s inclusive %.2f %%", name,
                      tu_pct(f));
        ck_assert_msg(tu_self_pct(f) < 1.0, "%s self %.2f %%", name, tu_self_pct(f));
    }
    json_decref(p);
}
END_TEST

START_TEST(test_thread_shares)
{
    json_t *p = tu_profile_workload(tu_tmp, "threads", NULL, NULL);
    assert_share(p, "thread_w40", 40);
    assert_share(p, "thread_w30", 30);
    assert_share(p, "thread_w20", 20);
    assert_share(p, "thread_w10", 10);
    json_t *summary = json_object_get(p, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(summary, "thread_count")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(summary, "unsampled_threads")), 0);
    /* No profreg frame (the thread start trampoline) between start_thread and the function. */
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(p, "top_functions"), i, f)
    {
        const char *mod = json_string_value(json_object_get(f, "module"));
        ck_assert_msg(!mod || strcmp(mod, "libprofreg.so") != 0, "profreg frame %s in profile",
                      json_string_value(json_object_get(f, "name")));
    }
    json_decref(p);
}
END_TEST

/* Wall mode samples the main thread while it waits in pthread_join; CPU mode does not. */
START_TEST(test_wall_mode_samples_blocked_thread)
{
    const char *wall[] = {"PROFREG_MODE=wall", NULL};
    json_t *pw = tu_profile_workload(tu_tmp, "threads", NULL, wall);
    json_t *pc = tu_profile_workload(tu_tmp, "threads", NULL, NULL);
    double main_wall = tu_pct(tu_function(pw, "main"));
    double main_cpu = tu_pct(tu_function(pc, "main"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(pw, "metadata"), "mode")),
                     "wall");
    ck_assert_msg(main_wall >= 10.0, "wall mode: main (blocked in join) has %.2f %%", main_wall);
    ck_assert_msg(main_cpu <= 3.0, "cpu mode: main (blocked in join) has %.2f %%", main_cpu);
    json_decref(pw);
    json_decref(pc);
}
END_TEST

/* Text symbols of namespace wl:: in the C++ workload, as "ADDR MANGLED" lines. */
static char *wl_symbols(const char *exe)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "nm --defined-only '%s' | awk '$2 ~ /^[tTwW]$/ {print $1, $3}' | while read a s; do "
             "case \"$(echo \"$s\" | c++filt)\" in *wl::*) echo \"$a $s\";; esac; done",
             exe);
    return tu_shell(cmd);
}

START_TEST(test_cxx_names_match_cxxfilt_and_addr2line)
{
    const char *exe = tu_build_path("workloads/cxxnames");
    json_t *p = tu_profile_workload(tu_tmp, "cxxnames", NULL, NULL);
    char *syms = wl_symbols(exe);
    ck_assert_ptr_nonnull(syms);
    int checked = 0;
    for (char *save = NULL, *line = strtok_r(syms, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char addr[64], mangled[1024], cmd[4096];
        ck_assert_int_eq(sscanf(line, "%63s %1023s", addr, mangled), 2);
        snprintf(cmd, sizeof cmd, "c++filt '%s'", mangled);
        char *demangled = tu_shell(cmd);
        demangled[strcspn(demangled, "\n")] = '\0';
        json_t *f = tu_function(p, demangled);
        ck_assert_msg(f != NULL, "'%s' (c++filt of %s) not in the profile", demangled, mangled);
        ck_assert_msg(json_integer_value(json_object_get(f, "samples")) > 0, "%s", demangled);

        /* -i lists inlined code at the entry first; the last line is the function's own. */
        snprintf(cmd, sizeof cmd, "eu-addr2line -i -e '%s' 0x%s | tail -n 1", exe, addr);
        char *where = tu_shell(cmd);
        /* "path/file.cpp:LINE" or "path/file.cpp:LINE:COLUMN" */
        const char *base = strrchr(where, '/') ? strrchr(where, '/') + 1 : where;
        char file[512];
        long line_no = -1;
        ck_assert_msg(sscanf(base, "%511[^:]:%ld", file, &line_no) == 2, "eu-addr2line: %s", where);
        ck_assert_str_eq(json_string_value(json_object_get(f, "source_file")), file);
        ck_assert_msg(json_integer_value(json_object_get(f, "line")) == line_no,
                      "%s: line %lld, eu-addr2line says %ld", demangled,
                      (long long)json_integer_value(json_object_get(f, "line")), line_no);
        free(where);
        free(demangled);
        checked++;
    }
    ck_assert_int_ge(checked, 8);
    free(syms);
    json_decref(p);
}
END_TEST

/* The line on which `name(` first appears in a source file. */
static long definition_line(const char *file, const char *name)
{
    char *src = tu_read_file(file);
    ck_assert_ptr_nonnull(src);
    char pattern[256];
    snprintf(pattern, sizeof pattern, " %s(", name);
    char *at = strstr(src, pattern);
    ck_assert_ptr_nonnull(at);
    long line = 1;
    for (char *c = src; c < at; c++)
        line += *c == '\n';
    free(src);
    return line;
}

/* The stack (root-first function indices) contains a directly followed by b. */
static bool some_stack_has_edge(json_t *p, const char *a, const char *b)
{
    json_t *fns = json_object_get(p, "top_functions");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(p, "stacks"), i, s)
    {
        json_t *frames = json_object_get(s, "frames");
        for (size_t d = 0; d + 1 < json_array_size(frames); d++) {
            json_t *fa = json_array_get(fns, (size_t)json_integer_value(json_array_get(frames, d)));
            json_t *fb =
                json_array_get(fns, (size_t)json_integer_value(json_array_get(frames, d + 1)));
            if (strcmp(json_string_value(json_object_get(fa, "name")), a) == 0 &&
                strcmp(json_string_value(json_object_get(fb, "name")), b) == 0)
                return true;
        }
    }
    return false;
}

START_TEST(test_inlined_function_has_its_own_entry)
{
    json_t *p = tu_profile_workload(tu_tmp, "inline", NULL, NULL);
    json_t *hot = tu_function(p, "inlined_hot");
    ck_assert_msg(hot != NULL, "inlined_hot is not in the profile");
    ck_assert_msg(tu_self_pct(hot) >= 100.0 - SHARE_TOLERANCE, "inlined_hot self %.2f",
                  tu_self_pct(hot));
    ck_assert_str_eq(json_string_value(json_object_get(hot, "source_file")), "inline.c");
    ck_assert_int_eq(json_integer_value(json_object_get(hot, "line")),
                     definition_line(tu_src_path("tests/workloads/inline.c"), "inlined_hot"));
    /* Its callers keep their inclusive shares 60:40 and have no self time. */
    ck_assert_msg(fabs(tu_pct(tu_function(p, "outer_caller")) - 60) <= SHARE_TOLERANCE, "%.2f",
                  tu_pct(tu_function(p, "outer_caller")));
    ck_assert_msg(fabs(tu_pct(tu_function(p, "other_caller")) - 40) <= SHARE_TOLERANCE, "%.2f",
                  tu_pct(tu_function(p, "other_caller")));
    ck_assert(some_stack_has_edge(p, "outer_caller", "inlined_hot"));
    ck_assert(some_stack_has_edge(p, "other_caller", "inlined_hot"));
    json_decref(p);
}
END_TEST

START_TEST(test_recursion_counts_once_per_sample)
{
    json_t *p = tu_profile_workload(tu_tmp, "recursion", NULL, NULL);
    json_int_t total =
        json_integer_value(json_object_get(json_object_get(p, "summary"), "total_samples"));
    const char *names[] = {"recurse", "ping", "pong", "main"};
    for (size_t i = 0; i < 4; i++) {
        json_t *f = tu_function(p, names[i]);
        ck_assert_msg(f != NULL, "%s missing", names[i]);
        ck_assert_msg(json_integer_value(json_object_get(f, "samples")) <= total, "%s", names[i]);
        ck_assert_msg(tu_pct(f) <= 100.0, "%s inclusive %.2f %% > 100", names[i], tu_pct(f));
    }
    /* Work 30:20 per round between recurse and ping. */
    ck_assert_msg(fabs(tu_pct(tu_function(p, "recurse")) - 60) <= SHARE_TOLERANCE, "%.2f",
                  tu_pct(tu_function(p, "recurse")));
    ck_assert_msg(fabs(tu_pct(tu_function(p, "ping")) - 40) <= SHARE_TOLERANCE, "%.2f",
                  tu_pct(tu_function(p, "ping")));
    /* The 41 recurse frames were all captured: some stack has recurse >= 41 times. */
    json_t *fns = json_object_get(p, "top_functions");
    long rec_index = -1;
    size_t i;
    json_t *f;
    json_array_foreach(fns, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), "recurse") == 0)
            rec_index = (long)i;
    }
    int deepest = 0;
    json_t *s;
    json_array_foreach(json_object_get(p, "stacks"), i, s)
    {
        int n = 0;
        size_t d;
        json_t *fi;
        json_array_foreach(json_object_get(s, "frames"), d, fi) n +=
            json_integer_value(fi) == rec_index;
        if (n > deepest)
            deepest = n;
    }
    ck_assert_int_ge(deepest, 41);
    json_decref(p);
}
END_TEST

static void assert_type(json_t *obj, const char *key, json_type type, const char *where)
{
    json_t *v = json_object_get(obj, key);
    ck_assert_msg(v != NULL, "%s.%s missing", where, key);
    ck_assert_msg(json_typeof(v) == type, "%s.%s has type %d, expected %d", where, key,
                  json_typeof(v), type);
}

START_TEST(test_profile_schema_and_invariants)
{
    json_t *p = tu_profile_workload(tu_tmp, "chain", NULL, NULL);
    json_t *m = json_object_get(p, "metadata"), *s = json_object_get(p, "summary");
    assert_type(m, "trace_file", JSON_STRING, "metadata");
    assert_type(m, "template", JSON_STRING, "metadata");
    assert_type(m, "export_timestamp", JSON_STRING, "metadata");
    assert_type(m, "executable", JSON_STRING, "metadata");
    ck_assert_str_eq(json_string_value(json_object_get(m, "template")), "Time Profiler");
    ck_assert_str_eq(json_string_value(json_object_get(m, "executable")),
                     tu_build_path("workloads/chain"));
    ck_assert_str_eq(json_string_value(json_object_get(m, "trace_file")), "chain.json");
    const char *ts = json_string_value(json_object_get(m, "export_timestamp"));
    ck_assert_msg(strlen(ts) == 20 && ts[10] == 'T' && ts[19] == 'Z', "timestamp %s", ts);
    assert_type(s, "total_samples", JSON_INTEGER, "summary");
    assert_type(s, "total_time_ms", JSON_REAL, "summary");
    const char *ints[] = {"signals",      "peak_rss_kb",      "thread_count",
                          "lost_samples", "truncated_stacks", "skipped_samples"};
    for (size_t k = 0; k < 6; k++)
        assert_type(s, ints[k], JSON_INTEGER, "summary");
    const char *reals[] = {"wall_time_ms", "cpu_time_ms", "effective_frequency_hz"};
    for (size_t k = 0; k < 3; k++)
        assert_type(s, reals[k], JSON_REAL, "summary");

    json_int_t total = json_integer_value(json_object_get(s, "total_samples"));
    ck_assert_int_gt(total, 100);
    double freq = json_number_value(json_object_get(m, "frequency_hz"));
    ck_assert(fabs(json_real_value(json_object_get(s, "total_time_ms")) - total * 1000.0 / freq) <
              1e-6);

    json_t *fns = json_object_get(p, "top_functions");
    size_t n = json_array_size(fns);
    json_int_t *incl = calloc(n, sizeof *incl);
    double self_sum = 0;
    json_int_t prev_samples = total + 1;
    const char *prev_name = "";
    size_t i;
    json_t *f;
    json_array_foreach(fns, i, f)
    {
        assert_type(f, "rank", JSON_INTEGER, "function");
        assert_type(f, "name", JSON_STRING, "function");
        assert_type(f, "samples", JSON_INTEGER, "function");
        assert_type(f, "percentage", JSON_REAL, "function");
        assert_type(f, "self_samples", JSON_INTEGER, "function");
        assert_type(f, "self_percentage", JSON_REAL, "function");
        json_t *sf = json_object_get(f, "source_file"), *ln = json_object_get(f, "line");
        ck_assert(sf && (json_is_string(sf) || json_is_null(sf)));
        ck_assert(ln && (json_is_integer(ln) || json_is_null(ln)));
        ck_assert_int_eq(json_integer_value(json_object_get(f, "rank")), (json_int_t)i + 1);
        json_int_t samples = json_integer_value(json_object_get(f, "samples"));
        const char *name = json_string_value(json_object_get(f, "name"));
        ck_assert_msg(samples < prev_samples ||
                          (samples == prev_samples && strcmp(prev_name, name) < 0),
                      "not sorted at rank %zu", i + 1);
        prev_samples = samples;
        prev_name = name;
        ck_assert(fabs(tu_pct(f) - 100.0 * (double)samples / (double)total) < 1e-3);
        self_sum += tu_self_pct(f);
    }
    ck_assert_msg(fabs(self_sum - 100.0) < 0.01, "self shares sum to %.4f", self_sum);

    /* Inclusive counts recomputed from the stacks equal the samples field. */
    json_int_t stack_total = 0;
    json_t *st;
    json_array_foreach(json_object_get(p, "stacks"), i, st)
    {
        json_int_t count = json_integer_value(json_object_get(st, "count"));
        stack_total += count;
        json_t *frames = json_object_get(st, "frames");
        bool *seen = calloc(n, 1);
        size_t d;
        json_t *fi;
        json_array_foreach(frames, d, fi)
        {
            json_int_t k = json_integer_value(fi);
            ck_assert(k >= 0 && (size_t)k < n);
            if (!seen[k])
                incl[k] += count;
            seen[k] = true;
        }
        free(seen);
    }
    ck_assert_int_eq(stack_total, total);
    json_array_foreach(fns, i, f)
        ck_assert_int_eq(incl[i], json_integer_value(json_object_get(f, "samples")));
    free(incl);
    json_decref(p);
}
END_TEST

START_TEST(test_output_and_status_unchanged)
{
    const char *exe = tu_build_path("workloads/echo_exit");
    const char *argv[] = {exe, "3", "a b", "c", NULL};
    char preload[4200], output[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s/", tu_tmp);
    const char *env[] = {preload, output, NULL};
    struct tu_result plain = tu_run(argv, NULL, "hello\nworld\n");
    struct tu_result prof = tu_run(argv, env, "hello\nworld\n");
    ck_assert_int_eq(plain.status, 3);
    ck_assert_int_eq(prof.status, plain.status);
    ck_assert_str_eq(prof.out, plain.out);
    ck_assert_str_eq(plain.out, "HELLO\nWORLD\nargs: [a b] [c]\n");
    /* stderr: the program's own line, then profreg's single line naming the file. */
    ck_assert_msg(strncmp(prof.err, plain.err, strlen(plain.err)) == 0, "%s", tu_tail(prof.err));
    const char *extra = prof.err + strlen(plain.err);
    ck_assert_msg(strncmp(extra, "profreg: wrote ", 15) == 0 &&
                      strchr(extra, '\n') == extra + strlen(extra) - 1,
                  "unexpected stderr: %s", extra);
    char **paths;
    size_t n = tu_list_profiles(tu_tmp, &paths);
    ck_assert_int_eq(n, 1);
    ck_assert_msg(strstr(extra, paths[0]) != NULL, "stderr does not name %s", paths[0]);
    tu_free_list(paths, n);
    tu_result_free(&plain);
    tu_result_free(&prof);
}
END_TEST

START_TEST(test_default_output_path)
{
    /* No PROFREG_OUTPUT: profile_results/<exe>/profile_<YYYYmmdd>_<HHMMSS>_<usec>_<pid>.json
     * under the working directory. */
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && LD_PRELOAD='%s' PROFREG_QUIET=1 '%s' 0 </dev/null >/dev/null 2>&1", tu_tmp,
             tu_build_path("libprofreg.so"), tu_build_path("workloads/echo_exit"));
    free(tu_shell(cmd));
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/profile_results/echo_exit", tu_tmp);
    char **paths;
    size_t n = tu_list_profiles(dir, &paths);
    ck_assert_int_eq(n, 1);
    const char *base = strrchr(paths[0], '/') + 1;
    int y, mo, d, h, mi, s, usec, pid;
    ck_assert_int_eq(sscanf(base, "profile_%4d%2d%2d_%2d%2d%2d_%6d_%d.json", &y, &mo, &d, &h, &mi,
                            &s, &usec, &pid),
                     8);
    ck_assert(y >= 2024 && mo >= 1 && mo <= 12 && pid > 0);
    json_t *p = tu_load_json(paths[0]);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(p, "metadata"), "trace_file")), base);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(p, "metadata"), "pid")),
                     pid);
    json_decref(p);
    tu_free_list(paths, n);
}
END_TEST

START_TEST(test_only_intended_symbols_exported)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s' | awk '{print $3}' | LC_ALL=C sort",
             tu_build_path("libprofreg.so"));
    char *out = tu_shell(cmd);
    ck_assert_ptr_nonnull(out);
    /* the interposed functions and the public API (include/profreg.h), nothing else (see
     * preload/intercept.h, preload/memprof.h, preload/api.h) */
    ck_assert_str_eq(out, "_Exit\n_ZdaPv\n_ZdaPvRKSt9nothrow_t\n_ZdaPvSt11align_val_t\n"
                          "_ZdaPvSt11align_val_tRKSt9nothrow_t\n_ZdaPvm\n_ZdaPvmSt11align_val_t\n"
                          "_ZdlPv\n_ZdlPvRKSt9nothrow_t\n_ZdlPvSt11align_val_t\n"
                          "_ZdlPvSt11align_val_tRKSt9nothrow_t\n_ZdlPvm\n_ZdlPvmSt11align_val_t\n"
                          "_Znam\n_ZnamRKSt9nothrow_t\n_ZnamSt11align_val_t\n"
                          "_ZnamSt11align_val_tRKSt9nothrow_t\n_Znwm\n_ZnwmRKSt9nothrow_t\n"
                          "_ZnwmSt11align_val_t\n_ZnwmSt11align_val_tRKSt9nothrow_t\n_exit\n"
                          "aligned_alloc\ncalloc\nclose\nclose_range\nclosefrom\n"
                          "dl_iterate_phdr\ndlclose\ndlmopen\ndlopen\nfree\nmalloc\n"
                          "malloc_usable_size\nmemalign\npipe2\nposix_memalign\n"
                          "profreg_api_active\nprofreg_api_flush\nprofreg_api_pause\n"
                          "profreg_api_region_begin\nprofreg_api_region_end\n"
                          "profreg_api_resume\npthread_create\n"
                          "pvalloc\nrealloc\nsetitimer\nsigaction\nsignal\nvalloc\n");
    free(out);
}
END_TEST

START_TEST(test_bad_settings_warn_once_and_profile_anyway)
{
    const char *bad[] = {"PROFREG_FREQUENCY=fast", "PROFREG_MODE=gpu", "PROFREG_MAX_STACKS=-1",
                         "PROFREG_QUIET=maybe", NULL};
    const char *names[] = {"PROFREG_FREQUENCY", "PROFREG_MODE", "PROFREG_MAX_STACKS",
                           "PROFREG_QUIET"};
    for (size_t i = 0; bad[i]; i++) {
        char preload[4200], output[4200];
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
        snprintf(output, sizeof output, "PROFREG_OUTPUT=%s/bad%zu.json", tu_tmp, i);
        const char *env[] = {preload, output, bad[i], NULL};
        const char *argv[] = {tu_build_path("workloads/echo_exit"), "0", NULL};
        struct tu_result r = tu_run(argv, env, "");
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(strstr(r.err, names[i]) != NULL, "no message naming %s: %s", names[i],
                      tu_tail(r.err));
        char path[4200];
        snprintf(path, sizeof path, "%s/bad%zu.json", tu_tmp, i);
        ck_assert_msg(tu_exists(path), "no profile written with %s", bad[i]);
        /* the defaults were used */
        json_t *p = tu_load_json(path);
        json_t *m = json_object_get(p, "metadata");
        ck_assert_str_eq(json_string_value(json_object_get(m, "mode")), "cpu");
        ck_assert(json_number_value(json_object_get(m, "frequency_hz")) == 1000.0);
        json_decref(p);
        /* exactly one line about the variable */
        int mentions = 0;
        for (const char *c = r.err; (c = strstr(c, names[i])); c++)
            mentions++;
        ck_assert_int_eq(mentions, 1);
        tu_result_free(&r);
    }
}
END_TEST

START_TEST(test_disable_and_unwritable_output)
{
    char preload[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", tu_build_path("libprofreg.so"));
    const char *argv[] = {tu_build_path("workloads/echo_exit"), "5", NULL};
    char output[4200];
    snprintf(output, sizeof output, "PROFREG_OUTPUT=%s/disabled/", tu_tmp);
    const char *env_off[] = {preload, output, "PROFREG_DISABLE=1", NULL};
    struct tu_result r = tu_run(argv, env_off, "x\n");
    ck_assert_int_eq(r.status, 5);
    ck_assert_str_eq(r.out, "X\nargs:\n");
    ck_assert_str_eq(r.err, "echo_exit: to stderr\n");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/disabled", tu_tmp);
    ck_assert(!tu_exists(dir));
    tu_result_free(&r);

    /* A directory that cannot be created (when the profile is written, at exit): one line,
     * program unaffected. */
    const char *env_bad[] = {preload, "PROFREG_OUTPUT=/proc/profreg-cannot/", NULL};
    r = tu_run(argv, env_bad, "y\n");
    ck_assert_int_eq(r.status, 5);
    ck_assert_str_eq(r.out, "Y\nargs:\n");
    const char *line = strstr(r.err, "profreg: ");
    ck_assert_msg(line && (line == r.err || line[-1] == '\n') &&
                      strstr(line, "/proc/profreg-cannot") && strchr(line, '\n'),
                  "%s", tu_tail(r.err));
    ck_assert_msg(strstr(strchr(line, '\n') + 1, "profreg") == NULL, "more than one line: %s",
                  tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("preload");
    TCase *shares = tcase_create("shares");
    tcase_add_checked_fixture(shares, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(shares, 120);
    tcase_add_test(shares, test_chain_leaf_shares);
    tcase_add_test(shares, test_thread_shares);
    tcase_add_test(shares, test_wall_mode_samples_blocked_thread);
    tcase_add_test(shares, test_inlined_function_has_its_own_entry);
    tcase_add_test(shares, test_recursion_counts_once_per_sample);
    suite_add_tcase(s, shares);

    TCase *names = tcase_create("names");
    tcase_add_checked_fixture(names, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(names, 120);
    tcase_add_test(names, test_cxx_names_match_cxxfilt_and_addr2line);
    suite_add_tcase(s, names);

    TCase *contract = tcase_create("contract");
    tcase_add_checked_fixture(contract, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(contract, 120);
    tcase_add_test(contract, test_profile_schema_and_invariants);
    tcase_add_test(contract, test_output_and_status_unchanged);
    tcase_add_test(contract, test_default_output_path);
    tcase_add_test(contract, test_only_intended_symbols_exported);
    tcase_add_test(contract, test_bad_settings_warn_once_and_profile_anyway);
    tcase_add_test(contract, test_disable_and_unwritable_output);
    suite_add_tcase(s, contract);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
