/* SPDX-License-Identifier: MIT */
/* settings.h — the PROFREG_* environment, parsed once at load (README.md lists them).
 * A value that does not parse prints one line naming the variable and keeps the default. */
#ifndef PROFREG_SETTINGS_H
#define PROFREG_SETTINGS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pr_mode { PR_MODE_CPU, PR_MODE_WALL };
/* What drives CPU-mode sampling: per-thread perf events where allowed, else timers (auto). */
enum pr_clock { PR_CLOCK_AUTO, PR_CLOCK_PERF, PR_CLOCK_TIMER };

#define SETTINGS_DEFAULT_FREQUENCY  1000u
#define SETTINGS_MAX_FREQUENCY      100000u
#define SETTINGS_DEFAULT_MAX_STACKS 65536u
#define SETTINGS_MIN_MAX_STACKS     256u
#define SETTINGS_MAX_MAX_STACKS     (16u * 1024 * 1024)

/* PROFREG_MEMORY_RATE: mean bytes between sampled allocations (tcmalloc's and jemalloc's). */
#define SETTINGS_DEFAULT_MEMORY_RATE (512u * 1024)
#define SETTINGS_MAX_MEMORY_RATE     (1ull << 40)

struct settings {
    bool disabled;             /* PROFREG_DISABLE=1 */
    bool quiet;                /* PROFREG_QUIET=1 */
    enum pr_mode mode;         /* PROFREG_MODE */
    enum pr_clock clock;       /* PROFREG_CLOCK */
    bool slow_unwind;          /* PROFREG_UNWIND=slow: no frame-cache fast path */
    unsigned frequency;        /* PROFREG_FREQUENCY, samples per second */
    size_t max_stacks;         /* PROFREG_MAX_STACKS, distinct stacks kept */
    char output[PATH_MAX];     /* PROFREG_OUTPUT as given, "" when unset */
    char target[NAME_MAX + 1]; /* PROFREG_TARGET glob, "" when unset */
    char debug_dirs[PATH_MAX]; /* PROFREG_DEBUGINFO_PATH, "" for /usr/lib/debug */
    char cache_dir[PATH_MAX];  /* PROFREG_CACHE_DIR, "" for the default, "none" for no cache */
    bool memory;               /* PROFREG_MEMORY=1 or only: sample allocations */
    bool memory_only;          /* PROFREG_MEMORY=only: and no CPU or wall sampling */
    uint64_t memory_rate;      /* PROFREG_MEMORY_RATE, bytes */
    unsigned exit_threads;     /* PROFREG_EXIT_THREADS: 1 or 2; 0 (auto): 2 when the process
                                  may run on two CPUs and there are enough misses */
};

typedef const char *(*settings_getenv_fn)(const char *name);
typedef void (*settings_warn_fn)(const char *line);

/* Fills s from the environment read through get (getenv in the preload, a table in tests).
 * Each problem is reported through warn as one line without a trailing newline. */
void settings_load(struct settings *s, settings_getenv_fn get, settings_warn_fn warn);

#endif
