/* SPDX-License-Identifier: MIT */
/* render_table.c — text rendering of a profile as a ranked table. No I/O besides out. */
#include "analysis/render/render_table.h"
#include "analysis/read/region.h"
#include "core/array.h"

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

void render_regions(FILE *out, const struct pr_profile *p, const struct region_row *rows,
                    size_t nrows, uint64_t total, const struct report_options *o)
{
    const struct term_style *st = &o->style;
    print_header(out, p, o);
    if (total == 0) {
        fprintf(out, "\nNo samples.\n");
        return;
    }
    fprintf(out, "\n%s%9s  %7s  %7s  %s%s\n", st->blue, "Samples", "Total %", "Self %", "Region",
            st->reset);
    for (size_t i = 0; i < nrows; i++) {
        fprintf(out, "%9llu  %7.2f  %7.2f  ", (unsigned long long)rows[i].samples,
                100.0 * (double)rows[i].samples / (double)total,
                100.0 * (double)rows[i].self / (double)total);
        if (rows[i].path)
            term_put(out, rows[i].path, SIZE_MAX);
        else
            fputs("(no region)", out);
        fputc('\n', out);
    }
    if (p->nregions == 0)
        fprintf(out, "  (the profile names no region: profreg_region_begin, include/profreg.h)\n");
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

/* ---- the memory section ------------------------------------------------------------------- */

/* What the memory rows are ranked by. */
struct mem_order {
    enum pr_mem_metric metric;
    bool self;
};

static int cmp_mem(const void *a, const void *b, void *ctx)
{
    const struct mem_order *o = ctx;
    const struct pr_mem_function *x = *(const struct pr_mem_function *const *)a;
    const struct pr_mem_function *y = *(const struct pr_mem_function *const *)b;
    uint64_t vx = o->self ? x->self[o->metric] : x->total[o->metric];
    uint64_t vy = o->self ? y->self[o->metric] : y->total[o->metric];
    if (vx != vy)
        return vx > vy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void format_mem_source(const struct pr_mem_function *f, char *buf, size_t len)
{
    struct pr_function g = {0};
    g.source_file = f->source_file;
    g.line = f->line;
    g.module = f->module;
    format_source(&g, buf, len);
}

static void print_memory_header(FILE *out, const struct pr_profile *meta, const struct pr_memory *m,
                                const struct report_options *o)
{
    const struct term_style *st = &o->style;
    char alloc[32], peak[32], exitb[32], rate[32];
    mem_format_bytes((double)m->total[MEM_ALLOC_BYTES], alloc, sizeof alloc);
    mem_format_bytes((double)m->total[MEM_PEAK_LIVE], peak, sizeof peak);
    mem_format_bytes((double)m->total[MEM_EXIT_LIVE], exitb, sizeof exitb);
    fprintf(out, "%sMemory%s %s", st->blue, st->reset,
            meta->executable ? meta->executable
                             : (meta->trace_file ? meta->trace_file : "(unknown)"));
    if (o->nfiles > 1)
        fprintf(out, " (%zu profiles merged)", o->nfiles);
    fprintf(out, "\n  %s allocated in %llu allocations (estimated from %llu sampled", alloc,
            (unsigned long long)m->total[MEM_ALLOC_COUNT],
            (unsigned long long)m->total[MEM_SAMPLES]);
    if (!isnan(m->rate_bytes)) {
        mem_format_bytes(m->rate_bytes, rate, sizeof rate);
        fprintf(out, ", one per %s on average", rate);
    }
    fprintf(out, ")\n  live at the peak of the heap %s", peak);
    if (!isnan(m->peak_time_ms))
        fprintf(out, " (at %.1f ms)", m->peak_time_ms);
    if (o->nfiles > 1)
        fprintf(out, " (summed over the profiles)");
    fprintf(out, "; still live at exit %s\n", exitb);
    if (m->lost_samples || m->untracked_samples)
        fprintf(out,
                "  %swarning:%s %llu sampled allocations in no stack (stack table full), "
                "%llu not followed until freed\n",
                st->yellow, st->reset, (unsigned long long)m->lost_samples,
                (unsigned long long)m->untracked_samples);
}

void render_memory_report(FILE *out, const struct pr_profile *meta, const struct pr_memory *m,
                          enum pr_mem_metric sort, const struct report_options *o)
{
    const struct term_style *st = &o->style;
    print_memory_header(out, meta, m, o);
    size_t n = m->nfunctions;
    const struct pr_mem_function **rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) /* functions with nothing of the ranked figure: left out */
        if ((o->by_self ? m->functions[i].self[sort] : m->functions[i].total[sort]) > 0)
            rows[kept++] = &m->functions[i];
    struct mem_order order = {sort, o->by_self};
    array_sort_r(rows, kept, sizeof *rows, cmp_mem, &order);
    size_t shown = o->top && o->top < kept ? o->top : kept;

    enum { COLS = 6 + 11 * 5 + 2 }; /* rank, five figures and the gaps */
    int width = o->width > 0 ? o->width : 120;
    size_t name_cols = width > COLS + SOURCE_COLS + 20 ? (size_t)(width - COLS - SOURCE_COLS) : 20;
    size_t longest = 8, buflen = 8;
    for (size_t i = 0; i < shown; i++) {
        size_t w = term_text_width(rows[i]->name);
        longest = w > longest ? w : longest;
        buflen = strlen(rows[i]->name) + 8 > buflen ? strlen(rows[i]->name) + 8 : buflen;
    }
    if (longest < name_cols)
        name_cols = longest;
    fprintf(out, "\n%s%4s  ", st->blue, "Rank");
    print_padded(out, "Function", name_cols);
    fprintf(out, "  %10s %10s %10s %10s %10s  %s%s\n", "Allocated", "Self", "Allocs", "Peak live",
            "Exit live", "Source", st->reset);
    char *name = malloc(buflen);
    for (size_t i = 0; name && i < shown; i++) {
        const struct pr_mem_function *f = rows[i];
        char a[32], self[32], peak[32], ex[32], src[512];
        mem_format_bytes((double)f->total[MEM_ALLOC_BYTES], a, sizeof a);
        mem_format_bytes((double)f->self[MEM_ALLOC_BYTES], self, sizeof self);
        mem_format_bytes((double)f->total[MEM_PEAK_LIVE], peak, sizeof peak);
        mem_format_bytes((double)f->total[MEM_EXIT_LIVE], ex, sizeof ex);
        format_mem_source(f, src, sizeof src);
        term_shorten_name(f->name, name_cols, name, buflen);
        fprintf(out, "%4zu  ", i + 1);
        print_padded(out, name, name_cols);
        fprintf(out, "  %10s %10s %10llu %10s %10s  %s\n", a, self,
                (unsigned long long)f->total[MEM_ALLOC_COUNT], peak, ex, src);
    }
    if (shown < kept)
        fprintf(out, "  ... %zu more function%s (--top %zu shows all)\n", kept - shown,
                kept - shown == 1 ? "" : "s", kept);
    /* the top allocator: the largest self figure of the ranked metric */
    const struct pr_mem_function *top = NULL;
    for (size_t i = 0; i < n; i++)
        if (m->functions[i].self[sort] > 0 &&
            (!top || m->functions[i].self[sort] > top->self[sort]))
            top = &m->functions[i];
    if (top) {
        char v[32], src[512];
        mem_format_bytes((double)top->self[sort], v, sizeof v);
        format_mem_source(top, src, sizeof src);
        double of = (double)m->total[sort];
        fprintf(out,
                "\n%sTop allocator:%s %s\n  %s (%.2f %%) of the %s in the function itself, %s\n",
                st->yellow, st->reset, top->name, v,
                of > 0 ? (double)top->self[sort] * 100 / of : 0.0, mem_metric_label(sort), src);
    } else {
        fprintf(out, "\nNo %s.\n", mem_metric_label(sort));
    }
    free(name);
    free(rows);
}
