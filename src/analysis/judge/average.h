/* SPDX-License-Identifier: MIT */
/* average.h — averaging runs into one averaged profile: pure logic, no I/O.
 *
 * Both a baseline and the current runs are reduced to an averaged profile (each function's
 * share over the runs, the runs' spread, whole-run metrics, the stacks summed); judge.h
 * judges one against another. */
#ifndef PROFREG_AVERAGE_H
#define PROFREG_AVERAGE_H

#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One function averaged over runs: the unit both a baseline and the current runs are
 * reduced to. */
struct avg_function {
    char *name;
    double avg_percentage; /* mean `percentage` over the runs the function appears in */
    double avg_samples;    /* mean `samples` over the same runs */
    unsigned occurrences;  /* runs it appears in */
    char *source_file;     /* from the first run that names it, or NULL */
    long line;             /* likewise, or -1 */
    size_t order;          /* first appearance (run order, then file order): breaks ties */
    /* Over all runs, a run without the function counting as 0 (the noise-aware judge's
     * view; the avg_* fields above are the Instruments workflow's). NAN when unknown (old
     * baselines). */
    double mean_pct, sd_pct;
    double mean_samples, sd_samples;
    /* Self time, the same views (NAN when a run had no self counts: the Instruments workflow's). */
    double avg_self_pct;
    double self_mean_pct, self_sd_pct;
    double self_mean_samples, self_sd_samples;
    char *source_path; /* full path (a baseline's may be relative to the project root) */
};

/* The whole-run metrics, in the order they are averaged, judged and reported: the first
 * RUN_METRICS_BASIC any profile may record (wall time, CPU time, peak RSS: also those of
 * paired runs), then the memory layer's (allocated, peak live heap) from memory sections. */
enum run_metric_id {
    RUN_WALL_MS,
    RUN_CPU_MS,
    RUN_PEAK_RSS_KB,
    RUN_ALLOC_KB,
    RUN_PEAK_LIVE_KB,
    RUN_METRICS,
    RUN_METRICS_BASIC = RUN_ALLOC_KB
};

/* A whole-run measurement over the runs (wall time, CPU time, peak memory). */
struct run_metric {
    double median, mean, sd; /* NAN when no run recorded it */
    unsigned n;              /* runs that recorded it */
};

struct avg_profile {
    struct avg_function *functions; /* ranked: avg_percentage descending, ties by order */
    size_t nfunctions;
    unsigned runs;            /* runs averaged */
    double avg_total_samples; /* mean summary.total_samples over all runs */
    double sd_total_samples;  /* their standard deviation (NAN when unknown) */
    bool has_spread;          /* sd_pct and the metrics are known */
    bool has_self;            /* the self_* fields are known */
    bool complete;            /* lists every function seen (absent means no samples) */
    double avg_signals;       /* mean timer signals per run (samples may weigh more than
                                 one each); NAN when unknown */
    struct run_metric wall_ms, cpu_ms, peak_rss_kb;
    /* from the runs' memory sections (PROFREG_MEMORY=1), in KB: estimated bytes allocated,
     * estimated bytes live at the peak of the heap; n = 0 when no run had one */
    struct run_metric alloc_kb, peak_live_kb;
    /* The runs' stacks, counts summed over the runs (frames index functions[], root
     * first); has_stacks when every run had stacks. */
    struct pr_stack *stacks;
    size_t nstacks;
    bool has_stacks;
};

/* Averages nruns profiles (the Instruments workflow's rule: each function over the runs it appears
 * in; sums taken in run order, so results match it to the last bit). 0, or -1 when out of memory
 * (out is then empty). */
int judge_average(const struct pr_profile *const *runs, size_t nruns, struct avg_profile *out);

/* The same, one run at a time, so that runs need not be held in memory together:
 * avg_builder_init, avg_builder_add for each run in order, then avg_builder_finish (which
 * fills out) or avg_builder_abort. add and finish return 0, or -1 when out of memory (or, from
 * add, with errno EOVERFLOW when a stack's count summed over the runs passes PR_MAX_SAMPLES). */
struct avg_builder {
    struct avg_profile out;
    struct fn_intern *names; /* name -> index in out.functions */
    struct avg_acc *acc;     /* per-function sums, parallel to out.functions */
    size_t cap;
    double total, total_sq, signals;
    unsigned signal_runs;
    double *metrics[RUN_METRICS]; /* per-run values of each whole-run metric */
    size_t nmetrics[RUN_METRICS], metrics_cap[RUN_METRICS];
    struct stack_intern *stacks; /* frame sequence -> index in out.stacks */
    uint32_t *fmap;              /* a run's function index -> out.functions index */
    size_t fmap_cap;
};
void avg_builder_init(struct avg_builder *b);
int avg_builder_add(struct avg_builder *b, const struct pr_profile *run);
int avg_builder_finish(struct avg_builder *b, struct avg_profile *out);
void avg_builder_abort(struct avg_builder *b);

/* Ranks functions: avg_percentage descending, ties in order of first appearance (what the
 * Instruments workflow's stable sort over its insertion-ordered dict gave). */
void avg_profile_sort(struct avg_profile *a);

void avg_profile_free(struct avg_profile *a);

/* Gives a (a baseline's averaged profile, which keeps no stacks of its own) the stacks of s
 * (the baseline's kept stacks, indexing s's own function table), their frames translated to
 * a's functions by name; a frame of a function a does not list becomes UINT32_MAX. The
 * judge finds causes from them. 0 (also when s has none), or -1 when out of memory. */
int avg_profile_adopt_stacks(struct avg_profile *a, const struct pr_profile *s);

#endif
