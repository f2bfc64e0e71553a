#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-compare.sh BUILD_DIR — time and peak memory of `profreg compare` on a large input:
# 100 runs of 20,000 functions each (generated here, deterministic, never committed), judged
# with the default --runs 5 and with --runs 100, and `baseline set` over all 100.
set -eu
build=$(cd "${1:-build}" && pwd)
root="$build/bench/compare"
runs=${BENCH_COMPARE_RUNS:-100}
functions=${BENCH_COMPARE_FUNCTIONS:-20000}
rm -rf "$root"
mkdir -p "$root/profile_results/big_test"

python3 - "$root/profile_results/big_test" "$runs" "$functions" <<'PY'
import json, random, sys
out, runs, nfun = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
names = ["project::module%d::Class%d::method%d(std::vector<double, std::allocator<double> > const&, int)"
         % (i % 37, i % 997, i) for i in range(nfun)]
weights = [1.0 / (i + 1) for i in range(nfun)]  # Zipf-like shares
for r in range(runs):
    total = 50000
    w = [x * rng.uniform(0.9, 1.1) for x in weights]
    s = sum(w)
    fns = []
    for i, name in enumerate(names):
        samples = max(1, int(w[i] / s * total * 8))
        fns.append({"rank": 0, "name": name, "samples": samples,
                    "percentage": round(100.0 * min(samples, total) / total, 4),
                    "self_samples": samples // 2, "self_percentage": 0.0,
                    "source_file": "module%d.cpp" % (i % 37), "line": 10 + i, "module": "big_test"})
    fns.sort(key=lambda f: -f["samples"])
    for k, f in enumerate(fns):
        f["rank"] = k + 1
    doc = {"metadata": {"trace_file": "x", "template": "Time Profiler",
                        "export_timestamp": "2026-11-24T10:%02d:%02dZ" % (r // 60, r % 60),
                        "executable": "/opt/big_test"},
           "summary": {"total_samples": total, "total_time_ms": float(total)},
           "top_functions": fns}
    with open("%s/profile_20261124_10%02d%02d_000000_%d.json" % (out, r // 60, r % 60, r), "w") as f:
        json.dump(doc, f, indent=2)
PY
size=$(du -sh "$root/profile_results/big_test" | cut -f1)
echo "== profreg compare: $runs runs x $functions functions ($size of JSON)"
p="$build/profreg"
"$p" baseline set --root "$root" --runs "$runs" >/dev/null
hyperfine -N --style basic --warmup 1 --runs 5 --export-json "$root/hyperfine.json" \
    "$p compare --root $root --output-json-only" \
    "$p compare --root $root --output-json-only --runs $runs" \
    "$p baseline set --root $root --runs $runs" >/dev/null 2>&1
python3 - "$root/hyperfine.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    cmd = r["command"].split("/profreg ", 1)[1].replace(sys.argv[1].rsplit("/", 1)[0], "ROOT")
    print("  median %7.3f s  (min %.3f, max %.3f, %d runs)  profreg %s"
          % (r["median"], r["min"], r["max"], len(r["times"]), cmd))
PY
for args in "compare --root $root --output-json-only" \
            "compare --root $root --output-json-only --runs $runs"; do
    kb=$(/usr/bin/time -f %M "$p" $args 2>&1 >/dev/null | tail -n 1)
    echo "peak RSS of 'profreg $args': $((kb / 1024)) MB"
done
