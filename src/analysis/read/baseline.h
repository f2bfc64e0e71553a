/* SPDX-License-Identifier: MIT */
/* baseline.h — the baseline file: averaged runs committed under baselines/<exe>/.
 *
 * The keys the Instruments workflow reads (metadata.runs_averaged, executable,
 * average_timestamp; summary.avg_total_samples; top_functions[] name, avg_percentage,
 * avg_samples, occurrences) keep their names and meaning; the rest are extensions. The
 * writer's output is stable (fixed key order, two-space indent, one line per function, fixed
 * rounding), so that refreshing a baseline is a readable git diff. The reader uses jansson
 * (CLI only). */
#ifndef PROFREG_BASELINE_H
#define PROFREG_BASELINE_H

#include "analysis/judge/average.h"
#include "analysis/judge/testattr.h"

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

/* The memory views a baseline keeps: mem[BASELINE_MEM_ALLOC] (shares of the bytes allocated),
 * mem[BASELINE_MEM_LIVE] (of the bytes live at the peak), each within BASELINE_MEM_BYTES. */
enum { BASELINE_MEM_ALLOC, BASELINE_MEM_LIVE, BASELINE_MEM_VIEWS };
#define BASELINE_MEM_BYTES (96 * 1024)

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
    char *region;          /* the region the runs were cut to (--region), NULL: all samples */
    /* reading only: the kept stacks as a profile (function names, stacks with counts summed
     * over the runs, per-function counts recomputed); has_stacks false when none kept. From
     * a call tree: one stack per node with samples of its own, root first. */
    struct pr_profile stacks;
    /* per-test figures (the "tests" section, docs/formats.md); no tests when it has none */
    struct test_profile tests;
    /* the runs' memory sections (PROFREG_MEMORY=1): their views of bytes allocated and of
     * bytes live at the peak (memory_view), averaged as top_functions are; has_memory false
     * when the runs had none (the "memory" section, docs/formats.md) */
    struct avg_profile mem[BASELINE_MEM_VIEWS];
    bool has_memory;
};

/* The tests section: tests heaviest first, with their functions, while within this many bytes. */
#define BASELINE_TEST_BYTES (256 * 1024)

/* The runs' stacks are written as their merged call tree ("call_tree", docs/formats.md):
 * every distinct path from a root once, with the samples ending there. When the tree and the
 * names it needs take more than BASELINE_STACK_BYTES, the lightest subtrees (by samples in
 * them and below) are cut off; the samples of a node's cut children become one child named
 * BASELINE_OTHER, so every kept node keeps its total and only the detail below is lost.
 * Baselines written before the call tree keep a flat "stacks" list whose cut weight is one
 * stack of the frame BASELINE_OTHER_STACKS; both are read. */
#define BASELINE_STACK_BYTES  (768 * 1024)
#define BASELINE_OTHER        "[other]"
#define BASELINE_OTHER_STACKS "[other stacks]"

/* What the writer did with the stacks of b (for tests and `baseline show`-like reports):
 * nodes of the merged tree before and after cutting, the samples in [other] nodes and in
 * all, and the bytes the stack part takes. */
struct baseline_tree_stats {
    size_t tree_nodes, written_nodes, names;
    uint64_t samples, other_samples;
    size_t bytes;
};

/* Plans the call tree baseline_write would write for b; 0, or -1 when out of memory or b
 * keeps no stacks. */
int baseline_tree_stats(const struct baseline *b, struct baseline_tree_stats *out);

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
