#!/usr/bin/env python3
"""test_reference_layout.py — checks qfp8-cuda's safetensors rules against the reference
`safetensors` package (the Rust writer/reader behind safetensors.numpy).

Usage: test_reference_layout.py <qfp8-cuda binary> <scratch dir>

1. The reference writer's header is byte-identical to the header our layout rules
   (docs/format.md#container-writer, re-implemented here independently of the C++ code)
   produce for the same tensors:
   dtype descending, names byte-wise, compact serde_json escaping, `__metadata__` first,
   space padding to 8.
2. `qfp8-cuda inspect --json --tensors` reads that file exactly as the reference does.
3. Files the reference reader rejects, qfp8-cuda rejects too (exit 2), and vice versa for
   valid variants; and what the format rules forbid but the reference lets through
   (duplicate keys, leading whitespace), qfp8-cuda rejects.
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import json
import os
import struct
import subprocess
import sys

from checks import check, finish

import numpy as np

try:
    import ml_dtypes
except ImportError:  # the BF16 / F8 cases need it: a missing oracle is a failure, not a skip
    sys.exit("test_reference_layout: the Python module ml_dtypes is missing "
             "(scripts/install-deps.sh installs it)")

from safetensors import safe_open
from safetensors.numpy import save_file

# The reference enum order (docs/format.md#container); the writer sorts by it, descending.
DTYPE_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
               "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32",
               "C64", "F64", "I64", "U64"]




def quote(text):
    """serde_json's compact string escaping, from its documented table."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch in '\b\f\n\r\t':
            out.append({'\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'}[ch])
        elif code < 0x20:
            out.append('\\u%04x' % code)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def header_by_our_rules(tensors, metadata):
    """tensors: {name: (dtype_name, shape, nbytes)} -> the padded header bytes."""
    order = sorted(tensors, key=lambda n: (-DTYPE_ORDER.index(tensors[n][0]), n.encode()))
    parts = []
    if metadata:
        items = ','.join(quote(k) + ':' + quote(v) for k, v in sorted(metadata.items(),
                                                                        key=lambda kv: kv[0].encode()))
        parts.append('"__metadata__":{' + items + '}')
    offset = 0
    for name in order:
        dtype, shape, nbytes = tensors[name]
        parts.append('%s:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}' % (
            quote(name), dtype, ','.join(str(d) for d in shape), offset, offset + nbytes))
        offset += nbytes
    text = ('{' + ','.join(parts) + '}').encode()
    return text + b' ' * ((8 - len(text) % 8) % 8)


def sample_arrays():
    arrays = {
        "scale": (np.array(1.5, np.float32), "F32"),             # 0-d
        "b.weight": (np.arange(6, dtype=np.float16).reshape(2, 3), "F16"),
        "a.bias": (np.arange(4, dtype=np.int8), "I8"),
        "Zed": (np.arange(5, dtype=np.uint8), "U8"),
        "cafz": (np.arange(3, dtype=np.int64), "I64"),
        "caf\u00e9": (np.array([True, False]), "BOOL"),          # non-ASCII name
        "tab\tand\x01quote\"": (np.zeros((0, 4), np.float32), "F32"),  # controls, 0 elements
        "u16": (np.arange(2, dtype=np.uint16), "U16"),
    }
    arrays["bf"] = (np.arange(6, dtype=np.float32).astype(ml_dtypes.bfloat16).reshape(3, 2), "BF16")
    arrays["f8"] = (np.array([1.0, -2.0], np.float32).astype(ml_dtypes.float8_e4m3fn), "F8_E4M3")
    return arrays


def run_inspect(binary, path, *extra):
    return subprocess.run([binary, "inspect", *extra, path], capture_output=True, text=True)


def check_layout_and_inspect(binary, tmp):
    arrays = sample_arrays()
    metadata = {"format": "pt \u00fc\n"}
    path = os.path.join(tmp, "reference.safetensors")
    save_file({name: arr for name, (arr, _) in arrays.items()}, path, metadata=metadata)
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = raw[8:8 + n]

    expected = header_by_our_rules({name: (dt, list(arr.shape), arr.nbytes)
                                    for name, (arr, dt) in arrays.items()}, metadata)
    check(header == expected, "reference header differs from our layout rules:\n  %r\n  %r"
          % (header, expected))
    check(n % 8 == 0, "reference header length %d is not a multiple of 8" % n)

    result = run_inspect(binary, path, "--json", "--tensors")
    check(result.returncode == 0, "inspect exit %d: %s" % (result.returncode, result.stderr))
    if result.returncode != 0:
        return
    report = json.loads(result.stdout)
    parsed = json.loads(header)
    check(report["tensor_count"] == len(arrays), "tensor_count")
    check(report["file_size"] == len(raw), "file_size")
    check(report["header_size"] == n, "header_size")
    check(report["metadata"] == metadata, "metadata %r" % report["metadata"])
    ours = {t["name"]: t for t in report["tensors"]}
    with safe_open(path, framework="numpy") as reference:
        check(sorted(ours) == sorted(reference.keys()), "tensor names")
        for name in reference.keys():
            entry = parsed[name]
            mine = ours.get(name, {})
            check(mine.get("dtype") == entry["dtype"], "dtype of %r" % name)
            check(mine.get("shape") == list(reference.get_slice(name).get_shape()), "shape of %r" % name)
            check(mine.get("data_offsets") == entry["data_offsets"], "offsets of %r" % name)
    # File order = ascending offsets, which the rules above made dtype-descending.
    names_in_order = [t["name"] for t in report["tensors"] if t["bytes"] > 0]
    by_offset = sorted((e["data_offsets"][0], k) for k, e in parsed.items()
                       if k != "__metadata__" and e["data_offsets"][1] > e["data_offsets"][0])
    check(names_in_order == [k for _, k in by_offset], "tensor order")


def reference_accepts(path):
    try:
        with safe_open(path, framework="numpy") as f:
            for key in f.keys():
                f.get_tensor(key)
        return True
    except Exception:  # the reference raises SafetensorError and friends
        return False


def variants():
    """(label, file bytes) pairs: a valid base file and broken variants of it."""
    def image(header, data):
        header = header.encode() if isinstance(header, str) else header
        return struct.pack("<Q", len(header)) + header + data
    good = '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}'
    return [
        ("valid", image(good, b"\x01\x02\x03\x04"), True),
        ("valid, padded", image(good + "    ", b"\x01\x02\x03\x04"), True),
        ("valid, 0-d and empty", image('{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},'
                                       '"e":{"dtype":"F16","shape":[0],"data_offsets":[4,4]}}',
                                       b"\x00" * 4), True),
        ("trailing byte", image(good, b"\x01\x02\x03\x04\x05"), False),
        ("short buffer", image(good, b"\x01\x02\x03"), False),
        ("gap", image('{"a":{"dtype":"U8","shape":[4],"data_offsets":[1,5]}}', b"\x00" * 5), False),
        ("wrong size", image('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"\x00" * 4), False),
        ("unknown dtype", image('{"a":{"dtype":"X9","shape":[4],"data_offsets":[0,4]}}', b"\x00" * 4), False),
        ("metadata not string", image('{"__metadata__":{"k":1}}', b""), False),
        ("bad utf-8", image(b'{"\xff":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}', b""), False),
        ("not json", image("{", b""), False),
        ("NUL after the object", image(b"{}\x00\x00", b""), False),
        ("duplicate key", image('{"__metadata__":{"a":"b"},"__metadata__":{}}', b""), False),
        ("shape -0", image('{"a":{"dtype":"U8","shape":[-0],"data_offsets":[0,0]}}', b""), False),
        ("shape 1e0", image('{"a":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}', b"x"), False),
        ("length too large", struct.pack("<Q", 1 << 40) + b"{}", False),
        ("too small", b"\x02\x00\x00", False),
        # Unknown entry fields are skipped whatever they hold, down to serde_json's
        # recursion limit (127 open containers: header, entry and 125 more).
        ("unknown field, 125 arrays deep", image(unknown_field("[" * 125 + "]" * 125), b"x"), True),
        ("unknown field, 126 arrays deep", image(unknown_field("[" * 126 + "]" * 126), b"x"), False),
        ("unknown field, objects", image(unknown_field('{"b":[{"c":{"d":[1,"e",null]}}]}'), b"x"), True),
        ("metadata value nested", image('{"__metadata__":{"k":[["v"]]}}', b""), False),
    ]


def unknown_field(value):
    return '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":%s}}' % value


def stricter_variants():
    """(label, file bytes): what the safetensors format rules forbid (spec: "duplicate JSON
    keys are not allowed", "the header should start with {") but the reference reader lets
    through (0.8: the last duplicate wins; leading whitespace is skipped). We refuse them,
    deliberately: a duplicated tensor name is ambiguous."""
    def image(header, data):
        return struct.pack("<Q", len(header)) + header.encode() + data
    entry = '"dtype":"U8","shape":[1],"data_offsets":[0,1]'
    return [
        ("duplicate tensor", image('{"a":{%s},"a":{%s}}' % (entry, entry), b"x")),
        ("duplicate metadata key", image('{"__metadata__":{"k":"1","k":"2"},"a":{%s}}' % entry, b"x")),
        ("duplicate unknown field", image('{"a":{%s,"x":1,"x":2}}' % entry, b"x")),
        ("duplicate key in an unknown field", image('{"a":{%s,"x":{"b":1,"b":2}}}' % entry, b"x")),
        ("leading whitespace", image(' {"a":{%s}}' % entry, b"x")),
    ]


def check_rejections(binary, tmp):
    for label, data, valid in variants():
        path = os.path.join(tmp, "variant.safetensors")
        with open(path, "wb") as f:
            f.write(data)
        check(reference_accepts(path) == valid, "reference disagrees with the test on %r" % label)
        result = run_inspect(binary, path)
        want = 0 if valid else 2
        check(result.returncode == want, "%s: inspect exit %d, expected %d (%s)"
              % (label, result.returncode, want, result.stderr.strip()))
    for label, data in stricter_variants():
        path = os.path.join(tmp, "variant.safetensors")
        with open(path, "wb") as f:
            f.write(data)
        result = run_inspect(binary, path)
        print("stricter than the reference (which %s it): %s" %
              ("accepts" if reference_accepts(path) else "also rejects", label))
        check(result.returncode == 2, "%s: inspect exit %d, expected 2 (%s)"
              % (label, result.returncode, result.stderr.strip()))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, tmp = sys.argv[1], sys.argv[2]
    os.makedirs(tmp, exist_ok=True)
    check_layout_and_inspect(binary, tmp)
    check_rejections(binary, tmp)
    finish()


if __name__ == "__main__":
    sys.exit(main())
