#!/bin/sh
# SPDX-License-Identifier: MIT
# check-layers.sh — the include rules that keep the link boundaries true (run by make lint):
#   src/core/       linked into the preload and the CLI: includes core/ only
#   src/symbolize/  linked into the preload only (libdw): core/ and symbolize/
#   preload/        the preload: core/, symbolize/ and its own headers
#   src/analysis/   the CLI's reading, judging, rendering, exporting: core/ and analysis/
#   src/cli/        the commands: core/, analysis/ and cli/
# A quoted include that names a layer it may not use is reported with its file and line.
cd "$(dirname "$0")/.." || exit 2
fail=0
check() { # $1 = directory, $2 = allowed layer prefixes (regex alternation)
    out=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(core|symbolize|analysis|cli|preload)/' \
              --include='*.c' --include='*.h' "$1" | grep -vE "#[[:space:]]*include[[:space:]]*\"($2)/")
    if [ -n "$out" ]; then
        printf '%s\n' "$out" | sed "s|\$|   <- $1 may include only: $2|"
        fail=1
    fi
}
check src/core 'core'
check src/symbolize 'core|symbolize'
check preload 'core|symbolize'
check src/analysis 'core|analysis'
check src/cli 'core|analysis|cli'
# preload's own headers are included without a prefix; nothing outside preload/ may use them
out=$(grep -rnE '#[[:space:]]*include[[:space:]]*"(\.\./)*preload/' src) && { printf '%s\n' "$out"; fail=1; }
[ $fail -eq 0 ] && echo "check-layers: every include respects the link boundaries"
exit $fail
