/* SPDX-License-Identifier: MIT */
// cxxnames.cpp — C++ functions whose names test demangling: a namespace, a class template,
// an operator, a lambda, a virtual call through a base pointer, an overload on a std type.
// Every function in namespace wl burns CPU, so every one must appear in the profile.
// Each function keeps its signature and opening brace on one line, so DW_AT_decl_line and
// the line of its first instruction agree (the test compares them):
// clang-format off
#include "burn.h"

#include <cstdio>
#include <string>
#include <vector>

#define NOIPA __attribute__((noipa))

volatile uint64_t sink;

namespace wl {

template <typename T> struct Hull {
    NOIPA T compute(T seed, unsigned units) const { uint64_t x = (uint64_t)seed + 1; BURN(units, x); return (T)(x & 0xff); }
};

struct Vec {
    double x, y;
    NOIPA Vec operator+(const Vec &o) const { uint64_t b = (uint64_t)o.x + 3; BURN(20, b); return Vec{x + o.x + (double)(b & 1), y + o.y}; }
};

struct Shape {
    virtual uint64_t area(unsigned units) const = 0;
};

struct Circle : Shape {
    NOIPA uint64_t area(unsigned units) const override { uint64_t x = 5; BURN(units, x); return x; }
};

struct Square : Shape {
    NOIPA uint64_t area(unsigned units) const override { uint64_t x = 9; BURN(units, x); return x; }
};

namespace detail {
NOIPA uint64_t weigh(const std::vector<std::string> &names, unsigned units) { uint64_t x = names.size(); BURN(units, x); return x; }
} // namespace detail

// Signature and brace share a line in this file, so DW_AT_decl_line (what profreg reports)
// and the line-table row at the entry (what eu-addr2line reports) are the same line.
NOIPA uint64_t run_lambda(unsigned units) {
    auto hot = [&](unsigned u) __attribute__((noipa)) { uint64_t x = units + 17; BURN(u, x); return x; };
    return hot(units) + 1;
}

} // namespace wl

int main(int argc, char **argv)
{
    unsigned rounds = 6 * burn_scale(argc, argv);
    wl::Hull<double> hd;
    wl::Hull<int> hi;
    wl::Circle circle;
    wl::Square square;
    const wl::Shape *shapes[2] = {&circle, &square};
    std::vector<std::string> names = {"a", "b"};
    for (unsigned r = 0; r < rounds; r++) {
        sink += (uint64_t)hd.compute(1.5, 20);
        sink += (uint64_t)hi.compute(2, 20);
        wl::Vec v = wl::Vec{1, 2} + wl::Vec{3, 4};
        sink += (uint64_t)v.x;
        sink += shapes[(r + (unsigned)argc) % 2]->area(20);
        sink += shapes[(r + (unsigned)argc + 1) % 2]->area(20);
        sink += wl::detail::weigh(names, 20);
        sink += wl::run_lambda(20);
    }
    std::printf("cxxnames done\n");
    return 0;
}
