#!/bin/sh
# SPDX-License-Identifier: MIT
# gen_manycu.sh DIR [N] — writes and builds DIR/manycu: one C++ executable of N (default 300)
# compilation units at -O2 -g, each with its own templates, for check_manycu. `manycu K SECS`
# burns about SECS seconds of CPU in unit K's code only; every other unit runs for a moment.
# Each function is written on one line, so that the line eu-addr2line gives for any of its
# addresses is its declaration line. The sources are generated here, never committed; a
# finished build is reused.
set -eu
dir=$1
n=${2:-300}
stamp="$n $(cksum <"$0")"
[ -x "$dir/manycu" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ] && exit 0
mkdir -p "$dir/src"
i=0
while [ "$i" -lt "$n" ]; do
    cat >"$dir/src/cu_$i.cpp" <<CPP
namespace mcu$i {
template <typename T, int N> struct Ring {
    T v[N];
    T mix(T x) const { T s = x; for (int k = 0; k < N; k++) s = s * 3 + v[k] + k * $i; return s; }
};
template <typename T> __attribute__((noinline)) T spin$i(T seed, long n) { Ring<T, 4> r = {{1, 2, 3, 4}}; T acc = seed; for (long k = 0; k < n; k++) acc = r.mix(acc) / 7 + static_cast<T>(k & 15); return acc; }
} // namespace mcu$i
extern "C" long mcu_entry_$i(long n) { return static_cast<long>(mcu$i::spin$i<double>(1.5, n)) + mcu$i::spin$i<long>(3, n); }
CPP
    i=$((i + 1))
done
{
    echo '#include <stdlib.h>'
    echo '#include <time.h>'
    i=0
    while [ "$i" -lt "$n" ]; do echo "extern \"C\" long mcu_entry_$i(long);"; i=$((i + 1)); done
    echo 'static long (*const entries[])(long) = {'
    i=0
    while [ "$i" -lt "$n" ]; do echo "    mcu_entry_$i,"; i=$((i + 1)); done
    echo '};'
    cat <<'CPP'
static double cpu_seconds() { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) { const long count = sizeof entries / sizeof *entries; long hot = argc > 1 ? atol(argv[1]) % count : 0; double secs = argc > 2 ? atof(argv[2]) : 0.5; volatile long sink = 0; for (long i = 0; i < count; i++) sink = sink + entries[i](1); double end = cpu_seconds() + secs; while (cpu_seconds() < end) sink = sink + entries[hot](200000); return sink == 42 ? 1 : 0; }
CPP
} >"$dir/src/main.cpp"
cxx=${CXX:-g++}
ls "$dir"/src/*.cpp | xargs -P "$(nproc)" -n 8 sh -c 'for f; do '"$cxx"' -O2 -g -c "$f" -o "${f%.cpp}.o" || exit 255; done' sh
$cxx -O2 -g -o "$dir/manycu.tmp" "$dir"/src/*.o
mv "$dir/manycu.tmp" "$dir/manycu"
echo "$stamp" >"$dir/.stamp"
