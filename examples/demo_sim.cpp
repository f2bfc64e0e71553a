/* SPDX-License-Identifier: MIT */
// demo_sim.cpp — the bundled demo workload: a pretend physics step loop whose functions
// take fixed shares of the CPU (work units 30:25:20:15:10 per frame), so its profile, and
// its committed baseline, are the same on any machine. Each call lasts tens of milliseconds,
// so tick-based CPU sampling (4 ms at HZ=250) counts it to within one tick.
//
//   demo_sim [FRAMES]               default 10 frames, about 1.1 s of CPU
//   DEMO_SLOWDOWN=narrowPhase ...   doubles the work of every function whose name contains
//                                   the given text (used to prove the regression gate)
#include "burn.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#define NOIPA __attribute__((noipa))

namespace demo
{

volatile uint64_t sink;

// Work units for one function in one frame, doubled when DEMO_SLOWDOWN names it.
static unsigned units(const char *function, unsigned base)
{
    const char *slow = std::getenv("DEMO_SLOWDOWN");
    return slow && *slow && std::strstr(function, slow) ? 2 * base : base;
}

namespace geometry
{
struct Point {
    double x, y, z;
};

class ConvexHull
{
  public:
    NOIPA std::size_t build(const std::vector<Point> &points)
    {
        uint64_t x = points.size();
        BURN(units("ConvexHull::build", 120), x);
        sink += x;
        return points.size();
    }
};
} // namespace geometry

namespace collision
{
NOIPA int broadPhase(const std::vector<geometry::Point> &points)
{
    uint64_t x = points.size() + 1;
    BURN(units("broadPhase", 60), x);
    sink += x;
    return (int)(x & 7);
}

NOIPA int narrowPhase(const std::vector<geometry::Point> &points, int candidates)
{
    uint64_t x = points.size() + (uint64_t)candidates;
    BURN(units("narrowPhase", 100), x);
    sink += x;
    return candidates;
}
} // namespace collision

namespace dynamics
{
class Integrator
{
  public:
    NOIPA void step(std::vector<geometry::Point> &points, double dt)
    {
        uint64_t x = points.size() + 2;
        BURN(units("Integrator::step", 80), x);
        points[0].x += dt * (double)(x & 1);
    }
};
} // namespace dynamics

namespace util
{
template <typename T> struct Stats {
    T total{};
    NOIPA void accumulate(T value)
    {
        uint64_t x = (uint64_t)value + 3;
        BURN(units("Stats::accumulate", 40), x);
        total += value + (T)(x & 1);
    }
};
} // namespace util

NOIPA void simulate(unsigned frames)
{
    std::vector<geometry::Point> points(64, geometry::Point{1, 2, 3});
    geometry::ConvexHull hull;
    dynamics::Integrator integrator;
    util::Stats<double> stats;
    for (unsigned f = 0; f < frames; f++) {
        hull.build(points);
        int candidates = collision::broadPhase(points);
        collision::narrowPhase(points, candidates);
        integrator.step(points, 0.01);
        stats.accumulate(points[0].x);
    }
    std::printf("demo_sim: %u frames, checksum %llu\n", frames,
                (unsigned long long)(sink & 0xffff));
}

} // namespace demo

int main(int argc, char **argv)
{
    long frames = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10;
    demo::simulate(frames > 0 ? (unsigned)frames : 10u);
    return 0;
}
