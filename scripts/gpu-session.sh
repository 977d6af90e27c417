#!/usr/bin/env bash
# Everything a session with a GPU should check, in few device calls: build
# and compile here (no GPU needed), run there.
#
#   scripts/gpu-session.sh prepare            # here, after `make`
#   scripts/gpu-session.sh goldens            # on the GPU machine, from the
#   scripts/gpu-session.sh sanitizer          #   repository root, with .gpu/
#   scripts/gpu-session.sh bench              #   carried along (it is ignored
#                                             #   by git)
#
# prepare: .gpu/bin holds lmc-run and liblmc_rt.so, .gpu/lmx.tar.xz the
#   artifacts: every golden model for sm_90a in f32 (<model>.lmx), bf16
#   (<model>.bf16.lmx) and bf16 on the host (<model>.bf16.host.lmx, the
#   reference the GPU's bf16 is held to), and the bench/ models in f32 and
#   bf16 (from header-only checkpoints). Fails if the bundle passes the
#   device tool's 64 MiB.
# goldens: scripts/gpu-goldens.sh in f32 (1e-3 against transformers) and in
#   bf16 (5e-3 against the host's bf16), one line per model.
# sanitizer: compute-sanitizer memcheck on an MLA + MoE model (deepseek_v3)
#   and a bf16 tensor-core prompt (qwen3, 20 tokens), prefill and decode.
# bench: bench/run.py, lmc against transformers on the same GPU.
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
    "$lmc" compile "$dir" --dtype bf16 -o "$gpu/lmx/$model.bf16.host.lmx"
  done
  for config in "$here"/bench/configs/*/; do
    name=$(basename "$config")
    ckpt=$(mktemp -d)
    python3 "$here/bench/checkpoint.py" "$config" "$ckpt" --sparse >/dev/null
    "$lmc" compile "$ckpt" --target sm_90a -o "$gpu/lmx/$name.lmx"
    "$lmc" compile "$ckpt" --target sm_90a --dtype bf16 -o "$gpu/lmx/$name.bf16.lmx"
    rm -rf "$ckpt"
  done
  tar -cJf "$gpu/lmx.tar.xz" -C "$gpu" lmx && rm -rf "$gpu/lmx"
  bytes=$(du -cb "$gpu" | tail -1 | cut -f1)
  echo "prepared .gpu: $((bytes / 1048576)) MiB"
  [ "$bytes" -le $((64 * 1048576)) ] || { echo "over the 64 MiB carry limit" >&2; exit 1; }
  ;;
goldens)
  unpack
  status=0
  "$here/scripts/gpu-goldens.sh" "$gpu/lmx" "$gpu/bin/lmc-run" | tee "$out/goldens-f32.txt" || status=1
  DTYPE=bf16 "$here/scripts/gpu-goldens.sh" "$gpu/lmx" "$gpu/bin/lmc-run" | tee "$out/goldens-bf16.txt" || status=1
  exit $status
  ;;
sanitizer)
  unpack
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  status=0
  for run in "deepseek_v3.lmx deepseek_v3" "qwen3.bf16.lmx qwen3"; do
    set -- $run
    "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 \
      "$gpu/bin/lmc-run" "$gpu/lmx/$1" --device cuda --weights "$goldens/$2" \
      --prompt-ids 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20 \
      --max-new-tokens 4 2>&1 | tee "$out/sanitizer-$1.txt" || status=1
  done
  exit $status
  ;;
bench)
  unpack
  python3 "$here/bench/run.py" --lmc-run "$gpu/bin/lmc-run" --artifacts "$gpu/lmx" \
    | tee "$out/bench.txt"
  ;;
*)
  sed -n '2,25p' "$0" >&2
  exit 2
  ;;
esac
