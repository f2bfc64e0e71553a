/* SPDX-License-Identifier: MIT */
/* testattr.c — per-test attribution from frame names (see testattr.h), averaging over runs,
 * and judging test times. The rules are in docs/formats.md ("Per-test attribution").
 *
 * Invariant: every name is classified once per name table (test_classifier); a stack is then
 * attributed by a table lookup per frame, the outermost frame that makes a test winning. */
#include "analysis/judge/testattr.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "analysis/judge/filter.h"
#include "core/hashmap.h"
#include "analysis/judge/stats.h"

/* What a frame is. The runner bits may be set together with any role. */
enum frame_role {
    FRAME_NONE,
    FRAME_TEST,          /* the frame alone makes the test */
    FRAME_GTEST_FIXTURE, /* a test when called from a gtest runner frame */
    FRAME_BENCH_FIXTURE, /* a test when called from a Google Benchmark runner frame */
    FRAME_INVOKER,       /* the frame it calls is the test */
};
#define FRAME_MASK         0x0f
#define FRAME_GTEST_RUNNER 0x10 /* testing::... */
#define FRAME_BENCH_RUNNER 0x20 /* benchmark::..., or libbenchmark without symbols */

const char *test_kind_name(enum test_kind k)
{
    switch (k) {
    case TEST_KIND_GTEST:
        return "gtest";
    case TEST_KIND_BENCHMARK:
        return "benchmark";
    case TEST_KIND_CATCH2:
        return "catch2";
    default:
        return "none";
    }
}

int test_kind_parse(const char *s, enum test_kind *out)
{
    for (int k = TEST_KIND_NONE; k <= TEST_KIND_CATCH2; k++)
        if (s && strcmp(s, test_kind_name((enum test_kind)k)) == 0) {
            *out = (enum test_kind)k;
            return 0;
        }
    return -1;
}

/* ---- names --------------------------------------------------------------------------------- */

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Length of s without its parameter list and trailing qualifiers ("f(int) const" -> 1);
 * strlen(s) when it has none. */
static size_t param_start(const char *s)
{
    size_t n = strlen(s);
    const char *close = strrchr(s, ')');
    if (!close)
        return n;
    for (const char *t = close + 1; *t; t++)
        if (!isalpha((unsigned char)*t) && *t != ' ' && *t != '&')
            return n; /* ')' inside a template argument or a scope, not a parameter list */
    int depth = 0;
    for (size_t i = (size_t)(close - s) + 1; i-- > 0;) {
        if (s[i] == ')')
            depth++;
        else if (s[i] == '(' && --depth == 0)
            return i;
    }
    return n;
}

/* Start of the last "::"-separated component of s[0..len), outside <> and (). */
static size_t last_component(const char *s, size_t len)
{
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '<' || c == '(')
            depth++;
        else if ((c == '>' || c == ')') && depth > 0)
            depth--;
        else if (c == ':' && depth == 0 && i + 1 < len && s[i + 1] == ':')
            start = i + 2;
    }
    return start;
}

/* Length of s[0..len) up to its first top-level '<' (a template's base name). */
static size_t base_len(const char *s, size_t len)
{
    const char *lt = memchr(s, '<', len);
    return lt ? (size_t)(lt - s) : len;
}

static char *dup_n(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

/* "A_B<targs>" with suffix removed from A_B: "A<sep>B<targs>" split at the first '_' (gtest
 * and Google Benchmark join the two names with '_'; both forbid '_' in them for that reason),
 * or the class itself when it has no such suffix. */
static char *split_class(const char *c, size_t len, const char *suffix, char sep)
{
    size_t b = base_len(c, len), sl = strlen(suffix);
    if (b <= sl || memcmp(c + b - sl, suffix, sl) != 0)
        return dup_n(c, len);
    size_t core = b - sl;
    const char *u = memchr(c + 1, '_', core > 1 ? core - 1 : 0);
    char *out = malloc(len + 2);
    if (!out)
        return NULL;
    size_t at = 0;
    if (u && (size_t)(u - c) + 1 < core) {
        memcpy(out, c, (size_t)(u - c));
        at = (size_t)(u - c);
        out[at++] = sep;
        memcpy(out + at, u + 1, core - (size_t)(u - c) - 1);
        at += core - (size_t)(u - c) - 1;
    } else {
        memcpy(out, c, core);
        at = core;
    }
    memcpy(out + at, c + b, len - b); /* template arguments */
    at += len - b;
    out[at] = '\0';
    return out;
}

/* The gtest test of a TestBody's class (s[0..len), namespaces included). */
static char *gtest_name(const char *s, size_t len)
{
    size_t comp = last_component(s, len);
    if (comp >= 2) {
        /* TYPED_TEST_P: gtest_suite_Suite_::Name<T> (gtest_case_ before 1.10) */
        size_t prev = last_component(s, comp - 2);
        const char *ns = s + prev;
        size_t nslen = comp - 2 - prev;
        const char *pre = starts(ns, "gtest_suite_")  ? "gtest_suite_"
                          : starts(ns, "gtest_case_") ? "gtest_case_"
                                                      : NULL;
        if (pre && nslen > strlen(pre) + 1 && ns[nslen - 1] == '_') {
            size_t sl = nslen - strlen(pre) - 1;
            char *out = malloc(sl + 1 + (len - comp) + 1);
            if (out) {
                memcpy(out, ns + strlen(pre), sl);
                out[sl] = '.';
                memcpy(out + sl + 1, s + comp, len - comp);
                out[sl + 1 + len - comp] = '\0';
            }
            return out;
        }
    }
    return split_class(s + comp, len - comp, "_Test", '.');
}

/* "Class (what)" for the class of a method s[0..len) ending in "::Method". */
static char *fixture_name(const char *s, size_t len, const char *what)
{
    size_t comp = last_component(s, len);
    if (comp < 2)
        return NULL;
    size_t cstart = last_component(s, comp - 2), clen = comp - 2 - cstart;
    char *out = malloc(clen + strlen(what) + 4);
    if (out)
        sprintf(out, "%.*s (%s)", (int)clen, s + cstart, what);
    return out;
}

static const char *skip_anon(const char *s)
{
    while (starts(s, "(anonymous namespace)::"))
        s += strlen("(anonymous namespace)::");
    return s;
}

static bool is_catch_test(const char *s)
{
    return starts(s, "C_A_T_C_H_T_E_") || starts(s, "____C_A_T_C_H____") ||
           starts(s, "CATCH2_INTERNAL_TEST_") || starts(s, "CATCH2_INTERNAL_TEMPLATE_TEST_");
}

/* s[0..len) up to its first top-level "::". */
static char *first_component(const char *s, size_t len)
{
    int depth = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] == '<' || s[i] == '(')
            depth++;
        else if ((s[i] == '>' || s[i] == ')') && depth > 0)
            depth--;
        else if (depth == 0 && s[i] == ':' && s[i + 1] == ':')
            return dup_n(s, i);
    }
    return dup_n(s, len);
}

/* The role of one frame name, the test it names (malloc'd, or NULL), and its framework. */
static unsigned classify_name(const char *name, enum test_kind *kind, char **test)
{
    *kind = TEST_KIND_NONE;
    *test = NULL;
    if (!name || !*name)
        return FRAME_NONE;
    const char *s = filter_name_start(name);
    size_t p = param_start(s);
    const char *params = s + p;
    unsigned runner = 0;
    if (starts(s, "testing::"))
        runner |= FRAME_GTEST_RUNNER;
    if (starts(s, "benchmark::") || starts(name, "libbenchmark"))
        runner |= FRAME_BENCH_RUNNER;

    /* Catch2: TestInvokerAsFunction calls the test function; TestInvokerAsMethod<T> runs
     * T::test() */
    if (ends(s, p, "TestInvokerAsFunction::invoke")) {
        *kind = TEST_KIND_CATCH2;
        return FRAME_INVOKER | runner;
    }
    if (starts(s, "Catch::TestInvokerAsMethod<") && ends(s, p, ">::invoke")) {
        const char *arg = skip_anon(s + strlen("Catch::TestInvokerAsMethod<"));
        size_t alen = (size_t)(s + p - strlen(">::invoke") - arg);
        *kind = TEST_KIND_CATCH2;
        *test = dup_n(arg, alen);
        return (*test ? FRAME_TEST : FRAME_NONE) | runner;
    }
    /* Google Benchmark: FunctionBenchmark::Run calls the benchmark function */
    if (ends(s, p, "benchmark::internal::FunctionBenchmark::Run")) {
        *kind = TEST_KIND_BENCHMARK;
        return FRAME_INVOKER | runner;
    }
    if (runner)
        return runner;
    unsigned role = FRAME_NONE;
    if (ends(s, p, "::TestBody") && strcmp(params, "()") == 0) {
        *kind = TEST_KIND_GTEST;
        *test = gtest_name(s, p - strlen("::TestBody"));
        role = FRAME_TEST;
    } else if (ends(s, p, "::BenchmarkCase") && strstr(params, "benchmark::State")) {
        size_t len = p - strlen("::BenchmarkCase"), comp = last_component(s, len);
        *kind = TEST_KIND_BENCHMARK;
        *test = split_class(s + comp, len - comp, "_Benchmark", '/');
        role = FRAME_TEST;
    } else if ((ends(s, p, "::SetUp") || ends(s, p, "::TearDown")) &&
               strstr(params, "benchmark::State")) {
        *kind = TEST_KIND_BENCHMARK;
        *test = fixture_name(s, p, "SetUp/TearDown");
        role = FRAME_BENCH_FIXTURE;
    } else if ((ends(s, p, "::SetUp") || ends(s, p, "::TearDown")) && strcmp(params, "()") == 0) {
        *kind = TEST_KIND_GTEST;
        *test = fixture_name(s, p, "SetUp/TearDown");
        role = FRAME_GTEST_FIXTURE;
    } else if ((ends(s, p, "::SetUpTestSuite") || ends(s, p, "::TearDownTestSuite") ||
                ends(s, p, "::SetUpTestCase") || ends(s, p, "::TearDownTestCase")) &&
               strcmp(params, "()") == 0) {
        *kind = TEST_KIND_GTEST;
        *test = fixture_name(s, p, "SetUpTestSuite/TearDownTestSuite");
        role = FRAME_GTEST_FIXTURE;
    } else if (starts(skip_anon(s), "benchmark_uniq_")) {
        /* BENCHMARK_CAPTURE and friends: a lambda in benchmark_uniq_<counter><function>:: */
        const char *f = skip_anon(s) + strlen("benchmark_uniq_");
        while (isdigit((unsigned char)*f))
            f++;
        size_t n = strcspn(f, ":");
        *kind = TEST_KIND_BENCHMARK;
        *test = n ? dup_n(f, n) : NULL;
        role = FRAME_TEST;
    } else if (is_catch_test(skip_anon(s))) {
        const char *t = skip_anon(s);
        *kind = TEST_KIND_CATCH2;
        *test = first_component(t, (size_t)(s + p - t));
        role = FRAME_TEST;
    } else if (strcmp(params, "(benchmark::State&)") == 0) {
        /* a benchmark function called by a runner without symbols (Debian's libbenchmark) */
        *kind = TEST_KIND_BENCHMARK;
        *test = dup_n(s, p);
        role = FRAME_TEST;
    } else {
        /* the test's own constructor or destructor: Suite_Name_Test::Suite_Name_Test() */
        size_t comp = last_component(s, p);
        if (comp >= 2 && strcmp(params, "()") == 0) {
            size_t cstart = last_component(s, comp - 2);
            const char *cls = s + cstart, *m = s + comp;
            size_t clen = base_len(cls, comp - 2 - cstart);
            if (*m == '~')
                m++;
            if ((size_t)(s + p - m) == clen && memcmp(cls, m, clen) == 0 &&
                ends(cls, clen, "_Test")) {
                *kind = TEST_KIND_GTEST;
                *test = gtest_name(s, comp - 2);
                role = FRAME_GTEST_FIXTURE;
            }
        }
    }
    if (role != FRAME_NONE && !*test) { /* out of memory, or nothing to name */
        *kind = TEST_KIND_NONE;
        return FRAME_NONE;
    }
    return role;
}

/* classify_name on the name without compiler clone suffixes (" [clone .cold]", ".part.0") */
static unsigned classify(const char *name, enum test_kind *kind, char **test)
{
    char *folded = name ? name_fold_clones(name) : NULL;
    unsigned role = classify_name(folded ? folded : name, kind, test);
    free(folded);
    if (*test && !**test) { /* "::TestBody()": nothing to name */
        free(*test);
        *test = NULL;
        *kind = TEST_KIND_NONE;
        role &= ~(unsigned)FRAME_MASK;
    }
    return role;
}

enum test_kind testattr_name_test(const char *name, char *buf, size_t len)
{
    enum test_kind kind;
    char *test;
    unsigned role = classify(name, &kind, &test) & FRAME_MASK;
    if (len)
        buf[0] = '\0';
    if (!test || role == FRAME_INVOKER) {
        free(test);
        return TEST_KIND_NONE;
    }
    if (len)
        snprintf(buf, len, "%s", test);
    free(test);
    return kind;
}

/* ---- the classifier -------------------------------------------------------------------------- */

void test_classifier_free(struct test_classifier *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->test)
            free(c->test[i]);
        if (c->callee)
            free(c->callee[i]);
    }
    free(c->role);
    free(c->kind);
    free(c->test);
    free(c->callee);
    memset(c, 0, sizeof *c);
}

int test_classifier_init(struct test_classifier *c, const char *const *names, size_t n)
{
    memset(c, 0, sizeof *c);
    c->names = names;
    c->role = calloc(n ? n : 1, 1);
    c->kind = calloc(n ? n : 1, 1);
    c->test = calloc(n ? n : 1, sizeof *c->test);
    c->callee = calloc(n ? n : 1, sizeof *c->callee);
    if (!c->role || !c->kind || !c->test || !c->callee) {
        test_classifier_free(c);
        return -1;
    }
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        enum test_kind k;
        c->role[i] = (uint8_t)classify(names[i], &k, &c->test[i]);
        c->kind[i] = (uint8_t)k;
        /* the name this function has as the callee of an invoker: its own test name, or its
         * name without return type and parameters */
        const char *name = names[i] ? names[i] : "";
        if ((c->role[i] & FRAME_MASK) == FRAME_TEST)
            c->callee[i] = strdup(c->test[i]);
        else {
            const char *s = filter_name_start(name);
            c->callee[i] = dup_n(s, param_start(s));
        }
        if (!c->callee[i]) {
            test_classifier_free(c);
            return -1;
        }
    }
    return 0;
}

/* test_classifier_stack, with the depth of the test's frame in *at (0 when outside). */
static const char *classify_stack(const struct test_classifier *c, const uint32_t *frames,
                                  uint32_t depth, enum test_kind *kind, uint32_t *at)
{
    *kind = TEST_KIND_NONE;
    *at = 0;
    for (uint32_t d = 0; frames && d < depth; d++) {
        uint32_t f = frames[d];
        if (f >= c->n)
            continue;
        unsigned role = c->role[f] & FRAME_MASK;
        unsigned caller = d > 0 && frames[d - 1] < c->n ? c->role[frames[d - 1]] : 0;
        if (role == FRAME_TEST || (role == FRAME_GTEST_FIXTURE && (caller & FRAME_GTEST_RUNNER)) ||
            (role == FRAME_BENCH_FIXTURE && (caller & FRAME_BENCH_RUNNER))) {
            *kind = (enum test_kind)c->kind[f];
            *at = d;
            return c->test[f];
        }
        if (role == FRAME_INVOKER && d + 1 < depth && frames[d + 1] < c->n &&
            *c->callee[frames[d + 1]]) {
            *kind = (enum test_kind)c->kind[f];
            *at = d + 1;
            return c->callee[frames[d + 1]];
        }
    }
    return NULL;
}

const char *test_classifier_stack(const struct test_classifier *c, const uint32_t *frames,
                                  uint32_t depth, enum test_kind *kind)
{
    enum test_kind dummy;
    uint32_t at;
    return classify_stack(c, frames, depth, kind ? kind : &dummy, &at);
}

int testattr_stack_test(const char *const *names, size_t nnames, const uint32_t *frames,
                        uint32_t depth, char *buf, size_t len)
{
    struct test_classifier c;
    if (test_classifier_init(&c, names, nnames) != 0)
        return -1;
    enum test_kind kind;
    const char *t = test_classifier_stack(&c, frames, depth, &kind);
    if (len)
        snprintf(buf, len, "%s", t ? t : "");
    test_classifier_free(&c);
    return (int)kind;
}

/* ---- one run --------------------------------------------------------------------------------- */

void test_split_free(struct test_split *s)
{
    free(s->tests);
    free(s->pairs);
    test_classifier_free(&s->cls);
    memset(s, 0, sizeof *s);
}

static int cmp_samples(const void *a, const void *b)
{
    const struct test_samples *x = a, *y = b;
    if (x->samples != y->samples)
        return x->samples > y->samples ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Per test x function sums, one test at a time: the stacks of each test (order[first[t] ..
 * first[t + 1])) summed into per-function scratch arrays, then emitted as pairs. No hashing:
 * this is the hot loop of loading runs (every frame of every stack). */
static int split_pairs(const struct pr_stack *stacks, const uint32_t *order, const size_t *first,
                       const uint32_t *stack_at, size_t ntests, size_t nnames, const bool *keep,
                       struct test_split *out)
{
    uint64_t *sum = calloc(nnames ? nnames : 1, sizeof *sum);
    uint64_t *self = calloc(nnames ? nnames : 1, sizeof *self);
    size_t *seen = calloc(nnames ? nnames : 1, sizeof *seen); /* last stack + 1 per function */
    uint32_t *touched = malloc((nnames ? nnames : 1) * sizeof *touched);
    uint8_t *mark = calloc(nnames ? nnames : 1, 1);
    size_t cap = 0;
    int rc = sum && self && seen && touched && mark ? 0 : -1;
    for (size_t t = 0; rc == 0 && t <= ntests; t++) {
        size_t ntouched = 0;
        for (size_t k = first[t]; k < first[t + 1]; k++) {
            uint32_t i = order[k];
            const struct pr_stack *st = &stacks[i];
            for (uint32_t d = stack_at[i]; st->frames && d < st->depth; d++) {
                uint32_t f = st->frames[d];
                if (f >= nnames || (keep && !keep[f]))
                    continue;
                if (!mark[f]) {
                    mark[f] = 1;
                    touched[ntouched++] = f;
                }
                if (seen[f] != (size_t)i + 1) { /* recursion counts once */
                    seen[f] = (size_t)i + 1;
                    sum[f] += st->count;
                }
                if (d + 1 == st->depth)
                    self[f] += st->count;
            }
        }
        for (size_t k = 0; rc == 0 && k < ntouched; k++) {
            uint32_t f = touched[k];
            if (ARRAY_GROW(out->pairs, out->npairs, cap) < 0)
                rc = -1;
            else
                out->pairs[out->npairs++] = (struct test_pair){(uint32_t)t, f, sum[f], self[f]};
            sum[f] = self[f] = 0;
            mark[f] = 0;
        }
    }
    free(sum);
    free(self);
    free(seen);
    free(touched);
    free(mark);
    return rc;
}

int testattr_split(const char *const *names, size_t nnames, const struct pr_stack *stacks,
                   size_t nstacks, const bool *keep, struct test_split *out)
{
    memset(out, 0, sizeof *out);
    if (test_classifier_init(&out->cls, names, nnames) != 0)
        return -1;
    struct hmap tests;
    hmap_init(&tests);
    size_t tcap = 0;
    uint32_t *stack_test = calloc(nstacks ? nstacks : 1, sizeof *stack_test);
    uint32_t *stack_at = calloc(nstacks ? nstacks : 1, sizeof *stack_at);
    int rc = stack_test && stack_at ? 0 : -1;
    /* tests, in order of first appearance */
    for (size_t i = 0; rc == 0 && i < nstacks; i++) {
        const struct pr_stack *st = &stacks[i];
        enum test_kind kind;
        const char *t = classify_stack(&out->cls, st->frames, st->depth, &kind, &stack_at[i]);
        out->total += st->count;
        stack_test[i] = UINT32_MAX;
        if (!t) {
            out->outside += st->count;
            continue;
        }
        uint32_t at;
        int r = hmap_intern(&tests, t, strlen(t), (uint32_t)out->ntests, &at);
        if (r < 0 || (r == 1 && ARRAY_GROW(out->tests, out->ntests, tcap) < 0)) {
            rc = -1;
            break;
        }
        if (r == 1)
            out->tests[out->ntests++] = (struct test_samples){t, kind, 0};
        out->tests[at].samples += st->count;
        stack_test[i] = at;
    }
    /* heaviest first, then renumber */
    uint32_t *rank = rc == 0 ? calloc(out->ntests + 1, sizeof *rank) : NULL;
    if (rc == 0 && !rank)
        rc = -1;
    if (rc == 0) {
        array_sort(out->tests, out->ntests, sizeof *out->tests, cmp_samples);
        for (size_t i = 0; i < out->ntests; i++) {
            uint32_t at = 0;
            hmap_get(&tests, out->tests[i].name, strlen(out->tests[i].name), &at);
            rank[at] = (uint32_t)i;
        }
    }
    /* per test x function, from the test's frame down (the runner frames above it are in
     * every test); none when no test was recognised. Stacks grouped by test (counting sort). */
    uint32_t *order = NULL;
    size_t *first = NULL;
    if (rc == 0 && out->ntests) {
        order = malloc(nstacks * sizeof *order);
        first = calloc(out->ntests + 2, sizeof *first);
        rc = order && first ? 0 : -1;
    }
    if (rc == 0 && out->ntests) {
        for (size_t i = 0; i < nstacks; i++) {
            stack_test[i] =
                stack_test[i] == UINT32_MAX ? (uint32_t)out->ntests : rank[stack_test[i]];
            first[stack_test[i] + 1]++;
        }
        for (size_t t = 0; t <= out->ntests; t++)
            first[t + 1] += first[t];
        size_t *next = calloc(out->ntests + 1, sizeof *next);
        if (!next)
            rc = -1;
        for (size_t i = 0; next && i < nstacks; i++)
            order[first[stack_test[i]] + next[stack_test[i]]++] = (uint32_t)i;
        free(next);
        if (rc == 0)
            rc = split_pairs(stacks, order, first, stack_at, out->ntests, nnames, keep, out);
    }
    free(order);
    free(first);
    free(rank);
    free(stack_test);
    free(stack_at);
    hmap_free(&tests);
    if (rc != 0)
        test_split_free(out);
    return rc;
}

/* ---- over runs ------------------------------------------------------------------------------- */

struct test_acc_entry {
    char *name;
    enum test_kind kind;
    unsigned runs;
    struct running share, ms;
    double samples;
};

struct test_acc_pair {
    uint32_t test, function;
    double ms, self_ms; /* summed over the runs */
};

void test_profile_init(struct test_profile *t)
{
    memset(t, 0, sizeof *t);
}

void test_profile_free(struct test_profile *t)
{
    for (size_t i = 0; i < t->ntests; i++) {
        free(t->tests[i].name);
        free(t->tests[i].functions);
    }
    free(t->tests);
    for (size_t i = 0; i < t->nfunction_names; i++)
        free(t->function_names[i]);
    free(t->function_names);
    test_profile_init(t);
}

bool test_profile_has_tests(const struct test_profile *t)
{
    for (size_t i = 0; i < t->ntests; i++)
        if (t->tests[i].kind != TEST_KIND_NONE)
            return true;
    return false;
}

const struct test_stat *test_profile_find(const struct test_profile *t, const char *name)
{
    for (size_t i = 0; t && name && i < t->ntests; i++)
        if (strcmp(t->tests[i].name, name) == 0)
            return &t->tests[i];
    return NULL;
}

double test_profile_run_ms(const struct test_profile *t)
{
    double sum = 0;
    for (size_t i = 0; i < t->ntests; i++)
        sum += t->tests[i].mean_ms;
    return sum;
}

void test_acc_init(struct test_acc *a)
{
    memset(a, 0, sizeof *a);
}

void test_acc_abort(struct test_acc *a)
{
    for (size_t i = 0; i < a->nentries; i++)
        free(a->entries[i].name);
    free(a->entries);
    for (size_t i = 0; i < a->nfnames; i++)
        free(a->fnames[i]);
    free(a->fnames);
    free(a->psum);
    free(a->fn_share);
    free(a->fn_self_share);
    if (a->tests)
        hmap_free(a->tests);
    if (a->functions)
        hmap_free(a->functions);
    if (a->pairs)
        hmap_free(a->pairs);
    free(a->tests);
    free(a->functions);
    free(a->pairs);
    test_profile_free(&a->out);
    test_acc_init(a);
}

/* Index of a test in the accumulator, created (absent from the runs before) when new. */
static long acc_test(struct test_acc *a, const char *name, enum test_kind kind, unsigned before)
{
    uint32_t at;
    int r = hmap_intern(a->tests, name, strlen(name), (uint32_t)a->nentries, &at);
    if (r < 0)
        return -1;
    if (r == 1) {
        if (ARRAY_GROW(a->entries, a->nentries, a->entries_cap) < 0)
            return -1;
        struct test_acc_entry *e = &a->entries[a->nentries];
        memset(e, 0, sizeof *e);
        if (!(e->name = strdup(name)))
            return -1;
        e->kind = kind;
        /* Welford's state after `before` zeros */
        e->share.n = e->ms.n = before;
        a->nentries++;
    }
    return at;
}

static long acc_function(struct test_acc *a, const char *name)
{
    uint32_t at;
    int r = hmap_intern(a->functions, name, strlen(name), (uint32_t)a->nfnames, &at);
    if (r < 0)
        return -1;
    if (r == 1) {
        if (ARRAY_GROW(a->fnames, a->nfnames, a->fnames_cap) < 0)
            return -1;
        if (a->nfnames >= a->fn_cap) {
            size_t cap = a->fnames_cap;
            double *s = realloc(a->fn_share, cap * sizeof *s);
            if (s)
                a->fn_share = s;
            double *ss = realloc(a->fn_self_share, cap * sizeof *ss);
            if (ss)
                a->fn_self_share = ss;
            if (!s || !ss)
                return -1;
            a->fn_cap = cap;
        }
        if (!(a->fnames[a->nfnames] = strdup(name)))
            return -1;
        a->fn_share[a->nfnames] = a->fn_self_share[a->nfnames] = 0;
        a->nfnames++;
    }
    return at;
}

static int cmp_by_samples(const void *x, const void *y, void *ctx)
{
    const struct pr_profile *run = ctx;
    uint64_t a = run->functions[*(const uint32_t *)x].samples;
    uint64_t b = run->functions[*(const uint32_t *)y].samples;
    return a > b ? -1 : a < b;
}

static int cmp_by_self(const void *x, const void *y, void *ctx)
{
    const struct pr_profile *run = ctx;
    uint64_t a = run->functions[*(const uint32_t *)x].self_samples;
    uint64_t b = run->functions[*(const uint32_t *)y].self_samples;
    return a > b ? -1 : a < b;
}

/* Marks the run's TESTATTR_RUN_FUNCTIONS heaviest functions, inclusive and self. */
static bool *run_keep(const struct pr_profile *run)
{
    size_t n = run->nfunctions;
    bool *keep = calloc(n ? n : 1, sizeof *keep);
    if (!keep || n <= TESTATTR_RUN_FUNCTIONS) {
        for (size_t i = 0; keep && i < n; i++)
            keep[i] = true;
        return keep;
    }
    uint32_t *order = malloc(n * sizeof *order);
    if (!order) {
        free(keep);
        return NULL;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        array_sort_r(order, n, sizeof *order, pass ? cmp_by_self : cmp_by_samples, (void *)run);
        for (size_t i = 0; i < TESTATTR_RUN_FUNCTIONS; i++)
            keep[order[i]] = true;
    }
    free(order);
    return keep;
}

static int acc_pair(struct test_acc *a, uint32_t test, uint32_t function, double ms, double self)
{
    uint32_t key[2] = {test, function}, at;
    int r = hmap_intern(a->pairs, key, sizeof key, (uint32_t)a->npairs, &at);
    if (r < 0)
        return -1;
    if (r == 1) {
        if (ARRAY_GROW(a->psum, a->npairs, a->pairs_cap) < 0)
            return -1;
        a->psum[a->npairs++] = (struct test_acc_pair){test, function, 0, 0};
    }
    a->psum[at].ms += ms;
    a->psum[at].self_ms += self;
    return 0;
}

int test_acc_add(struct test_acc *a, const struct pr_profile *run)
{
    if (!a->tests) {
        a->tests = calloc(1, sizeof *a->tests);
        a->functions = calloc(1, sizeof *a->functions);
        a->pairs = calloc(1, sizeof *a->pairs);
        if (!a->tests || !a->functions || !a->pairs)
            return -1;
        hmap_init(a->tests);
        hmap_init(a->functions);
        hmap_init(a->pairs);
    }
    if (!run->has_stacks) {
        a->out.runs_without_stacks++;
        return 0;
    }
    const char **names = malloc((run->nfunctions ? run->nfunctions : 1) * sizeof *names);
    bool *keep = run_keep(run);
    long *gfn = calloc(run->nfunctions ? run->nfunctions : 1, sizeof *gfn);
    long *gtest = NULL;
    struct test_split s;
    int rc = names && keep && gfn ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < run->nfunctions; i++)
        names[i] = run->functions[i].name;
    if (rc == 0)
        rc = testattr_split(names, run->nfunctions, run->stacks, run->nstacks, keep, &s);
    if (rc != 0) {
        free(names);
        free(keep);
        free(gfn);
        return -1;
    }
    unsigned before = a->out.runs;
    double run_ms = isfinite(run->cpu_time_ms) && run->cpu_time_ms > 0 ? run->cpu_time_ms
                    : isfinite(run->total_time_ms)                     ? run->total_time_ms
                                                                       : (double)s.total;
    double total = (double)s.total;
    gtest = calloc(s.ntests + 1, sizeof *gtest);
    if (!gtest)
        rc = -1;
    for (size_t t = 0; rc == 0 && t <= s.ntests; t++) {
        bool outside = t == s.ntests;
        uint64_t n = outside ? s.outside : s.tests[t].samples;
        gtest[t] = -1;
        if (n == 0)
            continue; /* counts 0 in this run, as an absent test */
        long at = acc_test(a, outside ? TESTATTR_OUTSIDE : s.tests[t].name,
                           outside ? TEST_KIND_NONE : s.tests[t].kind, before);
        if (at < 0) {
            rc = -1;
            break;
        }
        gtest[t] = at;
        struct test_acc_entry *e = &a->entries[at];
        double share = total > 0 ? (double)n / total * 100 : 0;
        running_add(&e->share, share);
        running_add(&e->ms, share / 100 * run_ms);
        e->samples += (double)n;
        e->runs++;
    }
    for (size_t i = 0; rc == 0 && i < s.npairs; i++) {
        const struct test_pair *p = &s.pairs[i];
        if (gtest[p->test] < 0)
            continue;
        if (gfn[p->function] == 0) {
            long f = acc_function(a, run->functions[p->function].name);
            if (f < 0) {
                rc = -1;
                break;
            }
            gfn[p->function] = f + 1;
            const struct pr_function *pf = &run->functions[p->function];
            a->fn_share[f] += pf->percentage;
            a->fn_self_share[f] += pf->has_self ? pf->self_percentage : 0;
        }
        double k = total > 0 ? run_ms / total : 0;
        rc = acc_pair(a, (uint32_t)gtest[p->test], (uint32_t)(gfn[p->function] - 1),
                      (double)p->samples * k, (double)p->self_samples * k);
    }
    if (rc == 0) {
        a->out.runs++;
        a->out.total_samples += total;
        /* tests absent from this run count 0 */
        for (size_t i = 0; i < a->nentries; i++)
            if (a->entries[i].ms.n < a->out.runs) {
                running_add(&a->entries[i].share, 0);
                running_add(&a->entries[i].ms, 0);
            }
    }
    test_split_free(&s);
    free(names);
    free(keep);
    free(gfn);
    free(gtest);
    return rc;
}

static int cmp_weight(const void *x, const void *y, void *ctx)
{
    const double *w = ctx;
    double a = w[*(const uint32_t *)x], b = w[*(const uint32_t *)y];
    if (a != b)
        return a > b ? -1 : 1;
    return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

static int cmp_fn_time(const void *x, const void *y)
{
    const struct test_fn_time *a = x, *b = y;
    if (a->mean_ms != b->mean_ms)
        return a->mean_ms > b->mean_ms ? -1 : 1;
    return a->function < b->function ? -1 : a->function > b->function;
}

static int cmp_stat(const void *x, const void *y)
{
    const struct test_stat *a = x, *b = y;
    if (a->mean_ms != b->mean_ms)
        return a->mean_ms > b->mean_ms ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Marks the TESTATTR_FUNCTIONS heaviest functions by each weight; their new indices in
 * remap (UINT32_MAX: dropped). Returns how many are kept, or -1. */
static long choose_functions(struct test_acc *a, uint32_t *remap)
{
    size_t n = a->nfnames;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < n; i++)
        remap[i] = UINT32_MAX;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        array_sort_r(order, n, sizeof *order, cmp_weight, pass ? a->fn_self_share : a->fn_share);
        for (size_t i = 0; i < n && i < TESTATTR_FUNCTIONS; i++)
            remap[order[i]] = 0;
    }
    free(order);
    long kept = 0;
    for (size_t i = 0; i < n; i++)
        if (remap[i] == 0)
            remap[i] = (uint32_t)kept++;
    return kept;
}

int test_acc_finish(struct test_acc *a, struct test_profile *out)
{
    struct test_profile *t = &a->out;
    int rc = 0;
    uint32_t *remap = malloc((a->nfnames ? a->nfnames : 1) * sizeof *remap);
    long kept = remap ? choose_functions(a, remap) : -1;
    size_t *counts = calloc(a->nentries + 1, sizeof *counts);
    t->tests = calloc(a->nentries ? a->nentries : 1, sizeof *t->tests);
    t->function_names = calloc(kept > 0 ? (size_t)kept : 1, sizeof *t->function_names);
    if (kept < 0 || !counts || !t->tests || !t->function_names)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < a->nfnames; i++)
        if (remap[i] != UINT32_MAX) {
            t->function_names[remap[i]] = a->fnames[i];
            a->fnames[i] = NULL;
            t->nfunction_names++;
        }
    for (size_t i = 0; rc == 0 && i < a->npairs; i++)
        if (remap[a->psum[i].function] != UINT32_MAX)
            counts[a->psum[i].test]++;
    for (size_t i = 0; rc == 0 && i < a->nentries; i++) {
        struct test_acc_entry *e = &a->entries[i];
        struct test_stat *s = &t->tests[i];
        s->name = e->name;
        e->name = NULL;
        t->ntests = i + 1;
        s->kind = e->kind;
        s->runs = e->runs;
        s->mean_share = e->share.mean;
        s->sd_share = running_sd(&e->share);
        s->mean_ms = e->ms.mean;
        s->sd_ms = running_sd(&e->ms);
        s->samples = e->samples;
        if (counts[i] && !(s->functions = calloc(counts[i], sizeof *s->functions)))
            rc = -1;
    }
    double runs = t->runs ? (double)t->runs : 1;
    for (size_t i = 0; rc == 0 && i < a->npairs; i++) {
        const struct test_acc_pair *p = &a->psum[i];
        if (remap[p->function] == UINT32_MAX)
            continue;
        struct test_stat *s = &t->tests[p->test];
        s->functions[s->nfunctions++] =
            (struct test_fn_time){remap[p->function], p->ms / runs, p->self_ms / runs};
    }
    for (size_t i = 0; rc == 0 && i < t->ntests; i++)
        array_sort(t->tests[i].functions, t->tests[i].nfunctions, sizeof *t->tests[i].functions,
              cmp_fn_time);
    if (rc == 0)
        array_sort(t->tests, t->ntests, sizeof *t->tests, cmp_stat);
    free(remap);
    free(counts);
    if (rc == 0) {
        *out = *t;
        test_profile_init(t);
    }
    test_acc_abort(a);
    if (rc != 0)
        test_profile_init(out);
    return rc;
}

/* ---- judging --------------------------------------------------------------------------------- */

const char *test_status_name(enum test_status s)
{
    return s == TEST_STATUS_REGRESSION ? "REGRESSION"
           : s == TEST_STATUS_PASS     ? "PASS"
                                       : "NOT_JUDGED";
}

const char *test_note_text(unsigned note)
{
    switch (note) {
    case TEST_NOTE_NO_BASELINE:
        return "the baseline has no per-test figures (written by an older profreg, or its runs "
               "had no recognised tests): test times were not judged; refresh it with "
               "'profreg baseline set'";
    case TEST_NOTE_FEW_RUNS:
        return "test times are judged with 2 or more runs on each side (Welch's t-test); "
               "with fewer they are shown but not judged";
    case TEST_NOTE_BENCHMARK:
        return "Google Benchmark runs each benchmark until its minimum time: a benchmark's CPU "
               "time follows its iteration count, not its code's speed, unless the iterations "
               "are fixed (->Iterations(N)); its functions' shares say where the time went";
    case TEST_NOTE_NO_STACKS:
        return "some runs have no stacks (not written by libprofreg.so): they are left out of "
               "the per-test figures";
    default:
        return "";
    }
}

void test_judgement_free(struct test_judgement *t)
{
    free(t->tests);
    free(t->functions);
    memset(t, 0, sizeof *t);
}

bool test_judgement_failed(const struct test_judgement *t)
{
    return t && t->options.fail && t->regressed > 0;
}

static void judge_one(struct judged_test *jt, const struct test_stat *c, const struct test_stat *b,
                      const struct test_profile *cur, const struct test_profile *base,
                      const struct test_judge_options *o, unsigned *notes)
{
    const struct test_stat *any = c ? c : b;
    memset(jt, 0, sizeof *jt);
    if (!any)
        return;
    jt->name = any->name;
    jt->kind = any->kind;
    jt->current_ms = c ? c->mean_ms : NAN;
    jt->current_sd = c ? c->sd_ms : NAN;
    jt->current_share = c ? c->mean_share : NAN;
    jt->current_runs = c ? c->runs : 0;
    jt->baseline_ms = b ? b->mean_ms : NAN;
    jt->baseline_sd = b ? b->sd_ms : NAN;
    jt->baseline_share = b ? b->mean_share : NAN;
    jt->baseline_runs = b ? b->runs : 0;
    jt->p_value = NAN;
    jt->diff_percent =
        b && c && b->mean_ms > 0 ? (c->mean_ms - b->mean_ms) / b->mean_ms * 100 : NAN;
    jt->delta_ms = b && c ? c->mean_ms - b->mean_ms : NAN;
    jt->status = TEST_STATUS_NOT_JUDGED;
    if (!b || !c)
        return; /* a new test, or one that is gone: nothing to judge it against */
    if (cur->runs < 2 || base->runs < 2) {
        *notes |= TEST_NOTE_FEW_RUNS;
        return;
    }
    jt->over_threshold = b->mean_ms > 0 ? jt->diff_percent > o->threshold_percent : c->mean_ms > 0;
    jt->moved_enough =
        jt->delta_ms > 0 && jt->delta_ms >= o->min_delta / 100 * test_profile_run_ms(base);
    jt->p_value = stats_welch_greater(c->mean_ms, c->sd_ms, cur->runs, b->mean_ms, b->sd_ms,
                                      base->runs, NULL);
    jt->significant = jt->p_value < 1 - o->confidence / 100;
    jt->status = jt->over_threshold && jt->moved_enough && jt->significant ? TEST_STATUS_REGRESSION
                                                                           : TEST_STATUS_PASS;
}

static long find_name(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (long)i;
    return -1;
}

/* A function's mean ms within a test (total or self), 0 when not listed. */
static double fn_ms(const struct test_stat *s, long f, enum judge_metric m)
{
    for (size_t i = 0; s && f >= 0 && i < s->nfunctions; i++)
        if (s->functions[i].function == (uint32_t)f)
            return m == METRIC_SELF ? s->functions[i].self_mean_ms : s->functions[i].mean_ms;
    return 0;
}

static void explain(struct function_tests *ft, const char *name, const struct test_profile *cur,
                    const struct test_profile *base, enum judge_metric m)
{
    memset(ft, 0, sizeof *ft);
    ft->function = name;
    long fc = find_name(cur->function_names, cur->nfunction_names, name);
    long fb = base ? find_name(base->function_names, base->nfunction_names, name) : -1;
    ft->tracked = fc >= 0;
    for (size_t i = 0; fc >= 0 && i < cur->ntests; i++) {
        const struct test_stat *c = &cur->tests[i];
        const struct test_stat *b = base ? test_profile_find(base, c->name) : NULL;
        struct test_growth g = {c->name, fn_ms(c, fc, m), fn_ms(b, fb, m), 0};
        g.growth_ms = g.current_ms - g.baseline_ms;
        if (!(g.growth_ms > 0))
            continue;
        if (ft->ntop == 3 && g.growth_ms <= ft->top[2].growth_ms)
            continue;
        size_t at = ft->ntop < 3 ? ft->ntop++ : 2;
        while (at > 0 && ft->top[at - 1].growth_ms < g.growth_ms) {
            ft->top[at] = ft->top[at - 1];
            at--;
        }
        ft->top[at] = g;
    }
}

int testattr_judge(const struct test_profile *current, const struct test_profile *baseline,
                   const struct judgement *j, const struct test_judge_options *o,
                   struct test_judgement *out)
{
    memset(out, 0, sizeof *out);
    out->options = *o;
    bool have_base = baseline && baseline->ntests > 0;
    if (!have_base)
        out->notes |= TEST_NOTE_NO_BASELINE;
    if (current->runs_without_stacks)
        out->notes |= TEST_NOTE_NO_STACKS;
    size_t cap = current->ntests + (have_base ? baseline->ntests : 0);
    out->tests = calloc(cap ? cap : 1, sizeof *out->tests);
    size_t nreg = 0;
    for (size_t i = 0; j && i < j->ncompared; i++)
        nreg += j->compared[i].status == VERDICT_REGRESSION;
    out->functions = calloc(nreg ? nreg : 1, sizeof *out->functions);
    if (!out->tests || !out->functions) {
        test_judgement_free(out);
        return -1;
    }
    for (size_t i = 0; i < current->ntests; i++) {
        const struct test_stat *c = &current->tests[i];
        judge_one(&out->tests[out->ntests++], c,
                  have_base ? test_profile_find(baseline, c->name) : NULL, current, baseline, o,
                  &out->notes);
    }
    for (size_t i = 0; have_base && i < baseline->ntests; i++) {
        const struct test_stat *b = &baseline->tests[i];
        if (!test_profile_find(current, b->name))
            judge_one(&out->tests[out->ntests++], NULL, b, current, baseline, o, &out->notes);
    }
    for (size_t i = 0; i < out->ntests; i++) {
        enum test_status s = out->tests[i].status;
        if (out->tests[i].kind == TEST_KIND_BENCHMARK)
            out->notes |= TEST_NOTE_BENCHMARK;
        out->regressed += s == TEST_STATUS_REGRESSION;
        out->passed += s == TEST_STATUS_PASS;
        out->not_judged += s == TEST_STATUS_NOT_JUDGED;
    }
    for (size_t i = 0; j && i < j->ncompared; i++)
        if (j->compared[i].status == VERDICT_REGRESSION)
            explain(&out->functions[out->nfunctions++], j->compared[i].name, current,
                    have_base ? baseline : NULL,
                    o->metric == METRIC_BOTH ? j->compared[i].decided_by : o->metric);
    return 0;
}
