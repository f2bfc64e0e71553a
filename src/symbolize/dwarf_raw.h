/* SPDX-License-Identifier: MIT */
/* dwarf_raw.h — a unit's DIEs read straight from .debug_info: per DIE its abbreviation code,
 * then its attribute values stepped over by their forms (at once when all have fixed sizes) or
 * its children jumped by DW_AT_sibling; dwarf_siblingof and dwarf_tag look the abbreviation up
 * and decode every attribute again per DIE. The abbreviations are read here too, from the
 * unit's table in .debug_abbrev, as far as the codes DIEs use (libdw's reading of them, a
 * hashed and allocated entry each, was a fifth of a cached exit's instructions on assimp's
 * tests); and so are the unit DIE's own attributes a reader needs (dwraw_unit_facts): GCC
 * numbers abbreviations by use, the unit DIE's last, so one question to libdw about the unit
 * DIE reads the unit's whole table. Readers (the function index's unit walks and scope listings,
 * the scopes that name a function) visit the same DIEs in the same order as through libdw, which
 * they fall back to where this reader cannot read (a form it does not know, a split or type unit).
 * A DIE's code ranges are read in place too: its low and high pc, or its DW_AT_ranges list
 * (dwarf_ranges looks the attribute up again and decodes the list through libdw's
 * abbreviations). Private to the symbolizer; not for the signal handler. */
#ifndef PROFREG_DWARF_RAW_H
#define PROFREG_DWARF_RAW_H

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One abbreviation: its tag, whether DIEs using it have children, its attribute forms. */
struct dwraw_abbrev {
    uint32_t gen;               /* the opening of a unit it was written for (dwraw_unit.gen) */
    const unsigned char *entry; /* its tag in .debug_abbrev, once the scan has passed it */
    unsigned tag;
    bool children, declaration, known;
    bool function;          /* DW_TAG_subprogram or DW_TAG_entry_point */
    uint32_t first, nspecs; /* its (name, form) pairs in dwraw_unit.specs */
    /* when every value has a fixed size: their total, else -1; and where DW_AT_sibling,
     * DW_AT_low_pc, DW_AT_high_pc and DW_AT_ranges start when every value before them has a
     * fixed size
     * (-1: absent or not at a fixed place) */
    int32_t fixed, sib_at, lo_at, hi_at, ranges_at;
    uint32_t sib_form, lo_form, hi_form, ranges_form;
    /* with fixed >= 0: the size of a DW_AT_sibling value at sib_at that is a reference
     * (0: none), and whether it counts from the section (DW_FORM_ref_addr) */
    int8_t sib_size;
    bool sib_from_section;
    bool has_lo, has_hi, has_ranges; /* DW_AT_low_pc, DW_AT_high_pc, DW_AT_ranges among them */
};

struct dwraw_spec {
    uint32_t name;
    uint16_t form;
    int16_t size;         /* of its values when fixed (dwraw_form_size), else -1 */
    uint32_t implicit_at; /* DW_FORM_implicit_const: its value's offset in .debug_abbrev
                           * (UINT32_MAX: not known) */
};

/* What the readers need of a unit's own DIE (dwraw_unit_facts): as libdw's dwarf_srclang,
 * DW_AT_stmt_list, DW_AT_comp_dir and the base address dwarf_ranges takes (DW_AT_low_pc, else
 * DW_AT_entry_pc, else 0) give them. */
struct dwraw_facts {
    int lang; /* -1: none */
    bool have_stmt_list;
    uint64_t stmt_list;
    const char *comp_dir; /* NULL: none */
    uint64_t base;
};

/* A unit's raw bytes and the abbreviations its DIEs read so far have used. */
struct dwraw_unit {
    const unsigned char *start, *end, *section; /* unit header start, end, .debug_info start */
    unsigned version, addr_size, offset_size;
    struct dwraw_abbrev *abbrevs; /* by code; code 0 unused */
    size_t nabbrevs, capabbrevs;
    struct dwraw_abbrev **retired; /* tables it outgrew while open: freed when it is closed */
    size_t nretired, capretired;
    uint32_t gen; /* abbrevs of another gen are another unit's: not cleared, passed over */
    struct dwraw_spec *specs;
    size_t nspecs, capspecs;
    Dwarf_CU *cu;
    const void *key; /* the unit DIE's address once opened; NULL before */
    const unsigned char *abbrev_sec; /* .debug_abbrev as libdw holds it, or NULL */
    size_t abbrev_size;
    /* the unit's table in it, and how far the scan for codes has read it */
    const unsigned char *abbrev_table, *abbrev_scan;
    const uint32_t *hints; /* where an earlier run's scan found the codes (struct dwraw_hints) */
    size_t nhints;         /* 0: none given (this opening's scan may be kept as hints) */
    bool hints_put;        /* what the scan found went to the store */
    Dwarf *dbg;
    /* .debug_str and .debug_line_str, for the unit DIE's DW_AT_comp_dir */
    const unsigned char *str_sec, *line_str_sec;
    size_t str_size, line_str_size;
    bool have_str_secs;
    struct dwraw_facts facts;
    int facts_state; /* 0: not read yet; 1: read; -1: not readable here (ask libdw) */
    /* for DW_AT_ranges, found when first asked: .debug_ranges (DWARF 2-4) or .debug_rnglists
     * (DWARF 5), and the unit's base address as libdw takes it */
    const unsigned char *ranges_sec;
    size_t ranges_size;
    uint64_t base;
    bool have_ranges_sec, have_base;
};

/* A code range [lo, hi). */
struct dwraw_range {
    uint64_t lo, hi;
};

/* What the header of the unit whose DIE is cudie (of dbg) says: its bytes [start, end) where
 * libdw holds .debug_info (which starts at section), where its abbreviations start in
 * .debug_abbrev, and its address and offset sizes. False when it cannot be read. */
struct dwraw_header {
    const unsigned char *start, *end, *section;
    Dwarf_Off abbrev_off;
    uint8_t addr_size, offset_size;
};
bool dwraw_header(Dwarf_Die *cudie, Dwarf *dbg, struct dwraw_header *h);

/* Opens the unit of cudie (a compile or partial unit of dbg) for reading; false when it
 * cannot be read here. The unit closed last is kept: opened again with the abbreviations it
 * has used (the index and the names read a unit in turns), and another unit reuses its
 * buffers. Call dwraw_close in either case. */
bool dwraw_open(struct dwraw_unit *u, Dwarf_Die *cudie, Dwarf *dbg);
void dwraw_close(struct dwraw_unit *u);

/* Forgets the unit dwraw_close kept for the next open (this thread's). Call before ending the Dwarf
 * handles read through: the kept unit points into their sections, and is recognised by the
 * addresses of the handle, unit and DIE, which a later handle may be given again (a snapshot's
 * symbolizer, then the exit's). */
void dwraw_forget(void);
/* For tests: is a unit kept for the next open? */
bool dwraw_keeps_a_unit(void);

/* Where the abbreviations of a unit lie in its table, kept across runs so that a unit's first
 * opening in a later run does not scan the table again from its start (finding the codes a
 * lookup's DIEs use took 1-1.5 ms of a cached exit on assimp's tests, some 35,000 entries
 * read): hints[0] is how far the scan read, in bytes from the table's start (UINT32_MAX: to
 * its end); hints[c], for code c, is 1 + the offset of the code's entry (its tag), or 0 when
 * the scan did not pass it. A unit opened without hints hands what its scan found to put when
 * it stops being kept (another unit opened) or at dwraw_save_hints. */
struct dwraw_hints {
    /* The hints of the unit whose DIE is at cu_addr: true with *v and *n. */
    bool (*get)(void *ctx, const void *cu_addr, const uint32_t **v, size_t *n);
    /* Takes (copies) the hints a scan of that unit found. */
    void (*put)(void *ctx, const void *cu_addr, const uint32_t *v, size_t n);
    void *ctx;
};
/* Sets where this thread's hints come from and go (NULL: nowhere): the symbolizer in use sets
 * it and clears it when it closes (one per thread: the symbol cache's helper thread has its
 * own; the kept unit is per thread too). */
void dwraw_set_hints(const struct dwraw_hints *h);
/* Hands on the hints of the unit kept, if it has new ones. */
void dwraw_save_hints(void);
/* For tests: table entries this thread's scans for codes have read since it started. */
extern __thread size_t dwraw_entries_scanned;

/* The bytes of dbg's section `name` as libdw reads them (a compressed section uncompressed,
 * when libdw opened the file), or NULL when dbg's file has no such section. */
const Elf_Data *dwraw_section(Dwarf *dbg, const char *name);

/* For tests: when true, dwraw_open fails, so that every reader goes through libdw (what it
 * falls back to) and the two can be compared. */
extern bool dwraw_disabled;

/* Defines abbreviation code, which the DIE at `at` uses: its tag, children flag and attribute
 * forms, then what the readers take of it at once (dwraw_die calls it for a code not seen yet
 * in this unit). Read from the unit's table, scanned as far as the code (libdw's reading of
 * the DIE's abbreviation where the table is not there to read). False when neither can read
 * it. */
bool dwraw_abbrev_define(struct dwraw_unit *u, uint64_t code, const unsigned char *at);

/* The facts of u's unit DIE (read once per opening of the unit, kept with the unit closed
 * last); false when a value is in a form not read here (an index into .debug_str_offsets or
 * .debug_addr, an implicit constant): ask libdw. */
bool dwraw_unit_facts(struct dwraw_unit *u, struct dwraw_facts *out);

/* The same for the unit of cudie: opened, read and closed; false when the unit cannot be
 * read here either. */
bool dwraw_facts_of(Dwarf_Die *cudie, struct dwraw_facts *out);

/* dwarf_tag(die), read in place where it can be (through libdw, a DIE whose abbreviation
 * comes late in its unit's table reads the table that far, hashing and allocating each). */
int dwraw_tag(Dwarf_Die *die);

/* dwarf_getattrs(die, callback, arg, 0), read in place where it can be: callback gets each
 * attribute as libdw makes it (its name, form, value's place and unit) in order. Returns 1
 * when every attribute went by, a value other than 1 when callback stopped it (not an offset
 * to resume from), -1 when a value cannot be stepped over (as libdw: after the attributes
 * before it). */
ptrdiff_t dwraw_getattrs(Dwarf_Die *die, int (*callback)(Dwarf_Attribute *, void *), void *arg);

/* The size of a value of form in a unit with these sizes, or -1 when it varies. */
int dwraw_form_size(uint64_t form, unsigned version, unsigned addr_size, unsigned offset_size);

/* Steps p over one attribute value of form; false when the form is unknown or the value
 * runs past the unit. *ref gets the value of a reference or constant form. */
bool dwraw_skip_form(const struct dwraw_unit *u, const unsigned char **pp, uint64_t form,
                     uint64_t *ref);

/* dwraw_next for a DIE with children and no DW_AT_sibling past it: reads its children. */
bool dwraw_next_through_children(struct dwraw_unit *u, const unsigned char *after,
                                 const unsigned char **next);

/* The DIE after the one at p whose attributes end at after (its children skipped): a, p's
 * abbreviation, is read before any child is, and may be stale afterwards. */
static inline bool dwraw_next(struct dwraw_unit *u, const unsigned char *p,
                              const unsigned char *after, const struct dwraw_abbrev *a,
                              const unsigned char *sibling, const unsigned char **next)
{
    if (!a->children) {
        *next = after;
        return true;
    }
    if (sibling && sibling > p) {
        *next = sibling;
        return true;
    }
    return dwraw_next_through_children(u, after, next);
}

/* The DIE's own DW_AT_low_pc and DW_AT_high_pc, read in place (dwarf_ranges gives them
 * precedence over DW_AT_ranges, and reads a constant high_pc as an offset from low_pc): true
 * with [*lo, *hi); false when the DIE has not both in forms read here (ask dwarf_ranges). p
 * is the DIE, after the end of its attributes. */
bool dwraw_pc_range(const struct dwraw_unit *u, const struct dwraw_abbrev *a,
                    const unsigned char *p, const unsigned char *after, uint64_t *lo, uint64_t *hi);

/* The DIE's DW_AT_ranges list read in place, as dwarf_ranges gives it for a DIE without
 * DW_AT_low_pc and DW_AT_high_pc: its pairs appended to *v (growing *cap) in list order, empty
 * ones included. p is the DIE, after the end of its attributes. False, with *n as it was,
 * when the list cannot be read here (an index form, entries through .debug_addr, a split
 * unit, a list running out of its section): ask dwarf_ranges. */
bool dwraw_ranges(struct dwraw_unit *u, const struct dwraw_abbrev *a, const unsigned char *p,
                  const unsigned char *after, struct dwraw_range **v, size_t *n, size_t *cap);

/* A little-endian value of n <= 8 bytes (4 and 8 read at once). */
static inline uint64_t dwraw_read_le(const unsigned char *p, int n)
{
    if (n == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        return le64toh(v);
    }
    if (n == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return le32toh(v);
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline bool dwraw_uleb(const unsigned char **pp, const unsigned char *end, uint64_t *v)
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

/* Reads the DIE at *pp: its abbreviation (NULL for a null entry); *pp moves past its
 * attributes, *sibling gets where DW_AT_sibling points (NULL without one). False when the
 * DIE cannot be read here. *ab stays valid until the unit is closed (a table outgrown is
 * kept until then). */
static inline __attribute__((always_inline)) bool dwraw_die(struct dwraw_unit *u,
                                                            const unsigned char **pp,
                                                            const struct dwraw_abbrev **ab,
                                                            const unsigned char **sibling)
{
    uint64_t code;
    const unsigned char *at = *pp;
    *sibling = NULL;
    if (!dwraw_uleb(pp, u->end, &code))
        return false;
    if (code == 0) {
        *ab = NULL;
        return true;
    }
    if ((code >= u->capabbrevs || u->abbrevs[code].gen != u->gen || !u->abbrevs[code].known) &&
        !dwraw_abbrev_define(u, code, at))
        return false;
    const struct dwraw_abbrev *a = *ab = &u->abbrevs[code];
    if (a->fixed >= 0) { /* the common case: step over the values at once */
        const unsigned char *attrs = *pp;
        if ((uint64_t)(u->end - attrs) < (uint64_t)a->fixed)
            return false;
        *pp = attrs + a->fixed;
        if (a->sib_size > 0) {
            const unsigned char *base = a->sib_from_section ? u->section : u->start;
            uint64_t v = dwraw_read_le(attrs + a->sib_at, a->sib_size);
            *sibling = v < (uint64_t)(u->end - base) ? base + v : NULL;
        }
        return true;
    }
    for (uint32_t i = 0; i < a->nspecs; i++) {
        const struct dwraw_spec *sp = &u->specs[a->first + i];
        uint64_t v = 0;
        if (sp->size >= 0 && sp->name != DW_AT_sibling) { /* most values: a fixed size */
            if (u->end - *pp < sp->size)
                return false;
            *pp += sp->size;
            continue;
        }
        if (!dwraw_skip_form(u, pp, sp->form, &v))
            return false;
        if (sp->name == DW_AT_sibling) {
            const unsigned char *base = sp->form == DW_FORM_ref_addr ? u->section : u->start;
            if (sp->form == DW_FORM_ref_addr || sp->form == DW_FORM_ref1 ||
                sp->form == DW_FORM_ref2 || sp->form == DW_FORM_ref4 || sp->form == DW_FORM_ref8 ||
                sp->form == DW_FORM_ref_udata)
                *sibling = v < (uint64_t)(u->end - base) ? base + v : NULL;
        }
    }
    return true;
}

#endif
