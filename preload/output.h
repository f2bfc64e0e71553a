/* SPDX-License-Identifier: MIT */
/* output.h — where the profile goes, and writing it at exit: stack table -> symbolized
 * profile -> JSON file (written to a temporary name and renamed). */
#ifndef PROFREG_OUTPUT_H
#define PROFREG_OUTPUT_H

#include "settings.h"
#include "stacktab.h"

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct run_info {
    char executable[PATH_MAX]; /* absolute path of the profiled program */
    char **argv;               /* its command line, NULL-terminated (may be NULL) */
    char out_dir[PATH_MAX];    /* directory the default file names go into */
    char out_file[PATH_MAX];   /* a fixed file path, or "" to use out_dir */
    char start_dir[PATH_MAX];  /* the working directory at start, when the output path was
                                  relative to it (the default), else "" */
    pid_t first_pid;           /* pid of the process that loaded the library (0: not the owner of a
                                  fixed output file, see PROFREG_OUTPUT_OWNER) */
    struct timespec start;     /* CLOCK_MONOTONIC at start (or at fork, in a child) */
    const struct settings *cfg;
};

/* What the process did, measured when sampling stopped. */
struct run_stats {
    pid_t pid; /* the process the profile is of */
    double wall_ms, cpu_ms, peak_rss_kb;
    unsigned long threads, unsampled_threads;
    uint64_t signals, truncated, lost, skipped;
    uint64_t paused; /* weight of samples not taken in paused threads (profreg_pause) */
    bool snapshot;   /* written while sampling goes on (profreg_flush): no memory section */
    bool in_copy;    /* written by a copy forked from a signal handler: no helper thread (a
                        lock another thread held at the fork may stop pthread_create) */
    const char *clock;               /* what sampled the threads (timers_clock_name) */
    uint64_t clock_fallback_threads; /* threads on a timer because perf events were refused */
};

/* Reads the executable and command line and resolves PROFREG_OUTPUT against the current
 * directory; creates nothing (the output directory is made when the profile is written).
 * Returns 0, or -1 with err set. */
int output_prepare(struct run_info *ri, const struct settings *cfg, char *err, size_t errlen);

/* Points ri at path instead (profreg_flush): a directory (ending in '/' or existing) gets a
 * default file name, anything else is the file; relative to the current directory. Returns 0,
 * or -1 with err set. */
int output_retarget(struct run_info *ri, const char *path, char *err, size_t errlen);

/* Creates the output directory where missing (not when the starting directory a relative
 * output path needs was removed), symbolizes the table and writes the profile. On success,
 * path gets the file written. Returns 0, or -1 with err set. */
int output_write_profile(const struct run_info *ri, const struct stacktab *tab,
                         const struct run_stats *st, char *path, size_t pathlen, char *err,
                         size_t errlen);

#endif
