/* SPDX-License-Identifier: MIT */
/* project.c — the project layout shared by compare and baseline: which executable, where its
 * runs, baseline and reports live, loading the newest runs, and writing a baseline.
 *
 * Invariant: nothing is created, changed or deleted until every input has been read and
 * validated; the only writes are the atomic baseline write and the caller's report. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/array.h"
#include "core/fsutil.h"
#include "analysis/read/gitinfo.h"
#include "analysis/read/profile_read.h"
#include "analysis/read/region.h"
#include "analysis/render/term.h"
#include "analysis/read/timeutil.h"

/* ROOT/a/b, without a leading "./" when root is ".". */
static char *join3(const char *root, const char *a, const char *b)
{
    char *out;
    int n;
    if (strcmp(root, ".") == 0)
        n = b ? asprintf(&out, "%s/%s", a, b) : asprintf(&out, "%s", a);
    else
        n = b ? asprintf(&out, "%s/%s/%s", root, a, b) : asprintf(&out, "%s/%s", root, a);
    return n < 0 ? NULL : out;
}

bool valid_exe_name(const char *s)
{
    if (!s || !*s || *s == '-' || *s == '.') /* an option, hidden (".git"), ".", ".." */
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p == '/' || *p < 0x20 || *p == 0x7f) /* a path, a newline, an escape */
            return false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the subdirectories of dir that are executable names, sorted. -1 when dir cannot
 * be read. */
static int list_subdirs(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    *names = NULL;
    *n = 0;
    if (!d)
        return -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!valid_exe_name(e->d_name)) /* hidden ones, and names no command accepts */
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!fs_is_dir(path) || ARRAY_GROW(*names, *n, cap) < 0)
            continue;
        if (((*names)[*n] = strdup(e->d_name)))
            (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(*names, *n, sizeof **names, cmp_str);
    return 0;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The only executable under ROOT/search_dir, or NULL (error printed). */
static char *detect_executable(const char *root, const char *search_dir)
{
    char *dir = join3(root, search_dir, NULL);
    char **names;
    size_t n;
    char *found = NULL;
    if (!dir)
        return NULL;
    if (list_subdirs(dir, &names, &n) != 0) {
        cli_error("%s: cannot read directory: %s (pass --executable NAME, or --root DIR)", dir,
                  strerror(errno));
    } else if (n == 0) {
        cli_error("%s: no executables in it (pass --executable NAME)", dir);
    } else if (n > 1) {
        char list[512] = "";
        for (size_t i = 0; i < n && strlen(list) < 400; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     names[i]);
        cli_error("%s: %zu executables (%s); choose one with --executable NAME", dir, n, list);
    } else {
        found = strdup(names[0]);
    }
    free_names(names, n);
    free(dir);
    return found;
}

int project_resolve(struct project *p, const char *root, const char *exe,
                    const char *hint_executable, const char *baseline_file, const char *search_dir)
{
    memset(p, 0, sizeof *p);
    p->root = strdup(root ? root : ".");
    if (!p->root)
        return -1;
    if (!fs_is_dir(p->root)) {
        cli_error("%s: not a directory (--root)", p->root);
        return -1;
    }
    if (exe) {
        if (!valid_exe_name(exe)) {
            cli_usage_error("--executable: '%s' is not an executable name " EXE_NAME_RULE, exe);
            return -1;
        }
        p->executable = strdup(exe);
    } else if (hint_executable && strcmp(hint_executable, "unknown") != 0) {
        const char *base = fs_basename(hint_executable);
        if (!valid_exe_name(base)) {
            cli_error("metadata.executable '%s' of the --current profile is no executable name "
                      EXE_NAME_RULE "; give one with --executable NAME",
                      base);
            return -1;
        }
        p->executable = strdup(base);
    } else {
        p->executable = detect_executable(p->root, search_dir);
    }
    if (!p->executable)
        return -1;
    p->results_dir = join3(p->root, "profile_results", p->executable);
    if (baseline_file) {
        p->baseline_path = strdup(baseline_file);
    } else {
        char rel[NAME_MAX + 32];
        snprintf(rel, sizeof rel, "%s/baseline.json", p->executable);
        p->baseline_path = join3(p->root, "baselines", rel);
    }
    return p->results_dir && p->baseline_path ? 0 : -1;
}

void project_args_init(struct project_args *a)
{
    memset(a, 0, sizeof *a);
    a->runs = 5;
    a->root = ".";
    a->load.fold_clones = true;
    a->load.inlines = INLINES_FOLD;
}

int load_opts_inlines(struct load_opts *o, const char *value)
{
    if (inline_mode_parse(value, &o->inlines) != 0) {
        cli_usage_error("--inlines: '%s' is not 'fold' or 'expand'", value);
        return -1;
    }
    o->inlines_given = true;
    return 0;
}

int load_opts_apply(const struct load_opts *o, struct pr_profile *p)
{
    if (o->fold_clones && profile_fold_clones(p) != 0)
        return -1;
    if (o->inlines == INLINES_FOLD && profile_fold_inlines(p) != 0)
        return -1;
    return 0;
}

int load_opts_view(const struct load_opts *o, const char *path, struct pr_profile *p)
{
    if (!o->memory && p->no_cpu_sampling) {
        cli_error("%s: no CPU samples: the run profiled allocations only (PROFREG_MEMORY=only); "
                  "add --memory",
                  path);
        return -1;
    }
    if (!o->memory)
        return 0;
    if (!p->memory) {
        cli_error("%s: the profile has no memory section (profile with PROFREG_MEMORY=1, or "
                  "profreg record --memory)",
                  path);
        return -1;
    }
    struct pr_profile v;
    if (memory_view(p, o->memory_metric, &v) != 0) {
        cli_error("out of memory reading the memory section of %s", path);
        return -1;
    }
    profile_free(p);
    *p = v;
    return 0;
}

/* Keeps p's run fields (metadata, summary) only: its functions, stacks and memory section go. */
static void keep_run_fields(struct pr_profile *p)
{
    struct pr_profile run = *p;
    run.functions = NULL;
    run.nfunctions = 0;
    run.stacks = NULL;
    run.nstacks = 0;
    run.memory = NULL;
    p->trace_file = p->template_name = p->export_timestamp = p->executable = NULL;
    p->mode = p->clock = p->profreg_version = NULL;
    p->command_line = NULL;
    profile_free(p); /* the functions, stacks and section */
    *p = run;
}

int load_memory_merged(char *const *paths, size_t n, const struct load_opts *o,
                       struct pr_profile *out)
{
    struct pr_profile views[MEM_NMETRICS];
    for (int k = 0; k < MEM_NMETRICS; k++)
        profile_init(&views[k]);
    profile_init(out);
    if (o->region) {
        cli_error("--region goes with CPU samples: allocations are not recorded by region");
        return -1;
    }
    struct load_opts one = *o;
    one.memory = true;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct pr_profile p;
        char err[1024];
        profile_init(&p);
        if (profile_read_file(paths[i], &p, err, sizeof err) != 0) {
            cli_error("%s", err);
            rc = -1;
        } else if (!p.memory) {
            rc = load_opts_view(&one, paths[i], &p); /* says which file */
        }
        for (int k = 0; k < MEM_NMETRICS && rc == 0; k++) {
            struct pr_profile v;
            if (memory_view(&p, (enum pr_mem_metric)k, &v) != 0 || load_opts_apply(o, &v) != 0 ||
                profile_merge(&views[k], &v) != 0) {
                cli_error("out of memory merging %s", paths[i]);
                rc = -1;
            }
            profile_free(&v);
        }
        if (rc == 0 && i == 0) { /* the run fields are the first profile's */
            keep_run_fields(&p);
            *out = p;
            profile_init(&p);
        }
        profile_free(&p);
    }
    struct pr_memory *m = rc == 0 ? malloc(sizeof *m) : NULL;
    if (rc == 0 && (!m || memory_join(views, m) != 0)) {
        cli_error("out of memory merging the memory sections");
        free(m);
        rc = -1;
    } else if (rc == 0) {
        out->memory = m;
    }
    for (int k = 0; k < MEM_NMETRICS; k++)
        profile_free(&views[k]);
    if (rc != 0)
        profile_free(out);
    return rc;
}

int project_opt_current(void *field, const char *value)
{
    struct project_args *a = field;
    if (a->ncurrent == MAX_CURRENT) {
        cli_usage_error("--current: more than %d files", MAX_CURRENT);
        return -1;
    }
    a->current[a->ncurrent++] = value;
    return 0;
}

int project_opt_runs(void *field, const char *value)
{
    struct project_args *a = field;
    a->runs_given = true;
    return cli_parse_uint("--runs", value, 1, 100000, &a->runs);
}

int cli_opt_inlines(void *field, const char *value)
{
    return load_opts_inlines(field, value);
}

int cli_opt_region(void *field, const char *value)
{
    ((struct load_opts *)field)->region = value;
    return 0;
}

int baseline_region_check(const char *path, const char *base_region, const char *asked)
{
    if (base_region && asked ? strcmp(base_region, asked) == 0 : !base_region && !asked)
        return 0;
    if (base_region)
        cli_error("%s: the baseline holds region '%s' only (set with --region); use --region %s",
                  path, base_region, base_region);
    else
        cli_error("%s: the baseline holds every sample; --region %s needs a baseline set with it "
                  "(profreg baseline set --region %s)",
                  path, asked, asked);
    return -1;
}

int load_opts_region(const struct load_opts *o, const char *path, struct pr_profile *p)
{
    if (!o->region)
        return 0;
    if (o->memory) {
        cli_error("--region goes with CPU samples: allocations are not recorded by region");
        return -1;
    }
    char err[1024];
    if (profile_filter_region(p, o->region, path, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    return 0;
}

int project_load(const struct project_args *a, struct project *p, struct runs *r)
{
    memset(p, 0, sizeof *p);
    memset(r, 0, sizeof *r);
    if (a->ncurrent && runs_load_files(a->current, a->ncurrent, &a->load, r) != 0)
        return -1;
    if (project_resolve(p, a->root, a->executable, a->ncurrent ? r->executable : NULL, a->baseline,
                        "profile_results") != 0)
        return -1;
    if (!a->ncurrent && runs_load_newest(p, (unsigned)a->runs, &a->load, r) != 0)
        return -1;
    p->region = a->load.region;
    return 0;
}

void project_free(struct project *p)
{
    free(p->root);
    free(p->executable);
    free(p->results_dir);
    free(p->baseline_path);
    memset(p, 0, sizeof *p);
}

/* ---- runs ----------------------------------------------------------------------------- */

void runs_free(struct runs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->paths[i]);
    free(r->paths);
    avg_profile_free(&r->avg);
    for (int k = 0; k < BASELINE_MEM_VIEWS; k++)
        avg_profile_free(&r->mem[k]);
    test_profile_free(&r->tests);
    free(r->average_timestamp);
    free(r->executable);
    free(r->metrics);
    memset(r, 0, sizeof *r);
}

/* Files parsed at once: one per core (at most 8); only these are in memory together. */
static size_t parallel_files(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (size_t)n;
}

struct load_batch {
    char **paths;
    struct pr_profile *profiles;
    char (*errs)[1024];
    int *rcs;
    size_t count;
    atomic_size_t next;
};

static void *load_worker(void *arg)
{
    struct load_batch *b = arg;
    size_t i;
    while ((i = atomic_fetch_add(&b->next, 1)) < b->count)
        b->rcs[i] = profile_read_file(b->paths[i], &b->profiles[i], b->errs[i], sizeof b->errs[i]);
    return NULL;
}

static void *load_worker_thread(void *arg)
{
    return load_worker(arg);
}

/* Parses b->count files on up to b->count threads (this one included). */
static void load_parallel(struct load_batch *b)
{
    pthread_t tids[8];
    size_t started = 0;
    atomic_store(&b->next, 0);
    for (size_t t = 1; t < b->count && t < 8; t++)
        if (pthread_create(&tids[started], NULL, load_worker_thread, b) == 0)
            started++;
    load_worker(b);
    for (size_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
}

/* The views a baseline keeps of p's memory section, folded as o says, into the builders. */
static int add_memory_views(const struct load_opts *o, const struct pr_profile *p,
                            struct avg_builder b[BASELINE_MEM_VIEWS])
{
    static const enum pr_mem_metric metric[BASELINE_MEM_VIEWS] = {MEM_ALLOC_BYTES, MEM_PEAK_LIVE};
    for (int k = 0; k < BASELINE_MEM_VIEWS; k++) {
        struct pr_profile v;
        struct load_opts cpu = *o;
        cpu.memory = false;
        int rc = memory_view(p, metric[k], &v);
        if (rc == 0)
            rc = load_opts_apply(&cpu, &v) != 0 || avg_builder_add(&b[k], &v) != 0 ? -1 : 0;
        profile_free(&v);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Reads and averages paths (taking ownership of the array). Prints the first error in
 * file order. */
static int runs_load_paths(char **paths, size_t n, const struct load_opts *o, struct runs *r)
{
    memset(r, 0, sizeof *r);
    r->paths = paths;
    r->n = n;
    size_t width = parallel_files();
    struct pr_profile *profiles = calloc(width, sizeof *profiles);
    char(*errs)[1024] = calloc(width, sizeof *errs);
    int *rcs = calloc(width, sizeof *rcs);
    struct avg_builder avg, mavg[BASELINE_MEM_VIEWS];
    avg_builder_init(&avg);
    for (int k = 0; k < BASELINE_MEM_VIEWS; k++)
        avg_builder_init(&mavg[k]);
    bool all_memory = n > 0, all_no_cpu = n > 0;
    struct test_acc tacc;
    test_acc_init(&tacc);
    double ts_sum = 0;
    size_t ts_n = 0;
    r->metrics = calloc(n ? n : 1, sizeof *r->metrics);
    int rc = profiles && errs && rcs && r->metrics ? 0 : -1;
    if (rc)
        cli_error("out of memory");
    for (size_t first = 0; rc == 0 && first < n; first += width) {
        struct load_batch b = {
            paths + first, profiles, errs, rcs, n - first < width ? n - first : width, 0};
        for (size_t i = 0; i < b.count; i++)
            profile_init(&profiles[i]);
        load_parallel(&b);
        for (size_t i = 0; i < b.count; i++) {
            if (rc == 0 && rcs[i] != 0) {
                cli_error("%s", errs[i]);
                rc = -1;
            }
            if (rc == 0 && first + i == 0 && profiles[i].executable &&
                !(r->executable = strdup(profiles[i].executable)))
                rc = -1;
            double t;
            if (rc == 0 && time_parse_iso(profiles[i].export_timestamp, &t)) {
                ts_sum += t;
                ts_n++;
            }
            if (rc == 0 && load_opts_region(o, paths[first + i], &profiles[i]) != 0)
                rc = -1; /* (drops the memory section, which has no regions) */
            if (rc == 0 && all_memory && !profiles[i].memory)
                all_memory = false;
            if (rc == 0 && !profiles[i].no_cpu_sampling)
                all_no_cpu = false;
            if (rc == 0 && all_memory && add_memory_views(o, &profiles[i], mavg) != 0) {
                cli_error("out of memory averaging the memory sections of %s", paths[first + i]);
                rc = -1;
            }
            if (rc == 0 && load_opts_apply(o, &profiles[i]) != 0) {
                cli_error("out of memory folding %s", paths[first + i]);
                rc = -1;
            }
            if (rc == 0) {
                r->metrics[first + i][RUN_WALL_MS] = profiles[i].wall_time_ms;
                r->metrics[first + i][RUN_CPU_MS] = profiles[i].cpu_time_ms;
                r->metrics[first + i][RUN_PEAK_RSS_KB] = profiles[i].peak_rss_kb;
            }
            errno = 0;
            if (rc == 0 && avg_builder_add(&avg, &profiles[i]) != 0) {
                if (errno == EOVERFLOW)
                    cli_error("%s: the runs' samples add up to more than " PR_MAX_SAMPLES_TEXT,
                              paths[first + i]);
                else
                    cli_error("out of memory averaging runs");
                rc = -1;
            }
            if (rc == 0 && test_acc_add(&tacc, &profiles[i]) != 0) {
                cli_error("out of memory attributing samples to tests");
                rc = -1;
            }
            profile_free(&profiles[i]);
        }
    }
    free(profiles);
    free(errs);
    free(rcs);
    r->no_cpu = all_no_cpu;
    if (rc == 0 && ts_n) {
        char buf[32];
        time_format_iso(ts_sum / (double)ts_n, buf, sizeof buf);
        r->average_timestamp = strdup(buf);
    }
    if (rc == 0)
        avg_builder_finish(&avg, &r->avg);
    else
        avg_builder_abort(&avg);
    for (int k = 0; k < BASELINE_MEM_VIEWS; k++) {
        if (rc == 0 && all_memory && avg_builder_finish(&mavg[k], &r->mem[k]) == 0) {
            /* the whole-run figures are the runs' own */
            r->mem[k].wall_ms = r->avg.wall_ms;
            r->mem[k].cpu_ms = r->avg.cpu_ms;
            r->mem[k].peak_rss_kb = r->avg.peak_rss_kb;
            r->mem[k].alloc_kb = r->avg.alloc_kb;
            r->mem[k].peak_live_kb = r->avg.peak_live_kb;
            r->has_memory = k == BASELINE_MEM_VIEWS - 1 ? true : r->has_memory;
        } else {
            avg_builder_abort(&mavg[k]);
        }
    }
    if (rc == 0 && test_acc_finish(&tacc, &r->tests) != 0) {
        cli_error("out of memory attributing samples to tests");
        rc = -1;
    }
    test_acc_abort(&tacc);
    if (rc != 0)
        runs_free(r);
    return rc;
}

int runs_load_files(const char *const *files, size_t n, const struct load_opts *o, struct runs *r)
{
    char **paths = calloc(n ? n : 1, sizeof *paths);
    for (size_t i = 0; paths && i < n; i++)
        if (!(paths[i] = strdup(files[i]))) {
            free_names(paths, i);
            paths = NULL;
        }
    if (!paths) {
        cli_error("out of memory");
        return -1;
    }
    return runs_load_paths(paths, n, o, r);
}

static bool is_run_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "profile_", 8) == 0 && n > 13 && strcmp(name + n - 5, ".json") == 0;
}

int runs_load_newest(const struct project *p, unsigned want, const struct load_opts *o,
                     struct runs *r)
{
    memset(r, 0, sizeof *r);
    DIR *d = opendir(p->results_dir);
    if (!d) {
        cli_error("%s: cannot read directory: %s (no runs of %s yet?)", p->results_dir,
                  strerror(errno), p->executable);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_run_name(e->d_name) || ARRAY_GROW(names, n, cap) < 0)
            continue;
        if ((names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    if (n == 0) {
        free(names);
        cli_error("%s: no runs (profile_*.json) in it", p->results_dir);
        return -1;
    }
    array_sort(names, n, sizeof *names, cmp_str);
    size_t first = n > want ? n - want : 0;
    size_t k = n - first;
    char **paths = calloc(k, sizeof *paths);
    for (size_t i = 0; paths && i < k; i++)
        if (asprintf(&paths[i], "%s/%s", p->results_dir, names[first + i]) < 0)
            paths[i] = NULL;
    free_names(names, n);
    for (size_t i = 0; paths && i < k; i++)
        if (!paths[i]) {
            free_names(paths, k);
            paths = NULL;
        }
    if (!paths) {
        cli_error("out of memory");
        return -1;
    }
    if (runs_load_paths(paths, k, o, r) != 0)
        return -1;
    r->requested = want;
    return 0;
}

void runs_note_if_fewer(const struct project *p, const struct runs *r)
{
    if (r->requested > r->n)
        cli_error("note: %s has %zu run%s, fewer than --runs %u; used %zu", p->results_dir, r->n,
                  r->n == 1 ? "" : "s", r->requested, r->n);
}

/* ---- baseline --------------------------------------------------------------------------- */

char *project_root_of(const char *root)
{
    char *top = git_toplevel(root);
    if (top)
        return top;
    return realpath(root, NULL);
}

static int write_baseline_cb(FILE *f, void *ctx)
{
    return baseline_write(f, ctx);
}

int project_write_baseline(const struct project *p, struct runs *r)
{
    struct baseline b;
    baseline_init(&b);
    b.avg = r->avg; /* moved */
    memset(&r->avg, 0, sizeof r->avg);
    b.tests = r->tests; /* moved */
    test_profile_init(&r->tests);
    b.has_memory = r->has_memory;
    for (int k = 0; k < BASELINE_MEM_VIEWS; k++) { /* moved */
        b.mem[k] = r->mem[k];
        memset(&r->mem[k], 0, sizeof r->mem[k]);
    }
    int rc;
    struct git_info g;
    git_info_read(p->root, &g);
    char now[32];
    time_format_iso((double)time(NULL), now, sizeof now);
    b.executable = strdup(p->executable);
    b.average_timestamp = strdup(r->average_timestamp ? r->average_timestamp : now);
    b.created_at = strdup(now);
    b.git_commit = g.commit;
    b.git_dirty = g.commit ? g.dirty : -1;
    b.profreg_version = strdup(profreg_version);
    b.functions_seen = b.avg.nfunctions;
    b.project_root = project_root_of(p->root);
    b.region = p->region ? strdup(p->region) : NULL;

    char err[1024];
    char *dir = strdup(p->baseline_path);
    rc = -1;
    if (!dir) {
        cli_error("out of memory");
    } else {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        if (slash && slash != dir && fs_mkdir_p(dir, 0777, err, sizeof err) != 0)
            cli_error("%s", err);
        else if (fs_write_atomic(p->baseline_path, false, write_baseline_cb, &b, err, sizeof err) !=
                 0)
            cli_error("%s", err);
        else
            rc = 0;
    }
    free(dir);
    if (rc == 0) {
        fputs("wrote ", stdout);
        term_put(stdout, p->baseline_path, SIZE_MAX);
        fputs(": ", stdout);
        term_put(stdout, p->executable, SIZE_MAX);
        printf(", %u run%s averaged, %zu of %zu functions kept", b.avg.runs,
               b.avg.runs == 1 ? "" : "s", baseline_kept(&b), b.avg.nfunctions);
        if (b.git_commit)
            printf(", commit %.12s%s", b.git_commit, b.git_dirty == 1 ? " (dirty tree)" : "");
        printf("\n");
    }
    baseline_free(&b);
    return rc;
}
