#!/bin/sh
# SPDX-License-Identifier: MIT
# bench.sh BUILD_DIR — what `make bench` measures. Prints a table; nothing here is a test.
#
# 1. Overhead at 1000 Hz on the 30-frame chain workload: wall time without a profiler, with
#    libprofreg.so (perf events: ~1000 stacks per CPU second), with libprofreg.so forced to
#    CPU-time timers (PROFREG_CLOCK=timer: the kernel's HZ, as gperftools) and with gperftools'
#    libprofiler.so, measured by hyperfine in the same run (rounds in rotating order, so drift
#    of a shared machine hits all alike), and the same perf-event signal with an empty handler
#    (build/libbaresig.so). Reported: medians and the ratios of medians, each profiler's cost
#    per signal, (profiled - unprofiled) / signals of a profiled run, and the handler's own
#    cost per sample, (profiled - bare signal) / signals.
# 1b. The sampling rate and the shares: 5 profiled runs of the chain workload at scale 2
#    (about 2.5 s of CPU time, the size the overhead target is stated for) with default settings,
#    stacks per CPU second and each leaf's distance from its 50:30:20 truth.
# 2. Time at exit (stop, symbolize, build, write) for the C++ workload and for a program with a
#    large binary with full DWARF (a Python interpreter built with -g, when one is found):
#    the median of the "(N ms at exit)" that profreg prints.
set -eu

build=${1:-build}
build=$(cd "$build" && pwd)
lib="$build/libprofreg.so"
gperf=$(gcc -print-file-name=libprofiler.so.0)
runs=${BENCH_RUNS:-6}    # runs per command per round
rounds=${BENCH_ROUNDS:-3}
out="$build/bench"
rm -rf "$out"
mkdir -p "$out"

chain="$build/workloads/chain"
base="env PROFREG_BENCH=base $chain"
prof="env PROFREG_QUIET=1 PROFREG_OUTPUT=$out/prof/ LD_PRELOAD=$lib $chain"
bare="env LD_PRELOAD=$build/libbaresig.so $chain"
proft="env PROFREG_CLOCK=timer PROFREG_QUIET=1 PROFREG_OUTPUT=$out/proft/ LD_PRELOAD=$lib $chain"
gp="env CPUPROFILE=$out/gperf.prof CPUPROFILE_FREQUENCY=1000 LD_PRELOAD=$gperf $chain"

echo "== overhead: $chain at 1000 Hz, $rounds rounds x $runs runs per command (hyperfine)"
r=1
while [ "$r" -le "$rounds" ]; do
    case $((r % 5)) in
    1) set -- "$base" "$prof" "$proft" "$gp" "$bare" ;;
    2) set -- "$prof" "$proft" "$gp" "$bare" "$base" ;;
    3) set -- "$proft" "$gp" "$bare" "$base" "$prof" ;;
    4) set -- "$gp" "$bare" "$base" "$prof" "$proft" ;;
    0) set -- "$bare" "$base" "$prof" "$proft" "$gp" ;;
    esac
    hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$out/round$r.json" \
        "$@" >/dev/null
    r=$((r + 1))
done

python3 - "$out" "$rounds" <<'EOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
times = {}
for r in range(1, rounds + 1):
    for res in json.load(open(f"{out}/round{r}.json"))["results"]:
        cmd = res["command"]
        key = ("libprofreg timer" if "CLOCK=timer" in cmd else "libprofreg.so") if "libprofreg" in cmd \
            else "gperftools" if "CPUPROFILE" in cmd else "bare signal" if "baresig" in cmd \
            else "no profiler"
        times.setdefault(key, []).extend(res["times"])
base = statistics.median(times["no profiler"])
def signals(d):
    import glob
    f = sorted(glob.glob(f"{out}/{d}/*.json"))[-1]
    return json.load(open(f))["summary"]["signals"]
print(f"{'':18} {'median s':>9} {'ratio':>7} {'IQR s':>7} {'runs':>5} {'us/signal':>10}")
for key in ("no profiler", "bare signal", "libprofreg.so", "libprofreg timer", "gperftools"):
    t = sorted(times[key])
    m = statistics.median(t)
    q = statistics.quantiles(t, n=4)
    per = ""
    if key.startswith("libprofreg"):
        n = signals("prof" if key == "libprofreg.so" else "proft")
        per = f"{(m - base) / n * 1e6:10.1f}"
    print(f"{key:18} {m:9.3f} {m / base:7.3f} {q[2] - q[0]:7.3f} {len(t):5d} {per:>10}")
n = signals("prof")
own = (statistics.median(times["libprofreg.so"]) - statistics.median(times["bare signal"])) / n
print(f"handler's own cost per sample (libprofreg.so - bare signal) / {n} signals: {own * 1e6:.1f} us")
EOF

echo
echo "== sampling rate and shares: 5 runs of $chain 2, default settings"
rm -rf "$out/rate"
i=0
while [ $i -lt 5 ]; do
    env PROFREG_QUIET=1 PROFREG_OUTPUT="$out/rate/" LD_PRELOAD="$lib" "$chain" 2 >/dev/null
    i=$((i + 1))
done
python3 - "$out/rate" <<'EOF'
import glob, json, sys
truth = {"leaf_a": 50.0, "leaf_b": 30.0, "leaf_c": 20.0}
worst = 0.0
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    p = json.load(open(f))
    s = p["summary"]
    share = {x["name"]: x["self_percentage"] for x in p["top_functions"]}
    err = {k: share.get(k, 0.0) - v for k, v in truth.items()}
    worst = max(worst, max(abs(e) for e in err.values()))
    print("%-11s %5d stacks in %4.0f ms CPU, %6.0f per CPU second; leaf shares off by %s" % (
        p["metadata"].get("clock", "?"), s["signals"], s["cpu_time_ms"],
        s["signals"] / s["cpu_time_ms"] * 1000,
        " ".join("%+.2f" % err[k] for k in sorted(err))))
print("largest distance from the truth: %.2f points (target: 0.3)" % worst)
EOF

exit_ms() { # median of "(N ms at exit)" over 5 runs of the command
    i=0
    : >"$out/exit.txt"
    while [ $i -lt 5 ]; do
        env PROFREG_OUTPUT="$out/exit/" LD_PRELOAD="$lib" "$@" 2>&1 >/dev/null |
            sed -n 's/^profreg: wrote .* (\([0-9]*\) ms at exit.*/\1/p' >>"$out/exit.txt"
        i=$((i + 1))
    done
    sort -n "$out/exit.txt" | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "n/a")}'
}

functions_in_last() {
    f=$(ls "$out"/exit/profile_*.json | tail -n 1)
    python3 -c "import json,sys; p=json.load(open(sys.argv[1])); print(len(p['top_functions']), p['summary'].get('symbolize_ms'))" "$f"
}

echo
echo "== time at exit (stop sampling, symbolize with libdw, write JSON), median of 5 runs"
printf '%-52s %9s %10s\n' "program" "exit ms" "functions"
ms=$(exit_ms "$build/workloads/cxxnames")
printf '%-52s %9s %10s\n' "C++ workload (cxxnames)" "$ms" "$(functions_in_last | cut -d' ' -f1)"
rm -rf "$out/exit"

python=${PROFREG_BENCH_PYTHON:-}
if [ -z "$python" ]; then
    for p in /root/.pyenv/versions/*/bin/python3 /usr/local/bin/python3; do
        lp=$(dirname "$p")/../lib
        if [ -x "$p" ] && ls "$lp"/libpython3*.so.1.0 >/dev/null 2>&1; then python=$p; break; fi
    done
fi
if [ -n "$python" ]; then
    cat >"$out/pywork.py" <<'EOF'
import json, re
def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)
fib(25)
[json.dumps({"a": list(range(1000))}) for _ in range(300)]
[re.sub("a+", "b", "a" * 100 + "c") for _ in range(20000)]
EOF
    ms=$(exit_ms "$python" "$out/pywork.py")
    printf '%-52s %9s %10s\n' "Python with full DWARF ($(basename "$python"))" "$ms" \
        "$(functions_in_last | cut -d' ' -f1)"
else
    echo "(no Python built with shared libpython and -g found; set PROFREG_BENCH_PYTHON to measure one)"
fi
if [ -d /usr/lib/debug/.build-id ]; then
    echo "note: separate debug info is installed under /usr/lib/debug; compressed files are read from"
    echo "      profreg's uncompressed cache (PROFREG_CACHE_DIR), filled by the first run"
fi
