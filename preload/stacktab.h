/* SPDX-License-Identifier: MIT */
/* stacktab.h — preallocated, lock-free table of captured call stacks.
 *
 * Written from the SIGPROF handler of any thread at once (insert is wait-free: atomics,
 * no locks, no allocation); read once, after sampling stopped. Equal stacks share one
 * entry and add up their weights; a stack that finds no room is counted as lost, never
 * dropped silently.
 *
 * Reading is safe even while an insert still runs (a handler the exit's wait for handlers in
 * flight gave up on, or one a fork from a signal handler left halfway in the copy): an entry
 * is published by a release store of its state after its frames, depth and count are
 * written, readers take only published entries (acquire), and a published entry's frames
 * never change. Unpublished entries are skipped and counted (stacktab_foreach). */
#ifndef PROFREG_STACKTAB_H
#define PROFREG_STACKTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Average frames per distinct stack that the frame pool is sized for. */
#define STACKTAB_AVG_DEPTH 48

struct stacktab;

/* Maps memory for max_stacks distinct stacks (pages are touched only when used).
 * Returns NULL on failure. Not for the handler. */
struct stacktab *stacktab_create(size_t max_stacks);
void stacktab_destroy(struct stacktab *t);

/* Adds one sample of weight `weight` for the stack pcs[0..depth) (leaf first).
 * Returns 0, or -1 when it did not fit (its weight is added to the lost count). */
int stacktab_insert(struct stacktab *t, const uint64_t *pcs, uint32_t depth, uint64_t weight);

/* stacktab_insert, returning the stack's slot number (below stacktab_capacity(t): for values
 * kept per stack beside the table), or -1 when it did not fit; *added tells whether the stack
 * was new. Wait-free as stacktab_insert. */
long stacktab_insert_slot(struct stacktab *t, const uint64_t *pcs, uint32_t depth, uint64_t weight,
                          bool *added);

/* Number of slots (slot numbers are below it). */
size_t stacktab_capacity(const struct stacktab *t);

/* The frames (leaf first) of the complete stack in a slot, with its depth and count; NULL when
 * the slot holds none. */
const uint64_t *stacktab_slot(const struct stacktab *t, size_t slot, uint32_t *depth,
                              uint64_t *count);

/* How many slots inserts have claimed so far (finished or not), and the slot of the u-th of
 * them in the order they were claimed, or -1 while its insert has not noted it yet. Atomic
 * loads only: safe in the handler and beside inserts. */
size_t stacktab_claimed(const struct stacktab *t);
long stacktab_claimed_slot(const struct stacktab *t, size_t u);

/* Calls fn for every published entry, in the order the entries were first inserted (it visits
 * the entries, not every slot of the table); returns how many entries it skipped because their
 * insert had not finished (0 once no insert runs any more). A count may still grow after fn
 * saw it (an insert adding to a published entry). Not for the handler. */
size_t stacktab_foreach(const struct stacktab *t,
                        void (*fn)(const uint64_t *pcs, uint32_t depth, uint64_t count, void *ctx),
                        void *ctx);

/* Weight of the samples that did not fit; number of distinct stacks stored. */
uint64_t stacktab_lost(const struct stacktab *t);
size_t stacktab_distinct(const struct stacktab *t);

/* Empties the table (used in a forked child). No insert may run concurrently. */
void stacktab_reset(struct stacktab *t);

#endif
