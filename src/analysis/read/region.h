/* SPDX-License-Identifier: MIT */
/* region.h — keeping only the samples of one region (--region NAME), for every command. */
#ifndef PROFREG_REGION_H
#define PROFREG_REGION_H

#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Does region path ("outer/inner") fall under name? name matches when its components appear
 * in the path as consecutive whole components: "outer" matches "outer" and "outer/inner",
 * "inner" matches "outer/inner", "outer/inner" matches "outer/inner/x"; "inn" matches none. */
bool region_matches(const char *path, const char *name);

/* Keeps only the stacks whose region matches name, then recounts every function from them
 * (functions left with no sample are dropped), total_samples and total_time_ms. The memory
 * section, which has no regions, is dropped. file names p in messages. Returns 0; or -1 with
 * one line in err when p has no stacks, or no region matches name (listing the regions it
 * has), or memory runs out. */
int profile_filter_region(struct pr_profile *p, const char *name, const char *file, char *err,
                          size_t errlen);

/* One row of the per-region view (report --by-region). */
struct region_row {
    const char *path; /* the profile's region path; NULL for the samples in no region */
    uint64_t samples; /* weighted samples in the region or in a region nested in it */
    uint64_t self;    /* weighted samples in the region itself, not in a nested one */
};

/* The rows of p's stacks: one per region path with samples, and a last one (path NULL) for the samples in
 * no region, when there are any; sorted by samples, descending (ties by path). *total is the
 * samples of every stack. The paths point into p. Returns 0, or -1 when memory runs out. */
int region_rows(const struct pr_profile *p, struct region_row **rows, size_t *nrows,
                uint64_t *total);

#endif
