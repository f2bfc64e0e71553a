/* SPDX-License-Identifier: MIT */
/* chain.c — three leaves burning 50:30:20 at the bottom of a 30-frame call chain.
 * Each leaf call lasts tens of milliseconds, so tick-based sampling counts it closely
 * (the error is at most one tick per call boundary). */
#include "burn.h"

// clang-format off

#include <stdio.h>

volatile uint64_t sink;

#define NOIPA __attribute__((noipa))

NOIPA void leaf_a(unsigned units) { uint64_t x = sink + 1; BURN(units, x); sink = x; }
NOIPA void leaf_b(unsigned units) { uint64_t x = sink + 2; BURN(units, x); sink = x; }
NOIPA void leaf_c(unsigned units) { uint64_t x = sink + 3; BURN(units, x); sink = x; }

NOIPA void chain_30(unsigned rounds)
{
    for (unsigned r = 0; r < rounds; r++) {
        leaf_a(250);
        leaf_b(150);
        leaf_c(100);
    }
    sink++;
}

/* chain_N calls chain_N+1, then does something, so the call is not a tail call. */
#define LINK(n, next) NOIPA void chain_##n(unsigned rounds) { chain_##next(rounds); sink++; }
LINK(29, 30) LINK(28, 29) LINK(27, 28) LINK(26, 27) LINK(25, 26) LINK(24, 25) LINK(23, 24)
LINK(22, 23) LINK(21, 22) LINK(20, 21) LINK(19, 20) LINK(18, 19) LINK(17, 18) LINK(16, 17)
LINK(15, 16) LINK(14, 15) LINK(13, 14) LINK(12, 13) LINK(11, 12) LINK(10, 11) LINK(09, 10)
LINK(08, 09) LINK(07, 08) LINK(06, 07) LINK(05, 06) LINK(04, 05) LINK(03, 04) LINK(02, 03)
LINK(01, 02)

int main(int argc, char **argv)
{
    chain_01(10 * burn_scale(argc, argv));
    printf("chain done\n");
    return 0;
}
