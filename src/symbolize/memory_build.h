/* SPDX-License-Identifier: MIT */
/* memory_build.h — sampled allocation stacks (code addresses) -> a profile's memory section.
 *
 * Pure apart from the resolver, as profile_build.h: the preload passes the symbol cache in
 * front of the libdw symbolizer, tests pass a table. */
#ifndef PROFREG_MEMORY_BUILD_H
#define PROFREG_MEMORY_BUILD_H

#include "core/memory.h"
#include "symbolize/profile_build.h"

#include <stddef.h>
#include <stdint.h>

/* One sampled allocation stack as the preload stored it: return addresses, leaf first (the
 * call into the allocator first), with the figures of the allocations sampled there. */
struct mb_raw_stack {
    const uint64_t *pcs;
    uint32_t depth;
    uint64_t v[MEM_NMETRICS];
};

/* Fills m's functions and stacks (m's whole-run figures are the caller's): names as
 * profile_build gives them, the allocator's entry points (operator new ...) cut from the
 * allocating end, figures summed per resulting stack, then counted (memory_recount). Returns
 * 0, or -1 with a message in err (m then has no functions or stacks). */
int memory_build(struct pr_memory *m, const struct mb_raw_stack *raw, size_t n,
                 pb_resolve_fn resolve, void *ctx, char *err, size_t errlen);

#endif
