#!/usr/bin/env python3
"""Copies a model folder's config.json into DST with fields changed, and links
its weights, so a test can state a corrupted config in one line:

    edit-config.py SRC DST key=JSON [key=JSON ...] [-key ...]

`key=JSON` sets a top-level field to the JSON value, `-key` deletes it."""
import json
import os
import sys

src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
config = json.load(open(os.path.join(src, "config.json")))
for edit in edits:
    if edit.startswith("-"):
        config.pop(edit[1:], None)
    else:
        key, value = edit.split("=", 1)
        config[key] = json.loads(value)
os.makedirs(dst, exist_ok=True)
with open(os.path.join(dst, "config.json"), "w") as f:
    json.dump(config, f)
for name in os.listdir(src):
    if name.endswith(".safetensors") and name.startswith("model"):
        link = os.path.join(dst, name)
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(os.path.join(src, name)), link)
