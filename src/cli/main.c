/* main.c — the profreg binary: dispatches to one subcommand per file, git style.
 *   profreg CMD [options]     profreg help [CMD]     profreg CMD --help     profreg --version */
#include "cli.h"

#include "profreg/term.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef PROFREG_VERSION
#define PROFREG_VERSION "unknown"
#endif

const char *const profreg_version = PROFREG_VERSION;

static const struct subcommand commands[] = {
    {"record", cmd_record, usage_record, "run a command under the profiler"},
    {"report", cmd_report, usage_report, "print the top functions of profiles"},
    {"compare", cmd_compare, usage_compare, "judge the newest runs against the baseline"},
    {"baseline", cmd_baseline, usage_baseline, "set, show or reset an executable's baseline"},
    {"flamegraph", cmd_flamegraph, usage_flamegraph, "write a flame graph (SVG) of profiles"},
    {"diff", cmd_diff, usage_diff, "compare two sets of runs: movers and a differential flame graph"},
    {"export", cmd_export, usage_export, "write profiles as folded stacks, pprof or speedscope"},
    {"history", cmd_history, usage_history, "record runs per commit, and show the series and their steps"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

void cli_error(const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    fputs("profreg: ", stderr);
    /* names and paths in the message reach the terminal escaped: one line, no controls */
    term_put(stderr, n >= 0 && msg ? msg : fmt, SIZE_MAX);
    fputc('\n', stderr);
    free(msg);
}

int cli_parse_uint(const char *opt, const char *value, unsigned long min, unsigned long max,
                   unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = value && *value && *value != '-' ? strtoul(value, &end, 10) : 0;
    if (!value || !*value || *value == '-' || errno || *end || v < min || v > max) {
        cli_error("%s: '%s' is not a whole number from %lu to %lu", opt, value ? value : "", min,
                  max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *opt, const char *value, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = value && *value ? strtod(value, &end) : NAN;
    if (!value || !*value || errno || *end || !isfinite(v) || v < min || v > max) {
        cli_error("%s: '%s' is not a number from %g to %g", opt, value ? value : "", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: profreg COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n'profreg help COMMAND' or 'profreg COMMAND --help' describes a command.\n"
            "Exit codes: 0 success, 1 regression under --strict, 2 usage error or bad input.\n");
}

static const struct subcommand *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("profreg %s\n", PROFREG_VERSION);
        return EXIT_OK;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return EXIT_OK;
        }
        const struct subcommand *c = find(argv[2]);
        if (!c) {
            cli_error("no such command: %s (see 'profreg help')", argv[2]);
            return EXIT_USAGE;
        }
        c->usage(stdout);
        return EXIT_OK;
    }
    const struct subcommand *c = find(name);
    if (!c) {
        cli_error("no such command: %s (see 'profreg help')", name);
        return EXIT_USAGE;
    }
    if (cli_wants_help(argc - 1, argv + 1)) {
        c->usage(stdout);
        return EXIT_OK;
    }
    return c->run(argc - 1, argv + 1);
}
