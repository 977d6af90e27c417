#!/usr/bin/env python3
"""Checks the operand layout of the mma.sync tile (lib/Codegen/GPU/Kernels/MmaSyncTile.cpp) against the PTX
ISA fragment layouts of mma.sync.m16n8k16 (bf16, row.col), in numpy.

Lane (g = lane / 4, t = lane % 4) of a warp loads elements [8t, 8t + 8) of a
32-wide K chunk of its rows g and g + 8 of x and of weight row g of each n8
block; the 32-bit word w of a load (elements 2w, 2w + 1) is register w % 2
(B) or 2 * (w % 2), + 1 for row g + 8 (A) of k16 step w // 2. The PTX layouts:
a_i at row g (+8 for i in 2, 3, 6, 7), column 2t + i % 2 (+8 for i >= 4);
b_i at row 2t + i % 2 (+8 for i >= 2), column g. The two steps must sum
x @ w.T exactly as the chunk would. Run after changing the tile.

    python3 scripts/check-mma-layout.py      # needs numpy
"""
import numpy as np


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 32))   # 16 rows, one K chunk
    w = rng.standard_normal((8, 32))    # one n8 block, w[n, k]
    d = np.zeros((16, 8))
    for step in range(2):
        a_frag, b_frag = np.zeros((16, 16)), np.zeros((16, 8))
        for lane in range(32):
            g, t = divmod(lane, 4)
            words = lambda v: [(v[2 * i], v[2 * i + 1]) for i in range(4)]
            row_g, row_g8 = words(x[g, 8 * t:8 * t + 8]), words(x[g + 8, 8 * t:8 * t + 8])
            col = words(w[g, 8 * t:8 * t + 8])
            a_regs = [row_g[2 * step], row_g8[2 * step], row_g[2 * step + 1], row_g8[2 * step + 1]]
            b_regs = [col[2 * step], col[2 * step + 1]]
            a = [v for pair in a_regs for v in pair]
            b = [v for pair in b_regs for v in pair]
            for i in range(8):
                a_frag[g + (8 if i in (2, 3, 6, 7) else 0), 2 * t + i % 2 + (8 if i >= 4 else 0)] = a[i]
            for i in range(4):
                b_frag[2 * t + i % 2 + (8 if i >= 2 else 0), g] = b[i]
        d += a_frag @ b_frag
    error = np.abs(d - x @ w.T).max()
    print(f"max |mma tile - x @ w.T| = {error:.3g}")
    assert error < 1e-12, "the lane loads do not match the mma.sync fragment layout"


if __name__ == "__main__":
    main()
