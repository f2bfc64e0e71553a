/* SPDX-License-Identifier: MIT */
// bench_sim.cpp — a Google Benchmark executable with fixed work ratios, for profiling a real
// benchmark runner (libbenchmark.so from Debian's libbenchmark-dev).
//
// Four benchmarks burn 40 : 30 : 20 : 10 units of burn.h work per iteration and each runs a
// fixed number of iterations (->Iterations), so their CPU shares are 40 : 30 : 20 : 10 of the
// benchmarks' time whatever --benchmark_min_time says (it is accepted, and ignored for fixed
// iteration counts). SIM_SCALE=X multiplies the iterations (default 1: about 0.6 s of CPU).
// Each benchmark body is a function of its own in namespace bench, called from the BM_ entry
// the runner calls, so both the runner's frames and the work appear in the stacks.
//
//   bench_sim [--benchmark_filter=RE] [--benchmark_min_time=0.01] ...
// clang-format off
#include "burn.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>

namespace bench {

volatile uint64_t sink;

#define NOIPA __attribute__((noipa))

NOIPA void hull(unsigned units) { uint64_t x = sink + 1; BURN(units, x); sink = x; }
NOIPA void broadphase(unsigned units) { uint64_t x = sink + 2; BURN(units, x); sink = x; }
NOIPA void integrate(unsigned units) { uint64_t x = sink + 3; BURN(units, x); sink = x; }
NOIPA void record(unsigned units) { uint64_t x = sink + 4; BURN(units, x); sink = x; }

} // namespace bench

static void BM_Hull(benchmark::State &state) { for (auto _ : state) bench::hull(40); }
static void BM_Broadphase(benchmark::State &state) { for (auto _ : state) bench::broadphase(30); }
static void BM_Integrate(benchmark::State &state) { for (auto _ : state) bench::integrate((unsigned)state.range(0)); }
static void BM_Record(benchmark::State &state) { for (auto _ : state) bench::record(10); }

int main(int argc, char **argv)
{
    double scale = 1.0;
    if (const char *s = std::getenv("SIM_SCALE"); s && std::strtod(s, nullptr) > 0)
        scale = std::strtod(s, nullptr);
    long iters = std::lround(20 * scale);
    if (iters < 1)
        iters = 1;
    benchmark::RegisterBenchmark("BM_Hull", BM_Hull)->Iterations(iters)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_Broadphase", BM_Broadphase)->Iterations(iters)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_Integrate", BM_Integrate)->Arg(20)->Iterations(iters)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_Record", BM_Record)->Iterations(iters)->Unit(benchmark::kMillisecond);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
