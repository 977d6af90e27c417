#!/usr/bin/env python3
"""Prompt projections, kernel against kernel: lmc's wgmma tiles in a prefill
of a dense decoder (Llama / Qwen3 shapes) against cuBLAS (torch.matmul, bf16)
at the same shapes, on the same GPU.

    python3 bench/gemm_prefill.py --lmc-run lmc-run --artifact A.bf16.lmx \\
        --weights CHECKPOINT [--batch 32 --prompt-tokens 128] [--json F] [--no-anchor]

lmc: bench/profile_step.py with --batch prompts of --prompt-tokens tokens,
only the `tiled_linear` kernels profiled (ncu; lm.tiled_linear, chosen by
lm-select-gpu-kernels). A layer launches them in order: q/k/v (one launch:
the three share their input), o_proj, gate/up (one op, the SwiGLU its
epilogue), down. (The LM head is not among them: lmc-run's prefill asks
for each prompt's last logits, as generation does, so the head runs on one
row per prompt.) The config (the checkpoint's
config.json) gives each launch's shapes; its grid is checked against them
(rows in 128-row tiles times each projection's 128-column tiles; a GLU's
tiles are 64 columns of the gate and the same 64 of the up), so a plan of
other kernels is refused rather than misread. FLOPs are 2 x rows x N x K over the summed N
of a launch. The anchor multiplies bf16 [rows, K] by [K, N] (the launch's
summed N, as a fused projection would) with torch.matmul, timed with CUDA
events (median of 20 after 3 warm-ups). Runs on a GPU machine.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from cuda_timing import median_us

HERE = os.path.dirname(os.path.abspath(__file__))
TILE = 128
GLU_TILE = 64  # output columns of a GLU's tile (64 gate rows, 64 up rows)


def launches(config):
    """Each wgmma launch of a prefill, in order: name, K, its Ns and its
    column tiles."""
    if config.get("num_experts") or config.get("n_routed_experts") or \
            config.get("kv_lora_rank") or config.get("q_lora_rank"):
        raise SystemExit("gemm_prefill.py: a dense decoder (Llama / Qwen3 "
                         "shapes) only; this config has experts or MLA")
    h, i = config["hidden_size"], config["intermediate_size"]
    heads = config["num_attention_heads"]
    kv = config.get("num_key_value_heads", heads)
    d = config.get("head_dim") or h // heads
    def tiles(ns):
        return sum(-(-n // TILE) for n in ns)
    qkv = [heads * d, kv * d, kv * d]
    layer = [("qkv_proj", h, qkv, tiles(qkv)),
             ("o_proj", heads * d, [h], tiles([h])),
             ("gate_up_proj", h, [i, i], -(-i // GLU_TILE)),
             ("down_proj", i, [h], tiles([h]))]
    return layer * config["num_hidden_layers"]


def lmc_kernels(args):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, os.path.join(HERE, "profile_step.py"),
                        "--lmc-run", args.lmc_run, "--artifact", args.artifact,
                        "--weights", args.weights, "--prompt-tokens",
                        str(args.prompt_tokens), "--batch", str(args.batch),
                        "--kernels", "tiled_linear", "--json", out.name],
                       check=True, stdout=subprocess.DEVNULL)
        return json.load(open(out.name))["all"]


def cublas_us(rows, k, n):
    import torch
    x = torch.randn(rows, k, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
    return median_us(torch, lambda: torch.matmul(x, w))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmc-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--json")
    ap.add_argument("--no-anchor", action="store_true")
    args = ap.parse_args()
    config = json.load(open(os.path.join(args.weights, "config.json")))
    expected = launches(config)
    kernels = lmc_kernels(args)
    # The decode step after the prompt has too few rows for the tile.
    if len(kernels) != len(expected):
        raise SystemExit(f"gemm_prefill.py: {len(kernels)} tiled_linear kernels ran, "
                         f"the config's prefill has {len(expected)} projection launches")
    rows = args.batch * args.prompt_tokens
    row_tiles = -(-rows // TILE)
    shapes = {}
    for kernel, (name, k, ns, column_tiles) in zip(kernels, expected):
        blocks = row_tiles * column_tiles
        grid = kernel["grid"].strip("()").split(",")[0].strip()
        if grid != str(blocks):
            raise SystemExit(f"gemm_prefill.py: {kernel['name']} ran {grid} blocks, "
                             f"{name} of {rows} rows takes {blocks}")
        entry = shapes.setdefault(name, {"projection": name, "M": rows, "N": sum(ns),
                                         "K": k, "launches": 0, "lmc_us": 0.0})
        entry["launches"] += 1
        entry["lmc_us"] += kernel["time_us"]
    table = []
    for entry in shapes.values():
        flops = 2.0 * entry["M"] * entry["N"] * entry["K"]
        entry["lmc_us"] = round(entry["lmc_us"] / entry["launches"], 2)
        entry["lmc_TFLOPs"] = round(flops / entry["lmc_us"] / 1e6, 1)
        if not args.no_anchor:
            us = cublas_us(entry["M"], entry["K"], entry["N"])
            entry["cublas_us"] = round(us, 2)
            entry["cublas_TFLOPs"] = round(flops / us / 1e6, 1)
            entry["ratio"] = round(us / entry["lmc_us"], 3)
        table.append(entry)
    print(f"{'projection':<14}{'M':>7}{'N':>8}{'K':>7}{'lmc µs':>10}{'TFLOP/s':>9}"
          f"{'cuBLAS µs':>11}{'TFLOP/s':>9}{'ratio':>7}")
    for e in table:
        anchor = (f"{e['cublas_us']:>11.1f}{e['cublas_TFLOPs']:>9.1f}{e['ratio']:>7.2f}"
                  if "cublas_us" in e else f"{'-':>11}{'-':>9}{'-':>7}")
        print(f"{e['projection']:<14}{e['M']:>7}{e['N']:>8}{e['K']:>7}"
              f"{e['lmc_us']:>10.1f}{e['lmc_TFLOPs']:>9.1f}{anchor}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"artifact": args.artifact, "rows": rows, "shapes": table}, f,
                      indent=1)


if __name__ == "__main__":
    main()
