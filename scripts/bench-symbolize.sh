#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-symbolize.sh BUILD_DIR — what `make bench` measures of symbolization; nothing here is a test.
#
# 1. Time at exit of one program (a Python interpreter whose libpython carries full DWARF) with
#    a cold symbol cache (each run starts with an empty PROFREG_CACHE_DIR, so it also copies
#    compressed debug files such as libc6-dbg's uncompressed), as a first run on a used
#    machine (symbols/ empty, those copies kept), with the cache off (none), and warm (the
#    cache filled by earlier runs of the same program): medians of 5.
# 2. The libpython addresses those runs sampled (one per range of its symbol cache file: the
#    range's first byte, which resolves to the same frames as the sampled address inside it),
#    resolved by profreg's symbolizer (build/symbolize_bench, the preload's code: libdw alone,
#    then from a warm cache), binutils `addr2line -f -i -C`, `eu-addr2line -f -i -C` and
#    `llvm-symbolizer`: wall ms and peak RSS of each whole process (GNU time), medians of 3.
# 3. A small C workload whose samples hit the same instructions every run: cold and warm.
set -eu

build=${1:-build}
build=$(cd "$build" && pwd)
lib="$build/libprofreg.so"
drv="$build/symbolize_bench"
runs=${BENCH_RUNS:-5}
out="$build/bench-symbolize"
rm -rf "$out"
mkdir -p "$out"

python=${PROFREG_BENCH_PYTHON:-}
if [ -z "$python" ]; then # the one whose libpython is largest
    best=0
    for p in /root/.pyenv/versions/*/bin/python3 /usr/local/bin/python3; do
        lp=$(ls "$(dirname "$p")"/../lib/libpython3*.so.1.0 2>/dev/null | head -n 1)
        size=$([ -x "$p" ] && [ -n "$lp" ] && stat -L -c %s "$lp" || echo 0)
        if [ "$size" -gt "$best" ]; then python=$p; best=$size; fi
    done
fi
if [ -z "$python" ]; then
    echo "(no Python built with shared libpython and -g found; set PROFREG_BENCH_PYTHON)"
    exit 0
fi
libpy=$(ls "$(dirname "$python")"/../lib/libpython3*.so.1.0 | head -n 1)
libpy=$(cd "$(dirname "$libpy")" && pwd)/$(basename "$libpy")
id=$(readelf -n "$libpy" | sed -n 's/.*Build ID: *//p')

cat >"$out/pywork.py" <<'EOF'
import json, re, decimal, fractions, collections, heapq, textwrap, difflib
def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)
fib(24)
[json.loads(json.dumps({"a": list(range(500)), "b": {"c": "d" * 50}})) for _ in range(200)]
[re.sub("a+", "b", "a" * 100 + "c") for _ in range(10000)]
decimal.getcontext().prec = 60
sum(decimal.Decimal(1) / decimal.Decimal(k) for k in range(1, 20000))
sum(fractions.Fraction(1, k) for k in range(1, 400))
collections.Counter(str(i % 97) for i in range(200000)).most_common(5)
h = list(range(100000, 0, -1)); heapq.heapify(h); [heapq.heappop(h) for _ in range(50000)]
sorted(str(i * 7919 % 10007) for i in range(100000))
textwrap.fill(" ".join(str(i) for i in range(20000)), 40)
list(difflib.unified_diff([str(i) for i in range(3000)], [str(i * 2) for i in range(3000)]))
EOF

# "(N ms at exit)" of one run of the program (default: the Python workload) with a cache dir
exit_ms() {
    cache=$1
    shift
    [ $# -gt 0 ] || set -- "$python" "$out/pywork.py"
    env PROFREG_CACHE_DIR="$cache" PROFREG_OUTPUT="$out/prof/" LD_PRELOAD="$lib" "$@" 2>&1 \
        >/dev/null | sed -n 's/^profreg: wrote .* (\([0-9]*\) ms at exit.*/\1/p'
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "n/a")}'; }
last_summary() { # hits misses symbolize_ms of the newest profile
    python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['summary']; print(s.get('symbol_cache_hits'), s.get('symbol_cache_misses'), s.get('symbolize_ms'))" \
        "$(ls "$out"/prof/profile_*.json | tail -n 1)"
}

echo "== time at exit: $python ($(basename "$libpy"), $(du -m "$libpy" | cut -f1) MB with DWARF), median of $runs runs"
i=0
: >"$out/cold.txt"
: >"$out/first.txt"
: >"$out/none.txt"
while [ $i -lt "$runs" ]; do
    rm -rf "$out/cold-cache"
    exit_ms "$out/cold-cache" >>"$out/cold.txt"
    rm -rf "$out/cold-cache/symbols" # the debug copies stay: a new binary on a used machine
    exit_ms "$out/cold-cache" >>"$out/first.txt"
    exit_ms none >>"$out/none.txt"
    exit_ms "$out/cache" >/dev/null # fills the shared cache: later runs are warm
    i=$((i + 1))
done
i=0
: >"$out/warm.txt"
while [ $i -lt "$runs" ]; do
    exit_ms "$out/cache" >>"$out/warm.txt"
    i=$((i + 1))
done
printf '%-44s %8s\n' "symbol cache" "exit ms"
printf '%-44s %8s\n' "cold (empty PROFREG_CACHE_DIR)" "$(median <"$out/cold.txt")"
printf '%-44s %8s\n' "first run (symbols/ empty, debug copies kept)" "$(median <"$out/first.txt")"
printf '%-44s %8s\n' "off (PROFREG_CACHE_DIR=none)" "$(median <"$out/none.txt")"
printf '%-44s %8s\n' "warm (after $runs runs of the same program)" "$(median <"$out/warm.txt")"
set -- $(last_summary)
echo "last warm run: $1 addresses from the cache, $2 resolved with libdw (new addresses sampled)"

# a program whose samples fall on the same few instructions every run: served whole when warm
small="$build/workloads/inline"
if [ -x "$small" ]; then
    : >"$out/small-cold.txt"
    : >"$out/small-warm.txt"
    i=0
    while [ $i -lt "$runs" ]; do
        rm -rf "$out/small-cache"
        exit_ms "$out/small-cache" "$small" >>"$out/small-cold.txt"
        exit_ms "$out/small-cache" "$small" >/dev/null
        exit_ms "$out/small-cache" "$small" >>"$out/small-warm.txt"
        i=$((i + 1))
    done
    set -- $(last_summary)
    echo "C workload ($(basename "$small")): cold $(median <"$out/small-cold.txt") ms, warm" \
        "$(median <"$out/small-warm.txt") ms at exit (last run: $1 from the cache, $2 with libdw)"
fi

file="$out/cache/symbols/$id"
if [ ! -f "$file" ]; then
    echo "no symbol cache file for $libpy (build-id $id): nothing to compare"
    exit 0
fi
# the first offset of every record (docs/formats.md, symbol cache files: magic 24 bytes, five
# u64 sizes, the identity padded to 8, then records of u64 offset, u32 length, u32 first frame,
# u32 frames, u32 padding)
python3 - "$file" >"$out/offsets.txt" <<'PYEOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b.startswith(b"profreg-symcache 5\n"), "not a profreg-symcache 5 file"
idlen, nrec, _, _, _ = struct.unpack_from("=5Q", b, 24)
pos = 24 + 40 + (idlen + 7) // 8 * 8
for k in range(nrec):
    off, = struct.unpack_from("=Q", b, pos + 24 * k)
    print("%x" % off)
PYEOF
"$drv" --vaddrs "$libpy" "$out/offsets.txt" >"$out/vaddrs.txt"
n=$(wc -l <"$out/vaddrs.txt")

# wall ms and peak RSS (GNU time) of a command reading addresses on stdin: medians of 3 runs
measure() {
    : >"$out/t.txt"
    for r in 1 2 3; do
        t0=$(date +%s%N)
        /usr/bin/time -f '%M' -o "$out/t1.txt" "$@" <"$out/vaddrs.txt" >/dev/null 2>"$out/err.txt"
        t1=$(date +%s%N)
        echo "$(((t1 - t0) / 1000000)) $(tail -n 1 "$out/t1.txt")" >>"$out/t.txt"
    done
    ms=$(cut -d' ' -f1 <"$out/t.txt" | median)
    kb=$(cut -d' ' -f2 <"$out/t.txt" | median)
    printf '%-44s %9s %12s\n' "$label" "$ms" "$((kb / 1024))"
}

echo
echo "== $n addresses in $(basename "$libpy") (one per sampled range of the cache), resolved with inline chains and demangling"
echo "   (median of 3 runs of each whole process; peak RSS from GNU time)"
printf '%-44s %9s %12s\n' "symbolizer" "wall ms" "peak RSS MB"
label="profreg (libdw, no cache)"
measure "$drv" --cache none "$libpy" "$out/offsets.txt"
"$drv" --cache "$out/drv-cache" "$libpy" "$out/offsets.txt" 2>/dev/null
label="profreg (warm symbol cache)"
measure "$drv" --cache "$out/drv-cache" "$libpy" "$out/offsets.txt"
label="binutils addr2line -f -i -C"
measure addr2line -f -i -C -e "$libpy"
label="eu-addr2line -f -i -C"
measure eu-addr2line -f -i -C -e "$libpy"
label="llvm-symbolizer"
measure llvm-symbolizer --obj="$libpy" --inlining --demangle
echo "note: profreg's processes also dlopen $(basename "$libpy") to resolve it as the preload does;"
echo "      its in-process time: $("$drv" --cache none "$libpy" "$out/offsets.txt" 2>&1 >/dev/null | sed -n 's/.* in \([0-9.]* ms\).*/\1/p') (libdw), $("$drv" --cache "$out/drv-cache" "$libpy" "$out/offsets.txt" 2>&1 >/dev/null | sed -n 's/.* in \([0-9.]* ms\).*/\1/p') (cache)"
