/* SPDX-License-Identifier: MIT */
/* options.c — what every subcommand's command line goes through: one-line errors, getopt
 * without its own messages, numbers, and the option tables that drive parsing and --help. */
#include "cli.h"

#include "analysis/render/term.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *cli_command;

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

/* ---- option tables -------------------------------------------------------------------------- */

static size_t count_opts(const struct cli_opt *opts)
{
    size_t n = 0;
    while (opts && opts[n].name)
        n++;
    return n;
}

/* Does what o says with value (NULL: none given) to the command's argument struct. */
static int apply(const struct cli_opt *o, const char *value, void *args)
{
    void *field = (char *)args + o->offset;
    char name[80];
    snprintf(name, sizeof name, "--%s", o->name);
    if (value && !*value && (o->flags & (CLI_NONEMPTY | CLI_PATH))) {
        cli_usage_error("%s: empty %s", name, o->flags & CLI_PATH ? "path" : "value");
        return -1;
    }
    switch (o->kind) {
    case CLI_FLAG:
        *(bool *)field = true;
        return 0;
    case CLI_STRING:
        *(const char **)field = value;
        return 0;
    case CLI_UINT:
        return cli_parse_uint(name, value, (unsigned long)o->min, (unsigned long)o->max, field);
    case CLI_DOUBLE:
        return cli_parse_double(name, value, o->min, o->max, field);
    case CLI_CALL:
        return o->call(field, value);
    }
    return -1;
}

void cli_operands_free(struct cli_operands *ops)
{
    free(ops->v);
    free(ops->after);
    memset(ops, 0, sizeof *ops);
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, void *args,
              struct cli_operands *ops)
{
    size_t n = count_opts(cmd->opts);
    memset(ops, 0, sizeof *ops);
    ops->v = calloc((size_t)argc + 1, sizeof *ops->v);
    ops->after = calloc((size_t)argc + 1, sizeof *ops->after);
    /* getopt_long's view of the table: an option with a letter returns the letter, one
     * without returns 256 + its index */
    struct option *longopts = calloc(n + 1, sizeof *longopts);
    char *shortopts = malloc(3 * n + 2);
    if (!ops->v || !ops->after || !longopts || !shortopts) {
        free(longopts);
        free(shortopts);
        cli_error("out of memory");
        return -1;
    }
    /* '-': operands come in order (code 1), so that a CLI_LIST option takes those after it */
    size_t ns = 0;
    shortopts[ns++] = cmd->flags & CLI_STOP_AT_OPERAND ? '+' : '-';
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        int has = !o->arg                   ? no_argument
                  : o->flags & CLI_OPTIONAL ? optional_argument
                                            : required_argument;
        longopts[i] = (struct option){o->name, has, NULL, o->letter ? o->letter : 256 + (int)i};
        if (o->letter) {
            shortopts[ns++] = o->letter;
            if (has != no_argument)
                shortopts[ns++] = ':';
            if (has == optional_argument)
                shortopts[ns++] = ':';
        }
    }
    shortopts[ns] = '\0';

    int rc = 0, ac = argc;
    char **av = argv;
    bool second = false;
    const struct cli_opt *list = NULL; /* the CLI_LIST option the next operands go to */
    optind = 0;                        /* a fresh scan (glibc), whatever ran before */
    for (;;) {
        int next = optind ? optind : 1; /* the element getopt looks at next */
        int c = cli_getopt(ac, av, shortopts, longopts);
        if (c == '?') {
            rc = -1;
            break;
        }
        if (c == -1) {
            bool dashdash = optind == next + 1 && strcmp(av[next], "--") == 0;
            if (dashdash && (cmd->flags & CLI_TWO_SIDES) && !second) {
                /* the second list: parse on from "--", which stands in for argv[0] */
                second = true;
                list = NULL;
                av += optind - 1;
                ac -= optind - 1;
                optind = 0;
                continue;
            }
            for (int i = optind; i < ac; i++) /* after "--", or from the first operand */
                if (second)
                    ops->after[ops->nafter++] = av[i];
                else
                    ops->v[ops->n++] = av[i];
            break;
        }
        if (c == 1 && list) {
            if (apply(list, optarg, args) != 0) {
                rc = -1;
                break;
            }
            continue;
        }
        if (c == 1) {
            if (second)
                ops->after[ops->nafter++] = optarg;
            else
                ops->v[ops->n++] = optarg;
            continue;
        }
        const struct cli_opt *o = NULL;
        for (size_t i = 0; i < n && !o; i++)
            if (c == (cmd->opts[i].letter ? cmd->opts[i].letter : 256 + (int)i))
                o = &cmd->opts[i];
        if (!o || apply(o, optarg, args) != 0) {
            rc = -1;
            break;
        }
        list = o->flags & CLI_LIST ? o : NULL;
    }
    free(longopts);
    free(shortopts);
    return rc;
}

/* ---- --help --------------------------------------------------------------------------------- */

#define HELP_WIDTH 90 /* columns of the option list, as wide as the texts around it */
#define HELP_COL   26 /* where an option's description starts */

/* text from column col, wrapped at HELP_WIDTH; continuation lines start at column indent. */
static void put_wrapped(FILE *out, const char *text, size_t col, size_t indent)
{
    const char *s = text;
    while (*s) {
        size_t word = strcspn(s, " ");
        if (col > indent && col + 1 + word > HELP_WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(s, 1, word, out);
        col += word;
        s += word;
        while (*s == ' ')
            s++;
    }
    fputc('\n', out);
}

/* "  -o, --output FILE      help", the help wrapped; on a line of its own when the left part
 * is too wide. */
static void put_option(FILE *out, const struct cli_opt *o)
{
    char left[160];
    bool optional = o->flags & CLI_OPTIONAL;
    int len = snprintf(left, sizeof left, "  %c%c%c --%s%s%s%s", o->letter ? '-' : ' ',
                       o->letter ? o->letter : ' ', o->letter ? ',' : ' ', o->name,
                       !o->arg    ? ""
                       : optional ? "[="
                                  : " ",
                       o->arg ? o->arg : "", o->arg && optional ? "]" : "");
    size_t col = len > 0 ? (size_t)len : 0;
    fputs(left, out);
    if (col + 2 > HELP_COL)
        fprintf(out, "\n%*s", HELP_COL, "");
    else
        fprintf(out, "%*s", (int)(HELP_COL - col), "");
    put_wrapped(out, o->help ? o->help : "", HELP_COL, HELP_COL);
}

/* "usage: profreg NAME USAGE" (and "       profreg NAME ..." for each further line). */
static void put_usage(FILE *out, const char *lead, const struct cli_command *cmd)
{
    const char *u = cmd->usage ? cmd->usage : "[OPTIONS]";
    for (bool first = true; *u; first = false) {
        size_t len = strcspn(u, "\n");
        fprintf(out, "%s profreg %s %.*s\n", first ? lead : "      ", cmd->name, (int)len, u);
        u += len + (u[len] == '\n');
    }
}

void cli_help(FILE *out, const struct cli_command *cmd)
{
    put_usage(out, "usage:", cmd);
    if (cmd->form)
        put_usage(out, "      ", cmd->form);
    if (cmd->about)
        fprintf(out, "\n%s", cmd->about);
    fprintf(out, "\noptions:\n");
    for (const struct cli_opt *o = cmd->opts; o && o->name; o++)
        put_option(out, o);
    static const struct cli_opt help = {.name = "help", .letter = 'h', .help = "print this help"};
    put_option(out, &help);
    if (cmd->form) {
        fprintf(out, "\noptions of '%s':\n", cmd->form->name);
        for (const struct cli_opt *o = cmd->form->opts; o && o->name; o++)
            put_option(out, o);
    }
    if (cmd->footer)
        fprintf(out, "\n%s", cmd->footer);
}
