/* SPDX-License-Identifier: MIT */
/* intercept.h — the libc and libdl functions libprofreg.so interposes besides pthread_create,
 * and why:
 *   _exit, _Exit              write the profile first (death-test children, fast exits)
 *   sigaction, signal         notice a program that takes SIGPROF over; hide profreg's own
 *                             handlers, so the program sees the dispositions it set itself
 *   setitimer                 notice a program that arms ITIMER_PROF
 *   close, close_range, closefrom
 *                             re-arm the calling thread when its perf event went with them
 *   pipe2                     the pipe libunwind opens when profreg starts it goes to 512 or
 *                             above, out of the program's numbers (unwind.c)
 *   dlopen, dlmopen, dlclose, dl_iterate_phdr
 *                             never sampled while the loader's lock is held (the handler's
 *                             unwinder needs it: that would deadlock); the handler's record of
 *                             the loaded modules is renewed; dlclose also records the library
 *                             so its functions are still named at exit
 * Internal callers use the real functions below, never the interposed names. */
#ifndef PROFREG_INTERCEPT_H
#define PROFREG_INTERCEPT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks a function libprofreg.so exports (preload/exports.map lists them): the interposers
 * here, in threads.c and in memprof.c. Everything else is hidden (-fvisibility=hidden). */
#define EXPORT __attribute__((visibility("default")))

/* profreg's descriptors are moved to this number or above, away from the numbers a program
 * expects (0, 1, 2, the next open's 3...). */
#define INTERCEPT_FD_MIN 512

/* What the interposers report to the life cycle (preload.c). */
struct intercept_hooks {
    void (*before_exit)(void);                  /* _exit/_Exit in the profiled process */
    void (*sigprof_taken)(const char *what);    /* the program takes SIGPROF or ITIMER_PROF */
    void (*fds_closed)(void);                   /* the program closed descriptors, perhaps ours */
    bool (*is_ours)(int fd);                    /* is fd one of profreg's (no system call) */
    bool (*new_fds_ours)(void);                 /* would a descriptor made now be profreg's? */
    void (*modules_changed)(uintptr_t closing); /* after dlopen/dlclose; before a dlclose, with
                                                   the load address of the library closed */
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
