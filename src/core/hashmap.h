/* SPDX-License-Identifier: MIT */
/* hashmap.h — open-addressing map from byte strings to 32-bit indices.
 *
 * Used to intern things into arrays (addresses, functions, stacks, strings): the map holds
 * a private copy of each key and the caller's array index as the value. Not for use in the
 * signal handler (it allocates). */
#ifndef PROFREG_HASHMAP_H
#define PROFREG_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot;

struct hmap {
    struct hmap_slot *slots;
    size_t cap; /* power of two, or 0 before the first insert */
    size_t len;
};

/* A 64-bit hash of len bytes (FNV-1a with a final mix). Its values are stored and shown
 * (cache identities, flame graph colours): it never changes. */
uint64_t hash_bytes(const void *key, size_t len);

/* A faster 64-bit hash of len bytes, for tables in memory only (never stored nor shown, so it
 * may change): the map's own, and the symbol cache writer's string table's. */
uint64_t hash_fast(const void *key, size_t len);

/* An empty map; no allocation until the first insert. */
void hmap_init(struct hmap *m);
void hmap_free(struct hmap *m);

/* Looks key up; when absent, inserts it with value `value_if_new`. Stores the value found or
 * inserted in *value. Returns 1 when inserted, 0 when found, -1 when out of memory. */
int hmap_intern(struct hmap *m, const void *key, size_t len, uint32_t value_if_new,
                uint32_t *value);

/* Returns 1 and stores the value when key is present, else 0. */
int hmap_get(const struct hmap *m, const void *key, size_t len, uint32_t *value);

#endif
