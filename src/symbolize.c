/* symbolize.c — addresses of the running process to functions, with libdwfl.
 *
 * One pass per address, in the manner of eu-stack: find the module, its DWARF scopes at
 * the address (inlined subroutines innermost first, then the containing subprogram), name
 * each scope from its linkage name (demangled with libiberty, as c++filt does) or DW_AT_name,
 * and fall back to the ELF symbol table, then to "module+0xOFFSET" (file offset).
 * Invariant: every string handed out is interned here and freed by symbolizer_close(). */
#include "profreg/symbolize.h"

#include "profreg/hashmap.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libiberty/demangle.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct symbolizer {
    Dwfl *dwfl;
    Dwfl_Callbacks callbacks;
    char *debuginfo_path; /* NULL: libdwfl's default search path */
    struct hmap strmap;   /* string -> index into strs */
    char **strs;
    size_t nstrs, capstrs;
};

static const char *intern(struct symbolizer *s, const char *str)
{
    if (!str)
        return NULL;
    if (s->nstrs == s->capstrs) {
        size_t cap = s->capstrs ? s->capstrs * 2 : 256;
        char **strs = realloc(s->strs, cap * sizeof *strs);
        if (!strs)
            return "[out of memory]";
        s->strs = strs;
        s->capstrs = cap;
    }
    uint32_t idx;
    int r = hmap_intern(&s->strmap, str, strlen(str) + 1, (uint32_t)s->nstrs, &idx);
    if (r < 0)
        return "[out of memory]";
    if (r == 1) {
        char *copy = strdup(str);
        if (!copy)
            return "[out of memory]";
        s->strs[s->nstrs++] = copy;
    }
    return s->strs[idx];
}

char *symbolize_demangle(const char *sym)
{
    if (!sym || strncmp(sym, "_Z", 2) != 0)
        return NULL;
    return cplus_demangle(sym, DMGL_PARAMS | DMGL_ANSI | DMGL_VERBOSE);
}

static const char *path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The module's basename; "[vdso: 1234]" and the like lose their per-process part. */
static const char *module_name(struct symbolizer *s, Dwfl_Module *mod)
{
    const char *path = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (!path)
        return NULL;
    if (path[0] == '[') {
        size_t n = strcspn(path, ":]");
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s]", (int)(n < 60 ? n : 60), path);
        return intern(s, buf);
    }
    return intern(s, path_basename(path));
}

struct symbolizer *symbolizer_open_self(char *err, size_t errlen)
{
    struct symbolizer *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    hmap_init(&s->strmap);
    s->callbacks.find_elf = dwfl_linux_proc_find_elf;
    s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    s->callbacks.debuginfo_path = &s->debuginfo_path;
    s->dwfl = dwfl_begin(&s->callbacks);
    if (!s->dwfl) {
        snprintf(err, errlen, "libdw: %s", dwfl_errmsg(-1));
        free(s);
        return NULL;
    }
    dwfl_report_begin(s->dwfl);
    int r = dwfl_linux_proc_report(s->dwfl, getpid());
    dwfl_report_end(s->dwfl, NULL, NULL);
    if (r != 0) {
        snprintf(err, errlen, "cannot read this process's mappings: %s",
                 r < 0 ? dwfl_errmsg(-1) : strerror(r));
        symbolizer_close(s);
        return NULL;
    }
    return s;
}

void symbolizer_close(struct symbolizer *s)
{
    if (!s)
        return;
    if (s->dwfl)
        dwfl_end(s->dwfl);
    for (size_t i = 0; i < s->nstrs; i++)
        free(s->strs[i]);
    free(s->strs);
    hmap_free(&s->strmap);
    free(s);
}

const void *symbolizer_module_of(struct symbolizer *s, uint64_t addr)
{
    return dwfl_addrmodule(s->dwfl, addr);
}

/* A DIE's function name: demangled linkage name, else DW_AT_name (both followed through
 * DW_AT_abstract_origin and DW_AT_specification). Interned, or NULL. */
static const char *die_function_name(struct symbolizer *s, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (!linkage)
        linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (linkage) {
        char *demangled = symbolize_demangle(linkage);
        const char *name = intern(s, demangled ? demangled : linkage);
        free(demangled);
        return name;
    }
    return intern(s, dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr)));
}

/* Joins dir and rel into out, resolving "." and ".." lexically. */
static void join_path(char *out, size_t len, const char *dir, const char *rel)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    size_t o = 0;
    out[0] = '\0';
    for (char *save = NULL, *seg = strtok_r(buf, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            out[o] = '\0';
            continue;
        }
        int n = snprintf(out + o, len - o, "/%s", seg);
        if (n < 0 || (size_t)n >= len - o)
            return;
        o += (size_t)n;
    }
    if (o == 0)
        snprintf(out, len, "/");
}

/* path made absolute against the compilation directory of cu (into buf), or path. */
static const char *absolute_source(const char *path, Dwarf_Die *cu, char *buf, size_t len)
{
    Dwarf_Attribute attr;
    if (!path || path[0] == '/' || !cu)
        return path;
    const char *comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
    if (!comp_dir || comp_dir[0] != '/')
        return path;
    join_path(buf, len, comp_dir, path);
    return buf;
}

static void set_source(struct symbolizer *s, struct sym_frame *f, const char *path, int line)
{
    f->source_path = intern(s, path);
    f->source_file = path ? intern(s, path_basename(path)) : NULL;
    f->line = path && line >= 0 ? line : -1;
}

/* Declaring file and line of a function DIE. When the DIE has none, the line table at the
 * function's entry says where it starts (what eu-addr2line reports there). */
static void fill_source(struct symbolizer *s, Dwarf_Die *die, struct sym_frame *f)
{
    const char *path = dwarf_decl_file(die);
    int line = -1;
    if (dwarf_decl_line(die, &line) != 0)
        line = -1;
    Dwarf_Die cu;
    bool have_cu = dwarf_diecu(die, &cu, NULL, NULL) != NULL;
    Dwarf_Addr entry;
    if (!path && have_cu && dwarf_entrypc(die, &entry) == 0) {
        Dwarf_Line *l = dwarf_getsrc_die(&cu, entry);
        if (l && (path = dwarf_linesrc(l, NULL, NULL)) && dwarf_lineno(l, &line) != 0)
            line = -1;
    }
    char buf[4096];
    set_source(s, f, absolute_source(path, have_cu ? &cu : NULL, buf, sizeof buf), line);
}

/* File and line of the line-table row at a (module-relative, biased) address. */
static void fill_source_at(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                           struct sym_frame *f)
{
    Dwfl_Line *l = dwfl_module_getsrc(mod, addr);
    int line = -1;
    const char *path = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
    Dwarf_Die *cu = l ? dwfl_linecu(l) : NULL;
    char buf[4096];
    set_source(s, f, absolute_source(path, cu, buf, sizeof buf), line);
}

/* Offset of addr in the module's file, via the PT_LOAD segment that maps it. */
static uint64_t file_offset(Dwfl_Module *mod, uint64_t addr)
{
    Dwarf_Addr start = 0, bias = 0;
    dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
    Elf *elf = dwfl_module_getelf(mod, &bias);
    size_t nphdr;
    if (elf && elf_getphdrnum(elf, &nphdr) == 0) {
        uint64_t vaddr = addr - bias;
        for (size_t i = 0; i < nphdr; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
                vaddr < ph.p_vaddr + ph.p_memsz)
                return vaddr - ph.p_vaddr + ph.p_offset;
        }
    }
    return addr - start;
}

/* The ELF symbol containing addr, demangled, and its start address; or NULL. */
static const char *elf_symbol(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                              uint64_t *start)
{
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    if (!name || !*name || !(off < sym.st_size || (sym.st_size == 0 && off == 0)))
        return NULL;
    if (start)
        *start = addr - off;
    char *demangled = symbolize_demangle(name);
    const char *r = intern(s, demangled ? demangled : name);
    free(demangled);
    return r;
}

/* The DIEs containing pc as the compiler nested them, innermost first: an inlined
 * subroutine is followed by its caller, not by its own abstract definition (which is what
 * dwarf_getscopes() continues with). Returns their number; *scopes is malloc'd. */
static int physical_scopes(Dwfl_Module *mod, Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **scopes)
{
    *scopes = NULL;
    if (!cu)
        return 0;
    Dwarf_Die *by_pc = NULL;
    int n = dwarf_getscopes(cu, pc, &by_pc);
    if (n <= 0) {
        free(by_pc);
        return 0;
    }
    Dwarf_Addr bias;
    Dwarf *dwarf = dwfl_module_getdwarf(mod, &bias);
    Dwarf_Die innermost;
    if (!dwarf || !dwarf_offdie(dwarf, dwarf_dieoffset(&by_pc[0]), &innermost)) {
        *scopes = by_pc;
        return n;
    }
    free(by_pc);
    n = dwarf_getscopes_die(&innermost, scopes);
    return n > 0 ? n : 0;
}

static bool is_cxx_lang(int lang)
{
    return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
           lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14;
}

size_t symbolizer_lookup(struct symbolizer *s, uint64_t addr, struct sym_frame *out, size_t max)
{
    static const struct sym_frame unknown = {"[unknown]", NULL, NULL, NULL, -1};
    if (max == 0)
        return 0;
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
    if (!mod) {
        out[0] = unknown;
        return 1;
    }
    const char *module = module_name(s, mod);
    size_t n = 0;
    bool have_outer = false;

    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias);
    bool is_cxx = cu && is_cxx_lang(dwarf_srclang(cu));
    Dwarf_Die *scopes = NULL;
    int nscopes = physical_scopes(mod, cu, addr - bias, &scopes);
    for (int i = 0; i < nscopes; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine &&
            tag != DW_TAG_entry_point)
            continue;
        bool outer = tag != DW_TAG_inlined_subroutine;
        struct sym_frame f = {NULL, NULL, NULL, module, -1};
        f.name = die_function_name(s, &scopes[i]);
        if (outer && (!f.name || (is_cxx && !strchr(f.name, '(')))) {
            /* Without a DWARF linkage name, a mangled ELF symbol says more (C++ scope). */
            const char *sym = elf_symbol(s, mod, addr, NULL);
            if (sym && (!f.name || strchr(sym, '(')))
                f.name = sym;
        }
        if (f.name) {
            fill_source(s, &scopes[i], &f);
            if (n == max)
                n--; /* keep room for the outer function */
            out[n++] = f;
            have_outer = outer;
        }
        if (outer)
            break;
    }
    free(scopes);

    if (!have_outer) {
        /* No DWARF function here (or none found): the ELF symbol, located by the line table
         * at its entry when the module has one; else the module and file offset. */
        struct sym_frame f = {NULL, NULL, NULL, module, -1};
        uint64_t start = 0;
        f.name = elf_symbol(s, mod, addr, &start);
        if (f.name && cu) {
            fill_source_at(s, mod, start, &f);
        } else if (!f.name) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s+0x%" PRIx64, module ? module : "[unknown]",
                     file_offset(mod, addr));
            f.name = intern(s, buf);
        }
        if (n == max)
            n--;
        out[n++] = f;
    }
    return n;
}
