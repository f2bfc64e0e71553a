/* SPDX-License-Identifier: MIT */
/* sort.c — least significant digit first radix sort of records by a leading 64-bit key. */
#include "core/sort.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { BITS = 11, BUCKETS = 1 << BITS, PASSES = (64 + BITS - 1) / BITS };

static uint64_t key_at(const unsigned char *p)
{
    uint64_t k;
    memcpy(&k, p, sizeof k);
    return k;
}

/* Moves the n records of src to dst by the digit at shift, count giving each digit's next
 * place. Inlined per record size. */
static inline __attribute__((always_inline)) void scatter(unsigned char *dst,
                                                          const unsigned char *src, size_t n,
                                                          size_t elem, unsigned shift,
                                                          size_t *count)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *r = src + i * elem;
        memcpy(dst + count[(key_at(r) >> shift) & (BUCKETS - 1)]++ * elem, r, elem);
    }
}

int sort_by_u64_key(void *base, size_t n, size_t elem)
{
    if (n < 2)
        return 0;
    unsigned char *tmp = malloc(n * elem);
    size_t *count = malloc(BUCKETS * sizeof *count);
    if (!tmp || !count) {
        free(tmp);
        free(count);
        return -1;
    }
    unsigned char *src = base, *dst = tmp;
    for (unsigned pass = 0; pass < PASSES; pass++) {
        unsigned shift = pass * BITS;
        memset(count, 0, BUCKETS * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(key_at(src + i * elem) >> shift) & (BUCKETS - 1)]++;
        if (count[(key_at(src) >> shift) & (BUCKETS - 1)] == n)
            continue; /* one digit for all */
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        /* the callers' records (.debug_aranges entries, unit ranges: 24 bytes) copied with a
         * size known here (a memcpy call per record was a third of the sort) */
        if (elem == 24)
            scatter(dst, src, n, 24, shift, count);
        else
            scatter(dst, src, n, elem, shift, count);
        unsigned char *t = src;
        src = dst;
        dst = t;
    }
    if (src != base)
        memcpy(base, src, n * elem);
    free(tmp);
    free(count);
    return 0;
}

int u64_key_cmp(const void *a, const void *b)
{
    uint64_t x, y;
    memcpy(&x, a, sizeof x);
    memcpy(&y, b, sizeof y);
    return x < y ? -1 : x > y;
}
