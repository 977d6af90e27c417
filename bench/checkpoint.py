#!/usr/bin/env python3
"""Writes a random-weight float32 checkpoint (model.safetensors beside a copy
of config.json) in Hugging Face's tensor names and layout, for the
architectures bench/ uses (qwen3, deepseek_v3), with numpy only.

    python3 bench/checkpoint.py CONFIG_DIR OUT_DIR [--sparse] [--seed N]

Matrices are drawn from N(0, initializer_range), norm weights are 1 and
biases 0, as transformers initialises them. --sparse writes the same header
over a sparse zero-filled file (instant; enough for `lmc compile`, which
reads names, shapes and offsets only).
"""
import argparse
import json
import os
import shutil

import numpy as np


def qwen3(c):
    h, d = c["hidden_size"], c["head_dim"]
    q, kv, ff = c["num_attention_heads"] * d, c["num_key_value_heads"] * d, c["intermediate_size"]
    yield "model.embed_tokens.weight", (c["vocab_size"], h)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,)
        yield p + "self_attn.q_proj.weight", (q, h)
        yield p + "self_attn.k_proj.weight", (kv, h)
        yield p + "self_attn.v_proj.weight", (kv, h)
        yield p + "self_attn.o_proj.weight", (h, q)
        yield p + "self_attn.q_norm.weight", (d,)
        yield p + "self_attn.k_norm.weight", (d,)
        yield p + "post_attention_layernorm.weight", (h,)
        yield p + "mlp.gate_proj.weight", (ff, h)
        yield p + "mlp.up_proj.weight", (ff, h)
        yield p + "mlp.down_proj.weight", (h, ff)
    yield "model.norm.weight", (h,)
    if not c.get("tie_word_embeddings", False):
        yield "lm_head.weight", (c["vocab_size"], h)


def mlp(p, h, ff):
    yield p + "gate_proj.weight", (ff, h)
    yield p + "up_proj.weight", (ff, h)
    yield p + "down_proj.weight", (h, ff)


def deepseek_v3(c):
    h, heads = c["hidden_size"], c["num_attention_heads"]
    nope, rope, v = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    lora, qlora = c["kv_lora_rank"], c.get("q_lora_rank")
    yield "model.embed_tokens.weight", (c["vocab_size"], h)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,)
        if qlora:
            yield p + "self_attn.q_a_proj.weight", (qlora, h)
            yield p + "self_attn.q_a_layernorm.weight", (qlora,)
            yield p + "self_attn.q_b_proj.weight", (heads * (nope + rope), qlora)
        else:
            yield p + "self_attn.q_proj.weight", (heads * (nope + rope), h)
        yield p + "self_attn.kv_a_proj_with_mqa.weight", (lora + rope, h)
        yield p + "self_attn.kv_a_layernorm.weight", (lora,)
        yield p + "self_attn.kv_b_proj.weight", (heads * (nope + v), lora)
        yield p + "self_attn.o_proj.weight", (h, heads * v)
        yield p + "post_attention_layernorm.weight", (h,)
        if i < c["first_k_dense_replace"]:
            yield from mlp(p + "mlp.", h, c["intermediate_size"])
            continue
        e, ff = c["n_routed_experts"], c["moe_intermediate_size"]
        yield p + "mlp.gate.weight", (e, h)
        yield p + "mlp.gate.e_score_correction_bias", (e,)
        for x in range(e):
            yield from mlp(p + f"mlp.experts.{x}.", h, ff)
        yield from mlp(p + "mlp.shared_experts.", h, ff * c["n_shared_experts"])
    yield "model.norm.weight", (h,)
    yield "lm_head.weight", (c["vocab_size"], h)


ARCHITECTURES = {"qwen3": qwen3, "deepseek_v3": deepseek_v3}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--sparse", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    config = json.load(open(os.path.join(args.config_dir, "config.json")))
    tensors = list(ARCHITECTURES[config["model_type"]](config))
    header, offset = {}, 0
    for name, shape in tensors:
        size = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    os.makedirs(args.out_dir, exist_ok=True)
    shutil.copy(os.path.join(args.config_dir, "config.json"), args.out_dir)
    path = os.path.join(args.out_dir, "model.safetensors")
    rng = np.random.default_rng(args.seed)
    std = config.get("initializer_range", 0.02)
    with open(path, "wb") as f:
        f.write(len(blob).to_bytes(8, "little"))
        f.write(blob)
        if args.sparse:
            f.truncate(8 + len(blob) + offset)
            return
        for name, shape in tensors:
            if name.endswith("norm.weight"):
                data = np.ones(shape, np.float32)
            elif name.endswith("bias"):
                data = np.zeros(shape, np.float32)
            else:
                data = rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
            f.write(data.tobytes())
    print(f"{path}: {len(tensors)} tensors, {offset / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
