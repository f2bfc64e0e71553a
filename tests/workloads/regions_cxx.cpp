// SPDX-License-Identifier: MIT
// regions_cxx.cpp — the public API's C++ guards: profreg::Region and profreg::Pause, 70:30.
//
// Per round: 70 units in region "cxx_heavy", 30 in "cxx_light", 40 paused. Built without
// linking profreg.
#include "burn.h"
#include "profreg.h"

#include <cstdio>

volatile uint64_t sink;

#define NOIPA __attribute__((noipa))

NOIPA void cxx_work(unsigned units)
{
    uint64_t x = sink + 1;
    BURN(units, x);
    sink = x;
}

NOIPA void cxx_paused(unsigned units)
{
    uint64_t x = sink + 2;
    BURN(units, x);
    sink = x;
}

int main(int argc, char **argv)
{
    unsigned rounds = 4 * burn_scale(argc, argv);
    for (unsigned r = 0; r < rounds; r++) {
        {
            profreg::Region region("cxx_heavy");
            cxx_work(70);
        }
        {
            profreg::Region region("cxx_light");
            cxx_work(30);
        }
        profreg::Pause pause;
        cxx_paused(40);
    }
    std::printf("regions_cxx done: %u rounds\n", rounds);
    return 0;
}
