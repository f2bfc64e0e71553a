/* SPDX-License-Identifier: MIT */
/* memory.h — the memory section of a profile: sampled allocations, by call stack.
 *
 * The preload samples allocations by bytes (PROFREG_MEMORY=1, docs/design.md) and estimates,
 * per call stack, the bytes and allocations made, the bytes live at the peak of the estimated
 * heap and the bytes still live at exit. Every figure is an unbiased estimate (each sampled
 * allocation weighs 1/p of itself, p its chance to be sampled), so they add up like counts.
 *
 * Commands see one metric at a time as an ordinary profile (memory_view): functions whose
 * `samples` are bytes (or allocations), stacks whose `count` is that metric. Folding,
 * merging, flame graphs, exports and the judge then work on it unchanged. */
#ifndef PROFREG_MEMORY_H
#define PROFREG_MEMORY_H

#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The figures kept per stack, per function and for the whole run. */
enum pr_mem_metric {
    MEM_ALLOC_BYTES, /* estimated bytes allocated (requested sizes) */
    MEM_ALLOC_COUNT, /* estimated allocations */
    MEM_PEAK_LIVE,   /* estimated bytes live at the peak of the estimated heap */
    MEM_EXIT_LIVE,   /* estimated bytes still live when the profile was written */
    MEM_SAMPLES,     /* sampled allocations behind the estimates */
    MEM_NMETRICS
};

/* JSON keys of the metrics: "alloc_bytes", "alloc_count", "peak_live_bytes",
 * "exit_live_bytes", "samples"; a function's self figures are "self_" + key. */
extern const char *const mem_metric_key[MEM_NMETRICS];

struct pr_mem_function {
    char *name; /* unique within the section; named as in top_functions */
    char *source_file, *source_path, *module, *raw_name;
    long line;
    uint64_t total[MEM_NMETRICS]; /* stacks holding the function (once per stack) */
    uint64_t self[MEM_NMETRICS];  /* stacks ending in it: the allocating function */
};

/* to[k] += v[k] for every metric k. */
static inline void mem_add(uint64_t to[MEM_NMETRICS], const uint64_t v[MEM_NMETRICS])
{
    for (int k = 0; k < MEM_NMETRICS; k++)
        to[k] += v[k];
}

/* A distinct allocating call stack: frames index functions[], root first, the allocating
 * function last (the allocator's own frames are left out). */
struct pr_mem_stack {
    uint32_t *frames;
    uint32_t depth;
    uint8_t *inlined; /* as pr_stack.inlined; NULL when no frame is inlined */
    uint64_t v[MEM_NMETRICS];
};

struct pr_memory {
    double rate_bytes;            /* mean bytes between samples (PROFREG_MEMORY_RATE) */
    uint64_t total[MEM_NMETRICS]; /* the whole run's figures */
    double peak_time_ms;          /* when the estimated heap peaked, ms after start; NAN unknown */
    uint64_t lost_samples;        /* sampled allocations whose stack found no room */
    uint64_t untracked_samples;   /* sampled blocks that could not be followed until freed */
    struct pr_mem_function *functions; /* by total[MEM_ALLOC_BYTES] descending, ties by name */
    size_t nfunctions;
    struct pr_mem_stack *stacks;
    size_t nstacks;
};

/* An empty section (rate unknown, no functions). */
void memory_init(struct pr_memory *m);
void memory_free(struct pr_memory *m);

/* A deep copy of src (functions and stacks too when with_stacks). NULL when out of memory. */
struct pr_memory *memory_copy(const struct pr_memory *src, bool with_stacks);

/* Recomputes every function's total and self figures from the stacks, then sorts the
 * functions (renumbering frames). 0, or -1 when out of memory. */
int memory_recount(struct pr_memory *m);

/* "alloc", "alloc_count", "live" (peak), "exit" -> metric; 0, or -1 for anything else. */
int mem_metric_parse(const char *s, enum pr_mem_metric *out);

/* What a metric is called in tables and titles: "allocated bytes", "allocations", "bytes live
 * at the peak", "bytes live at exit", "sampled allocations". */
const char *mem_metric_label(enum pr_mem_metric m);

/* Whether a metric counts bytes (else allocations). */
bool mem_metric_is_bytes(enum pr_mem_metric m);

/* "512 B", "12.3 KiB", "4.0 MiB", "1.25 GiB" into buf (at least 16 bytes). */
void mem_format_bytes(double bytes, char *buf, size_t len);

/* p's memory section seen as a profile of one metric: functions with samples (and self
 * samples) = the metric, stacks with count = the metric (stacks and functions where it is 0
 * are left out), total_samples = their sum, signals = the sampled allocations, the run
 * fields (executable, times, peak RSS) copied, and out->memory = the section's whole-run
 * figures without functions or stacks. p must have a memory section. 0, or -1 when out of
 * memory. */
int memory_view(const struct pr_profile *p, enum pr_mem_metric m, struct pr_profile *out);

/* The five views of one section (indexed by metric) turned back into a section: functions
 * matched by name, stacks by their frames' names and inlined marks. Views made by
 * memory_view and then folded or merged the same way join exactly. Whole-run figures come
 * from views[MEM_SAMPLES].memory when it has them. 0, or -1 when out of memory. */
int memory_join(const struct pr_profile views[MEM_NMETRICS], struct pr_memory *out);

#endif
