#!/usr/bin/env python3
"""Writes test/Import/Inputs/gguf/: a tiny llama GGUF made from the golden
llama's weights (embedding Q8_0, projections Q4_1 / Q4_0 / F16, norms F32,
q/k rows permuted as llama.cpp's converter does), and reference.safetensors
with logits computed from the same dequantised weights by an independent
numpy forward pass (Hugging Face llama semantics, half-split RoPE on the
un-permuted weights). Needs numpy and the gguf package:

    python3 scripts/make-gguf-fixture.py
"""
import json
import os
import struct

import gguf
import numpy as np
from gguf.quants import dequantize, quantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "models", "golden", "llama")
OUT = os.path.join(ROOT, "test", "Import", "Inputs", "gguf")


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[k] = np.frombuffer(data[a:b], dtype=dt).reshape(v["shape"])
    return out


def permute(w, heads):
    # llama.cpp convert_hf_to_gguf: rotate-half pairs become adjacent rows.
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, heads):
    return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    cfg = json.load(open(os.path.join(GOLDEN, "config.json")))
    W = load(os.path.join(GOLDEN, "model.safetensors"))
    ref = load(os.path.join(GOLDEN, "reference.safetensors"))
    H, KV, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["hidden_size"]
    L, V, I = cfg["num_hidden_layers"], cfg["vocab_size"], cfg["intermediate_size"]
    hd = D // H
    theta = cfg["rope_parameters"]["rope_theta"]
    eps = cfg["rms_norm_eps"]
    T = gguf.GGMLQuantizationType
    names = {"model.embed_tokens.weight": ("token_embd.weight", T.Q8_0),
             "model.norm.weight": ("output_norm.weight", T.F32),
             "lm_head.weight": ("output.weight", T.Q8_0)}
    layer = {"input_layernorm.weight": ("attn_norm.weight", T.F32),
             "post_attention_layernorm.weight": ("ffn_norm.weight", T.F32),
             "self_attn.q_proj.weight": ("attn_q.weight", T.Q4_1),
             "self_attn.k_proj.weight": ("attn_k.weight", T.Q4_1),
             "self_attn.v_proj.weight": ("attn_v.weight", T.Q4_0),
             "self_attn.o_proj.weight": ("attn_output.weight", T.F16),
             "mlp.gate_proj.weight": ("ffn_gate.weight", T.Q4_1),
             "mlp.up_proj.weight": ("ffn_up.weight", T.Q8_0),
             "mlp.down_proj.weight": ("ffn_down.weight", T.Q4_0)}
    for i in range(L):
        for hf, (gg, t) in layer.items():
            names[f"model.layers.{i}.{hf}"] = (f"blk.{i}.{gg}", t)

    os.makedirs(OUT, exist_ok=True)
    writer = gguf.GGUFWriter(os.path.join(OUT, "tiny-llama.gguf"), "llama")
    writer.add_block_count(L)
    writer.add_context_length(cfg["max_position_embeddings"])
    writer.add_embedding_length(D)
    writer.add_feed_forward_length(I)
    writer.add_head_count(H)
    writer.add_head_count_kv(KV)
    writer.add_rope_freq_base(theta)
    writer.add_layer_norm_rms_eps(eps)
    writer.add_vocab_size(V)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_1)
    dequantised = {}
    for hf, (gg, t) in names.items():
        w = W[hf].astype(np.float32)
        if hf.endswith("q_proj.weight"):
            w = permute(w, H)
        elif hf.endswith("k_proj.weight"):
            w = permute(w, KV)
        data = quantize(w, t) if t not in (T.F32, T.F16) else w.astype(np.float16 if t == T.F16 else np.float32)
        writer.add_tensor(gg, data, raw_dtype=t)
        back = dequantize(data, t).reshape(w.shape).astype(np.float64) if t not in (T.F32, T.F16) else data.astype(np.float64)
        if hf.endswith("q_proj.weight"):
            back = unpermute(back, H)
        elif hf.endswith("k_proj.weight"):
            back = unpermute(back, KV)
        dequantised[hf] = back
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    # Independent reference: HF llama forward in float64 on the dequantised weights.
    ids = ref["input_ids"]
    B, S = ids.shape
    P = dequantised
    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w
    inv = 1.0 / theta ** (np.arange(0, hd, 2) / hd)
    ang = np.arange(S)[:, None] * inv[None]
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
    def rope(x):
        half = hd // 2
        rot = np.concatenate([-x[..., half:], x[..., :half]], -1)
        return x * cos[None, :, None] + rot * sin[None, :, None]
    h = P["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((S, S), -np.inf), 1)
    for i in range(L):
        p = f"model.layers.{i}."
        x = rms(h, P[p + "input_layernorm.weight"])
        q = rope((x @ P[p + "self_attn.q_proj.weight"].T).reshape(B, S, H, hd))
        k = rope((x @ P[p + "self_attn.k_proj.weight"].T).reshape(B, S, KV, hd))
        v = (x @ P[p + "self_attn.v_proj.weight"].T).reshape(B, S, KV, hd)
        k = np.repeat(k, H // KV, 2)
        v = np.repeat(v, H // KV, 2)
        s = np.einsum("bthd,bshd->bhts", q, k) / np.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("bhts,bshd->bthd", s, v).reshape(B, S, H * hd)
        h = h + o @ P[p + "self_attn.o_proj.weight"].T
        x = rms(h, P[p + "post_attention_layernorm.weight"])
        g = x @ P[p + "mlp.gate_proj.weight"].T
        u = x @ P[p + "mlp.up_proj.weight"].T
        h = h + (g / (1 + np.exp(-g)) * u) @ P[p + "mlp.down_proj.weight"].T
    logits = rms(h, P["model.norm.weight"]) @ P["lm_head.weight"].T

    tensors = {"input_ids": ids.astype(np.int64), "logits": logits.astype(np.float32)}
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        b = a.tobytes()
        header[name] = {"dtype": "I64" if a.dtype == np.int64 else "F32",
                        "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(OUT, "reference.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    main()
