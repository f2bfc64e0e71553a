/* SPDX-License-Identifier: MIT */
/* recursion.c — direct recursion 40 deep, and mutual recursion, burning at the bottom.
 * Each call does work after the recursive call, so GCC cannot turn the recursion into a
 * loop (it does for `return f(n - 1) + 1`). */
#include "burn.h"

#include <stdio.h>

#define NOIPA __attribute__((noipa))

volatile uint64_t sink;

NOIPA uint64_t recurse(unsigned depth, unsigned units)
{
    if (depth == 0) {
        uint64_t x = sink + 5;
        BURN(units, x);
        return x;
    }
    uint64_t r = recurse(depth - 1, units);
    sink++;
    return r + 1;
}

NOIPA uint64_t pong(unsigned depth, unsigned units);

NOIPA uint64_t ping(unsigned depth, unsigned units)
{
    if (depth == 0) {
        uint64_t x = sink + 6;
        BURN(units, x);
        return x;
    }
    uint64_t r = pong(depth - 1, units);
    sink++;
    return r + 1;
}

NOIPA uint64_t pong(unsigned depth, unsigned units)
{
    uint64_t r = ping(depth, units);
    sink++;
    return r + 1;
}

int main(int argc, char **argv)
{
    unsigned rounds = 16 * burn_scale(argc, argv);
    for (unsigned r = 0; r < rounds; r++) {
        sink += recurse(40, 150);
        sink += ping(20, 100);
    }
    printf("recursion done\n");
    return 0;
}
