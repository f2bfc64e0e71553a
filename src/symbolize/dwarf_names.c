/* SPDX-License-Identifier: MIT */
/* dwarf_names.c — c++filt-style names of functions and types from DWARF DIEs.
 *
 * DWARF has no parent links, so a DIE's parent is found by descending from its unit through
 * the containers (namespaces, classes, functions, blocks) whose offset range holds it; each
 * container's list of child containers is read once, when a question first passes through
 * it, so the work follows the DIEs asked about, not the size of the unit. Names follow what
 * libiberty's demangler prints for the mangled name (types postfix-qualified, "long" not
 * "long int", integer template arguments with their suffixes, "> >").
 * Invariant: every string handed out is cached per DIE and freed by dwarf_names_free(). */
#include "symbolize/dwarf_names.h"

#include "symbolize/dwarf_raw.h"

#include "core/array.h"
#include "core/hashmap.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 48 /* nesting followed before giving up (broken or cyclic DWARF) */

/* A container's child containers: [start, end) offset ranges (end: the next sibling's
 * offset, or the container's own end for its last child), sorted. */
struct kid_range {
    Dwarf_Off start, end;
};

struct kid_list {
    struct kid_range *k;
    size_t n;
};

enum kind { K_FUNCTION, K_SCOPE_FUNCTION, K_TYPE };

struct dwarf_names {
    struct hmap kid_map; /* container DIE address -> index into kids */
    struct kid_list *kids;
    size_t nkids, capkids;
    struct hmap cache; /* (DIE address, kind) -> index into strs */
    char **strs;
    size_t nstrs, capstrs;
};

/* ---- a growing string ------------------------------------------------------------------ */

struct sbuf {
    char *s;
    size_t len, cap;
    bool failed; /* out of memory, or DWARF too deep to follow */
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 128;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *p = realloc(b->s, ncap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = ncap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(b, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static bool sb_ends_with(const struct sbuf *b, char c)
{
    return b->len > 0 && b->s[b->len - 1] == c;
}

/* ---- cache and scope maps -------------------------------------------------------------- */

struct dwarf_names *dwarf_names_new(void)
{
    struct dwarf_names *dn = calloc(1, sizeof *dn);
    if (dn) {
        hmap_init(&dn->kid_map);
        hmap_init(&dn->cache);
    }
    return dn;
}

void dwarf_names_free(struct dwarf_names *dn)
{
    if (!dn)
        return;
    for (size_t i = 0; i < dn->nkids; i++)
        free(dn->kids[i].k);
    free(dn->kids);
    hmap_free(&dn->kid_map);
    for (size_t i = 0; i < dn->nstrs; i++)
        free(dn->strs[i]);
    free(dn->strs);
    hmap_free(&dn->cache);
    free(dn);
}

static void cache_key(unsigned char *key, Dwarf_Die *die, enum kind k)
{
    memcpy(key, &die->addr, sizeof die->addr);
    key[sizeof die->addr] = (unsigned char)k;
}

static const char *cache_get(struct dwarf_names *dn, Dwarf_Die *die, enum kind k)
{
    unsigned char key[sizeof(void *) + 1];
    cache_key(key, die, k);
    uint32_t idx;
    return hmap_get(&dn->cache, key, sizeof key, &idx) ? dn->strs[idx] : NULL;
}

/* Stores b's string (taking it) as the name of (die, k); NULL when b failed. */
static const char *cache_put(struct dwarf_names *dn, Dwarf_Die *die, enum kind k, struct sbuf *b)
{
    if (b->failed || !b->s || ARRAY_GROW(dn->strs, dn->nstrs, dn->capstrs) < 0) {
        free(b->s);
        return NULL;
    }
    unsigned char key[sizeof(void *) + 1];
    cache_key(key, die, k);
    uint32_t idx;
    int r = hmap_intern(&dn->cache, key, sizeof key, (uint32_t)dn->nstrs, &idx);
    if (r < 0) {
        free(b->s);
        return NULL;
    }
    if (r == 0) { /* named meanwhile (a recursive question about the same DIE) */
        free(b->s);
        return dn->strs[idx];
    }
    dn->strs[dn->nstrs++] = b->s;
    return b->s;
}

static bool is_container(int tag)
{
    switch (tag) {
    case DW_TAG_namespace:
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_interface_type:
    case DW_TAG_subprogram:
    case DW_TAG_lexical_block:
        return true;
    default:
        return false;
    }
}

/* Appends the child containers of c (its first child: first) to l over the raw DIEs; false
 * when the raw reader cannot read them (then l is as it was). */
static bool kids_raw(Dwarf_Die *c, Dwarf_Die *first, Dwarf_Off end, struct kid_list *l, size_t *cap)
{
    Dwarf_Die cudie;
    struct dwraw_unit u;
    if (!dwarf_diecu(c, &cudie, NULL, NULL) || !dwraw_open(&u, &cudie, dwarf_cu_getdwarf(c->cu))) {
        dwraw_close(&u);
        return false;
    }
    size_t n0 = l->n;
    bool ok = true;
    const unsigned char *p = first->addr;
    if (p <= u.start || p >= u.end)
        ok = false;
    while (ok) {
        const unsigned char *at = p, *after = p, *sib, *next;
        const struct dwraw_abbrev *a;
        if (!dwraw_die(&u, &after, &a, &sib) || !a) {
            ok = false;
            break;
        }
        /* read before dwraw_next, whose reading of the children may move the abbreviations */
        bool container = is_container((int)a->tag) && a->children;
        if (!dwraw_next(&u, at, after, a, sib, &next)) {
            ok = false;
            break;
        }
        bool more = next < u.end && *next != 0; /* dwarf_siblingof: not the null entry */
        if (container) {
            if (ARRAY_GROW(l->k, l->n, *cap) < 0) {
                ok = false;
                break;
            }
            l->k[l->n++] = (struct kid_range){(Dwarf_Off)(at - u.section),
                                              more ? (Dwarf_Off)(next - u.section) : end};
        }
        if (!more)
            break;
        p = next;
    }
    dwraw_close(&u);
    if (!ok)
        l->n = n0;
    return ok;
}

/* The child containers of c, with end, the offset where c's subtree ends (listed once). */
static const struct kid_list *kids_of(struct dwarf_names *dn, Dwarf_Die *c, Dwarf_Off end)
{
    uint32_t idx;
    if (hmap_get(&dn->kid_map, &c->addr, sizeof c->addr, &idx))
        return &dn->kids[idx];
    if (ARRAY_GROW(dn->kids, dn->nkids, dn->capkids) < 0)
        return NULL;
    struct kid_list l = {NULL, 0};
    size_t cap = 0;
    Dwarf_Die k;
    if (dwarf_child(c, &k) == 0 && !kids_raw(c, &k, end, &l, &cap)) {
        for (;;) { /* through libdw */
            bool container = is_container(dwarf_tag(&k)) && dwarf_haschildren(&k);
            Dwarf_Off start = dwarf_dieoffset(&k);
            bool more = dwarf_siblingof(&k, &k) == 0;
            if (container) {
                if (ARRAY_GROW(l.k, l.n, cap) < 0) {
                    free(l.k);
                    return NULL;
                }
                l.k[l.n++] = (struct kid_range){start, more ? dwarf_dieoffset(&k) : end};
            }
            if (!more)
                break;
        }
    }
    if (hmap_intern(&dn->kid_map, &c->addr, sizeof c->addr, (uint32_t)dn->nkids, &idx) < 0) {
        free(l.k);
        return NULL;
    }
    dn->kids[dn->nkids++] = l;
    return &dn->kids[idx];
}

/* The DIE that die is a child of (its unit DIE at top level; the nearest container when its
 * parent is not one, as for a DIE inside an enumeration); false when unknown. */
static bool die_parent(struct dwarf_names *dn, Dwarf_Die *die, Dwarf_Die *out)
{
    Dwarf_Die unit;
    uint8_t unit_type = 0;
    Dwarf_Half version = 0;
    if (!dwarf_diecu(die, &unit, NULL, NULL) ||
        dwarf_cu_info(die->cu, &version, &unit_type, NULL, NULL, NULL, NULL, NULL) != 0)
        return false;
    Dwarf *dbg = dwarf_cu_getdwarf(die->cu);
    /* DWARF 4's type units live in .debug_types */
    bool types = version < 5 && unit_type == DW_UT_type;
    Dwarf_Off x = dwarf_dieoffset(die);
    Dwarf_Die cur = unit;
    Dwarf_Off end = UINT64_MAX;
    for (int depth = 0; depth < 256; depth++) {
        const struct kid_list *l = kids_of(dn, &cur, end);
        if (!l)
            return false;
        size_t lo = 0, hi = l->n; /* the last child container starting at or before x */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (l->k[mid].start <= x)
                lo = mid + 1;
            else
                hi = mid;
        }
        const struct kid_range *k = lo > 0 ? &l->k[lo - 1] : NULL;
        if (!k || k->start == x || x >= k->end) {
            *out = cur; /* x is a child of cur, or inside a child that is no container */
            return true;
        }
        Dwarf_Die next;
        if (!(types ? dwarf_offdie_types(dbg, k->start, &next)
                    : dwarf_offdie(dbg, k->start, &next)))
            return false;
        cur = next;
        end = k->end;
    }
    return false;
}

/* ---- DIE helpers ----------------------------------------------------------------------- */

static bool ref_attr(Dwarf_Die *die, int name, Dwarf_Die *out)
{
    Dwarf_Attribute a;
    return dwarf_attr(die, name, &a) && dwarf_formref_die(&a, out) != NULL;
}

/* The DIE's DW_AT_type (integrated through abstract origins); false when it has none. */
static bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
    Dwarf_Attribute a;
    return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, out) != NULL;
}

/* t with typedefs and cv-qualifiers removed; false when that reaches no type (void). */
static bool strip_type(Dwarf_Die *t, Dwarf_Die *out, bool typedefs, bool cv)
{
    Dwarf_Die cur = *t;
    for (int i = 0; i < MAX_DEPTH; i++) {
        int tag = dwarf_tag(&cur);
        bool strip = (typedefs && tag == DW_TAG_typedef) ||
                     (cv && (tag == DW_TAG_const_type || tag == DW_TAG_volatile_type));
        if (!strip) {
            *out = cur;
            return true;
        }
        if (!type_of(&cur, &cur))
            return false;
    }
    return false;
}

static bool is_aggregate(int tag)
{
    return tag == DW_TAG_class_type || tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
           tag == DW_TAG_interface_type || tag == DW_TAG_enumeration_type;
}

static bool has_child_tag(Dwarf_Die *die, int t1, int t2, int t3)
{
    Dwarf_Die c;
    if (dwarf_child(die, &c) != 0)
        return false;
    do {
        int tag = dwarf_tag(&c);
        if (tag == t1 || tag == t2 || tag == t3)
            return true;
    } while (dwarf_siblingof(&c, &c) == 0);
    return false;
}

static bool has_template_params(Dwarf_Die *die)
{
    return has_child_tag(die, DW_TAG_template_type_parameter, DW_TAG_template_value_parameter,
                         DW_TAG_GNU_template_parameter_pack);
}

/* A lambda's closure type: an unnamed class whose member is operator(); its declaration in
 * *op when op is not NULL. */
static bool is_closure(Dwarf_Die *die, Dwarf_Die *op)
{
    int tag = dwarf_tag(die);
    if ((tag != DW_TAG_structure_type && tag != DW_TAG_class_type) || dwarf_diename(die))
        return false;
    Dwarf_Die c;
    if (dwarf_child(die, &c) != 0)
        return false;
    do {
        const char *n = dwarf_diename(&c);
        if (dwarf_tag(&c) == DW_TAG_subprogram && n && strncmp(n, "operator()", 10) == 0) {
            if (op)
                *op = c;
            return true;
        }
    } while (dwarf_siblingof(&c, &c) == 0);
    return false;
}

/* ---- types ----------------------------------------------------------------------------- */

/* DWARF base type names (GCC's spelling) -> the demangler's. */
static const char *base_name(const char *n)
{
    static const char *const map[][2] = {
        {"long int", "long"},
        {"long unsigned int", "unsigned long"},
        {"short int", "short"},
        {"short unsigned int", "unsigned short"},
        {"long long int", "long long"},
        {"long long unsigned int", "unsigned long long"},
        {"__int128 unsigned", "unsigned __int128"},
    };
    if (!n)
        return "?";
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(n, map[i][0]) == 0)
            return map[i][1];
    return n;
}

/* name with GCC's base type spellings replaced (for names DWARF gives only as text). */
static void put_normalized(struct sbuf *b, const char *name, size_t len)
{
    static const char *const words[] = {
        "long long unsigned int", "long long int", "long unsigned int",
        "short unsigned int",     "long int",      "short int"};
    size_t i = 0;
    while (i < len) {
        bool done = false;
        bool word_start =
            i == 0 || !(name[i - 1] == '_' || (name[i - 1] >= 'a' && name[i - 1] <= 'z') ||
                        (name[i - 1] >= 'A' && name[i - 1] <= 'Z') ||
                        (name[i - 1] >= '0' && name[i - 1] <= '9'));
        for (size_t w = 0; word_start && w < sizeof words / sizeof *words && !done; w++) {
            size_t n = strlen(words[w]);
            char after = i + n < len ? name[i + n] : '\0';
            if (i + n <= len && strncmp(name + i, words[w], n) == 0 &&
                (after == ',' || after == '>' || after == ' ' || after == '*' || after == '&' ||
                 after == ')' || after == '\0')) {
                sb_puts(b, base_name(words[w]));
                i += n;
                done = true;
            }
        }
        if (!done)
            sb_put(b, name + i++, 1);
    }
}

static void put_type(struct dwarf_names *dn, struct sbuf *b, Dwarf_Die *t, int depth);
static const char *aggregate_name(struct dwarf_names *dn, Dwarf_Die *die, int depth);
static const char *func_name(struct dwarf_names *dn, Dwarf_Die *die, bool with_return, int depth);

/* "(T1, T2, ...)" from the formal parameters (and "..." from unspecified parameters) among
 * die's children; artificial ones (this) are skipped; top-level cv-qualifiers dropped. */
static void put_params(struct dwarf_names *dn, struct sbuf *b, Dwarf_Die *die, int depth)
{
    sb_puts(b, "(");
    bool first = true;
    Dwarf_Die c;
    if (dwarf_child(die, &c) == 0) {
        do {
            int tag = dwarf_tag(&c);
            if (tag == DW_TAG_unspecified_parameters) {
                sb_puts(b, first ? "..." : ", ...");
                first = false;
                continue;
            }
            Dwarf_Attribute a;
            bool art = false;
            if (tag != DW_TAG_formal_parameter ||
                (dwarf_formflag(dwarf_attr_integrate(&c, DW_AT_artificial, &a), &art) == 0 && art))
                continue;
            Dwarf_Die t;
            if (!type_of(&c, &t))
                continue;
            if (!first)
                sb_puts(b, ", ");
            first = false;
            Dwarf_Die bare;
            Dwarf_Die resolved;
            /* top-level const/volatile is not part of the signature (also behind typedefs) */
            if (strip_type(&t, &resolved, true, false) &&
                (dwarf_tag(&resolved) == DW_TAG_const_type ||
                 dwarf_tag(&resolved) == DW_TAG_volatile_type) &&
                strip_type(&resolved, &bare, false, true))
                put_type(dn, b, &bare, depth + 1);
            else
                put_type(dn, b, &t, depth + 1);
        } while (dwarf_siblingof(&c, &c) == 0);
    }
    sb_puts(b, ")");
}

static uint64_t array_count(Dwarf_Die *arr, bool *known)
{
    Dwarf_Die c;
    *known = false;
    if (dwarf_child(arr, &c) != 0)
        return 0;
    do {
        if (dwarf_tag(&c) != DW_TAG_subrange_type)
            continue;
        Dwarf_Attribute a;
        Dwarf_Word v;
        if (dwarf_formudata(dwarf_attr(&c, DW_AT_count, &a), &v) == 0) {
            *known = true;
            return v;
        }
        if (dwarf_formudata(dwarf_attr(&c, DW_AT_upper_bound, &a), &v) == 0) {
            *known = true;
            return v + 1;
        }
        return 0;
    } while (dwarf_siblingof(&c, &c) == 0);
    return 0;
}

static void put_return(struct dwarf_names *dn, struct sbuf *b, Dwarf_Die *fn, int depth)
{
    Dwarf_Die r;
    if (type_of(fn, &r))
        put_type(dn, b, &r, depth + 1);
    else
        sb_puts(b, "void");
}

/* Pointer, reference or rvalue reference to t (suffix "*", "&", "&&"), with the demangler's
 * spelling for pointers to functions and arrays: "int (*)(void const*)", "int (&) [4]". */
static void put_indirect(struct dwarf_names *dn, struct sbuf *b, Dwarf_Die *t, const char *suffix,
                         int depth)
{
    Dwarf_Die u, r;
    if (!type_of(t, &u)) {
        sb_puts(b, "void");
        sb_puts(b, suffix);
        return;
    }
    bool plain = !strip_type(&u, &r, true, false);
    int rtag = plain ? 0 : dwarf_tag(&r);
    if (rtag == DW_TAG_subroutine_type) {
        put_return(dn, b, &r, depth);
        sb_printf(b, " (%s)", suffix);
        put_params(dn, b, &r, depth);
    } else if (rtag == DW_TAG_array_type && !dwarf_hasattr(&r, DW_AT_GNU_vector)) {
        Dwarf_Die e;
        bool known;
        uint64_t n = array_count(&r, &known);
        if (type_of(&r, &e))
            put_type(dn, b, &e, depth + 1);
        sb_printf(b, " (%s) [", suffix);
        if (known)
            sb_printf(b, "%" PRIu64, n);
        sb_puts(b, "]");
    } else {
        put_type(dn, b, &u, depth + 1);
        sb_puts(b, suffix);
    }
}

static void put_type(struct dwarf_names *dn, struct sbuf *b, Dwarf_Die *t, int depth)
{
    if (depth > MAX_DEPTH) {
        b->failed = true;
        return;
    }
    int tag = dwarf_tag(t);
    Dwarf_Die u;
    switch (tag) {
    case DW_TAG_base_type:
        sb_puts(b, base_name(dwarf_diename(t)));
        return;
    case DW_TAG_unspecified_type: {
        const char *n = dwarf_diename(t);
        sb_puts(b, n ? n : "void");
        return;
    }
    case DW_TAG_typedef:
        if (!type_of(t, &u)) {
            sb_puts(b, "void");
        } else if (is_aggregate(dwarf_tag(&u)) && !dwarf_diename(&u) && !is_closure(&u, NULL)) {
            /* typedef struct {...} name: the typedef names the type for linkage */
            const char *n = aggregate_name(dn, t, depth + 1);
            if (n)
                sb_puts(b, n);
            else
                b->failed = true;
        } else {
            put_type(dn, b, &u, depth + 1);
        }
        return;
    case DW_TAG_const_type:
    case DW_TAG_volatile_type: {
        bool c = false, v = false;
        Dwarf_Die cur = *t;
        bool have = true;
        for (int i = 0; i < 8 && have; i++) {
            int ct = dwarf_tag(&cur);
            if (ct != DW_TAG_const_type && ct != DW_TAG_volatile_type)
                break;
            c |= ct == DW_TAG_const_type;
            v |= ct == DW_TAG_volatile_type;
            have = type_of(&cur, &cur);
        }
        if (have)
            put_type(dn, b, &cur, depth + 1);
        else
            sb_puts(b, "void");
        sb_puts(b, c ? (v ? " const volatile" : " const") : " volatile");
        return;
    }
    case DW_TAG_pointer_type:
        put_indirect(dn, b, t, "*", depth);
        return;
    case DW_TAG_reference_type:
        put_indirect(dn, b, t, "&", depth);
        return;
    case DW_TAG_rvalue_reference_type:
        put_indirect(dn, b, t, "&&", depth);
        return;
    case DW_TAG_restrict_type:
        if (type_of(t, &u))
            put_type(dn, b, &u, depth + 1);
        sb_puts(b, " restrict");
        return;
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_interface_type:
    case DW_TAG_enumeration_type: {
        const char *n = aggregate_name(dn, t, depth + 1);
        if (n)
            sb_puts(b, n);
        else
            b->failed = true;
        return;
    }
    case DW_TAG_array_type: {
        bool known;
        uint64_t n = array_count(t, &known);
        if (type_of(t, &u))
            put_type(dn, b, &u, depth + 1);
        if (dwarf_hasattr(t, DW_AT_GNU_vector)) {
            sb_printf(b, " __vector(%" PRIu64 ")", n);
            return;
        }
        sb_puts(b, " [");
        if (known)
            sb_printf(b, "%" PRIu64, n);
        sb_puts(b, "]");
        return;
    }
    case DW_TAG_subroutine_type:
        put_return(dn, b, t, depth);
        sb_puts(b, " ");
        put_params(dn, b, t, depth);
        return;
    case DW_TAG_ptr_to_member_type: {
        Dwarf_Die cls;
        if (type_of(t, &u))
            put_type(dn, b, &u, depth + 1);
        sb_puts(b, " ");
        if (ref_attr(t, DW_AT_containing_type, &cls))
            put_type(dn, b, &cls, depth + 1);
        sb_puts(b, "::*");
        return;
    }
    default: {
        const char *n = dwarf_diename(t);
        if (n)
            sb_puts(b, n);
        else if (type_of(t, &u)) /* atomic and other wrappers */
            put_type(dn, b, &u, depth + 1);
        else
            sb_puts(b, "void");
        return;
    }
    }
}

/* ---- template arguments ---------------------------------------------------------------- */

/* A template value argument as the demangler prints a literal: 4, 4u, 4l, 4ul, 4ll, 4ull,
 * true, (char)97, (Enum)1. false when it has no integer constant value. */
static bool put_literal(struct dwarf_names *dn, struct sbuf *b, Dwarf_Die *param, int depth)
{
    Dwarf_Attribute a;
    Dwarf_Die t;
    if (!dwarf_attr(param, DW_AT_const_value, &a) || !type_of(param, &t) ||
        !strip_type(&t, &t, true, true))
        return false;
    unsigned form = dwarf_whatform(&a);
    Dwarf_Word u = 0;
    Dwarf_Sword sv = 0;
    bool is_signed = true;
    Dwarf_Word size = 8;
    Dwarf_Attribute ta;
    if (dwarf_formudata(dwarf_attr(&t, DW_AT_byte_size, &ta), &size) != 0)
        size = 8;
    if (dwarf_tag(&t) == DW_TAG_base_type) {
        Dwarf_Word enc = 0;
        dwarf_formudata(dwarf_attr(&t, DW_AT_encoding, &ta), &enc);
        is_signed = enc == DW_ATE_signed || enc == DW_ATE_signed_char;
    } else if (dwarf_tag(&t) != DW_TAG_enumeration_type) {
        return false; /* pointers, references, class values: not an integer literal */
    }
    if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
        if (dwarf_formsdata(&a, &sv) != 0)
            return false;
        u = (Dwarf_Word)sv;
    } else if (form == DW_FORM_data1 || form == DW_FORM_data2 || form == DW_FORM_data4 ||
               form == DW_FORM_data8 || form == DW_FORM_udata) {
        if (dwarf_formudata(&a, &u) != 0)
            return false;
        if (is_signed && size < 8 && size > 0 && (u >> (size * 8 - 1)) & 1)
            u |= ~(Dwarf_Word)0 << (size * 8);
    } else {
        return false;
    }
    long long s = (long long)u;
    if (dwarf_tag(&t) == DW_TAG_enumeration_type) {
        const char *n = aggregate_name(dn, &t, depth + 1);
        if (!n)
            return false;
        sb_printf(b, "(%s)", n);
        sb_printf(b, is_signed ? "%lld" : "%llu", s);
        return true;
    }
    const char *n = base_name(dwarf_diename(&t));
    static const char *const suffixed[][2] = {
        {"int", ""},         {"unsigned int", "u"},         {"long", "l"}, {"unsigned long", "ul"},
        {"long long", "ll"}, {"unsigned long long", "ull"},
    };
    if (strcmp(n, "bool") == 0) {
        sb_puts(b, u ? "true" : "false");
        return true;
    }
    for (size_t i = 0; i < sizeof suffixed / sizeof *suffixed; i++)
        if (strcmp(n, suffixed[i][0]) == 0) {
            if (suffixed[i][1][0] == 'u')
                sb_printf(b, "%llu%s", (unsigned long long)u, suffixed[i][1]);
            else
                sb_printf(b, "%lld%s", s, suffixed[i][1]);
            return true;
        }
    sb_printf(b, "(%s)", n);
    if (is_signed)
        sb_printf(b, "%lld", s);
    else
        sb_printf(b, "%llu", (unsigned long long)u);
    return true;
}

/* The template arguments among die's children, comma-separated; false when one cannot be
 * printed (the caller then keeps DWARF's own text). */
static bool put_template_args(struct dwarf_names *dn, struct sbuf *b, Dwarf_Die *die, bool *first,
                              int depth)
{
    Dwarf_Die c, t;
    if (depth > MAX_DEPTH)
        return false;
    if (dwarf_child(die, &c) != 0)
        return true;
    do {
        int tag = dwarf_tag(&c);
        if (tag == DW_TAG_GNU_template_parameter_pack) {
            if (!put_template_args(dn, b, &c, first, depth + 1))
                return false;
            continue;
        }
        if (tag != DW_TAG_template_type_parameter && tag != DW_TAG_template_value_parameter &&
            tag != DW_TAG_GNU_template_template_param)
            continue;
        if (!*first)
            sb_puts(b, ", ");
        *first = false;
        if (tag == DW_TAG_template_type_parameter) {
            if (type_of(&c, &t))
                put_type(dn, b, &t, depth + 1);
            else
                sb_puts(b, "void");
        } else if (tag == DW_TAG_GNU_template_template_param) {
            Dwarf_Attribute a;
            const char *n = dwarf_formstring(dwarf_attr(&c, DW_AT_GNU_template_name, &a));
            if (!n)
                return false;
            sb_puts(b, n);
        } else if (!put_literal(dn, b, &c, depth + 1)) {
            return false;
        }
    } while (dwarf_siblingof(&c, &c) == 0);
    return true;
}

/* Where the template arguments of a function name may start: after the operator's own
 * characters in "operator<< <T>" or "operator()<T>". */
static const char *template_args_start(const char *name)
{
    static const char *const ops[] = {
        "()", "[]", "->*", "->", "<<=", ">>=", "<=>", "<<", ">>", "<=", ">=", "==", "!=",
        "&&", "||", "++",  "--", "+=",  "-=",  "*=",  "/=", "%=", "^=", "&=", "|=", "+",
        "-",  "*",  "/",   "%",  "^",   "&",   "|",   "~",  "!",  "=",  "<",  ">",  ","};
    if (strncmp(name, "operator", 8) != 0)
        return name;
    const char *p = name + 8;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (strncmp(p, ops[i], strlen(ops[i])) == 0)
            return p + strlen(ops[i]);
    return p;
}

/* The number of template arguments in the text after '<' at lt ("<a, b<c, d> >" is 2). */
static int count_text_args(const char *lt)
{
    int depth = 0, n = 0;
    bool any = false;
    for (const char *p = lt; *p; p++) {
        if (*p == '<' || *p == '(' || *p == '[') {
            if (depth++ > 0)
                any = true;
        } else if (*p == '>' || *p == ')' || *p == ']') {
            if (--depth == 0)
                break;
            any = true;
        } else if (*p == ',' && depth == 1) {
            n++;
        } else if (*p != ' ') {
            any = true;
        }
    }
    return any ? n + 1 : 0;
}

/* name, with its "<...>" rebuilt from the template parameters of holder when it has any and
 * they are as many as DWARF's text lists (GCC omits some defaulted or deduced ones). */
static void put_template_name(struct dwarf_names *dn, struct sbuf *b, const char *name,
                              Dwarf_Die *holder, int depth)
{
    const char *lt = strchr(template_args_start(name), '<');
    if (!lt || !holder) {
        put_normalized(b, name, strlen(name));
        return;
    }
    struct sbuf args = {NULL, 0, 0, false};
    bool first = true;
    sb_puts(&args, "<");
    bool ok = put_template_args(dn, &args, holder, &first, depth + 1);
    if (sb_ends_with(&args, '>'))
        sb_puts(&args, " ");
    sb_puts(&args, ">");
    if (!ok || args.failed || count_text_args(args.s) != count_text_args(lt)) {
        free(args.s);
        put_normalized(b, name, strlen(name));
        return;
    }
    sb_put(b, name, (size_t)(lt - name));
    sb_puts(b, args.s);
    free(args.s);
}

/* ---- scopes ---------------------------------------------------------------------------- */

/* The "A::B::" prefix of die from its enclosing namespaces, classes and functions. */
static void put_scope(struct dwarf_names *dn, struct sbuf *b, Dwarf_Die *die, int depth)
{
    Dwarf_Die p;
    if (depth > MAX_DEPTH) {
        b->failed = true;
        return;
    }
    if (!die_parent(dn, die, &p))
        return;
    for (int i = 0; i < MAX_DEPTH && dwarf_tag(&p) == DW_TAG_lexical_block; i++)
        if (!die_parent(dn, &p, &p))
            return;
    int tag = dwarf_tag(&p);
    if (tag == DW_TAG_namespace) {
        const char *n = dwarf_diename(&p);
        put_scope(dn, b, &p, depth + 1);
        sb_puts(b, n ? n : "(anonymous namespace)");
        sb_puts(b, "::");
    } else if (is_aggregate(tag)) {
        const char *n = aggregate_name(dn, &p, depth + 1);
        if (!n)
            b->failed = true;
        else
            sb_puts(b, n);
        sb_puts(b, "::");
    } else if (tag == DW_TAG_subprogram) {
        const char *n = func_name(dn, &p, false, depth + 1);
        if (!n)
            b->failed = true;
        else
            sb_puts(b, n);
        sb_puts(b, "::");
    }
}

/* 1-based position of the closure (or unnamed type) die among those of its kind in the same
 * function or scope, in DWARF order, counting through nested blocks as GCC numbers them. */
static int count_before(Dwarf_Die *scope, Dwarf_Die *die, bool closure, int *n, int depth)
{
    Dwarf_Die c;
    if (depth > MAX_DEPTH || dwarf_child(scope, &c) != 0)
        return 0;
    do {
        if (c.addr == die->addr)
            return 1;
        int tag = dwarf_tag(&c);
        if (tag == DW_TAG_lexical_block) {
            if (count_before(&c, die, closure, n, depth + 1))
                return 1;
        } else if (is_aggregate(tag) && !dwarf_diename(&c) && is_closure(&c, NULL) == closure) {
            (*n)++;
        }
    } while (dwarf_siblingof(&c, &c) == 0);
    return 0;
}

static int unnamed_number(struct dwarf_names *dn, Dwarf_Die *die, bool closure)
{
    Dwarf_Die p;
    if (!die_parent(dn, die, &p))
        return 1;
    for (int i = 0; i < MAX_DEPTH && dwarf_tag(&p) == DW_TAG_lexical_block; i++)
        if (!die_parent(dn, &p, &p))
            return 1;
    int n = 1;
    count_before(&p, die, closure, &n, 0);
    return n;
}

/* The qualified name of a class, struct, union or enum (or of a typedef naming an unnamed
 * one): "ns::Outer<int>::Inner", "f()::{lambda(int)#1}", "{unnamed type#1}". Cached. */
static const char *aggregate_name(struct dwarf_names *dn, Dwarf_Die *die, int depth)
{
    const char *cached = cache_get(dn, die, K_TYPE);
    if (cached)
        return cached;
    if (depth > MAX_DEPTH)
        return NULL;
    struct sbuf b = {NULL, 0, 0, false};
    put_scope(dn, &b, die, depth + 1);
    const char *name = dwarf_diename(die);
    Dwarf_Die op;
    if (name) {
        put_template_name(dn, &b, name, has_template_params(die) ? die : NULL, depth);
    } else if (is_closure(die, &op)) {
        sb_puts(&b, "{lambda");
        put_params(dn, &b, &op, depth);
        sb_printf(&b, "#%d}", unnamed_number(dn, die, true));
    } else {
        sb_printf(&b, "{unnamed type#%d}", unnamed_number(dn, die, false));
    }
    return cache_put(dn, die, K_TYPE, &b);
}

/* ---- functions ------------------------------------------------------------------------- */

/* die, then the DIEs its DW_AT_abstract_origin / DW_AT_specification lead to; returns n. */
static int origin_chain(Dwarf_Die *die, Dwarf_Die *chain, int max)
{
    int n = 0;
    chain[n++] = *die;
    while (n < max) {
        Dwarf_Die next;
        if (!ref_attr(&chain[n - 1], DW_AT_abstract_origin, &next) &&
            !ref_attr(&chain[n - 1], DW_AT_specification, &next))
            break;
        chain[n++] = next;
    }
    return n;
}

/* Is name (a member function's) its class's constructor or destructor? */
static bool is_structor(struct dwarf_names *dn, Dwarf_Die *decl, const char *name)
{
    if (name[0] == '~')
        return true;
    Dwarf_Die p;
    if (!die_parent(dn, decl, &p) || !is_aggregate(dwarf_tag(&p)))
        return false;
    const char *cls = dwarf_diename(&p);
    if (!cls)
        return false;
    size_t a = strcspn(name, "<"), c = strcspn(cls, "<");
    return a == c && strncmp(name, cls, a) == 0;
}

/* Does the function have C linkage (extern "C")? GCC gives every external C++ function
 * outside a class a DW_AT_linkage_name, so an external one without any at namespace or
 * global scope is a C function (main, the SSE intrinsics, glibc's inline functions). */
static bool is_c_linkage(struct dwarf_names *dn, Dwarf_Die *die, Dwarf_Die *decl)
{
    Dwarf_Attribute a;
    bool ext = false;
    if (dwarf_formflag(dwarf_attr_integrate(die, DW_AT_external, &a), &ext) != 0 || !ext ||
        dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
        return false;
    Dwarf_Die p;
    if (!die_parent(dn, decl, &p))
        return false;
    int tag = dwarf_tag(&p);
    return tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit || tag == DW_TAG_namespace;
}

static const char *func_name(struct dwarf_names *dn, Dwarf_Die *die, bool with_return, int depth)
{
    enum kind k = with_return ? K_FUNCTION : K_SCOPE_FUNCTION;
    const char *cached = cache_get(dn, die, k);
    if (cached)
        return cached;
    if (depth > MAX_DEPTH)
        return NULL;
    Dwarf_Die chain[8];
    int n = origin_chain(die, chain, 8);
    Dwarf_Attribute a;
    const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
    if (!name)
        return NULL;
    Dwarf_Die *decl = &chain[n - 1];
    struct sbuf b = {NULL, 0, 0, false};
    if (is_c_linkage(dn, die, decl)) {
        sb_puts(&b, name);
        return cache_put(dn, die, k, &b);
    }
    Dwarf_Die *tmpl = NULL, *params = NULL;
    for (int i = n; i-- > 0;) {
        if (!tmpl && has_template_params(&chain[i]))
            tmpl = &chain[i];
        if (!params && has_child_tag(&chain[i], DW_TAG_formal_parameter,
                                     DW_TAG_unspecified_parameters, DW_TAG_formal_parameter))
            params = &chain[i];
    }
    if (with_return && tmpl && !is_structor(dn, decl, name) && strncmp(name, "operator ", 9) != 0) {
        put_return(dn, &b, die, depth);
        sb_puts(&b, " ");
    }
    put_scope(dn, &b, decl, depth + 1);
    put_template_name(dn, &b, name, tmpl, depth);
    if (params) {
        put_params(dn, &b, params, depth);
    } else {
        sb_puts(&b, "()");
    }
    /* cv-qualifiers of the object: the type `this` points to */
    Dwarf_Die c, t, pointee;
    bool is_const = false, is_volatile = false;
    bool found = params && dwarf_child(params, &c) == 0;
    while (found && dwarf_tag(&c) != DW_TAG_formal_parameter) /* types may come first */
        found = dwarf_siblingof(&c, &c) == 0;
    if (found) {
        bool art = false;
        if (dwarf_formflag(dwarf_attr_integrate(&c, DW_AT_artificial, &a), &art) == 0 && art &&
            type_of(&c, &t) && strip_type(&t, &t, true, true) &&
            dwarf_tag(&t) == DW_TAG_pointer_type && type_of(&t, &pointee)) {
            for (int i = 0; i < 8; i++) {
                int pt = dwarf_tag(&pointee);
                if (pt != DW_TAG_const_type && pt != DW_TAG_volatile_type)
                    break;
                is_const |= pt == DW_TAG_const_type;
                is_volatile |= pt == DW_TAG_volatile_type;
                if (!type_of(&pointee, &pointee))
                    break;
            }
        }
    }
    if (is_const)
        sb_puts(&b, " const");
    if (is_volatile)
        sb_puts(&b, " volatile");
    if (dwarf_hasattr_integrate(die, DW_AT_reference))
        sb_puts(&b, " &");
    else if (dwarf_hasattr_integrate(die, DW_AT_rvalue_reference))
        sb_puts(&b, " &&");
    return cache_put(dn, die, k, &b);
}

const char *dwarf_names_function(struct dwarf_names *dn, Dwarf_Die *die)
{
    return func_name(dn, die, true, 0);
}

const char *dwarf_names_type(struct dwarf_names *dn, Dwarf_Die *die)
{
    const char *cached = cache_get(dn, die, K_TYPE);
    if (cached)
        return cached;
    struct sbuf b = {NULL, 0, 0, false};
    put_type(dn, &b, die, 0);
    return cache_put(dn, die, K_TYPE, &b);
}
