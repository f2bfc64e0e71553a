/* SPDX-License-Identifier: MIT */
/* profile_build.h — raw sampled stacks (code addresses) -> a profile of functions.
 *
 * Pure apart from the resolver it is given: the preload passes the libdw symbolizer, tests
 * pass a table. Each distinct lookup address is resolved exactly once. */
#ifndef PROFREG_PROFILE_BUILD_H
#define PROFREG_PROFILE_BUILD_H

#include "core/profile.h"
#include "symbolize/symbolize.h"

#include <stddef.h>
#include <stdint.h>

/* Set on a captured address that is an exact program counter (the interrupted instruction,
 * or a frame interrupted by a signal): it is looked up as is. Any other address is a return
 * address and is looked up at address - 1, inside the call instruction. */
#define PB_EXACT_PC (UINT64_C(1) << 63)

/* One captured stack, leaf first, as the sampler stored it. */
struct pb_raw_stack {
    const uint64_t *pcs;
    uint32_t depth;
    uint64_t count; /* weighted samples */
};

/* Resolves a lookup address into functions, innermost first. Returns how many frames it
 * wrote (at most max), or 0 to leave the address out of the stacks (the profiler's own
 * frames). The strings of its frames must stay valid and unchanged until profile_build
 * returns: frames whose strings are at the very same addresses are one function. */
typedef size_t (*pb_resolve_fn)(void *ctx, uint64_t addr, struct sym_frame *out, size_t max);

/* Told every distinct lookup address (increasing) before the first is resolved, so that the
 * resolver may work ahead (symcache_prepare); addrs is valid during the call only. */
typedef void (*pb_prepare_fn)(void *ctx, const uint64_t *addrs, size_t n);

/* Name given to a sample none of whose frames could be kept. */
#define PB_EMPTY_STACK_NAME "[profreg]"

/* Resolves each distinct lookup address of the stacks once, in increasing address order.
 * Fills p->functions (sorted, unique names), p->stacks (merged, root first, with the
 * resolver's inlined marks in stacks[].inlined; never on the root), p->total_samples and the
 * percentages. A name with compiler clone suffixes counts under name_fold_clones() of it, the
 * first raw name kept in raw_name; a clone frame next to a frame of the same function is one
 * frame. Names that two different functions share get a " [module:file]" suffix. Returns 0,
 * or -1 with a message in err. */
int profile_build(struct pr_profile *p, const struct pb_raw_stack *stacks, size_t nstacks,
                  pb_resolve_fn resolve, void *ctx, char *err, size_t errlen);

/* profile_build, also telling where each raw stack went: stack_of[i] is the index in
 * p->stacks of the stack raw stack i became (stacks that became equal share one), and telling
 * prepare (may be NULL) the addresses first. */
int profile_build_map(struct pr_profile *p, const struct pb_raw_stack *stacks, size_t nstacks,
                      pb_resolve_fn resolve, pb_prepare_fn prepare, void *ctx, uint32_t *stack_of,
                      char *err, size_t errlen);

#endif
