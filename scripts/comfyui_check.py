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

With `--format F` (float8_e4m3fn, float8_e5m2, mxfp8, nvfp4; repeatable or comma-separated)
each family's BF16 model is converted once per format with `convert --format F` and loaded
by this script's own `--inspect` mode, which reads every format's layers (block scales too):
  (a) as above;
  (b) the layers ComfyUI holds as a QuantizedTensor are exactly the declared ones, each with
      the declared format as its `quant_format`, the layout QUANT_ALGOS names for it
      (TensorCoreFP8E4M3Layout, TensorCoreFP8E5M2Layout, TensorCoreMXFP8Layout,
      TensorCoreNVFP4Layout), its storage dtype, and the file's bytes for the weight and
      every scale (weight_scale, and weight_scale_2 for nvfp4); no float8 or packed weight
      is held as a plain tensor;
  (c) as above;
  (d) as above, where `qfp8-cuda dequantize` reads the format;
  (e) as above, with a bound per format;
  (f) each layer's weight dequantized by ComfyUI itself (`QuantizedTensor.dequantize()`,
      comfy-kitchen's code) is within the format's error of the BF16 source weight:
      relative L2 error < MAX_WEIGHT_REL_L2[F] for every layer.
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

# --format: ComfyUI's names of the formats `convert --format` writes (QUANT_ALGOS in
# comfy/quant_ops.py).
FORMATS = ("float8_e4m3fn", "float8_e5m2", "mxfp8", "nvfp4")
# (f) one layer's weight as ComfyUI dequantizes it against the BF16 source weight, relative L2
# error over the layer. On the synthetic (normal) weights it is the format's own rounding
# error and barely varies between layers: measured on every layer of qwen-image, Flux.1 and
# Qwen 2.5 VL, float8_e4m3fn 0.0260-0.0265, float8_e5m2 0.0518-0.0526 (one mantissa bit
# less: twice the error), mxfp8 0.0266-0.0269, nvfp4 0.0948-0.0955. The bounds sit 1.3-1.6x
# above; a layer decoded with a wrong scale, a wrong block-scale order or swapped nibbles is
# off by its own magnitude (nvfp4 measured: scale_2 x2 1.01, nibbles swapped 1.41, block
# scales stored row-major instead of blocked 0.72).
MAX_WEIGHT_REL_L2 = {"float8_e4m3fn": 0.035, "float8_e5m2": 0.07, "mxfp8": 0.035, "nvfp4": 0.15}
# (e) per format: the forward pass against the BF16 source's grows with the weights' error
# (float8_e4m3fn and mxfp8 keep MIN_COSINE / MAX_REL_L2 above; measured with float8_e5m2 up to
# 0.20 / 0.979 and with nvfp4 up to 0.37 / 0.932, both on Qwen 2.5 VL's two blocks).
FORWARD_BOUNDS = {"float8_e4m3fn": (MIN_COSINE, MAX_REL_L2), "float8_e5m2": (0.90, 0.5),
                  "mxfp8": (MIN_COSINE, MAX_REL_L2), "nvfp4": (0.80, 0.7)}
# Weights ComfyUI must never hold as plain tensors: float8 data and nvfp4's packed bytes.
LOW_PRECISION_DTYPES = ("torch.float8_e4m3fn", "torch.float8_e5m2", "torch.uint8")
# What ComfyUI logs about how it runs quantized layers (read once per load, for the notes).
QUANT_LOG_MARKERS = ("Native ops", "mixed precision", "MixedPrecisionOps", "falling back",
                     "QuantizedTensor", "comfy_kitchen", "Found quantization")


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


def convert(binary, source, target, fmt=None):
    """Converts with default options (and `--format fmt` when given); returns the
    detected-family log line."""
    result = run([binary, "convert", "-i", source, "-o", target, "--force"]
                 + (["--format", fmt] if fmt else []))
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


# ---------------------------------------------------------------- --format: every format

def declared_formats(path):
    """The layers a file declares quantized, each with its format: `_quantization_metadata`
    (comfy layout), or in the legacy layout every `L.scale_weight` as float8_e4m3fn (what
    ComfyUI's comfy/utils.py convert_old_quants makes of it)."""
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        metadata = f.metadata() or {}
        if "_quantization_metadata" in metadata:
            layers = json.loads(metadata["_quantization_metadata"]).get("layers", {})
            return {name: conf.get("format") for name, conf in layers.items()}
        if "scaled_fp8" in set(f.keys()):
            return {k[:-len(".scale_weight")]: "float8_e4m3fn" for k in f.keys() if k.endswith(".scale_weight")}
    return {}


def same_bytes(held, stored):
    import torch
    a = held.detach().contiguous().reshape(-1).view(torch.uint8)
    b = stored.contiguous().reshape(-1).view(torch.uint8)
    return a.shape == b.shape and bool(torch.equal(a, b))


def layer_facts(module, weight, name, source, quantized, keys):
    """One QuantizedTensor layer as ComfyUI holds it: format, layout, storage dtype, whether
    its data and scales are the file's bytes, and its dequantized weight's error against the
    BF16 source (ComfyUI's own dequantize, comfy-kitchen's code)."""
    import torch
    fmt, params = getattr(module, "quant_format", None), weight._params
    held = {"weight": weight._qdata}
    if fmt == "nvfp4":
        held.update(weight_scale=params.block_scale, weight_scale_2=params.scale)
    else:
        held["weight_scale"] = params.scale
    # The legacy layout names the scale `scale_weight`; ComfyUI renames it on load.
    file_key = {"weight_scale": "weight_scale" if f"{name}.weight_scale" in keys else "scale_weight"}
    mismatched = [key for key, tensor in held.items()
                  if f"{name}.{file_key.get(key, key)}" not in keys
                  or not same_bytes(tensor, quantized.get_tensor(f"{name}.{file_key.get(key, key)}"))]
    dequantized = weight.dequantize().float()
    reference = source.get_tensor(f"{name}.weight").float()
    if dequantized.shape == reference.shape:
        rel_l2 = float(torch.linalg.vector_norm(dequantized - reference) / torch.linalg.vector_norm(reference))
    else:
        rel_l2 = float("inf")
    return {"format": fmt, "layout": weight._layout_cls, "storage": str(weight._qdata.dtype),
            "shape": list(dequantized.shape), "file_shape": list(reference.shape),
            "mismatched": mismatched, "rel_l2": rel_l2}


def held_layers(encoders, root, source_path, quantized_path):
    """Layers ComfyUI holds as a QuantizedTensor (file name -> layer_facts), and the weights
    it holds as plain float8 / uint8 tensors. Swapped in for comfyui_load.fp8_layers, which
    reads a per-tensor scale only."""
    import torch
    from safetensors import safe_open
    from comfy.quant_ops import QuantizedTensor
    held, plain = {}, []
    with safe_open(source_path, "pt") as source, safe_open(quantized_path, "pt") as quantized:
        keys = set(quantized.keys())
        for prefix in encoders:
            for name, module in root.named_modules():
                if not name.startswith(prefix):
                    continue
                file_name = name[len(prefix):]
                weight = getattr(module, "weight", None)
                if isinstance(weight, QuantizedTensor):
                    held[file_name] = layer_facts(module, weight, file_name, source, quantized, keys)
                elif isinstance(weight, torch.Tensor) and str(weight.dtype) in LOW_PRECISION_DTYPES:
                    plain.append(file_name)
    return held, sorted(plain)


def inspect_main(args):
    """--inspect (a fresh process per family and format): loads the BF16 source, its
    conversion and, when given, the conversion dequantized by `qfp8-cuda dequantize`,
    through comfyui_load.py's loaders and forward passes; prints one JSON object."""
    import importlib.metadata
    import comfyui_load as load
    family = find(args.family)
    recorder = load.LogRecorder()
    comfy = load.import_comfy(args.comfyui, recorder)
    import torch
    from comfy.quant_ops import QUANT_ALGOS
    load.fp8_layers = lambda encoders, root: held_layers(encoders, root, args.bf16, args.quantized)
    bf16, ref = load.inspect(comfy, family, args.bf16, recorder)
    quantized, out = load.inspect(comfy, family, args.quantized, recorder)
    loads = [("bf16", bf16), ("quantized", quantized)]
    result = {"bf16": bf16, "quantized": quantized, "declared": declared_formats(args.quantized),
              "numerics": load.compare(ref, out), "exactness": None,
              "algos": {name: [conf["comfy_tensor_layout"], str(conf["storage_t"])]
                        for name, conf in QUANT_ALGOS.items()},
              "versions": {"torch": torch.__version__,
                           "comfy-kitchen": importlib.metadata.version("comfy-kitchen")}}
    if args.dequantized:
        dequantized, exact = load.inspect(comfy, family, args.dequantized, recorder)
        result["exactness"] = load.compare(exact, out)
        loads.append(("dequantized", dequantized))
    with open(args.log, "w") as log:
        for label, facts in loads:
            lines = facts.pop("log")
            facts["quant_log"] = sorted({line for line in lines if any(m in line for m in QUANT_LOG_MARKERS)})
            log.write(f"==== {label}\n" + "\n".join(lines) + "\n")
    print(json.dumps(result))
    return 0


def load_format_in_comfyui(args, family, fmt, bf16, quantized, dequantized, log):
    command = [sys.executable, os.path.abspath(__file__), "--inspect", "--comfyui", args.comfyui,
               "--bin", args.bin, "--family", family.name, "--bf16", bf16, "--quantized", quantized,
               "--log", log] + (["--dequantized", dequantized] if dequantized else [])
    result = run(command)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-5:]
        raise RuntimeError(f"ComfyUI load ({fmt}) failed: " + " | ".join(tail))
    return json.loads(result.stdout.strip().splitlines()[-1])


def judge_format(family, fmt, facts):
    """Applies checks (a)-(f) to one family converted to `fmt`; returns cells and failures."""
    bf16, quantized, numerics, exact = facts["bf16"], facts["quantized"], facts["numerics"], facts["exactness"]
    declared, held = facts["declared"], quantized["quantized"]
    layout, storage = facts["algos"].get(fmt, ["(not in QUANT_ALGOS)", ""])
    failures = []
    if quantized["kind"] != family.expect or bf16["kind"] != family.expect:
        failures.append(f"type {bf16['kind']} (bf16) / {quantized['kind']} ({fmt}), expected {family.expect}")
    if set(held) != set(declared):
        failures.append(f"held but not declared {sorted(set(held) - set(declared))[:5]}, "
                        f"declared but not held {sorted(set(declared) - set(held))[:5]}")
    wrong_format = [n for n, f in declared.items() if f != fmt]
    wrong_layer = [n for n, h in held.items() if (h["format"], h["layout"], h["storage"]) != (fmt, layout, storage)]
    if wrong_format or wrong_layer:
        failures.append(f"declared another format {wrong_format[:5]}; held as another format/layout/dtype "
                        f"{[(n, held[n]['format'], held[n]['layout'], held[n]['storage']) for n in wrong_layer[:3]]}, "
                        f"expected ({fmt}, {layout}, {storage})")
    not_file = [(n, h["mismatched"]) for n, h in held.items() if h["mismatched"]]
    if not_file or quantized["unscaled"] or bf16["unscaled"]:
        failures.append(f"held bytes differ from the file's {not_file[:5]}, plain low-precision weights "
                        f"{quantized['unscaled'][:5]}")
    warnings = bf16["warnings"] + quantized["warnings"]
    if warnings:
        failures.append("key warnings: " + "; ".join(w[:300] for w in warnings))
    worst = max(held.items(), key=lambda item: item[1]["rel_l2"], default=(None, {"rel_l2": float("nan")}))
    if not worst[1]["rel_l2"] < MAX_WEIGHT_REL_L2[fmt]:
        failures.append(f"weight error {worst[1]['rel_l2']:.4f} ({worst[0]}) over {MAX_WEIGHT_REL_L2[fmt]}")
    if exact is not None and not (exact["finite"] and exact["cosine"] > MIN_COSINE_EXACT
                                  and exact["rel_l2"] < MAX_REL_L2_EXACT):
        failures.append(f"forward vs dequantized: {exact}")
    min_cosine, max_rel_l2 = FORWARD_BOUNDS[fmt]
    if not (numerics["finite"] and numerics["cosine"] > min_cosine and numerics["rel_l2"] < max_rel_l2):
        failures.append(f"forward vs BF16 source: {numerics}")
    best = min((h["rel_l2"] for h in held.values()), default=float("nan"))
    cells = {"type": quantized["kind"], "layout": layout,
             "held": f"{'yes' if set(held) == set(declared) and not wrong_layer else 'NO'} ({len(held)}/{len(declared)})",
             "bytes": "yes" if not not_file else "NO", "warnings": str(len(warnings)) if warnings else "none",
             "weight": f"{best:.4f}-{worst[1]['rel_l2']:.4f}",
             "exact": f"{exact['rel_l2']:.4f} / {exact['cosine']:.5f}" if exact else "n/a",
             "forward": f"{numerics['rel_l2']:.4f} / {numerics['cosine']:.5f}"}
    return cells, failures


def check_family_formats(args, family, work):
    """Synthesizes one family once and checks it converted to every --format; returns one
    result per format."""
    bf16 = os.path.join(work, f"{family.name}.bf16.safetensors")
    results = []
    skipped = synthesize(args.bin, family, bf16)
    for fmt in args.format:
        started = time.time()
        result = {"family": family, "format": fmt, "cells": {}, "failures": [], "detected": "",
                  "status": skipped or "", "notes": []}
        results.append(result)
        if skipped:
            continue
        quantized = os.path.join(work, f"{family.name}.{fmt}.safetensors")
        dequantized = os.path.join(work, f"{family.name}.{fmt}.dequantized.safetensors")
        try:
            result["detected"] = convert(args.bin, bf16, quantized, fmt)
            try:
                dequantize(args.bin, quantized, dequantized)
            except RuntimeError as error:
                dequantized = None
                result["notes"].append(f"(d) not run: {str(error).splitlines()[0][:200]}")
            facts = load_format_in_comfyui(args, family, fmt, bf16, quantized, dequantized,
                                           os.path.join(work, f"{family.name}.{fmt}.comfyui.log"))
            result["cells"], result["failures"] = judge_format(family, fmt, facts)
            result["versions"] = facts["versions"]
            result["quant_log"] = facts["quantized"]["quant_log"]
            result["times"] = (facts["quantized"]["load_s"], facts["quantized"]["forward_s"])
            result["status"] = "pass" if not result["failures"] else "FAIL"
        except RuntimeError as error:
            result["status"], result["failures"] = "FAIL", [str(error)]
        finally:
            result["seconds"] = round(time.time() - started)
            if not args.keep:
                for path in (quantized, dequantized):
                    if path and os.path.exists(path):
                        os.remove(path)
    if not args.keep and os.path.exists(bf16):
        os.remove(bf16)
    return results


def format_table(results, commit):
    versions = next((r["versions"] for r in results if "versions" in r), {})
    lines = [f"ComfyUI commit `{commit}`, comfy-kitchen {versions.get('comfy-kitchen', '?')}, "
             f"torch {versions.get('torch', '?')}; CPU; pass = (a) type, (b) quantized layers = declared, "
             f"each as its format's layout with the file's bytes, (c) no key warning, (d) vs dequantized: "
             f"cosine > {MIN_COSINE_EXACT} and rel. L2 < {MAX_REL_L2_EXACT} (where `dequantize` reads the "
             f"format), (e) vs BF16 within the format's bound, (f) weight error < "
             + ", ".join(f"{MAX_WEIGHT_REL_L2[f]} ({f})" for f in FORMATS) + ".", "",
             "| family | format | ComfyUI model type | layers quantized = declared (count) | ComfyUI layout "
             "| weight and scales = file's bytes | key warnings | weight error, rel. L2 (min-max over layers) "
             "| vs dequantized: rel. L2 / cosine | vs BF16: rel. L2 / cosine | result | time |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        f, c = r["family"], r["cells"]
        kind = c.get("type", "")
        kind = f"{kind} ({f.expect})" if kind and kind != f.expect else kind or f"({f.expect})"
        lines.append(f"| {f.name} | {r['format']} | {kind} | {c.get('held', '')} | {c.get('layout', '')} "
                     f"| {c.get('bytes', '')} | {c.get('warnings', '')} | {c.get('weight', '')} "
                     f"| {c.get('exact', '')} | {c.get('forward', '')} | {r['status']} | {r.get('seconds', 0)} s |")
    return "\n".join(lines)


def format_details(results):
    lines = []
    for r in results:
        lines.append(f"- {r['family'].name}, {r['format']}: "
                     + (f"convert: {r['detected']}" if r["detected"] else r["status"]))
        if "times" in r:
            lines.append("  - ComfyUI: load {} s, forward {} s".format(*r["times"]))
        for line in r.get("quant_log", []):
            lines.append(f"  - ComfyUI log: {line[:300]}")
        for note in r["notes"]:
            lines.append(f"  - {note}")
        for failure in r["failures"]:
            lines.append(f"  - FAIL: {failure}")
    return "\n".join(lines)


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
    parser.add_argument("--format", action="append",
                        help="convert with `--format F` and check every format's layers (repeatable or "
                             "comma-separated: " + ", ".join(FORMATS) + "); default: the default "
                             "conversion only, checked as before")
    # --inspect: the worker check_family_formats runs in a fresh process per family and format.
    parser.add_argument("--inspect", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bf16", help=argparse.SUPPRESS)
    parser.add_argument("--quantized", help=argparse.SUPPRESS)
    parser.add_argument("--dequantized", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.format:
        args.format = [f for value in args.format for f in value.split(",") if f]
        unknown = [f for f in args.format if f not in FORMATS]
        if unknown:
            parser.error(f"unknown --format {', '.join(unknown)} (choose from {', '.join(FORMATS)})")
    return args


def main():
    args = parse_args()
    args.comfyui, args.bin = os.path.abspath(args.comfyui), os.path.abspath(args.bin)
    if args.inspect:
        args.family = args.family[0]
        return inspect_main(args)
    work = args.work or tempfile.mkdtemp(prefix="comfyui-check-")
    os.makedirs(work, exist_ok=True)
    families = [find(name) for name in args.family] if args.family else FAMILIES
    results = []
    for family in families:
        print(f"== {family.name}", file=sys.stderr, flush=True)
        if args.format:
            for result in check_family_formats(args, family, work):
                results.append(result)
                print(f"   {result['format']}: {result['status']} in {result.get('seconds', 0)} s",
                      file=sys.stderr, flush=True)
        else:
            results.append(check_family(args, family, work))
            print(f"   {results[-1]['status']} in {results[-1]['seconds']} s", file=sys.stderr, flush=True)
    if args.format:
        report = format_table(results, comfyui_commit(args.comfyui)) + "\n\n" + format_details(results) + "\n"
    else:
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
