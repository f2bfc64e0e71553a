/* SPDX-License-Identifier: MIT */
/* timers.h — per-thread sampling sources and the SIGPROF handler.
 *
 * Each profiled thread owns one source that sends SIGPROF to that thread only: in CPU mode a
 * perf event counting the thread's CPU time (PERF_COUNT_SW_TASK_CLOCK, overflowing every
 * 1/HZ s of it, exact at any rate), where the kernel allows one; else, and in wall mode, a
 * POSIX timer (CPU-time timers tick at the kernel's HZ). The handler captures the interrupted
 * stack (unwind.c) into the stack table. */
#ifndef PROFREG_TIMERS_H
#define PROFREG_TIMERS_H

#include "settings.h"
#include "stacktab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct timer_stats {
    uint64_t signals;          /* signals that took a sample */
    uint64_t truncated;        /* samples whose stack was deeper than UNWIND_MAX_DEPTH */
    uint64_t skipped;          /* weight of samples skipped: too little stack to unwind on */
    uint64_t paused;           /* weight of samples not taken: the thread was paused */
    uint64_t perf_threads;     /* threads sampled by a perf event */
    uint64_t timer_threads;    /* threads sampled by a POSIX timer */
    uint64_t fallback_threads; /* of those, threads whose perf event the kernel refused */
};

/* One thread's sampling source: a perf event (fd >= 0) or a POSIX timer. */
struct sampler {
    int fd;      /* perf event descriptor, -1 for a timer */
    uint64_t id; /* the event's id: tells it from another file that got the same number */
    pid_t tid;   /* the thread it samples */
    bool unarmed; /* no source at all (PROFREG_MEMORY=only): nothing to delete */
    timer_t timer;
};

/* Starts the unwinder and, with sample, installs the SIGPROF handler and starts accepting
 * samples into tab. Without sample (PROFREG_MEMORY=only: the unwinder serves the allocation
 * sampler alone) no handler is installed and no thread is ever given a source.
 * Returns 0, or -1 with err set. */
int timers_start(struct stacktab *tab, enum pr_mode mode, enum pr_clock clock, unsigned hz,
                 bool fast_unwind, bool sample, char *err, size_t errlen);

/* Creates and arms a source that samples the calling thread (without sampling: records the
 * thread's stack for the unwinder only, and arms nothing). Returns 0, or -1 with err set. */
int timers_arm_current_thread(struct sampler *s, char *err, size_t errlen);

/* Stops and frees a source made by timers_arm_current_thread (from any thread). A perf event
 * whose descriptor the program closed (and perhaps reused) is left alone. */
void timers_delete(struct sampler *s);

/* In a forked child: closes the child's copy of a perf event of the parent's (still the
 * parent's to use), after checking it is one; timers are not inherited. */
void timers_forget(struct sampler *s);

/* Is fd marked as one of our perf events (no system call; for close interposers)? */
bool timers_is_ours(int fd);

/* Is s a perf event whose descriptor is no longer ours (closed by the program)? Forgets it. */
bool timers_lost(struct sampler *s);

/* Stops accepting samples and waits (bounded) for handlers still running to finish. */
void timers_stop(void);

void timers_get_stats(struct timer_stats *st);

/* "perf_event", "timer" or "perf_event+timer": what sampled the threads so far; NULL when
 * nothing samples (timers_start without sample). */
const char *timers_clock_name(void);

/* In a forked child: zero the statistics (the table is reset by its owner). */
void timers_reset_stats(void);

#endif
