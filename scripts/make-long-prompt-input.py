#!/usr/bin/env python3
"""Writes test/E2E/Inputs/long-prompt.safetensors: input_ids [2, 150] int64,
deterministic pseudo-random ids below 256 (the golden models' vocabulary).
150 tokens span three 64-token chunks of the chunked prefill forms (the last
one partial), so `lmc-run --check-decode` on it compares the chunked prefill
against the token-by-token recurrence. Standard library only.
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH, TOKENS, VOCAB = 2, 150, 256


def ids():
    # A linear congruential generator: the file is the same on every machine.
    state = 12345
    for _ in range(BATCH * TOKENS):
        state = (1103515245 * state + 12345) % (1 << 31)
        yield (state >> 16) % VOCAB


def main():
    data = b"".join(struct.pack("<q", i) for i in ids())
    header = json.dumps({"input_ids": {"dtype": "I64", "shape": [BATCH, TOKENS],
                                       "data_offsets": [0, len(data)]}}).encode()
    header += b" " * (-len(header) % 8)
    path = os.path.join(ROOT, "test", "E2E", "Inputs", "long-prompt.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)


if __name__ == "__main__":
    main()
