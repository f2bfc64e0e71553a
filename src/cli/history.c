/* SPDX-License-Identifier: MIT */
/* history.c — `profreg history`: append a record of runs to a history file, and print the
 * series per commit with the points where they stepped. */
#include "cli.h"

#include "analysis/read/baseline.h"
#include "core/fsutil.h"
#include "analysis/read/history.h"
#include "analysis/render/term.h"
#include "analysis/read/timeutil.h"
#include "core/utf8.h"
#include "analysis/render/xml.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SELECTED 16
#define MAX_SERIES   (3 + 2 * MAX_SELECTED) /* metrics, functions, tests */
#define DEFAULT_TOP  20
#define MIN_STEP     0.02 /* a change point moves its series by at least 2 % */

struct append_args {
    const char *executable, *commit, *branch, *date;
    int dirty; /* 1 yes, 0 no, -1 unknown */
    unsigned long top;
};

static int opt_dirty(void *field, const char *value)
{
    int *dirty = field;
    if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
        *dirty = strcmp(value, "yes") == 0;
    } else if (strcmp(value, "unknown") != 0) {
        cli_usage_error("--dirty: '%s' is not yes, no or unknown", value);
        return -1;
    }
    return 0;
}

static const struct cli_opt append_opts[] = {
    CLI_OPT_STRING("executable", 0, "NAME", struct append_args, executable, 0,
                   "the program the runs are of (required)"),
    CLI_OPT_STRING("commit", 0, "SHA", struct append_args, commit, 0, "the commit they ran at"),
    CLI_OPT_STRING("branch", 0, "NAME", struct append_args, branch, 0, "its branch"),
    CLI_OPT_CALL("dirty", 0, "yes|no|unknown", struct append_args, dirty, opt_dirty, 0,
                 "whether the working tree had uncommitted changes (default: unknown)"),
    CLI_OPT_STRING("date", 0, "ISO", struct append_args, date, 0,
                   "the record's date (default: now)"),
    CLI_OPT_UINT("top", 0, "N", struct append_args, top, 1, 1000,
                 "functions kept by total and by self share (default 20)"),
    CLI_OPT_END,
};

static int run_history_append(int argc, char **argv);

static const struct cli_command cli_history_append = {
    .name = "history append",
    .usage = "FILE --executable NAME [OPTIONS] PROFILE...",
    .opts = append_opts,
    .run = run_history_append,
};

struct show_args {
    const char *executable, *format, *output, *baseline;
    const char *res[MAX_SELECTED], *tres[MAX_SELECTED]; /* --function, --test */
    size_t nres, ntres;
};

static int opt_function(void *args, const char *value)
{
    struct show_args *a = args;
    if (a->nres == MAX_SELECTED) {
        cli_usage_error("--function: at most %d", MAX_SELECTED);
        return -1;
    }
    a->res[a->nres++] = value;
    return 0;
}

static int opt_test(void *args, const char *value)
{
    struct show_args *a = args;
    if (a->ntres == MAX_SELECTED) {
        cli_usage_error("--test: at most %d", MAX_SELECTED);
        return -1;
    }
    a->tres[a->ntres++] = value;
    return 0;
}

static int opt_format(void *field, const char *value)
{
    if (strcmp(value, "table") != 0 && strcmp(value, "csv") != 0 && strcmp(value, "json") != 0) {
        cli_usage_error("--format: '%s' is not table, csv or json", value);
        return -1;
    }
    *(const char **)field = value;
    return 0;
}

static const struct cli_opt show_opts[] = {
    CLI_OPT_STRING("executable", 0, "NAME", struct show_args, executable, 0,
                   "the program's records (default: the last record's)"),
    CLI_OPT_HANDLER("function", 0, "RE", opt_function, 0,
                    "functions to follow (POSIX extended, repeatable; default: the three largest "
                    "self shares of the last record)"),
    CLI_OPT_HANDLER("test", 0, "RE", opt_test, 0,
                    "tests whose CPU time to follow too (POSIX extended, repeatable)"),
    CLI_OPT_CALL("format", 0, "table|csv|json", struct show_args, format, opt_format, 0,
                 "table (default), csv, or json (records and change_points)"),
    CLI_OPT_STRING("output", 'o', "FILE", struct show_args, output, 0,
                   "also write a self-contained chart (FILE.svg, or FILE.html holding it): one "
                   "panel per series, hover a point for its commit and value, change points "
                   "marked (red: up, green: down)"),
    CLI_OPT_STRING("baseline", 0, "FILE", struct show_args, baseline, 0,
                   "draw that baseline's level in each panel"),
    CLI_OPT_END,
};

static int run_history(int argc, char **argv);

const struct cli_command cli_history = {
    .name = "history",
    .summary = "record runs per commit, and show the series and their steps",
    .usage = "[OPTIONS] FILE...",
    .about = "append   averages the profiles (one CI invocation's runs) and appends one line to\n"
             "         FILE: commit, date, branch, dirty, runs, median and spread of wall time,\n"
             "         CPU time and peak memory, the shares of the top N functions by total\n"
             "         and by self share (default 20), and the CPU time of the 50 heaviest\n"
             "         tests when the runs are of a gtest, Google Benchmark or Catch2 program\n"
             "(show)   reads the history files (lines in order; a bad line, or one of another\n"
             "         executable, is skipped with a line on stderr), prints one row per record\n"
             "         with wall time, CPU time, peak memory and the chosen functions' total\n"
             "         shares, and the change points: where a series stepped (a significant\n"
             "         step of at least 2 %, found by binary segmentation)\n",
    .opts = show_opts,
    .footer = "Exit: 0 ok, 2 usage error, or no usable record.\n",
    .run = run_history,
    .form = &cli_history_append,
};

/* ---- append -------------------------------------------------------------------------------- */

static int history_append(const struct append_args *a, char **files, size_t nfiles)
{
    struct hist_record rec = {0};
    rec.dirty = a->dirty;
    const char *exe = a->executable, *commit = a->commit, *branch = a->branch, *date = a->date;
    unsigned long top = a->top;
    if (nfiles < 2 || !exe || !*exe) {
        cli_usage_error("history append needs FILE, --executable NAME and at least one profile");
        return EXIT_USAGE;
    }
    if (!valid_exe_name(exe)) { /* the name compare and baseline take for the same program */
        cli_usage_error("--executable: '%s' is not an executable name " EXE_NAME_RULE, exe);
        return EXIT_USAGE;
    }
    const char *file = files[0];
    struct load_opts lo = {.fold_clones = true, .inlines = INLINES_FOLD};
    struct runs runs;
    if (runs_load_files((const char *const *)files + 1, nfiles - 1, &lo, &runs) != 0)
        return EXIT_USAGE;
    char now[32];
    time_format_iso((double)time(NULL), now, sizeof now);
    int rc = EXIT_USAGE;
    if (!(rec.executable = strdup(exe)) || (commit && !(rec.commit = strdup(commit))) ||
        (branch && !(rec.branch = strdup(branch))) || !(rec.date = strdup(date ? date : now)) ||
        history_record_from_avg(&rec, &runs.avg, top) != 0 ||
        history_record_add_tests(&rec, &runs.tests, 50) != 0) {
        cli_error("out of memory");
        goto out;
    }
    /* one write of the whole line, appended: concurrent writers never interleave lines */
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    if (!mem || history_write_line(mem, &rec) != 0 || fclose(mem) != 0) {
        cli_error("out of memory");
        free(line);
        goto out;
    }
    /* O_NONBLOCK: a FIFO nobody reads is an error, not a hang */
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd >= 0)
        fcntl(fd, F_SETFL, O_APPEND);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!f || fwrite(line, 1, len, f) != len || fclose(f) != 0) {
        cli_error("%s: %s", file, errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
        if (!f && fd >= 0)
            close(fd);
        free(line);
        goto out;
    }
    free(line);
    fputs("profreg history: appended ", stdout);
    term_put(stdout, commit ? commit : "a record", SIZE_MAX);
    printf(" (%u run%s) to ", rec.runs, rec.runs == 1 ? "" : "s");
    term_put(stdout, file, SIZE_MAX);
    putchar('\n');
    rc = EXIT_OK;
out:
    history_record_free(&rec);
    runs_free(&runs);
    return rc;
}

/* ---- show ---------------------------------------------------------------------------------- */

struct records {
    struct hist_record *r;
    size_t n, cap;
};

/* Reads every line of path into recs (all executables); bad lines are skipped, said once each. */
static int read_file(const char *path, struct records *recs, size_t *bad)
{
    char err0[1024];
    FILE *f = fs_fopen_input(path, err0, sizeof err0);
    if (!f) {
        cli_error("%s", err0);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (recs->n == recs->cap) {
            size_t nc = recs->cap ? 2 * recs->cap : 64;
            struct hist_record *p = realloc(recs->r, nc * sizeof *p);
            if (!p) {
                cli_error("out of memory");
                break;
            }
            recs->r = p;
            recs->cap = nc;
        }
        char err[256];
        if (history_parse_line(line, (size_t)len, &recs->r[recs->n], err, sizeof err) != 0) {
            fputs("profreg history: ", stderr);
            term_put(stderr, path, SIZE_MAX);
            fprintf(stderr, ":%lu: ", lineno);
            term_put(stderr, err, SIZE_MAX);
            fputs("; line skipped\n", stderr);
            ++*bad;
            continue;
        }
        recs->n++;
    }
    free(line);
    fclose(f);
    return 0;
}

static double fn_total(const struct hist_record *r, const char *name)
{
    for (size_t i = 0; i < r->nfns; i++)
        if (strcmp(r->fns[i].name, name) == 0)
            return r->fns[i].total;
    return NAN;
}

static const char *short_commit(const struct hist_record *r, char *buf, size_t len)
{
    snprintf(buf, len, "%.8s", r->commit ? r->commit : "-");
    return buf;
}

/* A series of the history: a whole-run metric, a function's total share or a test's time. */
struct series {
    const char *metric;   /* "wall_time_ms", "cpu_time_ms", "peak_rss_kb", "total_percentage",
                             "test_cpu_ms" */
    const char *function; /* for total_percentage */
    const char *test;     /* for test_cpu_ms */
    double *v;
};

static double test_ms(const struct hist_record *r, const char *name)
{
    for (size_t i = 0; i < r->ntests; i++)
        if (strcmp(r->tests[i].name, name) == 0)
            return r->tests[i].ms;
    return NAN;
}

static void describe(FILE *out, const struct series *s, const struct hist_record *at,
                     const struct change_point *cp)
{
    const char *commit = at->commit ? at->commit : "-";
    double rel = cp->before != 0 ? (cp->after - cp->before) / cp->before * 100 : NAN;
    if (s->function) {
        term_put(out, s->function, SIZE_MAX);
        fprintf(out, " %.2f -> %.2f %% (%+.0f %%) at ", cp->before, cp->after, rel);
        term_put(out, commit, 8);
        fputc('\n', out);
    } else if (s->test) {
        fputs("test ", out);
        term_put(out, s->test, SIZE_MAX);
        fprintf(out, " %+.0f %% at ", rel);
        term_put(out, commit, 8);
        fprintf(out, " (from %.1f ms to %.1f ms)\n", cp->before, cp->after);
    } else if (strcmp(s->metric, "peak_rss_kb") == 0) {
        fprintf(out, "peak memory %+.0f %% at ", rel);
        term_put(out, commit, 8);
        fprintf(out, " (from %.1f MB to %.1f MB)\n", cp->before / 1024, cp->after / 1024);
    } else {
        fprintf(out, "%s %+.0f %% at ",
                strcmp(s->metric, "wall_time_ms") == 0 ? "wall time" : "CPU time", rel);
        term_put(out, commit, 8);
        fprintf(out, " (from %.3f s to %.3f s)\n", cp->before / 1000, cp->after / 1000);
    }
}

static void json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void json_num(FILE *out, double v)
{
    if (isnan(v))
        fputs("null", out);
    else
        fprintf(out, "%.4f", v);
}

/* ---- chart --------------------------------------------------------------------------------- */

#define CH_W     960.0
#define CH_LEFT  80.0
#define CH_RIGHT 30.0
#define CH_TOP   44.0
#define CH_PANEL 110.0
#define CH_GAP   34.0

struct chart {
    const struct series *s;
    size_t ns;
    struct hist_record *const *recs;
    size_t n;
    const struct change_point (*cps)[32];
    const size_t *ncp;
    const double *base; /* per series: the baseline's level, or NAN */
    const char *exe;
    bool html; /* the SVG goes inside an HTML page: no XML declaration */
};

static const char *series_label(const struct series *s, char *buf, size_t len)
{
    if (s->function)
        snprintf(buf, len, "%.*s (total %%)", (int)utf8_cut(s->function, 120), s->function);
    else if (s->test)
        snprintf(buf, len, "test %.*s (CPU ms)", (int)utf8_cut(s->test, 120), s->test);
    else
        snprintf(buf, len, "%s",
                 strcmp(s->metric, "wall_time_ms") == 0  ? "wall time (s)"
                 : strcmp(s->metric, "cpu_time_ms") == 0 ? "CPU time (s)"
                                                         : "peak memory (MB)");
    return buf;
}

/* Series values in display units (s, MB, %). */
static double shown(const struct series *s, double v)
{
    if (s->function || s->test)
        return v;
    return strcmp(s->metric, "peak_rss_kb") == 0 ? v / 1024 : v / 1000;
}

static int write_chart(FILE *f, void *ctx)
{
    const struct chart *c = ctx;
    double height = CH_TOP + (double)c->ns * (CH_PANEL + CH_GAP) + 30;
    double w = CH_W - CH_LEFT - CH_RIGHT;
    if (!c->html)
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"Verdana, sans-serif\" font-size=\"11\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
            "<text x=\"%.0f\" y=\"22\" font-size=\"15\">profreg history: ",
            CH_W, height, CH_W, height, CH_LEFT);
    xml_text(f, c->exe, 200, false);
    fprintf(f, " (%zu records)</text>\n", c->n);
    char label[256], cbuf[16];
    for (size_t k = 0; k < c->ns; k++) {
        const struct series *s = &c->s[k];
        double y0 = CH_TOP + (double)k * (CH_PANEL + CH_GAP);
        double lo = INFINITY, hi = -INFINITY;
        for (size_t r = 0; r < c->n; r++)
            if (!isnan(s->v[r])) {
                lo = fmin(lo, shown(s, s->v[r]));
                hi = fmax(hi, shown(s, s->v[r]));
            }
        if (!isnan(c->base[k])) {
            lo = fmin(lo, shown(s, c->base[k]));
            hi = fmax(hi, shown(s, c->base[k]));
        }
        if (!isfinite(lo)) {
            lo = 0;
            hi = 1;
        }
        double pad = hi > lo ? (hi - lo) * 0.1 : fmax(fabs(hi) * 0.05, 0.5);
        lo -= pad;
        hi += pad;
#define CY(v) (y0 + CH_PANEL - (shown(s, (v)) - lo) / (hi - lo) * CH_PANEL)
#define CX(i) (CH_LEFT + (c->n > 1 ? (double)(i)*w / (double)(c->n - 1) : w / 2))
        fprintf(f, "<g class=\"panel\">\n<text x=\"%.0f\" y=\"%.1f\">", CH_LEFT, y0 - 6);
        xml_text(f, series_label(s, label, sizeof label), sizeof label, false);
        fprintf(f,
                "</text>\n<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" "
                "fill=\"#f7f7f7\" stroke=\"#cccccc\"/>\n"
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n"
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                CH_LEFT, y0, w, CH_PANEL, CH_LEFT - 6, y0 + 10, hi, CH_LEFT - 6, y0 + CH_PANEL, lo);
        if (!isnan(c->base[k]))
            fprintf(f,
                    "<line class=\"baseline\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"#888888\" stroke-dasharray=\"6 4\"><title>baseline %.4g</title>"
                    "</line>\n",
                    CH_LEFT, CH_LEFT + w, CY(c->base[k]), CY(c->base[k]), shown(s, c->base[k]));
        for (size_t i = 0; i < c->ncp[k]; i++) {
            const struct change_point *cp = &c->cps[k][i];
            size_t at = cp->index;
            double x = at > 0 ? (CX(at - 1) + CX(at)) / 2 : CX(at);
            bool up = cp->after > cp->before;
            fprintf(f,
                    "<line class=\"change\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"4 3\"><title>",
                    x, x, y0, y0 + CH_PANEL, up ? "#d62728" : "#2ca02c");
            fprintf(f, "%s %.4g -&gt; %.4g at ", up ? "up" : "down", shown(s, cp->before),
                    shown(s, cp->after));
            xml_text(f, short_commit(c->recs[at], cbuf, sizeof cbuf), 16, false);
            fprintf(f, "</title></line>\n");
        }
        fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
        for (size_t r = 0; r < c->n; r++)
            if (!isnan(s->v[r]))
                fprintf(f, "%.1f,%.1f ", CX(r), CY(s->v[r]));
        fprintf(f, "\"/>\n");
        for (size_t r = 0; r < c->n; r++) {
            if (isnan(s->v[r]))
                continue;
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#1f77b4\"><title>", CX(r),
                    CY(s->v[r]));
            xml_text(f, c->recs[r]->commit ? c->recs[r]->commit : "-", 64, false);
            fputc(' ', f);
            xml_text(f, c->recs[r]->date ? c->recs[r]->date : "", 40, false);
            fprintf(f, ": %.4g</title></circle>\n", shown(s, s->v[r]));
        }
        fprintf(f, "</g>\n");
#undef CY
#undef CX
    }
    /* commits along the bottom, at most 20 */
    double yb = CH_TOP + (double)c->ns * (CH_PANEL + CH_GAP) - CH_GAP + 16;
    size_t step = c->n > 20 ? (c->n + 19) / 20 : 1;
    for (size_t r = 0; r < c->n; r += step) {
        double x = CH_LEFT + (c->n > 1 ? (double)r * w / (double)(c->n - 1) : w / 2);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9\">", x, yb);
        xml_text(f, short_commit(c->recs[r], cbuf, sizeof cbuf), 16, false);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
    return ferror(f) ? -1 : 0;
}

static int write_chart_html(FILE *f, void *ctx)
{
    const struct chart *c = ctx;
    /* polyglot: an HTML page that is also well-formed XML (checked with xmllint) */
    fprintf(f, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head>"
               "<meta charset=\"utf-8\"/><title>profreg history: ");
    xml_text(f, c->exe, 200, false);
    fprintf(f, "</title></head><body>\n");
    int rc = write_chart(f, ctx);
    fprintf(f, "</body></html>\n");
    return rc || ferror(f) ? -1 : 0;
}

static int history_show(const struct show_args *a, char **files, size_t nfiles)
{
    const char *exe = a->executable, *format = a->format, *chart_path = a->output,
               *baseline_path = a->baseline;
    const char *const *res = a->res, *const *tres = a->tres;
    size_t nres = a->nres, ntres = a->ntres;
    if (nfiles == 0) {
        cli_usage_error("history needs at least one history FILE");
        return EXIT_USAGE;
    }
    regex_t rx[2 * MAX_SELECTED]; /* --function ones, then --test ones */
    size_t nrx = 0;
    for (size_t i = 0; i < nres + ntres; i++) {
        const char *re = i < nres ? res[i] : tres[i - nres];
        if (regcomp(&rx[i], re, REG_EXTENDED | REG_NOSUB) != 0) {
            cli_usage_error("%s: '%s' is not a POSIX extended regular expression",
                      i < nres ? "--function" : "--test", re);
            for (size_t k = 0; k < i; k++)
                regfree(&rx[k]);
            return EXIT_USAGE;
        }
        nrx++;
    }
    struct records all = {0};
    size_t bad = 0;
    int rc = EXIT_USAGE;
    struct baseline base;
    bool have_base = false;
    if (chart_path) {
        const char *dot = strrchr(chart_path, '.');
        if (!dot || (strcmp(dot, ".svg") != 0 && strcmp(dot, ".html") != 0)) {
            cli_usage_error("-o: '%s' does not end in .svg or .html", chart_path);
            goto out;
        }
    }
    if (baseline_path) {
        char err[1024];
        baseline_init(&base);
        if (baseline_read_file(baseline_path, &base, err, sizeof err) != 0) {
            cli_error("%s", err);
            goto out;
        }
        have_base = true;
    }
    for (size_t i = 0; i < nfiles; i++)
        if (read_file(files[i], &all, &bad) != 0)
            goto out;
    if (!exe && all.n > 0)
        exe = all.r[all.n - 1].executable;
    /* the executable's records, in order */
    struct hist_record **recs = calloc(all.n + 1, sizeof *recs);
    size_t n = 0;
    for (size_t i = 0; recs && i < all.n; i++) {
        if (strcmp(all.r[i].executable, exe) == 0)
            recs[n++] = &all.r[i];
        else {
            fputs("profreg history: a record of ", stderr);
            term_put(stderr, all.r[i].executable, SIZE_MAX);
            fputs(" (not ", stderr);
            term_put(stderr, exe, SIZE_MAX);
            fputs(") skipped\n", stderr);
        }
    }
    if (n == 0) {
        cli_error("no usable history record%s%s%s", exe ? " of " : "", exe ? exe : "",
                  bad ? " (every line was bad)" : "");
        free(recs);
        goto out;
    }
    /* the functions followed */
    const char *names[MAX_SELECTED] = {0};
    size_t nnames = 0;
    const struct hist_record *last = recs[n - 1];
    if (nres == 0) {
        /* the three largest self shares of the last record */
        for (int k = 0; k < 3; k++) {
            const char *best = NULL;
            double bv = -1;
            for (size_t i = 0; i < last->nfns; i++) {
                bool taken = false;
                for (size_t j = 0; j < nnames; j++)
                    taken |= strcmp(names[j], last->fns[i].name) == 0;
                double v = isnan(last->fns[i].self) ? last->fns[i].total : last->fns[i].self;
                if (!taken && v > bv) {
                    bv = v;
                    best = last->fns[i].name;
                }
            }
            if (best)
                names[nnames++] = best;
        }
    } else {
        for (size_t r = 0; r < n && nnames < MAX_SELECTED; r++)
            for (size_t i = 0; i < recs[r]->nfns && nnames < MAX_SELECTED; i++) {
                const char *nm = recs[r]->fns[i].name;
                bool match = false, taken = false;
                for (size_t k = 0; k < nres; k++)
                    match |= regexec(&rx[k], nm, 0, NULL, 0) == 0;
                for (size_t j = 0; j < nnames; j++)
                    taken |= strcmp(names[j], nm) == 0;
                if (match && !taken)
                    names[nnames++] = nm;
            }
    }
    /* the tests followed: those matching --test, in order of first appearance */
    const char *tests[MAX_SELECTED] = {0};
    size_t ntests = 0;
    for (size_t r = 0; ntres && r < n && ntests < MAX_SELECTED; r++)
        for (size_t i = 0; i < recs[r]->ntests && ntests < MAX_SELECTED; i++) {
            const char *nm = recs[r]->tests[i].name;
            bool match = false, taken = false;
            for (size_t k = nres; k < nres + ntres; k++)
                match |= regexec(&rx[k], nm, 0, NULL, 0) == 0;
            for (size_t j = 0; j < ntests; j++)
                taken |= strcmp(tests[j], nm) == 0;
            if (match && !taken)
                tests[ntests++] = nm;
        }
    struct series s[MAX_SERIES];
    size_t ns = 0;
    const char *metrics[3] = {"wall_time_ms", "cpu_time_ms", "peak_rss_kb"};
    for (int k = 0; k < 3; k++)
        s[ns++] = (struct series){metrics[k], NULL, NULL, calloc(n, sizeof(double))};
    for (size_t k = 0; k < nnames; k++)
        s[ns++] = (struct series){"total_percentage", names[k], NULL, calloc(n, sizeof(double))};
    for (size_t k = 0; k < ntests; k++)
        s[ns++] = (struct series){"test_cpu_ms", NULL, tests[k], calloc(n, sizeof(double))};
    for (size_t k = 0; k < ns; k++) {
        if (!s[k].v) {
            cli_error("out of memory");
            for (size_t j = 0; j < ns; j++)
                free(s[j].v);
            free(recs);
            goto out;
        }
        for (size_t r = 0; r < n; r++)
            s[k].v[r] = k == 0          ? recs[r]->wall_ms
                        : k == 1        ? recs[r]->cpu_ms
                        : k == 2        ? recs[r]->rss_kb
                        : s[k].function ? fn_total(recs[r], s[k].function)
                                        : test_ms(recs[r], s[k].test);
    }
    struct change_point cps[MAX_SERIES][32];
    size_t ncp[MAX_SERIES];
    for (size_t k = 0; k < ns; k++)
        ncp[k] = history_change_points(s[k].v, n, MIN_STEP, cps[k], 32);
    if (chart_path) {
        double levels[MAX_SERIES];
        for (size_t k = 0; k < ns; k++) {
            levels[k] = NAN;
            if (!have_base)
                continue;
            if (k == 0)
                levels[k] = base.avg.wall_ms.median;
            else if (k == 1)
                levels[k] = base.avg.cpu_ms.median;
            else if (k == 2)
                levels[k] = base.avg.peak_rss_kb.median;
            else
                for (size_t i = 0; s[k].function && i < base.avg.nfunctions; i++)
                    if (strcmp(base.avg.functions[i].name, s[k].function) == 0)
                        levels[k] = isnan(base.avg.functions[i].mean_pct)
                                        ? base.avg.functions[i].avg_percentage
                                        : base.avg.functions[i].mean_pct;
        }
        bool html = strcmp(strrchr(chart_path, '.'), ".html") == 0;
        struct chart ch = {s,   ns,     recs, n,   (const struct change_point(*)[32])cps,
                           ncp, levels, exe,  html};
        char err[1024];
        if (fs_write_atomic(chart_path, false, html ? write_chart_html : write_chart, &ch, err,
                            sizeof err) != 0) {
            cli_error("%s", err);
            for (size_t k = 0; k < ns; k++)
                free(s[k].v);
            free(recs);
            goto out;
        }
    }

    if (strcmp(format, "json") == 0) {
        printf("{\"executable\": ");
        json_str(stdout, exe);
        printf(",\n \"records\": [");
        for (size_t r = 0; r < n; r++) {
            printf("%s\n  {\"commit\": ", r ? "," : "");
            json_str(stdout, recs[r]->commit);
            printf(", \"date\": ");
            json_str(stdout, recs[r]->date);
            printf(", \"runs\": %u", recs[r]->runs);
            for (size_t k = 0; k < ns; k++) {
                printf(", ");
                if (s[k].function || s[k].test) {
                    char key[1100];
                    snprintf(key, sizeof key, "%s%.1000s", s[k].test ? "test " : "",
                             s[k].function ? s[k].function : s[k].test);
                    json_str(stdout, key);
                    printf(": ");
                } else {
                    printf("\"%s\": ", s[k].metric);
                }
                json_num(stdout, s[k].v[r]);
            }
            printf("}");
        }
        printf("],\n \"change_points\": [");
        bool first = true;
        for (size_t k = 0; k < ns; k++)
            for (size_t i = 0; i < ncp[k]; i++) {
                printf("%s\n  {\"commit\": ", first ? "" : ",");
                first = false;
                json_str(stdout, recs[cps[k][i].index]->commit);
                printf(", \"metric\": \"%s\", \"function\": ", s[k].metric);
                json_str(stdout, s[k].function);
                printf(", \"test\": ");
                json_str(stdout, s[k].test);
                printf(", \"before\": ");
                json_num(stdout, cps[k][i].before);
                printf(", \"after\": ");
                json_num(stdout, cps[k][i].after);
                printf("}");
            }
        printf("]}\n");
    } else if (strcmp(format, "csv") == 0) {
        printf("commit,date,runs,wall_time_ms,cpu_time_ms,peak_rss_kb");
        for (size_t k = 3; k < ns; k++) {
            printf(",\"%s", s[k].test ? "test " : "");
            for (const char *p = s[k].function ? s[k].function : s[k].test; *p; p++)
                printf(*p == '"' ? "\"\"" : "%c", *p);
            printf("\"");
        }
        printf("\n");
        for (size_t r = 0; r < n; r++) {
            printf("%s,%s,%u", recs[r]->commit ? recs[r]->commit : "",
                   recs[r]->date ? recs[r]->date : "", recs[r]->runs);
            for (size_t k = 0; k < ns; k++) {
                if (isnan(s[k].v[r]))
                    printf(",");
                else
                    printf(",%.4f", s[k].v[r]);
            }
            printf("\n");
        }
    } else {
        fputs("profreg history: ", stdout);
        term_put(stdout, exe, SIZE_MAX);
        printf(", %zu record%s\n\n", n, n == 1 ? "" : "s");
        printf("%-8s  %-20s %4s %10s %10s %9s", "commit", "date", "runs", "wall s", "CPU s",
               "peak MB");
        for (size_t k = 3; k < ns; k++)
            printf(s[k].function ? "  f%zu %%  " : "  t%zu ms  ", k - 2);
        printf("\n");
        for (size_t r = 0; r < n; r++) {
            term_put_cell(stdout, recs[r]->commit ? recs[r]->commit : "-", 8);
            fputs("  ", stdout);
            term_put_cell(stdout, recs[r]->date ? recs[r]->date : "-", 20);
            printf(" %4u %10.3f %10.3f %9.1f", recs[r]->runs, recs[r]->wall_ms / 1000,
                   recs[r]->cpu_ms / 1000, recs[r]->rss_kb / 1024);
            for (size_t k = 3; k < ns; k++)
                printf(" %7.2f ", s[k].v[r]);
            printf("\n");
        }
        for (size_t k = 3; k < ns; k++) {
            printf("%c%zu: ", s[k].function ? 'f' : 't', k - 2);
            term_put(stdout, s[k].function ? s[k].function : s[k].test, SIZE_MAX);
            putchar('\n');
        }
        size_t total = 0;
        for (size_t k = 0; k < ns; k++)
            total += ncp[k];
        printf("\nChange points%s\n", total ? ":" : ": none (no series stepped)");
        for (size_t k = 0; k < ns; k++)
            for (size_t i = 0; i < ncp[k]; i++)
                describe(stdout, &s[k], recs[cps[k][i].index], &cps[k][i]);
    }
    for (size_t k = 0; k < ns; k++)
        free(s[k].v);
    free(recs);
    rc = EXIT_OK;
out:
    if (have_base)
        baseline_free(&base);
    for (size_t i = 0; i < nrx; i++)
        regfree(&rx[i]);
    for (size_t i = 0; i < all.n; i++)
        history_record_free(&all.r[i]);
    free(all.r);
    return rc;
}

static int run_history_append(int argc, char **argv)
{
    struct append_args a = {.dirty = -1, .top = DEFAULT_TOP};
    struct cli_operands ops;
    int rc = EXIT_USAGE;
    if (cli_parse(&cli_history_append, argc, argv, &a, &ops) == 0)
        rc = history_append(&a, ops.v, ops.n);
    cli_operands_free(&ops);
    return rc;
}

static int run_history(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "append") == 0)
        return run_history_append(argc - 1, argv + 1);
    struct show_args a = {.format = "table"};
    struct cli_operands ops;
    int rc = EXIT_USAGE;
    if (cli_parse(&cli_history, argc, argv, &a, &ops) == 0)
        rc = history_show(&a, ops.v, ops.n);
    cli_operands_free(&ops);
    return rc;
}
