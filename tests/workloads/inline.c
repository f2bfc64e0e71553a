/* SPDX-License-Identifier: MIT */
/* inline.c — all work happens in a function forced inline into two callers (60:40). */
#include "burn.h"

#include <stdio.h>

volatile uint64_t sink;

static inline __attribute__((always_inline)) uint64_t inlined_hot(unsigned units, uint64_t x)
{
    BURN(units, x);
    return x;
}

__attribute__((noipa)) uint64_t outer_caller(unsigned units)
{
    return inlined_hot(units, sink + 7) + 1;
}

__attribute__((noipa)) uint64_t other_caller(unsigned units)
{
    return inlined_hot(units, sink + 9) + 2;
}

int main(int argc, char **argv)
{
    unsigned rounds = 16 * burn_scale(argc, argv);
    for (unsigned r = 0; r < rounds; r++) {
        sink += outer_caller(150);
        sink += other_caller(100);
    }
    printf("inline done\n");
    return 0;
}
