/* SPDX-License-Identifier: MIT */
/* check_render.c — terminal conventions and the report table: colour decision, middle
 * shortening of long names, escaping what a terminal (or Markdown) would act on, table content
 * and hotspot choice. */
#include "testutil.h"

#include "analysis/render/render_compare.h"
#include "analysis/render/render_table.h"
#include "analysis/render/term.h"

#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

START_TEST(test_shorten_middle_keeps_both_ends)
{
    char out[512];
    const char *name = "msd_sim::ConvexHull::computeHull<msd_sim::Coordinate>(std::vector<"
                       "msd_sim::Coordinate> const&)";
    term_shorten_middle(name, 40, out, sizeof out);
    ck_assert_uint_eq(term_text_width(out), 40);
    ck_assert(strncmp(out, "msd_sim::ConvexHull", 19) == 0);
    ck_assert(strstr(out, "...") != NULL);
    ck_assert(strcmp(out + strlen(out) - 8, " const&)") == 0);
    term_shorten_middle("short", 40, out, sizeof out);
    ck_assert_str_eq(out, "short");
    /* UTF-8 is cut between characters, never inside one */
    term_shorten_middle("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 7, out,
                        sizeof out);
    ck_assert_str_eq(out, "\xc3\xa9\xc3\xa9...\xc3\xa9\xc3\xa9");
}
END_TEST

START_TEST(test_shorten_name_keeps_namespace_and_method)
{
    char out[1024];
    /* the qualified name fits: only the parameter list is shortened */
    const char *a = "demo::geometry::ConvexHull::build(std::vector<demo::geometry::Point, "
                    "std::allocator<demo::geometry::Point> > const&) const";
    term_shorten_name(a, 60, out, sizeof out);
    ck_assert_uint_eq(term_text_width(out), 60);
    ck_assert(strncmp(out, "demo::geometry::ConvexHull::build(std::vec", 42) == 0);
    ck_assert_msg(strstr(out, "...") != NULL, "%s", out);
    ck_assert(strcmp(out + strlen(out) - 7, ") const") == 0);
    /* it does not: the start and the method with elided templates and parameters stay */
    const char *b = "std::__1::pair<std::__1::__hash_iterator<std::__1::__hash_node<int, void*>*>, "
                    "bool> std::__1::__hash_table<std::__1::__hash_value_type<int, unsigned "
                    "long>, std::__1::allocator<int>>::__emplace_unique_key_args<int, "
                    "std::__1::tuple<int&&>>(int const&, std::__1::tuple<int&&>&&)";
    term_shorten_name(b, 70, out, sizeof out);
    ck_assert_uint_le(term_text_width(out), 70);
    ck_assert_msg(strncmp(out, "std::__1::pair<", 15) == 0, "%s", out);
    ck_assert_msg(strstr(out, "...__emplace_unique_key_args<...>(...)") != NULL, "%s", out);
    /* plain C names and short names are left alone; names without parameters fall back to
     * the middle cut */
    term_shorten_name("main", 10, out, sizeof out);
    ck_assert_str_eq(out, "main");
    term_shorten_name("libfoo.so+0x1234567890abcdef0123", 20, out, sizeof out);
    ck_assert_uint_eq(term_text_width(out), 20);
    ck_assert(strstr(out, "...") != NULL);
}
END_TEST

/* What a terminal acts on is written as text: C0 controls, DEL, C1 controls, bidi and line
 * separator controls, bytes that are not UTF-8; printable text, é and CJK are kept. The
 * width is what the escaped text takes. */
START_TEST(test_escape_controls)
{
    const struct {
        const char *in, *want;
    } cases[] = {
        {"plain::f(int)", "plain::f(int)"},
        {"a\nb\rc\td", "a\\nb\\rc\\td"},
        {"\x1b]0;title\x07", "\\x1b]0;title\\x07"},
        {"\x1b[2J\x7f", "\\x1b[2J\\x7f"},
        {"c1\xc2\x9b" "31m", "c1\\u009b31m"},
        {"bidi\xe2\x80\xae" "x\xe2\x81\xa6" "y\xd8\x9c", "bidi\\u202ex\\u2066y\\u061c"},
        {"line\xe2\x80\xa8sep", "line\\u2028sep"},
        {"bad\xff\xc3", "bad\\xff\\xc3"},
        {"caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[256];
        term_escape(cases[i].in, out, sizeof out);
        ck_assert_msg(strcmp(out, cases[i].want) == 0, "case %zu: '%s'", i, out);
        ck_assert_uint_eq(term_escaped_width(cases[i].in), term_text_width(out));
        ck_assert_uint_le(strlen(out) + 1, TERM_ESCAPED_LEN(cases[i].in));
    }
    /* every byte: the worst case fits TERM_ESCAPED_LEN, nothing below 0x20 survives */
    char all[256], out[1024];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    ck_assert_uint_le(TERM_ESCAPED_LEN(all), sizeof out);
    term_escape(all, out, TERM_ESCAPED_LEN(all));
    for (const char *p = out; *p; p++)
        ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f, "byte %02x kept",
                      (unsigned char)*p);
    ck_assert_uint_eq(term_escaped_width(all), term_text_width(out));
    /* a small buffer cuts between pieces, never inside an escape */
    char small[8];
    term_escape("ab\x1b[2J", small, sizeof small);
    ck_assert_str_eq(small, "ab\\x1b[");
}
END_TEST

/* Shortened and padded names are escaped first: widths count the escaped text. */
START_TEST(test_shorten_and_cells_escape)
{
    const char *name = "ns::evil\x1b]0;t\x07::method(int, long) const";
    char out[256];
    ck_assert_uint_le(TERM_SHORTEN_LEN(name), sizeof out);
    term_shorten_name(name, 30, out, sizeof out);
    ck_assert_msg(!strchr(out, '\x1b') && !strchr(out, '\x07'), "%s", out);
    ck_assert_uint_le(term_text_width(out), 30);
    term_shorten_middle("x\ny", 40, out, sizeof out);
    ck_assert_str_eq(out, "x\\ny");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    term_put_cell(f, "c1\x1b[2J", 8);
    fputc('|', f);
    term_put_cell(f, "ab", 4);
    fputc('|', f);
    term_put(f, "\xe6\x97\xa5\xe6\x9c\xac\n", 2);
    fclose(f);
    ck_assert_str_eq(buf, "c1\\x1b[2|ab  |\xe6\x97\xa5\xe6\x9c\xac");
    free(buf);
}
END_TEST

/* Markdown: text renders as itself on one line (no heading, list, link or HTML can start in
 * it); code spans keep a table row one line. */
START_TEST(test_markdown_escapes)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    render_md_text(f, "app\n### h\r- [x](u) <b>*_`|#!&\\");
    fputc('|', f);
    render_md_code(f, "a`b|c\nd\x1b" "e");
    fclose(f);
    ck_assert_str_eq(buf, "app \\#\\#\\# h \\- \\[x\\]\\(u\\) \\<b\\>\\*\\_\\`\\|\\#\\!\\&\\\\|"
                          "`a'b\\|c d e`");
    free(buf);
}
END_TEST

START_TEST(test_color_only_on_terminal_without_no_color)
{
    /* the test's stdout is a pipe, never a terminal */
    unsetenv("NO_COLOR");
    struct term_style s = term_style_for(STDOUT_FILENO, false);
    ck_assert(!s.color);
    ck_assert_str_eq(s.red, "");
    int fd = open("/dev/tty", O_RDWR);
    if (fd >= 0) { /* only when the test runs in a terminal */
        ck_assert(term_style_for(fd, false).color);
        ck_assert(!term_style_for(fd, true).color);
        setenv("NO_COLOR", "1", 1);
        ck_assert(!term_style_for(fd, false).color);
        unsetenv("NO_COLOR");
        close(fd);
    }
}
END_TEST

static struct pr_profile sample_profile(void)
{
    struct pr_profile p;
    profile_init(&p);
    p.executable = strdup("/bin/app");
    p.total_samples = 200;
    p.nfunctions = 3;
    p.functions = calloc(3, sizeof *p.functions);
    p.functions[0] = (struct pr_function){
        strdup("main"), strdup("main.c"), NULL, NULL, 5, 200, 20, 100.0, 10.0, true, NULL};
    p.functions[1] = (struct pr_function){
        strdup("ns::work(int)"), strdup("work.cpp"), NULL, NULL, 42, 150, 150, 75.0, 75.0, true, NULL};
    p.functions[2] = (struct pr_function){
        strdup("helper"), NULL, NULL, strdup("libx.so"), -1, 30, 30, 15.0, 15.0, true, NULL};
    return p;
}

static char *render(const struct pr_profile *p, struct report_options o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    render_report(f, p, &o);
    fclose(f);
    return buf;
}

START_TEST(test_report_table_and_hotspot)
{
    struct pr_profile p = sample_profile();
    struct report_options o = {0, false, 100, 1, term_style_for(-1, true)};
    char *out = render(&p, o);
    ck_assert_msg(strstr(out, "   1  main ") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "work.cpp:42") && strstr(out, "main.c:5") && strstr(out, "[libx.so]"),
                  "%s", out);
    ck_assert_msg(strstr(out, "Top hotspot: ns::work(int)") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "75.00 %") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\033[") == NULL, "colour without a terminal");
    ck_assert_int_eq(report_hotspot(&p), 1);
    free(out);

    /* --self ranks by self samples; --top 1 prints one row and says how many are left */
    o.by_self = true;
    o.top = 1;
    out = render(&p, o);
    ck_assert_msg(strstr(out, "   1  ns::work(int)") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "2 more functions") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "   2  ") == NULL, "%s", out);
    free(out);
    profile_free(&p);
}
END_TEST

START_TEST(test_report_colours_headers_when_asked)
{
    struct pr_profile p = sample_profile();
    struct term_style st = {true, TERM_GREEN, TERM_RED, TERM_YELLOW, TERM_BLUE, TERM_RESET};
    struct report_options o = {0, false, 100, 1, st};
    char *out = render(&p, o);
    ck_assert_msg(strstr(out, TERM_BLUE "Rank") != NULL, "%s", out);
    free(out);
    profile_free(&p);
}
END_TEST

START_TEST(test_empty_profile)
{
    struct pr_profile p;
    profile_init(&p);
    struct report_options o = {10, false, 100, 1, term_style_for(-1, true)};
    char *out = render(&p, o);
    ck_assert_msg(strstr(out, "No samples.") != NULL, "%s", out);
    ck_assert_int_eq(report_hotspot(&p), -1);
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_shorten_middle_keeps_both_ends);
    tcase_add_test(tc, test_shorten_name_keeps_namespace_and_method);
    tcase_add_test(tc, test_escape_controls);
    tcase_add_test(tc, test_shorten_and_cells_escape);
    tcase_add_test(tc, test_markdown_escapes);
    tcase_add_test(tc, test_color_only_on_terminal_without_no_color);
    tcase_add_test(tc, test_report_table_and_hotspot);
    tcase_add_test(tc, test_report_colours_headers_when_asked);
    tcase_add_test(tc, test_empty_profile);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
