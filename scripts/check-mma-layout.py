#!/usr/bin/env python3
"""Checks the operand layout of the mma.sync tile (lib/Codegen/GPU/Kernels/MmaSyncTile.cpp) against the PTX
ISA fragment layouts of mma.sync.m16n8k16 (bf16, row.col); plain Python, so
the suite runs it (test/Codegen/mma-layout.test).

Lane (g = lane / 4, t = lane % 4) of a warp loads elements [8t, 8t + 8) of a
32-wide K chunk of its rows g and g + 8 of x and of weight row g of each n8
block; the 32-bit word w of a load (elements 2w, 2w + 1) is register w % 2
(B) or 2 * (w % 2), + 1 for row g + 8 (A) of k16 step w // 2. The PTX layouts:
a_i at row g (+8 for i in 2, 3, 6, 7), column 2t + i % 2 (+8 for i >= 4);
b_i at row 2t + i % 2 (+8 for i >= 2), column g. The two steps must sum
x @ w.T exactly as the chunk would (integer operands: exact).

    python3 scripts/check-mma-layout.py
"""
import random


def main():
    rng = random.Random(0)
    x = [[rng.randint(-99, 99) for _ in range(32)] for _ in range(16)]  # 16 rows, one K chunk
    w = [[rng.randint(-99, 99) for _ in range(32)] for _ in range(8)]   # one n8 block, w[n, k]
    d = [[0] * 8 for _ in range(16)]
    placed_a, placed_b = 0, 0
    for step in range(2):
        a_frag = [[None] * 16 for _ in range(16)]
        b_frag = [[None] * 8 for _ in range(16)]
        for lane in range(32):
            g, t = divmod(lane, 4)
            words = lambda v: [(v[2 * i], v[2 * i + 1]) for i in range(4)]
            row_g, row_g8 = words(x[g][8 * t:8 * t + 8]), words(x[g + 8][8 * t:8 * t + 8])
            col = words(w[g][8 * t:8 * t + 8])
            a_regs = [row_g[2 * step], row_g8[2 * step], row_g[2 * step + 1], row_g8[2 * step + 1]]
            b_regs = [col[2 * step], col[2 * step + 1]]
            a = [v for pair in a_regs for v in pair]
            b = [v for pair in b_regs for v in pair]
            for i in range(8):
                r, c = g + (8 if i in (2, 3, 6, 7) else 0), 2 * t + i % 2 + (8 if i >= 4 else 0)
                assert a_frag[r][c] is None, f"A[{r}][{c}] written twice"
                a_frag[r][c] = a[i]
                placed_a += 1
            for i in range(4):
                r, c = 2 * t + i % 2 + (8 if i >= 2 else 0), g
                assert b_frag[r][c] is None, f"B[{r}][{c}] written twice"
                b_frag[r][c] = b[i]
                placed_b += 1
        for m in range(16):
            for n in range(8):
                d[m][n] += sum(a_frag[m][k] * b_frag[k][n] for k in range(16))
    expected = [[sum(x[m][k] * w[n][k] for k in range(32)) for n in range(8)]
                for m in range(16)]
    wrong = sum(d[m][n] != expected[m][n] for m in range(16) for n in range(8))
    print(f"fragments: {placed_a} A and {placed_b} B elements placed once each; "
          f"{wrong} of 128 outputs differ from x @ w.T")
    assert wrong == 0, "the lane loads do not match the mma.sync fragment layout"


if __name__ == "__main__":
    main()
