/* render_markdown.c — the comparison as a Markdown summary (GitHub step summaries, merge
 * request comments). Output only; every verdict is the judge's. */
#include "profreg/render_compare.h"

#include <math.h>
#include <string.h>

/* A function name as inline code: backticks inside become ', pipes are escaped. */
static void md_code(FILE *out, const char *s)
{
    fputc('`', out);
    for (; *s; s++) {
        if (*s == '`')
            fputc('\'', out);
        else if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
    fputc('`', out);
}

static void list(FILE *out, const char *title, const struct listed_function *l, size_t n)
{
    if (n == 0)
        return;
    fprintf(out, "\n**%s**\n\n", title);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "- ");
        md_code(out, l[i].name);
        fprintf(out, " %.2f %%\n", l[i].percentage);
    }
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
    fprintf(out, "### profreg: %s — %s\n\n", v->executable ? v->executable : "unknown",
            failed ? "REGRESSION" : "no regression");
    char rule[512];
    render_rule(o, rule, sizeof rule);
    fprintf(out,
            "%zu compared, %zu passed, %zu regressed; %u run%s against a baseline of %u. "
            "Rule: %s.\n\n",
            j->ncompared, j->passed, j->regressed, v->current_runs, v->current_runs == 1 ? "" : "s",
            v->baseline_runs, rule);
    if (o->compat) {
        fprintf(out, "| Function | Current %% | Baseline %% | Diff | Status |\n");
        fprintf(out, "|---|---:|---:|---:|---|\n");
    } else {
        fprintf(out, "| Function | Current %% | Baseline %% | Diff | %s now / base | p-value | "
                     "Status |\n",
                o->metric == METRIC_SELF ? "Total %" : "Self %");
        fprintf(out, "|---|---:|---:|---:|---:|---:|---|\n");
    }
    for (size_t i = 0; i < j->ncompared; i++) {
        const struct judged_function *f = &j->compared[i];
        fprintf(out, "| ");
        md_code(out, f->name);
        fprintf(out, " | %.2f | %.2f | ", f->current_percentage, f->baseline_percentage);
        if (isnan(f->diff_percent))
            fprintf(out, "n/a");
        else
            fprintf(out, "%+.1f %%", f->diff_percent);
        if (!o->compat) {
            double oc = o->metric == METRIC_SELF ? f->current_total : f->current_self;
            double ob = o->metric == METRIC_SELF ? f->baseline_total : f->baseline_self;
            char p[32];
            render_format_p(f->p_value, p, sizeof p);
            fprintf(out, " | ");
            if (isnan(oc))
                fprintf(out, "n/a");
            else
                fprintf(out, "%.2f", oc);
            if (isnan(ob))
                fprintf(out, " / n/a");
            else
                fprintf(out, " / %.2f", ob);
            fprintf(out, " | %s", p);
        }
        fprintf(out, " | %s |\n", f->status == VERDICT_REGRESSION ? "**REGRESSION**" : "PASS");
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
    return ferror(out) ? -1 : 0;
}
