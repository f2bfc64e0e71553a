/* SPDX-License-Identifier: MIT */
/* dwarf_index.h — per-compilation-unit index from code address to the innermost function
 * DIE (a subprogram or an inlined subroutine), and from there outwards through the DIEs the
 * compiler nested it in. Private to symbolize.c.
 *
 * Built as addresses ask: the CU's out-of-line functions with one walk that enters none of
 * them, then inside a function only the scopes an address passes through; after that a
 * lookup is a few binary searches instead of a walk of the unit (what dwarf_getscopes does). */
#ifndef PROFREG_DWARF_INDEX_H
#define PROFREG_DWARF_INDEX_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cu_index;

/* An out-of-line function's code range [lo, hi) (DWARF addresses) and its DIE's offset: the
 * table of a unit's functions that cu_index_build walks the unit for, kept across runs by
 * the symbol cache. */
struct cu_fn {
    uint64_t lo, hi, die;
};

/* Indexes the functions of the CU whose DIE is cudie. Returns NULL on allocation failure. */
struct cu_index *cu_index_build(Dwarf_Die *cudie);

/* The same from a table cu_index_table gave for this unit of the same file (deep: it holds
 * the functions defined inside functions too), without walking the unit. Entries the table
 * names wrongly (no function DIE at the offset) answer as if absent. */
struct cu_index *cu_index_from_table(Dwarf_Die *cudie, const struct cu_fn *fns, size_t n,
                                     bool deep);

/* The unit's function table as it stands (malloc'd into *fns), when it differs from the
 * table the index was built from (it was walked, or a deep walk added to it); else false. */
bool cu_index_table(const struct cu_index *ix, struct cu_fn **fns, size_t *n, bool *deep);

/* The table as it stands has been saved: cu_index_table says false until it changes again. */
void cu_index_mark_saved(struct cu_index *ix);

/* The bytes of .debug_info the walks for out-of-line functions read, [*lo, *hi) (NULL when
 * none): the caller may drop their pages once the walks are done. */
void cu_index_walked(const struct cu_index *ix, const void **lo, const void **hi);

/* The unit's source language (dwarf_srclang, asked once: libdw looks the attribute up in the
 * unit's DIE at every call). */
int cu_index_lang(struct cu_index *ix);

/* The unit's DIE (valid while the index lives). */
Dwarf_Die *cu_index_cu(struct cu_index *ix);

/* The offset of the unit's DIE: the key of its table. */
uint64_t cu_index_cu_offset(const struct cu_index *ix);
void cu_index_free(struct cu_index *ix);

/* The innermost function containing pc (a DWARF address, without load bias), or -1; when
 * range_lo/range_hi are not NULL, [*range_lo, *range_hi) is the range around pc that gets the
 * same answer (the same entry, so the same chain of parents; for -1, the gap between the
 * functions around pc, or pc alone when the gap's start is not known). May list scopes of the
 * function containing pc (earlier cu_index_die pointers then dangle). */
long cu_index_lookup(struct cu_index *ix, Dwarf_Addr pc, Dwarf_Addr *range_lo,
                     Dwarf_Addr *range_hi);

/* cu_index_lookup, but when no function of the first walk holds pc, the walk that enters
 * functions is made only with walk_deep: the caller knows whether pc can lie in a function
 * defined inside another (most addresses in no function are in code without a function DIE:
 * thunks, assembly). */
long cu_index_find(struct cu_index *ix, Dwarf_Addr pc, Dwarf_Addr *range_lo, Dwarf_Addr *range_hi,
                   bool walk_deep);

/* Has the walk that enters functions been made (or came its table saved so)? */
bool cu_index_walked_deep(const struct cu_index *ix);

/* The function the compiler nested entry i in (for an inlined subroutine: its caller), or -1. */
long cu_index_parent(const struct cu_index *ix, long i);

/* Is entry i an inlined subroutine (else an out-of-line function)? Known without its DIE. */
bool cu_index_inlined(const struct cu_index *ix, long i);

/* The DIE of entry i (valid while the Dwarf it came from is open); NULL when a saved table
 * named it wrongly. */
Dwarf_Die *cu_index_die(struct cu_index *ix, long i);

/* Per-entry slot for the caller's cached data (NULL until set). */
void **cu_index_slot(struct cu_index *ix, long i);

/* Number of function entries so far: an index made from a saved table makes a function's entry
 * when a lookup first lands in it (for tests). */
size_t cu_index_size(const struct cu_index *ix);

/* Number of the out-of-line functions' code ranges (for statistics). */
size_t cu_index_ranges(const struct cu_index *ix);

/* Number of DIEs the index has visited so far (for statistics). */
size_t cu_index_dies_walked(const struct cu_index *ix);

#endif
