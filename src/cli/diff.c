/* SPDX-License-Identifier: MIT */
/* diff.c — `profreg diff`: two sets of runs compared: the functions whose shares moved most,
 * and a differential flame graph (shape from the current runs, colour from the change). */
#include "stackio.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/render/term.h"
#include "core/array.h"
#include "core/hashmap.h"

struct diff_args {
    struct stack_args s;
    const char *title;
    unsigned long width, top;
    bool icicle;
};

#define A struct diff_args
static const struct cli_opt diff_opts[] = {
    STACK_OPT_OUTPUT(A, s, "write the differential flame graph (SVG) there"),
    CLI_OPT_STRING("title", 0, "T", A, title, CLI_NONEMPTY,
                   "its title (default \"Differential Flame Graph\")"),
    CLI_OPT_UINT("width", 0, "PX", A, width, 200, 100000, "its width (default 1200)"),
    CLI_OPT_FLAG("icicle", 0, A, icicle, "root at the top"),
    CLI_OPT_FLAG("inverted", 0, A, icicle, "the same as --icicle"),
    CLI_OPT_UINT("top", 0, "N", A, top, 0, 1000000,
                 "rows of each movers table (default 10; 0: none)"),
    CLI_OPT_INLINES(A, s.load),
    CLI_OPT_REGION(A, s.load),
    STACK_OPT_MEMORY(A, s,
                     "the sampled allocations (PROFREG_MEMORY=1) of profiles on both sides: "
                     "shares of the bytes allocated (or live, with --live or --exit), and both "
                     "sides' totals"),
    CLI_OPT_END,
};
#undef A

static int run_diff(int argc, char **argv);

const struct cli_command cli_diff = {
    .name = "diff",
    .summary = "compare two sets of runs: movers and a differential flame graph",
    .usage = "[OPTIONS] BASE... -- CURRENT... [OPTIONS]",
    .about = "Compares two sets of runs: BASE is profiles, folded stack files, or a baseline file\n"
             "(baselines keep the runs' stacks); CURRENT is profiles or folded files; each side's\n"
             "files are merged. Prints the functions whose inclusive and self shares moved most,\n"
             "and with -o writes a differential flame graph: shape and widths from CURRENT, each\n"
             "frame coloured by the change of its share against BASE (red grew, blue shrank,\n"
             "deeper colour for a larger change; grey unchanged); hover shows before and after.\n",
    .opts = diff_opts,
    .footer = "Exit: 0 done, 2 usage error or bad input (nothing written).\n",
    .flags = CLI_TWO_SIDES,
    .run = run_diff,
};

struct mover {
    const char *name;
    double now_total, before_total, now_self, before_self;
};

static int cmp_mover(const void *x, const void *y, void *ctx)
{
    bool sort_by_self = *(const bool *)ctx;
    const struct mover *a = x, *b = y;
    double da = sort_by_self ? a->now_self - a->before_self : a->now_total - a->before_total;
    double db = sort_by_self ? b->now_self - b->before_self : b->now_total - b->before_total;
    if (fabs(da) != fabs(db))
        return fabs(da) > fabs(db) ? -1 : 1;
    return strcmp(a->name, b->name);
}

static double pct(uint64_t v, uint64_t total)
{
    return total ? (double)v * 100.0 / (double)total : 0;
}

/* Every function of either side with its shares on both. */
/* The baseline's stand-ins for stacks it did not keep: weight, not functions. */
static bool is_cut_weight(const char *name)
{
    return strcmp(name, BASELINE_OTHER) == 0 || strcmp(name, BASELINE_OTHER_STACKS) == 0;
}

static struct mover *movers_of(const struct pr_profile *cur, const struct pr_profile *base,
                               size_t *n)
{
    struct mover *m = calloc(cur->nfunctions + base->nfunctions + 1, sizeof *m);
    struct hmap names;
    hmap_init(&names);
    *n = 0;
    for (size_t i = 0; m && i < cur->nfunctions; i++) {
        const struct pr_function *f = &cur->functions[i];
        uint32_t v;
        if (is_cut_weight(f->name))
            continue;
        if (hmap_intern(&names, f->name, strlen(f->name), (uint32_t)*n, &v) < 0)
            goto oom;
        m[(*n)++] = (struct mover){f->name, pct(f->samples, cur->total_samples), 0,
                                   pct(f->self_samples, cur->total_samples), 0};
    }
    for (size_t i = 0; m && i < base->nfunctions; i++) {
        const struct pr_function *f = &base->functions[i];
        uint32_t v;
        if (is_cut_weight(f->name))
            continue;
        int ins = hmap_intern(&names, f->name, strlen(f->name), (uint32_t)*n, &v);
        if (ins < 0)
            goto oom;
        if (ins == 1)
            m[(*n)++] = (struct mover){f->name, 0, 0, 0, 0};
        m[v].before_total = pct(f->samples, base->total_samples);
        m[v].before_self = pct(f->self_samples, base->total_samples);
    }
    hmap_free(&names);
    return m;
oom:
    hmap_free(&names);
    free(m);
    return NULL;
}

/* of: what the shares are of ("samples", "bytes allocated", ...) */
static void print_movers(struct mover *m, size_t n, bool self, size_t top, const char *of)
{
    array_sort_r(m, n, sizeof *m, cmp_mover, &self);
    printf("\nLargest movers, %s share (now vs before, percent of %s):\n",
           self ? "self" : "inclusive", of);
    printf("  %8s  %8s  %8s  %s\n", "now", "before", "change", "function");
    for (size_t i = 0; i < n && i < top; i++) {
        double now = self ? m[i].now_self : m[i].now_total;
        double before = self ? m[i].before_self : m[i].before_total;
        printf("  %8.2f  %8.2f  %+8.2f  ", now, before, now - before);
        term_put(stdout, m[i].name, SIZE_MAX);
        putchar('\n');
    }
}

static int run_diff(int argc, char **argv)
{
    struct diff_args a = {.width = 1200, .top = 10};
    stack_args_init(&a.s);
    struct cli_operands ops;
    int rc = EXIT_USAGE;
    if (cli_parse(&cli_diff, argc, argv, &a, &ops) != 0 || stack_args_check(argv[0], &a.s) != 0)
        goto out;
    if (ops.n == 0 || ops.nafter == 0) {
        cli_usage_error("diff: give both sides: profreg diff BASE... -- CURRENT... [-o FILE.svg]");
        goto out;
    }
    struct pr_profile base, cur;
    if (read_merged(ops.v, ops.n, true, &a.s.load, &base) != 0)
        goto out;
    if (read_merged(ops.after, ops.nafter, false, &a.s.load, &cur) != 0) {
        profile_free(&base);
        goto out;
    }
    struct flame_tree bt, ct;
    int e1 = flame_build(&base, false, &bt), e2 = flame_build(&cur, false, &ct);
    size_t nm = 0;
    struct mover *m = movers_of(&cur, &base, &nm);
    if (e1 || e2 || !m) {
        cli_error("out of memory comparing the stacks");
    } else {
        rc = EXIT_OK;
        if (a.s.output) {
            char sub[512], now[64], before[64];
            if (a.s.load.memory) {
                mem_format_bytes((double)cur.total_samples, now, sizeof now);
                mem_format_bytes((double)base.total_samples, before, sizeof before);
            } else {
                snprintf(now, sizeof now, "%llu samples", (unsigned long long)cur.total_samples);
                snprintf(before, sizeof before, "%llu samples",
                         (unsigned long long)base.total_samples);
            }
            snprintf(sub, sizeof sub,
                     "shape: current (%zu file%s, %s); colour: change of share "
                     "against the baseline (%zu file%s, %s), red grew, blue shrank",
                     ops.nafter, ops.nafter == 1 ? "" : "s", now, ops.n, ops.n == 1 ? "" : "s",
                     before);
            struct flame_options o = {a.title ? a.title : "Differential Flame Graph",
                                      sub,
                                      (int)a.width,
                                      a.icicle,
                                      &bt,
                                      stack_args_unit(&a.s)};
            struct svg_ctx ctx = {&ct, &o};
            if (write_output(a.s.output, "an SVG", svg_cb, &ctx, NULL) != 0)
                rc = EXIT_USAGE;
        }
        const char *of = a.s.load.memory ? stack_args_unit(&a.s) : "samples";
        if (rc == EXIT_OK && a.s.load.memory) {
            char now[32], before[32];
            mem_format_bytes((double)cur.total_samples, now, sizeof now);
            mem_format_bytes((double)base.total_samples, before, sizeof before);
            double change = base.total_samples
                                ? ((double)cur.total_samples / (double)base.total_samples - 1) * 100
                                : NAN;
            printf("%s (estimated): %s now, %s before", of, now, before);
            if (!isnan(change))
                printf(" (%+.1f %%)", change);
            printf("\n");
        }
        if (rc == EXIT_OK && a.top > 0) {
            print_movers(m, nm, false, a.top, of);
            print_movers(m, nm, true, a.top, of);
        }
    }
    free(m);
    if (!e1)
        flame_free(&bt);
    if (!e2)
        flame_free(&ct);
    profile_free(&base);
    profile_free(&cur);
out:
    cli_operands_free(&ops);
    return rc;
}
