/* SPDX-License-Identifier: MIT */
/* judge_eval.c — `make judge-eval`: how often the judge cries wolf and how often it catches
 * a real slowdown, on simulated profiles with known shares (tests/sim.h). Seeded: every run
 * prints the same table. The judge is the real one (judge_compare), and the baselines go
 * through the baseline writer and reader, rounding included.
 *
 * Two workloads: the flat one (sim_workload_default: functions without call structure) and
 * the structured one (sim_tree_gtest: a gtest-shaped call tree whose runs carry stacks, with
 * runner frames in ≈ 90 % of samples and a background thread). For the structured one each
 * trial writes one baseline and judges every scenario against it.
 *
 * Runs are 4 s of CPU sampled as `profreg record` samples them by default: per-thread perf
 * events at 1000 Hz take about 1,000 stacks per CPU second (make bench measures 985-998), so
 * 4,000 stacks a run, each a millisecond (the tests' simulations keep the 1,000 a run of
 * CPU-time timers at HZ=250).
 *
 *   judge_eval [TRIALS] [SEED]     (defaults 1000 and 1) */
#include "../sim.h"
#include "analysis/judge/stats.h"

#define EVAL_STACKS 4000.0 /* stacks a run: 4 s of CPU at ~1,000 stacks per CPU second */

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scenario {
    const char *label;
    double share;     /* target's share before */
    double factor;    /* its cost multiplier (1: A/A) */
    double threshold; /* --threshold */
    unsigned current_runs;
};

struct tally {
    unsigned failed;       /* the comparison fails --strict */
    unsigned target;       /* the target function was flagged a regression */
    unsigned flagged;      /* anything reported: a regression, a new hotspot or a disappearance */
    unsigned inconclusive; /* some verdict INCONCLUSIVE (default judge) */
};

static const struct judged_function *find(const struct judgement *j, const char *name)
{
    for (size_t i = 0; i < j->ncompared; i++)
        if (strcmp(j->compared[i].name, name) == 0)
            return &j->compared[i];
    return NULL;
}

static void run_scenario(const struct scenario *sc, unsigned trials, uint64_t seed,
                         struct tally out[2])
{
    memset(out, 0, 2 * sizeof *out);
    for (unsigned t = 0; t < trials; t++) {
        struct sim_rng rng;
        sim_seed(&rng, seed * 1000003u + t);
        struct sim_workload w;
        sim_workload_default(&w, sc->share);
        w.samples = EVAL_STACKS;
        w.ms_per_sample = 1;
        struct baseline base;
        if (sim_baseline(&rng, &w, 5, &base) != 0) {
            fprintf(stderr, "judge_eval: baseline round trip failed\n");
            exit(2);
        }
        sim_scale(&w, w.target, sc->factor);
        struct avg_profile cur;
        sim_average(&rng, &w, sc->current_runs, &cur);
        for (int k = 0; k < 2; k++) {
            struct judge_options o;
            judge_options_default(&o);
            o.compat = k == 1;
            o.threshold_percent = sc->threshold;
            struct judgement j;
            if (judge_compare(&cur, &base.avg, &o, &j) != 0) {
                fprintf(stderr, "judge_eval: out of memory\n");
                exit(2);
            }
            const struct judged_function *f = find(&j, "target");
            out[k].failed += judgement_failed(&j);
            out[k].target += f && f->status == VERDICT_REGRESSION;
            out[k].flagged += judgement_failed(&j) || j.nnew || j.ndisappeared;
            out[k].inconclusive += j.inconclusive > 0;
            judgement_free(&j);
        }
        avg_profile_free(&cur);
        baseline_free(&base);
    }
}

/* ---- the structured workload ------------------------------------------------------------ */

enum tree_change { CHANGE_NONE, CHANGE_CALLS, CHANGE_SELF };

struct tree_case {
    const char *label;
    enum tree_change change; /* the target runs factor times as often, or the leaf's own
                                code slows down by factor */
    double factor;
    unsigned current_runs;
    size_t top;        /* --top (0: the default, 10) */
    bool same_current; /* judges the current runs of the case before (other options only) */
};

/* How often each function was named (names point into the base tree: they outlive the
 * judgements). */
#define MAX_NAMED 256
struct name_count {
    const char *name[MAX_NAMED];
    unsigned n[MAX_NAMED];
};

static void name_add(struct name_count *c, const char *name)
{
    for (size_t i = 0; i < MAX_NAMED; i++) {
        if (!c->name[i]) {
            c->name[i] = name;
            c->n[i] = 1;
            return;
        }
        if (c->name[i] == name) {
            c->n[i]++;
            return;
        }
    }
}

static size_t name_most(const struct name_count *c)
{
    size_t best = 0;
    for (size_t i = 1; i < MAX_NAMED && c->name[i]; i++)
        if (c->n[i] > c->n[best])
            best = i;
    return best;
}

struct tree_tally {
    unsigned failed[2], flagged[2];      /* [0] default, [1] --compat */
    unsigned inconclusive;               /* default: some verdict INCONCLUSIVE */
    unsigned changed[2];                 /* the changed function flagged a regression */
    unsigned no_slot, undecided_changed; /* default: it took no top-N slot; INCONCLUSIVE */
    unsigned undecided_p01;              /* INCONCLUSIVE with p < 0.01 */
    unsigned named[2];                   /* it is j.likely_cause: [0] baseline as read, [1] with
                                            the baseline's stacks handed to the judge */
    unsigned runner_slot, runner_flagged, runner_slot_compat;
    unsigned thread_slot, thread_regressed, thread_inconclusive;
    struct name_count instead[2]; /* the likely cause named instead ("(none)": none) */
    struct name_count regressed;  /* A/A: functions called a regression */
    struct name_count undecided;  /* A/A: functions judged INCONCLUSIVE */
};

static const char NONE_NAMED[] = "(none)";

/* The base tree's copy of a name in a judgement (stable across trials). */
static const char *tree_name(const struct sim_tree *t, const char *name)
{
    long f = name ? sim_tree_find(t, name) : -1;
    return f >= 0 ? t->names[f] : NONE_NAMED;
}

static bool is_runner(const struct sim_tree *t, const char *name)
{
    long f = sim_tree_find(t, name);
    return f >= 0 && t->runner[f];
}

static bool is_thread_entry(const char *name)
{
    return strcmp(name, "clone3") == 0 || strcmp(name, "start_thread") == 0 ||
           strcmp(name, "execute_native_thread_routine") == 0;
}

/* Frames of a kind in judgement j: took a slot (judged), regressed (or listed as a new
 * hotspot or disappeared), INCONCLUSIVE. */
struct frames_seen {
    bool slot, regressed, inconclusive;
};

static struct frames_seen scan_frames(const struct sim_tree *t, const struct judgement *j,
                                      bool runner)
{
    struct frames_seen r = {false, false, false};
    for (size_t i = 0; i < j->ncompared; i++) {
        const char *n = j->compared[i].name;
        if (runner ? !is_runner(t, n) : !is_thread_entry(n))
            continue;
        r.slot = true;
        r.regressed |= j->compared[i].status == VERDICT_REGRESSION;
        r.inconclusive |= j->compared[i].status == VERDICT_INCONCLUSIVE;
    }
    for (size_t i = 0; i < j->nnew; i++)
        r.regressed |= runner ? is_runner(t, j->new_hotspots[i].name)
                              : is_thread_entry(j->new_hotspots[i].name);
    for (size_t i = 0; i < j->ndisappeared; i++)
        r.regressed |=
            runner ? is_runner(t, j->disappeared[i].name) : is_thread_entry(j->disappeared[i].name);
    return r;
}

static void die(const char *what)
{
    fprintf(stderr, "judge_eval: %s\n", what);
    exit(2);
}

static void judge_or_die(const struct avg_profile *cur, const struct avg_profile *base, bool compat,
                         size_t top, struct judgement *j)
{
    struct judge_options o;
    judge_options_default(&o);
    o.compat = compat;
    if (top)
        o.top = top;
    if (judge_compare(cur, base, &o, j) != 0)
        die("out of memory");
}

/* The default judge's verdicts of one case in one trial. */
static void tally_default(struct tree_tally *tt, const struct sim_tree *t, const char *changed,
                          const struct judgement *j)
{
    const struct judged_function *f = changed ? find(j, changed) : NULL;
    tt->failed[0] += judgement_failed(j);
    tt->flagged[0] += judgement_failed(j) || j->nnew || j->ndisappeared;
    tt->inconclusive += j->inconclusive > 0;
    tt->changed[0] += f && f->status == VERDICT_REGRESSION;
    tt->no_slot += changed && !f;
    tt->undecided_changed += f && f->status == VERDICT_INCONCLUSIVE;
    tt->undecided_p01 += f && f->status == VERDICT_INCONCLUSIVE && f->p_value < 0.01;
    struct frames_seen r = scan_frames(t, j, true), th = scan_frames(t, j, false);
    tt->runner_slot += r.slot;
    tt->runner_flagged += r.regressed || r.inconclusive;
    tt->thread_slot += th.slot;
    tt->thread_regressed += th.regressed;
    tt->thread_inconclusive += th.inconclusive;
    if (changed)
        return;
    for (size_t i = 0; i < j->ncompared; i++) {
        if (j->compared[i].status == VERDICT_REGRESSION)
            name_add(&tt->regressed, tree_name(t, j->compared[i].name));
        if (j->compared[i].status == VERDICT_INCONCLUSIVE)
            name_add(&tt->undecided, tree_name(t, j->compared[i].name));
    }
    for (size_t i = 0; i < j->nnew; i++)
        name_add(&tt->regressed, tree_name(t, j->new_hotspots[i].name));
}

/* Every case against one baseline per trial; trees[c] is case c's workload, base_tree the
 * unchanged one. */
static void run_tree_cases(const struct tree_case *cases, size_t ncases,
                           const struct sim_tree *base_tree, const struct sim_tree *trees,
                           unsigned trials, uint64_t seed, struct tree_tally *out)
{
    memset(out, 0, ncases * sizeof *out);
    struct avg_profile *cur = calloc(ncases, sizeof *cur);
    if (!cur)
        die("out of memory");
    for (unsigned t = 0; t < trials; t++) {
        struct sim_rng rng;
        sim_seed(&rng, (seed * 1000003u + t) ^ 0x5452454553494D00ull); /* not the flat rows' */
        struct baseline base;
        if (sim_tree_baseline(&rng, base_tree, 5, &base) != 0 ||
            sim_baseline_attach_stacks(&base) != 0)
            die("baseline round trip failed");
        for (size_t c = 0; c < ncases; c++)
            if (!cases[c].same_current &&
                sim_tree_average(&rng, &trees[c], cases[c].current_runs, &cur[c]) != 0)
                die("out of memory");
        /* the baseline as profreg compare judges it (its stacks handed to the judge), then
         * as an older baseline that kept no stacks (causes from self growth) */
        for (int with_stacks = 0; with_stacks < 2; with_stacks++) {
            if (with_stacks)
                base.avg.has_stacks = false;
            for (size_t c = 0; c < ncases; c++) {
                const struct tree_case *tc = &cases[c];
                struct tree_tally *tt = &out[c];
                const struct avg_profile *cp = &cur[c];
                for (size_t k = c; cases[k].same_current && k > 0; k--)
                    cp = &cur[k - 1];
                const char *changed = tc->change == CHANGE_CALLS ? base_tree->names[trees[c].target]
                                      : tc->change == CHANGE_SELF ? base_tree->names[trees[c].leaf]
                                                                  : NULL;
                if (with_stacks && !changed)
                    continue; /* only the causes differ */
                struct judgement j;
                judge_or_die(cp, &base.avg, false, tc->top, &j);
                if (changed) {
                    const char *named = tree_name(base_tree, j.likely_cause);
                    if (named == changed)
                        tt->named[with_stacks]++;
                    else
                        name_add(&tt->instead[with_stacks], named);
                }
                if (!with_stacks)
                    tally_default(tt, base_tree, changed, &j);
                judgement_free(&j);
                if (with_stacks)
                    continue;
                judge_or_die(cp, &base.avg, true, tc->top, &j);
                const struct judged_function *f = changed ? find(&j, changed) : NULL;
                tt->failed[1] += judgement_failed(&j);
                tt->flagged[1] += judgement_failed(&j) || j.nnew || j.ndisappeared;
                tt->changed[1] += f && f->status == VERDICT_REGRESSION;
                tt->runner_slot_compat += scan_frames(base_tree, &j, true).slot;
                judgement_free(&j);
            }
        }
        for (size_t c = 0; c < ncases; c++)
            avg_profile_free(&cur[c]);
        baseline_free(&base);
    }
    free(cur);
}

static double pct(unsigned n, unsigned trials)
{
    return 100.0 * n / trials;
}

/* "name (share % total, share % self)" of the base tree's function, shortened. */
static const char *described(const struct sim_tree *t, const char *name, char *buf, size_t len)
{
    long f = sim_tree_find(t, name);
    if (f < 0) {
        snprintf(buf, len, "%s", name);
        return buf;
    }
    snprintf(buf, len, "%.60s%s (%.1f %% total, %.1f %% self)", name,
             strlen(name) > 60 ? "..." : "", 100 * sim_tree_total_share(t, (size_t)f),
             100 * sim_tree_self_share(t, (size_t)f));
    return buf;
}

static void tree_section(unsigned trials, uint64_t seed)
{
    const struct tree_case cases[] = {
        {"A/A, 5 runs vs a baseline of 5", CHANGE_NONE, 1, 5, 0, false},
        {"A/A, 1 run vs a baseline of 5", CHANGE_NONE, 1, 1, 0, false},
        {"2x solve (self and callees), 5 vs 5", CHANGE_CALLS, 2, 5, 0, false},
        {"2x solve (self and callees), 1 vs 5", CHANGE_CALLS, 2, 1, 0, false},
        {"2.5x norm (leaf, own code), 5 vs 5", CHANGE_SELF, 2.5, 5, 0, false},
        {"the same runs, --top 20", CHANGE_SELF, 2.5, 5, 20, true},
    };
    const size_t ncases = sizeof cases / sizeof *cases;
    struct sim_tree base_tree, trees[sizeof cases / sizeof *cases];
    if (sim_tree_gtest(&base_tree) != 0)
        die("out of memory");
    base_tree.samples = EVAL_STACKS;
    base_tree.ms_per_sample = 1;
    for (size_t c = 0; c < ncases; c++) {
        if (sim_tree_gtest(&trees[c]) != 0)
            die("out of memory");
        trees[c].samples = EVAL_STACKS;
        trees[c].ms_per_sample = 1;
        if (cases[c].change == CHANGE_CALLS)
            sim_tree_scale_calls(&trees[c], trees[c].target, cases[c].factor);
        else if (cases[c].change == CHANGE_SELF)
            sim_tree_scale_self(&trees[c], trees[c].leaf, cases[c].factor);
    }
    const struct sim_tree *b = &base_tree;
    long main_f = sim_tree_find(b, "main"), clone_f = sim_tree_find(b, "clone3");
    size_t nbodies = 0;
    for (size_t f = 0; f < b->nfunctions; f++)
        nbodies += strstr(b->names[f], "_Test::TestBody()") != NULL;
    printf("\nStructured workload (sim_tree_gtest): a gtest-shaped call tree, runs with stacks; "
           "%zu functions,\n%zu call paths, %zu tests; runner frames (_start ... main, "
           "testing::*) in %.1f %% of samples, a background\nthread (clone3, start_thread) in "
           "%.1f %%; solve = %s at %.1f %% total,\n%.1f %% self; norm = %s at %.2f %% self; "
           "%.0f samples a run, %.0f %% spread per function; one\nbaseline of 5 runs (written "
           "and read back) per trial, every row judged against it.\n\n",
           b->nfunctions, b->nnodes, nbodies, 100 * sim_tree_total_share(b, (size_t)main_f),
           100 * sim_tree_total_share(b, (size_t)clone_f), b->names[b->target],
           100 * sim_tree_total_share(b, b->target), 100 * sim_tree_self_share(b, b->target),
           b->names[b->leaf], 100 * sim_tree_self_share(b, b->leaf), b->samples, b->spread * 100);
    struct tree_tally *tt = calloc(ncases, sizeof *tt);
    if (!tt)
        die("out of memory");
    run_tree_cases(cases, ncases, b, trees, trials, seed, tt);
    printf("%-40s  %-34s  %-24s\n", "False alarms (nothing changed)", "default judge", "--compat");
    printf("%-40s  %-34s  %-24s\n", "", "fails --strict / any / INCONCLUSIVE",
           "fails --strict / any");
    unsigned comparisons = 0, runner_slot = 0, runner_flagged = 0, runner_compat = 0,
             thread_slot = 0, thread_regressed = 0, thread_inconclusive = 0;
    for (size_t c = 0; c < ncases; c++) {
        comparisons += trials;
        runner_slot += tt[c].runner_slot;
        runner_flagged += tt[c].runner_flagged;
        runner_compat += tt[c].runner_slot_compat;
        thread_slot += tt[c].thread_slot;
        thread_regressed += tt[c].thread_regressed;
        thread_inconclusive += tt[c].thread_inconclusive;
        if (cases[c].change != CHANGE_NONE)
            continue;
        char d[64], k[64];
        snprintf(d, sizeof d, "%5.1f %% / %5.1f %% / %5.1f %%", pct(tt[c].failed[0], trials),
                 pct(tt[c].flagged[0], trials), pct(tt[c].inconclusive, trials));
        snprintf(k, sizeof k, "%5.1f %% / %5.1f %%", pct(tt[c].failed[1], trials),
                 pct(tt[c].flagged[1], trials));
        printf("%-40s  %-34s  %-24s\n", cases[c].label, d, k);
    }
    printf("\n%-40s  %-34s  %-24s\n", "Detection (the changed function)", "default judge",
           "--compat");
    printf("%-40s  %-34s  %-24s\n", "", "flagged / named likely cause (1)", "flagged");
    for (size_t c = 0; c < ncases; c++) {
        if (cases[c].change == CHANGE_NONE)
            continue;
        char d[64], k[64];
        snprintf(d, sizeof d, "%5.1f %% / %5.1f %% (%5.1f %%)", pct(tt[c].changed[0], trials),
                 pct(tt[c].named[0], trials), pct(tt[c].named[1], trials));
        snprintf(k, sizeof k, "%5.1f %%", pct(tt[c].changed[1], trials));
        printf("%-40s  %-34s  %-24s\n", cases[c].label, d, k);
    }
    printf("(1) j.likely_cause is the changed function; the baseline as profreg compare reads it, "
           "its stacks\n    handed to the judge (causes from both sides' stacks); in brackets, a "
           "baseline that kept\n    no stacks (causes from self growth alone).\n\n");
    char buf[256];
    for (size_t c = 0; c < ncases; c++) {
        if (cases[c].change == CHANGE_NONE) {
            const struct name_count *r = &tt[c].regressed, *u = &tt[c].undecided;
            size_t ri = name_most(r), ui = name_most(u);
            if (r->name[ri])
                printf("%s: most often a regression: %s, in %.1f %%\n", cases[c].label,
                       described(b, r->name[ri], buf, sizeof buf), pct(r->n[ri], trials));
            if (u->name[ui])
                printf("%s: most often INCONCLUSIVE: %s, in %.1f %%\n", cases[c].label,
                       described(b, u->name[ui], buf, sizeof buf), pct(u->n[ui], trials));
            continue;
        }
        printf("%s: the changed function took no top-N slot in %.1f %%, was INCONCLUSIVE in "
               "%.1f %% (with p < 0.01 in %.1f %%)\n",
               cases[c].label, pct(tt[c].no_slot, trials), pct(tt[c].undecided_changed, trials),
               pct(tt[c].undecided_p01, trials));
        for (int k = 0; k < 2; k++) {
            const struct name_count *n = &tt[c].instead[k];
            size_t i = name_most(n);
            if (n->name[i])
                printf("%s%s: most often named instead: %s, in %.1f %%\n", cases[c].label,
                       k ? " (baseline without stacks)" : "",
                       described(b, n->name[i], buf, sizeof buf), pct(n->n[i], trials));
        }
    }
    printf("\nRunner frames (_start, __libc_start_*, main, testing::*), all %u structured "
           "comparisons:\n  default judge: took a top-N slot in %u, REGRESSION or "
           "INCONCLUSIVE in %u; --compat: took a slot in %u.\nThread entry frames (clone3, "
           "start_thread, execute_native_thread_routine), default judge:\n  took a slot in "
           "%.1f %%, REGRESSION in %.1f %%, INCONCLUSIVE in %.1f %% of comparisons.\n",
           comparisons, runner_slot, runner_flagged, runner_compat, pct(thread_slot, comparisons),
           pct(thread_regressed, comparisons), pct(thread_inconclusive, comparisons));
    free(tt);
    for (size_t c = 0; c < ncases; c++)
        sim_tree_free(&trees[c]);
    sim_tree_free(&base_tree);
}

/* --- paired runs against the unpaired whole-run gate, under drift ------------------------- */

/* A shared machine: its load switches on and off between runs (on: runs take 25 % longer),
 * staying in a state with probability 0.7; each run also varies by 3 % (log-normal). */
struct drift {
    struct sim_rng rng;
    bool loaded;
};

static double drift_next(struct drift *d)
{
    if (sim_uniform(&d->rng) < 0.3)
        d->loaded = !d->loaded;
    return (d->loaded ? 1.25 : 1.0) * exp(0.03 * sim_normal(&d->rng));
}

static struct run_metric metric_of_runs(double *v, size_t n)
{
    struct running acc = {0};
    for (size_t i = 0; i < n; i++)
        running_add(&acc, v[i]);
    struct run_metric m = {0, acc.mean, running_sd(&acc), (unsigned)n};
    m.median = stats_median(v, n);
    return m;
}

/* Trials of n pairs with the current build `change` times slower: how often the paired judge
 * and the unpaired gate (the same runs of the current build against a baseline of n runs
 * recorded earlier on the same drifting machine) fail wall time. */
static void paired_trials(unsigned trials, uint64_t seed, size_t n, double change,
                          double threshold, unsigned *paired_fails, unsigned *unpaired_fails)
{
    struct drift d = {{0}, false};
    sim_seed(&d.rng, seed);
    struct judge_options o;
    judge_options_default(&o);
    o.time_threshold = threshold;
    *paired_fails = *unpaired_fails = 0;
    for (unsigned t = 0; t < trials; t++) {
        double cur[32][3], base[32][3], cw[32], bw[32], early[32];
        for (size_t i = 0; i < n; i++) {
            early[i] = 1000 * drift_next(&d); /* the baseline, recorded before */
        }
        for (size_t i = 0; i < n; i++) {
            bool base_first = sim_uniform(&d.rng) < 0.5;
            double first = drift_next(&d), second = drift_next(&d);
            bw[i] = 1000 * (base_first ? first : second);
            cw[i] = 1000 * change * (base_first ? second : first);
            base[i][0] = base[i][1] = bw[i];
            cur[i][0] = cur[i][1] = cw[i];
            base[i][2] = cur[i][2] = 1000;
        }
        struct avg_profile c = {0}, b = {0}, e = {0};
        c.runs = b.runs = e.runs = (unsigned)n;
        c.has_spread = b.has_spread = e.has_spread = true;
        double tmp[32];
        memcpy(tmp, cw, n * sizeof *tmp);
        c.wall_ms = c.cpu_ms = metric_of_runs(tmp, n);
        memcpy(tmp, bw, n * sizeof *tmp);
        b.wall_ms = b.cpu_ms = metric_of_runs(tmp, n);
        memcpy(tmp, early, n * sizeof *tmp);
        e.wall_ms = e.cpu_ms = metric_of_runs(tmp, n);
        struct judgement j;
        if (judge_compare(&c, &e, &o, &j) != 0)
            die("judging");
        *unpaired_fails += j.metrics[0].status == VERDICT_REGRESSION;
        judgement_free(&j);
        if (judge_compare(&c, &b, &o, &j) != 0)
            die("judging");
        judge_paired_metrics((const double(*)[3])cur, (const double(*)[3])base, n, &o, &j);
        *paired_fails += j.metrics[0].status == VERDICT_REGRESSION;
        judgement_free(&j);
    }
}

static void paired_section(unsigned trials, uint64_t seed)
{
    printf("\nPaired runs (profreg-ci --base) against the unpaired whole-run gate, wall time under "
           "drift:\nthe machine's load switches on and off between runs (+25 %% while on, "
           "staying in a state with\nprobability 0.7), and each run varies by 3 %%. Paired: n "
           "pairs, each in random order, judged on the\nratios (paired t-test on their logs). "
           "Unpaired: the same current runs against a baseline of n runs\nrecorded earlier on "
           "the same machine (Welch's t-test on the runs). 99 %% confidence.\n\n");
    printf("%-52s  %-12s  %-12s\n", "", "paired", "unpaired");
    static const struct {
        const char *label;
        size_t n;
        double change, threshold;
    } rows[] = {
        {"False alarms (A/A), 5 pairs", 5, 1.0, 10},
        {"False alarms (A/A), 10 pairs", 10, 1.0, 10},
        {"Detection of +10 %, 5 pairs, --time-threshold 5", 5, 1.10, 5},
        {"Detection of +10 %, 10 pairs, --time-threshold 5", 10, 1.10, 5},
        {"Detection of +10 %, 10 pairs, --time-threshold 10", 10, 1.10, 10},
        {"Detection of +20 %, 5 pairs", 5, 1.20, 10},
        {"Detection of +20 %, 10 pairs", 10, 1.20, 10},
    };
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        unsigned pf, uf;
        paired_trials(trials, seed + r, rows[r].n, rows[r].change, rows[r].threshold, &pf, &uf);
        printf("%-52s  %9.1f %%  %9.1f %%\n", rows[r].label, 100.0 * pf / trials,
               100.0 * uf / trials);
    }
}

int main(int argc, char **argv)
{
    unsigned trials = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    if (trials == 0) {
        fprintf(stderr, "usage: judge_eval [TRIALS] [SEED]\n");
        return 2;
    }
    const struct scenario aa[] = {
        {"A/A, 5 runs vs a baseline of 5", 0.01, 1, 50, 5},
        {"A/A, 1 run vs a baseline of 5", 0.01, 1, 50, 1},
    };
    const struct scenario det[] = {
        {"2x at 1 % share", 0.01, 2, 50, 5},
        {"2x at 3 % share", 0.03, 2, 50, 5},
        {"2x at 10 % share", 0.10, 2, 50, 5},
        {"1.5x at 1 % share, --threshold 25", 0.01, 1.5, 25, 5},
        {"1.5x at 3 % share, --threshold 25", 0.03, 1.5, 25, 5},
        {"1.5x at 10 % share, --threshold 25", 0.10, 1.5, 25, 5},
        {"2x at 3 % share, 1 run vs 5", 0.03, 2, 50, 1},
    };
    struct sim_workload w;
    sim_workload_default(&w, 0.01);
    w.samples = EVAL_STACKS;
    w.ms_per_sample = 1;
    printf("judge-eval: %u trials per row, seed %llu.\n\nFlat workload (sim_workload_default): %zu "
           "functions without call structure (top 10 from\n16 %% down to 1 %%), %.0f samples a "
           "run, %.0f %% run-to-run spread per function; baseline of 5 runs\nwritten and read "
           "back.\n\n",
           trials, (unsigned long long)seed, w.n, w.samples, w.spread * 100);
    printf("%-40s  %-34s  %-24s\n", "False alarms (nothing changed)", "default judge", "--compat");
    printf("%-40s  %-34s  %-24s\n", "", "fails --strict / any / INCONCLUSIVE",
           "fails --strict / any");
    for (size_t i = 0; i < sizeof aa / sizeof *aa; i++) {
        struct tally t[2];
        run_scenario(&aa[i], trials, seed, t);
        char d[64], c[64];
        snprintf(d, sizeof d, "%5.1f %% / %5.1f %% / %5.1f %%", 100.0 * t[0].failed / trials,
                 100.0 * t[0].flagged / trials, 100.0 * t[0].inconclusive / trials);
        snprintf(c, sizeof c, "%5.1f %% / %5.1f %%", 100.0 * t[1].failed / trials,
                 100.0 * t[1].flagged / trials);
        printf("%-40s  %-34s  %-24s\n", aa[i].label, d, c);
    }
    printf("\n%-40s  %-34s  %-24s\n", "Detection (the function is flagged)", "default judge",
           "--compat");
    for (size_t i = 0; i < sizeof det / sizeof *det; i++) {
        struct tally t[2];
        run_scenario(&det[i], trials, seed, t);
        char d[64], c[64];
        snprintf(d, sizeof d, "%5.1f %%", 100.0 * t[0].target / trials);
        snprintf(c, sizeof c, "%5.1f %%", 100.0 * t[1].target / trials);
        printf("%-40s  %-34s  %-24s\n", det[i].label, d, c);
    }
    tree_section(trials, seed);
    paired_section(trials, seed);
    return 0;
}
