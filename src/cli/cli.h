/* cli.h — what every subcommand of the profreg binary shares: exit codes, the one-line
 * error convention, and the subcommand table. One subcommand per file in src/cli/. */
#ifndef PROFREG_CLI_H
#define PROFREG_CLI_H

#include <stdio.h>

/* Exit codes, the same for every subcommand (SPEC section 4). */
#define EXIT_OK         0
#define EXIT_REGRESSION 1
#define EXIT_USAGE      2

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    void (*usage)(FILE *out);
    const char *summary;
};

/* "profreg: <message>" on stderr, one line. */
__attribute__((format(printf, 1, 2))) void cli_error(const char *fmt, ...);

/* Parses a whole number in [min, max] for option `opt`; prints the error and returns -1
 * when it does not parse. */
int cli_parse_uint(const char *opt, const char *value, unsigned long min, unsigned long max,
                   unsigned long *out);

/* True when argv has -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

int cmd_record(int argc, char **argv);
void usage_record(FILE *out);
int cmd_report(int argc, char **argv);
void usage_report(FILE *out);

#endif
