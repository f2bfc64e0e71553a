/* SPDX-License-Identifier: MIT */
/* check_filter.c — the judge's function filters: where a C++ name's qualified part starts,
 * namespace prefixes (also after a return type), project paths, regular expressions, and the
 * Instruments workflow's project-only export reproduced from its full export. */
#include "testutil.h"

#include "analysis/judge/filter.h"
#include "analysis/read/profile_read.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_name_start)
{
    static const struct {
        const char *name, *start;
    } cases[] = {
        {"ns::f()", "ns::f()"},
        {"main", "main"},
        {"void ns::f<int>()", "ns::f<int>()"},
        {"unsigned long ns::g<char>(char)", "ns::g<char>(char)"},
        {"std::vector<int, std::allocator<int> > ns::make<int>(int)", "ns::make<int>(int)"},
        {"msd_sim::Coordinate* std::__1::vector<msd_sim::Coordinate>::__emplace_back_slow_path<"
         "double&>(double&)",
         "std::__1::vector<msd_sim::Coordinate>::__emplace_back_slow_path<double&>(double&)"},
        {"(anonymous namespace)::helper(int)", "(anonymous namespace)::helper(int)"},
        {"void (anonymous namespace)::helper<int>()", "(anonymous namespace)::helper<int>()"},
        {"ns::Foo::operator<(ns::Foo const&) const", "ns::Foo::operator<(ns::Foo const&) const"},
        {"bool ns::operator< <int>(ns::X<int> const&)", "ns::operator< <int>(ns::X<int> const&)"},
        {"ns::Foo::operator()(int) const", "ns::Foo::operator()(int) const"},
        {"ns::Foo::operator new(unsigned long)", "ns::Foo::operator new(unsigned long)"},
        {"ns::Foo::operator int() const", "ns::Foo::operator int() const"},
        {"ns::f()::{lambda(int)#1}::operator()(int) const",
         "ns::f()::{lambda(int)#1}::operator()(int) const"},
        {"std::basic_ostream<char>& std::operator<< <std::char_traits<char> >(std::basic_ostream<"
         "char>&, char const*)",
         "std::operator<< <std::char_traits<char> >(std::basic_ostream<char>&, char const*)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ck_assert_msg(strcmp(filter_name_start(cases[i].name), cases[i].start) == 0,
                      "%s -> %s, want %s", cases[i].name, filter_name_start(cases[i].name),
                      cases[i].start);
}
END_TEST

START_TEST(test_prefix)
{
    ck_assert(filter_prefix_match("ns::f()", "ns::"));
    ck_assert(filter_prefix_match("void ns::f<T>()", "ns::"));
    ck_assert(filter_prefix_match("std::vector<int> ns::detail::g()", "ns::detail::"));
    ck_assert(!filter_prefix_match("nsx::f()", "ns::"));
    ck_assert(!filter_prefix_match("other::f(ns::X)", "ns::"));
    ck_assert(!filter_prefix_match("void other::f<ns::X>()", "ns::"));
    /* the Instruments workflow matched the start of the string, return type included: kept */
    ck_assert(filter_prefix_match("ns::X* std::vector<ns::X>::data()", "ns::"));
}
END_TEST

START_TEST(test_paths)
{
    ck_assert(filter_path_under("/work/p", "/work/p/src/a.cpp"));
    ck_assert(filter_path_under("/work/p/", "/work/p/src/a.cpp"));
    ck_assert(filter_path_under("/work/p", "/work/p/build/../src/./a.cpp"));
    ck_assert(filter_path_under("/work/p", "/work//p/a.cpp"));
    ck_assert(!filter_path_under("/work/p", "/work/pq/a.cpp"));
    ck_assert(!filter_path_under("/work/p", "/work/p/../q/a.cpp"));
    ck_assert(!filter_path_under("/work/p", "/usr/include/c++/12/bits/stl_vector.h"));
    ck_assert(!filter_path_under("/work/p", "src/a.cpp")); /* relative: not a path under */
    ck_assert(filter_path_under("/", "/usr/a.c"));
}
END_TEST

START_TEST(test_match_combinations)
{
    struct fn_filter f;
    char err[256];
    filter_init(&f);
    ck_assert(filter_is_empty(&f));
    ck_assert(filter_match(&f, "anything", NULL, false));
    ck_assert_int_eq(filter_add_include(&f, "^demo::", err, sizeof err), 0);
    ck_assert_int_eq(filter_add_include(&f, "Solver", err, sizeof err), 0);
    ck_assert_int_eq(filter_add_exclude(&f, "::detail::", err, sizeof err), 0);
    ck_assert(!filter_is_empty(&f));
    ck_assert(filter_match(&f, "demo::run()", NULL, false));
    ck_assert(filter_match(&f, "app::Solver::step()", NULL, false));
    ck_assert(!filter_match(&f, "main", NULL, false));
    ck_assert(!filter_match(&f, "demo::detail::x()", NULL, false));
    ck_assert_int_eq(filter_set_project_root(&f, "/work/p"), 0);
    ck_assert(!filter_match(&f, "demo::run()", NULL, false)); /* no path: not known to be ours */
    ck_assert(!filter_match(&f, "demo::run()", "/usr/include/x.h", false));
    ck_assert(filter_match(&f, "demo::run()", "/work/p/demo.cpp", false));
    ck_assert(filter_match(&f, "demo::run()", "src/demo.cpp", true)); /* a baseline's */
    ck_assert(!filter_match(&f, "demo::run()", "../sysdeps/x86/start.S", false)); /* a compiler's */
    filter_free(&f);

    filter_init(&f);
    ck_assert_int_eq(filter_add_prefix(&f, "a::", err, sizeof err), 0);
    ck_assert_int_eq(filter_add_prefix(&f, "b::", err, sizeof err), 0);
    ck_assert(filter_match(&f, "b::f()", NULL, false));
    ck_assert(filter_match(&f, "int a::g<int>()", NULL, false));
    ck_assert(!filter_match(&f, "c::f()", NULL, false));
    filter_free(&f);
}
END_TEST

START_TEST(test_bad_patterns)
{
    struct fn_filter f;
    char err[256];
    filter_init(&f);
    ck_assert_int_eq(filter_add_include(&f, "(", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "--include: '(' is not a valid regular expression"), "%s", err);
    ck_assert_int_eq(filter_add_exclude(&f, "a[", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "--exclude: 'a['"), "%s", err);
    ck_assert_int_eq(filter_add_include(&f, "", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "empty"), "%s", err);
    ck_assert_int_eq(filter_add_prefix(&f, "", err, sizeof err), -1);
    ck_assert(filter_is_empty(&f)); /* nothing half-added */
    for (int i = 0; i < FILTER_MAX; i++)
        ck_assert_int_eq(filter_add_exclude(&f, "x", err, sizeof err), 0);
    ck_assert_int_eq(filter_add_exclude(&f, "x", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "more than"), "%s", err);
    filter_free(&f);
}
END_TEST

/* The Instruments workflow's project-only export is its full export filtered by the msd_sim::
 * prefix and cut to 20: --prefix msd_sim:: over the full export keeps every one of those 20, in the
 * same order, and anything more it keeps has msd_sim:: after a return type. */
START_TEST(test_fixture_project_only)
{
    struct pr_profile all, proj;
    char err[1024];
    profile_init(&all);
    profile_init(&proj);
    ck_assert_msg(profile_read_file(tu_fixture("msd_sim_bench_all.json"), &all, err, sizeof err) ==
                      0,
                  "%s", err);
    ck_assert_msg(profile_read_file(tu_fixture("msd_sim_bench_project_only.json"), &proj, err,
                                    sizeof err) == 0,
                  "%s", err);
    struct fn_filter f;
    filter_init(&f);
    ck_assert_int_eq(filter_add_prefix(&f, "msd_sim::", err, sizeof err), 0);
    size_t kept = 0, extra = 0;
    for (size_t i = 0; i < all.nfunctions; i++) {
        const char *name = all.functions[i].name;
        if (!filter_match(&f, name, NULL, false))
            continue;
        if (strncmp(name, "msd_sim::", 9) != 0) {
            ck_assert_msg(strncmp(filter_name_start(name), "msd_sim::", 9) == 0, "%s", name);
            extra++;
            continue;
        }
        if (kept < proj.nfunctions)
            ck_assert_str_eq(name, proj.functions[kept].name);
        kept++;
    }
    ck_assert_uint_ge(kept, proj.nfunctions);
    fprintf(stderr, "fixture: %zu functions start with msd_sim::, %zu more after a return type\n",
            kept, extra);
    filter_free(&f);
    profile_free(&all);
    profile_free(&proj);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("filter");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_name_start);
    tcase_add_test(tc, test_prefix);
    tcase_add_test(tc, test_paths);
    tcase_add_test(tc, test_match_combinations);
    tcase_add_test(tc, test_bad_patterns);
    tcase_add_test(tc, test_fixture_project_only);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
