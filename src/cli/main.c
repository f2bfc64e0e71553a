/* main.c — the profreg binary: dispatches to one subcommand per file, git style.
 *   profreg CMD [options]     profreg help [CMD]     profreg CMD --help     profreg --version */
#include "cli.h"

#include "analysis/render/term.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef PROFREG_VERSION
#define PROFREG_VERSION "unknown"
#endif

const char *const profreg_version = PROFREG_VERSION;
const char *cli_command;

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

void cli_usage_error(const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    cli_error("%s (see 'profreg %s%s--help')", n >= 0 && msg ? msg : fmt,
              cli_command ? cli_command : "", cli_command ? " " : "");
    free(msg);
}

/* The long options whose names start with name[0..len): exactly one (or an exact match) is
 * *found; returns how many. */
static int match_long(const struct option *longopts, const char *name, size_t len,
                      const struct option **found)
{
    int n = 0;
    *found = NULL;
    for (const struct option *o = longopts; o && o->name; o++) {
        if (strncmp(o->name, name, len) != 0)
            continue;
        if (strlen(o->name) == len) {
            *found = o;
            return 1;
        }
        *found = o;
        n++;
    }
    return n;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    char spec[64];
    /* a leading '+' (stop at the first argument) or '-' (arguments in order as code 1) stays
     * first, before the ':' that makes getopt quiet */
    bool mode = shortopts[0] == '+' || shortopts[0] == '-';
    snprintf(spec, sizeof spec, "%.*s:%s", mode ? 1 : 0, shortopts, shortopts + mode);
    opterr = 0;
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    if (c != '?' && c != ':')
        return c;
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (c == ':') {
        if (strncmp(arg, "--", 2) == 0)
            cli_usage_error("%s needs a value", arg);
        else
            cli_usage_error("-%c needs a value", optopt);
        return '?';
    }
    if (strncmp(arg, "--", 2) != 0) {
        cli_usage_error("unknown option '-%c'", optopt ? optopt : '?');
        return '?';
    }
    size_t len = strcspn(arg + 2, "=");
    const struct option *o;
    int n = match_long(longopts, arg + 2, len, &o);
    if (n == 1 && arg[2 + len] == '=' && o->has_arg == no_argument)
        cli_usage_error("--%s takes no value", o->name);
    else if (n > 1)
        cli_usage_error("ambiguous option '%.*s' (%d options start so)", (int)len + 2, arg, n);
    else
        cli_usage_error("unknown option '%.*s'", (int)len + 2, arg);
    return '?';
}

int cli_parse_uint(const char *opt, const char *value, unsigned long min, unsigned long max,
                   unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = value && *value && *value != '-' ? strtoul(value, &end, 10) : 0;
    if (!value || !*value || *value == '-' || errno || *end || v < min || v > max) {
        cli_usage_error("%s: '%s' is not a whole number from %lu to %lu", opt, value ? value : "",
                        min, max);
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
        cli_usage_error("%s: '%s' is not a number from %g to %g", opt, value ? value : "", min,
                        max);
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
        cli_usage_error("no command given");
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
            cli_usage_error("no such command: %s", argv[2]);
            return EXIT_USAGE;
        }
        c->usage(stdout);
        return EXIT_OK;
    }
    const struct subcommand *c = find(name);
    if (!c) {
        cli_usage_error("no such command: %s", name);
        return EXIT_USAGE;
    }
    cli_command = c->name;
    if (cli_wants_help(argc - 1, argv + 1)) {
        c->usage(stdout);
        return EXIT_OK;
    }
    return c->run(argc - 1, argv + 1);
}
