/* SPDX-License-Identifier: MIT */
/* regions.c — region paths of a profile: looking up, interning, splitting built stacks by them. */
#include "core/regions.h"

#include "core/array.h"
#include "core/hashmap.h"

#include <stdlib.h>
#include <string.h>

long profile_region_find(const struct pr_profile *p, const char *path)
{
    for (size_t i = 0; i < p->nregions; i++)
        if (strcmp(p->regions[i], path) == 0)
            return (long)i;
    return -1;
}

int profile_region_intern(struct pr_profile *p, const char *path, uint32_t *region)
{
    long i = profile_region_find(p, path);
    if (i >= 0) {
        *region = (uint32_t)i + 1;
        return 0;
    }
    char *copy = strdup(path);
    char **grown = copy ? realloc(p->regions, (p->nregions + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(copy);
        return -1;
    }
    p->regions = grown;
    p->regions[p->nregions++] = copy;
    *region = (uint32_t)p->nregions;
    return 0;
}

int profile_split_regions(struct pr_profile *p, const struct region_sample *raw, size_t nraw)
{
    bool any = false;
    for (size_t i = 0; i < nraw && !any; i++)
        any = raw[i].name != NULL;
    if (!any)
        return 0;
    /* Region of each raw stack, interned into a copy of the table first. */
    struct pr_profile names;
    profile_init(&names);
    uint32_t *region = malloc(nraw * sizeof *region);
    int rc = region ? 0 : -1;
    for (size_t i = 0; i < p->nregions && rc == 0; i++) {
        uint32_t r;
        rc = profile_region_intern(&names, p->regions[i], &r);
    }
    for (size_t i = 0; i < nraw && rc == 0; i++) {
        region[i] = 0;
        if (raw[i].name)
            rc = profile_region_intern(&names, raw[i].name, &region[i]);
    }
    /* (built stack, region) -> new stack, in the order of the built stacks. */
    uint32_t *order = rc == 0 ? malloc((nraw ? nraw : 1) * sizeof *order) : NULL;
    struct pr_stack *out = order ? calloc(nraw + p->nstacks + 1, sizeof *out) : NULL;
    struct hmap ids;
    hmap_init(&ids);
    size_t n = 0;
    if (!out)
        rc = -1;
    /* raw stacks grouped by built stack, first appearances in order (a counting sort) */
    size_t *start = rc == 0 ? calloc(p->nstacks + 1, sizeof *start) : NULL;
    if (!start)
        rc = -1;
    for (size_t i = 0; i < nraw && rc == 0; i++)
        if (raw[i].stack_of < p->nstacks)
            start[raw[i].stack_of + 1]++;
    for (size_t s = 0; s < p->nstacks && rc == 0; s++)
        start[s + 1] += start[s];
    size_t kept = rc == 0 ? start[p->nstacks] : 0;
    for (size_t i = 0; i < nraw && rc == 0; i++)
        if (raw[i].stack_of < p->nstacks)
            order[start[raw[i].stack_of]++] = (uint32_t)i;
    free(start);
    for (size_t k = 0; k < kept && rc == 0; k++) {
        const struct region_sample *r = &raw[order[k]];
        uint32_t key[2] = {r->stack_of, region[order[k]]}, idx;
        int got = hmap_intern(&ids, key, sizeof key, (uint32_t)n, &idx);
        if (got < 0) {
            rc = -1;
        } else if (got == 0) {
            out[idx].count += r->count;
        } else {
            const struct pr_stack *s = &p->stacks[r->stack_of];
            struct pr_stack ns = {malloc(s->depth ? s->depth * sizeof *s->frames : 1), s->depth,
                                  r->count, NULL, key[1]};
            if (ns.frames)
                memcpy(ns.frames, s->frames, s->depth * sizeof *s->frames);
            if (s->inlined && (ns.inlined = malloc(s->depth)))
                memcpy(ns.inlined, s->inlined, s->depth);
            out[n++] = ns;
            if (!ns.frames || (s->inlined && !ns.inlined))
                rc = -1;
        }
    }
    hmap_free(&ids);
    free(order);
    free(region);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++) {
            free(out[i].frames);
            free(out[i].inlined);
        }
        free(out);
        profile_free(&names);
        return -1;
    }
    for (size_t i = 0; i < p->nstacks; i++) {
        free(p->stacks[i].frames);
        free(p->stacks[i].inlined);
    }
    free(p->stacks);
    p->stacks = out;
    p->nstacks = n;
    for (size_t i = 0; i < p->nregions; i++)
        free(p->regions[i]);
    free(p->regions);
    p->regions = names.regions;
    p->nregions = names.nregions;
    names.regions = NULL;
    names.nregions = 0;
    profile_free(&names);
    return 0;
}
