/* SPDX-License-Identifier: MIT */
/* intern.c — functions by name or identity, stacks by frame sequence: hash keys, lookups,
 * and appending new entries to the caller's arrays. */
#include "core/intern.h"

#include "core/array.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void fn_intern_init(struct fn_intern *t, enum fn_key by)
{
    hmap_init(&t->map);
    t->by = by;
    t->cap = 0;
}

void fn_intern_free(struct fn_intern *t)
{
    hmap_free(&t->map);
}

/* Appends n bytes of s to a 4 KB key at `at`, as far as its first 4095 bytes go. */
static size_t key_put(char key[4096], size_t at, const char *s, size_t n)
{
    size_t room = 4095 - at;
    n = n < room ? n : room;
    memcpy(key + at, s, n);
    return at + n;
}

int fn_intern(struct fn_intern *t, const char *name, size_t len, const char *module,
              const char *path, uint32_t next, uint32_t *idx)
{
    if (t->by == FN_BY_NAME)
        return hmap_intern(&t->map, name, len, next, idx);
    /* name NUL module NUL path; a key past 4 KB is cut there (names that long and equal
     * so far are one function) */
    char key[4096];
    size_t klen = key_put(key, 0, name, len);
    klen = key_put(key, klen, "", 1);
    klen = key_put(key, klen, module ? module : "", module ? strlen(module) : 0);
    klen = key_put(key, klen, "", 1);
    klen = key_put(key, klen, path ? path : "", path ? strlen(path) : 0);
    return hmap_intern(&t->map, key, klen, next, idx);
}

int fn_intern_seed(struct fn_intern *t, const struct pr_function *fs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        if (fn_intern(t, fs[i].name, strlen(fs[i].name), fs[i].module, fs[i].source_path,
                      (uint32_t)i, &v) < 0)
            return -1;
    }
    if (t->cap < n)
        t->cap = n;
    return 0;
}

int fn_intern_add(struct fn_intern *t, struct pr_function **fs, size_t *n, const char *name,
                  size_t len, const char *module, const char *path, uint32_t *idx)
{
    int r = fn_intern(t, name, len, module, path, (uint32_t)*n, idx);
    if (r <= 0)
        return r;
    if (ARRAY_GROW(*fs, *n, t->cap) < 0)
        return -1;
    struct pr_function *f = &(*fs)[*n];
    memset(f, 0, sizeof *f);
    f->line = -1;
    f->has_self = true;
    if (!(f->name = strndup(name, len)))
        return -1;
    ++*n;
    return 1;
}

void stack_intern_init(struct stack_intern *t, enum stack_key by)
{
    memset(t, 0, sizeof *t);
    hmap_init(&t->map);
    t->by = by;
}

void stack_intern_free(struct stack_intern *t)
{
    hmap_free(&t->map);
    free(t->key);
    free(t->frames);
    memset(t, 0, sizeof *t);
}

uint32_t *stack_intern_frames(struct stack_intern *t, uint32_t depth)
{
    size_t want = depth ? depth : 1;
    if (want > t->framecap) {
        uint32_t *f = realloc(t->frames, want * 2 * sizeof *f);
        if (!f)
            return NULL;
        t->frames = f;
        t->framecap = want * 2;
    }
    return t->frames;
}

/* The stack's key in t->key: the frames, then with STACK_BY_INLINED one byte a frame (its
 * inlined mark, 0 without marks). Its length, or -1 when out of memory. */
static long stack_key(struct stack_intern *t, const uint32_t *frames, const uint8_t *inl,
                      uint32_t depth, uint32_t region)
{
    size_t marks = depth * sizeof *frames;
    size_t len = marks + (t->by == STACK_BY_INLINED ? depth : 0) + sizeof region;
    if (len > t->keycap) {
        uint8_t *k = realloc(t->key, len * 2);
        if (!k)
            return -1;
        t->key = k;
        t->keycap = len * 2;
    }
    if (depth)
        memcpy(t->key, frames, depth * sizeof *frames);
    if (t->by == STACK_BY_INLINED && depth) {
        if (inl)
            memcpy(t->key + marks, inl, depth);
        else
            memset(t->key + marks, 0, depth);
    }
    memcpy(t->key + len - sizeof region, &region, sizeof region);
    return (long)len;
}

int stack_intern_seed(struct stack_intern *t, const struct pr_stack *ss, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        long len = stack_key(t, ss[i].frames, ss[i].inlined, ss[i].depth, ss[i].region);
        if (len < 0 || hmap_intern(&t->map, t->key, (size_t)len, (uint32_t)i, &v) < 0)
            return -1;
    }
    if (t->cap < n)
        t->cap = n;
    return 0;
}

int stack_intern_add(struct stack_intern *t, struct pr_stack **ss, size_t *n,
                     const uint32_t *frames, const uint8_t *inl, uint32_t depth, uint64_t count,
                     uint32_t region, uint32_t *idx)
{
    long len = stack_key(t, frames, inl, depth, region);
    if (len < 0)
        return -1;
    /* found: the index it has; new: the next one, which is where it is appended */
    uint32_t si;
    int r = hmap_intern(&t->map, t->key, (size_t)len, (uint32_t)*n, &si);
    if (r < 0)
        return -1;
    if (r == 0) {
        assert(si < *n);
        if (!pr_count_add(&(*ss)[si].count, count)) {
            errno = EOVERFLOW;
            return -1;
        }
        *idx = si;
        return 0;
    }
    bool any_inl = false;
    for (uint32_t d = 0; inl && d < depth; d++)
        any_inl |= inl[d] != 0;
    if (ARRAY_GROW(*ss, *n, t->cap) < 0)
        return -1;
    struct pr_stack *s = &(*ss)[*n];
    *s = (struct pr_stack){malloc((depth ? depth : 1) * sizeof *frames), depth, count, NULL,
                           region};
    if (!s->frames || (any_inl && !(s->inlined = malloc(depth)))) {
        free(s->frames);
        return -1;
    }
    if (depth)
        memcpy(s->frames, frames, depth * sizeof *frames);
    if (any_inl)
        memcpy(s->inlined, inl, depth);
    ++*n;
    *idx = si;
    return 0;
}
