#!/bin/sh
# SPDX-License-Identifier: MIT
# check-handler.sh — no assert in code that runs in a signal handler (run by make lint).
# assert() is compiled in everywhere (profreg never defines NDEBUG: the CLI, the tests and the
# preload's ordinary code check their invariants), but a failing assert prints with stdio and
# aborts: not async-signal-safe. So a function whose body says it runs in the SIGPROF handler
# or in a signal handler ("runs in the SIGPROF handler", "runs in a signal handler",
# "async-signal-safe") may not contain one. Function bodies are the lines from a "{" to a "}"
# in the first column (the tree's clang-format style).
cd "$(dirname "$0")/.." || exit 2
out=$(awk '
    FNR == 1 { body = 0 }
    /^\{/ { body = 1; marked = 0; start = FNR; n = 0; next }
    body && /runs in the SIGPROF handler|runs in a signal handler|async-signal-safe/ { marked = 1 }
    body && /(^|[^_a-z])assert[ ]*\(/ { hits[n++] = FILENAME ":" FNR ": " $0 }
    /^\}/ { if (marked) for (i = 0; i < n; i++) print hits[i]; body = 0 }
' preload/*.c src/core/*.c src/symbolize/*.c)
if [ -n "$out" ]; then
    printf '%s\n' "$out" | sed 's|$|   <- assert in code that runs in a signal handler|'
    exit 1
fi
echo "check-handler: no assert in signal-handler code"
