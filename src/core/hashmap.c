/* SPDX-License-Identifier: MIT */
/* hashmap.c — open addressing with linear probing, load factor at most 1/2.
 * Invariant: a slot with key == NULL is empty; there are no deletions. */
#include "core/hashmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct hmap_slot {
    uint64_t hash;
    void *key;
    size_t len;
    uint32_t value;
};

uint64_t hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* 8 bytes a step (keys are often C++ names of a few hundred bytes, which hash_bytes takes a
 * byte at a time: 7 % of an exit served mostly by the symbol cache went to it). */
uint64_t hash_fast(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
    }
    uint64_t v = 0;
    if (len)
        memcpy(&v, p, len);
    h = (h ^ v) * 0x94d049bb133111ebULL;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

void hmap_init(struct hmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

void hmap_free(struct hmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    hmap_init(m);
}

static struct hmap_slot *find_slot(struct hmap_slot *slots, size_t cap, uint64_t hash,
                                   const void *key, size_t len)
{
    size_t i = hash & (cap - 1);
    for (;;) {
        struct hmap_slot *s = &slots[i];
        if (!s->key)
            return s;
        if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
            return s;
        i = (i + 1) & (cap - 1);
    }
}

static int grow(struct hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct hmap_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        struct hmap_slot *old = &m->slots[i];
        if (old->key)
            *find_slot(slots, cap, old->hash, old->key, old->len) = *old;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int hmap_intern(struct hmap *m, const void *key, size_t len, uint32_t value_if_new, uint32_t *value)
{
    if ((m->len + 1) * 2 > m->cap && grow(m) < 0)
        return -1;
    uint64_t h = hash_fast(key, len);
    struct hmap_slot *s = find_slot(m->slots, m->cap, h, key, len);
    if (s->key) {
        *value = s->value;
        return 0;
    }
    void *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, key, len);
    s->hash = h;
    s->key = copy;
    s->len = len;
    s->value = value_if_new;
    m->len++;
    assert(m->len * 2 <= m->cap); /* at most half full: every probe ends at an empty slot */
    *value = value_if_new;
    return 1;
}

int hmap_get(const struct hmap *m, const void *key, size_t len, uint32_t *value)
{
    if (m->cap == 0)
        return 0;
    struct hmap_slot *s = find_slot(m->slots, m->cap, hash_fast(key, len), key, len);
    if (!s->key)
        return 0;
    *value = s->value;
    return 1;
}
