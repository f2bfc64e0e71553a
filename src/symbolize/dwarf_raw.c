/* SPDX-License-Identifier: MIT */
/* dwarf_raw.c — a unit's DIEs read straight from .debug_info (see dwarf_raw.h). */
#include "symbolize/dwarf_raw.h"

#include "core/array.h"

#include <gelf.h>
#include <stdlib.h>
#include <string.h>

/* The unit closed last, kept for the next open: the scope listings of one unit follow each
 * other, and a large C++ unit's abbreviations were grown afresh (then freed) for every unit
 * (15 % of the page faults of an exit on assimp's tests). One per thread, as the hints' store
 * is: the symbol cache's helper thread (symcache_prepare) reads its own libdw handles with a
 * symbolizer of its own. */
static __thread struct dwraw_unit *spare_unit;
static __thread struct dwraw_hints hint_store; /* get == NULL: none */
static void free_kept(struct dwraw_unit *old);

/* This thread's kept unit, replaced by u. */
static struct dwraw_unit *swap_spare(struct dwraw_unit *u)
{
    struct dwraw_unit *old = spare_unit;
    spare_unit = u;
    return old;
}
__thread size_t dwraw_entries_scanned;

void dwraw_set_hints(const struct dwraw_hints *h)
{
    hint_store = h ? *h : (struct dwraw_hints){0};
}

/* Hands the hints u's scan found to the store: for a unit opened without hints whose scan
 * read something. */
static void put_hints(struct dwraw_unit *u)
{
    if (!hint_store.put || u->nhints || u->hints_put || !u->key || !u->abbrev_table ||
        u->abbrev_scan == u->abbrev_table)
        return;
    u->hints_put = true;
    size_t n = u->nabbrevs > 1 ? u->nabbrevs : 1;
    uint32_t *v = calloc(n, sizeof *v);
    if (!v)
        return;
    size_t room = u->abbrev_size - (size_t)(u->abbrev_table - u->abbrev_sec);
    v[0] = u->abbrev_scan ? (uint32_t)(u->abbrev_scan - u->abbrev_table) : UINT32_MAX;
    bool ok = room < UINT32_MAX;
    for (size_t c = 1; c < n && c < u->capabbrevs && ok; c++)
        if (u->abbrevs[c].gen == u->gen && u->abbrevs[c].entry)
            v[c] = (uint32_t)(u->abbrevs[c].entry - u->abbrev_table) + 1;
    if (ok)
        hint_store.put(hint_store.ctx, u->key, v, n);
    free(v);
}

void dwraw_save_hints(void)
{
    struct dwraw_unit *kept = swap_spare(NULL);
    if (kept) {
        put_hints(kept);
        free_kept(swap_spare(kept));
    }
}

/* The size of a value of form in a unit with these sizes, or -1 when it varies. */
int dwraw_form_size(uint64_t form, unsigned version, unsigned addr_size, unsigned offset_size)
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

/* Frees a unit taken out of spare_unit (NULL: none). */
static void free_kept(struct dwraw_unit *old)
{
    if (old) {
        free(old->abbrevs);
        free(old->specs);
        free(old);
    }
}

void dwraw_close(struct dwraw_unit *u)
{
    for (size_t i = 0; i < u->nretired; i++) /* no reader holds an abbreviation any more */
        free(u->retired[i]);
    free(u->retired);
    u->retired = NULL;
    u->nretired = u->capretired = 0;
    struct dwraw_unit *b = malloc(sizeof *b);
    if (!b) {
        free(u->abbrevs);
        free(u->specs);
        return;
    }
    *b = *u;
    free_kept(swap_spare(b));
}

void dwraw_forget(void)
{
    free_kept(swap_spare(NULL));
}

bool dwraw_keeps_a_unit(void)
{
    return spare_unit != NULL;
}

/* The bytes of dbg's section name (libdw has uncompressed a compressed one in place when it
 * opened the file), or NULL. */
static const Elf_Data *debug_section(Dwarf *dbg, const char *want)
{
    Elf *elf = dwarf_getelf(dbg);
    size_t shstrndx;
    GElf_Ehdr eh;
    if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0 || !gelf_getehdr(elf, &eh) ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return NULL;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
        if (name && strcmp(name, want) == 0)
            return sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED)
                       ? NULL
                       : elf_getdata(scn, NULL);
    }
    return NULL;
}

const Elf_Data *dwraw_section(Dwarf *dbg, const char *name)
{
    return dbg ? debug_section(dbg, name) : NULL;
}

bool dwraw_disabled;

bool dwraw_header(Dwarf_Die *cudie, Dwarf *dbg, struct dwraw_header *h)
{
    Dwarf_Off die_off = dwarf_dieoffset(cudie), hdr = dwarf_cuoffset(cudie), next;
    size_t hsize;
    if (die_off < hdr ||
        dwarf_next_unit(dbg, die_off - hdr, &next, &hsize, NULL, &h->abbrev_off, &h->addr_size,
                        &h->offset_size, NULL, NULL) != 0 ||
        hsize != hdr || next <= die_off)
        return false;
    h->start = (const unsigned char *)cudie->addr - hdr;
    h->end = h->start + (next - (die_off - hdr));
    h->section = h->start - (die_off - hdr);
    return true;
}

bool dwraw_open(struct dwraw_unit *u, Dwarf_Die *cudie, Dwarf *dbg)
{
    memset(u, 0, sizeof *u);
    if (dwraw_disabled)
        return false;
    struct dwraw_unit *spare = swap_spare(NULL);
    if (spare) {
        if (spare->key && spare->key == cudie->addr && spare->cu == cudie->cu) {
            *u = *spare; /* the unit read last, with the abbreviations it used */
            free(spare);
            return true;
        }
        put_hints(spare); /* (before its abbreviations are taken over) */
        u->abbrevs = spare->abbrevs;
        u->capabbrevs = spare->capabbrevs;
        u->specs = spare->specs;
        u->capspecs = spare->capspecs;
        /* the last unit's abbreviations stay, of an older generation (clearing them was
         * 20,000 instructions a unit switch) */
        u->gen = spare->gen + 1;
        if (u->gen == 0) {
            memset(u->abbrevs, 0, u->capabbrevs * sizeof *u->abbrevs);
            u->gen = 1;
        }
        if (spare->dbg == dbg) { /* the same file's sections: not looked for again */
            u->abbrev_sec = spare->abbrev_sec;
            u->abbrev_size = spare->abbrev_size;
            u->str_sec = spare->str_sec;
            u->str_size = spare->str_size;
            u->line_str_sec = spare->line_str_sec;
            u->line_str_size = spare->line_str_size;
            u->have_str_secs = spare->have_str_secs;
            u->dbg = dbg;
        }
        free(spare);
    }
    if (u->gen == 0)
        u->gen = 1; /* (buffers of its own: every slot is of generation 0) */
    Dwarf_Half version;
    uint8_t unit_type;
    if (!cudie->cu ||
        dwarf_cu_info(cudie->cu, &version, &unit_type, NULL, NULL, NULL, NULL, NULL) != 0 ||
        (unit_type != DW_UT_compile && unit_type != DW_UT_partial) || version < 2 || version > 5)
        return false;
    struct dwraw_header h;
    if (!dwraw_header(cudie, dbg, &h))
        return false;
    Dwarf_Off abbrev_off = h.abbrev_off;
    u->start = h.start;
    u->end = h.end;
    u->section = h.section;
    u->version = version;
    u->addr_size = h.addr_size;
    u->offset_size = h.offset_size;
    u->cu = cudie->cu;
    u->key = cudie->addr;
    if (u->dbg != dbg) {
        u->dbg = dbg;
        const Elf_Data *ad = debug_section(dbg, ".debug_abbrev");
        if (ad && ad->d_buf) {
            u->abbrev_sec = ad->d_buf;
            u->abbrev_size = ad->d_size;
        }
    }
    if (u->abbrev_sec && abbrev_off < u->abbrev_size)
        u->abbrev_table = u->abbrev_scan = u->abbrev_sec + abbrev_off;
    const uint32_t *hv;
    size_t hn;
    if (u->abbrev_table && hint_store.get && hint_store.get(hint_store.ctx, u->key, &hv, &hn) &&
        hn > 0) {
        /* the scan goes on from where the earlier one stopped */
        size_t room = u->abbrev_size - abbrev_off;
        if (hv[0] == UINT32_MAX || hv[0] <= room) {
            u->hints = hv;
            u->nhints = hn;
            u->abbrev_scan = hv[0] == UINT32_MAX ? NULL : u->abbrev_table + hv[0];
        }
    }
    return true;
}

/* Makes room for code in u's table (zeroed), counted as written. */
static bool room_for(struct dwraw_unit *u, uint64_t code)
{
    if (code > (1u << 20))
        return false;
    size_t cap = u->capabbrevs;
    if (code >= cap) {
        size_t ncap = cap ? cap : 64;
        while (ncap <= code)
            ncap *= 2;
        /* a new table, the old one kept until the unit is closed: a reader may hold an
         * abbreviation of it while another DIE is read (the unit DIE, for the base address a
         * range list counts from), and abbreviations never change once defined */
        struct dwraw_abbrev *a = malloc(ncap * sizeof *a);
        if (!a || (u->abbrevs && ARRAY_GROW(u->retired, u->nretired, u->capretired) < 0)) {
            free(a);
            return false;
        }
        if (cap)
            memcpy(a, u->abbrevs, cap * sizeof *a);
        memset(a + cap, 0, (ncap - cap) * sizeof *a);
        if (u->abbrevs)
            u->retired[u->nretired++] = u->abbrevs;
        u->abbrevs = a;
        u->capabbrevs = ncap;
    }
    if (code + 1 > u->nabbrevs)
        u->nabbrevs = code + 1;
    struct dwraw_abbrev *a = &u->abbrevs[code];
    if (a->gen != u->gen) /* another unit's: this unit's from now on */
        *a = (struct dwraw_abbrev){.gen = u->gen};
    return true;
}

/* Steps over one abbreviation's (name, form) pairs at *pp, through the pair of zeros that ends
 * them. Most names and forms take a byte each. */
static inline bool skip_specs(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    for (;;) {
        uint64_t name, form, ignored;
        if (end - p >= 2 && !((p[0] | p[1]) & 0x80)) {
            name = p[0];
            form = p[1];
            p += 2;
        } else if (!dwraw_uleb(&p, end, &name) || !dwraw_uleb(&p, end, &form)) {
            return false;
        }
        if (name == 0 && form == 0)
            break;
        if (form == DW_FORM_implicit_const && !dwraw_uleb(&p, end, &ignored))
            return false; /* its value (a signed LEB128: the same length) */
    }
    *pp = p;
    return true;
}

/* Reads u's table on from where the scan stopped until code's entry, noting where each entry
 * passed starts (the first of a code, as libdw's table keeps it). False when the table ends
 * (or breaks) first. */
static bool scan_to(struct dwraw_unit *u, uint64_t code)
{
    const unsigned char *p = u->abbrev_scan, *end = u->abbrev_sec + u->abbrev_size;
    while (p) {
        uint64_t c, tag;
        if (!dwraw_uleb(&p, end, &c) || c == 0 ||
            ((c >= u->capabbrevs || u->abbrevs[c].gen != u->gen) && !room_for(u, c)))
            break;
        const unsigned char *entry = p;
        if (!dwraw_uleb(&p, end, &tag) || p >= end)
            break;
        p++; /* the children flag */
        if (!skip_specs(&p, end))
            break;
        if (!u->abbrevs[c].entry)
            u->abbrevs[c].entry = entry;
        dwraw_entries_scanned++;
        u->abbrev_scan = p;
        if (c == code)
            return true;
    }
    u->abbrev_scan = NULL; /* nothing more to find */
    return false;
}

/* Records one (name, form) pair of the abbreviation being defined. */
static bool add_spec(struct dwraw_unit *u, uint64_t name, uint64_t form, const unsigned char *value)
{
    if (name > UINT32_MAX || form > UINT16_MAX || ARRAY_GROW(u->specs, u->nspecs, u->capspecs) < 0)
        return false; /* no attribute or form of DWARF 5 or GNU's is that large */
    int size = dwraw_form_size(form, u->version, u->addr_size, u->offset_size);
    uint32_t at = value && u->abbrev_sec && (size_t)(value - u->abbrev_sec) < UINT32_MAX
                      ? (uint32_t)(value - u->abbrev_sec)
                      : UINT32_MAX;
    u->specs[u->nspecs++] =
        (struct dwraw_spec){(uint32_t)name, (uint16_t)form, (int16_t)(size < 0 ? -1 : size), at};
    return true;
}

/* ab's pairs read in one pass from .debug_abbrev, where libdw says the entry starts
 * (dwarf_getabbrevattr_data answers pair by pair from the first: quadratic). False, with
 * nothing recorded, when the entry is not there as libdw read it. */
static bool specs_in_place(struct dwraw_unit *u, const struct dwraw_abbrev *ab, Dwarf_Abbrev *la,
                           uint64_t code)
{
    unsigned name0, form0;
    Dwarf_Sword data;
    Dwarf_Off off;
    if (!u->abbrev_sec || dwarf_getabbrevattr_data(la, 0, &name0, &form0, &data, &off) != 0 ||
        off >= u->abbrev_size)
        return false;
    const unsigned char *p = u->abbrev_sec + off, *end = u->abbrev_sec + u->abbrev_size;
    uint64_t c, tag, name, form;
    if (!dwraw_uleb(&p, end, &c) || c != code || !dwraw_uleb(&p, end, &tag) || tag != ab->tag ||
        p >= end)
        return false;
    p++; /* the children flag, taken from libdw */
    size_t first = u->nspecs;
    for (;;) {
        if (!dwraw_uleb(&p, end, &name) || !dwraw_uleb(&p, end, &form))
            break;
        if (name == 0 && form == 0) {
            /* the list libdw read: its first pair the same */
            if (u->nspecs > first && u->specs[first].name == name0 &&
                u->specs[first].form == form0)
                return true;
            break;
        }
        uint64_t skip;
        const unsigned char *value = p;
        if (form == DW_FORM_implicit_const && !dwraw_uleb(&p, end, &skip))
            break; /* its value, in the abbreviation (a signed LEB128: same length) */
        if (!add_spec(u, name, form, form == DW_FORM_implicit_const ? value : NULL))
            break;
    }
    u->nspecs = first;
    return false;
}

/* The same pair by pair through libdw, up to the pair that ends the list, where
 * dwarf_getabbrevattr_data fails (0.188's dwarf_getattrcnt counts more than there are). */
static bool specs_through_libdw(struct dwraw_unit *u, Dwarf_Abbrev *la)
{
    for (size_t i = 0;; i++) {
        unsigned name, form;
        Dwarf_Sword data;
        Dwarf_Off off;
        if (dwarf_getabbrevattr_data(la, i, &name, &form, &data, &off) != 0)
            return true;
        if (!add_spec(u, name, form, NULL)) /* an implicit constant's place unknown */
            return false;
    }
}

/* What the readers take of ab at once, its tag, children flag and specs set. */
static void finish_abbrev(struct dwraw_unit *u, struct dwraw_abbrev *ab)
{
    ab->function = ab->tag == DW_TAG_subprogram || ab->tag == DW_TAG_entry_point;
    ab->nspecs = (uint32_t)u->nspecs - ab->first;
    ab->sib_at = ab->lo_at = ab->hi_at = ab->ranges_at = -1;
    int32_t pos = 0;
    for (uint32_t i = 0; i < ab->nspecs; i++) {
        const struct dwraw_spec *sp = &u->specs[ab->first + i];
        if (sp->name == DW_AT_declaration) {
            ab->declaration = true;
        } else if (sp->name == DW_AT_ranges) {
            ab->has_ranges = true;
            ab->ranges_form = sp->form;
        } else if (sp->name == DW_AT_low_pc) {
            ab->has_lo = true;
            ab->lo_form = sp->form;
        } else if (sp->name == DW_AT_high_pc) {
            ab->has_hi = true;
            ab->hi_form = sp->form;
        }
        if (pos < 0)
            continue; /* no fixed places from here on */
        if (sp->name == DW_AT_sibling) {
            ab->sib_at = pos;
            ab->sib_form = sp->form;
        } else if (sp->name == DW_AT_low_pc) {
            ab->lo_at = pos;
        } else if (sp->name == DW_AT_high_pc) {
            ab->hi_at = pos;
        } else if (sp->name == DW_AT_ranges) {
            ab->ranges_at = pos;
        }
        pos = sp->size < 0 ? -1 : pos + sp->size;
    }
    ab->fixed = pos;
    ab->sib_size = 0;
    ab->sib_from_section = ab->sib_form == DW_FORM_ref_addr;
    if (pos >= 0 && ab->sib_at >= 0 &&
        (ab->sib_form == DW_FORM_ref1 || ab->sib_form == DW_FORM_ref2 ||
         ab->sib_form == DW_FORM_ref4 || ab->sib_form == DW_FORM_ref8 ||
         ab->sib_form == DW_FORM_ref_addr))
        ab->sib_size =
            (int8_t)dwraw_form_size(ab->sib_form, u->version, u->addr_size, u->offset_size);
    ab->known = true;
}

/* Defines code from libdw's reading of the abbreviation of the DIE at `at`. */
static bool define_from_libdw(struct dwraw_unit *u, uint64_t code, const unsigned char *at)
{
    Dwarf_Die d = {.addr = (void *)at, .cu = u->cu}; /* as dwarf_child makes a DIE */
    (void)dwarf_tag(&d);
    Dwarf_Abbrev *la = d.abbrev;
    if (!la || la == (Dwarf_Abbrev *)-1L || dwarf_getabbrevcode(la) != code || !room_for(u, code))
        return false;
    struct dwraw_abbrev *ab = &u->abbrevs[code];
    *ab = (struct dwraw_abbrev){.gen = u->gen};
    ab->tag = dwarf_getabbrevtag(la);
    ab->children = dwarf_abbrevhaschildren(la) == 1;
    ab->first = (uint32_t)u->nspecs;
    if (!specs_in_place(u, ab, la, code) && !specs_through_libdw(u, la))
        return false;
    finish_abbrev(u, ab);
    return true;
}

/* Defines code from its entry in u's table, which the scan found. */
static bool define_in_place(struct dwraw_unit *u, uint64_t code)
{
    struct dwraw_abbrev *ab = &u->abbrevs[code];
    const unsigned char *p = ab->entry, *end = u->abbrev_sec + u->abbrev_size;
    uint64_t tag, name, form, ignored;
    if (!dwraw_uleb(&p, end, &tag) || tag > UINT32_MAX || p >= end || *p > 1)
        return false;
    size_t first = u->nspecs;
    *ab = (struct dwraw_abbrev){
        .gen = u->gen, .entry = ab->entry, .tag = (unsigned)tag, .children = *p++ == 1};
    ab->first = (uint32_t)first;
    for (;;) {
        if (!dwraw_uleb(&p, end, &name) || !dwraw_uleb(&p, end, &form))
            break;
        if (name == 0 && form == 0) {
            finish_abbrev(u, ab);
            return true;
        }
        const unsigned char *value = p;
        if (form == DW_FORM_implicit_const && !dwraw_uleb(&p, end, &ignored))
            break;
        if (!add_spec(u, name, form, form == DW_FORM_implicit_const ? value : NULL))
            break;
    }
    u->nspecs = first;
    return false;
}

bool dwraw_abbrev_define(struct dwraw_unit *u, uint64_t code, const unsigned char *at)
{
    if (u->abbrev_table && code < u->nhints && u->hints[code] &&
        u->hints[code] - 1 < u->abbrev_size - (size_t)(u->abbrev_table - u->abbrev_sec) &&
        room_for(u, code)) {
        u->abbrevs[code].entry = u->abbrev_table + (u->hints[code] - 1);
        if (define_in_place(u, code))
            return true;
        u->abbrevs[code].entry = NULL; /* (a damaged hint: found the other ways) */
    }
    if (u->abbrev_table && code <= (1u << 20) &&
        ((code < u->capabbrevs && u->abbrevs[code].gen == u->gen && u->abbrevs[code].entry) ||
         (u->abbrev_scan && scan_to(u, code))))
        return define_in_place(u, code);
    return define_from_libdw(u, code, at);
}

/* Steps p over one attribute value of form; false when the form is unknown or the value
 * runs past the unit. *ref gets the value of a reference or constant form. */
bool dwraw_skip_form(const struct dwraw_unit *u, const unsigned char **pp, uint64_t form,
                     uint64_t *ref)
{
    const unsigned char *p = *pp, *end = u->end;
    uint64_t n = 0, v = 0;
    int fixed = dwraw_form_size(form, u->version, u->addr_size, u->offset_size);
    if (fixed >= 0) {
        n = (uint64_t)fixed;
    } else {
        switch (form) {
        case DW_FORM_sdata:
        case DW_FORM_udata:
        case DW_FORM_ref_udata:
        case DW_FORM_strx:
        case DW_FORM_addrx:
        case DW_FORM_loclistx:
        case DW_FORM_rnglistx:
        case DW_FORM_GNU_addr_index:
        case DW_FORM_GNU_str_index:
            if (!dwraw_uleb(&p, end, &v))
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
            if (!dwraw_uleb(&p, end, &n))
                return false;
            break;
        case DW_FORM_indirect:
            if (!dwraw_uleb(&p, end, &v) || v == DW_FORM_indirect || v == DW_FORM_implicit_const)
                return false;
            *pp = p;
            return dwraw_skip_form(u, pp, v, ref);
        default:
            return false;
        }
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

bool dwraw_next_through_children(struct dwraw_unit *u, const unsigned char *after,
                                 const unsigned char **next)
{
    unsigned depth = 1;
    const unsigned char *q = after;
    while (depth > 0) {
        const struct dwraw_abbrev *c;
        const unsigned char *sib;
        const unsigned char *at = q;
        if (q >= u->end || !dwraw_die(u, &q, &c, &sib))
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

/* The DIE's own DW_AT_low_pc and DW_AT_high_pc, read in place (dwarf_ranges gives them
 * precedence over DW_AT_ranges, and reads a constant high_pc as an offset from low_pc): true
 * with [*lo, *hi); false when the DIE has not both in forms read here (ask dwarf_ranges). p
 * is the DIE, after the end of its attributes. */
bool dwraw_pc_range(const struct dwraw_unit *u, const struct dwraw_abbrev *a,
                    const unsigned char *p, const unsigned char *after, uint64_t *lo, uint64_t *hi)
{
    if (!a->has_lo || !a->has_hi || a->lo_form != DW_FORM_addr || u->addr_size != 8)
        return false;
    int hsize = dwraw_form_size(a->hi_form, u->version, u->addr_size, u->offset_size);
    bool hconst = a->hi_form == DW_FORM_data1 || a->hi_form == DW_FORM_data2 ||
                  a->hi_form == DW_FORM_data4 || a->hi_form == DW_FORM_data8;
    if (!hconst && a->hi_form != DW_FORM_addr)
        return false;
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
            const struct dwraw_spec *sp = &u->specs[a->first + i];
            if (sp->name == DW_AT_low_pc)
                lop = q;
            else if (sp->name == DW_AT_high_pc)
                hip = q;
            uint64_t v;
            if (!dwraw_skip_form(u, &q, sp->form, &v))
                return false;
        }
    }
    if (!lop || !hip || lop + 8 > after || hip + hsize > after)
        return false;
    *lo = dwraw_read_le(lop, 8);
    *hi = dwraw_read_le(hip, hsize);
    if (hconst)
        *hi += *lo;
    return true;
}

/* A string of form at p: in place, or an offset into .debug_str or .debug_line_str. NULL when
 * it cannot be read here. */
static const char *string_at(struct dwraw_unit *u, const unsigned char *p, const unsigned char *end,
                             uint64_t form)
{
    if (form == DW_FORM_string)
        return memchr(p, 0, (size_t)(end - p)) ? (const char *)p : NULL;
    if (form != DW_FORM_strp && form != DW_FORM_line_strp)
        return NULL;
    if (!u->have_str_secs) {
        const Elf_Data *d = debug_section(u->dbg, ".debug_str");
        u->str_sec = d ? d->d_buf : NULL;
        u->str_size = d ? d->d_size : 0;
        d = debug_section(u->dbg, ".debug_line_str");
        u->line_str_sec = d ? d->d_buf : NULL;
        u->line_str_size = d ? d->d_size : 0;
        u->have_str_secs = true;
    }
    const unsigned char *sec = form == DW_FORM_strp ? u->str_sec : u->line_str_sec;
    size_t size = form == DW_FORM_strp ? u->str_size : u->line_str_size;
    if (end - p < (ptrdiff_t)u->offset_size)
        return NULL;
    uint64_t off = dwraw_read_le(p, (int)u->offset_size);
    if (!sec || off >= size || !memchr(sec + off, 0, size - off))
        return NULL;
    return (const char *)sec + off;
}

/* The unit DIE's facts, read from its attributes; false on a form not read here. */
static bool read_facts(struct dwraw_unit *u)
{
    const unsigned char *p = u->key, *end = u->end;
    const struct dwraw_abbrev *a;
    const unsigned char *sib;
    uint64_t code;
    const unsigned char *q = p;
    if (!p || !dwraw_uleb(&q, end, &code) || code == 0 || !dwraw_die(u, &p, &a, &sib) || !a)
        return false;
    struct dwraw_facts f = {-1, false, 0, NULL, 0};
    bool have_lo = false, have_entry = false;
    uint64_t lo = 0, entry = 0;
    for (uint32_t i = 0; i < a->nspecs; i++) {
        const struct dwraw_spec *sp = &u->specs[a->first + i];
        const unsigned char *val = q;
        uint64_t v = 0;
        if (!dwraw_skip_form(u, &q, sp->form, &v))
            return false;
        bool data = sp->form == DW_FORM_data1 || sp->form == DW_FORM_data2 ||
                    sp->form == DW_FORM_data4 || sp->form == DW_FORM_data8 ||
                    sp->form == DW_FORM_udata;
        switch (sp->name) {
        case DW_AT_language:
            if (!data || v > INT32_MAX)
                return false;
            f.lang = (int)v;
            break;
        case DW_AT_stmt_list:
            if (!data && sp->form != DW_FORM_sec_offset)
                return false;
            f.have_stmt_list = true;
            f.stmt_list = v;
            break;
        case DW_AT_comp_dir:
            if (!(f.comp_dir = string_at(u, val, end, sp->form)))
                return false;
            break;
        case DW_AT_low_pc:
        case DW_AT_entry_pc:
            if (sp->form != DW_FORM_addr)
                return false;
            *(sp->name == DW_AT_low_pc ? &lo : &entry) = dwraw_read_le(val, (int)u->addr_size);
            *(sp->name == DW_AT_low_pc ? &have_lo : &have_entry) = true;
            break;
        default:
            break;
        }
    }
    f.base = have_lo ? lo : have_entry ? entry : 0;
    u->facts = f;
    return true;
}

bool dwraw_unit_facts(struct dwraw_unit *u, struct dwraw_facts *out)
{
    if (u->facts_state == 0)
        u->facts_state = read_facts(u) ? 1 : -1;
    if (u->facts_state < 0)
        return false;
    *out = u->facts;
    return true;
}

bool dwraw_facts_of(Dwarf_Die *cudie, struct dwraw_facts *out)
{
    struct dwraw_unit u;
    bool ok = cudie->cu && dwraw_open(&u, cudie, dwarf_cu_getdwarf(cudie->cu)) &&
              dwraw_unit_facts(&u, out);
    dwraw_close(&u);
    return ok;
}

/* The unit's base address as libdw's dwarf_ranges takes it: the unit DIE's DW_AT_low_pc, else
 * its DW_AT_entry_pc, else 0. */
static bool unit_base(struct dwraw_unit *u)
{
    if (u->have_base)
        return true;
    struct dwraw_facts f;
    Dwarf_Die cudie;
    Dwarf_Attribute attr;
    uint64_t base;
    if (dwraw_unit_facts(u, &f)) {
        base = f.base;
    } else {
        if (!dwarf_cu_die(u->cu, &cudie, NULL, NULL, NULL, NULL, NULL, NULL))
            return false;
        if (dwarf_lowpc(&cudie, &base) != 0 &&
            dwarf_formaddr(dwarf_attr(&cudie, DW_AT_entry_pc, &attr), &base) != 0)
            base = 0;
    }
    u->base = base;
    u->have_base = true;
    return true;
}

/* Appends [lo, hi) to *v. */
static bool push_range(struct dwraw_range **v, size_t *n, size_t *cap, uint64_t lo, uint64_t hi)
{
    if (ARRAY_GROW(*v, *n, *cap) < 0)
        return false;
    (*v)[(*n)++] = (struct dwraw_range){lo, hi};
    return true;
}

/* The unit's base address for a list's entry that counts from it, read when first needed
 * (most lists of a GCC unit with several code sections set their own base first, and the
 * unit's comes from its DIE, whose abbreviation is the last of the table). */
static bool list_base(struct dwraw_unit *u, uint64_t *base, bool *have)
{
    if (*have)
        return true;
    if (!unit_base(u))
        return false;
    *base = u->base;
    *have = true;
    return true;
}

/* A DWARF 2-4 list in .debug_ranges at p: pairs of addresses relative to the base, a pair
 * with an all-ones start selecting a new base, two zeros ending it. */
static bool read_ranges(struct dwraw_unit *u, const unsigned char *p, const unsigned char *end,
                        struct dwraw_range **v, size_t *n, size_t *cap)
{
    int w = (int)u->addr_size;
    uint64_t escape = w == 8 ? UINT64_MAX : UINT32_MAX, base = 0;
    bool have_base = false;
    for (;;) {
        if (end - p < 2 * w)
            return false;
        uint64_t lo = dwraw_read_le(p, w), hi = dwraw_read_le(p + w, w);
        p += 2 * w;
        if (lo == escape) {
            if (hi == escape)
                return false;
            base = hi;
            have_base = true;
        } else if (lo == 0 && hi == 0) {
            return true;
        } else if (!list_base(u, &base, &have_base) ||
                   !push_range(v, n, cap, lo + base, hi + base)) {
            return false;
        }
    }
}

/* A DWARF 5 list in .debug_rnglists at p, without the entries that index .debug_addr. */
static bool read_rnglist(struct dwraw_unit *u, const unsigned char *p, const unsigned char *end,
                         struct dwraw_range **v, size_t *n, size_t *cap)
{
    int w = (int)u->addr_size;
    uint64_t base = 0, a, b;
    bool have_base = false;
    for (;;) {
        if (p >= end)
            return false;
        switch (*p++) {
        case DW_RLE_end_of_list:
            return true;
        case DW_RLE_offset_pair:
            if (!dwraw_uleb(&p, end, &a) || !dwraw_uleb(&p, end, &b) ||
                !list_base(u, &base, &have_base) || !push_range(v, n, cap, a + base, b + base))
                return false;
            break;
        case DW_RLE_base_address:
            if (end - p < w)
                return false;
            base = dwraw_read_le(p, w);
            have_base = true;
            p += w;
            break;
        case DW_RLE_start_end:
            if (end - p < 2 * w)
                return false;
            a = dwraw_read_le(p, w);
            b = dwraw_read_le(p + w, w);
            p += 2 * w;
            if (!push_range(v, n, cap, a, b))
                return false;
            break;
        case DW_RLE_start_length:
            if (end - p < w)
                return false;
            a = dwraw_read_le(p, w);
            p += w;
            if (!dwraw_uleb(&p, end, &b) || !push_range(v, n, cap, a, a + b))
                return false;
            break;
        default: /* the x forms (through .debug_addr), or not a list at all */
            return false;
        }
    }
}

bool dwraw_ranges(struct dwraw_unit *u, const struct dwraw_abbrev *a, const unsigned char *p,
                  const unsigned char *after, struct dwraw_range **v, size_t *n, size_t *cap)
{
    if (!a->has_ranges || a->has_lo || a->has_hi || (u->addr_size != 4 && u->addr_size != 8))
        return false;
    /* the value of DW_AT_ranges: an offset into the section */
    const unsigned char *q = p;
    while (q < after && (*q & 0x80))
        q++;
    q++; /* past the abbreviation code */
    const unsigned char *val = a->ranges_at >= 0 ? q + a->ranges_at : NULL;
    for (uint32_t i = 0; i < a->nspecs && !val; i++) { /* a value of varying size before it */
        const struct dwraw_spec *sp = &u->specs[a->first + i];
        uint64_t ignored;
        if (sp->name == DW_AT_ranges)
            val = q;
        else if (!dwraw_skip_form(u, &q, sp->form, &ignored))
            return false;
    }
    uint32_t form = a->ranges_form;
    int size = form == DW_FORM_sec_offset ? (int)u->offset_size
               : form == DW_FORM_data4    ? 4
               : form == DW_FORM_data8    ? 8
                                          : 0;
    if (!val || !size || val + size > after)
        return false;
    uint64_t off = dwraw_read_le(val, size);
    if (!u->have_ranges_sec) {
        const Elf_Data *d =
            debug_section(u->dbg, u->version < 5 ? ".debug_ranges" : ".debug_rnglists");
        u->ranges_sec = d ? d->d_buf : NULL;
        u->ranges_size = d ? d->d_size : 0;
        u->have_ranges_sec = true;
    }
    if (!u->ranges_sec || off >= u->ranges_size)
        return false;
    size_t before = *n;
    const unsigned char *list = u->ranges_sec + off, *end = u->ranges_sec + u->ranges_size;
    bool ok = u->version < 5 ? read_ranges(u, list, end, v, n, cap)
                             : read_rnglist(u, list, end, v, n, cap);
    if (!ok)
        *n = before;
    return ok;
}

/* Opens die's unit and reads the abbreviation of die; attrs gets where its values start.
 * False when either cannot be read here (u must be closed either way). */
static bool open_die(struct dwraw_unit *u, Dwarf_Die *die, const struct dwraw_abbrev **a,
                     const unsigned char **attrs)
{
    Dwarf_Die cudie;
    memset(u, 0, sizeof *u);
    if (!die->cu || !dwarf_cu_die(die->cu, &cudie, NULL, NULL, NULL, NULL, NULL, NULL) ||
        !dwraw_open(u, &cudie, dwarf_cu_getdwarf(die->cu)))
        return false;
    const unsigned char *p = die->addr, *sib;
    uint64_t code;
    *attrs = p;
    if (p < u->start || p >= u->end || !dwraw_uleb(attrs, u->end, &code) || code == 0)
        return false;
    return dwraw_die(u, &p, a, &sib) && *a;
}

int dwraw_tag(Dwarf_Die *die)
{
    struct dwraw_unit u;
    const struct dwraw_abbrev *a;
    const unsigned char *attrs;
    int tag = open_die(&u, die, &a, &attrs) ? (int)a->tag : -2;
    dwraw_close(&u);
    return tag == -2 ? dwarf_tag(die) : tag;
}

ptrdiff_t dwraw_getattrs(Dwarf_Die *die, int (*callback)(Dwarf_Attribute *, void *), void *arg)
{
    struct dwraw_unit u;
    const struct dwraw_abbrev *a;
    const unsigned char *attrs, *at[64];
    bool ok = open_die(&u, die, &a, &attrs) && a->nspecs <= sizeof at / sizeof *at;
    /* first every value's place (callback is called only when all can be read here) */
    const unsigned char *q = attrs;
    for (uint32_t i = 0; ok && i < a->nspecs; i++) {
        const struct dwraw_spec *sp = &u.specs[a->first + i];
        uint64_t v;
        at[i] = sp->form == DW_FORM_implicit_const ? u.abbrev_sec + sp->implicit_at : q;
        if (sp->form == DW_FORM_indirect ||
            (sp->form == DW_FORM_implicit_const && sp->implicit_at >= u.abbrev_size))
            ok = false;
        else if (sp->size >= 0 && u.end - q >= sp->size)
            q += sp->size;
        else
            ok = sp->size < 0 && dwraw_skip_form(&u, &q, sp->form, &v);
    }
    if (!ok) {
        dwraw_close(&u);
        return dwarf_getattrs(die, callback, arg, 0);
    }
    ptrdiff_t r = 1;
    for (uint32_t i = 0; i < a->nspecs; i++) {
        const struct dwraw_spec *sp = &u.specs[a->first + i];
        Dwarf_Attribute attr = {sp->name, sp->form, (unsigned char *)at[i], die->cu};
        if (callback(&attr, arg) != DWARF_CB_OK) {
            r = i == 0 ? 0 : (ptrdiff_t)i + 1;
            break;
        }
    }
    dwraw_close(&u);
    return r;
}
