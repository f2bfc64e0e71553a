#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-memory.sh BUILD_DIR — the memory layer's cost (make bench). Prints a table; nothing here
# is a test.
#
# The workload is tests/workloads/alloc_strings.cpp: a loop building and freeing containers of
# small strings (every string a heap allocation), about 1 s unprofiled. Commands:
#   no profiler; libprofreg.so with CPU sampling only (the default); libprofreg.so with
#   PROFREG_MEMORY=1 at the default rate (512 KiB); libprofreg.so with PROFREG_MEMORY=only
#   (allocations at the same rate, no CPU sampling: the one to set beside the memory-only
#   tools); gperftools' tcmalloc alone; and, run once
#   each (they take tens of times longer), gperftools' heap profiler (HEAPPROFILE: every
#   allocation's stack, inside tcmalloc) and heaptrack (every allocation recorded).
# Each run is measured by GNU time (wall and CPU seconds, peak RSS of the command itself: a
# child forked from a large process would inherit its high-water mark), in rounds of rotating
# order so that the drift of a shared machine hits every command alike. Reported: medians of
# CPU time (user + system: on a loaded machine wall time also counts waiting for a core) and
# wall time, ratios to no profiler and to libprofreg's CPU sampling alone (what turning memory
# on adds), and peak RSS (what profreg's memory layer adds to it). Each ratio is of medians
# taken in the same invocation.
set -eu

build=${1:-build}
build=$(cd "$build" && pwd)
lib="$build/libprofreg.so"
tcmalloc=$(gcc -print-file-name=libtcmalloc.so.4)
rounds=${BENCH_MEMORY_RUNS:-10}
size=${BENCH_MEMORY_ROUNDS:-3000}
out="$build/bench-memory"
rm -rf "$out"
mkdir -p "$out"
w="$build/workloads/alloc_strings"

# measure NAME ENV... : one run of the workload; appends "NAME wall user sys maxrss_kb"
measure() {
    name=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" env "$@" "$w" "$size" >/dev/null 2>"$out/err.txt" ||
        { echo "bench-memory: $name failed:" >&2; cat "$out/err.txt" >&2; exit 1; }
    echo "$name $(tail -n 1 "$out/time.txt")" >>"$out/runs.txt"
}
none() { measure none PROFREG_BENCH=base; }
cpu() { measure cpu PROFREG_QUIET=1 PROFREG_OUTPUT="$out/cpu/" LD_PRELOAD="$lib"; }
mem() { measure memory PROFREG_MEMORY=1 PROFREG_QUIET=1 PROFREG_OUTPUT="$out/mem/" LD_PRELOAD="$lib"; }
only() { measure memory-only PROFREG_MEMORY=only PROFREG_QUIET=1 PROFREG_OUTPUT="$out/only/" LD_PRELOAD="$lib"; }
tc() { measure tcmalloc LD_PRELOAD="$tcmalloc"; }

echo "== memory layer: $w $size (containers of small strings), $rounds interleaved runs per command"
none
cpu
mem
only
tc
: >"$out/runs.txt" # (the first of each warmed the caches)
r=0
while [ "$r" -lt "$rounds" ]; do
    case $((r % 5)) in
    0) none; cpu; mem; only; tc ;;
    1) cpu; mem; only; tc; none ;;
    2) mem; only; tc; none; cpu ;;
    3) only; tc; none; cpu; mem ;;
    4) tc; none; cpu; mem; only ;;
    esac
    r=$((r + 1))
done
measure "gperftools-heap" HEAPPROFILE="$out/gperf-heap" LD_PRELOAD="$tcmalloc"
if command -v heaptrack >/dev/null 2>&1; then
    /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" heaptrack -o "$out/heaptrack" "$w" "$size" \
        >/dev/null 2>&1 && echo "heaptrack $(tail -n 1 "$out/time.txt")" >>"$out/runs.txt"
fi

python3 - "$out" <<'EOF'
import glob, json, statistics, sys
out = sys.argv[1]
runs = {}
for line in open(f"{out}/runs.txt"):
    name, wall, user, sys_, rss = line.split()
    runs.setdefault(name, []).append((float(wall), float(user) + float(sys_), int(rss) / 1024))
def med(name, k):
    return statistics.median(r[k] for r in runs[name])
labels = {"none": "no profiler", "cpu": "libprofreg CPU", "memory": "libprofreg CPU+memory",
          "memory-only": "libprofreg memory only", "tcmalloc": "tcmalloc",
          "gperftools-heap": "gperftools heap", "heaptrack": "heaptrack"}
base, cpu = med("none", 1), med("cpu", 1)
print(f"{'':22} {'CPU s':>7} {'x none':>7} {'x CPU':>7} {'wall s':>7} {'runs':>5} {'peak RSS MB':>12}")
for key, label in labels.items():
    if key not in runs:
        continue
    c = med(key, 1)
    xcpu = f"{c / cpu:7.3f}" if key in ("cpu", "memory") else ""
    print(f"{label:22} {c:7.3f} {c / base:7.3f} {xcpu:>7} {med(key, 0):7.3f} {len(runs[key]):5d} "
          f"{med(key, 2):12.1f}")
prof = sorted(glob.glob(f"{out}/mem/*.json"))[-1]
mem = json.load(open(prof))["memory"]
print(f"memory on: x{med('memory', 1) / cpu:.3f} the CPU time of libprofreg's CPU sampling alone "
      f"(x{med('memory', 1) / base:.3f} of no profiler), peak RSS {med('memory', 2) - med('cpu', 2):+.1f} MB "
      f"({med('memory', 2) - med('none', 2):+.1f} MB against no profiler); {mem['samples']} sampled "
      f"allocations a run, estimated {mem['alloc_bytes'] / 2**20:.0f} MiB in {mem['alloc_count']} allocations")
only = json.load(open(sorted(glob.glob(f"{out}/only/*.json"))[-1]))
assert only["summary"]["total_samples"] == 0 and only["metadata"].get("cpu_sampling") is False
print(f"memory only: x{med('memory-only', 1) / base:.3f} the CPU time of no profiler "
      f"(x{med('memory-only', 0) / med('none', 0):.3f} wall), next to memory+CPU "
      f"x{med('memory', 1) / base:.3f} (x{med('memory', 0) / med('none', 0):.3f} wall); "
      f"peak RSS {med('memory-only', 2) - med('none', 2):+.1f} MB; "
      f"{only['memory']['samples']} sampled allocations a run, no CPU samples")
EOF
