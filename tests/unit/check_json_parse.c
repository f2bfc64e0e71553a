/* SPDX-License-Identifier: MIT */
/* check_json_parse.c — profreg's JSON parser against jansson, the oracle: the same texts
 * accepted and rejected (hand-picked edge cases, the real fixtures, and tens of thousands of
 * seeded random mutations), the same values when accepted, and numbers bit-identical to
 * strtod. */
#include "testutil.h"

#include "analysis/read/json_parse.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* True when the parsed value v equals jansson's j. */
static bool same(const struct jdoc *d, const struct jv *v, json_t *j)
{
    switch (v->type) {
    case JV_NULL:
        return json_is_null(j);
    case JV_TRUE:
        return json_is_true(j);
    case JV_FALSE:
        return json_is_false(j);
    case JV_INTEGER:
        return json_is_integer(j) && json_integer_value(j) == v->u.i;
    case JV_REAL:
        return json_is_real(j) && json_real_value(j) == v->u.d;
    case JV_STRING:
        return json_is_string(j) && json_string_length(j) == v->size &&
               memcmp(json_string_value(j), v->u.s, v->size) == 0 && v->u.s[v->size] == '\0';
    case JV_ARRAY: {
        if (!json_is_array(j) || json_array_size(j) != v->size)
            return false;
        size_t i = 0;
        for (const struct jv *e = jv_child(d, v); e; e = jv_next(d, e, v), i++)
            if (!same(d, e, json_array_get(j, i)))
                return false;
        return i == v->size;
    }
    case JV_OBJECT: {
        if (!json_is_object(j) || json_object_size(j) != v->size)
            return false;
        size_t n = 0;
        for (const struct jv *k = jv_child(d, v); k; k = jv_next(d, d->v + k->end, v), n++) {
            json_t *m = json_object_get(j, k->u.s);
            if (!m || !same(d, d->v + k->end, m) || jv_get(d, v, k->u.s) != d->v + k->end)
                return false;
        }
        return n == v->size;
    }
    }
    return false;
}

/* Parses text of len bytes with both; fails the test when they disagree. Returns whether
 * it was accepted. */
static bool agree(const char *text, size_t len, const char *what)
{
    json_error_t e;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    char *buf = malloc(len + 1);
    memcpy(buf, text, len);
    buf[len] = '\0';
    struct jdoc d;
    int rc = jdoc_parse(&d, buf, len);
    ck_assert_msg((rc == 0) == (j != NULL), "%s: profreg %s, jansson %s (%s) for: %.*s", what,
                  rc == 0 ? "accepts" : "rejects", j ? "accepts" : "rejects", j ? "" : e.text,
                  (int)(len < 300 ? len : 300), text);
    if (j) {
        ck_assert_msg(same(&d, d.v, j), "%s: values differ for: %.*s", what,
                      (int)(len < 300 ? len : 300), text);
        json_decref(j);
        jdoc_free(&d);
    }
    free(buf);
    return rc == 0;
}

START_TEST(test_edge_cases_agree_with_jansson)
{
    static const char *const cases[] = {
        /* accepted */
        "{}",
        "[]",
        " \t\r\n[ ]\n",
        "[0]",
        "[-0]",
        "[-0.0]",
        "[1e5]",
        "[1E+2]",
        "[1e-2]",
        "[123456789012345678]",
        "[9223372036854775807]",
        "[-9223372036854775808]",
        "[0.1, 0.2, 0.30000000000000004]",
        "[1.7976931348623157e308]",
        "[4.9e-324]",
        "[1e-400]",
        "[12345678901234567890.5]",
        "[0.000000000000000000000000000123456789]",
        "[\"\"]",
        "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"]",
        "[\"\\u00e9\\u20AC\\ud83d\\ude00\"]",
        "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
        "[\"\x7f\"]",
        "{\"a\": {\"b\": [1, {\"c\": null}]}}",
        "[true, false, null]",
        "{\"a\": 1, \"b\": 2}",
        "{\"\": 0}",
        /* rejected */
        "",
        " ",
        "3",
        "\"x\"",
        "null",
        "[",
        "]",
        "{",
        "[1,]",
        "[,1]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a: 1}",
        "{'a': 1}",
        "[01]",
        "[1.]",
        "[.5]",
        "[+1]",
        "[-]",
        "[1e]",
        "[1e+]",
        "[0x10]",
        "[NaN]",
        "[Infinity]",
        "[1e999]",
        "[-1e999]",
        "[9223372036854775808]",
        "[-9223372036854775809]",
        "[\"\\u0000\"]",
        "[\"\\ud83d\"]",
        "[\"\\ude00\"]",
        "[\"\\ud83d\\u0041\"]",
        "[\"\\x41\"]",
        "[\"\\u12G4\"]",
        "[\"a\nb\"]",
        "[\"\x01\"]",
        "[\"\xc0\xaf\"]",
        "[\"\xe0\x80\xaf\"]",
        "[\"\xed\xa0\x80\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"\xff\"]",
        "[\"\xc3\"]",
        "[\"abc]",
        "[tru]",
        "[nul]",
        "[truex]",
        "[] []",
        "[]x",
        "{\"a\": 1, \"a\": 2}",
        "{\"a\": {\"b\": 1, \"b\": 1}}",
        "[1 2]",
        "{\"a\":}",
        "{,}",
        "[\x00]",
    };
    size_t accepted = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        accepted += agree(cases[i], strlen(cases[i]), "edge case");
    ck_assert_uint_ge(accepted, 25); /* both halves of the list were exercised */
    ck_assert(agree("[\"a\0b\"]", 7, "NUL inside a string") == false);
}
END_TEST

/* Duplicate detection beyond the small-object fast path (a hash set past 16 keys). */
START_TEST(test_large_objects_and_depth)
{
    char buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof buf, "{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"k%d\": %d", i ? ", " : "", i, i);
    snprintf(buf + n, sizeof buf - n, "}");
    ck_assert(agree(buf, strlen(buf), "40 keys"));
    snprintf(buf + n, sizeof buf - n, ", \"k3\": 0}");
    ck_assert(!agree(buf, strlen(buf), "40 keys and a late duplicate"));
    snprintf(buf + n, sizeof buf - n, ", \"k39\": 0}");
    ck_assert(!agree(buf, strlen(buf), "duplicate of the last key"));
    /* nesting: jansson's limit is 2048 levels */
    for (int depth = 2047; depth <= 2050; depth++) {
        char *t = malloc((size_t)depth * 2 + 1);
        memset(t, '[', (size_t)depth);
        memset(t + depth, ']', (size_t)depth);
        t[depth * 2] = '\0';
        agree(t, (size_t)depth * 2, "deep nesting");
        free(t);
    }
}
END_TEST

START_TEST(test_fixtures_parse_identically)
{
    const char *names[] = {"msd_sim_bench_top20.json", "msd_sim_bench_project_only.json",
                           "msd_sim_bench_all.json"};
    for (size_t i = 0; i < 3; i++) {
        char *text = tu_read_file(tu_fixture(names[i]));
        ck_assert_ptr_nonnull(text);
        ck_assert(agree(text, strlen(text), names[i]));
        free(text);
    }
}
END_TEST

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random single edits of valid documents: both parsers must accept and reject the same. */
START_TEST(test_random_mutations_agree)
{
    static const char alphabet[] = "{}[]\",:\\ 0123456789eE.-+tfnulr/bu\x01\x7f\xc3\xa9\xff\n";
    char *fixture = tu_read_file(tu_fixture("msd_sim_bench_top20.json"));
    const char *seeds[] = {
        fixture,
        "{\"a\": [1, -2.5e3, 0.001, true, false, null], \"b\\u00e9\": \"x\\ny\\ud83d\\ude00\", "
        "\"c\": {\"d\": [], \"e\": {}}, \"f\": 12345678901234567890, \"g\": \"\xc3\xa9\"}",
    };
    size_t accepted = 0, total = 0;
    for (size_t s = 0; s < 2; s++) {
        size_t len = strlen(seeds[s]);
        char *buf = malloc(len + 2);
        for (int iter = 0; iter < 15000; iter++) {
            memcpy(buf, seeds[s], len + 1);
            size_t blen = len, pos = (size_t)(rng() % len);
            char c = alphabet[rng() % (sizeof alphabet - 1)];
            switch (rng() % 3) {
            case 0: /* replace */
                buf[pos] = c;
                break;
            case 1: /* delete */
                memmove(buf + pos, buf + pos + 1, len - pos);
                blen--;
                break;
            default: /* insert */
                memmove(buf + pos + 1, buf + pos, len - pos + 1);
                buf[pos] = c;
                blen++;
            }
            accepted += agree(buf, blen, "mutation");
            total++;
        }
        free(buf);
    }
    /* a meaningful mix: many mutations stay valid (inside strings), many do not */
    ck_assert_uint_gt(accepted, total / 10);
    ck_assert_uint_lt(accepted, total * 9 / 10);
    free(fixture);
}
END_TEST

/* Reals: every random decimal parses to exactly strtod's double (fast path included). */
START_TEST(test_reals_match_strtod)
{
    char text[96];
    for (int i = 0; i < 200000; i++) {
        uint64_t r = rng();
        int digits = 1 + (int)(r % 20);
        int point = (int)((r >> 8) % (unsigned)(digits + 1));
        int exp = (int)((r >> 16) % 61) - 30;
        char *p = text;
        *p++ = '[';
        if ((r >> 24) & 1)
            *p++ = '-';
        for (int k = 0; k < digits; k++) {
            if (k == point && k > 0)
                *p++ = '.';
            int dgt = (int)(rng() % 10);
            *p++ = (char)('0' + (k == 0 && digits > 1 && point != 1 ? 1 + dgt % 9 : dgt));
        }
        if ((r >> 32) & 1)
            p += sprintf(p, "e%d", exp);
        *p++ = ']';
        *p = '\0';
        size_t len = (size_t)(p - text);
        char copy[96];
        memcpy(copy, text, len + 1);
        struct jdoc d;
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        int rc = jdoc_parse(&d, copy, len);
        ck_assert_msg((rc == 0) == (j != NULL), "%s", text);
        if (rc == 0) {
            const struct jv *v = jv_child(&d, d.v);
            if (v->type == JV_REAL) {
                char num[96];
                memcpy(num, text + 1, len - 2);
                num[len - 2] = '\0';
                ck_assert_msg(v->u.d == strtod(num, NULL), "%s: %.17g vs %.17g", text, v->u.d,
                              strtod(num, NULL));
            }
            ck_assert(same(&d, v, json_array_get(j, 0)));
            jdoc_free(&d);
            json_decref(j);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_parse");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_edge_cases_agree_with_jansson);
    tcase_add_test(tc, test_large_objects_and_depth);
    tcase_add_test(tc, test_fixtures_parse_identically);
    tcase_add_test(tc, test_random_mutations_agree);
    tcase_add_test(tc, test_reals_match_strtod);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
