/* SPDX-License-Identifier: MIT */
/* render_markdown.c — the comparison as a Markdown summary (GitHub step summaries, merge
 * request comments). Output only; every verdict is the judge's. */
#include "analysis/render/render_compare.h"
#include "analysis/render/render_tests.h"

#include <math.h>
#include <string.h>

void render_md_code(FILE *out, const char *s)
{
    fputc('`', out);
    for (; *s; s++) {
        if (*s == '`')
            fputc('\'', out);
        else if (*s == '|')
            fputs("\\|", out);
        else if ((unsigned char)*s < 0x20 || *s == 0x7f) /* a newline would end the line */
            fputc(' ', out);
        else
            fputc(*s, out);
    }
    fputc('`', out);
}

void render_md_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            fputc(' ', out);
        else if (strchr("\\`*_{}[]<>()#+-.!|~&", *s))
            fprintf(out, "\\%c", *s);
        else
            fputc(*s, out);
    }
}

static void list(FILE *out, const char *title, const struct listed_function *l, size_t n)
{
    if (n == 0)
        return;
    fprintf(out, "\n**%s**\n\n", title);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "- ");
        render_md_code(out, l[i].name);
        fprintf(out, " %.2f %%\n", l[i].percentage);
    }
}

static void md_pair(FILE *out, double now, double base)
{
    if (isnan(now))
        fprintf(out, "n/a");
    else
        fprintf(out, "%.2f", now);
    if (isnan(base))
        fprintf(out, " / n/a");
    else
        fprintf(out, " / %.2f", base);
}

static void md_metric(FILE *out, const struct judged_metric *m, double v)
{
    if (isnan(v))
        fprintf(out, "n/a");
    else if (strcmp(m->unit, "MB") == 0)
        fprintf(out, "%.1f MB", v / 1024);
    else
        fprintf(out, "%.0f ms", v);
}

int render_compare_markdown(FILE *out, const struct compare_view *v, const struct judgement *j)
{
    const struct judge_options *o = v->options;
    bool failed = judgement_failed(j);
    fputs("### profreg: ", out);
    render_md_text(out, v->executable ? v->executable : "unknown");
    fprintf(out, " — %s\n\n",
            failed            ? "REGRESSION"
            : j->inconclusive ? "no regression found (some verdicts inconclusive)"
                              : "no regression");
    if (v->base_files)
        fprintf(out, "head vs base%s%s%s, %zu interleaved pairs\n\n", v->base_label ? " (" : "",
                v->base_label ? v->base_label : "", v->base_label ? ")" : "", v->nbase_files);
    if (j->likely_cause) {
        fprintf(out, "**Most likely cause:** ");
        render_md_code(out, j->likely_cause);
        fprintf(out, "\n\n");
    }
    char rule[512];
    render_rule(o, rule, sizeof rule);
    fprintf(out,
            "%zu compared, %zu passed, %zu regressed, %zu inconclusive; %u run%s against %s "
            "of %u. Rule: %s.\n\n",
            j->ncompared, j->passed, j->regressed, j->inconclusive, v->current_runs,
            v->current_runs == 1 ? "" : "s", v->base_files ? "base runs" : "a baseline",
            v->baseline_runs, rule);
    if (v->share_of)
        fprintf(out, "Shares are of the %s (sampled allocations).\n\n", v->share_of);
    if (o->compat) {
        fprintf(out, "| Function | Current %% | Baseline %% | Diff | Status |\n");
        fprintf(out, "|---|---:|---:|---:|---|\n");
    } else {
        fprintf(out, "| Function | Total %% now / base | Self %% now / base | Diff | p-value | "
                     "Detectable | Status |\n");
        fprintf(out, "|---|---:|---:|---:|---:|---:|---|\n");
    }
    for (size_t i = 0; i < j->ncompared; i++) {
        const struct judged_function *f = &j->compared[i];
        fprintf(out, "| ");
        render_md_code(out, f->name);
        if (o->compat)
            fprintf(out, " | %.2f | %.2f", f->current_percentage, f->baseline_percentage);
        else {
            fprintf(out, " | ");
            md_pair(out, f->current_total, f->baseline_total);
            fprintf(out, " | ");
            md_pair(out, f->current_self, f->baseline_self);
        }
        if (isnan(f->diff_percent))
            fprintf(out, " | n/a");
        else
            fprintf(out, " | %+.1f %%%s", f->diff_percent,
                    o->compat                      ? ""
                    : f->decided_by == METRIC_SELF ? " (self)"
                                                   : " (total)");
        if (!o->compat) {
            char p[32];
            render_format_p(f->p_value, p, sizeof p);
            fprintf(out, " | %s | ", p);
            if (isnan(f->detectable_percent))
                fprintf(out, "n/a");
            else
                fprintf(out, "+%.0f %%", f->detectable_percent);
        }
        fprintf(out, " | %s%s |\n",
                f->status == VERDICT_REGRESSION     ? "**REGRESSION**"
                : f->status == VERDICT_INCONCLUSIVE ? "INCONCLUSIVE"
                                                    : "PASS",
                f->role == ROLE_MOST_LIKELY_CAUSE ? " — most likely cause"
                : f->role == ROLE_INHERITS        ? " (inherits)"
                                                  : "");
    }
    list(out,
         o->compat ? "New hotspots (in the current top N, not in the baseline's)"
                   : "New hotspots (in the current top N, significantly above the baseline)",
         j->new_hotspots, j->nnew);
    list(out,
         o->compat ? "Disappeared (in the baseline top N, not in the current's)"
                   : "Disappeared (in the baseline top N, no samples now)",
         j->disappeared, j->ndisappeared);
    bool any = false;
    for (size_t i = 0; i < j->nmetrics; i++)
        any = any || j->metrics[i].judged || !isnan(j->metrics[i].baseline_median);
    if (any) {
        fprintf(out, "\n| Whole run (median) | Current | Baseline | Diff | p-value | Status |\n");
        fprintf(out, "|---|---:|---:|---:|---:|---|\n");
        for (size_t i = 0; i < j->nmetrics; i++) {
            const struct judged_metric *m = &j->metrics[i];
            if (!m->judged && isnan(m->baseline_median))
                continue;
            char p[32];
            render_format_p(m->p_value, p, sizeof p);
            fprintf(out, "| %s | ", m->label);
            md_metric(out, m, m->current_median);
            fprintf(out, " | ");
            md_metric(out, m, m->baseline_median);
            if (isnan(m->diff_percent))
                fprintf(out, " | n/a");
            else if (m->paired && !isnan(m->ratio_lo))
                fprintf(out, " | %+.1f %% (median ratio %.3f, CI %.3f–%.3f, %u pairs)",
                        m->diff_percent, m->ratio_median, m->ratio_lo, m->ratio_hi, m->pairs);
            else
                fprintf(out, " | %+.1f %%", m->diff_percent);
            fprintf(out, " | %s | %s%s |\n", p,
                    !m->judged                        ? "n/a"
                    : m->status == VERDICT_REGRESSION ? "**REGRESSION**"
                                                      : "PASS",
                    m->over_budget ? " (over budget)" : "");
        }
    }
    for (unsigned bit = 0; bit < JUDGE_NOTES; bit++)
        if (j->notes & (1u << bit))
            fprintf(out, "\n> Note: %s\n", judge_note_text(1u << bit));
    render_tests_markdown(out, v->tests); /* compare --by-test */
    return ferror(out) ? -1 : 0;
}
