/* check_xml.c — escaped XML text: the five special characters, control characters, the byte
 * limit, newlines kept or replaced, and the result parsed back by a real XML parser. */
#include "testutil.h"

#include "profreg/xml.h"

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

int main(void)
{
    Suite *s = suite_create("xml");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_parses_back);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
