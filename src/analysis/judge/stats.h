/* SPDX-License-Identifier: MIT */
/* stats.h — the statistics the noise-aware judge needs: running mean and standard
 * deviation, the median, Student's t distribution, and one-sided tests for "current is
 * larger than baseline" (Welch's t-test over per-run values; a conditional binomial test on
 * pooled sample counts). Pure functions, no I/O. */
#ifndef PROFREG_STATS_H
#define PROFREG_STATS_H

#include <stddef.h>

/* Welford's running mean and variance. */
struct running {
    double n, mean, m2;
};

void running_add(struct running *r, double x);

/* Sample standard deviation (n - 1 in the denominator); 0 for fewer than 2 values. */
double running_sd(const struct running *r);

/* Median of v[0..n) (sorts v); NAN when n is 0. */
double stats_median(double *v, size_t n);

/* P(T >= t) for Student's t with df degrees of freedom (df > 0, not necessarily whole). */
double stats_t_sf(double t, double df);

/* The t with P(T >= t) = alpha for Student's t with df degrees of freedom (a large df gives
 * the normal quantile); NAN when alpha is not in (0, 1) or df <= 0. */
double stats_t_quantile(double alpha, double df);

/* One-sided Welch test of H1 "mean1 > mean0" from each side's mean, sample standard
 * deviation and count (each count >= 2). Returns the p-value; the degrees of freedom
 * (Welch-Satterthwaite) in *df when df is not NULL. */
double stats_welch_greater(double mean1, double sd1, double n1, double mean0, double sd0, double n0,
                           double *df);

/* P(X >= k) for X ~ Binomial(n, p). */
double stats_binom_sf(double k, double n, double p);

/* One-sided test of H1 "rate1 > rate0" for counts c1 out of n1 trials and c0 out of n0
 * (Poisson rates compared through the conditional binomial: given c1 + c0, c1 is
 * Binomial(c1 + c0, n1 / (n1 + n0)) when the rates are equal). Returns the p-value. */
double stats_rate_greater(double c1, double n1, double c0, double n0);

/* The regularized incomplete beta function I_x(a, b). */
double stats_ibeta(double x, double a, double b);

#endif
