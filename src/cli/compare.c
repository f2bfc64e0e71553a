/* SPDX-License-Identifier: MIT */
/* compare.c — `profreg compare`: judge the newest runs of an executable against its baseline
 * (docs/judging.md), print the table, write the comparison report, or set the baseline.
 * Every input is read and validated before anything is written. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/judge/filter.h"
#include "core/fsutil.h"
#include "analysis/render/render_compare.h"
#include "analysis/render/render_tests.h"
#include "analysis/read/timeutil.h"

struct compare_args {
    struct project_args project;
    struct judge_options judge;
    struct fn_filter filter;
    bool project_only;
    char filter_text[2048]; /* the filter options as given, for the report */
    bool set_baseline, strict, json_only, no_color;
    const char *report, *junit, *markdown;
    bool by_test, fail_on_test_time; /* --by-test, --fail-on-test-time */
    double test_threshold;           /* --test-threshold; NAN: --threshold */
    const char **base;               /* --base-runs files, in order */
    size_t nbase;
    unsigned long top;      /* --top: judge.top once parsed */
    const char *base_label; /* --base-label */
    bool memory;            /* --metric alloc|live: the runs' memory views are judged */
    int memory_view;        /* BASELINE_MEM_ALLOC or BASELINE_MEM_LIVE */
};

/* Appends "--opt value" to the filter text (cut when it does not fit). */
static void note_filter(struct compare_args *a, const char *opt, const char *value)
{
    size_t n = strlen(a->filter_text);
    snprintf(a->filter_text + n, sizeof a->filter_text - n, "%s--%s%s%s", n ? " " : "", opt,
             value ? " " : "", value ? value : "");
}

static int opt_base_runs(void *args, const char *value)
{
    struct compare_args *a = args;
    if (!*value) {
        cli_usage_error("--base-runs: empty path");
        return -1;
    }
    const char **grown = realloc(a->base, (a->nbase + 1) * sizeof *grown);
    if (!grown) {
        cli_error("out of memory");
        return -1;
    }
    a->base = grown;
    a->base[a->nbase++] = value;
    return 0;
}

static int opt_metric(void *args, const char *value)
{
    struct compare_args *a = args;
    if (strcmp(value, "total") == 0) {
        a->judge.metric = METRIC_TOTAL;
    } else if (strcmp(value, "self") == 0) {
        a->judge.metric = METRIC_SELF;
    } else if (strcmp(value, "both") == 0) {
        a->judge.metric = METRIC_BOTH;
    } else if (strcmp(value, "alloc") == 0 || strcmp(value, "live") == 0) {
        /* both shares, of the bytes allocated or live at the peak */
        a->judge.metric = METRIC_BOTH;
        a->memory = true;
        a->memory_view = value[0] == 'a' ? BASELINE_MEM_ALLOC : BASELINE_MEM_LIVE;
    } else {
        cli_usage_error("--metric: '%s' is not 'both', 'total', 'self', 'alloc' or 'live'", value);
        return -1;
    }
    return 0;
}

/* --include, --exclude, --prefix: added to the filter and to its text for the report. */
static int add_filter(struct compare_args *a, const char *opt, const char *value,
                      int (*add)(struct fn_filter *, const char *, char *, size_t))
{
    char err[1024];
    if (add(&a->filter, value, err, sizeof err) != 0) {
        cli_usage_error("%s", err);
        return -1;
    }
    note_filter(a, opt, value);
    return 0;
}

static int opt_include(void *args, const char *value)
{
    return add_filter(args, "include", value, filter_add_include);
}

static int opt_exclude(void *args, const char *value)
{
    return add_filter(args, "exclude", value, filter_add_exclude);
}

static int opt_prefix(void *args, const char *value)
{
    return add_filter(args, "prefix", value, filter_add_prefix);
}

static int opt_project_only(void *args, const char *value)
{
    struct compare_args *a = args;
    (void)value;
    a->project_only = true;
    note_filter(a, "project-only", NULL);
    return 0;
}

#define A struct compare_args
static const struct cli_opt compare_opts[] = {
    PROJECT_OPTS(A, project),
    CLI_OPT_HANDLER("base-runs", 0, "FILE...", opt_base_runs, CLI_LIST,
                    "paired runs: judge the --current runs against these runs of the base build "
                    "instead of a baseline; the i-th of each ran as a pair on the same machine "
                    "(profreg-ci --base). Functions are judged as against a baseline; wall time, "
                    "CPU time and peak memory on the pairs' ratios (a paired t-test on their "
                    "logs)"),
    CLI_OPT_STRING("base-label", 0, "TEXT", A, base_label, 0,
                   "what the base build is, for the reports ('merge-base abc1234')"),
    CLI_OPT_UINT("top", 0, "N", A, top, 1, 1000000,
                 "functions judged per share and side (default 10); functions in nearly every "
                 "sample on both sides (main, runners) take no slot"),
    CLI_OPT_DOUBLE("threshold", 0, "PCT", A, judge.threshold_percent, 0, 1e9,
                   "relative increase of a share that is a regression (default 50)"),
    CLI_OPT_DOUBLE("min-delta", 0, "PP", A, judge.min_delta, 0, 100,
                   "and its absolute increase, percentage points (default 0.5)"),
    CLI_OPT_DOUBLE("confidence", 0, "PCT", A, judge.confidence, 50, 99.9999,
                   "and its significance, percent (default 99)"),
    CLI_OPT_HANDLER("metric", 0, "both|total|self|alloc|live", opt_metric, 0,
                    "both (default: inclusive and self shares, top N of each), total (inclusive) "
                    "or self share alone; alloc or live: both shares of the bytes allocated, or "
                    "of those live at the peak of the heap (runs profiled with PROFREG_MEMORY=1, "
                    "and a baseline set from such runs)"),
    CLI_OPT_FLAG(
        "compat", 0, A, judge.compat,
        "the Instruments workflow's rules exactly (no noise control, no metrics; --inlines expand "
        "unless given)"),
    CLI_OPT_DOUBLE("time-threshold", 0, "PCT", A, judge.time_threshold, 0, 1e9,
                   "relative increase of median wall or CPU time (default 10)"),
    CLI_OPT_DOUBLE("memory-threshold", 0, "PCT", A, judge.memory_threshold, 0, 1e9,
                   "relative increase of median peak memory (default 10), and of the bytes "
                   "allocated and live at the peak when the runs and the baseline have memory "
                   "sections"),
    CLI_OPT_DOUBLE("max-time-ms", 0, "MS", A, judge.max_time_ms, 0, 1e12,
                   "fail when the median wall time exceeds MS, whatever the baseline"),
    CLI_OPT_DOUBLE("max-memory-mb", 0, "MB", A, judge.max_memory_mb, 0, 1e9,
                   "fail when the median peak memory exceeds MB"),
    CLI_OPT_FLAG("fail-on-new", 0, A, judge.fail_on_new,
                 "a significant new hotspot fails --strict too"),
    CLI_OPT_HANDLER("include", 0, "RE", opt_include, 0,
                    "judge only functions whose name matches RE (POSIX extended; repeatable: "
                    "any of them)"),
    CLI_OPT_HANDLER("exclude", 0, "RE", opt_exclude, 0,
                    "skip functions whose name matches RE (repeatable)"),
    CLI_OPT_HANDLER("prefix", 0, "NS::", opt_prefix, 0,
                    "judge only names in namespace NS (repeatable), also after a leading return "
                    "type ('void NS::f<T>()')"),
    CLI_OPT_HANDLER("project-only", 0, NULL, opt_project_only, 0,
                    "judge only functions whose source lies under the project root (the git top "
                    "level of ROOT, else ROOT)"),
    CLI_OPT_FLAG("set-baseline", 0, A, set_baseline,
                 "average the runs and write them as the baseline; no judging"),
    CLI_OPT_FLAG("strict", 0, A, strict, "exit 1 when anything regressed"),
    CLI_OPT_FLAG("output-json-only", 0, A, json_only, "no console output, only the report file"),
    CLI_OPT_FLAG("no-color", 0, A, no_color,
                 "no ANSI colours (also when NO_COLOR is set or stdout is no terminal)"),
    CLI_OPT_STRING("report", 0, "FILE", A, report, CLI_PATH,
                   "write the report JSON there (replacing FILE; the default names under "
                   "profile_results/ never replace a report)"),
    CLI_OPT_STRING("junit", 0, "FILE", A, junit, CLI_PATH,
                   "also write JUnit XML (a testcase per judged function and metric)"),
    CLI_OPT_STRING("markdown", 0, "FILE", A, markdown, CLI_PATH, "also write a Markdown summary"),
    CLI_OPT_FLAG("by-test", 0, A, by_test,
                 "also judge each test's CPU time (gtest, Google Benchmark and Catch2 tests "
                 "recognised from the stacks) and say in which tests each regressed function "
                 "grew; reported only, unless --fail-on-test-time"),
    CLI_OPT_FLAG("fail-on-test-time", 0, A, fail_on_test_time,
                 "with --by-test: a regressed test fails --strict too"),
    CLI_OPT_DOUBLE("test-threshold", 0, "PCT", A, test_threshold, 0, 1e9,
                   "with --by-test: relative growth of a test's time that counts (default: the "
                   "--threshold value)"),
    CLI_OPT_END,
};
#undef A

static int run_compare(int argc, char **argv);

const struct cli_command cli_compare = {
    .name = "compare",
    .summary = "judge the newest runs against the baseline",
    .usage = "[OPTIONS]\n--base-runs FILE... --current FILE... [OPTIONS]",
    .about =
        "Averages the newest M runs (ROOT/profile_results/NAME/profile_*.json, newest = last\n"
        "by name) and judges them against ROOT/baselines/NAME/baseline.json. A baseline top-N\n"
        "function regressed when its share grew by more than PCT percent, by at least PP\n"
        "percentage points, and significantly (Welch's t-test over the runs, or a binomial\n"
        "test on pooled counts with fewer than 3 runs a side). Wall time, CPU time and peak\n"
        "memory are judged on their medians. Prints a table and writes\n"
        "ROOT/profile_results/NAME/comparison_<YYYYmmdd_HHMMSS>.json. See docs/judging.md.\n",
    .opts = compare_opts,
    .footer =
        "Exit: 0 ok, 1 regression under --strict, 2 usage error or bad input (nothing written).\n",
    .run = run_compare,
};

static int parse_args(int argc, char **argv, struct compare_args *a)
{
    memset(a, 0, sizeof *a);
    a->test_threshold = NAN;
    project_args_init(&a->project);
    judge_options_default(&a->judge);
    a->top = a->judge.top;
    filter_init(&a->filter);
    struct cli_operands ops;
    int parsed = cli_parse(&cli_compare, argc, argv, a, &ops);
    if (parsed == 0 && ops.n > 0) {
        cli_usage_error("compare: unexpected argument '%s'", ops.v[0]);
        parsed = -1;
    }
    cli_operands_free(&ops);
    if (parsed != 0)
        return -1;
    a->judge.top = a->top;
    if (a->nbase && !a->project.ncurrent) {
        cli_usage_error("--base-runs: give the current runs with --current FILE... (the i-th "
                        "current run is judged with the i-th base run)");
        return -1;
    }
    if (a->nbase && a->set_baseline) {
        cli_usage_error("--base-runs: not with --set-baseline");
        return -1;
    }
    if (a->base_label && !a->nbase) {
        cli_usage_error("--base-label: only with --base-runs");
        return -1;
    }
    if (!a->by_test && (a->fail_on_test_time || !isnan(a->test_threshold))) {
        cli_usage_error("--%s: only with --by-test",
                  a->fail_on_test_time ? "fail-on-test-time" : "test-threshold");
        return -1;
    }
    if (a->memory && (a->judge.compat || a->by_test)) {
        cli_error("--metric alloc|live: not with %s (they judge CPU samples)",
                  a->judge.compat ? "--compat" : "--by-test");
        return -1;
    }
    if (a->judge.compat) {
        /* the old rules saw the names and frames as written: no folding unless asked */
        a->project.load.fold_clones = false;
        if (!a->project.load.inlines_given)
            a->project.load.inlines = INLINES_EXPAND;
    }
    if (a->project_only) {
        char *root = project_root_of(a->project.root);
        if (!root) {
            cli_error("--project-only: cannot resolve the project root '%s'", a->project.root);
            return -1;
        }
        int rc = filter_set_project_root(&a->filter, root);
        free(root);
        if (rc != 0)
            return -1;
    }
    if (!filter_is_empty(&a->filter))
        a->judge.filter = &a->filter;
    return 0;
}

struct report_ctx {
    const struct compare_view *view;
    const struct judgement *judgement;
};

static int write_report_cb(FILE *f, void *ctx)
{
    const struct report_ctx *r = ctx;
    return render_compare_json(f, r->view, r->judgement);
}

static int write_extra_cb(FILE *f, void *ctx);

/* The name of the default report: comparison_STAMP.json, then _2, _3 ... (try 1 to 999). */
static void report_name(const struct project *p, const char *stamp, int try, char *out,
                        size_t outlen)
{
    if (try == 1)
        snprintf(out, outlen, "%s/comparison_%s.json", p->results_dir, stamp);
    else
        snprintf(out, outlen, "%s/comparison_%s_%d.json", p->results_dir, stamp, try);
}

/* compare's files: the report, and the --junit and --markdown files. All are rendered (staged)
 * before any is given its name, so one that cannot be written leaves none of them; a failure
 * while naming them (the file system changed meanwhile) can leave the ones named before. */
struct outputs {
    struct fs_staged report, junit, markdown;
    bool have_junit, have_markdown;
    char stamp[32];
    int try;                /* the default report's name: report_name(try) */
    char made[2][PATH_MAX]; /* directories created for the default report, to remove again */
};

struct extra_ctx {
    int (*render)(FILE *, const struct compare_view *, const struct judgement *);
    const struct report_ctx *report;
};

static int stage_extra(struct fs_staged *s, const char *path,
                       int (*render)(FILE *, const struct compare_view *, const struct judgement *),
                       const struct report_ctx *report)
{
    struct extra_ctx e = {render, report};
    char err[1024];
    if (fs_stage(s, path, false, write_extra_cb, &e, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    return 0;
}

/* Creates dir (and its parent) when missing, noting what it created in o->made. */
static int make_results_dir(struct outputs *o, const struct project *p)
{
    char parent[PATH_MAX], err[1024];
    snprintf(parent, sizeof parent, "%s", p->results_dir);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = '\0';
    bool had_parent = !slash || fs_is_dir(parent), had_dir = fs_is_dir(p->results_dir);
    if (fs_mkdir_p(p->results_dir, 0777, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    if (!had_dir)
        snprintf(o->made[0], sizeof o->made[0], "%s", p->results_dir);
    if (!had_parent)
        snprintf(o->made[1], sizeof o->made[1], "%s", parent);
    return 0;
}

static void outputs_discard(struct outputs *o)
{
    fs_discard(&o->report);
    fs_discard(&o->junit);
    fs_discard(&o->markdown);
    for (int i = 0; i < 2; i++) /* empty again: nothing was named in them */
        if (o->made[i][0])
            rmdir(o->made[i]);
}

/* Renders every output. The report goes to fixed (replacing it: the user named it), or under
 * a fresh name (comparison_STAMP.json, then _2, _3 ...) that never replaces an existing file. */
static int outputs_stage(struct outputs *o, const struct project *p, const char *fixed,
                         const char *junit, const char *markdown, const struct report_ctx *ctx)
{
    memset(o, 0, sizeof *o);
    o->report.fd = o->junit.fd = o->markdown.fd = -1;
    char err[1024], path[PATH_MAX + 64];
    if (junit && stage_extra(&o->junit, junit, render_compare_junit, ctx) != 0)
        return -1;
    o->have_junit = junit != NULL;
    if (markdown && stage_extra(&o->markdown, markdown, render_compare_markdown, ctx) != 0)
        return -1;
    o->have_markdown = markdown != NULL;
    if (fixed) {
        if (fs_stage(&o->report, fixed, false, write_report_cb, (void *)ctx, err, sizeof err) !=
            0) {
            cli_error("%s", err);
            return -1;
        }
        return 0;
    }
    time_format_stamp(time(NULL), o->stamp, sizeof o->stamp);
    if (make_results_dir(o, p) != 0)
        return -1;
    for (o->try = 1; o->try < 1000; o->try++) {
        report_name(p, o->stamp, o->try, path, sizeof path);
        if (fs_stage(&o->report, path, true, write_report_cb, (void *)ctx, err, sizeof err) == 0)
            return 0;
        if (errno != EEXIST) {
            cli_error("%s", err);
            return -1;
        }
    }
    cli_error("%s: too many reports named comparison_%s*.json", p->results_dir, o->stamp);
    return -1;
}

/* Names every staged output; the report's path in out. */
static int outputs_commit(struct outputs *o, const struct project *p, const char *fixed, char *out,
                          size_t outlen)
{
    char err[1024];
    if ((o->have_junit && fs_commit(&o->junit, err, sizeof err) != 0) ||
        (o->have_markdown && fs_commit(&o->markdown, err, sizeof err) != 0)) {
        cli_error("%s", err);
        return -1;
    }
    if (fixed) {
        snprintf(out, outlen, "%s", fixed);
        if (fs_commit(&o->report, err, sizeof err) != 0) {
            cli_error("%s", err);
            return -1;
        }
        return 0;
    }
    for (; o->try < 1000; o->try++) { /* a report of the same second may have appeared */
        report_name(p, o->stamp, o->try, out, outlen);
        if (fs_commit_as(&o->report, out, err, sizeof err) == 0)
            return 0;
        if (errno != EEXIST) {
            cli_error("%s", err);
            return -1;
        }
    }
    cli_error("%s: too many reports named comparison_%s*.json", p->results_dir, o->stamp);
    return -1;
}

static int write_extra_cb(FILE *f, void *ctx)
{
    const struct extra_ctx *e = ctx;
    return e->render(f, e->report->view, e->report->judgement);
}

/* compare --by-test: each test's time judged with the judge's confidence and min-delta, and
 * the regressed functions of j explained by test; NULL without --by-test or out of memory. */
static const struct test_judgement *judge_tests(const struct compare_args *a,
                                                const struct runs *runs,
                                                const struct test_profile *base_tests,
                                                const struct judgement *j,
                                                struct test_judgement *out)
{
    struct test_judge_options o = {
        .threshold_percent =
            isnan(a->test_threshold) ? a->judge.threshold_percent : a->test_threshold,
        .confidence = a->judge.confidence,
        .min_delta = a->judge.min_delta,
        .metric = a->judge.metric,
        .fail = a->fail_on_test_time,
    };
    if (!a->by_test)
        return NULL;
    if (testattr_judge(&runs->tests, base_tests, j, &o, out) != 0) {
        cli_error("out of memory judging tests");
        return NULL;
    }
    return out;
}

/* compare --base-runs: the base runs, averaged as the baseline is; they must pair up with
 * the current runs. Prints errors. */
static int load_base_runs(const struct compare_args *a, const struct runs *current,
                          struct runs *base)
{
    if (runs_load_files(a->base, a->nbase, &a->project.load, base) != 0)
        return -1;
    if (base->n != current->n) {
        cli_error("--base-runs: %zu base runs and %zu current runs do not pair up (the i-th of "
                  "each ran as a pair)",
                  base->n, current->n);
        runs_free(base);
        return -1;
    }
    return 0;
}

static int judge_and_report(const struct compare_args *a, const struct project *p,
                            const struct runs *runs)
{
    struct baseline base;
    baseline_init(&base);
    struct runs base_runs;
    memset(&base_runs, 0, sizeof base_runs);
    char err[1024];
    if (!a->memory && runs->no_cpu) {
        cli_error("the current runs profiled allocations only (PROFREG_MEMORY=only): no CPU "
                  "samples to judge; use --metric alloc or --metric live");
        return EXIT_USAGE;
    }
    if (a->nbase) {
        if (load_base_runs(a, runs, &base_runs) != 0)
            return EXIT_USAGE;
        if (!a->memory && base_runs.no_cpu) {
            cli_error("--base-runs: the base runs profiled allocations only "
                      "(PROFREG_MEMORY=only): no CPU samples to judge; use --metric alloc or "
                      "--metric live");
            runs_free(&base_runs);
            return EXIT_USAGE;
        }
        /* the averaged base runs stand where the baseline's averaged profile would */
        base.avg = base_runs.avg;
        memset(&base_runs.avg, 0, sizeof base_runs.avg);
    } else if (baseline_read_file(p->baseline_path, &base, err, sizeof err) != 0) {
        if (access(p->baseline_path, F_OK) != 0 && errno == ENOENT)
            cli_error("%s: no baseline yet (create it with 'profreg compare --executable %s "
                      "--set-baseline')",
                      p->baseline_path, p->executable);
        else
            cli_error("%s", err);
        return EXIT_USAGE;
    }
    /* (base runs are cut by the same --region as the current ones) */
    if (!a->nbase && baseline_region_check(p->baseline_path, base.region, p->region) != 0) {
        baseline_free(&base);
        return EXIT_USAGE;
    }
    if (!a->nbase && !a->memory && avg_profile_adopt_stacks(&base.avg, &base.stacks) != 0) {
        baseline_free(&base);
        cli_error("out of memory reading the baseline's stacks");
        return EXIT_USAGE;
    }
    const struct avg_profile *current = &runs->avg, *baseline = &base.avg;
    if (a->memory) { /* --metric alloc|live: the memory views */
        const struct runs *base_side = a->nbase ? &base_runs : NULL;
        bool has_base = base_side ? base_side->has_memory : base.has_memory;
        if (!runs->has_memory || !has_base) {
            if (!runs->has_memory)
                cli_error("--metric %s: the current runs have no memory sections (profile them "
                          "with PROFREG_MEMORY=1, or profreg-ci --memory)",
                          a->memory_view == BASELINE_MEM_ALLOC ? "alloc" : "live");
            else
                cli_error("--metric %s: %s keeps no memory figures (set it from runs profiled "
                          "with PROFREG_MEMORY=1)",
                          a->memory_view == BASELINE_MEM_ALLOC ? "alloc" : "live",
                          base_side ? "the base runs have no memory sections: it"
                                    : p->baseline_path);
            baseline_free(&base);
            runs_free(&base_runs);
            return EXIT_USAGE;
        }
        current = &runs->mem[a->memory_view];
        baseline = base_side ? &base_side->mem[a->memory_view] : &base.mem[a->memory_view];
    }
    if (a->judge.metric == METRIC_SELF && (!current->has_self || !base.avg.has_self)) {
        cli_error("--metric self: %s has no self counts (written by parse-profile.py); use "
                  "--metric total%s",
                  !current->has_self ? "a current profile" : p->baseline_path,
                  !current->has_self ? "" : ", or refresh the baseline");
        baseline_free(&base);
        return EXIT_USAGE;
    }
    struct judgement j;
    if (judge_compare(current, baseline, &a->judge, &j) != 0) {
        baseline_free(&base);
        runs_free(&base_runs);
        cli_error("out of memory judging");
        return EXIT_USAGE;
    }
    if (a->nbase)
        judge_paired_metrics((const double(*)[RUN_METRICS_BASIC])runs->metrics,
                             (const double(*)[RUN_METRICS_BASIC])base_runs.metrics, runs->n,
                             &a->judge, &j);
    char now[32];
    time_format_iso((double)time(NULL), now, sizeof now);
    struct compare_view v = {
        .executable = p->executable,
        .generated_at = now,
        .current_runs = current->runs,
        .current_timestamp = runs->average_timestamp,
        .baseline_timestamp = a->nbase ? base_runs.average_timestamp : base.average_timestamp,
        .baseline_runs = base.avg.runs,
        .baseline_commit = a->nbase ? NULL : base.git_commit,
        .baseline_file = a->nbase ? NULL : p->baseline_path,
        .base_files = a->nbase ? (const char *const *)base_runs.paths : NULL,
        .nbase_files = a->nbase ? base_runs.n : 0,
        .base_label = a->base_label,
        .current_files = (const char *const *)runs->paths,
        .ncurrent_files = runs->n,
        .options = &a->judge,
        .filter_text = a->filter_text[0] ? a->filter_text : NULL,
        .share_of = !a->memory                             ? NULL
                    : a->memory_view == BASELINE_MEM_ALLOC ? "allocated bytes"
                                                           : "bytes live at the peak",
    };
    if (a->project_only && j.ncompared == 0) {
        char *root = project_root_of(p->root);
        fputs("profreg compare: --project-only: no sampled function has its source under the "
              "project root '",
              stderr);
        term_put(stderr, root ? root : p->root, SIZE_MAX);
        fputs("', so no function was judged (run from the source tree, or give it with --root "
              "DIR)\n",
              stderr);
        free(root);
    }
    struct test_judgement tj;
    v.tests = judge_tests(a, runs, a->nbase ? &base_runs.tests : &base.tests, &j, &tj);
    struct report_ctx ctx = {&v, &j};
    char report[PATH_MAX + 64];
    struct outputs outs;
    int rc = outputs_stage(&outs, p, a->report, a->junit, a->markdown, &ctx) == 0 &&
                     outputs_commit(&outs, p, a->report, report, sizeof report) == 0
                 ? EXIT_OK
                 : EXIT_USAGE;
    outputs_discard(&outs);
    if (rc == EXIT_OK && !a->json_only) {
        struct term_style s = term_style_for(STDOUT_FILENO, a->no_color);
        render_compare_table(stdout, &v, &j, &s, term_width(STDOUT_FILENO));
        if (v.tests)
            render_tests_table(stdout, v.tests, &s, term_width(STDOUT_FILENO));
        fputs("Report: ", stdout);
        term_put(stdout, report, SIZE_MAX);
        putchar('\n');
    }
    if (rc == EXIT_OK && a->strict && (judgement_failed(&j) || test_judgement_failed(v.tests)))
        rc = EXIT_REGRESSION;
    if (v.tests)
        test_judgement_free(&tj);
    judgement_free(&j);
    baseline_free(&base);
    runs_free(&base_runs);
    return rc;
}

static int run_compare(int argc, char **argv)
{
    struct compare_args a;
    if (parse_args(argc, argv, &a) != 0) {
        filter_free(&a.filter);
        free(a.base);
        return EXIT_USAGE;
    }
    struct runs runs;
    struct project p;
    int rc = EXIT_USAGE;
    if (project_load(&a.project, &p, &runs) == 0) {
        if (a.set_baseline)
            rc = project_write_baseline(&p, &runs) == 0 ? EXIT_OK : EXIT_USAGE;
        else
            rc = judge_and_report(&a, &p, &runs);
        if (rc != EXIT_USAGE)
            runs_note_if_fewer(&p, &runs);
    }
    runs_free(&runs);
    project_free(&p);
    filter_free(&a.filter);
    free(a.base);
    return rc;
}
