#!/usr/bin/env python3
"""Writes test/E2E/Inputs/mla-prompt: a one-layer DeepSeek (deepseek_v3
architecture, no q LoRA, a dense MLP) with DeepSeek-V2-Lite's attention
dims (nope 128 + rope 64 = Dk 192, Dv 128) on 2 heads and a latent of 64,
random f32 weights from a fixed seed (`model/`), and `input.safetensors`
with input_ids [2, 80]. Under --dtype bf16 on sm_90a the prompt runs MLA's
expanded form on flash attention (Dk 192: 48 KB and 32 bytes of dynamic
shared memory; 80 tokens: a full and a partial tile of 64 keys and of 64
rows), the decode steps flash MLA decoding; test/GPU/Run/mla-prompt.test
holds both to the host's bf16 arithmetic.

    python3 scripts/make-mla-fixture.py      # needs numpy
"""
import json
import os

import numpy as np

from fixture_io import write_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "E2E", "Inputs", "mla-prompt")
HEADS, NOPE, ROPE, VALUE, LATENT = 2, 128, 64, 128, 64
HIDDEN, INTERMEDIATE, VOCAB = 64, 64, 64
CONFIG = {
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "attention_bias": False, "dtype": "float32", "first_k_dense_replace": 1,
    "hidden_act": "silu", "hidden_size": HIDDEN,
    "intermediate_size": INTERMEDIATE, "kv_lora_rank": LATENT,
    "max_position_embeddings": 256, "moe_intermediate_size": 32,
    "n_group": 1, "n_routed_experts": 4, "n_shared_experts": 1,
    "norm_topk_prob": True, "num_attention_heads": HEADS,
    "num_experts_per_tok": 2, "num_hidden_layers": 1,
    "num_key_value_heads": HEADS, "q_lora_rank": None,
    "qk_head_dim": NOPE + ROPE, "qk_nope_head_dim": NOPE,
    "qk_rope_head_dim": ROPE, "rms_norm_eps": 1e-06, "rope_interleave": True,
    "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"},
    "routed_scaling_factor": 1.0, "tie_word_embeddings": False,
    "topk_group": 1, "v_head_dim": VALUE, "vocab_size": VOCAB,
}


def shapes():
    p = "model.layers.0."
    a = p + "self_attn."
    return {
        "model.embed_tokens.weight": [VOCAB, HIDDEN],
        p + "input_layernorm.weight": [HIDDEN],
        a + "q_proj.weight": [HEADS * (NOPE + ROPE), HIDDEN],
        a + "kv_a_proj_with_mqa.weight": [LATENT + ROPE, HIDDEN],
        a + "kv_a_layernorm.weight": [LATENT],
        a + "kv_b_proj.weight": [HEADS * (NOPE + VALUE), LATENT],
        a + "o_proj.weight": [HIDDEN, HEADS * VALUE],
        p + "post_attention_layernorm.weight": [HIDDEN],
        p + "mlp.gate_proj.weight": [INTERMEDIATE, HIDDEN],
        p + "mlp.up_proj.weight": [INTERMEDIATE, HIDDEN],
        p + "mlp.down_proj.weight": [HIDDEN, INTERMEDIATE],
        "model.norm.weight": [HIDDEN],
        "lm_head.weight": [VOCAB, HIDDEN],
    }


def main():
    rng = np.random.default_rng(20261207)
    weights = {}
    for name, shape in shapes().items():
        if len(shape) == 1:  # norms: around 1
            w = 1.0 + 0.1 * rng.standard_normal(shape)
        else:  # unit-variance outputs for unit-variance inputs
            w = rng.standard_normal(shape) / np.sqrt(shape[-1])
        weights[name] = w.astype(np.float32)
    os.makedirs(os.path.join(OUT, "model"), exist_ok=True)
    with open(os.path.join(OUT, "model", "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(OUT, "model", "model.safetensors"),
                      weights)
    ids = rng.integers(0, VOCAB, size=(2, 80)).astype(np.int64)
    write_safetensors(os.path.join(OUT, "input.safetensors"),
                      {"input_ids": ids})


if __name__ == "__main__":
    main()
