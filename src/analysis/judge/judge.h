/* SPDX-License-Identifier: MIT */
/* judge.h — the verdict rules: pure logic, no I/O.
 *
 * Everything that decides PASS or REGRESSION lives in judge.c: which functions are tracked,
 * how a current and a baseline averaged profile (average.h) are matched, and the verdict for
 * each function. Readers (profile_read.h, baseline.h) feed it; the renderers of
 * render_compare.h (console table, report JSON, JUnit, Markdown) print its result. */
#ifndef PROFREG_JUDGE_H
#define PROFREG_JUDGE_H

#include "analysis/judge/average.h"
#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* INCONCLUSIVE: not a regression, but the data could not have shown one of the size the
 * rules look for (too few runs or samples at that share), or the function grew by the
 * margins without reaching significance. Never fails --strict; the report gives advice. */
enum verdict { VERDICT_PASS, VERDICT_REGRESSION, VERDICT_INCONCLUSIVE };

/* "PASS", "REGRESSION" or "INCONCLUSIVE", as written in reports. */
const char *verdict_name(enum verdict v);

/* Which share is judged: inclusive (samples whose stack holds the function, the Instruments
 * workflow's field), self (samples where it is the innermost frame), or both (the default judge: a
 * function regresses when either share does). */
enum judge_metric { METRIC_TOTAL, METRIC_SELF, METRIC_BOTH };
const char *judge_metric_name(enum judge_metric m); /* "total", "self" or "both" */

/* Functions whose inclusive share is at least this on both sides (percent) are in nearly
 * every sample (entry points, test runners, main): they never take a top-N slot. */
#define JUDGE_STRUCTURAL_SHARE 95.0

/* A function at least this fraction of whose samples (on both sides) go on into one and the
 * same callee is a pass-through frame (thread entry points, wrappers): it takes no slot by
 * total share, its callee does. */
#define JUDGE_PASS_THROUGH 0.99

struct fn_filter; /* filter.h */

struct judge_options {
    double threshold_percent;       /* relative increase that is a regression (default 50) */
    size_t top;                     /* functions tracked on each side (default 10) */
    bool compat;                    /* the Instruments workflow's rules exactly */
    enum judge_metric metric;       /* default METRIC_BOTH (compat: METRIC_TOTAL) */
    double min_delta;               /* absolute increase, percentage points (default 0.5) */
    double confidence;              /* percent (default 99): significance at 1 - confidence/100 */
    double time_threshold;          /* relative increase of median wall or CPU time (default 10) */
    double memory_threshold;        /* relative increase of median peak RSS (default 10) */
    double max_time_ms;             /* budget for the median wall time; NAN: none */
    double max_memory_mb;           /* budget for the median peak RSS; NAN: none */
    bool fail_on_new;               /* a significant new hotspot counts as a regression */
    const struct fn_filter *filter; /* functions judged; NULL: all */
};

/* How significance was assessed. */
enum sig_test {
    TEST_NONE,     /* could not be assessed (no spread, no counts): not a gate */
    TEST_WELCH,    /* Welch's t-test over per-run values (both sides >= 3 runs) */
    TEST_BINOMIAL, /* conditional binomial test on pooled sample counts */
    TEST_POOLED_T, /* t-test with the spread of the side(s) that have one (metrics) */
    TEST_PAIRED_T, /* one-sample t-test on the log ratios of paired runs (metrics) */
};
/* "none", "welch", "binomial", "pooled-t", "paired-t" */
const char *sig_test_name(enum sig_test t);

/* One share (total or self) of a function judged. Shares in percent (points). */
struct share_verdict {
    bool judged; /* false: this share was not looked at (single-metric mode, no self counts) */
    double current, baseline;
    double diff_percent, delta_points;
    double p_value;
    enum sig_test test;
    double mde_points;    /* smallest growth that would have been significant here (points);
                             NAN when significance could not be assessed */
    double needed_points; /* smallest growth the rules call a regression: max(min-delta,
                             threshold x baseline) */
    double se, df;        /* standard error of the difference (points) and its degrees of freedom
                             (INFINITY: normal approximation); NAN when not assessed */
    double alpha;         /* the significance level it was held to: every share judged in one
                             comparison is one family (Holm's step-down at 1 - confidence) */
    bool grew_enough, moved_enough, significant;
    enum verdict status;
};

/* What a regressed function's growth is owed to (stacks permitting). */
enum cause_role {
    ROLE_NONE,              /* not regressed */
    ROLE_MOST_LIKELY_CAUSE, /* the cause with the largest growth of its own */
    ROLE_CAUSE,             /* grew by itself: not explained by regressed callees */
    ROLE_INHERITS,          /* its growth is that of regressed functions it calls */
};
const char *cause_role_name(enum cause_role r); /* "most_likely_cause", "cause", "inherits" */
#define JUDGE_MAX_INHERITS 3

/* A function judged. Names point into the averaged profiles judged. Shares in percent;
 * the current_/baseline_ values are of the judged metric (default: the mean over all runs,
 * absent = 0; --compat: the mean over the runs it appears in). */
struct judged_function {
    const char *name;
    double current_percentage, baseline_percentage;
    double current_samples, baseline_samples;
    double diff_percent; /* (current - baseline) / baseline * 100; NAN when baseline is 0 */
    double delta_points; /* current - baseline */
    /* both metrics, whichever is judged (NAN when unknown) */
    double current_total, baseline_total, current_self, baseline_self;
    size_t current_rank, baseline_rank; /* 1-based by the judged metric; 0 = not listed */
    double p_value;                     /* of "current > baseline"; NAN when not assessed */
    enum sig_test test;
    bool grew_enough;  /* diff_percent above the threshold */
    bool moved_enough; /* delta_points at least min_delta */
    bool significant;  /* p_value below 1 - confidence (or not assessable) */
    enum verdict status;
    /* The default judge looks at both shares; the fields above are those of the share that
     * decided (`decided_by`: the one that regressed, else the ranking one, total). */
    enum judge_metric decided_by;
    enum judge_metric slot; /* the share by which it was given its slot */
    double picked_from;     /* 1: the baseline's top N; N: rose into the current top N; the
                               number screened: one of the largest growers (its p-value is
                               held to 1/picked_from of the level, Bonferroni) */
    struct share_verdict total, self;
    double samples_of[2][2];   /* [total, self][current, baseline]: mean samples a run */
    double detectable_percent; /* smallest growth (relative, %) this comparison could have
                                  called a regression at this share: max(rules, noise) */
    enum cause_role role;
    double own_delta_points; /* growth not explained by regressed callees (NAN: no stacks) */
    const char *inherits_from[JUDGE_MAX_INHERITS]; /* regressed callees that explain it */
    size_t ninherits;
};

/* A function only on one side (a new hotspot, or a disappeared function). */
struct listed_function {
    const char *name;
    double percentage;          /* its share on the side where it is tracked */
    double baseline_percentage; /* new hotspots, default judge: the baseline share it rose
                                   from (0, or the smallest the baseline lists); else NAN */
    double p_value;             /* new hotspots, default judge; else NAN */
};

/* A whole-run measurement judged on the median of the runs. */
struct judged_metric {
    const char *key;   /* "wall_time_ms", "cpu_time_ms", "peak_rss_kb" */
    const char *label; /* "wall time", "CPU time", "peak memory" */
    const char *unit;  /* "ms", "ms", "MB" (display unit; values are in the key's unit) */
    double current_median, baseline_median; /* NAN when not recorded */
    unsigned current_runs, baseline_runs;
    double diff_percent;      /* NAN when either median is unknown or the baseline is 0 */
    double threshold_percent; /* NAN when not judged against the baseline (--compat) */
    double budget;            /* in the key's unit; NAN when none */
    double p_value;
    enum sig_test test;
    bool over_threshold, over_budget, significant;
    bool judged; /* judged: recorded now, and a baseline value (not --compat) or a budget */
    enum verdict status;
    /* Paired runs (judge_paired_metrics): judged on the ratios current / base of the pairs
     * that recorded it; diff_percent is then (ratio_median - 1) x 100. */
    bool paired;
    unsigned pairs;
    double ratio_median;       /* median of the pairs' ratios */
    double ratio_gmean;        /* geometric mean of the ratios (what the t-test is about) */
    double ratio_lo, ratio_hi; /* its two-sided confidence interval at the judge's level */
};

/* Notes on what the judge could not assess, for the renderers (bit flags). */
enum judge_note {
    NOTE_NO_SPREAD = 1u << 0,       /* the baseline has no run-to-run spread (old format) */
    NOTE_NO_COUNTS = 1u << 1,       /* no sample counts either: significance not assessed */
    NOTE_FEW_RUNS = 1u << 2,        /* a side has fewer than 3 runs: sampling noise only */
    NOTE_METRIC_UNTESTED = 1u << 3, /* a whole-run metric had no spread on either side */
    NOTE_METRIC_MISSING = 1u << 4,  /* a budget or metric could not be judged: not recorded */
    NOTE_ONE_RUN = 1u << 5,         /* a side has one run: run-to-run noise is unknown */
    NOTE_FEW_SAMPLES = 1u << 6,     /* a side has under 100 samples a run: shares too coarse */
    NOTE_INCONCLUSIVE = 1u << 7,    /* some verdicts could not be decided: advice */
    NOTE_NO_STACKS = 1u << 8,       /* no stacks on a side: causes guessed from self growth */
};
#define JUDGE_NOTES 9
/* The sentence for one note bit. */
const char *judge_note_text(unsigned note);

struct judgement {
    struct judged_function *compared; /* current ranking's order (absent ones last) */
    size_t ncompared;
    struct listed_function *new_hotspots; /* compat: in the current top N, not in the
                                             baseline's; default: those significantly
                                             above their baseline share */
    size_t nnew;
    struct listed_function *disappeared; /* compat: in the baseline top N, not in the
                                            current's; default: no samples now */
    size_t ndisappeared;
    size_t passed, regressed; /* functions compared */
    size_t inconclusive;      /* functions compared whose verdict could not be decided */
    const char *likely_cause; /* the regressed function most likely responsible, or NULL */
    const char **structural;  /* functions in nearly every sample, not given a slot */
    size_t nstructural;
    struct judged_metric metrics[RUN_METRICS]; /* by enum run_metric_id: RUN_METRICS_BASIC,
                                                  all when either side has memory sections */
    size_t nmetrics;
    size_t metrics_regressed;
    size_t new_regressed; /* new hotspots counted as regressions (--fail-on-new) */
    unsigned notes;       /* enum judge_note bits */
};

/* True when the judgement fails --strict: any function, metric or counted new hotspot. */
bool judgement_failed(const struct judgement *j);

/* Default options: threshold 50 %, top 10, total, min-delta 0.5, confidence 99 %, time and
 * memory thresholds 10 %, no budgets, no filter. */
void judge_options_default(struct judge_options *o);

/* Judges current against baseline. The judgement refers to both averaged profiles, which
 * must outlive it. 0, or -1 when out of memory (j is then empty). */
int judge_compare(const struct avg_profile *current, const struct avg_profile *baseline,
                  const struct judge_options *o, struct judgement *j);

void judgement_free(struct judgement *j);

/* Paired runs: base[i] and current[i] ran one after the other on the same machine (order
 * randomised), so drift of the machine hits both alike. Re-judges j's whole-run metrics
 * (wall time, CPU time, peak RSS: [RUN_WALL_MS], [RUN_CPU_MS], [RUN_PEAK_RSS_KB] of each
 * row, NAN when a run did not record it) on the log ratios log(current / base) of the
 * pairs: a one-sample t-test that they are above 0 at the judge's confidence, and the median
 * ratio above 1 + the metric's threshold; budgets as judge_compare. n >= 2 pairs to test;
 * fewer: not tested (NOTE_METRIC_UNTESTED). */
void judge_paired_metrics(const double (*current)[RUN_METRICS_BASIC],
                          const double (*base)[RUN_METRICS_BASIC], size_t n,
                          const struct judge_options *o, struct judgement *j);

#endif
