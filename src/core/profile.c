/* SPDX-License-Identifier: MIT */
/* profile.c — lifetime, ordering and derived values of struct pr_profile.
 *
 * Invariant kept by profile_sort(): functions[i] is rank i + 1, and every stack frame index
 * refers to the same function before and after sorting. */
#include "core/profile.h"
#include "core/array.h"

#include "core/hashmap.h"
#include "core/intern.h"
#include "core/memory.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void profile_init(struct pr_profile *p)
{
    memset(p, 0, sizeof *p);
    p->pid = -1;
    p->frequency_hz = NAN;
    p->total_time_ms = NAN;
    p->effective_frequency_hz = NAN;
    p->wall_time_ms = NAN;
    p->cpu_time_ms = NAN;
    p->peak_rss_kb = NAN;
    p->thread_count = NAN;
    p->unsampled_threads = NAN;
    p->clock_fallback_threads = NAN;
    p->lost_samples = NAN;
    p->truncated_stacks = NAN;
    p->skipped_samples = NAN;
    p->paused_samples = NAN;
    p->symbolize_ms = NAN;
    p->symbol_cache_hits = NAN;
    p->symbol_cache_misses = NAN;
    p->exit_ms = p->exit_cpu_ms = p->exit_extra_rss_kb = p->cus_indexed = p->cus_from_cache = NAN;
    p->exit_helper_misses = NAN;
}

void profile_free(struct pr_profile *p)
{
    free(p->trace_file);
    free(p->template_name);
    free(p->export_timestamp);
    free(p->executable);
    if (p->command_line) {
        for (char **a = p->command_line; *a; a++)
            free(*a);
        free(p->command_line);
    }
    free(p->mode);
    free(p->clock);
    free(p->profreg_version);
    for (size_t i = 0; i < p->nfunctions; i++) {
        struct pr_function *f = &p->functions[i];
        free(f->name);
        free(f->source_file);
        free(f->source_path);
        free(f->module);
        free(f->raw_name);
    }
    free(p->functions);
    for (size_t i = 0; i < p->nstacks; i++) {
        free(p->stacks[i].frames);
        free(p->stacks[i].inlined);
    }
    free(p->stacks);
    for (size_t i = 0; i < p->nregions; i++)
        free(p->regions[i]);
    free(p->regions);
    if (p->memory) {
        memory_free(p->memory);
        free(p->memory);
    }
    profile_init(p);
}

void profile_compute_percentages(struct pr_profile *p)
{
    double total = (double)p->total_samples;
    for (size_t i = 0; i < p->nfunctions; i++) {
        struct pr_function *f = &p->functions[i];
        f->percentage = total > 0 ? (double)f->samples * 100.0 / total : 0.0;
        f->self_percentage = total > 0 ? (double)f->self_samples * 100.0 / total : 0.0;
    }
}

struct order {
    const struct pr_function *fn;
    uint32_t old_index;
};

static int cmp_order(const void *a, const void *b)
{
    const struct pr_function *x = ((const struct order *)a)->fn;
    const struct pr_function *y = ((const struct order *)b)->fn;
    if (x->samples != y->samples)
        return x->samples > y->samples ? -1 : 1;
    return strcmp(x->name, y->name);
}

int profile_sort(struct pr_profile *p)
{
    size_t n = p->nfunctions;
    if (n == 0)
        return 0;
    struct order *ord = malloc(n * sizeof *ord);
    uint32_t *new_index = malloc(n * sizeof *new_index);
    struct pr_function *sorted = malloc(n * sizeof *sorted);
    if (!ord || !new_index || !sorted) {
        free(ord);
        free(new_index);
        free(sorted);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        ord[i].fn = &p->functions[i];
        ord[i].old_index = (uint32_t)i;
    }
    array_sort(ord, n, sizeof *ord, cmp_order);
    for (size_t i = 0; i < n; i++) {
        sorted[i] = p->functions[ord[i].old_index];
        new_index[ord[i].old_index] = (uint32_t)i;
    }
    for (size_t s = 0; s < p->nstacks; s++)
        for (uint32_t d = 0; d < p->stacks[s].depth; d++) {
            assert(p->stacks[s].frames[d] < p->nfunctions); /* a frame names a function */
            p->stacks[s].frames[d] = new_index[p->stacks[s].frames[d]];
        }
    free(p->functions);
    p->functions = sorted;
    free(ord);
    free(new_index);
    return 0;
}

long profile_find(const struct pr_profile *p, const char *name)
{
    for (size_t i = 0; i < p->nfunctions; i++)
        if (strcmp(p->functions[i].name, name) == 0)
            return (long)i;
    return -1;
}

static void copy_run_fields(struct pr_profile *dst, const struct pr_profile *src)
{
    dst->trace_file = dup_or_null(src->trace_file);
    dst->template_name = dup_or_null(src->template_name);
    dst->export_timestamp = dup_or_null(src->export_timestamp);
    dst->executable = dup_or_null(src->executable);
    dst->mode = dup_or_null(src->mode);
    dst->clock = dup_or_null(src->clock);
    dst->profreg_version = dup_or_null(src->profreg_version);
    dst->pid = src->pid;
    dst->frequency_hz = src->frequency_hz;
    dst->effective_frequency_hz = src->effective_frequency_hz;
    dst->wall_time_ms = src->wall_time_ms;
    dst->cpu_time_ms = src->cpu_time_ms;
    dst->peak_rss_kb = src->peak_rss_kb;
    dst->thread_count = src->thread_count;
    dst->unsampled_threads = src->unsampled_threads;
    dst->clock_fallback_threads = src->clock_fallback_threads;
    dst->symbolize_ms = src->symbolize_ms;
    dst->exit_ms = src->exit_ms;
    dst->exit_cpu_ms = src->exit_cpu_ms;
    dst->exit_helper_misses = src->exit_helper_misses;
    dst->exit_extra_rss_kb = src->exit_extra_rss_kb;
    dst->cus_indexed = src->cus_indexed;
    dst->cus_from_cache = src->cus_from_cache;
    dst->has_stacks = src->has_stacks;
    dst->no_cpu_sampling = src->no_cpu_sampling;
}

static void forget_run_fields(struct pr_profile *p)
{
    free(p->trace_file);
    p->trace_file = NULL;
    p->pid = -1;
    p->wall_time_ms = p->cpu_time_ms = p->peak_rss_kb = NAN;
    p->thread_count = p->unsampled_threads = p->clock_fallback_threads = p->symbolize_ms = NAN;
    p->exit_ms = p->exit_cpu_ms = p->exit_extra_rss_kb = p->cus_indexed = p->cus_from_cache = NAN;
    p->exit_helper_misses = NAN;
}

static double add_opt(double a, double b)
{
    return isnan(a) || isnan(b) ? NAN : a + b;
}

static int merge_functions(struct pr_profile *dst, const struct pr_profile *src, uint32_t *map)
{
    struct fn_intern names;
    fn_intern_init(&names, FN_BY_NAME);
    int rc = fn_intern_seed(&names, dst->functions, dst->nfunctions);
    for (size_t i = 0; i < src->nfunctions && rc == 0; i++) {
        const struct pr_function *f = &src->functions[i];
        uint32_t idx;
        int r = fn_intern_add(&names, &dst->functions, &dst->nfunctions, f->name, strlen(f->name),
                              NULL, NULL, &idx);
        if (r < 0) {
            rc = -1;
            break;
        }
        struct pr_function *d = &dst->functions[idx];
        if (r == 1) {
            char *name = d->name;
            *d = *f;
            d->name = name;
            d->source_file = dup_or_null(f->source_file);
            d->source_path = dup_or_null(f->source_path);
            d->module = dup_or_null(f->module);
            d->raw_name = dup_or_null(f->raw_name);
        } else {
            d->samples += f->samples;
            d->self_samples += f->self_samples;
            d->has_self = d->has_self && f->has_self;
        }
        map[i] = idx;
    }
    fn_intern_free(&names);
    return rc;
}

/* Adds src's stacks to dst's, frames through map (src's function index -> dst's), regions
 * by path; stacks of different regions stay apart. */
static int merge_stacks(struct pr_profile *dst, const struct pr_profile *src, const uint32_t *map)
{
    uint32_t *region_map = calloc(src->nregions + 1, sizeof *region_map); /* src's -> dst's */
    if (!region_map)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < src->nregions && rc == 0; i++)
        rc = profile_region_intern(dst, src->regions[i], &region_map[i + 1]);
    struct stack_intern stacks;
    stack_intern_init(&stacks, STACK_BY_FRAMES);
    if (rc == 0)
        rc = stack_intern_seed(&stacks, dst->stacks, dst->nstacks);
    for (size_t i = 0; i < src->nstacks && rc == 0; i++) {
        const struct pr_stack *s = &src->stacks[i];
        uint32_t *frames = stack_intern_frames(&stacks, s->depth), idx;
        if (!frames) {
            rc = -1;
            break;
        }
        for (uint32_t d = 0; d < s->depth; d++)
            frames[d] = map[s->frames[d]];
        uint32_t region = s->region <= src->nregions ? region_map[s->region] : 0;
        rc = stack_intern_add(&stacks, &dst->stacks, &dst->nstacks, frames, s->inlined, s->depth,
                              s->count, region, &idx);
    }
    stack_intern_free(&stacks);
    free(region_map);
    return rc;
}

static uint64_t stack_sum(const struct pr_profile *p)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < p->nstacks; i++)
        if (!pr_count_add(&sum, p->stacks[i].count))
            return UINT64_MAX;
    return sum;
}

/* Whether adding src into dst keeps every sum within PR_MAX_SAMPLES: the totals, each
 * function's samples (by name) and the stacks' counts (bounding any merged stack's). */
static bool merge_fits(const struct pr_profile *dst, const struct pr_profile *src)
{
    uint64_t t = dst->total_samples, sd = stack_sum(dst), ss = stack_sum(src);
    if (!pr_count_add(&t, src->total_samples) || sd == UINT64_MAX || ss == UINT64_MAX ||
        !pr_count_add(&sd, ss))
        return false;
    if (dst->nfunctions == 0 || src->nfunctions == 0)
        return true;
    struct hmap names;
    hmap_init(&names);
    bool fits = true;
    for (size_t i = 0; i < dst->nfunctions && fits; i++) {
        uint32_t v;
        fits = hmap_intern(&names, dst->functions[i].name, strlen(dst->functions[i].name),
                           (uint32_t)i, &v) >= 0;
    }
    for (size_t i = 0; i < src->nfunctions && fits; i++) {
        const struct pr_function *f = &src->functions[i];
        uint32_t v;
        int r = hmap_intern(&names, f->name, strlen(f->name), UINT32_MAX, &v);
        if (r < 0) {
            fits = false;
        } else if (r == 0 && v != UINT32_MAX) {
            uint64_t a = dst->functions[v].samples, b = dst->functions[v].self_samples;
            fits = pr_count_add(&a, f->samples) && pr_count_add(&b, f->self_samples);
        } else {
            fits = f->samples <= PR_MAX_SAMPLES && f->self_samples <= PR_MAX_SAMPLES;
        }
    }
    hmap_free(&names);
    return fits;
}

/* The whole-run figures of the memory sections: a copy of the first, then sums (a side
 * without a section drops them). */
static int merge_memory_totals(struct pr_profile *dst, const struct pr_profile *src, bool first)
{
    if (first) {
        dst->memory = src->memory ? memory_copy(src->memory, false) : NULL;
        return src->memory && !dst->memory ? -1 : 0;
    }
    if (!dst->memory)
        return 0;
    if (!src->memory) {
        memory_free(dst->memory);
        free(dst->memory);
        dst->memory = NULL;
        return 0;
    }
    struct pr_memory *d = dst->memory;
    for (int k = 0; k < MEM_NMETRICS; k++)
        d->total[k] += src->memory->total[k];
    if (d->rate_bytes != src->memory->rate_bytes)
        d->rate_bytes = NAN;
    d->peak_time_ms = NAN;
    d->lost_samples += src->memory->lost_samples;
    d->untracked_samples += src->memory->untracked_samples;
    return 0;
}

int profile_merge(struct pr_profile *dst, const struct pr_profile *src)
{
    if (!merge_fits(dst, src)) {
        errno = EOVERFLOW;
        return -1;
    }
    bool first = dst->nfunctions == 0 && dst->total_samples == 0 && !dst->executable;
    if (first) {
        copy_run_fields(dst, src);
    } else {
        forget_run_fields(dst);
        dst->no_cpu_sampling = dst->no_cpu_sampling && src->no_cpu_sampling;
    }
    if (merge_memory_totals(dst, src, first) != 0)
        return -1;
    uint32_t *map = malloc((src->nfunctions ? src->nfunctions : 1) * sizeof *map);
    if (!map || merge_functions(dst, src, map) != 0) {
        free(map);
        return -1;
    }
    int rc = 0;
    if (dst->has_stacks && src->has_stacks) {
        rc = merge_stacks(dst, src, map);
    } else if (dst->has_stacks) {
        for (size_t i = 0; i < dst->nstacks; i++) {
            free(dst->stacks[i].frames);
            free(dst->stacks[i].inlined);
        }
        free(dst->stacks);
        dst->stacks = NULL;
        dst->nstacks = 0;
        dst->has_stacks = false;
    }
    free(map);
    if (rc != 0)
        return -1;
    if (!first) {
        dst->total_time_ms = add_opt(dst->total_time_ms, src->total_time_ms);
        dst->lost_samples = add_opt(dst->lost_samples, src->lost_samples);
        dst->truncated_stacks = add_opt(dst->truncated_stacks, src->truncated_stacks);
        dst->skipped_samples = add_opt(dst->skipped_samples, src->skipped_samples);
        dst->paused_samples = add_opt(dst->paused_samples, src->paused_samples);
    } else {
        dst->total_time_ms = src->total_time_ms;
        dst->lost_samples = src->lost_samples;
        dst->truncated_stacks = src->truncated_stacks;
        dst->skipped_samples = src->skipped_samples;
        dst->paused_samples = src->paused_samples;
    }
    dst->total_samples += src->total_samples;
    dst->signals += src->signals;
    if (profile_sort(dst) != 0)
        return -1;
    if (!first)
        profile_compute_percentages(dst);
    return 0;
}

int profile_recount(struct pr_profile *p)
{
    uint8_t *seen = calloc(p->nfunctions ? p->nfunctions : 1, 1);
    if (!seen)
        return -1;
    for (size_t i = 0; i < p->nfunctions; i++) {
        p->functions[i].samples = p->functions[i].self_samples = 0;
        p->functions[i].has_self = true;
    }
    p->total_samples = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct pr_stack *st = &p->stacks[i];
        p->total_samples += st->count;
        for (uint32_t d = 0; d < st->depth; d++)
            if (st->frames[d] < p->nfunctions && !seen[st->frames[d]]) {
                seen[st->frames[d]] = 1;
                p->functions[st->frames[d]].samples += st->count;
            }
        for (uint32_t d = 0; d < st->depth; d++)
            if (st->frames[d] < p->nfunctions)
                seen[st->frames[d]] = 0;
        if (st->depth && st->frames[st->depth - 1] < p->nfunctions)
            p->functions[st->frames[st->depth - 1]].self_samples += st->count;
    }
    free(seen);
    profile_compute_percentages(p);
    return 0;
}
