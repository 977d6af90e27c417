#!/usr/bin/env bash
# Runs the lit suite and ends with one plain "lit: N passed, N failed" line.
set -uo pipefail
build=${1:-build}
lit=/usr/lib/llvm-22/bin/lit
log=$(mktemp)
"$lit" -sv "$build/test" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -oE '^ *Passed *: *[0-9]+' "$log" | grep -oE '[0-9]+' | tail -1)
failed=$(grep -oE '^ *Failed *: *[0-9]+' "$log" | grep -oE '[0-9]+' | tail -1)
rm -f "$log"
echo "lit: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
