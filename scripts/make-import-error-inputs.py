#!/usr/bin/env python3
"""Writes the malformed model folders that test/Import/errors.test feed to
`lmc import`. Plain Python (no numpy/torch): the fixtures are committed, this
script documents and regenerates them.

    python3 scripts/make-import-error-inputs.py test/Import/Inputs
"""
import json
import os
import shutil
import struct
import sys

TINY = {
    "model_type": "llama", "vocab_size": 16, "hidden_size": 8,
    "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
    "num_key_value_heads": 1, "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
    "max_position_embeddings": 64, "dtype": "float32",
    "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},
}
D, V, I, HD = 8, 16, 16, 4
TENSORS = {
    "model.embed_tokens.weight": [V, D],
    "model.layers.0.input_layernorm.weight": [D],
    "model.layers.0.self_attn.q_proj.weight": [2 * HD, D],
    "model.layers.0.self_attn.k_proj.weight": [HD, D],
    "model.layers.0.self_attn.v_proj.weight": [HD, D],
    "model.layers.0.self_attn.o_proj.weight": [D, 2 * HD],
    "model.layers.0.post_attention_layernorm.weight": [D],
    "model.layers.0.mlp.gate_proj.weight": [I, D],
    "model.layers.0.mlp.up_proj.weight": [I, D],
    "model.layers.0.mlp.down_proj.weight": [D, I],
    "model.norm.weight": [D],
    "lm_head.weight": [V, D],
}


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def safetensors(tensors, dtypes=None):
    """Bytes of a safetensors file holding zeros of the given shapes."""
    header, offset = {}, 0
    for name, shape in tensors.items():
        dtype = (dtypes or {}).get(name, "F32")
        size = numel(shape) * (8 if dtype == "I64" else 4)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header).encode()
    return struct.pack("<Q", len(blob)) + blob + bytes(offset)


def folder(root, name, config=None, weights=None, raw_config=None):
    path = os.path.join(root, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    with open(os.path.join(path, "config.json"), "w") as f:
        f.write(raw_config if raw_config is not None
                else json.dumps(config or TINY, indent=1))
    if weights is not None:
        with open(os.path.join(path, "model.safetensors"), "wb") as f:
            f.write(weights)
    return path


def main(root):
    os.makedirs(root, exist_ok=True)
    good = safetensors(TENSORS)
    folder(root, "tiny-llama", weights=good)
    folder(root, "bad-json", raw_config='{"model_type": "llama", "hidden_size": 8,')
    folder(root, "not-an-object", raw_config='[1, 2, 3]')
    folder(root, "no-model-type", config={k: v for k, v in TINY.items() if k != "model_type"})
    folder(root, "unknown-type", config={**TINY, "model_type": "gpt9"})
    folder(root, "missing-field", config={k: v for k, v in TINY.items() if k != "hidden_size"})
    folder(root, "negative-field", config={**TINY, "num_attention_heads": -2})
    folder(root, "string-field", config={**TINY, "num_hidden_layers": "two"})
    folder(root, "heads-not-dividing", config={**TINY, "num_key_value_heads": 3})
    folder(root, "bad-rope", config={**TINY, "rope_parameters": {"rope_type": "dynamic", "factor": 2.0}})
    folder(root, "topk-too-large", config={
        **TINY, "model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 8})
    folder(root, "layer-types-short", config={**TINY, "num_hidden_layers": 2,
                                              "layer_types": ["full_attention"]})
    folder(root, "truncated", weights=good[: len(good) - 40])
    folder(root, "tiny-file", weights=b"\x01\x02")
    folder(root, "huge-header", weights=struct.pack("<Q", 1 << 40) + b"{}")
    folder(root, "bad-header", weights=struct.pack("<Q", 9) + b"{not json" + bytes(8))
    folder(root, "lying-size", weights=safetensors(TENSORS).replace(
        b'"shape": [16, 8]', b'"shape": [16, 9]', 1))
    folder(root, "missing-tensor", weights=safetensors(
        {k: v for k, v in TENSORS.items() if "v_proj" not in k}))
    folder(root, "wrong-shape", weights=safetensors(
        {**TENSORS, "model.layers.0.self_attn.k_proj.weight": [HD, D + 1]}))
    folder(root, "wrong-dtype", weights=safetensors(
        TENSORS, {"model.layers.0.input_layernorm.weight": "I64"}))
    # Sharded: the index names a shard that is not there.
    path = folder(root, "missing-shard")
    names = list(TENSORS)
    half = {n: TENSORS[n] for n in names[:6]}
    with open(os.path.join(path, "model-00001-of-00002.safetensors"), "wb") as f:
        f.write(safetensors(half))
    index = {"metadata": {}, "weight_map": {
        n: "model-0000%d-of-00002.safetensors" % (1 if n in half else 2) for n in names}}
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=1)
    # Sharded and complete: imports cleanly.
    path = folder(root, "sharded")
    with open(os.path.join(path, "model-00001-of-00002.safetensors"), "wb") as f:
        f.write(safetensors(half))
    with open(os.path.join(path, "model-00002-of-00002.safetensors"), "wb") as f:
        f.write(safetensors({n: TENSORS[n] for n in names[6:]}))
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/Import/Inputs")
