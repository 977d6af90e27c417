#!/usr/bin/env bash
# Makes DEST (default build/models/smollm2-hf), SmolLM2-135M-Instruct as a
# Hugging Face folder, from the GGUF that scripts/fetch-smollm2.sh fetched
# (scripts/make-smollm2-folder.py says how). Its Python packages (pinned) go to
# build/models/pydeps, never into the system. Prints DEST; exits non-zero
# (quietly) when the GGUF or PyPI is not there.
set -euo pipefail
gguf=$1
dest=${2:-build/models/smollm2-hf}
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -s "$dest/model.safetensors" ] || [ ! -s "$dest/tokenizer.json" ]; then
  [ -s "$gguf" ] || exit 1
  deps="$(dirname "$dest")/pydeps"
  if [ ! -e "$deps/.complete" ]; then
    rm -rf "$deps"
    timeout 900 python3 -m pip install -q --disable-pip-version-check --no-warn-script-location \
      --target "$deps" numpy==2.4.6 gguf==0.19.0 tokenizers==0.23.3 transformers==5.25.0 \
      >/dev/null 2>&1 || exit 1
    touch "$deps/.complete"
  fi
  rm -rf "$dest.part"
  PYTHONPATH="$deps" python3 "$here/make-smollm2-folder.py" "$gguf" "$dest.part" >/dev/null 2>&1 || exit 1
  rm -rf "$dest"
  mv "$dest.part" "$dest"
fi
echo "$dest"
