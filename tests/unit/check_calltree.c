/* SPDX-License-Identifier: MIT */
/* check_calltree.c — a baseline keeps its runs' stacks as their merged call tree: exactly
 * (nothing cut) for small runs; for a model of a large gtest suite within the byte budget
 * with at most 1 % of the samples in [other] nodes, every kept node keeping its total; the
 * movers `profreg diff BASELINE -- RUNS` prints are those of a diff against the runs the
 * baseline was made from; broken trees are refused with one line; older baselines' flat
 * "stacks" are still read. */
#include "testutil.h"

#include "sim.h"

#include "analysis/read/baseline.h"
#include "analysis/export/export.h"
#include "analysis/render/flame.h"
#include "core/hashmap.h"
#include "analysis/judge/judge.h"
#include "core/profile_write.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a model of a large gtest suite ------------------------------------------------------ */

/* The shape of a real gtest suite measured (741 tests, Eigen/qhull templates): every
 * stack starts with the same 15 runner frames (main, RUN_ALL_TESTS, ..., TestBody's
 * callers), then one of 741 test bodies, then a walk of 2 to 12 frames through a library
 * call graph of templates; all names about 200 characters. `nstacks` distinct stacks (grown
 * as a call tree, below) whose expected weights fall off as 1/rank (Zipf), in a random order over
 * the stacks, and one run draws each stack's count from a Poisson distribution around its weight
 * (so the rarest stacks appear in some runs only, as in real runs). */
#define MODEL_FUNCTIONS   3000
#define MODEL_RUNNER      15
#define MODEL_TESTS       741
#define MODEL_STACKS      45000 /* at most; the suite of the tests has 30000 */
#define MODEL_RUN_SAMPLES 100000.0
#define MODEL_MAX_DEPTH   (MODEL_RUNNER + 1 + 24)

struct model {
    size_t nstacks; /* generated (up to MODEL_STACKS), some of them drawn 0 times in all runs */
    char *names[MODEL_FUNCTIONS];
    uint32_t callees[MODEL_FUNCTIONS][5];
    uint32_t ncallees[MODEL_FUNCTIONS];
    uint32_t stacks[MODEL_STACKS][MODEL_MAX_DEPTH];
    uint32_t depth[MODEL_STACKS];
    double weight[MODEL_STACKS]; /* expected samples per run */
};

static uint32_t model_pick(struct sim_rng *r, uint32_t n, double skew)
{
    /* a skewed choice in [0, n): low indices are popular (shared library code) */
    return (uint32_t)((double)n * pow(sim_uniform(r), skew));
}

static void model_name(char *buf, size_t len, uint32_t i)
{
    if (i < MODEL_RUNNER)
        snprintf(buf, len,
                 "testing::internal::HandleExceptionsInMethodIfSupported<testing::internal::"
                 "UnitTestImpl, bool>(testing::internal::UnitTestImpl*, bool (testing::"
                 "internal::UnitTestImpl::*)(), char const*)::runner_frame_%02u",
                 i);
    else if (i < MODEL_RUNNER + MODEL_TESTS)
        snprintf(buf, len,
                 "msd_sim::(anonymous namespace)::ConvexHullTest_ComputesHullOfPointCloud%03u_"
                 "Test<Eigen::Matrix<double, 3, 1, 0, 3, 1>, orgQhull::QhullPoints>::TestBody("
                 ")::with_a_long_fixture_name_to_reach_200_characters",
                 i - MODEL_RUNNER);
    else
        snprintf(buf, len,
                 "Eigen::internal::generic_product_impl<Eigen::Matrix<double, -1, -1, 0, -1, "
                 "-1>, Eigen::Block<Eigen::Matrix<double, -1, -1, 0, -1, -1>, -1, 1, true>, "
                 "Eigen::DenseShape, 7>::evalTo_%04u<Eigen::Matrix<double, -1, 1> >(double*)",
                 i);
}

static struct model *model_build(uint64_t seed, size_t nstacks)
{
    struct model *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    m->nstacks = nstacks;
    struct sim_rng r;
    sim_seed(&r, seed);
    const uint32_t lib0 = MODEL_RUNNER + MODEL_TESTS, nlib = MODEL_FUNCTIONS - lib0;
    for (uint32_t i = 0; i < MODEL_FUNCTIONS; i++) {
        char name[512];
        model_name(name, sizeof name, i);
        m->names[i] = strdup(name);
        /* tests call 2-5 entry points, library functions 1-5 callees */
        m->ncallees[i] = 1 + (uint32_t)(sim_uniform(&r) * 5);
        if (i >= MODEL_RUNNER && i < lib0 && m->ncallees[i] < 2)
            m->ncallees[i] = 2;
        for (uint32_t k = 0; k < m->ncallees[i]; k++)
            m->callees[i][k] = lib0 + model_pick(&r, nlib, 2.0);
    }
    /* distinct stacks, grown as a call tree: the first of each test is the runner prefix
     * and the test body; each further one extends a stack already there (any, equally
     * likely) by 1 to 4 calls down the call graph, so that most functions on a path also
     * have samples of their own, as in real profiles */
    struct hmap seen;
    hmap_init(&seen);
    size_t n = 0;
    while (n < nstacks) {
        uint32_t *st = m->stacks[n], d = 0;
        if (n < MODEL_TESTS) {
            for (; d < MODEL_RUNNER; d++)
                st[d] = d;
            st[d++] = MODEL_RUNNER + (uint32_t)n;
        } else {
            size_t from = (size_t)(sim_uniform(&r) * (double)n);
            d = m->depth[from];
            memcpy(st, m->stacks[from], d * sizeof *st);
            uint32_t more = 1;
            while (more < 4 && sim_uniform(&r) < 0.4)
                more++;
            for (uint32_t k = 0; k < more && d < MODEL_MAX_DEPTH; k++) {
                uint32_t at = st[d - 1];
                st[d] = m->callees[at][(uint32_t)(sim_uniform(&r) * m->ncallees[at])];
                d++;
            }
        }
        uint32_t v;
        int ins = hmap_intern(&seen, st, d * sizeof *st, (uint32_t)n, &v);
        ck_assert_int_ge(ins, 0);
        if (ins == 1)
            m->depth[n++] = d;
    }
    hmap_free(&seen);
    /* Zipf weights over a random order of the stacks */
    uint32_t *rank = malloc(nstacks * sizeof *rank);
    for (uint32_t i = 0; i < nstacks; i++)
        rank[i] = i;
    for (uint32_t i = (uint32_t)nstacks - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(sim_uniform(&r) * (i + 1));
        uint32_t t = rank[i];
        rank[i] = rank[j];
        rank[j] = t;
    }
    double h = 0;
    for (uint32_t i = 1; i <= nstacks; i++)
        h += 1.0 / i;
    for (uint32_t i = 0; i < nstacks; i++)
        m->weight[i] = MODEL_RUN_SAMPLES / (h * (rank[i] + 1));
    free(rank);
    return m;
}

static void model_free(struct model *m)
{
    for (uint32_t i = 0; i < MODEL_FUNCTIONS; i++)
        free(m->names[i]);
    free(m);
}

static uint64_t poisson(struct sim_rng *r, double lambda)
{
    if (lambda > 30) {
        double x = lambda + sqrt(lambda) * sim_normal(r);
        return x < 0 ? 0 : (uint64_t)llround(x);
    }
    double l = exp(-lambda), p = 1;
    uint64_t k = 0;
    do {
        k++;
        p *= sim_uniform(r);
    } while (p > l);
    return k - 1;
}

/* One run: every stack's count drawn around its weight, the weight of stacks through
 * `culprit` multiplied by `factor` (FLAME_NONE: none). */
static void model_run(const struct model *m, uint64_t seed, uint32_t culprit, double factor,
                      struct pr_profile *p)
{
    struct sim_rng r;
    sim_seed(&r, seed);
    profile_init(p);
    uint32_t at[MODEL_FUNCTIONS];
    for (uint32_t i = 0; i < MODEL_FUNCTIONS; i++)
        at[i] = UINT32_MAX;
    p->functions = calloc(MODEL_FUNCTIONS, sizeof *p->functions);
    p->stacks = calloc(m->nstacks, sizeof *p->stacks);
    for (size_t s = 0; s < m->nstacks; s++) {
        double w = m->weight[s];
        for (uint32_t d = 0; d < m->depth[s] && culprit != FLAME_NONE; d++)
            if (m->stacks[s][d] == culprit) {
                w *= factor;
                break;
            }
        uint64_t c = poisson(&r, w);
        if (c == 0)
            continue;
        struct pr_stack *st = &p->stacks[p->nstacks++];
        st->depth = m->depth[s];
        st->count = c;
        st->frames = malloc(st->depth * sizeof *st->frames);
        for (uint32_t d = 0; d < st->depth; d++) {
            uint32_t f = m->stacks[s][d];
            if (at[f] == UINT32_MAX) {
                at[f] = (uint32_t)p->nfunctions;
                p->functions[p->nfunctions].name = strdup(m->names[f]);
                p->functions[p->nfunctions++].line = -1;
            }
            st->frames[d] = at[f];
        }
    }
    p->has_stacks = true;
    p->executable = strdup("/src/build/msd_sim_test");
    p->template_name = strdup(PR_TEMPLATE);
    p->mode = strdup("cpu");
    p->frequency_hz = 1000;
    ck_assert_int_eq(profile_recount(p), 0);
    ck_assert_int_eq(profile_sort(p), 0);
}

/* ---- helpers ----------------------------------------------------------------------------- */

static char *write_baseline(const struct baseline *b, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(baseline_write(f, b), 0);
    fclose(f);
    return text;
}

static struct pr_profile from_folded(const char *text)
{
    struct pr_profile p;
    char err[256];
    ck_assert_msg(folded_read(text, "test", &p, err, sizeof err) == 0, "%s", err);
    return p;
}

/* The baseline of runs, written and read back. */
static char *baseline_of(const struct pr_profile *const *runs, size_t n, struct baseline *b,
                         struct baseline *back, size_t *len)
{
    baseline_init(b);
    ck_assert_int_eq(judge_average(runs, n, &b->avg), 0);
    ck_assert(b->avg.has_stacks);
    b->functions_seen = b->avg.nfunctions;
    char *text = write_baseline(b, len);
    char err[512];
    baseline_init(back);
    ck_assert_msg(baseline_read_string(text, "b.json", back, err, sizeof err) == 0, "%s", err);
    ck_assert(back->stacks.has_stacks);
    return text;
}

/* The averaged stacks of b as a profile (names borrowed; free only .functions). */
static struct pr_profile avg_view(const struct avg_profile *a)
{
    struct pr_profile v;
    profile_init(&v);
    v.functions = calloc(a->nfunctions + 1, sizeof *v.functions);
    for (size_t i = 0; i < a->nfunctions; i++)
        v.functions[i].name = a->functions[i].name;
    v.nfunctions = a->nfunctions;
    v.stacks = a->stacks;
    v.nstacks = a->nstacks;
    v.has_stacks = true;
    return v;
}

/* ---- small runs: nothing cut, the stacks come back exactly --------------------------------- */

START_TEST(test_small_runs_exact)
{
    struct pr_profile r1 = from_folded("main;run;a 30\nmain;run;a;b 5\nmain;c 70\nmain 2\n"),
                      r2 = from_folded("main;run;a 50\nmain;c 40\nmain;run;d 10\nmain;c;a 1\n");
    const struct pr_profile *runs[] = {&r1, &r2};
    struct baseline b, back;
    size_t len;
    char *text = baseline_of(runs, 2, &b, &back, &len);
    /* one form: the tree, no flat list; nothing cut */
    ck_assert_ptr_nonnull(strstr(text, "\"call_tree\": {"));
    ck_assert_ptr_null(strstr(text, "\"stacks\""));
    ck_assert_ptr_nonnull(strstr(text, "\"other_samples\": 0,"));
    ck_assert_int_eq(profile_find(&back.stacks, BASELINE_OTHER), -1);
    /* every distinct stack of the runs, with its summed count */
    struct pr_profile sum;
    profile_init(&sum);
    ck_assert_int_eq(profile_merge(&sum, &r1), 0);
    ck_assert_int_eq(profile_merge(&sum, &r2), 0);
    ck_assert_uint_eq(back.stacks.nstacks, sum.nstacks);
    ck_assert_uint_eq(back.stacks.total_samples, sum.total_samples);
    struct flame_tree want, got;
    ck_assert_int_eq(flame_build(&sum, false, &want), 0);
    ck_assert_int_eq(flame_build(&back.stacks, false, &got), 0);
    ck_assert_uint_eq(want.n, got.n);
    for (uint32_t i = 1; i < want.n; i++) {
        uint32_t j = flame_same_path(&got, &want, i);
        ck_assert_msg(j != FLAME_NONE, "path of %s lost", want.nodes[i].name);
        ck_assert_double_eq(got.nodes[j].total, want.nodes[i].total);
        ck_assert_double_eq(got.nodes[j].self, want.nodes[i].self);
    }
    /* the same data always gives the same bytes */
    size_t len2;
    char *again = write_baseline(&b, &len2);
    ck_assert_str_eq(text, again);
    flame_free(&want);
    flame_free(&got);
    free(text);
    free(again);
    profile_free(&sum);
    baseline_free(&b);
    baseline_free(&back);
    profile_free(&r1);
    profile_free(&r2);
}
END_TEST

/* ---- the large suite: size, [other], totals kept --------------------------------------------- */

#define MODEL_RUNS 5

struct model_runs {
    struct model *m;
    struct pr_profile runs[MODEL_RUNS];
    const struct pr_profile *ptr[MODEL_RUNS];
};

static void model_runs_make(struct model_runs *mr, struct model *m, uint64_t seed, uint32_t culprit,
                            double factor)
{
    mr->m = m;
    for (int i = 0; i < MODEL_RUNS; i++) {
        model_run(m, seed + (uint64_t)i, culprit, factor, &mr->runs[i]);
        mr->ptr[i] = &mr->runs[i];
    }
}

static void model_runs_free(struct model_runs *mr)
{
    for (int i = 0; i < MODEL_RUNS; i++)
        profile_free(&mr->runs[i]);
}

/* What a flat list of stacks, heaviest first within 640 KB (the form baselines had before
 * the call tree), keeps of the weight: for comparison only. */
static double flat_list_kept_share(const struct avg_profile *a)
{
    uint64_t *counts = malloc(a->nstacks * sizeof *counts);
    size_t *order = malloc(a->nstacks * sizeof *order);
    char *named = calloc(a->nfunctions + 1, 1);
    uint64_t total = 0;
    for (size_t i = 0; i < a->nstacks; i++) {
        counts[i] = a->stacks[i].count;
        order[i] = i;
        total += counts[i];
    }
    /* heaviest first (insertion into a max-heap would do; a plain sort is enough here) */
    for (size_t i = 1; i < a->nstacks; i++) {
        size_t x = order[i], j = i;
        for (; j > 0 && counts[order[j - 1]] < counts[x]; j--)
            order[j] = order[j - 1];
        order[j] = x;
    }
    size_t bytes = 0;
    uint64_t kept = 0;
    for (size_t k = 0; k < a->nstacks; k++) {
        const struct pr_stack *st = &a->stacks[order[k]];
        size_t cost = 32 + 8 * (size_t)st->depth;
        for (uint32_t d = 0; d < st->depth; d++)
            if (!named[st->frames[d]])
                cost += strlen(a->functions[st->frames[d]].name) + 8;
        if (bytes + cost > 640 * 1024)
            break;
        bytes += cost;
        kept += st->count;
        for (uint32_t d = 0; d < st->depth; d++)
            named[st->frames[d]] = 1;
    }
    free(counts);
    free(order);
    free(named);
    return (double)kept / (double)total;
}

/* Writes the baseline of the model's runs; checks that it is within budget and that every
 * node kept keeps its total and own samples; returns the share of the samples in [other]. */
static double check_large_suite(size_t nstacks)
{
    struct model *m = model_build(12, nstacks);
    struct model_runs mr;
    model_runs_make(&mr, m, 1000, FLAME_NONE, 1);
    struct baseline b, back;
    size_t len;
    char *text = baseline_of(mr.ptr, MODEL_RUNS, &b, &back, &len);
    struct baseline_tree_stats st;
    ck_assert_int_eq(baseline_tree_stats(&b, &st), 0);
    double other_share = (double)st.other_samples / (double)st.samples;
    double flat_kept = flat_list_kept_share(&b.avg);
    fprintf(stderr,
            "large suite: %zu functions, %zu distinct stacks, %llu samples; tree of %zu nodes, "
            "%zu written; baseline %zu bytes (stacks %zu); [other] %.3f %% of the samples "
            "(a flat list within 640 KB: %.1f %% in [other stacks])\n",
            b.avg.nfunctions, b.avg.nstacks, (unsigned long long)st.samples, st.tree_nodes,
            st.written_nodes, len, st.bytes, 100 * other_share, 100 * (1 - flat_kept));
    /* the model is as hard as that real suite: a flat list would lose a lot */
    ck_assert_uint_ge(b.avg.nstacks, 20000);
    ck_assert_uint_ge(b.avg.nfunctions, 2000);
    ck_assert_double_lt(flat_kept, 0.8);
    ck_assert_msg(len <= 1000000, "baseline of %zu bytes", len);
    ck_assert_uint_le(st.bytes, BASELINE_STACK_BYTES);
    /* the reader sees the same: total right, [other] as planned */
    ck_assert_uint_eq(back.stacks.total_samples, st.samples);
    long o = profile_find(&back.stacks, BASELINE_OTHER);
    ck_assert_uint_eq(o < 0 ? 0 : back.stacks.functions[o].self_samples, st.other_samples);
    /* every node kept keeps its total and its own samples: only detail below is lost */
    struct pr_profile view = avg_view(&b.avg);
    struct flame_tree want, got;
    ck_assert_int_eq(flame_build(&view, false, &want), 0);
    ck_assert_int_eq(flame_build(&back.stacks, false, &got), 0);
    size_t checked = 0;
    for (uint32_t j = 1; j < got.n; j++) {
        if (strcmp(got.nodes[j].name, BASELINE_OTHER) == 0)
            continue;
        uint32_t i = flame_same_path(&want, &got, j);
        ck_assert_msg(i != FLAME_NONE, "a path the runs do not have: %s", got.nodes[j].name);
        ck_assert_double_eq(got.nodes[j].total, want.nodes[i].total);
        ck_assert_double_eq(got.nodes[j].self, want.nodes[i].self);
        checked++;
    }
    ck_assert_uint_gt(checked, st.written_nodes / 2);
    flame_free(&want);
    flame_free(&got);
    free(view.functions);
    free(text);
    baseline_free(&b);
    baseline_free(&back);
    model_runs_free(&mr);
    model_free(m);
    return other_share;
}

/* That real suite as modelled (30,000 stacks generated, about 28,000 distinct in five
 * runs): the whole baseline within 1 MB, at most 1 % of the samples in [other]. */
START_TEST(test_large_suite_budget)
{
    double other_share = check_large_suite(30000);
    ck_assert_msg(other_share <= 0.01, "[other] holds %.3f %%", 100 * other_share);
}
END_TEST

/* A larger one (about 38,000 distinct stacks) does not fit whole: the lightest subtrees are
 * cut, the nodes kept keep their totals (checked above), and what is cut stays small. */
START_TEST(test_larger_suite_is_cut)
{
    double other_share = check_large_suite(45000);
    ck_assert_double_gt(other_share, 0);
    ck_assert_msg(other_share <= 0.02, "[other] holds %.3f %%", 100 * other_share);
}
END_TEST

/* ---- diff against the baseline ranks the movers of a diff against its runs ------------------ */

struct mover_row {
    char name[512];
    double change;
};

/* The rows of the movers table whose header contains `which` in diff's output. */
static size_t parse_movers(const char *out, const char *which, struct mover_row *rows, size_t max)
{
    const char *at = strstr(out, which);
    ck_assert_ptr_nonnull(at);
    at = strchr(at, '\n') + 1; /* the column header */
    at = strchr(at, '\n') + 1;
    size_t n = 0;
    while (*at == ' ' && n < max) {
        double now, before, change;
        int used = 0;
        ck_assert_int_eq(sscanf(at, " %lf %lf %lf  %n", &now, &before, &change, &used), 3);
        const char *end = strchr(at, '\n');
        snprintf(rows[n].name, sizeof rows[n].name, "%.*s", (int)(end - at - used), at + used);
        rows[n++].change = change;
        at = end + 1;
    }
    return n;
}

START_TEST(test_diff_against_baseline_ranks_like_the_runs)
{
    struct model *m = model_build(34, 30000);
    /* the culprit: a library function below many tests, with about 4 % of the samples */
    double *incl = calloc(MODEL_FUNCTIONS, sizeof *incl);
    for (size_t s = 0; s < m->nstacks; s++) {
        char seen[MODEL_FUNCTIONS] = {0};
        for (uint32_t d = 0; d < m->depth[s]; d++)
            if (!seen[m->stacks[s][d]]++)
                incl[m->stacks[s][d]] += m->weight[s];
    }
    uint32_t culprit = MODEL_RUNNER + MODEL_TESTS;
    for (uint32_t f = culprit; f < MODEL_FUNCTIONS; f++)
        if (fabs(incl[f] - 0.04 * MODEL_RUN_SAMPLES) <
            fabs(incl[culprit] - 0.04 * MODEL_RUN_SAMPLES))
            culprit = f;
    free(incl);
    struct model_runs base, cur;
    model_runs_make(&base, m, 2000, FLAME_NONE, 1);
    model_runs_make(&cur, m, 3000, culprit, 1.6);
    /* the runs as a project's profiles, the current ones elsewhere */
    char dir[4200], curdir[4200], cmd[8600];
    snprintf(dir, sizeof dir, "%s/profile_results/msd_sim_test", tu_tmp);
    snprintf(curdir, sizeof curdir, "%s/current", tu_tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s'", dir, curdir);
    free(tu_shell(cmd));
    char base_paths[MODEL_RUNS][4300], cur_paths[MODEL_RUNS][4300], err[512];
    for (int i = 0; i < MODEL_RUNS; i++) {
        snprintf(base_paths[i], sizeof base_paths[i], "%s/profile_20261124_10150%d_000000_%d.json",
                 dir, i, 100 + i);
        snprintf(cur_paths[i], sizeof cur_paths[i], "%s/profile_%d.json", curdir, i);
        ck_assert_msg(profile_write_file(&base.runs[i], base_paths[i], err, sizeof err) == 0, "%s",
                      err);
        ck_assert_msg(profile_write_file(&cur.runs[i], cur_paths[i], err, sizeof err) == 0, "%s",
                      err);
    }
    struct tu_result r = tu_profreg((const char *[]){"compare", "--root", tu_tmp, "--executable",
                                                     "msd_sim_test", "--set-baseline", NULL},
                                    NULL, NULL);
    ck_assert_msg(r.status == 0, "set-baseline: %s", tu_tail(r.err));
    tu_result_free(&r);
    char bpath[4200];
    snprintf(bpath, sizeof bpath, "%s/baselines/msd_sim_test/baseline.json", tu_tmp);
    const char *args_b[16] = {"diff", bpath, "--"}, *args_r[16] = {"diff"};
    size_t nb = 3, nr = 1;
    for (int i = 0; i < MODEL_RUNS; i++)
        args_r[nr++] = base_paths[i];
    args_r[nr++] = "--";
    for (int i = 0; i < MODEL_RUNS; i++) {
        args_b[nb++] = cur_paths[i];
        args_r[nr++] = cur_paths[i];
    }
    args_b[nb++] = "-o";
    args_b[nb++] = tu_in_tmp("diff.svg");
    struct tu_result rb = tu_profreg(args_b, NULL, NULL), rr = tu_profreg(args_r, NULL, NULL);
    ck_assert_msg(rb.status == 0, "%s", tu_tail(rb.err));
    ck_assert_msg(rr.status == 0, "%s", tu_tail(rr.err));
    tu_assert_xml(tu_in_tmp("diff.svg"));
    if (getenv("CALLTREE_KEEP")) { /* for a look by hand */
        snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", tu_tmp, getenv("CALLTREE_KEEP"));
        free(tu_shell(cmd));
    }
    const char *tables[] = {"inclusive share", "self share"};
    for (size_t k = 0; k < 2; k++) {
        struct mover_row vb[10], vr[10];
        size_t n1 = parse_movers(rb.out, tables[k], vb, 10),
               n2 = parse_movers(rr.out, tables[k], vr, 10);
        ck_assert_uint_eq(n1, 10);
        ck_assert_uint_eq(n2, 10);
        for (size_t i = 0; i < 10; i++) {
            ck_assert_msg(strcmp(vb[i].name, vr[i].name) == 0,
                          "%s movers, row %zu: against the baseline %s (%+.2f), against the "
                          "runs %s (%+.2f)",
                          tables[k], i + 1, vb[i].name, vb[i].change, vr[i].name, vr[i].change);
            ck_assert_msg(fabs(vb[i].change - vr[i].change) <= 0.1 + 1e-9,
                          "%s: %+.2f against the baseline, %+.2f against the runs", vb[i].name,
                          vb[i].change, vr[i].change);
        }
        /* the culprit leads the inclusive movers; the runner frames did not move */
        if (k == 0)
            ck_assert_str_eq(vb[0].name, m->names[culprit]);
    }
    ck_assert_ptr_null(strstr(rb.out, m->names[0]));
    tu_result_free(&rb);
    tu_result_free(&rr);
    model_runs_free(&base);
    model_runs_free(&cur);
    model_free(m);
}
END_TEST

/* ---- broken trees ---------------------------------------------------------------------------- */

START_TEST(test_broken_call_trees)
{
    /* top_functions name "main" (0) and "f" (1); stack_functions adds "g" (2). A node is three
     * numbers: places back to its parent (0: a root), function, own samples. */
#define TREE(extra)                                                                                \
    "{\"top_functions\": [{\"name\": \"main\", \"avg_percentage\": 100}, "                         \
    "{\"name\": \"f\", \"avg_percentage\": 50}], \"stack_functions\": [\"g\"], " extra "}"
    struct {
        const char *text, *want;
    } cases[] = {
        {TREE("\"call_tree\": {\"nodes\": 2, \"samples\": 9, \"preorder\": [\"004\", \"315\"]}"),
         "bad.json: call_tree.preorder: node 1: its parent, 3 places back, would be before the "
         "first node"},
        {TREE("\"call_tree\": {\"nodes\": 2, \"samples\": 9, \"preorder\": [\"004115\", \"1\"]}"),
         "bad.json: call_tree.preorder: ends inside node 2"},
        {TREE("\"call_tree\": {\"nodes\": 2, \"samples\": 9, \"preorder\": [\"00413\", \"5\"]}"),
         "bad.json: call_tree.preorder: node 1: function 3 is not an index into top_functions "
         "and stack_functions (3 names)"},
        {TREE("\"call_tree\": {\"nodes\": 1, \"samples\": 4, \"preorder\": [\"0C04\"]}"),
         "bad.json: call_tree.preorder: node 0: function 64 is not an index"},
        {TREE("\"call_tree\": {\"nodes\": 2, \"samples\": 9, \"preorder\": [\"004.1.5\"]}"),
         "bad.json: call_tree.preorder[0]: character 3 (0x2e) is not a digit of the encoding"},
        {TREE("\"call_tree\": {\"nodes\": 2, \"samples\": 9, \"preorder\": [\"004\", 115]}"),
         "bad.json: call_tree.preorder[1]: expected a string, got an integer"},
        {TREE("\"call_tree\": {\"nodes\": 2, \"samples\": -9, \"preorder\": [\"004115\"]}"),
         "bad.json: call_tree.samples: expected a count, got negative -9"},
        {TREE("\"call_tree\": {\"nodes\": -2, \"samples\": 9, \"preorder\": [\"004115\"]}"),
         "bad.json: call_tree.nodes: expected a count, got negative -2"},
        {TREE("\"call_tree\": {\"nodes\": 3, \"samples\": 9, \"preorder\": [\"004115\"]}"),
         "bad.json: call_tree.nodes: says 3, preorder holds 2"},
        {TREE("\"call_tree\": {\"nodes\": 2, \"samples\": 8, \"preorder\": [\"004115\"]}"),
         "bad.json: call_tree.samples: says 8, the nodes' own samples add up to 9"},
        {TREE("\"call_tree\": {\"nodes\": 2, \"samples\": 4, \"preorder\": [\"004110\"]}"),
         "bad.json: call_tree.preorder: node 1: a leaf without samples"},
        {TREE("\"call_tree\": {\"nodes\": 1, \"samples\": 1, \"preorder\": "
              "[\"00ZZZZZZZZZZZZZZ1\"]}"),
         "bad.json: call_tree.preorder[0]: a number of more than 12 digits"},
        {TREE("\"call_tree\": [1, 2]"), "bad.json: call_tree: expected an object, got an array"},
        {TREE("\"call_tree\": {\"nodes\": 0, \"samples\": 0}"),
         "bad.json: call_tree.preorder: expected an array of strings, got nothing"},
        {TREE("\"call_tree\": {\"nodes\": 0, \"samples\": 0, \"preorder\": []}, \"stacks\": []"),
         "bad.json: stacks and call_tree: a baseline keeps its stacks in one or the other"},
        {"{\"top_functions\": [], \"stack_functions\": [\"\"], \"call_tree\": {\"nodes\": 0, "
         "\"samples\": 0, \"preorder\": []}}",
         "bad.json: stack_functions[0]: expected a non-empty string, got a string"},
    };
#undef TREE
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct baseline b;
        char err[512] = "";
        baseline_init(&b);
        ck_assert_msg(baseline_read_string(cases[i].text, "bad.json", &b, err, sizeof err) != 0,
                      "case %zu accepted", i);
        ck_assert_msg(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0,
                      "case %zu: got '%s', want '%s'", i, err, cases[i].want);
        ck_assert_msg(!strchr(err, '\n'), "case %zu: not one line", i);
        ck_assert_uint_eq(b.avg.nfunctions, 0);
    }
    /* the same document with a well-formed tree is read: main (4 own) -> f (5 own), and a
     * root g with 40 = "B8" samples */
    const char *good =
        "{\"top_functions\": [{\"name\": \"main\", \"avg_percentage\": 100}, {\"name\": \"f\", "
        "\"avg_percentage\": 50}], \"stack_functions\": [\"g\"], \"call_tree\": {\"nodes\": 3, "
        "\"samples\": 49, \"preorder\": [\"004115\", \"02B8\"]}}";
    struct baseline b;
    char err[512];
    baseline_init(&b);
    ck_assert_msg(baseline_read_string(good, "good.json", &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.stacks.total_samples, 49);
    ck_assert_uint_eq(b.stacks.nstacks, 3);
    ck_assert_uint_eq(b.stacks.functions[profile_find(&b.stacks, "main")].samples, 9);
    ck_assert_uint_eq(b.stacks.functions[profile_find(&b.stacks, "f")].self_samples, 5);
    ck_assert_uint_eq(b.stacks.functions[profile_find(&b.stacks, "g")].samples, 40);
    baseline_free(&b);
}
END_TEST

/* Cycles and parents after their child cannot be written: a parent is given as a distance
 * back, so the list itself is the order. Old flat stacks are still read: the committed demo
 * baseline has them. */
START_TEST(test_reads_flat_stacks)
{
    struct baseline b;
    char err[512];
    baseline_init(&b);
    const char *path = tu_src_path("baselines/demo_sim/baseline.json");
    char *text = tu_read_file(path);
    ck_assert_msg(baseline_read_file(path, &b, err, sizeof err) == 0, "%s", err);
    if (strstr(text, "\"stacks\": [")) { /* still the flat form */
        ck_assert(b.stacks.has_stacks);
        ck_assert_uint_gt(b.stacks.nstacks, 0);
        ck_assert_double_eq_tol((double)b.stacks.total_samples,
                                b.avg.avg_total_samples * b.avg.runs,
                                0.05 * b.avg.avg_total_samples * b.avg.runs);
    }
    free(text);
    baseline_free(&b);
    const char *flat = "{\"top_functions\": [{\"name\": \"main\", \"avg_percentage\": 100}], "
                       "\"stack_functions\": [\"main\", \"a\", \"[other stacks]\"], "
                       "\"stacks\": [{\"count\": 7, \"frames\": [0, 1]}, "
                       "{\"count\": 3, \"frames\": [2]}]}";
    baseline_init(&b);
    ck_assert_msg(baseline_read_string(flat, "flat.json", &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.stacks.total_samples, 10);
    ck_assert_uint_eq(b.stacks.functions[profile_find(&b.stacks, "a")].self_samples, 7);
    baseline_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("calltree");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_small_runs_exact);
    tcase_add_test(tc, test_large_suite_budget);
    tcase_add_test(tc, test_larger_suite_is_cut);
    tcase_add_test(tc, test_diff_against_baseline_ranks_like_the_runs);
    tcase_add_test(tc, test_broken_call_trees);
    tcase_add_test(tc, test_reads_flat_stacks);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
