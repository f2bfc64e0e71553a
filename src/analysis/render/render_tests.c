/* SPDX-License-Identifier: MIT */
/* render_tests.c — per-test attribution as text (console tables, report JSON section,
 * Markdown). Output only: recognition and verdicts are testattr.c's. */
#include "analysis/render/render_tests.h"

#include "analysis/render/render_compare.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCT_DECIMALS 4

static void pad(FILE *out, const char *s, size_t width)
{
    fputs(s, out);
    for (size_t w = term_text_width(s); w < width; w++)
        fputc(' ', out);
}

/* Width of the name column: the longest name, within what the line leaves. */
static size_t name_cols(const char *const *names, size_t n, int width, size_t fixed)
{
    size_t longest = 4, room = width > (int)fixed + 20 ? (size_t)width - fixed : 20;
    for (size_t i = 0; i < n; i++) {
        size_t w = term_escaped_width(names[i]);
        if (w > longest)
            longest = w;
    }
    return longest < room ? longest : room;
}

static const char *kind_label(enum test_kind k)
{
    return k == TEST_KIND_NONE ? "-" : test_kind_name(k);
}

/* Tests in the order printed: recognised ones as ranked, the outside last. */
static size_t report_order(const struct test_profile *t, const struct test_stat **rows)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ntests; i++)
        if (t->tests[i].kind != TEST_KIND_NONE)
            rows[n++] = &t->tests[i];
    for (size_t i = 0; i < t->ntests; i++)
        if (t->tests[i].kind == TEST_KIND_NONE)
            rows[n++] = &t->tests[i];
    return n;
}

void render_tests_report(FILE *out, const struct test_profile *t, size_t nfiles,
                         const struct term_style *s, int width)
{
    size_t counts[4] = {0};
    for (size_t i = 0; i < t->ntests; i++)
        counts[t->tests[i].kind]++;
    fprintf(out, "%sTests%s in %zu profile%s", s->blue, s->reset, nfiles, nfiles == 1 ? "" : "s");
    if (t->runs_without_stacks)
        fprintf(out, " (%u without stacks, left out)", t->runs_without_stacks);
    fputc('\n', out);
    if (!test_profile_has_tests(t)) {
        fprintf(out, "  no tests recognised (gtest, Google Benchmark and Catch2 test frames; "
                     "see docs/formats.md)\n");
        return;
    }
    fprintf(out,
            "  %zu gtest, %zu benchmark, %zu catch2; CPU ms = share x each profile's CPU time\n",
            counts[TEST_KIND_GTEST], counts[TEST_KIND_BENCHMARK], counts[TEST_KIND_CATCH2]);
    const struct test_stat **rows = malloc(t->ntests * sizeof *rows);
    const char **names = malloc(t->ntests * sizeof *names);
    if (!rows || !names) {
        free(rows);
        free(names);
        return;
    }
    size_t n = report_order(t, rows);
    for (size_t i = 0; i < n; i++)
        names[i] = rows[i]->name;
    bool several = nfiles > 1;
    size_t cols = name_cols(names, n, width, several ? 62 : 38);
    fprintf(out, "\n%s%4s  ", s->blue, "Rank");
    pad(out, "Test", cols);
    fprintf(out, "  %-9s  %7s  %10s", "Kind", "Share %", "CPU ms");
    if (several)
        fprintf(out, "  %10s  %9s", "ms/profile", "sd");
    fprintf(out, "%s\n", s->reset);
    size_t buflen = 0;
    for (size_t i = 0; i < n; i++)
        if (TERM_SHORTEN_LEN(names[i]) > buflen)
            buflen = TERM_SHORTEN_LEN(names[i]);
    char *buf = malloc(buflen);
    for (size_t i = 0; buf && i < n; i++) {
        const struct test_stat *r = rows[i];
        double share = t->total_samples > 0 ? r->samples / t->total_samples * 100 : 0;
        term_shorten_name(r->name, cols, buf, buflen);
        if (r->kind == TEST_KIND_NONE)
            fprintf(out, "%4s  ", "");
        else
            fprintf(out, "%4zu  ", i + 1);
        pad(out, buf, cols);
        fprintf(out, "  %-9s  %7.2f  %10.1f", kind_label(r->kind), share, r->mean_ms * t->runs);
        if (several)
            fprintf(out, "  %10.1f  %9.1f", r->mean_ms, r->sd_ms);
        fputc('\n', out);
    }
    free(buf);
    free(rows);
    free(names);
}

static void format_ms(char *buf, size_t len, double mean, double sd)
{
    if (isnan(mean))
        snprintf(buf, len, "-");
    else if (isnan(sd))
        snprintf(buf, len, "%.1f", mean);
    else
        snprintf(buf, len, "%.1f ±%.1f", mean, sd);
}

/* Rows the console and the Markdown summary show: the first TESTS_SHOWN tests (heaviest
 * first) and every regressed one; a suite of a thousand tests is in the report JSON whole. */
#define TESTS_SHOWN 20
static bool test_shown(const struct judged_test *jt, size_t i)
{
    return i < TESTS_SHOWN || jt->status == TEST_STATUS_REGRESSION;
}

static size_t tests_hidden(const struct test_judgement *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ntests; i++)
        n += !test_shown(&t->tests[i], i);
    return n;
}

static const char *status_color(const struct term_style *s, enum test_status st)
{
    return st == TEST_STATUS_REGRESSION ? s->red : st == TEST_STATUS_PASS ? s->green : s->yellow;
}

void render_tests_table(FILE *out, const struct test_judgement *t, const struct term_style *s,
                        int width)
{
    const struct test_judge_options *o = &t->options;
    fprintf(out,
            "\n%sTests%s (mean CPU ms per run; regression: +%.4g %% or more, at least %.4g "
            "%% of the run, %.4g %% confidence; %s)\n",
            s->blue, s->reset, o->threshold_percent, o->min_delta, o->confidence,
            o->fail ? "fails --strict (--fail-on-test-time)" : "reported only");
    bool any = false;
    for (size_t i = 0; i < t->ntests; i++)
        any = any || t->tests[i].kind != TEST_KIND_NONE;
    if (!any) {
        fprintf(out, "  no tests recognised\n");
    } else {
        const char **names = malloc(t->ntests * sizeof *names);
        if (!names)
            return;
        for (size_t i = 0; i < t->ntests; i++)
            names[i] = t->tests[i].name;
        size_t cols = name_cols(names, t->ntests, width, 84);
        fprintf(out, "%s  ", s->blue);
        pad(out, "Test", cols);
        fprintf(out, "  %-9s  %16s  %16s  %9s  %8s  %s%s\n", "Kind", "Current ms", "Baseline ms",
                "Diff", "p", "Status", s->reset);
        size_t buflen = 8;
        for (size_t i = 0; i < t->ntests; i++)
            if (TERM_SHORTEN_LEN(names[i]) > buflen)
                buflen = TERM_SHORTEN_LEN(names[i]);
        char *buf = malloc(buflen);
        for (size_t i = 0; buf && i < t->ntests; i++) {
            const struct judged_test *jt = &t->tests[i];
            if (!test_shown(jt, i))
                continue;
            char cur[64], base[64], diff[32], p[32];
            format_ms(cur, sizeof cur, jt->current_ms, jt->current_sd);
            format_ms(base, sizeof base, jt->baseline_ms, jt->baseline_sd);
            if (isnan(jt->diff_percent))
                snprintf(diff, sizeof diff, "%s",
                         isnan(jt->current_ms)    ? "gone"
                         : isnan(jt->baseline_ms) ? "new"
                                                  : "n/a");
            else
                snprintf(diff, sizeof diff, "%+.1f %%", jt->diff_percent);
            render_format_p(jt->p_value, p, sizeof p);
            term_shorten_name(jt->name, cols, buf, buflen);
            fprintf(out, "  ");
            pad(out, buf, cols);
            fprintf(out, "  %-9s  %16s  %16s  %9s  %8s  %s%s%s\n", kind_label(jt->kind), cur, base,
                    diff, p, status_color(s, jt->status), test_status_name(jt->status), s->reset);
        }
        free(buf);
        free(names);
        if (tests_hidden(t))
            fprintf(out, "  ... %zu more tests (all of them in the report JSON)\n",
                    tests_hidden(t));
        fprintf(out, "  %zu test%s: %zu passed, %zu regressed, %zu not judged\n", t->ntests,
                t->ntests == 1 ? "" : "s", t->passed, t->regressed, t->not_judged);
    }
    for (size_t i = 0; i < t->nfunctions; i++) {
        const struct function_tests *f = &t->functions[i];
        if (i == 0)
            fprintf(out, "\n%sRegressed functions, by test%s (where their time grew most)\n",
                    s->blue, s->reset);
        fprintf(out, "  %s", s->red);
        term_put(out, f->function, SIZE_MAX);
        fprintf(out, "%s:", s->reset);
        if (!f->tracked)
            fprintf(out, " not among the functions tracked per test\n");
        else if (f->ntop == 0)
            fprintf(out, " its time grew in no test (it grew outside them, or only in share)\n");
        else
            fputc('\n', out);
        for (size_t k = 0; k < f->ntop; k++) {
            fputs("      ", out);
            term_put(out, f->top[k].test, SIZE_MAX);
            fprintf(out, "  +%.1f ms (%.1f -> %.1f ms)\n", f->top[k].growth_ms,
                    f->top[k].baseline_ms, f->top[k].current_ms);
        }
    }
    for (unsigned bit = 0; bit < TEST_NOTES; bit++)
        if (t->notes & (1u << bit))
            fprintf(out, "  %snote:%s %s\n", s->yellow, s->reset, test_note_text(1u << bit));
}

void render_tests_json(struct jw *w, const struct test_judgement *t)
{
    if (!t)
        return;
    const struct test_judge_options *o = &t->options;
    jw_key(w, "tests");
    jw_object_begin(w);
    jw_key_double(w, "threshold_percent", o->threshold_percent, 6);
    jw_key_double(w, "min_delta", o->min_delta, 6);
    jw_key_double(w, "confidence", o->confidence, 6);
    jw_key(w, "fail_on_test_time");
    jw_bool(w, o->fail);
    jw_key(w, "passed");
    jw_uint(w, t->passed);
    jw_key(w, "regressed");
    jw_uint(w, t->regressed);
    jw_key(w, "not_judged");
    jw_uint(w, t->not_judged);
    jw_key(w, "verdict");
    jw_string(w, test_judgement_failed(t) ? "REGRESSION" : "PASS");
    jw_key(w, "tests");
    jw_array_begin(w);
    for (size_t i = 0; i < t->ntests; i++) {
        const struct judged_test *jt = &t->tests[i];
        jw_object_begin(w);
        jw_key(w, "name");
        jw_string(w, jt->name);
        jw_key(w, "kind");
        jw_string(w, test_kind_name(jt->kind));
        jw_key_double(w, "current_mean_ms", jt->current_ms, 3);
        jw_key_double(w, "current_sd_ms", jt->current_sd, 3);
        jw_key_double(w, "baseline_mean_ms", jt->baseline_ms, 3);
        jw_key_double(w, "baseline_sd_ms", jt->baseline_sd, 3);
        jw_key_double(w, "current_share", jt->current_share, PCT_DECIMALS);
        jw_key_double(w, "baseline_share", jt->baseline_share, PCT_DECIMALS);
        jw_key(w, "current_runs");
        jw_uint(w, jt->current_runs);
        jw_key(w, "baseline_runs");
        jw_uint(w, jt->baseline_runs);
        jw_key_double(w, "diff_percent", jt->diff_percent, PCT_DECIMALS);
        jw_key_double(w, "delta_ms", jt->delta_ms, 3);
        jw_key_double(w, "p_value", jt->p_value, 6);
        jw_key(w, "test");
        jw_string(w, isnan(jt->p_value) ? "none" : "welch");
        jw_key(w, "checks");
        jw_object_begin_inline(w);
        jw_key(w, "threshold");
        jw_bool(w, jt->over_threshold);
        jw_key(w, "min_delta");
        jw_bool(w, jt->moved_enough);
        jw_key(w, "significant");
        jw_bool(w, jt->significant);
        jw_object_end(w);
        jw_key(w, "status");
        jw_string(w, test_status_name(jt->status));
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "functions");
    jw_array_begin(w);
    for (size_t i = 0; i < t->nfunctions; i++) {
        const struct function_tests *f = &t->functions[i];
        jw_object_begin(w);
        jw_key(w, "name");
        jw_string(w, f->function);
        jw_key(w, "tracked");
        jw_bool(w, f->tracked);
        jw_key(w, "tests");
        jw_array_begin(w);
        for (size_t k = 0; k < f->ntop; k++) {
            jw_object_begin_inline(w);
            jw_key(w, "name");
            jw_string(w, f->top[k].test);
            jw_key_double(w, "current_ms", f->top[k].current_ms, 3);
            jw_key_double(w, "baseline_ms", f->top[k].baseline_ms, 3);
            jw_key_double(w, "growth_ms", f->top[k].growth_ms, 3);
            jw_object_end(w);
        }
        jw_array_end(w);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "notes");
    jw_array_begin(w);
    for (unsigned bit = 0; bit < TEST_NOTES; bit++)
        if (t->notes & (1u << bit))
            jw_string(w, test_note_text(1u << bit));
    jw_array_end(w);
    jw_object_end(w);
}

static void md_ms(FILE *out, double mean, double sd)
{
    if (isnan(mean))
        fprintf(out, "–");
    else if (isnan(sd))
        fprintf(out, "%.1f", mean);
    else
        fprintf(out, "%.1f ± %.1f", mean, sd);
}

void render_tests_markdown(FILE *out, const struct test_judgement *t)
{
    if (!t)
        return;
    bool any = false;
    for (size_t i = 0; i < t->ntests; i++)
        any = any || t->tests[i].kind != TEST_KIND_NONE;
    fprintf(out, "\n#### Tests (mean CPU ms per run)\n\n");
    if (!any) {
        fprintf(out, "No tests recognised.\n");
        return;
    }
    fprintf(out,
            "%zu passed, %zu regressed, %zu not judged; a test regressed when its time grew "
            "by more than %.4g %%, by at least %.4g %% of the run, at %.4g %% confidence "
            "(%s).\n\n",
            t->passed, t->regressed, t->not_judged, t->options.threshold_percent,
            t->options.min_delta, t->options.confidence,
            t->options.fail ? "fails `--strict`" : "reported only");
    fprintf(out, "| Test | Kind | Current ms | Baseline ms | Diff | p-value | Status |\n");
    fprintf(out, "|---|---|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < t->ntests; i++) {
        const struct judged_test *jt = &t->tests[i];
        if (!test_shown(jt, i))
            continue;
        char p[32];
        render_format_p(jt->p_value, p, sizeof p);
        fprintf(out, "| ");
        render_md_code(out, jt->name);
        fprintf(out, " | %s | ", kind_label(jt->kind));
        md_ms(out, jt->current_ms, jt->current_sd);
        fprintf(out, " | ");
        md_ms(out, jt->baseline_ms, jt->baseline_sd);
        if (isnan(jt->diff_percent))
            fprintf(out, " | %s",
                    isnan(jt->current_ms)    ? "gone"
                    : isnan(jt->baseline_ms) ? "new"
                                             : "n/a");
        else
            fprintf(out, " | %+.1f %%", jt->diff_percent);
        fprintf(out, " | %s | %s |\n", p,
                jt->status == TEST_STATUS_REGRESSION ? "**REGRESSION**"
                                                     : test_status_name(jt->status));
    }
    if (tests_hidden(t))
        fprintf(out, "\n%zu more tests are in `comparison.json`.\n", tests_hidden(t));
    for (size_t i = 0; i < t->nfunctions; i++) {
        const struct function_tests *f = &t->functions[i];
        if (i == 0)
            fprintf(out, "\n**Regressed functions, by test** (where their time grew most)\n\n");
        fprintf(out, "- ");
        render_md_code(out, f->function);
        if (!f->tracked)
            fprintf(out, ": not among the functions tracked per test");
        else if (f->ntop == 0)
            fprintf(out, ": its time grew in no test");
        for (size_t k = 0; k < f->ntop; k++) {
            fprintf(out, "%s", k ? ", " : ": ");
            render_md_code(out, f->top[k].test);
            fprintf(out, " +%.1f ms (%.1f → %.1f)", f->top[k].growth_ms, f->top[k].baseline_ms,
                    f->top[k].current_ms);
        }
        fputc('\n', out);
    }
    for (unsigned bit = 0; bit < TEST_NOTES; bit++)
        if (t->notes & (1u << bit))
            fprintf(out, "\n> Note: %s\n", test_note_text(1u << bit));
}
