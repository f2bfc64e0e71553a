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
        snprintf(err, errlen, "%s: no stacks (written by parse-profile.py?): --region needs them",
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

/* Descending samples, then paths in byte order, the no-region row last among equals. */
static int row_cmp(const void *a, const void *b)
{
    const struct region_row *x = a, *y = b;
    if (x->samples != y->samples)
        return x->samples > y->samples ? -1 : 1;
    if (!x->path || !y->path)
        return !x->path - !y->path;
    return strcmp(x->path, y->path);
}

/* Is path nested in (or equal to) outer: "a/b" under "a", not under "ab". */
static bool path_under(const char *path, const char *outer)
{
    size_t n = strlen(outer);
    return strncmp(path, outer, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int region_rows(const struct pr_profile *p, struct region_row **rows, size_t *nrows,
                uint64_t *total)
{
    uint64_t *own = calloc(p->nregions + 1, sizeof *own); /* by 1 + index; [0]: no region */
    struct region_row *r = calloc(p->nregions + 1, sizeof *r);
    if (!own || !r) {
        free(own);
        free(r);
        return -1;
    }
    uint64_t all = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
        uint32_t reg = p->stacks[i].region <= p->nregions ? p->stacks[i].region : 0;
        own[reg] += p->stacks[i].count;
        all += p->stacks[i].count;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nregions; i++) {
        r[n] = (struct region_row){p->regions[i], 0, own[i + 1]};
        for (size_t j = 0; j < p->nregions; j++)
            if (path_under(p->regions[j], p->regions[i]))
                r[n].samples += own[j + 1];
        if (r[n].samples) /* a region --region filtered out, or one without samples */
            n++;
    }
    if (own[0])
        r[n++] = (struct region_row){NULL, own[0], own[0]};
    free(own);
    qsort(r, n, sizeof *r, row_cmp);
    *rows = r;
    *nrows = n;
    *total = all;
    return 0;
}
