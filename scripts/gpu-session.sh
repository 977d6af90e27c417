#!/usr/bin/env bash
# Everything a session with a GPU should check, in few device calls: build
# and compile here (no GPU needed), run there.
#
#   scripts/gpu-session.sh prepare            # here, after `make`
#   scripts/gpu-session.sh goldens            # on the GPU machine, from the
#   scripts/gpu-session.sh sanitizer          #   repository root, with .gpu/
#   scripts/gpu-session.sh bench              #   carried along (it is ignored
#   scripts/gpu-session.sh all                #   by git)
#
# prepare: .gpu/bin holds lmc-run and liblmc_rt.so, .gpu/lmx.tar.xz the
#   artifacts: every golden model for sm_90a in f32 (<model>.lmx), bf16
#   (<model>.bf16.lmx), bf16 over a bf16 KV cache (<model>.bf16kv.lmx) and
#   bf16 on the host (<model>.bf16.host.lmx, the reference the GPU's bf16 is
#   held to), and the bench/ models in f32 and bf16 (from header-only
#   checkpoints; in bf16 also with --kernels generic, the A/B of the kernels
#   chosen on lm ops; Qwen3-0.6B also over a bf16 KV cache), and
#   .gpu/plan.txt: each bench
#   artifact's launches per prefill and decode step at batch 1 and 32
#   (lmc inspect --plan, traced without a GPU). Fails if the bundle passes
#   the device tool's 64 MiB.
# goldens: scripts/gpu-goldens.sh in f32 (1e-3 against transformers) and in
#   bf16 (5e-3 against the host's bf16), one line per model.
#   Then the wgmma tile's batch (8 x 24 tokens, bf16) against numpy, the f32
#   model over a bf16 KV cache against numpy, and every golden in bf16 over
#   a bf16 KV cache against the same host bf16.
# sanitizer: compute-sanitizer memcheck on an MLA + MoE model (deepseek_v3),
#   a bf16 tensor-core prompt (qwen3, 20 tokens) and sinks with a sliding
#   window (gpt_oss), prefill and decode (flash decoding in the last two),
#   deepseek_v3 in bf16 (its prompt's experts as grouped GEMMs), and the
#   wgmma tile's batch.
# bench: bench/run.py, lmc against transformers on the same GPU (add
#   --compiled-anchor by hand for the torch.compile + CUDA graph anchor:
#   its compilation does not fit the `all` call).
# all: one device call: goldens and the sanitizer side by side, then the
#   bench, then bench/profile_step.py (ncu) on a one-token step of the
#   bf16 and f32 Qwen3-0.6B shape, then bench/attention_decode.py (flash
#   decoding at contexts 4096 and 1024 against SDPA; again over a bf16 KV
#   cache), then
#   bench/gemm_prefill.py (the wgmma tiles of a 32 x 128-token prefill
#   against cuBLAS), then bench/attention_prefill.py (flash attention of
#   1 x 4096 and 32 x 128-token prefills against SDPA, the Qwen3-0.6B
#   shape, then DeepSeek-V2-Lite-4l's MLA prompt form), then
#   bench/experts_prefill.py (the grouped experts of a 4096-token
#   DeepSeek-V2-Lite-4l prefill against torch._grouped_mm); each phase under a
#   time limit; the results as data in $OUT/results.json (bench/results/
#   keeps them).
# Logs go to $OUT (the device tool brings them back) or .gpu/out.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
gpu=$here/.gpu
goldens=$here/models/golden
out=${OUT:-$gpu/out}

unpack() {
  [ -d "$gpu/lmx" ] || tar -xJf "$gpu/lmx.tar.xz" -C "$gpu"
  export LD_LIBRARY_PATH=$gpu/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  mkdir -p "$out"
}

case ${1:-} in
prepare)
  lmc=$here/build/bin/lmc
  rm -rf "$gpu" && mkdir -p "$gpu/bin" "$gpu/lmx"
  cp "$here/build/bin/lmc-run" "$here/build/lib/liblmc_rt.so" "$gpu/bin/"
  for dir in "$goldens"/*/; do
    model=$(basename "$dir")
    [ -f "$dir/reference.safetensors" ] || continue
    "$lmc" compile "$dir" --target sm_90a -o "$gpu/lmx/$model.lmx"
    "$lmc" compile "$dir" --target sm_90a --dtype bf16 -o "$gpu/lmx/$model.bf16.lmx"
    "$lmc" compile "$dir" --target sm_90a --dtype bf16 --kv-dtype bf16 \
      -o "$gpu/lmx/$model.bf16kv.lmx"
    "$lmc" compile "$dir" --dtype bf16 -o "$gpu/lmx/$model.bf16.host.lmx"
  done
  # The wgmma tile's numeric check: a batch of 192 prompt rows in bf16
  # against numpy (test/GPU/Run/bf16-batch.test).
  "$lmc" compile "$here/test/E2E/Inputs/bf16-batch/model" --target sm_90a --dtype bf16 \
    -o "$gpu/lmx/bf16-batch.bf16.lmx"
  # MLA at DeepSeek-V2-Lite's attention dims, its prompt on flash attention
  # (test/GPU/Run/mla-prompt.test).
  mla=$here/test/E2E/Inputs/mla-prompt/model
  "$lmc" compile "$mla" --target sm_90a --dtype bf16 -o "$gpu/lmx/mla-prompt.bf16.lmx"
  "$lmc" compile "$mla" --dtype bf16 -o "$gpu/lmx/mla-prompt.bf16.host.lmx"
  # f32 arithmetic over a bf16 KV cache against numpy (test/GPU/Run/bf16.test).
  "$lmc" compile "$here/test/E2E/Inputs/bf16/model" --target sm_90a --kv-dtype bf16 \
    -o "$gpu/lmx/bf16.f32kv.lmx"
  for config in "$here"/bench/configs/*/; do
    name=$(basename "$config")
    ckpt=$(mktemp -d)
    python3 "$here/bench/checkpoint.py" "$config" "$ckpt" --sparse >/dev/null
    "$lmc" compile "$ckpt" --target sm_90a -o "$gpu/lmx/$name.lmx"
    "$lmc" compile "$ckpt" --target sm_90a --dtype bf16 -o "$gpu/lmx/$name.bf16.lmx"
    # A bf16 KV cache: flash decoding's A/B (bench/attention_decode.py).
    if [ "$name" = qwen3-0.6b ]; then
      "$lmc" compile "$ckpt" --target sm_90a --dtype bf16 --kv-dtype bf16 \
        -o "$gpu/lmx/$name.bf16kv.lmx"
    fi
    # The same without kernel templates chosen on lm ops: the decode rows'
    # A/B for flash decoding (bench/run.py: generic_kernels_tokens_per_s).
    "$lmc" compile "$ckpt" --target sm_90a --dtype bf16 --kernels generic \
      -o "$gpu/lmx/$name.generic.bf16.lmx"
    # Where no template was chosen the two plans are the same: no device
    # time for the A/B.
    if cmp -s <("$lmc" inspect "$gpu/lmx/$name.bf16.lmx" --plan | tail -n +2) \
              <("$lmc" inspect "$gpu/lmx/$name.generic.bf16.lmx" --plan | tail -n +2); then
      rm "$gpu/lmx/$name.generic.bf16.lmx"
    fi
    rm -rf "$ckpt"
    # The launches of a prefill and a decode step, traced here (no GPU).
    for artifact in "$gpu/lmx/$name.lmx" "$gpu/lmx/$name.bf16.lmx"; do
      for batch in 1 32; do
        "$lmc" inspect "$artifact" --plan --plan-prompt 128 --plan-batch $batch |
          grep -v '^ '
      done
    done >> "$gpu/plan.txt"
  done
  tar -cJf "$gpu/lmx.tar.xz" -C "$gpu" lmx && rm -rf "$gpu/lmx"
  # What the artifacts were built from ("-dirty" with uncommitted changes).
  git -C "$here" describe --always --dirty > "$gpu/commit"
  bytes=$(du -cb "$gpu" | tail -1 | cut -f1)
  echo "prepared .gpu: $((bytes / 1048576)) MiB"
  [ "$bytes" -le $((64 * 1048576)) ] || { echo "over the 64 MiB carry limit" >&2; exit 1; }
  ;;
goldens)
  unpack
  status=0
  "$here/scripts/gpu-goldens.sh" "$gpu/lmx" "$gpu/bin/lmc-run" | tee "$out/goldens-f32.txt" || status=1
  DTYPE=bf16 "$here/scripts/gpu-goldens.sh" "$gpu/lmx" "$gpu/bin/lmc-run" | tee "$out/goldens-bf16.txt" || status=1
  batch=$here/test/E2E/Inputs/bf16-batch/reference.safetensors
  "$gpu/bin/lmc-run" "$gpu/lmx/bf16-batch.bf16.lmx" --device cuda --input "$batch" \
    --compare "$batch" --check-decode --tolerance 5e-3 2>&1 | tee "$out/goldens-wgmma.txt" || status=1
  kv=$here/test/E2E/Inputs/bf16/reference-kv-bf16.safetensors
  "$gpu/bin/lmc-run" "$gpu/lmx/bf16.f32kv.lmx" --device cuda --input "$kv" \
    --compare "$kv" --check-decode 2>&1 | tee "$out/goldens-f32kv.txt" || status=1
  DTYPE=bf16kv "$here/scripts/gpu-goldens.sh" "$gpu/lmx" "$gpu/bin/lmc-run" | tee "$out/goldens-bf16kv.txt" || status=1
  # MLA's prompt on flash attention (Dk 192, Dv 128) and its decode, each
  # against the host's bf16.
  mla=$here/test/E2E/Inputs/mla-prompt
  "$gpu/bin/lmc-run" "$gpu/lmx/mla-prompt.bf16.host.lmx" --weights "$mla/model" \
    --input "$mla/input.safetensors" --output /tmp/mla-host.safetensors --check-decode --tolerance 1 >/dev/null
  "$gpu/bin/lmc-run" "$gpu/lmx/mla-prompt.bf16.lmx" --device cuda --weights "$mla/model" \
    --input "$mla/input.safetensors" --compare /tmp/mla-host.safetensors --compare-decode \
    --tolerance 5e-3 2>&1 | tee "$out/goldens-mla.txt" || status=1
  exit $status
  ;;
sanitizer)
  unpack
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  status=0
  # deepseek_v3 in bf16: its 20-token prompt's experts as grouped GEMMs
  # (TMA copies past the sorted rows' end, tiles past the last) and its MLA
  # on flash attention (keys and values as views of kv_b's projection).
  for run in "deepseek_v3.lmx deepseek_v3" "deepseek_v3.bf16.lmx deepseek_v3" \
             "qwen3.bf16.lmx qwen3" "gpt_oss.lmx gpt_oss"; do
    set -- $run
    "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 \
      "$gpu/bin/lmc-run" "$gpu/lmx/$1" --device cuda --weights "$goldens/$2" \
      --prompt-ids 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20 \
      --max-new-tokens 4 2>&1 | tee "$out/sanitizer-$1.txt" || status=1
  done
  # MLA's prompt on flash attention: 49 KB of dynamic shared memory (opted
  # in), values read through a strided view of kv_b's projection.
  mla=$here/test/E2E/Inputs/mla-prompt
  "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 \
    "$gpu/bin/lmc-run" "$gpu/lmx/mla-prompt.bf16.lmx" --device cuda --weights "$mla/model" \
    --input "$mla/input.safetensors" --output /tmp/mla-sanitized.safetensors 2>&1 \
    | tee "$out/sanitizer-mla-prompt.txt" || status=1
  # The wgmma tile: TMA copies past the operands' ends, partial tiles.
  batch=$here/test/E2E/Inputs/bf16-batch/reference.safetensors
  "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 \
    "$gpu/bin/lmc-run" "$gpu/lmx/bf16-batch.bf16.lmx" --device cuda --input "$batch" \
    --compare "$batch" --tolerance 5e-3 2>&1 | tee "$out/sanitizer-bf16-batch.txt" || status=1
  exit $status
  ;;
bench)
  unpack
  python3 "$here/bench/run.py" --lmc-run "$gpu/bin/lmc-run" --artifacts "$gpu/lmx" \
    | tee "$out/bench.txt"
  ;;
all)
  unpack
  set +e # every phase runs and reports, whatever the one before it did
  commit=$(cat "$gpu/commit" 2>/dev/null || echo unknown)
  # A phase that fails must not leave an earlier call's data to be merged.
  rm -f /tmp/bench.json /tmp/profile-bf16.json /tmp/profile-f32.json /tmp/attention.json \
    /tmp/attention-kv.json \
    /tmp/gemm.json /tmp/attention-prefill.json /tmp/experts-prefill.json
  timeout 260 "$0" goldens > /dev/null 2>&1 &
  goldens_pid=$!
  timeout 200 "$0" sanitizer > /dev/null 2>&1 &
  sanitizer_pid=$!
  wait $goldens_pid; echo "goldens: exit $?"
  wait $sanitizer_pid; echo "sanitizer: exit $?"
  tail -n 1 "$out/goldens-f32.txt" "$out/goldens-bf16.txt" "$out/goldens-bf16kv.txt"
  cat "$out/goldens-wgmma.txt" "$out/goldens-f32kv.txt"
  grep -H "ERROR SUMMARY" "$out"/sanitizer-*.txt
  cp "$gpu/plan.txt" "$out/plan.txt" 2>/dev/null
  timeout 300 python3 "$here/bench/run.py" --lmc-run "$gpu/bin/lmc-run" \
    --artifacts "$gpu/lmx" --work /tmp/lmc-bench --keep \
    --json /tmp/bench.json --commit "$commit" > "$out/bench.txt" 2>&1
  echo "bench: exit $?"; tail -12 "$out/bench.txt"
  for dtype in bf16 f32; do
    artifact=$gpu/lmx/qwen3-0.6b.lmx
    [ $dtype = bf16 ] && artifact=$gpu/lmx/qwen3-0.6b.bf16.lmx
    timeout 60 python3 "$here/bench/profile_step.py" --lmc-run "$gpu/bin/lmc-run" \
      --artifact "$artifact" --weights /tmp/lmc-bench/qwen3-0.6b \
      --json "/tmp/profile-$dtype.json"
    echo "profile $dtype: exit $?"
  done > "$out/profile.txt" 2>&1
  cat "$out/profile.txt"
  # Decode attention at long contexts: flash decoding against SDPA.
  timeout 120 python3 "$here/bench/attention_decode.py" --lmc-run "$gpu/bin/lmc-run" \
    --artifact "$gpu/lmx/qwen3-0.6b.bf16.lmx" --weights /tmp/lmc-bench/qwen3-0.6b \
    --json /tmp/attention.json > "$out/attention.txt" 2>&1
  echo "attention: exit $?"; cat "$out/attention.txt"
  # The same over a bf16 KV cache: half the bytes to read.
  timeout 120 python3 "$here/bench/attention_decode.py" --lmc-run "$gpu/bin/lmc-run" \
    --artifact "$gpu/lmx/qwen3-0.6b.bf16kv.lmx" --weights /tmp/lmc-bench/qwen3-0.6b \
    --kv-dtype bf16 --no-anchor --json /tmp/attention-kv.json > "$out/attention-kv.txt" 2>&1
  echo "attention, bf16 cache: exit $?"; cat "$out/attention-kv.txt"
  # Prompt projections: the wgmma tiles of a 32 x 128-token prefill against
  # cuBLAS at the same shapes.
  timeout 90 python3 "$here/bench/gemm_prefill.py" --lmc-run "$gpu/bin/lmc-run" \
    --artifact "$gpu/lmx/qwen3-0.6b.bf16.lmx" --weights /tmp/lmc-bench/qwen3-0.6b \
    --batch 32 --prompt-tokens 128 --json /tmp/gemm.json > "$out/gemm.txt" 2>&1
  echo "gemm: exit $?"; cat "$out/gemm.txt"
  # Prompt attention: flash attention of 1 x 4096 and 32 x 128-token
  # prefills against SDPA (cuDNN, FlashAttention) at the same shapes.
  timeout 90 python3 "$here/bench/attention_prefill.py" --lmc-run "$gpu/bin/lmc-run" \
    --artifact "$gpu/lmx/qwen3-0.6b.bf16.lmx" --weights /tmp/lmc-bench/qwen3-0.6b \
    --json /tmp/attention-prefill.json > "$out/attention-prefill.txt" 2>&1
  echo "attention prefill: exit $?"; cat "$out/attention-prefill.txt"
  # MLA's prompt form on flash attention (DeepSeek-V2-Lite: Dk 192, Dv 128,
  # 16 heads each its own kv head) against cuDNN's SDPA at the same shape.
  timeout 90 python3 "$here/bench/attention_prefill.py" --lmc-run "$gpu/bin/lmc-run" \
    --artifact "$gpu/lmx/deepseek-v2-lite-4l.bf16.lmx" --weights /tmp/lmc-bench/deepseek-v2-lite-4l \
    --json /tmp/attention-prefill-mla.json > "$out/attention-prefill-mla.txt" 2>&1
  echo "attention prefill, MLA: exit $?"; cat "$out/attention-prefill-mla.txt"
  # Prompt experts: the grouped experts of a 4096-token DeepSeek-V2-Lite
  # prefill against torch._grouped_mm at the same expert shapes.
  timeout 90 python3 "$here/bench/experts_prefill.py" --lmc-run "$gpu/bin/lmc-run" \
    --artifact "$gpu/lmx/deepseek-v2-lite-4l.bf16.lmx" --weights /tmp/lmc-bench/deepseek-v2-lite-4l \
    --json /tmp/experts-prefill.json > "$out/experts-prefill.txt" 2>&1
  echo "experts prefill: exit $?"; cat "$out/experts-prefill.txt"
  python3 - "$out" <<'PY'
import json, os, re, sys
out = sys.argv[1]
result = {}
if os.path.exists("/tmp/bench.json"):
    result = json.load(open("/tmp/bench.json"))
result["goldens"] = {}
for dtype in ("f32", "bf16", "bf16kv"):
    path = os.path.join(out, f"goldens-{dtype}.txt")
    text = open(path).read() if os.path.exists(path) else ""
    m = re.search(r"(\d+) passed, (\d+) failed", text)
    result["goldens"][dtype] = (f"{m.group(1)}/{int(m.group(1)) + int(m.group(2))}"
                                if m else "not run")
result["kernels"] = []
for dtype in ("bf16", "f32"):
    path = f"/tmp/profile-{dtype}.json"
    if os.path.exists(path):
        profile = json.load(open(path))
        result["kernels"].append({"dtype": dtype, **profile["summary"],
                                  "top": profile["top"],
                                  "by_template": profile.get("by_template"),
                                  "all": profile["all"]})
if os.path.exists("/tmp/attention.json"):
    result["attention_decode"] = json.load(open("/tmp/attention.json"))
if os.path.exists("/tmp/attention-kv.json"):
    result.setdefault("attention_decode", []).extend(
        json.load(open("/tmp/attention-kv.json")))
if os.path.exists("/tmp/gemm.json"):
    result["gemm_prefill"] = json.load(open("/tmp/gemm.json"))
if os.path.exists("/tmp/attention-prefill.json"):
    result["attention_prefill"] = json.load(open("/tmp/attention-prefill.json"))
if os.path.exists("/tmp/attention-prefill-mla.json"):
    result.setdefault("attention_prefill", []).extend(
        json.load(open("/tmp/attention-prefill-mla.json")))
if os.path.exists("/tmp/experts-prefill.json"):
    result["experts_prefill"] = json.load(open("/tmp/experts-prefill.json"))
# Launches per decode step, as traced when the artifacts were compiled.
result["launches_per_step"] = []
plan = os.path.join(out, "plan.txt")
artifact = None
for line in open(plan) if os.path.exists(plan) else []:
    m = re.match(r"plan of .*/(.*)\.lmx", line)
    if m:
        artifact = m.group(1)
    m = re.match(r"(prefill|decode step) \((\d+) x (\d+) tokens?.*: (\d+) launches", line)
    if m and artifact:
        result["launches_per_step"].append({
            "artifact": artifact, "phase": m.group(1).split()[0],
            "batch": int(m.group(2)), "tokens": int(m.group(3)),
            "launches": int(m.group(4))})
json.dump(result, open(os.path.join(out, "results.json"), "w"), indent=1)
print("results.json written")
PY
  ;;
*)
  sed -n '2,30p' "$0" >&2
  exit 2
  ;;
esac
