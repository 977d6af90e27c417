#!/usr/bin/env python3
"""Decode attention, kernel against kernel: lmc's flash decoding in a decode
step at a long context, against PyTorch's scaled_dot_product_attention
(cuDNN, then the efficient kernel) at the same shape, on the same GPU.

    python3 bench/attention_decode.py --lmc-run lmc-run --artifact A.lmx \\
        --weights CHECKPOINT [--kv-dtype f32|bf16] [--shapes 1x4096,32x1024]
        [--json F] [--no-anchor]

lmc: bench/profile_step.py with a prompt of context - 1 tokens per sequence
and one decode step, only the flash_decode kernels profiled (ncu): per layer
the partials and the combine kernel, their time and DRAM bytes. The bytes a
step must read are the layer's K and V cache slots: B x context x kv heads x
head dim x 2 x the bytes of what the artifact's cache stores (--kv-dtype, as
it was compiled with: 4 for f32, 2 for bf16). Anchors read bf16 K and V of
the same shape (and f32 with the efficient kernel); GB/s is each one's own
bytes over its time, so the comparison is of bandwidth, not of dtype; lmc's
time against cuDNN's is the comparison of speed. Runs on a GPU machine.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def lmc_layers(args, batch, context):
    """Per-layer time (µs) and DRAM bytes of lmc's flash decoding."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, os.path.join(HERE, "profile_step.py"),
                        "--lmc-run", args.lmc_run, "--artifact", args.artifact,
                        "--weights", args.weights, "--prompt-tokens",
                        str(context - 1), "--batch", str(batch), "--kernels",
                        "flash_decode", "--json", out.name],
                       check=True, stdout=subprocess.DEVNULL)
        kernels = json.load(open(out.name))["all"]
    partials = [k for k in kernels if k["name"].startswith("flash_decode_partials")]
    if not partials:
        raise SystemExit("no flash_decode kernel ran (compiled with --kernels generic?)")
    layers = len(partials)
    time_us = sum(k["time_us"] for k in kernels) / layers
    dram = sum(k["dram_read_MB"] for k in kernels) * 1e6 / layers
    return layers, time_us, dram


def sdpa(torch, batch, context, heads, kv_heads, dim, dtype, backend):
    """Time (µs) of one decode-shaped SDPA call, or None if the backend
    refuses the shape or dtype."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q = torch.randn(batch, heads, 1, dim, device="cuda", dtype=dtype)
    k = torch.randn(batch, kv_heads, context, dim, device="cuda", dtype=dtype)
    v = torch.randn_like(k)
    f = torch.nn.functional.scaled_dot_product_attention
    try:
        with sdpa_kernel(getattr(SDPBackend, backend)):
            for _ in range(3):
                f(q, k, v, enable_gqa=True)
            torch.cuda.synchronize()
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            runs = 100
            start.record()
            for _ in range(runs):
                f(q, k, v, enable_gqa=True)
            end.record()
            torch.cuda.synchronize()
    except RuntimeError:
        return None
    return start.elapsed_time(end) * 1e3 / runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmc-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--shapes", default="1x4096,32x1024",
                    help="BATCHxCONTEXT,... (the context includes the new token)")
    ap.add_argument("--kv-dtype", choices=("f32", "bf16"), default="f32",
                    help="what the artifact's KV cache stores "
                    "(lmc compile --kv-dtype)")
    ap.add_argument("--json")
    ap.add_argument("--no-anchor", action="store_true",
                    help="lmc only (no PyTorch)")
    args = ap.parse_args()
    config = json.load(open(os.path.join(args.weights, "config.json")))
    heads = config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    dim = config.get("head_dim") or config["hidden_size"] // heads
    torch = None
    if not args.no_anchor:
        import torch
    rows = []
    print(f"{'batch':>6}{'context':>9}{'lmc µs':>9}{'lmc GB/s':>10}"
          f"{'cudnn µs':>10}{'GB/s':>8}{'eff32 µs':>10}{'GB/s':>8}", flush=True)
    for shape in args.shapes.split(","):
        batch, context = (int(x) for x in shape.split("x"))
        layers, time_us, dram = lmc_layers(args, batch, context)
        cache = batch * context * kv_heads * dim * 2  # elements of K and V
        element_bytes = {"f32": 4, "bf16": 2}[args.kv_dtype]
        row = {"batch": batch, "context": context, "layers": layers,
               "heads": heads, "kv_heads": kv_heads, "head_dim": dim,
               "kv_dtype": args.kv_dtype, "lmc_us": round(time_us, 2),
               "lmc_cache_GBps": round(cache * element_bytes / time_us / 1e3, 1),
               "lmc_dram_GBps": round(dram / time_us / 1e3, 1)}
        if torch:
            for name, dtype, backend, size in (
                    ("cudnn_bf16", torch.bfloat16, "CUDNN_ATTENTION", 2),
                    ("efficient_f32", torch.float32, "EFFICIENT_ATTENTION", 4)):
                us = sdpa(torch, batch, context, heads, kv_heads, dim, dtype,
                          backend)
                row[name + "_us"] = us and round(us, 2)
                row[name + "_GBps"] = us and round(cache * size / us / 1e3, 1)
        rows.append(row)
        cell = lambda v, w, p: f"{v:>{w}.{p}f}" if v else f"{'-':>{w}}"
        print(f"{batch:>6}{context:>9}{cell(row['lmc_us'], 9, 1)}"
              f"{cell(row['lmc_cache_GBps'], 10, 0)}"
              f"{cell(row.get('cudnn_bf16_us'), 10, 1)}"
              f"{cell(row.get('cudnn_bf16_GBps'), 8, 0)}"
              f"{cell(row.get('efficient_f32_us'), 10, 1)}"
              f"{cell(row.get('efficient_f32_GBps'), 8, 0)}", flush=True)
        # After each shape: a time limit that stops a later (longer) prompt
        # keeps what was measured.
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
