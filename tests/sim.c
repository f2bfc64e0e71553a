/* SPDX-License-Identifier: MIT */
/* sim.c — see sim.h. */
#include "sim.h"

#include "core/hashmap.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The state is a hash of the seed: consecutive seeds must not give overlapping streams
 * (splitmix64 advances its state by a constant, so seed * constant would). */
void sim_seed(struct sim_rng *r, uint64_t seed)
{
    r->state = mix(mix(seed ^ 0x632BE59BD9B4E019ull) + 0x9E3779B97F4A7C15ull);
}

/* splitmix64 */
static uint64_t next(struct sim_rng *r)
{
    return mix(r->state += 0x9E3779B97F4A7C15ull);
}

double sim_uniform(struct sim_rng *r)
{
    return (double)(next(r) >> 11) * 0x1.0p-53;
}

double sim_normal(struct sim_rng *r)
{
    double u1 = sim_uniform(r), u2 = sim_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

void sim_workload_default(struct sim_workload *w, double share)
{
    static const double big[] = {16, 12, 9, 7, 5.5, 4, 3, 2.2};
    const size_t nbig = sizeof big / sizeof *big, ntail = 150;
    memset(w, 0, sizeof *w);
    double tail_sum = 0;
    for (size_t k = 1; k <= ntail; k++)
        tail_sum += pow((double)k, -0.3);
    double big_sum = 0;
    for (size_t i = 0; i < nbig; i++)
        big_sum += big[i];
    for (size_t i = 0; i < nbig; i++) {
        snprintf(w->names[w->n], sizeof w->names[w->n], "big%zu", i);
        w->cost[w->n++] = big[i];
    }
    w->target = w->n;
    snprintf(w->names[w->n], sizeof w->names[w->n], "target");
    w->cost[w->n++] = 1;
    for (size_t k = 1; k <= ntail; k++) {
        snprintf(w->names[w->n], sizeof w->names[w->n], "tail%03zu", k);
        w->cost[w->n++] = (100 - big_sum) * pow((double)k, -0.3) / tail_sum;
    }
    sim_set_share(w, w->target, share);
    w->samples = 1000;
    w->spread = 0.05;
    w->ms_per_sample = 4;
    w->rss_kb = 20480;
}

static double total_cost(const struct sim_workload *w)
{
    double t = 0;
    for (size_t i = 0; i < w->n; i++)
        t += w->cost[i];
    return t;
}

double sim_share(const struct sim_workload *w, size_t i)
{
    return w->cost[i] / total_cost(w);
}

void sim_set_share(struct sim_workload *w, size_t i, double share)
{
    double others = total_cost(w) - w->cost[i];
    /* keep the others' total cost, give i share of the new whole */
    w->cost[i] = share * others / (1 - share);
}

void sim_scale(struct sim_workload *w, size_t i, double factor)
{
    w->cost[i] *= factor;
}

/* One multinomial draw: the index i with cum[i - 1] <= u < cum[i] for u uniform in
 * [0, cum[n - 1]) (cum holds running totals of n weights). */
static size_t draw(struct sim_rng *r, const double *cum, size_t n)
{
    double u = sim_uniform(r) * cum[n - 1];
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void sim_run(struct sim_rng *r, const struct sim_workload *w, struct pr_profile *out)
{
    double cost[SIM_MAX_FUNCTIONS], cum[SIM_MAX_FUNCTIONS];
    uint64_t count[SIM_MAX_FUNCTIONS] = {0};
    double total = 0;
    for (size_t i = 0; i < w->n; i++) {
        cost[i] = w->cost[i] * exp(w->spread * sim_normal(r));
        total += cost[i];
        cum[i] = total;
    }
    /* the run's length follows its cost; the samples are drawn from the shares */
    double base = total_cost(w);
    uint64_t n = (uint64_t)llround(w->samples * total / base);
    for (uint64_t k = 0; k < n; k++)
        count[draw(r, cum, w->n)]++;
    profile_init(out);
    out->functions = calloc(w->n + 1, sizeof *out->functions);
    out->total_samples = n;
    out->signals = n;
    out->profreg_version = strdup("sim");
    out->wall_time_ms = (double)n * w->ms_per_sample * exp(0.01 * sim_normal(r));
    out->cpu_time_ms = (double)n * w->ms_per_sample;
    out->peak_rss_kb = w->rss_kb;
    struct pr_function *m = &out->functions[out->nfunctions++];
    m->name = strdup("main");
    m->samples = n;
    m->self_samples = 0;
    m->line = -1;
    m->has_self = true;
    for (size_t i = 0; i < w->n; i++) {
        if (!count[i])
            continue;
        struct pr_function *f = &out->functions[out->nfunctions++];
        f->name = strdup(w->names[i]);
        f->samples = f->self_samples = count[i];
        f->line = -1;
        f->has_self = true;
    }
    profile_compute_percentages(out);
}

void sim_average(struct sim_rng *r, const struct sim_workload *w, unsigned runs,
                 struct avg_profile *out)
{
    struct avg_builder b;
    avg_builder_init(&b);
    for (unsigned k = 0; k < runs; k++) {
        struct pr_profile p;
        sim_run(r, w, &p);
        avg_builder_add(&b, &p);
        profile_free(&p);
    }
    avg_builder_finish(&b, out);
}

static int write_cb(FILE *f, const struct baseline *b)
{
    return baseline_write(f, b);
}

int sim_round_trip(const struct baseline *b, struct baseline *out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -1;
    int rc = write_cb(f, b);
    fclose(f);
    char err[1024];
    baseline_init(out);
    if (rc == 0 && baseline_read_string(text, "sim-baseline", out, err, sizeof err) != 0) {
        fprintf(stderr, "sim: %s\n", err);
        rc = -1;
    }
    free(text);
    return rc;
}

int sim_baseline(struct sim_rng *r, const struct sim_workload *w, unsigned runs,
                 struct baseline *out)
{
    struct baseline b;
    baseline_init(&b);
    sim_average(r, w, runs, &b.avg);
    b.executable = strdup("sim");
    b.functions_seen = b.avg.nfunctions;
    int rc = sim_round_trip(&b, out);
    baseline_free(&b);
    return rc;
}

/* ---- the structured workload --------------------------------------------------------------- */

static long tree_function(struct sim_tree *t, const char *name, bool runner)
{
    long f = sim_tree_find(t, name);
    if (f >= 0)
        return f;
    if (t->nfunctions == t->functions_cap) {
        size_t cap = t->functions_cap ? 2 * t->functions_cap : 64;
        char **n = realloc(t->names, cap * sizeof *n);
        if (n)
            t->names = n;
        uint8_t *ru = realloc(t->runner, cap);
        if (ru)
            t->runner = ru;
        if (!n || !ru)
            return -1;
        t->functions_cap = cap;
    }
    if (!(t->names[t->nfunctions] = strdup(name)))
        return -1;
    t->runner[t->nfunctions] = runner;
    return (long)t->nfunctions++;
}

/* The child of `parent` (-1: a root) running `name`, created when new; -1 when out of
 * memory. */
static long tree_child(struct sim_tree *t, long parent, const char *name, bool runner)
{
    long f = tree_function(t, name, runner);
    if (f < 0)
        return -1;
    for (size_t i = 0; i < t->nnodes; i++)
        if (t->nodes[i].parent == parent && t->nodes[i].function == (uint32_t)f)
            return (long)i;
    if (t->nnodes == t->nodes_cap) {
        size_t cap = t->nodes_cap ? 2 * t->nodes_cap : 256;
        struct sim_tree_node *n = realloc(t->nodes, cap * sizeof *n);
        if (!n)
            return -1;
        t->nodes = n;
        t->nodes_cap = cap;
    }
    uint32_t depth = parent >= 0 ? t->nodes[parent].depth + 1 : 1;
    uint32_t *path = malloc(depth * sizeof *path);
    if (!path)
        return -1;
    if (parent >= 0)
        memcpy(path, t->nodes[parent].path, (depth - 1) * sizeof *path);
    path[depth - 1] = (uint32_t)f;
    t->nodes[t->nnodes] = (struct sim_tree_node){(uint32_t)f, (int32_t)parent, depth, path, 0};
    return (long)t->nnodes++;
}

/* A chain of frames below parent; the last node, or -1. */
static long tree_chain(struct sim_tree *t, long parent, const char *const *names, size_t n,
                       bool runner)
{
    for (size_t i = 0; i < n; i++)
        if ((parent = tree_child(t, parent, names[i], runner)) < 0)
            return -1;
    return parent;
}

/* A module: project functions a test calls, as a small tree of self costs (relative). */
struct sim_tmpl {
    const char *name;
    int parent; /* entry index; -1: called by the test body itself */
    double self;
};

#define NELEM(a) (sizeof(a) / sizeof *(a))
struct sim_module {
    const struct sim_tmpl *fns;
    size_t n;
};

static const char FN_NORM[] = "proj::Vec3::norm() const";
static const char FN_DOT[] = "proj::dot(proj::Vec3 const&, proj::Vec3 const&)";
static const char FN_OVERLAPS[] = "proj::Aabb::overlaps(proj::Aabb const&) const";
static const char FN_HASH[] = "proj::hash_combine(unsigned long, unsigned long)";
static const char FN_MEMMOVE[] = "__memmove_avx_unaligned_erms";
static const char FN_QUERY[] = "proj::kd::Tree::query(proj::Aabb const&, std::vector<int, "
                               "std::allocator<int> >&) const";

static const struct sim_tmpl SOLVE[] = {
    {"proj::Solver::solve(proj::Problem const&)", -1, 3.0},
    {"proj::Solver::assemble(proj::Problem const&)", 0, 1.4},
    {FN_DOT, 1, 0.5},
    {"malloc", 1, 0.2},
    {"proj::Solver::factorize()", 0, 1.6},
    {FN_MEMMOVE, 4, 0.2},
    {FN_NORM, 0, 0.2},
    {"free", 0, 0.1},
};
static const struct sim_tmpl COLLIDE[] = {
    {"proj::Broadphase::collide(proj::World const&)", -1, 5.0},
    {FN_OVERLAPS, 0, 3.0},
    {FN_HASH, 0, 1.0},
    {"void std::vector<proj::Pair, std::allocator<proj::Pair> >::_M_realloc_insert<proj::Pair>"
     "(__gnu_cxx::__normal_iterator<proj::Pair*, std::vector<proj::Pair, "
     "std::allocator<proj::Pair> > >, proj::Pair&&)",
     0, 0.1},
    {"malloc", 3, 0.3},
    {FN_MEMMOVE, 3, 0.3},
    {FN_NORM, 0, 0.2},
    {"proj::Broadphase::sort_axis(int)", 0, 0.5},
    {"void std::__introsort_loop<proj::Aabb*, long, "
     "__gnu_cxx::__ops::_Iter_comp_iter<proj::AxisLess> >(proj::Aabb*, proj::Aabb*, long, "
     "__gnu_cxx::__ops::_Iter_comp_iter<proj::AxisLess>)",
     7, 2.0},
};
static const struct sim_tmpl MESH[] = {
    {"proj::Mesh::build(proj::Shape const&)", -1, 2.0},
    {"proj::Mesh::triangulate()", 0, 2.0},
    {FN_NORM, 1, 0.2},
    {FN_DOT, 1, 0.4},
    {FN_HASH, 0, 0.5},
    {"malloc", 0, 0.4},
    {"free", 0, 0.3},
};
static const struct sim_tmpl WORLD[] = {
    {"proj::World::build(int)", -1, 2.5},
    {"proj::Rng::next()", 0, 1.0},
    {"malloc", 0, 0.8},
    {FN_NORM, 0, 0.2},
    {"__memset_avx2_unaligned_erms", 0, 0.4},
};
static const struct sim_tmpl PARSE[] = {
    {"proj::Parser::parse(std::__cxx11::basic_string<char, std::char_traits<char>, "
     "std::allocator<char> > const&)",
     -1, 1.5},
    {"proj::Lexer::next()", 0, 2.0},
    {"__memchr_avx2", 1, 0.4},
    {"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> "
     ">::_M_append(char const*, unsigned long)",
     0, 0.6},
    {"malloc", 3, 0.3},
};
static const struct sim_tmpl KD[] = {
    {"proj::kd::Tree::build(std::vector<proj::Aabb, std::allocator<proj::Aabb> > const&)", -1, 1.5},
    {"malloc", 0, 0.3},
    {FN_QUERY, -1, 0.8}, /* recursive: a frame counts once per stack */
    {FN_QUERY, 2, 0.8},
    {FN_QUERY, 3, 0.8},
    {FN_OVERLAPS, 4, 1.0},
    {FN_OVERLAPS, 3, 0.5},
};

enum { M_SOLVE, M_COLLIDE, M_MESH, M_WORLD, M_PARSE, M_KD, M_NMODULES };
static const struct sim_module MODULES[M_NMODULES] = {
    {SOLVE, NELEM(SOLVE)}, {COLLIDE, NELEM(COLLIDE)}, {MESH, NELEM(MESH)},
    {WORLD, NELEM(WORLD)}, {PARSE, NELEM(PARSE)},     {KD, NELEM(KD)},
};
/* Each module's share of the whole (percent, before normalising to the total). */
static const double MODULE_SHARE[M_NMODULES] = {8, 16, 7, 6, 5, 6};

/* Adds module m at `share` (percent) below node `body`; 0, or -1. */
static int tree_module(struct sim_tree *t, long body, int m, double share)
{
    const struct sim_module *mod = &MODULES[m];
    long node[16];
    double sum = 0;
    for (size_t i = 0; i < mod->n; i++)
        sum += mod->fns[i].self;
    for (size_t i = 0; i < mod->n; i++) {
        const struct sim_tmpl *e = &mod->fns[i];
        node[i] = tree_child(t, e->parent < 0 ? body : node[e->parent], e->name, false);
        if (node[i] < 0)
            return -1;
        t->nodes[node[i]].cost += share * e->self / sum;
    }
    return 0;
}

/* Weight of test k of n in a suite: heavy tests and light ones, as in real suites. */
static double test_weight(size_t k)
{
    return pow((double)(k + 1), -0.7);
}

static double weights_sum(size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += test_weight(k);
    return s;
}

static const char *const RUNNER_PREFIX[] = {
    "_start",
    "__libc_start_main_impl",
    "__libc_start_call_main",
    "main",
    "testing::UnitTest::Run()",
    "bool testing::internal::HandleExceptionsInMethodIfSupported<testing::internal::UnitTestImpl, "
    "bool>(testing::internal::UnitTestImpl*, bool (testing::internal::UnitTestImpl::*)(), char "
    "const*)",
    "testing::internal::UnitTestImpl::RunAllTests()",
    "testing::TestSuite::Run()",
    "testing::TestInfo::Run()",
    "testing::Test::Run()",
    "void testing::internal::HandleExceptionsInMethodIfSupported<testing::Test, "
    "void>(testing::Test*, void (testing::Test::*)(), char const*)",
};
#define RUNNER_DEPTH (sizeof RUNNER_PREFIX / sizeof *RUNNER_PREFIX)

struct sim_suite {
    const char *name;
    size_t ntests;
    int module;  /* the module its tests call; -1: the utility functions; -2: solve, collide
                    and mesh, and utility functions */
    double part; /* of that module's share */
};

static const struct sim_suite SUITES[] = {
    {"SolverTest", 12, M_SOLVE, 0.8}, {"BroadphaseTest", 15, M_COLLIDE, 0.8},
    {"MeshTest", 15, M_MESH, 0.8},    {"WorldTest", 8, M_WORLD, 0.3},
    {"ParserTest", 20, M_PARSE, 1.0}, {"KdTreeTest", 10, M_KD, 1.0},
    {"IntegrationTest", 10, -2, 0.2}, {"UtilTest", 30, -1, 0.7},
};
#define NSUITES    (sizeof SUITES / sizeof *SUITES)
#define NUTIL      30
#define UTIL_SHARE 30.0 /* percent, all utility functions */

static const char *const TEST_NAMES[] = {"Basic",    "Empty",     "Large",  "Random", "Degenerate",
                                         "Repeated", "Symmetric", "Nested", "Sparse", "Dense"};

static int tree_build(struct sim_tree *t)
{
    long rn[RUNNER_DEPTH];
    for (size_t i = 0; i < RUNNER_DEPTH; i++)
        if ((rn[i] = tree_child(t, i ? rn[i - 1] : -1, RUNNER_PREFIX[i], true)) < 0)
            return -1;
    long mainf = rn[3], run_all = rn[6], info = rn[8];
    long prefix = rn[RUNNER_DEPTH - 1]; /* the test bodies' caller */
    /* the runner's own time: result printing, its loop, flag parsing */
    static const char *const printer[] = {
        "testing::internal::TestEventRepeater::OnTestEnd(testing::TestInfo const&)",
        "testing::internal::PrettyUnitTestResultPrinter::OnTestEnd(testing::TestInfo const&)"};
    long p = tree_chain(t, info, printer, 2, true);
    long w = p >= 0 ? tree_child(t, p, "write", false) : -1;
    long init = tree_child(t, mainf, "testing::InitGoogleTest(int*, char**)", true);
    if (p < 0 || w < 0 || init < 0)
        return -1;
    t->nodes[p].cost += 0.1;
    t->nodes[w].cost += 0.4;
    t->nodes[run_all].cost += 0.1;
    t->nodes[init].cost += 0.05;
    /* a fixture's SetUp() builds a world: most of proj::World::build (one call path, shared
     * by the tests of the suites that use the fixture) */
    long setup = tree_child(t, prefix, "proj_test::SimFixture::SetUp()", false);
    if (setup < 0 || tree_module(t, setup, M_WORLD, MODULE_SHARE[M_WORLD] * 0.7) != 0)
        return -1;
    t->nodes[setup].cost += 0.1;
    double util_sum = 0;
    for (size_t k = 0; k < NUTIL; k++)
        util_sum += test_weight(k);
    char name[256];
    for (size_t s = 0; s < NSUITES; s++) {
        const struct sim_suite *su = &SUITES[s];
        double ws = weights_sum(su->ntests);
        for (size_t k = 0; k < su->ntests; k++) {
            if (su->module == -1)
                snprintf(name, sizeof name, "%s_Task%02zu_Test::TestBody()", su->name, k);
            else
                snprintf(name, sizeof name, "%s_%s%zu_Test::TestBody()", su->name,
                         TEST_NAMES[k % 10], k / 10);
            long body = tree_child(t, prefix, name, false);
            if (body < 0)
                return -1;
            double work = 0, share;
            if (su->module >= 0) {
                share = MODULE_SHARE[su->module] * su->part * test_weight(k) / ws;
                if (tree_module(t, body, su->module, share) != 0)
                    return -1;
                work += share;
            } else if (su->module == -2) {
                static const int mods[] = {M_SOLVE, M_COLLIDE, M_MESH};
                for (size_t i = 0; i < 3; i++) {
                    share = MODULE_SHARE[mods[i]] * su->part * test_weight(k) / ws;
                    if (tree_module(t, body, mods[i], share) != 0)
                        return -1;
                    work += share;
                }
            }
            /* a utility function: 70 % from its own test, 30 % from an integration test */
            if (su->module == -1 || su->module == -2) {
                size_t u0 = su->module == -1 ? k : k * 3, u1 = su->module == -1 ? k + 1 : k * 3 + 3;
                for (size_t u = u0; u < u1 && u < NUTIL; u++) {
                    snprintf(name, sizeof name, "proj::util::task%02zu(proj::Context&)", u);
                    long n = tree_child(t, body, name, false);
                    if (n < 0)
                        return -1;
                    share = UTIL_SHARE * test_weight(u) / util_sum * (su->module == -1 ? 0.7 : 0.3);
                    t->nodes[n].cost += share;
                    work += share;
                }
            }
            t->nodes[body].cost += 0.04 * work + 0.01; /* the test's own code */
        }
    }
    /* the background thread: a recorder encoding and writing frames, without main */
    static const char *const thread[] = {"clone3", "start_thread", "execute_native_thread_routine",
                                         "proj::Recorder::run()"};
    long rec = tree_chain(t, -1, thread, 4, false);
    long enc = rec >= 0
                   ? tree_child(t, rec, "proj::Recorder::encode_frame(proj::Frame const&)", false)
                   : -1;
    long crc = enc >= 0
                   ? tree_child(t, enc, "proj::crc32(unsigned char const*, unsigned long)", false)
                   : -1;
    long wr = rec >= 0 ? tree_child(t, rec, "write", false) : -1;
    long ma = enc >= 0 ? tree_child(t, enc, "malloc", false) : -1;
    if (crc < 0 || wr < 0 || ma < 0)
        return -1;
    t->nodes[rec].cost += 0.8;
    t->nodes[enc].cost += 4.5;
    t->nodes[crc].cost += 1.5;
    t->nodes[wr].cost += 2.0;
    t->nodes[ma].cost += 0.5;
    return 0;
}

int sim_tree_gtest(struct sim_tree *t)
{
    memset(t, 0, sizeof *t);
    if (tree_build(t) != 0) {
        sim_tree_free(t);
        return -1;
    }
    t->target = (size_t)sim_tree_find(t, "proj::Solver::solve(proj::Problem const&)");
    t->leaf = (size_t)sim_tree_find(t, FN_NORM);
    t->samples = 1000;
    t->spread = 0.05;
    t->ms_per_sample = 4;
    t->rss_kb = 20480;
    return 0;
}

void sim_tree_free(struct sim_tree *t)
{
    for (size_t i = 0; i < t->nfunctions; i++)
        free(t->names[i]);
    for (size_t i = 0; i < t->nnodes; i++)
        free(t->nodes[i].path);
    free(t->names);
    free(t->runner);
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

long sim_tree_find(const struct sim_tree *t, const char *name)
{
    for (size_t i = 0; i < t->nfunctions; i++)
        if (strcmp(t->names[i], name) == 0)
            return (long)i;
    return -1;
}

static bool path_holds(const struct sim_tree_node *n, size_t f)
{
    for (uint32_t d = 0; d < n->depth; d++)
        if (n->path[d] == f)
            return true;
    return false;
}

static double tree_cost(const struct sim_tree *t)
{
    double c = 0;
    for (size_t i = 0; i < t->nnodes; i++)
        c += t->nodes[i].cost;
    return c;
}

double sim_tree_total_share(const struct sim_tree *t, size_t f)
{
    double c = 0;
    for (size_t i = 0; i < t->nnodes; i++)
        if (path_holds(&t->nodes[i], f))
            c += t->nodes[i].cost;
    return c / tree_cost(t);
}

double sim_tree_self_share(const struct sim_tree *t, size_t f)
{
    double c = 0;
    for (size_t i = 0; i < t->nnodes; i++)
        if (t->nodes[i].function == f)
            c += t->nodes[i].cost;
    return c / tree_cost(t);
}

void sim_tree_scale_calls(struct sim_tree *t, size_t f, double factor)
{
    for (size_t i = 0; i < t->nnodes; i++)
        if (path_holds(&t->nodes[i], f))
            t->nodes[i].cost *= factor;
}

void sim_tree_scale_self(struct sim_tree *t, size_t f, double factor)
{
    for (size_t i = 0; i < t->nnodes; i++)
        if (t->nodes[i].function == f)
            t->nodes[i].cost *= factor;
}

int sim_tree_run(struct sim_rng *r, const struct sim_tree *t, struct pr_profile *out)
{
    profile_init(out);
    double *factor = malloc(t->nfunctions * sizeof *factor);
    double *cum = malloc(t->nnodes * sizeof *cum);
    uint64_t *count = calloc(t->nnodes, sizeof *count);
    uint32_t *fidx = malloc(t->nfunctions * sizeof *fidx);
    int rc = -1;
    if (!factor || !cum || !count || !fidx)
        goto done;
    for (size_t f = 0; f < t->nfunctions; f++) {
        factor[f] = exp(t->spread * sim_normal(r));
        fidx[f] = UINT32_MAX;
    }
    double total = 0;
    for (size_t i = 0; i < t->nnodes; i++) {
        total += t->nodes[i].cost * factor[t->nodes[i].function];
        cum[i] = total;
    }
    uint64_t n = (uint64_t)llround(t->samples * total / tree_cost(t));
    for (uint64_t k = 0; k < n; k++)
        count[draw(r, cum, t->nnodes)]++;
    size_t nstacks = 0;
    for (size_t i = 0; i < t->nnodes; i++)
        nstacks += count[i] > 0;
    out->functions = calloc(t->nfunctions, sizeof *out->functions);
    out->stacks = calloc(nstacks ? nstacks : 1, sizeof *out->stacks);
    out->profreg_version = strdup("sim");
    if (!out->functions || !out->stacks || !out->profreg_version)
        goto done;
    for (size_t i = 0; i < t->nnodes; i++) {
        const struct sim_tree_node *node = &t->nodes[i];
        if (!count[i])
            continue;
        struct pr_stack *st = &out->stacks[out->nstacks];
        if (!(st->frames = malloc(node->depth * sizeof *st->frames)))
            goto done;
        out->nstacks++;
        st->depth = node->depth;
        st->count = count[i];
        for (uint32_t d = 0; d < node->depth; d++) {
            uint32_t f = node->path[d];
            if (fidx[f] == UINT32_MAX) {
                struct pr_function *pf = &out->functions[out->nfunctions];
                if (!(pf->name = strdup(t->names[f])))
                    goto done;
                pf->line = -1;
                fidx[f] = (uint32_t)out->nfunctions++;
            }
            st->frames[d] = fidx[f];
        }
    }
    out->has_stacks = true;
    if (profile_recount(out) != 0 || profile_sort(out) != 0)
        goto done;
    out->signals = out->total_samples;
    out->wall_time_ms = (double)n * t->ms_per_sample * exp(0.01 * sim_normal(r));
    out->cpu_time_ms = (double)n * t->ms_per_sample;
    out->peak_rss_kb = t->rss_kb;
    rc = 0;
done:
    free(factor);
    free(cum);
    free(count);
    free(fidx);
    if (rc != 0)
        profile_free(out);
    return rc;
}

int sim_tree_average(struct sim_rng *r, const struct sim_tree *t, unsigned runs,
                     struct avg_profile *out)
{
    struct avg_builder b;
    avg_builder_init(&b);
    memset(out, 0, sizeof *out);
    for (unsigned k = 0; k < runs; k++) {
        struct pr_profile p;
        if (sim_tree_run(r, t, &p) != 0) {
            avg_builder_abort(&b);
            return -1;
        }
        int rc = avg_builder_add(&b, &p);
        profile_free(&p);
        if (rc != 0) {
            avg_builder_abort(&b);
            return -1;
        }
    }
    return avg_builder_finish(&b, out);
}

int sim_tree_baseline(struct sim_rng *r, const struct sim_tree *t, unsigned runs,
                      struct baseline *out)
{
    struct baseline b;
    baseline_init(&b);
    if (sim_tree_average(r, t, runs, &b.avg) != 0) {
        baseline_free(&b);
        baseline_init(out);
        return -1;
    }
    b.executable = strdup("sim");
    b.functions_seen = b.avg.nfunctions;
    int rc = sim_round_trip(&b, out);
    baseline_free(&b);
    return rc;
}

int sim_baseline_attach_stacks(struct baseline *b)
{
    return avg_profile_adopt_stacks(&b->avg, &b->stacks);
}
