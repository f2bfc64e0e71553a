/* SPDX-License-Identifier: MIT */
/* stackio.c — what flamegraph, diff and export share: inputs that keep stacks (profile JSON,
 * folded stacks, baselines), one output file, and their common options. */
#include "stackio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/export/export.h"
#include "analysis/read/profile_read.h"
#include "core/fsutil.h"

void stack_args_init(struct stack_args *a)
{
    memset(a, 0, sizeof *a);
    a->load.fold_clones = true;
    a->load.inlines = INLINES_FOLD;
}

int stack_args_check(const char *cmd, struct stack_args *a)
{
    if ((a->live || a->exit_live) && !a->load.memory) {
        cli_error("%s: %s goes with --memory", cmd, a->live ? "--live" : "--exit");
        return -1;
    }
    if (a->live && a->exit_live) {
        cli_error("%s: --live or --exit, not both", cmd);
        return -1;
    }
    a->load.memory_metric = a->live        ? MEM_PEAK_LIVE
                            : a->exit_live ? MEM_EXIT_LIVE
                                           : MEM_ALLOC_BYTES;
    return 0;
}

const char *stack_args_unit(const struct stack_args *a)
{
    return !a->load.memory ? NULL
           : a->live       ? "bytes live at the peak"
           : a->exit_live  ? "bytes live at exit"
                           : "bytes allocated";
}

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
static int read_input(const char *path, bool allow_baseline, bool memory, struct pr_profile *p,
                      bool *from_baseline, char **baseline_region)
{
    *from_baseline = false;
    *baseline_region = NULL;
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
                *from_baseline = true;
                *baseline_region = b.region; /* moved */
                b.region = NULL;
            }
            baseline_free(&b);
            return rc;
        }
        baseline_free(&b);
    }
    cli_error("%s", err);
    return -1;
}

int read_merged(char **paths, size_t n, bool allow_baseline, const struct load_opts *lo,
                struct pr_profile *merged)
{
    profile_init(merged);
    for (size_t i = 0; i < n; i++) {
        struct pr_profile p;
        profile_init(&p);
        bool from_baseline;
        char *base_region;
        if (read_input(paths[i], allow_baseline, lo->memory, &p, &from_baseline, &base_region) !=
                0 ||
            load_opts_view(lo, paths[i], &p) != 0) {
            profile_free(&p);
            profile_free(merged);
            return -1;
        }
        /* a baseline's stacks are already cut to its region: used as they are */
        bool same_scope =
            !from_baseline || baseline_region_check(paths[i], base_region, lo->region) == 0;
        free(base_region);
        if (!same_scope) {
            profile_free(&p);
            profile_free(merged);
            return -1;
        }
        if (!p.has_stacks) {
            cli_error("%s: the profile has no stacks (profiles written by parse-profile.py list "
                      "functions "
                      "only)",
                      paths[i]);
            profile_free(&p);
            profile_free(merged);
            return -1;
        }
        if (!from_baseline && load_opts_region(lo, paths[i], &p) != 0) {
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

int write_output(const char *path, const char *what, writer_fn fn, void *ctx, const char *cb_err)
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

int svg_cb(FILE *f, void *ctx)
{
    const struct svg_ctx *c = ctx;
    return render_flame_svg(f, c->tree, c->opts);
}
