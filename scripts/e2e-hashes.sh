#!/usr/bin/env bash
# Prints the SHA-256 of every output of a fixed set of end-to-end runs (convert with each
# option that changes bytes, both layouts, BF16/F16/F32 sources, shards, dequantize, synth).
# A change that must not alter outputs (a refactor) compares this list before and after:
#   scripts/e2e-hashes.sh build/cpu-only/src/qfp8-cuda > before.txt   (old tree)
#   scripts/e2e-hashes.sh build/cpu-only/src/qfp8-cuda | diff before.txt -   (new tree)
# Usage: scripts/e2e-hashes.sh BINARY [WORKDIR]
set -euo pipefail
bin=$(realpath "$1")
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
rm -rf ./*
run() { "$bin" "$@" -q >/dev/null; }

run synth --model qwen-image --blocks 2 --width-div 8 --seed 3 bf16.safetensors
run synth --model qwen-image --blocks 1 --width-div 16 --seed 5 --prefix prefixed.safetensors
# F16 and F32 sources with every value class the cast distinguishes (zeros, subnormals,
# halfway cases, the largest finite values), written with the standard library only.
python3 - <<'PY'
import json, struct
def write(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw); offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
def f32(values): return b"".join(struct.pack("<f", v) for v in values)
def f16(values): return b"".join(struct.pack("<e", max(-6e4, min(6e4, v))) for v in values)
vals = [((i * 2654435761) % 4096 - 2048) / 97.0 for i in range(64 * 96)]
vals[:6] = [0.0, -0.0, 1e-30, -3.4e38, 448.0, 1.0 / 3.0]
small = [v / 1e5 for v in vals]
write("f32.safetensors", {"blocks.0.attn.to_q.weight": ("F32", [64, 96], f32(vals)),
                          "blocks.0.attn.to_q.bias": ("F32", [96], f32(vals[:96])),
                          "blocks.0.ff.weight": ("F32", [96, 64], f32(small))})
write("f16.safetensors", {"blocks.0.attn.to_k.weight": ("F16", [64, 96], f16(vals)),
                          "blocks.0.norm.weight": ("F16", [64], f16(vals[:64])),
                          "blocks.0.ff.weight": ("F16", [96, 64], f16(small))})
PY
mkdir shards
run synth --model qwen-image --blocks 2 --width-div 16 --seed 9 shards/s1.safetensors

run convert bf16.safetensors out-default.safetensors
run convert bf16.safetensors out-legacy.safetensors --layout legacy
run convert bf16.safetensors out-flags.safetensors --no-comfy-quant --write-input-scale --full-precision-mm
run convert bf16.safetensors out-none.safetensors --preset none --exclude 'attn' --include 'norm'
run convert prefixed.safetensors out-prefix.safetensors --strip-prefix model.diffusion_model. --add-prefix x.
run convert f32.safetensors out-f32.safetensors --keep-dtype bf16
run convert f32.safetensors out-f32-keep.safetensors
run convert f16.safetensors out-f16.safetensors --keep-dtype bf16 --layout legacy
run convert shards out-shards.safetensors
run convert bf16.safetensors out-threads1.safetensors --threads 1 --verify
run dequantize out-default.safetensors deq-default.safetensors
run dequantize out-legacy.safetensors deq-legacy.safetensors
run convert bf16.safetensors f32.safetensors --output-dir batch
sha256sum -- *.safetensors shards/*.safetensors batch/*.safetensors
"$bin" convert bf16.safetensors --dry-run 2>&1 | sha256sum | sed 's/-$/dry-run text/'
"$bin" inspect out-default.safetensors 2>&1 | sha256sum | sed 's/-$/inspect text/'
"$bin" verify out-default.safetensors --against bf16.safetensors 2>&1 | grep -v ' in [0-9.]* s' | sha256sum | sed 's/-$/verify text/'
