/* flame.c — `profreg flamegraph`, `profreg diff` and `profreg export`: a profile as a flame
 * graph, two sets of runs as a differential flame graph with a table of the largest movers,
 * and a profile in other tools' formats. Inputs are profile JSON files, folded stack files
 * (FlameGraph's format), or for diff's baseline side a baseline file that keeps stacks. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/export/export.h"
#include "core/array.h"
#include "analysis/render/flame.h"
#include "core/fsutil.h"
#include "core/hashmap.h"
#include "analysis/read/profile_read.h"
#include "analysis/render/render_flame.h"
#include "analysis/render/term.h"

/* ---- inputs ------------------------------------------------------------------------------ */

/* Whether the file's first non-blank byte opens a JSON object (else: folded stacks). -1 when
 * it cannot be read (error printed). */
static int looks_like_json(const char *path, char **text)
{
    *text = NULL;
    char err[1024];
    FILE *f = fs_fopen_input(path, err, sizeof err);
    if (!f) {
        cli_error("%s", err);
        return -1;
    }
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t')
        ;
    if (c == '{') {
        fclose(f);
        return 1;
    }
    /* folded: read it whole */
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (buf && c != EOF)
        buf[n++] = (char)c;
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
            }
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        cli_error("%s: cannot read: %s", path, bad ? strerror(errno) : "out of memory");
        return -1;
    }
    buf[n] = '\0';
    *text = buf;
    return 0;
}

/* Reads one input into p: a profile, folded stacks, or (allow_baseline) a baseline that
 * keeps stacks (not with memory: a baseline keeps no allocation stacks). Prints the error. 0,
 * or -1. */
static int read_input(const char *path, bool allow_baseline, bool memory, struct pr_profile *p)
{
    char *text;
    char err[1024];
    int json = looks_like_json(path, &text);
    if (json < 0)
        return -1;
    if (!json) {
        int rc = folded_read(text, path, p, err, sizeof err);
        free(text);
        if (rc != 0)
            cli_error("%s", err);
        return rc;
    }
    if (profile_read_file(path, p, err, sizeof err) == 0)
        return 0;
    if (allow_baseline && memory) {
        struct baseline b;
        char berr[1024];
        baseline_init(&b);
        int is_baseline = baseline_read_file(path, &b, berr, sizeof berr) == 0;
        baseline_free(&b);
        if (is_baseline) {
            cli_error("%s: a baseline keeps no allocation stacks; give the profiles it was made "
                      "from",
                      path);
            return -1;
        }
    } else if (allow_baseline) {
        struct baseline b;
        char berr[1024];
        baseline_init(&b);
        if (baseline_read_file(path, &b, berr, sizeof berr) == 0) {
            int rc = 0;
            if (!b.stacks.has_stacks) {
                cli_error("%s: this baseline keeps no stacks (written before they were kept); "
                          "refresh it with 'profreg baseline set'",
                          path);
                rc = -1;
            } else {
                *p = b.stacks; /* moved */
                profile_init(&b.stacks);
            }
            baseline_free(&b);
            return rc;
        }
        baseline_free(&b);
    }
    cli_error("%s", err);
    return -1;
}

/* Reads and merges the inputs; every one must have stacks. */
static int read_merged(char **paths, size_t n, bool allow_baseline, const struct load_opts *lo,
                       struct pr_profile *merged)
{
    profile_init(merged);
    for (size_t i = 0; i < n; i++) {
        struct pr_profile p;
        profile_init(&p);
        if (read_input(paths[i], allow_baseline, lo->memory, &p) != 0 ||
            load_opts_view(lo, paths[i], &p) != 0) {
            profile_free(&p);
            profile_free(merged);
            return -1;
        }
        if (!p.has_stacks) {
            cli_error("%s: the profile has no stacks (profiles of the older tool list functions "
                      "only)",
                      paths[i]);
            profile_free(&p);
            profile_free(merged);
            return -1;
        }
        int rc = load_opts_apply(lo, &p);
        errno = 0;
        if (rc == 0 && (rc = profile_merge(merged, &p)) != 0 && errno == EOVERFLOW) {
            cli_error("%s: the profiles' samples add up to more than " PR_MAX_SAMPLES_TEXT,
                      paths[i]);
            profile_free(&p);
            profile_free(merged);
            return -1;
        }
        profile_free(&p);
        if (rc != 0) {
            cli_error("out of memory merging %s", paths[i]);
            profile_free(merged);
            return -1;
        }
    }
    merged->has_stacks = true;
    return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

typedef int (*writer_fn)(FILE *f, void *ctx);

/* To path (atomically, replacing it), or to stdout when path is NULL (refused on a terminal
 * for binary or markup output: `what` names it). When the writer fails and says why in
 * cb_err (may be NULL), that is the one line printed. 0, or -1 (printed). */
static int write_output(const char *path, const char *what, writer_fn fn, void *ctx,
                        const char *cb_err)
{
    char err[1024];
    if (path) {
        if (fs_write_atomic(path, false, fn, ctx, err, sizeof err) != 0) {
            cli_error("%s", cb_err && *cb_err ? cb_err : err);
            return -1;
        }
        return 0;
    }
    if (isatty(STDOUT_FILENO)) {
        cli_error("not writing %s to a terminal: give -o FILE or redirect the output", what);
        return -1;
    }
    if (fn(stdout, ctx) != 0 || fflush(stdout) != 0) {
        if (cb_err && *cb_err)
            cli_error("%s", cb_err);
        else
            cli_error("writing %s to standard output: %s", what, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- argument parsing shared by the three commands ---------------------------------------- */

struct flame_args {
    const char *output, *title, *format;
    unsigned long width, top;
    bool reverse, icicle;
    bool live, exit_live;    /* --live, --exit (with --memory) */
    struct load_opts load;   /* --inlines; clones always folded */
    char **files, **current; /* current: after "--" (diff) */
    size_t nfiles, ncurrent;
};

static int need_value(int argc, char **argv, int i)
{
    if (i + 1 >= argc) {
        cli_usage_error("%s needs a value", argv[i]);
        return -1;
    }
    return 0;
}

/* Parses options anywhere; "--" separates diff's two sides. `allowed` lists the options the
 * command takes ("o t w s i f n"). 0, or -1 (printed). */
static int parse_flame_args(int argc, char **argv, const char *allowed, bool two_sides,
                            struct flame_args *a)
{
    memset(a, 0, sizeof *a);
    a->width = 1200;
    a->top = 10;
    a->load.fold_clones = true;
    a->load.inlines = INLINES_FOLD;
    a->files = calloc((size_t)argc + 1, sizeof *a->files);
    a->current = calloc((size_t)argc + 1, sizeof *a->current);
    if (!a->files || !a->current)
        return -1;
    bool after = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        char opt = 0;
        if (strcmp(s, "--") == 0 && two_sides && !after) {
            after = true;
            continue;
        }
        if (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0)
            opt = 'o';
        else if (strcmp(s, "--title") == 0)
            opt = 't';
        else if (strcmp(s, "--width") == 0)
            opt = 'w';
        else if (strcmp(s, "--self") == 0)
            opt = 's';
        else if (strcmp(s, "--icicle") == 0 || strcmp(s, "--inverted") == 0)
            opt = 'i';
        else if (strcmp(s, "--format") == 0 || strcmp(s, "-f") == 0)
            opt = 'f';
        else if (strcmp(s, "--top") == 0)
            opt = 'n';
        else if (strcmp(s, "--inlines") == 0)
            opt = 'I';
        else if (strcmp(s, "--memory") == 0)
            opt = 'M';
        else if (strcmp(s, "--live") == 0)
            opt = 'L';
        else if (strcmp(s, "--exit") == 0)
            opt = 'X';
        else if (s[0] == '-' && s[1]) {
            cli_usage_error("%s: unknown option '%s'", argv[0], s);
            return -1;
        }
        if (opt && !strchr(allowed, opt)) {
            cli_usage_error("%s: unknown option '%s'", argv[0], s);
            return -1;
        }
        switch (opt) {
        case 'o':
        case 't':
        case 'f':
            if (need_value(argc, argv, i))
                return -1;
            if (!*argv[i + 1]) {
                cli_usage_error("%s: empty value", s);
                return -1;
            }
            *(opt == 'o' ? &a->output : opt == 't' ? &a->title : &a->format) = argv[++i];
            break;
        case 'w':
            if (need_value(argc, argv, i) ||
                cli_parse_uint("--width", argv[++i], 200, 100000, &a->width))
                return -1;
            break;
        case 'n':
            if (need_value(argc, argv, i) ||
                cli_parse_uint("--top", argv[++i], 0, 1000000, &a->top))
                return -1;
            break;
        case 'I':
            if (need_value(argc, argv, i) || load_opts_inlines(&a->load, argv[++i]) != 0)
                return -1;
            break;
        case 's':
            a->reverse = true;
            break;
        case 'M':
            a->load.memory = true;
            break;
        case 'L':
            a->live = true;
            break;
        case 'X':
            a->exit_live = true;
            break;
        case 'i':
            a->icicle = true;
            break;
        default:
            if (after)
                a->current[a->ncurrent++] = argv[i];
            else
                a->files[a->nfiles++] = argv[i];
        }
    }
    if ((a->live || a->exit_live) && !a->load.memory) {
        cli_error("%s: %s goes with --memory", argv[0], a->live ? "--live" : "--exit");
        return -1;
    }
    if (a->live && a->exit_live) {
        cli_error("%s: --live or --exit, not both", argv[0]);
        return -1;
    }
    a->load.memory_metric = a->live        ? MEM_PEAK_LIVE
                            : a->exit_live ? MEM_EXIT_LIVE
                                           : MEM_ALLOC_BYTES;
    return 0;
}

/* What a memory view's widths are: "bytes", or for --exit "bytes live at exit". */
static const char *memory_unit(const struct flame_args *a)
{
    return !a->load.memory ? NULL
           : a->live       ? "bytes live at the peak"
           : a->exit_live  ? "bytes live at exit"
                           : "bytes allocated";
}

static void flame_args_free(struct flame_args *a)
{
    free(a->files);
    free(a->current);
}

/* ---- flamegraph -------------------------------------------------------------------------- */

void usage_flamegraph(FILE *out)
{
    fprintf(out,
            "usage: profreg flamegraph PROFILE... [-o FILE.svg] [--title T] [--self]\n"
            "                          [--width PX] [--icicle] [--inlines fold|expand]\n"
            "                          [--memory [--live|--exit]]\n"
            "\n"
            "Writes a flame graph of the profiles' stacks (several are merged: the runs of one\n"
            "invocation) as one self-contained SVG: hover for samples and share, click to zoom,\n"
            "Search (or Ctrl-F) takes a regular expression and shows the matched share.\n"
            "PROFILE is a profile JSON or a folded stack file (FlameGraph's format).\n"
            "\n"
            "  -o, --output FILE  write there (default: standard output, not a terminal)\n"
            "  --title T          the title (default \"Flame Graph\")\n"
            "  --self             bottom-up: the functions where samples were taken at the\n"
            "                     bottom (widths are self time), their callers above\n"
            "  --width PX         image width (default 1200)\n"
            "  --icicle           root at the top, stacks growing down (--inverted)\n"
            "  --inlines MODE     fold (default: inlined code counts for the function it was\n"
            "                     inlined into) or expand (inlined functions as frames)\n"
            "  --memory           the sampled allocations (PROFREG_MEMORY=1) instead of CPU\n"
            "                     samples: widths are the bytes allocated by each stack\n"
            "  --live             with --memory: the bytes live at the peak of the heap\n"
            "  --exit             with --memory: the bytes still live at exit (leaks)\n"
            "\n"
            "Exit: 0 written, 2 usage error or bad input (nothing written).\n");
}

struct svg_ctx {
    const struct flame_tree *tree;
    const struct flame_options *opts;
};

static int svg_cb(FILE *f, void *ctx)
{
    const struct svg_ctx *c = ctx;
    return render_flame_svg(f, c->tree, c->opts);
}

static void subtitle_of(char *buf, size_t len, size_t nfiles, const struct pr_profile *p,
                        const char *unit, const char *extra)
{
    char amount[160];
    if (unit) { /* a memory view: bytes, estimated from sampled allocations */
        char bytes[32];
        mem_format_bytes((double)p->total_samples, bytes, sizeof bytes);
        snprintf(amount, sizeof amount, "%s %s (estimated)", bytes, unit);
    } else {
        snprintf(amount, sizeof amount, "%llu samples", (unsigned long long)p->total_samples);
    }
    snprintf(buf, len, "%zu profile%s, %s%s%s", nfiles, nfiles == 1 ? "" : "s", amount,
             extra ? "; " : "", extra ? extra : "");
}

int cmd_flamegraph(int argc, char **argv)
{
    struct flame_args a;
    int rc = EXIT_USAGE;
    if (parse_flame_args(argc, argv, "otwsiIMLX", false, &a) != 0)
        goto out;
    if (a.nfiles == 0) {
        cli_usage_error("flamegraph: no profile given (profreg flamegraph PROFILE... -o FILE.svg)");
        goto out;
    }
    struct pr_profile p;
    if (read_merged(a.files, a.nfiles, false, &a.load, &p) != 0)
        goto out;
    struct flame_tree t;
    if (flame_build(&p, a.reverse, &t) != 0) {
        cli_error("out of memory building the flame graph");
        profile_free(&p);
        goto out;
    }
    char sub[256];
    subtitle_of(sub, sizeof sub, a.nfiles, &p, memory_unit(&a),
                !a.reverse      ? NULL
                : a.load.memory ? "bottom-up: widths are the allocating functions' own"
                                : "bottom-up: widths are self time");
    const char *title = a.title ? a.title : a.load.memory ? "Allocation Flame Graph" : NULL;
    struct flame_options o = {title, sub, (int)a.width, a.icicle, NULL, memory_unit(&a)};
    struct svg_ctx ctx = {&t, &o};
    rc = write_output(a.output, "an SVG", svg_cb, &ctx, NULL) == 0 ? EXIT_OK : EXIT_USAGE;
    flame_free(&t);
    profile_free(&p);
out:
    flame_args_free(&a);
    return rc;
}

/* ---- export ------------------------------------------------------------------------------ */

void usage_export(FILE *out)
{
    fprintf(out,
            "usage: profreg export PROFILE... --format folded|pprof|speedscope [-o FILE]\n"
            "                      [--inlines fold|expand] [--memory [--live|--exit]]\n"
            "\n"
            "Writes the profiles' stacks (several are merged) for other tools:\n"
            "  folded      FlameGraph's 'frame;frame;frame count' lines (flamegraph.pl, inferno)\n"
            "  pprof       gzip-compressed profile.proto (go tool pprof, Grafana Pyroscope)\n"
            "  speedscope  speedscope's JSON file format (https://www.speedscope.app)\n"
            "\n"
            "  -f, --format F     one of the above (required)\n"
            "  -o, --output FILE  write there (default: standard output, not a terminal)\n"
            "  --inlines MODE     fold (default: inlined code counts for the function it was\n"
            "                     inlined into) or expand (inlined functions as frames)\n"
            "  --memory           the sampled allocations (PROFREG_MEMORY=1): pprof gets Go's\n"
            "                     heap profile types alloc_objects, alloc_space and inuse_space\n"
            "                     (live at exit); folded and speedscope the bytes allocated,\n"
            "                     or with --live those live at the peak, --exit at exit\n"
            "\n"
            "Exit: 0 written, 2 usage error or bad input (nothing written).\n");
}

struct export_ctx {
    const struct pr_profile *p;
    const char *format, *name;
    char err[512];
    bool memory_pprof; /* p's memory section, as a heap profile */
};

static int export_cb(FILE *f, void *ctx)
{
    struct export_ctx *c = ctx;
    if (strcmp(c->format, "folded") == 0)
        return export_folded(f, c->p);
    if (strcmp(c->format, "speedscope") == 0)
        return export_speedscope(f, c->p, c->name);
    if (c->memory_pprof)
        return export_pprof_memory(f, c->p, c->err, sizeof c->err);
    return export_pprof(f, c->p, c->err, sizeof c->err);
}

int cmd_export(int argc, char **argv)
{
    struct flame_args a;
    int rc = EXIT_USAGE;
    if (parse_flame_args(argc, argv, "ofIMLX", false, &a) != 0)
        goto out;
    if (!a.format) {
        cli_usage_error("export: --format folded|pprof|speedscope is required");
        goto out;
    }
    if (strcmp(a.format, "folded") != 0 && strcmp(a.format, "pprof") != 0 &&
        strcmp(a.format, "speedscope") != 0) {
        cli_usage_error("--format: '%s' is not folded, pprof or speedscope", a.format);
        goto out;
    }
    if (a.nfiles == 0) {
        cli_usage_error("export: no profile given (profreg export PROFILE... --format F -o FILE)");
        goto out;
    }
    struct pr_profile p;
    bool heap = a.load.memory && strcmp(a.format, "pprof") == 0;
    if (heap && (a.live || a.exit_live)) {
        cli_error("export: a pprof heap profile has every memory type: no --live or --exit");
        goto out;
    }
    if (heap ? load_memory_merged(a.files, a.nfiles, &a.load, &p) != 0
             : read_merged(a.files, a.nfiles, false, &a.load, &p) != 0)
        goto out;
    struct export_ctx ctx = {&p, a.format, fs_basename(a.files[0]), "", heap};
    if (a.nfiles == 1 && p.executable)
        ctx.name = fs_basename(p.executable);
    if (write_output(a.output, strcmp(a.format, "pprof") == 0 ? "binary pprof data" : a.format,
                     export_cb, &ctx, ctx.err) == 0)
        rc = EXIT_OK;
    profile_free(&p);
out:
    flame_args_free(&a);
    return rc;
}

/* ---- diff -------------------------------------------------------------------------------- */

void usage_diff(FILE *out)
{
    fprintf(out,
            "usage: profreg diff BASE... -- CURRENT... [-o FILE.svg] [--title T] [--width PX]\n"
            "                    [--icicle] [--top N] [--inlines fold|expand]\n"
            "                    [--memory [--live|--exit]]\n"
            "\n"
            "Compares two sets of runs: BASE is profiles, folded stack files, or a baseline file\n"
            "(baselines keep the runs' stacks); CURRENT is profiles or folded files; each side's\n"
            "files are merged. Prints the functions whose inclusive and self shares moved most,\n"
            "and with -o writes a differential flame graph: shape and widths from CURRENT, each\n"
            "frame coloured by the change of its share against BASE (red grew, blue shrank,\n"
            "deeper colour for a larger change; grey unchanged); hover shows before and after.\n"
            "\n"
            "  -o, --output FILE  write the SVG there\n"
            "  --title T          its title (default \"Differential Flame Graph\")\n"
            "  --width PX         its width (default 1200)\n"
            "  --icicle           root at the top\n"
            "  --top N            rows of each movers table (default 10; 0: none)\n"
            "  --inlines MODE     fold (default: inlined code counts for the function it was\n"
            "                     inlined into) or expand (inlined functions as frames)\n"
            "  --memory           the sampled allocations (PROFREG_MEMORY=1) of profiles on both\n"
            "                     sides: shares of the bytes allocated, with --live of those\n"
            "                     live at the peak, --exit at exit; and both sides' totals\n"
            "\n"
            "Exit: 0 done, 2 usage error or bad input (nothing written).\n");
}

struct mover {
    const char *name;
    double now_total, before_total, now_self, before_self;
};

static int cmp_mover(const void *x, const void *y, void *ctx)
{
    bool sort_by_self = *(const bool *)ctx;
    const struct mover *a = x, *b = y;
    double da = sort_by_self ? a->now_self - a->before_self : a->now_total - a->before_total;
    double db = sort_by_self ? b->now_self - b->before_self : b->now_total - b->before_total;
    if (fabs(da) != fabs(db))
        return fabs(da) > fabs(db) ? -1 : 1;
    return strcmp(a->name, b->name);
}

static double pct(uint64_t v, uint64_t total)
{
    return total ? (double)v * 100.0 / (double)total : 0;
}

/* Every function of either side with its shares on both. */
/* The baseline's stand-ins for stacks it did not keep: weight, not functions. */
static bool is_cut_weight(const char *name)
{
    return strcmp(name, BASELINE_OTHER) == 0 || strcmp(name, BASELINE_OTHER_STACKS) == 0;
}

static struct mover *movers_of(const struct pr_profile *cur, const struct pr_profile *base,
                               size_t *n)
{
    struct mover *m = calloc(cur->nfunctions + base->nfunctions + 1, sizeof *m);
    struct hmap names;
    hmap_init(&names);
    *n = 0;
    for (size_t i = 0; m && i < cur->nfunctions; i++) {
        const struct pr_function *f = &cur->functions[i];
        uint32_t v;
        if (is_cut_weight(f->name))
            continue;
        if (hmap_intern(&names, f->name, strlen(f->name), (uint32_t)*n, &v) < 0)
            goto oom;
        m[(*n)++] = (struct mover){f->name, pct(f->samples, cur->total_samples), 0,
                                   pct(f->self_samples, cur->total_samples), 0};
    }
    for (size_t i = 0; m && i < base->nfunctions; i++) {
        const struct pr_function *f = &base->functions[i];
        uint32_t v;
        if (is_cut_weight(f->name))
            continue;
        int ins = hmap_intern(&names, f->name, strlen(f->name), (uint32_t)*n, &v);
        if (ins < 0)
            goto oom;
        if (ins == 1)
            m[(*n)++] = (struct mover){f->name, 0, 0, 0, 0};
        m[v].before_total = pct(f->samples, base->total_samples);
        m[v].before_self = pct(f->self_samples, base->total_samples);
    }
    hmap_free(&names);
    return m;
oom:
    hmap_free(&names);
    free(m);
    return NULL;
}

/* of: what the shares are of ("samples", "bytes allocated", ...) */
static void print_movers(struct mover *m, size_t n, bool self, size_t top, const char *of)
{
    array_sort_r(m, n, sizeof *m, cmp_mover, &self);
    printf("\nLargest movers, %s share (now vs before, percent of %s):\n",
           self ? "self" : "inclusive", of);
    printf("  %8s  %8s  %8s  %s\n", "now", "before", "change", "function");
    for (size_t i = 0; i < n && i < top; i++) {
        double now = self ? m[i].now_self : m[i].now_total;
        double before = self ? m[i].before_self : m[i].before_total;
        printf("  %8.2f  %8.2f  %+8.2f  ", now, before, now - before);
        term_put(stdout, m[i].name, SIZE_MAX);
        putchar('\n');
    }
}

int cmd_diff(int argc, char **argv)
{
    struct flame_args a;
    int rc = EXIT_USAGE;
    if (parse_flame_args(argc, argv, "otwinIMLX", true, &a) != 0)
        goto out;
    if (a.nfiles == 0 || a.ncurrent == 0) {
        cli_usage_error("diff: give both sides: profreg diff BASE... -- CURRENT... [-o FILE.svg]");
        goto out;
    }
    struct pr_profile base, cur;
    if (read_merged(a.files, a.nfiles, true, &a.load, &base) != 0)
        goto out;
    if (read_merged(a.current, a.ncurrent, false, &a.load, &cur) != 0) {
        profile_free(&base);
        goto out;
    }
    struct flame_tree bt, ct;
    int e1 = flame_build(&base, false, &bt), e2 = flame_build(&cur, false, &ct);
    size_t nm = 0;
    struct mover *m = movers_of(&cur, &base, &nm);
    if (e1 || e2 || !m) {
        cli_error("out of memory comparing the stacks");
    } else {
        rc = EXIT_OK;
        if (a.output) {
            char sub[512], now[64], before[64];
            if (a.load.memory) {
                mem_format_bytes((double)cur.total_samples, now, sizeof now);
                mem_format_bytes((double)base.total_samples, before, sizeof before);
            } else {
                snprintf(now, sizeof now, "%llu samples", (unsigned long long)cur.total_samples);
                snprintf(before, sizeof before, "%llu samples",
                         (unsigned long long)base.total_samples);
            }
            snprintf(sub, sizeof sub,
                     "shape: current (%zu file%s, %s); colour: change of share "
                     "against the baseline (%zu file%s, %s), red grew, blue shrank",
                     a.ncurrent, a.ncurrent == 1 ? "" : "s", now, a.nfiles,
                     a.nfiles == 1 ? "" : "s", before);
            struct flame_options o = {a.title ? a.title : "Differential Flame Graph",
                                      sub,
                                      (int)a.width,
                                      a.icicle,
                                      &bt,
                                      memory_unit(&a)};
            struct svg_ctx ctx = {&ct, &o};
            if (write_output(a.output, "an SVG", svg_cb, &ctx, NULL) != 0)
                rc = EXIT_USAGE;
        }
        const char *of = a.load.memory ? memory_unit(&a) : "samples";
        if (rc == EXIT_OK && a.load.memory) {
            char now[32], before[32];
            mem_format_bytes((double)cur.total_samples, now, sizeof now);
            mem_format_bytes((double)base.total_samples, before, sizeof before);
            double change = base.total_samples
                                ? ((double)cur.total_samples / (double)base.total_samples - 1) * 100
                                : NAN;
            printf("%s (estimated): %s now, %s before", of, now, before);
            if (!isnan(change))
                printf(" (%+.1f %%)", change);
            printf("\n");
        }
        if (rc == EXIT_OK && a.top > 0) {
            print_movers(m, nm, false, a.top, of);
            print_movers(m, nm, true, a.top, of);
        }
    }
    free(m);
    if (!e1)
        flame_free(&bt);
    if (!e2)
        flame_free(&ct);
    profile_free(&base);
    profile_free(&cur);
out:
    flame_args_free(&a);
    return rc;
}
