#!/usr/bin/env python3
"""Writes two checkpoints of test/Import/Inputs/tiny-llama's config and tensor
names under test/E2E/Inputs/bf16: `f32/` with random f32 weights (full
mantissas, from a fixed LCG), `rounded/` with the same weights rounded to the
nearest bf16 (ties to even) and stored as f32; and input_ids [2, 5]
(`ids.safetensors`). A model compiled with --dtype bf16 from `f32/` must give
exactly the logits of the f32 model compiled from `rounded/`. Plain Python.

    python3 scripts/make-bf16-fixture.py
"""
import json
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "test", "Import", "Inputs", "tiny-llama")
OUT = os.path.join(ROOT, "test", "E2E", "Inputs")


def write(path, header_json, data):
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_json)) + header_json + bytes(data))


def main():
    with open(os.path.join(SRC, "model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        raw = f.read(n)
    header = json.loads(raw)
    size = max(e["data_offsets"][1] for k, e in header.items() if k != "__metadata__")
    state = 12345
    values, rounded = bytearray(size), bytearray(size)
    changed = 0
    for i in range(0, size, 4):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        x = ((state >> 40) / float(1 << 24) - 0.5) * 0.8  # in [-0.4, 0.4)
        struct.pack_into("<f", values, i, x)
        bits = struct.unpack_from("<I", values, i)[0]
        r = (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16) & 0xFFFFFFFF
        changed += r != bits
        struct.pack_into("<I", rounded, i, r)
    out = os.path.join(OUT, "bf16")
    for name, data in [("f32", values), ("rounded", rounded)]:
        os.makedirs(os.path.join(out, name), exist_ok=True)
        shutil.copy(os.path.join(SRC, "config.json"), os.path.join(out, name))
        write(os.path.join(out, name, "model.safetensors"), raw, data)
    ids = [1, 5, 9, 2, 14, 3, 7, 11, 0, 6]
    hdr = json.dumps({"input_ids": {"dtype": "I64", "shape": [2, 5],
                                    "data_offsets": [0, 8 * len(ids)]}})
    hdr += " " * (-len(hdr) % 8)
    write(os.path.join(out, "ids.safetensors"), hdr.encode(),
          struct.pack(f"<{len(ids)}q", *ids))
    print(f"{changed} of {size // 4} weights changed by rounding")


if __name__ == "__main__":
    main()
