#!/bin/sh
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
run baseline show --root "$root" --top 0
cp "$tmp/bad.json" "$root/profile_results/chain/profile_20261129_000000_000000_1.json"
run compare --root "$root"
cp "$tmp/dup.json" "$root/baselines/chain/baseline.json"
run compare --root "$root" --runs 1 --current "$tmp/chain.json"
run baseline reset --root "$root"
[ $fail -eq 0 ] && echo "memcheck: profreg is clean under valgrind"
exit $fail
