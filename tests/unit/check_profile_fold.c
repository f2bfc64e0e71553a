/* SPDX-License-Identifier: MIT */
/* check_profile_fold.c — clone names folded into their base function (name_fold_clones,
 * profile_fold_clones) and inlined frames folded into their caller (profile_fold_inlines):
 * the suffixes GCC and LLVM add, names that only look like clones, merged counts, stacks that
 * become equal, and broken input (a root marked inlined, frames naming no function). */
#include "testutil.h"

#include "core/profile.h"

#include <stdlib.h>
#include <string.h>

static void expect_fold(const char *name, const char *want)
{
    char *got = name_fold_clones(name);
    if (!want)
        ck_assert_msg(got == NULL, "%s -> %s, expected unchanged", name, got);
    else
        ck_assert_msg(got && strcmp(got, want) == 0, "%s -> %s, expected %s", name,
                      got ? got : "(unchanged)", want);
    free(got);
}

START_TEST(test_name_fold_clones_cxxfilt_forms)
{
    expect_fold("foo(int) [clone .constprop.0]", "foo(int)");
    expect_fold("foo(int) [clone .isra.0] [clone .cold]", "foo(int)");
    expect_fold("ns::A<int>::run() const [clone .part.0]", "ns::A<int>::run() const");
    expect_fold("run(int)::{lambda(double)#1}::operator()(double) const [clone .constprop.0] "
                "[clone .isra.0]",
                "run(int)::{lambda(double)#1}::operator()(double) const");
    expect_fold("f() [clone .lto_priv.0]", "f()");
}
END_TEST

START_TEST(test_name_fold_clones_c_symbols)
{
    expect_fold("foo.part.0", "foo");
    expect_fold("foo.constprop.0.isra.0", "foo");
    expect_fold("msort_with_tmp.part.0", "msort_with_tmp");
    expect_fold("foo.cold", "foo");
    expect_fold("foo.part.0.cold", "foo");
    expect_fold("foo.llvm.123456", "foo");
    expect_fold("foo.localalias", "foo");
    expect_fold("_Z3fooi.constprop.0", "_Z3fooi"); /* a mangled name c++filt could not read */
}
END_TEST

START_TEST(test_name_fold_clones_leaves_other_names)
{
    expect_fold("foo", NULL);
    expect_fold("foo(int)", NULL);
    expect_fold("operator[](unsigned long)", NULL);
    expect_fold("std::vector<int, std::allocator<int> >::operator[](unsigned long)", NULL);
    expect_fold("libfoo.part.so+0x1040", NULL); /* a module and offset, not a clone */
    expect_fold("libc.so.6+0x27280", NULL);
    expect_fold("cold", NULL);
    expect_fold(".cold", NULL);
    expect_fold("[clone .cold]", NULL);
    expect_fold("]", NULL);
    expect_fold("", NULL);
    expect_fold("a [clone", NULL);
    expect_fold("foo.coldness", NULL);
    expect_fold("foo.partial.0", NULL);
    expect_fold("[unknown]", NULL);
}
END_TEST

/* A profile from function names and stacks: each stack is root-first frame indices,
 * terminated by -1, with '*' before an index marking that frame inlined (as text below). */
struct spec_stack {
    const char *frames; /* "0 1 *2": frame 2 is inlined into frame 1 */
    uint64_t count;
};

static void make_profile(struct pr_profile *p, const char *const *names, size_t n,
                         const struct spec_stack *stacks, size_t nstacks)
{
    profile_init(p);
    p->functions = calloc(n, sizeof *p->functions);
    for (size_t i = 0; i < n; i++) {
        p->functions[i].name = strdup(names[i]);
        p->functions[i].module = strdup("app");
        p->functions[i].line = -1;
    }
    p->nfunctions = n;
    p->has_stacks = true;
    p->stacks = calloc(nstacks, sizeof *p->stacks);
    for (size_t s = 0; s < nstacks; s++) {
        struct pr_stack *st = &p->stacks[s];
        st->frames = calloc(64, sizeof *st->frames);
        uint8_t inl[64] = {0};
        bool any = false;
        const char *c = stacks[s].frames;
        while (*c) {
            while (*c == ' ')
                c++;
            if (!*c)
                break;
            bool mark = *c == '*';
            if (mark)
                c++;
            char *end;
            st->frames[st->depth] = (uint32_t)strtoul(c, &end, 10);
            inl[st->depth] = mark;
            any |= mark;
            st->depth++;
            c = end;
        }
        if (any) {
            st->inlined = malloc(st->depth);
            memcpy(st->inlined, inl, st->depth);
        }
        st->count = stacks[s].count;
    }
    p->nstacks = nstacks;
    ck_assert_int_eq(profile_recount(p), 0); /* not sorted: broken frames stay as given */
}

static const struct pr_function *fn(const struct pr_profile *p, const char *name)
{
    long i = profile_find(p, name);
    ck_assert_msg(i >= 0, "%s missing", name);
    return &p->functions[i];
}

static void check_invariants(const struct pr_profile *p)
{
    uint64_t self = 0, stacks = 0;
    for (size_t i = 0; i < p->nfunctions; i++) {
        self += p->functions[i].self_samples;
        ck_assert(p->functions[i].samples <= p->total_samples);
    }
    for (size_t s = 0; s < p->nstacks; s++) {
        stacks += p->stacks[s].count;
        for (uint32_t d = 0; d < p->stacks[s].depth; d++)
            ck_assert_uint_lt(p->stacks[s].frames[d], p->nfunctions);
        if (p->stacks[s].inlined)
            ck_assert_int_eq(p->stacks[s].inlined[0], 0);
    }
    ck_assert_uint_eq(self, p->total_samples);
    ck_assert_uint_eq(stacks, p->total_samples);
}

START_TEST(test_fold_clones_merges_functions_and_keeps_raw_name)
{
    const char *names[] = {"main", "foo(int)", "foo(int) [clone .constprop.0]",
                           "foo(int) [clone .constprop.0] [clone .cold]", "bar"};
    struct spec_stack st[] = {
        {"0 1", 3},   /* the original */
        {"0 2", 5},   /* its clone */
        {"0 2 3", 2}, /* the clone's cold part under it: one frame */
        {"0 3", 1},   /* the cold part alone */
        {"0 2 4", 4}, /* a callee of the clone */
    };
    struct pr_profile p;
    make_profile(&p, names, 5, st, 5);
    ck_assert_int_eq(profile_fold_clones(&p), 0);
    ck_assert_uint_eq(p.nfunctions, 3);
    const struct pr_function *foo = fn(&p, "foo(int)");
    ck_assert_uint_eq(foo->samples, 15);
    ck_assert_uint_eq(foo->self_samples, 11);
    ck_assert_ptr_nonnull(foo->raw_name);
    ck_assert(strstr(foo->raw_name, "[clone .constprop.0]") != NULL);
    ck_assert_uint_eq(fn(&p, "bar")->samples, 4);
    ck_assert_ptr_null(fn(&p, "bar")->raw_name);
    ck_assert_uint_eq(fn(&p, "main")->samples, 15);
    /* "0 1", "0 2", "0 2 3", "0 3" all became main;foo */
    ck_assert_uint_eq(p.nstacks, 2);
    check_invariants(&p);
    profile_free(&p);
}
END_TEST

START_TEST(test_fold_clones_c_names_and_recursion_kept)
{
    const char *names[] = {"main", "msort_with_tmp.part.0", "msort_with_tmp", "qsort_r", "rec"};
    struct spec_stack st[] = {
        {"0 3 1 *2", 4}, /* msort_with_tmp inlined into its own .part.0: one frame */
        {"0 4 4 4", 2},  /* real recursion without clones stays three frames deep */
    };
    struct pr_profile p;
    make_profile(&p, names, 5, st, 2);
    ck_assert_int_eq(profile_fold_clones(&p), 0);
    const struct pr_function *m = fn(&p, "msort_with_tmp");
    ck_assert_str_eq(m->raw_name, "msort_with_tmp.part.0");
    ck_assert_uint_eq(m->self_samples, 4);
    for (size_t s = 0; s < p.nstacks; s++) {
        const struct pr_stack *x = &p.stacks[s];
        if (p.functions[x->frames[x->depth - 1]].name[0] == 'r')
            ck_assert_uint_eq(x->depth, 4);
        else
            ck_assert_uint_eq(x->depth, 3);
    }
    check_invariants(&p);
    profile_free(&p);
}
END_TEST

START_TEST(test_fold_clones_without_stacks)
{
    const char *names[] = {"foo(int)", "foo(int) [clone .isra.0]", "other"};
    struct spec_stack st[] = {{"0", 6}, {"1", 3}, {"2", 1}};
    struct pr_profile p;
    make_profile(&p, names, 3, st, 3);
    for (size_t s = 0; s < p.nstacks; s++) {
        free(p.stacks[s].frames);
        free(p.stacks[s].inlined);
    }
    free(p.stacks);
    p.stacks = NULL;
    p.nstacks = 0;
    p.has_stacks = false;
    ck_assert_int_eq(profile_fold_clones(&p), 0);
    ck_assert_uint_eq(p.nfunctions, 2);
    ck_assert_uint_eq(fn(&p, "foo(int)")->self_samples, 9);
    ck_assert_str_eq(fn(&p, "foo(int)")->raw_name, "foo(int) [clone .isra.0]");
    profile_free(&p);
}
END_TEST

START_TEST(test_fold_clones_nothing_to_fold)
{
    const char *names[] = {"main", "a"};
    struct spec_stack st[] = {{"0 1", 2}};
    struct pr_profile p;
    make_profile(&p, names, 2, st, 1);
    ck_assert_int_eq(profile_fold_clones(&p), 0);
    ck_assert_uint_eq(p.nfunctions, 2);
    ck_assert_ptr_null(fn(&p, "a")->raw_name);
    profile_free(&p);

    struct pr_profile empty;
    profile_init(&empty);
    ck_assert_int_eq(profile_fold_clones(&empty), 0);
    ck_assert_int_eq(profile_fold_inlines(&empty), 0);
    profile_free(&empty);
}
END_TEST

START_TEST(test_fold_inlines_moves_self_to_caller)
{
    const char *names[] = {"main", "outer", "inl_a", "inl_b", "callee"};
    struct spec_stack st[] = {
        {"0 1 *2 *3", 5}, /* two levels inlined into outer */
        {"0 1 *2 4", 2},  /* a real call made from inlined code */
        {"0 1", 1},
    };
    struct pr_profile p;
    make_profile(&p, names, 5, st, 3);
    ck_assert_uint_eq(fn(&p, "inl_b")->self_samples, 5);
    ck_assert_int_eq(profile_fold_inlines(&p), 0);
    ck_assert_int_lt(profile_find(&p, "inl_a"), 0);
    ck_assert_int_lt(profile_find(&p, "inl_b"), 0);
    ck_assert_uint_eq(fn(&p, "outer")->self_samples, 6);
    ck_assert_uint_eq(fn(&p, "outer")->samples, 8);
    ck_assert_uint_eq(fn(&p, "callee")->self_samples, 2);
    ck_assert_uint_eq(p.nstacks, 2); /* "0 1 *2 *3" and "0 1" merged */
    for (size_t s = 0; s < p.nstacks; s++)
        ck_assert_ptr_null(p.stacks[s].inlined);
    check_invariants(&p);
    profile_free(&p);
}
END_TEST

START_TEST(test_fold_inlines_broken_input)
{
    const char *names[] = {"root", "a", "b"};
    struct spec_stack st[] = {
        {"*0 *1 2", 3}, /* the root marked inlined: it stays, it has nothing to go into */
        {"0 7 2", 2},   /* a frame naming no function */
    };
    struct pr_profile p;
    make_profile(&p, names, 3, st, 2);
    ck_assert_int_eq(profile_fold_inlines(&p), 0);
    ck_assert_uint_eq(fn(&p, "root")->samples, 5);
    ck_assert_int_lt(profile_find(&p, "a"), 0);
    ck_assert_uint_eq(fn(&p, "b")->self_samples, 5);
    check_invariants(&p);
    profile_free(&p);

    /* without any inlined mark, and without stacks: nothing changes */
    struct spec_stack plain[] = {{"0 1 2", 1}};
    make_profile(&p, names, 3, plain, 1);
    ck_assert_int_eq(profile_fold_inlines(&p), 0);
    ck_assert_uint_eq(p.nfunctions, 3);
    p.has_stacks = false;
    ck_assert_int_eq(profile_fold_inlines(&p), 0);
    ck_assert_uint_eq(p.nfunctions, 3);
    profile_free(&p);
}
END_TEST

START_TEST(test_fold_clones_broken_frames)
{
    const char *names[] = {"main", "f.part.0", "f"};
    struct spec_stack st[] = {{"0 9 1", 2}, {"0 2", 1}};
    struct pr_profile p;
    make_profile(&p, names, 3, st, 2);
    ck_assert_int_eq(profile_fold_clones(&p), 0);
    ck_assert_uint_eq(fn(&p, "f")->self_samples, 3);
    check_invariants(&p);
    profile_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile_fold");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_name_fold_clones_cxxfilt_forms);
    tcase_add_test(tc, test_name_fold_clones_c_symbols);
    tcase_add_test(tc, test_name_fold_clones_leaves_other_names);
    tcase_add_test(tc, test_fold_clones_merges_functions_and_keeps_raw_name);
    tcase_add_test(tc, test_fold_clones_c_names_and_recursion_kept);
    tcase_add_test(tc, test_fold_clones_without_stacks);
    tcase_add_test(tc, test_fold_clones_nothing_to_fold);
    tcase_add_test(tc, test_fold_inlines_moves_self_to_caller);
    tcase_add_test(tc, test_fold_inlines_broken_input);
    tcase_add_test(tc, test_fold_clones_broken_frames);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
