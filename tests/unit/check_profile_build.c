/* SPDX-License-Identifier: MIT */
/* check_profile_build.c — raw stacks -> functions: PC-1 lookups, one resolution per address,
 * inline expansion, inclusive once per stack, self = leaf, merging, unique names, sorting,
 * and the profile model's sort and merge. The resolver is a table, so every expected count
 * below follows from the stacks given. */
#include "testutil.h"

#include <errno.h>
#include <inttypes.h>

#include "symbolize/profile_build.h"

#include <string.h>

struct fake_addr {
    uint64_t addr;
    const char *names[3]; /* innermost first; NULL-terminated */
    const char *module;
    bool all_inlined; /* a broken resolver: even the outermost frame marked inlined */
};

static const struct fake_addr table[] = {
    {0x100, {"leaf", NULL}, "app", false},
    {0x1ff, {"caller", NULL}, "app", false},         /* return address 0x200, looked up at 0x1ff */
    {0x2ff, {"main", NULL}, "app", false},           /* return address 0x300 */
    {0x400, {"inner", "outer", NULL}, "app", false}, /* an inline chain */
    {0x4ff, {"outer_caller", NULL}, "app", false},
    {0x500, {"helper", NULL}, "libA.so", false}, /* same name, two modules */
    {0x600, {"helper", NULL}, "libB.so", false},
    {0x7ff, {"rec", NULL}, "app", false},
    {0x800, {"rec", NULL}, "app", false},
    {0x900, {"inner", NULL}, "app", false}, /* inner called (not inlined) from outer */
    {0x9ff, {"outer", NULL}, "app", false},
    {0xb00, {"x", "y", NULL}, "app", true},
    {0xc00, {"foo(int) [clone .constprop.0]", NULL}, "app", false},
    {0xcff, {"foo(int)", NULL}, "app", false},
    {0xe00, {"foo(int) [clone .isra.0] [clone .cold]", NULL}, "app", false},
    {0xc10, {"foo.part.0", NULL}, "app", false},
    {0xc1f, {"foo", NULL}, "app", false},
};

static uint64_t asked[64];
static size_t nasked;

static size_t fake_resolve(void *ctx, uint64_t addr, struct sym_frame *out, size_t max)
{
    (void)ctx;
    asked[nasked++ % 64] = addr;
    if (addr == 0xdead)
        return 0; /* "profreg's own frame": dropped */
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].addr != addr)
            continue;
        size_t n = 0;
        for (; table[i].names[n] && n < max; n++)
            out[n] = (struct sym_frame){
                table[i].names[n], "f.c",
                "/src/f.c",        table[i].module,
                (long)(10 + n),    table[i].names[n + 1] != NULL || table[i].all_inlined};
        return n;
    }
    out[0] = (struct sym_frame){"unexpected", NULL, NULL, NULL, -1, false};
    return 1;
}

#define EX(a) ((a) | PB_EXACT_PC)

static void build(struct pr_profile *p, const struct pb_raw_stack *s, size_t n)
{
    char err[256];
    profile_init(p);
    nasked = 0;
    ck_assert_int_eq(profile_build(p, s, n, fake_resolve, NULL, err, sizeof err), 0);
}

static const struct pr_function *fn(const struct pr_profile *p, const char *name)
{
    long i = profile_find(p, name);
    ck_assert_msg(i >= 0, "%s missing", name);
    return &p->functions[i];
}

START_TEST(test_return_addresses_looked_up_at_pc_minus_one)
{
    uint64_t s1[] = {EX(0x100), 0x200, 0x300};
    uint64_t s2[] = {EX(0x100), 0x200, 0x300};
    struct pb_raw_stack raw[] = {{s1, 3, 2}, {s2, 3, 5}};
    struct pr_profile p;
    build(&p, raw, 2);
    ck_assert_uint_eq(nasked, 3); /* each distinct address resolved once */
    ck_assert(asked[0] == 0x100 && asked[1] == 0x1ff && asked[2] == 0x2ff);
    ck_assert_uint_eq(p.total_samples, 7);
    ck_assert_uint_eq(p.nstacks, 1); /* equal stacks merged */
    ck_assert_uint_eq(p.stacks[0].count, 7);
    ck_assert_uint_eq(fn(&p, "leaf")->self_samples, 7);
    ck_assert_uint_eq(fn(&p, "main")->samples, 7);
    ck_assert_uint_eq(fn(&p, "main")->self_samples, 0);
    /* root first: main, caller, leaf */
    ck_assert_str_eq(p.functions[p.stacks[0].frames[0]].name, "main");
    ck_assert_str_eq(p.functions[p.stacks[0].frames[2]].name, "leaf");
    profile_free(&p);
}
END_TEST

START_TEST(test_addresses_resolved_in_address_order)
{
    /* in stack order they would be asked 0x400, 0x1ff, 0x100, 0x4ff */
    uint64_t s1[] = {EX(0x400), 0x200};
    uint64_t s2[] = {EX(0x100), 0x500};
    struct pb_raw_stack raw[] = {{s1, 2, 1}, {s2, 2, 1}};
    struct pr_profile p;
    build(&p, raw, 2);
    ck_assert_uint_eq(nasked, 4);
    ck_assert(asked[0] == 0x100 && asked[1] == 0x1ff && asked[2] == 0x400 && asked[3] == 0x4ff);
    ck_assert_uint_eq(p.nstacks, 2);
    ck_assert_uint_eq(fn(&p, "inner")->self_samples, 1);
    ck_assert_uint_eq(fn(&p, "leaf")->self_samples, 1);
    profile_free(&p);
}
END_TEST

/* A resolver that names every address by its value; counts its calls. */
static size_t many_asked;
static uint64_t many_last;
static bool many_in_order;

static size_t name_by_value(void *ctx, uint64_t addr, struct sym_frame *out, size_t max)
{
    (void)ctx, (void)max;
    static char names[8192][24];
    if (many_asked > 0 && addr <= many_last)
        many_in_order = false;
    many_last = addr;
    snprintf(names[many_asked % 8192], sizeof names[0], "f%" PRIx64, addr);
    out[0] = (struct sym_frame){names[many_asked++ % 8192], NULL, NULL, "app", -1, false};
    return 1;
}

/* Thousands of distinct addresses (the table of addresses grows twice past its first 4,096
 * slots), address 0 among them: each is resolved once, in increasing order, and every
 * stack's samples land on its own function. */
START_TEST(test_many_distinct_addresses)
{
    enum { N = 6000 };
    static uint64_t pcs[2 * N][1];
    static struct pb_raw_stack raw[2 * N];
    for (size_t i = 0; i < 2 * N; i++) {
        /* each twice, in scattered order; return addresses, looked up at pc - 1 (0 too) */
        uint64_t addr = (uint64_t)((i * 7919) % N) * 16;
        pcs[i][0] = addr + 1;
        raw[i] = (struct pb_raw_stack){pcs[i], 1, 1 + (i >= N)};
    }
    struct pr_profile p;
    char err[256];
    profile_init(&p);
    many_asked = 0;
    many_in_order = true;
    ck_assert_int_eq(profile_build(&p, raw, 2 * N, name_by_value, NULL, err, sizeof err), 0);
    ck_assert_uint_eq(many_asked, N);
    ck_assert(many_in_order);
    ck_assert_uint_eq(p.nfunctions, N);
    ck_assert_uint_eq(p.total_samples, 3 * N);
    for (size_t i = 0; i < p.nfunctions; i++)
        ck_assert_uint_eq(p.functions[i].self_samples, 3); /* 1 + 2: both stacks of it */
    ck_assert_uint_eq(fn(&p, "f0")->self_samples, 3);
    profile_free(&p);
}
END_TEST

START_TEST(test_inline_chain_expands_into_frames)
{
    uint64_t s1[] = {EX(0x400), 0x500 + 0}; /* 0x500 is a return address -> looked up 0x4ff */
    struct pb_raw_stack raw[] = {{s1, 2, 3}};
    struct pr_profile p;
    build(&p, raw, 1);
    ck_assert_uint_eq(p.stacks[0].depth, 3);
    ck_assert_str_eq(p.functions[p.stacks[0].frames[0]].name, "outer_caller");
    ck_assert_str_eq(p.functions[p.stacks[0].frames[1]].name, "outer");
    ck_assert_str_eq(p.functions[p.stacks[0].frames[2]].name, "inner");
    ck_assert_uint_eq(fn(&p, "inner")->self_samples, 3);
    ck_assert_uint_eq(fn(&p, "outer")->samples, 3);
    ck_assert_uint_eq(fn(&p, "outer")->self_samples, 0);
    ck_assert_int_eq(fn(&p, "outer")->line, 11);
    profile_free(&p);
}
END_TEST

/* The inlined marks of stack i, root first, as "010". */
static const char *marks(const struct pr_stack *st)
{
    static char buf[64];
    for (uint32_t d = 0; d < st->depth && d < 63; d++)
        buf[d] = st->inlined && st->inlined[d] ? '1' : '0';
    buf[st->depth < 63 ? st->depth : 63] = '\0';
    return buf;
}

START_TEST(test_inlined_frames_marked_and_part_of_stack_identity)
{
    uint64_t s1[] = {EX(0x400), 0x500};        /* outer_caller, outer, inner inlined */
    uint64_t s2[] = {EX(0x900), 0xa00, 0x500}; /* outer_caller, outer, inner called */
    struct pb_raw_stack raw[] = {{s1, 2, 3}, {s2, 3, 4}};
    struct pr_profile p;
    build(&p, raw, 2);
    ck_assert_uint_eq(p.nfunctions, 3);
    ck_assert_uint_eq(p.nstacks, 2); /* same functions, different marks */
    for (size_t i = 0; i < p.nstacks; i++) {
        ck_assert_uint_eq(p.stacks[i].depth, 3);
        ck_assert_str_eq(p.functions[p.stacks[i].frames[2]].name, "inner");
        if (p.stacks[i].count == 3)
            ck_assert_str_eq(marks(&p.stacks[i]), "001");
        else
            ck_assert_ptr_null(p.stacks[i].inlined); /* no frame inlined: no array */
    }
    ck_assert_uint_eq(fn(&p, "inner")->self_samples, 7);
    profile_free(&p);
}
END_TEST

START_TEST(test_root_is_never_marked_inlined)
{
    uint64_t s1[] = {EX(0xb00)};
    uint64_t s2[] = {EX(0x400)};
    struct pb_raw_stack raw[] = {{s1, 1, 1}, {s2, 1, 1}};
    struct pr_profile p;
    build(&p, raw, 2);
    ck_assert_uint_eq(p.nstacks, 2);
    for (size_t i = 0; i < p.nstacks; i++)
        ck_assert_str_eq(marks(&p.stacks[i]), "01");
    profile_free(&p);
}
END_TEST

START_TEST(test_clone_names_fold_into_one_function)
{
    uint64_t s1[] = {EX(0xc00), 0xd00, 0x300}; /* the clone called by its original */
    uint64_t s2[] = {EX(0xe00), 0x300};        /* the clone's cold part */
    uint64_t s3[] = {EX(0xcff), 0x300};        /* the original */
    uint64_t s4[] = {EX(0xc10), 0xc20, 0x300}; /* C: foo.part.0 called by foo */
    struct pb_raw_stack raw[] = {{s1, 3, 2}, {s2, 2, 3}, {s3, 2, 5}, {s4, 3, 7}};
    struct pr_profile p;
    build(&p, raw, 4);
    ck_assert_uint_eq(p.nfunctions, 3);
    const struct pr_function *cxx = fn(&p, "foo(int)");
    ck_assert_str_eq(cxx->raw_name, "foo(int) [clone .constprop.0]"); /* the first seen */
    ck_assert_uint_eq(cxx->samples, 10);
    ck_assert_uint_eq(cxx->self_samples, 10);
    const struct pr_function *c = fn(&p, "foo");
    ck_assert_str_eq(c->raw_name, "foo.part.0");
    ck_assert_uint_eq(c->self_samples, 7);
    ck_assert_uint_eq(p.nstacks, 2); /* main;foo(int) and main;foo, one frame each */
    for (size_t i = 0; i < p.nstacks; i++)
        ck_assert_uint_eq(p.stacks[i].depth, 2);
    ck_assert_int_lt(profile_find(&p, "foo(int) [clone .constprop.0]"), 0);
    profile_free(&p);
}
END_TEST

START_TEST(test_recursion_counts_once_per_stack)
{
    uint64_t s1[] = {EX(0x800), 0x800, 0x800, 0x800, 0x300};
    uint64_t s2[] = {EX(0x100), 0x300};
    struct pb_raw_stack raw[] = {{s1, 5, 4}, {s2, 2, 6}};
    struct pr_profile p;
    build(&p, raw, 2);
    const struct pr_function *rec = fn(&p, "rec");
    ck_assert_uint_eq(rec->samples, 4);
    ck_assert_uint_eq(rec->self_samples, 4);
    ck_assert(rec->percentage > 39.99 && rec->percentage < 40.01);
    ck_assert_uint_eq(fn(&p, "main")->samples, 10);
    double self_sum = 0;
    for (size_t i = 0; i < p.nfunctions; i++)
        self_sum += p.functions[i].self_percentage;
    ck_assert(self_sum > 99.999 && self_sum < 100.001);
    profile_free(&p);
}
END_TEST

START_TEST(test_same_name_in_two_modules_gets_unique_names)
{
    uint64_t s1[] = {EX(0x500)};
    uint64_t s2[] = {EX(0x600)};
    struct pb_raw_stack raw[] = {{s1, 1, 1}, {s2, 1, 2}};
    struct pr_profile p;
    build(&p, raw, 2);
    ck_assert_uint_eq(p.nfunctions, 2);
    ck_assert_int_ge(profile_find(&p, "helper [libA.so:f.c]"), 0);
    ck_assert_int_ge(profile_find(&p, "helper [libB.so:f.c]"), 0);
    profile_free(&p);
}
END_TEST

START_TEST(test_sorted_by_samples_then_name)
{
    uint64_t s1[] = {EX(0x100)};
    uint64_t s2[] = {EX(0x800)};
    uint64_t s3[] = {EX(0x500)};
    struct pb_raw_stack raw[] = {{s1, 1, 2}, {s2, 1, 2}, {s3, 1, 5}};
    struct pr_profile p;
    build(&p, raw, 3);
    ck_assert_str_eq(p.functions[0].name, "helper");
    ck_assert_str_eq(p.functions[1].name, "leaf"); /* tie with rec: by name */
    ck_assert_str_eq(p.functions[2].name, "rec");
    /* stacks still point at the right functions after sorting */
    for (size_t i = 0; i < p.nstacks; i++) {
        const char *leaf = p.functions[p.stacks[i].frames[0]].name;
        ck_assert_uint_eq(p.stacks[i].count, strcmp(leaf, "helper") == 0 ? 5 : 2);
    }
    profile_free(&p);
}
END_TEST

START_TEST(test_dropped_frames_and_empty_stacks)
{
    uint64_t s1[] = {EX(0x100), 0xdead + 1, 0x300}; /* profreg frame in the middle */
    uint64_t s2[] = {EX(0xdead)};                   /* nothing but profreg */
    struct pb_raw_stack raw[] = {{s1, 3, 1}, {s2, 1, 1}};
    struct pr_profile p;
    build(&p, raw, 2);
    ck_assert_uint_eq(p.total_samples, 2);
    ck_assert_int_ge(profile_find(&p, PB_EMPTY_STACK_NAME), 0);
    for (size_t i = 0; i < p.nstacks; i++)
        if (p.stacks[i].depth == 2) {
            ck_assert_str_eq(p.functions[p.stacks[i].frames[0]].name, "main");
            ck_assert_str_eq(p.functions[p.stacks[i].frames[1]].name, "leaf");
        }
    profile_free(&p);
}
END_TEST

START_TEST(test_merge_sums_by_name)
{
    uint64_t s1[] = {EX(0x100), 0x300};
    uint64_t s2[] = {EX(0x800), 0x300};
    struct pb_raw_stack r1[] = {{s1, 2, 3}};
    struct pb_raw_stack r2[] = {{s2, 2, 1}, {s1, 2, 1}};
    struct pr_profile a, b, m;
    build(&a, r1, 1);
    build(&b, r2, 2);
    profile_init(&m);
    ck_assert_int_eq(profile_merge(&m, &a), 0);
    ck_assert_int_eq(profile_merge(&m, &b), 0);
    ck_assert_uint_eq(m.total_samples, 5);
    ck_assert_uint_eq(fn(&m, "leaf")->self_samples, 4);
    ck_assert_uint_eq(fn(&m, "main")->samples, 5);
    ck_assert(fn(&m, "leaf")->percentage > 79.99 && fn(&m, "leaf")->percentage < 80.01);
    ck_assert_uint_eq(m.nstacks, 2);
    uint64_t stack_total = 0;
    for (size_t i = 0; i < m.nstacks; i++)
        stack_total += m.stacks[i].count;
    ck_assert_uint_eq(stack_total, 5);
    ck_assert_str_eq(m.functions[0].name, "main");
    profile_free(&a);
    profile_free(&b);
    profile_free(&m);
}
END_TEST

/* Merging runs whose samples add up past INT64_MAX (totals, a function's samples, a stack's
 * count) fails with EOVERFLOW instead of wrapping. */
START_TEST(test_merge_refuses_counts_that_do_not_fit)
{
    const uint64_t big = 6000000000000000000ull; /* two of them pass INT64_MAX */
    for (int what = 0; what < 3; what++) {
        uint64_t s1[] = {EX(0x100), 0x300};
        struct pb_raw_stack r1[] = {{s1, 2, 3}};
        struct pr_profile a, m;
        build(&a, r1, 1);
        if (what == 0)
            a.total_samples = big;
        else if (what == 1)
            a.functions[0].samples = big;
        else
            a.stacks[0].count = big;
        profile_init(&m);
        ck_assert_int_eq(profile_merge(&m, &a), 0);
        errno = 0;
        ck_assert_msg(profile_merge(&m, &a) != 0, "case %d: merged", what);
        ck_assert_int_eq(errno, EOVERFLOW);
        profile_free(&a);
        profile_free(&m);
    }
}
END_TEST

/* A resolver whose strings are each in a buffer of its own: equal text at other addresses. */
static char *own[8][3];

static size_t own_resolve(void *ctx, uint64_t addr, struct sym_frame *out, size_t max)
{
    (void)ctx;
    (void)max;
    size_t i = (size_t)(addr >> 4) - 1; /* 0x10 -> 0, 0x20 -> 1, ... */
    ck_assert(i < 8 && own[i][0]);
    out[0] =
        (struct sym_frame){own[i][0], strrchr(own[i][2], '/') + 1, own[i][2], own[i][1], 7, false};
    return 1;
}

START_TEST(test_equal_strings_anywhere_are_one_function)
{
    static const char *text[5][3] = {{"dup", "app", "/src/d.c"},
                                     {"dup", "app", "/src/d.c"},
                                     {"dup [clone .cold]", "app", "/src/d.c"},
                                     {NULL, NULL, "/src/e.c"},
                                     {"other", "app", "/src/d.c"}};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 3; k++)
            own[i][k] = text[i][k] ? strdup(text[i][k]) : NULL;
    /* 0x40: dup's very name and module strings, but another defining file */
    own[3][0] = own[0][0];
    own[3][1] = own[0][1];
    uint64_t s1[] = {EX(0x10)}, s2[] = {EX(0x20)}, s3[] = {EX(0x30)}, s4[] = {EX(0x40)},
             s5[] = {EX(0x10)}, s6[] = {EX(0x50)};
    struct pb_raw_stack raw[] = {{s1, 1, 1}, {s2, 1, 2},  {s3, 1, 4},
                                 {s4, 1, 8}, {s5, 1, 16}, {s6, 1, 32}};
    struct pr_profile p;
    char err[256];
    profile_init(&p);
    ck_assert_int_eq(profile_build(&p, raw, 6, own_resolve, NULL, err, sizeof err), 0);
    ck_assert_uint_eq(p.nfunctions, 3);
    /* two functions named dup, told apart by their defining file: 1 + 2 + 4 + 16 and 8 */
    ck_assert_uint_eq(fn(&p, "dup [app:d.c]")->samples, 23);
    ck_assert_str_eq(fn(&p, "dup [app:d.c]")->raw_name, "dup [clone .cold]");
    ck_assert_uint_eq(fn(&p, "dup [app:e.c]")->samples, 8);
    ck_assert_uint_eq(fn(&p, "other")->samples, 32);
    profile_free(&p);
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 3; k++)
            if (!(i == 3 && k < 2))
                free(own[i][k]);
}
END_TEST

START_TEST(test_names_shared_past_module_and_file_get_numbers)
{
    /* three functions named same: two in files named x.c (of different directories) */
    static const char *text[3][3] = {
        {"same", "m", "/a/x.c"}, {"same", "m", "/b/x.c"}, {"same", "m", "/c/y.c"}};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++)
            own[i][k] = strdup(text[i][k]);
    uint64_t s1[] = {EX(0x10)}, s2[] = {EX(0x20)}, s3[] = {EX(0x30)};
    struct pb_raw_stack raw[] = {{s1, 1, 1}, {s2, 1, 2}, {s3, 1, 4}};
    struct pr_profile p;
    char err[256];
    profile_init(&p);
    ck_assert_int_eq(profile_build(&p, raw, 3, own_resolve, NULL, err, sizeof err), 0);
    ck_assert_uint_eq(p.nfunctions, 3);
    ck_assert_uint_eq(fn(&p, "same [m:y.c]")->samples, 4);
    int numbered = 0;
    for (size_t i = 0; i < p.nfunctions; i++) {
        if (strncmp(p.functions[i].name, "same [m:x.c] #", 14) == 0)
            numbered++;
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(p.functions[i].name, p.functions[j].name);
    }
    ck_assert_int_eq(numbered, 2);
    profile_free(&p);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++)
            free(own[i][k]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile_build");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_return_addresses_looked_up_at_pc_minus_one);
    tcase_add_test(tc, test_addresses_resolved_in_address_order);
    tcase_add_test(tc, test_many_distinct_addresses);
    tcase_add_test(tc, test_inline_chain_expands_into_frames);
    tcase_add_test(tc, test_inlined_frames_marked_and_part_of_stack_identity);
    tcase_add_test(tc, test_root_is_never_marked_inlined);
    tcase_add_test(tc, test_clone_names_fold_into_one_function);
    tcase_add_test(tc, test_recursion_counts_once_per_stack);
    tcase_add_test(tc, test_same_name_in_two_modules_gets_unique_names);
    tcase_add_test(tc, test_sorted_by_samples_then_name);
    tcase_add_test(tc, test_dropped_frames_and_empty_stacks);
    tcase_add_test(tc, test_merge_sums_by_name);
    tcase_add_test(tc, test_merge_refuses_counts_that_do_not_fit);
    tcase_add_test(tc, test_equal_strings_anywhere_are_one_function);
    tcase_add_test(tc, test_names_shared_past_module_and_file_get_numbers);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
