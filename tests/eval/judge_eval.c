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
 *   judge_eval [TRIALS] [SEED]     (defaults 1000 and 1) */
#include "../sim.h"

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
    unsigned failed;  /* the comparison fails --strict */
    unsigned target;  /* the target function was flagged a regression */
    unsigned flagged; /* anything reported: a regression, a new hotspot or a disappearance */
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
    size_t top; /* --top (0: the default, 10) */
};

#define MAX_NAMED 32

struct tree_tally {
    unsigned failed[2], flagged[2]; /* [0] default, [1] --compat */
    unsigned inconclusive;          /* default: some verdict INCONCLUSIVE */
    unsigned changed[2];            /* the changed function flagged a regression */
    unsigned named[2];              /* it is j.likely_cause: [0] baseline as read, [1] with
                                       the baseline's stacks handed to the judge */
    unsigned runner_slot, runner_flagged, runner_slot_compat;
    unsigned thread_slot, thread_flagged;
    const char *other[2][MAX_NAMED]; /* the likely cause named instead, and how often */
    unsigned nother[2][MAX_NAMED];
};

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

static void count_other(struct tree_tally *tt, int k, const char *name)
{
    if (!name)
        name = "(none)";
    for (size_t i = 0; i < MAX_NAMED; i++) {
        if (!tt->other[k][i]) {
            tt->other[k][i] = name; /* names of the tree: they outlive the tallies */
            tt->nother[k][i] = 1;
            return;
        }
        if (strcmp(tt->other[k][i], name) == 0) {
            tt->nother[k][i]++;
            return;
        }
    }
}

/* Whether frames of a kind took a slot, or were flagged, in judgement j. */
static void scan_frames(const struct sim_tree *t, const struct judgement *j, bool runner,
                        bool *slot, bool *flagged)
{
    *slot = *flagged = false;
    for (size_t i = 0; i < j->ncompared; i++) {
        const char *n = j->compared[i].name;
        if (runner ? !is_runner(t, n) : !is_thread_entry(n))
            continue;
        *slot = true;
        *flagged |= j->compared[i].status != VERDICT_PASS;
    }
    for (size_t i = 0; i < j->nnew; i++)
        *flagged |= runner ? is_runner(t, j->new_hotspots[i].name)
                           : is_thread_entry(j->new_hotspots[i].name);
    for (size_t i = 0; i < j->ndisappeared; i++)
        *flagged |=
            runner ? is_runner(t, j->disappeared[i].name) : is_thread_entry(j->disappeared[i].name);
}

static void judge_or_die(const struct avg_profile *cur, const struct avg_profile *base, bool compat,
                         size_t top, struct judgement *j)
{
    struct judge_options o;
    judge_options_default(&o);
    o.compat = compat;
    if (top)
        o.top = top;
    if (judge_compare(cur, base, &o, j) != 0) {
        fprintf(stderr, "judge_eval: out of memory\n");
        exit(2);
    }
}

/* Every case against one baseline per trial; trees[c] is case c's workload. */
static void run_tree_cases(const struct tree_case *cases, size_t ncases,
                           const struct sim_tree *base_tree, const struct sim_tree *trees,
                           unsigned trials, uint64_t seed, struct tree_tally *out)
{
    memset(out, 0, ncases * sizeof *out);
    struct avg_profile *cur = calloc(ncases, sizeof *cur);
    if (!cur) {
        fprintf(stderr, "judge_eval: out of memory\n");
        exit(2);
    }
    for (unsigned t = 0; t < trials; t++) {
        struct sim_rng rng;
        sim_seed(&rng, (seed * 1000003u + t) ^ 0x5452454553494D00ull); /* not the flat rows' */
        struct baseline base;
        if (sim_tree_baseline(&rng, base_tree, 5, &base) != 0) {
            fprintf(stderr, "judge_eval: baseline round trip failed\n");
            exit(2);
        }
        for (size_t c = 0; c < ncases; c++)
            if (sim_tree_average(&rng, &trees[c], cases[c].current_runs, &cur[c]) != 0) {
                fprintf(stderr, "judge_eval: out of memory\n");
                exit(2);
            }
        /* the baseline as profreg compare judges it, then with its stacks handed over */
        for (int with_stacks = 0; with_stacks < 2; with_stacks++) {
            if (with_stacks && sim_baseline_attach_stacks(&base) != 0) {
                fprintf(stderr, "judge_eval: out of memory\n");
                exit(2);
            }
            for (size_t c = 0; c < ncases; c++) {
                const struct tree_case *tc = &cases[c];
                struct tree_tally *tt = &out[c];
                const char *changed = tc->change == CHANGE_CALLS  ? trees[c].names[trees[c].target]
                                      : tc->change == CHANGE_SELF ? trees[c].names[trees[c].leaf]
                                                                  : NULL;
                struct judgement j;
                judge_or_die(&cur[c], &base.avg, false, tc->top, &j);
                if (changed) {
                    bool named = j.likely_cause && strcmp(j.likely_cause, changed) == 0;
                    tt->named[with_stacks] += named;
                    if (!named)
                        count_other(tt, with_stacks,
                                    j.likely_cause
                                        ? trees[c].names[sim_tree_find(&trees[c], j.likely_cause)]
                                        : NULL);
                }
                if (!with_stacks) {
                    const struct judged_function *f = changed ? find(&j, changed) : NULL;
                    tt->failed[0] += judgement_failed(&j);
                    tt->flagged[0] += judgement_failed(&j) || j.nnew || j.ndisappeared;
                    tt->inconclusive += j.inconclusive > 0;
                    tt->changed[0] += f && f->status == VERDICT_REGRESSION;
                    bool slot, flagged;
                    scan_frames(&trees[c], &j, true, &slot, &flagged);
                    tt->runner_slot += slot;
                    tt->runner_flagged += flagged;
                    scan_frames(&trees[c], &j, false, &slot, &flagged);
                    tt->thread_slot += slot;
                    tt->thread_flagged += flagged;
                }
                judgement_free(&j);
                if (with_stacks)
                    continue;
                judge_or_die(&cur[c], &base.avg, true, tc->top, &j);
                const struct judged_function *f = changed ? find(&j, changed) : NULL;
                tt->failed[1] += judgement_failed(&j);
                tt->flagged[1] += judgement_failed(&j) || j.nnew || j.ndisappeared;
                tt->changed[1] += f && f->status == VERDICT_REGRESSION;
                bool slot, flagged;
                scan_frames(&trees[c], &j, true, &slot, &flagged);
                tt->runner_slot_compat += slot;
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

static void tree_section(unsigned trials, uint64_t seed)
{
    const struct tree_case cases[] = {
        {"A/A, 5 runs vs a baseline of 5", CHANGE_NONE, 1, 5, 0},
        {"A/A, 1 run vs a baseline of 5", CHANGE_NONE, 1, 1, 0},
        {"2x solve (its self and callees), 5 vs 5", CHANGE_CALLS, 2, 5, 0},
        {"2x solve (its self and callees), 1 vs 5", CHANGE_CALLS, 2, 1, 0},
        {"2.5x norm (leaf, own code), 5 vs 5", CHANGE_SELF, 2.5, 5, 0},
        {"2.5x norm, 5 vs 5, --top 20", CHANGE_SELF, 2.5, 5, 20},
    };
    const size_t ncases = sizeof cases / sizeof *cases;
    struct sim_tree base_tree, trees[sizeof cases / sizeof *cases];
    if (sim_tree_gtest(&base_tree) != 0) {
        fprintf(stderr, "judge_eval: out of memory\n");
        exit(2);
    }
    for (size_t c = 0; c < ncases; c++) {
        if (sim_tree_gtest(&trees[c]) != 0) {
            fprintf(stderr, "judge_eval: out of memory\n");
            exit(2);
        }
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
    printf("\nStructured workload (tests/sim.c sim_tree_gtest): a gtest-shaped call tree, runs "
           "with stacks;\n%zu functions, %zu call paths, %zu tests; runner frames (_start ... "
           "main, testing::*) in %.1f %% of samples,\na background thread (clone3, "
           "start_thread) in %.1f %%; %s\nat %.1f %% inclusive / %.1f %% self; %s at %.2f %% "
           "self; %.0f samples a run, %.0f %% spread per function;\nbaseline of 5 runs written "
           "and read back; every row's trials share one baseline per trial.\n\n",
           b->nfunctions, b->nnodes, nbodies, 100 * sim_tree_total_share(b, (size_t)main_f),
           100 * sim_tree_total_share(b, (size_t)clone_f), b->names[b->target],
           100 * sim_tree_total_share(b, b->target), 100 * sim_tree_self_share(b, b->target),
           b->names[b->leaf], 100 * sim_tree_self_share(b, b->leaf), b->samples, b->spread * 100);
    struct tree_tally *tt = calloc(ncases, sizeof *tt);
    if (!tt) {
        fprintf(stderr, "judge_eval: out of memory\n");
        exit(2);
    }
    run_tree_cases(cases, ncases, b, trees, trials, seed, tt);
    printf("%-40s  %-34s  %-24s\n", "False alarms (nothing changed)", "default judge", "--compat");
    printf("%-40s  %-34s  %-24s\n", "", "fails --strict / any / INCONCLUSIVE",
           "fails --strict / any");
    unsigned comparisons = 0, runner_slot = 0, runner_flagged = 0, runner_compat = 0,
             thread_slot = 0, thread_flagged = 0;
    for (size_t c = 0; c < ncases; c++) {
        comparisons += trials;
        runner_slot += tt[c].runner_slot;
        runner_flagged += tt[c].runner_flagged;
        runner_compat += tt[c].runner_slot_compat;
        thread_slot += tt[c].thread_slot;
        thread_flagged += tt[c].thread_flagged;
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
    printf("(1) j.likely_cause is the changed function, judged against the baseline as profreg "
           "compare reads it\n    (its stacks are not handed to the judge: causes from self "
           "growth); in brackets, with the\n    baseline's stacks attached "
           "(sim_baseline_attach_stacks: causes from the stacks).\n");
    for (size_t c = 0; c < ncases; c++)
        for (int k = 0; k < 2; k++) {
            size_t best = 0;
            for (size_t i = 1; i < MAX_NAMED && tt[c].other[k][i]; i++)
                if (tt[c].nother[k][i] > tt[c].nother[k][best])
                    best = i;
            if (tt[c].other[k][best])
                printf("    %s%s: most often named instead: %s (%.1f %%)\n", cases[c].label,
                       k ? ", with stacks" : "", tt[c].other[k][best],
                       pct(tt[c].nother[k][best], trials));
        }
    printf("\nRunner frames (_start, __libc_start_*, main, testing::*), all %u structured "
           "comparisons:\n  default judge: took a top-N slot in %u, flagged in %u; --compat: "
           "took a slot in %u.\nThread entry frames (clone3, start_thread, "
           "execute_native_thread_routine), default judge:\n  took a slot in %.1f %%, flagged "
           "in %.1f %% of comparisons.\n",
           comparisons, runner_slot, runner_flagged, runner_compat, pct(thread_slot, comparisons),
           pct(thread_flagged, comparisons));
    free(tt);
    for (size_t c = 0; c < ncases; c++)
        sim_tree_free(&trees[c]);
    sim_tree_free(&base_tree);
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
    printf("judge-eval: %u trials per row, seed %llu; %zu functions (top 10 from 16 %% down "
           "to 1 %%),\n%.0f samples a run, %.0f %% run-to-run spread per function; baseline "
           "of 5 runs written and read back.\n\n",
           trials, (unsigned long long)seed, w.n, w.samples, w.spread * 100);
    printf("%-40s  %-24s  %-24s\n", "False alarms (nothing changed)", "default judge", "--compat");
    printf("%-40s  %-24s  %-24s\n", "", "fails --strict / any", "fails --strict / any");
    for (size_t i = 0; i < sizeof aa / sizeof *aa; i++) {
        struct tally t[2];
        run_scenario(&aa[i], trials, seed, t);
        char d[64], c[64];
        snprintf(d, sizeof d, "%5.1f %% / %5.1f %%", 100.0 * t[0].failed / trials,
                 100.0 * t[0].flagged / trials);
        snprintf(c, sizeof c, "%5.1f %% / %5.1f %%", 100.0 * t[1].failed / trials,
                 100.0 * t[1].flagged / trials);
        printf("%-40s  %-24s  %-24s\n", aa[i].label, d, c);
    }
    printf("\n%-40s  %-24s  %-24s\n", "Detection (the function is flagged)", "default judge",
           "--compat");
    for (size_t i = 0; i < sizeof det / sizeof *det; i++) {
        struct tally t[2];
        run_scenario(&det[i], trials, seed, t);
        char d[64], c[64];
        snprintf(d, sizeof d, "%5.1f %%", 100.0 * t[0].target / trials);
        snprintf(c, sizeof c, "%5.1f %%", 100.0 * t[1].target / trials);
        printf("%-40s  %-24s  %-24s\n", det[i].label, d, c);
    }
    tree_section(trials, seed);
    return 0;
}
