/* SPDX-License-Identifier: MIT */
/* check_cli.c — the profreg binary: record passes stdin, stdout, stderr and exit status
 * through and writes a profile; report prints the table; every bad option or input exits 2
 * with one line on stderr; help and version work everywhere. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct tu_result profreg(const char *const *args, const char *stdin_data)
{
    const char *env[] = {"PROFREG_LIB=", NULL};
    return tu_profreg(args, env, stdin_data);
}

static bool one_line(const char *s)
{
    const char *nl = strchr(s, '\n');
    return nl && nl[1] == '\0';
}

START_TEST(test_record_passes_everything_through)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/rec.json", tu_tmp);
    const char *args[] = {"record", "-o",  out, "--", tu_build_path("workloads/echo_exit"),
                          "7",      "x y", NULL};
    struct tu_result r = profreg(args, "abc\n");
    ck_assert_int_eq(r.status, 7);
    ck_assert_str_eq(r.out, "ABC\nargs: [x y]\n");
    ck_assert_msg(strncmp(r.err, "echo_exit: to stderr\nprofreg: wrote ", 36) == 0, "%s",
                  tu_tail(r.err));
    json_t *p = tu_load_json(out);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(p, "metadata"), "executable")),
        tu_build_path("workloads/echo_exit"));
    json_decref(p);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_record_options_reach_the_preload)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/opts.json", tu_tmp);
    const char *args[] = {"record", "-q",     "-F",
                          "500",    "--mode", "wall",
                          "-o",     out,      tu_build_path("workloads/echo_exit"),
                          "0",      NULL};
    struct tu_result r = profreg(args, "");
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.err, "echo_exit: to stderr\n"); /* -q: no line from profreg */
    json_t *p = tu_load_json(out);
    json_t *m = json_object_get(p, "metadata");
    ck_assert_str_eq(json_string_value(json_object_get(m, "mode")), "wall");
    ck_assert(json_number_value(json_object_get(m, "frequency_hz")) == 500.0);
    json_decref(p);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_record_bad_usage_exits_2)
{
    const char *cases[][8] = {
        {"record", NULL},
        {"record", "--mode", "gpu", "--", "true", NULL},
        {"record", "-F", "0", "--", "true", NULL},
        {"record", "-F", "abc", "--", "true", NULL},
        {"record", "-F", "100001", "--", "true", NULL},
        {"record", "--max-stacks", "5", "--", "true", NULL},
        {"record", "-o", "", "--", "true", NULL},
        {"record", "--bogus", "--", "true", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tu_result r = profreg(cases[i], "");
        ck_assert_msg(r.status == 2, "case %zu: status %d", i, r.status);
        ck_assert_msg(strncmp(r.err, "profreg: ", 9) == 0 && one_line(r.err), "case %zu: %s", i,
                      tu_tail(r.err));
        tu_result_free(&r);
    }
}
END_TEST

START_TEST(test_record_missing_command)
{
    const char *args[] = {"record", "--", "/nonexistent/cmd", NULL};
    struct tu_result r = profreg(args, "");
    ck_assert_int_eq(r.status, 127);
    ck_assert_msg(one_line(r.err) && strstr(r.err, "/nonexistent/cmd"), "%s", tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

START_TEST(test_report_prints_table_and_hotspot)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/chain.json", tu_tmp);
    const char *rec[] = {"record", "-q", "-o", out, "--", tu_build_path("workloads/chain"), NULL};
    struct tu_result r = profreg(rec, "");
    ck_assert_int_eq(r.status, 0);
    tu_result_free(&r);

    const char *rep[] = {"report", out, "--top", "40", NULL};
    r = profreg(rep, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "Top hotspot: leaf_a") != NULL, "%s", tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "chain_30") && strstr(r.out, "chain.c:"), "%s", tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "\033[") == NULL, "colour on a pipe");
    tu_result_free(&r);

    const char *self[] = {"report", "--self", "--top", "3", out, NULL};
    r = profreg(self, NULL);
    ck_assert_int_eq(r.status, 0);
    const char *a = strstr(r.out, "leaf_a"), *b = strstr(r.out, "leaf_b"),
               *c = strstr(r.out, "leaf_c");
    ck_assert_msg(a && b && c && a < b && b < c, "%s", tu_tail(r.out));
    tu_result_free(&r);

    /* two runs merged: samples add up */
    const char *two[] = {"report", out, out, "--top", "1", NULL};
    r = profreg(two, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "2 profiles merged") != NULL, "%s", tu_tail(r.out));
    tu_result_free(&r);
}
END_TEST

START_TEST(test_report_reads_older_tool_files)
{
    const char *args[] = {"report", tu_fixture("msd_sim_bench_all.json"), "--top", "5", NULL};
    struct tu_result r = profreg(args, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "__vfprintf") && strstr(r.out, "803 more functions"), "%s",
                  tu_tail(r.out));
    tu_result_free(&r);
}
END_TEST

/* --inlines: by default inlined code counts for the function it was inlined into (its self
 * share, as perf counts it); expand lists the inlined function as a row of its own. Every
 * command that reads profiles refuses a bad mode with one line and exit 2. */
START_TEST(test_inlines_fold_and_expand)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/inl.json", tu_tmp);
    FILE *f = fopen(path, "w");
    fputs("{\"metadata\": {\"executable\": \"/x/app\", \"profreg_version\": \"0.1.0\"},\n"
          " \"summary\": {\"total_samples\": 10},\n"
          " \"top_functions\": [\n"
          "  {\"name\": \"main\", \"samples\": 10, \"percentage\": 100, \"self_samples\": 0,"
          " \"self_percentage\": 0},\n"
          "  {\"name\": \"outer(int)\", \"samples\": 10, \"percentage\": 100, \"self_samples\": 2,"
          " \"self_percentage\": 20},\n"
          "  {\"name\": \"Vec::dot(Vec const&) const\", \"samples\": 8, \"percentage\": 80,"
          " \"self_samples\": 8, \"self_percentage\": 80}],\n"
          " \"stacks\": [{\"count\": 8, \"frames\": [0, 1, 2], \"inlined\": [2]},"
          " {\"count\": 2, \"frames\": [0, 1]}]}\n",
          f);
    fclose(f);
    const char *fold[] = {"report", path, "--no-color", NULL};
    struct tu_result r = profreg(fold, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_msg(!strstr(r.out, "Vec::dot") && strstr(r.out, "outer(int)"), "%s", tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "100.00   100.00"), "outer's self share is 100 %%:\n%s",
                  tu_tail(r.out));
    tu_result_free(&r);
    const char *expand[] = {"report", path, "--no-color", "--inlines", "expand", NULL};
    r = profreg(expand, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "Vec::dot(Vec const&) const"), "%s", tu_tail(r.out));
    tu_result_free(&r);
    char out[4300];
    snprintf(out, sizeof out, "%s/o.svg", tu_tmp);
    const char *bad[][10] = {
        {"report", path, "--inlines", "both", NULL},
        {"report", path, "--inlines", NULL},
        {"compare", "--current", path, "--inlines", "", NULL},
        {"baseline", "set", "--current", path, "--inlines", "x", NULL},
        {"flamegraph", path, "-o", out, "--inlines", "unfold", NULL},
        {"diff", path, "--", path, "--inlines", "Fold", NULL},
        {"export", path, "--format", "folded", "-o", out, "--inlines", "1", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = profreg(bad[i], NULL);
        ck_assert_msg(r.status == 2, "case %zu: status %d", i, r.status);
        ck_assert_msg(one_line(r.err) && strstr(r.err, "inlines"), "case %zu: %s", i,
                      tu_tail(r.err));
        tu_result_free(&r);
    }
    ck_assert_msg(access(out, F_OK) != 0, "nothing written on bad input");
}
END_TEST

START_TEST(test_report_bad_input_exits_2)
{
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/bad.json", tu_tmp);
    FILE *f = fopen(bad, "w");
    fputs("{\"summary\": {\"total_samples\": 1},\n  \"top_functions\": [}\n", f);
    fclose(f);
    const char *a1[] = {"report", bad, NULL};
    struct tu_result r = profreg(a1, NULL);
    ck_assert_int_eq(r.status, 2);
    char want[4300];
    snprintf(want, sizeof want, "profreg: %s:2:", bad);
    ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0 && one_line(r.err), "%s", tu_tail(r.err));
    ck_assert_str_eq(r.out, "");
    tu_result_free(&r);

    const char *cases[][6] = {
        {"report", NULL},
        {"report", "/nonexistent.json", NULL},
        {"report", bad, "--top", "x", NULL},
        {"report", bad, "--top", "-1", NULL},
        {"report", "--colour", bad, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = profreg(cases[i], NULL);
        ck_assert_msg(r.status == 2, "case %zu: status %d", i, r.status);
        tu_result_free(&r);
    }
    char *after = tu_read_file(bad);
    ck_assert_str_eq(after, "{\"summary\": {\"total_samples\": 1},\n  \"top_functions\": [}\n");
    free(after);
}
END_TEST

/* profreg history: broken options and files exit 2 with one line and change nothing; a file
 * whose every line is bad is "no usable record"; good lines beside bad ones are read. */
START_TEST(test_history_bad_input)
{
    char good[4200], bad[4200];
    snprintf(good, sizeof good, "%s/good.jsonl", tu_tmp);
    snprintf(bad, sizeof bad, "%s/bad.jsonl", tu_tmp);
    tu_write_file(good, "{\"profreg_history\": 1, \"executable\": \"x\", \"commit\": \"c1\", "
                        "\"runs\": 1, \"wall_time_ms\": {\"median\": 10, \"sd\": 0}, "
                        "\"functions\": [{\"name\": \"f\", \"total\": 50, \"self\": 50}]}\n"
                        "{\"profreg_history\": 1, \"executable\": \"x\", \"runs\": tr\n");
    tu_write_file(bad, "not json\n{\"profreg_history\": 1}\n");
    const char *cases[][8] = {
        {"history", NULL},
        {"history", "/nonexistent.jsonl", NULL},
        {"history", good, "--format", "xml", NULL},
        {"history", good, "--function", "(", NULL},
        {"history", bad, NULL},
        {"history", "append", NULL},
        {"history", "append", good, "--executable", "x", NULL},
        {"history", "append", good, "--executable", "x", "--dirty", "maybe", NULL},
        {"history", good, "-o", "chart.png", NULL},
        {"history", good, "--baseline", "/nonexistent.json", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tu_result r = profreg(cases[i], NULL);
        ck_assert_msg(r.status == 2, "case %zu: status %d", i, r.status);
        ck_assert_msg(strncmp(r.err, "profreg", 7) == 0, "case %zu: %s", i, tu_tail(r.err));
        tu_result_free(&r);
    }
    const char *ok[] = {"history", good, "--format", "csv", NULL};
    struct tu_result r = profreg(ok, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "c1,,1,10.0000") && strstr(r.err, "good.jsonl:2:") &&
                      one_line(r.err),
                  "%s%s", tu_tail(r.out), tu_tail(r.err));
    tu_result_free(&r);
    char *after = tu_read_file(bad);
    ck_assert_str_eq(after, "not json\n{\"profreg_history\": 1}\n");
    free(after);
}
END_TEST

/* A history with a step at a known commit: the chart has a point per record and series, the
 * change lines at the step (red: up) with the baseline's level; headless Chromium draws them
 * (skipped, saying so, without Chromium). */
START_TEST(test_history_chart)
{
    char hist[4200], chart[4200], base[4200];
    snprintf(hist, sizeof hist, "%s/h.jsonl", tu_tmp);
    snprintf(chart, sizeof chart, "%s/chart.svg", tu_tmp);
    snprintf(base, sizeof base, "%s/base.json", tu_tmp);
    FILE *f = fopen(hist, "w");
    for (int i = 0; i < 24; i++) {
        double wall = (i < 14 ? 1000 : 1180) * (1 + 0.005 * ((i * 7) % 5 - 2));
        double share = (i < 14 ? 19.6 : 33.0) + 0.1 * ((i * 3) % 5 - 2);
        fprintf(f,
                "{\"profreg_history\": 1, \"executable\": \"sim\", \"commit\": \"c%02d\", "
                "\"runs\": 5, \"wall_time_ms\": {\"median\": %.1f, \"sd\": 3}, \"cpu_time_ms\": "
                "{\"median\": %.1f, \"sd\": 3}, \"peak_rss_kb\": {\"median\": 40000, \"sd\": 0}, "
                "\"functions\": [{\"name\": \"EPA::contact()\", \"total\": %.2f, \"self\": 10}]}\n",
                i, wall, wall * 0.98, share);
    }
    fclose(f);
    tu_write_file(base, "{\"metadata\": {\"runs_averaged\": 5}, \"top_functions\": "
                        "[{\"name\": \"EPA::contact()\", \"avg_percentage\": 19.6}]}\n");
    const char *args[] = {"history", hist, "-o", chart, "--baseline", base, NULL};
    struct tu_result r = profreg(args, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "wall time +18 % at c14") && strstr(r.out, "EPA::contact() 19.") &&
                      strstr(r.out, "at c14"),
                  "%s", tu_tail(r.out));
    tu_result_free(&r);
    tu_assert_xml(chart);
    char html[4200];
    snprintf(html, sizeof html, "%s/chart.html", tu_tmp);
    const char *args_html[] = {"history", hist, "-o", html, "--baseline", base, NULL};
    r = profreg(args_html, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    tu_assert_xml(html);
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "python3 -c \"import xml.etree.ElementTree as E; N = '{http://www.w3.org/2000/svg}'; "
             "r = E.parse('%s').getroot(); c = r.findall('.//' + N + 'line'); "
             "print(len(r.findall('.//' + N + 'circle')), "
             "sum(1 for l in c if l.get('class') == 'change' and l.get('stroke') == '#d62728'), "
             "sum(1 for l in c if l.get('class') == 'baseline'))\"",
             chart);
    char *out = tu_shell(cmd);
    ck_assert_msg(out && strcmp(out, "96 3 1\n") == 0, "circles, change lines, baseline: %s",
                  out ? out : "(none)");
    free(out);
    char *which = tu_shell("command -v chromium || command -v chromium-browser || true");
    if (!which || !*which) {
        fprintf(stderr, "check_cli: SKIPPED the chart rendering check: Chromium is not installed "
                        "(apt-get install chromium)\n");
        free(which);
        return;
    }
    which[strcspn(which, "\n")] = '\0';
    snprintf(
        cmd, sizeof cmd,
        "cd '%s' && timeout 90 '%s' --headless --no-sandbox --disable-gpu --hide-scrollbars "
        "--user-data-dir='%s/chromium' --window-size=960,700 --screenshot=shot.png "
        "'file://%s' >/dev/null 2>&1; "
        "PYTHONPATH='%s' python3 -c \"from png_pixels import pixels; px, w, h = "
        "pixels('shot.png'); seen = {px(x, y) for x in range(0, w, 2) for y in range(0, h, 2)}; "
        "print((214, 39, 40) in seen, (31, 119, 180) in seen)\"",
        tu_tmp, which, tu_tmp, chart, tu_src_path("tests/lib"));
    free(which);
    out = tu_shell(cmd);
    ck_assert_msg(out && strcmp(out, "True True\n") == 0,
                  "red change lines and blue series drawn: %s", out ? out : "(none)");
    free(out);
}
END_TEST

/* A gtest program's record carries its tests' CPU times; --test follows them. */
START_TEST(test_history_follows_tests)
{
    json_decref(tu_profile_workload(tu_tmp, "bytest_gtest", NULL, NULL));
    char hist[4200], prof[4200];
    snprintf(hist, sizeof hist, "%s/t.jsonl", tu_tmp);
    snprintf(prof, sizeof prof, "%s/bytest_gtest.json", tu_tmp);
    const char *app[] = {"history", "append", hist, "--executable", "bytest_gtest", "--commit",
                         "c1",      prof,     NULL};
    struct tu_result r = profreg(app, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    tu_result_free(&r);
    const char *show[] = {"history", hist, "--test", "^Split\\.", "--format", "json", NULL};
    r = profreg(show, NULL);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.err));
    json_error_t e;
    json_t *j = json_loads(r.out, 0, &e);
    ck_assert_msg(j, "not JSON: %s", tu_tail(r.out));
    json_t *rec = json_array_get(json_object_get(j, "records"), 0);
    double heavy = json_number_value(json_object_get(rec, "test Split.Heavy"));
    double light = json_number_value(json_object_get(rec, "test Split.Light"));
    ck_assert_msg(heavy > light && light > 0, "Split.Heavy %.1f ms, Split.Light %.1f ms", heavy,
                  light);
    ck_assert_ptr_null(json_object_get(rec, "test Fix.Body"));
    json_decref(j);
    tu_result_free(&r);
}
END_TEST

/* Every usage error, of every command and of profreg itself, is exactly one line on stderr
 * starting "profreg: " that points to --help, with exit status 2 and nothing on stdout:
 * getopt's own messages and the usage text are not printed. */
START_TEST(test_usage_errors_are_one_line)
{
    char prof[4200];
    snprintf(prof, sizeof prof, "%s/p.json", tu_tmp);
    tu_write_file(prof, "{\"summary\": {\"total_samples\": 1}, \"top_functions\": []}\n");
    const char *cases[][8] = {
        {NULL},
        {"frobnicate", NULL},
        {"help", "frobnicate", NULL},
        {"--bogus", NULL},
        {"report", "--bogus", prof, NULL},
        {"report", prof, "--top", NULL},
        {"report", prof, "--top", "x", NULL},
        {"report", "-x", prof, NULL},
        {"report", NULL},
        {"report", prof, "--self=yes", NULL},
        {"compare", "--bogus", NULL},
        {"compare", "--runs", NULL},
        {"compare", "--runs", "0", NULL},
        {"compare", "--metric", "x", NULL},
        {"compare", "stray", NULL},
        {"compare", "--t", "5", NULL},
        {"compare", "-q", NULL},
        {"baseline", NULL},
        {"baseline", "frob", NULL},
        {"baseline", "set", "--bogus", NULL},
        {"baseline", "show", "--top", NULL},
        {"baseline", "show", "stray", NULL},
        {"flamegraph", prof, "--bogus", NULL},
        {"flamegraph", prof, "-o", NULL},
        {"flamegraph", prof, "--width", "5", NULL},
        {"flamegraph", NULL},
        {"diff", prof, "--", prof, "--bogus", NULL},
        {"diff", prof, "--", prof, "--top", NULL},
        {"diff", prof, NULL},
        {"export", prof, "--bogus", NULL},
        {"export", prof, NULL},
        {"export", prof, "--format", "xml", NULL},
        {"export", prof, "-f", NULL},
        {"history", "--bogus", prof, NULL},
        {"history", prof, "--format", NULL},
        {"history", prof, "--format", "xml", NULL},
        {"history", NULL},
        {"history", "append", "--bogus", NULL},
        {"history", "append", NULL},
        {"record", "--bogus", "--", "true", NULL},
        {"record", "-F", NULL},
        {"record", "--mode", "gpu", "--", "true", NULL},
        {"record", NULL},
        {"record", "-Z", "true", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tu_result r = profreg(cases[i], NULL);
        ck_assert_msg(r.status == 2, "case %zu (%s %s): status %d", i,
                      cases[i][0] ? cases[i][0] : "", cases[i][0] && cases[i][1] ? cases[i][1] : "",
                      r.status);
        ck_assert_msg(strncmp(r.err, "profreg: ", 9) == 0 && one_line(r.err) &&
                          strstr(r.err, "--help"),
                      "case %zu (%s %s): not one 'profreg:' line pointing to --help:\n%s", i,
                      cases[i][0] ? cases[i][0] : "", cases[i][0] && cases[i][1] ? cases[i][1] : "",
                      tu_tail(r.err));
        ck_assert_msg(*r.out == '\0', "case %zu: stdout '%s'", i, tu_tail(r.out));
        tu_result_free(&r);
    }
}
END_TEST

START_TEST(test_help_version_and_unknown_commands)
{
    const char *v[] = {"--version", NULL};
    struct tu_result r = profreg(v, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strncmp(r.out, "profreg ", 8) == 0, "%s", tu_tail(r.out));
    tu_result_free(&r);
    const char *h[][3] = {{"help", "record", NULL},
                          {"record", "--help", NULL},
                          {"report", "-h", NULL},
                          {"help", NULL, NULL},
                          {"--help", NULL, NULL}};
    for (size_t i = 0; i < 5; i++) {
        r = profreg(h[i], NULL);
        ck_assert_msg(r.status == 0 && strstr(r.out, "usage: profreg"), "case %zu: %s", i,
                      tu_tail(r.out));
        tu_result_free(&r);
    }
    const char *none[] = {NULL};
    r = profreg(none, NULL);
    ck_assert_int_eq(r.status, 2);
    tu_result_free(&r);
    const char *unknown[] = {"frobnicate", NULL};
    r = profreg(unknown, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(one_line(r.err) && strstr(r.err, "frobnicate"), "%s", tu_tail(r.err));
    tu_result_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_record_passes_everything_through);
    tcase_add_test(tc, test_record_options_reach_the_preload);
    tcase_add_test(tc, test_record_bad_usage_exits_2);
    tcase_add_test(tc, test_record_missing_command);
    tcase_add_test(tc, test_report_prints_table_and_hotspot);
    tcase_add_test(tc, test_report_reads_older_tool_files);
    tcase_add_test(tc, test_report_bad_input_exits_2);
    tcase_add_test(tc, test_inlines_fold_and_expand);
    tcase_add_test(tc, test_history_bad_input);
    tcase_add_test(tc, test_history_chart);
    tcase_add_test(tc, test_history_follows_tests);
    tcase_add_test(tc, test_help_version_and_unknown_commands);
    tcase_add_test(tc, test_usage_errors_are_one_line);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
