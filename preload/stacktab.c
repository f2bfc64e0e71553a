/* SPDX-License-Identifier: MIT */
/* stacktab.c — open-addressing hash table of stacks in preallocated memory.  [handler]
 *
 * Slot states go EMPTY -> BUSY -> READY, once; the claiming thread fills a BUSY slot and
 * publishes it with a release store, readers only look at READY slots (acquire), so no reader
 * sees a half-written entry however late an insert runs. A slot left BUSY (its insert still
 * running, or stopped for good by a fork) is skipped and counted by stacktab_foreach. Frames live in one
 * pool that grows by an atomic bump pointer. Two threads inserting the same new stack at the
 * same moment may create two entries; the profile builder merges them. */
#include "stacktab.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

enum { SLOT_EMPTY = 0, SLOT_BUSY = 1, SLOT_READY = 2 };

/* Probes before giving up on an insert; the table is at most half full. */
#define MAX_PROBES 64

struct slot {
    _Atomic uint32_t state;
    uint32_t depth;
    uint64_t hash;
    _Atomic uint64_t count;
    uint64_t offset; /* into frames[] */
};

struct stacktab {
    struct slot *slots;
    size_t nslots; /* power of two, >= 2 * max_stacks */
    size_t max_stacks;
    uint64_t *frames;
    size_t frames_cap;
    size_t map_size; /* slots, frames and used share one mapping */
    /* the slots claimed, in the order they were: slot index + 1 each (0: claimed, not yet
     * noted), so that a reader visits the few stacks, not every slot (4 MB at the default
     * PROFREG_MAX_STACKS: 0.8 ms of each exit) */
    _Atomic uint32_t *used;
    _Atomic size_t nused;
    _Atomic size_t frames_used;
    _Atomic size_t distinct;
    _Atomic uint64_t lost;
};

static void *map_zeroed(void *at, size_t size)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (at ? MAP_FIXED : 0);
    void *p = mmap(at, size, PROT_READ | PROT_WRITE, flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

struct stacktab *stacktab_create(size_t max_stacks)
{
    size_t nslots = 1024;
    while (nslots < 2 * max_stacks)
        nslots *= 2;
    size_t frames_cap = max_stacks * STACKTAB_AVG_DEPTH;
    size_t size = sizeof(struct stacktab) + nslots * sizeof(struct slot) +
                  frames_cap * sizeof(uint64_t) + nslots * sizeof(uint32_t);
    char *mem = map_zeroed(NULL, size);
    if (!mem)
        return NULL;
    struct stacktab *t = (struct stacktab *)mem;
    t->slots = (struct slot *)(mem + sizeof *t);
    t->nslots = nslots;
    t->max_stacks = max_stacks;
    t->frames = (uint64_t *)(mem + sizeof *t + nslots * sizeof(struct slot));
    t->frames_cap = frames_cap;
    t->used = (_Atomic uint32_t *)(t->frames + frames_cap);
    t->map_size = size;
    return t;
}

void stacktab_destroy(struct stacktab *t)
{
    if (t)
        munmap(t, t->map_size);
}

static uint64_t hash_stack(const uint64_t *pcs, uint32_t depth)
{
    /* runs in the SIGPROF handler */
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ depth;
    for (uint32_t i = 0; i < depth; i++) {
        h ^= pcs[i];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    return h;
}

static bool same_frames(const uint64_t *a, const uint64_t *b, uint32_t depth)
{
    /* runs in the SIGPROF handler */
    for (uint32_t i = 0; i < depth; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static void lose(struct stacktab *t, uint64_t weight)
{
    /* runs in the SIGPROF handler */
    atomic_fetch_add_explicit(&t->lost, weight, memory_order_relaxed);
}

long stacktab_insert_slot(struct stacktab *t, const uint64_t *pcs, uint32_t depth, uint64_t weight,
                          bool *added)
{
    /* runs in the SIGPROF handler */
    uint64_t h = hash_stack(pcs, depth);
    size_t mask = t->nslots - 1;
    size_t i = (size_t)h & mask;
    size_t reserved = SIZE_MAX; /* frame pool offset reserved by this call */
    *added = false;

    for (int probe = 0; probe < MAX_PROBES; probe++, i = (i + 1) & mask) {
        struct slot *s = &t->slots[i];
        uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state == SLOT_EMPTY) {
            if (atomic_load_explicit(&t->distinct, memory_order_relaxed) >= t->max_stacks) {
                lose(t, weight);
                return -1;
            }
            if (reserved == SIZE_MAX) {
                reserved = atomic_fetch_add_explicit(&t->frames_used, depth, memory_order_relaxed);
                if (reserved + depth > t->frames_cap) {
                    lose(t, weight);
                    return -1;
                }
            }
            uint32_t expected = SLOT_EMPTY;
            if (atomic_compare_exchange_strong_explicit(
                    &s->state, &expected, SLOT_BUSY, memory_order_acq_rel, memory_order_acquire)) {
                /* noted among the claimed slots (each slot is claimed once: fewer than
                 * nslots of them) before its frames, so that a reader also sees an insert
                 * stopped halfway */
                size_t u = atomic_fetch_add_explicit(&t->nused, 1, memory_order_relaxed);
                if (u < t->nslots)
                    atomic_store_explicit(&t->used[u], (uint32_t)i + 1, memory_order_release);
                /* frames, depth, hash, offset and count first; then READY, released: a
                 * reader that acquires READY sees all of them */
                uint64_t *dst = t->frames + reserved;
                for (uint32_t k = 0; k < depth; k++)
                    dst[k] = pcs[k];
                s->depth = depth;
                s->hash = h;
                s->offset = reserved;
                atomic_store_explicit(&s->count, weight, memory_order_relaxed);
                atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
                atomic_fetch_add_explicit(&t->distinct, 1, memory_order_relaxed);
                *added = true;
                return (long)i;
            }
            state = expected; /* another thread claimed this slot first */
        }
        if (state == SLOT_READY && s->hash == h && s->depth == depth &&
            same_frames(t->frames + s->offset, pcs, depth)) {
            atomic_fetch_add_explicit(&s->count, weight, memory_order_relaxed);
            return (long)i;
        }
    }
    lose(t, weight);
    return -1;
}

int stacktab_insert(struct stacktab *t, const uint64_t *pcs, uint32_t depth, uint64_t weight)
{
    /* runs in the SIGPROF handler */
    bool added;
    return stacktab_insert_slot(t, pcs, depth, weight, &added) < 0 ? -1 : 0;
}

size_t stacktab_capacity(const struct stacktab *t)
{
    return t->nslots;
}

const uint64_t *stacktab_slot(const struct stacktab *t, size_t slot, uint32_t *depth,
                              uint64_t *count)
{
    if (slot >= t->nslots)
        return NULL;
    struct slot *s = &t->slots[slot];
    if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
        return NULL;
    assert(s->offset + s->depth <= t->frames_cap);
    *depth = s->depth;
    *count = atomic_load_explicit(&s->count, memory_order_relaxed);
    return t->frames + s->offset;
}

size_t stacktab_claimed(const struct stacktab *t)
{
    /* may run in the SIGPROF handler (the allocation sampler's peak snapshot) */
    size_t n = atomic_load_explicit(&((struct stacktab *)t)->nused, memory_order_acquire);
    return n < t->nslots ? n : t->nslots;
}

long stacktab_claimed_slot(const struct stacktab *t, size_t u)
{
    /* may run in the SIGPROF handler */
    uint32_t v = u < t->nslots ? atomic_load_explicit(&t->used[u], memory_order_acquire) : 0;
    return v == 0 || v > t->nslots ? -1 : (long)v - 1;
}

size_t stacktab_foreach(const struct stacktab *t,
                        void (*fn)(const uint64_t *pcs, uint32_t depth, uint64_t count, void *ctx),
                        void *ctx)
{
    size_t unpublished = 0, n = stacktab_claimed(t);
    for (size_t u = 0; u < n; u++) {
        long i = stacktab_claimed_slot(t, u);
        if (i < 0) {
            unpublished++; /* claimed by an insert that stopped before noting which */
            continue;
        }
        struct slot *s = &t->slots[i];
        uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state == SLOT_BUSY) {
            unpublished++;
        } else if (state == SLOT_READY) {
            assert(s->offset + s->depth <= t->frames_cap); /* its frames lie in the pool */
            fn(t->frames + s->offset, s->depth, atomic_load(&s->count), ctx);
        }
    }
    return unpublished;
}

uint64_t stacktab_lost(const struct stacktab *t)
{
    return atomic_load(&((struct stacktab *)t)->lost);
}

size_t stacktab_distinct(const struct stacktab *t)
{
    return atomic_load(&((struct stacktab *)t)->distinct);
}

void stacktab_reset(struct stacktab *t)
{
    /* Fresh zero pages for slots and frames instead of touching every page. */
    char *mem = (char *)t;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t head = (sizeof *t + page - 1) & ~(page - 1);
    for (size_t i = 0; i < t->nslots && (char *)&t->slots[i] < mem + head; i++)
        atomic_store(&t->slots[i].state, SLOT_EMPTY);
    if (t->map_size > head)
        map_zeroed(mem + head, t->map_size - head);
    atomic_store(&t->frames_used, 0);
    atomic_store(&t->nused, 0);
    atomic_store(&t->distinct, 0);
    atomic_store(&t->lost, 0);
}
