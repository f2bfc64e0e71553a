/* SPDX-License-Identifier: MIT */
// exceptions.cpp — C++ exceptions thrown through 30 frames of work, 300 times in each of two
// threads, while samples arrive: every one must be caught where it should be (for the stress
// target: the unwinder of the exceptions and profreg's handler share the loader's module list).
#include "burn.h"

#include <cstdio>
#include <stdexcept>
#include <thread>

#define NOIPA __attribute__((noipa))

volatile uint64_t sink;

NOIPA void dive(unsigned depth, unsigned n)
{
    if (depth == 0) {
        uint64_t x = sink + n;
        BURN(1, x);
        sink = x;
        throw std::runtime_error("bottom");
    }
    dive(depth - 1, n);
    sink = sink + 1;
}

NOIPA unsigned catch_many(unsigned n)
{
    unsigned caught = 0;
    for (unsigned i = 0; i < n; i++) {
        try {
            dive(30, i);
        } catch (const std::runtime_error &) {
            caught++;
        }
    }
    return caught;
}

int main(int argc, char **argv)
{
    unsigned n = 300 * burn_scale(argc, argv), a = 0, b = 0;
    std::thread t([&] { a = catch_many(n); });
    b = catch_many(n);
    t.join();
    std::printf("caught %u of %u\n", a + b, 2 * n);
    return a + b == 2 * n ? 0 : 1;
}
