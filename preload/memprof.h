/* SPDX-License-Identifier: MIT */
/* memprof.h — sampled allocation profiling inside the profiled process (PROFREG_MEMORY=1).
 *
 * memprof.c interposes the malloc family (malloc, calloc, realloc, free, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size) and C++ operator new/delete
 * (every variant libstdc++ defines). With memory profiling off, each interposer checks one
 * flag and calls the real function. On, allocations are sampled by bytes: each thread counts
 * down an exponentially distributed number of bytes (mean PROFREG_MEMORY_RATE), and the
 * allocation that crosses zero has its stack taken (outside any signal handler, with a
 * thread-local guard so that profreg's and libunwind's own allocations are never sampled)
 * and is followed until freed, in a lock-free table keyed by address. */
#ifndef PROFREG_MEMPROF_H
#define PROFREG_MEMPROF_H

#include "core/profile.h"
#include "symbolize/profile_build.h"

#include <stdbool.h>
#include <stddef.h>

/* Looks up the real allocator (the next definitions after libprofreg.so: libc's, or an
 * allocator the program links); also done lazily by the first call of any interposer. */
void memprof_resolve(void);

/* Starts sampling allocations, mean rate_bytes between samples, keeping up to max_stacks
 * distinct stacks. Returns 0, or -1 with err set (the program runs on, allocations are not
 * sampled): another malloc comes before libprofreg.so, or memory could not be mapped. */
int memprof_start(unsigned long long rate_bytes, size_t max_stacks, char *err, size_t errlen);

/* Stops sampling and takes the figures at exit (async-signal-safe). */
void memprof_stop(void);

/* Whether a memory section is to be written (started in this process). */
bool memprof_started(void);

/* Profreg's own work on the calling thread (registering it, recording the loaded modules):
 * its allocations are neither sampled nor counted down until the matching memprof_own_end.
 * Nests. Cheap when memory profiling is off. */
void memprof_own_begin(void);
void memprof_own_end(void);

/* In a forked child (one thread): forgets the parent's samples and starts afresh. */
void memprof_restart_in_child(void);

/* After memprof_stop: symbolizes the sampled stacks through resolve and sets p->memory.
 * 0, or -1 with err set. */
int memprof_build(struct pr_profile *p, pb_resolve_fn resolve, void *ctx, char *err, size_t errlen);

#endif
