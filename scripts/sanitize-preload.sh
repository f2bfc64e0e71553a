#!/bin/sh
# SPDX-License-Identifier: MIT
# sanitize-preload.sh BUILD SAN_BUILD — the preload built with ASan+UBSan
# (SAN_BUILD/preload/libprofreg.so, make sanitize) inside ordinary programs: a single thread,
# four threads, deep recursion, stdin/stdout/exit status passed through, fork, many threads,
# dlopen/dlclose, a blocked SIGPROF. Each run must exit as it does without the preload, print no
# sanitizer report, and leave a profile the sanitized CLI reads.
#
# An uninstrumented program can load an instrumented library only with the ASan runtime
# loaded first: it is preloaded before libprofreg.so, with verify_asan_link_order=0. Leak
# detection is off (the programs' own allocations are not ours to judge; make memcheck and
# the CLI runs of make sanitize look for leaks). See docs/design.md (Sanitizers).
set -u
build=$(cd "$1" && pwd)
san=$(cd "$2" && pwd)
asan=$(${CC:-gcc} -print-file-name=libasan.so)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0

# run NAME EXPECTED_STATUS CMD... : CMD under the sanitized preload, writing into $tmp/NAME/
run() {
    name=$1 want=$2
    shift 2
    n=$((n + 1))
    mkdir -p "$tmp/$name"
    printf 'abc\n' | LD_PRELOAD="$asan $san/preload/libprofreg.so" \
        ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:abort_on_error=0 \
        UBSAN_OPTIONS=print_stacktrace=1 PROFREG_OUTPUT="$tmp/$name/" PROFREG_QUIET=1 \
        PROFREG_CACHE_DIR=none "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "sanitize-preload: $name: exit $got, want $want" >&2
        fail=1
    fi
    if grep -qE 'Sanitizer|runtime error:' "$tmp/$name.err"; then
        echo "sanitize-preload: $name: a sanitizer report:" >&2
        grep -m1 -A30 -E 'Sanitizer|runtime error:' "$tmp/$name.err" >&2
        fail=1
    fi
    profiles=$(ls "$tmp/$name"/profile_*.json 2>/dev/null)
    if [ -z "$profiles" ]; then
        echo "sanitize-preload: $name: no profile written" >&2
        fail=1
    elif ! "$san/profreg" report $profiles >/dev/null 2>"$tmp/$name.report"; then
        echo "sanitize-preload: $name: the profile does not read:" >&2
        cat "$tmp/$name.report" >&2
        fail=1
    fi
}

w=$build/workloads
run chain 0 "$w/chain"
run threads 0 "$w/threads"
run recursion 0 "$w/recursion"
run echo_exit 7 "$w/echo_exit" 7 a b
run fork 0 "$w/torture" fork
run many_threads 0 "$w/torture" many_threads
run dlopen 0 "$w/torture" dlopen "$build/testlibs/libplugin.so" 20
run block_sigprof 0 "$w/torture" block_sigprof
if [ $fail -eq 0 ]; then
    echo "sanitize-preload: $n programs under the sanitized preload: clean"
fi
exit $fail
