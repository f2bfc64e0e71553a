/* intercept.h — the libc and libdl functions libprofreg.so interposes besides pthread_create,
 * and why:
 *   _exit, _Exit              write the profile first (death-test children, fast exits)
 *   sigaction, signal         notice a program that takes SIGPROF over; hide profreg's own
 *                             handlers, so the program sees the dispositions it set itself
 *   setitimer                 notice a program that arms ITIMER_PROF
 *   close, close_range, closefrom
 *                             re-arm the calling thread when its perf event went with them
 *   dlopen, dlmopen, dlclose, dl_iterate_phdr
 *                             never sampled while the loader's lock is held (the handler's
 *                             unwinder needs it: that would deadlock); dlclose also records
 *                             the library so its functions are still named at exit
 * Internal callers use the real functions below, never the interposed names. */
#ifndef PROFREG_INTERCEPT_H
#define PROFREG_INTERCEPT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the interposers report to the life cycle (preload.c). */
struct intercept_hooks {
    void (*before_exit)(void);               /* _exit/_Exit in the profiled process */
    void (*sigprof_taken)(const char *what); /* the program takes SIGPROF or ITIMER_PROF */
    void (*fds_closed)(void);                /* the program closed descriptors, perhaps ours */
    bool (*is_ours)(int fd);                 /* is fd one of profreg's (no system call) */
};

/* Resolves the real functions (also done lazily on first use). */
void intercept_init(const struct intercept_hooks *hooks);

/* The real sigaction (libc's). */
int intercept_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* Marks sig as handled by profreg: the program's sigaction/signal calls then report `shown`
 * as the old action while ours is installed. */
void intercept_hide_handler(int sig, const struct sigaction *shown);

/* A library unloaded by dlclose while profiling: its file and load bias. */
struct unloaded_module {
    char *path;
    uint64_t bias;
};

/* The libraries unloaded so far (a stable snapshot; call at exit, not in the handler). */
const struct unloaded_module *intercept_unloaded(size_t *n);

/* Starts recording dlclose'd libraries (from load, in the profiled process only). */
void intercept_record_unloads(int on);

#endif
