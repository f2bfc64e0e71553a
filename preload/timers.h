/* timers.h — per-thread sampling timers and the SIGPROF handler.
 *
 * Each profiled thread owns one POSIX timer (CPU time or wall-clock) that sends SIGPROF to
 * that thread only. The handler captures the interrupted stack with libunwind, starting
 * from the signal context, into the stack table. */
#ifndef PROFREG_TIMERS_H
#define PROFREG_TIMERS_H

#include "settings.h"
#include "stacktab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Deepest stack captured, in frames; deeper stacks keep their leaf-most frames. */
#define TIMERS_MAX_DEPTH 256

struct timer_stats {
    uint64_t signals;   /* timer signals that took a sample */
    uint64_t truncated; /* samples whose stack was deeper than TIMERS_MAX_DEPTH */
};

/* Installs the SIGPROF handler and starts accepting samples into tab.
 * Returns 0, or -1 with err set. */
int timers_start(struct stacktab *tab, enum pr_mode mode, unsigned hz, char *err, size_t errlen);

/* Creates and arms a timer that samples the calling thread. Returns 0, or -1 with err set. */
int timers_arm_current_thread(timer_t *timer, char *err, size_t errlen);

/* Deletes a timer made by timers_arm_current_thread (from any thread). */
void timers_delete(timer_t timer);

/* Stops accepting samples and waits (bounded) for handlers still running to finish. */
void timers_stop(void);

void timers_get_stats(struct timer_stats *st);

/* In a forked child: zero the statistics (the table is reset by its owner). */
void timers_reset_stats(void);

#endif
