/* SPDX-License-Identifier: MIT */
/* report.c — `profreg report`: the ranked function table of one or more profiles.
 * Several files (the runs of one invocation) are merged before ranking. */
#include "cli.h"

#include "analysis/read/profile_read.h"
#include "analysis/read/region.h"
#include "analysis/render/render_table.h"
#include "analysis/render/render_tests.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct report_args {
    unsigned long top;
    bool self, by_test, by_region, live, exit_live, no_color;
    struct load_opts load;
};

static const struct cli_opt report_opts[] = {
    CLI_OPT_UINT("top", 0, "N", struct report_args, top, 0, 100000000,
                 "rows to print (default 25; 0 prints all)"),
    CLI_OPT_FLAG("self", 0, struct report_args, self,
                 "rank by self samples instead of inclusive samples"),
    CLI_OPT_FLAG("by-test", 0, struct report_args, by_test,
                 "instead: each test's share and CPU time (gtest, Google Benchmark, Catch2 tests "
                 "recognised from the stacks; docs/formats.md)"),
    CLI_OPT_FLAG("by-region", 0, struct report_args, by_region,
                 "instead: each region's share (profreg_region_begin, include/profreg.h), with "
                 "and without its nested regions, and the samples in no region"),
    CLI_OPT_INLINES(struct report_args, load),
    CLI_OPT_REGION(struct report_args, load),
    CLI_OPT_FLAG("memory", 0, struct report_args, load.memory,
                 "instead: the sampled allocations (PROFREG_MEMORY=1): per function the bytes "
                 "allocated (inclusive and self), allocations, bytes live at the peak of the heap "
                 "and at exit, estimated; ranked by bytes allocated"),
    CLI_OPT_FLAG("live", 0, struct report_args, live,
                 "with --memory: ranked by the bytes live at the peak"),
    CLI_OPT_FLAG("exit", 0, struct report_args, exit_live,
                 "with --memory: ranked by the bytes still live at exit (leaks)"),
    CLI_OPT_FLAG("no-color", 0, struct report_args, no_color,
                 "no ANSI colours (also when NO_COLOR is set or stdout is no terminal)"),
    CLI_OPT_END,
};

static int run_report(int argc, char **argv);

const struct cli_command cli_report = {
    .name = "report",
    .summary = "print the top functions of profiles",
    .usage = "[OPTIONS] FILE...",
    .about = "Prints rank, name, samples, total %, self % and source of the top functions, and\n"
             "the top hotspot (largest self share). Several files are merged (samples summed).\n",
    .opts = report_opts,
    .footer = "A profile of allocations only (PROFREG_MEMORY=only) has no CPU samples: without\n"
              "--memory it is refused (exit 2).\n"
              "Exit: 0 ok, 2 usage error or bad input.\n",
    .run = run_report,
};

/* The report of files[0..n) as a asks. */
static int report(struct report_args *a, char **files, size_t n)
{
    struct report_options o = {a->top, a->self, 0, 0, {0}};
    struct load_opts load = a->load;
    bool live = a->live, exit_live = a->exit_live, no_color = a->no_color, by_test = a->by_test;
    bool by_region = a->by_region;
    if (n == 0) {
        cli_usage_error("report: no profile given (profreg report FILE...)");
        return EXIT_USAGE;
    }
    if ((live || exit_live) && !load.memory) {
        cli_error("report: %s goes with --memory", live ? "--live" : "--exit");
        return EXIT_USAGE;
    }
    if (load.memory && (by_test || by_region || (live && exit_live))) {
        cli_error("report: --memory takes --live or --exit, and no --by-test or --by-region");
        return EXIT_USAGE;
    }
    if (by_test && by_region) {
        cli_usage_error("report: --by-test and --by-region are two views: choose one");
        return EXIT_USAGE;
    }
    if (load.memory) {
        struct pr_profile merged;
        if (load_memory_merged(files, n, &load, &merged) != 0)
            return EXIT_USAGE;
        o.nfiles = n;
        o.style = term_style_for(STDOUT_FILENO, no_color);
        o.width = term_width(STDOUT_FILENO);
        render_memory_report(stdout, &merged, merged.memory,
                             live        ? MEM_PEAK_LIVE
                             : exit_live ? MEM_EXIT_LIVE
                                         : MEM_ALLOC_BYTES,
                             &o);
        profile_free(&merged);
        return EXIT_OK;
    }

    struct pr_profile merged;
    profile_init(&merged);
    struct test_acc tests;
    test_acc_init(&tests);
    int rc = EXIT_OK;
    for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
        struct pr_profile p;
        char err[1024];
        profile_init(&p);
        if (profile_read_file(files[i], &p, err, sizeof err) != 0) {
            cli_error("%s", err);
            rc = EXIT_USAGE;
        } else if (load_opts_view(&load, files[i], &p) != 0) { /* (refuses memory only) */
            rc = EXIT_USAGE;
        } else if (load_opts_region(&load, files[i], &p) != 0) {
            rc = EXIT_USAGE;
        } else if (load_opts_apply(&load, &p) != 0) {
            cli_error("out of memory folding %s", files[i]);
            rc = EXIT_USAGE;
        } else if ((errno = 0,
                    by_test ? test_acc_add(&tests, &p) != 0 : profile_merge(&merged, &p) != 0)) {
            if (errno == EOVERFLOW)
                cli_error("%s: the profiles' samples add up to more than " PR_MAX_SAMPLES_TEXT,
                          files[i]);
            else
                cli_error("out of memory reading %s", files[i]);
            rc = EXIT_USAGE;
        }
        profile_free(&p);
    }
    if (rc == EXIT_OK && by_test) {
        struct test_profile t;
        struct term_style s = term_style_for(STDOUT_FILENO, no_color);
        if (test_acc_finish(&tests, &t) != 0) {
            cli_error("out of memory attributing samples to tests");
            rc = EXIT_USAGE;
        } else {
            render_tests_report(stdout, &t, n, &s, term_width(STDOUT_FILENO));
            test_profile_free(&t);
        }
    } else if (rc == EXIT_OK && by_region) {
        struct region_row *rows;
        size_t nrows;
        uint64_t total;
        if (!merged.has_stacks) {
            cli_error("report --by-region: the profiles have no stacks (written by "
                      "parse-profile.py?)");
            rc = EXIT_USAGE;
        } else if (region_rows(&merged, &rows, &nrows, &total) != 0) {
            cli_error("out of memory counting regions");
            rc = EXIT_USAGE;
        } else {
            o.nfiles = n;
            o.style = term_style_for(STDOUT_FILENO, no_color);
            o.width = term_width(STDOUT_FILENO);
            render_regions(stdout, &merged, rows, nrows, total, &o);
            free(rows);
        }
    } else if (rc == EXIT_OK) {
        o.nfiles = n;
        o.style = term_style_for(STDOUT_FILENO, no_color);
        o.width = term_width(STDOUT_FILENO);
        render_report(stdout, &merged, &o);
    }
    profile_free(&merged);
    test_acc_abort(&tests);
    return rc;
}

static int run_report(int argc, char **argv)
{
    struct report_args a = {.top = 25, .load = {.fold_clones = true, .inlines = INLINES_FOLD}};
    struct cli_operands ops;
    int rc = EXIT_USAGE;
    if (cli_parse(&cli_report, argc, argv, &a, &ops) == 0)
        rc = report(&a, ops.v, ops.n);
    cli_operands_free(&ops);
    return rc;
}
