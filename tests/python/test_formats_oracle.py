"""test_formats_oracle.py — `convert --format float8_e5m2 | mxfp8 | nvfp4` end to end against
the independent oracle of formats_oracle.py (numpy + ml_dtypes, docs/format.md §5b).

The inputs are boundary-complete: every finite BF16 and F16 pattern up to a few amaxes
(float8_e5m2, with amaxes where a reciprocal multiply and a division give different
codes), blocks on every E2M1 tie and every E4M3 block-scale value, tie and subnormal,
blocks on every E4M3 element value and tie for each power-of-two scale, F32 blocks a few
ULPs above 448 * 2^k (the float32 rounding of log2), zero / -0 / single-nonzero / tiny
blocks, an all-zero tensor, F16, BF16 and F32 tensors whose nvfp4 per-tensor scale
underflows or is subnormal, padded scale shapes and shapes the block formats must keep. Each format is run
on --device cpu and auto, and every tensor's dtype, shape and bytes, every L.comfy_quant
and the _quantization_metadata layers are compared.

Usage: python3 test_formats_oracle.py <qfp8-cuda binary> <tmpdir>
"""
import json
import os
import struct
import subprocess
import sys

import ml_dtypes
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import formats_oracle as oracle  # noqa: E402

RAW_DTYPE = {"BF16": np.uint16, "F16": np.uint16, "F32": np.uint32}
# float8_e5m2 amaxes. 0x3FD2 / 0x3FB6 (BF16) and 0x3EAC / 0x3DB0 (F16): 60 and more weights
# land where w / scale and w * (1 / scale) round to different codes; 0x0101: the scale is
# an F32 subnormal and its reciprocal overflows; 0x7F7F / 0x7BFF: every finite pattern.
E5M2_BF16_AMAXES = [0x3F80, 0x3FD2, 0x3FB6, 0x0101, 0x4580, 0x7F7F]
E5M2_F16_AMAXES = [0x3EAC, 0x3DB0, 0x7BFF]
E2M1_TIES = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0]
# nvfp4 per-tensor scale 2^j exactly (amax = 2688 * 2^j): j per dtype, down to where the
# smallest tie (2^-11 * 2^j) is still representable.
NVFP4_EXPONENTS = {"BF16": [-120, -40, 0, 37, 110], "F16": [-13, 0, 4], "F32": [-135, 0, 116]}
# mxfp8 block exponents p (amax = 448 * 2^p) per dtype: every one the dtype can hold.
MXFP8_EXPONENTS = {"BF16": range(-139, 120), "F16": range(-30, 8), "F32": range(-155, 120)}
LOG2_EXPONENTS = list(range(-20, 21)) + [-130, -128, -127, -126, -125, -100, 100, 118, 119]


def e4m3_values():
    """The 126 positive finite E4M3FN values, ascending."""
    return np.arange(1, 0x7F, dtype=np.uint8).view(ml_dtypes.float8_e4m3fn).astype(np.float64)


def e4m3_midpoints():
    """The points halfway between consecutive E4M3FN values, 0 included (2^-10)."""
    values = np.concatenate([[0.0], e4m3_values()])
    return (values[:-1] + values[1:]) / 2


def to_raw(dtype, values):
    """float64 values -> the dtype's bit patterns (rounded to nearest even)."""
    array = np.asarray(values, dtype=np.float64)
    typed = array.astype(np.float32) if dtype == "F32" else array.astype(np.float32).astype(
        oracle.NUMPY_DTYPE[dtype])
    return typed.view(RAW_DTYPE[dtype])


def exact_raw(dtype, values):
    """Like to_raw, for values that must be representable exactly (ties, block maxima)."""
    raw = to_raw(dtype, values)
    back = oracle.widen(dtype, raw).astype(np.float64)
    assert np.array_equal(back, np.asarray(values, dtype=np.float64)), "not exact in " + dtype
    return raw


def blocks_to_tensor(dtype, blocks, block, cols, row_multiple=32):
    """Blocks (lists of `block` float64 values; each one's largest magnitude exact) laid
    row-major into [rows, cols], padded with zero blocks to a multiple of row_multiple."""
    per_row = cols // block
    rows = -(-len(blocks) // per_row)
    rows = -(-rows // row_multiple) * row_multiple
    values = np.zeros((rows * per_row, block), dtype=np.float64)
    for i, b in enumerate(blocks):
        assert len(b) == block
        values[i] = b
    raw = to_raw(dtype, values)
    peaks = np.argmax(np.abs(values), axis=1)
    picked = values[np.arange(len(values)), peaks]
    exact_raw(dtype, picked)
    return raw.reshape(rows, cols)


def patterns_up_to(amax_bits):
    """Every 16-bit pattern of magnitude <= amax_bits, both signs: shape [amax+1, 2]."""
    magnitudes = np.arange(amax_bits + 1, dtype=np.uint16)
    return np.stack([magnitudes, magnitudes | np.uint16(0x8000)], axis=1)


def all_finite_patterns(count):
    """Patterns 0..count-1 in order, every odd one negative, as blocks of 32: [count/32, 32]
    (each block a run of consecutive mantissas of one exponent)."""
    patterns = np.arange(count, dtype=np.uint16)
    patterns[1::2] |= np.uint16(0x8000)
    return patterns.reshape(-1, 32)


def nvfp4_blocks(j):
    """Blocks of 16 for a tensor with amax 2688 * 2^j, whose nvfp4 scale_2 is 2^j exactly."""
    unit = 2.0 ** j
    blocks = []
    signed_ties = [t * s for t in E2M1_TIES for s in (1, -1)]
    for v in e4m3_values():
        # 6v makes the block scale exactly v; every E2M1 tie, both signs, and -0.
        payload = signed_ties[:14] + [-0.0]
        blocks.append([6 * v * unit] + [t * v * unit for t in payload])
    fractions = [-1.0, 0.99, 0.9, 0.75, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, -0.01, 0.002,
                 0.0, -0.0]
    for m in e4m3_midpoints():
        # A block scale on a tie: it rounds to the even neighbour, and when that is the
        # lower one the block's largest elements saturate at 6.
        blocks.append([6 * m * unit] + [f * 6 * m * unit for f in fractions])
    blocks.append([0.0] * 16)                                   # all zero
    blocks.append([-0.0] * 16)                                  # all -0
    blocks.append([0.0] * 7 + [-3 * unit] + [0.0] * 8)          # a single nonzero
    blocks.append([6 * 2.0 ** -11 * unit] + [2.0 ** -11 * unit] * 15)  # scale < 2^-10: zero
    blocks.append([2688 * unit] + [-2688 * unit] + [1344 * unit] * 14)  # the tensor's amax
    return blocks


def mxfp8_blocks(p):
    """Blocks of 32 with amax 448 * 2^p: every E4M3 value and tie times 2^p, both signs."""
    unit = 2.0 ** p
    payload = [x for pair in zip(e4m3_values(), -e4m3_midpoints()) for x in pair]
    payload += [-0.0] * (-len(payload) % 31)
    blocks = []
    for start in range(0, len(payload), 31):
        sign = -1 if (start // 31) % 2 else 1
        blocks.append([sign * 448 * unit] + [x * unit for x in payload[start:start + 31]])
    return blocks


def log2_blocks():
    """F32 blocks with amax a few ULPs above 448 * 2^k: where log2(amax / 448) rounds to
    k in float32 the scale is 2^k and the largest elements saturate."""
    blocks = []
    for k in LOG2_EXPONENTS:
        base = np.float32(448.0 * 2.0 ** k)
        amaxes = [np.float32(448.0 * 2.0 ** k * (1 + n * 2.0 ** -23)) for n in range(31)]
        amaxes += [(np.array([base]).view(np.uint32) + np.uint32(n)).view(np.float32)[0]
                   for n in range(1, 31)]
        for amax in amaxes:
            a = float(amax)
            rest = [-a, a * (1 - 2.0 ** -22), 448 * 2.0 ** k, -432 * 2.0 ** k, 416 * 2.0 ** k,
                    2.0 ** (k - 9), 2.0 ** (k - 10), -2.0 ** (k - 10) * 1.5, 0.0, -0.0]
            blocks.append([a] + rest + [a * (i + 1) / 64 for i in range(21)])
    return blocks


def worst_tensor_scale_rounding(dtype, lo, hi):
    """The amax pattern in [lo, hi) whose nvfp4 scale_2, rounded to the dtype, falls
    furthest below amax / 2688: its block scales pass 448 and get clamped."""
    raw = np.arange(lo, hi, dtype=np.uint16)
    amax = oracle.widen(dtype, raw)
    quotient = amax / np.float32(2688.0)
    rounded = quotient.astype(oracle.NUMPY_DTYPE[dtype]).astype(np.float32)
    return raw[np.argmax(quotient / rounded)]


def random_with_amax(rng, dtype, shape, amax_bits):
    """Random normal values below the given amax pattern, which several blocks hold."""
    amax = float(oracle.widen(dtype, np.array([amax_bits], dtype=np.uint16))[0])
    values = np.clip(rng.standard_normal(shape) * amax / 3, -amax * 0.99, amax * 0.99)
    values[::3, 0] = amax
    values[1::5, 17] = -amax
    return to_raw(dtype, values)


def build_inputs():
    """{tensor name: (dtype, raw [R, C])}, names ending in .weight."""
    tensors = {}
    for amax in E5M2_BF16_AMAXES:
        tensors[f"e5m2_bf16_{amax:04x}.weight"] = ("BF16", patterns_up_to(amax))
    for amax in E5M2_F16_AMAXES:
        tensors[f"e5m2_f16_{amax:04x}.weight"] = ("F16", patterns_up_to(amax))
    tensors["all_bf16_patterns.weight"] = ("BF16", np.concatenate(
        [all_finite_patterns(0x7F80), np.zeros((4, 32), dtype=np.uint16)]))
    tensors["all_f16_patterns.weight"] = ("F16", all_finite_patterns(0x7C00))
    for dtype, exponents in NVFP4_EXPONENTS.items():
        for j in exponents:
            blocks = nvfp4_blocks(j)
            tensors[f"nvfp4_ties_{dtype.lower()}_{j}.weight"] = (
                dtype, blocks_to_tensor(dtype, blocks, 16, 64))
    for dtype, exponents in MXFP8_EXPONENTS.items():
        blocks = [b for p in exponents for b in mxfp8_blocks(p)]
        tensors[f"mxfp8_ties_{dtype.lower()}.weight"] = (
            dtype, blocks_to_tensor(dtype, blocks, 32, 64))
    tensors["mxfp8_log2_f32.weight"] = ("F32", blocks_to_tensor("F32", log2_blocks(), 32, 64))

    rng = np.random.default_rng(20261126)
    for dtype, (lo, hi) in {"BF16": (0x3F80, 0x4000), "F16": (0x3C00, 0x4000)}.items():
        amax = worst_tensor_scale_rounding(dtype, lo, hi)
        tensors[f"nvfp4_scale2_rounding_{dtype.lower()}.weight"] = (
            dtype, random_with_amax(rng, dtype, (32, 64), amax))
    # F16 amax 2^-15: amax / 2688 rounds to F16 zero, so scale_2 is 1.0 and every block
    # scale code 0; amax 2^-11: scale_2 is an F16 subnormal (3 * 2^-24).
    tensors["nvfp4_scale2_underflow_f16.weight"] = (
        "F16", random_with_amax(rng, "F16", (32, 32), 0x0200))
    tensors["nvfp4_scale2_subnormal_f16.weight"] = (
        "F16", random_with_amax(rng, "F16", (32, 32), 0x1000))
    # BF16 amax 2^-125: amax / 2688 is a float32 that rounds to BF16 zero (scale_2 1.0);
    # amax 2^-120: scale_2 is a BF16 subnormal. F32 amax below 2688 * 2^-150: the float32
    # quotient itself is 0 (and float8_e5m2's amax / 57344 too).
    tensors["nvfp4_scale2_underflow_bf16.weight"] = (
        "BF16", random_with_amax(rng, "BF16", (32, 32), 0x0100))
    tensors["nvfp4_scale2_subnormal_bf16.weight"] = (
        "BF16", random_with_amax(rng, "BF16", (32, 32), 0x0380))
    tensors["nvfp4_scale2_underflow_f32.weight"] = (
        "F32", to_raw("F32", np.clip(rng.standard_normal((32, 32)) * 5e-43, -1.5e-42, 1.5e-42)))
    tensors["zeros_bf16.weight"] = ("BF16", np.zeros((32, 64), dtype=np.uint16))
    tensors["negative_zeros_f32.weight"] = ("F32", np.full((32, 32), 0x80000000, dtype=np.uint32))
    # Scale padding: 48 rows (nvfp4, 5 blocks per row; mxfp8 keeps it), 32 x 160 (mxfp8,
    # 5 blocks per row), random normal * 0.02 with rows not a multiple of 128.
    tensors["shape_48x80_bf16.weight"] = (
        "BF16", to_raw("BF16", rng.standard_normal((48, 80)) * 0.02))
    tensors["shape_32x160_f16.weight"] = (
        "F16", to_raw("F16", rng.standard_normal((32, 160)) * 0.02))
    for dtype, shape in {"BF16": (160, 96), "F16": (96, 160), "F32": (288, 224)}.items():
        tensors[f"random_{dtype.lower()}.weight"] = (
            dtype, to_raw(dtype, rng.standard_normal(shape) * 0.02))
    return tensors


def write_safetensors(path, tensors):
    """Minimal safetensors writer: {name: (dtype, raw array)}."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, array) in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """({name: (dtype, shape, bytes)}, __metadata__ dict)."""
    with open(path, "rb") as f:
        blob = f.read()
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + size])
    metadata = header.pop("__metadata__", {})
    data = blob[8 + size:]
    return ({name: (info["dtype"], info["shape"],
                    data[info["data_offsets"][0]:info["data_offsets"][1]])
             for name, info in header.items()}, metadata)


def expected_output(fmt, inputs):
    """{name: (dtype, shape, bytes)} of the whole file, and the metadata's layers."""
    tensors, layers = {}, {}
    for name, (dtype, raw) in inputs.items():
        if not oracle.quantizable(fmt, raw.shape):
            tensors[name] = (dtype, list(raw.shape), raw.tobytes())
            continue
        layer = name[: -len(".weight")]
        for suffix, value in oracle.expected_layer(fmt, dtype, raw).items():
            tensors[layer + ".weight" + suffix] = value
        config = oracle.comfy_quant_bytes(fmt)
        tensors[layer + ".comfy_quant"] = ("U8", [len(config)], config)
        layers[layer] = {"format": fmt}
    return tensors, layers


def describe_difference(expected, got):
    a = np.frombuffer(expected, np.uint8)
    b = np.frombuffer(got, np.uint8)
    if a.size != b.size:
        return f"{b.size} bytes, oracle {a.size}"
    diff = np.flatnonzero(a != b)
    return (f"{diff.size} bytes differ, first at byte {diff[0]}: "
            f"0x{b[diff[0]]:02x}, oracle 0x{a[diff[0]]:02x}")


def check_output(path, fmt, inputs):
    got, metadata = read_safetensors(path)
    expected, layers = expected_output(fmt, inputs)
    failures = []
    for name in sorted(set(expected) | set(got)):
        if name not in got:
            failures.append(f"{name}: missing")
        elif name not in expected:
            failures.append(f"{name}: unexpected tensor {got[name][0]} {got[name][1]}")
        elif got[name][:2] != expected[name][:2]:
            failures.append(f"{name}: {got[name][0]} {got[name][1]}, oracle "
                            f"{expected[name][0]} {expected[name][1]}")
        elif got[name][2] != expected[name][2]:
            failures.append(f"{name}: {describe_difference(expected[name][2], got[name][2])}")
    try:
        declared = json.loads(metadata.get("_quantization_metadata", "{}")).get("layers")
    except (ValueError, AttributeError) as error:
        declared = f"unreadable: {error}"
    if not isinstance(declared, dict):
        failures.append(f"_quantization_metadata layers: {declared!r:.200}")
    elif declared != layers:
        missing = sorted(set(layers) - set(declared))
        extra = sorted(set(declared) - set(layers))
        wrong = sorted(k for k in set(layers) & set(declared) if declared[k] != layers[k])
        failures.append(f"_quantization_metadata layers: missing {missing[:5]}, unexpected "
                        f"{extra[:5]}, wrong config {[(k, declared[k]) for k in wrong[:3]]}")
    return failures


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    os.makedirs(tmp, exist_ok=True)
    inputs = build_inputs()
    source = os.path.join(tmp, "formats.safetensors")
    write_safetensors(source, inputs)
    failures, compared = [], 0
    for fmt in oracle.FORMATS:
        for device in ["cpu", "auto"]:
            target = os.path.join(tmp, f"formats_{fmt}_{device}.safetensors")
            run = subprocess.run([binary, "convert", "-i", source, "-o", target,
                                  "--format", fmt, "--include", r"\.weight$",
                                  "--device", device, "--force", "-q"],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                failures.append(f"{fmt} --device {device}: exit {run.returncode}: "
                                f"{run.stderr.strip()}")
                continue
            found = check_output(target, fmt, inputs)
            if len(found) > 20:
                found = found[:20] + [f"... and {len(found) - 20} more"]
            failures += [f"{fmt} --device {device}: {f}" for f in found]
            compared += 1
    for failure in failures:
        print("FAIL", failure)
    if failures:
        return 1
    print(f"ok: {len(inputs)} weights x {compared} conversions (float8_e5m2, mxfp8, nvfp4 on "
          "cpu and auto) match the numpy/ml_dtypes oracle byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
