/* SPDX-License-Identifier: MIT */
/* baseline.c — reading (validated) and writing (stable formatting) baseline JSON.
 *
 * Invariant: the writer's output depends only on the struct (no clock, no environment),
 * and every file it writes is read back by baseline_read_* into the same ranking. */
#include "analysis/read/baseline.h"
#include "core/array.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/render/flame.h"
#include "core/hashmap.h"
#include "analysis/read/json_read.h"
#include "core/json_write.h"

void baseline_init(struct baseline *b)
{
    memset(b, 0, sizeof *b);
    b->git_dirty = -1;
    profile_init(&b->stacks);
}

void baseline_free(struct baseline *b)
{
    avg_profile_free(&b->avg);
    free(b->executable);
    free(b->average_timestamp);
    free(b->created_at);
    free(b->git_commit);
    free(b->profreg_version);
    free(b->project_root);
    free(b->region);
    profile_free(&b->stacks);
    test_profile_free(&b->tests);
    for (int k = 0; k < BASELINE_MEM_VIEWS; k++)
        avg_profile_free(&b->mem[k]);
    baseline_init(b);
}

/* ---- reading ---------------------------------------------------------------------------- */

static int read_metadata(struct jr *r, const struct jv *root, struct baseline *b)
{
    const struct jv *m;
    if (jr_opt_object(r, root, "metadata", "", &m))
        return -1;
    if (!m)
        return 0;
    const struct jv *runs = jr_get(r, m, "runs_averaged");
    if (runs && !jv_is_null(runs)) {
        uint64_t v;
        if (jr_count(r, runs, "metadata.runs_averaged", &v))
            return -1;
        if (v > 1000000)
            return jr_fail(r, "metadata.runs_averaged: %llu is not a plausible run count",
                           (unsigned long long)v);
        b->avg.runs = (unsigned)v;
    }
    const struct jv *dirty = jr_get(r, m, "git_dirty");
    if (dirty && !jv_is_null(dirty)) {
        if (!jv_is_bool(dirty))
            return jr_fail(r, "metadata.git_dirty: expected a boolean, got %s",
                           jr_type_name(dirty));
        b->git_dirty = jv_is_true(dirty);
    }
    const struct jv *seen = jr_get(r, m, "functions_seen");
    if (seen && !jv_is_null(seen)) {
        uint64_t v;
        if (jr_count(r, seen, "metadata.functions_seen", &v))
            return -1;
        b->functions_seen = (size_t)v;
    }
    return jr_opt_string(r, m, "executable", "metadata", &b->executable) ||
                   jr_opt_string(r, m, "average_timestamp", "metadata", &b->average_timestamp) ||
                   jr_opt_string(r, m, "created_at", "metadata", &b->created_at) ||
                   jr_opt_string(r, m, "git_commit", "metadata", &b->git_commit) ||
                   jr_opt_string(r, m, "profreg_version", "metadata", &b->profreg_version) ||
                   jr_opt_string(r, m, "region", "metadata", &b->region)
               ? -1
               : 0;
}

static int read_function(struct jr *r, const struct jv *e, const char *array, size_t i,
                         struct avg_function *f)
{
    char where[96], key[160];
    snprintf(where, sizeof where, "%s[%zu]", array, i);
    f->line = -1;
    f->order = i;
    f->mean_pct = f->sd_pct = f->mean_samples = f->sd_samples = NAN;
    f->avg_self_pct = f->self_mean_pct = f->self_sd_pct = NAN;
    f->self_mean_samples = f->self_sd_samples = NAN;
    if (!jv_is_object(e))
        return jr_fail(r, "%s: expected an object, got %s", where, jr_type_name(e));
    const struct jv *name = jr_get(r, e, "name");
    if (!jv_is_string(name) || !*jv_string(name))
        return jr_fail(r, "%s.name: expected a non-empty string, got %s", where,
                       name ? jr_type_name(name) : "nothing");
    if (!(f->name = strdup(jv_string(name))))
        return jr_fail(r, "out of memory");
    snprintf(key, sizeof key, "%s.avg_percentage", where);
    if (jr_number(r, jr_get(r, e, "avg_percentage"), key, &f->avg_percentage))
        return -1;
    if (f->avg_percentage > 100.0 + 1e-6)
        return jr_fail(r, "%s: avg_percentage %g is above 100", where, f->avg_percentage);
    if (jr_opt_number(r, e, "avg_samples", where, &f->avg_samples))
        return -1;
    if (isnan(f->avg_samples))
        f->avg_samples = 0;
    const struct jv *occ = jr_get(r, e, "occurrences");
    f->occurrences = 0;
    if (occ && !jv_is_null(occ)) {
        uint64_t v;
        snprintf(key, sizeof key, "%s.occurrences", where);
        if (jr_count(r, occ, key, &v))
            return -1;
        f->occurrences = (unsigned)(v > 1000000 ? 1000000 : v);
    }
    const struct jv *line = jr_get(r, e, "line");
    if (line && !jv_is_null(line)) {
        uint64_t v;
        snprintf(key, sizeof key, "%s.line", where);
        if (jr_count(r, line, key, &v))
            return -1;
        f->line = (long)v;
    }
    if (jr_opt_number(r, e, "mean_percentage", where, &f->mean_pct) ||
        jr_opt_number(r, e, "sd_percentage", where, &f->sd_pct) ||
        jr_opt_number(r, e, "mean_samples", where, &f->mean_samples) ||
        jr_opt_number(r, e, "sd_samples", where, &f->sd_samples))
        return -1;
    if (f->mean_pct > 100.0 + 1e-6)
        return jr_fail(r, "%s: mean_percentage %g is above 100", where, f->mean_pct);
    if (jr_opt_number(r, e, "self_mean_percentage", where, &f->self_mean_pct) ||
        jr_opt_number(r, e, "self_sd_percentage", where, &f->self_sd_pct) ||
        jr_opt_number(r, e, "self_mean_samples", where, &f->self_mean_samples) ||
        jr_opt_number(r, e, "self_sd_samples", where, &f->self_sd_samples))
        return -1;
    if (f->self_mean_pct > 100.0 + 1e-6)
        return jr_fail(r, "%s: self_mean_percentage %g is above 100", where, f->self_mean_pct);
    if (f->self_mean_pct > f->mean_pct + 1e-3)
        return jr_fail(r, "%s: self_mean_percentage %g is above mean_percentage %g", where,
                       f->self_mean_pct, f->mean_pct);
    return jr_opt_string(r, e, "source_file", where, &f->source_file) ||
                   jr_opt_string(r, e, "source_path", where, &f->source_path)
               ? -1
               : 0;
}

/* A whole-run metric object of the summary, when present. */
static int read_metric(struct jr *r, const struct jv *s, const char *key, struct run_metric *m)
{
    const struct jv *o;
    char where[64];
    snprintf(where, sizeof where, "summary.%s", key);
    m->median = m->mean = m->sd = NAN;
    m->n = 0;
    if (jr_opt_object(r, s, key, "summary", &o))
        return -1;
    if (!o)
        return 0;
    uint64_t n = 0;
    const struct jv *runs = jr_get(r, o, "runs");
    char key_runs[96];
    snprintf(key_runs, sizeof key_runs, "%s.runs", where);
    if (jr_opt_number(r, o, "median", where, &m->median) ||
        jr_opt_number(r, o, "mean", where, &m->mean) || jr_opt_number(r, o, "sd", where, &m->sd) ||
        (runs && jr_count(r, runs, key_runs, &n)))
        return -1;
    m->n = (unsigned)(n > 1000000 ? 1000000 : n);
    return 0;
}

/* The function list `array` (arr, which must be there) into a->functions. */
static int read_function_list(struct jr *r, const struct jv *arr, const char *array,
                              struct avg_profile *a)
{
    if (!arr)
        return jr_fail(r, "%s: missing", array);
    if (!jv_is_array(arr))
        return jr_fail(r, "%s: expected an array, got %s", array, jr_type_name(arr));
    size_t n = jv_size(arr);
    a->functions = calloc(n ? n : 1, sizeof *a->functions);
    if (!a->functions)
        return jr_fail(r, "out of memory");
    struct hmap names;
    hmap_init(&names);
    int rc = 0;
    const struct jv *e = jv_child(r->doc, arr);
    for (size_t i = 0; i < n && rc == 0; i++, e = jv_next(r->doc, e, arr)) {
        a->nfunctions = i + 1;
        struct avg_function *f = &a->functions[i];
        rc = read_function(r, e, array, i, f);
        uint32_t first;
        int ins = rc ? 1 : hmap_intern(&names, f->name, strlen(f->name), (uint32_t)i, &first);
        if (ins < 0)
            rc = jr_fail(r, "out of memory");
        else if (ins == 0)
            rc = jr_fail(r, "%s[%zu]: duplicate function name (also at [%u]): %.200s", array, i,
                         first, f->name);
    }
    hmap_free(&names);
    return rc;
}

static int read_functions(struct jr *r, const struct jv *root, struct baseline *b)
{
    return read_function_list(r, jr_get(r, root, "top_functions"), "top_functions", &b->avg);
}

/* ---- stacks: the call tree, or the flat list of older baselines ---------------------------- */

/* Numbers in "call_tree.preorder": base 32, most significant digit first, the last digit of a
 * number from TREE_LAST and any before it from TREE_LEAD, so that numbers need no separator
 * (0-31 read as one digit or letter: "5" is 5, "B8" is 1 x 32 + 8 = 40). */
static const char TREE_LAST[] = "0123456789abcdefghijklmnopqrstuv";
static const char TREE_LEAD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZwxyz-_";
#define TREE_CHUNK     100  /* characters per string of "preorder" */
#define TREE_MAX_DEPTH 4096 /* deeper nodes are refused (stacks are cut at 256 frames) */

/* digit value of c, with *last set when it ends a number; -1 when not a digit */
static int tree_digit(char c, bool *last)
{
    const char *at;
    if (c && (at = strchr(TREE_LAST, c))) {
        *last = true;
        return (int)(at - TREE_LAST);
    }
    if (c && (at = strchr(TREE_LEAD, c))) {
        *last = false;
        return (int)(at - TREE_LEAD);
    }
    return -1;
}

/* Names the tree's function indices refer to: top_functions as the file lists them (read
 * before the ranking sort), then stack_functions. NULL on error (r->err set). */
static const char **tree_names(struct jr *r, const struct jv *names, const struct baseline *b,
                               size_t *n)
{
    size_t ntop = b->avg.nfunctions, nextra = names ? jv_size(names) : 0;
    const char **all = malloc((ntop + nextra + 1) * sizeof *all);
    if (!all) {
        jr_fail(r, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < ntop; i++)
        all[i] = b->avg.functions[i].name;
    const struct jv *e = names ? jv_child(r->doc, names) : NULL;
    for (size_t i = 0; i < nextra; i++, e = jv_next(r->doc, e, names)) {
        if (!jv_is_string(e) || !*jv_string(e)) {
            jr_fail(r, "stack_functions[%zu]: expected a non-empty string, got %s", i,
                    jr_type_name(e));
            free(all);
            return NULL;
        }
        all[ntop + i] = jv_string(e);
    }
    *n = ntop + nextra;
    return all;
}

/* The decoded tree: per node its parent (SIZE_MAX: a root), function and self samples. */
struct tree_nodes {
    size_t n;
    size_t *parent;
    uint64_t *fn, *self;
    uint32_t *depth;
    bool *has_child;
};

static void tree_nodes_free(struct tree_nodes *t)
{
    free(t->parent);
    free(t->fn);
    free(t->self);
    free(t->depth);
    free(t->has_child);
}

/* Takes one decoded number: node t->n's (up, function, self) in turn. */
static int tree_take(struct jr *r, struct tree_nodes *t, unsigned k, uint64_t v, size_t nnames)
{
    size_t i = t->n;
    if (k == 0) {
        if (v > i)
            return jr_fail(r,
                           "call_tree.preorder: node %zu: its parent, %llu places back, would be "
                           "before the first node",
                           i, (unsigned long long)v);
        t->parent[i] = v ? i - v : SIZE_MAX;
        t->depth[i] = v ? t->depth[i - v] + 1 : 1;
        if (t->depth[i] > TREE_MAX_DEPTH)
            return jr_fail(r, "call_tree.preorder: node %zu: deeper than %d frames", i,
                           TREE_MAX_DEPTH);
        if (v)
            t->has_child[i - v] = true;
    } else if (k == 1) {
        if (v >= nnames)
            return jr_fail(r,
                           "call_tree.preorder: node %zu: function %llu is not an index into "
                           "top_functions and stack_functions (%zu names)",
                           i, (unsigned long long)v, nnames);
        t->fn[i] = v;
    } else {
        t->self[i] = v;
        t->n++;
    }
    return 0;
}

/* Decodes "preorder" (an array of strings read as one) into t. */
static int tree_decode(struct jr *r, const struct jv *pre, size_t nnames, struct tree_nodes *t)
{
    size_t chars = 0;
    const struct jv *e = jv_child(r->doc, pre);
    for (size_t i = 0; i < jv_size(pre); i++, e = jv_next(r->doc, e, pre)) {
        if (!jv_is_string(e))
            return jr_fail(r, "call_tree.preorder[%zu]: expected a string, got %s", i,
                           jr_type_name(e));
        chars += jv_size(e);
    }
    size_t cap = chars / 3 + 1; /* a node takes at least three digits */
    t->parent = malloc(cap * sizeof *t->parent);
    t->fn = malloc(cap * sizeof *t->fn);
    t->self = malloc(cap * sizeof *t->self);
    t->depth = malloc(cap * sizeof *t->depth);
    t->has_child = calloc(cap, sizeof *t->has_child);
    if (!t->parent || !t->fn || !t->self || !t->depth || !t->has_child)
        return jr_fail(r, "out of memory");
    uint64_t v = 0;
    unsigned k = 0, digits = 0;
    e = jv_child(r->doc, pre);
    for (size_t i = 0; i < jv_size(pre); i++, e = jv_next(r->doc, e, pre)) {
        const char *s = jv_string(e);
        for (size_t c = 0; c < jv_size(e); c++) {
            bool last;
            int d = tree_digit(s[c], &last);
            if (d < 0)
                return jr_fail(r,
                               "call_tree.preorder[%zu]: character %zu (0x%02x) is not a digit of "
                               "the encoding",
                               i, c, (unsigned char)s[c]);
            if (++digits > 12) /* 60 bits */
                return jr_fail(r, "call_tree.preorder[%zu]: a number of more than 12 digits", i);
            v = v * 32 + (uint64_t)d;
            if (!last)
                continue;
            if (tree_take(r, t, k, v, nnames))
                return -1;
            k = (k + 1) % 3;
            v = 0;
            digits = 0;
        }
    }
    if (k || digits)
        return jr_fail(r, "call_tree.preorder: ends inside node %zu", t->n);
    return 0;
}

/* The decoded tree as stacks: one per node with samples of its own, root first. */
static int tree_to_stacks(struct jr *r, const struct tree_nodes *t, const char **names,
                          size_t nnames, struct pr_profile *p)
{
    uint32_t *map = malloc((nnames ? nnames : 1) * sizeof *map);
    size_t nstacks = 0;
    for (size_t i = 0; i < t->n; i++)
        nstacks += t->self[i] > 0;
    p->functions = calloc(nnames ? nnames : 1, sizeof *p->functions);
    p->stacks = calloc(nstacks ? nstacks : 1, sizeof *p->stacks);
    if (!map || !p->functions || !p->stacks) {
        free(map);
        return jr_fail(r, "out of memory");
    }
    for (size_t i = 0; i < nnames; i++)
        map[i] = UINT32_MAX;
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        if (t->self[i] == 0)
            continue;
        struct pr_stack *st = &p->stacks[p->nstacks++];
        st->depth = t->depth[i];
        st->count = t->self[i];
        if (!(st->frames = malloc(st->depth * sizeof *st->frames))) {
            rc = jr_fail(r, "out of memory");
            break;
        }
        size_t at = i;
        for (uint32_t d = st->depth; d-- > 0; at = t->parent[at]) {
            size_t f = t->fn[at];
            if (map[f] == UINT32_MAX) {
                map[f] = (uint32_t)p->nfunctions;
                p->functions[p->nfunctions].line = -1;
                if (!(p->functions[p->nfunctions++].name = strdup(names[f]))) {
                    rc = jr_fail(r, "out of memory");
                    break;
                }
            }
            st->frames[d] = map[f];
        }
    }
    free(map);
    return rc;
}

/* "call_tree" (with "stack_functions" when the tree names functions beyond top_functions)
 * into b->stacks. */
static int read_call_tree(struct jr *r, const struct jv *tree, const struct jv *names,
                          struct baseline *b)
{
    if (!jv_is_object(tree))
        return jr_fail(r, "call_tree: expected an object, got %s", jr_type_name(tree));
    if (names && !jv_is_array(names))
        return jr_fail(r, "stack_functions: expected an array of names, got %s",
                       jr_type_name(names));
    uint64_t nnodes, samples;
    if (jr_count(r, jr_get(r, tree, "nodes"), "call_tree.nodes", &nnodes) ||
        jr_count(r, jr_get(r, tree, "samples"), "call_tree.samples", &samples))
        return -1;
    const struct jv *pre = jr_get(r, tree, "preorder");
    if (!jv_is_array(pre))
        return jr_fail(r, "call_tree.preorder: expected an array of strings, got %s",
                       jr_type_name(pre));
    size_t nnames;
    const char **all = tree_names(r, names, b, &nnames);
    if (!all)
        return -1;
    struct tree_nodes t = {0};
    int rc = tree_decode(r, pre, nnames, &t);
    uint64_t sum = 0;
    for (size_t i = 0; i < t.n && rc == 0; i++) {
        if (t.self[i] == 0 && !t.has_child[i])
            rc = jr_fail(r, "call_tree.preorder: node %zu: a leaf without samples", i);
        else if (!pr_count_add(&sum, t.self[i]))
            rc = jr_fail(r,
                         "call_tree.preorder: node %zu: the samples add up to more than "
                         PR_MAX_SAMPLES_TEXT,
                         i);
    }
    if (rc == 0 && t.n != nnodes)
        rc = jr_fail(r, "call_tree.nodes: says %llu, preorder holds %zu",
                     (unsigned long long)nnodes, t.n);
    if (rc == 0 && sum != samples)
        rc = jr_fail(r, "call_tree.samples: says %llu, the nodes' own samples add up to %llu",
                     (unsigned long long)samples, (unsigned long long)sum);
    if (rc == 0)
        rc = tree_to_stacks(r, &t, all, nnames, &b->stacks);
    tree_nodes_free(&t);
    free(all);
    if (rc)
        return -1;
    b->stacks.has_stacks = true;
    return profile_recount(&b->stacks) == 0 ? 0 : jr_fail(r, "out of memory");
}

/* The stacks, when kept: "call_tree", or the flat "stacks" of older baselines; into b->stacks. */
static int read_stacks(struct jr *r, const struct jv *root, struct baseline *b)
{
    const struct jv *names = jr_get(r, root, "stack_functions");
    const struct jv *arr = jr_get(r, root, "stacks");
    const struct jv *tree = jr_get(r, root, "call_tree");
    if (tree && arr)
        return jr_fail(r, "stacks and call_tree: a baseline keeps its stacks in one or the other");
    if (tree)
        return read_call_tree(r, tree, names, b);
    if (!names && !arr)
        return 0;
    if (!names || !jv_is_array(names))
        return jr_fail(r, "stack_functions: expected an array of names");
    if (!arr || !jv_is_array(arr))
        return jr_fail(r, "stacks: expected an array");
    struct pr_profile *p = &b->stacks;
    size_t nn = jv_size(names), ns = jv_size(arr);
    p->functions = calloc(nn ? nn : 1, sizeof *p->functions);
    p->stacks = calloc(ns ? ns : 1, sizeof *p->stacks);
    if (!p->functions || !p->stacks)
        return jr_fail(r, "out of memory");
    const struct jv *e = jv_child(r->doc, names);
    for (size_t i = 0; i < nn; i++, e = jv_next(r->doc, e, names)) {
        if (!jv_is_string(e) || !*jv_string(e))
            return jr_fail(r, "stack_functions[%zu]: expected a non-empty string, got %s", i,
                           jr_type_name(e));
        p->functions[i].line = -1;
        if (!(p->functions[i].name = strdup(jv_string(e))))
            return jr_fail(r, "out of memory");
        p->nfunctions = i + 1;
    }
    e = jv_child(r->doc, arr);
    uint64_t sum = 0;
    for (size_t i = 0; i < ns; i++, e = jv_next(r->doc, e, arr)) {
        char where[64];
        snprintf(where, sizeof where, "stacks[%zu]", i);
        if (!jv_is_object(e))
            return jr_fail(r, "%s: expected an object, got %s", where, jr_type_name(e));
        char key[96];
        snprintf(key, sizeof key, "%s.count", where);
        uint64_t count;
        if (jr_count(r, jr_get(r, e, "count"), key, &count))
            return -1;
        if (!pr_count_add(&sum, count))
            return jr_fail(r, "%s: the stacks' counts add up to more than " PR_MAX_SAMPLES_TEXT,
                           key);
        const struct jv *fr = jr_get(r, e, "frames");
        if (!fr || !jv_is_array(fr) || jv_size(fr) == 0)
            return jr_fail(r, "%s.frames: expected a non-empty array of indices", where);
        struct pr_stack *st = &p->stacks[i];
        st->depth = (uint32_t)jv_size(fr);
        st->count = count;
        p->nstacks = i + 1;
        if (!(st->frames = calloc(st->depth, sizeof *st->frames)))
            return jr_fail(r, "out of memory");
        const struct jv *x = jv_child(r->doc, fr);
        for (uint32_t d = 0; d < st->depth; d++, x = jv_next(r->doc, x, fr)) {
            uint64_t v;
            snprintf(key, sizeof key, "%s.frames[%u]", where, d);
            if (jr_count(r, x, key, &v))
                return -1;
            if (v >= nn)
                return jr_fail(r, "%s: %llu is not an index into stack_functions (%zu names)", key,
                               (unsigned long long)v, nn);
            st->frames[d] = (uint32_t)v;
        }
    }
    p->has_stacks = true;
    if (profile_recount(p) != 0)
        return jr_fail(r, "out of memory");
    return 0;
}

/* ---- the tests section: per-test figures (testattr.h) ------------------------------------ */

/* One tests[i] entry into t->tests[i]; nfn is the length of test_functions. */
static int read_test(struct jr *r, const struct jv *e, size_t i, size_t nfn, struct test_stat *s)
{
    char where[64];
    snprintf(where, sizeof where, "tests[%zu]", i);
    if (!jv_is_object(e))
        return jr_fail(r, "%s: expected an object, got %s", where, jr_type_name(e));
    const struct jv *name = jr_get(r, e, "name"), *kind = jr_get(r, e, "kind");
    if (!jv_is_string(name) || !*jv_string(name))
        return jr_fail(r, "%s.name: expected a non-empty string, got %s", where,
                       name ? jr_type_name(name) : "nothing");
    if (!jv_is_string(kind) || test_kind_parse(jv_string(kind), &s->kind) != 0)
        return jr_fail(r, "%s.kind: expected \"gtest\", \"benchmark\", \"catch2\" or \"none\"",
                       where);
    if (!(s->name = strdup(jv_string(name))))
        return jr_fail(r, "out of memory");
    uint64_t runs;
    double *num[5] = {&s->mean_share, &s->sd_share, &s->mean_ms, &s->sd_ms, &s->samples};
    static const char *const keys[5] = {"mean_share", "sd_share", "mean_ms", "sd_ms", "samples"};
    if (jr_elem_count(r, e, "tests", i, "runs", true, &runs) < 0)
        return -1;
    s->runs = (unsigned)(runs > 1000000 ? 1000000 : runs);
    for (int k = 0; k < 5; k++)
        if (jr_elem_number(r, e, "tests", i, keys[k], k < 4, num[k]) < 0)
            return -1;
    if (s->mean_share > 100.0 + 1e-6)
        return jr_fail(r, "%s.mean_share: %g is above 100", where, s->mean_share);
    const struct jv *fns = jr_get(r, e, "functions");
    if (!fns || jv_is_null(fns))
        return 0;
    if (!jv_is_array(fns))
        return jr_fail(r, "%s.functions: expected an array, got %s", where, jr_type_name(fns));
    size_t n = jv_size(fns);
    if (n && !(s->functions = calloc(n, sizeof *s->functions)))
        return jr_fail(r, "out of memory");
    const struct jv *x = jv_child(r->doc, fns);
    for (size_t k = 0; k < n; k++, x = jv_next(r->doc, x, fns)) {
        char key[96];
        snprintf(key, sizeof key, "%s.functions[%zu]", where, k);
        if (!jv_is_array(x) || jv_size(x) != 3)
            return jr_fail(r, "%s: expected [function index, mean ms, self mean ms]", key);
        const struct jv *v = jv_child(r->doc, x);
        uint64_t f;
        struct test_fn_time *ft = &s->functions[k];
        if (jr_count(r, v, key, &f))
            return -1;
        if (f >= nfn)
            return jr_fail(r, "%s: %llu is not an index into test_functions (%zu names)", key,
                           (unsigned long long)f, nfn);
        ft->function = (uint32_t)f;
        v = jv_next(r->doc, v, x);
        if (jr_number(r, v, key, &ft->mean_ms))
            return -1;
        v = jv_next(r->doc, v, x);
        if (jr_number(r, v, key, &ft->self_mean_ms))
            return -1;
        s->nfunctions = k + 1;
    }
    return 0;
}

/* "tests", "test_functions" and "test_runs", when present, into t. */
static int read_tests(struct jr *r, const struct jv *root, struct test_profile *t)
{
    const struct jv *arr = jr_get(r, root, "tests"), *names = jr_get(r, root, "test_functions");
    if (!arr || jv_is_null(arr))
        return 0;
    if (!jv_is_array(arr))
        return jr_fail(r, "tests: expected an array, got %s", jr_type_name(arr));
    if (names && !jv_is_null(names) && !jv_is_array(names))
        return jr_fail(r, "test_functions: expected an array of names, got %s",
                       jr_type_name(names));
    uint64_t runs = 0;
    const struct jv *jruns = jr_get(r, root, "test_runs");
    if (jruns && !jv_is_null(jruns) && jr_count(r, jruns, "test_runs", &runs))
        return -1;
    t->runs = (unsigned)(runs > 1000000 ? 1000000 : runs);
    size_t nn = names && jv_is_array(names) ? jv_size(names) : 0, n = jv_size(arr);
    t->function_names = calloc(nn ? nn : 1, sizeof *t->function_names);
    t->tests = calloc(n ? n : 1, sizeof *t->tests);
    if (!t->function_names || !t->tests)
        return jr_fail(r, "out of memory");
    const struct jv *e = nn ? jv_child(r->doc, names) : NULL;
    for (size_t i = 0; i < nn; i++, e = jv_next(r->doc, e, names)) {
        if (!jv_is_string(e) || !*jv_string(e))
            return jr_fail(r, "test_functions[%zu]: expected a non-empty string, got %s", i,
                           jr_type_name(e));
        if (!(t->function_names[i] = strdup(jv_string(e))))
            return jr_fail(r, "out of memory");
        t->nfunction_names = i + 1;
    }
    struct hmap seen;
    hmap_init(&seen);
    int rc = 0;
    e = jv_child(r->doc, arr);
    for (size_t i = 0; i < n && rc == 0; i++, e = jv_next(r->doc, e, arr)) {
        t->ntests = i + 1;
        rc = read_test(r, e, i, nn, &t->tests[i]);
        uint32_t first;
        const char *name = t->tests[i].name;
        int ins = rc ? 1 : hmap_intern(&seen, name, strlen(name), (uint32_t)i, &first);
        if (ins < 0)
            rc = jr_fail(r, "out of memory");
        else if (ins == 0)
            rc = jr_fail(r, "tests[%zu]: duplicate test name (also at [%u]): %.200s", i, first,
                         name);
        if (rc == 0)
            t->total_samples += t->tests[i].samples;
    }
    hmap_free(&seen);
    return rc;
}

/* The tests section: every test heaviest first while it fits BASELINE_TEST_BYTES (a test
 * left out was lighter than every test kept), each with its functions' mean milliseconds
 * as [index into test_functions, mean ms, self mean ms]. Nothing when no test was
 * recognised. */
static void write_tests(struct jw *w, const struct test_profile *t)
{
    if (!test_profile_has_tests(t))
        return;
    uint32_t *name_at = malloc((t->nfunction_names ? t->nfunction_names : 1) * sizeof *name_at);
    uint32_t *names = malloc((t->nfunction_names ? t->nfunction_names : 1) * sizeof *names);
    if (!name_at || !names) {
        free(name_at);
        free(names);
        return;
    }
    for (size_t i = 0; i < t->nfunction_names; i++)
        name_at[i] = UINT32_MAX;
    size_t nnames = 0, bytes = 0;
    jw_key(w, "test_runs");
    jw_uint(w, t->runs);
    jw_key(w, "tests");
    jw_array_begin(w);
    for (size_t i = 0; i < t->ntests; i++) {
        const struct test_stat *s = &t->tests[i];
        size_t cost = strlen(s->name) + 200;
        if (bytes + cost > BASELINE_TEST_BYTES)
            break;
        bytes += cost;
        jw_object_begin_inline(w);
        jw_key(w, "name");
        jw_string(w, s->name);
        jw_key(w, "kind");
        jw_string(w, test_kind_name(s->kind));
        jw_key(w, "runs");
        jw_uint(w, s->runs);
        jw_key(w, "mean_share");
        jw_double(w, s->mean_share, BASELINE_PCT_DECIMALS);
        jw_key(w, "sd_share");
        jw_double(w, s->sd_share, BASELINE_PCT_DECIMALS);
        jw_key(w, "mean_ms");
        jw_double(w, s->mean_ms, 3);
        jw_key(w, "sd_ms");
        jw_double(w, s->sd_ms, 3);
        jw_key(w, "samples");
        jw_double(w, s->samples, BASELINE_SAMPLES_DECIMALS);
        jw_key(w, "functions");
        jw_array_begin_inline(w);
        for (size_t k = 0; k < s->nfunctions; k++) {
            uint32_t f = s->functions[k].function;
            if (f >= t->nfunction_names)
                continue;
            size_t fcost = 40 + (name_at[f] == UINT32_MAX ? strlen(t->function_names[f]) : 0);
            if (bytes + fcost > BASELINE_TEST_BYTES)
                break;
            bytes += fcost;
            if (name_at[f] == UINT32_MAX) {
                name_at[f] = (uint32_t)nnames;
                names[nnames++] = f;
            }
            jw_array_begin_inline(w);
            jw_uint(w, name_at[f]);
            jw_double(w, s->functions[k].mean_ms, 3);
            jw_double(w, s->functions[k].self_mean_ms, 3);
            jw_array_end(w);
        }
        jw_array_end(w);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "test_functions");
    jw_array_begin(w);
    for (size_t i = 0; i < nnames; i++)
        jw_string(w, t->function_names[names[i]]);
    jw_array_end(w);
    free(name_at);
    free(names);
}

static void finish_averages(struct avg_profile *a, size_t seen);
static int read_memory(struct jr *r, const struct jv *root, struct baseline *b);

static int read_root(struct jr *r, const struct jv *root, struct baseline *b)
{
    if (!jv_is_object(root))
        return jr_fail(r, "expected a JSON object at the top, got %s", jr_type_name(root));
    const struct jv *s;
    if (read_metadata(r, root, b) || jr_opt_object(r, root, "summary", "", &s))
        return -1;
    b->avg.avg_total_samples = 0;
    b->avg.sd_total_samples = NAN;
    b->avg.avg_signals = NAN;
    struct run_metric none = {NAN, NAN, NAN, 0};
    b->avg.wall_ms = b->avg.cpu_ms = b->avg.peak_rss_kb = none;
    if (s) {
        double v;
        if (jr_opt_number(r, s, "avg_total_samples", "summary", &v) ||
            jr_opt_number(r, s, "sd_total_samples", "summary", &b->avg.sd_total_samples) ||
            jr_opt_number(r, s, "avg_signals", "summary", &b->avg.avg_signals) ||
            read_metric(r, s, "wall_time_ms", &b->avg.wall_ms) ||
            read_metric(r, s, "cpu_time_ms", &b->avg.cpu_ms) ||
            read_metric(r, s, "peak_rss_kb", &b->avg.peak_rss_kb) ||
            read_metric(r, s, "alloc_kb", &b->avg.alloc_kb) ||
            read_metric(r, s, "peak_live_kb", &b->avg.peak_live_kb))
            return -1;
        b->avg.avg_total_samples = isnan(v) ? 0 : v;
    }
    if (read_functions(r, root, b) || read_stacks(r, root, b))
        return -1;
    if (read_tests(r, root, &b->tests))
        return -1;
    finish_averages(&b->avg, b->functions_seen);
    return read_memory(r, root, b);
}

/* The spread, self figures and completeness of a read averaged profile (runs and functions
 * set); seen: the functions averaged before the cut (0 unknown). */
static void finish_averages(struct avg_profile *a, size_t seen)
{
    /* spread is known when every function carries it (baselines of the Instruments workflow do not)
     */
    a->has_spread = !isnan(a->sd_total_samples);
    a->has_self = a->nfunctions > 0;
    for (size_t i = 0; i < a->nfunctions; i++) {
        struct avg_function *f = &a->functions[i];
        if (isnan(f->mean_pct) || isnan(f->sd_pct))
            a->has_spread = false;
        if (isnan(f->self_mean_pct) || isnan(f->self_sd_pct) || isnan(f->self_mean_samples))
            a->has_self = false;
        /* the Instruments workflow's averages are over the runs a function appears in: the mean
         * over all runs follows from the occurrences */
        double share = a->runs && f->occurrences ? (double)f->occurrences / a->runs : 1;
        if (share > 1)
            share = 1;
        if (isnan(f->mean_pct))
            f->mean_pct = f->avg_percentage * share;
        if (isnan(f->mean_samples))
            f->mean_samples = f->avg_samples * share;
        f->avg_self_pct = f->self_mean_pct / share;
    }
    /* it lists every function the runs had (absent means no samples) when it says so */
    a->complete = seen > 0 && seen == a->nfunctions;
    avg_profile_sort(a);
}

/* The optional memory section: per view, its totals and function list. */
static int read_memory(struct jr *r, const struct jv *root, struct baseline *b)
{
    static const char *const views[BASELINE_MEM_VIEWS] = {"alloc", "live"};
    const struct jv *m;
    if (jr_opt_object(r, root, "memory", "", &m))
        return -1;
    if (!m)
        return 0;
    uint64_t runs = 0;
    if (jr_count(r, jr_get(r, m, "runs_averaged"), "memory.runs_averaged", &runs))
        return -1;
    for (int k = 0; k < BASELINE_MEM_VIEWS; k++) {
        char where[64], list[64];
        snprintf(where, sizeof where, "memory.%s", views[k]);
        snprintf(list, sizeof list, "memory.%s.functions", views[k]);
        const struct jv *o;
        if (jr_opt_object(r, m, views[k], "memory", &o))
            return -1;
        if (!o)
            return jr_fail(r, "%s: missing", where);
        struct avg_profile *a = &b->mem[k];
        a->runs = (unsigned)(runs > 1000000 ? 1000000 : runs);
        double total;
        uint64_t seen = 0;
        const struct jv *fs = jr_get(r, o, "functions_seen");
        char key[96];
        snprintf(key, sizeof key, "%s.functions_seen", where);
        if (jr_opt_number(r, o, "avg_total_bytes", where, &total) ||
            jr_opt_number(r, o, "sd_total_bytes", where, &a->sd_total_samples) ||
            jr_opt_number(r, o, "avg_sampled", where, &a->avg_signals) ||
            (fs && jr_count(r, fs, key, &seen)) ||
            read_function_list(r, jr_get(r, o, "functions"), list, a))
            return -1;
        a->avg_total_samples = isnan(total) ? 0 : total;
        /* the whole-run figures are the baseline's own */
        a->wall_ms = b->avg.wall_ms;
        a->cpu_ms = b->avg.cpu_ms;
        a->peak_rss_kb = b->avg.peak_rss_kb;
        a->alloc_kb = b->avg.alloc_kb;
        a->peak_live_kb = b->avg.peak_live_kb;
        finish_averages(a, (size_t)seen);
    }
    b->has_memory = true;
    return 0;
}

static int read_doc(struct jr *r, const struct jv *root, void *ctx)
{
    struct baseline *b = ctx;
    if (read_root(r, root, b) == 0)
        return 0;
    baseline_free(b);
    return -1;
}

int baseline_read_file(const char *path, struct baseline *b, char *err, size_t errlen)
{
    struct jr r = {path, err, errlen, NULL};
    return jr_parse_file(&r, read_doc, b);
}

int baseline_read_string(const char *text, const char *name, struct baseline *b, char *err,
                         size_t errlen)
{
    struct jr r = {name, err, errlen, NULL};
    return jr_parse_string(&r, text, read_doc, b);
}

/* ---- writing ---------------------------------------------------------------------------- */

/* How many of a's (ranked) functions are written within `budget` bytes. */
static size_t kept_of(const struct avg_profile *a, size_t budget)
{
    size_t n = 0, bytes = 0;
    while (n < a->nfunctions) {
        const struct avg_function *f = &a->functions[n];
        /* a line: the name, the file, and about 300 bytes of keys and numbers */
        size_t cost = strlen(f->name) + (f->source_path ? strlen(f->source_path) : 0) + 300;
        if (n >= BASELINE_KEEP_TOP &&
            (f->avg_percentage < BASELINE_KEEP_MIN_PERCENT || bytes + cost > budget))
            break;
        bytes += cost;
        n++;
    }
    return n;
}

size_t baseline_kept(const struct baseline *b)
{
    return kept_of(&b->avg, BASELINE_FUNCTION_BYTES);
}

/* path relative to root when it lies under it (so that baselines do not depend on where
 * the project was checked out), else as it is. */
static const char *project_relative(const char *root, const char *path)
{
    size_t n = root ? strlen(root) : 0;
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (n > 1 && strncmp(path, root, n) == 0 && path[n] == '/' && path[n + 1])
        return path + n + 1;
    return path;
}

/* A whole-run metric as one line: {"median": .., "mean": .., "sd": .., "runs": n}. */
static void write_metric(struct jw *w, const char *key, const struct run_metric *m)
{
    if (m->n == 0)
        return;
    jw_key(w, key);
    jw_object_begin_inline(w);
    jw_key(w, "median");
    jw_double(w, m->median, 1);
    jw_key(w, "mean");
    jw_double(w, m->mean, 1);
    jw_key(w, "sd");
    jw_double(w, m->sd, 1);
    jw_key(w, "runs");
    jw_uint(w, m->n);
    jw_object_end(w);
}

/* The call tree as it will be written: the cut, each function's index in the written name
 * list, and the bytes it takes. */
struct tree_plan {
    struct flame_tree tree;
    struct flame_cut cut;
    const struct avg_profile *a;
    size_t ntop;     /* functions written in top_functions: index i there is function i */
    uint32_t *uses;  /* per function (a->nfunctions: BASELINE_OTHER): nodes naming it */
    uint32_t *index; /* per function: its index in top_functions + stack_functions */
    uint32_t *extra; /* stack_functions: functions, most used first */
    size_t nextra;
    size_t encoded; /* characters of "preorder" */
    size_t bytes;
};

static void tree_plan_free(struct tree_plan *p)
{
    flame_free(&p->tree);
    flame_cut_free(&p->cut);
    free(p->uses);
    free(p->index);
    free(p->extra);
}

static size_t tree_digits(uint64_t v)
{
    size_t n = 1;
    for (; v >= 32; v >>= 5)
        n++;
    return n;
}

static size_t tree_encode(uint64_t v, char *out)
{
    size_t n = tree_digits(v);
    for (size_t i = n; i-- > 0; v >>= 5)
        out[i] = (i == n - 1 ? TREE_LAST : TREE_LEAD)[v & 31];
    return n;
}

/* Function of cut node i: an index into a->functions, or a->nfunctions for BASELINE_OTHER. */
static uint32_t plan_function(const struct tree_plan *p, size_t i)
{
    uint32_t node = p->cut.node[i];
    return node == FLAME_NONE ? (uint32_t)p->a->nfunctions : p->tree.nodes[node].function;
}

static const char *plan_name(const struct tree_plan *p, uint32_t f)
{
    return f == p->a->nfunctions ? BASELINE_OTHER : p->a->functions[f].name;
}

/* Most used first, then by name: small indices for the names most nodes carry. */
static int cmp_extra(const void *x, const void *y, void *ctx)
{
    const struct tree_plan *sort_plan = ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    if (sort_plan->uses[a] != sort_plan->uses[b])
        return sort_plan->uses[a] > sort_plan->uses[b] ? -1 : 1;
    return strcmp(plan_name(sort_plan, a), plan_name(sort_plan, b));
}

/* Cuts the tree at min_total and sizes the result. 0, or -1 when out of memory. */
static int tree_plan_cut(struct tree_plan *p, uint64_t min_total)
{
    size_t nf = p->a->nfunctions + 1;
    flame_cut_free(&p->cut);
    if (flame_cut(&p->tree, min_total, &p->cut) != 0)
        return -1;
    memset(p->uses, 0, nf * sizeof *p->uses);
    for (size_t i = 0; i < p->cut.n; i++)
        p->uses[plan_function(p, i)]++;
    p->nextra = 0;
    for (uint32_t f = (uint32_t)p->ntop; f < nf; f++)
        if (p->uses[f])
            p->extra[p->nextra++] = f;
    array_sort_r(p->extra, p->nextra, sizeof *p->extra, cmp_extra, p);
    p->bytes = 120; /* the keys and the counts of "call_tree" */
    for (size_t i = 0; i < p->nextra; i++) {
        p->index[p->extra[i]] = (uint32_t)(p->ntop + i);
        p->bytes += strlen(plan_name(p, p->extra[i])) + 8;
    }
    p->encoded = 0;
    for (size_t i = 0; i < p->cut.n; i++)
        p->encoded += tree_digits(p->cut.up[i]) + tree_digits(p->index[plan_function(p, i)]) +
                      tree_digits(p->cut.self[i]);
    p->bytes += p->encoded + (p->encoded + TREE_CHUNK - 1) / TREE_CHUNK * 10;
    return 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The merged tree of b's stacks, cut at the smallest total that fits BASELINE_STACK_BYTES. */
static int tree_plan_make(const struct baseline *b, struct tree_plan *p)
{
    const struct avg_profile *a = &b->avg;
    memset(p, 0, sizeof *p);
    p->a = a;
    p->ntop = baseline_kept(b);
    /* the averaged functions seen as a profile's, for flame_build (names only) */
    struct pr_profile view;
    profile_init(&view);
    view.functions = calloc(a->nfunctions + 1, sizeof *view.functions);
    p->uses = calloc(a->nfunctions + 1, sizeof *p->uses);
    p->index = calloc(a->nfunctions + 1, sizeof *p->index);
    p->extra = calloc(a->nfunctions + 1, sizeof *p->extra);
    if (!view.functions || !p->uses || !p->index || !p->extra) {
        free(view.functions);
        tree_plan_free(p);
        return -1;
    }
    for (size_t i = 0; i < a->nfunctions; i++)
        view.functions[i].name = a->functions[i].name;
    for (size_t i = 0; i < p->ntop; i++)
        p->index[i] = (uint32_t)i;
    view.nfunctions = a->nfunctions;
    view.stacks = a->stacks;
    view.nstacks = a->nstacks;
    int rc = flame_build(&view, false, &p->tree);
    free(view.functions);
    if (rc != 0) {
        tree_plan_free(p);
        return -1;
    }
    /* the candidate cuts: every distinct total; the fewer cut, the larger */
    uint64_t *totals = malloc((p->tree.n + 1) * sizeof *totals);
    if (!totals) {
        tree_plan_free(p);
        return -1;
    }
    size_t nt = 0;
    for (size_t i = 1; i < p->tree.n; i++)
        totals[nt++] = (uint64_t)p->tree.nodes[i].total;
    totals[nt++] = (uint64_t)p->tree.nodes[0].total + 1; /* everything cut: always fits */
    array_sort(totals, nt, sizeof *totals, cmp_u64);
    size_t lo = 0, hi = nt - 1; /* totals[hi] fits */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tree_plan_cut(p, totals[mid]) != 0) {
            free(totals);
            tree_plan_free(p);
            return -1;
        }
        if (p->bytes <= BASELINE_STACK_BYTES)
            hi = mid;
        else
            lo = mid + 1;
    }
    rc = tree_plan_cut(p, totals[lo]);
    free(totals);
    if (rc != 0)
        tree_plan_free(p);
    return rc;
}

int baseline_tree_stats(const struct baseline *b, struct baseline_tree_stats *out)
{
    memset(out, 0, sizeof *out);
    struct tree_plan p;
    if (!b->avg.has_stacks || !b->avg.nstacks || tree_plan_make(b, &p) != 0)
        return -1;
    out->tree_nodes = p.tree.n - 1;
    out->written_nodes = p.cut.n;
    out->names = p.nextra;
    out->samples = (uint64_t)p.tree.nodes[0].total;
    out->other_samples = p.cut.cut_samples;
    out->bytes = p.bytes;
    tree_plan_free(&p);
    return 0;
}

/* "stack_functions" (the names the tree needs beyond top_functions) and "call_tree". */
static void write_call_tree(struct jw *w, const struct baseline *b)
{
    struct tree_plan p;
    if (tree_plan_make(b, &p) != 0) {
        w->overflow = true; /* out of memory: jw_finish reports the failure */
        return;
    }
    jw_key(w, "stack_functions");
    jw_array_begin(w);
    for (size_t i = 0; i < p.nextra; i++)
        jw_string(w, plan_name(&p, p.extra[i]));
    jw_array_end(w);
    jw_key(w, "call_tree");
    jw_object_begin(w);
    jw_key(w, "nodes");
    jw_uint(w, p.cut.n);
    jw_key(w, "samples");
    jw_uint(w, (uint64_t)p.tree.nodes[0].total);
    jw_key(w, "other_samples");
    jw_uint(w, p.cut.cut_samples);
    jw_key(w, "preorder");
    jw_array_begin(w);
    char *text = malloc(p.encoded + 1);
    if (text) {
        size_t len = 0;
        for (size_t i = 0; i < p.cut.n; i++) {
            len += tree_encode(p.cut.up[i], text + len);
            len += tree_encode(p.index[plan_function(&p, i)], text + len);
            len += tree_encode(p.cut.self[i], text + len);
        }
        for (size_t at = 0; at < len; at += TREE_CHUNK) {
            char chunk[TREE_CHUNK + 1];
            size_t n = len - at < TREE_CHUNK ? len - at : TREE_CHUNK;
            memcpy(chunk, text + at, n);
            chunk[n] = '\0';
            jw_string(w, chunk);
        }
        free(text);
    } else {
        w->overflow = true;
    }
    jw_array_end(w);
    jw_object_end(w);
    tree_plan_free(&p);
}

/* The first `kept` functions of a, one line each (the keys of top_functions). */
static void write_function_list(struct jw *w, const struct baseline *b, const struct avg_profile *a,
                                size_t kept)
{
    jw_array_begin(w);
    for (size_t i = 0; i < kept; i++) {
        const struct avg_function *fn = &a->functions[i];
        jw_object_begin_inline(w);
        jw_key(w, "name");
        jw_string(w, fn->name);
        jw_key(w, "avg_percentage");
        jw_double(w, fn->avg_percentage, BASELINE_PCT_DECIMALS);
        jw_key(w, "avg_samples");
        jw_double(w, fn->avg_samples, BASELINE_SAMPLES_DECIMALS);
        jw_key(w, "occurrences");
        jw_uint(w, fn->occurrences);
        if (a->has_spread) {
            jw_key(w, "mean_percentage");
            jw_double(w, fn->mean_pct, BASELINE_PCT_DECIMALS);
            jw_key(w, "sd_percentage");
            jw_double(w, fn->sd_pct, BASELINE_PCT_DECIMALS);
            jw_key(w, "mean_samples");
            jw_double(w, fn->mean_samples, BASELINE_SAMPLES_DECIMALS);
            jw_key(w, "sd_samples");
            jw_double(w, fn->sd_samples, BASELINE_SAMPLES_DECIMALS);
        }
        if (a->has_spread && a->has_self) {
            jw_key(w, "self_mean_percentage");
            jw_double(w, fn->self_mean_pct, BASELINE_PCT_DECIMALS);
            jw_key(w, "self_sd_percentage");
            jw_double(w, fn->self_sd_pct, BASELINE_PCT_DECIMALS);
            jw_key(w, "self_mean_samples");
            jw_double(w, fn->self_mean_samples, BASELINE_SAMPLES_DECIMALS);
            jw_key(w, "self_sd_samples");
            jw_double(w, fn->self_sd_samples, BASELINE_SAMPLES_DECIMALS);
        }
        jw_key(w, "source_file");
        jw_string(w, fn->source_file);
        /* absolute, or relative to the project root; a compiler's path relative to some
         * other build directory would read as the project's, so it is left out */
        const char *path =
            fn->source_path ? project_relative(b->project_root, fn->source_path) : NULL;
        if (path && (path[0] == '/' || path != fn->source_path)) {
            jw_key(w, "source_path");
            jw_string(w, path);
        }
        jw_key(w, "line");
        if (fn->line >= 0)
            jw_int(w, fn->line);
        else
            jw_null(w);
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* The memory section: the runs averaged, and per view its totals and functions. */
static void write_memory(struct jw *w, const struct baseline *b)
{
    static const char *const views[BASELINE_MEM_VIEWS] = {"alloc", "live"};
    jw_key(w, "memory");
    jw_object_begin(w);
    jw_key(w, "runs_averaged");
    jw_uint(w, b->mem[BASELINE_MEM_ALLOC].runs);
    for (int k = 0; k < BASELINE_MEM_VIEWS; k++) {
        const struct avg_profile *a = &b->mem[k];
        jw_key(w, views[k]);
        jw_object_begin(w);
        jw_key(w, "avg_total_bytes");
        jw_double(w, a->avg_total_samples, BASELINE_SAMPLES_DECIMALS);
        if (a->has_spread) {
            jw_key(w, "sd_total_bytes");
            jw_double(w, a->sd_total_samples, BASELINE_SAMPLES_DECIMALS);
        }
        if (!isnan(a->avg_signals)) {
            jw_key(w, "avg_sampled");
            jw_double(w, a->avg_signals, BASELINE_SAMPLES_DECIMALS);
        }
        jw_key(w, "functions_seen");
        jw_uint(w, a->nfunctions);
        jw_key(w, "functions");
        write_function_list(w, b, a, kept_of(a, BASELINE_MEM_BYTES));
        jw_object_end(w);
    }
    jw_object_end(w);
}

int baseline_write(FILE *f, const struct baseline *b)
{
    struct jw w;
    jw_init(&w, f);
    jw_object_begin(&w);

    jw_key(&w, "metadata");
    jw_object_begin(&w);
    jw_key(&w, "runs_averaged");
    jw_uint(&w, b->avg.runs);
    jw_key(&w, "executable");
    jw_string(&w, b->executable);
    jw_key(&w, "average_timestamp");
    jw_string(&w, b->average_timestamp);
    jw_key(&w, "created_at");
    jw_string(&w, b->created_at);
    jw_key(&w, "git_commit");
    jw_string(&w, b->git_commit);
    jw_key(&w, "git_dirty");
    if (b->git_dirty < 0)
        jw_null(&w);
    else
        jw_bool(&w, b->git_dirty == 1);
    jw_key(&w, "profreg_version");
    jw_string(&w, b->profreg_version);
    jw_key(&w, "functions_seen");
    jw_uint(&w, b->functions_seen ? b->functions_seen : b->avg.nfunctions);
    if (b->region) { /* written only for runs cut to a region */
        jw_key(&w, "region");
        jw_string(&w, b->region);
    }
    jw_object_end(&w);

    jw_key(&w, "summary");
    jw_object_begin(&w);
    jw_key(&w, "avg_total_samples");
    jw_double(&w, b->avg.avg_total_samples, BASELINE_SAMPLES_DECIMALS);
    if (b->avg.has_spread) {
        jw_key(&w, "sd_total_samples");
        jw_double(&w, b->avg.sd_total_samples, BASELINE_SAMPLES_DECIMALS);
        if (!isnan(b->avg.avg_signals)) {
            jw_key(&w, "avg_signals");
            jw_double(&w, b->avg.avg_signals, BASELINE_SAMPLES_DECIMALS);
        }
        write_metric(&w, "wall_time_ms", &b->avg.wall_ms);
        write_metric(&w, "cpu_time_ms", &b->avg.cpu_ms);
        write_metric(&w, "peak_rss_kb", &b->avg.peak_rss_kb);
        write_metric(&w, "alloc_kb", &b->avg.alloc_kb);
        write_metric(&w, "peak_live_kb", &b->avg.peak_live_kb);
    }
    jw_object_end(&w);

    write_tests(&w, &b->tests);
    jw_key(&w, "top_functions");
    write_function_list(&w, b, &b->avg, baseline_kept(b));
    if (b->avg.has_stacks && b->avg.nstacks)
        write_call_tree(&w, b);
    if (b->has_memory)
        write_memory(&w, b);
    jw_object_end(&w);
    return jw_finish(&w);
}
