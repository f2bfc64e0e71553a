#!/bin/sh
# SPDX-License-Identifier: MIT
# memcheck.sh BUILD_DIR — runs the profreg CLI under valgrind on good and broken input; fails
# on any memory error or definite leak. Exit statuses of profreg itself are not judged here
# (the Check suites do that), only valgrind's verdict.
set -eu
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
fixtures="$src/tests/fixtures/parse-profile"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/profreg" record -q -o "$tmp/chain.json" -- "$build/workloads/chain" >/dev/null
printf '{"summary": {"total_samples": 1},\n "top_functions": [}\n' >"$tmp/bad.json"
printf '{"summary": {"total_samples": 1}, "top_functions": [{"name": "f", "samples": 1, "percentage": 1}, {"name": "f", "samples": 1, "percentage": 1}]}' >"$tmp/dup.json"

fail=0
run() {
    if ! valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        "$build/profreg" "$@" >/dev/null 2>"$tmp/vg.txt"; then
        if grep -q "==[0-9]*==" "$tmp/vg.txt"; then
            echo "memcheck: profreg $*" >&2
            cat "$tmp/vg.txt" >&2
            fail=1
        fi
    fi
}
run report "$tmp/chain.json" --top 0
run report "$tmp/chain.json" "$tmp/chain.json" --self
[ -d "$fixtures" ] && run report "$fixtures"/*.json
run report "$tmp/bad.json"
run report "$tmp/dup.json"
run report /nonexistent.json
run report --top x "$tmp/chain.json"
printf 'main;a;b 30\nmain;a 10\nmain;c 60\n' >"$tmp/k.folded"
printf 'main;a 1\nmain;;b x\n' >"$tmp/bad.folded"
run flamegraph "$tmp/chain.json" "$tmp/k.folded" -o "$tmp/fg.svg" --self --icicle --title t
run flamegraph "$tmp/bad.folded" -o "$tmp/x.svg"
run flamegraph "$tmp/bad.json" -o "$tmp/x.svg"
run export "$tmp/chain.json" --format folded -o "$tmp/c.folded"
run export "$tmp/c.folded" --format speedscope -o "$tmp/s.json"
run export "$tmp/chain.json" --format pprof -o "$tmp/p.pb.gz"
run export "$tmp/chain.json" --format xml
run diff "$tmp/k.folded" -- "$tmp/chain.json" -o "$tmp/d.svg"
run diff "$tmp/k.folded"
run help record
run frobnicate
run record -F 0 -- true

# compare and baseline: a project root with three runs, a baseline, and broken variants
root="$tmp/root"
mkdir -p "$root/profile_results/chain"
for i in 1 2 3; do cp "$tmp/chain.json" "$root/profile_results/chain/profile_2026112${i}_000000_000000_1.json"; done
run compare --root "$root" --set-baseline
run diff "$root/baselines/chain/baseline.json" -- "$tmp/chain.json" -o "$tmp/d2.svg" --top 3
run compare --root "$root" --strict
run compare --root "$root" --current "$fixtures/msd_sim_bench_top20.json" --executable chain --top 50
run compare --root "$root" --threshold x
run compare --root "$root" --metric self --project-only --prefix 'chain::' --include 'f' --exclude '^x' \
    --max-time-ms 1 --max-memory-mb 1 --fail-on-new --junit "$tmp/j.xml" --markdown "$tmp/m.md"
run compare --root "$root" --compat --include '('
run compare --root "$root" --metric bogus
run compare --root "$root" --executable nope
p="$root/profile_results/chain"
run compare --root "$root" --base-runs "$p"/profile_20261121_000000_000000_1.json "$p"/profile_20261122_000000_000000_1.json \
    --current "$p"/profile_20261123_000000_000000_1.json "$tmp/chain.json" --base-label 'merge-base x' \
    --strict --junit "$tmp/j2.xml" --markdown "$tmp/m2.md" --report "$tmp/r2.json"
run compare --root "$root" --base-runs "$tmp/chain.json" --current "$tmp/chain.json" "$tmp/chain.json"
run compare --root "$root" --base-runs "$tmp/chain.json"
run compare --root "$root" --base-runs "$tmp/bad.json" --current "$tmp/chain.json"
run baseline show --root "$root" --top 0
cp "$tmp/bad.json" "$root/profile_results/chain/profile_20261129_000000_000000_1.json"
run compare --root "$root"
cp "$tmp/dup.json" "$root/baselines/chain/baseline.json"
run compare --root "$root" --runs 1 --current "$tmp/chain.json"
run baseline reset --root "$root"

# the default judge on a real gtest program: a doubled function (causes from both sides'
# stacks, pass-through frames, growers, INCONCLUSIVE), folded and expanded inlines, by test
gs="$tmp/gs"
mkdir -p "$gs/profile_results/gtest_sim"
for i in 1 2 3; do
    LD_PRELOAD="$build/libprofreg.so" PROFREG_QUIET=1 \
        PROFREG_OUTPUT="$gs/profile_results/gtest_sim/profile_2026110${i}_000000_000000_1.json" \
        "$build/workloads/gtest_sim" >/dev/null
    LD_PRELOAD="$build/libprofreg.so" SIM_SLOW_FUNC=sim::Integrator::step SIM_SLOW_FACTOR=2 PROFREG_QUIET=1 \
        PROFREG_OUTPUT="$gs/profile_results/gtest_sim/profile_2026120${i}_000000_000000_1.json" \
        "$build/workloads/gtest_sim" >/dev/null
done
run compare --root "$gs" --runs 3 --current "$gs/profile_results/gtest_sim/profile_20261101_000000_000000_1.json" \
    --current "$gs/profile_results/gtest_sim/profile_20261102_000000_000000_1.json" \
    --current "$gs/profile_results/gtest_sim/profile_20261103_000000_000000_1.json" --set-baseline
run compare --root "$gs" --runs 3 --by-test --junit "$tmp/gj.xml" --markdown "$tmp/gm.md"
run compare --root "$gs" --runs 3 --inlines expand --metric total
run report "$gs/profile_results/gtest_sim/profile_20261201_000000_000000_1.json" --inlines expand
run diff "$gs/baselines/gtest_sim/baseline.json" -- "$gs/profile_results/gtest_sim/profile_20261201_000000_000000_1.json" --inlines expand
run compare --root "$gs" --inlines bogus

# history: append records of the gtest runs (tests' times included), then read them back with
# a bad line and another program's record among them: table, CSV, JSON, the chart
h="$tmp/h.jsonl"
for d in 1101 1102 1103 1201 1202 1203; do
    run history append "$h" --executable gtest_sim --commit "c$d" --branch main --dirty no \
        "$gs/profile_results/gtest_sim/profile_2026${d}_000000_000000_1.json"
done
printf '{"profreg_history": 1, "executable": "other", "runs": 1, "functions": []}\n{"profreg_hi\n' >>"$h"
run history "$h" --executable gtest_sim --function 'step' --test 'Test'
run history "$h" --executable gtest_sim --format csv
run history "$h" --executable gtest_sim --format json -o "$tmp/h.svg" \
    --baseline "$gs/baselines/gtest_sim/baseline.json"
run history "$h" --executable gtest_sim -o "$tmp/h.html"
run history "$h" --function '('
run history append "$h" --executable x --dirty maybe "$tmp/chain.json"
run history append "$h" --executable x "$tmp/bad.json"

# hostile files and outputs: written through to a device, through a link, a FIFO as
# input, counts that do not fit, control characters in names, usage errors, compare's outputs
# all or none
ln -s "$tmp/linked.svg.target" "$tmp/linked.svg"
mkfifo "$tmp/fifo.json"
printf 'main;a 5000000000000000000\nmain;a 5000000000000000000\n' >"$tmp/big.folded"
printf 'main;esc\033]0;t\007;x\nforged 3\nmain;\377\376 2\n' >"$tmp/esc.folded"
run export "$tmp/k.folded" --format folded -o /dev/null
run flamegraph "$tmp/esc.folded" -o "$tmp/linked.svg" --width 211
run report "$tmp/fifo.json"
run flamegraph "$tmp/big.folded" -o "$tmp/x.svg"
run diff "$tmp/esc.folded" -- "$tmp/k.folded"
run report --bogus "$tmp/chain.json"
run report "$tmp/chain.json" --top
run compare --t 5
run compare --root "$gs" --runs 3 --junit "$tmp/j2.xml" --markdown /nonexistent/m.md
run compare --root "$gs" --executable '.git'

# the memory layer: sections read, merged, reported, exported, diffed and judged; broken ones
mr="$tmp/mem"
mkdir -p "$mr/profile_results/alloc_shares"
for leak in 8 8 8 16 16 16; do
    PROFREG_MEMORY=1 PROFREG_MEMORY_RATE=16K PROFREG_QUIET=1 PROFREG_OUTPUT="$mr/profile_results/alloc_shares/" \
        LD_PRELOAD="$build/libprofreg.so" "$build/workloads/alloc_shares" leak 8 "$leak" >/dev/null
done
set -- "$mr"/profile_results/alloc_shares/profile_*.json
m1=$1 m2=$2
run report --memory "$m1" "$m2" --top 3
run report --memory --exit --self "$m1"
run report --memory "$tmp/chain.json"
run flamegraph --memory --live "$m1" "$m2" -o "$tmp/m.svg"
run export "$m1" "$m2" --memory --format pprof -o "$tmp/m.pb.gz"
run export "$m1" --memory --exit --format folded -o "$tmp/m.folded"
run diff --memory "$m1" -- "$m2" -o "$tmp/md.svg" --top 3
run compare --root "$mr" --set-baseline --runs 6
run baseline show --root "$mr"
run compare --root "$mr" --metric alloc --runs 3 --junit "$tmp/mj.xml" --markdown "$tmp/mm.md"
run compare --root "$mr" --metric live --runs 3 --by-test
run compare --root "$mr" --metric alloc --current "$tmp/chain.json" --executable alloc_shares
sed 's/"alloc_bytes": [0-9]*/"alloc_bytes": -1/' "$m1" >"$tmp/badmem.json"
run report --memory "$tmp/badmem.json"
sed 's/"frames": \[0/"frames": [999/' "$m1" >"$tmp/badmem2.json"
run flamegraph --memory "$tmp/badmem2.json" -o "$tmp/x.svg"

[ $fail -eq 0 ] && echo "memcheck: profreg is clean under valgrind"
exit $fail
