/* SPDX-License-Identifier: MIT */
/* history.h — performance history across commits: one JSON line per CI invocation (what
 * `profreg-ci --history FILE` appends with `profreg history append`), read back into series,
 * and the points where a series stepped. Format: docs/formats.md#history-lines. */
#ifndef PROFREG_HISTORY_H
#define PROFREG_HISTORY_H

#include "analysis/judge/average.h"
#include "analysis/judge/testattr.h"

#include <stddef.h>
#include <stdio.h>

/* One function's shares in one record (percent of the runs' samples, averaged). */
struct hist_fn {
    char *name;
    double total, self; /* self: NAN when the runs had no self counts */
};

/* One test's CPU time in one record (gtest, Google Benchmark, Catch2: testattr.h). */
struct hist_test {
    char *name;
    double ms, sd; /* mean CPU milliseconds a run, and their run-to-run sd */
};

/* One invocation. Strings may be NULL (unknown); numbers NAN when unknown. */
struct hist_record {
    char *executable, *commit, *branch, *date; /* date: ISO 8601 UTC */
    int dirty;                                 /* 1, 0, or -1 unknown */
    unsigned runs;
    double wall_ms, wall_sd, cpu_ms, cpu_sd, rss_kb, rss_sd; /* medians and run-to-run sd */
    struct hist_fn *fns; /* the top functions by total share, then by self share */
    size_t nfns;
    struct hist_test *tests; /* the heaviest recognised tests (none: not a test program) */
    size_t ntests;
};

/* Fills r's measurements from runs averaged (the top `top` functions by total share and by
 * self share, each listed once). 0, or -1 when out of memory. */
int history_record_from_avg(struct hist_record *r, const struct avg_profile *a, size_t top);

/* Adds the `top` heaviest recognised tests of t. 0, or -1 when out of memory. */
int history_record_add_tests(struct hist_record *r, const struct test_profile *t, size_t top);

/* Writes r as one line of JSON, newline included. 0, or -1 on a write error. */
int history_write_line(FILE *f, const struct hist_record *r);

/* Parses one line (modified in place) into r. 0, or -1 with a one-line reason in err. */
int history_parse_line(char *line, size_t len, struct hist_record *r, char *err, size_t errlen);

void history_record_free(struct hist_record *r);

/* A step of a series: the level changes at element `index` (the first of the new level). */
struct change_point {
    size_t index;
    double before, after; /* the means of the segments on either side */
};

/* The steps of x[0..n): binary segmentation, each split the one with the largest two-sample
 * t statistic, kept when significant at 0.1 % after a Bonferroni correction over the splits
 * tried and the level moves by at least min_rel (relative, e.g. 0.02). NAN elements are
 * skipped (a step is placed at the next known one). Sorted by index; at most max. */
size_t history_change_points(const double *x, size_t n, double min_rel, struct change_point *out,
                             size_t max);

#endif
