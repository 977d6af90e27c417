#!/usr/bin/env python3
"""Checks the wgmma GEMM tile's data path (lib/Codegen/GPU/Kernels/WgmmaGemm.cpp)
against the PTX ISA's layouts, in plain Python, so the suite runs it
(test/Codegen/wgmma-layout.test):

1. TMA copies a 128 x 64 bf16 box into shared memory with the 128-byte
   swizzle: element (r, k) at byte r * 128 + 16 * (c ^ (r % 8)) + b, where
   c, b = divmod(2 * k, 16), from a 1024-byte aligned stage.
2. wgmma reads a K-major operand of 64 (A) or 128 (B) rows by k16 through a
   matrix descriptor: start address / 16 in bits 0-13, leading byte offset /
   16 in bits 16-29 (unused by swizzled K-major layouts), stride byte offset
   / 16 in bits 32-45, swizzle mode in bits 62-63 (1: 128 bytes). Row m,
   element kk is at the canonical address start + (m // 8) * SBO + (m % 8) *
   128 + 2 * kk, to which the hardware applies the swizzle (address bits
   4-6 XOR bits 7-9). The tile passes start = stage + 8192 * consumer (A) or
   stage + 16384 (B), plus 32 bytes per k16 slice.
3. The accumulators: thread (warp w of the warpgroup, lane l) holds D
   element i at row 16w + l // 4 + 8 * ((i % 4) // 2), column 8 * (i // 4) +
   2 * (l % 4) + i % 2 of the warpgroup's 64 x 128 tile.

4. With --b-boxes 2 (lm.grouped_experts' gate/up GEMM, GroupedExperts.cpp):
   B arrives as two boxes of 64 rows (a GLU's gate rows, then its up rows),
   the second 8192 bytes after the first; the consumers read it as one
   128-row tile, and each thread holds a gate column's sum (accumulator i,
   tile column c < 64) and its up column's (accumulator i + 32, column
   c + 64) in the same row, which the epilogue pairs.

The descriptor's fixed bits are read from the IR the tile generates (stdin:
lmc-opt's output for a projection the tile takes), so the check is of the
code's constant. Integer operands: the sums must equal x @ w.T exactly.

    lmc-opt test/Codegen/map-projections-to-gpu.mlir --lm-map-projections-to-gpu \\
      --split-input-file | python3 scripts/check-wgmma-layout.py
"""
import argparse
import random
import re
import sys

TILE_ROWS, TILE_COLS, TILE_K, INSTRUCTION_K = 128, 128, 64, 16
CONSUMER_ROWS = 64
OPERAND_BYTES = TILE_ROWS * TILE_K * 2  # one operand's tile in a stage
K_STEPS = 2  # two stages' worth of K: 128


def swizzle(address):
    return address ^ (((address >> 7) & 7) << 4)


def tma_store(shared, base, box):
    """box[r][k] into shared memory at `base`, as SWIZZLE_128B lays it."""
    assert base % 1024 == 0
    for r, row in enumerate(box):
        for k, value in enumerate(row):
            chunk, byte = divmod(2 * k, 16)
            shared[base + r * 128 + 16 * (chunk ^ (r % 8)) + byte] = value


def descriptor_fields(descriptor):
    return {
        "start": (descriptor & 0x3FFF) << 4,
        "leading": ((descriptor >> 16) & 0x3FFF) << 4,
        "stride": ((descriptor >> 32) & 0x3FFF) << 4,
        "base_offset": (descriptor >> 49) & 7,
        "swizzle": descriptor >> 62,
    }


def wgmma_read(shared, descriptor, rows):
    """The rows x 16 K-major operand a descriptor describes."""
    f = descriptor_fields(descriptor)
    assert f["swizzle"] == 1, "the tile's copies use the 128-byte swizzle"
    assert f["base_offset"] == 0
    return [[shared[swizzle(f["start"] + (m // 8) * f["stride"] + (m % 8) * 128 + 2 * kk)]
             for kk in range(INSTRUCTION_K)] for m in range(rows)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--b-boxes", type=int, choices=(1, 2), default=1,
                        help="TMA boxes B's 128 rows arrive in")
    boxes = parser.parse_args().b_boxes
    ir = sys.stdin.read()
    # The descriptors' fixed bits: an i64 constant or'ed in, with the
    # 128-byte swizzle mode in bits 62-63.
    constants = [int(c) for c in re.findall(r"arith\.ori %\S+, %c(\d+)_i64", ir)]
    fixed = next((c for c in constants if c >> 62 == 1), None)
    assert fixed is not None, "no matrix descriptor in the input (arith.ori with an i64 constant)"
    assert fixed & 0x3FFF == 0, "the fixed bits must leave the start address free"
    rng = random.Random(0)
    k_total = TILE_K * K_STEPS
    x = [[rng.randint(-9, 9) for _ in range(k_total)] for _ in range(TILE_ROWS)]
    w = [[rng.randint(-9, 9) for _ in range(k_total)] for _ in range(TILE_COLS)]
    stage_base = 3 * 1024  # any multiple of 1024 (the tile aligns the first stage)
    acc = {}  # (consumer, thread, i) -> sum
    for step in range(K_STEPS):
        shared = {}
        ks = slice(step * TILE_K, (step + 1) * TILE_K)
        tma_store(shared, stage_base, [row[ks] for row in x])
        box_rows = TILE_COLS // boxes
        for box in range(boxes):
            tma_store(shared, stage_base + OPERAND_BYTES + box * box_rows * 128,
                      [row[ks] for row in w[box * box_rows:(box + 1) * box_rows]])
        for consumer in range(2):
            x_tile = stage_base + consumer * CONSUMER_ROWS * TILE_K * 2
            w_tile = stage_base + OPERAND_BYTES
            for j in range(TILE_K // INSTRUCTION_K):
                shift = 2 * INSTRUCTION_K * j
                a = wgmma_read(shared, (((x_tile + shift) & 0x3FFFF) >> 4) | fixed, CONSUMER_ROWS)
                b = wgmma_read(shared, (((w_tile + shift) & 0x3FFFF) >> 4) | fixed, TILE_COLS)
                d = [[sum(a[m][kk] * b[n][kk] for kk in range(INSTRUCTION_K))
                      for n in range(TILE_COLS)] for m in range(CONSUMER_ROWS)]
                for thread in range(128):
                    warp, lane = divmod(thread, 32)
                    for i in range(CONSUMER_ROWS * TILE_COLS // 128):
                        row = 16 * warp + lane // 4 + 8 * ((i % 4) // 2)
                        col = 8 * (i // 4) + 2 * (lane % 4) + i % 2
                        key = (consumer, thread, i)
                        acc[key] = acc.get(key, 0) + d[row][col]
    # The epilogue's mapping: each output once, equal to x @ w.T.
    out = {}
    for (consumer, thread, i), value in acc.items():
        warp, lane = divmod(thread, 32)
        row = CONSUMER_ROWS * consumer + 16 * warp + lane // 4 + 8 * ((i % 4) // 2)
        col = 8 * (i // 4) + 2 * (lane % 4) + i % 2
        assert (row, col) not in out, f"output ({row}, {col}) stored twice"
        out[(row, col)] = value
    wrong = sum(out[(r, c)] != sum(x[r][k] * w[c][k] for k in range(k_total))
                for r in range(TILE_ROWS) for c in range(TILE_COLS))
    if boxes == 2:
        # Each thread's gate sum (column c < 64) and up sum (column c + 64)
        # in one row: accumulators i and i + 32.
        pairs = 0
        for consumer in range(2):
            for thread in range(128):
                warp, lane = divmod(thread, 32)
                for i in range(32):
                    row = 16 * warp + lane // 4 + 8 * ((i % 4) // 2)
                    col = 8 * (i // 4) + 2 * (lane % 4) + i % 2
                    up = i + 32
                    assert col < 64
                    assert (16 * warp + lane // 4 + 8 * ((up % 4) // 2),
                            8 * (up // 4) + 2 * (lane % 4) + up % 2) == (row, col + 64)
                    pairs += 1
        print(f"two boxes of B: gate/up pairs in one thread each: {pairs}")
    f = descriptor_fields(fixed)
    print(f"descriptor: stride {f['stride']} bytes, swizzle mode {f['swizzle']}; "
          f"{len(out)} outputs stored once each; {wrong} differ from x @ w.T")
    assert len(out) == TILE_ROWS * TILE_COLS and wrong == 0, \
        "the copies, descriptors and accumulator mapping do not compose to x @ w.T"


if __name__ == "__main__":
    main()
