/* SPDX-License-Identifier: MIT */
/* alloc_shares.c — allocations with known truth, for the memory layer's tests.
 *
 *   alloc_shares shares MIB   four threads; alloc_60, alloc_30 and alloc_10 allocate 60:30:10 %
 *                             of about MIB MiB in mixed sizes (8 B to 1 MiB) and free it all
 *   alloc_shares leak MIB [LEAK]   hold_peak holds 2 x MIB MiB at once and frees it; then
 *                             leak_known allocates LEAK MiB (default MIB) it never frees,
 *                             while churn allocates and frees MIB MiB
 *
 * Each function's real bytes and allocations are printed ("NAME BYTES COUNT"), so that a test
 * compares the profile with what happened, not with constants. */

// clang-format off

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOIPA __attribute__((noipa))
#define RING 32
#define MIB (1024.0 * 1024.0)

struct truth { _Atomic uint64_t bytes, count; };
static struct truth t60, t30, t10, tleak, tpeak, tchurn;
volatile uint64_t sink;

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

/* 8 B to 1 MiB: a power of two from 2^3 to 2^19 (each equally likely), plus up to as much. */
static size_t mixed_size(uint64_t *rng)
{
    unsigned e = 3 + (unsigned)(next(rng) % 17);
    size_t n = ((size_t)1 << e) + (size_t)(next(rng) % ((size_t)1 << e));
    return n > (1u << 20) ? (1u << 20) : n;
}

static void *take(size_t n, struct truth *t)
{
    char *p = malloc(n);
    if (!p) { perror("malloc"); exit(1); }
    p[0] = (char)n;
    atomic_fetch_add(&t->bytes, n);
    atomic_fetch_add(&t->count, 1);
    return p;
}

/* Allocates at least budget bytes, RING blocks live at a time, and frees them all. */
static void churn_budget(uint64_t budget, uint64_t *rng, struct truth *t)
{
    char *ring[RING] = {0};
    uint64_t done = 0;
    for (unsigned i = 0; done < budget; i++) {
        size_t n = mixed_size(rng);
        char **slot = &ring[i % RING];
        if (*slot) { sink += (unsigned char)(*slot)[0]; free(*slot); }
        *slot = take(n, t);
        done += n;
    }
    for (int i = 0; i < RING; i++)
        if (ring[i]) { sink += (unsigned char)ring[i][0]; free(ring[i]); }
}

/* (sink++ after the call: no tail call, so that each function keeps its frame) */
NOIPA void alloc_60(uint64_t budget, uint64_t *rng) { churn_budget(budget * 6, rng, &t60); sink++; }
NOIPA void alloc_30(uint64_t budget, uint64_t *rng) { churn_budget(budget * 3, rng, &t30); sink++; }
NOIPA void alloc_10(uint64_t budget, uint64_t *rng) { churn_budget(budget * 1, rng, &t10); sink++; }

static uint64_t g_per_thread;

static void *worker(void *arg)
{
    uint64_t rng = 0x9E3779B97F4A7C15ULL * ((uintptr_t)arg + 1);
    const uint64_t round = 1600 * 1024; /* a tenth of a 16 MiB round */
    for (uint64_t done = 0; done < g_per_thread; done += 10 * round) {
        alloc_60(round, &rng);
        alloc_30(round, &rng);
        alloc_10(round, &rng);
    }
    return NULL;
}

NOIPA void hold_peak(uint64_t bytes, uint64_t *rng)
{
    size_t cap = 1024, n = 0;
    char **held = malloc(cap * sizeof *held);
    for (uint64_t done = 0; done < bytes;) {
        if (n == cap)
            held = realloc(held, (cap *= 2) * sizeof *held);
        size_t s = mixed_size(rng);
        held[n++] = take(s, &tpeak);
        done += s;
    }
    for (size_t i = 0; i < n; i++) { sink += (unsigned char)held[i][0]; free(held[i]); }
    free(held);
}

static char **g_leaked;
static size_t g_nleaked;

NOIPA void leak_known(uint64_t bytes, uint64_t *rng)
{
    size_t cap = 1024;
    g_leaked = malloc(cap * sizeof *g_leaked);
    for (uint64_t done = 0; done < bytes;) {
        if (g_nleaked == cap)
            g_leaked = realloc(g_leaked, (cap *= 2) * sizeof *g_leaked);
        size_t s = mixed_size(rng);
        g_leaked[g_nleaked++] = take(s, &tleak);
        done += s;
    }
}

NOIPA void churn(uint64_t bytes, uint64_t *rng) { churn_budget(bytes, rng, &tchurn); sink++; }

static void print(const char *name, struct truth *t)
{
    printf("%s %llu %llu\n", name, (unsigned long long)atomic_load(&t->bytes),
           (unsigned long long)atomic_load(&t->count));
}

int main(int argc, char **argv)
{
    /* stdout's buffer static, not malloc'd on the first printf: then the sampled allocations
     * are the workers' alone (a 4 KB buffer, live at exit, is sampled once in 128 runs) */
    static char outbuf[BUFSIZ];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    const char *mode = argc > 1 ? argv[1] : "shares";
    double mib = argc > 2 ? atof(argv[2]) : 1024;
    if (strcmp(mode, "shares") == 0) {
        g_per_thread = (uint64_t)(mib * MIB / 4);
        pthread_t t[4];
        for (uintptr_t i = 0; i < 4; i++)
            if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
                return 1;
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        print("alloc_60", &t60);
        print("alloc_30", &t30);
        print("alloc_10", &t10);
    } else if (strcmp(mode, "leak") == 0) {
        uint64_t rng = 42, bytes = (uint64_t)(mib * MIB);
        uint64_t leak = argc > 3 ? (uint64_t)(atof(argv[3]) * MIB) : bytes;
        hold_peak(2 * bytes, &rng);
        leak_known(leak, &rng);
        churn(bytes, &rng);
        print("hold_peak", &tpeak);
        print("leak_known", &tleak);
        print("churn", &tchurn);
    } else {
        fprintf(stderr, "usage: alloc_shares shares|leak MIB\n");
        return 2;
    }
    return 0;
}
