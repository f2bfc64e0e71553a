/* SPDX-License-Identifier: MIT */
/* render_compare.c — the console report of `profreg compare`. Output only; no decisions. */
#include "analysis/render/render_compare.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Columns right of the name. --compat: "  Current %  Baseline %      Diff  Status" plus a
 * margin; the default judge shows both shares (now/baseline), the diff of the share that
 * decided (t: total, s: self), the p-value and the smallest growth it could have detected. */
#define NUM_COLS_COMPAT 42
#define NUM_COLS        75
#define MIN_NAME        24
#define MAX_WIDTH       240

static void print_name(FILE *out, const char *name, size_t width)
{
    size_t len = TERM_SHORTEN_LEN(name);
    char *buf = malloc(len);
    if (!buf) {
        term_put_cell(out, name, width);
        return;
    }
    term_shorten_name(name, width, buf, len);
    fputs(buf, out);
    for (size_t n = term_text_width(buf); n < width; n++)
        fputc(' ', out);
    free(buf);
}

static void format_diff(double d, char *buf, size_t len)
{
    if (isnan(d))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "%+.1f%%", d);
}

void render_format_p(double p, char *buf, size_t len)
{
    if (isnan(p))
        snprintf(buf, len, "n/a");
    else if (p < 0.0001)
        snprintf(buf, len, "<0.0001");
    else
        snprintf(buf, len, "%.4f", p);
}

void render_rule(const struct judge_options *o, char *buf, size_t len)
{
    if (o->compat) {
        snprintf(buf, len,
                 "regression when a function in both top-%zu lists grows its %s share by more "
                 "than %g %% (--compat)",
                 o->top, judge_metric_name(o->metric == METRIC_BOTH ? METRIC_TOTAL : o->metric),
                 o->threshold_percent);
        return;
    }
    snprintf(buf, len,
             "regression when a top-%zu function's %s grows by more than %g %%, by at least %g "
             "points, and significantly (%g %% confidence)",
             o->top,
             o->metric == METRIC_BOTH   ? "total or self share"
             : o->metric == METRIC_SELF ? "self share"
                                        : "total share",
             o->threshold_percent, o->min_delta, o->confidence);
}

static void print_header(FILE *out, const struct compare_view *v, const struct term_style *s)
{
    fprintf(out, "%sprofreg compare: ", s->blue);
    term_put(out, v->executable ? v->executable : "?", SIZE_MAX);
    fprintf(out, "%s\n", s->reset);
    fprintf(out, "current:   %u run%s", v->current_runs, v->current_runs == 1 ? "" : "s");
    if (v->current_timestamp) {
        fputs(", ", out);
        term_put(out, v->current_timestamp, 64);
    }
    if (v->base_files) {
        fprintf(out, "\nbase:      %u run%s of the base build", v->baseline_runs,
                v->baseline_runs == 1 ? "" : "s");
        if (v->base_label) {
            fputs(" (", out);
            term_put(out, v->base_label, 256);
            fputc(')', out);
        }
        fprintf(out, ", in %zu interleaved pairs", v->nbase_files);
    } else {
        fprintf(out, "\nbaseline:  %u run%s", v->baseline_runs, v->baseline_runs == 1 ? "" : "s");
    }
    if (v->baseline_timestamp) {
        fputs(", ", out);
        term_put(out, v->baseline_timestamp, 64);
    }
    if (v->baseline_commit) {
        fputs(", commit ", out);
        term_put(out, v->baseline_commit, 12);
    }
    char rule[512];
    render_rule(v->options, rule, sizeof rule);
    fprintf(out, "\nrule:      %s\n", rule);
    if (v->share_of)
        fprintf(out, "shares:    of the %s (sampled allocations)\n", v->share_of);
    if (v->filter_text) {
        fputs("filter:    ", out);
        term_put(out, v->filter_text, SIZE_MAX);
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void print_list(FILE *out, const char *title, const struct listed_function *l, size_t n,
                       const char *tag, const struct term_style *s, size_t namew)
{
    if (n == 0)
        return;
    fprintf(out, "\n%s%s%s\n", s->blue, title, s->reset);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %s%-4s%s ", s->yellow, tag, s->reset);
        print_name(out, l[i].name, namew);
        fprintf(out, " %9.2f %%", l[i].percentage);
        if (!isnan(l[i].baseline_percentage)) {
            char p[32];
            render_format_p(l[i].p_value, p, sizeof p);
            fprintf(out, "  (baseline %.2f %%, p %s)", l[i].baseline_percentage, p);
        }
        fputc('\n', out);
    }
}

static void format_metric_value(const struct judged_metric *m, double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "n/a");
    else if (strcmp(m->unit, "MB") == 0)
        snprintf(buf, len, "%.1f MB", v / 1024);
    else
        snprintf(buf, len, "%.0f ms", v);
}

static void print_metrics(FILE *out, const struct judgement *j, const struct term_style *s)
{
    bool any = false;
    for (size_t i = 0; i < j->nmetrics; i++)
        any = any || !isnan(j->metrics[i].current_median) || !isnan(j->metrics[i].baseline_median);
    if (!any)
        return;
    fprintf(out, "\n%s%-22s  %11s  %11s  %8s  %8s  %-22s  %s%s\n", s->blue, "Whole run (median)",
            "Current", "Baseline", "Diff", "p-value", "Limit", "Status", s->reset);
    for (size_t i = 0; i < j->nmetrics; i++) {
        const struct judged_metric *m = &j->metrics[i];
        if (isnan(m->current_median) && isnan(m->baseline_median))
            continue;
        char cur[32], base[32], diff[32], p[32], limit[64] = "", budget[32];
        format_metric_value(m, m->current_median, cur, sizeof cur);
        format_metric_value(m, m->baseline_median, base, sizeof base);
        format_diff(m->diff_percent, diff, sizeof diff);
        render_format_p(m->p_value, p, sizeof p);
        size_t used = 0;
        if (!isnan(m->threshold_percent))
            used += (size_t)snprintf(limit, sizeof limit, "+%g %%", m->threshold_percent);
        if (!isnan(m->budget)) {
            snprintf(budget, sizeof budget, "%.0f %s", m->budget, m->unit);
            snprintf(limit + used, sizeof limit - used, "%s%s", used ? ", max " : "max ", budget);
        }
        if (!*limit)
            snprintf(limit, sizeof limit, "-");
        const char *status = !m->judged ? "n/a" : verdict_name(m->status);
        const char *colour = !m->judged                        ? s->yellow
                             : m->status == VERDICT_REGRESSION ? s->red
                                                               : s->green;
        fprintf(out, "%-22s  %11s  %11s  %8s  %8s  %-22s  %s%s%s%s\n", m->label, cur, base, diff, p,
                limit, colour, status, s->reset, m->over_budget ? " (over budget)" : "");
        if (m->paired && !isnan(m->ratio_median))
            fprintf(out, "  %u pairs: median ratio %.3f, geometric mean %.3f [%.3f, %.3f]\n",
                    m->pairs, m->ratio_median, m->ratio_gmean, m->ratio_lo, m->ratio_hi);
    }
}

/* "12.34/5.67" for a share now and in the baseline ("n/a" halves when unknown). */
static void format_pair(double now, double base, char *buf, size_t len)
{
    if (isnan(now) && isnan(base))
        snprintf(buf, len, "n/a");
    else if (isnan(base))
        snprintf(buf, len, "%.2f/n/a", now);
    else if (isnan(now))
        snprintf(buf, len, "n/a/%.2f", base);
    else
        snprintf(buf, len, "%.2f/%.2f", now, base);
}

static const char *verdict_colour(enum verdict v, const struct term_style *s)
{
    return v == VERDICT_REGRESSION ? s->red : v == VERDICT_INCONCLUSIVE ? s->yellow : s->green;
}

/* The default judge's row: both shares, the deciding diff, p-value, what could be seen. */
static void print_default_row(FILE *out, const struct judged_function *f,
                              const struct term_style *s, size_t namew)
{
    char diff[32], total[40], self[40], p[32], det[32];
    format_diff(f->diff_percent, diff, sizeof diff);
    format_pair(f->current_total, f->baseline_total, total, sizeof total);
    format_pair(f->current_self, f->baseline_self, self, sizeof self);
    render_format_p(f->p_value, p, sizeof p);
    if (isnan(f->detectable_percent))
        snprintf(det, sizeof det, "n/a");
    else
        snprintf(det, sizeof det, "+%.0f%%", f->detectable_percent);
    print_name(out, f->name, namew);
    fprintf(out, "  %13s  %13s  %8s%c  %8s  %7s  %s%s%s", total, self, diff,
            f->decided_by == METRIC_SELF ? 's' : 't', p, det, verdict_colour(f->status, s),
            verdict_name(f->status), s->reset);
    if (f->role == ROLE_MOST_LIKELY_CAUSE)
        fprintf(out, "  %s<- most likely cause%s", s->red, s->reset);
    else if (f->role == ROLE_CAUSE)
        fprintf(out, "  <- also grew by itself");
    else if (f->role == ROLE_INHERITS) {
        fprintf(out, "  (inherits");
        for (size_t k = 0; k < f->ninherits; k++) {
            fputs(k ? ", " : " from ", out);
            term_put(out, f->inherits_from[k], 60);
        }
        fprintf(out, ")");
    }
    fputc('\n', out);
}

/* The cause named first, where a reader looks. */
static void print_cause(FILE *out, const struct judgement *j, const struct term_style *s)
{
    if (!j->likely_cause)
        return;
    for (size_t i = 0; i < j->ncompared; i++) {
        const struct judged_function *f = &j->compared[i];
        if (f->role != ROLE_MOST_LIKELY_CAUSE)
            continue;
        fprintf(out, "%sMost likely cause:%s %s", s->blue, s->reset, s->red);
        term_put(out, f->name, SIZE_MAX);
        fprintf(out, "%s\n", s->reset);
        fprintf(out, "  total share %.2f -> %.2f %%, self share %.2f -> %.2f %%", f->baseline_total,
                f->current_total, f->baseline_self, f->current_self);
        if (!isnan(f->own_delta_points))
            fprintf(out, ", %+.2f points of its own", f->own_delta_points);
        fprintf(out, "\n\n");
    }
}

static void print_structural(FILE *out, const struct judgement *j, const struct term_style *s)
{
    if (j->nstructural == 0)
        return;
    fprintf(out,
            "%sNot given a slot%s (in nearly every sample: they cannot grow by the "
            "threshold): ",
            s->blue, s->reset);
    size_t shown = j->nstructural < 6 ? j->nstructural : 6;
    for (size_t i = 0; i < shown; i++) {
        fputs(i ? ", " : "", out);
        term_put(out, j->structural[i], 60);
    }
    if (shown < j->nstructural)
        fprintf(out, " and %zu more", j->nstructural - shown);
    fputc('\n', out);
}

void render_compare_table(FILE *out, const struct compare_view *v, const struct judgement *j,
                          const struct term_style *s, int width)
{
    const struct judge_options *o = v->options;
    if (width > MAX_WIDTH)
        width = MAX_WIDTH;
    int cols = o->compat ? NUM_COLS_COMPAT : NUM_COLS;
    size_t namew = width > cols + MIN_NAME ? (size_t)(width - cols) : MIN_NAME;
    print_header(out, v, s);
    if (!o->compat)
        print_cause(out, j, s);

    fprintf(out, "%s", s->blue);
    print_name(out, "Function", namew);
    if (o->compat) {
        fprintf(out, "  %9s  %10s  %8s  %s%s\n", "Current %", "Baseline %", "Diff", "Status",
                s->reset);
        for (size_t i = 0; i < j->ncompared; i++) {
            const struct judged_function *f = &j->compared[i];
            char diff[32];
            format_diff(f->diff_percent, diff, sizeof diff);
            print_name(out, f->name, namew);
            fprintf(out, "  %9.2f  %10.2f  %8s  %s%s%s\n", f->current_percentage,
                    f->baseline_percentage, diff, verdict_colour(f->status, s),
                    verdict_name(f->status), s->reset);
        }
    } else {
        fprintf(out, "  %13s  %13s  %9s  %8s  %7s  %s%s\n", "Total % now/b", "Self % now/b", "Diff",
                "p-value", "Detect", "Status", s->reset);
        for (size_t i = 0; i < j->ncompared; i++)
            print_default_row(out, &j->compared[i], s, namew);
    }
    if (j->ncompared == 0)
        fprintf(out,
                o->compat ? "(no function is in both top %zu lists)\n"
                          : "(the baseline lists no function to judge among its top %zu)\n",
                o->top);

    size_t listw = namew + (size_t)cols - 18 - (o->compat ? 0 : 43);
    char title[160];
    if (o->compat)
        snprintf(title, sizeof title,
                 "New hotspots (in the current top %zu, not in the baseline's):", o->top);
    else
        snprintf(title, sizeof title,
                 "New hotspots (in the current top %zu, significantly above their baseline "
                 "share%s):",
                 o->top, o->fail_on_new ? "; they fail --strict" : "");
    print_list(out, title, j->new_hotspots, j->nnew, "NEW", s, listw);
    if (o->compat)
        snprintf(title, sizeof title,
                 "Disappeared (in the baseline top %zu, not in the current's):", o->top);
    else
        snprintf(title, sizeof title,
                 "Disappeared (in the baseline top %zu, no samples now):", o->top);
    print_list(out, title, j->disappeared, j->ndisappeared, "GONE", s, listw);

    print_metrics(out, j, s);
    if (!o->compat) {
        fputc('\n', out);
        print_structural(out, j, s);
    }

    fprintf(out, "\n%sSummary:%s %zu compared, %s%zu passed%s, %s%zu regressed%s", s->blue,
            s->reset, j->ncompared, s->green, j->passed, s->reset, j->regressed ? s->red : "",
            j->regressed, j->regressed ? s->reset : "");
    if (j->inconclusive)
        fprintf(out, ", %s%zu inconclusive%s", s->yellow, j->inconclusive, s->reset);
    fprintf(out, ", %zu new hotspot%s, %zu disappeared", j->nnew, j->nnew == 1 ? "" : "s",
            j->ndisappeared);
    if (j->metrics_regressed)
        fprintf(out, ", %s%zu whole-run metric%s regressed%s", s->red, j->metrics_regressed,
                j->metrics_regressed == 1 ? "" : "s", s->reset);
    fputc('\n', out);
    for (unsigned bit = 0; bit < JUDGE_NOTES; bit++)
        if (j->notes & (1u << bit))
            fprintf(out, "%snote:%s %s\n", s->yellow, s->reset, judge_note_text(1u << bit));
}
