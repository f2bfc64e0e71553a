/* SPDX-License-Identifier: MIT */
/* output.c — the profile's destination, and the exit-time pipeline that fills it:
 * stack table -> raw stacks -> profile_build (libdw symbolizer) -> profile JSON file.
 * Frames inside libprofreg.so itself (the thread start trampoline) are left out. */
#include "output.h"

#include "api.h"
#include "intercept.h"
#include "memprof.h"

#include "core/array.h"
#include "core/fsutil.h"
#include "core/regions.h"
#include "symbolize/profile_build.h"
#include "core/profile_write.h"
#include "symbolize/symbolize.h"
#include "symbolize/symcache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PROFREG_VERSION
#define PROFREG_VERSION "unknown"
#endif

/* /proc/self/cmdline as a NULL-terminated array, or NULL. */
static char **read_cmdline(void)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    ssize_t got = 1;
    while (got > 0 && array_grow(&buf, &cap, len + 4095, 1) == 0) {
        got = read(fd, buf + len, cap - len);
        len += got > 0 ? (size_t)got : 0;
    }
    close(fd);
    if (!buf || len == 0) {
        free(buf);
        return NULL;
    }
    size_t argc = 0;
    for (size_t i = 0; i < len; i++)
        argc += buf[i] == '\0';
    if (buf[len - 1] != '\0')
        argc++;
    char **argv = calloc(argc + 1, sizeof *argv);
    if (argv) {
        size_t a = 0;
        for (size_t i = 0; i < len && a < argc; a++) {
            size_t n = strnlen(buf + i, len - i);
            argv[a] = strndup(buf + i, n);
            i += n + 1;
        }
    }
    free(buf);
    return argv;
}

/* Sets out_file and out_dir from an absolute path: a directory (ending in '/' or existing)
 * gets default file names, anything else is the file. */
static void set_destination(struct run_info *ri, char *abs)
{
    size_t len = strlen(abs);
    if (abs[len - 1] == '/' || fs_is_dir(abs)) {
        while (len > 1 && abs[len - 1] == '/')
            abs[--len] = '\0';
        memcpy(ri->out_dir, abs, len + 1);
    } else {
        memcpy(ri->out_file, abs, len + 1);
        memcpy(ri->out_dir, abs, len + 1);
        char *slash = strrchr(ri->out_dir, '/'); /* abs is absolute: there is one */
        if (slash == ri->out_dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

int output_prepare(struct run_info *ri, const struct settings *cfg, char *err, size_t errlen)
{
    memset(ri, 0, sizeof *ri);
    ri->cfg = cfg;
    ri->first_pid = getpid();
    /* `profreg record -o FILE` names the process FILE belongs to; its descendants (which
     * exec other programs, where first_pid starts anew) then write FILE's stem.<pid> */
    const char *owner = getenv("PROFREG_OUTPUT_OWNER");
    if (owner && *owner && strtol(owner, NULL, 10) != (long)getpid())
        ri->first_pid = 0;
    clock_gettime(CLOCK_MONOTONIC, &ri->start);
    if (!realpath("/proc/self/exe", ri->executable))
        snprintf(ri->executable, sizeof ri->executable, "unknown");
    ri->argv = read_cmdline();

    /* a relative path (the default one too) is taken from the directory the process starts
     * in, remembered here; nothing is created before the profile is written */
    const char *out = cfg->output;
    char cwd[PATH_MAX] = "";
    if (out[0] != '/' && !getcwd(cwd, sizeof cwd)) {
        snprintf(err, errlen,
                 "the working directory has no name (%s); set PROFREG_OUTPUT to an "
                 "absolute path",
                 strerror(errno));
        return -1;
    }
    char abs[PATH_MAX];
    int n;
    if (!*out)
        n = snprintf(abs, sizeof abs, "%s/profile_results/%s/", cwd, fs_basename(ri->executable));
    else if (out[0] == '/')
        n = snprintf(abs, sizeof abs, "%s", out);
    else
        n = snprintf(abs, sizeof abs, "%s/%s", cwd, out);
    if (n < 0 || (size_t)n >= sizeof abs) {
        snprintf(err, errlen, "output path too long");
        return -1;
    }
    memcpy(ri->start_dir, cwd, strlen(cwd) + 1);
    set_destination(ri, abs);
    return 0;
}

int output_retarget(struct run_info *ri, const char *path, char *err, size_t errlen)
{
    char cwd[PATH_MAX] = "", abs[PATH_MAX];
    if (!*path) {
        snprintf(err, errlen, "empty output path");
        return -1;
    }
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd)) {
        snprintf(err, errlen, "the working directory has no name (%s)", strerror(errno));
        return -1;
    }
    int n = path[0] == '/' ? snprintf(abs, sizeof abs, "%s", path)
                           : snprintf(abs, sizeof abs, "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= sizeof abs) {
        snprintf(err, errlen, "output path too long");
        return -1;
    }
    ri->start_dir[0] = ri->out_file[0] = '\0';
    ri->first_pid = getpid(); /* the file named is this process's */
    set_destination(ri, abs);
    return 0;
}

/* The output directory, created now (at exit) where missing. Under a relative output path,
 * the directory the process started in must still be there: a removed one is not made again
 * (the user removed it, perhaps the program itself), the profile is not written. */
static int make_out_dir(const struct run_info *ri, char *err, size_t errlen)
{
    if (ri->start_dir[0] && !fs_is_dir(ri->start_dir)) {
        snprintf(err, errlen,
                 "the directory the process started in, %s, no longer exists (the output "
                 "path is relative to it)",
                 ri->start_dir);
        return -1;
    }
    return fs_mkdir_p(ri->out_dir, 0777, err, errlen);
}

struct collected {
    struct pb_raw_stack *stacks;
    uint32_t *region; /* per stack: its region id (api.h), 0 for none */
    size_t n, cap, rcap;
    bool oom, any_region;
};

static void collect(const uint64_t *pcs, uint32_t depth, uint64_t count, void *ctx)
{
    struct collected *c = ctx;
    if (ARRAY_GROW(c->stacks, c->n, c->cap) < 0 || ARRAY_GROW(c->region, c->n, c->rcap) < 0) {
        c->oom = true;
        return;
    }
    uint32_t region = 0;
    if (depth > 0 && api_is_region_tag(pcs[depth - 1])) { /* the region rides last */
        region = (uint32_t)(pcs[depth - 1] & API_REGION_ID_MASK);
        depth--;
        c->any_region = true;
    }
    c->region[c->n] = region;
    c->stacks[c->n++] = (struct pb_raw_stack){pcs, depth, count};
}

/* Gives p's stacks the regions of the raw stacks they were built from. 0, or -1. */
static int add_regions(struct pr_profile *p, const struct collected *c, const uint32_t *stack_of)
{
    struct region_sample *rs = malloc((c->n ? c->n : 1) * sizeof *rs);
    if (!rs)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        rs[i] = (struct region_sample){stack_of[i], c->stacks[i].count,
                                       api_region_path(c->region[i])};
    int rc = profile_split_regions(p, rs, c->n);
    free(rs);
    return rc;
}

/* Addresses go through the symbol cache (symcache.c), which opens the libdw symbolizer only
 * on its first miss. */
struct resolver {
    struct symcache *cache;
    const void *own_module;
    struct sym_options opts; /* for the symbolizer, when opened */
};

static struct symbolizer *open_symbolizer(void *ctx, char *err, size_t errlen)
{
    struct resolver *r = ctx;
    return symbolizer_open_self(&r->opts, err, errlen);
}

static size_t resolve(void *ctx, uint64_t addr, struct sym_frame *out, size_t max)
{
    struct resolver *r = ctx;
    if (r->own_module && symcache_module_of(r->cache, addr) == r->own_module)
        return 0;
    return symcache_resolve(r->cache, addr, out, max);
}

/* The addresses to resolve, less profreg's own (resolve leaves them out), to the symbol cache,
 * which may hand half its misses to a helper thread. */
static void prepare(void *ctx, const uint64_t *addrs, size_t n)
{
    struct resolver *r = ctx;
    uint64_t *mine = malloc((n ? n : 1) * sizeof *mine);
    if (!mine)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!r->own_module || symcache_module_of(r->cache, addrs[i]) != r->own_module)
            mine[k++] = addrs[i];
    symcache_prepare(r->cache, mine, k);
    free(mine);
}

/* Misses at which PROFREG_EXIT_THREADS=auto starts the helper thread: below it, what the
 * helper does twice (its own libdw handles: the modules, the unit headers up to its units, the
 * pages both read through their own mappings) costs about what it saves. On assimp's tests, ~140
 * misses took 13.3 ms with a helper against 12.0 alone (medians of 5 in turns); 300-600, 16.0
 * against 18.2. */
#define AUTO_SPLIT_MISSES 256

/* How many threads resolve the misses at exit (symcache_options.threads): PROFREG_EXIT_THREADS,
 * or for auto 2 when this process may run on two CPUs or more. A snapshot uses one (the program
 * goes on running beside it), and so does the copy that writes from a signal handler. */
static unsigned exit_threads(const struct settings *cfg, const struct run_stats *st,
                             size_t *min_split)
{
    *min_split = cfg->exit_threads == 2 ? 2 : AUTO_SPLIT_MISSES;
    if (st->snapshot || st->in_copy || cfg->exit_threads == 1)
        return 1;
    if (cfg->exit_threads == 2)
        return 2;
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 2 ? 2 : 1;
}

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static char **copy_argv(char **argv)
{
    if (!argv)
        return NULL;
    size_t n = 0;
    while (argv[n])
        n++;
    char **copy = calloc(n + 1, sizeof *copy);
    for (size_t i = 0; copy && i < n; i++)
        copy[i] = strdup(argv[i]);
    return copy;
}

/* True when path exists and is neither a regular file nor a directory: a device such as
 * /dev/null, a FIFO. Every process writes through to it (fsutil.h). */
static bool is_special_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/* Output file: out_file (with ".<pid>" before the extension in a forked child, unless out_file
 * is a device or FIFO), or out_dir/profile_<YYYYmmdd>_<HHMMSS>_<usec>_<pid>.json in UTC. */
static int choose_path(const struct run_info *ri, const struct timespec *now, pid_t pid, char *path,
                       size_t len)
{
    int n;
    if (ri->out_file[0] && (pid == ri->first_pid || is_special_file(ri->out_file))) {
        n = snprintf(path, len, "%s", ri->out_file);
    } else if (ri->out_file[0]) {
        const char *dot = strrchr(fs_basename(ri->out_file), '.');
        int stem = dot ? (int)(dot - ri->out_file) : (int)strlen(ri->out_file);
        n = snprintf(path, len, "%.*s.%ld%s", stem, ri->out_file, (long)pid, dot ? dot : "");
    } else {
        struct tm tm;
        char stamp[32];
        gmtime_r(&now->tv_sec, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
        n = snprintf(path, len, "%s%sprofile_%s_%06ld_%ld.json", ri->out_dir,
                     strcmp(ri->out_dir, "/") ? "/" : "", stamp, now->tv_nsec / 1000, (long)pid);
    }
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void fill_metadata(struct pr_profile *p, const struct run_info *ri,
                          const struct timespec *now, pid_t pid, const char *path)
{
    struct tm tm;
    char iso[32];
    gmtime_r(&now->tv_sec, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    p->trace_file = strdup(fs_basename(path));
    p->template_name = strdup(PR_TEMPLATE);
    p->export_timestamp = strdup(iso);
    p->executable = strdup(ri->executable);
    p->command_line = copy_argv(ri->argv);
    p->pid = (long)pid;
    p->mode = strdup(ri->cfg->mode == PR_MODE_WALL ? "wall" : "cpu");
    /* PROFREG_MEMORY=only: nothing sampled CPU or wall time, at no frequency */
    p->no_cpu_sampling = ri->cfg->memory_only;
    p->frequency_hz = ri->cfg->memory_only ? NAN : ri->cfg->frequency;
    p->profreg_version = strdup(PROFREG_VERSION);
}

static void fill_summary(struct pr_profile *p, const struct run_info *ri,
                         const struct run_stats *st)
{
    double period_ms = 1000.0 / ri->cfg->frequency;
    p->total_time_ms = (double)p->total_samples * period_ms;
    p->signals = st->signals;
    p->effective_frequency_hz =
        ri->cfg->memory_only ? NAN
        : p->total_samples   ? ri->cfg->frequency * (double)st->signals / (double)p->total_samples
                             : 0.0;
    p->wall_time_ms = st->wall_ms;
    p->cpu_time_ms = st->cpu_ms;
    p->peak_rss_kb = st->peak_rss_kb;
    p->thread_count = (double)st->threads;
    p->unsampled_threads = (double)st->unsampled_threads;
    p->clock = st->clock ? strdup(st->clock) : NULL;
    p->clock_fallback_threads = (double)st->clock_fallback_threads;
    p->lost_samples = (double)st->lost;
    p->truncated_stacks = (double)st->truncated;
    p->skipped_samples = (double)st->skipped;
    p->paused_samples = (double)st->paused;
}

/* What the exit work cost: time from t0 (this thread's CPU time from cpu0, plus helper_cpu_ms,
 * the helper thread's) until the profile is ready to be written, and how far the process's peak
 * RSS (ru_maxrss) rose above the one measured when sampling stopped. */
static void account_exit(struct pr_profile *p, const struct run_stats *st,
                         const struct timespec *t0, const struct timespec *cpu0,
                         double helper_cpu_ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    p->exit_ms = elapsed_ms(t0, &t);
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0)
        p->exit_cpu_ms = elapsed_ms(cpu0, &t) + helper_cpu_ms;
    struct rusage ru;
    if (!isnan(st->peak_rss_kb) && getrusage(RUSAGE_SELF, &ru) == 0)
        p->exit_extra_rss_kb =
            (double)ru.ru_maxrss > st->peak_rss_kb ? (double)ru.ru_maxrss - st->peak_rss_kb : 0;
}

/* The symbol cache and the symbolizer behind it (libdw's module list, DWARF indexes, the cache
 * files read) are tens of thousands of allocations after a large program: freeing them one by
 * one took 7 ms of a 60 ms exit on a 200 MB test binary, memory the process is about to give
 * back whole. So at the process's exit they are left to it — kept reachable here, so that a
 * leak checker does not count them — and freed only after a snapshot (profreg_flush), when the
 * program goes on. */
static struct symcache *g_left_for_exit;

static void release_symbolizer(struct symcache *c, bool snapshot)
{
    if (snapshot || g_left_for_exit) {
        symcache_free(c);
        return;
    }
    g_left_for_exit = c;
}

int output_write_profile(const struct run_info *ri, const struct stacktab *tab,
                         const struct run_stats *st, char *path, size_t pathlen, char *err,
                         size_t errlen)
{
    struct timespec t0, t1, now, cpu0 = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    if (make_out_dir(ri, err, errlen) != 0)
        return -1;

    struct collected c = {0};
    /* entries whose insert had not finished (a handler still running when the wait for
     * handlers in flight gave up): not in the profile, so counted as lost */
    size_t unpublished = stacktab_foreach(tab, collect, &c);
    uint32_t *stack_of = c.oom ? NULL : malloc((c.n ? c.n : 1) * sizeof *stack_of);
    if (c.oom || !stack_of) {
        free(stack_of);
        free(c.stacks);
        free(c.region);
        snprintf(err, errlen, "out of memory collecting samples");
        return -1;
    }

    const struct settings *cfg = ri->cfg;
    size_t nunloaded;
    const struct unloaded_module *unloaded = intercept_unloaded(&nunloaded);
    struct sym_extra_module *extra = calloc(nunloaded ? nunloaded : 1, sizeof *extra);
    for (size_t i = 0; extra && i < nunloaded; i++)
        extra[i] = (struct sym_extra_module){unloaded[i].path, unloaded[i].bias};
    struct sym_options opts = {cfg->debug_dirs[0] ? cfg->debug_dirs : NULL,
                               cfg->cache_dir[0] ? cfg->cache_dir : NULL,
                               strcmp(cfg->cache_dir, "none") == 0, extra, extra ? nunloaded : 0,
                               /* the program's own peak: debug pages below it cost no peak */
                               isnan(st->peak_rss_kb) ? 0 : (uint64_t)st->peak_rss_kb, 0};
    struct resolver r = {NULL, NULL, opts};
    size_t min_split;
    unsigned threads = exit_threads(cfg, st, &min_split);
    struct symcache_options co = {cfg->cache_dir[0] ? cfg->cache_dir : NULL,
                                  opts.debug_dirs,
                                  PROFREG_VERSION,
                                  cfg->quiet,
                                  open_symbolizer,
                                  &r,
                                  threads,
                                  min_split};
    if (!extra || !(r.cache = symcache_new(&co))) {
        free(extra);
        free(stack_of);
        free(c.region);
        free(c.stacks);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r.own_module = symcache_module_of(r.cache, (uint64_t)(uintptr_t)&resolve);

    struct pr_profile p;
    profile_init(&p);
    int rc = profile_build_map(&p, c.stacks, c.n, resolve, prepare, &r, stack_of, err, errlen);
    if (rc == 0 && c.any_region && add_regions(&p, &c, stack_of) != 0) {
        snprintf(err, errlen, "out of memory recording regions");
        rc = -1;
    }
    if (rc == 0 && memprof_started() && !st->snapshot)
        rc = memprof_build(&p, resolve, &r, err, errlen);
    if (rc == 0 && symcache_error(r.cache)) {
        snprintf(err, errlen, "cannot symbolize: %s", symcache_error(r.cache));
        rc = -1;
    }
    if (rc == 0)
        symcache_save(r.cache);
    struct symbolizer_stats ss;
    symcache_symbolizer_stats(r.cache, &ss); /* (the helper thread, if any, has stopped) */
    struct symcache_stats cs = symcache_stats(r.cache);
    p.symbol_cache_hits = (double)cs.hits;
    p.symbol_cache_misses = (double)cs.misses;
    p.exit_helper_misses = (double)cs.helper_misses;
    p.cus_indexed = (double)ss.cus_indexed;
    p.cus_from_cache = (double)ss.cus_from_store;
    release_symbolizer(r.cache, st->snapshot);
    free(extra);
    free(stack_of);
    free(c.region);
    free(c.stacks);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == 0) {
        clock_gettime(CLOCK_REALTIME, &now);
        if (choose_path(ri, &now, st->pid, path, pathlen) != 0) {
            snprintf(err, errlen, "output path too long");
            rc = -1;
        }
    }
    if (rc == 0) {
        fill_metadata(&p, ri, &now, st->pid, path);
        fill_summary(&p, ri, st);
        p.lost_samples += (double)unpublished;
        p.symbolize_ms = elapsed_ms(&t0, &t1);
        account_exit(&p, st, &t0, &cpu0, cs.helper_cpu_ms);
        rc = profile_write_file(&p, path, err, errlen);
    }
    profile_free(&p);
    return rc;
}
