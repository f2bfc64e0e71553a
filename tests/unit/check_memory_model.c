/* SPDX-License-Identifier: MIT */
/* check_memory_model.c — the memory section: built from raw allocation stacks (a resolver
 * table, so every expected figure follows from the stacks given), written and read back,
 * refused when broken (one line naming the key), seen one metric at a time (memory_view) and
 * joined back (memory_join), merged by profile_merge. */
#include "testutil.h"

#include "core/memory.h"
#include "symbolize/memory_build.h"
#include "analysis/read/profile_read.h"
#include "core/profile_write.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fake_addr {
    uint64_t addr;
    const char *names[3]; /* innermost first */
};

/* Return addresses are looked up at address - 1. */
static const struct fake_addr table[] = {
    {0x0ff, {"operator new(unsigned long)", NULL}},
    {0x1ff, {"make_node", NULL}},
    {0x2ff, {"build", NULL}},
    {0x3ff, {"main", NULL}},
    {0x4ff, {"push", "grow", NULL}}, /* push inlined into grow */
    {0x5ff, {"leaky", NULL}},
};

static size_t fake_resolve(void *ctx, uint64_t addr, struct sym_frame *out, size_t max)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].addr != addr)
            continue;
        size_t n = 0;
        for (; table[i].names[n] && n < max; n++)
            out[n] = (struct sym_frame){table[i].names[n], "m.c",
                                        "/src/m.c",        "app",
                                        (long)(20 + n),    table[i].names[n + 1] != NULL};
        return n;
    }
    return 0; /* profreg's own frame: dropped */
}

/* leaf first, as the preload stores them */
static const uint64_t s_new[] = {0x100, 0x200, 0x300, 0x400};   /* main>build>make_node>new */
static const uint64_t s_direct[] = {0x200, 0x300, 0x400};       /* main>build>make_node */
static const uint64_t s_grow[] = {0xdead, 0x500, 0x300, 0x400}; /* main>build>grow>push */
static const uint64_t s_leak[] = {0x600, 0x400};                /* main>leaky */

enum { S_NEW, S_DIRECT, S_GROW, S_LEAK, NRAW };

static void raw_stacks(struct mb_raw_stack raw[NRAW])
{
    memset(raw, 0, NRAW * sizeof *raw);
    raw[S_NEW] = (struct mb_raw_stack){s_new, 4, {1000, 10, 300, 0, 4}};
    raw[S_DIRECT] = (struct mb_raw_stack){s_direct, 3, {500, 5, 100, 50, 2}};
    raw[S_GROW] = (struct mb_raw_stack){s_grow, 4, {4000, 2, 2000, 0, 8}};
    raw[S_LEAK] = (struct mb_raw_stack){s_leak, 2, {700, 7, 700, 700, 3}};
}

/* A profile whose memory section is built from raw_stacks. */
static void built(struct pr_profile *p)
{
    profile_init(p);
    struct mb_raw_stack raw[NRAW];
    raw_stacks(raw);
    struct pr_memory *m = malloc(sizeof *m);
    memory_init(m);
    m->rate_bytes = 4096;
    m->peak_time_ms = 12.5;
    uint64_t totals[MEM_NMETRICS] = {6200, 24, 3100, 750, 17};
    memcpy(m->total, totals, sizeof totals);
    char err[256];
    ck_assert_int_eq(memory_build(m, raw, NRAW, fake_resolve, NULL, err, sizeof err), 0);
    p->memory = m;
    p->executable = strdup("/bin/app");
    p->total_samples = 1;
}

static const struct pr_mem_function *mfn(const struct pr_memory *m, const char *name)
{
    for (size_t i = 0; i < m->nfunctions; i++)
        if (strcmp(m->functions[i].name, name) == 0)
            return &m->functions[i];
    ck_abort_msg("%s missing from the memory section", name);
    return NULL;
}

static bool has_fn(const struct pr_memory *m, const char *name)
{
    for (size_t i = 0; i < m->nfunctions; i++)
        if (strcmp(m->functions[i].name, name) == 0)
            return true;
    return false;
}

START_TEST(test_build_counts_cuts_and_merges)
{
    struct pr_profile p;
    built(&p);
    const struct pr_memory *m = p.memory;
    /* operator new cut: the S_NEW and S_DIRECT stacks became one */
    ck_assert(!has_fn(m, "operator new(unsigned long)"));
    ck_assert_uint_eq(m->nstacks, 3);
    const struct pr_mem_function *mk = mfn(m, "make_node");
    ck_assert_uint_eq(mk->self[MEM_ALLOC_BYTES], 1500);
    ck_assert_uint_eq(mk->self[MEM_ALLOC_COUNT], 15);
    ck_assert_uint_eq(mk->self[MEM_PEAK_LIVE], 400);
    ck_assert_uint_eq(mk->self[MEM_EXIT_LIVE], 50);
    ck_assert_uint_eq(mk->self[MEM_SAMPLES], 6);
    const struct pr_mem_function *b = mfn(m, "build");
    ck_assert_uint_eq(b->total[MEM_ALLOC_BYTES], 5500);
    ck_assert_uint_eq(b->self[MEM_ALLOC_BYTES], 0);
    const struct pr_mem_function *mn = mfn(m, "main");
    ck_assert_uint_eq(mn->total[MEM_ALLOC_BYTES], 6200);
    ck_assert_uint_eq(mn->total[MEM_EXIT_LIVE], 750);
    ck_assert_uint_eq(mn->total[MEM_SAMPLES], 17);
    /* the inline chain: push inlined into grow, the allocating (self) function */
    ck_assert_uint_eq(mfn(m, "push")->self[MEM_ALLOC_BYTES], 4000);
    ck_assert_uint_eq(mfn(m, "grow")->total[MEM_ALLOC_BYTES], 4000);
    ck_assert_uint_eq(mfn(m, "leaky")->self[MEM_EXIT_LIVE], 700);
    /* sorted by alloc_bytes, ties by name */
    for (size_t i = 1; i < m->nfunctions; i++) {
        const struct pr_mem_function *x = &m->functions[i - 1], *y = &m->functions[i];
        ck_assert(x->total[MEM_ALLOC_BYTES] > y->total[MEM_ALLOC_BYTES] ||
                  (x->total[MEM_ALLOC_BYTES] == y->total[MEM_ALLOC_BYTES] &&
                   strcmp(x->name, y->name) < 0));
    }
    /* every stack starts at main; the grow stack marks push inlined */
    bool inl = false;
    for (size_t s = 0; s < m->nstacks; s++) {
        ck_assert_str_eq(m->functions[m->stacks[s].frames[0]].name, "main");
        inl |= m->stacks[s].inlined != NULL;
    }
    ck_assert(inl);
    profile_free(&p);
}
END_TEST

static char *to_text(const struct pr_profile *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(profile_write(p, f), 0);
    fclose(f);
    return buf;
}

START_TEST(test_write_and_read_back)
{
    struct pr_profile p, q;
    built(&p);
    char *text = to_text(&p);
    char err[512];
    profile_init(&q);
    ck_assert_msg(profile_read_string(text, "t.json", &q, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(q.memory);
    const struct pr_memory *a = p.memory, *b = q.memory;
    ck_assert(a->rate_bytes == b->rate_bytes && a->peak_time_ms == b->peak_time_ms);
    for (int k = 0; k < MEM_NMETRICS; k++)
        ck_assert_uint_eq(a->total[k], b->total[k]);
    ck_assert_uint_eq(a->nfunctions, b->nfunctions);
    ck_assert_uint_eq(a->nstacks, b->nstacks);
    for (size_t i = 0; i < a->nfunctions; i++) {
        ck_assert_str_eq(a->functions[i].name, b->functions[i].name);
        ck_assert_int_eq(a->functions[i].line, b->functions[i].line);
        ck_assert_str_eq(a->functions[i].source_path, b->functions[i].source_path);
        for (int k = 0; k < MEM_NMETRICS; k++) {
            ck_assert_uint_eq(a->functions[i].total[k], b->functions[i].total[k]);
            ck_assert_uint_eq(a->functions[i].self[k], b->functions[i].self[k]);
        }
    }
    /* the same bytes again */
    char *again = to_text(&q);
    ck_assert_str_eq(text, again);
    free(text);
    free(again);
    profile_free(&p);
    profile_free(&q);
}
END_TEST

START_TEST(test_profile_without_memory_has_none)
{
    struct pr_profile p, q;
    profile_init(&p);
    p.total_samples = 0;
    char *text = to_text(&p);
    ck_assert_ptr_null(strstr(text, "\"memory\""));
    char err[512];
    profile_init(&q);
    ck_assert_int_eq(profile_read_string(text, "t.json", &q, err, sizeof err), 0);
    ck_assert_ptr_null(q.memory);
    free(text);
    profile_free(&p);
    profile_free(&q);
}
END_TEST

/* A text with one replacement applied to a good profile's memory section. */
static void expect_refused(const char *from, const char *to, const char *mention)
{
    struct pr_profile p, q;
    built(&p);
    char *text = to_text(&p);
    char *bad = tu_replace(text, from, to);
    ck_assert_msg(strcmp(bad, text) != 0, "'%s' not in the text", from);
    char err[512] = "";
    profile_init(&q);
    ck_assert_msg(profile_read_string(bad, "bad.json", &q, err, sizeof err) != 0,
                  "accepted with %s -> %s", from, to);
    ck_assert_msg(strstr(err, mention) && strncmp(err, "bad.json: ", 10) == 0 && !strchr(err, '\n'),
                  "%s -> %s: %s", from, to, err);
    ck_assert_ptr_null(q.memory);
    ck_assert_uint_eq(q.nfunctions, 0);
    free(text);
    free(bad);
    profile_free(&p);
}

START_TEST(test_broken_sections_refused)
{
    expect_refused("\"rate_bytes\": 4096.0", "\"rate_bytes\": -1", "memory.rate_bytes");
    expect_refused("\"exit_live_bytes\": 750", "\"exit_live_bytes\": -750",
                   "memory.exit_live_bytes");
    expect_refused("\"samples\": 17,", "\"samples\": \"17\",", "memory.samples");
    expect_refused("\"functions\": [", "\"functionz\": [", "memory.functions: missing");
    expect_refused("\"stacks\": [\n      {\"alloc_bytes\"", "\"stacks\": [\n      {\"alloc_bytez\"",
                   "memory.stacks[0].alloc_bytes");
    expect_refused("\"name\": \"main\"", "\"name\": \"\"", "memory.functions[0].name");
    expect_refused("\"name\": \"build\"", "\"name\": \"main\"", "duplicate function name");
    expect_refused("\"frames\": [0, 1", "\"frames\": [99, 1", "memory.stacks[0].frames[0]");
    expect_refused("\"frames\": [0, 1", "\"frames\": [-1, 1", "memory.functions");
    expect_refused("\"inlined\": [", "\"inlined\": [0, ", "memory.stacks");
    expect_refused("\"self_alloc_count\": ", "\"self_alloc_countx\": ",
                   "memory.functions[0].self_alloc_count");
    expect_refused("\"memory\": {", "\"memory\": 5, \"x\": {", "memory: expected an object");
}
END_TEST

START_TEST(test_a_view_is_a_profile_of_one_metric)
{
    struct pr_profile p, v;
    built(&p);
    ck_assert_int_eq(memory_view(&p, MEM_EXIT_LIVE, &v), 0);
    /* only the stacks with bytes live at exit: make_node's and leaky's */
    ck_assert_uint_eq(v.total_samples, 750);
    ck_assert_uint_eq(v.nstacks, 2);
    ck_assert(v.has_stacks);
    ck_assert_int_lt(profile_find(&v, "grow"), 0);
    ck_assert_int_lt(profile_find(&v, "push"), 0);
    const struct pr_function *lk = &v.functions[profile_find(&v, "leaky")];
    ck_assert_uint_eq(lk->samples, 700);
    ck_assert_uint_eq(lk->self_samples, 700);
    ck_assert(fabs(lk->percentage - 700.0 * 100 / 750) < 1e-9);
    ck_assert_uint_eq(v.signals, 6 + 3); /* the sampled allocations behind those bytes */
    ck_assert_str_eq(v.functions[0].name, "main");
    ck_assert_ptr_nonnull(v.memory);
    ck_assert_uint_eq(v.memory->total[MEM_ALLOC_BYTES], 6200);
    ck_assert_uint_eq(v.memory->nstacks, 0);
    ck_assert_str_eq(v.executable, "/bin/app");
    profile_free(&v);
    profile_free(&p);
}
END_TEST

/* Views folded (inlined frames into their callers) and merged over two runs, then joined:
 * the section of both runs, figures doubled, push folded into grow. */
START_TEST(test_views_fold_merge_and_join)
{
    struct pr_profile p;
    built(&p);
    struct pr_profile merged[MEM_NMETRICS];
    for (int k = 0; k < MEM_NMETRICS; k++) {
        profile_init(&merged[k]);
        for (int run = 0; run < 2; run++) {
            struct pr_profile v;
            ck_assert_int_eq(memory_view(&p, (enum pr_mem_metric)k, &v), 0);
            ck_assert_int_eq(profile_fold_inlines(&v), 0);
            ck_assert_int_eq(profile_merge(&merged[k], &v), 0);
            profile_free(&v);
        }
    }
    struct pr_memory j;
    ck_assert_int_eq(memory_join(merged, &j), 0);
    ck_assert(!has_fn(&j, "push"));
    ck_assert_uint_eq(mfn(&j, "grow")->self[MEM_ALLOC_BYTES], 8000);
    ck_assert_uint_eq(mfn(&j, "main")->total[MEM_ALLOC_BYTES], 12400);
    ck_assert_uint_eq(mfn(&j, "make_node")->self[MEM_PEAK_LIVE], 800);
    ck_assert_uint_eq(mfn(&j, "leaky")->total[MEM_EXIT_LIVE], 1400);
    ck_assert_uint_eq(mfn(&j, "main")->total[MEM_SAMPLES], 34);
    ck_assert_uint_eq(j.nstacks, 3);
    /* whole-run figures summed by profile_merge */
    ck_assert_uint_eq(j.total[MEM_ALLOC_BYTES], 12400);
    ck_assert(isnan(j.peak_time_ms));
    ck_assert(j.rate_bytes == 4096);
    memory_free(&j);
    for (int k = 0; k < MEM_NMETRICS; k++)
        profile_free(&merged[k]);
    profile_free(&p);
}
END_TEST

START_TEST(test_metric_names)
{
    enum pr_mem_metric m;
    ck_assert_int_eq(mem_metric_parse("alloc", &m), 0);
    ck_assert_int_eq(m, MEM_ALLOC_BYTES);
    ck_assert_int_eq(mem_metric_parse("live", &m), 0);
    ck_assert_int_eq(m, MEM_PEAK_LIVE);
    ck_assert_int_eq(mem_metric_parse("exit", &m), 0);
    ck_assert_int_eq(m, MEM_EXIT_LIVE);
    ck_assert_int_ne(mem_metric_parse("total", &m), 0);
    ck_assert_int_ne(mem_metric_parse(NULL, &m), 0);
    ck_assert(mem_metric_is_bytes(MEM_PEAK_LIVE) && !mem_metric_is_bytes(MEM_ALLOC_COUNT));
    ck_assert_str_eq(mem_metric_key[MEM_EXIT_LIVE], "exit_live_bytes");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memory_model");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_build_counts_cuts_and_merges);
    tcase_add_test(tc, test_write_and_read_back);
    tcase_add_test(tc, test_profile_without_memory_has_none);
    tcase_add_test(tc, test_broken_sections_refused);
    tcase_add_test(tc, test_a_view_is_a_profile_of_one_metric);
    tcase_add_test(tc, test_views_fold_merge_and_join);
    tcase_add_test(tc, test_metric_names);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
