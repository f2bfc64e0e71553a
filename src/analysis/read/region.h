/* SPDX-License-Identifier: MIT */
/* region.h — keeping only the samples of one region (--region NAME), for every command. */
#ifndef PROFREG_REGION_H
#define PROFREG_REGION_H

#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>

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

#endif
