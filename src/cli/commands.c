/* SPDX-License-Identifier: MIT */
/* commands.c — the subcommands of profreg, in the order 'profreg --help' lists them, and its
 * version. */
#include "cli.h"

#ifndef PROFREG_VERSION
#define PROFREG_VERSION "unknown"
#endif

const char *const profreg_version = PROFREG_VERSION;

const struct cli_command *const cli_commands[] = {
    &cli_record,     &cli_report, &cli_compare, &cli_baseline,
    &cli_flamegraph, &cli_diff,   &cli_export,  &cli_history,
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];
