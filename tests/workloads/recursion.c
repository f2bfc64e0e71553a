/* recursion.c — direct recursion 40 deep, and mutual recursion, burning at the bottom. */
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
    return recurse(depth - 1, units) + 1;
}

NOIPA uint64_t pong(unsigned depth, unsigned units);

NOIPA uint64_t ping(unsigned depth, unsigned units)
{
    if (depth == 0) {
        uint64_t x = sink + 6;
        BURN(units, x);
        return x;
    }
    return pong(depth - 1, units) + 1;
}

NOIPA uint64_t pong(unsigned depth, unsigned units) { return ping(depth, units) + 1; }

int main(int argc, char **argv)
{
    unsigned rounds = 20 * burn_scale(argc, argv);
    for (unsigned r = 0; r < rounds; r++) {
        sink += recurse(40, 30);
        sink += ping(20, 20);
    }
    printf("recursion done\n");
    return 0;
}
