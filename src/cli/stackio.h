/* SPDX-License-Identifier: MIT */
/* stackio.h — what flamegraph, diff and export share: reading inputs that keep stacks
 * (profiles, folded stacks, baselines), writing one output file, and their common options. */
#ifndef PROFREG_CLI_STACKIO_H
#define PROFREG_CLI_STACKIO_H

#include "cli.h"

#include "analysis/render/flame.h"
#include "analysis/render/render_flame.h"

/* The options the three commands share. */
struct stack_args {
    const char *output;    /* -o, --output; NULL: standard output */
    bool live, exit_live;  /* --live, --exit (with --memory) */
    struct load_opts load; /* --inlines, --memory; clones always folded */
};

/* Their table entries; F is the struct stack_args in T. */
#define STACK_OPT_OUTPUT(T, F, help)                                                               \
    CLI_OPT_STRING("output", 'o', "FILE", T, F.output, CLI_NONEMPTY, help)
#define STACK_OPT_MEMORY(T, F, help)                                                               \
    CLI_OPT_FLAG("memory", 0, T, F.load.memory, help),                                             \
        CLI_OPT_FLAG("live", 0, T, F.live,                                                         \
                     "with --memory: the bytes live at the peak of the heap"),                     \
        CLI_OPT_FLAG("exit", 0, T, F.exit_live,                                                    \
                     "with --memory: the bytes still live at exit (leaks)")

/* Defaults: CPU samples, inlined frames folded. */
void stack_args_init(struct stack_args *a);

/* Checks --live and --exit against --memory and sets the memory metric. 0, or -1 (printed;
 * cmd names the command). */
int stack_args_check(const char *cmd, struct stack_args *a);

/* What a memory view's widths are ("bytes allocated", "bytes live at exit", ...), or NULL
 * for CPU samples. */
const char *stack_args_unit(const struct stack_args *a);

/* Reads and merges the inputs; every one must have stacks. allow_baseline: a baseline that
 * keeps stacks is an input too. 0, or -1 (printed). */
int read_merged(char **paths, size_t n, bool allow_baseline, const struct load_opts *lo,
                struct pr_profile *merged);

typedef int (*writer_fn)(FILE *f, void *ctx);

/* To path (atomically, replacing it), or to stdout when path is NULL (refused on a terminal
 * for binary or markup output: `what` names it). When the writer fails and says why in
 * cb_err (may be NULL), that is the one line printed. 0, or -1 (printed). */
int write_output(const char *path, const char *what, writer_fn fn, void *ctx, const char *cb_err);

/* A flame graph as the writer_fn of write_output. */
struct svg_ctx {
    const struct flame_tree *tree;
    const struct flame_options *opts;
};
int svg_cb(FILE *f, void *ctx);

#endif
