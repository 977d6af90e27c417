#!/usr/bin/env python3
"""Writes the chat template reference tests: for each real chat template in
test/Runtime/Inputs/chat-templates/<template>.jinja and each of its cases,
<template>.<case>.json (the variables the template sees) and
<template>.<case>.out (the exact text jinja2 renders), and the lit test
test/Runtime/chat-template.test that renders every case with lmc-tokenize
--render-template and diffs it, or checks the error of the cases that must
fail (raise-*: raise_exception; error-*: another runtime error).

jinja2 (PyPI; used only to make these files) is set up exactly as
transformers' chat_template_utils._cached_compile_jinja_template does:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
extensions=[AssistantTracker, jinja2.ext.loopcontrols]) where
AssistantTracker adds the {% generation %} tag (its body renders unchanged),
the `tojson` filter replaced by json.dumps(x, ensure_ascii=False,
indent=indent, separators=separators, sort_keys=sort_keys), and the globals
raise_exception(message), strftime_now(format), dict and namespace
(transformers' TemplateDict and TemplateNamespace). strftime_now formats the
fixed time NOW (naive UTC), the clock lmc-tokenize --render-template uses.

The context is what transformers' apply_chat_template passes to render():
the tokenizer's special tokens (bos_token, eos_token, ... from each model's
tokenizer_config.json), then messages, tools and documents (None when not
given), add_generation_prompt and any extra keyword arguments. Messages go
through transformers' normalization first: keys whose value is None are
dropped, and a reasoning field (reasoning_content, thinking or reasoning)
is copied to `thinking` (first) and `reasoning_content` (last). Numbers in
the contexts are ints or non-integral floats, since the C++ engine reads an
integral JSON number as a Python int.

    pip install jinja2==3.1.6
    python3 scripts/make-chat-template-references.py
"""
import datetime
import json
import os

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "test", "Runtime", "Inputs", "chat-templates")
NOW = 1733300000  # must match lmc-tokenize --render-template


#===------------------------------------------------------------------------===#
# jinja2 as transformers configures it
#===------------------------------------------------------------------------===#

class AssistantTracker(jinja2.ext.Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [],
                                      body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def strftime_now(format):
    now = datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc).replace(tzinfo=None)
    return now.strftime(format)


class TemplateDict:
    def __call__(self, *args, **kwargs):
        return dict(*args, **kwargs)

    def fromkeys(self, *args, **kwargs):
        return dict.fromkeys(*args, **kwargs)


class TemplateNamespace(jinja2.utils.Namespace):
    def __init__(*args, **kwargs):
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name in attrs:
            TemplateNamespace._check_name(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name, value):
        TemplateNamespace._check_name(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check_name(name):
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(
                "Chat templates cannot store underscore-prefixed attributes on a namespace, "
                f"but got {name!r}. Please rename the attribute.")


ENV = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                    extensions=[AssistantTracker, jinja2.ext.loopcontrols])
ENV.filters["tojson"] = tojson
ENV.globals["raise_exception"] = raise_exception
ENV.globals["strftime_now"] = strftime_now
ENV.globals["dict"] = TemplateDict()
ENV.globals["namespace"] = TemplateNamespace


def normalize(messages):
    """transformers' _normalize_chat_messages and _alias_reasoning_fields."""
    out = []
    for message in messages:
        message = {k: v for k, v in message.items() if v is not None}
        reasoning = next((message[k] for k in ("reasoning_content", "thinking", "reasoning")
                          if message.get(k) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        out.append(message)
    return out


def context(special, messages, tools=None, documents=None, add_generation_prompt=False,
            **kwargs):
    ctx = dict(special)
    ctx.update(kwargs)
    ctx["messages"] = normalize(messages)
    ctx["tools"] = tools
    ctx["documents"] = documents
    ctx["add_generation_prompt"] = add_generation_prompt
    return ctx


#===------------------------------------------------------------------------===#
# Conversations
#===------------------------------------------------------------------------===#

SYSTEM = {"role": "system", "content": "You are a concise assistant. Answer in one sentence."}
USER = {"role": "user", "content": "What is the capital of France?"}
ASSISTANT = {"role": "assistant", "content": "The capital of France is Paris."}
USER2 = {"role": "user", "content": "And of Japan? Réponds aussi en français — « s'il te plaît ».\n  "
                                    "Use \"quotes\", tabs\tand emoji 😀."}
ASSISTANT2 = {"role": "assistant", "content": "  Tokyo. Tokyo est la capitale du Japon.  \n"}
CHAT = [SYSTEM, USER, ASSISTANT, USER2]
CHAT_NO_SYSTEM = [USER, ASSISTANT, USER2, ASSISTANT2]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                         "description": "The temperature unit", "default": "celsius"},
                "days": {"type": "integer", "description": "Forecast days"},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Get the current time in a time zone.",
        "parameters": {
            "type": "object",
            "properties": {
                "zone": {"type": "string", "description": "IANA zone name"},
                "precise": {"type": "boolean", "description": "Include seconds", "nullable": True},
                "formats": {"type": "array", "items": {"type": "string"}},
                "offset": {"type": "number", "description": "Hours to add, e.g. 1.5"},
                "options": {"type": "object", "properties": {
                    "locale": {"type": "string"}, "tags": {"type": "array", "items": {
                        "type": "object", "properties": {"k": {"type": "string"}}}}},
                    "required": ["locale"]},
            },
            "required": ["zone"],
        },
    },
}
TOOLS = [WEATHER_TOOL, TIME_TOOL]
CALL_ARGS = {"city": "Paris", "unit": "celsius"}


def tool_call(arguments=CALL_ARGS, call_id="call_0001", name="get_weather"):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


TOOL_RESULT = {"role": "tool", "tool_call_id": "call_0001", "name": "get_weather",
               "content": "{\"temperature\": 18.5, \"unit\": \"celsius\"}"}
FINAL = {"role": "assistant", "content": "It is 18.5 °C in Paris."}


def tool_chat(arguments=CALL_ARGS, call_id="call_0001", content="", system=True):
    call = {"role": "assistant", "content": content, "tool_calls": [tool_call(arguments, call_id)]}
    result = dict(TOOL_RESULT, tool_call_id=call_id)
    return ([SYSTEM] if system else []) + [
        {"role": "user", "content": "What is the weather in Paris?"}, call, result, FINAL]


#===------------------------------------------------------------------------===#
# Templates and their cases
#===------------------------------------------------------------------------===#

QWEN = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
LLAMA3 = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
DEEPSEEK = {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"}
GEMMA3 = {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"}
SMOLLM2 = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>",
           "pad_token": "<|im_end|>"}
MISTRAL = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
GPT_OSS = {"bos_token": "<|startoftext|>", "eos_token": "<|return|>", "pad_token": "<|endoftext|>"}
GRANITE = {"bos_token": "<|end_of_text|>", "eos_token": "<|end_of_text|>",
           "pad_token": "<|end_of_text|>"}
PHI35 = {"bos_token": "<s>", "eos_token": "<|endoftext|>", "unk_token": "<unk>",
         "pad_token": "<|endoftext|>"}

THINKING_ANSWER = {"role": "assistant",
                   "content": "<think>\nThe user asks about France.\n</think>\n\nParis."}


def qwen3():
    s = QWEN
    multi_step = [USER,
                  {"role": "assistant", "content": "", "tool_calls": [tool_call()]},
                  TOOL_RESULT,
                  {"role": "tool", "content": "{\"humidity\": 40}"},
                  {"role": "assistant", "content": "Let me also check the time.",
                   "tool_calls": [tool_call({"zone": "Europe/Paris"}, "call_2", "get_time"),
                                  tool_call("{\"city\": \"Lyon\"}", "call_3")]},
                  {"role": "tool", "content": "12:00"}]
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "no-generation-prompt": context(s, CHAT_NO_SYSTEM),
        "thinking": context(s, [USER, THINKING_ANSWER, USER2], add_generation_prompt=True),
        "thinking-last": context(s, [SYSTEM, USER, THINKING_ANSWER]),
        "reasoning-field": context(s, [USER, {"role": "assistant", "content": "Paris.",
                                              "reasoning_content": "\nEasy one.\n"}]),
        "no-thinking": context(s, [USER], add_generation_prompt=True, enable_thinking=False),
        "tools": context(s, tool_chat(), tools=TOOLS, add_generation_prompt=True),
        "tools-no-system": context(s, multi_step, tools=TOOLS, add_generation_prompt=True),
    }


def llama31():
    s = LLAMA3
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "no-generation-prompt": context(s, CHAT_NO_SYSTEM),
        "tools": context(s, tool_chat(), tools=TOOLS, add_generation_prompt=True),
        "tools-in-system": context(s, tool_chat(), tools=[WEATHER_TOOL],
                                   tools_in_user_message=False, date_string="04 Dec 2024"),
        "builtin-tools": context(s, [SYSTEM, USER, {"role": "ipython", "content": {"result": [1, 2.5]}}],
                                 builtin_tools=["brave_search", "wolfram_alpha", "code_interpreter"],
                                 add_generation_prompt=True),
        "raise-parallel-calls": context(s, [USER, {"role": "assistant", "tool_calls": [
            tool_call(), tool_call(call_id="call_0002")]}], tools=TOOLS),
        "raise-no-user": context(s, [SYSTEM], tools=TOOLS),
    }


def llama32():
    s = LLAMA3
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "date-string": context(s, CHAT_NO_SYSTEM, date_string="26 Jul 2024"),
        "tools": context(s, tool_chat(), tools=[WEATHER_TOOL], add_generation_prompt=True),
        "tools-in-system": context(s, tool_chat(system=False), tools=TOOLS,
                                   tools_in_user_message=False),
        "raise-no-user": context(s, [SYSTEM], tools=TOOLS),
    }


def deepseek_v31():
    s = DEEPSEEK
    args = json.dumps(CALL_ARGS)
    tools = [SYSTEM, {"role": "system", "content": "Second system prompt."},
             {"role": "user", "content": "What is the weather in Paris?"},
             {"role": "assistant", "content": "", "tool_calls": [tool_call(args),
                                                                  tool_call(args, "call_2")]},
             TOOL_RESULT, {"role": "tool", "content": "sunny"}, FINAL, USER]
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "thinking": context(s, [USER, THINKING_ANSWER, USER2], add_generation_prompt=True,
                            thinking=True),
        "prefix": context(s, [USER, {"role": "assistant", "content": "Par", "prefix": True}],
                          thinking=True),
        "tools": context(s, tools, tools=TOOLS, add_generation_prompt=True),
        "error-arguments-not-string": context(s, tool_chat(), tools=TOOLS),
    }


def gemma3():
    s = GEMMA3
    multimodal = [{"role": "system", "content": [{"type": "text", "text": "Describe images. "}]},
                  {"role": "user", "content": [{"type": "image", "url": "cat.png"},
                                               {"type": "text", "text": "  What is this?  "}]}]
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "no-system": context(s, CHAT_NO_SYSTEM),
        "multimodal": context(s, multimodal, add_generation_prompt=True),
        "raise-alternation": context(s, [USER, USER2]),
        "raise-content-type": context(s, [{"role": "user", "content": 42}]),
    }


def smollm2():
    s = SMOLLM2
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "default-system": context(s, CHAT_NO_SYSTEM),
        "user-only": context(s, [USER], add_generation_prompt=True),
    }


def mistral_nemo():
    s = MISTRAL
    calls = [SYSTEM, {"role": "user", "content": "What is the weather in Paris?"},
             {"role": "assistant", "tool_calls": [tool_call(call_id="abcdef123"),
                                                  tool_call({"city": "Lyon"}, "xyz987654")]},
             {"role": "tool", "tool_call_id": "abcdef123", "content": {"content": "18"}},
             {"role": "tool_results", "tool_call_id": "xyz987654", "content": "sunny"},
             FINAL, {"role": "user", "content": "Thanks!"}]
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "no-system": context(s, CHAT_NO_SYSTEM),
        "tools": context(s, calls, tools=TOOLS),
        "raise-alternation": context(s, [SYSTEM, USER, USER2]),
        "raise-tool-call-id": context(s, tool_chat(call_id="call_1"), tools=TOOLS),
    }


def gpt_oss():
    s = GPT_OSS
    schema_tool = {"type": "function", "function": {
        "name": "search", "description": "Search the catalog.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "Search terms"},
            "kind": {"type": "string", "enum": ["book", "film"], "default": "book"},
            "limit": {"type": "integer", "default": 10},
            "ids": {"type": ["string", "integer"]},
            "sort": {"oneOf": [{"type": "string", "description": "a field"},
                               {"type": "array", "items": {"type": "string"}}],
                     "default": "title"},
            "nested": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "filter": {"type": "object", "properties": {"year": {"type": "integer"},
                                                        "tags": {"type": "array"}},
                       "required": ["year"]},
            "anything": {"description": "No type"},
        }, "required": ["query"]}}}
    no_params = {"type": "function", "function": {"name": "ping", "description": "Ping.",
                                                  "parameters": {"type": "object"}}}
    thinking_chat = [{"role": "developer", "content": "Be brief."}, USER,
                     {"role": "assistant", "content": "Paris.", "thinking": "Easy."}, USER2,
                     {"role": "assistant", "content": "Tokyo.", "reasoning_content": "Also easy."}]
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "thinking-training": context(s, thinking_chat, reasoning_effort="high",
                                     model_identity="You are a test model."),
        "tools": context(s, tool_chat(), tools=[WEATHER_TOOL, TIME_TOOL, schema_tool, no_params],
                         add_generation_prompt=True),
        "tool-call-thinking": context(s, [USER, {"role": "assistant", "thinking": "Need weather.",
                                                 "tool_calls": [tool_call()]}, TOOL_RESULT],
                                      tools=[WEATHER_TOOL], add_generation_prompt=True),
        "builtin-tools": context(s, [USER], builtin_tools=["browser", "python"],
                                 add_generation_prompt=True),
        "raise-channel-tags": context(s, [USER, {"role": "assistant",
                                                 "content": "<|channel|>final<|message|>Paris"}]),
        "raise-orphan-tool": context(s, [USER, TOOL_RESULT]),
    }


def granite():
    s = GRANITE
    documents = [{"doc_id": 1, "title": "Paris", "text": "Paris is the capital of France."},
                 {"doc_id": "b", "text": "Tokyo is the capital of Japan."}]
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "default-system": context(s, CHAT_NO_SYSTEM, add_generation_prompt=True),
        "thinking": context(s, [USER], add_generation_prompt=True, thinking=True),
        "tools": context(s, [USER], tools=TOOLS, add_generation_prompt=True),
        "documents": context(s, [USER], documents=documents, add_generation_prompt=True,
                             controls={"citations": True, "hallucinations": True, "length": "short"}),
        "tools-documents": context(s, [USER], tools=[WEATHER_TOOL], documents=documents),
    }


def phi35():
    s = PHI35
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "no-generation-prompt": context(s, CHAT_NO_SYSTEM + [{"role": "system", "content": ""}]),
    }


HERMES = {"bos_token": "<|begin_of_text|>", "eos_token": "<|im_end|>"}
KIMI = {"bos_token": "[BOS]", "eos_token": "[EOS]", "unk_token": "[UNK]", "pad_token": "[PAD]"}
SEED = {"bos_token": "<seed:bos>", "eos_token": "<seed:eos>", "pad_token": "<seed:pad>"}
NEMOTRON = {"bos_token": "<SPECIAL_10>", "eos_token": "<SPECIAL_12>", "unk_token": "<unk>"}
GEMMA2 = {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"}


def hermes3():
    s = HERMES
    return {
        "tools": context(s, tool_chat(), tools=TOOLS, add_generation_prompt=True),
        "tools-no-system": context(s, tool_chat(system=False) + [USER2], tools=[TIME_TOOL]),
    }


def qwen25():
    s = QWEN
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "default-system": context(s, CHAT_NO_SYSTEM),
        "tools": context(s, tool_chat(), tools=TOOLS, add_generation_prompt=True),
    }


def mistral_small32():
    s = MISTRAL
    blocks = [{"role": "system", "content": [{"type": "text", "text": "Look closely."}]},
              {"role": "user", "content": [{"type": "text", "text": "What is in "},
                                           {"type": "image_url", "image_url": {"url": "x.png"}},
                                           {"type": "text", "text": "?"}]},
              {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]}]
    return {
        "default-system": context(s, CHAT_NO_SYSTEM, add_generation_prompt=True),
        "multimodal": context(s, blocks),
        "tools": context(s, tool_chat(call_id="abcdef123"), tools=TOOLS),
        "raise-block-type": context(s, [{"role": "user", "content": [{"type": "audio"}]}]),
    }


def kimi_k2():
    s = KIMI
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "default-system": context(s, CHAT_NO_SYSTEM),
        "tools": context(s, tool_chat(json.dumps(CALL_ARGS), "functions.get_weather:0"),
                         tools=TOOLS, add_generation_prompt=True),
    }


def seed_oss():
    s = SEED
    reasoning = [USER, {"role": "assistant", "content": "Paris.", "reasoning_content": " Easy. "},
                 USER2]
    return {
        "chat": context(s, CHAT, add_generation_prompt=True),
        "thinking-budget": context(s, reasoning, add_generation_prompt=True, thinking_budget=1000),
        "no-thinking": context(s, [USER], add_generation_prompt=True, thinking_budget=0),
        "tools": context(s, tool_chat(), tools=TOOLS, add_generation_prompt=True),
    }


def nemotron_nano2():
    s = NEMOTRON
    return {
        "chat": context(s, [dict(SYSTEM, content="/no_think You are brief.")] + CHAT[1:],
                        add_generation_prompt=True),
        "thinking": context(s, [USER, THINKING_ANSWER, USER2], add_generation_prompt=True),
        "tools": context(s, tool_chat(), tools=TOOLS, add_generation_prompt=True),
    }


def gemma2():
    s = GEMMA2
    return {
        "chat": context(s, CHAT_NO_SYSTEM, add_generation_prompt=True),
        "raise-system": context(s, CHAT),
    }


def python_strings():
    words = ["straße", "ΣΊΣΥΦΟΣ", "ὈΔΥΣΣΕΎΣ", "ΌΣΟΣ Σ", "ΑΣ.", "ǅemal", "ǈ", "ǲ", "ﬁne", "ﬃ",
             "İstanbul", "ĳssel", "ŉ", "ſ", "ᾳ", "\u0345", "Ꭰꭰ", "Ꮿ", "Привет мир", "ԱԲԳ աբգ",
             "hello-world (foo) [bar] <baz> {qux}", "x²³", "½", "٣", "Ⅻ", "①", "a_b c1", "é\u0301",
             "\u00a0nbsp\u2003em\u3000", "\u2028x\u200b", "🚀 emoji", "日本語", "ŀ", "K", "", " "]
    return {"unicode": {"words": words}}


TEMPLATES = {
    "Qwen-Qwen3-0.6B": qwen3,
    "meta-llama-Llama-3.1-8B-Instruct": llama31,
    "meta-llama-Llama-3.2-3B-Instruct": llama32,
    "deepseek-ai-DeepSeek-V3.1": deepseek_v31,
    "google-gemma-3-4b-it": gemma3,
    "HuggingFaceTB-SmolLM2-135M-Instruct": smollm2,
    "mistralai-Mistral-Nemo-Instruct-2407": mistral_nemo,
    "openai-gpt-oss-120b": gpt_oss,
    "ibm-granite-granite-3.3-2B-Instruct": granite,
    "microsoft-Phi-3.5-mini-instruct": phi35,
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use": hermes3,
    "Qwen-Qwen2.5-7B-Instruct": qwen25,
    "Mistral-Small-3.2-24B-Instruct-2506": mistral_small32,
    "moonshotai-Kimi-K2": kimi_k2,
    "ByteDance-Seed-OSS": seed_oss,
    "NVIDIA-Nemotron-Nano-v2": nemotron_nano2,
    "google-gemma-2-2b-it": gemma2,
    "lmc-python-strings": python_strings,
}


TEST_HEADER = """\
# Real chat templates (test/Runtime/Inputs/chat-templates/*.jinja, as the model
# repositories ship them, and lmc-python-strings.jinja for Python's str
# methods on non-ASCII text) rendered by lmc's Jinja engine, against what jinja2
# configured as transformers renders: <template>.<case>.json is the context,
# <template>.<case>.out the exact expected text. Cases that must fail check the
# error: raise_exception's message verbatim, other errors after LINE:COL.
# Generated by scripts/make-chat-template-references.py; do not edit.
"""


def filecheck_literal(text):
    """`text` as a FileCheck pattern (regex braces escaped)."""
    return text.replace("{{", "{{[{][{]}}").replace("[[", "{{[[][[]}}")


def main():
    for stale in os.listdir(DIR):
        if stale.endswith((".json", ".out", ".err")):
            os.remove(os.path.join(DIR, stale))
    rel = "%S/Inputs/chat-templates/"
    lines = [TEST_HEADER]
    index = 0
    for name, make_cases in TEMPLATES.items():
        with open(os.path.join(DIR, name + ".jinja"), encoding="utf-8", newline="") as f:
            template = ENV.from_string(f.read())
        lines.append(f"\n# {name}\n")
        for case, ctx in make_cases().items():
            base = os.path.join(DIR, f"{name}.{case}")
            with open(base + ".json", "w", encoding="utf-8") as f:
                json.dump(ctx, f, ensure_ascii=False, indent=1)
                f.write("\n")
            expect_error = case.startswith(("raise-", "error-"))
            render = (f"lmc-tokenize --render-template {rel}{name}.jinja "
                      f"--context {rel}{name}.{case}.json")
            try:
                text = template.render(**ctx)
            except (jinja2.exceptions.TemplateError, TypeError) as e:
                if not expect_error:
                    raise
                prefix = f"E{index}"
                # raise_exception's message is verbatim; other errors carry
                # the location first.
                where = "" if case.startswith("raise-") else "{{[0-9]+:[0-9]+}}: "
                lines.append(f"# RUN: not {render} 2>&1 | FileCheck %s --check-prefix={prefix}\n")
                lines.append(f"# {prefix}: lmc-tokenize: error: {{{{.*}}}}{name}.jinja: "
                             f"{where}{filecheck_literal(str(e))}{{{{$}}}}\n")
                index += 1
                print(f"{name}.{case}: error: {e}")
                continue
            if expect_error:
                raise SystemExit(f"{name}.{case} was expected to fail")
            with open(base + ".out", "w", encoding="utf-8", newline="") as f:
                f.write(text)
            lines.append(f"# RUN: {render} > %t.{index}\n")
            lines.append(f"# RUN: diff {rel}{name}.{case}.out %t.{index}\n")
            index += 1
            print(f"{name}.{case}: {len(text)} characters")
    with open(os.path.join(ROOT, "test", "Runtime", "chat-template.test"), "w",
              encoding="utf-8") as f:
        f.write("".join(lines))


if __name__ == "__main__":
    main()
