"""Writes the fuzz seed corpus: small valid safetensors files from the reference Python
writer, plus malformed variants covering each rejection class of docs/format.md#container-reader."""
import json
import os
import struct
import sys

import numpy as np
from safetensors.numpy import save


def raw(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


def main(out_dir: str) -> None:
    seeds = {}
    seeds["valid_small"] = save({"a.weight": np.ones((64, 64), dtype=np.float16),
                                 "a.bias": np.zeros((64,), dtype=np.float32),
                                 "scalar": np.array(1.5, dtype=np.float32),
                                 "empty": np.zeros((0, 3), dtype=np.int64)},
                                metadata={"format": "pt"})
    seeds["valid_empty"] = save({})
    header = json.dumps({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    seeds["bf16"] = raw(header, b"\x80\x3f\x00\x40")
    seeds["overlap"] = raw(json.dumps({
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}).encode(), b"\0" * 6)
    seeds["trailing"] = raw(header, b"\0" * 8)
    seeds["bad_dtype"] = raw(b'{"x":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}', b"\0")
    seeds["dup_key"] = raw(b'{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                           b'"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\0")
    seeds["metadata_non_string"] = raw(b'{"__metadata__":{"k":1}}')
    seeds["overflow"] = raw(b'{"x":{"dtype":"F64","shape":[4294967296,4294967296],'
                            b'"data_offsets":[0,8]}}', b"\0" * 8)
    seeds["not_utf8"] = raw(b'{"\xff":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\0")
    seeds["quantized"] = raw(json.dumps({
        "__metadata__": {"_quantization_metadata": json.dumps(
            {"format_version": "1.0", "layers": {"l": {"format": "float8_e4m3fn"}}})},
        "l.weight_scale": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
        "l.weight": {"dtype": "F8_E4M3", "shape": [2, 2], "data_offsets": [4, 8]}},
        separators=(",", ":")).encode() + b"   ", b"\x00\x00\x80\x3f" + b"\x38\x40\x7e\x7f")
    # For fuzz_inspect_verify: a complete scaled layer (weight, scale, input scale,
    # comfy_quant) and the legacy `scaled_fp8` marker layout.
    config = b'{"format":"float8_e4m3fn"}'
    seeds["scaled_full"] = raw(json.dumps({
        "__metadata__": {"_quantization_metadata": json.dumps(
            {"format_version": "1.0", "layers": {"l": {"format": "float8_e4m3fn"}}})},
        "l.comfy_quant": {"dtype": "U8", "shape": [len(config)], "data_offsets": [0, len(config)]},
        "l.input_scale": {"dtype": "F32", "shape": [], "data_offsets": [len(config), len(config) + 4]},
        "l.weight": {"dtype": "F8_E4M3", "shape": [2, 2],
                     "data_offsets": [len(config) + 4, len(config) + 8]},
        "l.weight_scale": {"dtype": "F32", "shape": [],
                           "data_offsets": [len(config) + 8, len(config) + 12]}},
        separators=(",", ":")).encode(),
        config + b"\x00\x00\x80\x3f" + b"\x38\x40\x7e\xfe" + b"\x00\x00\x00\x3f")
    seeds["legacy"] = raw(json.dumps({
        "scaled_fp8": {"dtype": "F8_E4M3", "shape": [0], "data_offsets": [0, 0]},
        "l.scale_weight": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
        "l.weight": {"dtype": "F8_E4M3", "shape": [2, 2], "data_offsets": [4, 8]},
        "n.bias": {"dtype": "BF16", "shape": [2], "data_offsets": [8, 12]}},
        separators=(",", ":")).encode(), b"\x00\x00\x80\x3f" + b"\x38\x40\x7e\x7f" + b"\x80\x3f\x00\x40")
    for name, blob in seeds.items():
        with open(os.path.join(out_dir, name + ".safetensors"), "wb") as handle:
            handle.write(blob)


if __name__ == "__main__":
    main(sys.argv[1])
