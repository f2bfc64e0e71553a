/* SPDX-License-Identifier: MIT */
/* symcache.h — the frames of sampled addresses kept across runs, one file per module build-id
 * under <cache>/symbols/ (and a second, <build-id>.add, for what later runs added), so that
 * later runs of an unchanged binary skip libdw.
 *
 * A resolver in front of the symbolizer: an address in a module with a build-id is looked up
 * by (build-id, file offset) in that module's cache file; only misses open the symbolizer
 * (lazily, through a callback) and are recorded, then merged into the file by symcache_save().
 * The file also serves the symbolizer the frames of function DIEs that earlier runs named
 * (sym_unit_store.get_frame), for the new addresses of functions sampled before.
 * Preload side only; never used in the signal handler. */
#ifndef PROFREG_SYMCACHE_H
#define PROFREG_SYMCACHE_H

#include "symbolize/symbolize.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every cache file starts with this and a newline (NUL-padded to 24 bytes); a file that starts
 * with another version's is stale (replaced silently), anything else is damaged. */
#define SYMCACHE_MAGIC "profreg-symcache 5"
/* A miss is cached for the range of bytes around it that the symbolizer says resolve to the
 * same frames (symbolizer_lookup_range), at most SYMCACHE_MAX_RANGE bytes; an answer for
 * which it states a single byte is widened by probing at most SYMCACHE_PROBE bytes each way. */
#define SYMCACHE_PROBE     64
#define SYMCACHE_MAX_RANGE (1u << 20)
/* A run's new ranges go to a second file, <build-id>.add (the same format, holding only what
 * the main file lacks), whose rewrite costs what it holds; the main file is rewritten, with
 * the .add file merged in and then removed, only when the .add file would hold more than one
 * SYMCACHE_ADD_SHARE-th as many records as the main file (or either cannot serve). */
#define SYMCACHE_ADD_SHARE 2
/* A module's file is kept under this size: past it, only the entries the current run used
 * are kept (then the first that fit). */
#define SYMCACHE_MAX_FILE_BYTES (4u << 20)
/* All files of <cache>/symbols together: past it, the least recently used files (by mtime,
 * refreshed on every run that reads a file) are removed. */
#define SYMCACHE_MAX_TOTAL_BYTES (64u << 20)

struct symcache;

/* Opens the symbolizer on the first miss; returns NULL with a message in err on failure. */
typedef struct symbolizer *(*symcache_open_fn)(void *ctx, char *err, size_t errlen);

struct symcache_options {
    const char *cache_dir;  /* the debug-info cache root; NULL: default; "none": no caching */
    const char *debug_dirs; /* PROFREG_DEBUGINFO_PATH (part of a file's identity), or NULL */
    const char *version;    /* the profreg version (part of a file's identity) */
    bool quiet;             /* no line on stderr about a corrupt file */
    symcache_open_fn open;  /* called from the helper thread too (threads 2) */
    void *open_ctx;
    /* 2: symcache_prepare may hand misses to a helper thread, when there are at least
     * min_split of them; 0 or 1: every miss is resolved on the calling thread */
    unsigned threads;
    size_t min_split;
};

struct symcache_stats {
    uint64_t hits;   /* lookup addresses served from a cache file */
    uint64_t misses; /* lookup addresses resolved with the symbolizer in this run (directly,
                        or inside a range it has just probed) */
    uint64_t helper_misses; /* of those, resolved by the helper thread */
    double helper_cpu_ms;   /* the helper thread's CPU time (0: none ran) */
};

/* Takes this process's loaded modules (dl_iterate_phdr) and their build-ids; reads nothing
 * yet. NULL when out of memory. */
struct symcache *symcache_new(const struct symcache_options *opts);

/* A pb_resolve_fn: the frames of addr, innermost first, from the cache or the symbolizer.
 * Strings live until symcache_free(). */
size_t symcache_resolve(void *cache, uint64_t addr, struct sym_frame *out, size_t max);

/* A pb_prepare_fn: every address symcache_resolve will be asked, increasing. With threads 2
 * and at least min_split misses among them, a helper thread resolves the misses from the
 * highest down, with a symbolizer of its own (its own libdw handles; the unit store shared
 * under a lock), while the calling thread resolves them from the lowest up: each takes a miss
 * by an atomic claim, so the two meet where their work balances, and symcache_resolve hands
 * out the helper's answers in order (the very frames the calling thread's symbolizer would
 * give: a lookup's answer does not depend on the lookups before it). Both symbolizers open
 * here, so only before the first symcache_resolve does it do anything. The helper starts with
 * every signal blocked; when it cannot start, nothing changes. */
void symcache_prepare(void *cache, const uint64_t *addrs, size_t n);

/* An identity of the loaded module containing addr (NULL if none), without the symbolizer. */
const void *symcache_module_of(const struct symcache *c, uint64_t addr);

/* Merges the entries recorded by this run into the cache files (after the helper thread, if
 * any, has stopped): under an flock on
 * <build-id>.lock, re-read, add, write a temporary file, rename. Then trims the directory to
 * SYMCACHE_MAX_TOTAL_BYTES. Failures are silent (the cache is an optimisation). */
void symcache_save(struct symcache *c);

struct symcache_stats symcache_stats(const struct symcache *c);

/* The symbolizer, once a miss has opened it; else NULL. */
struct symbolizer *symcache_symbolizer(const struct symcache *c);

/* The statistics of the symbolizer and the helper thread's, added (zero when neither opened). */
void symcache_symbolizer_stats(struct symcache *c, struct symbolizer_stats *out);

/* The message of a failed symbolizer open, or NULL. */
const char *symcache_error(const struct symcache *c);

/* Closes the symbolizer, if opened, and frees everything. */
void symcache_free(struct symcache *c);

#endif
