#!/usr/bin/env python3
"""lmc on the GPU against Hugging Face transformers, on random-weight models
of real shape (bench/configs): prefill and decode tokens/s at batch 1 and 32
next to the decode bandwidth floor. Runs on a GPU machine with PyTorch and
transformers; the artifacts are compiled beforehand (bench/README.md).

    python3 bench/run.py --lmc-run build/bin/lmc-run --artifacts DIR [--work DIR]
        [--json results.json --commit SHA]

DIR holds <config>.lmx for each folder of bench/configs
(`lmc compile <checkpoint> --target sm_90a`), and optionally
<config>.bf16.lmx (`... --dtype bf16`: bf16 weights; its row's floor counts
bf16 weight bytes, approximately half) and <config>.generic.bf16.lmx (`...
--kernels generic`: no kernel templates chosen on lm ops; its decode speed
becomes the bf16 rows' generic_kernels_tokens_per_s). Prints each row as it is measured
and the table last; with --json, also writes the rows as data
(bench/results/*.json: device, commit, copy bandwidth, one row per model,
dtype, batch and phase with the anchors measured in the same run).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = ["qwen3-0.6b", "deepseek-v2-lite-4l"]
BATCHES = [1, 32]
PROMPT, DECODE = 128, 32


def log(*args):
    print(*args, flush=True)


def copy_bandwidth(torch):
    """Device-to-device copy of 1 GiB, bytes read + written per second."""
    n = 1 << 28
    x = torch.empty(n, dtype=torch.float32, device="cuda").normal_()
    y = torch.empty_like(x)
    for _ in range(3):
        y.copy_(x)
    times = []
    for _ in range(10):
        start, end = torch.cuda.Event(True), torch.cuda.Event(True)
        start.record()
        y.copy_(x)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    times.sort()
    return 2 * 4 * n / times[len(times) // 2]


def weight_bytes(config, checkpoint):
    """Bytes a decode step must read at batch 1 (routed experts: only the
    k chosen) and at batch 32 (every expert, as 32 x k >= experts here)."""
    total = os.path.getsize(os.path.join(checkpoint, "model.safetensors"))
    if "n_routed_experts" not in config:
        return total, total
    h, ff = config["hidden_size"], config["moe_intermediate_size"]
    moe_layers = config["num_hidden_layers"] - config["first_k_dense_replace"]
    unused = config["n_routed_experts"] - config["num_experts_per_tok"]
    return total - 4 * 3 * h * ff * unused * moe_layers, total


def cache_bytes_per_token(config):
    layers = config["num_hidden_layers"]
    if "kv_lora_rank" in config:
        return 4 * layers * (config["kv_lora_rank"] + config["qk_rope_head_dim"])
    return 4 * layers * 2 * config["num_key_value_heads"] * config["head_dim"]


def run_lmc(lmc_run, artifact, checkpoint, batch, graphs=True):
    """(prefill, decode) tokens/s; decode steps replay their captured CUDA
    graphs unless `graphs` is false (--no-graphs: every kernel launched)."""
    cmd = [lmc_run, artifact, "--device", "cuda", "--weights", checkpoint,
           "--bench", "--bench-batch", str(batch), "--bench-prompt", str(PROMPT),
           "--bench-decode", str(DECODE)] + ([] if graphs else ["--no-graphs"])
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=150)
    except subprocess.TimeoutExpired:
        log(" ".join(cmd), ": over 150 s")
        return None, None
    log(out.stdout.strip(), out.stderr.strip())
    if out.returncode != 0:
        return None, None
    prefill = float(re.search(r"prefill: .* ([\d.]+) tokens/s", out.stdout).group(1))
    decode = float(re.search(r"decode: .* ([\d.]+) tokens/s", out.stdout).group(1))
    return prefill, decode


def run_hf(torch, model, vocab, batch):
    """Greedy prefill then DECODE steps with the cache, after a warm-up. The
    prefill computes the last token's logits only (`logits_to_keep=1`, as
    transformers' generate does and as lmc-run --bench does), where this
    transformers takes the argument."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch, PROMPT), generator=g).cuda()
    result = None
    keep = {"logits_to_keep": 1}
    with torch.inference_mode():
        for timed in (False, True):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            try:
                out = model(input_ids=ids, use_cache=True, **keep)
            except TypeError:  # an older transformers: every row's logits
                keep = {}
                out = model(input_ids=ids, use_cache=True)
            torch.cuda.synchronize()
            t1 = time.perf_counter()
            cache, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
            for _ in range(DECODE if timed else 2):
                out = model(input_ids=nxt, past_key_values=cache, use_cache=True)
                cache, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
            torch.cuda.synchronize()
            t2 = time.perf_counter()
            if timed:
                result = (batch * PROMPT / (t1 - t0), batch * DECODE / (t2 - t1))
    return result


def run_hf_compiled(torch, model, vocab, batch, budget_s=240):
    """Decode tokens/s of a skilled PyTorch user's loop: a static cache and
    the step torch.compile'd into a CUDA graph (transformers' generate with
    cache_implementation="static" compiles the forward with mode
    "reduce-overhead"). Decode time is the difference between generating
    DECODE + 1 and 1 tokens (the same prefill). None if it fails or its
    compilation outlasts `budget_s`."""
    import signal

    def expired(*_):
        raise TimeoutError(f"over {budget_s} s")

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch, PROMPT), generator=g).cuda()
    options = dict(do_sample=False, cache_implementation="static",
                   pad_token_id=0, attention_mask=torch.ones_like(ids))

    def generate(n):
        torch.cuda.synchronize()
        t = time.perf_counter()
        model.generate(ids, max_new_tokens=n, min_new_tokens=n, **options)
        torch.cuda.synchronize()
        return time.perf_counter() - t

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(budget_s)
    try:
        with torch.inference_mode():
            for _ in range(2):  # compilation and graph capture
                generate(DECODE + 1)
            short = min(generate(1) for _ in range(3))
            long = min(generate(DECODE + 1) for _ in range(3))
        return batch * DECODE / (long - short) if long > short else None
    except Exception as e:  # an anchor that cannot run is reported, not fatal
        log(f"torch.compile + static cache anchor (batch {batch}): {e!r}")
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmc-run", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--work", default="/tmp/lmc-bench")
    ap.add_argument("--models", default=",".join(CONFIGS))
    ap.add_argument("--json", help="write the results as data here")
    ap.add_argument("--commit", default="unknown", help="lmc's commit, for --json")
    ap.add_argument("--keep", action="store_true",
                    help="keep the checkpoints in --work (for profile_step.py)")
    ap.add_argument("--compiled-anchor", action="store_true",
                    help="also measure the torch.compile + static cache + CUDA "
                    "graph decode anchor in bf16 (compiling it takes a minute "
                    "or more per batch size)")
    args = ap.parse_args()
    import torch
    from transformers import AutoModelForCausalLM

    bandwidth = copy_bandwidth(torch)
    log(f"device: {torch.cuda.get_device_name()}, copy bandwidth "
        f"{bandwidth / 1e12:.2f} TB/s (read + write)")
    header = (f"{'model':<22}{'batch':>6}{'lmc pre':>10}{'lmc dec':>10}"
              f"{'no graph':>10}"
              f"{'hf32 pre':>10}{'hf32 dec':>10}{'hf16 pre':>10}{'hf16 dec':>10}"
              f"{'floor dec':>10}{'dec/hf32':>9}{'dec/floor':>10}")
    rows = []
    data = []

    def record(name, dtype, batch, phase, value, floor, anchors, eager=None,
               generic=None):
        row = {"model": name, "dtype": dtype, "batch": batch, "phase": phase,
               "tokens_per_s": value,
               "anchors": {k: v for k, v in anchors.items() if v}}
        if floor:
            row["floor_tokens_per_s"] = floor
        if eager:
            row["no_graphs_tokens_per_s"] = eager
        if generic:
            row["generic_kernels_tokens_per_s"] = generic
        data.append(row)

    def cell(pair, i):
        return f"{pair[i]:>10.1f}" if pair and pair[i] else f"{'failed':>10}"

    def decode_of(runs, b):
        return runs[b][1] if b in runs and runs[b] else None

    def decode_cell(runs, b):  # "-": not measured
        return cell(runs[b], 1) if b in runs else f"{'-':>10}"

    def ratio(x, y, width):
        return f"{x / y:>{width}.2f}" if x and y else f"{'-':>{width}}"

    for name in args.models.split(","):
        checkpoint = os.path.join(args.work, name)
        t = time.time()
        subprocess.run([sys.executable, os.path.join(HERE, "checkpoint.py"),
                        os.path.join(HERE, "configs", name), checkpoint],
                       check=True)
        log(f"{name}: checkpoint in {time.time() - t:.0f} s")
        config = json.load(open(os.path.join(checkpoint, "config.json")))
        artifact = os.path.join(args.artifacts, name + ".lmx")
        lmc = {b: run_lmc(args.lmc_run, artifact, checkpoint, b) for b in BATCHES}
        # A bf16-weight artifact beside it (`--dtype bf16`), when there is one.
        bf16_artifact = os.path.join(args.artifacts, name + ".bf16.lmx")
        lmc16 = ({b: run_lmc(args.lmc_run, bf16_artifact, checkpoint, b)
                  for b in BATCHES} if os.path.exists(bf16_artifact) else {})
        # The same decode steps with every kernel launched (--no-graphs), for
        # the fast mode (bf16 weights) where there is one, else f32.
        eager16 = ({b: run_lmc(args.lmc_run, bf16_artifact, checkpoint, b, False)
                    for b in BATCHES} if lmc16 else {})
        eager = ({} if lmc16 else
                 {b: run_lmc(args.lmc_run, artifact, checkpoint, b, False)
                  for b in BATCHES})
        # bf16 without kernel templates chosen on lm ops (`--kernels
        # generic`), when prepared: what flash decoding and its successors buy.
        generic_artifact = os.path.join(args.artifacts,
                                        name + ".generic.bf16.lmx")
        generic16 = ({b: run_lmc(args.lmc_run, generic_artifact, checkpoint, b)
                      for b in BATCHES}
                     if lmc16 and os.path.exists(generic_artifact) else {})
        hf, compiled = {}, {}
        for dtype in ("float32", "bfloat16"):
            model = AutoModelForCausalLM.from_pretrained(
                checkpoint, dtype=getattr(torch, dtype)).cuda().eval()
            hf[dtype] = {b: run_hf(torch, model, config["vocab_size"], b)
                         for b in BATCHES}
            if dtype == "bfloat16" and args.compiled_anchor:
                compiled = {b: run_hf_compiled(torch, model,
                                               config["vocab_size"], b)
                            for b in BATCHES}
            del model
            torch.cuda.empty_cache()
        at1, at32 = weight_bytes(config, checkpoint)
        for b in BATCHES:
            step = (at1 if b == 1 else at32) + \
                b * (PROMPT + DECODE) * cache_bytes_per_token(config)
            floor = b / (step / bandwidth)
            l, h32, h16 = lmc[b], hf["float32"][b], hf["bfloat16"][b]
            rows.append(f"{name:<22}{b:>6}{cell(l, 0)}{cell(l, 1)}"
                        f"{decode_cell(eager, b)}{cell(h32, 0)}"
                        f"{cell(h32, 1)}{cell(h16, 0)}{cell(h16, 1)}{floor:>10.1f}"
                        f"{ratio(l[1], h32[1], 9)}{ratio(l[1], floor, 10)}")
            log(rows[-1])
            for phase, i in (("prefill", 0), ("decode", 1)):
                anchors = {"transformers_f32": h32 and h32[i],
                           "transformers_bf16": h16 and h16[i]}
                if i:
                    anchors["torch_compile_graph_bf16"] = compiled.get(b)
                record(name, "f32", b, phase, l and l[i],
                       floor if i else None, anchors,
                       decode_of(eager, b) if i else None)
                if b in lmc16:
                    record(name, "bf16", b, phase, lmc16[b] and lmc16[b][i],
                           2 * floor if i else None, anchors,
                           decode_of(eager16, b) if i else None,
                           decode_of(generic16, b) if i else None)
            if b in lmc16:
                l16 = lmc16[b]
                rows.append(f"{name + ' (bf16 w)':<22}{b:>6}{cell(l16, 0)}"
                            f"{cell(l16, 1)}{decode_cell(eager16, b)}"
                            f"{'':>40}{floor * 2:>10.1f}"
                            f"{'':>9}{ratio(l16[1], floor * 2, 10)}")
                log(rows[-1])
                if b in generic16:
                    rows.append(f"{name + ' (bf16 generic)':<22}{b:>6}"
                                f"{cell(generic16[b], 0)}{cell(generic16[b], 1)}")
                    log(rows[-1])
        if not args.keep:
            shutil.rmtree(checkpoint)

    log(f"\nprompt {PROMPT} tokens, {DECODE} decode steps; tokens/s (batch x "
        "tokens / s); lmc f32 (decode: CUDA graphs, and every kernel launched: "
        "no graph), transformers eager f32 and bf16; floor = f32 "
        "decode step bytes (weights read + cache) / copy bandwidth")
    log(header)
    for row in rows:
        log(row)
    if args.json:
        result = {"device": torch.cuda.get_device_name(), "commit": args.commit,
                  "date": time.strftime("%Y-%m-%d"),
                  "copy_bandwidth_TBps": round(bandwidth / 1e12, 3),
                  "prompt_tokens": PROMPT, "decode_steps": DECODE,
                  "rows": data}
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
