#!/usr/bin/env python3
"""Writes test/E2E/Inputs/bf16: a one-layer llama checkpoint with random f32
weights (`model/`, full mantissas from a fixed LCG) and `reference.safetensors`
with input_ids [2, 12] and the logits that `lmc compile --dtype bf16` promises
for them: weights rounded to bf16 (nearest even), every projection's input
rounded to bf16, attention's q, k, v and unnormalised softmax weights rounded
to bf16 (lm.attention's bf16_products), products and sums, norms, softmax
statistics and the residual stream in f32 (numpy, float64 sums). The shapes
make the GPU take both tensor-core paths: K = 48 (not a multiple of the 32-wide chunk: element loads) and
K = 128 (16-byte loads); N = 48, 24, 40 leave partial tiles; 24 rows reach the
tensor-core kernel, decode's 2 rows the reduction kernel.

Checked when written: the same forward without rounding matches lmc's f32
model of `model/` to 1.5e-7 (max|diff| / max|ref|), so it is this llama.
`reference-kv-bf16.safetensors` holds the logits of that f32 model with a
bf16 KV cache (`lmc compile --kv-dtype bf16`: k and v rounded as written).

It also writes test/E2E/Inputs/bf16-batch, the same llama with a wider MLP
(intermediate 384) and input_ids [8, 24]: 192 rows take the wgmma tile (a
full and a half row tile; partial column tiles for N = 48, 40; K = 48 in
one partly empty 64-wide box, K = 384 in six K steps, which wrap its ring
of four stages).

    python3 scripts/make-bf16-fixture.py      # needs numpy
"""
import json
import os

import numpy as np

from fixture_io import write_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "E2E", "Inputs", "bf16")
CONFIG = {
    "model_type": "llama", "vocab_size": 40, "hidden_size": 48,
    "intermediate_size": 128, "num_hidden_layers": 1,
    "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
    "tie_word_embeddings": False, "max_position_embeddings": 64,
    "dtype": "float32",
    "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},
}


def shapes(c):
    h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd = h // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * hd
    p = "model.layers.0."
    return {
        "model.embed_tokens.weight": [v, h],
        p + "input_layernorm.weight": [h],
        p + "self_attn.q_proj.weight": [h, h],
        p + "self_attn.k_proj.weight": [kv, h],
        p + "self_attn.v_proj.weight": [kv, h],
        p + "self_attn.o_proj.weight": [h, h],
        p + "post_attention_layernorm.weight": [h],
        p + "mlp.gate_proj.weight": [i, h],
        p + "mlp.up_proj.weight": [i, h],
        p + "mlp.down_proj.weight": [h, i],
        "model.norm.weight": [h],
        "lm_head.weight": [v, h],
    }


def bf16(x):
    """Rounds f32 to the nearest bf16 (ties to even), kept as f32."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return (bits & 0xFFFFFFFF).astype(np.uint32).view(np.float32)


def forward(c, w, ids, bf16_arithmetic=True, bf16_cache=False):
    """The logits of `lmc compile --dtype bf16` (bf16_arithmetic), or of the
    f32 model whose KV cache stores bf16 (--kv-dtype bf16: k and v rounded
    as written, everything else f32)."""
    f32 = np.float32
    h, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd, eps = h // nh, c["rms_norm_eps"]
    rounded = bf16 if bf16_arithmetic else (lambda x: x)
    w = {k: rounded(v) for k, v in w.items()}

    def linear(x, name):
        return (rounded(x).astype(np.float64) @ w[name].astype(np.float64).T).astype(f32)

    def norm(x, name):
        ms = (x.astype(np.float64) ** 2).mean(-1, keepdims=True)
        return (x / np.sqrt(ms + eps) * w[name]).astype(f32)

    b, s = ids.shape
    inv = 1.0 / c["rope_parameters"]["rope_theta"] ** (np.arange(0, hd, 2) / hd)
    angle = np.arange(s)[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(angle)] * 2, -1)[None, :, None, :]
    sin = np.concatenate([np.sin(angle)] * 2, -1)[None, :, None, :]

    def rope(t):
        rotated = np.concatenate([-t[..., hd // 2:], t[..., :hd // 2]], -1)
        return t * cos + rotated * sin

    p = "model.layers.0."
    x = w["model.embed_tokens.weight"][ids]
    n = norm(x, p + "input_layernorm.weight")
    q = rope(linear(n, p + "self_attn.q_proj.weight").reshape(b, s, nh, hd))
    k = rope(linear(n, p + "self_attn.k_proj.weight").reshape(b, s, nkv, hd))
    v = linear(n, p + "self_attn.v_proj.weight").reshape(b, s, nkv, hd)
    # Attention's bf16 products: q, k, v and the unnormalised weights
    # rounded, the max and the sum of (unrounded) weights exact. A bf16
    # cache rounds k and v.
    q = rounded(q)
    if bf16_arithmetic or bf16_cache:
        k, v = bf16(k), bf16(v)
    k, v = np.repeat(k, nh // nkv, 2), np.repeat(v, nh // nkv, 2)
    scores = np.einsum("bqhd,bkhd->bhqk", q.astype(np.float64), k) / np.sqrt(hd)
    scores = scores + np.triu(np.full((s, s), -np.inf), 1)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    probs = rounded(weights) / weights.sum(-1, keepdims=True)
    attn = np.einsum("bhqk,bkhd->bqhd", probs, v).reshape(b, s, h).astype(f32)
    x = x + linear(attn, p + "self_attn.o_proj.weight")
    n = norm(x, p + "post_attention_layernorm.weight")
    gate = linear(n, p + "mlp.gate_proj.weight")
    up = linear(n, p + "mlp.up_proj.weight")
    x = x + linear((gate / (1 + np.exp(-gate)) * up).astype(f32),
                   p + "mlp.down_proj.weight")
    return linear(norm(x, "model.norm.weight"), "lm_head.weight")


def write_fixture(out, config, ids_for, with_bf16_cache=False):
    state = 12345

    def uniform(count):
        nonlocal state
        out = np.empty(count, np.float32)
        for i in range(count):
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            out[i] = ((state >> 40) / float(1 << 24) - 0.5) * 0.8  # [-0.4, 0.4)
        return out

    weights = {}
    for name, shape in shapes(config).items():
        values = uniform(int(np.prod(shape))).reshape(shape)
        weights[name] = values + 1.0 if name.endswith("norm.weight") else values
    model = os.path.join(out, "model")
    os.makedirs(model, exist_ok=True)
    with open(os.path.join(model, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    write_safetensors(os.path.join(model, "model.safetensors"), weights)
    ids = ids_for(uniform)
    logits = forward(config, weights, ids)
    write_safetensors(os.path.join(out, "reference.safetensors"),
                      {"input_ids": ids, "logits": logits})
    print(f"wrote {out}: logits {list(logits.shape)}")
    if with_bf16_cache:
        logits = forward(config, weights, ids, bf16_arithmetic=False,
                         bf16_cache=True)
        write_safetensors(os.path.join(out, "reference-kv-bf16.safetensors"),
                          {"input_ids": ids, "logits": logits})


def main():
    write_fixture(OUT, CONFIG, lambda uniform: np.array(
        [[1, 5, 9, 2, 14, 3, 7, 11, 0, 6, 30, 39],
         [38, 4, 8, 21, 17, 12, 25, 33, 10, 19, 27, 36]], np.int64),
        with_bf16_cache=True)
    wide = dict(CONFIG, intermediate_size=384)
    vocab = wide["vocab_size"]
    write_fixture(OUT + "-batch", wide, lambda uniform: (
        (uniform(8 * 24) + 0.4) / 0.8 * vocab).astype(np.int64).clip(
            0, vocab - 1).reshape(8, 24))


if __name__ == "__main__":
    main()
