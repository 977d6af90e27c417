#!/usr/bin/env python3
"""Feeds lmc mutated copies of the files people download and counts what
happens: a clean refusal (non-zero exit, one line on stderr, no output file),
a run that succeeds, a crash (killed by a signal) or a hang (past --timeout).
Any crash, hang, multi-line error or output file left by a failure is
printed with the seed that reproduces it, and the script exits 1.

    scripts/mutate-inputs.py FORMAT [--cases N] [--seed S] [--jobs J]

FORMAT is one of:
  artifact   a tiny Llama compiled for the host; random bytes changed,
             inserted or the file truncated; run with lmc-run
  config     config.json of every golden family (models/golden, in turn)
             with values replaced by 0, -1, 2^31, 2^63-1, 1e308, null,
             strings, lists, objects, or deleted; lmc import -o
  safetensors  the header's bytes and JSON values mutated; lmc import -o
  gguf       the GGUF fixture's bytes mutated; lmc import -o and lmc-tokenize
  tokenizer  tokenizer.json values mutated (vocab, merges, pre-tokenizer
             patterns, added tokens); lmc-tokenize encode and decode

Uses only the standard library and the built tools (BUILD, default build).
"""
import argparse
import concurrent.futures
import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_LLAMA = os.path.join(ROOT, "test", "Import", "Inputs", "tiny-llama")
GOLDEN = os.path.join(ROOT, "models", "golden")
GGUF = os.path.join(ROOT, "test", "Import", "Inputs", "gguf", "tiny-llama.gguf")
TOKENIZER = os.path.join(ROOT, "test", "Runtime", "Inputs", "tokenizers", "llama3",
                         "tokenizer.json")

NASTY = [0, -1, 1, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 63 - 1, -2 ** 63, 1e308, -1e308, 0.5,
         None, True, False, "", "x", "\u0000", "(", "[", "\\", "a" * 10000, [], [0], [-1],
         [2 ** 62, 2 ** 62], {}, {"a": 1}]


def mutate_bytes(data, rng):
    data = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0 and data:  # change a few bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1 and data:  # set a 4- or 8-byte field to an extreme
        width = rng.choice([4, 8])
        at = rng.randrange(max(1, len(data) - width))
        value = rng.choice([0, 1, 0x7F, 0xFF, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 63 - 1, 2 ** 64 - 1])
        data[at:at + width] = (value % 2 ** (8 * width)).to_bytes(width, "little")
    elif kind == 2:  # truncate
        data = data[:rng.randrange(len(data) + 1)]
    else:  # insert bytes
        at = rng.randrange(len(data) + 1)
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(data)


def paths(value, prefix=()):
    """Every path into a JSON value (keys and indices), the root included."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        # Long lists (vocabularies, merges): a sample of their elements.
        indices = range(len(value)) if len(value) <= 16 else \
            sorted(set([0, 1, len(value) - 1] + random.Random(len(value)).sample(
                range(len(value)), 8)))
        for i in indices:
            yield from paths(value[i], prefix + (i,))


def mutate_json(value, rng, count=None):
    value = json.loads(json.dumps(value))
    all_paths = [p for p in paths(value) if p]
    for _ in range(count or rng.randint(1, 3)):
        path = rng.choice(all_paths)
        parent = value
        try:  # an earlier mutation may have replaced part of the path
            for k in path[:-1]:
                parent = parent[k]
            key = path[-1]
            if rng.random() < 0.15 and isinstance(parent, dict):
                del parent[key]
            else:
                # A copy: later mutations may edit inside the new value.
                parent[key] = copy.deepcopy(rng.choice(NASTY))
        except (KeyError, IndexError, TypeError):
            pass
    return value


def run(cmd, timeout, cwd):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout)
        return p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "hang", ""


def classify(rc, stderr, output):
    if rc == "hang":
        return "hang"
    if rc < 0 or rc >= 128:
        return "crash"
    if rc == 0:
        return "ran"
    lines = [l for l in stderr.splitlines() if l.strip()]
    if len(lines) != 1:
        return "bad-message"
    if output and os.path.exists(output):
        return "left-output"
    return "refused"


def case(args, index):
    rng = random.Random(args.seed * 1_000_003 + index)
    work = tempfile.mkdtemp(prefix="lmc-mutate-")
    try:
        results = []
        b = os.path.join(args.build, "bin")
        if args.format == "artifact":
            art = os.path.join(work, "m.lmx")
            data = mutate_bytes(args.seed_bytes, rng)
            if data == args.seed_bytes:  # a mutation that changed nothing
                return index, [("unchanged", "")]
            with open(art, "wb") as f:
                f.write(data)
            rc, err = run([os.path.join(b, "lmc-run"), art, "--prompt-ids", "1,2,3",
                           "--max-new-tokens", "2", "--weights", TINY_LLAMA], args.timeout, work)
            results.append((classify(rc, err, None), err))
        elif args.format in ("config", "safetensors"):
            model = os.path.join(work, "model")
            if args.format == "config":
                # The weights are linked, not copied: only the config changes.
                family, seed_json = args.seed_configs[index % len(args.seed_configs)]
                os.mkdir(model)
                os.symlink(os.path.join(GOLDEN, family, "model.safetensors"),
                           os.path.join(model, "model.safetensors"))
                with open(os.path.join(model, "config.json"), "w") as f:
                    json.dump(mutate_json(seed_json, rng), f)
            else:
                shutil.copytree(TINY_LLAMA, model)
                path = os.path.join(model, "model.safetensors")
                data = open(path, "rb").read()
                n = int.from_bytes(data[:8], "little")
                header, rest = data[8:8 + n], data[8 + n:]
                if rng.random() < 0.5:
                    header = json.dumps(mutate_json(json.loads(header), rng)).encode()
                    data = len(header).to_bytes(8, "little") + header + rest
                else:
                    data = mutate_bytes(data[:8 + n], rng) + rest
                open(path, "wb").write(data)
            out = os.path.join(work, "out.mlir")
            rc, err = run([os.path.join(b, "lmc"), "import", model, "-o", out], args.timeout,
                          work)
            results.append((classify(rc, err, out), err))
            if args.compile and rc == 0:
                # A config the importer accepts must also compile and run.
                art = os.path.join(work, "m.lmx")
                rc, err = run([os.path.join(b, "lmc"), "compile", model, "-o", art],
                              args.timeout * 6, work)
                results.append(("compile-" + classify(rc, err, art), err))
                if rc == 0:
                    rc, err = run([os.path.join(b, "lmc-run"), art, "--prompt-ids", "1,2,3",
                                   "--max-new-tokens", "2"], args.timeout, work)
                    results.append(("run-" + classify(rc, err, None), err))
        elif args.format == "gguf":
            path = os.path.join(work, "m.gguf")
            with open(path, "wb") as f:
                f.write(mutate_bytes(args.seed_bytes, rng))
            out = os.path.join(work, "out.mlir")
            rc, err = run([os.path.join(b, "lmc"), "import", path, "-o", out], args.timeout, work)
            results.append((classify(rc, err, out), err))
            rc, err = run([os.path.join(b, "lmc-tokenize"), path, "Hello wörld 123 <|x|>"],
                          args.timeout, work)
            results.append((classify(rc, err, None), err))
        elif args.format == "tokenizer":
            path = os.path.join(work, "tokenizer.json")
            with open(path, "w") as f:
                json.dump(mutate_json(args.seed_json, rng), f)
            rc, err = run([os.path.join(b, "lmc-tokenize"), path, "Hello wörld 123 日本 \t\n 😀"],
                          args.timeout, work)
            results.append((classify(rc, err, None), err))
            rc, err = run([os.path.join(b, "lmc-tokenize"), path, "--decode", "0,1,2,100,1000"],
                          args.timeout, work)
            results.append((classify(rc, err, None), err))
        return index, results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("format", choices=["artifact", "config", "safetensors", "gguf", "tokenizer"])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--compile", action="store_true",
                    help="config, safetensors: also compile what imports, and run it")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="lmc-mutate-seed-")
    try:
        if args.format == "artifact":
            art = os.path.join(work, "seed.lmx")
            subprocess.run([os.path.join(args.build, "bin", "lmc"), "compile", TINY_LLAMA,
                            "-o", art], check=True)
            args.seed_bytes = open(art, "rb").read()
        elif args.format == "gguf":
            args.seed_bytes = open(GGUF, "rb").read()
        elif args.format == "config":
            args.seed_configs = [
                (family, json.load(open(os.path.join(GOLDEN, family, "config.json"))))
                for family in sorted(os.listdir(GOLDEN))
                if os.path.exists(os.path.join(GOLDEN, family, "config.json"))]
        elif args.format == "tokenizer":
            args.seed_json = json.load(open(TOKENIZER, encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    counts = {}
    problems = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for index, results in pool.map(lambda i: case(args, i), range(args.cases)):
            for outcome, err in results:
                counts[outcome] = counts.get(outcome, 0) + 1
                if outcome.split("-")[-1] not in ("ran", "refused", "unchanged"):
                    problems.append((index, outcome, err.strip()[-400:]))
    for index, outcome, err in problems[:20]:
        where = f" ({args.seed_configs[index % len(args.seed_configs)][0]})" \
            if args.format == "config" else ""
        print(f"case {index}{where} (--seed {args.seed}): {outcome}: {err}")
    total = sum(counts.values())
    print(f"{args.format}: {args.cases} cases, {total} runs: " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
