/* render_table.c — text rendering of a profile as a ranked table. No I/O besides out. */
#include "profreg/render_table.h"
#include "profreg/array.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Columns other than the name: rank, samples, total %, self %, and the gaps. */
#define FIXED_COLS  38
#define SOURCE_COLS 28

long report_hotspot(const struct pr_profile *p)
{
    long best = -1;
    for (size_t i = 0; i < p->nfunctions; i++) {
        const struct pr_function *f = &p->functions[i];
        double v = f->has_self ? f->self_percentage : f->percentage;
        double bv = best < 0                      ? -1
                    : p->functions[best].has_self ? p->functions[best].self_percentage
                                                  : p->functions[best].percentage;
        if (v > bv)
            best = (long)i;
    }
    return best;
}

static int cmp_self(const void *a, const void *b)
{
    const struct pr_function *x = *(const struct pr_function *const *)a;
    const struct pr_function *y = *(const struct pr_function *const *)b;
    if (x->self_samples != y->self_samples)
        return x->self_samples > y->self_samples ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void format_source(const struct pr_function *f, char *buf, size_t len)
{
    if (f->source_file && f->line >= 0)
        snprintf(buf, len, "%s:%ld", f->source_file, f->line);
    else if (f->source_file)
        snprintf(buf, len, "%s", f->source_file);
    else if (f->line >= 0)
        snprintf(buf, len, "line %ld", f->line);
    else if (f->module)
        snprintf(buf, len, "[%s]", f->module);
    else
        snprintf(buf, len, "-");
}

static void print_padded(FILE *out, const char *s, size_t width)
{
    fputs(s, out);
    for (size_t w = term_text_width(s); w < width; w++)
        fputc(' ', out);
}

static void print_header(FILE *out, const struct pr_profile *p, const struct report_options *o)
{
    const struct term_style *st = &o->style;
    fprintf(out, "%sProfile%s ", st->blue, st->reset);
    term_put(out, p->executable ? p->executable : (p->trace_file ? p->trace_file : "(unknown)"),
             SIZE_MAX);
    if (o->nfiles > 1)
        fprintf(out, " (%zu profiles merged)", o->nfiles);
    fprintf(out, "\n  %llu samples", (unsigned long long)p->total_samples);
    if (!isnan(p->total_time_ms))
        fprintf(out, ", %.1f ms sampled", p->total_time_ms);
    if (p->mode && !isnan(p->frequency_hz)) {
        fputs(", ", out);
        term_put(out, p->mode, 16);
        fprintf(out, " time at %.0f Hz", p->frequency_hz);
        if (!isnan(p->effective_frequency_hz))
            fprintf(out, " (%.0f Hz effective)", p->effective_frequency_hz);
    }
    if (!isnan(p->wall_time_ms))
        fprintf(out, "; wall %.1f ms", p->wall_time_ms);
    if (!isnan(p->cpu_time_ms))
        fprintf(out, ", CPU %.1f ms", p->cpu_time_ms);
    if (!isnan(p->peak_rss_kb))
        fprintf(out, ", peak RSS %.1f MB", p->peak_rss_kb / 1024.0);
    if (!isnan(p->thread_count))
        fprintf(out, ", %.0f thread%s", p->thread_count, p->thread_count == 1 ? "" : "s");
    if (!isnan(p->exit_ms)) {
        fprintf(out, "; profreg at exit %.1f ms", p->exit_ms);
        if (!isnan(p->exit_extra_rss_kb))
            fprintf(out, ", +%.1f MB peak RSS", p->exit_extra_rss_kb / 1024.0);
    }
    fputc('\n', out);
    if (!isnan(p->lost_samples) && p->lost_samples > 0)
        fprintf(out,
                "  %swarning:%s %.0f samples lost (stack table full: raise PROFREG_MAX_STACKS)\n",
                st->yellow, st->reset, p->lost_samples);
}

void render_report(FILE *out, const struct pr_profile *p, const struct report_options *o)
{
    const struct term_style *st = &o->style;
    print_header(out, p, o);

    size_t n = p->nfunctions;
    const struct pr_function **rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++)
        rows[i] = &p->functions[i];
    if (o->by_self)
        array_sort(rows, n, sizeof *rows, cmp_self);
    size_t shown = o->top && o->top < n ? o->top : n;

    int width = o->width > 0 ? o->width : 120;
    size_t name_cols =
        width > FIXED_COLS + SOURCE_COLS + 20 ? (size_t)(width - FIXED_COLS - SOURCE_COLS) : 20;
    size_t longest = 8;
    for (size_t i = 0; i < shown; i++) {
        size_t w = term_escaped_width(rows[i]->name);
        if (w > longest)
            longest = w;
    }
    if (longest < name_cols)
        name_cols = longest;

    fprintf(out, "\n%s%4s  ", st->blue, "Rank");
    print_padded(out, "Function", name_cols);
    fprintf(out, "  %9s  %7s  %7s  %s%s\n", "Samples", "Total %", "Self %", "Source", st->reset);

    size_t buflen = 0;
    for (size_t i = 0; i < shown; i++)
        if (TERM_SHORTEN_LEN(rows[i]->name) > buflen)
            buflen = TERM_SHORTEN_LEN(rows[i]->name);
    char *name = malloc(buflen ? buflen : 8);
    for (size_t i = 0; name && i < shown; i++) {
        const struct pr_function *f = rows[i];
        char src[512], self[16];
        term_shorten_name(f->name, name_cols, name, buflen);
        format_source(f, src, sizeof src);
        if (f->has_self)
            snprintf(self, sizeof self, "%7.2f", f->self_percentage);
        else
            snprintf(self, sizeof self, "%7s", "-");
        fprintf(out, "%4zu  ", i + 1);
        print_padded(out, name, name_cols);
        fprintf(out, "  %9llu  %7.2f  %s  ", (unsigned long long)f->samples, f->percentage, self);
        term_put(out, src, SIZE_MAX);
        fputc('\n', out);
    }
    if (shown < n)
        fprintf(out, "  ... %zu more function%s (--top %zu shows all)\n", n - shown,
                n - shown == 1 ? "" : "s", n);

    long hot = report_hotspot(p);
    if (hot >= 0) {
        const struct pr_function *f = &p->functions[hot];
        char src[512];
        format_source(f, src, sizeof src);
        fprintf(out, "\n%sTop hotspot:%s ", st->yellow, st->reset);
        term_put(out, f->name, SIZE_MAX);
        fprintf(out, "\n  %.2f %% %s, ", f->has_self ? f->self_percentage : f->percentage,
                f->has_self ? "of samples in the function itself" : "of samples");
        term_put(out, src, SIZE_MAX);
        fputc('\n', out);
    } else {
        fprintf(out, "\nNo samples.\n");
    }
    free(name);
    free(rows);
}
