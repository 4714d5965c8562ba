#!/usr/bin/env bash
# quickstart.sh — the README's first command: installs what is missing, builds the release
# binary (with the CUDA backend when nvcc is found), then in a fresh work directory
# synthesizes a small Qwen-Image-shaped BF16 checkpoint, converts it to ComfyUI FP8,
# verifies the result against its source and prints a summary of the output.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

bash scripts/install-deps.sh

# The release preset builds CUDA when nvcc is on PATH (QFP8_ENABLE_CUDA=AUTO). Only the
# binary: the tests are test.sh's job, and building them would double the wait.
export PATH="$PATH:/usr/local/cuda/bin"
cmake --preset release > /dev/null || exit 1
cmake --build --preset release --target qfp8-cuda 2>&1 | grep -v '^\[ *[0-9]*%\] Building' || exit 1
qfp8="$repo/build/release/src/qfp8-cuda"
[ -x "$qfp8" ] || { echo "quickstart: $qfp8 was not built" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/qfp8-quickstart.XXXXXX")"
cd "$work"
echo
echo "== 1/4 synthesize: 4 blocks of Qwen-Image at 1/8 width (~45 MB BF16)"
"$qfp8" synth --model qwen-image --blocks 4 --width-div 8 demo-bf16.safetensors
echo
echo "== 2/4 convert to ComfyUI FP8 E4M3FN scaled"
"$qfp8" convert -i demo-bf16.safetensors -o demo-fp8.safetensors
echo
echo "== 3/4 verify: format checks, and every quantized layer re-derived from the source"
"$qfp8" verify demo-fp8.safetensors --against demo-bf16.safetensors
echo
echo "== 4/4 inspect the output"
"$qfp8" inspect demo-fp8.safetensors
echo
echo "quickstart: binary  $qfp8"
echo "quickstart: input   $work/demo-bf16.safetensors"
echo "quickstart: output  $work/demo-fp8.safetensors"
echo "quickstart: next    ./scripts/test.sh   (builds and runs the whole test suite)"
