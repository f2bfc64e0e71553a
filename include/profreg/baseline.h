/* baseline.h — the baseline file: averaged runs committed under baselines/<exe>/.
 *
 * The keys the old tool reads (metadata.runs_averaged, executable, average_timestamp;
 * summary.avg_total_samples; top_functions[] name, avg_percentage, avg_samples,
 * occurrences) keep their names and meaning; the rest are extensions. The writer's output
 * is stable (fixed key order, two-space indent, one line per function, fixed rounding), so
 * that refreshing a baseline is a readable git diff. The reader uses jansson (CLI only). */
#ifndef PROFREG_BASELINE_H
#define PROFREG_BASELINE_H

#include "profreg/judge.h"
#include "profreg/testattr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Functions written: the BASELINE_KEEP_TOP highest ranked, and after them every function with
 * at least BASELINE_KEEP_MIN_PERCENT percent of samples on average while the list stays within
 * BASELINE_FUNCTION_BYTES (a baseline of a large C++ executable stays under 1 MB). */
#define BASELINE_KEEP_TOP         100
#define BASELINE_KEEP_MIN_PERCENT 0.01
#define BASELINE_FUNCTION_BYTES   (192 * 1024)

/* Decimals written: shares and sample counts. */
#define BASELINE_PCT_DECIMALS     3
#define BASELINE_SAMPLES_DECIMALS 1

struct baseline {
    struct avg_profile avg;
    char *executable;        /* basename, or NULL */
    char *average_timestamp; /* mean of the runs' export_timestamp (ISO-8601), or NULL */
    /* extensions, NULL / -1 when unknown */
    char *created_at;      /* when the file was written */
    char *git_commit;      /* HEAD of the working tree the runs came from */
    int git_dirty;         /* 1 when that tree had uncommitted changes, 0 clean, -1 unknown */
    char *profreg_version; /* of the profreg that wrote the file */
    size_t functions_seen; /* functions averaged before the cut (0 when unknown) */
    char *project_root;    /* writing only: source paths under it are written relative */
    /* reading only: the kept stacks as a profile (function names, stacks with counts summed
     * over the runs, per-function counts recomputed); has_stacks false when none kept */
    struct pr_profile stacks;
    /* per-test figures (the "tests" section, docs/formats.md); no tests when it has none */
    struct test_profile tests;
};

/* The tests section: tests heaviest first, with their functions, while within this many bytes. */
#define BASELINE_TEST_BYTES (256 * 1024)

/* The stacks written: the heaviest first, until they take this many bytes; the weight of the
 * rest is kept as one "[other stacks]" frame, so shares stay right. */
#define BASELINE_STACK_BYTES (640 * 1024)
#define BASELINE_OTHER_STACKS "[other stacks]"

void baseline_init(struct baseline *b);
void baseline_free(struct baseline *b);

/* Reads and validates a baseline file. 0, or -1 with a one-line err ("FILE:LINE:COL: ..."
 * or "FILE: key: ..."); b is left empty on error. */
int baseline_read_file(const char *path, struct baseline *b, char *err, size_t errlen);
int baseline_read_string(const char *text, const char *name, struct baseline *b, char *err,
                         size_t errlen);

/* How many of b's (ranked) functions the writer keeps. */
size_t baseline_kept(const struct baseline *b);

/* Writes b as JSON to f. 0, or -1 on a write error. */
int baseline_write(FILE *f, const struct baseline *b);

#endif
