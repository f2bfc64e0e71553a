/* SPDX-License-Identifier: MIT */
/* flamegraph.c — `profreg flamegraph`: the stacks of profiles (or folded stack files) as one
 * self-contained SVG flame graph. */
#include "stackio.h"

#include <stdlib.h>

struct flamegraph_args {
    struct stack_args s;
    const char *title;
    unsigned long width;
    bool reverse, icicle;
};

#define A struct flamegraph_args
static const struct cli_opt flamegraph_opts[] = {
    STACK_OPT_OUTPUT(A, s, "write there (default: standard output, not a terminal)"),
    CLI_OPT_STRING("title", 0, "T", A, title, CLI_NONEMPTY, "the title (default \"Flame Graph\")"),
    CLI_OPT_FLAG("self", 0, A, reverse,
                 "bottom-up: the functions where samples were taken at the bottom (widths are "
                 "self time), their callers above"),
    CLI_OPT_UINT("width", 0, "PX", A, width, 200, 100000, "image width (default 1200)"),
    CLI_OPT_FLAG("icicle", 0, A, icicle, "root at the top, stacks growing down"),
    CLI_OPT_FLAG("inverted", 0, A, icicle, "the same as --icicle"),
    CLI_OPT_INLINES(A, s.load),
    CLI_OPT_REGION(A, s.load),
    STACK_OPT_MEMORY(A, s,
                     "the sampled allocations (PROFREG_MEMORY=1) instead of CPU samples: widths "
                     "are the bytes allocated by each stack"),
    CLI_OPT_END,
};
#undef A

static int run_flamegraph(int argc, char **argv);

const struct cli_command cli_flamegraph = {
    .name = "flamegraph",
    .summary = "write a flame graph (SVG) of profiles",
    .usage = "[OPTIONS] PROFILE... [-o FILE.svg]",
    .about = "Writes a flame graph of the profiles' stacks (several are merged: the runs of one\n"
             "invocation) as one self-contained SVG: hover for samples and share, click to zoom,\n"
             "Search (or Ctrl-F) takes a regular expression and shows the matched share.\n"
             "PROFILE is a profile JSON or a folded stack file (FlameGraph's format).\n",
    .opts = flamegraph_opts,
    .footer = "Exit: 0 written, 2 usage error or bad input (nothing written).\n",
    .run = run_flamegraph,
};

static void subtitle_of(char *buf, size_t len, size_t nfiles, const struct pr_profile *p,
                        const char *unit, const char *extra)
{
    char amount[160];
    if (unit) { /* a memory view: bytes, estimated from sampled allocations */
        char bytes[32];
        mem_format_bytes((double)p->total_samples, bytes, sizeof bytes);
        snprintf(amount, sizeof amount, "%s %s (estimated)", bytes, unit);
    } else {
        snprintf(amount, sizeof amount, "%llu samples", (unsigned long long)p->total_samples);
    }
    snprintf(buf, len, "%zu profile%s, %s%s%s", nfiles, nfiles == 1 ? "" : "s", amount,
             extra ? "; " : "", extra ? extra : "");
}

static int run_flamegraph(int argc, char **argv)
{
    struct flamegraph_args a = {.width = 1200};
    stack_args_init(&a.s);
    struct cli_operands ops;
    int rc = EXIT_USAGE;
    if (cli_parse(&cli_flamegraph, argc, argv, &a, &ops) != 0 ||
        stack_args_check(argv[0], &a.s) != 0)
        goto out;
    if (ops.n == 0) {
        cli_usage_error("flamegraph: no profile given (profreg flamegraph PROFILE... -o FILE.svg)");
        goto out;
    }
    struct pr_profile p;
    if (read_merged(ops.v, ops.n, false, &a.s.load, &p) != 0)
        goto out;
    struct flame_tree t;
    if (flame_build(&p, a.reverse, &t) != 0) {
        cli_error("out of memory building the flame graph");
        profile_free(&p);
        goto out;
    }
    char sub[256];
    subtitle_of(sub, sizeof sub, ops.n, &p, stack_args_unit(&a.s),
                !a.reverse        ? NULL
                : a.s.load.memory ? "bottom-up: widths are the allocating functions' own"
                                  : "bottom-up: widths are self time");
    const char *title = a.title ? a.title : a.s.load.memory ? "Allocation Flame Graph" : NULL;
    struct flame_options o = {title, sub, (int)a.width, a.icicle, NULL, stack_args_unit(&a.s)};
    struct svg_ctx ctx = {&t, &o};
    rc = write_output(a.s.output, "an SVG", svg_cb, &ctx, NULL) == 0 ? EXIT_OK : EXIT_USAGE;
    flame_free(&t);
    profile_free(&p);
out:
    cli_operands_free(&ops);
    return rc;
}
