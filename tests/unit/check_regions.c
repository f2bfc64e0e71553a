/* SPDX-License-Identifier: MIT */
/* check_regions.c — regions in profiles: reading and writing the JSON extension, old profiles
 * without it, broken input, merging and folding keep regions apart, splitting built stacks by
 * region, and --region's filter (matching by path components, recounting, unknown names). */
#include "testutil.h"

#include "analysis/read/profile_read.h"
#include "analysis/read/region.h"
#include "core/profile.h"
#include "core/profile_write.h"
#include "core/regions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* main -> f -> g in "outer" (6) and "outer/inner" (3), main -> f in "light" (4), main -> h in
 * no region (2). */
static const char *const REGIONS_JSON =
    "{\"metadata\": {\"trace_file\": \"t.json\", \"template\": \"Time Profiler\","
    " \"export_timestamp\": \"2026-01-01T00:00:00Z\", \"executable\": \"/x\","
    " \"frequency_hz\": 1000.0},"
    " \"summary\": {\"total_samples\": 15, \"total_time_ms\": 15.0, \"paused_samples\": 7},"
    " \"top_functions\": ["
    "  {\"rank\": 1, \"name\": \"main\", \"samples\": 15, \"percentage\": 100.0, \"self_samples\": 0,"
    "   \"self_percentage\": 0.0, \"source_file\": null, \"line\": null},"
    "  {\"rank\": 2, \"name\": \"f\", \"samples\": 13, \"percentage\": 86.0, \"self_samples\": 4,"
    "   \"self_percentage\": 26.0, \"source_file\": null, \"line\": null},"
    "  {\"rank\": 3, \"name\": \"g\", \"samples\": 9, \"percentage\": 60.0, \"self_samples\": 9,"
    "   \"self_percentage\": 60.0, \"source_file\": null, \"line\": null},"
    "  {\"rank\": 4, \"name\": \"h\", \"samples\": 2, \"percentage\": 13.0, \"self_samples\": 2,"
    "   \"self_percentage\": 13.0, \"source_file\": null, \"line\": null}],"
    " \"stacks\": ["
    "  {\"count\": 6, \"frames\": [0, 1, 2], \"region\": 0},"
    "  {\"count\": 3, \"frames\": [0, 1, 2], \"region\": 1},"
    "  {\"count\": 4, \"frames\": [0, 1], \"region\": 2},"
    "  {\"count\": 2, \"frames\": [0, 3]}],"
    " \"regions\": [\"outer\", \"outer/inner\", \"light\"]}";

static void read_ok(const char *text, struct pr_profile *p)
{
    char err[512];
    profile_init(p);
    int rc = profile_read_string(text, "t.json", p, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
}

static void read_fails(const char *text, const char *want)
{
    char err[512] = "";
    struct pr_profile p;
    profile_init(&p);
    ck_assert_int_ne(profile_read_string(text, "t.json", &p, err, sizeof err), 0);
    ck_assert_msg(strstr(err, want) && !strchr(err, '\n'), "error '%s' lacks '%s'", err, want);
}

static const struct pr_function *fn(const struct pr_profile *p, const char *name)
{
    long i = profile_find(p, name);
    return i < 0 ? NULL : &p->functions[i];
}

/* Sum of the counts of p's stacks in region path (NULL: in none). */
static uint64_t region_count(const struct pr_profile *p, const char *path)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
        uint32_t r = p->stacks[i].region;
        if (path ? r && strcmp(p->regions[r - 1], path) == 0 : r == 0)
            sum += p->stacks[i].count;
    }
    return sum;
}

START_TEST(test_read_write_round_trip)
{
    struct pr_profile p;
    read_ok(REGIONS_JSON, &p);
    ck_assert_uint_eq(p.nregions, 3);
    ck_assert_str_eq(p.regions[1], "outer/inner");
    ck_assert_uint_eq(p.stacks[0].region, 1);
    ck_assert_uint_eq(p.stacks[3].region, 0);
    ck_assert(p.paused_samples == 7);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(profile_write(&p, f), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "\"regions\": ["));
    ck_assert_ptr_nonnull(strstr(buf, "\"paused_samples\": 7"));
    struct pr_profile q;
    read_ok(buf, &q);
    ck_assert_uint_eq(q.nregions, 3);
    for (size_t i = 0; i < p.nstacks; i++)
        ck_assert_uint_eq(q.stacks[i].region, p.stacks[i].region);
    ck_assert_uint_eq(region_count(&q, "light"), 4);
    ck_assert_uint_eq(region_count(&q, NULL), 2);
    free(buf);
    profile_free(&p);
    profile_free(&q);
}
END_TEST

START_TEST(test_old_profile_has_no_regions)
{
    char *old = tu_replace(REGIONS_JSON, ", \"regions\": [\"outer\", \"outer/inner\", \"light\"]", "");
    char *a = tu_replace(old, ", \"region\": 0}", "}");
    char *b = tu_replace(a, ", \"region\": 1}", "}");
    char *c = tu_replace(b, ", \"region\": 2}", "}");
    struct pr_profile p;
    read_ok(c, &p);
    ck_assert_uint_eq(p.nregions, 0);
    for (size_t i = 0; i < p.nstacks; i++)
        ck_assert_uint_eq(p.stacks[i].region, 0);
    char err[512];
    ck_assert_int_ne(profile_filter_region(&p, "outer", "t.json", err, sizeof err), 0);
    ck_assert_str_eq(err, "t.json: no region 'outer' (it has no regions)");
    profile_free(&p);
    free(old);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(test_broken_regions)
{
    char *s = tu_replace(REGIONS_JSON, "\"region\": 2}", "\"region\": 3}");
    read_fails(s, "stacks[2].region: expected an index into regions (0..2)");
    free(s);
    s = tu_replace(REGIONS_JSON, "\"region\": 2}", "\"region\": -1}");
    read_fails(s, "stacks[2].region: expected an index into regions");
    free(s);
    s = tu_replace(REGIONS_JSON, "\"region\": 2}", "\"region\": \"light\"}");
    read_fails(s, "stacks[2].region: expected an index into regions");
    free(s);
    s = tu_replace(REGIONS_JSON, "\"light\"]", "\"outer\"]");
    read_fails(s, "regions[2]: duplicate region (also at [0])");
    free(s);
    s = tu_replace(REGIONS_JSON, "\"light\"]", "\"\"]");
    read_fails(s, "regions[2]: expected a non-empty string");
    free(s);
    s = tu_replace(REGIONS_JSON, "[\"outer\", \"outer/inner\", \"light\"]", "\"outer\"");
    read_fails(s, "regions: expected an array of strings, got a string");
    free(s);
    s = tu_replace(REGIONS_JSON, ", \"regions\": [\"outer\", \"outer/inner\", \"light\"]", "");
    read_fails(s, "stacks[0].region: the profile has no regions");
    free(s);
}
END_TEST

START_TEST(test_region_matches_components)
{
    ck_assert(region_matches("outer", "outer"));
    ck_assert(region_matches("outer/inner", "outer"));
    ck_assert(region_matches("outer/inner", "inner"));
    ck_assert(region_matches("outer/inner/x", "outer/inner"));
    ck_assert(region_matches("a/outer/inner/x", "outer/inner"));
    ck_assert(!region_matches("outer/inner", "inn"));
    ck_assert(!region_matches("outer/inner", "outer/in"));
    ck_assert(!region_matches("outerx", "outer"));
    ck_assert(!region_matches("outer", ""));
}
END_TEST

START_TEST(test_filter_recounts)
{
    struct pr_profile p;
    read_ok(REGIONS_JSON, &p);
    char err[512];
    ck_assert_int_eq(profile_filter_region(&p, "outer", "t.json", err, sizeof err), 0);
    ck_assert_uint_eq(p.total_samples, 9);
    ck_assert(p.total_time_ms == 9.0);
    ck_assert_uint_eq(p.nfunctions, 3); /* h is on no kept stack */
    ck_assert_ptr_null(fn(&p, "h"));
    ck_assert_uint_eq(fn(&p, "g")->samples, 9);
    ck_assert_uint_eq(fn(&p, "g")->self_samples, 9);
    ck_assert_uint_eq(fn(&p, "f")->self_samples, 0);
    ck_assert(fn(&p, "g")->percentage == 100.0);
    profile_free(&p);

    read_ok(REGIONS_JSON, &p);
    ck_assert_int_eq(profile_filter_region(&p, "inner", "t.json", err, sizeof err), 0);
    ck_assert_uint_eq(p.total_samples, 3);
    profile_free(&p);

    read_ok(REGIONS_JSON, &p);
    ck_assert_int_eq(profile_filter_region(&p, "light", "t.json", err, sizeof err), 0);
    ck_assert_uint_eq(p.total_samples, 4);
    ck_assert_uint_eq(fn(&p, "f")->self_samples, 4);
    ck_assert_ptr_null(fn(&p, "g"));
    profile_free(&p);
}
END_TEST

START_TEST(test_filter_unknown_region)
{
    struct pr_profile p;
    read_ok(REGIONS_JSON, &p);
    char err[512];
    ck_assert_int_ne(profile_filter_region(&p, "nope", "t.json", err, sizeof err), 0);
    ck_assert_str_eq(err, "t.json: no region 'nope' (its regions: outer, outer/inner, light)");
    ck_assert_uint_eq(p.total_samples, 15); /* unchanged */
    profile_free(&p);
}
END_TEST

START_TEST(test_merge_maps_regions)
{
    struct pr_profile a, b, m;
    read_ok(REGIONS_JSON, &a);
    /* the same profile with its region table in another order */
    char *s1 = tu_replace(REGIONS_JSON, "[\"outer\", \"outer/inner\", \"light\"]",
                          "[\"light\", \"outer\", \"outer/inner\"]");
    char *s2 = tu_replace(s1, "\"region\": 2}", "\"region\": 9}");
    char *s3 = tu_replace(s2, "\"region\": 1}", "\"region\": 2}");
    char *s4 = tu_replace(s3, "\"region\": 0}", "\"region\": 1}");
    char *s5 = tu_replace(s4, "\"region\": 9}", "\"region\": 0}");
    read_ok(s5, &b);
    profile_init(&m);
    ck_assert_int_eq(profile_merge(&m, &a), 0);
    ck_assert_int_eq(profile_merge(&m, &b), 0);
    ck_assert_uint_eq(m.nregions, 3);
    ck_assert_uint_eq(m.nstacks, 4); /* equal frames in different regions stay apart */
    ck_assert_uint_eq(region_count(&m, "outer"), 12);
    ck_assert_uint_eq(region_count(&m, "outer/inner"), 6);
    ck_assert_uint_eq(region_count(&m, "light"), 8);
    ck_assert_uint_eq(region_count(&m, NULL), 4);
    ck_assert_uint_eq(m.total_samples, 30);
    profile_free(&a);
    profile_free(&b);
    profile_free(&m);
    free(s1);
    free(s2);
    free(s3);
    free(s4);
    free(s5);
}
END_TEST

START_TEST(test_fold_keeps_regions_apart)
{
    struct pr_profile p;
    /* g inlined into f: folding makes main -> f in three regions, which stay three stacks */
    char *s = tu_replace(REGIONS_JSON, "\"frames\": [0, 1, 2], \"region\": 0}",
                         "\"frames\": [0, 1, 2], \"inlined\": [2], \"region\": 0}");
    char *t = tu_replace(s, "\"frames\": [0, 1, 2], \"region\": 1}",
                         "\"frames\": [0, 1, 2], \"inlined\": [2], \"region\": 1}");
    read_ok(t, &p);
    ck_assert_int_eq(profile_fold_inlines(&p), 0);
    ck_assert_uint_eq(p.nstacks, 4);
    ck_assert_uint_eq(region_count(&p, "outer"), 6);
    ck_assert_uint_eq(region_count(&p, "outer/inner"), 3);
    ck_assert_uint_eq(fn(&p, "f")->self_samples, 13);
    profile_free(&p);
    free(s);
    free(t);
}
END_TEST

START_TEST(test_split_built_stacks)
{
    struct pr_profile p;
    read_ok(REGIONS_JSON, &p);
    /* forget the regions: stacks 0 and 1 as one built stack of 9 */
    for (size_t i = 0; i < p.nregions; i++)
        free(p.regions[i]);
    free(p.regions);
    p.regions = NULL;
    p.nregions = 0;
    free(p.stacks[1].frames);
    p.stacks[0].count = 9;
    p.stacks[1] = p.stacks[2];
    p.stacks[2] = p.stacks[3];
    p.nstacks = 3;
    for (size_t i = 0; i < p.nstacks; i++)
        p.stacks[i].region = 0;
    struct region_sample raw[] = {
        {0, 5, "outer"}, {1, 4, "light"}, {0, 3, "outer/inner"}, {2, 2, NULL}, {0, 1, "outer"},
    };
    ck_assert_int_eq(profile_split_regions(&p, raw, 5), 0);
    ck_assert_uint_eq(p.nstacks, 4);
    ck_assert_uint_eq(region_count(&p, "outer"), 6);
    ck_assert_uint_eq(region_count(&p, "outer/inner"), 3);
    ck_assert_uint_eq(region_count(&p, "light"), 4);
    ck_assert_uint_eq(region_count(&p, NULL), 2);
    ck_assert_uint_eq(p.stacks[0].depth, 3); /* built stack 0 first, in first-seen order */
    ck_assert_str_eq(p.regions[p.stacks[0].region - 1], "outer");
    ck_assert_str_eq(p.regions[p.stacks[1].region - 1], "outer/inner");
    profile_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("regions");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_read_write_round_trip);
    tcase_add_test(tc, test_old_profile_has_no_regions);
    tcase_add_test(tc, test_broken_regions);
    tcase_add_test(tc, test_region_matches_components);
    tcase_add_test(tc, test_filter_recounts);
    tcase_add_test(tc, test_filter_unknown_region);
    tcase_add_test(tc, test_merge_maps_regions);
    tcase_add_test(tc, test_fold_keeps_regions_apart);
    tcase_add_test(tc, test_split_built_stacks);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
