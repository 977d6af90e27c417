#!/usr/bin/env python3
"""Converts SmolLM2-135M-Instruct's GGUF into a Hugging Face folder, the input
lmc is built around: config.json, model.safetensors (float32, the GGUF's
dequantised weights with llama.cpp's q/k row permutation undone, so both paths
run the same numbers), generation_config.json, and the tokenizer as
transformers' GGUF loader builds it (`convert_gguf_tokenizer`) and
`save_pretrained` writes it: tokenizer.json, tokenizer_config.json and the real
chat template as chat_template.jinja. Needs numpy, gguf, tokenizers and
transformers (PyPI; `make check` installs them beside the model), not torch:

    python3 scripts/make-smollm2-folder.py SmolLM2-135M-Instruct.Q4_1.gguf DEST
"""
import json
import os
import struct
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}


def unpermute(w, heads):
    return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".part", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(path + ".part", path)


def tokenizer(reader, meta, dest):
    # Imported here: transformers is only needed for the tokenizer files.
    from transformers import PreTrainedTokenizerFast
    from transformers.integrations.gguf.gguf_tokenizer_mapping import convert_gguf_tokenizer

    def strings(key):
        f = reader.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tokens = strings("tokenizer.ggml.tokens")
    tokenizer_dict = {
        "tokenizer_type": meta["tokenizer.ggml.model"],
        "pre_tokenizer_type": meta.get("tokenizer.ggml.pre"),
        "tokens": tokens,
        "merges": strings("tokenizer.ggml.merges"),
        "token_type": list(reader.fields["tokenizer.ggml.token_type"].contents()),
    }
    backend, _ = convert_gguf_tokenizer(meta["general.architecture"], tokenizer_dict)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=tokens[meta["tokenizer.ggml.bos_token_id"]],
        eos_token=tokens[meta["tokenizer.ggml.eos_token_id"]],
        unk_token=tokens[meta["tokenizer.ggml.unknown_token_id"]],
        pad_token=tokens[meta["tokenizer.ggml.padding_token_id"]],
    )
    fast.chat_template = meta["tokenizer.chat_template"]
    fast.save_pretrained(dest)


def main(path, dest):
    reader = GGUFReader(path)
    meta = {k: f.contents() for k, f in reader.fields.items()
            if k not in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type")}
    heads = meta["llama.attention.head_count"]
    kv_heads = meta["llama.attention.head_count_kv"]
    os.makedirs(dest, exist_ok=True)

    tensors = {}
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).reshape([int(d) for d in reversed(t.shape)])
        if t.name == "token_embd.weight":
            tensors["model.embed_tokens.weight"] = w
        elif t.name == "output_norm.weight":
            tensors["model.norm.weight"] = w
        elif t.name == "output.weight":
            tensors["lm_head.weight"] = w
        else:
            _, layer, rest = t.name.split(".", 2)
            if rest == "attn_q.weight":
                w = unpermute(w, heads)
            elif rest == "attn_k.weight":
                w = unpermute(w, kv_heads)
            tensors[f"model.layers.{layer}.{NAMES[rest]}"] = w
    write_safetensors(os.path.join(dest, "model.safetensors"), tensors)

    hidden = meta["llama.embedding_length"]
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": meta["llama.feed_forward_length"],
        "num_hidden_layers": meta["llama.block_count"],
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": hidden // heads,
        "hidden_act": "silu",
        "max_position_embeddings": meta["llama.context_length"],
        "rms_norm_eps": float(meta["llama.attention.layer_norm_rms_epsilon"]),
        "rope_theta": float(meta["llama.rope.freq_base"]),
        "vocab_size": len(reader.fields["tokenizer.ggml.tokens"].data),
        "tie_word_embeddings": "lm_head.weight" not in tensors,
        "attention_bias": False,
        "mlp_bias": False,
        "bos_token_id": meta["tokenizer.ggml.bos_token_id"],
        "eos_token_id": meta["tokenizer.ggml.eos_token_id"],
        "torch_dtype": "float32",
    }
    with open(os.path.join(dest, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(dest, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"]}, f, indent=2)
    tokenizer(reader, meta, dest)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
