/* SPDX-License-Identifier: MIT */
/* symbolize.h — code address -> function, inline chain, source file and line (libdw).
 *
 * Works on the running process (the preload calls it at exit). Each lookup address yields
 * one frame per function: the innermost inlined function first, the out-of-line function
 * that contains the address last. Names are demangled exactly as `c++filt` prints them. */
#ifndef PROFREG_SYMBOLIZE_H
#define PROFREG_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Inline chains deeper than this keep only their innermost frames plus the outer function. */
#define SYM_MAX_FRAMES 64

/* One function of an address's inline chain. Strings are owned by the symbolizer and live
 * until symbolizer_close(). */
struct sym_frame {
    const char *name;        /* never NULL: a name, or "module+0xOFFSET", or "[unknown]" */
    const char *source_file; /* basename of the file declaring the function, or NULL */
    const char *source_path; /* that file's full path, or NULL */
    const char *module;      /* basename of the ELF object, or NULL when outside any */
    long line;               /* DW_AT_decl_line, or -1 */
    bool inlined;            /* a DW_TAG_inlined_subroutine: inlined into the next frame out */
};

struct symbolizer;

/* Where separate debug information is looked for. A NULL options pointer means defaults. */
struct sym_options {
    const char *debug_dirs; /* colon-separated; NULL: /usr/lib/debug */
    const char *cache_dir;  /* uncompressed copies of compressed debug files; NULL: default
                               ($XDG_CACHE_HOME or ~/.cache)/profreg/debug */
    int no_cache;           /* nonzero: never read or write the cache */
    const struct sym_extra_module *extra; /* modules no longer mapped (dlclose'd) */
    size_t nextra;
    /* The debug files' pages are dropped when the process's resident set exceeds the larger
     * of rss_peak_kb (the program's own peak, when known; else 0) and the resident set when
     * the symbolizer opens, plus rss_budget_kb (0: SYM_RSS_BUDGET_KB). */
    uint64_t rss_peak_kb;
    uint64_t rss_budget_kb;
};

#define SYM_RSS_BUDGET_KB (20u << 10)

/* A module that was mapped at some time but may be gone from /proc/self/maps: reported
 * too, unless its range is taken by a module mapped now. */
struct sym_extra_module {
    const char *path;
    uint64_t bias; /* load bias (link_map l_addr) */
};

/* Reports every module mapped into this process (from /proc/self/maps). Separate debug
 * information is found the standard way, on the local disk only: by build-id under the cache
 * and each debug directory, in the debuginfod client's cache, then by .gnu_debuglink. Never
 * loads libdebuginfod or touches the network. Returns NULL and a message in err on failure.
 * Two symbolizers open at once must both open before either reads a module's file: libelf
 * maps the files it reads privately, the mapping shows in /proc/self/maps under the module's
 * path, and libdwfl's reading of the maps takes it for part of the module when it lies next
 * to it (libc then started 62 MB below its load address, and no libc address had a symbol). */
struct symbolizer *symbolizer_open_self(const struct sym_options *opts, char *err, size_t errlen);

/* Resolves addr, which must already point into the instruction of interest (use the return
 * address minus one for callers). Writes 1..max frames to out and returns their number. */
size_t symbolizer_lookup(struct symbolizer *s, uint64_t addr, struct sym_frame *out, size_t max);

/* symbolizer_lookup, and the range [*lo, *hi) around addr whose every byte gets the same
 * frames: the innermost DWARF scope's bytes (between the scopes nested in it); for a frame
 * from the ELF symbol table alone, the bytes of that symbol that lie in the same unit (or in
 * none) and in no function of it; addr alone when no symbol names it (module+offset) or
 * DWARF scopes sit inside a symbol's frame. */
size_t symbolizer_lookup_range(struct symbolizer *s, uint64_t addr, struct sym_frame *out,
                               size_t max, uint64_t *lo, uint64_t *hi);

/* An opaque identity of the module containing addr (NULL if none); equal for addresses in
 * the same module. */
const void *symbolizer_module_of(struct symbolizer *s, uint64_t addr);

void symbolizer_close(struct symbolizer *s);

/* A compilation unit's table of out-of-line functions: what the symbolizer otherwise walks
 * the unit's DIEs for on its first address there (most of the time at exit in a large C++
 * binary). A store keeps these tables across runs, per module build-id. */
/* One symbol of a module's table, as libdwfl numbers it (ndx), with its address range. */
struct sym_symbol {
    uint64_t lo, hi; /* [lo, hi); hi == lo for a sizeless symbol */
    uint64_t maxhi;  /* the largest hi of this entry and every entry before it */
    uint32_t ndx;
    uint8_t bind, type;
    uint8_t pad[2];
};

struct sym_unit_fn {
    uint64_t lo, hi; /* a code range of the function, DWARF addresses */
    uint64_t die;    /* the function's DIE offset in .debug_info */
};
struct dwf_seq;
struct aranges;
struct sym_unit_store {
    /* The table saved for the unit at cu_off (its DIE offset) of the module containing the
     * address addr: true with *fns (owned by the store), *n and *deep (it lists functions
     * defined inside functions too); false when none. */
    bool (*get)(void *ctx, uint64_t addr, uint64_t cu_off, const struct sym_unit_fn **fns,
                size_t *n, bool *deep);
    /* Keeps a table (the store copies it). */
    void (*put)(void *ctx, uint64_t addr, uint64_t cu_off, const struct sym_unit_fn *fns,
                size_t n, bool deep);
    /* The unit whose saved table has a function holding pc (addr as a DWARF address):
     * true with *cu_off. */
    bool (*unit_at)(void *ctx, uint64_t addr, uint64_t pc, uint64_t *cu_off);
    /* The module's ELF symbols sorted as the symbolizer sorts them, relative to the
     * module's start: true with *v (owned by the store) and *n. */
    bool (*get_symbols)(void *ctx, uint64_t addr, const struct sym_symbol **v, size_t *n);
    /* Keeps them: takes v (malloc'd). */
    void (*put_symbols)(void *ctx, uint64_t addr, struct sym_symbol *v, size_t n);
    /* The frame an earlier run made for a function DIE of the module containing addr, by
     * the key symbolizer_frame_keys gave it then: true with *out (its strings owned by the
     * store); false when none is kept. May be NULL. */
    bool (*get_frame)(void *ctx, uint64_t addr, uint64_t key, struct sym_frame *out);
    /* Whether any such frame is kept for the module containing addr (keys cost a scan of
     * the DIE to find). NULL when get_frame is. */
    bool (*has_frames)(void *ctx, uint64_t addr);
    /* The sequences of the line program of the unit at cu_off that a pass over it recorded
     * (struct dwf_seq, dwarf_files.h): true with *v (owned by the store) and *n. May be NULL. */
    bool (*get_sequences)(void *ctx, uint64_t addr, uint64_t cu_off, const struct dwf_seq **v,
                          size_t *n);
    /* Keeps them (the store copies them). NULL when get_sequences is. */
    void (*put_sequences)(void *ctx, uint64_t addr, uint64_t cu_off, const struct dwf_seq *v,
                          size_t n);
    /* The runs of the .debug_aranges of the module containing addr, as aranges_read made them
     * (struct aranges, aranges.h): true with *out (its arrays owned by the store). May be
     * NULL. */
    bool (*get_aranges)(void *ctx, uint64_t addr, struct aranges *out);
    /* Keeps them (the store copies them). NULL when get_aranges is. */
    void (*put_aranges)(void *ctx, uint64_t addr, const struct aranges *a);
    /* Where the abbreviations of the unit at cu_off lie in its table (struct dwraw_hints of
     * dwarf_raw.h): true with *v (owned by the store) and *n. May be NULL. */
    bool (*get_abbrevs)(void *ctx, uint64_t addr, uint64_t cu_off, const uint32_t **v, size_t *n);
    /* Keeps them (the store copies them). NULL when get_abbrevs is. */
    void (*put_abbrevs)(void *ctx, uint64_t addr, uint64_t cu_off, const uint32_t *v, size_t n);
    void *ctx;
};

/* The keys under which a store may keep the first n frames of the last lookup (innermost
 * first, as it gave them; n at most SYM_MAX_FRAMES): nonzero for a frame named from a
 * function DIE alone (every lookup of any address that the DIE's function covers gives it the
 * same), 0 for the others (a name from the ELF symbol at the address). Returns n. */
size_t symbolizer_frame_keys(const struct symbolizer *s, uint64_t *keys, size_t n);

/* Serves unit tables from store (NULL: none) from now on. */
void symbolizer_set_unit_store(struct symbolizer *s, const struct sym_unit_store *store);

/* Hands the store every unit table built or grown since it was read (or since the last call). */
void symbolizer_save_units(struct symbolizer *s);

/* What the lookups so far cost: the work at exit must follow the sampled addresses, not the
 * size of the binaries (tests check it; the profile reports cus_indexed). */
struct symbolizer_stats {
    size_t lookups;        /* symbolizer_lookup calls */
    size_t cus_indexed;    /* compilation units whose function index was built */
    size_t cus_from_store; /* of those, built from a stored table without a walk */
    size_t cu_functions;   /* out-of-line functions' code ranges in those indexes */
    size_t symtabs_sorted; /* modules whose ELF symbol table was read and sorted */
    size_t symbols_sorted; /* symbols in those tables */
    size_t debug_drops;    /* times the debug files' pages were dropped */
    size_t deep_walks;     /* units walked into their functions: an address in none of the
                              functions of the first walk, whose symbol says it may lie in
                              a function defined inside another */
    size_t frames_from_store; /* function frames an earlier run made (store get_frame) */
    size_t line_passes;       /* passes over a whole line program (dwarf_files_full_passes) */
    size_t aranges_read;      /* modules whose .debug_aranges was read (not from the store) */
};
void symbolizer_stats(const struct symbolizer *s, struct symbolizer_stats *out);
/* Adds b's counts to a's (two symbolizers of one exit). */
void symbolizer_stats_add(struct symbolizer_stats *a, const struct symbolizer_stats *b);

/* The resident set (kB) past which the symbolizer drops the debug files' pages (see
 * sym_options), and setting it: a second symbolizer opened later in the same exit (the symbol
 * cache's helper thread) takes the first one's, so that the two keep one bound between them. */
uint64_t symbolizer_rss_limit_kb(const struct symbolizer *s);
void symbolizer_set_rss_limit_kb(struct symbolizer *s, uint64_t kb);
/* The budget the limit was set from (sym_options.rss_budget_kb, or the default). */
uint64_t symbolizer_rss_budget_kb(const struct symbolizer *s);

/* For tests: libelf's mappings of the debug files read so far, [lo, hi), with the pages of
 * their .debug_info, [info_lo, info_hi) (empty when compressed); and the second drop over the
 * budget, of those pages alone. */
struct sym_debug_map {
    uintptr_t lo, hi, info_lo, info_hi;
};
size_t symbolizer_debug_maps(struct symbolizer *s, struct sym_debug_map *out, size_t max);
void symbolizer_drop_debug_info(struct symbolizer *s);
/* For tests: the bytes of the units indexed so far in those mappings, [lo, hi), sorted; and
 * the first drop over the budget, of the pages of .debug_info outside them. */
struct sym_unit_span {
    uintptr_t lo, hi;
};
size_t symbolizer_unit_spans(const struct symbolizer *s, struct sym_unit_span *out, size_t max);
void symbolizer_drop_walk_pages(struct symbolizer *s);

/* Demangles like `c++filt` (libiberty, DMGL_PARAMS | DMGL_ANSI | DMGL_VERBOSE). Returns a
 * malloc'd string, or NULL when sym is not a mangled C++ name. */
char *symbolize_demangle(const char *sym);

#endif
