/* threads.h — which threads are sampled: the main thread at load, every thread the program
 * creates with pthread_create (interposed), each with its own timer until it exits; and a
 * fresh start in a forked child. */
#ifndef PROFREG_THREADS_H
#define PROFREG_THREADS_H

#include <stdbool.h>
#include <stddef.h>

/* Creates the thread-exit key and the fork handlers. Returns 0, or -1 with err set. */
int threads_init(void (*after_fork_in_child)(void), char *err, size_t errlen);

/* Arms a timer for the calling thread and registers it. Returns 0, or -1 with err set. */
int threads_attach_current(char *err, size_t errlen);

/* After the program closed descriptors: when the calling thread's perf event was among them,
 * gives the thread a new one (or a timer). */
void threads_rearm_current(void);

/* Deletes every registered timer; new threads are no longer attached. */
void threads_detach_all(void);

/* Threads that were sampled since start (or since fork, in a child). */
unsigned long threads_seen(void);

/* Threads that could not get a timer (so were not sampled). */
unsigned long threads_failed(void);

#endif
