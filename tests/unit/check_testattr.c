/* SPDX-License-Identifier: MIT */
/* check_testattr.c — per-test attribution: recognition on frame names taken from real gtest
 * 1.12, Google Benchmark 1.7 (Debian, library without symbols) and Catch2 2.13 binaries
 * profiled with libprofreg.so; broken input; the accumulator over runs; the baseline round
 * trip of the tests section; judging test times and explaining regressed functions. */
#include "testutil.h"

#include "analysis/read/baseline.h"
#include "analysis/judge/testattr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One frame name alone: the test it makes ("" and NONE when none). */
static void expect_name(const char *frame, enum test_kind kind, const char *test)
{
    char buf[512];
    enum test_kind k = testattr_name_test(frame, buf, sizeof buf);
    ck_assert_msg(k == kind, "%s: kind %s, expected %s", frame, test_kind_name(k),
                  test_kind_name(kind));
    ck_assert_str_eq(buf, test);
}

START_TEST(test_frame_names)
{
    /* gtest: TEST, TEST_F, TEST_P (instantiation and index are not in the name), TYPED_TEST,
     * TYPED_TEST_P (a namespace per suite), a test in a namespace */
    expect_name("MathSuite_Heavy_Test::TestBody()", TEST_KIND_GTEST, "MathSuite.Heavy");
    expect_name("FixT_Body_Test::TestBody()", TEST_KIND_GTEST, "FixT.Body");
    expect_name("ParamT_Run_Test::TestBody()", TEST_KIND_GTEST, "ParamT.Run");
    expect_name("TypedT_Work_Test<double>::TestBody()", TEST_KIND_GTEST, "TypedT.Work<double>");
    expect_name("gtest_suite_TP_::Go<int>::TestBody()", TEST_KIND_GTEST, "TP.Go<int>");
    expect_name("gtest_case_TP_::Go<int>::TestBody()", TEST_KIND_GTEST, "TP.Go<int>");
    expect_name("msd::(anonymous namespace)::Hull_Builds_Test::TestBody()", TEST_KIND_GTEST,
                "Hull.Builds");
    /* underscores: split at the first one (gtest forbids '_' in both names) */
    expect_name("Time_Flies_Like_Test::TestBody()", TEST_KIND_GTEST, "Time.Flies_Like");
    expect_name("Custom::TestBody()", TEST_KIND_GTEST, "Custom");
    /* fixtures need their caller (a runner frame): alone they name the suite's bucket */
    expect_name("FixT::SetUp()", TEST_KIND_GTEST, "FixT (SetUp/TearDown)");
    expect_name("ns::FixT::TearDown()", TEST_KIND_GTEST, "FixT (SetUp/TearDown)");
    expect_name("FixT::SetUpTestSuite()", TEST_KIND_GTEST,
                "FixT (SetUpTestSuite/TearDownTestSuite)");
    expect_name("FixT::TearDownTestCase()", TEST_KIND_GTEST,
                "FixT (SetUpTestSuite/TearDownTestSuite)");
    expect_name("FixT_Body_Test::~FixT_Body_Test()", TEST_KIND_GTEST, "FixT.Body");
    /* runner frames are not tests */
    expect_name("testing::Test::Run()", TEST_KIND_NONE, "");
    expect_name("testing::Test::SetUp()", TEST_KIND_NONE, "");
    expect_name("void testing::internal::HandleExceptionsInMethodIfSupported<testing::Test, "
                "void>(testing::Test*, void (testing::Test::*)(), char const*)",
                TEST_KIND_NONE, "");

    /* Google Benchmark */
    expect_name("BM_Foo(benchmark::State&)", TEST_KIND_BENCHMARK, "BM_Foo");
    expect_name("void BM_Tmpl<int>(benchmark::State&)", TEST_KIND_BENCHMARK, "BM_Tmpl<int>");
    expect_name("MyFix_Slow_Benchmark::BenchmarkCase(benchmark::State&)", TEST_KIND_BENCHMARK,
                "MyFix/Slow");
    expect_name("MyFix::SetUp(benchmark::State const&)", TEST_KIND_BENCHMARK,
                "MyFix (SetUp/TearDown)");
    expect_name("benchmark_uniq_7BM_Lam::{lambda(benchmark::State&)#1}::_FUN(benchmark::State)",
                TEST_KIND_BENCHMARK, "BM_Lam");
    expect_name("benchmark::internal::FunctionBenchmark::Run(benchmark::State&)", TEST_KIND_NONE,
                "");
    expect_name("benchmark::Fixture::Run(benchmark::State&)", TEST_KIND_NONE, "");
    expect_name("benchmark::Fixture::SetUp(benchmark::State&)", TEST_KIND_NONE, "");

    /* Catch2 v2 (2.13 and older) and v3 */
    expect_name("C_A_T_C_H_T_E_S_T_0()", TEST_KIND_CATCH2, "C_A_T_C_H_T_E_S_T_0");
    expect_name("____C_A_T_C_H____T_E_S_T____12()", TEST_KIND_CATCH2,
                "____C_A_T_C_H____T_E_S_T____12");
    expect_name("CATCH2_INTERNAL_TEST_3()", TEST_KIND_CATCH2, "CATCH2_INTERNAL_TEST_3");
    expect_name("void C_A_T_C_H_T_E_M_P_L_A_T_E_T_E_S_T_F_U_N_C_7<double>()", TEST_KIND_CATCH2,
                "C_A_T_C_H_T_E_M_P_L_A_T_E_T_E_S_T_F_U_N_C_7<double>");
    expect_name("(anonymous namespace)::C_A_T_C_H_T_E_S_T_5::test()", TEST_KIND_CATCH2,
                "C_A_T_C_H_T_E_S_T_5");
    expect_name("Catch::TestInvokerAsMethod<(anonymous namespace)::C_A_T_C_H_T_E_S_T_5>::invoke() "
                "const",
                TEST_KIND_CATCH2, "C_A_T_C_H_T_E_S_T_5");
    expect_name("Catch::TestInvokerAsFunction::invoke() const", TEST_KIND_NONE, "");

    /* ordinary and weird names */
    expect_name("burn(long)", TEST_KIND_NONE, "");
    expect_name("main", TEST_KIND_NONE, "");
    expect_name("", TEST_KIND_NONE, "");
    expect_name(NULL, TEST_KIND_NONE, "");
    expect_name("libbenchmark.so.1.7.1+0x2d1dd", TEST_KIND_NONE, "");
    expect_name("::TestBody()", TEST_KIND_NONE, "");
    expect_name("_Test::TestBody()", TEST_KIND_GTEST, "_Test");
    expect_name("((((", TEST_KIND_NONE, "");
    char small[8];
    testattr_name_test("))::SetUp()", small, sizeof small); /* whatever it makes, it fits */
    ck_assert_uint_lt(strlen(small), sizeof small);
    expect_name("benchmark_uniq_::x", TEST_KIND_NONE, "");
    expect_name("A<B<C>::SetUp()", TEST_KIND_NONE, "");
}
END_TEST

/* Real stacks (below main) of the three frameworks, as the profiles of /tmp programs built
 * against Debian's packages gave them. */
static const char *const NAMES[] = {
    /* 0 */ "_start",
    "__libc_start_main_impl",
    "main",
    "testing::UnitTest::Run()",
    "bool testing::internal::HandleExceptionsInMethodIfSupported<testing::internal::UnitTestImpl, "
    "bool>(testing::internal::UnitTestImpl*, bool (testing::internal::UnitTestImpl::*)(), char "
    "const*)",
    /* 5 */ "testing::internal::UnitTestImpl::RunAllTests()",
    "testing::TestSuite::Run()",
    "testing::TestInfo::Run()",
    "testing::Test::Run()",
    "void testing::internal::HandleExceptionsInMethodIfSupported<testing::Test, "
    "void>(testing::Test*, void (testing::Test::*)(), char const*)",
    /* 10 */ "MathSuite_Heavy_Test::TestBody()",
    "burn(long)",
    "FixT::SetUp()",
    "void testing::internal::HandleExceptionsInMethodIfSupported<testing::TestSuite, "
    "void>(testing::TestSuite*, void (testing::TestSuite::*)(), char const*)",
    "FixT::SetUpTestSuite()",
    /* 15 */ "benchmark::RunSpecifiedBenchmarks()",
    "libbenchmark.so.1.7.1+0x2d1dd",
    "BM_Arg(benchmark::State&)",
    "benchmark::Fixture::Run(benchmark::State&)",
    "MyFix_Slow_Benchmark::BenchmarkCase(benchmark::State&)",
    /* 20 */ "benchmark::Fixture::SetUp(benchmark::State&)",
    "MyFix::SetUp(benchmark::State const&)",
    "Catch::TestCase::invoke() const",
    "Catch::TestInvokerAsFunction::invoke() const",
    "C_A_T_C_H_T_E_S_T_0()",
    /* 25 */ "benchmark::internal::FunctionBenchmark::Run(benchmark::State&)",
    "Catch::TestInvokerAsMethod<(anonymous namespace)::C_A_T_C_H_T_E_S_T_5>::invoke() const",
    "C_A_T_C_H_T_E_S_T_5",
    "Fx::Fx()",
    "Helper::SetUp()",
    /* 30 */ "std::thread::_State_impl<>::_M_run()",
};
#define NNAMES (sizeof NAMES / sizeof *NAMES)

static void expect_stack(const uint32_t *frames, uint32_t depth, enum test_kind kind,
                         const char *test)
{
    char buf[512];
    int k = testattr_stack_test((const char *const *)NAMES, NNAMES, frames, depth, buf, sizeof buf);
    ck_assert_int_eq(k, kind);
    ck_assert_str_eq(buf, test);
}

START_TEST(test_stacks)
{
    const uint32_t body[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    expect_stack(body, 12, TEST_KIND_GTEST, "MathSuite.Heavy");
    expect_stack(body, 10, TEST_KIND_NONE, ""); /* in the runner only */
    const uint32_t setup[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 11};
    expect_stack(setup, 12, TEST_KIND_GTEST, "FixT (SetUp/TearDown)");
    const uint32_t suite[] = {0, 1, 2, 3, 4, 5, 6, 13, 14, 11};
    expect_stack(suite, 10, TEST_KIND_GTEST, "FixT (SetUpTestSuite/TearDownTestSuite)");
    /* a SetUp not called by the runner (inside a test body, or anywhere else) is no fixture */
    const uint32_t inner[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 29, 11};
    expect_stack(inner, 13, TEST_KIND_GTEST, "MathSuite.Heavy");
    const uint32_t lone[] = {0, 1, 2, 29, 11};
    expect_stack(lone, 5, TEST_KIND_NONE, "");
    /* benchmark: Debian's library has no symbols for FunctionBenchmark::Run */
    const uint32_t bm[] = {0, 1, 2, 15, 16, 17, 11};
    expect_stack(bm, 7, TEST_KIND_BENCHMARK, "BM_Arg");
    const uint32_t bm_sym[] = {0, 1, 2, 15, 25, 17, 11};
    expect_stack(bm_sym, 7, TEST_KIND_BENCHMARK, "BM_Arg");
    const uint32_t bm_inv[] = {0, 1, 2, 15, 25, 11}; /* whatever Run calls is the benchmark */
    expect_stack(bm_inv, 6, TEST_KIND_BENCHMARK, "burn");
    const uint32_t bm_run[] = {0, 1, 2, 15, 25};
    expect_stack(bm_run, 5, TEST_KIND_NONE, "");
    const uint32_t fixcase[] = {0, 1, 2, 15, 16, 18, 19, 11};
    expect_stack(fixcase, 8, TEST_KIND_BENCHMARK, "MyFix/Slow");
    const uint32_t fixsetup[] = {0, 1, 2, 15, 16, 18, 20, 21, 11};
    expect_stack(fixsetup, 9, TEST_KIND_BENCHMARK, "MyFix (SetUp/TearDown)");
    /* Catch2 */
    const uint32_t ct[] = {0, 1, 2, 22, 23, 24, 11};
    expect_stack(ct, 7, TEST_KIND_CATCH2, "C_A_T_C_H_T_E_S_T_0");
    const uint32_t ctm[] = {0, 1, 2, 22, 26, 27, 28, 11};
    expect_stack(ctm, 8, TEST_KIND_CATCH2, "C_A_T_C_H_T_E_S_T_5");
    /* another thread, startup */
    const uint32_t thr[] = {30, 11};
    expect_stack(thr, 2, TEST_KIND_NONE, "");
    /* broken input: empty stacks, indices out of range, no frames at all */
    expect_stack(body, 0, TEST_KIND_NONE, "");
    const uint32_t bad[] = {999, 4000000000u, 10, 11};
    expect_stack(bad, 4, TEST_KIND_GTEST, "MathSuite.Heavy");
    expect_stack(NULL, 3, TEST_KIND_NONE, "");
    char buf[4];
    ck_assert_int_eq(
        testattr_stack_test((const char *const *)NAMES, NNAMES, body, 12, buf, sizeof buf),
        TEST_KIND_GTEST);
    ck_assert_str_eq(buf, "Mat"); /* cut to fit */
    ck_assert_int_eq(testattr_stack_test(NULL, 0, body, 12, buf, sizeof buf), TEST_KIND_NONE);
}
END_TEST

static uint32_t *frames_of(const uint32_t *f, uint32_t n)
{
    uint32_t *out = malloc(n * sizeof *out);
    memcpy(out, f, n * sizeof *out);
    return out;
}

/* A profile over NAMES with the given stacks (frames, depth, count). */
static void make_run(struct pr_profile *p, const uint32_t *const *stacks, const uint32_t *depths,
                     const uint64_t *counts, size_t n, double cpu_ms)
{
    profile_init(p);
    p->functions = calloc(NNAMES, sizeof *p->functions);
    p->nfunctions = NNAMES;
    for (size_t i = 0; i < NNAMES; i++) {
        p->functions[i].name = strdup(NAMES[i]);
        p->functions[i].line = -1;
    }
    p->stacks = calloc(n, sizeof *p->stacks);
    p->nstacks = n;
    for (size_t i = 0; i < n; i++) {
        p->stacks[i].frames = frames_of(stacks[i], depths[i]);
        p->stacks[i].depth = depths[i];
        p->stacks[i].count = counts[i];
    }
    p->has_stacks = true;
    p->cpu_time_ms = cpu_ms;
    ck_assert_int_eq(profile_recount(p), 0);
    p->total_time_ms = (double)p->total_samples;
}

static const uint32_t S_HEAVY[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
static const uint32_t S_SETUP[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 11};
static const uint32_t S_START[] = {0, 1, 11};
static const uint32_t S_RECURSE[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11};

START_TEST(test_split)
{
    const uint32_t *st[] = {S_HEAVY, S_SETUP, S_START, S_RECURSE};
    const uint32_t depth[] = {12, 12, 3, 13};
    const uint64_t counts[] = {60, 30, 10, 20};
    struct pr_profile p;
    make_run(&p, st, depth, counts, 4, 240);
    const char *names[NNAMES];
    for (size_t i = 0; i < NNAMES; i++)
        names[i] = p.functions[i].name;
    struct test_split s;
    ck_assert_int_eq(testattr_split(names, NNAMES, p.stacks, p.nstacks, NULL, &s), 0);
    ck_assert_uint_eq(s.total, 120);
    ck_assert_uint_eq(s.outside, 10);
    ck_assert_uint_eq(s.ntests, 2);
    ck_assert_str_eq(s.tests[0].name, "MathSuite.Heavy");
    ck_assert_uint_eq(s.tests[0].samples, 80);
    ck_assert_int_eq(s.tests[0].kind, TEST_KIND_GTEST);
    ck_assert_str_eq(s.tests[1].name, "FixT (SetUp/TearDown)");
    /* burn(long) within the heavy test: 80 inclusive (recursion once), 80 self */
    uint32_t burn = (uint32_t)profile_find(&p, "burn(long)");
    bool found = false;
    for (size_t i = 0; i < s.npairs; i++)
        if (s.pairs[i].test == 0 && s.pairs[i].function == burn) {
            ck_assert_uint_eq(s.pairs[i].samples, 80);
            ck_assert_uint_eq(s.pairs[i].self_samples, 80);
            found = true;
        }
    ck_assert(found);
    test_split_free(&s);
    /* keep: no pairs for unwanted functions */
    bool keep[NNAMES] = {false};
    keep[burn] = true;
    ck_assert_int_eq(testattr_split(names, NNAMES, p.stacks, p.nstacks, keep, &s), 0);
    for (size_t i = 0; i < s.npairs; i++)
        ck_assert_uint_eq(s.pairs[i].function, burn);
    ck_assert_uint_eq(s.npairs, 3); /* heavy, setup, outside */
    test_split_free(&s);
    /* nothing at all */
    ck_assert_int_eq(testattr_split(NULL, 0, NULL, 0, NULL, &s), 0);
    ck_assert_uint_eq(s.total, 0);
    ck_assert_uint_eq(s.ntests, 0);
    test_split_free(&s);
    profile_free(&p);
}
END_TEST

START_TEST(test_split_averaged_stacks)
{
    /* the same split on an avg_profile's stacks (summed over runs, frames into its functions) */
    const uint32_t *st[] = {S_HEAVY, S_SETUP, S_START};
    const uint32_t depth[] = {12, 12, 3};
    const uint64_t c1[] = {60, 30, 10}, c2[] = {80, 10, 10};
    struct pr_profile a, b;
    make_run(&a, st, depth, c1, 3, 100);
    make_run(&b, st, depth, c2, 3, 100);
    const struct pr_profile *runs[] = {&a, &b};
    struct avg_profile avg;
    ck_assert_int_eq(judge_average(runs, 2, &avg), 0);
    ck_assert(avg.has_stacks);
    const char **names = calloc(avg.nfunctions, sizeof *names);
    for (size_t i = 0; i < avg.nfunctions; i++)
        names[i] = avg.functions[i].name;
    struct test_split s;
    ck_assert_int_eq(testattr_split(names, avg.nfunctions, avg.stacks, avg.nstacks, NULL, &s), 0);
    ck_assert_uint_eq(s.total, 200);
    ck_assert_uint_eq(s.outside, 20);
    ck_assert_str_eq(s.tests[0].name, "MathSuite.Heavy");
    ck_assert_uint_eq(s.tests[0].samples, 140);
    ck_assert_uint_eq(s.tests[1].samples, 40);
    test_split_free(&s);
    free(names);
    avg_profile_free(&avg);
    profile_free(&a);
    profile_free(&b);
}
END_TEST

/* Three runs: the heavy test 60, 70, 80 samples of 100 (CPU 400 ms each), setup 30, 20, 0;
 * the rest outside. */
static void acc_three(struct test_profile *out)
{
    struct test_acc a;
    test_acc_init(&a);
    const uint64_t heavy[] = {60, 70, 80}, setup[] = {30, 20, 0};
    for (int r = 0; r < 3; r++) {
        const uint32_t *st[] = {S_HEAVY, S_SETUP, S_START};
        const uint32_t depth[] = {12, 12, 3};
        const uint64_t counts[] = {heavy[r], setup[r], 100 - heavy[r] - setup[r]};
        struct pr_profile p;
        make_run(&p, st, depth, counts, setup[r] ? 3 : 3, 400);
        ck_assert_int_eq(test_acc_add(&a, &p), 0);
        profile_free(&p);
    }
    ck_assert_int_eq(test_acc_finish(&a, out), 0);
}

START_TEST(test_accumulator)
{
    struct test_profile t;
    acc_three(&t);
    ck_assert_uint_eq(t.runs, 3);
    ck_assert(test_profile_has_tests(&t));
    const struct test_stat *h = test_profile_find(&t, "MathSuite.Heavy");
    ck_assert_ptr_nonnull(h);
    ck_assert_double_eq_tol(h->mean_share, 70, 1e-9);
    ck_assert_double_eq_tol(h->sd_share, 10, 1e-9);
    ck_assert_double_eq_tol(h->mean_ms, 280, 1e-9);
    ck_assert_double_eq_tol(h->sd_ms, 40, 1e-9);
    ck_assert_uint_eq(h->runs, 3);
    const struct test_stat *s = test_profile_find(&t, "FixT (SetUp/TearDown)");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->runs, 2); /* no samples in the third run: counts 0 there */
    ck_assert_double_eq_tol(s->mean_share, (30.0 + 20 + 0) / 3, 1e-9);
    const struct test_stat *o = test_profile_find(&t, TESTATTR_OUTSIDE);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->kind, TEST_KIND_NONE);
    ck_assert_double_eq_tol(o->mean_share, (10.0 + 10 + 20) / 3, 1e-9);
    ck_assert_double_eq_tol(test_profile_run_ms(&t), 400, 1e-9);
    ck_assert_str_eq(t.tests[0].name, "MathSuite.Heavy"); /* heaviest first */
    /* per test x function: burn(long) within the heavy test is all of it */
    ck_assert_uint_gt(h->nfunctions, 0);
    ck_assert_str_eq(t.function_names[h->functions[h->nfunctions - 1].function] ? "x" : "", "x");
    bool burn = false;
    for (size_t i = 0; i < h->nfunctions; i++)
        if (strcmp(t.function_names[h->functions[i].function], "burn(long)") == 0) {
            ck_assert_double_eq_tol(h->functions[i].mean_ms, 280, 1e-9);
            ck_assert_double_eq_tol(h->functions[i].self_mean_ms, 280, 1e-9);
            burn = true;
        }
    ck_assert(burn);
    test_profile_free(&t);

    /* a run without stacks is counted apart; none at all gives an empty profile */
    struct test_acc a;
    test_acc_init(&a);
    struct pr_profile p;
    profile_init(&p);
    ck_assert_int_eq(test_acc_add(&a, &p), 0);
    ck_assert_int_eq(test_acc_finish(&a, &t), 0);
    ck_assert_uint_eq(t.runs, 0);
    ck_assert_uint_eq(t.runs_without_stacks, 1);
    ck_assert(!test_profile_has_tests(&t));
    test_profile_free(&t);
    test_acc_init(&a);
    test_acc_abort(&a);
    /* an empty run with stacks: no tests, nothing outside */
    test_acc_init(&a);
    p.has_stacks = true;
    ck_assert_int_eq(test_acc_add(&a, &p), 0);
    ck_assert_int_eq(test_acc_finish(&a, &t), 0);
    ck_assert_uint_eq(t.runs, 1);
    ck_assert_uint_eq(t.ntests, 0);
    test_profile_free(&t);
}
END_TEST

static char *write_baseline_text(const struct baseline *b)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(baseline_write(f, b), 0);
    fclose(f);
    return text;
}

START_TEST(test_baseline_round_trip)
{
    struct baseline b;
    baseline_init(&b);
    b.avg.runs = 3;
    b.avg.functions = calloc(1, sizeof *b.avg.functions);
    b.avg.functions[0].name = strdup("burn(long)");
    b.avg.functions[0].avg_percentage = 100;
    b.avg.functions[0].line = -1;
    b.avg.nfunctions = 1;
    acc_three(&b.tests);
    char *text = write_baseline_text(&b);
    ck_assert_ptr_nonnull(strstr(text, "\"tests\""));
    struct baseline r;
    char err[1024];
    baseline_init(&r);
    ck_assert_msg(baseline_read_string(text, "b.json", &r, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(r.tests.ntests, b.tests.ntests);
    ck_assert_uint_eq(r.tests.runs, 3);
    for (size_t i = 0; i < b.tests.ntests; i++) {
        const struct test_stat *x = &b.tests.tests[i];
        const struct test_stat *y = test_profile_find(&r.tests, x->name);
        ck_assert_ptr_nonnull(y);
        ck_assert_int_eq(x->kind, y->kind);
        ck_assert_uint_eq(x->runs, y->runs);
        ck_assert_double_eq_tol(x->mean_share, y->mean_share, 1e-3);
        ck_assert_double_eq_tol(x->sd_share, y->sd_share, 1e-3);
        ck_assert_double_eq_tol(x->mean_ms, y->mean_ms, 1e-3);
        ck_assert_double_eq_tol(x->sd_ms, y->sd_ms, 1e-3);
        ck_assert_uint_eq(x->nfunctions, y->nfunctions);
        for (size_t k = 0; k < x->nfunctions; k++) {
            ck_assert_str_eq(b.tests.function_names[x->functions[k].function],
                             r.tests.function_names[y->functions[k].function]);
            ck_assert_double_eq_tol(x->functions[k].mean_ms, y->functions[k].mean_ms, 1e-3);
        }
    }
    /* the same bytes again */
    char *again = write_baseline_text(&r);
    ck_assert_str_eq(text, again);
    free(again);
    baseline_free(&r);

    /* a baseline without the section still loads, with no tests */
    const char *old = "{\"metadata\": {\"runs_averaged\": 1}, \"top_functions\": []}";
    baseline_init(&r);
    ck_assert_int_eq(baseline_read_string(old, "old.json", &r, err, sizeof err), 0);
    ck_assert_uint_eq(r.tests.ntests, 0);
    baseline_free(&r);

    /* broken sections: one line naming the key */
    static const struct {
        const char *from, *to, *msg;
    } bad[] = {
        {"\"kind\": \"gtest\"", "\"kind\": \"junit\"", "kind"},
        {"\"kind\": \"gtest\"", "\"kind\": 3", "kind"},
        {"\"mean_ms\": 280.0", "\"mean_ms\": -1", "mean_ms"},
        {"\"name\": \"MathSuite.Heavy\"", "\"name\": \"\"", "name"},
        {"\"name\": \"MathSuite.Heavy\"", "\"name\": \"FixT (SetUp/TearDown)\"", "duplicate"},
        {"\"tests\": [", "\"tests\": 5, \"old\": [", "tests"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(strstr(text, bad[i].from), "fixture text lacks %s", bad[i].from);
        char *t = tu_replace(text, bad[i].from, bad[i].to);
        baseline_init(&r);
        ck_assert_msg(baseline_read_string(t, "b.json", &r, err, sizeof err) != 0, "%s accepted",
                      bad[i].to);
        ck_assert_msg(strstr(err, "b.json") && strstr(err, bad[i].msg), "%s: %s", bad[i].to, err);
        ck_assert_ptr_null(strchr(err, '\n'));
        free(t);
    }
    free(text);
    baseline_free(&b);
}
END_TEST

/* A test profile with the heavy test at mean ms m (sd 5) over 5 runs, and burn(long) all of it. */
static void synth(struct test_profile *t, double m, unsigned runs)
{
    test_profile_init(t);
    t->runs = runs;
    t->tests = calloc(2, sizeof *t->tests);
    t->ntests = 2;
    t->function_names = calloc(1, sizeof *t->function_names);
    t->function_names[0] = strdup("burn(long)");
    t->nfunction_names = 1;
    t->tests[0] = (struct test_stat){
        strdup("MathSuite.Heavy"), TEST_KIND_GTEST, runs, m / 10, 0.5, m, 5, m * runs, NULL, 0};
    t->tests[0].functions = calloc(1, sizeof *t->tests[0].functions);
    t->tests[0].functions[0] = (struct test_fn_time){0, m, m};
    t->tests[0].nfunctions = 1;
    t->tests[1] = (struct test_stat){
        strdup(TESTATTR_OUTSIDE), TEST_KIND_NONE, runs, 5, 0.5, 50, 5, 50.0 * runs, NULL, 0};
}

START_TEST(test_judge_tests)
{
    struct test_profile cur, base;
    synth(&base, 300, 5);
    synth(&cur, 600, 5);
    struct judged_function jf = {0};
    jf.name = "burn(long)";
    jf.status = VERDICT_REGRESSION;
    struct judgement j = {0};
    j.compared = &jf;
    j.ncompared = 1;
    struct test_judge_options o = {50, 99, 0.5, METRIC_TOTAL, false};
    struct test_judgement tj;
    ck_assert_int_eq(testattr_judge(&cur, &base, &j, &o, &tj), 0);
    ck_assert_uint_eq(tj.ntests, 2);
    ck_assert_str_eq(tj.tests[0].name, "MathSuite.Heavy");
    ck_assert_int_eq(tj.tests[0].status, TEST_STATUS_REGRESSION);
    ck_assert_double_eq_tol(tj.tests[0].diff_percent, 100, 1e-9);
    ck_assert(tj.tests[0].p_value < 0.001);
    ck_assert_int_eq(tj.tests[1].status, TEST_STATUS_PASS);
    ck_assert_uint_eq(tj.regressed, 1);
    ck_assert(!test_judgement_failed(&tj)); /* report only without --fail-on-test-time */
    ck_assert_uint_eq(tj.nfunctions, 1);
    ck_assert(tj.functions[0].tracked);
    ck_assert_uint_eq(tj.functions[0].ntop, 1);
    ck_assert_str_eq(tj.functions[0].top[0].test, "MathSuite.Heavy");
    ck_assert_double_eq_tol(tj.functions[0].top[0].growth_ms, 300, 1e-9);
    test_judgement_free(&tj);
    o.fail = true;
    ck_assert_int_eq(testattr_judge(&cur, &base, &j, &o, &tj), 0);
    ck_assert(test_judgement_failed(&tj));
    test_judgement_free(&tj);
    /* under the threshold: passes */
    o.threshold_percent = 150;
    ck_assert_int_eq(testattr_judge(&cur, &base, &j, &o, &tj), 0);
    ck_assert_int_eq(tj.tests[0].status, TEST_STATUS_PASS);
    test_judgement_free(&tj);
    test_profile_free(&cur);
    /* one run: shown, not judged */
    synth(&cur, 600, 1);
    ck_assert_int_eq(testattr_judge(&cur, &base, &j, &o, &tj), 0);
    ck_assert_int_eq(tj.tests[0].status, TEST_STATUS_NOT_JUDGED);
    ck_assert(tj.notes & TEST_NOTE_FEW_RUNS);
    test_judgement_free(&tj);
    /* no baseline figures: not judged, noted; the function is still explained (growth from 0) */
    struct test_profile none;
    test_profile_init(&none);
    ck_assert_int_eq(testattr_judge(&cur, &none, &j, &o, &tj), 0);
    ck_assert(tj.notes & TEST_NOTE_NO_BASELINE);
    ck_assert_uint_eq(tj.not_judged, 2);
    ck_assert(!(tj.notes & TEST_NOTE_BENCHMARK));
    test_judgement_free(&tj);
    ck_assert_int_eq(testattr_judge(&cur, NULL, NULL, &o, &tj), 0);
    ck_assert_uint_eq(tj.nfunctions, 0);
    test_judgement_free(&tj);
    /* benchmark times are judged with a note: they follow the iteration count */
    cur.tests[0].kind = TEST_KIND_BENCHMARK;
    ck_assert_int_eq(testattr_judge(&cur, &base, NULL, &o, &tj), 0);
    ck_assert(tj.notes & TEST_NOTE_BENCHMARK);
    ck_assert_str_ne(test_note_text(TEST_NOTE_BENCHMARK), "");
    test_judgement_free(&tj);
    test_profile_free(&cur);
    test_profile_free(&base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("testattr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_frame_names);
    tcase_add_test(tc, test_stacks);
    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_split_averaged_stacks);
    tcase_add_test(tc, test_accumulator);
    tcase_add_test(tc, test_baseline_round_trip);
    tcase_add_test(tc, test_judge_tests);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
