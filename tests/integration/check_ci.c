/* SPDX-License-Identifier: MIT */
/* check_ci.c — scripts/profreg-ci end to end on the demo workload: exit codes (clean,
 * injected regression, failing command, missing baseline, usage errors), the archive and
 * metadata.txt, latest/, JUnit XML checked by a real XML parser, the Markdown summary,
 * GITHUB_STEP_SUMMARY, paths with spaces, and the pipeline examples in docs/ci/. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs `scripts/profreg-ci ARGS...` in dir (through sh, so dir may contain spaces). */
static struct tu_result wrapper(const char *dir, const char *args, const char *const *env)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd \"%s\" && PROFREG=\"%s\" bash \"%s\" %s", dir,
             tu_build_path("profreg"), tu_src_path("scripts/profreg-ci"), args);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct tu_result r = tu_run(argv, env, NULL);
    ck_assert_msg(!r.timed_out, "profreg-ci %s hung", args);
    return r;
}

/* A project directory (with a space in its name) holding a copy of the demo (also with a
 * space) and a baseline made from 3 runs of it. */
static char *project(bool with_baseline)
{
    static char dir[4300];
    snprintf(dir, sizeof dir, "%s/my project", tu_tmp);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "mkdir -p \"%s\" && cp \"%s\" \"%s/demo sim\" && echo ok", dir,
             tu_build_path("examples/demo_sim"), dir);
    free(tu_shell(cmd));
    if (with_baseline) {
        struct tu_result r = wrapper(dir, "-n 3 --update-baseline -- \"./demo sim\"", NULL);
        ck_assert_msg(r.status == 0, "%s%s", tu_tail(r.out), tu_tail(r.err));
        tu_result_free(&r);
    }
    return dir;
}

static char *cat(const char *dir, const char *rel)
{
    char path[9000];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return tu_read_file(path);
}

/* Tests never depend on wall-clock stability (the machines are shared and noisy): the time and
 * memory gates are opened wide here, so that what is tested is the judge of function shares;
 * the time gates have their own deterministic tests (check_judge_default.c). */
#define LOOSE_TIME                                                                                 \
    "--compare-arg --time-threshold --compare-arg 1000 --compare-arg --memory-threshold "          \
    "--compare-arg 1000 "

START_TEST(test_clean_runs_pass_ten_times)
{
    const char *dir = project(true);
    for (int i = 0; i < 10; i++) {
        struct tu_result r = wrapper(dir, "-n 2 " LOOSE_TIME "-- \"./demo sim\"", NULL);
        ck_assert_msg(r.status == 0, "run %d: exit %d\n%s%s", i, r.status, tu_tail(r.out),
                      tu_tail(r.err));
        ck_assert(strstr(r.out, "profreg-ci: no regression"));
        tu_result_free(&r);
    }
}
END_TEST

START_TEST(test_injected_regression_fails_and_names_it)
{
    const char *dir = project(true);
    const char *env[] = {"DEMO_SLOWDOWN=narrowPhase", "GITHUB_STEP_SUMMARY=", NULL};
    char summary[4400];
    snprintf(summary, sizeof summary, "GITHUB_STEP_SUMMARY=%s/step summary.md", tu_tmp);
    env[1] = summary;
    struct tu_result r = wrapper(dir, "-n 2 --artifacts \"ci out\" -- \"./demo sim\"", env);
    ck_assert_msg(r.status == 1, "exit %d\n%s%s", r.status, tu_tail(r.out), tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "demo::collision::narrowPhase(") && strstr(r.out, "REGRESSION"),
                  "%s", tu_tail(r.out));

    /* the archive, reached through latest/ */
    const char *files[] = {"metadata.txt", "console.txt",    "comparison.json", "junit.xml",
                           "summary.md",   "flamegraph.svg", "diff.svg",        "movers.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "ci out/profiling/latest/%s", files[i]);
        char *t = cat(dir, rel);
        ck_assert_msg(t && *t, "%s missing or empty", rel);
        free(t);
        if (strstr(files[i], ".xml") || strstr(files[i], ".svg")) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, rel);
            tu_assert_xml(path);
        }
    }
    char *meta = cat(dir, "ci out/profiling/latest/metadata.txt");
    const char *keys[] = {"timestamp: ", "git_commit: ",        "git_branch: ",
                          "git_dirty: ", "hostname: ",          "kernel: Linux",
                          "compiler: ",  "profreg_version: ",   "command: ",
                          "runs: 2\n",   "frequency_hz: 1000\n"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(strstr(meta, keys[i]), "metadata.txt lacks '%s':\n%s", keys[i], meta);
    free(meta);
    char *console = cat(dir, "ci out/profiling/latest/console.txt");
    ck_assert(strstr(console, "== top 30 functions") && strstr(console, "REGRESSION"));
    free(console);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "ls \"%s/ci out/profiling/latest/profiles\" | grep -c '^profile_'",
             dir);
    char *n = tu_shell(cmd);
    ck_assert_str_eq(n, "2\n");
    free(n);

    /* JUnit: parsed by Python's XML parser; one testcase per judged function, one failure
     * among them; a testcase per whole-run metric (their verdicts depend on the clock) */
    snprintf(
        cmd, sizeof cmd,
        "python3 - \"%s/ci out/profiling/latest/junit.xml\" <<'EOF'\n"
        "import sys, xml.etree.ElementTree as ET\n"
        "root = ET.parse(sys.argv[1]).getroot()\n"
        "assert root.tag == 'testsuites', root.tag\n"
        "suite = root.find('testsuite')\n"
        "cases = suite.findall('testcase')\n"
        "assert int(suite.get('tests')) == len(cases) > 0\n"
        "failed = [c for c in cases if c.find('failure') is not None]\n"
        "assert int(suite.get('failures')) == len(failed)\n"
        "fns = [c for c in failed if c.get('classname') == 'profreg.demo sim']\n"
        "assert len(fns) == 1, [c.get('name') for c in fns]\n"
        "assert fns[0].get('name').startswith('demo::collision::narrowPhase(')\n"
        "msg = fns[0].find('failure').get('message')\n"
        "assert msg.startswith(('total share grew from', 'self share grew from')), msg\n"
        "assert 'most likely cause' in msg, msg\n"
        "run = {c.get('name'): c for c in cases if c.get('classname') == 'profreg.demo sim.run'}\n"
        "assert sorted(run) == ['cpu_time_ms', 'peak_rss_kb', 'wall_time_ms'], sorted(run)\n"
        "print('junit ok')\n"
        "EOF",
        dir);
    n = tu_shell(cmd);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n, "junit ok\n");
    free(n);

    /* the differential flame graph shows the doubled function in red; the movers name it */
    char cmd2[9000];
    snprintf(cmd2, sizeof cmd2,
             "python3 - \"%s/ci out/profiling/latest/diff.svg\" <<'EOF'\n"
             "import sys, xml.etree.ElementTree as ET\n"
             "NS = '{http://www.w3.org/2000/svg}'\n"
             "f = ET.parse(sys.argv[1]).getroot().find('.//' + NS + \"g[@id='frames']\")\n"
             "fill = {g.find(NS + 'title').text.split('\\n')[0]: g.find(NS + 'rect').get('fill')\n"
             "        for g in f.findall(NS + 'g')}\n"
             "n = [k for k in fill if k.startswith('demo::collision::narrowPhase(')][0]\n"
             "assert fill[n].startswith('rgb(255,'), fill\n"
             "print('red')\n"
             "EOF",
             dir);
    char *red = tu_shell(cmd2);
    ck_assert_ptr_nonnull(red);
    ck_assert_str_eq(red, "red\n");
    free(red);
    char *movers = cat(dir, "ci out/profiling/latest/movers.txt");
    ck_assert_msg(strstr(movers, "demo::collision::narrowPhase("), "%s", movers);
    free(movers);

    char *md = cat(dir, "ci out/profiling/latest/summary.md");
    ck_assert_msg(strstr(md, "[flame graph](flamegraph.svg)") &&
                      strstr(md, "[differential flame graph against the baseline](diff.svg)"),
                  "%s", md);
    ck_assert(strstr(md, "| Function | Total % now / base | Self % now / base | Diff | p-value | "
                         "Detectable | Status |"));
    /* the verdict where a reader looks first: the cause named at the top */
    ck_assert_msg(strstr(md, "**Most likely cause:** `demo::collision::narrowPhase(") &&
                      strstr(md, "**Most likely cause:**") < strstr(md, "| Function |"),
                  "%s", md);
    ck_assert_msg(strstr(r.out, "profreg-ci: most likely cause: demo::collision::narrowPhase("),
                  "%s", tu_tail(r.out));
    ck_assert(strstr(md, "| wall time | "));
    ck_assert(strstr(md, "**REGRESSION**"));
    char *step = tu_read_file(summary + strlen("GITHUB_STEP_SUMMARY="));
    ck_assert_ptr_nonnull(step);
    ck_assert_str_eq(step, md); /* appended to an empty step summary */
    free(step);
    free(md);
    tu_result_free(&r);

    /* --warn-only: reported, exit 0 */
    r = wrapper(dir, "-n 1 --warn-only -- \"./demo sim\"", env);
    ck_assert_msg(r.status == 0, "%s", tu_tail(r.out));
    ck_assert(strstr(r.out, "regression (reported only: --warn-only)"));
    tu_result_free(&r);
}
END_TEST

START_TEST(test_failing_command_and_missing_baseline)
{
    const char *dir = project(false);
    /* no baseline: say how to make one, exit 0; 2 with --require-baseline */
    struct tu_result r = wrapper(dir, "-n 1 -- \"./demo sim\"", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert(strstr(r.out, "no baseline for demo sim yet") && strstr(r.out, "--update-baseline"));
    tu_result_free(&r);
    r = wrapper(dir, "-n 1 --require-baseline -- \"./demo sim\"", NULL);
    ck_assert_int_eq(r.status, 2);
    tu_result_free(&r);

    /* the command fails: reported as such (exit 2), never as a regression */
    r = wrapper(dir, "-n 2 -- /bin/sh -c 'exit 3'", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "the command failed (exit status 3) in run 1; this is not a "
                                "regression"),
                  "%s", tu_tail(r.err));
    ck_assert(!strstr(r.out, "REGRESSION"));
    tu_result_free(&r);

    /* latest/ follows the newest archive */
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "cd \"%s/artifacts/profiling\" && test \"$(readlink latest)\" = \"$(ls -d 2* | tail "
             "-n 1)\" && echo same",
             dir);
    char *same = tu_shell(cmd);
    ck_assert_str_eq(same, "same\n");
    free(same);
}
END_TEST

/* What a real test suite needs: a symbolic link run by the name typed; a command that fails
 * (known-failing tests) stops the invocation saying how to go on, and with --allow-failure is
 * profiled and judged, each run's exit status in metadata.txt, the summary and the JUnit XML;
 * the program's output goes to run<N>.log, the console gets its last lines; the hint to make a
 * baseline is a command that can be pasted. */
START_TEST(test_real_suite_habits)
{
    const char *dir = project(true);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cd \"%s\" && ln -s \"demo sim\" \"link sim\" && echo ok", dir);
    free(tu_shell(cmd));
    struct tu_result r = wrapper(dir, "-n 1 -- \"./link sim\"", NULL);
    ck_assert_msg(r.status == 0, "%s%s", tu_tail(r.out), tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "no baseline for link sim yet"), "%s", tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "/scripts/profreg-ci --update-baseline -n 1 -- ./link\\ sim\n"),
                  "%s", tu_tail(r.out));
    tu_result_free(&r);

    const char *failing = "--executable \"demo sim\" -- /bin/sh -c '\"./demo sim\" && exit 3'";
    snprintf(cmd, sizeof cmd, "-n 2 %s", failing);
    r = wrapper(dir, cmd, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "add --allow-failure"), "%s", tu_tail(r.err));
    tu_result_free(&r);
    snprintf(cmd, sizeof cmd, "-n 2 --allow-failure %s", failing);
    r = wrapper(dir, cmd, NULL);
    ck_assert_msg(r.status == 0, "%s%s", tu_tail(r.out), tu_tail(r.err));
    ck_assert_msg(strstr(r.out, "run 2: the command exited with status 3"), "%s", tu_tail(r.out));
    ck_assert_msg(strstr(r.out, "  | demo_sim: "), "no tail of the output: %s", tu_tail(r.out));
    tu_result_free(&r);
    char latest[4400];
    snprintf(latest, sizeof latest, "%s/artifacts/profiling/latest", dir);
    snprintf(cmd, sizeof cmd,
             "cd \"%s\" && grep -c '^run_exit_statuses: 3 3$' metadata.txt && "
             "grep -c '2 of 2 run(s) exited non-zero' summary.md && "
             "grep -c 'name=\"run [12]\"><failure' junit.xml && grep -c '^demo_sim: ' run1.log && "
             "{ grep -c '^demo_sim: ' console.txt || true; }",
             latest);
    char *counts = tu_shell(cmd);
    ck_assert_str_eq(counts, "1\n1\n2\n1\n0\n");
    free(counts);
    /* the suite's counts include the two failed runs: a real XML parser agrees */
    snprintf(cmd, sizeof cmd,
             "python3 -c \"import xml.etree.ElementTree as E; s = E.parse('%s/junit.xml')"
             ".getroot()[0]; print(len(s.findall('testcase')) == int(s.get('tests')), "
             "sum(1 for c in s.findall('testcase') if c.find('failure') is not None) == "
             "int(s.get('failures')))\"",
             latest);
    char *xml = tu_shell(cmd);
    ck_assert_str_eq(xml, "True True\n");
    free(xml);
}
END_TEST

/* --history across a scripted sequence of commits in a temporary git repository: one record
 * per invocation, each with the commit it ran at; profreg history reads them back. */
START_TEST(test_history_across_commits)
{
    const char *dir = project(false);
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "cd \"%s\" && git init -q . && git -c user.name=t -c user.email=t@t commit -q "
             "--allow-empty -m one && echo ok",
             dir);
    free(tu_shell(cmd));
    char commits[3][64];
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            snprintf(cmd, sizeof cmd,
                     "cd \"%s\" && git -c user.name=t -c user.email=t@t commit -q --allow-empty "
                     "-m next && echo ok",
                     dir);
            free(tu_shell(cmd));
        }
        snprintf(cmd, sizeof cmd, "cd \"%s\" && git rev-parse HEAD", dir);
        char *sha = tu_shell(cmd);
        snprintf(commits[i], sizeof commits[i], "%.40s", sha);
        free(sha);
        struct tu_result r = wrapper(dir, "-n 1 --history hist.jsonl -- \"./demo sim\"", NULL);
        ck_assert_msg(r.status == 0, "%s%s", tu_tail(r.out), tu_tail(r.err));
        tu_result_free(&r);
    }
    snprintf(cmd, sizeof cmd, "cd \"%s\" && \"%s\" history hist.jsonl --format json", dir,
             tu_build_path("profreg"));
    char *out = tu_shell(cmd);
    ck_assert_ptr_nonnull(out);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    ck_assert_msg(j, "not JSON: %s", out);
    json_t *recs = json_object_get(j, "records");
    ck_assert_uint_eq(json_array_size(recs), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *rec = json_array_get(recs, i);
        ck_assert_str_eq(json_string_value(json_object_get(rec, "commit")), commits[i]);
        ck_assert(json_number_value(json_object_get(rec, "cpu_time_ms")) > 0);
    }
    ck_assert(json_is_array(json_object_get(j, "change_points")));
    json_decref(j);
    free(out);
}
END_TEST

START_TEST(test_usage_errors)
{
    const char *dir = project(false);
    const char *cases[] = {"",
                           "-n 0 -- ./x",
                           "-n abc -- ./x",
                           "--frob -- ./x",
                           "-F 0 -- ./x",
                           "--top x -- ./x",
                           "-- \"./no such program\""};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tu_result r = wrapper(dir, cases[i], NULL);
        ck_assert_msg(r.status == 2, "'%s': exit %d", cases[i], r.status);
        ck_assert_msg(strncmp(r.err, "profreg-ci: ", 12) == 0, "'%s': %s", cases[i],
                      tu_tail(r.err));
        tu_result_free(&r);
    }
    struct tu_result r = wrapper(dir, "--help", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert(strncmp(r.out, "usage: scripts/profreg-ci", 25) == 0);
    tu_result_free(&r);
}
END_TEST

/* docs/ci/: the GitHub Actions workflow parses as YAML with the steps a pipeline needs; the
 * Jenkinsfile is a declarative pipeline with balanced braces. */
START_TEST(test_pipeline_examples)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "python3 - \"%s\" <<'EOF'\n"
             "import sys, yaml\n"
             "w = yaml.safe_load(open(sys.argv[1] + '/docs/ci/github-actions.yml'))\n"
             "jobs = w['jobs']\n"
             "steps = [s for j in jobs.values() for s in j['steps']]\n"
             "text = ' '.join(str(s.get('run', '')) + str(s.get('uses', '')) for s in steps)\n"
             "for need in ('apt-get install', 'make', 'scripts/profreg-ci', 'upload-artifact',\n"
             "             'junit', '--history', 'cache/restore', 'cache/save'):\n"
             "    assert need in text, need\n"
             "j = open(sys.argv[1] + '/docs/ci/Jenkinsfile').read()\n"
             "code = [l for l in j.splitlines() if l.strip() and not l.strip().startswith('//')]\n"
             "assert code[0].startswith('pipeline {'), 'not declarative'\n"
             "for need in ('agent', 'stages', 'stage(', 'steps', 'scripts/profreg-ci',\n"
             "             'archiveArtifacts', 'junit', '--history', 'copyArtifacts'):\n"
             "    assert need in j, need\n"
             "depth = 0\n"
             "for c in j:\n"
             "    depth += (c == '{') - (c == '}')\n"
             "    assert depth >= 0\n"
             "assert depth == 0\n"
             "w = yaml.safe_load(open(sys.argv[1] + '/docs/ci/github-actions-paired.yml'))\n"
             "steps = [s for j in w['jobs'].values() for s in j['steps']]\n"
             "text = ' '.join(str(s.get('run', '')) + str(s.get('uses', '')) for s in steps)\n"
             "for need in ('git merge-base', 'worktree add', '--base ', '--base-label',\n"
             "             'scripts/profreg-ci', 'upload-artifact', 'junit'):\n"
             "    assert need in text, need\n"
             "j = open(sys.argv[1] + '/docs/ci/Jenkinsfile-paired').read()\n"
             "for need in ('pipeline {', 'git merge-base', 'worktree add', '--base ',\n"
             "             '--base-label', 'archiveArtifacts', 'junit'):\n"
             "    assert need in j, need\n"
             "assert j.count('{') == j.count('}')\n"
             "print('pipelines ok')\n"
             "EOF",
             tu_src());
    char *out = tu_shell(cmd);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "pipelines ok\n");
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ci");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_real_suite_habits);
    tcase_add_test(tc, test_history_across_commits);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_pipeline_examples);
    tcase_add_test(tc, test_failing_command_and_missing_baseline);
    tcase_add_test(tc, test_injected_regression_fails_and_names_it);
    tcase_add_test(tc, test_clean_runs_pass_ten_times);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
