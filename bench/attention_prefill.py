#!/usr/bin/env python3
"""Prompt attention, kernel against kernel: lmc's flash attention in a
prefill (--dtype bf16) against PyTorch's scaled_dot_product_attention (cuDNN,
then FlashAttention) at the same shape, on the same GPU.

    python3 bench/attention_prefill.py --lmc-run lmc-run --artifact A.bf16.lmx \\
        --weights CHECKPOINT [--shapes 1x4096,32x128] [--json F] [--no-anchor]

lmc: bench/profile_step.py with BATCH prompts of TOKENS tokens, only the
`flash_attention` kernels profiled (ncu); the prefill's come first, one per
layer, and each one's grid is checked against the shape (BATCH x kv heads x
row tiles of 64 (token, query head) pairs), so other kernels are refused
rather than misread. FLOPs count the causal mask's visible (query, key)
pairs, 2 x (Dk + Dv) per pair and query head: B x H x T (T + 1) / 2 x
2 (Dk + Dv). The anchors take bf16 q, k, v of the same shape with
is_causal and enable_gqa (median of 10 timed calls after 3 warm-ups); lmc
reads its f32 cache and rounds as it stages. Causal attention of a dense
decoder (no sliding window, chunks), or MLA's expanded prompt form: every
head its own kv head, Dk = nope + rope (192) and Dv (128), which the
anchors take as q, k of Dk and v of Dv (the FlashAttention backend refuses
unequal dims: cuDNN alone; DeepSeek sparse attention refused). Runs on a
GPU machine.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from cuda_timing import median_us

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS_PER_BLOCK = 64


def shape_of(config):
    """Heads, kv heads, Dk, Dv and layers of a causal decoder's attention:
    dense, or MLA's expanded form."""
    heads = config["num_attention_heads"]
    if config.get("kv_lora_rank"):
        if config.get("index_topk"):
            raise SystemExit("attention_prefill.py: MLA with DeepSeek sparse "
                             "attention stays off flash attention")
        return (heads, heads,
                config["qk_nope_head_dim"] + config["qk_rope_head_dim"],
                config["v_head_dim"], config["num_hidden_layers"])
    window = config.get("sliding_window") \
        if config.get("use_sliding_window", True) else None
    if window or config.get("attention_chunk_size") or \
            any(t != "full_attention" for t in config.get("layer_types") or []):
        raise SystemExit("attention_prefill.py: causal attention of a dense "
                         "decoder or MLA only; this config has windows or "
                         "chunks")
    dim = config.get("head_dim") or config["hidden_size"] // heads
    return (heads, config.get("num_key_value_heads", heads), dim, dim,
            config["num_hidden_layers"])


def lmc_layers(args, batch, tokens, heads, kv_heads, layers):
    """Per-layer time (µs) of lmc's flash attention in the prefill."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, os.path.join(HERE, "profile_step.py"),
                        "--lmc-run", args.lmc_run, "--artifact", args.artifact,
                        "--weights", args.weights, "--prompt-tokens",
                        str(tokens), "--batch", str(batch), "--kernels",
                        "flash_attention", "--json", out.name],
                       check=True, stdout=subprocess.DEVNULL)
        kernels = json.load(open(out.name))["all"]
    if len(kernels) < layers:
        raise SystemExit(f"attention_prefill.py: {len(kernels)} flash_attention "
                         f"kernels ran, the prefill has {layers} layers "
                         "(compiled without --dtype bf16, or --kernels generic?)")
    rows = tokens * (heads // kv_heads)
    blocks = batch * kv_heads * -(-rows // ROWS_PER_BLOCK)
    for k in kernels[:layers]:
        grid = int(k["grid"].strip("()").split(",")[0])
        if grid != blocks:
            raise SystemExit(f"attention_prefill.py: {k['name']} ran {grid} "
                             f"blocks, a prefill of {batch} x {tokens} tokens "
                             f"takes {blocks}")
    return sum(k["time_us"] for k in kernels[:layers]) / layers


def sdpa_us(torch, batch, tokens, heads, kv_heads, key_dim, value_dim,
            backend):
    """Time (µs) of one causal SDPA call in bf16, or None if the backend
    refuses the shape."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q = torch.randn(batch, heads, tokens, key_dim, device="cuda",
                    dtype=torch.bfloat16)
    k = torch.randn(batch, kv_heads, tokens, key_dim, device="cuda",
                    dtype=torch.bfloat16)
    v = torch.randn(batch, kv_heads, tokens, value_dim, device="cuda",
                    dtype=torch.bfloat16)
    f = torch.nn.functional.scaled_dot_product_attention
    try:
        with sdpa_kernel(getattr(SDPBackend, backend)):
            return median_us(torch, lambda: f(q, k, v, is_causal=True,
                                              enable_gqa=True), runs=10)
    except RuntimeError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmc-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--shapes", default="1x4096,32x128",
                    help="BATCHxTOKENS,... (prompts)")
    ap.add_argument("--json")
    ap.add_argument("--no-anchor", action="store_true",
                    help="lmc only (no PyTorch)")
    args = ap.parse_args()
    config = json.load(open(os.path.join(args.weights, "config.json")))
    heads, kv_heads, key_dim, value_dim, layers = shape_of(config)
    torch = None
    if not args.no_anchor:
        import torch
    rows = []
    print(f"{'batch':>6}{'tokens':>8}{'lmc µs':>10}{'TFLOP/s':>9}"
          f"{'cudnn µs':>10}{'TFLOP/s':>9}{'flash µs':>10}{'TFLOP/s':>9}"
          f"{'lmc/best':>10}", flush=True)
    for shape in args.shapes.split(","):
        batch, tokens = (int(x) for x in shape.split("x"))
        flops = batch * heads * tokens * (tokens + 1) / 2 * 2 * (key_dim + value_dim)
        lmc_us = lmc_layers(args, batch, tokens, heads, kv_heads, layers)
        tflops = lambda us: us and round(flops / us / 1e6, 1)
        row = {"batch": batch, "tokens": tokens, "layers": layers,
               "heads": heads, "kv_heads": kv_heads, "head_dim": key_dim,
               "value_dim": value_dim,
               "lmc_us": round(lmc_us, 2), "lmc_TFLOPs": tflops(lmc_us)}
        if torch:
            for name, backend in (("cudnn", "CUDNN_ATTENTION"),
                                  ("flash", "FLASH_ATTENTION")):
                us = sdpa_us(torch, batch, tokens, heads, kv_heads, key_dim,
                             value_dim, backend)
                row[name + "_us"] = us and round(us, 2)
                row[name + "_TFLOPs"] = tflops(us)
            best = [row[n + "_us"] for n in ("cudnn", "flash") if row[n + "_us"]]
            row["lmc_vs_best"] = best and round(min(best) / lmc_us, 3)
        rows.append(row)
        cell = lambda v, w, p: f"{v:>{w}.{p}f}" if v else f"{'-':>{w}}"
        print(f"{batch:>6}{tokens:>8}{cell(row['lmc_us'], 10, 1)}"
              f"{cell(row['lmc_TFLOPs'], 9, 1)}"
              f"{cell(row.get('cudnn_us'), 10, 1)}"
              f"{cell(row.get('cudnn_TFLOPs'), 9, 1)}"
              f"{cell(row.get('flash_us'), 10, 1)}"
              f"{cell(row.get('flash_TFLOPs'), 9, 1)}"
              f"{cell(row.get('lmc_vs_best'), 10, 3)}", flush=True)
        # After each shape: a time limit that stops a later (longer) prompt
        # keeps what was measured.
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
