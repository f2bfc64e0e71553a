/* SPDX-License-Identifier: MIT */
/* check_xml.c — escaped XML text: the five special characters, control characters, the
 * character limit (never cutting a character), newlines kept or replaced, what is not UTF-8
 * and the non-characters U+FFFE/U+FFFF replaced, and the result parsed back by real XML
 * parsers (Python's, and xmllint on random bytes). */
#include "testutil.h"

#include "analysis/render/xml.h"

#include <stdlib.h>
#include <string.h>

static char *render(const char *s, size_t max, bool keep_newlines)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert(f);
    xml_text(f, s, max, keep_newlines);
    fclose(f);
    return buf;
}

START_TEST(test_escapes)
{
    char *t = render("a<b>&\"c'\x01\td\ne", SIZE_MAX, true);
    ck_assert_str_eq(t, "a&lt;b&gt;&amp;&quot;c&apos;?\td\ne");
    free(t);
    t = render("x\ny", SIZE_MAX, false);
    ck_assert_str_eq(t, "x?y");
    free(t);
    t = render("std::vector<int>", 11, false);
    ck_assert_str_eq(t, "std::vector");
    free(t);
    t = render(NULL, SIZE_MAX, true);
    ck_assert_str_eq(t, "");
    free(t);
}
END_TEST

/* Whatever the bytes (all of 1..255), an XML parser reads the text back: every printable
 * character as it was, each control character (but tab and newline) as '?'. */
START_TEST(test_parses_back)
{
    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)(i < 128 ? i : 'z');
    all[255] = '\0';
    char *t = render(all, SIZE_MAX, true);
    char doc[4096];
    snprintf(doc, sizeof doc, "<r a=\"%s\">%s</r>", t, t);
    free(t);
    tu_write_file(tu_in_tmp("x.xml"), doc);
    char cmd[8192];
    snprintf(
        cmd, sizeof cmd,
        "python3 -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot();"
        " print(ascii(r.text))\" '%s'",
        tu_in_tmp("x.xml"));
    char *out = tu_shell(cmd);
    char want[1024] = "'";
    for (int i = 1; i < 128; i++) {
        char c = (char)(i < 0x20 && i != '\t' && i != '\n' ? '?' : i);
        char one[8];
        if (c == '\t')
            strcpy(one, "\\t");
        else if (c == '\n')
            strcpy(one, "\\n");
        else if (c == '\\')
            strcpy(one, "\\\\");
        else if (c == '\'')
            strcpy(one, "\\'");
        else if (c == 0x7f)
            strcpy(one, "\\x7f");
        else
            snprintf(one, sizeof one, "%c", c);
        strcat(want, one);
    }
    for (int i = 128; i < 256; i++)
        strcat(want, "z");
    strcat(want, "'\n");
    ck_assert_msg(out && strcmp(out, want) == 0, "got %s want %s", out ? out : "(null)", want);
    free(out);
}
END_TEST

/* The limit counts characters: a cut never splits é, Cyrillic, CJK or an emoji. */
START_TEST(test_cut_by_characters)
{
    const struct {
        const char *s;
        size_t max;
        const char *want;
    } cases[] = {
        {"Caf\xc3\xa9 au lait", 4, "Caf\xc3\xa9"},
        {"\xc3\xa9\xc3\xa9\xc3\xa9", 1, "\xc3\xa9"},
        {"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 3, "\xd0\x9f\xd1\x80\xd0\xb8"},
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 2, "\xe6\x97\xa5\xe6\x9c\xac"},
        {"a\xf0\x9f\x98\x80"
         "b",
         2, "a\xf0\x9f\x98\x80"},
        {"<\xc3\xa9>", 2, "&lt;\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *t = render(cases[i].s, cases[i].max, false);
        ck_assert_msg(strcmp(t, cases[i].want) == 0, "case %zu: '%s'", i, t);
        free(t);
    }
}
END_TEST

/* Bytes that are not UTF-8 become U+FFFD, one per byte that starts no character; so do the
 * non-characters U+FFFE and U+FFFF; valid characters around them are kept. */
START_TEST(test_invalid_replaced)
{
#define R "\xef\xbf\xbd"
    const struct {
        const char *s, *want;
    } cases[] = {
        {"a\xff"
         "b",
         "a" R "b"},
        {"trunc\xc3", "trunc" R},
        {"\xc3(", R "("},
        {"cesu\xed\xa0\x80", "cesu" R R R},
        {"over\xc0\xaf", "over" R R},
        {"x\xef\xbf\xbey\xef\xbf\xbfz", "x" R "y" R "z"},
        {"\xef\xbf\xbd", R},
        {"ok\xe2\x82\xac", "ok\xe2\x82\xac"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *t = render(cases[i].s, SIZE_MAX, false);
        ck_assert_msg(strcmp(t, cases[i].want) == 0, "case %zu: '%s'", i, t);
        free(t);
    }
#undef R
}
END_TEST

/* 400 strings of random bytes (1..255, fixed seed), each cut at a random number of
 * characters, as attribute values and text of one document: xmllint reads it without a word. */
START_TEST(test_random_bytes_are_well_formed)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    ck_assert(f);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r>\n", f);
    unsigned seed = 17;
    for (int i = 0; i < 400; i++) {
        char s[80];
        size_t n = (size_t)(rand_r(&seed) % 79);
        for (size_t k = 0; k < n; k++)
            s[k] = (char)(1 + rand_r(&seed) % 255);
        s[n] = '\0';
        size_t max = (size_t)(rand_r(&seed) % 90);
        fputs("<e a=\"", f);
        xml_text(f, s, max, false);
        fputs("\">", f);
        xml_text(f, s, max, true);
        fputs("</e>\n", f);
    }
    fputs("</r>\n", f);
    fclose(f);
    const char *path = tu_in_tmp("random.xml");
    FILE *out = fopen(path, "wb");
    ck_assert(out && fwrite(doc, 1, len, out) == len && fclose(out) == 0);
    free(doc);
    tu_assert_xml(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xml");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_parses_back);
    tcase_add_test(tc, test_cut_by_characters);
    tcase_add_test(tc, test_invalid_replaced);
    tcase_add_test(tc, test_random_bytes_are_well_formed);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
