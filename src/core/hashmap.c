/* SPDX-License-Identifier: MIT */
/* hashmap.c — open addressing with linear probing, load factor at most 1/2.
 * Invariant: a slot with len == EMPTY is empty; there are no deletions. A key of at most 8
 * bytes (an address, a DIE's offset: most keys at exit) is kept in the slot itself, zero
 * padded; a longer one in a private copy. */
#include "core/hashmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY      UINT32_MAX
#define INLINE_KEY 8

struct hmap_slot {
    uint64_t hash;
    union {
        void *ptr;                    /* len > INLINE_KEY: the private copy */
        unsigned char in[INLINE_KEY]; /* len <= INLINE_KEY: the bytes, zero padded */
    } key;
    uint32_t len; /* EMPTY: no key */
    uint32_t value;
};

static const void *slot_key(const struct hmap_slot *s)
{
    return s->len > INLINE_KEY ? s->key.ptr : s->key.in;
}

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
        if (m->slots[i].len != EMPTY && m->slots[i].len > INLINE_KEY) /* EMPTY is larger */
            free(m->slots[i].key.ptr);
    free(m->slots);
    hmap_init(m);
}

static struct hmap_slot *find_slot(struct hmap_slot *slots, size_t cap, uint64_t hash,
                                   const void *key, size_t len)
{
    size_t i = hash & (cap - 1);
    if (len <= INLINE_KEY) {
        uint64_t want = 0, have;
        memcpy(&want, key, len);
        for (;; i = (i + 1) & (cap - 1)) {
            struct hmap_slot *s = &slots[i];
            if (s->len == EMPTY)
                return s;
            memcpy(&have, s->key.in, sizeof have);
            if (s->hash == hash && s->len == len && have == want)
                return s;
        }
    }
    for (;; i = (i + 1) & (cap - 1)) {
        struct hmap_slot *s = &slots[i];
        if (s->len == EMPTY)
            return s;
        if (s->hash == hash && s->len == len && memcmp(s->key.ptr, key, len) == 0)
            return s;
    }
}

static struct hmap_slot *new_slots(size_t cap)
{
    struct hmap_slot *slots = malloc(cap * sizeof *slots);
    for (size_t i = 0; slots && i < cap; i++)
        slots[i].len = EMPTY;
    return slots;
}

static int grow(struct hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct hmap_slot *slots = new_slots(cap);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        struct hmap_slot *old = &m->slots[i];
        if (old->len != EMPTY)
            *find_slot(slots, cap, old->hash, slot_key(old), old->len) = *old;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int hmap_intern(struct hmap *m, const void *key, size_t len, uint32_t value_if_new, uint32_t *value)
{
    if (len >= EMPTY)
        return -1; /* no key is that long */
    if ((m->len + 1) * 2 > m->cap && grow(m) < 0)
        return -1;
    uint64_t h = hash_fast(key, len);
    struct hmap_slot *s = find_slot(m->slots, m->cap, h, key, len);
    if (s->len != EMPTY) {
        *value = s->value;
        return 0;
    }
    if (len > INLINE_KEY) {
        void *copy = malloc(len);
        if (!copy)
            return -1;
        memcpy(copy, key, len);
        s->key.ptr = copy;
    } else {
        memset(s->key.in, 0, sizeof s->key.in);
        memcpy(s->key.in, key, len);
    }
    s->hash = h;
    s->len = (uint32_t)len;
    s->value = value_if_new;
    m->len++;
    assert(m->len * 2 <= m->cap); /* at most half full: every probe ends at an empty slot */
    *value = value_if_new;
    return 1;
}

int hmap_get(const struct hmap *m, const void *key, size_t len, uint32_t *value)
{
    if (m->cap == 0 || len >= EMPTY)
        return 0;
    struct hmap_slot *s = find_slot(m->slots, m->cap, hash_fast(key, len), key, len);
    if (s->len == EMPTY)
        return 0;
    *value = s->value;
    return 1;
}
