#!/usr/bin/env bash
# Runs every golden model on the GPU the way test/E2E runs it on the host
# (logits vs transformers within 1e-3, token-by-token decode vs prefill,
# greedy ids), with no LLVM tools needed: for a GPU machine that has only
# the built runtime. The lit suite's test/GPU does the same where lit and
# FileCheck are installed (REQUIRES: cuda-driver).
#
#   scripts/gpu-goldens.sh ARTIFACT_DIR [LMC_RUN]
#
# ARTIFACT_DIR holds <model>.lmx compiled with `lmc compile --target sm_90a`;
# a missing one is compiled with build/bin/lmc (on the compiler machine). Prints one line per model and a summary; exit status 1
# if any model fails.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: gpu-goldens.sh ARTIFACT_DIR [LMC_RUN]}
run=${2:-$here/build/bin/lmc-run}
goldens=$here/models/golden
mkdir -p "$dir"
passed=0 failed=0
for test in "$here"/test/E2E/*.test; do
  model=$(basename "$test" .test)
  [ -f "$goldens/$model/reference.safetensors" ] || continue
  artifact=$dir/$model.lmx
  if [ ! -f "$artifact" ]; then
    "$here/build/bin/lmc" compile "$goldens/$model" --target sm_90a -o "$artifact" || {
      echo "$model: FAIL (compile)"; failed=$((failed + 1)); continue; }
  fi
  ids=$(sed -n 's/.*--prompt-ids \([0-9,]*\).*/\1/p' "$test")
  new=$(sed -n 's/.*--max-new-tokens \([0-9]*\).*/\1/p' "$test")
  want=$(sed -n 's/^# GREEDY: {{^}}\(.*\){{\$}}$/\1/p' "$test")
  numerics=$("$run" "$artifact" --device cuda --weights "$goldens/$model" \
    --input "$goldens/$model/reference.safetensors" \
    --compare "$goldens/$model/reference.safetensors" --check-decode 2>&1)
  greedy=$("$run" "$artifact" --device cuda --weights "$goldens/$model" \
    --prompt-ids "$ids" --max-new-tokens "$new" 2>&1)
  logits=$(echo "$numerics" | grep '^logits:' | sed 's/.*= \([^ ]*\) .*/\1/')
  decode=$(echo "$numerics" | grep '^decode vs prefill:' | sed 's/.*= \([^ ]*\) .*/\1/')
  if [ "$(echo "$numerics" | grep -c ': ok$')" = 2 ] && [ "$greedy" = "$want" ]; then
    echo "$model: ok (logits $logits, decode $decode, greedy ids equal)"
    passed=$((passed + 1))
  else
    echo "$model: FAIL"
    echo "$numerics" | sed 's/^/    /'
    echo "    greedy: got '$greedy', want '$want'"
    failed=$((failed + 1))
  fi
done
echo "gpu goldens: $passed passed, $failed failed"
[ "$failed" = 0 ]
