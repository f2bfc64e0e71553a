/* SPDX-License-Identifier: MIT */
/* symreplay.c — preloaded into a program, resolves a fixed list of file offsets of that program's
 * executable the way the preload does at exit (symbol cache in front of the libdw symbolizer),
 * then exits without running the program: the exit work on a large PIE binary, repeatable and
 * without sampling noise (for perf or callgrind; symbolize_bench cannot dlopen an executable).
 *
 *   SYMREPLAY_OFFSETS=FILE SYMREPLAY_EXE=PROGRAM [SYMREPLAY_CACHE=DIR|none] \
 *       [SYMREPLAY_PRINT=1] [SYMREPLAY_HEAP_MB=N] [SYMREPLAY_SLOWEST=1] [SYMREPLAY_THREADS=1|2] \
 *       LD_PRELOAD=build/libsymreplay.so PROGRAM
 * Only a process whose executable is PROGRAM (its real path) does anything: under valgrind, the
 * launcher is preloaded too.
 * FILE holds one hexadecimal file offset a line. Prints one line of counts and the CPU time of
 * the work (symreplay_run) on stderr; with SYMREPLAY_PRINT=1, the frames on stdout, each line
 * starting with the address's file offset (not its address, which moves with ASLR), so the output
 * of two builds can be compared byte for byte. SYMREPLAY_HEAP_MB=N first fills N MB of heap and
 * frees it (all but the last block, so that it stays in the heap): the exit of a real program,
 * whose allocator hands back memory it already faulted in, where the replay alone starts from
 * a fresh heap and pays a page fault per 4 KB it allocates. SYMREPLAY_SLOWEST=1 times every
 * lookup (a clock read each, which the total then includes) and prints those over 0.2 ms with
 * the outermost frame and what each did (units indexed and walked, whole line programs run,
 * drops of the debug pages, deep walks), and how much of the lookups' time they took.
 * SYMREPLAY_THREADS=1 or 2 resolves the addresses in increasing order, as the preload does,
 * and with 2 hands the misses to the symbol cache's helper thread as the preload does
 * (symcache_prepare; the CPU time printed is then the calling thread's alone): the printed
 * frames of the two must be the same. Never spawns a process; meant for benches only. */
#include "symbolize/symcache.h"

#include "core/array.h"
#include "core/sort.h"

#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct exe {
    uintptr_t base;
    const ElfW(Phdr) * phdr;
    int nphdr;
};

static int first_object(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct exe *e = ctx;
    e->base = info->dlpi_addr;
    e->phdr = info->dlpi_phdr;
    e->nphdr = info->dlpi_phnum;
    return 1; /* the executable comes first */
}

/* The address where file offset off of the executable is mapped, or 0. */
static uint64_t offset_to_addr(const struct exe *e, uint64_t off)
{
    for (int i = 0; i < e->nphdr; i++) {
        const ElfW(Phdr) *ph = &e->phdr[i];
        if (ph->p_type == PT_LOAD && off >= ph->p_offset && off < ph->p_offset + ph->p_filesz)
            return e->base + off - ph->p_offset + ph->p_vaddr;
    }
    return 0;
}

static struct symbolizer *open_sym(void *ctx, char *err, size_t errlen)
{
    return symbolizer_open_self(ctx, err, errlen);
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* User and system CPU time of the thread so far, and its minor and major page faults. */
struct usage {
    double user_ms, sys_ms;
    long minflt, majflt;
};

static struct usage thread_usage(void)
{
    struct rusage ru;
    struct usage u = {0};
    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        u.user_ms = (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3;
        u.sys_ms = (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
        u.minflt = ru.ru_minflt;
        u.majflt = ru.ru_majflt;
    }
    return u;
}

/* The work measured: open the cache, resolve every address, save, free. */
__attribute__((noinline)) void symreplay_run(const uint64_t *addrs, const uint64_t *offs, size_t n,
                                             const char *cache, int print, unsigned threads);
__attribute__((noinline)) void symreplay_run(const uint64_t *addrs, const uint64_t *offs, size_t n,
                                             const char *cache, int print, unsigned threads)
{
    double t0 = cpu_ms();
    struct usage u0 = thread_usage();
    int none = strcmp(cache, "none") == 0;
    struct sym_options so = {NULL, none ? NULL : cache, none, NULL, 0, 0, 0};
    struct symcache_options co = {cache, NULL, "replay", 0, open_sym, &so, threads, 2};
    struct symcache *c = symcache_new(&co);
    if (!c)
        return;
    if (threads == 2)
        symcache_prepare(c, addrs, n);
    size_t frames = 0;
    /* SYMREPLAY_SLOWEST=1: every lookup timed, the slow ones printed */
    const char *sl = getenv("SYMREPLAY_SLOWEST");
    double *took = sl && *sl == '1' ? calloc(n, sizeof *took) : NULL;
    for (size_t k = 0; k < n; k++) {
        struct sym_frame f[SYM_MAX_FRAMES];
        struct symbolizer_stats b = {0}, a = {0};
        if (took && symcache_symbolizer(c))
            symbolizer_stats(symcache_symbolizer(c), &b);
        double l0 = took ? cpu_ms() : 0;
        size_t nf = symcache_resolve(c, addrs[k], f, SYM_MAX_FRAMES);
        if (took) {
            took[k] = cpu_ms() - l0;
            if (symcache_symbolizer(c))
                symbolizer_stats(symcache_symbolizer(c), &a);
            /* and what it did: units indexed (walked), line passes, drops, deep walks */
            if (took[k] > 0.2 && nf > 0)
                fprintf(stderr,
                        "symreplay: slow %.3f ms at %#" PRIx64 " %s (%zu frames; units %zu, "
                        "walked %zu, line passes %zu, drops %zu, deep %zu)\n",
                        took[k], offs[k], f[nf - 1].name, nf, a.cus_indexed - b.cus_indexed,
                        (a.cus_indexed - a.cus_from_store) - (b.cus_indexed - b.cus_from_store),
                        a.line_passes - b.line_passes, a.debug_drops - b.debug_drops,
                        a.deep_walks - b.deep_walks);
        }
        frames += nf;
        for (size_t j = 0; print && j < nf; j++)
            printf("%" PRIx64 "\t%s\t%s\t%ld\t%d\n", offs[k], f[j].name,
                   f[j].source_file ? f[j].source_file : "??", f[j].line, f[j].inlined);
    }
    if (took) {
        double sum = 0, over = 0;
        for (size_t k = 0; k < n; k++) {
            sum += took[k];
            over += took[k] > 0.2 ? took[k] : 0;
        }
        fprintf(stderr, "symreplay: lookups %.2f ms, %.2f ms of it in lookups over 0.2 ms\n", sum,
                over);
        free(took);
    }
    symcache_save(c);
    struct symbolizer_stats ss;
    symcache_symbolizer_stats(c, &ss);
    struct symcache_stats st = symcache_stats(c);
    symcache_free(c);
    fprintf(stderr,
            "symreplay: %zu addresses, %zu frames, hits %" PRIu64 ", misses %" PRIu64
            " (helper %" PRIu64 ", %.2f ms CPU), cus %zu (from cache %zu, walked deep %zu), frames"
            " from cache %zu, line passes %zu, %.2f ms CPU\n",
            n, frames, st.hits, st.misses, st.helper_misses, st.helper_cpu_ms, ss.cus_indexed,
            ss.cus_from_store, ss.deep_walks, ss.frames_from_store, ss.line_passes, cpu_ms() - t0);
    struct usage u1 = thread_usage();
    fprintf(stderr, "symreplay: user %.1f ms, sys %.1f ms, minflt %ld, majflt %ld\n",
            u1.user_ms - u0.user_ms, u1.sys_ms - u0.sys_ms, u1.minflt - u0.minflt,
            u1.majflt - u0.majflt);
}

__attribute__((constructor)) static void symreplay_main(void)
{
    const char *list = getenv("SYMREPLAY_OFFSETS");
    const char *cache = getenv("SYMREPLAY_CACHE");
    const char *print = getenv("SYMREPLAY_PRINT");
    const char *want = getenv("SYMREPLAY_EXE");
    char exe[PATH_MAX], real[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (!list || !want || len <= 0 || !realpath(want, real))
        return;
    exe[len] = '\0';
    if (strcmp(exe, real) != 0)
        return;
    struct exe e = {0};
    dl_iterate_phdr(first_object, &e);
    FILE *in = fopen(list, "r");
    if (!in) {
        fprintf(stderr, "symreplay: cannot read %s\n", list);
        _exit(1);
    }
    uint64_t *addrs = NULL, *offs = NULL;
    size_t n = 0, cap = 0, no = 0, ocap = 0;
    char line[128];
    while (fgets(line, sizeof line, in)) {
        uint64_t off = strtoull(line, NULL, 16);
        uint64_t a = offset_to_addr(&e, off);
        if (!a)
            continue;
        if (ARRAY_GROW(addrs, n, cap) != 0 || ARRAY_GROW(offs, no, ocap) != 0)
            break;
        addrs[n++] = a;
        offs[no++] = off;
    }
    fclose(in);
    const char *heap = getenv("SYMREPLAY_HEAP_MB");
    size_t blocks = heap ? (size_t)strtoul(heap, NULL, 10) * 1024 : 0; /* of 1 KB */
    void **held = blocks ? calloc(blocks, sizeof *held) : NULL;
    for (size_t i = 0; held && i < blocks; i++)
        if ((held[i] = malloc(1000)))
            memset(held[i], 1, 1000);
    for (size_t i = 0; held && i + 1 < blocks; i++)
        free(held[i]);
    const char *th = getenv("SYMREPLAY_THREADS");
    unsigned threads = th ? (unsigned)strtoul(th, NULL, 10) : 0;
    n = n < no ? n : no;
    struct {
        uint64_t addr, off;
    } *pairs = threads ? malloc((n ? n : 1) * sizeof *pairs) : NULL;
    if (pairs) { /* increasing, as the preload resolves them */
        for (size_t i = 0; i < n; i++) {
            pairs[i].addr = addrs[i];
            pairs[i].off = offs[i];
        }
        if (sort_by_u64_key(pairs, n, sizeof *pairs) == 0)
            for (size_t i = 0; i < n; i++) {
                addrs[i] = pairs[i].addr;
                offs[i] = pairs[i].off;
            }
        free(pairs);
    }
    symreplay_run(addrs, offs, n, cache ? cache : "none", print && *print == '1', threads);
    free(addrs);
    free(offs);
    fflush(stdout);
    _exit(0);
}
