/* SPDX-License-Identifier: MIT */
/* dwarf_files.c — declaring files from line program headers, without the line programs.
 *
 * Reads the header at the unit's DW_AT_stmt_list (DWARF 2–5) from the raw .debug_line,
 * .debug_line_str and .debug_str that libdw has already loaded (and decompressed), and names
 * entry i as libdw's read_srclines does: DWARF 5 lists its files from 0 with directory 0 the
 * compilation directory; DWARF 2–4 count files from 1 (entry 0 is "???") and directory 0 is
 * the unit's DW_AT_comp_dir. Anything unexpected makes the table unreadable here, and its
 * questions go to libdw. Invariant: every name handed out lives until dwarf_files_free(). */
#include "symbolize/dwarf_files.h"

#include "core/array.h"
#include "core/hashmap.h"
#include "symbolize/dwarf_raw.h"

#include <dwarf.h>
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One unit's file table: file i is directory dpaths[fdirs[i]] joined with fpaths[i] (as is
 * when fdirs[i] is UINT64_MAX), the strings in the sections; names[i] that path once asked
 * for (a C++ unit names hundreds of files, and a run asks for a few). Or failed; and where
 * its line program lies, with the header fields that decode it (lines: false when this
 * reader leaves the program to libdw). */
struct table {
    char **names;
    const char **dpaths, **fpaths;
    uint64_t *fdirs;
    size_t n;
    bool failed;
    bool lines;
    const unsigned char *prog, *prog_end;
    unsigned min_inst, default_is_stmt, line_range, opcode_base, addr_size;
    int line_base;
    /* what each special opcode adds to the address and to the line, worked out once (a
     * division per row cost more than the rest of the row) */
    uint16_t special_addr[256];
    int16_t special_line[256];
    /* the program's sequences, recorded by the first pass over it (or offered) */
    struct dwf_seq *seqs;
    size_t nseqs;
    bool indexed, offered;
    /* the last answer, which holds for every address in [memo_lo, memo_hi) */
    bool memo;
    uint64_t memo_lo, memo_hi;
    int memo_found;
    uint64_t memo_line, memo_file;
};

/* The raw string and line sections of one Dwarf. */
struct sections {
    Elf_Data *line, *line_str, *str;
    bool big_endian;
};

struct dwarf_files {
    struct hmap table_map; /* (Dwarf *, stmt_list offset) -> index into tables */
    struct table *tables;
    size_t ntables, captables;
    struct hmap sect_map; /* Dwarf * -> index into sects */
    struct sections *sects;
    size_t nsects, capsects;
    unsigned read, fallbacks, line_scans, full_passes;
    /* what each unit asked about gave: its table (an index into tables, or NO_TABLE) and its
     * DW_AT_comp_dir, read from the unit DIE once */
    struct hmap unit_map; /* Dwarf_CU * -> index into units */
    struct unit_info {
        uint32_t table;
        const char *comp_dir;
    } * units;
    size_t nunits, capunits;
    struct hmap offer_map; /* (Dwarf *, unit DIE offset) -> index into offers */
    struct offer {
        const struct dwf_seq *v;
        size_t n;
    } * offers;
    size_t noffers, capoffers;
};

struct dwarf_files *dwarf_files_new(void)
{
    struct dwarf_files *df = calloc(1, sizeof *df);
    if (!df)
        return NULL;
    hmap_init(&df->table_map);
    hmap_init(&df->sect_map);
    hmap_init(&df->offer_map);
    hmap_init(&df->unit_map);
    return df;
}

/* Frees t's names and the arrays they are made from. */
static void table_release(struct table *t)
{
    for (size_t j = 0; t->names && j < t->n; j++)
        free(t->names[j]);
    free(t->names);
    free(t->dpaths);
    free(t->fpaths);
    free(t->fdirs);
}

void dwarf_files_free(struct dwarf_files *df)
{
    if (!df)
        return;
    for (size_t i = 0; i < df->ntables; i++) {
        table_release(&df->tables[i]);
        free(df->tables[i].seqs);
    }
    free(df->tables);
    free(df->sects);
    hmap_free(&df->table_map);
    hmap_free(&df->sect_map);
    hmap_free(&df->offer_map);
    free(df->offers);
    hmap_free(&df->unit_map);
    free(df->units);
    free(df);
}

unsigned dwarf_files_full_passes(const struct dwarf_files *df)
{
    return df->full_passes;
}

unsigned dwarf_files_line_scans(const struct dwarf_files *df)
{
    return df->line_scans;
}

void dwarf_files_stats(const struct dwarf_files *df, unsigned *tables, unsigned *fallbacks)
{
    *tables = df->read;
    *fallbacks = df->fallbacks;
}

/* ---- a bounds-checked reader ------------------------------------------------------------- */

struct rd {
    const unsigned char *p, *end;
    bool bad, big_endian;
};

static uint64_t rd_fixed(struct rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[r->big_endian ? n - 1 - i : i] << (8 * i);
    r->p += n;
    return v;
}

static uint64_t rd_uleb(struct rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (r->bad || r->p >= r->end || shift > 63) {
            r->bad = true;
            return 0;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
}

static void rd_skip(struct rd *r, uint64_t n)
{
    if (r->bad || (uint64_t)(r->end - r->p) < n)
        r->bad = true;
    else
        r->p += n;
}

/* A NUL-terminated string in place. */
static const char *rd_str(struct rd *r)
{
    if (r->bad)
        return NULL;
    const unsigned char *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!nul) {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p = nul + 1;
    return s;
}

/* The string at offset off of a string section. */
static const char *section_str(Elf_Data *d, uint64_t off)
{
    if (!d || !d->d_buf || off >= d->d_size)
        return NULL;
    const char *s = (const char *)d->d_buf + off;
    return memchr(s, 0, d->d_size - off) ? s : NULL;
}

/* ---- sections ---------------------------------------------------------------------------- */

static const struct sections *sections_for(struct dwarf_files *df, Dwarf *dbg)
{
    uint32_t idx;
    if (hmap_get(&df->sect_map, &dbg, sizeof dbg, &idx))
        return &df->sects[idx];
    if (ARRAY_GROW(df->sects, df->nsects, df->capsects) < 0)
        return NULL;
    struct sections sc = {NULL, NULL, NULL, false};
    Elf *elf = dwarf_getelf(dbg);
    size_t shstrndx;
    GElf_Ehdr eh;
    if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0 && gelf_getehdr(elf, &eh)) {
        sc.big_endian = eh.e_ident[EI_DATA] == ELFDATA2MSB;
        for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
            GElf_Shdr sh;
            const char *name =
                gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
            if (!name || sh.sh_type == SHT_NOBITS)
                continue;
            Elf_Data **slot = strcmp(name, ".debug_line") == 0       ? &sc.line
                              : strcmp(name, ".debug_line_str") == 0 ? &sc.line_str
                              : strcmp(name, ".debug_str") == 0      ? &sc.str
                                                                     : NULL;
            /* compressed sections were decompressed in place when libdw opened them */
            if (slot && !(sh.sh_flags & SHF_COMPRESSED))
                *slot = elf_getdata(scn, NULL);
        }
    }
    if (hmap_intern(&df->sect_map, &dbg, sizeof dbg, (uint32_t)df->nsects, &idx) < 0)
        return NULL;
    df->sects[df->nsects++] = sc;
    return &df->sects[idx];
}

/* ---- the header ------------------------------------------------------------------------- */

/* One DWARF 5 entry-format field: a string (for DW_LNCT_path) or a number. */
static bool read_form(struct rd *r, const struct sections *sc, unsigned form, unsigned offsz,
                      const char **str, uint64_t *num)
{
    *str = NULL;
    *num = 0;
    switch (form) {
    case DW_FORM_string:
        *str = rd_str(r);
        break;
    case DW_FORM_line_strp:
        *str = section_str(sc->line_str, rd_fixed(r, offsz));
        if (!*str)
            r->bad = true;
        break;
    case DW_FORM_strp:
        *str = section_str(sc->str, rd_fixed(r, offsz));
        if (!*str)
            r->bad = true;
        break;
    case DW_FORM_udata:
        *num = rd_uleb(r);
        break;
    case DW_FORM_sdata:
        rd_uleb(r); /* skipped: same encoding length */
        break;
    case DW_FORM_data1:
        *num = rd_fixed(r, 1);
        break;
    case DW_FORM_data2:
        *num = rd_fixed(r, 2);
        break;
    case DW_FORM_data4:
        *num = rd_fixed(r, 4);
        break;
    case DW_FORM_data8:
        *num = rd_fixed(r, 8);
        break;
    case DW_FORM_data16:
        rd_skip(r, 16);
        break;
    case DW_FORM_block:
        rd_skip(r, rd_uleb(r));
        break;
    case DW_FORM_block1:
        rd_skip(r, rd_fixed(r, 1));
        break;
    case DW_FORM_block2:
        rd_skip(r, rd_fixed(r, 2));
        break;
    case DW_FORM_block4:
        rd_skip(r, rd_fixed(r, 4));
        break;
    default:
        r->bad = true; /* DW_FORM_strx* and the like: left to libdw */
    }
    return !r->bad;
}

/* Reads a DWARF 5 entry list (directories or files): each entry's path and directory index. */
static bool read_entries(struct rd *r, const struct sections *sc, unsigned offsz,
                         const char ***paths, uint64_t **dirs, size_t *count)
{
    unsigned nfmt = (unsigned)rd_fixed(r, 1);
    uint64_t fmt[2 * 16];
    if (nfmt > 16)
        return false;
    for (unsigned i = 0; i < nfmt; i++) {
        fmt[2 * i] = rd_uleb(r);
        fmt[2 * i + 1] = rd_uleb(r);
    }
    uint64_t n = rd_uleb(r);
    if (r->bad || n > (uint64_t)(r->end - r->p)) /* every entry takes at least a byte */
        return false;
    *paths = calloc(n ? n : 1, sizeof **paths);
    *dirs = calloc(n ? n : 1, sizeof **dirs);
    if (!*paths || !*dirs)
        return false;
    for (uint64_t e = 0; e < n; e++) {
        for (unsigned i = 0; i < nfmt; i++) {
            const char *str;
            uint64_t num;
            if (!read_form(r, sc, (unsigned)fmt[2 * i + 1], offsz, &str, &num))
                return false;
            if (fmt[2 * i] == DW_LNCT_path)
                (*paths)[e] = str;
            else if (fmt[2 * i] == DW_LNCT_directory_index)
                (*dirs)[e] = num;
        }
        if (!(*paths)[e])
            return false;
    }
    *count = n;
    return true;
}

/* dir "/" name, or name when it is absolute or dir is unknown. */
static char *join(const char *dir, const char *name)
{
    if (name[0] == '/' || !dir)
        return strdup(name);
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + 1 + b + 1);
    if (s) {
        memcpy(s, dir, a);
        s[a] = '/';
        memcpy(s + a + 1, name, b + 1);
    }
    return s;
}

/* Whether the standard opcodes 1..12 take the arguments DWARF 4/5 gives them (libdw rejects a
 * program whose lengths differ for an opcode it interprets; this reader then defers to it). */
static bool standard_lengths(const unsigned char *lengths, unsigned opcode_base)
{
    static const unsigned char want[12] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};
    if (opcode_base != 13)
        return false;
    return memcmp(lengths, want, sizeof want) == 0;
}

/* Fills t from the header at off; false when it cannot be read here. */
static bool read_table(struct table *t, const struct sections *sc, uint64_t off,
                       const char *comp_dir, unsigned addr_size)
{
    Elf_Data *d = sc->line;
    if (!d || !d->d_buf || off >= d->d_size)
        return false;
    struct rd r = {(const unsigned char *)d->d_buf + off,
                   (const unsigned char *)d->d_buf + d->d_size, false, sc->big_endian};
    unsigned offsz = 4;
    uint64_t len = rd_fixed(&r, 4);
    if (len == 0xffffffff) {
        offsz = 8;
        len = rd_fixed(&r, 8);
    }
    if (r.bad || len > (uint64_t)(r.end - r.p))
        return false;
    r.end = r.p + len;
    const unsigned char *unit_end = r.end;
    unsigned version = (unsigned)rd_fixed(&r, 2);
    if (version < 2 || version > 5)
        return false;
    unsigned line_addr_size = addr_size, seg_size = 0;
    if (version >= 5) {
        line_addr_size = (unsigned)rd_fixed(&r, 1);
        seg_size = (unsigned)rd_fixed(&r, 1);
    }
    uint64_t hlen = rd_fixed(&r, offsz);
    if (r.bad || hlen > (uint64_t)(r.end - r.p))
        return false;
    r.end = r.p + hlen; /* the tables lie within the header */
    const unsigned char *prog = r.end;
    unsigned min_inst = (unsigned)rd_fixed(&r, 1);
    unsigned max_ops = version >= 4 ? (unsigned)rd_fixed(&r, 1) : 1;
    unsigned default_is_stmt = (unsigned)rd_fixed(&r, 1);
    int line_base = (int)(signed char)rd_fixed(&r, 1);
    unsigned line_range = (unsigned)rd_fixed(&r, 1);
    unsigned opcode_base = (unsigned)rd_fixed(&r, 1);
    const unsigned char *lengths = r.p;
    rd_skip(&r, opcode_base ? opcode_base - 1 : 0);
    if (r.bad)
        return false;
    t->lines = !sc->big_endian && max_ops == 1 && line_range != 0 && standard_lengths(lengths, opcode_base) &&
               line_addr_size == addr_size && seg_size == 0 && (addr_size == 4 || addr_size == 8);
    t->prog = prog;
    t->prog_end = unit_end;
    t->min_inst = min_inst;
    t->default_is_stmt = default_is_stmt;
    t->line_base = line_base;
    t->line_range = line_range;
    t->opcode_base = opcode_base;
    t->addr_size = addr_size;
    for (unsigned op = opcode_base; t->lines && op < 256; op++) {
        unsigned adj = op - opcode_base;
        t->special_line[op] = (int16_t)(line_base + (int)(adj % line_range));
        t->special_addr[op] = (uint16_t)(min_inst * (adj / line_range));
    }

    const char **dpaths = NULL, **fpaths = NULL;
    uint64_t *ddirs = NULL, *fdirs = NULL;
    size_t nd = 0, nf = 0;
    bool ok = false;
    if (version >= 5) {
        if (!read_entries(&r, sc, offsz, &dpaths, &ddirs, &nd) ||
            !read_entries(&r, sc, offsz, &fpaths, &fdirs, &nf))
            goto out;
    } else {
        /* directory 0 is the compilation directory; files count from 1 */
        size_t capd = 0, capf = 0;
        if (ARRAY_GROW(dpaths, nd, capd) < 0)
            goto out;
        dpaths[nd++] = comp_dir;
        for (const char *s; (s = rd_str(&r)) && *s;) {
            if (ARRAY_GROW(dpaths, nd, capd) < 0)
                goto out;
            dpaths[nd++] = s;
        }
        size_t capfd = 0, nfd = 0;
        if (ARRAY_GROW(fpaths, nf, capf) < 0 || ARRAY_GROW(fdirs, nfd, capfd) < 0)
            goto out;
        fpaths[nf++] = "???";
        fdirs[nfd++] = UINT64_MAX;
        for (const char *s; (s = rd_str(&r)) && *s;) {
            uint64_t dir = rd_uleb(&r);
            rd_uleb(&r); /* mtime */
            rd_uleb(&r); /* length */
            if (ARRAY_GROW(fpaths, nf, capf) < 0 || ARRAY_GROW(fdirs, nfd, capfd) < 0)
                goto out;
            fpaths[nf++] = s;
            fdirs[nfd++] = dir;
        }
        if (r.bad)
            goto out;
    }
    for (size_t i = 0; i < nf; i++)
        if (fdirs[i] != UINT64_MAX && fdirs[i] >= nd) /* UINT64_MAX: DWARF 2–4's entry 0 */
            goto out;
    t->names = calloc(nf ? nf : 1, sizeof *t->names);
    if (!t->names)
        goto out;
    t->n = nf;
    t->dpaths = dpaths; /* the names are joined when asked for */
    t->fpaths = fpaths;
    t->fdirs = fdirs;
    dpaths = fpaths = NULL;
    fdirs = NULL;
    ok = true;
out:
    free(dpaths);
    free(fpaths);
    free(ddirs);
    free(fdirs);
    return ok;
}

/* File idx of t, joined on the first question; NULL when t has no such file (or out of
 * memory). */
static const char *file_name(struct table *t, uint64_t idx)
{
    if (idx >= t->n)
        return NULL;
    if (!t->names[idx])
        t->names[idx] = t->fdirs[idx] == UINT64_MAX
                            ? strdup(t->fpaths[idx])
                            : join(t->dpaths[t->fdirs[idx]], t->fpaths[idx]);
    return t->names[idx];
}

/* The file table of the unit cu (read on first use), or NULL when it cannot be read here. */
/* A key of the maps: a Dwarf and an offset in it (a line program's, a unit DIE's). */
struct dbg_key {
    Dwarf *dbg;
    uint64_t off;
};

/* Takes the sequences offered for the unit at cu_off into t, when they fit its program. */
static void take_offer(struct dwarf_files *df, struct table *t, Dwarf *dbg, Dwarf_Off cu_off)
{
    struct dbg_key key = {dbg, cu_off};
    uint32_t idx;
    if (!t->lines || t->indexed || !hmap_get(&df->offer_map, &key, sizeof key, &idx))
        return;
    const struct offer *o = &df->offers[idx];
    size_t size = (size_t)(t->prog_end - t->prog);
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].off >= size || o->v[i].lo > o->v[i].hi || o->v[i].tail > 1 || !o->v[i].rows)
            return;
    if (!o->n || !(t->seqs = malloc(o->n * sizeof *t->seqs)))
        return;
    memcpy(t->seqs, o->v, o->n * sizeof *t->seqs);
    t->nseqs = o->n;
    t->indexed = t->offered = true;
}

#define NO_TABLE UINT32_MAX

/* The table at stmt_list of dbg (read on first use), as an index into df->tables; NO_TABLE
 * when it cannot be read here. */
static uint32_t table_at(struct dwarf_files *df, Dwarf *dbg, uint64_t stmt_list,
                         const char *comp_dir, uint8_t addr_size, Dwarf_Off cu_off)
{
    struct dbg_key key = {dbg, stmt_list};
    uint32_t idx;
    if (hmap_get(&df->table_map, &key, sizeof key, &idx))
        return df->tables[idx].failed ? NO_TABLE : idx;
    const struct sections *sc = dbg ? sections_for(df, dbg) : NULL;
    if (!sc || ARRAY_GROW(df->tables, df->ntables, df->captables) < 0)
        return NO_TABLE;
    struct table t = {0};
    if (!read_table(&t, sc, stmt_list, comp_dir, addr_size)) {
        table_release(&t);
        t = (struct table){0};
        t.failed = true;
    }
    if (hmap_intern(&df->table_map, &key, sizeof key, (uint32_t)df->ntables, &idx) < 0) {
        table_release(&t);
        return NO_TABLE;
    }
    df->tables[df->ntables++] = t;
    df->read += !t.failed;
    if (t.failed)
        return NO_TABLE;
    take_offer(df, &df->tables[idx], dbg, cu_off);
    return idx;
}

/* What the unit cu gave (worked out on its first question), or NULL when nothing can be
 * kept for it (out of memory). The unit DIE's attributes are read in place where they can
 * be (dwraw_facts_of): through libdw, that one DIE costs libdw's reading of the unit's whole
 * abbreviation table. */
static const struct unit_info *unit_for(struct dwarf_files *df, Dwarf_CU *cu)
{
    uint32_t idx;
    if (hmap_get(&df->unit_map, &cu, sizeof cu, &idx))
        return &df->units[idx];
    if (ARRAY_GROW(df->units, df->nunits, df->capunits) < 0)
        return NULL;
    struct unit_info info = {NO_TABLE, NULL};
    Dwarf_Die cudie;
    uint8_t unit_type, addr_size = 0;
    if (dwarf_cu_die(cu, &cudie, NULL, NULL, &addr_size, NULL, NULL, NULL)) {
        struct dwraw_facts f;
        bool have_stmt_list;
        uint64_t stmt_list = 0;
        if (dwraw_facts_of(&cudie, &f)) {
            info.comp_dir = f.comp_dir;
            have_stmt_list = f.have_stmt_list;
            stmt_list = f.stmt_list;
        } else {
            Dwarf_Attribute attr;
            Dwarf_Word w = 0;
            info.comp_dir = dwarf_formstring(dwarf_attr(&cudie, DW_AT_comp_dir, &attr));
            have_stmt_list = dwarf_formudata(dwarf_attr(&cudie, DW_AT_stmt_list, &attr), &w) == 0;
            stmt_list = w;
        }
        if (have_stmt_list &&
            dwarf_cu_info(cu, NULL, &unit_type, NULL, NULL, NULL, NULL, NULL) == 0 &&
            unit_type != DW_UT_split_compile && unit_type != DW_UT_split_type)
            info.table = table_at(df, dwarf_cu_getdwarf(cu), stmt_list, info.comp_dir, addr_size,
                                  dwarf_dieoffset(&cudie));
    }
    if (hmap_intern(&df->unit_map, &cu, sizeof cu, (uint32_t)df->nunits, &idx) < 0)
        return NULL;
    df->units[df->nunits++] = info;
    return &df->units[idx];
}

/* The file table of the unit cu (read on first use), or NULL when it cannot be read here. */
static struct table *table_for(struct dwarf_files *df, Dwarf_CU *cu)
{
    const struct unit_info *u = unit_for(df, cu);
    return u && u->table != NO_TABLE ? &df->tables[u->table] : NULL;
}

const char *dwarf_files_comp_dir(struct dwarf_files *df, Dwarf_Die *cudie)
{
    const struct unit_info *u = cudie->cu ? unit_for(df, cudie->cu) : NULL;
    Dwarf_Attribute attr;
    return u ? u->comp_dir : dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr));
}

void dwarf_files_offer_sequences(struct dwarf_files *df, Dwarf_Die *cudie, const struct dwf_seq *v,
                                 size_t n)
{
    struct dbg_key key = {dwarf_cu_getdwarf(cudie->cu), dwarf_dieoffset(cudie)};
    uint32_t idx;
    if (n == 0 || ARRAY_GROW(df->offers, df->noffers, df->capoffers) < 0)
        return;
    int r = hmap_intern(&df->offer_map, &key, sizeof key, (uint32_t)df->noffers, &idx);
    if (r == 1)
        df->offers[df->noffers++] = (struct offer){v, n};
}

size_t dwarf_files_sequences(struct dwarf_files *df, Dwarf_Die *cudie, const struct dwf_seq **v)
{
    uint32_t idx;
    if (!cudie->cu || !hmap_get(&df->unit_map, &cudie->cu, sizeof cudie->cu, &idx) ||
        df->units[idx].table == NO_TABLE)
        return 0;
    const struct table *t = &df->tables[df->units[idx].table];
    if (!t->indexed || t->offered)
        return 0;
    *v = t->seqs;
    return t->nseqs;
}

const char *dwarf_files_decl_file(struct dwarf_files *df, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    return dwarf_files_decl_file_at(df, die, dwarf_attr_integrate(die, DW_AT_decl_file, &attr));
}

const char *dwarf_files_decl_file_at(struct dwarf_files *df, Dwarf_Die *die,
                                     Dwarf_Attribute *decl_file)
{
    Dwarf_Word idx;
    if (dwarf_formudata(decl_file, &idx) != 0)
        return NULL;
    /* the unit of the DIE the attribute came from (an abstract origin may be elsewhere) */
    struct table *t = decl_file->cu ? table_for(df, decl_file->cu) : NULL;
    if (!t) {
        df->fallbacks++;
        return dwarf_decl_file(die);
    }
    return file_name(t, idx);
}

/* ---- one address in the line program ------------------------------------------------------ */

/* A row's address and what the answer needs of it. */
struct row {
    uint64_t addr;
    int64_t line;
    uint64_t file;
    bool end;
};

/* The state of one question to the line program: the row libdw's dwarf_getsrc_die and
 * dwfl_module_getsrc pick for addr, as rows go by. libdw (elfutils 0.188) sorts all rows by
 * address, an end_sequence row before the others at its address, else in program order;
 * marks the last sorted row end_sequence; and answers with the last sorted row at or below
 * addr unless it is an end_sequence row (none below the first row). So: the highest row
 * address at or below addr; among the rows there the last one not ending a sequence in
 * program order; none when every row there ends a sequence or that address is the highest of
 * the program. */
struct scan {
    uint64_t addr;
    uint64_t max_addr, min_addr, next;
    bool any, have, have_row;
    struct row best;
};

/* One row of the program, in program order; -1 for a value libdw rejects or truncates. */
static inline __attribute__((always_inline)) int scan_row(struct scan *sc, uint64_t a,
                                                         int64_t line, uint64_t file,
                                                         bool is_end)
{
    if (line < INT32_MIN || line > INT32_MAX || file > UINT32_MAX)
        return -1;
    if (!sc->any || a > sc->max_addr)
        sc->max_addr = a;
    if (!sc->any || a < sc->min_addr)
        sc->min_addr = a;
    if (a > sc->addr && a < sc->next)
        sc->next = a;
    sc->any = true;
    if (a <= sc->addr && (!sc->have || a > sc->best.addr || (a == sc->best.addr && !is_end))) {
        if (!sc->have || a > sc->best.addr)
            sc->have_row = false;
        sc->have = true;
        sc->best.addr = a;
        if (!is_end) {
            sc->best.line = line;
            sc->best.file = file;
            sc->have_row = true;
        }
    }
    return 0;
}

/* The answer once every row has gone by: 1 found (*out), 0 no row; [*lo, *hi) the addresses
 * that get the same answer. */
static int scan_answer(const struct scan *sc, struct row *out, uint64_t *lo, uint64_t *hi)
{
    /* the answer depends only on the highest row address at or below addr */
    *lo = sc->have ? sc->best.addr : 0;
    *hi = sc->next;
    if (!sc->any)
        return 0;
    if (!sc->have) {
        *hi = sc->min_addr;
        return 0; /* every row lies above addr */
    }
    if (!sc->have_row || sc->best.addr == sc->max_addr)
        return 0;
    *out = sc->best;
    return 1;
}

/* The sequences recorded by a pass, or the reason none can be kept. */
struct seq_rec {
    struct dwf_seq *v;
    size_t n, cap;
    bool bad;
};

static inline __attribute__((always_inline)) void seq_row(struct seq_rec *rec, struct dwf_seq *cur,
                                                          uint64_t a, int64_t line, uint64_t file,
                                                          bool is_end)
{
    if (!cur->rows) {
        cur->lo = cur->hi = a;
        cur->rows = true;
    } else if (a < cur->hi) {
        rec->bad = true; /* the addresses go down: a summary would not answer the same */
    } else if (a > cur->hi) {
        cur->hi = a;
        cur->tail = false;
    }
    if (!is_end && a == cur->hi) {
        cur->tail = true;
        cur->tail_line = line;
        cur->tail_file = file;
    }
}

/* Ends the sequence cur, the next one starting at offset next of the program. */
static int seq_end(struct seq_rec *rec, struct dwf_seq *cur, uint32_t next)
{
    if (ARRAY_GROW(rec->v, rec->n, rec->cap) < 0)
        return -1;
    rec->v[rec->n++] = *cur;
    *cur = (struct dwf_seq){.off = next};
    return 0;
}

/* Runs t's line program from p (a sequence's start, or the program's) through the end of the
 * program, or with one through the end of that sequence, feeding sc; with rec, records the
 * sequences. 0, or -1 for anything libdw would treat otherwise (DW_LNE_define_file, a value
 * it rejects or truncates, malformed data), left to it. */
static inline __attribute__((always_inline)) int run_program(const struct table *t,
                                                            const unsigned char *p,
                                                            struct scan *sc, bool one,
                                                            struct seq_rec *rec)
{
    const unsigned char *end = t->prog_end;
    uint64_t a = 0;
    int64_t line = 1;
    uint64_t file = 1;
    struct dwf_seq cur = {.off = (uint32_t)(p - t->prog)};
    /* reads one LEB128 into v (unsigned) or fails */
#define ULEB(v)                                                                                   \
    do {                                                                                          \
        uint64_t v_ = 0;                                                                          \
        unsigned sh_ = 0;                                                                         \
        for (;;) {                                                                                \
            if (p >= end || sh_ > 63)                                                             \
                return -1;                                                                        \
            unsigned char b_ = *p++;                                                              \
            v_ |= (uint64_t)(b_ & 0x7f) << sh_;                                                   \
            sh_ += 7;                                                                             \
            if (!(b_ & 0x80))                                                                     \
                break;                                                                            \
        }                                                                                         \
        (v) = v_;                                                                                 \
    } while (0)
#define ROW(is_end)                                                                               \
    do {                                                                                          \
        if (scan_row(sc, a, line, file, (is_end)) < 0)                                            \
            return -1;                                                                            \
        if (rec)                                                                                  \
            seq_row(rec, &cur, a, line, file, (is_end));                                          \
    } while (0)
    while (p < end) {
        unsigned op = *p++;
        if (op >= t->opcode_base) {
            line += t->special_line[op];
            a += t->special_addr[op];
            ROW(false);
        } else if (op == 0) {
            if (end - p < 2)
                return -1;
            unsigned len = *p++; /* libdw reads the length as one byte */
            if (len & 0x80 || (size_t)(end - p) < len || len == 0)
                return -1;
            unsigned sub = *p++;
            switch (sub) {
            case DW_LNE_end_sequence:
                if (len != 1)
                    return -1;
                ROW(true);
                a = 0;
                line = 1;
                file = 1;
                if (rec && seq_end(rec, &cur, (uint32_t)(p - t->prog)) < 0)
                    return -1;
                if (one)
                    return 0;
                break;
            case DW_LNE_set_address:
                if (len != t->addr_size + 1)
                    return -1;
                a = 0;
                for (unsigned i = 0; i < t->addr_size; i++)
                    a |= (uint64_t)p[i] << (8 * i);
                p += t->addr_size;
                break;
            case DW_LNE_set_discriminator: {
                const unsigned char *want = p + len - 1;
                uint64_t u;
                ULEB(u);
                (void)u;
                if (p != want)
                    return -1;
                break;
            }
            case DW_LNE_define_file:
                return -1;
            default:
                if (sub >= DW_LNE_lo_user)
                    return -1;
                p += len - 1; /* unknown: skipped */
            }
        } else {
            uint64_t u;
            switch (op) {
            case DW_LNS_copy:
                ROW(false);
                break;
            case DW_LNS_advance_pc:
                ULEB(u);
                if (u > UINT32_MAX)
                    return -1;
                a += (uint64_t)t->min_inst * u;
                break;
            case DW_LNS_advance_line: {
                uint64_t v = 0;
                unsigned sh = 0;
                unsigned char b;
                do {
                    if (p >= end || sh > 63)
                        return -1;
                    b = *p++;
                    v |= (uint64_t)(b & 0x7f) << sh;
                    sh += 7;
                } while (b & 0x80);
                if (sh < 64 && (b & 0x40))
                    v |= ~(uint64_t)0 << sh;
                int64_t d = (int64_t)v;
                if (d < INT32_MIN || d > INT32_MAX)
                    return -1;
                line += d;
                break;
            }
            case DW_LNS_set_file:
                ULEB(u);
                if (u > UINT32_MAX)
                    return -1;
                file = u;
                break;
            case DW_LNS_set_column:
                ULEB(u);
                if (u > UINT16_MAX)
                    return -1;
                break;
            case DW_LNS_const_add_pc:
                a += (uint64_t)t->min_inst * ((255 - t->opcode_base) / t->line_range);
                break;
            case DW_LNS_fixed_advance_pc:
                if (end - p < 2)
                    return -1;
                a += (uint64_t)p[0] | (uint64_t)p[1] << 8;
                p += 2;
                break;
            case DW_LNS_set_isa:
                ULEB(u);
                if (u > 255)
                    return -1;
                break;
            default: /* negate_stmt, set_basic_block, prologue_end, epilogue_begin */
                break;
            }
        }
    }
#undef ULEB
#undef ROW
    if (rec && cur.rows)
        rec->bad = true; /* rows after the last end_sequence: no summary for them */
    return 0;
}

/* The row for addr by one pass over the whole program (recording its sequences into rec when
 * not NULL). 1: found; 0: no row; -1: left to libdw. */
static int scan_program(const struct table *t, uint64_t addr, struct row *out, uint64_t *lo,
                        uint64_t *hi, struct seq_rec *rec)
{
    struct scan sc = {addr, 0, 0, UINT64_MAX, false, false, false, {0, 0, 0, false}};
    if (run_program(t, t->prog, &sc, false, rec) < 0)
        return -1;
    return scan_answer(&sc, out, lo, hi);
}

/* The same answer from the sequences a first pass recorded: only a sequence whose rows span
 * addr is run again, every other one stands for its first and last rows (which decide the
 * answer as all its rows would: those below addr lose to its last, those above to its
 * first). */
static int scan_sequences(const struct table *t, uint64_t addr, struct row *out, uint64_t *lo,
                          uint64_t *hi)
{
    struct scan sc = {addr, 0, 0, UINT64_MAX, false, false, false, {0, 0, 0, false}};
    for (size_t i = 0; i < t->nseqs; i++) {
        const struct dwf_seq *q = &t->seqs[i];
        if (q->lo <= addr && addr < q->hi) {
            if (run_program(t, t->prog + q->off, &sc, true, NULL) < 0)
                return -1;
            continue;
        }
        scan_row(&sc, q->lo, 1, 1, true);
        if (q->tail)
            scan_row(&sc, q->hi, q->tail_line, q->tail_file, false);
        scan_row(&sc, q->hi, 1, 1, true);
    }
    return scan_answer(&sc, out, lo, hi);
}

int dwarf_files_line_at(struct dwarf_files *df, Dwarf_Die *cudie, uint64_t addr,
                        const char **path, int *line)
{
    struct table *t = cudie->cu ? table_for(df, cudie->cu) : NULL;
    if (!t || !t->lines)
        return -1;
    if (!t->memo || addr < t->memo_lo || addr >= t->memo_hi) {
        struct row r = {0, 0, 0, false};
        uint64_t lo = 0, hi = 0;
        if (t->indexed) {
            t->memo_found = scan_sequences(t, addr, &r, &lo, &hi);
        } else {
            /* the first pass records the sequences, so that the next question about this
             * unit runs only the sequence around its address */
            struct seq_rec rec = {NULL, 0, 0, (size_t)(t->prog_end - t->prog) > UINT32_MAX};
            t->memo_found = scan_program(t, addr, &r, &lo, &hi, rec.bad ? NULL : &rec);
            df->full_passes++;
            if (t->memo_found >= 0 && !rec.bad) {
                t->seqs = rec.v;
                t->nseqs = rec.n;
                t->indexed = true;
            } else {
                free(rec.v);
            }
        }
        t->memo = true;
        t->memo_lo = lo;
        t->memo_hi = hi;
        t->memo_line = (uint64_t)r.line;
        t->memo_file = r.file;
        df->line_scans++;
    }
    if (t->memo_found <= 0)
        return t->memo_found;
    *path = file_name(t, t->memo_file);
    *line = (int)(int64_t)t->memo_line;
    return 1;
}
