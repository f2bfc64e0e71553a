/* SPDX-License-Identifier: MIT */
/* cli.h — what every subcommand of the profreg binary shares: exit codes, the one-line
 * error convention, and the subcommand table. One subcommand per file in src/cli/. */
#ifndef PROFREG_CLI_H
#define PROFREG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis/read/baseline.h"
#include "core/memory.h"
#include "core/profile.h"

/* Exit codes, the same for every subcommand. */
#define EXIT_OK         0
#define EXIT_REGRESSION 1
#define EXIT_USAGE      2

/* "profreg: <message>" on stderr, one line (control characters in it escaped). */
__attribute__((format(printf, 1, 2))) void cli_error(const char *fmt, ...);

/* The subcommand being run ("report", ...), or NULL before one is chosen: usage errors point
 * to its --help. */
extern const char *cli_command;

/* A usage error: cli_error's one line, ending "(see 'profreg CMD --help')". */
__attribute__((format(printf, 1, 2))) void cli_usage_error(const char *fmt, ...);

struct option;

/* getopt_long for a subcommand, with getopt's own messages off: an unknown, ambiguous or
 * misused option, or a missing value, is one cli_usage_error line and returns '?'. shortopts
 * as getopt_long's ('+' first: stop at the first operand). */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Parses a whole number in [min, max] for option `opt`; prints the error and returns -1
 * when it does not parse. */
int cli_parse_uint(const char *opt, const char *value, unsigned long min, unsigned long max,
                   unsigned long *out);

/* Parses a finite number in [min, max] for option `opt`; prints the error and returns -1
 * when it does not parse. */
int cli_parse_double(const char *opt, const char *value, double min, double max, double *out);

/* True when argv has -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

/* ---- option tables (options.c): one per subcommand, driving its parsing and its --help ---- */

/* What an option does with its value. The field is at `offset` in the command's argument
 * struct (the `args` given to cli_parse). */
enum cli_kind {
    CLI_FLAG,   /* bool field set true; the option takes no value */
    CLI_STRING, /* const char * field set to the value */
    CLI_UINT,   /* unsigned long field: a whole number in [min, max] */
    CLI_DOUBLE, /* double field: a finite number in [min, max] */
    CLI_CALL,   /* call(field, value): 0, or -1 with the usage error printed */
};

#define CLI_NONEMPTY 1u /* an empty value is a usage error ("--NAME: empty value") */
#define CLI_PATH     2u /* a path: an empty one is a usage error ("--NAME: empty path") */
#define CLI_LIST     4u /* the operands after it, up to the next option, are its values too */
#define CLI_OPTIONAL 8u /* the value may be left out; it is given as --NAME=VALUE only */

struct cli_opt {
    const char *name; /* long name, without "--"; NULL ends a table */
    char letter;      /* the short option -X, or 0 */
    const char *arg;  /* the value's name in --help ("N", "FILE", "fold|expand"); NULL: none */
    enum cli_kind kind;
    size_t offset; /* of the field in the command's argument struct */
    double min, max;
    int (*call)(void *field, const char *value);
    unsigned flags;
    const char *help; /* one paragraph; --help wraps it */
};

/* Table entries, one line each: T is the command's argument struct, F the field's path in it. */
/* clang-format off */
#define CLI_OPT_FLAG(name, letter, T, F, help)                                                     \
    {name, letter, NULL, CLI_FLAG, offsetof(T, F), 0, 0, NULL, 0, help}
#define CLI_OPT_STRING(name, letter, arg, T, F, flags, help)                                       \
    {name, letter, arg, CLI_STRING, offsetof(T, F), 0, 0, NULL, flags, help}
#define CLI_OPT_UINT(name, letter, arg, T, F, min, max, help)                                      \
    {name, letter, arg, CLI_UINT, offsetof(T, F), min, max, NULL, 0, help}
#define CLI_OPT_DOUBLE(name, letter, arg, T, F, min, max, help)                                    \
    {name, letter, arg, CLI_DOUBLE, offsetof(T, F), min, max, NULL, 0, help}
#define CLI_OPT_CALL(name, letter, arg, T, F, fn, flags, help)                                     \
    {name, letter, arg, CLI_CALL, offsetof(T, F), 0, 0, fn, flags, help}
/* fn(args, value): the handler gets the whole argument struct */
#define CLI_OPT_HANDLER(name, letter, arg, fn, flags, help)                                        \
    {name, letter, arg, CLI_CALL, 0, 0, 0, fn, flags, help}
#define CLI_OPT_END {NULL, 0, NULL, CLI_FLAG, 0, 0, 0, NULL, 0, NULL}
/* clang-format on */

#define CLI_STOP_AT_OPERAND 1u /* options end at the first operand (record: CMD's own follow) */
#define CLI_TWO_SIDES       2u /* "--" separates two lists of operands; options go on after it */

/* A subcommand: its table, the text of its --help around the table, and what runs it. */
struct cli_command {
    const char *name;    /* "report"; "history append" for a form of another command */
    const char *summary; /* its line in 'profreg --help' */
    const char *usage;   /* after "usage: profreg NAME ": the operands ("[OPTIONS] FILE..."); a
                          * '\n' starts another usage line */
    const char *about;   /* what it does, lines of at most 90 columns; NULL: nothing */
    const struct cli_opt *opts;        /* ends with CLI_OPT_END */
    const char *footer;                /* after the options (exit codes); NULL: nothing */
    unsigned flags;                    /* CLI_STOP_AT_OPERAND, CLI_TWO_SIDES */
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
    const struct cli_command *form;    /* another form with a table of its own (history
                                        * append), shown in the same --help; or NULL */
};

/* Every subcommand, in the order 'profreg --help' lists them (commands.c). */
extern const struct cli_command *const cli_commands[];
extern const size_t cli_ncommands;

/* What cli_parse leaves besides options: the operands in order, and with CLI_TWO_SIDES those
 * after "--" apart. */
struct cli_operands {
    char **v, **after;
    size_t n, nafter;
};

/* Parses argv[1..] by cmd's table into args: --NAME VALUE, --NAME=VALUE, unique prefixes of
 * long names, -X VALUE, -XVALUE; options anywhere among the operands (before the first with
 * CLI_STOP_AT_OPERAND); "--" ends the options (with CLI_TWO_SIDES: ends the first list).
 * 0, or -1 with one usage error printed. Free ops with cli_operands_free either way. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, void *args,
              struct cli_operands *ops);
void cli_operands_free(struct cli_operands *ops);

/* cmd's --help: usage lines, about, the table of options (and those of cmd->form), footer. */
void cli_help(FILE *out, const struct cli_command *cmd);

/* A handler for --inlines (field: a struct load_opts). */
int cli_opt_inlines(void *field, const char *value);

/* --inlines, the same in every command that reads profiles. */
#define CLI_OPT_INLINES(T, F)                                                                      \
    CLI_OPT_CALL("inlines", 0, "fold|expand", T, F, cli_opt_inlines, 0,                            \
                 "fold (default: inlined code counts as self time of the function it was "         \
                 "inlined into, as perf reports it) or expand (inlined functions as functions "    \
                 "of their own)")

/* A handler for --region (field: a struct load_opts). */
int cli_opt_region(void *field, const char *value);

/* --region NAME, the same in every command that reads profiles. */
#define CLI_OPT_REGION(T, F)                                                                       \
    CLI_OPT_CALL("region", 0, "NAME", T, F, cli_opt_region, CLI_NONEMPTY,                          \
                 "only the samples taken in region NAME (profreg.h: profreg_region_begin); a region "    \
                 "path outer/inner matches NAME outer, inner or outer/inner")

/* ---- project layout (project.c): runs, baselines and reports under a root directory ---- */

struct project {
    char *root;          /* --root, "." by default */
    char *executable;    /* basename of the profiled program */
    char *results_dir;   /* ROOT/profile_results/EXE */
    char *baseline_path; /* --baseline, or ROOT/baselines/EXE/baseline.json */
    const char *region;  /* --region the runs were cut to, or NULL (points into the args) */
};

/* The options compare and baseline share (PROJECT_OPTS below). */
#define MAX_CURRENT 1024 /* --current given this many times at most */

/* How runs are folded as they are loaded (profile_fold.c): clone suffixes into the base
 * function, and inlined frames into their callers. */
struct load_opts {
    bool fold_clones;         /* default true; false under --compat */
    enum inline_mode inlines; /* --inlines; default INLINES_FOLD */
    bool inlines_given;       /* --inlines was on the command line */
    bool memory;              /* --memory: the memory section's metric below, not CPU samples */
    enum pr_mem_metric memory_metric;
    const char *region;       /* --region NAME: only the samples of that region, or NULL */
};

/* A baseline (at path) holds the samples of base_region (NULL: every sample), already cut:
 * 0 when that is the region asked (NULL: none), else one line saying which region to ask for
 * and -1 (shares of one scope against another would judge the scope, not the speed). */
int baseline_region_check(const char *path, const char *base_region, const char *asked);

/* With o->region, cuts p (read from path) down to that region's samples
 * (profile_filter_region). 0, or -1 (printed: no such region, no stacks, or with --memory). */
int load_opts_region(const struct load_opts *o, const char *path, struct pr_profile *p);

/* Applies o to a profile just read. 0, or -1 when out of memory. */
int load_opts_apply(const struct load_opts *o, struct pr_profile *p);

/* With o->memory, replaces p (read from path) by its memory section's view of
 * o->memory_metric (memory.h). 0, or -1 (printed) when p has no memory section or memory ran
 * out. Without o->memory, leaves p as it is, but refuses (-1, printed: "add --memory") a
 * profile of allocations only (PROFREG_MEMORY=only), which has no CPU samples. */
int load_opts_view(const struct load_opts *o, const char *path, struct pr_profile *p);

/* Reads the profiles at paths and merges their memory sections (each metric's view folded as
 * o says, merged, joined back: memory_join) into out->memory; out keeps the first profile's
 * run fields. 0, or -1 (printed): a file that cannot be read or has no memory section. */
int load_memory_merged(char *const *paths, size_t n, const struct load_opts *o,
                       struct pr_profile *out);

/* Takes "--inlines MODE"; prints the error and returns -1 when MODE is not fold|expand. */
int load_opts_inlines(struct load_opts *o, const char *value);

struct project_args {
    const char *executable, *baseline, *root;
    struct load_opts load;
    const char *current[MAX_CURRENT]; /* --current FILE, repeatable: these runs exactly */
    size_t ncurrent;
    unsigned long runs;
    bool runs_given; /* --runs was on the command line */
};

/* Handlers of the shared options (field: the struct project_args). */
int project_opt_current(void *field, const char *value);
int project_opt_runs(void *field, const char *value);

/* The table entries of the options compare and baseline share; F is the struct project_args
 * in T. */
#define PROJECT_OPTS(T, F)                                                                         \
    CLI_OPT_STRING("executable", 0, "NAME", T, F.executable, 0,                                    \
                   "which executable (optional when ROOT holds one)"),                             \
        CLI_OPT_CALL("current", 0, "FILE...", T, F, project_opt_current, CLI_LIST,                 \
                     "these profiles instead of the newest runs (repeatable; the files after it "  \
                     "up to the next option are taken too)"),                                      \
        CLI_OPT_STRING("baseline", 0, "FILE", T, F.baseline, 0,                                    \
                       "the baseline to read or write (default "                                   \
                       "ROOT/baselines/NAME/baseline.json)"),                                      \
        CLI_OPT_CALL("runs", 0, "M", T, F, project_opt_runs, 0,                                    \
                     "newest runs averaged (default 5)"),                                          \
        CLI_OPT_STRING("root", 0, "DIR", T, F.root, 0,                                             \
                       "project root holding profile_results/ and baselines/ (default .)"),        \
        CLI_OPT_INLINES(T, F.load), CLI_OPT_REGION(T, F.load)

/* Defaults: --runs 5, --root ".". */
void project_args_init(struct project_args *a);

/* True when s can name an executable's directories (profile_results/NAME, baselines/NAME):
 * not empty, no '/', no control character (a newline, an escape), not starting with '-' (an
 * option) or '.' (".", "..", ".git", hidden). */
bool valid_exe_name(const char *s);
#define EXE_NAME_RULE "(a basename with no '/' or control character, not starting with '-' or '.')"

/* Fills p. exe is --executable or NULL; then hint_executable (metadata.executable of the
 * first --current file) is used, else the only directory under ROOT/<search_dir>
 * ("profile_results" or "baselines"). Prints a one-line error and returns -1 on failure. */
int project_resolve(struct project *p, const char *root, const char *exe,
                    const char *hint_executable, const char *baseline_file, const char *search_dir);
void project_free(struct project *p);

/* The runs judged as "current": the newest `want` runs of the results directory, or the one
 * --current file, averaged as they are read (several files in parallel, added in order) so
 * that only a few are in memory at once. */
struct runs {
    char **paths;
    size_t n;
    unsigned requested;        /* --runs, when loaded from the results directory */
    struct avg_profile avg;    /* judge_average of the runs */
    /* the runs' memory views (BASELINE_MEM_ALLOC, BASELINE_MEM_LIVE) averaged the same way,
     * when every run has a memory section (has_memory) */
    struct avg_profile mem[BASELINE_MEM_VIEWS];
    bool has_memory;
    bool no_cpu; /* every run profiled allocations only (metadata.cpu_sampling false) */
    struct test_profile tests; /* per-test figures of the runs (testattr.h) */
    char *average_timestamp;   /* mean export_timestamp (ISO-8601), or NULL */
    char *executable;          /* metadata.executable of the first run, or NULL */
    double (*metrics)[RUN_METRICS_BASIC]; /* per run, by run_metric_id (NAN: none) */
};

/* Loads the --current files (in the order given). Prints the error and returns -1 when one
 * is bad. */
int runs_load_files(const char *const *paths, size_t n, const struct load_opts *o, struct runs *r);

/* Loads the newest `want` runs from p->results_dir (fewer when fewer exist). Prints a
 * one-line error and returns -1 when there are none or one is bad. */
int runs_load_newest(const struct project *p, unsigned want, const struct load_opts *o,
                     struct runs *r);
void runs_free(struct runs *r);

/* Resolves the project and loads the runs to judge or average: the --current file, or the
 * newest --runs of the results directory. Prints errors. 0, or -1. */
int project_load(const struct project_args *a, struct project *p, struct runs *r);

/* Says on stderr that fewer runs than --runs existed (call once the command succeeded). */
void runs_note_if_fewer(const struct project *p, const struct runs *r);

/* Turns the runs into a baseline with metadata (git commit of the root, version, time; the
 * averaged functions are moved out of r) and writes it atomically to p->baseline_path.
 * Prints what it wrote. 0, or -1 (printed). */
int project_write_baseline(const struct project *p, struct runs *r);

/* The project root for source paths: the git top level of root, else root itself
 * (absolute, malloc'd); NULL when root cannot be resolved. */
char *project_root_of(const char *root);

/* "profreg version" string. */
extern const char *const profreg_version;

extern const struct cli_command cli_record, cli_report, cli_compare, cli_baseline, cli_flamegraph,
    cli_diff, cli_export, cli_history;

#endif
