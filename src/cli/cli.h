/* cli.h — what every subcommand of the profreg binary shares: exit codes, the one-line
 * error convention, and the subcommand table. One subcommand per file in src/cli/. */
#ifndef PROFREG_CLI_H
#define PROFREG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis/read/baseline.h"
#include "core/memory.h"
#include "core/profile.h"

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

/* ---- project layout (project.c): runs, baselines and reports under a root directory ---- */

struct project {
    char *root;          /* --root, "." by default */
    char *executable;    /* basename of the profiled program */
    char *results_dir;   /* ROOT/profile_results/EXE */
    char *baseline_path; /* --baseline, or ROOT/baselines/EXE/baseline.json */
};

/* The options compare and baseline share, parsed by project_args_option. */
#define MAX_CURRENT 1024 /* --current given this many times at most */

/* How runs are folded as they are loaded (profile_fold.c): clone suffixes into the base
 * function, and inlined frames into their callers. */
struct load_opts {
    bool fold_clones;         /* default true; false under --compat */
    enum inline_mode inlines; /* --inlines; default INLINES_FOLD */
    bool inlines_given;       /* --inlines was on the command line */
    bool memory;              /* --memory: the memory section's metric below, not CPU samples */
    enum pr_mem_metric memory_metric;
};

/* Applies o to a profile just read. 0, or -1 when out of memory. */
int load_opts_apply(const struct load_opts *o, struct pr_profile *p);

/* With o->memory, replaces p (read from path) by its memory section's view of
 * o->memory_metric (memory.h). 0, or -1 (printed) when p has no memory section or memory ran
 * out. Without o->memory, does nothing. */
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
};

/* getopt_long entries for the shared options, with the codes project_args_option takes. */
#define PROJECT_OPTIONS                                                                            \
    {"executable", required_argument, NULL, 'e'}, {"current", required_argument, NULL, 'c'},       \
        {"baseline", required_argument, NULL, 'b'}, {"runs", required_argument, NULL, 'r'},        \
        {"root", required_argument, NULL, 'R'},                                                    \
    {                                                                                              \
        "inlines", required_argument, NULL, 'I'                                                    \
    }

/* Defaults: --runs 5, --root ".". */
void project_args_init(struct project_args *a);

/* Takes getopt code c when it is a shared option: 1 when taken, 0 when not one of them, -1
 * (error printed) when its value is bad. */
int project_args_option(struct project_args *a, int c, const char *value);

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

int cmd_record(int argc, char **argv);
void usage_record(FILE *out);
int cmd_report(int argc, char **argv);
void usage_report(FILE *out);
int cmd_compare(int argc, char **argv);
void usage_compare(FILE *out);
int cmd_baseline(int argc, char **argv);
void usage_baseline(FILE *out);
int cmd_flamegraph(int argc, char **argv);
void usage_flamegraph(FILE *out);
int cmd_diff(int argc, char **argv);
void usage_diff(FILE *out);
int cmd_export(int argc, char **argv);
int cmd_history(int argc, char **argv);
void usage_history(FILE *out);
void usage_export(FILE *out);

#endif
