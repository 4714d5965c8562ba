"""Converts a small BF16/F16/F32 checkpoint written by the reference `safetensors` writer
and checks the output with the reference reader: names, dtypes, shapes, metadata as
Python's json.dumps writes it, FP8 codes equal to the reference converter's formula
((w / scale).clamp(-448, 448) cast to float8_e4m3fn), and the reference writer's layout.

usage: python3 test_convert_reference_reader.py <qfp8-cuda binary> <tmpdir>
"""
import json
import os
import subprocess
import sys

from checks import check, finish

import ml_dtypes
import numpy as np
import safetensors
import safetensors.numpy
from safetensors import safe_open




def make_input(path):
    rng = np.random.default_rng(1234)
    arrays = {
        "txt_norm.weight": rng.standard_normal(80).astype(ml_dtypes.bfloat16),
        "img_in.weight": rng.standard_normal((64, 64)).astype(ml_dtypes.bfloat16),
        "img_in.bias": rng.standard_normal(64).astype(ml_dtypes.bfloat16),
        "transformer_blocks.0.attn.to_q.weight": (rng.standard_normal((64, 64)) * 0.02).astype(ml_dtypes.bfloat16),
        "transformer_blocks.0.attn.to_q.bias": rng.standard_normal(64).astype(ml_dtypes.bfloat16),
        "transformer_blocks.0.img_mod.1.weight": rng.standard_normal((384, 64)).astype(ml_dtypes.bfloat16),
        "transformer_blocks.1.img_mod.1.weight": (rng.standard_normal((384, 64)) * 3).astype(ml_dtypes.bfloat16),
        "transformer_blocks.1.attn.to_k.weight": np.zeros((64, 64), dtype=ml_dtypes.bfloat16),
        "blöck.mlp.weight": rng.standard_normal((128, 64)).astype(ml_dtypes.bfloat16),
        "a.weight": rng.standard_normal((64, 64)).astype(np.float16),
        "a.b.weight": rng.standard_normal((64, 64)).astype(np.float32),
        "small.weight": rng.standard_normal((16, 16)).astype(ml_dtypes.bfloat16),
        "ids": np.arange(8, dtype=np.int64),
    }
    safetensors.numpy.save_file(arrays, path, metadata={"format": "pt"})
    return arrays


NUMPY_DTYPES = {"BF16": ml_dtypes.bfloat16, "F16": np.float16, "F32": np.float32,
                "I64": np.int64, "U8": np.uint8, "F8_E4M3": ml_dtypes.float8_e4m3fn}


def as_array(info):
    return np.frombuffer(bytes(info["data"]), dtype=NUMPY_DTYPES[info["dtype"]]).reshape(info["shape"])


def expected_quantized(name, array):
    if not name.endswith(".weight") or array.ndim != 2 or array.size < 4096:
        return False
    layer = name[: -len(".weight")]
    # The qwen-image preset (auto-detected through txt_norm.weight) keeps these in BF16.
    return layer not in ("img_in", "txt_in", "proj_out", "transformer_blocks.0.img_mod.1")


def main():
    binary, tmpdir = sys.argv[1], sys.argv[2]
    os.makedirs(tmpdir, exist_ok=True)
    source = os.path.join(tmpdir, "in.safetensors")
    output = os.path.join(tmpdir, "out.safetensors")
    arrays = make_input(source)
    if os.path.exists(output):
        os.remove(output)
    run = subprocess.run([binary, "convert", "-i", source, "-o", output, "--device", "cpu"],
                         capture_output=True, text=True)
    check(run.returncode == 0, "convert exit code %d: %s" % (run.returncode, run.stderr))
    if run.returncode != 0:
        return

    quantized = sorted(n for n, a in arrays.items() if expected_quantized(n, a))
    layers = {n[: -len(".weight")]: {"format": "float8_e4m3fn"} for n in quantized}
    expected_metadata = json.dumps({"format_version": "1.0", "layers": layers})
    expected_names = set(arrays)
    for name in quantized:
        layer = name[: -len(".weight")]
        expected_names |= {layer + ".weight_scale", layer + ".comfy_quant"}

    with safe_open(output, framework="numpy") as reader:
        check(set(reader.keys()) == expected_names, "tensor names: %s" % sorted(reader.keys()))
        metadata = reader.metadata()
    check(metadata.get("format") == "pt", "input metadata preserved")
    check(metadata.get("_quantization_metadata") == expected_metadata,
          "_quantization_metadata %r" % metadata.get("_quantization_metadata"))
    check("\\u00f6" in metadata["_quantization_metadata"], "non-ASCII layer name escaped")

    data = open(output, "rb").read()
    tensors = {name: info for name, info in safetensors.deserialize(data)}
    for name, array in arrays.items():
        info = tensors[name]
        check(list(info["shape"]) == list(array.shape), name + " shape")
        if name not in quantized:
            check(bytes(info["data"]) == array.tobytes(), name + " copied byte for byte")
            continue
        layer = name[: -len(".weight")]
        check(info["dtype"] == "F8_E4M3", name + " dtype")
        scale_info = tensors[layer + ".weight_scale"]
        check(scale_info["dtype"] == "F32" and list(scale_info["shape"]) == [], layer + " scale 0-d F32")
        scale = np.frombuffer(bytes(scale_info["data"]), dtype="<f4")[0]
        w = array.astype(np.float32)
        amax = np.float32(np.abs(w).max())
        expected_scale = np.float32(1.0) if amax == 0 else np.float32(amax / np.float32(448.0))
        check(scale == expected_scale, "%s scale %r != %r" % (layer, scale, expected_scale))
        codes = np.frombuffer(bytes(info["data"]), dtype=np.uint8)
        reference = (w / expected_scale).clip(-448, 448).astype(ml_dtypes.float8_e4m3fn)
        check(np.array_equal(codes, reference.reshape(-1).view(np.uint8)),
              name + " codes equal the reference converter's")
        decoded = codes.view(ml_dtypes.float8_e4m3fn).astype(np.float32).reshape(w.shape) * scale
        bound = np.maximum(np.abs(w) / 16, scale / 1024) * (1 + 1e-5)
        check(bool(np.all(np.abs(decoded - w) <= bound)), name + " within the E4M3 bound")
        marker = tensors[layer + ".comfy_quant"]
        check(marker["dtype"] == "U8" and bytes(marker["data"]) == json.dumps(
            {"format": "float8_e4m3fn"}).encode(), layer + " comfy_quant")

    # The reference writer, given the same tensors and metadata, lays them out the same way.
    # Its metadata order follows a hash map in some versions, so headers are compared as
    # parsed key sequences with `__metadata__` taken out.
    rewritten = bytes(safetensors.numpy.save({n: as_array(i) for n, i in tensors.items()},
                                             metadata=metadata))
    ours_header, ours_data = split_file(data)
    reference_header, reference_data = split_file(rewritten)
    check(ours_data == reference_data, "data buffer equals the reference writer's")
    check(without_metadata(ours_header) == without_metadata(reference_header),
          "tensor entries and order equal the reference writer's")
    check(ours_header[0][0] == "__metadata__", "__metadata__ first")
    check([k for k, _ in ours_header[0][1]] == sorted(metadata), "metadata keys sorted")


def split_file(data):
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size].decode("utf-8"), object_pairs_hook=lambda pairs: pairs)
    return header, data[8 + size:]


def without_metadata(header):
    return [(key, value) for key, value in header if key != "__metadata__"]

if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # a crash is a failure, reported like the others
        check(False, "exception: %r" % (error,))
    finish()
