/* sim.c — see sim.h. */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The state is a hash of the seed: consecutive seeds must not give overlapping streams
 * (splitmix64 advances its state by a constant, so seed * constant would). */
void sim_seed(struct sim_rng *r, uint64_t seed)
{
    r->state = mix(mix(seed ^ 0x632BE59BD9B4E019ull) + 0x9E3779B97F4A7C15ull);
}

/* splitmix64 */
static uint64_t next(struct sim_rng *r)
{
    return mix(r->state += 0x9E3779B97F4A7C15ull);
}

double sim_uniform(struct sim_rng *r)
{
    return (double)(next(r) >> 11) * 0x1.0p-53;
}

double sim_normal(struct sim_rng *r)
{
    double u1 = sim_uniform(r), u2 = sim_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

void sim_workload_default(struct sim_workload *w, double share)
{
    static const double big[] = {16, 12, 9, 7, 5.5, 4, 3, 2.2};
    const size_t nbig = sizeof big / sizeof *big, ntail = 150;
    memset(w, 0, sizeof *w);
    double tail_sum = 0;
    for (size_t k = 1; k <= ntail; k++)
        tail_sum += pow((double)k, -0.3);
    double big_sum = 0;
    for (size_t i = 0; i < nbig; i++)
        big_sum += big[i];
    for (size_t i = 0; i < nbig; i++) {
        snprintf(w->names[w->n], sizeof w->names[w->n], "big%zu", i);
        w->cost[w->n++] = big[i];
    }
    w->target = w->n;
    snprintf(w->names[w->n], sizeof w->names[w->n], "target");
    w->cost[w->n++] = 1;
    for (size_t k = 1; k <= ntail; k++) {
        snprintf(w->names[w->n], sizeof w->names[w->n], "tail%03zu", k);
        w->cost[w->n++] = (100 - big_sum) * pow((double)k, -0.3) / tail_sum;
    }
    sim_set_share(w, w->target, share);
    w->samples = 1000;
    w->spread = 0.05;
    w->ms_per_sample = 4;
    w->rss_kb = 20480;
}

static double total_cost(const struct sim_workload *w)
{
    double t = 0;
    for (size_t i = 0; i < w->n; i++)
        t += w->cost[i];
    return t;
}

double sim_share(const struct sim_workload *w, size_t i)
{
    return w->cost[i] / total_cost(w);
}

void sim_set_share(struct sim_workload *w, size_t i, double share)
{
    double others = total_cost(w) - w->cost[i];
    /* keep the others' total cost, give i share of the new whole */
    w->cost[i] = share * others / (1 - share);
}

void sim_scale(struct sim_workload *w, size_t i, double factor)
{
    w->cost[i] *= factor;
}

void sim_run(struct sim_rng *r, const struct sim_workload *w, struct pr_profile *out)
{
    double cost[SIM_MAX_FUNCTIONS], cum[SIM_MAX_FUNCTIONS];
    uint64_t count[SIM_MAX_FUNCTIONS] = {0};
    double total = 0;
    for (size_t i = 0; i < w->n; i++) {
        cost[i] = w->cost[i] * exp(w->spread * sim_normal(r));
        total += cost[i];
        cum[i] = total;
    }
    /* the run's length follows its cost; the samples are drawn from the shares */
    double base = total_cost(w);
    uint64_t n = (uint64_t)llround(w->samples * total / base);
    for (uint64_t k = 0; k < n; k++) {
        double u = sim_uniform(r) * total;
        size_t lo = 0, hi = w->n - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cum[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        count[lo]++;
    }
    profile_init(out);
    out->functions = calloc(w->n + 1, sizeof *out->functions);
    out->total_samples = n;
    out->signals = n;
    out->profreg_version = strdup("sim");
    out->wall_time_ms = (double)n * w->ms_per_sample * exp(0.01 * sim_normal(r));
    out->cpu_time_ms = (double)n * w->ms_per_sample;
    out->peak_rss_kb = w->rss_kb;
    struct pr_function *m = &out->functions[out->nfunctions++];
    m->name = strdup("main");
    m->samples = n;
    m->self_samples = 0;
    m->line = -1;
    m->has_self = true;
    for (size_t i = 0; i < w->n; i++) {
        if (!count[i])
            continue;
        struct pr_function *f = &out->functions[out->nfunctions++];
        f->name = strdup(w->names[i]);
        f->samples = f->self_samples = count[i];
        f->line = -1;
        f->has_self = true;
    }
    profile_compute_percentages(out);
}

void sim_average(struct sim_rng *r, const struct sim_workload *w, unsigned runs,
                 struct avg_profile *out)
{
    struct avg_builder b;
    avg_builder_init(&b);
    for (unsigned k = 0; k < runs; k++) {
        struct pr_profile p;
        sim_run(r, w, &p);
        avg_builder_add(&b, &p);
        profile_free(&p);
    }
    avg_builder_finish(&b, out);
}

static int write_cb(FILE *f, const struct baseline *b)
{
    return baseline_write(f, b);
}

int sim_round_trip(const struct baseline *b, struct baseline *out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -1;
    int rc = write_cb(f, b);
    fclose(f);
    char err[1024];
    baseline_init(out);
    if (rc == 0 && baseline_read_string(text, "sim-baseline", out, err, sizeof err) != 0) {
        fprintf(stderr, "sim: %s\n", err);
        rc = -1;
    }
    free(text);
    return rc;
}

int sim_baseline(struct sim_rng *r, const struct sim_workload *w, unsigned runs,
                 struct baseline *out)
{
    struct baseline b;
    baseline_init(&b);
    sim_average(r, w, runs, &b.avg);
    b.executable = strdup("sim");
    b.functions_seen = b.avg.nfunctions;
    int rc = sim_round_trip(&b, out);
    baseline_free(&b);
    return rc;
}
