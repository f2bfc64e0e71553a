/* SPDX-License-Identifier: MIT */
/* dwarf_index.c — innermost-function lookup for one compilation unit, built as addresses ask.
 *
 * Two levels, so that the work follows what was sampled, not the size of the unit:
 *  - the unit's out-of-line functions: one walk of the unit and its namespaces, recording each
 *    subprogram with code and never entering one (a C++ unit's DIEs are mostly the parameters,
 *    call sites and inline trees of its functions, and the members of its classes). The few
 *    functions defined inside another (a lambda's operator(), a local class's member) are found
 *    by a second walk that enters functions, made only when an address of the unit falls in no
 *    function of the first;
 *  - inside a function, a lazy tree of scopes: a scope's children with code (inlined
 *    subroutines, lexical blocks) are listed, sorted by address, the first time an address
 *    passes through it; an address then descends by binary searches to its innermost scope.
 * Each answer comes with the range of addresses around it that get the same answer.
 * Invariant: every entry is a subprogram or an inlined subroutine, created once per DIE; the
 * children ranges of a scope are sorted by start and do not overlap (overlapping ones, broken
 * DWARF, are dropped). */
#include "symbolize/dwarf_index.h"

#include "symbolize/dwarf_raw.h"

#include "core/array.h"
#include "core/hashmap.h"

#include <dwarf.h>
#include <gelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    Dwarf_Die die; /* valid when die.addr is set; else read at off when first asked */
    Dwarf_Off off;
    long parent;
    void *slot;
    long scope; /* its scope node, -1 until an address descends into it */
};

/* A code range: an out-of-line function's (ref: its entry; or ~offset of its DIE, negative, for
 * a function of a saved table that no lookup has reached yet) or a scope's child's (ref: the
 * child, in cu_index.kidv). */
struct range {
    Dwarf_Addr lo, hi;
    long ref;
};

/* A scope with code: a function, an inlined subroutine or a block, and its children with
 * code. */
struct scope {
    Dwarf_Die die;
    long entry;         /* the innermost function entry this scope is or lies in */
    struct range *kids; /* sorted by lo; NULL until listed */
    size_t nkids;
    bool listed;
};

/* A child with code of a listed scope: made a scope (and an inlined subroutine an entry) only
 * when a lookup descends into it; of a scope's children, a lookup enters one. */
struct kid {
    Dwarf_Die die;
    long entry; /* the entry its parent scope is or lies in */
    long scope; /* -1 until descended into */
    bool inlined;
};

struct cu_index {
    Dwarf_Die cu;
    Dwarf *dbg;
    struct entry *entries;
    size_t nentries, capentries;
    struct range *outer; /* the out-of-line functions' ranges, sorted by lo */
    size_t nouter, capouter;
    bool deep;    /* the walk that enters functions was made */
    bool changed; /* outer differs from the table it was built from (cu_index_table) */
    struct scope *scopes;
    size_t nscopes, capscopes;
    struct kid *kidv;
    size_t nkidv, capkidv;
    struct hmap entry_map; /* DIE address -> entry index (inlined subroutines) */
    struct hmap saved_map; /* DIE offset -> entry index (functions of a saved table) */
    size_t dies_walked;
    const char *span_lo, *span_hi; /* the DIE bytes the walks read: [lo, hi) */
    int lang; /* dwarf_srclang of the unit, once have_lang */
    bool have_lang;
};

static bool has_code_tag(int tag)
{
    return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block ||
           tag == DW_TAG_try_block || tag == DW_TAG_catch_block;
}

static long new_entry(struct cu_index *ix, Dwarf_Die *die, long parent)
{
    if (ARRAY_GROW(ix->entries, ix->nentries, ix->capentries) < 0)
        return -1;
    ix->entries[ix->nentries] = (struct entry){*die, dwarf_dieoffset(die), parent, NULL, -1};
    return (long)ix->nentries++;
}

/* An out-of-line function known by its DIE's offset only (from a saved table). */
static long new_entry_at(struct cu_index *ix, Dwarf_Off off)
{
    if (ARRAY_GROW(ix->entries, ix->nentries, ix->capentries) < 0)
        return -1;
    ix->entries[ix->nentries] = (struct entry){{0}, off, -1, NULL, -1};
    return (long)ix->nentries++;
}

/* Records an out-of-line function with code. */
static int add_outer(struct cu_index *ix, Dwarf_Die *die)
{
    Dwarf_Addr base, lo, hi;
    ptrdiff_t off = 0;
    long e = -1;
    while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
        if (hi <= lo)
            continue;
        if (e < 0 && (e = new_entry(ix, die, -1)) < 0)
            return -1;
        if (ARRAY_GROW(ix->outer, ix->nouter, ix->capouter) < 0)
            return -1;
        ix->outer[ix->nouter++] = (struct range){lo, hi, e};
    }
    return 0;
}

/* DIEs whose children may define an out-of-line function: namespaces; with deep, also
 * functions, their blocks and their local classes. */
enum definer { DEFINES_NONE, DEFINES_ALWAYS, DEFINES_DEEP, DEFINES_DEEP_IN_FUNCTION };

/* Which DIEs of a tag may define an out-of-line function among their children (for
 * may_define_functions; asked for every DIE a walk visits: a table, not a switch). */
static const uint8_t definers[] = {
    [DW_TAG_compile_unit] = DEFINES_ALWAYS,
    [DW_TAG_partial_unit] = DEFINES_ALWAYS,
    [DW_TAG_namespace] = DEFINES_ALWAYS,
    [DW_TAG_module] = DEFINES_ALWAYS,
    [DW_TAG_subprogram] = DEFINES_DEEP,
    [DW_TAG_entry_point] = DEFINES_DEEP,
    [DW_TAG_lexical_block] = DEFINES_DEEP,
    [DW_TAG_try_block] = DEFINES_DEEP,
    [DW_TAG_catch_block] = DEFINES_DEEP,
    [DW_TAG_class_type] = DEFINES_DEEP_IN_FUNCTION,
    [DW_TAG_structure_type] = DEFINES_DEEP_IN_FUNCTION,
    [DW_TAG_union_type] = DEFINES_DEEP_IN_FUNCTION,
    [DW_TAG_interface_type] = DEFINES_DEEP_IN_FUNCTION,
};

static enum definer definer_of(int tag)
{
    return tag >= 0 && (size_t)tag < sizeof definers ? (enum definer)definers[tag] : DEFINES_NONE;
}

static inline bool defines_functions(enum definer d, bool deep, bool in_function)
{
    return d == DEFINES_ALWAYS || (d == DEFINES_DEEP && deep) ||
           (d == DEFINES_DEEP_IN_FUNCTION && deep && in_function);
}

static inline bool may_define_functions(int tag, bool deep, bool in_function)
{
    return defines_functions(definer_of(tag), deep, in_function);
}

struct frame {
    Dwarf_Die die;
    bool in_function;
};

static int walk_outer_libdw(struct cu_index *ix, bool deep);

/* ---- the walk over the raw DIEs ------------------------------------------------------------
 * The unit walks and the scope listings read each DIE's abbreviation code and step over its
 * attributes by their forms (or jump by DW_AT_sibling), instead of dwarf_siblingof and
 * dwarf_tag, which look the abbreviation up and decode every attribute again per DIE. The
 * abbreviations themselves come from libdw, a code at a time as DIEs use them. They visit the
 * same DIEs in the same order as the walk and the listing through libdw below, which take
 * over where they cannot read (a form they do not know, a split or type unit). */

/* add_outer for the DIE at p (attributes ending at after), its own low and high pc or its
 * DW_AT_ranges list read in place when they can be; anything else goes to dwarf_ranges. */
static int add_outer_raw(struct cu_index *ix, struct dwraw_unit *u, const struct dwraw_abbrev *a,
                         const unsigned char *p, const unsigned char *after, Dwarf_Die *die)
{
    struct dwraw_range one, *list = NULL;
    const struct dwraw_range *r = &one;
    size_t n = 0, cap = 0;
    if (dwraw_pc_range(u, a, p, after, &one.lo, &one.hi))
        n = 1;
    else if (dwraw_ranges(u, a, p, after, &list, &n, &cap))
        r = list;
    else
        return add_outer(ix, die);
    int rc = 0;
    long e = -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (r[i].hi <= r[i].lo)
            continue;
        if ((e < 0 && (e = new_entry(ix, die, -1)) < 0) ||
            ARRAY_GROW(ix->outer, ix->nouter, ix->capouter) < 0)
            rc = -1;
        else
            ix->outer[ix->nouter++] = (struct range){r[i].lo, r[i].hi, e};
    }
    free(list);
    return rc;
}

struct raw_frame {
    const unsigned char *kids; /* the first child */
    bool in_function;
};

/* walk_outer over the raw DIEs; -1: out of memory; -2: cannot read the unit here (nothing
 * added). */
static int walk_outer_raw(struct cu_index *ix, bool deep)
{
    struct dwraw_unit u;
    if (!dwraw_open(&u, &ix->cu, ix->dbg)) {
        dwraw_close(&u);
        return -2;
    }
    size_t nentries = ix->nentries, nouter = ix->nouter, dies = 0;
    const char *lo = ix->span_lo, *hi = ix->span_hi; /* kept here, not in ix, while walking */
    struct raw_frame *stack = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    const unsigned char *p = (const unsigned char *)ix->cu.addr;
    const struct dwraw_abbrev *a;
    const unsigned char *sib;
    if (!dwraw_die(&u, &p, &a, &sib) || !a) {
        rc = -2;
        goto out;
    }
    if (a->children) {
        if (ARRAY_GROW(stack, n, cap) < 0) {
            rc = -1;
            goto out;
        }
        stack[n++] = (struct raw_frame){p, false};
    }
    while (n > 0 && rc == 0) {
        struct raw_frame f = stack[--n];
        for (p = f.kids; rc == 0;) {
            const unsigned char *at = p, *after = p;
            if (at >= u.end || !dwraw_die(&u, &after, &a, &sib)) {
                rc = -2;
                break;
            }
            if (!a)
                break; /* the end of the siblings */
            dies++;
            const char *c = (const char *)at;
            if (!lo || c < lo)
                lo = c;
            if (c >= hi)
                hi = c + 1;
            bool fn = a->function;
            /* a DIE with neither DW_AT_low_pc, DW_AT_high_pc nor DW_AT_ranges has no code
             * (dwarf_ranges reads these of the DIE itself): an abstract instance, a template */
            if (fn && (!deep || f.in_function) && !a->declaration &&
                (a->has_lo || a->has_hi || a->has_ranges)) {
                Dwarf_Die die;
                Dwarf_Off off = (Dwarf_Off)(at - u.section);
                if (!dwarf_offdie(ix->dbg, off, &die) || die.addr != (void *)at) {
                    rc = -2;
                    break;
                }
                if (add_outer_raw(ix, &u, a, at, after, &die) < 0) {
                    rc = -1;
                    break;
                }
            }
            /* libdw's dwarf_haschildren: the flag, and a first child that is no null entry */
            if (a->children && may_define_functions((int)a->tag, deep, f.in_function) &&
                after < u.end && *after != 0) {
                if (ARRAY_GROW(stack, n, cap) < 0) {
                    rc = -1;
                    break;
                }
                stack[n++] = (struct raw_frame){after, f.in_function || fn};
            }
            if (!dwraw_next(&u, at, after, a, sib, &p))
                rc = -2;
        }
    }
out:
    if (rc == -2) { /* undo: the walk through libdw starts afresh */
        ix->nentries = nentries;
        ix->nouter = nouter;
    } else {
        ix->dies_walked += dies;
        ix->span_lo = lo;
        ix->span_hi = hi;
    }
    free(stack);
    dwraw_close(&u);
    return rc;
}

/* Walks the unit for its out-of-line functions; deep: only those defined inside functions
 * (the others are known). */
static int walk_outer(struct cu_index *ix, bool deep)
{
    int raw = walk_outer_raw(ix, deep);
    if (raw != -2)
        return raw;
    return walk_outer_libdw(ix, deep);
}

/* The same walk through libdw. */
static int walk_outer_libdw(struct cu_index *ix, bool deep)
{
    struct frame *stack = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (ARRAY_GROW(stack, n, cap) < 0)
        return -1;
    stack[n++] = (struct frame){ix->cu, false};
    while (n > 0 && rc == 0) {
        struct frame f = stack[--n];
        Dwarf_Die child;
        if (dwarf_child(&f.die, &child) != 0)
            continue;
        do {
            ix->dies_walked++;
            const char *at = child.addr;
            if (!ix->span_lo || at < ix->span_lo)
                ix->span_lo = at;
            if (at >= ix->span_hi)
                ix->span_hi = at + 1;
            int tag = dwarf_tag(&child);
            bool fn = tag == DW_TAG_subprogram || tag == DW_TAG_entry_point;
            if (fn && (!deep || f.in_function) && !dwarf_hasattr(&child, DW_AT_declaration) &&
                add_outer(ix, &child) < 0) {
                rc = -1;
                break;
            }
            if (may_define_functions(tag, deep, f.in_function) && dwarf_haschildren(&child)) {
                if (ARRAY_GROW(stack, n, cap) < 0) {
                    rc = -1;
                    break;
                }
                stack[n++] = (struct frame){child, f.in_function || fn};
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
    return x->hi < y->hi ? -1 : x->hi > y->hi; /* the inner of two at one start first */
}

static inline bool range_before(const struct range *x, const struct range *y)
{
    return x->lo < y->lo || (x->lo == y->lo && x->hi < y->hi);
}

/* Sorts v[0..n) by cmp_range, keeping equal ones in order as qsort (glibc's merge sort)
 * does, without qsort's call per comparison: runs of 32 by insertion (a scope's children
 * mostly fit in one), then merged pairwise through a buffer (qsort itself when there is no
 * memory for one). A unit's functions took qsort 5.1 M instructions in the first exit of
 * assimp's tests. */
static void sort_ranges(struct range *v, size_t n)
{
    for (size_t at = 0; at < n; at += 32) {
        size_t end = n - at < 32 ? n : at + 32;
        for (size_t i = at + 1; i < end; i++) {
            struct range r = v[i];
            size_t j = i;
            for (; j > at && range_before(&r, &v[j - 1]); j--)
                v[j] = v[j - 1];
            v[j] = r;
        }
    }
    if (n <= 32)
        return;
    struct range *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
        array_sort(v, n, sizeof *v, cmp_range);
        return;
    }
    struct range *from = v, *to = tmp;
    for (size_t width = 32; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = n - lo < width ? n : lo + width;
            size_t hi = n - mid < width ? n : mid + width;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                to[k++] = range_before(&from[j], &from[i]) ? from[j++] : from[i++];
            while (i < mid)
                to[k++] = from[i++];
            while (j < hi)
                to[k++] = from[j++];
        }
        struct range *t = from;
        from = to;
        to = t;
    }
    if (from != v)
        memcpy(v, from, n * sizeof *v);
    free(tmp);
}

/* Index of the first of v[0..n) (sorted by lo) that starts after pc. */
static size_t first_after(const struct range *v, size_t n, Dwarf_Addr pc)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct cu_index *new_index(Dwarf_Die *cudie)
{
    struct cu_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    ix->cu = *cudie;
    ix->dbg = dwarf_cu_getdwarf(cudie->cu);
    hmap_init(&ix->entry_map);
    hmap_init(&ix->saved_map);
    return ix;
}

struct cu_index *cu_index_build(Dwarf_Die *cudie)
{
    struct cu_index *ix = new_index(cudie);
    if (!ix)
        return NULL;
    if (walk_outer(ix, false) < 0) {
        cu_index_free(ix);
        return NULL;
    }
    sort_ranges(ix->outer, ix->nouter);
    ix->changed = true;
    return ix;
}

/* The index of a saved table: its ranges as they are, each function's entry made when a lookup
 * first lands in it (outer_entry). Making every function's entry up front (a table of the
 * DIE offsets to number each function once, and the entries) was 5-17 us a unit, 0.5-2.2 ms of
 * a cached exit on assimp's tests, which opens some 110 units with 12,000 functions for a few
 * hundred lookups. */
struct cu_index *cu_index_from_table(Dwarf_Die *cudie, const struct cu_fn *fns, size_t n,
                                     bool deep)
{
    struct cu_index *ix = new_index(cudie);
    if (!ix)
        return NULL;
    Dwarf_Off culo = dwarf_dieoffset(cudie);
    if (n && !(ix->outer = malloc(n * sizeof *ix->outer))) {
        cu_index_free(ix);
        return NULL;
    }
    ix->capouter = n;
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        if (fns[i].hi <= fns[i].lo || fns[i].die <= culo || fns[i].die > (uint64_t)LONG_MAX)
            continue; /* not a function of this unit: a damaged table */
        struct range r = {fns[i].lo, fns[i].hi, ~(long)fns[i].die};
        /* a stored table is written in this order: sorted again only when it is not */
        sorted = sorted && (ix->nouter == 0 || cmp_range(&ix->outer[ix->nouter - 1], &r) <= 0);
        ix->outer[ix->nouter++] = r;
    }
    if (!sorted)
        sort_ranges(ix->outer, ix->nouter);
    ix->deep = deep;
    return ix;
}

/* The entry of the out-of-line function of outer range i, made on the first lookup there for
 * a function of a saved table (one entry for all the ranges of a function); -1 when out of
 * memory. */
static long outer_entry(struct cu_index *ix, size_t i)
{
    long ref = ix->outer[i].ref;
    if (ref >= 0)
        return ref;
    uint64_t off = (uint64_t)~ref;
    uint32_t e;
    if (!hmap_get(&ix->saved_map, &off, sizeof off, &e)) {
        long made = new_entry_at(ix, off);
        if (made < 0 || made > (long)UINT32_MAX ||
            hmap_intern(&ix->saved_map, &off, sizeof off, (uint32_t)made, &e) < 0)
            return -1;
    }
    ix->outer[i].ref = (long)e;
    return (long)e;
}

bool cu_index_table(const struct cu_index *ix, struct cu_fn **fns, size_t *n, bool *deep)
{
    *fns = NULL;
    *n = 0;
    *deep = ix->deep;
    if (!ix->changed)
        return false;
    if (ix->nouter && !(*fns = malloc(ix->nouter * sizeof **fns)))
        return false;
    for (size_t i = 0; i < ix->nouter; i++)
        (*fns)[i] = (struct cu_fn){ix->outer[i].lo, ix->outer[i].hi,
                                   ix->outer[i].ref < 0 ? (uint64_t)~ix->outer[i].ref
                                                        : ix->entries[ix->outer[i].ref].off};
    *n = ix->nouter;
    return true;
}

void cu_index_free(struct cu_index *ix)
{
    if (!ix)
        return;
    free(ix->entries);
    free(ix->outer);
    for (size_t i = 0; i < ix->nscopes; i++)
        free(ix->scopes[i].kids);
    free(ix->scopes);
    free(ix->kidv);
    hmap_free(&ix->entry_map);
    hmap_free(&ix->saved_map);
    free(ix);
}

/* The out-of-line function whose range holds pc (the index of that range in outer), narrowing
 * [*vlo, *vhi) to that range and away from the functions around it; -1 when none. */
static long find_outer(const struct cu_index *ix, Dwarf_Addr pc, Dwarf_Addr *vlo, Dwarf_Addr *vhi)
{
    size_t lo = first_after(ix->outer, ix->nouter, pc);
    if (lo < ix->nouter && ix->outer[lo].lo < *vhi)
        *vhi = ix->outer[lo].lo;
    /* ranges that start at or before pc: the nearest that holds it (nesting is rare: a
     * function inside another's range only in broken DWARF) */
    long found = -1;
    for (size_t i = lo; i-- > 0;) {
        const struct range *r = &ix->outer[i];
        if (pc < r->hi) {
            if (found < 0) {
                found = (long)i;
                if (r->lo > *vlo)
                    *vlo = r->lo;
                if (r->hi < *vhi)
                    *vhi = r->hi;
            }
        } else if (found < 0 && r->hi > *vlo) {
            *vlo = r->hi;
        }
        if (found >= 0)
            break;
        if (lo - i > 64) {
            /* not found, and the ranges before may still reach past pc: the gap starts at pc */
            *vlo = pc > *vlo ? pc : *vlo;
            break;
        }
    }
    return found;
}

static long new_scope(struct cu_index *ix, Dwarf_Die *die, long entry)
{
    if (ARRAY_GROW(ix->scopes, ix->nscopes, ix->capscopes) < 0)
        return -1;
    ix->scopes[ix->nscopes] = (struct scope){*die, entry, NULL, 0, false};
    return (long)ix->nscopes++;
}

/* A code range [lo, hi) of child among a scope's children; its record (*kid, in kidv) made on
 * its first non-empty range. */
static int add_kid_range(struct cu_index *ix, Dwarf_Die *child, int tag, long entry, long *kid,
                         Dwarf_Addr lo, Dwarf_Addr hi, struct range **kids, size_t *n, size_t *cap)
{
    if (hi <= lo)
        return 0;
    if (*kid < 0) {
        if (ARRAY_GROW(ix->kidv, ix->nkidv, ix->capkidv) < 0)
            return -1;
        ix->kidv[ix->nkidv] = (struct kid){*child, entry, -1, tag == DW_TAG_inlined_subroutine};
        *kid = (long)ix->nkidv++;
    }
    if (ARRAY_GROW(*kids, *n, *cap) < 0)
        return -1;
    (*kids)[(*n)++] = (struct range){lo, hi, *kid};
    return 0;
}

/* One child with code of a scope (in entry), recorded with its ranges (have_range: r[0 ..
 * nr), read in place; else dwarf_ranges). */
static int add_kid(struct cu_index *ix, Dwarf_Die *child, int tag, long entry, bool have_range,
                   const struct dwraw_range *r, size_t nr, struct range **kids, size_t *n,
                   size_t *cap)
{
    long kid = -1;
    for (size_t i = 0; have_range && i < nr; i++)
        if (add_kid_range(ix, child, tag, entry, &kid, r[i].lo, r[i].hi, kids, n, cap) < 0)
            return -1;
    if (have_range)
        return 0;
    Dwarf_Addr base, lo, hi;
    ptrdiff_t off = 0;
    while ((off = dwarf_ranges(child, off, &base, &lo, &hi)) > 0)
        if (add_kid_range(ix, child, tag, entry, &kid, lo, hi, kids, n, cap) < 0)
            return -1;
    return 0;
}

/* The scope of kid i, made when a lookup first descends into it (an inlined subroutine's
 * entry too: one per DIE, even when a broken parent chain lists it twice); -1: out of
 * memory. */
static long kid_scope(struct cu_index *ix, long i)
{
    if (ix->kidv[i].scope >= 0)
        return ix->kidv[i].scope;
    struct kid k = ix->kidv[i];
    long e = k.entry;
    if (k.inlined) {
        uint32_t idx;
        if (hmap_get(&ix->entry_map, &k.die.addr, sizeof k.die.addr, &idx)) {
            e = (long)idx;
        } else {
            if ((e = new_entry(ix, &k.die, k.entry)) < 0 ||
                hmap_intern(&ix->entry_map, &k.die.addr, sizeof k.die.addr, (uint32_t)e, &idx) < 0)
                return -1;
        }
    }
    long sc = new_scope(ix, &k.die, e);
    if (sc >= 0)
        ix->kidv[i].scope = sc;
    return sc;
}

/* A child with code as the raw reader saw it. */
struct raw_kid {
    const unsigned char *at;
    int tag;
    bool have_range;  /* its ranges read in place: low and high pc, or DW_AT_ranges */
    size_t first, nr; /* they are ranges[first .. first + nr) of the listing */
};

/* The children with code of the scope DIE parent over the raw DIEs, as list_kids_libdw lists
 * them; -2 when the raw reader cannot (then nothing was added). */
static int list_kids_raw(struct cu_index *ix, Dwarf_Die *parent, long entry, struct range **kids,
                         size_t *n, size_t *cap)
{
    struct dwraw_unit u;
    if (!dwraw_open(&u, &ix->cu, ix->dbg)) {
        dwraw_close(&u);
        return -2;
    }
    const unsigned char *p = parent->addr, *after = p, *sib;
    const struct dwraw_abbrev *a;
    struct raw_kid *found = NULL;
    struct dwraw_range *ranges = NULL;
    size_t nfound = 0, capfound = 0, dies = 0, nranges = 0, capranges = 0;
    int rc = 0;
    if (p < u.start || p >= u.end || !dwraw_die(&u, &after, &a, &sib) || !a) {
        rc = -2;
    } else if (a->children) {
        /* read them all first: a DIE the reader cannot read sends the scope to libdw whole */
        for (p = after; rc == 0;) {
            const unsigned char *at = p;
            after = p;
            if (at >= u.end || !dwraw_die(&u, &after, &a, &sib)) {
                rc = -2;
                break;
            }
            if (!a)
                break;
            dies++;
            if (has_code_tag((int)a->tag)) {
                if (ARRAY_GROW(found, nfound, capfound) < 0) {
                    rc = -1;
                    break;
                }
                struct raw_kid *f = &found[nfound++];
                *f = (struct raw_kid){at, (int)a->tag, false, nranges, 0};
                struct dwraw_range one;
                if (!a->has_ranges && !(a->has_lo && a->has_hi)) {
                    /* no code of its own (as dwarf_ranges finds, which would read the
                     * abbreviations through libdw for it) */
                    f->have_range = true;
                } else if (dwraw_pc_range(&u, a, at, after, &one.lo, &one.hi)) {
                    f->have_range = ARRAY_GROW(ranges, nranges, capranges) == 0;
                    if (!f->have_range) {
                        rc = -1;
                        break;
                    }
                    ranges[nranges++] = one;
                } else {
                    f->have_range = dwraw_ranges(&u, a, at, after, &ranges, &nranges, &capranges);
                }
                f->nr = nranges - f->first;
            }
            if (!dwraw_next(&u, at, after, a, sib, &p))
                rc = -2;
        }
    }
    dwraw_close(&u);
    for (size_t i = 0; i < nfound && rc == 0; i++) {
        /* a DIE as dwarf_child makes it; libdw reads its abbreviation when first asked */
        Dwarf_Die child = {.addr = (void *)found[i].at, .cu = parent->cu};
        rc = add_kid(ix, &child, found[i].tag, entry, found[i].have_range,
                     ranges ? ranges + found[i].first : NULL, found[i].nr, kids, n, cap);
    }
    if (rc == 0)
        ix->dies_walked += dies;
    free(found);
    free(ranges);
    return rc;
}

/* The same through libdw. */
static int list_kids_libdw(struct cu_index *ix, Dwarf_Die *parent, long entry, struct range **kids,
                           size_t *n, size_t *cap)
{
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0)
        return 0;
    do {
        ix->dies_walked++;
        int tag = dwarf_tag(&child);
        if (has_code_tag(tag) && add_kid(ix, &child, tag, entry, false, NULL, 0, kids, n, cap) < 0)
            return -1;
    } while (dwarf_siblingof(&child, &child) == 0);
    return 0;
}

/* Lists the children with code of scope s (once): their ranges, sorted. A child holding a
 * range that overlaps another child's is dropped (broken DWARF). */
static int list_kids(struct cu_index *ix, long s)
{
    if (ix->scopes[s].listed)
        return 0;
    struct range *kids = NULL;
    size_t n = 0, cap = 0;
    Dwarf_Die parent = ix->scopes[s].die;
    long entry = ix->scopes[s].entry;
    int rc = list_kids_raw(ix, &parent, entry, &kids, &n, &cap);
    if (rc == -2)
        rc = list_kids_libdw(ix, &parent, entry, &kids, &n, &cap);
    if (rc < 0) {
        free(kids);
        return -1;
    }
    sort_ranges(kids, n);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && kids[i].lo < kids[w - 1].hi)
            continue; /* overlaps the one before: keep the first */
        kids[w++] = kids[i];
    }
    ix->scopes[s].kids = kids;
    ix->scopes[s].nkids = w;
    ix->scopes[s].listed = true;
    return 0;
}

long cu_index_lookup(struct cu_index *ix, Dwarf_Addr pc, Dwarf_Addr *range_lo, Dwarf_Addr *range_hi)
{
    return cu_index_find(ix, pc, range_lo, range_hi, true);
}

bool cu_index_walked_deep(const struct cu_index *ix)
{
    return ix->deep;
}

long cu_index_find(struct cu_index *ix, Dwarf_Addr pc, Dwarf_Addr *range_lo, Dwarf_Addr *range_hi,
                   bool walk_deep)
{
    Dwarf_Addr vlo = 0, vhi = UINT64_MAX;
    long fn = find_outer(ix, pc, &vlo, &vhi);
    if (fn < 0 && !ix->deep && walk_deep) {
        /* perhaps a function defined inside another: walk into functions, once */
        ix->deep = true;
        ix->changed = true;
        size_t before = ix->nouter;
        if (walk_outer(ix, true) < 0)
            ix->nouter = before;
        else if (ix->nouter > before)
            sort_ranges(ix->outer, ix->nouter);
        vlo = 0;
        vhi = UINT64_MAX;
        fn = find_outer(ix, pc, &vlo, &vhi);
    }
    if (fn >= 0 && (fn = outer_entry(ix, (size_t)fn)) < 0) {
        if (range_lo) /* out of memory */
            *range_lo = pc;
        if (range_hi)
            *range_hi = pc + 1;
        return -1;
    }
    if (fn < 0) {
        /* in no function: every address of the gap around pc is in none either */
        if (range_lo)
            *range_lo = vlo;
        if (range_hi)
            *range_hi = vhi;
        return -1;
    }
    long s = ix->entries[fn].scope;
    if (s < 0) {
        Dwarf_Die *die = cu_index_die(ix, fn);
        if (!die) {
            if (range_lo)
                *range_lo = pc;
            if (range_hi)
                *range_hi = pc + 1;
            return -1;
        }
        if ((s = new_scope(ix, die, fn)) < 0)
            goto partial;
        ix->entries[fn].scope = s;
    }
    for (int depth = 0; depth < 256; depth++) {
        if (list_kids(ix, s) < 0)
            goto partial;
        const struct scope *sc = &ix->scopes[s];
        size_t lo = first_after(sc->kids, sc->nkids, pc);
        if (lo < sc->nkids && sc->kids[lo].lo < vhi)
            vhi = sc->kids[lo].lo;
        if (lo == 0 || pc >= sc->kids[lo - 1].hi) {
            if (lo > 0 && sc->kids[lo - 1].hi > vlo)
                vlo = sc->kids[lo - 1].hi;
            break; /* s is the innermost scope */
        }
        const struct range *k = &sc->kids[lo - 1];
        if (k->lo > vlo)
            vlo = k->lo;
        if (k->hi < vhi)
            vhi = k->hi;
        if ((s = kid_scope(ix, k->ref)) < 0)
            goto partial;
    }
    if (range_lo)
        *range_lo = vlo;
    if (range_hi)
        *range_hi = vhi;
    return ix->scopes[s].entry;
partial: /* out of memory: the function, for this address alone */
    if (range_lo)
        *range_lo = pc;
    if (range_hi)
        *range_hi = pc + 1;
    return fn;
}

void cu_index_walked(const struct cu_index *ix, const void **lo, const void **hi)
{
    *lo = ix->span_lo;
    *hi = ix->span_hi;
}

int cu_index_lang(struct cu_index *ix)
{
    if (!ix->have_lang) {
        struct dwraw_facts f; /* in place: libdw would read the unit's whole abbreviations */
        ix->lang = dwraw_facts_of(&ix->cu, &f) ? f.lang : dwarf_srclang(&ix->cu);
        ix->have_lang = true;
    }
    return ix->lang;
}

Dwarf_Die *cu_index_cu(struct cu_index *ix)
{
    return &ix->cu;
}

uint64_t cu_index_cu_offset(const struct cu_index *ix)
{
    return dwarf_dieoffset((Dwarf_Die *)&ix->cu);
}

void cu_index_mark_saved(struct cu_index *ix)
{
    ix->changed = false;
}

long cu_index_parent(const struct cu_index *ix, long i)
{
    return ix->entries[i].parent;
}

Dwarf_Die *cu_index_die(struct cu_index *ix, long i)
{
    struct entry *e = &ix->entries[i];
    if (!e->die.addr) {
        /* from a saved table: the DIE must be a function with code, else the table lied */
        Dwarf_Die d;
        if (!dwarf_offdie(ix->dbg, e->off, &d) || d.cu != ix->cu.cu)
            return NULL;
        int tag = dwraw_tag(&d);
        if (tag != DW_TAG_subprogram && tag != DW_TAG_entry_point)
            return NULL;
        e->die = d;
    }
    return &e->die;
}

bool cu_index_inlined(const struct cu_index *ix, long i)
{
    return ix->entries[i].parent >= 0;
}

void **cu_index_slot(struct cu_index *ix, long i)
{
    return &ix->entries[i].slot;
}

size_t cu_index_size(const struct cu_index *ix)
{
    return ix->nentries;
}

size_t cu_index_ranges(const struct cu_index *ix)
{
    return ix->nouter;
}

size_t cu_index_dies_walked(const struct cu_index *ix)
{
    return ix->dies_walked;
}
