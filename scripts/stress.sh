#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stress.sh BUILD — libprofreg.so under stress (make stress; CI runs it after make check).
#
# Each scenario runs a workload twice, without and with the preload (sampling at 10 kHz unless
# the scenario says otherwise), and asserts: the same exit status, the same stdout, the same
# stderr apart from profreg's own lines, no hang (each run is killed after RUN_LIMIT seconds);
# then either valid profiles (each read back by `profreg report`), or no profile and exactly
# one profreg line saying why, matching what the scenario expects; and never a temporary file
# left in the output directory. Scenarios that need a private mount namespace (a read-only or a
# full file system, as root) say "skipped" where unshare -m or mount is refused.
#
# Prints one line per scenario and a summary; exits 1 when any scenario failed.
# STRESS_RUN_LIMIT overrides RUN_LIMIT (seconds a run may take).
set -u

BUILD=$(cd "${1:-build}" && pwd)
export LIB=$BUILD/libprofreg.so
PROFREG=$BUILD/profreg
T=$BUILD/workloads/torture
PLUGIN=$BUILD/testlibs/libplugin.so
RUN_LIMIT=${STRESS_RUN_LIMIT:-30}

WORK=$(mktemp -d /tmp/profreg-stress.XXXXXX)
cleanup() {
    chmod -R u+w "$WORK" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
export PROFREG_CACHE_DIR=$WORK/cache # the symbol cache, never under $HOME
unset PROFREG_OUTPUT PROFREG_FREQUENCY PROFREG_MODE PROFREG_CLOCK PROFREG_TARGET PROFREG_QUIET \
    PROFREG_DISABLE PROFREG_OUTPUT_OWNER LD_PRELOAD

passed=0 failed=0 skipped=0
start_all=$(date +%s%N)

fail() {
    echo "FAIL $NAME: $*"
    for f in "$CASE"/out.plain "$CASE"/out.prof "$CASE"/err.prof; do
        [ -s "$f" ] && { echo "  --- ${f##*/}:"; head -n 12 "$f" | sed 's/^/  /'; }
    done
    failed=$((failed + 1))
}

# new_case NAME: a fresh directory for the case (CASE) with out/ for the profiles.
new_case() {
    NAME=$1
    CASE=$WORK/$NAME
    mkdir -p "$CASE/out" "$CASE/cwd"
    CASE_START=$(date +%s%N)
}

# run_plain CMD...: runs CMD unprofiled in $CASE/cwd; status in PLAIN_STATUS.
run_plain() {
    # (the braces keep bash's "Terminated" report of a program killed by a signal off stderr)
    { (cd "$CASE/cwd" && exec timeout -s KILL "$RUN_LIMIT" "$@" >"$CASE/out.plain" 2>"$CASE/err.plain"); } 2>/dev/null
    PLAIN_STATUS=$?
}

# run_prof [VAR=value...] -- CMD...: runs CMD under the preload in $CASE/cwd, output to
# $CASE/out/ and 10 kHz unless the variables say otherwise; status in PROF_STATUS.
run_prof() {
    local vars=()
    while [ "$1" != "--" ]; do
        vars+=("$1")
        shift
    done
    shift
    { (cd "$CASE/cwd" && exec timeout -s KILL "$RUN_LIMIT" env LD_PRELOAD="$LIB" \
        PROFREG_OUTPUT="$CASE/out/" PROFREG_FREQUENCY=10000 "${vars[@]}" "$@" \
        >"$CASE/out.prof" 2>"$CASE/err.prof"); } 2>/dev/null
    PROF_STATUS=$?
}

# same_behaviour: status, stdout and the program's own stderr as without the preload.
same_behaviour() {
    if [ "$PROF_STATUS" = 137 ] && [ "$PLAIN_STATUS" != 137 ]; then
        fail "hung under the preload (killed after $RUN_LIMIT s)"
        return 1
    fi
    if [ "$PROF_STATUS" != "$PLAIN_STATUS" ]; then
        fail "exit status $PROF_STATUS under the preload, $PLAIN_STATUS without"
        return 1
    fi
    if ! cmp -s "$CASE/out.plain" "$CASE/out.prof"; then
        fail "stdout differs from the unprofiled run"
        return 1
    fi
    if ! cmp -s <(grep -v '^profreg: ' "$CASE/err.prof") "$CASE/err.plain"; then
        fail "the program's stderr differs from the unprofiled run"
        return 1
    fi
    return 0
}

# no_temporaries DIR: nothing but finished profiles in DIR.
no_temporaries() {
    local left
    left=$(find "$1" -name '.*tmp*' 2>/dev/null | head -n 3)
    if [ -n "$left" ]; then
        fail "temporary files left behind: $left"
        return 1
    fi
    return 0
}

# expect_profiles DIR N: N profiles in DIR (N+: at least N), each valid, no temporary file.
expect_profiles() {
    local dir=$1 want=$2 n=0 f
    for f in "$dir"/profile_*.json; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        if ! "$PROFREG" report --top 1 --no-color "$f" >/dev/null 2>"$CASE/report.err"; then
            fail "invalid profile ${f##*/}: $(head -c 300 "$CASE/report.err")"
            return 1
        fi
    done
    if [ "$n" -lt "${want%+}" ] || { [ "$want" = "${want%+}" ] && [ "$n" != "$want" ]; }; then
        fail "$n profiles in ${dir#"$WORK"/}, expected $want"
        return 1
    fi
    no_temporaries "$dir" || return 1
    PROFILES=$n
    return 0
}

# expect_no_profile DIR PATTERN: no profile in DIR, exactly one profreg line on stderr, and it
# says why (matches PATTERN, an extended regular expression).
expect_no_profile() {
    local dir=$1 pattern=$2 lines
    if [ -n "$(find "$dir" -name 'profile_*.json' 2>/dev/null | head -n 1)" ]; then
        fail "a profile was written, none was expected"
        return 1
    fi
    lines=$(grep -c '^profreg: ' "$CASE/err.prof")
    if [ "$lines" != 1 ] || ! grep -Eq "^profreg: no profile written: .*$pattern" "$CASE/err.prof"; then
        fail "expected one line 'profreg: no profile written: ...$pattern...', got $lines profreg lines"
        return 1
    fi
    no_temporaries "$dir" || return 1
    return 0
}

# ms since $1 (date +%s%N)
ms_since() {
    echo $((($(date +%s%N) - $1) / 1000000))
}

pass() {
    printf 'ok   %-26s %6d ms  %s\n' "$NAME" "$(ms_since "$CASE_START")" "$*"
    passed=$((passed + 1))
}

skip() {
    echo "skip $NAME: $*"
    skipped=$((skipped + 1))
}

# expect_profile_or_line DIR: one valid profile, or none and one line saying why.
expect_profile_or_line() {
    if [ -n "$(find "$1" -name 'profile_*.json' | head -n 1)" ]; then
        expect_profiles "$1" 1 && PROFILES="1 profile"
    else
        expect_no_profile "$1" "" && PROFILES="no profile, one line"
    fi
}

# scenario NAME PROFILES [VAR=value...] -- CMD...: the common case; PROFILES is the number
# of profiles expected (N+: at least N; "?": one, or none and one line saying why). With
# REPEAT=N set just before, the preloaded run is repeated N times (for races that show in some
# runs only); REPEAT is reset afterwards.
REPEAT=1
scenario() {
    local name=$1 want=$2 times=$REPEAT i
    REPEAT=1
    shift 2
    local vars=()
    while [ "$1" != "--" ]; do
        vars+=("$1")
        shift
    done
    shift
    new_case "$name"
    run_plain "$@"
    for ((i = 1; i <= times; i++)); do
        rm -rf "$CASE/out" && mkdir "$CASE/out"
        run_prof "${vars[@]}" -- "$@"
        if [ "$want" = "?" ]; then
            same_behaviour && expect_profile_or_line "$CASE/out" || return
        else
            same_behaviour && expect_profiles "$CASE/out" "$want" || return
            PROFILES="$PROFILES profiles"
        fi
    done
    pass "$PROFILES$([ "$times" -gt 1 ] && echo ", $times runs")"
}

# ---- the program ------------------------------------------------------------------------------

scenario threads-churn 1 -- "$T" threads
scenario many-threads 1 -- "$T" many_threads 200
scenario 10khz-wall 1 PROFREG_MODE=wall -- "$T" threads
scenario 10khz-timers 1 PROFREG_CLOCK=timer -- "$T" threads
scenario deep-recursion 1 -- "$T" recurse 20000
scenario deep-recursion-slow 1 PROFREG_UNWIND=slow -- "$T" recurse 20000
scenario blocked-sigprof 1 -- "$T" block_sigprof
scenario own-sigprof 1 -- "$T" own_sigprof
scenario fork 2 -- "$T" fork
scenario vfork-exec 2 -- "$T" vfork exec
scenario vfork-_exit 1 -- "$T" vfork _exit
scenario posix_spawn 5 -- "$T" spawn
scenario clone-thread 1 -- "$T" clone
scenario clone-process 2 -- "$T" rawclone thread
scenario dlopen-loop 1 -- "$T" dlopen_threads "$PLUGIN" 300
scenario cxx-exceptions 1 -- "$BUILD/workloads/exceptions"
scenario longjmp 1 -- "$T" longjmp
scenario close_range 2 -- "$T" closefds
scenario close_range-raw 1 -- "$T" fdreuse syscall
REPEAT=6 scenario _exit-in-handler "?" -- "$T" exit_in_handler _exit
REPEAT=6 scenario exit-in-handler "?" -- "$T" exit_in_handler exit
scenario sigterm 1 -- "$T" end SIGTERM
scenario small-sigaltstack 1 -- "$T" altstack guard

# tiny RLIMIT_NOFILE: no descriptor for perf events (timers instead); the program's own
# descriptors unchanged (fds lists those below 512), its threads still run
for what in "fds" "threads"; do
    new_case "nofile-16-${what}"
    # shellcheck disable=SC2086
    (ulimit -n 16 && run_plain "$T" $what && echo "$PLAIN_STATUS" >"$CASE/plain.status")
    PLAIN_STATUS=$(cat "$CASE/plain.status")
    # shellcheck disable=SC2086
    (ulimit -n 16 && run_prof -- "$T" $what && echo "$PROF_STATUS" >"$CASE/prof.status")
    PROF_STATUS=$(cat "$CASE/prof.status")
    same_behaviour && expect_profiles "$CASE/out" 1 && pass "$PROFILES profiles"
done

# ---- where the profile goes -------------------------------------------------------------------

# the working directory removed by the program: not created again, one line
new_case cwd-deleted
run_plain "$T" startdir rmdir
mkdir -p "$CASE/cwd"
(cd "$CASE/cwd" && exec timeout -s KILL "$RUN_LIMIT" env LD_PRELOAD="$LIB" PROFREG_FREQUENCY=10000 \
    "$T" startdir rmdir >"$CASE/out.prof" 2>"$CASE/err.prof")
PROF_STATUS=$?
if same_behaviour && expect_no_profile "$CASE" "no longer exists"; then
    if [ -e "$CASE/cwd" ]; then
        fail "the removed working directory was created again"
    else
        pass "no profile, one line"
    fi
fi

# ... and with an absolute output directory, the profile is written
new_case cwd-deleted-absolute
run_plain "$T" startdir rmdir
mkdir -p "$CASE/cwd"
run_prof -- "$T" startdir rmdir
same_behaviour && expect_profiles "$CASE/out" 1 && pass "$PROFILES profiles"

# eight processes writing into one directory at once
new_case 8-writers
run_plain "$T" end exit
for i in 1 2 3 4 5 6 7 8; do
    (cd "$CASE/cwd" && timeout -s KILL "$RUN_LIMIT" env LD_PRELOAD="$LIB" PROFREG_OUTPUT="$CASE/out/" \
        PROFREG_FREQUENCY=10000 "$T" end exit >"$CASE/out.$i" 2>"$CASE/err.$i"
    echo $? >"$CASE/status.$i") &
done
wait
ok=1
for i in 1 2 3 4 5 6 7 8; do
    cp "$CASE/out.$i" "$CASE/out.prof"
    cp "$CASE/err.$i" "$CASE/err.prof"
    PROF_STATUS=$(cat "$CASE/status.$i")
    same_behaviour || ok=0
done
if [ $ok = 1 ] && expect_profiles "$CASE/out" 8; then
    pids=$(for f in "$CASE"/out/profile_*.json; do grep -o '"pid": *[0-9]*' "$f" | head -n 1; done |
        sort -u | wc -l)
    if [ "$PROFILES" = 8 ] && [ "$pids" = 8 ]; then pass "8 profiles, 8 pids"; else
        fail "$PROFILES profiles of $pids pids, expected 8 of 8"
    fi
fi

# A read-only and a full file system: a tmpfs in a private mount namespace (mounted read-only,
# or filled up). Unprivileged users get the read-only case from a directory without write
# permission instead.
can_mount=0
mkdir -p "$WORK/probe"
if unshare -m sh -c "mount -t tmpfs -o size=64k tmpfs '$WORK/probe'" 2>/dev/null; then
    can_mount=1
fi

# prof_in_tmpfs OPTIONS FILL -- CMD...: the preloaded run, its output directory a fresh tmpfs
# (in a private mount namespace, gone with it) mounted with OPTIONS, filled up first when FILL
# is 1; what the tmpfs held afterwards is listed in $CASE/left.
prof_in_tmpfs() {
    local opts=$1 fill=$2
    shift 3
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    (cd "$CASE/cwd" && exec timeout -s KILL "$RUN_LIMIT" unshare -m sh -c '
        dir=$1 opts=$2 fill=$3 left=$4; shift 4
        mount -t tmpfs -o "$opts" tmpfs "$dir" || exit 99
        [ "$fill" = 1 ] && dd if=/dev/zero of="$dir/fill" bs=4k 2>/dev/null
        env LD_PRELOAD="$LIB" PROFREG_OUTPUT="$dir/" PROFREG_FREQUENCY=10000 "$@"
        status=$?
        ls -A "$dir" | grep -vx fill >"$left"
        exit $status
        ' sh "$CASE/out" "$opts" "$fill" "$CASE/left" "$@" >"$CASE/out.prof" 2>"$CASE/err.prof")
    PROF_STATUS=$?
}

# nothing_left: the tmpfs held nothing but the filling after the run.
nothing_left() {
    if [ -s "$CASE/left" ]; then
        fail "left in the output directory: $(head -n 3 "$CASE/left" | tr '\n' ' ')"
        return 1
    fi
    return 0
}

new_case output-read-only
run_plain "$T" threads
if [ $can_mount = 1 ]; then
    prof_in_tmpfs ro,size=64k 0 -- "$T" threads
    same_behaviour && nothing_left &&
        expect_no_profile "$CASE/out" "(Read-only file system|Permission denied)" &&
        pass "no profile, one line"
elif [ "$(id -u)" != 0 ]; then
    chmod 555 "$CASE/out"
    run_prof -- "$T" threads
    same_behaviour && expect_no_profile "$CASE/out" "Permission denied" && pass "no profile, one line"
else
    skip "needs a private mount namespace (unshare -m) as root"
fi

new_case output-full
run_plain "$T" threads
if [ $can_mount = 1 ]; then
    prof_in_tmpfs size=64k 1 -- "$T" threads
    same_behaviour && nothing_left && expect_no_profile "$CASE/out" "No space left on device" &&
        pass "no profile, one line"
else
    skip "needs a private mount namespace (unshare -m) to fill a file system"
fi

printf 'stress: %d passed, %d failed, %d skipped in %d ms\n' "$passed" "$failed" "$skipped" \
    "$(ms_since "$start_all")"
[ "$failed" = 0 ]
