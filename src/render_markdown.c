/* render_markdown.c — the comparison as a Markdown summary (GitHub step summaries, merge
 * request comments). Output only; every verdict is the judge's. */
#include "profreg/render_compare.h"

#include <math.h>

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

int render_compare_markdown(FILE *out, const struct compare_view *v, const struct judgement *j)
{
    fprintf(out, "### profreg: %s — %s\n\n", v->executable ? v->executable : "unknown",
            j->regressed ? "REGRESSION" : "no regression");
    fprintf(out,
            "%zu compared, %zu passed, %zu regressed; %u run%s against a baseline of %u "
            "(threshold %g %%, top %zu).\n\n",
            j->ncompared, j->passed, j->regressed, v->current_runs, v->current_runs == 1 ? "" : "s",
            v->baseline_runs, v->options->threshold_percent, v->options->top);
    fprintf(out, "| Function | Current %% | Baseline %% | Diff | Status |\n");
    fprintf(out, "|---|---:|---:|---:|---|\n");
    for (size_t i = 0; i < j->ncompared; i++) {
        const struct judged_function *f = &j->compared[i];
        fprintf(out, "| ");
        md_code(out, f->name);
        fprintf(out, " | %.2f | %.2f | ", f->current_percentage, f->baseline_percentage);
        if (isnan(f->diff_percent))
            fprintf(out, "n/a");
        else
            fprintf(out, "%+.1f %%", f->diff_percent);
        fprintf(out, " | %s |\n", f->status == VERDICT_REGRESSION ? "**REGRESSION**" : "PASS");
    }
    list(out, "New hotspots (in the current top N, not in the baseline's)", j->new_hotspots,
         j->nnew);
    list(out, "Disappeared (in the baseline top N, not in the current's)", j->disappeared,
         j->ndisappeared);
    return ferror(out) ? -1 : 0;
}
