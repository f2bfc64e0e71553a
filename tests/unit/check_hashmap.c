/* SPDX-License-Identifier: MIT */
/* check_hashmap.c — the interning map: every key of every length found again with its value,
 * keys that differ in one byte (the tail past the last whole word of the hash included) kept
 * apart, however the hash happens to spread them; short keys, kept in the slot zero padded,
 * told apart from their zero-extended selves by their length. */
#include "testutil.h"

#include "core/hashmap.h"

#include <stdlib.h>
#include <string.h>

/* Key number k: its length is k % 41 (0 to 40 bytes, every tail length after 0 to 5 whole
 * words), its bytes all the same except one that encodes k, at a position that moves. */
static size_t make_key(unsigned k, unsigned char *buf)
{
    size_t len = k % 41;
    memset(buf, 'a', len);
    if (len) {
        buf[(k / 41) % len] = (unsigned char)(k / 41);
        if (len > 1)
            buf[len - 1] = (unsigned char)(k / (41 * 256) + 1);
    }
    return len;
}

START_TEST(test_keys_of_every_length_are_kept_apart)
{
    struct hmap m;
    hmap_init(&m);
    enum { N = 41 * 300 };
    unsigned char buf[64];
    uint32_t *first = malloc(N * sizeof *first);
    uint32_t next = 0;
    for (unsigned k = 0; k < N; k++) {
        size_t len = make_key(k, buf);
        uint32_t v;
        int r = hmap_intern(&m, buf, len, next, &v);
        ck_assert_int_ge(r, 0);
        if (r == 1)
            next++;
        first[k] = v;
    }
    /* distinct keys got distinct values: count the distinct keys independently */
    size_t distinct = 0;
    for (unsigned k = 0; k < N; k++) {
        unsigned char a[64];
        size_t la = make_key(k, a);
        bool seen = false;
        for (unsigned j = k % 41; j < k && !seen; j += 41) {
            unsigned char b[64];
            size_t lb = make_key(j, b);
            seen = la == lb && memcmp(a, b, la) == 0;
        }
        distinct += !seen;
    }
    ck_assert_uint_eq(next, distinct);
    ck_assert_uint_gt(distinct, N / 2);
    /* and every key is found again with its value */
    for (unsigned k = 0; k < N; k++) {
        size_t len = make_key(k, buf);
        uint32_t v = UINT32_MAX;
        ck_assert_int_eq(hmap_get(&m, buf, len, &v), 1);
        ck_assert_uint_eq(v, first[k]);
    }
    buf[0] = 'z';
    uint32_t v;
    ck_assert_int_eq(hmap_get(&m, buf, 7, &v), 0);
    free(first);
    hmap_free(&m);
}
END_TEST

/* Keys of up to 8 bytes live in the slot, padded with zeros: "x" and "x\0" must stay two keys,
 * as must the empty key and "\0". */
START_TEST(test_short_keys_differing_only_in_trailing_zeros_are_kept_apart)
{
    struct hmap m;
    hmap_init(&m);
    const unsigned char zeros[16] = {0}, xs[16] = {'x'};
    for (uint32_t n = 0; n <= 12; n++) {
        uint32_t v;
        ck_assert_int_eq(hmap_intern(&m, zeros, n, 2 * n, &v), 1);
        ck_assert_int_eq(hmap_intern(&m, xs, n + 1, 2 * n + 1, &v), 1);
    }
    for (uint32_t n = 0; n <= 12; n++) {
        uint32_t v = UINT32_MAX;
        ck_assert_int_eq(hmap_get(&m, zeros, n, &v), 1);
        ck_assert_uint_eq(v, 2 * n);
        ck_assert_int_eq(hmap_get(&m, xs, n + 1, &v), 1);
        ck_assert_uint_eq(v, 2 * n + 1);
    }
    ck_assert_uint_eq(m.len, 26);
    hmap_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hashmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_keys_of_every_length_are_kept_apart);
    tcase_add_test(tc, test_short_keys_differing_only_in_trailing_zeros_are_kept_apart);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
