/* SPDX-License-Identifier: MIT */
/* check_api.c — the public API (include/profreg.h) on real workloads under the preload.
 *
 * tests/workloads/regions.c burns known units per round: 50 in "heavy", 20 in "heavy/inner",
 * 30 in "light", 10 in no region and 40 paused on the main thread, 20 in no region on a second
 * thread. Shares are ratios of units, so they hold on any machine; the tolerance (6 points) is
 * a few CPU-time ticks over the run. The programs are built without linking profreg and must
 * run unchanged without the preload. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#define TOLERANCE 6.0 /* percentage points */

/* Weighted samples of each region path (NULL key: no region) and those holding a function. */
struct shares {
    double heavy, inner, light, none, total;
};

static json_int_t count_of(json_t *stack)
{
    return json_integer_value(json_object_get(stack, "count"));
}

static const char *region_of(json_t *p, json_t *stack)
{
    json_t *r = json_object_get(stack, "region");
    return r ? json_string_value(json_array_get(json_object_get(p, "regions"), json_integer_value(r)))
             : NULL;
}

static struct shares shares_of(json_t *p)
{
    struct shares s = {0};
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(p, "stacks"), i, st)
    {
        const char *r = region_of(p, st);
        double c = (double)count_of(st);
        s.total += c;
        if (!r)
            s.none += c;
        else if (strcmp(r, "heavy") == 0)
            s.heavy += c;
        else if (strcmp(r, "heavy/inner") == 0)
            s.inner += c;
        else if (strcmp(r, "light") == 0)
            s.light += c;
    }
    return s;
}

/* Samples of the stacks holding function name, and of those among them in any region. */
static void function_samples(json_t *p, const char *name, double *all, double *in_region)
{
    long idx = -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(p, "top_functions"), i, e) if (
        strcmp(json_string_value(json_object_get(e, "name")), name) == 0) idx = (long)i;
    *all = *in_region = 0;
    json_array_foreach(json_object_get(p, "stacks"), i, e)
    {
        size_t d;
        json_t *f;
        bool has = false;
        json_array_foreach(json_object_get(e, "frames"), d, f) has |= json_integer_value(f) == idx;
        if (has) {
            *all += (double)count_of(e);
            if (json_object_get(e, "region"))
                *in_region += (double)count_of(e);
        }
    }
}

static struct tu_result run_workload(const char *name, const char *const *args, bool preload,
                                     const char *output)
{
    char exe[4096], pre[4200], out[4200];
    snprintf(exe, sizeof exe, "%s/workloads/%s", tu_build(), name);
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s/libprofreg.so", tu_build());
    snprintf(out, sizeof out, "PROFREG_OUTPUT=%s", output ? output : tu_in_tmp("out/"));
    const char *argv[8] = {exe};
    size_t n = 1;
    for (const char *const *a = args; a && *a && n < 7; a++)
        argv[n++] = *a;
    const char *env[] = {preload ? pre : "PROFREG_UNUSED=1", out, NULL};
    return tu_run(argv, env, NULL);
}

START_TEST(test_runs_unchanged_without_preload)
{
    static const char *const progs[] = {"regions", "regions_nopie", "regions_cxx"};
    static const char *const want[] = {"regions done: 4 rounds\n", "regions done: 4 rounds\n",
                                       "regions_cxx done: 4 rounds\n"};
    for (int i = 0; i < 3; i++) {
        const char *args[] = {"1", i < 2 ? tu_in_tmp("flush.json") : NULL, NULL};
        struct tu_result r = run_workload(progs[i], args, false, NULL);
        ck_assert_msg(r.status == 0, "%s: exit %d: %s", progs[i], r.status, tu_tail(r.err));
        ck_assert_str_eq(r.out, want[i]);
        ck_assert_str_eq(r.err, "");
        ck_assert(!tu_exists(tu_in_tmp("flush.json"))); /* flush is a no-op without profreg */
        tu_result_free(&r);
        struct tu_result q = run_workload(progs[i], args, true, tu_in_tmp("p.json"));
        ck_assert_msg(q.status == 0, "%s: exit %d: %s", progs[i], q.status, tu_tail(q.err));
        ck_assert_str_eq(q.out, want[i]);
        tu_result_free(&q);
        json_t *p = tu_load_json(tu_in_tmp("p.json"));
        ck_assert_msg(json_array_size(json_object_get(p, "regions")) >= 2,
                      "%s: no regions in the profile", progs[i]);
        json_decref(p);
        remove(tu_in_tmp("flush.json"));
        remove(tu_in_tmp("p.json"));
    }
}
END_TEST

START_TEST(test_region_shares)
{
    const char *args[] = {"2", NULL};
    json_t *p = tu_profile_workload(tu_tmp, "regions", args, NULL);
    struct shares s = shares_of(p);
    double regioned = s.heavy + s.inner + s.light;
    ck_assert_msg(regioned > 100, "too few samples in regions: %.0f", regioned);
    double heavy = 100.0 * (s.heavy + s.inner) / regioned; /* 70 of 100 units */
    double inner = 100.0 * s.inner / (s.heavy + s.inner);  /* 20 of 70 */
    ck_assert_msg(heavy > 70 - TOLERANCE && heavy < 70 + TOLERANCE, "heavy %.1f %%, want 70",
                  heavy);
    ck_assert_msg(inner > 28.6 - TOLERANCE && inner < 28.6 + TOLERANCE,
                  "heavy/inner %.1f %% of heavy, want 28.6", inner);
    /* the other thread never inherits the main thread's region */
    double all, in_region;
    function_samples(p, "work_thread", &all, &in_region);
    ck_assert_msg(all > 10 && in_region == 0, "work_thread: %.0f samples, %.0f in a region", all,
                  in_region);
    function_samples(p, "work_outside", &all, &in_region);
    ck_assert_msg(all > 5 && in_region == 0, "work_outside: %.0f, %.0f in a region", all,
                  in_region);
    function_samples(p, "work_light", &all, &in_region);
    ck_assert_msg(all == in_region && all > 0, "work_light: %.0f, %.0f in a region", all,
                  in_region);
    json_decref(p);
}
END_TEST

START_TEST(test_pause_excludes_busy_part)
{
    const char *args[] = {"2", NULL};
    json_t *p = tu_profile_workload(tu_tmp, "regions", args, NULL);
    double paused_fn, unused;
    function_samples(p, "work_paused", &paused_fn, &unused);
    ck_assert_msg(paused_fn <= 1, "work_paused sampled %.0f times while paused", paused_fn);
    double main_samples;
    function_samples(p, "main", &main_samples, &unused);
    double paused =
        (double)json_integer_value(json_object_get(json_object_get(p, "summary"), "paused_samples"));
    /* 40 units paused against 110 sampled on the main thread */
    double share = 100.0 * paused / (paused + main_samples);
    ck_assert_msg(share > 26.7 - TOLERANCE && share < 26.7 + TOLERANCE,
                  "paused %.1f %% of the main thread's time, want 26.7", share);

    /* the C++ guards: 70:30, and the paused part left out */
    json_t *c = tu_profile_workload(tu_tmp, "regions_cxx", args, NULL);
    double h = 0, l = 0;
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(c, "stacks"), i, st)
    {
        const char *r = region_of(c, st);
        if (r && strcmp(r, "cxx_heavy") == 0)
            h += (double)count_of(st);
        else if (r && strcmp(r, "cxx_light") == 0)
            l += (double)count_of(st);
    }
    ck_assert_msg(h + l > 100 && 100 * h / (h + l) > 70 - TOLERANCE &&
                      100 * h / (h + l) < 70 + TOLERANCE,
                  "cxx_heavy %.0f, cxx_light %.0f: want 70:30", h, l);
    function_samples(c, "cxx_paused", &paused_fn, &unused);
    ck_assert_msg(paused_fn <= 1, "cxx_paused sampled %.0f times", paused_fn);
    json_decref(c);
    json_decref(p);
}
END_TEST

START_TEST(test_flush_mid_run)
{
    /* to a file, and into a directory (a default name there) */
    const char *targets[] = {tu_in_tmp("mid.json"), tu_in_tmp("flushes/")};
    for (int k = 0; k < 2; k++) {
        const char *args[] = {"2", targets[k], NULL};
        struct tu_result r = run_workload("regions", args, true, tu_in_tmp("final.json"));
        ck_assert_msg(r.status == 0, "exit %d: %s", r.status, tu_tail(r.err));
        ck_assert_msg(strstr(r.err, "profreg: flushed "), "stderr: %s", tu_tail(r.err));
        tu_result_free(&r);
        char mid[4300];
        if (k == 0) {
            snprintf(mid, sizeof mid, "%s", targets[0]);
        } else {
            char **paths;
            size_t n = tu_list_profiles(targets[1], &paths);
            ck_assert_uint_eq(n, 1);
            snprintf(mid, sizeof mid, "%s", paths[0]);
            tu_free_list(paths, n);
        }
        json_t *m = tu_load_json(mid), *f = tu_load_json(tu_in_tmp("final.json"));
        json_int_t tm = json_integer_value(json_object_get(json_object_get(m, "summary"), "total_samples"));
        json_int_t tf = json_integer_value(json_object_get(json_object_get(f, "summary"), "total_samples"));
        /* after the first of 8 rounds: some samples, far fewer than at the end */
        ck_assert_msg(tm > 0 && tm < tf / 2, "flushed %lld samples, %lld at exit", (long long)tm,
                      (long long)tf);
        ck_assert(json_array_size(json_object_get(m, "regions")) >= 2);
        /* the CLI reads it */
        const char *rep[] = {"report", mid, NULL};
        struct tu_result q = tu_profreg(rep, NULL, NULL);
        ck_assert_msg(q.status == 0, "report of the flushed profile: %s", tu_tail(q.err));
        tu_result_free(&q);
        json_decref(m);
        json_decref(f);
    }
}
END_TEST

START_TEST(test_misuse_is_harmless)
{
    const char *args[] = {"1", "-", "misuse", NULL};
    struct tu_result plain = run_workload("regions", args, false, NULL);
    struct tu_result r = run_workload("regions", args, true, tu_in_tmp("m.json"));
    ck_assert_int_eq(plain.status, 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, plain.out);
    ck_assert_str_eq(plain.err, "");
    /* one line each, once */
    ck_assert_ptr_nonnull(strstr(r.err, "profreg: profreg_region_end without a matching "
                                        "profreg_region_begin in this thread (ignored; said once)\n"));
    ck_assert_ptr_nonnull(strstr(r.err, "profreg: a region name longer than 128 bytes was cut"));
    tu_result_free(&plain);
    tu_result_free(&r);
    /* the rounds' regions are still right after the misuse */
    json_t *p = tu_load_json(tu_in_tmp("m.json"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(p, "regions"), i, e)
    {
        const char *path = json_string_value(e);
        ck_assert_msg(strlen(path) <= 32 * 5, "region path too long: %zu bytes", strlen(path));
        ck_assert_msg(strcmp(path, "heavy") == 0 || strcmp(path, "heavy/inner") == 0 ||
                          strcmp(path, "light") == 0 || strncmp(path, "deep", 4) == 0 ||
                          strspn(path, "x") == strlen(path),
                      "unexpected region %s", path);
    }
    json_decref(p);
}
END_TEST

/* The row of report --by-region naming region (or "(no region)"): its samples and self %. */
static bool by_region_row(const char *out, const char *region, unsigned long long *samples,
                          double *total_pct, double *self_pct)
{
    for (const char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char name[256];
        if (sscanf(line, "%llu %lf %lf %255[^\n]", samples, total_pct, self_pct, name) == 4 &&
            strcmp(name, region) == 0)
            return true;
    }
    return false;
}

START_TEST(test_region_option)
{
    const char *args[] = {"2", NULL};
    json_t *p = tu_profile_workload(tu_tmp, "regions", args, NULL);
    char prof[4200]; /* (tu_in_tmp's buffer is reused by every call) */
    snprintf(prof, sizeof prof, "%s", tu_in_tmp("regions.json"));

    /* report --by-region: each region's samples as the stacks say, heavy:light 70:30 */
    unsigned long long want_heavy = 0, want_inner = 0, want_light = 0, want_none = 0;
    size_t k;
    json_t *st;
    json_array_foreach(json_object_get(p, "stacks"), k, st)
    {
        const char *reg = region_of(p, st);
        unsigned long long c = (unsigned long long)count_of(st);
        if (!reg)
            want_none += c;
        else if (strcmp(reg, "heavy") == 0)
            want_heavy += c;
        else if (strcmp(reg, "heavy/inner") == 0)
            want_inner += c;
        else if (strcmp(reg, "light") == 0)
            want_light += c;
    }
    json_decref(p);
    const char *byreg[] = {"report", "--by-region", "--no-color", prof, NULL};
    struct tu_result r = tu_profreg(byreg, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    unsigned long long heavy, in_inner, light, none;
    double heavy_pct, heavy_self, inner_pct, inner_self, light_pct, light_self, none_pct, x;
    ck_assert_msg(by_region_row(r.out, "heavy", &heavy, &heavy_pct, &heavy_self) &&
                      by_region_row(r.out, "heavy/inner", &in_inner, &inner_pct, &inner_self) &&
                      by_region_row(r.out, "light", &light, &light_pct, &light_self) &&
                      by_region_row(r.out, "(no region)", &none, &none_pct, &x),
                  "rows missing:\n%s", tu_tail(r.out));
    ck_assert_uint_eq(heavy, want_heavy + want_inner); /* nested regions included */
    ck_assert_uint_eq(in_inner, want_inner);
    ck_assert_uint_eq(light, want_light);
    ck_assert_uint_eq(none, want_none);
    ck_assert_msg(fabs(heavy_pct - heavy_self - inner_pct) < 0.02, "heavy %.2f = self %.2f + %.2f",
                  heavy_pct, heavy_self, inner_pct);
    double split = 100.0 * heavy_pct / (heavy_pct + light_pct);
    ck_assert_msg(split > 70 - TOLERANCE && split < 70 + TOLERANCE, "heavy %.1f %%, want 70",
                  split);
    ck_assert_msg(strstr(r.out, "heavy") < strstr(r.out, "light"), "rows not by samples:\n%s",
                  tu_tail(r.out));
    tu_result_free(&r);
    /* the view of one region: its nested regions only */
    const char *byreg_heavy[] = {"report", "--by-region", "--region", "heavy", prof, NULL};
    r = tu_profreg(byreg_heavy, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_msg(by_region_row(r.out, "heavy", &heavy, &heavy_pct, &x) && heavy_pct > 99.99, "%s",
                  tu_tail(r.out));
    ck_assert_msg(!strstr(r.out, "light") && !strstr(r.out, "(no region)"), "%s", tu_tail(r.out));
    tu_result_free(&r);
    const char *two_views[] = {"report", "--by-region", "--by-test", prof, NULL};
    r = tu_profreg(two_views, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    tu_result_free(&r);

    /* report: only heavy's functions, heavy/inner's included */
    const char *rep[] = {"report", "--region", "heavy", "--no-color", prof, NULL};
    r = tu_profreg(rep, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_ptr_nonnull(strstr(r.out, "work_heavy"));
    ck_assert_ptr_nonnull(strstr(r.out, "work_inner"));
    ck_assert_ptr_null(strstr(r.out, "work_light"));
    ck_assert_ptr_null(strstr(r.out, "work_thread"));
    tu_result_free(&r);
    const char *inner[] = {"report", "--region=inner", prof, NULL};
    r = tu_profreg(inner, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_ptr_nonnull(strstr(r.out, "work_inner"));
    ck_assert_ptr_null(strstr(r.out, "work_heavy"));
    tu_result_free(&r);

    /* compare: the region of both sides */
    const char *cmp[] = {"compare", "--region", "light", "--base-runs", prof, "--current", prof,
                         "--no-color", "--root", tu_tmp, NULL};
    r = tu_profreg(cmp, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_ptr_nonnull(strstr(r.out, "work_light"));
    ck_assert_ptr_null(strstr(r.out, "work_heavy"));
    tu_result_free(&r);

    /* a baseline set from a region records it; compare then takes the same region only */
    const char *set[] = {"baseline", "set", "--region", "heavy", "--root", tu_tmp, "--current", prof,
                         NULL};
    r = tu_profreg(set, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    json_t *b = tu_load_json(tu_in_tmp("baselines/regions/baseline.json"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "metadata"), "region")),
                     "heavy");
    json_decref(b);
    const char *same[] = {"compare", "--region=heavy", "--root", tu_tmp, "--current", prof,
                          "--no-color", NULL};
    r = tu_profreg(same, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s%s", tu_tail(r.out), tu_tail(r.err));
    tu_result_free(&r);
    const char *whole[] = {"compare", "--root", tu_tmp, "--current", prof, NULL};
    r = tu_profreg(whole, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "the baseline holds region 'heavy' only"));
    ck_assert_ptr_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
    tu_result_free(&r);
    /* diff against that baseline: the same region only */
    char bpath[4200];
    snprintf(bpath, sizeof bpath, "%s", tu_in_tmp("baselines/regions/baseline.json"));
    const char *diff_same[] = {"diff", "--region", "heavy", bpath, "--", prof, NULL};
    r = tu_profreg(diff_same, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_ptr_nonnull(strstr(r.out, "work_heavy"));
    tu_result_free(&r);
    const char *diff_whole[] = {"diff", bpath, "--", prof, NULL};
    r = tu_profreg(diff_whole, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "the baseline holds region 'heavy' only"));
    tu_result_free(&r);
    const char *other[] = {"compare", "--region", "light", "--root", tu_tmp, "--current", prof, NULL};
    r = tu_profreg(other, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    tu_result_free(&r);

    /* export (folded): every line in the region */
    const char *exp[] = {"export", "--region", "light", "--format", "folded", "-o",
                         tu_in_tmp("light.folded"), prof, NULL};
    r = tu_profreg(exp, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    char *folded = tu_read_file(tu_in_tmp("light.folded"));
    ck_assert_ptr_nonnull(strstr(folded, "work_light"));
    ck_assert_ptr_null(strstr(folded, "work_heavy"));
    free(folded);

    /* unknown region: one line, exit 2 */
    const char *bad[] = {"report", "--region", "nope", prof, NULL};
    r = tu_profreg(bad, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "no region 'nope' (its regions: "));
    ck_assert_ptr_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
    tu_result_free(&r);
    const char *empty[] = {"report", "--region", "", prof, NULL};
    r = tu_profreg(empty, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    tu_result_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("preload");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_runs_unchanged_without_preload);
    tcase_add_test(tc, test_region_shares);
    tcase_add_test(tc, test_pause_excludes_busy_part);
    tcase_add_test(tc, test_flush_mid_run);
    tcase_add_test(tc, test_misuse_is_harmless);
    tcase_add_test(tc, test_region_option);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
