#!/usr/bin/env python3
"""Writes the tokenizer.json reference tests: test/Runtime/Inputs/tokenizers/<name>/
tokenizer.json and reference.json for each pipeline lmc implements.

Each tokenizer.json has the normalizer, pre-tokenizer, post-processor and decoder
of a real model family, written as that family's file spells them (GPT-2,
SmolLM2, Llama 3, Qwen2/3, DeepSeek-V3, GPT-OSS; Llama 2, Mistral and Gemma 3's
SentencePiece-style BPE with byte fallback), with a small BPE vocabulary
trained here so that the files stay small. reference.json holds, for every
string of a corpus with whitespace runs, digits, punctuation, CJK, emoji,
accents, combining marks, special tokens and invalid UTF-8 (read as Python's
errors="replace" does), what the `tokenizers` package (PyPI; used only to make
these files) gives: ids without and with special tokens, and the text decoded
from them with and without special tokens.

    pip install tokenizers
    python3 scripts/make-tokenizer-references.py
    python3 scripts/make-tokenizer-references.py FOLDER OUT.json   # a real folder's
"""
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "Runtime", "Inputs", "tokenizers")
SP = "\u2581"

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
O200K_PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                 r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                 r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
DEEPSEEK_PATTERNS = [
    r"\p{N}{1,3}",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
]


def split(pattern, behavior="Isolated", invert=False, regex=True):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern},
            "behavior": behavior, "invert": invert}


def byte_level(prefix=False, regex=True):
    return {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": regex}


def sequence(key, items):
    return {"type": "Sequence", key: items}


def template(prefix_tokens, specials):
    single = [{"SpecialToken": {"id": t, "type_id": 0}} for t in prefix_tokens]
    single.append({"Sequence": {"id": "A", "type_id": 0}})
    return {"type": "TemplateProcessing", "single": single,
            "pair": single + [{"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [specials[t]], "tokens": [t]} for t in prefix_tokens}}


CORPUS = """The quick brown fox jumps over the lazy dog. It's a beautiful day, isn't it?
We'll see what they've done; I'd say they're right. You'll LOVE IT'S DONE.
In 2024 there were 366 days, and pi is about 3.14159265. Call 555-0100 now!
def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)
for (int i = 0; i < 10; ++i) { sum += values[i] * 2; }
Café au lait, crème brûlée, naïve résumé, Straße, Ærø, São Paulo, Kraków.
Machine learning models process tokens; tokenizers split text into pieces.
Hello world! Hello, world. HELLO WORLD? hello... world!!!
東京は日本の首都です。中文文本处理。こんにちは世界。カタカナ。
Привет, мир! Γειά σου κόσμε. مرحبا بالعالم. שלום עולם.
   Indented text\twith tabs\tand  double  spaces.\r\nWindows line end.
The model's answer was "42", said the user's assistant.
https://example.com/path?query=value&other=1 user@example.com
Numbers: 1, 12, 123, 1234, 12345, 123456, 0.5, -7, 1e10, 3/4.
"""

STRINGS = [
    "Hello world, this is a test.",
    "The year 2024 had 366 days; pi is about 3.14159!",
    "I'm sure they'll say it's fine, we've done what we'd planned. IT'S DONE, WE'LL SEE.",
    "  leading spaces,\ttabs\tand\n\nnew lines  \n",
    "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e co\u00fbte 5\u20ac \u2014 \u00ab tr\u00e8s bon \u00bb.",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u4e2d\u6587\u3002\u3053\u3093\u306b\u3061\u306f",
    "Emoji: \U0001F600\U0001F680 and \u00fcbermorgen, \u0394\u03b5\u03bb\u03c4\u03b1. \U0001F468\u200d\U0001F469\u200d\U0001F467",
    "def f(x):\n    return x**2 + 1  # square\r\n\r\n",
    "e\u0301t\u00e9 vs \u00e9t\u00e9 (combining marks), \ufb01ne \u2460 \uff21\uff22\uff23",
    "Numbers 1234567 and 12,345.678 and \u0661\u0662\u0663 and \u00bd",
    "                 many spaces then text",
    "",
    " ",
    "\n",
    "a",
    "Hello\u00a0non-breaking\u2003em-space\u3000ideographic",
    "https://example.com/a/b?c=d&e=f   user@example.com",
    "\U0001F600",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u05e9\u05dc\u05d5\u05dd \u041f\u0440\u0438\u0432\u0435\u0442",
    "MixedCASE camelCase snake_case SCREAMING_CASE kebab-case",
    "'s 's 'S 'LL 'll'd",
]
# Bytes that are not UTF-8, read as Python's errors="replace" reads them.
INVALID = [b"abc\xff\xfe def \xe2\x82 xyz \xc3", b"\xf0\x9f\x98 truncated emoji", b"\xed\xa0\x80 surrogate"]


def train(pre, normalizer, vocab_size, specials, alphabet=None, limit_alphabet=None):
    tok = Tokenizer(models.BPE())
    if normalizer:
        tok.normalizer = Tokenizer.from_str(json.dumps(minimal(normalizer=normalizer))).normalizer
    tok.pre_tokenizer = pre
    kwargs = dict(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    if alphabet is not None:
        kwargs["initial_alphabet"] = alphabet
    if limit_alphabet is not None:
        kwargs["limit_alphabet"] = limit_alphabet
    tok.train_from_iterator(CORPUS.splitlines(keepends=True) * 3, trainers.BpeTrainer(**kwargs))
    model = json.loads(tok.to_str())["model"]
    return model["vocab"], [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]


def minimal(**parts):
    base = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": None, "pre_tokenizer": None, "post_processor": None, "decoder": None,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False, "vocab": {}, "merges": []}}
    base.update(parts)
    return base


def added(content, id, special=True, **flags):
    entry = {"id": id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": not special, "special": special}
    entry.update(flags)
    return entry


def byte_level_family(name, pre, specials, post_prefix=None, normalizer=None, ignore_merges=False,
                      merges_as_pairs=False, extra_added=()):
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    train_pre = Tokenizer.from_str(json.dumps(minimal(pre_tokenizer=pre))).pre_tokenizer
    vocab, merges = train(train_pre, normalizer, 1200, [], alphabet=alphabet)
    n = len(vocab)
    added_tokens = [added(t, n + i) for i, t in enumerate(specials)]
    for content, flags in extra_added:
        added_tokens.append(added(content, n + len(added_tokens), **flags))
    ids = {t["content"]: t["id"] for t in added_tokens}
    doc = minimal(added_tokens=added_tokens, normalizer=normalizer, pre_tokenizer=pre,
                  decoder=byte_level(), post_processor=template(post_prefix, ids) if post_prefix else byte_level())
    doc["model"].update(vocab=vocab, ignore_merges=ignore_merges,
                        merges=[m.split(" ") for m in merges] if merges_as_pairs else merges)
    return name, doc


def sentencepiece_family(name, normalizer, pre, decoder, specials, bos, extra_added=()):
    # Trained on Metaspace words; lmc and tokenizers then run the family's own pipeline.
    train_pre = pre_tokenizers.Metaspace(replacement=SP, prepend_scheme="always", split=True)
    vocab, merges = train(train_pre, None, 900, [], limit_alphabet=60)
    order = specials + ["<0x%02X>" % b for b in range(256)] + [t for t in vocab if t not in specials]
    vocab = {t: i for i, t in enumerate(order)}
    added_tokens = [added(t, vocab[t]) for t in specials]
    for content, flags in extra_added:
        added_tokens.append(added(content, len(vocab) + len(added_tokens) - len(specials), **flags))
    ids = {t["content"]: t["id"] for t in added_tokens}
    doc = minimal(added_tokens=added_tokens, normalizer=normalizer, pre_tokenizer=pre, decoder=decoder,
                  post_processor=template([bos], ids))
    doc["model"].update(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True)
    return name, doc


def families():
    yield byte_level_family("gpt2", byte_level(), ["<|endoftext|>"])
    yield byte_level_family("smollm2", sequence("pretokenizers", [
        {"type": "Digits", "individual_digits": True}, byte_level()]),
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    yield byte_level_family("llama3", sequence("pretokenizers", [
        split(LLAMA3_PATTERN), byte_level(regex=False)]),
        ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        post_prefix=["<|begin_of_text|>"], ignore_merges=True)
    yield byte_level_family("qwen3", sequence("pretokenizers", [
        split(QWEN2_PATTERN), byte_level(regex=False)]),
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], normalizer={"type": "NFC"},
        merges_as_pairs=True, extra_added=[("<think>", {"special": False}), ("</think>", {"special": False})])
    yield byte_level_family("deepseek_v3", sequence("pretokenizers",
        [split(p) for p in DEEPSEEK_PATTERNS] + [byte_level(regex=False)]),
        ["<\uff5cbegin\u2581of\u2581sentence\uff5c>", "<\uff5cend\u2581of\u2581sentence\uff5c>",
         "<\uff5cUser\uff5c>", "<\uff5cAssistant\uff5c>"],
        post_prefix=["<\uff5cbegin\u2581of\u2581sentence\uff5c>"])
    yield byte_level_family("gpt_oss", sequence("pretokenizers", [
        split(O200K_PATTERN), byte_level(regex=False)]),
        ["<|start|>", "<|message|>", "<|end|>", "<|channel|>", "<|return|>"])
    replace_sp = {"type": "Replace", "pattern": {"String": SP}, "content": " "}
    yield sentencepiece_family("llama2", sequence("normalizers", [
        {"type": "Prepend", "prepend": SP}, {"type": "Replace", "pattern": {"String": " "}, "content": SP}]),
        None, sequence("decoders", [replace_sp, {"type": "ByteFallback"}, {"type": "Fuse"},
                                           {"type": "Strip", "content": " ", "start": 1, "stop": 0}]),
        ["<unk>", "<s>", "</s>"], "<s>",
        extra_added=[("<mask>", {"special": True, "lstrip": True, "rstrip": True, "normalized": False}),
                     ("New York", {"special": False, "normalized": True})])
    yield sentencepiece_family("mistral", None,
        {"type": "Metaspace", "replacement": SP, "prepend_scheme": "first", "split": False},
        {"type": "Metaspace", "replacement": SP, "prepend_scheme": "first", "split": False},
        ["<unk>", "<s>", "</s>", "[INST]", "[/INST]"], "<s>")
    yield sentencepiece_family("gemma3", {"type": "Replace", "pattern": {"String": " "}, "content": SP},
        split(" ", "MergedWithPrevious", regex=False),
        sequence("decoders", [replace_sp, {"type": "ByteFallback"}, {"type": "Fuse"}]),
        ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"], "<bos>")


def reference(tok, added_tokens, path):
    specials = [t["content"] for t in added_tokens]
    strings = list(STRINGS)
    # The added tokens inside text, at the start, glued to words and spaced.
    strings.append(specials[0] + "Hello" + specials[-1] + " world " + specials[0] + "\n" + " ".join(specials))
    strings.append("x " + " ".join(specials) + "  x")
    cases = [{"text": s} for s in strings] + [{"hex": b.hex()} for b in INVALID]
    for case in cases:
        s = case["text"] if "text" in case else bytes.fromhex(case["hex"]).decode("utf-8", "replace")
        case["ids"] = tok.encode(s, add_special_tokens=False).ids
        case["ids_with_special"] = tok.encode(s, add_special_tokens=True).ids
        case["decoded"] = tok.decode(case["ids_with_special"], skip_special_tokens=False)
        case["decoded_skip_special"] = tok.decode(case["ids_with_special"], skip_special_tokens=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"tokenizers": tokenizers.__version__, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return len(cases)


def main():
    if len(sys.argv) == 3:
        with open(os.path.join(sys.argv[1], "tokenizer.json"), encoding="utf-8") as f:
            doc = json.load(f)
        tok = Tokenizer.from_file(os.path.join(sys.argv[1], "tokenizer.json"))
        print(sys.argv[1], reference(tok, doc["added_tokens"], sys.argv[2]), "cases")
        return
    for name, doc in families():
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        text = json.dumps(doc, ensure_ascii=False, indent=1)
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(text + "\n")
        tok = Tokenizer.from_str(text)
        cases = reference(tok, doc["added_tokens"], os.path.join(folder, "reference.json"))
        print(name, len(doc["model"]["vocab"]), "tokens", cases, "cases")


if __name__ == "__main__":
    main()
