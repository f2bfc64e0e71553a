/* SPDX-License-Identifier: MIT */
/* memory.c — the memory section of a profile: lifetime, counts, and the views that let every
 * command treat one memory metric as an ordinary profile.
 *
 * Invariant kept by memory_recount(): a function's total[k] is the sum of v[k] over the
 * stacks that hold it (once per stack), its self[k] the sum over the stacks that end in it;
 * functions are sorted by total[MEM_ALLOC_BYTES] descending, ties by name. */
#include "core/memory.h"

#include "core/array.h"
#include "core/hashmap.h"
#include "core/intern.h"
#include "core/profile.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const mem_metric_key[MEM_NMETRICS] = {"alloc_bytes", "alloc_count", "peak_live_bytes",
                                                  "exit_live_bytes", "samples"};

void memory_init(struct pr_memory *m)
{
    memset(m, 0, sizeof *m);
    m->rate_bytes = NAN;
    m->peak_time_ms = NAN;
}

static void free_function(struct pr_mem_function *f)
{
    free(f->name);
    free(f->source_file);
    free(f->source_path);
    free(f->module);
    free(f->raw_name);
}

void memory_free(struct pr_memory *m)
{
    for (size_t i = 0; i < m->nfunctions; i++)
        free_function(&m->functions[i]);
    free(m->functions);
    for (size_t i = 0; i < m->nstacks; i++) {
        free(m->stacks[i].frames);
        free(m->stacks[i].inlined);
    }
    free(m->stacks);
    memory_init(m);
}

/* Copies the strings of src into dst (other fields as they are). 0, or -1. */
static int copy_function(struct pr_mem_function *dst, const struct pr_mem_function *src)
{
    *dst = *src;
    dst->name = strdup(src->name);
    dst->source_file = dup_or_null(src->source_file);
    dst->source_path = dup_or_null(src->source_path);
    dst->module = dup_or_null(src->module);
    dst->raw_name = dup_or_null(src->raw_name);
    bool ok = dst->name && (!src->source_file || dst->source_file) &&
              (!src->source_path || dst->source_path) && (!src->module || dst->module) &&
              (!src->raw_name || dst->raw_name);
    return ok ? 0 : -1;
}

struct pr_memory *memory_copy(const struct pr_memory *src, bool with_stacks)
{
    struct pr_memory *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    *m = *src;
    m->functions = NULL;
    m->stacks = NULL;
    m->nfunctions = m->nstacks = 0;
    if (!with_stacks)
        return m;
    int rc = 0;
    m->functions = calloc(src->nfunctions ? src->nfunctions : 1, sizeof *m->functions);
    m->stacks = calloc(src->nstacks ? src->nstacks : 1, sizeof *m->stacks);
    rc = m->functions && m->stacks ? 0 : -1;
    for (size_t i = 0; i < src->nfunctions && rc == 0; i++, m->nfunctions++)
        rc = copy_function(&m->functions[i], &src->functions[i]);
    for (size_t i = 0; i < src->nstacks && rc == 0; i++, m->nstacks++) {
        const struct pr_mem_stack *s = &src->stacks[i];
        struct pr_mem_stack *d = &m->stacks[i];
        *d = *s;
        d->frames = malloc((s->depth ? s->depth : 1) * sizeof *d->frames);
        d->inlined = s->inlined ? malloc(s->depth ? s->depth : 1) : NULL;
        if (!d->frames || (s->inlined && !d->inlined)) {
            free(d->frames);
            free(d->inlined);
            rc = -1;
            break;
        }
        memcpy(d->frames, s->frames, s->depth * sizeof *d->frames);
        if (s->inlined)
            memcpy(d->inlined, s->inlined, s->depth);
    }
    if (rc != 0) {
        memory_free(m);
        free(m);
        return NULL;
    }
    return m;
}

static int cmp_function(const void *a, const void *b)
{
    const struct pr_mem_function *x = *(const struct pr_mem_function *const *)a;
    const struct pr_mem_function *y = *(const struct pr_mem_function *const *)b;
    if (x->total[MEM_ALLOC_BYTES] != y->total[MEM_ALLOC_BYTES])
        return x->total[MEM_ALLOC_BYTES] > y->total[MEM_ALLOC_BYTES] ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorts functions (cmp_function), renumbering every stack's frames. 0, or -1. */
static int sort_functions(struct pr_memory *m)
{
    size_t n = m->nfunctions;
    if (n < 2)
        return 0;
    const struct pr_mem_function **ord = malloc(n * sizeof *ord);
    uint32_t *to = malloc(n * sizeof *to);
    struct pr_mem_function *sorted = malloc(n * sizeof *sorted);
    if (!ord || !to || !sorted) {
        free(ord);
        free(to);
        free(sorted);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        ord[i] = &m->functions[i];
    qsort(ord, n, sizeof *ord, cmp_function);
    for (size_t i = 0; i < n; i++) {
        size_t old = (size_t)(ord[i] - m->functions);
        sorted[i] = m->functions[old];
        to[old] = (uint32_t)i;
    }
    for (size_t s = 0; s < m->nstacks; s++)
        for (uint32_t d = 0; d < m->stacks[s].depth; d++)
            m->stacks[s].frames[d] = to[m->stacks[s].frames[d]];
    free(m->functions);
    m->functions = sorted;
    free(ord);
    free(to);
    return 0;
}

int memory_recount(struct pr_memory *m)
{
    size_t *stamp = malloc((m->nfunctions ? m->nfunctions : 1) * sizeof *stamp);
    if (!stamp)
        return -1;
    for (size_t f = 0; f < m->nfunctions; f++) {
        stamp[f] = SIZE_MAX;
        memset(m->functions[f].total, 0, sizeof m->functions[f].total);
        memset(m->functions[f].self, 0, sizeof m->functions[f].self);
    }
    for (size_t s = 0; s < m->nstacks; s++) {
        const struct pr_mem_stack *st = &m->stacks[s];
        if (st->depth == 0)
            continue;
        for (uint32_t d = 0; d < st->depth; d++) {
            assert(st->frames[d] < m->nfunctions);
            struct pr_mem_function *f = &m->functions[st->frames[d]];
            if (stamp[st->frames[d]] == s)
                continue;
            stamp[st->frames[d]] = s;
            mem_add(f->total, st->v);
        }
        mem_add(m->functions[st->frames[st->depth - 1]].self, st->v);
    }
    free(stamp);
    return sort_functions(m);
}

int mem_metric_parse(const char *s, enum pr_mem_metric *out)
{
    static const struct {
        const char *name;
        enum pr_mem_metric m;
    } names[] = {{"alloc", MEM_ALLOC_BYTES},
                 {"alloc_count", MEM_ALLOC_COUNT},
                 {"live", MEM_PEAK_LIVE},
                 {"exit", MEM_EXIT_LIVE}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].m;
            return 0;
        }
    return -1;
}

const char *mem_metric_label(enum pr_mem_metric m)
{
    static const char *const labels[MEM_NMETRICS] = {"allocated bytes", "allocations",
                                                     "bytes live at the peak", "bytes live at exit",
                                                     "sampled allocations"};
    return (unsigned)m < MEM_NMETRICS ? labels[m] : "?";
}

bool mem_metric_is_bytes(enum pr_mem_metric m)
{
    return m == MEM_ALLOC_BYTES || m == MEM_PEAK_LIVE || m == MEM_EXIT_LIVE;
}

void mem_format_bytes(double bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes;
    while (fabs(v) >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", v);
    else
        snprintf(buf, len, fabs(v) < 10 && u >= 3 ? "%.2f %s" : "%.1f %s", v, units[u]);
}

/* The run fields a view keeps (profile_merge copies them for the first run it sees). */
static int copy_run(struct pr_profile *out, const struct pr_profile *p)
{
    out->trace_file = dup_or_null(p->trace_file);
    out->template_name = dup_or_null(p->template_name);
    out->export_timestamp = dup_or_null(p->export_timestamp);
    out->executable = dup_or_null(p->executable);
    out->profreg_version = dup_or_null(p->profreg_version);
    out->pid = p->pid;
    out->wall_time_ms = p->wall_time_ms;
    out->cpu_time_ms = p->cpu_time_ms;
    out->peak_rss_kb = p->peak_rss_kb;
    out->thread_count = p->thread_count;
    out->memory = memory_copy(p->memory, false);
    return out->memory && (!p->executable || out->executable) ? 0 : -1;
}

int memory_view(const struct pr_profile *p, enum pr_mem_metric m, struct pr_profile *out)
{
    profile_init(out);
    const struct pr_memory *mem = p->memory;
    out->has_stacks = true;
    uint32_t *to = malloc((mem->nfunctions ? mem->nfunctions : 1) * sizeof *to);
    out->functions = calloc(mem->nfunctions ? mem->nfunctions : 1, sizeof *out->functions);
    out->stacks = calloc(mem->nstacks ? mem->nstacks : 1, sizeof *out->stacks);
    int rc = to && out->functions && out->stacks ? copy_run(out, p) : -1;
    for (size_t i = 0; i < mem->nfunctions && rc == 0; i++) {
        const struct pr_mem_function *f = &mem->functions[i];
        to[i] = UINT32_MAX;
        if (f->total[m] == 0)
            continue;
        struct pr_function *g = &out->functions[out->nfunctions];
        to[i] = (uint32_t)out->nfunctions++;
        g->name = strdup(f->name);
        g->source_file = dup_or_null(f->source_file);
        g->source_path = dup_or_null(f->source_path);
        g->module = dup_or_null(f->module);
        g->raw_name = dup_or_null(f->raw_name);
        g->line = f->line;
        g->samples = f->total[m];
        g->self_samples = f->self[m];
        g->has_self = true;
        if (!g->name)
            rc = -1;
    }
    for (size_t i = 0; i < mem->nstacks && rc == 0; i++) {
        const struct pr_mem_stack *s = &mem->stacks[i];
        if (s->v[m] == 0 || s->depth == 0)
            continue;
        struct pr_stack *d = &out->stacks[out->nstacks];
        d->frames = malloc(s->depth * sizeof *d->frames);
        d->inlined = s->inlined ? malloc(s->depth) : NULL;
        if (!d->frames || (s->inlined && !d->inlined)) {
            free(d->frames);
            free(d->inlined);
            rc = -1;
            break;
        }
        out->nstacks++;
        d->depth = s->depth;
        d->count = s->v[m];
        for (uint32_t k = 0; k < s->depth; k++)
            d->frames[k] = to[s->frames[k]];
        if (s->inlined)
            memcpy(d->inlined, s->inlined, s->depth);
        out->total_samples += s->v[m];
        out->signals += s->v[MEM_SAMPLES];
    }
    free(to);
    if (rc == 0) {
        profile_compute_percentages(out);
        rc = profile_sort(out);
    }
    if (rc != 0)
        profile_free(out);
    return rc;
}

/* ---- joining views ----------------------------------------------------------------------- */

struct joiner {
    struct pr_memory *m;
    struct hmap names, stacks;
    size_t capf, caps;
    uint32_t *key;
    size_t capkey;
};

/* Index in j->m of the function f of a view, added when new. -1 when out of memory. */
static long join_function(struct joiner *j, const struct pr_function *f)
{
    uint32_t idx;
    int r = hmap_intern(&j->names, f->name, strlen(f->name), (uint32_t)j->m->nfunctions, &idx);
    if (r <= 0)
        return r < 0 ? -1 : (long)idx;
    if (ARRAY_GROW(j->m->functions, j->m->nfunctions, j->capf) < 0)
        return -1;
    struct pr_mem_function *g = &j->m->functions[j->m->nfunctions++];
    memset(g, 0, sizeof *g);
    g->name = strdup(f->name);
    g->source_file = dup_or_null(f->source_file);
    g->source_path = dup_or_null(f->source_path);
    g->module = dup_or_null(f->module);
    g->raw_name = dup_or_null(f->raw_name);
    g->line = f->line;
    return g->name ? (long)idx : -1;
}

/* Adds view stack s of profile v (metric k) into j->m. 0, or -1. */
static int join_stack(struct joiner *j, const struct pr_profile *v, const struct pr_stack *s, int k)
{
    size_t words = s->depth + (s->depth + 3) / 4; /* frames, then the inlined marks packed */
    if (words > j->capkey) {
        uint32_t *nk = realloc(j->key, words * sizeof *nk);
        if (!nk)
            return -1;
        j->key = nk;
        j->capkey = words;
    }
    memset(j->key, 0, words * sizeof *j->key);
    for (uint32_t d = 0; d < s->depth; d++) {
        if (s->frames[d] >= v->nfunctions)
            return 0; /* broken input: skipped */
        long f = join_function(j, &v->functions[s->frames[d]]);
        if (f < 0)
            return -1;
        j->key[d] = (uint32_t)f;
        if (s->inlined && s->inlined[d])
            ((uint8_t *)(j->key + s->depth))[d] = 1;
    }
    uint32_t idx;
    int r = hmap_intern(&j->stacks, j->key, words * sizeof *j->key, (uint32_t)j->m->nstacks, &idx);
    if (r < 0)
        return -1;
    if (r == 1) {
        if (ARRAY_GROW(j->m->stacks, j->m->nstacks, j->caps) < 0)
            return -1;
        struct pr_mem_stack *n = &j->m->stacks[j->m->nstacks];
        memset(n, 0, sizeof *n);
        n->frames = malloc(s->depth * sizeof *n->frames);
        n->inlined = s->inlined ? malloc(s->depth) : NULL;
        if (!n->frames || (s->inlined && !n->inlined)) {
            free(n->frames);
            free(n->inlined);
            return -1;
        }
        j->m->nstacks++;
        n->depth = s->depth;
        memcpy(n->frames, j->key, s->depth * sizeof *n->frames);
        if (s->inlined)
            memcpy(n->inlined, s->inlined, s->depth);
    }
    j->m->stacks[idx].v[k] += s->count;
    return 0;
}

int memory_join(const struct pr_profile views[MEM_NMETRICS], struct pr_memory *out)
{
    memory_init(out);
    struct joiner j = {out, {0}, {0}, 0, 0, NULL, 0};
    hmap_init(&j.names);
    hmap_init(&j.stacks);
    int rc = 0;
    /* the samples view first: every stack has samples, so it fixes the functions' order */
    static const int order[MEM_NMETRICS] = {MEM_SAMPLES, MEM_ALLOC_BYTES, MEM_ALLOC_COUNT,
                                            MEM_PEAK_LIVE, MEM_EXIT_LIVE};
    for (int o = 0; o < MEM_NMETRICS && rc == 0; o++) {
        const struct pr_profile *v = &views[order[o]];
        for (size_t s = 0; s < v->nstacks && rc == 0; s++)
            if (v->stacks[s].depth)
                rc = join_stack(&j, v, &v->stacks[s], order[o]);
    }
    const struct pr_memory *whole = views[MEM_SAMPLES].memory;
    if (rc == 0 && whole) {
        out->rate_bytes = whole->rate_bytes;
        memcpy(out->total, whole->total, sizeof out->total);
        out->peak_time_ms = whole->peak_time_ms;
        out->lost_samples = whole->lost_samples;
        out->untracked_samples = whole->untracked_samples;
    }
    hmap_free(&j.names);
    hmap_free(&j.stacks);
    free(j.key);
    if (rc == 0)
        rc = memory_recount(out);
    if (rc != 0)
        memory_free(out);
    return rc;
}
