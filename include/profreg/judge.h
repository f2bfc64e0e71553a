/* judge.h — averaging runs and the verdict rules: pure logic, no I/O.
 *
 * Everything that decides PASS or REGRESSION lives in judge.c: how runs are averaged into
 * one averaged profile, which functions are tracked, how a current and a baseline averaged
 * profile are matched, and the verdict for each function. Readers (profile_read.h,
 * baseline.h) feed it; renderers (render_compare.h, report_json.h) print its result. */
#ifndef PROFREG_JUDGE_H
#define PROFREG_JUDGE_H

#include "profreg/profile.h"

#include <stdbool.h>
#include <stddef.h>

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
     * view; the avg_* fields above are the old tool's). NAN when unknown (old baselines). */
    double mean_pct, sd_pct;
    double mean_samples, sd_samples;
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
    bool has_spread;          /* mean_pct/sd_pct and the metrics are known */
    struct run_metric wall_ms, cpu_ms, peak_rss_kb;
};

/* Averages nruns profiles (the old tool's rule: each function over the runs it appears in;
 * sums taken in run order, so results match it to the last bit). 0, or -1 when out of
 * memory (out is then empty). */
int judge_average(const struct pr_profile *const *runs, size_t nruns, struct avg_profile *out);

/* The same, one run at a time, so that runs need not be held in memory together:
 * avg_builder_init, avg_builder_add for each run in order, then avg_builder_finish (which
 * fills out) or avg_builder_abort. add and finish return 0, or -1 when out of memory. */
struct avg_builder {
    struct avg_profile out;
    struct hmap *names;
    struct avg_acc *acc; /* per-function sums, parallel to out.functions */
    size_t cap;
    double total, total_sq;
    double *metrics[3]; /* per-run wall, CPU, memory values */
    size_t nmetrics[3], metrics_cap[3];
};
void avg_builder_init(struct avg_builder *b);
int avg_builder_add(struct avg_builder *b, const struct pr_profile *run);
int avg_builder_finish(struct avg_builder *b, struct avg_profile *out);
void avg_builder_abort(struct avg_builder *b);

/* Ranks functions: avg_percentage descending, ties in order of first appearance (what the
 * old tool's stable sort over its insertion-ordered dict gave). */
void avg_profile_sort(struct avg_profile *a);

void avg_profile_free(struct avg_profile *a);

enum verdict { VERDICT_PASS, VERDICT_REGRESSION };

/* "PASS" or "REGRESSION", as written in reports. */
const char *verdict_name(enum verdict v);

struct judge_options {
    double threshold_percent; /* relative increase that is a regression (default 50) */
    size_t top;               /* functions tracked on each side (default 10) */
    bool compat;              /* the old tool's rules exactly (today also the default) */
};

/* A function tracked on both sides. Names point into the averaged profiles judged. */
struct judged_function {
    const char *name;
    double current_percentage, baseline_percentage;
    double current_samples, baseline_samples;
    double diff_percent; /* (current - baseline) / baseline * 100; NAN when baseline is 0 */
    enum verdict status;
};

/* A function only on one side (a new hotspot, or a disappeared function). */
struct listed_function {
    const char *name;
    double percentage; /* its share on the side where it is tracked */
};

struct judgement {
    struct judged_function *compared; /* in the current ranking's order */
    size_t ncompared;
    struct listed_function *new_hotspots; /* in the current top N, not in the baseline's */
    size_t nnew;
    struct listed_function *disappeared; /* in the baseline top N, not in the current's */
    size_t ndisappeared;
    size_t passed, regressed;
};

/* Default options: threshold 50 %, top 10. */
void judge_options_default(struct judge_options *o);

/* Judges current against baseline. The judgement refers to both averaged profiles, which
 * must outlive it. 0, or -1 when out of memory (j is then empty). */
int judge_compare(const struct avg_profile *current, const struct avg_profile *baseline,
                  const struct judge_options *o, struct judgement *j);

void judgement_free(struct judgement *j);

#endif
