#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-exit.sh BUILD_DIR — what `make bench` measures of profreg's cost at exit on real
# programs; nothing here is a test.
#
# 1. A large program (PROFREG_BENCH_BIG_CMD, a shell command; e.g. a gtest binary with
#    >= 100 MB of DWARF): time at exit (wall and CPU), extra peak RSS and cache hits, medians
#    of BENCH_RUNS runs, first with an empty symbol cache each run ("first run"), then with
#    the cache the earlier runs filled ("cached": runs 2 to BENCH_RUNS + 1 of each of
#    BENCH_CACHES caches, 3 by default, each filled from empty by a first run: one cache's
#    five runs swing with the VM's hour; "later": BENCH_RUNS runs after twice as many more
#    in the last cache, as a CI job's cache fills; each run samples some addresses no
#    earlier run did), after one run without profreg (a warm-up:
#    the program in the page cache, as a build leaves it). Skipped, with a line saying so, when unset:
#    such a binary is built from public source, not shipped (docs/design.md names the one
#    the numbers there come from). Which addresses a run samples varies, so for profiling the
#    exit work itself build/libsymreplay.so (make build/libsymreplay.so) replays a fixed list
#    of file offsets inside the program (tests/eval/symreplay.c says how), under perf or
#    callgrind.
# 2. A C++ build under `profreg record -- make -j2` with PROFREG_TARGET=cc1plus against the
#    same build unprofiled (three of the test workloads, -O2 -g): hyperfine, medians and
#    their ratio.
set -eu

build=${1:-build}
build=$(cd "$build" && pwd)
lib="$build/libprofreg.so"
runs=${BENCH_RUNS:-5}
caches=${BENCH_CACHES:-3}
case "$caches" in
'' | *[!0-9]* | 0) echo "bench-exit.sh: BENCH_CACHES must be a whole number >= 1, not '$caches'" >&2; exit 2 ;;
esac
out="$build/bench-exit"
rm -rf "$out"
mkdir -p "$out"

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "-"}'; }

# summary key $2 of the program's profile under directory $1: the largest there (a shell
# between the bench and the program, when it does not exec it, writes a small one of its own)
key() {
    f=$(ls -S "$1"/*.json | head -n 1)
    sed -n "s/.*\"$2\": *\([0-9.]*\).*/\1/p" "$f" | head -n 1
}

echo "== exit cost on a large program"
if [ -z "${PROFREG_BENCH_BIG_CMD:-}" ]; then
    echo "(set PROFREG_BENCH_BIG_CMD to a command that runs a large program, e.g. a gtest binary"
    echo " with >= 100 MB of DWARF; docs/design.md gives the numbers for assimp's unit tests)"
else
    cache="$out/cache"
    # one run unprofiled first, as hyperfine's --warmup: the program and its libraries in the
    # page cache, as a CI job that has just built them has them (on a VM that reclaims cold
    # page cache, the bench before this one leaves the binary partly evicted)
    sh -c "$PROFREG_BENCH_BIG_CMD" >/dev/null 2>&1 || true
    # one profiled run of the program on $cache; its summary as a line of $1
    one_run() {
        rm -rf "$out/run" && mkdir -p "$out/run"
        PROFREG_CACHE_DIR="$cache" PROFREG_OUTPUT="$out/run/" LD_PRELOAD="$lib" \
            sh -c "$PROFREG_BENCH_BIG_CMD" >/dev/null 2>&1 || true
        if ! ls "$out"/run/*.json >/dev/null 2>&1; then
            echo "(the command left no profile: $PROFREG_BENCH_BIG_CMD)"
            return 1
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(key "$out/run" exit_ms)" \
            "$(key "$out/run" exit_cpu_ms)" "$(key "$out/run" exit_extra_rss_kb)" \
            "$(key "$out/run" symbol_cache_hits)" "$(key "$out/run" symbol_cache_misses)" \
            "$(key "$out/run" cus_indexed)" "$(key "$out/run" cus_from_cache)" \
            "$(key "$out/run" exit_helper_misses)" >>"$1"
    }
    # a first run: the symbol cache emptied (the debug copies kept)
    first_run() {
        rm -rf "$cache/symbols"
        one_run "$out/first.tsv"
    }
    : >"$out/first.tsv"
    i=0
    while [ $i -lt "$runs" ]; do
        i=$((i + 1))
        first_run || exit 0
    done
    # runs 2.. of each cache: the last first run filled the first cache
    : >"$out/early.tsv"
    c=0
    while [ $c -lt "$caches" ]; do
        c=$((c + 1))
        if [ $c -gt 1 ]; then
            first_run || exit 0
        fi
        : >"$out/cached$c.tsv"
        n=$runs
        [ $c -eq "$caches" ] && n=$((runs * 4))
        i=0
        while [ $i -lt "$n" ]; do
            i=$((i + 1))
            one_run "$out/cached$c.tsv" || exit 0
        done
        head -n "$runs" "$out/cached$c.tsv" >>"$out/early.tsv"
    done
    tail -n "$runs" "$out/cached$caches.tsv" >"$out/later.tsv"
    echo "(PROFREG_EXIT_THREADS=${PROFREG_EXIT_THREADS:-auto}; exit_ms: wall time at exit, what the"
    echo " program's exit waits; cpu_ms: CPU time of that work, the helper thread's added)"
    printf '%-8s %10s %10s %12s %8s %8s %8s %10s %8s\n' run exit_ms cpu_ms extra_MB hits misses CUs \
        CUs_cached helper
    for mode in first early later; do
        f="$out/$mode.tsv"
        name=$mode
        [ "$mode" = early ] && name=cached
        printf '%-8s %10s %10s %12s %8s %8s %8s %10s %8s\n' "$name" \
            "$(cut -f1 "$f" | median)" "$(cut -f2 "$f" | median)" \
            "$(cut -f3 "$f" | median | awk '{printf "%.1f", $1 / 1024}')" \
            "$(cut -f4 "$f" | median)" "$(cut -f5 "$f" | median)" "$(cut -f6 "$f" | median)" \
            "$(cut -f7 "$f" | median)" "$(cut -f8 "$f" | median)"
    done
    echo "(medians; first: $((runs + caches - 1)) runs, an empty symbol cache each; cached: runs"
    echo " 2-$((runs + 1)) of $caches caches, $((runs * caches)) runs; later: runs $((3 * runs + 2))-$((4 * runs + 1)) of the last)"
    c=0
    while [ $c -lt "$caches" ]; do
        c=$((c + 1))
        printf 'cache %d, runs from the second in order, wall/CPU ms at exit (misses):' "$c"
        awk -F '\t' '{printf " %.0f/%.0f (%s)", $1, $2, $5} END {print ""}' "$out/cached$c.tsv"
    done
fi

echo
echo "== a C++ build under profreg record -- make -j2 (PROFREG_TARGET=cc1plus)"
if ! command -v hyperfine >/dev/null 2>&1; then
    echo "(hyperfine not installed: apt-get install -y hyperfine)"
    exit 0
fi
src=$(cd "$(dirname "$0")/.." && pwd)
proj="$out/build"
mkdir -p "$proj"
cp "$src"/tests/workloads/inline_names.cpp "$src"/tests/workloads/bytest_gtest.cpp \
    "$src"/tests/workloads/bench_sim.cpp "$src"/tests/workloads/burn.h "$proj"/
cat >"$proj/Makefile" <<'EOF'
OBJS = inline_names.o bytest_gtest.o bench_sim.o
all: $(OBJS)
%.o: %.cpp
	g++ -std=c++17 -O2 -g -isystem /usr/include/eigen3 -c $< -o $@
clean:
	rm -f $(OBJS)
EOF
hyperfine --runs "${BENCH_BUILD_RUNS:-3}" --prepare "make -s -C '$proj' clean" \
    --export-json "$out/build.json" \
    -n unprofiled "make -s -C '$proj' -j2" \
    -n profiled "PROFREG_TARGET=cc1plus PROFREG_CACHE_DIR='$out/cache' '$build/profreg' record -q -o '$out/build-profiles/' -- make -s -C '$proj' -j2" \
    >"$out/build.txt" 2>&1 || { cat "$out/build.txt"; exit 0; }
python3 - "$out/build.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
u, p = r["unprofiled"]["median"], r["profiled"]["median"]
print("unprofiled %.2f s, profiled %.2f s (medians): %.3fx" % (u, p, p / u))
EOF
n=$(ls "$out"/build-profiles/*.json 2>/dev/null | wc -l)
echo "($n compiler profiles written; target: at most 1.15x)"
