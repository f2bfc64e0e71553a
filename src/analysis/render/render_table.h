/* SPDX-License-Identifier: MIT */
/* render_table.h — the ranked function table that `profreg report` prints. */
#ifndef PROFREG_RENDER_TABLE_H
#define PROFREG_RENDER_TABLE_H

#include "core/memory.h"
#include "core/profile.h"
#include "analysis/render/term.h"

#include <stdbool.h>
#include <stdio.h>

struct report_options {
    size_t top;    /* rows to print (0: all) */
    bool by_self;  /* rank by self samples instead of inclusive samples */
    int width;     /* total line width; long names are shortened in the middle */
    size_t nfiles; /* how many profiles were merged into p */
    struct term_style style;
};

/* Prints a header, the table (rank, name, samples, %, self %, source) and the top hotspot. */
void render_report(FILE *out, const struct pr_profile *p, const struct report_options *o);

/* Prints a memory section (memory.h) as a table: estimated bytes allocated (inclusive and
 * self), allocations, bytes live at the peak and at exit, source; ranked by `sort` (inclusive,
 * or self with o->by_self), and the top allocator (largest self figure of `sort`). meta gives
 * the executable. */
void render_memory_report(FILE *out, const struct pr_profile *meta, const struct pr_memory *m,
                          enum pr_mem_metric sort, const struct report_options *o);

/* Prints the per-region view (report --by-region): each region path's samples, with those
 * of its nested regions (total %) and without them (self %), and the samples in no region;
 * rows from region_rows (region.h), total their sum. */
struct region_row;
void render_regions(FILE *out, const struct pr_profile *p, const struct region_row *rows,
                    size_t nrows, uint64_t total, const struct report_options *o);

/* The function with the largest self share (or inclusive share when the profile has no
 * self counts), or -1 when the profile is empty. */
long report_hotspot(const struct pr_profile *p);

#endif
