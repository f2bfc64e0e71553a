/* SPDX-License-Identifier: MIT */
/* check_profile_read.c — reading profiles: the Instruments workflow's real files, round trips of our
 * own writer, and every kind of broken input (one message naming the file and the problem,
 * nothing half-read). */
#include "testutil.h"

#include "analysis/read/profile_read.h"
#include "core/profile_write.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *fixture(const char *name)
{
    return tu_fixture(name);
}

/* The fixtures are the Instruments workflow's files byte for byte: tests/fixtures/SHA256SUMS
 * holds their checksums as they were received, and sha256sum (coreutils) checks them. */
START_TEST(test_fixture_copies_are_unchanged)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "cd '%s/tests/fixtures' && sha256sum --quiet --strict -c SHA256SUMS",
             tu_src());
    ck_assert_msg(system(cmd) == 0, "a fixture differs from the file received (%s)", cmd);
}
END_TEST

START_TEST(test_reads_older_tool_fixtures)
{
    struct {
        const char *file;
        size_t functions;
    } cases[] = {{"msd_sim_bench_top20.json", 20},
                 {"msd_sim_bench_project_only.json", 0},
                 {"msd_sim_bench_all.json", 808}};
    for (size_t i = 0; i < 3; i++) {
        const char *path = fixture(cases[i].file);
        /* the expected count comes from an independent parse of the same file */
        json_t *j = tu_load_json(path);
        size_t want = json_array_size(json_object_get(j, "top_functions"));
        if (cases[i].functions)
            ck_assert_uint_eq(want, cases[i].functions);
        struct pr_profile p;
        char err[1024];
        profile_init(&p);
        ck_assert_msg(profile_read_file(path, &p, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(p.nfunctions, want);
        ck_assert_uint_eq(p.total_samples, 7821);
        ck_assert_str_eq(p.template_name, "Time Profiler");
        ck_assert_str_eq(p.executable, "unknown");
        ck_assert(!p.has_stacks);
        /* every entry matches the raw JSON: name, samples, percentage, nullable source */
        for (size_t k = 0; k < want; k++) {
            json_t *f = json_array_get(json_object_get(j, "top_functions"), k);
            ck_assert_str_eq(p.functions[k].name, json_string_value(json_object_get(f, "name")));
            ck_assert_uint_eq(p.functions[k].samples,
                              (uint64_t)json_integer_value(json_object_get(f, "samples")));
            ck_assert(p.functions[k].percentage ==
                      json_number_value(json_object_get(f, "percentage")));
            json_t *sf = json_object_get(f, "source_file");
            if (json_is_null(sf))
                ck_assert_ptr_null(p.functions[k].source_file);
            json_t *ln = json_object_get(f, "line");
            ck_assert_int_eq(p.functions[k].line, json_is_null(ln) ? -1 : json_integer_value(ln));
            ck_assert(!p.functions[k].has_self);
        }
        json_decref(j);
        profile_free(&p);
    }
}
END_TEST

START_TEST(test_round_trip_of_own_writer)
{
    struct pr_profile p;
    profile_init(&p);
    p.executable = strdup("/bin/x");
    p.trace_file = strdup("t.json");
    p.mode = strdup("cpu");
    p.frequency_hz = 1000;
    p.total_samples = 10;
    p.total_time_ms = 10.0;
    p.wall_time_ms = 12.5;
    p.lost_samples = 0;
    p.nfunctions = 2;
    p.functions = calloc(2, sizeof *p.functions);
    p.functions[0] = (struct pr_function){
        strdup("main"), strdup("m.c"), strdup("/s/m.c"), strdup("x"), 3, 10, 4, 100.0, 40.0,
        true,           NULL};
    p.functions[1] = (struct pr_function){strdup("ns::f(int) \"q\""),
                                          NULL,
                                          NULL,
                                          NULL,
                                          -1,
                                          6,
                                          6,
                                          60.0,
                                          60.0,
                                          true,
                                          strdup("ns::f(int) \"q\" [clone .constprop.0]")};
    p.has_stacks = true;
    p.nstacks = 2;
    p.stacks = calloc(2, sizeof *p.stacks);
    p.stacks[0] = (struct pr_stack){malloc(2 * sizeof(uint32_t)), 2, 6, NULL, 0};
    p.stacks[0].frames[0] = 0;
    p.stacks[0].frames[1] = 1;
    p.stacks[0].inlined = calloc(2, 1);
    p.stacks[0].inlined[1] = 1;
    p.stacks[1] = (struct pr_stack){malloc(sizeof(uint32_t)), 1, 4, NULL, 0};
    p.stacks[1].frames[0] = 0;

    char *dir = tu_mkdtemp();
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/p.json", dir);
    ck_assert_int_eq(profile_write_file(&p, path, err, sizeof err), 0);
    struct pr_profile q;
    profile_init(&q);
    ck_assert_msg(profile_read_file(path, &q, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(q.executable, "/bin/x");
    ck_assert_uint_eq(q.total_samples, 10);
    ck_assert(q.wall_time_ms == 12.5);
    ck_assert(isnan(q.cpu_time_ms));
    ck_assert_uint_eq(q.nfunctions, 2);
    ck_assert_str_eq(q.functions[1].name, "ns::f(int) \"q\"");
    ck_assert_uint_eq(q.functions[0].self_samples, 4);
    ck_assert_int_eq(q.functions[0].line, 3);
    ck_assert_int_eq(q.functions[1].line, -1);
    ck_assert_ptr_null(q.functions[1].source_file);
    ck_assert_uint_eq(q.nstacks, 2);
    ck_assert_uint_eq(q.stacks[0].depth, 2);
    ck_assert_uint_eq(q.stacks[0].frames[1], 1);
    ck_assert_ptr_nonnull(q.stacks[0].inlined);
    ck_assert(!q.stacks[0].inlined[0] && q.stacks[0].inlined[1]);
    ck_assert_ptr_null(q.stacks[1].inlined);
    ck_assert_str_eq(q.functions[1].raw_name, "ns::f(int) \"q\" [clone .constprop.0]");
    /* writing what was read gives the same bytes */
    char path2[4200];
    snprintf(path2, sizeof path2, "%s/q.json", dir);
    ck_assert_int_eq(profile_write_file(&q, path2, err, sizeof err), 0);
    char *a = tu_read_file(path), *b = tu_read_file(path2);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    /* metadata.cpu_sampling: written only as false (allocations only), read back */
    ck_assert(!q.no_cpu_sampling);
    ck_assert_ptr_null(strstr(b = tu_read_file(path), "cpu_sampling"));
    free(b);
    q.no_cpu_sampling = true;
    ck_assert_int_eq(profile_write_file(&q, path2, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(b = tu_read_file(path2), "\"cpu_sampling\": false"));
    free(b);
    struct pr_profile r;
    profile_init(&r);
    ck_assert_msg(profile_read_file(path2, &r, err, sizeof err) == 0, "%s", err);
    ck_assert(r.no_cpu_sampling);
    profile_free(&r);
    profile_free(&p);
    profile_free(&q);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

#define GOOD_HEAD "{\"metadata\": {\"executable\": \"x\"}, \"summary\": {\"total_samples\": 10}, "

struct bad_case {
    const char *text;
    const char *expect; /* substring of the message after "name: " */
};

START_TEST(test_broken_inputs_give_one_clear_error)
{
    static const struct bad_case cases[] = {
        {"", "t.json:1:0: "},
        {"{", "t.json:1:1: "},
        {"{\"summary\": {\"total_samples\": 1},\n \"top_functions\": [,]}", "t.json:2:20: "},
        {"[1, 2]", "expected a JSON object at the top"},
        {"{\"top_functions\": []}", "summary: missing"},
        {"{\"metadata\": {\"cpu_sampling\": \"no\"}, \"summary\": {\"total_samples\": 0},"
         " \"top_functions\": []}",
         "metadata.cpu_sampling: expected true or false, got a string"},
        {"{\"summary\": {\"total_samples\": 1}}", "top_functions: missing"},
        {"{\"summary\": {\"total_samples\": -3}, \"top_functions\": []}", "negative"},
        {"{\"summary\": {\"total_samples\": \"7\"}, \"top_functions\": []}", "got a string"},
        {"{\"summary\": {\"total_samples\": 2.5}, \"top_functions\": []}", "whole"},
        {"{\"summary\": {\"total_samples\": 1}, \"top_functions\": {}}", "expected an array"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": NaN}]}",
         "t.json:1:"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": 1e999}]}",
         "t.json:1:"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": -1}]}",
         "top_functions[0].percentage: expected a finite non-negative number"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": 150}]}",
         "above 100"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": 5, \"samples\": 1, \"percentage\": 1}]}",
         "top_functions[0].name: expected a non-empty string"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"\", \"samples\": 1, \"percentage\": 1}]}",
         "non-empty"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"percentage\": 1}]}",
         "top_functions[0].samples: expected a count, got nothing"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": 1},"
                   " {\"name\": \"f\", \"samples\": 1, \"percentage\": 1}]}",
         "top_functions[1]: duplicate function name"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": 1,"
                   " \"line\": \"12\"}]}",
         "top_functions[0].line"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": 1,"
                   " \"source_file\": 3}]}",
         "top_functions[0].source_file: expected a string"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": 1}],"
                   " \"stacks\": [{\"count\": 1, \"frames\": [1]}]}",
         "stacks[0].frames[0]: expected an index"},
        {GOOD_HEAD "\"top_functions\": [], \"stacks\": [{\"count\": 1, \"frames\": []}]}",
         "stacks[0].frames: expected a non-empty array"},
#define TWO_FNS                                                                                    \
    "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": 100},"                  \
    " {\"name\": \"g\", \"samples\": 1, \"percentage\": 100}], "
        {GOOD_HEAD TWO_FNS "\"stacks\": [{\"count\": 1, \"frames\": [0, 1], \"inlined\": [0]}]}",
         "stacks[0].inlined[0]: expected a frame position (1..1)"},
        {GOOD_HEAD TWO_FNS "\"stacks\": [{\"count\": 1, \"frames\": [0, 1], \"inlined\": [2]}]}",
         "stacks[0].inlined[0]: expected a frame position"},
        {GOOD_HEAD TWO_FNS "\"stacks\": [{\"count\": 1, \"frames\": [0, 1], \"inlined\": 1}]}",
         "stacks[0].inlined: expected an array of frame positions"},
        {GOOD_HEAD TWO_FNS
         "\"stacks\": [{\"count\": 1, \"frames\": [0, 1], \"inlined\": [\"1\"]}]}",
         "stacks[0].inlined[0]: expected a frame position"},
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\", \"samples\": 1, \"percentage\": 1,"
                   " \"raw_name\": 7}]}",
         "top_functions[0].raw_name: expected a string"},
        {"{\"metadata\": 3, \"summary\": {\"total_samples\": 1}, \"top_functions\": []}",
         "metadata: expected an object"},
        {"{\"metadata\": {\"executable\": [\"x\"]}, \"summary\": {\"total_samples\": 1}, "
         "\"top_functions\": []}",
         "metadata.executable: expected a string"},
        {"{\"summary\": {\"total_samples\": 1, \"total_samples\": 2}, \"top_functions\": []}",
         "duplicate object key"},
        {"{\"summary\": {\"total_samples\": 1, \"wall_time_ms\": -5}, \"top_functions\": []}",
         "summary.wall_time_ms"},
        {"{\"summary\": {\"total_samples\": 1}, \"top_functions\": []} trailing", "t.json:1:"},
        /* a name quoted in an error (here a duplicate) keeps its newline out of the line */
        {GOOD_HEAD "\"top_functions\": [{\"name\": \"f\\ng\", \"samples\": 1, \"percentage\": 1},"
                   " {\"name\": \"f\\ng\", \"samples\": 1, \"percentage\": 1}]}",
         "top_functions[1]: duplicate function name (also at [0]): f\\ng"},
        /* jansson quotes the text near the error: its newline stays out of the one line */
        {"{\"metadata\": {\"executable\": \"/x/caf\\u0\n\"}}", "t.json:2:0: invalid escape"},
        /* stack counts whose sum does not fit (each one does): folding them would wrap */
        {GOOD_HEAD TWO_FNS "\"stacks\": [{\"count\": 9000000000000000000, \"frames\": [0]},"
                           " {\"count\": 9000000000000000000, \"frames\": [0, 1]}]}",
         "stacks[1].count: the stacks' counts add up to more than 9223372036854775807"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pr_profile p;
        char err[1024];
        profile_init(&p);
        int rc = profile_read_string(cases[i].text, "t.json", &p, err, sizeof err);
        ck_assert_msg(rc == -1, "case %zu was accepted: %s", i, cases[i].text);
        ck_assert_msg(strncmp(err, "t.json", 6) == 0, "case %zu: no file name: %s", i, err);
        ck_assert_msg(strstr(err, cases[i].expect) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                      cases[i].expect);
        ck_assert_msg(strchr(err, '\n') == NULL, "case %zu: more than one line", i);
        ck_assert_uint_eq(p.nfunctions, 0); /* nothing half-read */
        ck_assert_ptr_null(p.functions);
    }
}
END_TEST

START_TEST(test_missing_and_unreadable_files)
{
    struct pr_profile p;
    char err[1024];
    profile_init(&p);
    ck_assert_int_eq(profile_read_file("/nonexistent/p.json", &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent/p.json") && strstr(err, "No such file"), "%s", err);
    ck_assert_int_eq(profile_read_file("/", &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "/: not a regular file");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile_read");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fixture_copies_are_unchanged);
    tcase_add_test(tc, test_reads_older_tool_fixtures);
    tcase_add_test(tc, test_round_trip_of_own_writer);
    tcase_add_test(tc, test_broken_inputs_give_one_clear_error);
    tcase_add_test(tc, test_missing_and_unreadable_files);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
