/* SPDX-License-Identifier: MIT */
/* baseline.c — `profreg baseline set|show|reset`: manage an executable's committed baseline.
 *   set    average the newest runs and write baselines/<exe>/baseline.json
 *   show   print its metadata and functions
 *   reset  delete it, after saying what is deleted */
#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/render/term.h"

struct baseline_args {
    struct project_args project;
    unsigned long top;
};

static const struct cli_opt baseline_opts[] = {
    PROJECT_OPTS(struct baseline_args, project),
    CLI_OPT_UINT("top", 0, "N", struct baseline_args, top, 0, 100000000,
                 "show: functions listed (default 25; 0 lists all)"),
    CLI_OPT_END,
};

static int run_baseline(int argc, char **argv);

const struct cli_command cli_baseline = {
    .name = "baseline",
    .summary = "set, show or reset an executable's baseline",
    .usage = "set [OPTIONS]\nshow [OPTIONS]\nreset [OPTIONS]",
    .about = "set    averages the newest M runs (default 5) of ROOT/profile_results/NAME/ and\n"
             "       writes ROOT/baselines/NAME/baseline.json (same as compare --set-baseline)\n"
             "show   prints the baseline's metadata (runs averaged, when, git commit, profreg\n"
             "       version) and its top N functions (default 25; 0 prints all)\n"
             "reset  deletes the baseline after printing what it held\n"
             "\n"
             "NAME may be omitted when there is one executable (set: under profile_results/;\n"
             "show and reset: under baselines/). --runs and --current apply to set only.\n",
    .opts = baseline_opts,
    .footer = "Exit: 0 ok, 2 usage error or bad input.\n",
    .run = run_baseline,
};

static int parse_args(int argc, char **argv, struct baseline_args *a, bool is_set)
{
    project_args_init(&a->project);
    a->top = 25;
    struct cli_operands ops;
    int rc = cli_parse(&cli_baseline, argc, argv, a, &ops);
    if (rc == 0 && !is_set && (a->project.runs_given || a->project.ncurrent)) {
        cli_usage_error("baseline %s: --%s applies to 'baseline set' only", argv[0],
                        a->project.runs_given ? "runs" : "current");
        rc = -1;
    } else if (rc == 0 && ops.n > 0) {
        cli_usage_error("baseline %s: unexpected argument '%s'", argv[0], ops.v[0]);
        rc = -1;
    }
    cli_operands_free(&ops);
    return rc;
}

static int baseline_set(const struct baseline_args *a)
{
    struct runs runs;
    struct project p;
    int rc = EXIT_USAGE;
    if (project_load(&a->project, &p, &runs) == 0 && project_write_baseline(&p, &runs) == 0) {
        rc = EXIT_OK;
        runs_note_if_fewer(&p, &runs);
    }
    runs_free(&runs);
    project_free(&p);
    return rc;
}

/* "label" and the value escaped (term_put), or "(not recorded)", and a newline. */
static void field(FILE *out, const char *label, const char *value)
{
    fputs(label, out);
    term_put(out, value ? value : "(not recorded)", SIZE_MAX);
    fputc('\n', out);
}

static void print_metadata(FILE *out, const char *path, const struct baseline *b)
{
    field(out, "baseline:    ", path);
    field(out, "executable:  ", b->executable);
    fprintf(out, "runs:        %u averaged", b->avg.runs);
    if (b->average_timestamp) {
        fputs(", mean time ", out);
        term_put(out, b->average_timestamp, 64);
    }
    fprintf(out, "\n");
    if (b->created_at)
        field(out, "written:     ", b->created_at);
    fputs("git commit:  ", out);
    term_put(out, b->git_commit ? b->git_commit : "(not recorded)", SIZE_MAX);
    fprintf(out, "%s\n", b->git_dirty == 1 ? " (working tree had uncommitted changes)" : "");
    field(out, "profreg:     ", b->profreg_version);
    if (b->region)
        field(out, "region:      ", b->region);
    fprintf(out, "samples:     %.1f per run on average", b->avg.avg_total_samples);
    if (b->avg.has_spread)
        fprintf(out, " (sd %.1f)", b->avg.sd_total_samples);
    fputc('\n', out);
    if (b->avg.wall_ms.n || b->avg.cpu_ms.n || b->avg.peak_rss_kb.n)
        fprintf(out, "whole run:   median wall %.0f ms, CPU %.0f ms, peak memory %.1f MB\n",
                b->avg.wall_ms.median, b->avg.cpu_ms.median, b->avg.peak_rss_kb.median / 1024);
    if (b->avg.alloc_kb.n) {
        char alloc[32], live[32];
        mem_format_bytes(b->avg.alloc_kb.median * 1024, alloc, sizeof alloc);
        mem_format_bytes(b->avg.peak_live_kb.median * 1024, live, sizeof live);
        fprintf(out, "memory:      median %s allocated, %s live at the peak (estimated)", alloc,
                live);
        if (b->has_memory)
            fprintf(out, "; %zu and %zu functions kept", b->mem[BASELINE_MEM_ALLOC].nfunctions,
                    b->mem[BASELINE_MEM_LIVE].nfunctions);
        fputc('\n', out);
    }
    if (!b->avg.has_spread)
        fprintf(out, "spread:      none (old format): the judge can assess sampling noise only\n");
    fprintf(out, "functions:   %zu listed", b->avg.nfunctions);
    if (b->functions_seen > b->avg.nfunctions)
        fprintf(out, " of %zu seen", b->functions_seen);
    fprintf(out, "\n");
}

static void print_functions(FILE *out, const struct baseline *b, size_t top, int width)
{
    size_t n = top && top < b->avg.nfunctions ? top : b->avg.nfunctions;
    int namew = width - 48 > 24 ? width - 48 : 24;
    fprintf(out, "\n%5s  %-*s  %8s  %10s  %4s  %s\n", "rank", namew, "function", "avg %",
            "avg samp.", "runs", "source");
    for (size_t i = 0; i < n; i++) {
        const struct avg_function *f = &b->avg.functions[i];
        size_t len = TERM_SHORTEN_LEN(f->name);
        char *name = malloc(len);
        if (!name)
            return;
        term_shorten_name(f->name, (size_t)namew, name, len);
        fprintf(out, "%5zu  %s", i + 1, name);
        for (size_t w = term_text_width(name); w < (size_t)namew; w++)
            fputc(' ', out);
        fprintf(out, "  %8.3f  %10.1f  %4u  ", f->avg_percentage, f->avg_samples, f->occurrences);
        if (f->source_file)
            term_put(out, f->source_file, 40);
        if (f->source_file && f->line >= 0)
            fprintf(out, ":%ld", f->line);
        fputc('\n', out);
        free(name);
    }
    if (n < b->avg.nfunctions)
        fprintf(out, "(%zu more; --top 0 shows all)\n", b->avg.nfunctions - n);
}

static int baseline_show_or_reset(const struct baseline_args *a, bool reset)
{
    struct project p;
    const struct project_args *pa = &a->project;
    if (project_resolve(&p, pa->root, pa->executable, NULL, pa->baseline, "baselines") != 0) {
        project_free(&p);
        return EXIT_USAGE;
    }
    struct baseline b;
    baseline_init(&b);
    char err[1024];
    int rc = EXIT_OK;
    if (access(p.baseline_path, F_OK) != 0) {
        cli_error("%s: no baseline (%s)", p.baseline_path, strerror(errno));
        rc = EXIT_USAGE;
    } else if (baseline_read_file(p.baseline_path, &b, err, sizeof err) != 0) {
        if (!reset) {
            cli_error("%s", err);
            rc = EXIT_USAGE;
        } else {
            /* reset is how a broken baseline gets removed: say why it is unreadable */
            fputs("deleting ", stdout);
            term_put(stdout, p.baseline_path, SIZE_MAX);
            fputs(", which is not a valid baseline (", stdout);
            term_put(stdout, err, SIZE_MAX);
            fputs(")\n", stdout);
        }
    } else if (reset) {
        fputs("deleting ", stdout);
        term_put(stdout, p.baseline_path, SIZE_MAX);
        fputs(":\n", stdout);
        print_metadata(stdout, p.baseline_path, &b);
    } else {
        print_metadata(stdout, p.baseline_path, &b);
        print_functions(stdout, &b, a->top, term_width(STDOUT_FILENO));
    }
    if (rc == EXIT_OK && reset) {
        fflush(stdout);
        if (unlink(p.baseline_path) != 0) {
            cli_error("%s: cannot delete: %s", p.baseline_path, strerror(errno));
            rc = EXIT_USAGE;
        } else {
            fputs("deleted ", stdout);
            term_put(stdout, p.baseline_path, SIZE_MAX);
            fputc('\n', stdout);
            if (!pa->baseline) { /* remove baselines/<exe>/ when it is now empty */
                char *slash = strrchr(p.baseline_path, '/');
                if (slash) {
                    *slash = '\0';
                    if (rmdir(p.baseline_path) != 0 && errno != ENOTEMPTY && errno != EEXIST)
                        cli_error("%s: cannot remove directory: %s", p.baseline_path,
                                  strerror(errno));
                }
            }
        }
    }
    baseline_free(&b);
    project_free(&p);
    return rc;
}

static int run_baseline(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage_error("baseline: which action? set, show or reset");
        return EXIT_USAGE;
    }
    const char *action = argv[1];
    bool is_set = strcmp(action, "set") == 0;
    if (!is_set && strcmp(action, "show") != 0 && strcmp(action, "reset") != 0) {
        cli_usage_error("baseline: unknown action '%s' (set, show or reset)", action);
        return EXIT_USAGE;
    }
    struct baseline_args a;
    if (parse_args(argc - 1, argv + 1, &a, is_set) != 0)
        return EXIT_USAGE;
    if (is_set)
        return baseline_set(&a);
    return baseline_show_or_reset(&a, strcmp(action, "reset") == 0);
}
