#!/usr/bin/env python3
"""Prompt experts, kernel against kernel: lmc's grouped experts in a prefill
of a MoE decoder (DeepSeek-V2-Lite / Qwen3-MoE shapes, bf16) against
torch._grouped_mm at the same expert shapes, on the same GPU.

    python3 bench/experts_prefill.py --lmc-run lmc-run --artifact A.bf16.lmx \\
        --weights CHECKPOINT [--batch 1 --prompt-tokens 4096] [--json F] [--no-anchor]

lmc: bench/profile_step.py with --batch prompts of --prompt-tokens tokens,
only the `grouped_experts` kernels profiled (ncu). Each MoE layer launches
five: the sort, the gather, the gate/up GEMM, the down GEMM, the combine
(the decode step after the prompt streams its experts instead). FLOPs are
the useful ones, 2 x P x (gate/up rows x D + D x I) for P = tokens x top-k
(token, choice) pairs, whichever expert each pair went to. The anchor
multiplies bf16 [P, D] by each expert's [D, gate/up rows] and the result's
activation [P, I] by each expert's [I, D] with torch._grouped_mm, the pairs
spread evenly over the experts (lmc's routing of random weights is its own),
timed with CUDA events (median of 20 after 3 warm-ups); the sort, gather and
combine have no counterpart there and are printed apart. Runs on a GPU
machine.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from cuda_timing import median_us

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = ["sort", "gather", "gate_up", "down", "combine"]


def expert_shapes(config):
    """(experts, top-k, D, I, gate/up rows) of the config's routed experts."""
    experts = config.get("n_routed_experts") or config.get("num_experts")
    top_k = config.get("num_experts_per_tok")
    if not experts or not top_k:
        raise SystemExit("experts_prefill.py: a MoE decoder only (n_routed_experts "
                         "or num_experts, and num_experts_per_tok)")
    d = config["hidden_size"]
    i = config.get("moe_intermediate_size") or config["intermediate_size"]
    return experts, top_k, d, i, 2 * i


def lmc_kernels(args):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, os.path.join(HERE, "profile_step.py"),
                        "--lmc-run", args.lmc_run, "--artifact", args.artifact,
                        "--weights", args.weights, "--prompt-tokens",
                        str(args.prompt_tokens), "--batch", str(args.batch),
                        "--kernels", "grouped_experts", "--json", out.name],
                       check=True, stdout=subprocess.DEVNULL)
        return json.load(open(out.name))["all"]


def grouped_mm_us(pairs, experts, d, i, rows):
    import torch
    if not hasattr(torch, "_grouped_mm"):
        raise SystemExit("experts_prefill.py: this torch has no _grouped_mm "
                         "(--no-anchor measures lmc alone)")
    per = pairs // experts
    offs = torch.arange(1, experts + 1, device="cuda", dtype=torch.int32) * per
    x = torch.randn(per * experts, d, device="cuda", dtype=torch.bfloat16)
    gate_up = torch.randn(experts, d, rows, device="cuda", dtype=torch.bfloat16)
    h = torch.randn(per * experts, i, device="cuda", dtype=torch.bfloat16)
    down = torch.randn(experts, i, d, device="cuda", dtype=torch.bfloat16)
    return (median_us(torch, lambda: torch._grouped_mm(x, gate_up, offs=offs)),
            median_us(torch, lambda: torch._grouped_mm(h, down, offs=offs)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmc-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt-tokens", type=int, default=4096)
    ap.add_argument("--json")
    ap.add_argument("--no-anchor", action="store_true")
    args = ap.parse_args()
    config = json.load(open(os.path.join(args.weights, "config.json")))
    experts, top_k, d, i, rows = expert_shapes(config)
    kernels = lmc_kernels(args)
    if not kernels or len(kernels) % len(STEPS):
        raise SystemExit(f"experts_prefill.py: {len(kernels)} grouped_experts kernels "
                         f"ran, not {len(STEPS)} per MoE layer")
    layers = len(kernels) // len(STEPS)
    times = {step: 0.0 for step in STEPS}
    for n, kernel in enumerate(kernels):
        step = STEPS[n % len(STEPS)]
        if f"grouped_experts_{step}" not in kernel["name"]:
            raise SystemExit(f"experts_prefill.py: kernel {n} is {kernel['name']}, "
                             f"expected grouped_experts_{step}")
        times[step] += kernel["time_us"] / layers
    pairs = args.batch * args.prompt_tokens * top_k
    flops = {"gate_up": 2.0 * pairs * rows * d, "down": 2.0 * pairs * d * i}
    result = {"artifact": args.artifact, "pairs": pairs, "experts": experts,
              "top_k": top_k, "D": d, "I": i, "layers": layers,
              "lmc_us": {s: round(t, 2) for s, t in times.items()}}
    for step in ("gate_up", "down"):
        result[f"lmc_{step}_TFLOPs"] = round(flops[step] / times[step] / 1e6, 1)
    gemm_us = times["gate_up"] + times["down"]
    result["lmc_gemms_us"] = round(gemm_us, 2)
    result["lmc_total_us"] = round(sum(times.values()), 2)
    print(f"{pairs} pairs over {experts} experts (D {d}, I {i}), per MoE layer:")
    print("  lmc: " + ", ".join(f"{s} {t:.1f} µs" for s, t in times.items()))
    print(f"  lmc GEMMs: gate/up {result['lmc_gate_up_TFLOPs']} TFLOP/s, "
          f"down {result['lmc_down_TFLOPs']} TFLOP/s")
    if not args.no_anchor:
        gate_up_us, down_us = grouped_mm_us(pairs, experts, d, i, rows)
        result["grouped_mm_us"] = {"gate_up": round(gate_up_us, 2),
                                   "down": round(down_us, 2)}
        result["ratio_gemms"] = round((gate_up_us + down_us) / gemm_us, 3)
        result["ratio_total"] = round((gate_up_us + down_us) /
                                      result["lmc_total_us"], 3)
        print(f"  torch._grouped_mm: gate/up {gate_up_us:.1f} µs, down {down_us:.1f} µs; "
              f"ratio (anchor / lmc) GEMMs {result['ratio_gemms']}, "
              f"with sort, gather, combine {result['ratio_total']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
