/* SPDX-License-Identifier: MIT */
/* region.c — --region NAME: a profile cut down to the samples taken in one region. */
#include "analysis/read/region.h"

#include "core/memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool region_matches(const char *path, const char *name)
{
    size_t len = strlen(name);
    if (len == 0)
        return false;
    for (const char *at = path; at; at = strchr(at, '/') ? strchr(at, '/') + 1 : NULL)
        if (strncmp(at, name, len) == 0 && (at[len] == '\0' || at[len] == '/'))
            return true;
    return false;
}

/* "a, b, c" (cut short with "...") into buf. */
static void list_regions(const struct pr_profile *p, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->nregions && used + 4 < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", p->regions[i]);
        if (n < 0 || (size_t)n >= len - used) {
            snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
            return;
        }
        used += (size_t)n;
    }
}

int profile_filter_region(struct pr_profile *p, const char *name, const char *file, char *err,
                          size_t errlen)
{
    if (!p->has_stacks) {
        snprintf(err, errlen, "%s: no stacks (a profile of the older tool): --region needs them",
                 file);
        return -1;
    }
    uint8_t *keep = calloc(p->nregions + 1, 1); /* by stack region value: 1 + index */
    if (!keep) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    bool any = false;
    for (size_t i = 0; i < p->nregions; i++)
        any |= keep[i + 1] = region_matches(p->regions[i], name);
    if (!any) {
        char have[512];
        list_regions(p, have, sizeof have);
        if (p->nregions)
            snprintf(err, errlen, "%s: no region '%s' (its regions: %s)", file, name, have);
        else
            snprintf(err, errlen, "%s: no region '%s' (it has no regions)", file, name);
        free(keep);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
        struct pr_stack *s = &p->stacks[i];
        if (s->region <= p->nregions && keep[s->region]) {
            p->stacks[n++] = *s;
        } else {
            free(s->frames);
            free(s->inlined);
        }
    }
    p->nstacks = n;
    free(keep);
    if (p->memory) {
        memory_free(p->memory);
        free(p->memory);
        p->memory = NULL;
    }
    if (profile_recount(p) != 0 || profile_sort(p) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* sorted by samples, descending: the functions no kept stack holds are last */
    size_t nf = p->nfunctions;
    while (nf > 0 && p->functions[nf - 1].samples == 0) {
        struct pr_function *f = &p->functions[--nf];
        free(f->name);
        free(f->source_file);
        free(f->source_path);
        free(f->module);
        free(f->raw_name);
    }
    p->nfunctions = nf;
    if (p->frequency_hz > 0)
        p->total_time_ms = (double)p->total_samples * 1000.0 / p->frequency_hz;
    profile_compute_percentages(p);
    return 0;
}
