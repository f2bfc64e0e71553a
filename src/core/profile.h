/* SPDX-License-Identifier: MIT */
/* profile.h — the in-memory profile: functions, sampled stacks, metadata and summary.
 *
 * One struct serves every producer and consumer: the preload builds it from raw stacks
 * (profile_build.h), the CLI reads it from JSON (profile_read.h), and both write it with
 * profile_write.h. Optional numbers are NAN when unknown; optional strings are NULL. */
#ifndef PROFREG_PROFILE_H
#define PROFREG_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PR_TEMPLATE "Time Profiler"

/* The most samples a profile may hold, in all and in any count: INT64_MAX, what a JSON
 * integer holds for every reader profreg supports (jansson's json_int_t) and pprof's int64.
 * Readers refuse counts and sums above it, and merging stops before it, so no count wraps. */
#define PR_MAX_SAMPLES ((uint64_t)INT64_MAX)
#define PR_MAX_SAMPLES_TEXT "9223372036854775807"

/* *acc += v, or false (acc unchanged) when the sum would pass PR_MAX_SAMPLES. */
static inline bool pr_count_add(uint64_t *acc, uint64_t v)
{
    if (v > PR_MAX_SAMPLES || *acc > PR_MAX_SAMPLES - v)
        return false;
    *acc += v;
    return true;
}

struct pr_memory; /* memory.h */

struct pr_function {
    char *name;        /* demangled, unique within a profile */
    char *source_file; /* basename of the defining file, or NULL */
    char *source_path; /* full path of the defining file, or NULL */
    char *module;      /* basename of the ELF object, or NULL */
    long line;         /* declaration line, or -1 when unknown */
    uint64_t samples;  /* samples whose stack contains the function (inclusive) */
    uint64_t self_samples;
    double percentage; /* samples / total * 100 */
    double self_percentage;
    bool has_self;  /* self_* known (false for profiles of the Instruments workflow) */
    char *raw_name; /* the name before clone suffixes were folded (" [clone .constprop.0]",
                       ".part.0", ".cold", ...), or NULL when it had none */
};

/* One distinct sampled call stack: indices into functions[], root first. */
struct pr_stack {
    uint32_t *frames;
    uint32_t depth;
    uint64_t count;   /* weighted samples */
    uint8_t *inlined; /* per frame: 1 when the frame is a function inlined into the next
                         frame out (frames[d - 1]); NULL when no frame is */
    uint32_t region;  /* 1 + index into the profile's regions[] (profreg_region_begin), 0 when
                         the samples were in no region */
};

struct pr_profile {
    /* metadata */
    char *trace_file;
    char *template_name;
    char *export_timestamp;
    char *executable;
    char **command_line; /* NULL-terminated, or NULL */
    long pid;            /* -1 when unknown */
    char *mode;          /* "cpu" or "wall", or NULL */
    char *clock;         /* what sampled: "perf_event", "timer", "perf_event+timer"; or NULL */
    double frequency_hz; /* requested */
    char *profreg_version;
    bool no_cpu_sampling; /* metadata.cpu_sampling false: allocations only (PROFREG_MEMORY=only) */

    /* summary */
    uint64_t total_samples;
    double total_time_ms;
    double effective_frequency_hz; /* timer signals handled per second of sampled time */
    uint64_t signals;              /* timer signals handled (each weighs 1 + overrun) */
    double wall_time_ms;
    double cpu_time_ms;
    double peak_rss_kb;
    double thread_count;
    double unsampled_threads;      /* threads that could not get a timer */
    double clock_fallback_threads; /* threads on a timer because perf events were refused */
    double lost_samples;
    double truncated_stacks;
    double skipped_samples; /* weight of signals not sampled: too little stack to unwind on */
    double paused_samples;  /* weight of signals not sampled: the thread was paused (API) */
    double symbolize_ms;
    double symbol_cache_hits;   /* lookup addresses served from the symbol cache (symcache.c) */
    double symbol_cache_misses; /* lookup addresses resolved with libdw */
    double exit_ms;             /* profreg's work at exit: stack table to profile ready */
    double exit_cpu_ms;         /* the same work in CPU time (the helper thread's added) */
    double exit_helper_misses;  /* of symbol_cache_misses, resolved by the helper thread */
    double exit_extra_rss_kb;   /* how far that work raised the peak RSS above peak_rss_kb */
    double cus_indexed;         /* compilation units whose function index was built at exit */
    double cus_from_cache;      /* of those, built from a cached table without a walk */

    struct pr_function *functions;
    size_t nfunctions;
    struct pr_stack *stacks;
    size_t nstacks;
    bool has_stacks;
    char **regions; /* region paths ("outer/inner") the stacks name, unique; NULL when none */
    size_t nregions;

    struct pr_memory *memory; /* the memory section (PROFREG_MEMORY=1), or NULL */
};

/* Initialises every field to "unknown". */
void profile_init(struct pr_profile *p);

/* Frees everything the profile owns and re-initialises it. */
void profile_free(struct pr_profile *p);

/* Recomputes percentage and self_percentage from the counts and total_samples. */
void profile_compute_percentages(struct pr_profile *p);

/* Sorts functions by samples descending, ties by name (bytewise), and renumbers the
 * frames of every stack to match. Returns 0, or -1 on allocation failure. */
int profile_sort(struct pr_profile *p);

/* Adds src into dst, matching functions by name: sums samples, self samples, stack counts
 * and totals, then re-sorts and recomputes percentages. Run-level measurements (wall, CPU,
 * memory) are kept only while dst holds a single profile; of a memory section, only the
 * whole-run figures are kept (summed; memory_view and memory_join merge sections). dst must
 * be initialised (an empty dst becomes a copy of src). Returns 0, or -1 on allocation
 * failure, or -1 with errno EOVERFLOW (dst unchanged) when a sum would pass PR_MAX_SAMPLES. */
int profile_merge(struct pr_profile *dst, const struct pr_profile *src);

/* Recomputes every function's samples (inclusive, once per stack) and self samples, and
 * total_samples, from the stacks; then the percentages. 0, or -1 when out of memory. */
int profile_recount(struct pr_profile *p);

/* How inlined functions appear: as frames of their own (expand), or folded into the
 * out-of-line function they were inlined into (fold: what perf calls self time). */
enum inline_mode { INLINES_EXPAND, INLINES_FOLD };

/* "fold" / "expand" -> mode; 0, or -1 for anything else. */
int inline_mode_parse(const char *s, enum inline_mode *out);
const char *inline_mode_name(enum inline_mode m);

/* The name without compiler clone suffixes (" [clone .constprop.0]", " [clone .cold]" as
 * c++filt prints them; ".constprop.0", ".isra.0", ".part.0", ".cold", ".lto_priv.0" on C
 * symbols), malloc'd; NULL when the name has none (or out of memory). */
char *name_fold_clones(const char *name);

/* Renames every function to its clone-folded name (keeping the old one in raw_name) and
 * merges functions that became equal; with stacks, counts are recomputed from them. 0, or
 * -1 when out of memory. */
int profile_fold_clones(struct pr_profile *p);

/* Removes inlined frames from the stacks, so that their samples count for the function
 * they were inlined into; functions left on no stack are dropped and counts recomputed.
 * A profile without stacks is left as it is. 0, or -1 when out of memory. */
int profile_fold_inlines(struct pr_profile *p);

/* Index into p->regions of the region with exactly this path, or -1. */
long profile_region_find(const struct pr_profile *p, const char *path);

/* Sets *region to 1 + the index of path in p->regions, adding it when absent. 0, or -1 when
 * out of memory. */
int profile_region_intern(struct pr_profile *p, const char *path, uint32_t *region);

/* Index of the function with exactly this name, or -1. Linear; for tests and tools. */
long profile_find(const struct pr_profile *p, const char *name);

#endif
