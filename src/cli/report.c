/* report.c — `profreg report`: the ranked function table of one or more profiles.
 * Several files (the runs of one invocation) are merged before ranking. */
#include "cli.h"

#include "analysis/read/profile_read.h"
#include "analysis/render/render_table.h"
#include "analysis/render/render_tests.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void usage_report(FILE *out)
{
    fprintf(
        out,
        "usage: profreg report FILE... [--top N] [--self] [--by-test] [--inlines fold|expand]\n"
        "                      [--region NAME] [--memory [--live|--exit]] [--no-color]\n"
        "\n"
        "Prints rank, name, samples, total %%, self %% and source of the top functions, and\n"
        "the top hotspot (largest self share). Several files are merged (samples summed).\n"
        "\n"
        "  --top N       rows to print (default 25; 0 prints all)\n"
        "  --self        rank by self samples instead of inclusive samples\n"
        "  --by-test     instead: each test's share and CPU time (gtest, Google Benchmark,\n"
        "                Catch2 tests recognised from the stacks; docs/formats.md)\n"
        "  --inlines M   fold (default: inlined code counts as self time of the function it\n"
        "                was inlined into, as perf reports it) or expand (inlined functions\n"
        "                as rows of their own)\n"
        "  --region NAME only the samples taken in region NAME (profreg_region_begin): a\n"
        "                region path \"outer/inner\" matches NAME outer, inner or outer/inner\n"
        "  --memory      instead: the sampled allocations (PROFREG_MEMORY=1): per function the\n"
        "                bytes allocated (inclusive and self), allocations, bytes live at the\n"
        "                peak of the heap and at exit, estimated; ranked by bytes allocated\n"
        "  --live        with --memory: ranked by the bytes live at the peak\n"
        "  --exit        with --memory: ranked by the bytes still live at exit (leaks)\n"
        "  --no-color    no ANSI colours (also when NO_COLOR is set or stdout is no terminal)\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"top", required_argument, NULL, 't'},
        {"self", no_argument, NULL, 's'},
        {"no-color", no_argument, NULL, 'n'},
        {"by-test", no_argument, NULL, 'T'},
        {"inlines", required_argument, NULL, 'I'},
        {"memory", no_argument, NULL, 'M'},
        {"live", no_argument, NULL, 'L'},
        {"exit", no_argument, NULL, 'X'},
        {"region", required_argument, NULL, OPT_REGION},
        {NULL, 0, NULL, 0},
    };
    bool live = false, exit_live = false;
    struct report_options o = {25, false, 0, 0, {0}};
    bool no_color = false, by_test = false;
    struct load_opts load = {.fold_clones = true, .inlines = INLINES_FOLD};
    unsigned long v;
    int c;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        switch (c) {
        case 't':
            if (cli_parse_uint("--top", optarg, 0, 100000000, &v) != 0)
                return EXIT_USAGE;
            o.top = v;
            break;
        case 's':
            o.by_self = true;
            break;
        case 'n':
            no_color = true;
            break;
        case 'T':
            by_test = true;
            break;
        case 'I':
            if (load_opts_inlines(&load, optarg) != 0)
                return EXIT_USAGE;
            break;
        case 'M':
            load.memory = true;
            break;
        case 'L':
            live = true;
            break;
        case 'X':
            exit_live = true;
            break;
        case OPT_REGION:
            if (load_opts_region_arg(&load, optarg) != 0)
                return EXIT_USAGE;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_usage_error("report: no profile given (profreg report FILE...)");
        return EXIT_USAGE;
    }
    if ((live || exit_live) && !load.memory) {
        cli_error("report: %s goes with --memory", live ? "--live" : "--exit");
        return EXIT_USAGE;
    }
    if (load.memory && (by_test || (live && exit_live))) {
        cli_error("report: --memory takes --live or --exit, and no --by-test");
        return EXIT_USAGE;
    }
    if (load.memory) {
        struct pr_profile merged;
        if (load_memory_merged(argv + optind, (size_t)(argc - optind), &load, &merged) != 0)
            return EXIT_USAGE;
        o.nfiles = (size_t)(argc - optind);
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
    for (int i = optind; i < argc && rc == EXIT_OK; i++) {
        struct pr_profile p;
        char err[1024];
        profile_init(&p);
        if (profile_read_file(argv[i], &p, err, sizeof err) != 0) {
            cli_error("%s", err);
            rc = EXIT_USAGE;
        } else if (load_opts_region(&load, argv[i], &p) != 0) {
            rc = EXIT_USAGE;
        } else if (load_opts_apply(&load, &p) != 0) {
            cli_error("out of memory folding %s", argv[i]);
            rc = EXIT_USAGE;
        } else if ((errno = 0, by_test ? test_acc_add(&tests, &p) != 0
                                       : profile_merge(&merged, &p) != 0)) {
            if (errno == EOVERFLOW)
                cli_error("%s: the profiles' samples add up to more than " PR_MAX_SAMPLES_TEXT,
                          argv[i]);
            else
                cli_error("out of memory reading %s", argv[i]);
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
            render_tests_report(stdout, &t, (size_t)(argc - optind), &s, term_width(STDOUT_FILENO));
            test_profile_free(&t);
        }
    } else if (rc == EXIT_OK) {
        o.nfiles = (size_t)(argc - optind);
        o.style = term_style_for(STDOUT_FILENO, no_color);
        o.width = term_width(STDOUT_FILENO);
        render_report(stdout, &merged, &o);
    }
    profile_free(&merged);
    test_acc_abort(&tests);
    return rc;
}
