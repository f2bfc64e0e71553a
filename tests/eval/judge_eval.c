/* judge_eval.c — `make judge-eval`: how often the judge cries wolf and how often it catches
 * a real slowdown, on simulated profiles with known shares (tests/sim.h). Seeded: every run
 * prints the same table. The judge is the real one (judge_compare), and the baselines go
 * through the baseline writer and reader, rounding included.
 *
 *   judge_eval [TRIALS] [SEED]     (defaults 1000 and 1) */
#include "../sim.h"

#include <math.h>
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
    unsigned failed;   /* the comparison fails --strict */
    unsigned target;   /* the target function was flagged a regression */
    unsigned flagged;  /* anything reported: a regression, a new hotspot or a disappearance */
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
    printf("%-40s  %-24s  %-24s\n", "False alarms (nothing changed)", "default judge",
           "--compat");
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
    return 0;
}
