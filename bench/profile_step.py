#!/usr/bin/env python3
"""Where one decode-shaped forward pass of an lmc artifact spends its GPU time:
every kernel of a one-token step under Nsight Compute (ncu, clocks as found),
with its duration and the bytes it read from DRAM. Runs on a GPU machine.

    python3 bench/profile_step.py --lmc-run lmc-run --artifact A.lmx \\
        --weights CHECKPOINT [--json kernels.json]

Prints the kernel count, their summed time and DRAM bytes, the kernels
that take the most time (grid, block, µs, MB, GB/s), and the same summed per
kernel template (kernels are named after theirs, with a numeric suffix:
weight_streaming_12, flash_decode_partials_3; forward_kernel for loop nests
made kernels); --json writes the same.
One token at position 0: the projections and norms are a decode step's, the
attention reads one key instead of a context. With --prompt-tokens N, a batch
of --batch prompts of N tokens, then one decode step at context N + 1;
--kernels REGEX profiles only the kernels whose names match (ncu -k), so a
long prompt runs at full speed and only the decode step's kernels of
interest are measured (bench/attention_decode.py: flash_decode).
"""
import argparse
import csv
import io
import json
import re
import shutil
import subprocess

# ncu's units, in its long and short spellings.
SCALE = {"nsecond": 1e-9, "usecond": 1e-6, "msecond": 1e-3, "second": 1.0,
         "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0,
         "byte": 1.0, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9,
         "B": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9}
METRICS = ["gpu__time_duration.sum", "dram__bytes_read.sum"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmc-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--json")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--prompt-tokens", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--kernels", help="only kernels matching this regex")
    args = ap.parse_args()
    ncu = shutil.which("ncu") or "/usr/local/cuda/bin/ncu"
    # Ids 1, 2, ...: any will do, the weights are random.
    prompt = ",".join(str(1 + i % 100) for i in range(args.prompt_tokens))
    cmd = [ncu, "--clock-control", "none", "--csv", "--page", "raw",
           "--metrics", ",".join(METRICS)]
    if args.kernels:
        cmd += ["--kernel-name", "regex:" + args.kernels]
    cmd += [args.lmc_run, args.artifact, "--device", "cuda",
            "--weights", args.weights]
    for _ in range(args.batch):
        cmd += ["--prompt-ids", prompt]
    # A one-token prompt is itself decode-shaped; a longer one is followed by
    # one decode step.
    cmd += ["--max-new-tokens", "1" if args.prompt_tokens == 1 else "2"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = [l for l in out.stdout.splitlines() if l.startswith('"')]
    if out.returncode != 0 or len(lines) < 3:
        print(out.stdout[-2000:], out.stderr[-2000:])
        raise SystemExit("ncu failed")
    table = list(csv.reader(io.StringIO("\n".join(lines))))
    header, units, rows = table[0], table[1], table[2:]
    col = {name: i for i, name in enumerate(header)}

    def value(row, name):
        unit = units[col[name]]
        if unit not in SCALE:
            raise SystemExit(f"ncu reports {name} in '{unit}', unknown here")
        return float(row[col[name]].replace(",", "")) * SCALE[unit]

    def field(row, name):
        return row[col[name]] if name in col else "?"

    kernels = []
    for row in rows:
        seconds = value(row, METRICS[0])
        read = value(row, METRICS[1])
        kernels.append({"name": field(row, "Kernel Name"),
                        "grid": field(row, "Grid Size"),
                        "block": field(row, "Block Size"),
                        "time_us": round(seconds * 1e6, 2),
                        "dram_read_MB": round(read / 1e6, 3),
                        "GBps": round(read / seconds / 1e9, 1)})
    total = sum(k["time_us"] for k in kernels)
    read = sum(k["dram_read_MB"] for k in kernels)
    summary = {"artifact": args.artifact, "batch": args.batch,
               "prompt_tokens": args.prompt_tokens, "kernels": len(kernels),
               "kernel_time_us": round(total, 1), "dram_read_MB": round(read, 1),
               "average_GBps": round(read / total * 1e3, 1),
               "under_10us": sum(k["time_us"] < 10 for k in kernels)}
    top = sorted(kernels, key=lambda k: -k["time_us"])[:args.top]
    print(json.dumps(summary))
    print(f"{'kernel':<28}{'grid':>18}{'block':>14}{'µs':>9}{'MB':>9}{'GB/s':>8}")
    for k in top:
        print(f"{k['name'][:27]:<28}{k['grid']:>18}{k['block']:>14}"
              f"{k['time_us']:>9.1f}{k['dram_read_MB']:>9.2f}{k['GBps']:>8.0f}")
    templates = {}
    for k in kernels:
        t = templates.setdefault(re.sub(r"_[0-9]+$", "", k["name"]),
                                 {"kernels": 0, "time_us": 0.0, "dram_read_MB": 0.0})
        t["kernels"] += 1
        t["time_us"] += k["time_us"]
        t["dram_read_MB"] += k["dram_read_MB"]
    by_template = [{"template": name, "kernels": t["kernels"],
                    "time_us": round(t["time_us"], 1),
                    "dram_read_MB": round(t["dram_read_MB"], 3),
                    "GBps": round(t["dram_read_MB"] / t["time_us"] * 1e3, 1)}
                   for name, t in sorted(templates.items(),
                                         key=lambda item: -item[1]["time_us"])]
    print(f"{'template':<28}{'kernels':>9}{'µs':>10}{'MB':>10}{'GB/s':>8}")
    for t in by_template:
        print(f"{t['template'][:27]:<28}{t['kernels']:>9}{t['time_us']:>10.1f}"
              f"{t['dram_read_MB']:>10.2f}{t['GBps']:>8.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "top": top, "by_template": by_template,
                       "all": kernels}, f, indent=1)


if __name__ == "__main__":
    main()
