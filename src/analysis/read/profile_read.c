/* SPDX-License-Identifier: MIT */
/* profile_read.c — validating reader for profile JSON (json_parse.h, jansson's messages).
 *
 * Required: summary.total_samples and top_functions[] with name, samples, percentage.
 * Everything else is optional, but when present it must have the right type and range.
 * Invariant: either the whole profile is read, or nothing is (p stays empty). */
#include "analysis/read/profile_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hashmap.h"
#include "analysis/read/json_read.h"
#include "core/memory.h"

static int read_metadata(struct jr *r, const struct jv *root, struct pr_profile *p)
{
    const struct jv *m = jr_get(r, root, "metadata");
    if (!m || jv_is_null(m))
        return 0;
    if (!jv_is_object(m))
        return jr_fail(r, "metadata: expected an object, got %s", jr_type_name(m));
    if (jr_opt_string(r, m, "trace_file", "metadata", &p->trace_file) ||
        jr_opt_string(r, m, "template", "metadata", &p->template_name) ||
        jr_opt_string(r, m, "export_timestamp", "metadata", &p->export_timestamp) ||
        jr_opt_string(r, m, "executable", "metadata", &p->executable) ||
        jr_opt_string(r, m, "mode", "metadata", &p->mode) ||
        jr_opt_string(r, m, "clock", "metadata", &p->clock) ||
        jr_opt_string(r, m, "profreg_version", "metadata", &p->profreg_version) ||
        jr_opt_number(r, m, "frequency_hz", "metadata", &p->frequency_hz))
        return -1;
    const struct jv *cpu = jr_get(r, m, "cpu_sampling");
    if (cpu && !jv_is_null(cpu)) {
        if (!jv_is_bool(cpu))
            return jr_fail(r, "metadata.cpu_sampling: expected true or false, got %s",
                           jr_type_name(cpu));
        p->no_cpu_sampling = !jv_is_true(cpu);
    }
    const struct jv *pid = jr_get(r, m, "pid");
    if (pid && !jv_is_null(pid)) {
        uint64_t v;
        if (jr_count(r, pid, "metadata.pid", &v))
            return -1;
        p->pid = (long)v;
    }
    const struct jv *cmd = jr_get(r, m, "command_line");
    if (cmd && !jv_is_null(cmd)) {
        if (!jv_is_array(cmd))
            return jr_fail(r, "metadata.command_line: expected an array, got %s",
                           jr_type_name(cmd));
        size_t n = jv_size(cmd);
        p->command_line = calloc(n + 1, sizeof *p->command_line);
        if (!p->command_line)
            return jr_fail(r, "out of memory");
        const struct jv *a = jv_child(r->doc, cmd);
        for (size_t i = 0; i < n; i++, a = jv_next(r->doc, a, cmd)) {
            if (!jv_is_string(a))
                return jr_fail(r, "metadata.command_line[%zu]: expected a string, got %s", i,
                               jr_type_name(a));
            p->command_line[i] = strdup(jv_string(a));
        }
    }
    return 0;
}

static int read_summary(struct jr *r, const struct jv *root, struct pr_profile *p)
{
    const struct jv *s = jr_get(r, root, "summary");
    if (!s)
        return jr_fail(r, "summary: missing");
    if (!jv_is_object(s))
        return jr_fail(r, "summary: expected an object, got %s", jr_type_name(s));
    const struct jv *total = jr_get(r, s, "total_samples");
    if (!total)
        return jr_fail(r, "summary.total_samples: missing");
    if (jr_count(r, total, "summary.total_samples", &p->total_samples))
        return -1;
    const struct jv *signals = jr_get(r, s, "signals");
    if (signals && jr_count(r, signals, "summary.signals", &p->signals))
        return -1;
    struct {
        const char *key;
        double *dst;
    } opt[] = {
        {"total_time_ms", &p->total_time_ms},
        {"effective_frequency_hz", &p->effective_frequency_hz},
        {"wall_time_ms", &p->wall_time_ms},
        {"cpu_time_ms", &p->cpu_time_ms},
        {"peak_rss_kb", &p->peak_rss_kb},
        {"thread_count", &p->thread_count},
        {"unsampled_threads", &p->unsampled_threads},
        {"clock_fallback_threads", &p->clock_fallback_threads},
        {"lost_samples", &p->lost_samples},
        {"truncated_stacks", &p->truncated_stacks},
        {"skipped_samples", &p->skipped_samples},
        {"paused_samples", &p->paused_samples},
        {"symbolize_ms", &p->symbolize_ms},
        {"symbol_cache_hits", &p->symbol_cache_hits},
        {"symbol_cache_misses", &p->symbol_cache_misses},
        {"exit_ms", &p->exit_ms},
        {"exit_cpu_ms", &p->exit_cpu_ms},
        {"exit_helper_misses", &p->exit_helper_misses},
        {"exit_extra_rss_kb", &p->exit_extra_rss_kb},
        {"cus_indexed", &p->cus_indexed},
        {"cus_from_cache", &p->cus_from_cache},
    };
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (jr_opt_number(r, s, opt[i].key, "summary", opt[i].dst))
            return -1;
    return 0;
}

/* The fields that say which function an element is, the same in top_functions and
 * memory.functions. */
struct fn_ident {
    char **name, **source_file, **source_path, **module, **raw_name;
    long *line;
};

typedef int (*figures_fn)(struct jr *r, const struct jv *e, const char *A, size_t i, void *f);

/* Element i of array A: an object, its non-empty name, its figures (figures(f)), then the
 * rest of its identity (line, source_file, source_path, module, raw_name); an error names
 * the first field that is wrong, in that order. */
static int read_function_entry(struct jr *r, const struct jv *e, const char *A, size_t i,
                               struct fn_ident id, figures_fn figures, void *f)
{
    *id.line = -1;
    if (!jv_is_object(e))
        return jr_fail(r, "%s[%zu]: expected an object, got %s", A, i, jr_type_name(e));
    const struct jv *name = jr_get(r, e, "name");
    if (!jv_is_string(name) || !*jv_string(name))
        return jr_fail(r, "%s[%zu].name: expected a non-empty string, got %s", A, i,
                       name ? jr_type_name(name) : "nothing");
    if (!(*id.name = strdup(jv_string(name))))
        return jr_fail(r, "out of memory");
    if (figures(r, e, A, i, f) < 0)
        return -1;
    uint64_t line;
    int has = jr_elem_count(r, e, A, i, "line", false, &line);
    if (has < 0)
        return -1;
    if (has)
        *id.line = (long)line;
    if (jr_elem_string(r, e, A, i, "source_file", id.source_file) < 0 ||
        jr_elem_string(r, e, A, i, "source_path", id.source_path) < 0 ||
        jr_elem_string(r, e, A, i, "module", id.module) < 0 ||
        jr_elem_string(r, e, A, i, "raw_name", id.raw_name) < 0)
        return -1;
    return 0;
}

static int read_function_figures(struct jr *r, const struct jv *e, const char *A, size_t i,
                                 void *fp)
{
    struct pr_function *f = fp;
    if (jr_elem_count(r, e, A, i, "samples", true, &f->samples) < 0 ||
        jr_elem_number(r, e, A, i, "percentage", true, &f->percentage) < 0)
        return -1;
    if (f->percentage > 100.0 + 1e-6)
        return jr_fail(r, "%s[%zu]: percentage %g is above 100", A, i, f->percentage);
    int has = jr_elem_count(r, e, A, i, "self_samples", false, &f->self_samples);
    if (has < 0)
        return -1;
    if (has) {
        f->has_self = true;
        if (jr_elem_number(r, e, A, i, "self_percentage", false, &f->self_percentage) < 0)
            return -1;
        if (isnan(f->self_percentage))
            f->self_percentage = 0;
    }
    return 0;
}

static int read_function(struct jr *r, const struct jv *e, size_t i, struct pr_function *f)
{
    struct fn_ident id = {&f->name,   &f->source_file, &f->source_path,
                          &f->module, &f->raw_name,    &f->line};
    return read_function_entry(r, e, "top_functions", i, id, read_function_figures, f);
}

static int read_functions(struct jr *r, const struct jv *root, struct pr_profile *p)
{
    const struct jv *arr = jr_get(r, root, "top_functions");
    if (!arr)
        return jr_fail(r, "top_functions: missing");
    if (!jv_is_array(arr))
        return jr_fail(r, "top_functions: expected an array, got %s", jr_type_name(arr));
    size_t n = jv_size(arr);
    p->functions = calloc(n ? n : 1, sizeof *p->functions);
    if (!p->functions)
        return jr_fail(r, "out of memory");
    struct hmap names;
    hmap_init(&names);
    int rc = 0;
    const struct jv *e = jv_child(r->doc, arr);
    for (size_t i = 0; i < n && rc == 0; i++, e = jv_next(r->doc, e, arr)) {
        p->nfunctions = i + 1;
        rc = read_function(r, e, i, &p->functions[i]);
        if (rc == 0) {
            const char *name = p->functions[i].name;
            uint32_t first;
            int ins = hmap_intern(&names, name, strlen(name), (uint32_t)i, &first);
            if (ins < 0)
                rc = jr_fail(r, "out of memory");
            else if (ins == 0)
                rc =
                    jr_fail(r, "top_functions[%zu]: duplicate function name (also at [%u]): %.200s",
                            i, first, name);
        }
    }
    hmap_free(&names);
    return rc;
}

/* A stack's "frames" (indices into a table of nfunctions named `table`) and "inlined"
 * (frame positions), into *frames, *depth and *inlined (NULL when none is). */
static int read_frames(struct jr *r, const struct jv *e, const char *where, const char *table,
                       size_t nfunctions, uint32_t **frames_out, uint32_t *depth_out,
                       uint8_t **inlined_out)
{
    const struct jv *frames = jr_get(r, e, "frames");
    if (!jv_is_array(frames) || jv_size(frames) == 0)
        return jr_fail(r, "%s.frames: expected a non-empty array of function indices", where);
    size_t depth = jv_size(frames);
    uint32_t *f = malloc(depth * sizeof *f);
    if (!f)
        return jr_fail(r, "out of memory");
    *frames_out = f;
    *depth_out = (uint32_t)depth;
    const struct jv *fi = jv_child(r->doc, frames);
    for (size_t d = 0; d < depth; d++, fi = jv_next(r->doc, fi, frames)) {
        if (!jv_is_integer(fi) || jv_integer(fi) < 0 || (size_t)jv_integer(fi) >= nfunctions)
            return jr_fail(r, "%s.frames[%zu]: expected an index into %s (0..%zu)", where, d, table,
                           nfunctions ? nfunctions - 1 : 0);
        f[d] = (uint32_t)jv_integer(fi);
    }
    const struct jv *inl = jr_get(r, e, "inlined");
    if (!inl || jv_is_null(inl))
        return 0;
    if (!jv_is_array(inl))
        return jr_fail(r, "%s.inlined: expected an array of frame positions, got %s", where,
                       jr_type_name(inl));
    if (jv_size(inl) == 0)
        return 0;
    if (!(*inlined_out = calloc(depth, 1)))
        return jr_fail(r, "out of memory");
    const struct jv *pi = jv_child(r->doc, inl);
    for (size_t k = 0; k < jv_size(inl); k++, pi = jv_next(r->doc, pi, inl)) {
        /* frame 0 is the root: nothing is outside it to be inlined into */
        if (!jv_is_integer(pi) || jv_integer(pi) < 1 || (size_t)jv_integer(pi) >= depth)
            return jr_fail(r, "%s.inlined[%zu]: expected a frame position (1..%zu)", where, k,
                           depth - 1);
        (*inlined_out)[jv_integer(pi)] = 1;
    }
    return 0;
}

static int read_stacks(struct jr *r, const struct jv *root, struct pr_profile *p)
{
    const struct jv *arr = jr_get(r, root, "stacks");
    if (!arr || jv_is_null(arr))
        return 0;
    if (!jv_is_array(arr))
        return jr_fail(r, "stacks: expected an array, got %s", jr_type_name(arr));
    size_t n = jv_size(arr);
    p->stacks = calloc(n ? n : 1, sizeof *p->stacks);
    if (!p->stacks)
        return jr_fail(r, "out of memory");
    p->has_stacks = true;
    uint64_t sum = 0; /* folding inlined frames merges stacks: their sum must fit */
    const struct jv *e = jv_child(r->doc, arr);
    for (size_t i = 0; i < n; i++, e = jv_next(r->doc, e, arr)) {
        char where[64];
        snprintf(where, sizeof where, "stacks[%zu]", i);
        if (!jv_is_object(e))
            return jr_fail(r, "%s: expected an object, got %s", where, jr_type_name(e));
        struct pr_stack *s = &p->stacks[i];
        p->nstacks = i + 1;
        char key[96];
        snprintf(key, sizeof key, "%s.count", where);
        if (jr_count(r, jr_get(r, e, "count"), key, &s->count) ||
            read_frames(r, e, where, "top_functions", p->nfunctions, &s->frames, &s->depth,
                        &s->inlined))
            return -1;
        if (!pr_count_add(&sum, s->count))
            return jr_fail(r, "%s: the stacks' counts add up to more than " PR_MAX_SAMPLES_TEXT,
                           key);
        const struct jv *region = jr_get(r, e, "region");
        if (region && !jv_is_null(region)) {
            if (!jv_is_integer(region) || jv_integer(region) < 0 ||
                (size_t)jv_integer(region) >= p->nregions)
                return p->nregions
                           ? jr_fail(r, "%s.region: expected an index into regions (0..%zu)",
                                     where, p->nregions - 1)
                           : jr_fail(r, "%s.region: the profile has no regions", where);
            s->region = (uint32_t)jv_integer(region) + 1;
        }
    }
    return 0;
}

/* The optional "regions": the region paths stacks[].region indexes, unique non-empty strings. */
static int read_regions(struct jr *r, const struct jv *root, struct pr_profile *p)
{
    const struct jv *arr = jr_get(r, root, "regions");
    if (!arr || jv_is_null(arr))
        return 0;
    if (!jv_is_array(arr))
        return jr_fail(r, "regions: expected an array of strings, got %s", jr_type_name(arr));
    size_t n = jv_size(arr);
    if (!(p->regions = calloc(n ? n : 1, sizeof *p->regions)))
        return jr_fail(r, "out of memory");
    const struct jv *e = jv_child(r->doc, arr);
    for (size_t i = 0; i < n; i++, e = jv_next(r->doc, e, arr)) {
        if (!jv_is_string(e) || !*jv_string(e))
            return jr_fail(r, "regions[%zu]: expected a non-empty string, got %s", i,
                           jr_type_name(e));
        long dup = profile_region_find(p, jv_string(e));
        if (dup >= 0)
            return jr_fail(r, "regions[%zu]: duplicate region (also at [%ld])", i, dup);
        if (!(p->regions[i] = strdup(jv_string(e))))
            return jr_fail(r, "out of memory");
        p->nregions = i + 1;
    }
    return 0;
}

/* ---- the memory section ------------------------------------------------------------------ */

static int read_mem_figures(struct jr *r, const struct jv *e, const char *A, size_t i, void *fp)
{
    struct pr_mem_function *f = fp;
    for (int k = 0; k < MEM_NMETRICS; k++) {
        char self[64];
        snprintf(self, sizeof self, "self_%s", mem_metric_key[k]);
        if (jr_elem_count(r, e, A, i, mem_metric_key[k], true, &f->total[k]) < 0 ||
            jr_elem_count(r, e, A, i, self, true, &f->self[k]) < 0)
            return -1;
    }
    return 0;
}

static int read_mem_function(struct jr *r, const struct jv *e, size_t i, struct pr_mem_function *f)
{
    struct fn_ident id = {&f->name,   &f->source_file, &f->source_path,
                          &f->module, &f->raw_name,    &f->line};
    return read_function_entry(r, e, "memory.functions", i, id, read_mem_figures, f);
}

static int read_mem_functions(struct jr *r, const struct jv *arr, struct pr_memory *m)
{
    if (!jv_is_array(arr))
        return jr_fail(r, "memory.functions: expected an array, got %s", jr_type_name(arr));
    size_t n = jv_size(arr);
    if (!(m->functions = calloc(n ? n : 1, sizeof *m->functions)))
        return jr_fail(r, "out of memory");
    struct hmap names;
    hmap_init(&names);
    int rc = 0;
    const struct jv *e = jv_child(r->doc, arr);
    for (size_t i = 0; i < n && rc == 0; i++, e = jv_next(r->doc, e, arr)) {
        m->nfunctions = i + 1;
        rc = read_mem_function(r, e, i, &m->functions[i]);
        uint32_t first;
        int ins = rc ? 0
                     : hmap_intern(&names, m->functions[i].name, strlen(m->functions[i].name),
                                   (uint32_t)i, &first);
        if (ins < 0)
            rc = jr_fail(r, "out of memory");
        else if (rc == 0 && ins == 0)
            rc = jr_fail(r, "memory.functions[%zu]: duplicate function name (also at [%u]): %.200s",
                         i, first, m->functions[i].name);
    }
    hmap_free(&names);
    return rc;
}

static int read_mem_stacks(struct jr *r, const struct jv *arr, struct pr_memory *m)
{
    if (!jv_is_array(arr))
        return jr_fail(r, "memory.stacks: expected an array, got %s", jr_type_name(arr));
    size_t n = jv_size(arr);
    if (!(m->stacks = calloc(n ? n : 1, sizeof *m->stacks)))
        return jr_fail(r, "out of memory");
    const struct jv *e = jv_child(r->doc, arr);
    for (size_t i = 0; i < n; i++, e = jv_next(r->doc, e, arr)) {
        char where[64];
        snprintf(where, sizeof where, "memory.stacks[%zu]", i);
        if (!jv_is_object(e))
            return jr_fail(r, "%s: expected an object, got %s", where, jr_type_name(e));
        struct pr_mem_stack *s = &m->stacks[i];
        m->nstacks = i + 1;
        for (int k = 0; k < MEM_NMETRICS; k++)
            if (jr_elem_count(r, e, "memory.stacks", i, mem_metric_key[k], true, &s->v[k]) < 0)
                return -1;
        if (read_frames(r, e, where, "memory.functions", m->nfunctions, &s->frames, &s->depth,
                        &s->inlined))
            return -1;
    }
    return 0;
}

/* The optional memory section; its functions' figures are recounted from its stacks (the
 * stacks are the truth, as for the CPU samples). */
static int read_memory(struct jr *r, const struct jv *root, struct pr_profile *p)
{
    const struct jv *o;
    if (jr_opt_object(r, root, "memory", "", &o))
        return -1;
    if (!o)
        return 0;
    struct pr_memory *m = malloc(sizeof *m);
    if (!m)
        return jr_fail(r, "out of memory");
    memory_init(m);
    p->memory = m; /* freed with p on error */
    if (jr_opt_number(r, o, "rate_bytes", "memory", &m->rate_bytes) ||
        jr_opt_number(r, o, "peak_time_ms", "memory", &m->peak_time_ms))
        return -1;
    for (int k = 0; k < MEM_NMETRICS; k++) {
        char where[64];
        snprintf(where, sizeof where, "memory.%s", mem_metric_key[k]);
        if (jr_count(r, jr_get(r, o, mem_metric_key[k]), where, &m->total[k]))
            return -1;
    }
    const struct jv *lost = jr_get(r, o, "lost_samples"),
                    *untracked = jr_get(r, o, "untracked_samples");
    if ((lost && !jv_is_null(lost) && jr_count(r, lost, "memory.lost_samples", &m->lost_samples)) ||
        (untracked && !jv_is_null(untracked) &&
         jr_count(r, untracked, "memory.untracked_samples", &m->untracked_samples)))
        return -1;
    const struct jv *fns = jr_get(r, o, "functions"), *stacks = jr_get(r, o, "stacks");
    if (!fns)
        return jr_fail(r, "memory.functions: missing");
    if (!stacks)
        return jr_fail(r, "memory.stacks: missing");
    if (read_mem_functions(r, fns, m) || read_mem_stacks(r, stacks, m))
        return -1;
    if (memory_recount(m) != 0)
        return jr_fail(r, "out of memory");
    return 0;
}

static int read_root(struct jr *r, const struct jv *root, struct pr_profile *p)
{
    if (!jv_is_object(root))
        return jr_fail(r, "expected a JSON object at the top, got %s", jr_type_name(root));
    if (read_metadata(r, root, p) || read_summary(r, root, p) || read_functions(r, root, p) ||
        read_regions(r, root, p) || read_stacks(r, root, p) || read_memory(r, root, p))
        return -1;
    return 0;
}

static int read_doc(struct jr *r, const struct jv *root, void *ctx)
{
    struct pr_profile *p = ctx;
    if (read_root(r, root, p) == 0)
        return 0;
    profile_free(p);
    return -1;
}

int profile_read_file(const char *path, struct pr_profile *p, char *err, size_t errlen)
{
    struct jr r = {path, err, errlen, NULL};
    return jr_parse_file(&r, read_doc, p);
}

int profile_read_string(const char *text, const char *name, struct pr_profile *p, char *err,
                        size_t errlen)
{
    struct jr r = {name, err, errlen, NULL};
    return jr_parse_string(&r, text, read_doc, p);
}
