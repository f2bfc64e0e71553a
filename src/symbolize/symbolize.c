/* SPDX-License-Identifier: MIT */
/* symbolize.c — addresses of the running process to functions, with libdwfl.
 *
 * One pass per address, in the manner of eu-stack: find the module, its DWARF scopes at
 * the address (inlined subroutines innermost first, then the containing subprogram), name
 * each scope from its linkage name (demangled with libiberty, as c++filt does), else for C++
 * from its mangled ELF symbol or its DWARF scopes (dwarf_names.c), else DW_AT_name; fall back
 * to the ELF symbol table, then to "module+0xOFFSET" (file offset). Out-of-line clones keep
 * their ELF name's clone suffix (profile_build folds it); internal C aliases get their public
 * name. Invariant: every string handed out is interned here and freed by symbolizer_close(). */
#include "symbolize/symbolize.h"

#include "core/array.h"
#include "core/fsutil.h"
#include "core/hashmap.h"

#include "core/profile.h"

#include "symbolize/aranges.h"
#include "symbolize/debuginfo.h"
#include "symbolize/dwarf_files.h"
#include "symbolize/dwarf_index.h"
#include "symbolize/dwarf_names.h"
#include "symbolize/dwarf_raw.h"
#include "symbolize/plt.h"

#include <ctype.h>
#include <dwarf.h>
#include <fcntl.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libiberty/demangle.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One symbol of a module's table: struct sym_symbol, with addresses of this process. */
#define sym_ent sym_symbol

/* A module's symbols sorted by address, built on the first ELF symbol question about it:
 * dwfl_module_addrinfo scans the whole table on every call (elfutils 0.188), which made a
 * stripped cc1plus (31,000 .dynsym entries) spend seconds at exit. */
/* A module's ELF symbols sorted by start; an entry's addresses plus bias are the process's.
 * e is own (bias 0) when sorted by this run, else the store's table, relative to the
 * module's start (bias its start; the store keeps it until the symbolizer is closed). */
struct mod_symtab {
    const struct sym_ent *e;
    struct sym_ent *own;
    size_t n;
    uint64_t bias;
};

/* A debug file's .debug_aranges, read by aranges.c; !ok: libdw answers for that file. */
struct dwarf_aranges {
    struct aranges a;
    bool ok;
    bool lent; /* a's arrays are the store's */
};

/* Where a unit's abbreviations lie (struct dwraw_hints), as this run's scan of it found them:
 * kept until the store has the unit's table (symbolizer_save_units). */
struct unit_hints {
    uint32_t *v;
    size_t n;
};

struct symbolizer {
    Dwfl *dwfl;
    Dwfl_Callbacks callbacks;
    struct debuginfo_config debug; /* handed to debuginfo_find via each module's userdata */
    char *debug_dirs, *cache_dir;  /* owned strings behind `debug` */
    struct hmap strmap;            /* string -> index into strs */
    struct hmap demangled_map;     /* address of a mangled name -> its demangled name in strs */
    char **strs;
    size_t nstrs, capstrs;
    struct hmap cu_map; /* CU DIE address -> index into cus */
    struct cu_index **cus;
    uint64_t *cu_addrs; /* per unit in cus: an address looked up there (the store's key) */
    struct unit_hints *cu_hints; /* per unit in cus: what its scans found, for the store */
    size_t ncus, capcus;
    struct sym_unit_store store; /* get == NULL: none */
    Dwarf_Die unit_die;          /* stored_unit's answer */
    struct file_map *maps;       /* private file mappings of this process */
    size_t nmaps, capmaps;
    int maps_reads;         /* times /proc/self/maps was read */
    struct sym_debug_map *dmaps; /* libelf's mappings of the debug files of indexed units */
    size_t ndmaps, capdmaps;
    size_t dmaps_checked;        /* dmaps[0 .. dmaps_checked) are known to be such mappings */
    struct sym_unit_span *spans; /* the bytes of the units indexed, sorted */
    size_t nspans, capspans;
    unsigned since_check;       /* lookups since the resident set was last read */
    unsigned units_since_check; /* units opened since then */
    size_t walked_bytes;  /* DIE bytes the unit walks read since it was last read */
    uint64_t rss_limit_kb; /* debug pages are dropped above it */
    unsigned blind_checks;  /* readings that found no resident set */
    uint64_t rss_budget_kb;
    int statm_fd; /* /proc/self/statm, opened on the first reading (-1: not yet or cannot) */
    struct sym_frame **frames; /* cached frames of indexed DIEs, freed at close */
    size_t nframes, capframes;
    struct dwarf_names *names; /* C++ names built from DWARF, and DIE scopes */
    struct dwarf_files *files; /* declaring files from line program headers */
    struct hmap alias_map;     /* (module, entry address) -> index into strs: public names */
    struct hmap plt_map;       /* module -> index into plts */
    struct plt_table *plts;
    size_t nplts, capplts;
    struct hmap symtab_map;    /* module -> index into symtabs */
    struct mod_symtab *symtabs;
    size_t nsymtabs, capsymtabs;
    struct hmap aranges_map; /* Dwarf -> index into aranges */
    struct dwarf_aranges *aranges;
    size_t naranges, caparanges;
    Dwarf_Die arange_die;    /* unit_of's answer */
    uint64_t keys[SYM_MAX_FRAMES]; /* the store keys of the last lookup's frames (0: none) */
    struct symbolizer_stats stats;
};

/* The process's resident set in kB (/proc/self/statm), or 0 when it cannot be read. The file
 * stays open: read again from its start it is read anew, one call (1 us) where opening and
 * closing it took three (6 us), some 50 times a cached exit. */
static uint64_t resident_kb(struct symbolizer *s)
{
    char buf[128];
    if (s->statm_fd < 0)
        s->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (s->statm_fd < 0)
        return 0;
    ssize_t n = pread(s->statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    unsigned long long size, resident;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return 0;
    return resident * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024);
}

/* The index in s->strs of str's copy, made when new; UINT32_MAX when out of memory. */
static uint32_t intern_index(struct symbolizer *s, const char *str)
{
    if (ARRAY_GROW(s->strs, s->nstrs, s->capstrs) < 0)
        return UINT32_MAX;
    uint32_t idx;
    int r = hmap_intern(&s->strmap, str, strlen(str) + 1, (uint32_t)s->nstrs, &idx);
    if (r < 0)
        return UINT32_MAX;
    if (r == 1) {
        char *copy = strdup(str);
        if (!copy)
            return UINT32_MAX; /* (the map keeps idx == nstrs, which the next string takes) */
        s->strs[s->nstrs++] = copy;
    }
    return idx;
}

static const char *intern(struct symbolizer *s, const char *str)
{
    if (!str)
        return NULL;
    uint32_t idx = intern_index(s, str);
    return idx == UINT32_MAX ? "[out of memory]" : s->strs[idx];
}

/* May sym be a Rust legacy name ("_ZN...17h<16 hex digits>E", perhaps with a '.' suffix),
 * which libiberty's automatic style (c++filt's) demangles as Rust? */
static bool may_be_rust(const char *sym)
{
    size_t n = strlen(sym);
    if (strchr(sym, '.'))
        return true; /* left to the automatic style, suffixes and all */
    if (n < 23 || sym[n - 1] != 'E' || strncmp(sym + n - 20, "17h", 3) != 0)
        return false;
    for (size_t i = n - 17; i < n - 1; i++)
        if (!isxdigit((unsigned char)sym[i]))
            return false;
    return true;
}

char *symbolize_demangle(const char *sym)
{
    if (!sym || strncmp(sym, "_Z", 2) != 0)
        return NULL;
    /* the automatic style tries Rust first on every name (a tenth of demangling C++); any
     * other "_Z" name it then hands to the C++ demangler, as the GNU v3 style does at once */
    return cplus_demangle(sym, DMGL_PARAMS | DMGL_ANSI | DMGL_VERBOSE |
                                   (may_be_rust(sym) ? 0 : DMGL_GNU_V3));
}

/* What demangled returns for a name that is not a mangled C++ name. */
#define NOT_MANGLED UINT32_MAX

/* The demangled form of a linkage name, interned; NULL when it is not a mangled C++ name.
 * Demangling is most of what naming costs (144 M of 608 M instructions at the first exit of a
 * 200 MB C++ test binary), and one inline function's copies all name the same string of
 * .debug_str (or of the symbol table), so the answer is kept by the string's address: the
 * debug sections stay mapped at one place while the symbolizer is open (pages dropped to save
 * memory come back at the same addresses), and a string met at another address is only
 * demangled again. */
static const char *demangled(struct symbolizer *s, const char *name)
{
    if (!name || strncmp(name, "_Z", 2) != 0)
        return NULL;
    uint32_t idx;
    if (hmap_get(&s->demangled_map, &name, sizeof name, &idx))
        return idx == NOT_MANGLED ? NULL : s->strs[idx];
    char *d = symbolize_demangle(name);
    bool mangled = d != NULL;
    idx = mangled ? intern_index(s, d) : NOT_MANGLED;
    free(d);
    if (mangled && idx == UINT32_MAX)
        return "[out of memory]"; /* (not kept: a later question tries again) */
    (void)hmap_intern(&s->demangled_map, &name, sizeof name, idx, &idx);
    return idx == NOT_MANGLED ? NULL : s->strs[idx];
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
    return intern(s, fs_basename(path));
}

/* Gives every module the debug directories, where debuginfo_find() finds them. */
static int set_module_dirs(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
                           void *arg)
{
    (void)mod;
    (void)name;
    (void)start;
    *userdata = arg;
    return DWARF_CB_OK;
}

struct symbolizer *symbolizer_open_self(const struct sym_options *opts, char *err, size_t errlen)
{
    struct symbolizer *s = calloc(1, sizeof *s);
    if (s)
        s->statm_fd = -1;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    elf_version(EV_CURRENT);
    hmap_init(&s->strmap);
    hmap_init(&s->demangled_map);
    hmap_init(&s->aranges_map);
    hmap_init(&s->cu_map);
    hmap_init(&s->alias_map);
    hmap_init(&s->symtab_map);
    hmap_init(&s->plt_map);
    s->names = dwarf_names_new();
    s->files = dwarf_files_new();
    if (!s->names || !s->files) {
        snprintf(err, errlen, "out of memory");
        symbolizer_close(s);
        return NULL;
    }
    if (opts && opts->debug_dirs && *opts->debug_dirs)
        s->debug_dirs = strdup(opts->debug_dirs);
    if (!opts || !opts->no_cache)
        s->cache_dir =
            opts && opts->cache_dir ? strdup(opts->cache_dir) : debuginfo_default_cache_dir();
    s->debug.dirs = s->debug_dirs;
    s->debug.cache_dir = s->cache_dir;
    s->rss_budget_kb = opts && opts->rss_budget_kb ? opts->rss_budget_kb : SYM_RSS_BUDGET_KB;
    uint64_t now = resident_kb(s), peak = opts ? opts->rss_peak_kb : 0;
    s->rss_limit_kb = (peak > now ? peak : now) + s->rss_budget_kb;
    s->callbacks.find_elf = dwfl_linux_proc_find_elf;
    s->callbacks.find_debuginfo = debuginfo_find;
    s->dwfl = dwfl_begin(&s->callbacks);
    if (!s->dwfl) {
        snprintf(err, errlen, "libdw: %s", dwfl_errmsg(-1));
        symbolizer_close(s);
        return NULL;
    }
    dwfl_report_begin(s->dwfl);
    /* this thread's view: the main thread may have ended (pthread_exit), leaving /proc/PID
     * without maps; every thread shares the same address space */
    int r = dwfl_linux_proc_report(s->dwfl, (pid_t)syscall(SYS_gettid));
    for (size_t i = 0; r == 0 && opts && i < opts->nextra; i++) {
        const struct sym_extra_module *m = &opts->extra[i];
        /* fails harmlessly when the range is mapped now (still loaded, or reused) */
        dwfl_report_elf(s->dwfl, fs_basename(m->path), m->path, -1, m->bias, true);
    }
    dwfl_report_end(s->dwfl, NULL, NULL);
    if (r != 0) {
        snprintf(err, errlen, "cannot read this process's mappings: %s",
                 r < 0 ? dwfl_errmsg(-1) : strerror(r));
        symbolizer_close(s);
        return NULL;
    }
    dwfl_getmodules(s->dwfl, set_module_dirs, &s->debug, 0);
    return s;
}

void symbolizer_close(struct symbolizer *s)
{
    if (!s)
        return;
    dwraw_forget(); /* it points into the files dwfl_end closes */
    dwraw_set_hints(NULL);
    if (s->dwfl)
        dwfl_end(s->dwfl);
    if (s->statm_fd >= 0)
        close(s->statm_fd);
    for (size_t i = 0; i < s->nstrs; i++)
        free(s->strs[i]);
    free(s->strs);
    hmap_free(&s->strmap);
    hmap_free(&s->demangled_map);
    for (size_t i = 0; i < s->ncus; i++)
        cu_index_free(s->cus[i]);
    free(s->cus);
    free(s->cu_addrs);
    for (size_t i = 0; i < s->ncus; i++)
        free(s->cu_hints[i].v);
    free(s->cu_hints);
    free(s->maps);
    free(s->dmaps);
    free(s->spans);
    hmap_free(&s->cu_map);
    for (size_t i = 0; i < s->nframes; i++)
        free(s->frames[i]);
    free(s->frames);
    dwarf_names_free(s->names);
    dwarf_files_free(s->files);
    hmap_free(&s->alias_map);
    for (size_t i = 0; i < s->nsymtabs; i++)
        free(s->symtabs[i].own);
    free(s->symtabs);
    hmap_free(&s->symtab_map);
    for (size_t i = 0; i < s->nplts; i++)
        plt_free(&s->plts[i]);
    free(s->plts);
    hmap_free(&s->plt_map);
    for (size_t i = 0; i < s->naranges; i++)
        if (!s->aranges[i].lent)
            aranges_free(&s->aranges[i].a);
    free(s->aranges);
    hmap_free(&s->aranges_map);
    free(s->debug_dirs);
    free(s->cache_dir);
    free(s);
}

void symbolizer_stats(const struct symbolizer *s, struct symbolizer_stats *out)
{
    *out = s->stats;
    out->line_passes = dwarf_files_full_passes(s->files);
}

void symbolizer_stats_add(struct symbolizer_stats *a, const struct symbolizer_stats *b)
{
    a->lookups += b->lookups;
    a->cus_indexed += b->cus_indexed;
    a->cus_from_store += b->cus_from_store;
    a->cu_functions += b->cu_functions;
    a->symtabs_sorted += b->symtabs_sorted;
    a->symbols_sorted += b->symbols_sorted;
    a->debug_drops += b->debug_drops;
    a->deep_walks += b->deep_walks;
    a->frames_from_store += b->frames_from_store;
    a->line_passes += b->line_passes;
    a->aranges_read += b->aranges_read;
}

uint64_t symbolizer_rss_limit_kb(const struct symbolizer *s)
{
    return s->rss_limit_kb;
}

void symbolizer_set_rss_limit_kb(struct symbolizer *s, uint64_t kb)
{
    s->rss_limit_kb = kb;
}

uint64_t symbolizer_rss_budget_kb(const struct symbolizer *s)
{
    return s->rss_budget_kb;
}

const void *symbolizer_module_of(struct symbolizer *s, uint64_t addr)
{
    return dwfl_addrmodule(s->dwfl, addr);
}

/* What names and places a function DIE: each attribute from the first DIE that has it along
 * the DW_AT_abstract_origin (else DW_AT_specification) links, as dwarf_attr_integrate finds
 * each one, but in one scan of each DIE's attributes (a dwarf_attr_integrate per attribute
 * scanned each DIE of the chain up to three times for each of five attributes). */
enum { FA_LINKAGE, FA_MIPS_LINKAGE, FA_NAME, FA_DECL_FILE, FA_DECL_LINE, FA_N };

struct fn_attrs {
    Dwarf_Attribute v[FA_N];
    bool have[FA_N];
    Dwarf_Attribute next; /* the scanned DIE's link onwards */
    bool have_origin, have_spec;
    /* the first DIE names nothing itself and links on by DW_AT_abstract_origin (origin0)
     * alone, scanned whole: everything comes from there (shared_key) */
    bool by_origin;
    Dwarf_Attribute origin0;
    bool own_origin; /* the first DIE has DW_AT_abstract_origin */
};

static int take_attr(Dwarf_Attribute *a, void *arg)
{
    struct fn_attrs *fa = arg;
    int k;
    switch (dwarf_whatattr(a)) {
    case DW_AT_linkage_name:
        k = FA_LINKAGE;
        break;
    case DW_AT_MIPS_linkage_name:
        k = FA_MIPS_LINKAGE;
        break;
    case DW_AT_name:
        k = FA_NAME;
        break;
    case DW_AT_decl_file:
        k = FA_DECL_FILE;
        break;
    case DW_AT_decl_line:
        k = FA_DECL_LINE;
        break;
    case DW_AT_abstract_origin: /* taken before DW_AT_specification, wherever each stands */
        if (!fa->have_origin)
            fa->next = *a;
        fa->have_origin = true;
        return DWARF_CB_OK;
    case DW_AT_specification:
        if (!fa->have_origin && !fa->have_spec)
            fa->next = *a;
        fa->have_spec = true;
        return DWARF_CB_OK;
    default:
        return DWARF_CB_OK;
    }
    if (!fa->have[k]) {
        fa->v[k] = *a;
        fa->have[k] = true;
    }
    return DWARF_CB_OK;
}

static void function_attrs(Dwarf_Die *die, struct fn_attrs *fa)
{
    memset(fa, 0, sizeof *fa);
    Dwarf_Die mem;
    /* dwarf_attr_integrate's bound: the DIE and 16 links */
    for (int i = 0; die && i <= 16; i++) {
        fa->have_origin = fa->have_spec = false;
        /* a value it cannot step over ends the scan with what came before it, as dwarf_attr
         * finds those and not the ones after */
        int whole = dwraw_getattrs(die, take_attr, fa) == 1;
        if (i == 0)
            fa->own_origin = fa->have_origin;
        bool all = true, none = true;
        for (int k = 0; k < FA_N; k++) {
            all = all && fa->have[k];
            none = none && !fa->have[k];
        }
        if (i == 0 && (fa->by_origin = whole && none && fa->have_origin && !fa->have_spec))
            fa->origin0 = fa->next;
        if (all || (!fa->have_origin && !fa->have_spec))
            break;
        die = dwarf_formref_die(&fa->next, &mem);
    }
}

static const char *fa_string(struct fn_attrs *fa, int k)
{
    return fa->have[k] ? dwarf_formstring(&fa->v[k]) : NULL;
}

/* A DIE's function name: its linkage name demangled when that is a mangled C++ name, else
 * DW_AT_name (C linkage names are assembler aliases such as glibc's "__GI_qsort" for
 * qsort); fa holds its attributes (function_attrs). *mangled tells whether the name came from
 * a mangled linkage name. Interned, or NULL. */
static const char *die_function_name(struct symbolizer *s, struct fn_attrs *fa, bool *mangled)
{
    const char *linkage = fa_string(fa, FA_LINKAGE);
    if (!linkage)
        linkage = fa_string(fa, FA_MIPS_LINKAGE);
    const char *d = demangled(s, linkage);
    *mangled = d != NULL;
    if (d)
        return d;
    const char *name = fa_string(fa, FA_NAME);
    return intern(s, name ? name : linkage);
}

/* Joins dir and rel into out, resolving "." and ".." lexically. */
static void join_path(char *out, size_t len, const char *dir, const char *rel)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    size_t o = 0;
    out[0] = '\0';
    for (char *save = NULL, *seg = strtok_r(buf, "/", &save); seg;
         seg = strtok_r(NULL, "/", &save)) {
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
static const char *absolute_source(struct symbolizer *s, const char *path, Dwarf_Die *cu, char *buf,
                                   size_t len)
{
    if (!path || path[0] == '/' || !cu)
        return path;
    const char *comp_dir = dwarf_files_comp_dir(s->files, cu);
    if (!comp_dir || comp_dir[0] != '/')
        return path;
    join_path(buf, len, comp_dir, path);
    return buf;
}

static void set_source(struct symbolizer *s, struct sym_frame *f, const char *path, int line)
{
    f->source_path = intern(s, path);
    f->source_file = path ? intern(s, fs_basename(path)) : NULL;
    f->line = path && line >= 0 ? line : -1;
}

/* Declaring file and line of a function DIE (its attributes in fa). When the DIE has none,
 * the line table at the function's entry says where it starts (what eu-addr2line reports
 * there). True when the declaring file named it. */
static bool fill_source(struct symbolizer *s, Dwarf_Die *die, struct fn_attrs *fa,
                        struct sym_frame *f)
{
    const char *path = dwarf_files_decl_file_at(
        s->files, die, fa->have[FA_DECL_FILE] ? &fa->v[FA_DECL_FILE] : NULL);
    int line = -1;
    Dwarf_Word w;
    if (fa->have[FA_DECL_LINE] && dwarf_formudata(&fa->v[FA_DECL_LINE], &w) == 0 && w <= INT_MAX)
        line = (int)w;
    bool declared = path != NULL;
    Dwarf_Die cu;
    bool have_cu = dwarf_diecu(die, &cu, NULL, NULL) != NULL;
    Dwarf_Addr entry;
    if (!path && have_cu && dwarf_entrypc(die, &entry) == 0) {
        /* one pass over the unit's line program, not libdw's decoding and sorting of it */
        int row_line = -1;
        int found = dwarf_files_line_at(s->files, &cu, entry, &path, &row_line);
        if (found > 0 && path) {
            line = row_line;
        } else if (found < 0) {
            Dwarf_Line *l = dwarf_getsrc_die(&cu, entry);
            if (l && (path = dwarf_linesrc(l, NULL, NULL)) && dwarf_lineno(l, &line) != 0)
                line = -1;
        }
    }
    char buf[4096];
    set_source(s, f, absolute_source(s, path, have_cu ? &cu : NULL, buf, sizeof buf), line);
    return declared;
}

/* dbg's .debug_aranges (of the module containing addr) as aranges.c reads it, read on the
 * first question (or as the store kept it: 0.5 ms a run on assimp's tests); NULL when libdw
 * should answer (no such section to read in place: compressed, big-endian, or anything
 * aranges_read leaves to libdw). */
static const struct aranges *aranges_for(struct symbolizer *s, Dwarf *dbg, uint64_t addr)
{
    uint32_t idx;
    if (hmap_get(&s->aranges_map, &dbg, sizeof dbg, &idx))
        return s->aranges[idx].ok ? &s->aranges[idx].a : NULL;
    if (ARRAY_GROW(s->aranges, s->naranges, s->caparanges) < 0)
        return NULL;
    struct dwarf_aranges da = {{NULL, NULL, 0, 0}, false, false};
    if (s->store.get_aranges && s->store.get_aranges(s->store.ctx, addr, &da.a)) {
        da.ok = da.lent = true;
        if (hmap_intern(&s->aranges_map, &dbg, sizeof dbg, (uint32_t)s->naranges, &idx) < 0)
            return NULL;
        s->aranges[s->naranges++] = da;
        return &s->aranges[idx].a;
    }
    Elf *elf = dwarf_getelf(dbg);
    size_t shstrndx;
    GElf_Ehdr eh;
    const Elf_Data *ar = NULL;
    uint64_t info_size = 0;
    bool have_ar = false, compressed = false;
    if (elf && gelf_getehdr(elf, &eh) && eh.e_ident[EI_DATA] == ELFDATA2LSB &&
        elf_getshdrstrndx(elf, &shstrndx) == 0) {
        for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
            GElf_Shdr sh;
            const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
            if (!name)
                continue;
            bool is_ar = strcmp(name, ".debug_aranges") == 0;
            if (!is_ar && strcmp(name, ".debug_info") != 0)
                continue;
            if (sh.sh_flags & SHF_COMPRESSED || sh.sh_type == SHT_NOBITS) {
                compressed = true;
                continue;
            }
            if (is_ar) {
                ar = elf_rawdata(scn, NULL);
                have_ar = true;
            } else {
                info_size = sh.sh_size;
            }
        }
    }
    if (have_ar && ar && !compressed && info_size) {
        da.ok = aranges_read(ar->d_buf, ar->d_size, info_size, &da.a) == 0;
        s->stats.aranges_read++;
        if (da.ok && s->store.put_aranges)
            s->store.put_aranges(s->store.ctx, addr, &da.a);
    }
    if (hmap_intern(&s->aranges_map, &dbg, sizeof dbg, (uint32_t)s->naranges, &idx) < 0) {
        aranges_free(&da.a);
        return NULL;
    }
    s->aranges[s->naranges++] = da;
    return da.ok ? &s->aranges[idx].a : NULL;
}

/* [lo + b, hi + b) for a span [lo, hi) around a DWARF address (so lo + b is an address too),
 * its end clamped to the address space. */
static void biased_span(uint64_t lo, uint64_t hi, uint64_t b, uint64_t *out_lo, uint64_t *out_hi)
{
    *out_lo = lo + b;
    *out_hi = hi > UINT64_MAX - b ? UINT64_MAX : hi + b;
}

/* The unit dwfl_module_addrdie finds for addr (and the module's bias), from the module's
 * .debug_aranges read by aranges.c; libdw's own answer where that cannot be read. The DIE
 * lives in s->arange_die until the next call. [*span_lo, *span_hi) (when span_lo is not
 * NULL): the addresses around addr that get the same unit, or none as addr does (all of the
 * module's when it has no DWARF; addr alone when libdw answered). */
static Dwarf_Die *unit_of_span(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                               Dwarf_Addr *bias, uint64_t *span_lo, uint64_t *span_hi)
{
    uint64_t ignored_lo, ignored_hi;
    if (!span_lo) {
        span_lo = &ignored_lo;
        span_hi = &ignored_hi;
    }
    *span_lo = addr;
    *span_hi = addr + 1;
    Dwarf_Addr b;
    Dwarf *dbg = dwfl_module_getdwarf(mod, &b);
    if (!dbg) {
        *span_lo = 0;
        *span_hi = UINT64_MAX;
        return NULL;
    }
    const struct aranges *a = aranges_for(s, dbg, addr);
    if (!a)
        return dwfl_module_addrdie(mod, addr, bias);
    uint64_t off, next;
    size_t hsize;
    uint8_t unit_type;
    Dwarf_Half version;
    bool found = aranges_find(a, addr - b, &off);
    uint64_t lo, hi;
    aranges_span(a, addr - b, &lo, &hi);
    if (!found) {
        biased_span(lo, hi, b, span_lo, span_hi);
        return NULL;
    }
    if (dwarf_next_unit(dbg, off, &next, &hsize, &version, NULL, NULL, NULL, NULL, NULL) != 0 ||
        !dwarf_offdie(dbg, off + hsize, &s->arange_die) ||
        dwarf_cu_info(s->arange_die.cu, NULL, &unit_type, NULL, NULL, NULL, NULL, NULL) != 0 ||
        (unit_type != DW_UT_compile && unit_type != DW_UT_partial))
        return dwfl_module_addrdie(mod, addr, bias); /* a split or type unit: libdw's */
    (void)version;
    *bias = b;
    biased_span(lo, hi, b, span_lo, span_hi);
    return &s->arange_die;
}

static Dwarf_Die *unit_of(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr, Dwarf_Addr *bias)
{
    return unit_of_span(s, mod, addr, bias, NULL, NULL);
}

/* File and line of the line-table row at a (module-relative, biased) address. */
static void fill_source_at(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                           struct sym_frame *f)
{
    Dwarf_Addr bias;
    Dwarf_Die *unit = unit_of(s, mod, addr, &bias);
    const char *row_path = NULL;
    int row_line = -1, found = unit ? dwarf_files_line_at(s->files, unit, addr - bias, &row_path,
                                                          &row_line)
                                    : -1;
    if (found >= 0) {
        char rbuf[4096];
        set_source(s, f, absolute_source(s, found ? row_path : NULL, unit, rbuf, sizeof rbuf),
                   row_line);
        return;
    }
    Dwfl_Line *l = dwfl_module_getsrc(mod, addr);
    int line = -1;
    const char *path = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
    Dwarf_Die *cu = l ? dwfl_linecu(l) : NULL;
    char buf[4096];
    set_source(s, f, absolute_source(s, path, cu, buf, sizeof buf), line);
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

static int cmp_sym_ent(const void *a, const void *b)
{
    const struct sym_ent *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->ndx < y->ndx ? -1 : x->ndx > y->ndx;
}

/* Sorts e, filled in increasing index order, by (lo, ndx) as cmp_sym_ent does: a stable
 * sort by lo, byte by byte from the lowest (the bytes every lo shares are skipped), where
 * qsort's comparisons took 70 M instructions for a large C++ binary's table. */
static void sort_symbols(struct sym_ent *e, size_t n)
{
    if (n < 2)
        return;
    uint64_t diff = 0;
    for (size_t i = 1; i < n; i++)
        diff |= e[i].lo ^ e[0].lo;
    struct sym_ent *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
        array_sort(e, n, sizeof *e, cmp_sym_ent);
        return;
    }
    struct sym_ent *src = e, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        if (!((diff >> shift) & 0xff))
            continue;
        size_t start[257] = {0};
        for (size_t i = 0; i < n; i++)
            start[((src[i].lo >> shift) & 0xff) + 1]++;
        for (unsigned b = 0; b < 256; b++)
            start[b + 1] += start[b];
        for (size_t i = 0; i < n; i++)
            dst[start[(src[i].lo >> shift) & 0xff]++] = src[i];
        struct sym_ent *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != e)
        memcpy(e, src, n * sizeof *e);
    free(tmp);
}

/* The module's sorted symbol table (built on first use), or NULL when it has none. One pass
 * over the table libdwfl chose (.symtab, else .dynsym with .gnu_debugdata's symbols). */
/* The sorted table the store saved for mod (addr: an address in it), relocated to where
 * the module is now; false when none. */
static bool stored_symtab(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                          struct mod_symtab *t)
{
    Dwarf_Addr base;
    const struct sym_symbol *v;
    size_t n;
    if (!s->store.get_symbols ||
        !dwfl_module_info(mod, NULL, &base, NULL, NULL, NULL, NULL, NULL) ||
        !s->store.get_symbols(s->store.ctx, addr, &v, &n))
        return false;
    /* served in place, not copied: the table is megabytes for a large C++ binary */
    *t = (struct mod_symtab){v, NULL, n, base};
    return true;
}

/* Hands the store mod's sorted table, relative to the module's start. */
static void store_symtab(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                         const struct mod_symtab *t)
{
    Dwarf_Addr base;
    struct sym_symbol *v;
    if (!s->store.put_symbols ||
        !dwfl_module_info(mod, NULL, &base, NULL, NULL, NULL, NULL, NULL) ||
        !(v = malloc(t->n * sizeof *v + 1)))
        return;
    for (size_t i = 0; i < t->n; i++) {
        v[i] = t->e[i]; /* this run's own table: bias 0 */
        v[i].lo -= base;
        v[i].hi -= base;
        v[i].maxhi -= base;
    }
    s->store.put_symbols(s->store.ctx, addr, v, t->n); /* the store takes v */
}

static const struct mod_symtab *symtab_for(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr)
{
    uint32_t idx;
    if (hmap_get(&s->symtab_map, &mod, sizeof mod, &idx))
        return &s->symtabs[idx];
    if (ARRAY_GROW(s->symtabs, s->nsymtabs, s->capsymtabs) < 0)
        return NULL;
    struct mod_symtab t = {0};
    if (stored_symtab(s, mod, addr, &t)) {
        if (hmap_intern(&s->symtab_map, &mod, sizeof mod, (uint32_t)s->nsymtabs, &idx) < 0)
            return NULL;
        s->symtabs[s->nsymtabs++] = t;
        return &s->symtabs[idx];
    }
    int n = dwfl_module_getsymtab(mod);
    if (n > 1 && !(t.own = malloc((size_t)n * sizeof *t.own)))
        return NULL;
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr value;
        const char *name = dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL, NULL);
        int type = GELF_ST_TYPE(sym.st_info);
        /* what dwfl_module_addrinfo considers, but for empty names: reading every name would
         * bring the whole string table into memory (tens of MB for a large C++ binary) */
        if (!name || sym.st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE ||
            type == STT_TLS)
            continue;
        t.own[t.n++] = (struct sym_ent){value, value + sym.st_size, 0, (uint32_t)i,
                                      (uint8_t)GELF_ST_BIND(sym.st_info), (uint8_t)type, {0}};
    }
    sort_symbols(t.own, t.n);
    uint64_t maxhi = 0;
    for (size_t i = 0; i < t.n; i++)
        t.own[i].maxhi = maxhi = t.own[i].hi > maxhi ? t.own[i].hi : maxhi;
    t.e = t.own;
    if (hmap_intern(&s->symtab_map, &mod, sizeof mod, (uint32_t)s->nsymtabs, &idx) < 0) {
        free(t.own);
        return NULL;
    }
    s->symtabs[s->nsymtabs++] = t;
    s->stats.symtabs_sorted++;
    s->stats.symbols_sorted += t.n;
    store_symtab(s, mod, addr, &t);
    return &s->symtabs[idx];
}

/* Index of the first entry with lo > addr. */
static size_t symtab_upper(const struct mod_symtab *t, uint64_t addr)
{
    addr -= t->bias;
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->e[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int binding_rank(int bind)
{
    return bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0;
}

/* Does candidate c replace best as dwfl_module_addrinfo's answer? Its rules (elfutils
 * 0.188): symbols that contain addr (sizeless ones only when they start at addr, as
 * elf_symbol accepts no other), global and weak before local ones, then the nearest start,
 * the stronger binding, the smaller size, the lower index. */
static bool better_sym(const struct sym_ent *c, const struct sym_ent *best)
{
    if (!best)
        return true;
    bool cl = c->bind == STB_LOCAL, bl = best->bind == STB_LOCAL;
    if (cl != bl)
        return bl;
    bool cs = c->hi > c->lo, bs = best->hi > best->lo;
    if (cs != bs)
        return cs;
    if (c->lo != best->lo)
        return c->lo > best->lo;
    if (binding_rank(c->bind) != binding_rank(best->bind))
        return binding_rank(c->bind) > binding_rank(best->bind);
    if (c->hi - c->lo != best->hi - best->lo)
        return c->hi - c->lo < best->hi - best->lo;
    return c->ndx < best->ndx;
}

/* The symbol-table entry dwfl_module_addrinfo would name addr with, or NULL: a binary search,
 * then a walk back over the entries whose range may still reach addr. */
static const struct sym_ent *symtab_find(const struct mod_symtab *t, uint64_t pc)
{
    const struct sym_ent *best = NULL;
    uint64_t addr = pc - t->bias; /* in the table's terms */
    for (size_t i = symtab_upper(t, pc); i-- > 0;) {
        const struct sym_ent *c = &t->e[i];
        if (c->lo != addr && c->maxhi <= addr)
            break;
        if ((addr < c->hi || (c->hi == c->lo && c->lo == addr)) && better_sym(c, best))
            best = c;
    }
    return best;
}

/* The module's table (*t) and the entry of it that dwfl_module_addrinfo would name addr by
 * (*e, NULL when none), and that entry's name as libdwfl gives it ("" for a nameless one). */
static const char *table_symbol(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                                const struct mod_symtab **t, const struct sym_ent **e)
{
    *t = symtab_for(s, mod, addr);
    *e = *t ? symtab_find(*t, addr) : NULL;
    GElf_Sym sym;
    GElf_Addr value;
    return *e ? dwfl_module_getsym_info(mod, (int)(*e)->ndx, &sym, &value, NULL, NULL, NULL) : NULL;
}

/* The name of the PLT stub holding addr, "symbol@plt" (demangled), and the stub's addresses;
 * or NULL. Asked before the DWARF: a stub is in no unit's code, and looking for one read a
 * unit that does not hold it (plt.c). */
static const char *plt_name(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr, uint64_t *lo,
                            uint64_t *hi)
{
    uint32_t idx;
    if (!hmap_get(&s->plt_map, &mod, sizeof mod, &idx)) {
        struct plt_table t;
        Dwarf_Addr bias = 0;
        Elf *elf = dwfl_module_getelf(mod, &bias);
        if (ARRAY_GROW(s->plts, s->nplts, s->capplts) < 0 || plt_read(elf, &t) < 0)
            return NULL;
        t.lo += bias; /* the table in the process's addresses */
        t.hi += bias;
        for (size_t i = 0; i < t.n; i++) {
            t.v[i].lo += bias;
            t.v[i].hi += bias;
        }
        if (hmap_intern(&s->plt_map, &mod, sizeof mod, (uint32_t)s->nplts, &idx) < 0) {
            plt_free(&t);
            return NULL;
        }
        s->plts[s->nplts++] = t;
    }
    const struct plt_stub *p = plt_find(&s->plts[idx], addr);
    if (!p)
        return NULL;
    const char *d = demangled(s, p->symbol);
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s@plt", d ? d : p->symbol) >= (int)sizeof buf)
        return NULL;
    *lo = p->lo;
    *hi = p->hi;
    return intern(s, buf);
}

/* The ELF symbol containing addr, demangled, and its start address; or NULL. *mangled (if
 * not NULL) tells whether it was a mangled C++ name. */
static const char *elf_symbol(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                              uint64_t *start, bool *mangled)
{
    const struct mod_symtab *t;
    const struct sym_ent *e;
    const char *name = table_symbol(s, mod, addr, &t, &e);
    GElf_Sym sym;
    GElf_Addr value;
    if (name && !*name) {
        /* the table's choice has no name, so it is not libdwfl's: ask libdwfl (rare) */
        GElf_Off off = 0;
        name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
        if (name && !(off < sym.st_size || (sym.st_size == 0 && off == 0)))
            name = NULL;
        value = addr - off;
    } else {
        value = e ? e->lo + t->bias : 0;
    }
    if (!name || !*name)
        return NULL;
    if (start)
        *start = value;
    const char *d = demangled(s, name);
    if (mangled)
        *mangled = d != NULL;
    return d ? d : intern(s, name);
}

/* [*lo, *hi): the addresses around addr that elf_symbol names by the very entry it names
 * addr by: that symbol's range, cut where another entry that would win over it (better_sym, an
 * order of entries that does not depend on the address) takes part. False when it names addr
 * by no entry, by an entry without a size or a name, or the entries around are too many to
 * look at. */
static bool elf_symbol_span(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr, uint64_t *lo,
                            uint64_t *hi)
{
    const struct mod_symtab *t;
    const struct sym_ent *e;
    const char *name = table_symbol(s, mod, addr, &t, &e);
    if (!name || !*name || e->hi <= e->lo)
        return false;
    uint64_t pc = addr - t->bias, l = e->lo, h = e->hi;
    /* every entry that starts before h and reaches l: back from the last that starts before h
     * until no entry before reaches l (maxhi) */
    size_t looked = 0;
    for (size_t i = symtab_upper(t, h - 1 + t->bias); i-- > 0;) {
        const struct sym_ent *c = &t->e[i];
        if (c->lo < l && c->maxhi <= l)
            break;
        if (++looked > 256)
            return false;
        uint64_t ch = c->hi > c->lo ? c->hi : c->lo + 1; /* a sizeless one: its start alone */
        if (c == e || ch <= l || c->lo >= h || !better_sym(c, e))
            continue;
        if (c->lo > pc)
            h = c->lo;
        else if (ch <= pc)
            l = ch;
        else
            return false; /* it would have won at addr: not the table's answer */
    }
    *lo = l + t->bias;
    *hi = h + t->bias;
    return true;
}

/* The start of the ELF symbol elf_symbol would name addr by, found the same way but without
 * naming it; 0 when none. */
static uint64_t elf_symbol_start(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr)
{
    uint64_t start = 0;
    const struct mod_symtab *t = symtab_for(s, mod, addr);
    const struct sym_ent *e = t ? symtab_find(t, addr) : NULL;
    if (e)
        start = e->lo + t->bias;
    return start;
}

/* A symbol start (elf_symbol_start) as an offset from the module's start, the same in every
 * run; 0 when no symbol covered the address. */
static uint64_t module_relative(Dwfl_Module *mod, uint64_t start)
{
    Dwarf_Addr lo = 0;
    dwfl_module_info(mod, NULL, &lo, NULL, NULL, NULL, NULL, NULL);
    return start && start >= lo ? start - lo + 1 : 0;
}

static bool is_cxx_lang(int lang)
{
    /* 0x2a, 0x2b: DW_LANG_C_plus_plus_17 and _20 (DWARF 6 proposals some producers use),
     * not in elfutils 0.188's dwarf.h */
    return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
           lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14 || lang == 0x2a ||
           lang == 0x2b;
}

/* The resident set is read every RSS_CHECK_EVERY lookups, every RSS_CHECK_UNITS units opened
 * (a unit's first touch is what faults in new pages of the debug file: some 15 faults of up to
 * 64 KB each), and whenever the walks of units for their functions have read
 * RSS_CHECK_AFTER_WALKS bytes since the last reading. */
#define RSS_CHECK_EVERY       32
#define RSS_CHECK_UNITS       4
#define RSS_CHECK_AFTER_WALKS (4u << 20)

/* A private file mapping of this process: [lo, hi). */
struct file_map {
    uintptr_t lo, hi;
};

/* Reads /proc/self/maps for its private file mappings. */
static void read_maps(struct symbolizer *s)
{
    s->maps_reads++;
    s->nmaps = 0;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return;
    char line[PATH_MAX + 128];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, inode;
        char perms[8];
        int path = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %n", &lo, &hi, perms, &inode, &path) < 4 ||
            inode == 0 || perms[3] != 'p' || !path || line[path] != '/')
            continue;
        if (ARRAY_GROW(s->maps, s->nmaps, s->capmaps) < 0)
            break;
        s->maps[s->nmaps++] = (struct file_map){lo, hi};
    }
    fclose(f);
}

/* Notes the mapping of dbg's file as a candidate: a file that libelf mapped (a private file
 * mapping that starts where elf_rawfile says the file starts), unless it read the file into
 * memory. Which of the two is checked only before a drop (check_debug_maps): the maps were
 * read afresh for every new debug file, 0.1 ms each, in exits that then dropped nothing. */
static void note_debug_map(struct symbolizer *s, Dwarf *dbg)
{
    size_t size = 0;
    Elf *elf = dbg ? dwarf_getelf(dbg) : NULL;
    char *raw = elf ? elf_rawfile(elf, &size) : NULL;
    uintptr_t lo = (uintptr_t)raw;
    if (!raw || size == 0 || lo % 4096 != 0)
        return;
    for (size_t i = 0; i < s->ndmaps; i++)
        if (s->dmaps[i].lo == lo)
            return;
    if (ARRAY_GROW(s->dmaps, s->ndmaps, s->capdmaps) < 0)
        return;
    struct sym_debug_map m = {lo, (lo + size + 4095) & ~(uintptr_t)4095, 0, 0};
    const Elf_Data *info = dwraw_section(dbg, ".debug_info");
    uintptr_t at = info ? (uintptr_t)info->d_buf : 0;
    if (at >= lo && at < lo + size && info->d_size <= lo + size - at) {
        m.info_lo = at & ~(uintptr_t)4095;
        m.info_hi = (at + info->d_size + 4095) & ~(uintptr_t)4095;
    }
    s->dmaps[s->ndmaps++] = m;
}

/* Keeps of the candidate mappings noted since the last check those that /proc/self/maps shows
 * as private file mappings covering the whole file (one reading for all of them). */
static void check_debug_maps(struct symbolizer *s)
{
    if (s->dmaps_checked == s->ndmaps)
        return;
    if (s->maps_reads < 16)
        read_maps(s);
    else
        s->nmaps = 0; /* (files libelf keeps reading into memory: never dropped) */
    size_t k = s->dmaps_checked;
    for (size_t i = s->dmaps_checked; i < s->ndmaps; i++) {
        bool found = false;
        for (size_t j = 0; j < s->nmaps && !found; j++)
            found = s->maps[j].lo == s->dmaps[i].lo && s->maps[j].hi >= s->dmaps[i].hi;
        if (found)
            s->dmaps[k++] = s->dmaps[i];
    }
    s->ndmaps = s->dmaps_checked = k;
}

/* Notes the bytes of the unit cu in its file's mapping (in order; each unit once). */
static void note_unit_span(struct symbolizer *s, Dwarf_Die *cu)
{
    struct dwraw_header h;
    if (!cu->cu || !dwraw_header(cu, dwarf_cu_getdwarf(cu->cu), &h) ||
        ARRAY_GROW(s->spans, s->nspans, s->capspans) < 0)
        return;
    uintptr_t lo = (uintptr_t)h.start;
    struct sym_unit_span sp = {lo, (uintptr_t)h.end};
    size_t at = s->nspans;
    while (at > 0 && s->spans[at - 1].lo > lo)
        at--;
    memmove(s->spans + at + 1, s->spans + at, (s->nspans - at) * sizeof *s->spans);
    s->spans[at] = sp;
    s->nspans++;
}

/* Drops the pages of .debug_info outside the units indexed: those libdw's in-order reading of
 * unit headers mapped (a header's page and up to 15 around it, for every unit it passed on its
 * way to the one asked for), never to be read again; up to 16 MB of a cached exit on assimp's
 * tests. The pages of the units indexed stay: their other functions' DIEs are read again.
 * False when none was known. */
static bool drop_walk_pages(struct symbolizer *s)
{
    check_debug_maps(s);
    bool any = false;
    for (size_t i = 0; i < s->ndmaps; i++) {
        const struct sym_debug_map *m = &s->dmaps[i];
        if (m->info_hi <= m->info_lo)
            continue;
        uintptr_t from = m->info_lo; /* the first byte of the next gap */
        for (size_t k = 0; k <= s->nspans; k++) {
            bool last = k == s->nspans || s->spans[k].lo >= m->info_hi;
            uintptr_t to = last ? m->info_hi : s->spans[k].lo;
            if (!last && s->spans[k].hi <= m->info_lo)
                continue;
            uintptr_t lo = (from + 4095) & ~(uintptr_t)4095, hi = to & ~(uintptr_t)4095;
            if (hi > lo) {
                madvise((void *)lo, hi - lo, MADV_DONTNEED);
                any = true;
            }
            if (last)
                break;
            from = s->spans[k].hi > from ? s->spans[k].hi : from;
        }
    }
    return any;
}

/* Drops the pages of the debug files' mappings (info_only: of their .debug_info alone; false
 * when none was known). Symbolizing reads scattered DIEs, strings, line programs and range
 * lists of files of hundreds of MB, and each page fault maps up to 64 KB around it: kept,
 * those pages were most of profreg's extra peak RSS at exit in a large binary. Dropped, the
 * pages read again come back from the page cache. Only libelf's own mappings of whole files
 * qualify (never a mapping of the program's, nor memory libdw allocated). */
static bool drop_debug_pages(struct symbolizer *s, bool info_only)
{
    check_debug_maps(s);
    bool any = false;
    for (size_t i = 0; i < s->ndmaps; i++) {
        const struct sym_debug_map *m = &s->dmaps[i];
        uintptr_t lo = info_only ? m->info_lo : m->lo, hi = info_only ? m->info_hi : m->hi;
        if (hi > lo) {
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
            any = true;
        }
    }
    return any;
}

size_t symbolizer_debug_maps(struct symbolizer *s, struct sym_debug_map *out, size_t max)
{
    check_debug_maps(s);
    for (size_t i = 0; i < s->ndmaps && i < max; i++)
        out[i] = s->dmaps[i];
    return s->ndmaps;
}

void symbolizer_drop_debug_info(struct symbolizer *s)
{
    drop_debug_pages(s, true);
}

size_t symbolizer_unit_spans(const struct symbolizer *s, struct sym_unit_span *out, size_t max)
{
    for (size_t i = 0; i < s->nspans && i < max; i++)
        out[i] = s->spans[i];
    return s->nspans;
}

void symbolizer_drop_walk_pages(struct symbolizer *s)
{
    drop_walk_pages(s);
}

/* Drops the debug files' pages when the resident set has passed its limit. The limit lies a
 * budget above the program's own peak (or the resident set when the symbolizer opened, when
 * that is higher): pages below that peak raise nothing anyone measures (ru_maxrss, a CI
 * memory limit), and every drop costs the faults of reading them again — 5,100 of 11,700
 * faults and some 40 ms of a first exit on assimp's tests when the pages were dropped every
 * 256 lookups regardless.
 *
 * Each step drops more, and the next comes only when it did not take the resident set half a
 * budget below the limit: first the pages of .debug_info outside the units indexed, then all of
 * .debug_info, then the rest. A unit's DIEs are read while its addresses are looked up, and
 * libdw's in-order reading of unit headers (up to the last unit asked for) maps a page and its
 * neighbours for every unit it passes and never reads them again: at a drop on assimp's tests,
 * 43 of 64 MB of debug pages were .debug_info's. In a cached exit, which opens few units, the
 * first step is most of the drop and keeps the pages of the units it reads again (dropping
 * every page cost it 1.0-1.8 ms of MADV_DONTNEED at some 115 ns a mapped page, then their
 * faults again). The strings, line programs, range lists and abbreviations are shared by all
 * units and read again and again.
 *
 * Memory that stays resident after a drop (the heap) moves the limit up by half a budget, so
 * that the pages are not dropped at every reading. */
static void check_resident(struct symbolizer *s)
{
    s->since_check = 0;
    s->units_since_check = 0;
    s->walked_bytes = 0;
    uint64_t rss = resident_kb(s);
    if (!rss) {
        /* no /proc: the rule before the budget, a drop every 256 lookups or 32 MB of walks */
        if (++s->blind_checks % 8 == 0 && s->ndmaps) {
            drop_debug_pages(s, false);
            s->stats.debug_drops++;
        }
        return;
    }
    if (rss <= s->rss_limit_kb || !s->ndmaps)
        return;
    s->stats.debug_drops++;
    uint64_t after = drop_walk_pages(s) ? resident_kb(s) : 0;
    if (after && after + s->rss_budget_kb / 2 <= s->rss_limit_kb)
        return;
    after = drop_debug_pages(s, true) ? resident_kb(s) : 0;
    if (after && after + s->rss_budget_kb / 2 <= s->rss_limit_kb)
        return;
    drop_debug_pages(s, false);
    after = resident_kb(s);
    if (after + s->rss_budget_kb / 2 > s->rss_limit_kb)
        s->rss_limit_kb = after + s->rss_budget_kb / 2;
}

/* The function index of a CU, built on first use. NULL when it cannot be built. */
static struct cu_index *index_for(struct symbolizer *s, Dwarf_Die *cu, uint64_t addr)
{
    void *key = cu->addr;
    uint32_t idx;
    if (hmap_get(&s->cu_map, &key, sizeof key, &idx))
        return s->cus[idx];
    size_t cap = s->capcus;
    if (ARRAY_GROW(s->cus, s->ncus, s->capcus) < 0)
        return NULL;
    if (s->capcus != cap) {
        uint64_t *a = realloc(s->cu_addrs, s->capcus * sizeof *a);
        if (!a)
            return NULL;
        s->cu_addrs = a;
        struct unit_hints *h = realloc(s->cu_hints, s->capcus * sizeof *h);
        if (!h)
            return NULL;
        s->cu_hints = h;
    }
    const struct sym_unit_fn *fns;
    size_t n;
    bool deep, stored = s->store.get && s->store.get(s->store.ctx, addr, dwarf_dieoffset(cu),
                                                     &fns, &n, &deep);
    _Static_assert(sizeof(struct sym_unit_fn) == sizeof(struct cu_fn), "one layout");
    struct cu_index *ix = stored ? cu_index_from_table(cu, (const struct cu_fn *)fns, n, deep)
                                 : cu_index_build(cu);
    if (!ix || hmap_intern(&s->cu_map, &key, sizeof key, (uint32_t)s->ncus, &idx) < 0) {
        cu_index_free(ix);
        return NULL;
    }
    note_debug_map(s, dwarf_cu_getdwarf(cu->cu));
    note_unit_span(s, cu);
    const struct dwf_seq *seqs;
    size_t nseqs;
    if (s->store.get_sequences &&
        s->store.get_sequences(s->store.ctx, addr, dwarf_dieoffset(cu), &seqs, &nseqs))
        dwarf_files_offer_sequences(s->files, cu, seqs, nseqs);
    if (!stored) {
        const void *lo, *hi;
        cu_index_walked(ix, &lo, &hi);
        s->walked_bytes += lo ? (size_t)((const char *)hi - (const char *)lo) : 0;
        if (s->walked_bytes >= RSS_CHECK_AFTER_WALKS)
            check_resident(s);
    }
    s->cu_addrs[s->ncus] = addr;
    s->cu_hints[s->ncus] = (struct unit_hints){NULL, 0};
    s->cus[s->ncus++] = ix;
    if (++s->units_since_check >= RSS_CHECK_UNITS)
        check_resident(s);
    s->stats.cus_indexed++;
    s->stats.cus_from_store += stored;
    s->stats.cu_functions += cu_index_ranges(ix);
    return ix;
}

/* The store's hints for the unit whose DIE is at cu_addr (struct dwraw_hints): for a unit
 * indexed here. */
static bool hints_get(void *ctx, const void *cu_addr, const uint32_t **v, size_t *n)
{
    struct symbolizer *s = ctx;
    uint32_t idx;
    if (!hmap_get(&s->cu_map, &cu_addr, sizeof cu_addr, &idx))
        return false;
    if (s->cu_hints[idx].v) { /* this run's, not yet saved */
        *v = s->cu_hints[idx].v;
        *n = s->cu_hints[idx].n;
        return true;
    }
    return s->store.get_abbrevs(s->store.ctx, s->cu_addrs[idx], cu_index_cu_offset(s->cus[idx]), v,
                                n);
}

/* Keeps what a scan found until the store has the unit's table (it may be this run's). */
static void hints_put(void *ctx, const void *cu_addr, const uint32_t *v, size_t n)
{
    struct symbolizer *s = ctx;
    uint32_t idx;
    if (!hmap_get(&s->cu_map, &cu_addr, sizeof cu_addr, &idx) || s->cu_hints[idx].v || n == 0)
        return;
    struct unit_hints *h = &s->cu_hints[idx];
    if ((h->v = malloc(n * sizeof *h->v))) {
        memcpy(h->v, v, n * sizeof *h->v);
        h->n = n;
    }
}

void symbolizer_set_unit_store(struct symbolizer *s, const struct sym_unit_store *store)
{
    s->store = store ? *store : (struct sym_unit_store){0};
    dwraw_set_hints(s->store.get_abbrevs && s->store.put_abbrevs
                        ? &(struct dwraw_hints){hints_get, hints_put, s}
                        : NULL);
}

void symbolizer_save_units(struct symbolizer *s)
{
    if (!s->store.put)
        return;
    dwraw_save_hints(); /* (the kept unit's; the others' went as they stopped being kept) */
    for (size_t i = 0; i < s->ncus; i++) {
        struct cu_fn *fns;
        size_t n;
        bool deep;
        if (!cu_index_table(s->cus[i], &fns, &n, &deep))
            continue;
        s->store.put(s->store.ctx, s->cu_addrs[i], cu_index_cu_offset(s->cus[i]),
                     (const struct sym_unit_fn *)fns, n, deep);
        cu_index_mark_saved(s->cus[i]);
        free(fns);
    }
    for (size_t i = 0; i < s->ncus && s->store.put_sequences; i++) {
        /* sequences of line programs this run passed over: a later run skips the pass */
        const struct dwf_seq *v;
        size_t n = dwarf_files_sequences(s->files, cu_index_cu(s->cus[i]), &v);
        if (n)
            s->store.put_sequences(s->store.ctx, s->cu_addrs[i], cu_index_cu_offset(s->cus[i]), v,
                                   n);
    }
    for (size_t i = 0; i < s->ncus && s->store.put_abbrevs; i++)
        if (s->cu_hints[i].v)
            s->store.put_abbrevs(s->store.ctx, s->cu_addrs[i], cu_index_cu_offset(s->cus[i]),
                                 s->cu_hints[i].v, s->cu_hints[i].n);
}

/* Is a symbol version hidden (a non-default "name@VERSION", kept for old binaries)? Only
 * knowable here when the module's symbols are its .dynsym with a .gnu.version table, whose
 * indices are libdwfl's; names from a .symtab carry the "@VERSION" in the name instead. */
static bool hidden_version(Elf *elf, int ndx, int nsyms)
{
    Elf_Scn *scn = NULL;
    Elf_Data *versym = NULL;
    bool symtab = false;
    size_t ndynsym = 0;
    while (elf && (scn = elf_nextscn(elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_SYMTAB)
            symtab = true;
        else if (sh.sh_type == SHT_DYNSYM && sh.sh_entsize)
            ndynsym = sh.sh_size / sh.sh_entsize;
        else if (sh.sh_type == SHT_GNU_versym)
            versym = elf_getdata(scn, NULL);
    }
    if (symtab || !versym || ndynsym != (size_t)nsyms || (size_t)ndx >= ndynsym)
        return false;
    GElf_Versym v;
    return gelf_getversym(versym, ndx, &v) && (v & 0x8000) != 0;
}

static int leading_underscores(const char *n)
{
    int k = 0;
    while (n[k] == '_')
        k++;
    return k;
}

/* Rank of a symbol as the public name of its address (lower is better), after perf's
 * choose_best_symbol: a current version ("name@@V" or unversioned) over an obsolete one
 * ("cfree@GLIBC_2.2.5"), exported (global or weak) over local ("__GI_qsort"), fewer leading
 * underscores ("malloc" over "__libc_malloc"), global over weak, a longer name; then bytewise.
 * Unlike perf, underscores count before weakness: glibc's weak aliases are its API names
 * ("calloc" is weak, "__libc_calloc" global). */
static int better_alias(const char *a, int bind_a, bool hidden_a, const char *b, int bind_b,
                        bool hidden_b)
{
    bool va = hidden_a || (strchr(a, '@') && !strstr(a, "@@"));
    bool vb = hidden_b || (strchr(b, '@') && !strstr(b, "@@"));
    if (va != vb)
        return va ? 1 : -1;
    bool la = bind_a == STB_LOCAL, lb = bind_b == STB_LOCAL;
    if (la != lb)
        return la ? 1 : -1;
    int ua = leading_underscores(a), ub = leading_underscores(b);
    if (ua != ub)
        return ua > ub ? 1 : -1;
    bool wa = bind_a == STB_WEAK, wb = bind_b == STB_WEAK;
    if (wa != wb)
        return wa ? 1 : -1;
    size_t na = strlen(a), nb = strlen(b);
    if (na != nb)
        return na < nb ? 1 : -1;
    return strcmp(a, b);
}

/* The public name of the C function at entry (a module address) that is known as name, such
 * as "malloc" for glibc's "__libc_malloc": the best-ranked function symbol at that address.
 * Looks at the symbols that start at entry in the module's sorted table (cached per entry);
 * called only for names that start with '_'. */
static const char *public_alias(struct symbolizer *s, Dwfl_Module *mod, uint64_t entry,
                                const char *name)
{
    struct {
        Dwfl_Module *mod;
        uint64_t entry;
    } key = {mod, entry};
    uint32_t idx;
    if (hmap_get(&s->alias_map, &key, sizeof key, &idx))
        return s->strs[idx];
    int n = dwfl_module_getsymtab(mod);
    const struct mod_symtab *t = symtab_for(s, mod, entry);
    const char *best = NULL;
    int best_bind = STB_LOCAL;
    bool best_hidden = false;
    /* the entries starting at entry sit just before symtab_upper(entry) */
    for (size_t j = t ? symtab_upper(t, entry) : 0; j-- > 0 && t->e[j].lo + t->bias == entry;) {
        const struct sym_ent *c = &t->e[j];
        GElf_Sym sym;
        GElf_Addr value;
        Elf *elf = NULL;
        const char *cand =
            dwfl_module_getsym_info(mod, (int)c->ndx, &sym, &value, NULL, &elf, NULL);
        if (!cand || !*cand || (c->type != STT_FUNC && c->type != STT_GNU_IFUNC) ||
            strncmp(cand, "_Z", 2) == 0)
            continue;
        int bind = c->bind;
        bool hidden = bind != STB_LOCAL && hidden_version(elf, (int)c->ndx, n);
        if (!best || better_alias(cand, bind, hidden, best, best_bind, best_hidden) < 0) {
            best = cand;
            best_bind = bind;
            best_hidden = hidden;
        }
    }
    char buf[1024];
    if (best && strstr(best, "@@")) { /* the default version: "name@@VERSION" is name */
        snprintf(buf, sizeof buf, "%.*s", (int)(strstr(best, "@@") - best), best);
        best = buf;
    }
    const char *r = intern(s, best ? best : name);
    /* the interned string's index, for the cache */
    uint32_t sidx;
    if (hmap_get(&s->strmap, r, strlen(r) + 1, &sidx))
        hmap_intern(&s->alias_map, &key, sizeof key, sidx, &idx);
    return r;
}

/* Does name look like a C function name that may be an internal alias ("__libc_malloc")? */
static bool may_be_alias(const char *name)
{
    return name && name[0] == '_' && strncmp(name, "_Z", 2) != 0 && !strchr(name, '(') &&
           !strchr(name, ' ');
}

/* Is sym the name clone_base with a compiler clone suffix ("f(int) [clone .constprop.0]",
 * "f.part.0")? */
static bool is_clone_of(const char *sym, const char *clone_base)
{
    char *base = sym && clone_base ? name_fold_clones(sym) : NULL;
    bool yes = base && strcmp(base, clone_base) == 0;
    free(base);
    return yes;
}

/* The name of the out-of-line function die at addr, given its DWARF name (NULL when none;
 * mangled: from a mangled linkage name). Without a mangled DWARF linkage name, a C++
 * function is named by its mangled ELF symbol (a lambda's operator(), a static function), or
 * else built from its DWARF scopes; a clone (".constprop.0", ".part.0") keeps its ELF name
 * with the suffix, which profile_build folds; an internal C alias gets its public name.
 * *by_symbol: the name was chosen with the ELF symbol at addr (so another part of the same
 * function, as "f.cold" is of "f", may get another name). */
static const char *outer_name(struct symbolizer *s, Dwarf_Die *die, Dwfl_Module *mod, uint64_t addr,
                              const char *name, bool mangled, bool is_cxx, bool has_origin,
                              bool *by_symbol)
{
    bool cxx_unmangled = is_cxx && !mangled;
    bool want_sym = !name || cxx_unmangled || has_origin || may_be_alias(name);
    *by_symbol = want_sym; /* the name may depend on which ELF symbol covers addr */
    uint64_t start = 0;
    bool sym_mangled = false;
    const char *sym = want_sym ? elf_symbol(s, mod, addr, &start, &sym_mangled) : NULL;
    if (cxx_unmangled && sym && sym_mangled)
        return sym;
    /* an unmangled ELF symbol of the same name: C linkage (main, extern "C") */
    bool c_linkage =
        sym && !sym_mangled && name && (strcmp(sym, name) == 0 || is_clone_of(sym, name));
    if (cxx_unmangled && name && !c_linkage) {
        const char *q = dwarf_names_function(s->names, die);
        if (q)
            return intern(s, q);
    }
    if (!name)
        name = sym;
    else if (is_clone_of(sym, name))
        name = sym;
    if (sym && may_be_alias(name))
        name = public_alias(s, mod, start, name);
    return name;
}

/* A frame cached for an index entry; for an out-of-line function named by its ELF symbol,
 * one per symbol covering its code (the hot part "f" and the cold part "f.cold" of one DWARF
 * function are named apart whichever is looked up first). f comes first: s->frames owns the
 * allocation through it. */
struct entry_cache {
    struct sym_frame f;
    uint64_t sym_start;        /* elf_symbol_start of the address it was made for */
    bool by_symbol;            /* the name depends on that symbol */
    uint64_t key;              /* its key in the store (own_key ...), 0: none */
    struct entry_cache *next;  /* another symbol's frame for the same entry */
};

/* The keys a function's frame is kept under in the store (sym_unit_store.get_frame); the low
 * three bits tell the kinds apart:
 *  1  an out-of-line function, by its DIE's offset;
 *  2  an inlined copy, by its DIE's offset;
 *  3  an inlined copy that names nothing itself but links to a DIE of its unit by
 *     DW_AT_abstract_origin, by that DIE's offset: one frame for every copy of a function
 *     whose declaring file names it (a copy without one is placed by its own entry address);
 *  4  an out-of-line function named after the ELF symbol at the address (outer_name's
 *     by_symbol), by its DIE's offset and that symbol's start in the module
 *     (module_relative), each below 2^30.
 * Never 0. */
enum { KEY_OUTER = 1, KEY_INLINED, KEY_ORIGIN, KEY_SYMBOL };

static uint64_t own_key(Dwarf_Die *die, bool outer)
{
    return (uint64_t)dwarf_dieoffset(die) << 3 | (outer ? KEY_OUTER : KEY_INLINED);
}

static uint64_t symbol_key(Dwarf_Die *die, uint64_t value)
{
    uint64_t off = dwarf_dieoffset(die);
    return off < (1u << 30) && value < (1u << 30) ? (off << 30 | value) << 3 | KEY_SYMBOL : 0;
}

/* The key of the frames of an inlined subroutine through origin, its DW_AT_abstract_origin
 * (function_attrs' by_origin said it names nothing itself); 0 when origin may lie in another
 * unit. */
static uint64_t shared_key(Dwarf_Attribute *origin)
{
    unsigned form = dwarf_whatform(origin);
    Dwarf_Die od;
    if (form == DW_FORM_ref_addr || form == DW_FORM_GNU_ref_alt || form == DW_FORM_ref_sig8 ||
        !dwarf_formref_die(origin, &od))
        return 0;
    return (uint64_t)dwarf_dieoffset(&od) << 3 | KEY_ORIGIN;
}

/* For the store's lookup, before function_attrs: the shared key of an inlined subroutine DIE,
 * or 0 (by_origin as function_attrs works it out, from one scan of the DIE alone). */
struct own_attrs {
    bool names, origin;
    Dwarf_Attribute ref;
};

static int scan_own(Dwarf_Attribute *a, void *arg)
{
    struct own_attrs *o = arg;
    switch (dwarf_whatattr(a)) {
    case DW_AT_linkage_name:
    case DW_AT_MIPS_linkage_name:
    case DW_AT_name:
    case DW_AT_decl_file:
    case DW_AT_decl_line:
    case DW_AT_specification:
        o->names = true;
        return DWARF_CB_ABORT;
    case DW_AT_abstract_origin:
        if (!o->origin)
            o->ref = *a;
        o->origin = true;
        return DWARF_CB_OK;
    default:
        return DWARF_CB_OK;
    }
}

static uint64_t inlined_shared_key(Dwarf_Die *die)
{
    struct own_attrs o = {false, false, {0}};
    if (dwraw_getattrs(die, scan_own, &o) != 1 || o.names || !o.origin)
        return 0;
    return shared_key(&o.ref);
}

/* Caches frame f for the entry of slot (the frame handed out from there on), or NULL. */
static const struct sym_frame *keep_frame(struct symbolizer *s, void **slot,
                                          const struct sym_frame *f, uint64_t start, bool by_symbol,
                                          uint64_t key)
{
    if (!f->name || ARRAY_GROW(s->frames, s->nframes, s->capframes) < 0)
        return NULL;
    struct entry_cache *copy = malloc(sizeof *copy);
    if (!copy)
        return NULL;
    *copy = (struct entry_cache){*f, start, by_symbol, key, *slot};
    s->frames[s->nframes++] = &copy->f;
    *slot = copy;
    return &copy->f;
}

/* The frame for index entry e (named and located once, then cached), or NULL. */
static const struct sym_frame *entry_frame(struct symbolizer *s, struct cu_index *ix, long e,
                                           Dwfl_Module *mod, uint64_t addr, const char *module)
{
    void **slot = cu_index_slot(ix, e);
    uint64_t start = 0;
    bool have_start = false;
    for (struct entry_cache *c = *slot; c; c = c->next) {
        if (!c->by_symbol)
            return &c->f;
        if (!have_start) {
            start = elf_symbol_start(s, mod, addr);
            have_start = true;
        }
        if (c->sym_start == start)
            return &c->f;
    }
    Dwarf_Die *die = cu_index_die(ix, e);
    if (!die)
        return NULL;
    bool outer = !cu_index_inlined(ix, e);
    struct sym_frame f = {NULL, NULL, NULL, module, -1, !outer};
    uint64_t own = own_key(die, outer), shared = 0, key = 0;
    struct sym_frame kept = {NULL, NULL, NULL, NULL, -1, false};
    bool kept_by_symbol = false;
    if (s->store.has_frames && s->store.has_frames(s->store.ctx, addr)) {
        void *ctx = s->store.ctx;
        shared = outer ? 0 : inlined_shared_key(die);
        if (shared && s->store.get_frame(ctx, addr, shared, &kept)) {
            key = shared;
        } else if (s->store.get_frame(ctx, addr, own, &kept)) {
            key = own;
        } else if (outer) {
            if (!have_start)
                start = elf_symbol_start(s, mod, addr);
            have_start = true;
            uint64_t k = symbol_key(die, module_relative(mod, start));
            if (k && s->store.get_frame(ctx, addr, k, &kept)) {
                key = k;
                kept_by_symbol = true;
            }
        }
    }
    if (key) {
        /* named and placed by an earlier run (the same symbolizer: the store's identity) */
        s->stats.frames_from_store++;
        f.name = intern(s, kept.name);
        f.source_path = intern(s, kept.source_path);
        f.source_file = intern(s, kept.source_file);
        f.line = kept.line;
        return keep_frame(s, slot, &f, kept_by_symbol ? start : 0, kept_by_symbol, key);
    }
    /* the unit's language only now: a frame from the store needs none (and it is read from the
     * unit DIE, whose abbreviation is the last of the unit's table) */
    bool is_cxx = is_cxx_lang(cu_index_lang(ix));
    bool mangled = false, by_symbol = false;
    struct fn_attrs fa;
    function_attrs(die, &fa);
    f.name = die_function_name(s, &fa, &mangled);
    if (outer) {
        f.name = outer_name(s, die, mod, addr, f.name, mangled, is_cxx, fa.own_origin, &by_symbol);
    } else if (f.name && is_cxx && !mangled) {
        /* an inlined function without a linkage name: its full name from its scopes */
        const char *q = dwarf_names_function(s->names, die);
        if (q)
            f.name = intern(s, q);
    }
    if (!f.name)
        return NULL;
    bool declared = fill_source(s, die, &fa, &f);
    if (by_symbol && !have_start)
        start = elf_symbol_start(s, mod, addr);
    /* a name that depends on the ELF symbol at addr is kept by the DIE and that symbol */
    shared = !outer && declared && fa.by_origin ? shared_key(&fa.origin0) : 0;
    key = by_symbol ? symbol_key(die, module_relative(mod, start)) : shared ? shared : own;
    return keep_frame(s, slot, &f, start, by_symbol, key);
}

/* Has elf a full symbol table (.symtab), not only the dynamic one? */
static bool has_symtab(Elf *elf)
{
    for (Elf_Scn *scn = NULL; elf && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
            return true;
    }
    return false;
}

/* Can addr lie in a function whose DIE the compiler nested in another function's: a lambda's
 * operator() or a local class's member ("f()::{lambda()#1}::operator()() const",
 * "f()::S::g()"), an OpenMP outlined body ("f._omp_fn.0"), a GNU C nested function
 * ("inner.1")? Asked when addr is in no function of its unit's first walk, since only then is
 * the walk into every function of the unit worth making: most such addresses are in code
 * without a function DIE (virtual and non-virtual thunks, assembly, start-up code, the
 * padding between functions), whose ELF symbol names none of these, or which no symbol of a
 * full symbol table covers. */
static bool may_be_nested(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr)
{
    bool mangled = false;
    const char *name = elf_symbol(s, mod, addr, NULL, &mangled);
    if (!name) {
        Dwarf_Addr bias;
        Dwarf *dbg = dwfl_module_getdwarf(mod, &bias);
        return !has_symtab(dwfl_module_getelf(mod, &bias)) &&
               !(dbg && has_symtab(dwarf_getelf(dbg)));
    }
    if (mangled)
        return strstr(name, ")::") || strstr(name, "_omp_fn");
    return strchr(name, '.') != NULL;
}

/* The unit of addr when a stored function table holds addr: found without reading
 * .debug_aranges (all of it, sorted, on libdw's first question). NULL when none does. */
static Dwarf_Die *stored_unit(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr,
                              Dwarf_Addr *bias)
{
    Dwarf_Addr b;
    uint64_t off;
    Dwarf *dbg;
    Dwarf_Die cudie;
    uint8_t unit_type;
    if (!s->store.unit_at || !(dbg = dwfl_module_getdwarf(mod, &b)) ||
        !s->store.unit_at(s->store.ctx, addr, addr - b, &off) ||
        !dwarf_offdie(dbg, off, &s->unit_die))
        return NULL;
    /* a unit DIE: the first of its unit, which is a compile or partial unit (libdw has the
     * unit's type from its header, or for DWARF 2-4 from the DIE's tag); not its tag asked,
     * which reads the unit's whole abbreviation table */
    if (!dwarf_cu_die(s->unit_die.cu, &cudie, NULL, NULL, NULL, NULL, NULL, NULL) ||
        cudie.addr != s->unit_die.addr ||
        dwarf_cu_info(s->unit_die.cu, NULL, &unit_type, NULL, NULL, NULL, NULL, NULL) != 0 ||
        (unit_type != DW_UT_compile && unit_type != DW_UT_partial))
        return NULL;
    *bias = b;
    return &s->unit_die;
}

size_t symbolizer_lookup(struct symbolizer *s, uint64_t addr, struct sym_frame *out, size_t max)
{
    uint64_t lo, hi;
    return symbolizer_lookup_range(s, addr, out, max, &lo, &hi);
}

/* The range of an answer from the ELF symbol alone (no DWARF function at addr): every address
 * there is in no function either (the gap [gap_lo, gap_hi) of its unit's functions), in the
 * same unit or none ([unit_lo, unit_hi)), and named by the same symbol, whose start alone
 * gives the file and line; so each gets the very same frame. Stays addr alone when the symbol
 * cannot say. */
static void elf_range(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr, uint64_t gap_lo,
                      uint64_t gap_hi, uint64_t unit_lo, uint64_t unit_hi, uint64_t *range_lo,
                      uint64_t *range_hi)
{
    uint64_t sym_lo, sym_hi;
    if (!elf_symbol_span(s, mod, addr, &sym_lo, &sym_hi))
        return;
    uint64_t l = gap_lo > unit_lo ? gap_lo : unit_lo, h = gap_hi < unit_hi ? gap_hi : unit_hi;
    l = sym_lo > l ? sym_lo : l;
    h = sym_hi < h ? sym_hi : h;
    if (l <= addr && addr < h) {
        *range_lo = l;
        *range_hi = h;
    }
}

size_t symbolizer_lookup_range(struct symbolizer *s, uint64_t addr, struct sym_frame *out,
                               size_t max, uint64_t *range_lo, uint64_t *range_hi)
{
    static const struct sym_frame unknown = {"[unknown]", NULL, NULL, NULL, -1, false};
    *range_lo = addr;
    *range_hi = addr + 1;
    if (max == 0)
        return 0;
    s->stats.lookups++;
    if (++s->since_check >= RSS_CHECK_EVERY)
        check_resident(s);
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
    if (!mod) {
        out[0] = unknown;
        return 1;
    }
    const char *module = module_name(s, mod);
    size_t n = 0;
    bool have_outer = false;
    const char *stub = plt_name(s, mod, addr, range_lo, range_hi);
    if (stub) {
        out[0] = (struct sym_frame){stub, NULL, NULL, module, -1, false};
        s->keys[0] = 0;
        return 1;
    }

    /* DWARF: the innermost function at addr, then outwards to the out-of-line function. */
    Dwarf_Addr bias = 0, lo = 0, hi = 0;
    uint64_t unit_lo = addr, unit_hi = addr + 1; /* where the unit found is the same */
    Dwarf_Die *cu = stored_unit(s, mod, addr, &bias);
    if (!cu)
        cu = unit_of_span(s, mod, addr, &bias, &unit_lo, &unit_hi);
    struct cu_index *ix = cu ? index_for(s, cu, addr) : NULL;
    long e = ix ? cu_index_find(ix, addr - bias, &lo, &hi, false) : -1;
    if (e < 0 && ix && !cu_index_walked_deep(ix) && may_be_nested(s, mod, addr)) {
        s->stats.deep_walks++;
        e = cu_index_find(ix, addr - bias, &lo, &hi, true);
    }
    if (e >= 0 && lo + bias <= addr && addr < hi + bias) {
        *range_lo = lo + bias;
        *range_hi = hi + bias;
    }
    bool in_no_function = e < 0;
    for (; e >= 0; e = cu_index_parent(ix, e)) {
        bool outer = !cu_index_inlined(ix, e);
        const struct sym_frame *f = entry_frame(s, ix, e, mod, addr, module);
        if (f) {
            if (n == max)
                n--; /* keep room for the outer function */
            if (n < SYM_MAX_FRAMES)
                s->keys[n] = ((const struct entry_cache *)(const void *)f)->key;
            out[n++] = *f;
            have_outer = outer;
        }
        if (outer)
            break;
    }

    if (!have_outer) {
        /* No DWARF function here (or none found): the ELF symbol, located by the line table
         * at its entry when the module has one; else the module and file offset. */
        *range_lo = addr;
        *range_hi = addr + 1;
        struct sym_frame f = {NULL, NULL, NULL, module, -1, false};
        uint64_t start = 0;
        f.name = elf_symbol(s, mod, addr, &start, NULL);
        if (may_be_alias(f.name))
            f.name = public_alias(s, mod, start, f.name);
        if (f.name && cu) {
            fill_source_at(s, mod, start, &f);
        } else if (!f.name) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s+0x%" PRIx64, module ? module : "[unknown]",
                     file_offset(mod, addr));
            f.name = intern(s, buf);
        }
        if (n == 0 && f.name && start && in_no_function) {
            uint64_t gap_lo = unit_lo, gap_hi = unit_hi; /* no unit: no function anywhere */
            if (cu && ix)
                biased_span(lo, hi, bias, &gap_lo, &gap_hi);
            else if (cu)
                gap_lo = addr, gap_hi = addr + 1;
            elf_range(s, mod, addr, gap_lo, gap_hi, unit_lo, unit_hi, range_lo, range_hi);
        }
        if (n == max)
            n--;
        if (n < SYM_MAX_FRAMES)
            s->keys[n] = 0;
        out[n++] = f;
    }
    return n;
}

size_t symbolizer_frame_keys(const struct symbolizer *s, uint64_t *keys, size_t n)
{
    n = n < SYM_MAX_FRAMES ? n : SYM_MAX_FRAMES;
    memcpy(keys, s->keys, n * sizeof *keys);
    return n;
}
