/* compare.c — `profreg compare`: judge the newest runs of an executable against its baseline
 * (SPEC section 4), print the table, write the comparison report, or set the baseline.
 * Every input is read and validated before anything is written. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profreg/fsutil.h"
#include "profreg/render_compare.h"
#include "profreg/timeutil.h"

void usage_compare(FILE *out)
{
    fprintf(
        out,
        "usage: profreg compare [--executable NAME] [--current FILE] [--baseline FILE]\n"
        "                       [--threshold PCT] [--top N] [--runs M] [--set-baseline]\n"
        "                       [--strict] [--output-json-only] [--no-color] [--compat]\n"
        "                       [--root DIR] [--report FILE] [--junit FILE] [--markdown FILE]\n"
        "\n"
        "Averages the newest M runs (ROOT/profile_results/NAME/profile_*.json, newest = last\n"
        "by name) and judges them against ROOT/baselines/NAME/baseline.json: a function in\n"
        "both top-N lists regressed when its share grew by more than PCT percent. Prints a\n"
        "table and writes ROOT/profile_results/NAME/comparison_<YYYYmmdd_HHMMSS>.json.\n"
        "\n"
        "  --executable NAME   which executable (optional when profile_results/ holds one)\n"
        "  --current FILE      judge this profile instead of the newest runs (repeatable:\n"
        "                      the files given, averaged)\n"
        "  --baseline FILE     baseline to read or write (default baselines/NAME/baseline.json)\n"
        "  --threshold PCT     relative increase that is a regression (default 50)\n"
        "  --top N             functions tracked on each side, by share (default 10)\n"
        "  --runs M            newest runs averaged (default 5)\n"
        "  --set-baseline      average the runs and write them as the baseline; no judging\n"
        "  --strict            exit 1 when anything regressed\n"
        "  --output-json-only  no console output, only the report file\n"
        "  --no-color          no ANSI colours (also when NO_COLOR is set or stdout is no tty)\n"
        "  --compat            the old tool's rules exactly (today also the default)\n"
        "  --root DIR          project root holding profile_results/ and baselines/ (default .)\n"
        "  --report FILE       write the report JSON there (never over an existing file)\n"
        "  --junit FILE        also write JUnit XML (a testcase per compared function)\n"
        "  --markdown FILE     also write a Markdown summary\n"
        "\n"
        "Exit: 0 ok, 1 regression under --strict, 2 usage error or bad input (nothing written).\n");
}

struct compare_args {
    struct project_args project;
    struct judge_options judge;
    bool set_baseline, strict, json_only, no_color;
    const char *report, *junit, *markdown;
};

static int parse_args(int argc, char **argv, struct compare_args *a)
{
    static const struct option opts[] = {
        PROJECT_OPTIONS,
        {"threshold", required_argument, NULL, 't'},
        {"top", required_argument, NULL, 'n'},
        {"set-baseline", no_argument, NULL, 'S'},
        {"strict", no_argument, NULL, 's'},
        {"output-json-only", no_argument, NULL, 'j'},
        {"no-color", no_argument, NULL, 'C'},
        {"compat", no_argument, NULL, 'o'},
        {"report", required_argument, NULL, 'P'},
        {"junit", required_argument, NULL, 'J'},
        {"markdown", required_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    project_args_init(&a->project);
    judge_options_default(&a->judge);
    unsigned long v;
    int c, taken;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((taken = project_args_option(&a->project, c, optarg)) != 0) {
            if (taken < 0)
                return -1;
            continue;
        }
        switch (c) {
        case 't':
            if (cli_parse_double("--threshold", optarg, 0, 1e9, &a->judge.threshold_percent))
                return -1;
            break;
        case 'n':
            if (cli_parse_uint("--top", optarg, 1, 1000000, &v))
                return -1;
            a->judge.top = v;
            break;
        case 'S':
            a->set_baseline = true;
            break;
        case 's':
            a->strict = true;
            break;
        case 'j':
            a->json_only = true;
            break;
        case 'C':
            a->no_color = true;
            break;
        case 'o':
            a->judge.compat = true;
            break;
        case 'P':
        case 'J':
        case 'M':
            if (!*optarg) {
                cli_error("--%s: empty path", c == 'P'   ? "report"
                                              : c == 'J' ? "junit"
                                                         : "markdown");
                return -1;
            }
            *(c == 'P' ? &a->report : c == 'J' ? &a->junit : &a->markdown) = optarg;
            break;
        default:
            fprintf(stderr, "(see 'profreg compare --help')\n");
            return -1;
        }
    }
    if (optind < argc) {
        cli_error("compare: unexpected argument '%s' (see 'profreg compare --help')", argv[optind]);
        return -1;
    }
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

/* Writes the report under a fresh name (comparison_STAMP.json, then _2, _3 ...); never
 * replaces an existing file. The chosen path in out. */
static int write_report(const struct project *p, const char *fixed, const struct report_ctx *ctx,
                        char *out, size_t outlen)
{
    char err[1024], stamp[32];
    if (fixed) {
        snprintf(out, outlen, "%s", fixed);
        if (fs_write_atomic(out, true, write_report_cb, (void *)ctx, err, sizeof err) != 0) {
            cli_error("%s", err);
            return -1;
        }
        return 0;
    }
    time_format_stamp(time(NULL), stamp, sizeof stamp);
    if (fs_mkdir_p(p->results_dir, 0777, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    for (int i = 1; i < 1000; i++) {
        if (i == 1)
            snprintf(out, outlen, "%s/comparison_%s.json", p->results_dir, stamp);
        else
            snprintf(out, outlen, "%s/comparison_%s_%d.json", p->results_dir, stamp, i);
        if (fs_write_atomic(out, true, write_report_cb, (void *)ctx, err, sizeof err) == 0)
            return 0;
        if (errno != EEXIST) {
            cli_error("%s", err);
            return -1;
        }
    }
    cli_error("%s: too many reports named comparison_%s*.json", p->results_dir, stamp);
    return -1;
}

struct extra_ctx {
    int (*render)(FILE *, const struct compare_view *, const struct judgement *);
    const struct report_ctx *report;
};

static int write_extra_cb(FILE *f, void *ctx)
{
    const struct extra_ctx *e = ctx;
    return e->render(f, e->report->view, e->report->judgement);
}

/* A JUnit or Markdown file the user named: written atomically, replacing an old one. */
static int write_extra(const char *path,
                       int (*render)(FILE *, const struct compare_view *, const struct judgement *),
                       const struct report_ctx *report)
{
    struct extra_ctx e = {render, report};
    char err[1024];
    if (fs_write_atomic(path, false, write_extra_cb, &e, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    return 0;
}

static int judge_and_report(const struct compare_args *a, const struct project *p,
                            const struct runs *runs)
{
    struct baseline base;
    baseline_init(&base);
    char err[1024];
    if (baseline_read_file(p->baseline_path, &base, err, sizeof err) != 0) {
        if (access(p->baseline_path, F_OK) != 0 && errno == ENOENT)
            cli_error("%s: no baseline yet (create it with 'profreg compare --executable %s "
                      "--set-baseline')",
                      p->baseline_path, p->executable);
        else
            cli_error("%s", err);
        return EXIT_USAGE;
    }
    const struct avg_profile *current = &runs->avg;
    struct judgement j;
    if (judge_compare(current, &base.avg, &a->judge, &j) != 0) {
        baseline_free(&base);
        cli_error("out of memory judging");
        return EXIT_USAGE;
    }
    char now[32];
    time_format_iso((double)time(NULL), now, sizeof now);
    struct compare_view v = {
        .executable = p->executable,
        .generated_at = now,
        .current_runs = current->runs,
        .current_timestamp = runs->average_timestamp,
        .baseline_timestamp = base.average_timestamp,
        .baseline_runs = base.avg.runs,
        .baseline_commit = base.git_commit,
        .baseline_file = p->baseline_path,
        .current_files = (const char *const *)runs->paths,
        .ncurrent_files = runs->n,
        .options = &a->judge,
    };
    struct report_ctx ctx = {&v, &j};
    char report[PATH_MAX + 64];
    int rc = write_report(p, a->report, &ctx, report, sizeof report) == 0 ? EXIT_OK : EXIT_USAGE;
    if (rc == EXIT_OK && a->junit && write_extra(a->junit, render_compare_junit, &ctx) != 0)
        rc = EXIT_USAGE;
    if (rc == EXIT_OK && a->markdown &&
        write_extra(a->markdown, render_compare_markdown, &ctx) != 0)
        rc = EXIT_USAGE;
    if (rc == EXIT_OK && !a->json_only) {
        struct term_style s = term_style_for(STDOUT_FILENO, a->no_color);
        render_compare_table(stdout, &v, &j, &s, term_width(STDOUT_FILENO));
        printf("Report: %s\n", report);
    }
    if (rc == EXIT_OK && a->strict && j.regressed > 0)
        rc = EXIT_REGRESSION;
    judgement_free(&j);
    baseline_free(&base);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    struct compare_args a;
    if (parse_args(argc, argv, &a) != 0)
        return EXIT_USAGE;
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
    return rc;
}
