/* SPDX-License-Identifier: MIT */
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

#include "analysis/read/baseline.h"
#include "analysis/judge/judge.h"
#include "core/profile.h"

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

/* ---- a structured workload: a call tree shaped like a gtest executable ------------------
 *
 * Where the flat workload has no call structure (every function's self share is its total
 * share, no stacks), this one is a tree of call paths. Each node is one distinct stack (its
 * path from a root) with a self cost: the samples taken with that node innermost. A run
 * draws samples over the nodes exactly as sim_run draws them over functions (the run's
 * sample count follows its cost; multinomial over the nodes' shares), after multiplying
 * every function's self cost, wherever it runs, by one lognormal factor per run (the
 * run-to-run spread). The profile it yields has stacks: inclusive counts once per stack,
 * self counts at the innermost frame (profile_recount), as real profiles do.
 *
 * sim_tree_gtest builds the shape of a real gtest suite: _start, __libc_start_*, main,
 * testing::UnitTest::Run(), ..., testing::Test::Run() and the
 * HandleExceptionsInMethodIfSupported frames over ≈ 90 % of samples; 120 tests in 8 suites
 * (Suite_Name_Test::TestBody(), a fixture SetUp() shared by three suites); project
 * functions that call each other (proj::Solver::solve at ≈ 8 % inclusive with self time
 * and callees of its own, proj::Broadphase::collide, a recursive proj::kd::Tree::query,
 * ...), small hot leaves (proj::Vec3::norm() const at ≈ 1 % self, malloc, memcpy) called
 * from many places, 30 utility functions from 3 % down to 0.3 %; and a background thread
 * (clone3, start_thread, proj::Recorder::run(), ...) at ≈ 10 %, without main. Same mean
 * samples, spread and timing as sim_workload_default. Deterministic (no randomness in the
 * shape). */
struct sim_tree_node {
    uint32_t function; /* index into sim_tree.names */
    int32_t parent;    /* node index, -1 for a root */
    uint32_t depth;    /* frames on the path, this one included */
    uint32_t *path;    /* the path's functions, root first */
    double cost;       /* self cost (relative) */
};

struct sim_tree {
    char **names;
    uint8_t *runner; /* per function: an entry or test-runner frame (_start, __libc_*, main,
                        testing::*) */
    size_t nfunctions, functions_cap;
    struct sim_tree_node *nodes;
    size_t nnodes, nodes_cap;
    double samples, spread, ms_per_sample, rss_kb;
    size_t target; /* proj::Solver::solve: ≥ 5 % inclusive, self time and callees */
    size_t leaf;   /* proj::Vec3::norm() const: a small hot leaf at ≈ 1 % self */
};

/* Builds the gtest-shaped tree described above. 0, or -1 when out of memory. */
int sim_tree_gtest(struct sim_tree *t);
void sim_tree_free(struct sim_tree *t);

/* Index of the function with this name, or -1. */
long sim_tree_find(const struct sim_tree *t, const char *name);

/* Expected inclusive share (0..1: cost of the nodes whose path holds f) and self share
 * (nodes where f is innermost). */
double sim_tree_total_share(const struct sim_tree *t, size_t f);
double sim_tree_self_share(const struct sim_tree *t, size_t f);

/* f runs `factor` times as often: the cost of every node at or below a frame of f (its self
 * time and its callees') is multiplied by factor. */
void sim_tree_scale_calls(struct sim_tree *t, size_t f, double factor);

/* f's own code slows down by `factor`: the nodes where f is innermost. */
void sim_tree_scale_self(struct sim_tree *t, size_t f, double factor);

/* One run as a profile with stacks (functions with no samples are absent). 0, or -1. */
int sim_tree_run(struct sim_rng *r, const struct sim_tree *t, struct pr_profile *out);

/* The averaged profile of `runs` runs (with their stacks). 0, or -1. */
int sim_tree_average(struct sim_rng *r, const struct sim_tree *t, unsigned runs,
                     struct avg_profile *out);

/* A baseline of `runs` runs through the real writer and reader, like sim_baseline (the
 * writer keeps the runs' stacks; the reader returns them in out->stacks). 0, or -1. */
int sim_tree_baseline(struct sim_rng *r, const struct sim_tree *t, unsigned runs,
                      struct baseline *out);

/* Hands the stacks a baseline file kept (b->stacks, by function name) to its averaged
 * profile (b->avg.stacks, by index into b->avg.functions; frames the averaged profile does
 * not list get an out-of-range index), so that the judge sees stacks on the baseline side.
 * profreg compare does not do this today (it judges &base.avg as read). 0, or -1. */
int sim_baseline_attach_stacks(struct baseline *b);

#endif
