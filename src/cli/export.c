/* SPDX-License-Identifier: MIT */
/* export.c — `profreg export`: the stacks of profiles (or folded stack files) for other
 * tools: folded stacks, pprof, speedscope. */
#include "stackio.h"

#include <string.h>

#include "analysis/export/export.h"
#include "core/fsutil.h"

struct export_args {
    struct stack_args s;
    const char *format;
};

#define A struct export_args
static const struct cli_opt export_opts[] = {
    CLI_OPT_STRING("format", 'f', "folded|pprof|speedscope", A, format, CLI_NONEMPTY,
                   "required: folded is FlameGraph's 'frame;frame;frame count' lines "
                   "(flamegraph.pl, inferno); pprof gzip-compressed profile.proto (go tool pprof, "
                   "Grafana Pyroscope); speedscope speedscope's JSON file format "
                   "(https://www.speedscope.app)"),
    STACK_OPT_OUTPUT(A, s, "write there (default: standard output, not a terminal)"),
    CLI_OPT_INLINES(A, s.load),
    CLI_OPT_REGION(A, s.load),
    STACK_OPT_MEMORY(A, s,
                     "the sampled allocations (PROFREG_MEMORY=1): pprof gets Go's heap profile "
                     "types alloc_objects, alloc_space and inuse_space (live at exit); folded "
                     "and speedscope the bytes allocated, or with --live those live at the "
                     "peak, --exit at exit"),
    CLI_OPT_END,
};
#undef A

static int run_export(int argc, char **argv);

const struct cli_command cli_export = {
    .name = "export",
    .summary = "write profiles as folded stacks, pprof or speedscope",
    .usage = "[OPTIONS] PROFILE... --format folded|pprof|speedscope [-o FILE]",
    .about = "Writes the profiles' stacks (several are merged) for other tools.\n",
    .opts = export_opts,
    .footer = "Exit: 0 written, 2 usage error or bad input (nothing written).\n",
    .run = run_export,
};

struct export_ctx {
    const struct pr_profile *p;
    const char *format, *name;
    char err[512];
    bool memory_pprof; /* p's memory section, as a heap profile */
};

static int export_cb(FILE *f, void *ctx)
{
    struct export_ctx *c = ctx;
    if (strcmp(c->format, "folded") == 0)
        return export_folded(f, c->p);
    if (strcmp(c->format, "speedscope") == 0)
        return export_speedscope(f, c->p, c->name);
    if (c->memory_pprof)
        return export_pprof_memory(f, c->p, c->err, sizeof c->err);
    return export_pprof(f, c->p, c->err, sizeof c->err);
}

static int run_export(int argc, char **argv)
{
    struct export_args a = {0};
    stack_args_init(&a.s);
    struct cli_operands ops;
    int rc = EXIT_USAGE;
    if (cli_parse(&cli_export, argc, argv, &a, &ops) != 0 || stack_args_check(argv[0], &a.s) != 0)
        goto out;
    if (!a.format) {
        cli_usage_error("export: --format folded|pprof|speedscope is required");
        goto out;
    }
    if (strcmp(a.format, "folded") != 0 && strcmp(a.format, "pprof") != 0 &&
        strcmp(a.format, "speedscope") != 0) {
        cli_usage_error("--format: '%s' is not folded, pprof or speedscope", a.format);
        goto out;
    }
    if (ops.n == 0) {
        cli_usage_error("export: no profile given (profreg export PROFILE... --format F -o FILE)");
        goto out;
    }
    struct pr_profile p;
    bool heap = a.s.load.memory && strcmp(a.format, "pprof") == 0;
    if (heap && (a.s.live || a.s.exit_live)) {
        cli_error("export: a pprof heap profile has every memory type: no --live or --exit");
        goto out;
    }
    if (heap ? load_memory_merged(ops.v, ops.n, &a.s.load, &p) != 0
             : read_merged(ops.v, ops.n, false, &a.s.load, &p) != 0)
        goto out;
    struct export_ctx ctx = {&p, a.format, fs_basename(ops.v[0]), "", heap};
    if (ops.n == 1 && p.executable)
        ctx.name = fs_basename(p.executable);
    if (write_output(a.s.output, strcmp(a.format, "pprof") == 0 ? "binary pprof data" : a.format,
                     export_cb, &ctx, ctx.err) == 0)
        rc = EXIT_OK;
    profile_free(&p);
out:
    cli_operands_free(&ops);
    return rc;
}
