#!/usr/bin/env bash
# Runs every golden model on the GPU the way test/E2E runs it on the host
# (logits vs transformers within 1e-3, token-by-token decode vs prefill,
# greedy ids), with no LLVM tools needed: for a GPU machine that has only
# the built runtime. The lit suite's test/GPU/Run does the same where lit and
# FileCheck are installed (REQUIRES: cuda-sm90).
#
#   scripts/gpu-goldens.sh ARTIFACT_DIR [LMC_RUN]
#   DTYPE=bf16 scripts/gpu-goldens.sh ARTIFACT_DIR [LMC_RUN]
#   DTYPE=bf16kv scripts/gpu-goldens.sh ARTIFACT_DIR [LMC_RUN]
#
# ARTIFACT_DIR holds <model>.lmx compiled with `lmc compile --target sm_90a`;
# a missing one is compiled with build/bin/lmc (on the compiler machine).
# Prints one line per model and a summary; exit status 1 if any model fails.
#
# With DTYPE=bf16 the artifacts are <model>.bf16.lmx (sm_90a) and
# <model>.bf16.host.lmx (host), both --dtype bf16: the same arithmetic, so
# the GPU is checked against the host phase by phase (the prefill's logits
# within 5e-3, token-by-token decode's within 5e-3 of the host's decode:
# --compare-decode; MLA's two phases differ by bf16 roundings, its decode
# being the absorbed form, test/E2E/mla-prompt.test; greedy ids equal to
# the host's), and the distance to the f32 reference is printed for the
# record. DTYPE=bf16kv checks
# <model>.bf16kv.lmx (sm_90a, --dtype bf16 --kv-dtype bf16) against the same
# host reference: a bf16 KV cache changes no result under --dtype bf16.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: gpu-goldens.sh ARTIFACT_DIR [LMC_RUN]}
run=${2:-$here/build/bin/lmc-run}
goldens=$here/models/golden
mkdir -p "$dir"
passed=0 failed=0
dtype=${DTYPE:-f32}
for test in "$here"/test/E2E/*.test; do
  model=$(basename "$test" .test)
  [ -f "$goldens/$model/reference.safetensors" ] || continue
  ref=$goldens/$model/reference.safetensors
  ids=$(sed -n 's/.*--prompt-ids \([0-9,]*\).*/\1/p' "$test")
  new=$(sed -n 's/.*--max-new-tokens \([0-9]*\).*/\1/p' "$test")
  want=$(sed -n 's/^# GREEDY: {{^}}\(.*\){{\$}}$/\1/p' "$test")
  if [ "$dtype" = bf16 ] || [ "$dtype" = bf16kv ]; then
    artifact=$dir/$model.$dtype.lmx host=$dir/$model.bf16.host.lmx
    kv=f32
    [ "$dtype" = bf16kv ] && kv=bf16
    [ -f "$artifact" ] || "$here/build/bin/lmc" compile "$goldens/$model" \
      --target sm_90a --dtype bf16 --kv-dtype $kv -o "$artifact"
    [ -f "$host" ] || "$here/build/bin/lmc" compile "$goldens/$model" \
      --dtype bf16 -o "$host"
    [ -f "$host" ] || { echo "$model: FAIL (compile)"; failed=$((failed + 1)); continue; }
    "$run" "$host" --weights "$goldens/$model" --input "$ref" --check-decode \
      --tolerance 1 --output "$dir/$model.bf16.host.safetensors" >/dev/null 2>&1
    want=$("$run" "$host" --weights "$goldens/$model" --prompt-ids "$ids" \
      --max-new-tokens "$new" 2>&1)
    versus_f32=$("$run" "$artifact" --device cuda --weights "$goldens/$model" \
      --input "$ref" --compare "$ref" --tolerance 1 2>&1 | sed -n 's/^logits: .*= \([^ ]*\) .*/\1/p')
    ref=$dir/$model.bf16.host.safetensors
    tolerance=5e-3 decode=--compare-decode
  else
    artifact=$dir/$model.lmx
    [ -f "$artifact" ] || "$here/build/bin/lmc" compile "$goldens/$model" \
      --target sm_90a -o "$artifact" || {
      echo "$model: FAIL (compile)"; failed=$((failed + 1)); continue; }
    tolerance=1e-3 decode=--check-decode
  fi
  numerics=$("$run" "$artifact" --device cuda --weights "$goldens/$model" \
    --input "$goldens/$model/reference.safetensors" \
    --compare "$ref" "$decode" --tolerance "$tolerance" 2>&1)
  greedy=$("$run" "$artifact" --device cuda --weights "$goldens/$model" \
    --prompt-ids "$ids" --max-new-tokens "$new" 2>&1)
  logits=$(echo "$numerics" | grep '^logits:' | sed 's/.*= \([^ ]*\) .*/\1/')
  decoded=$(echo "$numerics" | grep '^decode' | sed 's/.*= \([^ ]*\) .*/\1/')
  extra=${versus_f32:+, vs the f32 reference $versus_f32}
  if [ "$(echo "$numerics" | grep -c ': ok$')" = 2 ] && [ "$greedy" = "$want" ]; then
    echo "$model: ok (logits $logits, decode $decoded, greedy ids equal$extra)"
    passed=$((passed + 1))
  else
    echo "$model: FAIL$extra"
    echo "$numerics" | sed 's/^/    /'
    echo "    greedy: got '$greedy', want '$want'"
    failed=$((failed + 1))
  fi
done
echo "gpu goldens ($dtype): $passed passed, $failed failed"
[ "$failed" = 0 ]
