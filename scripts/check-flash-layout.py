#!/usr/bin/env python3
"""Checks the fragment mappings of the flash attention template
(lib/Codegen/GPU/Kernels/FlashAttention.cpp) against the PTX ISA fragment
layouts of mma.sync.m16n8k16 (bf16, row.col), and its shared-memory padding
(Kernels.h, FlashAttentionFootprint) against the banks; plain Python, so the
suite runs it (test/Codegen/flash-layout.test).

One warp, one 64-key tile. Lane (g = lane / 4, t = lane % 4):
- scores: A from query rows g, g + 8, B from the key row of column g of n8
  block j, both the Dk elements [8t, 8t + 8) of each 32-wide chunk, word w
  standing for k pair (2t, 2t + 1) (w even) or (2t + 8, 2t + 9) of step
  w // 2; column c of block j holds key
  16 (j // 2) + 4 (c // 2) + 2 (j % 2) + c % 2;
- P V: step s's A registers are the score registers of blocks 2s, 2s + 1
  (pairs (0, 1), (2, 3) of each); value block n's B registers are the two
  words of the transposed values' row 8n + g at keys 16s + 4t .. 16s + 4t + 3.
The PTX layouts: a_i at row g (+8 for i in 2, 3, 6, 7), column 2t + i % 2
(+8 for i >= 4); b_i at row 2t + i % 2 (+8 for i >= 2), column g; c_i at row
g (+8 for i >= 2), column 2t + i % 2. The lanes' results must be exactly the
scores and weighted values of the keys the mapping names (integers: exact).

    python3 scripts/check-flash-layout.py
"""
import random

KEY_TILE = 64


def score_key(block, column):
    return 16 * (block // 2) + 4 * (column // 2) + 2 * (block % 2) + column % 2


def mma(a_regs, b_regs):
    """D = A B of one m16n8k16 from each lane's registers (pairs of values),
    as each lane's four accumulators."""
    a = [[None] * 16 for _ in range(16)]
    b = [[None] * 8 for _ in range(16)]
    for lane in range(32):
        g, t = divmod(lane, 4)
        av = [v for pair in a_regs[lane] for v in pair]
        bv = [v for pair in b_regs[lane] for v in pair]
        for i in range(8):
            r, c = g + (8 if i in (2, 3, 6, 7) else 0), 2 * t + i % 2 + (8 if i >= 4 else 0)
            assert a[r][c] is None, f"A[{r}][{c}] given twice"
            a[r][c] = av[i]
        for i in range(4):
            r, c = 2 * t + i % 2 + (8 if i >= 2 else 0), g
            assert b[r][c] is None, f"B[{r}][{c}] given twice"
            b[r][c] = bv[i]
    d = [[sum(a[r][k] * b[k][c] for k in range(16)) for c in range(8)] for r in range(16)]
    return [[d[g + 8 * (i // 2)][2 * t + i % 2] for i in range(4)]
            for g, t in (divmod(lane, 4) for lane in range(32))]


def pairs(values):
    return [(values[2 * i], values[2 * i + 1]) for i in range(len(values) // 2)]


def check_fragments(rng, key_dim, value_dim):
    q = [[rng.randint(-9, 9) for _ in range(key_dim)] for _ in range(16)]
    k = [[rng.randint(-9, 9) for _ in range(key_dim)] for _ in range(KEY_TILE)]
    v = [[rng.randint(-9, 9) for _ in range(value_dim)] for _ in range(KEY_TILE)]
    vt = [[v[key][d] for key in range(KEY_TILE)] for d in range(value_dim)]

    # Scores: 8 n8 blocks, each summed over the chunks' two k16 steps.
    scores = [[[0] * 4 for _ in range(KEY_TILE // 8)] for _ in range(32)]
    for block in range(KEY_TILE // 8):
        for chunk in range(key_dim // 32):
            for step in range(2):
                a_regs, b_regs = [], []
                for lane in range(32):
                    g, t = divmod(lane, 4)
                    cols = slice(32 * chunk + 8 * t, 32 * chunk + 8 * t + 8)
                    qg, qg8 = pairs(q[g][cols]), pairs(q[g + 8][cols])
                    kw = pairs(k[score_key(block, g)][cols])
                    a_regs.append([qg[2 * step], qg8[2 * step], qg[2 * step + 1], qg8[2 * step + 1]])
                    b_regs.append([kw[2 * step], kw[2 * step + 1]])
                d = mma(a_regs, b_regs)
                for lane in range(32):
                    for i in range(4):
                        scores[lane][block][i] += d[lane][i]
    p = [[None] * KEY_TILE for _ in range(16)]  # P[row][key], as the lanes hold it
    for lane in range(32):
        g, t = divmod(lane, 4)
        for block in range(KEY_TILE // 8):
            for i in range(4):
                row, key = g + 8 * (i // 2), score_key(block, 2 * t + i % 2)
                want = sum(q[row][e] * k[key][e] for e in range(key_dim))
                assert scores[lane][block][i] == want, f"score ({row}, {key}) wrong"
                assert p[row][key] is None, f"score ({row}, {key}) held twice"
                p[row][key] = scores[lane][block][i]
    assert all(x is not None for r in p for x in r), "a score nobody holds"

    # P V over the tile's four k16 steps.
    out = [[[0] * 4 for _ in range(value_dim // 8)] for _ in range(32)]
    for n in range(value_dim // 8):
        for step in range(KEY_TILE // 16):
            a_regs, b_regs = [], []
            for lane in range(32):
                g, t = divmod(lane, 4)
                s0, s1 = scores[lane][2 * step], scores[lane][2 * step + 1]
                a_regs.append([(s0[0], s0[1]), (s0[2], s0[3]), (s1[0], s1[1]), (s1[2], s1[3])])
                keys = vt[8 * n + g][16 * step + 4 * t:16 * step + 4 * t + 4]
                b_regs.append(pairs(keys))
            d = mma(a_regs, b_regs)
            for lane in range(32):
                for i in range(4):
                    out[lane][n][i] += d[lane][i]
    for lane in range(32):
        g, t = divmod(lane, 4)
        for n in range(value_dim // 8):
            for i in range(4):
                row, col = g + 8 * (i // 2), 8 * n + 2 * t + i % 2
                want = sum(p[row][key] * v[key][col] for key in range(KEY_TILE))
                assert out[lane][n][i] == want, f"value sum ({row}, {col}) wrong"


def key_stride(padded_key_dim):
    return padded_key_dim + 32 if (padded_key_dim // 2) % 32 == 0 else padded_key_dim


VALUE_STRIDE = KEY_TILE + 16


def banks(byte_offset, size):
    return {(byte_offset // 4 + w) % 32 for w in range(size // 4)}


def check_banks(padded_key_dim):
    """Each phase of a warp's shared loads (8 lanes of 16 bytes, 16 of 8)
    touches every bank at most once."""
    stride = key_stride(padded_key_dim)
    for block in range(KEY_TILE // 8):
        for chunk in range(padded_key_dim // 32):
            for phase in range(4):
                used = []
                for lane in range(8 * phase, 8 * phase + 8):
                    g, t = divmod(lane, 4)
                    at = 2 * (score_key(block, g) * stride + 32 * chunk + 8 * t)
                    used += banks(at, 16)
                assert len(used) == len(set(used)), \
                    f"Dk {padded_key_dim}: key loads of block {block} conflict"
    for step in range(KEY_TILE // 16):
        for phase in range(2):
            used = []
            for lane in range(16 * phase, 16 * phase + 16):
                g, t = divmod(lane, 4)
                at = 2 * (g * VALUE_STRIDE + 16 * step + 4 * t)
                used += banks(at, 8)
            assert len(used) == len(set(used)), f"value loads of step {step} conflict"


def main():
    rng = random.Random(0)
    for key_dim, value_dim in ((32, 8), (64, 16), (128, 24)):
        check_fragments(rng, key_dim, value_dim)
        print(f"fragments Dk {key_dim} Dv {value_dim}: ok")
    for padded in range(32, 257, 32):
        check_banks(padded)
    print("banks Dk 32..256: ok")


if __name__ == "__main__":
    main()
