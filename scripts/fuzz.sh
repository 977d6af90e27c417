#!/usr/bin/env bash
# Runs each libFuzzer target of a sanitizer build (make build-sanitize) for
# SECONDS, starting from seeds taken from the repository's fixtures, and
# ends with one line per target: executions, corpus size, findings.
#
#   scripts/fuzz.sh BUILD SECONDS [TARGET...]     (TARGET: gguf, config, ...)
#
# The corpus grows in BUILD/fuzz/corpus/TARGET between runs; an input that
# crashes, leaks, times out or breaks a target's contract is written to
# BUILD/fuzz/findings/ and the script exits 1. Turn each finding into a
# regression input in fuzz/regressions/TARGET/ (test/Fuzz runs them).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: fuzz.sh BUILD SECONDS [TARGET...]}" && pwd)
seconds=${2:?usage: fuzz.sh BUILD SECONDS [TARGET...]}
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] &&
  targets=(safetensors gguf tokenizer chat-template artifact config run-options)

fuzz=$build/fuzz
mkdir -p "$fuzz/findings"

# seed TARGET FILE...: copies fixtures into the target's seed folder.
seed() {
  local dir=$fuzz/seeds/$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | sed "s|$root/||; s|/|_|g")"
  done
}
rm -rf "$fuzz/seeds"
small() { find "$@" -size -256k -type f; }
seed safetensors $(small "$root/test" "$root/models/golden" -name '*.safetensors')
seed gguf "$root"/test/Import/Inputs/gguf/*.gguf
seed tokenizer "$root"/test/Runtime/Inputs/tokenizers/*/tokenizer.json
seed chat-template $(find "$root/test" -name '*.jinja')
seed config "$root"/models/golden/*/config.json "$root"/test/Import/Inputs/*/config.json
# An artifact compiled here, as it is (first byte 0) and to be re-sealed
# after mutation (first byte 1); see fuzz/ArtifactFuzzer.cpp.
mkdir -p "$fuzz/seeds/artifact"
if "$build/bin/lmc" compile "$root/test/Import/Inputs/tiny-llama" \
    -o "$fuzz/tiny-llama.lmx" 2>/dev/null; then
  { printf '\0'; cat "$fuzz/tiny-llama.lmx"; } > "$fuzz/seeds/artifact/as-is"
  { printf '\1'; cat "$fuzz/tiny-llama.lmx"; } > "$fuzz/seeds/artifact/resealed"
fi
# lmc-run: arguments (0), --prompt-ids text (1), an --input file (2).
mkdir -p "$fuzz/seeds/run-options"
printf '\0m.lmx\0--prompt-ids\0001,2,3\0--max-new-tokens\0008' \
  > "$fuzz/seeds/run-options/prompt-ids"
printf '\0m.lmx\0--prompt\0Hi\0--chat\0--system\0Be brief\0--stop\0.\0--temperature\0000.7' \
  > "$fuzz/seeds/run-options/chat"
printf '\0m.lmx\0--input\0in.safetensors\0--compare\0ref.safetensors\0--tolerance\0001e-4' \
  > "$fuzz/seeds/run-options/input"
printf '\0m.lmx\0--bench\0--bench-batch\0004\0--device\0cuda' \
  > "$fuzz/seeds/run-options/bench"
printf '\00012,7,123456789' > "$fuzz/seeds/run-options/ids"
for f in "$root"/test/Runtime/Inputs/*.safetensors "$root"/test/E2E/Inputs/*.safetensors; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 65536 ] &&
    { printf '\2'; cat "$f"; } > "$fuzz/seeds/run-options/$(basename "$f")"
done

status=0
for t in "${targets[@]}"; do
  bin=$fuzz/lmc-fuzz-$t
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is missing (make build-sanitize)" >&2
    exit 2
  fi
  corpus=$fuzz/corpus/$t
  mkdir -p "$corpus"
  regressions=$root/fuzz/regressions/$t
  dirs=("$corpus" "$fuzz/seeds/$t")
  [ -d "$regressions" ] && dirs+=("$regressions")
  log=$fuzz/$t.log
  # Timeouts and memory: a parser of a downloaded file must stay fast and
  # small whatever the file says (inputs are at most 256 KB: no single
  # allocation of 256 MB is warranted).
  # User poisoning off: see test/lit.cfg.py (LLVM is not instrumented).
  ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=1} \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=256 \
    -max_len=262144 -print_final_stats=1 -artifact_prefix="$fuzz/findings/$t-" \
    "${dirs[@]}" >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  files=$(ls "$corpus" | wc -l)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: ${runs:-0} executions in ${seconds} s, corpus $files, no findings"
  else
    status=1
    echo "fuzz $t: FINDING after ${runs:-?} executions (exit $rc), see $log:"
    grep -E 'ERROR|SUMMARY|contract broken|Test unit written' "$log" | head -5
  fi
done
exit $status
