"""crosscheck_comfy_kitchen.py — docs/format.md §5b against comfy-kitchen itself, on CPU
(run by scripts/crosscheck-comfy-kitchen.sh, in a venv with torch and comfy-kitchen).

  (a) formats_oracle (tests/python) vs comfy-kitchen's TensorCoreMXFP8Layout.quantize and
      TensorCoreNVFP4Layout.quantize (the eager backend) on the inputs of
      test_formats_oracle.py: byte-identical except the blocks §5b documents as deviations
      (mxfp8 code-0 blocks holding zeros; nvfp4 tensors whose scale_2 is 0);
  (b) float8_e5m2: codes where comfy-kitchen's quantize_per_tensor_fp8 (multiply by 1/scale
      rounded to the weight's dtype) differs from our division, with our float32 scale; and
      what TensorCoreFP8Layout.quantize(dtype=float8_e5m2) does with its own scale;
  (c) with a qfp8-cuda binary: `convert --format mxfp8 | nvfp4` outputs of the same inputs
      and of a synthetic Qwen-Image checkpoint vs comfy-kitchen, layer by layer;
  (d) the torch operations §5b's rules rest on, on CPU: a 0-d BF16 / F16 amax divided by
      2688 (true division?), and torch.log2 near powers of two vs log2 rounded to float32.

usage: crosscheck_comfy_kitchen.py TMPDIR [QFP8_BINARY]; exits 1 on an unexplained difference.
"""
import importlib.metadata
import math
import os
import platform
import subprocess
import sys

import ml_dtypes
import numpy as np
import torch

import comfy_kitchen as ck
from comfy_kitchen.registry import registry
from comfy_kitchen.tensor import TensorCoreFP8Layout, TensorCoreMXFP8Layout, TensorCoreNVFP4Layout

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import formats_oracle as oracle  # noqa: E402
import test_formats_oracle as inputs_module  # noqa: E402

TORCH_DTYPE = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
SIGNED = {"BF16": np.int16, "F16": np.int16, "F32": np.int32}
BLOCK_FORMATS = ("mxfp8", "nvfp4")
unexplained = []


def to_torch(dtype, raw):
    return torch.from_numpy(np.ascontiguousarray(raw).view(SIGNED[dtype])).view(TORCH_DTYPE[dtype])


def tensor_bytes(t):
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def ck_layer(fmt, dtype, raw):
    """comfy-kitchen's tensors for one layer, as ComfyUI's layouts make them:
    {suffix: (dtype, shape, bytes)} like formats_oracle."""
    t = to_torch(dtype, raw)
    with ck.use_backend("eager"):
        if fmt == "mxfp8":
            qdata, params = TensorCoreMXFP8Layout.quantize(t)
            return {"": ("F8_E4M3", list(qdata.shape), tensor_bytes(qdata)),
                    "_scale": ("F8_E8M0", list(params.scale.shape), tensor_bytes(params.scale))}
        qdata, params = TensorCoreNVFP4Layout.quantize(t)
        return {"": ("U8", list(qdata.shape), tensor_bytes(qdata)),
                "_scale": ("F8_E4M3", list(params.block_scale.shape),
                           tensor_bytes(params.block_scale)),
                "_scale_2": ("F32", list(params.scale.shape), tensor_bytes(params.scale))}


def count_differences(expected, got):
    a = np.frombuffer(expected, np.uint8)
    b = np.frombuffer(got, np.uint8)
    if a.size != b.size:
        return None
    return np.flatnonzero(a != b)


def explain_mxfp8(dtype, raw, ours, theirs):
    """(bytes differing, degenerate blocks, unexplained description or None)."""
    w = oracle.widen(dtype, raw)
    rows, cols = w.shape
    bamax = np.max(np.abs(w.reshape(rows, cols // 32, 32)), axis=-1)
    needed = np.maximum(bamax / np.float32(448.0), np.float32(2.0 ** -127))
    # Code 0 (scale 2^-127 or below): also F32 blocks a hair above 448 * 2^-127, whose
    # float32 log2 rounds to -127.
    exponent = np.vectorize(oracle.ceil_log2_as_float32, otypes=[np.int64])(needed)
    degenerate = (exponent + 127 <= 0) & (bamax > 0)
    problems, total = [], 0
    for suffix in ours:
        if ours[suffix][:2] != theirs[suffix][:2]:
            problems.append(f"L.weight{suffix}: {theirs[suffix][:2]} vs ours {ours[suffix][:2]}")
            continue
        diff = count_differences(ours[suffix][2], theirs[suffix][2])
        total += diff.size
        if suffix == "_scale" and diff.size:
            problems.append(f"{diff.size} block-scale codes differ")
        if suffix == "" and diff.size:
            block_of = (diff // cols) * (cols // 32) + (diff % cols) // 32
            outside = ~degenerate.ravel()[block_of]
            got = np.frombuffer(theirs[suffix][2], np.uint8)[diff]
            zeros = w.ravel()[diff] == 0
            # Documented: in a code-0 block, zeros are NaN codes in comfy-kitchen.
            wrong = outside | ~zeros | ((got & 0x7F) != 0x7F)
            if wrong.any():
                first = diff[np.argmax(wrong)]
                problems.append(f"{int(wrong.sum())} codes differ outside the documented "
                                f"deviation, first at element {first} (row {first // cols}, "
                                f"column {first % cols}): comfy-kitchen "
                                f"0x{np.frombuffer(theirs[''][2], np.uint8)[first]:02x}, ours "
                                f"0x{np.frombuffer(ours[''][2], np.uint8)[first]:02x}")
    return total, int(degenerate.sum()), "; ".join(problems) or None


def explain_nvfp4(dtype, raw, ours, theirs):
    problems, total = [], 0
    their_scale_2 = np.frombuffer(theirs["_scale_2"][2], np.float32)[0]
    degenerate = their_scale_2 == 0
    for suffix in ours:
        if ours[suffix][:2] != theirs[suffix][:2]:
            problems.append(f"L.weight{suffix}: {theirs[suffix][:2]} vs ours {ours[suffix][:2]}")
            continue
        diff = count_differences(ours[suffix][2], theirs[suffix][2])
        total += diff.size
        if diff.size and not degenerate:
            first = diff[0]
            theirs_byte = np.frombuffer(theirs[suffix][2], np.uint8)[first]
            ours_byte = np.frombuffer(ours[suffix][2], np.uint8)[first]
            problems.append(f"L.weight{suffix}: {diff.size} bytes differ, first at byte "
                            f"{first}: comfy-kitchen 0x{theirs_byte:02x}, ours 0x{ours_byte:02x}")
    blocks = raw.size // 16 if degenerate else 0
    return total, blocks, "; ".join(problems) or None


EXPLAIN = {"mxfp8": explain_mxfp8, "nvfp4": explain_nvfp4}


def compare(label, fmt, dtype, raw, ours, theirs, rows):
    total, degenerate, problem = EXPLAIN[fmt](dtype, raw, ours, theirs)
    verdict = "identical" if total == 0 else ("documented" if problem is None else "UNEXPLAINED")
    rows.append((label, fmt, dtype, f"{raw.shape[0]}x{raw.shape[1]}", total, degenerate, verdict))
    if problem:
        unexplained.append(f"{label} {fmt}: {problem}")


def print_table(title, header, rows):
    print(f"\n{title}")
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    for row in [header] + rows:
        print("  " + "  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def part_a(inputs):
    rows = []
    for fmt in BLOCK_FORMATS:
        for name, (dtype, raw) in inputs.items():
            if not oracle.quantizable(fmt, raw.shape):
                continue
            compare(name[: -len(".weight")], fmt, dtype, raw,
                    oracle.expected_layer(fmt, dtype, raw), ck_layer(fmt, dtype, raw), rows)
    print_table("(a) oracle vs comfy-kitchen (eager, CPU): bytes differing per layer",
                ("layer", "format", "dtype", "shape", "bytes differ", "degenerate blocks",
                 "verdict"), rows)


def part_b(inputs):
    rows = []
    for name, (dtype, raw) in inputs.items():
        ours = oracle.float8_e5m2(dtype, raw)
        scale = np.frombuffer(ours["_scale"][2], np.float32)[0]
        t = to_torch(dtype, raw)
        with ck.use_backend("eager"):
            q = ck.quantize_per_tensor_fp8(t, torch.tensor(scale), torch.float8_e5m2)
            layout_q, params = TensorCoreFP8Layout.quantize(t, dtype=torch.float8_e5m2)
        ours_codes = np.frombuffer(ours[""][2], np.uint8)
        theirs = q.view(torch.uint8).numpy().ravel()
        layout_codes = layout_q.view(torch.uint8).numpy().ravel()
        layout_scale = params.scale.item()
        nan = int(np.count_nonzero((theirs & 0x7F) > 0x7B))
        rows.append((name[: -len(".weight")], dtype, raw.size,
                     int(np.count_nonzero(theirs != ours_codes)), nan,
                     "same" if np.float32(layout_scale) == scale else
                     f"{layout_scale:.6g} vs {float(scale):.6g}",
                     int(np.count_nonzero(layout_codes != ours_codes))))
    print_table("(b) float8_e5m2: codes where comfy-kitchen differs from the division rule",
                ("layer", "dtype", "elements", "x*(1/scale) differs", "of them Inf/NaN",
                 "layout scale (vs ours)", "layout codes differ"), rows)


def _e2m1_ties_away(values):
    """E2M1 with ties rounded away from zero (a plausible wrong rule)."""
    grid = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6], dtype=np.float64)
    magnitude = np.minimum(np.abs(values.astype(np.float64)), 6.0)
    index = np.searchsorted(grid, magnitude)            # first grid point >= magnitude
    lower = np.maximum(index - 1, 0)
    upper = np.minimum(index, 7)
    pick = np.where(grid[upper] - magnitude <= magnitude - grid[lower], upper, lower)
    return (pick | np.where(np.signbit(values), 8, 0)).astype(np.uint8)


_right_scale_2 = oracle.nvfp4_tensor_scale


def _scale_2_in_float32(dtype, w):
    return _right_scale_2("F32", w)


_right_e4m3 = oracle._e4m3


def _e4m3_ties_away(values):
    """E4M3FN with ties rounded away from zero: one float32 ULP outwards first."""
    outward = np.nextafter(values, np.where(np.signbit(values), -np.inf, np.inf).astype(np.float32))
    return _right_e4m3(np.where(values == 0, values, outward).astype(np.float32))


MUTANTS = {
    "mxfp8: ceil of the exact log2": ("mxfp8", "ceil_log2_as_float32",
                                      lambda x: math.ceil(math.log2(float(x)))),
    "nvfp4: scale_2 kept in float32": ("nvfp4", "nvfp4_tensor_scale", _scale_2_in_float32),
    "nvfp4: E2M1 ties away from zero": ("nvfp4", "e2m1_codes", _e2m1_ties_away),
    "nvfp4: E4M3 block scale ties away": ("nvfp4", "_e4m3", _e4m3_ties_away),
    "mxfp8: E4M3 element ties away": ("mxfp8", "_e4m3", _e4m3_ties_away),
}


def part_e(inputs):
    """Plausible wrong rules, each swapped into the oracle: each must differ from
    comfy-kitchen somewhere the right rule agrees with it, or the inputs do not test it."""
    rows = []
    for label, (fmt, attribute, replacement) in MUTANTS.items():
        caught, layers = 0, 0
        for name, (dtype, raw) in inputs.items():
            if not oracle.quantizable(fmt, raw.shape):
                continue
            right = oracle.expected_layer(fmt, dtype, raw)
            theirs = ck_layer(fmt, dtype, raw)
            original = getattr(oracle, attribute)
            setattr(oracle, attribute, replacement)
            try:
                wrong = oracle.expected_layer(fmt, dtype, raw)
            finally:
                setattr(oracle, attribute, original)
            count = 0
            for key in right:
                a, b, c = (np.frombuffer(x[key][2], np.uint8) for x in (right, wrong, theirs))
                if a.size == b.size == c.size:
                    count += int(np.count_nonzero((a == c) & (b != c)))
            caught += count
            layers += count > 0
        rows.append((label, caught, layers, "caught" if caught else "NOT CAUGHT"))
        if not caught:
            unexplained.append(f"the inputs do not tell '{label}' from comfy-kitchen")
    print_table("(e) wrong rules swapped into the oracle: bytes where they differ from "
                "comfy-kitchen and the right rule does not", ("rule", "bytes", "layers",
                                                              "verdict"), rows)


def convert(binary, source, target, fmt, extra):
    run = subprocess.run([binary, "convert", "-i", source, "-o", target, "--format", fmt,
                          "--device", "cpu", "--force", "-q"] + extra,
                         capture_output=True, text=True)
    if run.returncode != 0:
        unexplained.append(f"convert --format {fmt} {os.path.basename(source)}: exit "
                           f"{run.returncode}: {run.stderr.strip()}")
        return None
    tensors, _ = inputs_module.read_safetensors(target)
    return tensors


def read_weights(path):
    """{name: (dtype, raw 2-D)} of the float .weight tensors of a safetensors file."""
    tensors, _ = inputs_module.read_safetensors(path)
    raw_type = {"BF16": np.uint16, "F16": np.uint16, "F32": np.uint32}
    return {name: (dtype, np.frombuffer(data, raw_type[dtype]).reshape(shape))
            for name, (dtype, shape, data) in tensors.items()
            if name.endswith(".weight") and dtype in raw_type and len(shape) == 2}


def part_c(binary, tmp, source_inputs):
    synth = os.path.join(tmp, "qwen-image-synth.safetensors")
    run = subprocess.run([binary, "synth", "--model", "qwen-image", "--blocks", "1",
                          "--width-div", "8", "--force", "-q", synth],
                         capture_output=True, text=True)
    if run.returncode != 0:
        unexplained.append(f"synth: exit {run.returncode}: {run.stderr.strip()}")
        return
    rows = []
    # The test inputs all quantized; the checkpoint with its preset (qwen-image).
    for label, source, extra in (("inputs", source_inputs, ["--include", r"\.weight$"]),
                                 ("qwen-image", synth, [])):
        weights = read_weights(source)
        for fmt in BLOCK_FORMATS:
            target = os.path.join(tmp, f"crosscheck_{label}_{fmt}.safetensors")
            out = convert(binary, source, target, fmt, extra)
            if out is None:
                continue
            layers = 0
            for name, (dtype, raw) in weights.items():
                if name + "_scale" not in out:
                    continue
                layers += 1
                theirs = ck_layer(fmt, dtype, raw)
                ours = {suffix: out[name + suffix] for suffix in theirs}
                layer = f"{label}:{name[: -len('.weight')]}"
                compare(layer, fmt, dtype, raw, ours, theirs, rows)
                # Where comfy-kitchen deviates, the oracle (checked in (a)) is the reference.
                if ours != oracle.expected_layer(fmt, dtype, raw):
                    unexplained.append(f"{layer} {fmt}: differs from the oracle")
            if layers == 0:
                unexplained.append(f"{label} {fmt}: no layer was quantized")
    print_table("(c) qfp8-cuda convert --format vs comfy-kitchen: bytes differing per layer",
                ("layer", "format", "dtype", "shape", "bytes differ", "degenerate blocks",
                 "verdict"), rows)


def part_d():
    print("\n(d) the torch operations on CPU")
    for dtype, np_type, count in (("BF16", ml_dtypes.bfloat16, 0x7F80),
                                  ("F16", np.float16, 0x7C00)):
        raw = np.arange(1, count, dtype=np.uint16)
        values = raw.view(np_type).astype(np.float32)
        f32_rule = (values / np.float32(2688.0)).astype(np_type).astype(np.float32)
        # The quotient rounded once: float64 (exact enough) straight to the dtype.
        exact_rounded = (values.astype(np.float64) / 2688.0).astype(np_type).astype(np.float32)
        t = to_torch(dtype, raw)
        zero_d = np.array([(t[i].abs() / 2688.0).float().item() for i in range(t.numel())],
                          dtype=np.float32)
        vector = (t / 2688.0).float().numpy()
        print(f"  {dtype} amax / 2688 over all {raw.size} positive finite values: 0-d tensor "
              f"differs from the float32 quotient rounded to {dtype} in "
              f"{int(np.count_nonzero(zero_d != f32_rule))}, 1-D tensor in "
              f"{int(np.count_nonzero(vector != f32_rule))}; the float32 rule differs from the "
              f"exact quotient rounded once in {int(np.count_nonzero(f32_rule != exact_rounded))}")
        if np.count_nonzero(zero_d != f32_rule):
            unexplained.append(f"{dtype} amax / 2688: torch is not the float32 rule")
    # log2 near powers of two: x = 2^k (1 + n 2^-23) and 2^k (1 - n 2^-24), all k, n < 64.
    ks = np.arange(-149, 128)
    candidates = []
    for n in range(64):
        candidates.append(np.ldexp(np.float64(1 + n * 2.0 ** -23), ks))
        candidates.append(np.ldexp(np.float64(1 - n * 2.0 ** -24), ks))
    x = np.concatenate(candidates).astype(np.float32)
    x = np.unique(x[(x > 0) & np.isfinite(x)])
    rule = np.array([math.ceil(float(np.float32(math.log2(float(v))))) for v in x])
    for label, values in (("1-D tensor", torch.log2(torch.from_numpy(x)).numpy()),
                          ("0-d tensors", np.array([torch.log2(torch.tensor(v)).item()
                                                   for v in x[:4096]], dtype=np.float32))):
        got = np.ceil(values.astype(np.float64)).astype(np.int64)
        differ = int(np.count_nonzero(got != rule[:got.size]))
        print(f"  ceil(torch.log2(x)) vs ceil(float32(log2(x))), {got.size} float32 values near "
              f"powers of two, {label}: {differ} differ")
        if differ:
            unexplained.append(f"torch.log2 ({label}): {differ} ceilings differ from the rule")


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    tmp = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else None
    os.makedirs(tmp, exist_ok=True)
    print(f"machine: {platform.machine()} {cpu_model()}, {os.cpu_count()} CPUs; "
          f"python {platform.python_version()}, torch {torch.__version__}, comfy-kitchen "
          f"{importlib.metadata.version('comfy-kitchen')}, numpy {np.__version__}, ml_dtypes "
          f"{ml_dtypes.__version__}")
    for name, info in sorted(ck.list_backends().items()):
        state = "available" if info["available"] and not info["disabled"] else \
            f"unavailable ({info['unavailable_reason']})"
        print(f"  comfy-kitchen backend {name}: {state}")
    chosen = {f: registry.get_capable_backend(f) for f in
              ("quantize_mxfp8", "quantize_nvfp4", "quantize_per_tensor_fp8")}
    print(f"  backend chosen for a CPU tensor: {chosen} (and every call runs under "
          "use_backend('eager'))")
    inputs = inputs_module.build_inputs()
    part_a(inputs)
    part_b(inputs)
    part_d()
    part_e(inputs)
    if binary:
        source = os.path.join(tmp, "formats.safetensors")
        inputs_module.write_safetensors(source, inputs)
        part_c(binary, tmp, source)
    else:
        print("\n(c) skipped: no qfp8-cuda binary given")
    for line in unexplained:
        print("UNEXPLAINED", line)
    print(f"\n{'FAIL' if unexplained else 'ok'}: {len(unexplained)} unexplained differences")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
