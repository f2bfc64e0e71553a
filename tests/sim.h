/* sim.h — simulated profiles with known shares, for the judge's tests and `make
 * judge-eval`. Seeded and deterministic: the same seed gives the same profiles everywhere.
 *
 * A workload is a flat set of functions with relative costs, all called from "main" (whose
 * inclusive share is 100 %). One run: each function's cost is multiplied by a lognormal
 * factor (the run-to-run spread: caches, frequency, data-dependent paths), the run's
 * sample count varies likewise, and samples are drawn from the resulting shares
 * (multinomial: the sampling noise). Wall and CPU time follow the run's total cost. */
#ifndef PROFREG_TEST_SIM_H
#define PROFREG_TEST_SIM_H

#include "profreg/baseline.h"
#include "profreg/judge.h"
#include "profreg/profile.h"

#include <stddef.h>
#include <stdint.h>

struct sim_rng {
    uint64_t state;
};

void sim_seed(struct sim_rng *r, uint64_t seed);
double sim_uniform(struct sim_rng *r); /* [0, 1) */
double sim_normal(struct sim_rng *r);  /* standard normal */

#define SIM_MAX_FUNCTIONS 256

struct sim_workload {
    size_t n;
    char names[SIM_MAX_FUNCTIONS][32]; /* "f000" ... */
    double cost[SIM_MAX_FUNCTIONS];    /* relative */
    double samples;                    /* mean samples per run */
    double spread;                     /* sd of log(cost factor) per function and run */
    double ms_per_sample;              /* wall/CPU time per sample */
    double rss_kb;                     /* peak RSS */
    size_t target;                     /* the function the evaluation changes */
};

/* The shape used by judge-eval and the tests: eight big functions (16 % down to 2.2 %), the
 * target function "target" at `share` (0..1), and a tail of 150 small ones (0.8 % down to
 * 0.2 %, Zipf exponent 0.3) so that ranks 10 and 11 are close, as in real profiles; 1000
 * samples per run (4 s at HZ=250); 5 % per-function run-to-run spread. */
void sim_workload_default(struct sim_workload *w, double share);

/* Sets function i's share of the whole to `share` (0..1), rescaling the others. */
void sim_set_share(struct sim_workload *w, size_t i, double share);

/* Current share of function i (0..1). */
double sim_share(const struct sim_workload *w, size_t i);

/* Multiplies function i's cost by factor (a slowdown of 2 doubles it). */
void sim_scale(struct sim_workload *w, size_t i, double factor);

/* One run as a profile (functions with no samples are absent, as in real profiles). */
void sim_run(struct sim_rng *r, const struct sim_workload *w, struct pr_profile *out);

/* The averaged profile of `runs` runs. */
void sim_average(struct sim_rng *r, const struct sim_workload *w, unsigned runs,
                 struct avg_profile *out);

/* A baseline of `runs` runs, written as JSON and read back (so that it carries exactly
 * what a baseline file carries, rounding included). 0, or -1. */
int sim_baseline(struct sim_rng *r, const struct sim_workload *w, unsigned runs,
                 struct baseline *out);

/* Writes b as JSON and reads it back into out (b stays). 0, or -1. */
int sim_round_trip(const struct baseline *b, struct baseline *out);

#endif
