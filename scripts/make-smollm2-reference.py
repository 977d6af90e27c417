#!/usr/bin/env python3
"""Writes test/E2E/Inputs/smollm2-reference.safetensors: input_ids of a fixed
prompt and the logits an independent numpy implementation of the llama
forward pass (Hugging Face semantics, float64) computes from the GGUF's
dequantised weights (gguf's own dequantiser; llama.cpp's q/k row permutation
undone). Needs numpy and gguf:

    python3 scripts/make-smollm2-reference.py build/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import json
import os
import struct
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# "The capital of France is" in SmolLM2's tokenizer (lmc-tokenize agrees).
PROMPT = [504, 3575, 282, 4649, 314]


def main(path):
    r = GGUFReader(path)
    meta = {k: f.contents() for k, f in r.fields.items()
            if not k.startswith("tokenizer.ggml")}
    L = meta["llama.block_count"]
    D = meta["llama.embedding_length"]
    H = meta["llama.attention.head_count"]
    KV = meta["llama.attention.head_count_kv"]
    eps = meta["llama.attention.layer_norm_rms_epsilon"]
    theta = meta["llama.rope.freq_base"]
    hd = D // H
    W = {}
    for t in r.tensors:
        shape = [int(d) for d in reversed(t.shape)]
        W[t.name] = dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float64)

    def unpermute(w, heads):
        return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    ids = np.array([PROMPT], dtype=np.int64)
    S = ids.shape[1]
    inv = 1.0 / theta ** (np.arange(0, hd, 2) / hd)
    ang = np.arange(S)[:, None] * inv[None]
    cos = np.cos(np.concatenate([ang, ang], -1))
    sin = np.sin(np.concatenate([ang, ang], -1))

    def rope(x):
        half = hd // 2
        rot = np.concatenate([-x[..., half:], x[..., :half]], -1)
        return x * cos[None, :, None] + rot * sin[None, :, None]

    h = W["token_embd.weight"][ids]
    mask = np.triu(np.full((S, S), -np.inf), 1)
    for i in range(L):
        p = f"blk.{i}."
        x = rms(h, W[p + "attn_norm.weight"])
        q = rope((x @ unpermute(W[p + "attn_q.weight"], H).T).reshape(1, S, H, hd))
        k = rope((x @ unpermute(W[p + "attn_k.weight"], KV).T).reshape(1, S, KV, hd))
        v = (x @ W[p + "attn_v.weight"].T).reshape(1, S, KV, hd)
        k = np.repeat(k, H // KV, 2)
        v = np.repeat(v, H // KV, 2)
        s = np.einsum("bthd,bshd->bhts", q, k) / np.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("bhts,bshd->bthd", s, v).reshape(1, S, H * hd)
        h = h + o @ W[p + "attn_output.weight"].T
        x = rms(h, W[p + "ffn_norm.weight"])
        g = x @ W[p + "ffn_gate.weight"].T
        u = x @ W[p + "ffn_up.weight"].T
        h = h + (g / (1 + np.exp(-g)) * u) @ W[p + "ffn_down.weight"].T
    head = W.get("output.weight", W["token_embd.weight"])
    logits = (rms(h, W["output_norm.weight"]) @ head.T).astype(np.float32)

    tensors = {"input_ids": ids, "logits": logits}
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        b = a.tobytes()
        header[name] = {"dtype": "I64" if a.dtype == np.int64 else "F32",
                        "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    out = os.path.join(ROOT, "test", "E2E", "Inputs", "smollm2-reference.safetensors")
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    main(sys.argv[1])
