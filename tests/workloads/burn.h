/* SPDX-License-Identifier: MIT */
/* burn.h — a fixed amount of CPU work per unit, the same instructions wherever it is used.
 *
 * BURN is a macro, not an inline function, so that it never shows up as an inlined frame
 * of its own: the work belongs to the function that expands it. Shares in the workloads are
 * ratios of units, so they hold on any machine.
 *
 * CPU-time timers fire on the kernel tick (4 ms at HZ=250), so a profile counts a call to
 * within one tick. Workloads therefore spend tens of milliseconds per call (100+ units):
 * with few, long calls the tick error stays far below the tests' 3-point tolerance. */
#ifndef PROFREG_BURN_H
#define PROFREG_BURN_H

#include <stdint.h>

// clang-format off
#include <stdlib.h>

/* xorshift steps per unit: about 0.3 ms on a 2020s x86-64 core. */
#define BURN_ITERS 150000

#define BURN(units, x)                                                                         \
    do {                                                                                       \
        for (uint64_t burn_u_ = 0; burn_u_ < (uint64_t)(units); burn_u_++) {                   \
            for (int burn_i_ = 0; burn_i_ < BURN_ITERS; burn_i_++) {                           \
                (x) ^= (x) << 13;                                                              \
                (x) ^= (x) >> 7;                                                               \
                (x) ^= (x) << 17;                                                              \
                __asm__ volatile("" : "+r"(x));                                                \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* The scale factor from argv[1] (default 1): multiplies every workload's work. */
static inline unsigned burn_scale(int argc, char **argv)
{
    long s = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    return s > 0 ? (unsigned)s : 1u;
}

#endif
