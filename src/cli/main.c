/* SPDX-License-Identifier: MIT */
/* main.c — the profreg binary: dispatches to one subcommand per file, git style.
 *   profreg CMD [options]     profreg help [CMD]     profreg CMD --help     profreg --version */
#include "cli.h"

#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: profreg COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < cli_ncommands; i++)
        fprintf(out, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out,
            "\n'profreg help COMMAND' or 'profreg COMMAND --help' describes a command.\n"
            "Exit codes: 0 success, 1 regression under --strict, 2 usage error or bad input.\n");
}

static const struct cli_command *find(const char *name)
{
    for (size_t i = 0; i < cli_ncommands; i++)
        if (strcmp(cli_commands[i]->name, name) == 0)
            return cli_commands[i];
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
        printf("profreg %s\n", profreg_version);
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
        const struct cli_command *c = find(argv[2]);
        if (!c) {
            cli_usage_error("no such command: %s", argv[2]);
            return EXIT_USAGE;
        }
        cli_help(stdout, c);
        return EXIT_OK;
    }
    const struct cli_command *c = find(name);
    if (!c) {
        cli_usage_error("no such command: %s", name);
        return EXIT_USAGE;
    }
    cli_command = c->name;
    if (cli_wants_help(argc - 1, argv + 1)) {
        cli_help(stdout, c);
        return EXIT_OK;
    }
    return c->run(argc - 1, argv + 1);
}
