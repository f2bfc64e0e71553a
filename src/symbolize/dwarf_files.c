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

#include <dwarf.h>
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One unit's file table: names[i] is file i (NULL: no such file), or failed. */
struct table {
    char **names;
    size_t n;
    bool failed;
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
    unsigned read, fallbacks;
};

struct dwarf_files *dwarf_files_new(void)
{
    struct dwarf_files *df = calloc(1, sizeof *df);
    if (!df)
        return NULL;
    hmap_init(&df->table_map);
    hmap_init(&df->sect_map);
    return df;
}

void dwarf_files_free(struct dwarf_files *df)
{
    if (!df)
        return;
    for (size_t i = 0; i < df->ntables; i++) {
        for (size_t j = 0; j < df->tables[i].n; j++)
            free(df->tables[i].names[j]);
        free(df->tables[i].names);
    }
    free(df->tables);
    free(df->sects);
    hmap_free(&df->table_map);
    hmap_free(&df->sect_map);
    free(df);
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

/* Fills t from the header at off; false when it cannot be read here. */
static bool read_table(struct table *t, const struct sections *sc, uint64_t off,
                       const char *comp_dir)
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
    unsigned version = (unsigned)rd_fixed(&r, 2);
    if (version < 2 || version > 5)
        return false;
    if (version >= 5)
        rd_skip(&r, 2); /* address_size, segment_selector_size */
    uint64_t hlen = rd_fixed(&r, offsz);
    if (r.bad || hlen > (uint64_t)(r.end - r.p))
        return false;
    r.end = r.p + hlen;                /* the tables lie within the header */
    rd_skip(&r, version >= 4 ? 5 : 4); /* min_inst_length, [max_ops], default_is_stmt,
                                          line_base, line_range */
    unsigned opcode_base = (unsigned)rd_fixed(&r, 1);
    rd_skip(&r, opcode_base ? opcode_base - 1 : 0);
    if (r.bad)
        return false;

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
    t->names = calloc(nf ? nf : 1, sizeof *t->names);
    if (!t->names)
        goto out;
    t->n = nf;
    for (size_t i = 0; i < nf; i++) {
        if (fdirs[i] == UINT64_MAX) { /* DWARF 2–4's entry 0 */
            t->names[i] = strdup(fpaths[i]);
        } else {
            if (fdirs[i] >= nd)
                goto out;
            t->names[i] = join(dpaths[fdirs[i]], fpaths[i]);
        }
        if (!t->names[i])
            goto out;
    }
    ok = true;
out:
    free(dpaths);
    free(fpaths);
    free(ddirs);
    free(fdirs);
    return ok;
}

/* The file table of the unit cu (read on first use), or NULL when it cannot be read here. */
static const struct table *table_for(struct dwarf_files *df, Dwarf_CU *cu)
{
    Dwarf_Die cudie;
    uint8_t unit_type;
    if (!dwarf_cu_die(cu, &cudie, NULL, NULL, NULL, NULL, NULL, NULL) ||
        dwarf_cu_info(cu, NULL, &unit_type, NULL, NULL, NULL, NULL, NULL) != 0 ||
        unit_type == DW_UT_split_compile || unit_type == DW_UT_split_type)
        return NULL;
    Dwarf_Attribute attr;
    Dwarf_Word off;
    if (dwarf_formudata(dwarf_attr(&cudie, DW_AT_stmt_list, &attr), &off) != 0)
        return NULL;
    Dwarf *dbg = dwarf_cu_getdwarf(cu);
    struct {
        Dwarf *dbg;
        Dwarf_Word off;
    } key = {dbg, off};
    uint32_t idx;
    if (hmap_get(&df->table_map, &key, sizeof key, &idx))
        return df->tables[idx].failed ? NULL : &df->tables[idx];
    const struct sections *sc = dbg ? sections_for(df, dbg) : NULL;
    if (!sc || ARRAY_GROW(df->tables, df->ntables, df->captables) < 0)
        return NULL;
    struct table t = {NULL, 0, false};
    const char *comp_dir = dwarf_formstring(dwarf_attr(&cudie, DW_AT_comp_dir, &attr));
    if (!read_table(&t, sc, off, comp_dir)) {
        for (size_t i = 0; i < t.n; i++)
            free(t.names[i]);
        free(t.names);
        t = (struct table){NULL, 0, true};
    }
    if (hmap_intern(&df->table_map, &key, sizeof key, (uint32_t)df->ntables, &idx) < 0) {
        for (size_t i = 0; i < t.n; i++)
            free(t.names[i]);
        free(t.names);
        return NULL;
    }
    df->tables[df->ntables++] = t;
    df->read += !t.failed;
    return t.failed ? NULL : &df->tables[idx];
}

const char *dwarf_files_decl_file(struct dwarf_files *df, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    Dwarf_Word idx;
    if (dwarf_formudata(dwarf_attr_integrate(die, DW_AT_decl_file, &attr), &idx) != 0)
        return NULL;
    /* the unit of the DIE the attribute came from (an abstract origin may be elsewhere) */
    const struct table *t = attr.cu ? table_for(df, attr.cu) : NULL;
    if (!t) {
        df->fallbacks++;
        return dwarf_decl_file(die);
    }
    return idx < t->n ? t->names[idx] : NULL;
}
