/* SPDX-License-Identifier: MIT */
/* check_sort.c — the radix sort by a leading 64-bit key: the order qsort gives when ties are
 * broken by the original position (what glibc's merge sort keeps), for keys spread over every
 * digit, keys differing only in their top bits, and many ties. */
#include "testutil.h"

#include "core/sort.h"

#include <stdint.h>
#include <stdlib.h>

struct rec {
    uint64_t key;
    uint64_t pos;
    uint64_t pad;
};

static int by_key_then_pos(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
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
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    const size_t sizes[] = {0, 1, 2, 3, 100, 5000, 70000};
    for (int kind = 0; kind < 4; kind++) {
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            size_t n = sizes[si];
            struct rec *a = malloc((n ? n : 1) * sizeof *a);
            struct rec *want = malloc((n ? n : 1) * sizeof *want);
            for (size_t i = 0; i < n; i++) {
                uint64_t r = rnd(&seed);
                uint64_t key = kind == 0   ? r                          /* every digit */
                               : kind == 1 ? (r % 7) << 60              /* top bits only */
                               : kind == 2 ? r % 13                     /* many ties */
                                           : 0x7f0000000000ULL + i * 16; /* already sorted */
                a[i] = (struct rec){key, i, ~i};
            }
            if (n)
                memcpy(want, a, n * sizeof *a);
            if (n > 1)
                qsort(want, n, sizeof *want, by_key_then_pos);
            ck_assert_int_eq(sort_by_u64_key(a, n, sizeof *a), 0);
            for (size_t i = 0; i < n; i++) {
                ck_assert_msg(a[i].key == want[i].key && a[i].pos == want[i].pos &&
                                  a[i].pad == want[i].pad,
                              "kind %d, n %zu: record %zu differs", kind, n, i);
            }
            free(a);
            free(want);
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
