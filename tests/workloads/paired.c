/* SPDX-License-Identifier: MIT */
/* paired.c — two functions with fixed work: steady_part 500 units and changed_part
 * CHANGED_UNITS (default 100). The Makefile also builds paired_slow with 280: the whole run
 * 1.3x slower, all of it in changed_part (its share 16.7 % -> 35.9 %), for the paired-runs
 * tests of scripts/profreg-ci --base. Optional argv[1]: scale. */
#include "burn.h"

#include <stdio.h>

#ifndef CHANGED_UNITS
#define CHANGED_UNITS 100
#endif

#define NOIPA __attribute__((noipa))

static volatile uint64_t sink;

NOIPA void steady_part(unsigned scale)
{
    uint64_t x = 88172645463325252ull;
    BURN(500u * scale, x);
    sink += x;
}

NOIPA void changed_part(unsigned scale)
{
    uint64_t x = 2463534242ull;
    BURN((unsigned)CHANGED_UNITS * scale, x);
    sink += x;
}

int main(int argc, char **argv)
{
    unsigned scale = burn_scale(argc, argv);
    steady_part(scale);
    changed_part(scale);
    printf("done\n");
    return 0;
}
