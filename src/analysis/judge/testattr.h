/* SPDX-License-Identifier: MIT */
/* testattr.h — per-test attribution: which gtest, Google Benchmark or Catch2 test each sampled
 * stack belongs to, from the frame names alone (no recompilation), per-test shares and CPU
 * milliseconds averaged over runs, and judging each test's time against a baseline.
 *
 * Pure logic, no I/O. The recognition rules (which frame names make a test, and the test
 * name each gives) are listed in docs/formats.md ("Per-test attribution"); the judge in
 * docs/judging.md ("Test times"). */
#ifndef PROFREG_TESTATTR_H
#define PROFREG_TESTATTR_H

#include "analysis/judge/judge.h"
#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The framework a test comes from; NONE for the samples outside every test. */
enum test_kind { TEST_KIND_NONE, TEST_KIND_GTEST, TEST_KIND_BENCHMARK, TEST_KIND_CATCH2 };

/* "none", "gtest", "benchmark", "catch2". */
const char *test_kind_name(enum test_kind k);
/* The inverse; 0, or -1 for any other string. */
int test_kind_parse(const char *s, enum test_kind *out);

/* The name under which samples outside every test are counted (startup, other threads). */
#define TESTATTR_OUTSIDE "[outside tests]"

/* Per test x function figures are kept for this many of the heaviest functions (by mean
 * inclusive share, and as many by mean self share): the functions the judge can track. A
 * run contributes its TESTATTR_RUN_FUNCTIONS heaviest functions (inclusive, and self). */
#define TESTATTR_FUNCTIONS     100
#define TESTATTR_RUN_FUNCTIONS 1000

/* ---- recognition ------------------------------------------------------------------------ */

/* Every function of one name table classified once, so that stacks are attributed with a
 * lookup per frame. Built by test_classifier_init; names are not copied. */
struct test_classifier {
    const char *const *names;
    size_t n;
    uint8_t *role; /* per function: what the frame is (testattr.c's enum frame_role) */
    uint8_t *kind; /* per function: enum test_kind of the frame's role */
    char **test;   /* per function: the test it names (or that its callee names), or NULL */
    char **callee; /* per function: its name as a test when called by an invoker frame */
};

/* Classifies names[0..n) (NULL entries are treated as unnamed frames). 0, or -1 when out of
 * memory. */
int test_classifier_init(struct test_classifier *c, const char *const *names, size_t n);
void test_classifier_free(struct test_classifier *c);

/* The test of one stack (frames index the name table, root first): its name (owned by c),
 * or NULL when the stack is outside every test; the framework in *kind (may be NULL). The
 * outermost frame that makes a test wins. Frame indices out of range are unnamed frames. */
const char *test_classifier_stack(const struct test_classifier *c, const uint32_t *frames,
                                  uint32_t depth, enum test_kind *kind);

/* One-shot form for a single stack: the test's name copied into buf (cut to fit; "" when
 * outside every test). Returns the kind (TEST_KIND_NONE: outside), or -1 when out of memory. */
int testattr_stack_test(const char *const *names, size_t nnames, const uint32_t *frames,
                        uint32_t depth, char *buf, size_t len);

/* The test name one frame name gives on its own (a TestBody, BenchmarkCase, Catch2 test
 * function, benchmark function or fixture frame), into buf; the kind, or TEST_KIND_NONE when
 * the name alone makes no test. For tests and tools. */
enum test_kind testattr_name_test(const char *name, char *buf, size_t len);

/* ---- one run ------------------------------------------------------------------------------ */

struct test_samples {
    const char *name; /* owned by the split */
    enum test_kind kind;
    uint64_t samples;
};

/* One run's (or one averaged profile's) stacks split by test. */
struct test_split {
    struct test_samples *tests; /* heaviest first, ties by name; the outside samples not here */
    size_t ntests;
    uint64_t outside; /* samples outside every test */
    uint64_t total;   /* all samples of the stacks */
    /* per test x function: samples of stacks of test `test` holding `function` (once per
     * stack), and those where it is the innermost frame; test == ntests is the outside */
    struct test_pair {
        uint32_t test, function;
        uint64_t samples, self_samples;
    } * pairs;
    size_t npairs;
    struct test_classifier cls;
};

/* Splits stacks (frames index names[0..nnames), root first) by test. keep, when not NULL,
 * says per function whether its per-test pairs are wanted (NULL: every function). Works on
 * a pr_profile's stacks and on an avg_profile's. 0, or -1 when out of memory (out empty). */
int testattr_split(const char *const *names, size_t nnames, const struct pr_stack *stacks,
                   size_t nstacks, const bool *keep, struct test_split *out);
void test_split_free(struct test_split *s);

/* ---- over runs ------------------------------------------------------------------------------ */

/* A function's mean milliseconds within one test, over all runs (absent = 0). */
struct test_fn_time {
    uint32_t function; /* index into test_profile.function_names */
    double mean_ms, self_mean_ms;
};

/* One test over the runs. Shares are percent of each run's samples; milliseconds are the
 * share times the run's cpu_time_ms (total_time_ms when the run has none); means and sample
 * standard deviations over all runs, a run without the test counting 0. */
struct test_stat {
    char *name;
    enum test_kind kind;
    unsigned runs; /* runs with samples in it */
    double mean_share, sd_share;
    double mean_ms, sd_ms;
    double samples;                 /* summed over the runs */
    struct test_fn_time *functions; /* heaviest mean_ms first */
    size_t nfunctions;
};

/* Per-test figures of a set of runs (or read from a baseline). */
struct test_profile {
    struct test_stat *tests; /* heaviest mean_ms first, ties by name; TESTATTR_OUTSIDE (kind
                                NONE) among them when it had samples */
    size_t ntests;
    char **function_names; /* referenced by test_stat.functions */
    size_t nfunction_names;
    unsigned runs;                /* runs averaged */
    unsigned runs_without_stacks; /* runs that could not be attributed (no stacks) */
    double total_samples;         /* summed over the runs attributed */
};

void test_profile_init(struct test_profile *t);
void test_profile_free(struct test_profile *t);

/* Whether any test was recognised (an outside-only profile has none). */
bool test_profile_has_tests(const struct test_profile *t);

/* The test with this name, or NULL. */
const struct test_stat *test_profile_find(const struct test_profile *t, const char *name);

/* Mean milliseconds of one run (every test and the outside summed). */
double test_profile_run_ms(const struct test_profile *t);

/* Accumulates runs one at a time (runs need not be held together): test_acc_add for each run,
 * then test_acc_finish (fills out) or test_acc_abort. add and finish: 0, or -1 when out of
 * memory. */
struct test_acc {
    struct test_profile out;
    struct hmap *tests;     /* test name -> index in entries */
    struct hmap *functions; /* function name -> index in fnames */
    struct hmap *pairs;     /* (test, function) -> index in psum */
    struct test_acc_entry *entries;
    size_t nentries, entries_cap;
    char **fnames;
    size_t nfnames, fnames_cap;
    struct test_acc_pair *psum;
    size_t npairs, pairs_cap;
    double *fn_share, *fn_self_share; /* per function: summed run shares (for the final cut) */
    size_t fn_cap;
};
void test_acc_init(struct test_acc *a);
int test_acc_add(struct test_acc *a, const struct pr_profile *run);
int test_acc_finish(struct test_acc *a, struct test_profile *out);
void test_acc_abort(struct test_acc *a);

/* ---- judging test times ----------------------------------------------------------------- */

struct test_judge_options {
    double
        threshold_percent; /* relative growth of a test's mean ms that counts (--test-threshold) */
    double confidence;     /* percent, as the judge's --confidence */
    double min_delta;      /* percentage points of the baseline run's time (--min-delta) */
    enum judge_metric metric; /* which per-function time explains a regressed function */
    bool fail;                /* --fail-on-test-time: a regressed test fails --strict */
};

enum test_status { TEST_STATUS_PASS, TEST_STATUS_REGRESSION, TEST_STATUS_NOT_JUDGED };
/* "PASS", "REGRESSION", "NOT_JUDGED". */
const char *test_status_name(enum test_status s);

struct judged_test {
    const char *name; /* points into the test profiles judged */
    enum test_kind kind;
    double current_ms, current_sd, baseline_ms, baseline_sd; /* NAN on a missing side */
    double current_share, baseline_share;                    /* likewise */
    unsigned current_runs, baseline_runs;                    /* runs with samples in it */
    double diff_percent; /* NAN when the baseline is 0 or missing */
    double delta_ms;
    double p_value; /* Welch, "current > baseline"; NAN when not assessed */
    bool over_threshold, moved_enough, significant;
    enum test_status status;
};

/* Where a regressed function's time grew: one test. */
struct test_growth {
    const char *test;
    double current_ms, baseline_ms, growth_ms;
};

struct function_tests {
    const char *function;      /* the regressed function (points into the judgement) */
    struct test_growth top[3]; /* largest growth first; only tests where it grew */
    size_t ntop;
    bool tracked; /* per-test figures exist for it on the current side */
};

/* Notes (bit flags) on what could not be judged. */
enum test_note {
    TEST_NOTE_NO_BASELINE = 1u << 0, /* the baseline has no per-test figures */
    TEST_NOTE_FEW_RUNS = 1u << 1,    /* a side has fewer than 2 runs: not judged */
    TEST_NOTE_NO_STACKS = 1u << 2,   /* some runs had no stacks: not attributed */
    TEST_NOTE_BENCHMARK = 1u << 3,   /* Google Benchmark times follow its minimum run time */
};
#define TEST_NOTES 4
const char *test_note_text(unsigned note);

struct test_judgement {
    struct judged_test *tests; /* current heaviest first, then baseline-only tests */
    size_t ntests;
    size_t regressed, passed, not_judged;
    struct function_tests *functions; /* one per function the judgement marks REGRESSION */
    size_t nfunctions;
    struct test_judge_options options;
    unsigned notes;
};

/* Judges every test of current against baseline (either may have none) and explains each
 * function j marks REGRESSION by the tests where its time grew. The result points into the
 * three inputs, which must outlive it. 0, or -1 when out of memory (out empty). */
int testattr_judge(const struct test_profile *current, const struct test_profile *baseline,
                   const struct judgement *j, const struct test_judge_options *o,
                   struct test_judgement *out);
void test_judgement_free(struct test_judgement *t);

/* True when a test time fails --strict (a regressed test and options.fail). */
bool test_judgement_failed(const struct test_judgement *t);

#endif
