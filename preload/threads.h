/* SPDX-License-Identifier: MIT */
/* threads.h — which threads are sampled: the main thread at load, every thread the program
 * creates with pthread_create (interposed), each with its own timer until it exits; and a
 * fresh start in a forked child. */
#ifndef PROFREG_THREADS_H
#define PROFREG_THREADS_H

#include <stdbool.h>
#include <stddef.h>

/* Creates the thread-exit key and the fork handlers. check_process is called first in every
 * registration, every pthread_create and in a fork child (forked): where the pid changed, it
 * starts afresh, calling threads_forget_all, and returns true (pthread_create then registers
 * the calling thread too). Returns 0, or -1 with err set. */
int threads_init(bool (*check_process)(bool forked), char *err, size_t errlen);

/* In a new process (a fork child, or a child made by clone without fork's handlers): empties
 * the registry of the parent's threads, closing the copies of their perf events. */
void threads_forget_all(void);

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
