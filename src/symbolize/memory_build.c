/* SPDX-License-Identifier: MIT */
/* memory_build.c — sampled allocation stacks (return addresses) -> the memory section.
 *
 * The stacks are symbolized by profile_build (so names, inline chains, clone folding and
 * unique names are exactly the CPU profile's), then the allocator's own entry points at the
 * allocating end are cut (operator new and its variants, when the preload saw the allocation
 * only at malloc: a statically linked libstdc++), stacks that became equal are merged and the
 * figures of every raw stack are summed into the stack it became. */
#include "symbolize/memory_build.h"

#include "core/hashmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Functions that only pass an allocation on to the allocator. */
static bool is_allocator_entry(const char *name)
{
    return strncmp(name, "operator new", 12) == 0 || strncmp(name, "operator delete", 15) == 0;
}

/* Moves the referenced functions of tmp into m (unreferenced ones are freed); to[] gets
 * each function's new index. */
static int take_functions(struct pr_memory *m, struct pr_profile *tmp, const uint8_t *used,
                          uint32_t *to)
{
    m->functions = calloc(tmp->nfunctions ? tmp->nfunctions : 1, sizeof *m->functions);
    if (!m->functions)
        return -1;
    for (size_t i = 0; i < tmp->nfunctions; i++) {
        struct pr_function *f = &tmp->functions[i];
        if (!used[i]) {
            to[i] = UINT32_MAX;
            continue;
        }
        to[i] = (uint32_t)m->nfunctions;
        struct pr_mem_function *g = &m->functions[m->nfunctions++];
        g->name = f->name;
        g->source_file = f->source_file;
        g->source_path = f->source_path;
        g->module = f->module;
        g->raw_name = f->raw_name;
        g->line = f->line;
        f->name = f->source_file = f->source_path = f->module = f->raw_name = NULL;
    }
    return 0;
}

int memory_build(struct pr_memory *m, const struct mb_raw_stack *raw, size_t n,
                 pb_resolve_fn resolve, void *ctx, char *err, size_t errlen)
{
    m->functions = NULL;
    m->stacks = NULL;
    m->nfunctions = m->nstacks = 0;
    struct pb_raw_stack *pb = malloc((n ? n : 1) * sizeof *pb);
    uint32_t *stack_of = malloc((n ? n : 1) * sizeof *stack_of);
    struct pr_profile tmp;
    profile_init(&tmp);
    uint32_t *keep = NULL, *to = NULL, *into = NULL, *key = NULL;
    uint8_t *used = NULL;
    struct hmap ids;
    hmap_init(&ids);
    int rc = pb && stack_of ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        pb[i] = (struct pb_raw_stack){raw[i].pcs, raw[i].depth,
                                      raw[i].v[MEM_SAMPLES] ? raw[i].v[MEM_SAMPLES] : 1};
    if (rc == 0 && profile_build_map(&tmp, pb, n, resolve, NULL, ctx, stack_of, err, errlen) != 0) {
        rc = -2; /* err already says why */
    }
    size_t ns = tmp.nstacks;
    if (rc == 0) {
        keep = malloc((ns ? ns : 1) * sizeof *keep);
        into = malloc((ns ? ns : 1) * sizeof *into);
        used = calloc(tmp.nfunctions ? tmp.nfunctions : 1, 1);
        to = malloc((tmp.nfunctions ? tmp.nfunctions : 1) * sizeof *to);
        m->stacks = calloc(ns ? ns : 1, sizeof *m->stacks);
        rc = keep && into && used && to && m->stacks ? 0 : -1;
    }
    /* the allocating end without the allocator's entry points; which functions stay */
    size_t maxd = 1;
    for (size_t s = 0; s < ns && rc == 0; s++) {
        const struct pr_stack *st = &tmp.stacks[s];
        uint32_t d = st->depth;
        while (d > 1 && is_allocator_entry(tmp.functions[st->frames[d - 1]].name))
            d--;
        keep[s] = d;
        maxd = d > maxd ? d : maxd;
        for (uint32_t k = 0; k < d; k++)
            used[st->frames[k]] = 1;
    }
    if (rc == 0)
        rc = take_functions(m, &tmp, used, to);
    if (rc == 0 && !(key = malloc(maxd * (sizeof *key + 1))))
        rc = -1;
    /* merge stacks that became equal */
    for (size_t s = 0; s < ns && rc == 0; s++) {
        const struct pr_stack *st = &tmp.stacks[s];
        uint32_t d = keep[s];
        uint8_t *inl = (uint8_t *)(key + d);
        bool any_inl = false;
        for (uint32_t k = 0; k < d; k++) {
            key[k] = to[st->frames[k]];
            inl[k] = st->inlined ? st->inlined[k] : 0;
            any_inl |= inl[k] != 0;
        }
        uint32_t idx;
        int r = hmap_intern(&ids, key, d * (sizeof *key + 1), (uint32_t)m->nstacks, &idx);
        if (r < 0) {
            rc = -1;
            break;
        }
        into[s] = idx;
        if (r == 0)
            continue;
        struct pr_mem_stack *ms = &m->stacks[m->nstacks];
        ms->frames = malloc(d * sizeof *ms->frames);
        ms->inlined = any_inl ? malloc(d) : NULL;
        if (!ms->frames || (any_inl && !ms->inlined)) {
            free(ms->frames);
            free(ms->inlined);
            rc = -1;
            break;
        }
        m->nstacks++;
        ms->depth = d;
        memcpy(ms->frames, key, d * sizeof *key);
        if (any_inl)
            memcpy(ms->inlined, inl, d);
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        mem_add(m->stacks[into[stack_of[i]]].v, raw[i].v);
    if (rc == 0)
        rc = memory_recount(m);
    if (rc == -1)
        snprintf(err, errlen, "out of memory while building the memory section");
    hmap_free(&ids);
    profile_free(&tmp);
    free(pb);
    free(stack_of);
    free(keep);
    free(into);
    free(used);
    free(to);
    free(key);
    if (rc != 0) {
        double rate = m->rate_bytes, peak = m->peak_time_ms;
        memory_free(m);
        m->rate_bytes = rate;
        m->peak_time_ms = peak;
        return -1;
    }
    return 0;
}
