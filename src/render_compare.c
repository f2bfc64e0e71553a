/* render_compare.c — the console report of `profreg compare`. Output only; no decisions. */
#include "profreg/render_compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Columns right of the name: "  Current %  Baseline %      Diff  Status" plus a margin. */
#define NUM_COLS  42
#define MIN_NAME  24
#define MAX_WIDTH 240

static void print_name(FILE *out, const char *name, size_t width)
{
    size_t len = strlen(name);
    char *buf = malloc(len + 4);
    if (!buf) {
        fprintf(out, "%s", name);
        return;
    }
    term_shorten_name(name, width, buf, len + 4);
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

static void print_header(FILE *out, const struct compare_view *v, const struct term_style *s)
{
    fprintf(out, "%sprofreg compare: %s%s\n", s->blue, v->executable ? v->executable : "?",
            s->reset);
    fprintf(out, "current:   %u run%s", v->current_runs, v->current_runs == 1 ? "" : "s");
    if (v->current_timestamp)
        fprintf(out, ", %s", v->current_timestamp);
    fprintf(out, "\nbaseline:  %u run%s", v->baseline_runs, v->baseline_runs == 1 ? "" : "s");
    if (v->baseline_timestamp)
        fprintf(out, ", %s", v->baseline_timestamp);
    if (v->baseline_commit)
        fprintf(out, ", commit %.12s", v->baseline_commit);
    fprintf(
        out,
        "\nrule:      regression when a top-%zu function's share grows by more than %g %%%s\n\n",
        v->options->top, v->options->threshold_percent, v->options->compat ? " (--compat)" : "");
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
        fprintf(out, " %9.2f %%\n", l[i].percentage);
    }
}

void render_compare_table(FILE *out, const struct compare_view *v, const struct judgement *j,
                          const struct term_style *s, int width)
{
    if (width > MAX_WIDTH)
        width = MAX_WIDTH;
    size_t namew = width > NUM_COLS + MIN_NAME ? (size_t)(width - NUM_COLS) : MIN_NAME;
    print_header(out, v, s);

    fprintf(out, "%s", s->blue);
    print_name(out, "Function", namew);
    fprintf(out, "  %9s  %10s  %8s  %s%s\n", "Current %", "Baseline %", "Diff", "Status", s->reset);
    for (size_t i = 0; i < j->ncompared; i++) {
        const struct judged_function *f = &j->compared[i];
        char diff[32];
        format_diff(f->diff_percent, diff, sizeof diff);
        const char *colour = f->status == VERDICT_REGRESSION ? s->red : s->green;
        print_name(out, f->name, namew);
        fprintf(out, "  %9.2f  %10.2f  %8s  %s%s%s\n", f->current_percentage,
                f->baseline_percentage, diff, colour, verdict_name(f->status), s->reset);
    }
    if (j->ncompared == 0)
        fprintf(out, "(no function is in both top %zu lists)\n", v->options->top);

    size_t listw = namew + NUM_COLS - 18;
    char title[128];
    snprintf(title, sizeof title,
             "New hotspots (in the current top %zu, not in the baseline's):", v->options->top);
    print_list(out, title, j->new_hotspots, j->nnew, "NEW", s, listw);
    snprintf(title, sizeof title,
             "Disappeared (in the baseline top %zu, not in the current's):", v->options->top);
    print_list(out, title, j->disappeared, j->ndisappeared, "GONE", s, listw);

    fprintf(out, "\n%sSummary:%s %zu compared, %s%zu passed%s, %s%zu regressed%s", s->blue,
            s->reset, j->ncompared, s->green, j->passed, s->reset, j->regressed ? s->red : "",
            j->regressed, j->regressed ? s->reset : "");
    fprintf(out, ", %zu new hotspot%s, %zu disappeared\n", j->nnew, j->nnew == 1 ? "" : "s",
            j->ndisappeared);
}
