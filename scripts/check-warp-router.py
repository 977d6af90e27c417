#!/usr/bin/env python3
"""Checks the warp router's selection (lib/Codegen/GPU/Kernels/WarpRouter.cpp)
against lm.router's serial one (lib/Codegen/LMToLinalg/MoE.cpp), in plain
Python, so the suite runs it (test/Codegen/warp-router.test).

The serial router scans experts from 0 with a strict `>` from (0, -inf): the
largest choice wins, the lowest index among equal ones, NaN never, index 0
when nothing beats -inf. The warp router holds expert lane + 32 j in lane
`lane`, slot j; a lane keeps its best with a strict `>` over its slots
(rising experts), NaN read as -inf; five xor-butterfly steps take the other
lane's candidate when its value is larger, or equal with a lower expert. A
group's score is its two best choices summed, merged across lanes as
(max(first), max(max(second), min(first, other first))). Choices are drawn
from a few values (many ties), with NaN, -inf and +inf among them, over
expert counts that do and do not fill the lanes; the chosen experts must be
the same, in the same order.

    python3 scripts/check-warp-router.py
"""
import math
import random

WARP = 32
NEG_INF = float("-inf")


def gt(a, b):  # IEEE ordered >
    return not math.isnan(a) and not math.isnan(b) and a > b


def serial_argmax(values):
    best, value = 0, NEG_INF
    for e, v in enumerate(values):
        if gt(v, value):
            best, value = e, v
    return best


def serial_route(choices, groups, keep, top_k):
    choices = list(choices)
    experts = len(choices)
    if groups > 1:
        width = experts // groups
        scores = []
        for g in range(groups):
            top, second = NEG_INF, NEG_INF
            for v in choices[g * width:(g + 1) * width]:
                second = fmax(second, fmin(top, v))
                top = fmax(top, v)
            scores.append(top + second if width > 1 else top)
        kept = set()
        for _ in range(keep):
            g = serial_argmax(scores)
            scores[g] = NEG_INF
            kept.add(g)
        choices = [v if e // width in kept else 0.0 for e, v in enumerate(choices)]
    chosen = []
    for _ in range(top_k):
        e = serial_argmax(choices)
        choices[e] = NEG_INF
        chosen.append(e)
    return chosen


def fmax(a, b):  # arith.maximumf: NaN propagates
    return a if math.isnan(a) else b if math.isnan(b) else max(a, b)


def fmin(a, b):
    return a if math.isnan(a) else b if math.isnan(b) else min(a, b)


def butterfly(lanes, combine):
    """Every lane's value after five xor steps (all lanes end equal)."""
    values = list(lanes)
    offset = WARP // 2
    while offset:
        values = [combine(values[l], values[l ^ offset]) for l in range(WARP)]
        offset //= 2
    return values


def warp_argmax(slots):
    """slots[lane] = [(value, expert), ...] rising in expert."""
    def clean(v):
        return NEG_INF if math.isnan(v) else v
    lanes = []
    for lane_slots in slots:
        value, expert = clean(lane_slots[0][0]), lane_slots[0][1]
        for v, e in lane_slots[1:]:
            if gt(clean(v), value):
                value, expert = clean(v), e
        lanes.append((value, expert))

    def combine(mine, other):
        take = gt(other[0], mine[0]) or (other[0] == mine[0] and other[1] < mine[1])
        return other if take else mine
    return butterfly(lanes, combine)[0][1]


def warp_route(choices, groups, keep, top_k):
    experts = len(choices)
    per_lane = -(-experts // WARP)
    held = [[lane + WARP * j < experts for j in range(per_lane)] for lane in range(WARP)]
    slots = [[(choices[lane + WARP * j] if held[lane][j] else NEG_INF, lane + WARP * j)
              for j in range(per_lane)] for lane in range(WARP)]
    if groups > 1:
        width = experts // groups
        scores = []
        for g in range(groups):
            lanes = []
            for lane in range(WARP):
                top, second = NEG_INF, NEG_INF
                for j, (v, e) in enumerate(slots[lane]):
                    v = v if held[lane][j] and e // width == g else NEG_INF
                    second = fmax(second, fmin(top, v))
                    top = fmax(top, v)
                lanes.append((top, second))

            def merge(mine, other):
                return (fmax(mine[0], other[0]),
                        fmax(fmax(mine[1], other[1]), fmin(mine[0], other[0])))
            top, second = butterfly(lanes, merge)[0]
            scores.append(top + second if width > 1 else top)
        kept = set()
        for _ in range(keep):
            g = serial_argmax(scores)  # every lane alike
            scores[g] = NEG_INF
            kept.add(g)
        slots = [[((v if e // width in kept else 0.0) if held[lane][j] else NEG_INF, e)
                  for j, (v, e) in enumerate(slots[lane])] for lane in range(WARP)]
    chosen = []
    for _ in range(top_k):
        e = warp_argmax(slots)
        slots = [[(NEG_INF if x == e else v, x) for v, x in lane_slots]
                 for lane_slots in slots]
        chosen.append(e)
    return chosen


def main():
    rng = random.Random(0)
    palette = [0.25, 0.5, 0.5, 1.0, 1.0, 1.0, -0.5, 0.0, -0.0, NEG_INF, float("inf"),
               float("nan")]
    cases = 0
    for experts, groups, keep, top_k in [(8, 1, 1, 2), (8, 4, 2, 2), (64, 1, 1, 6),
                                         (64, 8, 3, 6), (40, 1, 1, 4), (40, 4, 2, 3),
                                         (256, 8, 4, 8), (128, 16, 4, 8), (24, 24, 4, 4),
                                         (1, 1, 1, 1)]:
        for trial in range(300):
            choices = [rng.choice(palette) if trial % 3 else rng.uniform(-1, 1)
                       for _ in range(experts)]
            want = serial_route(choices, groups, keep, top_k)
            got = warp_route(choices, groups, keep, top_k)
            assert want == got, (experts, groups, keep, top_k, choices, want, got)
            cases += 1
    print(f"{cases} routings: the warp's choices equal the serial scan's")


if __name__ == "__main__":
    main()
