"""Proves in ComfyUI that qfp8-cuda's conversions load right, family by family (run by
scripts/comfyui-check.sh inside a venv with torch and ComfyUI's requirements).

For each family of scripts/comfyui_families.py: `qfp8-cuda synth` writes a small full-width
BF16 model, `qfp8-cuda convert` converts it with default options, `qfp8-cuda dequantize` turns
the FP8 file back into BF16, and scripts/comfyui_load.py (a fresh process per family, so every
model's memory is returned) loads the three files through ComfyUI's own loader on the CPU. A
family passes when
  (a) ComfyUI built the expected model type from the FP8 file (and from the BF16 one),
  (b) the layers ComfyUI holds as FP8 are exactly the file's declared layers (those of
      `_quantization_metadata`, or of the legacy layout's `scale_weight` tensors),
      each with the file's scale, and no float8 weight is held without a scale,
  (c) ComfyUI logged no missing / unexpected / left-over key for either file,
  (d) the FP8 model's forward output matches that of its dequantized copy (ComfyUI applies
      each scale as docs/format.md defines it): cosine > MIN_COSINE_EXACT, relative L2 error
      < MAX_REL_L2_EXACT, all values finite,
  (e) and stays close to the BF16 source's (what FP8 costs): cosine > MIN_COSINE, relative L2
      error < MAX_REL_L2.
Prints a Markdown table (also written to --out) for docs/validation.md.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_families import FAMILIES, find  # noqa: E402

# (d) exactness: the FP8 file in ComfyUI against the same file dequantized by `qfp8-cuda
# dequantize` (every weight FP8 x scale, rounded to BF16) and loaded as BF16. The two differ
# only by where the product is rounded (BF16 in the file, ComfyUI's compute dtype at run
# time): measured rel. L2 0.006 after T5's first block, 0.013 after its second. A layer
# loaded without its scale, with another scale or another layer's data moves the output by
# its own magnitude (a copy with one scale x4 measured cosine 0.84), so 0.999 / 0.05 separate
# the two with a wide margin.
MIN_COSINE_EXACT = 0.999
MAX_REL_L2_EXACT = 0.05
# (e) cost: the FP8 file against the BF16 source. Per-tensor E4M3FN keeps 3 mantissa bits: a
# weight's rounding error is at most 2^-4 = 6.25% of its value, about 2-3% RMS over a layer
# (verify --against reports ~31.6 dB SNR on every synthetic layer), and a few such layers give
# an output error of a few percent to ~10%. Random weights amplify it more than trained ones
# (T5's unscaled attention logits saturate its softmax: 0.29 after two blocks); this bound
# only catches what the exactness check cannot, a source that differs from the FP8 file's.
MIN_COSINE = 0.95
MAX_REL_L2 = 0.35
HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def comfyui_commit(comfy_dir):
    result = run(["git", "-C", comfy_dir, "rev-parse", "--short", "HEAD"])
    return result.stdout.strip() if result.returncode == 0 else "unknown (not a git checkout)"


def synthesize(binary, family, path):
    """Returns None on success, or why the model could not be synthesized."""
    result = run([binary, "synth", "--model", family.name, "--blocks", str(family.blocks),
                  "--width-div", "1", "--seed", "7", "--force", "-q", path])
    if result.returncode == 0:
        return None
    if "cannot synthesize model" in result.stderr:
        return "not run (no synth model)"
    return f"synth failed: {result.stderr.strip()}"


def convert(binary, source, target):
    """Converts with default options; returns the detected-family log line."""
    result = run([binary, "convert", "-i", source, "-o", target, "--force"])
    if result.returncode != 0:
        raise RuntimeError(f"convert failed: {result.stderr.strip()}")
    found = re.search(r"model family .*", result.stderr)
    return found.group(0) if found else "no family line"


def dequantize(binary, fp8, target):
    result = run([binary, "dequantize", fp8, target, "--force", "-q"])
    if result.returncode != 0:
        raise RuntimeError(f"dequantize failed: {result.stderr.strip()}")


def load_in_comfyui(comfy_dir, family, bf16, fp8, dequantized, log):
    result = run([sys.executable, os.path.join(HERE, "comfyui_load.py"), "--comfyui", comfy_dir,
                  "--family", family.name, "--bf16", bf16, "--fp8", fp8,
                  "--dequantized", dequantized, "--log", log])
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-5:]
        raise RuntimeError("ComfyUI load failed: " + " | ".join(tail))
    return json.loads(result.stdout.strip().splitlines()[-1])


def judge(family, facts):
    """Applies checks (a)-(d); returns the table row's cells and the list of failures."""
    bf16, fp8, numerics = facts["bf16"], facts["fp8"], facts["numerics"]
    declared, held = set(facts["declared"]), set(fp8["quantized"])
    failures = []
    if fp8["kind"] != family.expect or bf16["kind"] != family.expect:
        failures.append(f"type {bf16['kind']} (bf16) / {fp8['kind']} (fp8), expected {family.expect}")
    if held != declared:
        failures.append(f"FP8 held but not declared {sorted(held - declared)[:5]}, "
                        f"declared but not held {sorted(declared - held)[:5]}")
    wrong_scale = [n for n in held & declared if fp8["quantized"][n] != facts["file_scales"].get(n)]
    if wrong_scale or fp8["unscaled"] or bf16["unscaled"]:
        failures.append(f"scale: differs {wrong_scale[:5]}, unscaled float8 {fp8['unscaled'][:5]}")
    warnings = bf16["warnings"] + fp8["warnings"]
    if warnings:
        failures.append("key warnings: " + "; ".join(w[:300] for w in warnings))
    exact = facts["exactness"]
    if not (exact["finite"] and exact["cosine"] > MIN_COSINE_EXACT and exact["rel_l2"] < MAX_REL_L2_EXACT):
        failures.append(f"forward vs dequantized: {exact}")
    if not (numerics["finite"] and numerics["cosine"] > MIN_COSINE and numerics["rel_l2"] < MAX_REL_L2):
        failures.append(f"forward vs BF16 source: {numerics}")
    cells = {"type": fp8["kind"], "fp8": f"{'yes' if held == declared else 'NO'} ({len(held)}/{len(declared)})",
             "warnings": str(len(warnings)) if warnings else "none",
             "exact": f"{exact['rel_l2']:.4f} / {exact['cosine']:.5f}",
             "rel_l2": f"{numerics['rel_l2']:.4f}", "cosine": f"{numerics['cosine']:.5f}"}
    return cells, failures


def check_family(args, family, work):
    """Runs one family end to end; returns a result dict for the table."""
    started = time.time()
    bf16 = os.path.join(work, f"{family.name}.bf16.safetensors")
    fp8 = os.path.join(work, f"{family.name}.fp8.safetensors")
    dequantized = os.path.join(work, f"{family.name}.dequantized.safetensors")
    result = {"family": family, "cells": {}, "failures": [], "detected": "", "status": ""}
    try:
        skipped = synthesize(args.bin, family, bf16)
        if skipped:
            result["status"] = skipped
            return result
        result["detected"] = convert(args.bin, bf16, fp8)
        dequantize(args.bin, fp8, dequantized)
        facts = load_in_comfyui(args.comfyui, family, bf16, fp8, dequantized,
                                os.path.join(work, f"{family.name}.comfyui.log"))
        result["cells"], result["failures"] = judge(family, facts)
        result["times"] = (facts["bf16"]["load_s"], facts["fp8"]["load_s"], facts["fp8"]["forward_s"])
        result["dtype"] = facts["bf16"]["dtype"] + facts["fp8"]["dtype"]
        result["status"] = "pass" if not result["failures"] else "FAIL"
    except RuntimeError as error:
        result["status"], result["failures"] = "FAIL", [str(error)]
    finally:
        result["seconds"] = round(time.time() - started)
        if not args.keep:
            for path in (bf16, fp8, dequantized):
                if os.path.exists(path):
                    os.remove(path)
    return result


def table(results, commit):
    lines = [f"ComfyUI commit `{commit}`; CPU; pass = (a) type, (b) FP8 set and scales, "
             f"(c) no key warning, (d) FP8 vs dequantized: cosine > {MIN_COSINE_EXACT} and rel. L2 < "
             f"{MAX_REL_L2_EXACT}, (e) FP8 vs BF16 source: cosine > {MIN_COSINE} and rel. L2 < {MAX_REL_L2}.", "",
             "| family | blocks | ComfyUI model type (expected) | FP8 layers loaded = declared (count) "
             "| key warnings | vs dequantized: rel. L2 / cosine | vs BF16: rel. L2 | vs BF16: cosine | result | time |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        f, c = r["family"], r["cells"]
        kind = c.get("type", "")
        kind = f"{kind} ({f.expect})" if kind and kind != f.expect else kind or f"({f.expect})"
        lines.append(f"| {f.name} | {f.blocks} | {kind} | {c.get('fp8', '')} | {c.get('warnings', '')} "
                     f"| {c.get('exact', '')} | {c.get('rel_l2', '')} | {c.get('cosine', '')} "
                     f"| {r['status']} | {r['seconds']} s |")
    return "\n".join(lines)


def details(results):
    lines = []
    for r in results:
        f = r["family"]
        lines.append(f"- {f.name}: " + (f"convert: {r['detected']}" if r["detected"] else r["status"]))
        if "times" in r:
            lines.append("  - ComfyUI: BF16 load {} s, FP8 load {} s, FP8 forward {} s".format(*r["times"]))
        for label, line in zip(("BF16", "FP8"), r.get("dtype", [])):
            lines.append(f"  - ComfyUI, {label} file: {line.split(': ', 1)[-1]}")
        if f.note:
            lines.append(f"  - {f.note}")
        for failure in r["failures"]:
            lines.append(f"  - FAIL: {failure}")
    return "\n".join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description="Load qfp8-cuda conversions in ComfyUI, family by family.")
    parser.add_argument("--comfyui", required=True, help="ComfyUI source tree")
    parser.add_argument("--bin", required=True, help="qfp8-cuda binary")
    parser.add_argument("--family", action="append", choices=[f.name for f in FAMILIES],
                        help="family to check (repeatable; default: all)")
    parser.add_argument("--work", help="folder for the synthetic files and ComfyUI logs")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic files")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    return parser.parse_args()


def main():
    args = parse_args()
    args.comfyui, args.bin = os.path.abspath(args.comfyui), os.path.abspath(args.bin)
    work = args.work or tempfile.mkdtemp(prefix="comfyui-check-")
    os.makedirs(work, exist_ok=True)
    families = [find(name) for name in args.family] if args.family else FAMILIES
    results = []
    for family in families:
        print(f"== {family.name}", file=sys.stderr, flush=True)
        results.append(check_family(args, family, work))
        print(f"   {results[-1]['status']} in {results[-1]['seconds']} s", file=sys.stderr, flush=True)
    report = table(results, comfyui_commit(args.comfyui)) + "\n\n" + details(results) + "\n"
    print(report)
    print(f"ComfyUI logs: {work}", file=sys.stderr)
    if args.out:
        with open(args.out, "w") as out:
            out.write(report)
    failed = [r for r in results if r["status"] == "FAIL"]
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
