/* SPDX-License-Identifier: MIT */
/* check_utf8.c — the UTF-8 decoder against every kind of invalid sequence (stray continuation
 * bytes, truncated, overlong, surrogates, past U+10FFFF), cutting between characters, and
 * counting characters as xml_text writes them. */
#include "testutil.h"

#include "core/utf8.h"

#include <stdint.h>
#include <string.h>

START_TEST(test_decode_valid)
{
    const struct {
        const char *s;
        size_t len;
        uint32_t cp;
    } ok[] = {
        {"A", 1, 0x41},
        {"\xc3\xa9", 2, 0xE9},
        {"\xd0\x9f", 2, 0x41F},
        {"\xe6\x97\xa5", 3, 0x65E5},
        {"\xef\xbf\xbf", 3, 0xFFFF},
        {"\xf0\x9f\x98\x80", 4, 0x1F600},
        {"\xf4\x8f\xbf\xbf", 4, 0x10FFFF},
        {"\x7f", 1, 0x7F},
        {"\xc2\x80", 2, 0x80},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint32_t cp = 0;
        ck_assert_uint_eq(utf8_decode(ok[i].s, SIZE_MAX, &cp), ok[i].len);
        ck_assert_uint_eq(cp, ok[i].cp);
        ck_assert_uint_eq(utf8_decode(ok[i].s, ok[i].len, &cp), ok[i].len);
        if (ok[i].len > 1) /* fewer bytes than it needs */
            ck_assert_uint_eq(utf8_decode(ok[i].s, ok[i].len - 1, &cp), 0);
    }
}
END_TEST

START_TEST(test_decode_invalid)
{
    const char *bad[] = {
        "\x80", /* a continuation byte alone */
        "\xbf",
        "\xc3",     /* truncated at the end */
        "\xc3(",    /* followed by no continuation */
        "\xc0\xaf", /* overlong '/' */
        "\xc1\xbf",
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xf0\x80\x80\xaf", /* overlong, 4 bytes */
        "\xed\xa0\x80",     /* surrogate U+D800 (CESU-8) */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xfe",
        "\xff",
        "\xe6\x97", /* truncated 3-byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint32_t cp;
        ck_assert_msg(utf8_decode(bad[i], SIZE_MAX, &cp) == 0, "case %zu accepted", i);
    }
    uint32_t cp;
    ck_assert_uint_eq(utf8_decode("", 0, &cp), 0);
}
END_TEST

START_TEST(test_cut_and_count)
{
    /* "é" is 2 bytes, "日" 3, "😀" 4 */
    const char *s = "a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80z";
    size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11, 11};
    for (size_t max = 0; max < sizeof want / sizeof *want; max++)
        ck_assert_msg(utf8_cut(s, max) == want[max], "max %zu: %zu", max, utf8_cut(s, max));
    ck_assert_uint_eq(utf8_chars(s), 5);
    ck_assert_uint_eq(utf8_chars(""), 0);
    /* invalid bytes count one each and are never merged with what follows */
    ck_assert_uint_eq(utf8_chars("x\xff\xc3(\xed\xa0\x80"), 7);
    ck_assert_uint_eq(utf8_cut("\xff\xfe", 1), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_decode_valid);
    tcase_add_test(tc, test_decode_invalid);
    tcase_add_test(tc, test_cut_and_count);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
