/* SPDX-License-Identifier: MIT */
/* check_sort.c — the radix sort by a leading 64-bit key: the order qsort gives when ties are
 * broken by the original position (what glibc's merge sort keeps), for records of several
 * sizes and keys spread over every digit, keys differing only in their top bits, and many
 * ties. */
#include "testutil.h"

#include "core/sort.h"

#include <stdint.h>
#include <stdlib.h>

/* A record of some words: its key, its original position, then padding. */
static int by_key_then_pos(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(test_stable_and_sorted)
{
    /* records of 24 bytes (what the symbolizer sorts, copied apart from other sizes), 16 and 40 */
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    const size_t sizes[] = {0, 1, 2, 3, 100, 5000, 70000};
    const size_t words[] = {2, 3, 5};
    for (size_t wi = 0; wi < sizeof words / sizeof *words; wi++) {
        size_t w = words[wi];
        for (int kind = 0; kind < 4; kind++) {
            for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
                size_t n = sizes[si];
                uint64_t *a = malloc((n ? n : 1) * w * sizeof *a);
                uint64_t *want = malloc((n ? n : 1) * w * sizeof *want);
                for (size_t i = 0; i < n; i++) {
                    uint64_t r = rnd(&seed);
                    uint64_t *rec = a + i * w;
                    rec[0] = kind == 0   ? r                           /* every digit */
                             : kind == 1 ? (r % 7) << 60               /* top bits only */
                             : kind == 2 ? r % 13                      /* many ties */
                                         : 0x7f0000000000ULL + i * 16; /* already sorted */
                    rec[1] = i;
                    for (size_t k = 2; k < w; k++)
                        rec[k] = ~i ^ k;
                }
                if (n)
                    memcpy(want, a, n * w * sizeof *a);
                if (n > 1)
                    qsort(want, n, w * sizeof *want, by_key_then_pos);
                ck_assert_int_eq(sort_by_u64_key(a, n, w * sizeof *a), 0);
                ck_assert_msg(n == 0 || memcmp(a, want, n * w * sizeof *a) == 0,
                              "%zu-byte records, kind %d, n %zu: not qsort's order", w * sizeof *a,
                              kind, n);
                free(a);
                free(want);
            }
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sort");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_stable_and_sorted);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
