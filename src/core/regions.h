/* SPDX-License-Identifier: MIT */
/* regions.h — giving a built profile's stacks the regions (profreg_region_begin) their samples
 * were taken in. */
#ifndef PROFREG_REGIONS_H
#define PROFREG_REGIONS_H

#include "core/profile.h"

#include <stddef.h>
#include <stdint.h>

/* One raw stack's share of a built stack: raw stack i became p->stacks[stack_of[i]] (as
 * profile_build_map reports), had count[i] samples, in region path names[i] (NULL: none). */
struct region_sample {
    uint32_t stack_of;
    uint64_t count;
    const char *name;
};

/* Splits p's stacks by region: every built stack becomes one stack per region its raw stacks
 * were in (in the order of p->stacks, then of first appearance), regions interned into
 * p->regions. Function counts do not change. 0, or -1 when out of memory (p unchanged). */
int profile_split_regions(struct pr_profile *p, const struct region_sample *raw, size_t nraw);

#endif
