/* SPDX-License-Identifier: MIT */
/* api.c — the public API (include/profreg.h) in the preload: pause/resume, flush, regions.
 *
 * Per thread, in initial-exec TLS (no allocation on first access, readable in the handler): a
 * pause count, the current region id and the stack of the ids to return to at each end. Ids
 * come from one process-wide table of region paths, filled under a mutex when a thread begins a
 * path for the first time; a small per-thread cache of (name pointer, parent id) -> id makes a
 * begin of a name already seen a few loads and one string compare, with no lock. Paths are
 * never removed, so an id stays valid until the process ends. */
#define PROFREG_BUILDING_LIBRARY
#include "profreg.h"

#include "api.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS    __thread __attribute__((tls_model("initial-exec")))

_Static_assert(PROFREG_REGION_NAME_MAX == 128, "the warning about long names says 128");

/* Per-thread cache of recent begins (direct-mapped). */
#define CACHE_SIZE 16

struct cache_entry {
    const char *name; /* the caller's pointer */
    uint32_t parent;
    uint32_t id;
};

static TLS _Atomic uint32_t t_paused;  /* profreg_pause calls not yet resumed */
static TLS _Atomic uint32_t t_region;  /* current region id, 0: none */
static TLS uint32_t t_depth;           /* regions begun and not ended (may pass the maximum) */
static TLS uint32_t t_saved[PROFREG_REGION_DEPTH_MAX]; /* the id to return to at each end */
static TLS struct cache_entry t_cache[CACHE_SIZE];

/* The table of region paths: id -> path, the leaf name at leaf_at[id] in it, parent id. */
struct region {
    char *path;
    uint32_t leaf_at;
    uint32_t parent;
};
static struct region g_regions[API_MAX_REGIONS + 1]; /* [0] unused: no region */
static _Atomic uint32_t g_count;                     /* ids 1..g_count are in use */
static uint32_t g_index[2 * API_MAX_REGIONS];        /* open addressing: id, 0 = empty */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static struct api_hooks g_hooks;
static _Atomic bool g_warned_unbalanced, g_warned_long;

static void say_once(_Atomic bool *flag, const char *line)
{
    if (atomic_exchange(flag, true))
        return;
    char buf[256];
    int n = snprintf(buf, sizeof buf, "profreg: %s\n", line);
    if (n > 0) {
        ssize_t r = write(STDERR_FILENO, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
        (void)r;
    }
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&g_lock);
}

static void fork_release(void)
{
    pthread_mutex_unlock(&g_lock);
}

void api_init(const struct api_hooks *hooks)
{
    g_hooks = *hooks;
    pthread_atfork(fork_prepare, fork_release, fork_release);
}

bool api_thread_paused(void)
{
    /* runs in the SIGPROF handler */
    return atomic_load_explicit(&t_paused, memory_order_relaxed) != 0;
}

uint32_t api_thread_region(void)
{
    /* runs in the SIGPROF handler */
    return atomic_load_explicit(&t_region, memory_order_relaxed);
}

const char *api_region_path(uint32_t id)
{
    if (id == 0 || id > atomic_load_explicit(&g_count, memory_order_acquire))
        return NULL;
    return g_regions[id].path;
}

uint32_t api_region_count(void)
{
    return atomic_load_explicit(&g_count, memory_order_acquire);
}

void api_pause_self(void)
{
    atomic_fetch_add_explicit(&t_paused, 1, memory_order_relaxed);
}

void api_resume_self(void)
{
    if (atomic_load_explicit(&t_paused, memory_order_relaxed) > 0)
        atomic_fetch_sub_explicit(&t_paused, 1, memory_order_relaxed);
}

/* The name as recorded: "[unnamed]" for NULL or "", at most PROFREG_REGION_NAME_MAX bytes (cut
 * before a UTF-8 continuation byte). *len gets its length. */
static const char *normalize(const char *name, size_t *len)
{
    if (!name || !*name) {
        *len = strlen("[unnamed]");
        return "[unnamed]";
    }
    size_t n = strnlen(name, PROFREG_REGION_NAME_MAX + 1);
    if (n > PROFREG_REGION_NAME_MAX) {
        say_once(&g_warned_long, "a region name longer than 128 bytes was cut to its first "
                                 "128 bytes (PROFREG_REGION_NAME_MAX; said once)");
        n = PROFREG_REGION_NAME_MAX;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
    }
    *len = n;
    return name;
}

static uint64_t hash_key(uint32_t parent, const char *leaf, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ parent;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)leaf[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

/* The id of path parent/leaf, made when new. Under g_lock. */
static uint32_t intern_locked(uint32_t parent, const char *leaf, size_t len)
{
    size_t mask = 2 * API_MAX_REGIONS - 1;
    size_t i = (size_t)hash_key(parent, leaf, len) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t id = g_index[i];
        if (id == 0)
            break;
        const struct region *r = &g_regions[id];
        if (r->parent == parent && strlen(r->path + r->leaf_at) == len &&
            memcmp(r->path + r->leaf_at, leaf, len) == 0)
            return id;
    }
    uint32_t count = atomic_load_explicit(&g_count, memory_order_relaxed);
    if (count >= API_MAX_REGIONS - 1) { /* full: the last id collects the rest */
        if (count == API_MAX_REGIONS - 1) {
            g_regions[API_MAX_REGIONS].path = strdup(API_REGION_OVERFLOW_NAME);
            if (!g_regions[API_MAX_REGIONS].path)
                return parent;
            atomic_store_explicit(&g_count, API_MAX_REGIONS, memory_order_release);
        }
        return API_MAX_REGIONS;
    }
    const char *ppath = parent ? g_regions[parent].path : NULL;
    size_t plen = ppath ? strlen(ppath) + 1 : 0;
    char *path = malloc(plen + len + 1);
    if (!path)
        return parent; /* out of memory: the samples stay in the enclosing region */
    if (ppath) {
        memcpy(path, ppath, plen - 1);
        path[plen - 1] = '/';
    }
    memcpy(path + plen, leaf, len);
    path[plen + len] = '\0';
    uint32_t id = count + 1;
    g_regions[id] = (struct region){path, (uint32_t)plen, parent};
    g_index[i] = id;
    atomic_store_explicit(&g_count, id, memory_order_release);
    return id;
}

static uint32_t region_id(uint32_t parent, const char *name)
{
    struct cache_entry *c =
        &t_cache[((uintptr_t)name >> 3 ^ (uintptr_t)name >> 9 ^ parent) & (CACHE_SIZE - 1)];
    if (c->name == name && c->parent == parent && name) {
        const struct region *r = &g_regions[c->id];
        if (strcmp(r->path + r->leaf_at, name) == 0)
            return c->id;
    }
    size_t len;
    const char *leaf = normalize(name, &len);
    pthread_mutex_lock(&g_lock);
    uint32_t id = intern_locked(parent, leaf, len);
    pthread_mutex_unlock(&g_lock);
    if (id != API_MAX_REGIONS && id != parent)
        *c = (struct cache_entry){name, parent, id};
    return id;
}

EXPORT int profreg_api_active(void)
{
    return g_hooks.active && g_hooks.active() ? 1 : 0;
}

EXPORT void profreg_api_pause(void)
{
    api_pause_self();
}

EXPORT void profreg_api_resume(void)
{
    api_resume_self();
}

EXPORT int profreg_api_flush(const char *path)
{
    if (!g_hooks.flush || !profreg_api_active()) {
        errno = ENOSYS;
        return -1;
    }
    return g_hooks.flush(path);
}

EXPORT void profreg_api_region_begin(const char *name)
{
    uint32_t depth = t_depth++;
    if (depth >= PROFREG_REGION_DEPTH_MAX)
        return; /* too deep: counted, the region stays the one 32 levels down */
    uint32_t parent = atomic_load_explicit(&t_region, memory_order_relaxed);
    t_saved[depth] = parent;
    uint32_t id = region_id(parent, name);
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&t_region, id, memory_order_relaxed);
}

EXPORT void profreg_api_region_end(void)
{
    if (t_depth == 0) {
        say_once(&g_warned_unbalanced,
                 "profreg_region_end without a matching profreg_region_begin in this thread "
                 "(ignored; said once)");
        return;
    }
    uint32_t depth = --t_depth;
    if (depth < PROFREG_REGION_DEPTH_MAX) {
        atomic_signal_fence(memory_order_seq_cst);
        atomic_store_explicit(&t_region, t_saved[depth], memory_order_relaxed);
    }
}
