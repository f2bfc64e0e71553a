/* SPDX-License-Identifier: MIT */
/* profile_write.c — struct pr_profile -> profile JSON, keys in a fixed order.
 * Unknown optional values are left out rather than written as null. */
#include "core/profile_write.h"

#include "core/fsutil.h"
#include "core/json_write.h"
#include "core/memory.h"

#include <math.h>
#include <stdlib.h>

/* Decimals for percentages: more than the format's original two, stable across runs. */
#define PCT_DECIMALS 4

static void opt_count(struct jw *w, const char *key, double v)
{
    if (!isnan(v)) {
        jw_key(w, key);
        jw_uint(w, (unsigned long long)v);
    }
}

static void opt_real(struct jw *w, const char *key, double v, int decimals)
{
    if (!isnan(v)) {
        jw_key(w, key);
        jw_double(w, v, decimals);
    }
}

static void opt_string(struct jw *w, const char *key, const char *v)
{
    if (v) {
        jw_key(w, key);
        jw_string(w, v);
    }
}

static void write_metadata(struct jw *w, const struct pr_profile *p)
{
    jw_key(w, "metadata");
    jw_object_begin(w);
    jw_key(w, "trace_file");
    jw_string(w, p->trace_file ? p->trace_file : "");
    jw_key(w, "template");
    jw_string(w, p->template_name ? p->template_name : PR_TEMPLATE);
    jw_key(w, "export_timestamp");
    jw_string(w, p->export_timestamp ? p->export_timestamp : "");
    jw_key(w, "executable");
    jw_string(w, p->executable ? p->executable : "unknown");
    if (p->command_line) {
        jw_key(w, "command_line");
        jw_array_begin_inline(w);
        for (char **a = p->command_line; *a; a++)
            jw_string(w, *a);
        jw_array_end(w);
    }
    if (p->pid >= 0) {
        jw_key(w, "pid");
        jw_int(w, p->pid);
    }
    opt_string(w, "mode", p->mode);
    if (p->no_cpu_sampling) {
        jw_key(w, "cpu_sampling");
        jw_bool(w, false);
    }
    opt_string(w, "clock", p->clock);
    opt_real(w, "frequency_hz", p->frequency_hz, 3);
    opt_string(w, "profreg_version", p->profreg_version);
    jw_object_end(w);
}

static void write_summary(struct jw *w, const struct pr_profile *p)
{
    jw_key(w, "summary");
    jw_object_begin(w);
    jw_key(w, "total_samples");
    jw_uint(w, p->total_samples);
    jw_key(w, "total_time_ms");
    jw_double(w, isnan(p->total_time_ms) ? (double)p->total_samples : p->total_time_ms, 3);
    if (p->signals) {
        jw_key(w, "signals");
        jw_uint(w, p->signals);
    }
    opt_real(w, "effective_frequency_hz", p->effective_frequency_hz, 1);
    opt_real(w, "wall_time_ms", p->wall_time_ms, 3);
    opt_real(w, "cpu_time_ms", p->cpu_time_ms, 3);
    opt_count(w, "peak_rss_kb", p->peak_rss_kb);
    opt_count(w, "thread_count", p->thread_count);
    opt_count(w, "unsampled_threads", p->unsampled_threads);
    opt_count(w, "clock_fallback_threads", p->clock_fallback_threads);
    opt_count(w, "lost_samples", p->lost_samples);
    opt_count(w, "truncated_stacks", p->truncated_stacks);
    opt_count(w, "skipped_samples", p->skipped_samples);
    opt_count(w, "paused_samples", p->paused_samples);
    opt_real(w, "symbolize_ms", p->symbolize_ms, 3);
    opt_count(w, "symbol_cache_hits", p->symbol_cache_hits);
    opt_count(w, "symbol_cache_misses", p->symbol_cache_misses);
    opt_real(w, "exit_ms", p->exit_ms, 3);
    opt_real(w, "exit_cpu_ms", p->exit_cpu_ms, 3);
    opt_count(w, "exit_helper_misses", p->exit_helper_misses);
    opt_count(w, "exit_extra_rss_kb", p->exit_extra_rss_kb);
    opt_count(w, "cus_indexed", p->cus_indexed);
    opt_count(w, "cus_from_cache", p->cus_from_cache);
    jw_object_end(w);
}


/* The keys that say where a function is, after its figures: source_file, line (null when
 * unknown), and the optional module, source_path, raw_name. */
static void write_where(struct jw *w, const char *source_file, long line, const char *module,
                        const char *source_path, const char *raw_name)
{
    jw_key(w, "source_file");
    jw_string(w, source_file);
    jw_key(w, "line");
    if (line >= 0)
        jw_int(w, line);
    else
        jw_null(w);
    opt_string(w, "module", module);
    opt_string(w, "source_path", source_path);
    opt_string(w, "raw_name", raw_name);
}
static void write_function(struct jw *w, const struct pr_function *f, size_t rank)
{
    jw_object_begin(w);
    jw_key(w, "rank");
    jw_uint(w, rank);
    jw_key(w, "name");
    jw_string(w, f->name);
    jw_key(w, "samples");
    jw_uint(w, f->samples);
    jw_key(w, "percentage");
    jw_double(w, f->percentage, PCT_DECIMALS);
    if (f->has_self) {
        jw_key(w, "self_samples");
        jw_uint(w, f->self_samples);
        jw_key(w, "self_percentage");
        jw_double(w, f->self_percentage, PCT_DECIMALS);
    }
    write_where(w, f->source_file, f->line, f->module, f->source_path, f->raw_name);
    jw_object_end(w);
}

/* A stack's frames and inlined marks (indices into frames). */
static void write_frames(struct jw *w, const uint32_t *frames, uint32_t depth,
                         const uint8_t *inlined)
{
    jw_key(w, "frames");
    jw_array_begin_inline(w);
    for (uint32_t d = 0; d < depth; d++)
        jw_uint(w, frames[d]);
    jw_array_end(w);
    if (inlined) {
        jw_key(w, "inlined");
        jw_array_begin_inline(w);
        for (uint32_t d = 0; d < depth; d++)
            if (inlined[d])
                jw_uint(w, d);
        jw_array_end(w);
    }
}

static void write_mem_function(struct jw *w, const struct pr_mem_function *f)
{
    jw_object_begin_inline(w);
    jw_key(w, "name");
    jw_string(w, f->name);
    for (int k = 0; k < MEM_NMETRICS; k++) {
        jw_key(w, mem_metric_key[k]);
        jw_uint(w, f->total[k]);
    }
    for (int k = 0; k < MEM_NMETRICS; k++) {
        char key[64];
        snprintf(key, sizeof key, "self_%s", mem_metric_key[k]);
        jw_key(w, key);
        jw_uint(w, f->self[k]);
    }
    write_where(w, f->source_file, f->line, f->module, f->source_path, f->raw_name);
    jw_object_end(w);
}

/* The memory section (docs/formats.md): whole-run figures, functions, stacks. */
static void write_memory(struct jw *w, const struct pr_memory *m)
{
    jw_key(w, "memory");
    jw_object_begin(w);
    opt_real(w, "rate_bytes", m->rate_bytes, 1);
    static const int order[] = {MEM_SAMPLES, MEM_ALLOC_BYTES, MEM_ALLOC_COUNT, MEM_PEAK_LIVE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        jw_key(w, mem_metric_key[order[i]]);
        jw_uint(w, m->total[order[i]]);
    }
    opt_real(w, "peak_time_ms", m->peak_time_ms, 3);
    jw_key(w, mem_metric_key[MEM_EXIT_LIVE]);
    jw_uint(w, m->total[MEM_EXIT_LIVE]);
    jw_key(w, "lost_samples");
    jw_uint(w, m->lost_samples);
    jw_key(w, "untracked_samples");
    jw_uint(w, m->untracked_samples);
    jw_key(w, "functions");
    jw_array_begin(w);
    for (size_t i = 0; i < m->nfunctions; i++)
        write_mem_function(w, &m->functions[i]);
    jw_array_end(w);
    jw_key(w, "stacks");
    jw_array_begin(w);
    for (size_t i = 0; i < m->nstacks; i++) {
        const struct pr_mem_stack *s = &m->stacks[i];
        jw_object_begin_inline(w);
        for (int k = 0; k < MEM_NMETRICS; k++) {
            jw_key(w, mem_metric_key[k]);
            jw_uint(w, s->v[k]);
        }
        write_frames(w, s->frames, s->depth, s->inlined);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
}

/* A profile's text goes to the stream in writes of this size: a profile of a large test
 * binary is a megabyte, and writing it 4 KiB at a time took 0.6 ms more of the exit. */
#define PROFILE_WRITE_CHUNK (64 * 1024)

int profile_write(const struct pr_profile *p, FILE *f)
{
    struct jw w;
    jw_init(&w, f);
    char *chunk = malloc(PROFILE_WRITE_CHUNK); /* without it, the writer's own buffer */
    jw_lend_buffer(&w, chunk, PROFILE_WRITE_CHUNK);
    jw_object_begin(&w);
    write_metadata(&w, p);
    write_summary(&w, p);
    jw_key(&w, "top_functions");
    jw_array_begin(&w);
    for (size_t i = 0; i < p->nfunctions; i++)
        write_function(&w, &p->functions[i], i + 1);
    jw_array_end(&w);
    if (p->has_stacks) {
        jw_key(&w, "stacks");
        jw_array_begin(&w);
        for (size_t i = 0; i < p->nstacks; i++) {
            const struct pr_stack *s = &p->stacks[i];
            jw_object_begin_inline(&w);
            jw_key(&w, "count");
            jw_uint(&w, s->count);
            write_frames(&w, s->frames, s->depth, s->inlined);
            if (s->region && s->region <= p->nregions) {
                jw_key(&w, "region");
                jw_uint(&w, s->region - 1);
            }
            jw_object_end(&w);
        }
        jw_array_end(&w);
    }
    if (p->nregions) {
        jw_key(&w, "regions");
        jw_array_begin(&w);
        for (size_t i = 0; i < p->nregions; i++)
            jw_string(&w, p->regions[i]);
        jw_array_end(&w);
    }
    if (p->memory)
        write_memory(&w, p->memory);
    jw_object_end(&w);
    int rc = jw_finish(&w);
    free(chunk);
    return rc;
}

static int write_cb(FILE *f, void *ctx)
{
    return profile_write(ctx, f);
}

int profile_write_file(const struct pr_profile *p, const char *path, char *err, size_t errlen)
{
    return fs_write_atomic(path, false, write_cb, (void *)p, err, errlen);
}
