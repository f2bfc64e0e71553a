/* SPDX-License-Identifier: MIT */
/* stats.c — see stats.h. The incomplete beta function follows the continued fraction of
 * Numerical Recipes (modified Lentz), accurate to about 1e-12 relative here. */
#include "analysis/judge/stats.h"
#include "core/array.h"

#include <math.h>
#include <stdlib.h>

void running_add(struct running *r, double x)
{
    r->n += 1;
    double d = x - r->mean;
    r->mean += d / r->n;
    r->m2 += d * (x - r->mean);
}

double running_sd(const struct running *r)
{
    return r->n >= 2 ? sqrt(r->m2 / (r->n - 1)) : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double stats_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    array_sort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Continued fraction for the incomplete beta function. */
static double betacf(double x, double a, double b)
{
    const double tiny = 1e-300, eps = 1e-15;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps)
            break;
    }
    return h;
}

double stats_ibeta(double x, double a, double b)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lbt) * betacf(x, a, b) / a;
    return 1 - exp(lbt) * betacf(1 - x, b, a) / b;
}

double stats_t_sf(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return t > 0 ? 0 : 1;
    double two_sided = stats_ibeta(df / (df + t * t), df / 2, 0.5);
    return t >= 0 ? two_sided / 2 : 1 - two_sided / 2;
}

double stats_welch_greater(double mean1, double sd1, double n1, double mean0, double sd0, double n0,
                           double *df_out)
{
    double v1 = sd1 * sd1 / n1, v0 = sd0 * sd0 / n0, se2 = v1 + v0;
    if (!(se2 > 0)) { /* no spread on either side: the means speak for themselves */
        if (df_out)
            *df_out = n1 + n0 - 2;
        return mean1 > mean0 ? 0 : 1;
    }
    double df = se2 * se2 / (v1 * v1 / (n1 - 1) + v0 * v0 / (n0 - 1));
    if (df_out)
        *df_out = df;
    return stats_t_sf((mean1 - mean0) / sqrt(se2), df);
}

double stats_binom_sf(double k, double n, double p)
{
    if (k <= 0)
        return 1;
    if (k > n)
        return 0;
    if (p <= 0)
        return 0;
    if (p >= 1)
        return 1;
    return stats_ibeta(p, k, n - k + 1);
}

double stats_rate_greater(double c1, double n1, double c0, double n0)
{
    double k = c1 + c0;
    if (k <= 0 || n1 <= 0 || n0 <= 0)
        return 1;
    return stats_binom_sf(c1, k, n1 / (n1 + n0));
}

double stats_t_quantile(double alpha, double df)
{
    if (!(alpha > 0 && alpha < 1) || !(df > 0))
        return NAN;
    double lo = -1e3, hi = 1e3; /* sf falls as t grows: bisect on it */
    for (int i = 0; i < 200 && hi - lo > 1e-10; i++) {
        double mid = (lo + hi) / 2;
        if (stats_t_sf(mid, df) > alpha)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}
