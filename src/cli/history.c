/* history.c — `profreg history`: append a record of runs to a history file, and print the
 * series per commit with the points where they stepped. */
#include "cli.h"

#include "profreg/history.h"
#include "profreg/timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SELECTED 16
#define DEFAULT_TOP  20
#define MIN_STEP     0.02 /* a change point moves its series by at least 2 % */

void usage_history(FILE *out)
{
    fprintf(out,
            "usage: profreg history FILE... [--executable NAME] [--function RE]...\n"
            "                       [--format table|csv|json]\n"
            "       profreg history append FILE --executable NAME [--commit SHA]\n"
            "                       [--branch NAME] [--dirty yes|no] [--date ISO] [--top N]\n"
            "                       PROFILE...\n"
            "\n"
            "append   averages the profiles (one CI invocation's runs) and appends one line to\n"
            "         FILE: commit, date, branch, dirty, runs, median and spread of wall time,\n"
            "         CPU time and peak memory, the shares of the top N functions by total\n"
            "         and by self share (default 20)\n"
            "(show)   reads the history files (lines in order; a bad line, or one of another\n"
            "         executable, is skipped with a line on stderr), prints one row per record\n"
            "         with wall time, CPU time, peak memory and the chosen functions' total\n"
            "         shares, and the change points: where a series stepped (a significant\n"
            "         step of at least 2 %%, found by binary segmentation)\n"
            "\n"
            "  --executable NAME  the program's records (default: the last record's)\n"
            "  --function RE      functions to follow (POSIX extended, repeatable; default:\n"
            "                     the three largest self shares of the last record)\n"
            "  --format F         table (default), csv, or json (records and change_points)\n"
            "\n"
            "Exit: 0 ok, 2 usage error, or no usable record.\n");
}

/* ---- append -------------------------------------------------------------------------------- */

static int history_append(int argc, char **argv)
{
    struct hist_record rec = {0};
    rec.dirty = -1;
    const char *exe = NULL, *commit = NULL, *branch = NULL, *date = NULL;
    unsigned long top = DEFAULT_TOP;
    static const struct option opts[] = {{"executable", required_argument, NULL, 'e'},
                                         {"commit", required_argument, NULL, 'c'},
                                         {"branch", required_argument, NULL, 'b'},
                                         {"dirty", required_argument, NULL, 'd'},
                                         {"date", required_argument, NULL, 't'},
                                         {"top", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            exe = optarg;
            break;
        case 'c':
            commit = optarg;
            break;
        case 'b':
            branch = optarg;
            break;
        case 't':
            date = optarg;
            break;
        case 'd':
            if (strcmp(optarg, "yes") == 0 || strcmp(optarg, "no") == 0)
                rec.dirty = strcmp(optarg, "yes") == 0;
            else if (strcmp(optarg, "unknown") != 0) {
                cli_error("--dirty: '%s' is not yes, no or unknown", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'n':
            if (cli_parse_uint("--top", optarg, 1, 1000, &top) != 0)
                return EXIT_USAGE;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind + 2 > argc || !exe || !*exe) {
        cli_error("history append needs FILE, --executable NAME and at least one profile");
        return EXIT_USAGE;
    }
    const char *file = argv[optind];
    struct load_opts lo = {true, INLINES_FOLD, false};
    struct runs runs;
    if (runs_load_files((const char *const *)argv + optind + 1, (size_t)(argc - optind - 1), &lo,
                        &runs) != 0)
        return EXIT_USAGE;
    char now[32];
    time_format_iso((double)time(NULL), now, sizeof now);
    int rc = EXIT_USAGE;
    if (!(rec.executable = strdup(exe)) || (commit && !(rec.commit = strdup(commit))) ||
        (branch && !(rec.branch = strdup(branch))) || !(rec.date = strdup(date ? date : now)) ||
        history_record_from_avg(&rec, &runs.avg, top) != 0) {
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
    FILE *f = fopen(file, "a");
    if (!f || fwrite(line, 1, len, f) != len || fclose(f) != 0) {
        cli_error("%s: %s", file, strerror(errno));
        free(line);
        goto out;
    }
    free(line);
    printf("profreg history: appended %s (%u run%s) to %s\n", commit ? commit : "a record",
           rec.runs, rec.runs == 1 ? "" : "s", file);
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
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
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
            fprintf(stderr, "profreg history: %s:%lu: %s; line skipped\n", path, lineno, err);
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

/* A series of the history: a whole-run metric or a function's total share. */
struct series {
    const char *metric;   /* "wall_time_ms", "cpu_time_ms", "peak_rss_kb", "total_percentage" */
    const char *function; /* for total_percentage */
    double *v;
};

static void describe(FILE *out, const struct series *s, const struct hist_record *at,
                     const struct change_point *cp)
{
    char c[16];
    double rel = cp->before != 0 ? (cp->after - cp->before) / cp->before * 100 : NAN;
    if (s->function)
        fprintf(out, "%s %.2f -> %.2f %% (%+.0f %%) at %s\n", s->function, cp->before, cp->after,
                rel, short_commit(at, c, sizeof c));
    else if (strcmp(s->metric, "peak_rss_kb") == 0)
        fprintf(out, "peak memory %+.0f %% at %s (from %.1f MB to %.1f MB)\n", rel,
                short_commit(at, c, sizeof c), cp->before / 1024, cp->after / 1024);
    else
        fprintf(out, "%s %+.0f %% at %s (from %.3f s to %.3f s)\n",
                strcmp(s->metric, "wall_time_ms") == 0 ? "wall time" : "CPU time", rel,
                short_commit(at, c, sizeof c), cp->before / 1000, cp->after / 1000);
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

int cmd_history(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "append") == 0)
        return history_append(argc - 1, argv + 1);
    const char *exe = NULL, *format = "table";
    const char *res[MAX_SELECTED];
    size_t nres = 0;
    static const struct option opts[] = {{"executable", required_argument, NULL, 'e'},
                                         {"function", required_argument, NULL, 'f'},
                                         {"format", required_argument, NULL, 'F'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            exe = optarg;
            break;
        case 'f':
            if (nres == MAX_SELECTED) {
                cli_error("--function: at most %d", MAX_SELECTED);
                return EXIT_USAGE;
            }
            res[nres++] = optarg;
            break;
        case 'F':
            if (strcmp(optarg, "table") != 0 && strcmp(optarg, "csv") != 0 &&
                strcmp(optarg, "json") != 0) {
                cli_error("--format: '%s' is not table, csv or json", optarg);
                return EXIT_USAGE;
            }
            format = optarg;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("history needs at least one history FILE");
        return EXIT_USAGE;
    }
    regex_t rx[MAX_SELECTED];
    for (size_t i = 0; i < nres; i++) {
        if (regcomp(&rx[i], res[i], REG_EXTENDED | REG_NOSUB) != 0) {
            cli_error("--function: '%s' is not a POSIX extended regular expression", res[i]);
            for (size_t k = 0; k < i; k++)
                regfree(&rx[k]);
            return EXIT_USAGE;
        }
    }
    struct records all = {0};
    size_t bad = 0;
    int rc = EXIT_USAGE;
    for (int i = optind; i < argc; i++)
        if (read_file(argv[i], &all, &bad) != 0)
            goto out;
    if (!exe && all.n > 0)
        exe = all.r[all.n - 1].executable;
    /* the executable's records, in order */
    struct hist_record **recs = calloc(all.n + 1, sizeof *recs);
    size_t n = 0;
    for (size_t i = 0; recs && i < all.n; i++) {
        if (strcmp(all.r[i].executable, exe) == 0)
            recs[n++] = &all.r[i];
        else
            fprintf(stderr, "profreg history: a record of %s (not %s) skipped\n",
                    all.r[i].executable, exe);
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
    struct series s[3 + MAX_SELECTED];
    size_t ns = 0;
    const char *metrics[3] = {"wall_time_ms", "cpu_time_ms", "peak_rss_kb"};
    for (int k = 0; k < 3; k++)
        s[ns++] = (struct series){metrics[k], NULL, calloc(n, sizeof(double))};
    for (size_t k = 0; k < nnames; k++)
        s[ns++] = (struct series){"total_percentage", names[k], calloc(n, sizeof(double))};
    for (size_t k = 0; k < ns; k++) {
        if (!s[k].v) {
            cli_error("out of memory");
            for (size_t j = 0; j < ns; j++)
                free(s[j].v);
            free(recs);
            goto out;
        }
        for (size_t r = 0; r < n; r++)
            s[k].v[r] = k == 0   ? recs[r]->wall_ms
                        : k == 1 ? recs[r]->cpu_ms
                        : k == 2 ? recs[r]->rss_kb
                                 : fn_total(recs[r], s[k].function);
    }
    struct change_point cps[3 + MAX_SELECTED][32];
    size_t ncp[3 + MAX_SELECTED];
    for (size_t k = 0; k < ns; k++)
        ncp[k] = history_change_points(s[k].v, n, MIN_STEP, cps[k], 32);

    char cbuf[16];
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
                if (s[k].function) {
                    json_str(stdout, s[k].function);
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
            printf(",\"");
            for (const char *p = s[k].function; *p; p++)
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
        printf("profreg history: %s, %zu record%s\n\n", exe, n, n == 1 ? "" : "s");
        printf("%-8s  %-20s %4s %10s %10s %9s", "commit", "date", "runs", "wall s", "CPU s",
               "peak MB");
        for (size_t k = 3; k < ns; k++)
            printf("  f%zu %%  ", k - 2);
        printf("\n");
        for (size_t r = 0; r < n; r++) {
            printf("%-8s  %-20.20s %4u %10.3f %10.3f %9.1f",
                   short_commit(recs[r], cbuf, sizeof cbuf), recs[r]->date ? recs[r]->date : "-",
                   recs[r]->runs, recs[r]->wall_ms / 1000, recs[r]->cpu_ms / 1000,
                   recs[r]->rss_kb / 1024);
            for (size_t k = 3; k < ns; k++)
                printf(" %7.2f ", s[k].v[r]);
            printf("\n");
        }
        for (size_t k = 3; k < ns; k++)
            printf("f%zu: %s\n", k - 2, s[k].function);
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
    for (size_t i = 0; i < nres; i++)
        regfree(&rx[i]);
    for (size_t i = 0; i < all.n; i++)
        history_record_free(&all.r[i]);
    free(all.r);
    return rc;
}
