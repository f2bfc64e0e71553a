/* SPDX-License-Identifier: MIT */
/* check_symbolize.c — libdw symbolization of this very process: names, declaration lines,
 * inline chains, C++ demangling identical to c++filt, separate debug info (build-id and
 * .gnu_debuglink), modules without any symbols, addresses outside every module; a unit walked
 * into its functions only for an address that may lie in a nested function. */
#include "testutil.h"

#include "symbolize/dwarf_files.h"
#include "symbolize/plt.h"
#include "symbolize/symbolize.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOIPA __attribute__((noipa))

volatile int sink;

/* One-line definitions: each *_line constant names the line above it. */
// clang-format off

NOIPA int plain_function(int x) { return sink = x * 3 + 1; }
static const long plain_line = __LINE__ - 1;

static uint64_t captured_return;
NOIPA void probe(void) { captured_return = (uint64_t)(uintptr_t)__builtin_return_address(0); }

static inline __attribute__((always_inline)) void inlined_level(void) { probe(); sink++; }
static const long inlined_line = __LINE__ - 1;

NOIPA void outer_function(void) { inlined_level(); sink++; }
static const long outer_line = __LINE__ - 1;

/* An internal name with public aliases, as glibc has __libc_malloc and malloc. */
NOIPA int __prf_internal_work(int x) { return sink = x + 5; }
extern __typeof(__prf_internal_work) prf_public_work __attribute__((alias("__prf_internal_work")));
extern __typeof(__prf_internal_work) prf_weak_work_longer __attribute__((weak, alias("__prf_internal_work")));

/* Code without a function DIE in this unit's range (as thunks and start-up code are). */
__asm__(".text\n.globl prf_asm_function\n.type prf_asm_function, @function\n"
        "prf_asm_function:\n nop\n nop\n ret\n.size prf_asm_function, .-prf_asm_function\n");
void prf_asm_function(void);

/* A GNU C nested function: its DIE lies inside its parent's, its symbol is "nested_fn.N". */
NOIPA int nesting_function(int x)
{
    NOIPA int nested_fn(int y) { probe(); return y * x + sink; }
    return nested_fn(x + 1);
}
// clang-format on

static struct symbolizer *sym;

static void setup(void)
{
    char err[256];
    struct sym_options opts = {NULL, NULL, 1, NULL, 0, 0, 0}; /* never touch a cache */
    sym = symbolizer_open_self(&opts, err, sizeof err);
    ck_assert_msg(sym != NULL, "%s", err);
}

static void teardown(void)
{
    symbolizer_close(sym);
}

static size_t lookup(uint64_t addr, struct sym_frame *f)
{
    return symbolizer_lookup(sym, addr, f, SYM_MAX_FRAMES);
}

START_TEST(test_function_name_file_and_declaration_line)
{
    struct sym_frame f[SYM_MAX_FRAMES];
    /* the entry and an address inside both resolve to the function */
    for (int off = 0; off < 2; off++) {
        size_t n = lookup((uint64_t)(uintptr_t)plain_function + (uint64_t)off, f);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(f[0].name, "plain_function");
        ck_assert_str_eq(f[0].source_file, "check_symbolize.c");
        ck_assert_int_eq(f[0].line, plain_line);
        ck_assert_str_eq(f[0].source_path, tu_src_path("tests/unit/check_symbolize.c"));
        ck_assert_str_eq(f[0].module, "check_symbolize");
    }
}
END_TEST

START_TEST(test_inline_chain_innermost_first)
{
    outer_function();
    struct sym_frame f[SYM_MAX_FRAMES];
    size_t n = lookup(captured_return - 1, f); /* inside the call instruction */
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(f[0].name, "inlined_level");
    ck_assert_int_eq(f[0].line, inlined_line);
    ck_assert(f[0].inlined);
    ck_assert_str_eq(f[1].name, "outer_function");
    ck_assert_int_eq(f[1].line, outer_line);
    ck_assert(!f[1].inlined);
    /* with room for one frame only, the out-of-line function is kept */
    n = symbolizer_lookup(sym, captured_return - 1, f, 1);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(f[0].name, "outer_function");
}
END_TEST

/* Resolves the test's functions n times over with a symbolizer of the given budget; returns
 * how many times it dropped the debug pages, after checking every answer against the
 * shared symbolizer's. */
static size_t lookups_with_budget(uint64_t budget_kb, int n)
{
    char err[256];
    struct sym_options opts = {NULL, NULL, 1, NULL, 0, 0, budget_kb};
    struct symbolizer *s = symbolizer_open_self(&opts, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    outer_function();
    const uint64_t addrs[] = {(uint64_t)(uintptr_t)plain_function,
                              (uint64_t)(uintptr_t)outer_function, captured_return - 1,
                              (uint64_t)(uintptr_t)__prf_internal_work};
    for (int k = 0; k < n; k++) {
        for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++) {
            struct sym_frame got[SYM_MAX_FRAMES], want[SYM_MAX_FRAMES];
            size_t ng = symbolizer_lookup(s, addrs[i] + (uint64_t)(k % 3), got, SYM_MAX_FRAMES);
            size_t nw = lookup(addrs[i] + (uint64_t)(k % 3), want);
            ck_assert_uint_eq(ng, nw);
            for (size_t j = 0; j < ng; j++) {
                ck_assert_str_eq(got[j].name, want[j].name);
                ck_assert_int_eq(got[j].line, want[j].line);
                ck_assert_str_eq(got[j].source_file ? got[j].source_file : "-",
                                 want[j].source_file ? want[j].source_file : "-");
            }
        }
    }
    struct symbolizer_stats st;
    symbolizer_stats(s, &st);
    symbolizer_close(s);
    return st.debug_drops;
}

START_TEST(test_debug_pages_dropped_only_over_the_budget)
{
    /* 1 kB above the resident set at opening: the first reading after the debug files were
     * mapped finds it passed, and the answers after the drop are the same */
    size_t drops = lookups_with_budget(1, 64);
    ck_assert_uint_ge(drops, 1);
    /* the default budget: a small program never reaches it */
    ck_assert_uint_eq(lookups_with_budget(0, 64), 0);
}
END_TEST

/* Pages of [lo, hi) mapped in this process (/proc/self/pagemap's present bit). */
static size_t present_pages(uintptr_t lo, uintptr_t hi)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    size_t n = 0;
    for (uintptr_t p = lo & ~(uintptr_t)4095; p < hi; p += 4096) {
        uint64_t e = 0;
        ck_assert_int_eq(pread(fd, &e, sizeof e, (off_t)(p / 4096 * sizeof e)), (ssize_t)sizeof e);
        n += e >> 63;
    }
    close(fd);
    return n;
}

/* Present pages of the debug files' mappings: of .debug_info (*info) and the rest (*rest). */
static void count_debug_pages(struct symbolizer *s, size_t *info, size_t *rest)
{
    struct sym_debug_map m[16];
    size_t n = symbolizer_debug_maps(s, m, 16);
    *info = *rest = 0;
    for (size_t i = 0; i < n && i < 16; i++) {
        ck_assert(m[i].info_lo < m[i].info_hi && m[i].lo <= m[i].info_lo &&
                  m[i].info_hi <= m[i].hi);
        *info += present_pages(m[i].info_lo, m[i].info_hi);
        *rest += present_pages(m[i].lo, m[i].info_lo) + present_pages(m[i].info_hi, m[i].hi);
    }
}

/* The test's own functions looked up before a drop, and their answers then. */
struct drop_case {
    uint64_t addrs[3];
    struct sym_frame before[3][SYM_MAX_FRAMES];
    size_t nb[3];
};

/* A symbolizer (no cache, the default budget) that has looked up the test's own functions: its
 * DIEs, strings, line program and abbreviations read. */
static struct symbolizer *open_with_lookups(struct drop_case *c)
{
    char err[256];
    struct sym_options opts = {NULL, NULL, 1, NULL, 0, 0, 0};
    struct symbolizer *s = symbolizer_open_self(&opts, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    outer_function();
    c->addrs[0] = (uint64_t)(uintptr_t)plain_function;
    c->addrs[1] = (uint64_t)(uintptr_t)outer_function;
    c->addrs[2] = captured_return - 1;
    for (size_t i = 0; i < 3; i++)
        ck_assert_uint_ge(
            c->nb[i] = symbolizer_lookup(s, c->addrs[i], c->before[i], SYM_MAX_FRAMES), 1);
    return s;
}

/* The same answers after the drop; closes s. */
static void same_answers_then_close(struct symbolizer *s, const struct drop_case *c)
{
    struct sym_frame after[SYM_MAX_FRAMES];
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(symbolizer_lookup(s, c->addrs[i], after, SYM_MAX_FRAMES), c->nb[i]);
        for (size_t j = 0; j < c->nb[i]; j++) {
            ck_assert_str_eq(after[j].name, c->before[i][j].name);
            ck_assert_int_eq(after[j].line, c->before[i][j].line);
        }
    }
    symbolizer_close(s);
}

/* A drop over the budget takes the pages of .debug_info before the others: those of unit headers
 * and DIEs, which libdw's in-order reading of headers maps for every unit it passes. After lookups
 * of the test's own functions (its DIEs, strings, line program and abbreviations read), the
 * .debug_info pages of its mapping are gone and the other sections' pages read stay; the answers
 * after it are the same. */
START_TEST(test_first_drop_takes_debug_info_alone)
{
    struct drop_case c;
    struct symbolizer *s = open_with_lookups(&c);
    size_t info0, rest0, info1, rest1;
    count_debug_pages(s, &info0, &rest0);
    ck_assert_msg(info0 > 0 && rest0 > 0, "%zu pages of .debug_info, %zu others", info0, rest0);
    symbolizer_drop_debug_info(s);
    count_debug_pages(s, &info1, &rest1);
    ck_assert_msg(info1 == 0 && rest1 > 0 && rest1 * 2 >= rest0,
                  ".debug_info %zu -> %zu pages, the others %zu -> %zu", info0, info1, rest0,
                  rest1);
    same_answers_then_close(s, &c);
}
END_TEST

/* Whether the page at p overlaps one of the n spans. */
static bool page_in_spans(uintptr_t p, const struct sym_unit_span *sp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sp[i].lo < p + 4096 && p < sp[i].hi)
            return true;
    return false;
}

/* The first drop over the budget takes the pages of .debug_info outside the units indexed (what
 * libdw's in-order reading of unit headers maps on its way to a unit, never read again) and
 * keeps those of the units: with every page of .debug_info made present, a drop leaves exactly
 * the pages that overlap an indexed unit, and the answers after it are the same. Fails when the
 * drop takes the units' pages too, or leaves the others. */
START_TEST(test_first_drop_keeps_the_units_indexed)
{
    struct drop_case c;
    struct symbolizer *s = open_with_lookups(&c);
    struct sym_debug_map m[16];
    size_t nm = symbolizer_debug_maps(s, m, 16);
    struct sym_unit_span sp[64];
    size_t ns = symbolizer_unit_spans(s, sp, 64);
    ck_assert_uint_ge(nm, 1);
    ck_assert_uint_ge(ns, 1);
    ck_assert_uint_le(ns, 64);
    for (size_t i = 1; i < ns; i++)
        ck_assert(sp[i - 1].lo < sp[i].lo && sp[i - 1].hi <= sp[i].lo);
    size_t in = 0, out = 0;
    for (size_t i = 0; i < nm && i < 16; i++)
        for (uintptr_t p = m[i].info_lo; p < m[i].info_hi; p += 4096) {
            (void)*(volatile const char *)p; /* every page present */
            page_in_spans(p, sp, ns) ? in++ : out++;
        }
    ck_assert_msg(in > 0 && out > 0, "%zu pages of units, %zu others", in, out);
    symbolizer_drop_walk_pages(s);
    for (size_t i = 0; i < nm && i < 16; i++)
        for (uintptr_t p = m[i].info_lo; p < m[i].info_hi; p += 4096)
            ck_assert_msg(present_pages(p, p + 1) == (page_in_spans(p, sp, ns) ? 1u : 0u),
                          "page %#" PRIxPTR " of .debug_info [%#" PRIxPTR ", %#" PRIxPTR ")", p,
                          m[i].info_lo, m[i].info_hi);
    same_answers_then_close(s, &c);
}
END_TEST

static int exe_base(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    *(uintptr_t *)ctx = info->dlpi_addr;
    return 1; /* the executable comes first */
}

/* PLT stubs are named "symbol@plt", as objdump (and perf, gdb) name them: every stub objdump
 * lists in the test program's .plt and .plt.sec, at its first and last byte, with the stub's
 * 16 bytes as the answer's range. Without it they were "check_symbolize+0xOFFSET". */
START_TEST(test_plt_stubs_named_as_objdump_names_them)
{
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ck_assert_int_gt(len, 0);
    exe[len] = '\0';
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "objdump -d -C -j .plt -j .plt.sec '%s' 2>/dev/null", exe);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    uintptr_t base = 0;
    dl_iterate_phdr(exe_base, &base);
    const char *module = strrchr(exe, '/') + 1;
    char line[8192];
    size_t stubs = 0;
    while (fgets(line, sizeof line, p)) {
        unsigned long long vaddr;
        char name[8192];
        int end = 0;
        /* "0000000000008030 <pipe2@plt>:" */
        size_t n;
        if (sscanf(line, "%llx <%8000[^\n]%n", &vaddr, name, &end) != 2 || end < 3 ||
            (n = strlen(name)) < 7 || strcmp(name + n - 6, "@plt>:") != 0)
            continue; /* not a stub's label (the resolver's entry is "first@plt-0x10") */
        name[n - 2] = '\0';
        for (uint64_t k = 0; k < 16; k += 15) {
            struct sym_frame f[SYM_MAX_FRAMES];
            uint64_t addr = base + vaddr + k, lo, hi;
            ck_assert_uint_eq(symbolizer_lookup_range(sym, addr, f, SYM_MAX_FRAMES, &lo, &hi), 1);
            ck_assert_str_eq(f[0].name, name);
            ck_assert_str_eq(f[0].module, module);
            ck_assert_ptr_null(f[0].source_file);
            ck_assert_uint_eq(lo, base + vaddr);
            ck_assert_uint_eq(hi, base + vaddr + 16);
        }
        stubs++;
    }
    pclose(p);
    ck_assert_uint_ge(stubs, 20);
}
END_TEST

/* The stubs plt_read finds in an image of the test program with one of its parts broken. */
static size_t stubs_when_broken(const char *section, bool code, size_t keep)
{
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ck_assert_int_gt(len, 0);
    exe[len] = '\0';
    FILE *f = fopen(exe, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size_t size = (size_t)ftell(f);
    rewind(f);
    char *img = malloc(size);
    ck_assert(img && fread(img, 1, size, f) == size);
    fclose(f);
    elf_version(EV_CURRENT);
    Elf *e = elf_memory(img, size);
    size_t shstrndx;
    ck_assert(e && elf_getshdrstrndx(e, &shstrndx) == 0);
    for (Elf_Scn *scn = NULL; section && (scn = elf_nextscn(e, scn));) {
        GElf_Shdr sh;
        ck_assert(gelf_getshdr(scn, &sh));
        if (strcmp(elf_strptr(e, shstrndx, sh.sh_name), section) != 0)
            continue;
        if (code) { /* its bytes scrambled */
            for (size_t i = 0; i < sh.sh_size; i++)
                img[sh.sh_offset + i] = (char)(i * 7);
        } else { /* its link and entry size nonsense */
            sh.sh_link = 9999;
            sh.sh_entsize = 0;
            ck_assert(gelf_update_shdr(scn, &sh));
        }
    }
    elf_end(e);
    e = elf_memory(img, keep ? keep : size); /* keep: the image cut short */
    struct plt_table t;
    ck_assert_int_eq(plt_read(e, &t), 0);
    size_t n = t.n;
    for (size_t i = 0; i < n; i++)
        ck_assert(t.v[i].lo < t.v[i].hi && (i == 0 || t.v[i - 1].hi <= t.v[i].lo));
    plt_free(&t);
    if (e)
        elf_end(e);
    free(img);
    return n;
}

/* plt_read on broken images: no stub from scrambled code or a broken relocation section, none
 * from an image cut short (its section headers gone), and no failure. */
START_TEST(test_plt_read_survives_broken_images)
{
    size_t whole = stubs_when_broken(NULL, false, 0);
    ck_assert_uint_ge(whole, 20);
    ck_assert_uint_eq(stubs_when_broken(".plt", true, 0), 0);
    ck_assert_uint_eq(stubs_when_broken(".rela.plt", false, 0), 0);
    ck_assert_uint_eq(stubs_when_broken(NULL, false, 4096), 0);
    struct plt_table t;
    ck_assert_int_eq(plt_read(NULL, &t), 0);
    ck_assert_uint_eq(t.n, 0);
    ck_assert_ptr_null(plt_find(&t, 0x1000));
}
END_TEST

START_TEST(test_demangling_matches_cxxfilt)
{
    const char *mangled[] = {
        "_Z1fSs",
        "_ZNSt6vectorIiSaIiEE9push_backEOi",
        "_ZZN2wl10run_lambdaEjENKUljE_clEj",
        "_ZNK2wl3VecplERKS0_",
        "_Z3fooi.constprop.0",
        "_ZN9__gnu_cxx13new_allocatorIcE8allocateEmPKv",
        "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE12_M_constructIPKcEEvT_S8_"
        "St20forward_iterator_tag",
        "_ZN12_GLOBAL__N_13barEv",
        /* Rust legacy names: c++filt's automatic style demangles them as Rust ("$LT$" is "<") */
        "_ZN71_$LT$Test$u20$$u2b$$u20$$u27$static$u20$as$u20$foo..Bar$LT$Test$GT$$GT$"
        "3bar17h930b740aa94f1d3aE",
        "_ZN3std2rt10lang_start17h9e5d2a7e3b1c4f60E.llvm.123",
    };
    for (size_t i = 0; i < sizeof mangled / sizeof mangled[0]; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "c++filt '%s'", mangled[i]);
        char *want = tu_shell(cmd);
        want[strcspn(want, "\n")] = '\0';
        char *got = symbolize_demangle(mangled[i]);
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, want);
        free(got);
        free(want);
    }
    ck_assert_ptr_null(symbolize_demangle("main"));
    ck_assert_ptr_null(symbolize_demangle("_Znotmangled"));
    ck_assert_ptr_null(symbolize_demangle(NULL));
}
END_TEST

START_TEST(test_address_outside_any_module)
{
    void *anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(anon != MAP_FAILED);
    struct sym_frame f[SYM_MAX_FRAMES];
    ck_assert_uint_eq(lookup((uint64_t)(uintptr_t)anon + 16, f), 1);
    ck_assert_str_eq(f[0].name, "[unknown]");
    ck_assert_ptr_null(f[0].module);
    ck_assert_ptr_null(symbolizer_module_of(sym, (uint64_t)(uintptr_t)anon));
    munmap(anon, 4096);
}
END_TEST

/* Mapping of addr in /proc/self/maps: its file offset. */
static uint64_t file_offset_of(uint64_t addr)
{
    FILE *m = fopen("/proc/self/maps", "r");
    char line[1024];
    uint64_t result = UINT64_MAX;
    while (fgets(line, sizeof line, m)) {
        uint64_t lo, hi, off;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64, &lo, &hi, &off) == 3 &&
            addr >= lo && addr < hi)
            result = addr - lo + off;
    }
    fclose(m);
    return result;
}

START_TEST(test_stripped_module_symbols_and_offsets)
{
    void *h = dlopen(tu_build_path("testlibs/libstripped.so"), RTLD_NOW);
    ck_assert_msg(h != NULL, "%s", dlerror());
    void (*exported)(void) = (void (*)(void))dlsym(h, "stripped_exported");
    void *(*hidden)(void) = (void *(*)(void))dlsym(h, "stripped_hidden_address");
    ck_assert(exported && hidden);
    /* a fresh symbolizer sees the library loaded after the fixture's */
    teardown();
    setup();
    struct sym_frame f[SYM_MAX_FRAMES];
    ck_assert_uint_eq(lookup((uint64_t)(uintptr_t)exported, f), 1);
    ck_assert_str_eq(f[0].name, "stripped_exported"); /* from .dynsym */
    ck_assert_ptr_null(f[0].source_file);
    ck_assert_int_eq(f[0].line, -1);
    ck_assert_str_eq(f[0].module, "libstripped.so");

    uint64_t addr = (uint64_t)(uintptr_t)hidden();
    ck_assert_uint_eq(lookup(addr, f), 1);
    char want[128];
    snprintf(want, sizeof want, "libstripped.so+0x%" PRIx64, file_offset_of(addr));
    ck_assert_str_eq(f[0].name, want);
    dlclose(h);
}
END_TEST

START_TEST(test_debug_info_through_gnu_debuglink)
{
    void *h = dlopen(tu_build_path("testlibs/libdebuglink.so"), RTLD_NOW);
    ck_assert_msg(h != NULL, "%s", dlerror());
    void (*fn)(void) = (void (*)(void))dlsym(h, "debuglink_function");
    teardown();
    setup();
    struct sym_frame f[SYM_MAX_FRAMES];
    ck_assert_uint_eq(lookup((uint64_t)(uintptr_t)fn, f), 1);
    ck_assert_str_eq(f[0].name, "debuglink_function");
    ck_assert_str_eq(f[0].source_file, "debuglink.c"); /* only the .debug file knows this */
    ck_assert_int_gt(f[0].line, 0);
    dlclose(h);
}
END_TEST

/* Is there a section with SHF_COMPRESSED in the ELF file at path? (via readelf) */
static bool compressed_sections(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "readelf -SW '%s' | grep '^ *\\[' | grep -c ' C '", path);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct tu_result r = tu_run(argv, NULL, NULL);
    bool yes = atoi(r.out) > 0;
    tu_result_free(&r);
    return yes;
}

START_TEST(test_debug_info_through_build_id_and_cache)
{
    /* libbuildid.so has no DWARF; its .debug file, with zlib-compressed sections, sits only
     * under testlibs/debugroot/.build-id/xx/rest.debug, named after its build-id. */
    void *h = dlopen(tu_build_path("testlibs/libbuildid.so"), RTLD_NOW);
    ck_assert_msg(h != NULL, "%s", dlerror());
    void (*fn)(void) = (void (*)(void))dlsym(h, "buildid_function");
    teardown();
    setup(); /* default directories: the debug file is not found */
    struct sym_frame f[SYM_MAX_FRAMES];
    ck_assert_uint_eq(lookup((uint64_t)(uintptr_t)fn, f), 1);
    ck_assert_str_eq(f[0].name, "buildid_function");
    ck_assert_ptr_null(f[0].source_file);
    /* Close it: libelf's read-only mapping of libbuildid.so would show in /proc/self/maps
     * and be taken for part of the module by the next symbolizer. */
    teardown();
    sym = NULL;

    char *cache = tu_mkdtemp();
    char debugroot[4200];
    snprintf(debugroot, sizeof debugroot, "%s", tu_build_path("testlibs/debugroot"));
    char *original = tu_shell("find \"$PROFREG_BUILD/testlibs/debugroot\" -name '*.debug'");
    original[strcspn(original, "\n")] = '\0';
    ck_assert(compressed_sections(original));
    char cached[8400]; /* the same build-id path under the cache */
    snprintf(cached, sizeof cached, "%s%s", cache, original + strlen(debugroot));
    for (int round = 0; round < 2; round++) {
        char err[256];
        struct sym_options opts = {debugroot, cache, 0, NULL, 0, 0, 0};
        struct symbolizer *s = symbolizer_open_self(&opts, err, sizeof err);
        ck_assert_msg(s != NULL, "%s", err);
        ck_assert_uint_eq(symbolizer_lookup(s, (uint64_t)(uintptr_t)fn, f, SYM_MAX_FRAMES), 1);
        ck_assert_str_eq(f[0].name, "buildid_function");
        ck_assert_str_eq(f[0].source_file, "buildid.c");
        ck_assert_int_gt(f[0].line, 0);
        symbolizer_close(s);
        /* the cache holds an uncompressed copy */
        ck_assert_msg(tu_exists(cached), "no cached copy at %s", cached);
        ck_assert(!compressed_sections(cached));
        snprintf(debugroot, sizeof debugroot, "/nonexistent"); /* round 2: only the cache */
    }
    free(original);
    tu_rmtree(cache);
    free(cache);
    dlclose(h);
}
END_TEST

/* A C function known by several symbols is named by its public one: exported over local,
 * global over weak, fewer leading underscores (what perf and `nm -D` show). */
START_TEST(test_aliases_get_their_public_name)
{
    struct sym_frame f[SYM_MAX_FRAMES];
    ck_assert_uint_eq(lookup((uint64_t)(uintptr_t)prf_public_work, f), 1);
    ck_assert_str_eq(f[0].name, "prf_public_work"); /* DWARF says __prf_internal_work */
    ck_assert_str_eq(f[0].source_file, "check_symbolize.c");
    /* glibc: DWARF (libc6-dbg) or .dynsym names its internal aliases */
    const char *libc[] = {"malloc", "free", "qsort", "calloc"};
    for (size_t i = 0; i < sizeof libc / sizeof *libc; i++) {
        void *addr = dlsym(RTLD_DEFAULT, libc[i]);
        ck_assert_ptr_nonnull(addr);
        ck_assert_uint_ge(lookup((uint64_t)(uintptr_t)addr, f), 1);
        size_t n = lookup((uint64_t)(uintptr_t)addr, f);
        ck_assert_str_eq(f[n - 1].name, libc[i]);
        ck_assert(!f[n - 1].inlined);
    }
}
END_TEST

/* Without debug info or .symtab, an obsolete symbol version ("xwork@VER_1", as glibc's
 * cfree@GLIBC_2.2.5 is to free) never names the function, however short its prefix. */
START_TEST(test_alias_in_dynsym_skips_obsolete_versions)
{
    tu_tmp_setup();
    tu_write_file(tu_in_tmp("v.c"),
                  "int __lib_work(int x) { return x * 3 + 1; }\n"
                  "extern __typeof(__lib_work) work __attribute__((alias(\"__lib_work\")));\n"
                  "extern __typeof(__lib_work) xwork_old __attribute__((alias(\"__lib_work\")));\n"
                  "__asm__(\".symver xwork_old,xwork@VER_1\");\n");
    tu_write_file(tu_in_tmp("v.map"), "VER_1 { global: xwork; local: *; };\n"
                                      "VER_2 { global: work; __lib_work; } VER_1;\n");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "gcc -shared -fPIC -O2 -s -Wl,--version-script=%s/v.map -o %s/libv.so %s/v.c "
             "&& nm -D %s/libv.so | grep -c work",
             tu_tmp, tu_tmp, tu_tmp, tu_tmp);
    char *out = tu_shell(cmd);
    ck_assert_msg(out && atoi(out) == 3, "libv.so: %s", out ? out : "not built");
    free(out);
    void *h = dlopen(tu_in_tmp("libv.so"), RTLD_NOW);
    ck_assert_msg(h != NULL, "%s", dlerror());
    void *addr = dlsym(h, "__lib_work");
    teardown();
    setup();
    struct sym_frame f[SYM_MAX_FRAMES];
    ck_assert_uint_eq(lookup((uint64_t)(uintptr_t)addr, f), 1);
    ck_assert_str_eq(f[0].name, "work");
    teardown();
    sym = NULL;
    dlclose(h);
    tu_tmp_teardown();
    setup();
}
END_TEST

/* One DWARF function in two pieces, the hot part "f [clone .constprop.0]" and the cold part
 * "f [clone .constprop.0] [clone .cold]" (two ELF symbols): each address gets the name of its
 * own piece whichever piece is looked up first (the frame of a DWARF entry named after an ELF
 * symbol is cached per symbol, not per entry). */
START_TEST(test_hot_and_cold_parts_named_in_either_order)
{
    tu_tmp_setup();
    tu_write_file(tu_in_tmp("split.cpp"),
                  "#include <cstdio>\n#include <stdexcept>\nvolatile int sink;\n"
                  "namespace demo {\n"
                  "__attribute__((noinline, cold)) void report(int v) { std::fprintf(stderr, "
                  "\"%d\\n\", v); }\n"
                  "static __attribute__((noinline)) int work(int x, int mode) {\n"
                  "  int acc = 0;\n"
                  "  for (int i = 0; i < x; i++) {\n"
                  "    acc += i * mode;\n"
                  "    if (__builtin_expect(acc == 123456789, 0)) {\n"
                  "      report(acc); sink = acc; throw std::runtime_error(\"odd\"); }\n"
                  "  }\n"
                  "  return acc;\n"
                  "}\n}\n"
                  "extern \"C\" int split_entry(int n) { return demo::work(n, 3); }\n");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "g++ -shared -fPIC -O2 -g -o %s/libsplit.so %s/split.cpp && "
             "nm -C --defined-only %s/libsplit.so | grep -E ' (split_entry|demo::work)'",
             tu_tmp, tu_tmp, tu_tmp);
    char *out = tu_shell(cmd);
    ck_assert_msg(out != NULL, "libsplit.so not built");
    /* the offsets and names of the entry point and of the two pieces, as nm prints them */
    unsigned long entry = 0, hot = 0, cold = 0;
    char hot_name[512] = "", cold_name[512] = "";
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long off;
        char type, name[512];
        if (sscanf(line, "%lx %c %511[^\n]", &off, &type, name) != 3)
            continue;
        if (strcmp(name, "split_entry") == 0) {
            entry = off;
        } else if (strstr(name, "[clone .cold]")) {
            cold = off;
            snprintf(cold_name, sizeof cold_name, "%s", name);
        } else if (strstr(name, "demo::work")) {
            hot = off;
            snprintf(hot_name, sizeof hot_name, "%s", name);
        }
    }
    free(out);
    ck_assert_msg(entry && hot && cold, "expected a hot and a cold piece of demo::work");
    void *h = dlopen(tu_in_tmp("libsplit.so"), RTLD_NOW);
    ck_assert_msg(h != NULL, "%s", dlerror());
    uint64_t base = (uint64_t)(uintptr_t)dlsym(h, "split_entry") - entry;
    uint64_t addr[2] = {base + hot + 2, base + cold + 2};
    const char *want[2] = {hot_name, cold_name};
    for (int first = 0; first < 2; first++) {
        teardown();
        setup();
        for (int k = 0; k < 2; k++) {
            int i = (first + k) % 2;
            struct sym_frame f[SYM_MAX_FRAMES];
            size_t n = lookup(addr[i], f);
            ck_assert_uint_ge(n, 1);
            ck_assert_msg(strcmp(f[n - 1].name, want[i]) == 0,
                          "%s piece looked up %s: '%s', want '%s'", i ? "cold" : "hot",
                          k ? "second" : "first", f[n - 1].name, want[i]);
        }
    }
    teardown();
    sym = NULL;
    dlclose(h);
    tu_tmp_teardown();
    setup();
}
END_TEST

/* No local debug info: libdw 0.188 would dlopen libdebuginfod (and libcurl); we must not. */
/* Lookups index only the CU they fall in, once; the symbol table of a module whose addresses
 * DWARF names is never read; a stripped module's table is sorted once for all its addresses. */
START_TEST(test_work_follows_the_addresses)
{
    struct sym_frame f[SYM_MAX_FRAMES];
    struct symbolizer_stats st;
    symbolizer_stats(sym, &st);
    ck_assert_uint_eq(st.cus_indexed, 0);
    lookup((uint64_t)(uintptr_t)&plain_function, f);
    lookup((uint64_t)(uintptr_t)&outer_function, f);
    symbolizer_stats(sym, &st);
    ck_assert_uint_eq(st.lookups, 2);
    ck_assert_uint_eq(st.cus_indexed, 1); /* both functions are in this file's CU */
    ck_assert_uint_eq(st.symtabs_sorted, 0);
    ck_assert_uint_gt(st.cu_functions, 3);

    void *h = dlopen(tu_build_path("testlibs/libstripped.so"), RTLD_NOW);
    ck_assert_msg(h != NULL, "%s", dlerror());
    void *a = dlsym(h, "stripped_exported"), *b = dlsym(h, "stripped_hidden_address");
    ck_assert(a && b);
    symbolizer_close(sym);
    setup(); /* sees the library */
    lookup((uint64_t)(uintptr_t)a, f);
    lookup((uint64_t)(uintptr_t)b, f);
    symbolizer_stats(sym, &st);
    ck_assert_uint_eq(st.cus_indexed, 0);
    ck_assert_uint_eq(st.symtabs_sorted, 1);
    dlclose(h);
}
END_TEST

/* An address in no function of its unit's first walk: the walk into every function of the
 * unit is made for a symbol that may name a nested function, not for code without any. */
START_TEST(test_units_walked_deep_only_for_nested_functions)
{
    struct sym_frame f[SYM_MAX_FRAMES];
    struct symbolizer_stats st;
    size_t n = lookup((uint64_t)(uintptr_t)&prf_asm_function + 1, f);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(f[0].name, "prf_asm_function");
    symbolizer_stats(sym, &st);
    ck_assert_uint_eq(st.cus_indexed, 1); /* the address lies in this file's unit */
    ck_assert_uint_eq(st.deep_walks, 0);

    nesting_function(2);
    n = lookup(captured_return - 1, f);
    ck_assert_uint_ge(n, 1);
    ck_assert_str_eq(f[0].name, "nested_fn");
    symbolizer_stats(sym, &st);
    ck_assert_uint_eq(st.deep_walks, 1);
}
END_TEST

START_TEST(test_never_loads_debuginfod)
{
    void *h = dlopen(tu_build_path("testlibs/libstripped.so"), RTLD_NOW);
    ck_assert_ptr_nonnull(h);
    teardown();
    setup();
    struct sym_frame f[SYM_MAX_FRAMES];
    lookup((uint64_t)(uintptr_t)dlsym(h, "stripped_exported"), f);
    lookup((uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "qsort"), f);
    ck_assert_ptr_null(dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_NOLOAD));
    ck_assert_ptr_null(dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_NOLOAD));
    dlclose(h);
}
END_TEST

/* name in libc itself (not an interceptor of the sanitizers' runtime); an IFUNC resolved. */
static void *libc_fn(const char *name)
{
    void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    ck_assert_ptr_nonnull(h);
    void *p = dlsym(h, name);
    dlclose(h);
    ck_assert_msg(p != NULL, "%s", name);
    return p;
}

static bool same_frame(const struct sym_frame *a, const struct sym_frame *b)
{
#define SAME_STR(x, y) ((x) == (y) || ((x) && (y) && strcmp((x), (y)) == 0))
    return SAME_STR(a->name, b->name) && SAME_STR(a->source_file, b->source_file) &&
           SAME_STR(a->source_path, b->source_path) && SAME_STR(a->module, b->module) &&
           a->line == b->line && a->inlined == b->inlined;
#undef SAME_STR
}

/* An answer from the ELF symbol alone (assembly in libc; libdw and libelf, which carry no
 * DWARF here) comes with the range its symbol, its unit and the gap between its unit's
 * functions give: every byte of it gets the very same frame from a fresh symbolizer, and for
 * an exported function of a library without DWARF it is the whole symbol (the symbol cache
 * then keeps one entry for the function instead of probing a byte at a time). */
START_TEST(test_symbol_answers_state_their_range)
{
    const char *names[] = {"memset",    "memcpy",         "strlen",    "strchr",
                           "dwarf_tag", "dwarf_getattrs", "elf_begin", "elf_nextscn"};
    char err[256];
    struct sym_options opts = {NULL, NULL, 1, NULL, 0, 0, 0};
    struct symbolizer *fresh = symbolizer_open_self(&opts, err, sizeof err);
    ck_assert_msg(fresh != NULL, "%s", err);
    size_t wide = 0, whole = 0, checked = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        void *p = i < 4 ? libc_fn(names[i]) : dlsym(RTLD_DEFAULT, names[i]);
        ck_assert_msg(p != NULL, "%s", names[i]);
        uint64_t addr = (uint64_t)(uintptr_t)p + 2, lo, hi, key;
        struct sym_frame f[SYM_MAX_FRAMES], g[SYM_MAX_FRAMES];
        size_t n = symbolizer_lookup_range(sym, addr, f, SYM_MAX_FRAMES, &lo, &hi);
        ck_assert_uint_ge(n, 1);
        ck_assert_msg(lo <= addr && addr < hi, "%s: range [%#" PRIx64 ", %#" PRIx64 ")", names[i],
                      lo, hi);
        if (n != 1 || symbolizer_frame_keys(sym, &key, 1) != 1 || key != 0)
            continue;             /* a DWARF function: its scope's range, checked elsewhere */
        wide += hi - lo > 2 * 64; /* more than probing a byte at a time found */
        uint64_t step = (hi - lo) / 4096 + 1;
        for (uint64_t b = lo; b < hi; b += step) {
            ck_assert_uint_eq(symbolizer_lookup(fresh, b, g, SYM_MAX_FRAMES), 1);
            ck_assert_msg(same_frame(&f[0], &g[0]), "%s at +%#" PRIx64 ": %s, not %s", names[i],
                          b - lo, g[0].name, f[0].name);
            checked++;
        }
        Dl_info info;
        const ElfW(Sym) *es = NULL;
        if (strncmp(names[i], "dwarf_", 6) == 0 || strncmp(names[i], "elf_", 4) == 0) {
            ck_assert(dladdr1(p, &info, (void **)&es, RTLD_DL_SYMENT) && es);
            ck_assert_msg(lo == (uint64_t)(uintptr_t)info.dli_saddr && hi == lo + es->st_size,
                          "%s: [%#" PRIx64 ", %#" PRIx64 ") for a symbol of %zu bytes", names[i],
                          lo, hi, (size_t)es->st_size);
            whole++;
        }
    }
    ck_assert_msg(wide >= 4 && whole == 4 && checked > 400, "%zu wide, %zu whole, %zu checked",
                  wide, whole, checked);
    symbolizer_close(fresh);
}
END_TEST

/* The resident set is read as units are opened, not only every 32 lookups: a few lookups that
 * each open a new unit (here seven functions of libc, seven units) bring in new pages of the
 * debug files, and over a budget of 1 kB they are dropped. */
START_TEST(test_resident_set_read_as_units_open)
{
    const char *names[] = {"qsort", "strtol", "getenv", "fopen", "opendir", "fork", "bsearch"};
    char err[256];
    struct sym_options opts = {NULL, NULL, 1, NULL, 0, 0, 1};
    struct symbolizer *s = symbolizer_open_self(&opts, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct sym_frame f[SYM_MAX_FRAMES];
        ck_assert_uint_ge(
            symbolizer_lookup(s, (uint64_t)(uintptr_t)libc_fn(names[i]) + 1, f, SYM_MAX_FRAMES), 1);
    }
    struct symbolizer_stats st;
    symbolizer_stats(s, &st);
    symbolizer_close(s);
    ck_assert_msg(st.lookups < 32 && st.cus_indexed >= 4 && st.debug_drops >= 1,
                  "%zu lookups, %zu units, %zu drops", st.lookups, st.cus_indexed, st.debug_drops);
}
END_TEST

/* A unit store that keeps nothing but line-program sequences (one unit's at most). */
struct seq_store {
    uint64_t cu_off;
    struct dwf_seq *v;
    size_t n, puts;
};

static void keep_no_table(void *ctx, uint64_t addr, uint64_t cu_off, const struct sym_unit_fn *fns,
                          size_t n, bool deep)
{
    (void)ctx, (void)addr, (void)cu_off, (void)fns, (void)n, (void)deep;
}

static bool give_sequences(void *ctx, uint64_t addr, uint64_t cu_off, const struct dwf_seq **v,
                           size_t *n)
{
    struct seq_store *st = ctx;
    (void)addr;
    if (!st->n || cu_off != st->cu_off)
        return false;
    *v = st->v;
    *n = st->n;
    return true;
}

static void keep_sequences(void *ctx, uint64_t addr, uint64_t cu_off, const struct dwf_seq *v,
                           size_t n)
{
    struct seq_store *st = ctx;
    (void)addr;
    st->puts++;
    if (st->n)
        return;
    st->v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(st->v);
    memcpy(st->v, v, n * sizeof *v);
    st->n = n;
    st->cu_off = cu_off;
}

/* The line-program sequences a run recorded, handed to the store, spare the next run the
 * pass over the whole program: an assembly routine of libc (its file and line come from the
 * line table at its start) resolves the same with them and without a pass. */
START_TEST(test_line_sequences_kept_spare_the_next_pass)
{
    uint64_t addr = (uint64_t)(uintptr_t)libc_fn("memset") + 1;
    struct seq_store st = {0, NULL, 0, 0};
    struct sym_unit_store store = {NULL,           keep_no_table,  NULL, NULL, NULL, NULL, NULL,
                                   give_sequences, keep_sequences, NULL, NULL, NULL, NULL, &st};
    char err[256];
    struct sym_options opts = {NULL, NULL, 1, NULL, 0, 0, 0};
    struct sym_frame f[SYM_MAX_FRAMES];
    struct symbolizer_stats ss;
    char text[2][1024];
    for (int run = 0; run < 2; run++) {
        struct symbolizer *s = symbolizer_open_self(&opts, err, sizeof err);
        ck_assert_msg(s != NULL, "%s", err);
        symbolizer_set_unit_store(s, &store);
        size_t n = symbolizer_lookup(s, addr, f, SYM_MAX_FRAMES);
        symbolizer_stats(s, &ss);
        snprintf(text[run], sizeof text[run], "%zu %s %s %s %ld", n, f[n - 1].name,
                 f[n - 1].source_file ? f[n - 1].source_file : "-",
                 f[n - 1].source_path ? f[n - 1].source_path : "-", f[n - 1].line);
        if (run == 0) {
            ck_assert_msg(f[n - 1].source_file != NULL && ss.line_passes >= 1, "%s, %zu passes",
                          text[0], ss.line_passes);
            symbolizer_save_units(s);
            ck_assert_msg(st.n > 0, "no sequences handed to the store (%zu puts)", st.puts);
        } else {
            ck_assert_str_eq(text[1], text[0]);
            ck_assert_uint_eq(ss.line_passes, 0);
        }
        symbolizer_close(s);
    }
    free(st.v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("symbolize");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_function_name_file_and_declaration_line);
    tcase_add_test(tc, test_inline_chain_innermost_first);
    tcase_add_test(tc, test_debug_pages_dropped_only_over_the_budget);
    tcase_add_test(tc, test_first_drop_takes_debug_info_alone);
    tcase_add_test(tc, test_first_drop_keeps_the_units_indexed);
    tcase_add_test(tc, test_plt_stubs_named_as_objdump_names_them);
    tcase_add_test(tc, test_plt_read_survives_broken_images);
    tcase_add_test(tc, test_demangling_matches_cxxfilt);
    tcase_add_test(tc, test_address_outside_any_module);
    tcase_add_test(tc, test_stripped_module_symbols_and_offsets);
    tcase_add_test(tc, test_debug_info_through_gnu_debuglink);
    tcase_add_test(tc, test_debug_info_through_build_id_and_cache);
    tcase_add_test(tc, test_never_loads_debuginfod);
    tcase_add_test(tc, test_units_walked_deep_only_for_nested_functions);
    tcase_add_test(tc, test_work_follows_the_addresses);
    tcase_add_test(tc, test_aliases_get_their_public_name);
    tcase_add_test(tc, test_alias_in_dynsym_skips_obsolete_versions);
    tcase_add_test(tc, test_hot_and_cold_parts_named_in_either_order);
    tcase_add_test(tc, test_symbol_answers_state_their_range);
    tcase_add_test(tc, test_line_sequences_kept_spare_the_next_pass);
    tcase_add_test(tc, test_resident_set_read_as_units_open);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
