/* SPDX-License-Identifier: MIT */
/* check_json_write.c — the JSON writer: escaping, number formatting, layout, errors. */
#include "testutil.h"

#include "core/json_write.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Runs fn on a memstream writer (lent buffer lent, of lentlen bytes, when not NULL) and returns
 * the text (malloc'd); *rc gets jw_finish. */
static char *render_lent(void (*fn)(struct jw *), int *rc, char *lent, size_t lentlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct jw w;
    jw_init(&w, f);
    if (lent) {
        jw_lend_buffer(&w, lent, lentlen);
        ck_assert_ptr_eq(w.buf, lent);
    }
    fn(&w);
    *rc = jw_finish(&w);
    fclose(f);
    return buf;
}

static char *render(void (*fn)(struct jw *), int *rc)
{
    return render_lent(fn, rc, NULL, 0);
}

static void doc_layout(struct jw *w)
{
    jw_object_begin(w);
    jw_key(w, "a");
    jw_int(w, -3);
    jw_key(w, "list");
    jw_array_begin_inline(w);
    jw_uint(w, 1);
    jw_uint(w, 2);
    jw_object_begin_inline(w);
    jw_key(w, "k");
    jw_null(w);
    jw_object_end(w);
    jw_array_end(w);
    jw_key(w, "empty");
    jw_array_begin(w);
    jw_array_end(w);
    jw_key(w, "nested");
    jw_object_begin(w);
    jw_key(w, "t");
    jw_bool(w, true);
    jw_object_end(w);
    jw_object_end(w);
}

START_TEST(test_layout_is_stable)
{
    int rc;
    char *s = render(doc_layout, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(s, "{\n  \"a\": -3,\n  \"list\": [1, 2, {\"k\": null}],\n  \"empty\": [],\n"
                        "  \"nested\": {\n    \"t\": true\n  }\n}\n");
    free(s);
}
END_TEST

static void doc_strings(struct jw *w)
{
    jw_array_begin_inline(w);
    jw_string(w, "q\"b\\n\n\t\r\b\f\x01 \x7f");
    jw_string(w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    jw_string(w, "bad \xff \xc3 \xed\xa0\x80 \xc0\xaf end");
    jw_string(w, NULL);
    jw_array_end(w);
}

START_TEST(test_strings_are_escaped_and_valid_utf8)
{
    int rc;
    char *s = render(doc_strings, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(s,
                     "[\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001 \x7f\", "
                     "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", "
                     "\"bad \\ufffd \\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd end\", null]\n");
    /* jansson (strict UTF-8) accepts the result */
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    ck_assert_msg(j != NULL, "%s", e.text);
    json_decref(j);
    free(s);
}
END_TEST

/* A document several times the writer's buffer, with escapes and multi-byte characters at
 * every offset across its boundaries, and integers at their limits: the same text as written
 * by hand, byte for byte. */
static void doc_long(struct jw *w)
{
    jw_array_begin_inline(w);
    for (int i = 0; i < 3 * JW_BUF_BYTES / 7; i++) {
        jw_string(w, i % 3 == 0 ? "a\"\x01" : i % 3 == 1 ? "\xc3\xa9\xff" : "plain");
        jw_int(w, i % 2 ? LLONG_MIN : LLONG_MAX);
    }
    jw_uint(w, ULLONG_MAX);
    jw_int(w, 0);
    /* longer than the buffer in one piece */
    char *big = malloc(3 * JW_BUF_BYTES + 2);
    memset(big, 'x', 3 * JW_BUF_BYTES + 1);
    big[JW_BUF_BYTES] = '\n';
    big[3 * JW_BUF_BYTES + 1] = '\0';
    jw_string(w, big);
    free(big);
    jw_array_end(w);
}

START_TEST(test_long_documents_cross_the_buffer)
{
    int rc;
    char *s = render(doc_long, &rc);
    ck_assert_int_eq(rc, 0);
    char *want = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&want, &len);
    fputc('[', f);
    for (int i = 0; i < 3 * JW_BUF_BYTES / 7; i++)
        fprintf(f, "%s%s, %lld", i ? ", " : "",
                i % 3 == 0 ? "\"a\\\"\\u0001\"" : i % 3 == 1 ? "\"\xc3\xa9\\ufffd\"" : "\"plain\"",
                i % 2 ? LLONG_MIN : LLONG_MAX);
    fprintf(f, ", %llu, 0, \"", ULLONG_MAX);
    for (int i = 0; i < 3 * JW_BUF_BYTES + 1; i++)
        fputs(i == JW_BUF_BYTES ? "\\n" : "x", f);
    fputs("\"]\n", f);
    fclose(f);
    ck_assert_uint_eq(strlen(s), strlen(want));
    ck_assert_str_eq(s, want);
    free(want);
    free(s);
}
END_TEST

/* The same document through a lent buffer (larger than the writer's own, so that it is
 * taken) is the same text: the lent buffer's boundaries fall elsewhere in it. */
START_TEST(test_lent_buffer_gives_the_same_text)
{
    int rc;
    char *plain = render(doc_long, &rc);
    ck_assert_int_eq(rc, 0);
    char lent[JW_BUF_BYTES + 1000];
    char *buf = render_lent(doc_long, &rc, lent, sizeof lent);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(buf, plain);
    free(buf);
    free(plain);
}
END_TEST

START_TEST(test_double_formatting)
{
    char buf[64];
    struct {
        double v;
        int dec;
        const char *want;
    } cases[] = {
        {37.12, 4, "37.12"},    {5013.0, 3, "5013.0"},  {0.0, 2, "0.0"},    {-0.0, 2, "0.0"},
        {1.0 / 3, 4, "0.3333"}, {2.5, 0, "2.5"},        {-1.25, 1, "-1.2"}, {1e6, 2, "1000000.0"},
        {0.00004, 4, "0.0"},    {99.99996, 4, "100.0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jw_format_double(buf, sizeof buf, cases[i].v, cases[i].dec);
        ck_assert_msg(strcmp(buf, cases[i].want) == 0, "%g/%d -> %s, want %s", cases[i].v,
                      cases[i].dec, buf, cases[i].want);
    }
}
END_TEST

/* The digits are what printf("%.*f") gives, trailing zeros trimmed, for values across the
 * writer's own path and past it: random magnitudes, exact ties at every decimal (k / 2^j),
 * values a hair either side of them, and negatives. printf is the oracle. */
static void printf_way(char *buf, size_t len, double v, int dec)
{
    snprintf(buf, len, "%.*f", dec, v);
    char *dot = strchr(buf, '.');
    char *end = buf + strlen(buf) - 1;
    while (dot && end > dot + 1 && *end == '0')
        *end-- = '\0';
    if (strcmp(buf, "-0.0") == 0)
        strcpy(buf, "0.0");
}

START_TEST(test_double_formatting_matches_printf)
{
    char got[400], want[400];
    unsigned seed = 12345;
    size_t checked = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        int dec = 1 + (int)(seed >> 16) % 12;
        seed = seed * 1103515245u + 12345u;
        double v;
        switch (i % 4) {
        case 0: /* any magnitude from 1e-12 to 1e12 */
            v = ldexp((double)(seed >> 8) / (1 << 24) + 0.5, (int)(seed % 81) - 40);
            break;
        case 1: /* an exact tie or short binary fraction: k / 2^j */
            v = ldexp((double)(seed >> 12), -(int)(seed % 24));
            break;
        case 2: /* next to a decimal tie */
            v = nextafter(((double)(seed >> 10) + 0.5) / pow(10, dec), i & 8 ? 0 : 1e30);
            break;
        default: /* percentages and milliseconds as profiles hold them */
            v = (double)(seed >> 4) / (double)(1u << (seed % 28));
        }
        if (i & 16)
            v = -v;
        jw_format_double(got, sizeof got, v, dec);
        printf_way(want, sizeof want, v, dec);
        ck_assert_msg(strcmp(got, want) == 0, "%a at %d decimals: %s, printf %s", v, dec, got,
                      want);
        checked++;
    }
    ck_assert_uint_eq(checked, 200000);
}
END_TEST

static void doc_nonfinite(struct jw *w)
{
    jw_array_begin_inline(w);
    jw_double(w, NAN, 2);
    jw_double(w, INFINITY, 2);
    jw_double(w, 1.5, 2);
    jw_array_end(w);
}

START_TEST(test_nonfinite_becomes_null)
{
    int rc;
    char *s = render(doc_nonfinite, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(s, "[null, null, 1.5]\n");
    free(s);
}
END_TEST

static void doc_unbalanced(struct jw *w)
{
    jw_object_begin(w);
    jw_key(w, "x");
}

static void doc_too_deep(struct jw *w)
{
    for (int i = 0; i < JW_MAX_DEPTH + 2; i++)
        jw_array_begin(w);
}

START_TEST(test_malformed_documents_fail)
{
    int rc;
    free(render(doc_unbalanced, &rc));
    ck_assert_int_eq(rc, -1);
    free(render(doc_too_deep, &rc));
    ck_assert_int_eq(rc, -1);
}
END_TEST

START_TEST(test_write_error_is_reported)
{
    FILE *f = fopen("/dev/full", "w");
    ck_assert_ptr_nonnull(f);
    setvbuf(f, NULL, _IONBF, 0);
    struct jw w;
    jw_init(&w, f);
    jw_string(&w, "no room");
    ck_assert_int_eq(jw_finish(&w), -1);
    fclose(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_write");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_layout_is_stable);
    tcase_add_test(tc, test_strings_are_escaped_and_valid_utf8);
    tcase_add_test(tc, test_long_documents_cross_the_buffer);
    tcase_add_test(tc, test_lent_buffer_gives_the_same_text);
    tcase_add_test(tc, test_double_formatting);
    tcase_add_test(tc, test_double_formatting_matches_printf);
    tcase_add_test(tc, test_nonfinite_becomes_null);
    tcase_add_test(tc, test_malformed_documents_fail);
    tcase_add_test(tc, test_write_error_is_reported);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
