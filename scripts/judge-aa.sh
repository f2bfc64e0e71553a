#!/bin/bash
# SPDX-License-Identifier: MIT
# judge-aa.sh — the real A/A check of the judge (make judge-aa): profile the demo workload
# N times (default 20) on this machine with nothing changed, then judge groups of those runs
# against each other. Every comparison is between identical code, so every flag is a false
# alarm. Reports how many comparisons the default judge and --compat flag.
#
#   sh scripts/judge-aa.sh BUILD_DIR [RUNS_DIR]
#
# Baselines: runs 1-5, 6-10, 11-15, 16-20 in turn; for each, the other 15 runs are judged as
# three groups of 5 (--runs 5 style) and one at a time (15 single runs). RUNS_DIR keeps the
# profiles (reused when it already holds N of them).
set -u
build=${1:?usage: judge-aa.sh BUILD_DIR [RUNS_DIR]}
n=${AA_RUNS:-20}
profreg=$build/profreg
demo=$build/examples/demo_sim
work=${2:-$(mktemp -d)}
mkdir -p "$work/profile_results/demo_sim"
runs_dir=$work/profile_results/demo_sim
have=$(ls "$runs_dir" 2>/dev/null | grep -c '^profile_.*\.json$')
if [ "$have" -lt "$n" ]; then
    rm -f "$runs_dir"/profile_*.json
    echo "judge-aa: profiling $demo $n times into $runs_dir"
    for i in $(seq 1 "$n"); do
        PROFREG_OUTPUT="$runs_dir/" PROFREG_QUIET=1 "$profreg" record -- "$demo" >/dev/null || exit 2
    done
fi
mapfile -t runs < <(ls "$runs_dir"/profile_*.json | sort | head -n "$n")
[ "${#runs[@]}" -eq "$n" ] || { echo "judge-aa: expected $n profiles in $runs_dir" >&2; exit 2; }

groups=$((n / 5))
declare -A flagged total
for judge in default compat; do flagged[$judge:5]=0; flagged[$judge:1]=0; total[$judge:5]=0; total[$judge:1]=0; done
details=$work/details.txt
: >"$details"
for b in $(seq 0 $((groups - 1))); do
    base=$work/baseline_$b.json
    cur=()
    for k in 0 1 2 3 4; do cur+=(--current "${runs[$((b * 5 + k))]}"); done
    "$profreg" baseline set --executable demo_sim --baseline "$base" "${cur[@]}" >/dev/null || exit 2
    for judge in default compat; do
        extra=()
        [ $judge = compat ] && extra=(--compat)
        # groups of 5
        for g in $(seq 0 $((groups - 1))); do
            [ "$g" -eq "$b" ] && continue
            cur=()
            for k in 0 1 2 3 4; do cur+=(--current "${runs[$((g * 5 + k))]}"); done
            rep=$work/report_${judge}_b${b}_g${g}.json
            rm -f "$rep"
            "$profreg" compare --executable demo_sim --baseline "$base" "${extra[@]}" --strict \
                --output-json-only --report "$rep" "${cur[@]}"
            rc=$?
            [ $rc -le 1 ] || exit 2
            total[$judge:5]=$((total[$judge:5] + 1))
            if [ $rc -eq 1 ]; then
                flagged[$judge:5]=$((flagged[$judge:5] + 1))
                echo "$judge baseline $b vs group $g: flagged ($rep)" >>"$details"
            fi
        done
        # single runs
        for i in $(seq 0 $((n - 1))); do
            [ $((i / 5)) -eq "$b" ] && continue
            rep=$work/report_${judge}_b${b}_r${i}.json
            rm -f "$rep"
            "$profreg" compare --executable demo_sim --baseline "$base" "${extra[@]}" --strict \
                --output-json-only --report "$rep" --current "${runs[$i]}"
            rc=$?
            [ $rc -le 1 ] || exit 2
            total[$judge:1]=$((total[$judge:1] + 1))
            if [ $rc -eq 1 ]; then
                flagged[$judge:1]=$((flagged[$judge:1] + 1))
                echo "$judge baseline $b vs run $i: flagged ($rep)" >>"$details"
            fi
        done
    done
done

echo
echo "A/A on $(uname -n): $n runs of demo_sim, baselines of 5 runs, nothing changed between runs"
printf '%-10s  %-26s  %-26s\n' "judge" "5 runs vs baseline of 5" "1 run vs baseline of 5"
for judge in default compat; do
    printf '%-10s  %-26s  %-26s\n' "$judge" \
        "${flagged[$judge:5]} of ${total[$judge:5]} flagged" "${flagged[$judge:1]} of ${total[$judge:1]} flagged"
done
[ -s "$details" ] && { echo; cat "$details"; }
echo "(profiles and reports in $work)"
