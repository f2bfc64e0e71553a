/* dwarf_index.c — innermost-function lookup for one compilation unit.
 *
 * Walk: depth first through the DIEs that can hold functions (namespaces, classes, functions,
 * inlined subroutines, lexical blocks); every subprogram or inlined subroutine with code
 * ranges becomes an entry with its parent entry. Sweep: the ranges, sorted by start (outer
 * before inner), are flattened into disjoint segments, each naming its innermost entry.
 * Invariant: segments are sorted by start; an entry's ranges lie within its parent's (ranges
 * that violate nesting are clipped to it). */
#include "dwarf_index.h"

#include "profreg/array.h"

#include <dwarf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct entry {
    Dwarf_Die die;
    long parent;
    unsigned depth;
    void *slot;
};

struct range {
    Dwarf_Addr lo, hi;
    long entry;
    unsigned depth;
};

struct segment {
    Dwarf_Addr start;
    long entry; /* -1: no function here */
};

struct cu_index {
    struct entry *entries;
    size_t nentries, capentries;
    struct range *ranges;
    size_t nranges, capranges;
    struct segment *segments;
    size_t nsegments, capsegments;
};

static bool is_function(int tag)
{
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_entry_point;
}

/* DIEs whose children may include functions. */
static bool may_hold_functions(int tag)
{
    switch (tag) {
    case DW_TAG_compile_unit:
    case DW_TAG_partial_unit:
    case DW_TAG_namespace:
    case DW_TAG_module:
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_interface_type:
    case DW_TAG_subprogram:
    case DW_TAG_inlined_subroutine:
    case DW_TAG_entry_point:
    case DW_TAG_lexical_block:
    case DW_TAG_try_block:
    case DW_TAG_catch_block:
        return true;
    default:
        return false;
    }
}

static int add_function(struct cu_index *ix, Dwarf_Die *die, long parent, unsigned depth,
                        long *entry)
{
    *entry = -1;
    Dwarf_Addr base, start, end;
    ptrdiff_t off = 0;
    bool any = false;
    while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
        if (end <= start)
            continue;
        if (!any) {
            if (ARRAY_GROW(ix->entries, ix->nentries, ix->capentries) < 0)
                return -1;
            *entry = (long)ix->nentries;
            ix->entries[ix->nentries++] = (struct entry){*die, parent, depth, NULL};
            any = true;
        }
        if (ARRAY_GROW(ix->ranges, ix->nranges, ix->capranges) < 0)
            return -1;
        ix->ranges[ix->nranges++] = (struct range){start, end, *entry, depth};
    }
    return 0;
}

struct frame {
    Dwarf_Die die;
    long fn;        /* nearest enclosing function entry */
    unsigned depth; /* function nesting depth */
};

/* Depth-first walk of the CU, with an explicit stack. */
static int walk(struct cu_index *ix, Dwarf_Die *cudie)
{
    struct frame *stack = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (ARRAY_GROW(stack, n, cap) < 0)
        return -1;
    stack[n++] = (struct frame){*cudie, -1, 0};
    while (n > 0 && rc == 0) {
        struct frame f = stack[--n];
        Dwarf_Die child;
        if (dwarf_child(&f.die, &child) != 0)
            continue;
        do {
            int tag = dwarf_tag(&child);
            long fn = f.fn;
            unsigned depth = f.depth;
            if (is_function(tag) && !dwarf_hasattr(&child, DW_AT_declaration)) {
                long e;
                if (add_function(ix, &child, f.fn, f.depth + 1, &e) < 0) {
                    rc = -1;
                    break;
                }
                if (e >= 0) {
                    fn = e;
                    depth = f.depth + 1;
                }
            }
            if (may_hold_functions(tag) && dwarf_haschildren(&child)) {
                if (ARRAY_GROW(stack, n, cap) < 0) {
                    rc = -1;
                    break;
                }
                stack[n++] = (struct frame){child, fn, depth};
            }
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    free(stack);
    return rc;
}

static int cmp_range(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi > y->hi ? -1 : 1; /* outer first */
    return x->depth < y->depth ? -1 : x->depth > y->depth;
}

static int emit(struct cu_index *ix, Dwarf_Addr start, long entry)
{
    if (ix->nsegments > 0) {
        struct segment *last = &ix->segments[ix->nsegments - 1];
        if (last->start == start) {
            last->entry = entry;
            /* merge with the one before if it now names the same entry */
            if (ix->nsegments > 1 && ix->segments[ix->nsegments - 2].entry == entry)
                ix->nsegments--;
            return 0;
        }
        if (last->entry == entry)
            return 0;
    }
    if (ARRAY_GROW(ix->segments, ix->nsegments, ix->capsegments) < 0)
        return -1;
    ix->segments[ix->nsegments++] = (struct segment){start, entry};
    return 0;
}

/* Flattens nested ranges into disjoint segments naming the innermost entry. */
static int sweep(struct cu_index *ix)
{
    qsort(ix->ranges, ix->nranges, sizeof *ix->ranges, cmp_range);
    struct range *stack = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < ix->nranges; i++) {
        struct range r = ix->ranges[i];
        while (n > 0 && stack[n - 1].hi <= r.lo) {
            struct range done = stack[--n];
            if (emit(ix, done.hi, n > 0 ? stack[n - 1].entry : -1) < 0)
                goto oom;
        }
        if (n > 0 && r.hi > stack[n - 1].hi)
            r.hi = stack[n - 1].hi; /* keep proper nesting */
        if (ARRAY_GROW(stack, n, cap) < 0)
            goto oom;
        stack[n++] = r;
        if (emit(ix, r.lo, r.entry) < 0)
            goto oom;
    }
    while (n > 0) {
        struct range done = stack[--n];
        if (emit(ix, done.hi, n > 0 ? stack[n - 1].entry : -1) < 0)
            goto oom;
    }
    free(stack);
    free(ix->ranges);
    ix->ranges = NULL;
    ix->nranges = ix->capranges = 0;
    return 0;
oom:
    free(stack);
    return -1;
}

struct cu_index *cu_index_build(Dwarf_Die *cudie)
{
    struct cu_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    if (walk(ix, cudie) < 0 || sweep(ix) < 0) {
        cu_index_free(ix);
        return NULL;
    }
    return ix;
}

void cu_index_free(struct cu_index *ix)
{
    if (!ix)
        return;
    free(ix->entries);
    free(ix->ranges);
    free(ix->segments);
    free(ix);
}

long cu_index_lookup(const struct cu_index *ix, Dwarf_Addr pc)
{
    size_t lo = 0, hi = ix->nsegments; /* find the last segment with start <= pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->segments[mid].start <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? -1 : ix->segments[lo - 1].entry;
}

long cu_index_parent(const struct cu_index *ix, long i)
{
    return ix->entries[i].parent;
}

Dwarf_Die *cu_index_die(struct cu_index *ix, long i)
{
    return &ix->entries[i].die;
}

void **cu_index_slot(struct cu_index *ix, long i)
{
    return &ix->entries[i].slot;
}

size_t cu_index_size(const struct cu_index *ix)
{
    return ix->nentries;
}
