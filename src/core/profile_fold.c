/* SPDX-License-Identifier: MIT */
/* profile_fold.c — the two ways a profile's functions are folded for judging and display:
 * compiler clones into their base function, and inlined frames into their caller.
 *
 * Invariant kept by both: the stacks stay the truth. Counts are recomputed from them after
 * every rewrite, so sum(self_samples) == total_samples and every inclusive count is once per
 * stack, as profile_build() makes them. */
#include "core/profile.h"

#include "core/array.h"
#include "core/hashmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DROP UINT32_MAX

int inline_mode_parse(const char *s, enum inline_mode *out)
{
    if (s && strcmp(s, "fold") == 0)
        *out = INLINES_FOLD;
    else if (s && strcmp(s, "expand") == 0)
        *out = INLINES_EXPAND;
    else
        return -1;
    return 0;
}

const char *inline_mode_name(enum inline_mode m)
{
    return m == INLINES_FOLD ? "fold" : "expand";
}

/* GCC's and LLVM's clone and split-function suffixes on C symbols. */
static const char *const clone_words[] = {"constprop",  "isra", "part",        "cold",  "lto_priv",
                                          "localalias", "llvm", "specialized", "clone", "ipa_sra"};

static bool clone_word_at(const char *s)
{
    for (size_t i = 0; i < sizeof clone_words / sizeof *clone_words; i++) {
        size_t n = strlen(clone_words[i]);
        if (strncmp(s, clone_words[i], n) == 0 && (s[n] == '.' || s[n] == '\0'))
            return true;
    }
    return false;
}

/* Is s (just after a '.') a chain of clone words and numbers to the end: "constprop.0",
 * "part.0.cold", "llvm.1234"? Not "so+0x10" (a module) or "c" (a file name). */
static bool clone_suffix(const char *s)
{
    if (!clone_word_at(s))
        return false;
    for (const char *t = s; *t;) {
        size_t n = strcspn(t, ".");
        bool digits = n > 0 && strspn(t, "0123456789") == n;
        if (!digits && !clone_word_at(t))
            return false;
        t += n;
        if (*t == '.')
            t++;
        else
            break;
    }
    return true;
}

char *name_fold_clones(const char *name)
{
    size_t len = strlen(name);
    size_t end = len;
    /* c++filt's form, possibly repeated: "f(int) [clone .isra.0] [clone .cold]" */
    for (;;) {
        const char *tag = " [clone .";
        size_t t = strlen(tag);
        if (end < t + 1 || name[end - 1] != ']')
            break;
        size_t open = end - 1;
        while (open > 0 && name[open] != '[')
            open--;
        if (open == 0 || strncmp(name + open - 1, tag, t) != 0)
            break;
        end = open - 1;
    }
    /* a C symbol (no parameter list, no spaces): "f.constprop.0", "f.part.0.cold" */
    if (end == len && !memchr(name, '(', len) && !memchr(name, ' ', len)) {
        for (const char *dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.'))
            if (dot > name && clone_suffix(dot + 1)) {
                end = (size_t)(dot - name);
                break;
            }
    }
    if (end == len || end == 0)
        return NULL;
    char *r = malloc(end + 1);
    if (r) {
        memcpy(r, name, end);
        r[end] = '\0';
    }
    return r;
}

static void free_stacks(struct pr_stack *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st[i].frames);
        free(st[i].inlined);
    }
    free(st);
}

/* Rewrites every stack: frames map through map[] (functions renumbered, DROP removes the
 * frame), inlined frames are removed when fold_inlines, and a frame equal to the one outside
 * it is removed when either was merged (merged[], may be NULL): a split ".cold" part under its
 * own function is one function. Stacks that became equal are merged. */
static int rewrite_stacks(struct pr_profile *p, const uint32_t *map, const uint8_t *merged,
                          bool fold_inlines)
{
    struct hmap ids;
    hmap_init(&ids);
    struct pr_stack *out = NULL;
    size_t n = 0, cap = 0;
    uint32_t *fr = NULL;
    uint8_t *fl = NULL, *key = NULL;
    size_t maxd = 1;
    for (size_t i = 0; i < p->nstacks; i++)
        if (p->stacks[i].depth > maxd)
            maxd = p->stacks[i].depth;
    fr = malloc(maxd * sizeof *fr);
    fl = malloc(maxd);
    key = malloc(maxd * (sizeof *fr + 1) + sizeof(uint32_t));
    int rc = fr && fl && key ? 0 : -1;
    for (size_t i = 0; i < p->nstacks && rc == 0; i++) {
        const struct pr_stack *s = &p->stacks[i];
        uint32_t d2 = 0;
        bool any_inl = false;
        for (uint32_t d = 0; d < s->depth; d++) {
            uint8_t inl = s->inlined && d > 0 ? s->inlined[d] : 0; /* the root never is */
            if (s->frames[d] >= p->nfunctions)
                continue; /* broken input: a frame naming no function */
            uint32_t f = map ? map[s->frames[d]] : s->frames[d];
            if (f == DROP || (fold_inlines && inl && d2 > 0))
                continue;
            if (d2 > 0 && fr[d2 - 1] == f && merged &&
                (merged[s->frames[d]] ||
                 (d > 0 && s->frames[d - 1] < p->nfunctions && merged[s->frames[d - 1]])))
                continue;
            fl[d2] = fold_inlines ? 0 : inl;
            any_inl |= fl[d2] != 0;
            fr[d2++] = f;
        }
        if (d2 == 0)
            continue;
        memcpy(key, fr, d2 * sizeof *fr);
        memcpy(key + d2 * sizeof *fr, fl, d2);
        memcpy(key + d2 * (sizeof *fr + 1), &s->region, sizeof s->region); /* regions apart */
        uint32_t idx;
        int r = hmap_intern(&ids, key, d2 * (sizeof *fr + 1) + sizeof s->region, (uint32_t)n, &idx);
        if (r < 0 || (r == 1 && ARRAY_GROW(out, n, cap) < 0)) {
            rc = -1;
            break;
        }
        if (r == 0) {
            out[idx].count += s->count;
            continue;
        }
        struct pr_stack ns = {malloc(d2 * sizeof *fr), d2, s->count, NULL, s->region};
        if (ns.frames && any_inl && (ns.inlined = malloc(d2)))
            memcpy(ns.inlined, fl, d2);
        if (!ns.frames || (any_inl && !ns.inlined)) {
            free(ns.frames);
            rc = -1;
            break;
        }
        memcpy(ns.frames, fr, d2 * sizeof *fr);
        out[n++] = ns;
    }
    free(fr);
    free(fl);
    free(key);
    hmap_free(&ids);
    if (rc != 0) {
        free_stacks(out, n);
        return -1;
    }
    free_stacks(p->stacks, p->nstacks);
    p->stacks = out;
    p->nstacks = n;
    return 0;
}

static void free_function(struct pr_function *f)
{
    free(f->name);
    free(f->source_file);
    free(f->source_path);
    free(f->module);
    free(f->raw_name);
}

/* Drops functions no stack refers to, renumbering frames; then recounts and sorts. */
static int compact_and_recount(struct pr_profile *p)
{
    uint32_t *to = malloc((p->nfunctions ? p->nfunctions : 1) * sizeof *to);
    if (!to)
        return -1;
    for (size_t i = 0; i < p->nfunctions; i++)
        to[i] = DROP;
    for (size_t s = 0; s < p->nstacks; s++) /* rewrite_stacks left only valid frames */
        for (uint32_t d = 0; d < p->stacks[s].depth; d++)
            to[p->stacks[s].frames[d]] = 0;
    size_t k = 0;
    for (size_t i = 0; i < p->nfunctions; i++) {
        if (to[i] == DROP) {
            free_function(&p->functions[i]);
            continue;
        }
        to[i] = (uint32_t)k;
        p->functions[k++] = p->functions[i];
    }
    p->nfunctions = k;
    for (size_t s = 0; s < p->nstacks; s++)
        for (uint32_t d = 0; d < p->stacks[s].depth; d++)
            p->stacks[s].frames[d] = to[p->stacks[s].frames[d]];
    free(to);
    uint64_t total = p->total_samples;
    if (profile_recount(p) != 0)
        return -1;
    p->total_samples = total; /* unchanged: every sample kept its stack */
    profile_compute_percentages(p);
    return profile_sort(p);
}

int profile_fold_inlines(struct pr_profile *p)
{
    if (!p->has_stacks)
        return 0;
    bool any = false;
    for (size_t s = 0; s < p->nstacks && !any; s++)
        any = p->stacks[s].inlined != NULL;
    if (!any)
        return 0;
    if (rewrite_stacks(p, NULL, NULL, true) != 0)
        return -1;
    return compact_and_recount(p);
}

int profile_fold_clones(struct pr_profile *p)
{
    size_t n = p->nfunctions;
    char **base = calloc(n ? n : 1, sizeof *base);
    uint32_t *map = malloc((n ? n : 1) * sizeof *map);
    uint8_t *merged = calloc(n ? n : 1, 1);
    struct hmap names;
    hmap_init(&names);
    int rc = base && map && merged ? 0 : -1;
    bool any = false;
    for (size_t i = 0; i < n && rc == 0; i++)
        any |= (base[i] = name_fold_clones(p->functions[i].name)) != NULL;
    if (rc != 0 || !any)
        goto done;
    /* functions keep their places; a clone whose base name is taken merges into the first
     * holder of that name (the heaviest: functions are sorted) */
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct pr_function *f = &p->functions[i];
        const char *name = base[i] ? base[i] : f->name;
        uint32_t first;
        int r = hmap_intern(&names, name, strlen(name), (uint32_t)i, &first);
        if (r < 0) {
            rc = -1;
            break;
        }
        map[i] = first;
        if (base[i] && !f->raw_name) {
            f->raw_name = f->name;
            f->name = NULL;
        }
        if (r == 1) {
            if (base[i]) {
                free(f->name);
                f->name = base[i];
                base[i] = NULL;
            }
            continue;
        }
        merged[i] = merged[first] = 1;
        struct pr_function *into = &p->functions[first];
        if (!into->raw_name && f->raw_name) {
            into->raw_name = f->raw_name;
            f->raw_name = NULL;
        }
        into->samples += f->samples; /* without stacks: an upper bound, cut below */
        into->self_samples += f->self_samples;
        if (into->samples > p->total_samples)
            into->samples = p->total_samples;
        if (!into->source_path && f->source_path) {
            into->source_path = f->source_path;
            into->source_file = f->source_file;
            into->line = f->line;
            f->source_path = f->source_file = NULL;
        }
        f->samples = f->self_samples = 0;
    }
    if (rc != 0)
        goto done;
    if (p->has_stacks) {
        rc = rewrite_stacks(p, map, merged, false);
        if (rc == 0)
            rc = compact_and_recount(p);
    } else {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (map[i] != i) {
                free_function(&p->functions[i]);
                continue;
            }
            p->functions[k++] = p->functions[i];
        }
        p->nfunctions = k;
        profile_compute_percentages(p);
        rc = profile_sort(p);
    }
done:
    for (size_t i = 0; base && i < n; i++)
        free(base[i]);
    free(base);
    free(map);
    free(merged);
    hmap_free(&names);
    return rc;
}
