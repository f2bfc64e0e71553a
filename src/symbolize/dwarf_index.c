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

#include "core/array.h"
#include "core/hashmap.h"

#include <dwarf.h>
#include <gelf.h>
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

/* A code range: an out-of-line function's (ref: its entry) or a scope's child's (ref: the
 * child's scope). */
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
    struct hmap entry_map; /* DIE address -> entry index (inlined subroutines) */
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

/* Which DIEs of this tag may define an out-of-line function among their children (for
 * may_define_functions). */
static enum definer definer_of(int tag)
{
    switch (tag) {
    case DW_TAG_compile_unit:
    case DW_TAG_partial_unit:
    case DW_TAG_namespace:
    case DW_TAG_module:
        return DEFINES_ALWAYS;
    case DW_TAG_subprogram:
    case DW_TAG_entry_point:
    case DW_TAG_lexical_block:
    case DW_TAG_try_block:
    case DW_TAG_catch_block:
        return DEFINES_DEEP;
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_interface_type:
        return DEFINES_DEEP_IN_FUNCTION;
    default:
        return DEFINES_NONE;
    }
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
 * The walk reads each DIE's abbreviation itself and steps over its attributes by their forms
 * (or jumps by DW_AT_sibling), instead of dwarf_siblingof and dwarf_tag, which look the
 * abbreviation up and decode every attribute again per DIE. It visits the same DIEs in the
 * same order as the walk through libdw below, which takes over for a unit it cannot read (a
 * form it does not know, a split or type unit, a compressed section left so by libdw). */

/* One abbreviation: its tag, whether DIEs using it have children, its attribute forms. */
struct abbrev {
    unsigned tag;
    bool children, declaration, known;
    bool function;       /* DW_TAG_subprogram or DW_TAG_entry_point */
    uint8_t definer;     /* enum definer of the tag */
    uint32_t first, nspecs; /* its (name, form) pairs in raw_unit.specs */
    /* when every value has a fixed size: their total, else -1; and where DW_AT_sibling,
     * DW_AT_low_pc and DW_AT_high_pc start when every value before them has a fixed size
     * (-1: absent or not at a fixed place) */
    int32_t fixed, sib_at, lo_at, hi_at;
    uint32_t sib_form, lo_form, hi_form;
    /* with fixed >= 0: the size of a DW_AT_sibling value at sib_at that is a reference
     * (0: none), and whether it counts from the section (DW_FORM_ref_addr) */
    int8_t sib_size;
    bool sib_from_section;
    bool has_lo, has_hi, has_ranges; /* DW_AT_low_pc, DW_AT_high_pc, DW_AT_ranges among them */
};

struct spec {
    uint32_t name, form;
};

/* The size of a value of form in a unit with these sizes, or -1 when it varies. */
static int form_size(uint64_t form, unsigned version, unsigned addr_size, unsigned offset_size)
{
    switch (form) {
    case DW_FORM_flag_present:
    case DW_FORM_implicit_const:
        return 0;
    case DW_FORM_data1:
    case DW_FORM_ref1:
    case DW_FORM_flag:
    case DW_FORM_strx1:
    case DW_FORM_addrx1:
        return 1;
    case DW_FORM_data2:
    case DW_FORM_ref2:
    case DW_FORM_strx2:
    case DW_FORM_addrx2:
        return 2;
    case DW_FORM_strx3:
    case DW_FORM_addrx3:
        return 3;
    case DW_FORM_data4:
    case DW_FORM_ref4:
    case DW_FORM_strx4:
    case DW_FORM_addrx4:
    case DW_FORM_ref_sup4:
        return 4;
    case DW_FORM_data8:
    case DW_FORM_ref8:
    case DW_FORM_ref_sig8:
    case DW_FORM_ref_sup8:
        return 8;
    case DW_FORM_data16:
        return 16;
    case DW_FORM_addr:
        return (int)addr_size;
    case DW_FORM_ref_addr:
        return (int)(version == 2 ? addr_size : offset_size);
    case DW_FORM_strp:
    case DW_FORM_line_strp:
    case DW_FORM_sec_offset:
    case DW_FORM_strp_sup:
    case DW_FORM_GNU_ref_alt:
    case DW_FORM_GNU_strp_alt:
        return (int)offset_size;
    default:
        return -1;
    }
}

/* A little-endian value of n <= 8 bytes. */
static inline uint64_t read_le(const unsigned char *p, int n)
{
    if (n == 4)
        return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* A unit's raw bytes and abbreviations. */
struct raw_unit {
    const unsigned char *start, *end, *section; /* unit header start, end, .debug_info start */
    unsigned version, addr_size, offset_size;
    struct abbrev *abbrevs; /* by code; code 0 unused */
    size_t nabbrevs, capabbrevs;
    size_t touched; /* abbrevs[0 .. touched) may be written: cleared before reuse */
    struct spec *specs;
    size_t nspecs, capspecs;
};

/* The buffers of the last unit closed, kept for the next one: a large C++ unit has thousands
 * of abbreviations, and growing them afresh (then freeing them) for every unit was 15 % of
 * the page faults of an exit on assimp's tests. Taken and given back with an atomic exchange,
 * so two walks at once each get their own. */
struct raw_buffers {
    struct abbrev *abbrevs;
    size_t capabbrevs, touched;
    struct spec *specs;
    size_t capspecs;
};
static struct raw_buffers *raw_spare;

static inline bool raw_uleb(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
    const unsigned char *p = *pp;
    if (p < end && !(*p & 0x80)) { /* one byte: most abbreviation codes */
        *v = *p;
        *pp = p + 1;
        return true;
    }
    uint64_t r = 0;
    for (unsigned sh = 0; p < end && sh < 64; sh += 7) {
        unsigned char b = *p++;
        r |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *pp = p;
            *v = r;
            return true;
        }
    }
    return false;
}

/* The raw .debug_abbrev of dbg's file, or NULL (absent, or still compressed). */
static Elf_Data *abbrev_section(Dwarf *dbg)
{
    Elf *elf = dwarf_getelf(dbg);
    size_t shstrndx;
    if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
        return NULL;
    GElf_Ehdr eh;
    if (!gelf_getehdr(elf, &eh) || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return NULL;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
        if (name && strcmp(name, ".debug_abbrev") == 0)
            return sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED)
                       ? NULL
                       : elf_getdata(scn, NULL);
    }
    return NULL;
}

static void raw_unit_free(struct raw_unit *u)
{
    struct raw_buffers *b = malloc(sizeof *b);
    if (!b) {
        free(u->abbrevs);
        free(u->specs);
        return;
    }
    *b = (struct raw_buffers){u->abbrevs, u->capabbrevs, u->touched, u->specs, u->capspecs};
    struct raw_buffers *old = __atomic_exchange_n(&raw_spare, b, __ATOMIC_ACQ_REL);
    if (old) {
        free(old->abbrevs);
        free(old->specs);
        free(old);
    }
}

/* Reads the unit of cudie and its abbreviations; false when this walk cannot. */
static bool raw_unit_open(struct raw_unit *u, Dwarf_Die *cudie, Dwarf *dbg)
{
    memset(u, 0, sizeof *u);
    struct raw_buffers *spare = __atomic_exchange_n(&raw_spare, NULL, __ATOMIC_ACQ_REL);
    if (spare) {
        u->abbrevs = spare->abbrevs;
        u->capabbrevs = spare->capabbrevs;
        u->specs = spare->specs;
        u->capspecs = spare->capspecs;
        if (u->abbrevs) /* only what the last unit wrote: the rest is still zero */
            memset(u->abbrevs, 0, spare->touched * sizeof *u->abbrevs);
        free(spare);
    }
    Dwarf_Half version;
    uint8_t unit_type;
    if (!cudie->cu || dwarf_cu_info(cudie->cu, &version, &unit_type, NULL, NULL, NULL, NULL,
                                    NULL) != 0 ||
        (unit_type != DW_UT_compile && unit_type != DW_UT_partial) || version < 2 ||
        version > 5)
        return false;
    Dwarf_Off die_off = dwarf_dieoffset(cudie), hdr = dwarf_cuoffset(cudie), next;
    Dwarf_Off abbrev_off;
    uint8_t addr_size, offset_size;
    size_t hsize;
    if (die_off < hdr || dwarf_next_unit(dbg, die_off - hdr, &next, &hsize, NULL, &abbrev_off,
                                         &addr_size, &offset_size, NULL, NULL) != 0 ||
        hsize != hdr || next <= die_off)
        return false;
    u->start = (const unsigned char *)cudie->addr - hdr;
    u->end = u->start + (next - (die_off - hdr));
    u->section = u->start - (die_off - hdr);
    u->version = version;
    u->addr_size = addr_size;
    u->offset_size = offset_size;
    Elf_Data *ad = abbrev_section(dbg);
    if (!ad || !ad->d_buf || abbrev_off >= ad->d_size)
        return false;
    const unsigned char *p = (const unsigned char *)ad->d_buf + abbrev_off;
    const unsigned char *end = (const unsigned char *)ad->d_buf + ad->d_size;
    size_t cap = u->capabbrevs;
    for (;;) {
        uint64_t code, tag, name, form;
        if (!raw_uleb(&p, end, &code))
            return false;
        if (code == 0)
            break;
        if (code > (1u << 20) || !raw_uleb(&p, end, &tag) || p >= end)
            return false;
        if (code >= cap) {
            size_t ncap = cap ? cap : 64;
            while (ncap <= code)
                ncap *= 2;
            struct abbrev *a = realloc(u->abbrevs, ncap * sizeof *a);
            if (!a)
                return false;
            memset(a + cap, 0, (ncap - cap) * sizeof *a);
            u->abbrevs = a;
            u->capabbrevs = cap = ncap;
        }
        struct abbrev *ab = &u->abbrevs[code];
        if (code + 1 > u->touched)
            u->touched = code + 1;
        if (ab->known)
            return false; /* a code defined twice: left to libdw */
        ab->known = true;
        ab->tag = (unsigned)tag;
        ab->function = tag == DW_TAG_subprogram || tag == DW_TAG_entry_point;
        ab->definer = (uint8_t)definer_of((int)tag);
        ab->children = *p++ != 0;
        ab->first = (uint32_t)u->nspecs;
        for (;;) {
            if (!raw_uleb(&p, end, &name) || !raw_uleb(&p, end, &form))
                return false;
            if (name == 0 && form == 0)
                break;
            if (form == DW_FORM_implicit_const) {
                uint64_t skip;
                if (!raw_uleb(&p, end, &skip)) /* its value, in the abbreviation */
                    return false;
            }
            if (name == DW_AT_declaration)
                ab->declaration = true;
            if (name == DW_AT_low_pc) {
                ab->has_lo = true;
                ab->lo_form = (uint32_t)form;
            }
            if (name == DW_AT_ranges)
                ab->has_ranges = true;
            if (name == DW_AT_high_pc) {
                ab->has_hi = true;
                ab->hi_form = (uint32_t)form;
            }
            if (ARRAY_GROW(u->specs, u->nspecs, u->capspecs) < 0)
                return false;
            u->specs[u->nspecs++] = (struct spec){(uint32_t)name, (uint32_t)form};
        }
        ab->nspecs = (uint32_t)u->nspecs - ab->first;
        ab->sib_at = ab->lo_at = ab->hi_at = -1;
        int32_t at = 0;
        for (uint32_t i = 0; i < ab->nspecs && at >= 0; i++) {
            const struct spec *sp = &u->specs[ab->first + i];
            if (sp->name == DW_AT_sibling) {
                ab->sib_at = at;
                ab->sib_form = sp->form;
            } else if (sp->name == DW_AT_low_pc) {
                ab->lo_at = at;
            } else if (sp->name == DW_AT_high_pc) {
                ab->hi_at = at;
            }
            int size = form_size(sp->form, u->version, u->addr_size, u->offset_size);
            at = size < 0 ? -1 : at + size;
        }
        ab->fixed = at;
        ab->sib_size = 0;
        ab->sib_from_section = ab->sib_form == DW_FORM_ref_addr;
        if (at >= 0 && ab->sib_at >= 0 &&
            (ab->sib_form == DW_FORM_ref1 || ab->sib_form == DW_FORM_ref2 ||
             ab->sib_form == DW_FORM_ref4 || ab->sib_form == DW_FORM_ref8 ||
             ab->sib_form == DW_FORM_ref_addr))
            ab->sib_size =
                (int8_t)form_size(ab->sib_form, u->version, u->addr_size, u->offset_size);
        if (code + 1 > u->nabbrevs)
            u->nabbrevs = code + 1;
    }
    return true;
}

/* Steps p over one attribute value of form; false when the form is unknown or the value
 * runs past the unit. *ref gets the value of a reference or constant form. */
static bool raw_skip_form(const struct raw_unit *u, const unsigned char **pp, uint64_t form,
                          uint64_t *ref)
{
    const unsigned char *p = *pp, *end = u->end;
    uint64_t n = 0, v = 0;
    switch (form) {
    case DW_FORM_flag_present:
    case DW_FORM_implicit_const:
        n = 0;
        break;
    case DW_FORM_data1:
    case DW_FORM_ref1:
    case DW_FORM_flag:
    case DW_FORM_strx1:
    case DW_FORM_addrx1:
        n = 1;
        break;
    case DW_FORM_data2:
    case DW_FORM_ref2:
    case DW_FORM_strx2:
    case DW_FORM_addrx2:
        n = 2;
        break;
    case DW_FORM_strx3:
    case DW_FORM_addrx3:
        n = 3;
        break;
    case DW_FORM_data4:
    case DW_FORM_ref4:
    case DW_FORM_strx4:
    case DW_FORM_addrx4:
    case DW_FORM_ref_sup4:
        n = 4;
        break;
    case DW_FORM_data8:
    case DW_FORM_ref8:
    case DW_FORM_ref_sig8:
    case DW_FORM_ref_sup8:
        n = 8;
        break;
    case DW_FORM_data16:
        n = 16;
        break;
    case DW_FORM_addr:
        n = u->addr_size;
        break;
    case DW_FORM_ref_addr:
        n = u->version == 2 ? u->addr_size : u->offset_size;
        break;
    case DW_FORM_strp:
    case DW_FORM_line_strp:
    case DW_FORM_sec_offset:
    case DW_FORM_strp_sup:
    case DW_FORM_GNU_ref_alt:
    case DW_FORM_GNU_strp_alt:
        n = u->offset_size;
        break;
    case DW_FORM_sdata:
    case DW_FORM_udata:
    case DW_FORM_ref_udata:
    case DW_FORM_strx:
    case DW_FORM_addrx:
    case DW_FORM_loclistx:
    case DW_FORM_rnglistx:
    case DW_FORM_GNU_addr_index:
    case DW_FORM_GNU_str_index:
        if (!raw_uleb(&p, end, &v))
            return false;
        *pp = p;
        *ref = v;
        return true;
    case DW_FORM_string: {
        const unsigned char *nul = memchr(p, 0, (size_t)(end - p));
        if (!nul)
            return false;
        *pp = nul + 1;
        return true;
    }
    case DW_FORM_block1:
        if (p >= end)
            return false;
        n = *p++;
        break;
    case DW_FORM_block2:
        if (end - p < 2)
            return false;
        n = (uint64_t)p[0] | (uint64_t)p[1] << 8;
        p += 2;
        break;
    case DW_FORM_block4:
        if (end - p < 4)
            return false;
        n = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
        p += 4;
        break;
    case DW_FORM_block:
    case DW_FORM_exprloc:
        if (!raw_uleb(&p, end, &n))
            return false;
        break;
    case DW_FORM_indirect:
        if (!raw_uleb(&p, end, &v) || v == DW_FORM_indirect || v == DW_FORM_implicit_const)
            return false;
        *pp = p;
        return raw_skip_form(u, pp, v, ref);
    default:
        return false;
    }
    if ((uint64_t)(end - p) < n)
        return false;
    if (n <= 8)
        for (uint64_t i = 0; i < n; i++)
            v |= (uint64_t)p[i] << (8 * i);
    *pp = p + n;
    *ref = v;
    return true;
}

/* Reads the DIE at *pp: its abbreviation (NULL for a null entry); *pp moves past its
 * attributes, *sibling gets where DW_AT_sibling points (NULL without one). False when the
 * DIE cannot be read here. */
static inline __attribute__((always_inline)) bool raw_die(const struct raw_unit *u,
                                                          const unsigned char **pp,
                                                          const struct abbrev **ab,
                                                          const unsigned char **sibling)
{
    uint64_t code;
    *sibling = NULL;
    if (!raw_uleb(pp, u->end, &code))
        return false;
    if (code == 0) {
        *ab = NULL;
        return true;
    }
    if (code >= u->nabbrevs || !u->abbrevs[code].known)
        return false;
    const struct abbrev *a = *ab = &u->abbrevs[code];
    if (a->fixed >= 0) { /* the common case: step over the values at once */
        const unsigned char *attrs = *pp;
        if ((uint64_t)(u->end - attrs) < (uint64_t)a->fixed)
            return false;
        *pp = attrs + a->fixed;
        if (a->sib_size > 0) {
            const unsigned char *base = a->sib_from_section ? u->section : u->start;
            uint64_t v = read_le(attrs + a->sib_at, a->sib_size);
            *sibling = v < (uint64_t)(u->end - base) ? base + v : NULL;
        }
        return true;
    }
    for (uint32_t i = 0; i < a->nspecs; i++) {
        const struct spec *sp = &u->specs[a->first + i];
        uint64_t v = 0;
        if (!raw_skip_form(u, pp, sp->form, &v))
            return false;
        if (sp->name == DW_AT_sibling) {
            const unsigned char *base = sp->form == DW_FORM_ref_addr ? u->section : u->start;
            if (sp->form == DW_FORM_ref_addr || sp->form == DW_FORM_ref1 ||
                sp->form == DW_FORM_ref2 || sp->form == DW_FORM_ref4 ||
                sp->form == DW_FORM_ref8 || sp->form == DW_FORM_ref_udata)
                *sibling = v < (uint64_t)(u->end - base) ? base + v : NULL;
        }
    }
    return true;
}

/* The DIE after the one at p whose attributes end at after (its children skipped). */
static bool raw_next(const struct raw_unit *u, const unsigned char *p, const unsigned char *after,
                     const struct abbrev *a, const unsigned char *sibling,
                     const unsigned char **next)
{
    if (!a->children) {
        *next = after;
        return true;
    }
    if (sibling && sibling > p) {
        *next = sibling;
        return true;
    }
    unsigned depth = 1;
    const unsigned char *q = after;
    while (depth > 0) {
        const struct abbrev *c;
        const unsigned char *sib;
        const unsigned char *at = q;
        if (q >= u->end || !raw_die(u, &q, &c, &sib))
            return false;
        if (!c) {
            depth--;
            continue;
        }
        if (c->children) {
            if (sib && sib > at)
                q = sib;
            else
                depth++;
        }
    }
    *next = q;
    return true;
}

/* add_outer for the DIE at p (attributes ending at after): a DW_AT_low_pc and DW_AT_high_pc
 * of its own are read in place (dwarf_ranges gives them precedence over DW_AT_ranges, and
 * reads a constant high_pc as an offset from low_pc); anything else goes to dwarf_ranges. */
static int add_outer_raw(struct cu_index *ix, const struct raw_unit *u, const struct abbrev *a,
                         const unsigned char *p, const unsigned char *after, Dwarf_Die *die)
{
    if (!a->has_lo || !a->has_hi || a->lo_form != DW_FORM_addr || u->addr_size != 8)
        return add_outer(ix, die);
    int hsize = form_size(a->hi_form, u->version, u->addr_size, u->offset_size);
    bool hconst = a->hi_form == DW_FORM_data1 || a->hi_form == DW_FORM_data2 ||
                  a->hi_form == DW_FORM_data4 || a->hi_form == DW_FORM_data8;
    if (!hconst && a->hi_form != DW_FORM_addr)
        return add_outer(ix, die);
    /* the attributes start after the abbreviation code */
    const unsigned char *attrs = p;
    while (*attrs & 0x80)
        attrs++;
    attrs++;
    const unsigned char *lop = a->lo_at >= 0 ? attrs + a->lo_at : NULL;
    const unsigned char *hip = a->hi_at >= 0 ? attrs + a->hi_at : NULL;
    if (!lop || !hip) { /* a value of varying size before them: step over the values */
        const unsigned char *q = attrs;
        for (uint32_t i = 0; i < a->nspecs; i++) {
            const struct spec *sp = &u->specs[a->first + i];
            if (sp->name == DW_AT_low_pc)
                lop = q;
            else if (sp->name == DW_AT_high_pc)
                hip = q;
            uint64_t v;
            if (!raw_skip_form(u, &q, sp->form, &v))
                return add_outer(ix, die);
        }
    }
    if (!lop || !hip || lop + 8 > after || hip + hsize > after)
        return add_outer(ix, die);
    Dwarf_Addr lo = read_le(lop, 8);
    Dwarf_Addr hi = read_le(hip, hsize);
    if (hconst)
        hi += lo;
    if (hi <= lo)
        return 0;
    long e = new_entry(ix, die, -1);
    if (e < 0 || ARRAY_GROW(ix->outer, ix->nouter, ix->capouter) < 0)
        return -1;
    ix->outer[ix->nouter++] = (struct range){lo, hi, e};
    return 0;
}

struct raw_frame {
    const unsigned char *kids; /* the first child */
    bool in_function;
};

/* walk_outer over the raw DIEs; -1: out of memory; -2: cannot read the unit here (nothing
 * added). */
static int walk_outer_raw(struct cu_index *ix, bool deep)
{
    struct raw_unit u;
    if (!raw_unit_open(&u, &ix->cu, ix->dbg)) {
        raw_unit_free(&u);
        return -2;
    }
    size_t nentries = ix->nentries, nouter = ix->nouter, dies = 0;
    const char *lo = ix->span_lo, *hi = ix->span_hi; /* kept here, not in ix, while walking */
    struct raw_frame *stack = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    const unsigned char *p = (const unsigned char *)ix->cu.addr;
    const struct abbrev *a;
    const unsigned char *sib;
    if (!raw_die(&u, &p, &a, &sib) || !a) {
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
            if (at >= u.end || !raw_die(&u, &after, &a, &sib)) {
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
            if (defines_functions(a->definer, deep, f.in_function) && a->children &&
                after < u.end && *after != 0) {
                if (ARRAY_GROW(stack, n, cap) < 0) {
                    rc = -1;
                    break;
                }
                stack[n++] = (struct raw_frame){after, f.in_function || fn};
            }
            if (!raw_next(&u, at, after, a, sib, &p))
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
    raw_unit_free(&u);
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
    array_sort(ix->outer, ix->nouter, sizeof *ix->outer, cmp_range);
    ix->changed = true;
    return ix;
}

struct die_pos {
    uint64_t die;
    size_t i;
};

static int cmp_die_pos(const void *a, const void *b)
{
    const struct die_pos *x = a, *y = b;
    if (x->die != y->die)
        return x->die < y->die ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

struct cu_index *cu_index_from_table(Dwarf_Die *cudie, const struct cu_fn *fns, size_t n,
                                     bool deep)
{
    struct cu_index *ix = new_index(cudie);
    if (!ix)
        return NULL;
    Dwarf_Off culo = dwarf_dieoffset(cudie);
    /* a function with several ranges is one entry, numbered at its first range: the ranges
     * sorted by DIE offset give each the first of its function (an array and one sort, not
     * a hash table with a key allocated per function) */
    struct die_pos *pos = malloc((n ? n : 1) * sizeof *pos);
    size_t *first = malloc((n ? n : 1) * sizeof *first);
    long *entry = malloc((n ? n : 1) * sizeof *entry);
    if (!pos || !first || !entry)
        goto fail;
    for (size_t i = 0; i < n; i++)
        pos[i] = (struct die_pos){fns[i].die, i};
    array_sort(pos, n, sizeof *pos, cmp_die_pos);
    for (size_t k = 0; k < n; k++)
        first[pos[k].i] = k > 0 && pos[k - 1].die == pos[k].die ? first[pos[k - 1].i] : pos[k].i;
    if (n && (!(ix->entries = malloc(n * sizeof *ix->entries)) ||
              !(ix->outer = malloc(n * sizeof *ix->outer))))
        goto fail;
    ix->capentries = ix->capouter = n;
    for (size_t i = 0; i < n; i++) {
        entry[i] = -1;
        if (fns[i].hi <= fns[i].lo || fns[i].die <= culo)
            continue; /* not a function of this unit: a damaged table */
        long e = first[i] < i ? entry[first[i]] : -1;
        if (e < 0) {
            if ((e = new_entry_at(ix, fns[i].die)) < 0)
                goto fail;
            entry[first[i]] = e; /* the first range may have been passed over */
        }
        entry[i] = e;
        if (ARRAY_GROW(ix->outer, ix->nouter, ix->capouter) < 0)
            goto fail;
        ix->outer[ix->nouter++] = (struct range){fns[i].lo, fns[i].hi, e};
    }
    free(pos);
    free(first);
    free(entry);
    /* a stored table is written in this order: sorted again only when it is not */
    bool sorted = true;
    for (size_t i = 1; i < ix->nouter && sorted; i++)
        sorted = cmp_range(&ix->outer[i - 1], &ix->outer[i]) <= 0;
    if (!sorted)
        array_sort(ix->outer, ix->nouter, sizeof *ix->outer, cmp_range);
    ix->deep = deep;
    return ix;
fail:
    free(pos);
    free(first);
    free(entry);
    cu_index_free(ix);
    return NULL;
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
                                   ix->entries[ix->outer[i].ref].off};
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
    hmap_free(&ix->entry_map);
    free(ix);
}

/* The out-of-line function whose range holds pc, narrowing [*vlo, *vhi) to that range and
 * away from the functions around it; -1 when none. */
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
                found = r->ref;
                if (r->lo > *vlo)
                    *vlo = r->lo;
                if (r->hi < *vhi)
                    *vhi = r->hi;
            }
        } else if (found < 0 && r->hi > *vlo) {
            *vlo = r->hi;
        }
        if (found >= 0 || lo - i > 64)
            break;
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

/* Lists the children with code of scope s (once): their ranges, sorted. A child holding a
 * range that overlaps another child's is dropped (broken DWARF). */
static int list_kids(struct cu_index *ix, long s)
{
    if (ix->scopes[s].listed)
        return 0;
    struct range *kids = NULL;
    size_t n = 0, cap = 0;
    Dwarf_Die parent = ix->scopes[s].die, child;
    long entry = ix->scopes[s].entry;
    if (dwarf_child(&parent, &child) == 0) {
        do {
            ix->dies_walked++;
            int tag = dwarf_tag(&child);
            if (!has_code_tag(tag))
                continue;
            long e = entry;
            if (tag == DW_TAG_inlined_subroutine) {
                /* one entry per DIE, even when a broken parent chain lists it twice */
                uint32_t idx;
                if (hmap_get(&ix->entry_map, &child.addr, sizeof child.addr, &idx)) {
                    e = (long)idx;
                } else {
                    if ((e = new_entry(ix, &child, entry)) < 0 ||
                        hmap_intern(&ix->entry_map, &child.addr, sizeof child.addr, (uint32_t)e,
                                    &idx) < 0)
                        goto oom;
                }
            }
            long sc = -1;
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
                if (hi <= lo)
                    continue;
                if (sc < 0 && (sc = new_scope(ix, &child, e)) < 0)
                    goto oom;
                if (ARRAY_GROW(kids, n, cap) < 0)
                    goto oom;
                kids[n++] = (struct range){lo, hi, sc};
            }
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    array_sort(kids, n, sizeof *kids, cmp_range);
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
oom:
    free(kids);
    return -1;
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
            array_sort(ix->outer, ix->nouter, sizeof *ix->outer, cmp_range);
        vlo = 0;
        vhi = UINT64_MAX;
        fn = find_outer(ix, pc, &vlo, &vhi);
    }
    if (fn < 0) {
    unknown:
        if (range_lo)
            *range_lo = pc;
        if (range_hi)
            *range_hi = pc + 1;
        return -1;
    }
    long s = ix->entries[fn].scope;
    if (s < 0) {
        Dwarf_Die *die = cu_index_die(ix, fn);
        if (!die)
            goto unknown;
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
        s = k->ref;
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
        ix->lang = dwarf_srclang(&ix->cu);
        ix->have_lang = true;
    }
    return ix->lang;
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
        int tag = dwarf_tag(&d);
        if (tag != DW_TAG_subprogram && tag != DW_TAG_entry_point)
            return NULL;
        e->die = d;
    }
    return &e->die;
}

void **cu_index_slot(struct cu_index *ix, long i)
{
    return &ix->entries[i].slot;
}

size_t cu_index_size(const struct cu_index *ix)
{
    return ix->nentries;
}

size_t cu_index_dies_walked(const struct cu_index *ix)
{
    return ix->dies_walked;
}
