/* SPDX-License-Identifier: MIT */
/* symbolize_bench.c — resolves a list of file offsets of one shared object the way the preload
 * does at exit (symcache in front of the libdw symbolizer), for scripts/bench-symbolize.sh.
 *
 *   symbolize_bench [--cache DIR|none] [--print] MODULE OFFSETS   resolve; time on stderr
 *   symbolize_bench --vaddrs MODULE OFFSETS                       print the addresses other
 *                                                                 symbolizers take (ELF vaddrs)
 * OFFSETS holds one hexadecimal file offset a line (the lookup addresses a profile sampled, as
 * the symbol cache files store them). MODULE is dlopen'ed into this process first. */
#include "core/array.h"
#include "symbolize/symcache.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct target {
    char real[PATH_MAX];
    uintptr_t base;
    ElfW(Phdr) phdr[64];
    int nphdr;
};

static int find_target(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct target *t = ctx;
    char real[PATH_MAX];
    if (!info->dlpi_name[0] || !realpath(info->dlpi_name, real) || strcmp(real, t->real) != 0)
        return 0;
    t->base = info->dlpi_addr;
    t->nphdr = info->dlpi_phnum < 64 ? info->dlpi_phnum : 64;
    memcpy(t->phdr, info->dlpi_phdr, (size_t)t->nphdr * sizeof *t->phdr);
    return 1;
}

/* The link-time address of a file offset, or 0 when no loaded segment holds it. */
static uint64_t offset_to_vaddr(const struct target *t, uint64_t off)
{
    for (int i = 0; i < t->nphdr; i++) {
        const ElfW(Phdr) *ph = &t->phdr[i];
        if (ph->p_type == PT_LOAD && off >= ph->p_offset && off < ph->p_offset + ph->p_filesz)
            return off - ph->p_offset + ph->p_vaddr;
    }
    return 0;
}

static struct symbolizer *open_sym(void *ctx, char *err, size_t errlen)
{
    return symbolizer_open_self(ctx, err, errlen);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int usage(void)
{
    fprintf(stderr, "usage: symbolize_bench [--cache DIR|none] [--print] [--vaddrs] MODULE "
                    "OFFSETS\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *cache = "none";
    int print = 0, vaddrs = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc)
            cache = argv[++i];
        else if (strcmp(argv[i], "--print") == 0)
            print = 1;
        else if (strcmp(argv[i], "--vaddrs") == 0)
            vaddrs = 1;
        else
            return usage();
    }
    if (argc - i != 2)
        return usage();
    struct target t = {0};
    if (!realpath(argv[i], t.real) || !dlopen(t.real, RTLD_LAZY | RTLD_LOCAL)) {
        fprintf(stderr, "symbolize_bench: cannot load %s: %s\n", argv[i], dlerror());
        return 1;
    }
    dl_iterate_phdr(find_target, &t);
    FILE *in = fopen(argv[i + 1], "r");
    if (!in || !t.nphdr) {
        fprintf(stderr, "symbolize_bench: cannot read %s\n", argv[i + 1]);
        return 1;
    }
    uint64_t *addrs = NULL;
    size_t n = 0, cap = 0;
    char line[128];
    while (fgets(line, sizeof line, in)) {
        uint64_t v = offset_to_vaddr(&t, strtoull(line, NULL, 16));
        if (!v)
            continue;
        if (ARRAY_GROW(addrs, n, cap) < 0)
            return 1;
        addrs[n++] = v;
    }
    fclose(in);
    if (vaddrs) {
        for (size_t k = 0; k < n; k++)
            printf("0x%" PRIx64 "\n", addrs[k]);
        return 0;
    }

    double t0 = now_ms();
    int none = strcmp(cache, "none") == 0;
    struct sym_options so = {NULL, none ? NULL : cache, none, NULL, 0, 0, 0};
    struct symcache_options co = {cache, NULL, "bench", 0, open_sym, &so, 0, 0};
    struct symcache *c = symcache_new(&co);
    if (!c)
        return 1;
    size_t frames = 0;
    for (size_t k = 0; k < n; k++) {
        struct sym_frame f[SYM_MAX_FRAMES];
        size_t nf = symcache_resolve(c, t.base + addrs[k], f, SYM_MAX_FRAMES);
        frames += nf;
        for (size_t j = 0; print && j < nf; j++)
            printf("0x%" PRIx64 "\t%s\t%s\t%ld\t%d\n", addrs[k], f[j].name,
                   f[j].source_file ? f[j].source_file : "??", f[j].line, f[j].inlined);
    }
    symcache_save(c);
    struct symcache_stats st = symcache_stats(c);
    if (symcache_error(c))
        fprintf(stderr, "symbolize_bench: %s\n", symcache_error(c));
    symcache_free(c);
    fprintf(stderr,
            "symbolize_bench: %zu addresses, %zu frames in %.1f ms (cache hits %" PRIu64
            ", misses %" PRIu64 ")\n",
            n, frames, now_ms() - t0, st.hits, st.misses);
    free(addrs);
    return 0;
}
